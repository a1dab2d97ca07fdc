/*
 * NAME
 *	test_spfrecord - unit tests for spfrecord.c (the RFC 7208 record parser)
 * DESCRIPTION
 *	Tables of records, good and bad, by the rules of RFC 7208 section 12:
 *	the version and the spaces between terms, qualifiers, each mechanism
 *	and its arguments, CIDR lengths (/0 valid, leading zeros and values
 *	past 32 or 128 refused, dual CIDR), domain-specs (top label, empty
 *	domain, trailing dot), modifiers (redirect= with all ignored,
 *	redirect: refused, twice or empty refused, unknown modifier names),
 *	macro syntax, NUL, control and non-ASCII bytes. A bad record must
 *	give the reason wanted (a substring of it). Then record selection,
 *	the compiled terms, macro expansion with transformers, delimiters and
 *	URL escaping, and the cutting of long names.
 * DIAGNOSTICS
 *	cmocka; each failure prints "got X, want Y".
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "spfrecord.h"
#include "util.h"

/* One record and the reason wanted (NULL: it parses). */
struct record_case {
	const char *rec;
	size_t len; /* 0: strlen(rec) */
	const char *want_err;
};

static const struct record_case record_cases[] = {
    /* version and spaces */
    {"v=spf1", 0, NULL},
    {"V=SpF1 -ALL", 0, NULL},
    {"v=spf1 ", 0, NULL},
    {"v=spf1  a   -all  ", 0, NULL},
    {"v=spf10", 0, "not a v=spf1 record"},
    {"v=spf1-all", 0, "not a v=spf1 record"},
    {"spf1 -all", 0, "not a v=spf1 record"},
    {"v=spf1 a\t-all", 0, "control character 0x09"},
    {"v=spf1 a:ctrl.example.com\rptr -all", 0, "control character 0x0d"},
    {"v=spf1 ip4:192.0.2.5\n include:x.example.com ~all", 0, "control character 0x0a"},
    {"v=spf1 a:foo.example.com\0", 25, "NUL byte in the record (offset 24)"},
    {"v=spf1 \x80"
     "a:example.net -all",
     0, "non-ASCII byte 0x80"},
    {"v=spf1 a:\xef\xbb\xbfgarbage.example.net -all", 0, "non-ASCII byte 0xef"},
    {"v=spf1 a:example.net \x96"
     "all",
     0, "non-ASCII byte 0x96"},
    {"v=spf1 a:example.net -all\x7f", 0, "control character 0x7f"},
    /* qualifiers */
    {"v=spf1 +all", 0, NULL},
    {"v=spf1 -all", 0, NULL},
    {"v=spf1 ~all", 0, NULL},
    {"v=spf1 ?all", 0, NULL},
    {"v=spf1 !all", 0, "unknown mechanism \"!all\""},
    {"v=spf1 --all", 0, "unknown mechanism \"-all\""},
    {"v=spf1 -", 0, "has no mechanism name"},
    /* all */
    {"v=spf1 all -all", 0, NULL},
    {"v=spf1 -all.", 0, "unknown mechanism \"all.\""},
    {"v=spf1 -all:foobar", 0, "all takes no argument"},
    {"v=spf1 -all/8", 0, "all takes no argument"},
    /* unknown mechanisms */
    {"v=spf1 frobnicate -all", 0, "unknown mechanism \"frobnicate\""},
    {"v=spf1 ip4:1.2.3.4 -all moo", 0, "unknown mechanism \"moo\""},
    {"v=spf1 moo.cow/far_out=man:dog/cat ip4:1.2.3.4 -all", 0, "unknown mechanism \"moo.cow\""},
    {"v=spf1 moo.cow:far_out=man:dog/cat -all", 0, "unknown mechanism \"moo.cow\""},
    {"v=spf1 redirect:t2.example.com", 0, "unknown mechanism \"redirect\""},
    {"v=spf1 1up=foo", 0, "unknown mechanism \"1up=foo\""},
    {"v=spf1 =all", 0, "unknown mechanism \"=all\""},
    /* include and exists */
    {"v=spf1 include:_spf.example.com -all", 0, NULL},
    {"v=spf1 include:o.spf.example.com. ~all", 0, NULL},
    {"v=spf1 include", 0, "include needs \":domain\""},
    {"v=spf1 include: -all", 0, "include: empty domain-spec"},
    {"v=spf1 include:ip5.example.com/24 -all", 0, "include: domain-spec"},
    {"v=spf1 exists:%{ir}.sbl.example.com", 0, NULL},
    {"v=spf1 exists", 0, "exists needs \":domain\""},
    {"v=spf1 exists:", 0, "exists: empty domain-spec"},
    {"v=spf1 exists:mail.example.com/24", 0, "has an invalid top label"},
    /* a and mx: domain-spec and dual CIDR */
    {"v=spf1 a", 0, NULL},
    {"v=spf1 a/0 -all", 0, NULL},
    {"v=spf1 a//0 -all", 0, NULL},
    {"v=spf1 a/24//64 -all", 0, NULL},
    {"v=spf1 a//64", 0, NULL},
    {"v=spf1 a/32//128", 0, NULL},
    {"v=spf1 a:foo.example.com/24", 0, NULL},
    {"v=spf1 a:foo:bar/baz.example.com", 0, NULL},
    {"v=spf1 a:foo.example.xn--zckzah -all", 0, NULL},
    {"v=spf1 a:museum.example.", 0, NULL},
    {"v=spf1 a/33 -all", 0, "a: invalid IPv4 CIDR length /33"},
    {"v=spf1 a//129 -all", 0, "a: invalid IPv6 CIDR length"},
    {"v=spf1 a/032", 0, "a: invalid IPv4 CIDR length /032"},
    {"v=spf1 a//0128", 0, "a: invalid IPv6 CIDR length"},
    {"v=spf1 a/24/64 -all", 0, "a: invalid IPv4 CIDR length /64"},
    {"v=spf1 a/ -all", 0, "a: malformed CIDR length \"/\""},
    {"v=spf1 a:", 0, "a: empty domain-spec"},
    {"v=spf1 a:example.com:8080", 0, "has an invalid top label"},
    {"v=spf1 a:foo-bar -all", 0, "has no top label"},
    {"v=spf1 a:museum", 0, "has no top label"},
    {"v=spf1 a:museum.", 0, "has no top label"},
    {"v=spf1 a:111.222.33.44", 0, "has an invalid top label"},
    {"v=spf1 a:abc.123", 0, "has an invalid top label"},
    {"v=spf1 a:example.-com", 0, "has an invalid top label"},
    {"v=spf1 a:example.com-", 0, "has an invalid top label"},
    {"v=spf1 a:mail.example...com -all", 0, NULL}, /* empty labels: grammar allows */
    {"v=spf1 mx", 0, NULL},
    {"v=spf1 mx/0 -all", 0, NULL},
    {"v=spf1 mx//0 -all", 0, NULL},
    {"v=spf1 mx:foo.example.com/24", 0, NULL},
    {"v=spf1 mx/33 -all", 0, "mx: invalid IPv4 CIDR length /33"},
    {"v=spf1 mx//129 -all", 0, "mx: invalid IPv6 CIDR length"},
    {"v=spf1 mx: -all", 0, "mx: empty domain-spec"},
    {"v=spf1 mx:abc.123", 0, "has an invalid top label"},
    /* ptr */
    {"v=spf1 ptr -all", 0, NULL},
    {"v=spf1 ptr:example.com -all", 0, NULL},
    {"v=spf1 ptr/0 -all", 0, "ptr takes no CIDR length"},
    {"v=spf1 ptr:", 0, "ptr: empty domain-spec"},
    /* ip4 */
    {"v=spf1 ip4:1.1.1.1/0 -all", 0, NULL},
    {"v=spf1 ip4:1.2.3.4/32 -all", 0, NULL},
    {"v=spf1 ip4:192.0.2.0/24", 0, NULL},
    {"v=spf1 ip4:1.2.3.4/33 -all", 0, "ip4: invalid CIDR length \"/33\""},
    {"v=spf1 ip4:1.2.3.4/032 -all", 0, "ip4: invalid CIDR length \"/032\""},
    {"v=spf1 ip4:1.2.3.4//32", 0, "ip4: invalid CIDR length \"//32\""},
    {"v=spf1 ip4", 0, "ip4 needs \":address\""},
    {"v=spf1 ip4:", 0, "ip4 needs \":address\""},
    {"v=spf1 ip4:1.2.3.4:8080", 0, "ip4: invalid address \"1.2.3.4:8080\""},
    {"v=spf1 ip4:1.2.3", 0, "ip4: invalid address \"1.2.3\""},
    {"v=spf1 ip4:300.1.1.1", 0, "ip4: invalid address"},
    {"v=spf1 ip4:01.2.3.4", 0, "ip4: invalid address"},
    {"v=spf1 ip4:1.2.3.4/", 0, "ip4: invalid CIDR length"},
    /* ip6 */
    {"v=spf1 ip6:::1.1.1.1/0", 0, NULL},
    {"v=spf1 ip6:Cafe:Babe:8000::/33", 0, NULL},
    {"v=spf1 ip6:2001:db8::/128", 0, NULL},
    {"v=spf1 ip6:::FFFF:1.2.3.4", 0, NULL},
    {"v=spf1 -all ip6", 0, "ip6 needs \":address\""},
    {"v=spf1 ip6:::1.1.1.1/129", 0, "ip6: invalid CIDR length \"/129\""},
    {"v=spf1 ip6:::1.1.1.1//33", 0, "ip6: invalid CIDR length \"//33\""},
    {"v=spf1 ip6:2001:db8::/064", 0, "ip6: invalid CIDR length"},
    {"v=spf1 ip6::CAFE::BABE", 0, "ip6: invalid address \":CAFE::BABE\""},
    {"v=spf1 ip6:1.2.3.4", 0, "ip6: invalid address"},
    /* modifiers */
    {"v=spf1 redirect=_spf.example.com", 0, NULL},
    {"v=spf1 REDIRECT=_spf.example.com", 0, NULL},
    {"v=spf1 exp=explain.example.com -all", 0, NULL},
    {"v=spf1 moo.cow-far_out=man:dog/cat ip4:1.2.3.4 -all", 0, NULL},
    {"v=spf1 default=pass", 0, NULL},
    {"v=spf1 default=+", 0, NULL},
    {"v=spf1 x-y_z.w=", 0, NULL},
    {"v=spf1 foo=%{l}%%%_%-", 0, NULL},
    {"v=spf1 redirect=e12.example.com -all redirect=e12.example.com", 0, "redirect= given twice"},
    {"v=spf1 exp=a.example.com -all exp=b.example.com", 0, "exp= given twice"},
    {"v=spf1 ?all redirect=", 0, "redirect=: empty domain-spec"},
    {"v=spf1 exp= -all", 0, "exp=: empty domain-spec"},
    {"v=spf1 exp=-all", 0, "exp=: domain-spec \"-all\" has no top label"},
    {"v=spf1 redirect=-all ?all", 0, "redirect=: domain-spec \"-all\" has no top label"},
    {"v=spf1 -all exp=%{r}.example.com", 0, "exp=: invalid macro letter 'r'"},
    {"v=spf1 -all foo=%abc", 0, "modifier foo: '%' followed by 'a'"},
    {"v=spf1 -all foo=a\x01", 0, "control character 0x01"},
    /* macros */
    {"v=spf1 exists:%{i}.%{l2r-}.user.%{d2}", 0, NULL},
    {"v=spf1 exists:%{l2r+-}.user.%{d2}", 0, NULL},
    {"v=spf1 exists:%{S}.%{L}.%{O}.%{D}.%{I}.%{P}.%{V}.%{H}", 0, NULL},
    {"v=spf1 exists:%{ir.-+,/_=}.x.example.com", 0, NULL},
    {"v=spf1 exists:%{d}", 0, NULL},
    {"v=spf1 exists:x.%%", 0, NULL},
    {"v=spf1 a:macro%%percent%_%_space%-url-space.example.com -all", 0, NULL},
    {"v=spf1 -exists:%(ir).sbl.example.com ?all", 0, "'%' followed by '('"},
    {"v=spf1 exists:foo%(ir).sbl.example.com ?all", 0, "'%' followed by '('"},
    {"v=spf1 exists:foo%.sbl.example.com ?all", 0, "'%' followed by '.'"},
    {"v=spf1 exists:foo.example.com%", 0, "lone '%' at the end"},
    {"v=spf1 a:%{a}.example.com -all", 0, "invalid macro letter 'a'"},
    {"v=spf1 a:%{c}.example.com", 0, "invalid macro letter 'c'"},
    {"v=spf1 a:%{t}.example.com", 0, "invalid macro letter 't'"},
    {"v=spf1 a:%{d0}.example.com", 0, "macro transformer 0"},
    {"v=spf1 a:%{d2x}.example.com", 0, "malformed macro"},
    {"v=spf1 a:%{d.example.com", 0, "malformed macro"},
    {"v=spf1 a:%{}.example.com", 0, "invalid macro letter"},
    {"v=spf1 a:%{d}com", 0, "has no top label"},
};

