/*
 * NAME
 *	test_dmarc - unit tests for dmarc.c (RFC 7489)
 * DESCRIPTION
 *	Tables of cases, each run against the real public suffix list
 *	(/usr/share/publicsuffix, Debian package publicsuffix):
 *	organizational domains (ordinary, two-label, wildcard and exception
 *	rules, unknown TLDs, case, final dots, names that must be refused),
 *	dmarc_aligned (strict and relaxed), dmarc_parse_record (every tag,
 *	bad values, the p=/sp=/rua= rule, v= placement and case, blanks,
 *	repeated tags) and dmarc_evaluate (DKIM and SPF passes, alignment
 *	modes, sp=, pct rolls, record states, results other than pass).
 *	The list loader (psl.c) is tested on copies of the fixtures in
 *	tests/unit/data/dmarc (a small list, a list without rules, a
 *	missing file), with the sharing of an unchanged file and the new
 *	list of a changed one, and dmarc_org_domain from several threads at
 *	once. dmarc_lookup is
 *	only called here for names it must refuse before any query; its
 *	DNS side is covered by the end-to-end tests (nsd).
 * DIAGNOSTICS
 *	Each mismatch prints "case N (input): got X, want Y"; a test fails
 *	when any of its cases did.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>

#include "dmarc.h"
#include "dns.h"
#include "dnsmsg.h"
#include "psl.h"
#include "util.h"

#define PSL      "/usr/share/publicsuffix/public_suffix_list.dat"
#define DATA_DIR "tests/unit/data/dmarc"

/* data_path - a fixture's path (DMARC_TEST_DATA overrides the directory) */
static const char *data_path(const char *name)
{
	static char path[512];
	const char *dir = getenv("DMARC_TEST_DATA");

	snprintf(path, sizeof(path), "%s/%s", dir ? dir : DATA_DIR, name);
	return path;
}

/* The list every test uses (the real one, but for test_psl_load's own). */
static struct psl *psl;

/* load_psl - group setup: the real list */
static int load_psl(void **state)
{
	char err[256];

	(void)state;
	if ((psl = psl_load(PSL, NULL, err, sizeof(err))) == NULL) {
		fprintf(stderr, "psl_load: %s\n", err);
		return -1;
	}
	return 0;
}

/* unload_psl - group teardown */
static int unload_psl(void **state)
{
	(void)state;
	psl_release(psl);
	psl = NULL;
	return 0;
}

/* log_safe - only printable ASCII, no backslash-less control bytes? */
static bool log_safe(const char *s)
{
	for (; *s != '\0'; s++)
		if ((unsigned char)*s < 0x20 || (unsigned char)*s >= 0x7f)
			return false;
	return true;
}

/* ---- organizational domains ---------------------------------------- */

struct org_case {
	const char *in;
	const char *want; /* NULL: refused */
};

static const struct org_case org_cases[] = {
    {"example.com", "example.com"},
    {"a.b.example.com", "example.com"},
    {"x.co.uk", "x.co.uk"},
    {"a.x.co.uk", "x.co.uk"},
    {"b.a.x.co.uk", "x.co.uk"},
    {"q.com", "q.com"}, /* one-letter label (libopendmarc 1.4.2 says "com") */
    {"m.q.com", "q.com"},
    {"co.uk", "co.uk"}, /* a public suffix is its own */
    {"com", "com"},
    {"foo.test", "foo.test"}, /* unknown TLD: the implicit rule "*" */
    {"a.b.foo.test", "foo.test"},
    {"test", "test"},
    {"a.b.ck", "a.b.ck"}, /* *.ck: b.ck is a public suffix */
    {"x.a.b.ck", "a.b.ck"},
    {"b.ck", "b.ck"},
    {"www.ck", "www.ck"}, /* !www.ck */
    {"x.www.ck", "www.ck"},
    {"a.b.c.kawasaki.jp", "b.c.kawasaki.jp"},
    {"x.city.kawasaki.jp", "city.kawasaki.jp"},
    {"a.github.io", "a.github.io"}, /* private section */
    {"b.a.github.io", "a.github.io"},
    {"a.b.xn--p1ai", "b.xn--p1ai"}, /* IDN TLD, A-label from the comment */
    {"xn--80ak6aa92e.com", "xn--80ak6aa92e.com"},
    {"_dmarc.example.com", "example.com"},
    {"mail_1.example.com", "example.com"},
    /* case and one final dot */
    {"EXAMPLE.COM", "example.com"},
    {"Mail.Example.Com.", "example.com"},
    {"X.CO.UK.", "x.co.uk"},
    /* refused */
    {"example.com..", NULL},
    {"a..example.com", NULL},
    {".example.com", NULL},
    {".", NULL},
    {"", NULL},
    {NULL, NULL},
    {"b\xc3\xbc"
     "cher.de",
     NULL},                            /* U-label */
    {"exa\xe2\x80\x8bmple.com", NULL}, /* zero-width space */
    {"example.com\xc2\xa0", NULL},     /* no-break space */
    {"a b.example.com", NULL},
    {"a\tb.example.com", NULL},
    {"exam\\ple.com", NULL},
    {"exam\x01ple.com", NULL},
    {"example.com\r\n", NULL},
    {"x@example.com", NULL},
    {"[192.0.2.1]", NULL},
    {"a+b.example.com", NULL},
};

/* test_org_domain - dmarc_org_domain over the real list */
static void test_org_domain(void **state)
{
	int failed = 0;

	(void)state;
	for (size_t i = 0; i < PM_ARRAY_LEN(org_cases); i++) {
		const struct org_case *c = &org_cases[i];
		char buf[DMARC_DOMAIN_MAX], shown[128];
		bool ok;

		memset(buf, 'X', sizeof(buf));
		ok = dmarc_org_domain(psl, c->in, buf, sizeof(buf));
		pm_escape_str(shown, sizeof(shown), c->in);
		if (ok != (c->want != NULL) || strcmp(buf, c->want != NULL ? c->want : "") != 0) {
			print_error("case %zu (%s): got %d \"%s\", want %d \"%s\"\n", i, shown, ok,
			            buf, c->want != NULL, c->want != NULL ? c->want : "");
			failed++;
		}
	}
	if (failed)
		fail_msg("%d org domain cases failed", failed);
}

/* test_org_domain_limits - label and name lengths, small buffers */
static void test_org_domain_limits(void **state)
{
	char name[300], buf[DMARC_DOMAIN_MAX], small[8];
	size_t n;

	(void)state;
	/* a 63-byte label is fine, 64 is not */
	memset(name, 'a', 63);
	strcpy(name + 63, ".example.com");
	assert_true(dmarc_org_domain(psl, name, buf, sizeof(buf)));
	assert_string_equal(buf, "example.com");
	memset(name, 'a', 64);
	strcpy(name + 64, ".example.com");
	assert_false(dmarc_org_domain(psl, name, buf, sizeof(buf)));
	assert_string_equal(buf, "");

	/* 253 bytes in all is fine (254 with a final dot), 254 is not */
	n = 0;
	while (n + 2 <= 253 - strlen("example.com")) {
		name[n++] = 'b';
		name[n++] = '.';
	}
	strcpy(name + n, "example.com");
	assert_int_equal(strlen(name), 253);
	assert_true(dmarc_org_domain(psl, name, buf, sizeof(buf)));
	assert_string_equal(buf, "example.com");
	strcat(name, ".");
	assert_true(dmarc_org_domain(psl, name, buf, sizeof(buf)));
	name[253] = '\0';
	memmove(name + 1, name, 254);
	name[0] = 'd'; /* "db.b.b...": 254 bytes */
	assert_false(dmarc_org_domain(psl, name, buf, sizeof(buf)));

	/* a buffer too small: false and "" */
	memset(small, 'X', sizeof(small));
	assert_false(dmarc_org_domain(psl, "mail.example.com", small, sizeof(small)));
	assert_string_equal(small, "");
	assert_false(dmarc_org_domain(psl, "example.com", NULL, 0));
}

/* ---- alignment ----------------------------------------------------- */

struct align_case {
	const char *a, *b;
	bool strict, want;
};

static const struct align_case align_cases[] = {
    {"example.com", "example.com", true, true},
    {"example.com", "example.com", false, true},
    {"mail.example.com", "example.com", true, false},
    {"mail.example.com", "example.com", false, true},
    {"example.com", "mail.example.com", true, false},
    {"example.com", "mail.example.com", false, true},
    {"a.example.com", "b.example.com", false, true},
    {"a.example.com", "b.example.com", true, false},
    {"EXAMPLE.com.", "example.COM", true, true},
    {"Mail.Example.com", "example.com.", false, true},
    {"example.com", "example.net", false, false},
    {"example.com", "example.net", true, false},
    {"x.co.uk", "y.co.uk", false, false}, /* siblings under a public suffix */
    {"a.x.co.uk", "x.co.uk", false, true},
    {"q.com", "x.com", false, false},
    {"co.uk", "x.co.uk", false, false},
    {"a.b.ck", "c.b.ck", false, false}, /* *.ck */
    {"x.a.b.ck", "a.b.ck", false, true},
    {"a.foo.test", "b.foo.test", false, true}, /* implicit rule */
    {"a.foo.test", "a.bar.test", false, false},
    {"examplecom", "example.com", false, false},
    {"evilexample.com", "example.com", false, false},
    {"example.com..", "example.com", false, false},
    {"b\xc3\xbc"
     "cher.de",
     "b\xc3\xbc"
     "cher.de",
     true, false},
    {"", "", true, false},
    {NULL, "example.com", false, false},
    {"example.com", NULL, false, false},
};

/* test_aligned - dmarc_aligned, strict and relaxed */
static void test_aligned(void **state)
{
	int failed = 0;

	(void)state;
	for (size_t i = 0; i < PM_ARRAY_LEN(align_cases); i++) {
		const struct align_case *c = &align_cases[i];
		bool got = dmarc_aligned(psl, c->a, c->b, c->strict);
		char sa[64], sb[64];

		if (got != c->want) {
			print_error("case %zu (%s, %s, %s): got %d, want %d\n", i,
			            pm_escape_str(sa, sizeof(sa), c->a),
			            pm_escape_str(sb, sizeof(sb), c->b),
			            c->strict ? "strict" : "relaxed", got, c->want);
			failed++;
		}
	}
	if (failed)
		fail_msg("%d alignment cases failed", failed);
}

/* ---- record parsing ------------------------------------------------ */

#define N PM_DMARC_P_NONE
#define Q PM_DMARC_P_QUARANTINE
#define R PM_DMARC_P_REJECT
#define U PM_DMARC_P_UNSPEC

struct parse_case {
	const char *text;
	enum dmarc_record_status status;
	enum pm_dmarc_policy p, sp;
	int pct;
	bool adkim_strict, aspf_strict;
	const char *why; /* a substring of the why, or NULL */
};

