/*
 * NAME
 *	out_html 3 - the report as one self-contained HTML page
 * SYNOPSIS
 *	#include "output.h"
 *
 *	void output_html(FILE *fp, const struct report *rep, size_t top);
 *	char *output_html_escape(const char *s);
 *	long long output_html_buckets(long long first_ms, long long last_ms,
 *	                              long long *start_ms, size_t *n);
 * DESCRIPTION
 *	The tables of the text report, in the same order and with the same
 *	numbers, as HTML tables (each with an id "t-NAME", column headings,
 *	row headings), after the totals and a bar chart of refusals and
 *	would-refusals over time drawn here as inline SVG. Nothing on the
 *	page is fetched: the style sheet is inline, there is no script, no
 *	image, no font and no link, and a Content-Security-Policy meta
 *	element forbids every fetch and every script. Strings from the log
 *	go through output_html_escape(): output_escape() (controls, as the
 *	text report shows them), then the five HTML metacharacters as
 *	character references.
 *
 *	The chart has one bar per UTC hour when the period spans at most
 *	HOURLY_DAYS days, else one per UTC day, else (over MAX_BARS days)
 *	one per run of days, so that it never holds more than MAX_BARS bars.
 * DIAGNOSTICS
 *	None; the caller checks the stream.
 */
#include <stdlib.h>
#include <string.h>

#include "../util.h"
#include "output.h"
#include "timefmt.h"

#define HOUR_MS     3600000LL
#define DAY_MS      86400000LL
#define HOURLY_DAYS 14  /* longer periods get a bar per day */
#define MAX_BARS    400 /* and never more bars than this */

/* Geometry of the chart (SVG user units). */
#define CW 960
#define CH 300
#define ML 56
#define MR 16
#define MT 16
#define MB 64

/* output_html_escape - output_escape(), then & < > " ' as character references */
char *output_html_escape(const char *s)
{
	char *e = output_escape(s);
	struct strbuf sb;

	if (!pm_utf8_valid((const unsigned char *)e, strlen(e)))
		for (unsigned char *p = (unsigned char *)e; *p; p++)
			if (*p >= 0x80)
				*p = '?';
	sb_init(&sb);
	for (const char *p = e; *p; p++) {
		switch (*p) {
		case '&':
			sb_append(&sb, "&amp;");
			break;
		case '<':
			sb_append(&sb, "&lt;");
			break;
		case '>':
			sb_append(&sb, "&gt;");
			break;
		case '"':
			sb_append(&sb, "&quot;");
			break;
		case '\'':
			sb_append(&sb, "&#39;");
			break;
		default:
			sb_appendc(&sb, *p);
		}
	}
	free(e);
	return sb_steal(&sb);
}

/* floordiv - a / b rounded toward minus infinity (b > 0) */
static long long floordiv(long long a, long long b)
{
	long long q = a / b;

	return a % b != 0 && a < 0 ? q - 1 : q;
}

/* output_html_buckets - the chart's bar width in ms, its first bar's start and the bar count */
long long output_html_buckets(long long first_ms, long long last_ms, long long *start_ms, size_t *n)
{
	long long h0 = floordiv(first_ms, HOUR_MS), h1 = floordiv(last_ms, HOUR_MS);
	long long d0 = floordiv(first_ms, DAY_MS), d1 = floordiv(last_ms, DAY_MS), days, width;

	if (last_ms < first_ms) {
		h1 = h0;
		d1 = d0;
	}
	if (h1 - h0 + 1 <= HOURLY_DAYS * 24LL) {
		*start_ms = h0 * HOUR_MS;
		*n = (size_t)(h1 - h0 + 1);
		return HOUR_MS;
	}
	days = d1 - d0 + 1;
	width = (days + MAX_BARS - 1) / MAX_BARS; /* days per bar */
	*start_ms = d0 * DAY_MS;
	*n = (size_t)((days + width - 1) / width);
	return width * DAY_MS;
}

/* put - a string from the log, escaped */
static void put(FILE *fp, const char *s)
{
	char *e = output_html_escape(s);

	fputs(e, fp);
	free(e);
}

