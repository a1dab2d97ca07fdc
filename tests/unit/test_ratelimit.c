/*
 * NAME
 *	test_ratelimit - unit tests for ratelimit.c
 * DESCRIPTION
 *	The value each key kind counts by and its store key (escaped);
 *	which rules apply (exempt_trusted, exempt_clients, exempt_senders by
 *	address and domain, sasl_user without AUTH, the null sender, a
 *	client without an address); counting over a fake backend
 *	(fakestore.h): exactly the limit accepted, count messages once per
 *	message (per distinct recipient for key recipient) and count
 *	recipients once per recipient, a rule with action log over its
 *	limit still counts the rest, the first refusing rule stops the
 *	walk, the take-back of earlier counts, store failures.
 * DIAGNOSTICS
 *	cmocka; "case N: got X, want Y".
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>

#include <cmocka.h>

#include "fakestore.h"
#include "ratelimit.h"
#include "util.h"

/* rule - a rule with the defaults of the policy file */
static struct ratelimit_rule rule(const char *name, enum rl_key key, enum rl_count count, int limit,
                                  enum rl_action action)
{
	return (struct ratelimit_rule){.name = (char *)name,
	                               .key = key,
	                               .count = count,
	                               .window = 3600,
	                               .limit = limit,
	                               .action = action,
	                               .ipv4_prefix = 24,
	                               .ipv6_prefix = 48,
	                               .exempt_trusted = true};
}

/* test_values - what each key kind counts by, and the keys */
static void test_values(void **state)
{
	struct pm_ip ip4, ip6;
	struct rl_subject s;
	struct ratelimit_rule r;
	char out[RL_VALUE_MAX], key[STORE_KEY_MAX + 1];
	static const struct {
		enum rl_key key;
		int v6;
		const char *want;
	} cases[] = {
	    {RL_KEY_CLIENT_ADDR, 0, "192.0.2.77"},   {RL_KEY_CLIENT_ADDR, 1, "2001:db8:1:2::5"},
	    {RL_KEY_CLIENT_NET, 0, "192.0.2.0/24"},  {RL_KEY_CLIENT_NET, 1, "2001:db8:1::/48"},
	    {RL_KEY_SENDER, 0, "alice@example.org"}, {RL_KEY_SENDER_DOMAIN, 0, "example.org"},
	    {RL_KEY_SASL_USER, 0, "Alice"},          {RL_KEY_RECIPIENT, 0, "bob@example.net"},
	};

	(void)state;
	assert_int_equal(pm_ip_parse("192.0.2.77", &ip4), 0);
	assert_int_equal(pm_ip_parse("2001:db8:1:2::5", &ip6), 0);
	for (size_t i = 0; i < PM_ARRAY_LEN(cases); i++) {
		s = (struct rl_subject){.authenticated = true,
		                        .ip = cases[i].v6 ? &ip6 : &ip4,
		                        .auth_user = "Alice",
		                        .sender = "alice@example.org",
		                        .sender_domain = "Example.ORG",
		                        .rcpt = "bob@example.net"};
		r = rule("r", cases[i].key, RL_COUNT_MESSAGES, 10, RL_ACT_TEMPFAIL);
		assert_true(ratelimit_applies(&r, &s));
		assert_int_equal(ratelimit_value(&r, &s, out, sizeof(out)), 0);
		if (strcmp(out, cases[i].want) != 0)
			fail_msg("case %zu %s: got %s, want %s", i, rl_key_name(cases[i].key), out,
			         cases[i].want);
	}
	r = rule("per-user", RL_KEY_SASL_USER, RL_COUNT_MESSAGES, 10, RL_ACT_TEMPFAIL);
	assert_int_equal(ratelimit_key(&r, "Alice Smith:1%", key, sizeof(key)), 0);
	assert_string_equal(key, "rl:per-user:Alice%20Smith%3A1%25");
	assert_int_equal(ratelimit_key(&r, "2001:db8::/48", key, sizeof(key)), 0);
	assert_string_equal(key, "rl:per-user:2001%3Adb8%3A%3A/48");
	{
		char big[RL_VALUE_MAX];

		memset(big, 0x80, sizeof(big) - 1);
		big[sizeof(big) - 1] = '\0';
		assert_int_equal(ratelimit_key(&r, big, key, sizeof(key)), 0);
		assert_true(strlen(key) <= STORE_KEY_MAX);
		assert_non_null(strstr(key, "rl:per-user:#"));
	}
	/* no value: nothing to count by */
	s = (struct rl_subject){.ip = NULL};
	r = rule("r", RL_KEY_SENDER, RL_COUNT_MESSAGES, 10, RL_ACT_TEMPFAIL);
	assert_int_equal(ratelimit_value(&r, &s, out, sizeof(out)), -1);
	r.key = RL_KEY_CLIENT_NET;
	assert_int_equal(ratelimit_value(&r, &s, out, sizeof(out)), -1);
	assert_string_equal(rl_key_name(RL_KEY_CLIENT_NET), "client_network");
	assert_string_equal(rl_action_name(RL_ACT_REJECT), "reject");
	assert_string_equal(rl_state_name(RL_OVER), "over");
	assert_null(rl_state_name(RL_NOT_COUNTED));
}

