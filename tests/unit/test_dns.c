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

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_name_ok),
	    cmocka_unit_test(test_txt_join),
	    cmocka_unit_test(test_any_name),
	    cmocka_unit_test(test_budget),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
