/*
 * NAME
 *	metrics_http 3 - the HTTP/1.1 responder of metrics.listen
 * SYNOPSIS
 *	#include "metrics_http.h"
 *
 *	int metrics_listen_check(const char *listen, int allow_public,
 *				 char *why, size_t whylen);
 *	int metrics_http_open(const char *listen, char *why, size_t whylen);
 *	int metrics_http_start(metrics_render_fn render, char *why, size_t whylen);
 *	void metrics_http_stop(void);
 *	enum metrics_http_verdict metrics_http_parse(const char *buf, size_t len);
 * DESCRIPTION
 *	One listener and one thread. The thread runs a poll() loop over the
 *	listener, a wake-up pipe (metrics_http_stop) and at most
 *	METRICS_HTTP_MAX_CONN connections, all non-blocking. Each
 *	connection has a fixed slot, allocated once at start: the request
 *	bytes (at most METRICS_HTTP_MAX_REQUEST), the response head, and
 *	the body of a 200 (the render function's buffer, freed when sent).
 *	Nothing else grows with the number of clients; each connection's
 *	socket send buffer is fixed at SEND_BUFFER bytes (no autotuning),
 *	so the kernel's memory for a client that does not read is bounded.
 *
 *	A connection goes READING (until metrics_http_parse() judges the
 *	bytes, METRICS_HTTP_TIMEOUT_MS after the accept at the latest: 408),
 *	WRITING (every response ends in "Connection: close"; a client that
 *	has not read it all METRICS_HTTP_TIMEOUT_MS later is reset), then
 *	LINGER: our side is shut down and what the client still sends is
 *	read and thrown away for at most LINGER_MS, so that closing with
 *	unread input (an oversized or pipelined request) does not reset the
 *	connection before the client has read the response.
 *
 *	When every slot is taken, a new connection takes the slot of the
 *	oldest connection in LINGER, else of the oldest in READING that
 *	was accepted before this round of accepts (its client gets 503);
 *	when there is none, the new one gets 503 and is closed. So idle
 *	clients cannot keep a scrape out, and the listener is always read.
 *
 *	Writes use MSG_NOSIGNAL | MSG_DONTWAIT: never SIGPIPE, never a
 *	block. The thread starts with every signal blocked. It takes no lock
 *	that anyone else takes: the render function is the only code of
 *	the daemon it calls.
 * DIAGNOSTICS
 *	The set-up functions return -1 with the reason in why. The thread
 *	logs (log_msg) only when accept() fails for lack of descriptors or
 *	memory (it then pauses the listener for ACCEPT_PAUSE_MS) and when
 *	poll() fails; a client's errors are answered, never logged.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <netdb.h>
#include <netinet/in.h>
#include <poll.h>
#include <pthread.h>
#include <signal.h>
#include <stdarg.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/uio.h>
#include <sys/un.h>
#include <time.h>
#include <unistd.h>

#include "log.h"
#include "metrics_http.h"
#include "util.h"

#define LINGER_MS       1000 /* reading and discarding after our response */
#define ACCEPT_BATCH    64   /* accepts per round of the loop */
#define ACCEPT_PAUSE_MS 100  /* listener not polled after EMFILE and the like */
#define EARLY_PARSE     256  /* request bytes always judged at once (garbage at the start) */
#define LISTEN_BACKLOG  128
#define SEND_BUFFER     (256 * 1024) /* SO_SNDBUF of a connection (the kernel doubles it) */

enum conn_state { C_FREE, C_READING, C_WRITING, C_LINGER };

struct conn {
	int fd;
	enum conn_state state;
	int64_t since;    /* when the current state began (ms, monotonic) */
	int64_t deadline; /* when the current state ends at the latest */
	size_t len;       /* request bytes in req */
	char head[512];   /* response head, or a whole error response */
	size_t head_len;
	char *body; /* a 200's body (render's), or NULL */
	size_t body_len;
	size_t sent; /* bytes of head, then body, written */
	char req[METRICS_HTTP_MAX_REQUEST];
};

static struct {
	int listen_fd;
	char *unix_path; /* the unix socket we made, or NULL */
	dev_t unix_dev;
	ino_t unix_ino;
	int wake[2]; /* the stop pipe: metrics_http_stop writes, the thread polls */
	pthread_t thread;
	bool running;
	atomic_bool stopping;
	metrics_render_fn render;
	struct conn *conns; /* METRICS_HTTP_MAX_CONN slots */
} srv = {.listen_fd = -1, .wake = {-1, -1}};

/* ---- the request parser (pure) ------------------------------------------ */

