/*
 * NAME
 *	record 3 - decode one line of the JSON lines decision log
 * SYNOPSIS
 *	#include "record.h"
 *
 *	int record_decode(const char *line, size_t len, struct rec *r, const char **why);
 *	void record_free(struct rec *r);
 *	bool record_not_applied(const struct rec *r);
 *	bool record_refusal(const struct rec *r);
 * DESCRIPTION
 *	A line is a record when it is UTF-8 without NUL bytes, one JSON
 *	object (jansson; duplicate keys refused), "v" is the integer 1, and
 *	every key of schema version 1 is present with its type, as the
 *	daemon's own table of the schema says (pm_schema_keys, decision.h:
 *	the keys it marks required, and the optional ones when present;
 *	the same source file is compiled into both programs): "time" an
 *	RFC 3339 string; "queue_id", "helo", "sender", "check", "reason",
 *	"rule", "detail" a string or null; "stage" and "action" one of their
 *	names; "client" an object with "addr", "name", "iprev" (string or
 *	null); "recipients" an array of strings; "checks" an object whose
 *	"helo_spf", "spf" and "dmarc" members, when present, are objects
 *	with a string "result" and a string-or-null "domain", and whose
 *	"dkim" member is an array of such objects; "dnsbl" an array;
 *	"would" and "dry_run" booleans; "reply" null or an object with
 *	"code" (an integer 200..599, or null when the reply text had none),
 *	"xcode" and "text" (string or null).
 *	"checks"."greylist" and "checks"."ratelimit" (issue 16) are arrays
 *	of objects read element by element, as the contract writes them:
 *	greylist {state (new, early, passed, known, auto, skipped, error),
 *	network, sender, recipient (strings; required for new, early and
 *	passed), age, retry_in (integers 0..315360000 or null), backend,
 *	skip}; ratelimit {rule, key (an rl_key name), value, state (ok,
 *	over, error) (strings, required), count, limit (integers
 *	0..4294967295 or null), window (0..315360000 or null), action,
 *	backend}. Strings there are at most 1024 bytes without NUL. An
 *	element that breaks this (or a member that is not an array) is
 *	left out and counted (rec.state_skipped), the record still counts.
 *	Unknown keys, anywhere, are ignored. A string the report groups by
 *	(address, sender, recipient, domain, check, reason, xcode) must not
 *	hold an escaped NUL (\u0000).
 * DIAGNOSTICS
 *	record_decode() returns -1 and a description ("not JSON", "missing
 *	or mistyped key: time", ...) in a static buffer that the next call
 *	overwrites.
 */
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../decision.h"
#include "../util.h"
#include "record.h"
#include "timefmt.h"

const char *const *const rec_action_names = pm_decision_actions;

static char why_buf[256];

/* rec_action_parse - enum rec_action of a name, or -1 */
int rec_action_parse(const char *name)
{
	for (int i = 0; i < REC_ACTIONS && rec_action_names[i] != NULL; i++)
		if (name != NULL && strcmp(name, rec_action_names[i]) == 0)
			return i;
	return -1;
}

/* kind_of - the PM_JSON_ bit of a JSON value */
static unsigned kind_of(const json_t *v)
{
	switch (json_typeof(v)) {
	case JSON_NULL:
		return PM_JSON_NULL;
	case JSON_STRING:
		return PM_JSON_STRING;
	case JSON_INTEGER:
		return PM_JSON_INT;
	case JSON_TRUE:
	case JSON_FALSE:
		return PM_JSON_BOOL;
	case JSON_OBJECT:
		return PM_JSON_OBJECT;
	case JSON_ARRAY:
		return PM_JSON_ARRAY;
	default:
		return 0; /* real */
	}
}

/* bad - set the static description "what: where" and return -1 */
static int bad(const char **why, const char *what, const char *where)
{
	snprintf(why_buf, sizeof(why_buf), "%s: %s", what, where);
	*why = why_buf;
	return -1;
}

/* kind_ok - v holds one of the kinds k allows */
static bool kind_ok(const json_t *v, const struct pm_schema_key *k)
{
	return v != NULL && (kind_of(v) & k->kinds) != 0;
}

/*
 * required_list - the required members of parent, "a, b or c": with
 * their whole paths ("client.addr, ...") or their last names ("result or domain")
 */
