/*
 * NAME
 *	test_eom - unit tests for eom.c
 * DESCRIPTION
 *	eom_evaluate()'s From judgement (no From, several, unparsable,
 *	several addresses, an address literal, a display name showing
 *	another domain's address, one author) with must_sign and no DMARC
 *	(no DNS), trusted and authenticated clients left alone; then
 *	eom_authres_value() per mode: SPF and HELO results reported in tag
 *	mode only, neither the HELO nor the iprev result for an
 *	authenticated client, the allow-list and repeated-field comment, a
 *	From header DMARC cannot judge reported as dmarc=permerror.
 * DIAGNOSTICS
 *	"case N: got X, want Y" for each mismatch.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>

#include "config.h"
#include "eom.h"
#include "policy.h"
#include "unitpolicy.h"
#include "util.h"

#define ID "mx.example.org"

static char tmp_dir[] = "/tmp/test_eom.XXXXXX";

/* load - write text to a file and load it */
static struct policy *load(const char *text)
{
	return unit_policy_write(tmp_dir, text);
}

/* input - the facts of a plain untrusted client with no headers yet */
static void input(const struct policy *p, struct eom_input *in)
{
	memset(in, 0, sizeof(*in));
	in->policy = p;
	in->client_addr = "192.0.2.1";
	in->helo = "client.example.net";
	in->helo_spf = PM_SPF_UNCHECKED;
	in->sender_status = ADDR_NULL;
	in->mfrom_spf = PM_SPF_UNCHECKED;
	in->iprev = PM_IPREV_UNCHECKED;
}

/* test_from - the From judgement, with must_sign (DKIM log mode) and DMARC off */
static void test_from(void **state)
{
	static const struct {
		unsigned count;
		const char *value;
		enum from_status from;
		const char *author, *why;
		bool name_address;
		enum must_sign_status must_sign;
	} cases[] = {
	    {0, NULL, FROM_MISSING, "", "no From header field", false, MUST_SIGN_NOT_LISTED},
	    {2, " a@example.org", FROM_SEVERAL, "", "several From header fields", false,
	     MUST_SIGN_NOT_LISTED},
	    {1, " a@example.org, b@example.org", FROM_SEVERAL_ADDRS, "",
	     "From names several addresses", false, MUST_SIGN_NOT_LISTED},
	    {1, " a@[192.0.2.7]", FROM_OK, "", "From domain is an address literal", false,
	     MUST_SIGN_NOT_LISTED},
	    {1, " a@example.org", FROM_OK, "example.org", NULL, false, MUST_SIGN_NONE_PASSING},
	    {1, " Bob <b@other.test>", FROM_OK, "other.test", NULL, false, MUST_SIGN_NOT_LISTED},
	    {1, " \"x@evil.test\" <b@example.org>", FROM_OK, "example.org",
	     "display name shows an address at evil.test", true, MUST_SIGN_NONE_PASSING},
	    {1, " \"x@mail.example.org\" <b@example.org>", FROM_OK, "example.org", NULL, false,
	     MUST_SIGN_NONE_PASSING},
	};
	struct policy *p = load("authserv_id = \"" ID "\";\n"
	                        "dkim: { mode = \"log\"; must_sign = [ \"example.org\" ]; };\n"
	                        "dmarc: { mode = \"off\"; };\n");
	int bad = 0;

	(void)state;
	for (size_t i = 0; i < PM_ARRAY_LEN(cases); i++) {
		struct eom_input in;
		struct auth_eom a;

		input(p, &in);
		in.from_count = cases[i].count;
		in.from_value = cases[i].value;
		eom_evaluate(&in, &a);
		if (!a.checked || a.dkim_done || a.from != cases[i].from ||
		    strcmp(a.author, cases[i].author) != 0 ||
		    a.from_name_address != cases[i].name_address ||
		    a.must_sign != cases[i].must_sign ||
		    (cases[i].why == NULL
		         ? a.from_why != NULL
		         : a.from_why == NULL || strcmp(a.from_why, cases[i].why) != 0) ||
		    a.dmarc.result != PM_DMARC_UNCHECKED || a.dmarc_mode != PM_MODE_OFF) {
			print_error(
			    "case %zu: got from %d author \"%s\" why \"%s\" name %d must_sign %d; "
			    "want from %d author \"%s\" why \"%s\" name %d must_sign %d\n",
			    i, a.from, a.author, a.from_why ? a.from_why : "(null)",
			    a.from_name_address, a.must_sign, cases[i].from, cases[i].author,
			    cases[i].why ? cases[i].why : "(null)", cases[i].name_address,
			    cases[i].must_sign);
			bad++;
		}
		/* trusted and authenticated clients: nothing evaluated */
		in.trusted = true;
		eom_evaluate(&in, &a);
		if (a.checked || a.from != FROM_UNCHECKED)
			print_error("case %zu: trusted: evaluated\n", i), bad++;
		in.trusted = false;
		in.authenticated = true;
		eom_evaluate(&in, &a);
		if (a.checked || a.from != FROM_UNCHECKED)
			print_error("case %zu: authenticated: evaluated\n", i), bad++;
	}
	policy_release(p);
	assert_int_equal(bad, 0);
}

