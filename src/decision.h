/*
 * NAME
 *	decision 3h - the decision record, its JSON schema, and its sinks
 * SYNOPSIS
 *	decision.c: the table of the JSON schema keys (no other dependency:
 *	            the report tool compiles the same file)
 *	sink.c:     log_decision and the JSON decision log's lifecycle
 *	            (log.c for the syslog line, jsonlog.c for the JSON line)
 * DESCRIPTION
 *	struct pm_decision holds the facts of one decision. log_decision()
 *	hands it to every sink: one key=value line to syslog
 *	(log_format_decision, log.h) and, when a JSON decision log is open,
 *	one JSON line (jsonlog_format, jsonlog.h). Neither sink knows the
 *	other; sink.c reports what the JSON sink could not write.
 *
 *	pm_schema_keys[] lists every key a JSON record (schema version 1)
 *	may hold, by its dotted path ("client.addr"; the elements of an
 *	array "recipients[]"), with the JSON kinds it may hold, whether it
 *	is always there, and for "stage" and "action" the values allowed.
 *	The writer (jsonlog.c) writes no other key (tests/report checks it
 *	on the writer's output) and policy-milter-report validates records
 *	against the same table.
 */
#ifndef PM_DECISION_H
#define PM_DECISION_H

#include <stdbool.h>
#include <stddef.h>

/* One DKIM signature's outcome, for a decision. */
struct pm_decision_sig {
	const char *result;   /* "pass", "fail", ... (RFC 8601 spelling) */
	const char *domain;   /* d=, or NULL when the signature has none */
	const char *selector; /* s=, or NULL */
};

/* One DNSBL listing, for a decision. */
struct pm_decision_dnsbl {
	const char *zone;   /* "zen.example" */
	const char *answer; /* "127.0.0.2" */
};

/* One ARC set, for a decision. */
struct pm_decision_arc_set {
	unsigned instance;     /* i= */
	const char *domain;    /* the ARC-Seal's d= */
	const char *selector;  /* s= */
	const char *algorithm; /* a= */
	const char *cv;        /* cv= */
	bool as_valid;         /* the seal verified */
};

/* One recipient's greylisting, for a decision (checks.greylist[]). */
struct pm_decision_greylist {
	const char *state;     /* "new", "early", "passed", "known", "auto", "skipped", "error" */
	const char *network;   /* the triplet's client network, or NULL (skipped) */
	const char *sender;    /* normalised sender ("" for the null sender), or NULL */
	const char *recipient; /* normalised recipient, or NULL */
	long age;              /* seconds since first seen; -1: not known */
	long retry_in;         /* new, early: seconds until a retry passes; -1: none */
	const char *backend;   /* "lmdb", "redis", or NULL (skipped: no store asked) */
	const char *skip;      /* skipped: why ("trusted", "authenticated", ...), else NULL */
};

/* One rate-limit rule's count, for a decision (checks.ratelimit[]). */
struct pm_decision_ratelimit {
	const char *rule;   /* the rule's name */
	const char *key;    /* "client_address", "sender", ... */
	const char *value;  /* what it counted by */
	long count;         /* the counter (after the count, or as it stands when over); -1 */
	long limit, window; /* the rule's */
	const char *action; /* "tempfail", "reject", "log" */
	const char *state;  /* "ok", "over", "error" */
	const char *backend;
};

