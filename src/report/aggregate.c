/*
 * NAME
 *	aggregate 3 - the counts of the report
 * SYNOPSIS
 *	#include "aggregate.h"
 *
 *	void report_init(struct report *rep);
 *	void report_add_input(struct report *rep, const char *name);
 *	void report_malformed(struct report *rep, const char *file, unsigned long line);
 *	void report_add(struct report *rep, const struct rec *r);
 *	void report_free(struct report *rep);
 * DESCRIPTION
 *	report_add() counts one record into every table it belongs to:
 *	actions and reply codes (applied or not); client addresses (in
 *	canonical form, so ::ffff:192.0.2.1 is 192.0.2.1), their /24 or /48
 *	networks and the hour, for refusals (the hour of would-refusals
 *	apart); the judged domain of the
 *	record's check when its action is not accept (spf: checks.spf.domain,
 *	helo_spf: checks.helo_spf.domain, dmarc: checks.dmarc.domain, else
 *	the sender's domain; lower-cased; "<>" for the null sender and "-"
 *	when none is known); the recipients of unknown_recipient decisions
 *	(lower-cased); the would-have-refused decisions by check; and, for
 *	end-of-message records that are not "would" ones (one per message),
 *	whether SPF, DKIM (any signature) and DMARC passed.
 *	report_add_state() counts the checks.greylist[] and checks.ratelimit[]
 *	elements of every record read: per triplet (network, sender,
 *	recipient) its first new and first pass in the period and its latest
 *	retry in any record (for "never retried"); the elements by state;
 *	the rate-limit refusals (state over) by rule, key kind and value
 *	with their first and last time. report_greylisting() sums the
 *	triplets up, ages at pass as nearest-rank percentiles.
 * DIAGNOSTICS
 *	None.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../cidr.h"
#include "../util.h"
#include "aggregate.h"
#include "timefmt.h"

const char *const report_rate_names[RATES] = {"spf", "dkim", "dmarc"};

/* report_init - all counts zero, tables empty */
void report_init(struct report *rep)
{
	memset(rep, 0, sizeof(*rep));
	rep->replies = tally_new();
	rep->clients = tally_new();
	rep->networks = tally_new();
	rep->failing = tally_new();
	rep->hours = tally_new();
	rep->would_hours = tally_new();
	rep->unknown_rcpt = tally_new();
	rep->would = tally_new();
	rep->triplets = tally_new();
	rep->ratelimited = tally_new();
}

/* report_add_input - append a name to the inputs */
void report_add_input(struct report *rep, const char *name)
{
	rep->inputs = xrealloc(rep->inputs, (rep->ninputs + 1) * sizeof(*rep->inputs));
	rep->inputs[rep->ninputs++] = xstrdup(name);
}

/* report_malformed - count it; remember where the first one was */
void report_malformed(struct report *rep, const char *file, unsigned long line)
{
	struct strbuf sb;

	if (rep->malformed++ == 0) {
		sb_init(&sb);
		sb_appendf(&sb, "%s:%lu", file, line);
		rep->first_malformed = sb_steal(&sb);
	}
}

/* ip_sortkey - family tag and address bytes, so addresses sort numerically */
static size_t ip_sortkey(const struct pm_ip *ip, unsigned char *key)
{
	key[0] = ip->family == AF_INET ? 4 : 6;
	memcpy(key + 1, ip->addr, 16);
	return 17;
}

/* count_client - the refused client's address and its network */
static void count_client(struct report *rep, const char *addr)
{
	unsigned char key[17];
	char buf[PM_IP_STRLEN + 8];
	struct pm_cidr net;
	struct pm_ip ip;
	unsigned bits;

	if (pm_ip_parse(addr, &ip) < 0) {
		/* not an address: listed as written, after all addresses */
		tally_get(rep->clients, addr, (const unsigned char *)"\xff", 1)->n[0]++;
		return;
	}
	tally_get(rep->clients, pm_ip_format(&ip, buf, sizeof(buf)), key, ip_sortkey(&ip, key))
	    ->n[0]++;
	memset(&net, 0, sizeof(net));
	net.net.family = ip.family;
	net.prefix = ip.family == AF_INET ? 24 : 48;
	for (bits = 0; bits < net.prefix; bits += 8)
		net.net.addr[bits / 8] = ip.addr[bits / 8];
	tally_get(rep->networks, pm_cidr_format(&net, buf, sizeof(buf)), key,
	          ip_sortkey(&net.net, key))
	    ->n[0]++;
}

/* judged_domain - the domain the record's check judged, as the report shows it */
static const char *judged_domain(const struct rec *r)
{
	const struct rec_check *c = NULL;

	if (strcmp(r->check, "spf") == 0)
		c = &r->spf;
	else if (strcmp(r->check, "helo_spf") == 0)
		c = &r->helo_spf;
	else if (strcmp(r->check, "dmarc") == 0)
		c = &r->dmarc;
	if (c != NULL && c->ran && c->domain != NULL && *c->domain != '\0')
		return c->domain;
	if (r->sender_dom != NULL)
		return r->sender_dom;
	if (r->sender != NULL && strcmp(r->sender, "<>") == 0)
		return "<>";
	return "-";
}

