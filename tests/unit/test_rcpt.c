/*
 * NAME
 *	test_rcpt - unit tests for rcpt.c (recipient validity)
 * DESCRIPTION
 *	Tables of recipients against hand-built recipient_settings: local
 *	domains, inline list, a fixture file (tests/unit/data), +detail,
 *	postmaster/abuse, catch-alls; then the file cache: a file never
 *	read (tempfail), a change picked up after a second, a failed
 *	re-read keeping the old table, malformed lines warned with
 *	file:line, rcpt_check_file, a file anyone could change (world-writable,
 *	or in a world-writable directory without the sticky bit: refused by
 *	rcpt_check_file; in use, the old table kept and the refusal logged
 *	once), a 100k-line file, and concurrent lookups while the file
 *	changes; a 200,000-line file rewritten under 20 concurrent sessions,
 *	its re-read held by a hook while every other session completes
 *	lookups (no RCPT waits for a re-read). A FIFO as the recipients file is refused at once,
 *never waited on (found by tests/fuzz/config: the load hung in open()). DIAGNOSTICS "case N
 *(address): got X, want Y" for each mismatch.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <pthread.h>
#include <time.h>
#include <unistd.h>
#include <signal.h>
#include <sys/stat.h>
#include <fcntl.h>

#include <cmocka.h>

#include "filetable.h"
#include "log.h"
#include "policy.h"
#include "rcpt.h"
#include "tmpdir.h"
#include "util.h"

static char data_dir[512]; /* tests/unit/data, found from __FILE__ */
static char tmp_dir[256];  /* a private temporary directory */

/* data_path - a fixture's path */
static const char *data_path(const char *name, char *buf, size_t size)
{
	snprintf(buf, size, "%s/%s", data_dir, name);
	return buf;
}

/* tmp_path - a path in the temporary directory */
static const char *tmp_path(const char *name, char *buf, size_t size)
{
	snprintf(buf, size, "%s/%s", tmp_dir, name);
	return buf;
}

/* write_file - replace path with text (via rename, as an admin's tool would) */
static void write_file(const char *path, const char *text)
{
	char tmp[600];
	FILE *fp;

	snprintf(tmp, sizeof(tmp), "%s.new", path);
	fp = fopen(tmp, "w");
	assert_non_null(fp);
	fputs(text, fp);
	assert_int_equal(fclose(fp), 0);
	assert_int_equal(rename(tmp, path), 0);
}

/* sleep_ms - nanosleep wrapper */
static void sleep_ms(long ms)
{
	struct timespec ts = {ms / 1000, (ms % 1000) * 1000000L};

	nanosleep(&ts, NULL);
}

/* lookup - parse raw with RCPT flags and classify it */
static enum rcpt_status lookup(const struct recipient_settings *s, const char *raw,
                               const char **why)
{
	struct pm_addr a;
	const char *pwhy;
	enum addr_status st = addr_parse(raw, strlen(raw), ADDR_ALLOW_LOCAL_ONLY, &a, &pwhy);

	assert_int_not_equal(st, ADDR_BAD);
	return rcpt_lookup(s, st, &a, why);
}

struct lookup_case {
	const char *addr;
	enum rcpt_status want;
	const char *why; /* substring of *why, or NULL */
};

/* run_table - every case against s; fails the test on any mismatch */
static void run_table(const char *name, const struct recipient_settings *s,
                      const struct lookup_case *cases, size_t n)
{
	size_t i, failed = 0;

	for (i = 0; i < n; i++) {
		const char *why = NULL;
		enum rcpt_status got = lookup(s, cases[i].addr, &why);

		if (got != cases[i].want ||
		    (cases[i].why && (why == NULL || strstr(why, cases[i].why) == NULL))) {
			print_error("%s case %zu (%s): got %s (%s), want %s (%s)\n", name, i,
			            cases[i].addr, rcpt_status_name(got), why ? why : "(null)",
			            rcpt_status_name(cases[i].want),
			            cases[i].why ? cases[i].why : "");
			failed++;
		}
	}
	if (failed)
		fail_msg("%s: %zu of %zu cases failed", name, failed, n);
}

static char *local_domains[] = {"example.org", "example.net", "catch.test", "[192.0.2.1]"};
static char *inline_addresses[] = {"alice@example.org", "Bob.Smith@Example.NET",
                                   "\"x y\"@example.net", "not an address"};

