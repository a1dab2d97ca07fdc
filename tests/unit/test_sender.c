/*
 * NAME
 *	test_sender - unit tests for the pure parts of sender.c
 * DESCRIPTION
 *	A table of raw MX answers built here (one MX, the null MX of RFC
 *	7505, a "." among other MX records, "MX 10 .", a CNAME alone, a
 *	CNAME then a null MX, a record of another class, malformed
 *	answers) through sender_mx_classify(); sender_domain_check() for
 *	inputs that need no network (no domain, an address literal, a name
 *	that may not be sent), and through a fake resolver behind a shared
 *	struct dns_budget; sender_domain_status_name(). The lookups
 *	themselves are exercised by tests/e2e (nsd zones).
 * DIAGNOSTICS
 *	cmocka; each failure prints "got X, want Y".
 */
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "sender.h"
#include "util.h"

/* One answer record for the builder; exchange NULL for a CNAME to "other.example." */
struct rec {
	int type;  /* 15 MX, 5 CNAME */
	int class; /* 1 IN */
	int pref;
	const char *exchange; /* "." or "mx.example.org" */
};

/* put_name - a dotted name as DNS labels ("." is the root); returns bytes written */
static size_t put_name(unsigned char *p, const char *name)
{
	size_t n = 0;

	while (*name != '\0' && strcmp(name, ".") != 0) {
		const char *dot = strchr(name, '.');
		size_t l = dot != NULL ? (size_t)(dot - name) : strlen(name);

		p[n++] = (unsigned char)l;
		memcpy(p + n, name, l);
		n += l;
		name += l + (dot != NULL ? 1 : 0);
	}
	p[n++] = 0;
	return n;
}

/* build - an answer to "example.org MX" holding recs; returns its length */
static size_t build(unsigned char *msg, const struct rec *recs, size_t nrecs)
{
	static const unsigned char header[12] = {0x12, 0x34, 0x81, 0x80, 0, 1, 0, 0, 0, 0, 0, 0};
	size_t n;

	memcpy(msg, header, sizeof(header));
	msg[7] = (unsigned char)nrecs;
	n = sizeof(header);
	n += put_name(msg + n, "example.org");
	msg[n++] = 0;
	msg[n++] = 15; /* MX */
	msg[n++] = 0;
	msg[n++] = 1; /* IN */
	for (size_t i = 0; i < nrecs; i++) {
		unsigned char rdata[300];
		size_t rdlen = 0;

		msg[n++] = 0xc0; /* the question's name */
		msg[n++] = 12;
		msg[n++] = 0;
		msg[n++] = (unsigned char)recs[i].type;
		msg[n++] = 0;
		msg[n++] = (unsigned char)recs[i].class;
		msg[n++] = 0;
		msg[n++] = 0;
		msg[n++] = 1;
		msg[n++] = 0x2c; /* TTL 300 */
		if (recs[i].type == 15) {
			rdata[rdlen++] = (unsigned char)(recs[i].pref >> 8);
			rdata[rdlen++] = (unsigned char)recs[i].pref;
			rdlen += put_name(rdata + rdlen, recs[i].exchange);
		} else {
			rdlen += put_name(rdata, "other.example");
		}
		msg[n++] = 0;
		msg[n++] = (unsigned char)rdlen;
		memcpy(msg + n, rdata, rdlen);
		n += rdlen;
	}
	return n;
}

#define MX(pref, x)                                                                                \
	{                                                                                          \
		15, 1, pref, x                                                                     \
	}
#define CNAME                                                                                      \
	{                                                                                          \
		5, 1, 0, NULL                                                                      \
	}
#define MX_CLASS(c, p, x)                                                                          \
	{                                                                                          \
		15, c, p, x                                                                        \
	}

