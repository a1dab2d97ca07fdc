/*
 * NAME
 *	test_iprev - unit tests for iprev.c
 * DESCRIPTION
 *	A fake resolver (a table of names, types and answers built as DNS
 *	wire messages here) behind struct dns_budget, so every outcome is
 *	reached without a network: pass (first and later names, IPv6,
 *	upper-case PTR names, an RFC 2317 CNAME before the PTR), fail (no
 *	address, another address, the name missing, only the other family,
 *	a PTR name that cannot be sent), permerror (NXDOMAIN, no data, an
 *	answer without a PTR), temperror (SERVFAIL on the PTR or on every
 *	forward lookup, a malformed answer, the budget spent); at most
 *	IPREV_MAX_NAMES names are looked up forward. Then the reverse names
 *	(IPv4, IPv6 nibbles, another suffix, a buffer too small), the answer
 *	parsers (compressed names, malformed records, more records than
 *	room), the budget of dns_budget_query and pm_iprev_result_name.
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

#include "iprev.h"
#include "util.h"

#include "dnsmsg.h"

/* ---- a DNS answer builder (dnsmsg.h) and a fake resolver ------------- */

/* msg_add_addr - an A or AAAA record from its text form */
static void msg_add_addr(struct msg *m, const char *text)
{
	unsigned char a[16];

	if (inet_pton(AF_INET, text, a) == 1)
		msg_add(m, ns_t_a, a, 4);
	else if (inet_pton(AF_INET6, text, a) == 1)
		msg_add(m, ns_t_aaaa, a, 16);
	else
		fail_msg("bad test address %s", text);
}

/* One name the fake resolver knows. */
struct fake_rr {
	const char *name;
	int type;
	enum dns_status status; /* DNS_OK: the answer below */
	const char *data[12];   /* PTR/CNAME names ("CNAME:x" for a CNAME) or addresses;
	                           "!cut" cuts the answer short (malformed) */
};

struct fake {
	const struct fake_rr *rr;
	size_t n;
	char asked[32][300]; /* names asked, in order */
	int types[32];
	size_t nasked;
	struct msg m;
	struct dns_budget *b; /* a DNS_TEMPFAIL row sets its cause: SERVFAIL */
};

/* fake_query - answer from the table; a name not in it does not exist */
static enum dns_status fake_query(void *arg, const char *name, int type, int timeout, long left,
                                  const unsigned char **answer, int *answer_len)
{
	struct fake *f = arg;

	(void)timeout;
	assert_true(left > 0);
	if (f->nasked < PM_ARRAY_LEN(f->asked)) {
		snprintf(f->asked[f->nasked], sizeof(f->asked[0]), "%s", name);
		f->types[f->nasked++] = type;
	}
	for (size_t i = 0; i < f->n; i++) {
		const struct fake_rr *r = &f->rr[i];

		if (strcmp(r->name, name) != 0 || r->type != type)
			continue;
		if (r->status == DNS_TEMPFAIL && f->b != NULL)
			f->b->fail = DNS_FAIL_SERVFAIL;
		if (r->status != DNS_OK)
			return r->status;
		msg_start(&f->m, name, type);
		for (size_t j = 0; j < PM_ARRAY_LEN(r->data) && r->data[j] != NULL; j++) {
			const char *d = r->data[j];

			if (strcmp(d, "!cut") == 0)
				f->m.len -= 3;
			else if (strncmp(d, "CNAME:", 6) == 0)
				msg_add_name(&f->m, ns_t_cname, d + 6);
			else if (type == ns_t_ptr)
				msg_add_name(&f->m, ns_t_ptr, d);
			else
				msg_add_addr(&f->m, d);
		}
		*answer = f->m.b;
		*answer_len = f->m.len;
		return DNS_OK;
	}
	return DNS_NXDOMAIN;
}

/* lookup_for - a budget of 30 s over the fake */
static void lookup_for(struct dns_budget *l, struct fake *f)
{
	dns_budget_init(l, 2, 30);
	l->query = fake_query;
	l->arg = f;
	f->b = l;
}

/* ip - parse a test address */
static struct pm_ip ip(const char *text)
{
	struct pm_ip a;