#define FOUND(t, p, sp, pct, ad, as, w)                                                            \
	{                                                                                          \
		t, DMARC_REC_FOUND, p, sp, pct, ad, as, w                                          \
	}
#define INVALID(t, w)                                                                              \
	{                                                                                          \
		t, DMARC_REC_INVALID, U, U, 100, false, false, w                                   \
	}

static const struct parse_case parse_cases[] = {
    /* p= and sp= */
    FOUND("v=DMARC1; p=none", N, N, 100, false, false, "p=none sp=none pct=100"),
    FOUND("v=DMARC1; p=quarantine", Q, Q, 100, false, false, "at _dmarc.example.com"),
    FOUND("v=DMARC1; p=reject", R, R, 100, false, false, NULL),
    FOUND("v=DMARC1; p=reject; sp=none", R, N, 100, false, false, "sp=none"),
    FOUND("v=DMARC1; p=none; sp=quarantine", N, Q, 100, false, false, NULL),
    FOUND("v=DMARC1; p=quarantine; sp=reject", Q, R, 100, false, false, NULL),
    FOUND("v=DMARC1; p=REJECT; SP=None", R, N, 100, false, false, NULL),
    FOUND("v=DMARC1; P=Quarantine", Q, Q, 100, false, false, NULL),
    /* pct= */
    FOUND("v=DMARC1; p=reject; pct=0", R, R, 0, false, false, "pct=0"),
    FOUND("v=DMARC1; p=reject; pct=50", R, R, 50, false, false, NULL),
    FOUND("v=DMARC1; p=reject; pct=100", R, R, 100, false, false, NULL),
    FOUND("v=DMARC1; p=reject; pct=007", R, R, 7, false, false, NULL),
    FOUND("v=DMARC1; p=reject; pct=150", R, R, 100, false, false, "ignored pct=\"150\""),
    FOUND("v=DMARC1; p=reject; pct=101", R, R, 100, false, false, NULL),
    FOUND("v=DMARC1; p=reject; pct=-5", R, R, 100, false, false, NULL),
    FOUND("v=DMARC1; p=reject; pct=abc", R, R, 100, false, false, "ignored pct="),
    FOUND("v=DMARC1; p=reject; pct=50x", R, R, 100, false, false, NULL),
    FOUND("v=DMARC1; p=reject; pct=5 0", R, R, 100, false, false, NULL),
    FOUND("v=DMARC1; p=reject; pct=0050", R, R, 100, false, false, NULL),
    FOUND("v=DMARC1; p=reject; pct=", R, R, 100, false, false, NULL),
    /* adkim= and aspf= */
    FOUND("v=DMARC1; p=none; adkim=s", N, N, 100, true, false, NULL),
    FOUND("v=DMARC1; p=none; aspf=s", N, N, 100, false, true, NULL),
    FOUND("v=DMARC1; p=none; adkim=s; aspf=s", N, N, 100, true, true, NULL),
    FOUND("v=DMARC1; p=none; adkim=r; aspf=r", N, N, 100, false, false, NULL),
    FOUND("v=DMARC1; p=none; ADKIM=S; Aspf=S", N, N, 100, true, true, NULL),
    FOUND("v=DMARC1; p=none; adkim=x; aspf=strict", N, N, 100, false, false, "ignored adkim=\"x\""),
    FOUND("v=DMARC1; p=none; adkim=; aspf=s", N, N, 100, false, true, NULL),
    /* unknown tags and tags this milter does not use are ignored */
    FOUND("v=DMARC1; p=reject; foo=bar", R, R, 100, false, false, NULL),
    FOUND("v=DMARC1; x_y=1; p=reject; a-b=2; 9z=3", R, R, 100, false, false, NULL),
    FOUND("v=DMARC1; p=reject; rf=xyz; ri=abc; fo=z; ruf=bogus", R, R, 100, false, false, NULL),
    FOUND("v=DMARC1; p=reject; rf=iodef", R, R, 100, false, false, NULL),
    FOUND("v=DMARC1; p=reject; rua=bogus", R, R, 100, false, false, NULL),
    FOUND("v=DMARC1; junk; p=reject; =x", R, R, 100, false, false, NULL),
    /* blanks */
    FOUND("v=DMARC1;p=reject", R, R, 100, false, false, NULL),
    FOUND("v=DMARC1;p=reject;", R, R, 100, false, false, NULL),
    FOUND("v=DMARC1 ; p = reject ; sp = none ;", R, N, 100, false, false, NULL),
    FOUND("v=DMARC1;\tp=reject\t;\tpct=20\t", R, R, 20, false, false, NULL),
    FOUND("v=DMARC1; ; p=none;;", N, N, 100, false, false, NULL),
    FOUND("v=DMARC1  ;  p=quarantine  ;  adkim = s  ", Q, Q, 100, true, false, NULL),
    /* p= missing, empty or bad: invalid unless a valid rua= (then p=none) */
    INVALID("v=DMARC1", "no p="),
    INVALID("v=DMARC1;", "no p="),
    INVALID("v=DMARC1; p=", "invalid p=\"\""),
    INVALID("v=DMARC1; p= ; rua=", "invalid p="),
    INVALID("v=DMARC1; p=bogus", "invalid p=\"bogus\" at _dmarc.example.com and no valid rua="),
    INVALID("v=DMARC1; p=r", "invalid p=\"r\""),
    INVALID("v=DMARC1; p=rejectx", NULL),
    INVALID("v=DMARC1; p=reject\x01", "invalid p=\"reject\\x01\""),
    INVALID("v=DMARC1; sp=reject", "no p="),
    INVALID("v=DMARC1; p=bogus; rua=bogus", NULL),
    INVALID("v=DMARC1; p=bogus; rua=mailto:", NULL),
    INVALID("v=DMARC1; p=bogus; rua=mailto:@example.com", NULL),
    INVALID("v=DMARC1; p=bogus; rua=mailto:a@", NULL),
    INVALID("v=DMARC1; p=bogus; rua=:x", NULL),
    INVALID("v=DMARC1; p=bogus; rua=mailto:a @example.com", NULL),
    INVALID("v=DMARC1; p=bogus; rua=mailto:a@example.com!x", NULL),
    INVALID("v=DMARC1; p=bogus; rua=mailto:a@example.com!", NULL),
    INVALID("v=DMARC1; p=bogus; rua=1mailto:a@example.com", NULL),
    FOUND("v=DMARC1; p=bogus; rua=mailto:d@example.com", N, N, 100, false, false,
          "p=\"bogus\" at _dmarc.example.com but a valid rua=: p=none"),
    FOUND("v=DMARC1; rua=mailto:d@example.com", N, N, 100, false, false, "no p="),
    FOUND("v=DMARC1; p=; rua=mailto:d@example.com", N, N, 100, false, false, NULL),
    FOUND("v=DMARC1; p=bogus; rua=mailto:d@example.com!10m", N, N, 100, false, false, NULL),
    FOUND("v=DMARC1; p=bogus; rua=mailto:d@example.com!10", N, N, 100, false, false, NULL),
    FOUND("v=DMARC1; p=bogus; rua=bogus, mailto:d@example.com", N, N, 100, false, false, NULL),
    FOUND("v=DMARC1; p=bogus; rua=https://example.com/dmarc?x=1", N, N, 100, false, false, NULL),
    FOUND("v=DMARC1; p=bogus; pct=10; adkim=s; rua=mailto:d@example.com", N, N, 10, true, false,
          NULL),
    /* a bad sp= is treated as a bad p= (RFC 7489 6.6.3 step 6) */
    INVALID("v=DMARC1; p=reject; sp=bogus", "invalid sp=\"bogus\""),
    INVALID("v=DMARC1; p=reject; sp=", "invalid sp="),
    FOUND("v=DMARC1; p=reject; sp=bogus; rua=mailto:d@example.com", N, N, 100, false, false,
          "sp=\"bogus\""),
    /* v= must come first, exactly "v=DMARC1" */
    INVALID("p=reject", "must start v=DMARC1"),
    INVALID("p=reject; v=DMARC1", NULL),
    INVALID("V=DMARC1; p=reject", NULL),
    INVALID("v=dmarc1; p=reject", NULL),
    INVALID("v = DMARC1; p=reject", NULL),
    INVALID(" v=DMARC1; p=reject", NULL),
    INVALID("v=DMARC1 p=reject", NULL),
    INVALID("v=DMARC10; p=reject", NULL),
    INVALID("v=DMARC2; p=reject", NULL),
    INVALID("v=spf1 -all", NULL),
    INVALID("", NULL),
    INVALID(NULL, NULL),
    /* a repeated known tag makes the record invalid */
    INVALID("v=DMARC1; p=none; p=reject", "repeated p= tag"),
    INVALID("v=DMARC1; p=reject; P=reject", "repeated p= tag"),
    INVALID("v=DMARC1; p=reject; pct=10; pct=20", "repeated pct= tag"),
    INVALID("v=DMARC1; p=reject; v=DMARC1", "repeated v= tag"),
    INVALID("v=DMARC1; p=reject; rua=mailto:a@example.com; rua=mailto:b@example.com",
            "repeated rua= tag"),
    FOUND("v=DMARC1; p=reject; foo=1; foo=2", R, R, 100, false, false, NULL),
};

/* test_parse_record - dmarc_parse_record over the table */
static void test_parse_record(void **state)
{
	int failed = 0;

	(void)state;
	for (size_t i = 0; i < PM_ARRAY_LEN(parse_cases); i++) {
		const struct parse_case *c = &parse_cases[i];
		struct dmarc_record r;
		char shown[160];

		memset(&r, 0x5a, sizeof(r));
		dmarc_parse_record(psl, c->text, "example.com", "example.com", &r);
		pm_escape_str(shown, sizeof(shown), c->text);
		if (r.status != c->status ||
		    (c->status == DMARC_REC_FOUND &&
		     (r.p != c->p || r.sp != c->sp || r.pct != c->pct ||
		      r.adkim_strict != c->adkim_strict || r.aspf_strict != c->aspf_strict))) {
			print_error("case %zu (%s): got status %d p=%s sp=%s pct=%d adkim=%c "
			            "aspf=%c (%s), want status %d p=%s sp=%s pct=%d adkim=%c "
			            "aspf=%c\n",
			            i, shown, r.status, pm_dmarc_policy_name(r.p),
			            pm_dmarc_policy_name(r.sp), r.pct, r.adkim_strict ? 's' : 'r',
			            r.aspf_strict ? 's' : 'r', r.why, c->status,
			            pm_dmarc_policy_name(c->p), pm_dmarc_policy_name(c->sp), c->pct,
			            c->adkim_strict ? 's' : 'r', c->aspf_strict ? 's' : 'r');
			failed++;
			continue;
		}
		if (c->why != NULL && strstr(r.why, c->why) == NULL) {
			print_error("case %zu (%s): got why \"%s\", want it to hold \"%s\"\n", i,
			            shown, r.why, c->why);
			failed++;
		}
		if (!log_safe(r.why) || r.why[0] == '\0') {
			print_error("case %zu (%s): why \"%s\" empty or not log-safe\n", i, shown,
			            r.why);
			failed++;
		}
		if (strcmp(r.domain, "example.com") != 0 ||
		    strcmp(r.found_at, "example.com") != 0 ||
		    strcmp(r.org_domain, "example.com") != 0) {
			print_error("case %zu (%s): got domain %s found_at %s org %s\n", i, shown,
			            r.domain, r.found_at, r.org_domain);
			failed++;
		}
	}
	if (failed)
		fail_msg("%d parse cases failed", failed);
}

