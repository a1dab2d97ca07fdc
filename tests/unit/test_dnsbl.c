/*
 * NAME
 *	test_dnsbl - unit tests for dnsbl.c (and pm_dnsbl_error_code of policy.c)
 * DESCRIPTION
 *	dnsbl_judge() over answers built as DNS wire messages: a listed code,
 *	a code not listed, any 127/8 code when the zone lists none, the
 *	error codes (127.0.0.1, 127.255.255.0/24) and answers outside
 *	127/8 ignored, mixtures, a CNAME only, malformed answers. Then
 *	dnsbl_check() through a fake resolver: the query names (IPv4
 *	octets, IPv6 nibbles), every zone asked in order even after one
 *	failed, the first listing with action reject, tag listings counted
 *	but never first_reject, a spent budget (no query, tempfail), no
 *	address, a name too long to ask; dnsbl_free; the status names;
 *	pm_dnsbl_error_code.
 * DIAGNOSTICS
 *	cmocka; each failure prints "got X, want Y".
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>
#include <arpa/inet.h>
#include <arpa/nameser.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>

#include "dnsbl.h"
#include "util.h"

#include "dnsmsg.h"

/* ---- a DNS answer builder (dnsmsg.h) and a fake resolver ------------- */

/*
 * build - an answer to name/A holding the records of spec, a space
 * separated list of addresses ("CNAME" adds a CNAME record, "!cut" cuts
 * the message short, "!a3" adds a 3-byte A record)
 */
static void build(struct msg *m, const char *name, const char *spec)
{
	char copy[512], *save = NULL;

	memset(m, 0, sizeof(*m));
	put16(m, 0x4242);
	put16(m, 0x8180);
	put16(m, 1);
	put16(m, 0);
	put16(m, 0);
	put16(m, 0);
	put_name(m, name);
	put16(m, ns_t_a);
	put16(m, ns_c_in);
	snprintf(copy, sizeof(copy), "%s", spec);
	for (char *w = strtok_r(copy, " ", &save); w != NULL; w = strtok_r(NULL, " ", &save)) {
		unsigned char a[4];
		struct msg rd = {.len = 0};
		int type = ns_t_a, rdlen = 4;

		if (strcmp(w, "!cut") == 0) {
			m->len -= 3;
			continue;
		}
		if (strcmp(w, "CNAME") == 0) {
			put_name(&rd, "elsewhere.example");
			type = ns_t_cname;
			rdlen = rd.len;
		} else if (strcmp(w, "!a3") == 0) {
			memcpy(rd.b, "\x7f\0\0", 3);
			rdlen = 3;
		} else {
			if (inet_pton(AF_INET, w, a) != 1)
				fail_msg("bad test address %s", w);
			memcpy(rd.b, a, 4);
		}
		m->b[m->len++] = 0xc0;
		m->b[m->len++] = 0x0c;
		put16(m, (unsigned)type);
		put16(m, ns_c_in);
		put16(m, 0);
		put16(m, 60);
		put16(m, (unsigned)rdlen);
		memcpy(m->b + m->len, rd.b, (size_t)rdlen);
		m->len += rdlen;
		m->ancount++;
	}
	m->b[6] = (unsigned char)(m->ancount >> 8);
	m->b[7] = (unsigned char)m->ancount;
}

/* One name the fake resolver knows. */
struct fake_rr {
	const char *name;
	enum dns_status status;
	const char *spec; /* for build() when DNS_OK */
};

struct fake {
	const struct fake_rr *rr;
	size_t n;
	char asked[8][300];
	size_t nasked;
	struct msg m;
};

/* fake_query - answer A queries from the table; other names do not exist */
static enum dns_status fake_query(void *arg, const char *name, int type, int timeout, long left,
                                  const unsigned char **answer, int *answer_len)
{
	struct fake *f = arg;

	(void)timeout;
	assert_int_equal(type, ns_t_a);
	assert_true(left > 0);
	if (f->nasked < PM_ARRAY_LEN(f->asked))
		snprintf(f->asked[f->nasked++], sizeof(f->asked[0]), "%s", name);
	for (size_t i = 0; i < f->n; i++) {
		if (strcmp(f->rr[i].name, name) != 0)
			continue;
		if (f->rr[i].status != DNS_OK)
			return f->rr[i].status;
		build(&f->m, name, f->rr[i].spec);
		*answer = f->m.b;
		*answer_len = f->m.len;
		return DNS_OK;
	}
	return DNS_NXDOMAIN;
}

/* ip - parse a test address */
static struct pm_ip ip(const char *text)
{
	struct pm_ip a;

	if (pm_ip_parse(text, &a) != 0)
		fail_msg("bad test address %s", text);
	return a;
}

/* ---- dnsbl_judge ----------------------------------------------------- */

