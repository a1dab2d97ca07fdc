/*
 * NAME
 *	dnscache - one in-process DNS answer cache (see dnscache.h)
 * DESCRIPTION
 *	A hash table of DNSCACHE_BUCKETS chains keyed by (lower-cased name
 *	without a trailing dot, type), and a doubly linked list in use order
 *	for eviction (most recent at the head). Expired entries are dropped
 *	when met by a lookup and when they reach the tail.
 */
#include <arpa/nameser.h>
#include <ctype.h>
#include <pthread.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>

#include "dnscache.h"
#include "util.h"

#define DNSCACHE_BUCKETS 16384 /* a power of two */
#define NAME_MAX_LEN     256

struct entry {
	struct entry *hnext;       /* hash chain */
	struct entry *prev, *next; /* use order */
	uint32_t hash;
	int type;
	enum dns_status st;
	long expires; /* clock seconds */
	int len;      /* answer bytes (DNS_OK only) */
	char name[NAME_MAX_LEN];
	unsigned char *msg;
};

static pthread_mutex_t lock = PTHREAD_MUTEX_INITIALIZER;
static struct entry *buckets[DNSCACHE_BUCKETS];
static struct entry *head, *tail;
static struct dnscache_stats stats;
static long (*clock_fn)(void);

/* mono_now - CLOCK_MONOTONIC seconds */
static long mono_now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (long)ts.tv_sec;
}

void dnscache_set_clock(long (*now)(void))
{
	clock_fn = now;
}

/* now - the cache's clock */
static long now(void)
{
	return clock_fn != NULL ? clock_fn() : mono_now();
}

/* key - the name as stored: lower case, no trailing dot; false when too long */
static bool key(const char *name, char *out)
{
	size_t n = strlen(name), i;

	if (n > 0 && name[n - 1] == '.')
		n--;
	if (n == 0 || n >= NAME_MAX_LEN)
		return false;
	for (i = 0; i < n; i++)
		out[i] = (char)tolower((unsigned char)name[i]);
	out[n] = '\0';
	return true;
}

/* hash_of - FNV-1a over the key and the type */
static uint32_t hash_of(const char *k, int type)
{
	uint32_t h = 2166136261u;

	for (; *k != '\0'; k++) {
		h ^= (unsigned char)*k;
		h *= 16777619u;
	}
	h ^= (uint32_t)type;
	h *= 16777619u;
	return h;
}

/* unlink_use - take e out of the use list */
static void unlink_use(struct entry *e)
{
	if (e->prev != NULL)
		e->prev->next = e->next;
	else
		head = e->next;
	if (e->next != NULL)
		e->next->prev = e->prev;
	else
		tail = e->prev;
	e->prev = e->next = NULL;
}

/* push_use - put e at the head of the use list */
static void push_use(struct entry *e)
{
	e->prev = NULL;
	e->next = head;
	if (head != NULL)
		head->prev = e;
	head = e;
	if (tail == NULL)
		tail = e;
}

/* drop - remove e from everything and free it */
static void drop(struct entry *e)
{
	struct entry **pp = &buckets[e->hash & (DNSCACHE_BUCKETS - 1)];

	while (*pp != NULL && *pp != e)
		pp = &(*pp)->hnext;
	if (*pp == e)
		*pp = e->hnext;
	unlink_use(e);
	stats.entries--;
	stats.bytes -= (unsigned long)e->len;
	free(e->msg);
	free(e);
}

/* find - the entry for k and type, or NULL */
static struct entry *find(const char *k, int type, uint32_t h)
{
	struct entry *e;

	for (e = buckets[h & (DNSCACHE_BUCKETS - 1)]; e != NULL; e = e->hnext)
		if (e->hash == h && e->type == type && strcmp(e->name, k) == 0)
			return e;
	return NULL;
}

bool dnscache_get(const char *name, int type, unsigned char *buf, size_t size, int *len,
                  enum dns_status *st)
{
	char k[NAME_MAX_LEN];
	uint32_t h;
	struct entry *e;
	bool hit = false;

	if (!key(name, k))
		return false;
	h = hash_of(k, type);
	pthread_mutex_lock(&lock);
	e = find(k, type, h);
	if (e != NULL && e->expires <= now()) {
		drop(e);
		e = NULL;
	}
	if (e != NULL && (e->msg == NULL || (size_t)e->len <= size)) {
		if (e->msg != NULL) {
			memcpy(buf, e->msg, (size_t)e->len);
			*len = e->len;
		} else {
			*len = 0;
		}
		*st = e->st;
		unlink_use(e);
		push_use(e);
		hit = true;
		stats.hits++;
	} else {
		stats.misses++;
	}
	pthread_mutex_unlock(&lock);
	return hit;
}

/* get16, get32 - network-order integers */
static unsigned get16(const unsigned char *p)
{
	return (unsigned)p[0] << 8 | p[1];
}

static unsigned long get32(const unsigned char *p)
{
	return (unsigned long)p[0] << 24 | (unsigned long)p[1] << 16 | (unsigned long)p[2] << 8 |
	       p[3];
}

