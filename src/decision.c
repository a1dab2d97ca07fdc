/*
 * NAME
 *	decision 3 - the table of the JSON decision record's keys
 * SYNOPSIS
 *	#include "decision.h"
 *
 *	extern const struct pm_schema_key pm_schema_keys[];
 *	extern const size_t pm_schema_nkeys;
 *	extern const char *const pm_decision_stages[];
 *	extern const char *const pm_decision_actions[];
 *	const struct pm_schema_key *pm_schema_find(const char *path);
 *	const char *pm_schema_leaf(const char *path);
 *	bool pm_schema_member_of(const struct pm_schema_key *k, const char *parent);
 * DESCRIPTION
 *	Schema version 1 of the JSON decision log, as one table: the
 *	daemon's writer (jsonlog.c) is tested against it and the report
 *	tool (src/report/record.c) validates records with it. Pure data:
 *	this file depends on nothing but libc, so both programs compile it.
 * DIAGNOSTICS
 *	None.
 */
#include <string.h>

#include "decision.h"

const char *const pm_decision_stages[] = {"connect", "helo", "mail", "rcpt", "eom", NULL};
const char *const pm_decision_actions[] = {"accept",     "reject", "tempfail",
                                           "quarantine", "hold",   NULL};
static const char *const spf_scopes[] = {"mfrom", "helo", NULL};
static const char *const discoveries[] = {"treewalk", "psl", NULL};
static const char *const pass_fail[] = {"pass", "fail", NULL};
static const char *const arc_results[] = {"none", "pass", "fail", "temperror", NULL};
static const char *const greylist_states[] = {"new",  "early",   "passed", "known",
                                              "auto", "skipped", "error",  NULL};
static const char *const backends_or_null[] = {"lmdb", "redis", NULL};
static const char *const rl_keys[] = {"client_address", "client_network", "sender", "sender_domain",
                                      "sasl_user",      "recipient",      NULL};
static const char *const rl_actions[] = {"tempfail", "reject", "log", NULL};
static const char *const rl_states[] = {"ok", "over", "error", NULL};

#define S  PM_JSON_STRING
#define SN (PM_JSON_STRING | PM_JSON_NULL)
#define R  PM_KEY_REQUIRED
#define W  PM_KEY_WRITTEN
#define O  PM_KEY_OPTIONAL

