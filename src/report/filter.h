/*
 * NAME
 *	filter 3h - which records the report counts
 * SYNOPSIS
 *	#include "filter.h"
 * DESCRIPTION
 *	The command line's --since, --until, --client, --domain and
 *	--action. Several values of one option match when any matches;
 *	different options must all match. An empty filter matches all.
 */
#ifndef PMR_FILTER_H
#define PMR_FILTER_H

#include <stdbool.h>
#include <stddef.h>

#include "../cidr.h"
#include "record.h"

struct filter {
	bool has_since, has_until;
	long long since, until; /* since <= time < until, milliseconds */
	struct pm_cidr *clients;
	size_t nclients;
	char **domains; /* lower case, no trailing dot */
	size_t ndomains;
	unsigned actions; /* bit (1 << enum rec_action); 0 means any */
};

/* filter_add_client - add an address or CIDR; -1 with *err set (static) when bad */
int filter_add_client(struct filter *f, const char *arg, const char **err);

/* filter_add_domain - add a domain; -1 with *err set when empty or malformed */
int filter_add_domain(struct filter *f, const char *arg, const char **err);

/* filter_add_action - add an action name; -1 when it is not one */
int filter_add_action(struct filter *f, const char *arg);

/* filter_match - does the record pass every option given? */
bool filter_match(const struct filter *f, const struct rec *r);

/* domain_at_or_below - dom equals parent or ends in "." parent, ASCII case-insensitively */
bool domain_at_or_below(const char *dom, const char *parent);

/* filter_free - release the lists; the struct itself is the caller's */
void filter_free(struct filter *f);

#endif