/* test_parse_domains - domain, found_at and org_domain as given and refused */
static void test_parse_domains(void **state)
{
	struct dmarc_record r;

	(void)state;
	dmarc_parse_record(psl, "v=DMARC1; p=reject; sp=quarantine", "Mail.Example.COM.",
	                   "example.com", &r);
	assert_int_equal(r.status, DMARC_REC_FOUND);
	assert_string_equal(r.domain, "mail.example.com");
	assert_string_equal(r.org_domain, "example.com");
	assert_string_equal(r.found_at, "example.com");
	assert_int_equal(r.sp, PM_DMARC_P_QUARANTINE);

	dmarc_parse_record(psl, "v=DMARC1; p=reject", "a.x.co.uk", NULL, &r);
	assert_int_equal(r.status, DMARC_REC_FOUND);
	assert_string_equal(r.found_at, "a.x.co.uk");
	assert_string_equal(r.org_domain, "x.co.uk");

	dmarc_parse_record(psl, "v=DMARC1; p=reject",
	                   "b\xc3\xbc"
	                   "cher.de",
	                   NULL, &r);
	assert_int_equal(r.status, DMARC_REC_INVALID);
	assert_non_null(strstr(r.why, "not a usable domain name: b\\xc3\\xbccher.de"));
	assert_true(log_safe(r.why));

	dmarc_parse_record(psl, "v=DMARC1; p=reject", "example.com", "bad name.com", &r);
	assert_int_equal(r.status, DMARC_REC_INVALID);
	assert_true(log_safe(r.why));

	dmarc_parse_record(psl, "v=DMARC1; p=reject", NULL, NULL, &r);
	assert_int_equal(r.status, DMARC_REC_INVALID);
}

/* test_parse_long - long records and values are read whole, and shown cut */
static void test_parse_long(void **state)
{
	struct strbuf sb;
	struct dmarc_record r;

	(void)state;
	sb_init(&sb);
	sb_append(&sb, "v=DMARC1; ");
	for (int i = 0; i < 2000; i++)
		sb_appendf(&sb, "x%d=%d; ", i, i);
	sb_append(&sb, "p=quarantine; pct=25");
	dmarc_parse_record(psl, sb.s, "example.com", "example.com", &r);
	assert_int_equal(r.status, DMARC_REC_FOUND);
	assert_int_equal(r.p, PM_DMARC_P_QUARANTINE);
	assert_int_equal(r.pct, 25);

	sb_reset(&sb);
	sb_append(&sb, "v=DMARC1; p=");
	for (int i = 0; i < 5000; i++)
		sb_append(&sb, "\xff");
	dmarc_parse_record(psl, sb.s, "example.com", "example.com", &r);
	assert_int_equal(r.status, DMARC_REC_INVALID);
	assert_true(log_safe(r.why));
	assert_true(strlen(r.why) < sizeof(r.why));
	sb_free(&sb);
}

/* ---- evaluation ---------------------------------------------------- */

struct eval_case {
	const char *name;
	const char *record; /* NULL: status below */
	enum dmarc_record_status status;
	const char *rec_domain, *found_at;
	const char *from;
	enum pm_spf_result spf;
	const char *spf_domain;
	const char *dkim; /* "R:d R:d ...", R: P pass F fail N neutral O policy T temperror
	                     E permerror; "" no signature */
	unsigned roll;
	/* want */
	enum pm_dmarc_result result;
	enum pm_dmarc_policy policy, disposition;
	bool used_sp, spf_aligned, dkim_aligned;
	const char *dkim_domain;
	const char *why;
};

#define REC(t)                        t, DMARC_REC_FOUND
#define ONLY_STATUS(s)                NULL, s
#define EX                            "example.com", "example.com"
#define SUB_AT_ORG                    "mail.example.com", "example.com"
#define SUB_AT_SUB                    "mail.example.com", "mail.example.com"
#define PASS(p, sp, spf, dkim, dd, w) PM_DMARC_PASS, p, PM_DMARC_P_NONE, sp, spf, dkim, dd, w
#define FAIL(p, dis, sp, w)           PM_DMARC_FAIL, p, dis, sp, false, false, "", w
#define TEMP(p, w)                    PM_DMARC_TEMPERROR, p, PM_DMARC_P_UNSPEC, false, false, false, "", w
#define NOPOL(r, w)                   r, U, U, false, false, false, "", w

