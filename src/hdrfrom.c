/*
 * NAME
 *	hdrfrom 3 - RFC 5322 From header parsing (the DMARC author domain)
 * SYNOPSIS
 *	#include "hdrfrom.h"
 *
 *	bool hdrfrom_parse(const char *value, size_t len,
 *			   struct hdrfrom_list *out, const char **why);
 *	void hdrfrom_free(struct hdrfrom_list *l);
 *	enum hdrfrom_author_status hdrfrom_author(const struct hdrfrom_list *l,
 *			   const struct hdrfrom_mailbox **mb, const char **why);
 * DESCRIPTION
 *	hdrfrom_parse() first unfolds the value (CRLF or LF followed by a
 *	space or tab is folding; a final line break is dropped; any other CR,
 *	LF or a NUL is an error), then reads it as tokens: atoms, quoted
 *	strings, domain literals, RFC 2047 encoded words, the specials
 *	"<>@,;:." and CFWS (spaces, tabs and nested comments with
 *	quoted-pairs, skipped but remembered as "space before the token").
 *	Control characters other than tab are refused everywhere.
 *
 *	The grammar is RFC 5322 address-list: empty list elements are
 *	tolerated (obs-addr-list), groups may hold mailboxes (not groups),
 *	an obsolete route inside angle brackets is checked and dropped. A
 *	display name is any run of words and dots (obs-phrase), so
 *	"paypal.com <x@evil.test>" is display text plus evil.test. The local
 *	part must be a dot-atom without inner CFWS or one quoted-string;
 *	obs-local-part ("a . b", "\"a\".b") is refused. An encoded word is
 *	display text only; one where the address should be is an error. The
 *	domain is a dot-atom of LDH labels (addr_domain_valid) or an IPv4 /
 *	"IPv6:" literal; a domain with 8-bit bytes must be UTF-8 U-labels
 *	that IDNA2008 accepts (libidn2): it is judged as its A-labels
 *	(xn--...), and invisible or other disallowed characters are an
 *	error. Anything left after an address other than
 *	"," (or ";" closing its group) is an error.
 *
 *	The display text of each mailbox (its display name and comments,
 *	the addr-spec left out) is searched for what a client would show as
 *	an address (name_scan; hdrfrom.h says what counts): quoted-pairs
 *	undone, RFC 2047 encoded words decoded, the domains kept in
 *	name_domains.
 *
 *	hdrfrom_author() applies DMARC's rule (RFC 7489 6.6.1): exactly one
 *	mailbox, with a domain name.
 * DIAGNOSTICS
 *	Errors are static strings; the parser never reads past value + len
 *	and uses memory proportional to len.
 */
#include <arpa/inet.h>
#include <idn2.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "addr.h"
#include "hdrfrom.h"
#include "util.h"

enum tok_type {
	T_END,
	T_ATOM,    /* atext and 8-bit bytes */
	T_QSTR,    /* "...": start/len is the raw content between the quotes */
	T_ENCWORD, /* =?charset?enc?text?= */
	T_DLIT,    /* [...]: start/len is the content between the brackets */
	T_SPECIAL, /* one of < > @ , ; : . in c */
};

struct tok {
	enum tok_type type;
	char c;
	size_t start, len;
	bool ws_before; /* CFWS came before it */
};

struct parser {
	const char *u; /* the unfolded value */
	size_t n, pos;
	bool have_peek;
	struct tok peek;
	size_t peek_from;            /* where lexing the peeked token began (CFWS before it) */
	size_t last_end;             /* the byte after the last token taken */
	size_t addr_start, addr_end; /* the last mailbox's addr-spec: local part to domain */
	const char *why;
	struct hdrfrom_list *out;
	size_t cap;
};

/* is_ctl - a control character other than tab (or DEL) */
static bool is_ctl(unsigned char c)
{
	return (c < 0x20 && c != '\t') || c == 0x7f;
}

