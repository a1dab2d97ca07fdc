/*
 * NAME
 *	policy 3 - policy snapshots: reference counts, the current one, names
 * SYNOPSIS
 *	#include "policy.h"
 *
 *	struct policy *policy_hold(struct policy *p);
 *	void policy_release(struct policy *p);
 *	void policy_set_current(struct policy *p);
 *	struct policy *policy_acquire(void);
 *	const char *pm_mode_name(enum pm_mode m);
 *	const char *pm_action_name(enum pm_action a);
 *	const char *pm_reply_name(enum pm_reply_id id);
 *	const char *pm_spf_result_name(enum pm_spf_result r);
 *	const char *pm_iprev_result_name(enum pm_iprev_result r);
 *	bool pm_dnsbl_error_code(const struct pm_ip *ip);
 * DESCRIPTION
 *	A snapshot built by config_load() starts with one reference.
 *	policy_hold() and policy_release() count references atomically;
 *	the last release frees the snapshot and every string it owns.
 *
 *	The current snapshot is one pointer behind a mutex:
 *	policy_set_current() installs a new one (taking over the caller's
 *	reference) and releases the old one, so a reload never frees a
 *	snapshot still held by a connection; policy_acquire() hands out a
 *	new reference to whatever is current.
 *
 *	The name tables give the spelling used in the policy file, in logs
 *	and (for SPF and iprev results) in Authentication-Results (RFC 8601).
 *	pm_dnsbl_error_code() is the one definition of a DNSBL answer that
 *	is never a listing, for the checker (dnsbl.c) and the policy file's
 *	dnsbl.zones.codes (config_keys.c).
 * DIAGNOSTICS
 *	A release below zero references is a bug: pm_fatal().
 */
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>

#include "filetable.h"
#include "policy.h"
#include "psl.h"
#include "util.h"

static pthread_mutex_t current_lock = PTHREAD_MUTEX_INITIALIZER;
static struct policy *current;

/* policy_hold - take one more reference; returns p */
struct policy *policy_hold(struct policy *p)
{
	if (p != NULL)
		__atomic_add_fetch(&p->refcount, 1, __ATOMIC_RELAXED);
	return p;
}

/* free_strv - free a vector of n strings and the vector itself */
static void free_strv(char **v, size_t n)
{
	for (size_t i = 0; i < n; i++)
		free(v[i]);
	free(v);
}

