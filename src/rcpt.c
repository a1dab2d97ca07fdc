/*
 * NAME
 *	rcpt 3 - recipient validity: local domains, valid-recipient lists
 * SYNOPSIS
 *	#include "rcpt.h"
 *
 *	enum rcpt_status rcpt_lookup(const struct recipient_settings *s,
 *				     enum addr_status status, const struct pm_addr *a,
 *				     const char **why);
 *	int rcpt_check_file(const char *path, char *errbuf, size_t errsize);
 *	struct filetable *rcpt_file_load(const char *path, struct filetable *prev,
 *					 char *errbuf, size_t errsize);
 *	struct filetable *rcpt_file_lazy(const char *path);
 *	bool rcpt_exempt_from_sender_checks(const struct recipient_settings *s,
 *					    enum addr_status status,
 *					    const struct pm_addr *a);
 *	const char *rcpt_status_name(enum rcpt_status st);
 * DESCRIPTION
 *	Two sources of valid recipients: the inline list of the policy
 *	(recipients.addresses, small, scanned) and a file (recipients.file,
 *	possibly 100k lines, held in a hash set of lower-cased keys
 *	"local@domain" and "@domain" for catch-alls). The local part is
 *	compared ASCII case-insensitively, which covers the exact match too.
 *
 *	The sources sit behind one small interface (struct rcpt_source:
 *	configured, lookup, and the *why of each outcome), asked in order;
 *	a callout would be one more. The candidate keys are built once: the
 *	local part whole and before each detail separator (local_forms, which
 *	rcpt_exempt_from_sender_checks uses too), and the catch-all.
 *
 *	The file's table is a file table (filetable.h) owned by the policy
 *	snapshot (recipient_settings.file_table): read strictly when the
 *	policy is loaded (rcpt_file_load; an unchanged file's table is shared
 *	with the snapshot before), stat()ed at most once a second and re-read
 *	when its device, inode, size, modification time or mode changed. The
 *	re-read happens outside every lock: an RCPT never waits for it, and
 *	uses the table read before until the new one is swapped in. A file
 *	anyone on the host could change (world-writable, or in a
 *	world-writable directory without the sticky bit: pm_file_unsafe) is
 *	not read, nor is anything but a regular file (a FIFO is never waited
 *	on). A re-read that fails or is refused so keeps the previous table
 *	(and says so once, at LOG_WARNING); a file never read gives
 *	RCPT_TEMPFAIL.
 *
 *	File syntax: one address a line, "user@domain" or "@domain"; blank
 *	lines and lines starting with "#" are ignored, and so is text after
 *	a "#" that follows white space; leading and trailing white space is
 *	trimmed. The address is parsed with addr_parse (so quoted local
 *	parts work); a line that does not parse is skipped with a warning
 *	naming file and line (the first ten per read, then a count).
 * DIAGNOSTICS
 *	rcpt_lookup never fails; see rcpt.h for RCPT_TEMPFAIL.
 *	rcpt_check_file reports the first unreadable file or malformed line
 *	as "path:line: reason".
 */
#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "filetable.h"
#include "log.h"
#include "policy.h"
#include "rcpt.h"
#include "util.h"

#define RCPT_MAX_WARNINGS 10 /* malformed-line warnings per read */
#define RCPT_MAX_FORMS                                                                             \
	33 /* local-part forms: whole, and before each of at most 32 distinct                      \
	       separators (punctuation, config_keys.c: check_separators) */
#define ERRBUF_MAX (2 * PATH_MAX + 300)

/* make_key - "local@domain" lower-cased (ASCII) into buf; local "" gives "@domain" */
static void make_key(char *buf, size_t size, const char *local, size_t llen, const char *domain)
{
	snprintf(buf, size, "%.*s@%s", (int)llen, local, domain);
	pm_strlower(buf);
}

#define KEY_MAX (ADDR_LOCAL_MAX + 1 + ADDR_DOMAIN_MAX + 1)

/*
 * parse_line - one line of a recipients file into a key; 1 entry, 0 blank
 * or comment, -1 malformed with *why set
 */
