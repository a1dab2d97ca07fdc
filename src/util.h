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

#define PM_ARRAY_LEN(a) (sizeof(a) / sizeof((a)[0]))

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

/* pm_hash - FNV-1a of a NUL-terminated string (for hash tables) */
uint64_t pm_hash(const char *s);

#endif
