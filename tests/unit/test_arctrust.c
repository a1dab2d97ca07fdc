/*
 * NAME
 *	test_arctrust - unit tests for arctrust.c: the ARC-Authentication-Results
 *	parser and the rescue of a DMARC fail by the oldest trusted ARC sealer
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "arctrust.h"
#include "util.h"

/* A chain of up to 4 sets, for the cases. */
struct chain {
	enum pm_arc_result result;
	const char *d[4];   /* sealers, instance 1 first; NULL ends */
	const char *aar[4]; /* their AAR payloads */
};

/* build - an arc_result for c (set[] allocated; free with arc_result_free-like free) */
static void build(const struct chain *c, struct arc_result *r, struct arc_set *sets)
{
	memset(r, 0, sizeof(*r));
	r->result = c->result;
	r->set = sets;
	for (size_t i = 0; i < 4 && c->d[i] != NULL; i++) {
		memset(&sets[i], 0, sizeof(sets[i]));
		sets[i].instance = (unsigned)i + 1;
		snprintf(sets[i].domain, sizeof(sets[i].domain), "%s", c->d[i]);
		snprintf(sets[i].selector, sizeof(sets[i].selector), "s%zu", i + 1);
		snprintf(sets[i].algorithm, sizeof(sets[i].algorithm), "rsa-sha256");
		snprintf(sets[i].cv, sizeof(sets[i].cv), "%s", i == 0 ? "none" : "pass");
		sets[i].as_valid = true;
		sets[i].aar = (char *)c->aar[i];
		r->n++;
	}
}

/* org_test - relaxed alignment for the tests: the last two labels agree */
static bool org_test(void *arg, const char *a, const char *b)
{
	const char *oa = a + strlen(a), *ob = b + strlen(b);
	int dots;

	(void)arg;
	for (dots = 0; oa > a; oa--)
		if (oa[-1] == '.' && ++dots == 2)
			break;
	for (dots = 0; ob > b; ob--)
		if (ob[-1] == '.' && ++dots == 2)
			break;
	return strcasecmp(oa, ob) == 0;
}

