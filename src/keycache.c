/*
 * NAME
 *	keycache - the process's decoded public keys, and libopendkim's decoder through them
 * SYNOPSIS
 *	#include "keycache.h"
 *
 *	keycache_get(), keycache_stats(), keycache_free()
 *	d2i_PUBKEY_bio() (libcrypto's, defined again here: see below)
 * DESCRIPTION
 *	One table for the process: (kind, the exact bytes a key is decoded
 *	from) to an EVP_PKEY, so a key is decoded once per process and not
 *	once per signature per message (OpenSSL 3's decoders allocate, take
 *	locks and try decoder after decoder: for DKIM that was about 7% of
 *	the milter's CPU). Each user holds a reference of its own
 *	(EVP_PKEY_up_ref), so an entry dropped meanwhile stays valid for
 *	whoever holds it. KEYCACHE_ENTRIES entries, the oldest dropped;
 *	input longer than KEYCACHE_MAX_BYTES is decoded each time and not
 *	kept. One mutex: a look-up is a scan of at most KEYCACHE_ENTRIES
 *	hashes and one up_ref; decoding is done outside it (two threads may
 *	decode the same key at once: the second finds the first's entry and
 *	drops its own).
 *
 *	The DNS TTL: only decoding is cached. The key record is still looked
 *	up for each message through the DNS layer and its cache (which
 *	honours the TTL); a record that changed is other bytes, so another
 *	entry, and the old one ages out.
 *
 *	libopendkim (2.11) decodes each RSA signature's key with
 *	d2i_PUBKEY_bio(BIO_new_mem_buf(key, keylen), NULL) in
 *	dkim_sig_process, then EVP_PKEY_get1_RSA, RSA_size, RSA_verify and,
 *	when done, EVP_PKEY_free and RSA_free; it has no API to hand it a
 *	decoded key. So the executable defines d2i_PUBKEY_bio itself: a
 *	symbol a linked shared library references is exported by the
 *	executable (it is in policy-milter's dynamic symbol table: nm -D),
 *	and the dynamic linker binds libopendkim's reference to the
 *	executable's definition before libcrypto's. Every binary that links
 *	this file gets it (the daemon, and the tests and fuzz targets that
 *	link arc.o or this file); the others keep libcrypto's own, which
 *	answers the same. What it keeps of libcrypto's contract (ASN1_d2i_bio:
 *	read one DER object from the BIO, then d2i_PUBKEY on it): a memory
 *	BIO whose data starts with a definite-length DER header, with a ==
 *	NULL, is answered from the cache or decoded with d2i_PUBKEY on the
 *	object's bytes; the object's bytes are read from the BIO either way;
 *	garbage gives NULL (with d2i_PUBKEY's errors queued) and is not kept.
 *	Anything else (another BIO type, a != NULL, an indefinite length, a
 *	header that does not parse or does not fit) goes to libcrypto's own
 *	function (dlsym RTLD_NEXT), unchanged.
 *
 *	Sharing one EVP_PKEY between threads, as libopendkim uses it (read
 *	in OpenSSL 3.0's source, crypto/evp/p_lib.c and crypto/rsa/rsa_ossl.c;
 *	openssl-threads(7): objects are safe to share when the calls made on
 *	them do not modify them): EVP_PKEY_get1_RSA on a provider key calls
 *	evp_pkey_get_legacy, which reads pk->legacy_cache_pkey under the
 *	key's read lock, builds the legacy RSA outside it, and stores it
 *	under the write lock, checking again whether another thread stored
 *	one meanwhile (then its copy is freed); the RSA comes back with a
 *	reference of its own (RSA_up_ref). RSA_size reads n. RSA_verify is a
 *	public operation (rsa_ossl_public_decrypt): a BN_CTX of its own per
 *	call, n and e only read, and the Montgomery context of n cached with
 *	BN_MONT_CTX_set_locked under the RSA's lock. The reference counts
 *	are atomic. arc.c's EVP_PKEY_verify takes an EVP_PKEY_CTX of its own
 *	per signature. Nothing here modifies a shared key. (A bonus: the
 *	legacy RSA that get1_RSA builds is kept in the cached key, so it too
 *	is built once per key.) Nothing else in the process calls
 *	d2i_PUBKEY_bio (nm -D of each linked library: only libopendkim;
 *	objdump -R of libcrypto: no relocation of it, so no call of its own
 *	goes through the executable's). libopendkim asks for version
 *	OPENSSL_3.0.0; the executable's unversioned definition satisfies it.
 * DIAGNOSTICS
 *	Allocation failure aborts (xmalloc). A decoder's NULL is the caller's.
 */
