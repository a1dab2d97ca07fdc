/*
 * NAME
 *	test_authres - unit tests for authres.c
 * DESCRIPTION
 *	Tables of cases: Authentication-Results values for each result,
 *	order and folding, the null sender, trusted networks, SMTP AUTH,
 *	hostile HELO and MAIL FROM values (CR, LF, 8-bit, quotes,
 *	parentheses, backslashes, 1000-byte local parts); DKIM (every
 *	result, several signatures, none, hostile d=/s=/a=/b= and reasons,
 *	full fields without a NUL) and DMARC (every result, policy,
 *	disposition, comment, header.from); iprev (every result, first,
 *	policy.iprev with an IPv4 address bare and an IPv6 one quoted, the
 *	name or reason as a comment, hostile names); the folding rule checked on
 *	every value (check_folding) and across authserv-id lengths 1..100;
 *	and which existing headers authres_is_ours() claims, including
 *	our own output.
 * DIAGNOSTICS
 *	cmocka; each failure prints "got X, want Y".
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "authres.h"
#include "util.h"

#define ID "mx.example.org"

/* check_printable - pure printable ASCII, with "\n\t" folds only, lines under 998 */
static void check_printable(size_t i, const char *s)
{
	size_t line = 0;

	for (size_t k = 0; s[k]; k++, line++) {
		unsigned char c = (unsigned char)s[k];
		if (c == '\n') {
			if (s[k + 1] != '\t')
				fail_msg("case %zu: LF at %zu not followed by TAB in %s", i, k, s);
			line = 0;
			continue;
		}
		if (c == '\t' && k > 0 && s[k - 1] == '\n')
			continue;
		if (c < 0x20 || c > 0x7e)
			fail_msg("case %zu: byte %zu is 0x%02x, want printable", i, k, c);
		if (line > 900)
			fail_msg("case %zu: line longer than 900 bytes", i);
	}
}

#define PREFIX   24 /* strlen("Authentication-Results: ") */
#define MAX_COLS 78

/* toplevel - top[i]: is s[i] outside every quoted-string and comment? false when unbalanced */
static bool toplevel(const char *s, bool *top)
{
	int depth = 0;
	bool quoted = false;

	for (size_t i = 0; s[i]; i++) {
		top[i] = false;
		if ((quoted || depth > 0) && s[i] == '\\') {
			if (s[i + 1] == '\0')
				return false;
			top[++i] = false;
		} else if (quoted) {
			quoted = s[i] != '"';
		} else if (depth > 0) {
			depth += s[i] == '(' ? 1 : s[i] == ')' ? -1 : 0;
		} else if (s[i] == '"') {
			quoted = true;
		} else if (s[i] == '(') {
			depth = 1;
		} else {
			top[i] = s[i] != ')';
		}
	}
	return !quoted && depth == 0;
}

/* next_top - index of the first top-level byte of stop in u from i on (or its length) */
static size_t next_top(const char *u, const bool *top, size_t i, const char *stop)
{
	while (u[i] && !(top[i] && strchr(stop, u[i])))
		i++;
	return i;
}

/*
 * check_folding - v obeys the folding rule: folds ("\n\t") only at top
 * level; nres top-level ";" (one per resinfo; SIZE_MAX: any number), each followed by a space
 * or a fold; a line over 78 columns (the first counting the field
 * name) is a single piece; and each fold was needed: after ";" the
 * whole next resinfo (and its ";") did not fit on the line before, elsewhere
 * the next piece (and its ";") did not.
 */
static void check_folding(const char *what, size_t i, const char *v, size_t nres)
{
	size_t n = strlen(v), nsemi = 0, p, k, q, width, start;
	char *u = xmalloc(n + 1);
	bool *top = xcalloc(n + 1, sizeof(*top));
	size_t *fold_at = xcalloc(n + 1, sizeof(*fold_at)),
	       *fold_w = xcalloc(n + 1, sizeof(*fold_w));
	size_t nfold = 0;

	/* unfold, remembering where each fold was and how wide its line was */
	for (k = 0, p = 0, start = 0; k < n; k++) {
		if (v[k] == '\n') {
			fold_w[nfold] = (start == 0 ? PREFIX : 0) + (k - start);
			fold_at[nfold++] = p;
			u[p++] = ' ';
			start = ++k; /* the TAB counts as one column */
			continue;
		}
		u[p++] = v[k];
	}
	u[p] = '\0';
	width = (start == 0 ? PREFIX : 0) + (n - start);
	if (!toplevel(u, top))
		fail_msg("%s case %zu: unbalanced quotes or comments in %s", what, i, v);
	for (k = 0; u[k]; k++) {
		if (top[k] && u[k] == ';') {
			nsemi++;
			if (u[k + 1] != ' ')
				fail_msg("%s case %zu: ';' at %zu not followed by a space in %s",
				         what, i, k, v);
		}
	}
	if (nres != SIZE_MAX && nsemi != nres)
		fail_msg("%s case %zu: got %zu resinfos, want %zu in %s", what, i, nsemi, nres, v);
	/* each line: within 78 columns, or a single piece */
	for (k = 0; k <= nfold; k++) {
		size_t w = k < nfold ? fold_w[k] : width;
		size_t from = k == 0 ? 0 : fold_at[k - 1] + 1, to = k < nfold ? fold_at[k] : p;

		if (k < nfold && !top[fold_at[k]])
			fail_msg("%s case %zu: fold inside a quoted-string or comment in %s", what,
			         i, v);
		if (w > MAX_COLS && next_top(u, top, from, " ") < to)
			fail_msg("%s case %zu: line %zu is %zu columns, and not one piece, in %s",
			         what, i, k + 1, w, v);
	}
	/* each fold: needed */
	for (k = 0; k < nfold; k++) {
		size_t at = fold_at[k], len, tail;

		if (at > 0 && u[at - 1] == ';') {
			q = next_top(u, top, at + 1, ";");
			len = q - (at + 1);
		} else {
			q = next_top(u, top, at + 1, " ;");
			len = q - (at + 1);
		}
		tail = u[q] == ';';
		if (fold_w[k] + 1 + len + tail <= MAX_COLS)
			fail_msg("%s case %zu: needless fold %zu (line of %zu, then %zu) in %s",
			         what, i, k + 1, fold_w[k], len + tail, v);
	}
	free(u);
	free(top);
	free(fold_at);
	free(fold_w);
}

/* check_value - got equals want, printable, folded by the rule, with nres resinfos */
static void check_value(const char *what, size_t i, const char *got, const char *want, size_t nres)
{
	if (strcmp(got, want) != 0)
		fail_msg("%s case %zu:\n got  %s\n want %s", what, i, got, want);
	check_printable(i, got);
	check_folding(what, i, got, nres);
}

