/*
 * NAME
 *	spfrecord - strict RFC 7208 SPF record parser and macro expansion
 * SYNOPSIS
 *	spf_record_is_spf(), spf_record_parse(), spf_record_free(),
 *	spf_domain_spec_ok(), spf_macro_string_ok(), spf_macro_expand(),
 *	spf_target_name()
 * DESCRIPTION
 *	The grammar is RFC 7208 section 12 (strings in it are
 *	case-insensitive, RFC 5234):
 *
 *	record    = "v=spf1" *( 1*SP ( directive / modifier ) ) *SP
 *	directive = [ "+" / "-" / "?" / "~" ] mechanism
 *	mechanism = all / include / a / mx / ptr / ip4 / ip6 / exists
 *	a, mx     = name [ ":" domain-spec ] [ dual-cidr-length ]
 *	ptr       = "ptr" [ ":" domain-spec ]
 *	include, exists = name ":" domain-spec
 *	ip4       = "ip4:" ip4-network [ "/" 0-32 ]    (no leading zeros)
 *	ip6       = "ip6:" ip6-network [ "/" 0-128 ]
 *	modifier  = redirect / explanation / unknown-modifier
 *	unknown-modifier = ALPHA *( ALPHA / DIGIT / "-" / "_" / "." ) "=" macro-string
 *	domain-spec = macro-string ( "." toplabel [ "." ] / macro-expand )
 *
 *	A record holding a NUL, a control character, a byte outside ASCII,
 *	two redirect= or two exp= is refused as a whole. redirect= is dropped
 *	from a record that has an "all" mechanism (RFC 7208 6.1).
 * DIAGNOSTICS
 *	The reasons are printable ASCII; bytes of the record in them are
 *	escaped (pm_escape).
 */
#include <arpa/inet.h>
#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "spfrecord.h"
#include "util.h"

#define SPF_MAX_PARTS 128 /* parts of a macro value kept for its transformers */

/* shown - the first bytes of s (len) escaped, for a reason */
static const char *shown(char *buf, size_t bufsize, const char *s, size_t len)
{
	if (len > 40)
		len = 40;
	return pm_escape(buf, bufsize, s, len);
}

/* is_macro_letter - a macro letter of a domain-spec (c, r and t belong to exp text only) */
static bool is_macro_letter(char c)
{
	return strchr("slodipvh", tolower((unsigned char)c)) != NULL && c != '\0';
}

/* is_delimiter - RFC 7208 7.1 delimiter */
static bool is_delimiter(char c)
{
	return c != '\0' && strchr(".-+,/_=", c) != NULL;
}

/*
 * macro_len - the length of the macro-expand at s[0] == '%' (at most len
 * bytes), or 0 with a reason in err
 */
static size_t macro_len(const char *s, size_t len, char *err)
{
	char b[64];
	size_t i = 2;
	unsigned long n = 0;
	bool digits = false;

	if (len < 2) {
		snprintf(err, SPF_ERR_SIZE, "lone '%%' at the end of a macro-string");
		return 0;
	}
	if (s[1] == '%' || s[1] == '_' || s[1] == '-')
		return 2;
	if (s[1] != '{') {
		snprintf(err, SPF_ERR_SIZE, "'%%' followed by '%s' (want {, %%, _ or -)",
		         shown(b, sizeof(b), s + 1, 1));
		return 0;
	}
	if (len < 3 || !is_macro_letter(s[2])) {
		snprintf(err, SPF_ERR_SIZE, "invalid macro letter '%s' in \"%s\"",
		         shown(b, sizeof(b), s + 2, len > 2 ? 1 : 0),
		         shown(b + 8, sizeof(b) - 8, s, len));
		return 0;
	}
	for (i = 3; i < len && isdigit((unsigned char)s[i]); i++) {
		digits = true;
		if (n < 1000)
			n = n * 10 + (unsigned long)(s[i] - '0');
	}
	if (digits && n == 0) {
		snprintf(err, SPF_ERR_SIZE, "macro transformer 0 in \"%s\"",
		         shown(b, sizeof(b), s, i));
		return 0;
	}
	if (i < len && (s[i] == 'r' || s[i] == 'R'))
		i++;
	while (i < len && is_delimiter(s[i]))
		i++;
	if (i >= len || s[i] != '}') {
		snprintf(err, SPF_ERR_SIZE, "malformed macro \"%s\"", shown(b, sizeof(b), s, len));
		return 0;
	}
	return i + 1;
}

