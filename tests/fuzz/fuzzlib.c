/*
 * NAME
 *	fuzzlib 3 - what the libFuzzer targets in tests/fuzz share
 * DESCRIPTION
 *	See fuzzlib.h. The temporary directory is made with mkdtemp under
 *	$TMPDIR (tests/fuzz/run.sh points it at its own mktemp directory)
 *	and removed with everything in it at exit; a crash leaves it for
 *	run.sh to remove.
 */
#include <errno.h>
#include <ftw.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "fuzzlib.h"

static char dir[4096];

void fuzz_fail(const char *file, int line, const char *cond, const char *fmt, ...)
{
	va_list ap;

	fprintf(stderr, "%s:%d: invariant broken: %s: ", file, line, cond);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputc('\n', stderr);
	abort();
}

/* rm_one - nftw callback: remove one entry (depth first) */
static int rm_one(const char *path, const struct stat *st, int flag, struct FTW *ftw)
{
	(void)st;
	(void)flag;
	(void)ftw;
	remove(path);
	return 0;
}

/* rm_dir - remove the private directory at exit */
static void rm_dir(void)
{
	if (dir[0] != '\0')
		nftw(dir, rm_one, 16, FTW_DEPTH | FTW_PHYS);
}

const char *fuzz_dir(void)
{
	const char *tmp = getenv("TMPDIR");

	if (dir[0] != '\0')
		return dir;
	snprintf(dir, sizeof(dir), "%s/pm-fuzz.XXXXXX", tmp != NULL && *tmp ? tmp : "/tmp");
	if (mkdtemp(dir) == NULL) {
		fprintf(stderr, "fuzz: mkdtemp %s: %s\n", dir, strerror(errno));
		abort();
	}
	atexit(rm_dir);
	return dir;
}

const char *fuzz_path(int slot, const char *name)
{
	static char buf[4][4096 + 256];

	if (slot < 0 || slot > 3)
		abort();
	snprintf(buf[slot], sizeof(buf[slot]), "%s/%s", fuzz_dir(), name);
	return buf[slot];
}

void fuzz_write(const char *path, const void *data, size_t size)
{
	FILE *fp = fopen(path, "w");

	if (fp == NULL || (size > 0 && fwrite(data, 1, size, fp) != size) || fclose(fp) != 0) {
		fprintf(stderr, "fuzz: cannot write %s: %s\n", path, strerror(errno));
		abort();
	}
}

char *fuzz_cstr(const uint8_t *data, size_t size)
{
	char *s = malloc(size + 1);

	if (s == NULL)
		abort();
	if (size > 0)
		memcpy(s, data, size);
	s[size] = '\0';
	return s;
}

char *fuzz_slurp_line(const char *path)
{
	FILE *fp = fopen(path, "r");
	char buf[8192];
	size_t n;

	if (fp == NULL)
		return NULL;
	n = fread(buf, 1, sizeof(buf) - 1, fp);
	fclose(fp);
	buf[n] = '\0';
	buf[strcspn(buf, "\r\n")] = '\0';
	return fuzz_cstr((const uint8_t *)buf, strlen(buf));
}

bool fuzz_printable(const char *s)
{
	for (; *s != '\0'; s++)
		if ((unsigned char)*s < 0x20 || (unsigned char)*s > 0x7e)
			return false;
	return true;
}

void fuzz_split(const uint8_t *data, size_t size, size_t max, struct fuzz_fields *f)
{
	size_t i, start = 0;

	f->buf = fuzz_cstr(data, size);
	f->v = calloc(max + 1, sizeof(*f->v));
	f->n = 0;
	if (f->v == NULL)
		abort();
	for (i = 0; i <= size && f->n < max; i++) {
		if (i < size && (data[i] != '\0' || f->n == max - 1))
			continue;
		f->buf[i < size ? i : size] = '\0';
		f->v[f->n++] = f->buf + start;
		start = i + 1;
	}
}

const char *fuzz_field(const struct fuzz_fields *f, size_t i)
{
	return i < f->n ? f->v[i] : "";
}

void fuzz_fields_free(struct fuzz_fields *f)
{
	free(f->v);
	free(f->buf);
	f->v = NULL;
	f->buf = NULL;
	f->n = 0;
}

/* put16 - a 16-bit value in network order */
static void put16(unsigned char *p, unsigned v)
{
	p[0] = (unsigned char)(v >> 8);
	p[1] = (unsigned char)v;
}

