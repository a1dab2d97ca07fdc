/*
 * NAME
 *	test_metrics_http - unit tests for the pure parts of metrics_http.c
 * DESCRIPTION
 *	Tables of cases: metrics_http_parse() over whole requests (good,
 *	other paths and methods, malformed request lines and headers,
 *	NULs, the HTTP/2 preface, garbage), every prefix of a good request
 *	still incomplete, errors seen at the first bad byte, the size
 *	bound to the byte (414 and 431); metrics_listen_check() over
 *	loopback and public addresses with and without allow_public, unix
 *	paths and garbage.
 * DIAGNOSTICS
 *	cmocka; each failure prints "got X, want Y".
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "metrics_http.h"
#include "util.h"

#define REQ(s) s, sizeof(s) - 1

/* test_parse_whole - whole requests and their verdicts */
static void test_parse_whole(void **state)
{
	(void)state;
	static const struct {
		const char *in;
		size_t len;
		int want;
	} cases[] = {
	    {REQ("GET /metrics HTTP/1.1\r\nHost: x\r\n\r\n"), 200},
	    {REQ("GET /metrics HTTP/1.0\r\n\r\n"), 200},
	    {REQ("GET /metrics HTTP/1.0\r\nHost: x\r\n\r\n"), 200},
	    {REQ("GET /metrics HTTP/1.1\nHost: x\n\n"), 200}, /* bare LF lines */
	    {REQ("GET /metrics?name[]=x&y HTTP/1.1\r\nHost: x\r\n\r\n"), 200},
	    {REQ("GET /metrics? HTTP/1.1\r\nHost: x\r\n\r\n"), 200},
	    {REQ("GET http://127.0.0.1:9100/metrics HTTP/1.1\r\nHost: x\r\n\r\n"), 200},
	    {REQ("GET HTTP://h/metrics?q HTTP/1.1\r\nHost: x\r\n\r\n"), 200},
	    {REQ("\r\nGET /metrics HTTP/1.1\r\nHost: x\r\n\r\n"), 200}, /* leading CRLF */
	    {REQ("GET /metrics HTTP/1.1\r\nHost: x\r\nAccept: */*\r\nUser-Agent: P/2 (x)\r\n\r\n"),
	     200},
	    {REQ("GET /metrics HTTP/1.1\r\nHost: x\r\nX-A: \xc3\xa9 \t\r\n\r\n"),
	     200}, /* obs-text */
	    {REQ("GET /metrics HTTP/1.1\r\nHost: x\r\nX-Empty:\r\n\r\n"), 200},
	    {REQ("GET /metrics HTTP/1.1\r\nHost: x\r\nContent-Length: 3\r\n\r\nabc"), 200},
	    {REQ("GET /metrics HTTP/1.1\r\nHost: x\r\n\r\nGET /x HTTP/1.1\r\n"),
	     200},                                                  /* pipelined */
	    {REQ("GET /metrics HTTP/1.2\r\nHost: x\r\n\r\n"), 200}, /* a later 1.x */
	    /* other paths */
	    {REQ("GET / HTTP/1.1\r\nHost: x\r\n\r\n"), 404},
	    {REQ("GET /metrics/ HTTP/1.1\r\nHost: x\r\n\r\n"), 404},
	    {REQ("GET /metricsx HTTP/1.1\r\nHost: x\r\n\r\n"), 404},
	    {REQ("GET /Metrics HTTP/1.1\r\nHost: x\r\n\r\n"), 404},
	    {REQ("GET /%6detrics HTTP/1.1\r\nHost: x\r\n\r\n"), 404},
	    {REQ("GET /metrics/../metrics HTTP/1.1\r\nHost: x\r\n\r\n"), 404},
	    {REQ("GET http://h HTTP/1.1\r\nHost: x\r\n\r\n"), 404},
	    {REQ("POST /other HTTP/1.1\r\nHost: x\r\n\r\n"), 404},
	    /* other methods */
	    {REQ("POST /metrics HTTP/1.1\r\nHost: x\r\n\r\n"), 405},
	    {REQ("HEAD /metrics HTTP/1.1\r\nHost: x\r\n\r\n"), 405},
	    {REQ("get /metrics HTTP/1.1\r\nHost: x\r\n\r\n"), 405},
	    {REQ("GETS /metrics HTTP/1.1\r\nHost: x\r\n\r\n"), 405},
	    /* malformed request lines */
	    {REQ("GET /metrics\r\n\r\n"), 400}, /* HTTP/0.9 */
	    {REQ("GET  /metrics HTTP/1.1\r\nHost: x\r\n\r\n"), 400},
	    {REQ("GET /metrics  HTTP/1.1\r\nHost: x\r\n\r\n"), 400},
	    {REQ("GET /metrics HTTP/1.1 \r\nHost: x\r\n\r\n"), 400},
	    {REQ(" GET /metrics HTTP/1.1\r\nHost: x\r\n\r\n"), 400},
	    {REQ("GET\t/metrics HTTP/1.1\r\nHost: x\r\n\r\n"), 400},
	    {REQ("GET /metrics HTTP/1.11\r\nHost: x\r\n\r\n"), 400},
	    {REQ("GET /metrics HTTP/1.\r\nHost: x\r\n\r\n"), 400},
	    {REQ("GET /metrics http/1.1\r\nHost: x\r\n\r\n"), 400},
	    {REQ("GET /metrics HTTP/2.0\r\nHost: x\r\n\r\n"), 400},
	    {REQ("GET /metrics HTTP/1.1\r\r\nHost: x\r\n\r\n"), 400},
	    {REQ("GET /met\rrics HTTP/1.1\r\nHost: x\r\n\r\n"), 400},
	    {REQ("GET /metrics#f HTTP/1.1\r\nHost: x\r\n\r\n"), 400},
	    {REQ("GET metrics HTTP/1.1\r\nHost: x\r\n\r\n"), 400},
	    {REQ("GET * HTTP/1.1\r\nHost: x\r\n\r\n"), 400},
	    {REQ("GET https://h/metrics HTTP/1.1\r\nHost: x\r\n\r\n"), 400},
	    {REQ("GET http:///metrics HTTP/1.1\r\nHost: x\r\n\r\n"), 400},
	    {REQ("GET /m\xc3\xa9trics HTTP/1.1\r\nHost: x\r\n\r\n"), 400},
	    {REQ("PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n"), 400}, /* the HTTP/2 preface */
	    {REQ("hello\r\n\r\n"), 400},
	    {REQ("\r\n\r\n"), 0}, /* empty lines only: still waiting for a request line */
	    /* malformed headers */
	    {REQ("GET /metrics HTTP/1.1\r\n\r\n"), 400},                            /* no Host */
	    {REQ("GET /metrics HTTP/1.1\r\nHost: a\r\nhost: b\r\n\r\n"), 400},      /* two */
	    {REQ("GET /metrics HTTP/1.0\r\nHost: a\r\nHOST: b\r\n\r\n"), 400},      /* two */
	    {REQ("GET /metrics HTTP/1.1\r\nHost : x\r\n\r\n"), 400},                /* space */
	    {REQ("GET /metrics HTTP/1.1\r\nHost: x\r\nNoColon\r\n\r\n"), 400},      /* no colon */
	    {REQ("GET /metrics HTTP/1.1\r\nHost: x\r\n: v\r\n\r\n"), 400},          /* no name */
	    {REQ("GET /metrics HTTP/1.1\r\nHost: x\r\nX-A: a\r\n b\r\n\r\n"), 400}, /* fold */
	    {REQ("GET /metrics HTTP/1.1\r\nHost: x\r\nX-A: a\rb\r\n\r\n"), 400},    /* bare CR */
	    {REQ("GET /metrics HTTP/1.1\r\nHost: x\r\nX-A: a\x7f\r\n\r\n"), 400},   /* DEL */
	    {REQ("GET /metrics HTTP/1.1\r\nHost: x\r\nX-A: \x01\r\n\r\n"), 400},    /* CTL */
	    {REQ("GET /metrics HTTP/1.1\r\nHost: x\r\nX(A): 1\r\n\r\n"), 400}, /* not a token */
	    {REQ("GET /metrics HTTP/1.1\r\nHost: x\r\n\r\r\n"), 400},
	    /* NULs anywhere */
	    {REQ("GET /metrics HTTP/1.1\r\nHost: x\0\r\n\r\n"), 400},
	    {REQ("GET /met\0rics HTTP/1.1\r\nHost: x\r\n\r\n"), 400},
	    {REQ("\0"), 400},
	    {REQ("GET /metrics HTTP/1.1\r\nHost: x\r\nX-A: \0"), 400}, /* before the end */
	    /* garbage seen at once, with no line end yet */
	    {REQ("\x16\x03\x01\x02\x00\x01\x00\x01\xfc\x03\x03"), 400}, /* TLS ClientHello */
	    {REQ("{\"json\":"), 400},
	    {REQ("GET /metrics XTTP"), 400},
	    {REQ("GET /metrics HTTP/1.1x"), 400},
	    {REQ("GET /metrics HTTP/1.1\rx"), 400},
	    /* incomplete, nothing wrong yet */
	    {REQ(""), 0},
	    {REQ("G"), 0},
	    {REQ("GET /metr"), 0},
	    {REQ("GET /metrics HTTP/1."), 0},
	    {REQ("GET /metrics HTTP/1.1\r"), 0},
	    {REQ("GET /metrics HTTP/1.1\r\nHost: x\r\n"), 0},
	    {REQ("GET /metrics HTTP/1.1\r\nHost: x\r\n\r"), 0},
	    {REQ("GET /metrics HTTP/1.1\r\nX-A: \x01"), 0}, /* a header line is judged whole */
	};
	for (size_t i = 0; i < PM_ARRAY_LEN(cases); i++) {
		int got = (int)metrics_http_parse(cases[i].in, cases[i].len);

		if (got != cases[i].want)
			fail_msg("case %zu \"%.*s\": got %d, want %d", i, (int)cases[i].len,
			         cases[i].in, got, cases[i].want);
	}
	assert_int_equal(metrics_http_parse(NULL, 0), MHTTP_INCOMPLETE);
}