/* test_classify - MX answers: ok, null MX, no MX, malformed */
static void test_classify(void **state)
{
	static const struct {
		const char *name;
		struct rec recs[3];
		size_t n;
		enum sender_domain_status want;
	} cases[] = {
	    {"one MX", {MX(10, "mx.example.org")}, 1, SENDER_DOMAIN_OK},
	    {"null MX", {MX(0, ".")}, 1, SENDER_DOMAIN_NULL_MX},
	    {"\".\" among other MX", {MX(0, "."), MX(10, "mx.example.org")}, 2, SENDER_DOMAIN_OK},
	    {"other MX before \".\"", {MX(10, "mx.example.org"), MX(0, ".")}, 2, SENDER_DOMAIN_OK},
	    {"MX 10 . (not preference 0)", {MX(10, ".")}, 1, SENDER_DOMAIN_OK},
	    {"MX 0 to a host", {MX(0, "mx.example.org")}, 1, SENDER_DOMAIN_OK},
	    {"CNAME alone", {CNAME}, 1, SENDER_DOMAIN_NO_MAIL},
	    {"CNAME then null MX", {CNAME, MX(0, ".")}, 2, SENDER_DOMAIN_NULL_MX},
	    {"MX of class CH only", {MX_CLASS(3, 10, "mx.example.org")}, 1, SENDER_DOMAIN_NO_MAIL},
	    {"empty answer section", {MX(0, ".")}, 0, SENDER_DOMAIN_NO_MAIL},
	};
	unsigned char msg[1024];
	int failed = 0;

	(void)state;
	for (size_t i = 0; i < PM_ARRAY_LEN(cases); i++) {
		size_t len = build(msg, cases[i].recs, cases[i].n);
		enum sender_domain_status got = sender_mx_classify(msg, len);

		if (got != cases[i].want) {
			print_error("case %s: got %s, want %s\n", cases[i].name,
			            sender_domain_status_name(got),
			            sender_domain_status_name(cases[i].want));
			failed++;
		}
	}
	if (failed != 0)
		fail_msg("%d of %zu classify cases failed", failed, PM_ARRAY_LEN(cases));
}

/* test_malformed - answers that cannot be read are "try again", never "no MX" */
static void test_malformed(void **state)
{
	static const struct rec one_mx[] = {MX(10, "mx.example.org")};
	unsigned char msg[1024];
	size_t len;
	enum sender_domain_status got;

	(void)state;
	len = build(msg, one_mx, 1);
	/* cut inside the record's data */
	got = sender_mx_classify(msg, len - 4);
	if (got != SENDER_DOMAIN_TEMPFAIL)
		fail_msg("truncated MX: got %s, want tempfail", sender_domain_status_name(got));
	/* an MX whose data is two bytes: a preference and no exchange */
	len = build(msg, one_mx, 1);
	/* the data is 2 + 16 bytes ("mx.example.org" as labels is 16); its
	   length's low byte comes just before it: make it 2, drop the name */
	msg[len - 18 - 1] = 2;
	got = sender_mx_classify(msg, len - 16);
	if (got != SENDER_DOMAIN_TEMPFAIL)
		fail_msg("MX rdlen 2: got %s, want tempfail", sender_domain_status_name(got));
	/* shorter than a header */
	got = sender_mx_classify(msg, 5);
	if (got != SENDER_DOMAIN_TEMPFAIL)
		fail_msg("5-byte answer: got %s, want tempfail", sender_domain_status_name(got));
	got = sender_mx_classify(NULL, 0);
	if (got != SENDER_DOMAIN_TEMPFAIL)
		fail_msg("NULL answer: got %s, want tempfail", sender_domain_status_name(got));
}

/* test_check_offline - inputs that are never looked up, or fail before any query */
static void test_check_offline(void **state)
{
	static const struct {
		const char *domain;
		enum sender_domain_status want;
		unsigned queries;
		const char *detail;
	} cases[] = {
	    {NULL, SENDER_DOMAIN_UNCHECKED, 0, ""},
	    {"", SENDER_DOMAIN_UNCHECKED, 0, ""},
	    {"[192.0.2.1]", SENDER_DOMAIN_UNCHECKED, 0, ""},
	    {"[IPv6:2001:db8::1]", SENDER_DOMAIN_UNCHECKED, 0, ""},
	    /* dns_budget_query refuses to send a name with an empty label: NXDOMAIN */
	    {"a..example", SENDER_DOMAIN_NXDOMAIN, 1, "mx nxdomain"},
	};
	struct sender_domain_outcome out;
	struct dns_budget b;

	(void)state;
	dns_budget_init(&b, 1, 10);
	for (size_t i = 0; i < PM_ARRAY_LEN(cases); i++) {
		enum sender_domain_status got = sender_domain_check(cases[i].domain, &b, &out);

		if (got != cases[i].want || out.status != got || out.queries != cases[i].queries ||
		    strcmp(out.detail, cases[i].detail) != 0)
			fail_msg(
			    "sender_domain_check(%s): got %s (outcome %s, %u queries, \"%s\"), "
			    "want %s (%u queries, \"%s\")",
			    cases[i].domain ? cases[i].domain : "NULL",
			    sender_domain_status_name(got), sender_domain_status_name(out.status),
			    out.queries, out.detail, sender_domain_status_name(cases[i].want),
			    cases[i].queries, cases[i].detail);
	}
	/* out may be NULL */
	if (sender_domain_check("[192.0.2.1]", &b, NULL) != SENDER_DOMAIN_UNCHECKED)
		fail_msg("NULL outcome: got another status, want unchecked");
}

