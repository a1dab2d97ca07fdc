/*
 * NAME
 *	test_report - unit tests for policy-milter-report's pure parts
 * DESCRIPTION
 *	Tables of cases: RFC 3339 and command-line times (leap years,
 *	offsets, fractions, every malformed form), formatting back; record
 *	decoding (each key missing or mistyped, nulls allowed where the
 *	schema allows them, unknown keys ignored); the applied/would split;
 *	domain matching by whole labels; tally ordering and growth; output
 *	escaping. The schema table shared with the daemon (decision.h): the
 *	daemon's own JSON writer (jsonlog_format), for every stage and
 *	action and with every field set or none, writes only keys the table
 *	lists, of the kinds and values it allows, every key it says is
 *	always written, and records the decoder takes. DMARC aggregate
 *	reports: rua URIs taken apart (and refused when unsafe in a
 *	header), RFC 9990 4's external destination check over a fake TXT
 *	lookup, the report id, the mail's Subject and base64, rows grouped
 *	and counted, at most 100 DKIM signatures a row, passing first.
 *	Built and run by tests/report/run.sh, plain and under ASan+UBSan.
 * DIAGNOSTICS
 *	cmocka; each failure prints "got X, want Y".
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "decision.h"
#include "jsonlog.h"
#include "report/deliver.h"
#include "report/dmarcagg.h"
#include "report/filter.h"
#include "report/output.h"
#include "report/record.h"
#include "report/tally.h"
#include "report/timefmt.h"
#include "util.h"

/* test_rfc3339 - the log's time stamps */
static void test_rfc3339(void **state)
{
	(void)state;
	static const struct {
		const char *in;
		int rc;
		const char *out; /* formatted back, when rc == 0 */
	} cases[] = {
	    {"2026-11-29T21:30:00.123Z", 0, "2026-11-29T21:30:00.123Z"},
	    {"2026-11-29t21:30:00.123z", 0, "2026-11-29T21:30:00.123Z"},
	    {"2026-11-29 21:30:00Z", 0, "2026-11-29T21:30:00.000Z"},
	    {"2026-11-29T21:30:00.1239999Z", 0, "2026-11-29T21:30:00.123Z"},
	    {"2026-11-29T21:30:00.5Z", 0, "2026-11-29T21:30:00.500Z"},
	    {"2026-11-29T22:30:00+01:00", 0, "2026-11-29T21:30:00.000Z"},
	    {"2026-11-29T20:00:00-01:30", 0, "2026-11-29T21:30:00.000Z"},
	    {"2026-12-31T23:59:60Z", 0, "2027-01-01T00:00:00.000Z"},
	    {"2024-02-29T00:00:00Z", 0, "2024-02-29T00:00:00.000Z"},
	    {"2000-02-29T00:00:00Z", 0, "2000-02-29T00:00:00.000Z"},
	    {"1969-12-31T23:59:59.999Z", 0, "1969-12-31T23:59:59.999Z"},
	    {"1970-01-01T00:00:00Z", 0, "1970-01-01T00:00:00.000Z"},
	    {"0001-01-01T00:00:00Z", 0, "0001-01-01T00:00:00.000Z"},
	    {"9999-12-31T23:59:59.999Z", 0, "9999-12-31T23:59:59.999Z"},
	    {"1900-02-29T00:00:00Z", -1, NULL},
	    {"2026-02-29T00:00:00Z", -1, NULL},
	    {"2026-13-01T00:00:00Z", -1, NULL},
	    {"2026-00-01T00:00:00Z", -1, NULL},
	    {"2026-04-31T00:00:00Z", -1, NULL},
	    {"2026-11-29T24:00:00Z", -1, NULL},
	    {"2026-11-29T21:60:00Z", -1, NULL},
	    {"2026-11-29T21:30:61Z", -1, NULL},
	    {"2026-11-29T21:30:00", -1, NULL},      /* no zone */
	    {"2026-11-29T21:30:00.Z", -1, NULL},    /* empty fraction */
	    {"2026-11-29T21:30:00Zx", -1, NULL},    /* trailing text */
	    {"2026-11-29T21:30:00+0100", -1, NULL}, /* offset without colon */
	    {"2026-11-29T21:30Z", -1, NULL},        /* no seconds */
	    {"26-11-29T21:30:00Z", -1, NULL},
	    {"2026-11-29", -1, NULL},
	    {"", -1, NULL},
	    {NULL, -1, NULL},
	};
	for (size_t i = 0; i < PM_ARRAY_LEN(cases); i++) {
		long long ms = 0;
		char buf[TIMEFMT_LEN];
		int rc = timefmt_parse_rfc3339(cases[i].in, &ms);

		if (rc != cases[i].rc)
			fail_msg("case %zu %s: got rc %d, want %d", i, cases[i].in, rc,
			         cases[i].rc);
		if (rc == 0 && strcmp(timefmt_format(ms, buf), cases[i].out) != 0)
			fail_msg("case %zu %s: got %s, want %s", i, cases[i].in, buf, cases[i].out);
	}
}

/* test_user_time - --since and --until */
static void test_user_time(void **state)
{
	(void)state;
	static const struct {
		const char *in;
		int rc;
		const char *out;
	} cases[] = {
	    {"2026-11-29", 0, "2026-11-29T00:00:00.000Z"},
	    {"2026-11-29 21:30", 0, "2026-11-29T21:30:00.000Z"},
	    {"2026-11-29T21:30", 0, "2026-11-29T21:30:00.000Z"},
	    {"2026-11-29T21:30:00.250+02:00", 0, "2026-11-29T19:30:00.250Z"},
	    {"2026-11-29 21", -1, NULL},
	    {"2026-11-29 21:30:00", -1, NULL}, /* seconds need a zone (RFC 3339) */
	    {"2026-11-29 ", -1, NULL},
	    {"yesterday", -1, NULL},
	    {"2026-11-31", -1, NULL},
	};
	for (size_t i = 0; i < PM_ARRAY_LEN(cases); i++) {
		long long ms = 0;
		char buf[TIMEFMT_LEN];
		int rc = timefmt_parse_user(cases[i].in, &ms);

		if (rc != cases[i].rc)
			fail_msg("case %zu %s: got rc %d, want %d", i, cases[i].in, rc,
			         cases[i].rc);
		if (rc == 0 && strcmp(timefmt_format(ms, buf), cases[i].out) != 0)
			fail_msg("case %zu %s: got %s, want %s", i, cases[i].in, buf, cases[i].out);
	}
}