/* skip_name - the offset after the (possibly compressed) name at off, or -1 */
static int skip_name(const unsigned char *msg, int len, int off)
{
	while (off < len) {
		unsigned c = msg[off];

		if (c == 0)
			return off + 1;
		if ((c & 0xc0) == 0xc0)
			return off + 2 <= len ? off + 2 : -1;
		if ((c & 0xc0) != 0)
			return -1;
		off += 1 + (int)c;
	}
	return -1;
}

long dnscache_ttl(enum dns_status st, const unsigned char *msg, int len)
{
	unsigned qd, an, ns, i;
	int off;
	long ttl = -1;

	if (st == DNS_TEMPFAIL)
		return DNSCACHE_TEMPFAIL_TTL;
	if (msg == NULL || len < HFIXEDSZ)
		return st == DNS_OK ? 0 : DNSCACHE_NEG_TTL;
	qd = get16(msg + 4);
	an = get16(msg + 6);
	ns = get16(msg + 8);
	off = HFIXEDSZ;
	for (i = 0; i < qd; i++) {
		off = skip_name(msg, len, off);
		if (off < 0 || off + 4 > len)
			return st == DNS_OK ? 0 : DNSCACHE_NEG_TTL;
		off += 4;
	}
	/* answer records (DNS_OK), then authority records (the SOA of a negative answer) */
	for (i = 0; i < an + ns; i++) {
		unsigned type, rdlen;
		unsigned long rttl;

		off = skip_name(msg, len, off);
		if (off < 0 || off + 10 > len)
			break;
		type = get16(msg + off);
		rttl = get32(msg + off + 4);
		rdlen = get16(msg + off + 8);
		off += 10;
		if (off + (int)rdlen > len)
			break;
		if (rttl > 0x7fffffffUL) /* RFC 2181 8: the top bit set means 0 */
			rttl = 0;
		if (i < an && st == DNS_OK) {
			if (ttl < 0 || (long)rttl < ttl)
				ttl = (long)rttl;
		} else if (i >= an && st != DNS_OK && type == ns_t_soa) {
			/* RFC 2308 5: the smaller of the SOA's TTL and its MINIMUM */
			int r = skip_name(msg, len, off); /* MNAME */
			long neg = (long)rttl;

			if (r > 0)
				r = skip_name(msg, len, r); /* RNAME */
			if (r > 0 && r + 20 <= off + (int)rdlen && (long)get32(msg + r + 16) < neg)
				neg = (long)get32(msg + r + 16);
			ttl = neg;
			break;
		}
		off += (int)rdlen;
	}
	if (ttl < 0)
		ttl = st == DNS_OK ? 0 : DNSCACHE_NEG_TTL;
	return ttl > DNSCACHE_MAX_TTL ? DNSCACHE_MAX_TTL : ttl;
}

void dnscache_put(const char *name, int type, enum dns_status st, const unsigned char *msg, int len)
{
	char k[NAME_MAX_LEN];
	uint32_t h;
	struct entry *e;
	long ttl;

	if (!key(name, k))
		return;
	if (st == DNS_OK && (msg == NULL || len <= 0 || len > DNSCACHE_MAX_ANSWER))
		return;
	ttl = dnscache_ttl(st, msg, len);
	if (ttl <= 0)
		return;
	h = hash_of(k, type);
	e = xcalloc(1, sizeof(*e));
	e->hash = h;
	e->type = type;
	e->st = st;
	memcpy(e->name, k, strlen(k) + 1);
	if (st == DNS_OK ||
	    (st == DNS_TEMPFAIL && msg != NULL && len > 0 && len <= DNSCACHE_FAIL_NOTE_MAX)) {
		e->msg = xmalloc((size_t)len);
		memcpy(e->msg, msg, (size_t)len);
		e->len = len;
	}
	pthread_mutex_lock(&lock);
	e->expires = now() + ttl;
	{
		struct entry *old = find(k, type, h);

		if (old != NULL)
			drop(old);
	}
	while (tail != NULL &&
	       (stats.entries >= DNSCACHE_MAX_ENTRIES ||
	        stats.bytes + (unsigned long)e->len > (unsigned long)DNSCACHE_MAX_BYTES)) {
		drop(tail);
		stats.evictions++;
	}
	e->hnext = buckets[h & (DNSCACHE_BUCKETS - 1)];
	buckets[h & (DNSCACHE_BUCKETS - 1)] = e;
	push_use(e);
	stats.entries++;
	stats.bytes += (unsigned long)e->len;
	stats.inserts++;
	pthread_mutex_unlock(&lock);
}

void dnscache_flush(void)
{
	struct entry *e, *next;

	pthread_mutex_lock(&lock);
	for (e = head; e != NULL; e = next) {
		next = e->next;
		drop(e);
	}
	pthread_mutex_unlock(&lock);
}

void dnscache_stats(struct dnscache_stats *s)
{
	pthread_mutex_lock(&lock);
	*s = stats;
	pthread_mutex_unlock(&lock);
}