/* test_full - inline list and fixture file together */
static void test_full(void **state)
{
	static const struct lookup_case cases[] = {
	    {"<alice@example.org>", RCPT_VALID, "recipients.addresses"},
	    {"<ALICE@Example.Org>", RCPT_VALID, "recipients.addresses"},
	    {"<alice+tag@example.org>", RCPT_VALID, "recipients.addresses"},
	    {"<alice-tag-more@example.org>", RCPT_VALID, "recipients.addresses"},
	    {"<alice+a-b@example.org>", RCPT_VALID, NULL},
	    {"<bob.smith@example.net>", RCPT_VALID, "recipients.addresses"},
	    {"<\"x y\"@example.net>", RCPT_VALID, "recipients.addresses"},
	    {"<\"X Y\"@example.net>", RCPT_VALID, NULL},
	    {"<bob.smith@example.org>", RCPT_UNKNOWN, NULL},
	    {"<carol@example.org>", RCPT_VALID, "recipients.file"},
	    {"<Carol+news@EXAMPLE.org>", RCPT_VALID, "recipients.file"},
	    {"<dave@example.org>", RCPT_VALID, "recipients.file"},
	    {"<\"john doe\"@example.org>", RCPT_VALID, "recipients.file"},
	    {"<john@example.org>", RCPT_UNKNOWN, NULL},
	    {"<a#b@example.org>", RCPT_VALID, "recipients.file"},
	    {"<a@example.org>", RCPT_UNKNOWN, NULL},
	    {"<eve@example.net>", RCPT_VALID, "recipients.file"},
	    {"<frank@example.org>", RCPT_VALID, "recipients.file"},
	    {"<grace@example.org>", RCPT_VALID, "recipients.file"},
	    {"<anyone@catch.test>", RCPT_VALID, "catch-all"},
	    {"<x@[192.0.2.1]>", RCPT_VALID, "catch-all"},
	    {"<mallory@example.org>", RCPT_UNKNOWN, "not listed"},
	    {"<+alice@example.org>", RCPT_UNKNOWN, NULL},
	    {"<postmaster@example.org>", RCPT_ALWAYS_VALID, "postmaster"},
	    {"<PostMaster@Example.NET>", RCPT_ALWAYS_VALID, "postmaster"},
	    {"<abuse@example.org>", RCPT_ALWAYS_VALID, "abuse"},
	    {"<ABUSE@catch.test>", RCPT_ALWAYS_VALID, "abuse"},
	    {"<postmaster>", RCPT_ALWAYS_VALID, "postmaster"},
	    {"<Postmaster>", RCPT_ALWAYS_VALID, "postmaster"},
	    {"<@relay.test:alice@example.org>", RCPT_VALID, NULL},
	    {"<x@foreign.test>", RCPT_FOREIGN, "not a local domain"},
	    {"<alice@foreign.test>", RCPT_FOREIGN, NULL},
	    {"<postmaster@foreign.test>", RCPT_FOREIGN, NULL},
	    {"<alice@sub.example.org>", RCPT_FOREIGN, NULL},
	    {"<alice@example.org.evil.test>", RCPT_FOREIGN, NULL},
	    {"<alice@org>", RCPT_FOREIGN, NULL},
	    {"<x@[192.0.2.2]>", RCPT_FOREIGN, NULL},
	    {"<x@[IPv6:2001:db8::1]>", RCPT_FOREIGN, NULL},
	};
	char path[600];
	struct recipient_settings s = {
	    .mode = PM_MODE_ENFORCE,
	    .domains = local_domains,
	    .ndomains = PM_ARRAY_LEN(local_domains),
	    .addresses = inline_addresses,
	    .naddresses = PM_ARRAY_LEN(inline_addresses),
	    .file = (char *)data_path("recipients-mixed.txt", path, sizeof(path)),
	    .detail_separators = "+-",
	};

	(void)state;
	s.file_table = rcpt_file_lazy(s.file);
	run_table("full", &s, cases, PM_ARRAY_LEN(cases));
	ft_release(s.file_table);
}

