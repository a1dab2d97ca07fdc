/*
 * NAME
 *	test_dns - unit tests for the pure parts of dns.c
 * DESCRIPTION
 *	Tables of cases for dns_name_ok (label and name lengths, empty
 *	labels, controls), dns_txt_join (several character-strings, a
 *	length byte running past the end, empty strings), dns_budget_query_any
 *	(lengths only), struct dns_budget (shared deadline, a fake query
 *	function, each answer the caller's own copy, the cause of a failure)
 *	and a budget with too little time left (a cached answer only). No network: the resolver
 *itself is exercised by tests/spf/run.sh. DIAGNOSTICS cmocka; each failure prints "got X, want Y".
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

/* budget_ms - *b with ms milliseconds left, 1 s per attempt, the real resolver */
static struct dns_budget *budget_ms(struct dns_budget *b, long ms)
{
	dns_budget_init(b, 1, 1);
	clock_gettime(CLOCK_MONOTONIC, &b->deadline);
	b->deadline.tv_sec += ms / 1000;
	b->deadline.tv_nsec += (ms % 1000) * 1000000L;
	if (b->deadline.tv_nsec >= 1000000000L) {
		b->deadline.tv_sec++;
		b->deadline.tv_nsec -= 1000000000L;
	}
	return b;
}

/*
 * test_any_name - dns_budget_query_any checks lengths only: a name with
 * spaces gets as far as the time check (too little left for a query:
 * DNS_TEMPFAIL, cause "budget", nothing sent), a malformed one is
 * DNS_NXDOMAIN without a query; dns_budget_query refuses spaces
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
	struct dns_budget b;
	struct dns_reply r;

	(void)state;
	for (size_t i = 0; i < PM_ARRAY_LEN(cases); i++) {
		enum dns_status got = dns_budget_query_any(budget_ms(&b, DNS_MIN_QUERY_MS - 100),
		                                           cases[i].name, 16, &r);
		enum dns_fail want_fail =
		    cases[i].want == DNS_TEMPFAIL ? DNS_FAIL_BUDGET : DNS_FAIL_NONE;

		if (got != cases[i].want || b.fail != want_fail || r.msg != NULL)
			fail_msg("dns_budget_query_any(\"%s\"): got %d (%s), want %d (%s)",
			         cases[i].name, got, dns_fail_name(b.fail), cases[i].want,
			         dns_fail_name(want_fail));
	}
	if (dns_budget_query_any(budget_ms(&b, DNS_MIN_QUERY_MS - 100),
	                         rep('a', 64, ".example.com"), 16, &r) != DNS_NXDOMAIN)
		fail_msg("a 64-byte label: got a query, want DNS_NXDOMAIN");
	if (dns_budget_query(budget_ms(&b, DNS_MIN_QUERY_MS - 100), "a b.example.com", 16, &r) !=
	    DNS_NXDOMAIN)
		fail_msg("dns_budget_query(\"a b.example.com\"): want DNS_NXDOMAIN");
}

/* A fake resolver: counts its calls, answers from its own buffer (rewritten on each call). */
struct fake {
	unsigned calls;
	enum dns_status st;
	enum dns_fail fail; /* set into the budget on DNS_TEMPFAIL (NONE: left alone) */
	struct dns_budget *b;
	unsigned char buf[4];
};

/* fake_query - see struct fake */
static enum dns_status fake_query(void *arg, const char *name, int type, int timeout, long left,
                                  const unsigned char **answer, int *answer_len)
{
	struct fake *f = arg;

	(void)name;
	(void)type;
	if (timeout != 3 || left <= 0 || left > 7000)
		fail_msg("query: got timeout %d, %ld ms left; want 3 and (0, 7000]", timeout, left);
	++f->calls;
	memset(f->buf, (int)f->calls, sizeof(f->buf));
	*answer = f->buf;
	*answer_len = (int)sizeof(f->buf);
	if (f->st == DNS_TEMPFAIL && f->fail != DNS_FAIL_NONE)
		f->b->fail = f->fail;
	return f->st;
}

/*
 * test_budget - dns_budget_init and dns_budget_query: queries counted,
 * the per-attempt timeout and what is left handed on, none sent once
 * the deadline is past (cause "budget"); each DNS_OK answer is the
 * caller's own copy (a second query leaves the first intact); the cause
 * of a failure as the query function gives it (else "other"); with less
 * than DNS_MIN_QUERY_MS left nothing is sent (the resolver's whole
 * seconds would overrun) but a cached answer is given, a cached failure
 * with its cause
 */
