/*
 * NAME
 *	test_dkim - unit tests for dkim.c (verification on libopendkim)
 * DESCRIPTION
 *	Each case signs a test message in the test itself with libopendkim's
 *	own signer (test-only keys under tests/unit/data/dkim/, see the
 *	README there), optionally changes the message, then verifies it with
 *	dkim.c. Keys come from a lookup override (a table: found, NXDOMAIN,
 *	timeout, several records), so no network is used. Covered: pass for
 *	rsa-sha256 (relaxed and simple, with and without SMFIP_HDR_LEADSPC,
 *	bare LF) and ed25519-sha256; body and header changed; rsa-sha1;
 *	512/768-bit keys; revoked, missing, temporarily failing and
 *	duplicated key records; l= with and without appended content;
 *	several signatures, the max_signatures limit; no signature;
 *	malformed signatures; a d= that is not a host name; q= naming no
 *	supported method (permerror, no lookup); an unsigned extra Subject
 *	above the signed one (policy) and over-signed h= (pass, and fail
 *	with the extra Subject); a 4096-bit key (pass) and an 8192-bit one
 *	whose record does not fit libopendkim's buffer (permerror). The body
 *	hash is dkim.c's own (bodyhash.c), checked against libopendkim's
 *	signer: relaxed and simple white space, empty bodies, bare LF, l=
 *	shorter and longer than the body, rsa-sha1's SHA-1, a changed byte,
 *	each body fed 1, 7 and all bytes at a time, and a 100 KB body.
 *	The key cache: libopendkim's d2i_PUBKEY_bio is the one of keycache.c
 *	(the executable's), so a key is decoded once, then found: one miss,
 *	then hits; another key is another miss.
 * DIAGNOSTICS
 *	cmocka; each failure prints "got X, want Y".
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/types.h>

#include <opendkim/dkim.h>

/* by path: the compiler's -I/usr/include/opendkim also holds a "dkim.h" */
#include "../../src/dkim.h"
#include "../../src/dns.h"
#include "../../src/dnscache.h"
#include "../../src/keycache.h"
#include "util.h"

#define DATA_DIR "tests/unit/data/dkim"
#define MAXSIGS  8
#define L_FULL   (-2) /* sign with l= covering the whole body */

static DKIM_LIB *signer;

/*
 * Sanitizer hooks (used by the ASan build only). libopendkim 2.11.0~beta2
 * leaks the private key it loads for signing (dkim_free does not release
 * it): that is the test's signer, never the verifier under test, which
 * loads no private key. Only stacks through dkim_privkey_load are
 * suppressed; any other leak still fails the run.
 */
const char *__asan_default_options(void);
const char *__lsan_default_suppressions(void);

/* __asan_default_options - full malloc stacks (libcrypto has no frame pointers) */
const char *__asan_default_options(void)
{
	return "fast_unwind_on_malloc=0";
}

/* __lsan_default_suppressions - the signer's own leak, and nothing else */
const char *__lsan_default_suppressions(void)
{
	return "leak:dkim_privkey_load\n";
}

/* slurp - a file's contents (caller frees); fails the test when unreadable */
static char *slurp(const char *name)
{
	char path[512];
	const char *dir = getenv("DKIM_TEST_DATA");
	FILE *f;
	struct strbuf sb;
	char buf[4096];
	size_t n;

	snprintf(path, sizeof(path), "%s/%s", dir ? dir : DATA_DIR, name);
	f = fopen(path, "r");
	if (f == NULL)
		fail_msg("cannot open %s (run from the top of the source tree)", path);
	sb_init(&sb);
	while ((n = fread(buf, 1, sizeof(buf), f)) > 0)
		sb_appendn(&sb, buf, n);
	fclose(f);
	while (sb.len > 0 && (sb.s[sb.len - 1] == '\n' || sb.s[sb.len - 1] == '\r'))
		sb.s[--sb.len] = '\0';
	return sb_steal(&sb);
}

/* The key records the lookup override knows. */
static const struct {
	const char *name;
	enum dkim_key_status st;
	const char *file;   /* record text from this file, or */
	const char *record; /* this text */
} keys[] = {
    {"rsa._domainkey.example.org", DKIM_KEY_FOUND, "test-rsa2048.txt", NULL},
    {"rsa2._domainkey.example.org", DKIM_KEY_FOUND, "test-rsa2048.txt", NULL},
    {"rsa._domainkey.other.example", DKIM_KEY_FOUND, "test-rsa2048.txt", NULL},
    {"ed._domainkey.example.org", DKIM_KEY_FOUND, "test-ed25519.txt", NULL},
    {"small512._domainkey.example.org", DKIM_KEY_FOUND, "test-rsa512.txt", NULL},
    {"small768._domainkey.example.org", DKIM_KEY_FOUND, "test-rsa768.txt", NULL},
    {"rsa4096._domainkey.example.org", DKIM_KEY_FOUND, "test-rsa4096.txt", NULL},
    {"rsa8192._domainkey.example.org", DKIM_KEY_FOUND, "test-rsa8192.txt", NULL},
    {"revoked._domainkey.example.org", DKIM_KEY_FOUND, NULL, "v=DKIM1; k=rsa; p="},
    {"garbage._domainkey.example.org", DKIM_KEY_FOUND, NULL, "v=DKIM1; k=rsa; p=!!!notbase64"},
    {"slow._domainkey.example.org", DKIM_KEY_TEMPFAIL, NULL, NULL},
    {"multi._domainkey.example.org", DKIM_KEY_MULTIPLE, NULL, NULL},
};

static int lookups; /* how many times the override was asked */

/*
 * long_record - the 2048-bit record made longer than libopendkim's key
 * buffer: a 900-byte n= note (note), or a p= folded with white space every
 * 2 characters (fold), or both and a second k= (dup: no longer a valid
 * tag-list, so left as it is). Caller frees.
 */
static char *long_record(bool note, bool fold, bool dup)
{
	char *rec = slurp("test-rsa2048.txt");
	const char *p = strstr(rec, "p=");
	struct strbuf sb;

	assert_non_null(p);
	sb_init(&sb);
	sb_append(&sb, "v=DKIM1; k=rsa; ");
	if (dup)
		sb_append(&sb, "k=rsa; ");
	if (note) {
		sb_append(&sb, "n=");
		for (int i = 0; i < 900; i++)
			sb_appendc(&sb, 'x');
		sb_append(&sb, "; ");
	}
	sb_append(&sb, "p=");
	for (p += 2; *p; p++) {
		sb_appendc(&sb, *p);
		if (fold && ((p - rec) % 2) == 0)
			sb_append(&sb, "\t \t ");
	}
	free(rec);
	assert_true(sb.len > 1024);
	return sb_steal(&sb);
}

/* lookup - the key lookup override: the table above, NXDOMAIN for the rest */
static enum dkim_key_status lookup(const char *name, char **record, void *arg)
{
	(void)arg;
	__atomic_fetch_add(&lookups, 1, __ATOMIC_RELAXED);
	if (strcmp(name, "longnote._domainkey.example.org") == 0 ||
	    strcmp(name, "longfold._domainkey.example.org") == 0 ||
	    strcmp(name, "longdup._domainkey.example.org") == 0) {
		*record = long_record(name[4] != 'f', name[4] != 'n', name[4] == 'd');
		return DKIM_KEY_FOUND;
	}
	for (size_t i = 0; i < PM_ARRAY_LEN(keys); i++) {
		if (strcmp(keys[i].name, name) != 0)
			continue;
		if (keys[i].st == DKIM_KEY_FOUND)
			*record = keys[i].file ? slurp(keys[i].file) : xstrdup(keys[i].record);
		return keys[i].st;
	}
	return DKIM_KEY_NOTFOUND;
}

