/*
 * NAME
 *	test_session - unit tests for session.c
 * DESCRIPTION
 *	A session on an installed policy whose checks make no DNS lookups:
 *	its lifetime (the count of open sessions), the client (an address,
 *	a trusted one, none: a local submission), what the MTA says of
 *	itself (the local address in canonical form, a wildcard skipped),
 *	MAIL FROM (syntax, a sender block entry: the verdict names the list
 *	matched, whose entry the state keeps), and RCPT TO (unknown
 *	recipients counted, accepted ones kept with their domains, an
 *	allowed one counted, the recipients' text for %{rcpt}); a new MAIL
 *	FROM forgets the message. Greylisting and the rate limits over a
 *	fake store backend (fakestore.h) installed as the current store:
 *	new, passed, known, skipped (postmaster, trusted), the counts per
 *	recipient and per message, a rule over its limit, the take-back of
 *	an earlier rule's count, a failing store (fail open).
 * DIAGNOSTICS
 *	cmocka's "got X, want Y" for each mismatch.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <arpa/inet.h>
#include <netinet/in.h>

#include <cmocka.h>

#include "eom.h"
#include "fakestore.h"
#include "greylist.h"
#include "policy.h"
#include "session.h"
#include "unitpolicy.h"
#include "util.h"

static char tmp_dir[] = "/tmp/test_session.XXXXXX";

static const char POLICY[] =
    "authserv_id = \"mx.example.org\";\n"
    "trusted_networks = [ \"127.0.0.0/8\" ];\n"
    "iprev = { mode = \"off\"; };\n"
    "spf = { mode = \"off\"; helo_mode = \"off\"; };\n"
    "sender_domain = { mode = \"off\"; };\n"
    "dkim = { mode = \"off\"; };\n"
    "dmarc = { mode = \"off\"; };\n"
    "recipients = { domains = [ \"example.org\" ];\n"
    "  addresses = [ \"a@example.org\", \"b@example.org\" ]; max_unknown = 5; };\n"
    "lists = { sender = { block = [ \"bad@evil.test\" ]; };\n"
    "  recipient = { allow = [ \"b@example.org\" ]; }; };\n";

/* setup - install POLICY as the current policy */
static int setup(void **state)
{
	(void)state;
	policy_set_current(unit_policy_write(tmp_dir, POLICY));
	return 0;
}

/* client - a session whose client is ip (NULL: no address) */
static struct session *client(const char *ip)
{
	struct session *s = session_new();
	struct sockaddr_in sin;

	assert_non_null(s);
	memset(&sin, 0, sizeof(sin));
	sin.sin_family = AF_INET;
	if (ip != NULL)
		assert_int_equal(inet_pton(AF_INET, ip, &sin.sin_addr), 1);
	session_client(s, "client.example.net", ip != NULL ? (struct sockaddr *)&sin : NULL);
	return s;
}

/* test_client - lifetime, the client's address and trust, the MTA's own facts */
static void test_client(void **state)
{
	unsigned before = session_count();
	struct session *s = client("192.0.2.1"), *t = client("127.0.0.1"), *l = client(NULL);

	(void)state;
	assert_int_equal(session_count(), before + 3);
	assert_string_equal(s->addr, "192.0.2.1");
	assert_false(s->trusted);
	assert_true(t->trusted);
	assert_string_equal(t->trusted_net, "127.0.0.0/8");
	assert_true(l->trusted);
	assert_string_equal(l->trusted_net, "local");

	session_mta(s, "mx.example.org", NULL, "IPv6:2001:db8::25", "192.0.2.26");
	assert_string_equal(s->mta_host, "mx.example.org");
	assert_null(s->mta_daemon);
	assert_string_equal(s->local_addr, "2001:db8::25");
	session_mta(t, NULL, "smtpd", "0.0.0.0", "192.0.2.26");
	assert_string_equal(t->local_addr, "192.0.2.26"); /* the wildcard says nothing */
	session_mta(l, NULL, NULL, NULL, NULL);
	assert_null(l->local_addr);

	session_free(s);
	session_free(t);
	session_free(l);
	assert_int_equal(session_count(), before);
}

