/*
 * NAME
 *	greylist 3 - greylisting: normalisation, skip decision, keys, the
 *	check against the state store
 * SYNOPSIS
 *	#include "greylist.h"
 *
 *	size_t greylist_normalise(const char *in, size_t len,
 *		const char *separators, char *out, size_t outsize);
 *	int greylist_network(const struct pm_ip *ip, int v4prefix,
 *		int v6prefix, char *out, size_t outsize);
 *	const char *greylist_skip(const struct greylist_settings *gs,
 *		const struct greylist_subject *s);
 *	int greylist_key(const struct greylist_triplet *t, char *key,
 *		size_t size);
 *	void greylist_check(struct store *st,
 *		const struct greylist_settings *gs,
 *		const struct greylist_triplet *t, time_t now,
 *		struct greylist_result *r);
 * DESCRIPTION
 *	See greylist.h. Everything but greylist_check is pure.
 *	greylist_check makes at most four store operations: a read of the
 *	network counter (when auto_allow_after is set), the triplet's read,
 *	and for a new, passed or refreshed triplet its write (and the
 *	network counter's increment at a pass). A known triplet costs two
 *	reads (one without auto-allow).
 * DIAGNOSTICS
 *	None: a store failure is the state GL_ERROR (store.c logs outages).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/socket.h>

#include "greylist.h"
#include "util.h"

#define DAY         86400
#define HASHED_PART 18 /* ":#" and 16 hex digits */

/* greylist_state_name - the state's name in logs and JSON */
const char *greylist_state_name(enum greylist_state st)
{
	switch (st) {
	case GL_SKIPPED:
		return "skipped";
	case GL_NEW:
		return "new";
	case GL_EARLY:
		return "early";
	case GL_PASSED:
		return "passed";
	case GL_KNOWN:
		return "known";
	case GL_AUTO:
		return "auto";
	case GL_ERROR:
		return "error";
	case GL_NONE:
	default:
		return NULL;
	}
}

/* prefix_is - does s (n bytes) start with prefix, ignoring case? */
static bool prefix_is(const char *s, size_t n, const char *prefix)
{
	size_t m = strlen(prefix);

	return n >= m && strncasecmp(s, prefix, m) == 0;
}

/* memchr_const - memchr on const data, as an index; n when absent */
static size_t find(const char *s, size_t n, char c)
{
	const char *p = memchr(s, c, n);

	return p != NULL ? (size_t)(p - s) : n;
}

/*
 * batv - a BATV local part (prvs=TAG=local, msprvs1=TAG=local): the
 * original local part's offset in loc (n bytes), or 0 when it is not one
 */
static size_t batv(const char *loc, size_t n)
{
	static const char *const prefixes[] = {"prvs=", "msprvs1="};

	for (size_t i = 0; i < PM_ARRAY_LEN(prefixes); i++) {
		size_t m = strlen(prefixes[i]), tag;

		if (!prefix_is(loc, n, prefixes[i]))
			continue;
		tag = find(loc + m, n - m, '=');
		/* a tag, then a non-empty local part */
		if (tag > 0 && m + tag + 1 < n)
			return m + tag + 1;
	}
	return 0;
}

/*
 * srs - an SRS local part: the original domain (*dom, *domlen) and local
 * part (*orig, *origlen) inside loc (n bytes); false when it is not one.
 * SRS0=HASH=TT=domain=local; SRS1=HASH=fwd==HASH=TT=domain=local (the
 * separator after SRS0/SRS1 may be '=', '+' or '-').
 */
static bool srs(const char *loc, size_t n, const char **dom, size_t *domlen, const char **orig,
                size_t *origlen)
{
	size_t i, k;
	bool one;

	if (n < 5 || strncasecmp(loc, "SRS", 3) != 0 || (loc[3] != '0' && loc[3] != '1') ||
	    (loc[4] != '=' && loc[4] != '+' && loc[4] != '-'))
		return false;
	one = loc[3] == '1';
	i = 5;
	if (one) {
		/* HASH=fwd= then the SRS0 part without "SRS0": =HASH=TT=domain=local */
		k = find(loc + i, n - i, '=');
		i += k + 1; /* past HASH= */
		if (i >= n)
			return false;
		k = find(loc + i, n - i, '=');
		i += k + 1; /* past fwd= */
		if (k == 0 || i >= n)
			return false;
		i++; /* the SRS0 separator */
		if (i >= n)
			return false;
	}
	/* HASH=TT=domain=local */
	for (int field = 0; field < 2; field++) {
		k = find(loc + i, n - i, '=');
		if (k == n - i)
			return false;
		i += k + 1;
	}
	k = find(loc + i, n - i, '=');
	if (k == 0 || k == n - i || i + k + 1 >= n)
		return false;
	*dom = loc + i;
	*domlen = k;
	*orig = loc + i + k + 1;
	*origlen = n - (i + k + 1);
	return true;
}

