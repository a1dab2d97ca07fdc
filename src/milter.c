/*
 * NAME
 *	milter 3 - the libmilter callbacks: facts in, verdict out
 * SYNOPSIS
 *	#include "milter.h"
 *
 *	int milter_register(void);
 *	unsigned milter_active_sessions(void);
 * DESCRIPTION
 *	libmilter runs one thread per MTA connection. Each connection has a
 *	struct session (smfi_setpriv): the policy snapshot it took at
 *	connect, the client address and name, the HELO name, whether the
 *	client is trusted or authenticated, and the current struct message
 *	(sender, SPF outcome, accepted recipients, queue id, forged
 *	Authentication-Results headers). A message ends at end of message,
 *	abort or a new MAIL FROM; the session ends at xxfi_close, which may
 *	be the only callback.
 *
 *	Every callback does the same three things: gather facts into a
 *	struct pm_facts, make the lookups verdict_plan() asks for at its
 *	stage (DNSBLs, iprev, sender domain, SPF, DMARC; the recipient
 *	table), and apply what verdict_decide() says: a refusal
 *	goes out through smfi_setreply() with the configured code, enhanced
 *	code and text (placeholders expanded and escaped by reply_expand()). Every
 *	refusal, every "would" (a check in log or tag mode) and every
 *	accepted message is logged once with log_decision().
 *
 *	At connect, for a client that is not trusted, the DNS blocklists
 *	(dnsbl.c) are asked, then the client's reverse DNS is checked
 *	(iprev.c), both within one budget of spf.timeout seconds; no lookup
 *	is made when client_block already refuses the client, and no iprev
 *	lookup when a DNSBL does. A listing refuses the connection (zones
 *	with action reject); the iprev result is only applied at MAIL FROM,
 *	like the HELO SPF result, so that an authenticated client is never
 *	refused for it. The listings and the iprev result go into every
 *	decision record of the session.
 *
 *	The allow and block lists (policy.h lists[], lists.h) are matched
 *	when their fact arrives and kept as facts: the client address at
 *	connect, the client's verified name after the iprev lookup (made for
 *	the lists even when iprev.mode is off, then neither applied nor
 *	reported), the HELO name at HELO, the sender at MAIL FROM, each
 *	recipient at RCPT (an allowed recipient is counted; at end of
 *	message the message is allowed when every accepted one was). What
 *	matched (list_hit_format) goes into the detail of the records whose
 *	rule names that list; an allowed message's Authentication-Results
 *	header ends with a comment naming the list. Trusted clients are not
 *	matched. The global dry run is the verdict's business (verdict.h):
 *	a "would" is applied like any other.
 *
 *	A MAIL FROM refusal the verdict holds for RCPT (delayed: recipient
 *	exemptions, verdict.h) is kept in the message, not logged at MAIL
 *	FROM, and handed back as a fact at each RCPT, where it is sent (and
 *	logged) for a recipient that is not exempt; each recipient is
 *	matched against recipients.exempt_from_sender_checks
 *	(verdict_rcpt_exempt) and counted, so that end of message knows
 *	whether every accepted recipient is exempt. MAIL FROM commands are
 *	counted per connection (recipients.max_messages_per_connection).
 *
 *	Overrides per domain (verdict_mode): each fact set carries the
 *	sender domain and, at RCPT, that recipient's domain, at end of
 *	message every accepted recipient's (domains_of). A check runs when
 *	its mode or an override naming it is not off (policy_check_on); the
 *	verdict applies the mode in force, and the Authentication-Results
 *	header tags what the end-of-message mode says.
 *
 *	DNS time: each MTA command that looks anything up (connect, HELO,
 *	MAIL FROM, end of message) gets one struct dns_budget (dns.h) of
 *	spf.timeout seconds, built here and shared by every lookup the
 *	command makes: at MAIL FROM the sender domain, SPF (its evaluation
 *	keeps the budget's deadline) and the sender domain's DMARC record;
 *	at end of message (from the end of the headers) the DKIM keys and
 *	the author domain's DMARC record. No command waits for DNS longer
 *	than spf.timeout, plus what one last query may overrun (dns.h).
 *
 *	The HELO identity is checked with SPF at HELO (each HELO gets its
 *	own budget, so HELO and MAIL FROM together never hold one MTA
 *	command for two budgets), but its verdict is applied
 *	at MAIL FROM, once the milter knows whether the client authenticated
 *	(SMTP AUTH comes after EHLO): an authenticated client is never
 *	refused for its HELO (verdict.h). Trusted clients cause no SPF
 *	lookups at all. At MAIL FROM the sender domain is looked up first
 *	(sender.c); when that alone refuses the mail, MAIL FROM SPF is not
 *	evaluated (its lookups would be wasted).
 *
 *	From the first header on, each message of an untrusted,
 *	unauthenticated client is fed to a DKIM verifier (dkim.c), and the
 *	From header fields are counted (the first kept). At end of message
 *	the session's and the message's facts go to eom.c (eom_input_of,
 *	eom_evaluate), which verifies the signatures, judges the From
 *	header, looks up and evaluates the author domain's DMARC record
 *	(the record looked up at MAIL FROM for an SPF fail that waits for
 *	DMARC is used again when it is the same domain), then the local
 *	overrides and must_sign; what it found goes into the verdict's
 *	facts. When the verdict accepts, our forged Authentication-Results
 *	and incoming quarantine headers are removed, one
 *	Authentication-Results header (eom_authres_value) is inserted at
 *	the top, and a DMARC quarantine adds the quarantine header or asks
 *	the MTA to hold the message (smfi_quarantine).
 *
 *	Header values are asked for with their leading space
 *	(SMFIP_HDR_LEADSPC, negotiated when the MTA offers it) so that DKIM
 *	simple header canonicalisation sees the exact bytes.
 *
 *	The negotiation also asks for exactly the macros read here, stage by
 *	stage (wanted_macros, smfi_setsymlist), so that Postfix's and
 *	Sendmail's different default lists do not matter. At connect the
 *	session keeps what the MTA says of itself: its host name (j), its
 *	daemon name ({daemon_name}) and the local address the client
 *	connected to (Sendmail's {if_addr}, else Postfix's {daemon_addr});
 *	they go into every decision record of the session. The queue id
 *	({i}) is taken at MAIL FROM, RCPT TO, end of headers or end of
 *	message, whichever first has one (Sendmail gives it at MAIL FROM,
 *	Postfix only once a recipient is accepted), and is in every record
 *	of the message from then on.
 *
 *	Process-wide state here: the current policy (policy_acquire), the
 *	atomic count of open sessions, the draining flag, the ring of recent
 *	protocol notes (proto_ring, under proto_lock) and the once-only note
 *	about missing macros (macro_note_done); everything else belongs to a
 *	session.
 * DIAGNOSTICS
 *	A libmilter call that fails while the milter changes a message, or
 *	a session that lost its state, is an internal error: the verdict
 *	then gives 451 4.3.0 (or accepts, when milter.on_internal_error
 *	says so), and the failure is logged.
 */
#include <pthread.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/socket.h>

#include <libmilter/mfapi.h>

#include "addr.h"
#include "authres.h"
#include "cidr.h"
#include "dkim.h"
#include "dmarc.h"
#include "dnsbl.h"
#include "eom.h"
#include "iprev.h"
#include "lists.h"
#include "log.h"
#include "milter.h"
#include "policy.h"
#include "rcpt.h"
#include "sender.h"
#include "spf.h"
#include "util.h"
#include "verdict.h"

#define AR_HEADER     "Authentication-Results"
#define ADDR_TEXT_MAX (ADDR_LOCAL_MAX + ADDR_DOMAIN_MAX + 8)
#define HIT_TEXT_MAX  (LIST_ENTRY_MAX + 1200)

/* Which allow and block entries matched, and where (list_hit_format text). */
struct list_state {
	unsigned allow, block;       /* PM_LIST_BIT(kind) */
	char *hit[2][PM_LIST_KINDS]; /* [0] allow, [1] block */
};

