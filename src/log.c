/*
 * NAME
 *	log 3 - decision records and diagnostics
 * SYNOPSIS
 *	#include "log.h"
 *
 *	void log_open(const char *ident, int facility, bool to_stderr);
 *	void log_msg(int prio, const char *fmt, ...);
 *	void log_decision_line(const struct pm_decision *d);
 *	char *log_format_decision(const struct pm_decision *d, char *buf, size_t bufsize);
 *	int log_facility_parse(const char *name);
 * DESCRIPTION
 *	Syslog through openlog(ident, LOG_PID | LOG_NDELAY, facility). With
 *	to_stderr (foreground mode) every line also goes to stderr, led by
 *	an ISO 8601 local timestamp, the ident and the pid. Before the
 *	first log_open() lines go to stderr only. log_open() again (a
 *	reload) switches ident and facility with openlog() alone, the new
 *	ident written into the second of two buffers: the one openlog()
 *	points to is never rewritten while other threads log.
 *
 *	A decision is one line, led by the queue id ("NOQUEUE" when there is
 *	none), then key=value pairs in a fixed order:
 *
 *	  QID: stage= client= client_name= iprev= mta= daemon= local= helo=
 *	  from=<> rcpt=<> helo_spf= helo_spf_domain= spf= spf_domain=
 *	  header_from= dkim=
 *	  dmarc= dmarc_policy= dmarc_dis= dmarc_pdomain= dmarc_override=
 *	  arc= arc_sets= arc_sealer= arc_instance= arc_override= dnsbl=
 *	  greylist= greylist_triplet= greylist_age= greylist_retry=
 *	  state_backend= ratelimit= ratelimit_key= ratelimit_count=
 *	  action= would=yes
 *	  dry_run=yes reply= check= reason= rule= detail=
 *
 *	NULL fields (and empty rcpt and dnsbl lists) are left out. from and
 *	every rcpt are shown in angle brackets, the recipients
 *	comma-separated. dkim= (when DKIM ran) lists result:domain/selector
 *	per signature, comma-separated, or says "none"; arc= is the ARC
 *	result (when verified: "none" for a message without ARC header
 *	fields) and arc_sets= instance:d= of each ARC set, oldest first,
 *	comma-separated; arc_sealer= and arc_instance= name the trusted
 *	sealer whose ARC-Authentication-Results rescued a DMARC fail, and
 *	arc_override= says "applied" or (arc.mode log) "would"; dnsbl=
 *	lists zone:answer. greylist= (the state), greylist_triplet=
 *	(network,sender,recipient; not for a skipped recipient),
 *	greylist_age= and greylist_retry= (seconds, when known) come once per
 *	recipient greylisting looked at (the one judged at RCPT, every
 *	accepted one at end of message: the group repeats), state_backend=
 *	(lmdb or redis) once after them; ratelimit= (the rule's name),
 *	ratelimit_key= (key kind:value) and ratelimit_count=
 *	(COUNT/LIMIT/WINDOWs; "?" for a count not known) once per rule (over
 *	its limit at RCPT, every rule counted at end of message), with
 *	state_backend= after them when no greylist group came. Every value goes through pm_escape(),
 *so control characters, 8-bit bytes and backslashes appear as \xHH; a value holding a space or a
 *double quote, or an empty value, is double-quoted, and a double quote inside it is written \x22.
 *Each value is capped (a cut value ends in "...") and the whole line stays under LOG_LINE_MAX
 *bytes.
 *
 *	"would=yes" marks a decision made in log or tag mode: action= then
 *	names what the policy WOULD have done (say "reject") and reply= the
 *	reply it would have sent; the MTA was told to carry on. Without
 *	would=yes, action= is what was done. "dry_run=yes" says the global
 *	dry run was on.
 *
 *	log_decision() (sink.c) writes this line with log_decision_line()
 *	and hands the same decision to the JSON decision log; log.c itself
 *	knows nothing of that log.
 *
 *	log_msg() lines are written as given, except that control
 *	characters and 8-bit bytes are shown as \xHH (backslashes are kept,
 *	so a value the caller escaped already is not escaped twice).
 *	All functions are thread-safe.
 * DIAGNOSTICS
 *	None: logging never fails the caller.
 */
#include <pthread.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <sys/time.h>
#include <time.h>
#include <unistd.h>

#include "log.h"
#include "util.h"

