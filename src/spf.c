/*
 * NAME
 *	spf - SPF evaluation (RFC 7208 check_host)
 * SYNOPSIS
 *	spf_check_helo(), spf_check_mailfrom()
 * DESCRIPTION
 *	check_host() of RFC 7208 section 4 over our DNS layer (dns.c, which
 *	answers from the shared cache first). Records are compiled by the
 *	strict parser of spfrecord.c: a record that breaks the grammar
 *	anywhere is a permerror, with the exact reason in the comment.
 *
 *	One struct spf_eval per evaluation, on the caller's stack: nothing is
 *	shared between threads. Its deadline is that of the struct dns_budget
 *	given: the MTA command's, shared with the command's other lookups
 *	(spf.timeout in all; each query attempt at most spf.dns_timeout),
 *	and counts across include: and redirect= the DNS-querying terms (at
 *	most 10, RFC 7208 4.6.4), the void answers (spf.max_void_lookups) and
 *	every query (spf.max_dns_queries). The first limit reached, a
 *	temporary DNS failure (SERVFAIL, timeout, REFUSED) or the deadline
 *	stop the evaluation: permerror for a limit, temperror otherwise, never
 *	fail or none. exp= is checked but never fetched (the milter does not
 *	use its text). A client in 127.0.0.0/8 or ::1 passes ("localhost").
 *	An IPv4-mapped IPv6 client is judged as its IPv4 address.
 *
 *	An MX answer of more than 10 names is a permerror; of a PTR answer
 *	the first 10 names are used (RFC 7208 4.6.4). The PTR names validated
 *	for the ptr mechanism and %{p} are looked up once per evaluation.
 *
 *	Inputs that cannot be judged give "none" with a comment saying why:
 *	no client address, an empty, literal or malformed HELO or sender
 *	domain (RFC 7208 4.3).
 * DIAGNOSTICS
 *	None; every outcome is in struct spf_outcome.
 */
#include <arpa/inet.h>
#include <arpa/nameser.h>
#include <netinet/in.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "addr.h"
#include "dns.h"
#include "policy.h"
#include "spf.h"
#include "spfrecord.h"
#include "util.h"

#define SPF_MAX_TERMS    10 /* RFC 7208 4.6.4: DNS-querying terms per evaluation */
#define SPF_MAX_MX_NAMES 10 /* more is a permerror */
#define SPF_MAX_PTR      10 /* PTR names looked at; the rest are ignored */

/* One evaluation (check_host with its includes and redirects). */
struct spf_eval {
	const struct spf_settings *s;
	struct pm_ip ip; /* the client (IPv4-mapped IPv6 made IPv4) */
	char ipstr[PM_IP_STRLEN];
	char ipmacro[80];   /* %{i}: dotted quad or dotted nibbles */
	const char *sender; /* local@domain */
	const char *local;
	const char *origin;        /* the sender's domain */
	const char *helo;          /* %{h} */
	struct dns_budget *budget; /* the MTA command's: every query goes through it */
	unsigned queries, voids, terms;
	bool stopped;                /* a limit, an error or the deadline: stop */
	enum pm_spf_result stop_res; /* permerror or temperror */
	char reason[256];            /* why a permerror or temperror */
	enum dns_fail dns_fail;      /* temperror: why the query failed */
	bool ptr_done;               /* ptr_names holds the validated PTR names */
	char *ptr_names[SPF_MAX_PTR];
	unsigned nptr;
};

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

/* stop - end the evaluation with result r (the first reason wins); returns r */
static enum pm_spf_result __attribute__((format(printf, 3, 4)))
stop(struct spf_eval *ev, enum pm_spf_result r, const char *fmt, ...)
{
	va_list ap;

	if (ev->stopped)
		return ev->stop_res;
	ev->stopped = true;
	ev->stop_res = r;
	va_start(ap, fmt);
	vsnprintf(ev->reason, sizeof(ev->reason), fmt, ap);
	va_end(ap);
	return r;
}