/*
 * scan_macro_string - check a macro-string; *tail_literal is set to the
 * start of the literal run after the last macro (len when it ends in one)
 */
static bool scan_macro_string(const char *s, size_t len, char *err, size_t *tail_literal)
{
	size_t i = 0;
	char b[16];

	*tail_literal = 0;
	while (i < len) {
		unsigned char c = (unsigned char)s[i];

		if (c == '%') {
			size_t m = macro_len(s + i, len - i, err);

			if (m == 0)
				return false;
			i += m;
			*tail_literal = i;
		} else if (c < 0x21 || c > 0x7e) {
			snprintf(err, SPF_ERR_SIZE, "character '%s' not allowed in a macro-string",
			         pm_escape(b, sizeof(b), s + i, 1));
			return false;
		} else {
			i++;
		}
	}
	return true;
}

bool spf_macro_string_ok(const char *s, size_t len, char *err)
{
	size_t tail;

	return scan_macro_string(s, len, err, &tail);
}

/* toplabel_ok - RFC 7208 toplabel: alphanumerics with one letter, or hyphenated */
static bool toplabel_ok(const char *s, size_t len)
{
	bool alpha = false, hyphen = false;
	size_t i;

	if (len == 0)
		return false;
	for (i = 0; i < len; i++) {
		unsigned char c = (unsigned char)s[i];

		if (isalpha(c))
			alpha = true;
		else if (c == '-')
			hyphen = true;
		else if (!isdigit(c))
			return false;
	}
	if (hyphen)
		return isalnum((unsigned char)s[0]) && isalnum((unsigned char)s[len - 1]);
	return alpha;
}

bool spf_domain_spec_ok(const char *s, size_t len, char *err)
{
	size_t tail, end = len, dot;
	char b[64];

	if (len == 0) {
		snprintf(err, SPF_ERR_SIZE, "empty domain-spec");
		return false;
	}
	if (!scan_macro_string(s, len, err, &tail))
		return false;
	if (tail == len)
		return true; /* ends in a macro */
	if (end > tail && s[end - 1] == '.')
		end--;
	for (dot = end; dot > tail && s[dot - 1] != '.'; dot--)
		;
	if (dot == tail) {
		snprintf(err, SPF_ERR_SIZE, "domain-spec \"%s\" has no top label",
		         shown(b, sizeof(b), s, len));
		return false;
	}
	if (!toplabel_ok(s + dot, end - dot)) {
		snprintf(err, SPF_ERR_SIZE, "domain-spec \"%s\" has an invalid top label",
		         shown(b, sizeof(b), s, len));
		return false;
	}
	return true;
}

bool spf_record_is_spf(const char *txt, size_t len)
{
	return len >= 6 && strncasecmp(txt, "v=spf1", 6) == 0 && (len == 6 || txt[6] == ' ');
}

/* cidr_len - "/N" at s (len bytes) with N in 0..max, no leading zero; false when not */
static bool cidr_len(const char *s, size_t len, unsigned max, unsigned *out)
{
	unsigned v = 0;
	size_t i;

	if (len < 2 || len > 4 || s[0] != '/' || (s[1] == '0' && len > 2))
		return false;
	for (i = 1; i < len; i++) {
		if (!isdigit((unsigned char)s[i]))
			return false;
		v = v * 10 + (unsigned)(s[i] - '0');
	}
	if (v > max)
		return false;
	*out = v;
	return true;
}

/*
 * dual_cidr_split - strip a trailing dual-cidr-length ("/N", "//N" or
 * "/N//M": slashes followed by digits only) from s; *len is shortened and
 * the lengths are set. False (reason in err) when a length is malformed.
 */
