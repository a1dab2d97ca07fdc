/*
 * NAME
 *	lists 3h - allow and block lists: client address, client name, HELO,
 *	sender, recipient
 * SYNOPSIS
 *	#include "lists.h"
 * DESCRIPTION
 *	A struct pm_list holds the entries of one list (say, the HELO block
 *	list): inline entries from the policy file and/or a file of one
 *	entry a line. list_new() validates every entry at load time and
 *	reports each bad one; the list is then shared between threads and
 *	matched with list_match() (text), list_match_ip() (the client
 *	address) or list_match_addr() (a parsed envelope address). Whether
 *	a list allows or blocks is the caller's business.
 *
 *	Entry syntax by kind (everything is compared ASCII case-insensitively,
 *	as Postfix access maps do; one trailing root dot is ignored):
 *
 *	LIST_CLIENT: an IPv4 or IPv6 address or CIDR block, "192.0.2.1",
 *	"198.51.100.0/24", "2001:db8::/32" (cidr.h rules: no host bits
 *	set). IPv4-mapped IPv6 addresses and blocks of /96 or longer are
 *	IPv4, so "::ffff:192.0.2.0/120" is 192.0.2.0/24 and an IPv4 block
 *	matches a client on a dual-stack socket. Lookups probe one hash per
 *	prefix length in use, longest first: the hit is the most specific.
 *
 *	LIST_CLIENT_NAME: a host name: "mail.example.net" is that name
 *	only, ".example.net" any name below example.net (not example.net
 *	itself, not badexample.net). Give list_match the verified
 *	(forward-confirmed) PTR name, or NULL when there is none: NULL never
 *	matches. An address is refused as an entry (it belongs in the
 *	client list).
 *
 *	LIST_HELO: as LIST_CLIENT_NAME, plus address literals "[192.0.2.1]"
 *	and "[IPv6:2001:db8::1]" (a bare address is taken as its literal).
 *	A HELO value that is an address, bracketed or not, matches only the
 *	literal entry for the same address (compared as addresses, so
 *	"[IPv6:2001:DB8:0::1]" matches "[IPv6:2001:db8::1]").
 *
 *	LIST_SENDER, LIST_RECIPIENT: "user@example.net" that address;
 *	"user@" that local part at any domain; "example.net" or
 *	"@example.net" any address at exactly that domain; ".example.net"
 *	any address at a domain below it. Local parts are compared
 *	case-insensitively too (Postfix's default), quoted local parts as
 *	their content ("\"john doe\"@example.org"). No "+detail" is
 *	stripped. A sender list may hold "<>", the null sender, which
 *	matches only the null sender (and the null sender matches nothing
 *	else). A recipient "<postmaster>" without a domain matches
 *	"postmaster@" only.
 *
 *	Files: one entry a line; blank lines, lines starting with "#" and
 *	text after a "#" that follows white space are ignored; leading and
 *	trailing white space (CR included) is trimmed. Inline entries are
 *	trimmed too but never hold comments. White space inside an entry
 *	is an error (but inside a quoted local part). Duplicates are
 *	ignored (the first one is reported on a match).
 *
 *	A file anyone on the host could change is never read: one that is
 *	world-writable, or that sits in a world-writable directory without
 *	the sticky bit (pm_file_unsafe, util.h: symbolic links are followed
 *	to the real file's directory).
 *
 *	The file is re-read when its device, inode, size, modification
 *	time or mode changes, checked at most once a second
 *	(list_set_recheck_ms) from within list_match. One caller re-reads
 *	while the others keep matching against the entries read before. A
 *	file that cannot be read (gone, a directory, an I/O error) or has
 *	become unsafe keeps the last good entries; the failure is logged
 *	once (log_msg, LOG_WARNING) until it changes or the file reads
 *	again. Bad lines in a re-read file are skipped with a warning naming
 *	file:line (the first ten, then a count). A policy reload builds its
 *	lists with list_new_shared(): a file unchanged since the current
 *	policy's list read it is not read again, its table is shared.
 * DIAGNOSTICS
 *	list_new() returns NULL when anything was wrong (an unreadable or
 *	unsafe file, a bad entry), with one struct list_error per problem appended to
 *	*errs. The match functions never fail: bad input does not match.
 *	Thread-safety: list_match*, list_size and list_set_recheck_ms may be
 *	called from any thread; list_free only when no one else uses the list.
 */
#ifndef PM_LISTS_H
#define PM_LISTS_H

#include <stdbool.h>
#include <stddef.h>

#include "addr.h"
#include "cidr.h"

struct filetable;