/* test_hour - the hour a time falls in */
static void test_hour(void **state)
{
	(void)state;
	long long ms;
	char buf[TIMEFMT_LEN];

	assert_int_equal(timefmt_parse_rfc3339("2026-11-29T21:59:59.999Z", &ms), 0);
	assert_string_equal(timefmt_format_hour(ms, buf), "2026-11-29T21:00:00Z");
	assert_int_equal(timefmt_parse_rfc3339("1969-12-31T23:30:00Z", &ms), 0);
	assert_string_equal(timefmt_format_hour(ms, buf), "1969-12-31T23:00:00Z");
}

/* A whole valid record: the base the decode cases edit with a substitution. */
static const char base[] =
    "{\"v\":1,\"time\":\"2026-11-29T21:30:00.123Z\",\"queue_id\":\"00C8DA72AEE\","
    "\"stage\":\"eom\",\"client\":{\"addr\":\"192.0.2.20\",\"name\":null,\"iprev\":null},"
    "\"helo\":\"client10.test\",\"sender\":\"alice@Pass.test\",\"recipients\":[\"bob@example.org\"]"
    ","
    "\"checks\":{\"helo_spf\":{\"result\":\"none\",\"domain\":\"client10.test\"},"
    "\"spf\":{\"result\":\"pass\",\"domain\":\"pass.test\"},\"dkim\":[],"
    "\"dmarc\":{\"result\":\"fail\",\"domain\":\"reject.test\",\"policy\":\"reject\","
    "\"disposition\":\"reject\"}},\"dnsbl\":[],\"action\":\"reject\",\"would\":false,"
    "\"dry_run\":false,\"reply\":{\"code\":550,\"xcode\":\"5.7.26\",\"text\":\"Unauthenticated\"},"
    "\"check\":\"dmarc\",\"reason\":\"dmarc_reject\",\"rule\":\"dmarc.mode\",\"detail\":null}";

/* edit - base with the first "from" replaced by "to" (the caller frees) */
static char *edit(const char *from, const char *to)
{
	const char *p = strstr(base, from);
	struct strbuf sb;

	if (p == NULL)
		fail_msg("edit: %s not in the base record", from);
	sb_init(&sb);
	sb_appendn(&sb, base, (size_t)(p - base));
	sb_append(&sb, to);
	sb_append(&sb, p + strlen(from));
	return sb_steal(&sb);
}

/* test_decode_base - every field of the base record */
static void test_decode_base(void **state)
{
	(void)state;
	struct rec r;
	const char *why = NULL;

	assert_int_equal(record_decode(base, strlen(base), &r, &why), 0);
	assert_int_equal(r.stage, REC_EOM);
	assert_int_equal(r.action, REC_REJECT);
	assert_string_equal(r.client, "192.0.2.20");
	assert_string_equal(r.sender, "alice@Pass.test");
	assert_string_equal(r.sender_dom, "Pass.test");
	assert_int_equal(r.nrcpts, 1);
	assert_string_equal(r.rcpts[0], "bob@example.org");
	assert_true(r.helo_spf.ran && r.spf.ran && r.dmarc.ran && r.dkim_ran);
	assert_false(r.dkim_pass);
	assert_string_equal(r.spf.result, "pass");
	assert_string_equal(r.dmarc.domain, "reject.test");
	assert_true(r.has_reply);
	assert_int_equal(r.reply_code, 550);
	assert_string_equal(r.reply_xcode, "5.7.26");
	assert_string_equal(r.check, "dmarc");
	assert_string_equal(r.reason, "dmarc_reject");
	assert_false(r.would || r.dry_run);
	assert_true(record_refusal(&r));
	assert_false(record_not_applied(&r));
	record_free(&r);
}

