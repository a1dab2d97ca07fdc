/*
 * NAME
 *	jsonlog 3h - the JSON lines decision log (schema version 1)
 * DESCRIPTION
 *	One JSON object per decision, one line each, appended to the file
 *	named by log.json_file: the facts of the syslog decision line
 *	(decision.h, struct pm_decision) with the keys of schema version 1
 *	(decision.h, pm_schema_keys; documented in policy-milter(8),
 *	LOGGING). Each record is built
 *	whole in memory by the deciding thread and queued; one writer
 *	thread writes the queue in order, each record with one write(2), so
 *	records never mix and a slow or stalled disk never holds up a
 *	session. A queue over JSONLOG_QUEUE_BYTES drops new records,
 *	counted; so are records lost to write errors, and each loss is told
 *	to the function set with jsonlog_on_loss() (sink.c reports them).
 *	Logs nothing itself. Thread-safe.
 */
#ifndef PM_JSONLOG_H
#define PM_JSONLOG_H

#include <stdbool.h>
#include <stddef.h>
#include <time.h>

#include "decision.h"
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
 * open; never waits for the disk. A record the writer fails to write,
 * and one dropped because the queue is full, are counted and told to
 * the loss function (jsonlog_on_loss).
 */
void jsonlog_write(const struct pm_decision *d);
/* jsonlog_flush - wait up to ms milliseconds for the queued records to be written; true if they
 * were */
bool jsonlog_flush(long ms);
/* What the JSON log lost: totals since start (jsonlog_counts, the loss function, at exit). */
struct jsonlog_counts {
	unsigned long lost;    /* records lost to write errors */
	unsigned long dropped; /* records dropped on a full queue */
	unsigned long left;    /* at exit: records still not written (else 0) */
	char path[512];        /* the log in question ("" when none) */
};
/* What a loss was. */
enum jsonlog_loss {
	JSONLOG_WRITE_FAILED, /* the writer could not write a record (err: its errno) */
	JSONLOG_QUEUE_FULL,   /* a record dropped: JSONLOG_QUEUE_BYTES were queued (err: 0) */
};
/*
 * jsonlog_loss_fn - told of one loss, with the totals after it and the
 * path of the log it concerns; called by the thread that counted it
 * (the writer, or the one in jsonlog_write), with no lock held
 */
typedef void jsonlog_loss_fn(enum jsonlog_loss what, int err, const struct jsonlog_counts *c);
/* jsonlog_on_loss - tell fn of every loss from now on (NULL: nobody) */
void jsonlog_on_loss(jsonlog_loss_fn *fn);
/* jsonlog_counts - the totals since start and the path of the log in use into *c */
void jsonlog_counts(struct jsonlog_counts *c);
/*
 * jsonlog_shutdown - at exit: queue no more records, wait up to ms for
 * the queue to be written, then put the totals since start and the
 * records still not written into *at_exit
 */
void jsonlog_shutdown(long ms, struct jsonlog_counts *at_exit);
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
