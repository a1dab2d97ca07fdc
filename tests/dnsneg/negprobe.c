/*
 * NAME
 *	negprobe - ask dns.c (through its cache) across a zone change
 * SYNOPSIS
 *	negprobe NAME WANT1 COMMAND WANT2 MS WANT3 [RCODE-NAME CAUSE]
 * DESCRIPTION
 *	Asks NAME (TXT) through dns_budget_query(), wants WANT1 (ok, nxdomain,
 *	nodata, tempfail); runs COMMAND (sh -c: the zone changes there);
 *	asks again and wants WANT2 (the cached answer); sleeps until MS
 *	milliseconds after the first query and asks a third time, wanting
 *	WANT3. With RCODE-NAME, then asks that name (A) and wants a
 *	temporary failure whose cause (the budget's, as dns_fail_name()
 *	logs it) is CAUSE: a zone nobody serves gets REFUSED, which glibc's
 *	res_nsend reports without its RCODE, "servfail_or_refused".
 *	Each query has a budget of its own (10 s, 1 s per attempt). One line
 *	"ok - ..." or "not ok - ..." per step.
 * DIAGNOSTICS
 *	Exit 0 when every step gave what it wanted, 1 otherwise, 2 on usage.
 */
#include <arpa/nameser.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "dns.h"

static const char *status_name(enum dns_status st)
{
	switch (st) {
	case DNS_OK:
		return "ok";
	case DNS_NXDOMAIN:
		return "nxdomain";
	case DNS_NODATA:
		return "nodata";
	default:
		return "tempfail";
	}
}

static long ms_since(const struct timespec *t0)
{
	struct timespec now;

	clock_gettime(CLOCK_MONOTONIC, &now);
	return (now.tv_sec - t0->tv_sec) * 1000 + (now.tv_nsec - t0->tv_nsec) / 1000000;
}

/* step - one query of name, compared with want */
static int step(const char *label, const char *name, int type, const char *want,
                const struct timespec *t0)
{
	struct dns_budget b;
	struct dns_reply r;
	const char *got;

	dns_budget_init(&b, 1, 10);
	got = status_name(dns_budget_query(&b, name, type, &r));
	dns_reply_free(&r);

	if (strcmp(got, want) != 0) {
		printf("not ok - %s: %s got %s, want %s (at %ld ms)\n", label, name, got, want,
		       ms_since(t0));
		return 1;
	}
	printf("ok - %s: %s %s (at %ld ms)\n", label, name, got, ms_since(t0));
	return 0;
}

int main(int argc, char **argv)
{
	struct timespec t0, nap;
	long wait_ms;
	int bad = 0;

	if (argc != 7 && argc != 9) {
		fprintf(stderr,
		        "usage: negprobe NAME WANT1 COMMAND WANT2 MS WANT3 [RCODE-NAME CAUSE]\n");
		return 2;
	}
	clock_gettime(CLOCK_MONOTONIC, &t0);
	bad |= step("first query", argv[1], ns_t_txt, argv[2], &t0);
	if (system(argv[3]) != 0) {
		printf("not ok - command failed: %s\n", argv[3]);
		return 1;
	}
	bad |= step("again at once (cache)", argv[1], ns_t_txt, argv[4], &t0);
	wait_ms = atol(argv[5]) - ms_since(&t0);
	if (wait_ms > 0) {
		nap.tv_sec = wait_ms / 1000;
		nap.tv_nsec = (wait_ms % 1000) * 1000000;
		nanosleep(&nap, NULL);
	}
	bad |= step("after the wait", argv[1], ns_t_txt, argv[6], &t0);
	if (argc == 9) {
		struct dns_budget b;
		struct dns_reply r;
		enum dns_status st;
		bool ok;

		dns_budget_init(&b, 1, 10);
		st = dns_budget_query(&b, argv[7], ns_t_a, &r);
		dns_reply_free(&r);
		ok = st == DNS_TEMPFAIL && strcmp(dns_fail_name(b.fail), argv[8]) == 0;
		printf("%s - %s: %s, cause %s (want tempfail, %s)\n", ok ? "ok" : "not ok", argv[7],
		       status_name(st), dns_fail_name(b.fail), argv[8]);
		bad |= !ok;
	}
	return bad;
}
