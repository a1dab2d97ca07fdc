/*
 * NAME
 *	test_lists - unit tests for lists.c (allow and block lists)
 * DESCRIPTION
 *	Tables of entries for every kind (accepted, or refused with the
 *	expected message), tables of values matched against each kind
 *	(exact against suffix, address literals, the null sender), files
 *	(comments, CRLF, errors with line numbers, many errors), re-reading
 *	on change (throttled; in place with the modification time bumped),
 *	a read error and a vanished file keeping the old entries (logged
 *	once), unsafe files (world-writable, in a world-writable directory
 *	without the sticky bit) refused at load and, when a file becomes so
 *	while in use, its old entries kept (logged once), 8 threads
 *	matching while the file is rewritten, and 100k entries looked up
 *	100k times (all answers right; speed is for make bench). A list
 *	built with list_new_shared shares the table of an unchanged file
 *	with the list before it (same kind and name), and reads a changed
 *	one.
 * DIAGNOSTICS
 *	"case N (value): got X, want Y" for each mismatch.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <pthread.h>
#include <stdatomic.h>
#include <time.h>
#include <unistd.h>
#include <arpa/inet.h>
#include <sys/stat.h>
#include <fcntl.h>

#include <cmocka.h>

#include "lists.h"
#include "log.h"
#include "tmpdir.h"
#include "util.h"

static char tmp_dir[256]; /* a private temporary directory */

/* tmp_path - a path in the temporary directory */
static const char *tmp_path(const char *name, char *buf, size_t size)
{
	snprintf(buf, size, "%s/%s", tmp_dir, name);
	return buf;
}

/* write_file - replace path with len bytes of text (via rename, as an editor would) */
static void write_bytes(const char *path, const char *text, size_t len)
{
	char tmp[600];
	FILE *fp;

	snprintf(tmp, sizeof(tmp), "%s.new", path);
	fp = fopen(tmp, "w");
	assert_non_null(fp);
	assert_int_equal(fwrite(text, 1, len, fp), len);
	assert_int_equal(fclose(fp), 0);
	assert_int_equal(rename(tmp, path), 0);
}

/* write_file - replace path with text */
static void write_file(const char *path, const char *text)
{
	write_bytes(path, text, strlen(text));
}

/* sleep_ms - nanosleep wrapper */
static void sleep_ms(long ms)
{
	struct timespec ts = {ms / 1000, (ms % 1000) * 1000000L};

	nanosleep(&ts, NULL);
}

/* Capturing stderr, where log_msg copies its lines in these tests. */
static int saved_stderr = -1;
static char capture_file[600];

/* capture_begin - send stderr to a file */
static void capture_begin(void)
{
	int fd;

	tmp_path("stderr.log", capture_file, sizeof(capture_file));
	fflush(stderr);
	saved_stderr = dup(2);
	fd = open(capture_file, O_WRONLY | O_CREAT | O_TRUNC, 0600);
	assert_true(fd >= 0);
	dup2(fd, 2);
	close(fd);
}

/* capture_end - restore stderr; the captured text into buf */
static void capture_end(char *buf, size_t size)
{
	FILE *fp;
	size_t n;

	fflush(stderr);
	dup2(saved_stderr, 2);
	close(saved_stderr);
	fp = fopen(capture_file, "r");
	assert_non_null(fp);
	n = fread(buf, 1, size - 1, fp);
	buf[n] = '\0';
	fclose(fp);
}

/* count_substr - occurrences of needle in hay */
static int count_substr(const char *hay, const char *needle)
{
	int n = 0;

	while ((hay = strstr(hay, needle)) != NULL) {
		n++;
		hay += strlen(needle);
	}
	return n;
}

struct syntax_case {
	const char *entry;
	const char *want; /* NULL: accepted; else a substring of the error message */
};

/* run_syntax - each entry alone as an inline list of kind */
static void run_syntax(enum list_kind kind, const struct syntax_case *cases, size_t n)
{
	size_t i, failed = 0;

	for (i = 0; i < n; i++) {
		struct list_errors errs = {NULL, 0};
		const char *e = cases[i].entry;
		struct pm_list *l = list_new(kind, "t", &e, 1, NULL, &errs);

		if (cases[i].want == NULL && (l == NULL || errs.n != 0)) {
			print_error("%s case %zu (\"%s\"): got error \"%s\", want accepted\n",
			            list_kind_name(kind), i, e,
			            errs.n ? errs.v[0].message : "(none)");
			failed++;
		} else if (cases[i].want != NULL &&
		           (l != NULL || errs.n != 1 || errs.v[0].file != NULL ||
		            errs.v[0].index != 0 ||
		            strstr(errs.v[0].message, cases[i].want) == NULL)) {
			print_error("%s case %zu (\"%s\"): got %s \"%s\", want error \"%s\"\n",
			            list_kind_name(kind), i, e, l ? "accepted" : "error",
			            errs.n ? errs.v[0].message : "", cases[i].want);
			failed++;
		}
		list_free(l);
		list_errors_free(&errs);
	}
	if (failed)
		fail_msg("%s: %zu of %zu syntax cases failed", list_kind_name(kind), failed, n);
}

struct match_case {
	const char *value;
	const char *want; /* the matching entry as normalised, or NULL: no match */
};

/* run_match - every value against l */
static void run_match(const char *name, struct pm_list *l, const struct match_case *cases, size_t n)
{
	size_t i, failed = 0;

	for (i = 0; i < n; i++) {
		struct list_hit hit;
		bool got = list_match(l, cases[i].value, &hit);

		if (got != (cases[i].want != NULL) ||
		    (got && strcmp(hit.entry, cases[i].want) != 0)) {
			print_error("%s case %zu (%s): got %s, want %s\n", name, i,
			            cases[i].value ? cases[i].value : "NULL",
			            got ? hit.entry : "no match",
			            cases[i].want ? cases[i].want : "no match");
			failed++;
		}
	}
	if (failed)
		fail_msg("%s: %zu of %zu match cases failed", name, failed, n);
}

/* inline_list - an inline list of kind that must build */
static struct pm_list *inline_list(enum list_kind kind, const char *const *entries, size_t n)
{
	struct list_errors errs = {NULL, 0};
	struct pm_list *l = list_new(kind, "inline", entries, n, NULL, &errs);

