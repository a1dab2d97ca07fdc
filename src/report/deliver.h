/*
 * NAME
 *	deliver 3h - write, authorize and mail DMARC aggregate reports
 * SYNOPSIS
 *	#include "deliver.h"
 * DESCRIPTION
 *	rua_mailto() takes a rua URI apart; deliver_authorized() is RFC 9990
 *	4's external destination check, through deliver_txt_lookup (res_query
 *	by default; a test sets its own); deliver_message() builds the MIME
 *	message; deliver_state_*() keep the sent report ids; deliver_send()
 *	hands one message to sendmail -t -oi.
 */
#ifndef PMR_DELIVER_H
#define PMR_DELIVER_H

#include <stdbool.h>
#include <stddef.h>

struct psl;

/*
 * rua_mailto - the address of a "mailto:" URI (a "!size" suffix dropped, %XX
 * decoded) into out (size bytes); 0, or -1 with *why when the URI is not
 * mailto: (why "not a mailto: URI") or its address is not a plain
 * local@domain that is safe in a header
 */
int rua_mailto(const char *uri, char *out, size_t size, const char **why);

/*
 * deliver_txt_lookup - the TXT strings at name (each record's strings
 * joined); 1 with *txt (a NULL-terminated array the caller frees with
 * deliver_txt_free), 0 when there is none, -1 on a temporary failure
 */
extern int (*deliver_txt_lookup)(const char *name, char ***txt);
void deliver_txt_free(char **txt);

/* deliver_res_query - the default deliver_txt_lookup, res_query(3) */
int deliver_res_query(const char *name, char ***txt);

enum auth_result { AUTH_INTERNAL, AUTH_AUTHORIZED, AUTH_REFUSED, AUTH_TEMPFAIL };

/*
 * deliver_authorized - may a report on policy_domain go to an address at
 * dest_domain? AUTH_INTERNAL when both have the same organizational domain
 * (psl may be NULL: then only the same domain, or one below the policy domain,
 * is internal); else the record <policy_domain>._report._dmarc.<dest_domain>
 * decides: AUTH_AUTHORIZED when a TXT record there starts with v=DMARC1 (and
 * any rua= it holds names only dest_domain), AUTH_REFUSED when none does (or
 * the name is too long), AUTH_TEMPFAIL on a temporary DNS failure. *why
 * describes a refusal. to (may be NULL) gets the address the authorizing
 * record's own rua= names instead (RFC 9990 4 step 9; same host only), or ""
 * when the record names none: send there.
 */
enum auth_result deliver_authorized(const struct psl *psl, const char *policy_domain,
                                    const char *dest_domain, const char **why, char *to,
                                    size_t tosize);

/* What a report mail says. */
struct report_mail {
	const char *from;     /* From: and envelope sender */
	const char *to;       /* the rua address */
	const char *domain;   /* the policy domain */
	const char *receiver; /* the submitter */
	const char *report_id;
	const char *filename; /* the attachment's name */
	const unsigned char *gz;
	size_t gzlen;
	long long begin, end;
};

/* deliver_message - the RFC 5322 / MIME message (caller frees) */
char *deliver_message(const struct report_mail *m, long long now);

/*
 * deliver_send - run sendmail -t -oi -f from with the message on its input;
 * 0 when it exited 0, else -1 with a description in err
 */
int deliver_send(const char *sendmail, const char *from, const char *msg, char *err,
                 size_t errsize);

/* The sent report ids: "id address" lines. */
struct sent_state {
	char **lines;
	size_t n;
};

/* deliver_state_load - read the state file (a missing one is empty); 0, or -1 with errno */
int deliver_state_load(struct sent_state *s, const char *path);
/* deliver_state_has - was report id sent to addr? */
bool deliver_state_has(const struct sent_state *s, const char *id, const char *addr);
/* deliver_state_add - append "id addr" to the file (fsync'd) and to s; 0, or -1 with errno */
int deliver_state_add(struct sent_state *s, const char *path, const char *id, const char *addr);
void deliver_state_free(struct sent_state *s);

#endif