/* test_authres - what is reported, per mode */
static void test_authres(void **state)
{
	struct policy *tag = load("authserv_id = \"" ID "\";\n"
	                          "spf: { mode = \"tag\"; helo_mode = \"tag\"; };\n"
	                          "iprev: { mode = \"tag\"; };\n"
	                          "dkim: { mode = \"off\"; };\n"
	                          "dmarc: { mode = \"tag\"; };\n"
	                          "headers: { singletons = \"tag\"; };\n");
	struct policy *log = load("authserv_id = \"" ID "\";\n"
	                          "spf: { mode = \"log\"; helo_mode = \"log\"; };\n"
	                          "iprev: { mode = \"log\"; };\n"
	                          "dkim: { mode = \"off\"; };\n"
	                          "dmarc: { mode = \"off\"; };\n"
	                          "headers: { singletons = \"log\"; };\n");
	struct pm_addr sender;
	const char *why;
	struct {
		struct policy *p;
		bool authenticated, allowed, repeated, no_from;
		const char *want;
	} cases[] = {
	    {tag, false, false, false, false,
	     ID ";\n\tiprev=pass policy.iprev=192.0.2.1 (client.example.net);\n\t"
	        "spf=pass smtp.mailfrom=a@b.test; spf=none smtp.helo=client.example.net"},
	    {log, false, false, false, false, ID "; none"},
	    {tag, true, false, false, false,
	     ID "; auth=pass smtp.auth=alice;\n\tspf=pass smtp.mailfrom=a@b.test"},
	    {log, false, true, true, false,
	     ID ";\n\tnone (allowed by local policy: client 192.0.2.1)"},
	    {tag, false, true, true, false,
	     ID ";\n\tiprev=pass policy.iprev=192.0.2.1 (client.example.net);\n\t"
	        "spf=pass smtp.mailfrom=a@b.test;\n\tspf=none smtp.helo=client.example.net\n\t"
	        "(allowed by local policy: client 192.0.2.1; repeated header field: Subject)"},
	    {tag, false, false, false, true,
	     ID ";\n\tiprev=pass policy.iprev=192.0.2.1 (client.example.net);\n\t"
	        "spf=pass smtp.mailfrom=a@b.test; spf=none smtp.helo=client.example.net;\n\t"
	        "dmarc=permerror (no From header field)"},
	};
	int bad = 0;

	(void)state;
	assert_int_equal(addr_parse("a@b.test", 8, 0, &sender, &why), ADDR_OK);
	for (size_t i = 0; i < PM_ARRAY_LEN(cases); i++) {
		struct eom_input in;
		struct auth_eom a;
		struct pm_verdict v;
		char *got;

		input(cases[i].p, &in);
		in.authenticated = cases[i].authenticated;
		in.auth_user = "alice";
		in.iprev_applies = true;
		in.iprev = PM_IPREV_PASS;
		in.iprev_why = "client.example.net";
		in.helo_spf = PM_SPF_NONE;
		in.sender_status = ADDR_OK;
		in.sender = &sender;
		in.mfrom_spf = PM_SPF_PASS;
		in.mfrom_spf_domain = "b.test";
		in.repeated_field = cases[i].repeated ? "Subject" : NULL;
		memset(&a, 0, sizeof(a));
		if (cases[i].no_from) {
			a.checked = true;
			a.from = FROM_MISSING;
			a.from_why = "no From header field";
		}
		memset(&v, 0, sizeof(v));
		v.allowed = cases[i].allowed;
		v.allowed_by = "client 192.0.2.1";
		got = eom_authres_value(&in, &a, &v);
		if (got == NULL || strcmp(got, cases[i].want) != 0) {
			print_error("case %zu: got \"%s\", want \"%s\"\n", i, got ? got : "(null)",
			            cases[i].want);
			bad++;
		}
		free(got);
	}
	policy_release(tag);
	policy_release(log);
	assert_int_equal(bad, 0);
}

/* main - run the cases in a temporary directory */
int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_from),
	    cmocka_unit_test(test_authres),
	};
	int rc;

	if (mkdtemp(tmp_dir) == NULL)
		return 1;
	rc = cmocka_run_group_tests(tests, NULL, NULL);
	unit_policy_dir_free(tmp_dir);
	return rc;
}
