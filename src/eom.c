/*
 * NAME
 *	eom 3 - end of message: the message's authentication, and our header
 * SYNOPSIS
 *	#include "eom.h"
 *
 *	void eom_evaluate(const struct eom_input *in, struct auth_eom *a);
 *	char *eom_authres_value(const struct eom_input *in,
 *		const struct auth_eom *a, const struct pm_verdict *v);
 * DESCRIPTION
 *	eom_evaluate() ends the DKIM verification (dkim.c), judges the From
 *	header (hdrfrom.c), looks up the author domain's DMARC record
 *	(dmarc.c; the record looked up at MAIL FROM is used again when it is
 *	the same domain and was no temporary failure) within the budget of
 *	end of message and evaluates it with this message's own SPF and
 *	DKIM results only; then the local overrides and must_sign
 *	(verdict.c). A domain whose DMARC mode is off after the overrides
 *	is not looked up at all. The ARC verifier's end of message comes
 *	with DKIM's; after DMARC, arctrust_decide() (arctrust.c) says whether
 *	the oldest trusted ARC sealer rescues a DMARC fail whose reject or
 *	quarantine would apply (not for dmarc.always_reject), with the
 *	organizational domain found as DMARC finds it (org_same_cb: a walk
 *	that fails for now aligns nothing): in
 *	arc.mode log that is only noted, in tag and enforce the disposition
 *	becomes none and the rule arc.trusted_sealers.
 *
 *	eom_authres_value() says what is reported per mode: each result
 *	only when the mode in force for the message (overrides) is tag or
 *	enforce; neither the iprev nor the HELO result for an
 *	authenticated client; for a From header DMARC cannot judge, a
 *	dmarc=permerror saying why; arc= in arc.mode tag and enforce
 *	whenever the ARC verifier ran (arc=none for a message without ARC
 *	header fields), and
 *	for a rescued DMARC fail the override in the dmarc= comment and
 *	policy.dmarc=none. The value is built by authres_format().
 *
 *	No libmilter and no session: the facts come in a struct eom_input.
 * DIAGNOSTICS
 *	One log line per DKIM signature that did not pass, with why; one
 *	for an ARC chain that did not pass, and one for a rescue.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "authres.h"
#include "eom.h"
#include "log.h"
#include "metrics.h"
#include "util.h"

#define ADDR_TEXT_MAX (ADDR_LOCAL_MAX + ADDR_DOMAIN_MAX + 8)

/*
 * org_aligned - do domains a and b share an organizational domain by the
 * tree walk (treewalk mode) or by the list (PSL mode)? A walk that fails
 * for now counts as aligned when tempfail_aligns (DMARC's uses: DNS
 * trouble never makes a refusal), as not aligned otherwise (the ARC
 * rescue: DNS trouble must never let a message through)
 */
static bool org_aligned(struct dmarc_ctx *dc, const char *a, const char *b, bool tempfail_aligns)
{
	char oa[DMARC_DOMAIN_MAX], ob[DMARC_DOMAIN_MAX];
	int ra, rb;

	if (a == NULL || b == NULL)
		return false;
	if (dc->discovery == DMARC_DISCOVERY_PSL || dc->budget == NULL)
		return dmarc_aligned(dc->psl, a, b, false);
	if (dmarc_aligned(NULL, a, b, true))
		return true;
	ra = dmarc_walk_org(dc, a, oa);
	if (!tempfail_aligns && ra != 1)
		return false;
	rb = dmarc_walk_org(dc, b, ob);
	if (ra < 0 || rb < 0)
		return false;
	if (ra == 0 || rb == 0)
		return tempfail_aligns;
	return strcmp(oa, ob) == 0;
}

/*
 * name_address - set a->from_name_address (and the reason) when the
 * display text of the author mailbox mb shows an address whose domain is
 * not aligned (relaxed: organizational domain) with the author domain
 * (author NULL, an address literal: any shown address counts)
 */
