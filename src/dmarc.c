/*
 * NAME
 *	dmarc - DMARC (RFC 7489): organizational domain, policy record, alignment
 * SYNOPSIS
 *	dmarc_org_domain(), dmarc_lookup(), dmarc_parse_record(),
 *	dmarc_evaluate(), dmarc_aligned(), pm_dmarc_result_name(),
 *	pm_dmarc_policy_name()
 * DESCRIPTION
 *	Names: every domain taken in is lower-cased, loses one final dot
 *	and must then be a host name of LDH bytes, underscores and dots
 *	that dns_name_ok() accepts; anything else (U-labels, controls,
 *	invisible characters) is never looked up nor aligned.
 *
 *	Organizational domains: the public suffix list algorithm of RFC
 *	7489 3.2 and publicsuffix.org over the list object the caller
 *	passes (psl.c; the policy snapshot's, struct policy psl), so the
 *	organizational domain of a.b.foo.test is foo.test. Without a list
 *	(NULL) a domain is its own organizational domain. The list is
 *	immutable: every function here is thread-safe.
 *
 *	Records: dmarc_lookup() queries TXT _dmarc.<domain>, then
 *	_dmarc.<organizational domain> when the first name has no DMARC
 *	record (NXDOMAIN, no TXT, or no TXT starting "v=DMARC1"), with
 *	the caller's struct dns_budget (dns.h) over both queries: the
 *	budget of the MTA command, shared with its other lookups. A temporary failure at either
 *	step is TEMPFAIL, never NONE; several records at one name are
 *	INVALID and end the search (RFC 7489 6.6.3).
 *
 *	The record is read here, by the RFC 7489 6.4 grammar, rather than
 *	by opendmarc_policy_parse_dmarc(), whose reading differs from the
 *	RFC in too many places to correct afterwards: it accepts a record
 *	without v= or with "V=dmarc1", takes any prefix of a keyword
 *	("p=r" is reject), refuses the whole record for one bad optional
 *	tag (pct=150, adkim=x, rf=, ri=, fo=), reads "pct=50x" as 50 and
 *	"pct=abc" as 0, lets a repeated tag override, cuts records at 8 KB
 *	and values at 512 bytes, and sets aspf bits from rf=iodef. Here:
 *	"v=DMARC1" (exact case) must come first; tag names and keywords
 *	are case-insensitive (ABNF strings); a repeated known tag makes the
 *	record INVALID (DKIM tag-list rule, RFC 6376 3.2); unknown tags,
 *	and bad pct=, adkim=, aspf= values, are ignored (defaults: 100,
 *	relaxed); a missing or bad p=, or a bad sp=, makes the record
 *	INVALID unless rua= holds a syntactically valid URI, in which case
 *	it is taken as p=none (RFC 7489 6.6.3 step 6).
 *
 *	dmarc_evaluate() touches no DNS: only DKIM pass and SPF pass
 *	count, aligned per adkim= and aspf=; sp= applies to a subdomain
 *	when the record came from the organizational domain.
 * DIAGNOSTICS
 *	Nothing fails: everything reports through a status and a log-safe why (escaped text).
 */
#include <arpa/nameser.h>
#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/types.h>
#include <time.h>

#include "dmarc.h"
#include "dns.h"
#include "psl.h"
#include "util.h"

#define DMARC_QNAME_MAX (sizeof("_dmarc.") + DMARC_DOMAIN_MAX)
#define DMARC_SHOW      40 /* bytes of a record value shown in a why */

/* ---- helpers ------------------------------------------------------ */

/*
 * name_norm - domain lower-cased, one final dot removed, into out
 * (DMARC_DOMAIN_MAX bytes); false (out "") for anything but LDH,
 * underscore and dot bytes in labels dns_name_ok() accepts
 */
