/*
 * NAME
 *	jsonlog 3 - the JSON lines decision log (schema version 1)
 * SYNOPSIS
 *	#include "jsonlog.h"
 *
 *	int jsonlog_open(const char *path, char *why, size_t whysize);
 *	char *jsonlog_path(char *buf, size_t bufsize);
 *	void jsonlog_close(void);
 *	void jsonlog_write(const struct pm_decision *d);
 *	bool jsonlog_flush(long ms);
 *	void jsonlog_shutdown(long ms, struct jsonlog_counts *at_exit);
 *	void jsonlog_counts(struct jsonlog_counts *c);
 *	void jsonlog_on_loss(jsonlog_loss_fn *fn);
 *	char *jsonlog_format(const struct pm_decision *d, const struct timespec *when);
 *	void jsonlog_append_string(struct strbuf *sb, const char *s, size_t n);
 * DESCRIPTION
 *	A record is one JSON object on one line, keys always present and in
 *	this order (a value not known is null):
 *
 *	  v time queue_id stage client{addr name iprev}
 *	  mta{host daemon local_addr} helo sender recipients
 *	  checks{helo_spf spf dkim dmarc arc greylist ratelimit} dnsbl action
 *	  would dry_run
 *	  reply{code xcode text} check reason rule detail
 *
 *	time is RFC 3339 UTC with milliseconds. queue_id is null for
 *	NOQUEUE; client.addr null for "unknown" (no address), client.name
 *	null for "unknown" or an address literal "[...]" (no name). mta is
 *	what the MTA said of itself: its host name (macro j), its daemon
 *	name ({daemon_name}) and the local address the client connected to,
 *	each null when not given (or empty). A member
 *	of checks is present only when its check ran: helo_spf and spf
 *	{result, domain}, dkim [{result, domain, selector}...], dmarc
 *	{result, domain (the author domain), policy, disposition} (an empty
 *	policy or disposition is null; override_comment only with a comment),
 *	arc (when verified; result none without ARC header fields, no sets)
 *	{result, reason, oldest_pass,
 *	sets [{i, d, s, a, cv, as}...], override {sealer, instance, method,
 *	applied} when a trusted sealer rescued a DMARC fail}, greylist
 *	[{state, network, sender, recipient, age, retry_in, backend, skip}...]
 *	(age and retry_in when known, skip when skipped), ratelimit [{rule,
 *	key, value, count, limit, window, action, state, backend}...] (a
 *	count not known is null). reply is split into its basic code
 *	(a number), enhanced code and text; null when there is no reply (an
 *	accepted message). Strings are escaped by jsonlog_append_string(),
 *	so any input bytes give valid JSON.
 *
 *	The file is opened O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC, mode
 *	0640 (less the umask). jsonlog_write() builds the record in memory
 *	and queues it; it never waits for the disk. One writer thread
 *	(started at the first open) takes the queue in order and writes
 *	each record with one write(2), a short write continued for the rest;
 *	it owns the file descriptors: a reopen or close is queued too, so
 *	records queued before a reopen still go to the old file. When a
 *	write fails part way (the disk filled), the line is left unfinished
 *	and the next record starts with a newline, so that only the broken
 *	record is lost. When the queue holds JSONLOG_QUEUE_BYTES (the disk
 *	stalls), new records are dropped and counted.
 * DIAGNOSTICS
 *	jsonlog_open() returns -1 and why. A record lost to a failed write,
 *	and one dropped on a full queue, are counted (jsonlog_counts) and
 *	each is told to the function set with jsonlog_on_loss(), which
 *	reports them (sink.c: at most once a minute); jsonlog_shutdown()
 *	gives the totals since start and the records the writer could not
 *	write before exit. This module logs nothing itself, and the caller
 *	of jsonlog_write() never sees any of it.
 */
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "jsonlog.h"
#include "util.h"

/*
 * The queue between the threads that decide (jsonlog_write) and the one
 * writer thread: records, and the reopens and closes in the order they
 * were asked for. Everything here is under json_lock; the writer holds
 * it only to take an entry, never across write(2).
 */
struct entry {
	struct entry *next;
	char *text; /* a record (starting with the spare '\n'), or NULL: a swap */
	size_t len; /* its bytes */
	int fd;     /* a swap: the new fd (-1: close) */
	char *path; /* its path */
	dev_t dev;  /* and the identity of its file */
	ino_t ino;
	off_t size;
};