static const char *required_list(const char *parent, bool whole, char *buf, size_t size)
{
	size_t n = 0, len = 0, i, k = 0;

	for (i = 0; i < pm_schema_nkeys; i++)
		if (pm_schema_keys[i].presence == PM_KEY_REQUIRED &&
		    pm_schema_member_of(&pm_schema_keys[i], parent))
			n++;
	buf[0] = '\0';
	for (i = 0; i < pm_schema_nkeys; i++) {
		const struct pm_schema_key *s = &pm_schema_keys[i];

		if (s->presence != PM_KEY_REQUIRED || !pm_schema_member_of(s, parent))
			continue;
		k++;
		len += (size_t)snprintf(buf + len, len < size ? size - len : 0, "%s%s",
		                        k == 1   ? ""
		                        : k == n ? " or "
		                                 : ", ",
		                        whole ? s->path : pm_schema_leaf(s->path));
		if (len >= size)
			break;
	}
	return buf;
}

/*
 * members_ok - every required member of obj, the object at parent, is
 * there with a kind the schema allows; the name of the first that is
 * not, or NULL
 */
static const char *members_ok(json_t *obj, const char *parent)
{
	for (size_t i = 0; i < pm_schema_nkeys; i++) {
		const struct pm_schema_key *k = &pm_schema_keys[i];

		if (k->presence == PM_KEY_REQUIRED && pm_schema_member_of(k, parent) &&
		    !kind_ok(json_object_get(obj, pm_schema_leaf(k->path)), k))
			return k->path;
	}
	return NULL;
}

/* elements_ok - every element of arr, the array at path, has a kind its path[] allows */
static bool elements_ok(json_t *arr, const char *path)
{
	char elem[64];
	const struct pm_schema_key *k;
	json_t *e;
	size_t i;

	snprintf(elem, sizeof(elem), "%s[]", path);
	if ((k = pm_schema_find(elem)) == NULL || k->presence != PM_KEY_REQUIRED)
		return true;
	json_array_foreach(arr, i, e)
	{
		if (!kind_ok(e, k))
			return false;
	}
	return true;
}

/* not_a - "not a string", "not an object", ... for the kind k wants */
static const char *not_a(const char *path)
{
	const struct pm_schema_key *k = pm_schema_find(path);
	unsigned kinds = k != NULL ? k->kinds & ~(unsigned)PM_JSON_NULL : 0;

	if (kinds == PM_JSON_OBJECT)
		return "not an object";
	if (kinds == PM_JSON_ARRAY)
		return "not an array";
	return "not a string";
}

/* text - the string's text, or NULL for null; *nul set when it holds a NUL */
static const char *text(const json_t *v, bool *nul)
{
	if (!json_is_string(v))
		return NULL;
	if (strlen(json_string_value(v)) != json_string_length(v))
		*nul = true;
	return json_string_value(v);
}

/* decode_check - one check object at path (e.g. "checks.spf", "checks.dkim[]") of check name */
static int decode_check(json_t *obj, struct rec_check *c, const char *path, const char *name,
                        bool *nul, const char **why)
{
	char what[160], list[96];

	if (!kind_ok(obj, pm_schema_find(path)))
		return bad(why, not_a(path), name);
	if (members_ok(obj, path) != NULL) {
		snprintf(what, sizeof(what), "missing or mistyped %s in checks",
		         required_list(path, false, list, sizeof(list)));
		return bad(why, what, name);
	}
	c->ran = true;
	c->result = text(json_object_get(obj, "result"), nul);
	c->domain = text(json_object_get(obj, "domain"), nul);
	return 0;
}

const char *const rec_gl_state_names[GL_STATES] = {"new",  "early",   "passed", "known",
                                                   "auto", "skipped", "error"};
static const char *const rl_state_names[RL_STATES] = {"ok", "over", "error"};
static const char *const rl_key_names[] = {"client_address", "client_network", "sender",
                                           "sender_domain",  "sasl_user",      "recipient"};

/* Bounds of the members of checks.greylist[] and checks.ratelimit[]. */
#define STATE_MAX_STRING  1024       /* bytes of a string member */
#define STATE_MAX_SECONDS 315360000  /* age, retry_in, window: ten years */
#define STATE_MAX_COUNT   4294967295 /* count, limit */

/* name_index - the index of a string's value among the n names, or -1 */
static int name_index(const json_t *v, const char *const *names, int n)
{
	for (int i = 0; json_is_string(v) && i < n; i++)
		if (strcmp(json_string_value(v), names[i]) == 0)
			return i;
	return -1;
}

/*
 * state_str - member name of element e: a string of at most
 * STATE_MAX_STRING bytes without NUL (*out), or null or absent (*out
 * NULL) unless required; 0, or -1 with *why set
 */
