/*
 * NAME
 *	test_store - unit tests for the state store (store.c, store_lmdb.c,
 *	store_redis.c)
 * DESCRIPTION
 *	One table of cases (common[]) runs against both backends: get of a
 *	missing key, set/get, expiry, add counting, add with a limit
 *	(STORE_OVER leaves the value), negative deltas, a record that is no
 *	counter, del, keys up to STORE_KEY_MAX and values up to
 *	STORE_VALUE_MAX (one byte more: STORE_ERROR, no outage), and 8
 *	threads x 200 adds against a limit of 1,000 (exactly 1,000 succeed).
 *
 *	store.c over a fake backend (store_wrap): a lone failure between
 *	successes is no outage (the next operation reaches the backend), a
 *	success resets the count, 3 failures in a row begin an outage (logged
 *	once), a failed connect begins one at once; the backoff (a failed
 *	connect, then failures at once without calling the backend, one probe after
 *	1 s, 2 s after a failed probe, a success ends it) and the outage log
 *	lines; store_reopen_if_changed and the current store.
 *
 *	LMDB: a missing file is created; a missing directory and one that
 *	cannot be written are errors; a garbage file and a truncated one are
 *	renamed aside (PATH.bad-...) and a new one made; a restart keeps the
 *	data; the purge deletes expired records (more than one transaction's
 *	worth); the purge thread blocks the daemon's signals; two stores of
 *	one path share it.
 *
 *	Redis: the test starts its own redis-server (a temporary directory,
 *	unix socket and a 127.0.0.1 port, no persistence) and stops it; no
 *	redis-server is a failure. The prefix (read back with a raw hiredis
 *	connection), AUTH with a password and with an ACL user (a second
 *	server with requirepass), SELECT, bad server settings, the server
 *	down at open (an outage from the start, then STORE_ERROR at once
 *	during the backoff, then ok when it is back), restarted between two
 *	operations (no outage), stopped (STORE_ERROR at once), a server that never answers
 *	and one paused by CLIENT PAUSE (STORE_ERROR within the command
 *	timeout).
 * DIAGNOSTICS
 *	"CASE: got X, want Y" for each mismatch.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <errno.h>
#include <fcntl.h>
#include <glob.h>
#include <netinet/in.h>
#include <pthread.h>
#include <signal.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/types.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>
#include <hiredis/hiredis.h>
#include <cmocka.h>

#include "log.h"
#include "policy.h"
#include "store.h"
#include "store_int.h"
#include "tmpdir.h"

#define CONNECT_MS 300
#define COMMAND_MS 200
#define MARGIN_MS  400 /* scheduling on a loaded machine, ASan */

/* One backend under test. */
struct fx {
	const char *name;
	struct store *st;
};

/* One private redis-server. */
struct redis {
	char dir[300];
	char sock[400];
	int port;
	pid_t pid;
};

static char tmp_dir[256];  /* everything but the LMDB files */
static char lmdb_dir[256]; /* on tmpfs when there is one: a commit's fsync is cheap there */
static struct fx lmdb_fx = {.name = "lmdb"}, redis_fx = {.name = "redis"};
static struct redis main_redis;
#define MAX_SERVERS 8
static pid_t servers[MAX_SERVERS]; /* running, to stop even after a failed case */

/* ms_since - milliseconds since t0 (monotonic) */
static long ms_since(const struct timespec *t0)
{
	struct timespec t;

	clock_gettime(CLOCK_MONOTONIC, &t);
	return (t.tv_sec - t0->tv_sec) * 1000 + (t.tv_nsec - t0->tv_nsec) / 1000000;
}

/* sleep_ms - sleep ms milliseconds */
static void sleep_ms(long ms)
{
	struct timespec ts = {.tv_sec = ms / 1000, .tv_nsec = (ms % 1000) * 1000000};

	while (nanosleep(&ts, &ts) != 0 && errno == EINTR)
		;
}

/* free_port - a TCP port on 127.0.0.1 nothing listens on (now) */
static int free_port(void)
{
	struct sockaddr_in sa = {.sin_family = AF_INET};
	socklen_t len = sizeof(sa);
	int fd = socket(AF_INET, SOCK_STREAM, 0), port;

	sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	assert_true(fd >= 0);
	assert_int_equal(bind(fd, (struct sockaddr *)&sa, sizeof(sa)), 0);
	assert_int_equal(getsockname(fd, (struct sockaddr *)&sa, &len), 0);
	port = ntohs(sa.sin_port);
	close(fd);
	return port;
}

/* raw - a plain hiredis connection to r (NULL when it does not answer) */
static redisContext *raw(const struct redis *r)
{
	struct timeval tv = {.tv_sec = 1};
	redisContext *c = redisConnectUnixWithTimeout(r->sock, tv);

	if (c != NULL && c->err != 0) {
		redisFree(c);
		return NULL;
	}
	return c;
}

/* servers_stop - stop the servers a failed case left running */
static void servers_stop(void)
{
	int i;

	for (i = 0; i < MAX_SERVERS; i++)
		if (servers[i] > 0) {
			kill(servers[i], SIGTERM);
			waitpid(servers[i], NULL, 0);
			servers[i] = 0;
		}
}

/* redis_up - start redis-server in dir (socket dir/redis.sock, a TCP port), extra args */
static int redis_up(struct redis *r, const char *dir, const char *const *extra)
{
	char port[16];
	const char *argv[40];
	int argc = 0, i;

	snprintf(r->dir, sizeof(r->dir), "%s", dir);
	snprintf(r->sock, sizeof(r->sock), "%s/redis.sock", dir);
	mkdir(dir, 0700);
	if (r->port == 0)
		r->port = free_port();
	snprintf(port, sizeof(port), "%d", r->port);
	argv[argc++] = "redis-server";
	argv[argc++] = "--port";
	argv[argc++] = port;
	argv[argc++] = "--bind";
	argv[argc++] = "127.0.0.1";
	argv[argc++] = "--unixsocket";
	argv[argc++] = r->sock;
	argv[argc++] = "--unixsocketperm";
	argv[argc++] = "700";
	argv[argc++] = "--save";
	argv[argc++] = "";
	argv[argc++] = "--appendonly";
	argv[argc++] = "no";
	argv[argc++] = "--dir";
	argv[argc++] = dir;
	argv[argc++] = "--logfile";
	argv[argc++] = "redis.log";
	for (i = 0; extra != NULL && extra[i] != NULL && argc < 38; i++)
		argv[argc++] = extra[i];
	argv[argc] = NULL;
	r->pid = fork();
	if (r->pid < 0)
		return -1;
	if (r->pid == 0) {
		int fd = open("/dev/null", O_RDWR);

		dup2(fd, 0);
		dup2(fd, 1);
		dup2(fd, 2);
		execvp("redis-server", (char *const *)argv);
		_exit(127);
	}
	for (i = 0; i < MAX_SERVERS; i++)
		if (servers[i] == 0) {
			servers[i] = r->pid;
			break;
		}
	for (i = 0; i < 100; i++) {
		redisContext *c;
		int status;

		if (waitpid(r->pid, &status, WNOHANG) == r->pid) {
			fprintf(stderr, "redis-server %s: exited (status %d); is it installed?\n",
			        dir, status);
			r->pid = 0;
			return -1;
		}
		if ((c = raw(r)) != NULL) {
			redisFree(c);
			return 0;
		}
		sleep_ms(50);
	}
	fprintf(stderr, "redis-server %s: no answer on %s\n", dir, r->sock);
	return -1;
}

/* redis_down - stop r's server */
static void redis_down(struct redis *r)
{
	int i;

	for (i = 0; i < MAX_SERVERS; i++)
		if (r->pid > 0 && servers[i] == r->pid)
			servers[i] = 0;
	if (r->pid > 0) {
		kill(r->pid, SIGTERM);
		waitpid(r->pid, NULL, 0);
		r->pid = 0;
	}
	unlink(r->sock);
}

