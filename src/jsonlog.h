/*
 * NAME
 *	jsonlog 3h - the JSON lines decision log (schema version 1)
 * DESCRIPTION
 *	One JSON object per decision, one line each, appended to the file
 *	named by log.json_file: the facts of the syslog decision line
 *	(log.h, struct pm_decision) with the keys of schema version 1
 *	(documented in policy-milter(8), LOGGING). Each record is built
 *	whole in memory and written with one write(2) under a mutex, so
 *	records never mix and a record is never left half-written by a
 *	crash after its write began in memory. Thread-safe.
 */
#ifndef PM_JSONLOG_H
#define PM_JSONLOG_H

#include <stddef.h>
#include <time.h>

#include "log.h"
#include "util.h"

/* Input bytes of one string value kept in a record; a longer one is cut and ends in "..." */
#define JSONLOG_STRING_MAX 2048

/*
 * jsonlog_open - append records to path from now on (opened O_APPEND,
 * created mode 0640); NULL or "" closes the log. Always opens anew, so
 * it serves as the reopen after log rotation. Returns 0, or -1 with the
 * reason in why (the log in use, if any, stays in use).
 */
int jsonlog_open(const char *path, char *why, size_t whysize);
/* jsonlog_path - the path of the log in use into buf ("" when none); returns buf */
char *jsonlog_path(char *buf, size_t bufsize);
/* jsonlog_close - stop writing records */
void jsonlog_close(void);
/*
 * jsonlog_write - one record for d, stamped now, when a log is open.
 * A write error goes to syslog (log_msg) at most once a minute.
 */
void jsonlog_write(const struct pm_decision *d);
/* jsonlog_format - the record for d at time when, ending in "\n"; the caller frees */
char *jsonlog_format(const struct pm_decision *d, const struct timespec *when);
/*
 * jsonlog_append_string - the n bytes at s as a JSON string (NULL: null):
 * valid UTF-8 kept but for control characters (C0, DEL, C1: \u00XX) and
 * U+2028/U+2029 (\u2028, \u2029); '"' and '\' escaped; every byte that is
 * not part of well-formed UTF-8 written \u00XX. Cut after
 * JSONLOG_STRING_MAX bytes (at a character boundary), then "...".
 */
void jsonlog_append_string(struct strbuf *sb, const char *s, size_t n);

#endif
