/*
 * NAME
 *	config_int 3h - the policy file's key table, shared by the loader's parts
 * SYNOPSIS
 *	#include "config_int.h"
 * DESCRIPTION
 *	Internal to the three files that make config_load() (policy.h), the
 *	way Postfix keeps its parameter tables apart from the code that
 *	reads them:
 *
 *	config_keys.c: the key table (cfg_settings[]: name, type, default,
 *	limits, validator, field) and the value validators;
 *
 *	config_load.c: the libconfig walk, defaults, lists of groups, the
 *	@include pre-check, building the lists and the recipients table,
 *	and the errors (cfg_err_add, cfg_key_origin);
 *
 *	config_check.c: the checks that span several keys.
 *
 *	Nothing outside these three files includes this header.
 * DIAGNOSTICS
 *	Errors are recorded with cfg_err_add; nothing here logs or exits.
 */
#ifndef PM_CONFIG_INT_H
#define PM_CONFIG_INT_H

#include <stdbool.h>
#include <stddef.h>

#include "config.h"
#include "policy.h"

/* What a table entry holds, and so how its value is read. */
enum cfg_type {
	CT_GROUP,        /* a group { } of other keys */
	CT_STRING,       /* char * */
	CT_INT,          /* int, within min..max */
	CT_MODE,         /* enum pm_mode, by name */
	CT_ACTION,       /* enum pm_action, by name */
	CT_OCTAL,        /* mode_t, from a string of octal digits ("0660") */
	CT_FACILITY,     /* int syslog facility, by name */
	CT_REPLY,        /* struct pm_reply, from "CODE X.Y.Z text" */
	CT_CIDRS,        /* struct pm_cidr_list, from a list of strings */
	CT_STRLIST,      /* char ** and a size_t count (count_off), from a list of strings */
	CT_BOOL,         /* bool, from true or false */
	CT_QUARANTINE,   /* enum pm_quarantine, by name */
	CT_DNSBL_ACTION, /* enum pm_dnsbl_action, by name */
	CT_DISCOVERY,    /* enum dmarc_discovery, by name */
	CT_GROUPLIST,    /* an array of elem_size structs and a size_t count (count_off), from
	                    a list of groups; the CF_MEMBER entries after it say what a group holds */
	CT_OPT_MODE,     /* int: an enum pm_mode by name, or -1 for "" (not given) */
	CT_ENUM,         /* an enum (int-sized), by the index of its name in names[nnames] */
};

/* flags */
#define CF_EMPTY_NULL 0x01 /* CT_STRING: "" is stored as NULL */
#define CF_4XX_ONLY   0x02 /* CT_REPLY: must be a 4xx reply */
#define CF_NO_REJECT  0x04 /* CT_ACTION: "reject" is not allowed */
#define CF_MEMBER     0x08 /* in each group of the CT_GROUPLIST before it; required */
#define CF_UNIQUE     0x10 /* CF_MEMBER string: no two elements may share a value */
#define CF_OPTIONAL   0x20 /* CF_MEMBER: may be left out of a group (then its default) */

/*
 * A validator sees a private copy of one string value (for lists, of one
 * element); it may rewrite it (free and replace *value, or change it in
 * place). It returns NULL when the value is good, or an error message,
 * static or written into buf.
 */
typedef const char *(*cfg_check_fn)(char **value, char *buf, size_t bufsize);

/* Where a value came from, for error messages. */
struct origin {
	const char *file;
	int line; /* 0: a built-in default */
};

/* One load in progress. */
struct loader {
	const char *path;
	struct policy *p;
	struct config_errors *errs;
	bool *seen;           /* [cfg_nsettings]: the key was in the file */
	struct origin *where; /* [cfg_nsettings]: where, for each key seen */
};

/*
 * An element check sees one element of a list of groups whose members
 * converted without error (idx from 0, o the group's origin) and records
 * its own errors (the element is then dropped).
 */
typedef void (*cfg_elem_fn)(struct loader *ld, char *elem, const struct origin *o, int idx);

