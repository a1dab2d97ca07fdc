/*
 * NAME
 *	dns 3h - the milter's own DNS layer (libresolv, one state per thread)
 * SYNOPSIS
 *	#include "dns.h"
 * DESCRIPTION
 *	Every lookup has three outcomes, kept apart all the way up: data,
 *	no data (NXDOMAIN or an empty answer), and "try again later"
 *	(SERVFAIL, timeout, REFUSED from every server, a malformed answer).
 *	Each thread has its own resolver state (res_ninit on first use,
 *	again when /etc/resolv.conf changes, res_nclose at thread exit).
 *
 *	Every answer goes through the shared cache (dnscache.h), negative
 *	ones with their authority section, so that they live for their SOA
 *	minimum (RFC 2308), failures with their cause.
 *
 *	struct dns_budget is the DNS time of one MTA command (connect,
 *	HELO, MAIL FROM, end of message): one deadline and the per-attempt
 *	timeout, built once per command by session.c and passed to every
 *	check of that command, which queries through it
 *	(dns_budget_query, dns_budget_query_any for SPF's macro names), so
 *	the command's lookups together never take more than its seconds
 *	(plus what the last query may overrun: see DNS_MIN_QUERY_MS). It
 *	also says why its last query failed for now (b->fail), which the
 *	checks keep in their results for the logs. No other way to query
 *	is public.
 *
 *	Each query hands the caller its own copy of the answer (struct
 *	dns_reply), read with the record iterator (dns_answer_open/next,
 *	dns_answer_count), never walked by the checks themselves.
 * DIAGNOSTICS
 *	Allocation failure aborts (xmalloc). Nothing else is fatal.
 */
#ifndef PM_DNS_H
#define PM_DNS_H

#include <arpa/nameser.h>
#include <stdbool.h>
#include <stddef.h>
#include <time.h>

enum dns_status {
	DNS_OK = 0,   /* at least one record of the type asked for */
	DNS_NXDOMAIN, /* the name does not exist (or is not a valid name) */
	DNS_NODATA,   /* the name exists, no record of that type */
	DNS_TEMPFAIL, /* try again later: SERVFAIL, timeout, REFUSED, bad answer */
};

/* Why a query failed for now (DNS_TEMPFAIL), for logs: the callers see DNS_TEMPFAIL alike. */
enum dns_fail {
	DNS_FAIL_NONE = 0,
	DNS_FAIL_TIMEOUT,   /* no answer in time (from at least one server) */
	DNS_FAIL_SERVFAIL,  /* RCODE 2 */
	DNS_FAIL_REFUSED,   /* RCODE 5 */
	DNS_FAIL_FORMERR,   /* RCODE 1 */
	DNS_FAIL_OTHER,     /* NOTIMP, another RCODE, a query that could not be built */
	DNS_FAIL_MALFORMED, /* an answer shorter than its header */
	DNS_FAIL_BUDGET,    /* not sent: the command's DNS budget was spent */
	DNS_FAIL_REJECTED,  /* SERVFAIL, REFUSED or NOTIMP from every server (or none
	                       listening): glibc's res_nsend tries the next server on those
	                       and keeps no RCODE, so SERVFAIL and REFUSED above are seen
	                       only when it hands such an answer back; told from a timeout
	                       by the time it took (less than one attempt's wait) */
};

/*
 * The resolver waits whole seconds (at least 1 s per server asked), so
 * a query started with little time left may end after the deadline: by
 * under half a second with one name server in resolv.conf, by up to a
 * second more per further one. With less than DNS_MIN_QUERY_MS left a
 * budget gives a cached answer only, else DNS_TEMPFAIL without a query.
 */
#define DNS_MIN_QUERY_MS 500

/*
 * A query function for a budget (tests and fuzz targets replace the
 * resolver with one): the answer in *answer on DNS_OK, the function's
 * own bytes, which dns_budget_query copies at once. timeout is the
 * per-attempt timeout, left_ms what is left of the budget. A function
 * that knows why it failed may set the budget's fail (arg can point to
 * the budget); otherwise a DNS_TEMPFAIL counts as DNS_FAIL_OTHER.
 */
typedef enum dns_status (*dns_query_fn)(void *arg, const char *name, int type, int timeout,
                                        long left_ms, const unsigned char **answer,
                                        int *answer_len);

/*
 * The DNS budget of one MTA command (connect, HELO, MAIL FROM, end of
 * message): one deadline shared by every lookup the command makes, and
 * the per-attempt timeout. Built once per command by the caller
 * (session.c), usually on its stack, and handed to every check of that
 * command: the one way a module queries DNS.
 */
struct dns_budget {
	dns_query_fn query;       /* NULL: this thread's resolver, behind the cache */
	void *arg;                /* for query */
	int dns_timeout;          /* seconds per query attempt */
	int seconds;              /* the whole budget as given (for messages) */
	struct timespec deadline; /* CLOCK_MONOTONIC: no query is sent past it */
	unsigned queries;         /* queries sent through dns_budget_query */
	enum dns_fail fail;       /* why the last query failed for now (NONE: it did not) */
};

/*
 * An answer of the caller's own: a copy of the whole DNS message (len
 * bytes), read with dns_answer_open(), released with dns_reply_free().
 * Every query gives a new copy, so two answers can be kept side by side
 * (no query overwrites another's answer).
 */