/* is_tchar - a token character (RFC 9110 section 5.6.2) */
static bool is_tchar(unsigned char c)
{
	return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
	       (c != '\0' && strchr("!#$%&'*+-.^_`|~", c) != NULL);
}

/* is_vchar - visible ASCII, the characters of a request-target */
static bool is_vchar(unsigned char c)
{
	return c > 0x20 && c < 0x7f;
}

/* What the request line holds once it is whole */
struct request_line {
	const char *method, *target;
	size_t method_len, target_len;
	int minor; /* HTTP/1.minor */
};

/*
 * request_line_parse - judge the first n bytes of a request line (without
 * its LF; complete says whether the LF came): 1 a good prefix of one, 0 a
 * whole good one (rl filled), -1 malformed. Strict: single spaces,
 * "HTTP/1." and one digit, an optional CR only at the very end.
 */
static int request_line_parse(const char *s, size_t n, bool complete, struct request_line *rl)
{
	static const char version[] = "HTTP/1.";
	size_t i = 0, m, t, v;

	if (complete && n > 0 && s[n - 1] == '\r')
		n--;
	while (i < n && is_tchar((unsigned char)s[i]))
		i++;
	m = i;
	if (i == n)
		return complete ? -1 : 1;
	if (m == 0 || s[i] != ' ')
		return -1;
	t = ++i;
	while (i < n && is_vchar((unsigned char)s[i]))
		i++;
	if (i == n)
		return complete ? -1 : 1;
	if (i == t || s[i] != ' ')
		return -1;
	v = ++i;
	for (; i < n && i - v < sizeof(version) - 1; i++)
		if (s[i] != version[i - v])
			return -1;
	if (i < n) { /* i - v == sizeof(version) - 1: the minor version's digit */
		if (s[i] < '0' || s[i] > '9')
			return -1;
		i++;
	}
	if (!complete) /* nothing more yet, or the CR after the digit */
		return i == n || (i - v == sizeof(version) && s[i] == '\r' && i + 1 == n) ? 1 : -1;
	if (i < n || i - v != sizeof(version))
		return -1;
	rl->method = s;
	rl->method_len = m;
	rl->target = s + t;
	rl->target_len = v - 1 - t;
	rl->minor = s[n - 1] - '0';
	return 0;
}

/*
 * header_line_ok - one header field line (without CR LF): a token, a
 * colon, then visible characters, spaces, tabs and obs-text; no
 * whitespace before the colon, no obs-fold. *is_host when it is Host.
 */
static bool header_line_ok(const char *s, size_t n, bool *is_host)
{
	size_t i = 0;

	while (i < n && is_tchar((unsigned char)s[i]))
		i++;
	if (i == 0 || i == n || s[i] != ':')
		return false;
	*is_host = i == 4 && strncasecmp(s, "host", 4) == 0;
	for (i++; i < n; i++) {
		unsigned char c = (unsigned char)s[i];

		if (c != '\t' && c != ' ' && !is_vchar(c) && c < 0x80)
			return false;
	}
	return true;
}

/* target_verdict - 200 when the path of an origin-form or http absolute-form target is /metrics */
static int target_verdict(const char *t, size_t n)
{
	size_t path_len;

	if (memchr(t, '#', n) != NULL)
		return MHTTP_BAD_REQUEST;
	if (n >= 7 && strncasecmp(t, "http://", 7) == 0) {
		const char *p = t + 7;
		size_t rest = n - 7, auth = 0;

		while (auth < rest && p[auth] != '/' && p[auth] != '?')
			auth++;
		if (auth == 0)
			return MHTTP_BAD_REQUEST;
		t = p + auth;
		n = rest - auth;
		if (n == 0)
			return MHTTP_NOT_FOUND; /* path "/" */
	}
	if (t[0] != '/')
		return t[0] == '?' ? MHTTP_NOT_FOUND : MHTTP_BAD_REQUEST;
	path_len = 0;
	while (path_len < n && t[path_len] != '?')
		path_len++;
	if (path_len == 8 && memcmp(t, "/metrics", 8) == 0)
		return MHTTP_OK;
	return MHTTP_NOT_FOUND;
}

/* metrics_http_parse - judge what a client sent so far (see metrics_http.h) */
enum metrics_http_verdict metrics_http_parse(const char *buf, size_t len)
{
	struct request_line rl;
	const char *eol, *p, *end;
	bool full = len >= METRICS_HTTP_MAX_REQUEST;
	size_t lim = full ? METRICS_HTTP_MAX_REQUEST : len, start = 0;
	int hosts = 0, rc, verdict;