static bool dual_cidr_split(const char *s, size_t *len, struct spf_term *t, const char *mech,
                            char *err)
{
	size_t n = *len, i;
	char b[32];

	/* "//M" at the end */
	for (i = n; i > 0 && isdigit((unsigned char)s[i - 1]); i--)
		;
	if (i >= 2 && i < n && s[i - 1] == '/' && s[i - 2] == '/') {
		if (!cidr_len(s + i - 1, n - i + 1, 128, &t->cidr6)) {
			snprintf(err, SPF_ERR_SIZE, "%s: invalid IPv6 CIDR length /%s", mech,
			         shown(b, sizeof(b), s + i - 1, n - i + 1));
			return false;
		}
		n = i - 2;
	}
	for (i = n; i > 0 && isdigit((unsigned char)s[i - 1]); i--)
		;
	if (i >= 1 && i < n && s[i - 1] == '/' && !(i >= 2 && s[i - 2] == '/')) {
		if (!cidr_len(s + i - 1, n - i + 1, 32, &t->cidr4)) {
			snprintf(err, SPF_ERR_SIZE, "%s: invalid IPv4 CIDR length %s", mech,
			         shown(b, sizeof(b), s + i - 1, n - i + 1));
			return false;
		}
		n = i - 1;
	}
	*len = n;
	return true;
}

/* ip4_network_ok - four qnums, no leading zeros (RFC 7208 ip4-network) */
static bool ip4_network_ok(const char *s, size_t len, unsigned char *addr)
{
	size_t i = 0;
	int part;

	for (part = 0; part < 4; part++) {
		size_t start = i;
		unsigned v = 0;

		while (i < len && isdigit((unsigned char)s[i]) && i - start < 3)
			v = v * 10 + (unsigned)(s[i++] - '0');
		if (i == start || v > 255 || (s[start] == '0' && i - start > 1))
			return false;
		addr[part] = (unsigned char)v;
		if (part < 3) {
			if (i >= len || s[i] != '.')
				return false;
			i++;
		}
	}
	return i == len;
}

/* ip6_network_ok - an IPv6 address (RFC 4291 text form) */
static bool ip6_network_ok(const char *s, size_t len, unsigned char *addr)
{
	char buf[64];
	size_t i;

	if (len == 0 || len >= sizeof(buf))
		return false;
	for (i = 0; i < len; i++)
		if (!isxdigit((unsigned char)s[i]) && s[i] != ':' && s[i] != '.')
			return false;
	memcpy(buf, s, len);
	buf[len] = '\0';
	return inet_pton(AF_INET6, buf, addr) == 1;
}

/* add_term - room for one more term in rec */
static struct spf_term *add_term(struct spf_record *rec)
{
	struct spf_term *t;

	rec->terms = xrealloc(rec->terms, (rec->nterms + 1) * sizeof(*rec->terms));
	t = &rec->terms[rec->nterms++];
	memset(t, 0, sizeof(*t));
	t->cidr4 = 32;
	t->cidr6 = 128;
	t->qualifier = '+';
	return t;
}

/* set_domain - check the domain-spec s (len) of mechanism mech and keep it in t */
static bool set_domain(struct spf_term *t, const char *s, size_t len, const char *mech, char *err)
{
	char why[SPF_ERR_SIZE];

	if (!spf_domain_spec_ok(s, len, why)) {
		snprintf(err, SPF_ERR_SIZE, "%s: %.140s", mech, why);
		return false;
	}
	t->domain = xstrndup(s, len);
	return true;
}

static const struct {
	const char *name;
	enum spf_mech mech;
} mechs[] = {
    {"all", SPF_MECH_ALL}, {"include", SPF_MECH_INCLUDE}, {"a", SPF_MECH_A},
    {"mx", SPF_MECH_MX},   {"ptr", SPF_MECH_PTR},         {"ip4", SPF_MECH_IP4},
    {"ip6", SPF_MECH_IP6}, {"exists", SPF_MECH_EXISTS},
};

