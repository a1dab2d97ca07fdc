/*
 * NAME
 *	test_keycache - unit tests for keycache.c (the decoded-key cache and its d2i_PUBKEY_bio)
 * DESCRIPTION
 *	Keys are made in the test (RSA 1024 and Ed25519). The cache: a miss,
 *	then hits with the same EVP_PKEY; other bytes or another kind are
 *	other entries; garbage gives NULL and is not kept; input over
 *	KEYCACHE_MAX_BYTES is decoded each time; KEYCACHE_ENTRIES entries at
 *	most, the oldest dropped (a reference held on a dropped key stays
 *	valid); threads at once. d2i_PUBKEY_bio: through a memory BIO as
 *	libopendkim uses it, compared with libcrypto's own (dlsym
 *	RTLD_NEXT) on good keys, trailing bytes, garbage, a truncated key,
 *	an indefinite length, an empty BIO and a != NULL: the same key (or
 *	NULL) and the same bytes left in the BIO. The references are all
 *	freed: the ASan build's leak check sees any that is not.
 * DIAGNOSTICS
 *	cmocka; each failure prints "got X, want Y".
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>
#include <dlfcn.h>
#include <openssl/bio.h>
#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/x509.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../../src/keycache.h"
#include "util.h"

static EVP_PKEY *rsa_key, *rsa_key2, *ed_key;
static unsigned char *rsa_der, *rsa_der2, *ed_der;
static int rsa_der_len, rsa_der2_len, ed_der_len;

/* der_of - the SubjectPublicKeyInfo DER of k (caller frees with OPENSSL_free) */
static unsigned char *der_of(EVP_PKEY *k, int *len)
{
	unsigned char *der = NULL;

	*len = i2d_PUBKEY(k, &der);
	assert_true(*len > 0);
	return der;
}

/* setup - the test keys */
static int setup(void **state)
{
	(void)state;
	rsa_key = EVP_PKEY_Q_keygen(NULL, NULL, "RSA", (size_t)1024);
	rsa_key2 = EVP_PKEY_Q_keygen(NULL, NULL, "RSA", (size_t)1024);
	ed_key = EVP_PKEY_Q_keygen(NULL, NULL, "ED25519");
	if (rsa_key == NULL || rsa_key2 == NULL || ed_key == NULL)
		return -1;
	rsa_der = der_of(rsa_key, &rsa_der_len);
	rsa_der2 = der_of(rsa_key2, &rsa_der2_len);
	ed_der = der_of(ed_key, &ed_der_len);
	return 0;
}

/* teardown - free the keys and the cache */
static int teardown(void **state)
{
	(void)state;
	EVP_PKEY_free(rsa_key);
	EVP_PKEY_free(rsa_key2);
	EVP_PKEY_free(ed_key);
	OPENSSL_free(rsa_der);
	OPENSSL_free(rsa_der2);
	OPENSSL_free(ed_der);
	keycache_free();
	return 0;
}

static int decodes; /* spki calls (the counting decoders are not thread-safe: one thread) */

/* spki - d2i_PUBKEY of the bytes, counted (keycache_decode_fn) */
static EVP_PKEY *spki(const unsigned char *bytes, size_t len, void *ctx)
{
	const unsigned char *p = bytes;

	(void)ctx;
	decodes++;
	return d2i_PUBKEY(NULL, &p, (long)len);
}

/* fresh - a new empty EVP_PKEY whatever the bytes, counted (keycache_decode_fn) */
static EVP_PKEY *fresh(const unsigned char *bytes, size_t len, void *ctx)
{
	(void)bytes;
	(void)len;
	(void)ctx;
	decodes++;
	return EVP_PKEY_new();
}

/* want_stats - the counters are these */
static void want_stats(const char *when, unsigned long hits, unsigned long misses,
                       unsigned long entries, unsigned long uncached)
{
	struct keycache_stats st;

	keycache_stats(&st);
	if (st.hits != hits || st.misses != misses || st.entries != entries ||
	    st.uncached != uncached)
		fail_msg("%s: got hits=%lu misses=%lu entries=%lu uncached=%lu, want %lu %lu %lu "
		         "%lu",
		         when, st.hits, st.misses, st.entries, st.uncached, hits, misses, entries,
		         uncached);
}

/* test_hit_miss - a miss then hits, one EVP_PKEY for all; other bytes and kinds are other entries
 */
