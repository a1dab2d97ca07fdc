/*
 * NAME
 *	policy-milter-report 1 - summarise policy-milter's JSON decision logs
 * SYNOPSIS
 *	policy-milter-report [--json | --csv | --html FILE] [--top N] [--since TIME]
 *	        [--until TIME] [--client ADDR|CIDR] [--domain DOMAIN] [--action ACTION]
 *	        [-v] LOG...
 *	policy-milter-report --dmarc-reports [--day YYYY-MM-DD | --since TIME --until TIME]
 *	        [--config FILE] [--dry-run] [-v] [LOG...]
 * DESCRIPTION
 *	The command line and the loop: each input is read line by line
 *	(input), each line decoded (record), kept or not (filter), counted
 *	(aggregate); then one writer prints the report (output); --html
 *	writes its page to a temporary file beside FILE, renamed over FILE
 *	once whole, or to standard output for "-". With
 *	--dmarc-reports the records of a period go to the DMARC aggregate
 *	reports instead (dmarcagg, dmarcmode). See policy-milter-report(1).
 * DIAGNOSTICS
 *	Exit 0 when the report was made; 1 when an input could not be
 *	opened or read, or the report could not be written (the report of
 *	the other inputs is still printed); 64 on bad usage. Lines that are
 *	not records are counted, never fatal. --dmarc-reports: also 1 when
 *	a report could not be written or sent, 75 when an authorization
 *	lookup failed temporarily, 78 when the policy file lacks its settings.
 */
#include <errno.h>
#include <getopt.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sysexits.h>
#include <time.h>
#include <unistd.h>

#include "../util.h"
#include "aggregate.h"
#include "dmarcagg.h"
#include "dmarcmode.h"
#include "filter.h"
#include "input.h"
#include "output.h"
#include "record.h"
#include "timefmt.h"

#define PROG "policy-milter-report"

enum format { FMT_TEXT, FMT_JSON, FMT_CSV, FMT_HTML };

struct options {
	enum format format;
	const char *html; /* --html FILE ("-": standard output) */
	size_t top;
	bool verbose;
	struct filter filter;
	bool dmarc;         /* --dmarc-reports */
	bool dry_run;       /* --dry-run: write the reports, send nothing */
	bool has_day;       /* --day */
	long long day;      /* its first millisecond */
	const char *config; /* --config, the policy file */
	bool has_config;    /* --config given */
	bool other_filters; /* a filter or output option of the summary */
};

