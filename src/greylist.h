/*
 * NAME
 *	greylist 3h - greylisting (RFC 6647): the triplet, who is skipped,
 *	and the check against the state store
 * SYNOPSIS
 *	#include "greylist.h"
 * DESCRIPTION
 *	At RCPT, for a recipient every other check lets through, the
 *	milter (session.c) asks greylist_skip() whether greylisting applies
 *	at all, builds the triplet (client network, normalised sender,
 *	normalised recipient) and asks greylist_check(), which reads and
 *	writes the store (store.h). verdict.c decides from the state.
 *
 *	Normalisation (greylist_normalise, also the rate limits' sender
 *	and recipient): lower-cased; a BATV address (prvs=TAG=local@domain,
 *	msprvs1=TAG=local@domain, any case) becomes local@domain; an SRS
 *	address (SRS0=HASH=TT=domain=local@fwd, SRS1=HASH=fwd==HASH=TT=
 *	domain=local@fwd2; the first separator '=', '+' or '-') becomes
 *	local@domain; then a +detail (any of the separators given, from
 *	the first one in the local part) is dropped. The null sender is "".
 *
 *	Records: the triplet "gl:t:NET:SENDER:RCPT" holds "FIRST PASS
 *	REFRESH" (seconds since the epoch; PASS 0 until it passed): written
 *	at the first sight (ttl retry_window), at the pass and when a
 *	known triplet is refreshed (ttl lifetime; at most once a day). The
 *	client network's counter "gl:n:NET" counts the triplets it passed
 *	(ttl lifetime from its first pass); from auto_allow_after on the
 *	network is let through without a triplet lookup (state auto).
 *	Key parts are escaped (greylist_key_escape) so a key is printable
 *	ASCII without spaces or ':' inside a part; a key that would be
 *	longer than STORE_KEY_MAX has its overlong part replaced by
 *	"#" and a 64-bit hash of it.
 */
#ifndef PM_GREYLIST_H
#define PM_GREYLIST_H

#include <stdbool.h>
#include <stddef.h>
#include <time.h>

#include "cidr.h"
#include "policy.h"
#include "store.h"

/* An address, normalised: local part, '@', domain, NUL. */
#define GL_ADDR_MAX 520
/* A client network: "2001:db8:1:2::/64". */
#define GL_NET_MAX 56

/* The outcome of greylisting for one recipient (JSON and syslog spelling: greylist_state_name). */
enum greylist_state {
	GL_NONE = 0, /* not looked at (greylisting off, or the recipient refused before) */
	GL_SKIPPED,  /* not greylisted (greylist_skip says why); no store access */
	GL_NEW,      /* first seen (or seen too long ago): refused, retry after delay */
	GL_EARLY,    /* seen, the delay not over: refused */
	GL_PASSED,   /* the first retry after the delay within the window: through */
	GL_KNOWN,    /* passed before: through */
	GL_AUTO,     /* the client network passed auto_allow_after triplets: through */
	GL_ERROR,    /* the store failed (state.on_failure decides) */
};

/* greylist_state_name - "new", "early", ...; NULL for GL_NONE */
const char *greylist_state_name(enum greylist_state st);

/* greylist_refuses - is st one greylisting refuses (new, early)? */
static inline bool greylist_refuses(enum greylist_state st)
{
	return st == GL_NEW || st == GL_EARLY;
}

/*
 * greylist_normalise - the address in (len bytes, "local@domain", ""
 * for the null sender) normalised into out (outsize bytes, always
 * NUL-terminated); separators: the detail separators (NULL or "":
 * none). Never reads past len. Returns the length written, or (size_t)-1
 * when it does not fit (out is then "")
 */
size_t greylist_normalise(const char *in, size_t len, const char *separators, char *out,
                          size_t outsize);

/*
 * greylist_network - the network of ip with the prefix of its family
 * ("192.0.2.0/24", "2001:db8::/64") into out; -1 for no address
 */
int greylist_network(const struct pm_ip *ip, int v4prefix, int v6prefix, char *out, size_t outsize);

/* What greylist_skip judges. */
struct greylist_subject {
	bool trusted;              /* trusted_networks */
	bool authenticated;        /* SMTP AUTH */
	bool allowed;              /* an allow list in force (client, client_name, helo, sender) */
	bool always_valid;         /* RCPT_ALWAYS_VALID: postmaster, abuse */
	const struct pm_ip *ip;    /* the client (AF_UNSPEC: none) */
	const char *verified_name; /* forward-confirmed client name, or NULL */
	const char *sender_domain; /* MAIL FROM domain (NULL: null sender) */
	bool spf_pass;             /* MAIL FROM SPF passed */
	const char *rcpt;          /* the recipient, lower-cased "local@domain" (detail stripped) */
	const char *rcpt_domain;   /* its domain, or NULL */
};

/*
 * greylist_skip - NULL when greylisting applies to s, else why not
 * (static): "trusted", "authenticated", "allowed", "postmaster"
 * (RCPT_ALWAYS_VALID), "no_address", "exempt_client",
 * "exempt_recipient", "large_sender"
 */
const char *greylist_skip(const struct greylist_settings *gs, const struct greylist_subject *s);

/* A triplet, each part normalised. */
struct greylist_triplet {
	char network[GL_NET_MAX];
	char sender[GL_ADDR_MAX];
	char rcpt[GL_ADDR_MAX];
};

/*
 * greylist_key_escape - append part to key (size bytes, NUL-terminated,
 * *len its length) escaped: bytes outside '!'..'~', '%' and ':' as %HH.
 * Returns -1 (key unchanged) when it does not fit.
 */
int greylist_key_escape(char *key, size_t size, size_t *len, const char *part);

/*
 * greylist_key_part - append ":" and part escaped, or, when that would
 * not leave room for reserve more bytes, ":#" and part's 64-bit hash in
 * hex; -1 when not even that fits
 */
int greylist_key_part(char *key, size_t size, size_t *len, const char *part, size_t reserve);

/* greylist_key - "gl:t:NET:SENDER:RCPT" into key (at most STORE_KEY_MAX bytes); -1 on error */
int greylist_key(const struct greylist_triplet *t, char *key, size_t size);
/* greylist_net_key - "gl:n:NET" */
int greylist_net_key(const char *network, char *key, size_t size);

/* What greylist_check found. */
struct greylist_result {
	enum greylist_state state;
	long age;      /* seconds since the triplet was first seen; -1: not known */
	long retry_in; /* new, early: seconds until a retry passes; else -1 */
};

/*
 * greylist_check - the state of triplet t at time now, and the records
 * written for it (see DESCRIPTION); store failures give GL_ERROR
 */
void greylist_check(struct store *st, const struct greylist_settings *gs,
                    const struct greylist_triplet *t, time_t now, struct greylist_result *r);

#endif
