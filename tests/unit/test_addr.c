/*
 * NAME
 *	test_addr - unit tests for addr.c (RFC 5321 path parsing)
 * DESCRIPTION
 *	A table of paths as an MTA may hand them to the milter, odd ones
 *	included (the "Inputs that must not hurt it"), each with the
 *	status, local part, domain and flags it must give; then long inputs
 *	built at run time, addr_format round trips and addr_domain_valid.
 * DIAGNOSTICS
 *	Each mismatch prints "case N (input): got X, want Y"; the test fails
 *	when any case did.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "addr.h"
#include "util.h"

/* S - a string literal and its length (embedded NULs kept) */
#define S(x) x, sizeof(x) - 1

struct parse_case {
	const char *in;
	size_t len;
	int flags;
	enum addr_status want;
	const char *local;  /* for ADDR_OK / ADDR_LOCAL_ONLY */
	const char *domain; /* for ADDR_OK */
	const char *why;    /* for ADDR_BAD: a substring of *why, or NULL for any */
	bool route;
	bool literal;
	bool quoted;
};

#define N ADDR_ALLOW_NULL
#define L ADDR_ALLOW_LOCAL_ONLY

static const struct parse_case parse_cases[] = {
    /* plain */
    {S("<user@example.org>"), 0, ADDR_OK, "user", "example.org", NULL, false, false, false},
    {S("user@example.org"), 0, ADDR_OK, "user", "example.org", NULL, false, false, false},
    {S("<User.Name+tag@Example.ORG>"), 0, ADDR_OK, "User.Name+tag", "example.org", NULL, false,
     false, false},
    {S("<a!#$%&'*+-/=?^_`{|}~b@x.test>"), 0, ADDR_OK, "a!#$%&'*+-/=?^_`{|}~b", "x.test", NULL,
     false, false, false},
    {S("<x@example.org.>"), 0, ADDR_OK, "x", "example.org", NULL, false, false, false},
    {S("<x@localhost>"), 0, ADDR_OK, "x", "localhost", NULL, false, false, false},
    {S("<x@a-b.c-d.test>"), 0, ADDR_OK, "x", "a-b.c-d.test", NULL, false, false, false},
    {S("<x@123.example>"), 0, ADDR_OK, "x", "123.example", NULL, false, false, false},
    /* null sender and postmaster */
    {S("<>"), N, ADDR_NULL, "", "", NULL, false, false, false},
    {S("<>"), 0, ADDR_BAD, NULL, NULL, "null", false, false, false},
    {S(""), N, ADDR_BAD, NULL, NULL, "empty", false, false, false},
    {S("<postmaster>"), L, ADDR_LOCAL_ONLY, "postmaster", "", NULL, false, false, false},
    {S("<PostMaster>"), L, ADDR_LOCAL_ONLY, "PostMaster", "", NULL, false, false, false},
    {S("postmaster"), L, ADDR_LOCAL_ONLY, "postmaster", "", NULL, false, false, false},
    {S("<postmaster>"), 0, ADDR_BAD, NULL, NULL, "no domain", false, false, false},
    {S("<abuse>"), L, ADDR_BAD, NULL, NULL, "no domain", false, false, false},
    {S("<user>"), N | L, ADDR_BAD, NULL, NULL, "no domain", false, false, false},
    {S("<@a.test:postmaster>"), L, ADDR_BAD, NULL, NULL, "no domain", true, false, false},
    /* source routes (RFC 5321 appendix C): the last mailbox is judged */
    {S("<@a.test,@b.test:x@c.test>"), 0, ADDR_OK, "x", "c.test", NULL, true, false, false},
    {S("<@a.test:x@C.Test>"), 0, ADDR_OK, "x", "c.test", NULL, true, false, false},
    {S("<@a.test,b.test:x@c.test>"), 0, ADDR_BAD, NULL, NULL, "source route", true, false, false},
    {S("<@a.test,@:x@c.test>"), 0, ADDR_BAD, NULL, NULL, "source route", false, false, false},
    {S("<@a_b.test:x@c.test>"), 0, ADDR_BAD, NULL, NULL, "source route", false, false, false},
    {S("<@a.test:>"), 0, ADDR_BAD, NULL, NULL, "empty local part", true, false, false},
    {S("<@c.test>"), 0, ADDR_BAD, NULL, NULL, "empty local part", false, false, false},
    /* odd syntax that must be refused, never judged under another domain */
    {S("<x@c.test(comment>"), 0, ADDR_BAD, NULL, NULL, "domain", false, false, false},
    {S("<x@c.test(comment)>"), 0, ADDR_BAD, NULL, NULL, "domain", false, false, false},
    {S("<(comment)x@c.test>"), 0, ADDR_BAD, NULL, NULL, "comment", false, false, false},
    {S("<x@c.test'@d.test>"), 0, ADDR_BAD, NULL, NULL, "domain", false, false, false},
    {S("<x@c.test@d.test>"), 0, ADDR_BAD, NULL, NULL, "domain", false, false, false},
    {S("<x@c.test"), 0, ADDR_BAD, NULL, NULL, "angle", false, false, false},
    {S("x@c.test>"), 0, ADDR_BAD, NULL, NULL, "angle", false, false, false},
    {S("<<x@c.test>>"), 0, ADDR_BAD, NULL, NULL, NULL, false, false, false},
    {S("<"), 0, ADDR_BAD, NULL, NULL, "angle", false, false, false},
    {S(">"), 0, ADDR_BAD, NULL, NULL, "angle", false, false, false},
    {S("<x@c.test> SIZE=100"), 0, ADDR_BAD, NULL, NULL, NULL, false, false, false},
    {S("<x @c.test>"), 0, ADDR_BAD, NULL, NULL, "space", false, false, false},
    {S("<x@ c.test>"), 0, ADDR_BAD, NULL, NULL, "domain", false, false, false},
    {S(" <x@c.test>"), 0, ADDR_BAD, NULL, NULL, NULL, false, false, false},
    {S("<x y@c.test>"), 0, ADDR_BAD, NULL, NULL, "space", false, false, false},
    {S("<@>"), 0, ADDR_BAD, NULL, NULL, "empty local part", false, false, false},
    {S("<@c.test:>"), 0, ADDR_BAD, NULL, NULL, "empty local part", true, false, false},
    {S("<x@>"), 0, ADDR_BAD, NULL, NULL, "empty domain", false, false, false},
    {S("<x>"), 0, ADDR_BAD, NULL, NULL, "no domain", false, false, false},
    {S("<.x@c.test>"), 0, ADDR_BAD, NULL, NULL, "starts with a dot", false, false, false},
    {S("<x.@c.test>"), 0, ADDR_BAD, NULL, NULL, "ends with a dot", false, false, false},
    {S("<x..y@c.test>"), 0, ADDR_BAD, NULL, NULL, "consecutive dots", false, false, false},
    {S("<x@c..test>"), 0, ADDR_BAD, NULL, NULL, "empty label", false, false, false},
    {S("<x@.c.test>"), 0, ADDR_BAD, NULL, NULL, "starts with a dot", false, false, false},
    {S("<x@c.test..>"), 0, ADDR_BAD, NULL, NULL, "empty label", false, false, false},
    {S("<x@.>"), 0, ADDR_BAD, NULL, NULL, "domain", false, false, false},
    {S("<x@-c.test>"), 0, ADDR_BAD, NULL, NULL, "hyphen", false, false, false},
    {S("<x@c-.test>"), 0, ADDR_BAD, NULL, NULL, "hyphen", false, false, false},
    {S("<x@c.test->"), 0, ADDR_BAD, NULL, NULL, "hyphen", false, false, false},
    {S("<x@c_d.test>"), 0, ADDR_BAD, NULL, NULL, "invalid character in domain", false, false,
     false},
    {S("<x@192.0.2.1>"), 0, ADDR_BAD, NULL, NULL, "all-numeric", false, false, false},
    {S("<x@c.test:25>"), 0, ADDR_BAD, NULL, NULL, "domain", false, false, false},
    {S("<x@c.test,y@d.test>"), 0, ADDR_BAD, NULL, NULL, "domain", false, false, false},
    {S("<x,y@c.test>"), 0, ADDR_BAD, NULL, NULL, "local part", false, false, false},
    {S("<x[y@c.test>"), 0, ADDR_BAD, NULL, NULL, "local part", false, false, false},
    {S("<x\\y@c.test>"), 0, ADDR_BAD, NULL, NULL, "local part", false, false, false},
    /* NUL, CR, LF, controls, 8-bit */
    {S("<x\0y@c.test>"), 0, ADDR_BAD, NULL, NULL, "NUL", false, false, false},
    {S("<x@c.test\0.evil>"), 0, ADDR_BAD, NULL, NULL, "NUL", false, false, false},
    {S("<x@c.test>\0"), 0, ADDR_BAD, NULL, NULL, "NUL", false, false, false},
    {S("<x@c.test\r\nRCPT TO:<y@d.test>"), 0, ADDR_BAD, NULL, NULL, "CR or LF", false, false,
     false},
    {S("<x\n@c.test>"), 0, ADDR_BAD, NULL, NULL, "CR or LF", false, false, false},
    {S("<x\t@c.test>"), 0, ADDR_BAD, NULL, NULL, "control", false, false, false},
    {S("<x\x7f@c.test>"), 0, ADDR_BAD, NULL, NULL, "control", false, false, false},
    {S("<x\x1b[31m@c.test>"), 0, ADDR_BAD, NULL, NULL, "control", false, false, false},
    {S("<j\xc3\xb6rg@c.test>"), 0, ADDR_OK, "j\xc3\xb6rg", "c.test", NULL, false, false, false},
    {S("<\xe7\x94\xa8\xe6\x88\xb7@c.test>"), 0, ADDR_OK, "\xe7\x94\xa8\xe6\x88\xb7", "c.test", NULL,
     false, false, false},
    {S("<\xf0\x9f\x98\x80.x@c.test>"), 0, ADDR_OK, "\xf0\x9f\x98\x80.x", "c.test", NULL, false,
     false, false},
    {S("<j\xf6rg@c.test>"), 0, ADDR_BAD, NULL, NULL, "UTF-8", false, false, false},
    {S("<j\xc3@c.test>"), 0, ADDR_BAD, NULL, NULL, "UTF-8", false, false, false},
    {S("<j\xc3>"), 0, ADDR_BAD, NULL, NULL, "UTF-8", false, false, false},
    {S("<\xc0\xaf@c.test>"), 0, ADDR_BAD, NULL, NULL, "UTF-8", false, false, false},
    {S("<\xed\xa0\x80@c.test>"), 0, ADDR_BAD, NULL, NULL, "UTF-8", false, false, false},
    {S("<\xff@c.test>"), 0, ADDR_BAD, NULL, NULL, "UTF-8", false, false, false},
    {S("<x@c\xc3\xa9.test>"), 0, ADDR_BAD, NULL, NULL, "domain", false, false, false},
    {S("<x@c.test\x80>"), 0, ADDR_BAD, NULL, NULL, "domain", false, false, false},
    /* quoted local parts */
    {S("<\"john doe\"@c.test>"), 0, ADDR_OK, "john doe", "c.test", NULL, false, false, true},
    {S("<\"a@b\"@c.test>"), 0, ADDR_OK, "a@b", "c.test", NULL, false, false, true},
    {S("<\"a\\\"b\\\\c\"@c.test>"), 0, ADDR_OK, "a\"b\\c", "c.test", NULL, false, false, true},
    {S("<\"x<>y\"@c.test>"), 0, ADDR_OK, "x<>y", "c.test", NULL, false, false, true},
    {S("<\"j\xc3\xb6rg\"@c.test>"), 0, ADDR_OK, "j\xc3\xb6rg", "c.test", NULL, false, false, true},
    {S("<\"user\"@c.test>"), 0, ADDR_OK, "user", "c.test", NULL, false, false, true},
    {S("<\"\"@c.test>"), 0, ADDR_BAD, NULL, NULL, "empty local part", false, false, false},
    {S("<\"abc@c.test>"), 0, ADDR_BAD, NULL, NULL, "quote", false, false, false},
    {S("<\"abc\\\"@c.test>"), 0, ADDR_BAD, NULL, NULL, "quote", false, false, false},
    {S("<a\"b\"@c.test>"), 0, ADDR_BAD, NULL, NULL, "quote", false, false, false},
    {S("<\"a\"b@c.test>"), 0, ADDR_BAD, NULL, NULL, "after quoted local part", false, false, false},
    {S("<\"a\"\"b\"@c.test>"), 0, ADDR_BAD, NULL, NULL, "quote", false, false, false},
    {S("<\"a\"@c.test\">"), 0, ADDR_BAD, NULL, NULL, "domain", false, false, false},
    {S("<\"a\tb\"@c.test>"), 0, ADDR_BAD, NULL, NULL, "control", false, false, false},
    {S("<\"a\\\xc3\xb6\"@c.test>"), 0, ADDR_BAD, NULL, NULL, "quoted-pair", false, false, false},
    /* address literals */
    {S("<x@[192.0.2.1]>"), 0, ADDR_OK, "x", "[192.0.2.1]", NULL, false, true, false},
    {S("<x@[IPv6:2001:db8::1]>"), 0, ADDR_OK, "x", "[IPv6:2001:db8::1]", NULL, false, true, false},
    {S("<x@[ipv6:2001:DB8::1]>"), 0, ADDR_OK, "x", "[IPv6:2001:db8::1]", NULL, false, true, false},
    {S("<x@[IPv6:::ffff:192.0.2.1]>"), 0, ADDR_OK, "x", "[IPv6:::ffff:192.0.2.1]", NULL, false,
     true, false},
    {S("<x@[192.0.2.256]>"), 0, ADDR_BAD, NULL, NULL, "IPv4", false, false, false},
    {S("<x@[192.0.2]>"), 0, ADDR_BAD, NULL, NULL, "IPv4", false, false, false},
    {S("<x@[2001:db8::1]>"), 0, ADDR_BAD, NULL, NULL, "tag", false, false, false},
    {S("<x@[IPv6:2001:db8::g]>"), 0, ADDR_BAD, NULL, NULL, "IPv6", false, false, false},
    {S("<x@[IPv6:192.0.2.1]>"), 0, ADDR_BAD, NULL, NULL, "IPv6", false, false, false},
    {S("<x@[X-foo:bar]>"), 0, ADDR_BAD, NULL, NULL, "tag", false, false, false},
    {S("<x@[192.0.2.1>"), 0, ADDR_BAD, NULL, NULL, "literal", false, false, false},
    {S("<x@[192.0.2.1]]>"), 0, ADDR_BAD, NULL, NULL, "literal", false, false, false},
    {S("<x@[]>"), 0, ADDR_BAD, NULL, NULL, "literal", false, false, false},
    {S("<x@[ 192.0.2.1]>"), 0, ADDR_BAD, NULL, NULL, "IPv4", false, false, false},
    {S("<x@[192.0.2.1].test>"), 0, ADDR_BAD, NULL, NULL, "literal", false, false, false},
};