/* shown_name - name escaped for a reason */
static const char *shown_name(char *buf, size_t size, const char *name)
{
	return pm_escape_str(buf, size, name);
}

/*
 * query - one lookup of the evaluation: the query cap and the deadline
 * first, then dns_budget_query_any (cache, then resolver). DNS_TEMPFAIL
 * stops the evaluation (temperror, its cause in ev->dns_fail); so does a
 * limit, with ev->stopped set. On DNS_OK *r holds the answer (the
 * caller frees it).
 */
static enum dns_status query(struct spf_eval *ev, const char *name, int type, struct dns_reply *r)
{
	enum dns_status st;
	char b[128];

	memset(r, 0, sizeof(*r));
	if (ev->stopped)
		return DNS_TEMPFAIL;
	if (dns_budget_ms_left(ev->budget) < DNS_MIN_QUERY_MS) {
		ev->dns_fail = DNS_FAIL_BUDGET;
		stop(ev, PM_SPF_TEMPERROR,
		     "SPF evaluation timed out: DNS budget of %d s spent (at %s)",
		     ev->budget->seconds, shown_name(b, sizeof(b), name));
		return DNS_TEMPFAIL;
	}
	if (ev->s->max_dns_queries > 0 && ev->queries >= (unsigned)ev->s->max_dns_queries) {
		stop(ev, PM_SPF_PERMERROR, "DNS query limit (%d) exceeded (at %s)",
		     ev->s->max_dns_queries, shown_name(b, sizeof(b), name));
		return DNS_TEMPFAIL;
	}
	ev->queries++;
	st = dns_budget_query_any(ev->budget, name, type, r);
	if (st == DNS_TEMPFAIL) {
		ev->dns_fail = ev->budget->fail;
		if (dns_budget_ms_left(ev->budget) == 0)
			stop(ev, PM_SPF_TEMPERROR,
			     "SPF evaluation timed out: DNS budget of %d s spent (at %s)",
			     ev->budget->seconds, shown_name(b, sizeof(b), name));
		else
			stop(ev, PM_SPF_TEMPERROR, "DNS error looking up %s",
			     shown_name(b, sizeof(b), name));
	}
	return st;
}

/* void_answer - count a void answer of a term's own lookup; false once over the limit */
static bool void_answer(struct spf_eval *ev, const char *name)
{
	char b[128];

	if (++ev->voids > (unsigned)(ev->s->max_void_lookups >= 0 ? ev->s->max_void_lookups : 2)) {
		stop(ev, PM_SPF_PERMERROR, "void lookup limit exceeded (at %s)",
		     shown_name(b, sizeof(b), name));
		return false;
	}
	return true;
}

/* A record of an answer, as the evaluation needs it. */
struct rrset {
	unsigned n;
	struct {
		unsigned char addr[16]; /* A, AAAA */
		char *name;             /* MX, PTR: the target */
		char *txt;              /* TXT: the strings joined (may hold NULs) */
		size_t txtlen;
	} * rr;
};

/* rrset_free - free what set holds */
static void rrset_free(struct rrset *set)
{
	unsigned i;

	for (i = 0; i < set->n; i++) {
		free(set->rr[i].name);
		free(set->rr[i].txt);
	}
	free(set->rr);
	set->rr = NULL;
	set->n = 0;
}

/* rrset_parse - the answer's records of type into set; false when malformed */
static bool rrset_parse(const unsigned char *msg, int len, int type, struct rrset *set)
{
	struct dns_answer a;
	struct dns_rr rr;
	int r;

	memset(set, 0, sizeof(*set));
	if (!dns_answer_open(&a, msg, len, type))
		return false;
	while ((r = dns_answer_next(&a, &rr)) > 0) {
		set->rr = xrealloc(set->rr, (set->n + 1) * sizeof(*set->rr));
		memset(&set->rr[set->n], 0, sizeof(set->rr[set->n]));
		memcpy(set->rr[set->n].addr, rr.addr, sizeof(rr.addr));
		if (type == ns_t_mx || type == ns_t_ptr)
			set->rr[set->n].name = xstrdup(rr.name);
		set->rr[set->n].txt = rr.txt;
		set->rr[set->n].txtlen = rr.txtlen;
		set->n++;
	}
	return r == 0;
}