static int parse_line(const char *line, size_t len, char *key, size_t keysize, const char **why)
{
	struct pm_addr a;
	size_t start = 0;

	len = ft_comment_start(line, len);
	while (start < len && (line[start] == ' ' || line[start] == '\t'))
		start++;
	while (len > start && (line[len - 1] == ' ' || line[len - 1] == '\t' ||
	                       line[len - 1] == '\r' || line[len - 1] == '\n'))
		len--;
	if (len == start)
		return 0;
	line += start;
	len -= start;
	if (line[0] == '@') {
		/* a catch-all: judge the domain as addr_parse would, for "x@domain" */
		char tmp[ADDR_DOMAIN_MAX + 8];

		if (len + 1 > sizeof(tmp)) {
			*why = "catch-all domain too long";
			return -1;
		}
		tmp[0] = 'x';
		memcpy(tmp + 1, line, len);
		if (addr_parse(tmp, len + 1, 0, &a, why) != ADDR_OK) {
			*why = "bad catch-all domain";
			return -1;
		}
		snprintf(key, keysize, "@%s", a.domain);
		return 1;
	}
	if (addr_parse(line, len, 0, &a, why) != ADDR_OK)
		return -1;
	if (a.had_source_route) {
		*why = "source route in recipients file";
		return -1;
	}
	make_key(key, keysize, a.local, strlen(a.local), a.domain);
	return 1;
}

/* One read of a recipients file in progress. */
struct reading {
	const char *path;
	bool strict;  /* the first malformed line fails the read */
	char *errbuf; /* strict: "path:line: why" */
	size_t errsize;
	size_t bad; /* malformed lines skipped */
};

/* read_line - ft_line_fn for a recipients file */
static int read_line(void *table, const char *line, size_t len, size_t lineno, void *arg)
{
	struct reading *rd = arg;
	const char *why = NULL;
	char key[KEY_MAX];
	int r = parse_line(line, len, key, sizeof(key), &why);

	if (r == 1) {
		ft_keyset_add(table, key, strlen(key), NULL, lineno);
	} else if (r < 0) {
		if (rd->strict) {
			if (rd->errbuf)
				snprintf(rd->errbuf, rd->errsize, "%s:%zu: %s", rd->path, lineno,
				         why);
			return -1;
		}
		if (++rd->bad <= RCPT_MAX_WARNINGS)
			log_msg(LOG_WARNING, "%s:%zu: %s; line skipped", rd->path, lineno, why);
	}
	return 0;
}

/* keyset_destroy - free a table (ft_ops.destroy) */
static void keyset_destroy(void *table)
{
	if (table == NULL)
		return;
	ft_keyset_clear(table);
	free(table);
}

/*
 * load_file - read path into a new key set. Returns it, or NULL with
 * res->err set (an errno value, FT_ERR_NOT_REG, FT_ERR_UNSAFE, EINVAL:
 * a malformed line with strict) and errbuf (when not NULL) saying why.
 * Without strict, malformed lines are skipped with a warning.
 */
static struct ft_keyset *load_file(const char *path, bool strict, char *errbuf, size_t errsize,
                                   struct ft_load *res)
{
	struct reading rd = {path, strict, errbuf, errsize, 0};
	struct ft_keyset *ks = xcalloc(1, sizeof(*ks));

	ft_keyset_init(ks);
	if (ft_read(path, read_line, ks, &rd, res) != 0) {
		keyset_destroy(ks);
		if (errbuf == NULL || res->err == EINVAL)
			return NULL;
		if (res->err == FT_ERR_UNSAFE)
			snprintf(errbuf, errsize, "%s: unsafe permissions: %s", path, res->why);
		else if (res->err == FT_ERR_NOT_REG)
			snprintf(errbuf, errsize, "%s: not a regular file", path);
		else if (res->opened)
			snprintf(errbuf, errsize, "%s: read error: %s", path, strerror(res->err));
		else
			snprintf(errbuf, errsize, "%s: %s", path, strerror(res->err));
		return NULL;
	}
	res->nbad = rd.bad;
	if (rd.bad > RCPT_MAX_WARNINGS)
		log_msg(LOG_WARNING, "%s: %zu malformed lines skipped in all", path, rd.bad);
	return ks;
}

