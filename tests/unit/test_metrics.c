/*
 * test_metrics - the counters and their Prometheus text rendering: the
 * exact output for a small set, label escaping, histogram buckets, reply
 * codes as labels, counting from 8 threads, the cap of a family's table
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "metrics.h"

/* render - the whole text; the caller frees */
static char *render(void)
{
	size_t len = 0;
	char *t = metrics_render(&len);

	assert_non_null(t);
	assert_int_equal(strlen(t), len);
	return t;
}

/*
 * value_of - the value of the series whose line starts with series (name
 * and labels, exactly as rendered) followed by one space; -1 when absent
 */
static double value_of(const char *text, const char *series)
{
	size_t n = strlen(series);

	for (const char *p = text; p != NULL && *p != '\0';) {
		if (strncmp(p, series, n) == 0 && p[n] == ' ')
			return strtod(p + n + 1, NULL);
		p = strchr(p, '\n');
		if (p != NULL)
			p++;
	}
	return -1;
}

/* family_sum - the sum of every series of name (a labelled family) */
static double family_sum(const char *text, const char *name)
{
	size_t n = strlen(name);
	double sum = 0;

	for (const char *p = text; p != NULL && *p != '\0';) {
		if (strncmp(p, name, n) == 0 && p[n] == '{')
			sum += strtod(strchr(p, '}') + 2, NULL);
		p = strchr(p, '\n');
		if (p != NULL)
			p++;
	}
	return sum;
}

static int setup(void **state)
{
	(void)state;
	metrics_reset();
	return 0;
}

