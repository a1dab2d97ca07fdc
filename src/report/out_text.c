/*
 * NAME
 *	out_text 3 - the report as aligned text
 * SYNOPSIS
 *	#include "output.h"
 *
 *	void output_text(FILE *fp, const struct report *rep, size_t top);
 *	char *output_escape(const char *s);
 *	size_t output_limit(size_t n, size_t top);
 * DESCRIPTION
 *	A header (inputs, record counts, period, malformed lines), then one
 *	titled table per section, columns two spaces apart, text columns
 *	left-aligned and numbers right-aligned, widths counted in code
 *	points. An empty table prints "(none)". Strings from the log go
 *	through output_escape().
 * DIAGNOSTICS
 *	None; the caller checks the stream.
 */
#include <stdlib.h>
#include <string.h>

#include "../util.h"
#include "output.h"
#include "timefmt.h"

#define MAXCOLS 6

/* A table being built: a heading row, then rows of owned cells. */
struct table {
	int ncols;
	const char *head[MAXCOLS];
	bool right[MAXCOLS]; /* numbers */
	char **cell;         /* nrows * ncols */
	size_t nrows;
};

/* output_limit - min(n, top), top 0 meaning all */
size_t output_limit(size_t n, size_t top)
{
	return top != 0 && top < n ? top : n;
}

/* output_escape - keep UTF-8, write controls and backslash as \xHH */
char *output_escape(const char *s)
{
	const unsigned char *p = (const unsigned char *)s;
	struct strbuf sb;

	sb_init(&sb);
	for (; *p; p++) {
		/* C1 controls are U+0080..U+009F: 0xC2 0x80..0x9F in UTF-8 */
		if (p[0] == 0xc2 && p[1] >= 0x80 && p[1] <= 0x9f) {
			sb_appendf(&sb, "\\xc2\\x%02x", p[1]);
			p++;
		} else if (*p < 0x20 || *p == 0x7f || *p == '\\') {
			sb_appendf(&sb, "\\x%02x", *p);
		} else {
			sb_appendc(&sb, (char)*p);
		}
	}
	return sb_steal(&sb);
}

/* width - display width of UTF-8 text, one column per code point */
static size_t width(const char *s)
{
	size_t w = 0;

	for (; *s; s++)
		w += ((unsigned char)*s & 0xc0) != 0x80;
	return w;
}

/* table_start - a table with the given headings; right[i] for number columns */
static void table_start(struct table *t, int ncols, const char *const *head, const bool *right)
{
	memset(t, 0, sizeof(*t));
	t->ncols = ncols;
	for (int i = 0; i < ncols; i++) {
		t->head[i] = head[i];
		t->right[i] = right[i];
	}
}

/* table_row - append a row of ncols strings (escaped and copied) */
static void table_row(struct table *t, const char *const *cells)
{
	t->cell = xrealloc(t->cell, (t->nrows + 1) * (size_t)t->ncols * sizeof(*t->cell));
	for (int i = 0; i < t->ncols; i++)
		t->cell[t->nrows * (size_t)t->ncols + (size_t)i] = output_escape(cells[i]);
	t->nrows++;
}

/* print_cells - one aligned line */
static void print_cells(FILE *fp, const struct table *t, const char *const *cells, const size_t *w)
{
	struct strbuf line;

	sb_init(&line);
	sb_append(&line, " ");
	for (int i = 0; i < t->ncols; i++) {
		size_t pad = w[i] - width(cells[i]);

		sb_append(&line, " ");
		if (t->right[i])
			for (size_t k = 0; k < pad; k++)
				sb_appendc(&line, ' ');
		sb_append(&line, cells[i]);
		if (!t->right[i])
			for (size_t k = 0; k < pad; k++)
				sb_appendc(&line, ' ');
		sb_append(&line, " ");
	}
	while (line.len > 0 && line.s[line.len - 1] == ' ')
		line.s[--line.len] = '\0';
	fprintf(fp, "%s\n", line.s);
	sb_free(&line);
}

/* table_print - title, headings and rows; then frees the table */
static void table_print(FILE *fp, const char *title, struct table *t)
{
	size_t w[MAXCOLS];

	fprintf(fp, "\n%s\n", title);
	if (t->nrows == 0) {
		fprintf(fp, "  (none)\n");
	} else {
		for (int i = 0; i < t->ncols; i++) {
			w[i] = width(t->head[i]);
			for (size_t r = 0; r < t->nrows; r++) {
				size_t cw = width(t->cell[r * (size_t)t->ncols + (size_t)i]);

				if (cw > w[i])
					w[i] = cw;
			}
		}
		print_cells(fp, t, t->head, w);
		for (size_t r = 0; r < t->nrows; r++)
			print_cells(fp, t, (const char *const *)t->cell + r * (size_t)t->ncols, w);
	}
	for (size_t i = 0; i < t->nrows * (size_t)t->ncols; i++)
		free(t->cell[i]);
	free(t->cell);
}

/* report_num - a count as text in one of a few rotating static buffers (output.h) */
const char *report_num(long long n)
{
	static char buf[8][24];
	static int k;

	k = (k + 1) % 8;
	snprintf(buf[k], sizeof(buf[k]), "%lld", n);
	return buf[k];
}

