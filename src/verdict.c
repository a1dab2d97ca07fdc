/*
 * NAME
 *	verdict 3 - the decision: (stage, facts, policy) -> verdict
 * SYNOPSIS
 *	#include "verdict.h"
 *
 *	void verdict_decide(const struct pm_facts *f, const struct policy *p,
 *			    struct pm_verdict *v);
 *	void verdict_plan(const struct pm_facts *f, const struct policy *p,
 *			  struct pm_plan *plan);
 *	char *reply_expand(const struct pm_reply *r, const struct pm_reply_vars *vars,
 *			   char *buf, size_t bufsize);
 *	const char *pm_verdict_action_name(enum pm_verdict_action a);
 *	const char *pm_stage_name(enum pm_stage s);
 *	const char *pm_check_id_name(enum pm_check_id c);
 *	const char *pm_reason_name(enum pm_reason r);
 * DESCRIPTION
 *	verdict_decide() walks the checks of one stage in the order given
 *	in verdict.h. Each check that objects either refuses (its mode is
 *	enforce: the first such refusal wins) or, in log and tag mode, is
 *	remembered as what it "would" have done; the first of those is the
 *	verdict when nothing refuses. Protocol errors (address syntax) and
 *	the limits are not governed by a mode. The action of a refusal
 *	follows the class of the configured reply (4xx: tempfail, 5xx:
 *	reject), because libmilter only sends a reply whose first digit
 *	agrees with the SMFIS_ code returned.
 *
 *	reply_expand() fills a reply template's placeholders with escaped
 *	values and returns the text as the client should see it.
 *
 *	The stage, check and reason of a verdict are enums; the name
 *	functions hold the one table each that gives their names in logs
 *	and JSON (used where a decision record is filled).
 * DIAGNOSTICS
 *	None: verdict_decide never fails; unknown enum values are treated
 *	as "nothing to refuse".
 */
#include <stdio.h>
#include <string.h>
#include <strings.h>

#include "util.h"
#include "verdict.h"

#define REPLY_VALUE_MAX 200 /* bytes of one placeholder value, before escaping */

/* What one check found. */
struct objection {
	enum pm_mode mode;
	enum pm_reply_id reply;
	enum pm_check_id check;
	enum pm_reason reason;
	const char *rule;
	bool allowable;          /* a refusing sender check: an allow list in force skips it */
	struct pm_list_ref list; /* the list rule names (a block entry), if any */
};

/* The mode of each overridable check for this stage's domains, and the override that set it. */
struct modes {
	enum pm_mode m[PM_CHECKS];
	const char *rule[PM_CHECKS]; /* NULL: the policy's own mode */
};

/* action_for_reply - the action class that agrees with the configured reply's code */
static enum pm_verdict_action action_for_reply(const struct policy *p, enum pm_reply_id id)
{
	int code = (id >= 0 && id < PM_R_COUNT) ? p->replies[id].code : 451;

	return code >= 400 && code < 500 ? PM_V_TEMPFAIL : PM_V_REJECT;
}

/* set_allowed_rule - the verdict's rule is the allow list in force */
static void set_allowed_rule(struct pm_verdict *v)
{
	v->rule = v->allowed_by;
	v->list = (struct pm_list_ref){.set = true, .kind = v->allowed_kind, .block = false};
}

/*
 * object - record one objection in v. Returns true when it refuses (the
 * caller stops); a log/tag objection is kept only when it is the first.
 */
static bool object(const struct policy *p, struct pm_verdict *v, const struct objection *o)
{
	if (o->mode == PM_MODE_OFF)
		return false;
	if (o->allowable && v->allowed_by != NULL) {
		/*
		 * skipped: named (unless something else is) is the first refusal
		 * skipped, whose reply is kept, else the first "would" skipped
		 */
		bool first = !v->allowed && v->check == CHK_NONE;
		bool better = v->allowed && o->mode == PM_MODE_ENFORCE && v->reply >= PM_R_COUNT &&
		              v->reason == RSN_ALLOWED;

		if (first || better) {
			v->check = o->check;
			v->reason = RSN_ALLOWED;
			set_allowed_rule(v);
			v->reply = o->mode == PM_MODE_ENFORCE ? o->reply : PM_R_COUNT;
		}
		v->allowed = true;
		return false;
	}
	if (o->allowable && v->exempt_by != NULL && o->mode == PM_MODE_ENFORCE) {
		/* the recipients are exempt: a "would", first over any log or tag "would" */
		if (!v->exempt) {
			v->would = true;
			v->reply = o->reply;
			v->check = o->check;
			v->reason = RSN_EXEMPT_RECIPIENT;
			v->rule = v->exempt_by;
			v->list = (struct pm_list_ref){0};
		}
		v->exempt = true;
		return false;
	}
	if (o->mode != PM_MODE_ENFORCE) {
		if (!v->would) {
			v->would = true;
			v->reply = o->reply;
			v->check = o->check;
			v->reason = o->reason;
			v->rule = o->rule;
			v->list = o->list;
		}
		return false;
	}
	v->action = action_for_reply(p, o->reply);
	v->would = false;
	v->reply = o->reply;
	v->check = o->check;
	v->reason = o->reason;
	v->rule = o->rule;
	v->list = o->list;
	return true;
}

/* Per SPF result: the reason at MAIL FROM and at HELO, and the rule key. */
static const struct {
	enum pm_reason mfrom_reason, helo_reason;
	const char *rule_reject, *rule_tempfail;
} spf_names[PM_SPF_NRESULTS] = {
    [PM_SPF_NONE] = {RSN_SPF_NONE, RSN_HELO_SPF_NONE, "spf.none=reject", "spf.none=tempfail"},
    [PM_SPF_NEUTRAL] = {RSN_SPF_NEUTRAL, RSN_HELO_SPF_NEUTRAL, "spf.neutral=reject",
                        "spf.neutral=tempfail"},
    [PM_SPF_PASS] = {RSN_SPF_PASS, RSN_HELO_SPF_PASS, "spf.pass=reject", "spf.pass=tempfail"},
    [PM_SPF_FAIL] = {RSN_SPF_FAIL, RSN_HELO_SPF_FAIL, "spf.fail=reject", "spf.fail=tempfail"},
    [PM_SPF_SOFTFAIL] = {RSN_SPF_SOFTFAIL, RSN_HELO_SPF_SOFTFAIL, "spf.softfail=reject",
                         "spf.softfail=tempfail"},
    [PM_SPF_TEMPERROR] = {RSN_SPF_TEMPERROR, RSN_HELO_SPF_TEMPERROR, "spf.temperror=reject",
                          "spf.temperror=tempfail"},
    [PM_SPF_PERMERROR] = {RSN_SPF_PERMERROR, RSN_HELO_SPF_PERMERROR, "spf.permerror=reject",
                          "spf.permerror=tempfail"},
};

/* check_spf - one SPF identity: spf.action[result] decides, mode gates; true when refused */
static bool check_spf(const struct policy *p, struct pm_verdict *v, enum pm_spf_result r,
                      const struct modes *ms, bool helo)
{
	enum pm_check c = helo ? PM_CHECK_HELO_SPF : PM_CHECK_SPF;
	struct objection o = {.mode = ms->m[c]};
	enum pm_action act;

	if (r <= PM_SPF_UNCHECKED || r >= PM_SPF_NRESULTS)
		return false;
	act = p->spf.action[r];
	if (act == PM_ACT_REJECT) {
		o.reply = r == PM_SPF_PERMERROR ? PM_R_SPF_PERMERROR : PM_R_SPF_FAIL;
		o.rule = spf_names[r].rule_reject;
	} else if (act == PM_ACT_TEMPFAIL) {
		o.reply = PM_R_SPF_TEMPERROR;
		o.rule = spf_names[r].rule_tempfail;
	} else {
		return false;
	}
	if (ms->rule[c] != NULL)
		o.rule = ms->rule[c];
	o.check = helo ? CHK_HELO_SPF : CHK_SPF;
	o.allowable = true;
	o.reason = helo ? spf_names[r].helo_reason : spf_names[r].mfrom_reason;
	return object(p, v, &o);
}