#include <dlfcn.h>
#include <openssl/asn1.h>
#include <openssl/bio.h>
#include <openssl/err.h>
#include <openssl/x509.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>

#include "keycache.h"
#include "util.h"

struct keycache_entry {
	unsigned long hash;
	enum keycache_kind kind;
	size_t len;
	unsigned char *bytes;
	EVP_PKEY *pk;
};

static pthread_mutex_t cache_lock = PTHREAD_MUTEX_INITIALIZER;
static struct keycache_entry cache[KEYCACHE_ENTRIES];
static size_t cache_n, cache_next;
static struct keycache_stats counters;

/* bytes_hash - FNV-1a of kind and bytes */
static unsigned long bytes_hash(enum keycache_kind kind, const unsigned char *b, size_t len)
{
	unsigned long h = 2166136261UL ^ (unsigned long)kind;

	for (size_t i = 0; i < len; i++)
		h = (h ^ b[i]) * 16777619UL;
	return h;
}

/* cache_find - a new reference to the entry of (kind, bytes), NULL if none; locked */
static EVP_PKEY *cache_find(unsigned long hash, enum keycache_kind kind, const unsigned char *b,
                            size_t len)
{
	for (size_t i = 0; i < cache_n; i++) {
		const struct keycache_entry *e = &cache[i];

		if (e->hash == hash && e->kind == kind && e->len == len &&
		    memcmp(e->bytes, b, len) == 0)
			return EVP_PKEY_up_ref(e->pk) == 1 ? e->pk : NULL;
	}
	return NULL;
}

/* keycache_get - the key of (kind, bytes), cached or decoded (see keycache.h) */
EVP_PKEY *keycache_get(enum keycache_kind kind, const void *bytes, size_t len,
                       keycache_decode_fn *decode, void *ctx)
{
	const unsigned char *b = bytes;
	unsigned long hash;
	EVP_PKEY *pk, *had = NULL;
	struct keycache_entry *e;

	if (len > KEYCACHE_MAX_BYTES) { /* not kept: no look-up either */
		pk = decode(b, len, ctx);
		(void)pthread_mutex_lock(&cache_lock);
		counters.misses++;
		counters.uncached++;
		(void)pthread_mutex_unlock(&cache_lock);
		return pk;
	}
	hash = bytes_hash(kind, b, len);
	(void)pthread_mutex_lock(&cache_lock);
	pk = cache_find(hash, kind, b, len);
	if (pk != NULL)
		counters.hits++;
	else
		counters.misses++;
	(void)pthread_mutex_unlock(&cache_lock);
	if (pk != NULL)
		return pk;
	pk = decode(b, len, ctx); /* outside the lock: the slow part */
	(void)pthread_mutex_lock(&cache_lock);
	if (pk == NULL) {
		counters.uncached++;
	} else if ((had = cache_find(hash, kind, b, len)) == NULL && EVP_PKEY_up_ref(pk) == 1) {
		if (cache_n < KEYCACHE_ENTRIES) {
			e = &cache[cache_n++];
		} else { /* the oldest entry goes */
			e = &cache[cache_next];
			cache_next = (cache_next + 1) % KEYCACHE_ENTRIES;
			EVP_PKEY_free(e->pk);
			free(e->bytes);
			counters.evicted++;
		}
		e->hash = hash;
		e->kind = kind;
		e->len = len;
		e->bytes = xmalloc(len ? len : 1);
		memcpy(e->bytes, b, len);
		e->pk = pk;
	}
	counters.entries = cache_n;
	(void)pthread_mutex_unlock(&cache_lock);
	if (had != NULL) { /* decoded meanwhile by another thread: one key for everyone */
		EVP_PKEY_free(pk);
		pk = had;
	}
	return pk;
}

