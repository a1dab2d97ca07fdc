/*
 * NAME
 *	aggregate 3h - the counts of the report
 * SYNOPSIS
 *	#include "aggregate.h"
 * DESCRIPTION
 *	struct report holds everything the outputs print. A decision is
 *	"applied" unless record_not_applied() (would, or dry run); a
 *	"refusal" is an applied reject or tempfail. See
 *	policy-milter-report(1) for what each table counts.
 */
#ifndef PMR_AGGREGATE_H
#define PMR_AGGREGATE_H

#include "record.h"
#include "tally.h"

enum { RATE_SPF, RATE_DKIM, RATE_DMARC, RATES };

/* Names of the pass rates, indexed by RATE_*. */
extern const char *const report_rate_names[RATES];

struct report {
	char **inputs; /* names as given ("-" is "stdin") */
	size_t ninputs;
	long long records;                 /* well-formed records read */
	long long matched;                 /* of those, the ones the filter kept */
	long long malformed;               /* lines that are not records */
	char *first_malformed;             /* "FILE:LINE" of the first, or NULL */
	long long first_ms, last_ms;       /* of the matched records */
	long long actions[REC_ACTIONS][2]; /* [action][0 applied, 1 not applied] */
	struct tally *replies;             /* "550 5.7.26": n[0] applied, n[1] not applied */
	struct tally *clients;             /* address: n[0] refusals */
	struct tally *networks;            /* /24 or /48: n[0] refusals */
	struct tally *failing;             /* check: sub = domain: n[0] decisions */
	long long pass[RATES], total[RATES];
	struct tally *hours;        /* "YYYY-MM-DDTHH:00:00Z": n[0] refusals */
	struct tally *would_hours;  /* "YYYY-MM-DDTHH:00:00Z": n[0] would-refusals */
	struct tally *unknown_rcpt; /* recipient: n[0] attempts */
	struct tally *would;        /* check ("-" for none): n[0] reject, n[1] tempfail */
	long long
	    gl_states[GL_STATES];  /* checks.greylist[] elements of matched records, by state */
	struct tally *triplets;    /* see report_add_state */
	struct tally *ratelimited; /* rule, key kind, value: n[0] refusals, t[0] first, t[1] last */
	long long state_skipped;   /* greylist/ratelimit elements left out, in every record read */
	char *first_state_skipped; /* "FILE:LINE: why" of the first, or NULL */
};

/* Greylisting's effect over the period, from report_greylisting(). */
struct gl_summary {
	long long first_seen;    /* distinct triplets with state new in the period */
	long long passed;        /* distinct triplets with state passed in the period */
	long long never_retried; /* first seen in the period, no later early/passed/known record */
	long long aged;          /* passed triplets whose age at pass is known */
	long long age_median;    /* seconds, nearest rank; -1 when aged is 0 */
	long long age_p90;       /* seconds, nearest rank; -1 when aged is 0 */
};

/* report_init - an empty report; release with report_free */
void report_init(struct report *rep);

/* report_add_input - remember an input's name for the output */
void report_add_input(struct report *rep, const char *name);

/* report_malformed - count a line that is not a record */
void report_malformed(struct report *rep, const char *file, unsigned long line);

/* report_add - count one record the filter kept */
void report_add(struct report *rep, const struct rec *r);

/*
 * report_add_state - count the greylist and rate-limit elements of one
 * record read (matched: the filter kept it). Only matched records count,
 * except that any record's early, passed or known element is a retry of
 * its triplet for "never retried". file and line name the record for
 * the first element left out.
 */
void report_add_state(struct report *rep, const struct rec *r, bool matched, const char *file,
                      unsigned long line);

/* report_greylisting - the summary of the triplets counted */
void report_greylisting(const struct report *rep, struct gl_summary *s);

/*
 * report_split_key - the three parts of a triplets or ratelimited key
 * (network, sender, recipient or rule, key kind, value) into a new
 * string *buf (the caller frees) that parts[] point into
 */
void report_split_key(const char *key, char **buf, const char *parts[3]);

/* report_free - release what report_init and report_add allocated */
void report_free(struct report *rep);

#endif