/* What the fake resolver saw, and when it spends the budget. */
struct fake {
	unsigned calls;
	unsigned spend_at; /* on this call (1, 2, ...) the deadline is moved to now */
	struct dns_budget *b;
};

/* fake_query - every name exists without data; spends the budget on call spend_at */
static enum dns_status fake_query(void *arg, const char *name, int type, int timeout, long left,
                                  const unsigned char **answer, int *answer_len)
{
	struct fake *f = arg;

	(void)name;
	(void)type;
	(void)timeout;
	(void)left;
	(void)answer;
	(void)answer_len;
	if (++f->calls == f->spend_at)
		clock_gettime(CLOCK_MONOTONIC, &f->b->deadline);
	return DNS_NODATA;
}

/*
 * test_budget - the check queries through the budget it is given: its
 * queries count there, a budget spent by an earlier lookup of the same
 * command leaves no query to send (tempfail), and one spent during the
 * check stops it at the next query; a tempfail says why (the budget)
 */
static void test_budget(void **state)
{
	static const struct {
		unsigned spend_at; /* 0: never */
		bool spent_before;
		enum sender_domain_status want;
		unsigned calls, budget_queries;
		const char *detail;
	} cases[] = {
	    {0, false, SENDER_DOMAIN_NO_MAIL, 3, 3, "mx nodata, a nodata, aaaa nodata"},
	    {1, false, SENDER_DOMAIN_TEMPFAIL, 1, 1, "mx nodata, a tempfail"},
	    {2, false, SENDER_DOMAIN_TEMPFAIL, 2, 2, "mx nodata, a nodata, aaaa tempfail"},
	    {0, true, SENDER_DOMAIN_TEMPFAIL, 0, 0, "mx tempfail"},
	};

	(void)state;
	for (size_t i = 0; i < PM_ARRAY_LEN(cases); i++) {
		struct dns_budget b;
		struct fake f = {0, cases[i].spend_at, &b};
		struct sender_domain_outcome out;
		enum sender_domain_status got;

		dns_budget_init(&b, 5, 20);
		b.query = fake_query;
		b.arg = &f;
		if (cases[i].spent_before)
			clock_gettime(CLOCK_MONOTONIC, &b.deadline);
		got = sender_domain_check("slow.example", &b, &out);
		if (got != cases[i].want || f.calls != cases[i].calls ||
		    b.queries != cases[i].budget_queries ||
		    strcmp(out.detail, cases[i].detail) != 0 ||
		    out.dns_fail !=
		        (got == SENDER_DOMAIN_TEMPFAIL ? DNS_FAIL_BUDGET : DNS_FAIL_NONE))
			fail_msg("case %zu: got %s, %u calls, %u budget queries, \"%s\"; "
			         "want %s, %u, %u, \"%s\"",
			         i, sender_domain_status_name(got), f.calls, b.queries, out.detail,
			         sender_domain_status_name(cases[i].want), cases[i].calls,
			         cases[i].budget_queries, cases[i].detail);
	}
}

/* test_names - sender_domain_status_name */
static void test_names(void **state)
{
	static const struct {
		enum sender_domain_status s;
		const char *want;
	} cases[] = {
	    {SENDER_DOMAIN_UNCHECKED, "unchecked"},     {SENDER_DOMAIN_OK, "ok"},
	    {SENDER_DOMAIN_NXDOMAIN, "nxdomain"},       {SENDER_DOMAIN_NO_MAIL, "no_mail"},
	    {SENDER_DOMAIN_NULL_MX, "null_mx"},         {SENDER_DOMAIN_TEMPFAIL, "tempfail"},
	    {(enum sender_domain_status)42, "unknown"},
	};

	(void)state;
	for (size_t i = 0; i < PM_ARRAY_LEN(cases); i++)
		if (strcmp(sender_domain_status_name(cases[i].s), cases[i].want) != 0)
			fail_msg("sender_domain_status_name(%d): got \"%s\", want \"%s\"",
			         (int)cases[i].s, sender_domain_status_name(cases[i].s),
			         cases[i].want);
}

/* main - run every test */
int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_classify),      cmocka_unit_test(test_malformed),
	    cmocka_unit_test(test_check_offline), cmocka_unit_test(test_budget),
	    cmocka_unit_test(test_names),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