static const struct eval_case eval_cases[] = {
    /* pass via DKIM, via SPF, via both */
    {"dkim pass", REC("v=DMARC1; p=reject"), EX, "example.com", PM_SPF_FAIL, "evil.test",
     "P:example.com", 0,
     PASS(R, false, false, true, "example.com", "aligned DKIM pass d=example.com")},
    {"dkim pass relaxed subdomain d=", REC("v=DMARC1; p=reject"), EX, "example.com", PM_SPF_NONE,
     NULL, "P:mail.example.com", 0,
     PASS(R, false, false, true, "mail.example.com", "d=mail.example.com")},
    {"dkim pass d= upper case", REC("v=DMARC1; p=reject"), EX, "example.com", PM_SPF_NONE, NULL,
     "P:EXAMPLE.COM.", 0, PASS(R, false, false, true, "example.com", NULL)},
    {"spf pass", REC("v=DMARC1; p=reject"), EX, "example.com", PM_SPF_PASS, "bounce.example.com",
     "", 0, PASS(R, false, true, false, "", "aligned SPF pass bounce.example.com")},
    {"both pass", REC("v=DMARC1; p=quarantine"), EX, "example.com", PM_SPF_PASS, "example.com",
     "P:example.com", 0,
     PASS(Q, false, true, true, "example.com", "aligned DKIM pass d=example.com, aligned SPF")},
    /* fail */
    {"fail both", REC("v=DMARC1; p=reject"), EX, "example.com", PM_SPF_FAIL, "example.com",
     "F:example.com", 0, FAIL(R, R, false, "no aligned pass: no DKIM pass; SPF fail")},
    /* an aligned signature that verified but is not acceptable (result policy: an unsigned
       extra Subject, rsa-sha1, ...) is no DKIM pass */
    {"aligned dkim policy, unaligned spf pass", REC("v=DMARC1; p=reject"), EX, "example.com",
     PM_SPF_PASS, "other.example", "O:example.com", 0,
     FAIL(R, R, false, "no aligned pass: no DKIM pass; SPF pass not aligned")},
    {"no signature, spf softfail", REC("v=DMARC1; p=quarantine"), EX, "example.com",
     PM_SPF_SOFTFAIL, "example.com", "", 0, FAIL(Q, Q, false, "no DKIM signature; SPF softfail")},
    {"third-party dkim pass", REC("v=DMARC1; p=reject"), EX, "example.com", PM_SPF_SOFTFAIL,
     "example.com", "P:mailer.example.net", 0,
     FAIL(R, R, false, "DKIM pass not aligned: d=mailer.example.net")},
    {"spf pass unaligned", REC("v=DMARC1; p=reject"), EX, "example.com", PM_SPF_PASS,
     "bounces.esp.example.net", "", 0,
     FAIL(R, R, false, "SPF pass not aligned: bounces.esp.example.net vs example.com")},
    {"spf pass not checked (NULL domain)", REC("v=DMARC1; p=reject"), EX, "example.com",
     PM_SPF_PASS, NULL, "", 0, FAIL(R, R, false, "SPF pass")},
    /* the null sender: SPF checked the HELO name */
    {"helo pass aligned", REC("v=DMARC1; p=reject"), EX, "example.com", PM_SPF_PASS,
     "mx1.example.com", "", 0, PASS(R, false, true, false, "", "mx1.example.com")},
    {"helo pass unaligned", REC("v=DMARC1; p=reject"), EX, "example.com", PM_SPF_PASS,
     "mx.provider.test", "", 0,
     FAIL(R, R, false, "SPF pass not aligned: mx.provider.test vs example.com")},
    /* strict and relaxed, both directions */
    {"adkim=s, d= parent", REC("v=DMARC1; p=reject; adkim=s"), SUB_AT_SUB, "mail.example.com",
     PM_SPF_NONE, NULL, "P:example.com", 0, FAIL(R, R, false, "DKIM pass not aligned")},
    {"adkim=s, d= child", REC("v=DMARC1; p=reject; adkim=s"), EX, "example.com", PM_SPF_NONE, NULL,
     "P:mail.example.com", 0, FAIL(R, R, false, NULL)},
    {"adkim=r, d= parent", REC("v=DMARC1; p=reject"), SUB_AT_SUB, "mail.example.com", PM_SPF_NONE,
     NULL, "P:example.com", 0, PASS(R, false, false, true, "example.com", NULL)},
    {"adkim=s, d= equal", REC("v=DMARC1; p=reject; adkim=s"), EX, "example.com", PM_SPF_NONE, NULL,
     "P:example.com", 0, PASS(R, false, false, true, "example.com", NULL)},
    {"aspf=s, child", REC("v=DMARC1; p=reject; aspf=s"), EX, "example.com", PM_SPF_PASS,
     "bounce.example.com", "", 0, FAIL(R, R, false, "SPF pass not aligned")},
    {"aspf=s, parent", REC("v=DMARC1; p=reject; aspf=s"), SUB_AT_SUB, "mail.example.com",
     PM_SPF_PASS, "example.com", "", 0, FAIL(R, R, false, NULL)},
    {"aspf=s, equal", REC("v=DMARC1; p=reject; aspf=s"), EX, "example.com", PM_SPF_PASS,
     "EXAMPLE.com.", "", 0, PASS(R, false, true, false, "", NULL)},
    {"aspf=r, parent", REC("v=DMARC1; p=reject"), SUB_AT_SUB, "mail.example.com", PM_SPF_PASS,
     "example.com", "", 0, PASS(R, false, true, false, "", NULL)},
    {"adkim=s does not make aspf strict", REC("v=DMARC1; p=reject; adkim=s"), EX, "example.com",
     PM_SPF_PASS, "bounce.example.com", "P:mail.example.com", 0,
     PASS(R, false, true, false, "", NULL)},
    {"relaxed: siblings under co.uk", REC("v=DMARC1; p=reject"), "x.co.uk", "x.co.uk", "x.co.uk",
     PM_SPF_PASS, "y.co.uk", "P:z.co.uk", 0, FAIL(R, R, false, NULL)},
    /* sp= */
    {"sp for a subdomain, record at org", REC("v=DMARC1; p=reject; sp=none"), SUB_AT_ORG,
     "mail.example.com", PM_SPF_FAIL, "mail.example.com", "", 0, FAIL(N, N, true, NULL)},
    /* used_sp says sp= applied: without an sp= tag it is p= that does */
    {"sp absent: p for a subdomain", REC("v=DMARC1; p=reject"), SUB_AT_ORG, "mail.example.com",
     PM_SPF_FAIL, "mail.example.com", "", 0, FAIL(R, R, false, NULL)},
    {"sp: pass keeps the requested policy", REC("v=DMARC1; p=reject; sp=quarantine"), SUB_AT_ORG,
     "mail.example.com", PM_SPF_NONE, NULL, "P:example.com", 0,
     PASS(Q, true, false, true, "example.com", NULL)},
    {"p at the org domain itself", REC("v=DMARC1; p=reject; sp=none"), EX, "example.com",
     PM_SPF_FAIL, "example.com", "", 0, FAIL(R, R, false, NULL)},
    {"p for the subdomain's own record", REC("v=DMARC1; p=quarantine; sp=none"), SUB_AT_SUB,
     "mail.example.com", PM_SPF_FAIL, "mail.example.com", "", 0, FAIL(Q, Q, false, NULL)},
    {"sp, from given upper case", REC("v=DMARC1; p=none; sp=reject"), SUB_AT_ORG,
     "MAIL.example.com.", PM_SPF_FAIL, "x.test", "", 0, FAIL(R, R, true, NULL)},
    /* pct */
    {"pct=0 roll 0", REC("v=DMARC1; p=reject; pct=0"), EX, "example.com", PM_SPF_FAIL,
     "example.com", "", 0, FAIL(R, Q, false, "pct=0: quarantine")},
    {"pct=0 roll 99", REC("v=DMARC1; p=quarantine; pct=0"), EX, "example.com", PM_SPF_FAIL,
     "example.com", "", 99, FAIL(Q, N, false, "pct=0: none")},
    {"pct=50 roll 0", REC("v=DMARC1; p=reject; pct=50"), EX, "example.com", PM_SPF_FAIL,
     "example.com", "", 0, FAIL(R, R, false, NULL)},
    {"pct=50 roll 49", REC("v=DMARC1; p=reject; pct=50"), EX, "example.com", PM_SPF_FAIL,
     "example.com", "", 49, FAIL(R, R, false, NULL)},
    {"pct=50 roll 50", REC("v=DMARC1; p=reject; pct=50"), EX, "example.com", PM_SPF_FAIL,
     "example.com", "", 50, FAIL(R, Q, false, NULL)},
    {"pct=50 roll 99", REC("v=DMARC1; p=reject; pct=50"), EX, "example.com", PM_SPF_FAIL,
     "example.com", "", 99, FAIL(R, Q, false, "pct=50: quarantine")},
    {"pct=50 quarantine roll 99", REC("v=DMARC1; p=quarantine; pct=50"), EX, "example.com",
     PM_SPF_FAIL, "example.com", "", 99, FAIL(Q, N, false, NULL)},
    {"pct=100 roll 99", REC("v=DMARC1; p=reject"), EX, "example.com", PM_SPF_FAIL, "example.com",
     "", 99, FAIL(R, R, false, NULL)},
    {"pct=100 roll out of range", REC("v=DMARC1; p=reject"), EX, "example.com", PM_SPF_FAIL,
     "example.com", "", 1000, FAIL(R, R, false, NULL)},
    {"pct=99 roll out of range", REC("v=DMARC1; p=reject; pct=99"), EX, "example.com", PM_SPF_FAIL,
     "example.com", "", 1000, FAIL(R, Q, false, NULL)},
    {"p=none roll 99", REC("v=DMARC1; p=none; pct=10"), EX, "example.com", PM_SPF_FAIL,
     "example.com", "", 99, FAIL(N, N, false, NULL)},
    {"pct applies to sp", REC("v=DMARC1; p=none; sp=reject; pct=30"), SUB_AT_ORG,
     "mail.example.com", PM_SPF_FAIL, "x.test", "", 30, FAIL(R, Q, true, NULL)},
    {"pct does not matter on pass", REC("v=DMARC1; p=reject; pct=0"), EX, "example.com",
     PM_SPF_PASS, "example.com", "", 99, PASS(R, false, true, false, "", NULL)},
    /* only pass counts */
    {"dkim fail aligned", REC("v=DMARC1; p=reject"), EX, "example.com", PM_SPF_NONE, NULL,
     "F:example.com", 0, FAIL(R, R, false, "no DKIM pass")},
    {"dkim neutral/policy/permerror aligned", REC("v=DMARC1; p=reject"), EX, "example.com",
     PM_SPF_NONE, NULL, "N:example.com O:example.com E:example.com", 0, FAIL(R, R, false, NULL)},
    /* an aligned identity not checkable for now: temperror, never a fail (no 5xx on DNS trouble) */
    {"dkim temperror aligned", REC("v=DMARC1; p=reject"), EX, "example.com", PM_SPF_NONE, NULL,
     "N:example.com T:mail.example.com", 0, TEMP(R, "d=mail.example.com failed temporarily")},
    {"dkim temperror unaligned", REC("v=DMARC1; p=reject"), EX, "example.com", PM_SPF_NONE, NULL,
     "T:esp.example.net", 0, FAIL(R, R, false, NULL)},
    {"dkim temperror aligned but an aligned pass", REC("v=DMARC1; p=reject"), EX, "example.com",
     PM_SPF_NONE, NULL, "T:example.com P:example.com", 0,
     PASS(R, false, false, true, "example.com", NULL)},
    {"dkim temperror strict, subdomain", REC("v=DMARC1; p=reject; adkim=s"), EX, "example.com",
     PM_SPF_NONE, NULL, "T:mail.example.com", 0, FAIL(R, R, false, NULL)},
    {"spf temperror unaligned", REC("v=DMARC1; p=reject"), EX, "example.com", PM_SPF_TEMPERROR,
     "other.example.net", "", 0, FAIL(R, R, false, NULL)},
    {"dkim none aligned", REC("v=DMARC1; p=reject"), EX, "example.com", PM_SPF_NONE, NULL,
     "-:example.com", 0, FAIL(R, R, false, NULL)},
    {"spf softfail aligned", REC("v=DMARC1; p=reject"), EX, "example.com", PM_SPF_SOFTFAIL,
     "example.com", "", 0, FAIL(R, R, false, "SPF softfail")},
    {"spf neutral aligned", REC("v=DMARC1; p=reject"), EX, "example.com", PM_SPF_NEUTRAL,
     "example.com", "", 0, FAIL(R, R, false, NULL)},
    {"spf temperror aligned", REC("v=DMARC1; p=reject"), EX, "example.com", PM_SPF_TEMPERROR,
     "example.com", "", 0, TEMP(R, "SPF for example.com failed temporarily")},
    {"spf unchecked", REC("v=DMARC1; p=reject"), EX, "example.com", PM_SPF_UNCHECKED, NULL, "", 0,
     FAIL(R, R, false, "SPF unchecked")},
    /* several signatures: the first aligned pass is reported */
    {"unaligned pass then aligned pass", REC("v=DMARC1; p=reject"), EX, "example.com", PM_SPF_NONE,
     NULL, "P:esp.example.net F:example.com P:mail.example.com P:example.com", 0,
     PASS(R, false, false, true, "mail.example.com", NULL)},
    {"an empty d=", REC("v=DMARC1; p=reject"), EX, "example.com", PM_SPF_NONE, NULL, "P:", 0,
     FAIL(R, R, false, NULL)},
    {"a d= with a control byte", REC("v=DMARC1; p=reject"), EX, "example.com", PM_SPF_NONE, NULL,
     "P:example.com\x01", 0, FAIL(R, R, false, "d=example.com\\x01")},
    /* records that apply no policy */
    {"no record", ONLY_STATUS(DMARC_REC_NONE), EX, "example.com", PM_SPF_PASS, "example.com",
     "P:example.com", 0, NOPOL(PM_DMARC_NONE, NULL)},
    {"temporary failure", ONLY_STATUS(DMARC_REC_TEMPFAIL), EX, "example.com", PM_SPF_PASS,
     "example.com", "P:example.com", 0, NOPOL(PM_DMARC_TEMPERROR, NULL)},
    {"invalid record", ONLY_STATUS(DMARC_REC_INVALID), EX, "example.com", PM_SPF_PASS,
     "example.com", "P:example.com", 0, NOPOL(PM_DMARC_PERMERROR, NULL)},
    {"invalid p= is a permerror", REC("v=DMARC1; p=bogus"), EX, "example.com", PM_SPF_FAIL,
     "example.com", "", 0, NOPOL(PM_DMARC_PERMERROR, "invalid p=\"bogus\"")},
    {"p=bogus with rua=", REC("v=DMARC1; p=bogus; rua=mailto:a@example.com"), EX, "example.com",
     PM_SPF_FAIL, "example.com", "", 0, FAIL(N, N, false, NULL)},
    /* an author domain that cannot be judged */
    {"bad author domain", REC("v=DMARC1; p=reject"), EX, "exa mple.com", PM_SPF_PASS, "example.com",
     "", 0, NOPOL(PM_DMARC_PERMERROR, "unusable author domain: exa mple.com")},
    {"NULL author domain", REC("v=DMARC1; p=reject"), EX, NULL, PM_SPF_PASS, "example.com", "", 0,
     NOPOL(PM_DMARC_PERMERROR, NULL)},
};

/* dkim_result_of - the letter of a dkim case string */
static enum pm_dkim_result dkim_result_of(char c)
{
	switch (c) {
	case 'P':
		return PM_DKIM_PASS;
	case 'F':
		return PM_DKIM_FAIL;
	case 'N':
		return PM_DKIM_NEUTRAL;
	case 'O':
		return PM_DKIM_POLICY;
	case 'T':
		return PM_DKIM_TEMPERROR;
	case 'E':
		return PM_DKIM_PERMERROR;
	default:
		return PM_DKIM_NONE;
	}
}

/* dkim_build - results from "R:d R:d ..." (sig[] is the caller's, 8 at most) */
static void dkim_build(const char *spec, struct dkim_results *res, struct dkim_sig_result *sig)
{
	char copy[256], *save = NULL;

	memset(res, 0, sizeof(*res));
	memset(sig, 0, 8 * sizeof(*sig));
	res->sig = sig;
	snprintf(copy, sizeof(copy), "%s", spec);
	for (char *tok = strtok_r(copy, " ", &save); tok != NULL && res->n < 8;
	     tok = strtok_r(NULL, " ", &save)) {
		struct dkim_sig_result *s = &sig[res->n++];

		s->result = dkim_result_of(tok[0]);
		snprintf(s->domain, sizeof(s->domain), "%s", tok + 2);
		snprintf(s->selector, sizeof(s->selector), "sel");
	}
	res->total = res->n;
}