/* test_parse_prefixes - every prefix of a good request is incomplete; bad bytes are seen at once */
static void test_parse_prefixes(void **state)
{
	(void)state;
	static const struct {
		const char *in;
		size_t len, bad_at; /* the verdict shows with bad_at bytes (0: only when whole) */
		int want;
	} cases[] = {
	    {REQ("GET /metrics HTTP/1.1\r\nHost: x\r\n\r\n"), 0, 200},
	    {REQ("GET /metrics?x=1 HTTP/1.0\n\n"), 0, 200},
	    {REQ("DELETE /metrics HTTP/1.1\r\nHost: x\r\n\r\n"), 0, 405},
	    {REQ("GET /nope HTTP/1.1\r\nHost: x\r\n\r\n"), 0, 404},
	    {REQ("\x16\x03\x01\x02\x00"), 1, 400},
	    {REQ("GET /metrics HTTP/1.1 x\r\n"), 22, 400},
	    {REQ("GET /metrics HTTP/2.0\r\n\r\n"), 19, 400},
	    {REQ("PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n"), 12, 400},
	    {REQ("GET /a\0b HTTP/1.1\r\n"), 7, 400},
	};
	for (size_t i = 0; i < PM_ARRAY_LEN(cases); i++) {
		size_t first = cases[i].bad_at != 0 ? cases[i].bad_at : cases[i].len;

		for (size_t n = 0; n < first; n++) {
			int got = (int)metrics_http_parse(cases[i].in, n);

			if (got != MHTTP_INCOMPLETE)
				fail_msg("case %zu, %zu bytes: got %d, want 0 (incomplete)", i, n,
				         got);
		}
		for (size_t n = first; n <= cases[i].len; n++) {
			int got = (int)metrics_http_parse(cases[i].in, n);

			if (got != cases[i].want)
				fail_msg("case %zu, %zu bytes: got %d, want %d", i, n, got,
				         cases[i].want);
		}
	}
}