/* parse_directive - one directive (s, len: no spaces) into rec */
static bool parse_directive(const char *s, size_t len, struct spf_record *rec, char *err)
{
	struct spf_term *t;
	const char *name;
	size_t nlen, i, rlen;
	const char *rest;
	char qual = '+', b[64];

	if (len > 0 && strchr("+-~?", s[0]) != NULL) {
		qual = s[0];
		s++;
		len--;
	}
	name = s;
	for (nlen = 0; nlen < len && s[nlen] != ':' && s[nlen] != '/'; nlen++)
		;
	rest = s + nlen;
	rlen = len - nlen;
	for (i = 0; i < sizeof(mechs) / sizeof(mechs[0]); i++)
		if (strlen(mechs[i].name) == nlen && strncasecmp(name, mechs[i].name, nlen) == 0)
			break;
	if (i == sizeof(mechs) / sizeof(mechs[0])) {
		if (nlen == 0)
			snprintf(err, SPF_ERR_SIZE, "term \"%s\" has no mechanism name",
			         shown(b, sizeof(b), s, len));
		else
			snprintf(err, SPF_ERR_SIZE, "unknown mechanism \"%s\"",
			         shown(b, sizeof(b), name, nlen));
		return false;
	}
	t = add_term(rec);
	t->mech = mechs[i].mech;
	t->qualifier = qual;
	switch (t->mech) {
	case SPF_MECH_ALL:
		if (rlen != 0) {
			snprintf(err, SPF_ERR_SIZE, "all takes no argument (\"%s\")",
			         shown(b, sizeof(b), s, len));
			return false;
		}
		return true;
	case SPF_MECH_INCLUDE:
	case SPF_MECH_EXISTS:
		if (rlen == 0 || rest[0] != ':') {
			snprintf(err, SPF_ERR_SIZE, "%s needs \":domain\"", mechs[i].name);
			return false;
		}
		return set_domain(t, rest + 1, rlen - 1, mechs[i].name, err);
	case SPF_MECH_PTR:
		if (rlen == 0)
			return true;
		if (rest[0] != ':') {
			snprintf(err, SPF_ERR_SIZE, "ptr takes no CIDR length (\"%s\")",
			         shown(b, sizeof(b), s, len));
			return false;
		}
		return set_domain(t, rest + 1, rlen - 1, "ptr", err);
	case SPF_MECH_A:
	case SPF_MECH_MX:
		if (!dual_cidr_split(rest, &rlen, t, mechs[i].name, err))
			return false;
		if (rlen == 0)
			return true;
		if (rest[0] != ':') {
			snprintf(err, SPF_ERR_SIZE, "%s: malformed CIDR length \"%s\"",
			         mechs[i].name, shown(b, sizeof(b), rest, rlen));
			return false;
		}
		return set_domain(t, rest + 1, rlen - 1, mechs[i].name, err);
	case SPF_MECH_IP4:
	case SPF_MECH_IP6: {
		bool v4 = t->mech == SPF_MECH_IP4;
		const char *slash;
		size_t alen;

		if (rlen < 2 || rest[0] != ':') {
			snprintf(err, SPF_ERR_SIZE, "%s needs \":address\"", mechs[i].name);
			return false;
		}
		rest++;
		rlen--;
		slash = memchr(rest, '/', rlen);
		alen = slash ? (size_t)(slash - rest) : rlen;
		if (v4 ? !ip4_network_ok(rest, alen, t->addr)
		       : !ip6_network_ok(rest, alen, t->addr)) {
			snprintf(err, SPF_ERR_SIZE, "%s: invalid address \"%s\"", mechs[i].name,
			         shown(b, sizeof(b), rest, alen));
			return false;
		}
		if (slash != NULL &&
		    !cidr_len(slash, rlen - alen, v4 ? 32 : 128, v4 ? &t->cidr4 : &t->cidr6)) {
			snprintf(err, SPF_ERR_SIZE, "%s: invalid CIDR length \"%s\"", mechs[i].name,
			         shown(b, sizeof(b), slash, rlen - alen));
			return false;
		}
		return true;
	}
	}
	return true;
}

/* modifier_name_len - the length of name in "name=" at s, or 0 when s is no modifier */
static size_t modifier_name_len(const char *s, size_t len)
{
	size_t i;

	if (len == 0 || !isalpha((unsigned char)s[0]))
		return 0;
	for (i = 1; i < len; i++) {
		unsigned char c = (unsigned char)s[i];

		if (c == '=')
			return i;
		if (!isalnum(c) && c != '-' && c != '_' && c != '.')
			return 0;
	}
	return 0;
}

