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
 *	queries (permerror), and one deadline of timeout seconds for the
 *	whole evaluation, each query attempt at most dns_timeout (temperror).
 *
 *	A HELO that is empty or an address literal, a malformed domain or no
 *	client address give result none, with a comment saying why.
 */
#ifndef PM_SPF_H
#define PM_SPF_H

#include "cidr.h"
#include "policy.h"

struct spf_outcome {
	enum pm_spf_result result;
	char domain[256];  /* the domain whose record was evaluated ("" when none) */
	char comment[256]; /* short, printable, e.g. "void lookup limit exceeded" */
	unsigned dns_queries;
	unsigned void_lookups;
};

/* spf_check_helo - SPF for the HELO identity (postmaster@helo, RFC 7208 2.3) */
void spf_check_helo(const struct spf_settings *s, const struct pm_ip *ip, const char *helo,
                    struct spf_outcome *out);

/*
 * spf_check_mailfrom - SPF for MAIL FROM local@domain. helo may be NULL
 * or "" (a client that sent MAIL without HELO); %{h} is then
 * "unknown". For the null sender call spf_check_helo instead.
 */
void spf_check_mailfrom(const struct spf_settings *s, const struct pm_ip *ip, const char *helo,
                        const char *local, const char *domain, struct spf_outcome *out);

#endif
