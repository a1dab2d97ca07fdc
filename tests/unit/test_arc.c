/*
 * NAME
 *	test_arc - unit tests for arc.c (ARC chain validation, RFC 8617)
 * DESCRIPTION
 *	Each case builds its ARC chain in the test itself: a small sealer
 *	here (its own canonicalization, done on whole strings, not streamed
 *	as arc.c does) signs with OpenSSL keys generated at start (RSA
 *	2048, Ed25519, RSA 512), then the message is fed to arc.c as
 *	libmilter would (name and value apart, the body in small chunks).
 *	Keys come from a lookup override (a table, counting the lookups;
 *	a name that times out), and once through a DNS budget whose
 *	resolver answers TXT records in the process.
 *	Covered: 1, 2 and 3 hops (RSA, Ed25519, mixed), relaxed and simple
 *	canonicalization (bodies with bare CR, white space lines, no final
 *	line end, fed 1, 7 and 4096 bytes at a time), l=, changes between hops (oldest-pass), sets
 *in any physical order; a byte changed in an AS, an AMS, an AAR, the body, a signed header: fail;
 *hostile input (60 sets, a gap, a duplicate, a missing AS, i=0, a 1 MB b=, non-LDH d= and s=,
 *	malformed tag-lists, the cv= rules, rsa-sha1, a 512-bit key, a
 *	revoked key, a lookup that fails for now, max_sets), each with the
 *	work done (signatures verified, lookups) asserted; 50 sets; the
 *	oldest-pass walk's limit on header bytes.
 * DIAGNOSTICS
 *	cmocka; each failure prints "got X, want Y".
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>
#include <ctype.h>
#include <openssl/evp.h>
#include <openssl/rsa.h>
#include <openssl/x509.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "../../src/arc.h"
#include "../../src/keycache.h"
#include "dnsmsg.h"
#include "util.h"

/* ---- keys ---------------------------------------------------------------- */

static EVP_PKEY *rsa_key, *ed_key, *small_key;
static char *rsa_pub, *ed_pub, *small_pub; /* p= values */

/* b64 - base64 of n bytes (caller frees) */
static char *b64(const unsigned char *p, size_t n)
{
	char *out = xmalloc(4 * ((n + 2) / 3) + 1);

	EVP_EncodeBlock((unsigned char *)out, p, (int)n);
	return out;
}

/* pub_of - the p= value of k: SubjectPublicKeyInfo for RSA, the raw 32 bytes for Ed25519 */
static char *pub_of(EVP_PKEY *k)
{
	unsigned char raw[64], *der = NULL;
	size_t rawlen = sizeof(raw);
	int len;
	char *out;

	if (EVP_PKEY_get_base_id(k) == EVP_PKEY_ED25519) {
		assert_int_equal(EVP_PKEY_get_raw_public_key(k, raw, &rawlen), 1);
		return b64(raw, rawlen);
	}
	len = i2d_PUBKEY(k, &der);
	assert_true(len > 0);
	out = b64(der, (size_t)len);
	OPENSSL_free(der);
	return out;
}

static int setup_keys(void **state)
{
	(void)state;
	rsa_key = EVP_RSA_gen(2048);
	small_key = EVP_RSA_gen(512);
	ed_key = EVP_PKEY_Q_keygen(NULL, NULL, "ED25519");
	if (rsa_key == NULL || small_key == NULL || ed_key == NULL)
		return -1;
	rsa_pub = pub_of(rsa_key);
	ed_pub = pub_of(ed_key);
	small_pub = pub_of(small_key);
	return 0;
}

static int teardown_keys(void **state)
{
	(void)state;
	EVP_PKEY_free(rsa_key);
	EVP_PKEY_free(ed_key);
	EVP_PKEY_free(small_key);
	keycache_free();
	free(rsa_pub);
	free(ed_pub);
	free(small_pub);
	return 0;
}

/* ---- key lookup override --------------------------------------------------- */

struct keytab {
	const char *name[8];
	char *record[8];
	size_t n;
	unsigned calls;
};

/* kt_add - a key record for name (printf format for the record) */
__attribute__((format(printf, 3, 4))) static void kt_add(struct keytab *t, const char *name,
                                                         const char *fmt, ...)
{
	va_list ap;
	char buf[8192];

	va_start(ap, fmt);
	vsnprintf(buf, sizeof(buf), fmt, ap);
	va_end(ap);
	t->name[t->n] = name;
	t->record[t->n++] = xstrdup(buf);
}

/* kt_std - the usual keys: rsa at sel._domainkey.{lists,fwd}.example, ed25519 at ed._domainkey.* */
static void kt_std(struct keytab *t)
{
	memset(t, 0, sizeof(*t));
	kt_add(t, "sel._domainkey.lists.example", "v=DKIM1; k=rsa; p=%s", rsa_pub);
	kt_add(t, "sel._domainkey.fwd.example", "v=DKIM1; k=rsa; p=%s", rsa_pub);
	kt_add(t, "ed._domainkey.fwd.example", "v=DKIM1; k=ed25519; p=%s", ed_pub);
	kt_add(t, "ed._domainkey.lists.example", "v=DKIM1; k=ed25519; p=%s", ed_pub);
	kt_add(t, "small._domainkey.lists.example", "v=DKIM1; k=rsa; p=%s", small_pub);
	kt_add(t, "revoked._domainkey.lists.example", "v=DKIM1; k=rsa; p=");
}

static void kt_free(struct keytab *t)
{
	for (size_t i = 0; i < t->n; i++)
		free(t->record[i]);
}

/* kt_lookup - the override: "slow._domainkey.*" fails for now, unknown names are not found */
static enum dkim_key_status kt_lookup(const char *name, char **record, void *arg)
{
	struct keytab *t = arg;

	t->calls++;
	if (strncmp(name, "slow.", 5) == 0)
		return DKIM_KEY_TEMPFAIL;
	for (size_t i = 0; i < t->n; i++)
		if (strcasecmp(t->name[i], name) == 0) {
			*record = xstrdup(t->record[i]);
			return DKIM_KEY_FOUND;
		}
	return DKIM_KEY_NOTFOUND;
}

/* ---- a message and the test's sealer --------------------------------------- */

struct msg_t {
	char *hdr[400]; /* "Name: value" (folded with CRLF), top first */
	size_t nhdr;
	struct strbuf body;
};

static void msg_init(struct msg_t *m)
{
	static const char *const base[] = {
	    "Received: from mx.author.example by lists.example; Sun, 6 Dec 2026 10:00:00 +0000",
	    "From: Author <a@author.example>",
	    "To: list@lists.example",
	    "Subject:  Hello \t there",
	    "Date: Sun, 6 Dec 2026 10:00:00 +0000",
	    "Message-ID: <1@author.example>"};

	memset(m, 0, sizeof(*m));
	for (size_t i = 0; i < PM_ARRAY_LEN(base); i++)
		m->hdr[m->nhdr++] = xstrdup(base[i]);
	sb_init(&m->body);
	sb_append(&m->body, "Hello,  world \r\n\r\nsecond line\t\r\n\r\n\r\n");
}

