/*
 * NAME
 *	store 3h - the state store: small keyed records with an expiry,
 *	shared by every thread (LMDB) or every MX host (Redis)
 * SYNOPSIS
 *	#include "store.h"
 * DESCRIPTION
 *	Greylisting and the rate limits remember things across connections
 *	through this interface and nothing else; they do not know which
 *	backend holds the state (policy.h struct state_settings):
 *
 *	lmdb   store_lmdb.c: one LMDB environment (liblmdb) in one file
 *	       (MDB_NOSUBDIR; its lock file beside it, "-lock"), opened once,
 *	       shared by every milter thread (MDB_NOTLS); each operation is
 *	       one transaction, so store_add is exact under concurrency;
 *	       every record carries its absolute expiry, an expired record
 *	       reads as absent, and a purge thread deletes expired records
 *	       in small write transactions (at most 1,000 a transaction, every
 *	       60 s), never stopping traffic for long. Durability:
 *	       MDB_NOMETASYNC, one sync to disk a write transaction (the
 *	       default's second one, of the meta page, doubled the cost of
 *	       a write). A crash of the process loses nothing committed; a
 *	       power failure or kernel crash leaves the file intact
 *	       (copy-on-write) but may undo the last committed write
 *	       transaction (one store_set/store_add/store_del: one count or
 *	       one greylisting record). A missing file
 *	       is created; a file LMDB refuses (corrupt, not an LMDB file) is
 *	       renamed aside to PATH.bad-YYYYmmddTHHMMSSZ and a new one
 *	       created, with an error logged naming both.
 *	redis  store_redis.c: hiredis, a small pool of connections (a
 *	       context is never shared by two threads at once); every key
 *	       gets state.redis.prefix in front; AUTH (username and
 *	       password) and SELECT on connect; connect and command timeouts
 *	       from the settings; store_add is one Lua script (EVALSHA,
 *	       loaded with SCRIPT LOAD, EVAL again on NOSCRIPT) so the check
 *	       against the limit and the increment are one atomic step;
 *	       store_set is SET key value EX ttl; expiry is Redis's own.
 *
 *	Failure: an operation that cannot be done (Redis down, refusing,
 *	slower than the command timeout, answering an error; an LMDB error)
 *	returns STORE_ERROR, never blocks longer than the configured
 *	timeouts, and never aborts. An operation that fails on its own (a
 *	command timeout or an error answer on an established connection,
 *	whose connection is then dropped; an LMDB error) fails only itself:
 *	the next operation goes to the backend again. An outage begins when
 *	connecting fails (refused, connect timeout, AUTH or SELECT refused)
 *	or after STORE_OUTAGE_AFTER (store_int.h: 3) operations failed in a
 *	row (any success resets the count). In an outage the backend is not
 *	tried again until a backoff has passed (1 s, doubling to 30 s, reset
 *	by a success); during it every operation returns STORE_ERROR at once
 *	(no thread waits). store.c logs the outage once when it starts
 *	("state store redis 127.0.0.1:6379 unavailable: REASON; greylisting
 *	and rate limits fail open|tempfail") and once when it ends ("state
 *	store redis 127.0.0.1:6379 back after N s; M operations failed"),
 *	never once per operation; a failure that begins no outage is logged
 *	on its own ("state store redis 127.0.0.1:6379 operation failed:
 *	REASON; greylisting and rate limits fail open|tempfail for it",
 *	LOG_WARNING). What a failure means for the mail
 *	(state.on_failure) is the caller's decision (verdict.c).
 *
 *	Keys are printable ASCII without spaces, at most STORE_KEY_MAX
 *	bytes; values are opaque text of at most STORE_VALUE_MAX bytes. Times
 *	are seconds; ttl is at least 1.
 *
 *	The store is process-wide: store_open at start (after dropping
 *	privileges, so the LMDB file belongs to the milter's user), and at a
 *	reload when state.* changed (store_reopen_if_changed); a session
 *	takes a reference at connect (store_acquire) and drops it at close,
 *	so a reload never pulls a store out from under a message.
 * DIAGNOSTICS
 *	store_open returns NULL with errbuf filled (the daemon refuses to
 *	start: a bad path, a directory it cannot write, Redis settings that
 *	cannot work). A Redis server that does not answer at start is not an
 *	error: the store starts in an outage and reconnects with backoff.
 *	Operations: STORE_ERROR; the outage lines above (LOG_ERR when one
 *	begins: a failed connect, or 3 failures in a row; LOG_NOTICE when it
 *	ends), and the "operation failed" line (LOG_WARNING) for a failure
 *	that begins no outage.
 */
#ifndef PM_STORE_H
#define PM_STORE_H