static void name_address(struct dmarc_ctx *dc, const struct hdrfrom_mailbox *mb, const char *author,
                         struct auth_eom *a)
{
	for (size_t i = 0; i < mb->nname_domains; i++) {
		if (author != NULL && org_aligned(dc, mb->name_domains[i], author, true))
			continue;
		a->from_name_address = true;
		snprintf(a->name_why, sizeof(a->name_why), "display name shows an address at %s",
		         mb->name_domains[i]);
		a->from_why = a->name_why;
		return;
	}
}

/* judge_from - the From header field(s): exactly one, naming one author with a DNS domain */
static void judge_from(struct dmarc_ctx *dc, unsigned from_count, const char *from_value,
                       struct auth_eom *a)
{
	struct hdrfrom_list l;
	const struct hdrfrom_mailbox *mb;
	const char *why = NULL;

	if (from_count == 0) {
		a->from = FROM_MISSING;
		a->from_why = "no From header field";
		return;
	}
	if (from_count > 1) {
		a->from = FROM_SEVERAL;
		a->from_why = "several From header fields";
		return;
	}
	if (!hdrfrom_parse(from_value, strlen(from_value), &l, &why)) {
		a->from = FROM_BAD;
		a->from_why = why != NULL ? why : "unparsable From header field";
		return;
	}
	switch (hdrfrom_author(&l, &mb, &why)) {
	case HDRFROM_AUTHOR_OK:
		a->from = FROM_OK;
		snprintf(a->author, sizeof(a->author), "%s", mb->domain);
		name_address(dc, mb, a->author, a);
		break;
	case HDRFROM_AUTHOR_SEVERAL:
		a->from = FROM_SEVERAL_ADDRS;
		a->from_why = "From names several addresses";
		break;
	case HDRFROM_AUTHOR_LITERAL:
		/* one author, but no domain name: nothing for DMARC to judge */
		a->from = FROM_OK;
		a->from_why = "From domain is an address literal";
		name_address(dc, &l.mbox[0], NULL, a);
		break;
	case HDRFROM_AUTHOR_NONE:
	default:
		a->from = FROM_BAD;
		a->from_why = why != NULL ? why : "no usable author domain in From";
		break;
	}
	hdrfrom_free(&l);
}

/* dkim_note - one log line per signature that did not pass, with why */
static void dkim_note(const char *queue_id, const struct dkim_results *r)
{
	for (size_t i = 0; i < r->n; i++) {
		const struct dkim_sig_result *g = &r->sig[i];
		char d[4 * sizeof(g->domain)], sel[4 * sizeof(g->selector)],
		    why[4 * sizeof(g->reason)];

		if (g->result == PM_DKIM_PASS)
			continue;
		log_msg(LOG_INFO, "%s: dkim=%s d=%s s=%s: %s", queue_id ? queue_id : "NOQUEUE",
		        pm_dkim_result_name(g->result), pm_escape_str(d, sizeof(d), g->domain),
		        pm_escape_str(sel, sizeof(sel), g->selector),
		        pm_escape_str(why, sizeof(why), g->reason));
	}
}

/* arc_note - one log line for an ARC chain that did not pass (none says nothing) */
static void arc_note(const char *queue_id, const struct arc_result *r)
{
	char why[4 * sizeof(r->reason)];

	if (r->result == PM_ARC_PASS || r->result == PM_ARC_NONE)
		return;
	log_msg(LOG_INFO, "%s: arc=%s i=%u: %s", queue_id ? queue_id : "NOQUEUE",
	        pm_arc_result_name(r->result), r->fail_instance,
	        pm_escape_str(why, sizeof(why), r->reason));
}

/*
 * org_same_cb - relaxed alignment for the ARC rescue (arg: the struct
 * dmarc_ctx): org_aligned, a walk that fails for now aligning nothing
 */
static bool org_same_cb(void *arg, const char *a, const char *b)
{
	return org_aligned(arg, a, b, false);
}

/*
 * arc_rescue - may the oldest trusted ARC sealer rescue this DMARC fail?
 * Only one whose reject or quarantine would apply, not forced by
 * dmarc.always_reject; applied in arc.mode tag and enforce
 */
