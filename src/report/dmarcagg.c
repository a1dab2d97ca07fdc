/*
 * NAME
 *	dmarcagg 3 - group DMARC results into RFC 9990 aggregate reports
 * SYNOPSIS
 *	#include "dmarcagg.h"
 *
 *	void dmarcagg_init(struct agg *a, long long begin, long long end);
 *	void dmarcagg_add(struct agg *a, const struct rec *r);
 *	int dmarcagg_write_xml(FILE *fp, const struct agg *a, const struct agg_domain *d,
 *	                       const struct agg_meta *m);
 *	void dmarcagg_report_id(const char *receiver, const char *domain, long long begin,
 *	                        long long end, char out[17]);
 *	char *xml_escape(const char *s);
 *	void dmarcagg_free(struct agg *a);
 * DESCRIPTION
 *	dmarcagg_add() reads the DMARC facts of a record with jansson lookups
 *	in its document (record.c checks only the keys of the schema table;
 *	the keys read here are optional and a value of another type counts
 *	as absent). Every value written is one the schema
 *	(rfc9990-dmarc-2.0.xsd) allows: an SPF or DKIM result outside its
 *	enumeration is written "permerror", an SPF scope other than "mfrom"
 *	is left out (the schema has no other), a policy value outside
 *	none/quarantine/reject is left out (p then "none").
 * DIAGNOSTICS
 *	dmarcagg_write_xml() returns -1 when the stream has an error.
 */
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../util.h"
#include "dmarcagg.h"

#define MAX_SIGS 100 /* RFC 9990 2.1.5: no more than 100 signatures for a row */

/* str_at - the string at key of obj, or NULL (absent, null or not a string) */
static const char *str_at(json_t *obj, const char *key)
{
	json_t *v = json_object_get(obj, key);

	return json_is_string(v) && json_string_length(v) > 0 ? json_string_value(v) : NULL;
}

/* one_of - s when it is one of the NULL-terminated values, else NULL */
static const char *one_of(const char *s, const char *const *values)
{
	for (size_t i = 0; s != NULL && values[i] != NULL; i++)
		if (strcmp(s, values[i]) == 0)
			return s;
	return NULL;
}

static const char *const dispositions[] = {"none", "quarantine", "reject", NULL};
static const char *const alignments[] = {"r", "s", NULL};
static const char *const discoveries[] = {"psl", "treewalk", NULL};
static const char *const overrides[] = {"local_policy",     "mailing_list",      "other",
                                        "policy_test_mode", "trusted_forwarder", NULL};
static const char *const dkim_results[] = {"none",    "pass",      "fail",      "policy",
                                           "neutral", "temperror", "permerror", NULL};
static const char *const spf_results[] = {"none",    "pass",      "fail",      "softfail", "policy",
                                          "neutral", "temperror", "permerror", NULL};

/* xml_escape - s escaped for XML character data and attributes (caller frees) */
char *xml_escape(const char *s)
{
	struct strbuf sb;

	sb_init(&sb);
	for (; *s != '\0'; s++) {
		unsigned char c = (unsigned char)*s;

		if (c == '&')
			sb_append(&sb, "&amp;");
		else if (c == '<')
			sb_append(&sb, "&lt;");
		else if (c == '>')
			sb_append(&sb, "&gt;");
		else if (c == '"')
			sb_append(&sb, "&quot;");
		else if ((c < 0x20 && c != '\t') || c == 0x7f)
			sb_appendc(&sb, '?');
		else
			sb_appendc(&sb, (char)c);
	}
	return sb_steal(&sb);
}

/* elem - append <name>escaped value</name> (nothing when value is NULL) */
static void elem(struct strbuf *sb, const char *name, const char *value)
{
	char *e;

	if (value == NULL)
		return;
	e = xml_escape(value);
	sb_appendf(sb, "<%s>%s</%s>", name, e, name);
	free(e);
}