/* test_decode_cases - edits of the base record: kept or refused, and why */
static void test_decode_cases(void **state)
{
	(void)state;
	static const struct {
		const char *from, *to;
		const char *why; /* NULL: a record */
	} cases[] = {
	    /* allowed: nulls, unknown keys, other values */
	    {"\"queue_id\":\"00C8DA72AEE\"", "\"queue_id\":null", NULL},
	    {"\"addr\":\"192.0.2.20\"", "\"addr\":null", NULL},
	    {"\"sender\":\"alice@Pass.test\"", "\"sender\":null", NULL},
	    {"\"reply\":{\"code\":550,\"xcode\":\"5.7.26\",\"text\":\"Unauthenticated\"}",
	     "\"reply\":null", NULL},
	    {"\"code\":550", "\"code\":null", NULL},
	    {"\"checks\":{", "\"checks\":{\"iprev\":{\"x\":1},", NULL},
	    {"{\"v\":1,", "{\"v\":1,\"future\":[1,{\"a\":null}],", NULL},
	    {"\"detail\":null}", "\"detail\":null,\"z\":true}", NULL},
	    {"\"dkim\":[]", "\"dkim\":[{\"result\":\"pass\",\"domain\":null,\"selector\":null}]",
	     NULL},
	    {"\"recipients\":[\"bob@example.org\"]", "\"recipients\":[]", NULL},
	    {"\"detail\":null", "\"detail\":\"a\\u0000b\"", NULL}, /* NUL where not grouped */
	    {"\"helo\":\"client10.test\"", "\"helo\":\"\\u00ff\\u0001\"", NULL},
	    /* refused */
	    {"\"v\":1,", "\"v\":2,", "unsupported schema version: v"},
	    {"\"v\":1,", "\"v\":\"1\",", "mistyped key: v"},
	    {"\"v\":1,", "", "missing key: v"},
	    {"\"time\":\"2026-11-29T21:30:00.123Z\"", "\"time\":1764451800",
	     "missing or mistyped key: time"},
	    {"\"time\":\"2026-11-29T21:30:00.123Z\"", "\"time\":\"today\"",
	     "not an RFC 3339 time: time"},
	    {"\"stage\":\"eom\"", "\"stage\":\"data\"", "unknown value: stage"},
	    {"\"stage\":\"eom\"", "\"stage\":null", "missing or mistyped key: stage"},
	    {"\"action\":\"reject\"", "\"action\":\"discard\"", "unknown value: action"},
	    {"\"would\":false", "\"would\":0", "missing or mistyped key: would"},
	    {"\"dry_run\":false,", "", "missing or mistyped key: dry_run"},
	    {"\"dnsbl\":[]", "\"dnsbl\":{}", "missing or mistyped key: dnsbl"},
	    {"\"recipients\":[\"bob@example.org\"]", "\"recipients\":[1]",
	     "not a string: recipients"},
	    {"\"name\":null,", "",
	     "missing or mistyped key: client.addr, client.name or client.iprev"},
	    {"\"rule\":\"dmarc.mode\"", "\"rule\":[]", "missing or mistyped key: rule"},
	    {"\"result\":\"pass\",\"domain\":\"pass.test\"", "\"domain\":\"pass.test\"",
	     "missing or mistyped result or domain in checks: spf"},
	    {"\"dkim\":[]", "\"dkim\":{}", "not an array: dkim"},
	    {"\"dkim\":[]", "\"dkim\":[\"pass\"]", "not an object: dkim"},
	    {"\"code\":550", "\"code\":\"550\"",
	     "missing or mistyped key: reply.code, reply.xcode or reply.text"},
	    {"\"code\":550", "\"code\":600", "out of range: reply.code"},
	    {"\"sender\":\"alice@Pass.test\"", "\"sender\":\"a\\u0000@x.test\"",
	     "escaped NUL: in a string the report groups by"},
	    {"{\"v\":1,", "{\"v\":1,\"v\":1,", "not JSON: duplicate object key near '\"v\"'"},
	    {"\"detail\":null}", "\"detail\":null", "not JSON: '}' expected near end of file"},
	    {"{\"v\":1,", "[{\"v\":1,", "not JSON: ']' expected near end of file"},
	};
	for (size_t i = 0; i < PM_ARRAY_LEN(cases); i++) {
		char *line = edit(cases[i].from, cases[i].to);
		const char *why = NULL;
		struct rec r;
		int rc = record_decode(line, strlen(line), &r, &why);

		if (cases[i].why == NULL && rc != 0)
			fail_msg("case %zu: got refused (%s), want a record", i, why);
		if (cases[i].why != NULL && (rc == 0 || strcmp(why, cases[i].why) != 0))
			fail_msg("case %zu: got rc %d why \"%s\", want \"%s\"", i, rc,
			         rc == 0 ? "" : why, cases[i].why);
		if (rc == 0)
			record_free(&r);
		free(line);
	}
}

/* test_decode_bytes - raw bytes that are not a record */
static void test_decode_bytes(void **state)
{
	(void)state;
	static const struct {
		const char *in;
		size_t len;
		const char *why;
	} cases[] = {
	    {"{\"v\":1\0}", 8, "not a record: NUL byte"},
	    {"{\"v\":\"\xff\"}", 9, "not a record: not UTF-8"},
	    {"{\"v\":\"\xc0\xaf\"}", 10, "not a record: not UTF-8"}, /* overlong */
	    {"", 0, "not JSON: '[' or '{' expected near end of file"},
	    {"42", 2, "not JSON: '[' or '{' expected near '42'"},
	    {"{}", 2, "missing key: v"},
	    {"[]", 2, "not a record: not a JSON object"},
	};
	for (size_t i = 0; i < PM_ARRAY_LEN(cases); i++) {
		const char *why = NULL;
		struct rec r;
		int rc = record_decode(cases[i].in, cases[i].len, &r, &why);

		if (rc == 0 || strcmp(why, cases[i].why) != 0)
			fail_msg("case %zu: got rc %d why \"%s\", want \"%s\"", i, rc,
			         rc == 0 ? "" : why, cases[i].why);
	}
}

/* test_applied - would, dry run and the action */
static void test_applied(void **state)
{
	(void)state;
	static const struct {
		bool would, dry_run;
		enum rec_action action;
		bool not_applied, refusal;
	} cases[] = {
	    {false, false, REC_REJECT, false, true},    {true, false, REC_REJECT, true, true},
	    {false, true, REC_TEMPFAIL, true, true},    {false, true, REC_ACCEPT, false, false},
	    {true, false, REC_QUARANTINE, true, false}, {false, false, REC_HOLD, false, false},
	};
	for (size_t i = 0; i < PM_ARRAY_LEN(cases); i++) {
		struct rec r = {.would = cases[i].would,
		                .dry_run = cases[i].dry_run,
		                .action = cases[i].action};

		if (record_not_applied(&r) != cases[i].not_applied ||
		    record_refusal(&r) != cases[i].refusal)
			fail_msg("case %zu: got not_applied %d refusal %d, want %d %d", i,
			         record_not_applied(&r), record_refusal(&r), cases[i].not_applied,
			         cases[i].refusal);
	}
}