static pthread_mutex_t json_lock = PTHREAD_MUTEX_INITIALIZER;
static pthread_cond_t json_work = PTHREAD_COND_INITIALIZER; /* an entry was queued */
static pthread_cond_t json_idle = PTHREAD_COND_INITIALIZER; /* the writer has nothing to do */
static struct entry *q_head, *q_tail;                       /* the queue */
static size_t q_bytes;                                      /* record bytes queued */
static bool writer_started;                                 /* the writer thread runs */
static bool writer_busy;    /* it holds an entry it took from the queue */
static atomic_bool json_on; /* a log is open (as last asked), read without the lock */
static char *json_file;     /* its path */
/* records lost to write errors, and dropped on a full queue, since start */
static unsigned long json_lost_all, json_dropped_all;
static jsonlog_loss_fn *json_on_loss; /* told of each loss (jsonlog_on_loss) */

/* utf8_seq - length (2..4) of the well-formed UTF-8 sequence at s (avail bytes), else 0 */
static size_t utf8_seq(const unsigned char *s, size_t avail, unsigned *cp)
{
	unsigned c = s[0], lo = 0x80, hi = 0xbf;
	size_t len;

	if (c >= 0xc2 && c <= 0xdf) {
		len = 2;
		*cp = c & 0x1f;
	} else if (c >= 0xe0 && c <= 0xef) {
		len = 3;
		*cp = c & 0x0f;
		if (c == 0xe0)
			lo = 0xa0; /* no overlongs */
		else if (c == 0xed)
			hi = 0x9f; /* no surrogates */
	} else if (c >= 0xf0 && c <= 0xf4) {
		len = 4;
		*cp = c & 0x07;
		if (c == 0xf0)
			lo = 0x90; /* no overlongs */
		else if (c == 0xf4)
			hi = 0x8f; /* nothing above U+10FFFF */
	} else {
		return 0;
	}
	if (avail < len || s[1] < lo || s[1] > hi)
		return 0;
	for (size_t i = 1; i < len; i++) {
		if ((s[i] & 0xc0) != 0x80)
			return 0;
		*cp = (*cp << 6) | (s[i] & 0x3f);
	}
	return len;
}

/* append_u - "\uXXXX" */
static void append_u(struct strbuf *sb, unsigned cp)
{
	sb_appendf(sb, "\\u%04x", cp);
}

/* jsonlog_append_string - s (n bytes; NULL: null) as a JSON string, escaped, capped */
void jsonlog_append_string(struct strbuf *sb, const char *s, size_t n)
{
	const unsigned char *u = (const unsigned char *)s;
	size_t lim = n, i = 0, len;
	bool cut = false;
	unsigned cp;

	if (s == NULL) {
		sb_append(sb, "null");
		return;
	}
	if (n > JSONLOG_STRING_MAX) {
		cut = true;
		lim = JSONLOG_STRING_MAX;
		/* do not split a character: back off over continuation bytes */
		for (int k = 0; k < 3 && lim > 0 && (u[lim] & 0xc0) == 0x80; k++)
			lim--;
	}
	sb_appendc(sb, '"');
	while (i < lim) {
		unsigned c = u[i];

		if (c < 0x80) {
			if (c == '"' || c == '\\') {
				sb_appendc(sb, '\\');
				sb_appendc(sb, (char)c);
			} else if (c < 0x20 || c == 0x7f) {
				append_u(sb, c);
			} else {
				sb_appendc(sb, (char)c);
			}
			i++;
		} else if ((len = utf8_seq(u + i, lim - i, &cp)) == 0) {
			append_u(sb, c); /* not UTF-8: the byte itself */
			i++;
		} else {
			if (cp < 0xa0 || cp == 0x2028 || cp == 0x2029)
				append_u(sb, cp); /* C1 controls, line and paragraph separators */
			else
				sb_appendn(sb, s + i, len);
			i += len;
		}
	}
	if (cut)
		sb_append(sb, "...");
	sb_appendc(sb, '"');
}

/* put_str - a string member value, or null */
static void put_str(struct strbuf *sb, const char *s)
{
	jsonlog_append_string(sb, s, s != NULL ? strlen(s) : 0);
}

/* put_bool - true or false */
static void put_bool(struct strbuf *sb, bool b)
{
	sb_append(sb, b ? "true" : "false");
}

