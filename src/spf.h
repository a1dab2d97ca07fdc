/*
 * NAME
 *	spf 3h - SPF evaluation (RFC 7208) on top of libspf2
 * DESCRIPTION
 *	spf_check_helo() and spf_check_mailfrom() evaluate one identity and
 *	return one of the seven RFC 7208 results. They are thread-safe:
 *	each thread gets its own libspf2 server and its own resolver state
 *	(res_ninit), both created on first use and freed at thread exit.
 *
 *	libspf2 sees DNS through a layer of ours (dns.c) that keeps "try
 *	again later" apart from "no such data": any SERVFAIL or timeout seen
 *	during an evaluation makes the result temperror, never fail or
 *	none. The layer also enforces what libspf2 1.2.10 does not: at most
 *	max_void_lookups void answers (RFC 7208 4.6.4, permerror past it),
 *	a cap on the number of DNS queries, and a deadline (temperror past
 *	it): the deadline of the struct dns_budget given (dns.h), the budget
 *	of the MTA command the evaluation runs in, which its other lookups
 *	share (at MAIL FROM: the sender domain, SPF, the sender's DMARC
 *	record); its dns_timeout is the per-attempt timeout. The caller
 *	builds the budget from s->timeout and s->dns_timeout.
 *
 *	Never hands libspf2 a NULL or empty HELO or sender (SPF_error would
 *	abort the process): a HELO that is empty or an address literal
 *	gives result none for the HELO identity, with a comment saying why.
 */
#ifndef PM_SPF_H
#define PM_SPF_H

#include "cidr.h"
#include "dns.h"
#include "policy.h"

struct spf_outcome {
	enum pm_spf_result result;
	char domain[256];  /* the domain whose record was evaluated ("" when none) */
	char comment[256]; /* short, printable, e.g. "void lookup limit exceeded" */
	unsigned dns_queries;
	unsigned void_lookups;
};

/*
 * spf_check_helo - SPF for the HELO identity (postmaster@helo, RFC 7208
 * 2.3), every lookup within budget
 */
void spf_check_helo(const struct spf_settings *s, const struct dns_budget *budget,
                    const struct pm_ip *ip, const char *helo, struct spf_outcome *out);

/*
 * spf_check_mailfrom - SPF for MAIL FROM local@domain. helo may be NULL
 * or "" (a client that sent MAIL without HELO); libspf2 then gets
 * "unknown" for %{h}. For the null sender call spf_check_helo instead.
 * Every lookup within budget.
 */
void spf_check_mailfrom(const struct spf_settings *s, const struct dns_budget *budget,
                        const struct pm_ip *ip, const char *helo, const char *local,
                        const char *domain, struct spf_outcome *out);

#endif