#define LOG_LINE_MAX   2000 /* syslog line limit, with some room below common 2048 */
#define VAL_CAP        128  /* escaped bytes per value, by default */
#define VAL_CAP_SENDER 256
#define VAL_CAP_RCPT   384
#define VAL_CAP_REPLY  256

static pthread_mutex_t log_lock = PTHREAD_MUTEX_INITIALIZER;
/*
 * Two ident buffers: openlog() keeps a pointer to the one in use, which
 * syslog() in other threads reads under glibc's own lock, not ours. A
 * new ident is written into the other buffer and handed over by openlog()
 * (which swaps the pointer under that lock), so no buffer is ever
 * rewritten while syslog() may read it.
 */
static char log_idents[2][64] = {"policy-milter", "policy-milter"};
static int log_cur; /* the buffer in use */
static bool log_opened;
static bool log_stderr = true;

/* log_open - start logging; call again after a reload with the new facility */
void log_open(const char *ident, int facility, bool to_stderr)
{
	int next;

	pthread_mutex_lock(&log_lock);
	next = log_cur ^ 1; /* not the buffer syslog() may be reading */
	snprintf(log_idents[next], sizeof(log_idents[next]), "%s",
	         ident && *ident ? ident : "policy-milter");
	/*
	 * No closelog() first: openlog() alone replaces the ident and the
	 * facility under glibc's lock, so a line logged meanwhile by another
	 * thread has the old ident or the new one, never the program name.
	 */
	openlog(log_idents[next], LOG_PID | LOG_NDELAY, facility);
	log_cur = next;
	log_opened = true;
	log_stderr = to_stderr;
	pthread_mutex_unlock(&log_lock);
}

/* prio_name - a word for the stderr copy of a line */
static const char *prio_name(int prio)
{
	switch (LOG_PRI(prio)) {
	case LOG_EMERG:
	case LOG_ALERT:
	case LOG_CRIT:
		return "fatal";
	case LOG_ERR:
		return "error";
	case LOG_WARNING:
		return "warning";
	case LOG_NOTICE:
		return "notice";
	case LOG_INFO:
		return "info";
	default:
		return "debug";
	}
}

/* emit - send one finished line to syslog and, if wanted, stderr */
static void emit(int prio, const char *line)
{
	bool opened, to_stderr;
	char ident[sizeof(log_idents[0])];

	pthread_mutex_lock(&log_lock);
	opened = log_opened;
	to_stderr = log_stderr;
	memcpy(ident, log_idents[log_cur], sizeof(ident));
	pthread_mutex_unlock(&log_lock);

	if (opened)
		syslog(prio, "%s", line);
	if (to_stderr) {
		struct timeval tv;
		struct tm tm;
		char ts[32];

		gettimeofday(&tv, NULL);
		localtime_r(&tv.tv_sec, &tm);
		strftime(ts, sizeof(ts), "%Y-%m-%dT%H:%M:%S", &tm);
		/* one call, so that lines from several threads do not mix */
		fprintf(stderr, "%s.%03ld %s[%ld]: %s: %s\n", ts, (long)tv.tv_usec / 1000, ident,
		        (long)getpid(), prio_name(prio), line);
	}
}

/* log_msg - a diagnostic line; control characters and 8-bit bytes shown as \xHH */
void log_msg(int prio, const char *fmt, ...)
{
	static const char hex[] = "0123456789abcdef";
	char raw[LOG_LINE_MAX], line[LOG_LINE_MAX];
	size_t i, o = 0;
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(raw, sizeof(raw), fmt, ap);
	va_end(ap);
	for (i = 0; raw[i] != '\0'; i++) {
		unsigned char c = (unsigned char)raw[i];

		if (c >= 0x20 && c < 0x7f) {
			if (o + 1 >= sizeof(line) - 3)
				break;
			line[o++] = (char)c;
		} else {
			if (o + 4 >= sizeof(line) - 3)
				break;
			line[o++] = '\\';
			line[o++] = 'x';
			line[o++] = hex[c >> 4];
			line[o++] = hex[c & 15];
		}
	}
	if (raw[i] != '\0') {
		memcpy(line + o, "...", 3);
		o += 3;
	}
	line[o] = '\0';
	emit(prio, line);
}

