/*
 * NAME
 *	dnsbl 3 - DNS blocklists (RFC 5782) at connect
 * SYNOPSIS
 *	#include "dnsbl.h"
 *
 *	void dnsbl_check(const struct dnsbl_settings *ds, const struct pm_ip *ip,
 *			struct dns_budget *l, struct dnsbl_outcome *out);
 *	enum dnsbl_status dnsbl_judge(const struct dnsbl_zone *z, const unsigned char *ans,
 *			int len, char answer[DNSBL_ANSWER_MAX]);
 *	void dnsbl_free(struct dnsbl_outcome *out);
 *	const char *dnsbl_status_name(enum dnsbl_status s);
 * DESCRIPTION
 *	dnsbl_check() queries the zones one after the other; a zone whose
 *	lookup fails (or finds the budget spent) is "tempfail" and the next
 *	zone is still asked. dnsbl_judge() reads every A record of an
 *	answer: the first that counts makes the zone "listed"; otherwise
 *	the first 127/8 answer that is no error code makes it "other_code",
 *	then an error code "error_code", then anything else "bad_answer".
 * DIAGNOSTICS
 *	None.
 */
#include <arpa/inet.h>
#include <arpa/nameser.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>

#include "dnsbl.h"
#include "util.h"

#define DNSBL_MAX_ANSWERS 32 /* A records judged per zone */

/* is_loopback4 - in 127.0.0.0/8 */
static bool is_loopback4(const struct pm_ip *ip)
{
	return ip->family == AF_INET && ip->addr[0] == 127;
}

/* counts - is a (a 127/8 answer, no error code) one of z's codes (any, when none)? */
static bool counts(const struct dnsbl_zone *z, const char *text)
{
	if (z->ncodes == 0)
		return true;
	for (size_t i = 0; i < z->ncodes; i++)
		if (strcmp(z->codes[i], text) == 0)
			return true;
	return false;
}

/* dnsbl_judge - the status of one zone's answer, the code judged in answer */
enum dnsbl_status dnsbl_judge(const struct dnsbl_zone *z, const unsigned char *ans, int len,
                              char answer[DNSBL_ANSWER_MAX])
{
	struct pm_ip a[DNSBL_MAX_ANSWERS];
	char text[PM_IP_STRLEN];
	int n = iprev_answer_addrs(ans, len, ns_t_a, a, PM_ARRAY_LEN(a));
	int other = -1, error = -1;

	answer[0] = '\0';
	if (n < 0)
		return DNSBL_TEMPFAIL;
	if (n == 0)
		return DNSBL_NOT_LISTED;
	if ((size_t)n > PM_ARRAY_LEN(a))
		n = (int)PM_ARRAY_LEN(a);
	for (int i = 0; i < n; i++) {
		if (!is_loopback4(&a[i]))
			continue;
		if (pm_dnsbl_error_code(&a[i])) {
			if (error < 0)
				error = i;
			continue;
		}
		pm_ip_format(&a[i], text, sizeof(text));
		if (counts(z, text)) {
			snprintf(answer, DNSBL_ANSWER_MAX, "%s", text);
			return DNSBL_LISTED;
		}
		if (other < 0)
			other = i;
	}
	if (other >= 0) {
		pm_ip_format(&a[other], answer, DNSBL_ANSWER_MAX);
		return DNSBL_OTHER_CODE;
	}
	if (error >= 0) {
		pm_ip_format(&a[error], answer, DNSBL_ANSWER_MAX);
		return DNSBL_ERROR_CODE;
	}
	pm_ip_format(&a[0], text, sizeof(text));
	snprintf(answer, DNSBL_ANSWER_MAX, "%s", text);
	return DNSBL_BAD_ANSWER;
}

/* dnsbl_check - ask every zone about ip, in order */
void dnsbl_check(const struct dnsbl_settings *ds, const struct pm_ip *ip, struct dns_budget *l,
                 struct dnsbl_outcome *out)
{
	memset(out, 0, sizeof(*out));
	out->first_reject = -1;
	if (ds == NULL || ds->nzones == 0 || ip == NULL ||
	    (ip->family != AF_INET && ip->family != AF_INET6))
		return;
	out->zone = xcalloc(ds->nzones, sizeof(*out->zone));
	out->nzones = ds->nzones;
	for (size_t i = 0; i < ds->nzones; i++) {
		struct dnsbl_zone_result *r = &out->zone[i];
		struct dns_reply ans;

		r->zone = &ds->zones[i];
		if (iprev_reverse_name(ip, r->zone->zone, r->query, sizeof(r->query)) == NULL) {
			r->query[0] = '\0';
			r->status = DNSBL_NOT_LISTED; /* no such name can exist */
			continue;
		}
		switch (dns_budget_query(l, r->query, ns_t_a, &ans)) {
		case DNS_OK:
			r->status = dnsbl_judge(r->zone, ans.msg, ans.len, r->answer);
			dns_reply_free(&ans);
			if (r->status == DNSBL_TEMPFAIL)
				r->dns_fail = DNS_FAIL_MALFORMED;
			break;
		case DNS_NXDOMAIN:
		case DNS_NODATA:
			r->status = DNSBL_NOT_LISTED;
			break;
		case DNS_TEMPFAIL:
		default:
			r->status = DNSBL_TEMPFAIL;
			r->dns_fail = l->fail;
			break;
		}
		if (r->status != DNSBL_LISTED)
			continue;
		out->nlisted++;
		if (out->first_reject < 0 && r->zone->action == PM_DNSBL_REJECT)
			out->first_reject = (int)i;
	}
}

/* dnsbl_free - release the per-zone results */
void dnsbl_free(struct dnsbl_outcome *out)
{
	free(out->zone);
	memset(out, 0, sizeof(*out));
	out->first_reject = -1;
}

/* dnsbl_status_name - the status in words, for logs */
const char *dnsbl_status_name(enum dnsbl_status s)
{
	switch (s) {
	case DNSBL_NOT_LISTED:
		return "not_listed";
	case DNSBL_LISTED:
		return "listed";
	case DNSBL_OTHER_CODE:
		return "other_code";
	case DNSBL_ERROR_CODE:
		return "error_code";
	case DNSBL_BAD_ANSWER:
		return "bad_answer";
	case DNSBL_TEMPFAIL:
		return "tempfail";
	}
	return "unknown";
}
