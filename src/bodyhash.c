/*
 * NAME
 *	bodyhash - a streaming DKIM body hash (RFC 6376 3.4.3, 3.4.4, 3.7)
 * SYNOPSIS
 *	#include "bodyhash.h"
 * DESCRIPTION
 *	The body canonicalizer shared by ARC's AMS body hashes (arc.c) and
 *	DKIM's (dkim.c): bytes are canonicalized as they come, the state
 *	between chunks is a held-back CR, held-back white space (relaxed)
 *	and a count of held-back empty lines (dropped if nothing follows).
 *	A run of ordinary bytes goes out in one copy. The output goes
 *	through a BODYHASH_BUF buffer into an OpenSSL digest; the digests
 *	are fetched once per process (OpenSSL 3 locks an implicit fetch).
 * DIAGNOSTICS
 *	See bodyhash.h: a failed init returns false, a failed final digest
 *	is all zero bytes.
 */
#include <openssl/err.h>
#include <openssl/evp.h>
#include <pthread.h>
#include <string.h>

#include "bodyhash.h"

/* the digests fetched once per process */
static pthread_once_t md_once = PTHREAD_ONCE_INIT;
static const EVP_MD *sha256_md, *sha1_md;

/* md_init - fetch SHA-256 and SHA-1 from the default library context; the built-in ones if not */
static void md_init(void)
{
	EVP_MD *a = EVP_MD_fetch(NULL, "SHA256", NULL), *b = EVP_MD_fetch(NULL, "SHA1", NULL);

	ERR_clear_error();
	sha256_md = a != NULL ? a : EVP_sha256();
	sha1_md = b != NULL ? b : EVP_sha1();
}

/* bodyhash_init - a hash for a body: relaxed or simple, l= (-1: none), its digest */
bool bodyhash_init(struct body_hash *bh, bool relaxed, long long limit, enum bodyhash_alg alg)
{
	memset(bh, 0, sizeof(*bh));
	bh->relaxed = relaxed;
	bh->limit = limit;
	bh->alg = alg;
	(void)pthread_once(&md_once, md_init);
	bh->md = EVP_MD_CTX_new();
	if (bh->md == NULL ||
	    EVP_DigestInit_ex(bh->md, alg == BODYHASH_SHA1 ? sha1_md : sha256_md, NULL) != 1) {
		EVP_MD_CTX_free(bh->md);
		bh->md = NULL;
		ERR_clear_error();
		return false;
	}
	return true;
}

/* body_out - canonicalized body bytes into bh's hash (up to l=), counted */
static void body_out(struct body_hash *bh, const unsigned char *p, size_t n)
{
	unsigned long long before = bh->total;

	bh->total += n;
	if (bh->limit >= 0) {
		if (before >= (unsigned long long)bh->limit)
			return;
		if (before + n > (unsigned long long)bh->limit)
			n = (size_t)((unsigned long long)bh->limit - before);
	}
	while (n > 0) {
		size_t room = sizeof(bh->buf) - bh->blen, take = n < room ? n : room;

		memcpy(bh->buf + bh->blen, p, take);
		bh->blen += take;
		p += take;
		n -= take;
		if (bh->blen == sizeof(bh->buf)) {
			(void)EVP_DigestUpdate(bh->md, bh->buf, bh->blen);
			bh->blen = 0;
		}
	}
}

/* body_flush_lines - the empty lines held back, now followed by content */
static void body_flush_lines(struct body_hash *bh)
{
	for (; bh->pending > 0; bh->pending--) {
		if (bh->limit >= 0 && bh->total >= (unsigned long long)bh->limit) {
			bh->total += 2 * bh->pending; /* counted, beyond l= anyway */
			bh->pending = 0;
			break;
		}
		body_out(bh, (const unsigned char *)"\r\n", 2);
	}
}

