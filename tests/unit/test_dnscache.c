/*
 * test_dnscache - the shared DNS answer cache: TTLs (RFC 2181, 2308),
 * keys, expiry, eviction, flush, hostile answers, threads
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include <arpa/nameser.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "dnscache.h"

static long fake_now;

/* clock_fake - the test's clock */
static long clock_fake(void)
{
	return fake_now;
}

struct msg {
	unsigned char b[70000];
	int len;
};

static void put16(struct msg *m, unsigned v)
{
	m->b[m->len++] = (unsigned char)(v >> 8);
	m->b[m->len++] = (unsigned char)v;
}

static void put32(struct msg *m, unsigned long v)
{
	put16(m, (unsigned)(v >> 16));
	put16(m, (unsigned)(v & 0xffff));
}

static void put_name(struct msg *m, const char *name)
{
	const char *p = name;

	while (*p != '\0') {
		const char *dot = strchr(p, '.');
		size_t n = dot != NULL ? (size_t)(dot - p) : strlen(p);

		m->b[m->len++] = (unsigned char)n;
		memcpy(m->b + m->len, p, n);
		m->len += (int)n;
		p += n;
		if (*p == '.')
			p++;
	}
	m->b[m->len++] = 0;
}

/* header - id, flags (rcode), one question for name/type, an and ns counts */
static void header(struct msg *m, const char *name, int type, unsigned rcode, unsigned an,
                   unsigned ns)
{
	m->len = 0;
	put16(m, 0x1234);
	put16(m, 0x8180 | rcode);
	put16(m, 1);
	put16(m, an);
	put16(m, ns);
	put16(m, 0);
	put_name(m, name);
	put16(m, (unsigned)type);
	put16(m, ns_c_in);
}

/* rr_a - an A record for the question's name (compressed pointer) with ttl */
static void rr_a(struct msg *m, unsigned long ttl)
{
	put16(m, 0xc00c);
	put16(m, ns_t_a);
	put16(m, ns_c_in);
	put32(m, ttl);
	put16(m, 4);
	put32(m, 0xc0000201UL);
}

/* rr_soa - a SOA in the authority section with ttl and minimum */
static void rr_soa(struct msg *m, unsigned long ttl, unsigned long minimum)
{
	int rdlen_at;

	put_name(m, "test");
	put16(m, ns_t_soa);
	put16(m, ns_c_in);
	put32(m, ttl);
	rdlen_at = m->len;
	put16(m, 0);
	put_name(m, "ns.test");
	put_name(m, "hostmaster.test");
	put32(m, 1);
	put32(m, 3600);
	put32(m, 600);
	put32(m, 86400);
	put32(m, minimum);
	m->b[rdlen_at] = (unsigned char)((m->len - rdlen_at - 2) >> 8);
	m->b[rdlen_at + 1] = (unsigned char)(m->len - rdlen_at - 2);
}

static int setup(void **state)
{
	(void)state;
	fake_now = 1000;
	dnscache_set_clock(clock_fake);
	dnscache_flush();
	return 0;
}

/* test_ttl_answers - the smallest answer TTL, capped; top bit means 0 */
static void test_ttl_answers(void **state)
{
	static struct msg m;

	(void)state;
	header(&m, "a.test", ns_t_a, 0, 2, 0);
	rr_a(&m, 300);
	rr_a(&m, 100);
	assert_int_equal(dnscache_ttl(DNS_OK, m.b, m.len), 100);
	header(&m, "a.test", ns_t_a, 0, 1, 0);
	rr_a(&m, 999999);
	assert_int_equal(dnscache_ttl(DNS_OK, m.b, m.len), DNSCACHE_MAX_TTL);
	header(&m, "a.test", ns_t_a, 0, 1, 0);
	rr_a(&m, 0x80000000UL);
	assert_int_equal(dnscache_ttl(DNS_OK, m.b, m.len), 0);
	header(&m, "a.test", ns_t_a, 0, 1, 0);
	rr_a(&m, 0);
	assert_int_equal(dnscache_ttl(DNS_OK, m.b, m.len), 0);
	/* a truncated answer: nothing to trust, not cached */
	header(&m, "a.test", ns_t_a, 0, 1, 0);
	rr_a(&m, 300);
	assert_int_equal(dnscache_ttl(DNS_OK, m.b, m.len - 8), 0);
	assert_int_equal(dnscache_ttl(DNS_OK, m.b, 5), 0);
}