/* published_xml - the <policy_published> element from the log's "published" object */
static char *published_xml(const char *domain, json_t *pub, const char *discovery)
{
	const char *p = one_of(str_at(pub, "p"), dispositions);
	const char *t = str_at(pub, "t");
	struct strbuf sb;

	sb_init(&sb);
	sb_append(&sb, "<policy_published>");
	elem(&sb, "domain", domain);
	elem(&sb, "p", p != NULL ? p : "none");
	elem(&sb, "sp", one_of(str_at(pub, "sp"), dispositions));
	elem(&sb, "np", one_of(str_at(pub, "np"), dispositions));
	elem(&sb, "adkim", one_of(str_at(pub, "adkim"), alignments));
	elem(&sb, "aspf", one_of(str_at(pub, "aspf"), alignments));
	elem(&sb, "discovery_method", one_of(discovery, discoveries));
	elem(&sb, "testing", t != NULL && strcmp(t, "y") == 0 ? "y" : "n");
	sb_append(&sb, "</policy_published>");
	return sb_steal(&sb);
}

/* domain_of - the part after the last '@' of an address, or NULL */
static const char *domain_of(const char *addr)
{
	const char *at = addr != NULL ? strrchr(addr, '@') : NULL;

	return at != NULL && at[1] != '\0' && at[1] != '>' ? at + 1 : NULL;
}

/* envelope_to - the recipients' domain when they all share one, else NULL */
static const char *envelope_to(const struct rec *r)
{
	const char *d = NULL;

	for (size_t i = 0; i < r->nrcpts; i++) {
		const char *di = domain_of(r->rcpts[i]);

		if (di == NULL || (d != NULL && !pm_strcaseeq(d, di)))
			return NULL;
		d = di;
	}
	return d;
}

/* sig_rank - RFC 9990 2.1.5's preference: 0 aligned-strict pass, 1 relaxed pass, 2 pass, 3 other */
static int sig_rank(json_t *sig, const char *header_from)
{
	const char *res = str_at(sig, "result"), *d = str_at(sig, "domain");
	size_t ld, lh;

	if (res == NULL || strcmp(res, "pass") != 0)
		return 3;
	if (pm_strcaseeq(d, header_from))
		return 0;
	ld = strlen(d), lh = strlen(header_from);
	if ((lh > ld && header_from[lh - ld - 1] == '.' && pm_strcasesuffix(header_from, d)) ||
	    (ld > lh && d[ld - lh - 1] == '.' && pm_strcasesuffix(d, header_from)))
		return 1;
	return 2;
}

/* auth_results_xml - append <auth_results>: the DKIM signatures by preference, then SPF */
static void auth_results_xml(struct strbuf *sb, json_t *checks, const char *header_from)
{
	json_t *sigs = json_object_get(checks, "dkim"), *spf = json_object_get(checks, "spf"), *sig;
	size_t i, n = 0;

	sb_append(sb, "<auth_results>");
	for (int rank = 0; rank <= 3; rank++) {
		json_array_foreach(sigs, i, sig)
		{
			const char *res = one_of(str_at(sig, "result"), dkim_results);
			const char *sel = str_at(sig, "selector");

			if (n >= MAX_SIGS || str_at(sig, "domain") == NULL ||
			    sig_rank(sig, header_from) != rank)
				continue;
			sb_append(sb, "<dkim>");
			elem(sb, "domain", str_at(sig, "domain"));
			elem(sb, "selector", sel != NULL ? sel : "");
			elem(sb, "result", res != NULL ? res : "permerror");
			sb_append(sb, "</dkim>");
			n++;
		}
	}
	if (json_is_object(spf) && str_at(spf, "domain") != NULL) {
		const char *res = one_of(str_at(spf, "result"), spf_results);
		const char *scope = str_at(spf, "scope");

		sb_append(sb, "<spf>");
		elem(sb, "domain", str_at(spf, "domain"));
		elem(sb, "scope", scope != NULL && strcmp(scope, "mfrom") == 0 ? "mfrom" : NULL);
		elem(sb, "result", res != NULL ? res : "permerror");
		sb_append(sb, "</spf>");
	}
	sb_append(sb, "</auth_results>");
}