/* test_sources - the rules for missing sources and separators */
static void test_sources(void **state)
{
	static const struct lookup_case none[] = {
	    {"<x@foreign.test>", RCPT_VALID, "no local domains"},
	    {"<postmaster>", RCPT_VALID, NULL},
	    {"<alice@example.org>", RCPT_VALID, NULL},
	};
	static const struct lookup_case domains_only[] = {
	    {"<anything@example.org>", RCPT_VALID, NULL},
	    {"<anything@EXAMPLE.NET>", RCPT_VALID, NULL},
	    {"<postmaster@example.org>", RCPT_ALWAYS_VALID, NULL},
	    {"<anything@foreign.test>", RCPT_FOREIGN, NULL},
	};
	static const struct lookup_case inline_only[] = {
	    {"<alice@example.org>", RCPT_VALID, NULL},
	    {"<alice+tag@example.org>", RCPT_UNKNOWN, NULL}, /* separators "" */
	    {"<carol@example.org>", RCPT_UNKNOWN, "not listed"},
	    {"<abuse@example.org>", RCPT_ALWAYS_VALID, NULL},
	    {"<anything@foreign.test>", RCPT_FOREIGN, NULL},
	};
	static const struct lookup_case plus_only[] = {
	    {"<alice+tag@example.org>", RCPT_VALID, NULL},
	    {"<alice-tag@example.org>", RCPT_UNKNOWN, NULL},
	};
	struct recipient_settings s = {.detail_separators = "+"};

	(void)state;
	run_table("no domains", &s, none, PM_ARRAY_LEN(none));
	s.domains = local_domains;
	s.ndomains = 2;
	run_table("domains only", &s, domains_only, PM_ARRAY_LEN(domains_only));
	s.file = ""; /* the same as none */
	run_table("domains only, file \"\"", &s, domains_only, PM_ARRAY_LEN(domains_only));
	s.addresses = inline_addresses;
	s.naddresses = PM_ARRAY_LEN(inline_addresses);
	s.detail_separators = "";
	run_table("inline only", &s, inline_only, PM_ARRAY_LEN(inline_only));
	s.detail_separators = NULL;
	run_table("inline only, separators NULL", &s, inline_only, PM_ARRAY_LEN(inline_only));
	s.detail_separators = "+";
	run_table("plus only", &s, plus_only, PM_ARRAY_LEN(plus_only));
	assert_int_equal(rcpt_lookup(NULL, ADDR_OK, NULL, NULL), RCPT_VALID);
}

/* test_file_cache - never read, change detection, failed re-read */
static void test_file_cache(void **state)
{
	static const struct lookup_case missing[] = {
	    {"<alice@example.org>", RCPT_VALID, "recipients.addresses"}, /* inline still works */
	    {"<postmaster@example.org>", RCPT_ALWAYS_VALID, NULL},
	    {"<x@foreign.test>", RCPT_FOREIGN, NULL},
	    {"<carol@example.org>", RCPT_TEMPFAIL, "never read"},
	};
	char path[600];
	struct recipient_settings s = {
	    .domains = local_domains,
	    .ndomains = 2,
	    .addresses = inline_addresses,
	    .naddresses = 1,
	    .file = (char *)tmp_path("cache.txt", path, sizeof(path)),
	    .detail_separators = "+",
	};

	(void)state;
	s.file_table = rcpt_file_lazy(s.file);
	run_table("file missing", &s, missing, PM_ARRAY_LEN(missing));

	/* created: picked up at the next check, at most a second later */
	write_file(path, "carol@example.org\n");
	sleep_ms(1100);
	assert_int_equal(lookup(&s, "<carol@example.org>", NULL), RCPT_VALID);
	assert_int_equal(lookup(&s, "<dave@example.org>", NULL), RCPT_UNKNOWN);

	/* changed: not seen within the second, seen after it */
	write_file(path, "dave@example.org\n");
	assert_int_equal(lookup(&s, "<carol@example.org>", NULL), RCPT_VALID);
	sleep_ms(1100);
	assert_int_equal(lookup(&s, "<carol@example.org>", NULL), RCPT_UNKNOWN);
	assert_int_equal(lookup(&s, "<dave@example.org>", NULL), RCPT_VALID);

	/* removed: the last good table stays */
	assert_int_equal(unlink(path), 0);
	sleep_ms(1100);
	assert_int_equal(lookup(&s, "<dave@example.org>", NULL), RCPT_VALID);

	/* unreadable (a directory in its place): the last good table stays */
	assert_int_equal(mkdir(path, 0700), 0);
	sleep_ms(1100);
	assert_int_equal(lookup(&s, "<dave@example.org>", NULL), RCPT_VALID);
	assert_int_equal(rmdir(path), 0);

	/* back again with new content */
	write_file(path, "erin@example.org\n");
	sleep_ms(1100);
	assert_int_equal(lookup(&s, "<erin@example.org>", NULL), RCPT_VALID);
	assert_int_equal(lookup(&s, "<dave@example.org>", NULL), RCPT_UNKNOWN);
	ft_release(s.file_table);
}