/* One signature to make. */
struct signspec {
	const char *key; /* private key file */
	dkim_alg_t alg;
	dkim_canon_t hc, bc;
	const char *d, *s;
	ssize_t length; /* -1: no l=, L_FULL: l= the whole body, else l= this */
	bool oversign;  /* h= names subject once more than it occurs (RFC 6376 8.15) */
};

enum mutation {
	MUT_NONE = 0,
	MUT_BODY,       /* a word of the body changed */
	MUT_HEADER,     /* the Subject changed */
	MUT_APPEND,     /* a paragraph appended to the body */
	MUT_BLANKS,     /* empty lines appended (nothing any canonicalisation sees) */
	MUT_BARE_LF,    /* headers and body fed with LF line ends */
	MUT_LEADSPC,    /* values given with their leading space (SMFIP_HDR_LEADSPC) */
	MUT_BADSIG_TOP, /* a malformed DKIM-Signature above the real ones */
	MUT_NO_FROM,    /* the From header field left out after signing */
	MUT_EXTRA_SUBJ, /* a second, unsigned Subject above the signed one */
	MUT_Q_HTTP,     /* q=http put into the signatures (no supported query method) */
	MUT_Q_BOTH,     /* q=http:dns/txt put into the signatures (dns/txt is still there) */
	MUT_Q_SECOND    /* q=http put into the second signature only */
};

struct want {
	enum pm_dkim_result res;
	const char *d, *s, *a;
	const char *reason; /* substring of the reason; NULL: not checked */
};

#define S256 DKIM_SIGN_RSASHA256

struct vcase {
	const char *name;
	struct signspec sigs[MAXSIGS]; /* in header order (the first is the top one) */
	int nsigs;
	enum mutation mut;
	bool allow_l;
	int max_signatures, min_key_bits;
	size_t want_n, want_total;
	struct want want[MAXSIGS];
};

static const char *const base_headers[][2] = {
    {"From", "Alice <alice@example.org>"},
    {"To", "bob@example.net"},
    {"Subject", "DKIM test message"},
    {"Date", "Mon, 23 Nov 2026 20:00:00 +0000"},
    {"Message-ID", "<dkim-test-1@example.org>"},
};
static const char base_body[] =
    "Hello Bob,\r\n\r\nthis  is a\ttest message.  \r\n\r\n-- \r\nAlice\r\n";

/* sign - a DKIM-Signature value for the message (caller frees) */
static char *sign(const struct signspec *sp, const char *body)
{
	DKIM_STAT st;
	DKIM *d;
	char *key = slurp(sp->key), *out;
	unsigned char *hdr;
	size_t len;
	unsigned int flags = sp->length == L_FULL ? DKIM_LIBFLAGS_SIGNLEN : 0;
	const char *over[] = {"subject", NULL};

	assert_int_equal(
	    dkim_options(signer, DKIM_OP_SETOPT, DKIM_OPTS_FLAGS, &flags, sizeof(flags)),
	    DKIM_STAT_OK);
	assert_int_equal(dkim_options(signer, DKIM_OP_SETOPT, DKIM_OPTS_OVERSIGNHDRS,
	                              sp->oversign ? over : NULL, sizeof(char **)),
	                 DKIM_STAT_OK);
	d = dkim_sign(signer, (const u_char *)"test", NULL, (dkim_sigkey_t)key,
	              (const u_char *)sp->s, (const u_char *)sp->d, sp->hc, sp->bc, sp->alg,
	              sp->length == L_FULL ? -1 : sp->length, &st);
	if (d == NULL)
		fail_msg("dkim_sign(%s, %s): %s", sp->key, sp->s, dkim_getresultstr(st));
	for (size_t i = 0; i < PM_ARRAY_LEN(base_headers); i++) {
		char line[512];

		snprintf(line, sizeof(line), "%s: %s", base_headers[i][0], base_headers[i][1]);
		assert_int_equal(dkim_header(d, (u_char *)line, strlen(line)), DKIM_STAT_OK);
	}
	assert_int_equal(dkim_eoh(d), DKIM_STAT_OK);
	assert_int_equal(dkim_body(d, (u_char *)body, strlen(body)), DKIM_STAT_OK);
	st = dkim_eom(d, NULL);
	if (st != DKIM_STAT_OK)
		fail_msg("dkim_eom (signing with %s): %s: %s", sp->key, dkim_getresultstr(st),
		         dkim_geterror(d));
	assert_int_equal(dkim_getsighdr_d(d, strlen("DKIM-Signature: "), &hdr, &len), DKIM_STAT_OK);
	out = xstrndup((const char *)hdr, len);
	dkim_free(d);
	free(key);
	return out;
}

/* b8 - the first 8 characters of a signature value's b= (static buffer) */
static const char *b8(const char *sig)
{
	static char out[9];
	const char *p = strstr(sig, " b=");
	size_t n = 0;

	if (p == NULL)
		p = strstr(sig, "\tb=");
	if (p == NULL)
		return "";
	for (p += 3; *p && *p != ';' && n < 8; p++)
		if (*p != ' ' && *p != '\t' && *p != '\r' && *p != '\n')
			out[n++] = *p;
	out[n] = '\0';
	return out;
}

/* lf_only - s with every CRLF made LF (caller frees) */
static char *lf_only(const char *s)
{
	char *out = xstrdup(s), *o = out;

	for (; *s; s++)
		if (!(s[0] == '\r' && s[1] == '\n'))
			*o++ = *s;
	*o = '\0';
	return out;
}

/* verify through dns.c within this budget, or to this deadline (NULL: the table of keys) */
static struct dns_budget *test_budget;