	if (pm_ip_parse(text, &a) != 0)
		fail_msg("bad test address %s", text);
	return a;
}

/* ---- iprev_check ----------------------------------------------------- */

#define R4 "10.2.0.192.in-addr.arpa"
#define R6 "1.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.8.b.d.0.1.0.0.2.ip6.arpa"

struct icase {
	const char *name;
	const char *client;
	struct fake_rr rr[14];
	enum pm_iprev_result want;
	const char *want_name; /* outcome name */
	const char *want_why;  /* substring of why */
	unsigned want_queries;
};

static const struct icase icases[] = {
    {"pass",
     "192.0.2.10",
     {{R4, ns_t_ptr, DNS_OK, {"mail.example.net"}},
      {"mail.example.net", ns_t_a, DNS_OK, {"192.0.2.10"}}},
     PM_IPREV_PASS,
     "mail.example.net",
     "mail.example.net",
     2},
    {"pass among several addresses",
     "192.0.2.10",
     {{R4, ns_t_ptr, DNS_OK, {"mail.example.net"}},
      {"mail.example.net", ns_t_a, DNS_OK, {"198.51.100.1", "192.0.2.10", "192.0.2.11"}}},
     PM_IPREV_PASS,
     "mail.example.net",
     "mail.example.net",
     2},
    {"pass with the second name",
     "192.0.2.10",
     {{R4, ns_t_ptr, DNS_OK, {"other.example", "mail.example.net"}},
      {"other.example", ns_t_a, DNS_OK, {"192.0.2.99"}},
      {"mail.example.net", ns_t_a, DNS_OK, {"192.0.2.10"}}},
     PM_IPREV_PASS,
     "mail.example.net",
     "mail.example.net",
     3},
    {"pass after a forward lookup that failed for now",
     "192.0.2.10",
     {{R4, ns_t_ptr, DNS_OK, {"slow.example", "mail.example.net"}},
      {"slow.example", ns_t_a, DNS_TEMPFAIL, {NULL}},
      {"mail.example.net", ns_t_a, DNS_OK, {"192.0.2.10"}}},
     PM_IPREV_PASS,
     "mail.example.net",
     "mail.example.net",
     3},
    {"pass, PTR name upper-case: lower-cased",
     "192.0.2.10",
     {{R4, ns_t_ptr, DNS_OK, {"MAIL.Example.NET"}},
      {"mail.example.net", ns_t_a, DNS_OK, {"192.0.2.10"}}},
     PM_IPREV_PASS,
     "mail.example.net",
     "mail.example.net",
     2},
    {"pass through an RFC 2317 CNAME",
     "192.0.2.10",
     {{R4, ns_t_ptr, DNS_OK, {"CNAME:10.0/25.2.0.192.in-addr.arpa", "mail.example.net"}},
      {"mail.example.net", ns_t_a, DNS_OK, {"192.0.2.10"}}},
     PM_IPREV_PASS,
     "mail.example.net",
     "mail.example.net",
     2},
    {"pass over IPv6 (AAAA)",
     "2001:db8::1",
     {{R6, ns_t_ptr, DNS_OK, {"v6.example.net"}},
      {"v6.example.net", ns_t_aaaa, DNS_OK, {"2001:db8::1"}}},
     PM_IPREV_PASS,
     "v6.example.net",
     "v6.example.net",
     2},
    {"fail: another address",
     "192.0.2.10",
     {{R4, ns_t_ptr, DNS_OK, {"mail.example.net"}},
      {"mail.example.net", ns_t_a, DNS_OK, {"192.0.2.99"}}},
     PM_IPREV_FAIL,
     "mail.example.net",
     "mail.example.net does not resolve to the address",
     2},
    {"fail: the PTR name does not exist",
     "192.0.2.10",
     {{R4, ns_t_ptr, DNS_OK, {"gone.example"}}},
     PM_IPREV_FAIL,
     "gone.example",
     "gone.example does not resolve",
     2},
    {"fail: the name has no A record",
     "192.0.2.10",
     {{R4, ns_t_ptr, DNS_OK, {"mail.example.net"}},
      {"mail.example.net", ns_t_a, DNS_NODATA, {NULL}}},
     PM_IPREV_FAIL,
     "mail.example.net",
     "does not resolve",
     2},
    {"fail: IPv4 client, the name has only the AAAA of those bytes",
     "192.0.2.10",
     {{R4, ns_t_ptr, DNS_OK, {"mail.example.net"}},
      {"mail.example.net", ns_t_a, DNS_NODATA, {NULL}},
      {"mail.example.net", ns_t_aaaa, DNS_OK, {"c000:20a::"}}},
     PM_IPREV_FAIL,
     "mail.example.net",
     "does not resolve",
     2},
    {"fail: an answer whose only record is a CNAME",
     "192.0.2.10",
     {{R4, ns_t_ptr, DNS_OK, {"mail.example.net"}},
      {"mail.example.net", ns_t_a, DNS_OK, {"CNAME:elsewhere.example"}}},
     PM_IPREV_FAIL,
     "mail.example.net",
     "does not resolve",
     2},
    {"fail: two names, neither maps back",
     "192.0.2.10",
     {{R4, ns_t_ptr, DNS_OK, {"a.example", "b.example"}},
      {"a.example", ns_t_a, DNS_OK, {"192.0.2.1"}},
      {"b.example", ns_t_a, DNS_OK, {"192.0.2.2"}}},
     PM_IPREV_FAIL,
     "a.example",
     "none of 2 PTR names resolves to the address (first: a.example)",
     3},
    {"fail: a PTR name that cannot be sent is not looked up",
     "192.0.2.10",
     {{R4, ns_t_ptr, DNS_OK, {"bad name.example"}}},
     PM_IPREV_FAIL,
     "bad\\032name.example",
     "does not resolve",
     1},
    {"permerror: no PTR (NXDOMAIN)",
     "192.0.2.10",
     {{NULL, 0, 0, {NULL}}},
     PM_IPREV_PERMERROR,
     "",
     "no PTR record",
     1},
    {"permerror: no PTR (no data)",
     "192.0.2.10",
     {{R4, ns_t_ptr, DNS_NODATA, {NULL}}},
     PM_IPREV_PERMERROR,
     "",
     "no PTR record",
     1},
    {"permerror: an answer holding only a CNAME",
     "192.0.2.10",
     {{R4, ns_t_ptr, DNS_OK, {"CNAME:10.0/25.2.0.192.in-addr.arpa"}}},
     PM_IPREV_PERMERROR,
     "",
     "no PTR record",
     1},
    {"temperror: PTR SERVFAIL or timeout",
     "192.0.2.10",
     {{R4, ns_t_ptr, DNS_TEMPFAIL, {NULL}}},
     PM_IPREV_TEMPERROR,
     "",
     "PTR lookup failed temporarily",
     1},
    {"temperror: malformed PTR answer",
     "192.0.2.10",
     {{R4, ns_t_ptr, DNS_OK, {"mail.example.net", "!cut"}}},
     PM_IPREV_TEMPERROR,
     "",
     "malformed PTR answer",
     1},
    {"temperror: the only forward lookup failed for now",
     "192.0.2.10",
     {{R4, ns_t_ptr, DNS_OK, {"mail.example.net"}},
      {"mail.example.net", ns_t_a, DNS_TEMPFAIL, {NULL}}},
     PM_IPREV_TEMPERROR,
     "mail.example.net",
     "address lookup of mail.example.net failed temporarily",
     2},
    {"temperror: one fails to map back, the other failed for now",
     "192.0.2.10",
     {{R4, ns_t_ptr, DNS_OK, {"a.example", "slow.example"}},
      {"a.example", ns_t_a, DNS_OK, {"192.0.2.1"}},
      {"slow.example", ns_t_a, DNS_TEMPFAIL, {NULL}}},
     PM_IPREV_TEMPERROR,
     "a.example",
     "address lookup of slow.example failed temporarily",
     3},
    {"temperror: a malformed forward answer",
     "192.0.2.10",
     {{R4, ns_t_ptr, DNS_OK, {"mail.example.net"}},
      {"mail.example.net", ns_t_a, DNS_OK, {"192.0.2.10", "!cut"}}},
     PM_IPREV_TEMPERROR,
     "mail.example.net",
     "failed temporarily",
     2},
    {"at most 10 names: an 11th that would map back is not looked up",
     "192.0.2.10",
     {{R4,
       ns_t_ptr,
       DNS_OK,
       {"n1.example", "n2.example", "n3.example", "n4.example", "n5.example", "n6.example",
        "n7.example", "n8.example", "n9.example", "n10.example", "mail.example.net"}},
      {"mail.example.net", ns_t_a, DNS_OK, {"192.0.2.10"}}},
     PM_IPREV_FAIL,
     "n1.example",
     "none of 10 PTR names",
     11},
};