/* test_format - the header values */
static void test_format(void **state)
{
	(void)state;
	static const struct {
		struct authres_input in;
		const char *want;
	} cases[] = {
	    /* nothing to say */
	    {{.authserv_id = ID}, ID "; none"},
	    {{.authserv_id = ID, .trusted_network = "127.0.0.0/8"},
	     ID ";\n\tnone (client in trusted network 127.0.0.0/8)"},
	    /* the usual pair: mailfrom first, then helo */
	    {{.authserv_id = ID,
	      .mfrom_spf = PM_SPF_PASS,
	      .mailfrom = "user@example.test",
	      .helo_spf = PM_SPF_NONE,
	      .helo = "mail.example.test"},
	     ID ";\n\tspf=pass smtp.mailfrom=user@example.test;\n\tspf=none "
	        "smtp.helo=mail.example.test"},
	    /* every result spelling */
	    {{.authserv_id = ID, .mfrom_spf = PM_SPF_FAIL, .mailfrom = "a@b.test"},
	     ID "; spf=fail smtp.mailfrom=a@b.test"},
	    {{.authserv_id = ID, .mfrom_spf = PM_SPF_SOFTFAIL, .mailfrom = "a@b.test"},
	     ID "; spf=softfail smtp.mailfrom=a@b.test"},
	    {{.authserv_id = ID, .mfrom_spf = PM_SPF_NEUTRAL, .mailfrom = "a@b.test"},
	     ID "; spf=neutral smtp.mailfrom=a@b.test"},
	    {{.authserv_id = ID, .mfrom_spf = PM_SPF_TEMPERROR, .mailfrom = "a@b.test"},
	     ID "; spf=temperror smtp.mailfrom=a@b.test"},
	    {{.authserv_id = ID,
	      .mfrom_spf = PM_SPF_PERMERROR,
	      .mailfrom = "a@b.test",
	      .mfrom_comment = "void lookup limit exceeded"},
	     ID ";\n\tspf=permerror (void lookup limit exceeded) smtp.mailfrom=a@b.test"},
	    /* trusted network comment only when nothing else */
	    {{.authserv_id = ID,
	      .trusted_network = "127.0.0.0/8",
	      .helo_spf = PM_SPF_PASS,
	      .helo = "h.test"},
	     ID "; spf=pass smtp.helo=h.test"},
	    /* SMTP AUTH first */
	    {{.authserv_id = ID,
	      .auth_user = "alice",
	      .mfrom_spf = PM_SPF_NONE,
	      .mailfrom = "alice@example.org"},
	     ID "; auth=pass smtp.auth=alice;\n\tspf=none smtp.mailfrom=alice@example.org"},
	    {{.authserv_id = ID, .auth_user = "alice@example.org"},
	     ID "; auth=pass smtp.auth=alice@example.org"},
	    {{.authserv_id = ID, .auth_user = "al ice"}, ID "; auth=pass smtp.auth=\"al ice\""},
	    {{.authserv_id = ID, .auth_user = ""}, ID "; auth=pass"},
	    /* null sender: judged by HELO */
	    {{.authserv_id = ID,
	      .mfrom_spf = PM_SPF_PASS,
	      .mailfrom = NULL,
	      .helo = "mail.example.test",
	      .helo_spf = PM_SPF_PASS},
	     ID ";\n\tspf=pass (null sender, HELO identity)\n\t"
	        "smtp.mailfrom=postmaster@mail.example.test;\n\tspf=pass "
	        "smtp.helo=mail.example.test"},
	    {{.authserv_id = ID, .mfrom_spf = PM_SPF_NONE, .mailfrom = "", .helo = "h.test"},
	     ID ";\n\tspf=none (null sender, HELO identity) smtp.mailfrom=postmaster@h.test"},
	    {{.authserv_id = ID,
	      .mfrom_spf = PM_SPF_NONE,
	      .mailfrom = NULL,
	      .helo = "h.test",
	      .mfrom_comment = "x"},
	     ID ";\n\tspf=none (null sender, HELO identity; x) smtp.mailfrom=postmaster@h.test"},
	    /* null sender without a usable HELO: no empty pvalue */
	    {{.authserv_id = ID, .mfrom_spf = PM_SPF_NONE, .mailfrom = NULL, .helo = NULL},
	     ID "; spf=none (null sender, no HELO)"},
	    {{.authserv_id = ID, .mfrom_spf = PM_SPF_NONE, .mailfrom = NULL, .helo = ""},
	     ID "; spf=none (null sender, no HELO)"},
	    {{.authserv_id = ID, .helo_spf = PM_SPF_NONE, .helo = ""}, ID "; spf=none (no HELO)"},
	    /* address-literal HELO: not a token, quoted */
	    {{.authserv_id = ID, .helo_spf = PM_SPF_NONE, .helo = "[192.0.2.1]"},
	     ID "; spf=none smtp.helo=\"[192.0.2.1]\""},
	    {{.authserv_id = ID, .mfrom_spf = PM_SPF_NONE, .helo = "[192.0.2.1]"},
	     ID ";\n\tspf=none (null sender, HELO identity) "
	        "smtp.mailfrom=\"postmaster@[192.0.2.1]\""},
	    /* hostile HELO values */
	    {{.authserv_id = ID, .helo_spf = PM_SPF_FAIL, .helo = "evil\r\nX-Spam: no"},
	     ID ";\n\tspf=fail smtp.helo=\"evil\\\\x0d\\\\x0aX-Spam: no\""},
	    {{.authserv_id = ID, .helo_spf = PM_SPF_FAIL, .helo = "a;spf=pass"},
	     ID "; spf=fail smtp.helo=\"a;spf=pass\""},
	    {{.authserv_id = ID, .helo_spf = PM_SPF_FAIL, .helo = "x\"y\\z"},
	     ID "; spf=fail smtp.helo=\"x\\\"y\\\\x5cz\""},
	    {{.authserv_id = ID, .helo_spf = PM_SPF_FAIL, .helo = "h\xc3\xa4.test"},
	     ID "; spf=fail smtp.helo=\"h\\\\xc3\\\\xa4.test\""},
	    {{.authserv_id = ID, .helo_spf = PM_SPF_FAIL, .helo = "(x)"},
	     ID "; spf=fail smtp.helo=\"(x)\""},
	    /* a plain token HELO (not a domain) stays bare */
	    {{.authserv_id = ID, .helo_spf = PM_SPF_NONE, .helo = "localhost"},
	     ID "; spf=none smtp.helo=localhost"},
	    /* hostile MAIL FROM values (the odd syntax) */
	    {{.authserv_id = ID, .mfrom_spf = PM_SPF_FAIL, .mailfrom = "x@c.test'@d.test"},
	     ID ";\n\tspf=fail smtp.mailfrom=\"x@c.test'@d.test\""},
	    {{.authserv_id = ID, .mfrom_spf = PM_SPF_FAIL, .mailfrom = "x@c.test(comment"},
	     ID ";\n\tspf=fail smtp.mailfrom=\"x@c.test(comment\""},
	    {{.authserv_id = ID, .mfrom_spf = PM_SPF_FAIL, .mailfrom = "\"a b\"@d.test"},
	     ID ";\n\tspf=fail smtp.mailfrom=\"\\\"a b\\\"@d.test\""},
	    {{.authserv_id = ID, .mfrom_spf = PM_SPF_FAIL, .mailfrom = "a..b@d.test"},
	     ID "; spf=fail smtp.mailfrom=\"a..b@d.test\""},
	    {{.authserv_id = ID, .mfrom_spf = PM_SPF_FAIL, .mailfrom = "a@d.test\n"},
	     ID "; spf=fail smtp.mailfrom=\"a@d.test\\\\x0a\""},
	    {{.authserv_id = ID,
	      .mfrom_spf = PM_SPF_PASS,
	      .mailfrom = "first.last+tag@sub.d-x.test"},
	     ID ";\n\tspf=pass smtp.mailfrom=first.last+tag@sub.d-x.test"},
	    {{.authserv_id = ID, .mfrom_spf = PM_SPF_PASS, .mailfrom = "a@-d.test"},
	     ID "; spf=pass smtp.mailfrom=\"a@-d.test\""},
	    /* hostile comment: parentheses and backslashes as quoted-pairs */
	    {{.authserv_id = ID,
	      .mfrom_spf = PM_SPF_PERMERROR,
	      .mailfrom = "a@b.test",
	      .mfrom_comment = "bad (x) \\ \r\n"},
	     ID ";\n\tspf=permerror (bad \\(x\\) \\\\x5c \\\\x0d\\\\x0a) smtp.mailfrom=a@b.test"},
	    {{.authserv_id = ID, .trusted_network = "::1/128 (x"},
	     ID ";\n\tnone (client in trusted network ::1/128 \\(x)"},
	    /* a strange or missing authserv-id */
	    {{.authserv_id = "my id"}, "\"my id\"; none"},
	    {{.authserv_id = NULL}, "localhost; none"},
	};
	for (size_t i = 0; i < PM_ARRAY_LEN(cases); i++) {
		char *got = authres_format(&cases[i].in);
		if (strcmp(got, cases[i].want) != 0)
			fail_msg("case %zu:\n got  %s\n want %s", i, got, cases[i].want);
		check_printable(i, got);
		check_folding("format", i, got, SIZE_MAX);
		free(got);
	}
}

