/*
 * NAME
 *	arc - ARC chain validation (RFC 8617 section 5.2)
 * SYNOPSIS
 *	#include "arc.h"
#include "keycache.h"
 * DESCRIPTION
 *	The verifier keeps every header field of the message (name and
 *	value, the value as the wire had it: the leading space, folding
 *	as CRLF) and counts the ARC ones as they come. At the end of the
 *	headers it judges the chain's structure, with no cryptography and
 *	no DNS: at most max_sets sets (the count of each ARC field, before
 *	anything is parsed), each field's tag-list (RFC 6376 3.2: tag
 *	names, "=", no tag twice; the AAR's "i=N;" prefix), instances 1..N
 *	with exactly one AS, AMS and AAR each, the cv= rules, every AS and
 *	the newest AMS with their required tags, a=, c=, q=, LDH d= and
 *	s=, b= no longer than the largest signature (ARC_MAX_SIG_BYTES).
 *	A chain that passes that gets its body hashes: one running SHA-256
 *	per distinct (body canonicalization, l=) that the AMSs ask for,
 *	the newest AMS's first, at most ARC_MAX_BODY_HASHES, fed while the
 *	body streams (canonicalized on the fly, bare LF taken as CRLF).
 *
 *	At the end of the message: the newest AMS is verified (body hash,
 *	then its h= fields picked bottom-up as in RFC 6376 5.4.2, the AMS
 *	itself with b= emptied last, without its CRLF), then every AS
 *	from the newest down (relaxed header canonicalization of the AAR,
 *	AMS and AS of each set 1..i, the AS of i with b= emptied last:
 *	one running SHA-256 over the sets, copied for each seal, so the
 *	work is linear in the chain's size), stopping at the first failure.
 *	A passing chain then gets its oldest-pass (RFC 8617 5.2 step 5):
 *	the older AMSs are verified newest first until one fails, or until
 *	they have canonicalized ARC_OLDEST_PASS_BYTES of header data.
 *
 *	Keys: one lookup per distinct key name per message, through the
 *	DNS budget (dkim_key_dns, shared with dkim.c) or the settings'
 *	key_lookup. The decoded key is kept process-wide by the exact
 *	record text (keycache.c, shared with libopendkim's keys: 256
 *	entries, the oldest dropped), so a key is decoded once per
 *	process, not once per signature; the RSA size rule is still each
 *	verifier's. The record is read like a
 *	DKIM key record (RFC 6376 3.6.1, after dkim_key_record_compact,
 *	shared with dkim.c): v=DKIM1 first when present, k= rsa or
 *	ed25519 matching a=, h= naming
 *	sha256, s= naming email or *, p= present and not empty (empty:
 *	revoked). RSA keys are SubjectPublicKeyInfo (or PKCS#1) DER, at
 *	least min_key_bits; ed25519 keys the 32 raw bytes (RFC 8463), whose
 *	signature is over the SHA-256 of the canonicalized data. OpenSSL
 *	EVP does the cryptography.
 *
 *	The body canonicalization is bodyhash.c's, shared with dkim.c. The
 *	header canonicalization and the signatures are arc.c's own: dkim.c
 *	hands those to libopendkim, which has no ARC entry points.
 * DIAGNOSTICS
 *	Allocation failure aborts (xmalloc). Library errors of OpenSSL make
 *	the signature fail (its error queue is cleared).
 */
#include <ctype.h>
#include <stdarg.h>
#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/rsa.h>
#include <openssl/x509.h>
#include <pthread.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "arc.h"
#include "bodyhash.h"
#include "keycache.h"
#include "util.h"

/* tags in one AS or AMS tag-list; more is malformed (an AMS uses 13 at most) */
#define ARC_MAX_TAGS 24
/* the largest signature: RSA 8192 bits; a longer b= fails before it is decoded */
#define ARC_MAX_SIG_BYTES 1024
/* running body hashes of one message (distinct body canonicalization and l=) */
#define ARC_MAX_BODY_HASHES 4
/* header field names in one AMS h=; more is malformed */
#define ARC_MAX_H_NAMES 256
/* header bytes the oldest-pass walk may canonicalize for the older AMSs */
#define ARC_OLDEST_PASS_BYTES (1024ULL * 1024)

enum arc_kind { ARC_AAR = 0, ARC_AMS, ARC_AS, ARC_NKINDS };

static const char *const kind_field[ARC_NKINDS] = {"ARC-Authentication-Results",
                                                   "ARC-Message-Signature", "ARC-Seal"};
static const char *const kind_short[ARC_NKINDS] = {"AAR", "AMS", "AS"};

enum arc_alg { ALG_RSA_SHA256 = 1, ALG_ED25519_SHA256 };

/* One header field: the value as on the wire (leading space, CRLF folding); one allocation. */
struct hdr {
	char *name;  /* NUL-terminated, the value after it */
	char *value; /* NUL-terminated, inside name's allocation */
	size_t vlen;
};

/* One tag of a tag-list: pointers into the header value; span: what b= emptying removes. */
struct tag {
	const char *name;
	size_t nlen;
	const char *val; /* FWS at both ends trimmed */
	size_t vlen;
	size_t span_start, span_end; /* offsets: after '=' up to ';' or the end */
};

/* One ARC header field, parsed at the end of the headers. */
struct arc_hdr {
	enum arc_kind kind;
	size_t hi;         /* index in the verifier's hdr[] */
	unsigned instance; /* i= */
	struct tag tag[ARC_MAX_TAGS];
	size_t ntags;
};

/* A signature's tags, decoded (an AS or an AMS). */
struct sig {
	bool ok; /* parsed and usable */
	enum arc_alg alg;
	bool hrelaxed, brelaxed; /* c= (AMS; an AS is always relaxed) */
	long long l;             /* -1: no l= */
	const char *h;           /* h= (AMS), not NUL-terminated */
	size_t hlen;
	char d[256], s[256], a[32], cv[8];
	unsigned char b[ARC_MAX_SIG_BYTES];
	size_t blen;
	unsigned char bh[32];
	unsigned char digest[32]; /* AS: the SHA-256 of what it signs (as_digests) */
	int body;                 /* index of its body hash (AMS), -1 none */
	size_t bspan_start, bspan_end;
};

/* A key record fetched for this message, by name. */
struct key {
	char name[NS_MAXDNAME + 1];
	enum dkim_key_status st;
	enum dns_fail fail;
	char *record;
	EVP_PKEY *pk; /* its key, decoded for pkalg (NULL: not yet) */
	enum arc_alg pkalg;
};