	if (l == NULL)
		fail_msg("list_new: got error \"%s\" (entry %zu), want a list",
		         errs.n ? errs.v[0].message : "?", errs.n ? errs.v[0].index : 0);
	assert_int_equal(errs.n, 0);
	return l;
}

/* file_list - a list of kind from path that must build */
static struct pm_list *file_list(enum list_kind kind, const char *path)
{
	struct list_errors errs = {NULL, 0};
	struct pm_list *l = list_new(kind, "file", NULL, 0, path, &errs);

	if (l == NULL)
		fail_msg("list_new(%s): got error \"%s:%zu: %s\", want a list", path,
		         errs.n && errs.v[0].file ? errs.v[0].file : "",
		         errs.n ? errs.v[0].line : 0, errs.n ? errs.v[0].message : "?");
	return l;
}

/* test_client_syntax - addresses and CIDR blocks */
static void test_client_syntax(void **state)
{
	static const struct syntax_case cases[] = {
	    {"192.0.2.1", NULL},
	    {"198.51.100.0/24", NULL},
	    {"0.0.0.0/0", NULL},
	    {"2001:db8::/32", NULL},
	    {"2001:DB8::1", NULL},
	    {"::ffff:192.0.2.0/120", NULL},
	    {"::/0", NULL},
	    {"  192.0.2.7 \t", NULL},
	    {"192.0.2.7\r", NULL},
	    {"192.0.2.300", "not an IP address"},
	    {"192.0.2.1/24", "host bits set"},
	    {"192.0.2.0/33", "prefix out of range"},
	    {"192.0.2.0/024", "bad prefix length"},
	    {"2001:db8::/129", "prefix out of range"},
	    {"[192.0.2.1]", "without brackets"},
	    {"192.0.2.0 /24", "white space inside"},
	    {"192.0.2.1 192.0.2.2", "white space inside"},
	    {"", "empty entry"},
	    {"   ", "empty entry"},
	    {"example.net", "not an IP address"},
	    {"192.0.2.\x01", "control character"},
	};

	(void)state;
	run_syntax(LIST_CLIENT, cases, PM_ARRAY_LEN(cases));
}

/* test_client_match - longest prefix, IPv6, IPv4-mapped */
static void test_client_match(void **state)
{
	static const char *const entries[] = {
	    "192.0.2.1",
	    "192.0.2.0/24",
	    "10.0.0.0/8",
	    "2001:db8::/32",
	    "2001:db8:1::1",
	    "192.0.2.128",
	    "::ffff:198.51.100.0/120",
	};
	static const struct match_case cases[] = {
	    {"192.0.2.1", "192.0.2.1"},
	    {"192.0.2.2", "192.0.2.0/24"},
	    {"192.0.2.255", "192.0.2.0/24"},
	    {"192.0.2.128", "192.0.2.128"},
	    {"192.0.3.1", NULL},
	    {"10.200.3.4", "10.0.0.0/8"},
	    {"11.0.0.1", NULL},
	    {"::ffff:192.0.2.1", "192.0.2.1"},
	    {"::ffff:192.0.2.9", "192.0.2.0/24"},
	    {"198.51.100.77", "198.51.100.0/24"},
	    {"2001:db8:1::1", "2001:db8:1::1"},
	    {"2001:DB8:1:0::1", "2001:db8:1::1"},
	    {"2001:db8:ffff::2", "2001:db8::/32"},
	    {"2001:db9::1", NULL},
	    {"[192.0.2.1]", "192.0.2.1"},
	    {"[IPv6:2001:db8::5]", "2001:db8::/32"},
	    {"192.0.2.1/32", NULL},
	    {" 192.0.2.1", NULL},
	    {"unknown", NULL},
	    {"", NULL},
	    {NULL, NULL},
	};
	struct pm_list *l = inline_list(LIST_CLIENT, entries, PM_ARRAY_LEN(entries));
	struct pm_list *all = inline_list(LIST_CLIENT, (const char *const[]){"0.0.0.0/0"}, 1);
	struct pm_ip ip;
	struct list_hit hit;

	(void)state;
	run_match("client", l, cases, PM_ARRAY_LEN(cases));

	/* list_match_ip, with a mapped address handed over raw as AF_INET6 */
	memset(&ip, 0, sizeof(ip));
	ip.family = AF_INET6;
	ip.addr[10] = ip.addr[11] = 0xff;
	inet_pton(AF_INET, "192.0.2.1", ip.addr + 12);
	assert_true(list_match_ip(l, &ip, &hit));
	assert_string_equal(hit.entry, "192.0.2.1");
	assert_false(hit.in_file);
	assert_int_equal(hit.index, 0);
	assert_string_equal(hit.source, "inline");
	assert_int_equal(pm_ip_parse("10.9.8.7", &ip), 0);
	assert_true(list_match_ip(l, &ip, &hit));
	assert_int_equal(hit.index, 2);
	ip.family = AF_UNSPEC;
	assert_false(list_match_ip(l, &ip, &hit));
	assert_false(list_match_ip(l, NULL, &hit));
	assert_false(list_match_ip(NULL, &ip, &hit));

	/* 0.0.0.0/0: every IPv4 address, no IPv6 one */
	assert_true(list_match(all, "203.0.113.9", &hit));
	assert_string_equal(hit.entry, "0.0.0.0/0");
	assert_true(list_match(all, "::ffff:203.0.113.9", NULL));
	assert_false(list_match(all, "2001:db8::1", NULL));
	list_free(all);
	list_free(l);
}

