/*
 * NAME
 *	test_cidr - unit tests for cidr.c
 * DESCRIPTION
 *	Tables of cases: address parsing, CIDR parsing with its errors,
 *	matching across /0, /32, /128, IPv4 vs IPv6 and IPv4-mapped IPv6,
 *	sockaddr conversion, formatting, loopback.
 * DIAGNOSTICS
 *	cmocka; each failure prints "got X, want Y".
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>
#include <arpa/inet.h>
#include <netinet/in.h>
#include <stdio.h>
#include <string.h>

#include "cidr.h"
#include "util.h"

/* test_ip_parse - textual addresses, normalised and printed back */
static void test_ip_parse(void **state)
{
	(void)state;
	static const struct {
		const char *in;
		int rc, family;
		const char *out;
	} cases[] = {
	    {"192.0.2.1", 0, AF_INET, "192.0.2.1"},
	    {"0.0.0.0", 0, AF_INET, "0.0.0.0"},
	    {"255.255.255.255", 0, AF_INET, "255.255.255.255"},
	    {"2001:db8::1", 0, AF_INET6, "2001:db8::1"},
	    {"2001:DB8:0:0:0:0:0:1", 0, AF_INET6, "2001:db8::1"},
	    {"::", 0, AF_INET6, "::"},
	    {"::1", 0, AF_INET6, "::1"},
	    {"::ffff:192.0.2.7", 0, AF_INET, "192.0.2.7"},
	    {"::FFFF:c000:0207", 0, AF_INET, "192.0.2.7"},
	    {"::192.0.2.7", 0, AF_INET6, "::192.0.2.7"}, /* compatible, not mapped */
	    {"192.0.2.01", -1, AF_UNSPEC, "unknown"},    /* leading zero */
	    {"192.0.2", -1, AF_UNSPEC, "unknown"},
	    {"192.0.2.256", -1, AF_UNSPEC, "unknown"},
	    {" 192.0.2.1", -1, AF_UNSPEC, "unknown"},
	    {"192.0.2.1 ", -1, AF_UNSPEC, "unknown"},
	    {"[2001:db8::1]", -1, AF_UNSPEC, "unknown"},
	    {"192.0.2.0/24", -1, AF_UNSPEC, "unknown"},
	    {"example.org", -1, AF_UNSPEC, "unknown"},
	    {"", -1, AF_UNSPEC, "unknown"},
	    {NULL, -1, AF_UNSPEC, "unknown"},
	};
	for (size_t i = 0; i < PM_ARRAY_LEN(cases); i++) {
		struct pm_ip ip;
		char buf[PM_IP_STRLEN];
		int rc = pm_ip_parse(cases[i].in, &ip);
		if (rc != cases[i].rc || ip.family != cases[i].family)
			fail_msg("case %zu parse(%s): got rc %d family %d, want %d %d", i,
			         cases[i].in, rc, ip.family, cases[i].rc, cases[i].family);
		pm_ip_format(&ip, buf, sizeof(buf));
		if (strcmp(buf, cases[i].out) != 0)
			fail_msg("case %zu format(%s): got %s, want %s", i, cases[i].in, buf,
			         cases[i].out);
	}
}

