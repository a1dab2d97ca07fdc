/*
 * NAME
 *	record 3h - one decision of policy-milter's JSON lines log, decoded
 * SYNOPSIS
 *	#include "record.h"
 * DESCRIPTION
 *	record_decode() turns one line of the log (schema version 1, see
 *	policy-milter-report(1)) into a struct rec, checking every key the
 *	schema (pm_schema_keys, ../decision.h) says is always present and
 *	the type of each; unknown keys are ignored. enum rec_stage and enum
 *	rec_action follow the order of pm_decision_stages and
 *	pm_decision_actions. Strings in a struct rec are borrowed from the decoded
 *	document and live until record_free(). The elements of checks.greylist
 *	and checks.ratelimit (issue 16's contract) are checked one by one: an
 *	element with a member missing, mistyped or out of range is left out and
 *	counted in state_skipped; the record itself stays good.
 */
#ifndef PMR_RECORD_H
#define PMR_RECORD_H

#include <stdbool.h>
#include <stddef.h>

enum rec_stage { REC_CONNECT, REC_HELO, REC_MAIL, REC_RCPT, REC_EOM };

enum rec_action { REC_ACCEPT, REC_REJECT, REC_TEMPFAIL, REC_QUARANTINE, REC_HOLD, REC_ACTIONS };

/* The schema's action names (pm_decision_actions, decision.h), indexed by enum rec_action. */
extern const char *const *const rec_action_names;

/* rec_action_parse - enum rec_action of a name, or -1 */
int rec_action_parse(const char *name);

/* The greylisting states of checks.greylist[].state, in the contract's order. */
enum rec_gl_state {
	GL_NEW,
	GL_EARLY,
	GL_PASSED,
	GL_KNOWN,
	GL_AUTO,
	GL_SKIPPED,
	GL_ERROR,
	GL_STATES
};

/* Their names ("new", "early", ...), indexed by enum rec_gl_state. */
extern const char *const rec_gl_state_names[GL_STATES];

/* The states of checks.ratelimit[].state. */
enum rec_rl_state { RL_OK, RL_OVER, RL_ERROR, RL_STATES };

/* One element of checks.greylist[] (strings borrowed; NULL when null or absent). */
struct rec_greylist {
	enum rec_gl_state state;
	const char *network, *sender, *recipient; /* the triplet: all set for new, early, passed */
	long long age;                            /* "age" in seconds, or -1 when not known */
};

/* One element of checks.ratelimit[] (strings borrowed). */
struct rec_ratelimit {
	enum rec_rl_state state;
	const char *rule;  /* "rule" (the rule's name) */
	const char *key;   /* "key": the rl_key name (client_address, sender, ...) */
	const char *value; /* "value": what was counted by */
};

/* One member of "checks": present (ran) or not. */
struct rec_check {
	bool ran;
	const char *result; /* "pass", "fail", ... */
	const char *domain; /* the judged identity's domain; NULL when the log has null */
};

struct rec {
	void *doc;              /* the decoded document (owns the strings below) */
	long long time_ms;      /* "time" */
	enum rec_stage stage;   /* "stage" */
	const char *client;     /* "client"."addr"; NULL when unknown */
	const char *sender;     /* "sender": NULL before MAIL FROM, "<>" for the null sender */
	const char *sender_dom; /* after the sender's last '@'; NULL for "<>", NULL or no '@' */
	const char **rcpts;     /* "recipients" (allocated array of borrowed strings) */
	size_t nrcpts;
	struct rec_check helo_spf, spf, dmarc;
	bool dkim_ran;                 /* "checks"."dkim" present */
	bool dkim_pass;                /* one of its signatures has result "pass" */
	enum rec_action action;        /* "action" */
	bool would;                    /* "would" */
	bool dry_run;                  /* "dry_run" */
	bool has_reply;                /* "reply" is not null */
	int reply_code;                /* "reply"."code", 200..599 */
	const char *reply_xcode;       /* "reply"."xcode", or NULL */
	const char *check;             /* "check", or NULL */
	const char *reason;            /* "reason", or NULL */
	struct rec_greylist *greylist; /* checks.greylist[] (allocated), the usable elements */
	size_t ngreylist;
	struct rec_ratelimit *ratelimit; /* checks.ratelimit[] (allocated), the usable elements */
	size_t nratelimit;
	size_t state_skipped;  /* elements of those two (or the members) left out */
	const char *state_why; /* why the first was left out (static), or NULL */
};

/*
 * record_decode - decode one line (len bytes, need not be NUL-terminated).
 * Returns 0 with *r filled (release it with record_free), or -1 with *why set
 * to a static description of the first problem found; *r then needs no release.
 */
int record_decode(const char *line, size_t len, struct rec *r, const char **why);

/* record_free - release a decoded record; a zeroed struct is fine */
void record_free(struct rec *r);

/* record_not_applied - a "would" decision: would, or dry run with an action other than accept */
bool record_not_applied(const struct rec *r);

/* record_refusal - action reject or tempfail (applied or not) */
bool record_refusal(const struct rec *r);

#endif
