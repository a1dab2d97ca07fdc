/*
 * NAME
 *	loadcommon.h - what the two load generators of the benchmark share
 * SYNOPSIS
 *	#include "loadcommon.h"	(smtpload.c, miltload.c; static functions only)
 * DESCRIPTION
 *	The message mix as mkmsgs.pl wrote it (OUT/mix.idx: NAME WEIGHT
 *	EXPECT MAIL_FROM FILE[,FILE...], each FILE the exact message, CRLF
 *	lines), the order of the classes (interleaved by weight: a smooth
 *	weighted round robin over one cycle of sum(WEIGHT) messages), the
 *	per-message records, and the summary both tools print:
 *
 *	    result messages=N seconds=S rate=R p50_ms=A p99_ms=B max_ms=C mismatches=M
 *client_cpu_s=U class name=NAME expect=E sent=N got_250=N got_550=N got_other=N p50_ms=A p99_ms=B
 *
 *	client_cpu_s is the load generator's own CPU time (user + system).
 *	Percentiles are nearest-rank over the per-message latencies. With
 *	write_records (-l FILE) every message is also written as one line
 *	"CLASS CODE LATENCY_MS STAGE", for percentiles over several runs.
 */
#ifndef LOADCOMMON_H
#define LOADCOMMON_H

#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <time.h>

#define MAX_CLASSES  32
#define MAX_VARIANTS 100

struct msgfile {
	char *data; /* the message as read */
	size_t len;
};

struct mixclass {
	char name[64];
	int weight;
	int expect;       /* the reply code this class must get */
	char local[128];  /* envelope sender: local part ... */
	char domain[128]; /* ... and domain */
	struct msgfile v[MAX_VARIANTS];
	int nv;
};

struct mix {
	struct mixclass c[MAX_CLASSES];
	int nc;
	int *sched; /* class of each message of one cycle */
	int cycle;
};

/* one message as sent: its class, the reply it got, and how long it took */
struct record {
	int cls;
	int code;      /* 3-digit reply code; 0: no reply (connection trouble) */
	char stage[8]; /* where the final answer came: banner, ehlo, mail, rcpt, data, dot, eom ...
	                */
	double ms;
	char *text; /* the first line of that reply (or what went wrong) */
};

/* die - print "PROG: message" and exit 2 (a set-up error, not a measurement) */
__attribute__((format(printf, 2, 3), noreturn)) static void die(const char *prog, const char *fmt,
                                                                ...)
{
	va_list ap;

	fprintf(stderr, "%s: ", prog);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputc('\n', stderr);
	exit(2);
}

/* now_ms - a monotonic clock in milliseconds */
static double now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec * 1e3 + ts.tv_nsec / 1e6;
}

/* read_file - the whole file PATH into F; false on error */
static int read_file(const char *path, struct msgfile *f)
{
	FILE *fp = fopen(path, "rb");
	long n;

	if (fp == NULL)
		return 0;
	if (fseek(fp, 0, SEEK_END) != 0 || (n = ftell(fp)) < 0 || fseek(fp, 0, SEEK_SET) != 0) {
		fclose(fp);
		return 0;
	}
	f->data = malloc((size_t)n + 1);
	if (f->data == NULL || fread(f->data, 1, (size_t)n, fp) != (size_t)n) {
		fclose(fp);
		return 0;
	}
	f->data[n] = '\0';
	f->len = (size_t)n;
	fclose(fp);
	return 1;
}

/* mix_load - read PATH (mix.idx) and every message it names; dies on any error */
static void mix_load(const char *prog, const char *path, struct mix *m)
{
	FILE *fp = fopen(path, "r");
	char line[16384];
	int total = 0;

	if (fp == NULL)
		die(prog, "%s: %s", path, strerror(errno));
	memset(m, 0, sizeof(*m));
	while (fgets(line, sizeof(line), fp) != NULL) {
		struct mixclass *c;
		char from[256], files[16000], *at, *tok, *save;

		if (line[0] == '#' || line[0] == '\n')
			continue;
		if (m->nc == MAX_CLASSES)
			die(prog, "%s: more than %d classes", path, MAX_CLASSES);
		c = &m->c[m->nc];
		if (sscanf(line, "%63s %d %d %255s %15999s", c->name, &c->weight, &c->expect, from,
		           files) != 5 ||
		    c->weight < 1 || c->weight > 1000 || c->expect < 200 || c->expect > 599)
			die(prog, "%s: bad line: %s", path, line);
		at = strrchr(from, '@');
		if (at == NULL || at == from || (size_t)(at - from) >= sizeof(c->local) ||
		    strlen(at + 1) >= sizeof(c->domain))
			die(prog, "%s: bad sender %s", path, from);
		memcpy(c->local, from, (size_t)(at - from));
		c->local[at - from] = '\0';
		strcpy(c->domain, at + 1);
		for (tok = strtok_r(files, ",", &save); tok != NULL;
		     tok = strtok_r(NULL, ",", &save)) {
			if (c->nv == MAX_VARIANTS)
				die(prog, "%s: more than %d variants of %s", path, MAX_VARIANTS,
				    c->name);
			if (!read_file(tok, &c->v[c->nv]))
				die(prog, "%s: %s", tok, strerror(errno));
			c->nv++;
		}
		if (c->nv == 0)
			die(prog, "%s: class %s has no message", path, c->name);
		total += c->weight;
		m->nc++;
	}
	fclose(fp);
	if (m->nc == 0)
		die(prog, "%s: no classes", path);

	/* smooth weighted round robin: the classes interleaved in proportion */
	int cur[MAX_CLASSES] = {0};
	m->cycle = total;
	m->sched = calloc((size_t)total, sizeof(int));
	if (m->sched == NULL)
		die(prog, "out of memory");
	for (int i = 0; i < total; i++) {
		int best = 0;
		for (int k = 0; k < m->nc; k++) {
			cur[k] += m->c[k].weight;
			if (cur[k] > cur[best])
				best = k;
		}
		cur[best] -= total;
		m->sched[i] = best;
	}
}