static void arc_rescue(const struct eom_input *in, struct dmarc_ctx *dc, struct auth_eom *a)
{
	const struct policy *p = in->policy;
	struct arctrust_input ti;
	char sealer[4 * sizeof(a->arc_rescue.sealer)];

	if (!a->arc_done || a->arc.result != PM_ARC_PASS || a->dmarc.result != PM_DMARC_FAIL ||
	    a->dmarc_mode == PM_MODE_OFF ||
	    (a->disposition != PM_DMARC_P_REJECT && a->disposition != PM_DMARC_P_QUARANTINE) ||
	    (a->dmarc_rule != NULL && strcmp(a->dmarc_rule, "dmarc.always_reject") == 0))
		return;
	memset(&ti, 0, sizeof(ti));
	ti.arc = &a->arc;
	ti.trusted = p->arc.trusted_sealers;
	ti.ntrusted = p->arc.ntrusted_sealers;
	ti.author = a->author;
	ti.adkim_strict = a->rec.status == DMARC_REC_FOUND && a->rec.adkim_strict;
	ti.aspf_strict = a->rec.status == DMARC_REC_FOUND && a->rec.aspf_strict;
	ti.org = org_same_cb;
	ti.org_arg = dc;
	if (!arctrust_decide(&ti, &a->arc_rescue))
		return;
	log_msg(LOG_INFO, "%s: arc: trusted sealer %s (i=%u) vouches for %s (%s=pass)%s",
	        in->queue_id ? in->queue_id : "NOQUEUE",
	        pm_escape_str(sealer, sizeof(sealer), a->arc_rescue.sealer), a->arc_rescue.instance,
	        a->author, a->arc_rescue.method,
	        p->arc.mode >= PM_MODE_TAG ? ": DMARC disposition not applied"
	                                   : ": arc.mode log, not applied");
	if (p->arc.mode < PM_MODE_TAG)
		return;
	a->arc_override = true;
	a->disposition = PM_DMARC_P_NONE;
	a->dmarc_rule = "arc.trusted_sealers";
}

/* spf_domain - the domain MAIL FROM SPF evaluated, or NULL */
static const char *spf_domain(const struct eom_input *in)
{
	return in->mfrom_spf != PM_SPF_UNCHECKED && in->mfrom_spf_domain != NULL &&
	               in->mfrom_spf_domain[0] != '\0'
	           ? in->mfrom_spf_domain
	           : NULL;
}

