/*
 * NAME
 *	arc 3h - ARC chain validation (RFC 8617 section 5.2), one verifier per message
 * SYNOPSIS
 *	#include "arc.h"
 * DESCRIPTION
 *	A struct arc_verifier is fed one message as libmilter hands it
 *	(headers one by one, end of headers, body chunks), like a
 *	dkim_verifier, and at end of message says what the message's ARC
 *	chain is worth (struct arc_result): the chain validation status
 *	(cv) of RFC 8617 5.2, and for each ARC set its instance, the
 *	sealer's d=, s=, a=, cv= and the ARC-Authentication-Results
 *	payload, which the policy (trusted sealers) reads.
 *
 *	Results:
 *	  none       no ARC header field at all
 *	  pass       every ARC-Seal and the newest ARC-Message-Signature
 *	             verified, the structure is whole (instances 1..n, n
 *	             at most 50 and at most max_sets, one AS, AMS and AAR
 *	             each), the newest cv= is "pass" (or "none" for i=1)
 *	  fail       anything else that is a definite answer: a gap, a
 *	             duplicate, a missing header of a set, a malformed
 *	             tag-list, i=0 or over the limits, a cv= out of rule, a
 *	             signature that does not verify, a key that is missing,
 *	             revoked, malformed or too small (RSA under min_key_bits,
 *	             RFC 8301), an unknown algorithm
 *	  temperror  a key lookup failed for now (timeout, SERVFAIL, the
 *	             end-of-message budget spent): the chain could not be
 *	             judged. RFC 8617 registers only none, pass and fail for
 *	             arc=: our Authentication-Results says fail with the
 *	             reason in a comment; the policy treats it as a DNS
 *	             failure (4xx when enforcing, never 5xx).
 *
 *	RFC 8617 rules checked (section 5.2 and the header definitions of
 *	section 4): at most 50 sets (and max_sets), counted before anything
 *	is parsed; the tag-lists of the AS and AMS (RFC 6376 3.2: no tag
 *	twice, no element without "="), the AAR's "i=N;" prefix; instances
 *	1..N with no gap, exactly one AAR, AMS and AS each; cv= none for
 *	i=1, pass for the others, any fail ends it; the tags a verifier
 *	needs in every AS (i, a, b, cv, d, s; no h=) and in the newest AMS
 *	(i, a, b, bh, d, s, h; c=, l=, q= when given); d= and s= host names
 *	of letters, digits, '-' and '_'; a= rsa-sha256 or ed25519-sha256
 *	(rsa-sha1 fails, RFC 8301); the newest AMS verified (step 4), every
 *	AS newest first (step 6), oldest-pass (step 5, on a passing chain).
 *	Not checked: t= and x= (ARC gives them no meaning for validation),
 *	the AAR payload (the policy reads it).
 *
 *	Work is bounded: once a chain's structure is found bad nothing is
 *	verified or looked up; signatures are checked newest first and the
 *	first that fails ends the validation; a b= longer than an RSA-8192
 *	signature fails before it is decoded; at most 4 body hashes run
 *	(distinct body canonicalization and l=); what the seals sign is
 *	hashed in one pass over the chain (linear, not once per seal); the
 *	oldest-pass walk stops once the older AMSs have taken 1 MiB of
 *	header data (oldest_pass is then the lowest reached); one key lookup per distinct
 *	key name, every one through the DNS budget (the end-of-message
 *	deadline, shared with DKIM and DMARC), or the key_lookup override.
 *	Keys are decoded once per process: a cache of 256 decoded keys
 *	keyed by the exact record text (a changed record is decoded
 *	afresh; the record itself is looked up for every message).
 *	SHA-256 is fetched from OpenSSL once per process.
 *
 *	Header values: as for dkim.h (leadspc; bare LF taken as CRLF), the
 *	body too (a bare LF ends a line).
 * DIAGNOSTICS
 *	Allocation failure aborts (xmalloc).
 */
#ifndef PM_ARC_H
#define PM_ARC_H

#include <stdbool.h>
#include <stddef.h>