/* nonempty - s, or NULL when it is empty */
static const char *nonempty(const char *s)
{
	return s != NULL && *s != '\0' ? s : NULL;
}

/* client_name - the client's name, or NULL when the MTA says it has none */
static const char *client_name(const char *name)
{
	if (name == NULL || *name == '\0' || strcmp(name, "unknown") == 0 || name[0] == '[')
		return NULL;
	return name;
}

/* put_time - "2026-11-29T21:30:00.123Z" */
static void put_time(struct strbuf *sb, const struct timespec *when)
{
	struct tm tm;
	char ts[64];
	time_t sec = when->tv_sec;
	long ms = when->tv_nsec / 1000000;

	if (ms < 0 || ms > 999)
		ms = 0;
	if (gmtime_r(&sec, &tm) == NULL || strftime(ts, sizeof(ts), "%Y-%m-%dT%H:%M:%S", &tm) == 0)
		snprintf(ts, sizeof(ts), "1970-01-01T00:00:00");
	sb_appendf(sb, "\"%s.%03ldZ\"", ts, ms);
}

/* digit_run - the number of decimal digits at s */
static size_t digit_run(const char *s)
{
	size_t n = 0;

	while (s[n] >= '0' && s[n] <= '9')
		n++;
	return n;
}

/* xcode_len - length of an enhanced status code "C.SSS.DDD" at s (then space or end), else 0 */
static size_t xcode_len(const char *s)
{
	size_t a, b, c;

	if (!(s[0] >= '2' && s[0] <= '5') || s[1] != '.')
		return 0;
	a = digit_run(s + 2);
	if (a < 1 || a > 3 || s[2 + a] != '.')
		return 0;
	b = digit_run(s + 3 + a);
	if (b < 1 || b > 3)
		return 0;
	c = 3 + a + b;
	return s[c] == ' ' || s[c] == '\0' ? c : 0;
}

/* put_reply - {"code": 550, "xcode": "5.7.26", "text": "..."} from "550 5.7.26 text", or null */
static void put_reply(struct strbuf *sb, const char *r)
{
	const char *p = r;
	size_t xlen = 0;
	int code = -1;

	if (r == NULL) {
		sb_append(sb, "null");
		return;
	}
	if (digit_run(p) == 3 && (p[3] == ' ' || p[3] == '\0')) {
		code = (p[0] - '0') * 100 + (p[1] - '0') * 10 + (p[2] - '0');
		p += p[3] == ' ' ? 4 : 3;
		xlen = xcode_len(p);
	}
	sb_append(sb, "{\"code\":");
	if (code >= 0)
		sb_appendf(sb, "%d", code);
	else
		sb_append(sb, "null");
	sb_append(sb, ",\"xcode\":");
	if (xlen > 0) {
		jsonlog_append_string(sb, p, xlen);
		p += xlen;
		if (*p == ' ')
			p++;
	} else {
		sb_append(sb, "null");
	}
	sb_append(sb, ",\"text\":");
	put_str(sb, p);
	sb_appendc(sb, '}');
}

/* put_spf - {"result": ..., "domain": ...[, "scope": ...]} */
static void put_spf(struct strbuf *sb, const char *name, const char *result, const char *domain,
                    const char *scope, bool *first)
{
	sb_appendf(sb, "%s\"%s\":{\"result\":", *first ? "" : ",", name);
	put_str(sb, result);
	sb_append(sb, ",\"domain\":");
	put_str(sb, nonempty(domain));
	if (scope != NULL) {
		sb_append(sb, ",\"scope\":");
		put_str(sb, scope);
	}
	sb_appendc(sb, '}');
	*first = false;
}

/* put_rua - rua= as published: one string per URI (blanks around commas dropped) */
static void put_rua(struct strbuf *sb, const char *rua)
{
	const char *p = rua;
	bool first = true;

	sb_appendc(sb, '[');
	while (p != NULL && *p != '\0') {
		const char *comma = strchr(p, ',');
		size_t len = comma != NULL ? (size_t)(comma - p) : strlen(p);

		while (len > 0 && (*p == ' ' || *p == '\t')) {
			p++;
			len--;
		}
		while (len > 0 && (p[len - 1] == ' ' || p[len - 1] == '\t'))
			len--;
		if (len > 0) {
			if (!first)
				sb_appendc(sb, ',');
			jsonlog_append_string(sb, p, len);
			first = false;
		}
		p = comma != NULL ? comma + 1 : NULL;
	}
	sb_appendc(sb, ']');
}