/* test_name_syntax - client names and HELO names */
static void test_name_syntax(void **state)
{
	static const struct syntax_case common[] = {
	    {"mail.example.net", NULL},
	    {".example.net", NULL},
	    {"MAIL.Example.NET.", NULL},
	    {".Example.net.", NULL},
	    {"localhost", NULL},
	    {"xn--bcher-kva.example", NULL},
	    {"mail.example.net  ", NULL},
	    {"*.example.net", "wildcards"},
	    {".", "empty domain"},
	    {"..example.net", "empty domain"},
	    {"example..net", "empty label"},
	    {"example.net..", "empty label"},
	    {"mail example.net", "white space inside"},
	    {"mail\texample.net", "white space inside"},
	    {"-bad.example", "hyphen"},
	    {"exa_mple.net", "invalid character"},
	    {"b\xc3\xbc"
	     "cher.example",
	     "A-label"},
	    {"a\rb.example", "control character"},
	    {"user@example.net", "invalid character"},
	    {"", "empty entry"},
	};
	static const struct syntax_case client_name[] = {
	    {"192.0.2.1", "client list"},
	    {"[192.0.2.1]", "client list"},
	    {"2001:db8::1", "client list"},
	};
	static const struct syntax_case helo[] = {
	    {"[192.0.2.1]", NULL},
	    {"[IPv6:2001:DB8::1]", NULL},
	    {"[ipv6:::ffff:192.0.2.1]", NULL},
	    {"192.0.2.9", NULL},
	    {"2001:db8::9", NULL},
	    {"[192.0.2.300]", "bad address literal"},
	    {"[2001:db8::1]", "bad address literal"},
	    {"[192.0.2.1", "bad address literal"},
	    {"[]", "bad address literal"},
	    {"192.0.2", "all-numeric"},
	};

	(void)state;
	run_syntax(LIST_CLIENT_NAME, common, PM_ARRAY_LEN(common));
	run_syntax(LIST_HELO, common, PM_ARRAY_LEN(common));
	run_syntax(LIST_CLIENT_NAME, client_name, PM_ARRAY_LEN(client_name));
	run_syntax(LIST_HELO, helo, PM_ARRAY_LEN(helo));
}

/* test_name_match - exact against suffix, case, trailing dots, literals */
static void test_name_match(void **state)
{
	static const char *const entries[] = {
	    "mail.example.net",     ".example.org", "Host.Example.COM.", "[192.0.2.1]",
	    "[IPv6:2001:DB8:0::1]", "localhost",    "deep.example.org",
	};
	static const struct match_case helo_cases[] = {
	    {"mail.example.net", "mail.example.net"},
	    {"MAIL.Example.Net.", "mail.example.net"},
	    {"x.mail.example.net", NULL},
	    {"example.net", NULL},
	    {"ail.example.net", NULL},
	    {"example.org", NULL},
	    {"a.example.org", ".example.org"},
	    {"a.b.example.org", ".example.org"},
	    {"deep.example.org", "deep.example.org"},
	    {"badexample.org", NULL},
	    {"x.badexample.org", NULL},
	    {"example.org.evil.test", NULL},
	    {"host.example.com", "host.example.com"},
	    {"localhost", "localhost"},
	    {"localhost.", "localhost"},
	    {"[192.0.2.1]", "[192.0.2.1]"},
	    {"192.0.2.1", "[192.0.2.1]"},
	    {"[192.0.2.2]", NULL},
	    {"[IPv6:2001:db8::1]", "[IPv6:2001:db8::1]"},
	    {"[ipv6:2001:DB8:0:0::1]", "[IPv6:2001:db8::1]"},
	    {"2001:db8::1", "[IPv6:2001:db8::1]"},
	    {"[IPv6:::ffff:192.0.2.1]", "[192.0.2.1]"},
	    {"[2001:db8::1]", NULL},
	    {"[192.0.2.1", NULL},
	    {".example.org", NULL},
	    {"", NULL},
	    {".", NULL},
	    {NULL, NULL},
	};
	static const struct match_case name_cases[] = {
	    {"mail.example.net", "mail.example.net"},
	    {"a.example.org", ".example.org"},
	    {"badexample.org", NULL},
	    {"example.org", NULL},
	    {"[192.0.2.1]", NULL},
	    {"192.0.2.1", NULL},
	    {NULL, NULL},
	};
	struct pm_list *helo = inline_list(LIST_HELO, entries, PM_ARRAY_LEN(entries));
	struct pm_list *names = inline_list(LIST_CLIENT_NAME, entries, 3);
	struct pm_ip ip;

	(void)state;
	run_match("helo", helo, helo_cases, PM_ARRAY_LEN(helo_cases));
	run_match("client_name", names, name_cases, PM_ARRAY_LEN(name_cases));
	/* the wrong kind of call never matches */
	assert_int_equal(pm_ip_parse("192.0.2.1", &ip), 0);
	assert_false(list_match_ip(helo, &ip, NULL));
	assert_false(list_match_addr(helo, ADDR_NULL, NULL, NULL));
	list_free(names);
	list_free(helo);
}

/* test_address_syntax - sender and recipient entries */
static void test_address_syntax(void **state)
{
	static const struct syntax_case common[] = {
	    {"user@example.net", NULL},
	    {"User@Example.NET", NULL},
	    {"<user@example.net>", NULL},
	    {"\"john doe\"@example.org", NULL},
	    {"example.net", NULL},
	    {"example.net.", NULL},
	    {"@example.net", NULL},
	    {".example.net", NULL},
	    {"user@", NULL},
	    {"postmaster@", NULL},
	    {"user@[192.0.2.1]", NULL},
	    {"@[IPv6:2001:db8::1]", NULL},
	    {"[192.0.2.1]", NULL},
	    {"a#b@example.org", NULL},
	    {"user@@example.net", "invalid character"},
	    {"user name@example.net", "white space inside"},
	    {"user@example .net", "white space inside"},
	    {"@", "empty domain"},
	    {".", "empty domain"},
	    {"user@.example.net", "domain starts with a dot"},
	    {"*.example.net", "wildcards"},
	    {"@a.example:user@example.net", "source route"},
	    {"192.0.2.1", "all-numeric"},
	    {"user@example..net", "empty label"},
	    {"\"unterminated@example.net", "quote"},
	    {"@[192.0.2.300]", "bad address literal"},
	    {"b\xc3\xbc"
	     "cher.example",
	     "invalid character"},
	    {"", "empty entry"},
	};
	static const struct syntax_case sender[] = {
	    {"<>", NULL},
	};
	static const struct syntax_case recipient[] = {
	    {"<>", "sender list"},
	};

	(void)state;
	run_syntax(LIST_SENDER, common, PM_ARRAY_LEN(common));
	run_syntax(LIST_RECIPIENT, common, PM_ARRAY_LEN(common));
	run_syntax(LIST_SENDER, sender, PM_ARRAY_LEN(sender));
	run_syntax(LIST_RECIPIENT, recipient, PM_ARRAY_LEN(recipient));
}

