/*
 * NAME
 *	dns - the milter's own DNS layer for every check
 * SYNOPSIS
 *	dns_budget_init(), dns_budget_ms_left(), dns_budget_query(),
 *	dns_budget_query_any(), dns_reply_free(), dns_fail_name()
 *	dns_name_ok(), dns_txt_join()
 *	dns_answer_open(), dns_answer_next(), dns_answer_count()
 *	dns_answer_status()
 * DESCRIPTION
 *	A pool of struct __res_state shared by all threads (res_ninit when
 *	first made, again after /etc/resolv.conf changed; looked at at most
 *	once a second), res_nmkquery and res_nsend (the RCODE
 *	read here, so that negative answers keep their SOA), behind the shared
 *	answer cache (dnscache.c), reached only through a struct dns_budget
 *	(the one deadline of an MTA command). Each query's answer is copied
 *	out of the cache or the resolver into the caller's struct dns_reply. Answers
 *	are read with the record
 *	iterator (dns_answer_*), the one place that walks an answer section
 *	(ns_initparse/ns_parserr).
 * DIAGNOSTICS
 *	Allocation failure aborts. Everything else is a dns_status.
 */
#include <arpa/inet.h>
#include <arpa/nameser.h>
#include <errno.h>
#include <netdb.h>
#include <netinet/in.h>
#include <pthread.h>
#include <resolv.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>

#include "dns.h"
#include "dnscache.h"
#include "metrics.h"
#include "util.h"

#define DNS_BUF_SIZE    65536
#define DNS_RESOLV_CONF "/etc/resolv.conf"

/*
 * The resolvers: a pool of struct __res_state shared by every thread.
 * libmilter's worker pool creates and ends threads all the time, so a
 * resolver per thread meant a res_ninit (resolv.conf read and parsed)
 * and a 64 KiB buffer for nearly every session; a resolver is now taken
 * from the pool for one query on a cache miss and given back. The pool
 * grows to the most queries in flight at once and stays (the process leaves by _exit).
 * /etc/resolv.conf is looked at (stat) at most once a second across all
 * threads: a change bumps the generation and each resolver is
 * initialised again when next taken.
 */
struct dns_thread {
	struct dns_thread *next; /* in the pool */
	struct __res_state res;
	bool ready;
	unsigned gen;    /* conf_gen when res was initialised */
	int def_retrans; /* resolv.conf's own timeout and attempts */
	int def_retry;
	bool shrunk;        /* the next query's timeouts were cut to fit a deadline */
	unsigned char *buf; /* DNS_BUF_SIZE bytes */
};

static pthread_mutex_t pool_lock = PTHREAD_MUTEX_INITIALIZER;
static struct dns_thread *pool;  /* idle resolvers */
static struct stat conf_st;      /* resolv.conf when conf_gen began */
static unsigned conf_gen;        /* bumped when resolv.conf changes */
static time_t conf_checked = -1; /* CLOCK_MONOTONIC seconds of the last stat */

/* conf_check - stat resolv.conf at most once a second; a change bumps conf_gen; locked */
static void conf_check(void)
{
	struct timespec now;
	struct stat st;

	clock_gettime(CLOCK_MONOTONIC, &now);
	if (conf_checked >= 0 && now.tv_sec == conf_checked)
		return;
	conf_checked = now.tv_sec;
	if (stat(DNS_RESOLV_CONF, &st) != 0)
		return; /* gone: keep what we have */
	if (st.st_ino != conf_st.st_ino || st.st_dev != conf_st.st_dev ||
	    st.st_mtim.tv_sec != conf_st.st_mtim.tv_sec ||
	    st.st_mtim.tv_nsec != conf_st.st_mtim.tv_nsec || st.st_size != conf_st.st_size) {
		conf_st = st;
		conf_gen++;
	}
}

/* dns_thread_get - a resolver from the pool, (re)initialised as needed; NULL if res_ninit fails */
static struct dns_thread *dns_thread_get(void)
{
	struct dns_thread *t;
	unsigned gen;

	pthread_mutex_lock(&pool_lock);
	conf_check();
	gen = conf_gen;
	t = pool;
	if (t != NULL)
		pool = t->next;
	pthread_mutex_unlock(&pool_lock);
	if (t == NULL) {
		t = xcalloc(1, sizeof(*t));
		t->buf = xmalloc(DNS_BUF_SIZE);
	}
	if (t->ready && t->gen != gen) {
		res_nclose(&t->res);
		t->ready = false;
	}
	if (!t->ready) {
		memset(&t->res, 0, sizeof(t->res));
		if (res_ninit(&t->res) != 0) {
			free(t->buf);
			free(t);
			return NULL;
		}
		t->res.options |= RES_USE_EDNS0;
		t->def_retrans = t->res.retrans;
		t->def_retry = t->res.retry;
		t->gen = gen;
		t->ready = true;
	}
	return t;
}

