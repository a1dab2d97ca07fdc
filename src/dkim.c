/*
 * NAME
 *	dkim - DKIM signature verification on libopendkim, with our own body hash
 * SYNOPSIS
 *	dkim_verify_new(), dkim_verify_header(), dkim_verify_eoh(),
 *	dkim_verify_body(), dkim_verify_eom(), dkim_verify_free(),
 *	dkim_results_free(), dkim_lib_shutdown(), pm_dkim_result_name()
 * DESCRIPTION
 *	One DKIM_LIB per process (pthread_once), one DKIM handle per
 *	message. libopendkim parses the signatures, canonicalises the
 *	headers, looks the keys up (through our callback) and verifies each
 *	b= over the headers, all at the end of the headers (dkim_eoh; no
 *	dkim_body, no dkim_eom). The body hash is ours: each signature whose
 *	b= verified gets a bodyhash.c hash for its c=, a= and l= (as
 *	libopendkim parsed them; signatures asking the same share one), fed
 *	as the body streams, and at the end compared with its bh= as
 *	libopendkim would (the base64 text). A signature libopendkim failed
 *	or could not verify gets no body hash and keeps libopendkim's
 *	verdict, as it stood at the end of the headers. This file decides
 *	what each signature's result is (see dkim.h for the table and the
 *	reasons).
 *
 *	The DKIM-Signature fields are also kept here, in header order:
 *	they are the list reported (so a signature libopendkim drops as
 *	malformed is still reported, as neutral), and the first
 *	max_signatures of them are the only ones libopendkim is allowed to
 *	process (its prescreen callback ignores the rest). The two lists
 *	are matched on the b= value.
 *
 *	Keys are fetched by our own key-lookup callback: DNS TXT through
 *	dns.c (this thread's resolver, dns_timeout per attempt), or the
 *	settings' override. The callback records per signature what the
 *	lookup gave, so a timeout is temperror and NXDOMAIN permerror
 *	whatever libopendkim makes of it. Two checks libopendkim makes only
 *	when it looks keys up itself are made here: q= must name dns/txt
 *	(else nothing is looked up), and the record must fit libopendkim's
 *	key buffer (DKIM_KEY_RECORD_MAX; it would be cut silently).
 *
 *	The header field names are kept too: a passing signature whose h=
 *	leaves an instance of a field it names unsigned is not acceptable
 *	(dkim_h_uncovered).
 *
 *	RFC 8301 and l= are judged here: libopendkim still verifies rsa-sha1
 *	and l= signatures. For l=, the body's canonical length is counted
 *	here for both canonicalisations: an l= past the end of the body is
 *	libopendkim's error (DKIM_SIGERROR_TOOLARGE_L, as its dkim_eom would
 *	set it), an l= shorter than the body is policy unless allow_l.
 * DIAGNOSTICS
 *	Allocation failure aborts. Library failures become temperror.
 */
#include <arpa/nameser.h>
#include <ctype.h>
#include <pthread.h>
#include <resolv.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/types.h>

#include <openssl/evp.h>
#include <opendkim/dkim.h>

#include "bodyhash.h"
#include "dkim.h"
#include "dns.h"
#include "util.h"

#define DKIM_DEFAULT_MAX_SIGS 5
#define DKIM_DEFAULT_MIN_BITS 1024
#define DKIM_NO_DEADLINE      86400 /* seconds: a verifier given no budget */

/* What the key lookup gave for one signature. */
enum key_outcome {
	KEY_NOT_ASKED = 0,
	KEY_OK,
	KEY_NOTFOUND,
	KEY_TEMPFAIL,
	KEY_MULTIPLE,
	KEY_BADNAME,
	KEY_BADQUERY, /* q= names no method we support: not looked up */
	KEY_TOOLONG,  /* the record does not fit libopendkim's buffer */
};

/* One DKIM-Signature header field as seen, with its tags parsed here. */
struct seen_sig {
	char *b; /* b= with all whitespace removed (for matching) */
	char *d, *s, *a;
	char *q, *h;            /* q= and h= as given (NULL when absent) */
	DKIM_SIGINFO *lib;      /* libopendkim's entry, once matched */
	unsigned int lib_flags; /* its flags and error at the end of the headers (b= verified) */
	int lib_err;
	int body; /* index of its body hash in the verifier's bodies, -1 none */
	enum key_outcome key;
	enum dns_fail key_fail; /* KEY_TEMPFAIL: why the lookup failed */
};

/* Canonical body length, counted for one canonicalisation. */
struct canon_count {
	long long committed; /* bytes up to the end of the last non-empty line */
	long long cur;       /* bytes of the current line so far */
	long long blanks;    /* empty lines since then (dropped if nothing follows) */
	bool wsp;            /* relaxed: whitespace pending in the line */
	bool cr;             /* a CR waiting for its LF */
};