/* request_of - "GET /metrics HTTP/1.1", Host, headers padded so the head is total bytes */
static char *request_of(size_t total, size_t extra)
{
	static const char start[] = "GET /metrics HTTP/1.1\r\nHost: x\r\nX-Pad: ";
	static const char end[] = "\r\n\r\n";
	char *buf = malloc(total + extra);
	size_t pad = total - (sizeof(start) - 1) - (sizeof(end) - 1);

	assert_non_null(buf);
	memcpy(buf, start, sizeof(start) - 1);
	memset(buf + sizeof(start) - 1, 'a', pad);
	memcpy(buf + total - (sizeof(end) - 1), end, sizeof(end) - 1);
	memset(buf + total, 'b', extra); /* a "body" after the head */
	return buf;
}

/* test_parse_bounds - the head may be METRICS_HTTP_MAX_REQUEST bytes, not one more */
static void test_parse_bounds(void **state)
{
	(void)state;
	const size_t max = METRICS_HTTP_MAX_REQUEST;
	char *req = request_of(max, 100), *big;

	assert_int_equal(metrics_http_parse(req, max), MHTTP_OK);
	assert_int_equal(metrics_http_parse(req, max - 1), MHTTP_INCOMPLETE);
	assert_int_equal(metrics_http_parse(req, max + 100), MHTTP_OK); /* a body after it */
	free(req);
	req = request_of(max + 1, 0);
	assert_int_equal(metrics_http_parse(req, max), MHTTP_HEADERS_TOO_LARGE);
	assert_int_equal(metrics_http_parse(req, max + 1), MHTTP_HEADERS_TOO_LARGE);
	free(req);
	/* a request line alone over the bound: 414; a line of exactly max - 2 bytes fits */
	big = malloc(max + 10);
	assert_non_null(big);
	memcpy(big, "GET /", 5);
	memset(big + 5, 'a', max + 5);
	assert_int_equal(metrics_http_parse(big, max - 1), MHTTP_INCOMPLETE);
	assert_int_equal(metrics_http_parse(big, max), MHTTP_URI_TOO_LONG);
	assert_int_equal(metrics_http_parse(big, max + 10), MHTTP_URI_TOO_LONG);
	memcpy(big + max - 2 - 9, " HTTP/1.0", 9);
	memcpy(big + max - 2, "\r\n", 2);
	assert_int_equal(metrics_http_parse(big, max), MHTTP_HEADERS_TOO_LARGE);
	memcpy(big + max - 4 - 9, " HTTP/1.0\r\n\r\n", 13);
	assert_int_equal(metrics_http_parse(big, max), MHTTP_NOT_FOUND);
	free(big);
}