struct dns_reply {
	unsigned char *msg; /* NULL unless the query gave DNS_OK */
	int len;
};

/*
 * dns_budget_init - a budget of seconds from now (0 or less: 20),
 * dns_timeout seconds per attempt (0: resolv.conf's), the real resolver
 */
void dns_budget_init(struct dns_budget *b, int dns_timeout, int seconds);

/* dns_budget_ms_left - milliseconds left before b's deadline, 0 once it is past */
long dns_budget_ms_left(const struct dns_budget *b);

/*
 * dns_budget_query - one query for name/type (ns_t_a, ns_t_mx, ...)
 * within b: the shared cache first, then the resolver with its attempts
 * (per-attempt timeout, retries over every server) cut so that the
 * query takes about what is left of b at most. DNS_TEMPFAIL without a
 * query when b is spent (fail DNS_FAIL_BUDGET). Counts the query in
 * b->queries and sets b->fail. On DNS_OK *r holds a copy of the answer
 * (dns_reply_free it); otherwise r->msg is NULL. A name dns_name_ok()
 * refuses is DNS_NXDOMAIN, never sent.
 */
enum dns_status dns_budget_query(struct dns_budget *b, const char *name, int type,
                                 struct dns_reply *r);

/*
 * dns_budget_query_any - dns_budget_query for a name of any bytes but
 * the backslash, checked for lengths only (labels 1..63, 253 in all):
 * RFC 7208 macros can expand to names holding spaces, which are looked
 * up as they are.
 */
enum dns_status dns_budget_query_any(struct dns_budget *b, const char *name, int type,
                                     struct dns_reply *r);

/* dns_reply_free - release r's answer (an empty or already freed reply is fine) */
void dns_reply_free(struct dns_reply *r);

/*
 * dns_fail_name - f for logs: "timeout", "servfail", "refused",
 * "formerr", "other", "malformed", "budget", "servfail_or_refused" (""
 * for DNS_FAIL_NONE)
 */
const char *dns_fail_name(enum dns_fail f);

/* dns_name_ok - a name we may send: labels 1..63 bytes, at most 253 in all, no controls */
bool dns_name_ok(const char *name);

/*
 * dns_txt_join - the character-strings of one TXT RDATA (rdlen bytes)
 * joined without separators (RFC 7208 3.3) into a new string (caller
 * frees). A string whose length byte runs past the end is cut at the end.
 */
char *dns_txt_join(const unsigned char *rdata, size_t rdlen);
/*
 * dns_txt_join_len - dns_txt_join, and the joined length in *outlen
 * (when not NULL): the text may hold NUL bytes (SPF must see them)
 */
char *dns_txt_join_len(const unsigned char *rdata, size_t rdlen, size_t *outlen);

/*
 * One record of an answer section, decoded for the type asked for
 * (records of other types, CNAMEs on the way, and of other classes
 * than IN are skipped):
 *	A, AAAA	addr (4 or 16 bytes; another RDATA length is malformed)
 *	MX	pref and name (RDATA under 3 bytes is malformed)
 *	PTR	name
 *	TXT	txt: the character-strings joined (dns_txt_join_len), NUL
 *		bytes kept and counted in txtlen; a new string the caller
 *		frees
 * name is the target as ns_name_uncompress gives it (the root: ".");
 * one that does not uncompress makes the answer malformed. rdata and
 * rdlen are the raw RDATA (in the answer) for every type.
 */
struct dns_rr {
	int type;
	const unsigned char *rdata;
	size_t rdlen;
	unsigned char addr[16];
	unsigned pref;
	char name[NS_MAXDNAME];
	char *txt;
	size_t txtlen;
};

/* An answer being read: dns_answer_open, then dns_answer_next until it returns 0 or -1. */
struct dns_answer {
	ns_msg msg;
	int type;  /* the records wanted */
	int i, n;  /* the next answer record, and how many there are */
	bool open; /* the header parsed */
};

/*
 * dns_answer_open - start reading the records of type in the answer of
 * len bytes; false when it is malformed (NULL, empty, over 65535 bytes,
 * or a header that does not parse)
 */
bool dns_answer_open(struct dns_answer *a, const unsigned char *answer, int len, int type);
/*
 * dns_answer_next - the next record of the type asked for into *rr:
 * 1, 0 at the end of the answer section, -1 when the answer is
 * malformed (a record that does not parse or decode; a later call
 * returns -1 again)
 */
int dns_answer_next(struct dns_answer *a, struct dns_rr *rr);
/*
 * dns_answer_count - the records of type (class IN) in an answer,
 * counted without decoding their RDATA; -1 when it is malformed
 */
int dns_answer_count(const unsigned char *answer, int len, int type);

/*
 * dns_answer_status - an answer's outcome by its header: NOERROR with
 * answers DNS_OK, without DNS_NODATA, NXDOMAIN DNS_NXDOMAIN, any other
 * RCODE (or under 12 bytes) DNS_TEMPFAIL with the cause in *fail (when
 * not NULL; DNS_FAIL_NONE otherwise)
 */
enum dns_status dns_answer_status(const unsigned char *msg, int len, enum dns_fail *fail);
#endif