/* test_parse - every grammar case: parses, or fails with the reason wanted */
static void test_parse(void **state)
{
	(void)state;
	for (size_t i = 0; i < PM_ARRAY_LEN(record_cases); i++) {
		const struct record_case *c = &record_cases[i];
		size_t len = c->len ? c->len : strlen(c->rec);
		struct spf_record rec;
		char err[SPF_ERR_SIZE] = "";
		char shown[200];
		bool ok = spf_record_parse(c->rec, len, &rec, err);

		pm_escape(shown, sizeof(shown), c->rec, len);
		if (c->want_err == NULL && !ok)
			fail_msg("\"%s\": got error \"%s\", want it parsed", shown, err);
		if (c->want_err != NULL && ok)
			fail_msg("\"%s\": got it parsed, want error \"%s\"", shown, c->want_err);
		if (c->want_err != NULL && strstr(err, c->want_err) == NULL)
			fail_msg("\"%s\": got error \"%s\", want \"%s\"", shown, err, c->want_err);
		if (ok)
			spf_record_free(&rec);
		else if (rec.nterms != 0 || rec.terms != NULL || rec.redirect || rec.exp)
			fail_msg("\"%s\": a refused record must come back empty", shown);
	}
}

/* test_compiled - what the terms hold: mechanisms, qualifiers, domains, CIDR, redirect */
static void test_compiled(void **state)
{
	struct spf_record rec;
	char err[SPF_ERR_SIZE];
	static const char r1[] = "v=spf1 a/24//64 -mx:m.example.com//0 ~ip4:192.0.2.0/0 "
	                         "?ip6:2001:db8::/32 ptr include:i.example.com exists:%{i}.x.test "
	                         "redirect=r.example.com exp=e.example.com";
	static const unsigned char v6[16] = {0x20, 0x01, 0x0d, 0xb8};

	(void)state;
	if (!spf_record_parse(r1, strlen(r1), &rec, err))
		fail_msg("r1: got error \"%s\"", err);
	assert_int_equal(rec.nterms, 7);
	assert_int_equal(rec.terms[0].mech, SPF_MECH_A);
	assert_int_equal(rec.terms[0].qualifier, '+');
	assert_null(rec.terms[0].domain);
	assert_int_equal(rec.terms[0].cidr4, 24);
	assert_int_equal(rec.terms[0].cidr6, 64);
	assert_int_equal(rec.terms[1].mech, SPF_MECH_MX);
	assert_int_equal(rec.terms[1].qualifier, '-');
	assert_string_equal(rec.terms[1].domain, "m.example.com");
	assert_int_equal(rec.terms[1].cidr4, 32);
	assert_int_equal(rec.terms[1].cidr6, 0);
	assert_int_equal(rec.terms[2].mech, SPF_MECH_IP4);
	assert_int_equal(rec.terms[2].qualifier, '~');
	assert_int_equal(rec.terms[2].cidr4, 0);
	assert_memory_equal(rec.terms[2].addr, "\xc0\x00\x02\x00", 4);
	assert_int_equal(rec.terms[3].mech, SPF_MECH_IP6);
	assert_int_equal(rec.terms[3].qualifier, '?');
	assert_int_equal(rec.terms[3].cidr6, 32);
	assert_memory_equal(rec.terms[3].addr, v6, 16);
	assert_int_equal(rec.terms[4].mech, SPF_MECH_PTR);
	assert_int_equal(rec.terms[5].mech, SPF_MECH_INCLUDE);
	assert_string_equal(rec.terms[5].domain, "i.example.com");
	assert_int_equal(rec.terms[6].mech, SPF_MECH_EXISTS);
	assert_string_equal(rec.terms[6].domain, "%{i}.x.test");
	assert_string_equal(rec.redirect, "r.example.com");
	assert_string_equal(rec.exp, "e.example.com");
	spf_record_free(&rec);

	/* RFC 7208 6.1: redirect= is ignored when the record has "all" anywhere */
	if (!spf_record_parse("v=spf1 redirect=t5.example.com ~all", 35, &rec, err))
		fail_msg("redirect+all: got error \"%s\"", err);
	if (rec.redirect != NULL)
		fail_msg("redirect+all: got redirect \"%s\", want it dropped", rec.redirect);
	assert_int_equal(rec.nterms, 1);
	spf_record_free(&rec);
}

