/*
 * NAME
 *	arcverify - validate the ARC chain of one message with src/arc.c
 * SYNOPSIS
 *	arcverify [--keys FILE] MESSAGE
 * DESCRIPTION
 *	Reads an RFC 5322 message (LF or CRLF line ends), hands its header
 *	fields and body to an arc_verifier the way libmilter would (name
 *	and value apart, the value with its leading space: leadspc), and
 *	prints one line:
 *
 *	  cv=<none|pass|fail|temperror> oldest_pass=<n> sets=<n> reason=<text>
 *
 *	Keys come from FILE when given, one per line:
 *	"selector._domainkey.domain TXT-text" (a name given twice is
 *	"several records"; a name absent is "no key"); without --keys, from
 *	DNS through a budget of the verifier's own. The differential test
 *	(tests/arc/) compares this line with Mail::DKIM.
 * DIAGNOSTICS
 *	Exit 0 with the line above; exit 2 on bad usage or an unreadable
 *	file.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "arc.h"
#include "util.h"

struct keyfile {
	char **names;
	char **texts;
	size_t n;
};

/* read_all - the whole file at path into a new buffer (*len bytes; NUL added); NULL on error */
static char *read_all(const char *path, size_t *len)
{
	FILE *f = fopen(path, "rb");
	struct strbuf sb;
	char buf[65536];
	size_t got;

	if (f == NULL)
		return NULL;
	sb_init(&sb);
	while ((got = fread(buf, 1, sizeof(buf), f)) > 0)
		sb_appendn(&sb, buf, got);
	if (ferror(f)) {
		fclose(f);
		sb_free(&sb);
		return NULL;
	}
	fclose(f);
	*len = sb.len;
	return sb_steal(&sb);
}

/* load_keys - the key file's "name text" lines into *k; false when unreadable */
static bool load_keys(const char *path, struct keyfile *k)
{
	size_t len;
	char *all = read_all(path, &len), *line, *save = NULL;

	if (all == NULL)
		return false;
	for (line = strtok_r(all, "\r\n", &save); line != NULL;
	     line = strtok_r(NULL, "\r\n", &save)) {
		char *sp = line + strcspn(line, " \t");

		if (*line == '#' || *line == '\0' || *sp == '\0')
			continue;
		*sp++ = '\0';
		sp += strspn(sp, " \t");
		k->names = xrealloc(k->names, (k->n + 1) * sizeof(*k->names));
		k->texts = xrealloc(k->texts, (k->n + 1) * sizeof(*k->texts));
		k->names[k->n] = xstrdup(line);
		k->texts[k->n] = xstrdup(sp);
		k->n++;
	}
	free(all);
	return true;
}

/* file_key - a dkim_key_lookup_fn over the key file */
static enum dkim_key_status file_key(const char *name, char **record, void *arg)
{
	const struct keyfile *k = arg;
	size_t found = 0, at = 0;

	for (size_t i = 0; i < k->n; i++)
		if (strcasecmp(k->names[i], name) == 0) {
			found++;
			at = i;
		}
	if (found == 0)
		return DKIM_KEY_NOTFOUND;
	if (found > 1)
		return DKIM_KEY_MULTIPLE;
	*record = xstrdup(k->texts[at]);
	return DKIM_KEY_FOUND;
}

/* feed - hand the message msg (len bytes) to v: header fields, end of headers, body */
static void feed(struct arc_verifier *v, const char *msg, size_t len)
{
	const char *p = msg, *end = msg + len;

	while (p < end) {
		const char *line_end, *field_end, *colon;
		char *name, *value;

		if (*p == '\n' || (*p == '\r' && p + 1 < end && p[1] == '\n')) {
			p += *p == '\n' ? 1 : 2; /* the empty line: the body follows */
			break;
		}
		/* a field runs until a line that does not start with WSP */
		field_end = p;
		for (;;) {
			line_end = memchr(field_end, '\n', (size_t)(end - field_end));
			if (line_end == NULL) {
				field_end = end;
				break;
			}
			field_end = line_end + 1;
			if (field_end >= end || (*field_end != ' ' && *field_end != '\t'))
				break;
		}
		colon = memchr(p, ':', (size_t)(field_end - p));
		if (colon == NULL) { /* not a header field: skip the line(s) */
			p = field_end;
			continue;
		}
		name = xstrndup(p, (size_t)(colon - p));
		{ /* the value without the field's final line end */
			const char *ve = field_end;

			if (ve > colon + 1 && ve[-1] == '\n')
				ve--;
			if (ve > colon + 1 && ve[-1] == '\r')
				ve--;
			value = xstrndup(colon + 1, (size_t)(ve - (colon + 1)));
		}
		arc_verify_header(v, name, value);
		free(name);
		free(value);
		p = field_end;
	}
	arc_verify_eoh(v);
	if (p < end)
		arc_verify_body(v, (const unsigned char *)p, (size_t)(end - p));
}

int main(int argc, char **argv)
{
	struct arc_verify_settings s;
	struct arc_verifier *v;
	struct arc_result r;
	struct keyfile keys = {NULL, NULL, 0};
	const char *keypath = NULL, *msgpath;
	char *msg;
	size_t len;

	if (argc == 4 && strcmp(argv[1], "--keys") == 0) {
		keypath = argv[2];
		msgpath = argv[3];
	} else if (argc == 2 && argv[1][0] != '-') {
		msgpath = argv[1];
	} else {
		fprintf(stderr, "usage: arcverify [--keys FILE] MESSAGE\n");
		return 2;
	}
	arc_verify_defaults(&s);
	s.leadspc = true;
	if (keypath != NULL) {
		if (!load_keys(keypath, &keys)) {
			perror(keypath);
			return 2;
		}
		s.key_lookup = file_key;
		s.key_lookup_arg = &keys;
	}
	msg = read_all(msgpath, &len);
	if (msg == NULL) {
		perror(msgpath);
		return 2;
	}
	v = arc_verify_new(&s, "arcverify");
	feed(v, msg, len);
	arc_verify_eom(v, &r);
	printf("cv=%s oldest_pass=%u sets=%zu reason=%s\n", pm_arc_result_name(r.result),
	       r.oldest_pass, r.n, r.reason);
	arc_result_free(&r);
	arc_verify_free(v);
	free(msg);
	for (size_t i = 0; i < keys.n; i++) {
		free(keys.names[i]);
		free(keys.texts[i]);
	}
	free(keys.names);
	free(keys.texts);
	return 0;
}