/* is_atext - RFC 5322 atext, 8-bit bytes included (RFC 6532) */
static bool is_atext(unsigned char c)
{
	if (c >= 0x80)
		return true;
	if ((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9'))
		return true;
	return c != '\0' && strchr("!#$%&'*+-/=?^_`{|}~", c) != NULL;
}

/* is_ew_token - a byte allowed in an RFC 2047 charset name */
static bool is_ew_token(unsigned char c)
{
	return c > 0x20 && c < 0x7f && strchr("()<>@,;:\"/[]?.=", c) == NULL;
}

/* encword_len - length of a well-formed encoded word at u[i], 0 when there is none */
static size_t encword_len(const char *u, size_t n, size_t i)
{
	size_t j = i + 2, k;

	if (i + 2 > n || u[i] != '=' || u[i + 1] != '?')
		return 0;
	for (k = j; k < n && is_ew_token((unsigned char)u[k]); k++)
		;
	if (k == j || k + 3 > n || u[k] != '?' || strchr("bBqQ", u[k + 1]) == NULL ||
	    u[k + 1] == '\0' || u[k + 2] != '?')
		return 0;
	j = k + 3;
	for (k = j;
	     k < n && (unsigned char)u[k] > 0x20 && (unsigned char)u[k] < 0x7f && u[k] != '?'; k++)
		;
	if (k == j || k + 2 > n || u[k] != '?' || u[k + 1] != '=')
		return 0;
	return k + 2 - i;
}

/* unfold - copy value into a new NUL-terminated buffer without folding; NULL and *why on error */
static char *unfold(const char *v, size_t len, size_t *outlen, const char **why)
{
	char *u = xmalloc(len + 1);
	size_t i, o = 0;

	for (i = 0; i < len; i++) {
		unsigned char c = (unsigned char)v[i];

		if (c == '\0') {
			*why = "NUL in From header";
			free(u);
			return NULL;
		}
		if (c == '\r' || c == '\n') {
			size_t k = i + (c == '\r' && i + 1 < len && v[i + 1] == '\n' ? 2 : 1);

			if (c == '\r' && k == i + 1) {
				*why = "bare CR in From header";
				free(u);
				return NULL;
			}
			if (k == len)
				break; /* a final line break */
			if (v[k] != ' ' && v[k] != '\t') {
				*why = "line break not followed by white space in From header";
				free(u);
				return NULL;
			}
			i = k - 1;
			continue;
		}
		u[o++] = (char)c;
	}
	u[o] = '\0';
	*outlen = o;
	return u;
}

/* fail - record a reason; returns false */
static bool fail(struct parser *p, const char *why)
{
	if (p->why == NULL)
		p->why = why;
	return false;
}

/* skip_cfws - skip spaces, tabs and (nested) comments; *ws set when anything was skipped */
static bool skip_cfws(struct parser *p, bool *ws)
{
	while (p->pos < p->n) {
		unsigned char c = (unsigned char)p->u[p->pos];
		size_t depth;

		if (c == ' ' || c == '\t') {
			p->pos++;
			*ws = true;
			continue;
		}
		if (c != '(')
			break;
		*ws = true;
		depth = 0;
		do {
			if (p->pos >= p->n)
				return fail(p, "unterminated comment");
			c = (unsigned char)p->u[p->pos];
			if (is_ctl(c))
				return fail(p, "control character in comment");
			if (c == '\\') {
				if (p->pos + 1 >= p->n)
					return fail(p, "unterminated comment");
				if (is_ctl((unsigned char)p->u[p->pos + 1]))
					return fail(p, "control character in comment");
				p->pos += 2;
				continue;
			}
			if (c == '(')
				depth++;
			else if (c == ')')
				depth--;
			p->pos++;
		} while (depth > 0);
	}
	return true;
}

/* lex - read the next token at p->pos into *t */
static bool lex(struct parser *p, struct tok *t)
{
	unsigned char c;
	size_t i, k;

	memset(t, 0, sizeof(*t));
	if (!skip_cfws(p, &t->ws_before))
		return false;
	if (p->pos >= p->n) {
		t->type = T_END;
		return true;
	}
	i = p->pos;
	c = (unsigned char)p->u[i];
	if (is_ctl(c))
		return fail(p, "control character in From header");
	switch (c) {
	case '"':
		for (k = i + 1;; k++) {
			if (k >= p->n)
				return fail(p, "unterminated quoted string");
			if (is_ctl((unsigned char)p->u[k]))
				return fail(p, "control character in quoted string");
			if (p->u[k] == '"')
				break;
			if (p->u[k] == '\\') {
				k++;
				if (k >= p->n)
					return fail(p, "unterminated quoted string");
				if (is_ctl((unsigned char)p->u[k]))
					return fail(p, "control character in quoted string");
			}
		}
		t->type = T_QSTR;
		t->start = i + 1;
		t->len = k - i - 1;
		p->pos = k + 1;
		return true;
	case '[':
		for (k = i + 1;; k++) {
			if (k >= p->n)
				return fail(p, "unterminated address literal");
			if (p->u[k] == ']')
				break;
			if (p->u[k] == '[' || p->u[k] == '\\' || p->u[k] == ' ' ||
			    p->u[k] == '\t' || is_ctl((unsigned char)p->u[k]))
				return fail(p, "bad address literal");
		}
		t->type = T_DLIT;
		t->start = i + 1;
		t->len = k - i - 1;
		p->pos = k + 1;
		return true;
	case ')':
		return fail(p, "unbalanced ')'");
	case ']':
		return fail(p, "unbalanced ']'");
	case '\\':
		return fail(p, "backslash outside quotes");
	case '<':
	case '>':
	case '@':
	case ',':
	case ';':
	case ':':
	case '.':
		t->type = T_SPECIAL;
		t->c = (char)c;
		t->start = i;
		t->len = 1;
		p->pos = i + 1;
		return true;
	default:
		break;
	}
	if ((k = encword_len(p->u, p->n, i)) > 0) {
		t->type = T_ENCWORD;
		t->start = i;
		t->len = k;
		p->pos = i + k;
		return true;
	}
	if (!is_atext(c))
		return fail(p, "unexpected character in From header");
	for (k = i; k < p->n && is_atext((unsigned char)p->u[k]); k++)
		;
	t->type = T_ATOM;
	t->start = i;
	t->len = k - i;
	p->pos = k;
	return true;
}

/* peek - the next token, read once */
static bool peek(struct parser *p, struct tok *t)
{
	if (!p->have_peek) {
		p->peek_from = p->pos;
		if (!lex(p, &p->peek))
			return false;
		p->have_peek = true;
	}
	*t = p->peek;
	return true;
}

/* take - consume the peeked token */
static void take(struct parser *p)
{
	p->last_end = p->peek.start + p->peek.len;
	p->have_peek = false;
}

/* is_special - t is the special character c */
static bool is_special(const struct tok *t, char c)
{
	return t->type == T_SPECIAL && t->c == c;
}

/* words - what a run of words and dots looked like (a phrase or a local part) */
struct words {
	size_t ntok;
	size_t start, end;  /* first byte of the first token, byte after the last */
	bool dot_atom;      /* ATOM ("." ATOM)* with no CFWS inside */
	bool has_encword;   /* an encoded word among them */
	struct tok first;   /* the first token (a lone quoted string) */
	enum tok_type prev; /* T_SPECIAL after a dot */
};

/* collect_words - consume atoms, quoted strings, encoded words and dots */
static bool collect_words(struct parser *p, struct words *w)
{
	struct tok t;

	memset(w, 0, sizeof(*w));
	w->dot_atom = true;
	for (;;) {
		if (!peek(p, &t))
			return false;
		if (t.type != T_ATOM && t.type != T_QSTR && t.type != T_ENCWORD &&
		    !is_special(&t, '.'))
			return true;
		take(p);
		if (w->ntok == 0) {
			w->first = t;
			w->start = t.start;
			if (t.type != T_ATOM)
				w->dot_atom = false;
		} else {
			if (t.ws_before)
				w->dot_atom = false;
			if (t.type == T_ATOM ? w->prev != T_SPECIAL
			                     : t.type != T_SPECIAL || w->prev != T_ATOM)
				w->dot_atom = false;
		}
		if (t.type == T_ENCWORD)
			w->has_encword = true;
		w->prev = t.type;
		w->end = t.start + t.len;
		w->ntok++;
	}
}

/* local_from_words - the local part the words before "@" spell, into mb */
static bool local_from_words(struct parser *p, const struct words *w, struct hdrfrom_mailbox *mb)
{
	char *s;
	size_t i, o = 0;

	if (w->ntok == 0)
		return fail(p, "empty local part");
	if (w->has_encword)
		return fail(p, "encoded word in address");
	if (w->ntok == 1 && w->first.type == T_QSTR) {
		s = xmalloc(w->first.len + 1);
		for (i = 0; i < w->first.len; i++) {
			char c = p->u[w->first.start + i];

			if (c == '\\')
				c = p->u[w->first.start + ++i];
			s[o++] = c;
		}
		s[o] = '\0';
		mb->local_quoted = true;
	} else {
		if (!w->dot_atom || w->prev != T_ATOM)
			return fail(p, "obsolete or malformed local part");
		o = w->end - w->start;
		s = xstrndup(p->u + w->start, o);
	}
	mb->local = s;
	if (o == 0)
		return fail(p, "empty local part");
	if (o > HDRFROM_LOCAL_MAX)
		return fail(p, "local part too long");
	if (!pm_utf8_valid((const unsigned char *)s, o))
		return fail(p, "local part is not UTF-8");
	return true;
}

/* literal - check the domain literal [body] and return "[...]" in a new string, or NULL */
static char *literal(struct parser *p, const char *body, size_t len)
{
	char tmp[64];
	unsigned char bin[16];
	int af = AF_INET;
	size_t skip = 0;
	struct strbuf sb;

	if (len >= 5 && strncasecmp(body, "IPv6:", 5) == 0) {
		af = AF_INET6;
		skip = 5;
	}
	if (len - skip == 0 || len - skip >= sizeof(tmp)) {
		fail(p, "bad address literal");
		return NULL;
	}
	memcpy(tmp, body + skip, len - skip);
	tmp[len - skip] = '\0';
	if (inet_pton(af, tmp, bin) != 1) {
		fail(p, "bad address literal");
		return NULL;
	}
	pm_strlower(tmp);
	sb_init(&sb);
	sb_appendf(&sb, "[%s%s]", af == AF_INET6 ? "IPv6:" : "", tmp);
	return sb_steal(&sb);
}

/*
 * idn_domain - a domain with 8-bit bytes (RFC 6532): UTF-8 U-labels made
 * A-labels by IDNA2008 (libidn2, NFC first), so that DMARC judges the
 * name the DNS knows; invisible and other disallowed characters, or bytes
 * that are not UTF-8, are an error
 */
static bool idn_domain(struct parser *p, const char *s, size_t len, char **dom)
{
	char *in, *out = NULL;
	int rc;

	if (len > (size_t)HDRFROM_DOMAIN_MAX * 4)
		return fail(p, "domain too long");
	if (!pm_utf8_valid((const unsigned char *)s, len))
		return fail(p, "8-bit domain is not UTF-8");
	in = xstrndup(s, len);
	rc = idn2_to_ascii_8z(in, &out, IDN2_NFC_INPUT | IDN2_NONTRANSITIONAL);
	free(in);
	if (rc != IDN2_OK || out == NULL) {
		idn2_free(out);
		return fail(p, "domain is not a valid internationalized name (IDNA2008)");
	}
	if (strlen(out) > HDRFROM_DOMAIN_MAX || !addr_domain_valid(out, strlen(out))) {
		idn2_free(out);
		return fail(p, "invalid domain");
	}
	*dom = xstrdup(out);
	idn2_free(out);
	pm_strlower(*dom);
	return true;
}

/* parse_domain - a dot-atom domain or a literal; *dom is a new string the caller frees */
static bool parse_domain(struct parser *p, char **dom, bool *is_literal)
{
	struct tok t;
	size_t start, end, i;
	char *d;

	*dom = NULL;
	*is_literal = false;
	if (!peek(p, &t))
		return false;
	if (t.type == T_DLIT) {
		take(p);
		*dom = literal(p, p->u + t.start, t.len);
		*is_literal = true;
		return *dom != NULL;
	}
	if (t.type == T_ENCWORD)
		return fail(p, "encoded word in domain");
	if (t.type != T_ATOM)
		return fail(p, "empty domain");
	take(p);
	start = t.start;
	end = t.start + t.len;
	for (;;) {
		if (!peek(p, &t))
			return false;
		if (!is_special(&t, '.') || t.ws_before)
			break;
		take(p);
		if (!peek(p, &t))
			return false;
		if (is_special(&t, '.'))
			return fail(p, "empty label in domain");
		if (t.type != T_ATOM || t.ws_before)
			break; /* a trailing root dot, dropped */
		take(p);
		end = t.start + t.len;
	}
	for (i = start; i < end; i++)
		if ((unsigned char)p->u[i] >= 0x80)
			return idn_domain(p, p->u + start, end - start, dom);
	if (end - start > HDRFROM_DOMAIN_MAX)
		return fail(p, "domain too long");
	if (!addr_domain_valid(p->u + start, end - start))
		return fail(p, "invalid domain");
	d = xstrndup(p->u + start, end - start);
	pm_strlower(d);
	*dom = d;
	return true;
}

/* add_mailbox - append a new empty mailbox to the result */
static struct hdrfrom_mailbox *add_mailbox(struct parser *p)
{
	struct hdrfrom_list *l = p->out;

	if (l->count == p->cap) {
		p->cap = p->cap ? 2 * p->cap : 4;
		l->mbox = xrealloc(l->mbox, p->cap * sizeof(*l->mbox));
	}
	memset(&l->mbox[l->count], 0, sizeof(l->mbox[0]));
	return &l->mbox[l->count++];
}

/* parse_route - an obsolete "@a.test,@b.test:" route after "<" (checked, dropped) */
static bool parse_route(struct parser *p)
{
	struct tok t;
	char *d;
	bool lit;

	for (;;) {
		if (!peek(p, &t))
			return false;
		if (is_special(&t, ',')) {
			take(p);
			continue;
		}
		if (is_special(&t, ':')) {
			take(p);
			return true;
		}
		if (!is_special(&t, '@'))
			return fail(p, "bad route in address");
		take(p);
		if (!parse_domain(p, &d, &lit))
			return fail(p, "bad route in address");
		free(d);
	}
}

/* parse_angle - "<" [route] addr-spec ">" after the "<" was taken */
static bool parse_angle(struct parser *p, struct hdrfrom_mailbox *mb)
{
	struct words w;
	struct tok t;

	if (!peek(p, &t))
		return false;
	if (is_special(&t, '>'))
		return fail(p, "empty address <>");
	if (is_special(&t, '@')) {
		if (!parse_route(p))
			return false;
		mb->had_route = true;
	}
	if (!collect_words(p, &w) || !peek(p, &t))
		return false;
	if (!is_special(&t, '@'))
		return fail(p, is_special(&t, '>') ? "address without a domain" : "bad address");
	if (!local_from_words(p, &w, mb))
		return false;
	take(p);
	if (!parse_domain(p, &mb->domain, &mb->domain_is_literal))
		return false;
	p->addr_start = w.start;
	p->addr_end = p->last_end;
	if (!peek(p, &t))
		return false;
	if (t.type == T_END)
		return fail(p, "missing '>'");
	if (!is_special(&t, '>'))
		return fail(p, "junk in address");
	take(p);
	return true;
}

/* parse_mailbox_rest - after the words: "<" angle-addr, or "@" domain of an addr-spec */
static bool parse_mailbox_rest(struct parser *p, const struct words *w, bool in_group)
{
	struct hdrfrom_mailbox *mb;
	struct tok t;

	if (!peek(p, &t))
		return false;
	if (is_special(&t, '<')) {
		take(p);
		mb = add_mailbox(p);
		mb->in_group = in_group;
		return parse_angle(p, mb);
	}
	if (is_special(&t, '@')) {
		mb = add_mailbox(p);
		mb->in_group = in_group;
		if (!local_from_words(p, w, mb))
			return false;
		take(p);
		if (!parse_domain(p, &mb->domain, &mb->domain_is_literal))
			return false;
		p->addr_start = w->start;
		p->addr_end = p->last_end;
		return true;
	}
	if (w->ntok == 0) {
		if (is_special(&t, '>'))
			return fail(p, "unbalanced '>'");
		if (t.type == T_DLIT)
			return fail(p, "address literal outside an address");
		return fail(p, "unexpected special character");
	}
	return fail(p, "address without a domain");
}

/* b64_value - the value of one base64 character, -1 for any other */
static int b64_value(unsigned char c)
{
	if (c >= 'A' && c <= 'Z')
		return c - 'A';
	if (c >= 'a' && c <= 'z')
		return c - 'a' + 26;
	if (c >= '0' && c <= '9')
		return c - '0' + 52;
	return c == '+' ? 62 : c == '/' ? 63 : -1;
}

/*
 * encword_decode - append the bytes the encoded word at u[0..len) stands
 * for (B or Q, whatever the charset: an ASCII "@" is the same byte in
 * every charset a client would show as text); what does not decode is
 * skipped
 */
static void encword_decode(struct strbuf *sb, const char *u, size_t len)
{
	const char *q1 = memchr(u + 2, '?', len - 2);
	const char *text = q1 + 3, *end = u + len - 2;

	if (q1[1] == 'b' || q1[1] == 'B') {
		unsigned acc = 0, bits = 0;

		for (; text < end; text++) {
			int v = b64_value((unsigned char)*text);

			if (v < 0)
				continue; /* "=" padding and junk */
			acc = (acc << 6) | (unsigned)v;
			bits += 6;
			if (bits >= 8) {
				bits -= 8;
				sb_appendc(sb, (char)((acc >> bits) & 0xff));
			}
		}
		return;
	}
	for (; text < end; text++) {
		if (*text == '_') {
			sb_appendc(sb, ' ');
		} else if (*text == '=' && end - text >= 3 &&
		           pm_hex_value((unsigned char)text[1]) >= 0 &&
		           pm_hex_value((unsigned char)text[2]) >= 0) {
			sb_appendc(sb, (char)(pm_hex_value((unsigned char)text[1]) * 16 +
			                      pm_hex_value((unsigned char)text[2])));
			text += 2;
		} else {
			sb_appendc(sb, *text);
		}
	}
}

/*
 * display_text - the text a client may show for u[from..to): quoted-pairs
 * undone, quotes and parentheses made spaces, encoded words decoded (and
 * the white space between two of them dropped)
 */
static void display_text(struct strbuf *sb, const char *u, size_t from, size_t to)
{
	size_t i = from, k;

	while (i < to) {
		char c = u[i];

		if (c == '\\' && i + 1 < to) {
			sb_appendc(sb, u[i + 1]);
			i += 2;
		} else if (c == '"' || c == '(' || c == ')') {
			sb_appendc(sb, ' ');
			i++;
		} else if (c == '=' && (k = encword_len(u, to, i)) > 0) {
			size_t j;

			encword_decode(sb, u + i, k);
			i += k;
			/* white space between two encoded words is not shown (RFC 2047 6.2) */
			for (j = i; j < to && (u[j] == ' ' || u[j] == '\t'); j++)
				;
			if (j > i && encword_len(u, to, j) > 0)
				i = j;
		} else {
			sb_appendc(sb, c);
			i++;
		}
	}
}

/* is_name_local - a byte that may stand in a shown local part (atext, ".", 8-bit) */
static bool is_name_local(unsigned char c)
{
	return is_atext(c) || c == '.';
}

/* is_name_domain - a byte that may stand in a shown domain (LDH, ".", 8-bit) */
static bool is_name_domain(unsigned char c)
{
	return c >= 0x80 || (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
	       (c >= '0' && c <= '9') || c == '-' || c == '.';
}

/*
 * dotted_name - does d[0..*len) (trailing dots dropped from *len) look like
 * a dotted domain: labels not empty, two at least, the top one of two
 * bytes or more and not all digits? *eight says whether it has 8-bit bytes.
 */
static bool dotted_name(const char *d, size_t *len, bool *eight)
{
	size_t i, label = 0, top = 0, dots = 0;
	bool top_digits = true;

	while (*len > 0 && d[*len - 1] == '.')
		(*len)--;
	*eight = false;
	if (*len == 0 || *len > (size_t)HDRFROM_DOMAIN_MAX * 4 || d[0] == '.')
		return false;
	for (i = 0; i < *len; i++) {
		unsigned char c = (unsigned char)d[i];

		if (c == '.') {
			if (label == 0)
				return false; /* empty label */
			dots++;
			label = 0;
			top = 0;
			top_digits = true;
			continue;
		}
		label++;
		top++;
		if (c >= 0x80)
			*eight = true;
		if (c < '0' || c > '9')
			top_digits = false;
	}
	return dots > 0 && top >= 2 && !top_digits;
}

/*
 * shown_domain - the domain of an address-like token whose domain run is
 * d[0..len) (trailing dots dropped): a new lower-case string (the
 * A-labels when IDNA2008 takes an 8-bit name; the bytes as they are when
 * it does not), or NULL when it is no dotted domain, before or after
 */
static char *shown_domain(const char *d, size_t len)
{
	char *in, *out = NULL;
	bool eight, again;
	size_t olen;

	if (!dotted_name(d, &len, &eight))
		return NULL;
	in = xstrndup(d, len);
	if (eight && idn2_to_ascii_8z(in, &out, IDN2_NFC_INPUT | IDN2_NONTRANSITIONAL) == IDN2_OK &&
	    out != NULL) {
		/* the A-labels; an invisible character mapped away may leave no dotted name */
		olen = strlen(out);
		free(in);
		in = dotted_name(out, &olen, &again) ? xstrndup(out, olen) : NULL;
		idn2_free(out);
		if (in != NULL)
			pm_strlower(in);
		return in;
	}
	idn2_free(out);
	pm_strlower(in); /* ASCII only; 8-bit bytes kept as they are */
	return in;
}

/*
 * name_scan - the domains of the address-like tokens in the display text
 * of mailbox mb (u[from..to) but its addr-spec) into mb->name_domains
 */
static void name_scan(struct parser *p, struct hdrfrom_mailbox *mb, size_t from, size_t to)
{
	struct strbuf sb;
	size_t a_start = p->addr_start, a_end = p->addr_end;

	if (a_start < from || a_end > to || a_start > a_end)
		a_start = a_end = from; /* cannot happen; scan it all */
	sb_init(&sb);
	display_text(&sb, p->u, from, a_start);
	sb_appendc(&sb, ' ');
	display_text(&sb, p->u, a_end, to);
	for (size_t i = 0; i < sb.len && mb->nname_domains < HDRFROM_NAME_DOMAINS_MAX; i++) {
		size_t j;
		char *d;

		if (sb.s[i] != '@' || i == 0 || !is_name_local((unsigned char)sb.s[i - 1]))
			continue;
		for (j = i + 1; j < sb.len && is_name_domain((unsigned char)sb.s[j]); j++)
			;
		d = shown_domain(sb.s + i + 1, j - i - 1);
		if (d == NULL)
			continue;
		if (mb->name_domains == NULL)
			mb->name_domains = xcalloc(HDRFROM_NAME_DOMAINS_MAX, sizeof(char *));
		mb->name_domains[mb->nname_domains++] = d;
	}
	sb_free(&sb);
}

/*
 * after_address - what may follow an address: "," or the end, or ";" in a
 * group; then the display text of the mailbox, from elem_start to that
 * token, is searched for addresses (name_scan)
 */
static bool after_address(struct parser *p, bool in_group, size_t elem_start)
{
	struct tok t;

	if (!peek(p, &t))
		return false;
	if (is_special(&t, ',') || t.type == T_END || (in_group && is_special(&t, ';'))) {
		name_scan(p, &p->out->mbox[p->out->count - 1], elem_start,
		          t.type == T_END ? p->n : t.start);
		return true;
	}
	return fail(p, "junk after address");
}

/* parse_group - "name:" was read; mailboxes up to ";" */
static bool parse_group(struct parser *p)
{
	struct words w;
	struct tok t;
	size_t start;

	p->out->groups++;
	for (;;) {
		if (!peek(p, &t))
			return false;
		if (is_special(&t, ';')) {
			take(p);
			return true;
		}
		if (is_special(&t, ',')) {
			take(p);
			continue;
		}
		if (t.type == T_END)
			return fail(p, "unterminated group");
		start = p->peek_from;
		if (!collect_words(p, &w) || !peek(p, &t))
			return false;
		if (is_special(&t, ':'))
			return fail(p, "nested group");
		if (!parse_mailbox_rest(p, &w, true) || !after_address(p, true, start))
			return false;
	}
}

/* parse_list - the whole address-list */
static bool parse_list(struct parser *p)
{
	struct words w;
	struct tok t;
	size_t start;

	for (;;) {
		if (!peek(p, &t))
			return false;
		if (t.type == T_END)
			return true;
		if (is_special(&t, ',')) {
			take(p);
			continue;
		}
		start = p->peek_from;
		if (!collect_words(p, &w) || !peek(p, &t))
			return false;
		if (is_special(&t, ':')) {
			if (w.ntok == 0)
				return fail(p, "group without a name");
			take(p);
			if (!parse_group(p))
				return false;
			if (!peek(p, &t))
				return false;
			if (!is_special(&t, ',') && t.type != T_END)
				return fail(p, "junk after address");
			continue;
		}
		if (!parse_mailbox_rest(p, &w, false) || !after_address(p, false, start))
			return false;
	}
}

/* hdrfrom_parse - every mailbox of one From header value */
bool hdrfrom_parse(const char *value, size_t len, struct hdrfrom_list *out, const char **why)
{
	struct parser p;
	bool ok;

	memset(out, 0, sizeof(*out));
	memset(&p, 0, sizeof(p));
	if (value == NULL) {
		*why = "no From header value";
		return false;
	}
	p.u = unfold(value, len, &p.n, why);
	if (p.u == NULL)
		return false;
	p.out = out;
	ok = parse_list(&p);
	free((char *)p.u);
	if (!ok) {
		hdrfrom_free(out);
		*why = p.why != NULL ? p.why : "syntax error in From header";
		return false;
	}
	return true;
}

/* hdrfrom_free - release the mailboxes */
void hdrfrom_free(struct hdrfrom_list *l)
{
	size_t i;

	if (l == NULL)
		return;
	for (i = 0; i < l->count; i++) {
		free(l->mbox[i].local);
		free(l->mbox[i].domain);
		for (size_t k = 0; k < l->mbox[i].nname_domains; k++)
			free(l->mbox[i].name_domains[k]);
		free(l->mbox[i].name_domains);
	}
	free(l->mbox);
	memset(l, 0, sizeof(*l));
}

/* hdrfrom_author - exactly one mailbox with a domain DMARC can judge */
enum hdrfrom_author_status hdrfrom_author(const struct hdrfrom_list *l,
                                          const struct hdrfrom_mailbox **mb, const char **why)
{
	*mb = NULL;
	if (l == NULL || l->count == 0) {
		*why = "no address in From header";
		return HDRFROM_AUTHOR_NONE;
	}
	if (l->count > 1) {
		*why = "several addresses in From header";
		return HDRFROM_AUTHOR_SEVERAL;
	}
	if (l->mbox[0].domain_is_literal || l->mbox[0].domain == NULL) {
		*why = "From domain is an address literal";
		return HDRFROM_AUTHOR_LITERAL;
	}
	*mb = &l->mbox[0];
	return HDRFROM_AUTHOR_OK;
}