/* test_mail - sender syntax, and a block entry named by the verdict and kept */
static void test_mail(void **state)
{
	struct session *s = client("192.0.2.1");
	struct pm_verdict v;

	(void)state;
	session_helo(s, "client.example.net");
	session_mail(s, "<not an address", NULL, &v);
	assert_int_equal(v.check, CHK_SENDER_SYNTAX);
	assert_int_equal(v.action, PM_V_REJECT);

	session_mail(s, "<bad@evil.test>", NULL, &v);
	assert_int_equal(v.check, CHK_LISTS);
	assert_int_equal(v.reason, RSN_SENDER_BLOCKED);
	assert_true(v.list.set);
	assert_int_equal(v.list.kind, LIST_SENDER);
	assert_true(v.list.block);
	assert_non_null(s->msg.lists.hit[1][LIST_SENDER]);
	assert_non_null(strstr(s->msg.lists.hit[1][LIST_SENDER], "bad@evil.test"));
	assert_null(session_mail_why(s, &v)); /* no SPF ran */

	session_mail(s, "<good@example.net>", NULL, &v);
	assert_int_equal(v.action, PM_V_CONTINUE);
	assert_int_equal(v.check, CHK_NONE);
	assert_null(s->msg.lists.hit[1][LIST_SENDER]); /* the new message forgot it */
	assert_int_equal(s->messages, 3);
	session_free(s);
}

/*
 * test_arc_verifier - an ARC verifier beside the DKIM one (here alone: DKIM
 * and DMARC are off, arc.mode is its default tag) for an untrusted,
 * unauthenticated client, handed to end of message and freed with the message
 */
static void test_arc_verifier(void **state)
{
	struct session *s = client("192.0.2.1"), *t = client("127.0.0.1");
	struct pm_verdict v;
	struct eom_input in;

	(void)state;
	session_helo(s, "client.example.net");
	session_mail(s, "<good@example.net>", NULL, &v);
	message_header(s, "Subject", " hello", true);
	assert_non_null(s->msg.arc);
	assert_null(s->msg.dkim); /* DKIM and DMARC off: ARC alone */
	message_eoh(s, true);
	session_eom_input(s, true, &in);
	assert_ptr_equal(in.arc, s->msg.arc);
	message_reset(&s->msg);
	assert_null(s->msg.arc);

	/* an authenticated client: none */
	session_mail(s, "<good@example.net>", "alice", &v);
	message_header(s, "Subject", " hello", true);
	assert_null(s->msg.arc);

	/* a trusted client: none */
	session_helo(t, "localhost");
	session_mail(t, "<good@example.net>", NULL, &v);
	message_header(t, "Subject", " hello", true);
	assert_null(t->msg.arc);
	session_free(s);
	session_free(t);
}

/* rcpt - judge raw and apply the verdict's class; returns the check */
static enum pm_check_id rcpt(struct session *s, const char *raw)
{
	struct rcpt_judgement j;
	enum pm_check_id c;

	session_rcpt_judge(s, raw, &j);
	c = j.verdict.check;
	session_rcpt_done(s, &j, j.verdict.action == PM_V_CONTINUE);
	return c;
}

/* test_rcpt - unknown recipients counted, accepted ones kept, the allowed ones counted */
static void test_rcpt(void **state)
{
	struct session *s = client("192.0.2.1");
	struct pm_verdict v;
	struct strbuf sb;
	struct pm_facts f;

	(void)state;
	session_mail(s, "<good@example.net>", NULL, &v);
	assert_int_equal(rcpt(s, "<nobody@example.org>"), CHK_RECIPIENTS);
	assert_int_equal(s->unknown_rcpts, 1);
	assert_int_equal(rcpt(s, "<a@example.org>"), CHK_NONE);
	assert_int_equal(rcpt(s, "<B@Example.org>"), CHK_NONE);
	assert_int_equal(rcpt(s, "<a b>"), CHK_RCPT_SYNTAX);
	assert_int_equal(s->unknown_rcpts, 1);
	assert_int_equal(s->msg.nrcpt_list, 2);
	assert_string_equal(s->msg.rcpt_domains[0], "example.org");
	assert_int_equal(s->msg.rcpt_allowed, 1);
	assert_string_equal(message_rcpts_text(&s->msg, &sb), "a@example.org,B@example.org");
	sb_free(&sb);

	/* not every recipient is allowed: the message is not */
	session_facts(s, PM_STAGE_EOM, &f);
	assert_int_equal(f.rcpt_accepted, 2);
	assert_int_equal(f.domains.nrcpt, 2);
	assert_false(f.list_allow & PM_LIST_BIT(LIST_RECIPIENT));

	session_mail(s, "<good@example.net>", NULL, &v);
	assert_int_equal(s->msg.nrcpt_list, 0);
	assert_null(message_rcpts_text(&s->msg, &sb));
	sb_free(&sb);
	session_free(s);
}

