/*
 * NAME
 *	test_dns - unit tests for the pure parts of dns.c
 * DESCRIPTION
 *	Tables of cases for dns_name_ok (label and name lengths, empty
 *	labels, controls), dns_txt_join (several character-strings, a
 *	length byte running past the end, empty strings), dns_query_any_within
 *	(lengths only), struct dns_budget (shared deadline, a fake query
 *	function) and dns_query_within with too little time left (a cached
 *	answer only). No network: the resolver itself is exercised by
 *	tests/spf/run.sh.
 * DIAGNOSTICS
 *	cmocka; each failure prints "got X, want Y".
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "dnsmsg.h"
#include "dns.h"
#include "dnscache.h"
#include "util.h"

/* rep - a string of n copies of c (static buffer) */
static const char *rep(char c, size_t n, const char *suffix)
{
	static char buf[1024];

	memset(buf, c, n);
	snprintf(buf + n, sizeof(buf) - n, "%s", suffix);
	return buf;
}

/* test_name_ok - which names may be sent */
static void test_name_ok(void **state)
{
	static const struct {
		const char *name;
		bool want;
	} cases[] = {
	    {"example.org", true},
	    {"example.org.", true},
	    {"a", true},
	    {"_spf.example.org", true},
	    {"x+y.example.org", true},
	    {"", false},
	    {".", false},
	    {"a..b", false},
	    {".a", false},
	    {"a b.org", false},
	    {"a\tb.org", false},
	    {"a\\b.org", false},
	    {"a\x7f.org", false},
	};
	(void)state;
	for (size_t i = 0; i < PM_ARRAY_LEN(cases); i++) {
		bool got = dns_name_ok(cases[i].name);
		if (got != cases[i].want)
			fail_msg("dns_name_ok(\"%s\"): got %d, want %d", cases[i].name, got,
			         cases[i].want);
	}
	if (dns_name_ok(NULL))
		fail_msg("dns_name_ok(NULL): got 1, want 0");
	if (!dns_name_ok(rep('a', 63, ".org")))
		fail_msg("63-byte label: got 0, want 1");
	if (dns_name_ok(rep('a', 64, ".org")))
		fail_msg("64-byte label: got 1, want 0");
	/* three labels of 63, one of 61, three dots: 253 bytes */
	char big[300];
	memset(big, 'a', 253);
	big[63] = big[127] = big[191] = '.';
	big[253] = '\0';
	if (!dns_name_ok(big))
		fail_msg("253-byte name: got 0, want 1 (len %zu)", strlen(big));
	big[253] = 'd';
	big[254] = '\0';
	if (dns_name_ok(big))
		fail_msg("254-byte name: got 1, want 0 (len %zu)", strlen(big));
}

/* test_txt_join - character-strings joined without separators */
static void test_txt_join(void **state)
{
	static const struct {
		const char *rdata;
		size_t len;
		const char *want;
	} cases[] = {
	    {"\x06v=spf1", 7, "v=spf1"},
	    {"\x07v=spf1 \x04-all", 13, "v=spf1 -all"},
	    {"\x00", 1, ""},
	    {"\x00\x03"
	     "abc",
	     5, "abc"},
	    {"\x09short", 6, "short"}, /* length byte past the end: cut */
	    {"", 0, ""},
	};
	(void)state;
	for (size_t i = 0; i < PM_ARRAY_LEN(cases); i++) {
		char *got = dns_txt_join((const unsigned char *)cases[i].rdata, cases[i].len);
		if (strcmp(got, cases[i].want) != 0)
			fail_msg("case %zu: got \"%s\", want \"%s\"", i, got, cases[i].want);
		free(got);
	}
	/* dns_txt_join_len: a NUL inside the text is kept and counted */
	{
		size_t n = 0;
		char *got = dns_txt_join_len((const unsigned char *)"\x03"
		                                                    "a\0b\x02"
		                                                    "cd",
		                             7, &n);
		if (n != 5 || memcmp(got, "a\0bcd", 6) != 0)
			fail_msg("NUL inside: got length %zu, want 5 and \"a\\0bcd\"", n);
		free(got);
	}
}

/*
 * test_any_name - dns_query_any_within checks lengths only: a name with
 * spaces gets as far as the deadline check (left_ms 0: DNS_TEMPFAIL, no
 * query), a malformed one is DNS_NXDOMAIN without a query
 */