/* verify_msg - the message with these signature values, mutated as c says, verified */
static void verify_msg(const struct vcase *c, char *const *sigs, struct dkim_results *res)
{
	struct dkim_verify_settings set;
	struct dkim_verifier *v;
	const char *body = base_body;
	char *owned_body = NULL;
	bool lf = c->mut == MUT_BARE_LF, lead = c->mut == MUT_LEADSPC;

	dkim_verify_defaults(&set);
	set.key_lookup = lookup;
	set.allow_l = c->allow_l;
	set.leadspc = lead;
	if (c->max_signatures)
		set.max_signatures = c->max_signatures;
	if (c->min_key_bits)
		set.min_key_bits = c->min_key_bits;
	if (test_budget != NULL)
		set.key_lookup = NULL; /* dns.c, which must not even be asked */
	v = dkim_verify_new(&set, "TESTQID");
	assert_non_null(v);
	dkim_verify_budget(v, test_budget);
	if (c->mut == MUT_BADSIG_TOP)
		dkim_verify_header(v, "DKIM-Signature", "v=1; a=rsa-sha256; d=example.org; s=rsa");
	if (c->mut == MUT_EXTRA_SUBJ)
		dkim_verify_header(v, "Subject", "Your account is closed: pay here");
	for (int i = 0; i < c->nsigs; i++) {
		char *val = lf ? lf_only(sigs[i]) : xstrdup(sigs[i]);
		struct strbuf sb;

		sb_init(&sb);
		sb_appendf(&sb, "%s%s%s", lead ? " " : "",
		           c->mut == MUT_Q_HTTP || (c->mut == MUT_Q_SECOND && i == 1) ? "q=http; "
		           : c->mut == MUT_Q_BOTH ? "q = http : dns/txt; "
		                                  : "",
		           val);
		dkim_verify_header(v, "DKIM-Signature", sb.s);
		sb_free(&sb);
		free(val);
	}
	for (size_t i = 0; i < PM_ARRAY_LEN(base_headers); i++) {
		const char *val = base_headers[i][1];
		char buf[512];

		if (c->mut == MUT_NO_FROM && strcmp(base_headers[i][0], "From") == 0)
			continue;
		if (c->mut == MUT_HEADER && strcmp(base_headers[i][0], "Subject") == 0)
			val = "DKIM test message (changed)";
		snprintf(buf, sizeof(buf), "%s%s", lead ? " " : "", val);
		dkim_verify_header(v, base_headers[i][0], buf);
	}
	dkim_verify_eoh(v);
	switch (c->mut) {
	case MUT_BODY:
		owned_body = xstrdup(base_body);
		memcpy(strstr(owned_body, "Bob"), "Eve", 3);
		body = owned_body;
		break;
	case MUT_APPEND:
		owned_body = xmalloc(strlen(base_body) + 64);
		sprintf(owned_body, "%sP.S. Send the money to account 1234.\r\n", base_body);
		body = owned_body;
		break;
	case MUT_BLANKS:
		owned_body = xmalloc(strlen(base_body) + 16);
		sprintf(owned_body, "%s\r\n\r\n\r\n", base_body);
		body = owned_body;
		break;
	case MUT_BARE_LF:
		owned_body = lf_only(base_body);
		body = owned_body;
		break;
	default:
		break;
	}
	/* in small chunks, as libmilter may hand them */
	for (size_t off = 0, len = strlen(body); off < len; off += 7)
		dkim_verify_body(v, (const unsigned char *)body + off,
		                 len - off < 7 ? len - off : 7);
	dkim_verify_eom(v, res);
	dkim_verify_free(v);
	free(owned_body);
}

/* run - sign, mutate, verify one case; results into *res, b= prefixes into b */
static void run(const struct vcase *c, struct dkim_results *res, char b[][9])
{
	char *sigs[MAXSIGS] = {0};

	for (int i = 0; i < c->nsigs; i++) {
		sigs[i] = sign(&c->sigs[i], base_body);
		snprintf(b[i], 9, "%s", b8(sigs[i]));
	}
	verify_msg(c, sigs, res);
	for (int i = 0; i < c->nsigs; i++)
		free(sigs[i]);
}

/* SIG - one signature spec; GOOD and GOOD2 pass as they are */
#define SIG(key, alg, hc, bc, d, s, len)                                                           \
	{                                                                                          \
		key, alg, DKIM_CANON_##hc, DKIM_CANON_##bc, d, s, len, false                       \
	}
#define GOOD  SIG("test-rsa2048.key", S256, RELAXED, RELAXED, "example.org", "rsa", -1)
#define GOOD2 SIG("test-rsa2048.key", S256, SIMPLE, SIMPLE, "example.org", "rsa2", -1)
#define W(r, s, why)                                                                               \
	{                                                                                          \
		PM_DKIM_##r, "example.org", s, "rsa-sha256", why                                   \
	}