static void test_hit_miss(void **state)
{
	EVP_PKEY *a, *b, *c, *d, *e;

	(void)state;
	keycache_free();
	decodes = 0;
	a = keycache_get(KEYCACHE_SPKI_DER, rsa_der, (size_t)rsa_der_len, spki, NULL);
	assert_non_null(a);
	assert_int_equal(EVP_PKEY_eq(a, rsa_key), 1);
	want_stats("first", 0, 1, 1, 0);
	b = keycache_get(KEYCACHE_SPKI_DER, rsa_der, (size_t)rsa_der_len, spki, NULL);
	assert_ptr_equal(a, b);
	want_stats("same bytes", 1, 1, 1, 0);
	c = keycache_get(KEYCACHE_SPKI_DER, rsa_der2, (size_t)rsa_der2_len, spki, NULL);
	assert_non_null(c);
	assert_ptr_not_equal(a, c);
	assert_int_equal(EVP_PKEY_eq(c, rsa_key2), 1);
	want_stats("other bytes", 1, 2, 2, 0);
	d = keycache_get(KEYCACHE_ARC_RSA, rsa_der, (size_t)rsa_der_len, spki, NULL);
	assert_ptr_not_equal(a, d); /* the same bytes of another kind: another entry */
	want_stats("other kind", 1, 3, 3, 0);
	e = keycache_get(KEYCACHE_SPKI_DER, ed_der, (size_t)ed_der_len, spki, NULL);
	assert_int_equal(EVP_PKEY_eq(e, ed_key), 1);
	assert_int_equal(decodes, 4);
	/* a reference each: freeing the cache leaves them valid */
	keycache_free();
	want_stats("freed", 0, 0, 0, 0);
	assert_int_equal(EVP_PKEY_eq(a, rsa_key), 1);
	EVP_PKEY_free(a);
	EVP_PKEY_free(b);
	EVP_PKEY_free(c);
	EVP_PKEY_free(d);
	EVP_PKEY_free(e);
	keycache_free(); /* twice is fine */
}

/* test_not_kept - garbage is NULL and not kept; input over KEYCACHE_MAX_BYTES is decoded each time
 */
static void test_not_kept(void **state)
{
	static const unsigned char garbage[] = "\x30\x03\x02\x01\x05 not a key";
	unsigned char *big = xmalloc(KEYCACHE_MAX_BYTES + 1);

	(void)state;
	keycache_free();
	decodes = 0;
	for (int i = 0; i < 2; i++)
		assert_null(
		    keycache_get(KEYCACHE_SPKI_DER, garbage, sizeof(garbage) - 1, spki, NULL));
	assert_int_equal(decodes, 2);
	want_stats("garbage", 0, 2, 0, 2);
	ERR_clear_error();
	memset(big, 'x', KEYCACHE_MAX_BYTES + 1);
	for (int i = 0; i < 2; i++) {
		EVP_PKEY *k =
		    keycache_get(KEYCACHE_ARC_RSA, big, KEYCACHE_MAX_BYTES + 1, fresh, NULL);

		assert_non_null(k);
		EVP_PKEY_free(k);
	}
	assert_int_equal(decodes, 4);
	want_stats("too long", 0, 4, 0, 4);
	/* exactly KEYCACHE_MAX_BYTES is kept */
	for (int i = 0; i < 2; i++) {
		EVP_PKEY *k = keycache_get(KEYCACHE_ARC_RSA, big, KEYCACHE_MAX_BYTES, fresh, NULL);

		assert_non_null(k);
		EVP_PKEY_free(k);
	}
	assert_int_equal(decodes, 5);
	want_stats("at the limit", 1, 5, 1, 4);
	free(big);
	keycache_free();
}

/* test_bounded - KEYCACHE_ENTRIES at most, the oldest dropped; a held reference outlives its entry
 */