/* test_cidr_parse - blocks and the errors for bad ones */
static void test_cidr_parse(void **state)
{
	(void)state;
	static const struct {
		const char *in;
		int rc;
		const char *out; /* formatted, or the error message */
	} cases[] = {
	    {"192.0.2.0/24", 0, "192.0.2.0/24"},
	    {"192.0.2.1", 0, "192.0.2.1/32"},
	    {"192.0.2.1/32", 0, "192.0.2.1/32"},
	    {"0.0.0.0/0", 0, "0.0.0.0/0"},
	    {"10.0.0.0/8", 0, "10.0.0.0/8"},
	    {"2001:db8::/32", 0, "2001:db8::/32"},
	    {"2001:db8::1", 0, "2001:db8::1/128"},
	    {"::/0", 0, "::/0"},
	    {"::1/128", 0, "::1/128"},
	    {"::ffff:192.0.2.0/120", 0, "192.0.2.0/24"},
	    {"::ffff:192.0.2.9", 0, "192.0.2.9/32"},
	    {"::ffff:0:0/96", 0, "0.0.0.0/0"},
	    {"::ffff:0:0/95", -1, "host bits set (the network address must end in zeros)"},
	    {"::/95", 0, "::/95"},
	    {"192.0.2.1/24", -1, "host bits set (the network address must end in zeros)"},
	    {"2001:db8::1/64", -1, "host bits set (the network address must end in zeros)"},
	    {"1.2.3.4/", -1, "bad prefix length"},
	    {"1.2.3.4/33", -1, "prefix out of range"},
	    {"2001:db8::/129", -1, "prefix out of range"},
	    {"1.2.3.4/999", -1, "prefix out of range"},
	    {"1.2.3.4/1000", -1, "bad prefix length"},
	    {"1.2.3.4/-1", -1, "bad prefix length"},
	    {"1.2.3.4/+8", -1, "bad prefix length"},
	    {"1.2.3.0/024", -1, "bad prefix length"},
	    {"1.2.3.4/32x", -1, "bad prefix length"},
	    {"1.2.3.4/ 32", -1, "bad prefix length"},
	    {"1.2.3.4/32/32", -1, "bad prefix length"},
	    {"01.2.3.4", -1, "not an IP address"},
	    {"1.2.3.04/32", -1, "not an IP address"},
	    {" 1.2.3.4", -1, "not an IP address"},
	    {"1.2.3.4 ", -1, "not an IP address"},
	    {"1.2.3.4 /32", -1, "not an IP address"},
	    {"/24", -1, "not an IP address"},
	    {"garbage", -1, "not an IP address"},
	    {"example.org/24", -1, "not an IP address"},
	    {"1.2.3.4.5/32", -1, "not an IP address"},
	    {"[::1]/128", -1, "not an IP address"},
	    {"", -1, "empty"},
	    {NULL, -1, "empty"},
	    {"aaaa:aaaa:aaaa:aaaa:aaaa:aaaa:aaaa:aaaa:aaaa:aaaa:aaaa/64", -1, "not an IP address"},
	};
	for (size_t i = 0; i < PM_ARRAY_LEN(cases); i++) {
		struct pm_cidr c;
		const char *err = NULL;
		char buf[PM_IP_STRLEN + 4];
		int rc = pm_cidr_parse(cases[i].in, &c, &err);
		if (rc != cases[i].rc)
			fail_msg("case %zu parse(%s): got rc %d (%s), want %d", i, cases[i].in, rc,
			         err ? err : "-", cases[i].rc);
		if (rc == 0) {
			pm_cidr_format(&c, buf, sizeof(buf));
			if (strcmp(buf, cases[i].out) != 0)
				fail_msg("case %zu parse(%s): got %s, want %s", i, cases[i].in, buf,
				         cases[i].out);
		} else if (err == NULL || strcmp(err, cases[i].out) != 0) {
			fail_msg("case %zu parse(%s): got error \"%s\", want \"%s\"", i,
			         cases[i].in, err ? err : "(null)", cases[i].out);
		}
	}
	/* a NULL err pointer is allowed */
	struct pm_cidr c;
	assert_int_equal(pm_cidr_parse("x", &c, NULL), -1);
}