/* test_malformed_warnings - skipped lines are logged with file:line */
static void test_malformed_warnings(void **state)
{
	char path[600], logpath[600], logtext[4096] = "";
	struct recipient_settings s = {
	    .domains = local_domains,
	    .ndomains = 2,
	    .file = (char *)tmp_path("warn.txt", path, sizeof(path)),
	};
	int saved, fd;
	FILE *fp;
	size_t n;

	(void)state;
	s.file_table = rcpt_file_lazy(s.file);
	write_file(path, "# comment\nok@example.org\nbad line\n@@x\nfine@example.org\n");
	tmp_path("stderr.log", logpath, sizeof(logpath));
	fflush(stderr);
	saved = dup(2);
	fd = open(logpath, O_WRONLY | O_CREAT | O_TRUNC, 0600);
	assert_true(fd >= 0);
	dup2(fd, 2);
	close(fd);
	assert_int_equal(lookup(&s, "<fine@example.org>", NULL), RCPT_VALID);
	assert_int_equal(lookup(&s, "<ok@example.org>", NULL), RCPT_VALID);
	fflush(stderr);
	dup2(saved, 2);
	close(saved);
	fp = fopen(logpath, "r");
	assert_non_null(fp);
	n = fread(logtext, 1, sizeof(logtext) - 1, fp);
	logtext[n] = '\0';
	fclose(fp);
	{
		char want3[700], want4[700];

		snprintf(want3, sizeof(want3), "%s:3:", path);
		snprintf(want4, sizeof(want4), "%s:4:", path);
		if (strstr(logtext, want3) == NULL || strstr(logtext, want4) == NULL)
			fail_msg("warnings: got \"%s\", want lines naming %s and %s", logtext,
			         want3, want4);
	}
	ft_release(s.file_table);
}

/* test_check_file - rcpt_check_file: the strict read of rcpt_file_load */
static void test_check_file(void **state)
{
	char good[600], mixed[600], missing[600], err[512];

	(void)state;
	data_path("recipients-good.txt", good, sizeof(good));
	data_path("recipients-mixed.txt", mixed, sizeof(mixed));
	tmp_path("does-not-exist", missing, sizeof(missing));

	err[0] = 'x';
	if (rcpt_check_file(good, err, sizeof(err)) != 0)
		fail_msg("%s: got error \"%s\", want ok", good, err);
	if (rcpt_check_file(mixed, err, sizeof(err)) != -1)
		fail_msg("%s: got ok, want an error", mixed);
	{
		char want[700];

		snprintf(want, sizeof(want), "%s:8: ", mixed); /* "bad line here" */
		if (strncmp(err, want, strlen(want)) != 0)
			fail_msg("got \"%s\", want one starting \"%s\"", err, want);
	}
	if (rcpt_check_file(missing, err, sizeof(err)) != -1 || strstr(err, missing) == NULL)
		fail_msg("missing file: got \"%s\", want an error naming it", err);
	assert_int_equal(rcpt_check_file("", err, sizeof(err)), -1);
	assert_int_equal(rcpt_check_file(NULL, err, sizeof(err)), -1);
	assert_int_equal(rcpt_check_file(data_dir, err, sizeof(err)), -1); /* a directory */
}

/*
 * test_fifo - a FIFO named as the recipients file (fuzz regression): refused
 * as not a regular file, strictly and through the file cache, without
 * waiting for a writer; SIGALRM ends the test if open() blocks
 */
static void test_fifo(void **state)
{
	char path[600], err[1400];
	struct recipient_settings s = {
	    .domains = local_domains,
	    .ndomains = 2,
	    .file = (char *)tmp_path("fifo", path, sizeof(path)),
	};
	const char *why = NULL;

	(void)state;
	s.file_table = rcpt_file_lazy(s.file);
	assert_int_equal(mkfifo(path, 0600), 0);
	alarm(10);
	err[0] = '\0';
	if (rcpt_check_file(path, err, sizeof(err)) != -1 ||
	    strstr(err, "not a regular file") == NULL)
		fail_msg("FIFO: got \"%s\", want \"%s: not a regular file\"", err, path);
	if (lookup(&s, "alice@example.org", &why) != RCPT_TEMPFAIL)
		fail_msg("FIFO in use: got %s, want tempfail (never read)", why ? why : "(null)");
	alarm(0);
	unlink(path);
	ft_release(s.file_table);
}

/* read_log - the text of path into buf */
static void read_log(const char *path, char *buf, size_t size)
{
	FILE *fp = fopen(path, "r");
	size_t n;

	assert_non_null(fp);
	n = fread(buf, 1, size - 1, fp);
	buf[n] = '\0';
	fclose(fp);
}