static bool name_norm(const char *domain, char *out)
{
	size_t len;

	out[0] = '\0';
	if (domain == NULL)
		return false;
	len = strlen(domain);
	if (len > 0 && domain[len - 1] == '.')
		len--;
	if (len == 0 || len >= DMARC_DOMAIN_MAX)
		return false;
	for (size_t i = 0; i < len; i++) {
		unsigned char c = (unsigned char)domain[i];

		if (c >= 'A' && c <= 'Z')
			c = (unsigned char)(c - 'A' + 'a');
		if (!((c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '-' || c == '_' ||
		      c == '.')) {
			out[0] = '\0';
			return false;
		}
		out[i] = (char)c;
	}
	out[len] = '\0';
	if (out[len - 1] == '.' || !dns_name_ok(out)) {
		out[0] = '\0';
		return false;
	}
	return true;
}

/* show_name - a log-safe copy of a name as given (NULL: "(none)") */
static const char *show_name(char *buf, size_t size, const char *name)
{
	if (name == NULL)
		return "(none)";
	return pm_escape_str(buf, size, name);
}

/* ---- organizational domains and alignment ------------------------ */

bool dmarc_org_domain(const struct psl *psl, const char *domain, char *buf, size_t bufsize)
{
	char d[DMARC_DOMAIN_MAX], org[DMARC_DOMAIN_MAX];

	if (buf == NULL || bufsize == 0)
		return false;
	buf[0] = '\0';
	if (!name_norm(domain, d))
		return false;
	psl_org_of(psl, d, org);
	if (strlen(org) >= bufsize)
		return false;
	memcpy(buf, org, strlen(org) + 1);
	return true;
}

bool dmarc_aligned(const struct psl *psl, const char *a, const char *b, bool strict)
{
	char na[DMARC_DOMAIN_MAX], nb[DMARC_DOMAIN_MAX];
	char oa[DMARC_DOMAIN_MAX], ob[DMARC_DOMAIN_MAX];

	if (!name_norm(a, na) || !name_norm(b, nb))
		return false;
	if (strcmp(na, nb) == 0)
		return true;
	if (strict)
		return false;
	psl_org_of(psl, na, oa);
	psl_org_of(psl, nb, ob);
	return strcmp(oa, ob) == 0;
}

/* ---- the record --------------------------------------------------- */

/*
 * is_dmarc_record - does text start "v=DMARC1" (exact case), then
 * optional blanks and ";" or the end?
 */
static bool is_dmarc_record(const char *text)
{
	const char *p;

	if (text == NULL || strncmp(text, "v=DMARC1", 8) != 0)
		return false;
	p = text + 8;
	p += strspn(p, " \t");
	return *p == '\0' || *p == ';';
}

/* A tag of the record: name and value, blanks trimmed, not NUL-terminated. */
struct tag {
	const char *name, *val;
	size_t nlen, vlen;
};

/* is_wsp - RFC 5234 WSP */
static bool is_wsp(char c)
{
	return c == ' ' || c == '\t';
}

/* trim - shrink [*s, *s + *len) past blanks at both ends */
static void trim(const char **s, size_t *len)
{
	while (*len > 0 && is_wsp(**s)) {
		(*s)++;
		(*len)--;
	}
	while (*len > 0 && is_wsp((*s)[*len - 1]))
		(*len)--;
}

/* word_is - is the tag's name (or value) word, ASCII case-insensitively? */
static bool word_is(const char *s, size_t len, const char *word)
{
	return len == strlen(word) && strncasecmp(s, word, len) == 0;
}

/* is_alpha, is_alnum - ASCII only, whatever the locale */
static bool is_alpha(unsigned char c)
{
	return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z');
}

static bool is_alnum(unsigned char c)
{
	return is_alpha(c) || (c >= '0' && c <= '9');
}

/* name_ok - tag-name = ALPHA *(ALPHA / DIGIT / "_") */
static bool name_ok(const char *s, size_t len)
{
	if (len == 0 || !is_alpha((unsigned char)s[0]))
		return false;
	for (size_t i = 1; i < len; i++)
		if (!is_alnum((unsigned char)s[i]) && s[i] != '_')
			return false;
	return true;
}

/* policy_word - p= / sp= keyword, PM_DMARC_P_UNSPEC when not one */
static enum pm_dmarc_policy policy_word(const struct tag *t)
{
	if (word_is(t->val, t->vlen, "none"))
		return PM_DMARC_P_NONE;
	if (word_is(t->val, t->vlen, "quarantine"))
		return PM_DMARC_P_QUARANTINE;
	if (word_is(t->val, t->vlen, "reject"))
		return PM_DMARC_P_REJECT;
	return PM_DMARC_P_UNSPEC;
}

/* pct_value - pct = 1*3DIGIT, 0..100; -1 when not that */
static int pct_value(const struct tag *t)
{
	int v = 0;

	if (t->vlen == 0 || t->vlen > 3)
		return -1;
	for (size_t i = 0; i < t->vlen; i++) {
		if (t->val[i] < '0' || t->val[i] > '9')
			return -1;
		v = v * 10 + (t->val[i] - '0');
	}
	return v <= 100 ? v : -1;
}

/* uri_char - may c appear in a DMARC URI (RFC 3986, less ",", "!" and ";")? */
static bool uri_char(unsigned char c)
{
	return is_alnum(c) || (c != '\0' && strchr("-._~:/?#[]@$&'()*+=%", c) != NULL);
}

/*
 * uri_ok - dmarc-uri = URI [ "!" 1*DIGIT [ "k" / "m" / "g" / "t" ] ]:
 * a scheme, ":", then URI characters; a mailto: needs local@domain
 */
static bool uri_ok(const char *s, size_t len)
{
	const char *bang = memchr(s, '!', len), *colon;
	size_t i;

	if (bang != NULL) {
		const char *sz = bang + 1, *end = s + len;

		if (sz < end && strchr("kmgtKMGT", *(end - 1)) != NULL)
			end--;
		if (sz == end)
			return false;
		for (; sz < end; sz++)
			if (*sz < '0' || *sz > '9')
				return false;
		len = (size_t)(bang - s);
	}
	colon = memchr(s, ':', len);
	if (colon == NULL || colon == s || !is_alpha((unsigned char)s[0]))
		return false;
	for (const char *p = s; p < colon; p++)
		if (!is_alnum((unsigned char)*p) && *p != '+' && *p != '-' && *p != '.')
			return false;
	if ((size_t)(colon - s) + 1 == len)
		return false;
	for (i = (size_t)(colon - s) + 1; i < len; i++)
		if (!uri_char((unsigned char)s[i]))
			return false;
	if (colon - s == 6 && strncasecmp(s, "mailto", 6) == 0) {
		const char *addr = colon + 1, *at = memchr(addr, '@', len - 7);

		if (at == NULL || at == addr || at == s + len - 1)
			return false;
	}
	return true;
}

/* rua_ok - does the rua= list hold at least one valid URI? */
static bool rua_ok(const struct tag *t)
{
	const char *p = t->val, *end = t->val + t->vlen;

	while (p <= end) {
		const char *comma = memchr(p, ',', (size_t)(end - p));
		const char *s = p;
		size_t len = (size_t)((comma != NULL ? comma : end) - p);

		trim(&s, &len);
		if (len > 0 && uri_ok(s, len))
			return true;
		if (comma == NULL)
			break;
		p = comma + 1;
	}
	return false;
}

/* The tags this parser knows; a repeated one makes the record invalid. */
static const char *const known_tags[] = {"v",   "p",  "sp", "pct", "adkim", "aspf", "rua",
                                         "ruf", "rf", "ri", "fo",  "np",    "t",    "psd"};

/* known_tag - index in known_tags, -1 for an unknown tag */
static int known_tag(const struct tag *t)
{
	for (size_t i = 0; i < PM_ARRAY_LEN(known_tags); i++)
		if (word_is(t->name, t->nlen, known_tags[i]))
			return (int)i;
	return -1;
}

/*
 * next_tag - the next "name=value" of the tag list at *cur, blanks
 * trimmed; *cur moves past it (NULL after the last). Parts without "="
 * or with a bad tag name are skipped. false at the end.
 */
static bool next_tag(const char **cur, struct tag *t)
{
	while (*cur != NULL) {
		const char *s = *cur, *semi = strchr(s, ';'), *eq;
		size_t len = semi != NULL ? (size_t)(semi - s) : strlen(s);

		*cur = semi != NULL ? semi + 1 : NULL;
		trim(&s, &len);
		eq = len > 0 ? memchr(s, '=', len) : NULL;
		if (eq == NULL)
			continue;
		t->name = s;
		t->nlen = (size_t)(eq - s);
		t->val = eq + 1;
		t->vlen = len - t->nlen - 1;
		trim(&t->name, &t->nlen);
		trim(&t->val, &t->vlen);
		if (name_ok(t->name, t->nlen))
			return true;
	}
	return false;
}

/* What the tags said (before the p=/sp=/rua= rule is applied). */
struct parsed {
	struct tag p, sp, np;
	bool has_p, has_sp, has_np, rua_valid;
	bool testing;
	char psd;
	int pct; /* -1: absent or ignored */
	bool adkim_strict, aspf_strict;
	int dup;          /* index of a repeated known tag, or -1 */
	char ignored[48]; /* the first ignored bad value, for why */
};

/* note_ignored - remember the first known tag whose bad value was ignored */
static void note_ignored(struct parsed *ps, const struct tag *t)
{
	char val[24];

	if (ps->ignored[0] != '\0')
		return;
	pm_escape(val, sizeof(val), t->val, t->vlen);
	pm_bprintf(ps->ignored, sizeof(ps->ignored), "%.*s=\"%s\"", (int)t->nlen, t->name, val);
}

/* alignment_tag - adkim=/aspf=: "s" strict, "r" relaxed, else ignored (relaxed) */
static bool alignment_tag(struct parsed *ps, const struct tag *t)
{
	if (word_is(t->val, t->vlen, "s"))
		return true;
	if (!word_is(t->val, t->vlen, "r"))
		note_ignored(ps, t);
	return false;
}

/* flag_tag - np= (kept for the p=/sp=/np= rule), t= and psd=: a bad value is ignored */
static void flag_tag(struct parsed *ps, const struct tag *t)
{
	if (word_is(t->name, t->nlen, "np")) {
		ps->np = *t;
		ps->has_np = true;
	} else if (word_is(t->name, t->nlen, "t")) {
		ps->testing = word_is(t->val, t->vlen, "y");
		if (!ps->testing && !word_is(t->val, t->vlen, "n"))
			note_ignored(ps, t);
	} else if (word_is(t->name, t->nlen, "psd")) {
		if (t->vlen == 1 && strchr("ynuYNU", t->val[0]) != NULL)
			ps->psd = (char)(t->val[0] | 0x20);
		else
			note_ignored(ps, t);
	}
}

const char *dmarc_pub_tag_name(enum dmarc_pub_tag t)
{
	static const char *const names[DMARC_NPUB] = {"p",   "sp",    "np",   "t",
	                                              "psd", "adkim", "aspf", "pct"};

	return (int)t >= 0 && t < DMARC_NPUB ? names[t] : "";
}

/* pub_keep - keep the value of tag t as published (escaped, cut) in pub */
static void pub_keep(struct dmarc_published *pub, const struct tag *t)
{
	if (word_is(t->name, t->nlen, "rua")) {
		size_t n = t->vlen;

		if (pub->rua[0] != '\0')
			return;
		/* whole URIs only: cut at the last comma that fits */
		while (n >= sizeof(pub->rua)) {
			const char *c = t->val + n - 1;

			while (c > t->val && *c != ',')
				c--;
			n = (size_t)(c - t->val);
		}
		memcpy(pub->rua, t->val, n);
		pub->rua[n] = '\0';
		return;
	}
	for (size_t i = 0; i < DMARC_NPUB; i++)
		if (word_is(t->name, t->nlen, dmarc_pub_tag_name((enum dmarc_pub_tag)i))) {
			if ((pub->present & (1u << i)) != 0)
				return;
			pub->present |= 1u << i;
			pm_escape(pub->val[i], sizeof(pub->val[i]), t->val, t->vlen);
			return;
		}
}

/* published - every known tag of text (after "v=DMARC1") as published, the first of each */
static void published(const char *text, struct dmarc_published *pub)
{
	struct tag t;

	memset(pub, 0, sizeof(*pub));
	while (next_tag(&text, &t))
		if (known_tag(&t) >= 0)
			pub_keep(pub, &t);
}

/* read_tags - what the tag list text (after "v=DMARC1") says */
static void read_tags(const char *text, struct parsed *ps)
{
	unsigned seen = 1u << 0; /* v= (known_tags[0]) came first */
	struct tag t;
	int k;

	memset(ps, 0, sizeof(*ps));
	ps->dup = -1;
	ps->pct = -1;
	ps->psd = 'u';
	while (next_tag(&text, &t)) {
		k = known_tag(&t);
		if (k < 0)
			continue; /* unknown tags are ignored */
		if ((seen & (1u << k)) != 0 && ps->dup < 0)
			ps->dup = k;
		seen |= 1u << k;
		if (word_is(t.name, t.nlen, "p")) {
			ps->p = t;
			ps->has_p = true;
		} else if (word_is(t.name, t.nlen, "sp")) {
			ps->sp = t;
			ps->has_sp = true;
		} else if (word_is(t.name, t.nlen, "rua")) {
			ps->rua_valid = rua_ok(&t);
		} else if (word_is(t.name, t.nlen, "pct")) {
			ps->pct = pct_value(&t);
			if (ps->pct < 0)
				note_ignored(ps, &t);
		} else if (word_is(t.name, t.nlen, "adkim")) {
			ps->adkim_strict = alignment_tag(ps, &t);
		} else if (word_is(t.name, t.nlen, "aspf")) {
			ps->aspf_strict = alignment_tag(ps, &t);
		} else {
			flag_tag(ps, &t);
		}
	}
}

/* show_tag - "p=\"value\"" (escaped, cut) or "no p=" */
static const char *show_tag(char *buf, size_t size, const char *name, const struct tag *t,
                            bool present)
{
	char val[DMARC_SHOW];

	if (!present) {
		pm_bprintf(buf, size, "no %s=", name);
		return buf;
	}
	pm_escape(val, sizeof(val), t->val, t->vlen);
	pm_bprintf(buf, size, "%s=\"%s\"", name, val);
	return buf;
}

void dmarc_parse_record(const struct psl *psl, const char *text, const char *domain,
                        const char *found_at, struct dmarc_record *out)
{
	struct parsed ps;
	char shown[DMARC_SHOW + 16];
	enum pm_dmarc_policy p = PM_DMARC_P_UNSPEC, sp = PM_DMARC_P_UNSPEC, np = PM_DMARC_P_UNSPEC;
	bool p_bad, sp_bad, np_bad;

	memset(out, 0, sizeof(*out));
	out->pct = 100;
	out->psd = 'u';
	out->status = DMARC_REC_INVALID;
	if (!name_norm(domain, out->domain)) {
		pm_bprintf(out->why, sizeof(out->why), "not a usable domain name: %s",
		           show_name(shown, sizeof(shown), domain));
		return;
	}
	if (!dmarc_org_domain(psl, out->domain, out->org_domain, sizeof(out->org_domain)))
		memcpy(out->org_domain, out->domain, sizeof(out->domain));
	if (!name_norm(found_at != NULL ? found_at : domain, out->found_at)) {
		pm_bprintf(out->why, sizeof(out->why), "not a usable domain name: %s",
		           show_name(shown, sizeof(shown), found_at));
		return;
	}
	if (!is_dmarc_record(text)) {
		pm_bprintf(out->why, sizeof(out->why),
		           "not a DMARC record at _dmarc.%s (must start v=DMARC1)", out->found_at);
		return;
	}
	read_tags(text + 8, &ps);
	published(text + 8, &out->pub);
	if (ps.dup >= 0) {
		pm_bprintf(out->why, sizeof(out->why),
		           "repeated %s= tag in DMARC record at _dmarc.%s", known_tags[ps.dup],
		           out->found_at);
		return;
	}
	out->pct = ps.pct >= 0 ? ps.pct : 100;
	out->adkim_strict = ps.adkim_strict;
	out->aspf_strict = ps.aspf_strict;
	out->testing = ps.testing;
	out->psd = ps.psd;
	if (ps.has_p)
		p = policy_word(&ps.p);
	if (ps.has_sp)
		sp = policy_word(&ps.sp);
	if (ps.has_np)
		np = policy_word(&ps.np);
	p_bad = p == PM_DMARC_P_UNSPEC;
	sp_bad = ps.has_sp && sp == PM_DMARC_P_UNSPEC;
	np_bad = ps.has_np && np == PM_DMARC_P_UNSPEC;
	if (!p_bad && !sp_bad && !np_bad) {
		out->status = DMARC_REC_FOUND;
		out->p = p;
		out->sp = ps.has_sp ? sp : p;
		out->np = np;
		pm_bprintf(out->why, sizeof(out->why), "p=%s sp=%s pct=%d at _dmarc.%s%s%s",
		           pm_dmarc_policy_name(out->p), pm_dmarc_policy_name(out->sp), out->pct,
		           out->found_at, ps.ignored[0] != '\0' ? "; ignored " : "", ps.ignored);
		return;
	}
	if (p_bad)
		show_tag(shown, sizeof(shown), "p", &ps.p, ps.has_p);
	else if (sp_bad)
		show_tag(shown, sizeof(shown), "sp", &ps.sp, true);
	else
		show_tag(shown, sizeof(shown), "np", &ps.np, true);
	if (ps.rua_valid) {
		/* RFC 9989 4.10.1 (RFC 7489 6.6.3 step 6): as if "v=DMARC1; p=none" */
		out->status = DMARC_REC_FOUND;
		out->p = out->sp = PM_DMARC_P_NONE;
		pm_bprintf(out->why, sizeof(out->why), "%s at _dmarc.%s but a valid rua=: p=none",
		           shown, out->found_at);
		return;
	}
	pm_bprintf(out->why, sizeof(out->why), "%s%s at _dmarc.%s and no valid rua=",
	           p_bad ? (ps.has_p ? "invalid " : "") : "invalid ", shown, out->found_at);
}

/* ---- the lookup --------------------------------------------------- */

enum probe {
	PROBE_NONE,     /* no DMARC record at the name */
	PROBE_FOUND,    /* exactly one: *record */
	PROBE_SEVERAL,  /* more than one */
	PROBE_NUL,      /* one, with a NUL byte inside */
	PROBE_TEMPFAIL, /* try again later (or an answer we cannot parse) */
};

/*
 * probe - TXT for qname within budget; on PROBE_FOUND *record is the
 * record's text (the caller frees)
 */
static enum probe probe(const char *qname, struct dns_budget *budget, char **record)
{
	struct dns_reply ans;
	int r, count = 0;
	bool nul = false;
	struct dns_answer a;
	struct dns_rr rr;

	*record = NULL;
	switch (dns_budget_query(budget, qname, ns_t_txt, &ans)) {
	case DNS_OK:
		break;
	case DNS_NXDOMAIN:
	case DNS_NODATA:
		return PROBE_NONE;
	case DNS_TEMPFAIL:
	default:
		return PROBE_TEMPFAIL;
	}
	if (!dns_answer_open(&a, ans.msg, ans.len, ns_t_txt)) {
		dns_reply_free(&ans);
		budget->fail = DNS_FAIL_MALFORMED;
		return PROBE_TEMPFAIL;
	}
	while ((r = dns_answer_next(&a, &rr)) > 0) {
		if (!is_dmarc_record(rr.txt)) {
			free(rr.txt);
			continue;
		}
		if (++count == 1) {
			*record = rr.txt;
			nul = strlen(rr.txt) != rr.txtlen;
		} else {
			free(rr.txt);
		}
	}
	dns_reply_free(&ans);
	if (r < 0) {
		free(*record);
		*record = NULL;
		budget->fail = DNS_FAIL_MALFORMED;
		return PROBE_TEMPFAIL;
	}
	if (count == 0)
		return PROBE_NONE;
	if (count == 1 && !nul)
		return PROBE_FOUND;
	free(*record);
	*record = NULL;
	return count > 1 ? PROBE_SEVERAL : PROBE_NUL;
}

void dmarc_lookup(const struct psl *psl, const char *domain, struct dns_budget *budget,
                  struct dmarc_record *out)
{
	char shown[DMARC_DOMAIN_MAX * 2], qname[DMARC_QNAME_MAX];
	const char *names[2];
	size_t nnames = 1;

	memset(out, 0, sizeof(*out));
	out->pct = 100;
	if (!name_norm(domain, out->domain)) {
		out->status = DMARC_REC_INVALID;
		pm_bprintf(out->why, sizeof(out->why), "not a usable domain name: %s",
		           show_name(shown, sizeof(shown), domain));
		return;
	}
	if (!dmarc_org_domain(psl, out->domain, out->org_domain, sizeof(out->org_domain)))
		memcpy(out->org_domain, out->domain, sizeof(out->domain));
	names[0] = out->domain;
	if (strcmp(out->org_domain, out->domain) != 0)
		names[nnames++] = out->org_domain;

	for (size_t i = 0; i < nnames; i++) {
		char *text;

		pm_bprintf(qname, sizeof(qname), "_dmarc.%s", names[i]);
		if (dns_budget_ms_left(budget) <= 0) {
			out->status = DMARC_REC_TEMPFAIL;
			out->dns_fail = DNS_FAIL_BUDGET;
			pm_bprintf(out->why, sizeof(out->why),
			           "DNS time budget (%d s) spent before %s", budget->seconds,
			           qname);
			return;
		}
		switch (probe(qname, budget, &text)) {
		case PROBE_FOUND: {
			/* names[i] points into out, which the parse clears */
			char d[DMARC_DOMAIN_MAX], at[DMARC_DOMAIN_MAX];

			memcpy(d, out->domain, sizeof(d));
			memcpy(at, names[i], strlen(names[i]) + 1);
			dmarc_parse_record(psl, text, d, at, out);
			free(text);
			return;
		}
		case PROBE_SEVERAL:
			out->status = DMARC_REC_INVALID;
			memcpy(out->found_at, names[i], strlen(names[i]) + 1);
			pm_bprintf(out->why, sizeof(out->why), "several DMARC records at %s",
			           qname);
			return;
		case PROBE_NUL:
			out->status = DMARC_REC_INVALID;
			memcpy(out->found_at, names[i], strlen(names[i]) + 1);
			pm_bprintf(out->why, sizeof(out->why), "NUL byte in the DMARC record at %s",
			           qname);
			return;
		case PROBE_TEMPFAIL:
			out->status = DMARC_REC_TEMPFAIL;
			out->dns_fail = budget->fail;
			pm_bprintf(out->why, sizeof(out->why),
			           "DNS lookup of %s failed temporarily", qname);
			return;
		case PROBE_NONE:
			break;
		}
	}
	out->status = DMARC_REC_NONE;
	if (nnames == 2)
		pm_bprintf(out->why, sizeof(out->why), "no DMARC record at _dmarc.%s nor _dmarc.%s",
		           out->domain, out->org_domain);
	else
		pm_bprintf(out->why, sizeof(out->why), "no DMARC record at _dmarc.%s", out->domain);
}

/* ---- the tree walk (RFC 9989 4.10) --------------------------------- */

#define WALK_MAX 8 /* queries per walk (4.10) */

/* What one name of a walk holds (memo kinds). */
enum level {
	LVL_NONE,    /* no DMARC record, or several (discarded), or one with a NUL */
	LVL_FOUND,   /* one valid record */
	LVL_INVALID, /* one record without a usable policy (4.10.1: no DMARC processing) */
};

/* A walk: the names asked, longest first, and what each held. */
struct walk {
	unsigned n;
	bool done; /* stopped at psd=y / psd=n or at the last label */
	char name[WALK_MAX][DMARC_DOMAIN_MAX];
	enum level kind[WALK_MAX];
	struct dmarc_record rec[WALK_MAX]; /* LVL_FOUND, LVL_INVALID */
	char why[128];                     /* a temporary failure: which name */
	enum dns_fail fail;
	unsigned queries;
};

/*
 * walk_new - an empty walk. Only what is read before it is written is
 * cleared: the names and records (18 KiB) are read only below n, and a
 * record only where its kind says one was found.
 */
static struct walk *walk_new(void)
{
	struct walk *w = xmalloc(sizeof(*w));

	w->n = 0;
	w->done = false;
	memset(w->kind, 0, sizeof(w->kind));
	w->why[0] = '\0';
	w->fail = DNS_FAIL_NONE;
	w->queries = 0;
	return w;
}

/* labels - how many labels name has */
static unsigned labels(const char *name)
{
	unsigned n = 1;

	for (const char *p = name; *p != '\0'; p++)
		if (*p == '.')
			n++;
	return n;
}

/* suffix - the last k labels of name (name itself when it has no more) */
static const char *suffix(const char *name, unsigned k)
{
	unsigned n = labels(name);

	while (n > k) {
		name = strchr(name, '.') + 1;
		n--;
	}
	return name;
}

/* memo_find - the memo's entry for name, or NULL */
static struct dmarc_memo_entry *memo_find(struct dmarc_memo *m, const char *name)
{
	for (unsigned i = 0; m != NULL && i < m->n; i++)
		if (strcmp(m->e[i].name, name) == 0)
			return &m->e[i];
	return NULL;
}

/*
 * level_get - what _dmarc.<name> holds, from the memo or one query within
 * ctx's budget; false on a temporary failure (w->why, w->fail set)
 */
static bool level_get(struct dmarc_ctx *ctx, const char *name, struct walk *w, unsigned i)
{
	struct dmarc_memo_entry *e = memo_find(ctx->memo, name);
	char qname[DMARC_QNAME_MAX], *text = NULL;

	memcpy(w->name[i], name, strlen(name) + 1);
	if (e != NULL) {
		w->kind[i] = (enum level)e->kind;
		w->rec[i] = e->rec;
		return true;
	}
	pm_bprintf(qname, sizeof(qname), "_dmarc.%s", name);
	if (ctx->budget == NULL || dns_budget_ms_left(ctx->budget) <= 0) {
		w->fail = DNS_FAIL_BUDGET;
		pm_bprintf(w->why, sizeof(w->why), "DNS time budget spent before %s", qname);
		return false;
	}
	w->queries++;
	memset(&w->rec[i], 0, sizeof(w->rec[i]));
	switch (probe(qname, ctx->budget, &text)) {
	case PROBE_FOUND:
		dmarc_parse_record(NULL, text, name, name, &w->rec[i]);
		free(text);
		w->kind[i] = w->rec[i].status == DMARC_REC_FOUND ? LVL_FOUND : LVL_INVALID;
		break;
	case PROBE_TEMPFAIL:
		w->fail = ctx->budget->fail;
		pm_bprintf(w->why, sizeof(w->why), "DNS lookup of %s failed temporarily", qname);
		return false;
	case PROBE_SEVERAL:
	case PROBE_NUL:
	case PROBE_NONE:
	default:
		w->kind[i] = LVL_NONE;
		break;
	}
	if (ctx->memo != NULL && ctx->memo->n < DMARC_MEMO_MAX) {
		e = &ctx->memo->e[ctx->memo->n++];
		memcpy(e->name, name, strlen(name) + 1);
		e->kind = (int)w->kind[i];
		e->rec = w->rec[i];
	}
	return true;
}

/*
 * walk_run - go on with the walk of w->name[0] (start: the name to begin
 * with when w->n is 0) until it stops or holds limit names: 4.10 steps 1
 * to 7. false on a temporary failure.
 */
static bool walk_run(struct dmarc_ctx *ctx, const char *start, struct walk *w, unsigned limit)
{
	while (!w->done && w->n < limit && w->n < WALK_MAX) {
		const char *next;
		unsigned x;

		if (w->n == 0) {
			next = start;
		} else {
			x = labels(w->name[w->n - 1]);
			if (x == 1) {
				w->done = true;
				break;
			}
			next = suffix(w->name[w->n - 1], x >= 8 ? 7 : x - 1);
		}
		if (!level_get(ctx, next, w, w->n))
			return false;
		w->n++;
		if (w->kind[w->n - 1] == LVL_FOUND &&
		    (w->rec[w->n - 1].psd == 'y' || w->rec[w->n - 1].psd == 'n'))
			w->done = true;
		if (labels(next) == 1)
			w->done = true;
	}
	return true;
}

/*
 * walk_org - the organizational domain of a complete walk (4.10.2): psd=n,
 * one label below a psd=y (not the start), else the valid record with
 * the fewest labels, else the start; *at: the index of its record, or -1
 */
static const char *walk_org(const struct walk *w, int *at)
{
	int last = -1;

	*at = -1;
	for (unsigned i = 0; i < w->n; i++) {
		if (w->kind[i] != LVL_FOUND)
			continue;
		if (w->rec[i].psd == 'n') {
			*at = (int)i;
			return w->name[i];
		}
		if (w->rec[i].psd == 'y' && i > 0) {
			const char *org = suffix(w->name[0], labels(w->name[i]) + 1);

			for (unsigned j = 0; j < i; j++)
				if (strcmp(w->name[j], org) == 0 && w->kind[j] == LVL_FOUND)
					*at = (int)j;
			return org;
		}
		last = (int)i;
	}
	if (last < 0)
		return w->name[0];
	*at = last;
	return w->name[last];
}

int dmarc_walk_org(struct dmarc_ctx *ctx, const char *domain, char *org)
{
	struct walk *w;
	char d[DMARC_DOMAIN_MAX];
	const char *o;
	int at, ok;

	org[0] = '\0';
	if (!name_norm(domain, d))
		return -1;
	w = walk_new();
	ok = walk_run(ctx, d, w, WALK_MAX) ? 1 : 0;
	if (ok) {
		o = walk_org(w, &at);
		memcpy(org, o, strlen(o) + 1);
	}
	free(w);
	return ok;
}

/* discover_walk - 4.10.1 by the tree walk into out (domain set, normalized) */
static void discover_walk(struct dmarc_ctx *ctx, struct dmarc_record *out)
{
	struct walk *w = walk_new();
	char d[DMARC_DOMAIN_MAX];
	const char *org;
	int at = -1;

	memcpy(d, out->domain, sizeof(d));
	if (!walk_run(ctx, d, w, 1) ||
	    (w->kind[0] != LVL_FOUND && !walk_run(ctx, d, w, WALK_MAX))) {
		out->status = DMARC_REC_TEMPFAIL;
		out->dns_fail = w->fail;
		out->queries = w->queries;
		pm_bprintf(out->why, sizeof(out->why), "%s", w->why);
		free(w);
		return;
	}
	if (w->kind[0] == LVL_FOUND || w->kind[0] == LVL_INVALID) {
		/* the author domain's own record (or its unusable one) */
		at = 0;
		org = w->rec[0].psd == 'u' ? "" : d;
	} else {
		org = walk_org(w, &at);
		if (at < 0) /* no record at the org domain: the PSD's (psd=y), if any */
			for (unsigned i = w->n; i-- > 0;)
				if (w->kind[i] == LVL_FOUND && w->rec[i].psd == 'y')
					at = (int)i;
	}
	if (at < 0) {
		out->status = DMARC_REC_NONE;
		memcpy(out->org_domain, org, strlen(org) + 1);
		pm_bprintf(out->why, sizeof(out->why),
		           "no DMARC record at _dmarc.%s nor above (%u names)", d, w->n);
	} else {
		*out = w->rec[at];
		memcpy(out->domain, d, sizeof(d));
		memcpy(out->org_domain, org, strlen(org) + 1);
	}
	out->discovery = DMARC_DISCOVERY_TREEWALK;
	out->queries = w->queries;
	free(w);
}

void dmarc_discover(struct dmarc_ctx *ctx, const char *domain, struct dmarc_record *out)
{
	char shown[DMARC_DOMAIN_MAX * 2];
	unsigned before;

	if (ctx->budget == NULL) {
		memset(out, 0, sizeof(*out));
		out->status = DMARC_REC_TEMPFAIL;
		out->dns_fail = DNS_FAIL_OTHER;
		pm_bprintf(out->why, sizeof(out->why), "no DNS budget for the DMARC lookup");
		return;
	}
	before = ctx->budget->queries;
	if (ctx->discovery == DMARC_DISCOVERY_PSL) {
		dmarc_lookup(ctx->psl, domain, ctx->budget, out);
		out->queries = ctx->budget->queries - before;
		out->discovery = DMARC_DISCOVERY_PSL;
		return;
	}
	memset(out, 0, sizeof(*out));
	out->pct = 100;
	out->psd = 'u';
	out->discovery = DMARC_DISCOVERY_TREEWALK;
	if (!name_norm(domain, out->domain)) {
		out->status = DMARC_REC_INVALID;
		pm_bprintf(out->why, sizeof(out->why), "not a usable domain name: %s",
		           show_name(shown, sizeof(shown), domain));
		return;
	}
	discover_walk(ctx, out);
}

/* ---- the verdict -------------------------------------------------- */

/* lower - the next-lower disposition: reject -> quarantine -> none */
static enum pm_dmarc_policy lower(enum pm_dmarc_policy p)
{
	switch (p) {
	case PM_DMARC_P_REJECT:
		return PM_DMARC_P_QUARANTINE;
	case PM_DMARC_P_QUARANTINE:
	case PM_DMARC_P_NONE:
		return PM_DMARC_P_NONE;
	default:
		return PM_DMARC_P_UNSPEC;
	}
}

/* policy_ok - one of none, quarantine, reject? */
static bool policy_ok(enum pm_dmarc_policy p)
{
	return p == PM_DMARC_P_NONE || p == PM_DMARC_P_QUARANTINE || p == PM_DMARC_P_REJECT;
}

/* no_policy - result r for a record that applies no policy, why from the record */
static void no_policy(struct dmarc_outcome *out, enum pm_dmarc_result r, const char *why)
{
	out->result = r;
	out->policy = PM_DMARC_P_UNSPEC;
	out->disposition = PM_DMARC_P_UNSPEC;
	pm_bprintf(out->why, sizeof(out->why), "%s", why);
}

/* fail_why - out->why for a message without an aligned pass */
static void fail_why(struct dmarc_outcome *out, const struct dmarc_input *in, const char *from,
                     const char *dkim_unaligned, size_t nsig)
{
	char a[DMARC_SHOW], b[DMARC_SHOW], dkim[96], spf[96];

	if (dkim_unaligned != NULL)
		pm_bprintf(dkim, sizeof(dkim), "DKIM pass not aligned: d=%s",
		           show_name(a, sizeof(a), dkim_unaligned));
	else
		pm_bprintf(dkim, sizeof(dkim), "%s",
		           nsig > 0 ? "no DKIM pass" : "no DKIM signature");
	if (in->spf == PM_SPF_PASS && in->spf_domain != NULL)
		pm_bprintf(spf, sizeof(spf), "SPF pass not aligned: %s vs %s",
		           show_name(a, sizeof(a), in->spf_domain), show_name(b, sizeof(b), from));
	else
		pm_bprintf(spf, sizeof(spf), "SPF %s", pm_spf_result_name(in->spf));
	pm_bprintf(out->why, sizeof(out->why), "no aligned pass: %s; %s", dkim, spf);
}

/* walking - does in align by tree walks (RFC 9989 4.10.2) rather than the PSL? */
static bool walking(const struct dmarc_input *in)
{
	return in->ctx != NULL && in->ctx->discovery == DMARC_DISCOVERY_TREEWALK &&
	       in->rec->discovery == DMARC_DISCOVERY_TREEWALK;
}

/*
 * align - is identity id aligned with the author domain from (normalized):
 * 1 yes, 0 no, -1 a tree walk failed for now
 */
static int align(const struct dmarc_input *in, const char *id, const char *from, bool strict)
{
	char a[DMARC_DOMAIN_MAX], oa[DMARC_DOMAIN_MAX], of[DMARC_DOMAIN_MAX];

	if (!walking(in))
		return dmarc_aligned(in->psl, id, from, strict) ? 1 : 0;
	if (!name_norm(id, a))
		return 0;
	if (strcmp(a, from) == 0)
		return 1; /* 4.10.2: the same domain needs no walk */
	if (strict)
		return 0;
	if (in->rec->org_domain[0] != '\0')
		memcpy(of, in->rec->org_domain, sizeof(of));
	else if (dmarc_walk_org(in->ctx, from, of) == 0)
		return -1;
	if (dmarc_walk_org(in->ctx, a, oa) == 0)
		return -1;
	return strcmp(oa, of) == 0 ? 1 : 0;
}

/*
 * author_missing - does the author domain from not exist (RFC 8020:
 * NXDOMAIN)? 1 yes, 0 it exists (or cannot be asked), -1 try again later
 */
static int author_missing(const struct dmarc_input *in, const char *from)
{
	struct dns_reply r;
	enum dns_status st;

	if (in->ctx == NULL || in->ctx->budget == NULL)
		return 0;
	st = dns_budget_query(in->ctx->budget, from, ns_t_a, &r);
	dns_reply_free(&r);
	if (st == DNS_TEMPFAIL)
		return -1;
	return st == DNS_NXDOMAIN ? 1 : 0;
}

/* choose_policy - p, sp or np for the author domain from (4.10.1); false: np's check failed */
static bool choose_policy(const struct dmarc_input *in, const char *from, bool failing,
                          struct dmarc_outcome *out)
{
	const struct dmarc_record *rec = in->rec;
	bool sub;
	int missing = 0;

	if (walking(in))
		sub = rec->found_at[0] != '\0' && strcmp(rec->found_at, from) != 0;
	else
		sub = rec->found_at[0] != '\0' && strcmp(rec->found_at, from) != 0 &&
		      strcmp(rec->found_at, rec->org_domain) == 0;
	out->policy = rec->p;
	if (!sub)
		return true;
	if (failing && policy_ok(rec->np) && rec->np != rec->sp) {
		missing = author_missing(in, from);
		if (missing < 0)
			return false;
	}
	if (missing > 0) {
		out->used_np = true;
		out->policy = rec->np;
	} else if (policy_ok(rec->sp) && (rec->pub.present & (1u << DMARC_T_SP)) != 0) {
		out->used_sp = true; /* sp= as published: without it, p= applies */
		out->policy = rec->sp;
	}
	return true;
}

/* tested - the disposition for a failing message: t=y (or pct, see above) lowers the policy */
static void tested(const struct dmarc_input *in, struct dmarc_outcome *out)
{
	const struct dmarc_record *rec = in->rec;
	unsigned roll = in->pct_roll > 99 ? 99 : in->pct_roll;
	size_t len;

	if (walking(in))
		out->test_mode = rec->testing || rec->pct == 0; /* Appendix A.6 */
	else
		out->test_mode = rec->testing || (int)roll >= rec->pct;
	out->disposition = out->test_mode ? lower(out->policy) : out->policy;
	if (out->disposition == out->policy)
		return;
	len = strlen(out->why);
	if (rec->testing)
		pm_bprintf(out->why + len, sizeof(out->why) - len, "; t=y: %s",
		           pm_dmarc_policy_name(out->disposition));
	else
		pm_bprintf(out->why + len, sizeof(out->why) - len, "; pct=%d: %s", rec->pct,
		           pm_dmarc_policy_name(out->disposition));
}

/* walk_trouble - temperror: a tree walk for alignment or np= failed for now */
static void walk_trouble(struct dmarc_outcome *out, const char *what)
{
	out->result = PM_DMARC_TEMPERROR;
	out->policy = PM_DMARC_P_UNSPEC;
	out->disposition = PM_DMARC_P_UNSPEC;
	pm_bprintf(out->why, sizeof(out->why), "no aligned pass; %s failed temporarily", what);
}

void dmarc_evaluate(const struct dmarc_input *in, struct dmarc_outcome *out)
{
	const struct dmarc_record *rec;
	const char *dkim_unaligned = NULL, *walk_failed = NULL;
	char from[DMARC_DOMAIN_MAX], shown[DMARC_SHOW];
	size_t nsig = 0;
	size_t len;
	int al;

	memset(out, 0, sizeof(*out));
	rec = in != NULL ? in->rec : NULL;
	if (rec == NULL) {
		no_policy(out, PM_DMARC_NONE, "no DMARC record");
		return;
	}
	switch (rec->status) {
	case DMARC_REC_NONE:
		no_policy(out, PM_DMARC_NONE, rec->why[0] != '\0' ? rec->why : "no DMARC record");
		return;
	case DMARC_REC_TEMPFAIL:
		no_policy(out, PM_DMARC_TEMPERROR,
		          rec->why[0] != '\0' ? rec->why : "DMARC lookup failed temporarily");
		return;
	case DMARC_REC_INVALID:
		no_policy(out, PM_DMARC_PERMERROR,
		          rec->why[0] != '\0' ? rec->why : "unusable DMARC record");
		return;
	case DMARC_REC_FOUND:
		break;
	default:
		no_policy(out, PM_DMARC_PERMERROR, "bad DMARC record status");
		return;
	}
	if (!policy_ok(rec->p)) {
		no_policy(out, PM_DMARC_PERMERROR, "DMARC record without a valid p=");
		return;
	}
	if (!name_norm(in->from_domain, from)) {
		pm_bprintf(shown, sizeof(shown), "unusable author domain: ");
		len = strlen(shown);
		show_name(shown + len, sizeof(shown) - len, in->from_domain);
		no_policy(out, PM_DMARC_PERMERROR, shown);
		return;
	}
	choose_policy(in, from, false, out);

	if (in->dkim != NULL && in->dkim->sig != NULL)
		nsig = in->dkim->n;
	for (size_t i = 0; i < nsig; i++) {
		const struct dkim_sig_result *s = &in->dkim->sig[i];

		if (s->result != PM_DKIM_PASS)
			continue;
		al = align(in, s->domain, from, rec->adkim_strict);
		if (al > 0) {
			out->dkim_aligned = true;
			name_norm(s->domain, out->dkim_domain);
			break;
		}
		if (al < 0 && walk_failed == NULL)
			walk_failed = "the tree walk for DKIM d=";
		if (dkim_unaligned == NULL)
			dkim_unaligned = s->domain;
	}
	if (in->spf == PM_SPF_PASS && in->spf_domain != NULL) {
		al = align(in, in->spf_domain, from, rec->aspf_strict);
		out->spf_aligned = al > 0;
		if (al < 0 && walk_failed == NULL)
			walk_failed = "the tree walk for the SPF domain";
	}

	if (out->dkim_aligned || out->spf_aligned) {
		char spf[DMARC_SHOW];

		out->result = PM_DMARC_PASS;
		out->disposition = PM_DMARC_P_NONE;
		if (out->dkim_aligned && out->spf_aligned)
			pm_bprintf(out->why, sizeof(out->why),
			           "aligned DKIM pass d=%s, aligned SPF pass %s", out->dkim_domain,
			           show_name(spf, sizeof(spf), in->spf_domain));
		else if (out->dkim_aligned)
			pm_bprintf(out->why, sizeof(out->why), "aligned DKIM pass d=%s",
			           out->dkim_domain);
		else
			pm_bprintf(out->why, sizeof(out->why), "aligned SPF pass %s",
			           show_name(spf, sizeof(spf), in->spf_domain));
		return;
	}
	if (walk_failed != NULL) {
		walk_trouble(out, walk_failed);
		return;
	}

	/*
	 * No aligned pass, but an aligned identity could not be checked for
	 * now: the answer may still be pass, so temperror, never a fail
	 * (DNS trouble must not become a 5xx)
	 */
	for (size_t i = 0; i < nsig; i++) {
		const struct dkim_sig_result *s = &in->dkim->sig[i];

		if (s->result == PM_DKIM_TEMPERROR &&
		    align(in, s->domain, from, rec->adkim_strict) != 0) {
			out->result = PM_DMARC_TEMPERROR;
			pm_bprintf(out->why, sizeof(out->why),
			           "no aligned pass; DKIM key lookup for d=%s failed temporarily",
			           show_name(shown, sizeof(shown), s->domain));
			return;
		}
	}
	if (in->spf == PM_SPF_TEMPERROR && in->spf_domain != NULL &&
	    align(in, in->spf_domain, from, rec->aspf_strict) != 0) {
		out->result = PM_DMARC_TEMPERROR;
		pm_bprintf(out->why, sizeof(out->why),
		           "no aligned pass; SPF for %s failed temporarily",
		           show_name(shown, sizeof(shown), in->spf_domain));
		return;
	}

	out->used_sp = false;
	if (!choose_policy(in, from, true, out)) {
		walk_trouble(out, "the existence check of the author domain (np=)");
		return;
	}
	out->result = PM_DMARC_FAIL;
	fail_why(out, in, from, dkim_unaligned, nsig);
	tested(in, out);
}

/* ---- names -------------------------------------------------------- */

const char *pm_dmarc_result_name(enum pm_dmarc_result r)
{
	static const char *const names[PM_DMARC_NRESULTS] = {
	    [PM_DMARC_UNCHECKED] = "unchecked", [PM_DMARC_NONE] = "none",
	    [PM_DMARC_PASS] = "pass",           [PM_DMARC_FAIL] = "fail",
	    [PM_DMARC_TEMPERROR] = "temperror", [PM_DMARC_PERMERROR] = "permerror",
	};

	if ((int)r < 0 || r >= PM_DMARC_NRESULTS)
		return "unknown";
	return names[r];
}

const char *pm_dmarc_policy_name(enum pm_dmarc_policy p)
{
	switch (p) {
	case PM_DMARC_P_NONE:
		return "none";
	case PM_DMARC_P_QUARANTINE:
		return "quarantine";
	case PM_DMARC_P_REJECT:
		return "reject";
	default:
		return "";
	}
}