/* count_failing - the check's judged domain, under the check */
static void count_failing(struct report *rep, const struct rec *r)
{
	struct tally_entry *e = tally_get(rep->failing, r->check, NULL, 0);
	char *dom = pm_strlower(xstrdup(judged_domain(r)));

	if (e->sub == NULL)
		e->sub = tally_new();
	tally_get(e->sub, dom, NULL, 0)->n[0]++;
	free(dom);
}

/* count_rates - SPF, DKIM and DMARC results of one message at end of message */
static void count_rates(struct report *rep, const struct rec *r)
{
	if (r->spf.ran) {
		rep->total[RATE_SPF]++;
		rep->pass[RATE_SPF] += strcmp(r->spf.result, "pass") == 0;
	}
	if (r->dkim_ran) {
		rep->total[RATE_DKIM]++;
		rep->pass[RATE_DKIM] += r->dkim_pass;
	}
	if (r->dmarc.ran) {
		rep->total[RATE_DMARC]++;
		rep->pass[RATE_DMARC] += strcmp(r->dmarc.result, "pass") == 0;
	}
}

/* report_add - count one record */
void report_add(struct report *rep, const struct rec *r)
{
	int na = record_not_applied(r);
	char buf[TIMEFMT_LEN];

	if (rep->matched++ == 0 || r->time_ms < rep->first_ms)
		rep->first_ms = r->time_ms;
	if (rep->matched == 1 || r->time_ms > rep->last_ms)
		rep->last_ms = r->time_ms;
	rep->actions[r->action][na]++;
	if (r->has_reply) {
		struct strbuf key;

		sb_init(&key);
		if (r->reply_code != 0)
			sb_appendf(&key, "%d", r->reply_code);
		else
			sb_append(&key, "-");
		if (r->reply_xcode != NULL && *r->reply_xcode != '\0')
			sb_appendf(&key, " %s", r->reply_xcode);
		tally_get(rep->replies, key.s, NULL, 0)->n[na]++;
		sb_free(&key);
	}
	if (!na && record_refusal(r)) {
		if (r->client != NULL)
			count_client(rep, r->client);
		tally_get(rep->hours, timefmt_format_hour(r->time_ms, buf), NULL, 0)->n[0]++;
	}
	if (na && record_refusal(r)) {
		tally_get(rep->would, r->check != NULL ? r->check : "-", NULL, 0)
		    ->n[r->action == REC_TEMPFAIL]++;
		tally_get(rep->would_hours, timefmt_format_hour(r->time_ms, buf), NULL, 0)->n[0]++;
	}
	if (r->check != NULL && r->action != REC_ACCEPT)
		count_failing(rep, r);
	if (r->reason != NULL && strcmp(r->reason, "unknown_recipient") == 0) {
		for (size_t i = 0; i < r->nrcpts; i++) {
			char *rcpt = pm_strlower(xstrdup(r->rcpts[i]));

			tally_get(rep->unknown_rcpt, rcpt, NULL, 0)->n[0]++;
			free(rcpt);
		}
	}
	if (r->stage == REC_EOM && !r->would)
		count_rates(rep, r);
}

/* join_key - three strings as one unambiguous key: "LEN:A" "LEN:B" then C (the caller frees) */
static char *join_key(const char *a, const char *b, const char *c)
{
	struct strbuf sb;

	sb_init(&sb);
	sb_appendf(&sb, "%zu:%s%zu:%s%s", strlen(a), a, strlen(b), b, c);
	return sb_steal(&sb);
}

/* report_split_key - undo join_key */
void report_split_key(const char *key, char **buf, const char *parts[3])
{
	char *p = *buf = xstrdup(key);

	for (int i = 0; i < 2; i++) {
		char *colon;
		size_t len = strtoul(p, &colon, 10);

		/* join_key wrote it: the colon and len bytes are there; move them over the colon */
		p = colon + 1 + len;
		memmove(colon, colon + 1, len);
		colon[len] = '\0';
		parts[i] = colon;
	}
	parts[2] = p;
}

/*
 * count_triplet - one greylist element of a triplet. Per triplet:
 * n[0] new elements in the period, t[0] the first one's time; n[1]
 * passed elements in the period, t[2] the first one's time and t[3] its
 * age (-1 unknown); t[1] the latest early, passed or known element of
 * any record read.
 */
static void count_triplet(struct report *rep, const struct rec *r, const struct rec_greylist *g,
                          bool matched)
{
	char *key = join_key(g->network, g->sender, g->recipient);
	struct tally_entry *e;

	if (g->state == GL_NEW && !matched) {
		free(key);
		return;
	}
	e = tally_get(rep->triplets, key, NULL, 0);
	free(key);
	if (g->state != GL_NEW && r->time_ms > e->t[1])
		e->t[1] = r->time_ms;
	if (!matched)
		return;
	if (g->state == GL_NEW && (e->n[0]++ == 0 || r->time_ms < e->t[0]))
		e->t[0] = r->time_ms;
	if (g->state == GL_PASSED && (e->n[1]++ == 0 || r->time_ms < e->t[2])) {
		e->t[2] = r->time_ms;
		e->t[3] = g->age;
	}
}

