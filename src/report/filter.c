/*
 * NAME
 *	filter 3 - which records the report counts
 * SYNOPSIS
 *	#include "filter.h"
 *
 *	int filter_add_client(struct filter *f, const char *arg, const char **err);
 *	int filter_add_domain(struct filter *f, const char *arg, const char **err);
 *	int filter_add_action(struct filter *f, const char *arg);
 *	bool filter_match(const struct filter *f, const struct rec *r);
 *	bool domain_at_or_below(const char *dom, const char *parent);
 *	void filter_free(struct filter *f);
 * DESCRIPTION
 *	--client takes an address (a host) or a network, parsed by cidr(3):
 *	an IPv4-mapped IPv6 client address matches IPv4 networks. A record
 *	without a client address, or with one that is not an address, never
 *	matches --client. --domain matches the sender's domain or the DMARC
 *	domain ("checks"."dmarc"."domain") when it equals the argument or
 *	lies below it, label-wise and ignoring ASCII case.
 * DIAGNOSTICS
 *	The filter_add_* functions return -1 for a bad argument.
 */
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "../util.h"
#include "filter.h"

/* filter_add_client - append one address or network */
int filter_add_client(struct filter *f, const char *arg, const char **err)
{
	struct pm_cidr c;

	if (pm_cidr_parse(arg, &c, err) < 0)
		return -1;
	f->clients = xrealloc(f->clients, (f->nclients + 1) * sizeof(*f->clients));
	f->clients[f->nclients++] = c;
	return 0;
}

/* filter_add_domain - append one domain, lower-cased, without a trailing dot */
int filter_add_domain(struct filter *f, const char *arg, const char **err)
{
	size_t n = strlen(arg);
	char *d;

	if (n > 0 && arg[n - 1] == '.')
		n--;
	if (n == 0 || n > 253 || arg[0] == '.' || strstr(arg, "..") != NULL ||
	    strpbrk(arg, " \t@/\\") != NULL) {
		*err = "not a domain name";
		return -1;
	}
	d = pm_strlower(xstrndup(arg, n));
	f->domains = xrealloc(f->domains, (f->ndomains + 1) * sizeof(*f->domains));
	f->domains[f->ndomains++] = d;
	return 0;
}

/* filter_add_action - add one of the schema's action names */
int filter_add_action(struct filter *f, const char *arg)
{
	int a = rec_action_parse(arg);

	if (a < 0)
		return -1;
	f->actions |= 1u << a;
	return 0;
}

/* domain_at_or_below - dom == parent, or dom ends in "." parent */
bool domain_at_or_below(const char *dom, const char *parent)
{
	size_t ld, lp;

	if (dom == NULL)
		return false;
	ld = strlen(dom);
	if (ld > 0 && dom[ld - 1] == '.')
		ld--;
	lp = strlen(parent);
	if (ld < lp || strncasecmp(dom + ld - lp, parent, lp) != 0)
		return false;
	return ld == lp || dom[ld - lp - 1] == '.';
}

/* client_match - the record's client address is in one of the networks */
static bool client_match(const struct filter *f, const struct rec *r)
{
	struct pm_ip ip;

	if (r->client == NULL || pm_ip_parse(r->client, &ip) < 0)
		return false;
	for (size_t i = 0; i < f->nclients; i++)
		if (pm_cidr_match(&f->clients[i], &ip))
			return true;
	return false;
}

/* domain_match - the sender's domain or the DMARC domain is at or below one of the domains */
static bool domain_match(const struct filter *f, const struct rec *r)
{
	for (size_t i = 0; i < f->ndomains; i++)
		if (domain_at_or_below(r->sender_dom, f->domains[i]) ||
		    (r->dmarc.ran && domain_at_or_below(r->dmarc.domain, f->domains[i])))
			return true;
	return false;
}

/* filter_match - every option given matches */
bool filter_match(const struct filter *f, const struct rec *r)
{
	if (f->has_since && r->time_ms < f->since)
		return false;
	if (f->has_until && r->time_ms >= f->until)
		return false;
	if (f->actions != 0 && (f->actions & (1u << r->action)) == 0)
		return false;
	if (f->nclients > 0 && !client_match(f, r))
		return false;
	if (f->ndomains > 0 && !domain_match(f, r))
		return false;
	return true;
}

/* filter_free - release the lists */
void filter_free(struct filter *f)
{
	for (size_t i = 0; i < f->ndomains; i++)
		free(f->domains[i]);
	free(f->domains);
	free(f->clients);
	memset(f, 0, sizeof(*f));
}