/* policy_free - free a snapshot and everything it owns */
static void policy_free(struct policy *p)
{
	free(p->path);
	free(p->authserv_id);

	free(p->milter.socket);
	free(p->milter.socket_owner);
	free(p->milter.socket_group);
	free(p->milter.user);
	free(p->milter.group);
	free(p->milter.pid_file);

	free(p->trusted_networks.v);
	free(p->client_block.networks.v);

	free(p->spf.receiver);

	free_strv(p->recipients.domains, p->recipients.ndomains);
	free_strv(p->recipients.addresses, p->recipients.naddresses);
	free_strv(p->recipients.exempt, p->recipients.nexempt);
	free(p->recipients.file);
	ft_release(p->recipients.file_table);
	free(p->recipients.detail_separators);

	for (size_t i = 0; i < p->dnsbl.nzones; i++) {
		free(p->dnsbl.zones[i].zone);
		free_strv(p->dnsbl.zones[i].codes, p->dnsbl.zones[i].ncodes);
	}
	free(p->dnsbl.zones);

	free_strv(p->dkim.must_sign, p->dkim.nmust_sign);

	free(p->dmarc.public_suffix_list);
	psl_release(p->psl);
	free(p->dmarc.quarantine_header);
	free_strv(p->dmarc.never_enforce, p->dmarc.nnever_enforce);
	free_strv(p->dmarc.always_reject, p->dmarc.nalways_reject);
	free_strv(p->dmarc.display_name_exempt, p->dmarc.ndisplay_name_exempt);
	for (size_t i = 0; i < p->dmarc.ndomain_modes; i++)
		free(p->dmarc.domain_modes[i].domain);
	free(p->dmarc.domain_modes);

	free_strv(p->arc.trusted_sealers, p->arc.ntrusted_sealers);

	free(p->state.lmdb_path);
	free(p->state.redis_server);
	free(p->state.redis_username);
	free(p->state.redis_password);
	free(p->state.redis_prefix);
	free_strv(p->greylist.large_senders, p->greylist.nlarge_senders);
	free(p->greylist.exempt_clients.v);
	free_strv(p->greylist.exempt_recipients, p->greylist.nexempt_recipients);
	for (size_t i = 0; i < p->ratelimit.nrules; i++) {
		struct ratelimit_rule *r = &p->ratelimit.rules[i];

		free(r->name);
		free(r->exempt_clients.v);
		free_strv(r->exempt_senders, r->nexempt_senders);
		free(r->rule);
	}
	free(p->ratelimit.rules);

	for (size_t i = 0; i < p->noverrides; i++) {
		free(p->overrides[i].sender_domain);
		free(p->overrides[i].recipient_domain);
		free(p->overrides[i].rule);
	}
	free(p->overrides);

	for (size_t i = 0; i < PM_LIST_KINDS; i++) {
		struct list_settings *l = &p->lists[i];

		free_strv(l->allow, l->nallow);
		free_strv(l->block, l->nblock);
		free(l->allow_file);
		free(l->block_file);
		list_free(l->allow_list);
		list_free(l->block_list);
	}

	free(p->log.syslog_ident);
	free(p->log.json_file);
	free(p->metrics.listen);
	free(p->reports.org_name);
	free(p->reports.email);
	free(p->reports.extra_contact_info);
	free(p->reports.from);
	free(p->reports.directory);
	free(p->reports.state_file);
	free(p->reports.sendmail);

	for (int i = 0; i < PM_R_COUNT; i++)
		free(p->replies[i].text);
	free(p);
}

/* policy_release - drop one reference, freeing the snapshot on the last */
void policy_release(struct policy *p)
{
	int left;

	if (p == NULL)
		return;
	left = __atomic_sub_fetch(&p->refcount, 1, __ATOMIC_ACQ_REL);
	if (left < 0)
		pm_fatal("policy_release: reference count below zero (generation %u)",
		         p->generation);
	if (left == 0)
		policy_free(p);
}

/* policy_set_current - install p (the caller's reference moves in); release the old one */
void policy_set_current(struct policy *p)
{
	struct policy *old;

	pthread_mutex_lock(&current_lock);
	old = current;
	current = p;
	pthread_mutex_unlock(&current_lock);
	policy_release(old);
}

/* policy_acquire - a new reference to the current snapshot (NULL before the first set) */
struct policy *policy_acquire(void)
{
	struct policy *p;

	pthread_mutex_lock(&current_lock);
	p = policy_hold(current);
	pthread_mutex_unlock(&current_lock);
	return p;
}

const char *const pm_mode_names[PM_MODE_ENFORCE + 1] = {
    [PM_MODE_OFF] = "off",
    [PM_MODE_LOG] = "log",
    [PM_MODE_TAG] = "tag",
    [PM_MODE_ENFORCE] = "enforce",
};

const char *const pm_action_names[PM_ACT_TEMPFAIL + 1] = {
    [PM_ACT_ACCEPT] = "accept",
    [PM_ACT_REJECT] = "reject",
    [PM_ACT_TEMPFAIL] = "tempfail",
};

const char *const pm_placeholder_names[PM_PH_COUNT] = {
    [PM_PH_IP] = "ip",         [PM_PH_NAME] = "name",         [PM_PH_HELO] = "helo",
    [PM_PH_SENDER] = "sender", [PM_PH_RCPT] = "rcpt",         [PM_PH_DOMAIN] = "domain",
    [PM_PH_RESULT] = "result", [PM_PH_IDENTITY] = "identity", [PM_PH_ZONE] = "zone",
    [PM_PH_RETRY] = "retry",
};