/* keycache_stats - a copy of the counters */
void keycache_stats(struct keycache_stats *out)
{
	(void)pthread_mutex_lock(&cache_lock);
	*out = counters;
	out->entries = cache_n;
	(void)pthread_mutex_unlock(&cache_lock);
}

/* keycache_free - drop every entry and zero the counters */
void keycache_free(void)
{
	(void)pthread_mutex_lock(&cache_lock);
	for (size_t i = 0; i < cache_n; i++) {
		EVP_PKEY_free(cache[i].pk);
		free(cache[i].bytes);
	}
	memset(cache, 0, sizeof(cache));
	memset(&counters, 0, sizeof(counters));
	cache_n = 0;
	cache_next = 0;
	(void)pthread_mutex_unlock(&cache_lock);
}

/* ---- d2i_PUBKEY_bio, for libopendkim ------------------------------------ */

typedef EVP_PKEY *d2i_pubkey_bio_fn(BIO *bp, EVP_PKEY **a);

static pthread_once_t real_once = PTHREAD_ONCE_INIT;
static d2i_pubkey_bio_fn *real_d2i_pubkey_bio;

/* real_init - libcrypto's d2i_PUBKEY_bio: the next definition after the executable's */
static void real_init(void)
{
	void *sym = dlsym(RTLD_NEXT, "d2i_PUBKEY_bio");

	if (sym != NULL && sym != (void *)d2i_PUBKEY_bio)
		memcpy(&real_d2i_pubkey_bio, &sym, sizeof(sym)); /* object to function pointer */
}

/* real_d2i - libcrypto's d2i_PUBKEY_bio(bp, a); NULL if it cannot be found */
static EVP_PKEY *real_d2i(BIO *bp, EVP_PKEY **a)
{
	(void)pthread_once(&real_once, real_init);
	if (real_d2i_pubkey_bio == NULL) {
		ERR_raise(ERR_LIB_ASN1, ERR_R_INTERNAL_ERROR);
		return NULL;
	}
	return real_d2i_pubkey_bio(bp, a);
}

/* spki_decode - len bytes of SubjectPublicKeyInfo DER as a key (keycache_decode_fn) */
static EVP_PKEY *spki_decode(const unsigned char *bytes, size_t len, void *ctx)
{
	const unsigned char *p = bytes;

	(void)ctx;
	return d2i_PUBKEY(NULL, &p, (long)len);
}

/* der_object_len - the length, header included, of the definite-length DER object at b; 0: none */
static size_t der_object_len(const unsigned char *b, long avail)
{
	const unsigned char *p = b;
	long len;
	int tag, cls, ret;

	(void)ERR_set_mark(); /* ASN1_get_object's complaints are not the caller's */
	ret = ASN1_get_object(&p, &len, &tag, &cls, avail);
	(void)ERR_pop_to_mark();
	if ((ret & 0x80) != 0 || (ret & 0x01) != 0 || len < 0 || len > avail - (long)(p - b))
		return 0; /* an error, or an indefinite length */
	return (size_t)(p - b) + (size_t)len;
}

/*
 * d2i_PUBKEY_bio - libcrypto's function answered from the key cache (see
 * the DESCRIPTION above): the key DER-encoded at the start of bp, a
 * reference the caller frees; NULL on garbage
 */
EVP_PKEY *d2i_PUBKEY_bio(BIO *bp, EVP_PKEY **a)
{
	char *data = NULL;
	long avail;
	size_t n;
	EVP_PKEY *pk;
	unsigned char skip[256];

	if (a != NULL || bp == NULL || BIO_method_type(bp) != BIO_TYPE_MEM)
		return real_d2i(bp, a);
	avail = BIO_get_mem_data(bp, &data);
	if (avail <= 0 || data == NULL || (n = der_object_len((unsigned char *)data, avail)) == 0)
		return real_d2i(bp, a);
	pk = keycache_get(KEYCACHE_SPKI_DER, data, n, spki_decode, NULL);
	while (n > 0) { /* the object is read from bp, as libcrypto's does */
		int got = BIO_read(bp, skip, (int)(n < sizeof(skip) ? n : sizeof(skip)));

		if (got <= 0)
			break;
		n -= (size_t)got;
	}
	return pk;
}