/* test_applies - each exemption and each key's need, alone */
static void test_applies(void **state)
{
	char *senders[] = {"boss@example.org", "lists.example"};
	struct pm_cidr nets[1];
	const char *err = NULL;
	struct pm_ip ip, exempt_ip, none = {.family = AF_UNSPEC};
	struct ratelimit_rule r;
	const struct rl_subject base = {.ip = &ip,
	                                .sender = "alice@example.org",
	                                .sender_domain = "example.org",
	                                .rcpt = "bob@example.net"};
	struct rl_subject s;

	(void)state;
	assert_int_equal(pm_cidr_parse("203.0.113.0/24", &nets[0], &err), 0);
	assert_int_equal(pm_ip_parse("192.0.2.1", &ip), 0);
	assert_int_equal(pm_ip_parse("203.0.113.5", &exempt_ip), 0);
	r = rule("r", RL_KEY_CLIENT_ADDR, RL_COUNT_MESSAGES, 10, RL_ACT_TEMPFAIL);
	r.exempt_clients = (struct pm_cidr_list){nets, 1};
	r.exempt_senders = senders;
	r.nexempt_senders = 2;
	s = base;
	assert_true(ratelimit_applies(&r, &s));
	s.trusted = true;
	assert_false(ratelimit_applies(&r, &s));
	r.exempt_trusted = false;
	assert_true(ratelimit_applies(&r, &s));
	r.exempt_trusted = true;
	s = base;
	s.ip = &exempt_ip;
	assert_false(ratelimit_applies(&r, &s));
	s = base;
	s.sender = "Boss@Example.org";
	assert_false(ratelimit_applies(&r, &s));
	s.sender = "boss2@example.org";
	assert_true(ratelimit_applies(&r, &s));
	s.sender = "news@lists.example";
	s.sender_domain = "lists.example";
	assert_false(ratelimit_applies(&r, &s));
	s.sender_domain = "eu.lists.example";
	assert_false(ratelimit_applies(&r, &s));
	s.sender_domain = "otherlists.example";
	assert_true(ratelimit_applies(&r, &s));
	/* a client without an address: nothing to count by for the client keys */
	s = base;
	s.ip = &none;
	assert_false(ratelimit_applies(&r, &s));
	r.key = RL_KEY_CLIENT_NET;
	assert_false(ratelimit_applies(&r, &s));
	/* sasl_user: only with AUTH */
	r.key = RL_KEY_SASL_USER;
	s = base;
	assert_false(ratelimit_applies(&r, &s));
	s.authenticated = true;
	s.auth_user = "alice";
	assert_true(ratelimit_applies(&r, &s));
	/* the null sender: no sender, no sender domain */
	s = base;
	s.sender = "";
	s.sender_domain = NULL;
	r.key = RL_KEY_SENDER;
	assert_false(ratelimit_applies(&r, &s));
	r.key = RL_KEY_SENDER_DOMAIN;
	assert_false(ratelimit_applies(&r, &s));
	r.key = RL_KEY_RECIPIENT;
	assert_true(ratelimit_applies(&r, &s));
	r.key = RL_KEY_CLIENT_ADDR;
	assert_true(ratelimit_applies(&r, &s));
}

/* one - count one recipient; the message keeps it when accepted (refused: taken back) */
static void one(struct store *st, const struct ratelimit_settings *rs, const struct rl_subject *s,
                struct rl_message *m, struct rl_rcpt *out, bool accept_unless_over)
{
	ratelimit_rcpt(st, rs, s, m, out);
	if (out->over >= 0 || !accept_unless_over)
		ratelimit_take_back(st, rs, out);
	else
		ratelimit_commit(m, out);
}

