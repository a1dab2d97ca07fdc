/*
 * NAME
 *	sender 3h - does the sender domain exist and accept mail?
 * DESCRIPTION
 *	sender_domain_check() looks up the MAIL FROM domain the way a
 *	sending MTA would (RFC 5321 section 5.1): its MX records; when it
 *	has none (the name exists without MX), its A, then AAAA records
 *	(the implicit MX). The answer is one of:
 *	  SENDER_DOMAIN_OK        MX records, or no MX but an address
 *	  SENDER_DOMAIN_NXDOMAIN  the name does not exist
 *	  SENDER_DOMAIN_NO_MAIL   it exists with no MX, no A and no AAAA:
 *	                          nowhere to send a bounce (treated as not found)
 *	  SENDER_DOMAIN_NULL_MX   RFC 7505: exactly one MX, preference 0,
 *	                          exchange "." (a "." among other MX records
 *	                          is not a null MX: OK)
 *	  SENDER_DOMAIN_TEMPFAIL  a lookup failed temporarily (SERVFAIL,
 *	                          timeout, a malformed answer): never a 5xx
 *	At most three queries (MX, A, AAAA), all within the budget of the
 *	MTA command (struct dns_budget, dns.h: MAIL FROM's, shared with SPF
 *	and the sender's DMARC record); the first temporary failure, or the
 *	budget spent, ends the check.
 *	The caller does not check the null sender or an address literal.
 *	Thread-safe (dns.c: one resolver per thread).
 */
#ifndef PM_SENDER_H
#define PM_SENDER_H

#include <stddef.h>

#include "dns.h"

enum sender_domain_status {
	SENDER_DOMAIN_UNCHECKED = 0, /* not looked up (off, trusted, null sender, literal) */
	SENDER_DOMAIN_OK,
	SENDER_DOMAIN_NXDOMAIN,
	SENDER_DOMAIN_NO_MAIL,
	SENDER_DOMAIN_NULL_MX,
	SENDER_DOMAIN_TEMPFAIL,
};

/* What one check saw, for logs and tests. */
struct sender_domain_outcome {
	enum sender_domain_status status;
	unsigned queries;       /* DNS queries sent (at most 3) */
	char detail[64];        /* short, e.g. "mx nxdomain", "mx nodata, a ok", "a tempfail" */
	enum dns_fail dns_fail; /* TEMPFAIL: why the lookup failed (dns_fail_name, for logs) */
};

/*
 * sender_domain_check - look up domain (a domain name, not a literal);
 * fills *out (may be NULL) and returns out->status. Every query is made
 * through budget (its deadline and per-attempt timeout; running out is
 * a temporary failure) and counted in budget->queries too.
 */
enum sender_domain_status sender_domain_check(const char *domain, struct dns_budget *budget,
                                              struct sender_domain_outcome *out);

/*
 * sender_mx_classify - what one raw MX answer (len bytes) says: OK (at
 * least one MX that is not a null MX), NULL_MX, NO_MAIL (no MX record
 * in the answer, e.g. only a CNAME) or TEMPFAIL (malformed). Pure.
 */
enum sender_domain_status sender_mx_classify(const unsigned char *msg, size_t len);

/* sender_domain_status_name - "ok", "nxdomain", "no_mail", "null_mx", "tempfail", "unchecked" */
const char *sender_domain_status_name(enum sender_domain_status s);

#endif
