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
 *	struct session (session.h, kept with smfi_setpriv): the policy
 *	snapshot it took at connect, what the client said and what the
 *	lookups found, and the current struct message. A message ends at end
 *	of message, abort, HELO or a new MAIL FROM; the session ends at
 *	xxfi_close, which may be the only callback.
 *
 *	Every callback does the same three things: take its arguments and
 *	the MTA's macros, call one function of session.c (which gathers the
 *	facts and makes the lookups verdict_plan() asks for), and apply the
 *	one verdict verdict_decide() gives: a refusal goes out through
 *	smfi_setreply() with the configured code, enhanced code and text
 *	(placeholders expanded and escaped by reply_expand()). Every refusal,
 *	every "would" (a check in log or tag mode, or the global dry run)
 *	and every accepted message is logged once (session_log). A MAIL FROM
 *	refusal the verdict holds for RCPT (delayed, verdict.h) is not sent
 *	nor logged at MAIL FROM; each RCPT gets it back as a fact.
 *
 *	DNS time: each MTA command that looks anything up (connect, HELO,
 *	MAIL FROM, end of message) gets one struct dns_budget (dns.h) of
 *	spf.timeout seconds, shared by every lookup the command makes; end
 *	of message's starts at the end of the headers (the DKIM keys, the
 *	author domain's DMARC record). HELO SPF is applied at MAIL FROM,
 *	once the milter knows whether the client authenticated.
 *
 *	At end of message the facts go to eom.c (eom_evaluate). When the
 *	verdict accepts, our forged Authentication-Results and incoming
 *	quarantine headers are removed, one Authentication-Results header
 *	(eom_authres_value) is inserted at the top, and a DMARC quarantine
 *	adds the quarantine header or asks the MTA to hold the message
 *	(smfi_quarantine).
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
 *	Process-wide state here: the draining flag, the ring of recent
 *	negotiated flags (proto_ring, under proto_lock) and the once-only
 *	note about the macro lists (macro_note_done). The count of open
 *	sessions is session.c's, the current policy policy.c's
 *	(policy_acquire); everything else belongs to a session.
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

#include "eom.h"
#include "log.h"
#include "milter.h"
#include "policy.h"
#include "session.h"
#include "util.h"
#include "verdict.h"

#define AR_HEADER "Authentication-Results"

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
	return session_count();
}

