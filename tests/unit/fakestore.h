/*
 * NAME
 *	fakestore 3h - an in-memory state store backend for unit tests
 * DESCRIPTION
 *	The test double of test_greylist, test_ratelimit and test_session:
 *	struct store_ops over a small table of records, each a text value
 *	or a counter with an absolute expiry judged by fake_now (the tests
 *	move the clock). fake_fail makes every operation answer
 *	STORE_ERROR; fake_ops counts the operations asked. fake_store()
 *	wraps it with store_wrap(); fake_reset() forgets every record.
 *	Include after <cmocka.h>.
 */
#ifndef PM_FAKESTORE_H
#define PM_FAKESTORE_H

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "store.h"

#define FAKE_RECORDS 256

struct fake_rec {
	char key[STORE_KEY_MAX + 1];
	char val[STORE_VALUE_MAX + 1];
	long counter;
	bool is_counter;
	time_t expires;
	bool used;
};

static struct fake_rec fake_recs[FAKE_RECORDS];
static time_t fake_now = 1000000;
static bool fake_fail;
static unsigned long fake_ops;

/* fake_find - the live record at key, or NULL */
static inline struct fake_rec *fake_find(const char *key)
{
	for (size_t i = 0; i < FAKE_RECORDS; i++)
		if (fake_recs[i].used && strcmp(fake_recs[i].key, key) == 0) {
			if (fake_recs[i].expires <= fake_now) {
				fake_recs[i].used = false;
				return NULL;
			}
			return &fake_recs[i];
		}
	return NULL;
}

/* fake_new - a free record for key */
static inline struct fake_rec *fake_new(const char *key)
{
	for (size_t i = 0; i < FAKE_RECORDS; i++)
		if (!fake_recs[i].used) {
			memset(&fake_recs[i], 0, sizeof(fake_recs[i]));
			fake_recs[i].used = true;
			snprintf(fake_recs[i].key, sizeof(fake_recs[i].key), "%s", key);
			return &fake_recs[i];
		}
	return NULL;
}

static inline enum store_status fake_get(void *b, const char *key, char *val, size_t valsize,
                                         time_t *expires)
{
	struct fake_rec *r;

	(void)b;
	fake_ops++;
	if (fake_fail)
		return STORE_ERROR;
	if ((r = fake_find(key)) == NULL)
		return STORE_NOTFOUND;
	if (r->is_counter)
		snprintf(val, valsize, "%ld", r->counter);
	else
		snprintf(val, valsize, "%s", r->val);
	if (expires != NULL)
		*expires = r->expires;
	return STORE_OK;
}

static inline enum store_status fake_set(void *b, const char *key, const char *val, unsigned ttl)
{
	struct fake_rec *r;

	(void)b;
	fake_ops++;
	if (fake_fail)
		return STORE_ERROR;
	if ((r = fake_find(key)) == NULL && (r = fake_new(key)) == NULL)
		return STORE_ERROR;
	r->is_counter = false;
	snprintf(r->val, sizeof(r->val), "%s", val);
	r->expires = fake_now + (time_t)ttl;
	return STORE_OK;
}

static inline enum store_status fake_add(void *b, const char *key, long delta, long limit,
                                         unsigned ttl, long *value)
{
	struct fake_rec *r;

	(void)b;
	fake_ops++;
	if (fake_fail)
		return STORE_ERROR;
	if ((r = fake_find(key)) == NULL) {
		if ((r = fake_new(key)) == NULL)
			return STORE_ERROR;
		r->is_counter = true;
		r->expires = fake_now + (time_t)ttl;
	}
	if (!r->is_counter) {
		r->is_counter = true;
		r->counter = 0;
	}
	if (limit > 0 && r->counter + delta > limit) {
		if (value != NULL)
			*value = r->counter;
		return STORE_OVER;
	}
	r->counter += delta;
	if (value != NULL)
		*value = r->counter;
	return STORE_OK;
}

static inline enum store_status fake_del(void *b, const char *key)
{
	struct fake_rec *r;

	(void)b;
	fake_ops++;
	if (fake_fail)
		return STORE_ERROR;
	if ((r = fake_find(key)) != NULL)
		r->used = false;
	return STORE_OK;
}

static inline void fake_close(void *b)
{
	(void)b;
}

static inline const char *fake_describe(void *b)
{
	(void)b;
	return "fake";
}

static const struct store_ops fake_store_ops = {
    .name = "lmdb", /* the JSON "backend" values are lmdb and redis */
    .get = fake_get,
    .set = fake_set,
    .add = fake_add,
    .del = fake_del,
    .close = fake_close,
    .describe = fake_describe,
};

/* fake_reset - no records, no failure, the clock back at its start */
static inline void fake_reset(void)
{
	memset(fake_recs, 0, sizeof(fake_recs));
	fake_now = 1000000;
	fake_fail = false;
	fake_ops = 0;
}

/* fake_store - a store over the fake backend (release it) */
static inline struct store *fake_store(void)
{
	return store_wrap(&fake_store_ops, NULL, "fail open");
}

/* fake_counter - the counter at key (0: none) */
static inline long fake_counter(const char *key)
{
	struct fake_rec *r = fake_find(key);

	return r != NULL && r->is_counter ? r->counter : 0;
}

#endif
