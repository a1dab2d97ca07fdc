/*
 * NAME
 *	unitpolicy 3h - policy files for unit tests
 * DESCRIPTION
 *	unit_policy_load() loads a policy file, printing every error and
 *	failing the test when it does not load; unit_policy_write() writes
 *	a policy text to DIR/policy.conf and loads it; unit_policy_dir_free()
 *	removes DIR/policy.conf and DIR. Include after <cmocka.h>.
 */
#ifndef PM_UNITPOLICY_H
#define PM_UNITPOLICY_H

#include <stdio.h>
#include <unistd.h>

#include "config.h"
#include "policy.h"

/* unit_policy_path - DIR/policy.conf into buf; returns buf */
static inline char *unit_policy_path(const char *dir, char *buf, size_t size)
{
	snprintf(buf, size, "%s/policy.conf", dir);
	return buf;
}

/* unit_policy_load - config_load(path); every error printed, the test failed when it fails */
static inline struct policy *unit_policy_load(const char *path)
{
	struct config_errors errs;
	struct policy *p = config_load(path, &errs);

	if (p == NULL) {
		for (size_t i = 0; i < errs.n; i++)
			print_error("%s:%d: %s: %s\n", errs.v[i].file, errs.v[i].line,
			            errs.v[i].key, errs.v[i].message);
		config_errors_free(&errs);
		fail_msg("config_load failed for %s", path);
	}
	return p;
}

/* unit_policy_write - write text to DIR/policy.conf and load it (unit_policy_load) */
static inline struct policy *unit_policy_write(const char *dir, const char *text)
{
	char path[300];
	FILE *fp = fopen(unit_policy_path(dir, path, sizeof(path)), "w");

	assert_non_null(fp);
	fputs(text, fp);
	assert_int_equal(fclose(fp), 0);
	return unit_policy_load(path);
}

/* unit_policy_dir_free - remove DIR/policy.conf and DIR; 0, or -1 when DIR stays */
static inline int unit_policy_dir_free(const char *dir)
{
	char path[300];

	unlink(unit_policy_path(dir, path, sizeof(path)));
	return rmdir(dir);
}

#endif