/* test_cidr_match - which addresses fall in which blocks */
static void test_cidr_match(void **state)
{
	(void)state;
	static const struct {
		const char *block, *ip;
		bool want;
	} cases[] = {
	    {"192.0.2.0/24", "192.0.2.0", true},
	    {"192.0.2.0/24", "192.0.2.255", true},
	    {"192.0.2.0/24", "192.0.3.0", false},
	    {"192.0.2.0/24", "192.0.1.255", false},
	    {"192.0.2.0/24", "::ffff:192.0.2.77", true},
	    {"192.0.2.0/24", "::192.0.2.77", false},
	    {"192.0.2.0/24", "2001:db8::1", false},
	    {"192.0.2.128/25", "192.0.2.127", false},
	    {"192.0.2.128/25", "192.0.2.128", true},
	    {"192.0.2.5/32", "192.0.2.5", true},
	    {"192.0.2.5/32", "192.0.2.4", false},
	    {"0.0.0.0/0", "203.0.113.9", true},
	    {"0.0.0.0/0", "2001:db8::1", false},
	    {"::/0", "2001:db8::1", true},
	    {"::/0", "192.0.2.1", false},
	    {"::/0", "::ffff:192.0.2.1", false}, /* mapped is IPv4 */
	    {"2001:db8::/32", "2001:db8:ffff::1", true},
	    {"2001:db8::/32", "2001:db9::1", false},
	    {"2001:db8::/33", "2001:db8:8000::", false},
	    {"2001:db8::/33", "2001:db8:7fff::", true},
	    {"2001:db8::1/128", "2001:db8::1", true},
	    {"2001:db8::1/128", "2001:db8::2", false},
	    {"::ffff:192.0.2.0/120", "192.0.2.99", true},
	    {"::ffff:192.0.2.0/120", "::ffff:192.0.2.99", true},
	    {"127.0.0.0/8", "127.255.0.1", true},
	    {"10.0.0.0/7", "11.1.1.1", true},
	    {"10.0.0.0/7", "12.0.0.0", false},
	};
	for (size_t i = 0; i < PM_ARRAY_LEN(cases); i++) {
		struct pm_cidr c;
		struct pm_ip ip;
		const char *err;
		if (pm_cidr_parse(cases[i].block, &c, &err) != 0)
			fail_msg("case %zu: block %s: %s", i, cases[i].block, err);
		if (pm_ip_parse(cases[i].ip, &ip) != 0)
			fail_msg("case %zu: ip %s does not parse", i, cases[i].ip);
		bool got = pm_cidr_match(&c, &ip);
		if (got != cases[i].want)
			fail_msg("case %zu match(%s, %s): got %d, want %d", i, cases[i].block,
			         cases[i].ip, got, cases[i].want);
	}
	/* a pm_ip built by hand in mapped form still matches the IPv4 block */
	struct pm_cidr c;
	struct pm_ip ip = {.family = AF_INET6};
	const char *err;
	assert_int_equal(pm_cidr_parse("192.0.2.0/24", &c, &err), 0);
	ip.addr[10] = ip.addr[11] = 0xff;
	ip.addr[12] = 192, ip.addr[13] = 0, ip.addr[14] = 2, ip.addr[15] = 1;
	if (!pm_cidr_match(&c, &ip))
		fail_msg("hand-built mapped 192.0.2.1: got no match, want match");
	struct pm_ip none = {.family = AF_UNSPEC};
	assert_false(pm_cidr_match(&c, &none));
	assert_false(pm_cidr_match(&c, NULL));
}

/* test_cidr_list - first match wins; empty list never matches */
static void test_cidr_list(void **state)
{
	(void)state;
	static const char *blocks[] = {"127.0.0.0/8", "192.0.2.0/24", "192.0.2.0/25", "::1/128"};
	struct pm_cidr v[4];
	const char *err;
	for (size_t i = 0; i < 4; i++)
		assert_int_equal(pm_cidr_parse(blocks[i], &v[i], &err), 0);
	struct pm_cidr_list l = {v, 4}, empty = {NULL, 0};
	static const struct {
		const char *ip;
		int want; /* index, or -1 */
	} cases[] = {
	    {"127.0.0.1", 0}, {"192.0.2.1", 1},        {"::1", 3},
	    {"::2", -1},      {"::ffff:127.0.0.1", 0}, {"198.51.100.1", -1},
	};
	for (size_t i = 0; i < PM_ARRAY_LEN(cases); i++) {
		struct pm_ip ip;
		assert_int_equal(pm_ip_parse(cases[i].ip, &ip), 0);
		const struct pm_cidr *m = pm_cidr_list_match(&l, &ip);
		int got = m ? (int)(m - v) : -1;
		if (got != cases[i].want)
			fail_msg("case %zu list_match(%s): got %d, want %d", i, cases[i].ip, got,
			         cases[i].want);
		if (pm_cidr_list_match(&empty, &ip) != NULL)
			fail_msg("case %zu: empty list matched", i);
	}
	struct pm_ip ip;
	pm_ip_parse("127.0.0.1", &ip);
	assert_null(pm_cidr_list_match(NULL, &ip));
}