static const struct vcase cases[] = {
    {"rsa-sha256 2048 relaxed/relaxed",
     {GOOD},
     1,
     MUT_NONE,
     false,
     0,
     0,
     1,
     1,
     {W(PASS, "rsa", "")}},
    {"rsa-sha256 2048 simple/simple",
     {GOOD2},
     1,
     MUT_NONE,
     false,
     0,
     0,
     1,
     1,
     {W(PASS, "rsa2", "")}},
    {"simple/simple, SMFIP_HDR_LEADSPC values",
     {GOOD2},
     1,
     MUT_LEADSPC,
     false,
     0,
     0,
     1,
     1,
     {W(PASS, "rsa2", "")}},
    {"relaxed, bare LF line ends", {GOOD}, 1, MUT_BARE_LF, false, 0, 0, 1, 1, {W(PASS, "rsa", "")}},
    {"simple, bare LF line ends",
     {GOOD2},
     1,
     MUT_BARE_LF,
     false,
     0,
     0,
     1,
     1,
     {W(PASS, "rsa2", "")}},
    {"ed25519-sha256 (RFC 8463)",
     {SIG("test-ed25519.key", DKIM_SIGN_ED25519SHA256, RELAXED, RELAXED, "example.org", "ed", -1)},
     1,
     MUT_NONE,
     false,
     0,
     0,
     1,
     1,
     {{PM_DKIM_PASS, "example.org", "ed", "ed25519-sha256", ""}}},
    {"body changed", {GOOD}, 1, MUT_BODY, false, 0, 0, 1, 1, {W(FAIL, "rsa", "body hash")}},
    {"body changed, simple",
     {GOOD2},
     1,
     MUT_BODY,
     false,
     0,
     0,
     1,
     1,
     {W(FAIL, "rsa2", "body hash")}},
    {"Subject changed",
     {GOOD},
     1,
     MUT_HEADER,
     false,
     0,
     0,
     1,
     1,
     {W(FAIL, "rsa", "bad signature")}},
    {"rsa-sha1 (RFC 8301)",
     {SIG("test-rsa2048.key", DKIM_SIGN_RSASHA1, RELAXED, RELAXED, "example.org", "rsa", -1)},
     1,
     MUT_NONE,
     false,
     0,
     0,
     1,
     1,
     {{PM_DKIM_POLICY, "example.org", "rsa", "rsa-sha1", "rsa-sha1"}}},
    {"512-bit key",
     {SIG("test-rsa512.key", S256, RELAXED, RELAXED, "example.org", "small512", -1)},
     1,
     MUT_NONE,
     false,
     0,
     0,
     1,
     1,
     {W(POLICY, "small512", "512-bit key")}},
    {"768-bit key",
     {SIG("test-rsa768.key", S256, RELAXED, RELAXED, "example.org", "small768", -1)},
     1,
     MUT_NONE,
     false,
     0,
     0,
     1,
     1,
     {W(POLICY, "small768", "768-bit key")}},
    {"768-bit key, min_key_bits 768",
     {SIG("test-rsa768.key", S256, RELAXED, RELAXED, "example.org", "small768", -1)},
     1,
     MUT_NONE,
     false,
     0,
     768,
     1,
     1,
     {W(PASS, "small768", "")}},
    {"revoked key (empty p=)",
     {SIG("test-rsa2048.key", S256, RELAXED, RELAXED, "example.org", "revoked", -1)},
     1,
     MUT_NONE,
     false,
     0,
     0,
     1,
     1,
     {W(FAIL, "revoked", "revoked")}},
    {"key record not base64",
     {SIG("test-rsa2048.key", S256, RELAXED, RELAXED, "example.org", "garbage", -1)},
     1,
     MUT_NONE,
     false,
     0,
     0,
     1,
     1,
     {W(PERMERROR, "garbage", NULL)}},
    {"no key record (NXDOMAIN)",
     {SIG("test-rsa2048.key", S256, RELAXED, RELAXED, "example.org", "missing", -1)},
     1,
     MUT_NONE,
     false,
     0,
     0,
     1,
     1,
     {W(PERMERROR, "missing", "no key record")}},
    {"key lookup timeout",
     {SIG("test-rsa2048.key", S256, RELAXED, RELAXED, "example.org", "slow", -1)},
     1,
     MUT_NONE,
     false,
     0,
     0,
     1,
     1,
     {W(TEMPERROR, "slow", "temporarily")}},
    {"several key records",
     {SIG("test-rsa2048.key", S256, RELAXED, RELAXED, "example.org", "multi", -1)},
     1,
     MUT_NONE,
     false,
     0,
     0,
     1,
     1,
     {W(PERMERROR, "multi", "several")}},
    {"l= whole body",
     {SIG("test-rsa2048.key", S256, RELAXED, RELAXED, "example.org", "rsa", L_FULL)},
     1,
     MUT_NONE,
     false,
     0,
     0,
     1,
     1,
     {W(PASS, "rsa", "")}},
    {"l= whole body, empty lines appended",
     {SIG("test-rsa2048.key", S256, RELAXED, RELAXED, "example.org", "rsa", L_FULL)},
     1,
     MUT_BLANKS,
     false,
     0,
     0,
     1,
     1,
     {W(PASS, "rsa", "")}},
    {"l= whole body (simple), empty lines appended",
     {SIG("test-rsa2048.key", S256, SIMPLE, SIMPLE, "example.org", "rsa", L_FULL)},
     1,
     MUT_BLANKS,
     false,
     0,
     0,
     1,
     1,
     {W(PASS, "rsa", "")}},
    {"l= whole body, content appended",
     {SIG("test-rsa2048.key", S256, RELAXED, RELAXED, "example.org", "rsa", L_FULL)},
     1,
     MUT_APPEND,
     false,
     0,
     0,
     1,
     1,
     {W(POLICY, "rsa", "l=")}},
    {"l= whole body (simple), content appended",
     {SIG("test-rsa2048.key", S256, SIMPLE, SIMPLE, "example.org", "rsa", L_FULL)},
     1,
     MUT_APPEND,
     false,
     0,
     0,
     1,
     1,
     {W(POLICY, "rsa", "l=")}},
    {"l= whole body, content appended, allow_l",
     {SIG("test-rsa2048.key", S256, RELAXED, RELAXED, "example.org", "rsa", L_FULL)},
     1,
     MUT_APPEND,
     true,
     0,
     0,
     1,
     1,
     {W(PASS, "rsa", "")}},
    {"l=10 (part of the body)",
     {SIG("test-rsa2048.key", S256, SIMPLE, SIMPLE, "example.org", "rsa", 10)},
     1,
     MUT_NONE,
     false,
     0,
     0,
     1,
     1,
     {W(POLICY, "rsa", "l=")}},
    {"one good, one bad (wrong key)",
     {GOOD, SIG("test-rsa768.key", S256, RELAXED, RELAXED, "example.org", "rsa2", -1)},
     2,
     MUT_NONE,
     false,
     0,
     0,
     2,
     2,
     {W(PASS, "rsa", ""), W(FAIL, "rsa2", "bad signature")}},
    {"one bad, one good, third party",
     {SIG("test-rsa2048.key", S256, RELAXED, RELAXED, "example.org", "missing", -1),
      SIG("test-rsa2048.key", S256, SIMPLE, RELAXED, "other.example", "rsa", -1)},
     2,
     MUT_NONE,
     false,
     0,
     0,
     2,
     2,
     {W(PERMERROR, "missing", NULL), {PM_DKIM_PASS, "other.example", "rsa", "rsa-sha256", ""}}},
    {"key trouble of every kind, then a good one",
     {SIG("test-rsa2048.key", S256, RELAXED, RELAXED, "example.org", "slow", -1),
      SIG("test-rsa2048.key", S256, RELAXED, RELAXED, "example.org", "multi", -1),
      SIG("test-rsa2048.key", S256, RELAXED, RELAXED, "example.org", "revoked", -1),
      SIG("test-rsa2048.key", S256, RELAXED, RELAXED, "example.org", "garbage", -1), GOOD},
     5,
     MUT_NONE,
     false,
     0,
     0,
     5,
     5,
     {W(TEMPERROR, "slow", NULL), W(PERMERROR, "multi", NULL), W(FAIL, "revoked", "revoked"),
      W(PERMERROR, "garbage", NULL), W(PASS, "rsa", "")}},
    {"7 signatures, default max 5",
     {GOOD, GOOD2, GOOD, GOOD2, GOOD, GOOD2, GOOD},
     7,
     MUT_NONE,
     false,
     0,
     0,
     5,
     7,
     {W(PASS, "rsa", ""), W(PASS, "rsa2", ""), W(PASS, "rsa", ""), W(PASS, "rsa2", ""),
      W(PASS, "rsa", "")}},
    {"3 signatures, max 2",
     {GOOD, GOOD2, SIG("test-rsa2048.key", S256, RELAXED, RELAXED, "example.org", "slow", -1)},
     3,
     MUT_NONE,
     false,
     2,
     0,
     2,
     3,
     {W(PASS, "rsa", ""), W(PASS, "rsa2", "")}},
    {"no signature", {{0}}, 0, MUT_NONE, false, 0, 0, 0, 0, {{0}}},
    {"malformed signature above a good one",
     {GOOD},
     1,
     MUT_BADSIG_TOP,
     false,
     0,
     0,
     2,
     2,
     {W(NEUTRAL, "rsa", NULL), W(PASS, "rsa", "")}},
    {"malformed signature alone",
     {{0}},
     0,
     MUT_BADSIG_TOP,
     false,
     0,
     0,
     1,
     1,
     {W(NEUTRAL, "rsa", NULL)}},
    {"d= not a host name",
     {SIG("test-rsa2048.key", S256, RELAXED, RELAXED, "legit.test(.evil.test", "rsa", -1)},
     1,
     MUT_NONE,
     false,
     0,
     0,
     1,
     1,
     {{PM_DKIM_NEUTRAL, "legit.test(.evil.test", "rsa", "rsa-sha256", "malformed"}}},
    {"From removed after signing",
     {GOOD},
     1,
     MUT_NO_FROM,
     false,
     0,
     0,
     1,
     1,
     {W(PERMERROR, "rsa", "from")}},
    {"s= not a host name",
     {SIG("test-rsa2048.key", S256, RELAXED, RELAXED, "example.org", "rsa!x", -1)},
     1,
     MUT_NONE,
     false,
     0,
     0,
     1,
     1,
     {W(PERMERROR, "rsa!x", "host name")}},
    /* q= (RFC 6376 3.5, 6.1.2): no supported method, no key lookup, permerror */
    {"q=http", {GOOD}, 1, MUT_Q_HTTP, false, 0, 0, 1, 1, {W(PERMERROR, "rsa", "q=")}},
    /* the same d= and s= as a good signature: libopendkim reuses that key, still permerror */
    {"q=http on the second of two signatures with one key",
     {GOOD, GOOD},
     2,
     MUT_Q_SECOND,
     false,
     0,
     0,
     2,
     2,
     {W(PASS, "rsa", ""), W(PERMERROR, "rsa", "q=")}},
    /* q= with dns/txt among others is looked up (the tag breaks the signature: fail) */
    {"q=http:dns/txt", {GOOD}, 1, MUT_Q_BOTH, false, 0, 0, 1, 1, {W(FAIL, "rsa", "bad signature")}},
    /* an unsigned Subject above the signed one (attack A15): not pass */
    {"extra Subject above the signed one",
     {GOOD},
     1,
     MUT_EXTRA_SUBJ,
     false,
     0,
     0,
     1,
     1,
     {W(POLICY, "rsa", "Subject occurs 2 times, h= signs 1")}},
    {"extra Subject, simple",
     {GOOD2},
     1,
     MUT_EXTRA_SUBJ,
     false,
     0,
     0,
     1,
     1,
     {W(POLICY, "rsa2", "Subject occurs 2 times, h= signs 1")}},
    /* over-signed (h= names subject twice): one Subject passes, a second one breaks it */
    {"over-signed Subject",
     {{"test-rsa2048.key", S256, DKIM_CANON_RELAXED, DKIM_CANON_RELAXED, "example.org", "rsa", -1,
       true}},
     1,
     MUT_NONE,
     false,
     0,
     0,
     1,
     1,
     {W(PASS, "rsa", "")}},
    {"over-signed Subject, extra Subject above",
     {{"test-rsa2048.key", S256, DKIM_CANON_RELAXED, DKIM_CANON_RELAXED, "example.org", "rsa", -1,
       true}},
     1,
     MUT_EXTRA_SUBJ,
     false,
     0,
     0,
     1,
     1,
     {W(FAIL, "rsa", "bad signature")}},
    /* key records: a 4096-bit one fits libopendkim's buffer, an 8192-bit one does not */
    {"4096-bit key",
     {SIG("test-rsa4096.key", S256, RELAXED, RELAXED, "example.org", "rsa4096", -1)},
     1,
     MUT_NONE,
     false,
     0,
     0,
     1,
     1,
     {W(PASS, "rsa4096", "")}},
    /* the same key in fewer bytes: notes and white space dropped, it fits */
    {"2048-bit key record with a 900-byte note",
     {SIG("test-rsa2048.key", S256, RELAXED, RELAXED, "example.org", "longnote", -1)},
     1,
     MUT_NONE,
     false,
     0,
     0,
     1,
     1,
     {W(PASS, "longnote", "")}},
    {"2048-bit key record with p= folded past 1024 bytes",
     {SIG("test-rsa2048.key", S256, RELAXED, RELAXED, "example.org", "longfold", -1)},
     1,
     MUT_NONE,
     false,
     0,
     0,
     1,
     1,
     {W(PASS, "longfold", "")}},
    {"long key record with a tag twice: not compacted, permerror",
     {SIG("test-rsa2048.key", S256, RELAXED, RELAXED, "example.org", "longdup", -1)},
     1,
     MUT_NONE,
     false,
     0,
     0,
     1,
     1,
     {W(PERMERROR, "longdup", "key record longer than 1024 bytes")}},
    {"8192-bit key: record longer than 1024 bytes",
     {SIG("test-rsa8192.key", S256, RELAXED, RELAXED, "example.org", "rsa8192", -1)},
     1,
     MUT_NONE,
     false,
     0,
     0,
     1,
     1,
     {W(PERMERROR, "rsa8192", "key record longer than 1024 bytes")}},
};

