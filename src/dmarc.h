/*
 * NAME
 *	dmarc 3h - DMARC (RFC 9989, RFC 7489): policy discovery, organizational domains,
 *	the policy record, alignment
 * SYNOPSIS
 *	#include "dmarc.h"
 * DESCRIPTION
 *	Two discovery methods (dmarc.discovery, struct dmarc_ctx):
 *	DMARC_DISCOVERY_TREEWALK, the default, is RFC 9989 4.10:
 *	dmarc_discover() walks _dmarc.<name> from the author domain up
 *	(at most 8 queries, a name over 8 labels shortened to 7) and takes
 *	the organizational domain's record, else the psd=y one;
 *	dmarc_walk_org() gives a domain's organizational domain (4.10.2);
 *	dmarc_evaluate() with in->ctx aligns by such walks, asks whether
 *	the author domain exists when np= could apply, and lowers the
 *	policy one level for t=y (or pct=0, appendix A.6; other pct
 *	values are ignored). The answers of one message are kept in a
 *	struct dmarc_memo so its walks share them. DMARC_DISCOVERY_PSL is
 *	the RFC 7489 way described below (pct sampling kept).
 *
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

/* The tags whose value the decision log keeps as published (struct dmarc_published). */
enum dmarc_pub_tag {
	DMARC_T_P = 0,
	DMARC_T_SP,
	DMARC_T_NP,
	DMARC_T_T,
	DMARC_T_PSD,
	DMARC_T_ADKIM,
	DMARC_T_ASPF,
	DMARC_T_PCT,
	DMARC_NPUB
};

#define DMARC_PUB_VAL 16   /* bytes kept of a published value, with the NUL */
#define DMARC_RUA_MAX 1024 /* bytes kept of rua= (whole URIs only), with the NUL */

/* A record's tags as published, for the decision log (RFC 9990 reports). */
struct dmarc_published {
	unsigned present;                    /* bit (1u << enum dmarc_pub_tag): tag there */
	char val[DMARC_NPUB][DMARC_PUB_VAL]; /* the value, escaped and cut */
	char rua[DMARC_RUA_MAX];             /* rua= as published ("" when none), cut at a
	                                        comma */
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
	enum pm_dmarc_policy np;           /* FOUND: np=, UNSPEC when absent */
	int pct;                           /* 0..100 (100 when absent) */
	bool adkim_strict, aspf_strict;
	bool testing;                   /* t=y (RFC 9989 4.7) */
	char psd;                       /* psd=: 'y', 'n' or 'u' (absent or bad) */
	enum dmarc_discovery discovery; /* how the record was found */
	unsigned queries;               /* _dmarc queries the discovery sent */
	struct dmarc_published pub;
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

/* The _dmarc answers of one message, shared by its walks (author, SPF, DKIM d=). */
#define DMARC_MEMO_MAX 16
struct dmarc_memo {
	unsigned n;
	struct dmarc_memo_entry {
		char name[DMARC_DOMAIN_MAX];
		int kind; /* dmarc.c's own */
		struct dmarc_record rec;
	} e[DMARC_MEMO_MAX];
};

/* What a discovery or an alignment walk needs besides the names. */
struct dmarc_ctx {
	const struct psl *psl;          /* PSL mode: the list (NULL: none) */
	enum dmarc_discovery discovery; /* dmarc.discovery */
	struct dns_budget *budget;      /* every query; NULL: none is sent (no walk, no np) */
	struct dmarc_memo *memo;        /* the message's answers; NULL: none kept */
};

/*
 * dmarc_discover - the policy record for the author domain by ctx's
 * method: PSL as dmarc_lookup(); tree walk (RFC 9989 4.10.1): _dmarc.<domain>,
 * then from its parent (or the name shortened to 7 labels) upwards, at
 * most 8 queries in all, and the record of the organizational domain
 * (4.10.2), else of the public suffix domain (psd=y). Several records
 * at one name count as none there. A temporary failure anywhere is
 * TEMPFAIL. Never fails: see out->status.
 */
void dmarc_discover(struct dmarc_ctx *ctx, const char *domain, struct dmarc_record *out);

/*
 * dmarc_walk_org - the organizational domain of domain by the tree walk
 * (RFC 9989 4.10.2) into org (DMARC_DOMAIN_MAX bytes): 1 found, 0 a
 * temporary failure (org ""), -1 not a usable name
 */
int dmarc_walk_org(struct dmarc_ctx *ctx, const char *domain, char *org);

/* dmarc_pub_tag_name - "p", "sp", "np", "t", "psd", "adkim", "aspf", "pct" */
const char *dmarc_pub_tag_name(enum dmarc_pub_tag t);

struct dmarc_input {
	const struct psl *psl;           /* the policy's public suffix list (NULL: none) */
	struct dmarc_ctx *ctx;           /* tree walk mode: the walks for relaxed alignment
	                                    and np='s check; NULL: PSL mode, no query */
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
	bool used_np;                       /* policy came from np= (author domain NXDOMAIN) */
	bool test_mode;                     /* disposition lowered: t=y (or pct, see dmarc.c) */
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