static char *codes_zen[] = {"127.0.0.2", "127.0.0.4"};
static const struct dnsbl_zone zen = {"zen.example", codes_zen, 2, PM_DNSBL_REJECT};
static const struct dnsbl_zone any = {"any.example", NULL, 0, PM_DNSBL_TAG};

/* test_judge - one zone's answer: which status, which code */
static void test_judge(void **state)
{
	static const struct {
		const char *name;
		const struct dnsbl_zone *zone;
		const char *spec;
		enum dnsbl_status want;
		const char *want_answer;
	} cases[] = {
	    {"listed code", &zen, "127.0.0.2", DNSBL_LISTED, "127.0.0.2"},
	    {"second listed code", &zen, "127.0.0.4", DNSBL_LISTED, "127.0.0.4"},
	    {"code not in codes", &zen, "127.0.0.3", DNSBL_OTHER_CODE, "127.0.0.3"},
	    {"several answers, one listed", &zen, "127.0.0.3 127.0.0.10 127.0.0.4", DNSBL_LISTED,
	     "127.0.0.4"},
	    {"no codes: any 127/8 answer counts", &any, "127.0.0.3", DNSBL_LISTED, "127.0.0.3"},
	    {"no codes: 127.1.2.3 counts", &any, "127.1.2.3", DNSBL_LISTED, "127.1.2.3"},
	    {"Spamhaus error 127.255.255.254", &zen, "127.255.255.254", DNSBL_ERROR_CODE,
	     "127.255.255.254"},
	    {"Spamhaus error 127.255.255.252, no codes", &any, "127.255.255.252", DNSBL_ERROR_CODE,
	     "127.255.255.252"},
	    {"127.0.0.1, no codes: never a listing", &any, "127.0.0.1", DNSBL_ERROR_CODE,
	     "127.0.0.1"},
	    {"127.255.254.1 is no error code", &any, "127.255.254.1", DNSBL_LISTED,
	     "127.255.254.1"},
	    {"error code and a listed code: listed", &zen, "127.255.255.254 127.0.0.2",
	     DNSBL_LISTED, "127.0.0.2"},
	    {"error code and another code: other", &zen, "127.255.255.254 127.0.0.9",
	     DNSBL_OTHER_CODE, "127.0.0.9"},
	    {"outside 127/8: ignored", &any, "192.0.2.1", DNSBL_BAD_ANSWER, "192.0.2.1"},
	    {"outside 127/8 then a code: the code", &zen, "10.0.0.2 127.0.0.2", DNSBL_LISTED,
	     "127.0.0.2"},
	    {"outside 127/8 and an error code: error", &any, "10.0.0.2 127.255.255.254",
	     DNSBL_ERROR_CODE, "127.255.255.254"},
	    {"only a CNAME", &zen, "CNAME", DNSBL_NOT_LISTED, ""},
	    {"CNAME then a code", &zen, "CNAME 127.0.0.2", DNSBL_LISTED, "127.0.0.2"},
	    {"malformed: cut", &zen, "127.0.0.2 !cut", DNSBL_TEMPFAIL, ""},
	    {"malformed: 3-byte A", &zen, "!a3", DNSBL_TEMPFAIL, ""},
	};
	struct msg m;
	char answer[DNSBL_ANSWER_MAX];
	int failed = 0;

	(void)state;
	for (size_t i = 0; i < PM_ARRAY_LEN(cases); i++) {
		enum dnsbl_status got;

		build(&m, "2.0.0.127.zen.example", cases[i].spec);
		memset(answer, 'x', sizeof(answer));
		got = dnsbl_judge(cases[i].zone, m.b, m.len, answer);
		if (got != cases[i].want || strcmp(answer, cases[i].want_answer) != 0) {
			print_error("case %s: got %s \"%s\", want %s \"%s\"\n", cases[i].name,
			            dnsbl_status_name(got), answer,
			            dnsbl_status_name(cases[i].want), cases[i].want_answer);
			failed++;
		}
	}
	if (dnsbl_judge(&zen, NULL, 0, answer) != DNSBL_TEMPFAIL || answer[0] != '\0')
		print_error("case no answer: got another status, want tempfail\n"), failed++;
	if (failed != 0)
		fail_msg("%d of %zu judge cases failed", failed, PM_ARRAY_LEN(cases) + 1);
}

/* ---- dnsbl_check ----------------------------------------------------- */

