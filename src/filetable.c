/*
 * NAME
 *	filetable 3 - a file of entries, hashed, re-read when it changes
 * SYNOPSIS
 *	#include "filetable.h"
 *
 *	int ft_read(const char *path, ft_line_fn *fn, void *table, void *arg,
 *		    struct ft_load *res);
 *	struct filetable *ft_new(const char *path, const struct ft_ops *ops,
 *				 void *arg, void *table, const struct stat *st,
 *				 bool clean);
 *	const void *ft_acquire(struct filetable *ft, struct ft_version **v);
 *	void ft_put(struct ft_version *v);
 * DESCRIPTION
 *	A handle holds the table in force as a reference-counted version.
 *	The mutex guards the version pointer and the re-read state (due
 *	time, "refreshing", the status of the file the table came from, the
 *	last failure reported); it is held for a few loads and stores, never
 *	across a stat(), a read or a parse. The caller that finds the check
 *	due marks the handle "refreshing", copies the state it needs, and
 *	unlocks; it stat()s and (when the file changed) reads without the
 *	mutex, then takes it again to swap the new version in and store the
 *	new state. A version's count is atomic: the handle holds one
 *	reference, each ft_acquire one more; the last ft_put frees it.
 * DIAGNOSTICS
 *	See filetable.h.
 */
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "filetable.h"
#include "util.h"

/* One table read from the file, shared by the handle and the lookups using it. */
struct ft_version {
	unsigned refs; /* atomic */
	void *table;
	void (*destroy)(void *table);
};

/* The status of the file a table was read from. */
struct ft_stat {
	bool valid;
	dev_t dev;
	ino_t ino;
	off_t size;
	struct timespec mtime;
	mode_t mode; /* a chmod that makes the file unsafe is seen too */
};

struct filetable {
	unsigned refs; /* atomic */
	char *path;
	const struct ft_ops *ops;
	void *arg;
	pthread_mutex_t lock;
	pthread_cond_t read_done; /* a refresh ended (for callers with no table yet) */
	/* guarded by lock */
	struct ft_version *cur; /* NULL: never read */
	bool refreshing;
	bool clean; /* cur was read without skipping a line */
	long long checked_ms;
	unsigned recheck_ms;
	struct ft_stat st; /* of the file cur came from */
	int last_err;      /* failure reported last (0: none) */
};

static void (*reread_hook)(const char *path);

/* hash_bytes - FNV-1a over n bytes */
static uint64_t hash_bytes(const unsigned char *p, size_t n)
{
	uint64_t h = 1469598103934665603ULL;

	while (n--) {
		h ^= *p++;
		h *= 1099511628211ULL;
	}
	return h;
}

/* ft_keyset_init - an empty set */
void ft_keyset_init(struct ft_keyset *ks)
{
	ks->cap = 16;
	ks->n = 0;
	ks->slot = xcalloc(ks->cap, sizeof(*ks->slot));
}

/* ft_keyset_clear - free the keys */
void ft_keyset_clear(struct ft_keyset *ks)
{
	if (ks->slot != NULL)
		for (size_t i = 0; i < ks->cap; i++)
			free(ks->slot[i].key);
	free(ks->slot);
	ks->slot = NULL;
	ks->cap = 0;
	ks->n = 0;
}

/* find - the slot holding key, or the empty slot where it would go */
static size_t find(const struct ft_keyset *ks, const unsigned char *key, size_t len)
{
	size_t i = (size_t)hash_bytes(key, len) & (ks->cap - 1);

	while (ks->slot[i].key != NULL &&
	       (ks->slot[i].keylen != len || memcmp(ks->slot[i].key, key, len) != 0))
		i = (i + 1) & (ks->cap - 1);
	return i;
}

/* ft_keyset_get - the item with key, or NULL */
const struct ft_item *ft_keyset_get(const struct ft_keyset *ks, const void *key, size_t keylen)
{
	size_t i;

	if (ks == NULL || ks->n == 0)
		return NULL;
	i = find(ks, key, keylen);
	return ks->slot[i].key != NULL ? &ks->slot[i] : NULL;
}

/* ft_keyset_add - add key unless it is there already (the first one stays) */
bool ft_keyset_add(struct ft_keyset *ks, const void *key, size_t keylen, const char *text,
                   size_t where)
{
	struct ft_item *it;
	size_t i, tlen;

	if ((ks->n + 1) * 2 > ks->cap) {
		struct ft_item *old = ks->slot;
		size_t oldcap = ks->cap;

		ks->cap *= 2;
		ks->slot = xcalloc(ks->cap, sizeof(*ks->slot));
		for (size_t j = 0; j < oldcap; j++)
			if (old[j].key != NULL)
				ks->slot[find(ks, old[j].key, old[j].keylen)] = old[j];
		free(old);
	}
	i = find(ks, key, keylen);
	if (ks->slot[i].key != NULL)
		return false;
	if (text == NULL)
		text = "";
	tlen = strlen(text);
	it = &ks->slot[i];
	it->key = xmalloc(keylen + 1 + tlen + 1);
	memcpy(it->key, key, keylen);
	it->key[keylen] = '\0';
	it->text = (char *)it->key + keylen + 1;
	memcpy(it->text, text, tlen + 1);
	it->keylen = keylen;
	it->where = where;
	ks->n++;
	return true;
}