/* mode_rule - "X.mode=enforce" style rule text for a check's mode */
static const char *mode_rule(const char *const names[4], enum pm_mode m)
{
	return (int)m >= 0 && m <= PM_MODE_ENFORCE ? names[m] : names[PM_MODE_LOG];
}

/* The block list of each kind: its reply, reason and rule. */
static const struct {
	enum pm_reply_id reply;
	enum pm_reason reason;
	const char *rule;
} blocks[PM_LIST_KINDS] = {
    [LIST_CLIENT] = {PM_R_CLIENT_BLOCKED, RSN_CLIENT_BLOCKED, "lists.client.block"},
    [LIST_CLIENT_NAME] = {PM_R_CLIENT_NAME_BLOCKED, RSN_CLIENT_NAME_BLOCKED,
                          "lists.client_name.block"},
    [LIST_HELO] = {PM_R_HELO_BLOCKED, RSN_HELO_BLOCKED, "lists.helo.block"},
    [LIST_SENDER] = {PM_R_SENDER_BLOCKED, RSN_SENDER_BLOCKED, "lists.sender.block"},
    [LIST_RECIPIENT] = {PM_R_RCPT_BLOCKED, RSN_RCPT_BLOCKED, "lists.recipient.block"},
};

/* The allow list of each kind, as a rule. */
static const char *const allow_rules[PM_LIST_KINDS] = {
    [LIST_CLIENT] = "lists.client.allow",       [LIST_CLIENT_NAME] = "lists.client_name.allow",
    [LIST_HELO] = "lists.helo.allow",           [LIST_SENDER] = "lists.sender.allow",
    [LIST_RECIPIENT] = "lists.recipient.allow",
};

/* check_block - a block entry of kind k matched: refused, whatever the modes; true if so */
static bool check_block(const struct pm_facts *f, const struct policy *p, struct pm_verdict *v,
                        enum list_kind k)
{
	struct objection o = {.mode = PM_MODE_ENFORCE,
	                      .check = CHK_LISTS,
	                      .list = {.set = true, .kind = k, .block = true}};

	if ((f->list_block & PM_LIST_BIT(k)) == 0)
		return false;
	o.reply = blocks[k].reply;
	o.reason = blocks[k].reason;
	o.rule = blocks[k].rule;
	return object(p, v, &o);
}

/*
 * allow_in_force - note in v the first allow list in force at this stage
 * (allowed_by, allowed_kind); allowed_by stays NULL when none is
 */
static void allow_in_force(const struct pm_facts *f, struct pm_verdict *v)
{
	for (int k = 0; k < PM_LIST_KINDS; k++) {
		if ((f->list_allow & PM_LIST_BIT(k)) == 0)
			continue;
		if (k == LIST_RECIPIENT && f->stage != PM_STAGE_EOM)
			continue; /* every accepted recipient is known at end of message only */
		v->allowed_by = allow_rules[k];
		v->allowed_kind = (enum list_kind)k;
		return;
	}
}

/*
 * decide_connect - unless trusted: client_block, the client address and
 * client name block lists, then a DNSBL listing with action reject
 */
static void decide_connect(const struct pm_facts *f, const struct policy *p, struct pm_verdict *v)
{
	const struct objection o = {.mode = p->client_block.mode,
	                            .reply = PM_R_CLIENT_BLOCKED,
	                            .check = CHK_CLIENT_BLOCK,
	                            .reason = RSN_CLIENT_BLOCKED,
	                            .rule = "client_block.networks",
	                            .allowable = false};
	const struct objection bl = {.mode = p->dnsbl.mode,
	                             .reply = PM_R_DNSBL_LISTED,
	                             .check = CHK_DNSBL,
	                             .reason = RSN_DNSBL_LISTED,
	                             .rule = "dnsbl.zones",
	                             .allowable = true};

	if (f->trusted)
		return;
	if (f->client_blocked && object(p, v, &o))
		return;
	if (check_block(f, p, v, LIST_CLIENT) || check_block(f, p, v, LIST_CLIENT_NAME))
		return;
	if (f->dnsbl_listed)
		object(p, v, &bl);
}

/* check_iprev - fail and permerror 5.7.25, temperror 4.7.25; true when refused */
static bool check_iprev(const struct pm_facts *f, const struct policy *p, struct pm_verdict *v,
                        const struct modes *ms)
{
	static const char *const rules[4] = {"iprev.mode=off", "iprev.mode=log", "iprev.mode=tag",
	                                     "iprev.mode=enforce"};
	struct objection o = {.mode = ms->m[PM_CHECK_IPREV], .check = CHK_IPREV, .allowable = true};

	switch (f->iprev) {
	case PM_IPREV_FAIL:
		o.reply = PM_R_IPREV_FAIL;
		o.reason = RSN_IPREV_FAIL;
		break;
	case PM_IPREV_PERMERROR:
		o.reply = PM_R_IPREV_FAIL;
		o.reason = RSN_IPREV_PERMERROR;
		break;
	case PM_IPREV_TEMPERROR:
		o.reply = PM_R_IPREV_TEMPFAIL;
		o.reason = RSN_IPREV_TEMPERROR;
		break;
	case PM_IPREV_UNCHECKED:
	case PM_IPREV_PASS:
	default:
		return false;
	}
	o.rule =
	    ms->rule[PM_CHECK_IPREV] != NULL ? ms->rule[PM_CHECK_IPREV] : mode_rule(rules, o.mode);
	return object(p, v, &o);
}

/* check_sender_domain - not found 5.1.8, null MX 5.7.27, lookup failed 4.4.3; true if refused */
static bool check_sender_domain(const struct policy *p, struct pm_verdict *v,
                                enum sender_domain_status st, const struct modes *ms)
{
	enum pm_mode mode = ms->m[PM_CHECK_SENDER_DOMAIN];
	struct objection o = {.mode = mode, .check = CHK_SENDER_DOMAIN, .allowable = true};

	switch (st) {
	case SENDER_DOMAIN_NXDOMAIN:
	case SENDER_DOMAIN_NO_MAIL:
		o.reply = PM_R_SENDER_DOMAIN_UNKNOWN;
		o.reason = RSN_SENDER_DOMAIN_UNKNOWN;
		break;
	case SENDER_DOMAIN_NULL_MX:
		o.reply = PM_R_SENDER_NULL_MX;
		o.reason = RSN_SENDER_NULL_MX;
		break;
	case SENDER_DOMAIN_TEMPFAIL:
		o.reply = PM_R_DNS_TEMPFAIL;
		o.reason = RSN_SENDER_DOMAIN_TEMPFAIL;
		break;
	case SENDER_DOMAIN_UNCHECKED:
	case SENDER_DOMAIN_OK:
	default:
		return false;
	}
	o.rule = mode == PM_MODE_ENFORCE ? "sender_domain.mode=enforce"
	         : mode == PM_MODE_TAG   ? "sender_domain.mode=tag"
	                                 : "sender_domain.mode=log";
	if (ms->rule[PM_CHECK_SENDER_DOMAIN] != NULL)
		o.rule = ms->rule[PM_CHECK_SENDER_DOMAIN];
	return object(p, v, &o);
}

/* verdict_delays_sender_refusals - are MAIL FROM's authentication refusals held for RCPT? */
bool verdict_delays_sender_refusals(const struct policy *p)
{
	return p->recipients.delay_sender_refusals && p->recipients.nexempt > 0;
}