/* pm_mode_name - "off", "log", "tag", "enforce" */
const char *pm_mode_name(enum pm_mode m)
{
	return (unsigned)m < PM_ARRAY_LEN(pm_mode_names) ? pm_mode_names[m] : "unknown";
}

/* pm_action_name - "accept", "reject", "tempfail" */
const char *pm_action_name(enum pm_action a)
{
	return (unsigned)a < PM_ARRAY_LEN(pm_action_names) ? pm_action_names[a] : "unknown";
}

int pm_placeholder_find(const char *name, size_t len)
{
	for (int i = 0; i < PM_PH_COUNT; i++)
		if (strlen(pm_placeholder_names[i]) == len &&
		    memcmp(pm_placeholder_names[i], name, len) == 0)
			return i;
	return -1;
}

static const char *const reply_names[PM_R_COUNT] = {
    [PM_R_CLIENT_BLOCKED] = "client_blocked",
    [PM_R_SPF_FAIL] = "spf_fail",
    [PM_R_SPF_PERMERROR] = "spf_permerror",
    [PM_R_SPF_TEMPERROR] = "spf_temperror",
    [PM_R_SENDER_SYNTAX] = "sender_syntax",
    [PM_R_SENDER_DOMAIN_UNKNOWN] = "sender_domain_unknown",
    [PM_R_SENDER_NULL_MX] = "sender_null_mx",
    [PM_R_RCPT_SYNTAX] = "rcpt_syntax",
    [PM_R_UNKNOWN_RECIPIENT] = "unknown_recipient",
    [PM_R_RELAY_DENIED] = "relay_denied",
    [PM_R_TOO_MANY_RECIPIENTS] = "too_many_recipients",
    [PM_R_TOO_MANY_UNKNOWN] = "too_many_unknown",
    [PM_R_RCPT_TEMPFAIL] = "rcpt_tempfail",
    [PM_R_DNS_TEMPFAIL] = "dns_tempfail",
    [PM_R_INTERNAL_ERROR] = "internal_error",
    [PM_R_FROM_HEADER] = "from_header",
    [PM_R_DKIM_NONE_PASSING] = "dkim_none_passing",
    [PM_R_DKIM_NONE_ACCEPTABLE] = "dkim_none_acceptable",
    [PM_R_DKIM_NONE_ALIGNED] = "dkim_none_aligned",
    [PM_R_DKIM_TEMPFAIL] = "dkim_tempfail",
    [PM_R_DMARC_REJECT] = "dmarc_reject",
    [PM_R_DMARC_TEMPFAIL] = "dmarc_tempfail",
    [PM_R_DNSBL_LISTED] = "dnsbl_listed",
    [PM_R_IPREV_FAIL] = "iprev_fail",
    [PM_R_IPREV_TEMPFAIL] = "iprev_tempfail",
    [PM_R_HELO_BLOCKED] = "helo_blocked",
    [PM_R_SENDER_BLOCKED] = "sender_blocked",
    [PM_R_RCPT_BLOCKED] = "rcpt_blocked",
    [PM_R_CLIENT_NAME_BLOCKED] = "client_name_blocked",
    [PM_R_TOO_MANY_MESSAGES] = "too_many_messages",
    [PM_R_FROM_DISPLAY_NAME] = "from_display_name",
    [PM_R_HEADER_REPEATED] = "header_repeated",
    [PM_R_ARC_FAIL] = "arc_fail",
    [PM_R_ARC_TEMPFAIL] = "arc_tempfail",
    [PM_R_GREYLISTED] = "greylisted",
    [PM_R_RATELIMIT_TEMPFAIL] = "ratelimit_tempfail",
    [PM_R_RATELIMIT_REJECT] = "ratelimit_reject",
    [PM_R_STATE_TEMPFAIL] = "state_tempfail",
};

/* pm_reply_name - the replies { } key of a reply, e.g. "spf_fail" */
const char *pm_reply_name(enum pm_reply_id id)
{
	if ((int)id < 0 || id >= PM_R_COUNT)
		return "unknown";
	return reply_names[id];
}