/* test_ttl_negative - RFC 2308: min(SOA TTL, MINIMUM); 60 s without SOA; tempfail 2 s */
static void test_ttl_negative(void **state)
{
	static struct msg m;

	(void)state;
	header(&m, "gone.test", ns_t_a, 3, 0, 1);
	rr_soa(&m, 900, 300);
	assert_int_equal(dnscache_ttl(DNS_NXDOMAIN, m.b, m.len), 300);
	header(&m, "gone.test", ns_t_a, 3, 0, 1);
	rr_soa(&m, 120, 300);
	assert_int_equal(dnscache_ttl(DNS_NXDOMAIN, m.b, m.len), 120);
	header(&m, "gone.test", ns_t_mx, 0, 0, 1);
	rr_soa(&m, 86400, 86400);
	assert_int_equal(dnscache_ttl(DNS_NODATA, m.b, m.len), DNSCACHE_MAX_TTL);
	header(&m, "gone.test", ns_t_a, 3, 0, 0);
	assert_int_equal(dnscache_ttl(DNS_NXDOMAIN, m.b, m.len), DNSCACHE_NEG_TTL);
	assert_int_equal(dnscache_ttl(DNS_NXDOMAIN, NULL, 0), DNSCACHE_NEG_TTL);
	assert_int_equal(dnscache_ttl(DNS_TEMPFAIL, NULL, 0), DNSCACHE_TEMPFAIL_TTL);
}

/* test_roundtrip - an answer comes back byte for byte; keys ignore case and a trailing dot */
static void test_roundtrip(void **state)
{
	static struct msg m;
	static unsigned char buf[65536];
	int len = 0;
	enum dns_status st = DNS_TEMPFAIL;

	(void)state;
	header(&m, "Mail.Example.test", ns_t_a, 0, 1, 0);
	rr_a(&m, 60);
	assert_false(dnscache_get("mail.example.test", ns_t_a, buf, sizeof(buf), &len, &st));
	dnscache_put("Mail.Example.test", ns_t_a, DNS_OK, m.b, m.len);
	assert_true(dnscache_get("mail.example.TEST.", ns_t_a, buf, sizeof(buf), &len, &st));
	assert_int_equal(st, DNS_OK);
	assert_int_equal(len, m.len);
	assert_memory_equal(buf, m.b, (size_t)m.len);
	/* another type is another key */
	assert_false(dnscache_get("mail.example.test", ns_t_aaaa, buf, sizeof(buf), &len, &st));
	/* a buffer too small for it: a miss, never a cut answer */
	assert_false(dnscache_get("mail.example.test", ns_t_a, buf, (size_t)m.len - 1, &len, &st));
	/* negative and temporary results carry no answer */
	dnscache_put("nx.test", ns_t_mx, DNS_NXDOMAIN, NULL, 0);
	assert_true(dnscache_get("nx.test", ns_t_mx, buf, sizeof(buf), &len, &st));
	assert_int_equal(st, DNS_NXDOMAIN);
	dnscache_put("slow.test", ns_t_txt, DNS_TEMPFAIL, NULL, 0);
	assert_true(dnscache_get("slow.test", ns_t_txt, buf, sizeof(buf), &len, &st));
	assert_int_equal(st, DNS_TEMPFAIL);
	/* a newer result replaces the older one */
	dnscache_put("slow.test", ns_t_txt, DNS_NODATA, NULL, 0);
	assert_true(dnscache_get("slow.test", ns_t_txt, buf, sizeof(buf), &len, &st));
	assert_int_equal(st, DNS_NODATA);
}

