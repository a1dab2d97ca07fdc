/*
 * NAME
 *	test_authres - unit tests for authres.c
 * DESCRIPTION
 *	Tables of cases: Authentication-Results values for each result,
 *	order and folding, the null sender, trusted networks, SMTP AUTH,
 *	hostile HELO and MAIL FROM values (CR, LF, 8-bit, quotes,
 *	parentheses, backslashes, 1000-byte local parts); and which
 *	existing headers authres_is_ours() claims.
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
	     ID "; none (client in trusted network 127.0.0.0/8)"},
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
	     ID ";\n\tspf=fail smtp.mailfrom=a@b.test"},
	    {{.authserv_id = ID, .mfrom_spf = PM_SPF_SOFTFAIL, .mailfrom = "a@b.test"},
	     ID ";\n\tspf=softfail smtp.mailfrom=a@b.test"},
	    {{.authserv_id = ID, .mfrom_spf = PM_SPF_NEUTRAL, .mailfrom = "a@b.test"},
	     ID ";\n\tspf=neutral smtp.mailfrom=a@b.test"},
	    {{.authserv_id = ID, .mfrom_spf = PM_SPF_TEMPERROR, .mailfrom = "a@b.test"},
	     ID ";\n\tspf=temperror smtp.mailfrom=a@b.test"},
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
	     ID ";\n\tspf=pass smtp.helo=h.test"},
	    /* SMTP AUTH first */
	    {{.authserv_id = ID,
	      .auth_user = "alice",
	      .mfrom_spf = PM_SPF_NONE,
	      .mailfrom = "alice@example.org"},
	     ID ";\n\tauth=pass smtp.auth=alice;\n\tspf=none smtp.mailfrom=alice@example.org"},
	    {{.authserv_id = ID, .auth_user = "alice@example.org"},
	     ID ";\n\tauth=pass smtp.auth=alice@example.org"},
	    {{.authserv_id = ID, .auth_user = "al ice"}, ID ";\n\tauth=pass smtp.auth=\"al ice\""},
	    {{.authserv_id = ID, .auth_user = ""}, ID ";\n\tauth=pass"},
	    /* null sender: judged by HELO */
	    {{.authserv_id = ID,
	      .mfrom_spf = PM_SPF_PASS,
	      .mailfrom = NULL,
	      .helo = "mail.example.test",
	      .helo_spf = PM_SPF_PASS},
	     ID ";\n\tspf=pass (null sender, HELO identity) "
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
	     ID ";\n\tspf=none (null sender, no HELO)"},
	    {{.authserv_id = ID, .mfrom_spf = PM_SPF_NONE, .mailfrom = NULL, .helo = ""},
	     ID ";\n\tspf=none (null sender, no HELO)"},
	    {{.authserv_id = ID, .helo_spf = PM_SPF_NONE, .helo = ""},
	     ID ";\n\tspf=none (no HELO)"},
	    /* address-literal HELO: not a token, quoted */
	    {{.authserv_id = ID, .helo_spf = PM_SPF_NONE, .helo = "[192.0.2.1]"},
	     ID ";\n\tspf=none smtp.helo=\"[192.0.2.1]\""},
	    {{.authserv_id = ID, .mfrom_spf = PM_SPF_NONE, .helo = "[192.0.2.1]"},
	     ID ";\n\tspf=none (null sender, HELO identity) "
	        "smtp.mailfrom=\"postmaster@[192.0.2.1]\""},
	    /* hostile HELO values */
	    {{.authserv_id = ID, .helo_spf = PM_SPF_FAIL, .helo = "evil\r\nX-Spam: no"},
	     ID ";\n\tspf=fail smtp.helo=\"evil\\\\x0d\\\\x0aX-Spam: no\""},
	    {{.authserv_id = ID, .helo_spf = PM_SPF_FAIL, .helo = "a;spf=pass"},
	     ID ";\n\tspf=fail smtp.helo=\"a;spf=pass\""},
	    {{.authserv_id = ID, .helo_spf = PM_SPF_FAIL, .helo = "x\"y\\z"},
	     ID ";\n\tspf=fail smtp.helo=\"x\\\"y\\\\x5cz\""},
	    {{.authserv_id = ID, .helo_spf = PM_SPF_FAIL, .helo = "h\xc3\xa4.test"},
	     ID ";\n\tspf=fail smtp.helo=\"h\\\\xc3\\\\xa4.test\""},
	    {{.authserv_id = ID, .helo_spf = PM_SPF_FAIL, .helo = "(x)"},
	     ID ";\n\tspf=fail smtp.helo=\"(x)\""},
	    /* a plain token HELO (not a domain) stays bare */
	    {{.authserv_id = ID, .helo_spf = PM_SPF_NONE, .helo = "localhost"},
	     ID ";\n\tspf=none smtp.helo=localhost"},
	    /* hostile MAIL FROM values (the odd syntax) */
	    {{.authserv_id = ID, .mfrom_spf = PM_SPF_FAIL, .mailfrom = "x@c.test'@d.test"},
	     ID ";\n\tspf=fail smtp.mailfrom=\"x@c.test'@d.test\""},
	    {{.authserv_id = ID, .mfrom_spf = PM_SPF_FAIL, .mailfrom = "x@c.test(comment"},
	     ID ";\n\tspf=fail smtp.mailfrom=\"x@c.test(comment\""},
	    {{.authserv_id = ID, .mfrom_spf = PM_SPF_FAIL, .mailfrom = "\"a b\"@d.test"},
	     ID ";\n\tspf=fail smtp.mailfrom=\"\\\"a b\\\"@d.test\""},
	    {{.authserv_id = ID, .mfrom_spf = PM_SPF_FAIL, .mailfrom = "a..b@d.test"},
	     ID ";\n\tspf=fail smtp.mailfrom=\"a..b@d.test\""},
	    {{.authserv_id = ID, .mfrom_spf = PM_SPF_FAIL, .mailfrom = "a@d.test\n"},
	     ID ";\n\tspf=fail smtp.mailfrom=\"a@d.test\\\\x0a\""},
	    {{.authserv_id = ID,
	      .mfrom_spf = PM_SPF_PASS,
	      .mailfrom = "first.last+tag@sub.d-x.test"},
	     ID ";\n\tspf=pass smtp.mailfrom=first.last+tag@sub.d-x.test"},
	    {{.authserv_id = ID, .mfrom_spf = PM_SPF_PASS, .mailfrom = "a@-d.test"},
	     ID ";\n\tspf=pass smtp.mailfrom=\"a@-d.test\""},
	    /* hostile comment: parentheses and backslashes as quoted-pairs */
	    {{.authserv_id = ID,
	      .mfrom_spf = PM_SPF_PERMERROR,
	      .mailfrom = "a@b.test",
	      .mfrom_comment = "bad (x) \\ \r\n"},
	     ID ";\n\tspf=permerror (bad \\(x\\) \\\\x5c \\\\x0d\\\\x0a) smtp.mailfrom=a@b.test"},
	    {{.authserv_id = ID, .trusted_network = "::1/128 (x"},
	     ID "; none (client in trusted network ::1/128 \\(x)"},
	    /* a strange or missing authserv-id */
	    {{.authserv_id = "my id"}, "\"my id\"; none"},
	    {{.authserv_id = NULL}, "localhost; none"},
	};
	for (size_t i = 0; i < PM_ARRAY_LEN(cases); i++) {
		char *got = authres_format(&cases[i].in);
		if (strcmp(got, cases[i].want) != 0)
			fail_msg("case %zu:\n got  %s\n want %s", i, got, cases[i].want);
		check_printable(i, got);
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
	if (strstr(got, "...\"") == NULL)
		fail_msg("long values: got %s, want a value cut with ...", got);
	free(got);
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

/* test_roundtrip - what we format, we recognise as ours */
static void test_roundtrip(void **state)
{
	(void)state;
	struct authres_input in = {
	    .authserv_id = "Mx.Example.Org", .mfrom_spf = PM_SPF_PASS, .mailfrom = "a@b.test"};
	char *v = authres_format(&in);
	if (!authres_is_ours(v, ID))
		fail_msg("round trip: got not ours for %s, want ours", v);
	if (authres_is_ours(v, "mx.example"))
		fail_msg("round trip: got ours for a shorter id, want not ours");
	free(v);
}

/* main - run the cases */
int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_format),
	    cmocka_unit_test(test_long),
	    cmocka_unit_test(test_is_ours),
	    cmocka_unit_test(test_roundtrip),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