/* mix_pick - class and message (variant) of message number I */
static const struct msgfile *mix_pick(const struct mix *m, long i, int *cls)
{
	const struct mixclass *c;

	*cls = m->sched[i % m->cycle];
	c = &m->c[*cls];
	return &c->v[(i / m->cycle) % c->nv];
}

static int cmp_double(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;

	return x < y ? -1 : x > y;
}

/* percentile - nearest-rank P-th percentile (0 < P <= 100) of the sorted V[N] */
static double percentile(const double *v, long n, double p)
{
	long k;

	if (n == 0)
		return 0;
	k = (long)(p / 100.0 * (double)n + 0.999999999);
	if (k < 1)
		k = 1;
	if (k > n)
		k = n;
	return v[k - 1];
}

/* report - print the summary lines; returns the number of mismatches (each listed on stderr, at
 * most 10) */
static long report(const char *prog, const struct mix *m, const struct record *r, long n,
                   double seconds, int expect_all)
{
	double *lat = malloc(sizeof(double) * (size_t)(n > 0 ? n : 1));
	long mismatches = 0, shown = 0;

	if (lat == NULL)
		die(prog, "out of memory");
	for (long i = 0; i < n; i++) {
		int want = expect_all ? expect_all : m->c[r[i].cls].expect;

		lat[i] = r[i].ms;
		if (r[i].code != want) {
			mismatches++;
			if (shown++ < 10)
				fprintf(
				    stderr,
				    "%s: message %ld (class %s): got %d at %s \"%s\", want %d\n",
				    prog, i, m->c[r[i].cls].name, r[i].code, r[i].stage,
				    r[i].text ? r[i].text : "", want);
		}
	}
	qsort(lat, (size_t)n, sizeof(double), cmp_double);
	struct rusage ru;
	getrusage(RUSAGE_SELF, &ru);
	printf("result messages=%ld seconds=%.3f rate=%.1f p50_ms=%.2f p99_ms=%.2f max_ms=%.2f "
	       "mismatches=%ld client_cpu_s=%.2f\n",
	       n, seconds, seconds > 0 ? n / seconds : 0, percentile(lat, n, 50),
	       percentile(lat, n, 99), n ? lat[n - 1] : 0, mismatches,
	       ru.ru_utime.tv_sec + ru.ru_stime.tv_sec +
	           (ru.ru_utime.tv_usec + ru.ru_stime.tv_usec) / 1e6);
	for (int k = 0; k < m->nc; k++) {
		long sent = 0, g250 = 0, g550 = 0, other = 0, j = 0;
		int want = expect_all ? expect_all : m->c[k].expect;

		for (long i = 0; i < n; i++) {
			if (r[i].cls != k)
				continue;
			sent++;
			lat[j++] = r[i].ms;
			if (r[i].code == 250)
				g250++;
			else if (r[i].code == 550)
				g550++;
			else
				other++;
		}
		qsort(lat, (size_t)j, sizeof(double), cmp_double);
		printf("class name=%s expect=%d sent=%ld got_250=%ld got_550=%ld got_other=%ld "
		       "p50_ms=%.2f p99_ms=%.2f\n",
		       m->c[k].name, want, sent, g250, g550, other, percentile(lat, j, 50),
		       percentile(lat, j, 99));
	}
	free(lat);
	return mismatches;
}

/* write_records - one line per message to PATH: "CLASS CODE LATENCY_MS STAGE"; dies on error */
static void write_records(const char *prog, const char *path, const struct mix *m,
                          const struct record *r, long n)
{
	FILE *fp = fopen(path, "w");

	if (fp == NULL)
		die(prog, "%s: %s", path, strerror(errno));
	for (long i = 0; i < n; i++)
		fprintf(fp, "%s %d %.3f %s\n", m->c[r[i].cls].name, r[i].code, r[i].ms, r[i].stage);
	if (fclose(fp) != 0)
		die(prog, "%s: %s", path, strerror(errno));
}

#endif