struct dkim_verifier {
	struct dkim_verify_settings set;
	DKIM *dkim;
	DKIM_STAT eoh_status;
	bool eoh_done, eom_done, lib_failed;
	bool any_l;                /* a signature verified has l=: count the canonical body */
	struct dns_budget *budget; /* key lookups: the message's (dkim_verify_budget) or own */
	struct dns_budget own; /* without one: dns_timeout per attempt, no deadline to speak of */
	char *queue_id;
	struct seen_sig *sigs;
	size_t nsigs, capsigs;
	size_t total;
	char **hnames; /* every header field name, in order */
	size_t nhnames, caphnames;
	struct canon_count simple, relaxed;
	struct body_hash *bodies; /* [nbodies]: one per distinct (c=, a=, l=) of the passing b= */
	size_t nbodies;
};

static pthread_once_t lib_once = PTHREAD_ONCE_INIT;
static DKIM_LIB *lib;

static const char *const result_names[PM_DKIM_NRESULTS] = {
    [PM_DKIM_NONE] = "none",           [PM_DKIM_PASS] = "pass",
    [PM_DKIM_FAIL] = "fail",           [PM_DKIM_NEUTRAL] = "neutral",
    [PM_DKIM_POLICY] = "policy",       [PM_DKIM_TEMPERROR] = "temperror",
    [PM_DKIM_PERMERROR] = "permerror",
};

/* pm_dkim_result_name - RFC 8601 spelling of r */
const char *pm_dkim_result_name(enum pm_dkim_result r)
{
	if ((int)r < 0 || r >= PM_DKIM_NRESULTS)
		return "unknown";
	return result_names[r];
}

/* dkim_verify_defaults - the documented defaults */
void dkim_verify_defaults(struct dkim_verify_settings *s)
{
	memset(s, 0, sizeof(*s));
	s->max_signatures = DKIM_DEFAULT_MAX_SIGS;
	s->min_key_bits = DKIM_DEFAULT_MIN_BITS;
}

/* strip_ws - a copy of s without any whitespace */
static char *strip_ws(const char *s)
{
	char *out = xmalloc(strlen(s) + 1), *o = out;

	for (; *s; s++)
		if (!isspace((unsigned char)*s))
			*o++ = *s;
	*o = '\0';
	return out;
}

/* find_sig - our entry whose b= is b and not yet matched (NULL: none) */
static struct seen_sig *find_sig(struct dkim_verifier *v, const unsigned char *b, size_t limit)
{
	char *want;
	struct seen_sig *found = NULL;

	if (b == NULL)
		return NULL;
	want = strip_ws((const char *)b);
	for (size_t i = 0; i < v->nsigs && i < limit; i++) {
		if (v->sigs[i].lib == NULL && v->sigs[i].b != NULL &&
		    strcmp(v->sigs[i].b, want) == 0) {
			found = &v->sigs[i];
			break;
		}
	}
	free(want);
	return found;
}

/* sig_of - our entry matched to libopendkim's sig (NULL: none) */
static struct seen_sig *sig_of(struct dkim_verifier *v, DKIM_SIGINFO *sig)
{
	for (size_t i = 0; i < v->nsigs; i++)
		if (v->sigs[i].lib == sig)
			return &v->sigs[i];
	return NULL;
}

/* prescreen_cb - match libopendkim's signatures to ours; ignore those past the limit */
static DKIM_CBSTAT prescreen_cb(DKIM *dkim, DKIM_SIGINFO **sigs, int nsigs)
{
	struct dkim_verifier *v = dkim_get_user_context(dkim);
	size_t limit;

	if (v == NULL)
		return DKIM_CBSTAT_CONTINUE;
	limit = (size_t)v->set.max_signatures;
	for (int i = 0; i < nsigs; i++) {
		struct seen_sig *s =
		    find_sig(v, dkim_sig_gettagvalue(sigs[i], false, (u_char *)"b"), limit);

		if (s == NULL)
			dkim_sig_ignore(sigs[i]);
		else
			s->lib = sigs[i];
	}
	return DKIM_CBSTAT_CONTINUE;
}

/* dkim_host_ok - a d= or s= we may look up: LDH labels (and '_'), a valid DNS name */
bool dkim_host_ok(const char *s)
{
	if (s == NULL || *s == '\0' || !dns_name_ok(s))
		return false;
	for (; *s; s++)
		if (!isalnum((unsigned char)*s) && *s != '-' && *s != '.' && *s != '_')
			return false;
	return true;
}

/* dkim_key_dns - the key record at name by DNS, within budget b (dkim.h) */
enum dkim_key_status dkim_key_dns(const char *name, char **record, struct dns_budget *b)
{
	struct dns_reply ans;
	enum dkim_key_status st = DKIM_KEY_NOTFOUND;
	int r, found = 0;
	struct dns_answer a;
	struct dns_rr rr;

	switch (dns_budget_query(b, name, ns_t_txt, &ans)) {
	case DNS_OK:
		break;
	case DNS_NXDOMAIN:
	case DNS_NODATA:
		return DKIM_KEY_NOTFOUND;
	default:
		return DKIM_KEY_TEMPFAIL;
	}
	if (!dns_answer_open(&a, ans.msg, ans.len, ns_t_txt))
		r = -1;
	else
		while ((r = dns_answer_next(&a, &rr)) > 0 && found++ == 0)
			*record = rr.txt;
	if (r > 0) { /* a second record */
		free(rr.txt);
		st = DKIM_KEY_MULTIPLE;
	} else if (r < 0) {
		b->fail = DNS_FAIL_MALFORMED;
		st = DKIM_KEY_TEMPFAIL;
	} else if (found) {
		st = DKIM_KEY_FOUND;
	}
	dns_reply_free(&ans);
	if (st != DKIM_KEY_FOUND) {
		free(*record);
		*record = NULL;
	}
	return st;
}

