/*
 * NAME
 *	out_json 3 - the report as one JSON object
 * SYNOPSIS
 *	#include "output.h"
 *
 *	void output_json(FILE *fp, const struct report *rep, size_t top);
 * DESCRIPTION
 *	Built with jansson and dumped with two-space indentation, keys in
 *	insertion order (the order of the text report), rates with four
 *	significant digits. Strings from the log are valid UTF-8 already
 *	(the decoder checked); an input name that is not UTF-8 is written
 *	escaped as output_escape() does.
 * DIAGNOSTICS
 *	None; the caller checks the stream.
 */
#include <jansson.h>
#include <stdlib.h>
#include <string.h>

#include "../util.h"
#include "output.h"
#include "timefmt.h"

/* jstr - a JSON string of any C string (escaped when it is not UTF-8); NULL gives null */
static json_t *jstr(const char *s)
{
	json_t *j;
	char *e;

	if (s == NULL)
		return json_null();
	if (pm_utf8_valid((const unsigned char *)s, strlen(s)))
		return json_string(s);
	e = output_escape(s); /* still not UTF-8: 8-bit bytes pass; escape them all */
	for (unsigned char *p = (unsigned char *)e; *p; p++)
		if (*p >= 0x80)
			*p = '?';
	j = json_string(e);
	free(e);
	return j;
}

/* jtime - a time as RFC 3339 text */
static json_t *jtime(long long ms)
{
	char buf[TIMEFMT_LEN];

	return json_string(timefmt_format(ms, buf));
}

/* list - an array of {keyname: key, numname: n[0]} for the sorted entries, at most lim */
static json_t *list(const struct tally *t, enum tally_order order, size_t top, const char *keyname,
                    const char *numname)
{
	json_t *a = json_array();
	struct tally_entry **v;
	size_t n;

	v = tally_sorted(t, order, &n);
	for (size_t i = 0; i < output_limit(n, top); i++)
		json_array_append_new(a, json_pack("{s:o, s:I}", keyname, jstr(v[i]->key), numname,
		                                   (json_int_t)v[i]->n[0]));
	free(v);
	return a;
}

/* replies - [{code, xcode, applied, would}] by code */
static json_t *replies(const struct report *rep)
{
	json_t *a = json_array();
	struct tally_entry **v;
	size_t n;

	v = tally_sorted(rep->replies, TALLY_BY_KEY, &n);
	for (size_t i = 0; i < n; i++) {
		const char *sp = strchr(v[i]->key, ' ');

		json_array_append_new(
		    a, json_pack("{s:o, s:o, s:I, s:I}", "code",
		                 v[i]->key[0] == '-' ? json_null()
		                                     : json_integer(strtol(v[i]->key, NULL, 10)),
		                 "xcode", jstr(sp != NULL ? sp + 1 : NULL), "applied",
		                 (json_int_t)v[i]->n[0], "would", (json_int_t)v[i]->n[1]));
	}
	free(v);
	return a;
}

/* failing - [{check, domains: [{domain, decisions}]}] */
static json_t *failing(const struct report *rep, size_t top)
{
	json_t *a = json_array();
	struct tally_entry **v;
	size_t n;

	v = tally_sorted(rep->failing, TALLY_BY_KEY, &n);
	for (size_t i = 0; i < n; i++)
		json_array_append_new(
		    a, json_pack("{s:o, s:o}", "check", jstr(v[i]->key), "domains",
		                 list(v[i]->sub, TALLY_BY_COUNT, top, "domain", "decisions")));
	free(v);
	return a;
}

/* rates - [{check, pass, total, rate}] */
static json_t *rates(const struct report *rep)
{
	json_t *a = json_array();

	for (int i = 0; i < RATES; i++)
		json_array_append_new(
		    a,
		    json_pack("{s:s, s:I, s:I, s:o}", "check", report_rate_names[i], "pass",
		              (json_int_t)rep->pass[i], "total", (json_int_t)rep->total[i], "rate",
		              rep->total[i] == 0
		                  ? json_null()
		                  : json_real((double)rep->pass[i] / (double)rep->total[i])));
	return a;
}

/* would - [{check, reject, tempfail}] */
static json_t *would(const struct report *rep)
{
	json_t *a = json_array();
	struct tally_entry **v;
	size_t n;

	v = tally_sorted(rep->would, TALLY_BY_COUNT, &n);
	for (size_t i = 0; i < n; i++)
		json_array_append_new(a, json_pack("{s:o, s:I, s:I}", "check", jstr(v[i]->key),
		                                   "reject", (json_int_t)v[i]->n[0], "tempfail",
		                                   (json_int_t)v[i]->n[1]));
	free(v);
	return a;
}