/* printable - a printable copy of a test input for messages */
static const char *printable(const char *s, size_t n, char *buf, size_t size)
{
	return pm_escape(buf, size, s, n);
}

/* test_parse_table - every row of parse_cases */
static void test_parse_table(void **state)
{
	size_t i, failed = 0;

	(void)state;
	for (i = 0; i < PM_ARRAY_LEN(parse_cases); i++) {
		const struct parse_case *c = &parse_cases[i];
		struct pm_addr a;
		const char *why = NULL;
		char in[256];
		enum addr_status st;
		bool bad = false;

		printable(c->in, c->len, in, sizeof(in));
		st = addr_parse(c->in, c->len, c->flags, &a, &why);
		if (st != c->want) {
			print_error("case %zu (%s): got status %d (why \"%s\"), want %d\n", i, in,
			            st, why ? why : "(null)", c->want);
			failed++;
			continue;
		}
		if (st == ADDR_BAD) {
			if (why == NULL || why[0] == '\0')
				bad = true;
			else if (c->why && strstr(why, c->why) == NULL)
				bad = true;
			for (const char *p = why ? why : ""; *p; p++)
				if (*p < 0x20 || *p > 0x7e)
					bad = true;
			if (bad)
				print_error("case %zu (%s): got why \"%s\", want one with \"%s\"\n",
				            i, in, why ? why : "(null)", c->why ? c->why : "");
		}
		if (st == ADDR_OK || st == ADDR_LOCAL_ONLY || st == ADDR_NULL) {
			if (strcmp(a.local, c->local) != 0) {
				print_error("case %zu (%s): got local \"%s\", want \"%s\"\n", i, in,
				            a.local, c->local);
				bad = true;
			}
			if (strcmp(a.domain, st == ADDR_OK ? c->domain : "") != 0) {
				print_error("case %zu (%s): got domain \"%s\", want \"%s\"\n", i,
				            in, a.domain, c->domain);
				bad = true;
			}
			if (a.domain_is_literal != c->literal || a.local_quoted != c->quoted) {
				print_error("case %zu (%s): got literal=%d quoted=%d, want %d %d\n",
				            i, in, a.domain_is_literal, a.local_quoted, c->literal,
				            c->quoted);
				bad = true;
			}
		}
		if (st == ADDR_OK && a.had_source_route != c->route) {
			print_error("case %zu (%s): got had_source_route=%d, want %d\n", i, in,
			            a.had_source_route, c->route);
			bad = true;
		}
		if (bad)
			failed++;
	}
	if (failed)
		fail_msg("%zu of %zu cases failed", failed, PM_ARRAY_LEN(parse_cases));
}