/* The whole output for a small set, byte for byte. */
static const char golden[] =
    "# HELP policy_milter_decisions_total Decisions, as the decision log records them: by "
    "stage, action, the check that decided, the reply's basic and enhanced code, and mode "
    "(applied, or would: log or tag mode, dry run).\n"
    "# TYPE policy_milter_decisions_total counter\n"
    "policy_milter_decisions_total{stage=\"eom\",action=\"accept\",check=\"none\",code=\"\","
    "enhanced=\"\",mode=\"applied\"} 2\n"
    "policy_milter_decisions_total{stage=\"mail\",action=\"reject\",check=\"spf\",code=\"550\","
    "enhanced=\"5.7.23\",mode=\"applied\"} 1\n"
    "policy_milter_decisions_total{stage=\"mail\",action=\"reject\",check=\"spf\",code=\"550\","
    "enhanced=\"5.7.23\",mode=\"would\"} 1\n"
    "# HELP policy_milter_sessions_open Milter sessions (connections) open.\n"
    "# TYPE policy_milter_sessions_open gauge\n"
    "policy_milter_sessions_open 1\n"
    "# HELP policy_milter_sessions_total SMTP connections the milter was told of (connect "
    "stage).\n"
    "# TYPE policy_milter_sessions_total counter\n"
    "policy_milter_sessions_total 2\n"
    "# HELP policy_milter_dns_queries_total DNS lookups the checks asked for (answered by the "
    "cache or the resolver), by record type and outcome.\n"
    "# TYPE policy_milter_dns_queries_total counter\n"
    "policy_milter_dns_queries_total{type=\"TXT\",outcome=\"servfail\"} 1\n"
    "# HELP policy_milter_dns_cache_hits_total DNS lookups answered by the shared cache.\n"
    "# TYPE policy_milter_dns_cache_hits_total counter\n"
    "policy_milter_dns_cache_hits_total 1\n"
    "# HELP policy_milter_dns_cache_misses_total DNS lookups the shared cache could not "
    "answer.\n"
    "# TYPE policy_milter_dns_cache_misses_total counter\n"
    "policy_milter_dns_cache_misses_total 0\n"
    "# HELP policy_milter_dns_query_duration_seconds Time of the DNS queries sent to the "
    "resolver (cache misses), in seconds.\n"
    "# TYPE policy_milter_dns_query_duration_seconds histogram\n"
    "policy_milter_dns_query_duration_seconds_bucket{le=\"0.001\"} 0\n"
    "policy_milter_dns_query_duration_seconds_bucket{le=\"0.0025\"} 0\n"
    "policy_milter_dns_query_duration_seconds_bucket{le=\"0.005\"} 1\n"
    "policy_milter_dns_query_duration_seconds_bucket{le=\"0.01\"} 1\n"
    "policy_milter_dns_query_duration_seconds_bucket{le=\"0.025\"} 1\n"
    "policy_milter_dns_query_duration_seconds_bucket{le=\"0.05\"} 1\n"
    "policy_milter_dns_query_duration_seconds_bucket{le=\"0.1\"} 1\n"
    "policy_milter_dns_query_duration_seconds_bucket{le=\"0.25\"} 1\n"
    "policy_milter_dns_query_duration_seconds_bucket{le=\"0.5\"} 1\n"
    "policy_milter_dns_query_duration_seconds_bucket{le=\"1\"} 1\n"
    "policy_milter_dns_query_duration_seconds_bucket{le=\"2.5\"} 1\n"
    "policy_milter_dns_query_duration_seconds_bucket{le=\"5\"} 1\n"
    "policy_milter_dns_query_duration_seconds_bucket{le=\"10\"} 1\n"
    "policy_milter_dns_query_duration_seconds_bucket{le=\"+Inf\"} 1\n"
    "policy_milter_dns_query_duration_seconds_sum 0.003000\n"
    "policy_milter_dns_query_duration_seconds_count 1\n"
    "# HELP policy_milter_dkim_signatures_total DKIM signatures verified at end of message, by "
    "result and algorithm.\n"
    "# TYPE policy_milter_dkim_signatures_total counter\n"
    "policy_milter_dkim_signatures_total{result=\"pass\",algorithm=\"ed25519-sha256\"} 1\n"
    "policy_milter_dkim_signatures_total{result=\"pass\",algorithm=\"other\"} 1\n"
    "# HELP policy_milter_dmarc_results_total DMARC evaluations, by result and the published "
    "policy that applied (\"\" when no record applied).\n"
    "# TYPE policy_milter_dmarc_results_total counter\n"
    "policy_milter_dmarc_results_total{result=\"fail\",policy=\"reject\"} 1\n"
    "# HELP policy_milter_store_operations_total State store (greylisting, rate limits) "
    "operations, by backend and operation.\n"
    "# TYPE policy_milter_store_operations_total counter\n"
    "policy_milter_store_operations_total{backend=\"lmdb\",op=\"add\"} 1\n"
    "# HELP policy_milter_store_failures_total State store operations that failed (backend "
    "error, outage, timeout), by backend and operation.\n"
    "# TYPE policy_milter_store_failures_total counter\n"
    "policy_milter_store_failures_total{backend=\"lmdb\",op=\"add\"} 1\n"
    "# HELP policy_milter_policy_generation Generation of the policy in use (1 at start, one "
    "more per good reload).\n"
    "# TYPE policy_milter_policy_generation gauge\n"
    "policy_milter_policy_generation 3\n"
    "# HELP policy_milter_reload_last_success 1 when the last reload (or the start) installed "
    "its policy, 0 when it failed.\n"
    "# TYPE policy_milter_reload_last_success gauge\n"
    "policy_milter_reload_last_success 0\n"
    "# HELP policy_milter_reload_last_time_seconds When the last reload (or the start) ended, "
    "seconds since the epoch.\n"
    "# TYPE policy_milter_reload_last_time_seconds gauge\n"
    "policy_milter_reload_last_time_seconds 0\n"
    "# HELP policy_milter_reload_failures_total Reloads that kept the policy in use (a bad "
    "file, no state store).\n"
    "# TYPE policy_milter_reload_failures_total counter\n"
    "policy_milter_reload_failures_total 0\n"
    "# HELP policy_milter_internal_errors_total Verdicts on the milter.on_internal_error path "
    "(tempfail, or accept when failing open).\n"
    "# TYPE policy_milter_internal_errors_total counter\n"
    "policy_milter_internal_errors_total 1\n"
    "# HELP policy_milter_start_time_seconds Start time of the process, seconds since the "
    "epoch.\n"
    "# TYPE policy_milter_start_time_seconds gauge\n"
    "policy_milter_start_time_seconds 0\n"
    "# HELP policy_milter_build_info The version running (always 1).\n"
    "# TYPE policy_milter_build_info gauge\n"
    "policy_milter_build_info{version=\"unknown\"} 1\n"
    "# HELP policy_milter_metrics_overflow_total Observations not counted in their family: its "
    "table of label sets, or the table of label values, was full.\n"
    "# TYPE policy_milter_metrics_overflow_total counter\n"
    "policy_milter_metrics_overflow_total{family=\"policy_milter_decisions_total\"} 0\n"
    "policy_milter_metrics_overflow_total{family=\"policy_milter_dns_queries_total\"} 0\n"
    "policy_milter_metrics_overflow_total{family=\"policy_milter_dkim_signatures_total\"} 0\n"
    "policy_milter_metrics_overflow_total{family=\"policy_milter_dmarc_results_total\"} 0\n"
    "policy_milter_metrics_overflow_total{family=\"policy_milter_store_operations_total\"} 0\n"
    "policy_milter_metrics_overflow_total{family=\"policy_milter_store_failures_total\"} 0\n";