/* BAD - report one mismatch and go on with the next check */
#define BAD(...)                                                                                   \
	do {                                                                                       \
		print_error(__VA_ARGS__);                                                          \
		print_error("\n");                                                                 \
		bad++;                                                                             \
	} while (0)

/* test_verify - every case of the table */
static void test_verify(void **state)
{
	int bad = 0;

	(void)state;
	for (size_t i = 0; i < PM_ARRAY_LEN(cases); i++) {
		const struct vcase *c = &cases[i];
		struct dkim_results res;
		char b[MAXSIGS][9] = {{0}};

		run(c, &res, b);
		if (res.n != c->want_n || res.total != c->want_total)
			BAD("%s: got n=%zu total=%zu, want n=%zu total=%zu", c->name, res.n,
			    res.total, c->want_n, c->want_total);
		for (size_t j = 0; j < res.n; j++) {
			const struct dkim_sig_result *r = &res.sig[j];
			const struct want *w = &c->want[j];
			/* the malformed signature sits above the signed ones */
			size_t k = c->mut == MUT_BADSIG_TOP ? j - 1 : j;

			if (r->result != w->res)
				BAD("%s: signature %zu: got %s (%s), want %s", c->name, j,
				    pm_dkim_result_name(r->result), r->reason,
				    pm_dkim_result_name(w->res));
			if (strcmp(r->domain, w->d) != 0 || strcmp(r->selector, w->s) != 0 ||
			    strcmp(r->algorithm, w->a) != 0)
				BAD("%s: signature %zu: got d=%s s=%s a=%s, want d=%s s=%s a=%s",
				    c->name, j, r->domain, r->selector, r->algorithm, w->d, w->s,
				    w->a);
			if (w->reason != NULL && strstr(r->reason, w->reason) == NULL)
				BAD("%s: signature %zu: got reason \"%s\", want one with \"%s\"",
				    c->name, j, r->reason, w->reason);
			if (c->mut == MUT_BADSIG_TOP && j == 0) {
				if (r->b[0] != '\0')
					BAD("%s: got b=%s, want none", c->name, r->b);
			} else if (strcmp(r->b, b[k]) != 0 || strlen(r->b) != 8) {
				BAD("%s: signature %zu: got header.b=%s, want %s", c->name, j, r->b,
				    b[k]);
			}
		}
		dkim_results_free(&res);
	}
	if (bad > 0)
		fail_msg("%d of %zu cases failed", bad, PM_ARRAY_LEN(cases));
}

/*
 * verify_body - one signature over the base headers, checked with body
 * fed in chunks of chunk bytes (0: at once); its result and reason
 */
static enum pm_dkim_result verify_body(const char *sig, const char *body, size_t chunk,
                                       bool allow_l, char *reason, size_t reasonsize)
{
	struct dkim_verify_settings set;
	struct dkim_verifier *v;
	struct dkim_results res;
	enum pm_dkim_result out;
	size_t len = strlen(body);

	dkim_verify_defaults(&set);
	set.key_lookup = lookup;
	set.allow_l = allow_l;
	v = dkim_verify_new(&set, "TESTQID");
	dkim_verify_header(v, "DKIM-Signature", sig);
	for (size_t i = 0; i < PM_ARRAY_LEN(base_headers); i++)
		dkim_verify_header(v, base_headers[i][0], base_headers[i][1]);
	dkim_verify_eoh(v);
	if (chunk == 0)
		chunk = len ? len : 1;
	for (size_t off = 0; off < len; off += chunk)
		dkim_verify_body(v, (const unsigned char *)body + off,
		                 len - off < chunk ? len - off : chunk);
	dkim_verify_eom(v, &res);
	assert_int_equal(res.n, 1);
	out = res.sig[0].result;
	snprintf(reason, reasonsize, "%s", res.sig[0].reason);
	dkim_results_free(&res);
	dkim_verify_free(v);
	return out;
}

/* One body case: signed over one body (by libopendkim's signer), verified over another. */
struct bcase {
	const char *name;
	dkim_canon_t bc;
	dkim_alg_t alg;
	ssize_t length; /* -1: no l=, L_FULL: the whole signed body, else l= this */
	bool allow_l;
	const char *signed_body, *seen_body;
	enum pm_dkim_result want;
	const char *reason; /* substring of the reason */
};

