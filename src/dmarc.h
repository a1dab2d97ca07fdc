/*
 * NAME
 *	dmarc 3h - DMARC (RFC 7489): organizational domain, policy record, alignment
 * SYNOPSIS
 *	#include "dmarc.h"
 * DESCRIPTION
 *	Three parts, used in this order by the milter:
 *
 *	dmarc_org_domain() gives a domain's organizational domain (RFC 7489
 *	3.2: the public suffix plus one label; with no rule matching, the
 *	last label is the suffix) by the public suffix list object it is
 *	given (psl.h: the policy snapshot's, loaded by config_load whenever
 *	DMARC or dkim.must_sign can use it, read again by a reload).
 *	Every function taking a struct psl * takes NULL as "no list": a
 *	domain is then its own organizational domain.
 *
 *	dmarc_lookup() finds the policy record: TXT at _dmarc.<domain>, and
 *	when there is none, at _dmarc.<organizational domain> (RFC 7489
 *	6.6.3). Lookups go through the caller's struct dns_budget (dns.h):
 *	the deadline and per-attempt timeout of the MTA command they are
 *	made in, shared with that command's other lookups. TXT records not starting "v=DMARC1" are
 *ignored; several DMARC records, or a record without a valid p= (no rua= either), apply no policy
 *(status DMARC_REC_INVALID). Split strings are joined first; tags are parsed per RFC 7489 6.4
 *(unknown tags ignored, a bad pct/adkim/aspf falls back to its default, a record with an invalid p=
 *or sp= but a valid rua= is taken as p=none).
 *
 *	Why not libopendmarc (Debian's 1.4.2) for these two parts: its
 *	opendmarc_get_tld() drops a one-letter first label ("q.com" gives
 *	"com", so any two one-letter .com domains would align), returns
 *	nothing for a TLD outside the list and is case-sensitive; its
 *	record parser takes records without "v=", reads "p=r" as reject and
 *	throws away a whole record over one bad optional tag. The tests in
 *	tests/unit/test_dmarc.c hold the cases.
 *
 *	dmarc_evaluate() is a pure function (given the list in its input): the
 *	author domain, the record, this message's own SPF result and the
 *	identity SPF actually checked (MAIL FROM domain, or the HELO name
 *	for the null sender), and this message's DKIM results -> pass or
 *	fail, the alignment found, the policy that applies (p, or sp for a
 *	subdomain when the record came from the organizational domain) and
 *	the disposition after pct: for a failing message with pct < 100,
 *	pct_roll (0..99, random per message, given by the caller) below pct
 *	applies the policy, otherwise the next-lower one (reject ->
 *	quarantine -> none). Relaxed alignment compares organizational
 *	domains, strict compares the domains themselves (case-insensitive,
 *	trailing dot ignored), for SPF (aspf) and DKIM (adkim) alike; only
 *	a DKIM result of pass counts, and only an SPF result of pass.
 *	Nothing a message carries (an Authentication-Results header, say)
 *	is ever an input here.
 * DIAGNOSTICS
 *	Nothing fails: trouble becomes a status in the result.
 */
#ifndef PM_DMARC_H
#define PM_DMARC_H

#include <stdbool.h>
#include <stddef.h>

#include "dkim.h"
#include "dns.h"
#include "results.h"
#include "psl.h"

#define DMARC_DOMAIN_MAX 254 /* bytes, with the NUL */

/* p= and sp= values; also the disposition actually applied. */
enum pm_dmarc_policy {
	PM_DMARC_P_UNSPEC = 0, /* no record, or sp= absent */
	PM_DMARC_P_NONE,
	PM_DMARC_P_QUARANTINE,
	PM_DMARC_P_REJECT,
};

/* RFC 8601 dmarc= results; UNCHECKED: not evaluated. */
enum pm_dmarc_result {
	PM_DMARC_UNCHECKED = 0,
	PM_DMARC_NONE,      /* no (usable) policy record */
	PM_DMARC_PASS,      /* an aligned SPF or DKIM pass */
	PM_DMARC_FAIL,      /* a record and no aligned pass */
	PM_DMARC_TEMPERROR, /* the record lookup failed for now */
	PM_DMARC_PERMERROR, /* several records, or one without a valid p= */
	PM_DMARC_NRESULTS
};

