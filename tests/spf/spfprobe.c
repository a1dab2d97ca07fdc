/*
 * NAME
 *	spfprobe - run spf.c's checks from the command line, or a table of cases
 * SYNOPSIS
 *	spfprobe [options] IP HELO SENDER
 *	spfprobe [options] -f CASES [-t THREADS]
 *	options: -T timeout -d dns_timeout -q max_dns_queries -v max_void_lookups
 *	         -r receiver
 * DESCRIPTION
 *	The first form prints one line: result, domain, queries, voids, time
 *	and comment. SENDER "<>" (or "-") runs spf_check_helo, anything else
 *	spf_check_mailfrom split at its last "@". HELO "-" is empty.
 *
 *	The second form runs every case of the file (one per line, '#'
 *	comments): NAME IP HELO SENDER WANT [max=MS] [has=TEXT] [dns=CAUSE]
 *	[T=s] [d=s] [q=n] [v=n]. "{N}" in SENDER stands for N "x" bytes; "_"
 *	in has= for a space; dns= is the cause of a temperror as logged
 *	(dns_fail_name: timeout, budget, malformed, ...). It prints "ok - NAME" or "not ok - NAME:
 *got X want Y" per case. With -t N, N threads run the whole table at once (timing limits are not
 *checked then, results are). DIAGNOSTICS Exit 0 when every case passed, 1 when one failed, 2 on
 *usage errors.
 */
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "log.h"
#include "policy.h"
#include "spf.h"
#include "util.h"

struct probe_case {
	char name[64];
	char ip[64];
	char *helo;
	char *sender;
	char want[16];
	long max_ms;
	char has[128];
	char dns[32]; /* the temperror's cause, when given */
	struct spf_settings s;
};

static struct spf_settings base = {
    .mode = PM_MODE_ENFORCE,
    .helo_mode = PM_MODE_ENFORCE,
    .timeout = 20,
    .dns_timeout = 5,
    .max_dns_queries = 50,
    .max_void_lookups = 2,
    .receiver = "mx.example.org",
};

static struct probe_case *cases;
static size_t ncases;
static int failures;
static pthread_mutex_t out_lock = PTHREAD_MUTEX_INITIALIZER;

/* elapsed_ms - milliseconds since t0 */
static long elapsed_ms(const struct timespec *t0)
{
	struct timespec t1;

	clock_gettime(CLOCK_MONOTONIC, &t1);
	return (t1.tv_sec - t0->tv_sec) * 1000 + (t1.tv_nsec - t0->tv_nsec) / 1000000;
}

/* run_one - one check; returns its wall time in ms */
static long run_one(const struct spf_settings *s, const char *ipstr, const char *helo,
                    const char *sender, struct spf_outcome *out)
{
	struct pm_ip ip;
	struct timespec t0;
	struct dns_budget b;
	const char *at;

	if (pm_ip_parse(ipstr, &ip) != 0)
		ip.family = AF_UNSPEC;
	clock_gettime(CLOCK_MONOTONIC, &t0);
	dns_budget_init(&b, s->dns_timeout, s->timeout); /* one check, one budget */
	if (strcmp(sender, "<>") == 0 || strcmp(sender, "-") == 0) {
		spf_check_helo(s, &b, &ip, helo, out);
	} else if ((at = strrchr(sender, '@')) != NULL) {
		char *local = xstrndup(sender, (size_t)(at - sender));

		spf_check_mailfrom(s, &b, &ip, helo, local, at + 1, out);
		free(local);
	} else {
		spf_check_mailfrom(s, &b, &ip, helo, "", sender, out);
	}
	return elapsed_ms(&t0);
}

/* expand - "-" to "", "{N}" to N x's; caller frees */
static char *expand(const char *tok)
{
	struct strbuf sb;
	const char *p;

	if (strcmp(tok, "-") == 0)
		return xstrdup("");
	sb_init(&sb);
	for (p = tok; *p; p++) {
		char *end;
		long n;

		if (*p == '{' && (n = strtol(p + 1, &end, 10)) > 0 && *end == '}') {
			while (n-- > 0)
				sb_appendc(&sb, 'x');
			p = end;
		} else {
			sb_appendc(&sb, *p);
		}
	}
	return sb_steal(&sb);
}

