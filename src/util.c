/*
 * NAME
 *	util 3 - generic helpers: allocation, strings, escaping
 * SYNOPSIS
 *	#include "util.h"
 *
 *	void *xmalloc(size_t size);
 *	char *xstrdup(const char *s);
 *	void sb_append(struct strbuf *sb, const char *s);
 *	char *pm_escape(char *dst, size_t dstsize, const char *src, size_t srclen);
 *	bool pm_utf8_valid(const unsigned char *s, size_t n);
 *	int pm_hex_value(unsigned char c);
 *	const char *pm_file_unsafe(const char *path, const struct stat *st,
 *				   char *buf, size_t bufsize);
 * DESCRIPTION
 *	Knows nothing of mail. The x* allocators and the strbuf functions
 *	never return failure: running out of memory is fatal. pm_escape()
 *	makes any byte string safe for a log line, an SMTP reply or a
 *	header comment: printable ASCII except backslash is kept, every
 *	other byte is written as \xHH.
 *
 *	pm_file_unsafe() tells whether a file read as input (a list) could
 *	be changed by anyone on the host: a world-writable file, or one in
 *	a world-writable directory without the sticky bit (where anyone may
 *	replace it), following symbolic links to the real file's directory.
 *	pm_socket_dir_unsafe() tells whether a unix socket's directory is
 *	world-writable, where the sticky bit is no help.
 * DIAGNOSTICS
 *	Allocation failure and pm_fatal() print a message to stderr and
 *	syslog (LOG_CRIT) and abort(). Everything else reports through
 *	return values.
 */
#include <limits.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <syslog.h>

#include "util.h"

/* pm_fatal - print to stderr and syslog, then abort() */
void pm_fatal(const char *fmt, ...)
{
	char msg[1024];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	fprintf(stderr, "policy-milter: fatal: %s\n", msg);
	syslog(LOG_CRIT, "fatal: %s", msg);
	abort();
}

/* xmalloc - malloc or die; a zero size still gives a unique pointer */
void *xmalloc(size_t size)
{
	void *p = malloc(size ? size : 1);

	if (p == NULL)
		pm_fatal("out of memory allocating %zu bytes", size);
	return p;
}

/* xcalloc - zeroed calloc or die */
void *xcalloc(size_t n, size_t size)
{
	void *p;

	if (n == 0 || size == 0)
		n = size = 1;
	p = calloc(n, size);
	if (p == NULL)
		pm_fatal("out of memory allocating %zu x %zu bytes", n, size);
	return p;
}

/* xrealloc - realloc or die */
void *xrealloc(void *ptr, size_t size)
{
	void *p = realloc(ptr, size ? size : 1);

	if (p == NULL)
		pm_fatal("out of memory reallocating %zu bytes", size);
	return p;
}

/* xstrdup - strdup or die; NULL in gives NULL out */
char *xstrdup(const char *s)
{
	size_t n;
	char *p;

	if (s == NULL)
		return NULL;
	n = strlen(s);
	p = xmalloc(n + 1);
	memcpy(p, s, n + 1);
	return p;
}

/* xstrndup - copy at most n bytes, NUL-terminated, or die */
char *xstrndup(const char *s, size_t n)
{
	size_t len;
	char *p;

	if (s == NULL)
		return NULL;
	len = strnlen(s, n);
	p = xmalloc(len + 1);
	memcpy(p, s, len);
	p[len] = '\0';
	return p;
}

/* sb_grow - make room for at least extra more bytes plus the NUL */
static void sb_grow(struct strbuf *sb, size_t extra)
{
	size_t need;

	if (sb->s == NULL)
		sb->len = sb->cap = 0;
	if (extra > SIZE_MAX - sb->len - 1)
		pm_fatal("string buffer overflow");
	need = sb->len + extra + 1;
	if (need <= sb->cap && sb->s != NULL)
		return;
	if (sb->cap < 64)
		sb->cap = 64;
	while (sb->cap < need)
		sb->cap = sb->cap > SIZE_MAX / 2 ? need : sb->cap * 2;
	if (sb->s == NULL) {
		sb->s = xmalloc(sb->cap);
		sb->s[0] = '\0';
	} else {
		sb->s = xrealloc(sb->s, sb->cap);
	}
}

