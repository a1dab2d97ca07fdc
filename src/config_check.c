/*
 * NAME
 *	config_check 3 - the policy file's checks that span several keys
 * SYNOPSIS
 *	#include "config_int.h"
 *
 *	void cfg_check_override(struct loader *ld, char *elem,
 *				const struct origin *o, int idx);
 *	void cfg_check_dmarc(struct loader *ld);
 *	void cfg_check_socket_dir(struct loader *ld);
 *	void cfg_check_metrics(struct loader *ld);
 *	void cfg_check_ratelimit(struct loader *ld, char *elem,
 *				 const struct origin *o, int idx);
 *	void cfg_check_state(struct loader *ld);
 * DESCRIPTION
 *	Run by config_load() after every key has its value (from the file or
 *	its default): the public suffix list must be readable, and safe as
 *	the list files are, whenever DMARC (policy_dmarc_on) or
 *	dkim.must_sign can use it, and is then loaded into the snapshot (an
 *	unchanged file's list shared with the current snapshot: psl_load);
 *	no domain may be listed in both dmarc.never_enforce and
 *	dmarc.always_reject; and a unix milter.socket must not be in a
 *	world-writable directory (sticky or not: pm_socket_dir_unsafe).
 *	metrics.listen must be a socket spec metrics_listen_check()
 *	(metrics_http.h) accepts: unless metrics.allow_public, a unix socket
 *	or a loopback address.
 *	The state store and greylisting (cfg_check_state): backend "redis"
 *	needs a state.redis.server; greylisting.delay must be shorter than
 *	greylisting.retry_window, and greylisting.lifetime no shorter than
 *	it. A problem between two keys is reported at the one the file sets
 *	(the first when it sets both).
 *
 *	cfg_check_override is the element check of the overrides list:
 *	exactly one of for_sender_domain and for_recipient_domain, and one
 *	check at least (the check names from pm_check_name).
 *	cfg_check_ratelimit is the element check of the ratelimits list: no
 *	more than PM_RATELIMIT_RULES_MAX rules (each further one is an
 *	error at its own line).
 * DIAGNOSTICS
 *	Every problem is recorded with cfg_err_add at the key it concerns.
 */
#include <limits.h>
#include <stdio.h>
#include <string.h>

#include "config_int.h"
#include "metrics_http.h"
#include "psl.h"
#include "util.h"

/*
 * psl_needed_by - why the policy ld builds needs the public suffix list,
 * into buf (for the error when it cannot be loaded); NULL when it does
 * not: neither DMARC in PSL mode (policy_dmarc_on, dmarc.discovery =
 * "psl") nor dkim.must_sign can run; the tree walk needs no list
 */
static const char *psl_needed_by(const struct policy *p, char *buf, size_t bufsize)
{
	const struct dmarc_settings *d = &p->dmarc;

	if (!policy_dmarc_on(p) || d->discovery != DMARC_DISCOVERY_PSL)
		return p->dkim.nmust_sign > 0
		           ? "dkim.must_sign needs it to align a subdomain with its parent "
		             "domain: install it, e.g. Debian's publicsuffix package"
		           : NULL;
	if (policy_mode(p, PM_CHECK_DMARC) != PM_MODE_OFF)
		return "dmarc.discovery = \"psl\" needs it: install it, e.g. Debian's publicsuffix "
		       "package, or set dmarc.discovery = \"treewalk\"";
	for (size_t i = 0; i < d->ndomain_modes; i++)
		if (d->domain_modes[i].mode != PM_MODE_OFF) {
			snprintf(buf, bufsize,
			         "DMARC needs it: dmarc.domain_modes turns DMARC on for %s",
			         d->domain_modes[i].domain);
			return buf;
		}
	for (size_t i = 0; i < p->noverrides; i++)
		if (p->overrides[i].mode[PM_CHECK_DMARC] > PM_MODE_OFF) {
			const struct pm_override *ov = &p->overrides[i];

			snprintf(buf, bufsize, "DMARC needs it: an override turns DMARC on for %s",
			         ov->sender_domain != NULL ? ov->sender_domain
			                                   : ov->recipient_domain);
			return buf;
		}
	return "DMARC needs it";
}

/*
 * load_psl - the public suffix list into the snapshot whenever DMARC or
 * dkim.must_sign can use it; the current snapshot's list is shared when
 * its file is unchanged (psl_load), otherwise the file is read again
 */
static void load_psl(struct loader *ld)
{
	struct policy *p = ld->p, *cur;
	char why[1400], need[600];
	const char *by = psl_needed_by(p, need, sizeof(need));

	if (by == NULL || p->dmarc.public_suffix_list == NULL)
		return; /* not needed, or its value was refused (reported) */
	cur = policy_acquire();
	p->psl =
	    psl_load(p->dmarc.public_suffix_list, cur != NULL ? cur->psl : NULL, why, sizeof(why));
	policy_release(cur);
	if (p->psl == NULL) {
		struct origin o = cfg_key_origin(ld, "dmarc.public_suffix_list");

		cfg_err_add(ld, &o, "dmarc.public_suffix_list",
		            "cannot use the public suffix list: %s (%s)", why, by);
	}
}