/* usage - the synopsis to stderr (or stdout for --help) */
static void usage(FILE *fp)
{
	fprintf(
	    fp,
	    "usage: " PROG " [--json | --csv | --html FILE] [--top N] [--since TIME]\n"
	    "       [--until TIME] [--client ADDR|CIDR] [--domain DOMAIN] [--action ACTION]\n"
	    "       [-v] LOG...\n"
	    "  LOG           a decision log (log.json_file), gzip-compressed or not; - for stdin\n"
	    "  --json, --csv output for tools instead of the text report\n"
	    "  --html FILE   one self-contained HTML page (chart and tables, nothing fetched)\n"
	    "                written to FILE (replaced whole) or, for -, to standard output\n"
	    "  --top N       entries in each top list (default 10, 0 for all)\n"
	    "  --since TIME  only decisions at or after TIME (RFC 3339, or YYYY-MM-DD[ HH:MM] "
	    "UTC)\n"
	    "  --until TIME  only decisions before TIME\n"
	    "  --client NET  only this client address or network (repeatable)\n"
	    "  --domain D    only sender or DMARC domain D or below (repeatable)\n"
	    "  --action A    only accept, reject, tempfail, quarantine or hold (repeatable)\n"
	    "  -v            list each malformed line and why on stderr\n"
	    "       " PROG " --dmarc-reports [--day YYYY-MM-DD | --since TIME --until TIME]\n"
	    "       [--config FILE] [--dry-run] [-v] [LOG...]\n"
	    "  --dmarc-reports  write (and mail) the RFC 9990 DMARC aggregate reports of a period\n"
	    "                (default: the previous UTC day); LOG defaults to log.json_file\n"
	    "                and its rotation .1 / .1.gz\n"
	    "  --day DAY     the UTC day YYYY-MM-DD\n"
	    "  --config FILE the policy file (default " PM_CONFIG_PATH ")\n"
	    "  --dry-run     write the report files, send nothing\n");
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
	enum {
		O_JSON = 256,
		O_CSV,
		O_HTML,
		O_TOP,
		O_SINCE,
		O_UNTIL,
		O_CLIENT,
		O_DOMAIN,
		O_ACTION,
		O_DMARC,
		O_DAY,
		O_CONFIG,
		O_DRY_RUN
	};
	static const struct option longopts[] = {
	    {"json", no_argument, NULL, O_JSON},
	    {"csv", no_argument, NULL, O_CSV},
	    {"html", required_argument, NULL, O_HTML},
	    {"top", required_argument, NULL, O_TOP},
	    {"since", required_argument, NULL, O_SINCE},
	    {"until", required_argument, NULL, O_UNTIL},
	    {"client", required_argument, NULL, O_CLIENT},
	    {"domain", required_argument, NULL, O_DOMAIN},
	    {"action", required_argument, NULL, O_ACTION},
	    {"dmarc-reports", no_argument, NULL, O_DMARC},
	    {"day", required_argument, NULL, O_DAY},
	    {"config", required_argument, NULL, O_CONFIG},
	    {"dry-run", no_argument, NULL, O_DRY_RUN},
	    {"verbose", no_argument, NULL, 'v'},
	    {"help", no_argument, NULL, 'h'},
	    {"version", no_argument, NULL, 'V'},
	    {NULL, 0, NULL, 0},
	};
	const char *err;
	int c;

	memset(o, 0, sizeof(*o));
	o->top = 10;
	o->config = PM_CONFIG_PATH;
	opterr = 0;
	while ((c = getopt_long(argc, argv, ":vhV", longopts, NULL)) != -1) {
		switch (c) {
		case O_JSON:
		case O_CSV:
		case O_HTML:
			if (o->format != FMT_TEXT)
				bad_usage("--json, --csv and --html exclude each other");
			o->format = c == O_JSON ? FMT_JSON : c == O_CSV ? FMT_CSV : FMT_HTML;
			if (c == O_HTML) {
				if (*optarg == '\0')
					bad_usage(
					    "--html needs a file name (or - for standard output)");
				o->html = optarg;
			}
			o->other_filters = true;
			break;
		case O_TOP:
			o->top = parse_top(optarg);
			o->other_filters = true;
			break;
		case O_DMARC:
			o->dmarc = true;
			break;
		case O_DAY:
			if (strlen(optarg) != 10 || timefmt_parse_user(optarg, &o->day) < 0)
				bad_usage("--day %s: not a day YYYY-MM-DD", optarg);
			o->has_day = true;
			break;
		case O_CONFIG:
			o->config = optarg;
			o->has_config = true;
			break;
		case O_DRY_RUN:
			o->dry_run = true;
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
			o->other_filters = true;
			break;
		case O_DOMAIN:
			if (filter_add_domain(&o->filter, optarg, &err) < 0)
				bad_usage("--domain %s: %s", optarg, err);
			o->other_filters = true;
			break;
		case O_ACTION:
			if (filter_add_action(&o->filter, optarg) < 0)
				bad_usage(
				    "--action %s: not accept, reject, tempfail, quarantine or hold",
				    optarg);
			o->other_filters = true;
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
	if (o->dmarc) {
		if (o->other_filters)
			bad_usage(
			    "--dmarc-reports takes no --json, --csv, --html, --top, --client, "
			    "--domain or --action");
		if (o->has_day && (o->filter.has_since || o->filter.has_until))
			bad_usage("--day excludes --since and --until");
		if (o->filter.has_since != o->filter.has_until)
			bad_usage("--dmarc-reports needs both --since and --until, or --day");
		return optind;
	}
	if (o->has_day || o->dry_run || o->has_config)
		bad_usage("--day, --config and --dry-run go with --dmarc-reports");
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

/* A use of each record read: the summary's filter and count, or a DMARC report's rows. */
typedef void record_use(void *arg, const struct options *o, const struct input *in,
                        const struct rec *r);

/*
 * summary_use - a record the filter keeps counts in the summary; the
 * greylisting elements of every record count as retries. With -v an
 * element left out is listed.
 */
static void summary_use(void *arg, const struct options *o, const struct input *in,
                        const struct rec *r)
{
	bool matched = filter_match(&o->filter, r);

	if (matched)
		report_add(arg, r);
	report_add_state(arg, r, matched, input_name(in), input_lineno(in));
	if (o->verbose && r->state_skipped > 0) {
		char *name = output_escape(input_name(in));

		fprintf(stderr, PROG ": %s:%lu: skipped %zu greylist/ratelimit element%s: %s\n",
		        name, input_lineno(in), r->state_skipped, r->state_skipped == 1 ? "" : "s",
		        r->state_why);
		free(name);
	}
}

/* dmarc_use - a record counts in the DMARC reports (dmarcagg_add picks) */
static void dmarc_use(void *arg, const struct options *o, const struct input *in,
                      const struct rec *r)
{
	(void)o;
	(void)in;
	dmarcagg_add(arg, r);
}

/*
 * read_log - every line of one input to use(arg, ...), malformed ones
 * counted in rep; 0, or 1 when it could not be opened or read
 */
static int read_log(struct report *rep, const struct options *o, const char *name, record_use *use,
                    void *arg)
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
		use(arg, o, in, &r);
		record_free(&r);
	}
	if (rc < 0)
		fprintf(stderr, PROG ": %s: read error after line %lu: %s\n", input_name(in),
		        input_lineno(in), input_error(in));
	input_close(in);
	return rc < 0;
}

/* say_malformed - the count of lines that were not records, on stderr */
static void say_malformed(const struct report *rep)
{
	char *loc;

	if (rep->malformed == 0)
		return;
	loc = output_escape(rep->first_malformed);
	fprintf(stderr, PROG ": skipped %lld malformed line%s (first at %s)\n", rep->malformed,
	        rep->malformed == 1 ? "" : "s", loc);
	free(loc);
}

/* say_state_skipped - the count of greylist/ratelimit elements left out, on stderr */
static void say_state_skipped(const struct report *rep)
{
	char *loc;

	if (rep->state_skipped == 0)
		return;
	loc = output_escape(rep->first_state_skipped);
	fprintf(stderr, PROG ": skipped %lld greylist/ratelimit element%s (first at %s)\n",
	        rep->state_skipped, rep->state_skipped == 1 ? "" : "s", loc);
	free(loc);
}

/* dmarc_period - [begin, end] in seconds: --day, --since/--until or the previous UTC day */
static void dmarc_period(const struct options *o, long long now, long long *begin, long long *end)
{
	if (o->has_day) {
		*begin = o->day / 1000;
		*end = *begin + 86399;
	} else if (o->filter.has_since) {
		*begin = o->filter.since / 1000;
		*end = (o->filter.until + 999) / 1000 - 1;
	} else {
		*begin = (now / 86400 - 1) * 86400;
		*end = *begin + 86399;
	}
}

/* read_default_logs - log.json_file and its first rotation (.1, .1.gz), when they exist */
static int read_default_logs(struct report *rep, const struct options *o, const char *json_file,
                             struct agg *a)
{
	static const char *const suffixes[] = {".1.gz", ".1", ""};
	char path[4200];
	int status = 0;

	if (json_file == NULL) {
		fprintf(stderr, PROG ": %s: no log given and log.json_file is not set\n",
		        o->config);
		return 1;
	}
	for (size_t i = 0; i < sizeof(suffixes) / sizeof(suffixes[0]); i++) {
		snprintf(path, sizeof(path), "%s%s", json_file, suffixes[i]);
		if (*suffixes[i] == '\0' || access(path, F_OK) == 0)
			status |= read_log(rep, o, path, dmarc_use, a);
	}
	return status;
}

/* dmarc_main - --dmarc-reports: read the logs, write and send the reports */
static int dmarc_main(const struct options *o, int first, int argc, char **argv)
{
	struct dmarc_settings s;
	long long now = (long long)time(NULL), begin, end;
	struct report rep;
	struct agg a;
	char err[4200];
	int status = 0, rc;

	if (dmarc_settings_load(&s, o->config, err, sizeof(err)) < 0) {
		fprintf(stderr, PROG ": %s\n", err);
		return EX_CONFIG;
	}
	dmarc_period(o, now, &begin, &end);
	dmarcagg_init(&a, begin, end);
	report_init(&rep);
	if (first >= argc)
		status = read_default_logs(&rep, o, s.json_file, &a);
	for (int i = first; i < argc; i++)
		status |= read_log(&rep, o, argv[i], dmarc_use, &a);
	say_malformed(&rep);
	rc = dmarc_reports_finish(&a, &s, o->dry_run, now, stdout, stderr);
	if (fflush(stdout) != 0 || ferror(stdout))
		status = 1;
	dmarcagg_free(&a);
	report_free(&rep);
	dmarc_settings_free(&s);
	return status != 0 ? status : rc;
}

/*
 * write_html - the page to path: a temporary file path.XXXXXX beside it
 * (mode 0666 less the umask), synced and renamed over path; 0, or 1 with
 * the reason on stderr and no file left behind
 */
static int write_html(const char *path, const struct report *rep, size_t top)
{
	size_t len = strlen(path);
	char *tmp = xmalloc(len + 8);
	mode_t mask = umask(0);
	FILE *fp;
	int fd;

	umask(mask);
	memcpy(tmp, path, len);
	memcpy(tmp + len, ".XXXXXX", 8);
	fd = mkstemp(tmp);
	if (fd < 0) {
		fprintf(stderr, PROG ": %s: cannot create a temporary file beside it: %s\n", path,
		        strerror(errno));
		free(tmp);
		return 1;
	}
	if (fchmod(fd, 0666 & ~mask) < 0 || (fp = fdopen(fd, "w")) == NULL) {
		fprintf(stderr, PROG ": %s: %s\n", tmp, strerror(errno));
		close(fd);
		unlink(tmp);
		free(tmp);
		return 1;
	}
	output_html(fp, rep, top);
	if (fflush(fp) != 0 || ferror(fp) || fsync(fileno(fp)) < 0) {
		fprintf(stderr, PROG ": %s: writing the report: %s\n", tmp, strerror(errno));
		fclose(fp);
		unlink(tmp);
		free(tmp);
		return 1;
	}
	if (fclose(fp) != 0 || rename(tmp, path) < 0) {
		fprintf(stderr, PROG ": %s: cannot write: %s\n", path, strerror(errno));
		unlink(tmp);
		free(tmp);
		return 1;
	}
	free(tmp);
	return 0;
}

/* main - read every log, print one report */
int main(int argc, char **argv)
{
	struct options o;
	struct report rep;
	int first, status = 0;

	first = parse_options(argc, argv, &o);
	if (o.dmarc)
		return dmarc_main(&o, first, argc, argv);
	report_init(&rep);
	for (int i = first; i < argc; i++)
		status |= read_log(&rep, &o, argv[i], summary_use, &rep);
	if (o.format == FMT_JSON)
		output_json(stdout, &rep, o.top);
	else if (o.format == FMT_CSV)
		output_csv(stdout, &rep, o.top);
	else if (o.format == FMT_HTML && strcmp(o.html, "-") == 0)
		output_html(stdout, &rep, o.top);
	else if (o.format == FMT_HTML)
		status |= write_html(o.html, &rep, o.top);
	else
		output_text(stdout, &rep, o.top);
	say_malformed(&rep);
	say_state_skipped(&rep);
	if (fflush(stdout) != 0 || ferror(stdout)) {
		fprintf(stderr, PROG ": writing the report: %s\n", strerror(errno));
		status = 1;
	}
	report_free(&rep);
	filter_free(&o.filter);
	return status;
}
