/*
 * NAME
 *	authres 3h - RFC 8601 Authentication-Results formatting and parsing
 * DESCRIPTION
 *	Pure functions. authres_format() builds the header value that the
 *	milter adds at end of message; authres_is_ours() tells whether an
 *	existing header claims our authserv-id (such headers are removed
 *	before ours is added, RFC 8601 section 5).
 *
 *	Property values are written as RFC 8601 "pvalue": a value token
 *	or "local-part@domain"; anything else is made a quoted-string.
 *	Bytes outside printable ASCII never reach the header: they are
 *	written as \xHH inside comments, and a value holding them is
 *	replaced by its escaped form inside a quoted-string.
 */
#ifndef PM_AUTHRES_H
#define PM_AUTHRES_H

#include <stdbool.h>
#include <stddef.h>

#include "arc.h"
#include "dkim.h"
#include "dmarc.h"
#include "results.h"

struct authres_input {
	const char *authserv_id;
	/* SMTP AUTH: "auth=pass smtp.auth=<user>" when set */
	const char *auth_user;
	/* trusted network: "none (...)" comment names it when set and nothing else to say */
	const char *trusted_network;

	/*
	 * iprev (RFC 8601 section 3): emitted when iprev != PM_IPREV_UNCHECKED,
	 * first, as "iprev=<result> policy.iprev=<client address> (<comment>)"
	 * (RFC 8601 2.7.3: ptype policy, property iprev, the address as
	 * value; an IPv6 address is a quoted-string); the comment (optional)
	 * is the name that passed, or why it did not.
	 */
	enum pm_iprev_result iprev;
	const char *iprev_ip;
	const char *iprev_comment;

	/* HELO identity: emitted when helo_spf != PM_SPF_UNCHECKED */
	enum pm_spf_result helo_spf;
	const char *helo;

	/* MAIL FROM identity: emitted when mfrom_spf != PM_SPF_UNCHECKED */
	enum pm_spf_result mfrom_spf;
	const char *mailfrom;      /* "local@domain", or NULL for the null sender */
	const char *mfrom_comment; /* optional, e.g. "void lookup limit exceeded" */

	/*
	 * DKIM: emitted when dkim is not NULL, one "dkim=" resinfo per
	 * signature (dkim->n of them, in header order) with header.d,
	 * header.s, header.a and header.b (8 characters) and, for any result
	 * but pass, the reason as a comment; dkim->n == 0 gives "dkim=none".
	 */
	const struct dkim_results *dkim;

	/*
	 * ARC (RFC 8617 section 10.2): emitted when arc is not NULL, after
	 * DKIM, as "arc=<result> (i=<n> d=<domain>[: <reason>])
	 * smtp.remote-ip=<address> [header.oldest-pass=<k>]": i and d those
	 * of the newest set (the comment only when the chain has sets, the
	 * reason only for a result other than pass), header.oldest-pass
	 * only for a pass with oldest_pass > 0. RFC 8617 registers none,
	 * pass and fail: temperror is written "fail" with the reason saying
	 * it was temporary. none is "arc=none" alone.
	 */
	const struct arc_result *arc;
	const char *arc_remote_ip; /* the client address, or NULL */

	/*
	 * DMARC: emitted when dmarc != PM_DMARC_UNCHECKED, as
	 * "dmarc=<result> (p=<policy> [sp=<sp>|np=<np>] [t=y] dis=<disposition>
	 * [pdomain=<domain>]) header.from=<domain>"; the comment only when
	 * policy is set (a record was found), "dis=" when dmarc_disposition
	 * is not NULL, sp= or np= when that tag's policy applied, t=y for a
	 * record in test mode, pdomain= when the record was another domain's
	 * (a parent's, found by the tree walk). dmarc_comment (optional) is
	 * added to the comment (e.g. "several DMARC records").
	 */
	enum pm_dmarc_result dmarc;
	const char *dmarc_policy; /* the record's p=: "reject", "quarantine", "none", or NULL */
	const char *dmarc_sp;     /* sp= when it applied, else NULL */
	const char *dmarc_np;     /* np= when it applied, else NULL */
	bool dmarc_testing;       /* the record says t=y */
	const char *dmarc_disposition; /* "reject", "quarantine", "none", or NULL */
	const char *dmarc_pdomain;     /* the policy domain when not header_from, or NULL */
	const char *header_from;       /* the author domain, or NULL */
	const char *dmarc_comment;
	/* RFC 8601 2.7.7 ptype policy: "policy.dmarc=<value>" after header.from (the
	   disposition a local policy applied instead of the record's, e.g. "none" for
	   a trusted ARC sealer's rescue); NULL: none */
	const char *dmarc_policy_prop;

	/*
	 * A comment about the local policy, written last, after every resinfo
	 * (RFC 8601's trailing CFWS), e.g. "allowed by local policy:
	 * lists.sender.allow"; NULL: none
	 */
	const char *policy_comment;
};

/*
 * authres_format - the header value (without "Authentication-Results:"),
 * folded with "\n\t" before each resinfo after the first when the
 * line would pass 78 columns (libmilter wants bare LF), and inside a
 * resinfo between properties when one resinfo alone is longer. "<id>; none" when there is nothing
 * to report. The caller frees.
 */
char *authres_format(const struct authres_input *in);

/*
 * authres_is_ours - does this header value's authserv-id (first token,
 * after CFWS, before an optional version and the ";") equal ours,
 * case-insensitively?
 */
bool authres_is_ours(const char *value, const char *authserv_id);

#endif