enum dmarc_record_status {
	DMARC_REC_NONE = 0, /* no DMARC record at the domain nor its organizational domain */
	DMARC_REC_FOUND,    /* parsed: the fields below are set */
	DMARC_REC_TEMPFAIL, /* a lookup failed temporarily (timeout, SERVFAIL) */
	DMARC_REC_INVALID,  /* several records, or unusable: no policy applies */
};

struct dmarc_record {
	enum dmarc_record_status status;
	char domain[DMARC_DOMAIN_MAX];     /* the domain asked about (lower-case, no final dot) */
	char org_domain[DMARC_DOMAIN_MAX]; /* its organizational domain */
	char found_at[DMARC_DOMAIN_MAX];   /* where the record was: domain or org_domain */
	enum pm_dmarc_policy p;            /* FOUND: never UNSPEC */
	enum pm_dmarc_policy sp;           /* FOUND: sp=, or p when sp= is absent */
	int pct;                           /* 0..100 (100 when absent) */
	bool adkim_strict, aspf_strict;
	char why[128]; /* for logs: "several DMARC records at _dmarc.x.test", "timeout ..." */
	enum dns_fail dns_fail; /* TEMPFAIL: why the lookup failed (dns_fail_name, for logs) */
};

/*
 * dmarc_org_domain - the organizational domain of domain (lower-case, no
 * final dot) by the list psl into buf; domain itself when the list says
 * nothing better (or psl is NULL). false when domain is not a usable
 * name (buf then "").
 */
bool dmarc_org_domain(const struct psl *psl, const char *domain, char *buf, size_t bufsize);

/*
 * dmarc_lookup - the policy record for the author domain (see above), its
 * organizational domain by psl, every query within budget (a spent
 * budget is TEMPFAIL). Never fails: see out->status.
 */
void dmarc_lookup(const struct psl *psl, const char *domain, struct dns_budget *budget,
                  struct dmarc_record *out);

/*
 * dmarc_parse_record - parse one record text for domain (found at
 * found_at, which may equal domain) into *out (status FOUND or INVALID);
 * dmarc_lookup uses it, and tests call it directly
 */
void dmarc_parse_record(const struct psl *psl, const char *text, const char *domain,
                        const char *found_at, struct dmarc_record *out);

struct dmarc_input {
	const struct psl *psl;           /* the policy's public suffix list (NULL: none) */
	const char *from_domain;         /* the author domain (hdrfrom), lower-case */
	const struct dmarc_record *rec;  /* dmarc_lookup(from_domain) */
	enum pm_spf_result spf;          /* this milter's own result for spf_domain */
	const char *spf_domain;          /* the identity SPF checked: MAIL FROM domain, or the
	                                    HELO name for the null sender; NULL when not checked */
	const struct dkim_results *dkim; /* this message's verification, NULL when none */
	unsigned pct_roll;               /* 0..99 */
};

struct dmarc_outcome {
	enum pm_dmarc_result result;
	enum pm_dmarc_policy policy;        /* requested: p, or sp for a subdomain; UNSPEC
	                                       without a record */
	enum pm_dmarc_policy disposition;   /* applied after pct (NONE on pass); UNSPEC when
	                                       there is no policy */
	bool used_sp;                       /* policy came from sp= */
	bool spf_aligned, dkim_aligned;     /* an aligned pass of that kind */
	char dkim_domain[DMARC_DOMAIN_MAX]; /* d= of the first aligned passing signature */
	char why[128];                      /* for logs and the A-R comment */
};

/* dmarc_evaluate - the DMARC outcome for in (see above); never fails */
void dmarc_evaluate(const struct dmarc_input *in, struct dmarc_outcome *out);

/*
 * dmarc_aligned - do domains a and b align: strict = equal, relaxed = same
 * organizational domain by psl (case-insensitive, trailing dots ignored)?
 */
bool dmarc_aligned(const struct psl *psl, const char *a, const char *b, bool strict);

/* Names for logs and Authentication-Results: "pass", "fail", ...; "none", "quarantine", ... */
const char *pm_dmarc_result_name(enum pm_dmarc_result r);
const char *pm_dmarc_policy_name(enum pm_dmarc_policy p); /* "" for UNSPEC */

#endif
