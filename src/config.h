/*
 * NAME
 *	config 3h - loading a policy file into a snapshot
 * SYNOPSIS
 *	#include "config.h"
 * DESCRIPTION
 *	config_load() reads a policy file, validates it whole and returns a
 *	new snapshot (struct policy, policy.h), or every error found. The
 *	other functions print and free those errors, check a socket spec by
 *	the rules of milter.socket, and list the keys the file accepts.
 */
#ifndef PM_CONFIG_H
#define PM_CONFIG_H

#include <stddef.h>

struct policy; /* policy.h */

/* One error found in a policy file. */
struct config_error {
	char *file;
	int line;  /* 0 when unknown */
	char *key; /* dotted path, e.g. "spf.softfail" ("" for syntax errors) */
	char *message;
};

struct config_errors {
	struct config_error *v;
	size_t n;
};

/*
 * config_load - read and validate a policy file. Returns a new snapshot
 * (refcount 1) or NULL when there was any error, with every error in
 * *errs (the caller frees them with config_errors_free). Never exits.
 */
struct policy *config_load(const char *path, struct config_errors *errs);
/* config_errors_print - one "file:line: key: message" line each */
void config_errors_print(const struct config_errors *errs,
                         void (*emit)(const char *line, void *arg), void *arg);
void config_errors_free(struct config_errors *errs);
/*
 * config_check_socket - check a socket spec by the rules of milter.socket
 * (for the -p option): NULL when fine, else a message (static or in buf)
 */
const char *config_check_socket(const char *spec, char *buf, size_t bufsize);
/*
 * config_keys - call fn once with the dotted name of every key the policy
 * file accepts (leaf keys only, e.g. "spf.softfail"; groups are not listed)
 */
void config_keys(void (*fn)(const char *dotted_key, void *arg), void *arg);

#endif