/* redis_settings - the settings of a store on r (unix socket) */
static struct state_settings redis_settings(const struct redis *r, char *server, size_t size)
{
	struct state_settings ss = {.backend = STATE_REDIS,
	                            .redis_prefix = "pmtest:",
	                            .redis_connect_timeout_ms = CONNECT_MS,
	                            .redis_command_timeout_ms = COMMAND_MS};

	snprintf(server, size, "unix:%s", r->sock);
	ss.redis_server = server;
	return ss;
}

/* log capture: log_msg's stderr lines go to a file between capture_begin and capture_end */
static int saved_stderr = -1;
static char capture_path[300];

/* capture_restore - after a failed case: stderr back, and what it captured shown */
static void capture_restore(void)
{
	char buf[4000];
	FILE *f;
	size_t n;

	if (saved_stderr < 0)
		return;
	fflush(stderr);
	dup2(saved_stderr, 2);
	close(saved_stderr);
	saved_stderr = -1;
	if ((f = fopen(capture_path, "r")) != NULL) {
		n = fread(buf, 1, sizeof(buf) - 1, f);
		buf[n] = '\0';
		fclose(f);
		fprintf(stderr, "captured before the failure:\n%s", buf);
	}
}

/* capture_begin - send stderr (log_msg) to a fresh file */
static void capture_begin(void)
{
	int fd;

	capture_restore();
	snprintf(capture_path, sizeof(capture_path), "%s/log.txt", tmp_dir);
	fd = open(capture_path, O_WRONLY | O_CREAT | O_TRUNC, 0600);
	assert_true(fd >= 0);
	fflush(stderr);
	saved_stderr = dup(2);
	dup2(fd, 2);
	close(fd);
}

/* capture_end - stderr back; what was logged into buf */
static void capture_end(char *buf, size_t size)
{
	FILE *f;
	size_t n;

	fflush(stderr);
	dup2(saved_stderr, 2);
	close(saved_stderr);
	saved_stderr = -1;
	f = fopen(capture_path, "r");
	assert_non_null(f);
	n = fread(buf, 1, size - 1, f);
	buf[n] = '\0';
	fclose(f);
}

/* ---- the common cases, run against both backends ------------------------ */

/* get_missing - a key never set: STORE_NOTFOUND, val "" */
static void get_missing(void **state)
{
	struct fx *fx = *state;
	char val[32] = "junk";

	assert_int_equal(store_get(fx->st, "t:missing", val, sizeof(val), NULL), STORE_NOTFOUND);
	assert_string_equal(val, "");
}

/* set_get - set then get, the expiry, replacing, a value cut to the buffer */
static void set_get(void **state)
{
	struct fx *fx = *state;
	char val[STORE_VALUE_MAX + 1], small[4];
	time_t exp = 0, now = time(NULL);

	assert_int_equal(store_set(fx->st, "t:sg", "hello", 100), STORE_OK);
	assert_int_equal(store_get(fx->st, "t:sg", val, sizeof(val), &exp), STORE_OK);
	assert_string_equal(val, "hello");
	assert_in_range(exp, now + 99, now + 102);
	assert_int_equal(store_set(fx->st, "t:sg", "world", 200), STORE_OK);
	assert_int_equal(store_get(fx->st, "t:sg", val, sizeof(val), &exp), STORE_OK);
	assert_string_equal(val, "world");
	assert_in_range(exp, now + 199, now + 202);
	assert_int_equal(store_get(fx->st, "t:sg", small, sizeof(small), NULL), STORE_OK);
	assert_string_equal(small, "wor");
	assert_int_equal(store_set(fx->st, "t:empty", "", 100), STORE_OK);
	assert_int_equal(store_get(fx->st, "t:empty", val, sizeof(val), NULL), STORE_OK);
	assert_string_equal(val, "");
}

/* expiry - records with ttl 1 are gone after 1.1 s; a counter starts again */
static void expiry(void **state)
{
	struct fx *fx = *state;
	char val[32];
	long v = 0;

	assert_int_equal(store_set(fx->st, "t:exp", "x", 1), STORE_OK);
	assert_int_equal(store_set(fx->st, "t:exp-long", "y", 60), STORE_OK);
	assert_int_equal(store_add(fx->st, "t:exp-c", 5, 0, 1, &v), STORE_OK);
	/* an add to a live counter keeps its expiry (1 s), not this ttl */
	assert_int_equal(store_add(fx->st, "t:exp-c", 1, 0, 60, &v), STORE_OK);
	assert_int_equal(v, 6);
	assert_int_equal(store_get(fx->st, "t:exp", val, sizeof(val), NULL), STORE_OK);
	sleep_ms(1150);
	assert_int_equal(store_get(fx->st, "t:exp", val, sizeof(val), NULL), STORE_NOTFOUND);
	assert_int_equal(store_get(fx->st, "t:exp-c", val, sizeof(val), NULL), STORE_NOTFOUND);
	assert_int_equal(store_get(fx->st, "t:exp-long", val, sizeof(val), NULL), STORE_OK);
	assert_int_equal(store_add(fx->st, "t:exp-c", 1, 0, 60, &v), STORE_OK);
	assert_int_equal(v, 1);
}

/* add_count - a new counter starts at 0 and gets the ttl; each add counts */
static void add_count(void **state)
{
	struct fx *fx = *state;
	char val[32];
	time_t exp = 0, now = time(NULL);
	long v = 0, i;

	for (i = 1; i <= 5; i++) {
		assert_int_equal(store_add(fx->st, "t:count", 1, 0, 100, &v), STORE_OK);
		assert_int_equal(v, i);
	}
	assert_int_equal(store_add(fx->st, "t:count", 10, 0, 5000, NULL), STORE_OK);
	assert_int_equal(store_get(fx->st, "t:count", val, sizeof(val), &exp), STORE_OK);
	assert_string_equal(val, "15");
	assert_in_range(exp, now + 99, now + 102); /* the first add's ttl */
}

/* add_limit - up to the limit ok; past it STORE_OVER, the value as it stands, nothing added */
static void add_limit(void **state)
{
	struct fx *fx = *state;
	char val[32];
	long v = 0, i;

	for (i = 1; i <= 3; i++) {
		assert_int_equal(store_add(fx->st, "t:limit", 1, 3, 100, &v), STORE_OK);
		assert_int_equal(v, i);
	}
	v = -1;
	assert_int_equal(store_add(fx->st, "t:limit", 1, 3, 100, &v), STORE_OVER);
	assert_int_equal(v, 3);
	assert_int_equal(store_get(fx->st, "t:limit", val, sizeof(val), NULL), STORE_OK);
	assert_string_equal(val, "3");
	/* a delta that would pass it from below */
	assert_int_equal(store_add(fx->st, "t:limit2", 2, 3, 100, &v), STORE_OK);
	assert_int_equal(store_add(fx->st, "t:limit2", 2, 3, 100, &v), STORE_OVER);
	assert_int_equal(v, 2);
	/* a new counter whose first delta passes the limit is not created */
	assert_int_equal(store_add(fx->st, "t:limit3", 5, 3, 100, &v), STORE_OVER);
	assert_int_equal(v, 0);
	assert_int_equal(store_get(fx->st, "t:limit3", val, sizeof(val), NULL), STORE_NOTFOUND);
}

