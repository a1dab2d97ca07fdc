/*
 * NAME
 *	arctrust 3 - the ARC rescue of a DMARC fail, and the
 *	ARC-Authentication-Results parser it reads
 * SYNOPSIS
 *	#include "arctrust.h"
 *
 *	bool arctrust_aar_parse(const char *payload, struct aar_parsed *out);
 *	const char *arctrust_prop(const struct aar_resinfo *ri, const char *ptype,
 *		const char *name);
 *	bool arctrust_decide(const struct arctrust_input *in,
 *		struct arctrust_rescue *out);
 *	bool arctrust_sealer_trusted(const char *domain, char *const *list, size_t n);
 * DESCRIPTION
 *	The parser follows RFC 8601 section 2.2:
 *
 *	  authres-payload = [CFWS] authserv-id [CFWS authres-version]
 *	                    (no-result / 1*resinfo) [CFWS]
 *	  resinfo    = [CFWS] ";" methodspec [CFWS reasonspec] [CFWS 1*propspec]
 *	  methodspec = [CFWS] method [CFWS] "=" [CFWS] result
 *	  method     = Keyword [[CFWS] "/" [CFWS] method-version]
 *	  reasonspec = "reason" [CFWS] "=" [CFWS] value
 *	  propspec   = ptype [CFWS] "." [CFWS] property [CFWS] "=" pvalue
 *	  pvalue     = [CFWS] (value / [[local-part] "@"] domain-name) [CFWS]
 *
 *	A lexer gives words (RFC 2045 token characters; bytes over 0x7f are
 *	taken as word characters, for RFC 6532 local parts; "." is no
 *	tspecial, so "ptype . property" reads as a word and a word that
 *	starts with the dot), quoted-strings
 *	(quoted-pairs undone) and the special characters one by one;
 *	comments (nested, with quoted-pairs) are skipped wherever CFWS may
 *	be. A resinfo that breaks the grammar is skipped up to the next ";".
 *	See arctrust.h for the rescue rule.
 * DIAGNOSTICS
 *	None.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "arctrust.h"
#include "util.h"

enum tok_kind { T_END = 0, T_WORD, T_QUOTED, T_SPECIAL, T_BAD };

struct tok {
	enum tok_kind kind;
	char c;                   /* T_SPECIAL: the character */
	char text[AAR_VALUE_MAX]; /* T_WORD, T_QUOTED */
	bool too_long;            /* the word or string did not fit text */
};

struct lexer {
	const char *p, *end;
};

/* is_special - an RFC 2045 tspecial (but the space): ends a word */
static bool is_special(unsigned char c)
{
	return c != '\0' && strchr("()<>@,;:\\\"/[]?=", c) != NULL;
}

/* skip_cfws - past white space and (nested) comments; an unclosed comment runs to the end */
static void skip_cfws(struct lexer *lx)
{
	for (;;) {
		while (lx->p < lx->end &&
		       (*lx->p == ' ' || *lx->p == '\t' || *lx->p == '\r' || *lx->p == '\n'))
			lx->p++;
		if (lx->p >= lx->end || *lx->p != '(')
			return;
		for (size_t depth = 0; lx->p < lx->end;) {
			char c = *lx->p++;

			if (c == '\\') {
				if (lx->p < lx->end)
					lx->p++;
			} else if (c == '(') {
				depth++;
			} else if (c == ')' && --depth == 0) {
				break;
			}
		}
	}
}

/* put_char - one character into t->text, noting when it does not fit */
static void put_char(struct tok *t, size_t *len, char c)
{
	if (*len + 1 < sizeof(t->text))
		t->text[(*len)++] = c;
	else
		t->too_long = true;
	t->text[*len] = '\0';
}