/* run_long - parse a generated address; returns status, why in *why */
static enum addr_status run_long(size_t llen, size_t dlen, const char *label, const char **why,
                                 struct pm_addr *a)
{
	char buf[4096];
	size_t o = 0;

	buf[o++] = '<';
	memset(buf + o, 'a', llen);
	o += llen;
	buf[o++] = '@';
	while (o < 1 + llen + 1 + dlen) {
		size_t k = strlen(label);

		memcpy(buf + o, label, k);
		o += k;
	}
	o = 1 + llen + 1 + dlen;
	buf[o - 4] = '.'; /* end with ".org" so the last label is not all digits */
	memcpy(buf + o - 3, "org", 3);
	buf[o++] = '>';
	return addr_parse(buf, o, 0, a, why);
}

/* test_lengths - local and domain limits, the 1000-byte local part */
static void test_lengths(void **state)
{
	static const struct {
		size_t llen, dlen;
		const char *label; /* repeated to fill the domain */
		enum addr_status want;
		const char *why;
	} cases[] = {
	    {1000, 8, "x", ADDR_BAD, "local part too long"},
	    {256, 8, "x", ADDR_BAD, "local part too long"},
	    {255, 8, "x", ADDR_OK, NULL},
	    {64, 8, "x", ADDR_OK, NULL},
	    {3, 253, "abcdefghi.", ADDR_OK, NULL},
	    {3, 254, "abcdefghi.", ADDR_BAD, "domain too long"},
	    {3, 1000, "abcdefghi.", ADDR_BAD, "domain too long"},
	    {3, 67, "x", ADDR_OK, NULL},  /* label of 63 + ".org" */
	    {3, 68, "x", ADDR_BAD, "63"}, /* label of 64 */
	};
	size_t i, failed = 0;

	(void)state;
	for (i = 0; i < PM_ARRAY_LEN(cases); i++) {
		struct pm_addr a;
		const char *why = NULL;
		enum addr_status st =
		    run_long(cases[i].llen, cases[i].dlen, cases[i].label, &why, &a);

		if (st != cases[i].want ||
		    (cases[i].why && (why == NULL || strstr(why, cases[i].why) == NULL))) {
			print_error(
			    "case %zu (local %zu, domain %zu): got %d \"%s\", want %d \"%s\"\n", i,
			    cases[i].llen, cases[i].dlen, st, why ? why : "(null)", cases[i].want,
			    cases[i].why ? cases[i].why : "");
			failed++;
		} else if (st == ADDR_OK && (strlen(a.local) != cases[i].llen ||
		                             strlen(a.domain) != cases[i].dlen)) {
			print_error("case %zu: got lengths %zu %zu, want %zu %zu\n", i,
			            strlen(a.local), strlen(a.domain), cases[i].llen,
			            cases[i].dlen);
			failed++;
		}
	}
	if (failed)
		fail_msg("%zu length cases failed", failed);
}