/* The page's whole style sheet: system fonts only, nothing fetched. */
static const char style[] =
    ":root{--fg:#1d2430;--muted:#5b6577;--line:#d9dee7;--bg:#f4f6f9;--card:#fff;"
    "--ref:#c0392b;--would:#e59f1c;--ok:#2e8b57;--accent:#2b5797}\n"
    "*{box-sizing:border-box}\n"
    "body{margin:0;background:var(--bg);color:var(--fg);font:14px/1.45 system-ui,-apple-system,"
    "'Segoe UI',Roboto,'DejaVu Sans',sans-serif}\n"
    "header{background:#1f2a3c;color:#fff;padding:18px 28px}\n"
    "header h1{margin:0 0 4px;font-size:20px;font-weight:600}\n"
    "header p{margin:2px 0;color:#c9d2e0}\n"
    "header code{color:#fff;background:rgba(255,255,255,.1);padding:1px 5px;border-radius:3px}\n"
    "main{max-width:1200px;margin:0 auto;padding:20px 28px 32px}\n"
    ".warn{background:#fff4e0;border:1px solid #f0c36d;color:#6b4a00;padding:6px 10px;"
    "border-radius:4px}\n"
    ".totals{display:grid;grid-template-columns:repeat(auto-fit,minmax(112px,1fr));gap:12px;"
    "margin:0 0 20px;padding:0}\n"
    ".totals div{background:var(--card);border:1px solid var(--line);border-radius:6px;"
    "padding:10px 14px;border-top:3px solid var(--accent);display:flex;flex-direction:column;"
    "justify-content:space-between}\n"
    ".totals div.ref{border-top-color:var(--ref)}\n"
    ".totals div.would{border-top-color:var(--would)}\n"
    ".totals div.ok{border-top-color:var(--ok)}\n"
    ".totals dt{color:var(--muted);font-size:12px;text-transform:uppercase;letter-spacing:.04em}\n"
    ".totals dd{margin:2px 0 0;font-size:24px;font-weight:600;"
    "font-variant-numeric:tabular-nums}\n"
    ".grid{display:grid;grid-template-columns:repeat(auto-fit,minmax(430px,1fr));gap:16px}\n"
    "section.card{background:var(--card);border:1px solid var(--line);border-radius:6px;"
    "padding:14px 16px;margin:0 0 16px;overflow-x:auto}\n"
    ".grid section.card{margin:0}\n"
    ".wide{grid-column:1/-1}\n"
    "h2{font-size:15px;margin:0 0 10px;font-weight:600}\n"
    "table{border-collapse:collapse;width:100%;font-variant-numeric:tabular-nums}\n"
    "th,td{padding:4px 8px;border-bottom:1px solid var(--line);text-align:left;"
    "vertical-align:top}\n"
    "thead th{color:var(--muted);font-size:12px;font-weight:600;text-transform:uppercase;"
    "letter-spacing:.03em;border-bottom:2px solid var(--line)}\n"
    "tbody th{font-weight:normal;word-break:break-all}\n"
    "td.n,th.n{text-align:right;white-space:nowrap}\n"
    "tr.total th,tr.total td{font-weight:600;border-top:2px solid var(--line)}\n"
    "td.viz{width:30%;min-width:80px}\n"
    ".sr{position:absolute;width:1px;height:1px;overflow:hidden;clip:rect(0 0 0 0)}\n"
    ".bar{display:block;height:10px;background:var(--accent);border-radius:2px}\n"
    ".bar.ref{background:var(--ref)}\n"
    ".bar.ok{background:var(--ok)}\n"
    ".none{color:var(--muted);font-style:italic;margin:4px 0}\n"
    ".legend{margin:0 0 6px;color:var(--muted)}\n"
    ".legend span{display:inline-block;margin-right:16px}\n"
    ".sw{display:inline-block;width:11px;height:11px;border-radius:2px;margin-right:5px;"
    "vertical-align:-1px}\n"
    ".sw.ref{background:var(--ref)}\n"
    ".sw.would{background:var(--would)}\n"
    "svg{display:block;width:100%;height:auto}\n"
    "svg text{font:11px system-ui,'DejaVu Sans',sans-serif;fill:var(--muted)}\n"
    "svg .grid line{stroke:var(--line)}\n"
    "svg .axis{stroke:#8a94a6}\n"
    "svg rect.r{fill:var(--ref)}\n"
    "svg rect.w{fill:var(--would)}\n"
    "details{margin-top:8px}\n"
    "summary{cursor:pointer;color:var(--accent)}\n"
    "p.note{color:var(--muted);font-size:12px;margin:6px 0 0}\n"
    "footer{color:var(--muted);font-size:12px;text-align:center;padding:0 0 24px}\n";

/*
 * table_open - a titled section and its table's heading row; with no rows
 * a "none" paragraph in place of the table (returns false: no rows follow)
 */