/* test_address_match - address, local part, domain, subdomains, the null sender */
static void test_address_match(void **state)
{
	static const char *const entries[] = {
	    "Spammer@Example.COM",
	    "abuse@",
	    ".bulk.example",
	    "example.org",
	    "@example.net",
	    "<>",
	    "\"john doe\"@example.edu",
	    "user@[192.0.2.1]",
	    "@[IPv6:2001:db8::1]",
	    "boss@example.org",
	};
	static const struct match_case cases[] = {
	    {"<spammer@example.com>", "spammer@example.com"},
	    {"<SPAMMER@example.COM>", "spammer@example.com"},
	    {"spammer@example.com", "spammer@example.com"},
	    {"<other@example.com>", NULL},
	    {"<spammer@sub.example.com>", NULL},
	    {"<abuse@anything.test>", "abuse@"},
	    {"<Abuse@Example.Com>", "abuse@"},
	    {"<x@bulk.example>", NULL},
	    {"<x@a.bulk.example>", ".bulk.example"},
	    {"<x@a.b.bulk.example>", ".bulk.example"},
	    {"<x@notbulk.example>", NULL},
	    {"<x@example.org>", "example.org"},
	    {"<boss@example.org>", "boss@example.org"},
	    {"<x@sub.example.org>", NULL},
	    {"<x@example.net>", "example.net"},
	    {"<x@EXAMPLE.NET.>", "example.net"},
	    {"<x@sub.example.net>", NULL},
	    {"<\"John Doe\"@example.edu>", "\"john doe\"@example.edu"},
	    {"<john.doe@example.edu>", NULL},
	    {"<user@[192.0.2.1]>", "user@[192.0.2.1]"},
	    {"<other@[192.0.2.1]>", NULL},
	    {"<x@[IPv6:2001:DB8:0::1]>", "[IPv6:2001:db8::1]"},
	    {"<>", "<>"},
	    {"", "<>"},
	    {"<a b@example.org>", NULL},
	    {"<@example.org>", NULL},
	    {"garbage", NULL},
	    {NULL, NULL},
	};
	static const char *const no_null[] = {"example.org", ".org", "abuse@", "x@example.org"};
	static const char *const rcpt_entries[] = {"postmaster@", "example.org",
	                                           "abuse@example.net"};
	static const struct match_case rcpt_cases[] = {
	    {"<postmaster>", "postmaster@"},
	    {"<Postmaster>", "postmaster@"},
	    {"<postmaster@example.net>", "postmaster@"},
	    {"<abuse@example.net>", "abuse@example.net"},
	    {"<abuse@example.com>", NULL},
	    {"<anyone@example.org>", "example.org"},
	    {"<>", NULL},
	    {"", NULL},
	};
	struct pm_list *l = inline_list(LIST_SENDER, entries, PM_ARRAY_LEN(entries));
	struct pm_list *nn = inline_list(LIST_SENDER, no_null, PM_ARRAY_LEN(no_null));
	struct pm_list *r = inline_list(LIST_RECIPIENT, rcpt_entries, PM_ARRAY_LEN(rcpt_entries));
	struct pm_addr a;
	const char *why;
	struct list_hit hit;

	(void)state;
	run_match("sender", l, cases, PM_ARRAY_LEN(cases));
	run_match("recipient", r, rcpt_cases, PM_ARRAY_LEN(rcpt_cases));

	/* the null sender matches only "<>" */
	assert_false(list_match(nn, "<>", NULL));
	assert_false(list_match(nn, "", NULL));
	assert_false(list_match_addr(nn, ADDR_NULL, NULL, NULL));
	assert_true(list_match(nn, "<y@b.example.org>", &hit));
	assert_string_equal(hit.entry, ".org");

	/* list_match_addr with parsed addresses */
	assert_int_equal(addr_parse("<boss@Example.ORG>", 18, 0, &a, &why), ADDR_OK);
	assert_true(list_match_addr(l, ADDR_OK, &a, &hit));
	assert_string_equal(hit.entry, "boss@example.org");
	assert_int_equal(hit.index, 9);
	assert_true(list_match_addr(l, ADDR_NULL, NULL, &hit));
	assert_string_equal(hit.entry, "<>");
	assert_false(list_match_addr(l, ADDR_BAD, &a, NULL));
	assert_false(list_match_addr(l, ADDR_OK, NULL, NULL));
	assert_false(list_match_addr(NULL, ADDR_OK, &a, NULL));
	list_free(r);
	list_free(nn);
	list_free(l);
}

/* test_inline_errors - every bad inline entry reported, with its index */
static void test_inline_errors(void **state)
{
	static const char *const entries[] = {
	    "example.org", "bad entry", NULL, ".example.net", "*.x.example", "ok.example",
	};
	struct list_errors errs = {NULL, 0};
	struct pm_list *l;

	(void)state;
	l = list_new(LIST_HELO, "lists.helo.block", entries, PM_ARRAY_LEN(entries), NULL, &errs);
	assert_null(l);
	if (errs.n != 3)
		fail_msg("got %zu errors, want 3", errs.n);
	assert_null(errs.v[0].file);
	assert_int_equal(errs.v[0].index, 1);
	assert_string_equal(errs.v[0].message,
	                    "\"bad entry\": white space inside the entry (one entry a line)");
	assert_int_equal(errs.v[1].index, 2);
	assert_non_null(strstr(errs.v[1].message, "empty entry"));
	assert_int_equal(errs.v[2].index, 4);
	assert_non_null(strstr(errs.v[2].message, "\"*.x.example\""));
	list_errors_free(&errs);
	assert_int_equal(errs.n, 0);
	assert_null(errs.v);

	/* errors append; a NULL errs is allowed */
	assert_null(list_new(LIST_HELO, "x", entries, 2, NULL, &errs));
	assert_null(list_new(LIST_HELO, "x", entries, 2, NULL, &errs));
	assert_int_equal(errs.n, 2);
	list_errors_free(&errs);
	assert_null(list_new(LIST_HELO, "x", entries, 2, NULL, NULL));

	/* empty lists are fine and match nothing */
	l = list_new(LIST_SENDER, "empty", NULL, 0, "", &errs);
	assert_non_null(l);
	assert_int_equal(list_size(l), 0);
	assert_false(list_match(l, "<x@example.org>", NULL));
	list_free(l);
}