static void test_budget(void **state)
{
	struct dns_budget b;
	struct dns_reply r1, r2, r;
	struct fake f = {0};
	unsigned char cause = DNS_FAIL_REFUSED;

	(void)state;
	dns_budget_init(&b, 3, 7);
	if (b.seconds != 7 || b.dns_timeout != 3 || b.queries != 0 || b.fail != DNS_FAIL_NONE)
		fail_msg("init: got %d s, %d s, %u queries; want 7, 3, 0", b.seconds, b.dns_timeout,
		         b.queries);
	if (dns_budget_ms_left(&b) <= 6000 || dns_budget_ms_left(&b) > 7000)
		fail_msg("init: %ld ms left, want about 7000", dns_budget_ms_left(&b));
	b.query = fake_query;
	b.arg = &f;
	f.b = &b;
	f.st = DNS_OK;
	if (dns_budget_query(&b, "a.example", 1, &r1) != DNS_OK || f.calls != 1 || b.queries != 1 ||
	    r1.msg == NULL || r1.len != 4 || r1.msg[0] != 1)
		fail_msg("first query: got %u calls, %u counted; want 1, 1, an answer of 4 bytes",
		         f.calls, b.queries);
	if (dns_budget_query(&b, "b.example", 1, &r2) != DNS_OK || r2.msg == NULL ||
	    r2.msg[0] != 2 || r1.msg[0] != 1 || r1.msg == r2.msg)
		fail_msg("second query: the first answer changed, want two answers side by side");
	dns_reply_free(&r1);
	dns_reply_free(&r2);
	dns_reply_free(&r2); /* twice is fine */
	f.st = DNS_TEMPFAIL;
	if (dns_budget_query(&b, "c.example", 1, &r) != DNS_TEMPFAIL || b.fail != DNS_FAIL_OTHER ||
	    r.msg != NULL)
		fail_msg("a failure without a cause: got %s, want other", dns_fail_name(b.fail));
	f.fail = DNS_FAIL_SERVFAIL;
	if (dns_budget_query(&b, "c.example", 1, &r) != DNS_TEMPFAIL || b.fail != DNS_FAIL_SERVFAIL)
		fail_msg("a failure with its cause: got %s, want servfail", dns_fail_name(b.fail));
	f.st = DNS_NXDOMAIN;
	if (dns_budget_query(&b, "c.example", 1, &r) != DNS_NXDOMAIN || b.fail != DNS_FAIL_NONE)
		fail_msg("an answer after a failure: got cause %s, want none",
		         dns_fail_name(b.fail));
	clock_gettime(CLOCK_MONOTONIC, &b.deadline); /* spent */
	if (dns_budget_query(&b, "d.example", 1, &r) != DNS_TEMPFAIL || f.calls != 5 ||
	    b.queries != 5 || b.fail != DNS_FAIL_BUDGET || dns_budget_ms_left(&b) != 0)
		fail_msg("spent budget: got %u calls, %u counted, %s; want tempfail, 5, 5, budget",
		         f.calls, b.queries, dns_fail_name(b.fail));
	dns_budget_init(&b, 0, 0);
	if (b.seconds != 20 || b.dns_timeout != 0)
		fail_msg("defaults: got %d s, %d s; want 20, 0", b.seconds, b.dns_timeout);
	/* too little time for a query: a cached answer is still given, free */
	dnscache_put("cached.example", 1, DNS_NXDOMAIN, NULL, 0);
	if (dns_budget_query(budget_ms(&b, DNS_MIN_QUERY_MS - 100), "cached.example", 1, &r) !=
	    DNS_NXDOMAIN)
		fail_msg("%d ms left, answer cached: got no answer, want the cached NXDOMAIN",
		         DNS_MIN_QUERY_MS - 100);
	/* and a cached failure with its cause */
	dnscache_put("refused.example", 1, DNS_TEMPFAIL, &cause, 1);
	if (dns_budget_query(budget_ms(&b, DNS_MIN_QUERY_MS - 100), "refused.example", 1, &r) !=
	        DNS_TEMPFAIL ||
	    b.fail != DNS_FAIL_REFUSED)
		fail_msg("cached failure: got cause %s, want refused", dns_fail_name(b.fail));
	/* and none sent: tempfail */
	if (dns_budget_query(budget_ms(&b, DNS_MIN_QUERY_MS - 100), "not-cached.example", 1, &r) !=
	        DNS_TEMPFAIL ||
	    b.fail != DNS_FAIL_BUDGET)
		fail_msg("%d ms left, not cached: got an answer or %s, want tempfail (budget)",
		         DNS_MIN_QUERY_MS - 100, dns_fail_name(b.fail));
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

/* test_fail_names - every cause has its log name; out of range is "other" */
static void test_fail_names(void **state)
{
	static const struct {
		enum dns_fail f;
		const char *want;
	} cases[] = {
	    {DNS_FAIL_NONE, ""},
	    {DNS_FAIL_TIMEOUT, "timeout"},
	    {DNS_FAIL_SERVFAIL, "servfail"},
	    {DNS_FAIL_REFUSED, "refused"},
	    {DNS_FAIL_FORMERR, "formerr"},
	    {DNS_FAIL_OTHER, "other"},
	    {DNS_FAIL_MALFORMED, "malformed"},
	    {DNS_FAIL_BUDGET, "budget"},
	    {DNS_FAIL_REJECTED, "servfail_or_refused"},
	    {(enum dns_fail)99, "other"},
	};

	(void)state;
	for (size_t i = 0; i < PM_ARRAY_LEN(cases); i++)
		if (strcmp(dns_fail_name(cases[i].f), cases[i].want) != 0)
			fail_msg("dns_fail_name(%d): got \"%s\", want \"%s\"", (int)cases[i].f,
			         dns_fail_name(cases[i].f), cases[i].want);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_name_ok),    cmocka_unit_test(test_txt_join),
	    cmocka_unit_test(test_any_name),   cmocka_unit_test(test_budget),
	    cmocka_unit_test(test_answer),     cmocka_unit_test(test_answer_status),
	    cmocka_unit_test(test_fail_names),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