/* key_cb - libopendkim's key lookup: ours (DNS or the override), outcome recorded */
static DKIM_CBSTAT key_cb(DKIM *dkim, DKIM_SIGINFO *sig, u_char *buf, size_t buflen)
{
	struct dkim_verifier *v = dkim_get_user_context(dkim);
	struct seen_sig *s = v ? sig_of(v, sig) : NULL;
	const char *d = (const char *)dkim_sig_getdomain(sig);
	const char *sel = (const char *)dkim_sig_getselector(sig);
	enum dkim_key_status st;
	char name[NS_MAXDNAME + 1];
	char *record = NULL;

	if (s != NULL && s->q != NULL && !dkim_q_supported(s->q)) {
		s->key = KEY_BADQUERY; /* RFC 6376 6.1.2: no key can be fetched */
		return DKIM_CBSTAT_NOTFOUND;
	}
	if (!dkim_host_ok(d) || !dkim_host_ok(sel) ||
	    (size_t)snprintf(name, sizeof(name), "%s._domainkey.%s", sel, d) >= sizeof(name) ||
	    !dns_name_ok(name)) {
		if (s)
			s->key = KEY_BADNAME;
		return DKIM_CBSTAT_NOTFOUND;
	}
	buf[0] = '\0';
	if (v == NULL) {
		st = DKIM_KEY_TEMPFAIL; /* not ours: nothing to look it up with */
	} else if (v->set.key_lookup != NULL) {
		st = v->set.key_lookup(name, &record, v->set.key_lookup_arg);
	} else {
		st = dkim_key_dns(name, &record, v->budget);
		if (s != NULL && st == DKIM_KEY_TEMPFAIL)
			s->key_fail = v->budget->fail;
	}
	if (st == DKIM_KEY_FOUND && record == NULL)
		st = DKIM_KEY_TEMPFAIL; /* a lookup that broke its contract */
	if (st != DKIM_KEY_FOUND) {
		free(record);
		record = NULL;
	}
	switch (st) {
	case DKIM_KEY_FOUND: {
		size_t len = strlen(record);

		if (len > DKIM_KEY_RECORD_MAX || len >= buflen) {
			/* long notes or folding: the same key in fewer bytes may fit */
			char *c = dkim_key_record_compact(record);

			if (c != NULL) {
				free(record);
				record = c;
				len = strlen(record);
			}
		}
		/* never cut: a cut record would blame the sender's key */
		if (len > DKIM_KEY_RECORD_MAX || len >= buflen) {
			free(record);
			if (s)
				s->key = KEY_TOOLONG;
			return DKIM_CBSTAT_NOTFOUND;
		}
		memcpy(buf, record, len + 1);
		free(record);
		if (s)
			s->key = KEY_OK;
		return DKIM_CBSTAT_CONTINUE;
	}
	case DKIM_KEY_NOTFOUND:
		if (s)
			s->key = KEY_NOTFOUND;
		return DKIM_CBSTAT_NOTFOUND;
	case DKIM_KEY_MULTIPLE:
		if (s)
			s->key = KEY_MULTIPLE;
		return DKIM_CBSTAT_NOTFOUND;
	case DKIM_KEY_TEMPFAIL:
	default:
		/*
		 * Not TRYAGAIN or ERROR: libopendkim would abandon every
		 * signature of the message. NOTFOUND ends this one only;
		 * judge() reports what was recorded here.
		 */
		if (s)
			s->key = KEY_TEMPFAIL;
		return DKIM_CBSTAT_NOTFOUND;
	}
}

/* lib_init - the process's library handle, once */
static void lib_init(void)
{
	unsigned int flags = DKIM_LIBFLAGS_FIXCRLF;
	unsigned int bits = 1; /* min_key_bits is judged here, per verifier */

	lib = dkim_init(NULL, NULL);
	if (lib == NULL)
		return;
	(void)dkim_options(lib, DKIM_OP_SETOPT, DKIM_OPTS_FLAGS, &flags, sizeof(flags));
	(void)dkim_options(lib, DKIM_OP_SETOPT, DKIM_OPTS_MINKEYBITS, &bits, sizeof(bits));
	(void)dkim_set_key_lookup(lib, key_cb);
	(void)dkim_set_prescreen(lib, prescreen_cb);
}

/* dkim_lib_shutdown - close the library handle (final: call at exit only) */
void dkim_lib_shutdown(void)
{
	if (lib != NULL) {
		dkim_close(lib);
		lib = NULL;
	}
}

/* dkim_verify_new - a verifier for one message */
struct dkim_verifier *dkim_verify_new(const struct dkim_verify_settings *s, const char *queue_id)
{
	struct dkim_verifier *v = xcalloc(1, sizeof(*v));
	DKIM_STAT st = DKIM_STAT_INTERNAL;

