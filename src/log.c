/*
 * NAME
 *	log 3 - decision records and diagnostics
 * SYNOPSIS
 *	#include "log.h"
 *
 *	void log_open(const char *ident, int facility, bool to_stderr);
 *	void log_msg(int prio, const char *fmt, ...);
 *	void log_decision(const struct pm_decision *d);
 *	char *log_format_decision(const struct pm_decision *d, char *buf, size_t bufsize);
 *	int log_facility_parse(const char *name);
 * DESCRIPTION
 *	Syslog through openlog(ident, LOG_PID | LOG_NDELAY, facility). With
 *	to_stderr (foreground mode) every line also goes to stderr, led by
 *	an ISO 8601 local timestamp, the ident and the pid. Before the
 *	first log_open() lines go to stderr only.
 *
 *	A decision is one line, led by the queue id ("NOQUEUE" when there is
 *	none), then key=value pairs in a fixed order:
 *
 *	  QID: stage= client= client_name= helo= from=<> rcpt=<> helo_spf=
 *	  helo_spf_domain= spf= spf_domain= header_from= dkim= dmarc=
 *	  dmarc_policy= dmarc_dis= action= would=yes reply= check= reason=
 *	  rule= detail=
 *
 *	NULL fields are left out. from and rcpt are shown in angle brackets
 *	(each element of a comma-separated rcpt list). Every value goes
 *	through pm_escape(), so control characters, 8-bit bytes and
 *	backslashes appear as \xHH; a value holding a space or a double
 *	quote, or an empty value, is double-quoted, and a double quote
 *	inside it is written \x22. Each value is capped (a cut value ends
 *	in "...") and the whole line stays under LOG_LINE_MAX bytes.
 *
 *	"would=yes" marks a decision made in log or tag mode: action= then
 *	names what the policy WOULD have done (say "reject") and reply= the
 *	reply it would have sent; the MTA was told to carry on. Without
 *	would=yes, action= is what was done.
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
static char log_ident[64] = "policy-milter";
static bool log_opened;
static bool log_stderr = true;

/* log_open - start logging; call again after a reload with the new facility */
void log_open(const char *ident, int facility, bool to_stderr)
{
	pthread_mutex_lock(&log_lock);
	if (log_opened)
		closelog();
	/* openlog() keeps the pointer: log_ident lives for the whole process */
	snprintf(log_ident, sizeof(log_ident), "%s", ident && *ident ? ident : "policy-milter");
	openlog(log_ident, LOG_PID | LOG_NDELAY, facility);
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
	char ident[sizeof(log_ident)];

	pthread_mutex_lock(&log_lock);
	opened = log_opened;
	to_stderr = log_stderr;
	memcpy(ident, log_ident, sizeof(ident));
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
	for (p = esc; *p; p++) {
		if (*p == '"')
			sb_append(sb, "\\x22");
		else
			sb_appendc(sb, *p);
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

/* append_addrs - " key=<a>,<b>": every comma-separated element in brackets */
static void append_addrs(struct strbuf *sb, const char *key, const char *list, size_t cap)
{
	struct strbuf tmp;
	const char *p = list, *comma;

	sb_init(&tmp);
	for (;;) {
		comma = strchr(p, ',');
		bracketed(&tmp, p, comma ? (size_t)(comma - p) : strlen(p));
		if (comma == NULL || tmp.len > cap)
			break;
		sb_appendc(&tmp, ',');
		p = comma + 1;
	}
	/* a value with NULs cannot come in through a C string: tmp.s is whole */
	append_value(sb, key, tmp.s, cap);
	sb_free(&tmp);
}

/* log_format_decision - the decision line into buf (always NUL-terminated); returns buf */
char *log_format_decision(const struct pm_decision *d, char *buf, size_t bufsize)
{
	static const struct {
		const char *key;
		size_t off;
		size_t cap;
	} fields[] = {
#define F(k, m, c) {k, offsetof(struct pm_decision, m), c}
	    F("stage", stage, VAL_CAP),
	    F("client", client_addr, VAL_CAP),
	    F("client_name", client_name, VAL_CAP),
	    F("helo", helo, VAL_CAP),
	    F("from", sender, VAL_CAP_SENDER),
	    F("rcpt", rcpt, VAL_CAP_RCPT),
	    F("helo_spf", helo_spf, VAL_CAP),
	    F("helo_spf_domain", helo_spf_domain, VAL_CAP),
	    F("spf", spf, VAL_CAP),
	    F("spf_domain", spf_domain, VAL_CAP),
	    F("header_from", header_from, VAL_CAP),
	    F("dkim", dkim, VAL_CAP_RCPT),
	    F("dmarc", dmarc, VAL_CAP),
	    F("dmarc_policy", dmarc_policy, VAL_CAP),
	    F("dmarc_dis", dmarc_dis, VAL_CAP),
	    F("action", action, VAL_CAP),
	    F("reply", reply, VAL_CAP_REPLY),
	    F("check", check, VAL_CAP),
	    F("reason", reason, VAL_CAP),
	    F("rule", rule, VAL_CAP),
	    F("detail", detail, VAL_CAP),
#undef F
	};
	struct strbuf sb;
	size_t i;

	if (buf == NULL || bufsize == 0)
		return buf;
	buf[0] = '\0';
	if (d == NULL)
		return buf;
	sb_init(&sb);
	append_value(&sb, NULL, d->queue_id && *d->queue_id ? d->queue_id : "NOQUEUE", 64);
	sb_appendc(&sb, ':');
	for (i = 0; i < PM_ARRAY_LEN(fields); i++) {
		const char *val = *(const char *const *)((const char *)d + fields[i].off);

		if (val == NULL)
			continue;
		if (fields[i].off == offsetof(struct pm_decision, sender) ||
		    fields[i].off == offsetof(struct pm_decision, rcpt))
			append_addrs(&sb, fields[i].key, val, fields[i].cap);
		else
			append_value(&sb, fields[i].key, val, fields[i].cap);
		if (fields[i].off == offsetof(struct pm_decision, action) && d->would)
			sb_append(&sb, " would=yes");
	}
	if (d->action == NULL && d->would)
		sb_append(&sb, " would=yes");
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

/* log_decision - one line for one decision */
void log_decision(const struct pm_decision *d)
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
