/*
 * NAME
 *	test_filetable - unit tests for filetable.c's sharing across reloads
 * DESCRIPTION
 *	ft_reuse, which a policy reload uses to keep the table of a file
 *	that did not change: the same handle for the same path while the
 *	file is as it was read (device, inode, size, modification time,
 *	mode); a new read (NULL) for another path, a changed file (content,
 *	modification time alone, mode), a file whose directory became
 *	world-writable without the sticky bit (safe again with it), a
 *	handle never read or whose table skipped a line. The handle's
 *	ops->free_arg runs once, with the last reference.
 *	(Lookups, re-reads and their locking are tested through their
 *	users: test_rcpt, test_lists.)
 * DIAGNOSTICS
 *	"CASE: got X, want Y" for each mismatch.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <fcntl.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>
#include <cmocka.h>

#include "filetable.h"
#include "tmpdir.h"
#include "util.h"

static char tmp_dir[256]; /* a private temporary directory */
static int args_freed;    /* free_arg calls */

/* add_line - ft_line_fn: each line a key */
static int add_line(void *table, const char *line, size_t len, size_t lineno, void *arg)
{
	(void)arg;
	ft_keyset_add(table, line, len, NULL, lineno);
	return 0;
}

/* load - a re-read (ft_ops.load) */
static void *load(const char *path, void *arg, struct ft_load *res)
{
	struct ft_keyset *ks = xcalloc(1, sizeof(*ks));

	ft_keyset_init(ks);
	if (ft_read(path, add_line, ks, arg, res) != 0) {
		ft_keyset_clear(ks);
		free(ks);
		return NULL;
	}
	return ks;
}

/* loaded - nothing to log (ft_ops.loaded) */
static void loaded(const char *path, void *arg, const void *table, const struct ft_load *res)
{
	(void)path;
	(void)arg;
	(void)table;
	(void)res;
}

/* failed - nothing to log (ft_ops.failed) */
static void failed(const char *path, void *arg, const char *what, const struct ft_load *res,
                   const void *old)
{
	(void)path;
	(void)arg;
	(void)what;
	(void)res;
	(void)old;
}

/* destroy - free a key set (ft_ops.destroy) */
static void destroy(void *table)
{
	ft_keyset_clear(table);
	free(table);
}

/* free_arg - count the calls (ft_ops.free_arg) */
static void free_arg(void *arg)
{
	(void)arg;
	args_freed++;
}

static const struct ft_ops ops = {load, loaded, failed, destroy, free_arg};

/* write_file - path holds text now (rewritten in place: same inode) */
static void write_file(const char *path, const char *text)
{
	FILE *fp = fopen(path, "w");

	assert_non_null(fp);
	assert_int_equal(fputs(text, fp) >= 0, 1);
	assert_int_equal(fclose(fp), 0);
}

/* open_handle - a handle for path read now; clean as given */
static struct filetable *open_handle(const char *path, bool clean)
{
	struct ft_load res;
	void *t;

	memset(&res, 0, sizeof(res));
	t = load(path, NULL, &res);
	assert_non_null(t);
	return ft_new(path, &ops, NULL, t, &res.st, clean);
}

/* expect_reuse - ft_reuse(ft, path) gives ft (want) or NULL */
static void expect_reuse(const char *what, struct filetable *ft, const char *path, bool want)
{
	struct filetable *got = ft_reuse(ft, path);

	if (want && got != ft)
		fail_msg("%s: got %p, want the handle before (%p)", what, (void *)got, (void *)ft);
	if (!want && got != NULL)
		fail_msg("%s: got the handle before, want NULL (read again)", what);
	ft_release(got);
}

/* test_reuse - which handles a reload may keep */
static void test_reuse(void **state)
{
	char dir[300], path[400], other[400];
	struct timespec times[2];
	struct filetable *ft, *unclean, *never;
	struct stat st;

	(void)state;
	snprintf(dir, sizeof(dir), "%s/d", tmp_dir);
	assert_int_equal(mkdir(dir, 0755), 0);
	snprintf(path, sizeof(path), "%s/table.txt", dir);
	snprintf(other, sizeof(other), "%s/other.txt", dir);
	write_file(path, "a\nb\n");
	write_file(other, "a\nb\n");
	args_freed = 0;
	ft = open_handle(path, true);

	expect_reuse("unchanged", ft, path, true);
	expect_reuse("no handle before", NULL, path, false);
	expect_reuse("another path", ft, other, false);
	expect_reuse("no path", ft, NULL, false);

	/* the directory world-writable without the sticky bit: read again (and refused) */
	assert_int_equal(chmod(dir, 0777), 0);
	expect_reuse("directory world-writable", ft, path, false);
	assert_int_equal(chmod(dir, 01777), 0);
	expect_reuse("directory world-writable, sticky", ft, path, true);
	assert_int_equal(chmod(dir, 0755), 0);

	/* the mode alone */
	assert_int_equal(chmod(path, 0600), 0);
	expect_reuse("mode changed", ft, path, false);
	assert_int_equal(chmod(path, 0644), 0);
	ft_release(ft);
	assert_int_equal(args_freed, 1);

	/* the modification time alone, then the content (same size, same time) */
	ft = open_handle(path, true);
	assert_int_equal(stat(path, &st), 0);
	times[0] = st.st_atim;
	times[1] = st.st_mtim;
	times[1].tv_sec += 1;
	assert_int_equal(utimensat(AT_FDCWD, path, times, 0), 0);
	expect_reuse("modification time changed", ft, path, false);
	times[1] = st.st_mtim;
	assert_int_equal(utimensat(AT_FDCWD, path, times, 0), 0);
	expect_reuse("modification time back", ft, path, true);
	write_file(path, "a\nb\nc\n");
	expect_reuse("content changed", ft, path, false);

	/* tables that must be read again whatever the file */
	unclean = open_handle(path, false);
	expect_reuse("a line was skipped", unclean, path, false);
	never = ft_new(path, &ops, NULL, NULL, NULL, false);
	expect_reuse("never read", never, path, false);

	ft_release(ft);
	ft_release(unclean);
	ft_release(never);
	assert_int_equal(args_freed, 4);
}

/* test_shared_lifetime - a handle held twice outlives its first owner */
static void test_shared_lifetime(void **state)
{
	char path[400];
	struct filetable *ft, *again;
	struct ft_version *v;
	const struct ft_keyset *ks;

	(void)state;
	snprintf(path, sizeof(path), "%s/life.txt", tmp_dir);
	write_file(path, "x\n");
	args_freed = 0;
	ft = open_handle(path, true);
	again = ft_reuse(ft, path);
	assert_ptr_equal(again, ft);
	ft_release(ft); /* the old snapshot goes */
	assert_int_equal(args_freed, 0);
	ks = ft_acquire(again, &v);
	assert_non_null(ks);
	assert_non_null(ft_keyset_get(ks, "x\n", 2));
	ft_put(v);
	ft_release(again);
	assert_int_equal(args_freed, 1);
}

/* setup - a temporary directory */
static int setup(void **state)
{
	(void)state;
	return tmpdir_make("test_filetable", tmp_dir, sizeof(tmp_dir));
}

/* teardown - remove the temporary directory */
static int teardown(void **state)
{
	(void)state;
	return tmpdir_remove(tmp_dir);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_reuse),
	    cmocka_unit_test(test_shared_lifetime),
	};

	return cmocka_run_group_tests(tests, setup, teardown);
}