/* ft_comment_start - the length of line before a "#" comment */
size_t ft_comment_start(const char *line, size_t len)
{
	for (size_t i = 0; i < len; i++)
		if (line[i] == '#' && (i == 0 || line[i - 1] == ' ' || line[i - 1] == '\t'))
			return i;
	return len;
}

/* ft_read - open path without blocking, refuse what must not be read, feed fn each line */
int ft_read(const char *path, ft_line_fn *fn, void *table, void *arg, struct ft_load *res)
{
	char *line = NULL;
	size_t cap = 0, lineno = 0;
	ssize_t n;
	FILE *fp;
	int fd;

	res->err = 0;
	res->opened = false;
	res->why[0] = '\0';
	/* O_NONBLOCK: a FIFO must not hang the caller; it is refused below */
	if ((fd = open(path, O_RDONLY | O_NONBLOCK | O_CLOEXEC)) < 0) {
		res->err = errno;
		return -1;
	}
	if (fstat(fd, &res->st) != 0) {
		res->err = errno;
		close(fd);
		return -1;
	}
	if (!S_ISREG(res->st.st_mode)) {
		res->err = S_ISDIR(res->st.st_mode) ? EISDIR : FT_ERR_NOT_REG;
		close(fd);
		return -1;
	}
	if (pm_file_unsafe(path, &res->st, res->why, sizeof(res->why)) != NULL) {
		res->err = FT_ERR_UNSAFE;
		close(fd);
		return -1;
	}
	if ((fp = fdopen(fd, "r")) == NULL) {
		res->err = errno;
		close(fd);
		return -1;
	}
	res->opened = true;
	errno = 0;
	while ((n = getline(&line, &cap, fp)) != -1) {
		if (fn(table, line, (size_t)n, ++lineno, arg) != 0) {
			res->err = EINVAL;
			break;
		}
		errno = 0;
	}
	/* a read error without errno (it happens) is an error still */
	if (res->err == 0 && ferror(fp))
		res->err = errno ? errno : EIO;
	free(line);
	fclose(fp);
	return res->err == 0 ? 0 : -1;
}

/* now_ms - monotonic milliseconds */
static long long now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (long long)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* stat_of - the fields change detection compares */
static struct ft_stat stat_of(const struct stat *st)
{
	struct ft_stat s = {true, st->st_dev, st->st_ino, st->st_size, st->st_mtim, st->st_mode};

	return s;
}

/* stat_same - the same file, unchanged */
static bool stat_same(const struct ft_stat *a, const struct ft_stat *b)
{
	return a->valid && b->valid && a->dev == b->dev && a->ino == b->ino && a->size == b->size &&
	       a->mtime.tv_sec == b->mtime.tv_sec && a->mtime.tv_nsec == b->mtime.tv_nsec &&
	       a->mode == b->mode;
}

/* version_new - a version holding table, one reference */
static struct ft_version *version_new(void *table, void (*destroy)(void *))
{
	struct ft_version *v = xcalloc(1, sizeof(*v));

	v->refs = 1;
	v->table = table;
	v->destroy = destroy;
	return v;
}

/* ft_put - drop a reference to a version */
void ft_put(struct ft_version *v)
{
	if (v == NULL || __atomic_sub_fetch(&v->refs, 1, __ATOMIC_ACQ_REL) != 0)
		return;
	v->destroy(v->table);
	free(v);
}

/* ft_new - a handle for path */
struct filetable *ft_new(const char *path, const struct ft_ops *ops, void *arg, void *table,
                         const struct stat *st, bool clean)
{
	struct filetable *ft = xcalloc(1, sizeof(*ft));

	ft->refs = 1;
	ft->path = xstrdup(path);
	ft->ops = ops;
	ft->arg = arg;
	pthread_mutex_init(&ft->lock, NULL);
	pthread_cond_init(&ft->read_done, NULL);
	ft->recheck_ms = FT_RECHECK_MS;
	if (table != NULL) {
		ft->cur = version_new(table, ops->destroy);
		ft->clean = clean;
		ft->checked_ms = now_ms();
		if (st != NULL)
			ft->st = stat_of(st);
	}
	return ft;
}

/* ft_hold - one more reference */
struct filetable *ft_hold(struct filetable *ft)
{
	__atomic_add_fetch(&ft->refs, 1, __ATOMIC_RELAXED);
	return ft;
}

/* ft_release - drop a reference; the last frees */
void ft_release(struct filetable *ft)
{
	if (ft == NULL || __atomic_sub_fetch(&ft->refs, 1, __ATOMIC_ACQ_REL) != 0)
		return;
	ft_put(ft->cur);
	if (ft->ops->free_arg != NULL)
		ft->ops->free_arg(ft->arg);
	pthread_cond_destroy(&ft->read_done);
	pthread_mutex_destroy(&ft->lock);
	free(ft->path);
	free(ft);
}

