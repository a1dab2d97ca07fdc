/*
 * NAME
 *	hdrfrom 3h - RFC 5322 From header parsing (the DMARC author domain)
 * DESCRIPTION
 *	Pure functions, no I/O. hdrfrom_parse() takes one From header value
 *	(the bytes after "From:", folded or not) and returns every mailbox
 *	it holds: an RFC 5322 section 3.4 address-list with name-addr,
 *	addr-spec, groups, comments and quoted strings. The judged domain is
 *	always the address's own domain: display names, comments and RFC
 *	2047 encoded words are display text and never become the address.
 *	Obsolete forms that could be read two ways are refused, not guessed.
 *
 *	hdrfrom_author() then says whether the value names exactly one
 *	mailbox whose domain DMARC can judge.
 * DIAGNOSTICS
 *	hdrfrom_parse returns false and sets *why to a static, printable
 *	reason fit for a log line; hdrfrom_author does the same for a value
 *	DMARC cannot use.
 */
#ifndef PM_HDRFROM_H
#define PM_HDRFROM_H

#include <stdbool.h>
#include <stddef.h>

#define HDRFROM_LOCAL_MAX  255 /* longer local parts are a syntax error */
#define HDRFROM_DOMAIN_MAX 253 /* longer domains are a syntax error */

struct hdrfrom_mailbox {
	char *local;            /* as written, quotes and quoted-pairs removed, case kept */
	char *domain;           /* lower-cased, no trailing dot; "[192.0.2.1]" for a literal */
	bool local_quoted;      /* the local part was a quoted-string */
	bool domain_is_literal; /* "[...]": no DNS name, DMARC cannot judge it */
	bool in_group;          /* inside "name: ...;" */
	bool had_route;         /* obsolete "<@a.test:x@b.test>" route (ignored) */
	char **name_domains;    /* hdrfrom_name_domains: the domains of the addresses its
	                           display text shows, lower-cased, in order (owned) */
	size_t nname_domains;   /* at most HDRFROM_NAME_DOMAINS_MAX */
};

#define HDRFROM_NAME_DOMAINS_MAX 8 /* addresses kept per display text */

struct hdrfrom_list {
	struct hdrfrom_mailbox *mbox; /* count entries, owned by the list */
	size_t count;
	size_t groups; /* groups seen ("undisclosed-recipients:;" counts) */
};

/*
 * hdrfrom_parse - parse one From header value of len bytes (NULs, CR, LF
 * and 8-bit bytes allowed in the input; they are judged). On success
 * *out holds 0..n mailboxes and the caller releases it with
 * hdrfrom_free(). On a syntax error returns false, *out is empty (and
 * needs no free, though hdrfrom_free on it is harmless) and *why says what.
 */
bool hdrfrom_parse(const char *value, size_t len, struct hdrfrom_list *out, const char **why);

/* hdrfrom_free - release what hdrfrom_parse stored in *l; *l is left empty */
void hdrfrom_free(struct hdrfrom_list *l);

/*
 * The display text of a mailbox is what a mail client may show beside or
 * instead of the address: the display name (quoted or not), comments
 * anywhere in the mailbox, with quoted-pairs undone and RFC 2047 encoded
 * words decoded (B and Q; in quoted strings and comments too, as many
 * clients do). hdrfrom_parse stores in name_domains the domain of every
 * address-like token of that text: a non-empty run of local-part
 * characters, "@", then a dotted domain (LDH labels, none empty, a top
 * label of two or more characters not all digits; 8-bit labels made
 * A-labels when IDNA2008 takes them, else kept as they are). "Joe @ Home"
 * or "Joe@Home" show no address. Whether such a domain is "another" one
 * than the address's (organizational domains) is for the caller.
 */

enum hdrfrom_author_status {
	HDRFROM_AUTHOR_OK,      /* exactly one mailbox with a DNS domain */
	HDRFROM_AUTHOR_NONE,    /* no mailbox (empty value, comments only, empty group) */
	HDRFROM_AUTHOR_SEVERAL, /* more than one mailbox */
	HDRFROM_AUTHOR_LITERAL, /* one mailbox, but its domain is an address literal */
};

/*
 * hdrfrom_author - whether l (from a successful hdrfrom_parse) names exactly
 * one mailbox with a usable domain; on HDRFROM_AUTHOR_OK *mb points into l,
 * otherwise *mb is NULL and *why is a static reason.
 */
enum hdrfrom_author_status hdrfrom_author(const struct hdrfrom_list *l,
                                          const struct hdrfrom_mailbox **mb, const char **why);

#endif