/* cfg_check_dmarc - the checks that span several dmarc keys */
void cfg_check_dmarc(struct loader *ld)
{
	const struct dmarc_settings *d = &ld->p->dmarc;

	load_psl(ld);
	for (size_t i = 0; i < d->nalways_reject; i++)
		for (size_t j = 0; j < d->nnever_enforce; j++)
			if (strcmp(d->always_reject[i], d->never_enforce[j]) == 0) {
				struct origin o = cfg_key_origin(ld, "dmarc.always_reject");

				cfg_err_add(
				    ld, &o, "dmarc.always_reject",
				    "\"%s\" is in dmarc.never_enforce too: a domain cannot be "
				    "both never refused and always rejected",
				    d->always_reject[i]);
			}
}

/* cfg_check_override - one group of overrides: one domain, one check at least */
void cfg_check_override(struct loader *ld, char *elem, const struct origin *o, int idx)
{
	const struct pm_override *ov = (const struct pm_override *)elem;
	const char *checks[PM_CHECKS];
	char names[200];
	bool named = false;

	if ((ov->sender_domain == NULL) == (ov->recipient_domain == NULL))
		cfg_err_add(ld, o, "overrides",
		            "element %d: give exactly one of for_sender_domain and "
		            "for_recipient_domain",
		            idx + 1);
	for (int c = 0; c < PM_CHECKS; c++)
		if (ov->mode[c] >= 0)
			named = true;
	if (named)
		return;
	for (int c = 0; c < PM_CHECKS; c++)
		checks[c] = pm_check_name((enum pm_check)c);
	cfg_names_text(checks, PM_CHECKS, "", "", ", ", " and ", names, sizeof(names));
	cfg_err_add(ld, o, "overrides",
	            "element %d: names no check (give the mode of one or more of %s)", idx + 1,
	            names);
}

/*
 * cfg_check_metrics - metrics.listen well-formed and, unless
 * metrics.allow_public, a unix socket or a loopback address
 */
void cfg_check_metrics(struct loader *ld)
{
	const struct metrics_settings *m = &ld->p->metrics;
	char why[256];

	if (m->listen == NULL)
		return;
	if (metrics_listen_check(m->listen, m->allow_public, why, sizeof(why)) != 0) {
		struct origin o = cfg_key_origin(ld, "metrics.listen");

		cfg_err_add(ld, &o, "metrics.listen", "%s", why);
	}
}

/*
 * cfg_check_socket_dir - a unix milter.socket must not be in a world-writable
 * directory (a missing one is reported at start, where it matters)
 */
void cfg_check_socket_dir(struct loader *ld)
{
	const char *s = ld->p->milter.socket;
	char why[PATH_MAX + 400];

	if (s == NULL || strncmp(s, "unix:", 5) != 0 || s[5] != '/')
		return;
	if (pm_socket_dir_unsafe(s + 5, why, sizeof(why)) != NULL) {
		struct origin o = cfg_key_origin(ld, "milter.socket");

		cfg_err_add(ld, &o, "milter.socket", "%s", why);
	}
}

/* cfg_check_ratelimit - one rate-limit rule: at most PM_RATELIMIT_RULES_MAX of them */
void cfg_check_ratelimit(struct loader *ld, char *elem, const struct origin *o, int idx)
{
	const struct ratelimit_rule *r = (const struct ratelimit_rule *)elem;

	if (idx >= PM_RATELIMIT_RULES_MAX)
		cfg_err_add(ld, o, "ratelimits",
		            "element %d (rule \"%s\"): too many rules: at most %d (each costs a "
		            "store round trip per recipient)",
		            idx + 1, r->name, PM_RATELIMIT_RULES_MAX);
}

/*
 * origin_of_pair - where to report a problem between keys a and b: the
 * one set in the file (a when both are), or a's built-in default
 */
static struct origin origin_of_pair(const struct loader *ld, const char *a, const char *b,
                                    const char **key)
{
	struct origin oa = cfg_key_origin(ld, a), ob = cfg_key_origin(ld, b);

	*key = oa.line > 0 || ob.line == 0 ? a : b;
	return oa.line > 0 || ob.line == 0 ? oa : ob;
}

/* cfg_check_state - the store and greylisting settings that must agree */
void cfg_check_state(struct loader *ld)
{
	const struct state_settings *st = &ld->p->state;
	const struct greylist_settings *g = &ld->p->greylist;
	struct origin o;
	const char *key;

	if (st->backend == STATE_REDIS && st->redis_server != NULL && st->redis_server[0] == '\0') {
		o = origin_of_pair(ld, "state.redis.server", "state.backend", &key);
		cfg_err_add(ld, &o, key,
		            "state.backend is \"redis\" but state.redis.server is empty: give "
		            "the Redis server, as \"host:port\", \"[IPv6 address]:port\" or "
		            "\"unix:/path\"");
	}
	/* a value refused (reported) is left 0: nothing more to say about it */
	if (g->delay > 0 && g->retry_window > 0 && g->delay >= g->retry_window) {
		o = origin_of_pair(ld, "greylisting.delay", "greylisting.retry_window", &key);
		cfg_err_add(ld, &o, key,
		            "greylisting.delay (%d) must be shorter than greylisting.retry_window "
		            "(%d): a retry after the delay must still fall within the window",
		            g->delay, g->retry_window);
	}
	if (g->lifetime > 0 && g->retry_window > 0 && g->lifetime < g->retry_window) {
		o = origin_of_pair(ld, "greylisting.lifetime", "greylisting.retry_window", &key);
		cfg_err_add(ld, &o, key,
		            "greylisting.lifetime (%d) must not be shorter than "
		            "greylisting.retry_window (%d)",
		            g->lifetime, g->retry_window);
	}
}
