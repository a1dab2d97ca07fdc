/*
 * NAME
 *	test_store - unit tests for the state store (store.c, store_lmdb.c)
 * DESCRIPTION
 *	Being written: the LMDB backend's basic operations.
 * DIAGNOSTICS
 *	"CASE: got X, want Y" for each mismatch.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <cmocka.h>

#include "policy.h"
#include "store.h"
#include "tmpdir.h"

static char tmp_dir[256];

/* basic - set, get, add against a new LMDB file */
static void basic(void **state)
{
	struct state_settings ss = {.backend = STATE_LMDB, .lmdb_max_mb = 16};
	char path[300], err[256], val[64];
	struct store *st;
	long v = 0;

	(void)state;
	snprintf(path, sizeof(path), "%s/state.lmdb", tmp_dir);
	ss.lmdb_path = path;
	st = store_open(&ss, err, sizeof(err));
	assert_non_null(st);
	assert_int_equal(store_get(st, "a", val, sizeof(val), NULL), STORE_NOTFOUND);
	assert_int_equal(store_set(st, "a", "x", 10), STORE_OK);
	assert_int_equal(store_get(st, "a", val, sizeof(val), NULL), STORE_OK);
	assert_string_equal(val, "x");
	assert_int_equal(store_add(st, "c", 1, 2, 10, &v), STORE_OK);
	assert_int_equal(store_add(st, "c", 2, 2, 10, &v), STORE_OVER);
	assert_int_equal(v, 1);
	store_release(st);
}

/* setup - a private directory */
static int setup(void **state)
{
	(void)state;
	return tmpdir_make("test_store", tmp_dir, sizeof(tmp_dir));
}

/* teardown - remove it */
static int teardown(void **state)
{
	(void)state;
	return tmpdir_remove(tmp_dir);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(basic),
	};

	return cmocka_run_group_tests(tests, setup, teardown);
}
