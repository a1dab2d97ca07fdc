/*
 * NAME
 *	spf - SPF evaluation (RFC 7208) on top of libspf2
 * SYNOPSIS
 *	spf_check_helo(), spf_check_mailfrom()
 * DESCRIPTION
 *	Each thread owns one SPF_server_t (a pthread key frees it at thread
 *	exit) built on our DNS layer (dns.c), so nothing of libspf2 is shared
 *	between threads except its read-only tables and the log handlers,
 *	which are set once.
 *
 *	An evaluation runs libspf2 inside a struct dns_eval, then corrects
 *	its result with what the DNS layer saw: a temporary DNS failure or the
 *	deadline gives temperror, too many void answers or queries permerror
 *	(libspf2 1.2.10 knows neither limit, and would turn a SERVFAIL on the
 *	domain's own record into an invalid result).
 *
 *	Inputs libspf2 cannot take never reach it: no client address, an
 *	empty, literal or malformed HELO or sender domain give "none" with a
 *	comment saying why (RFC 7208 4.3).
 * DIAGNOSTICS
 *	libspf2's own error, warning and info messages go to log_msg().
 *	Its SPF_error() (which would abort the process) unwinds to the
 *	evaluation in progress, which then answers temperror; outside one it
 *	still aborts, after logging.
 */
#include <arpa/inet.h>
#include <netinet/in.h>
#include <pthread.h>
#include <setjmp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <spf2/spf.h>

#include "addr.h"
#include "dns.h"
#include "log.h"
#include "spf.h"
#include "util.h"

static pthread_once_t spf_once = PTHREAD_ONCE_INIT;
static pthread_key_t spf_key;
static __thread sigjmp_buf *spf_unwind; /* set while libspf2 runs on this thread */

/* spf_error_handler - libspf2's SPF_error: log, then leave the evaluation (never return) */
static void __attribute__((noreturn)) spf_error_handler(const char *file, int line, const char *msg)
{
	log_msg(LOG_ERR, "libspf2 error (%s:%d): %s", file ? file : "?", line, msg ? msg : "");
	if (spf_unwind != NULL)
		siglongjmp(*spf_unwind, 1);
	pm_fatal("libspf2 error outside an evaluation: %s", msg ? msg : "");
}

/* spf_warning_handler - libspf2's warnings */
static void spf_warning_handler(const char *file, int line, const char *msg)
{
	log_msg(LOG_WARNING, "libspf2 (%s:%d): %s", file ? file : "?", line, msg ? msg : "");
}

/* spf_info_handler - libspf2's info and debug messages */
static void spf_info_handler(const char *file, int line, const char *msg)
{
	log_msg(LOG_DEBUG, "libspf2 (%s:%d): %s", file ? file : "?", line, msg ? msg : "");
}

/* spf_server_free - thread exit: free this thread's libspf2 server */
static void spf_server_free(void *arg)
{
	SPF_server_free(arg);
}

/* spf_init - once per process: handlers and the thread key */
static void spf_init(void)
{
	SPF_error_handler = spf_error_handler;
	SPF_warning_handler = spf_warning_handler;
	SPF_info_handler = spf_info_handler;
	SPF_debug_handler = spf_info_handler;
	if (pthread_key_create(&spf_key, spf_server_free) != 0)
		pm_fatal("spf: pthread_key_create failed");
}

/* spf_server - this thread's libspf2 server with our receiver name; NULL on failure */
static __attribute__((noinline)) SPF_server_t *spf_server(const struct spf_settings *s)
{
	SPF_server_t *sp;
	const char *rec = s->receiver && s->receiver[0] ? s->receiver : "unknown";

	pthread_once(&spf_once, spf_init);
	sp = pthread_getspecific(spf_key);
	if (sp == NULL) {
		sp = SPF_server_new_dns(dns_spf_layer(), 0);
		if (sp == NULL)
			return NULL;
		SPF_server_set_max_dns_mech(sp, 10); /* RFC 7208 4.6.4 */
		SPF_server_set_max_dns_mx(sp, 10);
		SPF_server_set_max_dns_ptr(sp, 10);
		if (pthread_setspecific(spf_key, sp) != 0) {
			SPF_server_free(sp);
			return NULL;
		}
	}
	if (sp->rec_dom == NULL || strcmp(sp->rec_dom, rec) != 0)
		SPF_server_set_rec_dom(sp, rec);
	return sp;
}

/* set_comment - printf into out->comment, escaped so that it stays printable */
static void __attribute__((format(printf, 2, 3)))
set_comment(struct spf_outcome *out, const char *fmt, ...)
{
	char raw[512];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(raw, sizeof(raw), fmt, ap);
	va_end(ap);
	pm_escape_str(out->comment, sizeof(out->comment), raw);
}

/*
 * domain_usable - copy d (a trailing dot dropped, lower-cased) into buf
 * when it is a multi-label LDH name; else set a "none" comment in out
 * naming what (HELO or sender domain) and return false.
 */