/* test_exact_limit - limit 3: three messages through, the fourth over; the counter stays */
static void test_exact_limit(void **state)
{
	struct ratelimit_rule rules[] = {
	    rule("ip", RL_KEY_CLIENT_ADDR, RL_COUNT_MESSAGES, 3, RL_ACT_TEMPFAIL)};
	const struct ratelimit_settings rs = {rules, 1};
	struct pm_ip ip;
	const struct rl_subject s = {.ip = &ip, .sender = "a@example.org", .rcpt = "b@example.net"};
	struct rl_message m = {0};
	struct rl_rcpt out;
	struct store *st;

	(void)state;
	fake_reset();
	st = fake_store();
	assert_int_equal(pm_ip_parse("192.0.2.1", &ip), 0);
	for (int i = 1; i <= 3; i++) {
		ratelimit_message_free(&m); /* a new message */
		one(st, &rs, &s, &m, &out, true);
		assert_int_equal(out.n, 1);
		assert_int_equal(out.over, -1);
		assert_int_equal(out.e[0].state, RL_OK);
		assert_int_equal(out.e[0].count, i);
	}
	ratelimit_message_free(&m);
	one(st, &rs, &s, &m, &out, true);
	assert_int_equal(out.over, 0);
	assert_int_equal(out.e[0].state, RL_OVER);
	assert_int_equal(out.e[0].count, 3);
	assert_int_equal(fake_counter("rl:ip:192.0.2.1"), 3);
	/* the window ends: counted from 0 again */
	fake_now += 3600;
	one(st, &rs, &s, &m, &out, true);
	assert_int_equal(out.over, -1);
	assert_int_equal(out.e[0].count, 1);
	ratelimit_message_free(&m);
	store_release(st);
}

/* test_messages_recipients - count messages vs recipients; key recipient per recipient */
static void test_messages_recipients(void **state)
{
	struct ratelimit_rule rules[] = {
	    rule("msgs", RL_KEY_SENDER, RL_COUNT_MESSAGES, 100, RL_ACT_TEMPFAIL),
	    rule("rcpts", RL_KEY_SENDER, RL_COUNT_RECIPIENTS, 100, RL_ACT_TEMPFAIL),
	    rule("to", RL_KEY_RECIPIENT, RL_COUNT_MESSAGES, 100, RL_ACT_TEMPFAIL),
	};
	const struct ratelimit_settings rs = {rules, PM_ARRAY_LEN(rules)};
	struct pm_ip ip;
	struct rl_subject s = {
	    .ip = &ip, .sender = "a@example.org", .sender_domain = "example.org"};
	static const char *const rcpts[] = {"b@example.net", "c@example.net", "b@example.net"};
	struct rl_message m = {0};
	struct rl_rcpt out;
	struct store *st;

	(void)state;
	fake_reset();
	st = fake_store();
	assert_int_equal(pm_ip_parse("192.0.2.1", &ip), 0);
	for (size_t i = 0; i < PM_ARRAY_LEN(rcpts); i++) {
		s.rcpt = rcpts[i];
		one(st, &rs, &s, &m, &out, true);
	}
	assert_int_equal(fake_counter("rl:msgs:a@example.org"), 1);
	assert_int_equal(fake_counter("rl:rcpts:a@example.org"), 3);
	assert_int_equal(fake_counter("rl:to:b@example.net"), 1);
	assert_int_equal(fake_counter("rl:to:c@example.net"), 1);
	/* what the message counted: msgs once, rcpts three times, to twice */
	assert_int_equal(m.n, 6);
	/* the next message counts again */
	ratelimit_message_free(&m);
	s.rcpt = "b@example.net";
	one(st, &rs, &s, &m, &out, true);
	assert_int_equal(fake_counter("rl:msgs:a@example.org"), 2);
	assert_int_equal(fake_counter("rl:to:b@example.net"), 2);
	ratelimit_message_free(&m);
	store_release(st);
}

