/*
 * NAME
 *	authres 3 - RFC 8601 Authentication-Results formatting and parsing
 * SYNOPSIS
 *	#include "authres.h"
 *
 *	char *authres_format(const struct authres_input *in);
 *	bool authres_is_ours(const char *value, const char *authserv_id);
 * DESCRIPTION
 *	authres_format() builds the header value, resinfos in a fixed order
 *	(SMTP AUTH, SPF for MAIL FROM, SPF for HELO), each on its own line:
 *
 *	  mx.example.org;
 *		spf=pass smtp.mailfrom=user@example.test;
 *		spf=none smtp.helo=mail.example.test
 *
 *	folded with "\n\t" (libmilter wants bare LF; the MTA writes CRLF).
 *	With nothing to report it is "mx.example.org; none", with a comment
 *	naming the trusted network when one is given.
 *
 *	The null sender (mailfrom NULL or empty) was judged by its HELO
 *	identity (RFC 7208 section 2.4): the resinfo reads
 *	"spf=pass (null sender, HELO identity) smtp.mailfrom=postmaster@HELO".
 *	Without a usable HELO (NULL or empty) the property is left out
 *	(RFC 8601 makes propspecs optional) and the comment says
 *	"(null sender, no HELO)"; likewise "spf=... (no HELO)" for the HELO
 *	identity. An empty pvalue is never written.
 *
 *	A property value is written bare when it is an RFC 2045 token or
 *	"local-part@domain" (dot-atom local part, LDH labels); otherwise it
 *	becomes a quoted-string of its pm_escape()d form, so 8-bit and
 *	control bytes appear as \xHH (written "\\xHH" inside the quotes, as
 *	a quoted-pair keeps the backslash) and '"' as \". Comments hold
 *	pm_escape()d text with '(', ')' and '\' written as quoted-pairs.
 *	Values are capped (a cut value ends in "...") so no header line gets
 *	near the 998-byte limit. The result is pure printable ASCII plus the
 *	folding "\n\t".
 *
 *	authres_is_ours() skips CFWS (whitespace, CR, LF, nested comments),
 *	reads the authserv-id (a token ending at whitespace, ';', '(' or the
 *	end, or a quoted-string) and compares it with ours ASCII
 *	case-insensitively.
 * DIAGNOSTICS
 *	None. authres_format() never fails (allocation failure is fatal);
 *	the caller frees its result.
 */
#include <stdlib.h>
#include <string.h>

#include "authres.h"
#include "util.h"

#define PVALUE_CAP  256 /* escaped bytes of one property value */
#define COMMENT_CAP 200 /* escaped bytes of one comment */

/* is_tspecial - RFC 2045 tspecials */
static bool is_tspecial(unsigned char c)
{
	return strchr("()<>@,;:\\\"/[]?=", c) != NULL;
}

/* is_token - non-empty RFC 2045 token: printable ASCII, no space, no tspecial */
static bool is_token(const char *s, size_t n)
{
	size_t i;

	if (n == 0)
		return false;
	for (i = 0; i < n; i++) {
		unsigned char c = (unsigned char)s[i];

		if (c <= 0x20 || c >= 0x7f || is_tspecial(c))
			return false;
	}
	return true;
}

/* is_atext - RFC 5322 atext */
static bool is_atext(unsigned char c)
{
	return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
	       (c != '\0' && strchr("!#$%&'*+-/=?^_`{|}~", c) != NULL);
}

/* is_dot_atom - non-empty atext runs separated by single dots */
static bool is_dot_atom(const char *s, size_t n)
{
	size_t i;

	if (n == 0 || s[0] == '.' || s[n - 1] == '.')
		return false;
	for (i = 0; i < n; i++) {
		if (s[i] == '.') {
			if (s[i + 1] == '.')
				return false;
		} else if (!is_atext((unsigned char)s[i])) {
			return false;
		}
	}
	return true;
}