static const struct bcase bcases[] = {
    {"relaxed, same body", DKIM_CANON_RELAXED, S256, -1, false, "Hi\r\n", "Hi\r\n", PM_DKIM_PASS,
     ""},
    {"relaxed, a word changed", DKIM_CANON_RELAXED, S256, -1, false, "Hi Bob\r\n", "Hi Eve\r\n",
     PM_DKIM_FAIL, "body hash mismatch"},
    {"simple, a word changed", DKIM_CANON_SIMPLE, S256, -1, false, "Hi Bob\r\n", "Hi Eve\r\n",
     PM_DKIM_FAIL, "body hash mismatch"},
    {"relaxed, white space runs and line ends changed", DKIM_CANON_RELAXED, S256, -1, false,
     "a  b\t c \t\r\n\r\nd\r\n\r\n\r\n", "a b  c\r\n\r\nd \t\r\n", PM_DKIM_PASS, ""},
    {"simple, the same white space change", DKIM_CANON_SIMPLE, S256, -1, false,
     "a  b\t c \t\r\n\r\nd\r\n\r\n\r\n", "a b  c\r\n\r\nd \t\r\n", PM_DKIM_FAIL,
     "body hash mismatch"},
    {"simple, empty lines at the end dropped", DKIM_CANON_SIMPLE, S256, -1, false, "a \r\n",
     "a \r\n\r\n\r\n", PM_DKIM_PASS, ""},
    {"relaxed, white space inside a word added", DKIM_CANON_RELAXED, S256, -1, false, "ab\r\n",
     "a b\r\n", PM_DKIM_FAIL, "body hash mismatch"},
    {"simple, empty body", DKIM_CANON_SIMPLE, S256, -1, false, "", "", PM_DKIM_PASS, ""},
    {"relaxed, empty body", DKIM_CANON_RELAXED, S256, -1, false, "", "", PM_DKIM_PASS, ""},
    {"simple, empty body seen as empty lines", DKIM_CANON_SIMPLE, S256, -1, false, "", "\r\n\r\n",
     PM_DKIM_PASS, ""},
    {"relaxed, empty body, a line added", DKIM_CANON_RELAXED, S256, -1, false, "", "x\r\n",
     PM_DKIM_FAIL, "body hash mismatch"},
    {"relaxed, bare LF line ends", DKIM_CANON_RELAXED, S256, -1, false, "a\r\n\r\nb\r\n",
     "a\n\nb\n", PM_DKIM_PASS, ""},
    {"simple, bare LF line ends", DKIM_CANON_SIMPLE, S256, -1, false, "a \r\n\r\nb\r\n",
     "a \n\nb\n", PM_DKIM_PASS, ""},
    {"simple, no line end at the end", DKIM_CANON_SIMPLE, S256, -1, false, "a\r\n", "a",
     PM_DKIM_PASS, ""},
    {"l=5, text appended, allow_l", DKIM_CANON_SIMPLE, S256, 5, true, "abcdefgh\r\n",
     "abcdefgh\r\nmore text\r\n", PM_DKIM_PASS, ""},
    {"l=5, byte 6 changed, allow_l", DKIM_CANON_SIMPLE, S256, 5, true, "abcdefgh\r\n",
     "abcdeXgh\r\n", PM_DKIM_PASS, ""},
    {"l=5, byte 5 changed, allow_l", DKIM_CANON_SIMPLE, S256, 5, true, "abcdefgh\r\n",
     "abcdXfgh\r\n", PM_DKIM_FAIL, "body hash mismatch"},
    {"l=5, shorter than the body", DKIM_CANON_RELAXED, S256, 5, false, "abcdefgh\r\n",
     "abcdefgh\r\n", PM_DKIM_POLICY, "l= shorter"},
    {"l= the whole body, body cut", DKIM_CANON_RELAXED, S256, L_FULL, false, "abc\r\ndef\r\n",
     "abc\r\n", PM_DKIM_NEUTRAL, NULL},
    {"rsa-sha1 (SHA-1 body hash), same body", DKIM_CANON_RELAXED, DKIM_SIGN_RSASHA1, -1, false,
     "Hi\r\n", "Hi\r\n", PM_DKIM_POLICY, "rsa-sha1"},
    {"rsa-sha1, body changed", DKIM_CANON_RELAXED, DKIM_SIGN_RSASHA1, -1, false, "Hi\r\n", "Ho\r\n",
     PM_DKIM_FAIL, "body hash mismatch"},
};

/* test_body_hash - our body hash decides, whatever the chunks: each case fed 1, 7 and all bytes */
static void test_body_hash(void **state)
{
	static const size_t chunks[] = {1, 7, 0};
	struct strbuf big;
	int bad = 0;

	(void)state;
	for (size_t i = 0; i < PM_ARRAY_LEN(bcases); i++) {
		const struct bcase *c = &bcases[i];
		struct signspec sp = {"test-rsa2048.key", c->alg, DKIM_CANON_RELAXED, c->bc,
		                      "example.org",      "rsa",  c->length,          false};
		char *sig = sign(&sp, c->signed_body), reason[256];

		for (size_t k = 0; k < PM_ARRAY_LEN(chunks); k++) {
			enum pm_dkim_result got = verify_body(sig, c->seen_body, chunks[k],
			                                      c->allow_l, reason, sizeof(reason));

			if (got != c->want ||
			    (c->reason != NULL && strstr(reason, c->reason) == NULL))
				BAD("%s (chunks of %zu): got %s (%s), want %s (%s)", c->name,
				    chunks[k], pm_dkim_result_name(got), reason,
				    pm_dkim_result_name(c->want),
				    c->reason ? c->reason : "any reason");
		}
		free(sig);
	}
	/* a body larger than the canonicalizer's buffer, in 1-byte and 4097-byte chunks */
	sb_init(&big);
	for (int i = 0; i < 3000; i++)
		sb_appendf(&big, "line %d  with\ttabs and  spaces \r\n%s", i,
		           i % 100 ? "" : "\r\n");
	{
		struct signspec sp = {"test-rsa2048.key",
		                      S256,
		                      DKIM_CANON_RELAXED,
		                      DKIM_CANON_RELAXED,
		                      "example.org",
		                      "rsa",
		                      -1,
		                      false};
		char *sig = sign(&sp, big.s), reason[256];
		const size_t sizes[] = {1, 4097, 0};

		for (size_t k = 0; k < PM_ARRAY_LEN(sizes); k++) {
			enum pm_dkim_result got =
			    verify_body(sig, big.s, sizes[k], false, reason, sizeof(reason));

			if (got != PM_DKIM_PASS)
				BAD("big body (chunks of %zu): got %s (%s), want pass", sizes[k],
				    pm_dkim_result_name(got), reason);
		}
		big.s[big.len / 2] ^= 1;
		if (verify_body(sig, big.s, 0, false, reason, sizeof(reason)) != PM_DKIM_FAIL)
			BAD("big body, one bit flipped: got %s (%s), want fail", "not fail",
			    reason);
		free(sig);
	}
	sb_free(&big);
	if (bad > 0)
		fail_msg("%d body hash checks failed", bad);
}

/* test_limit_skips_lookups - signatures past max_signatures are not even looked up */
static void test_limit_skips_lookups(void **state)
{
	static const struct vcase c = {"limit", {GOOD, GOOD2, GOOD}, 3, MUT_NONE, false, 1, 0, 1, 3,
	                               {{0}}};
	struct dkim_results res;
	char b[MAXSIGS][9];

	(void)state;
	lookups = 0;
	run(&c, &res, b);
	if (lookups != 1)
		fail_msg("got %d key lookups, want 1", lookups);
	if (res.n != 1 || res.sig[0].result != PM_DKIM_PASS)
		fail_msg("got n=%zu %s, want n=1 pass", res.n,
		         res.n ? pm_dkim_result_name(res.sig[0].result) : "-");
	dkim_results_free(&res);
}