/* header - inputs, counts, period, malformed lines */
static void header(FILE *fp, const struct report *rep)
{
	char a[TIMEFMT_LEN], b[TIMEFMT_LEN];

	fprintf(fp, "policy-milter decision report\n");
	fprintf(fp, "inputs:   ");
	for (size_t i = 0; i < rep->ninputs; i++) {
		char *e = output_escape(rep->inputs[i]);

		fprintf(fp, " %s", e);
		free(e);
	}
	fprintf(fp, "\nrecords:   %lld read, %lld matched\n", rep->records, rep->matched);
	if (rep->matched > 0)
		fprintf(fp, "period:    %s to %s\n", timefmt_format(rep->first_ms, a),
		        timefmt_format(rep->last_ms, b));
	else
		fprintf(fp, "period:    -\n");
	if (rep->malformed > 0) {
		char *e = output_escape(rep->first_malformed);

		fprintf(fp, "skipped %lld malformed line%s (first at %s)\n", rep->malformed,
		        rep->malformed == 1 ? "" : "s", e);
		free(e);
	}
	if (rep->state_skipped > 0) {
		char *e = output_escape(rep->first_state_skipped);

		fprintf(fp, "skipped %lld greylist/ratelimit element%s (first at %s)\n",
		        rep->state_skipped, rep->state_skipped == 1 ? "" : "s", e);
		free(e);
	}
}

/* actions_and_replies - the two tables of totals */
static void actions_and_replies(FILE *fp, const struct report *rep)
{
	static const bool rnum[] = {false, true, true};
	const char *head[] = {"action", "applied", "would"};
	long long tot[2] = {0, 0};
	struct tally_entry **v;
	struct table t;
	size_t n;

	table_start(&t, 3, head, rnum);
	for (int a = 0; a < REC_ACTIONS; a++) {
		const char *row[] = {rec_action_names[a], report_num(rep->actions[a][0]),
		                     report_num(rep->actions[a][1])};

		table_row(&t, row);
		tot[0] += rep->actions[a][0];
		tot[1] += rep->actions[a][1];
	}
	table_row(&t, (const char *[]){"total", report_num(tot[0]), report_num(tot[1])});
	table_print(fp, "Decisions by action", &t);

	head[0] = "reply";
	table_start(&t, 3, head, rnum);
	v = tally_sorted(rep->replies, TALLY_BY_KEY, &n);
	for (size_t i = 0; i < n; i++)
		table_row(&t, (const char *[]){v[i]->key, report_num(v[i]->n[0]),
		                               report_num(v[i]->n[1])});
	free(v);
	table_print(fp, "Decisions by reply code", &t);
}

/* top_list - a two-column top list of a tally by count */
static void top_list(FILE *fp, const char *title, const char *keyhead, const char *numhead,
                     const struct tally *tal, size_t top)
{
	static const bool rnum[] = {false, true};
	const char *head[] = {keyhead, numhead};
	struct tally_entry **v;
	struct table t;
	size_t n;

	table_start(&t, 2, head, rnum);
	v = tally_sorted(tal, TALLY_BY_COUNT, &n);
	for (size_t i = 0; i < output_limit(n, top); i++)
		table_row(&t, (const char *[]){v[i]->key, report_num(v[i]->n[0])});
	free(v);
	table_print(fp, title, &t);
}

/* failing - sender domains under each failing check */
static void failing(FILE *fp, const struct report *rep, size_t top)
{
	static const bool rnum[] = {false, false, true};
	static const char *const head[] = {"check", "domain", "decisions"};
	struct tally_entry **checks, **doms;
	struct table t;
	size_t nc, nd;

	table_start(&t, 3, head, rnum);
	checks = tally_sorted(rep->failing, TALLY_BY_KEY, &nc);
	for (size_t c = 0; c < nc; c++) {
		doms = tally_sorted(checks[c]->sub, TALLY_BY_COUNT, &nd);
		for (size_t i = 0; i < output_limit(nd, top); i++)
			table_row(&t, (const char *[]){checks[c]->key, doms[i]->key,
			                               report_num(doms[i]->n[0])});
		free(doms);
	}
	free(checks);
	table_print(fp, "Top sender domains by failing check", &t);
}

/* rates - SPF, DKIM and DMARC pass rates */
static void rates(FILE *fp, const struct report *rep)
{
	static const bool rnum[] = {false, true, true, true};
	static const char *const head[] = {"check", "pass", "total", "rate"};
	struct table t;
	char pct[16];

	table_start(&t, 4, head, rnum);
	for (int i = 0; i < RATES; i++) {
		table_row(&t, (const char *[]){
		                  report_rate_names[i], report_num(rep->pass[i]),
		                  report_num(rep->total[i]),
		                  report_pct(rep->pass[i], rep->total[i], pct, sizeof(pct))});
	}
	table_print(fp, "Pass rates at end of message", &t);
}