/* One transaction: MAIL FROM to end of message (or abort). */
struct message {
	char *queue_id; /* NULL until the MTA tells ({i}) */
	bool started;   /* MAIL FROM seen */
	enum addr_status sender_status;
	struct pm_addr sender; /* valid when sender_status is ADDR_OK */
	char *sender_text;     /* for logs: "<>", "local@domain" or the path as given */
	struct sender_domain_outcome sender_domain; /* status UNCHECKED when not looked up */
	struct spf_outcome mfrom_spf;               /* result PM_SPF_UNCHECKED when not evaluated */
	char **rcpt_list;                           /* accepted recipients, one string each */
	char **rcpt_domains; /* their domains, for the overrides (NULL: no domain) */
	size_t nrcpt_list;   /* of rcpt_list and rcpt_domains */
	unsigned ar_count;   /* Authentication-Results headers seen so far */
	unsigned *ar_ours;   /* 1-based indices (among those) that claim our authserv-id */
	size_t n_ar_ours;
	unsigned qh_count; /* quarantine headers (dmarc.quarantine_header) that came in */
	bool headers_seen; /* the header callback ran (the verifier is set up then) */
	bool eom_clock;    /* eom_budget is set */
	/* the budget the DKIM key and DMARC lookups share (eom_dns_start) */
	struct dns_budget eom_budget;
	struct dkim_verifier *dkim; /* NULL when not verifying this message */
	unsigned from_count;        /* From header fields */
	char *from_value;           /* the first one's value */
	const char *singles[10];    /* static: the fields of verdict_singleton_field seen once */
	size_t nsingles;
	const char *repeated_field; /* static: the first of them seen a second time, or NULL */
	bool sender_dmarc_done;     /* sender_dmarc holds the MAIL FROM domain's record */
	struct dmarc_record sender_dmarc;
	const struct auth_eom *auth; /* during end of message: what it found (for logs, replies) */
	struct list_state lists;     /* sender (allow and block), recipient (allow: the first
	                                accepted recipient allowed; block: this RCPT's) */
	unsigned rcpt_allowed;       /* accepted recipients in lists.recipient.allow */
	unsigned rcpt_exempt;        /* accepted recipients in exempt_from_sender_checks */
	struct pm_verdict mail_refusal; /* MAIL FROM's refusal held for RCPT (delayed set) */
};

/* One MTA connection. */
struct session {
	struct policy *policy; /* our reference, released at close */
	struct pm_ip ip;       /* AF_UNSPEC: no address (local submission) */
	char addr[PM_IP_STRLEN];
	char *name;
	char *mta_host;   /* the MTA's host name (macro j), or NULL */
	char *mta_daemon; /* its daemon name ({daemon_name}), or NULL */
	char *local_addr; /* the address the client connected to ({if_addr}, {daemon_addr}) */
	char *helo;       /* NULL until HELO/EHLO */
	bool trusted;
	char trusted_net[PM_IP_STRLEN + 8]; /* the block that matched, or "local" */
	bool blocked;
	bool broken; /* state was lost: every stage is an internal error */
	bool authenticated;
	char *auth_user;
	unsigned long proto;         /* the SMFIP_* flags negotiated for this milter connection */
	struct spf_outcome helo_spf; /* result PM_SPF_UNCHECKED until HELO SPF ran */
	bool iprev_applies; /* iprev holds the connect-time result of an iprev check that is on
	                     (a lookup made only for the client name lists is not reported) */
	struct iprev_outcome iprev;
	bool iprev_checked, dnsbl_checked;    /* the lookups made at connect */
	struct dnsbl_outcome dnsbl;           /* zones asked at connect (nzones 0: none) */
	struct pm_decision_dnsbl *dnsbl_hits; /* the listings, for the decision records */
	size_t ndnsbl_hits;
	struct list_state lists; /* client, client_name (connect), helo (the last HELO) */
	char *verified_name;     /* iprev pass: the forward-confirmed PTR name, or NULL */
	unsigned unknown_rcpts;  /* unknown recipients refused in this session */
	unsigned messages;       /* MAIL FROM commands seen in this session */
	struct message msg;
};

static atomic_uint active_sessions;
static atomic_bool draining;

#define DRAIN_RCODE "421"
#define DRAIN_XCODE "4.3.2"
#define DRAIN_TEXT  "Service shutting down; try again later"

/* milter_set_draining - turn new connections away (or stop doing so) */
void milter_set_draining(bool on)
{
	atomic_store(&draining, on);
}

/* milter_active_sessions - connections open now */
unsigned milter_active_sessions(void)
{
	return atomic_load(&active_sessions);
}

/* lists_forget - forget the matches of kind k */
static void lists_forget(struct list_state *ls, enum list_kind k)
{
	ls->allow &= ~PM_LIST_BIT(k);
	ls->block &= ~PM_LIST_BIT(k);
	for (int i = 0; i < 2; i++) {
		free(ls->hit[i][k]);
		ls->hit[i][k] = NULL;
	}
}

/* lists_free - forget every match */
static void lists_free(struct list_state *ls)
{
	for (int k = 0; k < PM_LIST_KINDS; k++)
		lists_forget(ls, (enum list_kind)k);
}

/* lists_note - remember a match of kind k (block or allow) and where it was found */
static void lists_note(struct list_state *ls, enum list_kind k, bool block,
                       const struct list_hit *hit)
{
	char buf[HIT_TEXT_MAX];

	ls->hit[block][k] = xstrdup(list_hit_format(hit, buf, sizeof(buf)));
	if (block)
		ls->block |= PM_LIST_BIT(k);
	else
		ls->allow |= PM_LIST_BIT(k);
}

/*
 * lists_match - match one value against the allow and block lists of
 * kind k (ip for LIST_CLIENT, st and a for the address kinds, text for
 * the names) and remember what matched in ls (the kind's old matches
 * are forgotten first)
 */
static void lists_match(const struct policy *p, struct list_state *ls, enum list_kind k,
                        const struct pm_ip *ip, enum addr_status st, const struct pm_addr *a,
                        const char *text)
{
	const struct list_settings *l = &p->lists[k];
	struct pm_list *const lists[2] = {l->allow_list, l->block_list};
	struct list_hit hit;

	lists_forget(ls, k);
	for (int block = 0; block < 2; block++) {
		bool m;

		if (lists[block] == NULL)
			continue;
		if (ip != NULL)
			m = list_match_ip(lists[block], ip, &hit);
		else if (k == LIST_SENDER || k == LIST_RECIPIENT)
			m = list_match_addr(lists[block], st, a, &hit);
		else
			m = list_match(lists[block], text, &hit);
		if (m)
			lists_note(ls, k, block == 1, &hit);
	}
}

/* list_hit_of - what matched the list the verdict's rule names, or NULL */
static const char *list_hit_of(const struct session *s, const struct pm_verdict *v)
{
	const struct list_state *ls;

	if (!v->list.set)
		return NULL;
	ls = v->list.kind == LIST_SENDER || v->list.kind == LIST_RECIPIENT ? &s->msg.lists
	                                                                   : &s->lists;
	return ls->hit[v->list.block][v->list.kind];
}

/* message_reset - forget the transaction; the message is ready for the next MAIL FROM */
static void message_reset(struct message *m)
{
	free(m->queue_id);
	free(m->sender_text);
	free(m->ar_ours);
	free(m->from_value);
	dkim_verify_free(m->dkim);
	for (size_t i = 0; i < m->nrcpt_list; i++) {
		free(m->rcpt_list[i]);
		free(m->rcpt_domains[i]);
	}
	free(m->rcpt_list);
	free(m->rcpt_domains);
	lists_free(&m->lists);
	memset(m, 0, sizeof(*m));
}

/* leadspc - header values keep their leading space (SMFIP_HDR_LEADSPC negotiated) */
static bool leadspc(const struct session *s)
{
	return (s->proto & SMFIP_HDR_LEADSPC) != 0;
}

/* session_new - a session on the current policy (NULL when there is no policy yet) */
static struct session *session_new(void)
{
	struct policy *p = policy_acquire();
	struct session *s;

	if (p == NULL)
		return NULL;
	s = xcalloc(1, sizeof(*s));
	s->policy = p;
	s->ip.family = AF_UNSPEC;
	pm_ip_format(&s->ip, s->addr, sizeof(s->addr));
	s->dnsbl.first_reject = -1;
	message_reset(&s->msg);
	atomic_fetch_add(&active_sessions, 1);
	return s;
}

/* session_free - release everything the session holds */
static void session_free(struct session *s)
{
	if (s == NULL)
		return;
	message_reset(&s->msg);
	free(s->name);
	free(s->mta_host);
	free(s->mta_daemon);
	free(s->local_addr);
	free(s->helo);
	free(s->auth_user);
	dnsbl_free(&s->dnsbl);
	free(s->dnsbl_hits);
	lists_free(&s->lists);
	free(s->verified_name);
	policy_release(s->policy);
	free(s);
	atomic_fetch_sub(&active_sessions, 1);
}

/*
 * session_get - this connection's session. A connection whose state went
 * missing (no connect callback, or smfi_setpriv failed) gets a fresh one
 * marked broken, so that every later stage answers "internal error"
 * instead of judging a client it knows nothing about.
 */
static struct session *session_get(SMFICTX *ctx)
{
	struct session *s = smfi_getpriv(ctx);

	if (s != NULL)
		return s;
	s = session_new();
	if (s == NULL)
		return NULL;
	s->broken = true;
	if (smfi_setpriv(ctx, s) != MI_SUCCESS) {
		session_free(s);
		return NULL;
	}
	log_msg(LOG_ERR, "session state missing; answering internal error for this connection");
	return s;
}

/* macro - the value of the MTA's macro name, or NULL when it sent none (or an empty one) */
static const char *macro(SMFICTX *ctx, const char *name)
{
	const char *v = smfi_getsymval(ctx, (char *)name);

	return v != NULL && *v != '\0' ? v : NULL;
}

