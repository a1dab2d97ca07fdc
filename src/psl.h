/*
 * NAME
 *	psl 3h - the public suffix list, one immutable object per file version
 * SYNOPSIS
 *	#include "psl.h"
 * DESCRIPTION
 *	psl_load() reads the public suffix list (publicsuffix.org, Debian's
 *	publicsuffix package) into three sorted tables: plain rules, "*.S"
 *	wildcards and "!X" exceptions. The object is immutable once loaded
 *	and reference-counted: the policy snapshot that needs it (DMARC,
 *	dkim.must_sign) owns one reference (struct policy psl, config.c), so
 *	every lookup of a message uses the list of the snapshot it started
 *	with, and a reload (SIGUSR1) reads the file again, or shares the
 *	previous snapshot's list when the file is the same (device, inode,
 *	size and modification time unchanged). No lock: nothing changes
 *	after the load, and the reference count is atomic.
 *
 *	psl_org_of() is RFC 7489 3.2's organizational domain by the list's
 *	algorithm: an exception wins, else the longest matching rule, else
 *	the implicit rule "*" (the last label); the organizational domain is
 *	the public suffix plus one label, and a name that is itself a public
 *	suffix is its own. IDN rules count in the A-label form the list gives
 *	in the comment line above them ("// xn--..."); the others cannot
 *	match a name the milter accepts.
 * DIAGNOSTICS
 *	psl_load() returns NULL with a message; allocation failure aborts.
 */
#ifndef PM_PSL_H
#define PM_PSL_H

#include <stddef.h>

#define PSL_NAME_MAX 254 /* bytes of a name, with the NUL (DMARC_DOMAIN_MAX) */

struct psl;

/*
 * psl_load - the list at path (an absolute path): a readable regular file
 * that only its owner can change (pm_file_unsafe), holding at least one
 * rule; opened without blocking (a FIFO is refused, never waited on).
 * When prev (may be NULL) was loaded from the same path and the file's
 * device, inode, size and modification time are unchanged, prev is
 * shared (one more reference) instead of read again. Returns a reference
 * the caller releases with psl_release, or NULL with a message in err.
 */
struct psl *psl_load(const char *path, struct psl *prev, char *err, size_t errsize);

/* psl_hold - one more reference to l (NULL: NULL); returns l */
struct psl *psl_hold(struct psl *l);

/* psl_release - drop one reference (NULL: nothing), freeing on the last */
void psl_release(struct psl *l);

/* psl_file - the file l was read from */
const char *psl_file(const struct psl *l);

/*
 * psl_org_of - the organizational domain of d (lower-case, no final dot,
 * LDH, underscore and dot bytes, shorter than PSL_NAME_MAX: the caller
 * normalises) into out (PSL_NAME_MAX bytes). l NULL: d itself (no list,
 * no relaxation).
 */
void psl_org_of(const struct psl *l, const char *d, char *out);

#endif