static int state_str(json_t *e, const char *name, bool required, const char **out, const char **why)
{
	json_t *v = json_object_get(e, name);

	*out = NULL;
	if (v == NULL || json_is_null(v)) {
		if (required)
			return bad(why, "missing member", name);
		return 0;
	}
	if (!json_is_string(v))
		return bad(why, "mistyped member", name);
	if (json_string_length(v) > STATE_MAX_STRING ||
	    strlen(json_string_value(v)) != json_string_length(v))
		return bad(why, "string too long or with NUL", name);
	*out = json_string_value(v);
	return 0;
}

/* state_int - member name of e: an integer 0..max (*out), or null or absent (*out -1) */
static int state_int(json_t *e, const char *name, long long max, long long *out, const char **why)
{
	json_t *v = json_object_get(e, name);

	*out = -1;
	if (v == NULL || json_is_null(v))
		return 0;
	if (!json_is_integer(v))
		return bad(why, "mistyped member", name);
	if (json_integer_value(v) < 0 || json_integer_value(v) > max)
		return bad(why, "out of range", name);
	*out = (long long)json_integer_value(v);
	return 0;
}

/* decode_gl - one element of checks.greylist[] into *g; -1 and *why when unusable */
static int decode_gl(json_t *e, struct rec_greylist *g, const char **why)
{
	const char *scratch;
	long long n;
	int st;

	if (!json_is_object(e))
		return bad(why, "not an object", "element");
	if ((st = name_index(json_object_get(e, "state"), rec_gl_state_names, GL_STATES)) < 0)
		return bad(why, "missing or unknown", "state");
	g->state = (enum rec_gl_state)st;
	if (state_str(e, "network", st <= GL_PASSED, &g->network, why) < 0 ||
	    state_str(e, "sender", st <= GL_PASSED, &g->sender, why) < 0 ||
	    state_str(e, "recipient", st <= GL_PASSED, &g->recipient, why) < 0 ||
	    state_str(e, "backend", false, &scratch, why) < 0 ||
	    state_str(e, "skip", false, &scratch, why) < 0 ||
	    state_int(e, "retry_in", STATE_MAX_SECONDS, &n, why) < 0 ||
	    state_int(e, "age", STATE_MAX_SECONDS, &g->age, why) < 0)
		return -1;
	return 0;
}

/* decode_rl - one element of checks.ratelimit[] into *l; -1 and *why when unusable */
static int decode_rl(json_t *e, struct rec_ratelimit *l, const char **why)
{
	const char *scratch;
	long long n;
	int st;

	if (!json_is_object(e))
		return bad(why, "not an object", "element");
	if ((st = name_index(json_object_get(e, "state"), rl_state_names, RL_STATES)) < 0)
		return bad(why, "missing or unknown", "state");
	l->state = (enum rec_rl_state)st;
	if (name_index(json_object_get(e, "key"), rl_key_names,
	               (int)(sizeof(rl_key_names) / sizeof(rl_key_names[0]))) < 0)
		return bad(why, "missing or unknown", "key");
	if (state_str(e, "rule", true, &l->rule, why) < 0 ||
	    state_str(e, "key", true, &l->key, why) < 0 ||
	    state_str(e, "value", true, &l->value, why) < 0 ||
	    state_str(e, "action", false, &scratch, why) < 0 ||
	    state_str(e, "backend", false, &scratch, why) < 0 ||
	    state_int(e, "count", STATE_MAX_COUNT, &n, why) < 0 ||
	    state_int(e, "limit", STATE_MAX_COUNT, &n, why) < 0 ||
	    state_int(e, "window", STATE_MAX_SECONDS, &n, why) < 0)
		return -1;
	if (*l->rule == '\0')
		return bad(why, "empty", "rule");
	return 0;
}

/* state_skip - count an element (or member) left out; keep the first reason */
static void state_skip(struct rec *r, const char *where, const char *why)
{
	static char first[300];

	if (r->state_skipped++ == 0) {
		snprintf(first, sizeof(first), "%s: %s", where, why);
		r->state_why = first;
	}
}

/*
 * decode_state - checks.greylist and checks.ratelimit: the usable
 * elements into r; the others (and a member that is not an array) skipped
 */