/* test_select - which TXT strings are SPF records (RFC 7208 4.5) */
static void test_select(void **state)
{
	static const struct {
		const char *txt;
		bool want;
	} cases[] = {
	    {"v=spf1", true},        {"v=spf1 -all", true}, {"V=SPF1 mx", true},
	    {"v=spf10", false},      {"v=spf1mx", false},   {"v=spf", false},
	    {" v=spf1 -all", false}, {"spf1", false},       {"", false},
	    {"v=spf1\t-all", false},
	};

	(void)state;
	for (size_t i = 0; i < PM_ARRAY_LEN(cases); i++) {
		bool got = spf_record_is_spf(cases[i].txt, strlen(cases[i].txt));
		if (got != cases[i].want)
			fail_msg("\"%s\": got %d, want %d", cases[i].txt, got, cases[i].want);
	}
}

/* fixed_ptr - %{p} for the tests */
static bool fixed_ptr(void *arg, const char *domain, struct strbuf *out)
{
	(void)domain;
	if (arg != NULL)
		return false; /* the evaluation stopped */
	sb_append(out, "mx.example.org");
	return true;
}

/* test_expand - RFC 7208 7.4's examples and the suite's macro cases */
static void test_expand(void **state)
{
	static const struct spf_macro_ctx ctx4 = {
	    .sender = "strong-bad@email.example.com",
	    .local = "strong-bad",
	    .origin = "email.example.com",
	    .domain = "email.example.com",
	    .ip = "192.0.2.3",
	    .ipver = "in-addr",
	    .helo = "mx.example.org",
	    .ptr = fixed_ptr,
	};
	static const struct {
		const char *spec, *want;
	} cases[] = {
	    {"%{s}", "strong-bad@email.example.com"},
	    {"%{o}", "email.example.com"},
	    {"%{d}", "email.example.com"},
	    {"%{d4}", "email.example.com"},
	    {"%{d3}", "email.example.com"},
	    {"%{d2}", "example.com"},
	    {"%{d1}", "com"},
	    {"%{dr}", "com.example.email"},
	    {"%{d2r}", "example.email"},
	    {"%{l}", "strong-bad"},
	    {"%{l-}", "strong.bad"},
	    {"%{lr}", "strong-bad"},
	    {"%{lr-}", "bad.strong"},
	    {"%{l1r-}", "strong"},
	    {"%{ir}.%{v}._spf.%{d2}", "3.2.0.192.in-addr._spf.example.com"},
	    {"%{lr-}.lp._spf.%{d2}", "bad.strong.lp._spf.example.com"},
	    {"%{lr-}.lp.%{ir}.%{v}._spf.%{d2}", "bad.strong.lp.3.2.0.192.in-addr._spf.example.com"},
	    {"%{ir}.%{v}.%{l1r-}.lp._spf.%{d2}", "3.2.0.192.in-addr.strong.lp._spf.example.com"},
	    {"%{d2}.trusted-domains.example.net", "example.com.trusted-domains.example.net"},
	    {"%{p}.x.test", "mx.example.org.x.test"},
	    {"%{h}", "mx.example.org"},
	    {"%%%_%-", "% %20"},
	    {"macro%%percent%_%_space%-url-space.example.com",
	     "macro%percent  space%20url-space.example.com"},
	    {"%{S}", "strong-bad%40email.example.com"},
	    {"%{l+-}", "strong.bad"},
	    {"%{d9}", "email.example.com"},
	};
	static const struct spf_macro_ctx ctx6 = {
	    .sender = "~jack&jill=up-a_b3.c@e8.example.com",
	    .local = "~jack&jill=up-a_b3.c",
	    .origin = "e8.example.com",
	    .domain = "e8.example.com",
	    .ip = "2.0.0.1.0.d.b.8.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.1",
	    .ipver = "ip6",
	    .helo = "unknown",
	};
	struct strbuf sb;
	struct spf_macro_ctx stopping = ctx4;

	(void)state;
	for (size_t i = 0; i < PM_ARRAY_LEN(cases); i++) {
		char err[SPF_ERR_SIZE];

		if (!spf_macro_string_ok(cases[i].spec, strlen(cases[i].spec), err))
			fail_msg("\"%s\": got error \"%s\"", cases[i].spec, err);
		sb_init(&sb);
		if (!spf_macro_expand(cases[i].spec, &ctx4, &sb))
			fail_msg("\"%s\": expansion stopped", cases[i].spec);
		if (strcmp(sb.s, cases[i].want) != 0)
			fail_msg("\"%s\": got \"%s\", want \"%s\"", cases[i].spec, sb.s,
			         cases[i].want);
		sb_free(&sb);
	}
	sb_init(&sb);
	spf_macro_expand("%{L}|%{ir}.%{v}|%{p}", &ctx6, &sb);
	assert_string_equal(sb.s, "~jack%26jill%3Dup-a_b3.c|1.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0."
	                          "0.0.0.0.0.8.b.d.0.1.0.0.2.ip6|unknown");
	sb_free(&sb);
	stopping.arg = &stopping;
	sb_init(&sb);
	if (spf_macro_expand("%{p}.x.test", &stopping, &sb))
		fail_msg("a %%{p} lookup that stopped: got the expansion \"%s\", want false", sb.s);
	sb_free(&sb);
}

