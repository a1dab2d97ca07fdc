/*
 * NAME
 *	store 3 - the state store: references, backoff, outage logs, stats
 * SYNOPSIS
 *	#include "store.h"
 * DESCRIPTION
 *	The generic part of store.h: store_open picks the backend
 *	(store_lmdb.c, store_redis.c) and wraps it; every operation goes
 *	through wrapped(), which checks the arguments, refuses at once
 *	while a backoff runs, calls the backend, and keeps the outage state.
 *
 *	Outage state (under the store's mutex, held for a few loads and
 *	stores, never across a backend call): a failure of one operation on
 *	its own (a command timeout, an error answer, an LMDB error) fails only
 *	that operation and counts in a row (consecutive; any success resets
 *	it). An outage begins when the backend could not connect (it marks
 *	that with store_connect_failed: refused, connect timeout, AUTH or
 *	SELECT refused) or at the STORE_OUTAGE_AFTER'th failure in a row (3).
 *	In an outage the backend is not called again before next_try
 *	(backoff 1 s, doubling to 30 s). When next_try has passed, one thread (the probe) calls the
 *backend while the others still fail at once; its success ends the outage, its failure doubles the
 *backoff. The outage is logged when it begins and when it ends, with the operations that failed in
 *between.
 *
 *	The reference count and the counters are atomic. The process's
 *	current store is one pointer under its own mutex, with a copy of the
 *	settings it was opened with (store_reopen_if_changed compares them).
 * DIAGNOSTICS
 *	log_msg, once an outage: "state store DESCRIPTION unavailable:
 *	REASON; greylisting and rate limits fail open|tempfail" (LOG_ERR)
 *	when it begins and "state store DESCRIPTION back after N s; M
 *	operations failed" (LOG_NOTICE) when it ends (M counts the failures
 *	in a row that began it). A failure that begins no outage: "state
 *	store DESCRIPTION operation failed: REASON; greylisting and rate
 *	limits fail open|tempfail for it" (LOG_WARNING, one a failure).
 */
#include <pthread.h>
#include <stdarg.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <syslog.h>
#include <time.h>

#include "log.h"
#include "metrics.h"
#include "policy.h"
#include "store.h"
#include "store_int.h"
#include "util.h"

#define BACKOFF_FIRST_MS 1000
#define BACKOFF_MAX_MS   30000

struct store {
	const struct store_ops *ops;
	void *b;
	atomic_int refs;
	struct store_counters counters; /* the backend's */
	atomic_ulong ops_count, errors, outages;
	pthread_mutex_t lock; /* guards the fields below */
	char on_failure_text[32];
	bool down;            /* in an outage */
	int consecutive;      /* operations failed in a row, outside an outage */
	bool probing;         /* a thread is trying the backend after the backoff */
	long down_since;      /* monotonic ms */
	long next_try;        /* monotonic ms */
	long backoff;         /* ms */
	unsigned long failed; /* operations failed in this outage */
	bool have_settings;
	struct state_settings settings; /* a copy: what store_open was given */
};

static pthread_mutex_t current_lock = PTHREAD_MUTEX_INITIALIZER;
static struct store *current;

static __thread char reason_buf[256];
static __thread bool reason_connect; /* the last failure was one to connect */

static void outage_begin(struct store *st, long now);

void store_reason(const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(reason_buf, sizeof(reason_buf), fmt, ap);
	va_end(ap);
}

const char *store_last_reason(void)
{
	return reason_buf;
}

void store_reason_clear(void)
{
	reason_buf[0] = '\0';
	reason_connect = false;
}

void store_connect_failed(void)
{
	reason_connect = true;
}

bool store_last_connect_failed(void)
{
	return reason_connect;
}

/* mono_ms - CLOCK_MONOTONIC milliseconds */
static long mono_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (long)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* store_alloc - a store over ops with no backend yet, one reference */
static struct store *store_alloc(const struct store_ops *ops, const char *on_failure_text)
{
	struct store *st = xcalloc(1, sizeof(*st));

	st->ops = ops;
	atomic_init(&st->refs, 1);
	atomic_init(&st->counters.round_trips, 0);
	atomic_init(&st->counters.purged, 0);
	atomic_init(&st->ops_count, 0);
	atomic_init(&st->errors, 0);
	atomic_init(&st->outages, 0);
	pthread_mutex_init(&st->lock, NULL);
	pm_bprintf(st->on_failure_text, sizeof(st->on_failure_text), "%s",
	           on_failure_text != NULL ? on_failure_text : "fail open");
	st->backoff = BACKOFF_FIRST_MS;
	return st;
}