/* test_evaluate - dmarc_evaluate over the table */
static void test_evaluate(void **state)
{
	int failed = 0;

	(void)state;
	for (size_t i = 0; i < PM_ARRAY_LEN(eval_cases); i++) {
		const struct eval_case *c = &eval_cases[i];
		struct dmarc_record rec;
		struct dkim_sig_result sig[8];
		struct dkim_results dk;
		struct dmarc_input in;
		struct dmarc_outcome out;

		if (c->record != NULL) {
			dmarc_parse_record(psl, c->record, c->rec_domain, c->found_at, &rec);
		} else {
			memset(&rec, 0, sizeof(rec));
			rec.status = c->status;
			snprintf(rec.domain, sizeof(rec.domain), "%s", c->rec_domain);
			snprintf(rec.why, sizeof(rec.why), "record status %d", c->status);
		}
		dkim_build(c->dkim, &dk, sig);
		in = (struct dmarc_input){.psl = psl,
		                          .from_domain = c->from,
		                          .rec = &rec,
		                          .spf = c->spf,
		                          .spf_domain = c->spf_domain,
		                          .dkim = &dk,
		                          .pct_roll = c->roll};
		memset(&out, 0x5a, sizeof(out));
		dmarc_evaluate(&in, &out);
		if (out.result != c->result || out.policy != c->policy ||
		    out.disposition != c->disposition || out.used_sp != c->used_sp ||
		    out.spf_aligned != c->spf_aligned || out.dkim_aligned != c->dkim_aligned ||
		    strcmp(out.dkim_domain, c->dkim_domain) != 0) {
			print_error(
			    "case %zu (%s): got %s p=%s dis=%s sp=%d spf=%d dkim=%d d=%s "
			    "(%s), want %s p=%s dis=%s sp=%d spf=%d dkim=%d d=%s\n",
			    i, c->name, pm_dmarc_result_name(out.result),
			    pm_dmarc_policy_name(out.policy), pm_dmarc_policy_name(out.disposition),
			    out.used_sp, out.spf_aligned, out.dkim_aligned, out.dkim_domain,
			    out.why, pm_dmarc_result_name(c->result),
			    pm_dmarc_policy_name(c->policy), pm_dmarc_policy_name(c->disposition),
			    c->used_sp, c->spf_aligned, c->dkim_aligned, c->dkim_domain);
			failed++;
			continue;
		}
		if (c->why != NULL && strstr(out.why, c->why) == NULL) {
			print_error("case %zu (%s): got why \"%s\", want it to hold \"%s\"\n", i,
			            c->name, out.why, c->why);
			failed++;
		}
		if (out.why[0] == '\0' || !log_safe(out.why)) {
			print_error("case %zu (%s): why \"%s\" empty or not log-safe\n", i, c->name,
			            out.why);
			failed++;
		}
	}
	if (failed)
		fail_msg("%d evaluation cases failed", failed);
}

/* test_evaluate_edges - NULL inputs and a record with impossible fields */
static void test_evaluate_edges(void **state)
{
	struct dmarc_record rec;
	struct dmarc_input in = {0};
	struct dmarc_outcome out;

	(void)state;
	in.psl = psl;
	dmarc_evaluate(&in, &out); /* no record at all */
	assert_int_equal(out.result, PM_DMARC_NONE);
	assert_int_equal(out.policy, PM_DMARC_P_UNSPEC);
	assert_int_equal(out.disposition, PM_DMARC_P_UNSPEC);

	dmarc_evaluate(NULL, &out);
	assert_int_equal(out.result, PM_DMARC_NONE);

	/* FOUND with p= unset: no policy can apply */
	memset(&rec, 0, sizeof(rec));
	rec.status = DMARC_REC_FOUND;
	rec.pct = 100;
	in.rec = &rec;
	in.from_domain = "example.com";
	dmarc_evaluate(&in, &out);
	assert_int_equal(out.result, PM_DMARC_PERMERROR);

	/* a status out of range */
	rec.status = (enum dmarc_record_status)42;
	dmarc_evaluate(&in, &out);
	assert_int_equal(out.result, PM_DMARC_PERMERROR);

	/* no DKIM results at all (NULL) and SPF pass aligned */
	dmarc_parse_record(psl, "v=DMARC1; p=reject", "example.com", NULL, &rec);
	in.dkim = NULL;
	in.spf = PM_SPF_PASS;
	in.spf_domain = "example.com";
	dmarc_evaluate(&in, &out);
	assert_int_equal(out.result, PM_DMARC_PASS);
	assert_int_equal(out.disposition, PM_DMARC_P_NONE);
	assert_int_equal(out.policy, PM_DMARC_P_REJECT);
}

/* ---- lookup (no DNS: names refused before any query) --------------- */

/* test_lookup_refused - bad names are INVALID with a log-safe why */
static void test_lookup_refused(void **state)
{
	static const char *const names[] = {
	    "b\xc3\xbc"
	    "cher.de",
	    "exa\xe2\x80\x8bmple.com",
	    "a b.example.com",
	    "",
	    ".",
	    "a..b",
	    "x\r\nexample.com",
	    NULL,
	};
	struct dmarc_record r;
	struct dns_budget b;

	(void)state;
	dns_budget_init(&b, 1, 1);
	for (size_t i = 0; i < PM_ARRAY_LEN(names); i++) {
		memset(&r, 0x5a, sizeof(r));
		dmarc_lookup(psl, names[i], &b, &r);
		if (r.status != DMARC_REC_INVALID ||
		    strstr(r.why, "not a usable domain name") == NULL || !log_safe(r.why))
			fail_msg("case %zu: got status %d why \"%s\", want INVALID, log-safe", i,
			         r.status, r.why);
		assert_string_equal(r.domain, "");
	}
}

/* ---- lookup through a fake resolver -------------------------------- */

/* What the fake resolver of test_lookup_fail answers. */
struct dmarc_fake {
	struct dns_budget *b;
	unsigned calls;
	struct msg m;
};

/*
 * dmarc_fake_query - _dmarc.found.example: a DMARC record; _dmarc.example.com:
 * refused; anything else does not exist
 */
static enum dns_status dmarc_fake_query(void *arg, const char *name, int type, int timeout,
                                        long left, const unsigned char **answer, int *answer_len)
{
	static const char txt[] = "\x12v=DMARC1; p=reject";
	struct dmarc_fake *f = arg;

	(void)timeout;
	(void)left;
	f->calls++;
	if (type == ns_t_txt && strcmp(name, "_dmarc.found.example") == 0) {
		msg_start(&f->m, name, type);
		msg_add(&f->m, ns_t_txt, txt, (int)sizeof(txt) - 1);
		*answer = f->m.b;
		*answer_len = f->m.len;
		return DNS_OK;
	}
	if (strcmp(name, "_dmarc.example.com") == 0) {
		f->b->fail = DNS_FAIL_REFUSED;
		return DNS_TEMPFAIL;
	}
	return DNS_NXDOMAIN;
}

/*
 * test_lookup_fail - through the budget: a record found; a temporary
 * failure at the organizational domain is TEMPFAIL with its cause
 * (dns_fail); a spent budget sends nothing (cause "budget")
 */
static void test_lookup_fail(void **state)
{
	struct dmarc_fake f;
	struct dmarc_record r;
	struct dns_budget b;

	(void)state;
	memset(&f, 0, sizeof(f));
	dns_budget_init(&b, 1, 10);
	b.query = dmarc_fake_query;
	b.arg = &f;
	f.b = &b;
	dmarc_lookup(psl, "found.example", &b, &r);
	if (r.status != DMARC_REC_FOUND || r.p != PM_DMARC_P_REJECT || r.dns_fail != DNS_FAIL_NONE)
		fail_msg("found.example: got status %d why \"%s\", want FOUND p=reject", r.status,
		         r.why);
	dmarc_lookup(psl, "mail.example.com", &b, &r);
	if (r.status != DMARC_REC_TEMPFAIL || r.dns_fail != DNS_FAIL_REFUSED || f.calls != 3 ||
	    b.queries != 3 || strstr(r.why, "_dmarc.example.com failed temporarily") == NULL)
		fail_msg("refused: got status %d (%s) why \"%s\" after %u queries, want TEMPFAIL "
		         "(refused) after 3",
		         r.status, dns_fail_name(r.dns_fail), r.why, b.queries);
	clock_gettime(CLOCK_MONOTONIC, &b.deadline);
	dmarc_lookup(psl, "found.example", &b, &r);
	if (r.status != DMARC_REC_TEMPFAIL || r.dns_fail != DNS_FAIL_BUDGET || f.calls != 3)
		fail_msg("spent: got status %d (%s) after %u calls, want TEMPFAIL (budget), none",
		         r.status, dns_fail_name(r.dns_fail), f.calls);
}

/* ---- the tree walk (RFC 9989 4.10) over a fake zone ----------------- */

/* One name of the fake zone: TXT records at _dmarc.<name>, or a state. */
struct zone_name {
	const char *qname;      /* the name asked, "_dmarc.x" or "x" (A) */
	enum dns_status status; /* DNS_OK with txt, or NXDOMAIN / NODATA / TEMPFAIL */
	const char *txt[3];     /* the TXT strings (DNS_OK) */
};

/* The fake resolver's zone and what it was asked. */
struct zone_fake {
	const struct zone_name *z;
	size_t nz;
	struct dns_budget *b;
	unsigned calls;
	char asked[16][(DMARC_DOMAIN_MAX + 8)];
	struct msg m;
};

/* zone_query - answer from the zone; a name not in it does not exist */
static enum dns_status zone_query(void *arg, const char *name, int type, int timeout, long left,
                                  const unsigned char **answer, int *answer_len)
{
	struct zone_fake *f = arg;

	(void)timeout;
	(void)left;
	if (f->calls < PM_ARRAY_LEN(f->asked))
		snprintf(f->asked[f->calls], sizeof(f->asked[0]), "%s", name);
	f->calls++;
	for (size_t i = 0; i < f->nz; i++) {
		const struct zone_name *e = &f->z[i];

		if (strcmp(e->qname, name) != 0)
			continue;
		if (e->status == DNS_TEMPFAIL) {
			f->b->fail = DNS_FAIL_SERVFAIL;
			return DNS_TEMPFAIL;
		}
		if (e->status != DNS_OK || type != ns_t_txt)
			return e->status == DNS_OK ? DNS_NODATA : e->status;
		msg_start(&f->m, name, type);
		for (size_t j = 0; j < PM_ARRAY_LEN(e->txt) && e->txt[j] != NULL; j++) {
			char rd[256];
			size_t len = strlen(e->txt[j]);

			rd[0] = (char)len;
			memcpy(rd + 1, e->txt[j], len);
			msg_add(&f->m, ns_t_txt, rd, (int)len + 1);
		}
		*answer = f->m.b;
		*answer_len = f->m.len;
		return DNS_OK;
	}
	return DNS_NXDOMAIN;
}

