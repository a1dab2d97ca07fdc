/*
 * NAME
 *	ratelimit 3 - rate limits: applicability, values, keys, counting
 * SYNOPSIS
 *	#include "ratelimit.h"
 *
 *	void ratelimit_rcpt(struct store *st, const struct ratelimit_settings *rs,
 *		const struct rl_subject *s, const struct rl_message *m,
 *		struct rl_rcpt *out);
 *	void ratelimit_take_back(struct store *st,
 *		const struct ratelimit_settings *rs, struct rl_rcpt *out);
 *	void ratelimit_commit(struct rl_message *m, const struct rl_rcpt *out);
 * DESCRIPTION
 *	See ratelimit.h. ratelimit_rcpt makes one store operation per rule
 *	that applies and has not counted this message yet.
 * DIAGNOSTICS
 *	None: a store failure is the state RL_ERROR (store.c logs outages).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/socket.h>

#include "ratelimit.h"
#include "util.h"

/* rl_key_name - the key kind's name in the policy file and the logs */
const char *rl_key_name(enum rl_key k)
{
	switch (k) {
	case RL_KEY_CLIENT_ADDR:
		return "client_address";
	case RL_KEY_CLIENT_NET:
		return "client_network";
	case RL_KEY_SENDER:
		return "sender";
	case RL_KEY_SENDER_DOMAIN:
		return "sender_domain";
	case RL_KEY_SASL_USER:
		return "sasl_user";
	case RL_KEY_RECIPIENT:
		return "recipient";
	}
	return "unknown";
}

/* rl_action_name - "tempfail", "reject", "log" */
const char *rl_action_name(enum rl_action a)
{
	switch (a) {
	case RL_ACT_TEMPFAIL:
		return "tempfail";
	case RL_ACT_REJECT:
		return "reject";
	case RL_ACT_LOG:
		return "log";
	}
	return "unknown";
}

/* rl_state_name - "ok", "over", "error" */
const char *rl_state_name(enum rl_state s)
{
	switch (s) {
	case RL_OK:
		return "ok";
	case RL_OVER:
		return "over";
	case RL_ERROR:
		return "error";
	case RL_NOT_COUNTED:
	default:
		return NULL;
	}
}

/* has_address - a client with an IPv4 or IPv6 address */
static bool has_address(const struct pm_ip *ip)
{
	return ip != NULL && (ip->family == AF_INET || ip->family == AF_INET6);
}

/* sender_exempt - is the sender (or its domain, or a domain above it) in the rule's list? */
static bool sender_exempt(const struct ratelimit_rule *r, const struct rl_subject *s)
{
	for (size_t i = 0; i < r->nexempt_senders; i++) {
		char *const *e = &r->exempt_senders[i];

		if (*e == NULL || **e == '\0')
			continue;
		if (strchr(*e, '@') != NULL ? s->sender != NULL && strcasecmp(*e, s->sender) == 0
		                            : domain_in_list(s->sender_domain, e, 1))
			return true;
	}
	return false;
}

/* ratelimit_applies - the rule's exemptions and what its key needs */
bool ratelimit_applies(const struct ratelimit_rule *r, const struct rl_subject *s)
{
	if (r->exempt_trusted && s->trusted)
		return false;
	if (has_address(s->ip) && pm_cidr_list_match(&r->exempt_clients, s->ip) != NULL)
		return false;
	if (s->sender != NULL && sender_exempt(r, s))
		return false;
	switch (r->key) {
	case RL_KEY_CLIENT_ADDR:
	case RL_KEY_CLIENT_NET:
		return has_address(s->ip);
	case RL_KEY_SENDER:
		return s->sender != NULL && *s->sender != '\0';
	case RL_KEY_SENDER_DOMAIN:
		return s->sender_domain != NULL && *s->sender_domain != '\0';
	case RL_KEY_SASL_USER:
		return s->authenticated && s->auth_user != NULL && *s->auth_user != '\0';
	case RL_KEY_RECIPIENT:
		return s->rcpt != NULL && *s->rcpt != '\0';
	}
	return false;
}

/* copy - src into out; -1 when it does not fit or is empty */
static int copy(const char *src, char *out, size_t outsize)
{
	if (src == NULL || *src == '\0' || (size_t)snprintf(out, outsize, "%s", src) >= outsize) {
		out[0] = '\0';
		return -1;
	}
	return 0;
}