/* test_check - every outcome through the fake resolver */
static void test_check(void **state)
{
	int failed = 0;

	(void)state;
	for (size_t i = 0; i < PM_ARRAY_LEN(icases); i++) {
		const struct icase *c = &icases[i];
		struct fake f = {.rr = c->rr};
		struct dns_budget l;
		struct iprev_outcome o;
		struct pm_ip a = ip(c->client);
		enum dns_fail want_fail;

		while (f.n < PM_ARRAY_LEN(c->rr) && c->rr[f.n].name != NULL)
			f.n++;
		lookup_for(&l, &f);
		iprev_check(&a, &l, &o);
		/* why a temperror: the resolver's SERVFAIL, or a malformed answer */
		want_fail = c->want != PM_IPREV_TEMPERROR          ? DNS_FAIL_NONE
		            : strstr(c->name, "malformed") != NULL ? DNS_FAIL_MALFORMED
		                                                   : DNS_FAIL_SERVFAIL;
		if (o.dns_fail != want_fail) {
			print_error("case %s: got cause \"%s\", want \"%s\"\n", c->name,
			            dns_fail_name(o.dns_fail), dns_fail_name(want_fail));
			failed++;
		}
		if (o.result != c->want || strcmp(o.name, c->want_name) != 0 ||
		    strstr(o.why, c->want_why) == NULL || l.queries != c->want_queries ||
		    f.nasked != c->want_queries) {
			print_error(
			    "case %s: got %s name \"%s\" why \"%s\" queries %u (asked %zu), "
			    "want %s name \"%s\" why containing \"%s\" queries %u\n",
			    c->name, pm_iprev_result_name(o.result), o.name, o.why, l.queries,
			    f.nasked, pm_iprev_result_name(c->want), c->want_name, c->want_why,
			    c->want_queries);
			failed++;
		}
		/* the PTR query first, then only the client's family */
		if (f.nasked > 0 && f.types[0] != ns_t_ptr) {
			print_error("case %s: got first query type %d, want PTR\n", c->name,
			            f.types[0]);
			failed++;
		}
		for (size_t q = 1; q < f.nasked; q++)
			if (f.types[q] != (a.family == AF_INET ? ns_t_a : ns_t_aaaa)) {
				print_error("case %s: query %zu for %s: got type %d, want %s\n",
				            c->name, q, f.asked[q], f.types[q],
				            a.family == AF_INET ? "A" : "AAAA");
				failed++;
			}
	}
	if (failed != 0)
		fail_msg("%d iprev_check problem(s) in %zu cases", failed, PM_ARRAY_LEN(icases));
}