/* test_listen_check - metrics.listen values, with and without allow_public */
static void test_listen_check(void **state)
{
	(void)state;
	static const struct {
		const char *in;
		int allow_public;
		int rc;
		const char *why; /* a part of the reason */
	} cases[] = {
	    {"inet:9100@127.0.0.1", 0, 0, NULL},
	    {"inet:9100@127.1.2.3", 0, 0, NULL},
	    {"inet:1@127.255.255.254", 0, 0, NULL},
	    {"inet:65535@localhost", 0, 0, NULL},
	    {"inet6:9100@::1", 0, 0, NULL},
	    {"inet6:9100@[::1]", 0, 0, NULL},
	    {"inet6:9100@0:0:0:0:0:0:0:1", 0, 0, NULL},
	    {"inet6:9100@::ffff:127.0.0.1", 0, 0, NULL},
	    {"inet6:9100@localhost", 0, 0, NULL},
	    {"unix:/run/policy-milter/metrics.sock", 0, 0, NULL},
	    {"unix:/m", 1, 0, NULL},
	    /* public: refused unless allowed */
	    {"inet:9100@192.0.2.1", 0, -1, "not a loopback address"},
	    {"inet:9100@192.0.2.1", 1, 0, NULL},
	    {"inet:9100@0.0.0.0", 0, -1, "not a loopback address"},
	    {"inet:9100@0.0.0.0", 1, 0, NULL},
	    {"inet:9100@128.0.0.1", 0, -1, "not a loopback address"},
	    {"inet:9100@10.0.0.1", 0, -1, "not a loopback address"},
	    {"inet6:9100@::", 0, -1, "not a loopback address"},
	    {"inet6:9100@::", 1, 0, NULL},
	    {"inet6:9100@2001:db8::1", 0, -1, "not a loopback address"},
	    {"inet6:9100@2001:db8::1", 1, 0, NULL},
	    {"inet6:9100@::ffff:192.0.2.1", 0, -1, "not a loopback address"},
	    {"inet6:9100@::2", 0, -1, "not a loopback address"},
	    {"inet:9100", 0, -1, "every address"},
	    {"inet6:9100", 0, -1, "every address"},
	    {"inet:9100", 1, 0, NULL},
	    /* bad syntax, allowed or not */
	    {"inet:9100@::1", 1, -1, "not a numeric IPv4 address"},
	    {"inet6:9100@127.0.0.1", 1, -1, "not a numeric IPv6 address"},
	    {"inet:9100@metrics.example", 1, -1, "not a numeric IPv4 address"},
	    {"inet:9100@127.0.0.1.", 1, -1, "not a numeric"},
	    {"inet:9100@ 127.0.0.1", 1, -1, "not a numeric"},
	    {"inet:9100@", 1, -1, "numeric address or localhost"},
	    {"inet6:9100@[]", 1, -1, "numeric address or localhost"},
	    {"inet:0@127.0.0.1", 1, -1, "out of range"},
	    {"inet:65536@127.0.0.1", 1, -1, "out of range"},
	    {"inet:123456@127.0.0.1", 1, -1, "got port"},
	    {"inet:@127.0.0.1", 1, -1, "got port"},
	    {"inet:91a@127.0.0.1", 1, -1, "got port"},
	    {"inet:-1@127.0.0.1", 1, -1, "got port"},
	    {"unix:relative.sock", 1, -1, "absolute"},
	    {"unix:", 1, -1, "absolute"},
	    {"unix:/a b", 1, -1, "printable ASCII"},
	    {"unix:/a\tb", 1, -1, "printable ASCII"},
	    {"unix:/"
	     "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa"
	     "aaaaa"
	     "aaaaaaaaaaaaaaaaaaaa",
	     1, -1, "too long"},
	    {"/run/m.sock", 1, -1, "want unix:/path"},
	    {"local:/run/m.sock", 1, -1, "want unix:/path"},
	    {"tcp:9100@127.0.0.1", 1, -1, "want unix:/path"},
	    {"INET:9100@127.0.0.1", 1, -1, "want unix:/path"},
	    {"", 1, -1, "empty"},
	    {NULL, 1, -1, "empty"},
	};
	for (size_t i = 0; i < PM_ARRAY_LEN(cases); i++) {
		char why[256] = "";
		int rc = metrics_listen_check(cases[i].in, cases[i].allow_public, why, sizeof(why));

		if (rc != cases[i].rc)
			fail_msg("case %zu %s (allow_public %d): got %d (%s), want %d", i,
			         cases[i].in, cases[i].allow_public, rc, why, cases[i].rc);
		if (cases[i].why != NULL && strstr(why, cases[i].why) == NULL)
			fail_msg("case %zu %s: got reason \"%s\", want one with \"%s\"", i,
			         cases[i].in, why, cases[i].why);
	}
	/* a short buffer is cut, never overrun; a NULL one is fine */
	{
		char why[8] = "xxxxxxx";

		assert_int_equal(metrics_listen_check("inet:1@192.0.2.1", 0, why, 4), -1);
		assert_int_equal(strlen(why), 3);
		assert_int_equal(why[5], 'x');
		assert_int_equal(metrics_listen_check("garbage", 0, NULL, 0), -1);
	}
}

/* main - run the cases */
int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_parse_whole),
	    cmocka_unit_test(test_parse_prefixes),
	    cmocka_unit_test(test_parse_bounds),
	    cmocka_unit_test(test_listen_check),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