/* ratelimit_value - what r counts by for s */
int ratelimit_value(const struct ratelimit_rule *r, const struct rl_subject *s, char *out,
                    size_t outsize)
{
	if (out == NULL || outsize == 0)
		return -1;
	out[0] = '\0';
	switch (r->key) {
	case RL_KEY_CLIENT_ADDR:
		if (!has_address(s->ip))
			return -1;
		pm_ip_format(s->ip, out, outsize);
		return 0;
	case RL_KEY_CLIENT_NET:
		return greylist_network(s->ip, r->ipv4_prefix, r->ipv6_prefix, out, outsize);
	case RL_KEY_SENDER:
		return copy(s->sender, out, outsize);
	case RL_KEY_SENDER_DOMAIN:
		if (copy(s->sender_domain, out, outsize) != 0)
			return -1;
		pm_strlower(out);
		return 0;
	case RL_KEY_SASL_USER:
		return copy(s->auth_user, out, outsize);
	case RL_KEY_RECIPIENT:
		return copy(s->rcpt, out, outsize);
	}
	return -1;
}

/* ratelimit_key - "rl:NAME:VALUE" */
int ratelimit_key(const struct ratelimit_rule *r, const char *value, char *key, size_t size)
{
	size_t len = 2;

	if (size > STORE_KEY_MAX + 1)
		size = STORE_KEY_MAX + 1;
	if (size < 3 || r->name == NULL)
		return -1;
	memcpy(key, "rl", 3);
	if (greylist_key_part(key, size, &len, r->name, 18) != 0)
		return -1;
	return greylist_key_part(key, size, &len, value, 0);
}

/* counted_before - did the message count this rule (and value, for key recipient) already? */
static bool counted_before(const struct ratelimit_rule *r, size_t rule, const struct rl_message *m,
                           const char *value)
{
	if (r->count == RL_COUNT_RECIPIENTS)
		return false;
	for (size_t i = 0; m != NULL && i < m->n; i++) {
		if (m->v[i].rule != rule || m->v[i].state != RL_OK)
			continue;
		if (r->key != RL_KEY_RECIPIENT || strcmp(m->v[i].value, value) == 0)
			return true;
	}
	return false;
}

/* ratelimit_rcpt - count the recipient against every rule that applies */
void ratelimit_rcpt(struct store *st, const struct ratelimit_settings *rs,
                    const struct rl_subject *s, const struct rl_message *m, struct rl_rcpt *out)
{
	char key[STORE_KEY_MAX + 1];

	memset(out, 0, sizeof(*out));
	out->over = out->would = out->error = -1;
	for (size_t i = 0; rs != NULL && i < rs->nrules && out->n < PM_RATELIMIT_RULES_MAX; i++) {
		const struct ratelimit_rule *r = &rs->rules[i];
		struct rl_entry *e = &out->e[out->n];
		enum store_status ss;
		long value = -1;

		if (!ratelimit_applies(r, s))
			continue;
		memset(e, 0, sizeof(*e));
		e->rule = i;
		e->count = -1;
		if (ratelimit_value(r, s, e->value, sizeof(e->value)) != 0 ||
		    counted_before(r, i, m, e->value) ||
		    ratelimit_key(r, e->value, key, sizeof(key)) != 0)
			continue;
		ss = st != NULL ? store_add(st, key, 1, r->limit, (unsigned)r->window, &value)
		                : STORE_ERROR;
		e->count = ss == STORE_ERROR ? -1 : value;
		out->n++;
		if (ss == STORE_OK) {
			e->state = RL_OK;
			continue;
		}
		if (ss == STORE_ERROR) {
			e->state = RL_ERROR;
			out->error = (int)(out->n - 1);
			return;
		}
		e->state = RL_OVER;
		if (r->action == RL_ACT_LOG) {
			if (out->would < 0)
				out->would = (int)(out->n - 1);
			continue;
		}
		out->over = (int)(out->n - 1);
		return;
	}
}

/* ratelimit_take_back - undo the counts made for a refused recipient */
void ratelimit_take_back(struct store *st, const struct ratelimit_settings *rs, struct rl_rcpt *out)
{
	char key[STORE_KEY_MAX + 1];

	for (size_t i = 0; i < out->n; i++) {
		struct rl_entry *e = &out->e[i];
		const struct ratelimit_rule *r;

		if (e->state != RL_OK || rs == NULL || e->rule >= rs->nrules)
			continue;
		r = &rs->rules[e->rule];
		if (ratelimit_key(r, e->value, key, sizeof(key)) == 0 && st != NULL)
			(void)store_add(st, key, -1, 0, (unsigned)r->window, NULL);
		e->state = RL_NOT_COUNTED;
		if (e->count > 0)
			e->count--;
	}
}

/* ratelimit_commit - the message keeps what the accepted recipient counted */
void ratelimit_commit(struct rl_message *m, const struct rl_rcpt *out)
{
	for (size_t i = 0; i < out->n; i++) {
		if (out->e[i].state != RL_OK && out->e[i].state != RL_ERROR)
			continue;
		m->v = xrealloc(m->v, (m->n + 1) * sizeof(*m->v));
		m->v[m->n++] = out->e[i];
	}
}

/* ratelimit_message_free - forget what the message counted */
void ratelimit_message_free(struct rl_message *m)
{
	free(m->v);
	m->v = NULL;
	m->n = 0;
}
