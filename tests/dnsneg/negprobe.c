/*
 * NAME
 *	negprobe - ask dns.c (through its cache) across a zone change
 * SYNOPSIS
 *	negprobe NAME WANT1 COMMAND WANT2 MS WANT3 [RCODE-NAME]
 * DESCRIPTION
 *	Asks NAME (TXT) through dns_query(), wants WANT1 (ok, nxdomain,
 *	nodata, tempfail); runs COMMAND (sh -c: the zone changes there);
 *	asks again and wants WANT2 (the cached answer); sleeps until MS
 *	milliseconds after the first query and asks a third time, wanting
 *	WANT3. With RCODE-NAME, then asks that name (A) and prints the
 *	failure cause dns_last_failure() gives (a zone nobody serves:
 *	REFUSED). One line "ok - ..." or "not ok - ..." per step.
 * DIAGNOSTICS
 *	Exit 0 when every step gave what it wanted, 1 otherwise, 2 on usage.
 */
#include <arpa/nameser.h>
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

static const char *fail_name(enum dns_fail f)
{
	static const char *names[] = {"none",    "timeout", "servfail", "refused",
	                              "formerr", "other",   "malformed"};

	return (unsigned)f < sizeof(names) / sizeof(names[0]) ? names[f] : "?";
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
	const unsigned char *ans;
	int len;
	const char *got = status_name(dns_query(name, type, 1, &ans, &len));

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

	if (argc != 7 && argc != 8) {
		fprintf(stderr, "usage: negprobe NAME WANT1 COMMAND WANT2 MS WANT3 [RCODE-NAME]\n");
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
	if (argc == 8) {
		const unsigned char *ans;
		int len;
		enum dns_status st = dns_query(argv[7], ns_t_a, 1, &ans, &len);

		printf("%s - %s: %s, cause %s\n", st == DNS_TEMPFAIL ? "ok" : "not ok", argv[7],
		       status_name(st), fail_name(dns_last_failure()));
		bad |= st != DNS_TEMPFAIL;
	}
	return bad;
}
