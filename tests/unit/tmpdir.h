/*
 * NAME
 *	tmpdir 3h - a private temporary directory for a unit test
 * SYNOPSIS
 *	#include "tmpdir.h"
 * DESCRIPTION
 *	tmpdir_make() makes "$TMPDIR/NAME.XXXXXX" (/tmp without TMPDIR) with
 *	mkdtemp (mode 0700) and writes its path into buf; tmpdir_remove()
 *	removes it and everything in it. For cmocka setup and teardown.
 * DIAGNOSTICS
 *	Both return 0, or -1 when the directory could not be made (or removed).
 */
#ifndef PM_TEST_TMPDIR_H
#define PM_TEST_TMPDIR_H

#include <stdio.h>
#include <stdlib.h>

/* tmpdir_make - a fresh private directory named after name, its path into buf */
static inline int tmpdir_make(const char *name, char *buf, size_t size)
{
	const char *t = getenv("TMPDIR");

	snprintf(buf, size, "%s/%s.XXXXXX", t != NULL && *t != '\0' ? t : "/tmp", name);
	return mkdtemp(buf) == NULL ? -1 : 0;
}

/* tmpdir_remove - remove dir and all it holds */
static inline int tmpdir_remove(const char *dir)
{
	char cmd[4200];

	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", dir);
	return system(cmd) == 0 ? 0 : -1;
}

#endif
