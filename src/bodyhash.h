/*
 * NAME
 *	bodyhash - a streaming DKIM body hash (RFC 6376 3.4.3, 3.4.4, 3.7)
 * SYNOPSIS
 *	#include "bodyhash.h"
 *
 *	bool bodyhash_init(struct body_hash *bh, bool relaxed, long long limit,
 *	                   enum bodyhash_alg alg);
 *	void bodyhash_feed(struct body_hash *bh, const unsigned char *p, size_t len);
 *	void bodyhash_finish(struct body_hash *bh);
 *	void bodyhash_free(struct body_hash *bh);
 * DESCRIPTION
 *	One body canonicalizer (simple or relaxed) and its digest (SHA-256
 *	or SHA-1), fed the raw body in chunks of any size: CRLF or a bare
 *	LF ends a line, a bare CR is content. limit is l= (-1: the whole
 *	body): only that many canonical bytes are hashed, though total
 *	counts every one (the body's canonical length). bodyhash_finish
 *	ends the last line and makes digest (dlen bytes); feeding after it
 *	does nothing. The struct is the caller's (an array of them is fine);
 *	bodyhash_free releases what init took, and may be called after a
 *	failed init.
 * DIAGNOSTICS
 *	bodyhash_init returns false when OpenSSL cannot set up the digest
 *	(its error queue is cleared); such a hash is never fed. A digest
 *	that fails at the end is all zero bytes.
 */
#ifndef PM_BODYHASH_H
#define PM_BODYHASH_H

#include <openssl/evp.h>
#include <stdbool.h>
#include <stddef.h>

/* the canonicalizer's output buffer: the digest is updated per this many bytes */
#define BODYHASH_BUF 4096

enum bodyhash_alg {
	BODYHASH_SHA256 = 0,
	BODYHASH_SHA1,
};

/* One running body hash: a canonicalizer and its digest. */
struct body_hash {
	bool relaxed;
	long long limit; /* l=, -1: whole body */
	enum bodyhash_alg alg;
	EVP_MD_CTX *md;
	unsigned long long total;   /* canonicalized bytes so far */
	unsigned long long pending; /* empty lines held back (dropped at the end) */
	bool wsp, content, cr;      /* WSP held back, the line has content, CR held back */
	unsigned char buf[BODYHASH_BUF];
	size_t blen;
	unsigned char digest[32]; /* dlen bytes of it: 32 (SHA-256) or 20 (SHA-1) */
	unsigned int dlen;
	bool done;
};

bool bodyhash_init(struct body_hash *bh, bool relaxed, long long limit, enum bodyhash_alg alg);
void bodyhash_feed(struct body_hash *bh, const unsigned char *p, size_t len);
void bodyhash_finish(struct body_hash *bh);
void bodyhash_free(struct body_hash *bh);

#endif