/* settings_copy - a deep copy of ss into out */
static void settings_copy(struct state_settings *out, const struct state_settings *ss)
{
	*out = *ss;
	out->lmdb_path = ss->lmdb_path != NULL ? xstrdup(ss->lmdb_path) : NULL;
	out->redis_server = ss->redis_server != NULL ? xstrdup(ss->redis_server) : NULL;
	out->redis_username = ss->redis_username != NULL ? xstrdup(ss->redis_username) : NULL;
	out->redis_password = ss->redis_password != NULL ? xstrdup(ss->redis_password) : NULL;
	out->redis_prefix = ss->redis_prefix != NULL ? xstrdup(ss->redis_prefix) : NULL;
}

/* settings_free - free what settings_copy allocated */
static void settings_free(struct state_settings *s)
{
	free(s->lmdb_path);
	free(s->redis_server);
	free(s->redis_username);
	free(s->redis_password);
	free(s->redis_prefix);
	memset(s, 0, sizeof(*s));
}

/* str_same - equal strings, NULL equal to NULL and to "" */
static bool str_same(const char *a, const char *b)
{
	return strcmp(a != NULL ? a : "", b != NULL ? b : "") == 0;
}

/* backend_same - would a and b open the same backend (on_failure aside) */
static bool backend_same(const struct state_settings *a, const struct state_settings *b)
{
	if (a->backend != b->backend)
		return false;
	if (a->backend == STATE_LMDB)
		return str_same(a->lmdb_path, b->lmdb_path) && a->lmdb_max_mb == b->lmdb_max_mb;
	return str_same(a->redis_server, b->redis_server) &&
	       str_same(a->redis_username, b->redis_username) &&
	       str_same(a->redis_password, b->redis_password) &&
	       a->redis_database == b->redis_database &&
	       str_same(a->redis_prefix, b->redis_prefix) &&
	       a->redis_connect_timeout_ms == b->redis_connect_timeout_ms &&
	       a->redis_command_timeout_ms == b->redis_command_timeout_ms;
}

/* failure_text - the outage log's words for on_failure */
static const char *failure_text(enum state_failure f)
{
	return f == STATE_FAIL_TEMPFAIL ? "tempfail" : "fail open";
}

struct store *store_wrap(const struct store_ops *ops, void *b, const char *on_failure_text)
{
	struct store *st = store_alloc(ops, on_failure_text);

	st->b = b;
	return st;
}

struct store *store_open(const struct state_settings *ss, char *errbuf, size_t errsize)
{
	const struct store_ops *ops =
	    ss->backend == STATE_REDIS ? &store_redis_ops : &store_lmdb_ops;
	struct store *st = store_alloc(ops, failure_text(ss->on_failure));

	if (ss->backend == STATE_REDIS)
		st->b = store_redis_open(ss, &st->counters, errbuf, errsize);
	else
		st->b = store_lmdb_open(ss, &st->counters, errbuf, errsize);
	if (st->b == NULL) {
		pthread_mutex_destroy(&st->lock);
		free(st);
		return NULL;
	}
	settings_copy(&st->settings, ss);
	st->have_settings = true;
	if (ss->backend == STATE_REDIS) {
		/* a server that does not answer now: the store starts in an outage */
		store_reason_clear();
		if (!store_redis_connect_now(st->b)) {
			pthread_mutex_lock(&st->lock);
			outage_begin(st, mono_ms());
			st->failed = 0; /* no operation failed yet */
			pthread_mutex_unlock(&st->lock);
		}
	}
	return st;
}

struct store *store_hold(struct store *st)
{
	if (st != NULL)
		atomic_fetch_add(&st->refs, 1);
	return st;
}

void store_release(struct store *st)
{
	if (st == NULL || atomic_fetch_sub(&st->refs, 1) != 1)
		return;
	st->ops->close(st->b);
	if (st->have_settings)
		settings_free(&st->settings);
	pthread_mutex_destroy(&st->lock);
	free(st);
}

struct store *store_acquire(void)
{
	struct store *st;

	pthread_mutex_lock(&current_lock);
	st = store_hold(current);
	pthread_mutex_unlock(&current_lock);
	return st;
}