/* test_domain - whole labels, case, trailing dots */
static void test_domain(void **state)
{
	(void)state;
	static const struct {
		const char *dom, *parent;
		bool want;
	} cases[] = {
	    {"example.net", "example.net", true},
	    {"mail.example.net", "example.net", true},
	    {"MAIL.Example.NET", "example.net", true},
	    {"example.net.", "example.net", true},
	    {"badexample.net", "example.net", false},
	    {"example.net.evil", "example.net", false},
	    {"net", "example.net", false},
	    {NULL, "example.net", false},
	    {"a.example.net", "net", true},
	};
	for (size_t i = 0; i < PM_ARRAY_LEN(cases); i++)
		if (domain_at_or_below(cases[i].dom, cases[i].parent) != cases[i].want)
			fail_msg("case %zu %s under %s: got %d, want %d", i, cases[i].dom,
			         cases[i].parent, !cases[i].want, cases[i].want);
}

/* test_filter_args - the arguments the filter options refuse */
static void test_filter_args(void **state)
{
	(void)state;
	struct filter f = {0};
	const char *err = NULL;

	assert_int_equal(filter_add_client(&f, "192.0.2.0/24", &err), 0);
	assert_int_equal(filter_add_client(&f, "192.0.2.1/24", &err), -1);
	assert_int_equal(filter_add_client(&f, "mx.example", &err), -1);
	assert_int_equal(filter_add_domain(&f, "Example.NET.", &err), 0);
	assert_string_equal(f.domains[0], "example.net");
	assert_int_equal(filter_add_domain(&f, "", &err), -1);
	assert_int_equal(filter_add_domain(&f, ".", &err), -1);
	assert_int_equal(filter_add_domain(&f, "a..b", &err), -1);
	assert_int_equal(filter_add_domain(&f, "user@example.net", &err), -1);
	assert_int_equal(filter_add_action(&f, "hold"), 0);
	assert_int_equal(filter_add_action(&f, "HOLD"), -1);
	assert_int_equal(filter_add_action(&f, "discard"), -1);
	filter_free(&f);
}

/* test_tally - counts, order by count then sort key, growth past the first table */
static void test_tally(void **state)
{
	(void)state;
	struct tally *t = tally_new();
	struct tally_entry **v;
	char key[32];
	size_t n;

	for (int i = 0; i < 1000; i++) {
		snprintf(key, sizeof(key), "k%04d", i);
		tally_get(t, key, NULL, 0)->n[0] += i % 7 == 0 ? 2 : 1;
	}
	tally_get(t, "k0003", NULL, 0)->n[1] += 5; /* n[0] + n[1] counts */
	assert_int_equal(tally_count(t), 1000);
	v = tally_sorted(t, TALLY_BY_COUNT, &n);
	assert_int_equal(n, 1000);
	assert_string_equal(v[0]->key, "k0003");
	assert_string_equal(v[1]->key, "k0000"); /* the count-2 ones, by key */
	assert_string_equal(v[2]->key, "k0007");
	assert_string_equal(v[999]->key, "k0999");
	free(v);
	v = tally_sorted(t, TALLY_BY_KEY, &n);
	for (size_t i = 1; i < n; i++)
		if (strcmp(v[i - 1]->key, v[i]->key) >= 0)
			fail_msg("by key: got %s before %s", v[i - 1]->key, v[i]->key);
	free(v);
	tally_free(t);

	/* a sort key wins over the key's bytes */
	t = tally_new();
	tally_get(t, "192.0.2.10", (const unsigned char *)"\x04\x0a", 2)->n[0] = 1;
	tally_get(t, "192.0.2.9", (const unsigned char *)"\x04\x09", 2)->n[0] = 1;
	v = tally_sorted(t, TALLY_BY_COUNT, &n);
	assert_string_equal(v[0]->key, "192.0.2.9");
	free(v);
	tally_free(t);
	t = tally_new();
	assert_null(tally_sorted(t, TALLY_BY_KEY, &n));
	assert_int_equal(n, 0);
	tally_free(t);
}

/* test_escape - terminal-safe text */
static void test_escape(void **state)
{
	(void)state;
	static const struct {
		const char *in, *want;
	} cases[] = {
	    {"plain", "plain"},
	    {"\xc3\xa9t\xc3\xa9", "\xc3\xa9t\xc3\xa9"},
	    {"a\x1b[31mb", "a\\x1b[31mb"},
	    {"back\\slash", "back\\x5cslash"},
	    {"del\x7f", "del\\x7f"},
	    {"c1\xc2\x9b", "c1\\xc2\\x9b"},
	    {"nl\n", "nl\\x0a"},
	    {"", ""},
	};
	for (size_t i = 0; i < PM_ARRAY_LEN(cases); i++) {
		char *got = output_escape(cases[i].in);

		if (strcmp(got, cases[i].want) != 0)
			fail_msg("case %zu: got %s, want %s", i, got, cases[i].want);
		free(got);
	}
	assert_int_equal(output_limit(5, 0), 5);
	assert_int_equal(output_limit(5, 3), 3);
	assert_int_equal(output_limit(2, 3), 2);
}

/* test_html_escape - HTML-safe text: markup, quotes and & as references, controls as \xHH */
static void test_html_escape(void **state)
{
	(void)state;
	static const struct {
		const char *in, *want;
	} cases[] = {
	    {"plain.test", "plain.test"},
	    {"<script>alert(1)</script>", "&lt;script&gt;alert(1)&lt;/script&gt;"},
	    {"a&b\"c'd", "a&amp;b&quot;c&#39;d"},
	    {"&amp;", "&amp;amp;"},
	    {"\xc3\xa9<", "\xc3\xa9&lt;"},
	    {"nl\n<", "nl\\x0a&lt;"},
	    {"bad\xff\xfe<", "bad??&lt;"},
	    {"", ""},
	};
	for (size_t i = 0; i < PM_ARRAY_LEN(cases); i++) {
		char *got = output_html_escape(cases[i].in);

		if (strcmp(got, cases[i].want) != 0)
			fail_msg("case %zu: got %s, want %s", i, got, cases[i].want);
		free(got);
	}
}