/* test_check_edges - no address, and a budget already spent */
static void test_check_edges(void **state)
{
	struct fake f = {.n = 0};
	struct dns_budget l;
	struct iprev_outcome o;
	struct pm_ip none = {.family = AF_UNSPEC};
	struct pm_ip a = ip("192.0.2.10");

	(void)state;
	lookup_for(&l, &f);
	iprev_check(&none, &l, &o);
	if (o.result != PM_IPREV_PERMERROR || l.queries != 0)
		fail_msg("no address: got %s after %u queries, want permerror and none",
		         pm_iprev_result_name(o.result), l.queries);
	iprev_check(NULL, &l, &o);
	if (o.result != PM_IPREV_PERMERROR)
		fail_msg("NULL address: got %s, want permerror", pm_iprev_result_name(o.result));
	/* the deadline has passed: temperror, and nothing is asked */
	lookup_for(&l, &f);
	clock_gettime(CLOCK_MONOTONIC, &l.deadline);
	l.deadline.tv_sec -= 1;
	iprev_check(&a, &l, &o);
	if (o.result != PM_IPREV_TEMPERROR || f.nasked != 0 || l.queries != 0 ||
	    o.dns_fail != DNS_FAIL_BUDGET)
		fail_msg("budget spent: got %s (%s) after %zu queries, want temperror (budget) and "
		         "none",
		         pm_iprev_result_name(o.result), dns_fail_name(o.dns_fail), f.nasked);
}