	if (s != NULL)
		v->set = *s;
	else
		dkim_verify_defaults(&v->set);
	if (v->set.max_signatures <= 0)
		v->set.max_signatures = DKIM_DEFAULT_MAX_SIGS;
	if (v->set.min_key_bits <= 0)
		v->set.min_key_bits = DKIM_DEFAULT_MIN_BITS;
	v->queue_id = xstrdup(queue_id != NULL && *queue_id ? queue_id : "NOQUEUE");
	dns_budget_init(&v->own, v->set.dns_timeout, DKIM_NO_DEADLINE);
	v->budget = &v->own;
	pthread_once(&lib_once, lib_init);
	if (lib != NULL)
		v->dkim = dkim_verify(lib, (const u_char *)v->queue_id, NULL, &st);
	if (v->dkim == NULL)
		v->lib_failed = true;
	else
		dkim_set_user_context(v->dkim, v);
	return v;
}

/* tag_value - a copy of tag's value in a tag-list (FWS trimmed), NULL when absent */
static char *tag_value(const char *list, const char *tag)
{
	size_t tlen = strlen(tag);
	const char *p = list;

	while (*p) {
		const char *end = strchr(p, ';'), *eq;

		if (end == NULL)
			end = p + strlen(p);
		while (p < end && isspace((unsigned char)*p))
			p++;
		eq = memchr(p, '=', (size_t)(end - p));
		if (eq != NULL) {
			const char *n = eq;

			while (n > p && isspace((unsigned char)n[-1]))
				n--;
			if ((size_t)(n - p) == tlen && strncmp(p, tag, tlen) == 0) {
				const char *vs = eq + 1, *ve = end;

				while (vs < ve && isspace((unsigned char)*vs))
					vs++;
				while (ve > vs && isspace((unsigned char)ve[-1]))
					ve--;
				return xstrndup(vs, (size_t)(ve - vs));
			}
		}
		p = *end ? end + 1 : end;
	}
	return NULL;
}

/* remember_sig - keep a DKIM-Signature field's tags */
static void remember_sig(struct dkim_verifier *v, const char *value)
{
	struct seen_sig *s;
	char *b;

	v->total++;
	if (v->nsigs >= (size_t)v->set.max_signatures)
		return; /* only counted: never verified nor reported */
	if (v->nsigs == v->capsigs) {
		v->capsigs = v->capsigs ? 2 * v->capsigs : 4;
		v->sigs = xrealloc(v->sigs, v->capsigs * sizeof(*v->sigs));
	}
	s = &v->sigs[v->nsigs++];
	memset(s, 0, sizeof(*s));
	s->body = -1;
	b = tag_value(value, "b");
	if (b != NULL) {
		s->b = strip_ws(b);
		free(b);
	}
	s->d = tag_value(value, "d");
	s->s = tag_value(value, "s");
	s->a = tag_value(value, "a");
	s->q = tag_value(value, "q");
	s->h = tag_value(value, "h");
	b = tag_value(value, "l");
	if (b != NULL) { /* the body's canonical length is needed (dkim_verify_body) */
		v->any_l = true;
		free(b);
	}
}

/* dkim_verify_header - one header field */
void dkim_verify_header(struct dkim_verifier *v, const char *name, const char *value)
{
	struct strbuf sb;
	DKIM_STAT st;

	if (v == NULL || v->eoh_done || name == NULL)
		return;
	if (value == NULL)
		value = "";
	if (pm_strcaseeq(name, "DKIM-Signature"))
		remember_sig(v, value);
	if (v->nhnames == v->caphnames) {
		v->caphnames = v->caphnames ? 2 * v->caphnames : 16;
		v->hnames = xrealloc(v->hnames, v->caphnames * sizeof(*v->hnames));
	}
	v->hnames[v->nhnames++] = xstrdup(name);
	if (v->dkim == NULL)
		return;
	sb_init(&sb);
	sb_append(&sb, name);
	sb_append(&sb, v->set.leadspc ? ":" : ": ");
	/* folding as the MTA stores it (LF) back to the wire form (CRLF) */
	for (const char *p = value; *p; p++) {
		if (*p == '\n' && (p == value || p[-1] != '\r'))
			sb_appendc(&sb, '\r');
		sb_appendc(&sb, *p);
	}
	st = dkim_header(v->dkim, (u_char *)sb.s, sb.len);
	(void)st; /* a header libopendkim cannot take is not fatal for the rest */
	sb_free(&sb);
}

/* dkim_verify_budget - the key lookups from now on go through b (the message's DNS budget) */
void dkim_verify_budget(struct dkim_verifier *v, struct dns_budget *b)
{
	if (v == NULL || b == NULL)
		return;
	v->budget = b;
}