/* put_dmarc_report - the members of checks.dmarc an aggregate report needs (RFC 9990) */
static void put_dmarc_report(struct strbuf *sb, const struct pm_decision *d)
{
	static const char *const tags[8] = {"p", "sp", "np", "t", "psd", "adkim", "aspf", "pct"};

	sb_append(sb, ",\"policy_domain\":");
	put_str(sb, nonempty(d->dmarc_pdomain));
	sb_append(sb, ",\"discovery\":");
	put_str(sb, d->dmarc_discovery != NULL ? d->dmarc_discovery : "treewalk");
	sb_append(sb, ",\"published\":");
	if (d->dmarc_published) {
		for (size_t i = 0; i < 8; i++) {
			sb_appendf(sb, "%s\"%s\":", i == 0 ? "{" : ",", tags[i]);
			put_str(sb, d->dmarc_pub[i]);
		}
		sb_append(sb, ",\"rua\":");
		put_rua(sb, d->dmarc_rua);
		sb_appendc(sb, '}');
	} else {
		sb_append(sb, "null");
	}
	sb_append(sb, ",\"override\":");
	put_str(sb, nonempty(d->dmarc_override));
	if (d->dmarc_override_comment != NULL) { /* optional: records without it as before */
		sb_append(sb, ",\"override_comment\":");
		put_str(sb, d->dmarc_override_comment);
	}
	sb_append(sb, ",\"dkim\":");
	put_str(sb, d->dmarc_dkim != NULL ? d->dmarc_dkim : "fail");
	sb_append(sb, ",\"spf\":");
	put_str(sb, d->dmarc_spf != NULL ? d->dmarc_spf : "fail");
}

/* put_arc - ",\"arc\":{...}" (or without the comma when first): the chain and any rescue */
static void put_arc(struct strbuf *sb, const struct pm_decision *d, bool first)
{
	sb_append(sb, first ? "\"arc\":{\"result\":" : ",\"arc\":{\"result\":");
	put_str(sb, d->arc);
	sb_append(sb, ",\"reason\":");
	put_str(sb, nonempty(d->arc_reason));
	sb_appendf(sb, ",\"oldest_pass\":%u,\"sets\":[", d->arc_oldest_pass);
	for (size_t i = 0; d->arc_sets != NULL && i < d->narc_sets; i++) {
		const struct pm_decision_arc_set *a = &d->arc_sets[i];

		sb_appendf(sb, "%s{\"i\":%u,\"d\":", i > 0 ? "," : "", a->instance);
		put_str(sb, nonempty(a->domain));
		sb_append(sb, ",\"s\":");
		put_str(sb, nonempty(a->selector));
		sb_append(sb, ",\"a\":");
		put_str(sb, nonempty(a->algorithm));
		sb_append(sb, ",\"cv\":");
		put_str(sb, nonempty(a->cv));
		sb_append(sb, ",\"as\":");
		put_bool(sb, a->as_valid);
		sb_appendc(sb, '}');
	}
	sb_appendc(sb, ']');
	if (d->arc_sealer != NULL) {
		sb_append(sb, ",\"override\":{\"sealer\":");
		put_str(sb, d->arc_sealer);
		sb_appendf(sb, ",\"instance\":%u,\"method\":", d->arc_instance);
		put_str(sb, d->arc_method != NULL ? d->arc_method : "");
		sb_append(sb, ",\"applied\":");
		put_bool(sb, d->arc_override_applied);
		sb_appendc(sb, '}');
	}
	sb_appendc(sb, '}');
}

/* put_greylist - ",\"greylist\":[{state, network, sender, recipient, age, retry_in, backend,
 * skip}]" */
static void put_greylist(struct strbuf *sb, const struct pm_decision *d, bool first)
{
	sb_append(sb, first ? "\"greylist\":[" : ",\"greylist\":[");
	for (size_t i = 0; i < d->ngreylist; i++) {
		const struct pm_decision_greylist *g = &d->greylist[i];

		sb_append(sb, i > 0 ? ",{\"state\":" : "{\"state\":");
		put_str(sb, g->state != NULL ? g->state : "error");
		sb_append(sb, ",\"network\":");
		put_str(sb, g->network);
		sb_append(sb, ",\"sender\":");
		put_str(sb, g->sender);
		sb_append(sb, ",\"recipient\":");
		put_str(sb, g->recipient);
		if (g->age >= 0)
			sb_appendf(sb, ",\"age\":%ld", g->age);
		if (g->retry_in >= 0)
			sb_appendf(sb, ",\"retry_in\":%ld", g->retry_in);
		sb_append(sb, ",\"backend\":");
		put_str(sb, g->backend);
		if (g->skip != NULL) {
			sb_append(sb, ",\"skip\":");
			put_str(sb, g->skip);
		}
		sb_appendc(sb, '}');
	}
	sb_appendc(sb, ']');
}