const struct pm_schema_key pm_schema_keys[] = {
    {"v", PM_JSON_INT, R, NULL},
    {"time", S, R, NULL}, /* RFC 3339 UTC with milliseconds */
    {"queue_id", SN, R, NULL},
    {"stage", S, R, pm_decision_stages},
    {"client", PM_JSON_OBJECT, R, NULL},
    {"client.addr", SN, R, NULL},
    {"client.name", SN, R, NULL},
    {"client.iprev", SN, R, NULL},
    {"mta", PM_JSON_OBJECT, W, NULL},
    {"mta.host", SN, W, NULL},
    {"mta.daemon", SN, W, NULL},
    {"mta.local_addr", SN, W, NULL},
    {"helo", SN, R, NULL},
    {"sender", SN, R, NULL},
    {"recipients", PM_JSON_ARRAY, R, NULL},
    {"recipients[]", S, R, NULL},
    {"checks", PM_JSON_OBJECT, R, NULL},
    {"checks.helo_spf", PM_JSON_OBJECT, O, NULL},
    {"checks.helo_spf.result", S, R, NULL},
    {"checks.helo_spf.domain", SN, R, NULL},
    {"checks.spf", PM_JSON_OBJECT, O, NULL},
    {"checks.spf.result", S, R, NULL},
    {"checks.spf.domain", SN, R, NULL},
    {"checks.spf.scope", S, W, spf_scopes},
    {"checks.dkim", PM_JSON_ARRAY, O, NULL},
    {"checks.dkim[]", PM_JSON_OBJECT, R, NULL},
    {"checks.dkim[].result", S, R, NULL},
    {"checks.dkim[].domain", SN, R, NULL},
    {"checks.dkim[].selector", SN, W, NULL},
    {"checks.dmarc", PM_JSON_OBJECT, O, NULL},
    {"checks.dmarc.result", S, R, NULL},
    {"checks.dmarc.domain", SN, R, NULL},
    {"checks.dmarc.policy", SN, W, NULL},
    {"checks.dmarc.disposition", SN, W, NULL},
    /* RFC 9989 / RFC 9990: what an aggregate report needs (written at end of message) */
    {"checks.dmarc.policy_domain", SN, W, NULL},
    {"checks.dmarc.discovery", S, W, discoveries},
    {"checks.dmarc.published", PM_JSON_OBJECT | PM_JSON_NULL, W, NULL},
    {"checks.dmarc.published.p", SN, W, NULL},
    {"checks.dmarc.published.sp", SN, W, NULL},
    {"checks.dmarc.published.np", SN, W, NULL},
    {"checks.dmarc.published.t", SN, W, NULL},
    {"checks.dmarc.published.psd", SN, W, NULL},
    {"checks.dmarc.published.adkim", SN, W, NULL},
    {"checks.dmarc.published.aspf", SN, W, NULL},
    {"checks.dmarc.published.pct", SN, W, NULL},
    {"checks.dmarc.published.rua", PM_JSON_ARRAY, W, NULL},
    {"checks.dmarc.published.rua[]", S, W, NULL},
    {"checks.dmarc.override", SN, W, NULL},        /* RFC 9990 PolicyOverrideType */
    {"checks.dmarc.override_comment", S, O, NULL}, /* its comment: the ARC sealer */
    {"checks.dmarc.dkim", S, W, pass_fail},        /* an aligned DKIM pass or not */
    {"checks.dmarc.spf", S, W, pass_fail},         /* an aligned SPF pass or not */
    {"checks.arc", PM_JSON_OBJECT, O, NULL},
    {"checks.arc.result", S, R, arc_results},
    {"checks.arc.reason", SN, W, NULL},
    {"checks.arc.oldest_pass", PM_JSON_INT, W, NULL},
    {"checks.arc.sets", PM_JSON_ARRAY, W, NULL},
    {"checks.arc.sets[]", PM_JSON_OBJECT, W, NULL},
    {"checks.arc.sets[].i", PM_JSON_INT, W, NULL},
    {"checks.arc.sets[].d", SN, W, NULL},
    {"checks.arc.sets[].s", SN, W, NULL},
    {"checks.arc.sets[].a", SN, W, NULL},
    {"checks.arc.sets[].cv", SN, W, NULL},
    {"checks.arc.sets[].as", PM_JSON_BOOL, W, NULL},
    {"checks.arc.override", PM_JSON_OBJECT, O, NULL}, /* a trusted sealer's DMARC rescue */
    {"checks.arc.override.sealer", S, R, NULL},
    {"checks.arc.override.instance", PM_JSON_INT, R, NULL},
    {"checks.arc.override.method", S, W, NULL},
    {"checks.arc.override.applied", PM_JSON_BOOL, W, NULL},
    {"checks.greylist", PM_JSON_ARRAY, O, NULL}, /* one per recipient judged */
    {"checks.greylist[]", PM_JSON_OBJECT, R, NULL},
    {"checks.greylist[].state", S, R, greylist_states},
    {"checks.greylist[].network", SN, R, NULL},
    {"checks.greylist[].sender", SN, R, NULL},
    {"checks.greylist[].recipient", SN, R, NULL},
    {"checks.greylist[].age", PM_JSON_INT, O, NULL},
    {"checks.greylist[].retry_in", PM_JSON_INT, O, NULL},
    {"checks.greylist[].backend", SN, R, backends_or_null},
    {"checks.greylist[].skip", S, O, NULL},
    {"checks.ratelimit", PM_JSON_ARRAY, O, NULL},
    {"checks.ratelimit[]", PM_JSON_OBJECT, R, NULL},
    {"checks.ratelimit[].rule", S, R, NULL},
    {"checks.ratelimit[].key", S, R, rl_keys},
    {"checks.ratelimit[].value", S, R, NULL},
    {"checks.ratelimit[].count", PM_JSON_INT | PM_JSON_NULL, R, NULL},
    {"checks.ratelimit[].limit", PM_JSON_INT, R, NULL},
    {"checks.ratelimit[].window", PM_JSON_INT, R, NULL},
    {"checks.ratelimit[].action", S, R, rl_actions},
    {"checks.ratelimit[].state", S, R, rl_states},
    {"checks.ratelimit[].backend", SN, R, backends_or_null},
    {"dnsbl", PM_JSON_ARRAY, R, NULL},
    {"dnsbl[]", PM_JSON_OBJECT, W, NULL},
    {"dnsbl[].zone", SN, W, NULL},
    {"dnsbl[].answer", SN, W, NULL},
    {"action", S, R, pm_decision_actions},
    {"would", PM_JSON_BOOL, R, NULL},
    {"dry_run", PM_JSON_BOOL, R, NULL},
    {"reply", PM_JSON_OBJECT | PM_JSON_NULL, R, NULL},
    {"reply.code", PM_JSON_INT | PM_JSON_NULL, R, NULL}, /* 200..599 */
    {"reply.xcode", SN, R, NULL},
    {"reply.text", SN, R, NULL},
    {"check", SN, R, NULL},
    {"reason", SN, R, NULL},
    {"rule", SN, R, NULL},
    {"detail", SN, R, NULL},
};

const size_t pm_schema_nkeys = sizeof(pm_schema_keys) / sizeof(pm_schema_keys[0]);

#undef S
#undef SN
#undef R
#undef W
#undef O

/* pm_schema_find - the key at path, or NULL */
const struct pm_schema_key *pm_schema_find(const char *path)
{
	for (size_t i = 0; path != NULL && i < pm_schema_nkeys; i++)
		if (strcmp(pm_schema_keys[i].path, path) == 0)
			return &pm_schema_keys[i];
	return NULL;
}

/* pm_schema_leaf - the last name of a path: "addr" of "client.addr" */
const char *pm_schema_leaf(const char *path)
{
	const char *dot = strrchr(path, '.');

	return dot != NULL ? dot + 1 : path;
}

/* pm_schema_member_of - is k a member of the object at parent ("": the record itself)? */
bool pm_schema_member_of(const struct pm_schema_key *k, const char *parent)
{
	size_t n = strlen(parent);

	if (n == 0)
		return strpbrk(k->path, ".[") == NULL;
	return strncmp(k->path, parent, n) == 0 && k->path[n] == '.' &&
	       strpbrk(k->path + n + 1, ".[") == NULL;
}