/* row_rest_xml - a record's row key: policy_evaluated, identifiers and auth_results */
static char *row_rest_xml(const struct rec *r, json_t *checks, json_t *dmarc,
                          const char *header_from)
{
	const char *result = str_at(dmarc, "result"), *disp;
	const char *dkim = str_at(dmarc, "dkim"), *spf = str_at(dmarc, "spf");
	const char *override = one_of(str_at(dmarc, "override"), overrides);
	const char *comment = str_at(dmarc, "override_comment");
	struct strbuf sb;

	if (result != NULL && strcmp(result, "pass") == 0)
		disp = "pass";
	else if ((disp = one_of(str_at(dmarc, "disposition"), dispositions)) == NULL)
		disp = "none";
	sb_init(&sb);
	sb_append(&sb, "<policy_evaluated>");
	elem(&sb, "disposition", disp);
	elem(&sb, "dkim", dkim != NULL && strcmp(dkim, "pass") == 0 ? "pass" : "fail");
	elem(&sb, "spf", spf != NULL && strcmp(spf, "pass") == 0 ? "pass" : "fail");
	if (override != NULL) {
		sb_append(&sb, "<reason>");
		elem(&sb, "type", override);
		elem(&sb, "comment", comment); /* e.g. the trusted ARC sealer */
		sb_append(&sb, "</reason>");
	}
	sb_append(&sb, "</policy_evaluated></row><identifiers>");
	elem(&sb, "header_from", header_from);
	elem(&sb, "envelope_from", r->sender_dom);
	elem(&sb, "envelope_to", envelope_to(r));
	sb_append(&sb, "</identifiers>");
	auth_results_xml(&sb, checks, header_from);
	return sb_steal(&sb);
}

/* domain_get - the collection's entry for a policy domain, made when new */
static struct agg_domain *domain_get(struct agg *a, const char *name)
{
	struct agg_domain *d;

	for (size_t i = 0; i < a->ndomains; i++)
		if (pm_strcaseeq(a->domains[i]->domain, name))
			return a->domains[i];
	d = xcalloc(1, sizeof(*d));
	d->domain = pm_strlower(xstrdup(name));
	a->domains = xrealloc(a->domains, (a->ndomains + 1) * sizeof(struct agg_domain *));
	a->domains[a->ndomains++] = d;
	return d;
}

/* domain_set_policy - the published policy and rua of the latest record replace the earlier */
static void domain_set_policy(struct agg_domain *d, json_t *pub, json_t *rua, const char *discovery)
{
	json_t *u;
	size_t i;

	free(d->published);
	d->published = published_xml(d->domain, pub, discovery);
	for (i = 0; i < d->nrua; i++)
		free(d->rua[i]);
	free(d->rua);
	d->rua = xcalloc(json_array_size(rua) + 1, sizeof(*d->rua));
	d->nrua = 0;
	json_array_foreach(rua, i, u)
	{
		if (json_is_string(u))
			d->rua[d->nrua++] = xstrdup(json_string_value(u));
	}
}

/* row_count - one more message in d's row (ip, rest); rest moves in */
static void row_count(struct agg_domain *d, const char *ip, char *rest)
{
	size_t b = (size_t)((pm_hash(ip) * 31 + pm_hash(rest)) % 1024);
	struct agg_row *row;

	for (row = d->buckets[b]; row != NULL; row = row->next)
		if (strcmp(row->source_ip, ip) == 0 && strcmp(row->rest, rest) == 0) {
			row->count++;
			free(rest);
			return;
		}
	row = xcalloc(1, sizeof(*row));
	row->source_ip = xstrdup(ip);
	row->rest = rest;
	row->count = 1;
	row->next = d->buckets[b];
	d->buckets[b] = row;
	if (d->nrows == d->rows_cap) {
		d->rows_cap = d->rows_cap ? 2 * d->rows_cap : 16;
		d->rows = xrealloc(d->rows, d->rows_cap * sizeof(struct agg_row *));
	}
	d->rows[d->nrows++] = row;
}

/* dmarcagg_init - an empty collection for [begin, end] */
void dmarcagg_init(struct agg *a, long long begin, long long end)
{
	memset(a, 0, sizeof(*a));
	a->begin = begin;
	a->end = end;
}