/* test_target_name - trailing dot dropped, left labels cut to 253 bytes */
static void test_target_name(void **state)
{
	char buf[600];
	char label[64];

	(void)state;
	snprintf(buf, sizeof(buf), "example.com.");
	assert_string_equal(spf_target_name(buf), "example.com");
	memset(label, 'x', 60);
	label[60] = '\0';
	/* 5 labels of 60 + "example.com": 5 * 61 + 11 = 316 bytes */
	snprintf(buf, sizeof(buf), "%s.%s.%s.%s.%s.example.com", label, label, label, label, label);
	spf_target_name(buf);
	if (strlen(buf) > 253)
		fail_msg("got %zu bytes, want at most 253", strlen(buf));
	/* two labels go: 3 * 61 + 11 = 194 */
	assert_int_equal(strlen(buf), 194);
	if (strncmp(buf, label, 60) != 0 || strcmp(buf + strlen(buf) - 12, ".example.com") != 0)
		fail_msg("got \"%s\", want whole labels cut from the left", buf);
}

/* test_domain_spec - domain-end rules on their own */
static void test_domain_spec(void **state)
{
	static const struct {
		const char *spec;
		bool want;
	} cases[] = {
	    {"example.com", true},  {"example.com.", true},
	    {"%{d}", true},         {"x.%{d}", true},
	    {"%{d}.com", true},     {"a.b-c", true},
	    {"a.xn--zckzah", true}, {"a.1-2", true},
	    {"a.123", false},       {"a.-b", false},
	    {"a.b-", false},        {"com", false},
	    {"com.", false},        {"", false},
	    {"a.b/24", false},      {"a.b:80", false},
	    {"%{d}.", false},       {"a b.com", false},
	};

	(void)state;
	for (size_t i = 0; i < PM_ARRAY_LEN(cases); i++) {
		char err[SPF_ERR_SIZE] = "";
		bool got = spf_domain_spec_ok(cases[i].spec, strlen(cases[i].spec), err);

		if (got != cases[i].want)
			fail_msg("\"%s\": got %d (%s), want %d", cases[i].spec, got, err,
			         cases[i].want);
	}
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_parse),       cmocka_unit_test(test_compiled),
	    cmocka_unit_test(test_select),      cmocka_unit_test(test_expand),
	    cmocka_unit_test(test_target_name), cmocka_unit_test(test_domain_spec),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
