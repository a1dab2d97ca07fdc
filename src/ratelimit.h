/*
 * NAME
 *	ratelimit 3h - rate limits: which rules apply, what they count by,
 *	and the check-and-count against the state store
 * SYNOPSIS
 *	#include "ratelimit.h"
 * DESCRIPTION
 *	At RCPT, for a recipient every other check (greylisting included)
 *	lets through, the milter (session.c) asks ratelimit_rcpt() to count
 *	it against every rule of the policy (policy.h struct
 *	ratelimit_settings), in the order of the file:
 *
 *	- a rule does not apply to a trusted client (exempt_trusted), a
 *	  client in its exempt_clients, a sender in its exempt_senders (an
 *	  address, or a domain: the sender domain or one below it), a
 *	  client without SMTP AUTH (key sasl_user), the null sender (keys
 *	  sender and sender_domain), a client without an address (keys
 *	  client_address and client_network);
 *	- what it counts by (ratelimit_value): the client address, its
 *	  network (the rule's prefixes), the normalised sender
 *	  (greylist_normalise), the sender domain, the SASL user name, the
 *	  normalised recipient;
 *	- count recipients: every recipient adds 1; count messages: the
 *	  first recipient of the message adds 1 (key recipient: each
 *	  distinct recipient adds 1); what the message counted already is
 *	  in struct rl_message;
 *	- store_add(key, 1, limit, window) checks and counts in one atomic
 *	  step: STORE_OVER is the rule over its limit (nothing counted).
 *	  A rule with action log over its limit is noted and the next rules
 *	  are still counted; the first rule over its limit whose action is
 *	  tempfail or reject ends the walk (the later rules count nothing).
 *	  A store failure ends it too.
 *
 *	When the recipient is then refused, ratelimit_take_back() takes the
 *	counts made for it back (store_add(key, -1, 0, window)); when it is
 *	accepted, ratelimit_commit() adds them to the message's.
 *
 *	Store keys: "rl:NAME:VALUE", the value escaped (greylist_key_escape).
 */
#ifndef PM_RATELIMIT_H
#define PM_RATELIMIT_H

#include <stdbool.h>
#include <stddef.h>

#include "addr.h"
#include "cidr.h"
#include "greylist.h"
#include "policy.h"
#include "store.h"

#define RL_VALUE_MAX GL_ADDR_MAX

/* rl_key_name - "client_address", ... (the JSON "key") */
const char *rl_key_name(enum rl_key k);
/* rl_action_name - "tempfail", "reject", "log" */
const char *rl_action_name(enum rl_action a);

/* What a rule is judged on. */
struct rl_subject {
	bool trusted;
	bool authenticated;
	const struct pm_ip *ip;    /* the client (AF_UNSPEC: none) */
	const char *auth_user;     /* SMTP AUTH name, or NULL */
	const char *sender;        /* normalised sender, "" for the null sender, NULL: none */
	const char *sender_domain; /* lower-case, NULL for the null sender */
	const char *rcpt;          /* normalised recipient */
};

/* ratelimit_applies - does rule r apply to s (its exemptions, its key's needs)? */
bool ratelimit_applies(const struct ratelimit_rule *r, const struct rl_subject *s);

/* ratelimit_value - what r counts by for s into out; -1 when there is nothing */
int ratelimit_value(const struct ratelimit_rule *r, const struct rl_subject *s, char *out,
                    size_t outsize);

/* ratelimit_key - "rl:NAME:VALUE" (at most STORE_KEY_MAX bytes); -1 on error */
int ratelimit_key(const struct ratelimit_rule *r, const char *value, char *key, size_t size);

/* The outcome of one rule for one recipient. */
enum rl_state {
	RL_NOT_COUNTED = 0, /* did not apply, or counted already for this message */
	RL_OK,              /* counted */
	RL_OVER,            /* over its limit: nothing counted */
	RL_ERROR,           /* the store failed */
};

/* rl_state_name - "ok", "over", "error"; NULL for RL_NOT_COUNTED */
const char *rl_state_name(enum rl_state s);

struct rl_entry {
	size_t rule; /* index in the policy's rules */
	enum rl_state state;
	char value[RL_VALUE_MAX];
	long count; /* the counter after the count (ok), or as it stands (over); -1: unknown */
};

/* What the message counted so far (per rule: messages; per rule and recipient: key recipient). */
struct rl_message {
	struct rl_entry *v;
	size_t n;
};

/* The rules judged for one recipient. */
struct rl_rcpt {
	struct rl_entry e[PM_RATELIMIT_RULES_MAX];
	size_t n;
	int over;  /* index in e of the rule that refuses (action tempfail or reject), else -1 */
	int would; /* index in e of the first rule with action log over its limit, else -1 */
	int error; /* index in e of the rule whose store operation failed, else -1 */
};

/*
 * ratelimit_rcpt - count one recipient against every rule that applies
 * (see DESCRIPTION) into out
 */
void ratelimit_rcpt(struct store *st, const struct ratelimit_settings *rs,
                    const struct rl_subject *s, const struct rl_message *m, struct rl_rcpt *out);

/* ratelimit_take_back - the recipient was refused: undo the counts made for it */
void ratelimit_take_back(struct store *st, const struct ratelimit_settings *rs,
                         struct rl_rcpt *out);

/* ratelimit_commit - the recipient was accepted: the message keeps what it counted */
void ratelimit_commit(struct rl_message *m, const struct rl_rcpt *out);

/* ratelimit_message_free - forget what the message counted */
void ratelimit_message_free(struct rl_message *m);

#endif