/* next_token - the next token after CFWS into *t */
static void next_token(struct lexer *lx, struct tok *t)
{
	size_t len = 0;
	unsigned char c;

	t->kind = T_END;
	t->c = '\0';
	t->text[0] = '\0';
	t->too_long = false;
	skip_cfws(lx);
	if (lx->p >= lx->end)
		return;
	c = (unsigned char)*lx->p;
	if (c == '"') {
		for (lx->p++; lx->p < lx->end && *lx->p != '"'; lx->p++) {
			if (*lx->p == '\\') {
				if (++lx->p >= lx->end)
					break;
			}
			put_char(t, &len, *lx->p);
		}
		if (lx->p >= lx->end) {
			t->kind = T_BAD; /* unterminated */
			return;
		}
		lx->p++;
		t->kind = T_QUOTED;
		return;
	}
	if (c < 0x20 || c == 0x7f) {
		lx->p++;
		t->kind = T_BAD;
		return;
	}
	if (is_special(c)) {
		lx->p++;
		t->kind = T_SPECIAL;
		t->c = (char)c;
		return;
	}
	while (lx->p < lx->end) {
		c = (unsigned char)*lx->p;
		if (c <= 0x20 || c == 0x7f || is_special(c))
			break;
		put_char(t, &len, (char)c);
		lx->p++;
	}
	t->kind = T_WORD;
}

/* is_char - is t the special character c? */
static bool is_char(const struct tok *t, char c)
{
	return t->kind == T_SPECIAL && t->c == c;
}

/* lower_copy - s lower-cased into buf (bufsize); false when it does not fit or is empty */
static bool lower_copy(char *buf, size_t bufsize, const char *s, size_t n)
{
	if (n == 0 || n >= bufsize)
		return false;
	for (size_t i = 0; i < n; i++)
		buf[i] = (char)((s[i] >= 'A' && s[i] <= 'Z') ? s[i] - 'A' + 'a' : s[i]);
	buf[n] = '\0';
	return true;
}

/* is_value - a word or quoted-string that fitted */
static bool is_value(const struct tok *t)
{
	return (t->kind == T_WORD || t->kind == T_QUOTED) && !t->too_long;
}

/*
 * parse_prop - one propspec or reasonspec starting at *t (a word): into
 * ri (a reasonspec is read and dropped); false when it breaks the grammar
 */
static bool parse_prop(struct lexer *lx, struct tok *t, struct aar_resinfo *ri)
{
	char ptype[32], name[32], value[AAR_VALUE_MAX];
	const char *dot;
	size_t vlen;

	if (t->kind != T_WORD || t->too_long)
		return false;
	if (strcasecmp(t->text, "reason") == 0) {
		next_token(lx, t);
		if (!is_char(t, '='))
			return false;
		next_token(lx, t);
		if (t->kind != T_WORD && t->kind != T_QUOTED)
			return false; /* a value cut short is dropped all the same */
		next_token(lx, t);
		return true;
	}
	dot = strchr(t->text, '.');
	if (dot != NULL) {
		if (!lower_copy(ptype, sizeof(ptype), t->text, (size_t)(dot - t->text)) ||
		    !lower_copy(name, sizeof(name), dot + 1, strlen(dot + 1)))
			return false;
		next_token(lx, t);
	} else {
		if (!lower_copy(ptype, sizeof(ptype), t->text, strlen(t->text)))
			return false;
		/* CFWS around the dot: "." is no tspecial, so it leads the next word */
		next_token(lx, t);
		if (t->kind != T_WORD || t->text[0] != '.')
			return false;
		if (t->text[1] == '\0')
			next_token(lx, t);
		else
			memmove(t->text, t->text + 1, strlen(t->text));
		if (t->kind != T_WORD || t->too_long ||
		    !lower_copy(name, sizeof(name), t->text, strlen(t->text)))
			return false;
		next_token(lx, t);
	}
	if (!is_char(t, '='))
		return false;
	next_token(lx, t);
	value[0] = '\0';
	if (is_value(t)) {
		snprintf(value, sizeof(value), "%s", t->text);
		next_token(lx, t);
	} else if (!is_char(t, '@')) {
		return false;
	}
	if (is_char(t, '@')) {
		next_token(lx, t);
		if (t->kind != T_WORD || t->too_long)
			return false;
		vlen = strlen(value);
		if (vlen + 1 + strlen(t->text) + 1 > sizeof(value))
			return false;
		value[vlen] = '@';
		memcpy(value + vlen + 1, t->text, strlen(t->text) + 1);
		next_token(lx, t);
	}
	if (ri->nprops < AAR_MAX_PROPS) {
		struct aar_prop *pr = &ri->prop[ri->nprops++];

		memcpy(pr->ptype, ptype, sizeof(pr->ptype));
		memcpy(pr->name, name, sizeof(pr->name));
		memcpy(pr->value, value, sizeof(pr->value));
	}
	return true;
}

