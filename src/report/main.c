/*
 * NAME
 *	policy-milter-report 1 - summarise policy-milter's JSON decision logs
 * SYNOPSIS
 *	policy-milter-report [--json | --csv] [--top N] [--since TIME] [--until TIME]
 *	        [--client ADDR|CIDR] [--domain DOMAIN] [--action ACTION] [-v] LOG...
 * DESCRIPTION
 *	The command line and the loop: each input is read line by line
 *	(input), each line decoded (record), kept or not (filter), counted
 *	(aggregate); then one writer prints the report (output). See
 *	policy-milter-report(1).
 * DIAGNOSTICS
 *	Exit 0 when the report was made; 1 when an input could not be
 *	opened or read, or the report could not be written (the report of
 *	the other inputs is still printed); 64 on bad usage. Lines that are
 *	not records are counted, never fatal.
 */
#include <errno.h>
#include <getopt.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sysexits.h>

#include "../util.h"
#include "aggregate.h"
#include "filter.h"
#include "input.h"
#include "output.h"
#include "record.h"
#include "timefmt.h"

#define PROG "policy-milter-report"

enum format { FMT_TEXT, FMT_JSON, FMT_CSV };

struct options {
	enum format format;
	size_t top;
	bool verbose;
	struct filter filter;
};

/* usage - the synopsis to stderr (or stdout for --help) */
static void usage(FILE *fp)
{
	fprintf(
	    fp,
	    "usage: " PROG " [--json | --csv] [--top N] [--since TIME] [--until TIME]\n"
	    "       [--client ADDR|CIDR] [--domain DOMAIN] [--action ACTION] [-v] LOG...\n"
	    "  LOG           a decision log (log.json_file), gzip-compressed or not; - for stdin\n"
	    "  --json, --csv output for tools instead of the text report\n"
	    "  --top N       entries in each top list (default 10, 0 for all)\n"
	    "  --since TIME  only decisions at or after TIME (RFC 3339, or YYYY-MM-DD[ HH:MM] "
	    "UTC)\n"
	    "  --until TIME  only decisions before TIME\n"
	    "  --client NET  only this client address or network (repeatable)\n"
	    "  --domain D    only sender or DMARC domain D or below (repeatable)\n"
	    "  --action A    only accept, reject, tempfail, quarantine or hold (repeatable)\n"
	    "  -v            list each malformed line and why on stderr\n");
}

/* bad_usage - complain, print the synopsis, exit 64 */
static void __attribute__((noreturn, format(printf, 1, 2))) bad_usage(const char *fmt, ...)
{
	va_list ap;

	fprintf(stderr, PROG ": ");
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fprintf(stderr, "\n");
	usage(stderr);
	exit(EX_USAGE);
}

/* parse_top - a count 0..1000000 */
static size_t parse_top(const char *arg)
{
	char *end;
	unsigned long n;

	errno = 0;
	n = strtoul(arg, &end, 10);
	if (arg[0] < '0' || arg[0] > '9' || *end != '\0' || errno != 0 || n > 1000000)
		bad_usage("--top %s: not a number from 0 to 1000000", arg);
	return (size_t)n;
}