/* test_html_buckets - the chart's bars: hours up to 14 days, days up to 400, then runs of days */
static void test_html_buckets(void **state)
{
	(void)state;
	static const long long H = 3600000, D = 86400000;
	static const struct {
		long long first, last; /* ms */
		long long want_width, want_start;
		size_t want_n;
	} cases[] = {
	    {0, 0, H, 0, 1},
	    {H + 5, H + 10, H, H, 1},
	    {H - 1, H, H, 0, 2},
	    {0, 14 * D - 1, H, 0, 336},     /* 14 days: 336 hourly bars */
	    {0, 14 * D, D, 0, 15},          /* a bar more: per day */
	    {D + 5, 20 * D + 7, D, D, 20},  /* days of the first and last record */
	    {0, 400 * D - 1, D, 0, 400},    /* 400 days: still per day */
	    {0, 400 * D, 2 * D, 0, 201},    /* 401 days: runs of 2 */
	    {0, 3650 * D, 10 * D, 0, 366},  /* 3651 days: runs of 10 */
	    {-1, 0, H, -H, 2},              /* before the epoch: floored */
	    {-D - 1, -D + 1, H, -D - H, 2}, /* also on a day */
	    {5 * H, 2 * H, H, 5 * H, 1},    /* last before first: one bar */
	};
	for (size_t i = 0; i < PM_ARRAY_LEN(cases); i++) {
		long long start = -42;
		size_t n = 0;
		long long width = output_html_buckets(cases[i].first, cases[i].last, &start, &n);

		if (width != cases[i].want_width || start != cases[i].want_start ||
		    n != cases[i].want_n)
			fail_msg("case %zu: got width %lld start %lld n %zu, want %lld %lld %zu", i,
			         width, start, n, cases[i].want_width, cases[i].want_start,
			         cases[i].want_n);
	}
}

/* The keys of pm_schema_keys seen in the writer's records (test_writer_keys). */
static bool key_seen[128];

/* json_kind - the PM_JSON_ bit of v (0: a real) */
static unsigned json_kind(const json_t *v)
{
	if (json_is_null(v))
		return PM_JSON_NULL;
	if (json_is_string(v))
		return PM_JSON_STRING;
	if (json_is_integer(v))
		return PM_JSON_INT;
	if (json_is_boolean(v))
		return PM_JSON_BOOL;
	if (json_is_object(v))
		return PM_JSON_OBJECT;
	return json_is_array(v) ? PM_JSON_ARRAY : 0;
}

/* check_value - v, written at path, is a key the table lists, of a kind and value it allows */
static void check_value(const json_t *v, const char *path, const char *rec)
{
	const struct pm_schema_key *k = pm_schema_find(path);
	bool known = false;

	if (k == NULL)
		fail_msg("the writer wrote the key %s, the schema table does not list it: %s", path,
		         rec);
	key_seen[k - pm_schema_keys] = true;
	if ((json_kind(v) & k->kinds) == 0)
		fail_msg("%s: got JSON kind %u, want one of the table's %#x: %s", path,
		         json_kind(v), k->kinds, rec);
	for (size_t i = 0; k->values != NULL && json_is_string(v) && k->values[i] != NULL; i++)
		known = known || strcmp(json_string_value(v), k->values[i]) == 0;
	if (k->values != NULL && json_is_string(v) && !known)
		fail_msg("%s: got \"%s\", a value the table does not list: %s", path,
		         json_string_value(v), rec);
}

/* walk - check every member (and element) below v, the value at path ("" the record) */
static void walk(json_t *v, const char *path, const char *rec)
{
	char sub[128];
	const char *key;
	json_t *m;
	size_t i;

	if (json_is_object(v)) {
		json_object_foreach(v, key, m)
		{
			snprintf(sub, sizeof(sub), "%s%s%s", path, *path ? "." : "", key);
			check_value(m, sub, rec);
			walk(m, sub, rec);
		}
		/* and every member the table says is always written is there */
		for (i = 0; i < pm_schema_nkeys; i++)
			if (pm_schema_keys[i].presence != PM_KEY_OPTIONAL &&
			    pm_schema_member_of(&pm_schema_keys[i], path) &&
			    json_object_get(v, pm_schema_leaf(pm_schema_keys[i].path)) == NULL)
				fail_msg("the table's always-written key %s: got none: %s",
				         pm_schema_keys[i].path, rec);
	} else if (json_is_array(v)) {
		snprintf(sub, sizeof(sub), "%s[]", path);
		json_array_foreach(v, i, m)
		{
			check_value(m, sub, rec);
			walk(m, sub, rec);
		}
	}
}

/*
 * test_writer_keys - the daemon's writer (jsonlog_format) against the
 * schema table, for every stage and action, with every field set and
 * with none; and the report's enums in the table's order
 */
