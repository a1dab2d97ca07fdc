/*
 * NAME
 *	suiteprobe - run spf.c over the cases of one RFC 7208 suite scenario
 * SYNOPSIS
 *	suiteprobe CASES
 * DESCRIPTION
 *	CASES has one case a line: NAME, IP, HELO and MAILFROM separated by
 *	tabs (HELO and MAILFROM may hold spaces and other odd bytes; an
 *	empty MAILFROM is the null sender: the HELO identity is checked,
 *	as policy-milter does for MAIL FROM:<>). Each case goes through
 *	spf_check_helo or spf_check_mailfrom exactly as the daemon calls
 *	them, with the client address handed over as data. Prints one line a
 *	case: NAME, a tab, the result name, a tab, the outcome's comment.
 *	Settings: spf.timeout 20 s, spf.dns_timeout 1 s (the suite's TIMEOUT
 *	is a server that never answers), at most 50 queries, 2 void lookups.
 * DIAGNOSTICS
 *	Exit 0, or 2 when CASES cannot be read or a line is malformed.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "log.h"
#include "policy.h"
#include "spf.h"
#include "util.h"

static const struct spf_settings settings = {
    .mode = PM_MODE_ENFORCE,
    .helo_mode = PM_MODE_ENFORCE,
    .timeout = 20,
    .dns_timeout = 1,
    .max_dns_queries = 50,
    .max_void_lookups = 2,
    .receiver = "mx.example.org",
};

/* run_case - one case line (tabs already split into f[0..3]) */
static void run_case(char **f)
{
	struct spf_outcome out;
	struct dns_budget b;
	struct pm_ip ip;
	const char *helo = f[2], *from = f[3];
	const char *at = strrchr(from, '@');

	if (pm_ip_parse(f[1], &ip) != 0)
		ip.family = AF_UNSPEC;
	/* one test, one command's budget, as the daemon builds it */
	dns_budget_init(&b, settings.dns_timeout, settings.timeout);
	if (from[0] == '\0') {
		spf_check_helo(&settings, &b, &ip, helo, &out);
	} else if (at != NULL) {
		char *local = xstrndup(from, (size_t)(at - from));

		spf_check_mailfrom(&settings, &b, &ip, helo, local, at + 1, &out);
		free(local);
	} else {
		spf_check_mailfrom(&settings, &b, &ip, helo, "", from, &out);
	}
	printf("%s\t%s\t%s\n", f[0], pm_spf_result_name(out.result), out.comment);
	fflush(stdout);
}

int main(int argc, char **argv)
{
	FILE *fp;
	char line[4096];
	int lineno = 0;

	if (argc != 2) {
		fprintf(stderr, "usage: suiteprobe CASES\n");
		return 2;
	}
	log_open("suiteprobe", LOG_MAIL, true);
	fp = fopen(argv[1], "r");
	if (fp == NULL) {
		perror(argv[1]);
		return 2;
	}
	while (fgets(line, sizeof(line), fp) != NULL) {
		char *f[4], *p = line;
		int n;

		lineno++;
		line[strcspn(line, "\n")] = '\0';
		for (n = 0; n < 4; n++) {
			f[n] = p;
			p = strchr(p, '\t');
			if (p == NULL)
				break;
			*p++ = '\0';
		}
		if (n != 3) {
			fprintf(stderr, "%s:%d: want NAME<tab>IP<tab>HELO<tab>MAILFROM\n", argv[1],
			        lineno);
			return 2;
		}
		run_case(f);
	}
	fclose(fp);
	return 0;
}