static void test_bounded(void **state)
{
	char buf[32];
	EVP_PKEY *first, *k;
	struct keycache_stats st;

	(void)state;
	keycache_free();
	decodes = 0;
	snprintf(buf, sizeof(buf), "key %d", 0);
	first = keycache_get(KEYCACHE_ARC_RSA, buf, strlen(buf), fresh, NULL);
	for (int i = 1; i < KEYCACHE_ENTRIES + 10; i++) {
		snprintf(buf, sizeof(buf), "key %d", i);
		k = keycache_get(KEYCACHE_ARC_RSA, buf, strlen(buf), fresh, NULL);
		assert_non_null(k);
		EVP_PKEY_free(k);
	}
	keycache_stats(&st);
	if (st.entries != KEYCACHE_ENTRIES || st.evicted != 10 ||
	    st.misses != KEYCACHE_ENTRIES + 10)
		fail_msg("got entries=%lu evicted=%lu misses=%lu, want %d 10 %d", st.entries,
		         st.evicted, st.misses, KEYCACHE_ENTRIES, KEYCACHE_ENTRIES + 10);
	/* the newest is there, the oldest (key 0..9) are gone */
	snprintf(buf, sizeof(buf), "key %d", KEYCACHE_ENTRIES + 9);
	k = keycache_get(KEYCACHE_ARC_RSA, buf, strlen(buf), fresh, NULL);
	EVP_PKEY_free(k);
	assert_int_equal(decodes, KEYCACHE_ENTRIES + 10);
	snprintf(buf, sizeof(buf), "key %d", 0);
	k = keycache_get(KEYCACHE_ARC_RSA, buf, strlen(buf), fresh, NULL);
	assert_int_equal(decodes, KEYCACHE_ENTRIES + 11);
	assert_ptr_not_equal(k, first); /* decoded again: a new key */
	EVP_PKEY_free(k);
	/* the dropped entry's key is still ours */
	assert_int_equal(EVP_PKEY_get_id(first), EVP_PKEY_NONE);
	EVP_PKEY_free(first);
	keycache_free();
}

#define NTHREADS 8
#define NROUNDS  300

/* thread_main - get the 3 test keys NROUNDS times each by DER; returns the wrong answers */
static void *thread_main(void *arg)
{
	intptr_t wrong = 0;

	(void)arg;
	for (int i = 0; i < NROUNDS; i++) {
		const unsigned char *der = i % 3 == 0 ? rsa_der : i % 3 == 1 ? rsa_der2 : ed_der;
		int len = i % 3 == 0 ? rsa_der_len : i % 3 == 1 ? rsa_der2_len : ed_der_len;
		EVP_PKEY *want = i % 3 == 0 ? rsa_key : i % 3 == 1 ? rsa_key2 : ed_key;
		BIO *bio = BIO_new_mem_buf(der, len);
		EVP_PKEY *k = d2i_PUBKEY_bio(bio, NULL);

		if (k == NULL || EVP_PKEY_eq(k, want) != 1 || BIO_ctrl_pending(bio) != 0)
			wrong++;
		EVP_PKEY_free(k);
		BIO_free(bio);
	}
	return (void *)wrong;
}

/* test_threads - threads at once through d2i_PUBKEY_bio: right keys, 3 entries, every call counted
 */
static void test_threads(void **state)
{
	pthread_t t[NTHREADS];
	intptr_t wrong = 0;
	struct keycache_stats st;

	(void)state;
	keycache_free();
	for (int i = 0; i < NTHREADS; i++)
		assert_int_equal(pthread_create(&t[i], NULL, thread_main, NULL), 0);
	for (int i = 0; i < NTHREADS; i++) {
		void *ret;

		assert_int_equal(pthread_join(t[i], &ret), 0);
		wrong += (intptr_t)ret;
	}
	if (wrong != 0)
		fail_msg("got %ld wrong answers of %d, want 0", (long)wrong, NTHREADS * NROUNDS);
	keycache_stats(&st);
	if (st.entries != 3 || st.hits + st.misses != NTHREADS * NROUNDS || st.misses < 3 ||
	    st.misses > 3 * NTHREADS)
		fail_msg("got entries=%lu hits=%lu misses=%lu, want 3 entries, %d calls, 3..%d "
		         "misses",
		         st.entries, st.hits, st.misses, NTHREADS * NROUNDS, 3 * NTHREADS);
	keycache_free();
}

typedef EVP_PKEY *d2i_fn(BIO *bp, EVP_PKEY **a);

/* real_d2i - libcrypto's own d2i_PUBKEY_bio */
static d2i_fn *real_d2i(void)
{
	void *sym = dlsym(RTLD_NEXT, "d2i_PUBKEY_bio");
	d2i_fn *f;

	assert_non_null(sym);
	assert_ptr_not_equal(sym, (void *)d2i_PUBKEY_bio);
	memcpy(&f, &sym, sizeof(f));
	return f;
}

/* test_d2i_bio - ours and libcrypto's answer alike, through memory BIOs as libopendkim makes them
 */
