/*
 * NAME
 *	httpd - the metrics endpoint's responder with a fixed body (tests/metrics/http.sh)
 * SYNOPSIS
 *	metrics-httpd [-p] [-b BYTES] [-f] LISTEN
 * DESCRIPTION
 *	Checks LISTEN as metrics_listen_check() does (-p: public addresses
 *	allowed), opens it (metrics_http_open) and starts the responder
 *	(metrics_http_start) with a render function that returns always
 *	the same body: three lines of the text exposition format, padded
 *	with comment lines to at least BYTES bytes (-b), or NULL with -f
 *	(a failing render: 500). It counts its calls. Then prints one line
 *
 *	    ready listen=LISTEN max_conn=N max_request=N timeout_ms=N body_bytes=N
 *
 *	and waits for signals: SIGUSR1 prints "renders N"; SIGTERM or
 *	SIGINT stop the responder (metrics_http_stop), print "renders N"
 *	and "stopped", exit 0. SIGPIPE keeps its default action: a write
 *	that raised it would kill the process, and the suite would see it.
 * DIAGNOSTICS
 *	Exit 1 (with the reason on stderr) when LISTEN is refused or
 *	cannot be opened, 64 for bad usage.
 */
#include <pthread.h>
#include <signal.h>
#include <stdbool.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sysexits.h>
#include <unistd.h>

#include "log.h"
#include "metrics_http.h"
#include "util.h"

static const char head[] = "# HELP pm_test_up Whether the test responder is up.\n"
                           "# TYPE pm_test_up gauge\n"
                           "pm_test_up 1\n";
static char *body;
static size_t body_len;
static bool render_fails;
static atomic_ulong renders;

/* render - a copy of the fixed body (counted), or NULL with -f */
static char *render(size_t *len)
{
	char *copy;

	atomic_fetch_add(&renders, 1);
	if (render_fails)
		return NULL;
	copy = xmalloc(body_len);
	memcpy(copy, body, body_len);
	*len = body_len;
	return copy;
}

/* make_body - the three lines, then "# pad NNNNNNNN ..." lines up to at least bytes */
static void make_body(size_t bytes)
{
	struct strbuf sb;
	unsigned long i = 0;

	sb_init(&sb);
	sb_append(&sb, head);
	while (sb.len < bytes)
		sb_appendf(&sb, "# pad %08lu abcdefghijklmnopqrstuvwxyz0123456789\n", i++);
	body_len = sb.len;
	body = sb_steal(&sb);
}

/* main - open, start, wait for signals */
int main(int argc, char **argv)
{
	char why[512];
	sigset_t set;
	int allow_public = 0, opt, sig;
	size_t bytes = 0;

	while ((opt = getopt(argc, argv, "pb:f")) != -1) {
		switch (opt) {
		case 'p':
			allow_public = 1;
			break;
		case 'b':
			bytes = strtoul(optarg, NULL, 10);
			break;
		case 'f':
			render_fails = true;
			break;
		default:
			fprintf(stderr, "usage: metrics-httpd [-p] [-b BYTES] [-f] LISTEN\n");
			return EX_USAGE;
		}
	}
	if (optind + 1 != argc) {
		fprintf(stderr, "usage: metrics-httpd [-p] [-b BYTES] [-f] LISTEN\n");
		return EX_USAGE;
	}
	log_open("metrics-httpd", LOG_DAEMON, true);
	make_body(bytes);
	if (metrics_listen_check(argv[optind], allow_public, why, sizeof(why)) != 0 ||
	    metrics_http_open(argv[optind], why, sizeof(why)) != 0) {
		fprintf(stderr, "metrics-httpd: %s\n", why);
		free(body);
		return 1;
	}
	sigemptyset(&set);
	sigaddset(&set, SIGTERM);
	sigaddset(&set, SIGINT);
	sigaddset(&set, SIGUSR1);
	pthread_sigmask(SIG_BLOCK, &set, NULL);
	if (metrics_http_start(render, why, sizeof(why)) != 0) {
		fprintf(stderr, "metrics-httpd: %s\n", why);
		metrics_http_stop();
		free(body);
		return 1;
	}
	printf("ready listen=%s max_conn=%d max_request=%d timeout_ms=%d body_bytes=%zu\n",
	       argv[optind], METRICS_HTTP_MAX_CONN, METRICS_HTTP_MAX_REQUEST,
	       METRICS_HTTP_TIMEOUT_MS, body_len);
	fflush(stdout);
	for (;;) {
		if (sigwait(&set, &sig) != 0)
			continue;
		printf("renders %lu\n", atomic_load(&renders));
		fflush(stdout);
		if (sig != SIGUSR1)
			break;
	}
	metrics_http_stop();
	free(body);
	printf("stopped\n");
	return 0;
}
