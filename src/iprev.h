/*
 * NAME
 *	iprev 3h - reverse DNS of the client, forward-confirmed (RFC 8601 section 3)
 * DESCRIPTION
 *	iprev_check() looks up the PTR names of the client address (at most
 *	IPREV_MAX_NAMES), then the addresses of each name in the client's
 *	family (A for IPv4, AAAA for IPv6), and gives the RFC 8601 section
 *	2.7.3 result:
 *	  pass       a name maps back to the client address
 *	  fail       PTR names exist, but none maps back (their forward
 *	             lookups answered, without the address, or the name
 *	             does not exist)
 *	  permerror  no PTR record (NXDOMAIN, or an answer without a PTR)
 *	  temperror  a lookup failed for now (SERVFAIL, timeout, a bad
 *	             answer, the time budget spent) and no name passed
 *	(enum pm_iprev_result and its names are in policy.h and policy.c).
 *
 *	Every query goes through a struct dns_budget (dns.h): one budget (a
 *	deadline) for all the queries of the connect command's checks, each
 *	attempt waiting dns_timeout seconds, and a query function that the
 *	tests replace (NULL: the resolver of dns.c). dnsbl.c uses the
 *	same budget, reverse name and answer parser. On temperror the
 *	outcome's dns_fail says why the lookup failed (SERVFAIL, timeout,
 *	the budget spent, a malformed answer: dns_fail_name()), for logs;
 *	why, which also goes into the Authentication-Results comment, does
 *	not.
 * DIAGNOSTICS
 *	None: the outcome says what went wrong (why).
 */
#ifndef PM_IPREV_H
#define PM_IPREV_H

#include <stdbool.h>
#include <stddef.h>
#include <time.h>

#include "cidr.h"
#include "dns.h"
#include "results.h"

#define IPREV_MAX_NAMES 10  /* PTR names looked up forward, at most */
#define IPREV_NAME_MAX  253 /* a DNS name without its trailing dot */
#define IPREV_WHY_MAX   320

/* What iprev_check() found. */
struct iprev_outcome {
	enum pm_iprev_result result;
	char name[IPREV_NAME_MAX + 1]; /* pass: the name that maps back; fail: the first PTR
	                                  name; otherwise "" */
	char why[IPREV_WHY_MAX];       /* for logs and the Authentication-Results comment:
	                                  the name on pass, the reason otherwise */
	enum dns_fail dns_fail; /* temperror: why the lookup failed (dns_fail_name, for logs) */
};

/*
 * iprev_reverse_name - the reverse name of ip under suffix (NULL:
 * "in-addr.arpa" or "ip6.arpa"): "4.3.2.1.SUFFIX" for IPv4, 32 nibbles
 * for IPv6 (RFC 3596, RFC 5782). Returns buf, or NULL when ip has no
 * address or buf is too small.
 */
char *iprev_reverse_name(const struct pm_ip *ip, const char *suffix, char *buf, size_t bufsize);

/*
 * iprev_answer_addrs - the A (type ns_t_a) or AAAA records of a raw DNS
 * answer into out[0..max), any owner name (a CNAME chain is followed by
 * the resolver); returns how many there were (more than max are
 * counted, not stored), or -1 when the answer is malformed
 */
int iprev_answer_addrs(const unsigned char *answer, int len, int type, struct pm_ip *out,
                       size_t max);

/*
 * iprev_answer_ptrs - the PTR names of a raw answer into names[0..max),
 * lower-cased, without the trailing dot; returns how many were stored,
 * or -1 when the answer is malformed
 */
int iprev_answer_ptrs(const unsigned char *answer, int len, char names[][IPREV_NAME_MAX + 1],
                      size_t max);

/* iprev_check - the iprev result for ip (AF_INET or AF_INET6) into *out */
void iprev_check(const struct pm_ip *ip, struct dns_budget *l, struct iprev_outcome *out);

#endif