struct arc_verifier {
	struct arc_verify_settings set;
	char qid[64];
	struct hdr *hdr;
	size_t nhdr, caphdr;
	unsigned count[ARC_NKINDS]; /* ARC fields seen, of each kind */
	bool eoh_done, eom_done;
	struct dns_budget *budget;
	struct dns_budget own_budget;
	/* judged at the end of the headers */
	enum pm_arc_result state; /* NONE, FAIL (structure) or PASS (whole, to verify) */
	char reason[128];
	unsigned fail_instance;
	unsigned n;         /* sets (the structure whole) */
	struct arc_hdr *ah; /* the ARC fields (every one, when at most 3 x limit) */
	size_t nah;         /* entries in ah */
	int slot[ARC_NKINDS][ARC_MAX_INSTANCES]; /* index in ah, -1 none */
	struct sig *as, *ams;                    /* [n] each, made when the chain is judged */
	struct body_hash *body; /* [nbody], made as the AMSs ask (a message without ARC has none) */
	size_t nbody;
	struct key *keys;
	size_t nkeys;
	unsigned verified, lookups;
	enum dns_fail dns_fail;
	unsigned long long ams_bytes; /* canonicalized header bytes of the AMSs verified */
};

/* SHA-256 fetched once per process (no implicit fetch per digest: OpenSSL 3 locks each) */
static pthread_once_t sha256_once = PTHREAD_ONCE_INIT;
static const EVP_MD *sha256_md;

/* sha256_init - fetch SHA-256 from the default library context; the built-in one if that fails */
static void sha256_init(void)
{
	EVP_MD *md = EVP_MD_fetch(NULL, "SHA256", NULL);

	ERR_clear_error();
	sha256_md = md != NULL ? md : EVP_sha256();
}

/* sha256 - the process's SHA-256 for every digest context and signature */
static const EVP_MD *sha256(void)
{
	(void)pthread_once(&sha256_once, sha256_init);
	return sha256_md;
}

static const char *const result_names[PM_ARC_NRESULTS] = {"none", "pass", "fail", "temperror"};

/* pm_arc_result_name - our name for r */
const char *pm_arc_result_name(enum pm_arc_result r)
{
	if ((int)r < 0 || r >= PM_ARC_NRESULTS)
		return "unknown";
	return result_names[r];
}

/* arc_verify_defaults - the defaults of arc.h */
void arc_verify_defaults(struct arc_verify_settings *s)
{
	memset(s, 0, sizeof(*s));
	s->max_sets = ARC_MAX_INSTANCES;
	s->min_key_bits = 1024;
}

/* arc_verify_new - a verifier for one message */
struct arc_verifier *arc_verify_new(const struct arc_verify_settings *s, const char *queue_id)
{
	struct arc_verifier *v = xcalloc(1, sizeof(*v));

	if (s != NULL)
		v->set = *s;
	else
		arc_verify_defaults(&v->set);
	if (v->set.max_sets == 0 || v->set.max_sets > ARC_MAX_INSTANCES)
		v->set.max_sets = ARC_MAX_INSTANCES;
	if (v->set.min_key_bits <= 0)
		v->set.min_key_bits = 1024;
	pm_bprintf(v->qid, sizeof(v->qid), "%s", queue_id ? queue_id : "");
	return v;
}

/* arc_kind_of - the ARC kind of a field name, -1 for any other field */
static int arc_kind_of(const char *name)
{
	for (int k = 0; k < ARC_NKINDS; k++)
		if (strcasecmp(name, kind_field[k]) == 0)
			return k;
	return -1;
}

/*
 * arc_verify_header - keep the field (wire form of its value: bare LF
 * as CRLF, the leading space), name and value in one allocation of
 * their exact size, and count the ARC ones
 */
void arc_verify_header(struct arc_verifier *v, const char *name, const char *value)
{
	size_t nlen, vlen;
	char *q;
	struct hdr *h;
	int kind;

	if (v == NULL || v->eoh_done || name == NULL)
		return;
	if (value == NULL)
		value = "";
	kind = arc_kind_of(name);
	if (kind >= 0)
		v->count[kind]++;
	nlen = strlen(name);
	vlen = v->set.leadspc ? 0 : 1;
	for (const char *p = value; *p; p++)
		vlen += *p == '\n' && (p == value || p[-1] != '\r') ? 2 : 1;
	if (v->nhdr == v->caphdr) {
		v->caphdr = v->caphdr ? 2 * v->caphdr : 32;
		v->hdr = xrealloc(v->hdr, v->caphdr * sizeof(*v->hdr));
	}
	h = &v->hdr[v->nhdr++];
	h->name = xmalloc(nlen + 1 + vlen + 1);
	memcpy(h->name, name, nlen + 1);
	h->value = q = h->name + nlen + 1;
	h->vlen = vlen;
	if (!v->set.leadspc)
		*q++ = ' ';
	for (const char *p = value; *p; p++) {
		if (*p == '\n' && (p == value || p[-1] != '\r'))
			*q++ = '\r';
		*q++ = *p;
	}
	*q = '\0';
}

/* arc_verify_budget - key lookups through b */
void arc_verify_budget(struct arc_verifier *v, struct dns_budget *b)
{
	if (v == NULL || b == NULL)
		return;
	v->budget = b;
}

/* fail_with - the chain fails, at instance (0: no one set's fault), for the reason given */
__attribute__((format(printf, 3, 4))) static void fail_with(struct arc_verifier *v,
                                                            unsigned instance, const char *fmt, ...)
{
	va_list ap;

	v->state = PM_ARC_FAIL;
	v->fail_instance = instance;
	va_start(ap, fmt);
	(void)vsnprintf(v->reason, sizeof(v->reason), fmt, ap);
	va_end(ap);
}

/* is_wsp - FWS characters inside a header value */
static bool is_wsp(char c)
{
	return c == ' ' || c == '\t' || c == '\r' || c == '\n';
}

/*
 * parse_tags - the tag-list at s (RFC 6376 3.2) into t[0..*n): false
 * when it is malformed (an element without "=", a bad or repeated tag
 * name, more than max tags). Empty elements are skipped.
 */
static bool parse_tags(const char *s, struct tag *t, size_t max, size_t *n)
{
	const char *base = s, *p = s;

	*n = 0;
	while (*p != '\0') {
		const char *end = strchr(p, ';'), *ns, *ne, *vs, *ve;

		if (end == NULL)
			end = p + strlen(p);
		ns = p;
		while (ns < end && is_wsp(*ns))
			ns++;
		if (ns == end) { /* an empty element */
			p = *end ? end + 1 : end;
			continue;
		}
		ne = ns;
		if (!isalpha((unsigned char)*ne))
			return false;
		while (ne < end && (isalnum((unsigned char)*ne) || *ne == '_'))
			ne++;
		vs = ne;
		while (vs < end && is_wsp(*vs))
			vs++;
		if (vs == end || *vs != '=')
			return false;
		vs++;
		if (*n == max)
			return false;
		for (size_t i = 0; i < *n; i++)
			if (t[i].nlen == (size_t)(ne - ns) && memcmp(t[i].name, ns, t[i].nlen) == 0)
				return false;
		t[*n].name = ns;
		t[*n].nlen = (size_t)(ne - ns);
		t[*n].span_start = (size_t)(vs - base);
		t[*n].span_end = (size_t)(end - base);
		while (vs < end && is_wsp(*vs))
			vs++;
		ve = end;
		while (ve > vs && is_wsp(ve[-1]))
			ve--;
		t[*n].val = vs;
		t[*n].vlen = (size_t)(ve - vs);
		(*n)++;
		p = *end ? end + 1 : end;
	}
	return true;
}

