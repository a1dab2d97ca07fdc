/*
 * NAME
 *	test_util - unit tests for util.c
 * DESCRIPTION
 *	Tables of cases for string helpers, the string buffer, pm_escape
 *	(CR, LF, NUL via explicit length, 8-bit, backslash, truncation at
 *	a whole escape) and pm_utf8_valid (overlongs, surrogates, range).
 *	File safety: pm_dirname, the mode rules (world-writable files;
 *	world-writable directories, the sticky bit allowed or not), and
 *	pm_file_unsafe / pm_socket_dir_unsafe on real files and directories
 *	made with those modes in a private temporary directory, symbolic
 *	links to a file and to a directory among them.
 * DIAGNOSTICS
 *	cmocka; each failure prints "got X, want Y".
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "util.h"

/* test_xalloc - the allocators copy and zero as promised */
static void test_xalloc(void **state)
{
	(void)state;
	char *p = xstrdup("hello");
	assert_string_equal(p, "hello");
	free(p);
	assert_null(xstrdup(NULL));
	p = xstrndup("hello", 3);
	assert_string_equal(p, "hel");
	free(p);
	p = xstrndup("hi", 10);
	assert_string_equal(p, "hi");
	free(p);
	unsigned char *z = xcalloc(16, 4);
	for (size_t i = 0; i < 64; i++)
		if (z[i] != 0)
			fail_msg("xcalloc byte %zu: got %u, want 0", i, z[i]);
	z = xrealloc(z, 1024);
	z[1023] = 1;
	free(z);
	free(xmalloc(0));
	free(xcalloc(0, 0));
}

/* test_strbuf - append, appendn with NULs, appendf, steal, reset */
static void test_strbuf(void **state)
{
	(void)state;
	struct strbuf sb;
	sb_init(&sb);
	assert_non_null(sb.s);
	assert_string_equal(sb.s, "");
	sb_append(&sb, "abc");
	sb_appendc(&sb, '-');
	sb_appendn(&sb, "x\0y", 3);
	sb_append(&sb, NULL);
	assert_int_equal(sb.len, 7);
	assert_memory_equal(sb.s, "abc-x\0y", 8);
	sb_reset(&sb);
	assert_int_equal(sb.len, 0);
	assert_string_equal(sb.s, "");
	for (int i = 0; i < 1000; i++)
		sb_appendf(&sb, "%d,", i % 10);
	assert_int_equal(sb.len, 2000);
	assert_int_equal(strlen(sb.s), 2000);
	assert_memory_equal(sb.s + 1990, "5,6,7,8,9,", 10);
	char *s = sb_steal(&sb);
	assert_int_equal(strlen(s), 2000);
	free(s);
	/* stolen: empty, holding nothing, usable again */
	assert_int_equal(sb.len, 0);
	assert_null(sb.s);
	sb_appendf(&sb, "%s=%u", "k", 42u);
	assert_string_equal(sb.s, "k=42");
	s = sb_steal(&sb);
	assert_string_equal(s, "k=42");
	free(s);
	sb_append(&sb, NULL);
	assert_string_equal(sb.s, "");
	s = sb_steal(&sb);
	assert_string_equal(s, "");
	free(s);
	s = sb_steal(&sb); /* nothing at all: still a string */
	assert_string_equal(s, "");
	free(s);
	sb_reset(&sb);
	assert_string_equal(sb.s, "");
	sb_free(&sb);
	assert_null(sb.s);
	sb_free(&sb);
}