static void test_golden(void **state)
{
	char *t;

	(void)state;
	/* in an order other than the rendered one: the render sorts */
	metrics_decision("mail", "reject", "spf", "550 5.7.23 SPF validation failed", true);
	metrics_decision("eom", "accept", NULL, NULL, false);
	metrics_decision("mail", "reject", "spf", "550 5.7.23 other text, same codes", false);
	metrics_decision("eom", "accept", NULL, NULL, false);
	metrics_session_open();
	metrics_session_open();
	metrics_session_close();
	metrics_session_connect();
	metrics_session_connect();
	metrics_dns_query(16, "servfail");
	metrics_dns_cache(true);
	metrics_dns_latency(3000);
	metrics_dkim_signature("pass", "ed25519-sha256");
	metrics_dkim_signature("pass", "rsa-md5"); /* not one of the three: other */
	metrics_dmarc_result("fail", "reject");
	metrics_store_op("lmdb", "add", false);
	metrics_policy_loaded(3);
	metrics_internal_error();
	t = render();
	if (strcmp(t, golden) != 0) {
		fprintf(stderr, "got:\n%s\nwant:\n%s\n", t, golden);
		fail_msg("the rendering differs from the golden text");
	}
	free(t);
}

/* Backslash, double quote and newline in a label value are escaped; the version too. */
static void test_escaping(void **state)
{
	char *t;

	(void)state;
	metrics_dkim_signature("a\"b\\c\nd", "rsa-sha256");
	metrics_init("1.0 \"beta\"\\x");
	t = render();
	assert_int_equal(value_of(t,
	                          "policy_milter_dkim_signatures_total{result=\"a\\\"b\\\\c\\nd\","
	                          "algorithm=\"rsa-sha256\"}"),
	                 1);
	assert_int_equal(value_of(t, "policy_milter_build_info{version=\"1.0 \\\"beta\\\"\\\\x\"}"),
	                 1);
	free(t);
}

/* metrics_init: the start time and the last reload time are now, the last reload good */
static void test_init(void **state)
{
	time_t t0 = time(NULL), t1;
	double st;
	char *t;

	(void)state;
	metrics_init("9.9");
	t1 = time(NULL);
	t = render();
	st = value_of(t, "policy_milter_start_time_seconds");
	assert_true(st >= (double)t0 && st <= (double)t1);
	assert_int_equal(value_of(t, "policy_milter_reload_last_success"), 1);
	metrics_reload(false);
	metrics_reload(false);
	free(t);
	t = render();
	assert_int_equal(value_of(t, "policy_milter_reload_last_success"), 0);
	assert_int_equal(value_of(t, "policy_milter_reload_failures_total"), 2);
	metrics_reload(true);
	free(t);
	t = render();
	assert_int_equal(value_of(t, "policy_milter_reload_last_success"), 1);
	assert_int_equal(value_of(t, "policy_milter_reload_failures_total"), 2);
	assert_true(value_of(t, "policy_milter_reload_last_time_seconds") >= (double)t0);
	free(t);
}