/* test_exact_length - the parser reads len bytes, not up to a NUL, and never past them */
static void test_exact_length(void **state)
{
	struct pm_addr a;
	const char *why;
	const char *raw = "<x@c.test>junk";
	char *heap;

	(void)state;
	assert_int_equal(addr_parse(raw, 10, 0, &a, &why), ADDR_OK);
	assert_string_equal(a.domain, "c.test");
	/* exactly sized heap copy without a terminator: ASan catches an over-read */
	heap = xmalloc(10);
	memcpy(heap, raw, 10);
	assert_int_equal(addr_parse(heap, 10, 0, &a, &why), ADDR_OK);
	assert_int_equal(addr_parse(heap, 9, 0, &a, &why), ADDR_BAD);
	assert_int_equal(addr_parse(heap + 1, 8, 0, &a, &why), ADDR_OK);
	free(heap);
	assert_int_equal(addr_parse(NULL, 0, 0, &a, &why), ADDR_BAD);
	assert_int_equal(addr_parse("<x@c.test>", 10, 0, &a, NULL), ADDR_OK);
}

/* test_format - addr_format quoting, and that its output parses back to the same address */
static void test_format(void **state)
{
	static const struct {
		const char *in;
		int flags;
		const char *want;
	} cases[] = {
	    {"<User@Example.ORG>", 0, "User@example.org"},
	    {"<@a.test:x@c.test>", 0, "x@c.test"},
	    {"<\"john doe\"@c.test>", 0, "\"john doe\"@c.test"},
	    {"<\"user\"@c.test>", 0, "user@c.test"},
	    {"<\"a\\\"b\\\\c\"@c.test>", 0, "\"a\\\"b\\\\c\"@c.test"},
	    {"<\"a..b\"@c.test>", 0, "\"a..b\"@c.test"},
	    {"<\".a\"@c.test>", 0, "\".a\"@c.test"},
	    {"<\"a@b\"@c.test>", 0, "\"a@b\"@c.test"},
	    {"<j\xc3\xb6rg@c.test>", 0, "j\xc3\xb6rg@c.test"},
	    {"<x@[IPv6:2001:DB8::1]>", 0, "x@[IPv6:2001:db8::1]"},
	    {"<postmaster>", ADDR_ALLOW_LOCAL_ONLY, "postmaster"},
	    {"<>", ADDR_ALLOW_NULL, ""},
	};
	size_t i, failed = 0;

	(void)state;
	for (i = 0; i < PM_ARRAY_LEN(cases); i++) {
		struct pm_addr a, b;
		const char *why;
		char buf[1024];

		if (addr_parse(cases[i].in, strlen(cases[i].in), cases[i].flags, &a, &why) ==
		    ADDR_BAD) {
			print_error("case %zu (%s): parse failed: %s\n", i, cases[i].in, why);
			failed++;
			continue;
		}
		addr_format(&a, buf, sizeof(buf));
		if (strcmp(buf, cases[i].want) != 0) {
			print_error("case %zu (%s): got \"%s\", want \"%s\"\n", i, cases[i].in, buf,
			            cases[i].want);
			failed++;
			continue;
		}
		if (buf[0] && addr_parse(buf, strlen(buf), cases[i].flags, &b, &why) != ADDR_BAD &&
		    (strcmp(a.local, b.local) != 0 || strcmp(a.domain, b.domain) != 0)) {
			print_error("case %zu: round trip of \"%s\" gave %s@%s\n", i, buf, b.local,
			            b.domain);
			failed++;
		}
	}
	/* a small buffer is cut, never overrun */
	{
		struct pm_addr a;
		const char *why;
		char small[6];

		addr_parse(S("<abcdef@c.test>"), 0, &a, &why);
		addr_format(&a, small, sizeof(small));
		if (strcmp(small, "abcde") != 0) {
			print_error("small buffer: got \"%s\", want \"abcde\"\n", small);
			failed++;
		}
	}
	if (failed)
		fail_msg("%zu format cases failed", failed);
}