/* eom_evaluate - see eom.h */
void eom_evaluate(const struct eom_input *in, struct auth_eom *a)
{
	const struct policy *p = in->policy;
	struct dmarc_input di;
	struct dmarc_ctx dc;
	const char *spf_pass_domain = NULL;

	memset(a, 0, sizeof(*a));
	a->dmarc_mode = PM_MODE_OFF;
	if (in->trusted || in->authenticated || in->broken ||
	    (!policy_check_on(p, PM_CHECK_DKIM) && !policy_dmarc_on(p) &&
	     p->arc.mode == PM_MODE_OFF))
		return;
	a->checked = true;
	if (in->dkim != NULL) {
		dkim_verify_eom(in->dkim, &a->dkim);
		a->dkim_done = true;
		for (size_t i = 0; i < a->dkim.n; i++)
			metrics_dkim_signature(pm_dkim_result_name(a->dkim.sig[i].result),
			                       a->dkim.sig[i].algorithm);
		dkim_note(in->queue_id, &a->dkim);
	}
	if (in->arc != NULL && p->arc.mode != PM_MODE_OFF) {
		arc_verify_eom(in->arc, &a->arc);
		a->arc_done = true;
		arc_note(in->queue_id, &a->arc);
	}
	if (!policy_dmarc_on(p) && p->dkim.nmust_sign == 0)
		return;
	dc.psl = p->psl;
	dc.discovery = p->dmarc.discovery;
	dc.budget = in->budget;
	dc.memo = in->dmarc_memo;
	judge_from(&dc, in->from_count, in->from_value, a);
	if (a->from != FROM_OK || a->author[0] == '\0')
		return;
	if (policy_check_on(p, PM_CHECK_DKIM))
		a->must_sign = verdict_must_sign(p, a->author, a->dkim_done ? &a->dkim : NULL);
	if (!policy_dmarc_on(p))
		return;
	if (in->mfrom_spf == PM_SPF_PASS)
		spf_pass_domain = spf_domain(in);
	/* the mode for this author domain first: off means no lookup at all */
	verdict_dmarc_overrides(p, &in->domains, a->author, spf_pass_domain,
	                        a->dkim_done ? &a->dkim : NULL, PM_DMARC_NONE, PM_DMARC_P_UNSPEC,
	                        &a->dmarc_mode, &a->disposition, &a->dmarc_rule);
	if (a->dmarc_mode == PM_MODE_OFF)
		return;
	if (in->sender_dmarc != NULL && in->sender_dmarc->status != DMARC_REC_TEMPFAIL &&
	    strcasecmp(in->sender_dmarc->domain, a->author) == 0)
		a->rec = *in->sender_dmarc; /* looked up at MAIL FROM */
	else
		dmarc_discover(&dc, a->author, &a->rec);
	memset(&di, 0, sizeof(di));
	di.psl = p->psl;
	di.ctx = &dc;
	di.from_domain = a->author;
	di.rec = &a->rec;
	di.spf = in->mfrom_spf;
	di.spf_domain = spf_domain(in);
	di.dkim = a->dkim_done ? &a->dkim : NULL;
	di.pct_roll = in->pct_roll;
	dmarc_evaluate(&di, &a->dmarc);
	metrics_dmarc_result(
	    pm_dmarc_result_name(a->dmarc.result),
	    a->rec.status == DMARC_REC_FOUND ? pm_dmarc_policy_name(a->dmarc.policy) : "");
	a->sender_aligned = org_aligned(&dc, a->author, in->domains.sender, true);
	verdict_dmarc_overrides(p, &in->domains, a->author, spf_pass_domain, di.dkim,
	                        a->dmarc.result, a->dmarc.disposition, &a->dmarc_mode,
	                        &a->disposition, &a->dmarc_rule);
	arc_rescue(in, &dc, a);
}

/* eom_free - release the DKIM and ARC results eom_evaluate left in *a */
void eom_free(struct auth_eom *a)
{
	if (a == NULL)
		return;
	dkim_results_free(&a->dkim);
	if (a->arc_done)
		arc_result_free(&a->arc);
	a->dkim_done = false;
	a->arc_done = false;
}