static void test_any_name(void **state)
{
	static const struct {
		const char *name;
		enum dns_status want;
	} cases[] = {
	    {"macro%percent  space%20url-space.example.com", DNS_TEMPFAIL},
	    {"foo:bar/baz.example.com", DNS_TEMPFAIL},
	    {"a\tb.example.com", DNS_TEMPFAIL},
	    {"a..b.example.com", DNS_NXDOMAIN},
	    {"a\\b.example.com", DNS_NXDOMAIN},
	    {"", DNS_NXDOMAIN},
	};
	const unsigned char *ans;
	int len;

	(void)state;
	for (size_t i = 0; i < PM_ARRAY_LEN(cases); i++) {
		enum dns_status got = dns_query_any_within(cases[i].name, 16, 1, 0, &ans, &len);
		if (got != cases[i].want)
			fail_msg("dns_query_any_within(\"%s\"): got %d, want %d", cases[i].name,
			         got, cases[i].want);
	}
	if (dns_query_any_within(rep('a', 64, ".example.com"), 16, 1, 0, &ans, &len) !=
	    DNS_NXDOMAIN)
		fail_msg("a 64-byte label: got a query, want DNS_NXDOMAIN");
	if (dns_query_within("a b.example.com", 16, 1, 0, &ans, &len) != DNS_NXDOMAIN)
		fail_msg("dns_query_within(\"a b.example.com\"): want DNS_NXDOMAIN");
}

/* fake_query - counts its calls, answers NXDOMAIN */
static enum dns_status fake_query(void *arg, const char *name, int type, int timeout, long left,
                                  const unsigned char **answer, int *answer_len)
{
	unsigned *calls = arg;

	(void)name;
	(void)type;
	(void)answer;
	(void)answer_len;
	if (timeout != 3 || left <= 0 || left > 7000)
		fail_msg("query: got timeout %d, %ld ms left; want 3 and (0, 7000]", timeout, left);
	++*calls;
	return DNS_NXDOMAIN;
}

/*
 * test_budget - dns_budget_init and dns_budget_query: queries counted,
 * the per-attempt timeout and what is left handed on, none sent once
 * the deadline is past; dns_query_within sends nothing with less than
 * DNS_MIN_QUERY_MS left (the resolver's whole seconds would overrun)
 */
static void test_budget(void **state)
{
	struct dns_budget b;
	const unsigned char *ans = NULL;
	unsigned calls = 0;
	int len = 0;

	(void)state;
	dns_budget_init(&b, 3, 7);
	if (b.seconds != 7 || b.dns_timeout != 3 || b.queries != 0)
		fail_msg("init: got %d s, %d s, %u queries; want 7, 3, 0", b.seconds, b.dns_timeout,
		         b.queries);
	b.query = fake_query;
	b.arg = &calls;
	if (dns_budget_query(&b, "a.example", 1, &ans, &len) != DNS_NXDOMAIN || calls != 1 ||
	    b.queries != 1)
		fail_msg("first query: got %u calls, %u counted; want 1, 1", calls, b.queries);
	dns_deadline_in(&b.deadline, 0); /* spent */
	if (dns_budget_query(&b, "b.example", 1, &ans, &len) != DNS_TEMPFAIL || calls != 1 ||
	    b.queries != 1)
		fail_msg("spent budget: got %u calls, %u counted; want tempfail, 1, 1", calls,
		         b.queries);
	dns_budget_init(&b, 0, 0);
	if (b.seconds != 20 || b.dns_timeout != 0)
		fail_msg("defaults: got %d s, %d s; want 20, 0", b.seconds, b.dns_timeout);
	/* too little time for a query: a cached answer is still given, free */
	dnscache_put("cached.example", 1, DNS_NXDOMAIN, NULL, 0);
	if (dns_query_within("cached.example", 1, 1, DNS_MIN_QUERY_MS - 1, &ans, &len) !=
	    DNS_NXDOMAIN)
		fail_msg("%d ms left, answer cached: got no answer, want the cached NXDOMAIN",
		         DNS_MIN_QUERY_MS - 1);
	/* and none sent: tempfail */
	if (dns_query_within("not-cached.example", 1, 1, DNS_MIN_QUERY_MS - 1, &ans, &len) !=
	    DNS_TEMPFAIL)
		fail_msg("%d ms left, not cached: got an answer, want tempfail",
		         DNS_MIN_QUERY_MS - 1);
	dnscache_flush();
}