static bool table_open(FILE *fp, const char *id, const char *title, const char *cls, size_t nrows,
                       int ncols, const char *const *head, const bool *numeric, bool viz)
{
	fprintf(fp,
	        "<section class=\"card%s%s\" aria-labelledby=\"h-%s\">\n<h2 id=\"h-%s\">%s</h2>\n",
	        cls != NULL ? " " : "", cls != NULL ? cls : "", id, id, title);
	if (nrows == 0) {
		fprintf(fp, "<p class=\"none\" id=\"t-%s\">none</p>\n</section>\n", id);
		return false;
	}
	fprintf(fp, "<table id=\"t-%s\">\n<thead><tr>", id);
	for (int i = 0; i < ncols; i++)
		fprintf(fp, "<th scope=\"col\"%s>%s</th>", numeric[i] ? " class=\"n\"" : "",
		        head[i]);
	if (viz)
		fprintf(fp, "<th scope=\"col\" class=\"viz\"><span class=\"sr\">bar</span></th>");
	fprintf(fp, "</tr></thead>\n<tbody>\n");
	return true;
}

/* table_close - end the table and its section */
static void table_close(FILE *fp)
{
	fprintf(fp, "</tbody>\n</table>\n</section>\n");
}

/*
 * table_row - one row: the first cell a row heading, the others data
 * cells (numbers right-aligned), every cell escaped; cls names the row's
 * class (NULL for none); a bar of frac (0..1) in class barcls ends the row
 * when barcls is not NULL
 */
static void table_row(FILE *fp, int ncols, const char *const *cells, const bool *numeric,
                      const char *cls, const char *barcls, double frac)
{
	if (cls != NULL)
		fprintf(fp, "<tr class=\"%s\">", cls);
	else
		fputs("<tr>", fp);
	for (int i = 0; i < ncols; i++) {
		const char *tag = i == 0 ? "th" : "td";

		fprintf(fp, "<%s%s%s>", tag, i == 0 ? " scope=\"row\"" : "",
		        numeric[i] ? " class=\"n\"" : "");
		put(fp, cells[i]);
		fprintf(fp, "</%s>", tag);
	}
	if (barcls != NULL)
		fprintf(fp,
		        "<td class=\"viz\" aria-hidden=\"true\"><span class=\"bar %s\" "
		        "style=\"width:%.1f%%\"></span></td>",
		        barcls,
		        frac < 0   ? 0.0
		        : frac > 1 ? 100.0
		                   : 100.0 * frac);
	fputs("</tr>\n", fp);
}

/* header - title, period, inputs, skipped lines */
static void header(FILE *fp, const struct report *rep)
{
	char a[TIMEFMT_LEN], b[TIMEFMT_LEN];

	fputs("<header>\n<h1>policy-milter decision report</h1>\n", fp);
	if (rep->matched > 0)
		fprintf(fp,
		        "<p>Period (UTC): <time id=\"period-first\" datetime=\"%s\">%s</time> to "
		        "<time id=\"period-last\" datetime=\"%s\">%s</time></p>\n",
		        timefmt_format(rep->first_ms, a), a, timefmt_format(rep->last_ms, b), b);
	else
		fputs("<p>Period (UTC): <span id=\"period-first\">-</span></p>\n", fp);
	fputs("<p id=\"inputs\">Inputs:", fp);
	for (size_t i = 0; i < rep->ninputs; i++) {
		fputs(" <code>", fp);
		put(fp, rep->inputs[i]);
		fputs("</code>", fp);
	}
	fputs("</p>\n</header>\n<main>\n", fp);
	if (rep->malformed > 0) {
		fprintf(fp, "<p class=\"warn\" id=\"malformed\" data-count=\"%lld\">Skipped %lld ",
		        rep->malformed, rep->malformed);
		fprintf(fp, "malformed line%s (first at ", rep->malformed == 1 ? "" : "s");
		put(fp, rep->first_malformed);
		fputs(")</p>\n", fp);
	}
	if (rep->state_skipped > 0) {
		fprintf(fp,
		        "<p class=\"warn\" id=\"state-skipped\" data-count=\"%lld\">Skipped %lld ",
		        rep->state_skipped, rep->state_skipped);
		fprintf(fp, "greylist/ratelimit element%s (first at ",
		        rep->state_skipped == 1 ? "" : "s");
		put(fp, rep->first_state_skipped);
		fputs(")</p>\n", fp);
	}
}

/* total - one figure of the totals */
static void total(FILE *fp, const char *id, const char *cls, const char *label, const char *value)
{
	fprintf(fp, "<div%s%s%s><dt>%s</dt><dd id=\"%s\">%s</dd></div>\n",
	        cls != NULL ? " class=\"" : "", cls != NULL ? cls : "", cls != NULL ? "\"" : "",
	        label, id, value);
}