/* body_add - the body hash for s's c=, a= and l= (as libopendkim parsed them): shared or new */
static int body_add(struct dkim_verifier *v, DKIM_SIGINFO *sig)
{
	dkim_canon_t hc = DKIM_CANON_UNKNOWN, bc = DKIM_CANON_UNKNOWN;
	dkim_alg_t alg = DKIM_SIGN_UNKNOWN;
	ssize_t msglen = -1, canonlen = -1, signlen = -1;
	enum bodyhash_alg ha;
	bool relaxed;

	if (dkim_sig_getcanons(sig, &hc, &bc) != DKIM_STAT_OK ||
	    dkim_sig_getsignalg(sig, &alg) != DKIM_STAT_OK ||
	    dkim_sig_getcanonlen(v->dkim, sig, &msglen, &canonlen, &signlen) != DKIM_STAT_OK)
		return -1;
	if (bc != DKIM_CANON_SIMPLE && bc != DKIM_CANON_RELAXED)
		return -1;
	if (alg == DKIM_SIGN_RSASHA1)
		ha = BODYHASH_SHA1;
	else if (alg == DKIM_SIGN_RSASHA256 || alg == DKIM_SIGN_ED25519SHA256)
		ha = BODYHASH_SHA256;
	else
		return -1;
	relaxed = bc == DKIM_CANON_RELAXED;
	if (signlen < 0)
		signlen = -1;
	for (size_t i = 0; i < v->nbodies; i++)
		if (v->bodies[i].relaxed == relaxed && v->bodies[i].alg == ha &&
		    v->bodies[i].limit == (long long)signlen)
			return (int)i;
	/* at most one per signature kept (max_signatures): the array was sized for that */
	if (!bodyhash_init(&v->bodies[v->nbodies], relaxed, (long long)signlen, ha))
		return -1;
	return (int)v->nbodies++;
}

/*
 * dkim_verify_eoh - end of headers: libopendkim looks the keys up and
 * verifies each b= now; the signatures whose b= passed get a body hash
 */
void dkim_verify_eoh(struct dkim_verifier *v)
{
	if (v == NULL || v->eoh_done)
		return;
	v->eoh_done = true;
	if (v->dkim == NULL)
		return;
	v->eoh_status = dkim_eoh(v->dkim);
	for (size_t i = 0; i < v->nsigs; i++) {
		struct seen_sig *s = &v->sigs[i];

		if (s->lib == NULL)
			continue;
		s->lib_flags = dkim_sig_getflags(s->lib);
		s->lib_err = dkim_sig_geterror(s->lib);
		if (v->eoh_status != DKIM_STAT_OK || (s->lib_flags & DKIM_SIGFLAG_PASSED) == 0 ||
		    s->lib_err != DKIM_SIGERROR_UNKNOWN)
			continue;
		if (v->bodies == NULL)
			v->bodies = xcalloc(v->nsigs, sizeof(*v->bodies));
		s->body = body_add(v, s->lib);
	}
}

/* count_line_end - a line ended (CRLF) */
static void count_line_end(struct canon_count *c)
{
	if (c->cur > 0) {
		c->committed += 2 * c->blanks + c->cur + 2;
		c->blanks = 0;
	} else {
		c->blanks++;
	}
	c->cur = 0;
	c->wsp = false;
}

/* count_byte - one body byte into the simple and the relaxed counts */
static void count_byte(struct dkim_verifier *v, unsigned char ch)
{
	struct canon_count *cs = &v->simple, *cr = &v->relaxed;

	if (ch == '\n') {
		/* CRLF, or a bare LF taken as one (FIXCRLF) */
		cs->cr = cr->cr = false;
		count_line_end(cs);
		count_line_end(cr);
		return;
	}
	if (cs->cr) { /* a bare CR is content */
		cs->cr = cr->cr = false;
		cs->cur++;
		if (cr->wsp)
			cr->cur++;
		cr->wsp = false;
		cr->cur++;
	}
	if (ch == '\r') {
		cs->cr = cr->cr = true;
		return;
	}
	cs->cur++;
	if (ch == ' ' || ch == '\t') {
		cr->wsp = true;
		return;
	}
	if (cr->wsp)
		cr->cur++;
	cr->wsp = false;
	cr->cur++;
}

/* canon_total - the canonical body length (simple: at least CRLF) */
static long long canon_total(const struct canon_count *c, bool simple)
{
	long long t = c->committed, cur = c->cur + (c->cr ? 1 : 0);

	if (!simple && c->cr && c->wsp)
		cur++;
	if (cur > 0)
		t += 2 * c->blanks + cur + 2;
	if (simple && t == 0)
		t = 2;
	return t;
}

/* dkim_verify_body - a body chunk */
void dkim_verify_body(struct dkim_verifier *v, const unsigned char *bytes, size_t len)
{
	if (v == NULL || v->eom_done || len == 0)
		return;
	if (!v->eoh_done)
		dkim_verify_eoh(v);
	/* only l= needs the body's canonical length: skip the count without one */
	if (v->any_l)
		for (size_t i = 0; i < len; i++)
			count_byte(v, bytes[i]);
	for (size_t i = 0; i < v->nbodies; i++)
		bodyhash_feed(&v->bodies[i], bytes, len);
}

/* next_item - the next item of a ':'-separated list at *p, FWS trimmed, into out (cut) */
static bool next_item(const char **p, char *out, size_t outsize)
{
	const char *s = *p, *e;
	size_t n = 0;

	if (*s == '\0')
		return false;
	e = strchr(s, ':');
	if (e == NULL)
		e = s + strlen(s);
	*p = *e ? e + 1 : e;
	for (; s < e; s++)
		if (!isspace((unsigned char)*s) && n + 1 < outsize)
			out[n++] = *s;
	out[n] = '\0';
	return true;
}