/* mail_auth_checks - iprev, the sender domain, HELO SPF, MAIL FROM SPF; true when refused */
static bool mail_auth_checks(const struct pm_facts *f, const struct policy *p, struct pm_verdict *v,
                             const struct modes *ms)
{
	if (check_iprev(f, p, v, ms))
		return true;
	if (check_sender_domain(p, v, f->sender_domain, ms))
		return true;
	if (check_spf(p, v, f->helo_spf, ms, true))
		return true;
	if (verdict_spf_deferred(f, p))
		return false; /* decided at end of message, with DMARC */
	return check_spf(p, v, f->mfrom_spf, ms, false);
}

/*
 * decide_mail - unless trusted, the messages per connection; sender
 * syntax; unless trusted, the HELO and sender block lists; then, unless
 * trusted/authenticated, iprev, the sender domain, HELO SPF and MAIL FROM
 * SPF (a refusal by these held for RCPT when delay_sender_refusals)
 */
static void decide_mail(const struct pm_facts *f, const struct policy *p, struct pm_verdict *v,
                        const struct modes *ms)
{
	const struct objection syntax = {.mode = PM_MODE_ENFORCE,
	                                 .reply = PM_R_SENDER_SYNTAX,
	                                 .check = CHK_SENDER_SYNTAX,
	                                 .reason = RSN_SENDER_SYNTAX,
	                                 .rule = "rfc5321.mail_from_syntax",
	                                 .allowable = false};
	const struct objection too_many = {.mode = PM_MODE_ENFORCE,
	                                   .reply = PM_R_TOO_MANY_MESSAGES,
	                                   .check = CHK_MAX_MESSAGES,
	                                   .reason = RSN_TOO_MANY_MESSAGES,
	                                   .rule = "recipients.max_messages_per_connection",
	                                   .allowable = false};
	int max = p->recipients.max_messages;

	if (!f->trusted && max > 0 && f->messages_in_session >= (unsigned)max) {
		object(p, v, &too_many);
		return;
	}
	if (f->sender_status == ADDR_BAD) {
		object(p, v, &syntax);
		return;
	}
	if (f->trusted)
		return;
	if (check_block(f, p, v, LIST_HELO) || check_block(f, p, v, LIST_SENDER))
		return;
	if (f->authenticated)
		return;
	if (mail_auth_checks(f, p, v, ms) && verdict_delays_sender_refusals(p)) {
		v->action = PM_V_CONTINUE;
		v->delayed = true;
	}
}

/* verdict_rcpt_exempt - is this recipient in recipients.exempt_from_sender_checks? (rcpt.c) */
bool verdict_rcpt_exempt(const struct policy *p, enum addr_status status, const struct pm_addr *a)
{
	return p != NULL && rcpt_exempt_from_sender_checks(&p->recipients, status, a);
}

/*
 * spf_may_wait - would this SPF refusal wait for DMARC if the sender
 * domain published a record (verdict_spf_deferred but that)?
 */
static bool spf_may_wait(const struct pm_facts *f, const struct policy *p)
{
	enum pm_spf_result r = f->mfrom_spf;
	struct pm_domains sender = {f->domains.sender, NULL, 0};

	if (f->trusted || f->authenticated)
		return false;
	/* decided at MAIL FROM: the sender-domain override only, the same at end of message */
	if (verdict_mode(p, PM_CHECK_DMARC, &sender, NULL) != PM_MODE_ENFORCE ||
	    p->dmarc.spf_fail_at_mail)
		return false;
	if (r != PM_SPF_FAIL && r != PM_SPF_SOFTFAIL)
		return false;
	return p->spf.action[r] == PM_ACT_REJECT;
}

/* verdict_spf_deferred - does this SPF refusal wait for DMARC (RFC 7489 10.1)? */
bool verdict_spf_deferred(const struct pm_facts *f, const struct policy *p)
{
	return f->sender_has_dmarc && spf_may_wait(f, p);
}

/* verdict_spf_excused - does a DMARC evaluation covering the MAIL FROM domain excuse it? */
bool verdict_spf_excused(const struct pm_facts *f, const struct policy *p)
{
	if (f->author == NULL || f->domains.sender == NULL ||
	    (!f->sender_aligned && !dmarc_aligned(p->psl, f->author, f->domains.sender, false)))
		return false; /* another domain's DMARC says nothing of the MAIL FROM domain */
	if (f->dmarc == PM_DMARC_TEMPERROR)
		return true; /* check_dmarc answered 451 4.4.3, or failed open */
	return f->dmarc == PM_DMARC_PASS && f->dmarc_dkim_aligned;
}

/* suffix_len - length of listed when domain equals it or is below it, else 0 */
static size_t suffix_len(const char *domain, const char *listed)
{
	char *one[1] = {(char *)listed};

	return domain_in_list(domain, one, 1) ? strlen(listed) : 0;
}

/*
 * override_match - of the overrides naming check c for a sender domain (or
 * a recipient domain), the one whose domain is the longest that domain
 * equals or is below; NULL when none
 */
static const struct pm_override *override_match(const struct policy *p, enum pm_check c,
                                                const char *domain, bool recipient)
{
	const struct pm_override *best = NULL;
	size_t best_len = 0;

	if (domain == NULL)
		return NULL;
	for (size_t i = 0; i < p->noverrides; i++) {
		const struct pm_override *ov = &p->overrides[i];
		const char *od = recipient ? ov->recipient_domain : ov->sender_domain;
		size_t n;

		if (od == NULL || ov->mode[c] < 0)
			continue;
		n = suffix_len(domain, od);
		if (n > best_len) {
			best_len = n;
			best = ov;
		}
	}
	return best;
}

/* verdict_mode - the mode of check c for mail between the domains d */
enum pm_mode verdict_mode(const struct policy *p, enum pm_check c, const struct pm_domains *d,
                          const char **rule)
{
	const struct pm_override *so;
	enum pm_mode base, m;
	const char *base_rule = NULL, *r;

	if (rule != NULL)
		*rule = NULL;
	if (p == NULL || (int)c < 0 || c >= PM_CHECKS)
		return PM_MODE_OFF;
	base = policy_mode(p, c);
	so = d != NULL ? override_match(p, c, d->sender, false) : NULL;
	if (so != NULL) {
		base = (enum pm_mode)so->mode[c];
		base_rule = so->rule;
	}
	m = base;
	r = base_rule;
	for (size_t i = 0; d != NULL && d->rcpt != NULL && i < d->nrcpt; i++) {
		const struct pm_override *ro = override_match(p, c, d->rcpt[i], true);
		enum pm_mode rm = ro != NULL ? (enum pm_mode)ro->mode[c] : base;

		if (i == 0) {
			m = rm;
			r = ro != NULL ? ro->rule : base_rule;
		} else if (rm != m) {
			/* the recipients disagree: their overrides are not used */
			m = base;
			r = base_rule;
			break;
		}
	}
	if (rule != NULL)
		*rule = r;
	return m;
}

