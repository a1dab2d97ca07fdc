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
 *	const char *rcpt_status_name(enum rcpt_status st);
 * DESCRIPTION
 *	Two sources of valid recipients: the inline list of the policy
 *	(recipients.addresses, small, scanned) and a file (recipients.file,
 *	possibly 100k lines, held in a hash set of lower-cased keys
 *	"local@domain" and "@domain" for catch-alls). The local part is
 *	compared ASCII case-insensitively, which covers the exact match too.
 *
 *	File tables live in a process-wide cache keyed by path, so that a
 *	policy reload does not throw away a table that is still good. Each
 *	entry has its own mutex; it is stat()ed at most once a second and
 *	re-read when its device, inode, size, modification time or mode
 *	changed. A file anyone on the host could change (world-writable, or
 *	in a world-writable directory without the sticky bit: pm_file_unsafe)
 *	is not read, nor is anything but a regular file (a FIFO is never
 *	waited on). A read that fails or is refused so keeps the previous
 *	table (and says so once, at LOG_WARNING); a file never read gives
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
#include <fcntl.h>
#include <limits.h>
#include <pthread.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "log.h"
#include "rcpt.h"
#include "util.h"

#define RCPT_RECHECK_MS   1000 /* stat() the file at most this often */
#define RCPT_MAX_WARNINGS 10   /* malformed-line warnings per read */
#define ERR_UNSAFE        (-1) /* "errno" for a file anyone could change (pm_file_unsafe) */
#define ERR_NOT_REG       (-2) /* "errno" for a file that is not a regular file (FIFO, device) */
#define ERRBUF_MAX        (2 * PATH_MAX + 300)

/* A set of NUL-terminated keys, open addressing with linear probing. */
struct keyset {
	char **slot; /* NULL: empty */
	size_t cap;  /* a power of two */
	size_t n;
};

/* One cached recipients file. */
struct file_entry {
	struct file_entry *next;
	char *path;
	pthread_mutex_t lock;
	struct keyset *table; /* NULL until read once */
	bool have_stat;
	dev_t dev;
	ino_t ino;
	off_t size;
	struct timespec mtime;
	mode_t mode;          /* a chmod that makes the file unsafe is seen too */
	long long checked_ms; /* last stat, CLOCK_MONOTONIC */
	int last_errno;       /* last failure reported (0: none), to warn once */
};

static pthread_mutex_t registry_lock = PTHREAD_MUTEX_INITIALIZER;
static struct file_entry *registry;

/* keyset_new - an empty set */
static struct keyset *keyset_new(void)
{
	struct keyset *ks = xcalloc(1, sizeof(*ks));

	ks->cap = 64;
	ks->slot = xcalloc(ks->cap, sizeof(char *));
	return ks;
}

/* keyset_free - free the set and its keys */
static void keyset_free(struct keyset *ks)
{
	size_t i;

	if (ks == NULL)
		return;
	for (i = 0; i < ks->cap; i++)
		free(ks->slot[i]);
	free(ks->slot);
	free(ks);
}

/* keyset_find - the slot holding key, or the empty slot where it would go */
static size_t keyset_find(const struct keyset *ks, const char *key)
{
	size_t i = (size_t)pm_hash(key) & (ks->cap - 1);

	while (ks->slot[i] != NULL && strcmp(ks->slot[i], key) != 0)
		i = (i + 1) & (ks->cap - 1);
	return i;
}

/* keyset_has - membership */
static bool keyset_has(const struct keyset *ks, const char *key)
{
	return ks->slot[keyset_find(ks, key)] != NULL;
}