/* add_negative - a negative delta takes back (the rate limits' undo) */
static void add_negative(void **state)
{
	struct fx *fx = *state;
	char val[32];
	long v = 0;

	assert_int_equal(store_add(fx->st, "t:neg", 3, 3, 100, &v), STORE_OK);
	assert_int_equal(store_add(fx->st, "t:neg", -1, 0, 100, &v), STORE_OK);
	assert_int_equal(v, 2);
	assert_int_equal(store_add(fx->st, "t:neg", 1, 3, 100, &v), STORE_OK);
	assert_int_equal(v, 3);
	assert_int_equal(store_add(fx->st, "t:neg", -5, 0, 100, &v), STORE_OK);
	assert_int_equal(v, -2);
	assert_int_equal(store_get(fx->st, "t:neg", val, sizeof(val), NULL), STORE_OK);
	assert_string_equal(val, "-2");
}

/* add_not_counter - a record that is no counter counts as 0 */
static void add_not_counter(void **state)
{
	struct fx *fx = *state;
	char val[32];
	long v = -1;

	assert_int_equal(store_set(fx->st, "t:nc", "12abc", 100), STORE_OK);
	assert_int_equal(store_add(fx->st, "t:nc", 2, 0, 100, &v), STORE_OK);
	assert_int_equal(v, 2);
	assert_int_equal(store_get(fx->st, "t:nc", val, sizeof(val), NULL), STORE_OK);
	assert_string_equal(val, "2");
	assert_int_equal(store_set(fx->st, "t:nc2", "41", 100), STORE_OK);
	assert_int_equal(store_add(fx->st, "t:nc2", 1, 0, 100, &v), STORE_OK);
	assert_int_equal(v, 42);
}

/* del - gone after del; deleting what is not there is ok */
static void del(void **state)
{
	struct fx *fx = *state;
	char val[32];

	assert_int_equal(store_set(fx->st, "t:del", "x", 100), STORE_OK);
	assert_int_equal(store_del(fx->st, "t:del"), STORE_OK);
	assert_int_equal(store_get(fx->st, "t:del", val, sizeof(val), NULL), STORE_NOTFOUND);
	assert_int_equal(store_del(fx->st, "t:del"), STORE_OK);
	assert_int_equal(store_add(fx->st, "t:del", 1, 0, 100, NULL), STORE_OK);
	assert_int_equal(store_del(fx->st, "t:del"), STORE_OK);
	assert_int_equal(store_get(fx->st, "t:del", val, sizeof(val), NULL), STORE_NOTFOUND);
}

/* sizes - keys of STORE_KEY_MAX bytes (differing only at the end), values of STORE_VALUE_MAX */
static void sizes(void **state)
{
	struct fx *fx = *state;
	char k1[STORE_KEY_MAX + 2], k2[STORE_KEY_MAX + 1], k3[STORE_KEY_MAX + 1];
	char v[STORE_VALUE_MAX + 2], got[STORE_VALUE_MAX + 8];
	struct store_stats before, after;
	long n = 0;

	memset(k1, 'k', STORE_KEY_MAX);
	k1[STORE_KEY_MAX] = '\0';
	memcpy(k2, k1, sizeof(k2));
	k2[STORE_KEY_MAX - 1] = 'j';
	memcpy(k3, k1, sizeof(k3));
	k3[0] = 'j';
	memset(v, 'v', STORE_VALUE_MAX);
	v[STORE_VALUE_MAX] = '\0';
	assert_int_equal(store_set(fx->st, k1, v, 100), STORE_OK);
	assert_int_equal(store_set(fx->st, k2, "two", 100), STORE_OK);
	assert_int_equal(store_get(fx->st, k1, got, sizeof(got), NULL), STORE_OK);
	assert_string_equal(got, v);
	assert_int_equal(store_get(fx->st, k2, got, sizeof(got), NULL), STORE_OK);
	assert_string_equal(got, "two");
	assert_int_equal(store_get(fx->st, k3, got, sizeof(got), NULL), STORE_NOTFOUND);
	assert_int_equal(store_add(fx->st, k3, 7, 0, 100, &n), STORE_OK);
	assert_int_equal(store_get(fx->st, k3, got, sizeof(got), NULL), STORE_OK);
	assert_string_equal(got, "7");
	assert_int_equal(store_del(fx->st, k1), STORE_OK);
	assert_int_equal(store_get(fx->st, k2, got, sizeof(got), NULL), STORE_OK);

	/* one byte more, a space, nothing: the caller's mistake, refused, no outage */
	store_stats(fx->st, &before);
	k1[STORE_KEY_MAX] = 'k';
	k1[STORE_KEY_MAX + 1] = '\0';
	assert_int_equal(store_set(fx->st, k1, "x", 100), STORE_ERROR);
	assert_int_equal(store_get(fx->st, "t:a b", got, sizeof(got), NULL), STORE_ERROR);
	assert_int_equal(store_add(fx->st, "", 1, 0, 100, NULL), STORE_ERROR);
	assert_int_equal(store_del(fx->st, NULL), STORE_ERROR);
	v[STORE_VALUE_MAX] = 'v';
	v[STORE_VALUE_MAX + 1] = '\0';
	assert_int_equal(store_set(fx->st, "t:big", v, 100), STORE_ERROR);
	store_stats(fx->st, &after);
	assert_int_equal(after.errors - before.errors, 5);
	assert_int_equal(after.outages, before.outages);
	assert_int_equal(store_set(fx->st, "t:after", "ok", 100), STORE_OK);
}

struct adder {
	struct store *st;
	int ok, over, error;
};

/* adder - 200 adds of 1 against a limit of 1,000 */
static void *adder(void *arg)
{
	struct adder *a = arg;
	int i;

	for (i = 0; i < 200; i++) {
		switch (store_add(a->st, "t:concurrent", 1, 1000, 600, NULL)) {
		case STORE_OK:
			a->ok++;
			break;
		case STORE_OVER:
			a->over++;
			break;
		default:
			a->error++;
			break;
		}
	}
	return NULL;
}

/* concurrency - 8 threads x 200 adds, limit 1,000: exactly 1,000 succeed */
static void concurrency(void **state)
{
	struct fx *fx = *state;
	struct adder a[8];
	pthread_t th[8];
	char val[32];
	int i, ok = 0, over = 0, error = 0;

	for (i = 0; i < 8; i++) {
		a[i] = (struct adder){.st = fx->st};
		assert_int_equal(pthread_create(&th[i], NULL, adder, &a[i]), 0);
	}
	for (i = 0; i < 8; i++) {
		pthread_join(th[i], NULL);
		ok += a[i].ok;
		over += a[i].over;
		error += a[i].error;
	}
	assert_int_equal(error, 0);
	assert_int_equal(ok, 1000);
	assert_int_equal(over, 600);
	assert_int_equal(store_get(fx->st, "t:concurrent", val, sizeof(val), NULL), STORE_OK);
	assert_string_equal(val, "1000");
}

/* stats - the counters move; the names */
static void stats(void **state)
{
	struct fx *fx = *state;
	struct store_stats before, after;
	char val[8];

	store_stats(fx->st, &before);
	assert_int_equal(store_get(fx->st, "t:stats", val, sizeof(val), NULL), STORE_NOTFOUND);
	assert_int_equal(store_add(fx->st, "t:stats", 1, 0, 10, NULL), STORE_OK);
	store_stats(fx->st, &after);
	assert_int_equal(after.ops - before.ops, 2);
	assert_int_equal(after.errors, before.errors);
	assert_int_equal(after.round_trips - before.round_trips, 2);
	assert_string_equal(store_backend_name(fx->st), fx->name);
	assert_true(strncmp(store_describe(fx->st), fx->name, strlen(fx->name)) == 0);
}

/* ---- store.c over a fake backend ------------------------------------------ */

static int fake_calls;
static enum store_status fake_result;
static bool fake_connect; /* an error is a failure to connect */