/* ---- reverse names, parsers, names ----------------------------------- */

/* test_reverse_name - IPv4, IPv6 nibbles, another suffix, too small */
static void test_reverse_name(void **state)
{
	static const struct {
		const char *ip, *suffix, *want;
	} cases[] = {
	    {"192.0.2.1", NULL, "1.2.0.192.in-addr.arpa"},
	    {"10.0.0.255", NULL, "255.0.0.10.in-addr.arpa"},
	    {"192.0.2.1", "zen.example", "1.2.0.192.zen.example"},
	    {"2001:db8::1", NULL, R6},
	    {"2001:db8:1:2:3:4:567:89ab", "bl.example",
	     "b.a.9.8.7.6.5.0.4.0.0.0.3.0.0.0.2.0.0.0.1.0.0.0.8.b.d.0.1.0.0.2.bl.example"},
	    {"::ffff:192.0.2.1", NULL, "1.2.0.192.in-addr.arpa"}, /* mapped: IPv4 */
	};
	char buf[128];
	struct pm_ip none = {.family = AF_UNSPEC};
	struct pm_ip a = ip("192.0.2.1");

	(void)state;
	for (size_t i = 0; i < PM_ARRAY_LEN(cases); i++) {
		struct pm_ip x = ip(cases[i].ip);
		const char *got = iprev_reverse_name(&x, cases[i].suffix, buf, sizeof(buf));

		if (got == NULL || strcmp(got, cases[i].want) != 0)
			fail_msg("reverse of %s: got \"%s\", want \"%s\"", cases[i].ip,
			         got ? got : "(null)", cases[i].want);
	}
	if (iprev_reverse_name(&none, NULL, buf, sizeof(buf)) != NULL)
		fail_msg("reverse of no address: got a name, want NULL");
	if (iprev_reverse_name(&a, NULL, buf, 22) != NULL) /* needs 23 with the NUL */
		fail_msg("reverse into a buffer too small: got a name, want NULL");
	if (iprev_reverse_name(&a, NULL, buf, 23) == NULL)
		fail_msg("reverse into a buffer just large enough: got NULL, want the name");
}

