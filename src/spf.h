/*
 * NAME
 *	spf 3h - SPF evaluation (RFC 7208)
 * DESCRIPTION
 *	spf_check_helo() and spf_check_mailfrom() evaluate one identity and
 *	return one of the seven RFC 7208 results. They are thread-safe: an
 *	evaluation keeps its state on the caller's stack, and DNS goes
 *	through dns.c (a resolver per thread, the shared answer cache).
 *
 *	Records are checked whole against the grammar of RFC 7208 section 12
 *	(spfrecord.c) before evaluation; a broken one is permerror with the
 *	exact reason in the comment. Any SERVFAIL or timeout seen during an
 *	evaluation makes the result temperror, never fail or none. Limits:
 *	10 DNS-querying terms across include: and redirect=, max_void_lookups
 *	void answers (RFC 7208 4.6.4, permerror past either), max_dns_queries
 *	queries (permerror), and a deadline (temperror past it): that of the
 *	struct dns_budget given (dns.h), the budget of the MTA command the
 *	evaluation runs in, which its other lookups share (at MAIL FROM: the
 *	sender domain, SPF, the sender's DMARC record); each query attempt
 *	waits at most the budget's dns_timeout. The caller builds the budget
 *	from s->timeout and s->dns_timeout; every query goes through it and
 *	counts in its queries.
 *
 *	A HELO that is empty or an address literal, a malformed domain or no
 *	client address give result none, with a comment saying why.
 */
#ifndef PM_SPF_H
#define PM_SPF_H

#include "cidr.h"
#include "dns.h"
#include "results.h"

struct spf_settings; /* policy.h */

struct spf_outcome {
	enum pm_spf_result result;
	char domain[256];  /* the domain whose record was evaluated ("" when none) */
	char comment[256]; /* short, printable, e.g. "void lookup limit exceeded" */
	unsigned dns_queries;
	unsigned void_lookups;
	enum dns_fail dns_fail; /* temperror: why the query failed (dns_fail_name, for logs;
	                           DNS_FAIL_NONE when no query failed) */
};

/*
 * spf_check_helo - SPF for the HELO identity (postmaster@helo, RFC 7208
 * 2.3), every lookup within budget
 */
void spf_check_helo(const struct spf_settings *s, struct dns_budget *budget, const struct pm_ip *ip,
                    const char *helo, struct spf_outcome *out);

/*
 * spf_check_mailfrom - SPF for MAIL FROM local@domain. helo may be NULL
 * or "" (a client that sent MAIL without HELO); %{h} is then
 * "unknown". For the null sender call spf_check_helo instead.
 * Every lookup within budget.
 */
void spf_check_mailfrom(const struct spf_settings *s, struct dns_budget *budget,
                        const struct pm_ip *ip, const char *helo, const char *local,
                        const char *domain, struct spf_outcome *out);

#endif
