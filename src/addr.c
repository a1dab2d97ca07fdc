/*
 * NAME
 *	addr 3 - RFC 5321 envelope address parsing
 * SYNOPSIS
 *	#include "addr.h"
 *
 *	enum addr_status addr_parse(const char *raw, size_t len, int flags,
 *				    struct pm_addr *out, const char **why);
 *	char *addr_format(const struct pm_addr *a, char *buf, size_t bufsize);
 *	bool addr_domain_valid(const char *d, size_t len);
 * DESCRIPTION
 *	addr_parse() reads one RFC 5321 Path (or a bare Mailbox) of exactly
 *	len bytes: "<" [ A-d-l ":" ] Mailbox ">", the brackets optional
 *	(libmilter usually hands them over). A source route is checked and
 *	dropped; what is judged is the final Mailbox. The local part is a
 *	dot-atom or a quoted-string (quoted-pairs resolved); well-formed
 *	UTF-8 is allowed in it (RFC 6531). The domain is an LDH name,
 *	lower-cased, a single trailing root dot removed, or an address
 *	literal "[192.0.2.1]" / "[IPv6:2001:db8::1]" checked with
 *	inet_pton(). Everything else is refused: NUL, CR, LF and other
 *	controls, 8-bit bytes outside the local part, spaces outside quotes,
 *	comments, unbalanced brackets or quotes, empty or over-long parts.
 *
 *	addr_format() writes "local@domain", quoting the local part again
 *	when it is not a dot-atom, so that the result parses back to the
 *	same address.
 *
 *	addr_domain_valid() checks a host name: labels of 1..63 letters,
 *	digits and hyphens, no hyphen at either end of a label, at most
 *	253 bytes, no empty label, and a top-level label that is not all
 *	digits (so "192.0.2.1" is not taken for a name). No trailing dot.
 * DIAGNOSTICS
 *	addr_parse() returns ADDR_BAD and sets *why to a static printable
 *	string; it never reads past raw + len.
 */
#include <arpa/inet.h>
#include <stdio.h>
#include <string.h>

#include "addr.h"
#include "util.h"

#define DOMAIN_NAME_MAX 253 /* text form of a 255-octet wire name */