static const char POLICY_STATE[] =
    "authserv_id = \"mx.example.org\";\n"
    "trusted_networks = [ \"127.0.0.0/8\" ];\n"
    "iprev = { mode = \"off\"; };\n"
    "spf = { mode = \"off\"; helo_mode = \"off\"; };\n"
    "sender_domain = { mode = \"off\"; };\n"
    "dkim = { mode = \"off\"; };\n"
    "dmarc = { mode = \"off\"; };\n"
    "recipients = { domains = [ \"example.org\" ];\n"
    "  addresses = [ \"a@example.org\", \"b@example.org\" ]; };\n"
    "greylisting = { mode = \"enforce\"; auto_allow_after = 0; };\n"
    "ratelimits = (\n"
    "  { name = \"per-ip\"; key = \"client_address\"; count = \"recipients\"; window = 3600;\n"
    "    limit = 3; },\n"
    "  { name = \"per-rcpt\"; key = \"recipient\"; window = 3600; limit = 1;\n"
    "    action = \"reject\"; } );\n";

/* judge - judge raw, keep j's record and reply context, apply the verdict's class */
static enum pm_check_id judge(struct session *s, const char *raw, struct rcpt_judgement *j,
                              struct verdict_ctx *vc)
{
	session_rcpt_judge(s, raw, j);
	session_rcpt_ctx(j, vc);
	if (vc->greylist != NULL || vc->ratelimit != NULL)
		session_log(s, vc, j->verdict.action == PM_V_CONTINUE ? "accept" : "tempfail",
		            j->verdict.would, NULL, &j->verdict);
	session_rcpt_done(s, j, j->verdict.action == PM_V_CONTINUE);
	return j->verdict.check;
}

/* age_triplet - make j's triplet first seen secs ago (the milter reads the real clock) */
static void age_triplet(struct store *st, const struct rcpt_judgement *j, long secs)
{
	char key[STORE_KEY_MAX + 1], val[64];
	long first = (long)time(NULL) - secs;

	assert_int_equal(greylist_key(&j->triplet, key, sizeof(key)), 0);
	snprintf(val, sizeof(val), "%ld 0 %ld", first, first);
	assert_int_equal(store_set(st, key, val, 86400), STORE_OK);
}