/* totals - records, refusals, would-refusals, the other actions, pass rates */
static void totals(FILE *fp, const struct report *rep)
{
	long long refused = rep->actions[REC_REJECT][0] + rep->actions[REC_TEMPFAIL][0];
	long long would = rep->actions[REC_REJECT][1] + rep->actions[REC_TEMPFAIL][1];
	char buf[RATES][16];
	static const char *const ids[RATES] = {"rate-spf", "rate-dkim", "rate-dmarc"};
	static const char *const labels[RATES] = {"SPF pass", "DKIM pass", "DMARC pass"};

	fputs("<dl class=\"totals\" aria-label=\"Totals\">\n", fp);
	total(fp, "records-read", NULL, "records read", report_num(rep->records));
	total(fp, "records-matched", NULL, "matched", report_num(rep->matched));
	total(fp, "refused", "ref", "refused", report_num(refused));
	total(fp, "would-refuse", "would", "would refuse", report_num(would));
	total(fp, "accepted", "ok", "accepted", report_num(rep->actions[REC_ACCEPT][0]));
	total(fp, "quarantined", NULL, "quarantine, hold",
	      report_num(rep->actions[REC_QUARANTINE][0] + rep->actions[REC_HOLD][0]));
	for (int i = 0; i < RATES; i++)
		total(fp, ids[i], "ok", labels[i],
		      report_pct(rep->pass[i], rep->total[i], buf[i], sizeof(buf[i])));
	fputs("</dl>\n", fp);
}

/* nice_step - a step of 1, 2 or 5 times a power of ten that splits max into at most 5 */
static long long nice_step(long long max)
{
	long long p = 1;

	for (;;) {
		if (p * 5 >= max)
			return p;
		if (p * 2 * 5 >= max)
			return p * 2;
		if (p * 5 * 5 >= max)
			return p * 5;
		p *= 10;
	}
}

/* bucket_counts - add the n[0] of each hour of t into the bars it falls in */
static void bucket_counts(const struct tally *t, long long start, long long width, size_t n,
                          long long *v)
{
	struct tally_entry **e;
	size_t ne;
	long long ms;

	e = tally_sorted(t, TALLY_BY_KEY, &ne);
	for (size_t i = 0; i < ne; i++) {
		if (timefmt_parse_rfc3339(e[i]->key, &ms) < 0 || ms < start)
			continue;
		if ((unsigned long long)((ms - start) / width) < n)
			v[(ms - start) / width] += e[i]->n[0];
	}
	free(e);
}

/* label_step - bars between x labels: at most 16 hour or 12 date labels, on round units */
static size_t label_step(size_t n, bool hourly)
{
	static const size_t hsteps[] = {1, 2, 3, 6, 12, 24, 48, 72, 168};
	static const size_t dsteps[] = {1, 2, 7, 14, 28, 56, 91, 182, 364};
	const size_t *s = hourly ? hsteps : dsteps;

	for (size_t i = 0; i < 9; i++)
		if (n / s[i] <= (hourly ? 16U : 12U))
			return s[i];
	return s[8];
}

/* x_labels - the time labels under the bars: hours (and the date at midnight) or dates */
static void x_labels(FILE *fp, long long start, long long width, size_t n, double slot)
{
	bool hourly = width == HOUR_MS;
	size_t step = label_step(n, hourly);
	char buf[TIMEFMT_LEN];
	double dated = -1000; /* where the last date label is */

	for (size_t i = 0; i < n; i++) {
		long long ms = start + (long long)i * width;
		long long unit = hourly ? floordiv(ms, HOUR_MS) : floordiv(ms, width);
		double x = ML + slot * ((double)i + 0.5);

		if (unit % (long long)step != 0 && i != 0)
			continue;
		if (i == 0 && unit % (long long)step != 0 && n > step)
			continue; /* an odd first bar gets no label, unless alone */
		timefmt_format(ms, buf);
		fprintf(fp, "<line class=\"axis\" x1=\"%.1f\" y1=\"%d\" x2=\"%.1f\" y2=\"%d\"/>", x,
		        CH - MB, x, CH - MB + 4);
		if (hourly) {
			fprintf(fp, "<text x=\"%.1f\" y=\"%d\" text-anchor=\"middle\">%.2s</text>",
			        x, CH - MB + 16, buf + 11);
			if ((dated < 0 || (buf[11] == '0' && buf[12] == '0')) && x - dated >= 72) {
				fprintf(
				    fp,
				    "<text x=\"%.1f\" y=\"%d\" text-anchor=\"middle\">%.10s</text>",
				    x, CH - MB + 30, buf);
				dated = x;
			}
		} else {
			fprintf(fp, "<text x=\"%.1f\" y=\"%d\" text-anchor=\"middle\">%.10s</text>",
			        x, CH - MB + 16, buf);
		}
		fputc('\n', fp);
	}
}