/* test_file_syntax - comments, blank lines, CRLF, trailing spaces; errors with line numbers */
static void test_file_syntax(void **state)
{
	static const char good[] = "# senders we never want\n"
	                           "\n"
	                           "spammer@example.com\r\n"
	                           "  .bulk.example   \n"
	                           "example.org # the whole domain\n"
	                           "a#b@example.net\n"
	                           "\t\n"
	                           "   # indented comment\r\n"
	                           "<>\r\n"
	                           "last@example.net"; /* no newline at the end */
	static const char bad[] = "good.example\n"
	                          "bad entry.example\n"
	                          "# fine\n"
	                          "*.example.net\n"
	                          "\n"
	                          "ok.example\r\n"
	                          "[192.0.2.1]\n";
	char path[600], buf[600];
	struct list_errors errs = {NULL, 0};
	struct list_hit hit;
	struct pm_list *l;

	(void)state;
	write_file(tmp_path("good.txt", path, sizeof(path)), good);
	l = file_list(LIST_SENDER, path);
	assert_int_equal(list_size(l), 6);
	assert_true(list_match(l, "<spammer@example.com>", &hit));
	assert_true(hit.in_file);
	assert_int_equal(hit.line, 3);
	assert_string_equal(hit.source, path);
	assert_true(list_match(l, "<x@y.bulk.example>", &hit));
	assert_int_equal(hit.line, 4);
	assert_true(list_match(l, "<x@example.org>", &hit));
	assert_int_equal(hit.line, 5);
	assert_true(list_match(l, "<a#b@example.net>", &hit));
	assert_int_equal(hit.line, 6);
	assert_false(list_match(l, "<a@example.net>", NULL));
	assert_true(list_match(l, "<>", &hit));
	assert_int_equal(hit.line, 9);
	assert_true(list_match(l, "<last@example.net>", &hit));
	assert_int_equal(hit.line, 10);
	{
		char want[700];

		snprintf(want, sizeof(want), "last@example.net in %s:10", path);
		assert_string_equal(list_hit_format(&hit, buf, sizeof(buf)), want);
	}
	list_free(l);

	/* every bad line, with its number */
	write_file(tmp_path("bad.txt", path, sizeof(path)), bad);
	l = list_new(LIST_CLIENT_NAME, "lists.client_name.block", NULL, 0, path, &errs);
	assert_null(l);
	if (errs.n != 3)
		fail_msg("got %zu errors, want 3", errs.n);
	assert_string_equal(errs.v[0].file, path);
	assert_int_equal(errs.v[0].line, 2);
	assert_non_null(strstr(errs.v[0].message, "white space inside"));
	assert_int_equal(errs.v[1].line, 4);
	assert_non_null(strstr(errs.v[1].message, "wildcards"));
	assert_int_equal(errs.v[2].line, 7);
	assert_non_null(strstr(errs.v[2].message, "client list"));
	list_errors_free(&errs);

	/* a NUL byte */
	write_bytes(path, "a.example\nb\0c.example\n", 22);
	assert_null(list_new(LIST_HELO, "x", NULL, 0, path, &errs));
	assert_int_equal(errs.n, 1);
	assert_int_equal(errs.v[0].line, 2);
	assert_non_null(strstr(errs.v[0].message, "NUL"));
	list_errors_free(&errs);

	/* a missing file, a directory */
	assert_null(list_new(LIST_HELO, "x", NULL, 0, tmp_path("nope", path, sizeof(path)), &errs));
	assert_int_equal(errs.n, 1);
	assert_int_equal(errs.v[0].line, 0);
	assert_non_null(strstr(errs.v[0].message, "No such file"));
	list_errors_free(&errs);
	assert_null(list_new(LIST_HELO, "x", NULL, 0, tmp_dir, &errs));
	assert_int_equal(errs.n, 1);
	assert_non_null(strstr(errs.v[0].message, "directory"));
	list_errors_free(&errs);
	assert_null(list_new(LIST_HELO, "x", NULL, 0, "/dev/null", &errs));
	assert_int_equal(errs.n, 1);
	assert_non_null(strstr(errs.v[0].message, "not a regular file"));
	list_errors_free(&errs);
}

/* test_many_errors - at most LIST_MAX_ERRORS errors, then a count */
static void test_many_errors(void **state)
{
	struct list_errors errs = {NULL, 0};
	char path[600];
	FILE *fp;
	int i;

	(void)state;
	fp = fopen(tmp_path("many.txt", path, sizeof(path)), "w");
	assert_non_null(fp);
	for (i = 0; i < 250; i++)
		fprintf(fp, "bad line %d\n", i);
	fclose(fp);
	assert_null(list_new(LIST_HELO, "x", NULL, 0, path, &errs));
	assert_int_equal(errs.n, LIST_MAX_ERRORS + 1);
	assert_int_equal(errs.v[LIST_MAX_ERRORS - 1].line, LIST_MAX_ERRORS);
	assert_string_equal(errs.v[LIST_MAX_ERRORS].message, "150 more bad entries not listed");
	list_errors_free(&errs);
}

/* test_inline_and_file - both sources; inline wins on a tie; hit formats */
static void test_inline_and_file(void **state)
{
	static const char *const entries[] = {"192.0.2.0/24", "2001:db8::/48"};
	char path[600], buf[800], want[800];
	struct list_errors errs = {NULL, 0};
	struct list_hit hit;
	struct pm_list *l;

	(void)state;
	write_file(tmp_path("both.txt", path, sizeof(path)), "192.0.2.0/24\n192.0.2.5\n");
	l = list_new(LIST_CLIENT, "lists.client.block", entries, 2, path, &errs);
	assert_non_null(l);
	assert_int_equal(list_size(l), 4);
	assert_true(list_match(l, "192.0.2.5", &hit));
	assert_true(hit.in_file);
	snprintf(want, sizeof(want), "192.0.2.5 in %s:2", path);
	assert_string_equal(list_hit_format(&hit, buf, sizeof(buf)), want);
	assert_true(list_match(l, "192.0.2.6", &hit));
	assert_false(hit.in_file);
	assert_string_equal(list_hit_format(&hit, buf, sizeof(buf)),
	                    "192.0.2.0/24 in lists.client.block[0]");
	assert_true(list_match(l, "2001:db8:0:1::1", &hit));
	assert_string_equal(list_hit_format(&hit, buf, sizeof(buf)),
	                    "2001:db8::/48 in lists.client.block[1]");
	assert_false(list_match(l, "2001:db8:1::1", NULL));
	list_free(l);
}