/* test_take_back - a later rule refuses: the earlier counts for this recipient undone */
static void test_take_back(void **state)
{
	struct ratelimit_rule rules[] = {
	    rule("first", RL_KEY_CLIENT_ADDR, RL_COUNT_RECIPIENTS, 100, RL_ACT_TEMPFAIL),
	    rule("logged", RL_KEY_SENDER, RL_COUNT_RECIPIENTS, 1, RL_ACT_LOG),
	    rule("second", RL_KEY_RECIPIENT, RL_COUNT_RECIPIENTS, 1, RL_ACT_REJECT),
	    rule("third", RL_KEY_SENDER_DOMAIN, RL_COUNT_RECIPIENTS, 100, RL_ACT_TEMPFAIL),
	};
	const struct ratelimit_settings rs = {rules, PM_ARRAY_LEN(rules)};
	struct pm_ip ip;
	struct rl_subject s = {.ip = &ip,
	                       .sender = "a@example.org",
	                       .sender_domain = "example.org",
	                       .rcpt = "b@example.net"};
	struct rl_message m = {0};
	struct rl_rcpt out;
	struct store *st;

	(void)state;
	fake_reset();
	st = fake_store();
	assert_int_equal(pm_ip_parse("192.0.2.1", &ip), 0);
	one(st, &rs, &s, &m, &out, true);
	assert_int_equal(out.n, 4);
	assert_int_equal(out.over, -1);
	assert_int_equal(out.would, -1);
	/* the second recipient b again: "logged" is over (a would), "second" refuses */
	one(st, &rs, &s, &m, &out, true);
	assert_int_equal(out.would, 1);
	assert_int_equal(out.over, 2);
	assert_int_equal(out.n, 3); /* "third" was not asked */
	assert_int_equal(rules[out.e[out.over].rule].action, RL_ACT_REJECT);
	assert_int_equal(fake_counter("rl:first:192.0.2.1"), 1);
	assert_int_equal(fake_counter("rl:logged:a@example.org"), 1);
	assert_int_equal(fake_counter("rl:second:b@example.net"), 1);
	assert_int_equal(fake_counter("rl:third:example.org"), 1);
	/* another recipient: "logged" over (a would), the rest counted */
	s.rcpt = "c@example.net";
	one(st, &rs, &s, &m, &out, true);
	assert_int_equal(out.would, 1);
	assert_int_equal(out.over, -1);
	assert_int_equal(fake_counter("rl:first:192.0.2.1"), 2);
	assert_int_equal(fake_counter("rl:third:example.org"), 2);
	/* a recipient refused by something else afterwards: every count taken back */
	s.rcpt = "d@example.net";
	one(st, &rs, &s, &m, &out, false);
	assert_int_equal(fake_counter("rl:first:192.0.2.1"), 2);
	assert_int_equal(fake_counter("rl:second:d@example.net"), 0);
	assert_int_equal(fake_counter("rl:third:example.org"), 2);
	ratelimit_message_free(&m);
	store_release(st);
}

/* test_store_error - a failing store ends the walk with the rule that failed */
static void test_store_error(void **state)
{
	struct ratelimit_rule rules[] = {
	    rule("first", RL_KEY_CLIENT_ADDR, RL_COUNT_MESSAGES, 100, RL_ACT_TEMPFAIL),
	    rule("second", RL_KEY_RECIPIENT, RL_COUNT_MESSAGES, 100, RL_ACT_TEMPFAIL),
	};
	const struct ratelimit_settings rs = {rules, PM_ARRAY_LEN(rules)};
	struct pm_ip ip;
	const struct rl_subject s = {.ip = &ip, .rcpt = "b@example.net"};
	struct rl_message m = {0};
	struct rl_rcpt out;
	struct store *st;

	(void)state;
	fake_reset();
	assert_int_equal(pm_ip_parse("192.0.2.1", &ip), 0);
	ratelimit_rcpt(NULL, &rs, &s, &m, &out);
	assert_int_equal(out.error, 0);
	assert_int_equal(out.n, 1);
	assert_int_equal(out.e[0].state, RL_ERROR);
	assert_int_equal(out.e[0].count, -1);
	st = fake_store();
	fake_fail = true;
	ratelimit_rcpt(st, &rs, &s, &m, &out);
	assert_int_equal(out.error, 0);
	assert_int_equal(out.over, -1);
	ratelimit_commit(&m, &out);
	assert_int_equal(m.n, 1); /* kept for the record, never counted as done */
	fake_fail = false;
	ratelimit_message_free(&m);
	store_release(st);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_values),      cmocka_unit_test(test_applies),
	    cmocka_unit_test(test_exact_limit), cmocka_unit_test(test_messages_recipients),
	    cmocka_unit_test(test_take_back),   cmocka_unit_test(test_store_error),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
