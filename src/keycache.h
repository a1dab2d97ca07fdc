#ifndef PM_KEYCACHE_H
#define PM_KEYCACHE_H

#include <stddef.h>
#include <openssl/evp.h>

/*
 * keycache - the process's decoded public keys (see keycache.c): the exact
 * bytes a key was decoded from, and what they were decoded as, to one
 * EVP_PKEY shared by reference. Only decoding is cached: the key record is
 * still looked up for each message (DNS budget and DNS cache, TTL
 * honoured), and a changed record is different bytes, so a different entry.
 */

/* What the bytes are decoded as: the same bytes of two kinds are two entries. */
enum keycache_kind {
	KEYCACHE_SPKI_DER = 1, /* SubjectPublicKeyInfo DER (d2i_PUBKEY): libopendkim's keys */
	KEYCACHE_ARC_RSA,      /* an ARC key record's text, for a=rsa-sha256 (arc.c) */
	KEYCACHE_ARC_ED25519,  /* an ARC key record's text, for a=ed25519-sha256 (arc.c) */
};

#define KEYCACHE_ENTRIES   256  /* entries kept; then the oldest goes */
#define KEYCACHE_MAX_BYTES 4096 /* longer input is decoded each time, never kept */

/* keycache_decode_fn - decode len bytes (a new reference, or NULL: not a key) */
typedef EVP_PKEY *keycache_decode_fn(const unsigned char *bytes, size_t len, void *ctx);

/*
 * keycache_get - the key of (kind, bytes): a new reference the caller frees
 * with EVP_PKEY_free, from the cache, or decode(bytes, len, ctx) called
 * outside the lock and kept (unless len > KEYCACHE_MAX_BYTES); NULL when
 * decode gives NULL (nothing kept: a record that is no key costs no
 * decoding worth keeping)
 */
EVP_PKEY *keycache_get(enum keycache_kind kind, const void *bytes, size_t len,
                       keycache_decode_fn *decode, void *ctx);

/* Counters since the start (or the last keycache_free). */
struct keycache_stats {
	unsigned long hits;     /* answered from the cache */
	unsigned long misses;   /* decoded (kept or not) */
	unsigned long entries;  /* kept now */
	unsigned long evicted;  /* dropped as the oldest */
	unsigned long uncached; /* decoded and not kept: too long, or not a key */
};

/* keycache_stats - a copy of the counters */
void keycache_stats(struct keycache_stats *out);

/* keycache_free - drop every entry (their references) and zero the counters; twice is fine */
void keycache_free(void);

#endif