/* detail_cut - the length of loc (n bytes) before its first detail separator */
static size_t detail_cut(const char *loc, size_t n, const char *separators)
{
	if (separators == NULL || *separators == '\0')
		return n;
	for (size_t i = 0; i < n; i++)
		if (loc[i] != '\0' && strchr(separators, loc[i]) != NULL)
			return i > 0 ? i : n; /* a local part that starts with one keeps it */
	return n;
}

/* greylist_normalise - lower-cased, BATV and SRS undone, the detail dropped */
size_t greylist_normalise(const char *in, size_t len, const char *separators, char *out,
                          size_t outsize)
{
	const char *loc, *dom, *at = NULL;
	size_t loclen, domlen, off, need;

	if (out == NULL || outsize == 0)
		return (size_t)-1;
	out[0] = '\0';
	if (in == NULL)
		return 0;
	for (size_t i = 0; i < len; i++) {
		if (in[i] == '\0') {
			len = i;
			break;
		}
		if (in[i] == '@')
			at = in + i; /* the last '@' separates */
	}
	if (len == 0)
		return 0;
	if (at == NULL) {
		loc = in;
		loclen = len;
		dom = NULL;
		domlen = 0;
	} else {
		loc = in;
		loclen = (size_t)(at - in);
		dom = at + 1;
		domlen = len - loclen - 1;
	}
	off = batv(loc, loclen);
	loc += off;
	loclen -= off;
	{
		const char *sdom, *sloc;
		size_t sdomlen, sloclen;

		if (srs(loc, loclen, &sdom, &sdomlen, &sloc, &sloclen)) {
			dom = sdom;
			domlen = sdomlen;
			loc = sloc;
			loclen = sloclen;
			off = batv(loc, loclen);
			loc += off;
			loclen -= off;
		}
	}
	loclen = detail_cut(loc, loclen, separators);
	need = loclen + (dom != NULL ? domlen + 1 : 0);
	if (need + 1 > outsize)
		return (size_t)-1;
	memcpy(out, loc, loclen);
	if (dom != NULL) {
		out[loclen] = '@';
		memcpy(out + loclen + 1, dom, domlen);
	}
	out[need] = '\0';
	pm_strlower(out); /* no NUL inside: the input's first NUL ended it */
	return need;
}

/* greylist_network - "192.0.2.0/24" */
int greylist_network(const struct pm_ip *ip, int v4prefix, int v6prefix, char *out, size_t outsize)
{
	struct pm_ip net;
	char text[PM_IP_STRLEN];
	int bits, bytes;

	if (out != NULL && outsize > 0)
		out[0] = '\0';
	if (ip == NULL || out == NULL || (ip->family != AF_INET && ip->family != AF_INET6))
		return -1;
	net = *ip;
	bits = ip->family == AF_INET ? v4prefix : v6prefix;
	bytes = ip->family == AF_INET ? 4 : 16;
	if (bits < 0)
		bits = 0;
	if (bits > bytes * 8)
		bits = bytes * 8;
	for (int i = 0; i < 16; i++) {
		int keep = bits - i * 8;

		if (keep >= 8)
			continue;
		net.addr[i] &= keep <= 0 ? 0 : (unsigned char)(0xff << (8 - keep));
	}
	pm_ip_format(&net, text, sizeof(text));
	if ((size_t)snprintf(out, outsize, "%s/%d", text, bits) >= outsize) {
		out[0] = '\0';
		return -1;
	}
	return 0;
}

/*
 * large_sender - is name (one trailing dot ignored: "x.example." is
 * "x.example" in DNS) a large_senders entry or below one?
 */