static void msg_free(struct msg_t *m)
{
	for (size_t i = 0; i < m->nhdr; i++)
		free(m->hdr[i]);
	sb_free(&m->body);
}

/* msg_prepend - a header field on top */
static void msg_prepend(struct msg_t *m, const char *field)
{
	memmove(m->hdr + 1, m->hdr, m->nhdr * sizeof(*m->hdr));
	m->hdr[0] = xstrdup(field);
	m->nhdr++;
}

/* msg_find - the index of the first field starting with prefix, -1 */
static int msg_find(const struct msg_t *m, const char *prefix)
{
	for (size_t i = 0; i < m->nhdr; i++)
		if (strncmp(m->hdr[i], prefix, strlen(prefix)) == 0)
			return (int)i;
	return -1;
}

/* canon_hdr - one "Name: value" field canonicalized (relaxed or simple) into sb, CRLF unless last
 */
static void canon_hdr(struct strbuf *sb, const char *field, bool relaxed, bool last)
{
	const char *colon = strchr(field, ':');

	if (!relaxed) {
		sb_append(sb, field);
	} else {
		struct strbuf v;
		char *s, *d;

		for (const char *p = field; p < colon; p++)
			sb_appendc(sb, (char)tolower((unsigned char)*p));
		sb_appendc(sb, ':');
		/* unfold, every WSP run one SP, none at either end */
		sb_init(&v);
		sb_append(&v, colon + 1);
		for (s = d = v.s; *s; s++) {
			if (*s == '\r' || *s == '\n')
				continue;
			if (*s == '\t')
				*s = ' ';
			if (*s == ' ' && (d == v.s || d[-1] == ' '))
				continue;
			*d++ = *s;
		}
		while (d > v.s && d[-1] == ' ')
			d--;
		*d = '\0';
		sb_append(sb, v.s);
		sb_free(&v);
	}
	if (!last)
		sb_append(sb, "\r\n");
}

/* canon_body - the body canonicalized on the whole string (RFC 6376 3.4.3, 3.4.4) */
static void canon_body(struct strbuf *out, const char *body, bool relaxed)
{
	const char *p = body;

	sb_init(out);
	while (*p) {
		const char *e = strstr(p, "\r\n");
		size_t len = e ? (size_t)(e - p) : strlen(p);
		struct strbuf line;

		sb_init(&line);
		if (relaxed) {
			for (size_t i = 0; i < len; i++) {
				char c = p[i] == '\t' ? ' ' : p[i];

				if (c == ' ' && line.len > 0 && line.s[line.len - 1] == ' ')
					continue;
				sb_appendc(&line, c);
			}
			while (line.len > 0 && line.s[line.len - 1] == ' ')
				line.s[--line.len] = '\0';
		} else {
			sb_appendn(&line, p, len);
		}
		if (line.len > 0)
			sb_appendn(out, line.s, line.len);
		sb_append(out, "\r\n");
		sb_free(&line);
		p += len + (e ? 2 : 0);
	}
	while (out->len >= 4 && memcmp(out->s + out->len - 4, "\r\n\r\n", 4) == 0)
		out->len -= 2;
	if (out->len == 2 && relaxed)
		out->len = 0;
	if (out->len == 0 && !relaxed)
		sb_append(out, "\r\n");
	if (out->s != NULL)
		out->s[out->len] = '\0';
}

/* sign - b= for data under k (RSA: SHA-256 PKCS#1; Ed25519: over SHA-256(data)) */
static char *sign(EVP_PKEY *k, const struct strbuf *data)
{
	EVP_MD_CTX *ctx = EVP_MD_CTX_new();
	unsigned char sig[1024], h[32];
	size_t siglen = sizeof(sig);
	char *out;

	if (EVP_PKEY_get_base_id(k) == EVP_PKEY_ED25519) {
		assert_int_equal(EVP_Digest(data->s, data->len, h, NULL, EVP_sha256(), NULL), 1);
		assert_int_equal(EVP_DigestSignInit(ctx, NULL, NULL, NULL, k), 1);
		assert_int_equal(EVP_DigestSign(ctx, sig, &siglen, h, sizeof(h)), 1);
	} else {
		assert_int_equal(EVP_DigestSignInit(ctx, NULL, EVP_sha256(), NULL, k), 1);
		assert_int_equal(
		    EVP_DigestSign(ctx, sig, &siglen, (const unsigned char *)data->s, data->len),
		    1);
	}
	EVP_MD_CTX_free(ctx);
	out = b64(sig, siglen);
	return out;
}

/* How one hop seals. */
struct hop {
	const char *d, *s; /* sealer domain, selector */
	EVP_PKEY *key;
	const char *c;     /* AMS c= ("relaxed/relaxed" when NULL) */
	long l;            /* AMS l= (-1: none) */
	const char *cv;    /* "none"/"pass" (NULL: by instance) */
	const char *h;     /* AMS h= (default from:to:subject:date:message-id) */
	const char *extra; /* more AS tags, e.g. "h=from; " */
};

/* set_of - the index of the field "prefix i=N;" */
static int set_field(const struct msg_t *m, const char *prefix, unsigned i)
{
	char want[64];

	snprintf(want, sizeof(want), "%s i=%u;", prefix, i);
	return msg_find(m, want);
}