/* keyset_add - add a copy of key (no-op when present) */
static void keyset_add(struct keyset *ks, const char *key)
{
	size_t i;

	if ((ks->n + 1) * 2 > ks->cap) {
		char **old = ks->slot;
		size_t oldcap = ks->cap, j;

		ks->cap *= 2;
		ks->slot = xcalloc(ks->cap, sizeof(char *));
		for (j = 0; j < oldcap; j++)
			if (old[j] != NULL)
				ks->slot[keyset_find(ks, old[j])] = old[j];
		free(old);
	}
	i = keyset_find(ks, key);
	if (ks->slot[i] == NULL) {
		ks->slot[i] = xstrdup(key);
		ks->n++;
	}
}

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
	size_t i, start = 0;

	/* a comment: "#" at the start, or after white space */
	for (i = 0; i < len; i++) {
		if (line[i] == '#' && (i == 0 || line[i - 1] == ' ' || line[i - 1] == '\t')) {
			len = i;
			break;
		}
	}
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

/*
 * load_file - read path into a new set. Returns it, or NULL with *err
 * set (an errno value, ERR_NOT_REG: not a regular file, or ERR_UNSAFE:
 * anyone could change the file) and errbuf (when not NULL) saying why.
 * With strict, the first malformed line fails the load (errbuf says
 * which); otherwise malformed lines are skipped with a warning. Opened
 * without blocking: a FIFO (or a device) must not hang the caller, it is
 * refused.
 */
static struct keyset *load_file(const char *path, bool strict, char *errbuf, size_t errsize,
                                int *err)
{
	FILE *fp;
	struct keyset *ks;
	struct stat st;
	char *line = NULL, key[KEY_MAX], unsafe[ERRBUF_MAX];
	size_t cap = 0, lineno = 0, bad = 0;
	ssize_t n;
	int saved, fd;

	if ((fd = open(path, O_RDONLY | O_NONBLOCK | O_CLOEXEC)) < 0) {
		saved = errno;
		if (errbuf)
			snprintf(errbuf, errsize, "%s: %s", path, strerror(saved));
		*err = saved;
		return NULL;
	}
	if (fstat(fd, &st) != 0) {
		saved = errno;
		if (errbuf)
			snprintf(errbuf, errsize, "%s: %s", path, strerror(saved));
		close(fd);
		*err = saved;
		return NULL;
	}
	if (!S_ISREG(st.st_mode)) {
		saved = S_ISDIR(st.st_mode) ? EISDIR : ERR_NOT_REG;
		if (errbuf)
			snprintf(errbuf, errsize, "%s: %s", path,
			         saved == EISDIR ? strerror(EISDIR) : "not a regular file");
		close(fd);
		*err = saved;
		return NULL;
	}
	if (pm_file_unsafe(path, &st, unsafe, sizeof(unsafe)) != NULL) {
		if (errbuf)
			snprintf(errbuf, errsize, "%s: unsafe permissions: %s", path, unsafe);
		close(fd);
		*err = ERR_UNSAFE;
		return NULL;
	}
	if ((fp = fdopen(fd, "r")) == NULL) {
		saved = errno;
		if (errbuf)
			snprintf(errbuf, errsize, "%s: %s", path, strerror(saved));
		close(fd);
		*err = saved;
		return NULL;
	}
	ks = keyset_new();
	while ((n = getline(&line, &cap, fp)) != -1) {
		const char *why = NULL;
		int r;

		lineno++;
		r = parse_line(line, (size_t)n, key, sizeof(key), &why);
		if (r == 1) {
			keyset_add(ks, key);
		} else if (r < 0) {
			if (strict) {
				if (errbuf)
					snprintf(errbuf, errsize, "%s:%zu: %s", path, lineno, why);
				free(line);
				fclose(fp);
				keyset_free(ks);
				*err = EINVAL;
				return NULL;
			}
			if (++bad <= RCPT_MAX_WARNINGS)
				log_msg(LOG_WARNING, "%s:%zu: %s; line skipped", path, lineno, why);
		}
	}
	saved = ferror(fp) ? errno : 0;
	free(line);
	fclose(fp);
	if (saved) {
		if (errbuf)
			snprintf(errbuf, errsize, "%s: read error: %s", path, strerror(saved));
		keyset_free(ks);
		*err = saved;
		return NULL;
	}
	if (bad > RCPT_MAX_WARNINGS)
		log_msg(LOG_WARNING, "%s: %zu malformed lines skipped in all", path, bad);
	return ks;
}