size_t fuzz_dns_build(unsigned char *buf, size_t bufsize, const char *qname, int qtype, int rcode,
                      const struct fuzz_rr *rrs, size_t nrr)
{
	size_t o = 12, i;
	const char *label = qname;

	if (bufsize < 12 + 1 + 4)
		return 0;
	memset(buf, 0, 12);
	put16(buf + 2, 0x8180u | ((unsigned)rcode & 0xf)); /* response, RD, RA */
	put16(buf + 4, 1);
	put16(buf + 6, (unsigned)nrr);
	/* the question: qname as labels (the budgets' callers send checked names) */
	while (*label != '\0') {
		const char *dot = strchr(label, '.');
		size_t len = dot ? (size_t)(dot - label) : strlen(label);

		if (len == 0 || len > 63 || o + 1 + len + 5 > bufsize)
			return 0;
		buf[o++] = (unsigned char)len;
		memcpy(buf + o, label, len);
		o += len;
		label += len + (dot ? 1 : 0);
	}
	buf[o++] = 0;
	put16(buf + o, (unsigned)qtype);
	put16(buf + o + 2, 1);
	o += 4;
	for (i = 0; i < nrr; i++) {
		if (rrs[i].rdlen > 0xffff || o + 12 + rrs[i].rdlen > bufsize)
			return 0;
		put16(buf + o, 0xc00c); /* the question's name */
		put16(buf + o + 2, (unsigned)rrs[i].type);
		put16(buf + o + 4, (unsigned)rrs[i].klass);
		put16(buf + o + 6, 0);
		put16(buf + o + 8, 300);
		put16(buf + o + 10, (unsigned)rrs[i].rdlen);
		o += 12;
		if (rrs[i].rdlen > 0)
			memcpy(buf + o, rrs[i].rdata, rrs[i].rdlen);
		o += rrs[i].rdlen;
	}
	return o;
}

size_t fuzz_txt_rdata(const char *text, size_t len, unsigned char *out, size_t outsize)
{
	size_t o = 0;

	do {
		size_t chunk = len > 255 ? 255 : len;

		if (o + 1 + chunk > outsize)
			return 0;
		out[o++] = (unsigned char)chunk;
		memcpy(out + o, text, chunk);
		o += chunk;
		text += chunk;
		len -= chunk;
	} while (len > 0);
	return o;
}

/* ---- a raw message cut as the MTA hands it over --------------------- */

void fuzz_message_split(const uint8_t *d, size_t size, struct fuzz_message *m)
{
	size_t pos = 0, cap = 0, vstart = 0;
	struct fuzz_header *cur = NULL;

	memset(m, 0, sizeof(*m));
	while (pos < size) {
		const uint8_t *eol = memchr(d + pos, '\n', size - pos);
		size_t end = eol != NULL ? (size_t)(eol - d) + 1 : size; /* past the line */
		size_t content = end - pos, i;

		if (content > 0 && d[end - 1] == '\n')
			content--;
		if (content > 0 && d[pos + content - 1] == '\r')
			content--;
		if (content == 0) {
			pos = end; /* the empty line ends the headers */
			break;
		}
		if ((d[pos] == ' ' || d[pos] == '\t') && cur != NULL) {
			free(cur->value);
			cur->value = fuzz_cstr(d + vstart, pos + content - vstart);
			pos = end;
			continue;
		}
		for (i = pos; i < pos + content && d[i] > ' ' && d[i] < 0x7f && d[i] != ':'; i++)
			;
		if (i == pos)
			break; /* no field name: the body starts here */
		while (i < pos + content && (d[i] == ' ' || d[i] == '\t'))
			i++;
		if (i >= pos + content || d[i] != ':')
			break;
		if (m->n == cap) {
			cap = cap ? 2 * cap : 16;
			m->f = realloc(m->f, cap * sizeof(*m->f));
			if (m->f == NULL)
				fuzz_fail(__FILE__, __LINE__, "realloc", "out of memory");
		}
		cur = &m->f[m->n++];
		cur->name = fuzz_cstr(d + pos, i - pos); /* white space before the colon kept */
		vstart = i + 1;
		cur->value = fuzz_cstr(d + vstart, pos + content - vstart);
		pos = end;
	}
	m->body = d + pos;
	m->body_len = size - pos;
}

void fuzz_message_free(struct fuzz_message *m)
{
	for (size_t i = 0; i < m->n; i++) {
		free(m->f[i].name);
		free(m->f[i].value);
	}
	free(m->f);
}
