/*
 * NAME
 *	util 3h - generic helpers: allocation, strings, escaping
 * SYNOPSIS
 *	#include "util.h"
 * DESCRIPTION
 *	Knows nothing of mail. Allocation failure is fatal (xmalloc and
 *	friends print a message and abort); everything else reports
 *	through return values.
 */
#ifndef PM_UTIL_H
#define PM_UTIL_H

#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/stat.h>

#define PM_ARRAY_LEN(a) (sizeof(a) / sizeof((a)[0]))
/* PM_ASSERT_LAST_FIELD - compile-time check that field ends struct type (trailing
   padding aside), for code that clears a struct only up to that field */
#define PM_ASSERT_LAST_FIELD(type, field)                                                          \
	_Static_assert(offsetof(type, field) + sizeof(((type *)0)->field) + _Alignof(type) >       \
	                   sizeof(type),                                                           \
	               #field " must be the last field of " #type)

/* xmalloc - malloc or die; the caller frees */
void *xmalloc(size_t size);
/* xcalloc - zeroed calloc or die; the caller frees */
void *xcalloc(size_t n, size_t size);
/* xrealloc - realloc or die */
void *xrealloc(void *ptr, size_t size);
/* xstrdup - strdup or die; NULL in gives NULL out */
char *xstrdup(const char *s);
/* xstrndup - copy at most n bytes, NUL-terminated, or die */
char *xstrndup(const char *s, size_t n);
/* pm_fatal - print to stderr and syslog, then abort(); for impossible states only */
void pm_fatal(const char *fmt, ...) __attribute__((noreturn, format(printf, 1, 2)));
/* pm_bprintf - printf into buf (size bytes, 0: nothing), cut when longer: for messages */
void pm_bprintf(char *buf, size_t size, const char *fmt, ...) __attribute__((format(printf, 3, 4)));

/* A growable string. Always NUL-terminated once initialised. */
struct strbuf {
	char *s;
	size_t len;
	size_t cap;
};
/* sb_init - empty buffer; sb_free releases it */
void sb_init(struct strbuf *sb);
void sb_free(struct strbuf *sb);
void sb_reset(struct strbuf *sb);
void sb_append(struct strbuf *sb, const char *s);
void sb_appendn(struct strbuf *sb, const char *s, size_t n);
void sb_appendc(struct strbuf *sb, char c);
void sb_appendf(struct strbuf *sb, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
/* sb_steal - hand the string to the caller (who frees it); the buffer is left empty */
char *sb_steal(struct strbuf *sb);

/* pm_strlower - lower-case ASCII letters in place; returns s */
char *pm_strlower(char *s);
/* pm_strcaseeq - ASCII case-insensitive equality; NULLs are equal only to each other */
bool pm_strcaseeq(const char *a, const char *b);
/* pm_strcasesuffix - true when s ends with suffix, ASCII case-insensitively */
bool pm_strcasesuffix(const char *s, const char *suffix);
/* domain_in_list - domain equals one of list[0..n) or is below one (case-insensitive) */
bool domain_in_list(const char *domain, char *const *list, size_t n);

/*
 * pm_escape - copy the first srclen bytes of src into dst (dstsize bytes,
 * always NUL-terminated), keeping printable ASCII except backslash and
 * writing everything else (CR, LF, NUL, other controls, DEL, 8-bit bytes,
 * backslash itself) as \xHH. Output that does not fit is cut at a whole
 * escape and ends with "...". Returns dst. Safe for log lines, SMTP
 * reply texts and header comments.
 */
char *pm_escape(char *dst, size_t dstsize, const char *src, size_t srclen);
/* pm_escape_str - pm_escape for a NUL-terminated string; NULL becomes "" */
char *pm_escape_str(char *dst, size_t dstsize, const char *src);

/* pm_utf8_valid - true when the n bytes are well-formed UTF-8 (no overlongs, no surrogates) */
bool pm_utf8_valid(const unsigned char *s, size_t n);

/* pm_hex_value - the value of one hex digit (0-9, a-f, A-F), -1 for any other byte */
int pm_hex_value(unsigned char c);

/* pm_hash - FNV-1a of a NUL-terminated string (for hash tables) */
uint64_t pm_hash(const char *s);

/* pm_dirname - the directory part of path into buf: "/a/b" "/a", "/a" "/", "a" "."; returns buf */
char *pm_dirname(const char *path, char *buf, size_t bufsize);
/* pm_mode_unsafe_file - a file of this mode is world-writable: anyone could change it */
bool pm_mode_unsafe_file(mode_t mode);
/*
 * pm_mode_unsafe_dir - anyone could add, remove or replace entries in a
 * directory of this mode: it is world-writable (with sticky_ok, only when
 * the sticky bit is not set, which keeps others from touching our files)
 */
bool pm_mode_unsafe_dir(mode_t mode, bool sticky_ok);
/*
 * pm_file_unsafe - may what is read from path be trusted, or could anyone
 * on the host change it? st is the status of the file as opened (fstat).
 * Unsafe: the file is world-writable, or it sits in a world-writable
 * directory without the sticky bit: the directory of path, and of the
 * file path resolves to (symbolic links) when that differs. A directory
 * that cannot be examined is let pass (reading the file would tell).
 * NULL when safe, else the reason in buf ("the file is world-writable
 * (mode 0666): anyone could change it; chmod o-w PATH"); returns buf.
 */
const char *pm_file_unsafe(const char *path, const struct stat *st, char *buf, size_t bufsize);
/*
 * pm_socket_dir_unsafe - is the directory of a unix socket at path
 * world-writable (sticky bit or not: anyone could plant a socket of
 * their own there before ours is made, or in its place)? NULL when not,
 * or when it cannot be examined (a missing directory is the caller's
 * business), else the reason and a safe place in buf; returns buf.
 */
const char *pm_socket_dir_unsafe(const char *path, char *buf, size_t bufsize);

#endif