static void test_d2i_bio(void **state)
{
	d2i_fn *real = real_d2i();
	unsigned char trailing[2048], truncated[2048];
	static const unsigned char garbage[] = "\x30\x03\x02\x01\x05";
	static const unsigned char junk[] = "!!!notbase64";
	static const unsigned char indefinite[] = "\x30\x80\x02\x01\x05\x00\x00";
	static const unsigned char toolong[] = "\x30\x82\x7f\xff\x02\x01";
	struct {
		const char *name;
		const unsigned char *b;
		int len;
		EVP_PKEY *want; /* NULL: no key */
	} cases[] = {
	    {"rsa", rsa_der, rsa_der_len, rsa_key},
	    {"rsa again", rsa_der, rsa_der_len, rsa_key},
	    {"ed25519", ed_der, ed_der_len, ed_key},
	    {"trailing bytes", trailing, rsa_der2_len + 7, rsa_key2},
	    {"truncated", truncated, rsa_der_len - 1, NULL},
	    {"garbage DER", garbage, (int)sizeof(garbage) - 1, NULL},
	    {"not DER", junk, (int)sizeof(junk) - 1, NULL},
	    {"indefinite length", indefinite, (int)sizeof(indefinite) - 1, NULL},
	    {"length past the end", toolong, (int)sizeof(toolong) - 1, NULL},
	    {"empty", junk, 0, NULL},
	};
	int bad = 0;

	(void)state;
	memcpy(trailing, rsa_der2, (size_t)rsa_der2_len);
	memset(trailing + rsa_der2_len, 'z', 7);
	memcpy(truncated, rsa_der, (size_t)rsa_der_len - 1);
	keycache_free();
	for (size_t i = 0; i < PM_ARRAY_LEN(cases); i++) {
		BIO *ours = BIO_new_mem_buf(cases[i].b, cases[i].len);
		BIO *theirs = BIO_new_mem_buf(cases[i].b, cases[i].len);
		EVP_PKEY *k1 = d2i_PUBKEY_bio(ours, NULL);
		EVP_PKEY *k2 = real(theirs, NULL);

		if ((k1 == NULL) != (cases[i].want == NULL) ||
		    (k1 != NULL && EVP_PKEY_eq(k1, cases[i].want) != 1)) {
			print_error("%s: got %s, want %s\n", cases[i].name,
			            k1 ? "a key (or another)" : "NULL",
			            cases[i].want ? "the key" : "NULL");
			bad++;
		}
		if ((k1 == NULL) != (k2 == NULL)) {
			print_error("%s: got %s, libcrypto's %s\n", cases[i].name,
			            k1 ? "a key" : "NULL", k2 ? "a key" : "NULL");
			bad++;
		}
		if (BIO_ctrl_pending(ours) != BIO_ctrl_pending(theirs)) {
			print_error("%s: got %zu bytes left in the BIO, libcrypto leaves %zu\n",
			            cases[i].name, BIO_ctrl_pending(ours),
			            BIO_ctrl_pending(theirs));
			bad++;
		}
		EVP_PKEY_free(k1);
		EVP_PKEY_free(k2);
		BIO_free(ours);
		BIO_free(theirs);
		ERR_clear_error();
	}
	if (bad > 0)
		fail_msg("%d mismatches", bad);
	/* rsa twice (a hit), ed25519, trailing: 3 entries; garbage and truncated not kept */
	{
		struct keycache_stats st;

		keycache_stats(&st);
		if (st.entries != 3 || st.hits != 1)
			fail_msg("got entries=%lu hits=%lu, want 3 1", st.entries, st.hits);
	}
	/* a != NULL: libcrypto's, which sets *a (freeing what was there); not the cache */
	{
		BIO *bio = BIO_new_mem_buf(rsa_der, rsa_der_len);
		EVP_PKEY *had = EVP_PKEY_new(), *got;
		struct keycache_stats before, after;

		keycache_stats(&before);
		got = d2i_PUBKEY_bio(bio, &had);
		keycache_stats(&after);
		assert_non_null(got);
		assert_ptr_equal(got, had);
		assert_int_equal(EVP_PKEY_eq(got, rsa_key), 1);
		assert_int_equal(after.hits + after.misses, before.hits + before.misses);
		EVP_PKEY_free(got);
		BIO_free(bio);
	}
	/* the executable's definition is the one the process sees */
	{
		void *sym = dlsym(RTLD_DEFAULT, "d2i_PUBKEY_bio");

		assert_ptr_equal(sym, (void *)d2i_PUBKEY_bio);
	}
	keycache_free();
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_hit_miss), cmocka_unit_test(test_not_kept),
	    cmocka_unit_test(test_bounded),  cmocka_unit_test(test_threads),
	    cmocka_unit_test(test_d2i_bio),
	};

	return cmocka_run_group_tests(tests, setup, teardown);
}