/* seal - add ARC set i (AAR, AMS, AS) to m as hop h does */
static void seal(struct msg_t *m, unsigned i, const struct hop *h)
{
	const char *c = h->c ? h->c : "relaxed/relaxed";
	const char *hl = h->h ? h->h : "from:to:subject:date:message-id";
	bool hrel = strncmp(c, "relaxed", 7) == 0, brel = strstr(c, "/relaxed") != NULL;
	const char *alg =
	    EVP_PKEY_get_base_id(h->key) == EVP_PKEY_ED25519 ? "ed25519-sha256" : "rsa-sha256";
	struct strbuf cb, data, field;
	unsigned char bh[32];
	char *bh64, *b, lbuf[32] = "", names[512];
	bool used[400] = {false};

	/* AAR */
	sb_init(&field);
	sb_appendf(&field,
	           "ARC-Authentication-Results: i=%u; %s; dmarc=pass header.from=author.example; "
	           "spf=pass smtp.mailfrom=author.example",
	           i, h->d);
	msg_prepend(m, field.s);
	sb_free(&field);
	/* AMS */
	canon_body(&cb, m->body.s ? m->body.s : "", brel);
	if (h->l >= 0) {
		assert_true((size_t)h->l <= cb.len);
		cb.len = (size_t)h->l;
		snprintf(lbuf, sizeof(lbuf), " l=%ld;", h->l);
	}
	assert_int_equal(EVP_Digest(cb.s ? cb.s : "", cb.len, bh, NULL, EVP_sha256(), NULL), 1);
	sb_free(&cb);
	bh64 = b64(bh, sizeof(bh));
	sb_init(&data);
	snprintf(names, sizeof(names), "%s", hl);
	for (char *save = NULL, *n = strtok_r(names, ":", &save); n; n = strtok_r(NULL, ":", &save))
		for (size_t j = m->nhdr; j-- > 0;) {
			size_t nl = strlen(n);

			if (!used[j] && strncasecmp(m->hdr[j], n, nl) == 0 &&
			    m->hdr[j][nl] == ':') {
				used[j] = true;
				canon_hdr(&data, m->hdr[j], hrel, false);
				break;
			}
		}
	sb_init(&field);
	sb_appendf(
	    &field,
	    "ARC-Message-Signature: i=%u; a=%s; c=%s; d=%s; s=%s;%s\r\n\th=%s;\r\n\tbh=%s; b=", i,
	    alg, c, h->d, h->s, lbuf, hl, bh64);
	canon_hdr(&data, field.s, hrel, true);
	b = sign(h->key, &data);
	sb_append(&field, b);
	free(b);
	free(bh64);
	sb_free(&data);
	msg_prepend(m, field.s);
	sb_free(&field);
	/* AS */
	sb_init(&field);
	sb_appendf(&field, "ARC-Seal: i=%u; a=%s; cv=%s; d=%s; s=%s; %st=1796600000; b=", i, alg,
	           h->cv ? h->cv : (i == 1 ? "none" : "pass"), h->d, h->s,
	           h->extra ? h->extra : "");
	sb_init(&data);
	for (unsigned j = 1; j <= i; j++) {
		canon_hdr(&data, m->hdr[set_field(m, "ARC-Authentication-Results:", j)], true,
		          false);
		canon_hdr(&data, m->hdr[set_field(m, "ARC-Message-Signature:", j)], true, false);
		if (j < i)
			canon_hdr(&data, m->hdr[set_field(m, "ARC-Seal:", j)], true, false);
	}
	canon_hdr(&data, field.s, true, true);
	b = sign(h->key, &data);
	sb_append(&field, b);
	free(b);
	sb_free(&data);
	msg_prepend(m, field.s);
	sb_free(&field);
}

/* ---- running the verifier ---------------------------------------------------- */

static size_t chunk = 7; /* body bytes per arc_verify_body call */

/* verify_with - m through a verifier with settings s (leadspc as given), the body in 7-byte chunks
 */
static void verify_with(const struct msg_t *m, struct arc_verify_settings *s, struct dns_budget *b,
                        struct arc_result *r)
{
	struct arc_verifier *v = arc_verify_new(s, "TEST");
	const char *body = m->body.s ? m->body.s : "";
	size_t len = m->body.len;

	if (b != NULL)
		arc_verify_budget(v, b);
	for (size_t i = 0; i < m->nhdr; i++) {
		const char *colon = strchr(m->hdr[i], ':');
		char *name = xstrndup(m->hdr[i], (size_t)(colon - m->hdr[i]));
		const char *value = colon + 1;

		while (!s->leadspc && (*value == ' ' || *value == '\t'))
			value++; /* libmilter without SMFIP_HDR_LEADSPC */
		arc_verify_header(v, name, value);
		free(name);
	}
	arc_verify_eoh(v);
	for (size_t off = 0; off < len; off += 7)
		arc_verify_body(v, (const unsigned char *)body + off,
		                len - off < 7 ? len - off : 7);
	arc_verify_eom(v, r);
	arc_verify_free(v);
}

/* verify - m with the default settings (leadspc) and the key table t */
static void verify(const struct msg_t *m, struct keytab *t, struct arc_result *r)
{
	struct arc_verify_settings s;

	arc_verify_defaults(&s);
	s.leadspc = true;
	s.key_lookup = kt_lookup;
	s.key_lookup_arg = t;
	verify_with(m, &s, NULL, r);
}

/* expect - r is want, with reason (NULL: not checked), verified and lookups (-1: not checked) */
static void expect(const struct arc_result *r, enum pm_arc_result want, const char *reason,
                   int verified, int lookups)
{
	if (r->result != want)
		fail_msg("got %s (%s), want %s", pm_arc_result_name(r->result), r->reason,
		         pm_arc_result_name(want));
	if (reason != NULL && strcmp(r->reason, reason) != 0)
		fail_msg("got reason \"%s\", want \"%s\"", r->reason, reason);
	if (verified >= 0 && r->verified != (unsigned)verified)
		fail_msg("got %u signatures verified, want %d (%s)", r->verified, verified,
		         r->reason);
	if (lookups >= 0 && r->lookups != (unsigned)lookups)
		fail_msg("got %u lookups, want %d (%s)", r->lookups, lookups, r->reason);
}

static const struct hop LISTS_RSA = {"lists.example", "sel", NULL, NULL, -1, NULL, NULL, NULL};
static const struct hop FWD_ED = {"fwd.example", "ed", NULL, NULL, -1, NULL, NULL, NULL};

/* hop_key - h with its key set (the keys are made at setup) */
static struct hop hop_key(struct hop h, EVP_PKEY *k)
{
	h.key = k;
	return h;
}

/* chain - m with n hops: lists (RSA), fwd (Ed25519), lists (RSA), ...; the subject and body
 * changed between hops when change */
static void chain(struct msg_t *m, unsigned n, bool change)
{
	msg_init(m);
	for (unsigned i = 1; i <= n; i++) {
		struct hop h = i % 2 ? hop_key(LISTS_RSA, rsa_key) : hop_key(FWD_ED, ed_key);

		if (change && i > 1) {
			int s = msg_find(m, "Subject:");
			char *ns = xmalloc(strlen(m->hdr[s]) + 16);

			sprintf(ns, "Subject: [l%u]%s", i, m->hdr[s] + 8);
			free(m->hdr[s]);
			m->hdr[s] = ns;
			sb_append(&m->body, "-- footer\r\n");
		}
		seal(m, i, &h);
	}
}

/* ---- the tests --------------------------------------------------------------- */

/* test_no_arc - no ARC header field: none, nothing looked up or verified */
static void test_no_arc(void **state)
{
	struct msg_t m;
	struct keytab t;
	struct arc_result r;

	(void)state;
	kt_std(&t);
	msg_init(&m);
	verify(&m, &t, &r);
	expect(&r, PM_ARC_NONE, "", 0, 0);
	assert_int_equal(r.n, 0);
	arc_result_free(&r);
	msg_free(&m);
	kt_free(&t);
}