/* test_state - greylisting then the rate limits at RCPT, over the store the session holds */
static void test_state(void **state)
{
	static struct rcpt_judgement j;
	struct policy *old = policy_acquire();
	struct store *st;
	struct session *s, *t, *u;
	struct pm_verdict v;
	struct verdict_ctx vc, eom = {.stage = PM_STAGE_EOM};

	(void)state;
	fake_reset();
	policy_set_current(unit_policy_write(tmp_dir, POLICY_STATE));
	st = fake_store();
	store_set_current(store_hold(st));
	s = client("192.0.2.1");
	assert_ptr_equal(s->store, st);
	session_mail(s, "<Good+tag@Example.net>", NULL, &v);

	/* first sight: 451 4.7.1 with the retry; nothing counted */
	assert_int_equal(judge(s, "<a@example.org>", &j, &vc), CHK_GREYLIST);
	assert_int_equal(j.verdict.action, PM_V_TEMPFAIL);
	assert_string_equal(vc.retry, "300");
	assert_non_null(vc.greylist);
	assert_string_equal(vc.greylist->state, "new");
	assert_string_equal(vc.greylist->network, "192.0.2.0/24");
	assert_string_equal(vc.greylist->sender, "good@example.net");
	assert_string_equal(vc.greylist->recipient, "a@example.org");
	assert_string_equal(vc.greylist->backend, "lmdb");
	assert_null(vc.ratelimit);
	assert_int_equal(fake_counter("rl:per-ip:192.0.2.1"), 0);
	assert_int_equal(s->msg.nrcpt_list, 0);
	/* the delay is over: passed, then counted */
	age_triplet(st, &j, 400);
	assert_int_equal(judge(s, "<a@example.org>", &j, &vc), CHK_NONE);
	assert_int_equal(j.grey.state, GL_PASSED);
	assert_int_equal(fake_counter("rl:per-ip:192.0.2.1"), 1);
	assert_int_equal(fake_counter("rl:per-rcpt:a@example.org"), 1);
	/* postmaster: skipped, counted */
	assert_int_equal(judge(s, "<postmaster@example.org>", &j, &vc), CHK_NONE);
	assert_int_equal(j.grey.state, GL_SKIPPED);
	assert_string_equal(j.grey_skip, "postmaster");
	assert_int_equal(fake_counter("rl:per-ip:192.0.2.1"), 2);
	/* a again in the same message: known; per-rcpt counts messages, not again */
	assert_int_equal(judge(s, "<a@example.org>", &j, &vc), CHK_NONE);
	assert_int_equal(j.grey.state, GL_KNOWN);
	assert_int_equal(fake_counter("rl:per-ip:192.0.2.1"), 3);
	assert_int_equal(fake_counter("rl:per-rcpt:a@example.org"), 1);
	assert_int_equal(s->msg.nrcpt_list, 3);
	assert_int_equal(s->msg.ngreylist, 3);
	assert_int_equal(s->msg.ratelimit.n, 5); /* a: 2, postmaster: 2, a again: per-ip */
	session_log(s, &eom, "accept", false, NULL, NULL);

	/* the next message: per-ip is over its limit, 451 */
	session_mail(s, "<good@example.net>", NULL, &v);
	assert_int_equal(s->msg.ngreylist, 0);
	assert_int_equal(judge(s, "<a@example.org>", &j, &vc), CHK_RATELIMIT);
	assert_int_equal(j.verdict.action, PM_V_TEMPFAIL);
	assert_int_equal(j.verdict.reply, PM_R_RATELIMIT_TEMPFAIL);
	assert_non_null(vc.ratelimit);
	assert_string_equal(vc.ratelimit->rule, "per-ip");
	assert_string_equal(vc.ratelimit->state, "over");
	assert_int_equal(vc.ratelimit->count, 3);
	assert_int_equal(fake_counter("rl:per-ip:192.0.2.1"), 3);

	/* another client of the network: per-rcpt refuses, per-ip's count is taken back */
	t = client("192.0.2.2");
	session_mail(t, "<good@example.net>", NULL, &v);
	assert_int_equal(judge(t, "<a@example.org>", &j, &vc), CHK_RATELIMIT);
	assert_int_equal(j.verdict.action, PM_V_REJECT);
	assert_string_equal(vc.ratelimit->rule, "per-rcpt");
	assert_int_equal(fake_counter("rl:per-ip:192.0.2.2"), 0);

	/* a trusted client: skipped (no triplet), still counted by rules without exemption */
	u = client("127.0.0.1");
	session_mail(u, "<good@example.net>", NULL, &v);
	assert_int_equal(judge(u, "<b@example.org>", &j, &vc), CHK_NONE);
	assert_int_equal(j.grey.state, GL_SKIPPED);
	assert_string_equal(j.grey_skip, "trusted");
	assert_int_equal(fake_counter("rl:per-rcpt:b@example.org"), 0); /* exempt_trusted */

	/* the store fails: fail open, the state says error */
	fake_fail = true;
	session_mail(t, "<other@example.net>", NULL, &v);
	assert_int_equal(judge(t, "<b@example.org>", &j, &vc), CHK_NONE);
	assert_int_equal(j.grey.state, GL_ERROR);
	assert_int_equal(t->msg.ngreylist, 1);
	session_log(t, &eom, "accept", false, NULL, NULL);
	fake_fail = false;

	session_free(s);
	session_free(t);
	session_free(u);
	store_set_current(NULL);
	store_release(st);
	policy_set_current(old);
}

/* main - run the tests in a temporary directory */
int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_client), cmocka_unit_test(test_mail),
	    cmocka_unit_test(test_rcpt),   cmocka_unit_test(test_arc_verifier),
	    cmocka_unit_test(test_state),
	};
	int rc;

	if (mkdtemp(tmp_dir) == NULL)
		return 1;
	log_open("test_session", LOG_MAIL, true);
	rc = cmocka_run_group_tests(tests, setup, NULL);
	policy_set_current(NULL);
	unit_policy_dir_free(tmp_dir);
	return rc;
}