/* test_strcase - lower, caseeq, casesuffix */
static void test_strcase(void **state)
{
	(void)state;
	static const struct {
		const char *a, *b;
		bool eq, suffix;
	} cases[] = {
	    {"Example.ORG", "example.org", true, true},
	    {"example.org", "example.or", false, false},
	    {"mail.example.org", "EXAMPLE.org", false, true},
	    {"mail.example.org", ".example.org", false, true},
	    {"org", "example.org", false, false},
	    {"", "", true, true},
	    {"abc", "", false, true},
	    {"\xc3\x84", "\xc3\xa4", false, false}, /* ASCII only */
	    {NULL, NULL, true, false},
	    {NULL, "a", false, false},
	    {"a", NULL, false, false},
	};
	for (size_t i = 0; i < PM_ARRAY_LEN(cases); i++) {
		bool eq = pm_strcaseeq(cases[i].a, cases[i].b);
		bool suf = pm_strcasesuffix(cases[i].a, cases[i].b);
		if (eq != cases[i].eq)
			fail_msg("case %zu strcaseeq(%s, %s): got %d, want %d", i, cases[i].a,
			         cases[i].b, eq, cases[i].eq);
		if (suf != cases[i].suffix)
			fail_msg("case %zu strcasesuffix(%s, %s): got %d, want %d", i, cases[i].a,
			         cases[i].b, suf, cases[i].suffix);
	}
	char buf[] = "MiXeD.Case-123\xc3\x84";
	assert_ptr_equal(pm_strlower(buf), buf);
	assert_string_equal(buf, "mixed.case-123\xc3\x84");
	assert_null(pm_strlower(NULL));
}

/* test_escape - the escaping table, with explicit lengths for NULs */
static void test_escape(void **state)
{
	(void)state;
	static const struct {
		const char *src;
		size_t len; /* bytes of src */
		size_t dstsize;
		const char *want;
	} cases[] = {
	    {"plain text", 10, 64, "plain text"},
	    {"", 0, 64, ""},
	    {"a\r\nb", 4, 64, "a\\x0d\\x0ab"},
	    {"a\0b", 3, 64, "a\\x00b"},
	    {"\0", 1, 64, "\\x00"},
	    {"back\\slash", 10, 64, "back\\x5cslash"},
	    {"tab\there", 8, 64, "tab\\x09here"},
	    {"del\x7f", 4, 64, "del\\x7f"},
	    {"8bit \xc3\xa4\xff", 8, 64, "8bit \\xc3\\xa4\\xff"},
	    {"quote\" ok ~!", 12, 64, "quote\" ok ~!"},
	    {"\x1b[31m", 5, 64, "\\x1b[31m"},
	    /* exact fit: 10 bytes + NUL */
	    {"0123456789", 10, 11, "0123456789"},
	    /* one too many: cut with "..." */
	    {"0123456789", 10, 10, "012345..."},
	    {"0123456789", 10, 4, "..."},
	    {"0123456789", 10, 3, ".."},
	    {"0123456789", 10, 1, ""},
	    /* never split an escape: "ab\x0a" does not fit in 8 with "..." */
	    {"ab\ncdef", 7, 8, "ab..."},
	    {"ab\ncdef", 7, 10, "ab\\x0a..."},
	    {"ab\ncdef", 7, 11, "ab\\x0acdef"},
	    {"ab\ncd", 5, 9, "ab\\x0acd"},
	    {"\n\n\n", 3, 12, "\\x0a\\x0a..."},
	    {"\n\n\n", 3, 13, "\\x0a\\x0a\\x0a"},
	    /* escaped exact fit with the final escape */
	    {"abc\n", 4, 8, "abc\\x0a"},
	    {"abc\n", 4, 7, "abc..."},
	};
	for (size_t i = 0; i < PM_ARRAY_LEN(cases); i++) {
		char dst[128];
		memset(dst, 'Z', sizeof(dst));
		pm_escape(dst, cases[i].dstsize, cases[i].src, cases[i].len);
		if (strcmp(dst, cases[i].want) != 0)
			fail_msg("case %zu escape size %zu: got \"%s\", want \"%s\"", i,
			         cases[i].dstsize, dst, cases[i].want);
		if (strlen(dst) >= cases[i].dstsize)
			fail_msg("case %zu: wrote %zu bytes into %zu", i, strlen(dst),
			         cases[i].dstsize);
		if (dst[cases[i].dstsize] != 'Z')
			fail_msg("case %zu: wrote past dstsize %zu", i, cases[i].dstsize);
	}
	/* every byte value: output stays printable ASCII */
	char all[256], out[1100];
	for (int c = 0; c < 256; c++)
		all[c] = (char)c;
	pm_escape(out, sizeof(out), all, sizeof(all));
	for (size_t i = 0; out[i]; i++)
		if (out[i] < 0x20 || out[i] > 0x7e)
			fail_msg("byte %zu of escaped output: got 0x%02x, want printable", i,
			         (unsigned char)out[i]);
	assert_int_equal(strlen(out), 94 + 162 * 4);
}