/* test_hops - 1, 2 and 3 hops, with and without changes between them */
static void test_hops(void **state)
{
	static const struct {
		unsigned hops;
		bool change;
		unsigned oldest, verified, lookups;
	} cases[] = {
	    {1, false, 1, 2, 1}, {2, false, 1, 4, 2}, {3, false, 1, 6, 2},
	    {2, true, 2, 4, 2},  {3, true, 3, 5, 2},
	};

	(void)state;
	for (size_t c = 0; c < PM_ARRAY_LEN(cases); c++) {
		struct msg_t m;
		struct keytab t;
		struct arc_result r;

		kt_std(&t);
		chain(&m, cases[c].hops, cases[c].change);
		verify(&m, &t, &r);
		expect(&r, PM_ARC_PASS, "", (int)cases[c].verified, (int)cases[c].lookups);
		if (r.oldest_pass != cases[c].oldest)
			fail_msg("case %zu: got oldest_pass %u, want %u", c, r.oldest_pass,
			         cases[c].oldest);
		assert_int_equal(r.n, cases[c].hops);
		assert_int_equal(t.calls, cases[c].lookups);
		for (unsigned i = 1; i <= cases[c].hops; i++) {
			const struct arc_set *s = &r.set[i - 1];

			assert_int_equal(s->instance, i);
			assert_string_equal(s->domain, i % 2 ? "lists.example" : "fwd.example");
			assert_string_equal(s->selector, i % 2 ? "sel" : "ed");
			assert_string_equal(s->algorithm, i % 2 ? "rsa-sha256" : "ed25519-sha256");
			assert_string_equal(s->cv, i == 1 ? "none" : "pass");
			assert_true(s->as_valid);
			assert_non_null(s->aar);
			assert_true(strncmp(s->aar,
			                    i % 2 ? "lists.example; dmarc=pass" : "fwd.example;",
			                    i % 2 ? 25 : 12) == 0);
		}
		assert_true(r.set[cases[c].hops - 1].ams_valid);
		arc_result_free(&r);
		msg_free(&m);
		kt_free(&t);
	}
}

/* test_canon - simple and relaxed, l=, without SMFIP_HDR_LEADSPC, an empty body */
static void test_canon(void **state)
{
	static const struct {
		const char *c;
		long l;
		bool leadspc, empty_body, append;
		enum pm_arc_result want;
	} cases[] = {
	    {"simple/simple", -1, true, false, false, PM_ARC_PASS},
	    {"relaxed/simple", -1, true, false, false, PM_ARC_PASS},
	    {"simple/relaxed", -1, true, false, false, PM_ARC_PASS},
	    {"simple", -1, true, false, false, PM_ARC_PASS},
	    {"relaxed/relaxed", -1, false, false, false, PM_ARC_PASS},
	    {"simple/simple", -1, true, true, false, PM_ARC_PASS},
	    {"relaxed/relaxed", -1, true, true, false, PM_ARC_PASS},
	    {"relaxed/relaxed", 10, true, false, true, PM_ARC_PASS},
	    {"simple/simple", 0, true, false, true, PM_ARC_PASS},
	    {"relaxed/relaxed", -1, true, false, true, PM_ARC_FAIL},
	    /* "Subject:  Hello" has two spaces: simple without leadspc loses one */
	    {"simple/simple", -1, false, false, false, PM_ARC_FAIL},
	};

	(void)state;
	for (size_t c = 0; c < PM_ARRAY_LEN(cases); c++) {
		struct msg_t m;
		struct keytab t;
		struct arc_result r;
		struct arc_verify_settings s;
		struct hop h = hop_key(LISTS_RSA, rsa_key);

		kt_std(&t);
		msg_init(&m);
		if (cases[c].empty_body)
			sb_reset(&m.body);
		h.c = cases[c].c;
		h.l = cases[c].l;
		seal(&m, 1, &h);
		if (cases[c].append)
			sb_append(&m.body, "appended\r\n");
		arc_verify_defaults(&s);
		s.leadspc = cases[c].leadspc;
		s.key_lookup = kt_lookup;
		s.key_lookup_arg = &t;
		verify_with(&m, &s, NULL, &r);
		if (r.result != cases[c].want)
			fail_msg("case %zu (%s l=%ld): got %s (%s), want %s", c, cases[c].c,
			         cases[c].l, pm_arc_result_name(r.result), r.reason,
			         pm_arc_result_name(cases[c].want));
		arc_result_free(&r);
		msg_free(&m);
		kt_free(&t);
	}
}

/* test_bodies - bodies that test the streamed canonicalization, in chunks of 1, 7 and 4096 */
static void test_bodies(void **state)
{
	static const char *const bodies[] = {
	    "",
	    "\r\n",
	    "\r\n\r\n\r\n",
	    "x",
	    "x  \t",
	    " x \t\r\n \t\r\n\r\n",
	    "a\rb\r\n",
	    "trailing\r",
	    "\r\n\r\nafter empty lines\r\n",
	    "tabs\t\tand  spaces\r\n\t lead\r\nlast line without end",
	    "x\r\r\n\r",
	};
	static const char *const canon[] = {"simple/simple", "relaxed/relaxed"};
	static const size_t chunks[] = {1, 7, 4096};

	(void)state;
	for (size_t b = 0; b < PM_ARRAY_LEN(bodies); b++)
		for (size_t c = 0; c < PM_ARRAY_LEN(canon); c++)
			for (size_t k = 0; k < PM_ARRAY_LEN(chunks); k++) {
				struct msg_t m;
				struct keytab t;
				struct arc_result r;
				struct hop h = hop_key(LISTS_RSA, rsa_key);

				kt_std(&t);
				msg_init(&m);
				sb_reset(&m.body);
				sb_append(&m.body, bodies[b]);
				h.c = canon[c];
				seal(&m, 1, &h);
				chunk = chunks[k];
				verify(&m, &t, &r);
				chunk = 7;
				if (r.result != PM_ARC_PASS)
					fail_msg("body %zu, %s, chunk %zu: got %s (%s), want pass",
					         b, canon[c], chunks[k],
					         pm_arc_result_name(r.result), r.reason);
				arc_result_free(&r);
				msg_free(&m);
				kt_free(&t);
			}
}

/* test_bare_lf - values folded with bare LF (as the MTA stores them), body with LF ends */
static void test_bare_lf(void **state)
{
	struct msg_t m;
	struct keytab t;
	struct arc_result r;

	(void)state;
	kt_std(&t);
	chain(&m, 2, true);
	for (size_t i = 0; i < m.nhdr; i++) { /* CRLF -> LF in every field */
		char *p, *q;

		for (p = q = m.hdr[i]; *p; p++)
			if (!(*p == '\r' && p[1] == '\n'))
				*q++ = *p;
		*q = '\0';
	}
	{
		char *p, *q;

		for (p = q = m.body.s; *p; p++)
			if (!(*p == '\r' && p[1] == '\n'))
				*q++ = *p;
		*q = '\0';
		m.body.len = (size_t)(q - m.body.s);
	}
	verify(&m, &t, &r);
	expect(&r, PM_ARC_PASS, "", -1, -1);
	arc_result_free(&r);
	msg_free(&m);
	kt_free(&t);
}

/* test_reordered - the sets in another physical order still pass (instances count) */
static void test_reordered(void **state)
{
	struct msg_t m;
	struct keytab t;
	struct arc_result r;
	char *tmp[3];

	(void)state;
	kt_std(&t);
	chain(&m, 2, true);
	/* fields 0..2 are set 2 (AS, AMS, AAR), 3..5 set 1: swap the two sets */
	memcpy(tmp, m.hdr, sizeof(tmp));
	memmove(m.hdr, m.hdr + 3, 3 * sizeof(*m.hdr));
	memcpy(m.hdr + 3, tmp, sizeof(tmp));
	verify(&m, &t, &r);
	expect(&r, PM_ARC_PASS, "", -1, -1);
	arc_result_free(&r);
	msg_free(&m);
	kt_free(&t);
}