/* test_answer - the record iterator: each type, skipped records, malformed answers */
static void test_answer(void **state)
{
	struct dns_answer a;
	struct dns_rr rr;
	struct msg m;
	unsigned char mx[64] = {0, 10}, null_mx[3] = {0, 0, 0}, ptr_q[2] = {0xc0, 0x0c};
	unsigned char v4[4] = {192, 0, 2, 7}, v6[16] = {0x20, 0x01, 0x0d, 0xb8, [15] = 1};
	const char txt[] = "\003v=s\004pf1\000\002\000x";
	struct msg name;
	int r;

	(void)state;
	/* A: a CNAME on the way and an AAAA are skipped; the address decoded */
	msg_start(&m, "x.example", ns_t_a);
	msg_add_name(&m, ns_t_cname, "y.example");
	msg_add(&m, ns_t_aaaa, v6, 16);
	msg_add(&m, ns_t_a, v4, 4);
	if (!dns_answer_open(&a, m.b, m.len, ns_t_a))
		fail_msg("A answer: open failed, want it open");
	r = dns_answer_next(&a, &rr);
	if (r != 1 || rr.type != ns_t_a || memcmp(rr.addr, v4, 4) != 0 || rr.rdlen != 4)
		fail_msg("A answer: got %d, want 1 and 192.0.2.7", r);
	if ((r = dns_answer_next(&a, &rr)) != 0)
		fail_msg("A answer: got %d after the last record, want 0", r);
	if ((r = dns_answer_count(m.b, m.len, ns_t_a)) != 1)
		fail_msg("A count: got %d, want 1", r);
	if ((r = dns_answer_count(m.b, m.len, ns_t_cname)) != 1)
		fail_msg("CNAME count: got %d, want 1", r);
	/* AAAA */
	if (!dns_answer_open(&a, m.b, m.len, ns_t_aaaa) || dns_answer_next(&a, &rr) != 1 ||
	    memcmp(rr.addr, v6, 16) != 0)
		fail_msg("AAAA: want 2001:db8::1");
	/* MX: preference and exchange; a null MX; a compressed exchange */
	name.len = 0;
	put_name(&name, "Mail.Example");
	memcpy(mx + 2, name.b, (size_t)name.len);
	msg_start(&m, "x.example", ns_t_mx);
	msg_add(&m, ns_t_mx, mx, 2 + name.len);
	msg_add(&m, ns_t_mx, null_mx, 3);
	{
		unsigned char cmx[4] = {0, 5, 0xc0, 0x0c};

		msg_add(&m, ns_t_mx, cmx, 4);
	}
	dns_answer_open(&a, m.b, m.len, ns_t_mx);
	if (dns_answer_next(&a, &rr) != 1 || rr.pref != 10 || strcmp(rr.name, "Mail.Example") != 0)
		fail_msg("MX: got %u %s, want 10 Mail.Example", rr.pref, rr.name);
	if (dns_answer_next(&a, &rr) != 1 || rr.pref != 0 ||
	    (strcmp(rr.name, ".") != 0 && rr.name[0] != '\0'))
		fail_msg("null MX: got %u \"%s\", want 0 and the root", rr.pref, rr.name);
	if (dns_answer_next(&a, &rr) != 1 || rr.pref != 5 || strcmp(rr.name, "x.example") != 0)
		fail_msg("compressed MX: got %u %s, want 5 x.example", rr.pref, rr.name);
	if (dns_answer_next(&a, &rr) != 0)
		fail_msg("MX: a fourth record, want the end");
	/* PTR: a compression pointer to the question name */
	msg_start(&m, "7.2.0.192.in-addr.arpa", ns_t_ptr);
	msg_add(&m, ns_t_ptr, ptr_q, 2);
	dns_answer_open(&a, m.b, m.len, ns_t_ptr);
	if (dns_answer_next(&a, &rr) != 1 || strcmp(rr.name, "7.2.0.192.in-addr.arpa") != 0)
		fail_msg("PTR: got %s, want the question name", rr.name);
	/* TXT: strings joined, the NUL kept and counted */
	msg_start(&m, "x.example", ns_t_txt);
	msg_add(&m, ns_t_txt, txt, (int)sizeof(txt) - 1);
	dns_answer_open(&a, m.b, m.len, ns_t_txt);
	if (dns_answer_next(&a, &rr) != 1 || rr.txtlen != 9 ||
	    memcmp(rr.txt, "v=spf1\0\0x", 10) != 0)
		fail_msg("TXT: got length %zu, want 9 with the NULs", rr.txtlen);
	free(rr.txt);
	/* another class than IN is skipped */
	msg_start(&m, "x.example", ns_t_a);
	msg_add(&m, ns_t_a, v4, 4);
	m.b[m.len - 4 - 2 - 4 - 2] = 0; /* class CH (3) in the record just added */
	m.b[m.len - 4 - 2 - 4 - 1] = 3;
	if ((r = dns_answer_count(m.b, m.len, ns_t_a)) != 0)
		fail_msg("class CH: got %d A records, want 0", r);
	/* malformed: a 3-byte A, a 2-byte MX, a PTR that does not uncompress */
	msg_start(&m, "x.example", ns_t_a);
	msg_add(&m, ns_t_a, v4, 3);
	dns_answer_open(&a, m.b, m.len, ns_t_a);
	if ((r = dns_answer_next(&a, &rr)) != -1 || dns_answer_next(&a, &rr) != -1)
		fail_msg("3-byte A: got %d, want -1 (twice)", r);
	if ((r = dns_answer_count(m.b, m.len, ns_t_a)) != 1)
		fail_msg("3-byte A counted undecoded: got %d, want 1", r);
	msg_start(&m, "x.example", ns_t_mx);
	msg_add(&m, ns_t_mx, mx, 2);
	dns_answer_open(&a, m.b, m.len, ns_t_mx);
	if ((r = dns_answer_next(&a, &rr)) != -1)
		fail_msg("2-byte MX: got %d, want -1", r);
	{
		unsigned char bad[2] = {0xc0, 0xff};

		msg_start(&m, "x.example", ns_t_ptr);
		msg_add(&m, ns_t_ptr, bad, 2);
		dns_answer_open(&a, m.b, m.len, ns_t_ptr);
		if ((r = dns_answer_next(&a, &rr)) != -1)
			fail_msg("PTR pointing past the end: got %d, want -1", r);
	}
	/* malformed: cut, empty, NULL, too long */
	msg_start(&m, "x.example", ns_t_a);
	msg_add(&m, ns_t_a, v4, 4);
	if (dns_answer_open(&a, m.b, m.len - 2, ns_t_a) || dns_answer_next(&a, &rr) != -1)
		fail_msg("cut record: opened, want false (and -1 from next)");
	if (dns_answer_count(m.b, m.len - 2, ns_t_a) != -1)
		fail_msg("cut record counted: want -1");
	if (dns_answer_open(&a, m.b, 5, ns_t_a) || dns_answer_open(&a, NULL, 0, ns_t_a) ||
	    dns_answer_open(&a, m.b, 0, ns_t_a) || dns_answer_open(&a, m.b, 65536, ns_t_a))
		fail_msg("5 bytes, NULL, empty, 65536 bytes: opened, want false");
	if (dns_answer_next(&a, &rr) != -1 || dns_answer_count(NULL, 0, ns_t_a) != -1)
		fail_msg("next or count on an answer that did not open: want -1");
}