/* verdict_dmarc_overrides - the DMARC mode and disposition after the local overrides */
void verdict_dmarc_overrides(const struct policy *p, const struct pm_domains *d, const char *author,
                             const char *spf_pass_domain, const struct dkim_results *dkim,
                             enum pm_dmarc_result result, enum pm_dmarc_policy disposition,
                             enum pm_mode *mode, enum pm_dmarc_policy *disposition_out,
                             const char **rule)
{
	const struct dmarc_settings *ds = &p->dmarc;
	size_t best = 0;
	bool forwarder = false;
	const char *ov_rule;
	enum pm_mode ov_mode;

	*mode = ds->mode;
	*disposition_out = disposition;
	*rule = "dmarc.mode";
	for (size_t i = 0; i < ds->ndomain_modes; i++) {
		size_t n = suffix_len(author, ds->domain_modes[i].domain);

		if (n > best) {
			best = n;
			*mode = ds->domain_modes[i].mode;
			*rule = "dmarc.domain_modes";
		}
	}
	ov_mode = verdict_mode(p, PM_CHECK_DMARC, d, &ov_rule);
	if (ov_rule != NULL) { /* a sender- or recipient-domain override wins */
		*mode = ov_mode;
		*rule = ov_rule;
	}
	if (*mode == PM_MODE_OFF)
		return;
	if (result == PM_DMARC_FAIL &&
	    domain_in_list(author, ds->always_reject, ds->nalways_reject)) {
		*disposition_out = PM_DMARC_P_REJECT;
		*rule = "dmarc.always_reject";
	}
	if (domain_in_list(spf_pass_domain, ds->never_enforce, ds->nnever_enforce))
		forwarder = true;
	for (size_t i = 0; dkim != NULL && i < dkim->n && !forwarder; i++)
		if (dkim->sig[i].result == PM_DKIM_PASS &&
		    domain_in_list(dkim->sig[i].domain, ds->never_enforce, ds->nnever_enforce))
			forwarder = true;
	if (forwarder || domain_in_list(author, ds->never_enforce, ds->nnever_enforce)) {
		if (*mode == PM_MODE_ENFORCE)
			*mode = PM_MODE_TAG;
		*rule = "dmarc.never_enforce";
	}
}

/* verdict_must_sign - the must_sign status of the author domain */
enum must_sign_status verdict_must_sign(const struct policy *p, const char *author,
                                        const struct dkim_results *dkim)
{
	bool passed = false, policy = false, temp = false;

	if (author == NULL || !domain_in_list(author, p->dkim.must_sign, p->dkim.nmust_sign))
		return MUST_SIGN_NOT_LISTED;
	for (size_t i = 0; dkim != NULL && i < dkim->n; i++) {
		const struct dkim_sig_result *sg = &dkim->sig[i];
		bool aligned = dmarc_aligned(p->psl, sg->domain, author, false);

		if (sg->result == PM_DKIM_PASS && aligned)
			return MUST_SIGN_OK;
		if (sg->result == PM_DKIM_PASS)
			passed = true;
		else if (sg->result == PM_DKIM_POLICY)
			policy = true;
		else if (sg->result == PM_DKIM_TEMPERROR && aligned)
			temp = true;
	}
	if (temp)
		return MUST_SIGN_TEMPFAIL;
	if (passed)
		return MUST_SIGN_NONE_ALIGNED;
	if (policy)
		return MUST_SIGN_NONE_ACCEPTABLE;
	return MUST_SIGN_NONE_PASSING;
}

/*
 * check_from - the From header: exactly one, one author, and no display
 * name showing another domain's address (unless the author domain is in
 * dmarc.display_name_exempt); true when refused
 */
static bool check_from(const struct pm_facts *f, const struct policy *p, struct pm_verdict *v,
                       const struct modes *ms)
{
	static const char *const rules[4] = {"dmarc.mode=off", "dmarc.mode=log", "dmarc.mode=tag",
	                                     "dmarc.mode=enforce"};
	struct objection o = {.mode = ms->m[PM_CHECK_DMARC],
	                      .reply = PM_R_FROM_HEADER,
	                      .check = CHK_FROM_HEADER,
	                      .allowable = true};

	switch (f->from) {
	case FROM_MISSING:
		o.reason = RSN_FROM_MISSING;
		break;
	case FROM_SEVERAL:
		o.reason = RSN_FROM_SEVERAL;
		break;
	case FROM_SEVERAL_ADDRS:
		o.reason = RSN_FROM_SEVERAL_ADDRESSES;
		break;
	case FROM_BAD:
		o.reason = RSN_FROM_UNUSABLE;
		break;
	case FROM_OK:
		/* one author; but the display name shows another domain's address */
		if (!f->from_name_address || domain_in_list(f->author, p->dmarc.display_name_exempt,
		                                            p->dmarc.ndisplay_name_exempt))
			return false;
		o.reply = PM_R_FROM_DISPLAY_NAME;
		o.reason = RSN_FROM_DISPLAY_NAME;
		break;
	case FROM_UNCHECKED:
	default:
		return false;
	}
	o.rule =
	    ms->rule[PM_CHECK_DMARC] != NULL ? ms->rule[PM_CHECK_DMARC] : mode_rule(rules, o.mode);
	return object(p, v, &o);
}

/* verdict_field_is - name is want, ignoring case and white space before the colon */
bool verdict_field_is(const char *name, const char *want)
{
	size_t n = strlen(want);

	if (name == NULL || strncasecmp(name, want, n) != 0)
		return false;
	for (name += n; *name == ' ' || *name == '\t'; name++)
		;
	return *name == '\0';
}

/* verdict_singleton_field - RFC 5322 3.6's spelling of a field allowed at most once */
const char *verdict_singleton_field(const char *name)
{
	static const char *const fields[] = {"Date",       "Sender", "Reply-To",   "To",
	                                     "Cc",         "Bcc",    "Message-ID", "In-Reply-To",
	                                     "References", "Subject"};

	for (size_t i = 0; i < PM_ARRAY_LEN(fields); i++)
		if (verdict_field_is(name, fields[i]))
			return fields[i];
	return NULL;
}

/* check_singletons - a field RFC 5322 allows once occurs again; true when refused */
static bool check_singletons(const struct pm_facts *f, const struct policy *p, struct pm_verdict *v)
{
	static const char *const rules[4] = {"headers.singletons=off", "headers.singletons=log",
	                                     "headers.singletons=tag",
	                                     "headers.singletons=enforce"};
	struct objection o = {.mode = p->headers.singletons,
	                      .reply = PM_R_HEADER_REPEATED,
	                      .check = CHK_HEADERS,
	                      .reason = RSN_HEADER_REPEATED,
	                      .allowable = true};

	if (f->repeated_field == NULL)
		return false;
	o.rule = mode_rule(rules, o.mode);
	return object(p, v, &o);
}

/* check_must_sign - a must_sign author domain without its signature; true when refused */
static bool check_must_sign(const struct pm_facts *f, const struct policy *p, struct pm_verdict *v,
                            const struct modes *ms)
{
	struct objection o = {.mode = ms->m[PM_CHECK_DKIM],
	                      .check = CHK_MUST_SIGN,
	                      .rule = ms->rule[PM_CHECK_DKIM] != NULL ? ms->rule[PM_CHECK_DKIM]
	                                                              : "dkim.must_sign",
	                      .allowable = true};

	switch (f->must_sign) {
	case MUST_SIGN_NONE_PASSING:
		o.reply = PM_R_DKIM_NONE_PASSING;
		o.reason = RSN_DKIM_NONE_PASSING;
		break;
	case MUST_SIGN_NONE_ACCEPTABLE:
		o.reply = PM_R_DKIM_NONE_ACCEPTABLE;
		o.reason = RSN_DKIM_NONE_ACCEPTABLE;
		break;
	case MUST_SIGN_NONE_ALIGNED:
		o.reply = PM_R_DKIM_NONE_ALIGNED;
		o.reason = RSN_DKIM_NONE_ALIGNED;
		break;
	case MUST_SIGN_TEMPFAIL:
		o.reply = PM_R_DKIM_TEMPFAIL;
		o.reason = RSN_DKIM_TEMPFAIL;
		break;
	case MUST_SIGN_NOT_LISTED:
	case MUST_SIGN_OK:
	default:
		return false;
	}
	return object(p, v, &o);
}