/* dns_thread_put - give a resolver back to the pool */
static void dns_thread_put(struct dns_thread *t)
{
	pthread_mutex_lock(&pool_lock);
	t->next = pool;
	pool = t;
	pthread_mutex_unlock(&pool_lock);
}

/* deadline_in - *deadline = now + seconds (CLOCK_MONOTONIC) */
static void deadline_in(struct timespec *deadline, int seconds)
{
	clock_gettime(CLOCK_MONOTONIC, deadline);
	deadline->tv_sec += seconds;
}

/* us_since - microseconds since t (CLOCK_MONOTONIC) */
static long us_since(const struct timespec *t)
{
	struct timespec now;

	clock_gettime(CLOCK_MONOTONIC, &now);
	return (long)(now.tv_sec - t->tv_sec) * 1000000L + (now.tv_nsec - t->tv_nsec) / 1000;
}

/* ms_since - milliseconds from t0 (CLOCK_MONOTONIC) to now */
static long ms_since(const struct timespec *t0)
{
	struct timespec now;

	clock_gettime(CLOCK_MONOTONIC, &now);
	return (long)(now.tv_sec - t0->tv_sec) * 1000 + (now.tv_nsec - t0->tv_nsec) / 1000000;
}

void dns_budget_init(struct dns_budget *b, int dns_timeout, int seconds)
{
	memset(b, 0, sizeof(*b));
	b->dns_timeout = dns_timeout > 0 ? dns_timeout : 0;
	b->seconds = seconds > 0 ? seconds : 20;
	deadline_in(&b->deadline, b->seconds);
}

long dns_budget_ms_left(const struct dns_budget *b)
{
	long ms = -ms_since(&b->deadline);

	return ms > 0 ? ms : 0;
}

/*
 * set_timeouts - retrans/retry for the next query: timeout seconds per
 * attempt (0: resolv.conf's), shrunk so that the worst case (every
 * server silent on every attempt) stays within left_ms when left_ms >= 0.
 */
static void set_timeouts(struct dns_thread *t, int timeout, long left_ms)
{
	int retrans = timeout > 0 ? timeout : t->def_retrans;
	int retry = t->def_retry > 0 ? t->def_retry : 2;
	int ns = t->res.nscount > 0 ? t->res.nscount : 1;
	int full_retrans, full_retry;

	if (retry > 2)
		retry = 2;
	full_retrans = retrans;
	full_retry = retry;
	if (left_ms >= 0) {
		long left = left_ms / 1000;

		/* glibc waits retrans on each server in the first round, then
		   (retrans << try) / nscount: about ns * retrans per round */
		while (retry > 1 && (long)retrans * ns * retry > left)
			retry--;
		if ((long)retrans * ns * retry > left)
			retrans = (int)(left / ns);
	}
	if (retrans < 1)
		retrans = 1;
	t->shrunk = retrans < full_retrans || retry < full_retry;
	t->res.retrans = retrans;
	t->res.retry = retry;
}

/*
 * name_ok - labels 1..63 bytes, at most 253 in all (a trailing dot aside);
 * strict: no spaces, controls or DEL either. A backslash is never sent
 * (res_nquery would read it as an escape).
 */
static bool name_ok(const char *name, bool strict)
{
	size_t total, label = 0;
	const unsigned char *p;

	if (name == NULL || name[0] == '\0')
		return false;
	total = strlen(name);
	if (name[total - 1] == '.')
		total--;
	if (total == 0 || total > 253)
		return false;
	for (p = (const unsigned char *)name; p < (const unsigned char *)name + total; p++) {
		if (*p == '\\' || (strict && (*p < 0x21 || *p == 0x7f)))
			return false;
		if (*p == '.') {
			if (label == 0)
				return false;
			label = 0;
		} else if (++label > 63) {
			return false;
		}
	}
	return label > 0;
}

bool dns_name_ok(const char *name)
{
	return name_ok(name, true);
}

char *dns_txt_join(const unsigned char *rdata, size_t rdlen)
{
	return dns_txt_join_len(rdata, rdlen, NULL);
}

char *dns_txt_join_len(const unsigned char *rdata, size_t rdlen, size_t *outlen)
{
	char *out = xmalloc(rdlen + 1);
	size_t o = 0, i = 0;

	while (i < rdlen) {
		size_t len = rdata[i++];

		if (len > rdlen - i)
			len = rdlen - i;
		memcpy(out + o, rdata + i, len);
		o += len;
		i += len;
	}
	out[o] = '\0';
	if (outlen != NULL)
		*outlen = o;
	return out;
}