/* hours - refusals per hour, oldest first */
static void hours(FILE *fp, const struct report *rep)
{
	static const bool rnum[] = {false, true};
	static const char *const head[] = {"hour", "refusals"};
	struct tally_entry **v;
	struct table t;
	size_t n;

	table_start(&t, 2, head, rnum);
	v = tally_sorted(rep->hours, TALLY_BY_KEY, &n);
	for (size_t i = 0; i < n; i++)
		table_row(&t, (const char *[]){v[i]->key, report_num(v[i]->n[0])});
	free(v);
	table_print(fp, "Refusals per hour (UTC)", &t);
}

/* would - the decisions that would have refused, by check */
static void would(FILE *fp, const struct report *rep)
{
	static const bool rnum[] = {false, true, true};
	static const char *const head[] = {"check", "reject", "tempfail"};
	struct tally_entry **v;
	long long tot[2] = {0, 0};
	struct table t;
	size_t n;

	table_start(&t, 3, head, rnum);
	v = tally_sorted(rep->would, TALLY_BY_COUNT, &n);
	for (size_t i = 0; i < n; i++) {
		table_row(&t, (const char *[]){v[i]->key, report_num(v[i]->n[0]),
		                               report_num(v[i]->n[1])});
		tot[0] += v[i]->n[0];
		tot[1] += v[i]->n[1];
	}
	if (n > 0)
		table_row(&t, (const char *[]){"total", report_num(tot[0]), report_num(tot[1])});
	free(v);
	table_print(fp, "Would have refused (log or tag mode, dry run)", &t);
}

/* report_seconds - a number of seconds, or "-" when not known (negative) (output.h) */
const char *report_seconds(long long n)
{
	return n < 0 ? "-" : report_num(n);
}

/* report_pct - a pass rate: "88.9%", or "-" when total is 0 (output.h) */
const char *report_pct(long long pass, long long total, char *buf, size_t size)
{
	if (total == 0)
		snprintf(buf, size, "-");
	else
		snprintf(buf, size, "%.1f%%", 100.0 * (double)pass / (double)total);
	return buf;
}

/* greylisting - its effect over the period, then the elements by state */
static void greylisting(FILE *fp, const struct report *rep)
{
	static const bool rnum[] = {false, true};
	static const char *const head[] = {"measure", "count"};
	struct gl_summary s;
	struct table t;

	report_greylisting(rep, &s);
	table_start(&t, 2, head, rnum);
	table_row(&t, (const char *[]){"triplets first seen", report_num(s.first_seen)});
	table_row(&t, (const char *[]){"passed after retry", report_num(s.passed)});
	table_row(&t, (const char *[]){"  age at pass, median (s)", report_seconds(s.age_median)});
	table_row(
	    &t, (const char *[]){"  age at pass, 90th percentile (s)", report_seconds(s.age_p90)});
	table_row(&t, (const char *[]){"never retried", report_num(s.never_retried)});
	table_row(&t, (const char *[]){"early retries", report_num(rep->gl_states[GL_EARLY])});
	table_row(&t,
	          (const char *[]){"known (passed before)", report_num(rep->gl_states[GL_KNOWN])});
	table_row(&t, (const char *[]){"auto-allowed", report_num(rep->gl_states[GL_AUTO])});
	table_row(&t, (const char *[]){"skipped (exempt)", report_num(rep->gl_states[GL_SKIPPED])});
	table_row(&t, (const char *[]){"store errors", report_num(rep->gl_states[GL_ERROR])});
	table_print(fp, "Greylisting", &t);
}

/* ratelimited - the keys refused most by a rate limit */
static void ratelimited(FILE *fp, const struct report *rep, size_t top)
{
	static const bool rnum[] = {false, false, false, true, false, false};
	static const char *const head[] = {"rule", "key", "value", "refusals", "first", "last"};
	char a[TIMEFMT_LEN], b[TIMEFMT_LEN];
	struct tally_entry **v;
	const char *part[3];
	struct table t;
	char *buf;
	size_t n;

	table_start(&t, 6, head, rnum);
	v = tally_sorted(rep->ratelimited, TALLY_BY_COUNT, &n);
	for (size_t i = 0; i < output_limit(n, top); i++) {
		report_split_key(v[i]->key, &buf, part);
		table_row(&t, (const char *[]){part[0], part[1], part[2], report_num(v[i]->n[0]),
		                               timefmt_format(v[i]->t[0], a),
		                               timefmt_format(v[i]->t[1], b)});
		free(buf);
	}
	free(v);
	table_print(fp, "Top rate-limited keys", &t);
}

/* output_text - the whole report */
void output_text(FILE *fp, const struct report *rep, size_t top)
{
	header(fp, rep);
	actions_and_replies(fp, rep);
	top_list(fp, "Top client addresses by refusals", "client", "refusals", rep->clients, top);
	top_list(fp, "Top networks by refusals", "network", "refusals", rep->networks, top);
	failing(fp, rep, top);
	rates(fp, rep);
	hours(fp, rep);
	top_list(fp, "Top recipients targeted with unknown addresses", "recipient", "attempts",
	         rep->unknown_rcpt, top);
	would(fp, rep);
	greylisting(fp, rep);
	ratelimited(fp, rep, top);
}
