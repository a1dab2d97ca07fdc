/*
 * NAME
 *	test_log - unit tests for log.c, jsonlog.c and sink.c
 * DESCRIPTION
 *	Decision lines through log_format_decision(): field order, NULL
 *	fields left out, NOQUEUE, would=yes, dry_run=yes, recipient lists,
 *	DKIM signatures and DNSBL listings, the MTA's facts (mta= daemon=
 *	local=), escaping of control and 8-bit
 *	bytes, quoting, value caps and the line limit; facility names; and
 *	that log_msg()/log_decision() run (to stderr) without crashing.
 *
 *	The JSON decision log (jsonlog.c): a strict JSON checker of its own
 *	(checked first against valid and invalid texts) judges every record;
 *	string escaping byte by byte (NUL, CR, LF, ANSI escapes, DEL, C1,
 *	U+2028, invalid UTF-8 of every kind) with exact expected strings;
 *	the cut of long values; whole records key by key (the schema's own
 *	example among them, the mta object known, unknown and escaped); the
 *	reply split; thousands of records of
 *	random bytes; the file (mode 0640, one line per record, rotation by
 *	rename and reopen, a failed open keeping the log in use, threads
 *	writing at once, a big record, closing); write errors reported once
 *	a minute at most (/dev/full; the reports are sink.c's, the log
 *	opened through decision_json_open) and a write cut short by
 *	RLIMIT_FSIZE leaving one broken line with the next record on a
 *	line of its own.
 * DIAGNOSTICS
 *	cmocka; each failure prints "got X, want Y".
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "decision.h"
#include "jsonlog.h"
#include "log.h"
#include "util.h"

/* test_format - a table of decisions and the lines they give */
static void test_format(void **state)
{
	(void)state;
	static const char *const cd[] = {"c@d.test"};
	static const char *const three[] = {"a@x.test", "<b@y.test>", "c@z.test"};
	static const char *const comma[] = {"\"a,b\"@x.test", "c@y.test"};
	static const struct pm_decision_sig sigs[] = {
	    {"pass", "d.test", "sel"}, {"fail", "e.test", "s2"}, {"permerror", NULL, NULL}};
	static const struct pm_decision_dnsbl bl[] = {{"bl.example", "127.0.0.2"},
	                                              {"zen.example", "127.0.0.4"}};
	static const struct pm_decision_arc_set arcs[] = {
	    {1, "lists.example", "s1", "rsa-sha256", "none", true},
	    {2, "relay example", "s2", "ed25519-sha256", "pass", true}};
	static const struct {
		struct pm_decision d;
		const char *want;
	} cases[] = {
	    /* ARC: the result, each set's instance:d=, a rescue's sealer */
	    {{.queue_id = "QA",
	      .dmarc = "fail",
	      .dmarc_override = "trusted_forwarder",
	      .arc = "pass",
	      .arc_sets = arcs,
	      .narc_sets = 2,
	      .arc_sealer = "lists.example",
	      .arc_instance = 1,
	      .arc_method = "dmarc",
	      .arc_override_applied = true,
	      .action = "accept",
	      .check = "dmarc",
	      .reason = "arc_override",
	      .rule = "arc.trusted_sealers"},
	     "QA: dmarc=fail dmarc_override=trusted_forwarder arc=pass "
	     "arc_sets=\"1:lists.example,2:relay example\" arc_sealer=lists.example arc_instance=1 "
	     "arc_override=applied action=accept check=dmarc reason=arc_override "
	     "rule=arc.trusted_sealers"},
	    {{.queue_id = "QB",
	      .arc = "pass",
	      .arc_sets = arcs,
	      .narc_sets = 1,
	      .arc_sealer = "lists.example",
	      .arc_instance = 1,
	      .arc_override_applied = false},
	     "QB: arc=pass arc_sets=1:lists.example arc_sealer=lists.example arc_instance=1 "
	     "arc_override=would"},
	    {{.queue_id = "QC", .arc = "none"}, "QC: arc=none"},
	    {{.queue_id = "QD",
	      .arc = "fail",
	      .arc_reason = "i=2 seal did not verify",
	      .action = "reject",
	      .reply = "550 5.7.29 ARC validation failure",
	      .check = "arc",
	      .reason = "arc_fail",
	      .rule = "arc.mode=enforce"},
	     "QD: arc=fail action=reject reply=\"550 5.7.29 ARC validation failure\" check=arc "
	     "reason=arc_fail rule=arc.mode=enforce"},
	    {{.queue_id = "4ABC12",
	      .stage = "mail",
	      .client_addr = "192.0.2.10",
	      .client_name = "mail.example.test",
	      .helo = "mail.example.test",
	      .sender = "a@b.test",
	      .rcpts = cd,
	      .nrcpts = 1,
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
	    {{.queue_id = "Q2", .sender = "<>", .rcpts = three, .nrcpts = 3},
	     "Q2: from=<> rcpt=<a@x.test>,<b@y.test>,<c@z.test>"},
	    /* a comma inside a quoted local part stays inside its brackets */
	    {{.queue_id = "Q2b", .rcpts = comma, .nrcpts = 2},
	     "Q2b: rcpt=\"<\\x22a,b\\x22@x.test>,<c@y.test>\""},
	    /* an empty recipient list is left out */
	    {{.queue_id = "Q2c", .rcpts = cd, .nrcpts = 0}, "Q2c:"},
	    /* DKIM: one entry per signature, or none; iprev, DNSBL and dry run */
	    {{.queue_id = "Q7", .dkim_done = true, .dkim = sigs, .ndkim = 3, .dmarc = "fail"},
	     "Q7: dkim=pass:d.test/sel,fail:e.test/s2,permerror:/ dmarc=fail"},
	    {{.queue_id = "Q8", .dkim_done = true, .header_from = "h.test"},
	     "Q8: header_from=h.test dkim=none"},
	    {{.queue_id = "Q9",
	      .client_name = "m.test",
	      .iprev = "pass",
	      .helo = "h",
	      .dnsbl = bl,
	      .ndnsbl = 2,
	      .action = "reject",
	      .would = true,
	      .dry_run = true},
	     "Q9: client_name=m.test iprev=pass helo=h "
	     "dnsbl=bl.example:127.0.0.2,zen.example:127.0.0.4 action=reject would=yes "
	     "dry_run=yes"},
	    {{.queue_id = "Q10", .dry_run = true, .rule = "r"}, "Q10: rule=r dry_run=yes"},
	    /* what the MTA says of itself: after iprev, before helo, each only when known */
	    {{.queue_id = "Q11",
	      .stage = "connect",
	      .client_addr = "192.0.2.10",
	      .iprev = "pass",
	      .mta_host = "mx.example.org",
	      .mta_daemon = "MTA",
	      .local_addr = "192.0.2.25",
	      .helo = "h"},
	     "Q11: stage=connect client=192.0.2.10 iprev=pass mta=mx.example.org daemon=MTA "
	     "local=192.0.2.25 helo=h"},
	    {{.queue_id = "Q12", .mta_daemon = "smtpd", .helo = "h"}, "Q12: daemon=smtpd helo=h"},
	    {{.queue_id = "Q13", .local_addr = "2001:db8::25"}, "Q13: local=2001:db8::25"},
	    /* MTA values are escaped and quoted like any other */
	    {{.queue_id = "Q14",
	      .mta_host = "mx\r\n.test",
	      .mta_daemon = "Daemon \"one\"",
	      .local_addr = "a\\b"},
	     "Q14: mta=mx\\x0d\\x0a.test daemon=\"Daemon \\x22one\\x22\" local=a\\x5cb"},
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
	    .rcpts = (const char *const[]){big, ctl, big},
	    .nrcpts = 3,
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

/*
 * A strict JSON checker (RFC 8259), written apart from jsonlog.c: the
 * whole text must be one value; strings may hold no control character
 * and only well-formed UTF-8, escapes must be valid (a \u escape of a
 * surrogate must be a high one followed by a low one), numbers follow the
 * grammar, nothing may trail.
 */
struct jcheck {
	const unsigned char *s;
	size_t n, i;
	int depth;
};

static bool jc_value(struct jcheck *p);

/* jc_ws - skip JSON white space */
static void jc_ws(struct jcheck *p)
{
	while (p->i < p->n && (p->s[p->i] == ' ' || p->s[p->i] == '\t' || p->s[p->i] == '\n' ||
	                       p->s[p->i] == '\r'))
		p->i++;
}

/* jc_hex4 - four hex digits at i; their value, or -1 */
static long jc_hex4(const struct jcheck *p, size_t i)
{
	long v = 0;

	if (i + 4 > p->n)
		return -1;
	for (size_t k = 0; k < 4; k++) {
		int c = p->s[i + k], d;

		if (c >= '0' && c <= '9')
			d = c - '0';
		else if (c >= 'a' && c <= 'f')
			d = c - 'a' + 10;
		else if (c >= 'A' && c <= 'F')
			d = c - 'A' + 10;
		else
			return -1;
		v = v * 16 + d;
	}
	return v;
}

/* jc_utf8 - one multi-byte UTF-8 character at i: its length, or 0 when malformed */
static size_t jc_utf8(const struct jcheck *p, size_t i)
{
	unsigned c = p->s[i], cp;
	size_t len;
	static const unsigned min[] = {0, 0, 0x80, 0x800, 0x10000};

	if ((c & 0xe0) == 0xc0)
		len = 2, cp = c & 0x1f;
	else if ((c & 0xf0) == 0xe0)
		len = 3, cp = c & 0x0f;
	else if ((c & 0xf8) == 0xf0)
		len = 4, cp = c & 0x07;
	else
		return 0;
	if (i + len > p->n)
		return 0;
	for (size_t k = 1; k < len; k++) {
		if ((p->s[i + k] & 0xc0) != 0x80)
			return 0;
		cp = cp << 6 | (p->s[i + k] & 0x3f);
	}
	if (cp < min[len] || cp > 0x10ffff || (cp >= 0xd800 && cp <= 0xdfff))
		return 0;
	return len;
}

/* jc_string - a string at i */
static bool jc_string(struct jcheck *p)
{
	if (p->i >= p->n || p->s[p->i] != '"')
		return false;
	p->i++;
	while (p->i < p->n) {
		unsigned c = p->s[p->i];

		if (c == '"') {
			p->i++;
			return true;
		}
		if (c < 0x20)
			return false;
		if (c == '\\') {
			long u, lo;

			if (p->i + 1 >= p->n)
				return false;
			c = p->s[p->i + 1];
			if (strchr("\"\\/bfnrt", (int)c) != NULL && c != '\0') {
				p->i += 2;
				continue;
			}
			if (c != 'u' || (u = jc_hex4(p, p->i + 2)) < 0)
				return false;
			p->i += 6;
			if (u >= 0xdc00 && u <= 0xdfff)
				return false;
			if (u >= 0xd800 && u <= 0xdbff) {
				if (p->i + 1 >= p->n || p->s[p->i] != '\\' ||
				    p->s[p->i + 1] != 'u' || (lo = jc_hex4(p, p->i + 2)) < 0xdc00 ||
				    lo > 0xdfff)
					return false;
				p->i += 6;
			}
			continue;
		}
		if (c < 0x80) {
			p->i++;
			continue;
		}
		size_t len = jc_utf8(p, p->i);
		if (len == 0)
			return false;
		p->i += len;
	}
	return false;
}

/* jc_digits - one or more digits */
static bool jc_digits(struct jcheck *p)
{
	size_t start = p->i;

	while (p->i < p->n && p->s[p->i] >= '0' && p->s[p->i] <= '9')
		p->i++;
	return p->i > start;
}

/* jc_number - a number at i */
static bool jc_number(struct jcheck *p)
{
	if (p->i < p->n && p->s[p->i] == '-')
		p->i++;
	if (p->i < p->n && p->s[p->i] == '0')
		p->i++;
	else if (!(p->i < p->n && p->s[p->i] >= '1' && p->s[p->i] <= '9') || !jc_digits(p))
		return false;
	if (p->i < p->n && p->s[p->i] == '.') {
		p->i++;
		if (!jc_digits(p))
			return false;
	}
	if (p->i < p->n && (p->s[p->i] == 'e' || p->s[p->i] == 'E')) {
		p->i++;
		if (p->i < p->n && (p->s[p->i] == '+' || p->s[p->i] == '-'))
			p->i++;
		if (!jc_digits(p))
			return false;
	}
	return true;
}

/* jc_word - a literal */
static bool jc_word(struct jcheck *p, const char *w)
{
	size_t n = strlen(w);

	if (p->i + n > p->n || memcmp(p->s + p->i, w, n) != 0)
		return false;
	p->i += n;
	return true;
}

/* jc_members - the rest of an object or array after its opening bracket */
static bool jc_members(struct jcheck *p, bool object)
{
	char close = object ? '}' : ']';

	if (++p->depth > 64)
		return false;
	jc_ws(p);
	if (p->i < p->n && p->s[p->i] == close) {
		p->i++;
		p->depth--;
		return true;
	}
	for (;;) {
		if (object) {
			jc_ws(p);
			if (!jc_string(p))
				return false;
			jc_ws(p);
			if (p->i >= p->n || p->s[p->i] != ':')
				return false;
			p->i++;
		}
		if (!jc_value(p))
			return false;
		jc_ws(p);
		if (p->i >= p->n)
			return false;
		if (p->s[p->i] == close) {
			p->i++;
			p->depth--;
			return true;
		}
		if (p->s[p->i] != ',')
			return false;
		p->i++;
	}
}

/* jc_value - any value, with white space around it */
static bool jc_value(struct jcheck *p)
{
	bool ok;

	jc_ws(p);
	if (p->i >= p->n)
		return false;
	switch (p->s[p->i]) {
	case '{':
		p->i++;
		ok = jc_members(p, true);
		break;
	case '[':
		p->i++;
		ok = jc_members(p, false);
		break;
	case '"':
		ok = jc_string(p);
		break;
	case 't':
		ok = jc_word(p, "true");
		break;
	case 'f':
		ok = jc_word(p, "false");
		break;
	case 'n':
		ok = jc_word(p, "null");
		break;
	default:
		ok = jc_number(p);
		break;
	}
	jc_ws(p);
	return ok;
}

/* json_valid - is s[0..n) exactly one JSON text? */
static bool json_valid(const char *s, size_t n)
{
	struct jcheck p = {(const unsigned char *)s, n, 0, 0};

	return jc_value(&p) && p.i == n;
}

/* record_ok - one JSON object on one line ending in "\n" */
static bool record_ok(const char *line)
{
	size_t n = strlen(line);

	return n >= 3 && line[0] == '{' && line[n - 1] == '\n' && line[n - 2] == '}' &&
	       memchr(line, '\n', n - 1) == NULL && json_valid(line, n - 1);
}

/* test_json_checker - the checker itself refuses what it must */
static void test_json_checker(void **state)
{
	(void)state;
	static const struct {
		const char *text;
		bool want;
	} cases[] = {
	    {"{}", true},
	    {"{\"a\":[1,-2.5e+3,true,false,null,\"x\"]}", true},
	    {" [ ] ", true},
	    {"\"\\u00e4\\ud83d\\ude00\\/\"", true},
	    {"\"\xc3\xa4\xf0\x9f\x98\x80\"", true},
	    {"", false},
	    {"{", false},
	    {"{}{}", false},
	    {"{\"a\":1,}", false},
	    {"[1,]", false},
	    {"{a:1}", false},
	    {"\"a\nb\"", false},
	    {"\"a\x1b\"", false},
	    {"\"\\x41\"", false},
	    {"\"\\u12\"", false},
	    {"\"\\ud800\"", false},
	    {"\"\\udc00\\ud800\"", false},
	    {"\"\xc3\"", false},
	    {"\"\xc0\xaf\"", false},
	    {"\"\xed\xa0\x80\"", false},
	    {"\"\xf4\x90\x80\x80\"", false},
	    {"\"\xff\"", false},
	    {"01", false},
	    {"1.", false},
	    {"-", false},
	    {"tru", false},
	    {"'a'", false},
	};
	for (size_t i = 0; i < PM_ARRAY_LEN(cases); i++) {
		bool got = json_valid(cases[i].text, strlen(cases[i].text));
		if (got != cases[i].want)
			fail_msg("case %zu json_valid(%s): got %d, want %d", i, cases[i].text, got,
			         cases[i].want);
	}
	/* a NUL inside a string is a control character */
	if (json_valid("\"a\0b\"", 5))
		fail_msg("json_valid with a raw NUL: got true, want false");
}

/* json_of - jsonlog_append_string of n bytes; the caller frees */
static char *json_of(const char *s, size_t n)
{
	struct strbuf sb;

	sb_init(&sb);
	jsonlog_append_string(&sb, s, n);
	return sb_steal(&sb);
}

/* test_json_escape - every kind of hostile byte gives the exact escape, and valid JSON */
static void test_json_escape(void **state)
{
	(void)state;
	static const struct {
		const char *in;
		size_t len; /* 0: strlen */
		const char *want;
	} cases[] = {
	    {"", 0, "\"\""},
	    {"mx.example.net", 0, "\"mx.example.net\""},
	    {"a\"b\\c/d", 0, "\"a\\\"b\\\\c/d\""},
	    {"\0", 1, "\"\\u0000\""},
	    {"a\0b", 3, "\"a\\u0000b\""},
	    {"evil\r\nX-Injected: yes", 0, "\"evil\\u000d\\u000aX-Injected: yes\""},
	    {"\t\b\f\x01\x1f", 0, "\"\\u0009\\u0008\\u000c\\u0001\\u001f\""},
	    {"\x1b[31mred\x1b[0m", 0, "\"\\u001b[31mred\\u001b[0m\""},
	    {"del\x7f", 0, "\"del\\u007f\""},
	    {"\xc3\xa4.test", 0, "\"\xc3\xa4.test\""},
	    {"\xf0\x9f\x98\x80", 0, "\"\xf0\x9f\x98\x80\""},
	    {"\xe2\x82\xac", 0, "\"\xe2\x82\xac\""},
	    {"\xf4\x8f\xbf\xbf", 0, "\"\xf4\x8f\xbf\xbf\""},
	    /* C1 controls and the line separators, though valid UTF-8 */
	    {"\xc2\x85\xc2\x9b", 0, "\"\\u0085\\u009b\""},
	    {"\xc2\xa0", 0, "\"\xc2\xa0\""},
	    {"a\xe2\x80\xa8\x62\xe2\x80\xa9", 0, "\"a\\u2028b\\u2029\""},
	    /* not UTF-8: each byte by itself */
	    {"\xc3", 0, "\"\\u00c3\""},
	    {"\xc3(", 0, "\"\\u00c3(\""},
	    {"\xe4.test", 0, "\"\\u00e4.test\""},
	    {"\xc0\xaf", 0, "\"\\u00c0\\u00af\""},
	    {"\xc1\xbf", 0, "\"\\u00c1\\u00bf\""},
	    {"\xe0\x80\xaf", 0, "\"\\u00e0\\u0080\\u00af\""},
	    {"\xed\xa0\x80", 0, "\"\\u00ed\\u00a0\\u0080\""},
	    {"\xf0\x80\x80\xaf", 0, "\"\\u00f0\\u0080\\u0080\\u00af\""},
	    {"\xf4\x90\x80\x80", 0, "\"\\u00f4\\u0090\\u0080\\u0080\""},
	    {"\xf5\x80\x80\x80", 0, "\"\\u00f5\\u0080\\u0080\\u0080\""},
	    {"\xff\xfe", 0, "\"\\u00ff\\u00fe\""},
	    {"\x80", 0, "\"\\u0080\""},
	    {"\xe2\x82", 0, "\"\\u00e2\\u0082\""},
	    {"\xe2\x82\xc3\xa4", 0, "\"\\u00e2\\u0082\xc3\xa4\""},
	    /* the length given counts, not the NUL */
	    {"abc", 2, "\"ab\""},
	    /* NULL is null */
	    {NULL, 0, "null"},
	};
	for (size_t i = 0; i < PM_ARRAY_LEN(cases); i++) {
		size_t n = cases[i].len ? cases[i].len : cases[i].in ? strlen(cases[i].in) : 0;
		char *got = json_of(cases[i].in, n);

		if (strcmp(got, cases[i].want) != 0)
			fail_msg("case %zu:\n got  %s\n want %s", i, got, cases[i].want);
		if (!json_valid(got, strlen(got)))
			fail_msg("case %zu: got invalid JSON %s", i, got);
		free(got);
	}
}

/* test_json_cut - a long value is cut at JSONLOG_STRING_MAX bytes, never inside a character */
static void test_json_cut(void **state)
{
	(void)state;
	size_t n = JSONLOG_STRING_MAX + 100;
	char *in = xmalloc(n + 1), *got, *want = xmalloc(n + 16);

	memset(in, 'a', n);
	in[n] = '\0';
	got = json_of(in, n);
	snprintf(want, n + 16, "\"%.*s...\"", JSONLOG_STRING_MAX, in);
	if (strcmp(got, want) != 0)
		fail_msg("cut plain: got %zu bytes ending \"%s\", want %zu", strlen(got),
		         got + strlen(got) - 8, strlen(want));
	free(got);
	/* a 3-byte character across the limit is left out whole */
	memcpy(in + JSONLOG_STRING_MAX - 1, "\xe2\x82\xac", 3);
	got = json_of(in, n);
	snprintf(want, n + 16, "\"%.*s...\"", JSONLOG_STRING_MAX - 1, in);
	if (strcmp(got, want) != 0)
		fail_msg("cut before a character: got %zu bytes ending \"%s\", want %zu",
		         strlen(got), got + strlen(got) - 8, strlen(want));
	if (!json_valid(got, strlen(got)))
		fail_msg("cut before a character: invalid JSON");
	free(got);
	/* exactly the limit: not cut */
	memset(in, 'b', n);
	got = json_of(in, JSONLOG_STRING_MAX);
	if (strlen(got) != JSONLOG_STRING_MAX + 2 || strstr(got, "...") != NULL)
		fail_msg("at the limit: got length %zu, want %d and no \"...\"", strlen(got),
		         JSONLOG_STRING_MAX + 2);
	free(got);
	free(in);
	free(want);
}

/* The schema's example, as one line. */
static const char schema_example[] =
    "{\"v\":1,\"time\":\"2026-11-29T21:30:00.123Z\",\"queue_id\":\"00C8DA72AEE\",\"stage\":\"eom\","
    "\"client\":{\"addr\":\"192.0.2.20\",\"name\":null,\"iprev\":null},"
    "\"mta\":{\"host\":\"mx.example.org\",\"daemon\":\"smtpd\",\"local_addr\":\"192.0.2.1\"},"
    "\"helo\":\"client10.test\",\"sender\":\"alice@pass.test\","
    "\"recipients\":[\"bob@example.org\"],"
    "\"checks\":{\"helo_spf\":{\"result\":\"none\",\"domain\":\"client10.test\"},"
    "\"spf\":{\"result\":\"pass\",\"domain\":\"pass.test\",\"scope\":\"mfrom\"},\"dkim\":[],"
    "\"dmarc\":{\"result\":\"fail\",\"domain\":\"reject.test\",\"policy\":\"reject\","
    "\"disposition\":\"reject\",\"policy_domain\":\"reject.test\",\"discovery\":\"treewalk\","
    "\"published\":{\"p\":\"reject\",\"sp\":null,\"np\":null,\"t\":null,\"psd\":null,"
    "\"adkim\":null,\"aspf\":\"s\",\"pct\":null,"
    "\"rua\":[\"mailto:dmarc@reject.test\",\"mailto:r@x.test!10m\"]},\"override\":null,"
    "\"dkim\":\"fail\",\"spf\":\"fail\"},"
    "\"arc\":{\"result\":\"none\",\"reason\":null,\"oldest_pass\":0,\"sets\":[]}},"
    "\"dnsbl\":[],\"action\":\"reject\",\"would\":false,\"dry_run\":false,"
    "\"reply\":{\"code\":550,\"xcode\":\"5.7.26\",\"text\":\"Unauthenticated email from "
    "reject.test is not accepted due to the domain's DMARC policy\"},"
    "\"check\":\"dmarc\",\"reason\":\"dmarc_reject\",\"rule\":\"dmarc.mode\",\"detail\":null}\n";

/* test_json_record - whole records, key by key in the schema's order */
static void test_json_record(void **state)
{
	(void)state;
	const struct timespec t = {1795987800, 123456789}; /* 2026-11-29T21:30:00.123Z */
	const char *bob[] = {"bob@example.org"};
	const char *two[] = {"\"a,b\"@example.org", "carol@example.org"};
	const struct pm_decision_sig sigs[] = {{"pass", "signed.test", "rsa2048"},
	                                       {"permerror", "", NULL}};
	const struct pm_decision_dnsbl bl[] = {{"bl.example", "127.0.0.2"}};
	const struct pm_decision_arc_set arcs[] = {
	    {1, "lists.example", "s1", "rsa-sha256", "none", true},
	    {2, "relay.example", "s2", "ed25519-sha256", "pass", false}};
	const struct {
		struct pm_decision d;
		const char *want;
	} cases[] = {
	    /* ARC: a trusted sealer's rescue of a DMARC fail */
	    {{.queue_id = "QA",
	      .stage = "eom",
	      .header_from = "author.example",
	      .dmarc = "fail",
	      .dmarc_policy = "reject",
	      .dmarc_dis = "none",
	      .dmarc_override = "trusted_forwarder",
	      .dmarc_override_comment = "arc=pass as[1].d=lists.example",
	      .arc = "pass",
	      .arc_oldest_pass = 1,
	      .arc_sets = arcs,
	      .narc_sets = 2,
	      .arc_sealer = "lists.example",
	      .arc_instance = 1,
	      .arc_method = "dmarc",
	      .arc_override_applied = true,
	      .action = "accept",
	      .check = "dmarc",
	      .reason = "arc_override",
	      .rule = "arc.trusted_sealers"},
	     "{\"v\":1,\"time\":\"2026-11-29T21:30:00.123Z\",\"queue_id\":\"QA\",\"stage\":\"eom\","
	     "\"client\":{\"addr\":null,\"name\":null,\"iprev\":null},"
	     "\"mta\":{\"host\":null,\"daemon\":null,\"local_addr\":null},\"helo\":null,"
	     "\"sender\":null,\"recipients\":[],"
	     "\"checks\":{\"dmarc\":{\"result\":\"fail\",\"domain\":\"author.example\","
	     "\"policy\":\"reject\",\"disposition\":\"none\",\"policy_domain\":null,"
	     "\"discovery\":\"treewalk\",\"published\":null,\"override\":\"trusted_forwarder\","
	     "\"override_comment\":\"arc=pass as[1].d=lists.example\",\"dkim\":\"fail\","
	     "\"spf\":\"fail\"},"
	     "\"arc\":{\"result\":\"pass\",\"reason\":null,\"oldest_pass\":1,\"sets\":["
	     "{\"i\":1,\"d\":\"lists.example\",\"s\":\"s1\",\"a\":\"rsa-sha256\",\"cv\":\"none\","
	     "\"as\":true},"
	     "{\"i\":2,\"d\":\"relay.example\",\"s\":\"s2\",\"a\":\"ed25519-sha256\","
	     "\"cv\":\"pass\",\"as\":false}],"
	     "\"override\":{\"sealer\":\"lists.example\",\"instance\":1,\"method\":\"dmarc\","
	     "\"applied\":true}}},"
	     "\"dnsbl\":[],\"action\":\"accept\",\"would\":false,\"dry_run\":false,"
	     "\"reply\":null,\"check\":\"dmarc\",\"reason\":\"arc_override\","
	     "\"rule\":\"arc.trusted_sealers\",\"detail\":null}\n"},
	    /* ARC alone, failed, no sets: first member of checks */
	    {{.queue_id = "QB", .arc = "fail", .arc_reason = "i=0"},
	     "{\"v\":1,\"time\":\"2026-11-29T21:30:00.123Z\",\"queue_id\":\"QB\",\"stage\":null,"
	     "\"client\":{\"addr\":null,\"name\":null,\"iprev\":null},"
	     "\"mta\":{\"host\":null,\"daemon\":null,\"local_addr\":null},\"helo\":null,"
	     "\"sender\":null,\"recipients\":[],"
	     "\"checks\":{\"arc\":{\"result\":\"fail\",\"reason\":\"i=0\",\"oldest_pass\":0,"
	     "\"sets\":[]}},"
	     "\"dnsbl\":[],\"action\":null,\"would\":false,\"dry_run\":false,"
	     "\"reply\":null,\"check\":null,\"reason\":null,\"rule\":null,\"detail\":null}\n"},
	    /* ARC verified, no ARC header field: result none, no sets, no override */
	    {{.queue_id = "QN", .arc = "none"},
	     "{\"v\":1,\"time\":\"2026-11-29T21:30:00.123Z\",\"queue_id\":\"QN\",\"stage\":null,"
	     "\"client\":{\"addr\":null,\"name\":null,\"iprev\":null},"
	     "\"mta\":{\"host\":null,\"daemon\":null,\"local_addr\":null},\"helo\":null,"
	     "\"sender\":null,\"recipients\":[],"
	     "\"checks\":{\"arc\":{\"result\":\"none\",\"reason\":null,\"oldest_pass\":0,"
	     "\"sets\":[]}},"
	     "\"dnsbl\":[],\"action\":null,\"would\":false,\"dry_run\":false,"
	     "\"reply\":null,\"check\":null,\"reason\":null,\"rule\":null,\"detail\":null}\n"},
	    /* the schema's example: DMARC p=reject at end of message */
	    {{.queue_id = "00C8DA72AEE",
	      .stage = "eom",
	      .client_addr = "192.0.2.20",
	      .client_name = "[192.0.2.20]",
	      .mta_host = "mx.example.org",
	      .mta_daemon = "smtpd",
	      .local_addr = "192.0.2.1",
	      .helo = "client10.test",
	      .sender = "alice@pass.test",
	      .rcpts = bob,
	      .nrcpts = 1,
	      .helo_spf = "none",
	      .helo_spf_domain = "client10.test",
	      .spf = "pass",
	      .spf_domain = "pass.test",
	      .header_from = "reject.test",
	      .dkim_done = true,
	      .dmarc = "fail",
	      .dmarc_policy = "reject",
	      .dmarc_dis = "reject",
	      .dmarc_pdomain = "reject.test",
	      .dmarc_discovery = "treewalk",
	      .dmarc_published = true,
	      .dmarc_pub = {"reject", NULL, NULL, NULL, NULL, NULL, "s", NULL},
	      .dmarc_rua = " mailto:dmarc@reject.test ,, mailto:r@x.test!10m",
	      .dmarc_dkim = "fail",
	      .dmarc_spf = "fail",
	      .arc = "none",
	      .action = "reject",
	      .reply = "550 5.7.26 Unauthenticated email from reject.test is not accepted due "
	               "to the domain's DMARC policy",
	      .check = "dmarc",
	      .reason = "dmarc_reject",
	      .rule = "dmarc.mode"},
	     schema_example},
	    /* nothing known: every key, null, [] and {} */
	    {{.would = false},
	     "{\"v\":1,\"time\":\"2026-11-29T21:30:00.123Z\",\"queue_id\":null,\"stage\":null,"
	     "\"client\":{\"addr\":null,\"name\":null,\"iprev\":null},"
	     "\"mta\":{\"host\":null,\"daemon\":null,\"local_addr\":null},\"helo\":null,"
	     "\"sender\":null,\"recipients\":[],\"checks\":{},\"dnsbl\":[],\"action\":null,"
	     "\"would\":false,\"dry_run\":false,\"reply\":null,\"check\":null,\"reason\":null,"
	     "\"rule\":null,\"detail\":null}\n"},
	    /* NOQUEUE, SPF fail at MAIL FROM, a client name, the detail */
	    {{.queue_id = "NOQUEUE",
	      .stage = "mail",
	      .client_addr = "192.0.2.11",
	      .client_name = "client11.test",
	      .helo = "client11.test",
	      .sender = "alice@fail.test",
	      .helo_spf = "none",
	      .helo_spf_domain = "client11.test",
	      .spf = "fail",
	      .spf_domain = "fail.test",
	      .action = "reject",
	      .reply = "550 5.7.23 SPF validation failed",
	      .check = "spf",
	      .reason = "spf_fail",
	      .rule = "spf.fail=reject",
	      .detail = "fail.test does not designate 192.0.2.11 as permitted sender"},
	     "{\"v\":1,\"time\":\"2026-11-29T21:30:00.123Z\",\"queue_id\":null,\"stage\":\"mail\","
	     "\"client\":{\"addr\":\"192.0.2.11\",\"name\":\"client11.test\",\"iprev\":null},"
	     "\"mta\":{\"host\":null,\"daemon\":null,\"local_addr\":null},"
	     "\"helo\":\"client11.test\",\"sender\":\"alice@fail.test\",\"recipients\":[],"
	     "\"checks\":{\"helo_spf\":{\"result\":\"none\",\"domain\":\"client11.test\"},"
	     "\"spf\":{\"result\":\"fail\",\"domain\":\"fail.test\",\"scope\":\"mfrom\"}},"
	     "\"dnsbl\":[],"
	     "\"action\":\"reject\",\"would\":false,\"dry_run\":false,"
	     "\"reply\":{\"code\":550,\"xcode\":\"5.7.23\",\"text\":\"SPF validation failed\"},"
	     "\"check\":\"spf\",\"reason\":\"spf_fail\",\"rule\":\"spf.fail=reject\","
	     "\"detail\":\"fail.test does not designate 192.0.2.11 as permitted sender\"}\n"},
	    /* accepted, DKIM signatures, two recipients (a comma in one), no reply; no
	       address ("unknown"), an SPF result without a domain, null sender */
	    {{.queue_id = "Q1",
	      .stage = "eom",
	      .client_addr = "unknown",
	      .client_name = "unknown",
	      .sender = "<>",
	      .rcpts = two,
	      .nrcpts = 2,
	      .spf = "none",
	      .spf_scope = "helo",
	      .dkim_done = true,
	      .dkim = sigs,
	      .ndkim = 2,
	      .header_from = "signed.test",
	      .dmarc = "none",
	      .dmarc_policy = "",
	      .action = "accept"},
	     "{\"v\":1,\"time\":\"2026-11-29T21:30:00.123Z\",\"queue_id\":\"Q1\",\"stage\":\"eom\","
	     "\"client\":{\"addr\":null,\"name\":null,\"iprev\":null},"
	     "\"mta\":{\"host\":null,\"daemon\":null,\"local_addr\":null},\"helo\":null,"
	     "\"sender\":\"<>\",\"recipients\":[\"\\\"a,b\\\"@example.org\",\"carol@example.org\"],"
	     "\"checks\":{\"spf\":{\"result\":\"none\",\"domain\":null,\"scope\":\"helo\"},"
	     "\"dkim\":[{\"result\":\"pass\",\"domain\":\"signed.test\",\"selector\":\"rsa2048\"},"
	     "{\"result\":\"permerror\",\"domain\":null,\"selector\":null}],"
	     "\"dmarc\":{\"result\":\"none\",\"domain\":\"signed.test\",\"policy\":null,"
	     "\"disposition\":null,\"policy_domain\":null,\"discovery\":\"treewalk\","
	     "\"published\":null,\"override\":null,\"dkim\":\"fail\","
	     "\"spf\":\"fail\"}},\"dnsbl\":["
	     "],\"action\":\"accept\",\"would\":false,"
	     "\"dry_run\":false,\"reply\":null,\"check\":null,\"reason\":null,\"rule\":null,"
	     "\"detail\":null}\n"},
	    /* iprev, DNSBL, would, dry run, a tempfail reply */
	    {{.queue_id = "",
	      .stage = "connect",
	      .client_addr = "2001:db8::1",
	      .client_name = "mx.example.net",
	      .iprev = "pass",
	      .mta_host = "mail\x01.example.org\"",
	      .mta_daemon = "",
	      .local_addr = "2001:db8::25",
	      .dnsbl = bl,
	      .ndnsbl = 1,
	      .action = "tempfail",
	      .would = true,
	      .dry_run = true,
	      .reply = "451 4.3.0 Internal error; try again later",
	      .check = "internal_error"},
	     "{\"v\":1,\"time\":\"2026-11-29T21:30:00.123Z\",\"queue_id\":null,"
	     "\"stage\":\"connect\",\"client\":{\"addr\":\"2001:db8::1\","
	     "\"name\":\"mx.example.net\",\"iprev\":\"pass\"},"
	     "\"mta\":{\"host\":\"mail\\u0001.example.org\\\"\",\"daemon\":null,"
	     "\"local_addr\":\"2001:db8::25\"},\"helo\":null,\"sender\":null,"
	     "\"recipients\":[],\"checks\":{},"
	     "\"dnsbl\":[{\"zone\":\"bl.example\",\"answer\":\"127.0.0.2\"}],"
	     "\"action\":\"tempfail\",\"would\":true,\"dry_run\":true,"
	     "\"reply\":{\"code\":451,\"xcode\":\"4.3.0\",\"text\":\"Internal error; try again "
	     "later\"},\"check\":\"internal_error\",\"reason\":null,\"rule\":null,"
	     "\"detail\":null}\n"},
	};
	for (size_t i = 0; i < PM_ARRAY_LEN(cases); i++) {
		char *got = jsonlog_format(&cases[i].d, &t);

		if (strcmp(got, cases[i].want) != 0)
			fail_msg("case %zu:\n got  %s want %s", i, got, cases[i].want);
		if (!record_ok(got))
			fail_msg("case %zu: not one valid JSON line: %s", i, got);
		free(got);
	}
	/* NULL is a record of nothing; the time is whole milliseconds */
	const struct timespec t0 = {0, 999999999};
	const char *want0 = "{\"v\":1,\"time\":\"1970-01-01T00:00:00.999Z\",\"queue_id\":null,";
	char *got = jsonlog_format(NULL, &t0);
	if (strncmp(got, want0, strlen(want0)) != 0)
		fail_msg("NULL at 0.999999999: got %s, want it to start %s", got, want0);
	free(got);
}

/* test_state_fields - greylisting and rate limits in the syslog line and the JSON record */
static void test_state_fields(void **state)
{
	(void)state;
	const struct timespec t = {1795987800, 123456789};
	static const struct pm_decision_greylist g_new[] = {{.state = "new",
	                                                     .network = "192.0.2.0/24",
	                                                     .sender = "alice@example.net",
	                                                     .recipient = "bob@example.org",
	                                                     .age = 0,
	                                                     .retry_in = 300,
	                                                     .backend = "redis"}};
	static const struct pm_decision_greylist g_eom[] = {
	    {.state = "passed",
	     .network = "2001:db8::/64",
	     .sender = "",
	     .recipient = "bob@example.org",
	     .age = 412,
	     .retry_in = -1,
	     .backend = "lmdb"},
	    {.state = "skipped", .age = -1, .retry_in = -1, .skip = "postmaster"}};
	static const struct pm_decision_greylist g_hostile[] = {{.state = "early",
	                                                         .network = "192.0.2.0/24",
	                                                         .sender = "a b\"\n@x",
	                                                         .recipient = "c@y",
	                                                         .age = 5,
	                                                         .retry_in = 295,
	                                                         .backend = "lmdb"}};
	static const struct pm_decision_ratelimit r_over[] = {{.rule = "per-user",
	                                                       .key = "sasl_user",
	                                                       .value = "alice",
	                                                       .count = 200,
	                                                       .limit = 200,
	                                                       .window = 3600,
	                                                       .action = "tempfail",
	                                                       .state = "over",
	                                                       .backend = "redis"}};
	static const struct pm_decision_ratelimit r_eom[] = {
	    {"per-ip", "client_address", "192.0.2.7", 3, 100, 60, "log", "ok", "lmdb"},
	    {"per-rcpt", "recipient", "bob@example.org", -1, 10, 86400, "reject", "error", "lmdb"}};
	static const char *const bob[] = {"bob@example.org"};
	static const struct {
		struct pm_decision d;
		const char *line, *json;
	} cases[] = {
	    {{.queue_id = "Q1",
	      .stage = "rcpt",
	      .rcpts = bob,
	      .nrcpts = 1,
	      .greylist = g_new,
	      .ngreylist = 1,
	      .action = "tempfail",
	      .reply = "451 4.7.1 greylisted",
	      .check = "greylist",
	      .reason = "greylisted",
	      .rule = "greylisting.delay"},
	     "Q1: stage=rcpt rcpt=<bob@example.org> greylist=new "
	     "greylist_triplet=192.0.2.0/24,alice@example.net,bob@example.org greylist_age=0 "
	     "greylist_retry=300 state_backend=redis action=tempfail reply=\"451 4.7.1 "
	     "greylisted\" check=greylist reason=greylisted rule=greylisting.delay",
	     "\"checks\":{\"greylist\":[{\"state\":\"new\",\"network\":\"192.0.2.0/24\","
	     "\"sender\":\"alice@example.net\",\"recipient\":\"bob@example.org\",\"age\":0,"
	     "\"retry_in\":300,\"backend\":\"redis\"}]}"},
	    {{.queue_id = "Q2",
	      .stage = "rcpt",
	      .ratelimit = r_over,
	      .nratelimit = 1,
	      .action = "tempfail",
	      .check = "ratelimit",
	      .reason = "ratelimit_exceeded",
	      .rule = "ratelimits.per-user"},
	     "Q2: stage=rcpt ratelimit=per-user ratelimit_key=sasl_user:alice "
	     "ratelimit_count=200/200/3600s state_backend=redis action=tempfail check=ratelimit "
	     "reason=ratelimit_exceeded rule=ratelimits.per-user",
	     "\"checks\":{\"ratelimit\":[{\"rule\":\"per-user\",\"key\":\"sasl_user\","
	     "\"value\":\"alice\",\"count\":200,\"limit\":200,\"window\":3600,"
	     "\"action\":\"tempfail\",\"state\":\"over\",\"backend\":\"redis\"}]}"},
	    {{.queue_id = "Q3",
	      .stage = "eom",
	      .spf = "pass",
	      .spf_domain = "example.net",
	      .greylist = g_eom,
	      .ngreylist = 2,
	      .ratelimit = r_eom,
	      .nratelimit = 2,
	      .action = "accept"},
	     "Q3: stage=eom spf=pass spf_domain=example.net greylist=passed "
	     "greylist_triplet=2001:db8::/64,,bob@example.org greylist_age=412 greylist=skipped "
	     "state_backend=lmdb ratelimit=per-ip ratelimit_key=client_address:192.0.2.7 "
	     "ratelimit_count=3/100/60s ratelimit=per-rcpt ratelimit_key=recipient:bob@example.org "
	     "ratelimit_count=?/10/86400s action=accept",
	     "\"checks\":{\"spf\":{\"result\":\"pass\",\"domain\":\"example.net\","
	     "\"scope\":\"mfrom\"},\"greylist\":[{\"state\":\"passed\","
	     "\"network\":\"2001:db8::/64\",\"sender\":\"\",\"recipient\":\"bob@example.org\","
	     "\"age\":412,\"backend\":\"lmdb\"},{\"state\":\"skipped\",\"network\":null,"
	     "\"sender\":null,\"recipient\":null,\"backend\":null,\"skip\":\"postmaster\"}],"
	     "\"ratelimit\":[{\"rule\":\"per-ip\",\"key\":\"client_address\","
	     "\"value\":\"192.0.2.7\",\"count\":3,\"limit\":100,\"window\":60,\"action\":\"log\","
	     "\"state\":\"ok\",\"backend\":\"lmdb\"},{\"rule\":\"per-rcpt\",\"key\":\"recipient\","
	     "\"value\":\"bob@example.org\",\"count\":null,\"limit\":10,\"window\":86400,"
	     "\"action\":\"reject\",\"state\":\"error\",\"backend\":\"lmdb\"}]}"},
	    /* hostile bytes in a triplet: escaped in syslog, valid JSON */
	    {{.queue_id = "Q4", .greylist = g_hostile, .ngreylist = 1},
	     "Q4: greylist=early greylist_triplet=\"192.0.2.0/24,a b\\x22\\x0a@x,c@y\" "
	     "greylist_age=5 greylist_retry=295 state_backend=lmdb",
	     "\"checks\":{\"greylist\":[{\"state\":\"early\",\"network\":\"192.0.2.0/24\","
	     "\"sender\":\"a b\\\"\\u000a@x\",\"recipient\":\"c@y\",\"age\":5,\"retry_in\":295,"
	     "\"backend\":\"lmdb\"}]}"},
	};
	char line[2000];

	for (size_t i = 0; i < PM_ARRAY_LEN(cases); i++) {
		char *rec = jsonlog_format(&cases[i].d, &t);

		log_format_decision(&cases[i].d, line, sizeof(line));
		if (strcmp(line, cases[i].line) != 0)
			fail_msg("case %zu syslog:\n got  %s\n want %s", i, line, cases[i].line);
		if (strstr(rec, cases[i].json) == NULL)
			fail_msg("case %zu JSON:\n got  %s want it to hold %s", i, rec,
			         cases[i].json);
		if (!record_ok(rec))
			fail_msg("case %zu: not one valid JSON line: %s", i, rec);
		free(rec);
	}
}

/* test_json_reply - the reply split into code, enhanced code and text */
static void test_json_reply(void **state)
{
	(void)state;
	static const struct {
		const char *reply, *want;
	} cases[] = {
	    {"550 5.7.26 Unauthenticated",
	     "{\"code\":550,\"xcode\":\"5.7.26\",\"text\":\"Unauthenticated\"}"},
	    {"452 4.5.3 Too many recipients",
	     "{\"code\":452,\"xcode\":\"4.5.3\",\"text\":\"Too many recipients\"}"},
	    {"550 5.123.456 x", "{\"code\":550,\"xcode\":\"5.123.456\",\"text\":\"x\"}"},
	    {"550 5.7.1", "{\"code\":550,\"xcode\":\"5.7.1\",\"text\":\"\"}"},
	    {"421", "{\"code\":421,\"xcode\":null,\"text\":\"\"}"},
	    {"550 no enhanced code", "{\"code\":550,\"xcode\":null,\"text\":\"no enhanced code\"}"},
	    {"550 5.7.1000 x", "{\"code\":550,\"xcode\":null,\"text\":\"5.7.1000 x\"}"},
	    {"550 5.7.x y", "{\"code\":550,\"xcode\":null,\"text\":\"5.7.x y\"}"},
	    {"550 6.7.1 y", "{\"code\":550,\"xcode\":null,\"text\":\"6.7.1 y\"}"},
	    {"5500 5.7.1 y", "{\"code\":null,\"xcode\":null,\"text\":\"5500 5.7.1 y\"}"},
	    {"garbage", "{\"code\":null,\"xcode\":null,\"text\":\"garbage\"}"},
	    {"", "{\"code\":null,\"xcode\":null,\"text\":\"\"}"},
	    {"550 5.1.1 <\"x\\y\"@d.test>\r\n", "{\"code\":550,\"xcode\":\"5.1.1\",\"text\":\"<"
	                                        "\\\"x\\\\y\\\"@d.test>\\u000d\\u000a\"}"},
	};
	const struct timespec t = {0, 0};
	for (size_t i = 0; i < PM_ARRAY_LEN(cases); i++) {
		struct pm_decision d = {.reply = cases[i].reply};
		char *rec = jsonlog_format(&d, &t), *r = strstr(rec, ",\"reply\":"), *end;

		assert_non_null(r);
		r += strlen(",\"reply\":");
		end = strstr(r, ",\"check\":");
		assert_non_null(end);
		*end = '\0';
		if (strcmp(r, cases[i].want) != 0)
			fail_msg("case %zu reply %s:\n got  %s\n want %s", i, cases[i].reply, r,
			         cases[i].want);
		free(rec);
	}
}

/* random_string - n random bytes (NULs and all) then a NUL; the caller frees */
static char *random_string(unsigned *seed, size_t n)
{
	char *s = xmalloc(n + 1);

	for (size_t i = 0; i < n; i++)
		s[i] = (char)(rand_r(seed) & 0xff);
	s[n] = '\0';
	return s;
}

/* test_json_random - records of random bytes in every string field are valid JSON lines */
static void test_json_random(void **state)
{
	(void)state;
	unsigned seed = 4242;
	const struct timespec t = {1795987800, 0};

	for (int iter = 0; iter < 3000; iter++) {
		char *v[16];
		size_t len = (size_t)(rand_r(&seed) % (iter < 2900 ? 40 : 3000));

		for (size_t k = 0; k < PM_ARRAY_LEN(v); k++)
			v[k] = random_string(&seed, len);
		const char *rc[] = {v[6], v[7]};
		struct pm_decision_sig sig = {v[8], v[9], v[10]};
		struct pm_decision_dnsbl bl = {v[11], v[12]};
		struct pm_decision d = {
		    .queue_id = v[0],
		    .stage = v[1],
		    .client_addr = v[2],
		    .client_name = v[3],
		    .iprev = v[4],
		    .mta_host = v[13],
		    .mta_daemon = v[14],
		    .local_addr = v[15],
		    .helo = v[5],
		    .sender = v[13],
		    .rcpts = rc,
		    .nrcpts = 2,
		    .helo_spf = v[14],
		    .helo_spf_domain = v[15],
		    .spf = v[1],
		    .spf_domain = v[2],
		    .header_from = v[3],
		    .dkim_done = true,
		    .dkim = &sig,
		    .ndkim = 1,
		    .dmarc = v[4],
		    .dmarc_policy = v[5],
		    .dmarc_dis = v[6],
		    .dnsbl = &bl,
		    .ndnsbl = 1,
		    .action = v[7],
		    .would = iter & 1,
		    .reply = v[8],
		    .check = v[9],
		    .reason = v[10],
		    .rule = v[11],
		    .detail = v[12],
		};
		char *rec = jsonlog_format(&d, &t);

		if (!record_ok(rec))
			fail_msg("iteration %d (values of %zu bytes): not one valid JSON line: %s",
			         iter, len, rec);
		free(rec);
		for (size_t k = 0; k < PM_ARRAY_LEN(v); k++)
			free(v[k]);
	}
}

/* read_file - the whole file (NUL-terminated); the caller frees; NULL when unreadable */
static char *read_file(const char *path, size_t *len)
{
	FILE *f = fopen(path, "rb");
	struct strbuf sb;
	char buf[4096];
	size_t n;

	if (f == NULL)
		return NULL;
	sb_init(&sb);
	while ((n = fread(buf, 1, sizeof(buf), f)) > 0)
		sb_appendn(&sb, buf, n);
	fclose(f);
	if (len != NULL)
		*len = sb.len;
	return sb_steal(&sb);
}

/* check_lines - (once the queue is written) every line of path is a valid record; the line count */
static size_t check_lines(const char *path)
{
	size_t len, lines = 0;
	char *text, *p, *nl;

	if (!jsonlog_flush(10000))
		fail_msg("the JSON writer did not empty its queue in 10 s");
	text = read_file(path, &len);

	if (text == NULL)
		fail_msg("cannot read %s", path);
	if (len > 0 && text[len - 1] != '\n')
		fail_msg("%s: got no newline at the end, want one", path);
	for (p = text; *p != '\0'; p = nl + 1) {
		nl = strchr(p, '\n');
		assert_non_null(nl);
		char save = nl[1];
		nl[1] = '\0';
		if (!record_ok(p))
			fail_msg("%s line %zu: not a valid record: %s", path, lines + 1, p);
		nl[1] = save;
		lines++;
	}
	free(text);
	return lines;
}

static char tmpdir[64];

/* tmp_path - a path in the tests' directory, made at the first call (static buffer per slot) */
static const char *tmp_path(int slot, const char *name)
{
	static char paths[4][128];

	if (tmpdir[0] == '\0') {
		snprintf(tmpdir, sizeof(tmpdir), "/tmp/test_log.XXXXXX");
		if (mkdtemp(tmpdir) == NULL)
			fail_msg("mkdtemp %s: %s", tmpdir, strerror(errno));
	}
	snprintf(paths[slot], sizeof(paths[slot]), "%s/%s", tmpdir, name);
	return paths[slot];
}

/* The threads of test_json_file. */
#define WRITERS 8
#define RECORDS 200

/* writer - RECORDS records with a long HELO */
static void *writer(void *arg)
{
	char helo[1500];
	const char *rc[] = {"bob@example.org"};

	memset(helo, 'a' + (int)(intptr_t)arg, sizeof(helo) - 1);
	helo[sizeof(helo) - 1] = '\0';
	for (int i = 0; i < RECORDS; i++) {
		struct pm_decision d = {.queue_id = "QT",
		                        .stage = "eom",
		                        .helo = helo,
		                        .rcpts = rc,
		                        .nrcpts = 1,
		                        .action = "accept"};
		jsonlog_write(&d);
	}
	return NULL;
}

/* test_json_file - the file: mode, one line per decision, rotation, failures, threads */
static void test_json_file(void **state)
{
	(void)state;
	char why[512], cur[256];
	struct stat st;
	const char *path = tmp_path(0, "decisions.json"),
	           *rotated = tmp_path(1, "decisions.json.1");
	struct pm_decision d = {.queue_id = "QF",
	                        .stage = "rcpt",
	                        .helo = "h\r\n",
	                        .action = "reject",
	                        .reply = "550 5.1.1 x"};

	/* nothing is written while no log is open */
	jsonlog_write(&d);
	if (strcmp(jsonlog_path(cur, sizeof(cur)), "") != 0)
		fail_msg("path before open: got \"%s\", want \"\"", cur);

	mode_t old_umask = umask(022);
	if (decision_json_open(path, why, sizeof(why)) != 0)
		fail_msg("open %s: got -1 (%s), want 0", path, why);
	umask(old_umask);
	assert_int_equal(stat(path, &st), 0);
	if ((st.st_mode & 0777) != 0640)
		fail_msg("mode: got %o, want 640", (unsigned)(st.st_mode & 0777));
	if (strcmp(jsonlog_path(cur, sizeof(cur)), path) != 0)
		fail_msg("path: got \"%s\", want \"%s\"", cur, path);
	for (int i = 0; i < 3; i++)
		jsonlog_write(&d);
	jsonlog_write(NULL);
	size_t n = check_lines(path);
	if (n != 3)
		fail_msg("records: got %zu, want 3", n);

	/* rotation: renamed, reopened, the new file gets the next records */
	assert_int_equal(rename(path, rotated), 0);
	jsonlog_write(&d); /* still the renamed file */
	assert_int_equal(decision_json_open(path, why, sizeof(why)), 0);
	jsonlog_write(&d);
	if ((n = check_lines(rotated)) != 4)
		fail_msg("rotated file: got %zu records, want 4", n);
	if ((n = check_lines(path)) != 1)
		fail_msg("new file: got %zu records, want 1", n);

	/* an open that fails says why and keeps the log in use */
	const char *bad = tmp_path(2, "no-such-dir/x.json");
	why[0] = '\0';
	if (decision_json_open(bad, why, sizeof(why)) != -1)
		fail_msg("open %s: got 0, want -1", bad);
	if (strstr(why, bad) == NULL || strstr(why, "No such file") == NULL)
		fail_msg("open %s: got why \"%s\", want the path and \"No such file\"", bad, why);
	if (strcmp(jsonlog_path(cur, sizeof(cur)), path) != 0)
		fail_msg("path after a failed open: got \"%s\", want \"%s\"", cur, path);
	jsonlog_write(&d);
	if ((n = check_lines(path)) != 2)
		fail_msg("after a failed open: got %zu records, want 2", n);

	/* threads: no record mixed with another */
	pthread_t tid[WRITERS];
	for (intptr_t i = 0; i < WRITERS; i++)
		assert_int_equal(pthread_create(&tid[i], NULL, writer, (void *)i), 0);
	for (int i = 0; i < WRITERS; i++)
		pthread_join(tid[i], NULL);
	if ((n = check_lines(path)) != 2 + WRITERS * RECORDS)
		fail_msg("after %d threads: got %zu records, want %d", WRITERS, n,
		         2 + WRITERS * RECORDS);

	/* a big record (many long recipients) is one whole line */
	size_t nr = 400;
	char **rc = xcalloc(nr, sizeof(*rc));
	for (size_t i = 0; i < nr; i++) {
		rc[i] = xmalloc(300);
		snprintf(rc[i], 300, "%0250zu@example.org", i);
	}
	struct pm_decision big = {
	    .queue_id = "QB", .stage = "eom", .rcpts = (const char *const *)rc, .nrcpts = nr};
	jsonlog_write(&big);
	if ((n = check_lines(path)) != 3 + WRITERS * RECORDS)
		fail_msg("after a big record: got %zu records, want %d", n, 3 + WRITERS * RECORDS);
	for (size_t i = 0; i < nr; i++)
		free(rc[i]);
	free(rc);

	/* "" closes: nothing more is written */
	assert_int_equal(decision_json_open("", why, sizeof(why)), 0);
	jsonlog_write(&d);
	if ((n = check_lines(path)) != 3 + WRITERS * RECORDS)
		fail_msg("after closing: got %zu records, want %d", n, 3 + WRITERS * RECORDS);
	if (strcmp(jsonlog_path(cur, sizeof(cur)), "") != 0)
		fail_msg("path after closing: got \"%s\", want \"\"", cur);
	assert_int_equal(decision_json_open(NULL, why, sizeof(why)), 0);
	unlink(path);
	unlink(rotated);
}

/* stderr_capture - send stderr to a fresh file; returns the saved stderr */
static int stderr_capture(const char *path)
{
	int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC, 0600), saved;

	assert_true(fd >= 0);
	fflush(stderr);
	saved = dup(2);
	assert_true(saved >= 0);
	assert_true(dup2(fd, 2) == 2);
	close(fd);
	return saved;
}

/* stderr_restore - undo stderr_capture */
static void stderr_restore(int saved)
{
	fflush(stderr);
	dup2(saved, 2);
	close(saved);
}

/* count_matches - how often needle occurs in the file at path */
static int count_matches(const char *path, const char *needle)
{
	char *text = read_file(path, NULL);
	int n = 0;

	assert_non_null(text);
	for (char *p = text; (p = strstr(p, needle)) != NULL; p++)
		n++;
	free(text);
	return n;
}

/*
 * test_json_errors - write errors are reported once a minute at most; a
 * write cut short (the file size limit) leaves one broken line, and the
 * next record starts on a line of its own
 */
static void test_json_errors(void **state)
{
	(void)state;
	char why[512];
	const char *err = tmp_path(0, "stderr.txt"), *path = tmp_path(1, "partial.json");
	struct pm_decision d = {.queue_id = "QE",
	                        .stage = "eom",
	                        .action = "accept",
	                        .detail = "0123456789012345678901234567890123456789"};
	int saved;

	log_open("test_log", LOG_LOCAL7, true); /* reports go to stderr (and syslog) */
	/* /dev/full: every write fails with ENOSPC; one report for three failures */
	if (decision_json_open("/dev/full", why, sizeof(why)) != 0)
		skip();
	saved = stderr_capture(err);
	for (int i = 0; i < 3; i++)
		jsonlog_write(&d);
	assert_true(jsonlog_flush(10000));
	stderr_restore(saved);
	int reports = count_matches(err, "cannot write the JSON decision log /dev/full");
	if (reports != 1)
		fail_msg("reports for 3 failed writes: got %d, want 1", reports);
	if (count_matches(err, "No space left on device") != 1 ||
	    count_matches(err, "1 record(s) lost") != 1)
		fail_msg("report: want the errno text and \"1 record(s) lost\"");

	/* a write cut short by RLIMIT_FSIZE, then one that fits */
	struct rlimit old, lim;
	struct sigaction sa, oldsa;
	struct stat st;
	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = SIG_IGN;
	sigaction(SIGXFSZ, &sa, &oldsa);
	assert_int_equal(decision_json_open(path, why, sizeof(why)), 0);
	saved = stderr_capture(err);
	jsonlog_write(&d);
	assert_true(jsonlog_flush(10000));
	assert_int_equal(stat(path, &st), 0);
	assert_int_equal(getrlimit(RLIMIT_FSIZE, &old), 0);
	lim = old;
	lim.rlim_cur = (rlim_t)st.st_size + 50;
	assert_int_equal(setrlimit(RLIMIT_FSIZE, &lim), 0);
	jsonlog_write(&d); /* 50 bytes out, then EFBIG */
	jsonlog_write(&d); /* nothing out: EFBIG at once */
	assert_true(jsonlog_flush(10000));
	assert_int_equal(setrlimit(RLIMIT_FSIZE, &old), 0);
	jsonlog_write(&d);
	jsonlog_write(&d);
	assert_true(jsonlog_flush(10000));
	stderr_restore(saved);
	sigaction(SIGXFSZ, &oldsa, NULL);
	jsonlog_close();

	size_t len;
	char *text = read_file(path, &len), *lines[8];
	int nl = 0;
	assert_non_null(text);
	for (char *p = text, *e; *p != '\0' && nl < 8; p = e + 1) {
		e = strchr(p, '\n');
		assert_non_null(e);
		*e = '\0';
		lines[nl++] = p;
	}
	if (nl != 4)
		fail_msg("lines: got %d, want 4 (record, 50 bytes of one, record, record)", nl);
	for (int i = 0; i < nl; i++) {
		bool want = i != 1, got = json_valid(lines[i], strlen(lines[i]));
		if (got != want)
			fail_msg("line %d (%s): got valid %d, want %d", i + 1, lines[i], got, want);
	}
	if (strlen(lines[1]) != 50 || strncmp(lines[1], lines[0], 30) != 0)
		fail_msg("broken line: got %zu bytes \"%s\", want the first 50 of a record",
		         strlen(lines[1]), lines[1]);
	free(text);
	/* within the minute: no second report */
	if (count_matches(err, "cannot write the JSON decision log") != 0)
		fail_msg("a second report within a minute: got one, want none");
	unlink(path);
	unlink(err);
	rmdir(tmpdir);
}

/*
 * test_json_stall - a log whose writes block (a FIFO nobody reads): the
 * callers never wait, the queue stops at JSONLOG_QUEUE_BYTES, the
 * records dropped are reported, and so are those still queued at exit
 */
static void test_json_stall(void **state)
{
	(void)state;
	char why[512];
	const char *err = tmp_path(0, "stderr.txt"), *fifo = tmp_path(1, "stall.fifo");
	struct timespec t0, t1;
	struct sigaction sa, oldsa;
	size_t nr = 400, records = 2 * (JSONLOG_QUEUE_BYTES / (400 * 2048)) + 4;
	int holder, saved;

	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = SIG_IGN;
	sigaction(SIGPIPE, &sa, &oldsa);
	log_open("test_log", LOG_LOCAL7, true);
	(void)mkdir(tmpdir, 0700); /* test_json_errors removed it */
	unlink(fifo);
	assert_int_equal(mkfifo(fifo, 0600), 0);
	holder = open(fifo, O_RDWR | O_NONBLOCK); /* a reader that never reads */
	assert_true(holder >= 0);
	(void)fcntl(holder, F_SETPIPE_SZ, 4096);
	if (decision_json_open(fifo, why, sizeof(why)) != 0)
		fail_msg("open %s: got -1 (%s), want 0", fifo, why);

	/* records of about 800 KiB: 400 recipients of 2,000 bytes */
	char **rc = xcalloc(nr, sizeof(*rc));
	for (size_t i = 0; i < nr; i++) {
		rc[i] = xmalloc(2048);
		memset(rc[i], 'r', 2000);
		rc[i][2000] = '\0';
	}
	struct pm_decision big = {
	    .queue_id = "QS", .stage = "eom", .rcpts = (const char *const *)rc, .nrcpts = nr};
	saved = stderr_capture(err);
	clock_gettime(CLOCK_MONOTONIC, &t0);
	for (size_t i = 0; i < records; i++)
		jsonlog_write(&big);
	clock_gettime(CLOCK_MONOTONIC, &t1);
	if (jsonlog_flush(200))
		fail_msg("flush of a stalled log: got done, want a timeout");
	decision_json_shutdown(200);
	stderr_restore(saved);
	long ms = (t1.tv_sec - t0.tv_sec) * 1000 + (t1.tv_nsec - t0.tv_nsec) / 1000000;
	if (ms > 5000)
		fail_msg("%zu records to a stalled log: got %ld ms, want no waiting (< 5000 ms)",
		         records, ms);
	if (count_matches(err, "falls behind") != 1 ||
	    count_matches(err, "record(s) dropped since the last report") != 1)
		fail_msg("want one report of the records dropped on a full queue");
	if (count_matches(err, "not written in the 200 ms allowed at exit") != 1 ||
	    count_matches(err, " 0 not written") != 0 || count_matches(err, " 0 dropped") != 0)
		fail_msg("want the exit report: records dropped and not written");

	/* the reader goes away: the writer fails (EPIPE) and empties its queue */
	close(holder);
	saved = stderr_capture(err);
	if (!jsonlog_flush(10000))
		fail_msg("after the reader left: the writer still blocked");
	stderr_restore(saved);
	jsonlog_close();
	sigaction(SIGPIPE, &oldsa, NULL);
	for (size_t i = 0; i < nr; i++)
		free(rc[i]);
	free(rc);
	unlink(fifo);
	unlink(err);
	rmdir(tmpdir);
}

/* The threads of test_ident_switch. */
static atomic_bool ident_stop;

/* ident_logger - log lines until told to stop */
static void *ident_logger(void *arg)
{
	(void)arg;
	while (!atomic_load(&ident_stop))
		log_msg(LOG_DEBUG, "ident switch test line");
	return NULL;
}

/*
 * test_ident_switch - log_open switching the ident back and forth while
 * other threads log: every line carries one of the two idents whole,
 * and after the last switch the last ident
 */
static void test_ident_switch(void **state)
{
	(void)state;
	const char *err = tmp_path(0, "ident.txt");
	pthread_t tid[4];
	int saved;

	(void)mkdir(tmpdir, 0700);
	saved = stderr_capture(err);
	log_open("ident-second", LOG_LOCAL7, true);
	atomic_store(&ident_stop, false);
	for (int i = 0; i < 4; i++)
		assert_int_equal(pthread_create(&tid[i], NULL, ident_logger, NULL), 0);
	for (int i = 0; i < 400; i++)
		log_open(i % 2 ? "ident-one" : "ident-second", LOG_LOCAL7, true);
	atomic_store(&ident_stop, true);
	for (int i = 0; i < 4; i++)
		pthread_join(tid[i], NULL);
	log_msg(LOG_DEBUG, "the last line");
	stderr_restore(saved);

	char *text = read_file(err, NULL);
	int lines = 0;
	assert_non_null(text);
	for (char *p = text, *e; *p != '\0'; p = e + 1) {
		e = strchr(p, '\n');
		assert_non_null(e);
		*e = '\0';
		char *sp = strchr(p, ' ');
		if (sp == NULL || (strncmp(sp + 1, "ident-one[", 10) != 0 &&
		                   strncmp(sp + 1, "ident-second[", 13) != 0))
			fail_msg("line %d: got \"%s\", want the ident ident-one or ident-second",
			         lines + 1, p);
		lines++;
		if (e[1] == '\0' && strncmp(sp + 1, "ident-one[", 10) != 0)
			fail_msg("last line: got \"%s\", want the last ident, ident-one", p);
	}
	if (lines < 1)
		fail_msg("lines: got none, want some");
	free(text);
	log_open("test_log", LOG_LOCAL7, false);
	unlink(err);
}

/* main - run the cases */
int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_format),       cmocka_unit_test(test_caps),
	    cmocka_unit_test(test_facility),     cmocka_unit_test(test_emit),
	    cmocka_unit_test(test_json_checker), cmocka_unit_test(test_json_escape),
	    cmocka_unit_test(test_json_cut),     cmocka_unit_test(test_json_record),
	    cmocka_unit_test(test_json_reply),   cmocka_unit_test(test_json_random),
	    cmocka_unit_test(test_json_file),    cmocka_unit_test(test_json_errors),
	    cmocka_unit_test(test_json_stall),   cmocka_unit_test(test_ident_switch),
	    cmocka_unit_test(test_state_fields),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