/* check_dmarc - the DMARC disposition; true when refused (quarantine is not a refusal) */
static bool check_dmarc(const struct pm_facts *f, const struct policy *p, struct pm_verdict *v)
{
	struct objection o = {
	    .mode = f->dmarc_mode, .check = CHK_DMARC, .rule = f->dmarc_rule, .allowable = true};

	if (o.rule == NULL)
		o.rule = "dmarc.mode";
	if (f->dmarc == PM_DMARC_TEMPERROR) {
		if (p->dmarc.fail_open)
			return false;
		o.reply = PM_R_DMARC_TEMPFAIL;
		o.reason = RSN_DMARC_TEMPFAIL;
		return object(p, v, &o);
	}
	if (f->dmarc != PM_DMARC_FAIL)
		return false;
	if (f->arc_override && f->dmarc_disposition == PM_DMARC_P_NONE) {
		/* a trusted ARC sealer vouched: nothing refused, but the record says why */
		if (v->allowed_by == NULL && v->reason == RSN_NONE && !v->would) {
			v->check = CHK_DMARC;
			v->reason = RSN_ARC_OVERRIDE;
			v->rule = "arc.trusted_sealers";
			v->list = (struct pm_list_ref){0};
		}
		return false;
	}
	if (f->dmarc_disposition == PM_DMARC_P_REJECT) {
		o.reply = PM_R_DMARC_REJECT;
		o.reason = RSN_DMARC_REJECT;
		return object(p, v, &o);
	}
	if (f->dmarc_disposition == PM_DMARC_P_QUARANTINE && o.mode != PM_MODE_OFF) {
		/* not a refusal: delivered tagged or held; a "would" in log and tag mode */
		if (v->allowed_by != NULL) {
			o.reason = RSN_DMARC_QUARANTINE;
			o.reply = PM_R_COUNT;
			object(p, v, &o); /* skipped: never quarantined */
		} else if (o.mode == PM_MODE_ENFORCE && v->exempt_by != NULL) {
			/* exempt recipients: never quarantined, a "would" */
			if (!v->exempt) {
				v->would = true;
				v->reply = PM_R_COUNT;
				v->check = CHK_DMARC;
				v->reason = RSN_EXEMPT_RECIPIENT;
				v->rule = v->exempt_by;
				v->list = (struct pm_list_ref){0};
			}
			v->exempt = true;
		} else if (o.mode == PM_MODE_ENFORCE) {
			v->quarantine = true;
			if (v->reason == RSN_NONE && !v->would) {
				v->check = CHK_DMARC;
				v->reason = RSN_DMARC_QUARANTINE;
				v->rule = o.rule;
				v->list = (struct pm_list_ref){0};
			}
		} else if (!v->would) {
			v->would = true;
			v->reply = PM_R_COUNT;
			v->check = CHK_DMARC;
			v->reason = RSN_DMARC_QUARANTINE;
			v->rule = o.rule;
			v->list = (struct pm_list_ref){0};
		}
	}
	return false;
}

/* check_arc - a chain that failed (550 5.7.29) or could not be judged (451 4.4.3); true if refused
 */
static bool check_arc(const struct pm_facts *f, const struct policy *p, struct pm_verdict *v)
{
	static const char *const rules[4] = {"arc.mode=off", "arc.mode=log", "arc.mode=tag",
	                                     "arc.mode=enforce"};
	struct objection o = {.mode = p->arc.mode, .check = CHK_ARC, .allowable = true};

	switch (f->arc) {
	case PM_ARC_FAIL:
		o.reply = PM_R_ARC_FAIL;
		o.reason = RSN_ARC_FAIL;
		break;
	case PM_ARC_TEMPERROR:
		o.reply = PM_R_ARC_TEMPFAIL;
		o.reason = RSN_ARC_TEMPERROR;
		break;
	case PM_ARC_NONE:
	case PM_ARC_PASS:
	default:
		return false;
	}
	o.rule = mode_rule(rules, o.mode);
	return object(p, v, &o);
}

/*
 * decide_eom - unless trusted or authenticated: From header, repeated
 * header fields, must_sign, DMARC, ARC, then an SPF refusal deferred from
 * MAIL FROM
 */
static void decide_eom(const struct pm_facts *f, const struct policy *p, struct pm_verdict *v,
                       const struct modes *ms)
{
	if (f->trusted || f->authenticated)
		return;
	if (check_from(f, p, v, ms))
		return;
	if (check_singletons(f, p, v))
		return;
	if (check_must_sign(f, p, v, ms))
		return;
	if (check_dmarc(f, p, v))
		return;
	if (check_arc(f, p, v))
		return;
	if (verdict_spf_deferred(f, p) && !verdict_spf_excused(f, p))
		check_spf(p, v, f->mfrom_spf, ms, false);
	if (v->allowed_by != NULL && !v->allowed && v->check == CHK_NONE) {
		/* an allowed message nothing objected to: the record says it was allowed */
		v->allowed = true;
		v->check = CHK_LISTS;
		v->reason = RSN_ALLOWED;
		set_allowed_rule(v);
	}
}

/* The checks of MAIL FROM whose refusal may be held for RCPT. */
static const enum pm_check mail_checks[] = {PM_CHECK_IPREV, PM_CHECK_SENDER_DOMAIN,
                                            PM_CHECK_HELO_SPF, PM_CHECK_SPF};

/*
 * rcpt_judges_again - does this recipient's domain change the mode of a
 * check MAIL FROM held for RCPT (modes at MAIL FROM: mail; here: ms)?
 */
static bool rcpt_judges_again(const struct policy *p, const struct modes *mail,
                              const struct modes *ms)
{
	if (!verdict_delays_sender_refusals(p))
		return false;
	for (size_t i = 0; i < PM_ARRAY_LEN(mail_checks); i++)
		if (mail->m[mail_checks[i]] != ms->m[mail_checks[i]])
			return true;
	return false;
}

/*
 * rcpt_auth_checks - MAIL FROM's held checks judged again with this
 * recipient's modes (a recipient-domain override): a refusal is held
 * like MAIL FROM's, a "would" is this recipient's; true when refused
 */
static bool rcpt_auth_checks(const struct pm_facts *f, const struct policy *p, struct pm_verdict *v,
                             const struct modes *ms)
{
	struct pm_verdict t;
	struct objection o = {.allowable = true};

	if (f->trusted || f->authenticated || f->sender_status == ADDR_BAD ||
	    (f->list_block & (PM_LIST_BIT(LIST_HELO) | PM_LIST_BIT(LIST_SENDER))))
		return false; /* MAIL FROM did not get as far */
	memset(&t, 0, sizeof(t));
	t.reply = PM_R_COUNT;
	if (mail_auth_checks(f, p, &t, ms))
		o.mode = PM_MODE_ENFORCE;
	else if (t.would)
		o.mode = PM_MODE_LOG;
	else
		return false;
	o.reply = t.reply;
	o.check = t.check;
	o.reason = t.reason;
	o.rule = t.rule;
	o.list = t.list;
	return object(p, v, &o);
}

/* state_failed - the store failed for the check of mode m: state_tempfail, or nothing */
static bool state_failed(const struct policy *p, struct pm_verdict *v, enum pm_mode m)
{
	const struct objection o = {.mode = m,
	                            .reply = PM_R_STATE_TEMPFAIL,
	                            .check = CHK_STATE,
	                            .reason = RSN_STATE_UNAVAILABLE,
	                            .rule = "state.on_failure",
	                            .allowable = false};

	if (p->state.on_failure != STATE_FAIL_TEMPFAIL)
		return false; /* fail open: the record says "error" */
	return object(p, v, &o);
}

/*
 * decide_state - at RCPT, after every other check: greylisting, then the
 * rate limits (verdict.h)
 */