/* parse_options - fill *o from argv; returns the index of the first LOG */
static int parse_options(int argc, char **argv, struct options *o)
{
	enum { O_JSON = 256, O_CSV, O_TOP, O_SINCE, O_UNTIL, O_CLIENT, O_DOMAIN, O_ACTION };
	static const struct option longopts[] = {
	    {"json", no_argument, NULL, O_JSON},
	    {"csv", no_argument, NULL, O_CSV},
	    {"top", required_argument, NULL, O_TOP},
	    {"since", required_argument, NULL, O_SINCE},
	    {"until", required_argument, NULL, O_UNTIL},
	    {"client", required_argument, NULL, O_CLIENT},
	    {"domain", required_argument, NULL, O_DOMAIN},
	    {"action", required_argument, NULL, O_ACTION},
	    {"verbose", no_argument, NULL, 'v'},
	    {"help", no_argument, NULL, 'h'},
	    {"version", no_argument, NULL, 'V'},
	    {NULL, 0, NULL, 0},
	};
	const char *err;
	int c;

	memset(o, 0, sizeof(*o));
	o->top = 10;
	opterr = 0;
	while ((c = getopt_long(argc, argv, ":vhV", longopts, NULL)) != -1) {
		switch (c) {
		case O_JSON:
		case O_CSV:
			if (o->format != FMT_TEXT)
				bad_usage("--json and --csv exclude each other");
			o->format = c == O_JSON ? FMT_JSON : FMT_CSV;
			break;
		case O_TOP:
			o->top = parse_top(optarg);
			break;
		case O_SINCE:
		case O_UNTIL:
			if (timefmt_parse_user(optarg, c == O_SINCE ? &o->filter.since
			                                            : &o->filter.until) < 0)
				bad_usage(
				    "%s %s: not a time (RFC 3339, YYYY-MM-DD or YYYY-MM-DD HH:MM)",
				    c == O_SINCE ? "--since" : "--until", optarg);
			*(c == O_SINCE ? &o->filter.has_since : &o->filter.has_until) = true;
			break;
		case O_CLIENT:
			if (filter_add_client(&o->filter, optarg, &err) < 0)
				bad_usage("--client %s: %s", optarg, err);
			break;
		case O_DOMAIN:
			if (filter_add_domain(&o->filter, optarg, &err) < 0)
				bad_usage("--domain %s: %s", optarg, err);
			break;
		case O_ACTION:
			if (filter_add_action(&o->filter, optarg) < 0)
				bad_usage(
				    "--action %s: not accept, reject, tempfail, quarantine or hold",
				    optarg);
			break;
		case 'v':
			o->verbose = true;
			break;
		case 'h':
			usage(stdout);
			exit(0);
		case 'V':
			printf(PROG " " PM_VERSION "\n");
			exit(0);
		case ':':
			bad_usage("%s needs an argument", argv[optind - 1]);
		default:
			bad_usage("unknown option %s", argv[optind - 1]);
		}
	}
	if (o->filter.has_since && o->filter.has_until && o->filter.until <= o->filter.since)
		bad_usage("--until must be later than --since");
	if (optind >= argc)
		bad_usage("no log given (use - for standard input)");
	return optind;
}

/* malformed - count a line that is not a record; with -v say where and why */
static void malformed(struct report *rep, const struct options *o, const struct input *in,
                      const char *why)
{
	report_malformed(rep, input_name(in), input_lineno(in));
	if (o->verbose) {
		char *name = output_escape(input_name(in));

		fprintf(stderr, PROG ": %s:%lu: malformed: %s\n", name, input_lineno(in), why);
		free(name);
	}
}

/* read_log - count every line of one input; 0, or 1 when it could not be opened or read */
static int read_log(struct report *rep, const struct options *o, const char *name)
{
	struct input *in = input_open(name);
	const char *line, *why;
	bool too_long;
	struct rec r;
	size_t len;
	int rc;

	if (in == NULL) {
		fprintf(stderr, PROG ": %s: cannot open: %s\n", name, strerror(errno));
		return 1;
	}
	report_add_input(rep, input_name(in));
	while ((rc = input_next(in, &line, &len, &too_long)) > 0) {
		if (too_long) {
			malformed(rep, o, in, "line longer than 1048576 bytes");
			continue;
		}
		if (record_decode(line, len, &r, &why) < 0) {
			malformed(rep, o, in, why);
			continue;
		}
		rep->records++;
		if (filter_match(&o->filter, &r))
			report_add(rep, &r);
		record_free(&r);
	}
	if (rc < 0)
		fprintf(stderr, PROG ": %s: read error after line %lu: %s\n", input_name(in),
		        input_lineno(in), input_error(in));
	input_close(in);
	return rc < 0;
}

/* main - read every log, print one report */
int main(int argc, char **argv)
{
	struct options o;
	struct report rep;
	int first, status = 0;

	first = parse_options(argc, argv, &o);
	report_init(&rep);
	for (int i = first; i < argc; i++)
		status |= read_log(&rep, &o, argv[i]);
	if (o.format == FMT_JSON)
		output_json(stdout, &rep, o.top);
	else if (o.format == FMT_CSV)
		output_csv(stdout, &rep, o.top);
	else
		output_text(stdout, &rep, o.top);
	if (rep.malformed > 0) {
		char *loc = output_escape(rep.first_malformed);

		fprintf(stderr, PROG ": skipped %lld malformed line%s (first at %s)\n",
		        rep.malformed, rep.malformed == 1 ? "" : "s", loc);
		free(loc);
	}
	if (fflush(stdout) != 0 || ferror(stdout)) {
		fprintf(stderr, PROG ": writing the report: %s\n", strerror(errno));
		status = 1;
	}
	report_free(&rep);
	filter_free(&o.filter);
	return status;
}
