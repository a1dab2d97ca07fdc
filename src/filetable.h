/*
 * NAME
 *	filetable 3h - a file of entries, hashed, re-read when it changes
 * SYNOPSIS
 *	#include "filetable.h"
 * DESCRIPTION
 *	The one implementation behind recipients.file (rcpt.c) and every
 *	list file (lists.c). Three parts:
 *
 *	A key set (struct ft_keyset): byte-string keys, each with a text
 *	(for the log) and a "where" (a line or an index), open addressing
 *	with linear probing. The first entry with a key stays.
 *
 *	A reader (ft_read): opens the file without blocking (a FIFO never
 *	hangs the caller), refuses anything but a regular file and a file
 *	anyone on the host could change (pm_file_unsafe, util.h), and hands
 *	each line to a callback that parses it into the caller's table.
 *
 *	A handle (struct filetable): the table in force for one path, with
 *	change detection. The file is stat()ed at most every recheck_ms
 *	milliseconds (from within ft_acquire) and re-read when its device,
 *	inode, size, modification time or mode changed (or the last read
 *	failed). One caller re-reads, outside any lock; everyone else keeps
 *	using the table read before, and the new one is swapped in under a
 *	mutex held only for the pointer swap: a lookup never waits for a
 *	re-read's I/O or parse. Tables are reference-counted, so a lookup
 *	keeps the table it took even when a re-read replaces it. A re-read
 *	that fails keeps the old table and is reported once (ops->failed)
 *	until the failure changes or the file reads again. Handles are
 *	reference-counted too: the policy snapshot owns one, and a reload
 *	shares it (ft_reuse) when the file is unchanged.
 * DIAGNOSTICS
 *	ft_read returns NULL with res->err: an errno value, FT_ERR_NOT_REG,
 *	FT_ERR_UNSAFE (res->why says why) or EINVAL (the line callback
 *	stopped the read). Thread-safety: ft_acquire, ft_put, ft_hold,
 *	ft_release, ft_reuse and ft_set_recheck_ms from any thread.
 */
#ifndef PM_FILETABLE_H
#define PM_FILETABLE_H

#include <limits.h>
#include <stdbool.h>
#include <stddef.h>
#include <sys/stat.h>

#define FT_ERR_NOT_REG (-1) /* "errno" for a file that is not a regular file (FIFO, device) */
#define FT_ERR_UNSAFE  (-2) /* "errno" for a file anyone could change (pm_file_unsafe) */
#define FT_RECHECK_MS  1000 /* default interval between two stat() calls */
#define FT_WHY_MAX     (2 * PATH_MAX + 256)

/* One key of a key set. key and text share one allocation. */
struct ft_item {
	unsigned char *key; /* NULL: empty slot */
	size_t keylen;
	char *text;   /* for the log */
	size_t where; /* line (file) or index (inline) */
};

/* A set of keys. */
struct ft_keyset {
	struct ft_item *slot;
	size_t cap; /* a power of two */
	size_t n;
};

/* ft_keyset_init - an empty set */
void ft_keyset_init(struct ft_keyset *ks);

/* ft_keyset_clear - free the keys; the set is left unusable until ft_keyset_init */
void ft_keyset_clear(struct ft_keyset *ks);

/* ft_keyset_add - add key (text: NULL for ""); false when it was there (the first one stays) */
bool ft_keyset_add(struct ft_keyset *ks, const void *key, size_t keylen, const char *text,
                   size_t where);

/* ft_keyset_get - the item with key, or NULL */
const struct ft_item *ft_keyset_get(const struct ft_keyset *ks, const void *key, size_t keylen);

/* ft_comment_start - the length of line before a comment ("#" first, or after a space or tab) */
size_t ft_comment_start(const char *line, size_t len);

/* The outcome of one read. */
struct ft_load {
	struct stat st;       /* the file read (valid when the read got that far) */
	int err;              /* 0, an errno value, FT_ERR_NOT_REG, FT_ERR_UNSAFE, EINVAL */
	size_t nbad;          /* lines the callback skipped (set by the caller's callback) */
	bool opened;          /* the file was open for reading: a failure after is a read error */
	char why[FT_WHY_MAX]; /* FT_ERR_UNSAFE: the reason */
};

/*
 * ft_line_fn - parse one line (len bytes, with its newline, not
 * NUL-terminated inside: it may hold NULs) into table; lineno from 1.
 * Return 0 to go on, -1 to stop the read (ft_read fails with EINVAL).
 */
typedef int ft_line_fn(void *table, const char *line, size_t len, size_t lineno, void *arg);

/*
 * ft_read - open path and feed each line to fn(table, ...). Returns 0
 * with res->st set, or -1 with res->err (and res->why for FT_ERR_UNSAFE).
 */
int ft_read(const char *path, ft_line_fn *fn, void *table, void *arg, struct ft_load *res);

/* What a handle needs from its owner (rcpt.c, lists.c). */
struct ft_ops {
	/* a re-read at run time: a new table, or NULL with res->err (res->nbad: lines skipped) */
	void *(*load)(const char *path, void *arg, struct ft_load *res);
	/* a re-read succeeded (log it) */
	void (*loaded)(const char *path, void *arg, const void *table, const struct ft_load *res);
	/* a check or re-read failed (what: "stat" or "read"); old: the table kept, or NULL */
	void (*failed)(const char *path, void *arg, const char *what, const struct ft_load *res,
	               const void *old);
	/* free a table */
	void (*destroy)(void *table);
	/* free the handle's arg when the handle goes (NULL: the owner keeps it) */
	void (*free_arg)(void *arg);
};

struct filetable;
struct ft_version;

/*
 * ft_new - a handle for path with one reference. table (may be NULL:
 * never read; the first ft_acquire then reads at once, and callers that
 * come meanwhile wait for that first read) was read from
 * *st (NULL when table is); clean: no line of it was skipped. ops must
 * outlive the handle, and so must arg unless ops->free_arg frees it with
 * the handle (a handle shared across reloads outlives its first owner).
 */
struct filetable *ft_new(const char *path, const struct ft_ops *ops, void *arg, void *table,
                         const struct stat *st, bool clean);

/* ft_hold - one more reference; returns ft */
struct filetable *ft_hold(struct filetable *ft);

/* ft_release - drop a reference; the last one frees the handle and its table. NULL is fine */
void ft_release(struct filetable *ft);

/*
 * ft_reuse - prev, held once more, when it is a handle for path whose
 * table was read cleanly from the file as it is now (same device, inode,
 * size, modification time and mode), the file is still safe
 * (pm_file_unsafe: its directory may have changed), and no re-read is
 * under way or failed since; else NULL (read the file again)
 */
struct filetable *ft_reuse(struct filetable *prev, const char *path);

/*
 * ft_acquire - the table in force (re-read first when the check is due
 * and no one else is at it), or NULL when the file was never read; *v
 * gets the reference to give back with ft_put
 */
const void *ft_acquire(struct filetable *ft, struct ft_version **v);

/* ft_put - give back a table from ft_acquire; NULL is fine */
void ft_put(struct ft_version *v);

/* ft_set_recheck_ms - stat the file at most every ms milliseconds (0: on every acquire) */
void ft_set_recheck_ms(struct filetable *ft, unsigned ms);

/* ft_path - the handle's path */
const char *ft_path(const struct filetable *ft);

/*
 * ft_set_reread_hook - tests only: fn(path) is called by the caller that
 * re-reads, after it took the re-read on and before it reads (outside
 * every lock); NULL: none
 */
void ft_set_reread_hook(void (*fn)(const char *path));

#endif