/* test_unsafe - a recipients file anyone could change: refused, or not re-read */
static void test_unsafe(void **state)
{
	char path[600], dir[500], err[1400], want[2400], logpath[600], logtext[8192];
	struct recipient_settings s = {
	    .domains = local_domains,
	    .ndomains = 2,
	    .file = (char *)tmp_path("unsafe.txt", path, sizeof(path)),
	};
	int saved, fd;
	FILE *fp;

	(void)state;
	s.file_table = rcpt_file_lazy(s.file);
	/* config validation: a world-writable file, a file in a world-writable directory */
	write_file(path, "carol@example.org\n");
	assert_int_equal(chmod(path, 0666), 0);
	assert_int_equal(rcpt_check_file(path, err, sizeof(err)), -1);
	snprintf(want, sizeof(want),
	         "%s: unsafe permissions: the file is world-writable (mode 0666): anyone could "
	         "change it; chmod o-w %s",
	         path, path);
	assert_string_equal(err, want);
	tmp_path("open", dir, sizeof(dir));
	assert_int_equal(mkdir(dir, 0700), 0);
	assert_int_equal(chmod(dir, 0777), 0);
	{
		char inopen[600];

		snprintf(inopen, sizeof(inopen), "%s/rcpt.txt", dir);
		write_file(inopen, "carol@example.org\n");
		assert_int_equal(rcpt_check_file(inopen, err, sizeof(err)), -1);
		snprintf(want, sizeof(want),
		         "%s: unsafe permissions: its directory %s is world-writable without the "
		         "sticky bit (mode 0777): anyone could replace the file; chmod o-w %s, or "
		         "move the file",
		         inopen, dir, dir);
		assert_string_equal(err, want);
		assert_int_equal(chmod(dir, 01777), 0); /* sticky: others cannot replace it */
		assert_int_equal(rcpt_check_file(inopen, err, sizeof(err)), 0);
	}

	/* in use: a world-writable file is not read (never read: 4xx), then read once safe */
	tmp_path("stderr-unsafe.log", logpath, sizeof(logpath));
	fflush(stderr);
	saved = dup(2);
	fd = open(logpath, O_WRONLY | O_CREAT | O_TRUNC, 0600);
	assert_true(fd >= 0);
	dup2(fd, 2);
	close(fd);
	assert_int_equal(lookup(&s, "<carol@example.org>", NULL), RCPT_TEMPFAIL);
	assert_int_equal(chmod(path, 0644), 0);
	sleep_ms(1100);
	assert_int_equal(lookup(&s, "<carol@example.org>", NULL), RCPT_VALID);
	/* made world-writable and changed in place: the table read before stays */
	assert_int_equal(chmod(path, 0666), 0);
	fp = fopen(path, "r+");
	assert_non_null(fp);
	fputs("dave@example.org\n", fp);
	fclose(fp);
	sleep_ms(1100);
	assert_int_equal(lookup(&s, "<carol@example.org>", NULL), RCPT_VALID);
	assert_int_equal(lookup(&s, "<dave@example.org>", NULL), RCPT_UNKNOWN);
	sleep_ms(1100);
	assert_int_equal(lookup(&s, "<dave@example.org>", NULL), RCPT_UNKNOWN);
	/* safe again (only the mode changed back): the new contents */
	assert_int_equal(chmod(path, 0644), 0);
	sleep_ms(1100);
	assert_int_equal(lookup(&s, "<dave@example.org>", NULL), RCPT_VALID);
	assert_int_equal(lookup(&s, "<carol@example.org>", NULL), RCPT_UNKNOWN);
	fflush(stderr);
	dup2(saved, 2);
	close(saved);
	read_log(logpath, logtext, sizeof(logtext));
	snprintf(want, sizeof(want),
	         "recipients file %s: unsafe permissions: the file is world-writable (mode 0666): "
	         "anyone could change it; chmod o-w %s; recipients get a 4xx",
	         path, path);
	if (strstr(logtext, want) == NULL)
		fail_msg("log: got \"%s\", want \"%s\"", logtext, want);
	snprintf(want, sizeof(want),
	         "recipients file %s: unsafe permissions: the file is world-writable (mode 0666): "
	         "anyone could change it; chmod o-w %s; keeping the table read before",
	         path, path);
	{
		const char *first = strstr(logtext, want);

		if (first == NULL || strstr(first + 1, want) != NULL)
			fail_msg("log: got \"%s\", want \"%s\" once", logtext, want);
	}
	ft_release(s.file_table);
}