/*
 * local_address - the address the client connected to: Sendmail's
 * {if_addr} (not sent for loopback), else Postfix's {daemon_addr}, in
 * canonical form (Sendmail's "IPv6:" prefix dropped); a wildcard
 * ("0.0.0.0", "::": Sendmail's {daemon_addr} is the address it listens
 * on) says nothing. A value that is not an address is kept as given (the
 * logs escape it). NULL when unknown; the caller frees.
 */
static char *local_address(SMFICTX *ctx)
{
	static const char *const names[] = {"{if_addr}", "{daemon_addr}"};
	static const unsigned char zero[16];
	char buf[PM_IP_STRLEN];
	struct pm_ip ip;

	for (size_t i = 0; i < PM_ARRAY_LEN(names); i++) {
		const char *v = macro(ctx, names[i]);

		if (v == NULL)
			continue;
		if (strncasecmp(v, "IPv6:", 5) == 0 && v[5] != '\0')
			v += 5;
		if (pm_ip_parse(v, &ip) != 0)
			return xstrdup(v);
		if (memcmp(ip.addr, zero, ip.family == AF_INET ? 4 : 16) == 0)
			continue;
		return xstrdup(pm_ip_format(&ip, buf, sizeof(buf)));
	}
	return NULL;
}

/* mta_facts - what the MTA says of itself at connect: host name, daemon name, local address */
static void mta_facts(SMFICTX *ctx, struct session *s)
{
	const char *v;

	if ((v = macro(ctx, "j")) != NULL)
		s->mta_host = xstrdup(v);
	if ((v = macro(ctx, "{daemon_name}")) != NULL)
		s->mta_daemon = xstrdup(v);
	s->local_addr = local_address(ctx);
}

/* update_queue_id - take the queue id ({i}) once the MTA has one */
static void update_queue_id(SMFICTX *ctx, struct message *m)
{
	const char *q;

	if (m->queue_id != NULL)
		return;
	q = smfi_getsymval(ctx, "i");
	if (q != NULL && *q != '\0' && strcmp(q, "NOQUEUE") != 0)
		m->queue_id = xstrdup(q);
}

/* spf_name - the result name for logs, or NULL when not evaluated */
static const char *spf_name(const struct spf_outcome *o)
{
	return o->result == PM_SPF_UNCHECKED ? NULL : pm_spf_result_name(o->result);
}

/* spf_domain - the evaluated domain for logs, or NULL */
static const char *spf_domain(const struct spf_outcome *o)
{
	return o->result == PM_SPF_UNCHECKED || o->domain[0] == '\0' ? NULL : o->domain;
}

/*
 * domains_of - the domains the overrides match: the sender domain (a
 * parsed sender with a domain name), and with rcpts every accepted
 * recipient's
 */
static void domains_of(const struct session *s, bool rcpts, struct pm_domains *d)
{
	const struct message *m = &s->msg;

	memset(d, 0, sizeof(*d));
	if (m->started && m->sender_status == ADDR_OK && !m->sender.domain_is_literal)
		d->sender = m->sender.domain;
	if (rcpts) {
		d->rcpt = m->rcpt_domains;
		d->nrcpt = m->nrcpt_list;
	}
}

/* facts_init - the session and message facts every stage shares */
static void facts_init(const struct session *s, enum pm_stage stage, struct pm_facts *f)
{
	memset(f, 0, sizeof(*f));
	f->stage = stage;
	f->trusted = s->trusted;
	f->authenticated = s->authenticated;
	f->client_blocked = s->blocked;
	f->dnsbl_listed = s->dnsbl.first_reject >= 0;
	f->iprev = s->iprev_applies ? s->iprev.result : PM_IPREV_UNCHECKED;
	f->helo_spf = s->helo_spf.result;
	f->sender_status = s->msg.started ? s->msg.sender_status : ADDR_OK;
	f->sender_domain = s->msg.sender_domain.status;
	f->mfrom_spf = s->msg.mfrom_spf.result;
	f->rcpt_status = ADDR_OK;
	f->rcpt = RCPT_VALID;
	f->rcpt_accepted = s->msg.nrcpt_list;
	f->unknown_in_session = s->unknown_rcpts;
	f->messages_in_session = s->messages;
	f->mail_refusal = s->msg.mail_refusal.delayed ? &s->msg.mail_refusal : NULL;
	f->sender_has_dmarc =
	    s->msg.sender_dmarc_done && (s->msg.sender_dmarc.status == DMARC_REC_FOUND ||
	                                 s->msg.sender_dmarc.status == DMARC_REC_TEMPFAIL);
	f->dnsbl_checked = s->dnsbl_checked;
	f->iprev_checked = s->iprev_checked;
	f->sender_dmarc_checked = s->msg.sender_dmarc_done;
	f->list_allow = s->lists.allow | (s->msg.lists.allow & PM_LIST_BIT(LIST_SENDER));
	f->list_block = s->lists.block | (s->msg.lists.block & PM_LIST_BIT(LIST_SENDER));
	domains_of(s, stage == PM_STAGE_EOM, &f->domains);
	f->internal_error = s->broken;
}

/*
 * reply_vars - placeholder values for the reply of verdict v; %{identity}
 * (the SPF identity judged, e.g. "postmaster@helo.example") goes to identity
 */
static void reply_vars(const struct session *s, const struct pm_verdict *v, const char *rcpt,
                       const char *rcpt_domain, char *identity, size_t identity_size,
                       struct pm_reply_vars *vars)
{
	const struct message *m = &s->msg;
	const char *helo = s->helo != NULL ? s->helo : "";

	memset(vars, 0, sizeof(*vars));
	vars->ip = s->addr;
	vars->name = s->name;
	if (v->reason == RSN_CLIENT_NAME_BLOCKED && s->verified_name != NULL)
		vars->name = s->verified_name; /* the name the list matched */
	vars->helo = s->helo;
	vars->sender = m->sender_text;
	vars->rcpt = rcpt;
	vars->domain = rcpt_domain;
	switch (v->check) {
	case CHK_DNSBL:
		if (s->dnsbl.first_reject >= 0) {
			const struct dnsbl_zone_result *z = &s->dnsbl.zone[s->dnsbl.first_reject];

			vars->zone = z->zone->zone;
			vars->result = z->answer;
			return;
		}
		break;
	case CHK_IPREV:
		vars->result = s->iprev_applies ? pm_iprev_result_name(s->iprev.result) : NULL;
		return;
	case CHK_HELO_SPF:
		vars->domain = s->helo_spf.domain[0] ? s->helo_spf.domain : s->helo;
		vars->result = pm_spf_result_name(s->helo_spf.result);
		snprintf(identity, identity_size, "postmaster@%s", helo);
		vars->identity = identity;
		return;
	case CHK_SPF:
		vars->domain = m->mfrom_spf.domain[0] ? m->mfrom_spf.domain : NULL;
		vars->result = pm_spf_result_name(m->mfrom_spf.result);
		if (m->sender_status == ADDR_NULL)
			snprintf(identity, identity_size, "postmaster@%s", helo);
		else
			snprintf(identity, identity_size, "%s",
			         m->sender_text ? m->sender_text : "");
		vars->identity = identity;
		return;
	case CHK_FROM_HEADER:
	case CHK_MUST_SIGN:
	case CHK_DMARC:
		if (m->auth == NULL)
			break;
		vars->domain = m->auth->author[0] != '\0' ? m->auth->author : NULL;
		vars->result = v->check == CHK_FROM_HEADER ? m->auth->from_why
		               : v->check == CHK_DMARC ? pm_dmarc_result_name(m->auth->dmarc.result)
		                                       : NULL;
		return;
	case CHK_HEADERS:
		vars->result = m->repeated_field; /* the field repeated */
		return;
	default:
		break;
	}
	if ((v->check == CHK_SENDER_DOMAIN && m->sender_status == ADDR_OK) ||
	    (v->check != CHK_NONE && v->check != CHK_SENDER_SYNTAX && rcpt_domain == NULL &&
	     m->sender_status == ADDR_OK && m->started))
		vars->domain = m->sender.domain; /* sender_domain: also when held for RCPT */
}

/*
 * log_record - one decision record; action and reply say what was (or
 * would be) sent. The recipients are rcpt (the one judged) before end of
 * message, and every accepted one at end of message.
 */