/* put_ratelimit - ",\"ratelimit\":[{rule, key, value, count, limit, window, action, state,
 * backend}]" */
static void put_ratelimit(struct strbuf *sb, const struct pm_decision *d, bool first)
{
	sb_append(sb, first ? "\"ratelimit\":[" : ",\"ratelimit\":[");
	for (size_t i = 0; i < d->nratelimit; i++) {
		const struct pm_decision_ratelimit *r = &d->ratelimit[i];

		sb_append(sb, i > 0 ? ",{\"rule\":" : "{\"rule\":");
		put_str(sb, r->rule != NULL ? r->rule : "");
		sb_append(sb, ",\"key\":");
		put_str(sb, r->key != NULL ? r->key : "");
		sb_append(sb, ",\"value\":");
		put_str(sb, r->value != NULL ? r->value : "");
		if (r->count >= 0)
			sb_appendf(sb, ",\"count\":%ld", r->count);
		else
			sb_append(sb, ",\"count\":null");
		sb_appendf(sb, ",\"limit\":%ld,\"window\":%ld,\"action\":", r->limit, r->window);
		put_str(sb, r->action != NULL ? r->action : "tempfail");
		sb_append(sb, ",\"state\":");
		put_str(sb, r->state != NULL ? r->state : "error");
		sb_append(sb, ",\"backend\":");
		put_str(sb, r->backend);
		sb_appendc(sb, '}');
	}
	sb_appendc(sb, ']');
}

/* put_checks - the checks object: a member for each check that ran */
static void put_checks(struct strbuf *sb, const struct pm_decision *d)
{
	bool first = true;

	sb_appendc(sb, '{');
	if (d->helo_spf != NULL)
		put_spf(sb, "helo_spf", d->helo_spf, d->helo_spf_domain, NULL, &first);
	if (d->spf != NULL)
		put_spf(sb, "spf", d->spf, d->spf_domain,
		        d->spf_scope != NULL ? d->spf_scope : "mfrom", &first);
	if (d->dkim_done) {
		sb_append(sb, first ? "\"dkim\":[" : ",\"dkim\":[");
		for (size_t i = 0; d->dkim != NULL && i < d->ndkim; i++) {
			sb_append(sb, i > 0 ? ",{\"result\":" : "{\"result\":");
			put_str(sb, d->dkim[i].result);
			sb_append(sb, ",\"domain\":");
			put_str(sb, nonempty(d->dkim[i].domain));
			sb_append(sb, ",\"selector\":");
			put_str(sb, nonempty(d->dkim[i].selector));
			sb_appendc(sb, '}');
		}
		sb_appendc(sb, ']');
		first = false;
	}
	if (d->dmarc != NULL) {
		sb_append(sb, first ? "\"dmarc\":{\"result\":" : ",\"dmarc\":{\"result\":");
		put_str(sb, d->dmarc);
		sb_append(sb, ",\"domain\":");
		put_str(sb, nonempty(d->header_from));
		sb_append(sb, ",\"policy\":");
		put_str(sb, nonempty(d->dmarc_policy));
		sb_append(sb, ",\"disposition\":");
		put_str(sb, nonempty(d->dmarc_dis));
		put_dmarc_report(sb, d);
		sb_appendc(sb, '}');
		first = false;
	}
	if (d->arc != NULL) {
		put_arc(sb, d, first);
		first = false;
	}
	if (d->greylist != NULL && d->ngreylist > 0) {
		put_greylist(sb, d, first);
		first = false;
	}
	if (d->ratelimit != NULL && d->nratelimit > 0)
		put_ratelimit(sb, d, first);
	sb_appendc(sb, '}');
}