/* trim - [*s, *e) without white space at either end */
static void trim(const char **s, const char **e)
{
	while (*s < *e && isspace((unsigned char)**s))
		(*s)++;
	while (*e > *s && isspace((unsigned char)(*e)[-1]))
		(*e)--;
}

/* dkim_key_record_compact - the key record without notes and needless white space */
char *dkim_key_record_compact(const char *record)
{
	struct strbuf out, names;
	const char *p = record;

	if (record == NULL)
		return NULL;
	sb_init(&out);
	sb_init(&names);
	sb_appendc(&names, ';');
	while (*p != '\0') {
		const char *end = strchr(p, ';'), *eq, *ns, *ne, *vs, *ve;

		if (end == NULL)
			end = p + strlen(p);
		ns = p;
		ne = end;
		trim(&ns, &ne);
		p = *end ? end + 1 : end;
		if (ns == ne)
			continue; /* an empty element (a trailing ";") */
		eq = memchr(ns, '=', (size_t)(ne - ns));
		if (eq == NULL)
			goto bad;
		vs = eq + 1;
		ve = ne;
		ne = eq;
		trim(&ns, &ne);
		trim(&vs, &ve);
		if (ns == ne)
			goto bad;
		for (const char *c = ns; c < ne; c++)
			if (!isalnum((unsigned char)*c) && *c != '_')
				goto bad;
		{ /* a tag named twice makes the whole list invalid (RFC 6376 3.2) */
			char key[64];

			if ((size_t)(ne - ns) + 3 > sizeof(key))
				goto bad;
			snprintf(key, sizeof(key), ";%.*s;", (int)(ne - ns), ns);
			if (strstr(names.s, key) != NULL)
				goto bad;
			sb_appendn(&names, ns, (size_t)(ne - ns));
			sb_appendc(&names, ';');
		}
		if (ne - ns == 1 && *ns == 'n')
			continue; /* notes: for people, never for the verifier */
		if (out.len > 0)
			sb_appendc(&out, ';');
		sb_appendn(&out, ns, (size_t)(ne - ns));
		sb_appendc(&out, '=');
		if (ne - ns == 1 && *ns == 'p') {
			for (const char *c = vs; c < ve; c++)
				if (!isspace((unsigned char)*c))
					sb_appendc(&out, *c);
		} else {
			sb_appendn(&out, vs, (size_t)(ve - vs));
		}
	}
	sb_free(&names);
	return sb_steal(&out);
bad:
	sb_free(&names);
	sb_free(&out);
	return NULL;
}

/* dkim_q_supported - does q= name dns/txt (or dns)? */
bool dkim_q_supported(const char *q)
{
	char m[64];

	if (q == NULL)
		return true; /* the default is dns/txt */
	while (next_item(&q, m, sizeof(m)))
		if (strcasecmp(m, "dns/txt") == 0 || strcasecmp(m, "dns") == 0)
			return true;
	return false;
}

/* transit_field - a field transit adds by design, repeated on every hop */
static bool transit_field(const char *name)
{
	static const char *const fields[] = {"Received", "Return-Path", "DKIM-Signature",
	                                     "Authentication-Results"};

	if (strncasecmp(name, "ARC-", 4) == 0)
		return true;
	for (size_t i = 0; i < PM_ARRAY_LEN(fields); i++)
		if (strcasecmp(name, fields[i]) == 0)
			return true;
	return false;
}

/* name_eq - a header field name (trailing white space ignored) equals want, any case */
static bool name_eq(const char *name, const char *want)
{
	size_t n = strlen(want);

	if (strncasecmp(name, want, n) != 0)
		return false;
	for (name += n; *name == ' ' || *name == '\t'; name++)
		;
	return *name == '\0';
}

/* dkim_h_uncovered - the first field h= names fewer times than the message has it */
bool dkim_h_uncovered(const char *h, char *const *names, size_t n, char *field, size_t fieldsize,
                      unsigned *in_h, unsigned *in_msg)
{
	char f[256];
	const char *p = h;

	if (h == NULL)
		return false;
	while (next_item(&p, f, sizeof(f))) {
		const char *q = h, *first = NULL;
		char g[256];
		unsigned nh = 0, nm = 0;

		if (f[0] == '\0' || transit_field(f))
			continue;
		while (next_item(&q, g, sizeof(g)))
			if (strcasecmp(f, g) == 0)
				nh++;
		for (size_t i = 0; i < n; i++) {
			if (names[i] != NULL && name_eq(names[i], f)) {
				if (nm++ == 0)
					first = names[i];
			}
		}
		if (nm > nh) {
			/* as the message spells it, without white space before the colon */
			snprintf(field, fieldsize, "%.*s", (int)strcspn(first, " \t"), first);
			*in_h = nh;
			*in_msg = nm;
			return true;
		}
	}
	return false;
}

/* set_result - fill one result's verdict */
static void set_result(struct dkim_sig_result *r, enum pm_dkim_result res, const char *reason)
{
	r->result = res;
	snprintf(r->reason, sizeof(r->reason), "%s", reason);
}

