/*
 * NAME
 *	arctrust 3h - may a trusted ARC sealer rescue a DMARC fail?
 * DESCRIPTION
 *	Pure functions, no I/O. arctrust_aar_parse() reads an
 *	ARC-Authentication-Results payload (the part after "i=N;": an RFC
 *	8601 authres-payload, authserv-id first) into a bounded struct
 *	aar_parsed. arctrust_decide() applies the rescue rule of arc.mode
 *	(policy-milter.conf(5), arc.trusted_sealers) to a validated chain:
 *
 *	  - the chain's result is pass;
 *	  - the OLDEST trusted sealer decides alone: the lowest instance
 *	    whose ARC-Seal d= equals a trusted domain or is below one
 *	    (case-insensitive). It is the earliest view of the message by a
 *	    domain we trust; a newer trusted sealer only saw the message
 *	    after more hops. What a newer sealer, or any untrusted one,
 *	    recorded is never read;
 *	  - its ARC-Authentication-Results recorded, for the author domain,
 *	    dmarc=pass with header.from equal to it, or spf=pass with an
 *	    smtp.mailfrom (its domain) aligned with it, or dkim=pass with a
 *	    header.d (or header.i's domain) aligned with it; alignment strict
 *	    (equal) or relaxed (the caller's organizational-domain test) as
 *	    the author's DMARC record says (aspf, adkim);
 *	  - and it recorded no dmarc result other than pass for the author
 *	    domain (the sealer itself saw DMARC fail: nothing to vouch for).
 *
 *	Hostile input: a payload longer than AAR_TEXT_MAX is not read at all
 *	(a cut value could align where the whole would not); resinfos past
 *	AAR_MAX_RESINFO and properties past AAR_MAX_PROPS are dropped; a
 *	value longer than AAR_VALUE_MAX, or a resinfo that does not follow
 *	the grammar, makes that resinfo count for nothing. Work is linear in
 *	the payload's length.
 * DIAGNOSTICS
 *	None; allocation failure aborts (xmalloc).
 */
#ifndef PM_ARCTRUST_H
#define PM_ARCTRUST_H

#include <stdbool.h>
#include <stddef.h>

#include "arc.h"

#define AAR_TEXT_MAX    16384 /* bytes of a payload read at all */
#define AAR_MAX_RESINFO 32    /* resinfos kept */
#define AAR_MAX_PROPS   8     /* properties kept per resinfo (reason= not counted) */
#define AAR_VALUE_MAX   256   /* bytes of a token, value or authserv-id, NUL included */

/* One "ptype.property=pvalue" (ptype and property lower-cased, value as given). */
struct aar_prop {
	char ptype[32];
	char name[32];
	char value[AAR_VALUE_MAX]; /* "local@domain", "@domain", or a value unquoted */
};

/* One resinfo: "method[/version]=result [reason=...] props..." (lower-cased method, result). */
struct aar_resinfo {
	char method[32];
	char result[32];
	size_t nprops;
	struct aar_prop prop[AAR_MAX_PROPS];
};

struct aar_parsed {
	char authserv_id[AAR_VALUE_MAX];
	size_t n; /* resinfos that followed the grammar (at most AAR_MAX_RESINFO) */
	struct aar_resinfo ri[AAR_MAX_RESINFO];
	size_t bad; /* resinfos dropped: not following the grammar, or past the limit */
};

/*
 * arctrust_aar_parse - read payload into *out: false (out->n 0) when
 * there is no authserv-id or the payload is longer than AAR_TEXT_MAX;
 * "none" (no result) gives true with n 0
 */
bool arctrust_aar_parse(const char *payload, struct aar_parsed *out);

/* arctrust_prop - the value of property ptype.name of ri (names lower-case), or NULL */
const char *arctrust_prop(const struct aar_resinfo *ri, const char *ptype, const char *name);

/* Relaxed alignment: do a and b share an organizational domain? */
typedef bool (*arctrust_org_fn)(void *arg, const char *a, const char *b);

struct arctrust_input {
	const struct arc_result *arc;
	char *const *trusted; /* arc.trusted_sealers */
	size_t ntrusted;
	const char *author;  /* the author domain DMARC judged */
	bool adkim_strict;   /* the author's record: adkim=s */
	bool aspf_strict;    /* aspf=s */
	arctrust_org_fn org; /* relaxed alignment; NULL: relaxed counts as strict */
	void *org_arg;
};

/* What arctrust_decide found. */
struct arctrust_rescue {
	bool rescued;
	unsigned instance;   /* the oldest trusted sealer's instance (0: no trusted sealer) */
	char sealer[256];    /* its d= */
	const char *method;  /* rescued: "dmarc", "spf" or "dkim" (static) */
	const char *why_not; /* not rescued: why (static text, for logs and tests) */
};

/* arctrust_decide - does the oldest trusted sealer rescue the DMARC fail? (see above) */
bool arctrust_decide(const struct arctrust_input *in, struct arctrust_rescue *out);

/* arctrust_sealer_trusted - is d= equal to one of list[0..n) or below it (case-insensitive)? */
bool arctrust_sealer_trusted(const char *domain, char *const *list, size_t n);

#endif