bool dns_answer_open(struct dns_answer *a, const unsigned char *answer, int len, int type)
{
	memset(a, 0, sizeof(*a));
	a->type = type;
	if (answer == NULL || len <= 0 || len > 65535 || ns_initparse(answer, len, &a->msg) < 0)
		return false;
	a->n = ns_msg_count(a->msg, ns_s_an);
	a->open = true;
	return true;
}

/*
 * next_raw - the next answer record of a's type and class IN (its RDATA
 * not decoded): 1, 0 at the end, -1 when a record does not parse
 */
static int next_raw(struct dns_answer *a, ns_rr *rr)
{
	if (!a->open)
		return -1;
	while (a->i < a->n) {
		if (ns_parserr(&a->msg, ns_s_an, a->i++, rr) < 0) {
			a->open = false;
			return -1;
		}
		if ((int)ns_rr_type(*rr) == a->type && ns_rr_class(*rr) == ns_c_in)
			return 1;
	}
	return 0;
}

/* decode - rr's RDATA by its type into out; false when malformed */
static bool decode(const struct dns_answer *a, const ns_rr *rr, struct dns_rr *out)
{
	const unsigned char *rd = ns_rr_rdata(*rr);
	size_t rdlen = ns_rr_rdlen(*rr);

	memset(out, 0, sizeof(*out));
	out->type = a->type;
	out->rdata = rd;
	out->rdlen = rdlen;
	switch (a->type) {
	case ns_t_a:
	case ns_t_aaaa:
		if (rdlen != (a->type == ns_t_a ? 4u : 16u))
			return false;
		memcpy(out->addr, rd, rdlen);
		return true;
	case ns_t_mx:
		if (rdlen < 3)
			return false;
		out->pref = ns_get16(rd);
		rd += NS_INT16SZ;
		/* fall through */
	case ns_t_ptr:
		return ns_name_uncompress(ns_msg_base(a->msg), ns_msg_end(a->msg), rd, out->name,
		                          sizeof(out->name)) >= 0;
	case ns_t_txt:
		out->txt = dns_txt_join_len(rd, rdlen, &out->txtlen);
		return true;
	default:
		return true;
	}
}

int dns_answer_next(struct dns_answer *a, struct dns_rr *rr)
{
	ns_rr raw;
	int r = next_raw(a, &raw);

	if (r <= 0)
		return r;
	if (!decode(a, &raw, rr)) {
		a->open = false;
		return -1;
	}
	return 1;
}

int dns_answer_count(const unsigned char *answer, int len, int type)
{
	struct dns_answer a;
	ns_rr raw;
	int r, n = 0;

	if (!dns_answer_open(&a, answer, len, type))
		return -1;
	while ((r = next_raw(&a, &raw)) > 0)
		n++;
	return r < 0 ? -1 : n;
}

enum dns_status dns_answer_status(const unsigned char *msg, int len, enum dns_fail *fail)
{
	enum dns_fail f = DNS_FAIL_NONE;
	enum dns_status st = DNS_TEMPFAIL;

	if (msg == NULL || len < HFIXEDSZ) {
		f = DNS_FAIL_MALFORMED;
	} else {
		switch (msg[3] & 0x0f) { /* RCODE */
		case ns_r_noerror:
			st = msg[6] == 0 && msg[7] == 0 ? DNS_NODATA : DNS_OK;
			break;
		case ns_r_nxdomain:
			st = DNS_NXDOMAIN;
			break;
		case ns_r_servfail:
			f = DNS_FAIL_SERVFAIL;
			break;
		case ns_r_refused:
			f = DNS_FAIL_REFUSED;
			break;
		case ns_r_formerr:
			f = DNS_FAIL_FORMERR;
			break;
		default: /* NOTIMP and the rest */
			f = DNS_FAIL_OTHER;
			break;
		}
	}
	if (fail != NULL)
		*fail = f;
	return st;
}

/*
 * add_opt - an EDNS0 OPT record (RFC 6891; UDP payload 1200, as glibc's
 * res_nquery sends) at the end of the query of qlen bytes in q (size
 * bytes); the new length, or qlen when it does not fit
 */