/* sb_init - an empty, NUL-terminated buffer */
void sb_init(struct strbuf *sb)
{
	sb->s = NULL;
	sb->len = 0;
	sb->cap = 0;
	sb_grow(sb, 0);
}

/* sb_free - release the buffer; it must be sb_init()ed again before reuse */
void sb_free(struct strbuf *sb)
{
	free(sb->s);
	sb->s = NULL;
	sb->len = 0;
	sb->cap = 0;
}

/* sb_reset - empty the buffer, keeping its memory */
void sb_reset(struct strbuf *sb)
{
	if (sb->s == NULL) {
		sb_init(sb);
		return;
	}
	sb->len = 0;
	sb->s[0] = '\0';
}

/* sb_appendn - append n bytes (they may hold NULs) */
void sb_appendn(struct strbuf *sb, const char *s, size_t n)
{
	sb_grow(sb, n);
	if (n)
		memcpy(sb->s + sb->len, s, n);
	sb->len += n;
	sb->s[sb->len] = '\0';
}

/* sb_append - append a NUL-terminated string; NULL appends nothing */
void sb_append(struct strbuf *sb, const char *s)
{
	if (s == NULL) {
		sb_grow(sb, 0);
		return;
	}
	sb_appendn(sb, s, strlen(s));
}

/* sb_appendc - append one byte */
void sb_appendc(struct strbuf *sb, char c)
{
	if (sb->s != NULL && sb->len + 2 <= sb->cap) { /* room for c and the NUL: the usual case */
		sb->s[sb->len++] = c;
		sb->s[sb->len] = '\0';
		return;
	}
	sb_appendn(sb, &c, 1);
}

/* sb_appendf - append printf-style output */
void pm_bprintf(char *buf, size_t size, const char *fmt, ...)
{
	va_list ap;

	if (size == 0)
		return;
	va_start(ap, fmt);
	(void)vsnprintf(buf, size, fmt, ap);
	va_end(ap);
}

void sb_appendf(struct strbuf *sb, const char *fmt, ...)
{
	va_list ap;
	int n;

	va_start(ap, fmt);
	n = vsnprintf(NULL, 0, fmt, ap);
	va_end(ap);
	if (n < 0)
		pm_fatal("sb_appendf: bad format");
	sb_grow(sb, (size_t)n);
	va_start(ap, fmt);
	vsnprintf(sb->s + sb->len, (size_t)n + 1, fmt, ap);
	va_end(ap);
	sb->len += (size_t)n;
}

/*
 * sb_steal - hand the string to the caller (who frees it). The buffer is
 * left empty and holding no memory: it needs no sb_free(), and may be
 * appended to again.
 */
char *sb_steal(struct strbuf *sb)
{
	char *s = sb->s;

	if (s == NULL)
		s = xstrdup("");
	sb->s = NULL;
	sb->len = 0;
	sb->cap = 0;
	return s;
}

/* pm_strlower - lower-case ASCII letters in place; returns s */
char *pm_strlower(char *s)
{
	char *p;

	if (s == NULL)
		return NULL;
	for (p = s; *p; p++)
		if (*p >= 'A' && *p <= 'Z')
			*p = (char)(*p - 'A' + 'a');
	return s;
}

/* ascii_lower - one byte lower-cased, ASCII only (locale-independent) */
static unsigned char ascii_lower(unsigned char c)
{
	return c >= 'A' && c <= 'Z' ? (unsigned char)(c - 'A' + 'a') : c;
}

/* pm_strcaseeq - ASCII case-insensitive equality; NULLs are equal only to each other */
bool pm_strcaseeq(const char *a, const char *b)
{
	const unsigned char *p = (const unsigned char *)a, *q = (const unsigned char *)b;

	if (a == NULL || b == NULL)
		return a == b;
	for (; *p && *q; p++, q++)
		if (ascii_lower(*p) != ascii_lower(*q))
			return false;
	return *p == *q;
}