/* tag_get - the tag named name of h, NULL when absent */
static const struct tag *tag_get(const struct arc_hdr *h, const char *name)
{
	size_t len = strlen(name);

	for (size_t i = 0; i < h->ntags; i++)
		if (h->tag[i].nlen == len && memcmp(h->tag[i].name, name, len) == 0)
			return &h->tag[i];
	return NULL;
}

/* parse_instance - digits at [s, s+len) as an instance: 1..999, else 0 ("i=0" too) */
static unsigned parse_instance(const char *s, size_t len)
{
	unsigned n = 0;

	if (len == 0 || len > 3)
		return 0;
	for (size_t i = 0; i < len; i++) {
		if (!isdigit((unsigned char)s[i]))
			return 0;
		n = n * 10 + (unsigned)(s[i] - '0');
	}
	return n;
}

/*
 * aar_instance - the AAR's "i=N;" prefix: N, and in *payload the text
 * after the ';' (FWS skipped); false when there is no such prefix.
 * N is 0 when it is not a number of 1 to 999.
 */
static bool aar_instance(const char *v, unsigned *inst, const char **payload)
{
	const char *p = v, *ds, *de;

	while (is_wsp(*p))
		p++;
	if (*p != 'i')
		return false;
	p++;
	while (is_wsp(*p))
		p++;
	if (*p != '=')
		return false;
	p++;
	while (is_wsp(*p))
		p++;
	ds = p;
	while (isdigit((unsigned char)*p))
		p++;
	de = p;
	while (is_wsp(*p))
		p++;
	if (*p != ';')
		return false;
	p++;
	while (is_wsp(*p))
		p++;
	*inst = parse_instance(ds, (size_t)(de - ds));
	*payload = p;
	return true;
}

/* b64_value - the value of a base64 character, -1 for any other */
static int b64_value(unsigned char c)
{
	if (c >= 'A' && c <= 'Z')
		return c - 'A';
	if (c >= 'a' && c <= 'z')
		return c - 'a' + 26;
	if (c >= '0' && c <= '9')
		return c - '0' + 52;
	if (c == '+')
		return 62;
	if (c == '/')
		return 63;
	return -1;
}

/*
 * b64_decode - base64 at [s, s+len), FWS ignored, "=" padding only at
 * the end, into out (at most outmax bytes): false when malformed or
 * longer than outmax
 */
static bool b64_decode(const char *s, size_t len, unsigned char *out, size_t outmax, size_t *outlen)
{
	uint32_t acc = 0;
	unsigned bits = 0, pad = 0, syms = 0;
	size_t n = 0;

	for (size_t i = 0; i < len; i++) {
		unsigned char c = (unsigned char)s[i];
		int x;

		if (is_wsp((char)c))
			continue;
		if (c == '=') {
			pad++;
			continue;
		}
		x = b64_value(c);
		if (x < 0 || pad > 0)
			return false;
		syms++;
		acc = (acc << 6) | (uint32_t)x;
		bits += 6;
		if (bits >= 8) {
			bits -= 8;
			if (n == outmax)
				return false;
			out[n++] = (unsigned char)(acc >> bits);
		}
	}
	if (syms % 4 == 1 || pad > 2)
		return false;
	*outlen = n;
	return true;
}

/* b64_len - base64 symbols at [s, s+len) (FWS not counted) */
static size_t b64_len(const char *s, size_t len)
{
	size_t n = 0;

	for (size_t i = 0; i < len; i++)
		if (!is_wsp(s[i]))
			n++;
	return n;
}

/* tag_copy - the tag's value into dst (size): false when absent, empty or too long */
static bool tag_copy(const struct tag *t, char *dst, size_t size)
{
	if (t == NULL || t->vlen == 0 || t->vlen >= size)
		return false;
	memcpy(dst, t->val, t->vlen);
	dst[t->vlen] = '\0';
	return true;
}

/* tag_is - does the tag's value equal want (ASCII case ignored) */
static bool tag_is(const struct tag *t, const char *want)
{
	return t != NULL && t->vlen == strlen(want) && strncasecmp(t->val, want, t->vlen) == 0;
}

/*
 * parse_sig - the AS or AMS h as a signature into *s: false with why
 * (size whysize) when a tag the verifier needs is missing or bad
 */