/* flip - change one byte of field idx of m: the first occurrence of from after prefix */
static void flip(struct msg_t *m, int idx, const char *after, char to)
{
	char *p;

	assert_true(idx >= 0);
	p = strstr(m->hdr[idx], after);
	assert_non_null(p);
	p += strlen(after);
	*p = *p == to ? (char)(to + 1) : to;
}

/* test_flips - one byte changed in each part of a 3-hop chain: fail, with the part named */
static void test_flips(void **state)
{
	static const struct {
		const char *field; /* prefix of the field changed ("" = body) */
		const char *after; /* the byte after this text is changed */
		const char *reason;
		unsigned fail_instance;
	} cases[] = {
	    {"ARC-Seal: i=3;", "t=17966", "i=3 AS: signature does not verify", 3},
	    {"ARC-Seal: i=2;", "t=17966", "i=3 AS: signature does not verify", 3},
	    {"ARC-Seal: i=1;", "t=17966", "i=3 AS: signature does not verify", 3},
	    {"ARC-Message-Signature: i=3;", "h=fr", "i=3 AMS: signature does not verify", 3},
	    {"ARC-Message-Signature: i=1;", "h=fr", "i=3 AS: signature does not verify", 3},
	    {"ARC-Authentication-Results: i=3;", "dmarc=p", "i=3 AS: signature does not verify", 3},
	    {"ARC-Authentication-Results: i=1;", "dmarc=p", "i=3 AS: signature does not verify", 3},
	    {"ARC-Seal: i=3;", "b=", "i=3 AS: signature does not verify", 3},
	    {"Subject:", "Subject: [l3", "i=3 AMS: signature does not verify", 3},
	    {"From:", "From: A", "i=3 AMS: signature does not verify", 3},
	    {"", "Hello", "i=3 AMS: body hash mismatch", 3},
	};

	(void)state;
	for (size_t c = 0; c < PM_ARRAY_LEN(cases); c++) {
		struct msg_t m;
		struct keytab t;
		struct arc_result r;

		kt_std(&t);
		chain(&m, 3, true);
		if (cases[c].field[0] == '\0') {
			char *p = strstr(m.body.s, cases[c].after);

			p[strlen(cases[c].after)] ^= 0x20;
		} else {
			flip(&m, msg_find(&m, cases[c].field), cases[c].after, 'X');
		}
		verify(&m, &t, &r);
		if (r.result != PM_ARC_FAIL || strcmp(r.reason, cases[c].reason) != 0)
			fail_msg("case %zu (%s): got %s \"%s\", want fail \"%s\"", c,
			         cases[c].field, pm_arc_result_name(r.result), r.reason,
			         cases[c].reason);
		assert_int_equal(r.fail_instance, cases[c].fail_instance);
		assert_int_equal(r.oldest_pass, 0);
		assert_true(r.verified <= 2); /* the first failure ends the validation */
		arc_result_free(&r);
		msg_free(&m);
		kt_free(&t);
	}
}

/* fake_set - three ARC fields of instance i without valid signatures (structure tests) */
static void fake_set(struct msg_t *m, unsigned i, const char *cv)
{
	char buf[512];

	snprintf(buf, sizeof(buf), "ARC-Authentication-Results: i=%u; x.example; spf=pass", i);
	msg_prepend(m, buf);
	snprintf(buf, sizeof(buf),
	         "ARC-Message-Signature: i=%u; a=rsa-sha256; d=x.example; s=sel; h=from; "
	         "bh=47DEQpj8HBSa+/TImW+5JCeuQeRkm5NMpJWZG3hSuFU=; b=AAAA",
	         i);
	msg_prepend(m, buf);
	snprintf(buf, sizeof(buf),
	         "ARC-Seal: i=%u; a=rsa-sha256; cv=%s; d=x.example; s=sel; b=AAAA", i,
	         cv ? cv : (i == 1 ? "none" : "pass"));
	msg_prepend(m, buf);
}

/* replace - field idx of m becomes text */
static void replace(struct msg_t *m, int idx, const char *text)
{
	assert_true(idx >= 0);
	free(m->hdr[idx]);
	m->hdr[idx] = xstrdup(text);
}

/* remove_field - drop field idx of m */
static void remove_field(struct msg_t *m, int idx)
{
	assert_true(idx >= 0);
	free(m->hdr[idx]);
	memmove(m->hdr + idx, m->hdr + idx + 1, (m->nhdr - (size_t)idx - 1) * sizeof(*m->hdr));
	m->nhdr--;
}

