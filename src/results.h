/*
 * NAME
 *	results 3h - the results of the checks, shared by checks and settings
 * SYNOPSIS
 *	#include "results.h"
 * DESCRIPTION
 *	The SPF and iprev results as enums, and their names (policy.c). A
 *	check's header includes this, not the whole policy (policy.h), when
 *	results are all it needs of it.
 */
#ifndef PM_RESULTS_H
#define PM_RESULTS_H

/* RFC 7208 results; PM_SPF_UNCHECKED means "not evaluated". */
enum pm_spf_result {
	PM_SPF_UNCHECKED = 0,
	PM_SPF_NONE,
	PM_SPF_NEUTRAL,
	PM_SPF_PASS,
	PM_SPF_FAIL,
	PM_SPF_SOFTFAIL,
	PM_SPF_TEMPERROR,
	PM_SPF_PERMERROR,
	PM_SPF_NRESULTS
};

/* RFC 8601 2.7.3 iprev results; PM_IPREV_UNCHECKED means "not evaluated". */
enum pm_iprev_result {
	PM_IPREV_UNCHECKED = 0,
	PM_IPREV_PASS,      /* a PTR name maps back to the client address */
	PM_IPREV_FAIL,      /* PTR names, none maps back */
	PM_IPREV_PERMERROR, /* no PTR record */
	PM_IPREV_TEMPERROR, /* a lookup failed for now, and nothing passed */
};

/* pm_spf_result_name - "pass", "fail", ... (RFC 8601 spelling); "unchecked" for PM_SPF_UNCHECKED */
const char *pm_spf_result_name(enum pm_spf_result r);
/* pm_iprev_result_name - "pass", "fail", "permerror", "temperror"; "unchecked" */
const char *pm_iprev_result_name(enum pm_iprev_result r);

/* How the policy record and organizational domains are found (dmarc.discovery). */
enum dmarc_discovery {
	DMARC_DISCOVERY_TREEWALK = 0, /* RFC 9989 4.10: the DNS tree walk (the default) */
	DMARC_DISCOVERY_PSL,          /* RFC 7489 6.6.3: the domain, then its PSL org domain */
};

#endif
