/*
 * NAME
 *	dkim 3h - DKIM signature verification, one verifier per message
 * SYNOPSIS
 *	#include "dkim.h"
 * DESCRIPTION
 *	A struct dkim_verifier is fed one message as libmilter hands it
 *	(headers one by one, end of headers, body chunks) and at end of
 *	message reports one result per DKIM-Signature, up to
 *	max_signatures, in header order. One libopendkim library handle
 *	serves the whole process (created once, on first use); a verifier
 *	belongs to one thread at a time, different verifiers may run in
 *	different threads at once. libopendkim looks the keys up (through
 *	dkim.c's callback) and verifies b= over the header fields; the body
 *	hash is ours (bodyhash.c), and libopendkim's key decoding is answered
 *	from the process's decoded keys (keycache.c).
 *
 *	Results (RFC 8601 2.7.1 names) and why:
 *	  pass       verified, and acceptable (below)
 *	  fail       verified against the key and did not match (header or
 *	             body hash), or the key record is revoked (empty p=): the
 *	             domain itself has declared the key dead, a definite answer
 *	             about that signature rather than an inability to check it
 *	  policy     cryptographically good (or not checked because of what it
 *	             is) but not acceptable here: rsa-sha1 (RFC 8301 3.1), an
 *	             RSA key under min_key_bits (RFC 8301 3.2), an l= body length
 *	             shorter than the body when allow_l is false (content after
 *	             the signed part must not ride on the signature), an expired
 *	             or future-dated signature. RFC 8601 defines policy exactly
 *	             as "some aspect of the signature was not acceptable to the
 *	             verifier"; fail would claim the signature was broken.
 *	             Also a header field named in h= that occurs in the
 *	             message more often than h= names it (not a trace field:
 *	             dkim_h_uncovered): one instance is unsigned and may be
 *	             the one a mail client shows ("Composition Kills",
 *	             attack A15); a signer that names a field once more than
 *	             it occurs (RFC 6376 8.15, over-signing) is not affected
 *	  neutral    the DKIM-Signature itself is malformed (missing or bad
 *	             tags, unknown version or algorithm): RFC 8601's "syntax
 *	             errors", as OpenDKIM reports it
 *	  temperror  the key lookup failed for now (timeout, SERVFAIL): never fail
 *	  permerror  the key cannot be used: no key record (NXDOMAIN or no TXT,
 *	             RFC 6376 6.1.2 PERMFAIL), several records, a malformed
 *	             record, wrong key type, a d=/s= that is not a host name,
 *	             a q= that names no query method this verifier supports
 *	             (only dns/txt, RFC 6376 3.5: no key is looked up), a key
 *	             record longer than DKIM_KEY_RECORD_MAX bytes even without
 *	             its notes and white space (dkim_key_record_compact;
 *	             libopendkim takes the record into a fixed buffer of that
 *	             size: an RSA key over 4096 bits cannot be verified)
 *	A message without any DKIM-Signature has n == 0: report "none".
 *
 *	Header values: libmilter strips the space after the colon unless
 *	the milter negotiated SMFIP_HDR_LEADSPC. With leadspc false one
 *	space is put back (as OpenDKIM does), so "simple" header
 *	canonicalisation only matches when the original had exactly one
 *	space; with SMFIP_HDR_LEADSPC and leadspc true the header is exact.
 *	Bare LF line ends (LF-only milter data) are taken as CRLF.
 * DIAGNOSTICS
 *	Allocation failure aborts (xmalloc). A library failure makes every
 *	signature temperror.
 */
#ifndef PM_DKIM_H
#define PM_DKIM_H

#include <stdbool.h>
#include <stddef.h>
#include <time.h>

#include "dns.h"

/* RFC 8601 dkim= results; PM_DKIM_NONE only for "no signature at all". */
enum pm_dkim_result {
	PM_DKIM_NONE = 0,
	PM_DKIM_PASS,
	PM_DKIM_FAIL,
	PM_DKIM_NEUTRAL,
	PM_DKIM_POLICY,
	PM_DKIM_TEMPERROR,
	PM_DKIM_PERMERROR,
	PM_DKIM_NRESULTS
};

/*
 * The longest key record text libopendkim can take: its key buffer
 * (BUFRSZ, 1024 bytes plus the NUL) in dkim_get_key, whoever looks the
 * key up. A 4096-bit RSA record is about 750 bytes, an 8192-bit one
 * about 1,430.
 */
#define DKIM_KEY_RECORD_MAX 1024

/* What a key lookup override answers (tests; the default is DNS). */
enum dkim_key_status {
	DKIM_KEY_FOUND = 0, /* the record text, whole, in *record */
	DKIM_KEY_NOTFOUND,  /* NXDOMAIN or no TXT record: permerror */
	DKIM_KEY_TEMPFAIL,  /* timeout, SERVFAIL: temperror */
	DKIM_KEY_MULTIPLE,  /* more than one key record: permerror */
};

/*
 * A key lookup: name is "selector._domainkey.domain"; on DKIM_KEY_FOUND
 * *record is the TXT record's text (strings joined), whole and
 * NUL-terminated, allocated (the verifier frees it).
 */
typedef enum dkim_key_status (*dkim_key_lookup_fn)(const char *name, char **record, void *arg);

