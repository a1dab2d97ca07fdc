/*
 * NAME
 *	dns - the milter's own DNS layer for libspf2 and the other checks
 * SYNOPSIS
 *	dns_eval_begin(), dns_eval_end(), dns_stop_name()
 *	dns_spf_layer(), dns_query(), dns_name_ok(), dns_txt_join()
 *	dns_budget_init(), dns_budget_query()
 * DESCRIPTION
 *	A thread-local struct __res_state (res_ninit on first use, again when
 *	/etc/resolv.conf changes) and res_nquery; answers are parsed with
 *	ns_initparse/ns_parserr. The SPF layer turns them into libspf2's
 *	SPF_dns_rr_t (herrno NETDB_SUCCESS, HOST_NOT_FOUND, NO_DATA or
 *	TRY_AGAIN) and counts them against the thread's current struct
 *	dns_eval (see dns.h). It also supplies libspf2's get_spf (the
 *	record fetch: TXT only, "try again" kept apart from "no record",
 *	exactly one v=spf1 record) and get_exp (no DNS: a fixed text).
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

#include <spf2/spf.h>
#include <spf2/spf_dns.h>

#include "dns.h"
#include "dnscache.h"
#include "util.h"

#define DNS_BUF_SIZE    65536
#define DNS_RESOLV_CONF "/etc/resolv.conf"

/* This thread's resolver. */
struct dns_thread {
	struct __res_state res;
	bool ready;
	struct stat conf; /* /etc/resolv.conf when res was initialised */
	int def_retrans;  /* resolv.conf's own timeout and attempts */
	int def_retry;
	bool shrunk;        /* the next query's timeouts were cut to fit a deadline */
	unsigned char *buf; /* DNS_BUF_SIZE bytes */
};

static pthread_key_t dns_key;
static pthread_once_t dns_once = PTHREAD_ONCE_INIT;
static __thread struct dns_eval *dns_cur; /* the evaluation this thread is in, or NULL */

/* dns_thread_free - thread exit: close and free the resolver */
static void dns_thread_free(void *arg)
{
	struct dns_thread *t = arg;

	if (t->ready)
		res_nclose(&t->res);
	free(t->buf);
	free(t);
}

/* dns_key_init - create the thread key once */
static void dns_key_init(void)
{
	if (pthread_key_create(&dns_key, dns_thread_free) != 0)
		pm_fatal("dns: pthread_key_create failed");
}

/* conf_changed - has resolv.conf changed since st was taken? */
static bool conf_changed(const struct stat *st)
{
	struct stat now;

	if (stat(DNS_RESOLV_CONF, &now) != 0)
		return false; /* gone: keep what we have */
	return now.st_ino != st->st_ino || now.st_dev != st->st_dev ||
	       now.st_mtim.tv_sec != st->st_mtim.tv_sec ||
	       now.st_mtim.tv_nsec != st->st_mtim.tv_nsec || now.st_size != st->st_size;
}

/* dns_thread_get - this thread's resolver, (re)initialised as needed; NULL if res_ninit fails */
static struct dns_thread *dns_thread_get(void)
{
	struct dns_thread *t;

	pthread_once(&dns_once, dns_key_init);
	t = pthread_getspecific(dns_key);
	if (t == NULL) {
		t = xcalloc(1, sizeof(*t));
		t->buf = xmalloc(DNS_BUF_SIZE);
		if (pthread_setspecific(dns_key, t) != 0)
			pm_fatal("dns: pthread_setspecific failed");
	}
	if (t->ready && conf_changed(&t->conf)) {
		res_nclose(&t->res);
		t->ready = false;
	}
	if (!t->ready) {
		memset(&t->res, 0, sizeof(t->res));
		if (stat(DNS_RESOLV_CONF, &t->conf) != 0)
			memset(&t->conf, 0, sizeof(t->conf));
		if (res_ninit(&t->res) != 0)
			return NULL;
		t->res.options |= RES_USE_EDNS0;
		t->def_retrans = t->res.retrans;
		t->def_retry = t->res.retry;
		t->ready = true;
	}
	return t;
}

void dns_deadline_in(struct timespec *deadline, int seconds)
{
	clock_gettime(CLOCK_MONOTONIC, deadline);
	deadline->tv_sec += seconds;
}

long dns_ms_left(const struct timespec *deadline)
{
	struct timespec now;
	long ms;

	clock_gettime(CLOCK_MONOTONIC, &now);
	ms = (long)(deadline->tv_sec - now.tv_sec) * 1000 +
	     (deadline->tv_nsec - now.tv_nsec) / 1000000;
	return ms > 0 ? ms : 0;
}

