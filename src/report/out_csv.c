/*
 * NAME
 *	out_csv 3 - the report as CSV rows
 * SYNOPSIS
 *	#include "output.h"
 *
 *	void output_csv(FILE *fp, const struct report *rep, size_t top);
 * DESCRIPTION
 *	RFC 4180 fields: a header row "section,key,metric,value", then one
 *	row per number, lines ended by LF as Unix tools expect. A field
 *	holding a comma, a double quote or a space at either end is
 *	quoted, quotes doubled; strings from the log go through
 *	output_escape() first, so no field holds a line break.
 * DIAGNOSTICS
 *	None; the caller checks the stream.
 */
#include <stdlib.h>
#include <string.h>

#include "../util.h"
#include "output.h"
#include "timefmt.h"

/* field - write one field, escaped and quoted as needed */
static void field(FILE *fp, const char *s)
{
	char *e = output_escape(s);
	size_t n = strlen(e);

	if (strpbrk(e, ",\"") != NULL || (n > 0 && (e[0] == ' ' || e[n - 1] == ' '))) {
		fputc('"', fp);
		for (const char *p = e; *p; p++) {
			if (*p == '"')
				fputc('"', fp);
			fputc(*p, fp);
		}
		fputc('"', fp);
	} else {
		fputs(e, fp);
	}
	free(e);
}

/* row - section,key,metric,value */
static void row(FILE *fp, const char *section, const char *key, const char *metric,
                const char *value)
{
	field(fp, section);
	fputc(',', fp);
	field(fp, key);
	fputc(',', fp);
	field(fp, metric);
	fputc(',', fp);
	field(fp, value);
	fputc('\n', fp);
}

/* nrow - a row whose value is a count */
static void nrow(FILE *fp, const char *section, const char *key, const char *metric, long long n)
{
	char buf[24];

	snprintf(buf, sizeof(buf), "%lld", n);
	row(fp, section, key, metric, buf);
}

/* rows - one row per entry (n[0]), sorted, at most top */
static void rows(FILE *fp, const char *section, const struct tally *t, enum tally_order order,
                 size_t top, const char *metric)
{
	struct tally_entry **v;
	size_t n;

	v = tally_sorted(t, order, &n);
	for (size_t i = 0; i < output_limit(n, top); i++)
		nrow(fp, section, v[i]->key, metric, v[i]->n[0]);
	free(v);
}

/* tables - everything after the header and the totals */
static void tables(FILE *fp, const struct report *rep, size_t top)
{
	struct tally_entry **v, **d;
	size_t n, nd;
	char buf[32];

	rows(fp, "client", rep->clients, TALLY_BY_COUNT, top, "refusals");
	rows(fp, "network", rep->networks, TALLY_BY_COUNT, top, "refusals");
	v = tally_sorted(rep->failing, TALLY_BY_KEY, &n);
	for (size_t i = 0; i < n; i++) {
		d = tally_sorted(v[i]->sub, TALLY_BY_COUNT, &nd);
		for (size_t k = 0; k < output_limit(nd, top); k++)
			nrow(fp, "failing_check", d[k]->key, v[i]->key, d[k]->n[0]);
		free(d);
	}
	free(v);
	for (int i = 0; i < RATES; i++) {
		nrow(fp, "pass_rate", report_rate_names[i], "pass", rep->pass[i]);
		nrow(fp, "pass_rate", report_rate_names[i], "total", rep->total[i]);
		buf[0] = '\0';
		if (rep->total[i] != 0)
			snprintf(buf, sizeof(buf), "%.4g",
			         (double)rep->pass[i] / (double)rep->total[i]);
		row(fp, "pass_rate", report_rate_names[i], "rate", buf);
	}
	rows(fp, "hour", rep->hours, TALLY_BY_KEY, 0, "refusals");
	rows(fp, "unknown_recipient", rep->unknown_rcpt, TALLY_BY_COUNT, top, "attempts");
	v = tally_sorted(rep->would, TALLY_BY_COUNT, &n);
	for (size_t i = 0; i < n; i++) {
		nrow(fp, "would_refuse", v[i]->key, "reject", v[i]->n[0]);
		nrow(fp, "would_refuse", v[i]->key, "tempfail", v[i]->n[1]);
	}
	free(v);
}