/* rcpt_check_file - read a recipients file strictly, for config validation */
int rcpt_check_file(const char *path, char *errbuf, size_t errsize)
{
	struct keyset *ks;
	int err = 0;

	if (errbuf && errsize)
		errbuf[0] = '\0';
	if (path == NULL || path[0] == '\0') {
		if (errbuf)
			snprintf(errbuf, errsize, "empty path");
		return -1;
	}
	ks = load_file(path, true, errbuf, errsize, &err);
	if (ks == NULL)
		return -1;
	keyset_free(ks);
	return 0;
}

/* now_ms - monotonic milliseconds */
static long long now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (long long)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* entry_for - the cache entry for path, created on first use (never freed) */
static struct file_entry *entry_for(const char *path)
{
	struct file_entry *e;

	pthread_mutex_lock(&registry_lock);
	for (e = registry; e; e = e->next)
		if (strcmp(e->path, path) == 0)
			break;
	if (e == NULL) {
		e = xcalloc(1, sizeof(*e));
		e->path = xstrdup(path);
		pthread_mutex_init(&e->lock, NULL);
		e->next = registry;
		registry = e;
	}
	pthread_mutex_unlock(&registry_lock);
	return e;
}

/* warn_once - log a read failure (errbuf: why) unless the same one was logged last time */
static void warn_once(struct file_entry *e, int err, const char *what, const char *errbuf)
{
	if (e->last_errno == err)
		return;
	e->last_errno = err;
	if (err == ERR_UNSAFE || err == ERR_NOT_REG)
		log_msg(LOG_WARNING, "recipients file %s; %s", errbuf,
		        e->table ? "keeping the table read before" : "recipients get a 4xx");
	else if (e->table)
		log_msg(LOG_WARNING, "recipients file %s: %s: %s; keeping the table read before",
		        e->path, what, strerror(err));
	else
		log_msg(LOG_WARNING, "recipients file %s: %s: %s; recipients get a 4xx", e->path,
		        what, strerror(err));
}

/* entry_refresh - re-read the file when it changed; call with e->lock held */
static void entry_refresh(struct file_entry *e)
{
	struct stat st;
	struct keyset *ks;
	char errbuf[ERRBUF_MAX];
	long long now = now_ms();
	int err = 0;

	if (e->checked_ms != 0 && now - e->checked_ms < RCPT_RECHECK_MS)
		return;
	e->checked_ms = now ? now : 1;
	if (stat(e->path, &st) != 0) {
		warn_once(e, errno, "stat", NULL);
		return;
	}
	if (e->table && e->have_stat && st.st_dev == e->dev && st.st_ino == e->ino &&
	    st.st_size == e->size && st.st_mtim.tv_sec == e->mtime.tv_sec &&
	    st.st_mtim.tv_nsec == e->mtime.tv_nsec && st.st_mode == e->mode)
		return;
	ks = load_file(e->path, false, errbuf, sizeof(errbuf), &err);
	if (ks == NULL) {
		warn_once(e, err, "read", errbuf);
		return;
	}
	if (e->last_errno || e->table)
		log_msg(LOG_INFO, "recipients file %s: read %zu entries", e->path, ks->n);
	e->last_errno = 0;
	keyset_free(e->table);
	e->table = ks;
	e->have_stat = true;
	e->dev = st.st_dev;
	e->ino = st.st_ino;
	e->size = st.st_size;
	e->mtime = st.st_mtim;
	e->mode = st.st_mode;
}

/* File lookup results. */
enum file_result { F_NOT_FOUND, F_FOUND, F_FOUND_CATCHALL, F_UNAVAILABLE };