void dns_budget_init(struct dns_budget *b, int dns_timeout, int seconds)
{
	memset(b, 0, sizeof(*b));
	b->dns_timeout = dns_timeout > 0 ? dns_timeout : 0;
	b->seconds = seconds > 0 ? seconds : 20;
	dns_deadline_in(&b->deadline, b->seconds);
}

enum dns_status dns_budget_query(struct dns_budget *b, const char *name, int type,
                                 const unsigned char **answer, int *answer_len)
{
	long ms = dns_ms_left(&b->deadline);

	if (ms <= 0)
		return DNS_TEMPFAIL;
	b->queries++;
	if (b->query != NULL)
		return b->query(b->arg, name, type, b->dns_timeout, ms, answer, answer_len);
	return dns_query_within(name, type, b->dns_timeout, ms, answer, answer_len);
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

bool dns_name_ok(const char *name)
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
		if (*p < 0x21 || *p == 0x7f || *p == '\\')
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

char *dns_txt_join(const unsigned char *rdata, size_t rdlen)
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
	return out;
}

/* resolve - res_nquery with the thread's resolver; on DNS_OK the answer is in t->buf */
static enum dns_status resolve(struct dns_thread *t, const char *name, int type, int *len)
{
	int n;

	t->res.res_h_errno = 0;
	n = res_nquery(&t->res, name, ns_c_in, type, t->buf, DNS_BUF_SIZE);
	if (n < 0) {
		switch (t->res.res_h_errno) {
		case HOST_NOT_FOUND:
			return DNS_NXDOMAIN;
		case NO_DATA:
			return DNS_NODATA;
		default: /* TRY_AGAIN (SERVFAIL, timeout), NO_RECOVERY (REFUSED, FORMERR) */
			return DNS_TEMPFAIL;
		}
	}
	if (n > DNS_BUF_SIZE || n < HFIXEDSZ)
		return DNS_TEMPFAIL;
	*len = n;
	return DNS_OK;
}

/*
 * raw_query - the answer from the shared cache (dnscache.h), else from
 * the resolver (and then into the cache); on DNS_OK the answer is in
 * t->buf and *len says how long. A temporary failure of a query whose
 * timeouts a deadline had cut short is not cached: another session with
 * more time left may still get an answer.
 */
static enum dns_status raw_query(struct dns_thread *t, const char *name, int type, int *len,
                                 long left_ms)
{
	enum dns_status st;

	if (dnscache_get(name, type, t->buf, DNS_BUF_SIZE, len, &st))
		return st;
	if (left_ms >= 0 && left_ms < DNS_MIN_QUERY_MS)
		return DNS_TEMPFAIL; /* too little time for one attempt: not cached */
	st = resolve(t, name, type, len);
	if (st != DNS_TEMPFAIL || !t->shrunk)
		dnscache_put(name, type, st, st == DNS_OK ? t->buf : NULL, st == DNS_OK ? *len : 0);
	return st;
}

enum dns_status dns_query(const char *name, int type, int timeout, const unsigned char **answer,
                          int *answer_len)
{
	return dns_query_within(name, type, timeout, -1, answer, answer_len);
}

enum dns_status dns_query_within(const char *name, int type, int timeout, long left_ms,
                                 const unsigned char **answer, int *answer_len)
{
	struct dns_thread *t;
	enum dns_status st;
	int len = 0;

	if (!dns_name_ok(name))
		return DNS_NXDOMAIN;
	if (left_ms == 0 || left_ms < -1)
		return DNS_TEMPFAIL; /* no time left: not even one attempt */
	t = dns_thread_get();
	if (t == NULL)
		return DNS_TEMPFAIL;
	set_timeouts(t, timeout, left_ms);
	st = raw_query(t, name, type, &len, left_ms);
	if (st == DNS_OK) {
		*answer = t->buf;
		*answer_len = len;
	}
	return st;
}

/* ---- accounting ------------------------------------------------------ */

void dns_eval_begin(struct dns_eval *ev, const struct dns_budget *budget, int max_queries,
                    int max_voids)
{
	memset(ev, 0, sizeof(*ev));
	ev->deadline = budget->deadline;
	ev->dns_timeout = budget->dns_timeout > 0 ? budget->dns_timeout : 5;
	ev->max_queries = max_queries > 0 ? (unsigned)max_queries : 0;
	ev->max_voids = max_voids >= 0 ? (unsigned)max_voids : 2;
	dns_cur = ev;
}