/* test_big_file - 100k addresses: load and look up quickly */
static void test_big_file(void **state)
{
	char path[600], addr[64];
	struct recipient_settings s = {
	    .domains = local_domains,
	    .ndomains = 2,
	    .file = (char *)tmp_path("big.txt", path, sizeof(path)),
	};
	struct timespec t0, t1;
	FILE *fp;
	int i;
	double secs;

	(void)state;
	s.file_table = rcpt_file_lazy(s.file);
	fp = fopen(path, "w");
	assert_non_null(fp);
	for (i = 0; i < 100000; i++)
		fprintf(fp, "user%d@example.%s\n", i, i % 2 ? "net" : "org");
	fclose(fp);
	clock_gettime(CLOCK_MONOTONIC, &t0);
	for (i = 0; i < 100000; i += 997) {
		snprintf(addr, sizeof(addr), "<User%d@example.%s>", i, i % 2 ? "net" : "org");
		if (lookup(&s, addr, NULL) != RCPT_VALID)
			fail_msg("%s: got not valid, want valid", addr);
		snprintf(addr, sizeof(addr), "<user%d@example.%s>", i, i % 2 ? "org" : "net");
		if (lookup(&s, addr, NULL) != RCPT_UNKNOWN)
			fail_msg("%s: got not unknown, want unknown", addr);
	}
	clock_gettime(CLOCK_MONOTONIC, &t1);
	secs = (double)(t1.tv_sec - t0.tv_sec) + (double)(t1.tv_nsec - t0.tv_nsec) / 1e9;
	if (secs > 5.0)
		fail_msg("100k-line file: got %.2f s, want under 5 s", secs);
	ft_release(s.file_table);
}

struct thread_arg {
	const struct recipient_settings *s;
	int bad;
};

/* lookup_thread - many lookups; carol is in every version of the file */
static void *lookup_thread(void *p)
{
	struct thread_arg *ta = p;
	int i;

	for (i = 0; i < 3000; i++) {
		struct pm_addr a;
		const char *why;
		static const char carol[] = "<carol@example.org>";

		addr_parse(carol, sizeof(carol) - 1, 0, &a, &why);
		if (rcpt_lookup(ta->s, ADDR_OK, &a, &why) != RCPT_VALID)
			ta->bad++;
		if (i % 100 == 0)
			sleep_ms(1);
	}
	return NULL;
}

/* test_threads - concurrent lookups while the file changes */
static void test_threads(void **state)
{
	char path[600];
	struct recipient_settings s = {
	    .domains = local_domains,
	    .ndomains = 2,
	    .file = (char *)tmp_path("threads.txt", path, sizeof(path)),
	};
	pthread_t th[8];
	struct thread_arg ta[8];
	int i, bad = 0;

	(void)state;
	s.file_table = rcpt_file_lazy(s.file);
	write_file(path, "carol@example.org\n");
	for (i = 0; i < 8; i++) {
		ta[i].s = &s;
		ta[i].bad = 0;
		assert_int_equal(pthread_create(&th[i], NULL, lookup_thread, &ta[i]), 0);
	}
	for (i = 0; i < 6; i++) {
		char text[128];

		snprintf(text, sizeof(text), "carol@example.org\nv%d@example.org\n", i);
		write_file(path, text);
		sleep_ms(300);
	}
	for (i = 0; i < 8; i++) {
		pthread_join(th[i], NULL);
		bad += ta[i].bad;
	}
	if (bad)
		fail_msg("concurrent lookups: got %d not valid, want 0", bad);
	ft_release(s.file_table);
}

/*
 * The re-read hook of test_reload_no_wait: the re-reading thread stops
 * here, before it reads, until the test lets it go (or 60 s pass, so a
 * broken build fails instead of hanging).
 */
static pthread_mutex_t hook_lock = PTHREAD_MUTEX_INITIALIZER;
static pthread_cond_t hook_cond = PTHREAD_COND_INITIALIZER;
static int hook_entered; /* re-reads that reached the hook */
static bool hook_open;   /* the test let the re-read go on */

/* reread_hook - hold the re-read until hook_open */
static void reread_hook(const char *path)
{
	struct timespec until;

	(void)path;
	clock_gettime(CLOCK_REALTIME, &until);
	until.tv_sec += 60;
	pthread_mutex_lock(&hook_lock);
	hook_entered++;
	pthread_cond_broadcast(&hook_cond);
	while (!hook_open)
		if (pthread_cond_timedwait(&hook_cond, &hook_lock, &until) != 0)
			break;
	pthread_mutex_unlock(&hook_lock);
}

#define BIG_LINES 200000 /* the recipients file of the stress test */
#define SESSIONS  20     /* concurrent sessions */

struct session_arg {
	const struct recipient_settings *s;
	int id;
	bool stop;              /* atomic: the test is done with this session */
	unsigned during;        /* atomic: lookups completed while the re-read was held */
	unsigned wrong;         /* lookups with a wrong answer for the table in force */
	bool saw_new;           /* a lookup saw the rewritten file */
	bool blocked_in_reread; /* this session is the one doing the re-read */
};