/* test_check - query names, every zone in order, first_reject, nlisted */
static void test_check(void **state)
{
	static char *codes_bl[] = {"127.0.0.2"};
	struct dnsbl_zone zones[] = {
	    {"tag.example", NULL, 0, PM_DNSBL_TAG},
	    {"slow.example", NULL, 0, PM_DNSBL_REJECT},
	    {"quiet.example", NULL, 0, PM_DNSBL_REJECT},
	    {"bl.example", codes_bl, 1, PM_DNSBL_REJECT},
	    {"late.example", NULL, 0, PM_DNSBL_REJECT},
	};
	static const struct fake_rr rr[] = {
	    {"10.2.0.192.tag.example", DNS_OK, "127.0.0.2"},
	    {"10.2.0.192.slow.example", DNS_TEMPFAIL, NULL},
	    {"10.2.0.192.bl.example", DNS_OK, "127.0.0.2"},
	    {"10.2.0.192.late.example", DNS_OK, "127.0.0.3"},
	};
	static const enum dnsbl_status want[] = {DNSBL_LISTED, DNSBL_TEMPFAIL, DNSBL_NOT_LISTED,
	                                         DNSBL_LISTED, DNSBL_LISTED};
	struct dnsbl_settings ds = {PM_MODE_ENFORCE, zones, PM_ARRAY_LEN(zones)};
	struct fake f = {.rr = rr, .n = PM_ARRAY_LEN(rr)};
	struct pm_ip a = ip("192.0.2.10");
	struct dns_budget l;
	struct dnsbl_outcome o;

	(void)state;
	dns_budget_init(&l, 2, 30);
	l.query = fake_query;
	l.arg = &f;
	dnsbl_check(&ds, &a, &l, &o);
	if (o.nzones != PM_ARRAY_LEN(zones) || f.nasked != PM_ARRAY_LEN(zones))
		fail_msg("got %zu results after %zu queries, want %zu and %zu", o.nzones, f.nasked,
		         PM_ARRAY_LEN(zones), PM_ARRAY_LEN(zones));
	for (size_t i = 0; i < o.nzones; i++) {
		char q[300];

		snprintf(q, sizeof(q), "10.2.0.192.%s", zones[i].zone);
		if (strcmp(f.asked[i], q) != 0 || strcmp(o.zone[i].query, q) != 0)
			fail_msg("query %zu: got \"%s\", want \"%s\"", i, f.asked[i], q);
		if (o.zone[i].status != want[i] || o.zone[i].zone != &zones[i])
			fail_msg("zone %s: got %s, want %s", zones[i].zone,
			         dnsbl_status_name(o.zone[i].status), dnsbl_status_name(want[i]));
	}
	if (o.nlisted != 3 || o.first_reject != 3)
		fail_msg("got %zu listed, first reject %d; want 3 listed, first reject 3 (bl)",
		         o.nlisted, o.first_reject);
	if (strcmp(o.zone[3].answer, "127.0.0.2") != 0 || strcmp(o.zone[4].answer, "127.0.0.3"))
		fail_msg("answers: got \"%s\" \"%s\", want 127.0.0.2 and 127.0.0.3",
		         o.zone[3].answer, o.zone[4].answer);
	dnsbl_free(&o);
	if (o.zone != NULL || o.nzones != 0 || o.first_reject != -1)
		fail_msg("dnsbl_free: got a result left, want an empty outcome");
}

/* test_check_ipv6 - 32 nibbles, reversed (RFC 5782 2.4) */
static void test_check_ipv6(void **state)
{
	struct dnsbl_zone z = {"bl.example", NULL, 0, PM_DNSBL_REJECT};
	struct dnsbl_settings ds = {PM_MODE_ENFORCE, &z, 1};
	static const struct fake_rr rr[] = {
	    {"b.a.9.8.7.6.5.0.4.0.0.0.3.0.0.0.2.0.0.0.1.0.0.0.8.b.d.0.1.0.0.2.bl.example", DNS_OK,
	     "127.0.0.2"},
	};
	struct fake f = {.rr = rr, .n = 1};
	struct pm_ip a = ip("2001:db8:1:2:3:4:567:89ab");
	struct dns_budget l;
	struct dnsbl_outcome o;

	(void)state;
	dns_budget_init(&l, 2, 30);
	l.query = fake_query;
	l.arg = &f;
	dnsbl_check(&ds, &a, &l, &o);
	if (o.nzones != 1 || o.zone[0].status != DNSBL_LISTED || o.first_reject != 0)
		fail_msg("IPv6 client: got %s (asked \"%s\"), want listed",
		         o.nzones ? dnsbl_status_name(o.zone[0].status) : "nothing", f.asked[0]);
	dnsbl_free(&o);
}