/* parse_resinfo - one resinfo after its ";" (*t its first token); false when it breaks the grammar
 */
static bool parse_resinfo(struct lexer *lx, struct tok *t, struct aar_resinfo *ri)
{
	memset(ri, 0, sizeof(*ri));
	if (t->kind != T_WORD || t->too_long ||
	    !lower_copy(ri->method, sizeof(ri->method), t->text, strlen(t->text)))
		return false;
	next_token(lx, t);
	if (is_char(t, '/')) {
		next_token(lx, t);
		if (t->kind != T_WORD)
			return false;
		next_token(lx, t);
	}
	if (!is_char(t, '='))
		return false;
	next_token(lx, t);
	if (t->kind != T_WORD || t->too_long ||
	    !lower_copy(ri->result, sizeof(ri->result), t->text, strlen(t->text)))
		return false;
	next_token(lx, t);
	while (t->kind != T_END && !is_char(t, ';'))
		if (!parse_prop(lx, t, ri))
			return false;
	return true;
}

/* all_digits - a non-empty string of digits */
static bool all_digits(const char *s)
{
	if (*s == '\0')
		return false;
	for (; *s != '\0'; s++)
		if (*s < '0' || *s > '9')
			return false;
	return true;
}

/* arctrust_aar_parse - read an ARC-Authentication-Results payload */
bool arctrust_aar_parse(const char *payload, struct aar_parsed *out)
{
	struct aar_resinfo *ri;
	struct lexer lx;
	struct tok t;
	size_t len;

	memset(out, 0, sizeof(*out));
	if (payload == NULL)
		return false;
	len = strnlen(payload, AAR_TEXT_MAX + 1);
	if (len > AAR_TEXT_MAX)
		return false;
	lx.p = payload;
	lx.end = payload + len;
	next_token(&lx, &t);
	if (!is_value(&t))
		return false;
	memcpy(out->authserv_id, t.text, sizeof(out->authserv_id));
	next_token(&lx, &t);
	if (t.kind == T_WORD && all_digits(t.text))
		next_token(&lx, &t); /* authres-version */
	if (t.kind == T_WORD && strcasecmp(t.text, "none") == 0)
		return true; /* no-result */
	ri = xmalloc(sizeof(*ri));
	while (t.kind != T_END) {
		if (!is_char(&t, ';')) {
			next_token(&lx, &t); /* garbage between resinfos */
			continue;
		}
		next_token(&lx, &t);
		if (parse_resinfo(&lx, &t, ri) && out->n < AAR_MAX_RESINFO) {
			out->ri[out->n++] = *ri;
			continue;
		}
		out->bad++;
		while (t.kind != T_END && !is_char(&t, ';'))
			next_token(&lx, &t);
	}
	free(ri);
	return true;
}

/* arctrust_prop - the value of ptype.name in ri, or NULL */
const char *arctrust_prop(const struct aar_resinfo *ri, const char *ptype, const char *name)
{
	for (size_t i = 0; i < ri->nprops; i++)
		if (strcmp(ri->prop[i].ptype, ptype) == 0 && strcmp(ri->prop[i].name, name) == 0)
			return ri->prop[i].value;
	return NULL;
}

/* same_domain - a and b equal ignoring case and one trailing dot each */
static bool same_domain(const char *a, const char *b)
{
	size_t la = strlen(a), lb = strlen(b);

	if (la > 0 && a[la - 1] == '.')
		la--;
	if (lb > 0 && b[lb - 1] == '.')
		lb--;
	return la > 0 && la == lb && strncasecmp(a, b, la) == 0;
}

/* arctrust_sealer_trusted - domain equals a listed one or is below it */
bool arctrust_sealer_trusted(const char *domain, char *const *list, size_t n)
{
	size_t dl;

	if (domain == NULL || *domain == '\0')
		return false;
	dl = strlen(domain);
	for (size_t i = 0; i < n; i++) {
		size_t ll = strlen(list[i]);

		if (ll == 0 || ll > dl || strcasecmp(domain + dl - ll, list[i]) != 0)
			continue;
		if (ll == dl || domain[dl - ll - 1] == '.')
			return true;
	}
	return false;
}