static const struct {
	const char *name;
	struct chain chain;
	const char *trusted; /* space-separated */
	const char *author;
	bool adkim_strict, aspf_strict;
	bool want;
	unsigned want_instance; /* 0: none */
	const char *want_method;
} cases[] = {
    {"dmarc pass recorded by a trusted sealer",
     {PM_ARC_PASS,
      {"lists.example"},
      {"lists.example; dkim=pass header.d=author.example; dmarc=pass (p=reject) "
       "header.from=author.example"}},
     "lists.example",
     "author.example",
     false,
     false,
     true,
     1,
     "dmarc"},
    {"untrusted sealer claiming pass",
     {PM_ARC_PASS, {"evil.example"}, {"evil.example; dmarc=pass header.from=author.example"}},
     "lists.example",
     "author.example",
     false,
     false,
     false,
     0,
     NULL},
    {"no trusted sealers configured",
     {PM_ARC_PASS, {"lists.example"}, {"lists.example; dmarc=pass header.from=author.example"}},
     "",
     "author.example",
     false,
     false,
     false,
     0,
     NULL},
    {"dmarc=pass for another domain",
     {PM_ARC_PASS,
      {"lists.example"},
      {"lists.example; dmarc=pass header.from=other.example; dkim=pass "
       "header.d=other.example; spf=pass smtp.mailfrom=bounce@other.example"}},
     "lists.example",
     "author.example",
     false,
     false,
     false,
     1,
     NULL},
    {"subdomain of a trusted entry",
     {PM_ARC_PASS,
      {"mx.lists.example"},
      {"mx.lists.example; dmarc=pass header.from=Author.Example."}},
     "lists.example",
     "author.example",
     false,
     false,
     true,
     1,
     "dmarc"},
    {"a name ending like a trusted entry is not below it",
     {PM_ARC_PASS,
      {"badlists.example"},
      {"badlists.example; dmarc=pass header.from=author.example"}},
     "lists.example",
     "author.example",
     false,
     false,
     false,
     0,
     NULL},
    {"oldest trusted recorded fail, newer trusted recorded pass",
     {PM_ARC_PASS,
      {"lists.example", "relay.example"},
      {"lists.example; dkim=fail header.d=author.example; dmarc=fail "
       "header.from=author.example",
       "relay.example; dmarc=pass header.from=author.example"}},
     "lists.example relay.example",
     "author.example",
     false,
     false,
     false,
     1,
     NULL},
    {"oldest trusted sealer is not instance 1",
     {PM_ARC_PASS,
      {"first.example", "lists.example", "relay.example"},
      {"first.example; dmarc=fail header.from=author.example",
       "lists.example; spf=pass smtp.mailfrom=bounce@mail.author.example",
       "relay.example; dmarc=fail header.from=author.example"}},
     "relay.example lists.example",
     "author.example",
     false,
     false,
     true,
     2,
     "spf"},
    {"spf pass aligned relaxed",
     {PM_ARC_PASS,
      {"lists.example"},
      {"lists.example; spf=pass smtp.mailfrom=b@mail.author.example"}},
     "lists.example",
     "author.example",
     false,
     false,
     true,
     1,
     "spf"},
    {"spf pass not aligned under aspf=s",
     {PM_ARC_PASS,
      {"lists.example"},
      {"lists.example; spf=pass smtp.mailfrom=b@mail.author.example"}},
     "lists.example",
     "author.example",
     false,
     true,
     false,
     1,
     NULL},
    {"dkim pass header.d aligned relaxed",
     {PM_ARC_PASS, {"lists.example"}, {"lists.example; dkim=pass header.d=news.author.example"}},
     "lists.example",
     "author.example",
     false,
     false,
     true,
     1,
     "dkim"},
    {"dkim pass header.d not aligned under adkim=s",
     {PM_ARC_PASS, {"lists.example"}, {"lists.example; dkim=pass header.d=news.author.example"}},
     "lists.example",
     "author.example",
     true,
     false,
     false,
     1,
     NULL},
    {"dkim pass header.i",
     {PM_ARC_PASS, {"lists.example"}, {"lists.example; dkim=pass header.i=@author.example"}},
     "lists.example",
     "author.example",
     true,
     false,
     true,
     1,
     "dkim"},
    {"dkim fail is no rescue",
     {PM_ARC_PASS, {"lists.example"}, {"lists.example; dkim=fail header.d=author.example"}},
     "lists.example",
     "author.example",
     false,
     false,
     false,
     1,
     NULL},
    {"arc fail: no rescue",
     {PM_ARC_FAIL, {"lists.example"}, {"lists.example; dmarc=pass header.from=author.example"}},
     "lists.example",
     "author.example",
     false,
     false,
     false,
     0,
     NULL},
    {"arc temperror: no rescue",
     {PM_ARC_TEMPERROR,
      {"lists.example"},
      {"lists.example; dmarc=pass header.from=author.example"}},
     "lists.example",
     "author.example",
     false,
     false,
     false,
     0,
     NULL},
    {"comments and quoted strings everywhere",
     {PM_ARC_PASS,
      {"lists.example"},
      {"(c) \"lists.example\" (v) 1 (x); (y) dkim (m) = (r) pass (1024-bit key; \\) "
       "nested (deep)) reason=\"a; b=c\" header . d (p) = \"author.example\"; "
       "dmarc=fail header.from=other.example"}},
     "lists.example",
     "author.example",
     false,
     false,
     true,
     1,
     "dkim"},
    {"garbage resinfos are skipped, a good one still counts",
     {PM_ARC_PASS,
      {"lists.example"},
      {"lists.example; ===; dkim pass header.d=author.example; spf=pass "
       "smtp.mailfrom=\"unterminated; dmarc=pass header.from=author.example"}},
     "lists.example",
     "author.example",
     false,
     false,
     false,
     1,
     NULL},
    {"garbage then a valid dmarc pass",
     {PM_ARC_PASS,
      {"lists.example"},
      {"lists.example; ;;; dkim=; <> [x]; dmarc=pass header.from=author.example"}},
     "lists.example",
     "author.example",
     false,
     false,
     true,
     1,
     "dmarc"},
    {"dmarc pass hidden in a comment does not count",
     {PM_ARC_PASS,
      {"lists.example"},
      {"lists.example; dkim=fail (dmarc=pass header.from=author.example) "
       "header.d=author.example"}},
     "lists.example",
     "author.example",
     false,
     false,
     false,
     1,
     NULL},
    {"no AAR text",
     {PM_ARC_PASS, {"lists.example"}, {NULL}},
     "lists.example",
     "author.example",
     false,
     false,
     false,
     1,
     NULL},
    {"no result",
     {PM_ARC_PASS, {"lists.example"}, {"lists.example; none"}},
     "lists.example",
     "author.example",
     false,
     false,
     false,
     1,
     NULL},
    {"dmarc fail recorded beside an aligned dkim pass",
     {PM_ARC_PASS,
      {"lists.example"},
      {"lists.example; dkim=pass header.d=author.example; dmarc=fail "
       "header.from=author.example"}},
     "lists.example",
     "author.example",
     false,
     false,
     false,
     1,
     NULL},
};