static int add_opt(unsigned char *q, int qlen, size_t size)
{
	static const unsigned char opt[11] = {0, 0, ns_t_opt, 1200 >> 8, 1200 & 0xff, 0, 0,
	                                      0, 0, 0,        0};
	unsigned arcount;

	if (qlen < HFIXEDSZ || (size_t)qlen + sizeof(opt) > size)
		return qlen;
	memcpy(q + qlen, opt, sizeof(opt));
	arcount = (unsigned)q[10] << 8 | q[11];
	arcount++;
	q[10] = (unsigned char)(arcount >> 8);
	q[11] = (unsigned char)arcount;
	return qlen + (int)sizeof(opt);
}

/*
 * resolve - one query (res_nmkquery, EDNS0 when the resolver has it on,
 * res_nsend: retries over every server, TCP when the answer was
 * truncated) with the thread's resolver. The answer is in t->buf and
 * *len says how long whatever its RCODE, so that a negative answer
 * reaches the cache with its SOA; *fail says why a DNS_TEMPFAIL.
 */
static enum dns_status resolve(struct dns_thread *t, const char *name, int type, int *len,
                               enum dns_fail *fail)
{
	unsigned char q[NS_PACKETSZ];
	struct timespec t0;
	int qlen, n;

	*fail = DNS_FAIL_NONE;
	qlen = res_nmkquery(&t->res, ns_o_query, name, ns_c_in, type, NULL, 0, NULL, q, sizeof(q));
	if (qlen < 0) {
		*fail = DNS_FAIL_OTHER;
		return DNS_TEMPFAIL;
	}
	if (t->res.options & RES_USE_EDNS0)
		qlen = add_opt(q, qlen, sizeof(q));
	clock_gettime(CLOCK_MONOTONIC, &t0);
	n = res_nsend(&t->res, q, qlen, t->buf, DNS_BUF_SIZE);
	metrics_dns_latency(us_since(&t0));
	if (n < 0) {
		/*
		 * No answer; or SERVFAIL, REFUSED or NOTIMP from every server:
		 * glibc tries the next server on those and keeps no RCODE. A
		 * timeout takes at least one attempt's wait (retrans seconds);
		 * a failure sooner was every server refusing or failing.
		 */
		*fail = ms_since(&t0) < (long)t->res.retrans * 1000 ? DNS_FAIL_REJECTED
		                                                    : DNS_FAIL_TIMEOUT;
		return DNS_TEMPFAIL;
	}
	if (n > DNS_BUF_SIZE || n < HFIXEDSZ) {
		*fail = DNS_FAIL_MALFORMED;
		return DNS_TEMPFAIL;
	}
	*len = n;
	return dns_answer_status(t->buf, n, fail);
}

/*
 * raw_query - the answer from the resolver t (and then into the cache, a
 * negative answer with its SOA for how long, a failure with its cause:
 * one byte); on DNS_OK the answer is in t->buf and *len says how long,
 * on DNS_TEMPFAIL *fail says why. A temporary failure of a query whose
 * timeouts a deadline had cut short is not cached: another session with
 * more time left may still get an answer.
 */
static enum dns_status raw_query(struct dns_thread *t, const char *name, int type, int *len,
                                 enum dns_fail *fail)
{
	enum dns_status st;
	unsigned char cause;

	st = resolve(t, name, type, len, fail);
	cause = (unsigned char)*fail;
	if (st == DNS_TEMPFAIL) {
		if (!t->shrunk)
			dnscache_put(name, type, st, &cause, 1);
	} else {
		dnscache_put(name, type, st, t->buf, *len);
	}
	return st;
}

/* copy_out - a malloc'd copy of len bytes (at least one byte allocated) */
static unsigned char *copy_out(const unsigned char *msg, int len)
{
	unsigned char *c = xmalloc(len > 0 ? (size_t)len : 1);

	if (len > 0)
		memcpy(c, msg, (size_t)len);
	return c;
}

/*
 * query_within - one query (name checked strictly or for lengths only)
 * taking left_ms milliseconds at most (-1: no limit; 0 or less: none
 * sent): the shared cache first (dnscache.h: no resolver needed), else a
 * resolver from the pool; on DNS_OK *answer is the caller's own copy
 * (free it).
 */
static enum dns_status query_within(const char *name, int type, int timeout, long left_ms,
                                    unsigned char **answer, int *answer_len, bool strict,
                                    enum dns_fail *fail)
{
	unsigned char cached[DNSCACHE_MAX_ANSWER];
	struct dns_thread *t;
	enum dns_status st;
	int len = 0;