/* test_answer_status - the outcome from the header: RCODE and answer count */
static void test_answer_status(void **state)
{
	static const struct {
		int rcode, ancount;
		enum dns_status want;
		enum dns_fail fail;
	} cases[] = {
	    {ns_r_noerror, 1, DNS_OK, DNS_FAIL_NONE},
	    {ns_r_noerror, 0, DNS_NODATA, DNS_FAIL_NONE},
	    {ns_r_nxdomain, 0, DNS_NXDOMAIN, DNS_FAIL_NONE},
	    {ns_r_servfail, 0, DNS_TEMPFAIL, DNS_FAIL_SERVFAIL},
	    {ns_r_refused, 0, DNS_TEMPFAIL, DNS_FAIL_REFUSED},
	    {ns_r_formerr, 0, DNS_TEMPFAIL, DNS_FAIL_FORMERR},
	    {ns_r_notimpl, 0, DNS_TEMPFAIL, DNS_FAIL_OTHER},
	};
	struct msg m;
	enum dns_fail f;

	(void)state;
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		enum dns_status st;

		msg_start(&m, "x.example", ns_t_a);
		m.b[3] = (unsigned char)(0x80 | cases[i].rcode);
		m.b[7] = (unsigned char)cases[i].ancount;
		f = DNS_FAIL_MALFORMED;
		st = dns_answer_status(m.b, m.len, &f);
		if (st != cases[i].want || f != cases[i].fail)
			fail_msg("rcode %d ancount %d: got %d/%d, want %d/%d", cases[i].rcode,
			         cases[i].ancount, st, f, cases[i].want, cases[i].fail);
	}
	if (dns_answer_status(m.b, 11, &f) != DNS_TEMPFAIL || f != DNS_FAIL_MALFORMED ||
	    dns_answer_status(NULL, 0, NULL) != DNS_TEMPFAIL)
		fail_msg("under 12 bytes: want DNS_TEMPFAIL, malformed");
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_name_ok),  cmocka_unit_test(test_txt_join),
	    cmocka_unit_test(test_any_name), cmocka_unit_test(test_budget),
	    cmocka_unit_test(test_answer),   cmocka_unit_test(test_answer_status),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