/* pm_strcasesuffix - true when s ends with suffix, ASCII case-insensitively */
bool pm_strcasesuffix(const char *s, const char *suffix)
{
	size_t n, m;

	if (s == NULL || suffix == NULL)
		return false;
	n = strlen(s);
	m = strlen(suffix);
	if (m > n)
		return false;
	return pm_strcaseeq(s + n - m, suffix);
}

/* domain_in_list - domain equals a listed one or is below it */
bool domain_in_list(const char *domain, char *const *list, size_t n)
{
	size_t dl;

	if (domain == NULL)
		return false;
	dl = strlen(domain);
	for (size_t i = 0; i < n; i++) {
		size_t ll = strlen(list[i]);

		if (ll == 0 || ll > dl)
			continue;
		if (strcasecmp(domain + dl - ll, list[i]) != 0)
			continue;
		if (ll == dl || domain[dl - ll - 1] == '.')
			return true;
	}
	return false;
}

/* escape_width - bytes of output for one input byte: 1 kept, 4 for \xHH */
static size_t escape_width(unsigned char c)
{
	return c >= 0x20 && c < 0x7f && c != '\\' ? 1 : 4;
}

/* pm_escape - copy src into dst, printable ASCII but backslash kept, the rest as \xHH */
char *pm_escape(char *dst, size_t dstsize, const char *src, size_t srclen)
{
	static const char hex[] = "0123456789abcdef";
	size_t i, o = 0, total = 0, room;
	bool cut;

	if (dst == NULL || dstsize == 0)
		return dst;
	if (src == NULL)
		srclen = 0;
	for (i = 0; i < srclen && total < dstsize; i++)
		total += escape_width((unsigned char)src[i]);
	cut = total > dstsize - 1;
	/* when cut, keep room for "..." so that it follows a whole escape */
	room = dstsize - 1;
	room = cut ? (room > 3 ? room - 3 : 0) : room;
	for (i = 0; i < srclen; i++) {
		unsigned char c = (unsigned char)src[i];
		size_t w = escape_width(c);

		if (o + w > room)
			break;
		if (w == 1) {
			dst[o++] = (char)c;
		} else {
			dst[o++] = '\\';
			dst[o++] = 'x';
			dst[o++] = hex[c >> 4];
			dst[o++] = hex[c & 15];
		}
	}
	if (cut)
		for (i = 0; i < 3 && o < dstsize - 1; i++)
			dst[o++] = '.';
	dst[o] = '\0';
	return dst;
}

/* pm_escape_str - pm_escape for a NUL-terminated string; NULL becomes "" */
char *pm_escape_str(char *dst, size_t dstsize, const char *src)
{
	return pm_escape(dst, dstsize, src ? src : "", src ? strlen(src) : 0);
}

/* pm_utf8_valid - true when the n bytes are well-formed UTF-8 (RFC 3629) */
bool pm_utf8_valid(const unsigned char *s, size_t n)
{
	size_t i = 0;

	if (s == NULL)
		return n == 0;
	while (i < n) {
		unsigned char c = s[i];
		size_t len, k;
		uint32_t cp;

		if (c < 0x80) {
			i++;
			continue;
		} else if (c >= 0xc2 && c <= 0xdf) {
			len = 2;
			cp = c & 0x1f;
		} else if (c >= 0xe0 && c <= 0xef) {
			len = 3;
			cp = c & 0x0f;
		} else if (c >= 0xf0 && c <= 0xf4) {
			len = 4;
			cp = c & 0x07;
		} else {
			return false; /* continuation byte, 0xc0/0xc1 overlong, or > U+10FFFF */
		}
		if (n - i < len)
			return false;
		for (k = 1; k < len; k++) {
			if ((s[i + k] & 0xc0) != 0x80)
				return false;
			cp = (cp << 6) | (s[i + k] & 0x3f);
		}
		if ((len == 3 && cp < 0x800) || (len == 4 && cp < 0x10000))
			return false; /* overlong */
		if (cp >= 0xd800 && cp <= 0xdfff)
			return false; /* surrogate */
		if (cp > 0x10ffff)
			return false;
		i += len;
	}
	return true;
}

/* pm_hex_value - the value of one hex digit, -1 for any other */
int pm_hex_value(unsigned char c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	if (c >= 'a' && c <= 'f')
		return c - 'a' + 10;
	if (c >= 'A' && c <= 'F')
		return c - 'A' + 10;
	return -1;
}