enum list_kind {
	LIST_CLIENT,      /* address or CIDR block */
	LIST_CLIENT_NAME, /* verified client host name: exact, or ".suffix" */
	LIST_HELO,        /* HELO name: exact, ".suffix", or an address literal */
	LIST_SENDER,      /* address, "user@", domain, "@domain", ".domain", "<>" */
	LIST_RECIPIENT,   /* as LIST_SENDER without "<>" */
};

/* Longest entry accepted, and the size of list_hit.entry. */
#define LIST_ENTRY_MAX 600
/* At most this many errors per list from list_new, then one "N more" error. */
#define LIST_MAX_ERRORS 100
/* Default interval between two stat() calls on a list file. */
#define LIST_RECHECK_MS 1000

/* One problem found by list_new. */
struct list_error {
	char *file;    /* the list file, or NULL for an inline entry */
	size_t line;   /* file: line number from 1 (0: the file as a whole) */
	size_t index;  /* inline: index into the entries array, from 0 */
	char *message; /* e.g. "\"192.0.2.300\": not an IP address" */
};

/* Errors from list_new; start zeroed, free with list_errors_free. */
struct list_errors {
	struct list_error *v;
	size_t n;
};

/* What matched, for the log. */
struct list_hit {
	char entry[LIST_ENTRY_MAX + 1]; /* the entry, normalised: ".example.net", "192.0.2.0/24" */
	const char *source; /* the file path, or the list's name for an inline entry (owned by
	                       the list: valid while the list is) */
	bool in_file;       /* true: line is set; false: index is set */
	size_t line;        /* line in the file, from 1 */
	size_t index;       /* index of the inline entry, from 0 */
};

struct pm_list;

/*
 * list_new - build a list of kind from nentries inline entries (entries
 * may be NULL when nentries is 0) and the file at path (NULL or "": no
 * file). name (e.g. "lists.helo.block") names the list in hits of inline
 * entries and in log lines. The file is read now. Returns the list (the
 * caller frees it with list_free), or NULL with every problem appended
 * to *errs (which must be initialised, e.g. zeroed).
 */
struct pm_list *list_new(enum list_kind kind, const char *name, const char *const *entries,
                         size_t nentries, const char *path, struct list_errors *errs);

/*
 * list_new_shared - list_new for a policy being loaded: when prev (may be
 * NULL) is a list of the same kind and name, and its file is path,
 * unchanged since it was read cleanly (same device, inode, size,
 * modification time and mode) and still safe, its table is shared
 * (reference-counted, filetable.h: ft_reuse) instead of read again;
 * otherwise the file is read as list_new reads it. The inline entries
 * are always parsed. prev is only read.
 */
struct pm_list *list_new_shared(enum list_kind kind, const char *name, const char *const *entries,
                                size_t nentries, const char *path, const struct pm_list *prev,
                                struct list_errors *errs);

/* list_file_table - the handle of the list's file table (filetable.h), or NULL: no file */
const struct filetable *list_file_table(const struct pm_list *l);

/* list_free - free the list; NULL is fine */
void list_free(struct pm_list *l);

/*
 * list_match - is value listed? value is an address (LIST_CLIENT), a
 * host name (LIST_CLIENT_NAME, LIST_HELO), or an envelope address with
 * or without angle brackets ("<>" or "" is the null sender) for
 * LIST_SENDER and LIST_RECIPIENT. A NULL list or value never matches.
 * On a match *hit (may be NULL) says which entry.
 */
bool list_match(struct pm_list *l, const char *value, struct list_hit *hit);

/* list_match_ip - list_match for a LIST_CLIENT list and a binary address; false for other kinds */
bool list_match_ip(struct pm_list *l, const struct pm_ip *ip, struct list_hit *hit);

/*
 * list_match_addr - list_match for LIST_SENDER and LIST_RECIPIENT with an
 * address already parsed by addr_parse: st ADDR_OK, ADDR_NULL or
 * ADDR_LOCAL_ONLY (a may be NULL for ADDR_NULL); ADDR_BAD never matches
 */
bool list_match_addr(struct pm_list *l, enum addr_status st, const struct pm_addr *a,
                     struct list_hit *hit);

/*
 * list_hit_format - ".example.net in /etc/policy-milter/block-helo.txt:12"
 * or "192.0.2.1 in lists.client.block[3]" into buf; returns buf
 */
char *list_hit_format(const struct list_hit *hit, char *buf, size_t bufsize);

/* list_size - entries in force now (inline and file, duplicates counted once per source) */
size_t list_size(struct pm_list *l);

/* list_set_recheck_ms - stat the file at most every ms milliseconds (0: on every match) */
void list_set_recheck_ms(struct pm_list *l, unsigned ms);

/* list_kind_name - "client", "client_name", "helo", "sender", "recipient" */
const char *list_kind_name(enum list_kind kind);

/* list_errors_free - free every error; *errs is left empty */
void list_errors_free(struct list_errors *errs);

#endif