static void decide_state(const struct pm_facts *f, const struct policy *p, struct pm_verdict *v)
{
	const struct greylist_settings *gs = &p->greylist;
	const struct ratelimit_rule *r = f->ratelimit;
	enum pm_mode gmode = gs->mode == PM_MODE_TAG ? PM_MODE_LOG : gs->mode;
	bool skipped = f->trusted || f->authenticated || v->allowed_by != NULL;

	if (!skipped && gmode != PM_MODE_OFF) {
		const struct objection grey = {.mode = gmode,
		                               .reply = PM_R_GREYLISTED,
		                               .check = CHK_GREYLIST,
		                               .reason = RSN_GREYLISTED,
		                               .rule = "greylisting.delay",
		                               .allowable = false};

		if (greylist_refuses(f->greylist) && object(p, v, &grey))
			return;
		if (f->greylist == GL_ERROR && f->state_error && f->state_error_rule == NULL &&
		    state_failed(p, v, gmode))
			return;
	}
	if (f->state_error && f->state_error_rule != NULL &&
	    state_failed(p, v,
	                 f->state_error_rule->action == RL_ACT_LOG ? PM_MODE_LOG : PM_MODE_ENFORCE))
		return;
	if (r != NULL) {
		const struct objection rl = {
		    .mode = r->action == RL_ACT_LOG ? PM_MODE_LOG : PM_MODE_ENFORCE,
		    .reply = r->action == RL_ACT_REJECT ? PM_R_RATELIMIT_REJECT
		                                        : PM_R_RATELIMIT_TEMPFAIL,
		    .check = CHK_RATELIMIT,
		    .reason = RSN_RATELIMIT_EXCEEDED,
		    .rule = r->rule != NULL ? r->rule : "ratelimits",
		    .allowable = false};

		object(p, v, &rl);
	}
}

/*
 * decide_rcpt - syntax, limits, the refusal held from MAIL FROM (judged
 * again when this recipient's domain changes a mode), the recipient
 * table, then greylisting and the rate limits
 */
static void decide_rcpt(const struct pm_facts *f, const struct policy *p, struct pm_verdict *v,
                        const struct modes *mail, const struct modes *ms)
{
	const struct recipient_settings *rs = &p->recipients;
	const struct objection syntax = {.mode = PM_MODE_ENFORCE,
	                                 .reply = PM_R_RCPT_SYNTAX,
	                                 .check = CHK_RCPT_SYNTAX,
	                                 .reason = RSN_RCPT_SYNTAX,
	                                 .rule = "rfc5321.rcpt_to_syntax",
	                                 .allowable = false};
	const struct objection too_many = {.mode = PM_MODE_ENFORCE,
	                                   .reply = PM_R_TOO_MANY_RECIPIENTS,
	                                   .check = CHK_MAX_RECIPIENTS,
	                                   .reason = RSN_TOO_MANY_RECIPIENTS,
	                                   .rule = "recipients.max_recipients",
	                                   .allowable = false};
	const struct objection harvest = {.mode = PM_MODE_ENFORCE,
	                                  .reply = PM_R_TOO_MANY_UNKNOWN,
	                                  .check = CHK_MAX_UNKNOWN,
	                                  .reason = RSN_TOO_MANY_UNKNOWN,
	                                  .rule = "recipients.max_unknown",
	                                  .allowable = false};
	struct objection table = {.mode = rs->mode,
	                          .reply = PM_R_UNKNOWN_RECIPIENT,
	                          .check = CHK_RECIPIENTS,
	                          .reason = RSN_NONE,
	                          .rule = NULL,
	                          .allowable = false};

	if (f->rcpt_status == ADDR_BAD || f->rcpt_status == ADDR_NULL) {
		object(p, v, &syntax);
		return;
	}
	if (rs->max_recipients > 0 && f->rcpt_accepted >= (unsigned)rs->max_recipients) {
		object(p, v, &too_many);
		return;
	}
	if (rs->max_unknown > 0 && f->unknown_in_session >= (unsigned)rs->max_unknown) {
		object(p, v, &harvest);
		return;
	}
	if (rcpt_judges_again(p, mail, ms)) {
		if (rcpt_auth_checks(f, p, v, ms))
			return;
	} else if (f->mail_refusal != NULL && f->mail_refusal->delayed &&
	           f->mail_refusal->reply < PM_R_COUNT) {
		/* MAIL FROM's refusal, held for this RCPT: an exempt recipient gets a "would" */
		const struct pm_verdict *mr = f->mail_refusal;
		const struct objection held = {.mode = PM_MODE_ENFORCE,
		                               .reply = mr->reply,
		                               .check = mr->check,
		                               .reason = mr->reason,
		                               .rule = mr->rule,
		                               .allowable = true,
		                               .list = mr->list};

		if (object(p, v, &held))
			return;
	}
	if (!f->trusted && check_block(f, p, v, LIST_RECIPIENT))
		return;
	switch (f->rcpt) {
	case RCPT_UNKNOWN:
		table.reply = PM_R_UNKNOWN_RECIPIENT;
		table.reason = RSN_UNKNOWN_RECIPIENT;
		table.rule = rs->mode == PM_MODE_ENFORCE ? "recipients.mode=enforce"
		             : rs->mode == PM_MODE_TAG   ? "recipients.mode=tag"
		                                         : "recipients.mode=log";
		break;
	case RCPT_FOREIGN:
		if (f->trusted || f->authenticated) {
			table.mode = PM_MODE_OFF;
			break;
		}
		table.reply = PM_R_RELAY_DENIED;
		table.reason = RSN_RELAY_DENIED;
		table.rule = "recipients.domains";
		break;
	case RCPT_TEMPFAIL:
		table.reply = PM_R_RCPT_TEMPFAIL;
		table.reason = RSN_RCPT_TEMPFAIL;
		table.rule = "recipients.file";
		break;
	case RCPT_VALID:
	case RCPT_ALWAYS_VALID:
	default:
		table.mode = PM_MODE_OFF; /* nothing to say */
		break;
	}
	if (object(p, v, &table))
		return;
	decide_state(f, p, v);
}

/*
 * dry_run - the global dry run: a refusal (but an internal error or an
 * address syntax error) or a DMARC quarantine becomes a "would"
 */
static void dry_run(const struct policy *p, struct pm_verdict *v)
{
	if (!p->dry_run)
		return;
	if (v->action != PM_V_CONTINUE) {
		if (v->check == CHK_INTERNAL_ERROR || v->check == CHK_SENDER_SYNTAX ||
		    v->check == CHK_RCPT_SYNTAX)
			return;
		v->action = PM_V_CONTINUE;
		v->would = true;
		v->dry_run = true;
		return;
	}
	if (v->quarantine) {
		v->quarantine = false;
		if (!v->would) {
			v->would = true;
			v->reply = PM_R_COUNT;
			v->check = CHK_DMARC;
			v->reason = RSN_DMARC_QUARANTINE;
		}
		v->dry_run = true;
	}
}

/* modes_for - the mode of every overridable check for mail between the domains d */
static void modes_for(const struct policy *p, const struct pm_domains *d, struct modes *ms)
{
	for (int c = 0; c < PM_CHECKS; c++)
		ms->m[c] = verdict_mode(p, (enum pm_check)c, d, &ms->rule[c]);
}

