/*
 * NAME
 *	metrics 3h - the daemon's counters, gauges and histograms, rendered
 *	in the Prometheus text exposition format 0.0.4
 * SYNOPSIS
 *	#include "metrics.h"
 * DESCRIPTION
 *	Counting never waits: every counter is an atomic (relaxed order),
 *	and a labelled family is a fixed table of slots keyed by the
 *	indices of its label values, a new label set claimed with one
 *	compare-and-swap. Label values are interned once in a fixed table
 *	of strings (copied, never freed). The callers pass only values of
 *	fixed enumerations (stage, action, check, DNS type and outcome,
 *	DKIM and DMARC results, store backends) or the reply codes of the
 *	policy file: never a client's string (domain, address, HELO). A
 *	label set that finds its family's table (or the interned values)
 *	full is counted in policy_milter_metrics_overflow_total{family}
 *	instead.
 *
 *	metrics_render() takes its own snapshot (reads the atomics, sorts
 *	the label sets) and never blocks a counting thread.
 * DIAGNOSTICS
 *	None: counting cannot fail; metrics_render returns NULL only when
 *	given no len (allocation failure aborts, xmalloc).
 */
#ifndef PM_METRICS_H
#define PM_METRICS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* Slots of one labelled family's table; label sets beyond go to the overflow counter. */
#define METRICS_TABLE_SLOTS 512
/* Distinct label values (all families together) that can be interned. */
#define METRICS_MAX_VALUES 255
/* The longest label value kept (longer ones are cut). */
#define METRICS_VALUE_MAX 48

/* metrics_init - the start time (now) and the version of policy_milter_build_info */
void metrics_init(const char *version);

/*
 * metrics_decision - one decision record as the decision log writes it
 * (session_log): stage ("connect" ... "eom"), action ("accept",
 * "reject", ...), check (NULL: none), reply ("550 5.7.23 text", its
 * basic and enhanced codes are the labels; NULL: no reply), would (log
 * or tag mode, or dry run: not applied). All strings but reply must be
 * of fixed enumerations (static).
 */
void metrics_decision(const char *stage, const char *action, const char *check, const char *reply,
                      bool would);

/* metrics_session_open - a session made (session_new): the open gauge goes up */
void metrics_session_open(void);
/* metrics_session_close - a session freed (session_free): the open gauge goes down */
void metrics_session_close(void);
/* metrics_session_connect - an SMTP connection began (the connect stage): sessions_total */
void metrics_session_connect(void);
/* metrics_internal_error - a verdict on the milter.on_internal_error path */
void metrics_internal_error(void);

/*
 * metrics_dns_query - one lookup a check asked of the DNS layer: type
 * (ns_t_a, ...; an unknown one counts as "other"), outcome ("noerror",
 * "nxdomain", "nodata", or why it failed for now: dns_fail_name's names)
 */
void metrics_dns_query(int type, const char *outcome);
/* metrics_dns_cache - the shared cache had the answer (hit) or not */
void metrics_dns_cache(bool hit);
/* metrics_dns_latency - the time one query to the resolver took, in microseconds */
void metrics_dns_latency(long usec);

/*
 * metrics_dkim_signature - one DKIM signature verified at end of message:
 * result (RFC 8601 name), algorithm (a=; anything but the three known
 * ones counts as "other")
 */
void metrics_dkim_signature(const char *result, const char *algorithm);
/* metrics_dmarc_result - one DMARC evaluation: result, and the policy (p=) or "" */
void metrics_dmarc_result(const char *result, const char *policy);
/* metrics_store_op - one state store operation: backend, op ("get", "set", "add"), ok or not */
void metrics_store_op(const char *backend, const char *op, bool ok);

/* metrics_policy_loaded - generation in use (at start and after a good reload) */
void metrics_policy_loaded(unsigned generation);
/* metrics_reload - a reload ended: ok (the new generation installed) or failed */
void metrics_reload(bool ok);

/*
 * metrics_render - every family in the text exposition format 0.0.4 (a
 * malloc'd string the caller frees, its length in *len); fits
 * metrics_render_fn of metrics_http.h
 */
char *metrics_render(size_t *len);

/* metrics_reset - every count back to zero, interned values forgotten (tests only) */
void metrics_reset(void);

#endif