/* eom_authres_value - see eom.h */
char *eom_authres_value(const struct eom_input *in, const struct auth_eom *a,
                        const struct pm_verdict *v)
{
	const struct policy *p = in->policy;
	struct authres_input ar;
	char from[ADDR_TEXT_MAX], allowed[160], rescue[sizeof(a->arc_rescue.sealer) + 64];
	enum pm_mode mode[PM_CHECKS];

	/* tagged when the mode in force for this message (overrides) says so */
	for (int c = 0; c < PM_CHECKS; c++)
		mode[c] = verdict_mode(p, (enum pm_check)c, &in->domains, NULL);
	memset(&ar, 0, sizeof(ar));
	allowed[0] = '\0';
	if (v->allowed && v->allowed_by != NULL)
		snprintf(allowed, sizeof(allowed), "allowed by local policy: %s", v->allowed_by);
	/* headers.singletons in tag mode (or enforce, when the message was let through) */
	if (in->repeated_field != NULL && !in->trusted && !in->authenticated &&
	    p->headers.singletons >= PM_MODE_TAG)
		snprintf(allowed + strlen(allowed), sizeof(allowed) - strlen(allowed),
		         "%srepeated header field: %s", allowed[0] != '\0' ? "; " : "",
		         in->repeated_field);
	if (allowed[0] != '\0')
		ar.policy_comment = allowed;
	ar.authserv_id = p->authserv_id;
	if (in->authenticated)
		ar.auth_user = in->auth_user;
	if (in->trusted)
		ar.trusted_network = in->trusted_net;
	ar.iprev = PM_IPREV_UNCHECKED;
	/* like the HELO result: not reported for an authenticated client, never refused for it */
	if (in->iprev_applies && !in->authenticated && mode[PM_CHECK_IPREV] >= PM_MODE_TAG) {
		ar.iprev = in->iprev;
		ar.iprev_ip = in->client_addr;
		ar.iprev_comment =
		    in->iprev_why != NULL && in->iprev_why[0] != '\0' ? in->iprev_why : NULL;
	}
	ar.helo_spf = PM_SPF_UNCHECKED;
	/* an authenticated client skipped the sender checks: its HELO result is not reported */
	if (in->helo_spf != PM_SPF_UNCHECKED && !in->authenticated &&
	    mode[PM_CHECK_HELO_SPF] >= PM_MODE_TAG) {
		ar.helo_spf = in->helo_spf;
		ar.helo = in->helo;
	}
	ar.mfrom_spf = PM_SPF_UNCHECKED;
	if (mode[PM_CHECK_SPF] >= PM_MODE_TAG && in->mfrom_spf != PM_SPF_UNCHECKED) {
		ar.mfrom_spf = in->mfrom_spf;
		if (in->sender_status == ADDR_OK)
			ar.mailfrom = addr_format(in->sender, from, sizeof(from));
		else
			ar.helo = in->helo; /* the null sender was judged by its HELO */
		if (in->mfrom_spf_comment != NULL && in->mfrom_spf_comment[0] != '\0')
			ar.mfrom_comment = in->mfrom_spf_comment;
	}
	if (a->dkim_done && mode[PM_CHECK_DKIM] >= PM_MODE_TAG)
		ar.dkim = &a->dkim;
	/* arc=none too: the verifier ran and found no ARC header field */
	if (a->arc_done && p->arc.mode >= PM_MODE_TAG) {
		ar.arc = &a->arc;
		ar.arc_remote_ip = in->client_addr;
	}
	ar.dmarc = PM_DMARC_UNCHECKED;
	if (a->checked && a->from != FROM_UNCHECKED && a->from != FROM_OK &&
	    mode[PM_CHECK_DMARC] >= PM_MODE_TAG) {
		/* tag mode delivers it: say why DMARC could not judge the message */
		ar.dmarc = PM_DMARC_PERMERROR;
		ar.dmarc_comment = a->from_why;
	} else if (a->dmarc.result != PM_DMARC_UNCHECKED && a->dmarc_mode >= PM_MODE_TAG) {
		ar.dmarc = a->dmarc.result;
		ar.header_from = a->author;
		if (a->rec.status == DMARC_REC_FOUND) {
			ar.dmarc_policy = pm_dmarc_policy_name(a->rec.p);
			if (a->dmarc.used_sp)
				ar.dmarc_sp = pm_dmarc_policy_name(a->dmarc.policy);
			if (a->dmarc.used_np)
				ar.dmarc_np = pm_dmarc_policy_name(a->dmarc.policy);
			ar.dmarc_testing = a->rec.testing;
			if (strcasecmp(a->rec.found_at, a->author) != 0)
				ar.dmarc_pdomain = a->rec.found_at;
			ar.dmarc_disposition = a->dmarc.result == PM_DMARC_PASS
			                           ? pm_dmarc_policy_name(PM_DMARC_P_NONE)
			                           : pm_dmarc_policy_name(a->disposition);
		}
		if (a->dmarc.result == PM_DMARC_PERMERROR || a->dmarc.result == PM_DMARC_TEMPERROR)
			ar.dmarc_comment = a->dmarc.why[0] != '\0' ? a->dmarc.why : NULL;
		if (a->arc_override) {
			/* RFC 8601 2.7.7: the policy applied, and why, in the comment */
			snprintf(rescue, sizeof(rescue), "arc_override d=%s i=%u",
			         a->arc_rescue.sealer, a->arc_rescue.instance);
			ar.dmarc_comment = rescue;
			ar.dmarc_disposition = pm_dmarc_policy_name(PM_DMARC_P_NONE);
			ar.dmarc_policy_prop = pm_dmarc_policy_name(PM_DMARC_P_NONE);
		}
	}
	return authres_format(&ar);
}