/* test_domain_valid - addr_domain_valid on its own */
static void test_domain_valid(void **state)
{
	static const struct {
		const char *d;
		bool want;
	} cases[] = {
	    {"example.org", true},
	    {"EXAMPLE.org", true},
	    {"a", true},
	    {"localhost", true},
	    {"x-1.test", true},
	    {"1.2.3.example", true},
	    {"", false},
	    {".", false},
	    {"example.org.", false},
	    {".example.org", false},
	    {"a..b", false},
	    {"-a.test", false},
	    {"a-.test", false},
	    {"a_b.test", false},
	    {"a b.test", false},
	    {"192.0.2.1", false},
	    {"[192.0.2.1]", false},
	    {"ex\xc3\xa9.test", false},
	    {"a.test/evil", false},
	    {"a.test:25", false},
	};
	char big[300];
	size_t i, failed = 0;

	(void)state;
	for (i = 0; i < PM_ARRAY_LEN(cases); i++) {
		bool got = addr_domain_valid(cases[i].d, strlen(cases[i].d));

		if (got != cases[i].want) {
			print_error("case %zu (%s): got %d, want %d\n", i, cases[i].d, got,
			            cases[i].want);
			failed++;
		}
	}
	if (addr_domain_valid(NULL, 0)) {
		print_error("NULL: got valid, want invalid\n");
		failed++;
	}
	if (addr_domain_valid("a.test\0x", 8)) {
		print_error("embedded NUL: got valid, want invalid\n");
		failed++;
	}
	memset(big, 'a', sizeof(big));
	if (!addr_domain_valid(big, 63) || addr_domain_valid(big, 64)) {
		print_error("63/64-byte label: got %d %d, want 1 0\n", addr_domain_valid(big, 63),
		            addr_domain_valid(big, 64));
		failed++;
	}
	if (failed)
		fail_msg("%zu domain cases failed", failed);
}