/* test_check_edges - no zones, no address, spent budget, a name too long */
static void test_check_edges(void **state)
{
	char longzone[300];
	struct dnsbl_zone zones[] = {{"bl.example", NULL, 0, PM_DNSBL_REJECT},
	                             {longzone, NULL, 0, PM_DNSBL_REJECT}};
	struct dnsbl_settings ds = {PM_MODE_ENFORCE, zones, 2};
	struct dnsbl_settings none = {PM_MODE_ENFORCE, NULL, 0};
	static const struct fake_rr rr[] = {{"10.2.0.192.bl.example", DNS_OK, "127.0.0.2"}};
	struct fake f = {.rr = rr, .n = 1};
	struct pm_ip a = ip("192.0.2.10"), unspec = {.family = AF_UNSPEC};
	struct dns_budget l;
	struct dnsbl_outcome o;

	(void)state;
	memset(longzone, 'a', sizeof(longzone) - 1);
	longzone[sizeof(longzone) - 1] = '\0';
	dns_budget_init(&l, 2, 30);
	l.query = fake_query;
	l.arg = &f;
	dnsbl_check(&none, &a, &l, &o);
	if (o.nzones != 0 || o.first_reject != -1 || f.nasked != 0)
		fail_msg("no zones: got %zu results, want none", o.nzones);
	dnsbl_free(&o);
	dnsbl_check(&ds, &unspec, &l, &o);
	if (o.nzones != 0 || f.nasked != 0)
		fail_msg("no address: got %zu results and %zu queries, want none", o.nzones,
		         f.nasked);
	dnsbl_free(&o);
	/* a zone whose reverse name cannot be built: not listed, nothing asked */
	dnsbl_check(&ds, &a, &l, &o);
	if (o.nzones != 2 || o.zone[0].status != DNSBL_LISTED ||
	    o.zone[1].status != DNSBL_NOT_LISTED || o.zone[1].query[0] != '\0' || f.nasked != 1)
		fail_msg("long zone: got %s after %zu queries, want not_listed and one query",
		         o.nzones == 2 ? dnsbl_status_name(o.zone[1].status) : "?", f.nasked);
	dnsbl_free(&o);
	/* the budget is spent: every zone tempfail, nothing asked */
	f.nasked = 0;
	clock_gettime(CLOCK_MONOTONIC, &l.deadline);
	dnsbl_check(&ds, &a, &l, &o);
	if (o.nzones != 2 || o.zone[0].status != DNSBL_TEMPFAIL || o.first_reject != -1 ||
	    o.nlisted != 0 || f.nasked != 0 || o.zone[0].dns_fail != DNS_FAIL_BUDGET)
		fail_msg("budget spent: got %s after %zu queries, want tempfail and none",
		         o.nzones ? dnsbl_status_name(o.zone[0].status) : "?", f.nasked);
	dnsbl_free(&o);
}

/* test_names - dnsbl_status_name and pm_dnsbl_error_code */
static void test_names(void **state)
{
	static const struct {
		enum dnsbl_status s;
		const char *want;
	} names[] = {
	    {DNSBL_NOT_LISTED, "not_listed"},   {DNSBL_LISTED, "listed"},
	    {DNSBL_OTHER_CODE, "other_code"},   {DNSBL_ERROR_CODE, "error_code"},
	    {DNSBL_BAD_ANSWER, "bad_answer"},   {DNSBL_TEMPFAIL, "tempfail"},
	    {(enum dnsbl_status)99, "unknown"},
	};
	static const struct {
		const char *ip;
		bool want;
	} codes[] = {
	    {"127.0.0.1", true},        {"127.255.255.254", true}, {"127.255.255.0", true},
	    {"127.255.255.255", true},  {"127.0.0.2", false},      {"127.255.254.255", false},
	    {"127.0.1.1", false},       {"10.255.255.254", false}, {"::1", false},
	    {"::ffff:127.0.0.1", true}, /* mapped: IPv4 */
	};

	(void)state;
	for (size_t i = 0; i < PM_ARRAY_LEN(names); i++)
		if (strcmp(dnsbl_status_name(names[i].s), names[i].want) != 0)
			fail_msg("dnsbl_status_name(%d): got \"%s\", want \"%s\"", (int)names[i].s,
			         dnsbl_status_name(names[i].s), names[i].want);
	for (size_t i = 0; i < PM_ARRAY_LEN(codes); i++) {
		struct pm_ip a = ip(codes[i].ip);

		if (pm_dnsbl_error_code(&a) != codes[i].want)
			fail_msg("pm_dnsbl_error_code(%s): got %d, want %d", codes[i].ip,
			         !codes[i].want, codes[i].want);
	}
	if (pm_dnsbl_error_code(NULL))
		fail_msg("pm_dnsbl_error_code(NULL): got true, want false");
}

/* main - run every test */
int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_judge),      cmocka_unit_test(test_check),
	    cmocka_unit_test(test_check_ipv6), cmocka_unit_test(test_check_edges),
	    cmocka_unit_test(test_names),
	};

	return cmocka_run_group_tests_name("dnsbl", tests, NULL, NULL);
}
