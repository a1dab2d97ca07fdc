/*
 * NAME
 *	authres 3 - RFC 8601 Authentication-Results formatting and parsing
 * SYNOPSIS
 *	#include "authres.h"
 *
 *	char *authres_format(const struct authres_input *in);
 *	bool authres_is_ours(const char *value, const char *authserv_id);
 * DESCRIPTION
 *	authres_format() builds the header value, resinfos in a fixed order:
 *	iprev, SMTP AUTH, SPF for MAIL FROM, SPF for HELO, one DKIM resinfo
 *	per signature (in signature order, or "dkim=none"), DMARC:
 *
 *	  mx.example.org; iprev=pass policy.iprev=192.0.2.1 (mail.b.test);
 *		spf=pass smtp.mailfrom=a@b.test;
 *		dkim=pass header.d=b.test header.s=sel header.a=rsa-sha256
 *		header.b=AbCdEfGh; dmarc=pass (p=reject dis=none) header.from=b.test
 *
 *	Folding (bare LF, as libmilter wants; the MTA writes CRLF): the
 *	value follows "Authentication-Results: " (24 characters) on the
 *	first line. A resinfo goes after "; " on the current line when it
 *	fits there (with its own ";" when another follows) within 78
 *	characters, a TAB counting as one (RFC 5322 2.1.1); otherwise
 *	";\n\t" starts a new line for it. A resinfo longer than a line is
 *	folded between its pieces (method=result, comment, each property):
 *	a piece goes on the current line when it fits, else on the next.
 *	Pieces are never split, so a quoted-string or comment is never
 *	folded; a line is longer than 78 characters only when one piece
 *	(with its ";") is. With nothing to report the value is
 *	"mx.example.org; none", with a comment naming the trusted network
 *	when one is given. A policy_comment comes last, as a comment after
 *	the last resinfo (RFC 8601 allows CFWS there):
 *	"...; dmarc=fail (p=reject dis=reject) header.from=b.test
 *	(allowed by local policy: lists.sender.allow)".
 *
 *	The null sender (mailfrom NULL or empty) was judged by its HELO
 *	identity (RFC 7208 section 2.4): the resinfo reads
 *	"spf=pass (null sender, HELO identity) smtp.mailfrom=postmaster@HELO".
 *	Without a usable HELO (NULL or empty) the property is left out
 *	(RFC 8601 makes propspecs optional) and the comment says
 *	"(null sender, no HELO)"; likewise "spf=... (no HELO)" for the HELO
 *	identity. An empty pvalue is never written.
 *
 *	iprev: "iprev=<result> policy.iprev=<address> (<comment>)", the
 *	property and the comment each only when given (RFC 8601 appendix B
 *	writes the host name after the address, as a comment).
 *
 *	DKIM: "dkim=<result>", then "(N-bit key)" for a pass whose key size
 *	is known or "(reason)" for any other result with a reason, then
 *	header.d, header.s, header.a and header.b (at most 8 characters),
 *	each only when not empty. The signature's fixed-size fields are read
 *	no further than their arrays, terminated or not. No signature
 *	(n == 0, or no array) is "dkim=none".
 *
 *	ARC: "arc=<pass|fail|none>" (temperror written fail), a comment
 *	"i=<n> d=<domain>" of the newest set with ": <reason>" when it did not
 *	pass (the reason alone when there are no sets), smtp.remote-ip and,
 *	for a pass, header.oldest-pass when known (RFC 8617: 0 when every
 *	ARC-Message-Signature verifies, i.e. arc_result.oldest_pass 1, else
 *	oldest_pass); "arc=none" alone:
 *
 *	  arc=pass (i=2 d=lists.example) smtp.remote-ip=192.0.2.10
 *		header.oldest-pass=0
 *
 *	DMARC: "dmarc=<result>", a comment "p=<policy> dis=<disposition>"
 *	when a policy is given (dis= only with a disposition), the
 *	dmarc_comment after "; " (or alone when there is no policy), then
 *	header.from when given, then policy.dmarc when given (a rescue by a
 *	trusted ARC sealer: "dmarc=fail (p=reject dis=none; arc_override
 *	d=lists.example i=1) header.from=author.example policy.dmarc=none").
 *
 *	A property value is written bare when it is an RFC 2045 token or
 *	"local-part@domain" (dot-atom local part, LDH labels); otherwise it
 *	becomes a quoted-string of its pm_escape()d form, so 8-bit and
 *	control bytes appear as \xHH (written "\\xHH" inside the quotes, as
 *	a quoted-pair keeps the backslash) and '"' as \". Comments hold
 *	pm_escape()d text with '(', ')' and '\' written as quoted-pairs.
 *	Values are capped (a cut value ends in "...") so no header line gets
 *	near the 998-byte limit. The result is pure printable ASCII plus the
 *	folding "\n\t": nothing a sender controls can end the header or
 *	start a resinfo.
 *
 *	authres_is_ours() skips CFWS (whitespace, CR, LF, nested comments),
 *	reads the authserv-id (a token ending at whitespace, ';', '(' or the
 *	end, or a quoted-string) and compares it with ours ASCII
 *	case-insensitively.
 * DIAGNOSTICS
 *	None. authres_format() never fails (allocation failure is fatal);
 *	the caller frees its result. Result codes out of range are written
 *	"unknown".
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "authres.h"
#include "util.h"

#define PVALUE_CAP    256 /* escaped bytes of one property value */
#define COMMENT_CAP   200 /* escaped bytes of one comment */
#define FIELD_PREFIX  24  /* strlen("Authentication-Results: "), before the value */
#define LINE_MAX_COLS 78  /* RFC 5322 2.1.1 SHOULD, CRLF excluded */
#define DKIM_B_LEN    8   /* characters of b= shown as header.b */

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