static bool domain_usable(const char *d, const char *what, char *buf, size_t bufsize,
                          struct spf_outcome *out)
{
	size_t len = d ? strlen(d) : 0;
	char shown[64];

	if (len > 0 && d[len - 1] == '.')
		len--;
	if (len == 0) {
		set_comment(out, "no %s", what);
		return false;
	}
	pm_escape(shown, sizeof(shown), d, strlen(d));
	if (d[0] == '[') {
		set_comment(out, "%s %s is an address literal", what, shown);
		return false;
	}
	if (len >= bufsize || !addr_domain_valid(d, len) || memchr(d, '.', len) == NULL) {
		set_comment(out, "%s %s is not a valid domain name", what, shown);
		return false;
	}
	memcpy(buf, d, len);
	buf[len] = '\0';
	pm_strlower(buf);
	return true;
}

/* map_result - libspf2's result to ours; SPF_RESULT_INVALID (no result reached) is temperror */
static enum pm_spf_result map_result(SPF_result_t r)
{
	switch (r) {
	case SPF_RESULT_PASS:
		return PM_SPF_PASS;
	case SPF_RESULT_FAIL:
		return PM_SPF_FAIL;
	case SPF_RESULT_SOFTFAIL:
		return PM_SPF_SOFTFAIL;
	case SPF_RESULT_NEUTRAL:
		return PM_SPF_NEUTRAL;
	case SPF_RESULT_NONE:
		return PM_SPF_NONE;
	case SPF_RESULT_PERMERROR:
		return PM_SPF_PERMERROR;
	case SPF_RESULT_TEMPERROR:
	case SPF_RESULT_INVALID:
	default:
		return PM_SPF_TEMPERROR;
	}
}

/* result_comment - the comment for a result libspf2 reached on its own */
static void result_comment(struct spf_outcome *out, const char *ip, SPF_response_t *resp,
                           SPF_errcode_t err)
{
	const char *d = out->domain;
	SPF_errcode_t e = resp ? SPF_response_errcode(resp) : err;

	switch (out->result) {
	case PM_SPF_PASS:
		if (resp && SPF_response_reason(resp) == SPF_REASON_LOCALHOST)
			set_comment(out, "%s is localhost (always passes)", ip);
		else
			set_comment(out, "%s designates %s as permitted sender", d, ip);
		break;
	case PM_SPF_FAIL:
		set_comment(out, "%s does not designate %s as permitted sender", d, ip);
		break;
	case PM_SPF_SOFTFAIL:
		set_comment(out, "%s does not designate %s as permitted sender (softfail)", d, ip);
		break;
	case PM_SPF_NEUTRAL:
		set_comment(out, "%s neither permits nor denies %s", d, ip);
		break;
	case PM_SPF_NONE:
		set_comment(out, "no SPF record for %s", d);
		break;
	case PM_SPF_PERMERROR:
		set_comment(out, "SPF error for %s: %s", d, SPF_strerror(e));
		break;
	default:
		if (resp == NULL || SPF_response_result(resp) == SPF_RESULT_INVALID)
			set_comment(out, "no SPF result for %s: %s", d, SPF_strerror(e));
		else
			set_comment(out, "temporary error evaluating %s: %s", d, SPF_strerror(e));
		break;
	}
}

/* correct_result - apply what the DNS layer saw on top of libspf2's result */
static void correct_result(struct spf_outcome *out, const struct dns_eval *ev, int timeout,
                           int max_queries)
{
	char name[128];

	pm_escape_str(name, sizeof(name), ev->stop_name);
	switch (ev->stop) {
	case DNS_STOP_NONE:
		return;
	case DNS_STOP_TEMPFAIL:
		out->result = PM_SPF_TEMPERROR;
		set_comment(out, "DNS error looking up %s", name);
		return;
	case DNS_STOP_DEADLINE:
		out->result = PM_SPF_TEMPERROR;
		set_comment(out, "SPF evaluation of %s timed out after %d s (at %s)", out->domain,
		            timeout, name);
		return;
	case DNS_STOP_VOID_LIMIT:
		out->result = PM_SPF_PERMERROR;
		set_comment(out, "void lookup limit exceeded (at %s)", name);
		return;
	case DNS_STOP_TERM_LIMIT:
		out->result = PM_SPF_PERMERROR;
		set_comment(out, "more than %d DNS-querying terms (at %s)", DNS_MAX_TERMS, name);
		return;
	case DNS_STOP_QUERY_CAP:
		out->result = PM_SPF_PERMERROR;
		set_comment(out, "DNS query limit (%d) exceeded (at %s)", max_queries, name);
		return;
	}
}

/*
 * evaluate - run libspf2 for sender (local@domain, already in out->domain)
 * and helo_dom, then correct the result. ip is a usable address.
 */