/* test_structure - hostile structures: fail before any lookup or signature */
static void test_structure(void **state)
{
	struct keytab t;

	(void)state;
	kt_std(&t);
	for (int c = 0; c < 15; c++) {
		struct msg_t m;
		struct arc_result r;
		const char *want = NULL;

		msg_init(&m);
		switch (c) {
		case 0: /* 60 sets */
			for (unsigned i = 1; i <= 60; i++)
				fake_set(&m, i, NULL);
			want = "60 sets, over 50";
			break;
		case 1: /* a gap */
			fake_set(&m, 1, NULL);
			fake_set(&m, 2, NULL);
			fake_set(&m, 4, NULL);
			want = "instance 3 missing";
			break;
		case 2: /* a duplicate AS */
			fake_set(&m, 1, NULL);
			fake_set(&m, 2, NULL);
			msg_prepend(
			    &m, "ARC-Seal: i=2; a=rsa-sha256; cv=pass; d=y.example; s=sel; b=AAAA");
			want = "instance 2: two AS";
			break;
		case 3: /* no AS */
			fake_set(&m, 1, NULL);
			remove_field(&m, msg_find(&m, "ARC-Seal:"));
			want = "instance 1: no AS";
			break;
		case 4: /* no AAR */
			fake_set(&m, 1, NULL);
			remove_field(&m, msg_find(&m, "ARC-Authentication-Results:"));
			want = "instance 1: no AAR";
			break;
		case 5: /* i=0 */
			fake_set(&m, 0, "none");
			want = "AS: i= not 1 to 50";
			break;
		case 6: /* i=51 among fewer sets */
			fake_set(&m, 1, NULL);
			replace(
			    &m, msg_find(&m, "ARC-Seal:"),
			    "ARC-Seal: i=51; a=rsa-sha256; cv=none; d=x.example; s=sel; b=AAAA");
			want = "AS i=51, over 50";
			break;
		case 7: /* non-LDH d= */
			fake_set(&m, 1, NULL);
			replace(
			    &m, msg_find(&m, "ARC-Seal:"),
			    "ARC-Seal: i=1; a=rsa-sha256; cv=none; d=x_y!.example; s=sel; b=AAAA");
			want = "i=1 AS: d= not a host name";
			break;
		case 8: /* non-LDH s= in the AMS */
			fake_set(&m, 1, NULL);
			replace(&m, msg_find(&m, "ARC-Message-Signature:"),
			        "ARC-Message-Signature: i=1; a=rsa-sha256; d=x.example; s=s el; "
			        "h=from; "
			        "bh=47DEQpj8HBSa+/TImW+5JCeuQeRkm5NMpJWZG3hSuFU=; b=AAAA");
			want = "i=1 AMS: s= not a host name";
			break;
		case 9: /* malformed tag-list */
			fake_set(&m, 1, NULL);
			replace(&m, msg_find(&m, "ARC-Seal:"),
			        "ARC-Seal: i=1; a=rsa-sha256; cv=none; d=x.example; s=sel; b=AAAA; "
			        "junk");
			want = "AS: malformed tag-list";
			break;
		case 10: /* a tag twice */
			fake_set(&m, 1, NULL);
			replace(&m, msg_find(&m, "ARC-Seal:"),
			        "ARC-Seal: i=1; a=rsa-sha256; cv=none; d=x.example; d=y.example; "
			        "s=sel; "
			        "b=AAAA");
			want = "AS: malformed tag-list";
			break;
		case 11: /* cv=fail in the chain */
			fake_set(&m, 1, NULL);
			fake_set(&m, 2, "fail");
			fake_set(&m, 3, NULL);
			want = "i=2 AS: cv=fail";
			break;
		case 12: /* i=1 must be cv=none */
			fake_set(&m, 1, "pass");
			want = "i=1 AS: cv=pass, must be none";
			break;
		case 13: /* later ones must be cv=pass */
			fake_set(&m, 1, NULL);
			fake_set(&m, 2, "none");
			want = "i=2 AS: cv=none, must be pass";
			break;
		case 14: /* rsa-sha1 */
			fake_set(&m, 1, NULL);
			replace(&m, msg_find(&m, "ARC-Seal:"),
			        "ARC-Seal: i=1; a=rsa-sha1; cv=none; d=x.example; s=sel; b=AAAA");
			want = "i=1 AS: rsa-sha1 not accepted (RFC 8301)";
			break;
		default:
			break;
		}
		t.calls = 0;
		verify(&m, &t, &r);
		if (r.result != PM_ARC_FAIL || strcmp(r.reason, want) != 0)
			fail_msg("case %d: got %s \"%s\", want fail \"%s\"", c,
			         pm_arc_result_name(r.result), r.reason, want);
		expect(&r, PM_ARC_FAIL, want, 0, 0);
		assert_int_equal(t.calls, 0);
		assert_int_equal(r.n, 0);
		arc_result_free(&r);
		msg_free(&m);
	}
	kt_free(&t);
}

/* test_huge_b - a 1 MB b= fails before it is decoded */
static void test_huge_b(void **state)
{
	struct msg_t m;
	struct keytab t;
	struct arc_result r;
	struct strbuf sb;

	(void)state;
	kt_std(&t);
	chain(&m, 1, false);
	sb_init(&sb);
	sb_append(&sb, "ARC-Seal: i=1; a=rsa-sha256; cv=none; d=lists.example; s=sel; b=");
	for (int i = 0; i < (1 << 20) / 64; i++)
		sb_append(&sb,
		          "QUJDREVGR0hJSktMTU5PUFFSU1RVVldYWVphYmNkZWZnaGlqa2xtbm9wcXJzdHV2\r\n ");
	replace(&m, msg_find(&m, "ARC-Seal:"), sb.s);
	sb_free(&sb);
	verify(&m, &t, &r);
	expect(&r, PM_ARC_FAIL, "i=1 AS: b= too long", 0, 0);
	arc_result_free(&r);
	msg_free(&m);
	kt_free(&t);
}

/* test_keys - key trouble: small, revoked, missing, wrong type, failing for now */
static void test_keys(void **state)
{
	static const struct {
		const char *sel;   /* the first hop's selector (RSA key) */
		bool ed;           /* the first hop signs with Ed25519 */
		const char *extra; /* a key record for sel._domainkey.lists.example instead */
		enum pm_arc_result want;
		const char *reason;
		int verified;
	} cases[] = {
	    {"small", false, NULL, PM_ARC_FAIL,
	     "i=1 AMS: RSA key of 512 bits, under 1024 (RFC 8301)", 0},
	    {"revoked", false, NULL, PM_ARC_FAIL, "i=1 AMS: key revoked (empty p=)", 0},
	    {"nokey", false, NULL, PM_ARC_FAIL, "i=1 AMS: no key record", 0},
	    {"slow", false, NULL, PM_ARC_TEMPERROR, "i=1 AMS: key lookup failed for now (other)",
	     0},
	    {"sel", false, "v=DKIM1; k=ed25519; p=%s", PM_ARC_FAIL,
	     "i=1 AMS: key k=ed25519 does not match a=", 0},
	    {"sel", false, "v=DKIM1; h=sha1; p=%s", PM_ARC_FAIL, "i=1 AMS: key h= without sha256",
	     0},
	    {"sel", false, "v=DKIM1; s=other; p=%s", PM_ARC_FAIL, "i=1 AMS: key not for email (s=)",
	     0},
	    {"sel", false, "k=rsa; v=DKIM1; p=%s", PM_ARC_FAIL,
	     "i=1 AMS: key record v= not DKIM1 first", 0},
	    {"sel", false, "v=DKIM1; k=rsa; n=some notes; h=sha1:sha256; s=email; p=%s",
	     PM_ARC_PASS, "", 2},
	    {"sel", false, "v=DKIM1; k=rsa; p=%s; p=x", PM_ARC_FAIL,
	     "i=1 AMS: key record malformed", 0},
	    {"sel", true, "v=DKIM1; k=rsa; p=%s", PM_ARC_FAIL,
	     "i=1 AMS: key k=rsa does not match a=", 0},
	};

	(void)state;
	for (size_t c = 0; c < PM_ARRAY_LEN(cases); c++) {
		struct msg_t m;
		struct keytab t;
		struct arc_result r;
		struct hop h = hop_key(LISTS_RSA, cases[c].ed ? ed_key : rsa_key);

		memset(&t, 0, sizeof(t));
		if (cases[c].extra != NULL) {
			const char *at = strstr(cases[c].extra, "%s");

			kt_add(&t, "sel._domainkey.lists.example", "%.*s%s%s",
			       (int)(at - cases[c].extra), cases[c].extra, rsa_pub, at + 2);
		} else
			kt_std(&t);
		h.s = cases[c].sel;
		h.key = strcmp(cases[c].sel, "small") == 0 ? small_key : h.key;
		msg_init(&m);
		seal(&m, 1, &h);
		verify(&m, &t, &r);
		if (r.result != cases[c].want || strcmp(r.reason, cases[c].reason) != 0)
			fail_msg("case %zu: got %s \"%s\", want %s \"%s\"", c,
			         pm_arc_result_name(r.result), r.reason,
			         pm_arc_result_name(cases[c].want), cases[c].reason);
		expect(&r, cases[c].want, cases[c].reason, cases[c].verified, 1);
		if (cases[c].want == PM_ARC_TEMPERROR)
			assert_int_equal(r.dns_fail, DNS_FAIL_OTHER);
		arc_result_free(&r);
		msg_free(&m);
		kt_free(&t);
	}
}

