/*
 * NAME
 *	tally 3h - counters by string key, sorted deterministically
 * SYNOPSIS
 *	#include "tally.h"
 * DESCRIPTION
 *	A hash table of entries, each a key, an optional binary sort key
 *	(for keys that sort better as bytes, such as addresses), two counts
 *	and an optional sub-tally. tally_sorted() gives the entries in a
 *	stable order: by count or by key, ties always by sort key, then key.
 */
#ifndef PMR_TALLY_H
#define PMR_TALLY_H

#include <stddef.h>

struct tally_entry {
	char *key;              /* owned */
	unsigned char *sortkey; /* owned; NULL means the key's bytes */
	size_t sortlen;
	long long n[2];    /* two counters; what they count is the caller's */
	long long t[4];    /* four more values (times, ages), zero when added; the caller's */
	struct tally *sub; /* owned; NULL until the caller sets one */
};

struct tally;

enum tally_order {
	TALLY_BY_COUNT, /* n[0] + n[1] descending, then sort key ascending */
	TALLY_BY_KEY,   /* sort key ascending */
};

/* tally_new - an empty tally; release with tally_free */
struct tally *tally_new(void);

/*
 * tally_get - the entry of key, added with zero counts when new. sortkey
 * (sortlen bytes, copied) is used only when the entry is added; NULL for none.
 */
struct tally_entry *tally_get(struct tally *t, const char *key, const unsigned char *sortkey,
                              size_t sortlen);

/* tally_count - the number of entries */
size_t tally_count(const struct tally *t);

/*
 * tally_sorted - the entries in order, as a new array of *n pointers (the
 * caller frees the array, not the entries); NULL when empty.
 */
struct tally_entry **tally_sorted(const struct tally *t, enum tally_order order, size_t *n);

/* tally_free - release the tally, its entries and their sub-tallies; NULL is fine */
void tally_free(struct tally *t);

#endif