static bool large_sender(const struct greylist_settings *gs, const char *name)
{
	char bare[256];
	size_t len = name != NULL ? strlen(name) : 0;

	if (len > 1 && len < sizeof(bare) && name[len - 1] == '.') {
		memcpy(bare, name, len - 1);
		bare[len - 1] = '\0';
		name = bare;
	}
	return domain_in_list(name, gs->large_senders, gs->nlarge_senders);
}

/* exempt_rcpt - is the recipient listed ("user@domain"), or its domain ("@domain")? */
static bool exempt_rcpt(const struct greylist_settings *gs, const char *rcpt, const char *domain)
{
	for (size_t i = 0; rcpt != NULL && i < gs->nexempt_recipients; i++) {
		const char *e = gs->exempt_recipients[i];

		if (e == NULL)
			continue;
		if (e[0] == '@' ? domain != NULL && strcasecmp(e + 1, domain) == 0
		                : strcasecmp(e, rcpt) == 0)
			return true;
	}
	return false;
}

/* greylist_skip - why greylisting does not apply, or NULL when it does */
const char *greylist_skip(const struct greylist_settings *gs, const struct greylist_subject *s)
{
	if (s->trusted)
		return "trusted";
	if (s->authenticated)
		return "authenticated";
	if (s->allowed)
		return "allowed";
	if (s->always_valid)
		return "postmaster";
	if (s->ip == NULL || (s->ip->family != AF_INET && s->ip->family != AF_INET6))
		return "no_address";
	if (pm_cidr_list_match(&gs->exempt_clients, s->ip) != NULL)
		return "exempt_client";
	if (exempt_rcpt(gs, s->rcpt, s->rcpt_domain))
		return "exempt_recipient";
	if (large_sender(gs, s->verified_name) ||
	    (s->spf_pass && large_sender(gs, s->sender_domain)))
		return "large_sender";
	return NULL;
}

/* greylist_key_escape - append part escaped (%HH for anything not plain printable, ':', '%') */
int greylist_key_escape(char *key, size_t size, size_t *len, const char *part)
{
	static const char hex[] = "0123456789ABCDEF";
	size_t n = *len;

	for (const unsigned char *p = (const unsigned char *)part; *p != '\0'; p++) {
		bool plain = *p > 0x20 && *p < 0x7f && *p != '%' && *p != ':';

		if (n + (plain ? 1 : 3) + 1 > size) {
			key[*len] = '\0';
			return -1;
		}
		if (plain) {
			key[n++] = (char)*p;
		} else {
			key[n++] = '%';
			key[n++] = hex[*p >> 4];
			key[n++] = hex[*p & 15];
		}
	}
	key[n] = '\0';
	*len = n;
	return 0;
}

/* greylist_key_part - ":PART" escaped, or ":#HASH" when that leaves less than reserve bytes */
int greylist_key_part(char *key, size_t size, size_t *len, const char *part, size_t reserve)
{
	size_t was = *len;
	char h[24];

	if (*len + 2 > size)
		return -1;
	key[(*len)++] = ':';
	key[*len] = '\0';
	if (greylist_key_escape(key, size, len, part) == 0 && *len + reserve < size)
		return 0;
	*len = was + 1;
	snprintf(h, sizeof(h), "#%016llx", (unsigned long long)pm_hash(part));
	if (*len + strlen(h) + 1 > size) {
		*len = was;
		key[was] = '\0';
		return -1;
	}
	memcpy(key + *len, h, strlen(h) + 1);
	*len += strlen(h);
	return 0;
}

/* greylist_key - "gl:t:NET:SENDER:RCPT" */
int greylist_key(const struct greylist_triplet *t, char *key, size_t size)
{
	size_t len;

	if (size > STORE_KEY_MAX + 1)
		size = STORE_KEY_MAX + 1;
	if (size < 5)
		return -1;
	memcpy(key, "gl:t", 5);
	len = 4;
	/* room for the parts after each one: at least a hashed part (18 bytes) each */
	if (greylist_key_part(key, size, &len, t->network, (size_t)2 * HASHED_PART) != 0 ||
	    greylist_key_part(key, size, &len, t->sender, HASHED_PART) != 0 ||
	    greylist_key_part(key, size, &len, t->rcpt, 0) != 0)
		return -1;
	return 0;
}