struct cfg_key {
	const char *name; /* dotted */
	enum cfg_type type;
	unsigned flags;
	const char *def;  /* default as the file would write it; lists: space-separated */
	size_t off;       /* offsetof(struct policy, field); CF_MEMBER: within one element */
	size_t count_off; /* CT_STRLIST, CT_GROUPLIST: offsetof the element count */
	int min, max;     /* CT_INT */
	size_t elem_size; /* CT_GROUPLIST: the size of one element */
	cfg_check_fn check;
	cfg_elem_fn elem_check;   /* CT_GROUPLIST: checks across the members of one element */
	const char *const *names; /* CT_ENUM: the value names, indexed by the enum */
	size_t nnames;
	const char *what; /* CT_ENUM: what a value is, for "unknown WHAT" messages */
};

/* config_keys.c: the table and what reads values for it */

/* Every key of the policy file, in the order of conf/policy-milter.conf. */
extern const struct cfg_key cfg_settings[];
extern const size_t cfg_nsettings;

/* The names of dmarc.quarantine and dnsbl.zones.action values, by enum value. */
extern const char *const cfg_quarantine_names[PM_QUARANTINE_HOLD + 1];
extern const char *const cfg_discovery_names[DMARC_DISCOVERY_PSL + 1];
extern const char *const cfg_dnsbl_action_names[PM_DNSBL_TAG + 1];

/* The names of state.backend, state.on_failure and ratelimits key, count and action values. */
extern const char *const cfg_state_backend_names[STATE_REDIS + 1];
extern const char *const cfg_state_failure_names[STATE_FAIL_TEMPFAIL + 1];
extern const char *const cfg_rl_key_names[RL_KEY_RECIPIENT + 1];
extern const char *const cfg_rl_count_names[RL_COUNT_RECIPIENTS + 1];
extern const char *const cfg_rl_action_names[RL_ACT_LOG + 1];

/* cfg_find_key - the table entry for a dotted name, or NULL */
const struct cfg_key *cfg_find_key(const char *dotted);

/*
 * cfg_reply_parse - parse "CODE X.Y.Z text" into *r (text copied). Returns
 * NULL, or an error message (static or in buf) and *r untouched.
 */
const char *cfg_reply_parse(const char *s, bool only_4xx, struct pm_reply *r, char *buf,
                            size_t bufsize);

/*
 * cfg_names_text - "off, log, tag or enforce": the n names joined for a
 * message, each between before and after; into buf, which is returned
 */
const char *cfg_names_text(const char *const *names, size_t n, const char *before,
                           const char *after, const char *sep, const char *last, char *buf,
                           size_t bufsize);

/* config_load.c: errors */

/* cfg_err_add - record one error at o (NULL: the policy file) for key */
void cfg_err_add(struct loader *ld, const struct origin *o, const char *key, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));

/* cfg_key_origin - where the named key was set, or its built-in default */
struct origin cfg_key_origin(const struct loader *ld, const char *name);

/* config_check.c: checks that span several keys */

/*
 * cfg_check_override - one group of overrides: exactly one of
 * for_sender_domain and for_recipient_domain, and one check key at least
 */
void cfg_check_override(struct loader *ld, char *elem, const struct origin *o, int idx);

/*
 * cfg_check_dmarc - the public suffix list usable whenever it is needed
 * (and loaded into the snapshot then), and no domain both never refused
 * and always rejected
 */
void cfg_check_dmarc(struct loader *ld);

/* cfg_check_metrics - metrics.listen well-formed, loopback unless metrics.allow_public */
void cfg_check_metrics(struct loader *ld);
/* cfg_check_socket_dir - a unix milter.socket not in a world-writable directory */
void cfg_check_socket_dir(struct loader *ld);

/*
 * cfg_check_ratelimit - one rate-limit rule (ratelimits): no more than
 * PM_RATELIMIT_RULES_MAX of them
 */
void cfg_check_ratelimit(struct loader *ld, char *elem, const struct origin *o, int idx);

/*
 * cfg_check_state - the store and greylisting settings together: a Redis
 * server for backend "redis", greylisting.delay shorter than
 * retry_window, and lifetime no shorter than retry_window
 */
void cfg_check_state(struct loader *ld);

#endif