/* test_reread - a change is seen after the throttle; in place with mtime bumped */
static void test_reread(void **state)
{
	char path[600];
	struct list_hit hit;
	struct pm_list *l;
	struct timespec times[2];
	FILE *fp;

	(void)state;
	write_file(tmp_path("reread.txt", path, sizeof(path)), "one.example\n");
	l = file_list(LIST_HELO, path);
	assert_true(list_match(l, "one.example", NULL));
	write_file(path, "two.example\n");
	/* within the second: still the old contents */
	assert_true(list_match(l, "one.example", NULL));
	assert_false(list_match(l, "two.example", NULL));
	sleep_ms(1100);
	assert_true(list_match(l, "two.example", &hit));
	assert_int_equal(hit.line, 1);
	assert_false(list_match(l, "one.example", NULL));

	/* rewritten in place, same size and inode: only the mtime tells */
	list_set_recheck_ms(l, 0);
	fp = fopen(path, "r+");
	assert_non_null(fp);
	fputs("six.example\n", fp);
	fclose(fp);
	times[0].tv_sec = times[1].tv_sec = 1000000000;
	times[0].tv_nsec = times[1].tv_nsec = 0;
	assert_int_equal(utimensat(AT_FDCWD, path, times, 0), 0); /* back to 2001 */
	assert_true(list_match(l, "six.example", NULL));
	fp = fopen(path, "r+");
	assert_non_null(fp);
	fputs("ten.example\n", fp);
	fclose(fp);
	times[0].tv_sec = times[1].tv_sec = 1000000000;
	times[0].tv_nsec = times[1].tv_nsec = 0;
	assert_int_equal(utimensat(AT_FDCWD, path, times, 0), 0); /* the same mtime */
	assert_true(list_match(l, "six.example", NULL));          /* so not re-read */
	times[0].tv_sec = times[1].tv_sec = 1000000001;
	assert_int_equal(utimensat(AT_FDCWD, path, times, 0), 0); /* bumped */
	assert_true(list_match(l, "ten.example", NULL));
	assert_false(list_match(l, "six.example", NULL));

	/* bad lines in a re-read are skipped, the rest is used */
	write_file(path, "good.example\nbad entry\n.also.example\n");
	assert_true(list_match(l, "good.example", NULL));
	assert_true(list_match(l, "x.also.example", &hit));
	assert_int_equal(hit.line, 3);
	assert_int_equal(list_size(l), 2);
	list_free(l);
}

/* test_read_error - unreadable or vanished: the old entries stay, logged once */
static void test_read_error(void **state)
{
	char path[600], log[8192], want[700];
	struct pm_list *l;

	(void)state;
	write_file(tmp_path("err.txt", path, sizeof(path)), "keep@example.org\n");
	l = file_list(LIST_RECIPIENT, path);
	list_set_recheck_ms(l, 0);

	capture_begin();
	/* replaced by a directory: read fails */
	assert_int_equal(unlink(path), 0);
	assert_int_equal(mkdir(path, 0700), 0);
	assert_true(list_match(l, "<keep@example.org>", NULL));
	assert_true(list_match(l, "<keep@example.org>", NULL));
	assert_true(list_match(l, "<keep@example.org>", NULL));
	assert_int_equal(rmdir(path), 0);
	/* vanished: stat fails */
	assert_true(list_match(l, "<keep@example.org>", NULL));
	assert_true(list_match(l, "<keep@example.org>", NULL));
	assert_int_equal(list_size(l), 1);
	/* back, with new contents */
	write_file(path, "new@example.org\n");
	assert_true(list_match(l, "<new@example.org>", NULL));
	assert_false(list_match(l, "<keep@example.org>", NULL));
	assert_true(list_match(l, "<new@example.org>", NULL));
	capture_end(log, sizeof(log));

	snprintf(want, sizeof(want), "read %s: Is a directory; keeping the 1 entries", path);
	if (count_substr(log, want) != 1)
		fail_msg("log: got \"%s\", want \"%s\" once", log, want);
	snprintf(want, sizeof(want), "stat %s: No such file or directory; keeping the 1", path);
	if (count_substr(log, want) != 1)
		fail_msg("log: got \"%s\", want \"%s\" once", log, want);
	snprintf(want, sizeof(want), "re-read %s: 1 entries", path);
	if (count_substr(log, want) != 1)
		fail_msg("log: got \"%s\", want \"%s\" once", log, want);
	list_free(l);
}

/* test_unsafe - files anyone could change: refused at load; in use, the old entries kept */
static void test_unsafe(void **state)
{
	char path[600], dir[500], log[8192], want[1400];
	struct list_errors errs = {NULL, 0};
	struct pm_list *l;
	FILE *fp;

	(void)state;
	/* world-writable file: list_new refuses it, saying why */
	write_file(tmp_path("ww.txt", path, sizeof(path)), "spam.example\n");
	assert_int_equal(chmod(path, 0666), 0);
	assert_null(list_new(LIST_HELO, "lists.helo.block", NULL, 0, path, &errs));
	assert_int_equal(errs.n, 1);
	assert_string_equal(errs.v[0].file, path);
	assert_int_equal(errs.v[0].line, 0);
	snprintf(want, sizeof(want),
	         "unsafe permissions: the file is world-writable (mode 0666): anyone could "
	         "change it; chmod o-w %s",
	         path);
	assert_string_equal(errs.v[0].message, want);
	list_errors_free(&errs);
	assert_int_equal(chmod(path, 0644), 0);
	l = file_list(LIST_HELO, path);
	assert_true(list_match(l, "spam.example", NULL));
	list_free(l);

	/* in a world-writable directory without the sticky bit: refused; with it: read */
	tmp_path("open", dir, sizeof(dir));
	assert_int_equal(mkdir(dir, 0700), 0);
	assert_int_equal(chmod(dir, 0777), 0);
	snprintf(path, sizeof(path), "%s/list.txt", dir);
	write_file(path, "spam.example\n");
	assert_null(list_new(LIST_HELO, "lists.helo.block", NULL, 0, path, &errs));
	assert_int_equal(errs.n, 1);
	snprintf(want, sizeof(want),
	         "unsafe permissions: its directory %s is world-writable without the sticky bit "
	         "(mode 0777): anyone could replace the file; chmod o-w %s, or move the file",
	         dir, dir);
	assert_string_equal(errs.v[0].message, want);
	list_errors_free(&errs);
	assert_int_equal(chmod(dir, 01777), 0);
	l = file_list(LIST_HELO, path);
	assert_true(list_match(l, "spam.example", NULL));
	list_free(l);

	/* in use: made world-writable and changed in place, the old entries stay (said once);
	   safe again, the new contents are read */
	write_file(tmp_path("later.txt", path, sizeof(path)), "old.example\n");
	l = file_list(LIST_HELO, path);
	list_set_recheck_ms(l, 0);
	capture_begin();
	assert_int_equal(chmod(path, 0666), 0);
	fp = fopen(path, "r+");
	assert_non_null(fp);
	fputs("new.example\n", fp);
	fclose(fp);
	assert_true(list_match(l, "old.example", NULL));
	assert_false(list_match(l, "new.example", NULL));
	assert_true(list_match(l, "old.example", NULL));
	/* only the mode changes back (the same size, mtime and inode) */
	assert_int_equal(chmod(path, 0644), 0);
	assert_true(list_match(l, "new.example", NULL));
	assert_false(list_match(l, "old.example", NULL));
	/* a chmod alone is noticed too: the entries read before stay */
	assert_int_equal(chmod(path, 0646), 0);
	assert_true(list_match(l, "new.example", NULL));
	capture_end(log, sizeof(log));
	snprintf(want, sizeof(want),
	         "list file: %s: unsafe permissions: the file is world-writable (mode 0666): "
	         "anyone could change it; chmod o-w %s; keeping the 1 entries read before",
	         path, path);
	if (count_substr(log, want) != 1)
		fail_msg("log: got \"%s\", want \"%s\" once", log, want);
	snprintf(want, sizeof(want), "re-read %s: 1 entries", path);
	if (count_substr(log, want) != 1)
		fail_msg("log: got \"%s\", want \"%s\" once", log, want);
	if (count_substr(log, "(mode 0646)") != 1)
		fail_msg("log: got \"%s\", want one line about mode 0646", log);
	list_free(l);
}

