/*
 * NAME
 *	addr 3h - RFC 5321 envelope address parsing
 * DESCRIPTION
 *	Pure functions, no I/O. addr_parse() takes the path exactly as the
 *	MTA handed it to the milter (with or without the angle brackets,
 *	possibly with a source route "<@a,@b:x@c>") and splits it into a
 *	local part and a domain that every later check judges: SPF, the
 *	recipient table and the Authentication-Results header all use the
 *	same strings from here.
 *
 *	Accepted: dot-atom or quoted-string local parts (RFC 5321 4.1.2),
 *	UTF-8 in the local part when well formed (SMTPUTF8), LDH domain
 *	names, address literals "[192.0.2.1]" and "[IPv6:...]", a source
 *	route (ignored, RFC 5321 C). Refused: anything else, including
 *	CR, LF, NUL, other controls, unbalanced brackets and quotes,
 *	comments, a local part over 255 or a domain over 255 bytes, a label
 *	over 63 bytes.
 * DIAGNOSTICS
 *	addr_parse returns ADDR_BAD and sets *why to a static, printable
 *	explanation fit for a log line.
 */
#ifndef PM_ADDR_H
#define PM_ADDR_H

#include <stdbool.h>
#include <stddef.h>

enum addr_status {
	ADDR_OK,         /* local and domain set */
	ADDR_NULL,       /* "<>" (only with ADDR_ALLOW_NULL) */
	ADDR_LOCAL_ONLY, /* "<postmaster>" without a domain (only with ADDR_ALLOW_LOCAL_ONLY) */
	ADDR_BAD,        /* syntax error: *why says what */
};

/* flags for addr_parse */
#define ADDR_ALLOW_NULL       0x01 /* MAIL FROM:<> */
#define ADDR_ALLOW_LOCAL_ONLY 0x02 /* RCPT TO:<postmaster> (RFC 5321 4.1.1.3) */

#define ADDR_LOCAL_MAX  255
#define ADDR_DOMAIN_MAX 255

struct pm_addr {
	char local[ADDR_LOCAL_MAX + 1];   /* as written, quotes removed, case kept */
	char domain[ADDR_DOMAIN_MAX + 1]; /* lower-cased; "[192.0.2.1]" for a literal */
	bool domain_is_literal;
	bool had_source_route;
	bool local_quoted; /* the local part was a quoted-string */
};

/*
 * addr_parse - parse one envelope path of len bytes (may hold NULs,
 * which are an error). On ADDR_OK *out is filled; on ADDR_NULL and
 * ADDR_LOCAL_ONLY (local only) the unused fields are "".
 */
enum addr_status addr_parse(const char *raw, size_t len, int flags, struct pm_addr *out,
                            const char **why);

/* addr_format - "local@domain" into buf, the local part re-quoted when it needs it; returns buf */
char *addr_format(const struct pm_addr *a, char *buf, size_t bufsize);

/* addr_domain_valid - an LDH host name (labels 1..63, total <= 253/255, no leading/trailing hyphen)
 */
bool addr_domain_valid(const char *d, size_t len);

#endif