static void decode_state(json_t *checks, struct rec *r)
{
	json_t *gl = json_object_get(checks, "greylist"),
	       *rl = json_object_get(checks, "ratelimit");
	const char *why;
	json_t *e;
	size_t i;

	if (gl != NULL && !json_is_array(gl))
		state_skip(r, "checks.greylist", "not an array");
	if (json_array_size(gl) > 0) {
		r->greylist = xcalloc(json_array_size(gl), sizeof(*r->greylist));
		json_array_foreach(gl, i, e)
		{
			if (decode_gl(e, &r->greylist[r->ngreylist], &why) == 0)
				r->ngreylist++;
			else
				state_skip(r, "checks.greylist[]", why);
		}
	}
	if (rl != NULL && !json_is_array(rl))
		state_skip(r, "checks.ratelimit", "not an array");
	if (json_array_size(rl) > 0) {
		r->ratelimit = xcalloc(json_array_size(rl), sizeof(*r->ratelimit));
		json_array_foreach(rl, i, e)
		{
			if (decode_rl(e, &r->ratelimit[r->nratelimit], &why) == 0)
				r->nratelimit++;
			else
				state_skip(r, "checks.ratelimit[]", why);
		}
	}
}

/* check_slot - where the report keeps the check of that name; NULL for one it does not keep */
static struct rec_check *check_slot(struct rec *r, const char *name)
{
	if (strcmp(name, "helo_spf") == 0)
		return &r->helo_spf;
	if (strcmp(name, "spf") == 0)
		return &r->spf;
	if (strcmp(name, "dmarc") == 0)
		return &r->dmarc;
	return NULL;
}

/* decode_sigs - a "checks" member that is an array of check objects (dkim: one per signature) */
static int decode_sigs(json_t *arr, struct rec *r, const struct pm_schema_key *k, bool *nul,
                       const char **why)
{
	const char *name = pm_schema_leaf(k->path);
	struct rec_check sig;
	char elem[64];
	json_t *e;
	size_t i;

	if (!kind_ok(arr, k))
		return bad(why, not_a(k->path), name);
	snprintf(elem, sizeof(elem), "%s[]", k->path);
	r->dkim_ran = r->dkim_ran || strcmp(name, "dkim") == 0;
	json_array_foreach(arr, i, e)
	{
		memset(&sig, 0, sizeof(sig));
		if (decode_check(e, &sig, elem, name, nul, why) < 0)
			return -1;
		if (strcmp(name, "dkim") == 0 && strcmp(sig.result, "pass") == 0)
			r->dkim_pass = true;
	}
	return 0;
}

/* decode_checks - the "checks" object: each optional member the schema lists, when present */
static int decode_checks(json_t *checks, struct rec *r, bool *nul, const char **why)
{
	for (size_t i = 0; i < pm_schema_nkeys; i++) {
		const struct pm_schema_key *k = &pm_schema_keys[i];
		const char *name = pm_schema_leaf(k->path);
		struct rec_check scratch, *c;
		json_t *v;

		if (k->presence != PM_KEY_OPTIONAL || !pm_schema_member_of(k, "checks") ||
		    (v = json_object_get(checks, name)) == NULL)
			continue;
		if (strcmp(name, "greylist") == 0 || strcmp(name, "ratelimit") == 0)
			continue; /* decode_state, element by element */
		if (k->kinds == PM_JSON_ARRAY) {
			if (decode_sigs(v, r, k, nul, why) < 0)
				return -1;
			continue;
		}
		memset(&scratch, 0, sizeof(scratch));
		c = check_slot(r, name);
		if (decode_check(v, c != NULL ? c : &scratch, k->path, name, nul, why) < 0)
			return -1;
	}
	return 0;
}

/* decode_client - the "client" object */
static int decode_client(json_t *client, struct rec *r, bool *nul, const char **why)
{
	char list[128];

	if (members_ok(client, "client") != NULL)
		return bad(why, "missing or mistyped key",
		           required_list("client", true, list, sizeof(list)));
	r->client = text(json_object_get(client, "addr"), nul);
	return 0;
}

/* decode_reply - the "reply" object (not null) */
static int decode_reply(json_t *reply, struct rec *r, bool *nul, const char **why)
{
	json_t *code = json_object_get(reply, "code");
	char list[128];

	if (members_ok(reply, "reply") != NULL)
		return bad(why, "missing or mistyped key",
		           required_list("reply", true, list, sizeof(list)));
	if (json_is_integer(code) &&
	    (json_integer_value(code) < 200 || json_integer_value(code) > 599))
		return bad(why, "out of range", "reply.code");
	r->has_reply = true;
	r->reply_code = json_is_integer(code) ? (int)json_integer_value(code) : 0;
	r->reply_xcode = text(json_object_get(reply, "xcode"), nul);
	return 0;
}