/* build - the record for d into sb (which may already hold something) */
static void build(struct strbuf *sb, const struct pm_decision *d, const struct timespec *when)
{
	const char *qid = nonempty(d->queue_id), *addr = nonempty(d->client_addr);

	if (qid != NULL && strcmp(qid, "NOQUEUE") == 0)
		qid = NULL;
	if (addr != NULL && strcmp(addr, "unknown") == 0)
		addr = NULL;
	sb_append(sb, "{\"v\":1,\"time\":");
	put_time(sb, when);
	sb_append(sb, ",\"queue_id\":");
	put_str(sb, qid);
	sb_append(sb, ",\"stage\":");
	put_str(sb, d->stage);
	sb_append(sb, ",\"client\":{\"addr\":");
	put_str(sb, addr);
	sb_append(sb, ",\"name\":");
	put_str(sb, client_name(d->client_name));
	sb_append(sb, ",\"iprev\":");
	put_str(sb, d->iprev);
	sb_append(sb, "},\"mta\":{\"host\":");
	put_str(sb, nonempty(d->mta_host));
	sb_append(sb, ",\"daemon\":");
	put_str(sb, nonempty(d->mta_daemon));
	sb_append(sb, ",\"local_addr\":");
	put_str(sb, nonempty(d->local_addr));
	sb_append(sb, "},\"helo\":");
	put_str(sb, d->helo);
	sb_append(sb, ",\"sender\":");
	put_str(sb, d->sender);
	sb_append(sb, ",\"recipients\":[");
	for (size_t i = 0; d->rcpts != NULL && i < d->nrcpts; i++) {
		if (i > 0)
			sb_appendc(sb, ',');
		put_str(sb, d->rcpts[i] != NULL ? d->rcpts[i] : "");
	}
	sb_append(sb, "],\"checks\":");
	put_checks(sb, d);
	sb_append(sb, ",\"dnsbl\":[");
	for (size_t i = 0; d->dnsbl != NULL && i < d->ndnsbl; i++) {
		sb_append(sb, i > 0 ? ",{\"zone\":" : "{\"zone\":");
		put_str(sb, d->dnsbl[i].zone);
		sb_append(sb, ",\"answer\":");
		put_str(sb, d->dnsbl[i].answer);
		sb_appendc(sb, '}');
	}
	sb_append(sb, "],\"action\":");
	put_str(sb, d->action);
	sb_append(sb, ",\"would\":");
	put_bool(sb, d->would);
	sb_append(sb, ",\"dry_run\":");
	put_bool(sb, d->dry_run);
	sb_append(sb, ",\"reply\":");
	put_reply(sb, d->reply);
	sb_append(sb, ",\"check\":");
	put_str(sb, d->check);
	sb_append(sb, ",\"reason\":");
	put_str(sb, d->reason);
	sb_append(sb, ",\"rule\":");
	put_str(sb, d->rule);
	sb_append(sb, ",\"detail\":");
	put_str(sb, d->detail);
	sb_append(sb, "}\n");
}

/* jsonlog_format - the record for d at time when, ending in "\n"; the caller frees */
char *jsonlog_format(const struct pm_decision *d, const struct timespec *when)
{
	static const struct pm_decision none;
	struct strbuf sb;

	sb_init(&sb);
	build(&sb, d != NULL ? d : &none, when);
	return sb_steal(&sb);
}

/* counts_of - the totals and path into c; under json_lock */
static void counts_of(struct jsonlog_counts *c, const char *path)
{
	c->lost = json_lost_all;
	c->dropped = json_dropped_all;
	c->left = 0;
	snprintf(c->path, sizeof(c->path), "%s", path != NULL ? path : "");
}

/* jsonlog_on_loss - fn is told of every record lost or dropped from now on (NULL: nobody) */
void jsonlog_on_loss(jsonlog_loss_fn *fn)
{
	pthread_mutex_lock(&json_lock);
	json_on_loss = fn;
	pthread_mutex_unlock(&json_lock);
}

/* jsonlog_counts - the records lost and dropped since start, and the path of the log in use */
void jsonlog_counts(struct jsonlog_counts *c)
{
	pthread_mutex_lock(&json_lock);
	counts_of(c, json_file);
	pthread_mutex_unlock(&json_lock);
}

/* enqueue - append e to the queue and wake the writer; under json_lock */
static void enqueue(struct entry *e)
{
	e->next = NULL;
	if (q_tail != NULL)
		q_tail->next = e;
	else
		q_head = e;
	q_tail = e;
	if (e->text != NULL)
		q_bytes += e->len;
	pthread_cond_signal(&json_work);
}