/* file_lookup - look the candidate keys up in path's table */
static enum file_result file_lookup(const char *path, char keys[][KEY_MAX], size_t nkeys,
                                    const char *catchall)
{
	struct file_entry *e = entry_for(path);
	enum file_result r = F_NOT_FOUND;
	size_t i;

	pthread_mutex_lock(&e->lock);
	entry_refresh(e);
	if (e->table == NULL) {
		r = F_UNAVAILABLE;
	} else {
		for (i = 0; i < nkeys && r == F_NOT_FOUND; i++)
			if (keyset_has(e->table, keys[i]))
				r = F_FOUND;
		if (r == F_NOT_FOUND && keyset_has(e->table, catchall))
			r = F_FOUND_CATCHALL;
	}
	pthread_mutex_unlock(&e->lock);
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

/* is_local_domain - exact, case-insensitive match against recipients.domains */
static bool is_local_domain(const struct recipient_settings *s, const char *domain)
{
	size_t i;

	for (i = 0; i < s->ndomains; i++)
		if (pm_strcaseeq(s->domains[i], domain))
			return true;
	return false;
}

/* rcpt_lookup - classify one recipient */
enum rcpt_status rcpt_lookup(const struct recipient_settings *s, enum addr_status status,
                             const struct pm_addr *a, const char **why)
{
	char keys[2 + 16][KEY_MAX], catchall[KEY_MAX];
	size_t nkeys = 0;
	const char *sep, *dummy;
	bool have_file;
	enum file_result fr;

	if (why == NULL)
		why = &dummy;
	if (s == NULL || s->ndomains == 0) {
		*why = "no local domains configured";
		return RCPT_VALID;
	}
	if (status == ADDR_LOCAL_ONLY) {
		if (pm_strcaseeq(a->local, "postmaster")) {
			*why = "postmaster (RFC 5321 4.5.1)";
			return RCPT_EXEMPT;
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
		return RCPT_EXEMPT;
	}
	if (pm_strcaseeq(a->local, "abuse")) {
		*why = "abuse (RFC 2142)";
		return RCPT_EXEMPT;
	}
	have_file = s->file != NULL && s->file[0] != '\0';
	if (s->naddresses == 0 && !have_file) {
		*why = "recipients.domains: no recipient list";
		return RCPT_VALID;
	}

	/* candidates: the full local part, then without each kind of +detail */
	make_key(keys[nkeys++], KEY_MAX, a->local, strlen(a->local), a->domain);
	for (sep = s->detail_separators ? s->detail_separators : ""; *sep && nkeys < 18; sep++) {
		const char *p = strchr(a->local, *sep);

		if (p != NULL && p > a->local)
			make_key(keys[nkeys++], KEY_MAX, a->local, (size_t)(p - a->local),
			         a->domain);
	}
	make_key(catchall, sizeof(catchall), "", 0, a->domain);

	for (size_t i = 0; i < nkeys; i++) {
		if (inline_has(s, keys[i])) {
			*why = "recipients.addresses";
			return RCPT_VALID;
		}
	}
	if (inline_has(s, catchall)) {
		*why = "recipients.addresses: catch-all";
		return RCPT_VALID;
	}
	if (!have_file) {
		*why = "recipients.addresses: not listed";
		return RCPT_UNKNOWN;
	}
	fr = file_lookup(s->file, keys, nkeys, catchall);
	switch (fr) {
	case F_FOUND:
		*why = "recipients.file";
		return RCPT_VALID;
	case F_FOUND_CATCHALL:
		*why = "recipients.file: catch-all";
		return RCPT_VALID;
	case F_UNAVAILABLE:
		*why = "recipients.file: never read (see earlier warning)";
		return RCPT_TEMPFAIL;
	case F_NOT_FOUND:
		break;
	}
	*why = "recipients: not listed";
	return RCPT_UNKNOWN;
}

/* rcpt_status_name - "valid", "exempt", "unknown", "foreign", "tempfail" */
const char *rcpt_status_name(enum rcpt_status st)
{
	switch (st) {
	case RCPT_VALID:
		return "valid";
	case RCPT_EXEMPT:
		return "exempt";
	case RCPT_UNKNOWN:
		return "unknown";
	case RCPT_FOREIGN:
		return "foreign";
	case RCPT_TEMPFAIL:
		return "tempfail";
	}
	return "unknown";
}