/* decode_enum - the index of the top-level string key among the values the schema allows, or -1 */
static int decode_enum(json_t *doc, const char *key)
{
	const struct pm_schema_key *k = pm_schema_find(key);
	json_t *v = json_object_get(doc, key);

	for (int i = 0; k != NULL && k->values != NULL && k->values[i] != NULL; i++)
		if (json_is_string(v) && strcmp(json_string_value(v), k->values[i]) == 0)
			return i;
	return -1;
}

/* decode_doc - fill r from the parsed top-level object */
static int decode_doc(json_t *doc, struct rec *r, const char **why)
{
	json_t *v = json_object_get(doc, "v"), *e;
	const char *missing;
	bool nul = false;
	int stage, action;
	size_t i;

	if (v == NULL)
		return bad(why, "missing key", "v");
	if (!json_is_integer(v))
		return bad(why, "mistyped key", "v");
	if (json_integer_value(v) != PM_SCHEMA_VERSION)
		return bad(why, "unsupported schema version", "v");
	if ((missing = members_ok(doc, "")) != NULL)
		return bad(why, "missing or mistyped key", missing);
	if (timefmt_parse_rfc3339(json_string_value(json_object_get(doc, "time")), &r->time_ms) < 0)
		return bad(why, "not an RFC 3339 time", "time");
	if ((stage = decode_enum(doc, "stage")) < 0)
		return bad(why, "unknown value", "stage");
	r->stage = (enum rec_stage)stage;
	if ((action = decode_enum(doc, "action")) < 0)
		return bad(why, "unknown value", "action");
	r->action = (enum rec_action)action;
	r->would = json_is_true(json_object_get(doc, "would"));
	r->dry_run = json_is_true(json_object_get(doc, "dry_run"));
	if (decode_client(json_object_get(doc, "client"), r, &nul, why) < 0)
		return -1;
	v = json_object_get(doc, "recipients");
	if (!elements_ok(v, "recipients"))
		return bad(why, not_a("recipients[]"), "recipients");
	r->nrcpts = json_array_size(v);
	r->rcpts = xcalloc(r->nrcpts, sizeof(*r->rcpts));
	json_array_foreach(v, i, e)
	{
		r->rcpts[i] = text(e, &nul);
	}
	if (decode_checks(json_object_get(doc, "checks"), r, &nul, why) < 0)
		return -1;
	decode_state(json_object_get(doc, "checks"), r);
	v = json_object_get(doc, "reply");
	if (json_is_object(v) && decode_reply(v, r, &nul, why) < 0)
		return -1;
	r->sender = text(json_object_get(doc, "sender"), &nul);
	r->check = text(json_object_get(doc, "check"), &nul);
	r->reason = text(json_object_get(doc, "reason"), &nul);
	if (nul)
		return bad(why, "escaped NUL", "in a string the report groups by");
	if (r->sender != NULL && strcmp(r->sender, "<>") != 0) {
		const char *at = strrchr(r->sender, '@');

		if (at != NULL && at[1] != '\0')
			r->sender_dom = at + 1;
	}
	return 0;
}

/* record_decode - one line into *r; -1 and *why when it is not a version 1 record */
int record_decode(const char *line, size_t len, struct rec *r, const char **why)
{
	json_error_t err;
	json_t *doc;

	memset(r, 0, sizeof(*r));
	if (memchr(line, '\0', len) != NULL)
		return bad(why, "not a record", "NUL byte");
	if (!pm_utf8_valid((const unsigned char *)line, len))
		return bad(why, "not a record", "not UTF-8");
	doc = json_loadb(line, len, JSON_REJECT_DUPLICATES | JSON_ALLOW_NUL, &err);
	if (doc == NULL)
		return bad(why, "not JSON", err.text);
	if (!json_is_object(doc)) {
		json_decref(doc);
		return bad(why, "not a record", "not a JSON object");
	}
	r->doc = doc;
	if (decode_doc(doc, r, why) < 0) {
		record_free(r);
		return -1;
	}
	return 0;
}

/* record_free - release the document and the recipient array */
void record_free(struct rec *r)
{
	if (r->doc != NULL)
		json_decref((json_t *)r->doc);
	free(r->rcpts);
	free(r->greylist);
	free(r->ratelimit);
	memset(r, 0, sizeof(*r));
}

/* record_not_applied - would, or a dry-run decision other than accept */
bool record_not_applied(const struct rec *r)
{
	return r->would || (r->dry_run && r->action != REC_ACCEPT);
}

/* record_refusal - reject or tempfail */
bool record_refusal(const struct rec *r)
{
	return r->action == REC_REJECT || r->action == REC_TEMPFAIL;
}