/* rcpt_check_file - read a recipients file strictly, keeping nothing */
int rcpt_check_file(const char *path, char *errbuf, size_t errsize)
{
	struct ft_load res;
	struct ft_keyset *ks;

	if (errbuf && errsize)
		errbuf[0] = '\0';
	if (path == NULL || path[0] == '\0') {
		if (errbuf)
			snprintf(errbuf, errsize, "empty path");
		return -1;
	}
	ks = load_file(path, true, errbuf, errsize, &res);
	if (ks == NULL)
		return -1;
	keyset_destroy(ks);
	return 0;
}

/*
 * reload - a re-read at run time (ft_ops.load): lenient; the failure
 * text goes to res->why
 */
static void *reload(const char *path, void *arg, struct ft_load *res)
{
	char errbuf[ERRBUF_MAX];
	void *ks;

	(void)arg;
	errbuf[0] = '\0';
	ks = load_file(path, false, errbuf, sizeof(errbuf), res);
	if (ks == NULL)
		snprintf(res->why, sizeof(res->why), "%s", errbuf);
	return ks;
}

/* reloaded - log a re-read (ft_ops.loaded) */
static void reloaded(const char *path, void *arg, const void *table, const struct ft_load *res)
{
	(void)arg;
	(void)res;
	log_msg(LOG_INFO, "recipients file %s: read %zu entries", path,
	        ((const struct ft_keyset *)table)->n);
}

/* reload_failed - log a failed check or re-read, once per failure (ft_ops.failed) */
static void reload_failed(const char *path, void *arg, const char *what, const struct ft_load *res,
                          const void *old)
{
	const char *then = old ? "keeping the table read before" : "recipients get a 4xx";

	(void)arg;
	if (res->err == FT_ERR_UNSAFE || res->err == FT_ERR_NOT_REG)
		log_msg(LOG_WARNING, "recipients file %s; %s", res->why, then);
	else
		log_msg(LOG_WARNING, "recipients file %s: %s: %s; %s", path, what,
		        strerror(res->err), then);
}

static const struct ft_ops file_ops = {reload, reloaded, reload_failed, keyset_destroy, NULL};

/* rcpt_file_load - the recipients file read strictly now, or prev when unchanged */
struct filetable *rcpt_file_load(const char *path, struct filetable *prev, char *errbuf,
                                 size_t errsize)
{
	struct filetable *ft;
	struct ft_keyset *ks;
	struct ft_load res;

	if (errbuf && errsize)
		errbuf[0] = '\0';
	if ((ft = ft_reuse(prev, path)) != NULL)
		return ft;
	ks = load_file(path, true, errbuf, errsize, &res);
	if (ks == NULL)
		return NULL;
	return ft_new(path, &file_ops, NULL, ks, &res.st, true);
}

/* rcpt_file_lazy - a handle for path not read yet: the first lookup reads it */
struct filetable *rcpt_file_lazy(const char *path)
{
	return ft_new(path, &file_ops, NULL, NULL, NULL, false);
}

/* What a source of valid recipients says of the candidate keys. */
enum source_result { F_NOT_FOUND, F_FOUND, F_FOUND_CATCHALL, F_UNAVAILABLE };

/*
 * A source of valid recipients (recipients.addresses, recipients.file; a
 * callout would be one more). lookup gets the candidate keys, most
 * specific first, and the domain's catch-all key.
 */
struct rcpt_source {
	bool (*configured)(const struct recipient_settings *s);
	enum source_result (*lookup)(const struct recipient_settings *s, char keys[][KEY_MAX],
	                             size_t nkeys, const char *catchall);
	const char *found;       /* *why for F_FOUND */
	const char *catchall;    /* *why for F_FOUND_CATCHALL */
	const char *unavailable; /* *why for F_UNAVAILABLE (RCPT_TEMPFAIL) */
	const char *not_listed;  /* *why for a miss when this is the only source */
};

