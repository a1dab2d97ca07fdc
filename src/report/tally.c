/*
 * NAME
 *	tally 3 - counters by string key, sorted deterministically
 * SYNOPSIS
 *	#include "tally.h"
 *
 *	struct tally *tally_new(void);
 *	struct tally_entry *tally_get(struct tally *t, const char *key,
 *	                              const unsigned char *sortkey, size_t sortlen);
 *	size_t tally_count(const struct tally *t);
 *	struct tally_entry **tally_sorted(const struct tally *t, enum tally_order order,
 *	                                  size_t *n);
 *	void tally_free(struct tally *t);
 * DESCRIPTION
 *	Open addressing with linear probing over FNV-1a hashes, grown to
 *	keep the load under one half. Sorting is qsort with a total order
 *	(no two distinct keys compare equal), so the output never depends
 *	on the hash or on insertion order.
 * DIAGNOSTICS
 *	None: allocation failure is fatal (xmalloc).
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "../util.h"
#include "tally.h"

struct tally {
	struct tally_entry **slot;
	size_t cap; /* a power of two */
	size_t n;
};

/* tally_new - an empty tally */
struct tally *tally_new(void)
{
	struct tally *t = xcalloc(1, sizeof(*t));

	t->cap = 64;
	t->slot = xcalloc(t->cap, sizeof(struct tally_entry *));
	return t;
}

/* grow - double the table and rehash */
static void grow(struct tally *t)
{
	struct tally_entry **old = t->slot;
	size_t oldcap = t->cap;

	t->cap *= 2;
	t->slot = xcalloc(t->cap, sizeof(struct tally_entry *));
	for (size_t i = 0; i < oldcap; i++) {
		size_t j;

		if (old[i] == NULL)
			continue;
		for (j = pm_hash(old[i]->key) & (t->cap - 1); t->slot[j] != NULL;
		     j = (j + 1) & (t->cap - 1))
			;
		t->slot[j] = old[i];
	}
	free(old);
}

/* tally_get - find or add the entry of key */
struct tally_entry *tally_get(struct tally *t, const char *key, const unsigned char *sortkey,
                              size_t sortlen)
{
	struct tally_entry *e;
	size_t j;

	for (j = pm_hash(key) & (t->cap - 1); t->slot[j] != NULL; j = (j + 1) & (t->cap - 1))
		if (strcmp(t->slot[j]->key, key) == 0)
			return t->slot[j];
	e = xcalloc(1, sizeof(*e));
	e->key = xstrdup(key);
	if (sortkey != NULL) {
		e->sortkey = xmalloc(sortlen);
		memcpy(e->sortkey, sortkey, sortlen);
		e->sortlen = sortlen;
	}
	t->slot[j] = e;
	if (++t->n * 2 > t->cap)
		grow(t);
	return e;
}

/* tally_count - number of entries */
size_t tally_count(const struct tally *t)
{
	return t->n;
}

/* cmp_key - sort key (or key bytes) ascending, then key */
static int cmp_key(const struct tally_entry *a, const struct tally_entry *b)
{
	const unsigned char *ka = a->sortkey ? a->sortkey : (const unsigned char *)a->key;
	const unsigned char *kb = b->sortkey ? b->sortkey : (const unsigned char *)b->key;
	size_t la = a->sortkey ? a->sortlen : strlen(a->key);
	size_t lb = b->sortkey ? b->sortlen : strlen(b->key);
	int c = memcmp(ka, kb, la < lb ? la : lb);

	if (c != 0)
		return c;
	if (la != lb)
		return la < lb ? -1 : 1;
	return strcmp(a->key, b->key);
}

/* cmp_by_key - qsort comparator for TALLY_BY_KEY */
static int cmp_by_key(const void *pa, const void *pb)
{
	return cmp_key(*(struct tally_entry *const *)pa, *(struct tally_entry *const *)pb);
}

/* cmp_by_count - qsort comparator for TALLY_BY_COUNT */
static int cmp_by_count(const void *pa, const void *pb)
{
	const struct tally_entry *a = *(struct tally_entry *const *)pa;
	const struct tally_entry *b = *(struct tally_entry *const *)pb;
	long long ca = a->n[0] + a->n[1], cb = b->n[0] + b->n[1];

	if (ca != cb)
		return ca > cb ? -1 : 1;
	return cmp_key(a, b);
}

/* tally_sorted - a new array of the entries in order */
struct tally_entry **tally_sorted(const struct tally *t, enum tally_order order, size_t *n)
{
	struct tally_entry **v;
	size_t k = 0;

	*n = t->n;
	if (t->n == 0)
		return NULL;
	v = xcalloc(t->n, sizeof(struct tally_entry *));
	for (size_t i = 0; i < t->cap; i++)
		if (t->slot[i] != NULL)
			v[k++] = t->slot[i];
	qsort(v, k, sizeof(struct tally_entry *),
	      order == TALLY_BY_KEY ? cmp_by_key : cmp_by_count);
	return v;
}

/* tally_free - release everything */
void tally_free(struct tally *t)
{
	if (t == NULL)
		return;
	for (size_t i = 0; i < t->cap; i++) {
		struct tally_entry *e = t->slot[i];

		if (e == NULL)
			continue;
		tally_free(e->sub);
		free(e->key);
		free(e->sortkey);
		free(e);
	}
	free(t->slot);
	free(t);
}