/* test_long - a 1000-byte local part and an 8-bit flood stay within line limits */
static void test_long(void **state)
{
	(void)state;
	char local[1000 + sizeof("@example.test")];
	memset(local, 'a', 1000);
	strcpy(local + 1000, "@example.test");
	char flood[2000];
	for (size_t i = 0; i < sizeof(flood) - 1; i++)
		flood[i] = (char)(0x80 + i % 128);
	flood[sizeof(flood) - 1] = '\0';
	struct authres_input in = {
	    .authserv_id = ID,
	    .mfrom_spf = PM_SPF_FAIL,
	    .mailfrom = local,
	    .mfrom_comment = flood,
	    .helo_spf = PM_SPF_FAIL,
	    .helo = flood,
	    .auth_user = flood,
	};
	char *got = authres_format(&in);
	check_printable(0, got);
	check_folding("long", 0, got, 3);
	if (strstr(got, "...\"") == NULL)
		fail_msg("long values: got %s, want a value cut with ...", got);
	free(got);
}

/* Signature shorthand: result, d=, s=, a=, b=, reason, key bits */
#define SIG(r_, d_, s_, a_, b_, why_, bits_)                                                       \
	{                                                                                          \
		.result = (r_), .domain = d_, .selector = s_, .algorithm = a_, .b = b_,            \
		.reason = why_, .key_bits = (bits_)                                                \
	}
/* DKIM - a struct dkim_results of n signatures */
#define DKIM(n_, ...)                                                                              \
	(&(const struct dkim_results){                                                             \
	    .n = (n_), .total = (n_), .sig = (struct dkim_sig_result[]){__VA_ARGS__}})

/* test_dkim - dkim= resinfos: every result, comments, properties, order */
static void test_dkim(void **state)
{
	(void)state;
	const struct {
		const struct dkim_results *dkim;
		const char *want;
		size_t nres;
	} cases[] = {
	    /* pass: no comment without a key size, the four properties in order */
	    {DKIM(1, SIG(PM_DKIM_PASS, "b.test", "sel", "rsa-sha256", "AbCdEfGh", "", 0)),
	     ID ";\n\tdkim=pass header.d=b.test header.s=sel header.a=rsa-sha256 header.b=AbCdEfGh",
	     1},
	    /* pass with the key size; too long for one line: folded between properties */
	    {DKIM(1, SIG(PM_DKIM_PASS, "b.test", "sel", "rsa-sha256", "AbCdEfGh", "", 2048)),
	     ID ";\n\tdkim=pass (2048-bit key) header.d=b.test header.s=sel header.a=rsa-sha256\n\t"
	        "header.b=AbCdEfGh",
	     1},
	    /* a pass never shows its reason */
	    {DKIM(1, SIG(PM_DKIM_PASS, "g.test", "", "", "", "ignored", 0)),
	     ID "; dkim=pass header.d=g.test", 1},
	    /* fail: the reason as a comment */
	    {DKIM(1, SIG(PM_DKIM_FAIL, "c.test", "s2", "ed25519-sha256", "12345678",
	                 "body hash mismatch", 0)),
	     ID ";\n\tdkim=fail (body hash mismatch) header.d=c.test header.s=s2\n\t"
	        "header.a=ed25519-sha256 header.b=12345678",
	     1},
	    /* key bits only for pass; no reason, no comment */
	    {DKIM(1, SIG(PM_DKIM_FAIL, "f.test", "", "", "", "", 1024)),
	     ID "; dkim=fail header.d=f.test", 1},
	    /* policy: exactly 78 columns fit on the first line, 79 do not */
	    {DKIM(1, SIG(PM_DKIM_POLICY, "d.test", "", "", "", "rsa-sha1", 1024)),
	     ID "; dkim=policy (rsa-sha1) header.d=d.test", 1},
	    {DKIM(1, SIG(PM_DKIM_POLICY, "dd.test", "", "", "", "rsa-sha1", 1024)),
	     ID ";\n\tdkim=policy (rsa-sha1) header.d=dd.test", 1},
	    /* neutral: a malformed signature may have no d= at all: no empty pvalue */
	    {DKIM(1, SIG(PM_DKIM_NEUTRAL, "", "", "", "", "missing d= tag", 0)),
	     ID "; dkim=neutral (missing d= tag)", 1},
	    {DKIM(1, SIG(PM_DKIM_TEMPERROR, "t.test", "k1", "rsa-sha256", "QUJD",
	                 "key lookup timed out", 0)),
	     ID ";\n\tdkim=temperror (key lookup timed out) header.d=t.test header.s=k1\n\t"
	        "header.a=rsa-sha256 header.b=QUJD",
	     1},
	    {DKIM(1, SIG(PM_DKIM_PERMERROR, "p.test", "x", "", "", "no key", 0)),
	     ID ";\n\tdkim=permerror (no key) header.d=p.test header.s=x", 1},
	    /* a result code out of range */
	    {DKIM(1, SIG((enum pm_dkim_result)99, "u.test", "", "", "", "x", 0)),
	     ID "; dkim=unknown (x) header.d=u.test", 1},
	    /* header.b: '/' is a tspecial (quoted), '+' is not */
	    {DKIM(1, SIG(PM_DKIM_PASS, "b.test", "", "", "ab/cd+ef", "", 0)),
	     ID ";\n\tdkim=pass header.d=b.test header.b=\"ab/cd+ef\"", 1},
	    {DKIM(1, SIG(PM_DKIM_PASS, "", "", "", "ab+cdefg", "", 0)),
	     ID "; dkim=pass header.b=ab+cdefg", 1},
	    /* several signatures, in order, packed onto lines */
	    {DKIM(3, SIG(PM_DKIM_PASS, "b.test", "", "", "", "", 0),
	          SIG(PM_DKIM_FAIL, "c.test", "", "", "", "bad", 0),
	          SIG(PM_DKIM_TEMPERROR, "t.test", "", "", "", "timeout", 0)),
	     ID "; dkim=pass header.d=b.test;\n\tdkim=fail (bad) header.d=c.test; dkim=temperror "
	        "(timeout) header.d=t.test",
	     3},
	    /* the last piece ends at column 78 exactly */
	    {DKIM(1, SIG(PM_DKIM_FAIL, "signing-domain-of-some-length-xx.test", "", "", "",
	                 "body hash mismatch", 0)),
	     ID
	     ";\n\tdkim=fail (body hash mismatch) header.d=signing-domain-of-some-length-xx.test",
	     1},
	    /* no signature */
	    {&(const struct dkim_results){.n = 0, .total = 0, .sig = NULL}, ID "; dkim=none", 1},
	    {&(const struct dkim_results){.n = 2, .total = 2, .sig = NULL}, ID "; dkim=none", 1},
	    /* hostile d=, s=, a=, b= and reasons: quoted, escaped, one resinfo each */
	    {DKIM(1, SIG(PM_DKIM_PASS, "legit.test(.evil.test", "", "", "", "", 0)),
	     ID ";\n\tdkim=pass header.d=\"legit.test(.evil.test\"", 1},
	    {DKIM(1,
	          SIG(PM_DKIM_FAIL, "x.test; dkim=pass header.d=paypal.test", "", "", "", "", 0)),
	     ID ";\n\tdkim=fail header.d=\"x.test; dkim=pass header.d=paypal.test\"", 1},
	    {DKIM(1, SIG(PM_DKIM_FAIL, "a.test\r\nX-Evil: 1", "", "", "", "", 0)),
	     ID ";\n\tdkim=fail header.d=\"a.test\\\\x0d\\\\x0aX-Evil: 1\"", 1},
	    {DKIM(1, SIG(PM_DKIM_PASS,
	                 "a\x01"
	                 "b\xff"
	                 "c.test",
	                 "", "", "", "", 0)),
	     ID ";\n\tdkim=pass header.d=\"a\\\\x01b\\\\xffc.test\"", 1},
	    {DKIM(1, SIG(PM_DKIM_FAIL, "h.test", "", "", "", "bad (sig\r\n", 0)),
	     ID ";\n\tdkim=fail (bad \\(sig\\\\x0d\\\\x0a) header.d=h.test", 1},
	    {DKIM(1, SIG(PM_DKIM_FAIL, "h.test", "", "", "", "x\\) ; dkim=pass (", 0)),
	     ID ";\n\tdkim=fail (x\\\\x5c\\) ; dkim=pass \\() header.d=h.test", 1},
	    {DKIM(1, SIG(PM_DKIM_PASS, "b.test", "s)1", "rsa;x", "", "", 0)),
	     ID ";\n\tdkim=pass header.d=b.test header.s=\"s)1\" header.a=\"rsa;x\"", 1},
	    {DKIM(1, SIG(PM_DKIM_PASS, "", "", "",
	                 "ab\x01"
	                 "cdefg",
	                 "", 0)),
	     ID "; dkim=pass header.b=\"ab\\\\x01cdefg\"", 1},
	    {DKIM(1, SIG(PM_DKIM_PASS, "", "", "", "\"\\\"\\\"\\\"\\", "", 0)),
	     ID ";\n\tdkim=pass header.b=\"\\\"\\\\x5c\\\"\\\\x5c\\\"\\\\x5c\\\"\\\\x5c\"", 1},
	};
	for (size_t i = 0; i < PM_ARRAY_LEN(cases); i++) {
		struct authres_input in = {.authserv_id = ID, .dkim = cases[i].dkim};
		char *got = authres_format(&in);
		check_value("dkim", i, got, cases[i].want, cases[i].nres);
		free(got);
	}
}