/* file_lookup - look the candidate keys up in the file's table */
static enum source_result file_lookup(const struct recipient_settings *s, char keys[][KEY_MAX],
                                      size_t nkeys, const char *catchall)
{
	struct filetable *ft = s->file_table;
	struct ft_version *v;
	const struct ft_keyset *ks;
	enum source_result r = F_NOT_FOUND;

	if (ft == NULL || (ks = ft_acquire(ft, &v)) == NULL) {
		if (ft != NULL)
			ft_put(v);
		return F_UNAVAILABLE;
	}
	for (size_t i = 0; i < nkeys && r == F_NOT_FOUND; i++)
		if (ft_keyset_get(ks, keys[i], strlen(keys[i])) != NULL)
			r = F_FOUND;
	if (r == F_NOT_FOUND && ft_keyset_get(ks, catchall, strlen(catchall)) != NULL)
		r = F_FOUND_CATCHALL;
	ft_put(v);
	return r;
}

/* inline_has - key in the policy's inline list (each entry parsed the way a file line is) */
static bool inline_has(const struct recipient_settings *s, const char *key)
{
	char k[KEY_MAX];
	const char *why;
	size_t i;

	for (i = 0; i < s->naddresses; i++) {
		if (s->addresses[i] == NULL ||
		    parse_line(s->addresses[i], strlen(s->addresses[i]), k, sizeof(k), &why) != 1)
			continue;
		if (strcmp(k, key) == 0)
			return true;
	}
	return false;
}

/* inline_lookup - look the candidate keys up in recipients.addresses */
static enum source_result inline_lookup(const struct recipient_settings *s, char keys[][KEY_MAX],
                                        size_t nkeys, const char *catchall)
{
	for (size_t i = 0; i < nkeys; i++)
		if (inline_has(s, keys[i]))
			return F_FOUND;
	return inline_has(s, catchall) ? F_FOUND_CATCHALL : F_NOT_FOUND;
}

/* inline_configured - recipients.addresses names recipients */
static bool inline_configured(const struct recipient_settings *s)
{
	return s->naddresses > 0;
}

/* file_configured - recipients.file is set */
static bool file_configured(const struct recipient_settings *s)
{
	return s->file != NULL && s->file[0] != '\0';
}

/* The sources, in the order they are asked. */
static const struct rcpt_source sources[] = {
    {inline_configured, inline_lookup, "recipients.addresses", "recipients.addresses: catch-all",
     "recipients.addresses: unavailable", "recipients.addresses: not listed"},
    {file_configured, file_lookup, "recipients.file", "recipients.file: catch-all",
     "recipients.file: never read (see earlier warning)", "recipients: not listed"},
};

/* is_local_domain - exact, case-insensitive match against recipients.domains */
static bool is_local_domain(const struct recipient_settings *s, const char *domain)
{
	size_t i;

	for (i = 0; i < s->ndomains; i++)
		if (pm_strcaseeq(s->domains[i], domain))
			return true;
	return false;
}

/*
 * local_forms - the lengths of the forms of local a recipient list may
 * name: the whole local part, then the part before each detail
 * separator found in it (its first occurrence, not at the start), each
 * length once; returns how many
 */
static size_t local_forms(const struct recipient_settings *s, const char *local,
                          size_t lens[RCPT_MAX_FORMS])
{
	size_t n = 0;

	lens[n++] = strlen(local);
	for (const char *sep = s->detail_separators ? s->detail_separators : "";
	     *sep != '\0' && n < RCPT_MAX_FORMS; sep++) {
		const char *d = strchr(local, *sep);
		size_t len = d != NULL ? (size_t)(d - local) : 0, i;

		for (i = 0; i < n && lens[i] != len; i++)
			continue;
		if (len > 0 && i == n)
			lens[n++] = len;
	}
	return n;
}