/* fake_get - store_ops.get: fake_result, counting calls */
static enum store_status fake_get(void *b, const char *key, char *val, size_t valsize,
                                  time_t *expires)
{
	(void)b;
	(void)key;
	(void)valsize;
	(void)expires;
	fake_calls++;
	val[0] = '\0';
	if (fake_result == STORE_ERROR) {
		store_reason("fake refuses");
		if (fake_connect)
			store_connect_failed();
	}
	return fake_result;
}

/* fake_close - store_ops.close */
static void fake_close(void *b)
{
	(void)b;
}

/* fake_describe - store_ops.describe */
static const char *fake_describe(void *b)
{
	(void)b;
	return "fake here";
}

static const struct store_ops fake_ops = {
    .name = "fake", .get = fake_get, .close = fake_close, .describe = fake_describe};

/*
 * backoff - a failed connect begins an outage at once: fail at once, probe
 * after 1 s, 2 s after a failed probe, success ends it
 */
static void backoff(void **state)
{
	struct store *st = store_wrap(&fake_ops, NULL, "tempfail");
	struct store_stats s;
	struct timespec t0;
	char val[8], logged[2000];

	(void)state;
	capture_begin();
	fake_calls = 0;
	fake_connect = true;
	fake_result = STORE_ERROR;
	assert_int_equal(store_get(st, "k", val, sizeof(val), NULL), STORE_ERROR);
	assert_int_equal(fake_calls, 1);
	clock_gettime(CLOCK_MONOTONIC, &t0);
	assert_int_equal(store_get(st, "k", val, sizeof(val), NULL), STORE_ERROR);
	assert_int_equal(store_get(st, "k", val, sizeof(val), NULL), STORE_ERROR);
	assert_int_equal(fake_calls, 1); /* not asked during the backoff */
	assert_true(ms_since(&t0) < 50);
	sleep_ms(1050);
	assert_int_equal(store_get(st, "k", val, sizeof(val), NULL), STORE_ERROR);
	assert_int_equal(fake_calls, 2); /* the probe */
	fake_result = STORE_NOTFOUND;
	sleep_ms(1050);
	assert_int_equal(store_get(st, "k", val, sizeof(val), NULL), STORE_ERROR);
	assert_int_equal(fake_calls, 2); /* the backoff doubled: 2 s */
	sleep_ms(1000);
	assert_int_equal(store_get(st, "k", val, sizeof(val), NULL), STORE_NOTFOUND);
	assert_int_equal(fake_calls, 3);
	assert_int_equal(store_get(st, "k", val, sizeof(val), NULL), STORE_NOTFOUND);
	assert_int_equal(fake_calls, 4);
	store_stats(st, &s);
	assert_int_equal(s.ops, 7);
	assert_int_equal(s.errors, 5);
	assert_int_equal(s.outages, 1);
	/* a new failure: a new outage, backoff back at 1 s */
	fake_result = STORE_ERROR;
	assert_int_equal(store_get(st, "k", val, sizeof(val), NULL), STORE_ERROR);
	sleep_ms(1050);
	fake_result = STORE_OK;
	assert_int_equal(store_get(st, "k", val, sizeof(val), NULL), STORE_OK);
	store_stats(st, &s);
	assert_int_equal(s.outages, 2);
	capture_end(logged, sizeof(logged));
	store_release(st);
	assert_non_null(strstr(logged, "state store fake here unavailable: fake refuses; "
	                               "greylisting and rate limits tempfail"));
	assert_non_null(
	    strstr(logged, "state store fake here back after 3 s; 5 operations failed"));
	assert_non_null(
	    strstr(logged, "state store fake here back after 1 s; 1 operations failed"));
}

/* get_k - store_get of "k" on st with the fake answering r; the result */
static enum store_status get_k(struct store *st, enum store_status r)
{
	char val[8];

	fake_result = r;
	return store_get(st, "k", val, sizeof(val), NULL);
}

/*
 * lone_failures - an operation failing on its own fails only itself; a
 * success resets the count; STORE_OUTAGE_AFTER in a row begin an outage
 */
static void lone_failures(void **state)
{
	struct store *st = store_wrap(&fake_ops, NULL, "fail open");
	struct store_stats s;
	char logged[2000];
	int i;

	(void)state;
	assert_int_equal(STORE_OUTAGE_AFTER, 3);
	capture_begin();
	fake_calls = 0;
	fake_connect = false;
	assert_int_equal(get_k(st, STORE_NOTFOUND), STORE_NOTFOUND);
	assert_int_equal(get_k(st, STORE_ERROR), STORE_ERROR); /* a timeout between successes */
	assert_int_equal(get_k(st, STORE_OK), STORE_OK);       /* goes to the backend */
	assert_int_equal(fake_calls, 3);
	/* two in a row, a success, two in a row: still no outage */
	assert_int_equal(get_k(st, STORE_ERROR), STORE_ERROR);
	assert_int_equal(get_k(st, STORE_ERROR), STORE_ERROR);
	assert_int_equal(get_k(st, STORE_OK), STORE_OK);
	assert_int_equal(get_k(st, STORE_ERROR), STORE_ERROR);
	assert_int_equal(get_k(st, STORE_ERROR), STORE_ERROR);
	assert_int_equal(fake_calls, 8);
	store_stats(st, &s);
	assert_int_equal(s.outages, 0);
	assert_int_equal(s.errors, 5);
	capture_end(logged, sizeof(logged));
	assert_null(strstr(logged, "unavailable"));
	assert_non_null(strstr(logged, "state store fake here operation failed: fake refuses; "
	                               "greylisting and rate limits fail open for it"));
	/* the third in a row: an outage, the next ones fail at once */
	capture_begin();
	assert_int_equal(get_k(st, STORE_ERROR), STORE_ERROR);
	assert_int_equal(fake_calls, 9);
	for (i = 0; i < 4; i++)
		assert_int_equal(get_k(st, STORE_OK), STORE_ERROR);
	assert_int_equal(fake_calls, 9);
	store_stats(st, &s);
	assert_int_equal(s.outages, 1);
	sleep_ms(1050);
	assert_int_equal(get_k(st, STORE_OK), STORE_OK); /* the probe ends it */
	assert_int_equal(fake_calls, 10);
	capture_end(logged, sizeof(logged));
	assert_non_null(strstr(logged, "state store fake here unavailable: fake refuses; "
	                               "greylisting and rate limits fail open"));
	assert_null(strstr(strstr(logged, "unavailable") + 1, "unavailable")); /* logged once */
	assert_non_null(
	    strstr(logged, "state store fake here back after 1 s; 7 operations failed"));
	/* after it: a lone failure is again only itself */
	assert_int_equal(get_k(st, STORE_ERROR), STORE_ERROR);
	assert_int_equal(get_k(st, STORE_OK), STORE_OK);
	assert_int_equal(fake_calls, 12);
	/* a failed connect: an outage at once */
	fake_connect = true;
	assert_int_equal(get_k(st, STORE_ERROR), STORE_ERROR);
	fake_connect = false;
	assert_int_equal(get_k(st, STORE_OK), STORE_ERROR);
	assert_int_equal(fake_calls, 13);
	store_stats(st, &s);
	assert_int_equal(s.outages, 2);
	store_release(st);
}

/* names - store_status_name, and NULL stores */
static void names(void **state)
{
	char val[4];

	(void)state;
	assert_string_equal(store_status_name(STORE_OK), "ok");
	assert_string_equal(store_status_name(STORE_NOTFOUND), "notfound");
	assert_string_equal(store_status_name(STORE_OVER), "over");
	assert_string_equal(store_status_name(STORE_ERROR), "error");
	assert_int_equal(store_get(NULL, "k", val, sizeof(val), NULL), STORE_ERROR);
	assert_int_equal(store_add(NULL, "k", 1, 0, 1, NULL), STORE_ERROR);
	assert_null(store_hold(NULL));
	store_release(NULL);
}