/* load_cases - read the case table; exits 2 on a malformed line */
static void load_cases(const char *path)
{
	FILE *f = fopen(path, "r");
	char line[1024];
	int lineno = 0;

	if (f == NULL) {
		perror(path);
		exit(2);
	}
	while (fgets(line, sizeof(line), f) != NULL) {
		char *tok[16];
		int n = 0;
		struct probe_case *c;

		lineno++;
		for (char *p = strtok(line, " \t\r\n"); p && n < 16; p = strtok(NULL, " \t\r\n"))
			tok[n++] = p;
		if (n == 0 || tok[0][0] == '#')
			continue;
		if (n < 5) {
			fprintf(stderr, "%s:%d: want NAME IP HELO SENDER WANT\n", path, lineno);
			exit(2);
		}
		cases = xrealloc(cases, (ncases + 1) * sizeof(*cases));
		c = &cases[ncases++];
		memset(c, 0, sizeof(*c));
		snprintf(c->name, sizeof(c->name), "%s", tok[0]);
		snprintf(c->ip, sizeof(c->ip), "%s", tok[1]);
		c->helo = expand(tok[2]);
		c->sender = strcmp(tok[3], "<>") == 0 ? xstrdup("<>") : expand(tok[3]);
		snprintf(c->want, sizeof(c->want), "%s", tok[4]);
		c->s = base;
		for (int i = 5; i < n; i++) {
			if (strncmp(tok[i], "max=", 4) == 0)
				c->max_ms = atol(tok[i] + 4);
			else if (strncmp(tok[i], "has=", 4) == 0) {
				snprintf(c->has, sizeof(c->has), "%s", tok[i] + 4);
				for (char *q = c->has; *q; q++)
					if (*q == '_')
						*q = ' ';
			} else if (strncmp(tok[i], "dns=", 4) == 0)
				snprintf(c->dns, sizeof(c->dns), "%s", tok[i] + 4);
			else if (strncmp(tok[i], "T=", 2) == 0)
				c->s.timeout = atoi(tok[i] + 2);
			else if (strncmp(tok[i], "d=", 2) == 0)
				c->s.dns_timeout = atoi(tok[i] + 2);
			else if (strncmp(tok[i], "q=", 2) == 0)
				c->s.max_dns_queries = atoi(tok[i] + 2);
			else if (strncmp(tok[i], "v=", 2) == 0)
				c->s.max_void_lookups = atoi(tok[i] + 2);
			else {
				fprintf(stderr, "%s:%d: unknown option %s\n", path, lineno, tok[i]);
				exit(2);
			}
		}
	}
	fclose(f);
}

/* run_cases - every case once; timing is checked when check_time; returns failures */
static int run_cases(bool check_time, bool verbose)
{
	int bad = 0;

	for (size_t i = 0; i < ncases; i++) {
		struct probe_case *c = &cases[i];
		struct spf_outcome out;
		long ms = run_one(&c->s, c->ip, c->helo, c->sender, &out);
		const char *got = pm_spf_result_name(out.result);
		char why[512] = "";

		if (strcmp(got, c->want) != 0)
			snprintf(why, sizeof(why), "got %s want %s (%s)", got, c->want,
			         out.comment);
		else if (c->has[0] && strstr(out.comment, c->has) == NULL)
			snprintf(why, sizeof(why), "comment \"%s\" lacks \"%s\"", out.comment,
			         c->has);
		else if (c->dns[0] && strcmp(dns_fail_name(out.dns_fail), c->dns) != 0)
			snprintf(why, sizeof(why), "cause \"%s\", want \"%s\"",
			         dns_fail_name(out.dns_fail), c->dns);
		else if (check_time && c->max_ms > 0 && ms > c->max_ms)
			snprintf(why, sizeof(why), "took %ld ms, want at most %ld", ms, c->max_ms);
		if (why[0])
			bad++;
		if (verbose || why[0]) {
			pthread_mutex_lock(&out_lock);
			if (why[0])
				printf("not ok - %s: %s\n", c->name, why);
			else
				printf("ok - %s: %s domain=%s queries=%u voids=%u%s%s %ld ms "
				       "\"%s\"\n",
				       c->name, got, out.domain, out.dns_queries, out.void_lookups,
				       out.dns_fail != DNS_FAIL_NONE ? " dns=" : "",
				       dns_fail_name(out.dns_fail), ms, out.comment);
			pthread_mutex_unlock(&out_lock);
		}
	}
	return bad;
}