void store_set_current(struct store *st)
{
	struct store *old;

	pthread_mutex_lock(&current_lock);
	old = current;
	current = st;
	pthread_mutex_unlock(&current_lock);
	store_release(old);
}

int store_reopen_if_changed(const struct state_settings *ss, char *errbuf, size_t errsize)
{
	struct store *cur = store_acquire(), *st;

	if (cur != NULL && cur->have_settings && backend_same(&cur->settings, ss)) {
		/* the same backend: only the words of the outage log may change */
		pthread_mutex_lock(&cur->lock);
		pm_bprintf(cur->on_failure_text, sizeof(cur->on_failure_text), "%s",
		           failure_text(ss->on_failure));
		cur->settings.on_failure = ss->on_failure;
		pthread_mutex_unlock(&cur->lock);
		store_release(cur);
		return 0;
	}
	store_release(cur);
	st = store_open(ss, errbuf, errsize);
	if (st == NULL)
		return -1;
	store_set_current(st);
	return 0;
}

const char *store_backend_name(const struct store *st)
{
	return st != NULL ? st->ops->name : "none";
}

const char *store_describe(const struct store *st)
{
	return st != NULL ? st->ops->describe(st->b) : "none";
}

const char *store_status_name(enum store_status s)
{
	switch (s) {
	case STORE_OK:
		return "ok";
	case STORE_NOTFOUND:
		return "notfound";
	case STORE_OVER:
		return "over";
	case STORE_ERROR:
		break;
	}
	return "error";
}

void store_stats(const struct store *st, struct store_stats *out)
{
	memset(out, 0, sizeof(*out));
	if (st == NULL)
		return;
	out->ops = atomic_load(&st->ops_count);
	out->errors = atomic_load(&st->errors);
	out->round_trips = atomic_load(&st->counters.round_trips);
	out->outages = atomic_load(&st->outages);
	out->purged = atomic_load(&st->counters.purged);
}

void *store_backend(struct store *st)
{
	return st->b;
}

/* key_ok - a key store.h allows: 1..STORE_KEY_MAX printable ASCII bytes, no space */
static bool key_ok(const char *key)
{
	size_t n = 0;

	if (key == NULL)
		return false;
	for (; key[n] != '\0'; n++)
		if (key[n] <= ' ' || key[n] > '~' || n >= STORE_KEY_MAX)
			return false;
	return n > 0;
}

/*
 * begin - may the backend be called now: false during a backoff (the
 * operation then fails at once); true, with *probe set, for the one
 * thread trying it again after the backoff
 */
static bool begin(struct store *st, bool *probe)
{
	bool go = true;

	*probe = false;
	pthread_mutex_lock(&st->lock);
	if (st->down) {
		if (st->probing || mono_ms() < st->next_try) {
			go = false;
			st->failed++;
		} else {
			st->probing = true;
			*probe = true;
		}
	}
	pthread_mutex_unlock(&st->lock);
	return go;
}

/*
 * outage_begin - the backend just failed to connect, or failed
 * STORE_OUTAGE_AFTER times in a row, no outage yet: begin one (under
 * st->lock); the failures in a row count as failed in it
 */
static void outage_begin(struct store *st, long now)
{
	const char *why = store_last_reason();

	st->down = true;
	st->down_since = now;
	st->failed = st->consecutive > 0 ? (unsigned long)st->consecutive : 1;
	st->consecutive = 0;
	st->backoff = BACKOFF_FIRST_MS;
	st->next_try = now + st->backoff;
	atomic_fetch_add(&st->outages, 1);
	log_msg(LOG_ERR, "state store %s unavailable: %s; greylisting and rate limits %s",
	        st->ops->describe(st->b), *why != '\0' ? why : "operation failed",
	        st->on_failure_text);
}