/* split - the space-separated list into v (at most 8) */
static size_t split(const char *s, char *buf, size_t bufsize, char **v)
{
	size_t n = 0;
	char *save = NULL;

	snprintf(buf, bufsize, "%s", s);
	for (char *t = strtok_r(buf, " ", &save); t != NULL && n < 8;
	     t = strtok_r(NULL, " ", &save))
		v[n++] = t;
	return n;
}

/* test_decide_cases - the table above: got rescued/instance/method, want ... */
static void test_decide_cases(void **state)
{
	int bad = 0;

	(void)state;
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		struct arc_set sets[4];
		struct arc_result r;
		struct arctrust_input in;
		struct arctrust_rescue out;
		char buf[256], *trusted[8];
		bool got;

		build(&cases[i].chain, &r, sets);
		memset(&in, 0, sizeof(in));
		in.arc = &r;
		in.ntrusted = split(cases[i].trusted, buf, sizeof(buf), trusted);
		in.trusted = trusted;
		in.author = cases[i].author;
		in.adkim_strict = cases[i].adkim_strict;
		in.aspf_strict = cases[i].aspf_strict;
		in.org = org_test;
		got = arctrust_decide(&in, &out);
		if (got != cases[i].want || out.rescued != got) {
			print_error("%s: got rescued=%d, want %d (%s)\n", cases[i].name, got,
			            cases[i].want, out.why_not ? out.why_not : "");
			bad++;
			continue;
		}
		if (out.instance != cases[i].want_instance) {
			print_error("%s: got instance %u, want %u\n", cases[i].name, out.instance,
			            cases[i].want_instance);
			bad++;
		}
		if (got && strcmp(out.method, cases[i].want_method) != 0) {
			print_error("%s: got method %s, want %s\n", cases[i].name, out.method,
			            cases[i].want_method);
			bad++;
		}
		if (!got && out.why_not == NULL) {
			print_error("%s: no why_not\n", cases[i].name);
			bad++;
		}
	}
	if (bad)
		fail_msg("%d case(s) failed", bad);
}

/* test_parse - properties, versions, quoted-strings and user@domain values */
static void test_parse(void **state)
{
	struct aar_parsed *p = xmalloc(sizeof(*p));

	(void)state;
	assert_true(arctrust_aar_parse(
	    "mx.example 1; spf/1=Pass (sender ok) smtp.mailfrom=\"john q\"@b.example; "
	    "dkim=pass header.d=b.example header.i=@b.example header.s=s1; "
	    "dmarc=pass policy.dmarc=none header.from=b.example",
	    p));
	assert_string_equal(p->authserv_id, "mx.example");
	assert_int_equal(p->n, 3);
	assert_int_equal(p->bad, 0);
	assert_string_equal(p->ri[0].method, "spf");
	assert_string_equal(p->ri[0].result, "pass");
	assert_string_equal(arctrust_prop(&p->ri[0], "smtp", "mailfrom"), "john q@b.example");
	assert_string_equal(arctrust_prop(&p->ri[1], "header", "i"), "@b.example");
	assert_string_equal(arctrust_prop(&p->ri[1], "header", "s"), "s1");
	assert_null(arctrust_prop(&p->ri[1], "header", "from"));
	assert_string_equal(arctrust_prop(&p->ri[2], "policy", "dmarc"), "none");
	/* no authserv-id, an unclosed comment, a value too long */
	assert_false(arctrust_aar_parse("", p));
	assert_false(arctrust_aar_parse("  (only a comment", p));
	assert_false(arctrust_aar_parse(NULL, p));
	assert_true(arctrust_aar_parse("mx.example; dkim=pass (unclosed header.d=b.example", p));
	assert_int_equal(p->n, 1);
	assert_int_equal(p->ri[0].nprops, 0);
	free(p);
}