/* jsecs - seconds, or null when not known (negative) */
static json_t *jsecs(long long n)
{
	return n < 0 ? json_null() : json_integer((json_int_t)n);
}

/* greylisting - {first_seen, passed, pass_age_median, pass_age_p90, never_retried, states} */
static json_t *greylisting(const struct report *rep)
{
	json_t *o, *states = json_object();
	struct gl_summary s;

	report_greylisting(rep, &s);
	for (int i = 0; i < GL_STATES; i++)
		json_object_set_new(states, rec_gl_state_names[i],
		                    json_integer((json_int_t)rep->gl_states[i]));
	o = json_pack("{s:I, s:I, s:o, s:o, s:I, s:I, s:I, s:I}", "first_seen",
	              (json_int_t)s.first_seen, "passed", (json_int_t)s.passed, "pass_age_median",
	              jsecs(s.age_median), "pass_age_p90", jsecs(s.age_p90), "never_retried",
	              (json_int_t)s.never_retried, "early", (json_int_t)rep->gl_states[GL_EARLY],
	              "known", (json_int_t)rep->gl_states[GL_KNOWN], "auto",
	              (json_int_t)rep->gl_states[GL_AUTO]);
	json_object_set_new(o, "states", states);
	return o;
}

/* ratelimited - [{rule, key, value, refusals, first, last}] */
static json_t *ratelimited(const struct report *rep, size_t top)
{
	json_t *a = json_array();
	struct tally_entry **v;
	const char *part[3];
	char *buf;
	size_t n;

	v = tally_sorted(rep->ratelimited, TALLY_BY_COUNT, &n);
	for (size_t i = 0; i < output_limit(n, top); i++) {
		report_split_key(v[i]->key, &buf, part);
		json_array_append_new(a, json_pack("{s:o, s:o, s:o, s:I, s:o, s:o}", "rule",
		                                   jstr(part[0]), "key", jstr(part[1]), "value",
		                                   jstr(part[2]), "refusals",
		                                   (json_int_t)v[i]->n[0], "first",
		                                   jtime(v[i]->t[0]), "last", jtime(v[i]->t[1])));
		free(buf);
	}
	free(v);
	return a;
}

/* output_json - the whole report */
void output_json(FILE *fp, const struct report *rep, size_t top)
{
	json_t *o = json_object(), *a = json_array();

	for (size_t i = 0; i < rep->ninputs; i++)
		json_array_append_new(a, jstr(rep->inputs[i]));
	json_object_set_new(o, "inputs", a);
	json_object_set_new(o, "records",
	                    json_pack("{s:I, s:I}", "read", (json_int_t)rep->records, "matched",
	                              (json_int_t)rep->matched));
	json_object_set_new(o, "malformed",
	                    json_pack("{s:I, s:o}", "lines", (json_int_t)rep->malformed, "first",
	                              jstr(rep->first_malformed)));
	json_object_set_new(o, "period",
	                    rep->matched == 0
	                        ? json_null()
	                        : json_pack("{s:o, s:o}", "first", jtime(rep->first_ms), "last",
	                                    jtime(rep->last_ms)));
	a = json_array();
	for (int i = 0; i < REC_ACTIONS; i++)
		json_array_append_new(a, json_pack("{s:s, s:I, s:I}", "action", rec_action_names[i],
		                                   "applied", (json_int_t)rep->actions[i][0],
		                                   "would", (json_int_t)rep->actions[i][1]));
	json_object_set_new(o, "actions", a);
	json_object_set_new(o, "replies", replies(rep));
	json_object_set_new(o, "clients",
	                    list(rep->clients, TALLY_BY_COUNT, top, "addr", "refusals"));
	json_object_set_new(o, "networks",
	                    list(rep->networks, TALLY_BY_COUNT, top, "network", "refusals"));
	json_object_set_new(o, "failing_checks", failing(rep, top));
	json_object_set_new(o, "pass_rates", rates(rep));
	json_object_set_new(o, "refusals_per_hour",
	                    list(rep->hours, TALLY_BY_KEY, 0, "hour", "refusals"));
	json_object_set_new(o, "unknown_recipients",
	                    list(rep->unknown_rcpt, TALLY_BY_COUNT, top, "recipient", "attempts"));
	json_object_set_new(o, "would_refuse", would(rep));
	json_object_set_new(o, "greylisting", greylisting(rep));
	json_object_set_new(o, "ratelimited", ratelimited(rep, top));
	json_object_set_new(o, "state_elements_skipped",
	                    json_pack("{s:I, s:o}", "count", (json_int_t)rep->state_skipped,
	                              "first", jstr(rep->first_state_skipped)));
	json_dumpf(o, fp, JSON_INDENT(2) | JSON_PRESERVE_ORDER | JSON_REAL_PRECISION(4));
	fputc('\n', fp);
	json_decref(o);
}