struct dkim_verify_settings {
	int max_signatures; /* at most this many verified and reported (default 5; <= 0: 5) */
	bool allow_l;       /* an l= shorter than the body may still pass (default false) */
	int min_key_bits;   /* smaller RSA keys give policy (default 1024; <= 0: 1024) */
	int dns_timeout;    /* seconds per key query attempt (0: resolv.conf default) */
	bool leadspc;       /* header values keep their leading space (SMFIP_HDR_LEADSPC) */
	dkim_key_lookup_fn key_lookup; /* NULL: DNS TXT via dns.c */
	void *key_lookup_arg;
};

/* dkim_verify_defaults - fill s with the defaults above (DNS lookups) */
void dkim_verify_defaults(struct dkim_verify_settings *s);

/* One signature's outcome. Strings are as the signature gave them (not escaped). */
struct dkim_sig_result {
	enum pm_dkim_result result;
	char domain[256];   /* d= ("" when missing) */
	char selector[256]; /* s= */
	char algorithm[32]; /* a= */
	char b[9];          /* the first 8 characters of b= (folding removed), for header.b */
	char reason[96];   /* why, for logs and the A-R comment: "bad signature", "rsa-sha1", ... */
	unsigned key_bits; /* 0 when unknown */
	enum dns_fail dns_fail; /* temperror: why the key lookup failed (dns_fail_name, for logs) */
};

struct dkim_results {
	size_t n;     /* entries in sig (0: no signature, dkim=none) */
	size_t total; /* DKIM-Signature header fields seen (n is at most max_signatures) */
	struct dkim_sig_result *sig;
};

struct dkim_verifier;

/* dkim_verify_new - a verifier for one message (settings copied; NULL: defaults) */
struct dkim_verifier *dkim_verify_new(const struct dkim_verify_settings *s, const char *queue_id);
/* dkim_verify_header - one header field, name and value apart as libmilter gives them */
void dkim_verify_header(struct dkim_verifier *v, const char *name, const char *value);
/*
 * dkim_verify_budget - from now on every key lookup of v goes through b
 * (dns.h; it must outlive v's end of message): the keys of all the
 * signatures share its deadline with the message's other lookups
 * (DMARC), and a lookup with no time left is temperror without a
 * query. Without it each lookup has only dns_timeout per attempt.
 */
void dkim_verify_budget(struct dkim_verifier *v, struct dns_budget *b);
/* dkim_verify_eoh - end of headers */
void dkim_verify_eoh(struct dkim_verifier *v);
/* dkim_verify_body - a body chunk */
void dkim_verify_body(struct dkim_verifier *v, const unsigned char *bytes, size_t len);
/*
 * dkim_verify_eom - end of message: fill *out (free with dkim_results_free).
 * Once per verifier; headers and body after it are ignored.
 */
void dkim_verify_eom(struct dkim_verifier *v, struct dkim_results *out);
/* dkim_verify_free - release v (NULL is fine) */
void dkim_verify_free(struct dkim_verifier *v);
/* dkim_results_free - release what *r holds */
void dkim_results_free(struct dkim_results *r);

/*
 * dkim_key_record_compact - a key record (RFC 6376 3.6.1) that means the
 * same with less: the n= notes dropped, the white space around tags and
 * values and inside p= (base64, where FWS is ignored) removed, the other
 * tags kept in their order. NULL when the record is not a well-formed
 * tag-list (an element without "=", an empty or repeated tag name): it
 * is then left as it is. The caller frees the result.
 */
char *dkim_key_record_compact(const char *record);

/*
 * dkim_q_supported - does a q= value (RFC 6376 3.5: query methods
 * separated by ':') name one this verifier supports: "dns/txt" (or
 * "dns", whose only option is txt), compared ignoring case and FWS?
 * Unknown methods are ignored; none left is permerror (6.1.2).
 */
bool dkim_q_supported(const char *q);

/*
 * dkim_h_uncovered - the first field named in an h= value (h) that
 * occurs among the message's header field names (names[0..n), any case)
 * more often than h= names it: true with its name (as the message first
 * spells it, cut to fieldsize) in field, and the two counts in *in_h and *in_msg. The
 * trace and per-hop fields that transit adds by design (Received,
 * Return-Path, DKIM-Signature, ARC-*, Authentication-Results) are not
 * counted. False when every field named is covered.
 */
bool dkim_h_uncovered(const char *h, char *const *names, size_t n, char *field, size_t fieldsize,
                      unsigned *in_h, unsigned *in_msg);

/*
 * dkim_host_ok - may d= or s= be looked up: LDH labels (letters, digits,
 * '-', and '_'), separated by dots, a name dns_name_ok() accepts. Shared
 * with arc.c.
 */
bool dkim_host_ok(const char *s);

/*
 * dkim_key_dns - the TXT record at name ("selector._domainkey.domain")
 * by DNS, within budget b: DKIM_KEY_FOUND with its whole text in *record
 * (caller frees), DKIM_KEY_NOTFOUND (NXDOMAIN, no TXT),
 * DKIM_KEY_MULTIPLE, or DKIM_KEY_TEMPFAIL with b->fail saying why (a
 * malformed answer counts as DNS_FAIL_MALFORMED). Shared with arc.c.
 */
enum dkim_key_status dkim_key_dns(const char *name, char **record, struct dns_budget *b);

/* pm_dkim_result_name - "pass", "fail", ... "none" (RFC 8601 spelling) */
const char *pm_dkim_result_name(enum pm_dkim_result r);

/*
 * dkim_lib_shutdown - close the process's libopendkim handle, at exit
 * after every verifier is freed (final: the handle is made only once)
 */
void dkim_lib_shutdown(void);

#endif
