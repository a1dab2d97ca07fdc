/*
 * NAME
 *	fuzz config - libFuzzer target for config_load.c (the policy file loader)
 * DESCRIPTION
 *	Input: a policy file. Every "@DIR@" in it becomes the path of a
 *	fixture directory, so that a seed (or a mutation) can name files of
 *	every kind the loader meets: a recipients file, list files of each
 *	kind, a small public suffix list, an empty file, a world-writable
 *	file, a directory, a FIFO, a symbolic link to /dev/zero and
 *	@include files (a good one, one including the directory, one
 *	including itself twice). The text is written to policy.conf in that
 *	directory and read by config_load() exactly as the daemon reads it
 *	(-n, start, reload).
 *
 *	Leaks of strings allocated by libconfig's scanner when a syntax
 *	error stops the parse (libconfig 1.5, hyperrealm/libconfig#142,
 *	fixed in 1.7; config_destroy cannot reach them) are suppressed
 *	(__lsan_default_suppressions); any other leak counts.
 *
 *	Checked besides the sanitizers (and libFuzzer's -timeout and
 *	-rss_limit_mb: a FIFO or an endless file must not hang or exhaust
 *	the loader):
 *	- a load takes less than LOAD_MS_MAX milliseconds (libFuzzer's own
 *	  timer interrupts a blocked open() now and then, EINTR, so a load
 *	  stuck on a FIFO could otherwise pass for merely slow);
 *	- a load gives a policy or errors, never both, never neither;
 *	- every error has a file, a key and a message, and prints;
 *	- a policy has an authserv_id and spf.receiver, and every reply a
 *	  4xx or 5xx code whose enhanced class matches its first digit,
 *	  with printable text.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "config.h"
#include "fuzzlib.h"
#include "policy.h"
#include "util.h"

#define LOAD_MS_MAX 3000 /* a load of a few kilobytes takes milliseconds */

const char *__lsan_default_suppressions(void);

/* __lsan_default_suppressions - libconfig 1.5's own leak (see DESCRIPTION), nothing else */
const char *__lsan_default_suppressions(void)
{
	/* libconfig.so: the string being scanned, and a string token dropped by the parser */
	return "leak:strbuf_append\nleak:libconfig_yylex\n";
}

/* fixture - a file of the fixture directory */
static void fixture(const char *name, const char *text)
{
	fuzz_write(fuzz_path(0, name), text, strlen(text));
}

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
	(void)argc;
	(void)argv;
	fixture("recipients.txt", "bob@example.org\n@example.net\n\"john doe\"@example.org\n");
	fixture("client.txt", "192.0.2.1\n198.51.100.0/24 # a comment\n2001:db8::/32\n");
	fixture("names.txt", "mail.example.net\n.example.org\n[192.0.2.1]\n");
	fixture("senders.txt", "user@example.net\nuser@\n@example.org\n.example.com\n<>\n");
	fixture("psl.dat", "// a public suffix list\ncom\norg\nnet\n*.ck\n!www.ck\n");
	fixture("inc.conf", "dry_run = true;\n");
	fixture("inc-dir.conf", "dry_run = true;\n@include \"dir\"\n");
	fixture("inc-self.conf", "@include \"inc-self.conf\"\n@include \"inc-self.conf\"\n");
	fixture("empty.txt", "");
	fixture("ww.txt", "192.0.2.1\n");
	if (chmod(fuzz_path(0, "ww.txt"), 0666) != 0 || mkdir(fuzz_path(0, "dir"), 0755) != 0 ||
	    mkfifo(fuzz_path(0, "fifo"), 0644) != 0 || symlink("/dev/zero", fuzz_path(0, "zero")))
		abort();
	/* a current policy, as in the daemon: each load shares its public suffix list while
	   the file is unchanged (the default, the real list), as a reload does */
	fixture("base.conf", "authserv_id = \"mx.example.org\";\n");
	{
		struct config_errors errs;
		struct policy *p = config_load(fuzz_path(0, "base.conf"), &errs);

		if (p == NULL)
			abort();
		config_errors_free(&errs);
		policy_set_current(p);
	}
	return 0;
}

/* substitute - text with every "@DIR@" replaced by the fixture directory; the caller frees */
static char *substitute(const uint8_t *data, size_t size, size_t *outlen)
{
	const char *dir = fuzz_dir();
	struct strbuf sb;
	size_t i = 0;

	sb_init(&sb);
	while (i < size) {
		if (size - i >= 5 && memcmp(data + i, "@DIR@", 5) == 0) {
			sb_append(&sb, dir);
			i += 5;
		} else {
			sb_appendn(&sb, (const char *)data + i, 1);
			i++;
		}
	}
	*outlen = sb.len;
	return sb_steal(&sb);
}

/* emit - config_errors_print's callback: count the lines */
static void emit(const char *line, void *arg)
{
	FUZZ_CHECK(line != NULL && line[0] != '\0', "empty error line");
	(*(size_t *)arg)++;
}

/* check_policy - the invariants of a policy config_load accepted */
static void check_policy(const struct policy *p)
{
	FUZZ_CHECK(p->refcount == 1 && p->generation > 0, "refcount %d", p->refcount);
	FUZZ_CHECK(p->authserv_id != NULL && p->authserv_id[0] != '\0', "no authserv_id");
	FUZZ_CHECK(p->spf.receiver != NULL && p->spf.receiver[0] != '\0', "no spf.receiver");
	for (int i = 0; i < PM_R_COUNT; i++) {
		const struct pm_reply *r = &p->replies[i];

		FUZZ_CHECK(r->code >= 400 && r->code <= 599, "reply %s: code %d",
		           pm_reply_name((enum pm_reply_id)i), r->code);
		FUZZ_CHECK(r->xcode[0] == '0' + r->code / 100, "reply %s: %d %s",
		           pm_reply_name((enum pm_reply_id)i), r->code, r->xcode);
		FUZZ_CHECK(r->text != NULL && fuzz_printable(r->text), "reply %s: text",
		           pm_reply_name((enum pm_reply_id)i));
	}
	for (size_t i = 0; i < p->noverrides; i++)
		FUZZ_CHECK(p->overrides[i].rule != NULL, "override %zu without a rule", i);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	const char *path = fuzz_path(1, "policy.conf");
	struct config_errors errs;
	struct policy *p;
	size_t len, lines = 0;
	struct timespec t0, t1;
	long ms;
	char *text;

	text = substitute(data, size, &len);
	fuzz_write(path, text, len);
	free(text);

	clock_gettime(CLOCK_MONOTONIC, &t0);
	p = config_load(path, &errs);
	clock_gettime(CLOCK_MONOTONIC, &t1);
	ms = (t1.tv_sec - t0.tv_sec) * 1000 + (t1.tv_nsec - t0.tv_nsec) / 1000000;
	FUZZ_CHECK(ms < LOAD_MS_MAX, "config_load took %ld ms", ms);
	if (p != NULL) {
		FUZZ_CHECK(errs.n == 0, "a policy and %zu errors", errs.n);
		check_policy(p);
		policy_release(p);
	} else {
		FUZZ_CHECK(errs.n > 0, "no policy and no error");
		for (size_t i = 0; i < errs.n; i++)
			FUZZ_CHECK(errs.v[i].file != NULL && errs.v[i].key != NULL &&
			               errs.v[i].message != NULL,
			           "error %zu incomplete", i);
		config_errors_print(&errs, emit, &lines);
		FUZZ_CHECK(lines == errs.n, "%zu errors printed as %zu lines", errs.n, lines);
	}
	config_errors_free(&errs);
	return 0;
}