	*fail = DNS_FAIL_NONE;
	if (!name_ok(name, strict))
		return DNS_NXDOMAIN;
	if (left_ms == 0 || left_ms < -1) {
		*fail = DNS_FAIL_BUDGET; /* no time left: not even one attempt */
		return DNS_TEMPFAIL;
	}
	if (dnscache_get(name, type, cached, sizeof(cached), &len, &st)) {
		metrics_dns_cache(true);
		if (st == DNS_TEMPFAIL)
			*fail = len == 1 && cached[0] <= DNS_FAIL_REJECTED
			            ? (enum dns_fail)cached[0]
			            : DNS_FAIL_OTHER;
		else if (st == DNS_OK) {
			*answer = copy_out(cached, len);
			*answer_len = len;
		}
		return st;
	}
	metrics_dns_cache(false);
	if (left_ms >= 0 && left_ms < DNS_MIN_QUERY_MS) {
		*fail = DNS_FAIL_BUDGET; /* too little time for one attempt: not cached */
		return DNS_TEMPFAIL;
	}
	t = dns_thread_get();
	if (t == NULL) {
		*fail = DNS_FAIL_OTHER;
		return DNS_TEMPFAIL;
	}
	set_timeouts(t, timeout, left_ms);
	st = raw_query(t, name, type, &len, fail);
	if (st == DNS_OK) {
		*answer = copy_out(t->buf, len);
		*answer_len = len;
	}
	dns_thread_put(t);
	return st;
}

/* outcome_name - the metrics outcome of a lookup: "noerror", "nxdomain", "nodata", or why not */
static const char *outcome_name(enum dns_status st, enum dns_fail fail)
{
	switch (st) {
	case DNS_OK:
		return "noerror";
	case DNS_NXDOMAIN:
		return "nxdomain";
	case DNS_NODATA:
		return "nodata";
	default:
		return fail != DNS_FAIL_NONE ? dns_fail_name(fail) : "other";
	}
}

/* budget_query_once - the lookup of budget_query, not counted */
static enum dns_status budget_query_once(struct dns_budget *b, const char *name, int type,
                                         struct dns_reply *r, bool strict)
{
	long ms = dns_budget_ms_left(b);
	const unsigned char *ans = NULL;
	unsigned char *own = NULL;
	enum dns_status st;
	int len = 0;

	memset(r, 0, sizeof(*r));
	b->fail = DNS_FAIL_NONE;
	if (ms <= 0) {
		b->fail = DNS_FAIL_BUDGET;
		return DNS_TEMPFAIL;
	}
	b->queries++;
	if (b->query != NULL) {
		st = b->query(b->arg, name, type, b->dns_timeout, ms, &ans, &len);
		if (st == DNS_TEMPFAIL && b->fail == DNS_FAIL_NONE)
			b->fail = DNS_FAIL_OTHER;
	} else {
		st = query_within(name, type, b->dns_timeout, ms, &own, &len, strict, &b->fail);
	}
	if (st != DNS_TEMPFAIL)
		b->fail = DNS_FAIL_NONE;
	if (st == DNS_OK) {
		/* the caller's own copy (query_within's already is) */
		r->msg = own != NULL ? own : copy_out(ans, len);
		r->len = len;
	} else {
		free(own);
	}
	return st;
}

/* budget_query - dns_budget_query, the name checked strictly or not (counted: metrics.h) */
static enum dns_status budget_query(struct dns_budget *b, const char *name, int type,
                                    struct dns_reply *r, bool strict)
{
	enum dns_status st = budget_query_once(b, name, type, r, strict);

	metrics_dns_query(type, outcome_name(st, b->fail));
	return st;
}

enum dns_status dns_budget_query(struct dns_budget *b, const char *name, int type,
                                 struct dns_reply *r)
{
	return budget_query(b, name, type, r, true);
}

enum dns_status dns_budget_query_any(struct dns_budget *b, const char *name, int type,
                                     struct dns_reply *r)
{
	return budget_query(b, name, type, r, false);
}

void dns_reply_free(struct dns_reply *r)
{
	free(r->msg);
	r->msg = NULL;
	r->len = 0;
}

static const char *const fail_names[] = {
    [DNS_FAIL_NONE] = "",
    [DNS_FAIL_TIMEOUT] = "timeout",
    [DNS_FAIL_SERVFAIL] = "servfail",
    [DNS_FAIL_REFUSED] = "refused",
    [DNS_FAIL_FORMERR] = "formerr",
    [DNS_FAIL_OTHER] = "other",
    [DNS_FAIL_MALFORMED] = "malformed",
    [DNS_FAIL_BUDGET] = "budget",
    [DNS_FAIL_REJECTED] = "servfail_or_refused",
};

const char *dns_fail_name(enum dns_fail f)
{
	if ((unsigned)f >= PM_ARRAY_LEN(fail_names))
		return "other";
	return fail_names[f];
}