/* test_random - many generated inputs: no crash, and every accepted one formats and parses back */
static void test_random(void **state)
{
	static const char alphabet[] = "<>@.:,\"\\[]()' \t\r\n\0aZ9-+_IPv6\x80\xc3\xb6\xff";
	unsigned long seed = 12345;
	size_t i, failed = 0;

	(void)state;
	for (i = 0; i < 200000; i++) {
		char in[40], out[1024];
		size_t n, k;
		struct pm_addr a, b;
		const char *why;
		enum addr_status st;

		seed = seed * 6364136223846793005UL + 1442695040888963407UL;
		n = (seed >> 33) % sizeof(in);
		for (k = 0; k < n; k++) {
			seed = seed * 6364136223846793005UL + 1442695040888963407UL;
			in[k] = alphabet[(seed >> 33) % (sizeof(alphabet) - 1)];
		}
		st = addr_parse(in, n, ADDR_ALLOW_NULL | ADDR_ALLOW_LOCAL_ONLY, &a, &why);
		if (st == ADDR_BAD)
			continue;
		addr_format(&a, out, sizeof(out));
		if (st == ADDR_OK &&
		    (addr_parse(out, strlen(out), 0, &b, &why) != ADDR_OK ||
		     strcmp(a.local, b.local) != 0 || strcmp(a.domain, b.domain) != 0)) {
			char esc[200];

			print_error("input %s: formatted \"%s\" does not parse back\n",
			            pm_escape(esc, sizeof(esc), in, n), out);
			failed++;
		}
	}
	if (failed)
		fail_msg("%zu generated inputs failed", failed);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_parse_table),  cmocka_unit_test(test_lengths),
	    cmocka_unit_test(test_exact_length), cmocka_unit_test(test_format),
	    cmocka_unit_test(test_domain_valid), cmocka_unit_test(test_random),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