static void log_record(const struct session *s, enum pm_stage stage, const char *rcpt,
                       const char *action, bool would, const char *reply,
                       const struct pm_verdict *v, const char *rule)
{
	struct pm_decision d;
	struct pm_decision_sig *sigs = NULL;
	const char *one[1];

	memset(&d, 0, sizeof(d));
	d.queue_id = s->msg.queue_id != NULL ? s->msg.queue_id : "NOQUEUE";
	d.stage = pm_stage_name(stage);
	d.client_addr = s->addr;
	d.client_name = s->name;
	d.iprev = s->iprev_applies ? pm_iprev_result_name(s->iprev.result) : NULL;
	d.mta_host = s->mta_host;
	d.mta_daemon = s->mta_daemon;
	d.local_addr = s->local_addr;
	d.dnsbl = s->dnsbl_hits;
	d.ndnsbl = s->ndnsbl_hits;
	d.helo = s->helo;
	d.sender = s->msg.sender_text;
	if (stage == PM_STAGE_EOM) {
		d.rcpts = (const char *const *)s->msg.rcpt_list;
		d.nrcpts = s->msg.nrcpt_list;
	} else if (rcpt != NULL) {
		one[0] = rcpt;
		d.rcpts = one;
		d.nrcpts = 1;
	}
	if (s->helo_spf.result != PM_SPF_UNCHECKED) {
		d.helo_spf = spf_name(&s->helo_spf);
		d.helo_spf_domain = spf_domain(&s->helo_spf);
	}
	d.spf = spf_name(&s->msg.mfrom_spf);
	d.spf_domain = spf_domain(&s->msg.mfrom_spf);
	if (s->msg.auth != NULL && s->msg.auth->checked) {
		const struct auth_eom *a = s->msg.auth;

		d.header_from = a->author[0] != '\0' ? a->author : NULL;
		if (a->dkim_done) {
			d.dkim_done = true;
			if (a->dkim.n > 0)
				sigs = xcalloc(a->dkim.n, sizeof(*sigs));
			for (size_t i = 0; i < a->dkim.n; i++) {
				sigs[i].result = pm_dkim_result_name(a->dkim.sig[i].result);
				sigs[i].domain = a->dkim.sig[i].domain;
				sigs[i].selector = a->dkim.sig[i].selector;
			}
			d.dkim = sigs;
			d.ndkim = a->dkim.n;
		}
		if (a->dmarc.result != PM_DMARC_UNCHECKED) {
			d.dmarc = pm_dmarc_result_name(a->dmarc.result);
			if (a->rec.status == DMARC_REC_FOUND) {
				d.dmarc_policy = pm_dmarc_policy_name(a->dmarc.policy);
				d.dmarc_dis = pm_dmarc_policy_name(a->disposition);
			}
		}
	}
	d.action = action;
	d.would = would;
	d.reply = reply;
	if (v != NULL) {
		d.check = pm_check_id_name(v->check);
		d.reason = pm_reason_name(v->reason);
		d.rule = v->rule != NULL ? v->rule : rule;
		d.dry_run = v->dry_run;
		if (list_hit_of(s, v) != NULL)
			d.detail = list_hit_of(s, v); /* the entry: "x.test in FILE:3" */
		else if (v->rule != NULL && rule != NULL && strcmp(rule, v->rule) != 0)
			d.detail = rule; /* e.g. the syntax error addr_parse found */
	} else {
		d.rule = rule;
	}
	log_decision(&d);
	free(sigs);
}

/* percent_double - copy src doubling every '%' (smfi_setreply treats text as a format) */
static void percent_double(char *dst, size_t dstsize, const char *src)
{
	size_t n = 0;

	for (; *src != '\0' && n + 2 < dstsize; src++) {
		if (*src == '%')
			dst[n++] = '%';
		dst[n++] = *src;
	}
	dst[n] = '\0';
}

/*
 * apply_verdict - send (or, for a "would", only log) the verdict's reply.
 * The reply's own code decides the status: 5xx rejects, 4xx tempfails.
 */
static sfsistat apply_verdict(SMFICTX *ctx, struct session *s, enum pm_stage stage,
                              const struct pm_verdict *v, const char *rcpt, const char *rcpt_domain,
                              const char *rule)
{
	const struct pm_reply *r;
	struct pm_reply_vars vars;
	char text[REPLY_TEXT_MAX + 1], sendtext[REPLY_BUF_SIZE], line[REPLY_LINE_MAX];
	char rcode[8], identity[ADDR_TEXT_MAX + 16];
	bool permanent;

	if (v->action == PM_V_CONTINUE && !v->would) {
		/* accepted for a reason worth a line (fail open); at eom mi_eom logs it */
		if (v->reason != RSN_NONE && stage != PM_STAGE_EOM)
			log_record(s, stage, rcpt, "accept", false, NULL, v, rule);
		return SMFIS_CONTINUE;
	}
	if ((int)v->reply < 0 || v->reply >= PM_R_COUNT) {
		log_msg(LOG_ERR, "verdict names no reply (%d); answering tempfail", (int)v->reply);
		return SMFIS_TEMPFAIL;
	}
	r = &s->policy->replies[v->reply];
	reply_vars(s, v, rcpt, rcpt_domain, identity, sizeof(identity), &vars);
	reply_expand(r, &vars, text, sizeof(text));
	snprintf(line, sizeof(line), "%d %s %s", r->code, r->xcode, text);
	permanent = r->code / 100 == 5;

	if (v->action == PM_V_CONTINUE) {
		log_record(s, stage, rcpt, permanent ? "reject" : "tempfail", true, line, v, rule);
		return SMFIS_CONTINUE;
	}
	snprintf(rcode, sizeof(rcode), "%d", r->code);
	percent_double(sendtext, sizeof(sendtext), text);
	if (smfi_setreply(ctx, rcode, (char *)r->xcode, sendtext) != MI_SUCCESS)
		log_msg(LOG_ERR, "smfi_setreply failed for \"%s\"; the MTA sends its default",
		        line);
	log_record(s, stage, rcpt, permanent ? "reject" : "tempfail", false, line, v, rule);
	return permanent ? SMFIS_REJECT : SMFIS_TEMPFAIL;
}

/* decide - ask the verdict for facts f and apply it */
static sfsistat decide(SMFICTX *ctx, struct session *s, const struct pm_facts *f,
                       enum pm_stage stage, const char *rcpt, const char *rcpt_domain,
                       const char *rule)
{
	struct pm_verdict v;

	memset(&v, 0, sizeof(v));
	verdict_decide(f, s->policy, &v);
	return apply_verdict(ctx, s, stage, &v, rcpt, rcpt_domain, rule);
}

/*
 * dnsbl_note - one log line for a zone's answer worth one: a listing, an
 * answer that is ignored, a lookup that failed (never a listing)
 */
static void dnsbl_note(const struct session *s, const struct dnsbl_zone_result *r)
{
	const char *zone = r->zone->zone;

	switch (r->status) {
	case DNSBL_LISTED:
		log_msg(LOG_INFO, "dnsbl: client %s listed in %s (%s, action %s)", s->addr, zone,
		        r->answer, r->zone->action == PM_DNSBL_TAG ? "tag" : "reject");
		break;
	case DNSBL_OTHER_CODE:
		log_msg(LOG_INFO,
		        "dnsbl: client %s: %s answered %s, not one of its codes: not a listing",
		        s->addr, zone, r->answer);
		break;
	case DNSBL_ERROR_CODE:
		log_msg(LOG_WARNING,
		        "dnsbl: client %s: %s answered %s, an error code (query refused, or over "
		        "quota): ignored",
		        s->addr, zone, r->answer);
		break;
	case DNSBL_BAD_ANSWER:
		log_msg(LOG_WARNING,
		        "dnsbl: client %s: %s answered %s, outside 127.0.0.0/8: ignored", s->addr,
		        zone, r->answer);
		break;
	case DNSBL_TEMPFAIL:
		log_msg(LOG_WARNING,
		        "dnsbl: client %s: lookup of %s failed temporarily: not a listing", s->addr,
		        r->query);
		break;
	case DNSBL_NOT_LISTED:
	default:
		break;
	}
}

/* dnsbl_listings - log each zone's answer worth a line; keep the listings for the records */
static void dnsbl_listings(struct session *s)
{
	for (size_t i = 0; i < s->dnsbl.nzones; i++) {
		const struct dnsbl_zone_result *r = &s->dnsbl.zone[i];

		dnsbl_note(s, r);
		if (r->status != DNSBL_LISTED)
			continue;
		s->dnsbl_hits =
		    xrealloc(s->dnsbl_hits, (s->ndnsbl_hits + 1) * sizeof(*s->dnsbl_hits));
		s->dnsbl_hits[s->ndnsbl_hits].zone = r->zone->zone;
		s->dnsbl_hits[s->ndnsbl_hits++].answer = r->answer;
	}
}

/*
 * gather_connect - the lookups verdict_plan asks for at connect, within
 * one budget of spf.timeout: the DNSBLs, then iprev (its verified name
 * matched against lists.client_name); f is brought up to date
 */
static void gather_connect(struct session *s, struct pm_facts *f)
{
	const struct policy *p = s->policy;
	struct dns_budget l;
	struct pm_plan plan;

	verdict_plan(f, p, &plan);
	if (!plan.dnsbl && !plan.iprev)
		return;
	dns_budget_init(&l, p->spf.dns_timeout, p->spf.timeout);
	if (plan.dnsbl) {
		dnsbl_check(&p->dnsbl, &s->ip, &l, &s->dnsbl);
		s->dnsbl_checked = true;
		dnsbl_listings(s);
		facts_init(s, PM_STAGE_CONNECT, f);
		verdict_plan(f, p, &plan);
	}
	if (plan.iprev) {
		iprev_check(&s->ip, &l, &s->iprev);
		s->iprev_checked = true;
		s->iprev_applies = plan.iprev_applies;
		if (s->iprev.result == PM_IPREV_PASS && s->iprev.name[0] != '\0')
			s->verified_name = xstrdup(s->iprev.name);
		lists_match(p, &s->lists, LIST_CLIENT_NAME, NULL, ADDR_OK, NULL, s->verified_name);
		facts_init(s, PM_STAGE_CONNECT, f);
	}
}

