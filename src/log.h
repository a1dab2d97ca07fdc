/*
 * NAME
 *	log 3h - decision records and diagnostics
 * DESCRIPTION
 *	log_decision() writes one key=value line per decision to syslog
 *	(and stderr in foreground mode), led by the queue id, every value
 *	escaped (pm_escape) and quoted when it holds a space. log_msg() is
 *	for everything else (start, stop, reload, warnings).
 *	Thread-safe.
 */
#ifndef PM_LOG_H
#define PM_LOG_H

#include <stdbool.h>
#include <stddef.h>
#include <syslog.h>

/* A decision; NULL fields are left out of the line. */
struct pm_decision {
	const char *queue_id; /* "NOQUEUE" when the MTA gave none */
	const char *stage;    /* "connect", "helo", "mail", "rcpt", "eom" */
	const char *client_addr;
	const char *client_name;
	const char *helo;
	const char *sender; /* "<>" for the null sender */
	const char *rcpt;   /* this recipient (rcpt stage) or all, comma-separated (eom) */
	const char *helo_spf, *helo_spf_domain;
	const char *spf, *spf_domain;
	const char *header_from; /* the author domain judged by DMARC */
	const char *dkim; /* "pass:d.test/sel,fail:e.test/s2" (one per signature) or "none" */
	const char *dmarc, *dmarc_policy, *dmarc_dis; /* result, p= applied, disposition */
	const char *action; /* "accept", "reject", "tempfail", "continue" */
	bool would;         /* log/tag mode: what it would have done */
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