/* parse_modifier - name (nlen) "=" value into rec */
static bool parse_modifier(const char *s, size_t nlen, size_t len, struct spf_record *rec,
                           char *err)
{
	const char *v = s + nlen + 1;
	size_t vlen = len - nlen - 1;
	char why[SPF_ERR_SIZE], b[64];
	char **slot = NULL;
	const char *which = NULL;

	if (nlen == 8 && strncasecmp(s, "redirect", 8) == 0) {
		slot = &rec->redirect;
		which = "redirect";
	} else if (nlen == 3 && strncasecmp(s, "exp", 3) == 0) {
		slot = &rec->exp;
		which = "exp";
	}
	if (slot == NULL) {
		if (!spf_macro_string_ok(v, vlen, why)) {
			snprintf(err, SPF_ERR_SIZE, "modifier %s: %.80s",
			         shown(b, sizeof(b), s, nlen), why);
			return false;
		}
		return true; /* unknown modifiers are ignored (RFC 7208 6) */
	}
	if (*slot != NULL) {
		snprintf(err, SPF_ERR_SIZE, "%s= given twice", which);
		return false;
	}
	if (!spf_domain_spec_ok(v, vlen, why)) {
		snprintf(err, SPF_ERR_SIZE, "%s=: %.140s", which, why);
		return false;
	}
	*slot = xstrndup(v, vlen);
	return true;
}

bool spf_record_parse(const char *txt, size_t len, struct spf_record *rec, char *err)
{
	size_t i;
	bool has_all = false;

	memset(rec, 0, sizeof(*rec));
	for (i = 0; i < len; i++) {
		unsigned char c = (unsigned char)txt[i];

		if (c == '\0') {
			snprintf(err, SPF_ERR_SIZE, "NUL byte in the record (offset %zu)", i);
			return false;
		}
		if (c >= 0x80) {
			snprintf(err, SPF_ERR_SIZE,
			         "non-ASCII byte 0x%02x in the record (offset %zu)", c, i);
			return false;
		}
		if (c < 0x20 || c == 0x7f) {
			snprintf(err, SPF_ERR_SIZE,
			         "control character 0x%02x in the record (offset %zu)", c, i);
			return false;
		}
	}
	if (!spf_record_is_spf(txt, len)) {
		snprintf(err, SPF_ERR_SIZE, "not a v=spf1 record");
		return false;
	}
	i = 6;
	while (i < len) {
		size_t start, tlen, nlen;

		while (i < len && txt[i] == ' ')
			i++;
		if (i == len)
			break;
		start = i;
		while (i < len && txt[i] != ' ')
			i++;
		tlen = i - start;
		nlen = modifier_name_len(txt + start, tlen);
		if (nlen > 0 ? !parse_modifier(txt + start, nlen, tlen, rec, err)
		             : !parse_directive(txt + start, tlen, rec, err)) {
			spf_record_free(rec);
			return false;
		}
	}
	for (i = 0; i < rec->nterms; i++)
		if (rec->terms[i].mech == SPF_MECH_ALL)
			has_all = true;
	if (has_all && rec->redirect != NULL) { /* RFC 7208 6.1: ignored */
		free(rec->redirect);
		rec->redirect = NULL;
	}
	return true;
}

void spf_record_free(struct spf_record *rec)
{
	size_t i;

	for (i = 0; i < rec->nterms; i++)
		free(rec->terms[i].domain);
	free(rec->terms);
	free(rec->redirect);
	free(rec->exp);
	memset(rec, 0, sizeof(*rec));
}

/* url_escape - append v to out, every byte outside unreserved as %XX (RFC 7208 7.3) */
static void url_escape(struct strbuf *out, const char *v, size_t len)
{
	size_t i;

	for (i = 0; i < len; i++) {
		unsigned char c = (unsigned char)v[i];

		if (isalnum(c) || c == '-' || c == '.' || c == '_' || c == '~')
			sb_appendc(out, (char)c);
		else
			sb_appendf(out, "%%%02X", c);
	}
}

/*
 * transform - append value split at delims (default "."), reversed when
 * rev, its rightmost keep parts (0: all) joined with "."
 */