/*
 * What was negotiated belongs to the milter connection, but libmilter
 * calls xxfi_close at QUIT_NC (Sendmail reusing the connection for a new
 * SMTP session) too, and there is no negotiation before the next
 * connect. So each close remembers the connection's flags here, keyed by
 * its SMFICTX (which libmilter keeps for the reused connection), and a
 * connect that finds no session takes them back. The table only has to
 * bridge that instant: a small ring, the oldest overwritten.
 */
#define PROTO_RING 256

static struct {
	SMFICTX *ctx;
	unsigned long proto;
} proto_ring[PROTO_RING];
static unsigned proto_next;
static pthread_mutex_t proto_lock = PTHREAD_MUTEX_INITIALIZER;

/* proto_remember - a closing connection's negotiated flags */
static void proto_remember(SMFICTX *ctx, unsigned long proto)
{
	pthread_mutex_lock(&proto_lock);
	proto_ring[proto_next].ctx = ctx;
	proto_ring[proto_next].proto = proto;
	proto_next = (proto_next + 1) % PROTO_RING;
	pthread_mutex_unlock(&proto_lock);
}

/* proto_recall - the flags remembered for ctx (the newest), taken out; false when none */
static bool proto_recall(SMFICTX *ctx, unsigned long *proto)
{
	bool found = false;

	pthread_mutex_lock(&proto_lock);
	for (unsigned i = 1; i <= PROTO_RING && !found; i++) {
		unsigned k = (proto_next + PROTO_RING - i) % PROTO_RING;

		if (proto_ring[k].ctx == ctx) {
			*proto = proto_ring[k].proto;
			proto_ring[k].ctx = NULL;
			found = true;
		}
	}
	pthread_mutex_unlock(&proto_lock);
	return found;
}

/* reply_or_not - SMFIS_NOREPLY where the MTA was told not to wait, else SMFIS_CONTINUE */
static sfsistat reply_or_not(const struct session *s, unsigned long flag)
{
	return (s->proto & flag) != 0 ? SMFIS_NOREPLY : SMFIS_CONTINUE;
}

/*
 * mi_connect - the client address decides trusted / blocked; then the
 * DNSBLs and iprev (gather_connect)
 */
static sfsistat mi_connect(SMFICTX *ctx, char *hostname, _SOCK_ADDR *hostaddr)
{
	struct session *s, *old = smfi_getpriv(ctx);
	const struct pm_cidr *c;
	struct pm_facts f;
	sfsistat st;
	bool lost = false;
	unsigned long proto = 0;

	if (old != NULL) { /* negotiation's placeholder, or a second connect: start over */
		proto = old->proto;
		smfi_setpriv(ctx, NULL);
		session_free(old);
	} else {
		/* a connection reused after QUIT_NC: its close freed the session */
		(void)proto_recall(ctx, &proto);
	}
	s = session_new();
	if (s == NULL)
		return SMFIS_TEMPFAIL;
	s->proto = proto;
	if (smfi_setpriv(ctx, s) != MI_SUCCESS) {
		log_msg(LOG_ERR, "smfi_setpriv failed at connect");
		s->broken = true;
		lost = true;
	}
	s->name = xstrdup(hostname != NULL ? hostname : "unknown");
	mta_facts(ctx, s);
	if (pm_ip_from_sockaddr(hostaddr, &s->ip) != 0 || s->ip.family == AF_UNSPEC) {
		/* no address: a local submission (sendmail(1), Postfix pickup) */
		s->ip.family = AF_UNSPEC;
		s->trusted = true;
		snprintf(s->trusted_net, sizeof(s->trusted_net), "local");
	} else if ((c = pm_cidr_list_match(&s->policy->trusted_networks, &s->ip)) != NULL) {
		s->trusted = true;
		pm_cidr_format(c, s->trusted_net, sizeof(s->trusted_net));
	}
	pm_ip_format(&s->ip, s->addr, sizeof(s->addr));
	if (s->ip.family != AF_UNSPEC && s->policy->client_block.mode != PM_MODE_OFF)
		s->blocked = pm_cidr_list_match(&s->policy->client_block.networks, &s->ip) != NULL;
	if (s->ip.family != AF_UNSPEC && !s->trusted)
		lists_match(s->policy, &s->lists, LIST_CLIENT, &s->ip, ADDR_OK, NULL, NULL);

	if (atomic_load(&draining)) {
		/* not a policy decision: the daemon is stopping (see main.c drain) */
		smfi_setreply(ctx, DRAIN_RCODE, DRAIN_XCODE, DRAIN_TEXT);
		log_record(s, PM_STAGE_CONNECT, NULL, "tempfail", false,
		           DRAIN_RCODE " " DRAIN_XCODE " " DRAIN_TEXT, NULL, "shutting down");
		if (lost)
			session_free(s);
		return SMFIS_TEMPFAIL;
	}
	facts_init(s, PM_STAGE_CONNECT, &f);
	gather_connect(s, &f);
	st = decide(ctx, s, &f, PM_STAGE_CONNECT, NULL, NULL, NULL);
	if (lost)
		session_free(s);
	return st;
}

/* mi_helo - remember the HELO name and check it with SPF (applied at MAIL FROM) */
static sfsistat mi_helo(SMFICTX *ctx, char *helohost)
{
	struct session *s = session_get(ctx);
	struct pm_facts f;
	struct pm_plan plan;

	if (s == NULL)
		return SMFIS_TEMPFAIL;
	free(s->helo);
	s->helo = xstrdup(helohost != NULL ? helohost : "");
	memset(&s->helo_spf, 0, sizeof(s->helo_spf));
	message_reset(&s->msg); /* HELO/EHLO resets the transaction (RFC 5321 4.1.4) */
	lists_forget(&s->lists, LIST_HELO);
	if (!s->trusted && !s->broken) /* applied at MAIL FROM, like HELO SPF */
		lists_match(s->policy, &s->lists, LIST_HELO, NULL, ADDR_OK, NULL, s->helo);
	facts_init(s, PM_STAGE_HELO, &f);
	verdict_plan(&f, s->policy, &plan);
	if (plan.helo_spf) {
		struct dns_budget b; /* the HELO command's */

		dns_budget_init(&b, s->policy->spf.dns_timeout, s->policy->spf.timeout);
		spf_check_helo(&s->policy->spf, &b, &s->ip, s->helo, &s->helo_spf);
		facts_init(s, PM_STAGE_HELO, &f);
	}
	return decide(ctx, s, &f, PM_STAGE_HELO, NULL, NULL, NULL);
}

/*
 * gather_mail - the lookups verdict_plan asks for at MAIL FROM, within
 * one DNS budget, the MAIL FROM command's (spf.timeout): the sender
 * domain, SPF for MAIL FROM (the null sender: postmaster@HELO, taken from
 * HELO SPF when that ran), then the sender domain's DMARC record (end of
 * message uses it again when the author domain is the same)
 */
static void gather_mail(struct session *s)
{
	const struct policy *p = s->policy;
	struct message *m = &s->msg;
	struct dns_budget b;
	struct pm_facts f;
	struct pm_plan plan;

	facts_init(s, PM_STAGE_MAIL, &f);
	verdict_plan(&f, p, &plan);
	if (!plan.sender_domain && !plan.spf)
		return;
	dns_budget_init(&b, p->spf.dns_timeout, p->spf.timeout);
	if (plan.sender_domain) {
		sender_domain_check(m->sender.domain, &b, &m->sender_domain);
		facts_init(s, PM_STAGE_MAIL, &f);
		verdict_plan(&f, p, &plan);
	}
	if (!plan.spf)
		return;
	if (m->sender_status == ADDR_OK)
		spf_check_mailfrom(&p->spf, &b, &s->ip, s->helo, m->sender.local, m->sender.domain,
		                   &m->mfrom_spf);
	else if (s->helo_spf.result != PM_SPF_UNCHECKED)
		m->mfrom_spf = s->helo_spf;
	else
		spf_check_helo(&p->spf, &b, &s->ip, s->helo != NULL ? s->helo : "", &m->mfrom_spf);
	facts_init(s, PM_STAGE_MAIL, &f);
	verdict_plan(&f, p, &plan);
	if (plan.sender_dmarc) {
		dmarc_lookup(p->psl, m->sender.domain, &b, &m->sender_dmarc);
		m->sender_dmarc_done = true;
	}
}