#include <stdbool.h>
#include <stddef.h>
#include <time.h>

struct state_settings; /* policy.h */

#define STORE_KEY_MAX   600
#define STORE_VALUE_MAX 256

enum store_status {
	STORE_OK = 0,   /* done (store_get: found, not expired) */
	STORE_NOTFOUND, /* store_get: no such record, or expired */
	STORE_OVER,     /* store_add: the limit would be passed; nothing was added */
	STORE_ERROR,    /* the backend failed, is in an outage, or timed out */
};

/* Counters of one store since it was opened (the benchmark and the tests read them). */
struct store_stats {
	unsigned long ops;         /* operations asked for */
	unsigned long errors;      /* of them, STORE_ERROR */
	unsigned long round_trips; /* redis: commands sent (a reconnect's AUTH and SELECT
	                              included); lmdb: transactions */
	unsigned long outages;     /* outages begun */
	unsigned long purged;      /* lmdb: expired records the purge deleted */
};

/* The operations of one backend; store.c wraps them (backoff, outage logs, stats). */
struct store_ops {
	const char *name; /* "lmdb", "redis" */
	/* get: value into val (valsize bytes, NUL-terminated, cut if longer), *expires the
	   absolute expiry (may be NULL) */
	enum store_status (*get)(void *b, const char *key, char *val, size_t valsize,
	                         time_t *expires);
	enum store_status (*set)(void *b, const char *key, const char *val, unsigned ttl);
	enum store_status (*add)(void *b, const char *key, long delta, long limit, unsigned ttl,
	                         long *value);
	enum store_status (*del)(void *b, const char *key);
	void (*close)(void *b);
	/* where it is, for logs: "lmdb /var/lib/policy-milter/state.lmdb", "redis 127.0.0.1:6379"
	 */
	const char *(*describe)(void *b);
};

struct store; /* opaque: a backend, its state, a reference count */

/*
 * store_open - the store the settings describe (a new reference); NULL with
 * errbuf filled when it cannot be used at all
 */
struct store *store_open(const struct state_settings *ss, char *errbuf, size_t errsize);
/*
 * store_wrap - a store over backend b with operations ops (tests: a fake
 * backend; store_open uses it for the real ones); on_failure_text for the
 * outage log ("fail open", "tempfail")
 */
struct store *store_wrap(const struct store_ops *ops, void *b, const char *on_failure_text);
/* store_hold - one more reference; returns st (NULL is fine) */
struct store *store_hold(struct store *st);
/* store_release - drop a reference, closing the backend on the last; NULL is fine */
void store_release(struct store *st);

/* store_current - a reference to the process's store (NULL: none open); release it */
struct store *store_acquire(void);
/* store_set_current - install st (the caller's reference moves in); the old one is released */
void store_set_current(struct store *st);
/*
 * store_reopen_if_changed - at a reload: when ss differs from the settings
 * the current store was opened with, open a new one and install it; 0 ok
 * (or nothing to do), -1 with errbuf filled (the old store stays)
 */
int store_reopen_if_changed(const struct state_settings *ss, char *errbuf, size_t errsize);

/* store_backend_name - "lmdb" or "redis" (the JSON "backend" values) */
const char *store_backend_name(const struct store *st);
/* store_describe - where it is, for logs */
const char *store_describe(const struct store *st);

/*
 * store_get - the record at key: STORE_OK with its value in val (and its
 * absolute expiry in *expires when not NULL), STORE_NOTFOUND, STORE_ERROR
 */
enum store_status store_get(struct store *st, const char *key, char *val, size_t valsize,
                            time_t *expires);
/* store_set - create or replace the record at key, expiring ttl seconds from now */
enum store_status store_set(struct store *st, const char *key, const char *val, unsigned ttl);
/*
 * store_add - atomically add delta to the counter at key. A counter that
 * does not exist (or expired) starts at 0 and expires ttl seconds from
 * now; adding to an existing one keeps its expiry (a fixed window that
 * starts with its first count). limit > 0: when the counter plus delta
 * would pass limit nothing is added and STORE_OVER is returned.
 * *value (may be NULL): the counter after the addition (STORE_OK), or as
 * it stands (STORE_OVER). A record at key that is not a counter is
 * treated as 0.
 */
enum store_status store_add(struct store *st, const char *key, long delta, long limit, unsigned ttl,
                            long *value);
/* store_del - remove the record at key (absent is STORE_OK) */
enum store_status store_del(struct store *st, const char *key);

/* store_stats - the counters so far */
void store_stats(const struct store *st, struct store_stats *out);

/* store_status_name - "ok", "notfound", "over", "error" */
const char *store_status_name(enum store_status s);

#endif