/* test_expiry - an entry lives exactly its TTL */
static void test_expiry(void **state)
{
	static struct msg m;
	static unsigned char buf[65536];
	int len;
	enum dns_status st;
	struct dnscache_stats s;

	(void)state;
	header(&m, "ttl.test", ns_t_a, 0, 1, 0);
	rr_a(&m, 30);
	dnscache_put("ttl.test", ns_t_a, DNS_OK, m.b, m.len);
	dnscache_put("down.test", ns_t_a, DNS_TEMPFAIL, NULL, 0);
	fake_now += 1;
	assert_true(dnscache_get("down.test", ns_t_a, buf, sizeof(buf), &len, &st));
	fake_now += 1; /* 2 s: a temporary failure is asked again */
	assert_false(dnscache_get("down.test", ns_t_a, buf, sizeof(buf), &len, &st));
	fake_now += 27; /* 29 s */
	assert_true(dnscache_get("ttl.test", ns_t_a, buf, sizeof(buf), &len, &st));
	fake_now += 1; /* 30 s */
	assert_false(dnscache_get("ttl.test", ns_t_a, buf, sizeof(buf), &len, &st));
	dnscache_stats(&s);
	assert_int_equal(s.entries, 0);
	assert_int_equal(s.bytes, 0);
	/* a TTL of 0 is never kept */
	header(&m, "zero.test", ns_t_a, 0, 1, 0);
	rr_a(&m, 0);
	dnscache_put("zero.test", ns_t_a, DNS_OK, m.b, m.len);
	assert_false(dnscache_get("zero.test", ns_t_a, buf, sizeof(buf), &len, &st));
}

/* test_limits - oversized answers are not kept; the least recently used goes first */
static void test_limits(void **state)
{
	static struct msg m;
	static unsigned char buf[65536];
	char name[64];
	int len, i;
	enum dns_status st;
	struct dnscache_stats s;

	(void)state;
	header(&m, "big.test", ns_t_txt, 0, 1, 0);
	rr_a(&m, 60);
	m.len = DNSCACHE_MAX_ANSWER + 1;
	dnscache_put("big.test", ns_t_txt, DNS_OK, m.b, m.len);
	assert_false(dnscache_get("big.test", ns_t_txt, buf, sizeof(buf), &len, &st));

	for (i = 0; i < DNSCACHE_MAX_ENTRIES + 10; i++) {
		snprintf(name, sizeof(name), "n%d.test", i);
		dnscache_put(name, ns_t_a, DNS_NXDOMAIN, NULL, 0);
		if (i == DNSCACHE_MAX_ENTRIES -
		             1) /* n0 used again before the table is full: n1.. go first */
			assert_true(dnscache_get("n0.test", ns_t_a, buf, sizeof(buf), &len, &st));
	}
	dnscache_stats(&s);
	assert_int_equal(s.entries, DNSCACHE_MAX_ENTRIES);
	assert_int_equal(s.evictions, 10);
	assert_true(dnscache_get("n0.test", ns_t_a, buf, sizeof(buf), &len, &st));
	assert_false(dnscache_get("n1.test", ns_t_a, buf, sizeof(buf), &len, &st));
	assert_false(dnscache_get("n10.test", ns_t_a, buf, sizeof(buf), &len, &st));
	assert_true(dnscache_get("n11.test", ns_t_a, buf, sizeof(buf), &len, &st));
	snprintf(name, sizeof(name), "n%d.test", DNSCACHE_MAX_ENTRIES + 9);
	assert_true(dnscache_get(name, ns_t_a, buf, sizeof(buf), &len, &st));
	dnscache_flush();
	dnscache_stats(&s);
	assert_int_equal(s.entries, 0);
	assert_false(dnscache_get("n0.test", ns_t_a, buf, sizeof(buf), &len, &st));
	/* names the cache cannot key are simply not cached */
	memset(name, 'a', sizeof(name));
	name[sizeof(name) - 1] = '\0';
	dnscache_put("", ns_t_a, DNS_NXDOMAIN, NULL, 0);
	dnscache_put(".", ns_t_a, DNS_NXDOMAIN, NULL, 0);
	assert_false(dnscache_get("", ns_t_a, buf, sizeof(buf), &len, &st));
}