/* current - store_set_current, store_acquire, store_reopen_if_changed */
static void current(void **state)
{
	struct state_settings ss = {.backend = STATE_LMDB, .lmdb_max_mb = 16};
	char path[400], path2[400], err[300];
	struct store *a, *b, *c;

	(void)state;
	snprintf(path, sizeof(path), "%s/current.lmdb", lmdb_dir);
	snprintf(path2, sizeof(path2), "%s/current2.lmdb", lmdb_dir);
	ss.lmdb_path = path;
	assert_null(store_acquire());
	/* nothing current: reopen opens */
	assert_int_equal(store_reopen_if_changed(&ss, err, sizeof(err)), 0);
	a = store_acquire();
	assert_non_null(a);
	assert_int_equal(store_set(a, "t:cur", "1", 100), STORE_OK);
	/* the same settings, or only on_failure changed: the same store */
	assert_int_equal(store_reopen_if_changed(&ss, err, sizeof(err)), 0);
	ss.on_failure = STATE_FAIL_TEMPFAIL;
	assert_int_equal(store_reopen_if_changed(&ss, err, sizeof(err)), 0);
	b = store_acquire();
	assert_ptr_equal(a, b);
	store_release(b);
	/* another file: another store; the old one lives while held */
	ss.lmdb_path = path2;
	assert_int_equal(store_reopen_if_changed(&ss, err, sizeof(err)), 0);
	b = store_acquire();
	assert_ptr_not_equal(a, b);
	assert_int_equal(store_set(a, "t:cur", "2", 100), STORE_OK);
	assert_int_equal(store_get(b, "t:cur", err, sizeof(err), NULL), STORE_NOTFOUND);
	/* a size change of the same file: a new store sharing the file */
	ss.lmdb_max_mb = 32;
	assert_int_equal(store_reopen_if_changed(&ss, err, sizeof(err)), 0);
	c = store_acquire();
	assert_ptr_not_equal(b, c);
	assert_int_equal(store_set(b, "t:cur", "3", 100), STORE_OK);
	assert_int_equal(store_get(c, "t:cur", err, sizeof(err), NULL), STORE_OK);
	assert_string_equal(err, "3");
	store_release(b);
	store_release(c);
	/* settings that cannot work: -1, the old store stays */
	ss.lmdb_path = "/nonexistent-dir/x.lmdb";
	assert_int_equal(store_reopen_if_changed(&ss, err, sizeof(err)), -1);
	assert_non_null(strstr(err, "does not exist"));
	c = store_acquire();
	assert_int_equal(store_get(c, "t:cur", err, sizeof(err), NULL), STORE_OK);
	store_release(c);
	store_set_current(NULL);
	assert_null(store_acquire());
	assert_int_equal(store_get(a, "t:cur", err, sizeof(err), NULL), STORE_OK);
	assert_string_equal(err, "2");
	store_release(a);
}

/* ---- LMDB ----------------------------------------------------------------- */

/* lmdb_open_path - a store on path; NULL with err */
static struct store *lmdb_open_path(const char *path, char *err, size_t errsize)
{
	struct state_settings ss = {.backend = STATE_LMDB, .lmdb_max_mb = 16};

	ss.lmdb_path = (char *)path;
	return store_open(&ss, err, errsize);
}

/* count_bad - how many PATH.bad-* files there are; the first's name in buf */
static size_t count_bad(const char *path, char *buf, size_t size)
{
	char pat[600];
	glob_t g;
	size_t n;

	snprintf(pat, sizeof(pat), "%s.bad-*", path);
	if (glob(pat, 0, NULL, &g) != 0)
		return 0;
	n = g.gl_pathc;
	if (n > 0)
		snprintf(buf, size, "%s", g.gl_pathv[0]);
	globfree(&g);
	return n;
}

/* lmdb_files - a missing file is created; no directory, an unwritable one: errors */
static void lmdb_files(void **state)
{
	char path[400], err[300];
	struct store *st;
	struct stat sb;

	(void)state;
	snprintf(path, sizeof(path), "%s/new.lmdb", lmdb_dir);
	assert_int_not_equal(stat(path, &sb), 0);
	st = lmdb_open_path(path, err, sizeof(err));
	assert_non_null(st);
	assert_int_equal(stat(path, &sb), 0);
	assert_int_equal(sb.st_mode & 0777, 0600);
	assert_true(strncmp(store_describe(st), "lmdb /", 6) == 0);
	store_release(st);

	snprintf(path, sizeof(path), "%s/no-such-dir/x.lmdb", lmdb_dir);
	assert_null(lmdb_open_path(path, err, sizeof(err)));
	assert_non_null(strstr(err, "does not exist"));
	/* root may write everywhere but in /sys */
	assert_null(lmdb_open_path("/sys/policy-milter-test.lmdb", err, sizeof(err)));
	assert_non_null(strstr(err, "/sys/policy-milter-test.lmdb"));
	assert_null(lmdb_open_path("relative.lmdb", err, sizeof(err)));
	assert_non_null(strstr(err, "absolute"));
}

/* refused_file - a file LMDB refuses (content from fill) is renamed aside and replaced */
static void refused_file(const char *name, void (*fill)(const char *path))
{
	char path[400], err[300], bad[600], val[8], logged[2000];
	struct store *st;
	struct stat sb, bsb;

	snprintf(path, sizeof(path), "%s/%s", lmdb_dir, name);
	fill(path);
	assert_int_equal(stat(path, &sb), 0);
	capture_begin();
	st = lmdb_open_path(path, err, sizeof(err));
	capture_end(logged, sizeof(logged));
	assert_non_null(st);
	assert_int_equal(count_bad(path, bad, sizeof(bad)), 1);
	assert_int_equal(stat(bad, &bsb), 0);
	assert_int_equal(bsb.st_size, sb.st_size); /* the old one, as it was */
	assert_non_null(strstr(logged, path));
	assert_non_null(strstr(logged, bad));
	assert_int_equal(store_get(st, "t:x", val, sizeof(val), NULL), STORE_NOTFOUND);
	assert_int_equal(store_set(st, "t:x", "1", 100), STORE_OK);
	assert_int_equal(store_get(st, "t:x", val, sizeof(val), NULL), STORE_OK);
	store_release(st);
}

/* fill_garbage - 20,000 random-looking bytes */
static void fill_garbage(const char *path)
{
	FILE *f = fopen(path, "w");
	unsigned x = 12345;
	int i;

	assert_non_null(f);
	for (i = 0; i < 20000; i++) {
		x = x * 1103515245u + 12345u;
		fputc((int)(x >> 16) & 255, f);
	}
	fclose(f);
}

/* fill_truncated - a real store with data, cut to 5,000 bytes (LMDB itself would SIGBUS) */
static void fill_truncated(const char *path)
{
	char err[300], key[32];
	struct store *st = lmdb_open_path(path, err, sizeof(err));
	int i;

	assert_non_null(st);
	for (i = 0; i < 100; i++) {
		snprintf(key, sizeof(key), "t:%d", i);
		assert_int_equal(store_set(st, key, "some value", 100), STORE_OK);
	}
	store_release(st);
	assert_int_equal(truncate(path, 5000), 0);
}

/* lmdb_garbage - not an LMDB file */
static void lmdb_garbage(void **state)
{
	(void)state;
	refused_file("garbage.lmdb", fill_garbage);
}

/* lmdb_truncated - a truncated LMDB file */
static void lmdb_truncated(void **state)
{
	(void)state;
	refused_file("truncated.lmdb", fill_truncated);
}

/* purge_thread_blocks_signals - the purge thread runs, with every signal but the unblockable
 * blocked */
