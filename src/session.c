/*
 * NAME
 *	session 3 - one MTA connection and its current message
 * SYNOPSIS
 *	#include "session.h"
 *
 *	struct session *session_new(void);
 *	void session_free(struct session *s);
 *	void session_client(struct session *s, const char *hostname,
 *		const struct sockaddr *sa);
 *	void session_helo(struct session *s, const char *helo);
 *	void session_mail(struct session *s, const char *raw,
 *		const char *auth_user, struct pm_verdict *v);
 *	void session_rcpt_judge(struct session *s, const char *raw,
 *		struct rcpt_judgement *j);
 *	void message_header(struct session *s, const char *name,
 *		const char *value, bool leadspc);
 *	void session_eom_input(struct session *s, bool leadspc,
 *		struct eom_input *in);
 *	void session_log(...);
 * DESCRIPTION
 *	The state of one connection (struct session) and its current
 *	transaction (struct message), their lifetime, and what each SMTP
 *	stage learns: no libmilter here (milter.c hands in the callback's
 *	arguments and the MTA's macros, and applies the verdict).
 *
 *	At connect, for a client that is not trusted, the DNSBLs (dnsbl.c)
 *	are asked, then the client's reverse DNS is checked (iprev.c), both
 *	within one budget of spf.timeout, as verdict_plan() says: no lookup
 *	when client_block or a client block entry already refuses the
 *	client, no iprev lookup when a DNSBL does (unless a client name
 *	allow entry may save it). The listings and the iprev result go into
 *	every decision record of the session.
 *
 *	The allow and block lists (policy.h lists[], lists.h) are matched
 *	when their fact arrives and kept as facts (struct list_state): the
 *	client address at connect, the client's verified name after the
 *	iprev lookup (made for the lists even when iprev.mode is off, then
 *	neither applied nor reported), the HELO name at HELO, the sender at
 *	MAIL FROM, each recipient at RCPT (an allowed recipient is counted;
 *	at end of message the message is allowed when every accepted one
 *	was). What matched (list_hit_format) goes into the detail of the
 *	records whose verdict names that list (pm_list_ref). Trusted clients
 *	are not matched.
 *
 *	At MAIL FROM the lookups follow verdict_plan() within one budget,
 *	the command's: the sender domain (sender.c), SPF for MAIL FROM (not
 *	when iprev or the sender domain alone refuses the mail), then the
 *	sender domain's DMARC record when an SPF refusal may wait for it;
 *	end of message uses that record again for the same author domain.
 *	HELO SPF runs at HELO, in a budget of its own.
 *
 *	From the first header on, each message of an untrusted,
 *	unauthenticated client is fed to a DKIM verifier (dkim.c) and, unless
 *	arc.mode is off, an ARC verifier (arc.c), and the From header fields
 *	are counted (the first kept); the end of the headers starts the
 *	budget the DKIM and ARC keys and the DMARC lookup share.
 * DIAGNOSTICS
 *	One log line per DNSBL answer worth one (a listing, an answer that
 *	is ignored, a lookup that failed).
 */
#include <stdatomic.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/socket.h>
#include <time.h>

#include "authres.h"
#include "cidr.h"
#include "metrics.h"
#include "session.h"

#define AR_HEADER    "Authentication-Results"
#define HIT_TEXT_MAX (LIST_ENTRY_MAX + 1200)

static atomic_uint active_sessions;

/* session_count - sessions open now */
unsigned session_count(void)
{
	return atomic_load(&active_sessions);
}

/* list_state_forget - forget the matches of kind k */
void list_state_forget(struct list_state *ls, enum list_kind k)
{
	ls->allow &= ~PM_LIST_BIT(k);
	ls->block &= ~PM_LIST_BIT(k);
	for (int i = 0; i < 2; i++) {
		free(ls->hit[i][k]);
		ls->hit[i][k] = NULL;
	}
}