/* greylist_net_key - "gl:n:NET" */
int greylist_net_key(const char *network, char *key, size_t size)
{
	size_t len;

	if (size > STORE_KEY_MAX + 1)
		size = STORE_KEY_MAX + 1;
	if (size < 5)
		return -1;
	memcpy(key, "gl:n", 5);
	len = 4;
	return greylist_key_part(key, size, &len, network, 0);
}

/* parse_record - "FIRST PASS REFRESH"; false when it is not one */
static bool parse_record(const char *val, long long *first, long long *pass, long long *refresh)
{
	char *end;

	*first = strtoll(val, &end, 10);
	if (end == val || *end != ' ')
		return false;
	val = end + 1;
	*pass = strtoll(val, &end, 10);
	if (end == val || *end != ' ')
		return false;
	val = end + 1;
	*refresh = strtoll(val, &end, 10);
	return end != val && *end == '\0' && *first > 0 && *pass >= 0 && *refresh >= 0;
}

/* put_record - write the triplet's record */
static enum store_status put_record(struct store *st, const char *key, long long first,
                                    long long pass, long long refresh, int ttl)
{
	char val[80];

	snprintf(val, sizeof(val), "%lld %lld %lld", first, pass, refresh);
	return store_set(st, key, val, ttl > 0 ? (unsigned)ttl : 1u);
}

/* first_sight - a new triplet (or one seen too long ago): remember it from now */
static void first_sight(struct store *st, const struct greylist_settings *gs, const char *key,
                        time_t now, struct greylist_result *r)
{
	if (put_record(st, key, (long long)now, 0, (long long)now, gs->retry_window) != STORE_OK) {
		r->state = GL_ERROR;
		return;
	}
	r->state = GL_NEW;
	r->age = 0;
	r->retry_in = gs->delay;
}

/* greylist_check - the triplet's state, and its records brought up to date */
void greylist_check(struct store *st, const struct greylist_settings *gs,
                    const struct greylist_triplet *t, time_t now, struct greylist_result *r)
{
	char key[STORE_KEY_MAX + 1], netkey[STORE_KEY_MAX + 1], val[STORE_VALUE_MAX + 1];
	long long first, pass, refresh;
	enum store_status ss;

	r->state = GL_ERROR;
	r->age = -1;
	r->retry_in = -1;
	if (st == NULL || greylist_key(t, key, sizeof(key)) != 0 ||
	    greylist_net_key(t->network, netkey, sizeof(netkey)) != 0)
		return;
	if (gs->auto_allow_after > 0) {
		/* the counter as it stands (both backends keep a counter as decimal text) */
		ss = store_get(st, netkey, val, sizeof(val), NULL);
		if (ss == STORE_ERROR)
			return;
		if (ss == STORE_OK && strtol(val, NULL, 10) >= gs->auto_allow_after) {
			r->state = GL_AUTO;
			return;
		}
	}
	ss = store_get(st, key, val, sizeof(val), NULL);
	if (ss == STORE_ERROR)
		return;
	if (ss == STORE_NOTFOUND || !parse_record(val, &first, &pass, &refresh)) {
		first_sight(st, gs, key, now, r);
		return;
	}
	r->age = (long)((long long)now - first);
	if (r->age < 0)
		r->age = 0; /* clocks of several MX hosts disagree a little */
	if (pass > 0) {
		r->state = GL_KNOWN;
		if ((long long)now - refresh >= DAY)
			(void)put_record(st, key, first, pass, (long long)now, gs->lifetime);
		return;
	}
	if (r->age < gs->delay) {
		r->state = GL_EARLY;
		r->retry_in = gs->delay - r->age;
		return;
	}
	if (r->age > gs->retry_window) {
		first_sight(st, gs, key, now, r); /* retried too late: seen anew */
		return;
	}
	/* passed: the mail goes through even when the writes fail (it has waited) */
	r->state = GL_PASSED;
	(void)put_record(st, key, first, (long long)now, (long long)now, gs->lifetime);
	if (gs->auto_allow_after > 0)
		(void)store_add(st, netkey, 1, 0, gs->lifetime > 0 ? (unsigned)gs->lifetime : 1u,
		                NULL);
}