static bool parse_sig(const struct arc_hdr *h, struct sig *s, char *why, size_t whysize)
{
	const struct tag *a = tag_get(h, "a"), *b = tag_get(h, "b"), *d = tag_get(h, "d"),
	                 *sel = tag_get(h, "s"), *t;
	bool seal = h->kind == ARC_AS;

	memset(s, 0, sizeof(*s));
	s->l = -1;
	s->body = -1;
	s->hrelaxed = seal;
	s->brelaxed = false;
	if (a == NULL || b == NULL || d == NULL || sel == NULL) {
		pm_bprintf(why, whysize, "%s missing",
		           a == NULL   ? "a="
		           : b == NULL ? "b="
		           : d == NULL ? "d="
		                       : "s=");
		return false;
	}
	if (tag_is(a, "rsa-sha256")) {
		s->alg = ALG_RSA_SHA256;
	} else if (tag_is(a, "ed25519-sha256")) {
		s->alg = ALG_ED25519_SHA256;
	} else if (tag_is(a, "rsa-sha1")) {
		pm_bprintf(why, whysize, "rsa-sha1 not accepted (RFC 8301)");
		return false;
	} else {
		pm_bprintf(why, whysize, "unknown algorithm a=%.*s",
		           (int)(a->vlen > 32 ? 32 : a->vlen), a->val);
		return false;
	}
	(void)tag_copy(a, s->a, sizeof(s->a));
	if (!tag_copy(d, s->d, sizeof(s->d)) || !dkim_host_ok(s->d)) {
		pm_bprintf(why, whysize, "d= not a host name");
		return false;
	}
	if (!tag_copy(sel, s->s, sizeof(s->s)) || !dkim_host_ok(s->s)) {
		pm_bprintf(why, whysize, "s= not a host name");
		return false;
	}
	if (b64_len(b->val, b->vlen) > (ARC_MAX_SIG_BYTES * 4 + 2) / 3 + 3) {
		pm_bprintf(why, whysize, "b= too long");
		return false;
	}
	if (!b64_decode(b->val, b->vlen, s->b, sizeof(s->b), &s->blen) || s->blen == 0) {
		pm_bprintf(why, whysize, "b= not base64");
		return false;
	}
	s->bspan_start = b->span_start;
	s->bspan_end = b->span_end;
	if (seal) {
		t = tag_get(h, "cv");
		if (!tag_copy(t, s->cv, sizeof(s->cv)) ||
		    (strcmp(s->cv, "none") != 0 && strcmp(s->cv, "pass") != 0 &&
		     strcmp(s->cv, "fail") != 0)) {
			pm_bprintf(why, whysize, "cv= missing or bad");
			return false;
		}
		if (tag_get(h, "h") != NULL) { /* RFC 8617 4.1.3 */
			pm_bprintf(why, whysize, "h= in an ARC-Seal");
			return false;
		}
		s->ok = true;
		return true;
	}
	t = tag_get(h, "bh");
	{
		size_t n = 0;

		if (t == NULL || b64_len(t->val, t->vlen) > 64 ||
		    !b64_decode(t->val, t->vlen, s->bh, sizeof(s->bh), &n) || n != sizeof(s->bh)) {
			pm_bprintf(why, whysize, "bh= missing or bad");
			return false;
		}
	}
	t = tag_get(h, "h");
	if (t == NULL || t->vlen == 0) {
		pm_bprintf(why, whysize, "h= missing");
		return false;
	}
	s->h = t->val;
	s->hlen = t->vlen;
	t = tag_get(h, "c");
	if (t != NULL) {
		const char *slash = memchr(t->val, '/', t->vlen);
		size_t hl = slash ? (size_t)(slash - t->val) : t->vlen;
		struct tag hc = {.val = t->val, .vlen = hl};
		struct tag bc = {.val = slash ? slash + 1 : "",
		                 .vlen = slash ? t->vlen - hl - 1 : 0};

		if (tag_is(&hc, "relaxed"))
			s->hrelaxed = true;
		else if (!tag_is(&hc, "simple"))
			goto bad_c;
		if (tag_is(&bc, "relaxed"))
			s->brelaxed = true;
		else if (slash != NULL && !tag_is(&bc, "simple"))
			goto bad_c;
	}
	t = tag_get(h, "l");
	if (t != NULL) {
		if (t->vlen == 0 || t->vlen > 18)
			goto bad_l;
		s->l = 0;
		for (size_t i = 0; i < t->vlen; i++) {
			if (!isdigit((unsigned char)t->val[i]))
				goto bad_l;
			s->l = s->l * 10 + (t->val[i] - '0');
		}
	}
	t = tag_get(h, "q");
	if (t != NULL) {
		char q[128];

		if (t->vlen >= sizeof(q)) {
			pm_bprintf(why, whysize, "q= too long");
			return false;
		}
		memcpy(q, t->val, t->vlen);
		q[t->vlen] = '\0';
		if (!dkim_q_supported(q)) {
			pm_bprintf(why, whysize, "q= names no dns/txt");
			return false;
		}
	}
	s->ok = true;
	return true;
bad_c:
	pm_bprintf(why, whysize, "c= unknown canonicalization");
	return false;
bad_l:
	pm_bprintf(why, whysize, "l= not a number");
	return false;
}

/* body_add - a body hash for sig s (brelaxed, l=): an existing one or a new one; -1 when full */
static int body_add(struct arc_verifier *v, const struct sig *s)
{
	struct body_hash *bh;

	for (size_t i = 0; i < v->nbody; i++)
		if (v->body[i].relaxed == s->brelaxed && v->body[i].limit == s->l)
			return (int)i;
	if (v->nbody == ARC_MAX_BODY_HASHES)
		return -1;
	v->body = xrealloc(v->body, (v->nbody + 1) * sizeof(*v->body));
	bh = &v->body[v->nbody];
	if (!bodyhash_init(bh, s->brelaxed, s->l, BODYHASH_SHA256))
		return -1;
	return (int)v->nbody++;
}

/*
 * judge_structure - RFC 8617 5.2 steps 1 to 3, and the tags of every AS
 * and of the newest AMS: v->state NONE, FAIL (reason) or PASS (to verify)
 */
static void judge_structure(struct arc_verifier *v)
{
	unsigned limit = v->set.max_sets, most = 0, n = 0;
	char why[96];

	v->state = PM_ARC_NONE;
	for (int k = 0; k < ARC_NKINDS; k++)
		if (v->count[k] > most)
			most = v->count[k];
	if (most == 0)
		return;
	if (most > limit) { /* before any parsing: the work stays bounded */
		fail_with(v, 0, "%u sets, over %u", most, limit);
		return;
	}
	memset(v->slot, -1, sizeof(v->slot));
	/* as many entries as there are ARC fields (at most 3 x limit), not 3 x limit */
	v->ah = xcalloc((size_t)v->count[ARC_AAR] + v->count[ARC_AMS] + v->count[ARC_AS],
	                sizeof(*v->ah));
	for (size_t i = 0; i < v->nhdr; i++) {
		int kind = arc_kind_of(v->hdr[i].name);
		struct arc_hdr *h;
		const char *payload;

		if (kind < 0)
			continue;
		h = &v->ah[v->nah++];
		h->kind = (enum arc_kind)kind;
		h->hi = i;
		if (kind == ARC_AAR) {
			if (!aar_instance(v->hdr[i].value, &h->instance, &payload)) {
				fail_with(v, 0, "AAR without i=");
				return;
			}
		} else {
			const struct tag *t;

			if (!parse_tags(v->hdr[i].value, h->tag, ARC_MAX_TAGS, &h->ntags)) {
				fail_with(v, 0, "%s: malformed tag-list", kind_short[kind]);
				return;
			}
			t = tag_get(h, "i");
			if (t == NULL) {
				fail_with(v, 0, "%s without i=", kind_short[kind]);
				return;
			}
			h->instance = parse_instance(t->val, t->vlen);
		}
		if (h->instance == 0) {
			fail_with(v, 0, "%s: i= not 1 to %u", kind_short[kind], limit);
			return;
		}
		if (h->instance > limit) {
			fail_with(v, 0, "%s i=%u, over %u", kind_short[kind], h->instance, limit);
			return;
		}
		if (v->slot[kind][h->instance - 1] >= 0) {
			fail_with(v, h->instance, "instance %u: two %s", h->instance,
			          kind_short[kind]);
			return;
		}
		v->slot[kind][h->instance - 1] = (int)(v->nah - 1);
		if (h->instance > n)
			n = h->instance;
	}
	for (unsigned i = 1; i <= n; i++) {
		bool any = false;

		for (int k = 0; k < ARC_NKINDS; k++)
			any = any || v->slot[k][i - 1] >= 0;
		if (!any) {
			fail_with(v, i, "instance %u missing", i);
			return;
		}
		for (int k = ARC_NKINDS - 1; k >= 0; k--)
			if (v->slot[k][i - 1] < 0) {
				fail_with(v, i, "instance %u: no %s", i, kind_short[k]);
				return;
			}
	}
	/* n sets, whole: n AS and n AMS (n is at most the count of each kind) */
	v->as = xcalloc(n, sizeof(*v->as));
	v->ams = xcalloc(n, sizeof(*v->ams));
	/* every AS, newest first: tags, then the cv= rules (RFC 8617 5.2 steps 2 and 3) */
	for (unsigned i = n; i >= 1; i--) {
		struct sig *s = &v->as[i - 1];

		if (!parse_sig(&v->ah[v->slot[ARC_AS][i - 1]], s, why, sizeof(why))) {
			fail_with(v, i, "i=%u AS: %s", i, why);
			return;
		}
	}
	for (unsigned i = n; i >= 1; i--) {
		const char *cv = v->as[i - 1].cv;

		if (strcmp(cv, "fail") == 0) {
			fail_with(v, i, "i=%u AS: cv=fail", i);
			return;
		}
		if (i == 1 && strcmp(cv, "none") != 0) {
			fail_with(v, i, "i=1 AS: cv=%s, must be none", cv);
			return;
		}
		if (i > 1 && strcmp(cv, "pass") != 0) {
			fail_with(v, i, "i=%u AS: cv=%s, must be pass", i, cv);
			return;
		}
	}
	/* the AMSs: the newest must be usable, the older ones only serve oldest-pass */
	for (unsigned i = n; i >= 1; i--) {
		struct sig *s = &v->ams[i - 1];

		if (!parse_sig(&v->ah[v->slot[ARC_AMS][i - 1]], s, why, sizeof(why)) && i == n) {
			fail_with(v, i, "i=%u AMS: %s", i, why);
			return;
		}
		if (s->ok)
			s->body = body_add(v, s);
		if (i == n && s->body < 0) {
			fail_with(v, i, "i=%u AMS: no body hash (library)", i);
			return;
		}
	}
	v->n = n;
	v->state = PM_ARC_PASS;
}