/* leadspc - header values keep their leading space (SMFIP_HDR_LEADSPC negotiated) */
static bool leadspc(const struct session *s)
{
	return (s->proto & SMFIP_HDR_LEADSPC) != 0;
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

/* mta_facts - what the MTA says of itself at connect: host name, daemon name, local address */
static void mta_facts(SMFICTX *ctx, struct session *s)
{
	session_mta(s, macro(ctx, "j"), macro(ctx, "{daemon_name}"), macro(ctx, "{if_addr}"),
	            macro(ctx, "{daemon_addr}"));
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
static sfsistat apply_verdict(SMFICTX *ctx, struct session *s, const struct verdict_ctx *vc,
                              const struct pm_verdict *v)
{
	const struct pm_reply *r;
	struct pm_reply_vars vars;
	char text[REPLY_TEXT_MAX + 1], sendtext[REPLY_BUF_SIZE], line[REPLY_LINE_MAX];
	char rcode[8], identity[ADDR_TEXT_MAX + 16];
	bool permanent;

	if (v->action == PM_V_CONTINUE && !v->would) {
		/* accepted for a reason worth a line (fail open); at eom mi_eom logs it */
		if (v->reason != RSN_NONE && vc->stage != PM_STAGE_EOM)
			session_log(s, vc, "accept", false, NULL, v);
		return SMFIS_CONTINUE;
	}
	if ((int)v->reply < 0 || v->reply >= PM_R_COUNT) {
		log_msg(LOG_ERR, "verdict names no reply (%d); answering tempfail", (int)v->reply);
		return SMFIS_TEMPFAIL;
	}
	r = &s->policy->replies[v->reply];
	session_reply_vars(s, v, vc, identity, sizeof(identity), &vars);
	reply_expand(r, &vars, text, sizeof(text));
	snprintf(line, sizeof(line), "%d %s %s", r->code, r->xcode, text);
	permanent = r->code / 100 == 5;

	if (v->action == PM_V_CONTINUE) {
		session_log(s, vc, permanent ? "reject" : "tempfail", true, line, v);
		return SMFIS_CONTINUE;
	}
	snprintf(rcode, sizeof(rcode), "%d", r->code);
	percent_double(sendtext, sizeof(sendtext), text);
	if (smfi_setreply(ctx, rcode, (char *)r->xcode, sendtext) != MI_SUCCESS)
		log_msg(LOG_ERR, "smfi_setreply failed for \"%s\"; the MTA sends its default",
		        line);
	session_log(s, vc, permanent ? "reject" : "tempfail", false, line, v);
	return permanent ? SMFIS_REJECT : SMFIS_TEMPFAIL;
}

/* decide - ask the verdict for facts f (of stage f->stage) and apply it */
static sfsistat decide(SMFICTX *ctx, struct session *s, const struct pm_facts *f)
{
	const struct verdict_ctx vc = {.stage = f->stage};
	struct pm_verdict v;

	verdict_decide(f, s->policy, &v);
	return apply_verdict(ctx, s, &vc, &v);
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
 * DNSBLs and iprev (session_connect_lookups)
 */
static sfsistat mi_connect(SMFICTX *ctx, char *hostname, _SOCK_ADDR *hostaddr)
{
	struct session *s, *old = smfi_getpriv(ctx);
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
	mta_facts(ctx, s);
	session_client(s, hostname, hostaddr);

	if (atomic_load(&draining)) {
		/* not a policy decision: the daemon is stopping (see main.c drain) */
		const struct verdict_ctx vc = {.stage = PM_STAGE_CONNECT,
		                               .detail = "shutting down"};

		smfi_setreply(ctx, DRAIN_RCODE, DRAIN_XCODE, DRAIN_TEXT);
		session_log(s, &vc, "tempfail", false, DRAIN_RCODE " " DRAIN_XCODE " " DRAIN_TEXT,
		            NULL);
		if (lost)
			session_free(s);
		return SMFIS_TEMPFAIL;
	}
	session_facts(s, PM_STAGE_CONNECT, &f);
	session_connect_lookups(s, &f);
	st = decide(ctx, s, &f);
	if (lost)
		session_free(s);
	return st;
}

/* mi_helo - remember the HELO name and check it with SPF (applied at MAIL FROM) */
static sfsistat mi_helo(SMFICTX *ctx, char *helohost)
{
	struct session *s = session_get(ctx);
	struct pm_facts f;

	if (s == NULL)
		return SMFIS_TEMPFAIL;
	session_helo(s, helohost);
	session_facts(s, PM_STAGE_HELO, &f);
	return decide(ctx, s, &f);
}

/* mi_envfrom - a new message: sender syntax, SMTP AUTH, SPF */
static sfsistat mi_envfrom(SMFICTX *ctx, char **argv)
{
	struct session *s = session_get(ctx);
	struct verdict_ctx vc = {.stage = PM_STAGE_MAIL};
	struct pm_verdict v;

	if (s == NULL)
		return SMFIS_TEMPFAIL;
	session_mail(s, argv != NULL && argv[0] != NULL ? argv[0] : "",
	             smfi_getsymval(ctx, "{auth_authen}"), &v);
	update_queue_id(ctx, &s->msg);
	if (v.delayed)
		return SMFIS_CONTINUE; /* held for RCPT (session_mail) */
	vc.detail = session_mail_why(s, &v);
	return apply_verdict(ctx, s, &vc, &v);
}

/* mi_envrcpt - one recipient: syntax, limits, the recipient table, greylisting, rate limits */
static sfsistat mi_envrcpt(SMFICTX *ctx, char **argv)
{
	struct session *s = session_get(ctx);
	struct rcpt_judgement j;
	struct verdict_ctx vc;
	sfsistat st;

	if (s == NULL)
		return SMFIS_TEMPFAIL;
	update_queue_id(ctx, &s->msg);
	session_rcpt_judge(s, argv != NULL && argv[0] != NULL ? argv[0] : "", &j);
	session_rcpt_ctx(&j, &vc);
	st = apply_verdict(ctx, s, &vc, &j.verdict);
	session_rcpt_done(s, &j, st == SMFIS_CONTINUE);
	return st;
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

	if (s == NULL)
		return SMFIS_TEMPFAIL;
	message_header(s, name, value, leadspc(s));
	return reply_or_not(s, SMFIP_NR_HDR);
}

/* mi_eoh - end of headers: the queue id may be news; the verifier gets the end */
static sfsistat mi_eoh(SMFICTX *ctx)
{
	struct session *s = session_get(ctx);

	if (s == NULL)
		return SMFIS_TEMPFAIL;
	update_queue_id(ctx, &s->msg);
	message_eoh(s, leadspc(s));
	return reply_or_not(s, SMFIP_NR_EOH);
}

/* mi_body - a body chunk, for DKIM and ARC */
static sfsistat mi_body(SMFICTX *ctx, unsigned char *bytes, size_t len)
{
	struct session *s = session_get(ctx);

	if (s == NULL)
		return SMFIS_TEMPFAIL;
	if (s->msg.dkim != NULL && bytes != NULL)
		dkim_verify_body(s->msg.dkim, bytes, len);
	if (s->msg.arc != NULL && bytes != NULL)
		arc_verify_body(s->msg.arc, bytes, len);
	return reply_or_not(s, SMFIP_NR_BODY);
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
                          const struct auth_eom *a, const char *rcpts)
{
	const char *action = "accept";
	/* the field a repeated-header verdict names goes into the record's detail */
	const struct verdict_ctx vc = {.stage = PM_STAGE_EOM,
	                               .rcpt = rcpts,
	                               .detail =
	                                   v->check == CHK_HEADERS ? s->msg.repeated_field : NULL,
	                               .auth = a};
	const struct verdict_ctx quar = {.stage = PM_STAGE_EOM, .rcpt = rcpts, .auth = a};

	if (v->action == PM_V_CONTINUE && (!v->would || v->reply >= PM_R_COUNT)) {
		if (v->quarantine || v->would)
			action = s->policy->dmarc.quarantine == PM_QUARANTINE_HOLD ? "hold"
			                                                           : "quarantine";
		session_log(s, &vc, action, v->would, NULL, v->reason != RSN_NONE ? v : NULL);
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
		session_log(s, &quar,
		            s->policy->dmarc.quarantine == PM_QUARANTINE_HOLD ? "hold"
		                                                              : "quarantine",
		            false, NULL, &q);
	}
	return apply_verdict(ctx, s, &vc, v);
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
	session_eom_input(s, leadspc(s), &in);
	eom_evaluate(&in, a);
	session_eom_facts(s, a, &f);
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
	st = eom_apply(ctx, s, &v, a, message_rcpts_text(m, &rcpts));
	sb_free(&rcpts);
	eom_free(a);
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