/*
 * test_deadline_spent - the end-of-message deadline is gone before the key
 * lookups: every signature is temperror at once (no query: the
 * resolver is never asked, so this holds with no DNS at all), never fail,
 * the cause "budget"
 */
static void test_deadline_spent(void **state)
{
	static const struct vcase c = {"deadline", {GOOD, GOOD2}, 2, MUT_NONE, false, 0, 0, 2,
	                               2,          {{0}}};
	struct dns_budget spent;
	struct dkim_results res;
	char b[MAXSIGS][9];
	struct dnscache_stats before, after;

	(void)state;

	dns_budget_init(&spent, 1, 1);
	clock_gettime(CLOCK_MONOTONIC, &spent.deadline);
	spent.deadline.tv_sec -= 1;
	test_budget = &spent;
	dnscache_stats(&before);
	run(&c, &res, b);
	dnscache_stats(&after);
	test_budget = NULL;
	/* every query goes through the cache first: no lookup there means no query at all */
	assert_int_equal(after.hits + after.misses, before.hits + before.misses);
	assert_int_equal(spent.queries, 0);
	assert_int_equal(res.n, 2);
	for (size_t i = 0; i < res.n; i++)
		if (res.sig[i].result != PM_DKIM_TEMPERROR ||
		    res.sig[i].dns_fail != DNS_FAIL_BUDGET)
			fail_msg("signature %zu: got %s (%s), want temperror (budget)", i,
			         pm_dkim_result_name(res.sig[i].result),
			         dns_fail_name(res.sig[i].dns_fail));
	dkim_results_free(&res);
}

#define NTHREADS 4
#define NROUNDS  25

static const struct vcase thread_case = {"threads", {GOOD, GOOD2}, 2, MUT_NONE, false, 0, 0, 2,
                                         2,         {{0}}};
static char *thread_sigs[MAXSIGS];

/* thread_main - verify the same message NROUNDS times; returns the number of wrong results */
static void *thread_main(void *arg)
{
	intptr_t wrong = 0;

	(void)arg;
	for (int i = 0; i < NROUNDS; i++) {
		struct dkim_results res;

		verify_msg(&thread_case, thread_sigs, &res);
		if (res.n != 2 || res.sig[0].result != PM_DKIM_PASS ||
		    res.sig[1].result != PM_DKIM_PASS)
			wrong++;
		dkim_results_free(&res);
	}
	return (void *)wrong;
}

/* test_threads - verifiers in several threads at once share the one library handle */
static void test_threads(void **state)
{
	pthread_t t[NTHREADS];
	intptr_t wrong = 0;

	(void)state;
	for (int i = 0; i < thread_case.nsigs; i++)
		thread_sigs[i] = sign(&thread_case.sigs[i], base_body);
	for (int i = 0; i < NTHREADS; i++)
		assert_int_equal(pthread_create(&t[i], NULL, thread_main, NULL), 0);
	for (int i = 0; i < NTHREADS; i++) {
		void *ret;

		assert_int_equal(pthread_join(t[i], &ret), 0);
		wrong += (intptr_t)ret;
	}
	for (int i = 0; i < thread_case.nsigs; i++)
		free(thread_sigs[i]);
	if (wrong != 0)
		fail_msg("got %ld wrong results of %d, want 0", (long)wrong, NTHREADS * NROUNDS);
}

/* test_lifecycle - odd call orders and NULLs do not crash; eom twice is harmless */
static void test_lifecycle(void **state)
{
	struct dkim_verifier *v;
	struct dkim_results res;

	(void)state;
	dkim_verify_free(NULL);
	dkim_verify_eom(NULL, &res);
	if (res.n != 0)
		fail_msg("eom(NULL): got n=%zu, want 0", res.n);
	v = dkim_verify_new(NULL, NULL); /* defaults: DNS, but no signature: no lookup */
	dkim_verify_header(v, "From", "a@example.org");
	dkim_verify_body(v, (const unsigned char *)"x\r\n", 3); /* eoh implied */
	dkim_verify_eom(v, &res);
	if (res.n != 0 || res.total != 0)
		fail_msg("unsigned: got n=%zu total=%zu, want 0 0", res.n, res.total);
	dkim_results_free(&res);
	dkim_verify_eom(v, &res);
	if (res.n != 0)
		fail_msg("second eom: got n=%zu, want 0", res.n);
	dkim_verify_header(v, "DKIM-Signature", "v=1"); /* after eoh: ignored */
	dkim_results_free(&res);
	dkim_verify_free(v);
}

/* test_names - RFC 8601 spellings */
static void test_names(void **state)
{
	static const struct {
		enum pm_dkim_result r;
		const char *want;
	} cases_[] = {
	    {PM_DKIM_NONE, "none"},           {PM_DKIM_PASS, "pass"},
	    {PM_DKIM_FAIL, "fail"},           {PM_DKIM_NEUTRAL, "neutral"},
	    {PM_DKIM_POLICY, "policy"},       {PM_DKIM_TEMPERROR, "temperror"},
	    {PM_DKIM_PERMERROR, "permerror"}, {PM_DKIM_NRESULTS, "unknown"},
	};

	(void)state;
	for (size_t i = 0; i < PM_ARRAY_LEN(cases_); i++)
		if (strcmp(pm_dkim_result_name(cases_[i].r), cases_[i].want) != 0)
			fail_msg("pm_dkim_result_name(%d): got %s, want %s", cases_[i].r,
			         pm_dkim_result_name(cases_[i].r), cases_[i].want);
}

/* test_q_supported - q= lists: dns/txt (or dns) among them, FWS and case ignored */
static void test_q_supported(void **state)
{
	static const struct {
		const char *q;
		bool want;
	} cases_[] = {
	    {NULL, true},           {"dns/txt", true},        {"DNS/TXT", true},
	    {"dns", true},          {"http:dns/txt", true},   {" http : dns/txt ", true},
	    {"dns/t\r\n xt", true}, {"http", false},          {"", false},
	    {"dns/xml", false},     {"http:https", false},    {":", false},
	    {"dnstxt", false},      {"dns/txt/extra", false}, {"txt", false},
	};

	(void)state;
	for (size_t i = 0; i < PM_ARRAY_LEN(cases_); i++)
		if (dkim_q_supported(cases_[i].q) != cases_[i].want)
			fail_msg("dkim_q_supported(\"%s\"): got %d, want %d",
			         cases_[i].q ? cases_[i].q : "(null)", !cases_[i].want,
			         cases_[i].want);
}

/* test_compact - key records without notes and needless white space */
static void test_compact(void **state)
{
	static const struct {
		const char *in, *want; /* want NULL: left as it is */
	} cases_[] = {
	    {"v=DKIM1; k=rsa; p=AB CD", "v=DKIM1;k=rsa;p=ABCD"},
	    {"v=DKIM1; n=a note; k=rsa; p=ABCD;", "v=DKIM1;k=rsa;p=ABCD"},
	    {" v = DKIM1 ;\tk=rsa ; t = y : s ; p=\r\n AB\tCD ", "v=DKIM1;k=rsa;t=y : s;p=ABCD"},
	    {"v=DKIM1; k=rsa; x_new=1; p=", "v=DKIM1;k=rsa;x_new=1;p="},
	    {"v=DKIM1; h=sha256; s=email; p=AB", "v=DKIM1;h=sha256;s=email;p=AB"},
	    {"k=rsa; k=rsa; p=AB", NULL},
	    {"k=rsa; n=a; n=b; p=AB", NULL},
	    {"k=rsa; garbage; p=AB", NULL},
	    {"k=rsa; =x; p=AB", NULL},
	    {"k=rsa; k-2=x; p=AB", NULL},
	    {"", ""},
	};

	(void)state;
	for (size_t i = 0; i < PM_ARRAY_LEN(cases_); i++) {
		char *got = dkim_key_record_compact(cases_[i].in);

		if ((got == NULL) != (cases_[i].want == NULL) ||
		    (got != NULL && strcmp(got, cases_[i].want) != 0))
			fail_msg("dkim_key_record_compact(\"%s\"): got \"%s\", want \"%s\"",
			         cases_[i].in, got ? got : "(null)",
			         cases_[i].want ? cases_[i].want : "(null)");
		free(got);
	}
}