/* bar_title - the hover text of a bar: its time span and counts */
static void bar_title(FILE *fp, long long ms, long long width, long long r, long long w)
{
	char a[TIMEFMT_LEN], b[TIMEFMT_LEN];

	timefmt_format(ms, a);
	if (width == HOUR_MS)
		fprintf(fp, "<title>%.10s %.5s UTC: %lld refused, %lld would</title>", a, a + 11, r,
		        w);
	else if (width == DAY_MS)
		fprintf(fp, "<title>%.10s UTC: %lld refused, %lld would</title>", a, r, w);
	else
		fprintf(fp, "<title>%.10s to %.10s UTC: %lld refused, %lld would</title>", a,
		        timefmt_format(ms + width - DAY_MS, b), r, w);
}

/* chart - refusals and would-refusals per hour (or day) as stacked bars */
static void chart(FILE *fp, const struct report *rep)
{
	long long start, width, max = 0, step, top, sum_r = 0, sum_w = 0, *r, *w;
	const char *unit;
	size_t n;
	double slot, bw, ph = CH - MT - MB, pw = CW - ML - MR;

	fputs("<section class=\"card\" aria-labelledby=\"h-chart\">\n", fp);
	if (rep->matched == 0) {
		fputs("<h2 id=\"h-chart\">Refusals per hour (UTC)</h2>\n"
		      "<p class=\"none\">no decisions in the period</p>\n",
		      fp);
		return;
	}
	width = output_html_buckets(rep->first_ms, rep->last_ms, &start, &n);
	unit = width == HOUR_MS ? "hour" : width == DAY_MS ? "day" : "run of days";
	r = xcalloc(n, sizeof(*r));
	w = xcalloc(n, sizeof(*w));
	bucket_counts(rep->hours, start, width, n, r);
	bucket_counts(rep->would_hours, start, width, n, w);
	for (size_t i = 0; i < n; i++) {
		if (r[i] + w[i] > max)
			max = r[i] + w[i];
		sum_r += r[i];
		sum_w += w[i];
	}
	step = nice_step(max > 0 ? max : 1);
	top = (max + step - 1) / step * step;
	if (top == 0)
		top = step;
	fprintf(fp, "<h2 id=\"h-chart\">Refusals and would-refusals per %s (UTC)</h2>\n", unit);
	fputs("<p class=\"legend\"><span><i class=\"sw ref\"></i>refused (reject or tempfail "
	      "applied)</span><span><i class=\"sw would\"></i>would have refused (log or tag "
	      "mode, dry run)</span></p>\n",
	      fp);
	fprintf(
	    fp,
	    "<svg id=\"chart\" viewBox=\"0 0 %d %d\" role=\"img\" aria-labelledby=\"chart-title "
	    "chart-desc\" data-bar-ms=\"%lld\" data-refused=\"%lld\" data-would=\"%lld\" "
	    "xmlns=\"http://www.w3.org/2000/svg\">\n",
	    CW, CH, width, sum_r, sum_w);
	fprintf(fp, "<title id=\"chart-title\">Refusals and would-refusals per %s (UTC)</title>\n",
	        unit);
	fprintf(fp,
	        "<desc id=\"chart-desc\">%lld refusals and %lld would-refusals in %zu bar%s of one "
	        "%s each.</desc>\n",
	        sum_r, sum_w, n, n == 1 ? "" : "s",
	        width == HOUR_MS  ? "hour"
	        : width == DAY_MS ? "day"
	                          : "run of days");
	/* y grid and labels */
	fputs("<g class=\"grid\">", fp);
	for (long long v = 0; v <= top; v += step) {
		double y = MT + ph - ph * (double)v / (double)top;

		fprintf(
		    fp,
		    "<line x1=\"%d\" y1=\"%.1f\" x2=\"%d\" y2=\"%.1f\"/><text x=\"%d\" y=\"%.1f\" "
		    "text-anchor=\"end\">%lld</text>",
		    ML, y, CW - MR, y, ML - 6, y + 4, v);
	}
	fputs("</g>\n", fp);
	/* bars */
	slot = pw / (double)n;
	bw = slot * 0.78 > 1.0 ? slot * 0.78 : slot;
	if (bw > 48)
		bw = 48; /* a few bars stay bars, not blocks */
	for (size_t i = 0; i < n; i++) {
		long long ms = start + (long long)i * width;
		double x = ML + slot * (double)i + (slot - bw) / 2;
		double hr = ph * (double)r[i] / (double)top, hw = ph * (double)w[i] / (double)top;
		char key[TIMEFMT_LEN];

		if (r[i] == 0 && w[i] == 0)
			continue;
		fprintf(fp, "<g data-start=\"%s\" data-refused=\"%lld\" data-would=\"%lld\">",
		        timefmt_format(ms, key), r[i], w[i]);
		bar_title(fp, ms, width, r[i], w[i]);
		if (r[i] > 0)
			fprintf(fp,
			        "<rect class=\"r\" x=\"%.2f\" y=\"%.2f\" width=\"%.2f\" "
			        "height=\"%.2f\"/>",
			        x, MT + ph - hr, bw, hr);
		if (w[i] > 0)
			fprintf(fp,
			        "<rect class=\"w\" x=\"%.2f\" y=\"%.2f\" width=\"%.2f\" "
			        "height=\"%.2f\"/>",
			        x, MT + ph - hr - hw, bw, hw);
		fputs("</g>\n", fp);
	}
	/* axes and their titles */
	fprintf(fp,
	        "<line class=\"axis\" x1=\"%d\" y1=\"%d\" x2=\"%d\" y2=\"%d\"/>"
	        "<line class=\"axis\" x1=\"%d\" y1=\"%d\" x2=\"%d\" y2=\"%d\"/>\n",
	        ML, MT, ML, CH - MB, ML, CH - MB, CW - MR, CH - MB);
	x_labels(fp, start, width, n, slot);
	fprintf(fp, "<text x=\"%d\" y=\"%d\" text-anchor=\"middle\">%s (UTC)</text>\n",
	        ML + (CW - ML - MR) / 2, CH - 8, width == HOUR_MS ? "hour" : "day");
	fprintf(fp,
	        "<text transform=\"translate(14 %d) rotate(-90)\" text-anchor=\"middle\">"
	        "decisions</text>\n</svg>\n",
	        MT + (CH - MT - MB) / 2);
	fprintf(fp,
	        "<p class=\"note\">One bar per UTC hour for periods of up to %d days, one per day "
	        "beyond, and one per run of days when there would be more than %d bars. Hover a "
	        "bar for its counts.</p>\n",
	        HOURLY_DAYS, MAX_BARS);
	free(r);
	free(w);
}