/*
 * lookup - query name/type and parse the answer into set (empty for
 * NXDOMAIN/NODATA). Returns the status; a malformed answer is
 * DNS_TEMPFAIL and stops the evaluation.
 */
static enum dns_status lookup(struct spf_eval *ev, const char *name, int type, struct rrset *set)
{
	struct dns_reply ans;
	enum dns_status st = query(ev, name, type, &ans);
	char b[128];
	bool ok;

	memset(set, 0, sizeof(*set));
	if (st != DNS_OK)
		return st;
	ok = rrset_parse(ans.msg, ans.len, type, set);
	dns_reply_free(&ans);
	if (!ok) {
		rrset_free(set);
		ev->dns_fail = DNS_FAIL_MALFORMED;
		stop(ev, PM_SPF_TEMPERROR, "malformed DNS answer for %s",
		     shown_name(b, sizeof(b), name));
		return DNS_TEMPFAIL;
	}
	return set->n > 0 ? DNS_OK : DNS_NODATA;
}

/* addr_match - does the client fall in addr/prefix of its own family? */
static bool addr_match(const struct spf_eval *ev, const unsigned char *addr, unsigned prefix)
{
	unsigned full = prefix / 8, rest = prefix % 8;

	if (memcmp(ev->ip.addr, addr, full) != 0)
		return false;
	if (rest == 0)
		return true;
	return ((ev->ip.addr[full] ^ addr[full]) & (0xff << (8 - rest))) == 0;
}

/* client_type - the address record type of the client's family */
static int client_type(const struct spf_eval *ev)
{
	return ev->ip.family == AF_INET ? ns_t_a : ns_t_aaaa;
}

/* rrset_has_client - does an A/AAAA set hold the client within the prefix? */
static bool rrset_has_client(const struct spf_eval *ev, const struct rrset *set, unsigned prefix)
{
	unsigned i;

	for (i = 0; i < set->n; i++)
		if (addr_match(ev, set->rr[i].addr, prefix))
			return true;
	return false;
}

/* reverse_name - the in-addr.arpa / ip6.arpa name of the client */
static void reverse_name(const struct spf_eval *ev, char *buf, size_t size)
{
	const unsigned char *a = ev->ip.addr;

	if (ev->ip.family == AF_INET) {
		snprintf(buf, size, "%u.%u.%u.%u.in-addr.arpa", a[3], a[2], a[1], a[0]);
	} else {
		size_t o = 0;
		int i;

		for (i = 15; i >= 0 && o + 4 < size; i--)
			o += (size_t)snprintf(buf + o, size - o, "%x.%x.", a[i] & 0xf, a[i] >> 4);
		snprintf(buf + o, size - o, "ip6.arpa");
	}
}

/*
 * ptr_validate - once per evaluation: the client's PTR names (the first
 * 10) whose addresses include the client. False when the evaluation
 * stopped (a DNS error or a limit). void_counts: a void PTR answer is a
 * void lookup (the ptr mechanism's; not for %{p}).
 */
static bool ptr_validate(struct spf_eval *ev, bool void_counts)
{
	char rev[80];
	struct rrset ptrs;
	enum dns_status st;
	unsigned i;

	if (ev->ptr_done)
		return true;
	reverse_name(ev, rev, sizeof(rev));
	st = lookup(ev, rev, ns_t_ptr, &ptrs);
	if (st == DNS_TEMPFAIL)
		return false;
	ev->ptr_done = true;
	if (st != DNS_OK)
		return !void_counts || void_answer(ev, rev);
	for (i = 0; i < ptrs.n && i < SPF_MAX_PTR; i++) {
		struct rrset addrs;

		st = lookup(ev, ptrs.rr[i].name, client_type(ev), &addrs);
		if (st == DNS_TEMPFAIL) {
			rrset_free(&ptrs);
			return false;
		}
		if (rrset_has_client(ev, &addrs, ev->ip.family == AF_INET ? 32 : 128))
			ev->ptr_names[ev->nptr++] = xstrdup(ptrs.rr[i].name);
		rrset_free(&addrs);
	}
	rrset_free(&ptrs);
	return true;
}