/* Each observation in the first bucket whose bound it does not pass; buckets cumulative */
static void test_histogram(void **state)
{
	static const struct {
		const char *le;
		double want;
	} cases[] = {
	    {"0.001", 2}, {"0.0025", 3}, {"0.005", 3}, {"0.5", 3}, {"1", 4}, {"10", 4}, {"+Inf", 5},
	};
	char series[128], *t;

	(void)state;
	metrics_dns_latency(500);
	metrics_dns_latency(1000); /* on the bound: in le="0.001" */
	metrics_dns_latency(1001);
	metrics_dns_latency(1000000);
	metrics_dns_latency(20000000); /* beyond the last bound: +Inf only */
	t = render();
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		snprintf(series, sizeof(series),
		         "policy_milter_dns_query_duration_seconds_bucket{le=\"%s\"}", cases[i].le);
		if (value_of(t, series) != cases[i].want)
			fail_msg("%s: got %g, want %g", series, value_of(t, series), cases[i].want);
	}
	assert_int_equal(value_of(t, "policy_milter_dns_query_duration_seconds_count"), 5);
	assert_non_null(strstr(t, "policy_milter_dns_query_duration_seconds_sum 21.002501\n"));
	free(t);
}

/* The basic and enhanced codes of a reply as labels; anything else gives "" */
static void test_reply_codes(void **state)
{
	static const struct {
		const char *reply, *code, *enhanced;
	} cases[] = {
	    {"451 4.7.24 SPF temporary error", "451", "4.7.24"},
	    {"550 5.1.1 <x@y>: unknown", "550", "5.1.1"},
	    {"452 4.5.3", "452", "4.5.3"},
	    {"421", "421", ""},
	    {"550 no enhanced code here", "550", ""},
	    {"550 5.7.1234 too long", "550", ""},
	    {"55 5.7.1 short", "", ""},
	    {"550-5.7.1 continued", "", ""},
	};
	char series[256], *t;

	(void)state;
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++)
		metrics_decision("rcpt", "reject", "recipients", cases[i].reply, false);
	t = render();
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		snprintf(series, sizeof(series),
		         "policy_milter_decisions_total{stage=\"rcpt\",action=\"reject\","
		         "check=\"recipients\",code=\"%s\",enhanced=\"%s\",mode=\"applied\"}",
		         cases[i].code, cases[i].enhanced);
		if (value_of(t, series) < 1)
			fail_msg("\"%s\": no series %s", cases[i].reply, series);
	}
	/* the two with neither code, and the one with 550 but no enhanced code, share series */
	assert_int_equal(family_sum(t, "policy_milter_decisions_total"), 8);
	free(t);
}

#define THREADS    8
#define PER_THREAD 100000

/* counter - PER_THREAD rounds of several counters, from one of THREADS threads */
static void *counter(void *arg)
{
	long id = (long)arg;
	char reply[32];

	/* each thread has one label set of its own, and shares one with all */
	snprintf(reply, sizeof(reply), "550 5.7.%ld text", id);
	for (int i = 0; i < PER_THREAD; i++) {
		metrics_decision("rcpt", "reject", "recipients", reply, false);
		metrics_decision("eom", "accept", NULL, NULL, false);
		metrics_session_connect();
		metrics_dns_latency(i % 3 == 0 ? 100 : 2000000);
		metrics_store_op("redis", "get", i % 2 == 0);
	}
	return NULL;
}