static void purge_thread_blocks_signals(void **state)
{
	char path[400], err[300], file[300], line[256];
	struct store *st;
	glob_t g;
	size_t i;
	int found = 0;

	(void)state;
	snprintf(path, sizeof(path), "%s/signals.lmdb", lmdb_dir);
	st = lmdb_open_path(path, err, sizeof(err));
	assert_non_null(st);
	assert_int_equal(glob("/proc/self/task/*/comm", 0, NULL, &g), 0);
	for (i = 0; i < g.gl_pathc; i++) {
		FILE *f = fopen(g.gl_pathv[i], "r");

		if (f == NULL)
			continue;
		if (fgets(line, sizeof(line), f) != NULL && strcmp(line, "pm-lmdb-purge\n") == 0) {
			snprintf(file, sizeof(file), "%.*sstatus", (int)strlen(g.gl_pathv[i]) - 4,
			         g.gl_pathv[i]);
			found++;
		}
		fclose(f);
	}
	globfree(&g);
	assert_int_equal(found, 1);
	{
		FILE *f = fopen(file, "r");
		unsigned long long blk = 0;

		assert_non_null(f);
		while (fgets(line, sizeof(line), f) != NULL)
			if (sscanf(line, "SigBlk: %llx", &blk) == 1)
				break;
		fclose(f);
		/* SIGHUP, SIGTERM, SIGINT (bits 0, 14, 1) among them */
		assert_true((blk & 0x4003ull) == 0x4003ull);
	}
	store_release(st);
}

/* lmdb_restart - closed and opened again: the data is there */
static void lmdb_restart(void **state)
{
	char path[400], err[300], val[16];
	struct store *st;
	long v = 0;

	(void)state;
	snprintf(path, sizeof(path), "%s/restart.lmdb", lmdb_dir);
	st = lmdb_open_path(path, err, sizeof(err));
	assert_non_null(st);
	assert_int_equal(store_set(st, "t:kept", "yes", 100), STORE_OK);
	assert_int_equal(store_add(st, "t:kc", 4, 0, 100, NULL), STORE_OK);
	store_release(st);
	st = lmdb_open_path(path, err, sizeof(err));
	assert_non_null(st);
	assert_int_equal(store_get(st, "t:kept", val, sizeof(val), NULL), STORE_OK);
	assert_string_equal(val, "yes");
	assert_int_equal(store_add(st, "t:kc", 1, 0, 100, &v), STORE_OK);
	assert_int_equal(v, 5);
	assert_int_equal(count_bad(path, err, sizeof(err)), 0);
	store_release(st);
}

/* lmdb_purge - expired records deleted, more than one transaction's worth; live ones kept */
static void lmdb_purge(void **state)
{
	char path[400], err[300], key[32], val[8];
	struct store_stats s;
	struct store *st;
	int i;

	(void)state;
	snprintf(path, sizeof(path), "%s/purge.lmdb", lmdb_dir);
	st = lmdb_open_path(path, err, sizeof(err));
	assert_non_null(st);
	for (i = 0; i < 2500; i++) {
		snprintf(key, sizeof(key), "t:p%05d", i);
		assert_int_equal(store_set(st, key, "x", i % 100 == 0 ? 100 : 1), STORE_OK);
	}
	assert_int_equal(store_lmdb_purge_now(store_backend(st)), 0);
	sleep_ms(1100);
	assert_int_equal(store_lmdb_purge_now(store_backend(st)), 2475);
	store_stats(st, &s);
	assert_int_equal(s.purged, 2475);
	assert_int_equal(store_get(st, "t:p00100", val, sizeof(val), NULL), STORE_OK);
	assert_int_equal(store_get(st, "t:p00101", val, sizeof(val), NULL), STORE_NOTFOUND);
	assert_int_equal(store_lmdb_purge_now(store_backend(st)), 0);
	store_release(st);
}

/* ---- Redis ---------------------------------------------------------------- */

/* raw_get - GET key on r's database db, "(nil)" when absent */
static void raw_get(const struct redis *r, int db, const char *key, char *buf, size_t size,
                    const char *pass)
{
	redisContext *c = raw(r);
	redisReply *rep;

	assert_non_null(c);
	if (pass != NULL)
		freeReplyObject(redisCommand(c, "AUTH %s", pass));
	freeReplyObject(redisCommand(c, "SELECT %d", db));
	rep = redisCommand(c, "GET %s", key);
	assert_non_null(rep);
	snprintf(buf, size, "%s", rep->type == REDIS_REPLY_STRING ? rep->str : "(nil)");
	freeReplyObject(rep);
	redisFree(c);
}

/* redis_prefix - keys carry the prefix in Redis */
static void redis_prefix(void **state)
{
	char val[32];

	(void)state;
	assert_int_equal(store_set(redis_fx.st, "t:prefix", "there", 100), STORE_OK);
	raw_get(&main_redis, 0, "pmtest:t:prefix", val, sizeof(val), NULL);
	assert_string_equal(val, "there");
	raw_get(&main_redis, 0, "t:prefix", val, sizeof(val), NULL);
	assert_string_equal(val, "(nil)");
}

/* redis_select - database 3 */
static void redis_select(void **state)
{
	char server[500], val[32];
	struct state_settings ss = redis_settings(&main_redis, server, sizeof(server));
	struct store *st;

	(void)state;
	ss.redis_database = 3;
	ss.redis_prefix = "";
	st = store_open(&ss, val, sizeof(val));
	assert_non_null(st);
	assert_int_equal(store_set(st, "t:db3", "three", 100), STORE_OK);
	assert_int_equal(store_add(st, "t:db3c", 1, 0, 100, NULL), STORE_OK);
	raw_get(&main_redis, 3, "t:db3", val, sizeof(val), NULL);
	assert_string_equal(val, "three");
	raw_get(&main_redis, 0, "t:db3", val, sizeof(val), NULL);
	assert_string_equal(val, "(nil)");
	raw_get(&main_redis, 3, "t:db3c", val, sizeof(val), NULL);
	assert_string_equal(val, "1");
	store_release(st);
}

/* redis_tcp - over TCP to 127.0.0.1:port, and the script cache flushed (NOSCRIPT: EVAL) */
static void redis_tcp(void **state)
{
	char server[64], err[300], val[16];
	struct state_settings ss = {.backend = STATE_REDIS,
	                            .redis_prefix = "pmtest:",
	                            .redis_connect_timeout_ms = CONNECT_MS,
	                            .redis_command_timeout_ms = COMMAND_MS};
	struct store *st;
	redisContext *c;
	long v = 0;

	(void)state;
	snprintf(server, sizeof(server), "127.0.0.1:%d", main_redis.port);
	ss.redis_server = server;
	st = store_open(&ss, err, sizeof(err));
	assert_non_null(st);
	assert_int_equal(store_add(st, "t:tcp", 2, 0, 100, &v), STORE_OK);
	c = raw(&main_redis);
	assert_non_null(c);
	freeReplyObject(redisCommand(c, "SCRIPT FLUSH"));
	redisFree(c);
	assert_int_equal(store_add(st, "t:tcp", 3, 0, 100, &v), STORE_OK);
	assert_int_equal(v, 5);
	assert_int_equal(store_get(st, "t:tcp", val, sizeof(val), NULL), STORE_OK);
	assert_string_equal(val, "5");
	snprintf(err, sizeof(err), "redis 127.0.0.1:%d", main_redis.port);
	assert_string_equal(store_describe(st), err);
	store_release(st);
}

