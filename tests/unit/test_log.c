/*
 * NAME
 *	test_log - unit tests for log.c
 * DESCRIPTION
 *	Decision lines through log_format_decision(): field order, NULL
 *	fields left out, NOQUEUE, would=yes, escaping of control and 8-bit
 *	bytes, quoting, value caps and the line limit; facility names; and
 *	that log_msg()/log_decision() run (to stderr) without crashing.
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
#include <unistd.h>

#include "log.h"
#include "util.h"

/* test_format - a table of decisions and the lines they give */
static void test_format(void **state)
{
	(void)state;
	static const struct {
		struct pm_decision d;
		const char *want;
	} cases[] = {
	    {{.queue_id = "4ABC12",
	      .stage = "mail",
	      .client_addr = "192.0.2.10",
	      .client_name = "mail.example.test",
	      .helo = "mail.example.test",
	      .sender = "a@b.test",
	      .rcpt = "c@d.test",
	      .helo_spf = "pass",
	      .helo_spf_domain = "mail.example.test",
	      .spf = "fail",
	      .spf_domain = "b.test",
	      .action = "reject",
	      .reply = "550 5.7.23 SPF validation failed",
	      .check = "spf",
	      .reason = "spf_fail",
	      .rule = "spf.fail=reject"},
	     "4ABC12: stage=mail client=192.0.2.10 client_name=mail.example.test "
	     "helo=mail.example.test from=<a@b.test> rcpt=<c@d.test> helo_spf=pass "
	     "helo_spf_domain=mail.example.test spf=fail spf_domain=b.test action=reject "
	     "reply=\"550 5.7.23 SPF validation failed\" check=spf reason=spf_fail "
	     "rule=spf.fail=reject"},
	    /* NULL fields out, NULL and empty queue id are NOQUEUE */
	    {{.stage = "connect", .client_addr = "::1", .action = "accept"},
	     "NOQUEUE: stage=connect client=::1 action=accept"},
	    {{.queue_id = "", .stage = "rcpt", .action = "tempfail"},
	     "NOQUEUE: stage=rcpt action=tempfail"},
	    {{.queue_id = NULL}, "NOQUEUE:"},
	    /* would=yes right after the action */
	    {{.queue_id = "Q1", .action = "reject", .would = true, .reply = "550 5.7.23 x"},
	     "Q1: action=reject would=yes reply=\"550 5.7.23 x\""},
	    {{.queue_id = "Q1", .would = true}, "Q1: would=yes"},
	    /* null sender, already bracketed, list of recipients */
	    {{.queue_id = "Q2", .sender = "<>", .rcpt = "a@x.test,<b@y.test>,c@z.test"},
	     "Q2: from=<> rcpt=<a@x.test>,<b@y.test>,<c@z.test>"},
	    /* control characters, CR LF, 8-bit, backslash */
	    {{.queue_id = "Q3", .helo = "evil\r\nX-Injected: yes", .client_name = "\xc3\xa4.test"},
	     "Q3: client_name=\\xc3\\xa4.test helo=\"evil\\x0d\\x0aX-Injected: yes\""},
	    {{.queue_id = "Q4", .helo = "a\\b\tc\x7f", .reason = ""},
	     "Q4: helo=a\\x5cb\\x09c\\x7f reason=\"\""},
	    /* quotes: quoted, with the quote as \x22 */
	    {{.queue_id = "Q5", .helo = "say\"hi\"", .reply = "550 5.1.1 <\"x y\"@d.test>"},
	     "Q5: helo=\"say\\x22hi\\x22\" reply=\"550 5.1.1 <\\x22x y\\x22@d.test>\""},
	    /* a hostile queue id is escaped and quoted too */
	    {{.queue_id = "A B\n"}, "\"A B\\x0a\":"},
	    /* a space-free value with '=' is left as is */
	    {{.queue_id = "Q6", .rule = "a=b"}, "Q6: rule=a=b"},
	    {{.queue_id = "Q6b", .reason = "sender_syntax", .rule = "r", .detail = "bad \"x\"\r\n"},
	     "Q6b: reason=sender_syntax rule=r detail=\"bad \\x22x\\x22\\x0d\\x0a\""},
	};
	for (size_t i = 0; i < PM_ARRAY_LEN(cases); i++) {
		char buf[2000];
		log_format_decision(&cases[i].d, buf, sizeof(buf));
		if (strcmp(buf, cases[i].want) != 0)
			fail_msg("case %zu:\n got  %s\n want %s", i, buf, cases[i].want);
	}
}