#include "dkim.h"
#include "dns.h"

/* RFC 8617 forbids more than 50 ARC sets. */
#define ARC_MAX_INSTANCES 50

enum pm_arc_result { PM_ARC_NONE = 0, PM_ARC_PASS, PM_ARC_FAIL, PM_ARC_TEMPERROR, PM_ARC_NRESULTS };

struct arc_verify_settings {
	unsigned max_sets; /* chains with more sets fail unverified (default and at most 50) */
	int min_key_bits;  /* smaller RSA keys fail (default 1024; <= 0: 1024) */
	int dns_timeout;   /* seconds per key query attempt (0: resolv.conf default) */
	bool leadspc;      /* header values keep their leading space (SMFIP_HDR_LEADSPC) */
	dkim_key_lookup_fn key_lookup; /* NULL: DNS TXT through the budget */
	void *key_lookup_arg;
};

/* arc_verify_defaults - fill s with the defaults above (DNS lookups) */
void arc_verify_defaults(struct arc_verify_settings *s);

/* One ARC set of the chain, instance i = its index + 1. Strings as given (not escaped). */
struct arc_set {
	unsigned instance;
	char domain[256];   /* the ARC-Seal's d= */
	char selector[256]; /* the ARC-Seal's s= */
	char algorithm[32]; /* the ARC-Seal's a= */
	char cv[8];         /* the ARC-Seal's cv= ("none", "pass", "fail") */
	bool as_valid;      /* this ARC-Seal verified */
	bool ams_checked;   /* this set's ARC-Message-Signature was verified ... */
	bool ams_valid;     /* ... and matched */
	char *aar;          /* the ARC-Authentication-Results value after "i=N;"
	                       and its white space (authserv-id first; folding as
	                       CRLF), NULL when there is none */
};

struct arc_result {
	enum pm_arc_result result;
	char reason[128];       /* why not pass, for logs and our A-R comment ("" for pass/none) */
	unsigned fail_instance; /* the instance that failed (0: none, or not one set's fault) */
	unsigned oldest_pass;   /* pass: the lowest instance whose AMS still verifies,
	                           every AMS above it verifying too (RFC 8617 5.2 step 5);
	                           1 when all of them do, which RFC 8617 and our
	                           Authentication-Results write header.oldest-pass=0
	                           (authres.c: 1 -> 0, K > 1 -> K); 0 when not pass */
	size_t n;               /* sets in set[] (0 unless the structure was whole) */
	struct arc_set *set;    /* set[k] is instance k + 1 */
	enum dns_fail dns_fail; /* temperror: why the key lookup failed */
	unsigned verified;      /* signatures checked (a body hash compared or a
	                           signature verified; bounded work: for logs and tests) */
	unsigned lookups;       /* key lookups made */
};

struct arc_verifier;

/* arc_verify_new - a verifier for one message (settings copied; NULL: defaults) */
struct arc_verifier *arc_verify_new(const struct arc_verify_settings *s, const char *queue_id);
/* arc_verify_header - one header field, name and value apart as libmilter gives them */
void arc_verify_header(struct arc_verifier *v, const char *name, const char *value);
/* arc_verify_budget - key lookups of v go through b (it must outlive v's end of message) */
void arc_verify_budget(struct arc_verifier *v, struct dns_budget *b);
/* arc_verify_eoh - end of headers */
void arc_verify_eoh(struct arc_verifier *v);
/* arc_verify_body - a body chunk */
void arc_verify_body(struct arc_verifier *v, const unsigned char *bytes, size_t len);
/* arc_verify_eom - end of message: fill *out (free with arc_result_free); once per verifier */
void arc_verify_eom(struct arc_verifier *v, struct arc_result *out);
/* arc_verify_free - release v (NULL is fine) */
void arc_verify_free(struct arc_verifier *v);
/* arc_result_free - release what *r holds */
void arc_result_free(struct arc_result *r);

/* pm_arc_result_name - "none", "pass", "fail", "temperror" (our name; A-R prints fail for
 * temperror) */
const char *pm_arc_result_name(enum pm_arc_result r);

#endif