/* test_hostile - huge payloads, many resinfos and properties, long values: bounded */
static void test_hostile(void **state)
{
	struct aar_parsed *p = xmalloc(sizeof(*p));
	struct strbuf sb;

	(void)state;
	/* longer than AAR_TEXT_MAX: not read at all */
	sb_init(&sb);
	sb_append(&sb, "mx.example; dmarc=pass header.from=author.example; ");
	while (sb.len <= AAR_TEXT_MAX)
		sb_append(&sb, "x");
	assert_false(arctrust_aar_parse(sb.s, p));
	assert_int_equal(p->n, 0);
	sb_free(&sb);
	/* 100 resinfos: 32 kept, the rest counted as dropped */
	sb_init(&sb);
	sb_append(&sb, "mx.example");
	for (int i = 0; i < 100; i++)
		sb_append(&sb, "; dkim=pass header.d=a.example");
	assert_true(arctrust_aar_parse(sb.s, p));
	assert_int_equal(p->n, AAR_MAX_RESINFO);
	assert_int_equal(p->bad, 100 - AAR_MAX_RESINFO);
	sb_free(&sb);
	/* 20 properties: 8 kept */
	sb_init(&sb);
	sb_append(&sb, "mx.example; dkim=pass");
	for (int i = 0; i < 20; i++)
		sb_appendf(&sb, " header.p%d=v", i);
	assert_true(arctrust_aar_parse(sb.s, p));
	assert_int_equal(p->n, 1);
	assert_int_equal(p->ri[0].nprops, AAR_MAX_PROPS);
	sb_free(&sb);
	/* a value longer than AAR_VALUE_MAX drops its resinfo (a cut one could align) */
	sb_init(&sb);
	sb_append(&sb, "mx.example; dkim=pass header.d=author.example");
	for (int i = 0; i < AAR_VALUE_MAX; i++)
		sb_append(&sb, "x");
	sb_append(&sb, "; spf=fail smtp.mailfrom=a@b.example");
	assert_true(arctrust_aar_parse(sb.s, p));
	assert_int_equal(p->n, 1);
	assert_int_equal(p->bad, 1);
	assert_string_equal(p->ri[0].method, "spf");
	sb_free(&sb);
	/* control bytes and 8-bit bytes */
	assert_true(arctrust_aar_parse("mx.example; dkim=pass header.d=\x01\x02; "
	                               "dmarc=pass header.from=\xc3\xa9.example",
	                               p));
	assert_int_equal(p->n, 1);
	assert_string_equal(arctrust_prop(&p->ri[0], "header", "from"), "\xc3\xa9.example");
	free(p);
}

/* test_sealer_trusted - equal or below a listed domain, any case; never a partial label */
static void test_sealer_trusted(void **state)
{
	char *list[] = {"lists.example", "Groups.Example"};

	(void)state;
	assert_true(arctrust_sealer_trusted("lists.example", list, 2));
	assert_true(arctrust_sealer_trusted("a.b.LISTS.example", list, 2));
	assert_true(arctrust_sealer_trusted("groups.example", list, 2));
	assert_false(arctrust_sealer_trusted("xlists.example", list, 2));
	assert_false(arctrust_sealer_trusted("example", list, 2));
	assert_false(arctrust_sealer_trusted("", list, 2));
	assert_false(arctrust_sealer_trusted(NULL, list, 2));
	assert_false(arctrust_sealer_trusted("lists.example", list, 0));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_decide_cases),
	    cmocka_unit_test(test_parse),
	    cmocka_unit_test(test_hostile),
	    cmocka_unit_test(test_sealer_trusted),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