/* test_caps - long hostile values are capped; the line stays short and printable */
static void test_caps(void **state)
{
	(void)state;
	size_t n = 5000;
	char *big = xmalloc(n + 1), *ctl = xmalloc(n + 1);
	memset(big, 'a', n);
	big[n] = '\0';
	for (size_t i = 0; i < n; i++)
		ctl[i] = (char)(1 + i % 255);
	ctl[n] = '\0';
	struct pm_decision d = {
	    .queue_id = big,
	    .stage = big,
	    .client_addr = big,
	    .client_name = ctl,
	    .helo = ctl,
	    .sender = big,
	    .rcpt = big,
	    .helo_spf = big,
	    .helo_spf_domain = ctl,
	    .spf = big,
	    .spf_domain = ctl,
	    .action = "reject",
	    .reply = ctl,
	    .check = big,
	    .reason = big,
	    .rule = big,
	};
	char buf[2000];
	log_format_decision(&d, buf, sizeof(buf));
	size_t len = strlen(buf);
	if (len >= sizeof(buf))
		fail_msg("line length: got %zu, want < %zu", len, sizeof(buf));
	for (size_t i = 0; i < len; i++)
		if (buf[i] < 0x20 || buf[i] > 0x7e)
			fail_msg("byte %zu: got 0x%02x, want printable", i, (unsigned char)buf[i]);
	if (strcmp(buf + len - 3, "...") != 0)
		fail_msg("line end: got \"%s\", want \"...\"", buf + len - 3);
	/* one long value: capped, with "..." */
	struct pm_decision d2 = {.queue_id = "Q", .helo = big};
	log_format_decision(&d2, buf, sizeof(buf));
	len = strlen(buf);
	if (len > 200)
		fail_msg("single capped helo: got length %zu, want <= 200", len);
	if (strcmp(buf + len - 3, "...") != 0)
		fail_msg("capped helo end: got \"%s\", want \"...\"", buf + len - 3);
	/* a tiny buffer never overflows, and never ends inside an escape */
	struct pm_decision d3 = {.queue_id = "Q", .helo = "\n\n\n\n\n\n"};
	static const struct {
		size_t size;
		const char *want;
	} cuts[] = {
	    {12, "Q: helo=..."},
	    {13, "Q: helo=..."},
	    {15, "Q: helo=..."},
	    {16, "Q: helo=\\x0a..."},
	    {17, "Q: helo=\\x0a..."},
	    {4, "Q: "},
	    {1, ""},
	};
	for (size_t i = 0; i < PM_ARRAY_LEN(cuts); i++) {
		char small[32];
		memset(small, 'Z', sizeof(small));
		log_format_decision(&d3, small, cuts[i].size);
		if (strcmp(small, cuts[i].want) != 0)
			fail_msg("cut %zu size %zu: got \"%s\", want \"%s\"", i, cuts[i].size,
			         small, cuts[i].want);
		if (small[cuts[i].size] != 'Z')
			fail_msg("cut %zu: wrote past size %zu", i, cuts[i].size);
	}
	assert_null(log_format_decision(&d3, NULL, 10));
	free(big);
	free(ctl);
}

/* test_facility - names to syslog facilities */
static void test_facility(void **state)
{
	(void)state;
	static const struct {
		const char *name;
		int want;
	} cases[] = {
	    {"mail", LOG_MAIL},
	    {"daemon", LOG_DAEMON},
	    {"user", LOG_USER},
	    {"local0", LOG_LOCAL0},
	    {"local1", LOG_LOCAL1},
	    {"local2", LOG_LOCAL2},
	    {"local3", LOG_LOCAL3},
	    {"local4", LOG_LOCAL4},
	    {"local5", LOG_LOCAL5},
	    {"local6", LOG_LOCAL6},
	    {"local7", LOG_LOCAL7},
	    {"MAIL", LOG_MAIL},
	    {"local8", -1},
	    {"kern", -1},
	    {"", -1},
	    {"mail ", -1},
	    {NULL, -1},
	};
	for (size_t i = 0; i < PM_ARRAY_LEN(cases); i++) {
		int got = log_facility_parse(cases[i].name);
		if (got != cases[i].want)
			fail_msg("case %zu facility(%s): got %d, want %d", i,
			         cases[i].name ? cases[i].name : "NULL", got, cases[i].want);
	}
}

/* test_emit - log_msg and log_decision write one escaped line to stderr */
static void test_emit(void **state)
{
	(void)state;
	char path[] = "/tmp/test_log.XXXXXX";
	int fd = mkstemp(path);
	assert_true(fd >= 0);
	fflush(stderr);
	FILE *saved = fdopen(dup(2), "w");
	assert_non_null(saved);
	assert_true(dup2(fd, 2) == 2);

	log_msg(LOG_WARNING, "bad helo %s", "x\r\ny\\z");
	struct pm_decision d = {.queue_id = "QX", .stage = "helo", .helo = "h\n"};
	log_decision(&d);
	log_decision(NULL);
	fflush(stderr);
	dup2(fileno(saved), 2);
	fclose(saved);

	char buf[1024] = "";
	FILE *f = fopen(path, "r");
	assert_non_null(f);
	size_t n = fread(buf, 1, sizeof(buf) - 1, f);
	buf[n] = '\0';
	fclose(f);
	unlink(path);
	close(fd);
	if (strstr(buf, "policy-milter[") == NULL ||
	    strstr(buf, "]: warning: bad helo x\\x0d\\x0ay\\z\n") == NULL)
		fail_msg(
		    "log_msg line: got \"%s\", want \"...]: warning: bad helo x\\x0d\\x0ay\\z\"",
		    buf);
	if (strstr(buf, "]: info: QX: stage=helo helo=h\\x0a\n") == NULL)
		fail_msg(
		    "decision line: got \"%s\", want \"...]: info: QX: stage=helo helo=h\\x0a\"",
		    buf);
	int lines = 0;
	for (char *p = buf; *p; p++)
		lines += *p == '\n';
	if (lines != 2)
		fail_msg("lines written: got %d, want 2", lines);
	/* after log_open, syslog is used too; nothing to check but that it runs */
	log_open("test_log", LOG_LOCAL7, false);
	log_msg(LOG_DEBUG, "test_log: syslog path");
}

/* main - run the cases */
int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_format),
	    cmocka_unit_test(test_caps),
	    cmocka_unit_test(test_facility),
	    cmocka_unit_test(test_emit),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