/* The zone of the walk tests: RFC 9989 B.4 and the issue's cases. */
static const struct zone_name walk_zone[] = {
    /* B.4.1 / B.4.2 */
    {"_dmarc.example.com", DNS_OK, {"v=DMARC1; p=reject"}},
    {"_dmarc.signing.example.com", DNS_OK, {"v=DMARC1; p=none"}},
    /* B.4.3 */
    {"_dmarc.giant.bank.example", DNS_OK, {"v=DMARC1; p=quarantine"}},
    {"_dmarc.bank.example", DNS_OK, {"v=DMARC1; p=reject; psd=y"}},
    /* a record at an intermediate level only */
    {"_dmarc.sales.example.net", DNS_OK, {"v=DMARC1; p=reject"}},
    /* psd=n below a record */
    {"_dmarc.mail.example.org", DNS_OK, {"v=DMARC1; psd=n; p=quarantine"}},
    {"_dmarc.example.org", DNS_OK, {"v=DMARC1; p=none"}},
    /* np: ghost.np.example does not exist, real.np.example does (no A) */
    {"_dmarc.np.example", DNS_OK, {"v=DMARC1; p=none; sp=quarantine; np=reject"}},
    {"real.np.example", DNS_NODATA, {NULL}},
    /* testing */
    {"_dmarc.t.example", DNS_OK, {"v=DMARC1; t=y; p=reject"}},
    {"_dmarc.pct0.example", DNS_OK, {"v=DMARC1; p=reject; pct=0"}},
    {"_dmarc.pct50.example", DNS_OK, {"v=DMARC1; p=reject; pct=50"}},
    /* several records at one name are discarded */
    {"_dmarc.multi.several.example", DNS_OK, {"v=DMARC1; p=none", "v=DMARC1; p=reject"}},
    {"_dmarc.several.example", DNS_OK, {"v=DMARC1; p=quarantine", "not dmarc"}},
    {"_dmarc.dup.example", DNS_OK, {"v=DMARC1; p=reject", "v=DMARC1; p=reject"}},
    /* trouble in the middle of a walk */
    {"_dmarc.mid.tmp.example", DNS_TEMPFAIL, {NULL}},
    {"_dmarc.tmp.example", DNS_OK, {"v=DMARC1; p=reject"}},
};

/* One message's walks over the fake zone: the resolver, its budget, the memo. */
struct walk_env {
	struct zone_fake f;
	struct dns_budget b;
	struct dmarc_memo memo;
	struct dmarc_ctx ctx;
	struct dmarc_record r; /* the author domain's discovery */
};

/* walk_env_new - a fresh message asking the fake zone, author discovered (the caller frees) */
static struct walk_env *walk_env_new(const char *author)
{
	struct walk_env *e = xcalloc(1, sizeof(*e));

	e->f.z = walk_zone;
	e->f.nz = PM_ARRAY_LEN(walk_zone);
	e->f.b = &e->b;
	dns_budget_init(&e->b, 1, 10);
	e->b.query = zone_query;
	e->b.arg = &e->f;
	e->ctx.discovery = DMARC_DISCOVERY_TREEWALK;
	e->ctx.budget = &e->b;
	e->ctx.memo = &e->memo;
	dmarc_discover(&e->ctx, author, &e->r);
	return e;
}

/*
 * test_walk_discover - policy discovery (4.10.1) by the tree walk: which
 * record, where, its policy, and the names asked in order
 */
static void test_walk_discover(void **state)
{
	static const struct {
		const char *author;
		enum dmarc_record_status status;
		const char *found_at; /* FOUND: where; else NULL */
		enum pm_dmarc_policy p;
		const char *asked; /* the names asked, space separated */
	} cases[] = {
	    {"example.com", DMARC_REC_FOUND, "example.com", PM_DMARC_P_REJECT,
	     "_dmarc.example.com"},
	    /* B.4.2: 8 queries, the 13-label name shortened to 7 labels */
	    {"a.b.c.d.e.f.g.h.i.j.k.example.com", DMARC_REC_FOUND, "example.com", PM_DMARC_P_REJECT,
	     "_dmarc.a.b.c.d.e.f.g.h.i.j.k.example.com _dmarc.g.h.i.j.k.example.com "
	     "_dmarc.h.i.j.k.example.com _dmarc.i.j.k.example.com _dmarc.j.k.example.com "
	     "_dmarc.k.example.com _dmarc.example.com _dmarc.com"},
	    /* B.4.3: the author's own record; psd=y above it is not asked for the policy */
	    {"giant.bank.example", DMARC_REC_FOUND, "giant.bank.example", PM_DMARC_P_QUARANTINE,
	     "_dmarc.giant.bank.example"},
	    /* no record at the org domain below psd=y: the PSD's record */
	    {"x.mega.bank.example", DMARC_REC_FOUND, "bank.example", PM_DMARC_P_REJECT,
	     "_dmarc.x.mega.bank.example _dmarc.mega.bank.example _dmarc.bank.example"},
	    /* the issue's first case: a record between the author and the PSL org domain */
	    {"eu.sales.example.net", DMARC_REC_FOUND, "sales.example.net", PM_DMARC_P_REJECT,
	     "_dmarc.eu.sales.example.net _dmarc.sales.example.net _dmarc.example.net _dmarc.net"},
	    /* psd=n stops the walk */
	    {"a.mail.example.org", DMARC_REC_FOUND, "mail.example.org", PM_DMARC_P_QUARANTINE,
	     "_dmarc.a.mail.example.org _dmarc.mail.example.org"},
	    /* records published at both levels: the one with the fewest labels */
	    {"a.signing.example.com", DMARC_REC_FOUND, "example.com", PM_DMARC_P_REJECT,
	     "_dmarc.a.signing.example.com _dmarc.signing.example.com _dmarc.example.com "
	     "_dmarc.com"},
	    /* two records at the author domain: none there, the walk goes on to the parent's
	       (a TXT record that is not DMARC's beside it does not count) */
	    {"multi.several.example", DMARC_REC_FOUND, "several.example", PM_DMARC_P_QUARANTINE,
	     "_dmarc.multi.several.example _dmarc.several.example _dmarc.example"},
	    /* two records and nothing above: no DMARC */
	    {"dup.example", DMARC_REC_NONE, NULL, PM_DMARC_P_UNSPEC,
	     "_dmarc.dup.example _dmarc.example"},
	    /* a temporary failure in the middle of the walk: never "no record" */
	    {"a.mid.tmp.example", DMARC_REC_TEMPFAIL, NULL, PM_DMARC_P_UNSPEC,
	     "_dmarc.a.mid.tmp.example _dmarc.mid.tmp.example"},
	    /* 12 labels, nothing anywhere: 8 queries, no more */
	    {"l1.l2.l3.l4.l5.l6.l7.l8.l9.l10.l11.none", DMARC_REC_NONE, NULL, PM_DMARC_P_UNSPEC,
	     "_dmarc.l1.l2.l3.l4.l5.l6.l7.l8.l9.l10.l11.none _dmarc.l6.l7.l8.l9.l10.l11.none "
	     "_dmarc.l7.l8.l9.l10.l11.none _dmarc.l8.l9.l10.l11.none _dmarc.l9.l10.l11.none "
	     "_dmarc.l10.l11.none _dmarc.l11.none _dmarc.none"},
	};
	int failed = 0;

	(void)state;
	for (size_t i = 0; i < PM_ARRAY_LEN(cases); i++) {
		struct walk_env *e = walk_env_new(cases[i].author);
		const struct zone_fake f = e->f;
		const struct dmarc_record r = e->r;
		char asked[1024] = "";

		for (unsigned j = 0; j < f.calls && j < PM_ARRAY_LEN(f.asked); j++)
			snprintf(asked + strlen(asked), sizeof(asked) - strlen(asked), "%s%s",
			         j > 0 ? " " : "", f.asked[j]);
		if (r.status != cases[i].status ||
		    (cases[i].found_at != NULL &&
		     (strcmp(r.found_at, cases[i].found_at) != 0 || r.p != cases[i].p)) ||
		    strcmp(asked, cases[i].asked) != 0 || r.queries != f.calls || f.calls > 8 ||
		    r.discovery != DMARC_DISCOVERY_TREEWALK) {
			fprintf(
			    stderr,
			    "case %zu (%s): got status %d at %s p=%s queries %u asked \"%s\" why "
			    "\"%s\"\n  want status %d at %s p=%s asked \"%s\"\n",
			    i, cases[i].author, r.status, r.found_at, pm_dmarc_policy_name(r.p),
			    r.queries, asked, r.why, cases[i].status,
			    cases[i].found_at ? cases[i].found_at : "-",
			    pm_dmarc_policy_name(cases[i].p), cases[i].asked);
			failed++;
		}
		free(e);
	}
	if (failed)
		fail_msg("%d of %zu walk discovery cases failed", failed, PM_ARRAY_LEN(cases));
}

/* ---- hostile answers (issue 14): big, many, NUL bytes, long names ---- */

/* hostile_query - _dmarc.hostile.example p=quarantine; under it 50 records at
 * _dmarc.many.*, a record with a NUL byte at _dmarc.nul.*, a 10 KB record at
 * _dmarc.big.*; any other name does not exist. Built by hand: bigger than
 * dnsmsg.h's messages. */
static enum dns_status hostile_query(void *arg, const char *name, int type, int timeout, long left,
                                     const unsigned char **answer, int *answer_len)
{
	static __thread unsigned char b[65535];
	static const char *const names[] = {"_dmarc.hostile.example", "_dmarc.many.hostile.example",
	                                    "_dmarc.nul.hostile.example",
	                                    "_dmarc.big.hostile.example"};
	unsigned *calls = arg;
	char rec[10300];
	size_t reclen, n = 1, k;
	int len = 12, which = -1;

	(void)timeout;
	(void)left;
	(*calls)++;
	for (size_t i = 0; i < PM_ARRAY_LEN(names); i++)
		if (strcmp(name, names[i]) == 0)
			which = (int)i;
	if (which < 0 || type != ns_t_txt)
		return DNS_NXDOMAIN;
	switch (which) {
	case 0:
		reclen = (size_t)snprintf(rec, sizeof(rec), "v=DMARC1; p=quarantine");
		break;
	case 1:
		reclen = (size_t)snprintf(rec, sizeof(rec), "v=DMARC1; p=reject");
		n = 50;
		break;
	case 2:
		memcpy(rec, "v=DMARC1; p=reject\0; p=none", 28);
		reclen = 28;
		break;
	default:
		reclen = (size_t)snprintf(rec, sizeof(rec), "v=DMARC1; p=reject; x=");
		memset(rec + reclen, 'a', 10240 - reclen);
		reclen = 10240;
		break;
	}
	memset(b, 0, 12);
	b[2] = 0x84; /* QR, AA */
	b[5] = 1;    /* QDCOUNT */
	b[6] = (unsigned char)(n >> 8);
	b[7] = (unsigned char)n;
	for (const char *l = name; *l != '\0';) { /* the question */
		size_t ll = strcspn(l, ".");

		b[len++] = (unsigned char)ll;
		memcpy(b + len, l, ll);
		len += (int)ll;
		l += ll + (l[ll] == '.');
	}
	b[len++] = 0;
	b[len++] = 0, b[len++] = ns_t_txt, b[len++] = 0, b[len++] = ns_c_in;
	for (size_t i = 0; i < n; i++) {
		size_t rdlen = reclen + (reclen + 254) / 255, off = 0;

		b[len++] = 0xc0, b[len++] = 12; /* the name: a pointer to the question */
		b[len++] = 0, b[len++] = ns_t_txt, b[len++] = 0, b[len++] = ns_c_in;
		b[len++] = 0, b[len++] = 0, b[len++] = 1, b[len++] = 0x2c; /* TTL 300 */
		b[len++] = (unsigned char)(rdlen >> 8), b[len++] = (unsigned char)rdlen;
		while (off < reclen) { /* character-strings of at most 255 bytes */
			k = reclen - off > 255 ? 255 : reclen - off;
			b[len++] = (unsigned char)k;
			memcpy(b + len, rec + off, k);
			len += (int)k;
			off += k;
		}
	}
	*answer = b;
	*answer_len = len;
	return DNS_OK;
}