static atomic_int threads_stop;

struct thread_arg {
	struct pm_list *l;
	int misses;   /* "always" not matched */
	int foreign;  /* a name never listed matched */
	int versions; /* different versions seen */
};

/* match_thread - "always.example" is in every version of the file */
static void *match_thread(void *p)
{
	struct thread_arg *ta = p;
	struct list_hit hit;
	char last[LIST_ENTRY_MAX + 1] = "";
	int i;

	for (i = 0; i < 2000 || !atomic_load(&threads_stop); i++) {
		if (!list_match(ta->l, "x.always.example", &hit))
			ta->misses++;
		if (list_match(ta->l, "never.example", NULL))
			ta->foreign++;
		if (list_match(ta->l, "a.v.example", &hit) && strcmp(hit.entry, last) != 0) {
			snprintf(last, sizeof(last), "%s", hit.entry);
			ta->versions++;
		}
		if (i % 200 == 0)
			sleep_ms(1);
	}
	return NULL;
}

/* test_threads - 8 threads matching while the file is rewritten */
static void test_threads(void **state)
{
	char path[600];
	pthread_t th[8];
	struct thread_arg ta[8];
	struct pm_list *l;
	int i, misses = 0, foreign = 0, versions = 0;

	(void)state;
	write_file(tmp_path("threads.txt", path, sizeof(path)), ".always.example\n");
	l = file_list(LIST_HELO, path);
	list_set_recheck_ms(l, 0);
	atomic_store(&threads_stop, 0);
	for (i = 0; i < 8; i++) {
		ta[i] = (struct thread_arg){l, 0, 0, 0};
		assert_int_equal(pthread_create(&th[i], NULL, match_thread, &ta[i]), 0);
	}
	for (i = 0; i < 40; i++) {
		char text[256];
		int j;

		snprintf(text, sizeof(text), ".always.example\n");
		for (j = 0; j < i % 5; j++)
			snprintf(text + strlen(text), sizeof(text) - strlen(text),
			         "pad%d.example\n", j);
		snprintf(text + strlen(text), sizeof(text) - strlen(text), "%s.v.example\n",
		         i % 2 ? "" : "a");
		write_file(path, text);
		sleep_ms(20);
	}
	atomic_store(&threads_stop, 1);
	for (i = 0; i < 8; i++) {
		pthread_join(th[i], NULL);
		misses += ta[i].misses;
		foreign += ta[i].foreign;
		versions += ta[i].versions;
	}
	if (misses || foreign)
		fail_msg("concurrent matches: got %d misses and %d false matches, want 0", misses,
		         foreign);
	if (versions < 2)
		fail_msg("concurrent matches: got %d file versions seen, want several", versions);
	list_free(l);
}

/*
 * test_big - 100k entries, 100k lookups each: every answer right (how fast
 * is a benchmark's business, not a unit test's)
 */
static void test_big(void **state)
{
	char path[600], v[128];
	struct pm_list *l;
	struct list_hit hit;
	FILE *fp;
	int i, bad = 0;

	(void)state;
	/* senders */
	fp = fopen(tmp_path("big-senders.txt", path, sizeof(path)), "w");
	assert_non_null(fp);
	for (i = 0; i < 100000; i++)
		fprintf(fp, "user%d@example%d.test\n", i, i % 7);
	fclose(fp);
	l = file_list(LIST_SENDER, path);
	assert_int_equal(list_size(l), 100000);
	for (i = 0; i < 100000; i++) {
		snprintf(v, sizeof(v), "<User%d@EXAMPLE%d.test>", i, i % 7);
		if (!list_match(l, v, &hit) || hit.line != (size_t)i + 1)
			bad++;
		snprintf(v, sizeof(v), "<user%d@a.example%d.test>", i, i % 7);
		if (list_match(l, v, NULL))
			bad++;
	}
	if (bad)
		fail_msg("100k senders: got %d wrong answers, want 0", bad);
	list_free(l);

	/* client addresses: /32s and /24s of both families */
	fp = fopen(tmp_path("big-clients.txt", path, sizeof(path)), "w");
	assert_non_null(fp);
	for (i = 0; i < 50000; i++)
		fprintf(fp, "10.%d.%d.%d\n", (i >> 16) & 255, (i >> 8) & 255, i & 255);
	for (i = 0; i < 25000; i++)
		fprintf(fp, "172.%d.%d.0/24\n", (i >> 8) & 255, i & 255);
	for (i = 0; i < 25000; i++)
		fprintf(fp, "2001:db8:%x::/48\n", i);
	fclose(fp);
	l = file_list(LIST_CLIENT, path);
	assert_int_equal(list_size(l), 100000);
	for (i = 0; i < 50000; i++) {
		snprintf(v, sizeof(v), "10.%d.%d.%d", (i >> 16) & 255, (i >> 8) & 255, i & 255);
		if (!list_match(l, v, &hit) || hit.line != (size_t)i + 1)
			bad++;
		snprintf(v, sizeof(v), "10.%d.%d.%d", 1 + ((i >> 16) & 255), (i >> 8) & 255,
		         i & 255);
		if (list_match(l, v, NULL))
			bad++;
		snprintf(v, sizeof(v), "2001:db8:%x:1::%x", i % 25000, i);
		if (!list_match(l, v, NULL))
			bad++;
		snprintf(v, sizeof(v), "2001:db9:%x::1", i);
		if (list_match(l, v, NULL))
			bad++;
	}
	for (i = 0; i < 25000; i++) {
		snprintf(v, sizeof(v), "::ffff:172.%d.%d.%d", (i >> 8) & 255, i & 255, i & 255);
		if (!list_match(l, v, NULL))
			bad++;
	}
	if (bad)
		fail_msg("100k clients: got %d wrong answers, want 0", bad);
	list_free(l);
}