/* thread_main - a worker of -t: the whole table, quietly */
static void *thread_main(void *arg)
{
	int bad = run_cases(false, false);

	(void)arg;
	pthread_mutex_lock(&out_lock);
	failures += bad;
	pthread_mutex_unlock(&out_lock);
	return NULL;
}

/* usage - print the synopsis and exit 2 */
static void usage(void)
{
	fprintf(stderr, "usage: spfprobe [-T s] [-d s] [-q n] [-v n] [-r receiver] IP HELO SENDER\n"
	                "       spfprobe [same options] -f CASES [-t THREADS]\n");
	exit(2);
}

int main(int argc, char **argv)
{
	const char *file = NULL;
	int threads = 0, i;

	log_open("spfprobe", LOG_MAIL, true);
	for (i = 1; i < argc && argv[i][0] == '-' && argv[i][1] != '\0'; i++) {
		const char *opt = argv[i];

		if (i + 1 >= argc)
			usage();
		if (strcmp(opt, "-T") == 0)
			base.timeout = atoi(argv[++i]);
		else if (strcmp(opt, "-d") == 0)
			base.dns_timeout = atoi(argv[++i]);
		else if (strcmp(opt, "-q") == 0)
			base.max_dns_queries = atoi(argv[++i]);
		else if (strcmp(opt, "-v") == 0)
			base.max_void_lookups = atoi(argv[++i]);
		else if (strcmp(opt, "-r") == 0)
			base.receiver = argv[++i];
		else if (strcmp(opt, "-f") == 0)
			file = argv[++i];
		else if (strcmp(opt, "-t") == 0)
			threads = atoi(argv[++i]);
		else
			usage();
	}
	if (file == NULL) {
		struct spf_outcome out;
		char *helo, *sender;
		long ms;

		if (argc - i != 3)
			usage();
		helo = expand(argv[i + 1]);
		sender = strcmp(argv[i + 2], "<>") == 0 ? xstrdup("<>") : expand(argv[i + 2]);
		ms = run_one(&base, argv[i], helo, sender, &out);
		printf("result=%s domain=%s queries=%u voids=%u time=%ldms comment=\"%s\"\n",
		       pm_spf_result_name(out.result), out.domain, out.dns_queries,
		       out.void_lookups, ms, out.comment);
		free(helo);
		free(sender);
		return 0;
	}
	load_cases(file);
	if (threads <= 0) {
		failures = run_cases(true, true);
		printf("%zu cases, %d failed\n", ncases, failures);
	} else {
		pthread_t *tids = xcalloc((size_t)threads, sizeof(*tids));
		struct timespec t0;

		clock_gettime(CLOCK_MONOTONIC, &t0);
		for (int k = 0; k < threads; k++)
			if (pthread_create(&tids[k], NULL, thread_main, NULL) != 0)
				pm_fatal("pthread_create failed");
		for (int k = 0; k < threads; k++)
			pthread_join(tids[k], NULL);
		free(tids);
		if (failures == 0)
			printf("ok - %d threads x %zu cases concurrently (%ld ms)\n", threads,
			       ncases, elapsed_ms(&t0));
		else
			printf("not ok - %d threads x %zu cases: %d failed\n", threads, ncases,
			       failures);
	}
	for (size_t k = 0; k < ncases; k++) {
		free(cases[k].helo);
		free(cases[k].sender);
	}
	free(cases);
	return failures ? 1 : 0;
}