/* name_within - is name target or a subdomain of it (case-insensitive)? */
static bool name_within(const char *name, const char *target)
{
	size_t n = strlen(name), t = strlen(target);

	if (t > 0 && target[t - 1] == '.')
		t--;
	if (n > 0 && name[n - 1] == '.')
		n--;
	if (n == t)
		return strncasecmp(name, target, n) == 0;
	return n > t && name[n - t - 1] == '.' && strncasecmp(name + n - t, target, t) == 0;
}

/* ptr_macro - %{p}: the validated name, target or a subdomain preferred, else "unknown" */
static bool ptr_macro(void *arg, const char *domain, struct strbuf *out)
{
	struct spf_eval *ev = arg;
	const char *best = NULL;
	unsigned i;

	if (!ptr_validate(ev, false))
		return false;
	for (i = 0; i < ev->nptr && best == NULL; i++)
		if (strcasecmp(ev->ptr_names[i], domain) == 0)
			best = ev->ptr_names[i];
	for (i = 0; i < ev->nptr && best == NULL; i++)
		if (name_within(ev->ptr_names[i], domain))
			best = ev->ptr_names[i];
	if (best == NULL && ev->nptr > 0)
		best = ev->ptr_names[0];
	sb_append(out, best ? best : "unknown");
	return true;
}

/*
 * target - expand spec (or take domain when spec is NULL) into the name
 * to look up (caller frees); NULL when the evaluation stopped.
 */
static char *target(struct spf_eval *ev, const char *spec, const char *domain)
{
	struct spf_macro_ctx ctx = {
	    .sender = ev->sender,
	    .local = ev->local,
	    .origin = ev->origin,
	    .domain = domain,
	    .ip = ev->ipmacro,
	    .ipver = ev->ip.family == AF_INET ? "in-addr" : "ip6",
	    .helo = ev->helo,
	    .ptr = ptr_macro,
	    .arg = ev,
	};
	struct strbuf sb;

	if (spec == NULL)
		return xstrdup(domain);
	sb_init(&sb);
	if (!spf_macro_expand(spec, &ctx, &sb)) {
		sb_free(&sb);
		return NULL;
	}
	return spf_target_name(sb_steal(&sb));
}

/* count_term - one more DNS-querying term; false (permerror) past 10 */
static bool count_term(struct spf_eval *ev, const char *what, const char *domain)
{
	char b[128];

	if (++ev->terms > SPF_MAX_TERMS) {
		stop(ev, PM_SPF_PERMERROR, "more than %d DNS-querying terms (at %s in %s)",
		     SPF_MAX_TERMS, what, shown_name(b, sizeof(b), domain));
		return false;
	}
	return true;
}

static enum pm_spf_result check_host(struct spf_eval *ev, const char *domain);

/* Result of one mechanism. */
enum match { NO_MATCH, MATCH, STOPPED };

/* match_a - the a mechanism, or an MX target's addresses when void_counts is false */
static enum match match_addrs(struct spf_eval *ev, const char *name, const struct spf_term *t,
                              bool void_counts)
{
	struct rrset set;
	enum dns_status st;
	enum match m;

	st = lookup(ev, name, client_type(ev), &set);
	if (st == DNS_TEMPFAIL)
		return STOPPED;
	if (st != DNS_OK)
		return void_counts && !void_answer(ev, name) ? STOPPED : NO_MATCH;
	m = rrset_has_client(ev, &set, ev->ip.family == AF_INET ? t->cidr4 : t->cidr6) ? MATCH
	                                                                               : NO_MATCH;
	rrset_free(&set);
	return m;
}

/* match_mx - the mx mechanism */
static enum match match_mx(struct spf_eval *ev, const char *name, const struct spf_term *t)
{
	struct rrset set;
	enum dns_status st;
	enum match m = NO_MATCH;
	unsigned i;
	char b[128];