/* arc_verify_eoh - end of headers: the structure judged, the body hashes set up */
void arc_verify_eoh(struct arc_verifier *v)
{
	if (v == NULL || v->eoh_done)
		return;
	v->eoh_done = true;
	judge_structure(v);
}

/* arc_verify_body - a body chunk into each running body hash */
void arc_verify_body(struct arc_verifier *v, const unsigned char *bytes, size_t len)
{
	if (v == NULL || bytes == NULL || v->eom_done)
		return;
	if (!v->eoh_done)
		arc_verify_eoh(v);
	for (size_t i = 0; i < v->nbody; i++)
		if (v->body[i].md != NULL)
			bodyhash_feed(&v->body[i], bytes, len);
}

/* canon_relaxed - "name:value" by RFC 6376 3.4.2 into sb, the value [v, v+len) */
static void canon_relaxed(struct strbuf *sb, const char *name, const char *val, size_t len)
{
	size_t nl = strlen(name), o = 0;
	bool space = false, any = false;
	char small[2048], *out; /* the result is at most nl + 1 + len bytes: one append */

	while (nl > 0 && (name[nl - 1] == ' ' || name[nl - 1] == '\t'))
		nl--;
	out = nl + 1 + len <= sizeof(small) ? small : xmalloc(nl + 1 + len);
	for (size_t i = 0; i < nl; i++)
		out[o++] = (char)tolower((unsigned char)name[i]);
	out[o++] = ':';
	for (size_t i = 0; i < len; i++) {
		char c = val[i];

		if (c == '\r' && i + 1 < len && val[i + 1] == '\n') {
			i++; /* unfolded */
			continue;
		}
		if (c == '\n')
			continue;
		if (c == ' ' || c == '\t') {
			space = true;
			continue;
		}
		if (space && any)
			out[o++] = ' ';
		space = false;
		any = true;
		out[o++] = c;
	}
	sb_appendn(sb, out, o);
	if (out != small)
		free(out);
}

/*
 * canon_header - header hi canonicalized (relaxed or simple) into sb,
 * with the span [skip_start, skip_end) of its value left out (b= emptied;
 * both 0: nothing), and CRLF unless last
 */
static void canon_header(struct strbuf *sb, const struct hdr *h, bool relaxed, size_t skip_start,
                         size_t skip_end, bool last)
{
	const char *val = h->value;
	size_t len = h->vlen;
	char *tmp = NULL;

	if (skip_end > skip_start && skip_end <= len) {
		tmp = xmalloc(len - (skip_end - skip_start) + 1);
		memcpy(tmp, val, skip_start);
		memcpy(tmp + skip_start, val + skip_end, len - skip_end);
		len -= skip_end - skip_start;
		tmp[len] = '\0';
		val = tmp;
	}
	if (relaxed) {
		canon_relaxed(sb, h->name, val, len);
	} else {
		sb_append(sb, h->name);
		sb_appendc(sb, ':');
		sb_appendn(sb, val, len);
	}
	if (!last)
		sb_append(sb, "\r\n");
	free(tmp);
}

/* key_fetch - the key record named name: cached, else looked up once (counted) */
static struct key *key_fetch(struct arc_verifier *v, const char *name)
{
	struct key *k;
	char *record = NULL;

	for (size_t i = 0; i < v->nkeys; i++)
		if (strcasecmp(v->keys[i].name, name) == 0)
			return &v->keys[i];
	v->keys = xrealloc(v->keys, (v->nkeys + 1) * sizeof(*v->keys));
	k = &v->keys[v->nkeys++];
	memset(k, 0, sizeof(*k));
	pm_bprintf(k->name, sizeof(k->name), "%s", name);
	v->lookups++;
	if (v->set.key_lookup != NULL) {
		k->st = v->set.key_lookup(name, &record, v->set.key_lookup_arg);
		if (k->st == DKIM_KEY_TEMPFAIL)
			k->fail = DNS_FAIL_OTHER;
	} else {
		if (v->budget == NULL) {
			dns_budget_init(&v->own_budget, v->set.dns_timeout, 0);
			v->budget = &v->own_budget;
		}
		k->st = dkim_key_dns(name, &record, v->budget);
		if (k->st == DKIM_KEY_TEMPFAIL)
			k->fail =
			    v->budget->fail != DNS_FAIL_NONE ? v->budget->fail : DNS_FAIL_OTHER;
	}
	if (k->st == DKIM_KEY_FOUND && record == NULL)
		k->st = DKIM_KEY_TEMPFAIL; /* a lookup that broke its contract */
	if (k->st == DKIM_KEY_FOUND)
		k->record = record;
	else
		free(record);
	return k;
}

