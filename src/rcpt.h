/*
 * NAME
 *	rcpt 3h - recipient validity
 * DESCRIPTION
 *	rcpt_lookup() says whether a parsed recipient is one of ours. Local
 *	domains come from recipients.domains; valid recipients from
 *	recipients.addresses and/or recipients.file (one address a line,
 *	"@domain" a catch-all, "#" comments, blank lines ignored). When no
 *	valid-recipient source is configured, every address in a local
 *	domain is valid (only the relay check applies). When no local
 *	domain is configured at all, every recipient is RCPT_VALID (why:
 *	"no local domains configured"): the MTA's own tables decide, and
 *	neither unknown-recipient nor relay refusals happen here.
 *
 *	Matching: the domain case-insensitively, the local part exactly as
 *	written and also case-insensitively (what Postfix's tables do); a
 *	"+detail" suffix (any of recipients.detail_separators) is stripped
 *	when the full local part is not listed. postmaster and abuse
 *	(RFC 5321 4.5.1, RFC 2142) in any local domain, and a bare
 *	"postmaster", are always valid.
 *
 *	The file is read when the policy is loaded, into a table the policy
 *	snapshot owns (recipient_settings.file_table, rcpt_file_load), and
 *	re-read when its device, inode, size, modification time or mode
 *	changes (checked at most once a second, the re-read beside the
 *	lookups: none waits for it); a file that cannot be read,
 *	or that anyone on the host could change (world-writable, or in a
 *	world-writable directory without the sticky bit), keeps the last
 *	good table and logs why. Thread-safe.
 * DIAGNOSTICS
 *	RCPT_TEMPFAIL when the table is needed and has never been read;
 *	*why then says why.
 */
#ifndef PM_RCPT_H
#define PM_RCPT_H

#include <stdbool.h>
#include <stddef.h>

#include "addr.h"

struct filetable;          /* filetable.h */
struct recipient_settings; /* policy.h */

enum rcpt_status {
	RCPT_VALID,        /* a listed (or, with no list, any) address in a local domain */
	RCPT_ALWAYS_VALID, /* postmaster / abuse: always accepted, listed or not */
	RCPT_UNKNOWN,      /* local domain, not listed */
	RCPT_FOREIGN,      /* not a local domain: relaying */
	RCPT_TEMPFAIL,     /* cannot tell now */
};

/*
 * rcpt_lookup - classify one recipient. status is the addr_parse result
 * for it (ADDR_OK or ADDR_LOCAL_ONLY). *why (may be NULL) gets a static
 * string naming the rule, e.g. "recipients.file", "catch-all @example.org".
 */
enum rcpt_status rcpt_lookup(const struct recipient_settings *s, enum addr_status status,
                             const struct pm_addr *a, const char **why);

/*
 * rcpt_check_file - read a recipients file strictly, as rcpt_file_load
 * does, without keeping the table (tests, fuzzing; an unsafe file is an
 * error too); 0 ok, -1 with errbuf filled
 */
int rcpt_check_file(const char *path, char *errbuf, size_t errsize);

/*
 * rcpt_file_load - the recipients file at path for a policy being
 * loaded (recipient_settings.file_table): prev (may be NULL) held once
 * more when it is a handle for the same file, read cleanly and unchanged
 * since; else the file read now, strictly (as rcpt_check_file). NULL
 * with errbuf filled when it cannot be used. Free with ft_release
 * (filetable.h).
 */
struct filetable *rcpt_file_load(const char *path, struct filetable *prev, char *errbuf,
                                 size_t errsize);

/*
 * rcpt_file_lazy - a handle for path not read yet (tests, fuzzing): the
 * first lookup reads it, leniently, as a re-read would
 */
struct filetable *rcpt_file_lazy(const char *path);

/*
 * rcpt_exempt_from_sender_checks - is the recipient (status ADDR_OK or
 * ADDR_LOCAL_ONLY) in recipients.exempt_from_sender_checks? A bare local
 * part entry matches at any local domain (every domain when none is
 * configured, and an address without a domain), "local@domain" that
 * address; the local part matches as written or before a detail
 * separator, case-insensitively, as rcpt_lookup matches the lists.
 */
bool rcpt_exempt_from_sender_checks(const struct recipient_settings *s, enum addr_status status,
                                    const struct pm_addr *a);

/* rcpt_status_name - "valid", "always_valid", "unknown", "foreign", "tempfail" */
const char *rcpt_status_name(enum rcpt_status st);

#endif