	st = lookup(ev, name, ns_t_mx, &set);
	if (st == DNS_TEMPFAIL)
		return STOPPED;
	if (st != DNS_OK)
		return void_answer(ev, name) ? NO_MATCH : STOPPED;
	if (set.n > SPF_MAX_MX_NAMES) {
		stop(ev, PM_SPF_PERMERROR, "more than %d MX names for %s", SPF_MAX_MX_NAMES,
		     shown_name(b, sizeof(b), name));
		rrset_free(&set);
		return STOPPED;
	}
	for (i = 0; i < set.n && m == NO_MATCH; i++)
		if (set.rr[i].name[0] != '\0') /* a null MX (".") has no address */
			m = match_addrs(ev, set.rr[i].name, t, false);
	rrset_free(&set);
	return m;
}

/* match_ptr - the ptr mechanism: a validated PTR name within name */
static enum match match_ptr(struct spf_eval *ev, const char *name)
{
	unsigned i;

	if (!ptr_validate(ev, true))
		return STOPPED;
	for (i = 0; i < ev->nptr; i++)
		if (name_within(ev->ptr_names[i], name))
			return MATCH;
	return NO_MATCH;
}

/* match_exists - the exists mechanism: any A record */
static enum match match_exists(struct spf_eval *ev, const char *name)
{
	struct rrset set;
	enum dns_status st = lookup(ev, name, ns_t_a, &set);

	if (st == DNS_TEMPFAIL)
		return STOPPED;
	rrset_free(&set);
	if (st != DNS_OK)
		return void_answer(ev, name) ? NO_MATCH : STOPPED;
	return MATCH;
}

/* match_include - the include mechanism (RFC 7208 5.2) */
static enum match match_include(struct spf_eval *ev, const char *name)
{
	char b[128];

	switch (check_host(ev, name)) {
	case PM_SPF_PASS:
		return MATCH;
	case PM_SPF_FAIL:
	case PM_SPF_SOFTFAIL:
	case PM_SPF_NEUTRAL:
		return NO_MATCH;
	case PM_SPF_NONE:
		stop(ev, PM_SPF_PERMERROR, "include:%s has no SPF record",
		     shown_name(b, sizeof(b), name));
		return STOPPED;
	default:
		return STOPPED;
	}
}

/* mech_name - a mechanism's name for reasons */
static const char *mech_name(enum spf_mech m)
{
	static const char *const names[] = {"all", "include", "a",   "mx",
	                                    "ptr", "ip4",     "ip6", "exists"};

	return (unsigned)m < sizeof(names) / sizeof(names[0]) ? names[m] : "?";
}

/* match_term - evaluate one directive against the client */
static enum match match_term(struct spf_eval *ev, const struct spf_term *t, const char *domain)
{
	char *name;
	enum match m = NO_MATCH;

	switch (t->mech) {
	case SPF_MECH_ALL:
		return MATCH;
	case SPF_MECH_IP4:
		return ev->ip.family == AF_INET && addr_match(ev, t->addr, t->cidr4) ? MATCH
		                                                                     : NO_MATCH;
	case SPF_MECH_IP6:
		return ev->ip.family == AF_INET6 && addr_match(ev, t->addr, t->cidr6) ? MATCH
		                                                                      : NO_MATCH;
	default:
		break;
	}
	if (!count_term(ev, mech_name(t->mech), domain))
		return STOPPED;
	name = target(ev, t->domain, domain);
	if (name == NULL)
		return STOPPED;
	switch (t->mech) {
	case SPF_MECH_INCLUDE:
		m = match_include(ev, name);
		break;
	case SPF_MECH_A:
		m = match_addrs(ev, name, t, true);
		break;
	case SPF_MECH_MX:
		m = match_mx(ev, name, t);
		break;
	case SPF_MECH_PTR:
		m = match_ptr(ev, name);
		break;
	case SPF_MECH_EXISTS:
		m = match_exists(ev, name);
		break;
	default:
		break;
	}
	free(name);
	return m;
}