/* sig_error_result - the result for a libopendkim signature error */
static void sig_error_result(struct dkim_sig_result *r, int err)
{
	const char *why = dkim_sig_geterrorstr(err);

	if (why == NULL)
		why = "unknown error";
	switch (err) {
	case DKIM_SIGERROR_KEYREVOKED:
		set_result(r, PM_DKIM_FAIL, "key revoked");
		break;
	case DKIM_SIGERROR_BADSIG:
		set_result(r, PM_DKIM_FAIL, "bad signature");
		break;
	case DKIM_SIGERROR_KEYFAIL:
		set_result(r, PM_DKIM_TEMPERROR, "key lookup failed");
		break;
	case DKIM_SIGERROR_KEYTOOSMALL:
	case DKIM_SIGERROR_EXPIRED:
	case DKIM_SIGERROR_FUTURE:
	case DKIM_SIGERROR_MBSFAILED:
		set_result(r, PM_DKIM_POLICY, why);
		break;
	case DKIM_SIGERROR_NOKEY:
	case DKIM_SIGERROR_DNSSYNTAX:
	case DKIM_SIGERROR_MULTIREPLY:
	case DKIM_SIGERROR_KEYVERSION:
	case DKIM_SIGERROR_KEYUNKNOWNHASH:
	case DKIM_SIGERROR_KEYHASHMISMATCH:
	case DKIM_SIGERROR_NOTEMAILKEY:
	case DKIM_SIGERROR_KEYTYPEMISSING:
	case DKIM_SIGERROR_KEYTYPEUNKNOWN:
	case DKIM_SIGERROR_KEYDECODE:
	case DKIM_SIGERROR_SUBDOMAIN:
		set_result(r, PM_DKIM_PERMERROR, why);
		break;
	default: /* the signature's own syntax: version, tags, c=, a=, h=, l=, ... */
		set_result(r, PM_DKIM_NEUTRAL, why);
		break;
	}
}

enum body_verdict { BODY_MATCH, BODY_MISMATCH, BODY_NONE };

/* body_check - s's bh= against our body hash (the same base64 text libopendkim compares) */
static enum body_verdict body_check(struct dkim_verifier *v, const struct seen_sig *s)
{
	struct body_hash *bh;
	const unsigned char *want;
	unsigned char b64[64];

	if (s->body < 0 || (size_t)s->body >= v->nbodies)
		return BODY_NONE;
	bh = &v->bodies[s->body];
	bodyhash_finish(bh);
	want = dkim_sig_gettagvalue(s->lib, false, (u_char *)"bh");
	if (want == NULL)
		return BODY_MISMATCH;
	(void)EVP_EncodeBlock(b64, bh->digest, (int)bh->dlen);
	return strcmp((const char *)want, (const char *)b64) == 0 ? BODY_MATCH : BODY_MISMATCH;
}

/* judge - one matched signature's result */
static void judge(struct dkim_verifier *v, struct seen_sig *s, struct dkim_sig_result *r)
{
	DKIM_SIGINFO *sig = s->lib;
	unsigned int flags = s->lib_flags, bits = 0; /* as the end of the headers left them */
	int err = s->lib_err;
	dkim_alg_t alg = DKIM_SIGN_UNKNOWN;
	dkim_canon_t hc = DKIM_CANON_UNKNOWN, bc = DKIM_CANON_UNKNOWN;
	ssize_t msglen = -1, canonlen = -1, signlen = -1;
	char field[41];
	unsigned in_h = 0, in_msg = 0;
	long long body_len = -1; /* the canonical body length, for l= (counted only with one) */

	if (dkim_sig_getkeysize(sig, &bits) == DKIM_STAT_OK)
		r->key_bits = bits;
	(void)dkim_sig_getsignalg(sig, &alg);
	if (dkim_sig_getcanonlen(v->dkim, sig, &msglen, &canonlen, &signlen) == DKIM_STAT_OK &&
	    signlen >= 0 && dkim_sig_getcanons(sig, &hc, &bc) == DKIM_STAT_OK) {
		body_len = canon_total(bc == DKIM_CANON_RELAXED ? &v->relaxed : &v->simple,
		                       bc != DKIM_CANON_RELAXED);
		/* libopendkim's rule at the end of the body: an l= past it is this error */
		if (body_len < (long long)signlen)
			err = DKIM_SIGERROR_TOOLARGE_L;
	}
	/* here too: libopendkim hands a signature the key another one with the same d= and s=
	   fetched, without asking key_cb */
	if (s->q != NULL && !dkim_q_supported(s->q))
		s->key = KEY_BADQUERY;
	switch (s->key) {
	case KEY_TEMPFAIL:
		set_result(r, PM_DKIM_TEMPERROR, "key lookup failed temporarily");
		r->dns_fail = s->key_fail;
		return;
	case KEY_NOTFOUND:
		set_result(r, PM_DKIM_PERMERROR, "no key record");
		return;
	case KEY_MULTIPLE:
		set_result(r, PM_DKIM_PERMERROR, "several key records");
		return;
	case KEY_BADNAME:
		set_result(r, PM_DKIM_PERMERROR, "d= or s= is not a host name");
		return;
	case KEY_BADQUERY:
		set_result(r, PM_DKIM_PERMERROR, "q= without dns/txt, the only query method");
		return;
	case KEY_TOOLONG:
		snprintf(r->reason, sizeof(r->reason),
		         "key record longer than %d bytes, libopendkim's limit",
		         DKIM_KEY_RECORD_MAX);
		r->result = PM_DKIM_PERMERROR;
		return;
	default:
		break;
	}
	if ((flags & DKIM_SIGFLAG_PASSED) == 0 || err != DKIM_SIGERROR_UNKNOWN) {
		if (err == DKIM_SIGERROR_OK || err == DKIM_SIGERROR_UNKNOWN)
			set_result(
			    r, (flags & DKIM_SIGFLAG_PROCESSED) ? PM_DKIM_FAIL : PM_DKIM_NEUTRAL,
			    (flags & DKIM_SIGFLAG_PROCESSED) ? "bad signature" : "not verified");
		else
			sig_error_result(r, err);
		return;
	}
	/* b= verifies over the headers: the body hash (ours) decides the rest */
	switch (body_check(v, s)) {
	case BODY_MATCH:
		break;
	case BODY_MISMATCH:
		set_result(r, PM_DKIM_FAIL, "body hash mismatch");
		return;
	default:
		set_result(r, PM_DKIM_TEMPERROR, "internal error");
		return;
	}
	/* cryptographically good: is it acceptable? */
	if (s->h != NULL &&
	    dkim_h_uncovered(s->h, v->hnames, v->nhnames, field, sizeof(field), &in_h, &in_msg)) {
		snprintf(r->reason, sizeof(r->reason), "%s occurs %u times, h= signs %u", field,
		         in_msg, in_h);
		r->result = PM_DKIM_POLICY;
		return;
	}
	if (alg == DKIM_SIGN_RSASHA1) {
		set_result(r, PM_DKIM_POLICY, "rsa-sha1 (RFC 8301)");
		return;
	}
	if (alg == DKIM_SIGN_RSASHA256 && bits < (unsigned)v->set.min_key_bits) {
		snprintf(r->reason, sizeof(r->reason), "%u-bit key (RFC 8301)", bits);
		r->result = PM_DKIM_POLICY;
		return;
	}
	if (!v->set.allow_l && signlen >= 0 && body_len > (long long)signlen) {
		set_result(r, PM_DKIM_POLICY, "l= shorter than the body");
		return;
	}
	set_result(r, PM_DKIM_PASS, "");
}