/* targets_clear - forget the last MX/PTR answer's names */
static void targets_clear(struct dns_eval *ev)
{
	unsigned i;

	for (i = 0; i < ev->ntargets; i++)
		free(ev->targets[i]);
	ev->ntargets = 0;
}

void dns_eval_end(struct dns_eval *ev)
{
	targets_clear(ev);
	if (dns_cur == ev)
		dns_cur = NULL;
}

const char *dns_stop_name(enum dns_stop s)
{
	switch (s) {
	case DNS_STOP_NONE:
		return "none";
	case DNS_STOP_TEMPFAIL:
		return "temporary DNS failure";
	case DNS_STOP_VOID_LIMIT:
		return "void lookup limit exceeded";
	case DNS_STOP_QUERY_CAP:
		return "DNS query limit exceeded";
	case DNS_STOP_DEADLINE:
		return "SPF evaluation timed out";
	case DNS_STOP_TERM_LIMIT:
		return "more than 10 DNS-querying terms";
	}
	return "?";
}

/* eval_stop - record the first reason to stop, with the name being looked up */
static void eval_stop(struct dns_eval *ev, enum dns_stop why, const char *name)
{
	if (ev->stop != DNS_STOP_NONE)
		return;
	ev->stop = why;
	snprintf(ev->stop_name, sizeof(ev->stop_name), "%s", name ? name : "");
}

/* is_target - is name one of the last MX/PTR answer's names? */
static bool is_target(const struct dns_eval *ev, const char *name)
{
	unsigned i;

	for (i = 0; i < ev->ntargets; i++)
		if (strcasecmp(ev->targets[i], name) == 0)
			return true;
	return false;
}

/* ---- the libspf2 layer ----------------------------------------------- */

/* rr_new - a new SPF_dns_rr_t or die */
static SPF_dns_rr_t *rr_new(SPF_dns_server_t *srv, const char *name, ns_type type, int herrno)
{
	SPF_dns_rr_t *rr = SPF_dns_rr_new_init(srv, name, type, 0, herrno);

	if (rr == NULL)
		pm_fatal("dns: out of memory");
	return rr;
}

/* rr_add - room for one more datum of len bytes; returns it */
static SPF_dns_rr_data_t *rr_add(SPF_dns_rr_t *rr, size_t len)
{
	if (SPF_dns_rr_buf_realloc(rr, rr->num_rr, len) != SPF_E_SUCCESS)
		pm_fatal("dns: out of memory");
	return rr->rr[rr->num_rr++];
}

/*
 * parse_answer - the answer section's records of the type asked for into
 * rr; false when the message is malformed.
 */
static bool parse_answer(const unsigned char *msg, int len, ns_type type, SPF_dns_rr_t *rr)
{
	ns_msg handle;
	ns_rr r;
	int i, n;
	char name[NS_MAXDNAME];

	if (ns_initparse(msg, len, &handle) < 0)
		return false;
	n = ns_msg_count(handle, ns_s_an);
	for (i = 0; i < n; i++) {
		const unsigned char *rd;
		size_t rdlen;
		SPF_dns_rr_data_t *d;

		if (ns_parserr(&handle, ns_s_an, i, &r) < 0)
			return false;
		if (ns_rr_type(r) != type || ns_rr_class(r) != ns_c_in)
			continue; /* CNAMEs on the way, stray records */
		rd = ns_rr_rdata(r);
		rdlen = ns_rr_rdlen(r);
		switch (type) {
		case ns_t_a:
			if (rdlen != 4)
				return false;
			d = rr_add(rr, sizeof(d->a));
			memcpy(&d->a, rd, 4);
			break;
		case ns_t_aaaa:
			if (rdlen != 16)
				return false;
			d = rr_add(rr, sizeof(d->aaaa));
			memcpy(&d->aaaa, rd, 16);
			break;
		case ns_t_mx:
		case ns_t_ptr: {
			const unsigned char *p = rd;

			if (type == ns_t_mx) {
				if (rdlen < 3)
					return false;
				p += NS_INT16SZ;
			}
			if (ns_name_uncompress(msg, msg + len, p, name, sizeof(name)) < 0)
				return false;
			d = rr_add(rr, strlen(name) + 1);
			memcpy(d->mx, name, strlen(name) + 1);
			break;
		}
		case ns_t_txt: {
			char *s = dns_txt_join(rd, rdlen);

			d = rr_add(rr, strlen(s) + 1);
			memcpy(d->txt, s, strlen(s) + 1);
			free(s);
			break;
		}
		default:
			break;
		}
	}
	return true;
}

