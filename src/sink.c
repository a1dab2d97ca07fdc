/*
 * NAME
 *	sink 3 - a decision to every sink; the JSON log's losses reported
 * SYNOPSIS
 *	#include "decision.h"
 *
 *	void log_decision(const struct pm_decision *d);
 *	int decision_json_open(const char *path, char *why, size_t whysize);
 *	void decision_json_shutdown(long ms);
 * DESCRIPTION
 *	log_decision() writes the syslog line (log_decision_line, log.c)
 *	and queues the JSON record (jsonlog_write, jsonlog.c). The two sinks
 *	know nothing of each other; this layer is the only one that calls
 *	both.
 *
 *	decision_json_open() installs the loss reporter (jsonlog_on_loss)
 *	and opens the JSON log with jsonlog_open(). The reporter says, with
 *	log_msg(LOG_ERR), that records were lost to write errors or dropped
 *	on a full queue, each kind at most once every REPORT_INTERVAL
 *	seconds, with the number since its last report. A reopen (a reload)
 *	first reports what is left unreported; decision_json_shutdown()
 *	reports the totals since start and the records not written at exit.
 * DIAGNOSTICS
 *	The reports above; log_decision() never fails the caller.
 */
#include <pthread.h>
#include <string.h>
#include <time.h>

#include "decision.h"
#include "jsonlog.h"
#include "log.h"

#define REPORT_INTERVAL 60 /* seconds between two reports of write errors, or of drops */

/* The reports made so far, of one kind of loss. */
struct report_state {
	unsigned long upto; /* the total the last report covered */
	struct timespec at; /* CLOCK_MONOTONIC of the last report */
	bool made;          /* a report was ever made */
};

static pthread_mutex_t sink_lock = PTHREAD_MUTEX_INITIALIZER;
static struct report_state rep_lost, rep_dropped; /* under sink_lock */

/* log_decision - the syslog line, and the JSON record when that log is open */
void log_decision(const struct pm_decision *d)
{
	if (d == NULL)
		return;
	log_decision_line(d);
	jsonlog_write(d);
}

/* take - the records of total not yet reported in *r (0 when none), now covered by a report */
static unsigned long take(struct report_state *r, unsigned long total, const struct timespec *now)
{
	unsigned long n;

	if (total <= r->upto)
		return 0; /* an older count than the last report's */
	n = total - r->upto;
	r->upto = total;
	r->at = *now;
	r->made = true;
	return n;
}

/* due - no report of this kind made yet, or the last one REPORT_INTERVAL ago */
static bool due(const struct report_state *r, const struct timespec *now)
{
	return !r->made || now->tv_sec - r->at.tv_sec >= REPORT_INTERVAL;
}

/* on_loss - the loss reporter: at most one report of each kind a minute */
static void on_loss(enum jsonlog_loss what, int err, const struct jsonlog_counts *c)
{
	struct report_state *r = what == JSONLOG_WRITE_FAILED ? &rep_lost : &rep_dropped;
	unsigned long n = 0;
	struct timespec now;

	clock_gettime(CLOCK_MONOTONIC, &now);
	pthread_mutex_lock(&sink_lock);
	if (due(r, &now))
		n = take(r, what == JSONLOG_WRITE_FAILED ? c->lost : c->dropped, &now);
	pthread_mutex_unlock(&sink_lock);
	if (n == 0)
		return;
	if (what == JSONLOG_WRITE_FAILED)
		log_msg(LOG_ERR,
		        "cannot write the JSON decision log %s: %s (%lu record(s) lost since the "
		        "last report; the next report comes in a minute at the earliest)",
		        c->path, strerror(err), n);
	else
		log_msg(LOG_ERR,
		        "the JSON decision log %s falls behind (%d MiB queued): %lu record(s) "
		        "dropped since the last report; the next report comes in a minute at "
		        "the earliest",
		        c->path, JSONLOG_QUEUE_BYTES >> 20, n);
}

/* report_pending - say what was lost or dropped since the last reports (at a reopen) */
static void report_pending(void)
{
	struct jsonlog_counts c;
	unsigned long lost, dropped;
	struct timespec now;

	clock_gettime(CLOCK_MONOTONIC, &now);
	jsonlog_counts(&c);
	pthread_mutex_lock(&sink_lock);
	lost = take(&rep_lost, c.lost, &now);
	dropped = take(&rep_dropped, c.dropped, &now);
	pthread_mutex_unlock(&sink_lock);
	if (lost > 0 || dropped > 0)
		log_msg(LOG_ERR,
		        "JSON decision log%s%s: %lu record(s) lost to write errors and %lu dropped "
		        "(queue full) since the last report",
		        c.path[0] != '\0' ? " " : "", c.path, lost, dropped);
}

/* decision_json_open - report what the log in use lost, then open path (NULL or "": close) */
int decision_json_open(const char *path, char *why, size_t whysize)
{
	jsonlog_on_loss(on_loss);
	report_pending();
	return jsonlog_open(path, why, whysize);
}

/* decision_json_shutdown - at exit: write the queue (up to ms), report the totals of losses */
void decision_json_shutdown(long ms)
{
	struct jsonlog_counts c;

	jsonlog_shutdown(ms, &c);
	if (c.lost > 0 || c.dropped > 0 || c.left > 0)
		log_msg(LOG_ERR,
		        "JSON decision log %s at exit: %lu record(s) lost to write errors, %lu "
		        "dropped (queue full), %lu not written in the %ld ms allowed at exit",
		        c.path, c.lost, c.dropped, c.left, ms);
}