/* test_dmarc - dmarc= resinfos: every result, policy, disposition, comment, header.from */
static void test_dmarc(void **state)
{
	(void)state;
	static const struct {
		enum pm_dmarc_result r;
		const char *policy, *dis, *from, *comment;
		const char *want;
	} cases[] = {
	    {PM_DMARC_PASS, "reject", "none", "b.test", NULL,
	     ID ";\n\tdmarc=pass (p=reject dis=none) header.from=b.test"},
	    {PM_DMARC_FAIL, "reject", "quarantine", "x.test", NULL,
	     ID ";\n\tdmarc=fail (p=reject dis=quarantine) header.from=x.test"},
	    {PM_DMARC_FAIL, "quarantine", "quarantine", "x.test", NULL,
	     ID ";\n\tdmarc=fail (p=quarantine dis=quarantine) header.from=x.test"},
	    /* a policy without a disposition: 78 columns exactly */
	    {PM_DMARC_FAIL, "none", NULL, "x.test", NULL,
	     ID "; dmarc=fail (p=none) header.from=x.test"},
	    {PM_DMARC_FAIL, "none", "", "xx.test", NULL,
	     ID ";\n\tdmarc=fail (p=none) header.from=xx.test"},
	    /* a disposition without a policy says nothing */
	    {PM_DMARC_FAIL, NULL, "reject", "x.test", NULL, ID "; dmarc=fail header.from=x.test"},
	    {PM_DMARC_NONE, NULL, NULL, "n.test", NULL, ID "; dmarc=none header.from=n.test"},
	    {PM_DMARC_NONE, NULL, NULL, NULL, NULL, ID "; dmarc=none"},
	    {PM_DMARC_PASS, "", "", "", "", ID "; dmarc=pass"},
	    {PM_DMARC_TEMPERROR, NULL, NULL, "t.test", "timeout",
	     ID ";\n\tdmarc=temperror (timeout) header.from=t.test"},
	    {PM_DMARC_TEMPERROR, NULL, NULL, "t.test", NULL,
	     ID "; dmarc=temperror header.from=t.test"},
	    {PM_DMARC_PERMERROR, NULL, NULL, "p.test", "several DMARC records",
	     ID ";\n\tdmarc=permerror (several DMARC records) header.from=p.test"},
	    {PM_DMARC_PERMERROR, NULL, NULL, NULL, NULL, ID "; dmarc=permerror"},
	    /* policy, disposition and comment together */
	    {PM_DMARC_PASS, "quarantine", "none", "s.b.test", "sp= applied",
	     ID ";\n\tdmarc=pass (p=quarantine dis=none; sp= applied) header.from=s.b.test"},
	    /* out of range */
	    {(enum pm_dmarc_result)42, NULL, NULL, NULL, NULL, ID "; dmarc=unknown"},
	    /* hostile header.from, policy, comment */
	    {PM_DMARC_FAIL, NULL, NULL, "b.test)(dmarc=pass", NULL,
	     ID ";\n\tdmarc=fail header.from=\"b.test)(dmarc=pass\""},
	    {PM_DMARC_FAIL, NULL, NULL, "b.test; dmarc=pass", NULL,
	     ID ";\n\tdmarc=fail header.from=\"b.test; dmarc=pass\""},
	    {PM_DMARC_PASS, NULL, NULL, "b\xc3\xa9.test", NULL,
	     ID ";\n\tdmarc=pass header.from=\"b\\\\xc3\\\\xa9.test\""},
	    {PM_DMARC_FAIL, "reject) x=(y", NULL, "x.test", NULL,
	     ID ";\n\tdmarc=fail (p=reject\\) x=\\(y) header.from=x.test"},
	    {PM_DMARC_NONE, NULL, NULL, NULL, "x\r\nAuthentication-Results: evil",
	     ID ";\n\tdmarc=none (x\\\\x0d\\\\x0aAuthentication-Results: evil)"},
	};
	for (size_t i = 0; i < PM_ARRAY_LEN(cases); i++) {
		struct authres_input in = {.authserv_id = ID,
		                           .dmarc = cases[i].r,
		                           .dmarc_policy = cases[i].policy,
		                           .dmarc_disposition = cases[i].dis,
		                           .header_from = cases[i].from,
		                           .dmarc_comment = cases[i].comment};
		char *got = authres_format(&in);
		check_value("dmarc", i, got, cases[i].want, 1);
		free(got);
	}
	/* RFC 9989: the policy that applied (sp=, np=), t=y, the policy domain found by the walk */
	static const struct {
		const char *sp, *np, *dis, *pdomain;
		bool testing;
		const char *want;
	} rfc9989[] = {
	    {"quarantine", NULL, "quarantine", "sales.example", false,
	     ID ";\n\tdmarc=fail (p=reject sp=quarantine dis=quarantine pdomain=sales.example)\n\t"
	        "header.from=eu.sales.example"},
	    {NULL, "reject", "reject", "sales.example", false,
	     ID ";\n\tdmarc=fail (p=reject np=reject dis=reject pdomain=sales.example)\n\t"
	        "header.from=eu.sales.example"},
	    {NULL, NULL, "quarantine", NULL, true,
	     ID ";\n\tdmarc=fail (p=reject t=y dis=quarantine) header.from=eu.sales.example"},
	    {NULL, NULL, "none", "x)(dmarc=pass", false,
	     ID ";\n\tdmarc=fail (p=reject dis=none pdomain=x\\)\\(dmarc=pass)\n\t"
	        "header.from=eu.sales.example"},
	};
	for (size_t i = 0; i < PM_ARRAY_LEN(rfc9989); i++) {
		struct authres_input in9 = {.authserv_id = ID,
		                            .dmarc = PM_DMARC_FAIL,
		                            .dmarc_policy = "reject",
		                            .dmarc_sp = rfc9989[i].sp,
		                            .dmarc_np = rfc9989[i].np,
		                            .dmarc_testing = rfc9989[i].testing,
		                            .dmarc_disposition = rfc9989[i].dis,
		                            .dmarc_pdomain = rfc9989[i].pdomain,
		                            .header_from = "eu.sales.example"};
		char *got9 = authres_format(&in9);
		check_value("dmarc rfc9989", i, got9, rfc9989[i].want, 1);
		free(got9);
	}
	/* PM_DMARC_UNCHECKED: nothing */
	struct authres_input in = {.authserv_id = ID, .header_from = "b.test", .dmarc_policy = "x"};
	char *got = authres_format(&in);
	check_value("dmarc unchecked", 0, got, ID "; none", 1);
	free(got);
}

