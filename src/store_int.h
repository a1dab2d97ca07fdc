/*
 * NAME
 *	store_int 3h - what store.c and its backends share (not for callers)
 * SYNOPSIS
 *	#include "store_int.h"
 * DESCRIPTION
 *	A backend's open function returns its handle (the "b" of struct
 *	store_ops) or NULL with errbuf filled; it adds its round trips and
 *	purged records to the counters store.c gives it (store_stats reads
 *	them). An operation that fails says why with store_reason(); store.c
 *	reads it, in the same thread, for the outage log. A failure to
 *	connect (refused, connect timeout, AUTH or SELECT refused) is also
 *	marked with store_connect_failed(): store.c then begins an outage at
 *	once; any other failure fails only its own operation, and
 *	STORE_OUTAGE_AFTER of them in a row begin one.
 *
 *	store_backend and store_lmdb_purge_now are for the unit tests.
 */
#ifndef PM_STORE_INT_H
#define PM_STORE_INT_H

#include <stdatomic.h>
#include <stdbool.h>
#include <stddef.h>

#include "store.h"

/* failed operations in a row (no success between them) that begin an outage */
#define STORE_OUTAGE_AFTER 3

/* The counters a backend keeps for store_stats. */
struct store_counters {
	atomic_ulong round_trips; /* redis: commands; lmdb: transactions */
	atomic_ulong purged;      /* lmdb: expired records deleted by the purge */
};

/* store_reason - why the calling thread's last operation failed (for the outage log) */
void store_reason(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
/* store_last_reason - the calling thread's last store_reason ("" when none) */
const char *store_last_reason(void);
/* store_reason_clear - forget the calling thread's reason (and its connect mark) */
void store_reason_clear(void);
/* store_connect_failed - mark the calling thread's failure as a failure to connect */
void store_connect_failed(void);
/* store_last_connect_failed - was the calling thread's last failure one to connect */
bool store_last_connect_failed(void);

extern const struct store_ops store_lmdb_ops;
extern const struct store_ops store_redis_ops;

/* store_lmdb_open - the LMDB backend of ss (store_lmdb.c) */
void *store_lmdb_open(const struct state_settings *ss, struct store_counters *c, char *errbuf,
                      size_t errsize);
/* store_redis_open - the Redis backend of ss (store_redis.c) */
void *store_redis_open(const struct state_settings *ss, struct store_counters *c, char *errbuf,
                       size_t errsize);

/*
 * store_redis_connect_now - connect one connection into the pool (at open):
 * false, the reason noted, when the server cannot be reached or refuses
 */
bool store_redis_connect_now(void *b);

/* store_backend - the backend handle of st (tests) */
void *store_backend(struct store *st);
/* store_lmdb_purge_now - one purge pass over backend b now; returns the records deleted */
unsigned long store_lmdb_purge_now(void *b);

#endif