/* is_atext - RFC 5322 atext (ASCII part; 8-bit is handled by the caller) */
static bool is_atext(unsigned char c)
{
	if ((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9'))
		return true;
	return c != '\0' && strchr("!#$%&'*+-/=?^_`{|}~", c) != NULL;
}

/* is_qtext - RFC 5321 qtextSMTP: printable ASCII but '"' and '\' (space included) */
static bool is_qtext(unsigned char c)
{
	return c >= 32 && c <= 126 && c != '"' && c != '\\';
}

/* utf8_seq_len - length of a well-formed UTF-8 sequence at s (n bytes left), 0 when bad */
static size_t utf8_seq_len(const unsigned char *s, size_t n)
{
	size_t len;

	if (s[0] >= 0xc2 && s[0] <= 0xdf)
		len = 2;
	else if (s[0] >= 0xe0 && s[0] <= 0xef)
		len = 3;
	else if (s[0] >= 0xf0 && s[0] <= 0xf4)
		len = 4;
	else
		return 0;
	if (len > n || !pm_utf8_valid(s, len))
		return 0;
	return len;
}

/* is_ldh - letter, digit or hyphen */
static bool is_ldh(unsigned char c)
{
	return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
	       c == '-';
}

/* domain_check - addr_domain_valid with a reason */
static bool domain_check(const char *d, size_t len, const char **why)
{
	size_t i, start = 0;
	bool all_digits = true;

	if (len == 0) {
		*why = "empty domain";
		return false;
	}
	if (len > DOMAIN_NAME_MAX) {
		*why = "domain too long";
		return false;
	}
	for (i = 0; i <= len; i++) {
		unsigned char c = i < len ? (unsigned char)d[i] : '.';

		if (c == '.') {
			size_t llen = i - start;

			if (llen == 0) {
				*why =
				    i == 0 ? "domain starts with a dot" : "empty label in domain";
				return false;
			}
			if (llen > 63) {
				*why = "domain label longer than 63";
				return false;
			}
			if (d[start] == '-' || d[i - 1] == '-') {
				*why = "domain label starts or ends with a hyphen";
				return false;
			}
			if (i < len)
				all_digits = true;
			start = i + 1;
			continue;
		}
		if (!is_ldh(c)) {
			*why = "invalid character in domain";
			return false;
		}
		if (c < '0' || c > '9')
			all_digits = false;
	}
	if (all_digits) {
		*why = "all-numeric top-level domain";
		return false;
	}
	return true;
}

/* addr_domain_valid - an LDH host name (labels 1..63, total <= 253, no leading/trailing hyphen) */
bool addr_domain_valid(const char *d, size_t len)
{
	const char *why;

	if (d == NULL)
		return false;
	return domain_check(d, len, &why);
}

/* parse_literal - "[...]" at s (n bytes, s[0] == '['); on success domain filled */
static bool parse_literal(const char *s, size_t n, struct pm_addr *out, const char **why)
{
	char tmp[64];
	unsigned char bin[16];
	size_t inner;
	const char *body;
	int af = AF_INET;

	if (n < 2 || s[n - 1] != ']') {
		*why = "unterminated address literal";
		return false;
	}
	body = s + 1;
	inner = n - 2;
	if (memchr(body, ']', inner) != NULL || memchr(body, '[', inner) != NULL) {
		*why = "bad address literal";
		return false;
	}
	if (inner >= 5 && strncasecmp(body, "IPv6:", 5) == 0) {
		af = AF_INET6;
		body += 5;
		inner -= 5;
	} else if (memchr(body, ':', inner) != NULL) {
		*why = "unsupported address literal tag";
		return false;
	}
	if (inner == 0 || inner >= sizeof(tmp) || memchr(body, '\0', inner) != NULL) {
		*why = "bad address literal";
		return false;
	}
	memcpy(tmp, body, inner);
	tmp[inner] = '\0';
	if (inet_pton(af, tmp, bin) != 1) {
		*why = af == AF_INET6 ? "bad IPv6 address literal" : "bad IPv4 address literal";
		return false;
	}
	pm_strlower(tmp);
	snprintf(out->domain, sizeof(out->domain), "[%s%s]", af == AF_INET6 ? "IPv6:" : "", tmp);
	out->domain_is_literal = true;
	return true;
}

/* parse_domain - the domain part at s (n bytes, to the end of the path) */
static bool parse_domain(const char *s, size_t n, struct pm_addr *out, const char **why)
{
	if (n == 0) {
		*why = "empty domain";
		return false;
	}
	if (s[0] == '[')
		return parse_literal(s, n, out, why);
	if (n > 1 && s[n - 1] == '.' && s[n - 2] != '.')
		n--; /* the root: "example.org." */
	if (!domain_check(s, n, why))
		return false;
	memcpy(out->domain, s, n);
	out->domain[n] = '\0';
	pm_strlower(out->domain);
	return true;
}

/* parse_source_route - skip "@a,@b:" at *pos; false with *why on error */
static bool parse_source_route(const char *s, size_t n, size_t *pos, const char **why)
{
	size_t i = *pos;

	for (;;) {
		size_t start;

		if (i >= n || s[i] != '@') {
			*why = "bad source route";
			return false;
		}
		start = ++i;
		while (i < n && s[i] != ',' && s[i] != ':')
			i++;
		if (i >= n) {
			*why = "bad source route";
			return false;
		}
		if (!domain_check(s + start, i - start, why)) {
			*why = "bad domain in source route";
			return false;
		}
		if (s[i++] == ':')
			break;
	}
	*pos = i;
	return true;
}

/* parse_local - the local part at s[*pos], up to '@' or the end; copied unquoted into out */
static bool parse_local(const char *s, size_t n, size_t *pos, struct pm_addr *out, const char **why)
{
	size_t i = *pos, o = 0;

	if (i < n && s[i] == '"') {
		out->local_quoted = true;
		for (i++;; i++) {
			unsigned char c;

			if (i >= n) {
				*why = "unbalanced quote in local part";
				return false;
			}
			c = (unsigned char)s[i];
			if (c == '"')
				break;
			if (c == '\\') {
				if (i + 1 >= n) {
					*why = "unbalanced quote in local part";
					return false;
				}
				c = (unsigned char)s[++i];
				if (c < 32 || c > 126) {
					*why = "invalid quoted-pair in local part";
					return false;
				}
			} else if (c >= 0x80) {
				size_t k = utf8_seq_len((const unsigned char *)s + i, n - i);

				if (k == 0) {
					*why = "invalid UTF-8 in local part";
					return false;
				}
				if (o + k > ADDR_LOCAL_MAX) {
					*why = "local part too long";
					return false;
				}
				memcpy(out->local + o, s + i, k);
				o += k;
				i += k - 1;
				continue;
			} else if (!is_qtext(c)) {
				*why = "invalid character in quoted local part";
				return false;
			}
			if (o + 1 > ADDR_LOCAL_MAX) {
				*why = "local part too long";
				return false;
			}
			out->local[o++] = (char)c;
		}
		i++; /* the closing quote */
		if (o == 0) {
			*why = "empty local part";
			return false;
		}
	} else {
		bool dot_ok = false; /* a dot may follow (an atom character came just before) */

		while (i < n && s[i] != '@') {
			unsigned char c = (unsigned char)s[i];
			size_t k = 1;

			if (c == '.') {
				if (o == 0) {
					*why = "local part starts with a dot";
					return false;
				}
				if (!dot_ok) {
					*why = "consecutive dots in local part";
					return false;
				}
				dot_ok = false;
			} else if (c >= 0x80) {
				k = utf8_seq_len((const unsigned char *)s + i, n - i);
				if (k == 0) {
					*why = "invalid UTF-8 in local part";
					return false;
				}
				dot_ok = true;
			} else if (is_atext(c)) {
				dot_ok = true;
			} else {
				*why = c == '"'                ? "misplaced quote in local part"
				       : c == ' ' || c == '\t' ? "space in address"
				       : c == '(' || c == ')'  ? "comment in address"
				       : c < 32 || c == 127    ? "control character in address"
				                               : "invalid character in local part";
				return false;
			}
			if (o + k > ADDR_LOCAL_MAX) {
				*why = "local part too long";
				return false;
			}
			memcpy(out->local + o, s + i, k);
			o += k;
			i += k;
		}
		if (o == 0) {
			*why = "empty local part";
			return false;
		}
		if (!dot_ok) {
			*why = "local part ends with a dot";
			return false;
		}
	}
	out->local[o] = '\0';
	*pos = i;
	return true;
}

/* first_bad_byte - a reason when the bytes hold NUL, CR, LF or other controls, else NULL */
static const char *first_bad_byte(const char *s, size_t n)
{
	size_t i;

	for (i = 0; i < n; i++) {
		unsigned char c = (unsigned char)s[i];

		if (c == '\0')
			return "NUL in address";
		if (c == '\r' || c == '\n')
			return "CR or LF in address";
		if (c < 32 || c == 127)
			return "control character in address";
	}
	return NULL;
}

/* addr_parse - parse one envelope path of len bytes into *out */
enum addr_status addr_parse(const char *raw, size_t len, int flags, struct pm_addr *out,
                            const char **why)
{
	const char *dummy, *bad, *s;
	size_t n, pos = 0;

	if (why == NULL)
		why = &dummy;
	*why = "";
	memset(out, 0, sizeof(*out));
	if (raw == NULL) {
		*why = "no address";
		return ADDR_BAD;
	}
	if ((bad = first_bad_byte(raw, len)) != NULL) {
		*why = bad;
		return ADDR_BAD;
	}
	s = raw;
	n = len;
	if (n > 0 && s[0] == '<') {
		if (n < 2 || s[n - 1] != '>') {
			*why = "unbalanced angle brackets";
			return ADDR_BAD;
		}
		s++;
		n -= 2;
	} else if (n > 0 && s[n - 1] == '>') {
		*why = "unbalanced angle brackets";
		return ADDR_BAD;
	}
	if (n == 0) {
		if (s == raw) {
			*why = "empty address";
			return ADDR_BAD;
		}
		if (flags & ADDR_ALLOW_NULL)
			return ADDR_NULL;
		*why = "null address not allowed here";
		return ADDR_BAD;
	}
	if (s[0] == '@') {
		if (memchr(s, ':', n) == NULL) {
			*why = "empty local part";
			return ADDR_BAD;
		}
		if (!parse_source_route(s, n, &pos, why))
			return ADDR_BAD;
		out->had_source_route = true;
	}
	if (!parse_local(s, n, &pos, out, why))
		return ADDR_BAD;
	if (pos >= n) {
		if ((flags & ADDR_ALLOW_LOCAL_ONLY) && !out->had_source_route &&
		    pm_strcaseeq(out->local, "postmaster")) {
			out->local_quoted = false;
			return ADDR_LOCAL_ONLY;
		}
		memset(out, 0, sizeof(*out));
		*why = "no domain";
		return ADDR_BAD;
	}
	if (s[pos] != '@') {
		*why = out->local_quoted ? "text after quoted local part"
		       : s[pos] == ' '   ? "space in address"
		                         : "invalid character after local part";
		memset(out, 0, sizeof(*out));
		return ADDR_BAD;
	}
	pos++;
	if (!parse_domain(s + pos, n - pos, out, why)) {
		bool route = out->had_source_route;

		memset(out, 0, sizeof(*out));
		out->had_source_route = route;
		return ADDR_BAD;
	}
	return ADDR_OK;
}

/* local_is_dot_atom - true when the local part can be written without quotes */
static bool local_is_dot_atom(const char *l)
{
	const unsigned char *p = (const unsigned char *)l;
	bool dot_ok = false;

	if (*p == '\0')
		return false;
	for (; *p; p++) {
		if (*p == '.') {
			if (!dot_ok)
				return false;
			dot_ok = false;
		} else if (*p >= 0x80 || is_atext(*p)) {
			dot_ok = true;
		} else {
			return false;
		}
	}
	return dot_ok;
}

/* addr_format - "local@domain" into buf, quoting the local part when it needs it; returns buf */
char *addr_format(const struct pm_addr *a, char *buf, size_t bufsize)
{
	struct strbuf sb;
	const char *p;

	if (buf == NULL || bufsize == 0)
		return buf;
	sb_init(&sb);
	if (a->local[0] != '\0' && !local_is_dot_atom(a->local)) {
		sb_appendc(&sb, '"');
		for (p = a->local; *p; p++) {
			if (*p == '"' || *p == '\\')
				sb_appendc(&sb, '\\');
			sb_appendc(&sb, *p);
		}
		sb_appendc(&sb, '"');
	} else {
		sb_append(&sb, a->local);
	}
	if (a->domain[0] != '\0') {
		sb_appendc(&sb, '@');
		sb_append(&sb, a->domain);
	}
	snprintf(buf, bufsize, "%s", sb.s);
	sb_free(&sb);
	return buf;
}