/* state_rows - greylisting's effect, the rate-limited keys, the elements left out */
static void state_rows(FILE *fp, const struct report *rep, size_t top)
{
	char a[TIMEFMT_LEN], buf[24];
	struct tally_entry **v;
	const char *part[3];
	struct gl_summary s;
	struct strbuf key;
	char *parts;
	size_t n;

	report_greylisting(rep, &s);
	nrow(fp, "greylisting", "first_seen", "count", s.first_seen);
	nrow(fp, "greylisting", "passed", "count", s.passed);
	buf[0] = '\0';
	if (s.age_median >= 0)
		snprintf(buf, sizeof(buf), "%lld", s.age_median);
	row(fp, "greylisting", "pass_age_median", "seconds", buf);
	buf[0] = '\0';
	if (s.age_p90 >= 0)
		snprintf(buf, sizeof(buf), "%lld", s.age_p90);
	row(fp, "greylisting", "pass_age_p90", "seconds", buf);
	nrow(fp, "greylisting", "never_retried", "count", s.never_retried);
	for (int i = 0; i < GL_STATES; i++)
		nrow(fp, "greylist_state", rec_gl_state_names[i], "count", rep->gl_states[i]);
	v = tally_sorted(rep->ratelimited, TALLY_BY_COUNT, &n);
	for (size_t i = 0; i < output_limit(n, top); i++) {
		report_split_key(v[i]->key, &parts, part);
		sb_init(&key);
		sb_appendf(&key, "%s:%s:%s", part[0], part[1], part[2]);
		nrow(fp, "ratelimited", key.s, "refusals", v[i]->n[0]);
		row(fp, "ratelimited", key.s, "first", timefmt_format(v[i]->t[0], a));
		row(fp, "ratelimited", key.s, "last", timefmt_format(v[i]->t[1], a));
		sb_free(&key);
		free(parts);
	}
	free(v);
	nrow(fp, "state_elements", "skipped", "count", rep->state_skipped);
	if (rep->first_state_skipped != NULL)
		row(fp, "state_elements", "first", "location", rep->first_state_skipped);
}

/* output_csv - the whole report */
void output_csv(FILE *fp, const struct report *rep, size_t top)
{
	char a[TIMEFMT_LEN], b[TIMEFMT_LEN];
	struct tally_entry **v;
	size_t n;

	fputs("section,key,metric,value\n", fp);
	for (size_t i = 0; i < rep->ninputs; i++)
		nrow(fp, "input", rep->inputs[i], "position", (long long)i + 1);
	nrow(fp, "records", "read", "count", rep->records);
	nrow(fp, "records", "matched", "count", rep->matched);
	nrow(fp, "malformed", "lines", "count", rep->malformed);
	if (rep->first_malformed != NULL)
		row(fp, "malformed", "first", "location", rep->first_malformed);
	if (rep->matched > 0) {
		row(fp, "period", "first", "time", timefmt_format(rep->first_ms, a));
		row(fp, "period", "last", "time", timefmt_format(rep->last_ms, b));
	}
	for (int i = 0; i < REC_ACTIONS; i++) {
		nrow(fp, "action", rec_action_names[i], "applied", rep->actions[i][0]);
		nrow(fp, "action", rec_action_names[i], "would", rep->actions[i][1]);
	}
	v = tally_sorted(rep->replies, TALLY_BY_KEY, &n);
	for (size_t i = 0; i < n; i++) {
		nrow(fp, "reply", v[i]->key, "applied", v[i]->n[0]);
		nrow(fp, "reply", v[i]->key, "would", v[i]->n[1]);
	}
	free(v);
	tables(fp, rep, top);
	state_rows(fp, rep, top);
}