static void test_writer_keys(void **state)
{
	(void)state;
	static const char *const rcpts[] = {"bob@example.org", "carol@example.org"};
	static const struct pm_decision_sig sigs[] = {{"pass", "pass.test", "s1"},
	                                              {"fail", NULL, NULL}};
	static const struct pm_decision_dnsbl bl[] = {{"bl.example", "127.0.0.2"},
	                                              {"zen.example", "127.0.0.4"}};
	static const struct pm_decision_arc_set arcs[] = {
	    {1, "lists.example", "s1", "rsa-sha256", "none", true}};
	static const struct pm_decision_greylist grey[] = {
	    {"new", "192.0.2.0/24", "alice@pass.test", "bob@example.org", 0, 300, "redis", NULL},
	    {"skipped", NULL, NULL, NULL, -1, -1, NULL, "postmaster"}};
	static const struct pm_decision_ratelimit rls[] = {
	    {"per-ip", "client_address", "192.0.2.20", 7, 100, 3600, "tempfail", "ok", "lmdb"},
	    {"per-user", "sasl_user", "alice", -1, 10, 60, "log", "error", "redis"}};
	const struct timespec t = {1764451800, 123000000};
	size_t n = 0;

	assert_true(pm_schema_nkeys <= PM_ARRAY_LEN(key_seen));
	for (size_t st = 0; pm_decision_stages[st] != NULL; st++)
		for (size_t ac = 0; pm_decision_actions[ac] != NULL; ac++)
			for (int full = 0; full < 2; full++) {
				struct pm_decision d = {.stage = pm_decision_stages[st],
				                        .action = pm_decision_actions[ac]};
				if (full) {
					d = (struct pm_decision){
					    .queue_id = "00C8DA72AEE",
					    .stage = pm_decision_stages[st],
					    .client_addr = "192.0.2.20",
					    .client_name = "mx.client.test",
					    .iprev = "pass",
					    .mta_host = "mx.example.org",
					    .mta_daemon = "smtpd",
					    .local_addr = "192.0.2.1",
					    .helo = "client.test",
					    .sender = "alice@pass.test",
					    .rcpts = rcpts,
					    .nrcpts = PM_ARRAY_LEN(rcpts),
					    .helo_spf = "none",
					    .helo_spf_domain = "client.test",
					    .spf = "pass",
					    .spf_domain = "pass.test",
					    .header_from = "pass.test",
					    .dkim_done = true,
					    .dkim = sigs,
					    .ndkim = PM_ARRAY_LEN(sigs),
					    .dmarc = "fail",
					    .dmarc_policy = "reject",
					    .dmarc_dis = "reject",
					    .dmarc_published = true,
					    .dmarc_pub = {"reject"},
					    .dmarc_rua = "mailto:dmarc@pass.test",
					    .dmarc_override = "trusted_forwarder",
					    .dmarc_override_comment =
					        "arc=pass as[1].d=lists.example",
					    .arc = "pass",
					    .arc_oldest_pass = 1,
					    .arc_sets = arcs,
					    .narc_sets = PM_ARRAY_LEN(arcs),
					    .arc_sealer = "lists.example",
					    .arc_instance = 1,
					    .arc_method = "dmarc",
					    .arc_override_applied = true,
					    .dnsbl = bl,
					    .ndnsbl = PM_ARRAY_LEN(bl),
					    .greylist = grey,
					    .ngreylist = PM_ARRAY_LEN(grey),
					    .ratelimit = rls,
					    .nratelimit = PM_ARRAY_LEN(rls),
					    .action = pm_decision_actions[ac],
					    .would = ac % 2 == 0,
					    .dry_run = st % 2 == 0,
					    .reply = ac == 0 ? "250 2.0.0 fine"
					                     : "550 5.7.26 Unauthenticated",
					    .check = "dmarc",
					    .reason = "dmarc_reject",
					    .rule = "dmarc.mode",
					    .detail = "p=reject"};
				}
				char *rec = jsonlog_format(&d, &t);
				json_error_t err;
				json_t *doc = json_loads(rec, 0, &err);
				const char *why = NULL;
				struct rec r;

				if (doc == NULL)
					fail_msg("the writer's record is not JSON (%s): %s",
					         err.text, rec);
				walk(doc, "", rec);
				json_decref(doc);
				if (record_decode(rec, strlen(rec), &r, &why) != 0)
					fail_msg("the decoder refuses the writer's record (%s): %s",
					         why, rec);
				if (strcmp(pm_decision_stages[r.stage], d.stage) != 0 ||
				    strcmp(rec_action_names[r.action], d.action) != 0)
					fail_msg("decoded stage %d action %d: want %s %s", r.stage,
					         r.action, d.stage, d.action);
				if (full &&
				    (r.ngreylist != 2 || r.nratelimit != 2 ||
				     r.state_skipped != 0 || r.greylist[0].state != GL_NEW ||
				     r.greylist[0].age != 0 ||
				     strcmp(r.greylist[0].network, "192.0.2.0/24") != 0 ||
				     strcmp(r.greylist[0].sender, "alice@pass.test") != 0 ||
				     strcmp(r.greylist[0].recipient, "bob@example.org") != 0 ||
				     r.greylist[1].state != GL_SKIPPED || r.greylist[1].age != -1 ||
				     r.ratelimit[0].state != RL_OK ||
				     strcmp(r.ratelimit[0].key, "client_address") != 0 ||
				     strcmp(r.ratelimit[0].value, "192.0.2.20") != 0 ||
				     r.ratelimit[1].state != RL_ERROR ||
				     strcmp(r.ratelimit[1].rule, "per-user") != 0))
					fail_msg(
					    "the report reads the writer's greylist and ratelimit "
					    "entries wrong (%zu, %zu, %zu skipped: %s): %s",
					    r.ngreylist, r.nratelimit, r.state_skipped,
					    r.state_why ? r.state_why : "-", rec);
				record_free(&r);
				free(rec);
				n++;
			}
	assert_int_equal(n, 2 * (REC_EOM + 1) * REC_ACTIONS);
	for (size_t i = 0; i < pm_schema_nkeys; i++)
		if (!key_seen[i])
			fail_msg("the table's key %s: the writer never wrote it",
			         pm_schema_keys[i].path);
	assert_null(pm_decision_actions[REC_ACTIONS]);
	assert_null(pm_decision_stages[REC_EOM + 1]);
}

/* test_rua_mailto - rua URIs: got address or refusal, want the table's */
static void test_rua_mailto(void **state)
{
	static const struct {
		const char *uri, *want; /* want NULL: refused */
	} cases[] = {
	    {"mailto:dmarc@example.com", "dmarc@example.com"},
	    {"MAILTO:Dmarc@Example.COM!10m", "Dmarc@example.com"},
	    {"mailto:agg@reports.example.com?subject=x", "agg@reports.example.com"},
	    {"mailto:a%2Bb@example.com", "a+b@example.com"},
	    {"mailto:a%40x@example.com", NULL},
	    {"https://example.com/dmarc", NULL},
	    {"mailto:", NULL},
	    {"mailto:a b@example.com", NULL},
	    {"mailto:a@example.com%0ABcc:x@evil.example", NULL},
	    {"mailto:a@example.com\nBcc: x@evil.example", NULL},
	    {"mailto:\"a\"@example.com", NULL},
	    {"mailto:a@localhost", NULL},
	    {"mailto:a..b@example.com", NULL},
	    {"mailto:a@-x.example.com", NULL},
	    {"mailto:a@example.com,b@example.com", NULL},
	};
	char out[320];
	const char *why;

	(void)state;
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		int rc = rua_mailto(cases[i].uri, out, sizeof(out), &why);

		if (cases[i].want == NULL && rc == 0)
			fail_msg("%s: got %s, want refused", cases[i].uri, out);
		if (cases[i].want != NULL && (rc != 0 || strcmp(out, cases[i].want) != 0))
			fail_msg("%s: got %s, want %s", cases[i].uri, rc == 0 ? out : why,
			         cases[i].want);
	}
}