/* mail_why - the detail of a MAIL FROM verdict: iprev's or SPF's comment, or NULL */
static const char *mail_why(const struct session *s, const struct pm_verdict *v)
{
	if (v->check == CHK_IPREV)
		return s->iprev.why[0] != '\0' ? s->iprev.why : NULL;
	if (s->msg.sender_status != ADDR_BAD)
		return s->msg.mfrom_spf.comment[0] != '\0' ? s->msg.mfrom_spf.comment : NULL;
	return NULL;
}

/* mi_envfrom - a new message: sender syntax, SMTP AUTH, SPF */
static sfsistat mi_envfrom(SMFICTX *ctx, char **argv)
{
	struct session *s = session_get(ctx);
	struct message *m;
	const char *raw, *auth, *why = NULL;
	char buf[ADDR_TEXT_MAX];
	struct pm_facts f;
	struct pm_verdict v;

	if (s == NULL)
		return SMFIS_TEMPFAIL;
	m = &s->msg;
	message_reset(m);
	m->started = true;
	update_queue_id(ctx, m);
	raw = argv != NULL && argv[0] != NULL ? argv[0] : "";
	m->sender_status = addr_parse(raw, strlen(raw), ADDR_ALLOW_NULL, &m->sender, &why);
	if (m->sender_status == ADDR_OK)
		m->sender_text = xstrdup(addr_format(&m->sender, buf, sizeof(buf)));
	else if (m->sender_status == ADDR_NULL)
		m->sender_text = xstrdup("<>");
	else
		m->sender_text = xstrdup(raw);

	auth = smfi_getsymval(ctx, "{auth_authen}");
	if (auth != NULL && *auth != '\0') {
		s->authenticated = true;
		free(s->auth_user);
		s->auth_user = xstrdup(auth);
	}
	if (!s->trusted && !s->broken &&
	    (m->sender_status == ADDR_OK || m->sender_status == ADDR_NULL))
		lists_match(s->policy, &m->lists, LIST_SENDER, NULL, m->sender_status, &m->sender,
		            NULL);
	gather_mail(s);
	facts_init(s, PM_STAGE_MAIL, &f);
	verdict_decide(&f, s->policy, &v);
	s->messages++;
	if (v.delayed) {
		/* held: each RCPT not exempt gets this refusal (and its log line) */
		m->mail_refusal = v;
		return SMFIS_CONTINUE;
	}
	return apply_verdict(ctx, s, PM_STAGE_MAIL, &v, NULL, NULL, mail_why(s, &v));
}

/* mi_envrcpt - one recipient: syntax, limits, the recipient table */
static sfsistat mi_envrcpt(SMFICTX *ctx, char **argv)
{
	struct session *s = session_get(ctx);
	struct message *m;
	struct pm_addr a;
	const char *raw, *why = NULL, *rcpt_text, *rcpt_domain = NULL;
	char buf[ADDR_TEXT_MAX], *rcpt_domains[1];
	struct list_state rl;
	struct pm_facts f;
	struct pm_verdict v;
	sfsistat st;

	memset(&rl, 0, sizeof(rl));
	if (s == NULL)
		return SMFIS_TEMPFAIL;
	m = &s->msg;
	update_queue_id(ctx, m);
	raw = argv != NULL && argv[0] != NULL ? argv[0] : "";
	facts_init(s, PM_STAGE_RCPT, &f);
	f.rcpt_status = addr_parse(raw, strlen(raw), ADDR_ALLOW_LOCAL_ONLY, &a, &why);
	switch (f.rcpt_status) {
	case ADDR_OK:
		rcpt_text = addr_format(&a, buf, sizeof(buf));
		rcpt_domain = a.domain;
		break;
	case ADDR_LOCAL_ONLY:
		rcpt_text = a.local;
		break;
	default:
		rcpt_text = raw;
		break;
	}
	/* this recipient's domain, for the overrides */
	rcpt_domains[0] = (char *)rcpt_domain;
	f.domains.rcpt = rcpt_domains;
	f.domains.nrcpt = 1;
	if (f.rcpt_status == ADDR_OK || f.rcpt_status == ADDR_LOCAL_ONLY) {
		why = NULL;
		if (s->policy->recipients.mode != PM_MODE_OFF && !s->broken)
			f.rcpt = rcpt_lookup(&s->policy->recipients, f.rcpt_status, &a, &why);
		if (!s->trusted && !s->broken) {
			lists_match(s->policy, &rl, LIST_RECIPIENT, NULL, f.rcpt_status, &a, NULL);
			if (rl.block & PM_LIST_BIT(LIST_RECIPIENT)) {
				/* this recipient only: the message's state keeps it for the log */
				f.list_block |= PM_LIST_BIT(LIST_RECIPIENT);
				free(m->lists.hit[1][LIST_RECIPIENT]);
				m->lists.hit[1][LIST_RECIPIENT] = rl.hit[1][LIST_RECIPIENT];
				rl.hit[1][LIST_RECIPIENT] = NULL;
			}
			f.rcpt_exempt = verdict_rcpt_exempt(s->policy, f.rcpt_status, &a);
		}
	}
	verdict_decide(&f, s->policy, &v);
	if (v.check == CHK_IPREV || v.check == CHK_SPF || v.check == CHK_HELO_SPF ||
	    v.check == CHK_SENDER_DOMAIN)
		why = mail_why(s, &v); /* MAIL FROM's refusal (or "would"), held for this RCPT */
	st = apply_verdict(ctx, s, PM_STAGE_RCPT, &v, rcpt_text, rcpt_domain, why);
	if (st == SMFIS_CONTINUE && (rl.allow & PM_LIST_BIT(LIST_RECIPIENT))) {
		m->rcpt_allowed++;
		if (m->lists.hit[0][LIST_RECIPIENT] == NULL) {
			m->lists.hit[0][LIST_RECIPIENT] = rl.hit[0][LIST_RECIPIENT];
			rl.hit[0][LIST_RECIPIENT] = NULL;
		}
	}
	lists_free(&rl);
	if (st == SMFIS_CONTINUE) {
		if (f.rcpt_exempt)
			m->rcpt_exempt++;
		m->rcpt_list = xrealloc(m->rcpt_list, (m->nrcpt_list + 1) * sizeof(*m->rcpt_list));
		m->rcpt_domains =
		    xrealloc(m->rcpt_domains, (m->nrcpt_list + 1) * sizeof(*m->rcpt_domains));
		m->rcpt_domains[m->nrcpt_list] = rcpt_domain != NULL ? xstrdup(rcpt_domain) : NULL;
		m->rcpt_list[m->nrcpt_list++] = xstrdup(rcpt_text);
	} else if ((f.rcpt_status == ADDR_OK || f.rcpt_status == ADDR_LOCAL_ONLY) &&
	           f.rcpt == RCPT_UNKNOWN && v.check == CHK_RECIPIENTS) {
		s->unknown_rcpts++;
	}
	return st;
}

/* auth_checks_apply - are DKIM and DMARC evaluated for this message (verdict_plan)? */
static bool auth_checks_apply(const struct session *s)
{
	struct pm_facts f;
	struct pm_plan plan;

	facts_init(s, PM_STAGE_EOM, &f);
	verdict_plan(&f, s->policy, &plan);
	return plan.message_auth;
}

/* headers_begin - the first header of a message: set up the DKIM verifier */
static void headers_begin(struct session *s)
{
	const struct policy *p = s->policy;
	struct message *m = &s->msg;
	struct dkim_verify_settings ds;

	m->headers_seen = true;
	if (!auth_checks_apply(s))
		return;
	dkim_verify_defaults(&ds);
	ds.max_signatures = p->dkim.max_signatures;
	ds.allow_l = p->dkim.allow_l;
	ds.min_key_bits = p->dkim.min_key_bits;
	ds.dns_timeout = p->spf.dns_timeout;
	ds.leadspc = leadspc(s);
	m->dkim = dkim_verify_new(&ds, m->queue_id);
}

/* header_name_is - name equals want, ignoring case and white space before the colon */
static bool header_name_is(const char *name, const char *want)
{
	size_t n = strlen(want);

	if (name == NULL || strncasecmp(name, want, n) != 0)
		return false;
	for (name += n; *name == ' ' || *name == '\t'; name++)
		;
	return *name == '\0';
}

/* note_singleton - count a field RFC 5322 allows once; remember the first one repeated */
static void note_singleton(struct message *m, const char *name)
{
	const char *f = verdict_singleton_field(name);

	if (f == NULL)
		return;
	for (size_t i = 0; i < m->nsingles; i++) {
		if (m->singles[i] == f) {
			if (m->repeated_field == NULL)
				m->repeated_field = f;
			return;
		}
	}
	if (m->nsingles < PM_ARRAY_LEN(m->singles))
		m->singles[m->nsingles++] = f;
}

/*
 * mi_header - feed the DKIM verifier; count the From fields (keeping the
 * first) and the fields RFC 5322 allows once, the Authentication-Results
 * claiming our authserv-id and the quarantine headers that came with the
 * message (ours are removed)
 */