/* aligned - is domain aligned with the author (strict: equal; relaxed: in->org)? */
static bool aligned(const struct arctrust_input *in, const char *domain, bool strict)
{
	if (domain == NULL || *domain == '\0')
		return false;
	if (same_domain(domain, in->author))
		return true;
	if (strict || in->org == NULL)
		return false;
	return in->org(in->org_arg, domain, in->author);
}

/* domain_of - the domain of "local@domain", "@domain" or "domain" (after the last '@') */
static const char *domain_of(const char *v)
{
	const char *at;

	if (v == NULL)
		return NULL;
	at = strrchr(v, '@');
	return at != NULL ? at + 1 : v;
}

/*
 * vouches - what one AAR says for the author: the method of the first
 * pass that rescues ("dmarc", "spf", "dkim"), or NULL; *dmarc_not_pass set
 * when it records a DMARC result other than pass for the author domain
 */
static const char *vouches(const struct arctrust_input *in, const struct aar_parsed *aar,
                           bool *dmarc_not_pass)
{
	const char *found = NULL; /* dkim or spf, the first; a dmarc pass is named first */
	bool dmarc = false;

	*dmarc_not_pass = false;
	for (size_t i = 0; i < aar->n; i++) {
		const struct aar_resinfo *ri = &aar->ri[i];
		bool pass = strcmp(ri->result, "pass") == 0;

		if (strcmp(ri->method, "dmarc") == 0) {
			const char *from = arctrust_prop(ri, "header", "from");

			if (from == NULL || !same_domain(from, in->author))
				continue; /* another domain's DMARC says nothing of this one */
			if (!pass)
				*dmarc_not_pass = true;
			else
				dmarc = true;
		} else if (!pass) {
			continue;
		} else if (strcmp(ri->method, "spf") == 0) {
			if (found == NULL &&
			    aligned(in, domain_of(arctrust_prop(ri, "smtp", "mailfrom")),
			            in->aspf_strict))
				found = "spf";
		} else if (strcmp(ri->method, "dkim") == 0) {
			if (found == NULL &&
			    (aligned(in, arctrust_prop(ri, "header", "d"), in->adkim_strict) ||
			     aligned(in, domain_of(arctrust_prop(ri, "header", "i")),
			             in->adkim_strict)))
				found = "dkim";
		}
	}
	return dmarc ? "dmarc" : found;
}

/* arctrust_decide - does the oldest trusted sealer rescue the DMARC fail? */
bool arctrust_decide(const struct arctrust_input *in, struct arctrust_rescue *out)
{
	const struct arc_result *r = in->arc;
	const struct arc_set *oldest = NULL;
	struct aar_parsed *aar;
	bool dmarc_not_pass;
	const char *method;

	memset(out, 0, sizeof(*out));
	if (r == NULL || r->result != PM_ARC_PASS || r->set == NULL || r->n == 0) {
		out->why_not = "the ARC chain did not pass";
		return false;
	}
	if (in->author == NULL || *in->author == '\0') {
		out->why_not = "no author domain";
		return false;
	}
	for (size_t k = 0; k < r->n && k < ARC_MAX_INSTANCES && oldest == NULL; k++)
		if (arctrust_sealer_trusted(r->set[k].domain, in->trusted, in->ntrusted))
			oldest = &r->set[k];
	if (oldest == NULL) {
		out->why_not = "no trusted sealer in the chain";
		return false;
	}
	out->instance = oldest->instance;
	snprintf(out->sealer, sizeof(out->sealer), "%.*s",
	         (int)strnlen(oldest->domain, sizeof(oldest->domain)), oldest->domain);
	aar = xmalloc(sizeof(*aar));
	if (!arctrust_aar_parse(oldest->aar, aar)) {
		free(aar);
		out->why_not =
		    "the oldest trusted sealer's ARC-Authentication-Results is unreadable";
		return false;
	}
	method = vouches(in, aar, &dmarc_not_pass);
	free(aar);
	if (dmarc_not_pass) {
		out->why_not = "the oldest trusted sealer recorded a DMARC result other than pass";
		return false;
	}
	if (method == NULL) {
		out->why_not = "the oldest trusted sealer recorded no aligned pass for the author";
		return false;
	}
	out->rescued = true;
	out->method = method;
	return true;
}
