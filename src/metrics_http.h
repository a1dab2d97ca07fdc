/*
 * NAME
 *	metrics_http 3h - the HTTP/1.1 responder of metrics.listen
 * DESCRIPTION
 *	A small HTTP/1.1 server on one thread of its own (a poll loop over
 *	non-blocking sockets) that answers only "GET /metrics" (a query
 *	string is ignored) with 200 and the body the render function
 *	makes, then closes the connection. Everything else gets an error
 *	and a closed connection: another path 404, another method 405, a
 *	malformed request 400, a request line over the bound 414, a header
 *	block over the bound 431, a request not complete within the time
 *	bound 408 (trickled bytes do not extend it), a failed render 500.
 *	At most METRICS_HTTP_MAX_CONN connections at once: a new one takes
 *	the slot of the oldest that has not sent its request yet (or has
 *	been answered), else it gets 503; the listener never stops
 *	accepting. A client that does not read its response is dropped at
 *	the time bound; a write never blocks and never raises SIGPIPE. The
 *	render function runs on this thread only, and only for a valid
 *	GET /metrics.
 *
 *	metrics_listen_check() and metrics_http_parse() are pure (no I/O);
 *	the unit tests call them.
 */
#ifndef PM_METRICS_HTTP_H
#define PM_METRICS_HTTP_H

#include <stddef.h>

/* The bounds (the test harness prints them, the suite reads them there) */
#define METRICS_HTTP_MAX_CONN    64   /* simultaneous connections */
#define METRICS_HTTP_MAX_REQUEST 8192 /* bytes of request line and headers */
#define METRICS_HTTP_TIMEOUT_MS  5000 /* to send the request; then again to read the response */

/* render - a malloc'd body (text exposition format) and its length; NULL on failure */
typedef char *(*metrics_render_fn)(size_t *len);

/*
 * metrics_listen_check - validate a metrics.listen value: "unix:/path",
 * "inet:PORT@HOST" or "inet6:PORT@HOST" (as milter.socket), HOST a
 * numeric address or "localhost". Unless allow_public, an inet address
 * must be loopback (127.0.0.0/8, ::1, ::ffff:127.0.0.0/104); a missing
 * host means every address and is public. 0 when fine; -1 with the
 * reason in why.
 */
int metrics_listen_check(const char *listen, int allow_public, char *why, size_t whylen);

/*
 * metrics_http_open - bind and listen on listen (checked already); as
 * root, before the privileges are dropped. A stale unix socket is
 * replaced (a live one, or anything else at the path, is refused);
 * the new one gets mode 0660. 0 when fine; -1 with the reason in why.
 */
int metrics_http_open(const char *listen, char *why, size_t whylen);

/*
 * metrics_http_start - start the responder's thread on the socket
 * metrics_http_open() made (after the privilege drop). 0 when fine;
 * -1 with the reason in why.
 */
int metrics_http_start(metrics_render_fn render, char *why, size_t whylen);

/*
 * metrics_http_stop - stop the thread, close every connection and the
 * listener, remove a unix socket we made. Safe to call when nothing
 * was opened or started, and twice.
 */
void metrics_http_stop(void);

/* What metrics_http_parse() found (the pure request parser) */
enum metrics_http_verdict {
	MHTTP_INCOMPLETE = 0, /* need more bytes */
	MHTTP_OK = 200,       /* a valid GET /metrics */
	MHTTP_BAD_REQUEST = 400,
	MHTTP_NOT_FOUND = 404,
	MHTTP_METHOD = 405,
	MHTTP_URI_TOO_LONG = 414,
	MHTTP_HEADERS_TOO_LARGE = 431,
};

/*
 * metrics_http_parse - judge the first len bytes a client sent: the
 * request line and header block of HTTP/1.0 or HTTP/1.1 (lines end in
 * CRLF or LF; HTTP/1.1 needs one Host). MHTTP_INCOMPLETE while the
 * header block has not ended and nothing wrong is seen yet; a
 * definite error as soon as it shows (bad bytes, a NUL, garbage at
 * the start). Past METRICS_HTTP_MAX_REQUEST bytes without an end:
 * 414 in the request line, 431 after it. Bytes after the header block
 * (a body) are ignored.
 */
enum metrics_http_verdict metrics_http_parse(const char *buf, size_t len);

#endif