/* dmarcagg_add - count an eom record of the period whose policy domain asked for reports */
void dmarcagg_add(struct agg *a, const struct rec *r)
{
	json_t *checks, *dmarc, *pub, *rua;
	const char *result, *pdom, *header_from;
	struct agg_domain *d;

	if (r->stage != REC_EOM || r->time_ms < a->begin * 1000 || r->time_ms > a->end * 1000 + 999)
		return;
	checks = json_object_get((json_t *)r->doc, "checks");
	dmarc = json_object_get(checks, "dmarc");
	result = str_at(dmarc, "result");
	if (result == NULL || (strcmp(result, "pass") != 0 && strcmp(result, "fail") != 0))
		return;
	a->considered++;
	pdom = str_at(dmarc, "policy_domain");
	header_from = str_at(dmarc, "domain");
	pub = json_object_get(dmarc, "published");
	rua = json_object_get(pub, "rua");
	if (pdom == NULL || header_from == NULL || r->client == NULL || !json_is_object(pub) ||
	    json_array_size(rua) == 0) {
		a->no_rua++;
		return;
	}
	d = domain_get(a, pdom);
	domain_set_policy(d, pub, rua, str_at(dmarc, "discovery"));
	row_count(d, r->client, row_rest_xml(r, checks, dmarc, header_from));
	d->messages++;
}

/* dmarcagg_report_id - FNV-1a of "receiver!domain!begin!end", 16 hex digits */
void dmarcagg_report_id(const char *receiver, const char *domain, long long begin, long long end,
                        char out[17])
{
	struct strbuf sb;

	sb_init(&sb);
	sb_appendf(&sb, "%s!%s!%lld!%lld", receiver, domain, begin, end);
	snprintf(out, 17, "%016llx", (unsigned long long)pm_hash(sb.s));
	sb_free(&sb);
}

/* dmarcagg_write_xml - the whole report of d */
int dmarcagg_write_xml(FILE *fp, const struct agg *a, const struct agg_domain *d,
                       const struct agg_meta *m)
{
	struct strbuf sb;

	sb_init(&sb);
	sb_append(&sb, "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n"
	               "<feedback xmlns=\"urn:ietf:params:xml:ns:dmarc-2.0\">\n"
	               "  <version>1.0</version>\n  <report_metadata>");
	elem(&sb, "org_name", m->org_name);
	elem(&sb, "email", m->email);
	elem(&sb, "extra_contact_info", m->extra_contact_info);
	elem(&sb, "report_id", m->report_id);
	sb_appendf(&sb, "<date_range><begin>%lld</begin><end>%lld</end></date_range>", a->begin,
	           a->end);
	elem(&sb, "error", m->error);
	elem(&sb, "generator", "policy-milter-report " PM_VERSION);
	sb_appendf(&sb, "</report_metadata>\n  %s\n", d->published);
	fputs(sb.s, fp);
	sb_free(&sb);
	for (size_t i = 0; i < d->nrows; i++) {
		char *ip = xml_escape(d->rows[i]->source_ip);

		fprintf(fp,
		        "  <record><row><source_ip>%s</source_ip><count>%lld</count>%s</record>\n",
		        ip, d->rows[i]->count, d->rows[i]->rest);
		free(ip);
	}
	fputs("</feedback>\n", fp);
	return ferror(fp) ? -1 : 0;
}

/* dmarcagg_free - release the domains and their rows */
void dmarcagg_free(struct agg *a)
{
	for (size_t i = 0; i < a->ndomains; i++) {
		struct agg_domain *d = a->domains[i];

		for (size_t j = 0; j < d->nrows; j++) {
			free(d->rows[j]->source_ip);
			free(d->rows[j]->rest);
			free(d->rows[j]);
		}
		for (size_t j = 0; j < d->nrua; j++)
			free(d->rua[j]);
		free(d->rua);
		free(d->rows);
		free(d->published);
		free(d->domain);
		free(d);
	}
	free(a->domains);
	memset(a, 0, sizeof(*a));
}
