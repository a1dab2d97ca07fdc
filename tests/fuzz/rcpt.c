/*
 * NAME
 *	fuzz rcpt - libFuzzer target for rcpt.c (the recipients file and lookups)
 * DESCRIPTION
 *	Input: a recipients file (recipients.file: one address a line,
 *	"@domain" catch-alls, comments). It is written to a file and read by
 *	rcpt_check_file() (the strict read of policy-milter -n and of a
 *	load) and by rcpt_lookup() through a file table (filetable.h: the
 *	lenient read of a running daemon, re-read when the file changes).
 *	A table looks at its file at most once a second, so the input goes
 *	to one of CACHED_FILES files in turn, each with its own table kept
 *	across inputs: each is re-read once a second at most, the others
 *	give the table read before. The same lines are
 *	also the inline recipients.addresses.
 *
 *	Checked besides the sanitizers: when the strict read accepts the
 *	file, every address line (addr_parse as the daemon parses RCPT TO)
 *	looked up with its own domain as the local domain and the lines as
 *	recipients.addresses is valid (or always valid: postmaster, abuse), and so
 *	is a "+detail" form of it; the same local part at a domain that is
 *	not local is foreign. Every *why is printable.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "addr.h"
#include "filetable.h"
#include "fuzzlib.h"
#include "policy.h"
#include "rcpt.h"
#include "util.h"

#define CACHED_FILES 64 /* files the cache re-reads in turn (each at most once a second) */

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
	(void)argc;
	(void)argv;
	return 0;
}

/* strip - a line as the file reader sees it: no comment, no white space around */
static char *strip(char *line)
{
	size_t len = strlen(line), i;

	for (i = 0; i < len; i++)
		if (line[i] == '#' && (i == 0 || line[i - 1] == ' ' || line[i - 1] == '\t')) {
			line[i] = '\0';
			break;
		}
	while (*line == ' ' || *line == '\t')
		line++;
	len = strlen(line);
	while (len > 0 && (line[len - 1] == ' ' || line[len - 1] == '\t' || line[len - 1] == '\r' ||
	                   line[len - 1] == '\n'))
		line[--len] = '\0';
	return line;
}

/*
 * cached_lookup - the input as the next of the cached files, one lookup
 * through the cache (no oracle: its table may be a second old)
 */
static void cached_lookup(struct recipient_settings *s, const uint8_t *data, size_t size)
{
	static char *example[] = {"example.org"};
	static struct filetable *table[CACHED_FILES];
	static unsigned turn;
	unsigned i = turn++ % CACHED_FILES;
	const char *why = NULL;
	struct pm_addr a;
	char name[32];

	snprintf(name, sizeof(name), "cached-%u.txt", i);
	fuzz_write(fuzz_path(2, name), data, size);
	s->domains = example;
	s->ndomains = 1;
	s->file = (char *)fuzz_path(2, name);
	if (table[i] == NULL)
		table[i] = rcpt_file_lazy(s->file);
	s->file_table = table[i];
	if (addr_parse("<x+y@example.org>", 17, 0, &a, &why) != ADDR_OK)
		abort();
	rcpt_lookup(s, ADDR_OK, &a, &why);
	FUZZ_CHECK(why != NULL && fuzz_printable(why), "why \"%s\"", why ? why : "(null)");
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	const char *path = fuzz_path(0, "recipients.txt");
	char errbuf[2048], *text, *save = NULL, *line, **lines = NULL;
	char *domains[1];
	struct recipient_settings s;
	size_t nlines = 0, cap = 0;
	bool strict_ok;

	fuzz_write(path, data, size);
	errbuf[0] = '\0';
	strict_ok = rcpt_check_file(path, errbuf, sizeof(errbuf)) == 0;
	if (!strict_ok)
		FUZZ_CHECK(errbuf[0] != '\0', "refused without a reason");

	/* the lines, as inline entries (a NUL ends a line's text, as for a C string) */
	text = fuzz_cstr(data, size);
	for (line = strtok_r(text, "\n", &save); line != NULL; line = strtok_r(NULL, "\n", &save)) {
		if (nlines == cap) {
			cap = cap ? 2 * cap : 16;
			lines = xrealloc(lines, cap * sizeof(*lines));
		}
		lines[nlines++] = line;
	}

	memset(&s, 0, sizeof(s));
	s.mode = PM_MODE_ENFORCE;
	s.domains = domains;
	s.ndomains = 1;
	s.addresses = lines;
	s.naddresses = nlines;
	s.detail_separators = "+-";
	for (size_t i = 0; i < nlines && i < 64; i++) {
		const char *l = strip(lines[i]), *why = NULL;
		char probe[ADDR_LOCAL_MAX + ADDR_DOMAIN_MAX + 16];
		struct pm_addr a, b;
		enum rcpt_status st;

		if (addr_parse(l, strlen(l), 0, &a, &why) != ADDR_OK || a.had_source_route)
			continue;
		domains[0] = a.domain;
		s.file = NULL;
		st = rcpt_lookup(&s, ADDR_OK, &a, &why);
		if (strict_ok)
			FUZZ_CHECK(st == RCPT_VALID || st == RCPT_ALWAYS_VALID,
			           "line \"%s\" listed inline, looked up %s (%s)", l,
			           rcpt_status_name(st), why);
		/* the same with a detail: still listed */
		if (strict_ok && strlen(a.local) + 3 <= ADDR_LOCAL_MAX && !a.local_quoted &&
		    strchr(a.local, '+') == NULL) {
			snprintf(probe, sizeof(probe), "%s+x@%s", a.local, a.domain);
			if (addr_parse(probe, strlen(probe), 0, &b, &why) == ADDR_OK) {
				st = rcpt_lookup(&s, ADDR_OK, &b, &why);
				FUZZ_CHECK(st == RCPT_VALID || st == RCPT_ALWAYS_VALID,
				           "\"%s\" with line \"%s\" listed: %s (%s)", probe, l,
				           rcpt_status_name(st), why);
			}
		}
		/* the same local part at a domain that is not local */
		b = a;
		snprintf(b.domain, sizeof(b.domain), "not-local.invalid");
		FUZZ_CHECK(strcmp(a.domain, b.domain) == 0 ||
		               rcpt_lookup(&s, ADDR_OK, &b, &why) == RCPT_FOREIGN,
		           "a domain that is not local is not foreign");
	}
	cached_lookup(&s, data, size);
	free(lines);
	free(text);
	return 0;
}