/* test_escape_str - NUL-terminated wrapper; NULL becomes "" */
static void test_escape_str(void **state)
{
	(void)state;
	char dst[32];
	assert_string_equal(pm_escape_str(dst, sizeof(dst), NULL), "");
	assert_string_equal(pm_escape_str(dst, sizeof(dst), "x\ry"), "x\\x0dy");
	assert_string_equal(pm_escape_str(dst, 8, "abcdefghijk"), "abcd...");
}

/* test_utf8 - well-formed and malformed sequences */
static void test_utf8(void **state)
{
	(void)state;
	static const struct {
		const char *s;
		size_t len;
		bool want;
	} cases[] = {
	    {"", 0, true},
	    {"ascii", 5, true},
	    {"a\0b", 3, true},
	    {"\xc3\xa4", 2, true},          /* U+00E4 */
	    {"\xe2\x82\xac", 3, true},      /* U+20AC */
	    {"\xf0\x9f\x98\x80", 4, true},  /* U+1F600 */
	    {"\xf4\x8f\xbf\xbf", 4, true},  /* U+10FFFF */
	    {"\xed\x9f\xbf", 3, true},      /* U+D7FF */
	    {"\xee\x80\x80", 3, true},      /* U+E000 */
	    {"\xc3", 1, false},             /* truncated */
	    {"\xe2\x82", 2, false},         /* truncated */
	    {"\x80", 1, false},             /* lone continuation */
	    {"\xc0\x80", 2, false},         /* overlong NUL */
	    {"\xc1\xbf", 2, false},         /* overlong */
	    {"\xe0\x80\xaf", 3, false},     /* overlong '/' */
	    {"\xe0\x9f\xbf", 3, false},     /* overlong U+07FF */
	    {"\xf0\x8f\xbf\xbf", 4, false}, /* overlong U+FFFF */
	    {"\xed\xa0\x80", 3, false},     /* surrogate U+D800 */
	    {"\xed\xbf\xbf", 3, false},     /* surrogate U+DFFF */
	    {"\xf4\x90\x80\x80", 4, false}, /* U+110000 */
	    {"\xf5\x80\x80\x80", 4, false}, /* lead byte > F4 */
	    {"\xff", 1, false},
	    {"\xc3\x28", 2, false}, /* bad continuation */
	    {"a\xc3\xa4z\xe2\x82\xac", 7, true},
	};
	for (size_t i = 0; i < PM_ARRAY_LEN(cases); i++) {
		bool got = pm_utf8_valid((const unsigned char *)cases[i].s, cases[i].len);
		if (got != cases[i].want)
			fail_msg("case %zu utf8_valid: got %d, want %d", i, got, cases[i].want);
	}
}

/* test_dirname - the directory part of a path */
static void test_dirname(void **state)
{
	(void)state;
	static const struct {
		const char *path, *want;
	} cases[] = {
	    {"/etc/policy-milter/x.txt", "/etc/policy-milter"},
	    {"/x.txt", "/"},
	    {"/", "/"},
	    {"//x", "/"},
	    {"/a//b", "/a"},
	    {"a/b", "a"},
	    {"x.txt", "."},
	    {"", "."},
	    {NULL, "."},
	};
	char buf[64];
	for (size_t i = 0; i < PM_ARRAY_LEN(cases); i++) {
		pm_dirname(cases[i].path, buf, sizeof(buf));
		if (strcmp(buf, cases[i].want) != 0)
			fail_msg("case %zu %s: got \"%s\", want \"%s\"", i,
			         cases[i].path ? cases[i].path : "NULL", buf, cases[i].want);
	}
	assert_string_equal(pm_dirname("/abcdef/x", buf, 4), "/ab");
}