/* test_seal_h - an ARC-Seal with h= fails (RFC 8617 4.1.3) */
static void test_seal_h(void **state)
{
	struct msg_t m;
	struct keytab t;
	struct arc_result r;
	struct hop h = hop_key(LISTS_RSA, rsa_key);

	(void)state;
	kt_std(&t);
	msg_init(&m);
	h.extra = "h=from; ";
	seal(&m, 1, &h);
	verify(&m, &t, &r);
	expect(&r, PM_ARC_FAIL, "i=1 AS: h= in an ARC-Seal", 0, 0);
	arc_result_free(&r);
	msg_free(&m);
	kt_free(&t);
}

/* test_max_sets - the max_sets setting; 50 sets pass, 51 do not */
static void test_max_sets(void **state)
{
	struct msg_t m;
	struct keytab t;
	struct arc_result r;
	struct arc_verify_settings s;

	(void)state;
	kt_std(&t);
	chain(&m, 3, false);
	arc_verify_defaults(&s);
	s.leadspc = true;
	s.key_lookup = kt_lookup;
	s.key_lookup_arg = &t;
	s.max_sets = 2;
	verify_with(&m, &s, NULL, &r);
	expect(&r, PM_ARC_FAIL, "3 sets, over 2", 0, 0);
	arc_result_free(&r);
	msg_free(&m);

	/* 50 Ed25519 sets, every hop changing the body: every AS, then AMS 50 and 49 */
	msg_init(&m);
	for (unsigned i = 1; i <= 50; i++) {
		struct hop h = hop_key(FWD_ED, ed_key);

		sb_append(&m.body, "x\r\n");
		seal(&m, i, &h);
	}
	verify(&m, &t, &r);
	expect(&r, PM_ARC_PASS, "", 52, 1);
	assert_int_equal(r.oldest_pass, 50);
	assert_int_equal(r.n, 50);
	arc_result_free(&r);
	{
		struct hop h = hop_key(FWD_ED, ed_key);

		seal(&m, 51, &h);
	}
	verify(&m, &t, &r);
	expect(&r, PM_ARC_FAIL, "51 sets, over 50", 0, 0);
	arc_result_free(&r);
	msg_free(&m);
	kt_free(&t);
}

/* test_oldest_pass_bytes - the oldest-pass walk stops past 1 MiB of older AMS header data */
static void test_oldest_pass_bytes(void **state)
{
	struct msg_t m;
	struct keytab t;
	struct arc_result r;
	struct strbuf big;

	(void)state;
	kt_std(&t);
	msg_init(&m);
	sb_init(&big);
	sb_append(&big, "X-Big: ");
	for (int i = 0; i < 600 * 1024 / 64; i++)
		sb_append(&big, "0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef");
	msg_prepend(&m, big.s);
	sb_free(&big);
	for (unsigned i = 1; i <= 4; i++) {
		struct hop h = hop_key(FWD_ED, ed_key);

		h.h = "from:x-big";
		seal(&m, i, &h);
	}
	/* AMS 4 (600 KiB), 3 (0 bytes of the walk before it), 2 (600 KiB before it); not 1 */
	verify(&m, &t, &r);
	expect(&r, PM_ARC_PASS, "", 7, 1);
	assert_int_equal(r.oldest_pass, 2);
	assert_false(r.set[0].ams_checked);
	arc_result_free(&r);
	msg_free(&m);
	kt_free(&t);
}

/* ---- keys through a DNS budget ------------------------------------------------- */

struct fake_dns {
	struct msg m;
	unsigned queries;
	bool timeout;
	struct dns_budget *b;
};

/* fake_query - TXT answers for the test keys; everything times out when f->timeout */
static enum dns_status fake_query(void *arg, const char *name, int type, int timeout, long left_ms,
                                  const unsigned char **answer, int *answer_len)
{
	struct fake_dns *f = arg;
	const char *p;
	char rec[1024];
	unsigned char rdata[1100];
	size_t len, n = 0;

	(void)timeout;
	(void)left_ms;
	f->queries++;
	if (f->timeout) {
		f->b->fail = DNS_FAIL_TIMEOUT;
		return DNS_TEMPFAIL;
	}
	if (type != ns_t_txt || strcasecmp(name, "sel._domainkey.lists.example") != 0)
		return DNS_NXDOMAIN;
	snprintf(rec, sizeof(rec), "v=DKIM1; k=rsa; p=%s", rsa_pub);
	/* character-strings of at most 255 bytes */
	for (p = rec, len = strlen(rec); len > 0;) {
		size_t take = len > 255 ? 255 : len;

		rdata[n++] = (unsigned char)take;
		memcpy(rdata + n, p, take);
		n += take;
		p += take;
		len -= take;
	}
	msg_start(&f->m, name, ns_t_txt);
	msg_add(&f->m, ns_t_txt, rdata, (int)n);
	*answer = f->m.b;
	*answer_len = f->m.len;
	return DNS_OK;
}

/* test_dns_budget - keys through dns_budget_query: pass, and temperror with the cause */
static void test_dns_budget(void **state)
{
	for (int timeout = 0; timeout <= 1; timeout++) {
		struct msg_t m;
		struct arc_result r;
		struct arc_verify_settings s;
		struct dns_budget b;
		struct fake_dns f;

		(void)state;
		memset(&f, 0, sizeof(f));
		dns_budget_init(&b, 2, 30);
		b.query = fake_query;
		b.arg = &f;
		f.b = &b;
		f.timeout = timeout;
		chain(&m, 1, false);
		{ /* a second set by the same sealer: still one lookup */
			struct hop h = hop_key(LISTS_RSA, rsa_key);

			seal(&m, 2, &h);
		}
		arc_verify_defaults(&s);
		s.leadspc = true;
		verify_with(&m, &s, &b, &r);
		if (timeout) {
			expect(&r, PM_ARC_TEMPERROR, "i=2 AMS: key lookup failed for now (timeout)",
			       0, 1);
			assert_int_equal(r.dns_fail, DNS_FAIL_TIMEOUT);
		} else {
			expect(&r, PM_ARC_PASS, "", 4, 1);
		}
		assert_int_equal(f.queries, 1);
		arc_result_free(&r);
		msg_free(&m);
	}
}