/* test_arc - RFC 8617 10.2: arc= with the newest set, smtp.remote-ip, header.oldest-pass */
static void test_arc(void **state)
{
	struct arc_set sets[2];
	static const struct {
		enum pm_arc_result r;
		size_t n;
		unsigned oldest_pass;
		const char *reason, *ip;
		const char *want;
	} cases[] = {
	    /* oldest_pass 1 (every AMS verifies): RFC 8617 writes header.oldest-pass=0 */
	    {PM_ARC_PASS, 2, 1, "", "192.0.2.10",
	     ID
	     ";\n\tarc=pass (i=2 d=lists.example) smtp.remote-ip=192.0.2.10 header.oldest-pass=0"},
	    /* oldest_pass 2 (the AMS of i=1 no longer verifies): written as it is */
	    {PM_ARC_PASS, 2, 2, "", "192.0.2.10",
	     ID
	     ";\n\tarc=pass (i=2 d=lists.example) smtp.remote-ip=192.0.2.10 header.oldest-pass=2"},
	    /* oldest_pass 0: not computed, not written */
	    {PM_ARC_PASS, 1, 0, "", "192.0.2.10",
	     ID ";\n\tarc=pass (i=1 d=first.example) smtp.remote-ip=192.0.2.10"},
	    {PM_ARC_FAIL, 2, 0, "ARC-Seal i=2 did not verify", "192.0.2.10",
	     ID ";\n\tarc=fail (i=2 d=lists.example: ARC-Seal i=2 did not verify)\n\t"
	        "smtp.remote-ip=192.0.2.10"},
	    /* a structure found bad: no sets, the reason alone */
	    {PM_ARC_FAIL, 0, 0, "instance 3 missing", "192.0.2.10",
	     ID ";\n\tarc=fail (instance 3 missing) smtp.remote-ip=192.0.2.10"},
	    /* temperror: RFC 8617 registers none, pass, fail: written fail, the reason says why */
	    {PM_ARC_TEMPERROR, 1, 0, "key lookup timed out", "2001:db8::1",
	     ID ";\n\tarc=fail (i=1 d=first.example: key lookup timed out)\n\t"
	        "smtp.remote-ip=\"2001:db8::1\""},
	    {PM_ARC_TEMPERROR, 0, 0, "", "192.0.2.10",
	     ID ";\n\tarc=fail (temporary failure) smtp.remote-ip=192.0.2.10"},
	    {PM_ARC_NONE, 0, 0, "", "192.0.2.10", ID "; arc=none"},
	    /* hostile reason: escaped inside the comment */
	    {PM_ARC_FAIL, 0, 0, "x); arc=pass (", NULL, ID "; arc=fail (x\\); arc=pass \\()"},
	};

	(void)state;
	memset(sets, 0, sizeof(sets));
	sets[0].instance = 1;
	snprintf(sets[0].domain, sizeof(sets[0].domain), "first.example");
	sets[1].instance = 2;
	snprintf(sets[1].domain, sizeof(sets[1].domain), "lists.example");
	for (size_t i = 0; i < PM_ARRAY_LEN(cases); i++) {
		struct arc_result r;
		struct authres_input in = {.authserv_id = ID};
		char *got;

		memset(&r, 0, sizeof(r));
		r.result = cases[i].r;
		r.n = cases[i].n;
		r.set = cases[i].n > 0 ? sets : NULL;
		r.oldest_pass = cases[i].oldest_pass;
		snprintf(r.reason, sizeof(r.reason), "%s", cases[i].reason);
		in.arc = &r;
		in.arc_remote_ip = cases[i].ip;
		got = authres_format(&in);
		check_value("arc", i, got, cases[i].want, 1);
		free(got);
	}
}

/* test_arc_rescue - dmarc=fail with the override in its comment and policy.dmarc */
static void test_arc_rescue(void **state)
{
	struct authres_input in = {.authserv_id = ID,
	                           .dmarc = PM_DMARC_FAIL,
	                           .dmarc_policy = "reject",
	                           .dmarc_disposition = "none",
	                           .dmarc_comment = "arc_override d=lists.example i=1",
	                           .header_from = "author.example",
	                           .dmarc_policy_prop = "none"};
	char *got;

	(void)state;
	got = authres_format(&in);
	check_value("arc rescue", 0, got,
	            ID ";\n\tdmarc=fail (p=reject dis=none; arc_override d=lists.example i=1)\n\t"
	               "header.from=author.example policy.dmarc=none",
	            1);
	free(got);
}