/* write_all - write n bytes, continuing after short writes; bytes written, errno set on error */
static size_t write_all(int fd, const char *p, size_t n)
{
	size_t done = 0;

	while (done < n) {
		ssize_t w = write(fd, p + done, n - done);

		if (w > 0) {
			done += (size_t)w;
		} else if (w < 0 && errno == EINTR) {
			continue;
		} else {
			if (w == 0)
				errno = EIO; /* nothing written and no error: do not spin */
			break;
		}
	}
	return done;
}

/* The writer thread's own state: the file it writes to. */
struct sink {
	int fd;     /* -1: none */
	char *path; /* its path, for the reports */
	dev_t dev;  /* and identity */
	ino_t ino;
	bool partial; /* the last record was written only in part */
};

/* sink_swap - make the swap entry e the file in use, closing the old one */
static void sink_swap(struct sink *k, struct entry *e)
{
	if (k->fd >= 0)
		close(k->fd);
	if (e->fd < 0 || e->size == 0 || e->dev != k->dev || e->ino != k->ino)
		k->partial = false; /* a new file: no broken line to end */
	k->fd = e->fd;
	k->dev = e->dev;
	k->ino = e->ino;
	free(k->path);
	k->path = e->path; /* moved */
	e->path = NULL;
}

/* sink_write - write the record e; a failure is counted and told to the loss function */
static void sink_write(struct sink *k, const struct entry *e)
{
	struct jsonlog_counts c;
	jsonlog_loss_fn *fn;
	size_t skip = k->partial ? 0 : 1, done;
	int err;

	if (k->fd < 0)
		return;
	done = write_all(k->fd, e->text + skip, e->len - skip);
	if (done == e->len - skip) {
		k->partial = false;
		return;
	}
	err = errno;
	/* skip is 0 when a newline went before the record */
	if (done > 1 - skip)
		k->partial = true; /* part of the record is out */
	else if (done == 1 - skip)
		k->partial = false; /* the line is ended, nothing more */
	pthread_mutex_lock(&json_lock);
	json_lost_all++;
	counts_of(&c, k->path);
	fn = json_on_loss;
	pthread_mutex_unlock(&json_lock);
	if (fn != NULL)
		fn(JSONLOG_WRITE_FAILED, err, &c);
}

/* writer_main - the writer thread: take entries in order, write records, swap files */
static void *writer_main(void *arg)
{
	struct sink k = {.fd = -1};
	struct entry *e;

	(void)arg;
	for (;;) {
		pthread_mutex_lock(&json_lock);
		while (q_head == NULL) {
			writer_busy = false;
			pthread_cond_broadcast(&json_idle);
			pthread_cond_wait(&json_work, &json_lock);
		}
		e = q_head;
		q_head = e->next;
		if (q_head == NULL)
			q_tail = NULL;
		if (e->text != NULL)
			q_bytes -= e->len;
		writer_busy = true;
		pthread_mutex_unlock(&json_lock);

		if (e->text == NULL)
			sink_swap(&k, e);
		else
			sink_write(&k, e);
		free(e->text);
		free(e->path);
		free(e);
	}
	return NULL;
}

/* queue_swap - queue a switch to fd (-1: close) and remember path as the log in use; under
 * json_lock */
static void queue_swap(int fd, const char *path, const struct stat *st)
{
	struct entry *e = xcalloc(1, sizeof(*e));

	e->fd = fd;
	e->path = xstrdup(path);
	if (st != NULL) {
		e->dev = st->st_dev;
		e->ino = st->st_ino;
		e->size = st->st_size;
	}
	enqueue(e);
	free(json_file);
	json_file = xstrdup(path);
	atomic_store(&json_on, fd >= 0);
}

/* jsonlog_open - append records to path from now on; NULL or "" closes; 0 or -1 with why */
int jsonlog_open(const char *path, char *why, size_t whysize)
{
	struct stat st;
	pthread_t tid;
	int fd, rc = 0;

	if (path == NULL || *path == '\0') {
		jsonlog_close();
		return 0;
	}
	fd = open(path, O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC, 0640);
	if (fd < 0) {
		if (why != NULL && whysize > 0)
			snprintf(why, whysize, "%s: %s", path, strerror(errno));
		return -1;
	}
	if (fstat(fd, &st) != 0) {
		if (why != NULL && whysize > 0)
			snprintf(why, whysize, "%s: fstat: %s", path, strerror(errno));
		close(fd);
		return -1;
	}
	pthread_mutex_lock(&json_lock);
	if (!writer_started) {
		rc = pthread_create(&tid, NULL, writer_main, NULL);
		if (rc == 0) {
			pthread_detach(tid);
			writer_started = true;
		}
	}
	if (rc == 0)
		queue_swap(fd, path, &st);
	pthread_mutex_unlock(&json_lock);
	if (rc != 0) {
		if (why != NULL && whysize > 0)
			snprintf(why, whysize, "%s: cannot start the writer thread: %s", path,
			         strerror(rc));
		close(fd);
		return -1;
	}
	return 0;
}