static sfsistat mi_header(SMFICTX *ctx, char *name, char *value)
{
	struct session *s = session_get(ctx);
	struct message *m;

	if (s == NULL)
		return SMFIS_TEMPFAIL;
	m = &s->msg;
	if (!m->headers_seen)
		headers_begin(s);
	if (name == NULL)
		return reply_or_not(s, SMFIP_NR_HDR);
	if (m->dkim != NULL)
		dkim_verify_header(m->dkim, name, value != NULL ? value : "");
	note_singleton(m, name);
	if (header_name_is(name, "From")) {
		if (m->from_count++ == 0)
			m->from_value = xstrdup(value != NULL ? value : "");
	} else if (strcasecmp(name, AR_HEADER) == 0) {
		m->ar_count++;
		if (value != NULL && authres_is_ours(value, s->policy->authserv_id)) {
			m->ar_ours = xrealloc(m->ar_ours, (m->n_ar_ours + 1) * sizeof(*m->ar_ours));
			m->ar_ours[m->n_ar_ours++] = m->ar_count;
		}
	} else if (s->policy->dmarc.quarantine_header != NULL &&
	           strcasecmp(name, s->policy->dmarc.quarantine_header) == 0) {
		m->qh_count++;
	}
	return reply_or_not(s, SMFIP_NR_HDR);
}

/*
 * eom_dns_start - once per message, at the end of the headers (the MTA
 * sends the body and the end of message without waiting from then on):
 * the DKIM key lookups and the DMARC lookup share one budget,
 * spf.timeout, as the lookups of MAIL FROM do
 */
static void eom_dns_start(struct session *s)
{
	struct message *m = &s->msg;

	if (m->eom_clock)
		return;
	dns_budget_init(&m->eom_budget, s->policy->spf.dns_timeout, s->policy->spf.timeout);
	m->eom_clock = true;
	dkim_verify_deadline(m->dkim, &m->eom_budget.deadline);
}

/* mi_eoh - end of headers: the queue id may be news; the verifier gets the end */
static sfsistat mi_eoh(SMFICTX *ctx)
{
	struct session *s = session_get(ctx);

	if (s == NULL)
		return SMFIS_TEMPFAIL;
	update_queue_id(ctx, &s->msg);
	if (!s->msg.headers_seen)
		headers_begin(s);
	eom_dns_start(s);
	if (s->msg.dkim != NULL)
		dkim_verify_eoh(s->msg.dkim);
	return reply_or_not(s, SMFIP_NR_EOH);
}

/* mi_body - a body chunk, for DKIM */
static sfsistat mi_body(SMFICTX *ctx, unsigned char *bytes, size_t len)
{
	struct session *s = session_get(ctx);

	if (s == NULL)
		return SMFIS_TEMPFAIL;
	if (s->msg.dkim != NULL && bytes != NULL)
		dkim_verify_body(s->msg.dkim, bytes, len);
	return reply_or_not(s, SMFIP_NR_BODY);
}

/*
 * eom_input_of - the session's and the message's facts end of message
 * reads (eom.h); the DKIM verifier is set up first and the budget of end
 * of message started when DKIM or DMARC are evaluated
 */
static void eom_input_of(struct session *s, struct eom_input *in)
{
	struct message *m = &s->msg;

	if (auth_checks_apply(s)) {
		if (!m->headers_seen)
			headers_begin(s);
		eom_dns_start(s);
	}
	memset(in, 0, sizeof(*in));
	in->policy = s->policy;
	in->queue_id = m->queue_id;
	in->trusted = s->trusted;
	in->authenticated = s->authenticated;
	in->broken = s->broken;
	in->auth_user = s->auth_user;
	in->trusted_net = s->trusted_net;
	domains_of(s, true, &in->domains);
	in->client_addr = s->addr;
	in->iprev_applies = s->iprev_applies;
	in->iprev = s->iprev.result;
	in->iprev_why = s->iprev.why;
	in->helo = s->helo;
	in->helo_spf = s->helo_spf.result;
	in->sender_status = m->sender_status;
	in->sender = &m->sender;
	in->mfrom_spf = m->mfrom_spf.result;
	in->mfrom_spf_domain = m->mfrom_spf.domain;
	in->mfrom_spf_comment = m->mfrom_spf.comment;
	in->sender_dmarc = m->sender_dmarc_done ? &m->sender_dmarc : NULL;
	in->dkim = m->dkim;
	in->from_count = m->from_count;
	in->from_value = m->from_value;
	in->repeated_field = m->repeated_field;
	in->budget = &m->eom_budget;
	in->pct_roll = arc4random_uniform(100);
}

/* remove_headers - delete our forged Authentication-Results and incoming quarantine headers */
static bool remove_headers(SMFICTX *ctx, const struct session *s)
{
	const struct message *m = &s->msg;
	const char *qid = m->queue_id ? m->queue_id : "NOQUEUE";
	char hname[] = AR_HEADER;
	bool ok = true;

	/* highest index first: a deletion must not renumber the ones still to go */
	for (size_t i = m->n_ar_ours; i-- > 0;) {
		if (smfi_chgheader(ctx, hname, (int)m->ar_ours[i], NULL) != MI_SUCCESS) {
			log_msg(LOG_ERR, "%s: smfi_chgheader(%s, %u) failed", qid, AR_HEADER,
			        m->ar_ours[i]);
			ok = false;
		}
	}
	for (unsigned i = m->qh_count; i > 0; i--) {
		if (smfi_chgheader(ctx, s->policy->dmarc.quarantine_header, (int)i, NULL) !=
		    MI_SUCCESS) {
			log_msg(LOG_ERR, "%s: smfi_chgheader(%s, %u) failed", qid,
			        s->policy->dmarc.quarantine_header, i);
			ok = false;
		}
	}
	return ok;
}

/*
 * quarantine - DMARC said quarantine: add the quarantine header, or ask
 * the MTA to hold the message; false when the MTA refused the change
 */
static bool quarantine(SMFICTX *ctx, const struct session *s, const struct auth_eom *a)
{
	const struct policy *p = s->policy;
	char text[512];

	/* with SMFIP_HDR_LEADSPC the MTA writes the value as given: the space is ours to add */
	snprintf(text, sizeof(text), "%sdmarc=fail (p=%s dis=%s) header.from=%s",
	         leadspc(s) ? " " : "", pm_dmarc_policy_name(a->dmarc.policy),
	         pm_dmarc_policy_name(a->disposition), a->author);
	if (p->dmarc.quarantine == PM_QUARANTINE_HOLD)
		return smfi_quarantine(ctx, text + (leadspc(s) ? 1 : 0)) == MI_SUCCESS;
	return smfi_addheader(ctx, p->dmarc.quarantine_header, text) == MI_SUCCESS;
}

/*
 * eom_apply - apply the end-of-message verdict; an accepted message (or
 * one quarantined, or a quarantine a check in log or tag mode would have
 * asked for) gets its one log line here
 */
static sfsistat eom_apply(SMFICTX *ctx, struct session *s, const struct pm_verdict *v,
                          const char *rcpts)
{
	const char *action = "accept";
	/* the field a repeated-header verdict names goes into the record's detail */
	const char *detail = v->check == CHK_HEADERS ? s->msg.repeated_field : NULL;

	if (v->action == PM_V_CONTINUE && (!v->would || v->reply >= PM_R_COUNT)) {
		if (v->quarantine || v->would)
			action = s->policy->dmarc.quarantine == PM_QUARANTINE_HOLD ? "hold"
			                                                           : "quarantine";
		log_record(s, PM_STAGE_EOM, rcpts, action, v->would, NULL,
		           v->reason != RSN_NONE ? v : NULL, detail);
		return SMFIS_CONTINUE;
	}
	if (v->action == PM_V_CONTINUE && v->quarantine) {
		/* a check in log or tag mode would have refused, and DMARC did quarantine */
		struct pm_verdict q = *v;

		q.would = false;
		q.check = CHK_DMARC;
		q.reason = RSN_DMARC_QUARANTINE;
		q.rule = "dmarc.quarantine";
		q.list = (struct pm_list_ref){0};
		log_record(s, PM_STAGE_EOM, rcpts,
		           s->policy->dmarc.quarantine == PM_QUARANTINE_HOLD ? "hold"
		                                                             : "quarantine",
		           false, NULL, &q, NULL);
	}
	return apply_verdict(ctx, s, PM_STAGE_EOM, v, rcpts, NULL, detail);
}

/*
 * mi_eom - verify DKIM, judge From and DMARC, then: remove forged
 * Authentication-Results, add ours, quarantine when DMARC says so, and
 * apply (and log) the verdict
 */