/*
 * list_next - the next element of a ':'-separated list (RFC 6376 h=, a key
 * record's h= and s=): *p..end is what is left; the element, FWS around
 * it removed, in [*a, *b) (maybe empty); false when nothing is left
 */
static bool list_next(const char **p, const char *end, const char **a, const char **b)
{
	const char *e;

	if (*p >= end)
		return false;
	e = memchr(*p, ':', (size_t)(end - *p));
	if (e == NULL)
		e = end;
	*a = *p;
	*b = e;
	while (*a < *b && is_wsp(**a))
		(*a)++;
	while (*b > *a && is_wsp((*b)[-1]))
		(*b)--;
	*p = e + 1;
	return true;
}

/* list_has - does a ':'-separated list [s, s+len) name want (case and FWS ignored) */
static bool list_has(const char *s, size_t len, const char *want)
{
	const char *end = s + len, *a, *b;

	while (list_next(&s, end, &a, &b))
		if ((size_t)(b - a) == strlen(want) && strncasecmp(a, want, (size_t)(b - a)) == 0)
			return true;
	return false;
}

/*
 * key_parse - the key record text as a key for alg: the EVP key, or
 * NULL with why (RFC 6376 3.6.1 tags; RFC 8463 ed25519; the RSA size is
 * key_get's)
 */
static EVP_PKEY *key_parse(const char *text, enum arc_alg alg, char *why, size_t whysize)
{
	char *c = dkim_key_record_compact(text);
	const char *p, *k = "rsa", *pv = NULL, *hv = NULL, *sv = NULL;
	size_t klen = 3, plen = 0, hlen = 0, slen = 0;
	bool first = true;
	EVP_PKEY *pk = NULL;
	unsigned char *der = NULL;
	size_t derlen = 0;

	if (c == NULL) {
		pm_bprintf(why, whysize, "key record malformed");
		return NULL;
	}
	for (p = c; *p != '\0';) {
		const char *end = strchr(p, ';'), *eq;

		if (end == NULL)
			end = p + strlen(p);
		eq = memchr(p, '=', (size_t)(end - p));
		if (eq != NULL) {
			size_t nl = (size_t)(eq - p), vl = (size_t)(end - eq - 1);

			if (nl == 1 && *p == 'v') {
				if (!first || vl != 5 || strncmp(eq + 1, "DKIM1", 5) != 0) {
					pm_bprintf(why, whysize, "key record v= not DKIM1 first");
					goto out;
				}
			} else if (nl == 1 && *p == 'k') {
				k = eq + 1;
				klen = vl;
			} else if (nl == 1 && *p == 'p') {
				pv = eq + 1;
				plen = vl;
			} else if (nl == 1 && *p == 'h') {
				hv = eq + 1;
				hlen = vl;
			} else if (nl == 1 && *p == 's') {
				sv = eq + 1;
				slen = vl;
			}
		}
		first = false;
		p = *end ? end + 1 : end;
	}
	if ((alg == ALG_RSA_SHA256 && !(klen == 3 && strncasecmp(k, "rsa", 3) == 0)) ||
	    (alg == ALG_ED25519_SHA256 && !(klen == 7 && strncasecmp(k, "ed25519", 7) == 0))) {
		pm_bprintf(why, whysize,
		           "key k=%.*s does not match a=", (int)(klen > 16 ? 16 : klen), k);
		goto out;
	}
	if (hv != NULL && !list_has(hv, hlen, "sha256")) {
		pm_bprintf(why, whysize, "key h= without sha256");
		goto out;
	}
	if (sv != NULL && !list_has(sv, slen, "email") && !list_has(sv, slen, "*")) {
		pm_bprintf(why, whysize, "key not for email (s=)");
		goto out;
	}
	if (pv == NULL) {
		pm_bprintf(why, whysize, "key record without p=");
		goto out;
	}
	if (plen == 0) {
		pm_bprintf(why, whysize, "key revoked (empty p=)");
		goto out;
	}
	der = xmalloc(plen);
	if (!b64_decode(pv, plen, der, plen, &derlen) || derlen == 0) {
		pm_bprintf(why, whysize, "key p= not base64");
		goto out;
	}
	if (alg == ALG_ED25519_SHA256) {
		if (derlen != 32 || (pk = EVP_PKEY_new_raw_public_key(EVP_PKEY_ED25519, NULL, der,
		                                                      derlen)) == NULL) {
			pm_bprintf(why, whysize, "ed25519 key malformed");
			goto out;
		}
	} else {
		const unsigned char *q = der;

		pk = d2i_PUBKEY(NULL, &q, (long)derlen);
		if (pk == NULL) { /* some publish the bare PKCS#1 RSAPublicKey */
			q = der;
			pk = d2i_PublicKey(EVP_PKEY_RSA, NULL, &q, (long)derlen);
		}
		if (pk == NULL || EVP_PKEY_get_base_id(pk) != EVP_PKEY_RSA) {
			EVP_PKEY_free(pk);
			pk = NULL;
			pm_bprintf(why, whysize, "RSA key malformed");
			goto out;
		}
	}
out:
	ERR_clear_error();
	free(der);
	free(c);
	return pk;
}

/* What key_parse needs besides the text (keycache_decode_fn's ctx). */
struct key_parse_args {
	const char *text;
	enum arc_alg alg;
	char *why;
	size_t whysize;
};

/* key_parse_cb - key_parse as a keycache_decode_fn */
static EVP_PKEY *key_parse_cb(const unsigned char *bytes, size_t len, void *ctx)
{
	const struct key_parse_args *a = ctx;

	(void)bytes; /* a->text, NUL-terminated */
	(void)len;
	return key_parse(a->text, a->alg, a->why, a->whysize);
}

/*
 * key_decode - the key of record text for alg (a reference the caller
 * frees), from the process's key cache (keycache.c: by the exact record
 * text, so a changed record is another entry; the record itself is looked
 * up for each message, TTL honoured) or decoded there; NULL with why
 */
static EVP_PKEY *key_decode(const char *text, enum arc_alg alg, char *why, size_t whysize)
{
	struct key_parse_args a = {text, alg, why, whysize};

	return keycache_get(alg == ALG_ED25519_SHA256 ? KEYCACHE_ARC_ED25519 : KEYCACHE_ARC_RSA,
	                    text, strlen(text), key_parse_cb, &a);
}

/*
 * key_get - the key of k's record for alg and this verifier (RSA of at
 * least min_key_bits, RFC 8301): a reference the caller frees, kept on
 * k for the message's other signatures under it; NULL with why
 */