/* A decision; NULL fields (and empty arrays) are left out of the syslog line. */
struct pm_decision {
	const char *queue_id;    /* NULL, "" or "NOQUEUE" when the MTA gave none */
	const char *stage;       /* "connect", "helo", "mail", "rcpt", "eom" */
	const char *client_addr; /* "unknown" when the MTA gave no address (JSON: null) */
	const char *client_name; /* "unknown" or "[addr]": no name (JSON: null) */
	const char *iprev;    /* "pass", "fail", "permerror", "temperror"; NULL when not checked */
	const char *mta_host; /* the MTA's own host name (macro j); NULL when not given */
	const char *mta_daemon; /* the MTA's daemon name ({daemon_name}); NULL when not given */
	const char *local_addr; /* the address the client connected to; NULL when not given */
	const char *helo;
	const char *sender;       /* "<>" for the null sender; NULL before MAIL FROM */
	const char *const *rcpts; /* the one judged (rcpt stage), or every accepted one (eom) */
	size_t nrcpts;
	const char *helo_spf, *helo_spf_domain;
	const char *spf, *spf_domain;
	const char *spf_scope;   /* "mfrom", or "helo" for the null sender's HELO identity */
	const char *header_from; /* the author domain judged by DMARC */
	bool dkim_done;          /* DKIM verification ran (then dkim[] may still be empty) */
	const struct pm_decision_sig *dkim; /* one per signature verified */
	size_t ndkim;
	const char *dmarc, *dmarc_policy, *dmarc_dis; /* result, p= applied, disposition */
	const char *dmarc_pdomain;                    /* the domain whose record applied, or NULL */
	const char *dmarc_discovery;                  /* "treewalk" or "psl" */
	bool dmarc_published;       /* a record applied: dmarc_pub and dmarc_rua say what it said */
	const char *dmarc_pub[8];   /* p sp np t psd adkim aspf pct as published, NULL: absent */
	const char *dmarc_rua;      /* rua= as published (comma-separated), NULL: none */
	const char *dmarc_override; /* RFC 9990 PolicyOverrideType, or NULL */
	const char *dmarc_override_comment; /* its comment (RFC 9990 reason comment), or NULL */
	const char *dmarc_dkim, *dmarc_spf; /* "pass" or "fail": an aligned pass or not */
	const char *arc;          /* "none", "pass", "fail", "temperror"; NULL: not verified */
	const char *arc_reason;   /* why not pass, or NULL */
	unsigned arc_oldest_pass; /* header.oldest-pass (0: none) */
	const struct pm_decision_arc_set *arc_sets; /* the chain, oldest first */
	size_t narc_sets;
	const char *arc_sealer;    /* a trusted sealer's rescue of a DMARC fail: its d=, or NULL */
	unsigned arc_instance;     /* its instance */
	const char *arc_method;    /* what it vouched for: "dmarc", "spf", "dkim" */
	bool arc_override_applied; /* the rescue applied (false: arc.mode log, logged only) */
	const struct pm_decision_dnsbl *dnsbl; /* listings found at connect */
	size_t ndnsbl;
	const struct pm_decision_greylist *greylist; /* rcpt: the recipient judged; eom: every
	                                               accepted recipient greylisting looked at */
	size_t ngreylist;
	const struct pm_decision_ratelimit *ratelimit; /* rcpt: the rule over its limit (or
	                                                  failing); eom: the rules counted */
	size_t nratelimit;
	const char *action; /* "accept", "reject", "tempfail", "quarantine", "hold" */
	bool would;         /* log/tag mode (or dry run): what it would have done */
	bool dry_run;       /* the global dry run turned this refusal into a "would" */
	const char *reply;  /* "550 5.7.23 text" as sent (or as it would have been) */
	const char *check;
	const char *reason;
	const char *rule;
	const char *detail; /* what exactly was wrong, e.g. the syntax error in an address */
};

/* The JSON schema version records carry in "v". */
#define PM_SCHEMA_VERSION 1

/* The JSON kinds a key may hold (a bit mask). */
enum {
	PM_JSON_NULL = 1,
	PM_JSON_STRING = 2,
	PM_JSON_INT = 4,
	PM_JSON_BOOL = 8,
	PM_JSON_OBJECT = 16,
	PM_JSON_ARRAY = 32,
};

/* When a key is there (whenever the object or array holding it is). */
enum pm_key_presence {
	PM_KEY_REQUIRED, /* always written; a record without it is malformed */
	PM_KEY_WRITTEN,  /* always written, but readers do without it (added to version 1
	                    later, or of no use to the report): not validated */
	PM_KEY_OPTIONAL, /* written when its check ran; validated when there */
};

/* One key of the JSON schema. */
struct pm_schema_key {
	const char *path;              /* "client.addr"; an array's elements: "recipients[]" */
	unsigned kinds;                /* PM_JSON_* it may hold */
	enum pm_key_presence presence; /* see above */
	const char *const *values;     /* the strings allowed, NULL-terminated; NULL: any */
};

/* Every key of schema version 1, parents before their members, in the writer's order. */
extern const struct pm_schema_key pm_schema_keys[];
extern const size_t pm_schema_nkeys;

/* The values of "stage" and "action", NULL-terminated, in that order. */
extern const char *const pm_decision_stages[];
extern const char *const pm_decision_actions[];

/* pm_schema_find - the key at path ("reply.code", "checks.dkim[]"), or NULL */
const struct pm_schema_key *pm_schema_find(const char *path);
/* pm_schema_leaf - the last name of a path: "addr" of "client.addr", "result" of
 * "checks.dkim[].result" */
const char *pm_schema_leaf(const char *path);
/*
 * pm_schema_member_of - is k a member of the object at parent ("client",
 * "checks.dkim[]"; "" for the record itself), not one further down?
 */
bool pm_schema_member_of(const struct pm_schema_key *k, const char *parent);

/*
 * log_decision - hand d to every sink: the syslog line (log.h) and, when
 * a JSON decision log is open, the JSON record (jsonlog.h). Never fails
 * the caller; thread-safe. (sink.c)
 */
void log_decision(const struct pm_decision *d);

/*
 * decision_json_open - open (or reopen, or with NULL or "" close) the
 * JSON decision log, first reporting what the one in use lost since the
 * last report; 0, or -1 with why (as jsonlog_open). (sink.c)
 */
int decision_json_open(const char *path, char *why, size_t whysize);

/*
 * decision_json_shutdown - at exit: write what is queued (up to ms) and
 * report (LOG_ERR) the records lost, dropped and not written since
 * start, if any. (sink.c)
 */
void decision_json_shutdown(long ms);

#endif