/* qualifier_result - the result a matching directive gives */
static enum pm_spf_result qualifier_result(char q)
{
	switch (q) {
	case '-':
		return PM_SPF_FAIL;
	case '~':
		return PM_SPF_SOFTFAIL;
	case '?':
		return PM_SPF_NEUTRAL;
	default:
		return PM_SPF_PASS;
	}
}

/*
 * fetch_record - the one v=spf1 record of domain, compiled into rec.
 * PM_SPF_PASS when there is one; none, or a stopped evaluation's result.
 */
static enum pm_spf_result fetch_record(struct spf_eval *ev, const char *domain,
                                       struct spf_record *rec)
{
	struct rrset set;
	enum dns_status st;
	unsigned i, found = 0, idx = 0;
	char err[SPF_ERR_SIZE], b[128];

	memset(rec, 0, sizeof(*rec));
	st = lookup(ev, domain, ns_t_txt, &set);
	if (st == DNS_TEMPFAIL)
		return ev->stopped ? ev->stop_res : PM_SPF_TEMPERROR;
	for (i = 0; i < set.n; i++) {
		if (spf_record_is_spf(set.rr[i].txt, set.rr[i].txtlen)) {
			found++;
			idx = i;
		}
	}
	if (found == 0) {
		rrset_free(&set);
		return PM_SPF_NONE;
	}
	if (found > 1) {
		rrset_free(&set);
		return stop(ev, PM_SPF_PERMERROR, "%s has %u SPF records",
		            shown_name(b, sizeof(b), domain), found);
	}
	if (!spf_record_parse(set.rr[idx].txt, set.rr[idx].txtlen, rec, err)) {
		rrset_free(&set);
		return stop(ev, PM_SPF_PERMERROR, "SPF record of %s: %s",
		            shown_name(b, sizeof(b), domain), err);
	}
	rrset_free(&set);
	return PM_SPF_PASS;
}

/* check_host - RFC 7208 4: the result of domain's record for the client */
static enum pm_spf_result check_host(struct spf_eval *ev, const char *domain)
{
	struct spf_record rec;
	enum pm_spf_result r;
	size_t i;
	char b[128];

	r = fetch_record(ev, domain, &rec);
	if (r != PM_SPF_PASS)
		return r;
	for (i = 0; i < rec.nterms; i++) {
		enum match m = match_term(ev, &rec.terms[i], domain);

		if (m == STOPPED) {
			spf_record_free(&rec);
			return ev->stop_res;
		}
		if (m == MATCH) {
			r = qualifier_result(rec.terms[i].qualifier);
			spf_record_free(&rec);
			return r;
		}
	}
	if (rec.redirect != NULL) {
		char *name;

		if (!count_term(ev, "redirect", domain) ||
		    (name = target(ev, rec.redirect, domain)) == NULL) {
			spf_record_free(&rec);
			return ev->stop_res;
		}
		spf_record_free(&rec);
		r = check_host(ev, name);
		if (r == PM_SPF_NONE && !ev->stopped)
			r = stop(ev, PM_SPF_PERMERROR, "redirect=%s has no SPF record",
			         shown_name(b, sizeof(b), name));
		free(name);
		return r;
	}
	spf_record_free(&rec);
	return PM_SPF_NEUTRAL;
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

/* client_of - the client as SPF sees it: an IPv4-mapped IPv6 address is IPv4 */
static void client_of(const struct pm_ip *ip, struct pm_ip *out)
{
	static const unsigned char mapped[12] = {0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff};

	*out = *ip;
	if (ip->family == AF_INET6 && memcmp(ip->addr, mapped, sizeof(mapped)) == 0) {
		memset(out, 0, sizeof(*out));
		out->family = AF_INET;
		memcpy(out->addr, ip->addr + 12, 4);
	}
}

/* ip_macro - %{i}: the dotted quad, or 32 dotted nibbles */
static void ip_macro(const struct pm_ip *ip, char *buf, size_t size)
{
	const unsigned char *a = ip->addr;

	if (ip->family == AF_INET) {
		snprintf(buf, size, "%u.%u.%u.%u", a[0], a[1], a[2], a[3]);
	} else {
		size_t o = 0;
		int i;

		for (i = 0; i < 16 && o + 4 < size; i++)
			o += (size_t)snprintf(buf + o, size - o, "%s%x.%x", i ? "." : "", a[i] >> 4,
			                      a[i] & 0xf);
	}
}

/* result_comment - the comment for the evaluation's result */
static void result_comment(struct spf_outcome *out, const struct spf_eval *ev)
{
	const char *d = out->domain;
	const char *ip = ev->ipstr;

	switch (out->result) {
	case PM_SPF_PASS:
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
	default:
		set_comment(out, "%s", ev->reason[0] ? ev->reason : "SPF evaluation failed");
		break;
	}
}

/*
 * evaluate - check_host for out->domain (already set) with the sender
 * local@domain and the HELO name helo_dom; ip is a usable address.
 */
static void evaluate(const struct spf_settings *s, struct dns_budget *budget,
                     const struct pm_ip *ip, const char *local, const char *helo_dom,
                     struct spf_outcome *out)
{
	struct spf_eval ev;
	struct strbuf sender;
	unsigned i;