static EVP_PKEY *key_get(const struct arc_verifier *v, struct key *k, enum arc_alg alg, char *why,
                         size_t whysize)
{
	EVP_PKEY *pk;

	if (k->pk != NULL && k->pkalg == alg)
		return EVP_PKEY_up_ref(k->pk) == 1 ? k->pk : NULL;
	pk = key_decode(k->record, alg, why, whysize);
	if (pk == NULL)
		return NULL;
	if (alg == ALG_RSA_SHA256) {
		int bits = EVP_PKEY_get_bits(pk);

		if (bits < v->set.min_key_bits) {
			EVP_PKEY_free(pk);
			pm_bprintf(why, whysize, "RSA key of %d bits, under %d (RFC 8301)", bits,
			           v->set.min_key_bits);
			return NULL;
		}
	}
	if (k->pk == NULL && EVP_PKEY_up_ref(pk) == 1) {
		k->pk = pk;
		k->pkalg = alg;
	}
	return pk;
}

/*
 * sig_check - does sig (alg) verify under pk, given the SHA-256 of the
 * canonicalized data: RSA PKCS#1 v1.5 over that digest; Ed25519 signs
 * the digest itself (RFC 8463 3)
 */
static bool sig_check(EVP_PKEY *pk, enum arc_alg alg, const unsigned char digest[32],
                      const unsigned char *sig, size_t siglen)
{
	bool ok = false;

	if (alg == ALG_RSA_SHA256) {
		EVP_PKEY_CTX *pctx = EVP_PKEY_CTX_new(pk, NULL);

		ok = pctx != NULL && EVP_PKEY_verify_init(pctx) == 1 &&
		     EVP_PKEY_CTX_set_rsa_padding(pctx, RSA_PKCS1_PADDING) == 1 &&
		     EVP_PKEY_CTX_set_signature_md(pctx, sha256()) == 1 &&
		     EVP_PKEY_verify(pctx, sig, siglen, digest, 32) == 1;
		EVP_PKEY_CTX_free(pctx);
	} else {
		EVP_MD_CTX *ctx = EVP_MD_CTX_new();

		ok = ctx != NULL && EVP_DigestVerifyInit(ctx, NULL, NULL, NULL, pk) == 1 &&
		     EVP_DigestVerify(ctx, sig, siglen, digest, 32) == 1;
		EVP_MD_CTX_free(ctx);
	}
	ERR_clear_error();
	return ok;
}

enum check { CHECK_PASS, CHECK_FAIL, CHECK_TEMP };

/*
 * sig_verify - the signature s over the data whose SHA-256 is digest,
 * with its key: pass, fail (why) or temp (why, v->dns_fail)
 */
static enum check sig_verify(struct arc_verifier *v, const struct sig *s,
                             const unsigned char digest[32], char *why, size_t whysize)
{
	char name[NS_MAXDNAME + 1];
	struct key *k;
	EVP_PKEY *pk;
	bool ok;

	if ((size_t)snprintf(name, sizeof(name), "%s._domainkey.%s", s->s, s->d) >= sizeof(name) ||
	    !dns_name_ok(name)) {
		pm_bprintf(why, whysize, "key name too long");
		return CHECK_FAIL;
	}
	k = key_fetch(v, name);
	switch (k->st) {
	case DKIM_KEY_FOUND:
		break;
	case DKIM_KEY_TEMPFAIL:
		v->dns_fail = k->fail;
		pm_bprintf(why, whysize, "key lookup failed for now (%s)", dns_fail_name(k->fail));
		return CHECK_TEMP;
	case DKIM_KEY_MULTIPLE:
		pm_bprintf(why, whysize, "several key records");
		return CHECK_FAIL;
	case DKIM_KEY_NOTFOUND:
	default:
		pm_bprintf(why, whysize, "no key record");
		return CHECK_FAIL;
	}
	pk = key_get(v, k, s->alg, why, whysize);
	if (pk == NULL)
		return CHECK_FAIL;
	v->verified++;
	ok = sig_check(pk, s->alg, digest, s->b, s->blen);
	EVP_PKEY_free(pk);
	if (!ok) {
		pm_bprintf(why, whysize, "signature does not verify");
		return CHECK_FAIL;
	}
	return CHECK_PASS;
}

/* ams_verify - the AMS of instance i (RFC 8617 5.2 step 4; RFC 6376 3.7) */
static enum check ams_verify(struct arc_verifier *v, unsigned i, char *why, size_t whysize)
{
	const struct sig *s = &v->ams[i - 1];
	const struct arc_hdr *self = &v->ah[v->slot[ARC_AMS][i - 1]];
	struct body_hash *bh;
	struct strbuf data;
	bool *used;
	const char *p = s->h, *end = s->h + s->hlen, *a, *b;
	unsigned names = 0;
	unsigned char digest[32];
	unsigned int dlen = 0;

	if (!s->ok || s->body < 0) {
		pm_bprintf(why, whysize, "not usable");
		return CHECK_FAIL;
	}
	bh = &v->body[s->body];
	bodyhash_finish(bh);
	if (bh->limit >= 0 && bh->total < (unsigned long long)bh->limit) {
		v->verified++;
		pm_bprintf(why, whysize, "l= longer than the body");
		return CHECK_FAIL;
	}
	if (memcmp(bh->digest, s->bh, sizeof(s->bh)) != 0) {
		v->verified++;
		pm_bprintf(why, whysize, "body hash mismatch");
		return CHECK_FAIL;
	}
	used = xcalloc(v->nhdr ? v->nhdr : 1, sizeof(*used));
	sb_init(&data);
	while (list_next(&p, end, &a, &b)) {
		if (a == b)
			continue;
		if (++names > ARC_MAX_H_NAMES) {
			free(used);
			sb_free(&data);
			pm_bprintf(why, whysize, "h= names over %d fields", ARC_MAX_H_NAMES);
			return CHECK_FAIL;
		}
		for (size_t j = v->nhdr; j-- > 0;) {
			const char *hn = v->hdr[j].name;

			if (!used[j] && strlen(hn) == (size_t)(b - a) &&
			    strncasecmp(hn, a, (size_t)(b - a)) == 0) {
				used[j] = true;
				canon_header(&data, &v->hdr[j], s->hrelaxed, 0, 0, false);
				break;
			}
		}
	}
	free(used);
	canon_header(&data, &v->hdr[self->hi], s->hrelaxed, s->bspan_start, s->bspan_end, true);
	v->ams_bytes += data.len;
	if (EVP_Digest(data.s, data.len, digest, &dlen, sha256(), NULL) != 1 ||
	    dlen != sizeof(digest)) {
		ERR_clear_error();
		sb_free(&data);
		pm_bprintf(why, whysize, "no digest (library)");
		return CHECK_FAIL;
	}
	sb_free(&data);
	return sig_verify(v, s, digest, why, whysize);
}

/* md_header - field hi canonicalized relaxed (b= span left out, CRLF unless last) into md */
static void md_header(EVP_MD_CTX *md, const struct hdr *h, size_t skip_start, size_t skip_end,
                      bool last)
{
	struct strbuf sb;

	sb_init(&sb);
	canon_header(&sb, h, true, skip_start, skip_end, last);
	if (sb.len > 0)
		(void)EVP_DigestUpdate(md, sb.s, sb.len);
	sb_free(&sb);
}