/* redis_bad_settings - settings that cannot work: store_open refuses */
static void redis_bad_settings(void **state)
{
	static const char *const bad[] = {"",           "::1:6379",  "[::1",  "[::1]x", "host:0",
	                                  "host:65536", "host:port", "unix:", ":6379",  NULL};
	struct state_settings ss = {.backend = STATE_REDIS};
	char err[300];
	int i;

	(void)state;
	for (i = 0; bad[i] != NULL; i++) {
		ss.redis_server = (char *)bad[i];
		if (store_open(&ss, err, sizeof(err)) != NULL)
			fail_msg("server \"%s\": got a store, want an error", bad[i]);
		assert_non_null(strstr(err, "state.redis"));
	}
	ss.redis_server = "127.0.0.1:6379";
	ss.redis_username = "alice";
	assert_null(store_open(&ss, err, sizeof(err)));
	assert_non_null(strstr(err, "password"));
	ss.redis_username = NULL;
	ss.redis_server = "[::1]:6379";
	{
		struct store *st = store_open(&ss, err, sizeof(err));

		assert_non_null(st);
		assert_string_equal(store_describe(st), "redis [::1]:6379");
		store_release(st);
	}
}

/* redis_auth - a server with a password and an ACL user: right, wrong, none */
static void redis_auth(void **state)
{
	static const char *const extra[] = {"--requirepass", "sekret", "--user", "alice", "on",
	                                    ">wonder",       "~*",     "&*",     "+@all", NULL};
	struct redis r = {0};
	char dir[300], server[500], val[32], logged[2000];
	struct state_settings ss;
	struct store_stats s;
	struct store *st;

	(void)state;
	snprintf(dir, sizeof(dir), "%s/redis-auth", tmp_dir);
	assert_int_equal(redis_up(&r, dir, extra), 0);
	ss = redis_settings(&r, server, sizeof(server));
	ss.redis_password = "sekret";
	st = store_open(&ss, val, sizeof(val));
	assert_non_null(st);
	assert_int_equal(store_set(st, "t:auth", "in", 100), STORE_OK);
	store_release(st);
	raw_get(&r, 0, "pmtest:t:auth", val, sizeof(val), "sekret");
	assert_string_equal(val, "in");

	ss.redis_username = "alice";
	ss.redis_password = "wonder";
	st = store_open(&ss, val, sizeof(val));
	assert_non_null(st);
	assert_int_equal(store_get(st, "t:auth", val, sizeof(val), NULL), STORE_OK);
	assert_string_equal(val, "in");
	store_release(st);

	capture_begin();
	ss.redis_username = NULL;
	ss.redis_password = "wrong";
	st = store_open(&ss, val, sizeof(val));
	assert_non_null(st);
	assert_int_equal(store_get(st, "t:auth", val, sizeof(val), NULL), STORE_ERROR);
	store_release(st);
	ss.redis_password = NULL;
	st = store_open(&ss, val, sizeof(val));
	assert_non_null(st);
	/* NOAUTH answers on an established connection: 3 in a row begin an outage */
	assert_int_equal(store_get(st, "t:auth", val, sizeof(val), NULL), STORE_ERROR);
	assert_int_equal(store_get(st, "t:auth", val, sizeof(val), NULL), STORE_ERROR);
	store_stats(st, &s);
	assert_int_equal(s.outages, 0);
	assert_int_equal(store_get(st, "t:auth", val, sizeof(val), NULL), STORE_ERROR);
	store_stats(st, &s);
	assert_int_equal(s.outages, 1);
	store_release(st);
	capture_end(logged, sizeof(logged));
	redis_down(&r);
	assert_non_null(strstr(logged, "unavailable: AUTH: WRONGPASS"));
	assert_non_null(strstr(logged, "operation failed: GET: NOAUTH"));
	assert_non_null(strstr(logged, "unavailable: GET: NOAUTH"));
}

/* redis_down_back - no server: STORE_ERROR fast, at once in the backoff, ok when back */
static void redis_down_back(void **state)
{
	struct redis r = {0};
	char dir[300], server[500], val[32], logged[2000];
	struct state_settings ss;
	struct store_stats s1, s2;
	struct timespec t0;
	struct store *st;

	(void)state;
	snprintf(dir, sizeof(dir), "%s/redis-late", tmp_dir);
	mkdir(dir, 0700);
	snprintf(r.sock, sizeof(r.sock), "%s/redis.sock", dir);
	ss = redis_settings(&r, server, sizeof(server));
	capture_begin();
	clock_gettime(CLOCK_MONOTONIC, &t0);
	st = store_open(&ss, val, sizeof(val));
	assert_non_null(st); /* a server that does not answer is no error at start: an outage */
	assert_true(ms_since(&t0) < CONNECT_MS + MARGIN_MS);
	store_stats(st, &s1);
	assert_int_equal(s1.outages, 1);
	assert_int_equal(s1.ops, 0);
	clock_gettime(CLOCK_MONOTONIC, &t0);
	assert_int_equal(store_add(st, "t:late", 1, 0, 100, NULL), STORE_ERROR);
	assert_int_equal(store_add(st, "t:late", 1, 0, 100, NULL), STORE_ERROR);
	assert_true(ms_since(&t0) < 20);
	store_stats(st, &s2);
	assert_int_equal(s2.round_trips, s1.round_trips);
	assert_int_equal(s2.outages, 1);
	assert_int_equal(redis_up(&r, dir, NULL), 0);
	assert_int_equal(store_add(st, "t:late", 1, 0, 100, NULL), STORE_ERROR); /* still backoff */
	sleep_ms(1100);
	assert_int_equal(store_add(st, "t:late", 1, 0, 100, NULL), STORE_OK);
	assert_int_equal(store_get(st, "t:late", val, sizeof(val), NULL), STORE_OK);
	assert_string_equal(val, "1");
	capture_end(logged, sizeof(logged));
	store_release(st);
	redis_down(&r);
	assert_non_null(strstr(logged, "unavailable: connect: "));
	assert_non_null(strstr(logged, "back after "));
	assert_non_null(strstr(logged, " s; 3 operations failed"));
}

/* redis_stops - a restart between operations is no outage; a stop is, at once; no crash */
static void redis_stops(void **state)
{
	struct redis r = {0};
	char dir[300], server[500], val[32], logged[2000];
	struct state_settings ss;
	struct store_stats s;
	struct timespec t0;
	struct store *st;
	long ms;

	(void)state;
	snprintf(dir, sizeof(dir), "%s/redis-stops", tmp_dir);
	assert_int_equal(redis_up(&r, dir, NULL), 0);
	ss = redis_settings(&r, server, sizeof(server));
	st = store_open(&ss, val, sizeof(val));
	assert_non_null(st);
	assert_int_equal(store_set(st, "t:s", "1", 100), STORE_OK);
	/* restarted between two operations: the pooled connection is dead, a new one works */
	redis_down(&r);
	assert_int_equal(redis_up(&r, dir, NULL), 0);
	assert_int_equal(store_set(st, "t:s", "1", 100), STORE_OK);
	store_stats(st, &s);
	assert_int_equal(s.outages, 0);
	assert_int_equal(s.errors, 0);
	/* stopped: an error at once, an outage */
	capture_begin();
	redis_down(&r);
	clock_gettime(CLOCK_MONOTONIC, &t0);
	assert_int_equal(store_set(st, "t:s", "2", 100), STORE_ERROR);
	ms = ms_since(&t0);
	if (ms > COMMAND_MS + MARGIN_MS)
		fail_msg("stopped server: got STORE_ERROR after %ld ms, want at most %d", ms,
		         COMMAND_MS + MARGIN_MS);
	store_stats(st, &s);
	assert_int_equal(s.outages, 1); /* refused to connect: an outage at once */
	assert_int_equal(redis_up(&r, dir, NULL), 0);
	sleep_ms(1100);
	assert_int_equal(store_set(st, "t:s", "3", 100), STORE_OK);
	capture_end(logged, sizeof(logged));
	store_release(st);
	redis_down(&r);
	assert_non_null(strstr(logged, "unavailable"));
	assert_non_null(strstr(logged, "back after"));
}

