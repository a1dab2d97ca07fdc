/*
 * NAME
 *	arc - ARC chain validation (RFC 8617 5.2)
 * DESCRIPTION
 *	STUB: every message is arc=none until the validator lands (issue 15).
 */
#include <stdlib.h>
#include <string.h>

#include "arc.h"
#include "util.h"

struct arc_verifier {
	struct arc_verify_settings set;
};

static const char *const result_names[PM_ARC_NRESULTS] = {"none", "pass", "fail", "temperror"};

const char *pm_arc_result_name(enum pm_arc_result r)
{
	if ((int)r < 0 || r >= PM_ARC_NRESULTS)
		return "unknown";
	return result_names[r];
}

void arc_verify_defaults(struct arc_verify_settings *s)
{
	memset(s, 0, sizeof(*s));
	s->max_sets = ARC_MAX_INSTANCES;
	s->min_key_bits = 1024;
}

struct arc_verifier *arc_verify_new(const struct arc_verify_settings *s, const char *queue_id)
{
	struct arc_verifier *v = xcalloc(1, sizeof(*v));

	(void)queue_id;
	if (s != NULL)
		v->set = *s;
	else
		arc_verify_defaults(&v->set);
	return v;
}

void arc_verify_header(struct arc_verifier *v, const char *name, const char *value)
{
	(void)v;
	(void)name;
	(void)value;
}

void arc_verify_budget(struct arc_verifier *v, struct dns_budget *b)
{
	(void)v;
	(void)b;
}

void arc_verify_eoh(struct arc_verifier *v)
{
	(void)v;
}

void arc_verify_body(struct arc_verifier *v, const unsigned char *bytes, size_t len)
{
	(void)v;
	(void)bytes;
	(void)len;
}

void arc_verify_eom(struct arc_verifier *v, struct arc_result *out)
{
	(void)v;
	memset(out, 0, sizeof(*out));
}

void arc_verify_free(struct arc_verifier *v)
{
	free(v);
}

void arc_result_free(struct arc_result *r)
{
	if (r == NULL)
		return;
	for (size_t i = 0; i < r->n; i++)
		free(r->set[i].aar);
	free(r->set);
	r->set = NULL;
	r->n = 0;
}