/*
 * as_digests - what each AS signs (RFC 8617 5.1.1): for AS i, the AAR,
 * AMS and AS of sets 1..i-1, then the AAR and AMS of set i and AS i with
 * b= emptied, relaxed; its SHA-256 into v->as[i-1].digest. One running
 * hash over the sets, copied for each AS: the work is linear in the
 * size of the chain, not quadratic. False when the library fails.
 */
static bool as_digests(struct arc_verifier *v)
{
	EVP_MD_CTX *run = EVP_MD_CTX_new(), *one = EVP_MD_CTX_new();
	bool ok = run != NULL && one != NULL && EVP_DigestInit_ex(run, sha256(), NULL) == 1;

	for (unsigned i = 1; ok && i <= v->n; i++) {
		const struct hdr *aar = &v->hdr[v->ah[v->slot[ARC_AAR][i - 1]].hi];
		const struct hdr *ams = &v->hdr[v->ah[v->slot[ARC_AMS][i - 1]].hi];
		const struct hdr *as = &v->hdr[v->ah[v->slot[ARC_AS][i - 1]].hi];
		struct sig *s = &v->as[i - 1];
		unsigned int dlen = 0;

		md_header(run, aar, 0, 0, false);
		md_header(run, ams, 0, 0, false);
		ok = EVP_MD_CTX_copy_ex(one, run) == 1;
		if (!ok)
			break;
		md_header(one, as, s->bspan_start, s->bspan_end, true);
		ok = EVP_DigestFinal_ex(one, s->digest, &dlen) == 1 && dlen == sizeof(s->digest);
		md_header(run, as, 0, 0, false);
	}
	EVP_MD_CTX_free(run);
	EVP_MD_CTX_free(one);
	ERR_clear_error();
	return ok;
}

/* as_verify - the AS of instance i (RFC 8617 5.2 step 6), its digest made by as_digests */
static enum check as_verify(struct arc_verifier *v, unsigned i, char *why, size_t whysize)
{
	return sig_verify(v, &v->as[i - 1], v->as[i - 1].digest, why, whysize);
}

/* fill_sets - out->set[] from the whole structure */
static void fill_sets(struct arc_verifier *v, struct arc_result *out)
{
	out->n = v->n;
	out->set = xcalloc(v->n, sizeof(*out->set));
	for (unsigned i = 1; i <= v->n; i++) {
		struct arc_set *set = &out->set[i - 1];
		const struct sig *as = &v->as[i - 1];
		const char *payload = NULL;
		unsigned inst;

		set->instance = i;
		pm_bprintf(set->domain, sizeof(set->domain), "%s", as->d);
		pm_bprintf(set->selector, sizeof(set->selector), "%s", as->s);
		pm_bprintf(set->algorithm, sizeof(set->algorithm), "%s", as->a);
		pm_bprintf(set->cv, sizeof(set->cv), "%s", as->cv);
		if (aar_instance(v->hdr[v->ah[v->slot[ARC_AAR][i - 1]].hi].value, &inst, &payload))
			set->aar = xstrdup(payload);
	}
}

/* arc_verify_eom - RFC 8617 5.2 steps 4 to 7 on a chain whose structure is whole */
void arc_verify_eom(struct arc_verifier *v, struct arc_result *out)
{
	char why[96];
	enum check r;
	unsigned n;

	memset(out, 0, sizeof(*out));
	if (v == NULL || v->eom_done)
		return;
	if (!v->eoh_done)
		arc_verify_eoh(v);
	v->eom_done = true;
	out->result = v->state;
	out->fail_instance = v->fail_instance;
	pm_bprintf(out->reason, sizeof(out->reason), "%s", v->reason);
	if (v->state != PM_ARC_PASS)
		return;
	n = v->n;
	fill_sets(v, out);
	/* the newest AMS */
	out->set[n - 1].ams_checked = true;
	r = ams_verify(v, n, why, sizeof(why));
	if (r == CHECK_PASS && !as_digests(v)) {
		r = CHECK_FAIL;
		pm_bprintf(out->reason, sizeof(out->reason), "AS digests (library)");
	} else if (r == CHECK_PASS) {
		out->set[n - 1].ams_valid = true;
		/* every AS, newest first, until one fails */
		for (unsigned i = n; i >= 1; i--) {
			r = as_verify(v, i, why, sizeof(why));
			if (r != CHECK_PASS) {
				pm_bprintf(out->reason, sizeof(out->reason), "i=%u AS: %s", i, why);
				out->fail_instance = i;
				break;
			}
			out->set[i - 1].as_valid = true;
		}
	} else {
		pm_bprintf(out->reason, sizeof(out->reason), "i=%u AMS: %s", n, why);
		out->fail_instance = n;
	}
	if (r == CHECK_PASS) {
		/*
		 * oldest-pass (step 5): older AMSs, newest first, until one does
		 * not verify, or their header data passes ARC_OLDEST_PASS_BYTES
		 */
		unsigned long long newest = v->ams_bytes;

		out->oldest_pass = n;
		for (unsigned i = n - 1; i >= 1 && v->ams_bytes - newest <= ARC_OLDEST_PASS_BYTES;
		     i--) {
			out->set[i - 1].ams_checked = true;
			if (ams_verify(v, i, why, sizeof(why)) != CHECK_PASS)
				break;
			out->set[i - 1].ams_valid = true;
			out->oldest_pass = i;
		}
		out->result = PM_ARC_PASS;
	} else {
		out->result = r == CHECK_TEMP ? PM_ARC_TEMPERROR : PM_ARC_FAIL;
		out->dns_fail = r == CHECK_TEMP ? v->dns_fail : DNS_FAIL_NONE;
	}
	out->verified = v->verified;
	out->lookups = v->lookups;
}

/* arc_verify_free - release v */
void arc_verify_free(struct arc_verifier *v)
{
	if (v == NULL)
		return;
	for (size_t i = 0; i < v->nhdr; i++)
		free(v->hdr[i].name); /* the value with it */
	free(v->hdr);
	free(v->ah);
	free(v->as);
	free(v->ams);
	for (size_t i = 0; i < v->nbody; i++)
		bodyhash_free(&v->body[i]);
	free(v->body);
	for (size_t i = 0; i < v->nkeys; i++) {
		free(v->keys[i].record);
		EVP_PKEY_free(v->keys[i].pk);
	}
	free(v->keys);
	free(v);
}

/* arc_result_free - release what *r holds */
void arc_result_free(struct arc_result *r)
{
	if (r == NULL)
		return;
	for (size_t i = 0; i < r->n; i++)
		free(r->set[i].aar);
	free(r->set);
	r->set = NULL;
	r->n = 0;
}
