/*
 * NAME
 *	sender 3 - the sender domain check: exists, accepts mail, null MX
 * SYNOPSIS
 *	#include "sender.h"
 *
 *	enum sender_domain_status sender_domain_check(const char *domain,
 *		struct dns_budget *budget, struct sender_domain_outcome *out);
 *	enum sender_domain_status sender_mx_classify(const unsigned char *msg,
 *		size_t len);
 *	const char *sender_domain_status_name(enum sender_domain_status s);
 * DESCRIPTION
 *	sender_domain_check() asks for the domain's MX records within the
 *	MAIL FROM command's budget (dns_budget_query(), dns.c), and when
 *	the name exists without any, for its A and then AAAA records (RFC
 *	5321 section 5.1, the implicit MX). dns.c keeps its three outcomes
 *	apart (data, no data, try again); this module keeps them apart too:
 *	NXDOMAIN on the MX lookup means the domain does not exist, a
 *	temporary failure on any lookup ends the check with
 *	SENDER_DOMAIN_TEMPFAIL (and its cause in the outcome's dns_fail).
 *	An answer that holds no record of the type asked for (a CNAME
 *	alone) counts as no data; a malformed one as a temporary failure.
 *
 *	sender_mx_classify() reads one MX answer: RFC 7505's null MX is
 *	exactly one MX record with preference 0 and the root "." as its
 *	exchange.
 * DIAGNOSTICS
 *	None: every problem is a status.
 */
#include <arpa/nameser.h>
#include <netinet/in.h>
#include <resolv.h>
#include <stdbool.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

#include "dns.h"
#include "sender.h"

/* note - append "what status" to the outcome's detail */
static void note(struct sender_domain_outcome *out, const char *what, const char *status)
{
	size_t n = strlen(out->detail);

	if (n + 1 >= sizeof(out->detail))
		return;
	snprintf(out->detail + n, sizeof(out->detail) - n, "%s%s %s", n > 0 ? ", " : "", what,
	         status);
}

/* sender_mx_classify - OK, NULL_MX, NO_MAIL (no MX record) or TEMPFAIL (malformed) */
enum sender_domain_status sender_mx_classify(const unsigned char *msg, size_t len)
{
	struct dns_answer a;
	struct dns_rr rr;
	int r, mx = 0;
	bool null_mx = false;

	if (len > 65535 || !dns_answer_open(&a, msg, (int)len, ns_t_mx))
		return SENDER_DOMAIN_TEMPFAIL;
	while ((r = dns_answer_next(&a, &rr)) > 0) {
		mx++;
		null_mx = rr.pref == 0 && (strcmp(rr.name, ".") == 0 || rr.name[0] == '\0');
	}
	if (r < 0)
		return SENDER_DOMAIN_TEMPFAIL;
	if (mx == 0)
		return SENDER_DOMAIN_NO_MAIL;
	return mx == 1 && null_mx ? SENDER_DOMAIN_NULL_MX : SENDER_DOMAIN_OK;
}

/*
 * address_lookup - one A or AAAA query: OK when it holds an address,
 * NO_MAIL when the name exists without one, NXDOMAIN, or TEMPFAIL
 */
static enum sender_domain_status address_lookup(const char *domain, int type, const char *what,
                                                struct dns_budget *budget,
                                                struct sender_domain_outcome *out)
{
	struct dns_reply answer;
	int n;

	out->queries++;
	switch (dns_budget_query(budget, domain, type, &answer)) {
	case DNS_OK:
		n = dns_answer_count(answer.msg, answer.len, type);
		dns_reply_free(&answer);
		if (n < 0) {
			note(out, what, "malformed");
			out->dns_fail = DNS_FAIL_MALFORMED;
			return SENDER_DOMAIN_TEMPFAIL;
		}
		note(out, what, n > 0 ? "ok" : "nodata");
		return n > 0 ? SENDER_DOMAIN_OK : SENDER_DOMAIN_NO_MAIL;
	case DNS_NODATA:
		note(out, what, "nodata");
		return SENDER_DOMAIN_NO_MAIL;
	case DNS_NXDOMAIN:
		note(out, what, "nxdomain");
		return SENDER_DOMAIN_NXDOMAIN;
	case DNS_TEMPFAIL:
	default:
		note(out, what, "tempfail");
		out->dns_fail = budget->fail;
		return SENDER_DOMAIN_TEMPFAIL;
	}
}

/* sender_domain_check - MX, then A and AAAA when there is no MX; at most three queries */
enum sender_domain_status sender_domain_check(const char *domain, struct dns_budget *budget,
                                              struct sender_domain_outcome *out)
{
	struct sender_domain_outcome local;
	struct dns_reply answer;
	enum sender_domain_status st;

	if (out == NULL)
		out = &local;
	memset(out, 0, sizeof(*out));
	if (domain == NULL || domain[0] == '\0' || domain[0] == '[') {
		out->status = SENDER_DOMAIN_UNCHECKED;
		return out->status;
	}
	out->queries++;
	switch (dns_budget_query(budget, domain, ns_t_mx, &answer)) {
	case DNS_OK:
		st = sender_mx_classify(answer.msg, (size_t)answer.len);
		dns_reply_free(&answer);
		if (st == SENDER_DOMAIN_TEMPFAIL)
			out->dns_fail = DNS_FAIL_MALFORMED;
		note(out, "mx",
		     st == SENDER_DOMAIN_OK        ? "ok"
		     : st == SENDER_DOMAIN_NULL_MX ? "null"
		     : st == SENDER_DOMAIN_NO_MAIL ? "nodata"
		                                   : "malformed");
		if (st != SENDER_DOMAIN_NO_MAIL)
			return out->status = st;
		break;
	case DNS_NODATA:
		note(out, "mx", "nodata");
		break;
	case DNS_NXDOMAIN:
		note(out, "mx", "nxdomain");
		return out->status = SENDER_DOMAIN_NXDOMAIN;
	case DNS_TEMPFAIL:
	default:
		note(out, "mx", "tempfail");
		out->dns_fail = budget->fail;
		return out->status = SENDER_DOMAIN_TEMPFAIL;
	}
	/* the name exists without MX: the implicit MX is its address */
	st = address_lookup(domain, ns_t_a, "a", budget, out);
	if (st == SENDER_DOMAIN_NO_MAIL)
		st = address_lookup(domain, ns_t_aaaa, "aaaa", budget, out);
	return out->status = st;
}

/* sender_domain_status_name - the status in words, for logs */
const char *sender_domain_status_name(enum sender_domain_status s)
{
	switch (s) {
	case SENDER_DOMAIN_UNCHECKED:
		return "unchecked";
	case SENDER_DOMAIN_OK:
		return "ok";
	case SENDER_DOMAIN_NXDOMAIN:
		return "nxdomain";
	case SENDER_DOMAIN_NO_MAIL:
		return "no_mail";
	case SENDER_DOMAIN_NULL_MX:
		return "null_mx";
	case SENDER_DOMAIN_TEMPFAIL:
		return "tempfail";
	}
	return "unknown";
}