/* test_hostile - random answers never crash the TTL reader, and it stays in range */
static void test_hostile(void **state)
{
	static unsigned char b[600];
	unsigned seed = 7;
	int i, j;

	(void)state;
	for (i = 0; i < 200000; i++) {
		int len = (int)(rand_r(&seed) % sizeof(b));
		long ttl;

		for (j = 0; j < len; j++)
			b[j] = (unsigned char)rand_r(&seed);
		if (len > 12) { /* plausible counts, so the record loop runs */
			b[4] = 0;
			b[5] = 1;
			b[6] = 0;
			b[7] = (unsigned char)(rand_r(&seed) % 4);
			b[8] = 0;
			b[9] = (unsigned char)(rand_r(&seed) % 2);
		}
		ttl = dnscache_ttl((enum dns_status)(i % 4), b, len);
		assert_true(ttl >= 0 && ttl <= DNSCACHE_MAX_TTL);
	}
}

struct worker {
	unsigned seed;
	unsigned long gets, hits;
};

/* worker - many threads putting and getting the same small set of names */
static void *worker(void *arg)
{
	struct worker *w = arg;
	static const unsigned char answer[40] = {0x12, 0x34, 0x81, 0x80};
	unsigned char buf[64];
	char name[32];
	int i, len;
	enum dns_status st;

	for (i = 0; i < 50000; i++) {
		unsigned n = (unsigned)rand_r(&w->seed) % 300;

		snprintf(name, sizeof(name), "t%u.test", n);
		if (rand_r(&w->seed) % 3 == 0) {
			dnscache_put(name, ns_t_a, n % 2 ? DNS_NXDOMAIN : DNS_TEMPFAIL, answer, 40);
		} else {
			w->gets++;
			if (dnscache_get(name, ns_t_a, buf, sizeof(buf), &len, &st)) {
				w->hits++;
				if (st != (n % 2 ? DNS_NXDOMAIN : DNS_TEMPFAIL))
					return "wrong status";
			}
		}
	}
	return NULL;
}

/* test_threads - eight threads at once: consistent answers and counts */
static void test_threads(void **state)
{
	pthread_t t[8];
	struct worker w[8];
	struct dnscache_stats s0, s1;
	unsigned long gets = 0, hits = 0;
	int i;

	(void)state;
	dnscache_stats(&s0);
	for (i = 0; i < 8; i++) {
		w[i] = (struct worker){.seed = (unsigned)i + 1};
		assert_int_equal(pthread_create(&t[i], NULL, worker, &w[i]), 0);
	}
	for (i = 0; i < 8; i++) {
		void *r;

		assert_int_equal(pthread_join(t[i], &r), 0);
		assert_null(r);
		gets += w[i].gets;
		hits += w[i].hits;
	}
	dnscache_stats(&s1);
	assert_int_equal(s1.hits - s0.hits, hits);
	assert_int_equal((s1.hits - s0.hits) + (s1.misses - s0.misses), gets);
	assert_true(hits > 0);
	assert_true(s1.entries <= 300);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test_setup(test_ttl_answers, setup),
	    cmocka_unit_test_setup(test_ttl_negative, setup),
	    cmocka_unit_test_setup(test_roundtrip, setup),
	    cmocka_unit_test_setup(test_expiry, setup),
	    cmocka_unit_test_setup(test_limits, setup),
	    cmocka_unit_test_setup(test_hostile, setup),
	    cmocka_unit_test_setup(test_threads, setup),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