/* append_value - " key=value", the value escaped, capped and quoted when needed */
static void append_value(struct strbuf *sb, const char *key, const char *val, size_t cap)
{
	char esc[VAL_CAP_RCPT + 1];
	bool quote;
	const char *p;

	if (cap > VAL_CAP_RCPT)
		cap = VAL_CAP_RCPT;
	pm_escape(esc, cap + 1, val, strlen(val));
	quote = esc[0] == '\0' || strpbrk(esc, " \"") != NULL;
	if (key != NULL) {
		if (sb->len > 0)
			sb_appendc(sb, ' ');
		sb_append(sb, key);
		sb_appendc(sb, '=');
	}
	if (quote)
		sb_appendc(sb, '"');
	for (p = esc; *p != '\0';) { /* runs without a quote at once */
		size_t run = strcspn(p, "\"");

		sb_appendn(sb, p, run);
		p += run;
		if (*p == '"') {
			sb_append(sb, "\\x22");
			p++;
		}
	}
	if (quote)
		sb_appendc(sb, '"');
}

/* bracketed - "<addr>" unless the address already has its brackets */
static void bracketed(struct strbuf *out, const char *addr, size_t len)
{
	if (len >= 2 && addr[0] == '<' && addr[len - 1] == '>') {
		sb_appendn(out, addr, len);
		return;
	}
	sb_appendc(out, '<');
	sb_appendn(out, addr, len);
	sb_appendc(out, '>');
}

/* append_addrs - " key=<a>,<b>": every address of v[0..n) in brackets */
static void append_addrs(struct strbuf *sb, const char *key, const char *const *v, size_t n,
                         size_t cap)
{
	struct strbuf tmp;

	sb_init(&tmp);
	for (size_t i = 0; i < n && tmp.len <= cap; i++) {
		const char *a = v[i] != NULL ? v[i] : "";

		if (i > 0)
			sb_appendc(&tmp, ',');
		bracketed(&tmp, a, strlen(a));
	}
	/* a value with NULs cannot come in through a C string: tmp.s is whole */
	append_value(sb, key, tmp.s, cap);
	sb_free(&tmp);
}

/* append_opt - " key=value" when val is not NULL */
static void append_opt(struct strbuf *sb, const char *key, const char *val, size_t cap)
{
	if (val != NULL)
		append_value(sb, key, val, cap);
}

/* append_dkim - " dkim=pass:d.test/sel,fail:e.test/s2" ("none" without signatures) */
static void append_dkim(struct strbuf *sb, const struct pm_decision *d)
{
	struct strbuf tmp;

	sb_init(&tmp);
	if (d->ndkim == 0 || d->dkim == NULL)
		sb_append(&tmp, "none");
	for (size_t i = 0; d->dkim != NULL && i < d->ndkim && tmp.len <= VAL_CAP_RCPT; i++) {
		const struct pm_decision_sig *g = &d->dkim[i];

		sb_appendf(&tmp, "%s%s:%s/%s", i > 0 ? "," : "", g->result ? g->result : "",
		           g->domain ? g->domain : "", g->selector ? g->selector : "");
	}
	append_value(sb, "dkim", tmp.s, VAL_CAP_RCPT);
	sb_free(&tmp);
}

/* append_arc - " arc=pass arc_sets=1:a.test,2:b.test" and a rescue's sealer */
static void append_arc(struct strbuf *sb, const struct pm_decision *d)
{
	struct strbuf tmp;
	char num[16];

	append_value(sb, "arc", d->arc, VAL_CAP);
	if (d->arc_sets != NULL && d->narc_sets > 0) {
		sb_init(&tmp);
		for (size_t i = 0; i < d->narc_sets && tmp.len <= VAL_CAP_RCPT; i++)
			sb_appendf(&tmp, "%s%u:%s", i > 0 ? "," : "", d->arc_sets[i].instance,
			           d->arc_sets[i].domain ? d->arc_sets[i].domain : "");
		append_value(sb, "arc_sets", tmp.s, VAL_CAP_RCPT);
		sb_free(&tmp);
	}
	if (d->arc_sealer == NULL)
		return;
	append_value(sb, "arc_sealer", d->arc_sealer, VAL_CAP);
	snprintf(num, sizeof(num), "%u", d->arc_instance);
	append_value(sb, "arc_instance", num, VAL_CAP);
	append_value(sb, "arc_override", d->arc_override_applied ? "applied" : "would", VAL_CAP);
}

