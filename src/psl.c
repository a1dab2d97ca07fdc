/*
 * NAME
 *	psl - the public suffix list, one immutable object per file version
 * SYNOPSIS
 *	psl_load(), psl_hold(), psl_release(), psl_file(), psl_org_of()
 * DESCRIPTION
 *	See psl.h. The list file is read line by line: "//" starts a
 *	comment (kept only for the "// xn--..." A-label of the IDN rule
 *	below it), a rule is the first blank-separated word of a line. A
 *	rule that could never match a name the milter accepts (upper case,
 *	U-labels, empty labels) is skipped. libopendmarc's own table
 *	(opendmarc_get_tld) is not used: 1.4.2 drops a one-letter first
 *	label (x.co.uk gives co.uk, q.com gives com, so relaxed alignment
 *	would join unrelated domains), takes "*.ck" as "ck", and has no
 *	implicit rule.
 * DIAGNOSTICS
 *	psl_load() returns NULL with a message. Allocation failure aborts.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "psl.h"
#include "util.h"

/* One sorted table of names. */
struct name_set {
	char **v;
	size_t n;
};

struct psl {
	int refcount; /* atomic */
	char *path;
	dev_t dev; /* the file as read: shared by a reload while unchanged */
	ino_t ino;
	off_t size;
	struct timespec mtime;
	struct name_set rules;  /* "S" */
	struct name_set wild;   /* S of each "*.S" */
	struct name_set except; /* X of each "!X" */
};

