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

#include "policy.h"

struct authres_input {
	const char *authserv_id;
	/* SMTP AUTH: "auth=pass smtp.auth=<user>" when set */
	const char *auth_user;
	/* trusted network: "none (...)" comment names it when set and nothing else to say */
	const char *trusted_network;

	/* HELO identity: emitted when helo_spf != PM_SPF_UNCHECKED */
	enum pm_spf_result helo_spf;
	const char *helo;

	/* MAIL FROM identity: emitted when mfrom_spf != PM_SPF_UNCHECKED */
	enum pm_spf_result mfrom_spf;
	const char *mailfrom;      /* "local@domain", or NULL for the null sender */
	const char *mfrom_comment; /* optional, e.g. "void lookup limit exceeded" */
};

/*
 * authres_format - the header value (without "Authentication-Results:"),
 * folded with "\n\t" between resinfos when long (libmilter wants bare
 * LF). "<id>; none" when there is nothing to report. The caller frees.
 */
char *authres_format(const struct authres_input *in);

/*
 * authres_is_ours - does this header value's authserv-id (first token,
 * after CFWS, before an optional version and the ";") equal ours,
 * case-insensitively?
 */
bool authres_is_ours(const char *value, const char *authserv_id);

#endif