/* test_mode_rules - which modes make a file or a directory unsafe */
static void test_mode_rules(void **state)
{
	(void)state;
	static const struct {
		mode_t mode;
		bool file, dir_sticky_ok, dir;
	} cases[] = {
	    {0644, false, false, false}, {0600, false, false, false},  {0664, false, false, false},
	    {0666, true, true, true},    {0602, true, true, true},     {0755, false, false, false},
	    {0770, false, false, false}, {0777, true, true, true},     {01777, true, false, true},
	    {01773, true, false, true},  {01755, false, false, false}, {0703, true, true, true},
	};
	for (size_t i = 0; i < PM_ARRAY_LEN(cases); i++) {
		bool f = pm_mode_unsafe_file(cases[i].mode);
		bool ds = pm_mode_unsafe_dir(cases[i].mode, true);
		bool d = pm_mode_unsafe_dir(cases[i].mode, false);
		if (f != cases[i].file || ds != cases[i].dir_sticky_ok || d != cases[i].dir)
			fail_msg("mode %04o: got file %d dir %d dir(sticky ok) %d, want %d %d %d",
			         (unsigned)cases[i].mode, f, d, ds, cases[i].file, cases[i].dir,
			         cases[i].dir_sticky_ok);
	}
}

static char base[64]; /* test_file_unsafe's private directory */

/* mk - path under base into buf; a directory (dir) or a file, given mode explicitly */
static const char *mk(char *buf, size_t size, const char *name, bool dir, mode_t mode)
{
	snprintf(buf, size, "%s/%s", base, name);
	if (dir) {
		assert_int_equal(mkdir(buf, 0700), 0);
	} else {
		FILE *fp = fopen(buf, "w");
		assert_non_null(fp);
		fputs("example.org\n", fp);
		assert_int_equal(fclose(fp), 0);
	}
	assert_int_equal(chmod(buf, mode), 0); /* whatever the umask */
	return buf;
}

/* unsafe_why - pm_file_unsafe for name under base ("" when safe) */
static const char *unsafe_why(const char *name, char *why, size_t size)
{
	char path[200];
	struct stat st;

	snprintf(path, sizeof(path), "%s/%s", base, name);
	if (stat(path, &st) != 0)
		fail_msg("stat %s failed", path);
	memset(why, 'Z', size);
	return pm_file_unsafe(path, &st, why, size) ? why : "";
}

