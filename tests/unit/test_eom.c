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
 *	From header DMARC cannot judge reported as dmarc=permerror; the ARC
 *	rescue of a DMARC fail (arctrust.c through eom_evaluate, with a fake
 *	verifier: this test links its own arc_verify_eom, so the chain's
 *	result is the case's) per arc.mode, its header and its verdict.
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

/* The fake ARC verifier's answer (eom.o calls these; arc.o is not linked). */
static struct arc_result fake_arc;
static struct arc_set fake_sets[3];

/* arc_verify_eom - the fake: a copy of fake_arc (set[] allocated) */
void arc_verify_eom(struct arc_verifier *v, struct arc_result *out)
{
	(void)v;
	*out = fake_arc;
	out->set = NULL;
	if (fake_arc.n > 0) {
		out->set = xcalloc(fake_arc.n, sizeof(*out->set));
		memcpy(out->set, fake_arc.set, fake_arc.n * sizeof(*out->set));
	}
}

/* arc_result_free - the fake's: set[] only (the AAR texts are static) */
void arc_result_free(struct arc_result *r)
{
	free(r->set);
	memset(r, 0, sizeof(*r));
}

/* pm_arc_result_name - as arc.c names them */
const char *pm_arc_result_name(enum pm_arc_result r)
{
	static const char *const names[] = {"none", "pass", "fail", "temperror"};

	return (int)r >= 0 && r < PM_ARC_NRESULTS ? names[r] : "unknown";
}

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

/* fake_chain - fake_arc: result r, sealers d[] (instance 1 first), their AAR payloads */
static void fake_chain(enum pm_arc_result r, const char *const *d, const char *const *aar, size_t n)
{
	memset(&fake_arc, 0, sizeof(fake_arc));
	memset(fake_sets, 0, sizeof(fake_sets));
	fake_arc.result = r;
	fake_arc.set = fake_sets;
	fake_arc.n = n;
	fake_arc.oldest_pass = r == PM_ARC_PASS ? 1 : 0;
	if (r == PM_ARC_FAIL)
		snprintf(fake_arc.reason, sizeof(fake_arc.reason), "seal i=%zu did not verify", n);
	for (size_t i = 0; i < n; i++) {
		fake_sets[i].instance = (unsigned)i + 1;
		snprintf(fake_sets[i].domain, sizeof(fake_sets[i].domain), "%s", d[i]);
		snprintf(fake_sets[i].cv, sizeof(fake_sets[i].cv), "%s", i == 0 ? "none" : "pass");
		fake_sets[i].as_valid = r == PM_ARC_PASS;
		fake_sets[i].aar = (char *)aar[i];
	}
}

/* test_arc_rescue - a trusted sealer's rescue of a DMARC fail, per arc.mode */
static void test_arc_rescue(void **state)
{
#define ARC_POLICY(mode)                                                                           \
	"authserv_id = \"" ID "\";\n"                                                              \
	"spf: { mode = \"tag\"; helo_mode = \"off\"; };\n"                                         \
	"iprev: { mode = \"off\"; };\n"                                                            \
	"dkim: { mode = \"off\"; };\n"                                                             \
	"dmarc: { mode = \"enforce\"; always_reject = [ \"bank.example\" ]; };\n"                  \
	"arc: { mode = \"" mode "\"; trusted_sealers = [ \"lists.example\" ]; };\n"
	struct policy *pol[4] = {load(ARC_POLICY("log")), load(ARC_POLICY("tag")),
	                         load(ARC_POLICY("enforce")), load(ARC_POLICY("off"))};
	static const char *const lists[] = {"lists.example"};
	static const char *const evil[] = {"evil.example"};
	static const char *const pass_aar[] = {"lists.example; dkim=pass header.d=author.example; "
	                                       "dmarc=pass header.from=author.example"};
	static const char *const bank_aar[] = {
	    "lists.example; dmarc=pass header.from=bank.example"};
	static const struct {
		const char *name;
		int policy; /* 0 log, 1 tag, 2 enforce, 3 off */
		enum pm_arc_result arc;
		const char *const *d;
		const char *const *aar;
		const char *author;
		bool rescued, override;
		enum pm_dmarc_policy disposition;
		enum pm_verdict_action action;
		enum pm_reason reason;
		const char *authres; /* NULL: not checked */
	} cases[] = {
	    {"tag: trusted sealer vouches", 1, PM_ARC_PASS, lists, pass_aar, "author.example", true,
	     true, PM_DMARC_P_NONE, PM_V_CONTINUE, RSN_ARC_OVERRIDE,
	     ID "; spf=fail smtp.mailfrom=a@b.test;\n\t"
	        "arc=pass (i=1 d=lists.example) smtp.remote-ip=192.0.2.1 header.oldest-pass=0;\n\t"
	        "dmarc=fail (p=reject dis=none; arc_override d=lists.example i=1)\n\t"
	        "header.from=author.example policy.dmarc=none"},
	    {"enforce: trusted sealer vouches", 2, PM_ARC_PASS, lists, pass_aar, "author.example",
	     true, true, PM_DMARC_P_NONE, PM_V_CONTINUE, RSN_ARC_OVERRIDE, NULL},
	    {"log: the rescue is noted, not applied", 0, PM_ARC_PASS, lists, pass_aar,
	     "author.example", true, false, PM_DMARC_P_REJECT, PM_V_REJECT, RSN_DMARC_REJECT,
	     ID "; spf=fail smtp.mailfrom=a@b.test;\n\t"
	        "dmarc=fail (p=reject dis=reject) header.from=author.example"},
	    {"tag: untrusted sealer claiming pass", 1, PM_ARC_PASS, evil, pass_aar,
	     "author.example", false, false, PM_DMARC_P_REJECT, PM_V_REJECT, RSN_DMARC_REJECT,
	     NULL},
	    {"tag: chain failed", 1, PM_ARC_FAIL, lists, pass_aar, "author.example", false, false,
	     PM_DMARC_P_REJECT, PM_V_REJECT, RSN_DMARC_REJECT,
	     ID "; spf=fail smtp.mailfrom=a@b.test;\n\t"
	        "arc=fail (i=1 d=lists.example: seal i=1 did not verify)\n\t"
	        "smtp.remote-ip=192.0.2.1;\n\tdmarc=fail (p=reject dis=reject) "
	        "header.from=author.example"},
	    {"tag: dmarc.always_reject wins", 1, PM_ARC_PASS, lists, bank_aar, "bank.example",
	     false, false, PM_DMARC_P_REJECT, PM_V_REJECT, RSN_DMARC_REJECT, NULL},
	    {"enforce: no ARC: arc=none, DMARC as before", 2, PM_ARC_NONE, lists, pass_aar,
	     "author.example", false, false, PM_DMARC_P_REJECT, PM_V_REJECT, RSN_DMARC_REJECT,
	     ID "; spf=fail smtp.mailfrom=a@b.test;\n\t"
	        "arc=none; dmarc=fail (p=reject dis=reject) header.from=author.example"},
	    {"log: no ARC: no arc= in the header", 0, PM_ARC_NONE, lists, pass_aar,
	     "author.example", false, false, PM_DMARC_P_REJECT, PM_V_REJECT, RSN_DMARC_REJECT,
	     ID "; spf=fail smtp.mailfrom=a@b.test;\n\t"
	        "dmarc=fail (p=reject dis=reject) header.from=author.example"},
	    /* arc.mode off: not verified at all: no arc=, not even none, and no rescue */
	    {"off: no ARC: no arc= in the header", 3, PM_ARC_NONE, lists, pass_aar,
	     "author.example", false, false, PM_DMARC_P_REJECT, PM_V_REJECT, RSN_DMARC_REJECT,
	     ID "; spf=fail smtp.mailfrom=a@b.test;\n\t"
	        "dmarc=fail (p=reject dis=reject) header.from=author.example"},
	    {"off: a trusted sealer's chain is not even looked at", 3, PM_ARC_PASS, lists, pass_aar,
	     "author.example", false, false, PM_DMARC_P_REJECT, PM_V_REJECT, RSN_DMARC_REJECT,
	     ID "; spf=fail smtp.mailfrom=a@b.test;\n\t"
	        "dmarc=fail (p=reject dis=reject) header.from=author.example"},
	};
	struct pm_addr sender;
	const char *why;
	int bad = 0, dummy = 0;

	(void)state;
	assert_int_equal(addr_parse("a@b.test", 8, 0, &sender, &why), ADDR_OK);
	for (size_t i = 0; i < PM_ARRAY_LEN(cases); i++) {
		const struct policy *p = pol[cases[i].policy];
		struct dmarc_record rec;
		struct eom_input in;
		struct auth_eom a;
		struct pm_facts f;
		struct pm_verdict v;
		char from[128];
		char *got;

		fake_chain(cases[i].arc, cases[i].d, cases[i].aar,
		           cases[i].arc == PM_ARC_NONE ? 0 : 1);
		memset(&rec, 0, sizeof(rec));
		rec.status = DMARC_REC_FOUND;
		snprintf(rec.domain, sizeof(rec.domain), "%s", cases[i].author);
		snprintf(rec.org_domain, sizeof(rec.org_domain), "%s", cases[i].author);
		snprintf(rec.found_at, sizeof(rec.found_at), "%s", cases[i].author);
		rec.p = rec.sp = PM_DMARC_P_REJECT;
		rec.pct = 100;
		input(p, &in);
		snprintf(from, sizeof(from), " a@%s", cases[i].author);
		in.from_count = 1;
		in.from_value = from;
		in.sender_status = ADDR_OK;
		in.sender = &sender;
		in.mfrom_spf = PM_SPF_FAIL;
		in.mfrom_spf_domain = "b.test";
		in.sender_dmarc = &rec;
		in.arc = (struct arc_verifier *)&dummy; /* the fake never reads it */
		eom_evaluate(&in, &a);
		if (a.arc_done != (cases[i].policy != 3)) {
			print_error("%s: got arc_done %d\n", cases[i].name, a.arc_done);
			bad++;
		}
		if (a.arc_rescue.rescued != cases[i].rescued ||
		    a.arc_override != cases[i].override || a.disposition != cases[i].disposition) {
			print_error("%s: got rescued=%d override=%d dis=%d, want %d %d %d (%s)\n",
			            cases[i].name, a.arc_rescue.rescued, a.arc_override,
			            a.disposition, cases[i].rescued, cases[i].override,
			            cases[i].disposition,
			            a.arc_rescue.why_not ? a.arc_rescue.why_not : "");
			bad++;
		}
		if (a.dmarc.result != PM_DMARC_FAIL) {
			print_error("%s: got dmarc %d, want fail\n", cases[i].name, a.dmarc.result);
			bad++;
		}
		memset(&f, 0, sizeof(f));
		f.stage = PM_STAGE_EOM;
		f.from = a.from;
		f.author = a.author;
		f.dmarc = a.dmarc.result;
		f.dmarc_disposition = a.disposition;
		f.dmarc_mode = a.dmarc_mode;
		f.dmarc_rule = a.dmarc_rule;
		f.arc = a.arc_done ? a.arc.result : PM_ARC_NONE;
		f.arc_override = a.arc_override;
		f.mfrom_spf = PM_SPF_UNCHECKED;
		verdict_decide(&f, p, &v);
		if (v.action != cases[i].action || v.reason != cases[i].reason) {
			print_error("%s: got verdict %s %s, want %s %s\n", cases[i].name,
			            pm_verdict_action_name(v.action), pm_reason_name(v.reason),
			            pm_verdict_action_name(cases[i].action),
			            pm_reason_name(cases[i].reason));
			bad++;
		}
		if (cases[i].override &&
		    (v.rule == NULL || strcmp(v.rule, "arc.trusted_sealers") != 0)) {
			print_error("%s: got rule %s, want arc.trusted_sealers\n", cases[i].name,
			            v.rule ? v.rule : "(null)");
			bad++;
		}
		got = eom_authres_value(&in, &a, &v);
		if (cases[i].authres != NULL && strcmp(got, cases[i].authres) != 0) {
			print_error("%s: got A-R \"%s\", want \"%s\"\n", cases[i].name, got,
			            cases[i].authres);
			bad++;
		}
		free(got);
		eom_free(&a);
		/* trusted and authenticated clients: not verified, no arc= (not even none) */
		for (int who = 0; who < 2; who++) {
			in.trusted = who == 0;
			in.authenticated = who == 1;
			in.auth_user = "alice";
			eom_evaluate(&in, &a);
			got = eom_authres_value(&in, &a, &v);
			if (a.arc_done || got == NULL || strstr(got, " arc=") != NULL ||
			    strstr(got, "\tarc=") != NULL) {
				print_error("%s: %s client: arc_done %d, A-R \"%s\"\n",
				            cases[i].name, who == 0 ? "trusted" : "authenticated",
				            a.arc_done, got ? got : "(null)");
				bad++;
			}
			free(got);
			eom_free(&a);
		}
	}
	for (size_t i = 0; i < PM_ARRAY_LEN(pol); i++)
		policy_release(pol[i]);
	assert_int_equal(bad, 0);
#undef ARC_POLICY
}

/* main - run the cases in a temporary directory */
int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_from),
	    cmocka_unit_test(test_authres),
	    cmocka_unit_test(test_arc_rescue),
	};
	int rc;

	if (mkdtemp(tmp_dir) == NULL)
		return 1;
	rc = cmocka_run_group_tests(tests, NULL, NULL);
	unit_policy_dir_free(tmp_dir);
	return rc;
}