/*
 * hours_table - the refusals and would-refusals of every hour that has
 * some, oldest first; closes the chart's section
 */
static void hours_table(FILE *fp, const struct report *rep)
{
	static const bool numeric[] = {false, true, true};
	static const char *const head[] = {"hour", "refusals", "would"};
	struct tally_entry **a, **b;
	size_t na, nb, i = 0, j = 0;

	if (rep->matched == 0) {
		fputs("<p class=\"none\" id=\"t-hours\">none</p>\n</section>\n", fp);
		return;
	}
	a = tally_sorted(rep->hours, TALLY_BY_KEY, &na);
	b = tally_sorted(rep->would_hours, TALLY_BY_KEY, &nb);
	fputs("<details><summary>Table of the hours</summary>\n", fp);
	if (na + nb == 0) {
		fputs("<p class=\"none\" id=\"t-hours\">none</p>\n", fp);
	} else {
		fputs("<table id=\"t-hours\">\n<thead><tr>", fp);
		for (int k = 0; k < 3; k++)
			fprintf(fp, "<th scope=\"col\"%s>%s</th>", numeric[k] ? " class=\"n\"" : "",
			        head[k]);
		fputs("</tr></thead>\n<tbody>\n", fp);
		while (i < na || j < nb) {
			int c = i == na ? 1 : j == nb ? -1 : strcmp(a[i]->key, b[j]->key);
			const char *key = c <= 0 ? a[i]->key : b[j]->key;
			long long nr = c <= 0 ? a[i++]->n[0] : 0, nw = c >= 0 ? b[j++]->n[0] : 0;

			table_row(fp, 3, (const char *[]){key, report_num(nr), report_num(nw)},
			          numeric, NULL, NULL, 0);
		}
		fputs("</tbody>\n</table>\n", fp);
	}
	fputs("</details>\n</section>\n", fp);
	free(a);
	free(b);
}

/* actions - decisions by action, applied and would, with the total */
static void actions(FILE *fp, const struct report *rep)
{
	static const bool numeric[] = {false, true, true};
	static const char *const head[] = {"action", "applied", "would"};
	long long tot[2] = {0, 0};

	table_open(fp, "actions", "Decisions by action", NULL, REC_ACTIONS, 3, head, numeric,
	           false);
	for (int a = 0; a < REC_ACTIONS; a++) {
		table_row(fp, 3,
		          (const char *[]){rec_action_names[a], report_num(rep->actions[a][0]),
		                           report_num(rep->actions[a][1])},
		          numeric, NULL, NULL, 0);
		tot[0] += rep->actions[a][0];
		tot[1] += rep->actions[a][1];
	}
	table_row(fp, 3, (const char *[]){"total", report_num(tot[0]), report_num(tot[1])}, numeric,
	          "total", NULL, 0);
	table_close(fp);
}