/* test_file_unsafe - real files and directories with each mode, and symbolic links */
static void test_file_unsafe(void **state)
{
	(void)state;
	char p[200], why[600], want[600], cmd[120];

	snprintf(base, sizeof(base), "/tmp/test_util.XXXXXX");
	assert_non_null(mkdtemp(base));
	mk(p, sizeof(p), "safe", true, 0755);
	mk(p, sizeof(p), "safe/list.txt", false, 0644);
	mk(p, sizeof(p), "safe/group.txt", false, 0664);
	mk(p, sizeof(p), "safe/world.txt", false, 0666);
	mk(p, sizeof(p), "open", true, 0777);
	mk(p, sizeof(p), "open/list.txt", false, 0644);
	mk(p, sizeof(p), "sticky", true, 01777);
	mk(p, sizeof(p), "sticky/list.txt", false, 0644);
	mk(p, sizeof(p), "sticky/world.txt", false, 0646);
	snprintf(p, sizeof(p), "%s/safe/to-open", base);
	assert_int_equal(symlink("../open/list.txt", p), 0);
	snprintf(p, sizeof(p), "%s/safe/to-sticky", base);
	assert_int_equal(symlink("../sticky/list.txt", p), 0);
	snprintf(p, sizeof(p), "%s/open/to-safe", base);
	assert_int_equal(symlink("../safe/list.txt", p), 0);
	snprintf(p, sizeof(p), "%s/dirlink", base);
	assert_int_equal(symlink("open", p), 0);

	/* safe: not world-writable, in a directory others cannot write (or sticky) */
	assert_string_equal(unsafe_why("safe/list.txt", why, sizeof(why)), "");
	assert_string_equal(unsafe_why("safe/group.txt", why, sizeof(why)), "");
	assert_string_equal(unsafe_why("sticky/list.txt", why, sizeof(why)), "");
	assert_string_equal(unsafe_why("safe/to-sticky", why, sizeof(why)), "");
	/* a world-writable file, wherever it is */
	snprintf(want, sizeof(want),
	         "the file is world-writable (mode 0666): anyone could change it; "
	         "chmod o-w %s/safe/world.txt",
	         base);
	assert_string_equal(unsafe_why("safe/world.txt", why, sizeof(why)), want);
	snprintf(want, sizeof(want),
	         "the file is world-writable (mode 0646): anyone could change it; "
	         "chmod o-w %s/sticky/world.txt",
	         base);
	assert_string_equal(unsafe_why("sticky/world.txt", why, sizeof(why)), want);
	/* in a world-writable directory without the sticky bit: by its name, by a link to it,
	   through a linked directory, and a link in it to a safe file */
	snprintf(want, sizeof(want),
	         "its directory %s/open is world-writable without the sticky bit (mode 0777): "
	         "anyone could replace the file; chmod o-w %s/open, or move the file",
	         base, base);
	assert_string_equal(unsafe_why("open/list.txt", why, sizeof(why)), want);
	assert_string_equal(unsafe_why("safe/to-open", why, sizeof(why)), want);
	assert_string_equal(unsafe_why("open/to-safe", why, sizeof(why)), want);
	snprintf(want, sizeof(want),
	         "its directory %s/dirlink is world-writable without the sticky bit (mode 0777): "
	         "anyone could replace the file; chmod o-w %s/dirlink, or move the file",
	         base, base);
	assert_string_equal(unsafe_why("dirlink/list.txt", why, sizeof(why)), want);
	/* a short buffer is cut, never overrun */
	char small[16];
	struct stat st;
	snprintf(p, sizeof(p), "%s/open/list.txt", base);
	assert_int_equal(stat(p, &st), 0);
	assert_string_equal(pm_file_unsafe(p, &st, small, sizeof(small)), "its directory /");
	assert_null(pm_file_unsafe(NULL, &st, small, sizeof(small)));

	/* a socket directory: world-writable is unsafe even with the sticky bit */
	snprintf(p, sizeof(p), "%s/sticky/milter.sock", base);
	snprintf(want, sizeof(want),
	         "socket directory %s/sticky is world-writable (mode 1777): anyone could plant a "
	         "socket there, sticky bit or not; use a directory only root and the milter user "
	         "can write, such as /run/policy-milter or Postfix's "
	         "/var/spool/postfix/policy-milter",
	         base);
	assert_string_equal(pm_socket_dir_unsafe(p, why, sizeof(why)), want);
	snprintf(p, sizeof(p), "%s/open/milter.sock", base);
	assert_non_null(pm_socket_dir_unsafe(p, why, sizeof(why)));
	assert_non_null(strstr(why, "/open is world-writable (mode 0777)"));
	snprintf(p, sizeof(p), "%s/safe/milter.sock", base);
	assert_null(pm_socket_dir_unsafe(p, why, sizeof(why)));
	snprintf(p, sizeof(p), "%s/missing/milter.sock", base);
	assert_null(pm_socket_dir_unsafe(p, why, sizeof(why))); /* the caller says it is missing */
	snprintf(p, sizeof(p), "%s/safe/list.txt/milter.sock", base);
	assert_null(pm_socket_dir_unsafe(p, why, sizeof(why))); /* not a directory */

	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", base);
	assert_int_equal(system(cmd), 0);
}

/* main - run the cases */
int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_xalloc),      cmocka_unit_test(test_strbuf),
	    cmocka_unit_test(test_strcase),     cmocka_unit_test(test_escape),
	    cmocka_unit_test(test_escape_str),  cmocka_unit_test(test_utf8),
	    cmocka_unit_test(test_dirname),     cmocka_unit_test(test_mode_rules),
	    cmocka_unit_test(test_file_unsafe),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