/* jsonlog_close - stop writing records (the ones queued are still written) */
void jsonlog_close(void)
{
	pthread_mutex_lock(&json_lock);
	if (writer_started && atomic_load(&json_on))
		queue_swap(-1, "", NULL);
	pthread_mutex_unlock(&json_lock);
}

/* jsonlog_path - the path of the log in use into buf ("" when none); returns buf */
char *jsonlog_path(char *buf, size_t bufsize)
{
	if (buf == NULL || bufsize == 0)
		return buf;
	pthread_mutex_lock(&json_lock);
	snprintf(buf, bufsize, "%s", atomic_load(&json_on) && json_file != NULL ? json_file : "");
	pthread_mutex_unlock(&json_lock);
	return buf;
}

/* jsonlog_write - queue one record for d, stamped now, when a log is open */
void jsonlog_write(const struct pm_decision *d)
{
	struct jsonlog_counts c;
	jsonlog_loss_fn *fn;
	struct timespec now;
	struct strbuf sb;
	struct entry *e;

	if (d == NULL || !atomic_load(&json_on))
		return;
	clock_gettime(CLOCK_REALTIME, &now);
	sb_init(&sb);
	sb_appendc(&sb, '\n'); /* sent only to end a line a failed write left unfinished */
	build(&sb, d, &now);
	e = xcalloc(1, sizeof(*e));
	e->len = sb.len;
	e->text = sb_steal(&sb);

	pthread_mutex_lock(&json_lock);
	if (!atomic_load(&json_on)) { /* closed meanwhile */
		pthread_mutex_unlock(&json_lock);
		free(e->text);
		free(e);
		return;
	}
	if (q_bytes > 0 && q_bytes + e->len > JSONLOG_QUEUE_BYTES) {
		json_dropped_all++;
		counts_of(&c, json_file);
		fn = json_on_loss;
		pthread_mutex_unlock(&json_lock);
		free(e->text);
		free(e);
		if (fn != NULL)
			fn(JSONLOG_QUEUE_FULL, 0, &c);
		return;
	}
	enqueue(e);
	pthread_mutex_unlock(&json_lock);
}

/* wait_idle - wait up to ms for the queue to be written; true when it was; under json_lock */
static bool wait_idle(long ms)
{
	struct timespec until;

	clock_gettime(CLOCK_REALTIME, &until);
	until.tv_sec += ms / 1000;
	until.tv_nsec += (ms % 1000) * 1000000L;
	if (until.tv_nsec >= 1000000000L) {
		until.tv_sec++;
		until.tv_nsec -= 1000000000L;
	}
	while (q_head != NULL || writer_busy)
		if (pthread_cond_timedwait(&json_idle, &json_lock, &until) == ETIMEDOUT)
			break;
	return q_head == NULL && !writer_busy;
}

/* jsonlog_flush - wait up to ms milliseconds for every queued record to be written */
bool jsonlog_flush(long ms)
{
	bool done;

	pthread_mutex_lock(&json_lock);
	done = wait_idle(ms);
	pthread_mutex_unlock(&json_lock);
	return done;
}

/* jsonlog_shutdown - at exit: take no more records, write the queue (up to ms), count losses */
void jsonlog_shutdown(long ms, struct jsonlog_counts *at_exit)
{
	unsigned long left = 0;

	pthread_mutex_lock(&json_lock);
	atomic_store(&json_on, false);
	(void)wait_idle(ms);
	for (const struct entry *e = q_head; e != NULL; e = e->next)
		if (e->text != NULL)
			left++;
	if (writer_busy)
		left++; /* the record the writer is blocked on */
	counts_of(at_exit, json_file);
	at_exit->left = left;
	pthread_mutex_unlock(&json_lock);
}