static void transform(struct strbuf *out, const char *value, const char *delims, size_t ndelims,
                      bool rev, unsigned long keep)
{
	const char *part[SPF_MAX_PARTS] = {NULL};
	size_t plen[SPF_MAX_PARTS] = {0};
	size_t n = 0, first, k;
	const char *p = value, *q;
	char dl[8] = ".";

	if (ndelims > 0) {
		memcpy(dl, delims, ndelims < sizeof(dl) - 1 ? ndelims : sizeof(dl) - 1);
		dl[ndelims < sizeof(dl) - 1 ? ndelims : sizeof(dl) - 1] = '\0';
	}
	for (;;) {
		q = p + strcspn(p, dl);
		if (n == SPF_MAX_PARTS) { /* keep the rest in the last part */
			plen[n - 1] = strlen(part[n - 1]);
			break;
		}
		part[n] = p;
		plen[n] = (size_t)(q - p);
		n++;
		if (*q == '\0')
			break;
		p = q + 1;
	}
	if (rev) {
		for (k = 0; k < n / 2; k++) {
			const char *tp = part[k];
			size_t tl = plen[k];

			part[k] = part[n - 1 - k];
			plen[k] = plen[n - 1 - k];
			part[n - 1 - k] = tp;
			plen[n - 1 - k] = tl;
		}
	}
	first = keep > 0 && keep < n ? n - keep : 0;
	for (k = first; k < n; k++) {
		if (k > first)
			sb_appendc(out, '.');
		sb_appendn(out, part[k], plen[k]);
	}
}

bool spf_macro_expand(const char *spec, const struct spf_macro_ctx *ctx, struct strbuf *out)
{
	const char *s = spec;

	while (*s) {
		struct strbuf val, tr;
		const char *v = NULL;
		unsigned long keep = 0;
		bool rev = false, upper;
		const char *delims;
		size_t nd;
		char letter;

		if (*s != '%') {
			sb_appendc(out, *s++);
			continue;
		}
		if (s[1] == '%' || s[1] == '_' || s[1] == '-') {
			sb_append(out, s[1] == '%' ? "%" : s[1] == '_' ? " " : "%20");
			s += 2;
			continue;
		}
		if (s[1] != '{' || s[2] == '\0')
			return true; /* not reached for a checked spec */
		letter = s[2];
		upper = isupper((unsigned char)letter);
		s += 3;
		while (isdigit((unsigned char)*s)) {
			if (keep < 1000)
				keep = keep * 10 + (unsigned long)(*s - '0');
			s++;
		}
		if (*s == 'r' || *s == 'R') {
			rev = true;
			s++;
		}
		delims = s;
		while (is_delimiter(*s))
			s++;
		nd = (size_t)(s - delims);
		if (*s == '}')
			s++;
		sb_init(&val);
		switch (tolower((unsigned char)letter)) {
		case 's':
			v = ctx->sender;
			break;
		case 'l':
			v = ctx->local;
			break;
		case 'o':
			v = ctx->origin;
			break;
		case 'd':
			v = ctx->domain;
			break;
		case 'i':
			v = ctx->ip;
			break;
		case 'v':
			v = ctx->ipver;
			break;
		case 'h':
			v = ctx->helo;
			break;
		case 'p':
			if (ctx->ptr == NULL) {
				v = "unknown";
			} else if (!ctx->ptr(ctx->arg, ctx->domain, &val)) {
				sb_free(&val);
				return false;
			}
			break;
		default:
			break;
		}
		if (v != NULL)
			sb_append(&val, v);
		sb_init(&tr);
		transform(&tr, val.s ? val.s : "", delims, nd, rev, keep);
		if (upper)
			url_escape(out, tr.s ? tr.s : "", tr.len);
		else
			sb_appendn(out, tr.s ? tr.s : "", tr.len);
		sb_free(&tr);
		sb_free(&val);
	}
	return true;
}

char *spf_target_name(char *s)
{
	size_t len = strlen(s);

	if (len > 0 && s[len - 1] == '.')
		s[--len] = '\0';
	while (len > 253) {
		char *dot = strchr(s, '.');

		if (dot == NULL) {
			s[0] = '\0';
			break;
		}
		memmove(s, dot + 1, strlen(dot + 1) + 1);
		len = strlen(s);
	}
	return s;
}
