/*
 * NAME
 *	output 3h - the report as text, JSON, CSV or HTML
 * SYNOPSIS
 *	#include "output.h"
 * DESCRIPTION
 *	Each writer prints the whole report to a stream; top limits the
 *	"top" lists (client addresses, networks, domains of each failing
 *	check, unknown recipients), 0 meaning no limit. The exact shapes
 *	are in policy-milter-report(1). Write errors are left on the stream
 *	for the caller's ferror().
 */
#ifndef PMR_OUTPUT_H
#define PMR_OUTPUT_H

#include <stddef.h>
#include <stdio.h>

#include "aggregate.h"

/* output_text - the aligned report for people */
void output_text(FILE *fp, const struct report *rep, size_t top);

/* The text report's number forms, which the other outputs show too (out_text.c):
 * report_num - a count, in one of 8 rotating static buffers (not thread-safe);
 * report_seconds - a count of seconds, "-" when negative (not known);
 * report_pct - pass/total as "88.9%" in buf, "-" when total is 0. */
const char *report_num(long long n);
const char *report_seconds(long long n);
const char *report_pct(long long pass, long long total, char *buf, size_t size);

/* output_json - one JSON object (two-space indentation) and a newline */
void output_json(FILE *fp, const struct report *rep, size_t top);

/* output_csv - RFC 4180 rows "section,key,metric,value" after a header row */
void output_csv(FILE *fp, const struct report *rep, size_t top);

/*
 * output_html - one self-contained HTML page (inline style and SVG chart,
 * no script, nothing fetched): the text report's tables with ids "t-NAME"
 */
void output_html(FILE *fp, const struct report *rep, size_t top);

/*
 * output_html_escape - a copy of s (the caller frees) safe as HTML text or
 * a quoted attribute value: output_escape(), bytes of invalid UTF-8 as '?',
 * then & < > " ' as character references
 */
char *output_html_escape(const char *s);

/*
 * output_html_buckets - the chart's bars over [first_ms, last_ms]: returns
 * the width of a bar in ms (an hour for up to 14 days, a day for up to 400
 * days, else a run of days so that there are at most 400 bars), sets
 * *start_ms (the first bar's start, on a UTC hour or day) and *n (bars)
 */
long long output_html_buckets(long long first_ms, long long last_ms, long long *start_ms,
                              size_t *n);

/*
 * output_escape - a copy of s (the caller frees) safe on a terminal: UTF-8
 * is kept, control characters (C0, DEL, C1) and backslash become \xHH.
 */
char *output_escape(const char *s);

/* output_limit - how many of n entries a top list shows */
size_t output_limit(size_t n, size_t top);

#endif