/* ft_reuse - prev held again when it still has the file as it is */
struct filetable *ft_reuse(struct filetable *prev, const char *path)
{
	struct ft_stat now, had;
	struct stat st;
	char why[FT_WHY_MAX];
	bool ok;

	if (prev == NULL || path == NULL || strcmp(prev->path, path) != 0 || stat(path, &st) != 0 ||
	    pm_file_unsafe(path, &st, why, sizeof(why)) != NULL)
		return NULL;
	now = stat_of(&st);
	pthread_mutex_lock(&prev->lock);
	had = prev->st;
	ok = prev->cur != NULL && prev->clean && !prev->refreshing && prev->last_err == 0;
	pthread_mutex_unlock(&prev->lock);
	return ok && stat_same(&had, &now) ? ft_hold(prev) : NULL;
}

/*
 * refresh - the re-read of the caller that set ft->refreshing, without
 * the lock: stat, read when changed, swap, report
 */
static void refresh(struct filetable *ft, const struct ft_stat *had, int last_err)
{
	struct ft_load res;
	struct ft_version *old = NULL, *seen;
	struct ft_stat now = {0};
	struct stat st;
	void *table = NULL;
	const char *what = "stat";
	void (*hook)(const char *);
	int err;

	memset(&res, 0, sizeof(res));
	if (stat(ft->path, &st) != 0) {
		res.err = errno;
	} else {
		now = stat_of(&st);
		if (last_err == 0 && stat_same(had, &now)) {
			pthread_mutex_lock(&ft->lock);
			ft->refreshing = false;
			pthread_cond_broadcast(&ft->read_done);
			pthread_mutex_unlock(&ft->lock);
			return;
		}
		what = "read";
		hook = __atomic_load_n(&reread_hook, __ATOMIC_ACQUIRE);
		if (hook != NULL)
			hook(ft->path);
		table = ft->ops->load(ft->path, ft->arg, &res);
		if (table != NULL)
			now = stat_of(&res.st);
	}
	err = table != NULL ? 0 : res.err;
	if (table == NULL && err != last_err) {
		/* reported with the table kept; a lookup may hold it still, so take it held */
		pthread_mutex_lock(&ft->lock);
		seen = ft->cur;
		if (seen != NULL)
			__atomic_add_fetch(&seen->refs, 1, __ATOMIC_RELAXED);
		pthread_mutex_unlock(&ft->lock);
		ft->ops->failed(ft->path, ft->arg, what, &res, seen ? seen->table : NULL);
		ft_put(seen);
	}
	/* a re-read, or the first good read after a failure, is logged (not a first read) */
	if (table != NULL && (had->valid || last_err != 0))
		ft->ops->loaded(ft->path, ft->arg, table, &res);

	pthread_mutex_lock(&ft->lock);
	if (table != NULL) {
		old = ft->cur;
		ft->cur = version_new(table, ft->ops->destroy);
		ft->clean = res.nbad == 0;
		ft->st = now;
	}
	ft->last_err = err;
	ft->refreshing = false;
	pthread_cond_broadcast(&ft->read_done);
	pthread_mutex_unlock(&ft->lock);
	ft_put(old);
}

/* ft_acquire - the table in force, re-read first when due */
const void *ft_acquire(struct filetable *ft, struct ft_version **v)
{
	struct ft_stat had;
	long long now = now_ms();
	int last_err = 0;
	bool due;

	pthread_mutex_lock(&ft->lock);
	due = !ft->refreshing &&
	      (ft->checked_ms == 0 || now - ft->checked_ms >= (long long)ft->recheck_ms);
	if (due) {
		ft->refreshing = true;
		ft->checked_ms = now ? now : 1;
		had = ft->st;
		last_err = ft->last_err;
	}
	pthread_mutex_unlock(&ft->lock);

	if (due)
		refresh(ft, &had, last_err);

	pthread_mutex_lock(&ft->lock);
	/* no table yet (a handle read lazily): wait for the first read, never answer "none" */
	while (ft->cur == NULL && ft->refreshing)
		pthread_cond_wait(&ft->read_done, &ft->lock);
	*v = ft->cur;
	if (*v != NULL)
		__atomic_add_fetch(&(*v)->refs, 1, __ATOMIC_RELAXED);
	pthread_mutex_unlock(&ft->lock);
	return *v != NULL ? (*v)->table : NULL;
}

/* ft_set_recheck_ms - the interval between two checks */
void ft_set_recheck_ms(struct filetable *ft, unsigned ms)
{
	pthread_mutex_lock(&ft->lock);
	ft->recheck_ms = ms;
	pthread_mutex_unlock(&ft->lock);
}

/* ft_path - the handle's path */
const char *ft_path(const struct filetable *ft)
{
	return ft->path;
}

/* ft_set_reread_hook - tests only */
void ft_set_reread_hook(void (*fn)(const char *path))
{
	__atomic_store_n(&reread_hook, fn, __ATOMIC_RELEASE);
}