static sfsistat mi_eom(SMFICTX *ctx)
{
	struct session *s = session_get(ctx);
	struct message *m;
	struct pm_facts f;
	struct pm_verdict v;
	struct auth_eom *a;
	struct eom_input in;
	char hname[] = AR_HEADER;
	char *value;
	struct strbuf rcpts; /* the accepted recipients, comma-separated, for %{rcpt} */
	sfsistat st;

	if (s == NULL)
		return SMFIS_TEMPFAIL;
	m = &s->msg;
	update_queue_id(ctx, m);
	a = xcalloc(1, sizeof(*a));
	eom_input_of(s, &in);
	eom_evaluate(&in, a);
	facts_init(s, PM_STAGE_EOM, &f);
	f.from = a->from;
	f.author = a->author[0] != '\0' ? a->author : NULL;
	f.from_name_address = a->from_name_address;
	f.dmarc_dkim_aligned = a->dmarc.result == PM_DMARC_PASS && a->dmarc.dkim_aligned;
	f.repeated_field = m->repeated_field;
	f.must_sign = a->must_sign;
	f.dmarc = a->dmarc.result;
	f.dmarc_disposition = a->disposition;
	f.dmarc_mode = a->dmarc_mode;
	f.dmarc_rule = a->dmarc_rule;
	if (m->nrcpt_list > 0 && m->rcpt_allowed == m->nrcpt_list)
		f.list_allow |= PM_LIST_BIT(LIST_RECIPIENT); /* every recipient is allowed */
	f.all_rcpts_exempt = m->nrcpt_list > 0 && m->rcpt_exempt == m->nrcpt_list;
	verdict_decide(&f, s->policy, &v);
	if (!s->broken && v.action == PM_V_CONTINUE) {
		if (!remove_headers(ctx, s))
			f.internal_error = true;
		value = eom_authres_value(&in, a, &v);
		if (value != NULL && leadspc(s)) {
			/* the MTA writes the value as given: the space after the colon is ours */
			size_t vlen = strlen(value) + 1;
			char *spaced = xmalloc(vlen + 1);

			spaced[0] = ' ';
			memcpy(spaced + 1, value, vlen);
			free(value);
			value = spaced;
		}
		if (value == NULL || smfi_insheader(ctx, 0, hname, value) != MI_SUCCESS) {
			log_msg(LOG_ERR, "%s: adding %s failed",
			        m->queue_id ? m->queue_id : "NOQUEUE", AR_HEADER);
			f.internal_error = true;
		}
		free(value);
		if (v.quarantine && !quarantine(ctx, s, a)) {
			log_msg(LOG_ERR, "%s: quarantine (%s) failed",
			        m->queue_id ? m->queue_id : "NOQUEUE",
			        s->policy->dmarc.quarantine == PM_QUARANTINE_HOLD ? "hold"
			                                                          : "header");
			f.internal_error = true;
		}
		if (f.internal_error)
			verdict_decide(&f, s->policy, &v);
	}
	sb_init(&rcpts);
	for (size_t i = 0; i < m->nrcpt_list; i++) {
		if (i > 0)
			sb_appendc(&rcpts, ',');
		sb_append(&rcpts, m->rcpt_list[i]);
	}
	m->auth = a;
	st = eom_apply(ctx, s, &v, rcpts.len > 0 ? rcpts.s : NULL);
	m->auth = NULL;
	sb_free(&rcpts);
	dkim_results_free(&a->dkim);
	free(a);
	message_reset(m);
	return st;
}

/* mi_abort - the transaction ended without a message */
static sfsistat mi_abort(SMFICTX *ctx)
{
	struct session *s = smfi_getpriv(ctx);

	if (s != NULL)
		message_reset(&s->msg);
	return SMFIS_CONTINUE;
}

/* mi_close - the connection ended: free the session (it may never have started) */
static sfsistat mi_close(SMFICTX *ctx)
{
	struct session *s = smfi_getpriv(ctx);

	if (s != NULL) {
		proto_remember(ctx, s->proto);
		smfi_setpriv(ctx, NULL);
		session_free(s);
	}
	return SMFIS_CONTINUE;
}

#define MILTER_ACTIONS (SMFIF_ADDHDRS | SMFIF_CHGHDRS | SMFIF_QUARANTINE)
#define MILTER_PROTO                                                                               \
	(SMFIP_HDR_LEADSPC | SMFIP_NR_HDR | SMFIP_NR_EOH | SMFIP_NR_BODY | SMFIP_NODATA |          \
	 SMFIP_NOUNKNOWN)

/*
 * The macros each stage reads (smfi_getsymval), asked for in the
 * negotiation so that neither MTA's default lists matter. A list asked
 * for replaces the MTA's own for that stage (Sendmail: that stage only;
 * Postfix: every stage not asked for then gets none), so every stage
 * that reads a macro is here: connect the MTA's facts (mta_facts: j and
 * {daemon_name}, the local address as Postfix's {daemon_addr} or
 * Sendmail's {if_addr}), MAIL FROM SMTP AUTH, and the queue id wherever
 * it is looked for (update_queue_id: MAIL, RCPT, end of headers, end of
 * message; Postfix has one from the first accepted RCPT on, Sendmail
 * from MAIL on). A macro the MTA does not know is simply not sent.
 */
static const struct {
	int stage;
	const char *macros;
} wanted_macros[] = {
    {SMFIM_CONNECT, "j {daemon_name} {daemon_addr} {if_addr}"},
    {SMFIM_ENVFROM, "i {auth_authen}"},
    {SMFIM_ENVRCPT, "i"},
    {SMFIM_EOH, "i"},
    {SMFIM_EOM, "i"},
};

static atomic_bool macro_note_done; /* the note on macro lists was logged */

/* macro_note - log once per process why the MTA's own macro lists apply */
static void macro_note(const char *why)
{
	if (!atomic_exchange(&macro_note_done, true))
		log_msg(LOG_INFO,
		        "%s: the MTA sends the macros its own configuration names (this milter "
		        "reads j, {daemon_name}, {daemon_addr} or {if_addr} at connect, "
		        "{auth_authen} at MAIL FROM, and i)",
		        why);
}

/*
 * ask_macros - ask for wanted_macros (smfi_setsymlist) when the MTA lets
 * a filter choose (SMFIF_SETSYMLIST, protocol 6: Postfix 2.5, Sendmail
 * 8.14); true when it does
 */
static bool ask_macros(SMFICTX *ctx, unsigned long mta_actions)
{
	bool all = true;

	if ((mta_actions & SMFIF_SETSYMLIST) == 0) {
		macro_note("the MTA does not let a filter choose its macros (no SMFIF_SETSYMLIST)");
		return false;
	}
	for (size_t i = 0; i < PM_ARRAY_LEN(wanted_macros); i++)
		if (smfi_setsymlist(ctx, wanted_macros[i].stage, (char *)wanted_macros[i].macros) !=
		    MI_SUCCESS)
			all = false;
	if (!all)
		macro_note("smfi_setsymlist failed for some stage");
	return true;
}

/*
 * mi_negotiate - ask for the macros the milter reads (ask_macros) and,
 * among what the MTA offers, for the protocol steps in MILTER_PROTO:
 * header values with their leading space (SMFIP_HDR_LEADSPC: DKIM's
 * simple header canonicalisation needs the exact bytes); no reply to
 * each header, to the end of headers and to each body chunk (the MTA
 * does not wait: those callbacks never refuse); no DATA and no unknown
 * command at all (no callback for them). The session made here carries
 * the result to mi_connect.
 */
static sfsistat mi_negotiate(SMFICTX *ctx, unsigned long f0, unsigned long f1, unsigned long f2,
                             unsigned long f3, unsigned long *pf0, unsigned long *pf1,
                             unsigned long *pf2, unsigned long *pf3)
{
	struct session *s;

	(void)f2;
	(void)f3;
	*pf0 = f0 & MILTER_ACTIONS;
	if (ask_macros(ctx, f0))
		*pf0 |= SMFIF_SETSYMLIST;
	*pf1 = f1 & MILTER_PROTO;
	*pf2 = 0;
	*pf3 = 0;
	if (smfi_getpriv(ctx) != NULL)
		return SMFIS_CONTINUE;
	s = session_new();
	if (s == NULL)
		return SMFIS_CONTINUE;
	s->broken = true; /* a placeholder: connect replaces it */
	s->proto = *pf1;
	if (smfi_setpriv(ctx, s) != MI_SUCCESS)
		session_free(s);
	return SMFIS_CONTINUE;
}

static struct smfiDesc milter_desc = {
    .xxfi_name = PM_MILTER_NAME,
    .xxfi_version = SMFI_VERSION,
    .xxfi_flags = MILTER_ACTIONS,
    .xxfi_connect = mi_connect,
    .xxfi_helo = mi_helo,
    .xxfi_envfrom = mi_envfrom,
    .xxfi_envrcpt = mi_envrcpt,
    .xxfi_header = mi_header,
    .xxfi_eoh = mi_eoh,
    .xxfi_body = mi_body,
    .xxfi_eom = mi_eom,
    .xxfi_abort = mi_abort,
    .xxfi_close = mi_close,
    .xxfi_negotiate = mi_negotiate,
};

/* milter_register - smfi_register() our callbacks */
int milter_register(void)
{
	return smfi_register(milter_desc);
}