/* remember_targets - keep the names of an MX or PTR answer (their lookups are not voids) */
static void remember_targets(struct dns_eval *ev, const SPF_dns_rr_t *rr)
{
	int i;

	targets_clear(ev);
	for (i = 0; i < rr->num_rr && ev->ntargets < DNS_EVAL_TARGETS; i++)
		ev->targets[ev->ntargets++] = xstrdup(rr->rr[i]->mx);
}

/*
 * layer_lookup - libspf2's lookup: one query, accounted against the
 * thread's evaluation. Never returns NULL (libspf2 would call SPF_error).
 */
static SPF_dns_rr_t *layer_lookup(SPF_dns_server_t *srv, const char *domain, ns_type type,
                                  int should_cache)
{
	struct dns_eval *ev = dns_cur;
	struct dns_thread *t = NULL;
	enum dns_status st;
	SPF_dns_rr_t *rr;
	bool secondary = false;
	int len = 0;

	(void)should_cache;
	if (type == ns_t_spf) /* RFC 7208 3.1: type 99 is not used any more */
		return rr_new(srv, domain, type, NO_DATA);
	if (ev != NULL && ev->stop != DNS_STOP_NONE)
		return rr_new(srv, domain, type, TRY_AGAIN);
	if (ev != NULL && (type == ns_t_a || type == ns_t_aaaa) && domain != NULL)
		secondary = is_target(ev, domain);
	/* every lookup but the identity's own record and an MX or PTR
	   answer's address lookups starts a term (the %{p} macro counts too) */
	if (ev != NULL && !ev->top_fetch && !secondary && ++ev->terms > DNS_MAX_TERMS) {
		eval_stop(ev, DNS_STOP_TERM_LIMIT, domain);
		return rr_new(srv, domain, type, TRY_AGAIN);
	}

	if (!dns_name_ok(domain)) {
		st = DNS_NXDOMAIN; /* not a name we can ask for: nothing there */
	} else {
		long left = -1;

		if (ev != NULL) {
			left = dns_ms_left(&ev->deadline);
			if (left < DNS_MIN_QUERY_MS) {
				eval_stop(ev, DNS_STOP_DEADLINE, domain);
				return rr_new(srv, domain, type, TRY_AGAIN);
			}
			if (ev->max_queries > 0 && ev->queries >= ev->max_queries) {
				eval_stop(ev, DNS_STOP_QUERY_CAP, domain);
				return rr_new(srv, domain, type, TRY_AGAIN);
			}
			ev->queries++;
		}
		t = dns_thread_get();
		if (t == NULL) {
			st = DNS_TEMPFAIL;
		} else {
			set_timeouts(t, ev ? ev->dns_timeout : 0, left);
			st = raw_query(t, domain, type, &len, left);
		}
		if (st == DNS_OK) {
			rr = rr_new(srv, domain, type, NETDB_SUCCESS);
			if (!parse_answer(t->buf, len, type, rr)) {
				SPF_dns_rr_free(rr);
				st = DNS_TEMPFAIL;
			} else if (rr->num_rr == 0) {
				SPF_dns_rr_free(rr);
				st = DNS_NODATA;
			} else {
				if (ev != NULL && (type == ns_t_mx || type == ns_t_ptr))
					remember_targets(ev, rr);
				return rr;
			}
		}
		if (ev != NULL && st == DNS_TEMPFAIL)
			eval_stop(ev, DNS_STOP_TEMPFAIL, domain);
		if (ev != NULL && ev->stop == DNS_STOP_NONE && dns_ms_left(&ev->deadline) == 0)
			eval_stop(ev, DNS_STOP_DEADLINE, domain);
	}
	if (st == DNS_TEMPFAIL || (ev != NULL && ev->stop != DNS_STOP_NONE))
		return rr_new(srv, domain, type, TRY_AGAIN);
	/* a void answer */
	if (ev != NULL && !ev->top_fetch && !secondary) {
		ev->voids++;
		if (ev->voids > ev->max_voids) {
			eval_stop(ev, DNS_STOP_VOID_LIMIT, domain);
			return rr_new(srv, domain, type, TRY_AGAIN);
		}
	}
	return rr_new(srv, domain, type, st == DNS_NXDOMAIN ? HOST_NOT_FOUND : NO_DATA);
}

/* is_spf_record - "v=spf1" alone or followed by a space (RFC 7208 4.5) */
static bool is_spf_record(const char *txt)
{
	return strncasecmp(txt, "v=spf1", 6) == 0 && (txt[6] == '\0' || txt[6] == ' ');
}