/*
 * test_walk_hostile - hostile records and names: 50 records at one name are
 * none there, a record with a NUL byte is none there, a 10 KB record is read
 * (its unknown tag ignored), a 31-label name takes at most 8 queries; the
 * walk goes on to hostile.example's record in each case where it should
 */
static void test_walk_hostile(void **state)
{
	char deep[256] = "";
	static const struct {
		const char *author; /* NULL: the 31-label name */
		const char *found_at;
		enum pm_dmarc_policy p;
	} cases[] = {
	    {"a.many.hostile.example", "hostile.example", PM_DMARC_P_QUARANTINE},
	    {"nul.hostile.example", "hostile.example", PM_DMARC_P_QUARANTINE},
	    {"big.hostile.example", "big.hostile.example", PM_DMARC_P_REJECT},
	    {NULL, "hostile.example", PM_DMARC_P_QUARANTINE},
	};

	(void)state;
	for (int i = 1; i <= 29; i++)
		snprintf(deep + strlen(deep), sizeof(deep) - strlen(deep), "l%d.", i);
	strcat(deep, "hostile.example");
	for (size_t i = 0; i < PM_ARRAY_LEN(cases); i++) {
		const char *author = cases[i].author != NULL ? cases[i].author : deep;
		unsigned calls = 0;
		struct dns_budget b;
		struct dmarc_memo memo;
		struct dmarc_ctx ctx;
		struct dmarc_record r;

		memset(&memo, 0, sizeof(memo));
		memset(&ctx, 0, sizeof(ctx));
		dns_budget_init(&b, 1, 10);
		b.query = hostile_query;
		b.arg = &calls;
		ctx.discovery = DMARC_DISCOVERY_TREEWALK;
		ctx.budget = &b;
		ctx.memo = &memo;
		dmarc_discover(&ctx, author, &r);
		if (r.status != DMARC_REC_FOUND || strcmp(r.found_at, cases[i].found_at) != 0 ||
		    r.p != cases[i].p || calls > 8 || r.queries != calls)
			fail_msg(
			    "%.60s: got status %d at %s p=%s, %u queries (%u sent); want %s p=%s, "
			    "at most 8",
			    author, r.status, r.found_at, pm_dmarc_policy_name(r.p), r.queries,
			    calls, cases[i].found_at, pm_dmarc_policy_name(cases[i].p));
	}
}

/*
 * test_walk_evaluate - alignment by organizational domains from walks
 * (4.10.2, B.4), np= against NXDOMAIN / NODATA, t=y and pct, temperror
 * in an alignment walk; the queries each message took
 */
static void test_walk_evaluate(void **state)
{
	static const struct {
		const char *name, *author, *spf_domain; /* SPF passed for spf_domain (or NULL) */
		const char *dkim_d;                     /* a DKIM pass for d= (or NULL) */
		enum pm_dmarc_result result;
		enum pm_dmarc_policy policy, disposition;
		bool used_sp, used_np, test_mode;
		unsigned max_queries;
	} cases[] = {
	    {"B.4.1 DKIM signing.example.com aligned", "example.com", NULL, "signing.example.com",
	     PM_DMARC_PASS, PM_DMARC_P_REJECT, PM_DMARC_P_NONE, false, false, false, 3},
	    {"B.4.1 same domain: no walk", "example.com", "example.com", NULL, PM_DMARC_PASS,
	     PM_DMARC_P_REJECT, PM_DMARC_P_NONE, false, false, false, 1},
	    {"B.4.2 deep author, SPF example.com", "a.b.c.d.e.f.g.h.i.j.k.example.com",
	     "example.com", NULL, PM_DMARC_PASS, PM_DMARC_P_REJECT, PM_DMARC_P_NONE, false, false,
	     false, 8},
	    {"B.4.3 SPF mail.giant.bank.example aligned", "giant.bank.example",
	     "mail.giant.bank.example", "mail.mega.bank.example", PM_DMARC_PASS,
	     PM_DMARC_P_QUARANTINE, PM_DMARC_P_NONE, false, false, false, 8},
	    {"B.4.3 psd=y: mega.bank.example does not align", "giant.bank.example", NULL,
	     "mail.mega.bank.example", PM_DMARC_FAIL, PM_DMARC_P_QUARANTINE, PM_DMARC_P_QUARANTINE,
	     false, false, false, 8},
	    {"psd=y: two child orgs by SPF", "shop-a.bank.example", "shop-b.bank.example", NULL,
	     PM_DMARC_FAIL, PM_DMARC_P_REJECT, PM_DMARC_P_REJECT, false, false, false, 8},
	    {"psd=n: example.org is another org", "a.mail.example.org", "example.org", NULL,
	     PM_DMARC_FAIL, PM_DMARC_P_QUARANTINE, PM_DMARC_P_QUARANTINE, false, false, false, 8},
	    {"psd=n: a sibling below it aligns", "a.mail.example.org", "b.mail.example.org", NULL,
	     PM_DMARC_PASS, PM_DMARC_P_QUARANTINE, PM_DMARC_P_NONE, false, false, false, 8},
	    {"np=reject: the author domain does not exist", "ghost.np.example", NULL, NULL,
	     PM_DMARC_FAIL, PM_DMARC_P_REJECT, PM_DMARC_P_REJECT, false, true, false, 4},
	    {"np=reject: NODATA, the author exists: sp=", "real.np.example", NULL, NULL,
	     PM_DMARC_FAIL, PM_DMARC_P_QUARANTINE, PM_DMARC_P_QUARANTINE, true, false, false, 4},
	    {"np= at the domain itself: p=", "np.example", NULL, NULL, PM_DMARC_FAIL,
	     PM_DMARC_P_NONE, PM_DMARC_P_NONE, false, false, false, 1},
	    {"t=y: reject becomes quarantine", "t.example", NULL, NULL, PM_DMARC_FAIL,
	     PM_DMARC_P_REJECT, PM_DMARC_P_QUARANTINE, false, false, true, 1},
	    {"pct=0 is t=y", "pct0.example", NULL, NULL, PM_DMARC_FAIL, PM_DMARC_P_REJECT,
	     PM_DMARC_P_QUARANTINE, false, false, true, 1},
	    {"pct=50 is ignored", "pct50.example", NULL, NULL, PM_DMARC_FAIL, PM_DMARC_P_REJECT,
	     PM_DMARC_P_REJECT, false, false, false, 1},
	    {"temperror in the walk of the SPF domain", "tmp.example", "x.mid.tmp.example", NULL,
	     PM_DMARC_TEMPERROR, PM_DMARC_P_UNSPEC, PM_DMARC_P_UNSPEC, false, false, false, 4},
	};
	int failed = 0;

	(void)state;
	for (size_t i = 0; i < PM_ARRAY_LEN(cases); i++) {
		struct walk_env *e = walk_env_new(cases[i].author);
		struct dmarc_input in;
		struct dmarc_outcome o;
		struct dkim_sig_result sig;
		struct dkim_results dk;

		memset(&in, 0, sizeof(in));
		memset(&sig, 0, sizeof(sig));
		memset(&dk, 0, sizeof(dk));
		in.ctx = &e->ctx;
		in.from_domain = cases[i].author;
		in.rec = &e->r;
		in.spf = cases[i].spf_domain != NULL ? PM_SPF_PASS : PM_SPF_NONE;
		in.spf_domain = cases[i].spf_domain;
		in.pct_roll = 99;
		if (cases[i].dkim_d != NULL) {
			sig.result = PM_DKIM_PASS;
			snprintf(sig.domain, sizeof(sig.domain), "%s", cases[i].dkim_d);
			dk.n = 1;
			dk.sig = &sig;
			in.dkim = &dk;
		}
		dmarc_evaluate(&in, &o);
		if (o.result != cases[i].result || o.policy != cases[i].policy ||
		    o.disposition != cases[i].disposition || o.used_sp != cases[i].used_sp ||
		    o.used_np != cases[i].used_np || o.test_mode != cases[i].test_mode ||
		    e->f.calls > cases[i].max_queries) {
			fprintf(
			    stderr,
			    "case %zu (%s): got %s policy %s dis %s sp %d np %d test %d after %u "
			    "queries (%s)\n  want %s policy %s dis %s sp %d np %d test %d, at most "
			    "%u queries\n",
			    i, cases[i].name, pm_dmarc_result_name(o.result),
			    pm_dmarc_policy_name(o.policy), pm_dmarc_policy_name(o.disposition),
			    o.used_sp, o.used_np, o.test_mode, e->f.calls, o.why,
			    pm_dmarc_result_name(cases[i].result),
			    pm_dmarc_policy_name(cases[i].policy),
			    pm_dmarc_policy_name(cases[i].disposition), cases[i].used_sp,
			    cases[i].used_np, cases[i].test_mode, cases[i].max_queries);
			failed++;
		}
		free(e);
	}
	if (failed)
		fail_msg("%d of %zu walk evaluation cases failed", failed, PM_ARRAY_LEN(cases));
}

/*
 * test_walk_published - the tags as published, for the decision log: a
 * tag absent is not present, values kept as written, rua= whole
 */