/* test_iprev - RFC 8601 section 3: "iprev=R policy.iprev=ADDR (comment)", first */
static void test_iprev(void **state)
{
	(void)state;
	static const struct {
		enum pm_iprev_result r;
		const char *ip, *comment;
		const char *want;
	} cases[] = {
	    /* RFC 8601 appendix B's form: the address, then the name as a comment */
	    {PM_IPREV_PASS, "192.0.2.1", "mail.example.net",
	     ID ";\n\tiprev=pass policy.iprev=192.0.2.1 (mail.example.net)"},
	    {PM_IPREV_FAIL, "192.0.2.1", "x.example.net does not resolve to the address",
	     ID ";\n\tiprev=fail policy.iprev=192.0.2.1\n\t"
	        "(x.example.net does not resolve to the address)"},
	    {PM_IPREV_PERMERROR, "198.51.100.7", "no PTR record",
	     ID ";\n\tiprev=permerror policy.iprev=198.51.100.7 (no PTR record)"},
	    {PM_IPREV_TEMPERROR, "192.0.2.1", "PTR lookup failed temporarily",
	     ID ";\n\tiprev=temperror policy.iprev=192.0.2.1 (PTR lookup failed temporarily)"},
	    /* an IPv6 address is no token (':' is a tspecial): a quoted-string */
	    {PM_IPREV_PASS, "2001:db8::1", "v6.example.net",
	     ID ";\n\tiprev=pass policy.iprev=\"2001:db8::1\" (v6.example.net)"},
	    /* no comment, no address: nothing empty is written */
	    {PM_IPREV_PERMERROR, "192.0.2.1", NULL, ID "; iprev=permerror policy.iprev=192.0.2.1"},
	    {PM_IPREV_PASS, "192.0.2.1", "", ID "; iprev=pass policy.iprev=192.0.2.1"},
	    {PM_IPREV_PERMERROR, NULL, "no client address",
	     ID "; iprev=permerror (no client address)"},
	    /* hostile PTR names in the comment: escaped, never a new resinfo */
	    {PM_IPREV_PASS, "192.0.2.1", "a.test); iprev=pass (x",
	     ID ";\n\tiprev=pass policy.iprev=192.0.2.1 (a.test\\); iprev=pass \\(x)"},
	    {PM_IPREV_FAIL, "192.0.2.1", "h\r\nX: y\\",
	     ID ";\n\tiprev=fail policy.iprev=192.0.2.1 (h\\\\x0d\\\\x0aX: y\\\\x5c)"},
	    {(enum pm_iprev_result)42, "192.0.2.1", NULL,
	     ID "; iprev=unknown policy.iprev=192.0.2.1"},
	};
	for (size_t i = 0; i < PM_ARRAY_LEN(cases); i++) {
		struct authres_input in = {.authserv_id = ID,
		                           .iprev = cases[i].r,
		                           .iprev_ip = cases[i].ip,
		                           .iprev_comment = cases[i].comment};
		char *got = authres_format(&in);
		check_value("iprev", i, got, cases[i].want, 1);
		free(got);
	}
	/* PM_IPREV_UNCHECKED: nothing */
	struct authres_input in = {
	    .authserv_id = ID, .iprev_ip = "192.0.2.1", .iprev_comment = "x"};
	char *got = authres_format(&in);
	check_value("iprev unchecked", 0, got, ID "; none", 1);
	free(got);
}

/* test_all - every kind at once, in the fixed order */
static void test_all(void **state)
{
	(void)state;
	const struct {
		struct authres_input in;
		const char *want;
		size_t nres;
	} cases[] = {
	    /* the example */
	    {{.authserv_id = ID,
	      .mfrom_spf = PM_SPF_PASS,
	      .mailfrom = "a@b.test",
	      .dkim = DKIM(2, SIG(PM_DKIM_PASS, "b.test", "sel", "rsa-sha256", "AbCdEfGh", "", 0),
	                   SIG(PM_DKIM_FAIL, "c.test", "s2", "ed25519-sha256", "12345678",
	                       "body hash mismatch", 0)),
	      .dmarc = PM_DMARC_PASS,
	      .dmarc_policy = "reject",
	      .dmarc_disposition = "none",
	      .header_from = "b.test"},
	     ID "; spf=pass smtp.mailfrom=a@b.test;\n"
	        "\tdkim=pass header.d=b.test header.s=sel header.a=rsa-sha256 header.b=AbCdEfGh;\n"
	        "\tdkim=fail (body hash mismatch) header.d=c.test header.s=s2\n"
	        "\theader.a=ed25519-sha256 header.b=12345678;\n"
	        "\tdmarc=pass (p=reject dis=none) header.from=b.test",
	     4},
	    /* the same piece with a ";" after it: column 79, so it goes to the next line */
	    {{.authserv_id = ID,
	      .dkim = DKIM(1, SIG(PM_DKIM_FAIL, "signing-domain-of-some-length-xx.test", "", "", "",
	                          "body hash mismatch", 0)),
	      .dmarc = PM_DMARC_NONE},
	     ID ";\n\tdkim=fail (body hash "
	        "mismatch)\n\theader.d=signing-domain-of-some-length-xx.test;"
	        " dmarc=none",
	     2},
	    /* iprev first, then MAIL FROM, DMARC */
	    {{.authserv_id = ID,
	      .iprev = PM_IPREV_PASS,
	      .iprev_ip = "192.0.2.10",
	      .iprev_comment = "client10.test",
	      .mfrom_spf = PM_SPF_PASS,
	      .mailfrom = "alice@pass.test",
	      .dmarc = PM_DMARC_NONE,
	      .header_from = "pass.test"},
	     ID ";\n\tiprev=pass policy.iprev=192.0.2.10 (client10.test);\n\tspf=pass "
	        "smtp.mailfrom=alice@pass.test; dmarc=none header.from=pass.test",
	     3},
	    /* iprev before auth (the milter reports no iprev for authenticated clients) */
	    {{.authserv_id = ID,
	      .iprev = PM_IPREV_FAIL,
	      .iprev_ip = "192.0.2.10",
	      .auth_user = "u"},
	     ID "; iprev=fail policy.iprev=192.0.2.10;\n\tauth=pass smtp.auth=u",
	     2},
	    /* auth, MAIL FROM, HELO, DKIM, DMARC */
	    {{.authserv_id = ID,
	      .auth_user = "u",
	      .mfrom_spf = PM_SPF_PASS,
	      .mailfrom = "a@b.test",
	      .helo_spf = PM_SPF_PASS,
	      .helo = "h.test",
	      .dkim = &(const struct dkim_results){0},
	      .dmarc = PM_DMARC_NONE,
	      .header_from = "b.test",
	      .trusted_network = "10.0.0.0/8"},
	     ID "; auth=pass smtp.auth=u;\n\tspf=pass smtp.mailfrom=a@b.test; spf=pass "
	        "smtp.helo=h.test; dkim=none;\n\tdmarc=none header.from=b.test",
	     5},
	};
	for (size_t i = 0; i < PM_ARRAY_LEN(cases); i++) {
		char *got = authres_format(&cases[i].in);
		check_value("all", i, got, cases[i].want, cases[i].nres);
		free(got);
	}
}

