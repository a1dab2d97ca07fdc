/*
 * NAME
 *	dnscache - one in-process DNS answer cache for SPF, DKIM, DMARC and the rest
 * SYNOPSIS
 *	#include "dnscache.h"
 *
 *	bool dnscache_get(const char *name, int type, unsigned char *buf, size_t size,
 *	                  int *len, enum dns_status *st);
 *	void dnscache_put(const char *name, int type, enum dns_status st,
 *	                  const unsigned char *msg, int len);
 *	long dnscache_ttl(enum dns_status st, const unsigned char *msg, int len);
 *	void dnscache_flush(void);
 *	void dnscache_stats(struct dnscache_stats *s);
 * DESCRIPTION
 *	dns.c asks this cache before every query and gives it every result,
 *	so that all checks of all sessions share one set of answers and one
 *	message never asks the resolver twice for the same name and type.
 *	Keys are the name (case-insensitive, a trailing dot ignored) and the
 *	query type; values are the status and, for DNS_OK, the whole answer
 *	message (callers parse it as before); for DNS_TEMPFAIL, a note of
 *	at most DNSCACHE_FAIL_NOTE_MAX bytes when one is given (dns.c: the
 *	cause, one byte), handed back as the message; for NXDOMAIN and
 *	NODATA nothing (*len 0).
 *
 *	How long an entry lives (dnscache_ttl, RFC 2181 and 2308):
 *	DNS_OK: the smallest TTL of the answer section's records; NXDOMAIN
 *	and NODATA: the smaller of the authority section's SOA TTL and its
 *	MINIMUM (60 s without a SOA); both at most DNSCACHE_MAX_TTL.
 *	DNS_TEMPFAIL (SERVFAIL, timeout): DNSCACHE_TEMPFAIL_TTL seconds,
 *	long enough that the checks of one message do not each wait for
 *	the same dead server, short enough that a recovered server is asked
 *	again at once. A TTL of 0 is not cached. Answers bigger than
 *	DNSCACHE_MAX_ANSWER bytes are not cached.
 *
 *	At most DNSCACHE_MAX_ENTRIES entries and DNSCACHE_MAX_BYTES bytes of
 *	answers: the least recently used entry goes first. One mutex guards
 *	the table; it is held only for a lookup or an insert (no I/O).
 *	dnscache_flush() empties it (a policy reload does).
 *
 *	dnscache_set_clock() replaces the clock (seconds, monotonic) for
 *	unit tests; NULL restores CLOCK_MONOTONIC.
 * DIAGNOSTICS
 *	Allocation failure aborts (pm_fatal).
 */
#ifndef PM_DNSCACHE_H
#define PM_DNSCACHE_H

#include <stdbool.h>
#include <stddef.h>

#include "dns.h"

#define DNSCACHE_MAX_ENTRIES   20000
#define DNSCACHE_MAX_BYTES     (16L * 1024 * 1024)
#define DNSCACHE_MAX_ANSWER    8192
#define DNSCACHE_MAX_TTL       3600
#define DNSCACHE_NEG_TTL       60
#define DNSCACHE_TEMPFAIL_TTL  2
#define DNSCACHE_FAIL_NOTE_MAX 8

struct dnscache_stats {
	unsigned long hits, misses, inserts, evictions;
	unsigned long entries, bytes;
};

bool dnscache_get(const char *name, int type, unsigned char *buf, size_t size, int *len,
                  enum dns_status *st);
void dnscache_put(const char *name, int type, enum dns_status st, const unsigned char *msg,
                  int len);
long dnscache_ttl(enum dns_status st, const unsigned char *msg, int len);
void dnscache_flush(void);
void dnscache_stats(struct dnscache_stats *s);
void dnscache_set_clock(long (*now)(void));

#endif
