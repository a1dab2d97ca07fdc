/*
 * NAME
 *	log 3h - decision records and diagnostics
 * DESCRIPTION
 *	log_decision() writes one key=value line per decision to syslog
 *	(and stderr in foreground mode), led by the queue id, every value
 *	escaped (pm_escape) and quoted when it holds a space; and, when a
 *	JSON decision log is open (jsonlog.h), the same facts as one JSON
 *	line. log_msg() is for everything else (start, stop, reload,
 *	warnings). Thread-safe.
 */
#ifndef PM_LOG_H
#define PM_LOG_H

#include <stdbool.h>
#include <stddef.h>
#include <syslog.h>

/* One DKIM signature's outcome, for a decision. */
struct pm_decision_sig {
	const char *result;   /* "pass", "fail", ... (RFC 8601 spelling) */
	const char *domain;   /* d=, or NULL when the signature has none */
	const char *selector; /* s=, or NULL */
};

/* One DNSBL listing, for a decision. */
struct pm_decision_dnsbl {
	const char *zone;   /* "zen.example" */
	const char *answer; /* "127.0.0.2" */
};

/* A decision; NULL fields (and empty arrays) are left out of the syslog line. */
struct pm_decision {
	const char *queue_id;    /* NULL, "" or "NOQUEUE" when the MTA gave none */
	const char *stage;       /* "connect", "helo", "mail", "rcpt", "eom" */
	const char *client_addr; /* "unknown" when the MTA gave no address (JSON: null) */
	const char *client_name; /* "unknown" or "[addr]": no name (JSON: null) */
	const char *iprev;    /* "pass", "fail", "permerror", "temperror"; NULL when not checked */
	const char *mta_host; /* the MTA's own host name (macro j); NULL when not given */
	const char *mta_daemon; /* the MTA's daemon name ({daemon_name}); NULL when not given */
	const char *local_addr; /* the address the client connected to; NULL when not given */
	const char *helo;
	const char *sender;       /* "<>" for the null sender; NULL before MAIL FROM */
	const char *const *rcpts; /* the one judged (rcpt stage), or every accepted one (eom) */
	size_t nrcpts;
	const char *helo_spf, *helo_spf_domain;
	const char *spf, *spf_domain;
	const char *header_from; /* the author domain judged by DMARC */
	bool dkim_done;          /* DKIM verification ran (then dkim[] may still be empty) */
	const struct pm_decision_sig *dkim; /* one per signature verified */
	size_t ndkim;
	const char *dmarc, *dmarc_policy, *dmarc_dis; /* result, p= applied, disposition */
	const struct pm_decision_dnsbl *dnsbl;        /* listings found at connect */
	size_t ndnsbl;
	const char *action; /* "accept", "reject", "tempfail", "quarantine", "hold" */
	bool would;         /* log/tag mode (or dry run): what it would have done */
	bool dry_run;       /* the global dry run turned this refusal into a "would" */
	const char *reply;  /* "550 5.7.23 text" as sent (or as it would have been) */
	const char *check;
	const char *reason;
	const char *rule;
	const char *detail; /* what exactly was wrong, e.g. the syntax error in an address */
};

/* log_open - start logging; call again after a reload with the new facility */
void log_open(const char *ident, int facility, bool to_stderr);
/* log_msg - a diagnostic line at priority prio (LOG_ERR, LOG_WARNING, LOG_INFO, ...) */
void log_msg(int prio, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
/* log_decision - one line for one decision */
void log_decision(const struct pm_decision *d);
/* log_format_decision - the same line into buf (for tests); returns buf */
char *log_format_decision(const struct pm_decision *d, char *buf, size_t bufsize);
/* log_facility_parse - "mail", "local0".."local7", "daemon", "user"; -1 unknown */
int log_facility_parse(const char *name);

#endif