static void test_walk_published(void **state)
{
	struct dmarc_record r;

	(void)state;
	dmarc_parse_record(NULL,
	                   "v=DMARC1; P=Reject; np=quarantine; t=y; psd=n; foo=bar; pct=0; "
	                   "rua=mailto:a@x.example,mailto:b@y.example",
	                   "x.example", "x.example", &r);
	if (r.status != DMARC_REC_FOUND || r.np != PM_DMARC_P_QUARANTINE || !r.testing ||
	    r.psd != 'n' || r.pct != 0)
		fail_msg("got status %d np %d t %d psd %c pct %d (%s), want FOUND np=quarantine "
		         "t=y psd=n pct=0",
		         r.status, r.np, r.testing, r.psd, r.pct, r.why);
	if ((r.pub.present & (1u << DMARC_T_SP)) != 0 ||
	    strcmp(r.pub.val[DMARC_T_P], "Reject") != 0 || strcmp(r.pub.val[DMARC_T_T], "y") != 0 ||
	    strcmp(r.pub.val[DMARC_T_PCT], "0") != 0 ||
	    strcmp(r.pub.rua, "mailto:a@x.example,mailto:b@y.example") != 0)
		fail_msg("published: got present %#x p \"%s\" t \"%s\" pct \"%s\" rua \"%s\"",
		         r.pub.present, r.pub.val[DMARC_T_P], r.pub.val[DMARC_T_T],
		         r.pub.val[DMARC_T_PCT], r.pub.rua);
	/* 4.10.1: a bad np= with a valid rua= is p=none, without one no policy */
	dmarc_parse_record(NULL, "v=DMARC1; p=reject; np=bogus; rua=mailto:a@x.example",
	                   "x.example", "x.example", &r);
	if (r.status != DMARC_REC_FOUND || r.p != PM_DMARC_P_NONE)
		fail_msg("bad np, rua: got status %d p %d (%s), want FOUND p=none", r.status, r.p,
		         r.why);
	dmarc_parse_record(NULL, "v=DMARC1; p=reject; np=bogus", "x.example", "x.example", &r);
	if (r.status != DMARC_REC_INVALID)
		fail_msg("bad np: got status %d (%s), want INVALID", r.status, r.why);
	/* v= must come first */
	dmarc_parse_record(NULL, "p=reject; v=DMARC1", "x.example", "x.example", &r);
	if (r.status != DMARC_REC_INVALID)
		fail_msg("v= second: got status %d (%s), want INVALID", r.status, r.why);
}

/* ---- names --------------------------------------------------------- */

/* test_names - result and policy spellings */
static void test_names(void **state)
{
	(void)state;
	assert_string_equal(pm_dmarc_result_name(PM_DMARC_UNCHECKED), "unchecked");
	assert_string_equal(pm_dmarc_result_name(PM_DMARC_NONE), "none");
	assert_string_equal(pm_dmarc_result_name(PM_DMARC_PASS), "pass");
	assert_string_equal(pm_dmarc_result_name(PM_DMARC_FAIL), "fail");
	assert_string_equal(pm_dmarc_result_name(PM_DMARC_TEMPERROR), "temperror");
	assert_string_equal(pm_dmarc_result_name(PM_DMARC_PERMERROR), "permerror");
	assert_string_equal(pm_dmarc_result_name(PM_DMARC_NRESULTS), "unknown");
	assert_string_equal(pm_dmarc_result_name((enum pm_dmarc_result) - 1), "unknown");
	assert_string_equal(pm_dmarc_policy_name(PM_DMARC_P_UNSPEC), "");
	assert_string_equal(pm_dmarc_policy_name(PM_DMARC_P_NONE), "none");
	assert_string_equal(pm_dmarc_policy_name(PM_DMARC_P_QUARANTINE), "quarantine");
	assert_string_equal(pm_dmarc_policy_name(PM_DMARC_P_REJECT), "reject");
	assert_string_equal(pm_dmarc_policy_name((enum pm_dmarc_policy)9), "");
}

/* ---- loading ------------------------------------------------------- */

/* copy_file - copy from to to (test fixture), failing the test on error */
static void copy_file(const char *from, const char *to, const char *append)
{
	FILE *in = fopen(from, "r"), *out = fopen(to, "w");
	char buf[4096];
	size_t n;

	if (in == NULL || out == NULL)
		fail_msg("cannot copy %s to %s", from, to);
	while ((n = fread(buf, 1, sizeof(buf), in)) > 0)
		fwrite(buf, 1, n, out);
	if (append != NULL)
		fputs(append, out);
	fclose(in);
	if (fclose(out) != 0)
		fail_msg("cannot write %s", to);
}

/*
 * test_psl_load - loader errors, no list, a small list; a second load of
 * an unchanged file shares the object, a changed file is read again
 */
static void test_psl_load(void **state)
{
	char err[512], buf[DMARC_DOMAIN_MAX], tmpl[] = "/tmp/test_dmarc.XXXXXX", copy[600];
	struct psl *mini, *again, *changed;

	(void)state;
	assert_null(psl_load(NULL, NULL, err, sizeof(err)));
	assert_null(psl_load("", NULL, err, sizeof(err)));
	assert_null(psl_load("relative.dat", NULL, err, sizeof(err)));
	assert_non_null(strstr(err, "absolute path"));

	/* without a list: no relaxation, each name is its own */
	assert_true(dmarc_org_domain(NULL, "a.b.example.com", buf, sizeof(buf)));
	assert_string_equal(buf, "a.b.example.com");
	assert_false(dmarc_aligned(NULL, "a.example.com", "example.com", false));
	assert_true(dmarc_aligned(NULL, "Example.com", "example.com.", false));

	if (mkdtemp(tmpl) == NULL)
		fail_msg("mkdtemp failed");
	snprintf(copy, sizeof(copy), "%s/missing.dat", tmpl);
	assert_null(psl_load(copy, NULL, err, sizeof(err)));
	assert_non_null(strstr(err, "No such file"));
	snprintf(copy, sizeof(copy), "%s/no_rules.dat", tmpl);
	copy_file(data_path("no_rules.dat"), copy, NULL);
	assert_null(psl_load(copy, NULL, err, sizeof(err)));
	assert_non_null(strstr(err, "no rules"));
	assert_null(psl_load("/", NULL, err, sizeof(err)));
	assert_non_null(strstr(err, "not a regular file"));

	/* the small list: each kind of rule */
	snprintf(copy, sizeof(copy), "%s/mini.dat", tmpl);
	copy_file(data_path("mini_psl.dat"), copy, NULL);
	mini = psl_load(copy, NULL, err, sizeof(err));
	if (mini == NULL)
		fail_msg("psl_load(%s): %s", copy, err);
	assert_string_equal(psl_file(mini), copy);
	{
		static const struct org_case cases[] = {
		    {"a.b.example.com", "example.com"},
		    {"a.b.example.org", "b.example.org"}, /* a rule, then text */
		    {"a.example.net", "example.net"},     /* implicit rule */
		    {"a.x.co.uk", "x.co.uk"},
		    {"a.b.ck", "a.b.ck"},
		    {"x.www.ck", "www.ck"},
		    {"a.b.xn--p1ai", "b.xn--p1ai"},
		    {"a.b.c.kawasaki.jp", "kawasaki.jp"}, /* not in this list */
		};
		for (size_t i = 0; i < PM_ARRAY_LEN(cases); i++) {
			assert_true(dmarc_org_domain(mini, cases[i].in, buf, sizeof(buf)));
			if (strcmp(buf, cases[i].want) != 0)
				fail_msg("mini case %zu (%s): got %s, want %s", i, cases[i].in, buf,
				         cases[i].want);
		}
	}
	/* the same file, unchanged: shared, not read again */
	again = psl_load(copy, mini, err, sizeof(err));
	if (again != mini)
		fail_msg("unchanged file: got a new list (%s), want the previous one shared", err);
	psl_release(again);
	/* another list as prev: read */
	again = psl_load(copy, psl, err, sizeof(err));
	if (again == NULL || again == mini || again == psl)
		fail_msg("another prev: got %p, want a list of its own", (void *)again);
	psl_release(again);
	/* the file changed (a rule added, so its size and time differ): read again */
	copy_file(data_path("mini_psl.dat"), copy, "example.net\n");
	changed = psl_load(copy, mini, err, sizeof(err));
	if (changed == NULL || changed == mini)
		fail_msg("changed file: got %s, want a new list", changed ? "the old list" : err);
	assert_true(dmarc_org_domain(changed, "a.b.example.net", buf, sizeof(buf)));
	assert_string_equal(buf, "b.example.net");
	assert_true(dmarc_org_domain(mini, "a.b.example.net", buf, sizeof(buf)));
	assert_string_equal(buf, "example.net"); /* the old object is unchanged */
	psl_release(changed);
	psl_release(mini);
	/* the real list of the other tests is still there */
	assert_true(dmarc_org_domain(psl, "a.x.co.uk", buf, sizeof(buf)));
	assert_string_equal(buf, "x.co.uk");
	snprintf(copy, sizeof(copy), "%s/mini.dat", tmpl);
	unlink(copy);
	snprintf(copy, sizeof(copy), "%s/no_rules.dat", tmpl);
	unlink(copy);
	rmdir(tmpl);
}

/* ---- threads ------------------------------------------------------- */

/* org_worker - org domains of the table, many times; counts mismatches */
static void *org_worker(void *arg)
{
	size_t *bad = arg;

	for (int round = 0; round < 200; round++) {
		for (size_t i = 0; i < PM_ARRAY_LEN(org_cases); i++) {
			char buf[DMARC_DOMAIN_MAX];
			bool ok = dmarc_org_domain(psl, org_cases[i].in, buf, sizeof(buf));

			if (ok != (org_cases[i].want != NULL) ||
			    (ok && strcmp(buf, org_cases[i].want) != 0))
				(*bad)++;
		}
	}
	return NULL;
}

/* test_threads - dmarc_org_domain from 8 threads at once gives the same answers */
static void test_threads(void **state)
{
	pthread_t t[8];
	size_t bad[8] = {0};

	(void)state;
	for (size_t i = 0; i < PM_ARRAY_LEN(t); i++)
		assert_int_equal(pthread_create(&t[i], NULL, org_worker, &bad[i]), 0);
	for (size_t i = 0; i < PM_ARRAY_LEN(t); i++) {
		pthread_join(t[i], NULL);
		if (bad[i] != 0)
			fail_msg("thread %zu: %zu wrong answers", i, bad[i]);
	}
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_org_domain),     cmocka_unit_test(test_org_domain_limits),
	    cmocka_unit_test(test_aligned),        cmocka_unit_test(test_parse_record),
	    cmocka_unit_test(test_parse_domains),  cmocka_unit_test(test_parse_long),
	    cmocka_unit_test(test_evaluate),       cmocka_unit_test(test_evaluate_edges),
	    cmocka_unit_test(test_lookup_refused), cmocka_unit_test(test_lookup_fail),
	    cmocka_unit_test(test_names),          cmocka_unit_test(test_psl_load),
	    cmocka_unit_test(test_threads),        cmocka_unit_test(test_walk_discover),
	    cmocka_unit_test(test_walk_hostile),   cmocka_unit_test(test_walk_evaluate),
	    cmocka_unit_test(test_walk_published),
	};

	return cmocka_run_group_tests(tests, load_psl, unload_psl);
}