/* test_parsers - PTR and address records, compression, malformed, counts */
static void test_parsers(void **state)
{
	struct msg m;
	char names[3][IPREV_NAME_MAX + 1];
	struct pm_ip out[2];
	unsigned char ptr_to_question[2] = {0xc0, 0x0c};
	unsigned char short_a[3] = {192, 0, 2};
	int n;

	(void)state;
	/* a PTR whose rdata is a compression pointer to the question name */
	msg_start(&m, "1.2.0.192.in-addr.arpa", ns_t_ptr);
	msg_add(&m, ns_t_ptr, ptr_to_question, 2);
	msg_add_name(&m, ns_t_ptr, "Host.Example.");
	n = iprev_answer_ptrs(m.b, m.len, names, 3);
	if (n != 2 || strcmp(names[0], "1.2.0.192.in-addr.arpa") != 0 ||
	    strcmp(names[1], "host.example") != 0)
		fail_msg("compressed PTR: got %d \"%s\" \"%s\", want 2 names", n,
		         n > 0 ? names[0] : "", n > 1 ? names[1] : "");
	/* more records than room: the count says how many there were */
	msg_start(&m, "x.example", ns_t_a);
	msg_add_addr(&m, "192.0.2.1");
	msg_add_addr(&m, "192.0.2.2");
	msg_add_addr(&m, "192.0.2.3");
	msg_add_name(&m, ns_t_cname, "y.example");
	n = iprev_answer_addrs(m.b, m.len, ns_t_a, out, 2);
	if (n != 3 || out[1].addr[3] != 2)
		fail_msg("three A records into two: got %d, want 3 (two stored)", n);
	if (iprev_answer_addrs(m.b, m.len, ns_t_aaaa, out, 2) != 0)
		fail_msg("AAAA from an A answer: got records, want 0");
	if (iprev_answer_addrs(m.b, m.len, ns_t_mx, out, 2) != -1)
		fail_msg("MX asked of the address parser: got a count, want -1");
	/* an A record of 3 bytes, a cut answer, nothing at all */
	msg_start(&m, "x.example", ns_t_a);
	msg_add(&m, ns_t_a, short_a, 3);
	if (iprev_answer_addrs(m.b, m.len, ns_t_a, out, 2) != -1)
		fail_msg("3-byte A record: got a count, want -1 (malformed)");
	msg_start(&m, "x.example", ns_t_a);
	msg_add_addr(&m, "192.0.2.1");
	if (iprev_answer_addrs(m.b, m.len - 2, ns_t_a, out, 2) != -1)
		fail_msg("cut answer: got a count, want -1");
	if (iprev_answer_addrs(NULL, 0, ns_t_a, out, 2) != -1 ||
	    iprev_answer_ptrs(NULL, 0, names, 3) != -1)
		fail_msg("no answer: got a count, want -1");
	if (iprev_answer_ptrs(m.b, 5, names, 3) != -1)
		fail_msg("5-byte answer: got a count, want -1");
}

/* test_lookup_budget - queries are counted; none once the deadline passed */
static void test_lookup_budget(void **state)
{
	static const struct fake_rr rr[] = {{"x.example", ns_t_a, DNS_OK, {"192.0.2.1"}}};
	struct fake f = {.rr = rr, .n = 1};
	struct dns_budget l;
	struct dns_reply ans;

	(void)state;
	lookup_for(&l, &f);
	if (dns_budget_query(&l, "x.example", ns_t_a, &ans) != DNS_OK || l.queries != 1 ||
	    ans.len <= 0)
		fail_msg("query within the budget: got no answer or %u queries, want 1", l.queries);
	dns_reply_free(&ans);
	if (dns_budget_query(&l, "y.example", ns_t_a, &ans) != DNS_NXDOMAIN || l.queries != 2)
		fail_msg("second query: got %u queries, want NXDOMAIN and 2", l.queries);
	clock_gettime(CLOCK_MONOTONIC, &l.deadline);
	if (dns_budget_query(&l, "x.example", ns_t_a, &ans) != DNS_TEMPFAIL || l.queries != 2 ||
	    f.nasked != 2)
		fail_msg("budget spent: got a query sent (%zu), want DNS_TEMPFAIL and none",
		         f.nasked);
}

/* test_names - pm_iprev_result_name, RFC 8601 spelling */
static void test_names(void **state)
{
	static const struct {
		enum pm_iprev_result r;
		const char *want;
	} cases[] = {
	    {PM_IPREV_UNCHECKED, "unchecked"}, {PM_IPREV_PASS, "pass"},
	    {PM_IPREV_FAIL, "fail"},           {PM_IPREV_PERMERROR, "permerror"},
	    {PM_IPREV_TEMPERROR, "temperror"}, {(enum pm_iprev_result)42, "unknown"},
	};

	(void)state;
	for (size_t i = 0; i < PM_ARRAY_LEN(cases); i++)
		if (strcmp(pm_iprev_result_name(cases[i].r), cases[i].want) != 0)
			fail_msg("pm_iprev_result_name(%d): got \"%s\", want \"%s\"",
			         (int)cases[i].r, pm_iprev_result_name(cases[i].r), cases[i].want);
}

/* main - run every test */
int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_check),         cmocka_unit_test(test_check_edges),
	    cmocka_unit_test(test_reverse_name),  cmocka_unit_test(test_parsers),
	    cmocka_unit_test(test_lookup_budget), cmocka_unit_test(test_names),
	};

	return cmocka_run_group_tests_name("iprev", tests, NULL, NULL);
}