/* append_dnsbl - " dnsbl=zone:answer,zone:answer" */
static void append_dnsbl(struct strbuf *sb, const struct pm_decision *d)
{
	struct strbuf tmp;

	sb_init(&tmp);
	for (size_t i = 0; i < d->ndnsbl && tmp.len <= VAL_CAP_RCPT; i++)
		sb_appendf(&tmp, "%s%s:%s", i > 0 ? "," : "",
		           d->dnsbl[i].zone ? d->dnsbl[i].zone : "",
		           d->dnsbl[i].answer ? d->dnsbl[i].answer : "");
	append_value(sb, "dnsbl", tmp.s, VAL_CAP_RCPT);
	sb_free(&tmp);
}

/*
 * append_state - greylisting's groups (" greylist=new
 * greylist_triplet=NET,SENDER,RCPT greylist_age=0 greylist_retry=300"),
 * the rate limits' (" ratelimit=NAME ratelimit_key=KIND:VALUE
 * ratelimit_count=COUNT/LIMIT/WINDOWs"), then " state_backend=B": after
 * the greylist groups when there are any, else after the rate limits'
 */
static void append_state(struct strbuf *sb, const struct pm_decision *d)
{
	struct strbuf tmp;
	const char *backend = NULL;
	bool grey = d->greylist != NULL && d->ngreylist > 0;
	char num[64];

	sb_init(&tmp);
	for (size_t i = 0; d->greylist != NULL && i < d->ngreylist; i++) {
		const struct pm_decision_greylist *g = &d->greylist[i];

		append_value(sb, "greylist", g->state != NULL ? g->state : "error", VAL_CAP);
		if (g->skip == NULL && g->network != NULL) {
			sb_reset(&tmp);
			sb_appendf(&tmp, "%s,%s,%s", g->network, g->sender != NULL ? g->sender : "",
			           g->recipient != NULL ? g->recipient : "");
			append_value(sb, "greylist_triplet", tmp.s, VAL_CAP_RCPT);
		}
		if (g->age >= 0) {
			snprintf(num, sizeof(num), "%ld", g->age);
			append_value(sb, "greylist_age", num, VAL_CAP);
		}
		if (g->retry_in >= 0) {
			snprintf(num, sizeof(num), "%ld", g->retry_in);
			append_value(sb, "greylist_retry", num, VAL_CAP);
		}
		if (g->backend != NULL)
			backend = g->backend;
	}
	if (backend != NULL)
		append_value(sb, "state_backend", backend, VAL_CAP);
	for (size_t i = 0; d->ratelimit != NULL && i < d->nratelimit; i++) {
		const struct pm_decision_ratelimit *r = &d->ratelimit[i];

		append_value(sb, "ratelimit", r->rule != NULL ? r->rule : "", VAL_CAP);
		sb_reset(&tmp);
		sb_appendf(&tmp, "%s:%s", r->key != NULL ? r->key : "",
		           r->value != NULL ? r->value : "");
		append_value(sb, "ratelimit_key", tmp.s, VAL_CAP_SENDER);
		if (r->count >= 0)
			snprintf(num, sizeof(num), "%ld/%ld/%lds", r->count, r->limit, r->window);
		else
			snprintf(num, sizeof(num), "?/%ld/%lds", r->limit, r->window);
		append_value(sb, "ratelimit_count", num, VAL_CAP);
		if (!grey && r->backend != NULL)
			backend = r->backend;
	}
	if (!grey && backend != NULL)
		append_value(sb, "state_backend", backend, VAL_CAP);
	sb_free(&tmp);
}