/* pm_hash - FNV-1a of a NUL-terminated string */
uint64_t pm_hash(const char *s)
{
	uint64_t h = 14695981039346656037ULL;

	for (; *s; s++) {
		h ^= (unsigned char)*s;
		h *= 1099511628211ULL;
	}
	return h;
}

/* pm_dirname - the directory part of path into buf: "/a/b" "/a", "/a" "/", "a" "." */
char *pm_dirname(const char *path, char *buf, size_t bufsize)
{
	const char *end;
	size_t n;

	if (buf == NULL || bufsize == 0)
		return buf;
	if (path == NULL || (end = strrchr(path, '/')) == NULL) {
		snprintf(buf, bufsize, ".");
		return buf;
	}
	while (end > path && end[-1] == '/') /* "/a//b": "/a" */
		end--;
	n = end == path ? 1 : (size_t)(end - path);
	snprintf(buf, bufsize, "%.*s", (int)n, path);
	return buf;
}

/* pm_mode_unsafe_file - world-writable */
bool pm_mode_unsafe_file(mode_t mode)
{
	return (mode & S_IWOTH) != 0;
}

/* pm_mode_unsafe_dir - world-writable (and, with sticky_ok, not sticky) */
bool pm_mode_unsafe_dir(mode_t mode, bool sticky_ok)
{
	return (mode & S_IWOTH) != 0 && !(sticky_ok && (mode & S_ISVTX) != 0);
}

/* dir_unsafe - the directory of path is world-writable without the sticky bit: say so in buf */
static bool dir_unsafe(const char *path, char *buf, size_t bufsize)
{
	char dir[PATH_MAX];
	struct stat st;

	pm_dirname(path, dir, sizeof(dir));
	if (stat(dir, &st) != 0 || !S_ISDIR(st.st_mode) || !pm_mode_unsafe_dir(st.st_mode, true))
		return false;
	snprintf(buf, bufsize,
	         "its directory %s is world-writable without the sticky bit (mode %04o): anyone "
	         "could replace the file; chmod o-w %s, or move the file",
	         dir, (unsigned)(st.st_mode & 07777), dir);
	return true;
}

/* pm_file_unsafe - a world-writable file, or one in a directory where anyone may replace it */
const char *pm_file_unsafe(const char *path, const struct stat *st, char *buf, size_t bufsize)
{
	char *real;
	bool bad;

	if (path == NULL || st == NULL || buf == NULL || bufsize == 0)
		return NULL;
	if (pm_mode_unsafe_file(st->st_mode)) {
		snprintf(buf, bufsize,
		         "the file is world-writable (mode %04o): anyone could change it; "
		         "chmod o-w %s",
		         (unsigned)(st->st_mode & 07777), path);
		return buf;
	}
	if (dir_unsafe(path, buf, bufsize))
		return buf;
	/* a symbolic link (itself, or a directory on the way): the real file's directory too */
	if ((real = realpath(path, NULL)) == NULL)
		return NULL;
	bad = strcmp(real, path) != 0 && dir_unsafe(real, buf, bufsize);
	free(real);
	return bad ? buf : NULL;
}

/* pm_socket_dir_unsafe - the directory of a unix socket is world-writable (sticky or not) */
const char *pm_socket_dir_unsafe(const char *path, char *buf, size_t bufsize)
{
	char dir[PATH_MAX];
	struct stat st;

	if (path == NULL || buf == NULL || bufsize == 0)
		return NULL;
	pm_dirname(path, dir, sizeof(dir));
	if (stat(dir, &st) != 0 || !S_ISDIR(st.st_mode) || !pm_mode_unsafe_dir(st.st_mode, false))
		return NULL;
	snprintf(buf, bufsize,
	         "socket directory %s is world-writable (mode %04o): anyone could plant a socket "
	         "there, sticky bit or not; use a directory only root and the milter user can "
	         "write, such as /run/policy-milter or Postfix's /var/spool/postfix/policy-milter",
	         dir, (unsigned)(st.st_mode & 07777));
	return buf;
}