/* replies - decisions by reply code */
static void replies(FILE *fp, const struct report *rep)
{
	static const bool numeric[] = {false, true, true};
	static const char *const head[] = {"reply", "applied", "would"};
	struct tally_entry **v;
	size_t n;

	v = tally_sorted(rep->replies, TALLY_BY_KEY, &n);
	if (table_open(fp, "replies", "Decisions by reply code", NULL, n, 3, head, numeric,
	               false)) {
		for (size_t i = 0; i < n; i++)
			table_row(fp, 3,
			          (const char *[]){v[i]->key, report_num(v[i]->n[0]),
			                           report_num(v[i]->n[1])},
			          numeric, NULL, NULL, 0);
		table_close(fp);
	}
	free(v);
}

/* top_list - a top list of a tally by count, with bars relative to the first */
static void top_list(FILE *fp, const char *id, const char *title, const char *keyhead,
                     const char *numhead, const struct tally *tal, size_t top)
{
	static const bool numeric[] = {false, true};
	const char *head[] = {keyhead, numhead};
	struct tally_entry **v;
	size_t n, lim;

	v = tally_sorted(tal, TALLY_BY_COUNT, &n);
	lim = output_limit(n, top);
	if (table_open(fp, id, title, NULL, lim, 2, head, numeric, true)) {
		for (size_t i = 0; i < lim; i++)
			table_row(fp, 2, (const char *[]){v[i]->key, report_num(v[i]->n[0])},
			          numeric, NULL, "ref",
			          (double)v[i]->n[0] / (double)(v[0]->n[0] > 0 ? v[0]->n[0] : 1));
		table_close(fp);
	}
	free(v);
}

/* failing - sender domains under each failing check */
static void failing(FILE *fp, const struct report *rep, size_t top)
{
	static const bool numeric[] = {false, false, true};
	static const char *const head[] = {"check", "domain", "decisions"};
	struct tally_entry **checks, **doms;
	size_t nc, nd, rows = 0;
	long long max = 1;

	checks = tally_sorted(rep->failing, TALLY_BY_KEY, &nc);
	for (size_t c = 0; c < nc; c++) {
		doms = tally_sorted(checks[c]->sub, TALLY_BY_COUNT, &nd);
		rows += output_limit(nd, top);
		if (nd > 0 && doms[0]->n[0] > max)
			max = doms[0]->n[0];
		free(doms);
	}
	if (table_open(fp, "failing", "Top sender domains by failing check", NULL, rows, 3, head,
	               numeric, true)) {
		for (size_t c = 0; c < nc; c++) {
			doms = tally_sorted(checks[c]->sub, TALLY_BY_COUNT, &nd);
			for (size_t i = 0; i < output_limit(nd, top); i++)
				table_row(fp, 3,
				          (const char *[]){checks[c]->key, doms[i]->key,
				                           report_num(doms[i]->n[0])},
				          numeric, NULL, "ref",
				          (double)doms[i]->n[0] / (double)max);
			free(doms);
		}
		table_close(fp);
	}
	free(checks);
}

/* rates - SPF, DKIM and DMARC pass rates, each with a bar */
static void rates(FILE *fp, const struct report *rep)
{
	static const bool numeric[] = {false, true, true, true};
	static const char *const head[] = {"check", "pass", "total", "rate"};
	char buf[16];

	table_open(fp, "rates", "Pass rates at end of message", NULL, RATES, 4, head, numeric,
	           true);
	for (int i = 0; i < RATES; i++)
		table_row(
		    fp, 4,
		    (const char *[]){report_rate_names[i], report_num(rep->pass[i]),
		                     report_num(rep->total[i]),
		                     report_pct(rep->pass[i], rep->total[i], buf, sizeof(buf))},
		    numeric, NULL, "ok",
		    rep->total[i] > 0 ? (double)rep->pass[i] / (double)rep->total[i] : 0);
	table_close(fp);
}

/* would - the decisions that would have refused, by check */
static void would(FILE *fp, const struct report *rep)
{
	static const bool numeric[] = {false, true, true};
	static const char *const head[] = {"check", "reject", "tempfail"};
	struct tally_entry **v;
	long long tot[2] = {0, 0};
	size_t n;

	v = tally_sorted(rep->would, TALLY_BY_COUNT, &n);
	if (table_open(fp, "would", "Would have refused (log or tag mode, dry run)", NULL, n, 3,
	               head, numeric, false)) {
		for (size_t i = 0; i < n; i++) {
			table_row(fp, 3,
			          (const char *[]){v[i]->key, report_num(v[i]->n[0]),
			                           report_num(v[i]->n[1])},
			          numeric, NULL, NULL, 0);
			tot[0] += v[i]->n[0];
			tot[1] += v[i]->n[1];
		}
		table_row(fp, 3, (const char *[]){"total", report_num(tot[0]), report_num(tot[1])},
		          numeric, "total", NULL, 0);
		table_close(fp);
	}
	free(v);
}

