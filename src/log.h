/*
 * NAME
 *	log 3h - decision records and diagnostics
 * DESCRIPTION
 *	log_decision_line() writes one key=value line per decision
 *	(struct pm_decision, decision.h) to syslog (and stderr in
 *	foreground mode), led by the queue id, every value escaped
 *	(pm_escape) and quoted when it holds a space; log_decision()
 *	(decision.h) calls it for every decision. log_msg() is for
 *	everything else (start, stop, reload, warnings). Thread-safe. This
 *	module knows nothing of the JSON decision log.
 */
#ifndef PM_LOG_H
#define PM_LOG_H

#include <stdbool.h>
#include <stddef.h>
#include <syslog.h>

#include "decision.h"

/* log_open - start logging; call again after a reload with the new facility */
void log_open(const char *ident, int facility, bool to_stderr);
/* log_msg - a diagnostic line at priority prio (LOG_ERR, LOG_WARNING, LOG_INFO, ...) */
void log_msg(int prio, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
/* log_decision_line - the syslog line for one decision (log_decision calls it) */
void log_decision_line(const struct pm_decision *d);
/* log_format_decision - the same line into buf (for tests); returns buf */
char *log_format_decision(const struct pm_decision *d, char *buf, size_t bufsize);
/* log_facility_parse - "mail", "local0".."local7", "daemon", "user"; -1 unknown */
int log_facility_parse(const char *name);

#endif