/* verdict_decide - the verdict for f->stage; never fails */
void verdict_decide(const struct pm_facts *f, const struct policy *p, struct pm_verdict *v)
{
	struct modes ms, mail;
	struct pm_domains sender;

	memset(v, 0, sizeof(*v));
	v->action = PM_V_CONTINUE;
	v->reply = PM_R_COUNT; /* none */
	if (f == NULL || p == NULL) {
		v->action = PM_V_TEMPFAIL;
		v->reply = PM_R_INTERNAL_ERROR;
		v->check = CHK_INTERNAL_ERROR;
		v->reason = RSN_INTERNAL_ERROR;
		v->rule = "no policy";
		return;
	}
	if (f->internal_error) {
		v->reply = PM_R_INTERNAL_ERROR;
		v->check = CHK_INTERNAL_ERROR;
		if (p->milter.on_internal_error == PM_ACT_ACCEPT) {
			v->reason = RSN_INTERNAL_ERROR_FAIL_OPEN;
			v->rule = "milter.on_internal_error=accept";
		} else {
			v->action = action_for_reply(p, PM_R_INTERNAL_ERROR);
			v->reason = RSN_INTERNAL_ERROR;
			v->rule = "milter.on_internal_error=tempfail";
		}
		return;
	}
	allow_in_force(f, v);
	if ((f->stage == PM_STAGE_RCPT && f->rcpt_exempt) ||
	    (f->stage == PM_STAGE_EOM && f->all_rcpts_exempt))
		v->exempt_by = "recipients.exempt_from_sender_checks";
	/* the overrides: the sender domain from MAIL FROM on, the recipients' at RCPT and EOM */
	sender = (struct pm_domains){f->domains.sender, NULL, 0};
	modes_for(p, &sender, &mail);
	if (f->stage == PM_STAGE_RCPT || f->stage == PM_STAGE_EOM)
		modes_for(p, &f->domains, &ms);
	else
		ms = mail;
	switch (f->stage) {
	case PM_STAGE_CONNECT:
		decide_connect(f, p, v);
		break;
	case PM_STAGE_MAIL:
		decide_mail(f, p, v, &ms);
		break;
	case PM_STAGE_RCPT:
		decide_rcpt(f, p, v, &mail, &ms);
		break;
	case PM_STAGE_EOM:
		decide_eom(f, p, v, &ms);
		break;
	case PM_STAGE_HELO:
	default:
		break;
	}
	dry_run(p, v);
}

/* refused_by - does v refuse (or hold a refusal for RCPT) by check c? */
static bool refused_by(const struct pm_verdict *v, enum pm_check_id c)
{
	return (v->action != PM_V_CONTINUE || v->delayed) && v->check == c;
}

/* plan_connect - the DNSBLs, then iprev, unless the client is refused already */
static void plan_connect(const struct pm_facts *f, const struct policy *p,
                         const struct pm_verdict *v, struct pm_plan *plan)
{
	const struct list_settings *cn = &p->lists[LIST_CLIENT_NAME];
	bool names = cn->allow_list != NULL || cn->block_list != NULL;

	plan->dnsbl = !f->dnsbl_checked && v->action == PM_V_CONTINUE &&
	              p->dnsbl.mode != PM_MODE_OFF && p->dnsbl.nzones > 0;
	/* a DNSBL refusal still asks for the name a client name allow entry may save */
	plan->iprev =
	    !f->iprev_checked && (policy_check_on(p, PM_CHECK_IPREV) || names) &&
	    (v->action == PM_V_CONTINUE || (v->check == CHK_DNSBL && cn->allow_list != NULL));
	plan->iprev_applies = plan->iprev && policy_check_on(p, PM_CHECK_IPREV);
}

/*
 * plan_mail - the sender domain, SPF and the sender domain's DMARC record,
 * unless the messages are used up, or a block entry, iprev or the sender
 * domain refuses (a dry run still makes the lookups a block entry would
 * have spared)
 */
static void plan_mail(const struct pm_facts *f, const struct policy *p, const struct pm_verdict *v,
                      struct pm_plan *plan)
{
	if (f->authenticated || f->sender_status == ADDR_BAD || v->check == CHK_MAX_MESSAGES ||
	    refused_by(v, CHK_LISTS) || refused_by(v, CHK_IPREV) ||
	    refused_by(v, CHK_SENDER_DOMAIN))
		return;
	plan->sender_domain = f->sender_domain == SENDER_DOMAIN_UNCHECKED &&
	                      f->domains.sender != NULL &&
	                      policy_check_on(p, PM_CHECK_SENDER_DOMAIN);
	if (!policy_check_on(p, PM_CHECK_SPF))
		return;
	plan->spf = f->mfrom_spf == PM_SPF_UNCHECKED;
	plan->sender_dmarc =
	    !f->sender_dmarc_checked && f->domains.sender != NULL && spf_may_wait(f, p);
}

/* verdict_plan - which lookups this stage still needs */
void verdict_plan(const struct pm_facts *f, const struct policy *p, struct pm_plan *plan)
{
	struct pm_verdict v;

	memset(plan, 0, sizeof(*plan));
	if (f == NULL || p == NULL || f->trusted || f->internal_error)
		return;
	switch (f->stage) {
	case PM_STAGE_CONNECT:
		verdict_decide(f, p, &v);
		plan_connect(f, p, &v, plan);
		break;
	case PM_STAGE_HELO:
		plan->helo_spf =
		    f->helo_spf == PM_SPF_UNCHECKED && policy_check_on(p, PM_CHECK_HELO_SPF);
		break;
	case PM_STAGE_MAIL:
		verdict_decide(f, p, &v);
		plan_mail(f, p, &v, plan);
		break;
	case PM_STAGE_RCPT:
		break;
	case PM_STAGE_EOM:
	default:
		plan->message_auth =
		    !f->authenticated && (policy_check_on(p, PM_CHECK_DKIM) || policy_dmarc_on(p) ||
		                          p->arc.mode != PM_MODE_OFF);
		break;
	}
}

/* append_value - one placeholder's value: cut, escaped, and no '%' left in it */
static void append_value(struct strbuf *sb, const char *val)
{
	char esc[REPLY_VALUE_MAX * 4 + 8];
	size_t n = val ? strnlen(val, REPLY_VALUE_MAX + 1) : 0;
	const char *p;

	pm_escape(esc, sizeof(esc), val ? val : "", n > REPLY_VALUE_MAX ? REPLY_VALUE_MAX : n);
	for (p = esc; *p; p++) {
		if (*p == '%')
			sb_append(sb, "\\x25");
		else
			sb_appendc(sb, *p);
	}
	if (n > REPLY_VALUE_MAX)
		sb_append(sb, "...");
}

/* var_value - the value for placeholder name (len bytes); *known false when there is none */
static const char *var_value(const struct pm_reply_vars *vars, const char *name, size_t len,
                             bool *known)
{
	/* where each placeholder of policy.h's table is in the vars */
	static const size_t off[PM_PH_COUNT] = {
	    [PM_PH_IP] = offsetof(struct pm_reply_vars, ip),
	    [PM_PH_NAME] = offsetof(struct pm_reply_vars, name),
	    [PM_PH_HELO] = offsetof(struct pm_reply_vars, helo),
	    [PM_PH_SENDER] = offsetof(struct pm_reply_vars, sender),
	    [PM_PH_RCPT] = offsetof(struct pm_reply_vars, rcpt),
	    [PM_PH_DOMAIN] = offsetof(struct pm_reply_vars, domain),
	    [PM_PH_RESULT] = offsetof(struct pm_reply_vars, result),
	    [PM_PH_IDENTITY] = offsetof(struct pm_reply_vars, identity),
	    [PM_PH_ZONE] = offsetof(struct pm_reply_vars, zone),
	    [PM_PH_RETRY] = offsetof(struct pm_reply_vars, retry),
	};
	int i = pm_placeholder_find(name, len);

	*known = i >= 0;
	if (i < 0 || vars == NULL)
		return NULL;
	return *(const char *const *)((const char *)vars + off[i]);
}

/* reply_expand - the reply's text with its placeholders replaced by escaped values */
char *reply_expand(const struct pm_reply *r, const struct pm_reply_vars *vars, char *buf,
                   size_t bufsize)
{
	struct strbuf sb;
	const char *t;
	size_t i, max;

	if (buf == NULL || bufsize == 0)
		return buf;
	sb_init(&sb);
	for (t = r && r->text ? r->text : ""; *t;) {
		const char *end;
		bool known = false;
		const char *val;

		if (t[0] == '%' && t[1] == '{' && (end = strchr(t + 2, '}')) != NULL) {
			val = var_value(vars, t + 2, (size_t)(end - t - 2), &known);
			if (known) {
				append_value(&sb, val);
				t = end + 1;
				continue;
			}
		}
		sb_appendc(&sb, *t++);
	}
	/* printable ASCII only, whatever the template held */
	for (i = 0; i < sb.len; i++)
		if ((unsigned char)sb.s[i] < 0x20 || (unsigned char)sb.s[i] > 0x7e)
			sb.s[i] = '?';
	max = bufsize - 1 < REPLY_TEXT_MAX ? bufsize - 1 : REPLY_TEXT_MAX;
	if (sb.len > max) {
		/* cut, and end with "..." when there is room for it */
		size_t keep = max > 3 ? max - 3 : max;

		memcpy(buf, sb.s, keep);
		if (max > 3)
			memcpy(buf + keep, "...", 3);
		buf[max] = '\0';
	} else {
		memcpy(buf, sb.s, sb.len);
		buf[sb.len] = '\0';
	}
	sb_free(&sb);
	return buf;
}