/* str_cmp - qsort/bsearch comparison of char * elements */
static int str_cmp(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

/* set_has - is s in the set? */
static bool set_has(const struct name_set *set, const char *s)
{
	return set->n > 0 && bsearch(&s, set->v, set->n, sizeof(*set->v), str_cmp) != NULL;
}

/* set_add - add a copy of s (sorted later by set_sort) */
static void set_add(struct name_set *set, const char *s)
{
	set->v = xrealloc(set->v, (set->n + 1) * sizeof(*set->v));
	set->v[set->n++] = xstrdup(s);
}

/* set_sort - sort after the last set_add */
static void set_sort(struct name_set *set)
{
	if (set->n > 1)
		qsort(set->v, set->n, sizeof(*set->v), str_cmp);
}

/* set_free - release the names */
static void set_free(struct name_set *set)
{
	for (size_t i = 0; i < set->n; i++)
		free(set->v[i]);
	free(set->v);
	set->v = NULL;
	set->n = 0;
}

/*
 * rule_ok - a rule we could ever match: lower-case LDH, underscores and
 * dots, labels of 1..63 bytes, shorter than PSL_NAME_MAX, no final dot
 */
static bool rule_ok(const char *r)
{
	size_t len = strlen(r), label = 0;

	if (len == 0 || len >= PSL_NAME_MAX)
		return false;
	for (size_t i = 0; i < len; i++) {
		char c = r[i];

		if (c == '.') {
			if (label == 0)
				return false;
			label = 0;
		} else if ((c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '-' ||
		           c == '_') {
			if (++label > 63)
				return false;
		} else {
			return false;
		}
	}
	return label > 0;
}

/* add_rule - one rule of the list into l's three sets */
static void add_rule(struct psl *l, const char *rule)
{
	if (rule[0] == '!') {
		if (rule_ok(rule + 1))
			set_add(&l->except, rule + 1);
	} else if (rule[0] == '*' && rule[1] == '.') {
		if (rule_ok(rule + 2))
			set_add(&l->wild, rule + 2);
	} else if (rule_ok(rule)) {
		set_add(&l->rules, rule);
	}
}

/* read_rules - the rules of fp into l (unsorted); the number of rule lines, -1 on a read error */
static long read_rules(FILE *fp, struct psl *l)
{
	char *line = NULL;
	size_t cap = 0;
	long nrules = 0;

	while (getline(&line, &cap, fp) != -1) {
		char *rule = line + strspn(line, " \t\r\n");

		if (strncmp(rule, "//", 2) == 0) {
			/* "// xn--p1ai (...)": the A-label of the IDN rule below */
			char *xn = rule + 2 + strspn(rule + 2, " \t");
			size_t len = strcspn(xn, " \t\r\n");

			if (strncmp(xn, "xn--", 4) != 0)
				continue;
			if (len > 0 && xn[len - 1] == '.')
				len--;
			xn[len] = '\0';
			add_rule(l, xn);
			continue;
		}
		rule[strcspn(rule, " \t\r\n")] = '\0';
		if (rule[0] == '\0')
			continue;
		nrules++;
		add_rule(l, rule);
	}
	free(line);
	return ferror(fp) ? -1 : nrules;
}

/* same_file - was l read from this path and file, unchanged since? */
static bool same_file(const struct psl *l, const char *path, const struct stat *st)
{
	return l != NULL && strcmp(l->path, path) == 0 && l->dev == st->st_dev &&
	       l->ino == st->st_ino && l->size == st->st_size &&
	       l->mtime.tv_sec == st->st_mtim.tv_sec && l->mtime.tv_nsec == st->st_mtim.tv_nsec;
}

/* psl_free - release everything l holds */
static void psl_free(struct psl *l)
{
	free(l->path);
	set_free(&l->rules);
	set_free(&l->wild);
	set_free(&l->except);
	free(l);
}

struct psl *psl_load(const char *path, struct psl *prev, char *err, size_t errsize)
{
	struct stat st;
	struct psl *l;
	char why[1200];
	FILE *fp;
	long nrules;
	int fd;

	if (errsize > 0)
		err[0] = '\0';
	if (path == NULL || path[0] != '/') {
		pm_bprintf(err, errsize, "no public suffix list file given (an absolute path)");
		return NULL;
	}
	if ((fd = open(path, O_RDONLY | O_NONBLOCK | O_CLOEXEC)) < 0) {
		pm_bprintf(err, errsize, "%.300s: %s", path, strerror(errno));
		return NULL;
	}
	if (fstat(fd, &st) != 0 || !S_ISREG(st.st_mode)) {
		pm_bprintf(err, errsize, "%.300s: not a regular file", path);
		close(fd);
		return NULL;
	}
	if (pm_file_unsafe(path, &st, why, sizeof(why)) != NULL) {
		pm_bprintf(err, errsize, "%.300s: unsafe permissions: %s", path, why);
		close(fd);
		return NULL;
	}
	if (same_file(prev, path, &st)) {
		close(fd);
		return psl_hold(prev);
	}
	if ((fp = fdopen(fd, "r")) == NULL) {
		pm_bprintf(err, errsize, "%.300s: %s", path, strerror(errno));
		close(fd);
		return NULL;
	}
	l = xcalloc(1, sizeof(*l));
	l->refcount = 1;
	l->path = xstrdup(path);
	l->dev = st.st_dev;
	l->ino = st.st_ino;
	l->size = st.st_size;
	l->mtime = st.st_mtim;
	nrules = read_rules(fp, l);
	fclose(fp);
	if (nrules <= 0) {
		if (nrules < 0)
			pm_bprintf(err, errsize, "%.300s: read error", path);
		else
			pm_bprintf(err, errsize,
			           "%.300s: holds no rules (not a public suffix list?)", path);
		psl_free(l);
		return NULL;
	}
	set_sort(&l->rules);
	set_sort(&l->wild);
	set_sort(&l->except);
	return l;
}

struct psl *psl_hold(struct psl *l)
{
	if (l != NULL)
		__atomic_add_fetch(&l->refcount, 1, __ATOMIC_RELAXED);
	return l;
}

void psl_release(struct psl *l)
{
	if (l != NULL && __atomic_sub_fetch(&l->refcount, 1, __ATOMIC_ACQ_REL) == 0)
		psl_free(l);
}

const char *psl_file(const struct psl *l)
{
	return l != NULL ? l->path : "";
}

void psl_org_of(const struct psl *l, const char *d, char *out)
{
	size_t off[PSL_NAME_MAX / 2 + 1], n = 0, ps;

	snprintf(out, PSL_NAME_MAX, "%s", d);
	if (l == NULL)
		return;
	off[n++] = 0; /* off[i]: where the suffix of the last n - i labels starts */
	for (size_t i = 0; d[i] != '\0' && n < PM_ARRAY_LEN(off); i++)
		if (d[i] == '.')
			off[n++] = i + 1;
	for (size_t i = 0; i < n; i++) {
		if (set_has(&l->except, d + off[i])) {
			snprintf(out, PSL_NAME_MAX, "%s", d + off[i]);
			return;
		}
	}
	ps = n - 1; /* the implicit rule "*" */
	for (size_t i = 0; i < n; i++) {
		if (set_has(&l->rules, d + off[i]) ||
		    (i + 1 < n && set_has(&l->wild, d + off[i + 1]))) {
			ps = i;
			break;
		}
	}
	if (ps > 0)
		snprintf(out, PSL_NAME_MAX, "%s", d + off[ps - 1]);
}