/* count_ratelimited - a rate-limit refusal (state over) of a rule, key kind and value */
static void count_ratelimited(struct report *rep, const struct rec *r,
                              const struct rec_ratelimit *l)
{
	char *key = join_key(l->rule, l->key, l->value);
	size_t lr = strlen(l->rule), lk = strlen(l->key), lv = strlen(l->value);
	unsigned char *sortkey = xmalloc(lr + lk + lv + 2);
	struct tally_entry *e;

	/* ties sort by rule, key kind, value */
	memcpy(sortkey, l->rule, lr);
	sortkey[lr] = '\0';
	memcpy(sortkey + lr + 1, l->key, lk);
	sortkey[lr + 1 + lk] = '\0';
	memcpy(sortkey + lr + lk + 2, l->value, lv);
	e = tally_get(rep->ratelimited, key, sortkey, lr + lk + lv + 2);
	if (e->n[0]++ == 0 || r->time_ms < e->t[0])
		e->t[0] = r->time_ms;
	if (e->n[0] == 1 || r->time_ms > e->t[1])
		e->t[1] = r->time_ms;
	free(sortkey);
	free(key);
}

/* report_add_state - the greylist and rate-limit elements of a record read */
void report_add_state(struct report *rep, const struct rec *r, bool matched, const char *file,
                      unsigned long line)
{
	if (r->state_skipped > 0) {
		if (rep->state_skipped == 0) {
			struct strbuf sb;

			sb_init(&sb);
			sb_appendf(&sb, "%s:%lu: %s", file, line, r->state_why);
			rep->first_state_skipped = sb_steal(&sb);
		}
		rep->state_skipped += (long long)r->state_skipped;
	}
	for (size_t i = 0; i < r->ngreylist; i++) {
		const struct rec_greylist *g = &r->greylist[i];

		if (matched)
			rep->gl_states[g->state]++;
		if (g->state <= GL_KNOWN && g->network != NULL && g->sender != NULL &&
		    g->recipient != NULL)
			count_triplet(rep, r, g, matched);
	}
	for (size_t i = 0; matched && i < r->nratelimit; i++)
		if (r->ratelimit[i].state == RL_OVER)
			count_ratelimited(rep, r, &r->ratelimit[i]);
}

/* cmp_ll - qsort order of long long */
static int cmp_ll(const void *a, const void *b)
{
	long long x = *(const long long *)a, y = *(const long long *)b;

	return (x > y) - (x < y);
}

/* nearest_rank - the p-th percentile (0 < p <= 100) of n sorted values, nearest rank */
static long long nearest_rank(const long long *v, size_t n, unsigned p)
{
	size_t rank = ((size_t)p * n + 99) / 100;

	return v[rank > 0 ? rank - 1 : 0];
}

/* report_greylisting - count the triplets; the ages at pass, sorted, give the percentiles */
void report_greylisting(const struct report *rep, struct gl_summary *s)
{
	struct tally_entry **v;
	long long *ages;
	size_t n;

	memset(s, 0, sizeof(*s));
	s->age_median = s->age_p90 = -1;
	v = tally_sorted(rep->triplets, TALLY_BY_KEY, &n);
	ages = xcalloc(n > 0 ? n : 1, sizeof(*ages));
	for (size_t i = 0; i < n; i++) {
		const struct tally_entry *e = v[i];

		if (e->n[0] > 0) {
			s->first_seen++;
			s->never_retried += e->t[1] <= e->t[0];
		}
		if (e->n[1] > 0) {
			s->passed++;
			if (e->t[3] >= 0)
				ages[s->aged++] = e->t[3];
		}
	}
	if (s->aged > 0) {
		qsort(ages, (size_t)s->aged, sizeof(*ages), cmp_ll);
		s->age_median = nearest_rank(ages, (size_t)s->aged, 50);
		s->age_p90 = nearest_rank(ages, (size_t)s->aged, 90);
	}
	free(ages);
	free(v);
}

/* report_free - release everything */
void report_free(struct report *rep)
{
	for (size_t i = 0; i < rep->ninputs; i++)
		free(rep->inputs[i]);
	free(rep->inputs);
	free(rep->first_malformed);
	tally_free(rep->replies);
	tally_free(rep->clients);
	tally_free(rep->networks);
	tally_free(rep->failing);
	tally_free(rep->hours);
	tally_free(rep->would_hours);
	tally_free(rep->unknown_rcpt);
	tally_free(rep->would);
	tally_free(rep->triplets);
	tally_free(rep->ratelimited);
	free(rep->first_state_skipped);
	memset(rep, 0, sizeof(*rep));
}