/* is_domain - labels of letters, digits, '-' and '_' (not at a label's ends), single dots */
static bool is_domain(const char *s, size_t n)
{
	size_t i, label = 0;

	if (n == 0 || n > 255)
		return false;
	for (i = 0; i < n; i++) {
		unsigned char c = (unsigned char)s[i];

		if (c == '.') {
			if (label == 0 || s[i - 1] == '-')
				return false;
			label = 0;
		} else if ((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
		           (c >= '0' && c <= '9') || c == '_' || (c == '-' && label > 0)) {
			if (++label > 63)
				return false;
		} else {
			return false;
		}
	}
	return label > 0 && s[n - 1] != '-';
}

/* is_addr_pvalue - "local-part@domain" or "@domain" with a dot-atom local part */
static bool is_addr_pvalue(const char *s, size_t n)
{
	const char *at = memchr(s, '@', n);
	size_t local;

	if (at == NULL)
		return false;
	local = (size_t)(at - s);
	return (local == 0 || is_dot_atom(s, local)) && is_domain(at + 1, n - local - 1);
}

/* append_quoted - a quoted-string of the escaped form of s */
static void append_quoted(struct strbuf *sb, const char *s, size_t cap)
{
	char *esc = xmalloc(cap + 1);
	const char *p;

	pm_escape(esc, cap + 1, s, strlen(s));
	sb_appendc(sb, '"');
	for (p = esc; *p; p++) {
		if (*p == '"' || *p == '\\')
			sb_appendc(sb, '\\');
		sb_appendc(sb, *p);
	}
	sb_appendc(sb, '"');
	free(esc);
}

/* append_pvalue - a property value: bare when it is a token or an address, else quoted */
static void append_pvalue(struct strbuf *sb, const char *s)
{
	size_t n = strlen(s);

	if (n <= PVALUE_CAP && (is_token(s, n) || is_addr_pvalue(s, n)))
		sb_appendn(sb, s, n);
	else
		append_quoted(sb, s, PVALUE_CAP);
}

/* append_comment - " (text)", escaped, with ( ) \ as quoted-pairs */
static void append_comment(struct strbuf *sb, const char *text)
{
	char esc[COMMENT_CAP + 1];
	const char *p;

	pm_escape_str(esc, sizeof(esc), text);
	sb_append(sb, " (");
	for (p = esc; *p; p++) {
		if (*p == '(' || *p == ')' || *p == '\\')
			sb_appendc(sb, '\\');
		sb_appendc(sb, *p);
	}
	sb_appendc(sb, ')');
}

/* usable - a non-empty string */
static bool usable(const char *s)
{
	return s != NULL && *s != '\0';
}

/* start_resinfo - the separator before each resinfo: ";" and a fold */
static void start_resinfo(struct strbuf *sb)
{
	sb_append(sb, ";\n\t");
}

/* add_mfrom - "spf=R [(comment)] smtp.mailfrom=V" */
static void add_mfrom(struct strbuf *sb, const struct authres_input *in)
{
	struct strbuf comment;

	sb_init(&comment);
	start_resinfo(sb);
	sb_append(sb, "spf=");
	sb_append(sb, pm_spf_result_name(in->mfrom_spf));
	if (!usable(in->mailfrom))
		sb_append(&comment,
		          usable(in->helo) ? "null sender, HELO identity" : "null sender, no HELO");
	if (usable(in->mfrom_comment)) {
		if (comment.len > 0)
			sb_append(&comment, "; ");
		sb_append(&comment, in->mfrom_comment);
	}
	if (comment.len > 0)
		append_comment(sb, comment.s);
	sb_reset(&comment);
	if (usable(in->mailfrom)) {
		sb_append(sb, " smtp.mailfrom=");
		append_pvalue(sb, in->mailfrom);
	} else if (usable(in->helo)) {
		sb_append(&comment, "postmaster@");
		sb_append(&comment, in->helo);
		sb_append(sb, " smtp.mailfrom=");
		append_pvalue(sb, comment.s);
	}
	sb_free(&comment);
}

/* add_helo - "spf=R smtp.helo=V" */
static void add_helo(struct strbuf *sb, const struct authres_input *in)
{
	start_resinfo(sb);
	sb_append(sb, "spf=");
	sb_append(sb, pm_spf_result_name(in->helo_spf));
	if (usable(in->helo)) {
		sb_append(sb, " smtp.helo=");
		append_pvalue(sb, in->helo);
	} else {
		append_comment(sb, "no HELO");
	}
}

/* authres_format - the header value; the caller frees */
char *authres_format(const struct authres_input *in)
{
	struct strbuf sb;
	bool any = false;

	sb_init(&sb);
	append_pvalue(&sb, usable(in->authserv_id) ? in->authserv_id : "localhost");
	if (in->auth_user != NULL) {
		start_resinfo(&sb);
		sb_append(&sb, "auth=pass");
		if (usable(in->auth_user)) {
			sb_append(&sb, " smtp.auth=");
			append_pvalue(&sb, in->auth_user);
		}
		any = true;
	}
	if (in->mfrom_spf != PM_SPF_UNCHECKED) {
		add_mfrom(&sb, in);
		any = true;
	}
	if (in->helo_spf != PM_SPF_UNCHECKED) {
		add_helo(&sb, in);
		any = true;
	}
	if (!any) {
		sb_append(&sb, "; none");
		if (usable(in->trusted_network)) {
			struct strbuf c;

			sb_init(&c);
			sb_append(&c, "client in trusted network ");
			sb_append(&c, in->trusted_network);
			append_comment(&sb, c.s);
			sb_free(&c);
		}
	}
	return sb_steal(&sb);
}

/* skip_cfws - past whitespace and (nested) comments; NULL on an unclosed comment */
static const char *skip_cfws(const char *p)
{
	int depth;

	for (;;) {
		while (*p == ' ' || *p == '\t' || *p == '\r' || *p == '\n')
			p++;
		if (*p != '(')
			return p;
		depth = 0;
		do {
			if (*p == '\0')
				return NULL;
			if (*p == '\\') {
				if (p[1] == '\0')
					return NULL;
				p += 2;
				continue;
			}
			if (*p == '(')
				depth++;
			else if (*p == ')')
				depth--;
			p++;
		} while (depth > 0);
	}
}

/* authres_is_ours - does the header's authserv-id equal ours (ASCII case-insensitively)? */
bool authres_is_ours(const char *value, const char *authserv_id)
{
	struct strbuf id;
	const char *p;
	bool ours;

	if (value == NULL || !usable(authserv_id))
		return false;
	p = skip_cfws(value);
	if (p == NULL)
		return false;
	sb_init(&id);
	if (*p == '"') {
		/* quoted-string: the id is its content, quoted-pairs undone */
		for (p++; *p != '"'; p++) {
			if (*p == '\0' || (*p == '\\' && p[1] == '\0')) {
				sb_free(&id);
				return false;
			}
			if (*p == '\\')
				p++;
			sb_appendc(&id, *p);
		}
	} else {
		size_t n = strcspn(p, " \t\r\n;(");

		sb_appendn(&id, p, n);
	}
	ours = id.len > 0 && pm_strcaseeq(id.s, authserv_id);
	sb_free(&id);
	return ours;
}