	if (buf == NULL)
		return MHTTP_INCOMPLETE;
	if (memchr(buf, '\0', lim) != NULL)
		return MHTTP_BAD_REQUEST;
	/* empty lines before the request line are ignored (RFC 9112 section 2.2) */
	while (start < lim && (buf[start] == '\n' ||
	                       (buf[start] == '\r' && start + 1 < lim && buf[start + 1] == '\n')))
		start += buf[start] == '\r' ? 2 : 1;
	if (start < lim && buf[start] == '\r' && start + 1 == lim)
		return full ? MHTTP_URI_TOO_LONG : MHTTP_INCOMPLETE;
	eol = memchr(buf + start, '\n', lim - start);
	rc = request_line_parse(buf + start, (eol != NULL ? (size_t)(eol - buf) : lim) - start,
	                        eol != NULL, &rl);
	if (rc < 0)
		return MHTTP_BAD_REQUEST;
	if (rc > 0 || eol == NULL) /* (a whole line has its LF: eol is set when rc is 0) */
		return full ? MHTTP_URI_TOO_LONG : MHTTP_INCOMPLETE;
	end = buf + lim;
	for (p = eol + 1;;) {
		const char *nl = memchr(p, '\n', (size_t)(end - p));
		size_t n;
		bool is_host = false;

		if (nl == NULL)
			return full ? MHTTP_HEADERS_TOO_LARGE : MHTTP_INCOMPLETE;
		n = (size_t)(nl - p);
		if (n > 0 && p[n - 1] == '\r')
			n--;
		if (n == 0)
			break;
		if (!header_line_ok(p, n, &is_host))
			return MHTTP_BAD_REQUEST;
		hosts += is_host;
		p = nl + 1;
	}
	if (hosts > 1 || (rl.minor >= 1 && hosts == 0)) /* RFC 9112 section 3.2 */
		return MHTTP_BAD_REQUEST;
	verdict = target_verdict(rl.target, rl.target_len);
	if (verdict != MHTTP_OK)
		return (enum metrics_http_verdict)verdict;
	if (rl.method_len != 3 || memcmp(rl.method, "GET", 3) != 0)
		return MHTTP_METHOD;
	return MHTTP_OK;
}

/* ---- metrics.listen ------------------------------------------------------ */