/* greylisting - its effect over the period, then the elements by state */
static void greylisting(FILE *fp, const struct report *rep)
{
	static const bool numeric[] = {false, true};
	static const char *const head[] = {"measure", "count"};
	const char *const label[] = {"triplets first seen",     "passed after retry",
	                             "age at pass, median (s)", "age at pass, 90th percentile (s)",
	                             "never retried",           "early retries",
	                             "known (passed before)",   "auto-allowed",
	                             "skipped (exempt)",        "store errors"};
	long long value[10];
	struct gl_summary s;

	report_greylisting(rep, &s);
	value[0] = s.first_seen;
	value[1] = s.passed;
	value[2] = s.age_median;
	value[3] = s.age_p90;
	value[4] = s.never_retried;
	value[5] = rep->gl_states[GL_EARLY];
	value[6] = rep->gl_states[GL_KNOWN];
	value[7] = rep->gl_states[GL_AUTO];
	value[8] = rep->gl_states[GL_SKIPPED];
	value[9] = rep->gl_states[GL_ERROR];
	table_open(fp, "greylisting", "Greylisting", NULL, 10, 2, head, numeric, false);
	for (size_t i = 0; i < 10; i++)
		table_row(fp, 2, (const char *[]){label[i], report_seconds(value[i])}, numeric,
		          NULL, NULL, 0);
	table_close(fp);
}

/* ratelimited - the keys refused most by a rate limit */
static void ratelimited(FILE *fp, const struct report *rep, size_t top)
{
	static const bool numeric[] = {false, false, false, true, false, false};
	static const char *const head[] = {"rule", "key", "value", "refusals", "first", "last"};
	char a[TIMEFMT_LEN], b[TIMEFMT_LEN];
	struct tally_entry **v;
	const char *part[3];
	char *buf;
	size_t n, lim;

	v = tally_sorted(rep->ratelimited, TALLY_BY_COUNT, &n);
	lim = output_limit(n, top);
	if (table_open(fp, "ratelimited", "Top rate-limited keys", "wide", lim, 6, head, numeric,
	               false)) {
		for (size_t i = 0; i < lim; i++) {
			report_split_key(v[i]->key, &buf, part);
			table_row(fp, 6,
			          (const char *[]){
			              part[0], part[1], part[2], report_num(v[i]->n[0]),
			              timefmt_format(v[i]->t[0], a), timefmt_format(v[i]->t[1], b)},
			          numeric, NULL, NULL, 0);
			free(buf);
		}
		table_close(fp);
	}
	free(v);
}

/* output_html - the whole page */
void output_html(FILE *fp, const struct report *rep, size_t top)
{
	fputs("<!DOCTYPE html>\n<html lang=\"en\">\n<head>\n<meta charset=\"utf-8\">\n"
	      "<meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\n"
	      "<meta http-equiv=\"Content-Security-Policy\" content=\"default-src 'none'; "
	      "style-src 'unsafe-inline'\">\n"
	      "<meta name=\"generator\" content=\"policy-milter-report " PM_VERSION "\">\n",
	      fp);
	if (rep->matched > 0) {
		char a[TIMEFMT_LEN], b[TIMEFMT_LEN];

		fprintf(fp, "<title>policy-milter decision report, %.16s to %.16s UTC</title>\n",
		        timefmt_format(rep->first_ms, a), timefmt_format(rep->last_ms, b));
	} else {
		fputs("<title>policy-milter decision report</title>\n", fp);
	}
	fprintf(fp, "<style>\n%s</style>\n</head>\n<body>\n", style);
	header(fp, rep);
	totals(fp, rep);
	chart(fp, rep);
	hours_table(fp, rep);
	fputs("<div class=\"grid\">\n", fp);
	actions(fp, rep);
	replies(fp, rep);
	top_list(fp, "clients", "Top client addresses by refusals", "client", "refusals",
	         rep->clients, top);
	top_list(fp, "networks", "Top networks by refusals", "network", "refusals", rep->networks,
	         top);
	failing(fp, rep, top);
	rates(fp, rep);
	top_list(fp, "unknown", "Top recipients targeted with unknown addresses", "recipient",
	         "attempts", rep->unknown_rcpt, top);
	would(fp, rep);
	greylisting(fp, rep);
	ratelimited(fp, rep, top);
	fputs("</div>\n</main>\n<footer>policy-milter-report " PM_VERSION
	      ": the tables are those of the text report; see policy-milter-report(1).</footer>\n"
	      "</body>\n</html>\n",
	      fp);
}