/* write_big - path with BIG_LINES addresses userN@example.org from N = first (via rename) */
static void write_big(const char *path, int first)
{
	char tmp[700];
	FILE *fp;

	snprintf(tmp, sizeof(tmp), "%s.tmp", path);
	fp = fopen(tmp, "w");
	assert_non_null(fp);
	for (int i = first; i < first + BIG_LINES; i++)
		fprintf(fp, "user%d@example.org\n", i);
	assert_int_equal(fclose(fp), 0);
	assert_int_equal(rename(tmp, path), 0);
}

/* session - RCPTs in a loop: user<id> (in both files) and user<BIG_LINES + id> (only the new) */
static void *session(void *p)
{
	struct session_arg *sa = p;
	char old_addr[64], new_addr[64];
	struct pm_addr a, b;
	const char *why;

	snprintf(old_addr, sizeof(old_addr), "<user%d@example.org>", BIG_LINES / 2 + sa->id);
	snprintf(new_addr, sizeof(new_addr), "<user%d@example.org>", BIG_LINES + sa->id);
	addr_parse(old_addr, strlen(old_addr), 0, &a, &why);
	addr_parse(new_addr, strlen(new_addr), 0, &b, &why);
	while (!__atomic_load_n(&sa->stop, __ATOMIC_ACQUIRE)) {
		bool held;
		enum rcpt_status st;

		pthread_mutex_lock(&hook_lock);
		held = hook_entered > 0 && !hook_open;
		pthread_mutex_unlock(&hook_lock);
		if (rcpt_lookup(sa->s, ADDR_OK, &a, &why) != RCPT_VALID)
			sa->wrong++;
		st = rcpt_lookup(sa->s, ADDR_OK, &b, &why);
		if (st == RCPT_VALID)
			sa->saw_new = true;
		else if (st != RCPT_UNKNOWN)
			sa->wrong++;
		pthread_mutex_lock(&hook_lock);
		if (held && hook_entered > 0 && !hook_open) {
			/* the lookups began and ended while the re-read was held */
			__atomic_add_fetch(&sa->during, 1, __ATOMIC_RELEASE);
			if (st == RCPT_VALID)
				sa->wrong++; /* the new file cannot be in force yet */
		}
		pthread_mutex_unlock(&hook_lock);
	}
	return NULL;
}

/*
 * test_reload_no_wait - a recipients file of 200,000 lines rewritten
 * under 20 concurrent sessions: the re-read is held (a hook stops it
 * before it reads the new file) while every other session completes
 * RCPT lookups against the table read before; once let go, the new
 * table is swapped in and seen. A lookup that waited for the re-read
 * would never complete while it is held (the test then fails after a
 * bounded wait).
 */
static void test_reload_no_wait(void **state)
{
	char path[600], err[1024];
	struct recipient_settings s = {
	    .domains = local_domains,
	    .ndomains = 2,
	    .file = (char *)tmp_path("big-reload.txt", path, sizeof(path)),
	};
	pthread_t th[SESSIONS];
	struct session_arg sa[SESSIONS];
	int i, waited, blocked = 0, progressed = 0;
	unsigned wrong = 0;
	bool saw_new = true;

	(void)state;
	write_big(path, 0);
	s.file_table = rcpt_file_load(path, NULL, err, sizeof(err));
	if (s.file_table == NULL)
		fail_msg("load: %s", err);
	ft_set_recheck_ms(s.file_table, 0); /* every lookup checks the file */
	hook_entered = 0;
	hook_open = false;
	ft_set_reread_hook(reread_hook);
	memset(sa, 0, sizeof(sa));
	for (i = 0; i < SESSIONS; i++) {
		sa[i].s = &s;
		sa[i].id = i;
		assert_int_equal(pthread_create(&th[i], NULL, session, &sa[i]), 0);
	}
	sleep_ms(50);
	write_big(path, BIG_LINES / 2); /* userN for N in [100000, 300000) */

	/* one session takes the re-read on and is held in the hook */
	pthread_mutex_lock(&hook_lock);
	for (waited = 0; hook_entered == 0 && waited < 300; waited++) {
		pthread_mutex_unlock(&hook_lock);
		sleep_ms(100);
		pthread_mutex_lock(&hook_lock);
	}
	pthread_mutex_unlock(&hook_lock);
	assert_int_equal(hook_entered, 1);

	/* every other session completes lookups meanwhile (bounded: 30 s) */
	for (waited = 0; waited < 3000; waited++) {
		progressed = 0;
		for (i = 0; i < SESSIONS; i++)
			if (__atomic_load_n(&sa[i].during, __ATOMIC_ACQUIRE) >= 50)
				progressed++;
		if (progressed >= SESSIONS - 1)
			break;
		sleep_ms(10);
	}
	for (i = 0; i < SESSIONS; i++)
		if (__atomic_load_n(&sa[i].during, __ATOMIC_ACQUIRE) == 0)
			blocked++;
	if (progressed < SESSIONS - 1 || blocked != 1)
		fail_msg("while the re-read was held: %d of %d other sessions completed 50 "
		         "lookups, %d made none; want %d and 1 (the re-reader)",
		         progressed, SESSIONS - 1, blocked, SESSIONS - 1);

	/* let it go: the new table is swapped in and seen by every session */
	pthread_mutex_lock(&hook_lock);
	hook_open = true;
	pthread_cond_broadcast(&hook_cond);
	pthread_mutex_unlock(&hook_lock);
	for (waited = 0; waited < 3000; waited++) {
		saw_new = true;
		for (i = 0; i < SESSIONS; i++)
			saw_new &= __atomic_load_n(&sa[i].saw_new, __ATOMIC_ACQUIRE);
		if (saw_new)
			break;
		sleep_ms(10);
	}
	for (i = 0; i < SESSIONS; i++) {
		__atomic_store_n(&sa[i].stop, true, __ATOMIC_RELEASE);
		pthread_join(th[i], NULL);
		wrong += sa[i].wrong;
	}
	ft_set_reread_hook(NULL);
	if (!saw_new)
		fail_msg("after the re-read: not every session saw the new file");
	if (wrong)
		fail_msg("got %u wrong answers, want 0", wrong);
	ft_release(s.file_table);
}