/* test_lifecycle - NULL verifiers, eom without eoh, headers after eoh ignored, eom once */
static void test_lifecycle(void **state)
{
	struct arc_verifier *v;
	struct arc_result r;

	(void)state;
	arc_verify_header(NULL, "ARC-Seal", "i=1");
	arc_verify_eoh(NULL);
	arc_verify_body(NULL, (const unsigned char *)"x", 1);
	arc_verify_budget(NULL, NULL);
	arc_verify_eom(NULL, &r);
	assert_int_equal(r.result, PM_ARC_NONE);
	arc_verify_free(NULL);
	arc_result_free(NULL);

	v = arc_verify_new(NULL, NULL);
	arc_verify_header(v, "ARC-Seal", NULL);
	arc_verify_eom(v, &r); /* eoh implied: an AS without i= */
	expect(&r, PM_ARC_FAIL, "AS without i=", 0, 0);
	arc_result_free(&r);
	arc_verify_eom(v, &r); /* once only */
	assert_int_equal(r.result, PM_ARC_NONE);
	arc_verify_free(v);

	v = arc_verify_new(NULL, NULL);
	arc_verify_eoh(v);
	arc_verify_header(v, "ARC-Seal", "i=1"); /* after the headers: ignored */
	arc_verify_eom(v, &r);
	assert_int_equal(r.result, PM_ARC_NONE);
	arc_verify_free(v);
}

/* one_hop_record - a 1-hop RSA chain (lists.example "sel") judged with record as its key */
static void one_hop_record(const struct msg_t *m, const char *record, int min_key_bits,
                           struct arc_result *r)
{
	struct keytab t;
	struct arc_verify_settings s;

	memset(&t, 0, sizeof(t));
	kt_add(&t, "sel._domainkey.lists.example", "%s", record);
	arc_verify_defaults(&s);
	s.leadspc = true;
	s.min_key_bits = min_key_bits;
	s.key_lookup = kt_lookup;
	s.key_lookup_arg = &t;
	verify_with(m, &s, NULL, r);
	kt_free(&t);
}

struct cache_thread {
	const struct msg_t *m;
	const char *record;
	unsigned passed;
};

/* cache_thread_run - the same chain judged 20 times (threads share the decoded keys) */
static void *cache_thread_run(void *arg)
{
	struct cache_thread *c = arg;

	for (int i = 0; i < 20; i++) {
		struct arc_result r;

		one_hop_record(c->m, c->record, 1024, &r);
		c->passed += r.result == PM_ARC_PASS;
		arc_result_free(&r);
	}
	return NULL;
}

/*
 * test_key_cache - the process keeps decoded keys by their exact record
 * text: a changed record under the same name is decoded afresh, the RSA
 * size rule stays each verifier's, the oldest entries go past 256, and
 * threads share it
 */
static void test_key_cache(void **state)
{
	struct msg_t m;
	struct arc_result r;
	struct hop h = hop_key(LISTS_RSA, rsa_key);
	EVP_PKEY *other = EVP_RSA_gen(1024);
	char *other_pub, rec[2048], orig[2048];
	struct cache_thread ct[4];
	pthread_t th[4];

	(void)state;
	assert_non_null(other);
	other_pub = pub_of(other);
	msg_init(&m);
	seal(&m, 1, &h);
	snprintf(orig, sizeof(orig), "v=DKIM1; k=rsa; p=%s", rsa_pub);
	one_hop_record(&m, orig, 1024, &r);
	expect(&r, PM_ARC_PASS, "", 2, 1);
	arc_result_free(&r);
	/* the record changed (key rotated): the new key is decoded, the signature fails */
	snprintf(rec, sizeof(rec), "v=DKIM1; k=rsa; p=%s", other_pub);
	one_hop_record(&m, rec, 1024, &r);
	expect(&r, PM_ARC_FAIL, "i=1 AMS: signature does not verify", 1, 1);
	arc_result_free(&r);
	one_hop_record(&m, orig, 1024, &r); /* and back */
	expect(&r, PM_ARC_PASS, "", 2, 1);
	arc_result_free(&r);
	/* a cached key still meets each verifier's min_key_bits */
	one_hop_record(&m, orig, 4096, &r);
	expect(&r, PM_ARC_FAIL, "i=1 AMS: RSA key of 2048 bits, under 4096 (RFC 8301)", 0, 1);
	arc_result_free(&r);
	/* the same key under 300 record texts (notes differ): the oldest entries go */
	for (int i = 0; i < 300; i++) {
		snprintf(rec, sizeof(rec), "v=DKIM1; k=rsa; n=note%d; p=%s", i, rsa_pub);
		one_hop_record(&m, rec, 1024, &r);
		expect(&r, PM_ARC_PASS, "", 2, 1);
		arc_result_free(&r);
	}
	one_hop_record(&m, orig, 1024, &r); /* evicted: decoded again */
	expect(&r, PM_ARC_PASS, "", 2, 1);
	arc_result_free(&r);
	/* a record over 4 KiB (long notes) is decoded each time, not kept */
	{
		char *longrec = xmalloc(6000);

		snprintf(longrec, 6000, "v=DKIM1; k=rsa; n=%05000d; p=%s", 0, rsa_pub);
		for (int i = 0; i < 2; i++) {
			one_hop_record(&m, longrec, 1024, &r);
			expect(&r, PM_ARC_PASS, "", 2, 1);
			arc_result_free(&r);
		}
		free(longrec);
	}
	/* threads at once, the cache emptied first: each decodes or finds the key */
	keycache_free();
	for (int i = 0; i < 4; i++) {
		ct[i] = (struct cache_thread){&m, i % 2 ? orig : rec, 0};
		assert_int_equal(pthread_create(&th[i], NULL, cache_thread_run, &ct[i]), 0);
	}
	for (int i = 0; i < 4; i++) {
		assert_int_equal(pthread_join(th[i], NULL), 0);
		assert_int_equal(ct[i].passed, 20);
	}
	keycache_free();
	keycache_free(); /* twice is fine */
	one_hop_record(&m, orig, 1024, &r);
	expect(&r, PM_ARC_PASS, "", 2, 1);
	arc_result_free(&r);
	msg_free(&m);
	free(other_pub);
	EVP_PKEY_free(other);
}

/* test_names - the result names */
static void test_names(void **state)
{
	(void)state;
	assert_string_equal(pm_arc_result_name(PM_ARC_NONE), "none");
	assert_string_equal(pm_arc_result_name(PM_ARC_PASS), "pass");
	assert_string_equal(pm_arc_result_name(PM_ARC_FAIL), "fail");
	assert_string_equal(pm_arc_result_name(PM_ARC_TEMPERROR), "temperror");
	assert_string_equal(pm_arc_result_name(PM_ARC_NRESULTS), "unknown");
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_no_arc),
	    cmocka_unit_test(test_hops),
	    cmocka_unit_test(test_canon),
	    cmocka_unit_test(test_bare_lf),
	    cmocka_unit_test(test_bodies),
	    cmocka_unit_test(test_reordered),
	    cmocka_unit_test(test_flips),
	    cmocka_unit_test(test_structure),
	    cmocka_unit_test(test_huge_b),
	    cmocka_unit_test(test_keys),
	    cmocka_unit_test(test_seal_h),
	    cmocka_unit_test(test_max_sets),
	    cmocka_unit_test(test_oldest_pass_bytes),
	    cmocka_unit_test(test_dns_budget),
	    cmocka_unit_test(test_lifecycle),
	    cmocka_unit_test(test_key_cache),
	    cmocka_unit_test(test_names),
	};

	return cmocka_run_group_tests(tests, setup_keys, teardown_keys);
}