/* append_comment - "(text)", escaped, with ( ) \ as quoted-pairs */
static void append_comment(struct strbuf *sb, const char *text)
{
	char esc[COMMENT_CAP + 1];
	const char *p;

	pm_escape_str(esc, sizeof(esc), text);
	sb_appendc(sb, '(');
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

/*
 * The value is gathered as resinfos made of pieces, then laid out:
 * a piece (method=result, a comment, a property) is never split.
 */
struct resinfo {
	char **piece;
	size_t n, cap;
};

struct ar_doc {
	struct resinfo *ri;
	size_t n, cap;
};

/* doc_resinfo - start a new resinfo in d */
static void doc_resinfo(struct ar_doc *d)
{
	if (d->n == d->cap) {
		d->cap = d->cap ? 2 * d->cap : 8;
		d->ri = xrealloc(d->ri, d->cap * sizeof(*d->ri));
	}
	memset(&d->ri[d->n++], 0, sizeof(*d->ri));
}

/* doc_take - add piece s (malloc'd; d owns it now) to the current resinfo */
static void doc_take(struct ar_doc *d, char *s)
{
	struct resinfo *r = &d->ri[d->n - 1];

	if (r->n == r->cap) {
		r->cap = r->cap ? 2 * r->cap : 8;
		r->piece = xrealloc(r->piece, r->cap * sizeof(*r->piece));
	}
	r->piece[r->n++] = s;
}

/* doc_method - start a resinfo with its "method=result" piece */
static void doc_method(struct ar_doc *d, const char *method, const char *result)
{
	struct strbuf sb;

	doc_resinfo(d);
	sb_init(&sb);
	sb_append(&sb, method);
	sb_appendc(&sb, '=');
	sb_append(&sb, result);
	doc_take(d, sb_steal(&sb));
}

/* doc_comment - a "(text)" piece */
static void doc_comment(struct ar_doc *d, const char *text)
{
	struct strbuf sb;

	sb_init(&sb);
	append_comment(&sb, text);
	doc_take(d, sb_steal(&sb));
}

/* doc_prop - a "ptype.property=pvalue" piece; nothing when value is NULL or empty */
static void doc_prop(struct ar_doc *d, const char *name, const char *value)
{
	struct strbuf sb;

	if (!usable(value))
		return;
	sb_init(&sb);
	sb_append(&sb, name);
	sb_appendc(&sb, '=');
	append_pvalue(&sb, value);
	doc_take(d, sb_steal(&sb));
}

/* doc_prop_field - doc_prop for a fixed-size field, read at most max bytes */
static void doc_prop_field(struct ar_doc *d, const char *name, const char *field, size_t max)
{
	char *v = xstrndup(field, strnlen(field, max));

	doc_prop(d, name, v);
	free(v);
}

/* doc_free - release d and every piece */
static void doc_free(struct ar_doc *d)
{
	for (size_t i = 0; i < d->n; i++) {
		for (size_t j = 0; j < d->ri[i].n; j++)
			free(d->ri[i].piece[j]);
		free(d->ri[i].piece);
	}
	free(d->ri);
}

/* resinfo_width - the resinfo on one line: its pieces and a space between each two */
static size_t resinfo_width(const struct resinfo *r)
{
	size_t w = 0;

	for (size_t j = 0; j < r->n; j++)
		w += strlen(r->piece[j]) + (j > 0);
	return w;
}

/* fold - start a new line: LF, then a TAB (one column) */
static void fold(struct strbuf *sb, size_t *col)
{
	sb_append(sb, "\n\t");
	*col = 1;
}

/* layout - the authserv-id, then each resinfo after "; ", folded (see above) */
static void layout(struct strbuf *sb, const char *authserv_id, const struct ar_doc *d)
{
	size_t col = FIELD_PREFIX;

	append_pvalue(sb, authserv_id);
	col += sb->len;
	for (size_t i = 0; i < d->n; i++) {
		const struct resinfo *r = &d->ri[i];
		size_t tail = i + 1 < d->n; /* the ";" that will follow */
		bool line_start = false;

		sb_appendc(sb, ';');
		col++;
		if (col + 1 + resinfo_width(r) + tail > LINE_MAX_COLS) {
			fold(sb, &col);
			line_start = true;
		}
		for (size_t j = 0; j < r->n; j++) {
			size_t len = strlen(r->piece[j]);
			size_t need = len + (j + 1 == r->n ? tail : 0);

			if (!line_start) {
				if (col + 1 + need > LINE_MAX_COLS) {
					fold(sb, &col);
				} else {
					sb_appendc(sb, ' ');
					col++;
				}
			}
			sb_append(sb, r->piece[j]);
			col += len;
			line_start = false;
		}
	}
}

/* add_mfrom - "spf=R [(comment)] smtp.mailfrom=V" */
static void add_mfrom(struct ar_doc *d, const struct authres_input *in)
{
	struct strbuf sb;

	doc_method(d, "spf", pm_spf_result_name(in->mfrom_spf));
	sb_init(&sb);
	if (!usable(in->mailfrom))
		sb_append(&sb,
		          usable(in->helo) ? "null sender, HELO identity" : "null sender, no HELO");
	if (usable(in->mfrom_comment)) {
		if (sb.len > 0)
			sb_append(&sb, "; ");
		sb_append(&sb, in->mfrom_comment);
	}
	if (sb.len > 0)
		doc_comment(d, sb.s);
	sb_reset(&sb);
	if (usable(in->mailfrom)) {
		doc_prop(d, "smtp.mailfrom", in->mailfrom);
	} else if (usable(in->helo)) {
		sb_append(&sb, "postmaster@");
		sb_append(&sb, in->helo);
		doc_prop(d, "smtp.mailfrom", sb.s);
	}
	sb_free(&sb);
}

/* add_helo - "spf=R smtp.helo=V" */
static void add_helo(struct ar_doc *d, const struct authres_input *in)
{
	doc_method(d, "spf", pm_spf_result_name(in->helo_spf));
	if (usable(in->helo))
		doc_prop(d, "smtp.helo", in->helo);
	else
		doc_comment(d, "no HELO");
}

/* add_iprev - "iprev=R [policy.iprev=ADDR] [(comment)]" */
static void add_iprev(struct ar_doc *d, const struct authres_input *in)
{
	doc_method(d, "iprev", pm_iprev_result_name(in->iprev));
	doc_prop(d, "policy.iprev", in->iprev_ip);
	if (usable(in->iprev_comment))
		doc_comment(d, in->iprev_comment);
}

/* add_dkim - one "dkim=" resinfo per signature, or "dkim=none" */
static void add_dkim(struct ar_doc *d, const struct dkim_results *res)
{
	if (res->n == 0 || res->sig == NULL) {
		doc_method(d, "dkim", "none");
		return;
	}
	for (size_t i = 0; i < res->n; i++) {
		const struct dkim_sig_result *s = &res->sig[i];
		char reason[sizeof(s->reason) + 1];

		doc_method(d, "dkim", pm_dkim_result_name(s->result));
		if (s->result == PM_DKIM_PASS) {
			if (s->key_bits > 0) {
				snprintf(reason, sizeof(reason), "%u-bit key", s->key_bits);
				doc_comment(d, reason);
			}
		} else {
			memcpy(reason, s->reason, sizeof(s->reason));
			reason[sizeof(s->reason)] = '\0';
			if (usable(reason))
				doc_comment(d, reason);
		}
		doc_prop_field(d, "header.d", s->domain, sizeof(s->domain));
		doc_prop_field(d, "header.s", s->selector, sizeof(s->selector));
		doc_prop_field(d, "header.a", s->algorithm, sizeof(s->algorithm));
		doc_prop_field(d, "header.b", s->b, DKIM_B_LEN);
	}
}

/* add_arc - "arc=R [(i=N d=D[: reason])] smtp.remote-ip=IP [header.oldest-pass=K]" */
static void add_arc(struct ar_doc *d, const struct authres_input *in)
{
	const struct arc_result *r = in->arc;
	const char *result = r->result == PM_ARC_PASS   ? "pass"
	                     : r->result == PM_ARC_NONE ? "none"
	                                                : "fail"; /* fail, temperror */
	char reason[sizeof(r->reason) + 1], num[16];
	struct strbuf sb;

	doc_method(d, "arc", result);
	if (r->result == PM_ARC_NONE)
		return;
	memcpy(reason, r->reason, sizeof(r->reason));
	reason[sizeof(r->reason)] = '\0';
	sb_init(&sb);
	if (r->n > 0 && r->set != NULL) {
		const struct arc_set *newest = &r->set[r->n - 1];

		sb_appendf(&sb, "i=%u d=%.*s", newest->instance,
		           (int)strnlen(newest->domain, sizeof(newest->domain)), newest->domain);
	}
	if (r->result != PM_ARC_PASS) {
		if (r->result == PM_ARC_TEMPERROR && !usable(reason))
			snprintf(reason, sizeof(reason), "temporary failure");
		if (usable(reason)) {
			if (sb.len > 0)
				sb_append(&sb, ": ");
			sb_append(&sb, reason);
		}
	}
	if (sb.len > 0)
		doc_comment(d, sb.s);
	sb_free(&sb);
	doc_prop(d, "smtp.remote-ip", in->arc_remote_ip);
	if (r->result == PM_ARC_PASS && r->oldest_pass > 0) {
		/* RFC 8617: 0 when every AMS verifies (oldest_pass 1 here) */
		snprintf(num, sizeof(num), "%u", r->oldest_pass == 1 ? 0U : r->oldest_pass);
		doc_prop(d, "header.oldest-pass", num);
	}
}

/* add_word - " name=value" into sb when value is usable */
static void add_word(struct strbuf *sb, const char *name, const char *value)
{
	if (!usable(value))
		return;
	sb_append(sb, " ");
	sb_append(sb, name);
	sb_append(sb, "=");
	sb_append(sb, value);
}

/* add_dmarc - "dmarc=R [(p=P [sp=S|np=N] [t=y] [dis=D] [pdomain=X][; comment])] [header.from=V]" */
static void add_dmarc(struct ar_doc *d, const struct authres_input *in)
{
	struct strbuf sb;

	doc_method(d, "dmarc", pm_dmarc_result_name(in->dmarc));
	sb_init(&sb);
	if (usable(in->dmarc_policy)) {
		sb_append(&sb, "p=");
		sb_append(&sb, in->dmarc_policy);
		add_word(&sb, "sp", in->dmarc_sp);
		add_word(&sb, "np", in->dmarc_np);
		add_word(&sb, "t", in->dmarc_testing ? "y" : NULL);
		add_word(&sb, "dis", in->dmarc_disposition);
		add_word(&sb, "pdomain", in->dmarc_pdomain);
	}
	if (usable(in->dmarc_comment)) {
		if (sb.len > 0)
			sb_append(&sb, "; ");
		sb_append(&sb, in->dmarc_comment);
	}
	if (sb.len > 0)
		doc_comment(d, sb.s);
	sb_free(&sb);
	doc_prop(d, "header.from", in->header_from);
	doc_prop(d, "policy.dmarc", in->dmarc_policy_prop);
}

/* authres_format - the header value; the caller frees */
char *authres_format(const struct authres_input *in)
{
	struct ar_doc d = {0};
	struct strbuf sb;

	if (in->iprev != PM_IPREV_UNCHECKED)
		add_iprev(&d, in);
	if (in->auth_user != NULL) {
		doc_method(&d, "auth", "pass");
		doc_prop(&d, "smtp.auth", in->auth_user);
	}
	if (in->mfrom_spf != PM_SPF_UNCHECKED)
		add_mfrom(&d, in);
	if (in->helo_spf != PM_SPF_UNCHECKED)
		add_helo(&d, in);
	if (in->dkim != NULL)
		add_dkim(&d, in->dkim);
	if (in->arc != NULL)
		add_arc(&d, in);
	if (in->dmarc != PM_DMARC_UNCHECKED)
		add_dmarc(&d, in);
	if (d.n == 0) {
		doc_resinfo(&d);
		doc_take(&d, xstrdup("none"));
		if (usable(in->trusted_network)) {
			sb_init(&sb);
			sb_append(&sb, "client in trusted network ");
			sb_append(&sb, in->trusted_network);
			doc_comment(&d, sb.s);
			sb_free(&sb);
		}
	}
	if (usable(in->policy_comment))
		doc_comment(&d, in->policy_comment); /* the last resinfo's last piece */
	sb_init(&sb);
	layout(&sb, usable(in->authserv_id) ? in->authserv_id : "localhost", &d);
	doc_free(&d);
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