/* redis_silent - a server that accepts and never answers: STORE_ERROR in the command timeout */
static void redis_silent(void **state)
{
	struct sockaddr_in sa = {.sin_family = AF_INET};
	socklen_t len = sizeof(sa);
	struct state_settings ss = {.backend = STATE_REDIS,
	                            .redis_connect_timeout_ms = CONNECT_MS,
	                            .redis_command_timeout_ms = COMMAND_MS};
	char server[64], err[300], logged[2000];
	struct timespec t0;
	struct store *st;
	int fd = socket(AF_INET, SOCK_STREAM, 0);
	long ms;

	(void)state;
	sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	assert_int_equal(bind(fd, (struct sockaddr *)&sa, sizeof(sa)), 0);
	assert_int_equal(listen(fd, 16), 0); /* never accepted: the kernel completes connects */
	assert_int_equal(getsockname(fd, (struct sockaddr *)&sa, &len), 0);
	snprintf(server, sizeof(server), "127.0.0.1:%d", ntohs(sa.sin_port));
	ss.redis_server = server;
	st = store_open(&ss, err, sizeof(err));
	assert_non_null(st);
	capture_begin();
	clock_gettime(CLOCK_MONOTONIC, &t0);
	assert_int_equal(store_add(st, "t:silent", 1, 0, 100, NULL), STORE_ERROR);
	ms = ms_since(&t0);
	capture_end(logged, sizeof(logged));
	store_release(st);
	close(fd);
	if (ms < COMMAND_MS - 20 || ms > COMMAND_MS + MARGIN_MS)
		fail_msg("silent server: got STORE_ERROR after %ld ms, want about %d", ms,
		         COMMAND_MS);
	assert_non_null(strstr(logged, "timeout"));
}

/* redis_paused - CLIENT PAUSE: STORE_ERROR within the command timeout; ok afterwards */
static void redis_paused(void **state)
{
	char server[500], val[32], logged[2000];
	struct state_settings ss = redis_settings(&main_redis, server, sizeof(server));
	struct store_stats s;
	struct timespec t0;
	struct store *st;
	redisContext *c;
	redisReply *rep;
	long ms;

	(void)state;
	st = store_open(&ss, val, sizeof(val));
	assert_non_null(st);
	assert_int_equal(store_set(st, "t:pause", "1", 100), STORE_OK); /* a pooled connection */
	c = raw(&main_redis);
	assert_non_null(c);
	rep = redisCommand(c, "CLIENT PAUSE 1000 ALL");
	assert_non_null(rep);
	assert_int_equal(rep->type, REDIS_REPLY_STATUS);
	freeReplyObject(rep);
	redisFree(c);
	capture_begin();
	clock_gettime(CLOCK_MONOTONIC, &t0);
	assert_int_equal(store_get(st, "t:pause", val, sizeof(val), NULL), STORE_ERROR);
	ms = ms_since(&t0);
	if (ms > COMMAND_MS + MARGIN_MS)
		fail_msg("paused server: got STORE_ERROR after %ld ms, want at most %d", ms,
		         COMMAND_MS + MARGIN_MS);
	store_stats(st, &s);
	assert_int_equal(s.outages, 0); /* a timeout on its own: no outage */
	sleep_ms(1100);                 /* the pause (1 s) */
	assert_int_equal(store_get(st, "t:pause", val, sizeof(val), NULL), STORE_OK);
	assert_string_equal(val, "1");
	capture_end(logged, sizeof(logged));
	store_release(st);
	assert_non_null(strstr(logged, "timeout"));
}

/* ---- fixtures -------------------------------------------------------------- */

/* lmdb_setup - the common cases' LMDB store */
static int lmdb_setup(void **state)
{
	char path[400], err[300];

	snprintf(path, sizeof(path), "%s/common.lmdb", lmdb_dir);
	lmdb_fx.st = lmdb_open_path(path, err, sizeof(err));
	if (lmdb_fx.st == NULL) {
		fprintf(stderr, "lmdb: %s\n", err);
		return -1;
	}
	*state = &lmdb_fx;
	return 0;
}

/* lmdb_teardown - close it */
static int lmdb_teardown(void **state)
{
	(void)state;
	store_release(lmdb_fx.st);
	return 0;
}

/* redis_setup - the test's own redis-server and the common cases' store on it */
static int redis_setup(void **state)
{
	char dir[300], server[500], err[300];
	struct state_settings ss;

	snprintf(dir, sizeof(dir), "%s/redis", tmp_dir);
	if (redis_up(&main_redis, dir, NULL) != 0)
		return -1;
	ss = redis_settings(&main_redis, server, sizeof(server));
	redis_fx.st = store_open(&ss, err, sizeof(err));
	if (redis_fx.st == NULL) {
		fprintf(stderr, "redis: %s\n", err);
		return -1;
	}
	*state = &redis_fx;
	return 0;
}

/* redis_teardown - close the store, stop the server */
static int redis_teardown(void **state)
{
	(void)state;
	store_release(redis_fx.st);
	redis_down(&main_redis);
	return 0;
}

int main(void)
{
	const struct CMUnitTest common[] = {
	    cmocka_unit_test(get_missing),     cmocka_unit_test(set_get),
	    cmocka_unit_test(expiry),          cmocka_unit_test(add_count),
	    cmocka_unit_test(add_limit),       cmocka_unit_test(add_negative),
	    cmocka_unit_test(add_not_counter), cmocka_unit_test(del),
	    cmocka_unit_test(sizes),           cmocka_unit_test(concurrency),
	    cmocka_unit_test(stats),
	};
	const struct CMUnitTest generic[] = {
	    cmocka_unit_test(names),
	    cmocka_unit_test(backoff),
	    cmocka_unit_test(lone_failures),
	    cmocka_unit_test(current),
	};
	const struct CMUnitTest lmdb[] = {
	    cmocka_unit_test(lmdb_files),     cmocka_unit_test(lmdb_garbage),
	    cmocka_unit_test(lmdb_truncated), cmocka_unit_test(lmdb_restart),
	    cmocka_unit_test(lmdb_purge),     cmocka_unit_test(purge_thread_blocks_signals),
	};
	const struct CMUnitTest redis[] = {
	    cmocka_unit_test(redis_prefix), cmocka_unit_test(redis_select),
	    cmocka_unit_test(redis_tcp),    cmocka_unit_test(redis_bad_settings),
	    cmocka_unit_test(redis_auth),   cmocka_unit_test(redis_down_back),
	    cmocka_unit_test(redis_stops),  cmocka_unit_test(redis_silent),
	    cmocka_unit_test(redis_paused),
	};
	int failed = 0;

	if (tmpdir_make("test_store", tmp_dir, sizeof(tmp_dir)) != 0)
		return 1;
	snprintf(lmdb_dir, sizeof(lmdb_dir), "/dev/shm/test_store.XXXXXX");
	if (mkdtemp(lmdb_dir) == NULL)
		snprintf(lmdb_dir, sizeof(lmdb_dir), "%s", tmp_dir);
	log_open("test_store", LOG_MAIL, true);
	failed +=
	    cmocka_run_group_tests_name("store common lmdb", common, lmdb_setup, lmdb_teardown);
	capture_restore();
	failed +=
	    cmocka_run_group_tests_name("store common redis", common, redis_setup, redis_teardown);
	capture_restore();
	failed += cmocka_run_group_tests_name("store generic", generic, NULL, NULL);
	capture_restore();
	failed += cmocka_run_group_tests_name("store lmdb", lmdb, NULL, NULL);
	capture_restore();
	failed += cmocka_run_group_tests_name("store redis", redis, redis_setup, redis_teardown);
	capture_restore();
	servers_stop();
	if (strcmp(lmdb_dir, tmp_dir) != 0)
		tmpdir_remove(lmdb_dir);
	tmpdir_remove(tmp_dir);
	return failed != 0;
}