/* test_long_values - values at and past the caps, and fields without a NUL */
static void test_long_values(void **state)
{
	(void)state;
	struct strbuf want;
	char big[301];
	char *got;

	/* a 300-byte header.from: quoted, cut to 253 bytes and "..." */
	memset(big, 'a', 300);
	big[300] = '\0';
	struct authres_input in = {.authserv_id = ID, .dmarc = PM_DMARC_FAIL, .header_from = big};
	sb_init(&want);
	sb_append(&want, ID ";\n\tdmarc=fail\n\theader.from=\"");
	sb_appendf(&want, "%.253s...\"", big);
	got = authres_format(&in);
	check_value("300 bytes", 0, got, want.s, 1);
	free(got);

	/* 300 8-bit bytes: 63 whole escapes, then "..." */
	memset(big, 0xe9, 300);
	sb_reset(&want);
	sb_append(&want, ID ";\n\tdmarc=fail\n\theader.from=\"");
	for (int k = 0; k < 63; k++)
		sb_append(&want, "\\\\xe9");
	sb_append(&want, "...\"");
	got = authres_format(&in);
	check_value("300 8-bit bytes", 0, got, want.s, 1);
	free(got);

	/* every fixed-size field full, no NUL anywhere: read no further than each array */
	struct dkim_sig_result sig;
	memset(&sig, 0, sizeof(sig));
	sig.result = PM_DKIM_FAIL;
	memset(sig.domain, 'd', sizeof(sig.domain));
	memset(sig.selector, 's', sizeof(sig.selector));
	memset(sig.algorithm, 'a', sizeof(sig.algorithm));
	memset(sig.b, 'B', sizeof(sig.b));
	memset(sig.reason, 'r', sizeof(sig.reason));
	struct dkim_results res = {.n = 1, .total = 7, .sig = &sig};
	struct authres_input din = {.authserv_id = ID, .dkim = &res};
	sb_reset(&want);
	sb_append(&want, ID ";\n\tdkim=fail\n\t(");
	for (int k = 0; k < 96; k++)
		sb_appendc(&want, 'r');
	sb_append(&want, ")\n\theader.d=");
	for (int k = 0; k < 256; k++)
		sb_appendc(&want, 'd');
	sb_append(&want, "\n\theader.s=");
	for (int k = 0; k < 256; k++)
		sb_appendc(&want, 's');
	sb_append(&want, "\n\theader.a=");
	for (int k = 0; k < 32; k++)
		sb_appendc(&want, 'a');
	sb_append(&want, " header.b=BBBBBBBB");
	got = authres_format(&din);
	check_value("full fields", 0, got, want.s, 1);
	free(got);

	/* the same with a pass and key bits: the comment is the key size, not the reason */
	sig.result = PM_DKIM_PASS;
	sig.key_bits = 4096;
	memcpy(sig.domain, "big.test", sizeof("big.test"));
	memcpy(sig.selector, "s", sizeof("s"));
	memcpy(sig.algorithm, "rsa-sha256", sizeof("rsa-sha256"));
	got = authres_format(&din);
	check_value(
	    "full b", 0, got,
	    ID ";\n\tdkim=pass (4096-bit key) header.d=big.test header.s=s header.a=rsa-sha256\n"
	       "\theader.b=BBBBBBBB",
	    1);
	free(got);
	sb_free(&want);
}

/* test_folding - for every authserv-id length: the rule holds, and unfolded the value is the same
 */
static void test_folding(void **state)
{
	(void)state;
	char big[301], id[101];
	struct dkim_sig_result sigs[6] = {
	    SIG(PM_DKIM_PASS, "example.com", "selector1", "rsa-sha256", "AbC+/dEf", "", 2048),
	    SIG(PM_DKIM_FAIL, "x.test(evil", "s", "ed25519-sha256", "12345678",
	        "body hash mismatch", 0),
	    SIG(PM_DKIM_POLICY, "a-much-longer-signing-domain.example", "2024-selector", "rsa-sha1",
	        "QUJDREVG", "rsa-sha1", 1024),
	    SIG(PM_DKIM_NEUTRAL, "", "", "", "", "bad signature syntax", 0),
	    SIG(PM_DKIM_TEMPERROR, "t.test", "k", "rsa-sha256", "x", "key lookup: timeout", 0),
	    SIG(PM_DKIM_PERMERROR, "p.test", "k", "", "", "no key record", 0),
	};
	struct dkim_results dkim = {.n = 6, .total = 9, .sig = sigs};

	memset(big, 'q', 300);
	big[300] = '\0';
	const struct authres_input inputs[] = {
	    {.auth_user = "alice@example.org",
	     .mfrom_spf = PM_SPF_PASS,
	     .mailfrom = "first.last+tag@sub.example.org",
	     .mfrom_comment = "example.org designates 192.0.2.10 as permitted sender",
	     .helo_spf = PM_SPF_NEUTRAL,
	     .helo = "mail.example.org",
	     .dkim = &dkim,
	     .dmarc = PM_DMARC_PASS,
	     .dmarc_policy = "quarantine",
	     .dmarc_disposition = "none",
	     .header_from = "example.org",
	     .dmarc_comment = "sp= applied"},
	    {.mfrom_spf = PM_SPF_FAIL,
	     .mailfrom = big,
	     .helo_spf = PM_SPF_FAIL,
	     .helo = "evil\r\nX: y (z",
	     .dmarc = PM_DMARC_FAIL,
	     .dmarc_policy = "reject",
	     .header_from = big},
	    {.mfrom_spf = PM_SPF_PASS, .mailfrom = "a@b.test"},
	    {.trusted_network = "2001:db8::/32"},
	    {.dkim = &(const struct dkim_results){0}, .dmarc = PM_DMARC_NONE},
	};
	const size_t nres[] = {10, 3, 1, 1, 2};

	for (size_t k = 0; k < PM_ARRAY_LEN(inputs); k++) {
		char *first = NULL;

		for (size_t len = 1; len < sizeof(id); len++) {
			struct authres_input in = inputs[k];
			char *got, *u;
			size_t o = 0;

			memset(id, 'm', len);
			id[len] = '\0';
			in.authserv_id = id;
			got = authres_format(&in);
			check_printable(k, got);
			check_folding("folding", k * 1000 + len, got, nres[k]);
			/* unfolded, past the id: the same for every id length */
			u = xstrdup(got);
			for (size_t j = 0; got[j]; j++) {
				if (got[j] == '\n') {
					u[o++] = ' ';
					j++;
				} else {
					u[o++] = got[j];
				}
			}
			u[o] = '\0';
			if (first == NULL)
				first = xstrdup(u + len);
			else if (strcmp(u + len, first) != 0)
				fail_msg("input %zu id length %zu: unfolded\n got  %s\n want %s", k,
				         len, u + len, first);
			free(u);
			free(got);
		}
		free(first);
	}
}