/* The fake DNS of test_authorized: name -> TXT records ("TEMP": temporary failure). */
static const struct {
	const char *name, *txt[3];
} fake_txt[] = {
    {"blue.example.com._report._dmarc.red.example.net", {"v=DMARC1", NULL}},
    {"spf.example._report._dmarc.red.example.net", {"v=spf1 -all", NULL}},
    {"spaces.example._report._dmarc.red.example.net", {"v = DMARC1 ;", NULL}},
    {"suffix.example._report._dmarc.red.example.net", {"v=DMARC1x", NULL}},
    {"second.example._report._dmarc.red.example.net", {"x=y", "v=DMARC1;", NULL}},
    {"redirect.example._report._dmarc.red.example.net",
     {"v=DMARC1; rua=mailto:x@elsewhere.example", NULL}},
    {"same.example._report._dmarc.red.example.net",
     {"v=DMARC1; rua=mailto:other@red.example.net", NULL}},
    {"temp.example._report._dmarc.red.example.net", {"TEMP", NULL}},
};
static int fake_lookups;

/* fake_lookup - deliver_txt_lookup over fake_txt */
static int fake_lookup(const char *name, char ***txt)
{
	fake_lookups++;
	*txt = NULL;
	for (size_t i = 0; i < sizeof(fake_txt) / sizeof(fake_txt[0]); i++) {
		size_t n = 0;

		if (strcmp(name, fake_txt[i].name) != 0)
			continue;
		if (strcmp(fake_txt[i].txt[0], "TEMP") == 0)
			return -1;
		*txt = calloc(4, sizeof(char *));
		while (fake_txt[i].txt[n] != NULL) {
			(*txt)[n] = strdup(fake_txt[i].txt[n]);
			n++;
		}
		return 1;
	}
	return 0;
}

/* test_authorized - RFC 9990 4: got the check's answer, want the table's */
static void test_authorized(void **state)
{
	static const struct {
		const char *policy, *dest;
		enum auth_result want;
		int lookups;
		const char *to; /* the address the authorizing record names instead, or "" */
	} cases[] = {
	    {"example.com", "example.com", AUTH_INTERNAL, 0, ""},
	    {"example.com", "reports.example.com", AUTH_INTERNAL, 0, ""},
	    {"blue.example.com", "red.example.net", AUTH_AUTHORIZED, 1, ""},
	    {"none.example", "red.example.net", AUTH_REFUSED, 1, ""},
	    {"spf.example", "red.example.net", AUTH_REFUSED, 1, ""},
	    {"spaces.example", "red.example.net", AUTH_AUTHORIZED, 1, ""},
	    {"suffix.example", "red.example.net", AUTH_REFUSED, 1, ""},
	    {"second.example", "red.example.net", AUTH_AUTHORIZED, 1, ""},
	    {"redirect.example", "red.example.net", AUTH_REFUSED, 1, ""},
	    {"same.example", "red.example.net", AUTH_AUTHORIZED, 1, "other@red.example.net"},
	    {"temp.example", "red.example.net", AUTH_TEMPFAIL, 1, ""},
	    /* 130 + 15 + 120 bytes: longer than DNS allows, no query */
	    {"aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa."
	     "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa.example",
	     "bbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbb."
	     "bbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbb.example",
	     AUTH_REFUSED, 0, ""},
	};
	int (*saved)(const char *, char ***) = deliver_txt_lookup;
	const char *why;

	(void)state;
	deliver_txt_lookup = fake_lookup;
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		enum auth_result got;

		fake_lookups = 0;
		char to[320] = "unset";
		const char *want_to = cases[i].to;

		got =
		    deliver_authorized(NULL, cases[i].policy, cases[i].dest, &why, to, sizeof(to));
		if (got != cases[i].want || fake_lookups != cases[i].lookups ||
		    strcmp(to, want_to) != 0)
			fail_msg("%s -> %s: got %d (%d lookups) to \"%s\", want %d (%d) to \"%s\"",
			         cases[i].policy, cases[i].dest, got, fake_lookups, to,
			         cases[i].want, cases[i].lookups, want_to);
	}
	deliver_txt_lookup = saved;
}

/* test_report_mail - the id is stable per receiver, domain and period; Subject; base64 */
static void test_report_mail(void **state)
{
	static const unsigned char gz[] = "abcd";
	char a[17], b[17], c[17];
	struct report_mail m = {.from = "r@mx.example.net",
	                        .to = "dmarc@example.com",
	                        .domain = "example.com",
	                        .receiver = "mx.example.net",
	                        .report_id = "0123456789abcdef",
	                        .filename =
	                            "mx.example.net!example.com!0!86399!0123456789abcdef.xml.gz",
	                        .gz = gz,
	                        .gzlen = 4,
	                        .begin = 0,
	                        .end = 86399};
	char *msg;

	(void)state;
	dmarcagg_report_id("mx.example.net", "example.com", 0, 86399, a);
	dmarcagg_report_id("mx.example.net", "example.com", 0, 86399, b);
	dmarcagg_report_id("mx.example.net", "example.org", 0, 86399, c);
	if (strcmp(a, b) != 0 || strcmp(a, c) == 0 || strspn(a, "0123456789abcdef") != 16)
		fail_msg("report ids: got %s %s %s, want two equal, the third different", a, b, c);
	msg = deliver_message(&m, 0);
	if (strstr(msg, "\nSubject: Report Domain: example.com\n Submitter: mx.example.net\n "
	                "Report-ID: <0123456789abcdef>\n") == NULL ||
	    strstr(msg, "\nContent-Type: application/gzip; name=\"mx.example.net!example.com!0!"
	                "86399!0123456789abcdef.xml.gz\"\n") == NULL ||
	    strstr(msg, "\n\nYWJjZA==\n") == NULL ||
	    strncmp(msg, "From: <r@mx.example.net>\n", 25) != 0)
		fail_msg("got message:\n%s", msg);
	free(msg);
}

