/*
 * NAME
 *	jsonlog 3h - the JSON lines decision log (schema version 1)
 * DESCRIPTION
 *	One JSON object per decision, one line each, appended to the file
 *	named by log.json_file: the facts of the syslog decision line
 *	(log.h, struct pm_decision) with the keys of schema version 1
 *	(documented in policy-milter(8), LOGGING). Each record is built
 *	whole in memory by the deciding thread and queued; one writer
 *	thread writes the queue in order, each record with one write(2), so
 *	records never mix and a slow or stalled disk never holds up a
 *	session. A queue over JSONLOG_QUEUE_BYTES drops new records,
 *	counted and reported. Thread-safe.
 */
#ifndef PM_JSONLOG_H
#define PM_JSONLOG_H

#include <stdbool.h>
#include <stddef.h>
#include <time.h>

#include "log.h"
#include "util.h"

/* Input bytes of one string value kept in a record; a longer one is cut and ends in "..." */
#define JSONLOG_STRING_MAX 2048
/* Record bytes queued for the writer at most; a record that would go over is dropped (counted) */
#define JSONLOG_QUEUE_BYTES (16 << 20)
/* How long jsonlog_shutdown waits for the writer at exit, in milliseconds */
#define JSONLOG_EXIT_WAIT_MS 5000

/*
 * jsonlog_open - append records to path from now on (opened O_APPEND,
 * created mode 0640); NULL or "" closes the log. Always opens anew, so
 * it serves as the reopen after log rotation. Returns 0, or -1 with the
 * reason in why (the log in use, if any, stays in use).
 */
int jsonlog_open(const char *path, char *why, size_t whysize);
/* jsonlog_path - the path of the log in use into buf ("" when none); returns buf */
char *jsonlog_path(char *buf, size_t bufsize);
/* jsonlog_close - stop writing records (the ones already queued are still written) */
void jsonlog_close(void);
/*
 * jsonlog_write - queue one record for d, stamped now, when a log is
 * open; never waits for the disk. Write errors (by the writer) and
 * records dropped because the queue is full are each reported to
 * syslog (log_msg) at most once a minute, with their counts; what is
 * left unreported is reported at the next jsonlog_open (a reload).
 */
void jsonlog_write(const struct pm_decision *d);
/* jsonlog_flush - wait up to ms milliseconds for the queued records to be written; true if they
 * were */
bool jsonlog_flush(long ms);
/*
 * jsonlog_shutdown - at exit: queue no more records, wait up to ms for
 * the queue to be written, then report (LOG_ERR) the records lost to
 * write errors, dropped and still not written since start, if any
 */
void jsonlog_shutdown(long ms);
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