	memset(&ev, 0, sizeof(ev));
	ev.s = s;
	client_of(ip, &ev.ip);
	pm_ip_format(&ev.ip, ev.ipstr, sizeof(ev.ipstr));
	if (pm_ip_is_loopback(&ev.ip)) {
		out->result = PM_SPF_PASS;
		set_comment(out, "%s is localhost (always passes)", ev.ipstr);
		return;
	}
	ip_macro(&ev.ip, ev.ipmacro, sizeof(ev.ipmacro));
	sb_init(&sender);
	sb_append(&sender, local);
	sb_appendc(&sender, '@');
	sb_append(&sender, out->domain);
	ev.sender = sender.s;
	ev.local = local;
	ev.origin = out->domain;
	ev.helo = helo_dom;
	/* the one deadline: the MTA command's DNS budget, shared with its other lookups */
	ev.budget = budget;

	out->result = check_host(&ev, out->domain);
	if (ev.stopped)
		out->result = ev.stop_res;
	out->dns_queries = ev.queries;
	out->void_lookups = ev.voids;
	if (out->result == PM_SPF_TEMPERROR)
		out->dns_fail = ev.dns_fail;
	result_comment(out, &ev);
	for (i = 0; i < ev.nptr; i++)
		free(ev.ptr_names[i]);
	sb_free(&sender);
}

/* outcome_init - an empty outcome: result none, nothing looked up */
static void outcome_init(struct spf_outcome *out)
{
	memset(out, 0, sizeof(*out));
	out->result = PM_SPF_NONE;
}

/* ip_usable - a client address SPF can judge; sets a comment when not */
static bool ip_usable(const struct pm_ip *ip, struct spf_outcome *out)
{
	if (ip == NULL || (ip->family != AF_INET && ip->family != AF_INET6)) {
		set_comment(out, "no client address");
		return false;
	}
	return true;
}

void spf_check_helo(const struct spf_settings *s, struct dns_budget *budget, const struct pm_ip *ip,
                    const char *helo, struct spf_outcome *out)
{
	char dom[256];

	outcome_init(out);
	if (!domain_usable(helo, "HELO", dom, sizeof(dom), out))
		return;
	snprintf(out->domain, sizeof(out->domain), "%s", dom);
	if (!ip_usable(ip, out))
		return;
	evaluate(s, budget, ip, "postmaster", dom, out);
}

void spf_check_mailfrom(const struct spf_settings *s, struct dns_budget *budget,
                        const struct pm_ip *ip, const char *helo, const char *local,
                        const char *domain, struct spf_outcome *out)
{
	char dom[256];
	char hdom[256];
	struct spf_outcome scratch;

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
	/* RFC 7208 4.3: an empty local part is "postmaster" */
	evaluate(s, budget, ip, local && local[0] ? local : "postmaster", hdom, out);
}