/* agg_line - one eom record of example.com from ip with nsig DKIM signatures */
static char *agg_line(const char *ip, size_t nsig, const char *disp)
{
	struct strbuf sb;

	sb_init(&sb);
	sb_appendf(&sb,
	           "{\"v\":1,\"time\":\"2026-11-29T10:00:00Z\",\"queue_id\":null,\"stage\":\"eom\","
	           "\"client\":{\"addr\":\"%s\",\"name\":null,\"iprev\":null},\"helo\":null,"
	           "\"sender\":\"a@example.com\",\"recipients\":[\"b@example.org\"],\"checks\":{"
	           "\"dkim\":[",
	           ip);
	for (size_t i = 0; i < nsig; i++)
		sb_appendf(&sb,
		           "%s{\"result\":\"%s\",\"domain\":\"d%zu.example\",\"selector\":\"s\"}",
		           i ? "," : "", i == nsig - 1 ? "pass" : "fail", i);
	sb_appendf(
	    &sb,
	    "],\"dmarc\":{\"result\":\"fail\",\"domain\":\"example.com\",\"policy\":\"reject\","
	    "\"disposition\":\"%s\",\"policy_domain\":\"example.com\",\"discovery\":"
	    "\"treewalk\",\"published\":{\"p\":\"reject\",\"sp\":null,\"np\":null,\"t\":null,"
	    "\"psd\":null,\"adkim\":null,\"aspf\":null,\"pct\":null,\"rua\":["
	    "\"mailto:d@example.com\"]},\"override\":null,\"dkim\":\"fail\",\"spf\":\"fail\"}},"
	    "\"dnsbl\":[],\"action\":"
	    "\"accept\",\"would\":false,\"dry_run\":false,\"reply\":null,\"check\":null,"
	    "\"reason\":null,\"rule\":null,\"detail\":null}",
	    disp);
	return sb_steal(&sb);
}

/* test_agg_rows - rows grouped and counted; 100 signatures at most, the passing one first */
static void test_agg_rows(void **state)
{
	static const struct {
		const char *ip;
		size_t nsig;
		const char *disp;
	} msgs[] = {{"192.0.2.1", 1, "reject"},
	            {"192.0.2.1", 1, "reject"},
	            {"192.0.2.1", 1, "quarantine"},
	            {"192.0.2.2", 1, "reject"},
	            {"192.0.2.3", 150, "reject"}};
	struct agg_meta meta = {.org_name = "o", .email = "e@example.net", .report_id = "1"};
	const char *why;
	char *xml = NULL;
	size_t len = 0, n = 0;
	struct agg a;
	struct rec r;
	FILE *fp;

	(void)state;
	dmarcagg_init(&a, 1795910400, 1795996799);
	for (size_t i = 0; i < sizeof(msgs) / sizeof(msgs[0]); i++) {
		char *line = agg_line(msgs[i].ip, msgs[i].nsig, msgs[i].disp);

		if (record_decode(line, strlen(line), &r, &why) < 0)
			fail_msg("record %zu: %s", i, why);
		dmarcagg_add(&a, &r);
		record_free(&r);
		free(line);
	}
	assert_int_equal(a.ndomains, 1);
	if (a.domains[0]->nrows != 4 || a.domains[0]->rows[0]->count != 2 ||
	    a.domains[0]->rows[1]->count != 1 || a.domains[0]->messages != 5)
		fail_msg("got %zu rows, first counts %lld %lld, %lld messages; want 4, 2 1, 5",
		         a.domains[0]->nrows, a.domains[0]->rows[0]->count,
		         a.domains[0]->rows[1]->count, a.domains[0]->messages);
	fp = open_memstream(&xml, &len);
	assert_int_equal(dmarcagg_write_xml(fp, &a, a.domains[0], &meta), 0);
	fclose(fp);
	for (const char *p = strstr(xml, "192.0.2.3");
	     p != NULL && (p = strstr(p, "<dkim><domain>")); p++)
		n++;
	if (n != 100 || strstr(xml, "<dkim><domain>d149.example</domain><selector>s</selector>"
	                            "<result>pass</result></dkim><dkim><domain>d0.example") == NULL)
		fail_msg("got %zu signatures in the last row, want 100 with the passing one first",
		         n);
	free(xml);
	dmarcagg_free(&a);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_rfc3339),      cmocka_unit_test(test_user_time),
	    cmocka_unit_test(test_hour),         cmocka_unit_test(test_decode_base),
	    cmocka_unit_test(test_decode_cases), cmocka_unit_test(test_decode_bytes),
	    cmocka_unit_test(test_applied),      cmocka_unit_test(test_domain),
	    cmocka_unit_test(test_filter_args),  cmocka_unit_test(test_tally),
	    cmocka_unit_test(test_escape),       cmocka_unit_test(test_writer_keys),
	    cmocka_unit_test(test_rua_mailto),   cmocka_unit_test(test_authorized),
	    cmocka_unit_test(test_report_mail),  cmocka_unit_test(test_agg_rows),
	    cmocka_unit_test(test_html_escape),  cmocka_unit_test(test_html_buckets),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