static void evaluate(const struct spf_settings *s, const struct dns_budget *budget,
                     const struct pm_ip *ip, const char *sender, const char *helo_dom,
                     struct spf_outcome *out)
{
	SPF_server_t *sp;
	SPF_request_t *volatile req = NULL;
	SPF_response_t *volatile resp = NULL;
	SPF_errcode_t err = SPF_E_SUCCESS;
	struct dns_eval ev;
	sigjmp_buf jb;
	char ipbuf[PM_IP_STRLEN];

	pm_ip_format(ip, ipbuf, sizeof(ipbuf));
	sp = spf_server(s);
	if (sp == NULL) {
		out->result = PM_SPF_TEMPERROR;
		set_comment(out, "cannot create the libspf2 server");
		return;
	}
	dns_eval_begin(&ev, budget, s->max_dns_queries, s->max_void_lookups);
	if (sigsetjmp(jb, 0) != 0) {
		/* SPF_error inside libspf2: its state is suspect, leak it and start afresh */
		spf_unwind = NULL;
		pthread_setspecific(spf_key, NULL);
		dns_eval_end(&ev);
		out->result = PM_SPF_TEMPERROR;
		out->dns_queries = ev.queries;
		out->void_lookups = ev.voids;
		set_comment(out, "internal libspf2 error evaluating %s", out->domain);
		return;
	}
	spf_unwind = &jb;

	req = SPF_request_new(sp);
	if (req == NULL)
		pm_fatal("spf: out of memory");
	if (ip->family == AF_INET) {
		struct in_addr a;

		memcpy(&a, ip->addr, 4);
		SPF_request_set_ipv4(req, a);
	} else {
		struct in6_addr a;

		memcpy(&a, ip->addr, 16);
		SPF_request_set_ipv6(req, a);
	}
	if (SPF_request_set_env_from(req, sender) != 0 ||
	    SPF_request_set_helo_dom(req, helo_dom) != SPF_E_SUCCESS) {
		err = SPF_E_NO_MEMORY;
	} else {
		SPF_response_t *r = NULL;

		err = SPF_request_query_mailfrom(req, &r);
		resp = r;
	}
	spf_unwind = NULL;
	dns_eval_end(&ev);

	out->result = map_result(resp ? SPF_response_result(resp) : SPF_RESULT_INVALID);
	out->dns_queries = ev.queries;
	out->void_lookups = ev.voids;
	result_comment(out, ipbuf, resp, err);
	correct_result(out, &ev, s->timeout, s->max_dns_queries);

	if (resp != NULL)
		SPF_response_free(resp);
	SPF_request_free(req);
}

/* outcome_init - an empty outcome: result none, nothing looked up */
static void outcome_init(struct spf_outcome *out)
{
	memset(out, 0, sizeof(*out));
	out->result = PM_SPF_NONE;
}

/* ip_usable - a client address libspf2 can judge; sets a comment when not */
static bool ip_usable(const struct pm_ip *ip, struct spf_outcome *out)
{
	if (ip == NULL || (ip->family != AF_INET && ip->family != AF_INET6)) {
		set_comment(out, "no client address");
		return false;
	}
	return true;
}

void spf_check_helo(const struct spf_settings *s, const struct dns_budget *budget,
                    const struct pm_ip *ip, const char *helo, struct spf_outcome *out)
{
	char dom[256];
	char sender[256 + sizeof("postmaster@")];

	outcome_init(out);
	if (!domain_usable(helo, "HELO", dom, sizeof(dom), out))
		return;
	snprintf(out->domain, sizeof(out->domain), "%s", dom);
	if (!ip_usable(ip, out))
		return;
	snprintf(sender, sizeof(sender), "postmaster@%s", dom);
	evaluate(s, budget, ip, sender, dom, out);
}

void spf_check_mailfrom(const struct spf_settings *s, const struct dns_budget *budget,
                        const struct pm_ip *ip, const char *helo, const char *local,
                        const char *domain, struct spf_outcome *out)
{
	char dom[256];
	char hdom[256];
	struct spf_outcome scratch;
	struct strbuf sender;

	outcome_init(out);
	if (!domain_usable(domain, "sender domain", dom, sizeof(dom), out))
		return;
	snprintf(out->domain, sizeof(out->domain), "%s", dom);
	if (!ip_usable(ip, out))
		return;
	/* %{h}: the HELO name when it is one, else "unknown" (RFC 7208 7.3) */
	outcome_init(&scratch);
	if (!domain_usable(helo, "HELO", hdom, sizeof(hdom), &scratch))
		snprintf(hdom, sizeof(hdom), "unknown");
	sb_init(&sender);
	/* RFC 7208 4.3: an empty local part is "postmaster" */
	sb_append(&sender, local && local[0] ? local : "postmaster");
	sb_appendc(&sender, '@');
	sb_append(&sender, dom);
	evaluate(s, budget, ip, sender.s, hdom, out);
	sb_free(&sender);
}