/* test_sockaddr - sockaddr_in, sockaddr_in6 (mapped or not), unknown, NULL */
static void test_sockaddr(void **state)
{
	(void)state;
	struct sockaddr_in sin = {.sin_family = AF_INET};
	struct sockaddr_in6 sin6 = {.sin6_family = AF_INET6};
	struct sockaddr sun = {.sa_family = AF_UNIX};
	struct pm_ip ip;
	char buf[PM_IP_STRLEN];

	inet_pton(AF_INET, "198.51.100.7", &sin.sin_addr);
	assert_int_equal(pm_ip_from_sockaddr((struct sockaddr *)&sin, &ip), 0);
	assert_int_equal(ip.family, AF_INET);
	assert_string_equal(pm_ip_format(&ip, buf, sizeof(buf)), "198.51.100.7");

	inet_pton(AF_INET6, "2001:db8::25", &sin6.sin6_addr);
	assert_int_equal(pm_ip_from_sockaddr((struct sockaddr *)&sin6, &ip), 0);
	assert_int_equal(ip.family, AF_INET6);
	assert_string_equal(pm_ip_format(&ip, buf, sizeof(buf)), "2001:db8::25");

	inet_pton(AF_INET6, "::ffff:203.0.113.5", &sin6.sin6_addr);
	assert_int_equal(pm_ip_from_sockaddr((struct sockaddr *)&sin6, &ip), 0);
	if (ip.family != AF_INET)
		fail_msg("mapped sockaddr: got family %d, want AF_INET", ip.family);
	assert_string_equal(pm_ip_format(&ip, buf, sizeof(buf)), "203.0.113.5");

	assert_int_equal(pm_ip_from_sockaddr(&sun, &ip), -1);
	assert_int_equal(ip.family, AF_UNSPEC);
	assert_string_equal(pm_ip_format(&ip, buf, sizeof(buf)), "unknown");
	assert_int_equal(pm_ip_from_sockaddr(NULL, &ip), -1);
	assert_int_equal(ip.family, AF_UNSPEC);
}

/* test_loopback - 127/8 and ::1 only */
static void test_loopback(void **state)
{
	(void)state;
	static const struct {
		const char *ip;
		bool want;
	} cases[] = {
	    {"127.0.0.1", true},        {"127.1.2.3", true},  {"::1", true},
	    {"::ffff:127.0.0.1", true}, {"128.0.0.1", false}, {"::2", false},
	    {"192.0.2.1", false},       {"::", false},
	};
	for (size_t i = 0; i < PM_ARRAY_LEN(cases); i++) {
		struct pm_ip ip;
		assert_int_equal(pm_ip_parse(cases[i].ip, &ip), 0);
		bool got = pm_ip_is_loopback(&ip);
		if (got != cases[i].want)
			fail_msg("case %zu loopback(%s): got %d, want %d", i, cases[i].ip, got,
			         cases[i].want);
	}
	struct pm_ip none = {.family = AF_UNSPEC};
	assert_false(pm_ip_is_loopback(&none));
}

/* main - run the cases */
int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_ip_parse),   cmocka_unit_test(test_cidr_parse),
	    cmocka_unit_test(test_cidr_match), cmocka_unit_test(test_cidr_list),
	    cmocka_unit_test(test_sockaddr),   cmocka_unit_test(test_loopback),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