/* pm_verdict_action_name - "continue", "reject", "tempfail" */
const char *pm_verdict_action_name(enum pm_verdict_action a)
{
	switch (a) {
	case PM_V_CONTINUE:
		return "continue";
	case PM_V_REJECT:
		return "reject";
	case PM_V_TEMPFAIL:
		return "tempfail";
	}
	return "unknown";
}

/* The name of each stage, check and reason in logs and JSON: one table each. */
static const char *const stage_names[PM_STAGE_COUNT] = {
    [PM_STAGE_CONNECT] = "connect", [PM_STAGE_HELO] = "helo", [PM_STAGE_MAIL] = "mail",
    [PM_STAGE_RCPT] = "rcpt",       [PM_STAGE_EOM] = "eom",
};

static const char *const check_names[CHK_COUNT] = {
    [CHK_CLIENT_BLOCK] = "client_block",
    [CHK_DNSBL] = "dnsbl",
    [CHK_IPREV] = "iprev",
    [CHK_HELO_SPF] = "helo_spf",
    [CHK_SPF] = "spf",
    [CHK_SENDER_SYNTAX] = "sender_syntax",
    [CHK_SENDER_DOMAIN] = "sender_domain",
    [CHK_MAX_MESSAGES] = "max_messages",
    [CHK_RCPT_SYNTAX] = "rcpt_syntax",
    [CHK_RECIPIENTS] = "recipients",
    [CHK_MAX_RECIPIENTS] = "max_recipients",
    [CHK_MAX_UNKNOWN] = "max_unknown",
    [CHK_LISTS] = "lists",
    [CHK_FROM_HEADER] = "from_header",
    [CHK_HEADERS] = "headers",
    [CHK_MUST_SIGN] = "must_sign",
    [CHK_DMARC] = "dmarc",
    [CHK_ARC] = "arc",
    [CHK_INTERNAL_ERROR] = "internal_error",
    [CHK_GREYLIST] = "greylist",
    [CHK_RATELIMIT] = "ratelimit",
    [CHK_STATE] = "state",
};

static const char *const reason_names[RSN_COUNT] = {
    [RSN_SPF_NONE] = "spf_none",
    [RSN_SPF_NEUTRAL] = "spf_neutral",
    [RSN_SPF_PASS] = "spf_pass",
    [RSN_SPF_FAIL] = "spf_fail",
    [RSN_SPF_SOFTFAIL] = "spf_softfail",
    [RSN_SPF_TEMPERROR] = "spf_temperror",
    [RSN_SPF_PERMERROR] = "spf_permerror",
    [RSN_HELO_SPF_NONE] = "helo_spf_none",
    [RSN_HELO_SPF_NEUTRAL] = "helo_spf_neutral",
    [RSN_HELO_SPF_PASS] = "helo_spf_pass",
    [RSN_HELO_SPF_FAIL] = "helo_spf_fail",
    [RSN_HELO_SPF_SOFTFAIL] = "helo_spf_softfail",
    [RSN_HELO_SPF_TEMPERROR] = "helo_spf_temperror",
    [RSN_HELO_SPF_PERMERROR] = "helo_spf_permerror",
    [RSN_CLIENT_BLOCKED] = "client_blocked",
    [RSN_CLIENT_NAME_BLOCKED] = "client_name_blocked",
    [RSN_HELO_BLOCKED] = "helo_blocked",
    [RSN_SENDER_BLOCKED] = "sender_blocked",
    [RSN_RCPT_BLOCKED] = "rcpt_blocked",
    [RSN_DNSBL_LISTED] = "dnsbl_listed",
    [RSN_IPREV_FAIL] = "iprev_fail",
    [RSN_IPREV_PERMERROR] = "iprev_permerror",
    [RSN_IPREV_TEMPERROR] = "iprev_temperror",
    [RSN_SENDER_DOMAIN_UNKNOWN] = "sender_domain_unknown",
    [RSN_SENDER_NULL_MX] = "sender_null_mx",
    [RSN_SENDER_DOMAIN_TEMPFAIL] = "sender_domain_tempfail",
    [RSN_SENDER_SYNTAX] = "sender_syntax",
    [RSN_TOO_MANY_MESSAGES] = "too_many_messages",
    [RSN_RCPT_SYNTAX] = "rcpt_syntax",
    [RSN_TOO_MANY_RECIPIENTS] = "too_many_recipients",
    [RSN_TOO_MANY_UNKNOWN] = "too_many_unknown",
    [RSN_UNKNOWN_RECIPIENT] = "unknown_recipient",
    [RSN_RELAY_DENIED] = "relay_denied",
    [RSN_RCPT_TEMPFAIL] = "rcpt_tempfail",
    [RSN_FROM_MISSING] = "from_missing",
    [RSN_FROM_SEVERAL] = "from_several",
    [RSN_FROM_SEVERAL_ADDRESSES] = "from_several_addresses",
    [RSN_FROM_UNUSABLE] = "from_unusable",
    [RSN_FROM_DISPLAY_NAME] = "from_display_name",
    [RSN_HEADER_REPEATED] = "header_repeated",
    [RSN_DKIM_NONE_PASSING] = "dkim_none_passing",
    [RSN_DKIM_NONE_ACCEPTABLE] = "dkim_none_acceptable",
    [RSN_DKIM_NONE_ALIGNED] = "dkim_none_aligned",
    [RSN_DKIM_TEMPFAIL] = "dkim_tempfail",
    [RSN_DMARC_TEMPFAIL] = "dmarc_tempfail",
    [RSN_DMARC_REJECT] = "dmarc_reject",
    [RSN_DMARC_QUARANTINE] = "dmarc_quarantine",
    [RSN_ARC_FAIL] = "arc_fail",
    [RSN_ARC_TEMPERROR] = "arc_temperror",
    [RSN_ARC_OVERRIDE] = "arc_override",
    [RSN_ALLOWED] = "allowed",
    [RSN_EXEMPT_RECIPIENT] = "exempt_recipient",
    [RSN_INTERNAL_ERROR] = "internal_error",
    [RSN_INTERNAL_ERROR_FAIL_OPEN] = "internal_error_fail_open",
    [RSN_GREYLISTED] = "greylisted",
    [RSN_RATELIMIT_EXCEEDED] = "ratelimit_exceeded",
    [RSN_STATE_UNAVAILABLE] = "state_unavailable",
};

/* pm_stage_name - the stage's name in logs and JSON; NULL for a value out of range */
const char *pm_stage_name(enum pm_stage s)
{
	return (int)s >= 0 && s < PM_STAGE_COUNT ? stage_names[s] : NULL;
}

/* pm_check_id_name - the check's name in logs and JSON; NULL for CHK_NONE */
const char *pm_check_id_name(enum pm_check_id c)
{
	return (int)c >= 0 && c < CHK_COUNT ? check_names[c] : NULL;
}

/* pm_reason_name - the reason's name in logs and JSON; NULL for RSN_NONE */
const char *pm_reason_name(enum pm_reason r)
{
	return (int)r >= 0 && r < RSN_COUNT ? reason_names[r] : NULL;
}