/* 8 threads counting at once, rendered meanwhile: every count is there */
static void test_threads(void **state)
{
	pthread_t tid[THREADS];
	char series[256], *t;
	double seen = 0, now;

	(void)state;

	for (long i = 0; i < THREADS; i++)
		assert_int_equal(pthread_create(&tid[i], NULL, counter, (void *)i), 0);
	/* renders meanwhile: never a lost count, never a label set without its values */
	for (int r = 0; r < 20; r++) {
		t = render();
		now = family_sum(t, "policy_milter_decisions_total");
		assert_true(now >= seen && now <= 2.0 * THREADS * PER_THREAD);
		assert_null(strstr(t, "stage=\"\""));
		seen = now;
		free(t);
	}
	for (int i = 0; i < THREADS; i++)
		pthread_join(tid[i], NULL);
	t = render();
	assert_int_equal(value_of(t,
	                          "policy_milter_decisions_total{stage=\"eom\",action=\"accept\","
	                          "check=\"none\",code=\"\",enhanced=\"\",mode=\"applied\"}"),
	                 THREADS * PER_THREAD);
	for (int i = 0; i < THREADS; i++) {
		snprintf(series, sizeof(series),
		         "policy_milter_decisions_total{stage=\"rcpt\",action=\"reject\","
		         "check=\"recipients\",code=\"550\",enhanced=\"5.7.%d\",mode=\"applied\"}",
		         i);
		assert_int_equal(value_of(t, series), PER_THREAD);
	}
	assert_int_equal(family_sum(t, "policy_milter_decisions_total"), 2 * THREADS * PER_THREAD);
	assert_int_equal(value_of(t, "policy_milter_sessions_total"), THREADS * PER_THREAD);
	assert_int_equal(value_of(t, "policy_milter_dns_query_duration_seconds_count"),
	                 THREADS * PER_THREAD);
	assert_int_equal(
	    value_of(t, "policy_milter_dns_query_duration_seconds_bucket{le=\"0.001\"}"),
	    THREADS * ((PER_THREAD + 2) / 3));
	assert_int_equal(
	    value_of(t, "policy_milter_store_operations_total{backend=\"redis\",op=\"get\"}"),
	    THREADS * PER_THREAD);
	assert_int_equal(
	    value_of(t, "policy_milter_store_failures_total{backend=\"redis\",op=\"get\"}"),
	    THREADS * PER_THREAD / 2);
	assert_int_equal(
	    value_of(
	        t,
	        "policy_milter_metrics_overflow_total{family=\"policy_milter_decisions_total\"}"),
	    0);
	free(t);
}

/*
 * More label sets than a table holds: the first METRICS_TABLE_SLOTS are
 * series, the rest go to the family's overflow counter; nothing is lost
 */
static void test_cap(void **state)
{
	char reply[64], *t;
	int sets = 0;

	(void)state;
	/* 20 codes x 30 enhanced codes: 600 label sets from 50 values + the fixed ones */
	for (int c = 0; c < 20; c++)
		for (int x = 0; x < 30; x++) {
			snprintf(reply, sizeof(reply), "%d 5.7.%d text", 500 + c, x);
			metrics_decision("eom", "reject", "dmarc", reply, false);
			sets++;
		}
	assert_true(sets > METRICS_TABLE_SLOTS);
	t = render();
	assert_int_equal(family_sum(t, "policy_milter_decisions_total"), METRICS_TABLE_SLOTS);
	assert_int_equal(
	    value_of(
	        t,
	        "policy_milter_metrics_overflow_total{family=\"policy_milter_decisions_total\"}"),
	    sets - METRICS_TABLE_SLOTS);
	free(t);
	/* a label set already there still counts when the table is full */
	metrics_decision("eom", "reject", "dmarc", "500 5.7.0 text", false);
	t = render();
	assert_int_equal(family_sum(t, "policy_milter_decisions_total"), METRICS_TABLE_SLOTS + 1);
	free(t);
}

/* More distinct label values than can be interned: overflow, never a wrong series */
static void test_value_cap(void **state)
{
	char reply[64], *t;
	int n = METRICS_MAX_VALUES + 40;

	(void)state;
	for (int x = 0; x < n; x++) {
		snprintf(reply, sizeof(reply), "550 5.%d.%d text", x / 100, x % 100 + 100);
		metrics_decision("eom", "reject", "dmarc", reply, false);
	}
	t = render();
	assert_true(
	    value_of(
	        t,
	        "policy_milter_metrics_overflow_total{family=\"policy_milter_decisions_total\"}") >
	    0);
	assert_int_equal(family_sum(t, "policy_milter_decisions_total") +
	                     value_of(t, "policy_milter_metrics_overflow_total{family=\"policy_"
	                                 "milter_decisions_total\"}"),
	                 n);
	free(t);
}

/* teardown - the interned values freed (the leak check of the ASan build) */
static int teardown(void **state)
{
	(void)state;
	metrics_reset();
	return 0;
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test_setup(test_golden, setup),
	    cmocka_unit_test_setup(test_escaping, setup),
	    cmocka_unit_test_setup(test_init, setup),
	    cmocka_unit_test_setup(test_histogram, setup),
	    cmocka_unit_test_setup(test_reply_codes, setup),
	    cmocka_unit_test_setup(test_threads, setup),
	    cmocka_unit_test_setup(test_cap, setup),
	    cmocka_unit_test_setup(test_value_cap, setup),
	};

	return cmocka_run_group_tests(tests, NULL, teardown);
}