/* list_state_free - forget every match */
void list_state_free(struct list_state *ls)
{
	for (int k = 0; k < PM_LIST_KINDS; k++)
		list_state_forget(ls, (enum list_kind)k);
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
 * list_state_match - match one value against the allow and block lists of
 * kind k (ip for LIST_CLIENT, st and a for the address kinds, text for
 * the names) and remember what matched in ls (the kind's old matches
 * are forgotten first)
 */
void list_state_match(const struct policy *p, struct list_state *ls, enum list_kind k,
                      const struct pm_ip *ip, enum addr_status st, const struct pm_addr *a,
                      const char *text)
{
	const struct list_settings *l = &p->lists[k];
	struct pm_list *const lists[2] = {l->allow_list, l->block_list};
	struct list_hit hit;

	list_state_forget(ls, k);
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

/* session_list_hit - what matched the list the verdict's rule names, or NULL */
static const char *session_list_hit(const struct session *s, const struct pm_verdict *v)
{
	const struct list_state *ls;

	if (!v->list.set)
		return NULL;
	ls = v->list.kind == LIST_SENDER || v->list.kind == LIST_RECIPIENT ? &s->msg.lists
	                                                                   : &s->lists;
	return ls->hit[v->list.block][v->list.kind];
}

/*
 * message_clear - every field zero but the DMARC memo's entries: its
 * count is enough (message_reset runs several times per connection, and
 * the entries are 37 KiB of the message's 41)
 */
static void message_clear(struct message *m)
{
	PM_ASSERT_LAST_FIELD(struct message, dmarc_memo);
	memset(m, 0, offsetof(struct message, dmarc_memo));
	m->dmarc_memo.n = 0;
}

/* message_reset - forget the transaction; the message is ready for the next MAIL FROM */
void message_reset(struct message *m)
{
	free(m->queue_id);
	free(m->sender_text);
	free(m->ar_ours);
	free(m->from_value);
	dkim_verify_free(m->dkim);
	arc_verify_free(m->arc);
	for (size_t i = 0; i < m->nrcpt_list; i++) {
		free(m->rcpt_list[i]);
		free(m->rcpt_domains[i]);
	}
	free(m->rcpt_list);
	free(m->rcpt_domains);
	list_state_free(&m->lists);
	for (size_t i = 0; i < m->ngreylist; i++) {
		free(m->greylist[i].network);
		free(m->greylist[i].sender);
		free(m->greylist[i].rcpt);
	}
	free(m->greylist);
	ratelimit_message_free(&m->ratelimit);
	message_clear(m);
}

/* session_new - a session on the current policy (NULL when there is no policy yet) */
struct session *session_new(void)
{
	struct policy *p = policy_acquire();
	struct session *s;

	if (p == NULL)
		return NULL;
	/* not calloc: the message's DMARC memo need not be cleared (message_clear) */
	PM_ASSERT_LAST_FIELD(struct session, msg);
	s = xmalloc(sizeof(*s));
	memset(s, 0, offsetof(struct session, msg));
	message_clear(&s->msg);
	s->policy = p;
	s->store = store_acquire(); /* NULL when no store is open */
	s->ip.family = AF_UNSPEC;
	pm_ip_format(&s->ip, s->addr, sizeof(s->addr));
	s->dnsbl.first_reject = -1;
	atomic_fetch_add(&active_sessions, 1);
	metrics_session_open();
	return s;
}

/* session_free - release everything the session holds */
void session_free(struct session *s)
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
	list_state_free(&s->lists);
	free(s->verified_name);
	policy_release(s->policy);
	store_release(s->store);
	free(s);
	atomic_fetch_sub(&active_sessions, 1);
	metrics_session_close();
}

/* spf_name - the result name for logs, or NULL when not evaluated */
static const char *spf_name(const struct spf_outcome *o)
{
	return o->result == PM_SPF_UNCHECKED ? NULL : pm_spf_result_name(o->result);
}

/*
 * dmarc_override - RFC 9990 PolicyOverrideType: why the disposition of a
 * failing message differs from the record's policy, or NULL; action and
 * would as the decision says (what was done)
 */
static const char *dmarc_override(const struct policy *p, const struct auth_eom *a,
                                  const char *action, bool would)
{
	const struct dmarc_settings *ds = &p->dmarc;

	if (a->dmarc.result != PM_DMARC_FAIL)
		return NULL;
	if (a->arc_override)
		return "trusted_forwarder"; /* a trusted ARC sealer vouched (arc.trusted_sealers) */
	if (a->dmarc_rule != NULL && strcmp(a->dmarc_rule, "dmarc.never_enforce") == 0)
		return domain_in_list(a->author, ds->never_enforce, ds->nnever_enforce)
		           ? "local_policy"
		           : "trusted_forwarder";
	if (a->disposition != a->dmarc.disposition)
		return "local_policy"; /* dmarc.always_reject */
	if (a->disposition != PM_DMARC_P_NONE &&
	    (would || a->dmarc_mode != PM_MODE_ENFORCE ||
	     (action != NULL && strcmp(action, "accept") == 0)))
		return "local_policy"; /* log or tag mode, dry run, an allow list, an exemption */
	if (a->dmarc.test_mode && a->dmarc.disposition != a->dmarc.policy)
		return "policy_test_mode"; /* t=y (or pct) */
	return NULL;
}

/* dmarc_report_facts - what an aggregate report needs of the DMARC evaluation, into d */
static void dmarc_report_facts(const struct policy *p, const struct auth_eom *a,
                               struct pm_decision *d, char *comment, size_t comment_size)

{
	const struct dmarc_record *r = &a->rec;
	enum dmarc_discovery how = r->status == DMARC_REC_NONE && r->found_at[0] == '\0'
	                               ? p->dmarc.discovery
	                               : r->discovery;

	d->dmarc_discovery = how == DMARC_DISCOVERY_PSL ? "psl" : "treewalk";
	d->dmarc_dkim = a->dmarc.dkim_aligned ? "pass" : "fail";
	d->dmarc_spf = a->dmarc.spf_aligned ? "pass" : "fail";
	d->dmarc_override = dmarc_override(p, a, d->action, d->would);
	if (a->arc_override) {
		snprintf(comment, comment_size, "arc=pass as[%u].d=%s", a->arc_rescue.instance,
		         a->arc_rescue.sealer);
		d->dmarc_override_comment = comment;
	}
	if (r->status != DMARC_REC_FOUND)
		return;
	d->dmarc_pdomain = r->found_at;
	d->dmarc_published = true;
	for (size_t i = 0; i < DMARC_NPUB && i < PM_ARRAY_LEN(d->dmarc_pub); i++)
		d->dmarc_pub[i] = (r->pub.present & (1u << i)) != 0 ? r->pub.val[i] : NULL;
	d->dmarc_rua = r->pub.rua[0] != '\0' ? r->pub.rua : NULL;
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

/* session_facts - the session and message facts every stage shares */
void session_facts(const struct session *s, enum pm_stage stage, struct pm_facts *f)
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
 * session_reply_vars - placeholder values for the reply of verdict v; %{identity}
 * (the SPF identity judged, e.g. "postmaster@helo.example") goes to identity
 */
void session_reply_vars(const struct session *s, const struct pm_verdict *v,
                        const struct verdict_ctx *vc, char *identity, size_t identity_size,
                        struct pm_reply_vars *vars)
{
	const char *rcpt_domain = vc->rcpt_domain;
	const struct message *m = &s->msg;
	const char *helo = s->helo != NULL ? s->helo : "";

	memset(vars, 0, sizeof(*vars));
	vars->ip = s->addr;
	vars->name = s->name;
	if (v->reason == RSN_CLIENT_NAME_BLOCKED && s->verified_name != NULL)
		vars->name = s->verified_name; /* the name the list matched */
	vars->helo = s->helo;
	vars->sender = m->sender_text;
	vars->rcpt = vc->rcpt;
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
		if (vc->auth == NULL)
			break;
		vars->domain = vc->auth->author[0] != '\0' ? vc->auth->author : NULL;
		vars->result = v->check == CHK_FROM_HEADER ? vc->auth->from_why
		               : v->check == CHK_DMARC
		                   ? pm_dmarc_result_name(vc->auth->dmarc.result)
		                   : NULL;
		return;
	case CHK_HEADERS:
		vars->result = m->repeated_field; /* the field repeated */
		return;
	case CHK_GREYLIST:
		vars->retry = vc->retry;
		break;
	case CHK_ARC:
		if (vc->auth == NULL || !vc->auth->arc_done)
			break;
		vars->result = vc->auth->arc.reason[0] != '\0'
		                   ? vc->auth->arc.reason
		                   : pm_arc_result_name(vc->auth->arc.result);
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
 * verdict_dns_fail - why the lookup behind v's check failed for now
 * (DNS_FAIL_NONE: it did not, or the check makes no lookup), for the
 * decision's detail: a temperror's log says SERVFAIL, REFUSED, timeout, ...
 */
static enum dns_fail verdict_dns_fail(const struct session *s, const struct verdict_ctx *vc,
                                      const struct pm_verdict *v)
{
	switch (v->check) {
	case CHK_IPREV:
		return s->iprev.dns_fail;
	case CHK_HELO_SPF:
		return s->helo_spf.dns_fail;
	case CHK_SPF:
		return s->msg.mfrom_spf.dns_fail;
	case CHK_SENDER_DOMAIN:
		return s->msg.sender_domain.dns_fail;
	case CHK_DMARC:
		if (vc->stage == PM_STAGE_EOM)
			return vc->auth != NULL ? vc->auth->rec.dns_fail : DNS_FAIL_NONE;
		return s->msg.sender_dmarc_done ? s->msg.sender_dmarc.dns_fail : DNS_FAIL_NONE;
	case CHK_ARC:
		return vc->auth != NULL && vc->auth->arc_done &&
		               vc->auth->arc.result == PM_ARC_TEMPERROR
		           ? vc->auth->arc.dns_fail
		           : DNS_FAIL_NONE;
	case CHK_MUST_SIGN:
		if (vc->auth == NULL || !vc->auth->dkim_done)
			return DNS_FAIL_NONE;
		for (size_t i = 0; i < vc->auth->dkim.n; i++)
			if (vc->auth->dkim.sig[i].result == PM_DKIM_TEMPERROR)
				return vc->auth->dkim.sig[i].dns_fail;
		return DNS_FAIL_NONE;
	default:
		return DNS_FAIL_NONE;
	}
}

/* rl_record - the record of rate-limit entry e */
static void rl_record(const struct session *s, const struct rl_entry *e,
                      struct pm_decision_ratelimit *out)
{
	const struct ratelimit_settings *rs = &s->policy->ratelimit;
	const struct ratelimit_rule *r = e->rule < rs->nrules ? &rs->rules[e->rule] : NULL;

	memset(out, 0, sizeof(*out));
	out->rule = r != NULL ? r->name : NULL;
	out->key = r != NULL ? rl_key_name(r->key) : NULL;
	out->value = e->value;
	out->count = e->count;
	out->limit = r != NULL ? r->limit : 0;
	out->window = r != NULL ? r->window : 0;
	out->action = r != NULL ? rl_action_name(r->action) : NULL;
	out->state = rl_state_name(e->state);
	out->backend = s->store != NULL ? store_backend_name(s->store) : NULL;
}

/*
 * state_records - the message's greylisting (returned, s->msg.ngreylist
 * of them, NULL when none) and rate-limit counts (*rls, *nrls) for the
 * end-of-message record; the caller frees both arrays
 */
static struct pm_decision_greylist *state_records(const struct session *s,
                                                  struct pm_decision_ratelimit **rls, size_t *nrls)
{
	const struct message *m = &s->msg;
	struct pm_decision_greylist *g = NULL;
	const char *backend = s->store != NULL ? store_backend_name(s->store) : NULL;

	*rls = NULL;
	*nrls = 0;
	if (m->ngreylist > 0)
		g = xcalloc(m->ngreylist, sizeof(*g));
	for (size_t i = 0; i < m->ngreylist; i++) {
		const struct gl_note *n = &m->greylist[i];

		g[i] = (struct pm_decision_greylist){.state = greylist_state_name(n->state),
		                                     .network = n->network,
		                                     .sender = n->sender,
		                                     .recipient = n->rcpt,
		                                     .age = n->age,
		                                     .retry_in = n->retry_in,
		                                     .backend = n->skip != NULL ? NULL : backend,
		                                     .skip = n->skip};
	}
	if (m->ratelimit.n > 0) {
		*rls = xcalloc(m->ratelimit.n, sizeof(**rls));
		for (size_t i = 0; i < m->ratelimit.n; i++)
			rl_record(s, &m->ratelimit.v[i], &(*rls)[i]);
		*nrls = m->ratelimit.n;
	}
	return g;
}

/*
 * session_log - one decision record; action and reply say what was (or
 * would be) sent. The recipients are rcpt (the one judged) before end of
 * message, and every accepted one at end of message.
 */
void session_log(const struct session *s, const struct verdict_ctx *vc, const char *action,
                 bool would, const char *reply, const struct pm_verdict *v)
{
	const char *rule = vc->detail;
	struct pm_decision d;
	struct pm_decision_sig *sigs = NULL;
	const char *one[1];
	enum dns_fail fail;
	char dnsdetail[512], override_comment[320];
	struct pm_decision_arc_set *arcsets = NULL;
	struct pm_decision_greylist *grey = NULL;
	struct pm_decision_ratelimit *rls = NULL;
	size_t nrls = 0;

	memset(&d, 0, sizeof(d));
	d.queue_id = s->msg.queue_id != NULL ? s->msg.queue_id : "NOQUEUE";
	d.stage = pm_stage_name(vc->stage);
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
	if (vc->stage == PM_STAGE_EOM) {
		d.rcpts = (const char *const *)s->msg.rcpt_list;
		d.nrcpts = s->msg.nrcpt_list;
	} else if (vc->rcpt != NULL) {
		one[0] = vc->rcpt;
		d.rcpts = one;
		d.nrcpts = 1;
	}
	if (s->helo_spf.result != PM_SPF_UNCHECKED) {
		d.helo_spf = spf_name(&s->helo_spf);
		d.helo_spf_domain = spf_domain(&s->helo_spf);
	}
	d.spf = spf_name(&s->msg.mfrom_spf);
	d.spf_domain = spf_domain(&s->msg.mfrom_spf);
	d.spf_scope = s->msg.sender_status == ADDR_OK ? "mfrom" : "helo";
	if (vc->auth != NULL && vc->auth->checked) {
		const struct auth_eom *a = vc->auth;

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
		if (a->arc_done) { /* arc=none too: verified, no ARC header field */
			d.arc = pm_arc_result_name(a->arc.result);
			d.arc_reason = a->arc.reason[0] != '\0' ? a->arc.reason : NULL;
			d.arc_oldest_pass = a->arc.oldest_pass;
			if (a->arc.n > 0 && a->arc.set != NULL)
				arcsets = xcalloc(a->arc.n, sizeof(*arcsets));
			for (size_t i = 0; arcsets != NULL && i < a->arc.n; i++) {
				const struct arc_set *as = &a->arc.set[i];

				arcsets[i] =
				    (struct pm_decision_arc_set){.instance = as->instance,
				                                 .domain = as->domain,
				                                 .selector = as->selector,
				                                 .algorithm = as->algorithm,
				                                 .cv = as->cv,
				                                 .as_valid = as->as_valid};
			}
			d.arc_sets = arcsets;
			d.narc_sets = arcsets != NULL ? a->arc.n : 0;
			if (a->arc_rescue.rescued) {
				d.arc_sealer = a->arc_rescue.sealer;
				d.arc_instance = a->arc_rescue.instance;
				d.arc_method = a->arc_rescue.method;
				d.arc_override_applied = a->arc_override;
			}
		}
		if (a->dmarc.result != PM_DMARC_UNCHECKED) {
			d.dmarc = pm_dmarc_result_name(a->dmarc.result);
			if (a->rec.status == DMARC_REC_FOUND) {
				d.dmarc_policy = pm_dmarc_policy_name(a->dmarc.policy);
				d.dmarc_dis = pm_dmarc_policy_name(a->disposition);
			}
		}
	}
	if (vc->stage == PM_STAGE_EOM) {
		grey = state_records(s, &rls, &nrls);
		d.greylist = grey;
		d.ngreylist = grey != NULL ? s->msg.ngreylist : 0;
		d.ratelimit = rls;
		d.nratelimit = nrls;
	} else {
		d.greylist = vc->greylist;
		d.ngreylist = vc->greylist != NULL ? 1 : 0;
		d.ratelimit = vc->ratelimit;
		d.nratelimit = vc->ratelimit != NULL ? 1 : 0;
	}
	d.action = action;
	d.would = would;
	d.reply = reply;
	if (d.dmarc != NULL)
		dmarc_report_facts(s->policy, vc->auth, &d, override_comment,
		                   sizeof(override_comment));
	if (v != NULL) {
		d.check = pm_check_id_name(v->check);
		d.reason = pm_reason_name(v->reason);
		d.rule = v->rule != NULL ? v->rule : rule;
		d.dry_run = v->dry_run;
		if (session_list_hit(s, v) != NULL)
			d.detail = session_list_hit(s, v); /* the entry: "x.test in FILE:3" */
		else if (v->rule != NULL && rule != NULL && strcmp(rule, v->rule) != 0)
			d.detail = rule; /* e.g. the syntax error addr_parse found */
		fail = verdict_dns_fail(s, vc, v);
		if (fail != DNS_FAIL_NONE) { /* "dns=servfail", after the detail if any */
			snprintf(dnsdetail, sizeof(dnsdetail), "%s%sdns=%s",
			         d.detail != NULL ? d.detail : "", d.detail != NULL ? "; " : "",
			         dns_fail_name(fail));
			d.detail = dnsdetail;
		}
	} else {
		d.rule = rule;
	}
	log_decision(&d);
	/* the same record counted: the decision counters equal the log's records */
	metrics_decision(d.stage, d.action, d.check, d.reply, d.would);
	if (v != NULL && v->check == CHK_INTERNAL_ERROR)
		metrics_internal_error();
	free(sigs);
	free(arcsets);
	free(grey);
	free(rls);
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
		        "dnsbl: client %s: lookup of %s failed temporarily (%s): not a listing",
		        s->addr, r->query, dns_fail_name(r->dns_fail));
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
 * session_connect_lookups - the lookups verdict_plan asks for at connect, within
 * one budget of spf.timeout: the DNSBLs, then iprev (its verified name
 * matched against lists.client_name); f is brought up to date
 */
void session_connect_lookups(struct session *s, struct pm_facts *f)
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
		session_facts(s, PM_STAGE_CONNECT, f);
		verdict_plan(f, p, &plan);
	}
	if (plan.iprev) {
		iprev_check(&s->ip, &l, &s->iprev);
		s->iprev_checked = true;
		s->iprev_applies = plan.iprev_applies;
		if (s->iprev.result == PM_IPREV_PASS && s->iprev.name[0] != '\0')
			s->verified_name = xstrdup(s->iprev.name);
		list_state_match(p, &s->lists, LIST_CLIENT_NAME, NULL, ADDR_OK, NULL,
		                 s->verified_name);
		session_facts(s, PM_STAGE_CONNECT, f);
	}
}

/*
 * session_mail_lookups - the lookups verdict_plan asks for at MAIL FROM, within
 * one DNS budget, the MAIL FROM command's (spf.timeout): the sender
 * domain, SPF for MAIL FROM (the null sender: postmaster@HELO, taken from
 * HELO SPF when that ran), then the sender domain's DMARC record (end of
 * message uses it again when the author domain is the same)
 */
void session_mail_lookups(struct session *s)
{
	const struct policy *p = s->policy;
	struct message *m = &s->msg;
	struct dns_budget b;
	struct pm_facts f;
	struct pm_plan plan;

	session_facts(s, PM_STAGE_MAIL, &f);
	verdict_plan(&f, p, &plan);
	if (!plan.sender_domain && !plan.spf)
		return;
	dns_budget_init(&b, p->spf.dns_timeout, p->spf.timeout);
	if (plan.sender_domain) {
		sender_domain_check(m->sender.domain, &b, &m->sender_domain);
		session_facts(s, PM_STAGE_MAIL, &f);
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
	session_facts(s, PM_STAGE_MAIL, &f);
	verdict_plan(&f, p, &plan);
	if (plan.sender_dmarc) {
		struct dmarc_ctx dc = {.psl = p->psl,
		                       .discovery = p->dmarc.discovery,
		                       .budget = &b,
		                       .memo = &m->dmarc_memo};

		dmarc_discover(&dc, m->sender.domain, &m->sender_dmarc);
		m->sender_dmarc_done = true;
	}
}

/* session_mail_why - the detail of a MAIL FROM verdict: iprev's or SPF's comment, or NULL */
const char *session_mail_why(const struct session *s, const struct pm_verdict *v)
{
	if (v->check == CHK_IPREV)
		return s->iprev.why[0] != '\0' ? s->iprev.why : NULL;
	if (s->msg.sender_status != ADDR_BAD)
		return s->msg.mfrom_spf.comment[0] != '\0' ? s->msg.mfrom_spf.comment : NULL;
	return NULL;
}

/* session_message_auth - are DKIM, DMARC or ARC evaluated for this message (verdict_plan)? */
bool session_message_auth(const struct session *s)
{
	struct pm_facts f;
	struct pm_plan plan;

	session_facts(s, PM_STAGE_EOM, &f);
	verdict_plan(&f, s->policy, &plan);
	return plan.message_auth;
}

/* message_headers_begin - the first header of a message: set up the DKIM and ARC verifiers */
void message_headers_begin(struct session *s, bool leadspc)
{
	const struct policy *p = s->policy;
	struct message *m = &s->msg;
	struct dkim_verify_settings ds;
	struct arc_verify_settings as;

	m->headers_seen = true;
	if (!session_message_auth(s))
		return;
	if (p->arc.mode != PM_MODE_OFF) {
		arc_verify_defaults(&as);
		as.max_sets = (unsigned)p->arc.max_sets;
		as.dns_timeout = p->spf.dns_timeout;
		as.leadspc = leadspc;
		m->arc = arc_verify_new(&as, m->queue_id);
	}
	if (!policy_check_on(p, PM_CHECK_DKIM) && !policy_dmarc_on(p))
		return; /* ARC alone */
	dkim_verify_defaults(&ds);
	ds.max_signatures = p->dkim.max_signatures;
	ds.allow_l = p->dkim.allow_l;
	ds.min_key_bits = p->dkim.min_key_bits;
	ds.dns_timeout = p->spf.dns_timeout;
	ds.leadspc = leadspc;
	m->dkim = dkim_verify_new(&ds, m->queue_id);
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
 * message_eom_start - once per message, at the end of the headers (the MTA
 * sends the body and the end of message without waiting from then on):
 * the DKIM and ARC key lookups and the DMARC lookup share one budget,
 * spf.timeout, as the lookups of MAIL FROM do
 */
void message_eom_start(struct session *s)
{
	struct message *m = &s->msg;

	if (m->eom_clock)
		return;
	dns_budget_init(&m->eom_budget, s->policy->spf.dns_timeout, s->policy->spf.timeout);
	m->eom_clock = true;
	dkim_verify_budget(m->dkim, &m->eom_budget);
	if (m->arc != NULL)
		arc_verify_budget(m->arc, &m->eom_budget);
}

/*
 * session_eom_input - the session's and the message's facts end of message
 * reads (eom.h); the verifiers are set up first and the budget of end
 * of message started when DKIM, DMARC or ARC are evaluated
 */
void session_eom_input(struct session *s, bool leadspc, struct eom_input *in)
{
	struct message *m = &s->msg;

	if (session_message_auth(s)) {
		if (!m->headers_seen)
			message_headers_begin(s, leadspc);
		message_eom_start(s);
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
	in->dmarc_memo = &m->dmarc_memo;
	in->dkim = m->dkim;
	in->arc = m->arc;
	in->from_count = m->from_count;
	in->from_value = m->from_value;
	in->repeated_field = m->repeated_field;
	in->budget = &m->eom_budget;
	in->pct_roll = arc4random_uniform(100);
}

/*
 * session_client - the client's name and address (sa NULL or not an
 * address: a local submission, trusted); trusted_networks, client_block
 * and the client lists decide what they can
 */
void session_client(struct session *s, const char *hostname, const struct sockaddr *sa)
{
	const struct pm_cidr *c;

	metrics_session_connect();
	s->name = xstrdup(hostname != NULL ? hostname : "unknown");
	if (pm_ip_from_sockaddr(sa, &s->ip) != 0 || s->ip.family == AF_UNSPEC) {
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
		list_state_match(s->policy, &s->lists, LIST_CLIENT, &s->ip, ADDR_OK, NULL, NULL);
}

/* session_helo - a new HELO name: the transaction reset, the HELO lists, HELO SPF */
void session_helo(struct session *s, const char *helo)
{
	struct pm_facts f;
	struct pm_plan plan;

	free(s->helo);
	s->helo = xstrdup(helo != NULL ? helo : "");
	memset(&s->helo_spf, 0, sizeof(s->helo_spf));
	message_reset(&s->msg); /* HELO/EHLO resets the transaction (RFC 5321 4.1.4) */
	list_state_forget(&s->lists, LIST_HELO);
	if (!s->trusted && !s->broken) /* applied at MAIL FROM, like HELO SPF */
		list_state_match(s->policy, &s->lists, LIST_HELO, NULL, ADDR_OK, NULL, s->helo);
	session_facts(s, PM_STAGE_HELO, &f);
	verdict_plan(&f, s->policy, &plan);
	if (plan.helo_spf) {
		struct dns_budget b; /* the HELO command's */

		dns_budget_init(&b, s->policy->spf.dns_timeout, s->policy->spf.timeout);
		spf_check_helo(&s->policy->spf, &b, &s->ip, s->helo, &s->helo_spf);
	}
}

/*
 * session_mail - a new message from sender raw (auth_user: the SMTP AUTH
 * name, or NULL): its syntax, the sender lists, the lookups, and the
 * verdict v; a refusal held for RCPT is kept in the message
 */
void session_mail(struct session *s, const char *raw, const char *auth_user, struct pm_verdict *v)
{
	struct message *m = &s->msg;
	const char *why = NULL;
	char buf[ADDR_TEXT_MAX];
	struct pm_facts f;

	message_reset(m);
	m->started = true;
	m->sender_status = addr_parse(raw, strlen(raw), ADDR_ALLOW_NULL, &m->sender, &why);
	if (m->sender_status == ADDR_OK)
		m->sender_text = xstrdup(addr_format(&m->sender, buf, sizeof(buf)));
	else if (m->sender_status == ADDR_NULL)
		m->sender_text = xstrdup("<>");
	else
		m->sender_text = xstrdup(raw);
	if (auth_user != NULL && *auth_user != '\0') {
		s->authenticated = true;
		free(s->auth_user);
		s->auth_user = xstrdup(auth_user);
	}
	if (!s->trusted && !s->broken &&
	    (m->sender_status == ADDR_OK || m->sender_status == ADDR_NULL))
		list_state_match(s->policy, &m->lists, LIST_SENDER, NULL, m->sender_status,
		                 &m->sender, NULL);
	session_mail_lookups(s);
	session_facts(s, PM_STAGE_MAIL, &f);
	verdict_decide(&f, s->policy, v);
	s->messages++;
	if (v->delayed)
		m->mail_refusal = *v; /* each RCPT not exempt gets it (and its log line) */
}

/* addr_plain - "local@domain" (or the local part alone) of a parsed address, into buf */
static void addr_plain(enum addr_status st, const struct pm_addr *a, char *buf, size_t size)
{
	if (st == ADDR_OK)
		snprintf(buf, size, "%s@%s", a->local, a->domain);
	else if (st == ADDR_LOCAL_ONLY)
		snprintf(buf, size, "%s", a->local);
	else
		buf[0] = '\0';
}

/* normalise - the address (status st) normalised as greylisting does, into out */
static void normalise(const struct policy *p, enum addr_status st, const struct pm_addr *a,
                      char *out, size_t outsize)
{
	char raw[GL_ADDR_MAX];

	addr_plain(st, a, raw, sizeof(raw));
	if (greylist_normalise(raw, strlen(raw), p->recipients.detail_separators, out, outsize) ==
	    (size_t)-1)
		snprintf(out, outsize, "%s", raw); /* cannot happen: the parts fit */
}

/* rcpt_greylist - greylisting for the recipient: skipped, or the store's state */
static void rcpt_greylist(struct session *s, struct rcpt_judgement *j)
{
	const struct greylist_settings *gs = &s->policy->greylist;
	const struct message *m = &s->msg;
	struct pm_facts *f = &j->facts;
	const unsigned allows = PM_LIST_BIT(LIST_CLIENT) | PM_LIST_BIT(LIST_CLIENT_NAME) |
	                        PM_LIST_BIT(LIST_HELO) | PM_LIST_BIT(LIST_SENDER);
	const struct greylist_subject sub = {
	    .trusted = s->trusted,
	    .authenticated = s->authenticated,
	    .allowed = (f->list_allow & allows) != 0,
	    .always_valid = f->rcpt == RCPT_ALWAYS_VALID,
	    .ip = &s->ip,
	    .verified_name = s->verified_name,
	    .sender_domain = m->sender_status == ADDR_OK ? m->sender.domain : NULL,
	    .spf_pass = m->sender_status == ADDR_OK && m->mfrom_spf.result == PM_SPF_PASS,
	    .rcpt = j->triplet.rcpt,
	    .rcpt_domain = j->domain};

	j->grey = (struct greylist_result){.state = GL_SKIPPED, .age = -1, .retry_in = -1};
	j->grey_skip = greylist_skip(gs, &sub);
	if (j->grey_skip == NULL) {
		if (greylist_network(&s->ip, gs->ipv4_prefix, gs->ipv6_prefix, j->triplet.network,
		                     sizeof(j->triplet.network)) != 0) {
			j->grey_skip = "no_address";
		} else {
			j->triplet_set = true;
			greylist_check(s->store, gs, &j->triplet, time(NULL), &j->grey);
		}
	}
	f->greylist = j->grey.state;
	f->greylist_retry = j->grey.retry_in;
	if (j->grey.state == GL_ERROR) {
		f->state_error = true;
		f->state_error_rule = NULL;
	}
	if (j->grey.retry_in >= 0)
		snprintf(j->retry, sizeof(j->retry), "%ld", j->grey.retry_in);
	j->rec_grey = (struct pm_decision_greylist){
	    .state = greylist_state_name(j->grey.state),
	    .network = j->triplet_set ? j->triplet.network : NULL,
	    .sender = j->triplet_set ? j->triplet.sender : NULL,
	    .recipient = j->triplet_set ? j->triplet.rcpt : NULL,
	    .age = j->grey.age,
	    .retry_in = j->grey.retry_in,
	    .backend =
	        j->grey_skip == NULL && s->store != NULL ? store_backend_name(s->store) : NULL,
	    .skip = j->grey_skip};
}

/* rcpt_ratelimit - count the recipient against the rate-limit rules */
static void rcpt_ratelimit(struct session *s, struct rcpt_judgement *j)
{
	const struct ratelimit_settings *rs = &s->policy->ratelimit;
	const struct message *m = &s->msg;
	struct pm_facts *f = &j->facts;
	const char *at = strrchr(j->triplet.sender, '@');
	const struct rl_subject sub = {
	    .trusted = s->trusted,
	    .authenticated = s->authenticated,
	    .ip = &s->ip,
	    .auth_user = s->auth_user,
	    .sender = m->sender_status == ADDR_OK     ? j->triplet.sender
	              : m->sender_status == ADDR_NULL ? ""
	                                              : NULL,
	    .sender_domain = m->sender_status == ADDR_OK && at != NULL ? at + 1 : NULL,
	    .rcpt = j->triplet.rcpt};
	int show;

	ratelimit_rcpt(s->store, rs, &sub, &m->ratelimit, &j->rl);
	if (j->rl.over >= 0)
		f->ratelimit = &rs->rules[j->rl.e[j->rl.over].rule];
	else if (j->rl.would >= 0)
		f->ratelimit = &rs->rules[j->rl.e[j->rl.would].rule];
	if (j->rl.error >= 0) {
		f->state_error = true;
		f->state_error_rule = &rs->rules[j->rl.e[j->rl.error].rule];
	}
	show = j->rl.over >= 0 ? j->rl.over : j->rl.error >= 0 ? j->rl.error : j->rl.would;
	if (show >= 0) {
		rl_record(s, &j->rl.e[show], &j->rec_rl);
		j->rec_rl_set = true;
	}
}

/*
 * rcpt_state - a recipient every other check lets through: greylisting,
 * then the rate limits, each followed by the verdict again
 */
static void rcpt_state(struct session *s, struct rcpt_judgement *j)
{
	const struct policy *p = s->policy;
	struct pm_facts *f = &j->facts;
	bool grey = p->greylist.mode != PM_MODE_OFF, rl = p->ratelimit.nrules > 0;

	if ((!grey && !rl) || s->broken || j->verdict.action != PM_V_CONTINUE ||
	    (f->rcpt_status != ADDR_OK && f->rcpt_status != ADDR_LOCAL_ONLY))
		return;
	normalise(p, f->rcpt_status, &j->addr, j->triplet.rcpt, sizeof(j->triplet.rcpt));
	if (s->msg.sender_status == ADDR_OK)
		normalise(p, ADDR_OK, &s->msg.sender, j->triplet.sender, sizeof(j->triplet.sender));
	if (grey) {
		rcpt_greylist(s, j);
		verdict_decide(f, p, &j->verdict);
		rl = rl && j->verdict.action == PM_V_CONTINUE;
	}
	if (rl) {
		rcpt_ratelimit(s, j);
		verdict_decide(f, p, &j->verdict);
	}
	if (j->verdict.check == CHK_GREYLIST || j->verdict.check == CHK_RATELIMIT ||
	    j->verdict.check == CHK_STATE)
		j->why = NULL; /* the recipient table's detail is not this verdict's */
}

/* session_rcpt_ctx - what the record and the reply of j's verdict need */
void session_rcpt_ctx(const struct rcpt_judgement *j, struct verdict_ctx *vc)
{
	*vc = (struct verdict_ctx){.stage = PM_STAGE_RCPT,
	                           .rcpt = j->text,
	                           .rcpt_domain = j->domain,
	                           .detail = j->why,
	                           .retry = j->retry[0] != '\0' ? j->retry : NULL,
	                           .greylist = j->grey.state != GL_NONE ? &j->rec_grey : NULL,
	                           .ratelimit = j->rec_rl_set ? &j->rec_rl : NULL};
}

/* session_rcpt_judge - parse, look up and judge one recipient */
void session_rcpt_judge(struct session *s, const char *raw, struct rcpt_judgement *j)
{
	struct message *m = &s->msg;
	struct pm_facts *f = &j->facts;
	const struct pm_verdict *v = &j->verdict;

	PM_ASSERT_LAST_FIELD(struct rcpt_judgement, rl);
	memset(j, 0, offsetof(struct rcpt_judgement, rl));
	j->rl.n = 0;
	j->rl.over = j->rl.would = j->rl.error = 0;
	session_facts(s, PM_STAGE_RCPT, f);
	f->rcpt_status = addr_parse(raw, strlen(raw), ADDR_ALLOW_LOCAL_ONLY, &j->addr, &j->why);
	switch (f->rcpt_status) {
	case ADDR_OK:
		j->text = addr_format(&j->addr, j->buf, sizeof(j->buf));
		j->domain = j->addr.domain;
		break;
	case ADDR_LOCAL_ONLY:
		j->text = j->addr.local;
		break;
	default:
		j->text = raw;
		break;
	}
	/* this recipient's domain, for the overrides */
	j->domains[0] = (char *)j->domain;
	f->domains.rcpt = j->domains;
	f->domains.nrcpt = 1;
	if (f->rcpt_status == ADDR_OK || f->rcpt_status == ADDR_LOCAL_ONLY) {
		j->why = NULL;
		if (s->policy->recipients.mode != PM_MODE_OFF && !s->broken)
			f->rcpt =
			    rcpt_lookup(&s->policy->recipients, f->rcpt_status, &j->addr, &j->why);
		if (!s->trusted && !s->broken) {
			list_state_match(s->policy, &j->lists, LIST_RECIPIENT, NULL, f->rcpt_status,
			                 &j->addr, NULL);
			if (j->lists.block & PM_LIST_BIT(LIST_RECIPIENT)) {
				/* this recipient only: the message's state keeps it for the log */
				f->list_block |= PM_LIST_BIT(LIST_RECIPIENT);
				free(m->lists.hit[1][LIST_RECIPIENT]);
				m->lists.hit[1][LIST_RECIPIENT] = j->lists.hit[1][LIST_RECIPIENT];
				j->lists.hit[1][LIST_RECIPIENT] = NULL;
			}
			f->rcpt_exempt = verdict_rcpt_exempt(s->policy, f->rcpt_status, &j->addr);
		}
	}
	verdict_decide(f, s->policy, &j->verdict);
	rcpt_state(s, j);
	if (v->check == CHK_IPREV || v->check == CHK_SPF || v->check == CHK_HELO_SPF ||
	    v->check == CHK_SENDER_DOMAIN)
		j->why = session_mail_why(s, v); /* MAIL FROM's refusal (or "would"), held here */
}

/* greylist_note - keep j's greylisting for the end-of-message record */
static void greylist_note(struct message *m, const struct rcpt_judgement *j)
{
	struct gl_note *n;

	m->greylist = xrealloc(m->greylist, (m->ngreylist + 1) * sizeof(*m->greylist));
	n = &m->greylist[m->ngreylist++];
	*n = (struct gl_note){.state = j->grey.state,
	                      .age = j->grey.age,
	                      .retry_in = j->grey.retry_in,
	                      .skip = j->grey_skip};
	if (j->triplet_set) {
		n->network = xstrdup(j->triplet.network);
		n->sender = xstrdup(j->triplet.sender);
		n->rcpt = xstrdup(j->triplet.rcpt);
	}
}

/* session_rcpt_done - count the recipient, and keep it when accepted */
void session_rcpt_done(struct session *s, struct rcpt_judgement *j, bool accepted)
{
	struct message *m = &s->msg;
	const struct pm_facts *f = &j->facts;

	if (accepted && (j->lists.allow & PM_LIST_BIT(LIST_RECIPIENT))) {
		m->rcpt_allowed++;
		if (m->lists.hit[0][LIST_RECIPIENT] == NULL) {
			m->lists.hit[0][LIST_RECIPIENT] = j->lists.hit[0][LIST_RECIPIENT];
			j->lists.hit[0][LIST_RECIPIENT] = NULL;
		}
	}
	list_state_free(&j->lists);
	if (!accepted)
		ratelimit_take_back(s->store, &s->policy->ratelimit, &j->rl);
	if (accepted) {
		ratelimit_commit(&m->ratelimit, &j->rl);
		if (j->grey.state != GL_NONE)
			greylist_note(m, j);
		if (f->rcpt_exempt)
			m->rcpt_exempt++;
		m->rcpt_list = xrealloc(m->rcpt_list, (m->nrcpt_list + 1) * sizeof(*m->rcpt_list));
		m->rcpt_domains =
		    xrealloc(m->rcpt_domains, (m->nrcpt_list + 1) * sizeof(*m->rcpt_domains));
		m->rcpt_domains[m->nrcpt_list] = j->domain != NULL ? xstrdup(j->domain) : NULL;
		m->rcpt_list[m->nrcpt_list++] = xstrdup(j->text);
	} else if ((f->rcpt_status == ADDR_OK || f->rcpt_status == ADDR_LOCAL_ONLY) &&
	           f->rcpt == RCPT_UNKNOWN && j->verdict.check == CHK_RECIPIENTS) {
		s->unknown_rcpts++;
	}
}

/* message_header - one header field: the verifier, and what end of message counts */
void message_header(struct session *s, const char *name, const char *value, bool leadspc)
{
	struct message *m = &s->msg;

	if (!m->headers_seen)
		message_headers_begin(s, leadspc);
	if (name == NULL)
		return;
	if (m->dkim != NULL)
		dkim_verify_header(m->dkim, name, value != NULL ? value : "");
	if (m->arc != NULL)
		arc_verify_header(m->arc, name, value != NULL ? value : "");
	note_singleton(m, name);
	if (verdict_field_is(name, "From")) {
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
}

/* message_eoh - end of headers: the budget of end of message starts; the verifier is told */
void message_eoh(struct session *s, bool leadspc)
{
	if (!s->msg.headers_seen)
		message_headers_begin(s, leadspc);
	message_eom_start(s);
	if (s->msg.dkim != NULL)
		dkim_verify_eoh(s->msg.dkim);
	if (s->msg.arc != NULL)
		arc_verify_eoh(s->msg.arc);
}

/* session_eom_facts - the end-of-message facts, with what eom_evaluate found */
void session_eom_facts(const struct session *s, const struct auth_eom *a, struct pm_facts *f)
{
	const struct message *m = &s->msg;

	session_facts(s, PM_STAGE_EOM, f);
	f->from = a->from;
	f->author = a->author[0] != '\0' ? a->author : NULL;
	f->sender_aligned = a->sender_aligned;
	f->from_name_address = a->from_name_address;
	f->dmarc_dkim_aligned = a->dmarc.result == PM_DMARC_PASS && a->dmarc.dkim_aligned;
	f->repeated_field = m->repeated_field;
	f->must_sign = a->must_sign;
	f->dmarc = a->dmarc.result;
	f->dmarc_disposition = a->disposition;
	f->dmarc_mode = a->dmarc_mode;
	f->dmarc_rule = a->dmarc_rule;
	f->arc = a->arc_done ? a->arc.result : PM_ARC_NONE;
	f->arc_override = a->arc_override;
	if (m->nrcpt_list > 0 && m->rcpt_allowed == m->nrcpt_list)
		f->list_allow |= PM_LIST_BIT(LIST_RECIPIENT); /* every recipient is allowed */
	f->all_rcpts_exempt = m->nrcpt_list > 0 && m->rcpt_exempt == m->nrcpt_list;
}

/* message_rcpts_text - the accepted recipients, comma-separated (for %{rcpt}), or NULL */
const char *message_rcpts_text(const struct message *m, struct strbuf *sb)
{
	sb_init(sb);
	for (size_t i = 0; i < m->nrcpt_list; i++) {
		if (i > 0)
			sb_appendc(sb, ',');
		sb_append(sb, m->rcpt_list[i]);
	}
	return sb->len > 0 ? sb->s : NULL;
}

/*
 * local_address - the address the client connected to: Sendmail's
 * if_addr (not sent for loopback), else Postfix's daemon_addr, in
 * canonical form (Sendmail's "IPv6:" prefix dropped); a wildcard
 * ("0.0.0.0", "::": Sendmail's {daemon_addr} is the address it listens
 * on) says nothing. A value that is not an address is kept as given (the
 * logs escape it). NULL when unknown; the caller frees.
 */
static char *local_address(const char *if_addr, const char *daemon_addr)
{
	const char *const given[] = {if_addr, daemon_addr};
	static const unsigned char zero[16];
	char buf[PM_IP_STRLEN];
	struct pm_ip ip;

	for (size_t i = 0; i < PM_ARRAY_LEN(given); i++) {
		const char *v = given[i];

		if (v == NULL || *v == '\0')
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

/* session_mta - what the MTA says of itself: host name, daemon name, the local address */
void session_mta(struct session *s, const char *host, const char *daemon, const char *if_addr,
                 const char *daemon_addr)
{
	if (host != NULL && *host != '\0')
		s->mta_host = xstrdup(host);
	if (daemon != NULL && *daemon != '\0')
		s->mta_daemon = xstrdup(daemon);
	s->local_addr = local_address(if_addr, daemon_addr);
}