static const char *const spf_result_names[PM_SPF_NRESULTS] = {
    [PM_SPF_UNCHECKED] = "unchecked", [PM_SPF_NONE] = "none",
    [PM_SPF_NEUTRAL] = "neutral",     [PM_SPF_PASS] = "pass",
    [PM_SPF_FAIL] = "fail",           [PM_SPF_SOFTFAIL] = "softfail",
    [PM_SPF_TEMPERROR] = "temperror", [PM_SPF_PERMERROR] = "permerror",
};

/* pm_spf_result_name - RFC 8601 spelling; "unchecked" for PM_SPF_UNCHECKED */
const char *pm_spf_result_name(enum pm_spf_result r)
{
	if ((int)r < 0 || r >= PM_SPF_NRESULTS)
		return "unknown";
	return spf_result_names[r];
}

/* pm_iprev_result_name - RFC 8601 spelling; "unchecked" for PM_IPREV_UNCHECKED */
const char *pm_iprev_result_name(enum pm_iprev_result r)
{
	switch (r) {
	case PM_IPREV_UNCHECKED:
		return "unchecked";
	case PM_IPREV_PASS:
		return "pass";
	case PM_IPREV_FAIL:
		return "fail";
	case PM_IPREV_PERMERROR:
		return "permerror";
	case PM_IPREV_TEMPERROR:
		return "temperror";
	}
	return "unknown";
}

/* pm_dnsbl_error_code - 127.0.0.1 or 127.255.255.0/24: never a listing */
bool pm_dnsbl_error_code(const struct pm_ip *ip)
{
	const unsigned char *a;

	if (ip == NULL || ip->family != AF_INET || ip->addr[0] != 127)
		return false;
	a = ip->addr;
	return (a[1] == 0 && a[2] == 0 && a[3] == 1) || (a[1] == 255 && a[2] == 255);
}

/* policy_dmarc_on - dmarc.mode, a dmarc.domain_modes entry or a dmarc override is not off */
bool policy_dmarc_on(const struct policy *p)
{
	if (policy_check_on(p, PM_CHECK_DMARC))
		return true;
	for (size_t i = 0; i < p->dmarc.ndomain_modes; i++)
		if (p->dmarc.domain_modes[i].mode != PM_MODE_OFF)
			return true;
	return false;
}

/* policy_mode - the policy's own mode of check c */
enum pm_mode policy_mode(const struct policy *p, enum pm_check c)
{
	switch (c) {
	case PM_CHECK_IPREV:
		return p->iprev.mode;
	case PM_CHECK_HELO_SPF:
		return p->spf.helo_mode;
	case PM_CHECK_SPF:
		return p->spf.mode;
	case PM_CHECK_SENDER_DOMAIN:
		return p->sender_domain.mode;
	case PM_CHECK_DKIM:
		return p->dkim.mode;
	case PM_CHECK_DMARC:
		return p->dmarc.mode;
	case PM_CHECKS:
	default:
		return PM_MODE_OFF;
	}
}

/* policy_check_on - check c's own mode or an override naming it is not off */
bool policy_check_on(const struct policy *p, enum pm_check c)
{
	if ((int)c < 0 || c >= PM_CHECKS)
		return false;
	if (policy_mode(p, c) != PM_MODE_OFF)
		return true;
	for (size_t i = 0; i < p->noverrides; i++)
		if (p->overrides[i].mode[c] > PM_MODE_OFF)
			return true;
	return false;
}

/* pm_check_name - the override key of check c */
const char *pm_check_name(enum pm_check c)
{
	static const char *const names[PM_CHECKS] = {
	    [PM_CHECK_IPREV] = "iprev", [PM_CHECK_HELO_SPF] = "helo_spf",
	    [PM_CHECK_SPF] = "spf",     [PM_CHECK_SENDER_DOMAIN] = "sender_domain",
	    [PM_CHECK_DKIM] = "dkim",   [PM_CHECK_DMARC] = "dmarc",
	};

	return (int)c >= 0 && c < PM_CHECKS ? names[c] : "unknown";
}