/* finish - account for the backend's answer r */
static void finish(struct store *st, bool probe, enum store_status r)
{
	long now = mono_ms();

	pthread_mutex_lock(&st->lock);
	if (probe)
		st->probing = false;
	if (r != STORE_ERROR) {
		if (st->down) {
			log_msg(LOG_NOTICE,
			        "state store %s back after %ld s; %lu operations failed",
			        st->ops->describe(st->b), (now - st->down_since + 500) / 1000,
			        st->failed);
			st->down = false;
		}
		st->backoff = BACKOFF_FIRST_MS;
		st->consecutive = 0;
	} else if (!st->down) {
		/* one operation's failure fails only itself, unless it could not connect */
		st->consecutive++;
		if (store_last_connect_failed() || st->consecutive >= STORE_OUTAGE_AFTER)
			outage_begin(st, now);
		else
			log_msg(LOG_WARNING,
			        "state store %s operation failed: %s; greylisting and rate "
			        "limits %s for it",
			        st->ops->describe(st->b),
			        *store_last_reason() != '\0' ? store_last_reason()
			                                     : "operation failed",
			        st->on_failure_text);
	} else {
		/* a failure during the outage: an operation that began before it, or the probe */
		st->failed++;
		if (probe) {
			st->backoff =
			    st->backoff * 2 > BACKOFF_MAX_MS ? BACKOFF_MAX_MS : st->backoff * 2;
			st->next_try = now + st->backoff;
		}
	}
	pthread_mutex_unlock(&st->lock);
}

/* the operation wrapped() runs, with its arguments */
enum op_kind { OP_GET, OP_SET, OP_ADD, OP_DEL };
struct op_args {
	enum op_kind kind;
	const char *key;
	const char *val; /* set */
	char *out;       /* get */
	size_t outsize;
	time_t *expires;
	long delta, limit, *value; /* add */
	unsigned ttl;
};

/* wrapped_once - run one operation through the backoff and the store's counters */
static enum store_status wrapped_once(struct store *st, const struct op_args *a)
{
	enum store_status r = STORE_ERROR;
	unsigned ttl = a->ttl > 0 ? a->ttl : 1;
	bool probe;

	atomic_fetch_add(&st->ops_count, 1);
	if (!key_ok(a->key) ||
	    (a->kind == OP_SET && (a->val == NULL || strlen(a->val) > STORE_VALUE_MAX))) {
		atomic_fetch_add(&st->errors, 1);
		return STORE_ERROR; /* the caller's mistake, not an outage */
	}
	if (!begin(st, &probe)) {
		atomic_fetch_add(&st->errors, 1);
		return STORE_ERROR;
	}
	store_reason_clear();
	switch (a->kind) {
	case OP_GET:
		r = st->ops->get(st->b, a->key, a->out, a->outsize, a->expires);
		break;
	case OP_SET:
		r = st->ops->set(st->b, a->key, a->val, ttl);
		break;
	case OP_ADD:
		r = st->ops->add(st->b, a->key, a->delta, a->limit, ttl, a->value);
		break;
	case OP_DEL:
		r = st->ops->del(st->b, a->key);
		break;
	}
	if (r == STORE_ERROR)
		atomic_fetch_add(&st->errors, 1);
	finish(st, probe, r);
	return r;
}

/* op_name - the metrics name of an operation */
static const char *op_name(enum op_kind k)
{
	switch (k) {
	case OP_GET:
		return "get";
	case OP_SET:
		return "set";
	case OP_ADD:
		return "add";
	default:
		return "del";
	}
}

/* wrapped - run one operation through the backoff and the counters (metrics.h too) */
static enum store_status wrapped(struct store *st, const struct op_args *a)
{
	enum store_status r = wrapped_once(st, a);

	metrics_store_op(st->ops->name, op_name(a->kind), r != STORE_ERROR);
	return r;
}

enum store_status store_get(struct store *st, const char *key, char *val, size_t valsize,
                            time_t *expires)
{
	struct op_args a = {
	    .kind = OP_GET, .key = key, .out = val, .outsize = valsize, .expires = expires};

	if (val != NULL && valsize > 0)
		val[0] = '\0';
	if (st == NULL || val == NULL || valsize == 0)
		return STORE_ERROR;
	return wrapped(st, &a);
}

enum store_status store_set(struct store *st, const char *key, const char *val, unsigned ttl)
{
	struct op_args a = {.kind = OP_SET, .key = key, .val = val, .ttl = ttl};

	if (st == NULL)
		return STORE_ERROR;
	return wrapped(st, &a);
}

enum store_status store_add(struct store *st, const char *key, long delta, long limit, unsigned ttl,
                            long *value)
{
	struct op_args a = {
	    .kind = OP_ADD, .key = key, .delta = delta, .limit = limit, .value = value, .ttl = ttl};

	if (value != NULL)
		*value = 0;
	if (st == NULL)
		return STORE_ERROR;
	return wrapped(st, &a);
}

enum store_status store_del(struct store *st, const char *key)
{
	struct op_args a = {.kind = OP_DEL, .key = key};

	if (st == NULL)
		return STORE_ERROR;
	return wrapped(st, &a);
}