/* test_misc - names, NULLs */
static void test_misc(void **state)
{
	char buf[64];

	(void)state;
	assert_string_equal(list_kind_name(LIST_CLIENT), "client");
	assert_string_equal(list_kind_name(LIST_CLIENT_NAME), "client_name");
	assert_string_equal(list_kind_name(LIST_HELO), "helo");
	assert_string_equal(list_kind_name(LIST_SENDER), "sender");
	assert_string_equal(list_kind_name(LIST_RECIPIENT), "recipient");
	assert_string_equal(list_kind_name((enum list_kind)99), "unknown");
	assert_null(list_new((enum list_kind)99, "x", NULL, 0, NULL, NULL));
	assert_false(list_match(NULL, "x", NULL));
	assert_int_equal(list_size(NULL), 0);
	list_set_recheck_ms(NULL, 0);
	list_free(NULL);
	list_errors_free(NULL);
	assert_string_equal(list_hit_format(NULL, buf, sizeof(buf)), "(nothing)");
}

/*
 * test_shared - list_new_shared: an unchanged file's table is the one of
 * the list before (same handle), which outlives that list (a re-read
 * after it is freed still logs under the list's name); another name or
 * kind, or a changed file, gets a table of its own, read now
 */
static void test_shared(void **state)
{
	struct list_errors errs = {NULL, 0};
	struct pm_list *a, *b, *c, *d, *e;
	char path[300], log[4096];

	(void)state;
	tmp_path("shared.txt", path, sizeof(path));
	write_file(path, "a.example\n");
	a = list_new_shared(LIST_HELO, "lists.helo.block", NULL, 0, path, NULL, &errs);
	assert_non_null(a);
	b = list_new_shared(LIST_HELO, "lists.helo.block", NULL, 0, path, a, &errs);
	assert_non_null(b);
	if (list_file_table(b) != list_file_table(a))
		fail_msg("unchanged file: got tables %p and %p, want one shared",
		         (const void *)list_file_table(a), (const void *)list_file_table(b));
	c = list_new_shared(LIST_HELO, "lists.helo.allow", NULL, 0, path, b, &errs);
	d = list_new_shared(LIST_CLIENT_NAME, "lists.helo.block", NULL, 0, path, b, &errs);
	assert_non_null(c);
	assert_non_null(d);
	if (list_file_table(c) == list_file_table(b) || list_file_table(d) == list_file_table(b))
		fail_msg(
		    "another name or kind: got the table of lists.helo.block, want one of its own");
	list_free(a);
	list_free(c);
	list_free(d);

	/* the shared table, now b's alone, re-read at run time under b's name */
	write_file(path, "b.example\n");
	list_set_recheck_ms(b, 0);
	capture_begin();
	if (!list_match(b, "b.example", NULL) || list_match(b, "a.example", NULL))
		fail_msg("re-read of the shared table: got the old entries, want b.example");
	capture_end(log, sizeof(log));
	if (strstr(log, "list lists.helo.block: re-read ") == NULL)
		fail_msg("re-read log: got \"%s\", want \"list lists.helo.block: re-read ...\"",
		         log);

	/* changed since: read again */
	write_file(path, "c.example\nd.example\n");
	e = list_new_shared(LIST_HELO, "lists.helo.block", NULL, 0, path, b, &errs);
	assert_non_null(e);
	if (list_file_table(e) == list_file_table(b))
		fail_msg("changed file: got the table before, want a new one");
	if (!list_match(e, "d.example", NULL) || list_match(e, "b.example", NULL))
		fail_msg("changed file: got the old entries, want c.example and d.example");
	assert_int_equal(errs.n, 0);
	list_free(b);
	list_free(e);
	assert_null(list_file_table(NULL));
}

/* setup - a temporary directory; log lines to stderr */
static int setup(void **state)
{
	(void)state;
	if (tmpdir_make("test_lists", tmp_dir, sizeof(tmp_dir)) != 0)
		return -1;
	log_open("test_lists", LOG_MAIL, true);
	return 0;
}

/* teardown - remove the temporary directory */
static int teardown(void **state)
{
	(void)state;
	return tmpdir_remove(tmp_dir);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_client_syntax),
	    cmocka_unit_test(test_client_match),
	    cmocka_unit_test(test_name_syntax),
	    cmocka_unit_test(test_name_match),
	    cmocka_unit_test(test_address_syntax),
	    cmocka_unit_test(test_address_match),
	    cmocka_unit_test(test_inline_errors),
	    cmocka_unit_test(test_file_syntax),
	    cmocka_unit_test(test_many_errors),
	    cmocka_unit_test(test_inline_and_file),
	    cmocka_unit_test(test_reread),
	    cmocka_unit_test(test_read_error),
	    cmocka_unit_test(test_unsafe),
	    cmocka_unit_test(test_threads),
	    cmocka_unit_test(test_big),
	    cmocka_unit_test(test_misc),
	    cmocka_unit_test(test_shared),
	};

	return cmocka_run_group_tests(tests, setup, teardown);
}
