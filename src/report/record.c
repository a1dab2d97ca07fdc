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
 *	every key of schema version 1 is present with its type: "time" an
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

#include "../util.h"
#include "record.h"
#include "timefmt.h"

const char *const rec_action_names[REC_ACTIONS] = {"accept", "reject", "tempfail", "quarantine",
                                                   "hold"};

static const char *const stage_names[] = {"connect", "helo", "mail", "rcpt", "eom"};

/* Kinds a key may hold (a bit mask). */
enum {
	K_NULL = 1,
	K_STR = 2,
	K_INT = 4,
	K_BOOL = 8,
	K_OBJ = 16,
	K_ARR = 32,
};

static char why_buf[256];

/* rec_action_parse - enum rec_action of a name, or -1 */
int rec_action_parse(const char *name)
{
	for (int i = 0; i < REC_ACTIONS; i++)
		if (name != NULL && strcmp(name, rec_action_names[i]) == 0)
			return i;
	return -1;
}

/* kind_of - the K_ bit of a JSON value */
static int kind_of(const json_t *v)
{
	switch (json_typeof(v)) {
	case JSON_NULL:
		return K_NULL;
	case JSON_STRING:
		return K_STR;
	case JSON_INTEGER:
		return K_INT;
	case JSON_TRUE:
	case JSON_FALSE:
		return K_BOOL;
	case JSON_OBJECT:
		return K_OBJ;
	case JSON_ARRAY:
		return K_ARR;
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

/* member - obj.key when present and of one of the kinds; NULL otherwise */
static json_t *member(json_t *obj, const char *key, int kinds)
{
	json_t *v = json_object_get(obj, key);

	if (v == NULL || (kind_of(v) & kinds) == 0)
		return NULL;
	return v;
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

/* decode_check - one "checks" member object: result and domain */
static int decode_check(json_t *obj, struct rec_check *c, const char *name, bool *nul,
                        const char **why)
{
	json_t *result = member(obj, "result", K_STR);
	json_t *domain = member(obj, "domain", K_STR | K_NULL);

	if (!json_is_object(obj))
		return bad(why, "not an object", name);
	if (result == NULL || domain == NULL)
		return bad(why, "missing or mistyped result or domain in checks", name);
	c->ran = true;
	c->result = text(result, nul);
	c->domain = text(domain, nul);
	return 0;
}

/* decode_checks - the "checks" object */
static int decode_checks(json_t *checks, struct rec *r, bool *nul, const char **why)
{
	struct rec_check sig;
	json_t *v, *e;
	size_t i;

	if ((v = json_object_get(checks, "helo_spf")) != NULL &&
	    decode_check(v, &r->helo_spf, "helo_spf", nul, why) < 0)
		return -1;
	if ((v = json_object_get(checks, "spf")) != NULL &&
	    decode_check(v, &r->spf, "spf", nul, why) < 0)
		return -1;
	if ((v = json_object_get(checks, "dmarc")) != NULL &&
	    decode_check(v, &r->dmarc, "dmarc", nul, why) < 0)
		return -1;
	if ((v = json_object_get(checks, "dkim")) != NULL) {
		if (!json_is_array(v))
			return bad(why, "not an array", "dkim");
		r->dkim_ran = true;
		json_array_foreach(v, i, e)
		{
			memset(&sig, 0, sizeof(sig));
			if (decode_check(e, &sig, "dkim", nul, why) < 0)
				return -1;
			if (strcmp(sig.result, "pass") == 0)
				r->dkim_pass = true;
		}
	}
	return 0;
}

/* decode_client - the "client" object */
static int decode_client(json_t *client, struct rec *r, bool *nul, const char **why)
{
	json_t *addr = member(client, "addr", K_STR | K_NULL);

	if (addr == NULL || member(client, "name", K_STR | K_NULL) == NULL ||
	    member(client, "iprev", K_STR | K_NULL) == NULL)
		return bad(why, "missing or mistyped key",
		           "client.addr, client.name or client.iprev");
	r->client = text(addr, nul);
	return 0;
}

/* decode_reply - the "reply" object (not null) */
static int decode_reply(json_t *reply, struct rec *r, bool *nul, const char **why)
{
	json_t *code = member(reply, "code", K_INT | K_NULL);
	json_t *xcode = member(reply, "xcode", K_STR | K_NULL);

	if (code == NULL || xcode == NULL || member(reply, "text", K_STR | K_NULL) == NULL)
		return bad(why, "missing or mistyped key", "reply.code, reply.xcode or reply.text");
	if (json_is_integer(code) &&
	    (json_integer_value(code) < 200 || json_integer_value(code) > 599))
		return bad(why, "out of range", "reply.code");
	r->has_reply = true;
	r->reply_code = json_is_integer(code) ? (int)json_integer_value(code) : 0;
	r->reply_xcode = text(xcode, nul);
	return 0;
}

/* decode_enum - a string member that must be one of names; its index or -1 */
static int decode_enum(json_t *doc, const char *key, const char *const *names, size_t n)
{
	json_t *v = member(doc, key, K_STR);

	for (size_t i = 0; v != NULL && i < n; i++)
		if (strcmp(json_string_value(v), names[i]) == 0)
			return (int)i;
	return -1;
}

/* decode_doc - fill r from the parsed top-level object */
static int decode_doc(json_t *doc, struct rec *r, const char **why)
{
	static const char *const plain[] = {"queue_id", "helo", "sender", "check",
	                                    "reason",   "rule", "detail"};
	static const struct {
		const char *key;
		int kinds;
	} required[] = {
	    {"time", K_STR},           {"stage", K_STR},  {"client", K_OBJ},
	    {"recipients", K_ARR},     {"checks", K_OBJ}, {"dnsbl", K_ARR},
	    {"action", K_STR},         {"would", K_BOOL}, {"dry_run", K_BOOL},
	    {"reply", K_OBJ | K_NULL},
	};
	json_t *v = json_object_get(doc, "v"), *e;
	bool nul = false;
	int stage, action;
	size_t i;

	if (v == NULL)
		return bad(why, "missing key", "v");
	if (!json_is_integer(v))
		return bad(why, "mistyped key", "v");
	if (json_integer_value(v) != 1)
		return bad(why, "unsupported schema version", "v");
	for (i = 0; i < PM_ARRAY_LEN(required); i++)
		if (member(doc, required[i].key, required[i].kinds) == NULL)
			return bad(why, "missing or mistyped key", required[i].key);
	for (i = 0; i < PM_ARRAY_LEN(plain); i++)
		if (member(doc, plain[i], K_STR | K_NULL) == NULL)
			return bad(why, "missing or mistyped key", plain[i]);
	if (timefmt_parse_rfc3339(json_string_value(json_object_get(doc, "time")), &r->time_ms) < 0)
		return bad(why, "not an RFC 3339 time", "time");
	if ((stage = decode_enum(doc, "stage", stage_names, PM_ARRAY_LEN(stage_names))) < 0)
		return bad(why, "unknown value", "stage");
	r->stage = (enum rec_stage)stage;
	if ((action = decode_enum(doc, "action", rec_action_names, REC_ACTIONS)) < 0)
		return bad(why, "unknown value", "action");
	r->action = (enum rec_action)action;
	r->would = json_is_true(json_object_get(doc, "would"));
	r->dry_run = json_is_true(json_object_get(doc, "dry_run"));
	if (decode_client(json_object_get(doc, "client"), r, &nul, why) < 0)
		return -1;
	v = json_object_get(doc, "recipients");
	r->nrcpts = json_array_size(v);
	r->rcpts = xcalloc(r->nrcpts, sizeof(*r->rcpts));
	json_array_foreach(v, i, e)
	{
		if (!json_is_string(e))
			return bad(why, "not a string", "recipients");
		r->rcpts[i] = text(e, &nul);
	}
	if (decode_checks(json_object_get(doc, "checks"), r, &nul, why) < 0)
		return -1;
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
