/*
 * NAME
 *	dmarcagg 3h - RFC 9990 DMARC aggregate reports from decision records
 * SYNOPSIS
 *	#include "dmarcagg.h"
 * DESCRIPTION
 *	An end-of-message record whose "checks"."dmarc" names a policy
 *	domain that published rua= (the log's "published" object: the policy
 *	as discovered then, never looked up again) counts in that domain's
 *	report. Records are grouped into rows as RFC 9990 2.1 says: one row
 *	per source address, policy_evaluated (disposition, aligned DKIM and
 *	SPF, override reason), identifiers (header_from, envelope_from,
 *	envelope_to) and auth_results (each DKIM d=, selector and result, at
 *	most 100 by the RFC's preference; the SPF domain, scope and result);
 *	its count is the number of messages. The new keys of "checks"."dmarc"
 *	are all optional: a record without them counts in no report.
 *	dmarcagg_write_xml() writes one report, version 2.0 namespace.
 */
#ifndef PMR_DMARCAGG_H
#define PMR_DMARCAGG_H

#include <stddef.h>
#include <stdio.h>

#include "record.h"

struct agg_row {
	char *source_ip;
	char *rest; /* the row's policy_evaluated, identifiers and auth_results, XML */
	long long count;
	struct agg_row *next; /* hash chain */
};

struct agg_domain {
	char *domain;    /* the policy domain, lower case */
	char *published; /* the <policy_published> element of the latest record, XML */
	char **rua;      /* its rua URIs, as the log recorded them */
	size_t nrua;
	struct agg_row **rows; /* in first-seen order */
	size_t nrows, rows_cap;
	struct agg_row *buckets[1024];
	long long messages;
};

struct agg {
	long long begin, end; /* the period, seconds, inclusive (RFC 9990 date_range) */
	struct agg_domain **domains;
	size_t ndomains;
	long long considered; /* eom records with a DMARC pass or fail in the period */
	long long no_rua;     /* of those, without a policy domain asking for reports */
};

/* dmarcagg_init - an empty collection for the period [begin, end] (seconds, UTC) */
void dmarcagg_init(struct agg *a, long long begin, long long end);

/* dmarcagg_add - count one decoded record (ignored unless eom, in the period, reportable) */
void dmarcagg_add(struct agg *a, const struct rec *r);

/* dmarcagg_free - release everything */
void dmarcagg_free(struct agg *a);

/* The report metadata (from the policy file's reports group). */
struct agg_meta {
	const char *org_name;
	const char *email;
	const char *extra_contact_info; /* NULL: none */
	const char *report_id;
	const char *error; /* NULL: none */
};

/* dmarcagg_write_xml - write d's report to fp; 0, or -1 on a write error */
int dmarcagg_write_xml(FILE *fp, const struct agg *a, const struct agg_domain *d,
                       const struct agg_meta *m);

/*
 * dmarcagg_report_id - the report's id, the same whenever the same period and
 * domain are reported by the same receiver (so a re-run is recognised): 16
 * hex digits (ALPHA / DIGIT, usable as the file name's unique-id) into out (17 bytes)
 */
void dmarcagg_report_id(const char *receiver, const char *domain, long long begin, long long end,
                        char out[17]);

/* xml_escape - s escaped for XML text; control characters become '?' (caller frees) */
char *xml_escape(const char *s);

#endif
