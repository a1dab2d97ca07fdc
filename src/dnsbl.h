/*
 * NAME
 *	dnsbl 3h - DNS blocklists (RFC 5782) at connect
 * DESCRIPTION
 *	dnsbl_check() asks every zone of dnsbl.zones, in order, for the A
 *	records of the client's reversed address (IPv4: octets reversed,
 *	"2.0.0.127.zone"; IPv6: 32 nibbles reversed) through one struct
 *	dns_budget (dns.h): one budget for all of them, spf.dns_timeout per
 *	attempt. Each zone gets one status:
 *	  listed      an answer counts: it is one of the zone's codes (or,
 *	              with no codes, any answer in 127.0.0.0/8)
 *	  other_code  answers in 127.0.0.0/8, none of the zone's codes
 *	  error_code  only 127.0.0.1 or 127.255.255.0/24: the list refused
 *	              or could not answer the query (Spamhaus and others
 *	              answer so for open resolvers or over quota): ignored
 *	  bad_answer  only answers outside 127.0.0.0/8: ignored
 *	  not_listed  NXDOMAIN or no A record
 *	  tempfail    SERVFAIL, timeout, a malformed answer, the budget
 *	              spent: never a listing
 *	Only "listed" is a listing; the caller logs the others that need it.
 * DIAGNOSTICS
 *	None: every zone gets a status.
 */
#ifndef PM_DNSBL_H
#define PM_DNSBL_H

#include <stdbool.h>
#include <stddef.h>

#include "cidr.h"
#include "iprev.h"
#include "policy.h"

enum dnsbl_status {
	DNSBL_NOT_LISTED = 0,
	DNSBL_LISTED,
	DNSBL_OTHER_CODE,
	DNSBL_ERROR_CODE,
	DNSBL_BAD_ANSWER,
	DNSBL_TEMPFAIL,
};

#define DNSBL_ANSWER_MAX PM_IP_STRLEN /* "127.255.255.254" */

/* One zone's answer. */
struct dnsbl_zone_result {
	const struct dnsbl_zone *zone; /* in the policy the check ran with */
	enum dnsbl_status status;
	char answer[DNSBL_ANSWER_MAX]; /* listed: the answer that counted; other, error and
	                                  bad answers: the first one; otherwise "" */
	char query[300];               /* the name asked for ("" when there was none) */
	enum dns_fail dns_fail;        /* tempfail: why (dns_fail_name, for logs) */
};

/* What dnsbl_check() found: one result per zone, in the policy's order. */
struct dnsbl_outcome {
	struct dnsbl_zone_result *zone; /* nzones of them (the caller frees with dnsbl_free) */
	size_t nzones;
	size_t nlisted;   /* zones with status listed */
	int first_reject; /* index of the first listed zone whose action is reject, or -1 */
};

/*
 * dnsbl_check - ask every zone of ds about ip (AF_INET or AF_INET6;
 * nothing is asked for another family); *out is overwritten
 */
void dnsbl_check(const struct dnsbl_settings *ds, const struct pm_ip *ip, struct dns_budget *l,
                 struct dnsbl_outcome *out);

/*
 * dnsbl_judge - the status of one zone's raw A answer (the answers
 * parsed by iprev_answer_addrs); answer gets the code judged ("" when
 * there is none)
 */
enum dnsbl_status dnsbl_judge(const struct dnsbl_zone *z, const unsigned char *ans, int len,
                              char answer[DNSBL_ANSWER_MAX]);

/* dnsbl_free - release what dnsbl_check() allocated; *out is left empty */
void dnsbl_free(struct dnsbl_outcome *out);

/* dnsbl_status_name - "listed", "not_listed", "other_code", ... */
const char *dnsbl_status_name(enum dnsbl_status s);

#endif