/* body_char - one content byte of a line */
static void body_char(struct body_hash *bh, unsigned char c)
{
	if (bh->relaxed && (c == ' ' || c == '\t')) {
		bh->wsp = true;
		return;
	}
	body_flush_lines(bh);
	if (bh->wsp) {
		body_out(bh, (const unsigned char *)" ", 1);
		bh->wsp = false;
	}
	body_out(bh, &c, 1);
	bh->content = true;
}

/* body_eol - the end of a line: kept after content, held back when empty */
static void body_eol(struct body_hash *bh)
{
	bh->wsp = false; /* relaxed: WSP at the end of a line goes */
	if (bh->content)
		body_out(bh, (const unsigned char *)"\r\n", 2);
	else
		bh->pending++;
	bh->content = false;
}

/*
 * Bytes that end a run of ordinary ones: CR and LF (both canonicalizations),
 * and for relaxed SP and HTAB too (a single SP between two ordinary bytes is
 * its own canonical form, so it stays in the run).
 */
static const bool stop_simple[256] = {['\r'] = true, ['\n'] = true};
static const bool stop_relaxed[256] = {['\r'] = true, ['\n'] = true, ['\t'] = true, [' '] = true};

/* run_end - where the run of bytes that canonicalize to themselves, begun at p[i], ends */
static size_t run_end(const struct body_hash *bh, const unsigned char *p, size_t i, size_t len)
{
	const bool *stop = bh->relaxed ? stop_relaxed : stop_simple;

	for (;;) {
		while (i < len && !stop[p[i]])
			i++;
		/* relaxed: one SP followed by an ordinary byte is kept as it is */
		if (bh->relaxed && i + 1 < len && p[i] == ' ' && !stop_relaxed[p[i + 1]]) {
			i += 2;
			continue;
		}
		return i;
	}
}

/* bodyhash_feed - raw body bytes through the canonicalizer (CRLF or bare LF ends a line) */
void bodyhash_feed(struct body_hash *bh, const unsigned char *p, size_t len)
{
	const bool *stop = bh->relaxed ? stop_relaxed : stop_simple;

	if (bh->md == NULL || bh->done)
		return;
	for (size_t i = 0; i < len; i++) {
		unsigned char c = p[i];

		/* a run of ordinary bytes goes out at once, after its first one */
		if (!bh->cr && !stop[c]) {
			size_t run = run_end(bh, p, i + 1, len);

			body_char(bh, c);
			if (run > i + 1)
				body_out(bh, p + i + 1, run - i - 1);
			i = run - 1;
			continue;
		}
		if (bh->cr) {
			bh->cr = false;
			if (c == '\n') {
				body_eol(bh);
				continue;
			}
			body_char(bh, '\r');
		}
		if (c == '\r')
			bh->cr = true;
		else if (c == '\n')
			body_eol(bh);
		else
			body_char(bh, c);
	}
}

/* bodyhash_finish - the end of the body: the last line ended, the digest made */
void bodyhash_finish(struct body_hash *bh)
{
	unsigned int want = bh->alg == BODYHASH_SHA1 ? 20 : 32;

	if (bh->done || bh->md == NULL)
		return;
	if (bh->cr) {
		bh->cr = false;
		body_char(bh, '\r');
	}
	if (bh->content) /* a last line without its CRLF gets one */
		body_eol(bh);
	if (!bh->relaxed && bh->total == 0) /* simple: an empty body is one CRLF */
		body_out(bh, (const unsigned char *)"\r\n", 2);
	if (bh->blen > 0)
		(void)EVP_DigestUpdate(bh->md, bh->buf, bh->blen);
	bh->blen = 0;
	bh->dlen = 0;
	if (EVP_DigestFinal_ex(bh->md, bh->digest, &bh->dlen) != 1 || bh->dlen != want)
		memset(bh->digest, 0, sizeof(bh->digest));
	bh->dlen = want;
	ERR_clear_error();
	bh->done = true;
}

/* bodyhash_free - release what bodyhash_init took (the struct stays the caller's) */
void bodyhash_free(struct body_hash *bh)
{
	if (bh == NULL)
		return;
	EVP_MD_CTX_free(bh->md);
	bh->md = NULL;
}