/* test_h_uncovered - a field h= names fewer times than the message has it */
static void test_h_uncovered(void **state)
{
	static char *const one[] = {"Received", "From", "To", "Subject", "Date"};
	static char *const two_subj[] = {"Received", "Subject", "From", "To", "subject ", "Date"};
	static char *const two_recv[] = {
	    "Received", "Received", "DKIM-Signature", "From",
	    "Subject",  "ARC-Seal", "ARC-Seal",       "Authentication-Results"};
	static char *const two_to[] = {"From", "To", "Subject", "TO"};
	static const struct {
		const char *h;
		char *const *names;
		size_t n;
		const char *want; /* the field, NULL: covered */
		unsigned in_h, in_msg;
	} cases_[] = {
	    {"from:to:subject:date", one, 5, NULL, 0, 0},
	    {"from:to:subject:subject:date", one, 5, NULL, 0, 0}, /* over-signed */
	    {"from:to:subject:date", two_subj, 6, "Subject", 1, 2},
	    {"From : To : Subject", two_subj, 6, "Subject", 1, 2},
	    {"from:to:subject:subject:date", two_subj, 6, NULL, 0, 0},
	    {"from:subject:to:subject:to", two_to, 4, NULL, 0, 0},
	    {"from:subject:to", two_to, 4, "To", 1, 2},
	    {"from:to", two_subj, 6, NULL, 0, 0}, /* Subject is not signed at all */
	    /* transit fields are not counted, however many hops added them */
	    {"received:dkim-signature:arc-seal:authentication-results:from:subject", two_recv, 8,
	     NULL, 0, 0},
	    {"from::subject", one, 5, NULL, 0, 0},
	};

	(void)state;
	for (size_t i = 0; i < PM_ARRAY_LEN(cases_); i++) {
		char field[41] = "";
		unsigned nh = 0, nm = 0;
		bool got = dkim_h_uncovered(cases_[i].h, cases_[i].names, cases_[i].n, field,
		                            sizeof(field), &nh, &nm);

		if (got != (cases_[i].want != NULL))
			fail_msg("dkim_h_uncovered(\"%s\"): got %d (%s), want %d", cases_[i].h, got,
			         field, cases_[i].want != NULL);
		if (got && (strcmp(field, cases_[i].want) != 0 || nh != cases_[i].in_h ||
		            nm != cases_[i].in_msg))
			fail_msg("dkim_h_uncovered(\"%s\"): got %s %u/%u, want %s %u/%u",
			         cases_[i].h, field, nh, nm, cases_[i].want, cases_[i].in_h,
			         cases_[i].in_msg);
	}
}

/* setup - the signer's own library handle */
static int setup(void **state)
{
	unsigned int bits = 1; /* let it sign with 512 and 768-bit keys */

	(void)state;
	signer = dkim_init(NULL, NULL);
	if (signer == NULL)
		return -1;
	return dkim_options(signer, DKIM_OP_SETOPT, DKIM_OPTS_MINKEYBITS, &bits, sizeof(bits)) ==
	               DKIM_STAT_OK
	           ? 0
	           : -1;
}

/* teardown - close both library handles (ASan's leak check runs after) */
static int teardown(void **state)
{
	(void)state;
	dkim_close(signer);
	dkim_lib_shutdown();
	keycache_free();
	return 0;
}

/*
 * test_key_cache - libopendkim decodes its keys through keycache.c's
 * d2i_PUBKEY_bio (the dynamic linker binds its reference to the
 * executable's definition): the first verification under a key decodes
 * it (a miss), the next ones find it (hits), the same EVP_PKEY; another
 * key is another miss; a record whose p= is no key is not kept
 */
static void test_key_cache(void **state)
{
	static const struct vcase good = {"cache", {GOOD}, 1, MUT_NONE, false, 0, 0, 1, 1, {{0}}};
	static const struct vcase other = {
	    "cache other key",
	    {SIG("test-rsa4096.key", S256, RELAXED, RELAXED, "example.org", "rsa4096", -1)},
	    1,
	    MUT_NONE,
	    false,
	    0,
	    0,
	    1,
	    1,
	    {{0}}};
	static const struct vcase garbage = {
	    "cache garbage",
	    {SIG("test-rsa2048.key", S256, RELAXED, RELAXED, "example.org", "garbage", -1)},
	    1,
	    MUT_NONE,
	    false,
	    0,
	    0,
	    1,
	    1,
	    {{0}}};
	struct keycache_stats st;
	struct dkim_results res;
	char b[MAXSIGS][9];

	(void)state;
	keycache_free();
	for (int round = 1; round <= 3; round++) {
		run(&good, &res, b);
		if (res.n != 1 || res.sig[0].result != PM_DKIM_PASS)
			fail_msg("round %d: got %s, want pass", round,
			         res.n ? pm_dkim_result_name(res.sig[0].result) : "-");
		dkim_results_free(&res);
		keycache_stats(&st);
		if (st.misses != 1 || st.hits != (unsigned long)round - 1 || st.entries != 1)
			fail_msg("round %d: got misses=%lu hits=%lu entries=%lu, want 1 %d 1",
			         round, st.misses, st.hits, st.entries, round - 1);
	}
	run(&other, &res, b);
	assert_int_equal(res.sig[0].result, PM_DKIM_PASS);
	dkim_results_free(&res);
	keycache_stats(&st);
	if (st.misses != 2 || st.hits != 2 || st.entries != 2)
		fail_msg("another key: got misses=%lu hits=%lu entries=%lu, want 2 2 2", st.misses,
		         st.hits, st.entries);
	for (int round = 1; round <= 2; round++) {
		run(&garbage, &res, b);
		assert_int_equal(res.sig[0].result, PM_DKIM_PERMERROR);
		dkim_results_free(&res);
	}
	keycache_stats(&st);
	if (st.entries != 2 || st.hits != 2 || st.uncached != (st.misses - 2))
		fail_msg("garbage: got misses=%lu hits=%lu entries=%lu uncached=%lu, want "
		         "entries 2, hits 2, every other miss uncached",
		         st.misses, st.hits, st.entries, st.uncached);
	keycache_free();
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_verify),         cmocka_unit_test(test_limit_skips_lookups),
	    cmocka_unit_test(test_deadline_spent), cmocka_unit_test(test_threads),
	    cmocka_unit_test(test_lifecycle),      cmocka_unit_test(test_names),
	    cmocka_unit_test(test_q_supported),    cmocka_unit_test(test_h_uncovered),
	    cmocka_unit_test(test_compact),        cmocka_unit_test(test_key_cache),
	    cmocka_unit_test(test_body_hash),
	};

	return cmocka_run_group_tests(tests, setup, teardown);
}