/* set_result - put a final result into a libspf2 response and return err */
static SPF_errcode_t set_result(SPF_response_t *resp, SPF_result_t result, SPF_errcode_t err)
{
	resp->result = result;
	resp->reason = SPF_REASON_FAILURE;
	resp->err = err;
	return err;
}

/*
 * layer_get_spf - libspf2's record fetch for the current domain (the
 * identity's own, then each include: and redirect=). Unlike libspf2's,
 * "try again" gives temperror, no record gives none, two give permerror.
 */
static SPF_errcode_t layer_get_spf(SPF_server_t *server, SPF_request_t *req, SPF_response_t *resp,
                                   SPF_record_t **recp)
{
	struct dns_eval *ev = dns_cur;
	const char *domain = req->cur_dom;
	SPF_dns_rr_t *rr;
	SPF_errcode_t err;
	int i, found = 0, idx = 0;

	*recp = NULL;
	if (domain == NULL)
		return set_result(resp, SPF_RESULT_PERMERROR, SPF_E_NOT_CONFIG);
	if (ev != NULL)
		ev->top_fetch = ev->record_fetches++ == 0;
	rr = SPF_dns_lookup(server->resolver, domain, ns_t_txt, 1);
	if (ev != NULL)
		ev->top_fetch = false;

	switch (rr->herrno) {
	case NETDB_SUCCESS:
		break;
	case HOST_NOT_FOUND:
	case NO_DATA:
		SPF_dns_rr_free(rr);
		SPF_response_add_error(resp, SPF_E_NOT_SPF, "No SPF record for '%s'", domain);
		return set_result(resp, SPF_RESULT_NONE, SPF_E_NOT_SPF);
	default:
		SPF_dns_rr_free(rr);
		SPF_response_add_error(resp, SPF_E_DNS_ERROR, "Temporary DNS failure for '%s'",
		                       domain);
		return set_result(resp, SPF_RESULT_TEMPERROR, SPF_E_DNS_ERROR);
	}
	for (i = 0; i < rr->num_rr; i++) {
		if (is_spf_record(rr->rr[i]->txt)) {
			found++;
			idx = i;
		}
	}
	if (found == 0) {
		SPF_dns_rr_free(rr);
		SPF_response_add_error(resp, SPF_E_NOT_SPF, "No SPF record for '%s'", domain);
		return set_result(resp, SPF_RESULT_NONE, SPF_E_NOT_SPF);
	}
	if (found > 1) {
		SPF_dns_rr_free(rr);
		SPF_response_add_error(resp, SPF_E_MULTIPLE_RECORDS,
		                       "Multiple SPF records for '%s'", domain);
		return set_result(resp, SPF_RESULT_PERMERROR, SPF_E_MULTIPLE_RECORDS);
	}
	err = SPF_record_compile(server, resp, recp, rr->rr[idx]->txt);
	SPF_dns_rr_free(rr);
	if (err != SPF_E_SUCCESS || *recp == NULL) {
		if (*recp != NULL)
			SPF_record_free(*recp);
		*recp = NULL;
		if (err == SPF_E_SUCCESS || err == SPF_E_DNS_ERROR)
			err = SPF_E_SYNTAX; /* never let a bad record look like "try again" */
		if (err == SPF_E_NO_MEMORY)
			pm_fatal("dns: out of memory compiling an SPF record");
		return set_result(resp, SPF_RESULT_PERMERROR, err);
	}
	return SPF_E_SUCCESS;
}

/*
 * layer_get_exp - libspf2's explanation fetch: a fixed text, no DNS
 * (the milter never sends exp= text to anyone).
 */
static SPF_errcode_t layer_get_exp(SPF_server_t *server, const char *domain, char **buf,
                                   size_t *buf_len)
{
	static const char text[] = "SPF check failed";

	(void)server;
	(void)domain;
	if (*buf == NULL || *buf_len < sizeof(text)) {
		*buf = xrealloc(*buf, sizeof(text));
		*buf_len = sizeof(text);
	}
	memcpy(*buf, text, sizeof(text));
	return SPF_E_SUCCESS;
}

static SPF_dns_server_t dns_layer = {
    .destroy = NULL, /* shared between the threads' servers: never freed */
    .lookup = layer_lookup,
    .get_spf = layer_get_spf,
    .get_exp = layer_get_exp,
    .add_cache = NULL,
    .layer_below = NULL,
    .name = "policy-milter",
    .debug = 0,
    .hook = NULL,
};

void *dns_spf_layer(void)
{
	return &dns_layer;
}