/* rcpt_exempt_from_sender_checks - a in recipients.exempt_from_sender_checks */
bool rcpt_exempt_from_sender_checks(const struct recipient_settings *s, enum addr_status status,
                                    const struct pm_addr *a)
{
	size_t lens[RCPT_MAX_FORMS], nforms;
	bool local;

	if (s == NULL || a == NULL || (status != ADDR_OK && status != ADDR_LOCAL_ONLY))
		return false;
	local = status == ADDR_LOCAL_ONLY || s->ndomains == 0 || is_local_domain(s, a->domain);
	nforms = local_forms(s, a->local, lens);
	for (size_t i = 0; i < s->nexempt; i++) {
		const char *e = s->exempt[i], *at = strchr(e, '@');
		size_t elen = at != NULL ? (size_t)(at - e) : strlen(e);

		if (at == NULL ? !local : status != ADDR_OK || !pm_strcaseeq(at + 1, a->domain))
			continue;
		for (size_t f = 0; f < nforms; f++)
			if (lens[f] == elen && strncasecmp(a->local, e, elen) == 0)
				return true;
	}
	return false;
}

/* rcpt_lookup - classify one recipient */
enum rcpt_status rcpt_lookup(const struct recipient_settings *s, enum addr_status status,
                             const struct pm_addr *a, const char **why)
{
	char keys[RCPT_MAX_FORMS][KEY_MAX], catchall[KEY_MAX];
	const struct rcpt_source *asked[PM_ARRAY_LEN(sources)];
	size_t lens[RCPT_MAX_FORMS], nkeys, nasked = 0;
	const char *dummy;

	if (why == NULL)
		why = &dummy;
	if (s == NULL || s->ndomains == 0) {
		*why = "no local domains configured";
		return RCPT_VALID;
	}
	if (status == ADDR_LOCAL_ONLY) {
		if (pm_strcaseeq(a->local, "postmaster")) {
			*why = "postmaster (RFC 5321 4.5.1)";
			return RCPT_ALWAYS_VALID;
		}
		*why = "no domain";
		return RCPT_UNKNOWN;
	}
	if (status != ADDR_OK) {
		*why = "not an address";
		return RCPT_UNKNOWN;
	}
	if (!is_local_domain(s, a->domain)) {
		*why = "recipients.domains: not a local domain";
		return RCPT_FOREIGN;
	}
	if (pm_strcaseeq(a->local, "postmaster")) {
		*why = "postmaster (RFC 5321 4.5.1)";
		return RCPT_ALWAYS_VALID;
	}
	if (pm_strcaseeq(a->local, "abuse")) {
		*why = "abuse (RFC 2142)";
		return RCPT_ALWAYS_VALID;
	}
	for (size_t i = 0; i < PM_ARRAY_LEN(sources); i++)
		if (sources[i].configured(s))
			asked[nasked++] = &sources[i];
	if (nasked == 0) {
		*why = "recipients.domains: no recipient list";
		return RCPT_VALID;
	}

	/* candidates: the full local part, then without each kind of +detail */
	nkeys = local_forms(s, a->local, lens);
	for (size_t i = 0; i < nkeys; i++)
		make_key(keys[i], KEY_MAX, a->local, lens[i], a->domain);
	make_key(catchall, sizeof(catchall), "", 0, a->domain);

	for (size_t i = 0; i < nasked; i++) {
		switch (asked[i]->lookup(s, keys, nkeys, catchall)) {
		case F_FOUND:
			*why = asked[i]->found;
			return RCPT_VALID;
		case F_FOUND_CATCHALL:
			*why = asked[i]->catchall;
			return RCPT_VALID;
		case F_UNAVAILABLE:
			*why = asked[i]->unavailable;
			return RCPT_TEMPFAIL;
		case F_NOT_FOUND:
			break;
		}
	}
	*why = nasked == 1 ? asked[0]->not_listed : "recipients: not listed";
	return RCPT_UNKNOWN;
}

/* rcpt_status_name - "valid", "always_valid", "unknown", "foreign", "tempfail" */
const char *rcpt_status_name(enum rcpt_status st)
{
	switch (st) {
	case RCPT_VALID:
		return "valid";
	case RCPT_ALWAYS_VALID:
		return "always_valid";
	case RCPT_UNKNOWN:
		return "unknown";
	case RCPT_FOREIGN:
		return "foreign";
	case RCPT_TEMPFAIL:
		return "tempfail";
	}
	return "unknown";
}