/* log_format_decision - the decision line into buf (always NUL-terminated); returns buf */
char *log_format_decision(const struct pm_decision *d, char *buf, size_t bufsize)
{
	struct strbuf sb;

	if (buf == NULL || bufsize == 0)
		return buf;
	buf[0] = '\0';
	if (d == NULL)
		return buf;
	sb_init(&sb);
	append_value(&sb, NULL, d->queue_id && *d->queue_id ? d->queue_id : "NOQUEUE", 64);
	sb_appendc(&sb, ':');
	append_opt(&sb, "stage", d->stage, VAL_CAP);
	append_opt(&sb, "client", d->client_addr, VAL_CAP);
	append_opt(&sb, "client_name", d->client_name, VAL_CAP);
	append_opt(&sb, "iprev", d->iprev, VAL_CAP);
	append_opt(&sb, "mta", d->mta_host, VAL_CAP);
	append_opt(&sb, "daemon", d->mta_daemon, VAL_CAP);
	append_opt(&sb, "local", d->local_addr, VAL_CAP);
	append_opt(&sb, "helo", d->helo, VAL_CAP);
	if (d->sender != NULL)
		append_addrs(&sb, "from", &d->sender, 1, VAL_CAP_SENDER);
	if (d->rcpts != NULL && d->nrcpts > 0)
		append_addrs(&sb, "rcpt", d->rcpts, d->nrcpts, VAL_CAP_RCPT);
	append_opt(&sb, "helo_spf", d->helo_spf, VAL_CAP);
	append_opt(&sb, "helo_spf_domain", d->helo_spf_domain, VAL_CAP);
	append_opt(&sb, "spf", d->spf, VAL_CAP);
	append_opt(&sb, "spf_domain", d->spf_domain, VAL_CAP);
	append_opt(&sb, "header_from", d->header_from, VAL_CAP);
	if (d->dkim_done)
		append_dkim(&sb, d);
	append_opt(&sb, "dmarc", d->dmarc, VAL_CAP);
	append_opt(&sb, "dmarc_policy", d->dmarc_policy, VAL_CAP);
	append_opt(&sb, "dmarc_dis", d->dmarc_dis, VAL_CAP);
	append_opt(&sb, "dmarc_pdomain", d->dmarc_pdomain, VAL_CAP);
	append_opt(&sb, "dmarc_override", d->dmarc_override, VAL_CAP);
	if (d->arc != NULL)
		append_arc(&sb, d);
	if (d->dnsbl != NULL && d->ndnsbl > 0)
		append_dnsbl(&sb, d);
	append_state(&sb, d);
	if (d->action != NULL) {
		append_value(&sb, "action", d->action, VAL_CAP);
		if (d->would)
			sb_append(&sb, " would=yes");
		if (d->dry_run)
			sb_append(&sb, " dry_run=yes");
	}
	append_opt(&sb, "reply", d->reply, VAL_CAP_REPLY);
	append_opt(&sb, "check", d->check, VAL_CAP);
	append_opt(&sb, "reason", d->reason, VAL_CAP);
	append_opt(&sb, "rule", d->rule, VAL_CAP);
	append_opt(&sb, "detail", d->detail, VAL_CAP);
	if (d->action == NULL && d->would)
		sb_append(&sb, " would=yes");
	if (d->action == NULL && d->dry_run)
		sb_append(&sb, " dry_run=yes");
	if (sb.len < bufsize) {
		memcpy(buf, sb.s, sb.len + 1);
	} else if (bufsize > 4) {
		/* printable ASCII already: cut, never inside a \xHH, and mark the cut */
		size_t n = bufsize - 4, k;

		for (k = 1; k <= 3 && k <= n; k++)
			if (sb.s[n - k] == '\\') {
				n -= k;
				break;
			}
		memcpy(buf, sb.s, n);
		memcpy(buf + n, "...", 4);
	} else {
		memcpy(buf, sb.s, bufsize - 1);
		buf[bufsize - 1] = '\0';
	}
	sb_free(&sb);
	return buf;
}

/* log_decision_line - the syslog line (LOG_INFO) for one decision */
void log_decision_line(const struct pm_decision *d)
{
	char line[LOG_LINE_MAX];

	if (d == NULL)
		return;
	log_format_decision(d, line, sizeof(line));
	emit(LOG_INFO, line);
}

/* log_facility_parse - "mail", "local0".."local7", "daemon", "user"; -1 unknown */
int log_facility_parse(const char *name)
{
	static const struct {
		const char *name;
		int facility;
	} table[] = {
	    {"mail", LOG_MAIL},     {"daemon", LOG_DAEMON}, {"user", LOG_USER},
	    {"local0", LOG_LOCAL0}, {"local1", LOG_LOCAL1}, {"local2", LOG_LOCAL2},
	    {"local3", LOG_LOCAL3}, {"local4", LOG_LOCAL4}, {"local5", LOG_LOCAL5},
	    {"local6", LOG_LOCAL6}, {"local7", LOG_LOCAL7},
	};
	size_t i;

	if (name == NULL)
		return -1;
	for (i = 0; i < PM_ARRAY_LEN(table); i++)
		if (pm_strcaseeq(name, table[i].name))
			return table[i].facility;
	return -1;
}