/*
 * test_many_separators - every detail separator counts, the last of
 * nineteen too (the lookup tried only the first seventeen before), and
 * the exemption from sender checks strips details the same way
 */
static void test_many_separators(void **state)
{
	static char *listed[] = {"carol@example.org"};
	static char *exempt[] = {"carol"};
	struct recipient_settings s = {
	    .domains = local_domains,
	    .ndomains = 2,
	    .addresses = listed,
	    .naddresses = 1,
	    .detail_separators = "!#$%&'*+-/=?^_`{|}~",
	    .exempt = exempt,
	    .nexempt = 1,
	};
	struct pm_addr a;
	const char *why;

	(void)state;
	assert_int_equal(lookup(&s, "<carol~news@example.org>", &why), RCPT_VALID);
	assert_string_equal(why, "recipients.addresses");
	assert_int_equal(lookup(&s, "<carolx~news@example.org>", NULL), RCPT_UNKNOWN);
	assert_int_equal(addr_parse("<Carol~news@example.net>", 24, 0, &a, &why), ADDR_OK);
	assert_true(rcpt_exempt_from_sender_checks(&s, ADDR_OK, &a));
	assert_int_equal(addr_parse("<carolx~news@example.net>", 25, 0, &a, &why), ADDR_OK);
	assert_false(rcpt_exempt_from_sender_checks(&s, ADDR_OK, &a));
	assert_int_equal(addr_parse("<carol~news@foreign.test>", 25, 0, &a, &why), ADDR_OK);
	assert_false(rcpt_exempt_from_sender_checks(&s, ADDR_OK, &a));
}

/* test_status_names - every status has its name */
static void test_status_names(void **state)
{
	(void)state;
	assert_string_equal(rcpt_status_name(RCPT_VALID), "valid");
	assert_string_equal(rcpt_status_name(RCPT_ALWAYS_VALID), "always_valid");
	assert_string_equal(rcpt_status_name(RCPT_UNKNOWN), "unknown");
	assert_string_equal(rcpt_status_name(RCPT_FOREIGN), "foreign");
	assert_string_equal(rcpt_status_name(RCPT_TEMPFAIL), "tempfail");
}

/* setup - find the fixtures, make a temporary directory */
static int setup(void **state)
{
	const char *slash = strrchr(__FILE__, '/');

	(void)state;
	if (slash)
		snprintf(data_dir, sizeof(data_dir), "%.*s/data", (int)(slash - __FILE__),
		         __FILE__);
	else
		snprintf(data_dir, sizeof(data_dir), "data");
	if (tmpdir_make("test_rcpt", tmp_dir, sizeof(tmp_dir)) != 0)
		return -1;
	log_open("test_rcpt", LOG_MAIL, true);
	return 0;
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
	    cmocka_unit_test(test_full),           cmocka_unit_test(test_sources),
	    cmocka_unit_test(test_file_cache),     cmocka_unit_test(test_malformed_warnings),
	    cmocka_unit_test(test_check_file),     cmocka_unit_test(test_big_file),
	    cmocka_unit_test(test_threads),        cmocka_unit_test(test_status_names),
	    cmocka_unit_test(test_unsafe),         cmocka_unit_test(test_fifo),
	    cmocka_unit_test(test_reload_no_wait), cmocka_unit_test(test_many_separators),
	};

	return cmocka_run_group_tests(tests, setup, teardown);
}