/* why_set - the reason into why; returns -1 */
static int why_set(char *why, size_t whylen, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
static int why_set(char *why, size_t whylen, const char *fmt, ...)
{
	va_list ap;

	if (why != NULL && whylen > 0) {
		va_start(ap, fmt);
		vsnprintf(why, whylen, fmt, ap);
		va_end(ap);
	}
	return -1;
}

/* A metrics.listen value taken apart */
struct listen_spec {
	int family;       /* AF_UNIX, AF_INET, AF_INET6 */
	const char *path; /* AF_UNIX */
	char port[6];
	char host[INET6_ADDRSTRLEN + 2]; /* "" for every address */
};

/* listen_parse - split and check a metrics.listen value; 0, or -1 with why */
static int listen_parse(const char *listen, int allow_public, struct listen_spec *ls, char *why,
                        size_t whylen)
{
	const char *s, *host;
	size_t n;
	long port;
	unsigned char addr[16];
	bool loopback;

	memset(ls, 0, sizeof(*ls));
	if (listen == NULL || *listen == '\0')
		return why_set(why, whylen,
		               "empty: want unix:/path, inet:PORT@HOST or "
		               "inet6:PORT@HOST");
	if (strncmp(listen, "unix:", 5) == 0) {
		s = listen + 5;
		if (*s != '/')
			return why_set(why, whylen,
			               "unix socket path must be absolute (unix:/path)");
		if (strlen(s) >= sizeof(((struct sockaddr_un *)0)->sun_path))
			return why_set(why, whylen, "unix socket path too long (at most %zu bytes)",
			               sizeof(((struct sockaddr_un *)0)->sun_path) - 1);
		for (const char *c = s; *c != '\0'; c++)
			if (!is_vchar((unsigned char)*c))
				return why_set(why, whylen,
				               "unix socket path must be printable "
				               "ASCII without spaces");
		ls->family = AF_UNIX;
		ls->path = s;
		return 0;
	}
	if (strncmp(listen, "inet:", 5) == 0) {
		ls->family = AF_INET;
		s = listen + 5;
	} else if (strncmp(listen, "inet6:", 6) == 0) {
		ls->family = AF_INET6;
		s = listen + 6;
	} else {
		return why_set(why, whylen,
		               "\"%.64s\": want unix:/path, inet:PORT@HOST or "
		               "inet6:PORT@HOST",
		               listen);
	}
	n = strspn(s, "0123456789");
	if (n == 0 || n > 5 || (s[n] != '\0' && s[n] != '@'))
		return why_set(why, whylen,
		               "want inet:PORT@HOST or inet6:PORT@HOST, got port "
		               "\"%.*s\"",
		               (int)strcspn(s, "@"), s);
	port = strtol(s, NULL, 10);
	if (port < 1 || port > 65535)
		return why_set(why, whylen, "port %ld out of range 1..65535", port);
	memcpy(ls->port, s, n);
	if (s[n] == '\0') {
		if (!allow_public)
			return why_set(why, whylen,
			               "%s: no host means every address, public ones "
			               "too; give a loopback address (127.0.0.1, ::1) "
			               "or allow public addresses",
			               listen);
		return 0;
	}
	host = s + n + 1;
	n = strlen(host);
	if (ls->family == AF_INET6 && n >= 2 && host[0] == '[' && host[n - 1] == ']') {
		host++;
		n -= 2;
	}
	if (n == 0 || n >= sizeof(ls->host))
		return why_set(why, whylen, "%s: want a numeric address or localhost after '@'",
		               listen);
	memcpy(ls->host, host, n);
	if (strcmp(ls->host, "localhost") == 0)
		return 0;
	if (inet_pton(ls->family, ls->host, addr) != 1)
		return why_set(why, whylen,
		               "%s: \"%s\" is not a numeric %s address (nor localhost)", listen,
		               ls->host, ls->family == AF_INET ? "IPv4" : "IPv6");
	if (ls->family == AF_INET)
		loopback = addr[0] == 127;
	else
		loopback = IN6_IS_ADDR_LOOPBACK((struct in6_addr *)addr) ||
		           (IN6_IS_ADDR_V4MAPPED((struct in6_addr *)addr) && addr[12] == 127);
	if (!loopback && !allow_public)
		return why_set(why, whylen,
		               "%s: %s is not a loopback address (127.0.0.0/8, ::1); "
		               "metrics are served beyond this host only when public "
		               "addresses are allowed",
		               listen, ls->host);
	return 0;
}

/* metrics_listen_check - validate a metrics.listen value (see metrics_http.h) */
int metrics_listen_check(const char *listen, int allow_public, char *why, size_t whylen)
{
	struct listen_spec ls;

	return listen_parse(listen, allow_public, &ls, why, whylen);
}

/* ---- opening the listener ----------------------------------------------- */

/*
 * unix_prepare - make room for a unix socket at path, as main.c does for
 * the milter socket: nothing there is fine; a socket nobody answers on
 * (ECONNREFUSED) is stale and removed; a live one, or anything that is
 * not a socket, is refused. 0, or -1 with why.
 */
static int unix_prepare(const char *path, char *why, size_t whylen)
{
	struct sockaddr_un sun;
	struct stat st;
	int fd, rc, err;
	char unsafe[512];

	if (pm_socket_dir_unsafe(path, unsafe, sizeof(unsafe)) != NULL)
		return why_set(why, whylen, "%s", unsafe);
	if (lstat(path, &st) != 0) {
		if (errno == ENOENT)
			return 0;
		return why_set(why, whylen, "cannot examine %s: %s", path, strerror(errno));
	}
	if (!S_ISSOCK(st.st_mode))
		return why_set(why, whylen, "%s exists and is not a socket; refusing to replace it",
		               path);
	memset(&sun, 0, sizeof(sun));
	sun.sun_family = AF_UNIX;
	memcpy(sun.sun_path, path, strlen(path) + 1);
	fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (fd < 0)
		return why_set(why, whylen, "socket: %s", strerror(errno));
	rc = connect(fd, (struct sockaddr *)&sun, sizeof(sun));
	err = errno;
	close(fd);
	if (rc == 0)
		return why_set(why, whylen, "%s: another process is listening on this socket",
		               path);
	if (err != ECONNREFUSED)
		return why_set(why, whylen, "%s: cannot tell whether the socket is in use: %s",
		               path, strerror(err));
	if (unlink(path) != 0)
		return why_set(why, whylen, "cannot remove stale socket %s: %s", path,
		               strerror(errno));
	return 0;
}

/* open_unix - bind and listen on a unix socket of mode 0660; the fd, or -1 with why */
static int open_unix(const char *path, char *why, size_t whylen)
{
	struct sockaddr_un sun;
	struct stat st;
	int fd;

	if (unix_prepare(path, why, whylen) != 0)
		return -1;
	memset(&sun, 0, sizeof(sun));
	sun.sun_family = AF_UNIX;
	memcpy(sun.sun_path, path, strlen(path) + 1);
	fd = socket(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	if (fd < 0)
		return why_set(why, whylen, "socket: %s", strerror(errno));
	if (bind(fd, (struct sockaddr *)&sun, sizeof(sun)) != 0) {
		why_set(why, whylen, "bind %s: %s", path, strerror(errno));
		close(fd);
		return -1;
	}
	/* no one can connect before listen(): the mode is right by then */
	if (chmod(path, 0660) != 0 || lstat(path, &st) != 0 || listen(fd, LISTEN_BACKLOG) != 0) {
		why_set(why, whylen, "%s: %s", path, strerror(errno));
		unlink(path);
		close(fd);
		return -1;
	}
	srv.unix_path = xstrdup(path);
	srv.unix_dev = st.st_dev;
	srv.unix_ino = st.st_ino;
	return fd;
}

/* open_inet - bind and listen on an IPv4 or IPv6 address; the fd, or -1 with why */
static int open_inet(const struct listen_spec *ls, char *why, size_t whylen)
{
	struct addrinfo hints, *res = NULL;
	int fd, on = 1, rc;

	memset(&hints, 0, sizeof(hints));
	hints.ai_family = ls->family;
	hints.ai_socktype = SOCK_STREAM;
	hints.ai_flags = AI_NUMERICSERV | AI_PASSIVE;
	if (ls->host[0] != '\0' && strcmp(ls->host, "localhost") != 0)
		hints.ai_flags |= AI_NUMERICHOST;
	rc = getaddrinfo(ls->host[0] != '\0' ? ls->host : NULL, ls->port, &hints, &res);
	if (rc != 0)
		return why_set(why, whylen, "%s: %s", ls->host[0] != '\0' ? ls->host : "*",
		               gai_strerror(rc));
	fd = socket(res->ai_family, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	if (fd < 0) {
		why_set(why, whylen, "socket: %s", strerror(errno));
		freeaddrinfo(res);
		return -1;
	}
	(void)setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &on, sizeof(on));
	if (res->ai_family == AF_INET6)
		(void)setsockopt(fd, IPPROTO_IPV6, IPV6_V6ONLY, &on, sizeof(on));
	if (bind(fd, res->ai_addr, res->ai_addrlen) != 0 || listen(fd, LISTEN_BACKLOG) != 0) {
		why_set(why, whylen, "bind %s port %s: %s", ls->host[0] != '\0' ? ls->host : "*",
		        ls->port, strerror(errno));
		close(fd);
		fd = -1;
	}
	freeaddrinfo(res);
	return fd;
}

/* metrics_http_open - bind and listen (see metrics_http.h) */
int metrics_http_open(const char *listen, char *why, size_t whylen)
{
	struct listen_spec ls;

	if (srv.listen_fd >= 0)
		return why_set(why, whylen, "the metrics listener is open already");
	/* the caller checked the address against its policy: the syntax only here */
	if (listen_parse(listen, 1, &ls, why, whylen) != 0)
		return -1;
	srv.listen_fd =
	    ls.family == AF_UNIX ? open_unix(ls.path, why, whylen) : open_inet(&ls, why, whylen);
	return srv.listen_fd >= 0 ? 0 : -1;
}

/* ---- the connections ------------------------------------------------------ */

/* now_ms - monotonic milliseconds */
static int64_t now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* reason - the reason phrase of a status code we send */
static const char *reason(int status)
{
	switch (status) {
	case 200:
		return "OK";
	case 400:
		return "Bad Request";
	case 404:
		return "Not Found";
	case 405:
		return "Method Not Allowed";
	case 408:
		return "Request Timeout";
	case 414:
		return "URI Too Long";
	case 431:
		return "Request Header Fields Too Large";
	case 503:
		return "Service Unavailable";
	default:
		return "Internal Server Error";
	}
}

/*
 * response_head - the head of a response into buf; an error (status other
 * than 200) gets its short text body right there. Returns the length.
 */
static size_t response_head(char *buf, size_t size, int status, size_t body_len)
{
	char date[64], text[64];
	struct tm tm;
	time_t t = time(NULL);
	int n;

	gmtime_r(&t, &tm);
	strftime(date, sizeof(date), "%a, %d %b %Y %H:%M:%S GMT", &tm);
	if (status == 200) {
		n = snprintf(buf, size,
		             "HTTP/1.1 200 OK\r\n"
		             "Date: %s\r\n"
		             "Content-Type: text/plain; version=0.0.4; charset=utf-8\r\n"
		             "Content-Length: %zu\r\n"
		             "Connection: close\r\n\r\n",
		             date, body_len);
	} else {
		snprintf(text, sizeof(text), "%d %s\n", status, reason(status));
		n = snprintf(buf, size,
		             "HTTP/1.1 %d %s\r\n"
		             "Date: %s\r\n"
		             "%s"
		             "Content-Type: text/plain; charset=utf-8\r\n"
		             "Content-Length: %zu\r\n"
		             "Connection: close\r\n\r\n%s",
		             status, reason(status), date, status == 405 ? "Allow: GET\r\n" : "",
		             strlen(text), text);
	}
	return n < 0 ? 0 : (size_t)n >= size ? size - 1 : (size_t)n;
}

/* conn_close - close a connection (reset when abort: unsent data is dropped), free its body */
static void conn_close(struct conn *c, bool abort_it)
{
	if (abort_it) {
		struct linger lg = {.l_onoff = 1, .l_linger = 0};

		(void)setsockopt(c->fd, SOL_SOCKET, SO_LINGER, &lg, sizeof(lg));
	}
	close(c->fd);
	free(c->body);
	c->body = NULL;
	c->fd = -1;
	c->state = C_FREE;
}

/* conn_write - write what is left of the response; when all is sent, linger */
static void conn_write(struct conn *c, int64_t now)
{
	for (;;) {
		struct iovec iov[2];
		struct msghdr msg;
		size_t total = c->head_len + c->body_len;
		ssize_t n;
		int k = 0;

		if (c->sent >= total) {
			free(c->body);
			c->body = NULL;
			(void)shutdown(c->fd, SHUT_WR);
			c->state = C_LINGER;
			c->since = now;
			c->deadline = now + LINGER_MS;
			return;
		}
		if (c->sent < c->head_len) {
			iov[k].iov_base = c->head + c->sent;
			iov[k++].iov_len = c->head_len - c->sent;
			if (c->body_len > 0) {
				iov[k].iov_base = c->body;
				iov[k++].iov_len = c->body_len;
			}
		} else {
			iov[k].iov_base = c->body + (c->sent - c->head_len);
			iov[k++].iov_len = total - c->sent;
		}
		memset(&msg, 0, sizeof(msg));
		msg.msg_iov = iov;
		msg.msg_iovlen = (size_t)k;
		n = sendmsg(c->fd, &msg, MSG_NOSIGNAL | MSG_DONTWAIT);
		if (n < 0) {
			if (errno == EINTR)
				continue;
			if (errno != EAGAIN && errno != EWOULDBLOCK)
				conn_close(c, true);
			return;
		}
		c->sent += (size_t)n;
	}
}

/* conn_respond - answer status (a 200 takes body, ours to free) and start writing */
static void conn_respond(struct conn *c, int status, char *body, size_t body_len, int64_t now)
{
	c->head_len = response_head(c->head, sizeof(c->head), status, body_len);
	c->body = body;
	c->body_len = status == 200 ? body_len : 0;
	c->sent = 0;
	c->state = C_WRITING;
	c->since = now;
	c->deadline = now + METRICS_HTTP_TIMEOUT_MS;
	conn_write(c, now);
}

/* conn_judge - the request is judged: render for a 200, else the error */
static void conn_judge(struct conn *c, enum metrics_http_verdict v, int64_t now)
{
	char *body;
	size_t len = 0;

	if (v != MHTTP_OK) {
		conn_respond(c, (int)v, NULL, 0, now);
		return;
	}
	body = srv.render(&len);
	if (body == NULL)
		conn_respond(c, 500, NULL, 0, now);
	else
		conn_respond(c, 200, body, len, now);
}

/* conn_read - read what a READING client sent and judge it when it may be judged */
static void conn_read(struct conn *c, int64_t now)
{
	for (;;) {
		size_t room = sizeof(c->req) - c->len, before = c->len;
		enum metrics_http_verdict v;
		ssize_t n;

		if (room == 0) { /* cannot happen: a full buffer is always judged */
			conn_judge(c, MHTTP_HEADERS_TOO_LARGE, now);
			return;
		}
		n = recv(c->fd, c->req + c->len, room, 0);
		if (n < 0) {
			if (errno == EINTR)
				continue;
			if (errno != EAGAIN && errno != EWOULDBLOCK)
				conn_close(c, true);
			return;
		}
		if (n == 0) { /* the client shut its side with the request incomplete */
			v = metrics_http_parse(c->req, c->len);
			conn_judge(c, v == MHTTP_INCOMPLETE ? MHTTP_BAD_REQUEST : v, now);
			return;
		}
		c->len += (size_t)n;
		/* judged when a line ends, and at the start (garbage), and when full */
		if (c->len <= EARLY_PARSE || c->len == sizeof(c->req) ||
		    memchr(c->req + before, '\n', (size_t)n) != NULL ||
		    memchr(c->req + before, '\0', (size_t)n) != NULL) {
			v = metrics_http_parse(c->req, c->len);
			if (v != MHTTP_INCOMPLETE) {
				conn_judge(c, v, now);
				return;
			}
		}
	}
}

/* conn_drain - LINGER: read and drop what the client still sends; close at its EOF */
static void conn_drain(struct conn *c)
{
	char sink[4096];

	for (int i = 0; i < 16; i++) {
		ssize_t n = recv(c->fd, sink, sizeof(sink), 0);

		if (n > 0)
			continue;
		if (n < 0 && errno == EINTR)
			continue;
		if (n == 0 || (errno != EAGAIN && errno != EWOULDBLOCK))
			conn_close(c, false);
		return;
	}
}

/* conn_expire - a deadline passed: 408 for a request not complete, else close */
static void conn_expire(struct conn *c, int64_t now)
{
	switch (c->state) {
	case C_READING:
		conn_respond(c, 408, NULL, 0, now);
		break;
	case C_WRITING: /* the client does not read: reset, dropping what is unsent */
		conn_close(c, true);
		break;
	case C_LINGER:
		conn_close(c, false);
		break;
	case C_FREE:
		break;
	}
}

/* quick_reply - a best-effort error response on a connection we will not keep */
static void quick_reply(int fd, int status)
{
	char buf[512];
	size_t n = response_head(buf, sizeof(buf), status, 0);

	(void)send(fd, buf, n, MSG_NOSIGNAL | MSG_DONTWAIT);
}

/*
 * slot_for_new - a free slot, else the slot of the oldest LINGER
 * connection, else of the oldest READING one accepted before round
 * (closed here, with a 503 for the READING one); NULL when none.
 */
static struct conn *slot_for_new(int64_t round)
{
	struct conn *linger = NULL, *reading = NULL;

	for (int i = 0; i < METRICS_HTTP_MAX_CONN; i++) {
		struct conn *c = &srv.conns[i];

		if (c->state == C_FREE)
			return c;
		if (c->state == C_LINGER && (linger == NULL || c->since < linger->since))
			linger = c;
		if (c->state == C_READING && c->since < round &&
		    (reading == NULL || c->since < reading->since))
			reading = c;
	}
	if (linger != NULL) {
		conn_close(linger, false);
		return linger;
	}
	if (reading != NULL) {
		quick_reply(reading->fd, 503);
		conn_close(reading, false);
		return reading;
	}
	return NULL;
}

/* accept_round - accept what is waiting; 0, or -1 when accepting must pause */
static int accept_round(int64_t now)
{
	static bool complained;

	for (int i = 0; i < ACCEPT_BATCH; i++) {
		int fd = accept4(srv.listen_fd, NULL, NULL, SOCK_NONBLOCK | SOCK_CLOEXEC);
		struct conn *c;

		if (fd < 0) {
			if (errno == EINTR || errno == ECONNABORTED || errno == EPROTO)
				continue;
			if (errno == EAGAIN || errno == EWOULDBLOCK)
				break;
			if (!complained)
				log_msg(LOG_WARNING, "metrics: accept: %s (pausing the listener)",
				        strerror(errno));
			complained = true;
			return -1;
		}
		complained = false;
		/* a fixed send buffer: the kernel's memory for a client that does not read is
		 * bounded too */
		(void)setsockopt(fd, SOL_SOCKET, SO_SNDBUF, &(int){SEND_BUFFER}, sizeof(int));
		c = slot_for_new(now);
		if (c == NULL) {
			quick_reply(fd, 503);
			close(fd);
			continue;
		}
		c->fd = fd;
		c->state = C_READING;
		c->since = now;
		c->deadline = now + METRICS_HTTP_TIMEOUT_MS;
		c->len = 0;
		c->body = NULL;
		c->body_len = 0;
		c->head_len = 0;
		c->sent = 0;
	}
	return 0;
}

/* serve - the responder's thread: the poll loop, until metrics_http_stop */
static void *serve(void *arg)
{
	struct pollfd pfd[2 + METRICS_HTTP_MAX_CONN];
	int slot[2 + METRICS_HTTP_MAX_CONN];
	int64_t accept_resume = 0;

	(void)arg;
	while (!atomic_load(&srv.stopping)) {
		int64_t now = now_ms(), next = now + 60000;
		int n = 0, rc, listener = -1;

		pfd[n].fd = srv.wake[0];
		pfd[n].events = POLLIN;
		slot[n++] = -1;
		if (now >= accept_resume) {
			listener = n;
			pfd[n].fd = srv.listen_fd;
			pfd[n].events = POLLIN;
			slot[n++] = -1;
		} else {
			next = accept_resume;
		}
		for (int i = 0; i < METRICS_HTTP_MAX_CONN; i++) {
			struct conn *c = &srv.conns[i];

			if (c->state == C_FREE)
				continue;
			pfd[n].fd = c->fd;
			pfd[n].events = c->state == C_WRITING ? POLLOUT : POLLIN;
			slot[n++] = i;
			if (c->deadline < next)
				next = c->deadline;
		}
		rc = poll(pfd, (nfds_t)n, next > now ? (int)(next - now) : 0);
		if (rc < 0) {
			if (errno != EINTR) {
				log_msg(LOG_WARNING, "metrics: poll: %s", strerror(errno));
				usleep(100000);
			}
			continue;
		}
		if (pfd[0].revents != 0)
			break;
		now = now_ms();
		for (int k = 0; k < n; k++) {
			struct conn *c;

			if (slot[k] < 0 || pfd[k].revents == 0)
				continue;
			c = &srv.conns[slot[k]];
			if (c->state == C_READING)
				conn_read(c, now);
			else if (c->state == C_WRITING)
				conn_write(c, now);
			else if (c->state == C_LINGER)
				conn_drain(c);
		}
		for (int i = 0; i < METRICS_HTTP_MAX_CONN; i++)
			if (srv.conns[i].state != C_FREE && srv.conns[i].deadline <= now)
				conn_expire(&srv.conns[i], now);
		if (listener >= 0 && pfd[listener].revents != 0 && accept_round(now) != 0)
			accept_resume = now + ACCEPT_PAUSE_MS;
	}
	for (int i = 0; i < METRICS_HTTP_MAX_CONN; i++)
		if (srv.conns[i].state != C_FREE)
			conn_close(&srv.conns[i], true);
	return NULL;
}

/* metrics_http_start - start the thread (see metrics_http.h) */
int metrics_http_start(metrics_render_fn render, char *why, size_t whylen)
{
	sigset_t all, old;
	int rc;

	if (srv.listen_fd < 0)
		return why_set(why, whylen, "the metrics listener is not open");
	if (srv.running)
		return why_set(why, whylen, "the metrics responder runs already");
	if (render == NULL)
		return why_set(why, whylen, "no render function");
	if (pipe2(srv.wake, O_CLOEXEC | O_NONBLOCK) != 0)
		return why_set(why, whylen, "pipe: %s", strerror(errno));
	srv.conns = xcalloc(METRICS_HTTP_MAX_CONN, sizeof(*srv.conns));
	for (int i = 0; i < METRICS_HTTP_MAX_CONN; i++)
		srv.conns[i].fd = -1;
	srv.render = render;
	atomic_store(&srv.stopping, false);
	sigfillset(&all);
	pthread_sigmask(SIG_SETMASK, &all, &old);
	rc = pthread_create(&srv.thread, NULL, serve, NULL);
	pthread_sigmask(SIG_SETMASK, &old, NULL);
	if (rc != 0) {
		free(srv.conns);
		srv.conns = NULL;
		close(srv.wake[0]);
		close(srv.wake[1]);
		srv.wake[0] = srv.wake[1] = -1;
		return why_set(why, whylen, "pthread_create: %s", strerror(rc));
	}
	srv.running = true;
	return 0;
}

/* metrics_http_stop - stop the thread, close everything, remove our socket */
void metrics_http_stop(void)
{
	struct stat st;

	if (srv.running) {
		atomic_store(&srv.stopping, true);
		(void)!write(srv.wake[1], "x", 1);
		pthread_join(srv.thread, NULL);
		srv.running = false;
		free(srv.conns);
		srv.conns = NULL;
	}
	for (int i = 0; i < 2; i++)
		if (srv.wake[i] >= 0) {
			close(srv.wake[i]);
			srv.wake[i] = -1;
		}
	if (srv.listen_fd >= 0) {
		close(srv.listen_fd);
		srv.listen_fd = -1;
	}
	if (srv.unix_path != NULL) {
		if (lstat(srv.unix_path, &st) == 0 && S_ISSOCK(st.st_mode) &&
		    st.st_dev == srv.unix_dev && st.st_ino == srv.unix_ino)
			(void)unlink(srv.unix_path);
		free(srv.unix_path);
		srv.unix_path = NULL;
	}
}
