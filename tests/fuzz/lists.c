/*
 * NAME
 *	fuzz lists - libFuzzer target for lists.c (allow and block lists)
 * DESCRIPTION
 *	Input: one byte choosing the list kind (its value modulo 5, enum
 *	list_kind) and, with bit 0x80, inline entries instead of a file;
 *	then the list: a list file (written to a file and read by list_new
 *	as lists.*_file is), or one inline entry a line (as lists.*.allow
 *	and .block are given).
 *
 *	Checked besides the sanitizers: list_new gives a list or errors,
 *	never both; each error has a message. When the list is accepted,
 *	every entry matches the value it describes (header lists.h): an
 *	address or block its (network) address, a name itself, ".suffix" a
 *	name below it, "user@" that user at a domain, "domain" and
 *	"@domain" an address there, ".domain" an address below it, "<>" the
 *	null sender; the null sender matches only "<>"; the hit names an
 *	entry and list_hit_format prints it.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "addr.h"
#include "fuzzlib.h"
#include "lists.h"
#include "util.h"

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
	(void)argc;
	(void)argv;
	return 0;
}

/* is_space - what the list reader trims */
static bool is_space(char c)
{
	return c == ' ' || c == '\t' || c == '\r' || c == '\n' || c == '\f' || c == '\v';
}

/* entry_of - a line as the reader sees it: comment cut (files only), white space trimmed */
static char *entry_of(char *line, bool in_file)
{
	size_t len, i;

	if (in_file)
		for (i = 0; line[i] != '\0'; i++)
			if (line[i] == '#' &&
			    (i == 0 || line[i - 1] == ' ' || line[i - 1] == '\t')) {
				line[i] = '\0';
				break;
			}
	while (is_space(*line))
		line++;
	len = strlen(line);
	while (len > 0 && is_space(line[len - 1]))
		line[--len] = '\0';
	return line;
}

/* probe_for - a value entry e of kind must match, into buf; false when there is none to try */
static bool probe_for(enum list_kind kind, const char *e, char *buf, size_t size)
{
	const char *slash;
	struct pm_addr a;
	const char *why;
	int n;

	switch (kind) {
	case LIST_CLIENT:
		slash = strchr(e, '/');
		n = snprintf(buf, size, "%.*s", slash ? (int)(slash - e) : (int)strlen(e), e);
		return n > 0 && (size_t)n < size;
	case LIST_CLIENT_NAME:
	case LIST_HELO:
		n = snprintf(buf, size, "%s%s", e[0] == '.' ? "x" : "", e);
		/* a name below a long suffix may be too long to be a name */
		return n > 0 && (size_t)n < size && (e[0] != '.' || n <= 253);
	case LIST_SENDER:
	case LIST_RECIPIENT:
		if (strcmp(e, "<>") == 0)
			n = snprintf(buf, size, "<>");
		else if (e[0] == '.')
			n = snprintf(buf, size, "x@x%s", e);
		else if (strchr(e + 1, '@') == NULL)
			n = snprintf(buf, size, "%s%s", e[0] == '@' ? "x" : "x@", e);
		else if (e[strlen(e) - 1] == '@')
			n = snprintf(buf, size, "%sexample.org", e);
		else
			n = snprintf(buf, size, "%s", e);
		if (n <= 0 || (size_t)n >= size)
			return false;
		/* the value must be an address the MTA could give */
		return strcmp(buf, "<>") == 0 ||
		       (addr_parse(buf, strlen(buf), 0, &a, &why) == ADDR_OK &&
		        !a.had_source_route);
	}
	return false;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	const char *path = fuzz_path(0, "list.txt");
	struct list_errors errs = {NULL, 0};
	struct list_hit hit;
	enum list_kind kind;
	struct pm_list *l;
	char *text, *save = NULL, *line, **lines = NULL, probe[LIST_ENTRY_MAX + 64], out[1400];
	size_t nlines = 0, cap = 0;
	bool in_file, null_listed = false;

	if (size == 0)
		return 0;
	kind = (enum list_kind)((data[0] & 0x7f) % 5);
	in_file = (data[0] & 0x80) == 0;
	text = fuzz_cstr(data + 1, size - 1);
	for (line = strtok_r(text, "\n", &save); line != NULL; line = strtok_r(NULL, "\n", &save)) {
		if (nlines == cap) {
			cap = cap ? 2 * cap : 16;
			lines = xrealloc(lines, cap * sizeof(*lines));
		}
		lines[nlines++] = line;
	}
	if (in_file) {
		fuzz_write(path, data + 1, size - 1);
		l = list_new(kind, "lists.fuzz.block", NULL, 0, path, &errs);
	} else {
		l = list_new(kind, "lists.fuzz.block", (const char *const *)lines, nlines, NULL,
		             &errs);
	}
	if (l == NULL) {
		FUZZ_CHECK(errs.n > 0, "no list and no error");
		for (size_t i = 0; i < errs.n; i++)
			FUZZ_CHECK(errs.v[i].message != NULL && errs.v[i].message[0] != '\0',
			           "error %zu without a message", i);
		goto done;
	}
	FUZZ_CHECK(errs.n == 0, "a list and %zu errors", errs.n);
	list_set_recheck_ms(l, 0);
	for (size_t i = 0; i < nlines && i < 200; i++) {
		const char *e = entry_of(lines[i], in_file);

		if (*e == '\0')
			continue;
		if (strcmp(e, "<>") == 0)
			null_listed = true;
		if (!probe_for(kind, e, probe, sizeof(probe)))
			continue;
		memset(&hit, 0, sizeof(hit));
		FUZZ_CHECK(list_match(l, probe, &hit),
		           "kind %s: entry \"%s\" does not match \"%s\"", list_kind_name(kind), e,
		           probe);
		FUZZ_CHECK(hit.entry[0] != '\0' && hit.source != NULL, "hit without an entry");
		list_hit_format(&hit, out, sizeof(out));
		FUZZ_CHECK(out[0] != '\0', "empty hit text");
	}
	if (kind == LIST_SENDER || kind == LIST_RECIPIENT)
		FUZZ_CHECK(list_match(l, "<>", NULL) == (kind == LIST_SENDER && null_listed),
		           "the null sender matched \"%s\" wrongly", "<>");
	list_size(l);
	list_free(l);
done:
	list_errors_free(&errs);
	free(lines);
	free(text);
	return 0;
}