/* copy_field - a bounded copy of s (NULL gives "") */
static void copy_field(char *dst, size_t size, const char *s)
{
	snprintf(dst, size, "%s", s ? s : "");
}

/* dkim_verify_eom - end of message: one result per signature, up to the limit */
void dkim_verify_eom(struct dkim_verifier *v, struct dkim_results *out)
{
	size_t n;

	memset(out, 0, sizeof(*out));
	if (v == NULL)
		return;
	if (!v->eoh_done)
		dkim_verify_eoh(v);
	/* no dkim_eom: libopendkim's work (keys, b=) ended with the headers, the body hash is ours
	 */
	v->eom_done = true;
	out->total = v->total;
	n = v->nsigs < (size_t)v->set.max_signatures ? v->nsigs : (size_t)v->set.max_signatures;
	out->n = n;
	if (n == 0)
		return;
	out->sig = xcalloc(n, sizeof(*out->sig));
	for (size_t i = 0; i < n; i++) {
		struct seen_sig *s = &v->sigs[i];
		struct dkim_sig_result *r = &out->sig[i];

		copy_field(r->domain, sizeof(r->domain), s->d);
		copy_field(r->selector, sizeof(r->selector), s->s);
		copy_field(r->algorithm, sizeof(r->algorithm), s->a);
		copy_field(r->b, sizeof(r->b), s->b);
		if (v->lib_failed || v->eoh_status == DKIM_STAT_NORESOURCE ||
		    v->eoh_status == DKIM_STAT_INTERNAL)
			set_result(r, PM_DKIM_TEMPERROR, "internal error");
		else if (v->eoh_status != DKIM_STAT_OK && v->eoh_status != DKIM_STAT_NOSIG)
			set_result(r, PM_DKIM_PERMERROR,
			           dkim_geterror(v->dkim) ? dkim_geterror(v->dkim)
			                                  : dkim_getresultstr(v->eoh_status));
		else if (s->lib != NULL)
			judge(v, s, r);
		else
			set_result(r, PM_DKIM_NEUTRAL, "malformed signature");
	}
}

/* dkim_results_free - release what *r holds */
void dkim_results_free(struct dkim_results *r)
{
	if (r == NULL)
		return;
	free(r->sig);
	memset(r, 0, sizeof(*r));
}

/* dkim_verify_free - release a verifier */
void dkim_verify_free(struct dkim_verifier *v)
{
	if (v == NULL)
		return;
	if (v->dkim != NULL)
		dkim_free(v->dkim);
	for (size_t i = 0; i < v->nbodies; i++)
		bodyhash_free(&v->bodies[i]);
	free(v->bodies);
	for (size_t i = 0; i < v->nsigs; i++) {
		free(v->sigs[i].b);
		free(v->sigs[i].d);
		free(v->sigs[i].s);
		free(v->sigs[i].a);
		free(v->sigs[i].q);
		free(v->sigs[i].h);
	}
	free(v->sigs);
	for (size_t i = 0; i < v->nhnames; i++)
		free(v->hnames[i]);
	free(v->hnames);
	free(v->queue_id);
	free(v);
}