/* test_is_ours - which existing headers claim our authserv-id */
static void test_is_ours(void **state)
{
	(void)state;
	static const struct {
		const char *value, *id;
		bool want;
	} cases[] = {
	    {"mx.example.org; spf=pass smtp.mailfrom=a@b.test", ID, true},
	    {"MX.Example.ORG; spf=pass", ID, true},
	    {"mx.example.org; none", "MX.EXAMPLE.ORG", true},
	    {"mx.example.org 1; spf=pass", ID, true},
	    {"mx.example.org;spf=pass", ID, true},
	    {"mx.example.org", ID, true},
	    {"  \t mx.example.org ; none", ID, true},
	    {"\r\n\tmx.example.org;\r\n\tspf=pass", ID, true},
	    {"(comment) mx.example.org; spf=pass", ID, true},
	    {"(nested (comment) here) mx.example.org; none", ID, true},
	    {"(escaped \\) paren) mx.example.org; none", ID, true},
	    {"(a)(b) mx.example.org; none", ID, true},
	    {"mx.example.org(comment); none", ID, true},
	    {"\"mx.example.org\"; spf=pass", ID, true},
	    {"\"mx.exa\\mple.org\"; spf=pass", ID, true},
	    {"mx.example.org.evil; spf=pass", ID, false},
	    {"evil.mx.example.org; spf=pass", ID, false},
	    {"mx.example.or; spf=pass", ID, false},
	    {"mx.example.org,x; spf=pass", ID, false},
	    {"other.example; spf=pass (mx.example.org)", ID, false},
	    {"(mx.example.org) other.example; none", ID, false},
	    {"(unclosed mx.example.org; none", ID, false},
	    {"(a (b) mx.example.org; none", ID, false},
	    {"\"mx.example.org; none", ID, false},
	    {"\"mx.example.org.evil\"; none", ID, false},
	    {"; spf=pass", ID, false},
	    {"", ID, false},
	    {"   ", ID, false},
	    {"()", ID, false},
	    {"\"\"; none", ID, false},
	    {"(\\", ID, false},
	    {NULL, ID, false},
	    {"mx.example.org; none", NULL, false},
	    {"; none", "", false},
	    {"garbage", ID, false},
	};
	for (size_t i = 0; i < PM_ARRAY_LEN(cases); i++) {
		bool got = authres_is_ours(cases[i].value, cases[i].id);
		if (got != cases[i].want)
			fail_msg("case %zu is_ours(\"%s\", %s): got %d, want %d", i,
			         cases[i].value ? cases[i].value : "NULL",
			         cases[i].id ? cases[i].id : "NULL", got, cases[i].want);
	}
}

/* test_roundtrip - what we format, we recognise as ours, folded or not */
static void test_roundtrip(void **state)
{
	(void)state;
	char longid[71];
	struct dkim_sig_result sig =
	    SIG(PM_DKIM_FAIL, "mx.example.org; dkim=pass", "s", "", "", "(mx.example.org)", 0);
	struct dkim_results dkim = {.n = 1, .total = 1, .sig = &sig};
	struct authres_input in = {.authserv_id = "Mx.Example.Org",
	                           .mfrom_spf = PM_SPF_PASS,
	                           .mailfrom = "a@b.test",
	                           .dkim = &dkim,
	                           .dmarc = PM_DMARC_FAIL,
	                           .dmarc_policy = "reject",
	                           .header_from = "b.test"};
	char *v = authres_format(&in);
	if (!authres_is_ours(v, ID))
		fail_msg("round trip: got not ours for %s, want ours", v);
	if (authres_is_ours(v, "mx.example"))
		fail_msg("round trip: got ours for a shorter id, want not ours");
	free(v);

	/* a quoted authserv-id */
	in.authserv_id = "my id";
	v = authres_format(&in);
	if (!authres_is_ours(v, "MY ID") || authres_is_ours(v, "my"))
		fail_msg("round trip: quoted id not recognised exactly in %s", v);
	free(v);

	/* an id so long the first resinfo is folded right after it */
	memset(longid, 'x', sizeof(longid) - 1);
	longid[sizeof(longid) - 1] = '\0';
	in.authserv_id = longid;
	v = authres_format(&in);
	if (strncmp(v + strlen(longid), ";\n\t", 3) != 0)
		fail_msg("round trip: got %s, want a fold right after the id", v);
	if (!authres_is_ours(v, longid))
		fail_msg("round trip: got not ours for %s, want ours", v);
	if (authres_is_ours(v, ID))
		fail_msg("round trip: got ours for a value naming " ID " only in a property");
	free(v);
}

/* unfold - every "\n\t" fold of s made one space, in place */
static void unfold(char *s)
{
	char *w = s;

	for (; *s != '\0'; s++) {
		if (s[0] == '\n' && s[1] == '\t')
			s++;
		*w++ = *s == '\t' ? ' ' : *s;
	}
	*w = '\0';
}

/*
 * test_policy_comment - the local policy comment comes last, after the last
 * resinfo (RFC 8601 trailing CFWS): the value without it is the same
 * header, folding still holds, and authres_is_ours still claims it
 */
static void test_policy_comment(void **state)
{
	(void)state;
	static const struct {
		enum pm_spf_result spf;
		enum pm_dmarc_result dmarc;
		const char *comment, *want;
		size_t nres;
	} cases[] = {
	    {PM_SPF_FAIL, PM_DMARC_FAIL, "allowed by local policy: lists.sender.allow",
	     ID "; spf=fail smtp.mailfrom=a@b.test;\n\tdmarc=fail (p=reject dis=reject) "
	        "header.from=b.test\n\t(allowed by local policy: lists.sender.allow)",
	     2},
	    {PM_SPF_UNCHECKED, PM_DMARC_UNCHECKED, "allowed by local policy: lists.client.allow",
	     ID ";\n\tnone (allowed by local policy: lists.client.allow)", 1},
	    {PM_SPF_PASS, PM_DMARC_UNCHECKED, "x) ; spf=pass (",
	     ID ";\n\tspf=pass smtp.mailfrom=a@b.test (x\\) ; spf=pass \\()", 1},
	    {PM_SPF_PASS, PM_DMARC_UNCHECKED, "", ID "; spf=pass smtp.mailfrom=a@b.test", 1},
	};
	for (size_t i = 0; i < PM_ARRAY_LEN(cases); i++) {
		struct authres_input in = {.authserv_id = ID,
		                           .mfrom_spf = cases[i].spf,
		                           .mailfrom = "a@b.test",
		                           .dmarc = cases[i].dmarc,
		                           .dmarc_policy = "reject",
		                           .dmarc_disposition = "reject",
		                           .header_from = "b.test",
		                           .policy_comment = cases[i].comment};
		char *got = authres_format(&in), *plain;

		check_value("policy comment", i, got, cases[i].want, cases[i].nres);
		if (!authres_is_ours(got, ID))
			fail_msg("policy comment case %zu: got not ours for %s, want ours", i, got);
		/* the same header without the comment (unfolded): only a trailing comment added */
		in.policy_comment = NULL;
		plain = authres_format(&in);
		unfold(got);
		unfold(plain);
		if (*cases[i].comment != '\0' &&
		    (strncmp(got, plain, strlen(plain)) != 0 || got[strlen(plain)] != ' ' ||
		     got[strlen(plain) + 1] != '(' || got[strlen(got) - 1] != ')'))
			fail_msg("policy comment case %zu: got %s, want %s and a comment", i, got,
			         plain);
		free(plain);
		free(got);
	}
}

/* main - run the cases */
int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_format),         cmocka_unit_test(test_long),
	    cmocka_unit_test(test_dkim),           cmocka_unit_test(test_dmarc),
	    cmocka_unit_test(test_iprev),          cmocka_unit_test(test_all),
	    cmocka_unit_test(test_long_values),    cmocka_unit_test(test_folding),
	    cmocka_unit_test(test_is_ours),        cmocka_unit_test(test_roundtrip),
	    cmocka_unit_test(test_policy_comment), cmocka_unit_test(test_arc),
	    cmocka_unit_test(test_arc_rescue),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
