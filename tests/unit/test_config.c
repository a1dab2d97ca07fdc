/*
 * NAME
 *	test_config - unit tests for config_keys.c, config_load.c, config_check.c and policy.c
 * DESCRIPTION
 *	The commented default conf/policy-milter.conf loads, and every
 *	field it gives equals the built-in default (except the two values
 *	the demo sets); an empty file gives the built-in defaults; every key
 *	of the settings table is present in the default file and has a
 *	".B key" entry in man/policy-milter.conf.5; a table of broken
 *	snippets, each with the file:line, key and message substring of the
 *	error it must give; several errors reported in one load; the
 *	sample files in tests/conf/good (must load) and tests/conf/bad
 *	(each says "# expect: LINE KEY SUBSTRING" on its first line);
 *	values normalised on load; reference counts and the current
 *	snapshot swap. For dkim { } and dmarc { }: every key's default and
 *	a non-default value of each, every bad value (modes, quarantine,
 *	header name, domains of each list, the dmarc.domain_modes list of
 *	groups, the 4xx-only replies), all reported in one load; the
 *	public suffix list needed (readable, with a rule) only when DMARC
 *	or dkim.must_sign can run, and loaded exactly then; a reload shares
 *	an unchanged list and reads a changed one; the same for
 *	recipients.file, whose table is not shared once a re-read at run
 *	time skipped a bad line; a reload keeps the tables of a 200,000-line
 *	recipients file and list file that did not change, and reads them
 *	once they did; the key table has a key for each check, list kind
 *	and reply of the name tables; tests/e2e/policy.conf loads. dnsbl { } and iprev
 *{ }: defaults, values (a zone's optional codes and action), every bad zone, code (outside 127/8,
 *an error code, not an address), action, member and the 4xx-only iprev_tempfail. A member of a list
 *of groups (dmarc.domain_modes.domain) is documented in the default file by its dotted name in a
 *comment.
 *
 *	Files anyone could change: a world-writable list file, a list file
 *	in a world-writable directory without the sticky bit (with the
 *	sticky bit it loads), a world-writable recipients.file and public
 *	suffix list, and a unix milter.socket in a world-writable directory
 *	(sticky bit or not) are each an error at its key, all reported in
 *	one load. A FIFO as recipients.file, public suffix list or list file
 *	is an error at once, never waited on (found by tests/fuzz/config).
 *	@include of something that is not a regular file ("", ".", a
 *	directory, a FIFO, directly or from an included file) is an error
 *	at the @include line, where libconfig 1.5 would exit() or block
 *	(found by tests/fuzz/config); a good @include still loads and a
 *	missing one is still libconfig's error; the policy file itself a
 *	FIFO or a directory is an error.
 *
 *	state { }, greylisting { } and ratelimits (issue 16): every default
 *	(with the four new replies); every refused value of each key, each
 *	at its file:line (a redis server without port, port 0 or 65536, a
 *	bare IPv6 address, a relative lmdb path, window 0, limit 0, an
 *	unknown member of a rule naming its element, a duplicate name, ...);
 *	the cross-key checks (backend redis with an empty server, delay not
 *	shorter than retry_window, lifetime shorter than it) reported at the
 *	key the file sets; 32 rules load and a 33rd is an error at its line;
 *	a full Redis, greylisting and two-rule file with every value
 *	normalised; the default file's commented ratelimits example loads.
 *
 *	The repository is found through $PM_SRCDIR (default ".").
 * DIAGNOSTICS
 *	cmocka; each failure prints "got X, want Y".
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>
#include <dirent.h>
#include <libconfig.h>
#include <limits.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <syslog.h>
#include <unistd.h>

#include "config.h"
#include "dmarc.h"
#include "filetable.h"
#include "policy.h"
#include "rcpt.h"
#include "tmpdir.h"
#include "util.h"

static char tmpdir[PATH_MAX];
static char psl_path[PATH_MAX + 32]; /* a small public suffix list in tmpdir */

/* srcdir - the repository root */
static const char *srcdir(void)
{
	const char *d = getenv("PM_SRCDIR");

	return d != NULL && *d != '\0' ? d : ".";
}

/* src_path - srcdir()/rel into buf */
static const char *src_path(char *buf, size_t size, const char *rel)
{
	snprintf(buf, size, "%s/%s", srcdir(), rel);
	return buf;
}

/* write_conf - write text to a fresh file in tmpdir; returns its path (static buffer) */
static const char *write_conf(const char *name, const char *text)
{
	static char path[PATH_MAX + 64];
	FILE *fp;

	snprintf(path, sizeof(path), "%s/%s.conf", tmpdir, name);
	fp = fopen(path, "w");
	if (fp == NULL)
		fail_msg("cannot create %s", path);
	fputs(text, fp);
	fclose(fp);
	return path;
}

/* fill_path - tmpl with every "@PATH@" replaced by path, into buf */
static void fill_path(const char *tmpl, const char *path, char *buf, size_t size)
{
	struct strbuf sb;
	const char *at;

	sb_init(&sb);
	while ((at = strstr(tmpl, "@PATH@")) != NULL) {
		sb_appendn(&sb, tmpl, (size_t)(at - tmpl));
		sb_append(&sb, path);
		tmpl = at + 6;
	}
	sb_append(&sb, tmpl);
	if (strlen(sb.s) >= size)
		fail_msg("fill_path: %zu bytes do not fit in %zu", strlen(sb.s), size);
	memcpy(buf, sb.s, strlen(sb.s) + 1);
	sb_free(&sb);
}

/* add_line - append one printed error line to a strbuf */
static void add_line(const char *line, void *arg)
{
	struct strbuf *sb = arg;

	sb_appendf(sb, "\n    %s", line);
}

/* errors_text - every error as "file:line: key: message" lines, for failure messages */
static char *errors_text(const struct config_errors *errs)
{
	struct strbuf sb;

	sb_init(&sb);
	if (errs->n == 0)
		sb_append(&sb, " (none)");
	config_errors_print(errs, add_line, &sb);
	return sb_steal(&sb);
}

/* load_ok - load path, failing the test with every error when it does not load */
static struct policy *load_ok(const char *path)
{
	struct config_errors errs;
	struct policy *p = config_load(path, &errs);

	if (p == NULL || errs.n != 0) {
		char *t = errors_text(&errs);

		fail_msg("config_load(%s): got errors:%s\nwant none", path, t);
	}
	config_errors_free(&errs);
	return p;
}

/* Field checks that report every mismatch, then fail once. */
static int mismatches;

/* want_int - report an integer field that differs */
static void want_int(const char *what, long got, long want)
{
	if (got != want) {
		print_error("%s: got %ld, want %ld\n", what, got, want);
		mismatches++;
	}
}

/* want_str - report a string field that differs (NULL allowed) */
static void want_str(const char *what, const char *got, const char *want)
{
	if ((got == NULL) != (want == NULL) ||
	    (got != NULL && want != NULL && strcmp(got, want) != 0)) {
		print_error("%s: got %s%s%s, want %s%s%s\n", what, got ? "\"" : "",
		            got ? got : "NULL", got ? "\"" : "", want ? "\"" : "",
		            want ? want : "NULL", want ? "\"" : "");
		mismatches++;
	}
}

/* want_cidrs - report a CIDR list that differs from a space-separated list */
static void want_cidrs(const char *what, const struct pm_cidr_list *l, const char *want)
{
	struct strbuf sb;
	char buf[PM_IP_STRLEN + 8];

	sb_init(&sb);
	for (size_t i = 0; i < l->n; i++) {
		if (i > 0)
			sb_append(&sb, " ");
		sb_append(&sb, pm_cidr_format(&l->v[i], buf, sizeof(buf)));
	}
	want_str(what, sb.s, want);
	sb_free(&sb);
}

/* want_strv - report a string vector that differs from a space-separated list */
static void want_strv(const char *what, char **v, size_t n, const char *want)
{
	struct strbuf sb;

	sb_init(&sb);
	for (size_t i = 0; i < n; i++) {
		if (i > 0)
			sb_append(&sb, " ");
		sb_append(&sb, v[i]);
	}
	want_str(what, sb.s, want);
	sb_free(&sb);
}

/* The default replies, exactly. */
static const struct {
	enum pm_reply_id id;
	int code;
	const char *xcode, *text;
} default_replies[] = {
    {PM_R_CLIENT_BLOCKED, 554, "5.7.1", "Client host %{ip} blocked by local policy"},
    {PM_R_SPF_FAIL, 550, "5.7.23",
     "SPF validation failed: %{domain} does not permit %{ip} to send mail as %{identity}"},
    {PM_R_SPF_PERMERROR, 550, "5.7.24",
     "SPF validation error: the SPF record of %{domain} is invalid"},
    {PM_R_SPF_TEMPERROR, 451, "4.7.24",
     "SPF validation for %{domain} failed temporarily (DNS error); try again later"},
    {PM_R_SENDER_SYNTAX, 501, "5.1.7", "Bad sender address syntax"},
    {PM_R_SENDER_DOMAIN_UNKNOWN, 550, "5.1.8",
     "<%{sender}>: Sender address rejected: Domain not found"},
    {PM_R_SENDER_NULL_MX, 550, "5.7.27",
     "<%{sender}>: Sender address rejected: Domain %{domain} does not accept mail (null MX)"},
    {PM_R_RCPT_SYNTAX, 501, "5.1.3", "Bad recipient address syntax"},
    {PM_R_UNKNOWN_RECIPIENT, 550, "5.1.1", "<%{rcpt}>: Recipient address rejected: User unknown"},
    {PM_R_RELAY_DENIED, 554, "5.7.1", "<%{rcpt}>: Relay access denied"},
    {PM_R_TOO_MANY_RECIPIENTS, 452, "4.5.3", "Too many recipients"},
    {PM_R_TOO_MANY_UNKNOWN, 450, "4.7.1",
     "Too many unknown recipients in this session; try again later"},
    {PM_R_RCPT_TEMPFAIL, 451, "4.4.3", "Recipient lookup failed temporarily; try again later"},
    {PM_R_DNS_TEMPFAIL, 451, "4.4.3", "DNS lookup failed temporarily; try again later"},
    {PM_R_INTERNAL_ERROR, 451, "4.3.0", "Internal error; try again later"},
    {PM_R_FROM_HEADER, 550, "5.7.1",
     "Message rejected: it must have exactly one From header field naming one author "
     "(%{result})"},
    {PM_R_DKIM_NONE_PASSING, 550, "5.7.20", "No passing DKIM signature found for %{domain}"},
    {PM_R_DKIM_NONE_ACCEPTABLE, 550, "5.7.21", "No acceptable DKIM signature found for %{domain}"},
    {PM_R_DKIM_NONE_ALIGNED, 550, "5.7.22",
     "No valid author-matched DKIM signature found for %{domain}"},
    {PM_R_DKIM_TEMPFAIL, 451, "4.7.5",
     "DKIM key lookup for %{domain} failed temporarily; try again later"},
    {PM_R_DMARC_REJECT, 550, "5.7.26",
     "Unauthenticated email from %{domain} is not accepted due to the domain's DMARC policy"},
    {PM_R_DMARC_TEMPFAIL, 451, "4.4.3",
     "DMARC check for %{domain} failed temporarily (DNS error); try again later"},
    {PM_R_DNSBL_LISTED, 554, "5.7.1",
     "Service unavailable; client host %{ip} blocked using %{zone}"},
    {PM_R_IPREV_FAIL, 550, "5.7.25", "Reverse DNS of %{ip} does not match (iprev %{result})"},
    {PM_R_IPREV_TEMPFAIL, 451, "4.7.25",
     "Reverse DNS of %{ip} could not be checked (iprev %{result}); try again later"},
    {PM_R_HELO_BLOCKED, 554, "5.7.1", "<%{helo}>: Helo command rejected: blocked by local policy"},
    {PM_R_SENDER_BLOCKED, 554, "5.7.1",
     "<%{sender}>: Sender address rejected: blocked by local policy"},
    {PM_R_RCPT_BLOCKED, 554, "5.7.1",
     "<%{rcpt}>: Recipient address rejected: blocked by local policy"},
    {PM_R_CLIENT_NAME_BLOCKED, 554, "5.7.1", "Client host %{name}[%{ip}] blocked by local policy"},
    {PM_R_TOO_MANY_MESSAGES, 421, "4.7.0", "Too many messages in this connection; try again later"},
    {PM_R_FROM_DISPLAY_NAME, 550, "5.7.1",
     "Message rejected: the From display name shows an address of another domain than the "
     "author's (%{result})"},
    {PM_R_HEADER_REPEATED, 550, "5.7.1",
     "Message rejected: the %{result} header field must not occur more than once (RFC 5322 "
     "section 3.6)"},
    {PM_R_ARC_FAIL, 550, "5.7.29",
     "ARC validation failure: the ARC chain of this message does not verify (%{result})"},
    {PM_R_ARC_TEMPFAIL, 451, "4.4.3",
     "ARC validation failed temporarily (DNS error); try again later"},
    {PM_R_GREYLISTED, 451, "4.7.1",
     "<%{rcpt}>: Greylisted: first delivery attempt from your server for this sender and "
     "recipient; please retry in %{retry} seconds"},
    {PM_R_RATELIMIT_TEMPFAIL, 451, "4.7.1",
     "Too much mail from you or for this recipient; try again later"},
    {PM_R_RATELIMIT_REJECT, 550, "5.7.1", "Message refused: sending rate limit exceeded"},
    {PM_R_STATE_TEMPFAIL, 451, "4.3.0", "Temporary local problem; please try again later"},
};

/* want_dnsbl_zones - report dnsbl.zones that differ from "zone=code,code/action ..." */
static void want_dnsbl_zones(const struct dnsbl_settings *d, const char *want)
{
	struct strbuf sb;

	sb_init(&sb);
	for (size_t i = 0; i < d->nzones; i++) {
		const struct dnsbl_zone *z = &d->zones[i];

		sb_appendf(&sb, "%s%s=", i > 0 ? " " : "", z->zone);
		for (size_t j = 0; j < z->ncodes; j++)
			sb_appendf(&sb, "%s%s", j > 0 ? "," : "", z->codes[j]);
		sb_appendf(&sb, "/%s",
		           z->action == PM_DNSBL_TAG      ? "tag"
		           : z->action == PM_DNSBL_REJECT ? "reject"
		                                          : "?");
	}
	want_str("dnsbl.zones", sb.s, want);
	sb_free(&sb);
}

/* want_domain_modes - report dmarc.domain_modes that differ from "domain=mode ..." */
static void want_domain_modes(const struct dmarc_settings *d, const char *want)
{
	struct strbuf sb;

	sb_init(&sb);
	for (size_t i = 0; i < d->ndomain_modes; i++)
		sb_appendf(&sb, "%s%s=%s", i > 0 ? " " : "", d->domain_modes[i].domain,
		           pm_mode_name(d->domain_modes[i].mode));
	want_str("dmarc.domain_modes", sb.s, want);
	sb_free(&sb);
}

/* check_defaults - every field of p against the built-in defaults */
static void check_defaults(const struct policy *p, const char *authserv_id, const char *domains)
{
	char what[128];

	mismatches = 0;
	want_str("authserv_id", p->authserv_id, authserv_id);
	want_str("milter.socket", p->milter.socket,
	         "unix:/var/spool/postfix/policy-milter/policy-milter.sock");
	want_int("milter.socket_mode", (long)p->milter.socket_mode, 0660);
	want_str("milter.socket_owner", p->milter.socket_owner, NULL);
	want_str("milter.socket_group", p->milter.socket_group, "postfix");
	want_str("milter.user", p->milter.user, "policy-milter");
	want_str("milter.group", p->milter.group, NULL);
	want_str("milter.pid_file", p->milter.pid_file, "/run/policy-milter/policy-milter.pid");
	want_int("milter.timeout", p->milter.timeout, 300);
	want_int("milter.backlog", p->milter.backlog, 64);
	want_int("milter.drain_timeout", p->milter.drain_timeout, 30);
	want_int("milter.on_internal_error", p->milter.on_internal_error, PM_ACT_TEMPFAIL);
	want_cidrs("trusted_networks", &p->trusted_networks, "127.0.0.0/8 ::1/128");
	want_int("client_block.mode", p->client_block.mode, PM_MODE_ENFORCE);
	want_cidrs("client_block.networks", &p->client_block.networks, "");
	want_int("dnsbl.mode", p->dnsbl.mode, PM_MODE_ENFORCE);
	want_dnsbl_zones(&p->dnsbl, "");
	want_int("iprev.mode", p->iprev.mode, PM_MODE_TAG);
	want_int("spf.mode", p->spf.mode, PM_MODE_ENFORCE);
	want_int("spf.helo_mode", p->spf.helo_mode, PM_MODE_ENFORCE);
	want_int("spf.pass", p->spf.action[PM_SPF_PASS], PM_ACT_ACCEPT);
	want_int("spf.none", p->spf.action[PM_SPF_NONE], PM_ACT_ACCEPT);
	want_int("spf.neutral", p->spf.action[PM_SPF_NEUTRAL], PM_ACT_ACCEPT);
	want_int("spf.fail", p->spf.action[PM_SPF_FAIL], PM_ACT_REJECT);
	want_int("spf.softfail", p->spf.action[PM_SPF_SOFTFAIL], PM_ACT_ACCEPT);
	want_int("spf.permerror", p->spf.action[PM_SPF_PERMERROR], PM_ACT_REJECT);
	want_int("spf.temperror", p->spf.action[PM_SPF_TEMPERROR], PM_ACT_TEMPFAIL);
	want_int("spf.timeout", p->spf.timeout, 20);
	want_int("spf.dns_timeout", p->spf.dns_timeout, 5);
	want_int("spf.max_dns_queries", p->spf.max_dns_queries, 50);
	want_int("spf.max_void_lookups", p->spf.max_void_lookups, 2);
	want_str("spf.receiver", p->spf.receiver, authserv_id);
	want_int("sender_domain.mode", p->sender_domain.mode, PM_MODE_ENFORCE);
	want_int("recipients.mode", p->recipients.mode, PM_MODE_ENFORCE);
	want_strv("recipients.domains", p->recipients.domains, p->recipients.ndomains, domains);
	want_strv("recipients.addresses", p->recipients.addresses, p->recipients.naddresses, "");
	want_str("recipients.file", p->recipients.file, NULL);
	want_str("recipients.detail_separators", p->recipients.detail_separators, "+");
	want_int("recipients.max_recipients", p->recipients.max_recipients, 100);
	want_int("recipients.max_unknown", p->recipients.max_unknown, 10);
	want_int("recipients.max_messages_per_connection", p->recipients.max_messages, 0);
	want_strv("recipients.exempt_from_sender_checks", p->recipients.exempt,
	          p->recipients.nexempt, "postmaster abuse");
	want_int("recipients.delay_sender_refusals", p->recipients.delay_sender_refusals, true);
	want_int("dkim.mode", p->dkim.mode, PM_MODE_TAG);
	want_int("dkim.max_signatures", p->dkim.max_signatures, 5);
	want_int("dkim.allow_l", p->dkim.allow_l, false);
	want_int("dkim.min_key_bits", p->dkim.min_key_bits, 1024);
	want_int("headers.singletons", p->headers.singletons, PM_MODE_TAG);
	want_int("arc.mode", p->arc.mode, PM_MODE_TAG);
	want_strv("arc.trusted_sealers", p->arc.trusted_sealers, p->arc.ntrusted_sealers, "");
	want_int("arc.max_sets", p->arc.max_sets, 50);
	want_strv("dkim.must_sign", p->dkim.must_sign, p->dkim.nmust_sign, "");
	want_int("dmarc.mode", p->dmarc.mode, PM_MODE_ENFORCE);
	want_str("dmarc.public_suffix_list", p->dmarc.public_suffix_list,
	         "/usr/share/publicsuffix/public_suffix_list.dat");
	want_int("dmarc.quarantine", p->dmarc.quarantine, PM_QUARANTINE_TAG);
	want_str("dmarc.quarantine_header", p->dmarc.quarantine_header,
	         "X-Policy-Milter-Quarantine");
	want_int("dmarc.fail_open", p->dmarc.fail_open, false);
	want_int("dmarc.spf_fail_at_mail", p->dmarc.spf_fail_at_mail, false);
	want_strv("dmarc.never_enforce", p->dmarc.never_enforce, p->dmarc.nnever_enforce, "");
	want_strv("dmarc.always_reject", p->dmarc.always_reject, p->dmarc.nalways_reject, "");
	want_strv("dmarc.display_name_exempt", p->dmarc.display_name_exempt,
	          p->dmarc.ndisplay_name_exempt, "googlegroups.com");
	want_domain_modes(&p->dmarc, "");
	want_int("state.backend", p->state.backend, STATE_LMDB);
	want_int("state.on_failure", p->state.on_failure, STATE_FAIL_OPEN);
	want_str("state.lmdb.path", p->state.lmdb_path, "/var/lib/policy-milter/state.lmdb");
	want_int("state.lmdb.max_size_mb", p->state.lmdb_max_mb, 256);
	want_str("state.redis.server", p->state.redis_server, "127.0.0.1:6379");
	want_str("state.redis.username", p->state.redis_username, NULL);
	want_str("state.redis.password", p->state.redis_password, NULL);
	want_int("state.redis.database", p->state.redis_database, 0);
	want_str("state.redis.prefix", p->state.redis_prefix, "pm:");
	want_int("state.redis.connect_timeout_ms", p->state.redis_connect_timeout_ms, 500);
	want_int("state.redis.command_timeout_ms", p->state.redis_command_timeout_ms, 250);
	want_int("greylisting.mode", p->greylist.mode, PM_MODE_OFF);
	want_int("greylisting.delay", p->greylist.delay, 300);
	want_int("greylisting.retry_window", p->greylist.retry_window, 86400);
	want_int("greylisting.lifetime", p->greylist.lifetime, 3110400);
	want_int("greylisting.ipv4_prefix", p->greylist.ipv4_prefix, 24);
	want_int("greylisting.ipv6_prefix", p->greylist.ipv6_prefix, 64);
	want_int("greylisting.auto_allow_after", p->greylist.auto_allow_after, 5);
	want_strv("greylisting.large_senders", p->greylist.large_senders,
	          p->greylist.nlarge_senders, "");
	want_cidrs("greylisting.exempt_clients", &p->greylist.exempt_clients, "");
	want_strv("greylisting.exempt_recipients", p->greylist.exempt_recipients,
	          p->greylist.nexempt_recipients, "");
	want_int("ratelimits", (long)p->ratelimit.nrules, 0);
	want_int("ratelimits (array)", p->ratelimit.rules != NULL, 0);
	for (int k = 0; k < PM_LIST_KINDS; k++) {
		const struct list_settings *l = &p->lists[k];

		snprintf(what, sizeof(what), "lists.%s", list_kind_name((enum list_kind)k));
		want_int(what, (long)(l->nallow + l->nblock), 0);
		want_str(what, l->allow_file, NULL);
		want_str(what, l->block_file, NULL);
		want_int(what, l->allow_list != NULL || l->block_list != NULL, 0);
	}
	want_int("dry_run", p->dry_run, false);
	want_int("log.syslog_facility", p->log.syslog_facility, LOG_MAIL);
	want_str("log.syslog_ident", p->log.syslog_ident, "policy-milter");
	want_str("log.json_file", p->log.json_file, NULL);
	for (size_t i = 0; i < PM_ARRAY_LEN(default_replies); i++) {
		const struct pm_reply *r = &p->replies[default_replies[i].id];

		snprintf(what, sizeof(what), "replies.%s code",
		         pm_reply_name(default_replies[i].id));
		want_int(what, r->code, default_replies[i].code);
		snprintf(what, sizeof(what), "replies.%s xcode",
		         pm_reply_name(default_replies[i].id));
		want_str(what, r->xcode, default_replies[i].xcode);
		snprintf(what, sizeof(what), "replies.%s text",
		         pm_reply_name(default_replies[i].id));
		want_str(what, r->text, default_replies[i].text);
	}
	want_int("number of default replies checked", PM_ARRAY_LEN(default_replies), PM_R_COUNT);
	want_int("refcount", p->refcount, 1);
	if (mismatches != 0)
		fail_msg("%d field(s) differ from the defaults", mismatches);
}

/* test_default_conf - conf/policy-milter.conf loads and holds the defaults */
static void test_default_conf(void **state)
{
	char path[PATH_MAX];
	struct policy *p;

	(void)state;
	p = load_ok(src_path(path, sizeof(path), "conf/policy-milter.conf"));
	check_defaults(p, "mx.example.org", "example.org");
	want_str("path", p->path, path);
	policy_release(p);
}

/* test_empty_conf - an empty file gives the built-in defaults; authserv_id is the host name */
static void test_empty_conf(void **state)
{
	char host[HOST_NAME_MAX + 1] = "";
	struct policy *p;

	(void)state;
	if (gethostname(host, sizeof(host)) != 0 || host[0] == '\0')
		strcpy(host, "localhost");
	p = load_ok(write_conf("empty", "# nothing\n"));
	check_defaults(p, host, "");
	policy_release(p);
}

/* The keys config_keys() lists. */
struct keyv {
	const char *k[512];
	size_t n;
};

/* collect_key - append one key to a keyv */
static void collect_key(const char *key, void *arg)
{
	struct keyv *kv = arg;

	if (kv->n < PM_ARRAY_LEN(kv->k) - 1)
		kv->k[kv->n++] = key;
}

/* read_all - the whole file into a new string, or NULL */
static char *read_all(const char *path)
{
	struct strbuf sb;
	char buf[4096];
	size_t n;
	FILE *fp = fopen(path, "r");

	if (fp == NULL)
		return NULL;
	sb_init(&sb);
	while ((n = fread(buf, 1, sizeof(buf), fp)) > 0)
		sb_appendn(&sb, buf, n);
	fclose(fp);
	return sb_steal(&sb);
}

/*
 * in_conf - is key set in the default file? A member of a list of groups
 * (dmarc.domain_modes.domain) counts when the list is set and the file
 * names the member by its dotted key (the default list is empty, so the
 * members are described in comments).
 */
static bool in_conf(const config_t *cfg, const char *text, const char *key)
{
	const char *dot = strrchr(key, '.');
	config_setting_t *parent;
	char path[128];

	if (config_lookup(cfg, key) != NULL)
		return true;
	if (dot == NULL || (size_t)(dot - key) >= sizeof(path))
		return false;
	memcpy(path, key, (size_t)(dot - key));
	path[dot - key] = '\0';
	parent = config_lookup(cfg, path);
	return parent != NULL && config_setting_is_aggregate(parent) &&
	       !config_setting_is_group(parent) && strstr(text, key) != NULL;
}

/* test_keys_documented - every key is set in the default file and described in the man page */
static void test_keys_documented(void **state)
{
	char conf[PATH_MAX], man[PATH_MAX], want[128];
	struct keyv kv = {.n = 0};
	config_t cfg;
	char *page, *text;
	int missing = 0;

	(void)state;
	config_keys(collect_key, &kv);
	if (kv.n < 70)
		fail_msg("config_keys: got %zu keys, want at least 70", kv.n);
	for (size_t i = 0; i < kv.n; i++)
		if (strcmp(kv.k[i], "dmarc.domain_modes") == 0 || strcmp(kv.k[i], "dmarc") == 0)
			fail_msg("config_keys: got \"%s\", want leaf keys only", kv.k[i]);
	config_init(&cfg);
	if (config_read_file(&cfg, src_path(conf, sizeof(conf), "conf/policy-milter.conf")) !=
	    CONFIG_TRUE)
		fail_msg("%s: got libconfig error %s at line %d, want none", conf,
		         config_error_text(&cfg), config_error_line(&cfg));
	page = read_all(src_path(man, sizeof(man), "man/policy-milter.conf.5"));
	text = read_all(conf);
	if (page == NULL || text == NULL)
		fail_msg("cannot read %s or %s", man, conf);
	for (size_t i = 0; i < kv.n; i++) {
		if (!in_conf(&cfg, text, kv.k[i])) {
			print_error("%s: key %s: got absent, want present\n", conf, kv.k[i]);
			missing++;
		}
		snprintf(want, sizeof(want), "\n.B %s\n", kv.k[i]);
		if (strstr(page, want) == NULL) {
			print_error("%s: key %s: got no \".B %s\" line, want one\n", man, kv.k[i],
			            kv.k[i]);
			missing++;
		}
	}
	config_destroy(&cfg);
	free(page);
	free(text);
	if (missing != 0)
		fail_msg("%d key(s) not documented", missing);
}

/* One broken snippet and the error it must give. */
struct bad_case {
	const char *name;
	const char *text;
	int line;
	const char *key;
	const char *msg; /* a substring of the message */
};

static const struct bad_case bad_cases[] = {
    {"unknown top-level key", "authserv_id = \"mx.example.org\";\nauthserv = \"x\";\n", 2,
     "authserv", "unknown key"},
    {"unknown group", "\n\ngreylist: { mode = \"tag\"; };\n", 3, "greylist", "unknown group"},
    {"unknown nested key", "spf:\n{\n  mode = \"enforce\";\n  softfial = \"accept\";\n};\n", 4,
     "spf.softfial", "unknown key"},
    {"unknown nested group", "spf: {\n  extra: { a = 1; };\n};\n", 2, "spf.extra", "unknown group"},
    {"unknown reply", "replies:\n{\n  spf_fial = \"550 5.7.1 no\";\n};\n", 3, "replies.spf_fial",
     "unknown key"},
    {"wrong type: string for int", "milter: {\n  timeout = \"300\";\n};\n", 2, "milter.timeout",
     "wrong type"},
    {"wrong type: float for int", "spf: { timeout = 2.5; };\n", 1, "spf.timeout", "wrong type"},
    {"wrong type: int for string", "log: { syslog_ident = 7; };\n", 1, "log.syslog_ident",
     "wrong type"},
    {"wrong type: bool for mode", "spf: { mode = true; };\n", 1, "spf.mode", "wrong type"},
    {"wrong type: string for list", "trusted_networks = \"127.0.0.0/8\";\n", 1, "trusted_networks",
     "wrong type"},
    {"wrong type: scalar for group", "\nspf = \"enforce\";\n", 2, "spf", "want a group"},
    {"wrong type: list element", "trusted_networks = [ 127 ];\n", 1, "trusted_networks",
     "element 1"},
    {"wrong type: int socket_mode", "milter: { socket_mode = 660; };\n", 1, "milter.socket_mode",
     "octal"},
    {"bad CIDR", "\ntrusted_networks = [\n  \"127.0.0.0/8\",\n  \"10.0.0.0/33\"\n];\n", 2,
     "trusted_networks", "element 2"},
    {"not an address", "client_block: { networks = [ \"example.org\" ]; };\n", 1,
     "client_block.networks", "element 1"},
    {"host bits set", "client_block:\n{\n  networks = [ \"192.0.2.1/24\" ];\n};\n", 3,
     "client_block.networks", "host bits"},
    {"unknown mode", "spf: { helo_mode = \"reject\"; };\n", 1, "spf.helo_mode", "unknown mode"},
    {"unknown mode (case)", "recipients: { mode = \"Enforce\"; };\n", 1, "recipients.mode",
     "unknown mode"},
    {"bad action", "spf: { softfail = \"tag\"; };\n", 1, "spf.softfail", "unknown action"},
    {"temperror=reject", "spf:\n{\n  temperror = \"reject\";\n};\n", 3, "spf.temperror",
     "not allowed"},
    {"on_internal_error=reject", "milter: { on_internal_error = \"reject\"; };\n", 1,
     "milter.on_internal_error", "not allowed"},
    {"reply class mismatch", "replies: { spf_fail = \"550 4.7.1 x\"; };\n", 1, "replies.spf_fail",
     "class 4 does not match"},
    {"reply class mismatch 4xx", "replies: { unknown_recipient = \"450 5.1.1 x\"; };\n", 1,
     "replies.unknown_recipient", "class 5 does not match"},
    {"4xx-only reply given 5xx", "replies:\n{\n  spf_temperror = \"550 5.7.24 DNS\";\n};\n", 3,
     "replies.spf_temperror", "must be a 4xx"},
    {"4xx-only internal_error", "replies: { internal_error = \"554 5.3.0 x\"; };\n", 1,
     "replies.internal_error", "must be a 4xx"},
    {"4xx-only dns_tempfail", "replies: { dns_tempfail = \"550 5.4.3 x\"; };\n", 1,
     "replies.dns_tempfail", "must be a 4xx"},
    {"sender_null_mx class mismatch", "replies: { sender_null_mx = \"550 4.7.27 x\"; };\n", 1,
     "replies.sender_null_mx", "class 4 does not match"},
    {"sender_domain_unknown placeholder",
     "replies:\n{\n  sender_domain_unknown = \"550 5.1.8 %{from}\";\n};\n", 3,
     "replies.sender_domain_unknown", "unknown placeholder"},
    {"sender_domain unknown mode", "sender_domain: { mode = \"reject\"; };\n", 1,
     "sender_domain.mode", "unknown mode"},
    {"sender_domain unknown key", "sender_domain:\n{\n  timeout = 5;\n};\n", 3,
     "sender_domain.timeout", "unknown key"},
    {"bad placeholder", "replies: { relay_denied = \"554 5.7.1 <%{recipient}> no\"; };\n", 1,
     "replies.relay_denied", "unknown placeholder \"%{recipient}\""},
    {"lone percent", "replies: { relay_denied = \"554 5.7.1 100% sure\"; };\n", 1,
     "replies.relay_denied", "lone '%'"},
    {"unterminated placeholder", "replies: { relay_denied = \"554 5.7.1 %{ip\"; };\n", 1,
     "replies.relay_denied", "unterminated"},
    {"2xx reply", "replies: { spf_fail = \"250 2.0.0 ok\"; };\n", 1, "replies.spf_fail",
     "4xx or 5xx"},
    {"reply without enhanced code", "replies: { spf_fail = \"550 go away\"; };\n", 1,
     "replies.spf_fail", "enhanced status code"},
    {"reply without text", "replies: { spf_fail = \"550 5.7.1\"; };\n", 1, "replies.spf_fail",
     "text missing"},
    {"lists: a bad inline entry, at its own line",
     "lists:\n{\n  helo:\n  {\n    block = [ \"ok.example\",\n      \"bad name.example\" ];\n  "
     "};\n};\n",
     6, "lists.helo.block", "bad name.example"},
    {"lists: a bad last inline entry, \"]\" on the next line",
     "lists: { sender: { allow = [\n  \"a@b.example\",\n  \"a@@b\"\n  ]; }; };\n", 3,
     "lists.sender.allow", "a@@b"},
    {"lists: an address in a client name list",
     "lists: { client_name: { block = [ \"192.0.2.1\" ]; }; };\n", 1, "lists.client_name.block",
     "192.0.2.1"},
    {"lists: a network with host bits", "lists: { client: { allow = [ \"192.0.2.1/24\" ]; }; };\n",
     1, "lists.client.allow", "192.0.2.1/24"},
    {"lists: <> in a recipient list", "lists: { recipient: { block = [ \"<>\" ]; }; };\n", 1,
     "lists.recipient.block", "<>"},
    {"lists: a relative file", "lists: {\n  helo: { block_file = \"helo.txt\"; };\n};\n", 2,
     "lists.helo.block_file", "absolute path"},
    {"lists: a file that does not exist",
     "lists: {\n  sender: {\n    block_file = \"/nonexistent/sender.txt\"; }; };\n", 3,
     "lists.sender.block_file", "/nonexistent/sender.txt: cannot read the list file"},
    {"lists: an unknown kind", "lists: { domain: { allow = [ ]; }; };\n", 1, "lists.domain",
     "unknown group"},
    {"lists: an unknown key", "lists: { helo: { allow_files = \"\"; }; };\n", 1,
     "lists.helo.allow_files", "unknown key"},
    {"lists: a string for a list", "lists: { helo: { allow = \"x.example\"; }; };\n", 1,
     "lists.helo.allow", "wrong type"},
    {"dry_run: a string", "dry_run = \"yes\";\n", 1, "dry_run", "wrong type"},
    {"reply subject leading zero", "replies: { spf_fail = \"550 5.07.1 x\"; };\n", 1,
     "replies.spf_fail", "subject"},
    {"reply detail too long", "replies: { spf_fail = \"550 5.7.1000 x\"; };\n", 1,
     "replies.spf_fail", "detail"},
    {"reply control char", "replies: { spf_fail = \"550 5.7.1 a\\tb\"; };\n", 1, "replies.spf_fail",
     "printable"},
    {"timeout 0", "milter: { timeout = 0; };\n", 1, "milter.timeout", "out of range"},
    {"negative backlog", "milter: { backlog = -1; };\n", 1, "milter.backlog", "out of range"},
    {"max_dns_queries too big", "spf: { max_dns_queries = 5000; };\n", 1, "spf.max_dns_queries",
     "10..1000"},
    {"huge int64", "spf: { max_void_lookups = 10000000000L; };\n", 1, "spf.max_void_lookups",
     "out of range"},
    {"socket scheme", "milter: { socket = \"tcp:10025\"; };\n", 1, "milter.socket", "unix:/path"},
    {"socket relative path", "milter: { socket = \"unix:milter.sock\"; };\n", 1, "milter.socket",
     "absolute"},
    {"socket port range", "milter: { socket = \"inet:70000@127.0.0.1\"; };\n", 1, "milter.socket",
     "out of range"},
    {"socket no port", "milter: { socket = \"inet:@127.0.0.1\"; };\n", 1, "milter.socket",
     "inet:PORT@HOST"},
    {"socket empty host", "milter: { socket = \"inet6:10025@\"; };\n", 1, "milter.socket", "host"},
    /* the wording is metrics_listen_check's (metrics_http.c): only the place is checked */
    {"metrics public address", "metrics:\n{\n  listen = \"inet:9187@192.0.2.1\";\n};\n", 3,
     "metrics.listen", ""},
    {"metrics no host: every address", "metrics: { listen = \"inet:9187\"; };\n", 1,
     "metrics.listen", ""},
    {"metrics bad syntax", "metrics: { listen = \"tcp:9187\"; };\n", 1, "metrics.listen", ""},
    {"socket_mode not octal", "milter: { socket_mode = \"0690\"; };\n", 1, "milter.socket_mode",
     "octal"},
    {"bad user name", "milter: { user = \"bad user\"; };\n", 1, "milter.user", "user or group"},
    {"relative pid file", "milter: { pid_file = \"run/pm.pid\"; };\n", 1, "milter.pid_file",
     "absolute"},
    {"bad domain", "recipients: { domains = [ \"example.org\", \"exa mple.org\" ]; };\n", 1,
     "recipients.domains", "element 2"},
    {"bad address", "recipients: { addresses = [ \"no-at-sign\" ]; };\n", 1, "recipients.addresses",
     "not an address"},
    {"bad catch-all", "recipients: { addresses = [ \"@-bad-.org\" ]; };\n", 1,
     "recipients.addresses", "catch-all"},
    {"unreadable recipients file",
     "recipients:\n{\n  file = \"/nonexistent/policy-milter/recipients\";\n};\n", 3,
     "recipients.file", "recipients file"},
    {"bad detail separator", "recipients: { detail_separators = \"@\"; };\n", 1,
     "recipients.detail_separators", "punctuation"},
    {"exempt catch-all", "recipients: { exempt_from_sender_checks = [ \"@example.org\" ]; };\n", 1,
     "recipients.exempt_from_sender_checks", "not a catch-all"},
    {"exempt bad local part",
     "recipients: { exempt_from_sender_checks = [ \"abuse\", \"a b\" ]; };\n", 1,
     "recipients.exempt_from_sender_checks", "not a local part"},
    {"exempt empty", "recipients: { exempt_from_sender_checks = [ \"\" ]; };\n", 1,
     "recipients.exempt_from_sender_checks", "not a local part"},
    {"exempt bad address", "recipients: { exempt_from_sender_checks = [ \"abuse@\" ]; };\n", 1,
     "recipients.exempt_from_sender_checks", "not an address"},
    {"max messages negative", "recipients: { max_messages_per_connection = -1; };\n", 1,
     "recipients.max_messages_per_connection", ""},
    {"too_many_messages 5xx", "replies: { too_many_messages = \"554 5.7.0 go away\"; };\n", 1,
     "replies.too_many_messages", "4xx"},
    {"json_file relative", "log: { json_file = \"decisions.json\"; };\n", 1, "log.json_file",
     "must be an absolute path"},
    {"json_file a directory", "log:\n{\n  json_file = \"/var/log/\";\n};\n", 3, "log.json_file",
     "must name a file, not a directory"},
    {"json_file control character", "log: { json_file = \"/var/log/a\\nb.json\"; };\n", 1,
     "log.json_file", "control characters"},
    {"json_file not a string", "log: { json_file = true; };\n", 1, "log.json_file",
     "got a boolean, want a string"},
    {"unknown syslog facility", "log: { syslog_facility = \"mial\"; };\n", 1, "log.syslog_facility",
     "unknown syslog facility"},
    {"authserv_id with space", "authserv_id = \"mx example\";\n", 1, "authserv_id", "token"},
    {"syntax error with line", "spf:\n{\n  mode = \"enforce\";\n  fail = ;\n};\n", 4, "",
     "syntax error"},
    {"duplicate key", "spf: { mode = \"log\";\n  mode = \"tag\"; };\n", 2, "", "duplicate"},
    /* dkim { } */
    {"dkim bad mode", "dkim:\n{\n  mode = \"reject\";\n};\n", 3, "dkim.mode", "unknown mode"},
    {"dkim unknown key", "dkim: { mode = \"log\";\n  min_bits = 1024; };\n", 2, "dkim.min_bits",
     "unknown key"},
    {"dkim max_signatures 0", "dkim: { max_signatures = 0; };\n", 1, "dkim.max_signatures",
     "1..50"},
    {"dkim max_signatures 51", "dkim: { max_signatures = 51; };\n", 1, "dkim.max_signatures",
     "1..50"},
    {"dkim min_key_bits 256", "dkim: { min_key_bits = 256; };\n", 1, "dkim.min_key_bits",
     "512..4096"},
    /* a larger key's record does not fit libopendkim's 1024-byte key buffer */
    {"dkim min_key_bits 8192", "dkim: { min_key_bits = 8192; };\n", 1, "dkim.min_key_bits",
     "512..4096"},
    {"headers singletons bad mode", "headers: { singletons = \"reject\"; };\n", 1,
     "headers.singletons", "unknown mode"},
    /* arc { } */
    {"arc bad mode", "arc: { mode = \"reject\"; };\n", 1, "arc.mode", "unknown mode"},
    {"arc max_sets 0", "arc: { max_sets = 0; };\n", 1, "arc.max_sets", "1..50"},
    {"arc max_sets 51", "arc: { max_sets = 51; };\n", 1, "arc.max_sets", "1..50"},
    {"arc trusted_sealers bad domain",
     "arc:\n{\n  trusted_sealers = [ \"lists.example\", \"bad_seal!.example\" ];\n};\n", 3,
     "arc.trusted_sealers", "element 2: \"bad_seal!.example\" is not a valid domain name"},
    {"arc trusted_sealers not a list", "arc: { trusted_sealers = \"lists.example\"; };\n", 1,
     "arc.trusted_sealers", "want a list of strings"},
    {"arc unknown key", "arc: { mode = \"log\";\n  trusted = [ ]; };\n", 2, "arc.trusted",
     "unknown key"},
    {"dkim allow_l as a string", "dkim: { allow_l = \"yes\"; };\n", 1, "dkim.allow_l",
     "want true or false"},
    {"dkim allow_l as an int", "dkim: { allow_l = 1; };\n", 1, "dkim.allow_l",
     "got an integer, want true or false"},
    {"dkim must_sign bad domain",
     "dkim:\n{\n  must_sign = [ \"example.com\", \"-bad.example\" ];\n};\n", 3, "dkim.must_sign",
     "element 2: \"-bad.example\" is not a valid domain name"},
    {"dkim must_sign not a list", "dkim: { must_sign = \"example.com\"; };\n", 1, "dkim.must_sign",
     "want a list of strings"},
    {"dkim as a list", "dkim = [ \"tag\" ];\n", 1, "dkim", "want a group"},
    /* dmarc { } */
    {"dmarc bad mode", "dmarc: { mode = \"quarantine\"; };\n", 1, "dmarc.mode", "unknown mode"},
    {"dmarc bad quarantine", "dmarc:\n{\n  quarantine = \"reject\";\n};\n", 3, "dmarc.quarantine",
     "unknown quarantine action \"reject\" (want tag or hold)"},
    {"dmarc quarantine case", "dmarc: { quarantine = \"Hold\"; };\n", 1, "dmarc.quarantine",
     "unknown quarantine action"},
    {"dmarc quarantine_header with space", "dmarc: { quarantine_header = \"X Quarantine\"; };\n", 1,
     "dmarc.quarantine_header", "not a header field name"},
    {"dmarc quarantine_header with colon", "dmarc: { quarantine_header = \"X-Quarantine:\"; };\n",
     1, "dmarc.quarantine_header", "without spaces or ':'"},
    {"dmarc quarantine_header empty", "dmarc: { quarantine_header = \"\"; };\n", 1,
     "dmarc.quarantine_header", "not a header field name"},
    {"dmarc quarantine_header 8-bit", "dmarc: { quarantine_header = \"X-Qu\xc3\xa4r\"; };\n", 1,
     "dmarc.quarantine_header", "not a header field name"},
    {"dmarc quarantine_header too long",
     "dmarc: { quarantine_header = "
     "\"X-0123456789012345678901234567890123456789012345678901234567890123\"; };\n",
     1, "dmarc.quarantine_header", "1..64"},
    {"dmarc quarantine_header standard field",
     "dmarc: { quarantine_header = \"authentication-results\"; };\n", 1, "dmarc.quarantine_header",
     "standard header field"},
    {"dmarc fail_open as a string", "dmarc: { fail_open = \"false\"; };\n", 1, "dmarc.fail_open",
     "got a string, want true or false"},
    {"dmarc spf_fail_at_mail as an int", "dmarc: { spf_fail_at_mail = 0; };\n", 1,
     "dmarc.spf_fail_at_mail", "want true or false"},
    {"dmarc never_enforce bad domain",
     "dmarc: { never_enforce = [ \"forwarder.example\", \"bad_domain.example\" ]; };\n", 1,
     "dmarc.never_enforce", "element 2"},
    {"dmarc always_reject bad domain", "dmarc:\n{\n  always_reject = [ \"x..example\" ];\n};\n", 3,
     "dmarc.always_reject", "element 1: \"x..example\" is not a valid domain name"},
    {"dmarc always_reject element type", "dmarc: { always_reject = [ 5 ]; };\n", 1,
     "dmarc.always_reject", "element 1 is an integer"},
    {"dmarc display_name_exempt bad domain",
     "dmarc: { display_name_exempt = [ \"lists.example\", \"-bad.example\" ]; };\n", 1,
     "dmarc.display_name_exempt", "element 2"},
    {"dmarc domain in never_enforce and always_reject",
     "dmarc:\n{\n  never_enforce = [ \"a.example\", \"B.example\" ];\n"
     "  always_reject = [ \"b.example\" ];\n};\n",
     4, "dmarc.always_reject", "\"b.example\" is in dmarc.never_enforce too"},
    {"dmarc public_suffix_list relative", "dmarc: { public_suffix_list = \"psl.dat\"; };\n", 1,
     "dmarc.public_suffix_list", "absolute path"},
    {"dmarc public_suffix_list missing",
     "dmarc:\n{\n  mode = \"log\"; discovery = \"psl\";\n  public_suffix_list = "
     "\"/nonexistent/psl.dat\";\n};\n",
     4, "dmarc.public_suffix_list",
     "cannot use the public suffix list: /nonexistent/psl.dat: No such file or directory"},
    {"dmarc public_suffix_list a directory",
     "dmarc: { discovery = \"psl\"; public_suffix_list = \"/\"; };\n", 1,
     "dmarc.public_suffix_list", "/: not a regular file"},
    {"dmarc off, domain_modes on, public_suffix_list missing",
     "dmarc:\n{\n  mode = \"off\"; discovery = \"psl\";\n  public_suffix_list = "
     "\"/nonexistent/psl.dat\";\n"
     "  domain_modes = ( { domain = \"hosted.example\"; mode = \"off\"; },\n"
     "                   { domain = \"on.example\"; mode = \"log\"; } );\n};\n",
     4, "dmarc.public_suffix_list", "turns DMARC on for on.example"},
    /* overrides */
    {"overrides both selectors",
     "overrides = ( { for_sender_domain = \"a.example\"; for_recipient_domain = \"b.example\";\n"
     "  spf = \"log\"; } );\n",
     1, "overrides", "element 1: give exactly one of for_sender_domain and for_recipient_domain"},
    {"overrides no selector",
     "overrides = (\n  { for_recipient_domain = \"b.example\"; dmarc = \"log\"; },\n"
     "  { spf = \"log\"; }\n);\n",
     3, "overrides", "element 2: give exactly one of"},
    {"overrides no check", "overrides = ( { for_sender_domain = \"a.example\"; } );\n", 1,
     "overrides", "element 1: names no check"},
    {"overrides bad mode",
     "overrides = ( { for_recipient_domain = \"a.example\";\n  dmarc = \"reject\"; } );\n", 2,
     "overrides.dmarc", "unknown mode \"reject\" (want off, log, tag or enforce)"},
    {"overrides unknown check",
     "overrides = ( { for_recipient_domain = \"a.example\";\n  dnsbl = \"log\"; } );\n", 2,
     "overrides.dnsbl", "unknown key (a group of overrides holds for_sender_domain"},
    {"overrides old selector name",
     "overrides = ( { recipient_domain = \"a.example\"; dmarc = \"log\"; } );\n", 1,
     "overrides.recipient_domain", "unknown key"},
    {"overrides bad domain",
     "overrides = ( { for_sender_domain = \"bad domain\"; spf = \"tag\"; } );\n", 1,
     "overrides.for_sender_domain", "\"bad domain\" is not a valid domain name"},
    {"overrides mode not a string",
     "overrides = ( { for_sender_domain = \"a.example\"; spf = 1; } );\n", 1, "overrides.spf",
     "got an integer, want a string"},
    {"overrides a group, not a list",
     "overrides: { for_sender_domain = \"a.example\"; spf = \"log\"; };\n", 1, "overrides",
     "wrong type"},
    {"overrides dmarc on, public_suffix_list missing",
     "dmarc: { mode = \"off\"; discovery = \"psl\"; public_suffix_list = \"/nonexistent/psl.dat\"; "
     "};\n"
     "overrides = ( { for_sender_domain = \"a.example\"; dmarc = \"log\"; } );\n",
     1, "dmarc.public_suffix_list", "an override turns DMARC on for a.example"},
    /* dmarc.domain_modes */
    {"domain_modes missing mode",
     "dmarc:\n{\n  domain_modes = (\n    { domain = \"hosted.example\"; mode = \"log\"; },\n"
     "    { domain = \"other.example\"; }\n  );\n};\n",
     5, "dmarc.domain_modes", "element 2: mode is missing (each group needs domain and mode)"},
    {"domain_modes missing domain", "dmarc: { domain_modes = ( { mode = \"log\"; } ); };\n", 1,
     "dmarc.domain_modes", "element 1: domain is missing"},
    {"domain_modes empty group", "dmarc: { domain_modes = ( { } ); };\n", 1, "dmarc.domain_modes",
     "element 1: domain and mode are missing"},
    {"domain_modes bad mode",
     "dmarc:\n{\n  domain_modes = ( { domain = \"hosted.example\";\n"
     "                    mode = \"reject\"; } );\n};\n",
     4, "dmarc.domain_modes.mode", "unknown mode \"reject\""},
    {"domain_modes mode not a string",
     "dmarc: { domain_modes = ( { domain = \"hosted.example\"; mode = true; } ); };\n", 1,
     "dmarc.domain_modes.mode", "got a boolean, want a string"},
    {"domain_modes bad domain",
     "dmarc: { domain_modes = ( { domain = \"hosted example\"; mode = \"log\"; } ); };\n", 1,
     "dmarc.domain_modes.domain", "\"hosted example\" is not a valid domain name"},
    {"domain_modes duplicate domain",
     "dmarc:\n{\n  domain_modes = (\n    { domain = \"hosted.example\"; mode = \"log\"; },\n"
     "    { mode = \"tag\";\n      domain = \"Hosted.EXAMPLE\"; }\n  );\n};\n",
     6, "dmarc.domain_modes.domain",
     "element 2: \"hosted.example\" is already given by an earlier element"},
    {"domain_modes unknown member",
     "dmarc: { domain_modes = ( { domain = \"hosted.example\"; mode = \"log\";\n"
     "  policy = \"none\"; } ); };\n",
     2, "dmarc.domain_modes.policy",
     "unknown key (a group of dmarc.domain_modes holds domain and "
     "mode)"},
    {"domain_modes list of strings", "dmarc: { domain_modes = [ \"hosted.example\" ]; };\n", 1,
     "dmarc.domain_modes", "element 1 is a string, want a group"},
    {"domain_modes a single group",
     "dmarc: { domain_modes: { domain = \"hosted.example\"; mode = \"log\"; }; };\n", 1,
     "dmarc.domain_modes", "got a group, want a list of groups"},
    {"domain_modes a string", "dmarc: { domain_modes = \"hosted.example=log\"; };\n", 1,
     "dmarc.domain_modes", "want a list of groups"},
    /* dnsbl and iprev */
    {"dnsbl bad mode", "dnsbl: { mode = \"reject\"; };\n", 1, "dnsbl.mode",
     "unknown mode \"reject\""},
    {"iprev bad mode", "\niprev:\n{\n  mode = \"strict\";\n};\n", 4, "iprev.mode",
     "unknown mode \"strict\""},
    {"iprev mode not a string", "iprev: { mode = 1; };\n", 1, "iprev.mode", "wrong type"},
    {"dnsbl zones missing zone",
     "dnsbl:\n{\n  zones = (\n    { zone = \"zen.example\"; },\n    { action = \"tag\"; }\n  "
     ");\n};\n",
     5, "dnsbl.zones", "element 2: zone is missing (each group needs zone)"},
    {"dnsbl zone not a domain", "dnsbl: { zones = ( { zone = \"zen example\"; } ); };\n", 1,
     "dnsbl.zones.zone", "\"zen example\" is not a valid domain name"},
    {"dnsbl zone twice",
     "dnsbl:\n{\n  zones = ( { zone = \"zen.example\"; },\n            { zone = \"ZEN.example\"; } "
     ");\n};\n",
     4, "dnsbl.zones.zone", "element 2: \"zen.example\" is already given by an earlier element"},
    {"dnsbl bad action",
     "dnsbl: { zones = ( { zone = \"zen.example\"; action = \"tempfail\"; } ); };\n", 1,
     "dnsbl.zones.action", "unknown DNSBL action \"tempfail\" (want reject or tag)"},
    {"dnsbl action not a string",
     "dnsbl: { zones = ( { zone = \"zen.example\"; action = [ \"tag\" ]; } ); };\n", 1,
     "dnsbl.zones.action", "got a list, want a string"},
    {"dnsbl code outside 127/8",
     "dnsbl: { zones = ( { zone = \"zen.example\"; codes = [ \"127.0.0.2\", \"10.0.0.2\" ]; } ); "
     "};\n",
     1, "dnsbl.zones.codes", "element 2: \"10.0.0.2\" is not a DNSBL return code"},
    {"dnsbl code not an address",
     "dnsbl: { zones = ( { zone = \"zen.example\"; codes = [ \"127.0.0.x\" ]; } ); };\n", 1,
     "dnsbl.zones.codes", "element 1: \"127.0.0.x\" is not a DNSBL return code"},
    {"dnsbl code IPv6",
     "dnsbl: { zones = ( { zone = \"zen.example\"; codes = [ \"::1\" ]; } ); };\n", 1,
     "dnsbl.zones.codes", "is not a DNSBL return code"},
    {"dnsbl code 127.0.0.1",
     "dnsbl: { zones = ( { zone = \"zen.example\"; codes = [ \"127.0.0.1\" ]; } ); };\n", 1,
     "dnsbl.zones.codes", "\"127.0.0.1\" is an error code"},
    {"dnsbl code 127.255.255.254",
     "dnsbl: { zones = ( { zone = \"zen.example\"; codes = [ \"127.255.255.254\" ]; } ); };\n", 1,
     "dnsbl.zones.codes", "never a listing"},
    {"dnsbl codes a string",
     "dnsbl: { zones = ( { zone = \"zen.example\"; codes = \"127.0.0.2\"; } ); };\n", 1,
     "dnsbl.zones.codes", "got a string, want a list of strings"},
    {"dnsbl codes element not a string",
     "dnsbl: { zones = ( { zone = \"zen.example\"; codes = [ 2 ]; } ); };\n", 1,
     "dnsbl.zones.codes", "element 1 is an integer, want a string"},
    {"dnsbl zones unknown member",
     "dnsbl: { zones = ( { zone = \"zen.example\"; weight = \"1\"; } ); };\n", 1,
     "dnsbl.zones.weight", "unknown key (a group of dnsbl.zones holds zone, codes and action)"},
    {"dnsbl zones a list of strings", "dnsbl: { zones = [ \"zen.example\" ]; };\n", 1,
     "dnsbl.zones", "element 1 is a string, want a group { ... } of zone, codes and action"},
    {"4xx-only iprev_tempfail", "replies: { iprev_tempfail = \"550 5.7.25 x\"; };\n", 1,
     "replies.iprev_tempfail", "must be a 4xx"},
    {"dnsbl_listed class mismatch", "replies: { dnsbl_listed = \"554 4.7.1 x\"; };\n", 1,
     "replies.dnsbl_listed", "class 4 does not match"},
    {"unknown placeholder lists zone", "replies: { iprev_fail = \"550 5.7.25 %{ptr}\"; };\n", 1,
     "replies.iprev_fail", "%{identity} %{zone} %{retry})"},
    /* the new replies */
    {"4xx-only dkim_tempfail", "replies: { dkim_tempfail = \"550 5.7.5 x\"; };\n", 1,
     "replies.dkim_tempfail", "must be a 4xx"},
    {"4xx-only dmarc_tempfail", "replies:\n{\n  dmarc_tempfail = \"554 5.4.3 x\";\n};\n", 3,
     "replies.dmarc_tempfail", "must be a 4xx"},
    {"dmarc_reject class mismatch", "replies: { dmarc_reject = \"550 4.7.26 x\"; };\n", 1,
     "replies.dmarc_reject", "class 4 does not match"},
    {"from_header placeholder", "replies: { from_header = \"550 5.7.1 %{from}\"; };\n", 1,
     "replies.from_header", "unknown placeholder"},
    {"dkim_none_passing no text", "replies: { dkim_none_passing = \"550 5.7.20\"; };\n", 1,
     "replies.dkim_none_passing", "text missing"},
    {"dkim_none_aligned 2xx", "replies: { dkim_none_aligned = \"250 2.0.0 ok\"; };\n", 1,
     "replies.dkim_none_aligned", "4xx or 5xx"},
    {"dkim_none_acceptable lone percent",
     "replies: { dkim_none_acceptable = \"550 5.7.21 100% bad\"; };\n", 1,
     "replies.dkim_none_acceptable", "lone '%'"}, /* state { } */
    {"state backend unknown", "state:\n{\n  backend = \"memcached\";\n};\n", 3, "state.backend",
     "unknown state backend \"memcached\" (want lmdb or redis)"},
    {"state backend not a string", "state: { backend = 1; };\n", 1, "state.backend",
     "got an integer, want a string"},
    {"state on_failure reject", "state: { on_failure = \"reject\"; };\n", 1, "state.on_failure",
     "unknown state.on_failure value \"reject\" (want accept or tempfail)"},
    {"state lmdb path relative", "state:\n{\n  lmdb:\n  {\n    path = \"state.lmdb\";\n  };\n};\n",
     5, "state.lmdb.path", "must be an absolute path"},
    {"state lmdb path a directory", "state: { lmdb: { path = \"/var/lib/policy-milter/\"; }; };\n",
     1, "state.lmdb.path", "must name a file"},
    {"state lmdb max_size_mb 0", "state: { lmdb: { max_size_mb = 0; }; };\n", 1,
     "state.lmdb.max_size_mb", "0 out of range: want 1..1048576"},
    {"state lmdb max_size_mb too big", "state: { lmdb: { max_size_mb = 1048577; }; };\n", 1,
     "state.lmdb.max_size_mb", "out of range"},
    {"state lmdb unknown key", "state:\n{\n  lmdb: { path = \"/x\"; mapsize = 1; };\n};\n", 3,
     "state.lmdb.mapsize", "unknown key"},
    {"state redis unknown key", "state: { redis: { host = \"127.0.0.1\"; }; };\n", 1,
     "state.redis.host", "unknown key"},
    {"redis server without port", "state: { redis: { server = \"127.0.0.1\"; }; };\n", 1,
     "state.redis.server", "want host:port, [IPv6 address]:port or unix:/path"},
    {"redis server port 0", "state: { redis: { server = \"127.0.0.1:0\"; }; };\n", 1,
     "state.redis.server", "port 0 out of range 1..65535"},
    {"redis server port 65536", "state: { redis: { server = \"redis.example:65536\"; }; };\n", 1,
     "state.redis.server", "port 65536 out of range 1..65535"},
    {"redis server port not a number", "state: { redis: { server = \"redis:63x9\"; }; };\n", 1,
     "state.redis.server", "bad port \"63x9\""},
    {"redis server empty port", "state: { redis: { server = \"redis:\"; }; };\n", 1,
     "state.redis.server", "bad port"},
    {"redis server bare IPv6", "state: { redis: { server = \"::1:6379\"; }; };\n", 1,
     "state.redis.server", "an IPv6 address must be in brackets"},
    {"redis server bracketed IPv4", "state: { redis: { server = \"[192.0.2.1]:6379\"; }; };\n", 1,
     "state.redis.server", "\"192.0.2.1\" is not an IPv6 address"},
    {"redis server IPv6 without port", "state: { redis: { server = \"[::1]\"; }; };\n", 1,
     "state.redis.server", "want host:port"},
    {"redis server IPv6 unterminated", "state: { redis: { server = \"[::1:6379\"; }; };\n", 1,
     "state.redis.server", "unterminated \"[\""},
    {"redis server bad host", "state: { redis: { server = \"red is:6379\"; }; };\n", 1,
     "state.redis.server", "\"red is\" is not an IPv4 address or a host name"},
    {"redis server no host", "state: { redis: { server = \":6379\"; }; };\n", 1,
     "state.redis.server", "want host:port"},
    {"redis server unix relative", "state: { redis: { server = \"unix:redis.sock\"; }; };\n", 1,
     "state.redis.server", "unix socket path must be absolute"},
    {"redis backend, empty server",
     "state:\n{\n  backend = \"redis\";\n  redis:\n  {\n    server = \"\";\n  };\n};\n", 6,
     "state.redis.server", "state.backend is \"redis\" but state.redis.server is empty"},
    {"redis database 1001", "state: { redis: { database = 1001; }; };\n", 1, "state.redis.database",
     "1001 out of range: want 0..1000"},
    {"redis database -1", "state: { redis: { database = -1; }; };\n", 1, "state.redis.database",
     "out of range"},
    {"redis prefix with a space", "state: { redis: { prefix = \"pm \"; }; };\n", 1,
     "state.redis.prefix", "printable ASCII characters without spaces"},
    {"redis prefix too long",
     "state: { redis: { prefix = "
     "\"0123456789012345678901234567890123456789012345678901234567890123x\"; }; };\n",
     1, "state.redis.prefix", "at most 64"},
    {"redis password control character", "state: { redis: { password = \"a\\tb\"; }; };\n", 1,
     "state.redis.password", "printable ASCII"},
    {"redis username not a string", "state: { redis: { username = 1; }; };\n", 1,
     "state.redis.username", "wrong type"},
    {"redis connect_timeout_ms 0", "state: { redis: { connect_timeout_ms = 0; }; };\n", 1,
     "state.redis.connect_timeout_ms", "0 out of range: want 1..60000"},
    {"redis command_timeout_ms 60001", "state: { redis: { command_timeout_ms = 60001; }; };\n", 1,
     "state.redis.command_timeout_ms", "60001 out of range: want 1..60000"},
    {"state redis a string", "state: { redis = \"127.0.0.1:6379\"; };\n", 1, "state.redis",
     "want a group"},
    /* greylisting { } */
    {"greylisting bad mode", "greylisting: { mode = \"on\"; };\n", 1, "greylisting.mode",
     "unknown mode \"on\""},
    {"greylisting delay 0", "greylisting:\n{\n  delay = 0;\n};\n", 3, "greylisting.delay",
     "0 out of range: want 1..86400"},
    {"greylisting delay too long", "greylisting: { delay = 86401; };\n", 1, "greylisting.delay",
     "out of range"},
    {"greylisting retry_window too long", "greylisting: { retry_window = 2592001; };\n", 1,
     "greylisting.retry_window", "2592001 out of range: want 1..2592000"},
    {"greylisting lifetime too long", "greylisting: { lifetime = 34560001; };\n", 1,
     "greylisting.lifetime", "34560001 out of range: want 1..34560000"},
    {"greylisting ipv4_prefix 7", "greylisting: { ipv4_prefix = 7; };\n", 1,
     "greylisting.ipv4_prefix", "7 out of range: want 8..32"},
    {"greylisting ipv4_prefix 33", "greylisting: { ipv4_prefix = 33; };\n", 1,
     "greylisting.ipv4_prefix", "out of range"},
    {"greylisting ipv6_prefix 15", "greylisting: { ipv6_prefix = 15; };\n", 1,
     "greylisting.ipv6_prefix", "15 out of range: want 16..128"},
    {"greylisting ipv6_prefix 129", "greylisting: { ipv6_prefix = 129; };\n", 1,
     "greylisting.ipv6_prefix", "out of range"},
    {"greylisting auto_allow_after 1001", "greylisting: { auto_allow_after = 1001; };\n", 1,
     "greylisting.auto_allow_after", "1001 out of range: want 0..1000"},
    {"greylisting delay not an integer", "greylisting: { delay = \"300\"; };\n", 1,
     "greylisting.delay", "got a string, want an integer"},
    {"greylisting large_senders bad domain",
     "greylisting: { large_senders = [ \"google.com\", \"goo gle.com\" ]; };\n", 1,
     "greylisting.large_senders", "element 2: \"goo gle.com\" is not a valid domain name"},
    {"greylisting exempt_clients bad CIDR",
     "greylisting: { exempt_clients = [ \"192.0.2.0/33\" ]; };\n", 1, "greylisting.exempt_clients",
     "element 1"},
    {"greylisting exempt_clients host bits",
     "greylisting: { exempt_clients = [ \"192.0.2.1/24\" ]; };\n", 1, "greylisting.exempt_clients",
     "host bits"},
    {"greylisting exempt_recipients not an address",
     "greylisting: { exempt_recipients = [ \"sales\" ]; };\n", 1, "greylisting.exempt_recipients",
     "\"sales\" is not an address local@domain or @domain"},
    {"greylisting exempt_recipients bad catch-all",
     "greylisting: { exempt_recipients = [ \"@bad domain\" ]; };\n", 1,
     "greylisting.exempt_recipients", "not a valid catch-all"},
    {"greylisting delay equal to retry_window",
     "greylisting:\n{\n  delay = 600;\n  retry_window = 600;\n};\n", 3, "greylisting.delay",
     "greylisting.delay (600) must be shorter than greylisting.retry_window (600)"},
    {"greylisting retry_window below the default delay",
     "greylisting:\n{\n  mode = \"enforce\";\n  retry_window = 120;\n  lifetime = 120;\n};\n", 4,
     "greylisting.retry_window",
     "greylisting.delay (300) must be shorter than greylisting.retry_window (120)"},
    {"greylisting lifetime below retry_window", "greylisting:\n{\n  lifetime = 3600;\n};\n", 3,
     "greylisting.lifetime",
     "greylisting.lifetime (3600) must not be shorter than greylisting.retry_window (86400)"},
    {"greylisting lifetime and retry_window both set",
     "greylisting:\n{\n  retry_window = 7200;\n  lifetime = 3600;\n};\n", 4, "greylisting.lifetime",
     "greylisting.lifetime (3600) must not be shorter than greylisting.retry_window (7200)"},
    {"greylisting unknown key", "greylisting:\n{\n  mode = \"log\";\n  whitelist = [ ];\n};\n", 4,
     "greylisting.whitelist", "unknown key"},
    /* ratelimits */
    {"ratelimits a group", "ratelimits: { name = \"a\"; };\n", 1, "ratelimits",
     "got a group, want a list of groups"},
    {"ratelimits a list of strings", "ratelimits = [ \"per-user\" ];\n", 1, "ratelimits",
     "element 1 is a string, want a group { ... } of name, key, count, window, limit"},
    {"ratelimits rule missing key, window and limit",
     "ratelimits = (\n  { name = \"a\"; key = \"sender\"; window = 60; limit = 1; },\n"
     "  { name = \"b\"; }\n);\n",
     3, "ratelimits",
     "element 2: key and window and limit are missing (each group needs name, key, window and "
     "limit)"},
    {"ratelimits rule missing name",
     "ratelimits = ( { key = \"sender\"; window = 60; limit = 1; } );\n", 1, "ratelimits",
     "element 1: name is missing"},
    {"ratelimits window 0",
     "ratelimits = (\n  { name = \"a\"; key = \"sender\";\n    window = 0; limit = 1; }\n);\n", 3,
     "ratelimits.window", "0 out of range: want 1..2592000"},
    {"ratelimits window too long",
     "ratelimits = ( { name = \"a\"; key = \"sender\"; window = 2592001; limit = 1; } );\n", 1,
     "ratelimits.window", "2592001 out of range: want 1..2592000"},
    {"ratelimits limit 0",
     "ratelimits = (\n  { name = \"a\"; key = \"sender\"; window = 60;\n    limit = 0; }\n);\n", 3,
     "ratelimits.limit", "0 out of range: want 1..100000000"},
    {"ratelimits limit too big",
     "ratelimits = ( { name = \"a\"; key = \"sender\"; window = 60; limit = 100000001; } );\n", 1,
     "ratelimits.limit", "out of range"},
    {"ratelimits window a string",
     "ratelimits = ( { name = \"a\"; key = \"sender\"; window = \"1h\"; limit = 1; } );\n", 1,
     "ratelimits.window", "got a string, want an integer"},
    {"ratelimits duplicate name",
     "ratelimits = (\n  { name = \"per-user\"; key = \"sasl_user\"; window = 60; limit = 1; },\n"
     "  { key = \"sender\"; window = 60; limit = 1;\n    name = \"per-user\"; }\n);\n",
     4, "ratelimits.name", "element 2: \"per-user\" is already given by an earlier element"},
    {"ratelimits bad name",
     "ratelimits = ( { name = \"per user\"; key = \"sender\"; window = 60; limit = 1; } );\n", 1,
     "ratelimits.name", "\"per user\" is not a rule name"},
    {"ratelimits empty name",
     "ratelimits = ( { name = \"\"; key = \"sender\"; window = 60; limit = 1; } );\n", 1,
     "ratelimits.name", "is not a rule name"},
    {"ratelimits name too long",
     "ratelimits = ( { name = \"abcdefghijklmnopqrstuvwxyz0123456\"; key = \"sender\"; "
     "window = 60; limit = 1; } );\n",
     1, "ratelimits.name", "want 1..32 letters"},
    {"ratelimits unknown key kind",
     "ratelimits = ( { name = \"a\"; key = \"ip\"; window = 60; limit = 1; } );\n", 1,
     "ratelimits.key",
     "unknown rate-limit key \"ip\" (want client_address, client_network, sender, "
     "sender_domain, sasl_user or recipient)"},
    {"ratelimits bad count",
     "ratelimits = ( { name = \"a\"; key = \"sender\"; count = \"bytes\"; window = 60; limit = 1; "
     "} );\n",
     1, "ratelimits.count", "unknown rate-limit count \"bytes\" (want messages or recipients)"},
    {"ratelimits bad action",
     "ratelimits = ( { name = \"a\"; key = \"sender\"; window = 60; limit = 1; action = "
     "\"accept\"; } );\n",
     1, "ratelimits.action", "unknown rate-limit action \"accept\" (want tempfail, reject or log)"},
    {"ratelimits unknown member",
     "ratelimits =\n(\n  {\n    name = \"a\"; key = \"sender\"; window = 60; limit = 1;\n"
     "    burst = 5;\n  }\n);\n",
     5, "ratelimits.burst",
     "element 1: unknown key (a group of ratelimits holds name, key, count, window, limit, "
     "action, ipv4_prefix, ipv6_prefix, exempt_trusted, exempt_clients and exempt_senders)"},
    {"ratelimits unknown member in the second rule",
     "ratelimits = (\n  { name = \"a\"; key = \"sender\"; window = 60; limit = 1; },\n"
     "  { name = \"b\"; key = \"sender\"; window = 60; limit = 1;\n    period = 60; }\n);\n",
     4, "ratelimits.period", "element 2: unknown key"},
    {"ratelimits ipv4_prefix 33",
     "ratelimits = ( { name = \"a\"; key = \"client_network\"; window = 60; limit = 1; "
     "ipv4_prefix = 33; } );\n",
     1, "ratelimits.ipv4_prefix", "33 out of range: want 8..32"},
    {"ratelimits ipv6_prefix 15",
     "ratelimits = ( { name = \"a\"; key = \"client_network\"; window = 60; limit = 1; "
     "ipv6_prefix = 15; } );\n",
     1, "ratelimits.ipv6_prefix", "15 out of range: want 16..128"},
    {"ratelimits exempt_trusted a string",
     "ratelimits = ( { name = \"a\"; key = \"sender\"; window = 60; limit = 1; exempt_trusted = "
     "\"no\"; } );\n",
     1, "ratelimits.exempt_trusted", "want true or false"},
    {"ratelimits exempt_clients bad CIDR",
     "ratelimits = ( { name = \"a\"; key = \"sender\"; window = 60; limit = 1;\n"
     "  exempt_clients = [ \"192.0.2.0/24\", \"10.0.0.1/8\" ]; } );\n",
     2, "ratelimits.exempt_clients", "element 2 \"10.0.0.1/8\""},
    {"ratelimits exempt_clients a string",
     "ratelimits = ( { name = \"a\"; key = \"sender\"; window = 60; limit = 1;\n"
     "  exempt_clients = \"192.0.2.0/24\"; } );\n",
     2, "ratelimits.exempt_clients", "got a string, want a list of strings"},
    {"ratelimits exempt_senders bad",
     "ratelimits = ( { name = \"a\"; key = \"sender\"; window = 60; limit = 1;\n"
     "  exempt_senders = [ \"ok.example\", \"not a domain\" ]; } );\n",
     2, "ratelimits.exempt_senders", "element 2: \"not a domain\" is not an address or a domain"},
    {"ratelimits exempt_senders bad @domain",
     "ratelimits = ( { name = \"a\"; key = \"sender\"; window = 60; limit = 1;\n"
     "  exempt_senders = [ \"@bad_domain\" ]; } );\n",
     2, "ratelimits.exempt_senders", "\"@bad_domain\" is not an address or a domain"},
    {"ratelimits exempt_senders bad address",
     "ratelimits = ( { name = \"a\"; key = \"sender\"; window = 60; limit = 1;\n"
     "  exempt_senders = [ \"a b@example.org\" ]; } );\n",
     2, "ratelimits.exempt_senders", "is not an address local@domain"},
    /* the replies of greylisting, the rate limits and the store */
    {"4xx-only greylisted", "replies: { greylisted = \"550 5.7.1 go away\"; };\n", 1,
     "replies.greylisted", "must be a 4xx"},
    {"4xx-only ratelimit_tempfail", "replies: { ratelimit_tempfail = \"554 5.7.1 x\"; };\n", 1,
     "replies.ratelimit_tempfail", "must be a 4xx"},
    {"4xx-only state_tempfail", "replies: { state_tempfail = \"550 5.3.0 x\"; };\n", 1,
     "replies.state_tempfail", "must be a 4xx"},
    {"ratelimit_reject class mismatch", "replies: { ratelimit_reject = \"550 4.7.1 x\"; };\n", 1,
     "replies.ratelimit_reject", "class 4 does not match"},
    {"greylisted unknown placeholder",
     "replies: { greylisted = \"451 4.7.1 retry in %{delay} seconds\"; };\n", 1,
     "replies.greylisted", "unknown placeholder \"%{delay}\""},
};

/* has_error - true when errs holds an error with this line, key and message substring */
static bool has_error(const struct config_errors *errs, const char *file, int line, const char *key,
                      const char *msg)
{
	for (size_t i = 0; i < errs->n; i++) {
		const struct config_error *e = &errs->v[i];

		if (e->line == line && strcmp(e->key, key) == 0 && strcmp(e->file, file) == 0 &&
		    strstr(e->message, msg) != NULL)
			return true;
	}
	return false;
}

/* test_bad_snippets - each broken snippet is refused with the expected file:line, key, message */
static void test_bad_snippets(void **state)
{
	int failed = 0;

	(void)state;
	for (size_t i = 0; i < PM_ARRAY_LEN(bad_cases); i++) {
		const struct bad_case *c = &bad_cases[i];
		char name[32];
		const char *path;
		struct config_errors errs;
		struct policy *p;

		snprintf(name, sizeof(name), "bad%zu", i);
		path = write_conf(name, c->text);
		p = config_load(path, &errs);
		if (p != NULL || errs.n != 1 || !has_error(&errs, path, c->line, c->key, c->msg)) {
			char *t = errors_text(&errs);

			print_error("case %zu (%s): got %s and errors:%s\n  want NULL and one "
			            "error %s:%d: %s: ...%s...\n",
			            i, c->name, p != NULL ? "a policy" : "NULL", t, path, c->line,
			            c->key, c->msg);
			free(t);
			failed++;
		}
		policy_release(p);
		config_errors_free(&errs);
	}
	if (failed != 0)
		fail_msg("%d of %zu bad snippets misjudged", failed, PM_ARRAY_LEN(bad_cases));
}

/* test_many_errors - every error of a file is reported in one load, in file order */
static void test_many_errors(void **state)
{
	static const char text[] = "authserv_id = \"mx.example.org\";\n"      /* 1 */
	                           "bogus = 1;\n"                             /* 2 */
	                           "spf:\n"                                   /* 3 */
	                           "{\n"                                      /* 4 */
	                           "  temperror = \"reject\";\n"              /* 5 */
	                           "  softfail = \"tag\";\n"                  /* 6 */
	                           "  timeout = 0;\n"                         /* 7 */
	                           "};\n"                                     /* 8 */
	                           "trusted_networks = [ \"10.0.0.1/8\",\n"   /* 9 */
	                           "  \"::1/129\" ];\n"                       /* 10 */
	                           "replies: { spf_fail = \"550 4.7.1 x\";\n" /* 11 */
	                           "  nope = \"x\"; };\n";                    /* 12 */
	static const struct {
		int line;
		const char *key, *msg;
	} want[] = {
	    {2, "bogus", "unknown key"},           {5, "spf.temperror", "not allowed"},
	    {6, "spf.softfail", "unknown action"}, {7, "spf.timeout", "out of range"},
	    {9, "trusted_networks", "host bits"},  {9, "trusted_networks", "element 2"},
	    {11, "replies.spf_fail", "class"},     {12, "replies.nope", "unknown key"},
	};
	struct config_errors errs;
	const char *path = write_conf("many", text);
	struct policy *p = config_load(path, &errs);
	char *t = errors_text(&errs);

	(void)state;
	if (p != NULL)
		fail_msg("got a policy, want NULL");
	if (errs.n != PM_ARRAY_LEN(want))
		fail_msg("got %zu errors:%s\nwant %zu", errs.n, t, PM_ARRAY_LEN(want));
	for (size_t i = 0; i < PM_ARRAY_LEN(want); i++) {
		const struct config_error *e = &errs.v[i];

		if (e->line != want[i].line || strcmp(e->key, want[i].key) != 0 ||
		    strstr(e->message, want[i].msg) == NULL)
			fail_msg("error %zu: got %d %s \"%s\", want %d %s ...%s...", i, e->line,
			         e->key, e->message, want[i].line, want[i].key, want[i].msg);
	}
	free(t);
	config_errors_free(&errs);
}

/* test_dkim_dmarc_errors - every dkim, dmarc and reply error in one load, cross-checks last */
static void test_dkim_dmarc_errors(void **state)
{
	static const char text[] =
	    "dkim:\n"                                                                 /* 1 */
	    "{\n"                                                                     /* 2 */
	    "  mode = \"sometimes\";\n"                                               /* 3 */
	    "  max_signatures = 0;\n"                                                 /* 4 */
	    "  must_sign = [ \"ok.example\", \"bad domain\" ];\n"                     /* 5 */
	    "};\n"                                                                    /* 6 */
	    "dmarc:\n"                                                                /* 7 */
	    "{\n"                                                                     /* 8 */
	    "  discovery = \"psl\"; public_suffix_list = \"/nonexistent/psl.dat\";\n" /* 9 */
	    "  quarantine = \"drop\";\n"                                              /* 10 */
	    "  domain_modes = ( { domain = \"a.example\"; },\n"                       /* 11 */
	    "    { domain = \"A.example\"; mode = \"log\"; },\n"                      /* 12 */
	    "    { domain = \"a.example\"; mode = \"tag\"; } );\n"                    /* 13 */
	    "  fail_open = \"no\";\n"                                                 /* 14 */
	    "};\n"                                                                    /* 15 */
	    "replies: { dmarc_tempfail = \"550 5.4.3 x\"; };\n";                      /* 16 */
	static const struct {
		int line;
		const char *key, *msg;
	} want[] = {
	    {3, "dkim.mode", "unknown mode"},
	    {4, "dkim.max_signatures", "out of range"},
	    {5, "dkim.must_sign", "element 2"},
	    {10, "dmarc.quarantine", "unknown quarantine action"},
	    {11, "dmarc.domain_modes", "element 1: mode is missing"},
	    {13, "dmarc.domain_modes.domain", "element 3: \"a.example\" is already given"},
	    {14, "dmarc.fail_open", "want true or false"},
	    {16, "replies.dmarc_tempfail", "must be a 4xx"},
	    {9, "dmarc.public_suffix_list", "/nonexistent/psl.dat: No such file"},
	};
	struct config_errors errs;
	const char *path = write_conf("dkim-dmarc-many", text);
	struct policy *p = config_load(path, &errs);
	char *t = errors_text(&errs);

	(void)state;
	if (p != NULL)
		fail_msg("got a policy, want NULL");
	if (errs.n != PM_ARRAY_LEN(want))
		fail_msg("got %zu errors:%s\nwant %zu", errs.n, t, PM_ARRAY_LEN(want));
	for (size_t i = 0; i < PM_ARRAY_LEN(want); i++) {
		const struct config_error *e = &errs.v[i];

		if (e->line != want[i].line || strcmp(e->key, want[i].key) != 0 ||
		    strcmp(e->file, path) != 0 || strstr(e->message, want[i].msg) == NULL)
			fail_msg("error %zu: got %s:%d %s \"%s\", want %s:%d %s ...%s...", i,
			         e->file, e->line, e->key, e->message, path, want[i].line,
			         want[i].key, want[i].msg);
	}
	free(t);
	config_errors_free(&errs);
}

/* test_public_suffix_list - needed (readable, with rules) only when DMARC can run */
static void test_public_suffix_list(void **state)
{
	static const struct {
		const char *name;
		const char *text; /* @PATH@: a path in tmpdir */
		const char *file; /* written there first, or NULL: none */
		const char *want; /* error substring, or NULL: loads */
	} cases[] = {
	    {"dmarc off, list missing",
	     "dmarc: { mode = \"off\"; public_suffix_list = \"@PATH@\"; };\n", NULL, NULL},
	    {"dmarc off, domain_modes off, list missing",
	     "dmarc: { mode = \"off\"; public_suffix_list = \"@PATH@\";\n"
	     "  domain_modes = ( { domain = \"a.example\"; mode = \"off\"; } ); };\n",
	     NULL, NULL},
	    {"dmarc log, list missing",
	     "dmarc: { mode = \"log\"; discovery = \"psl\"; public_suffix_list = \"@PATH@\"; };\n",
	     NULL, "No such file or directory"},
	    {"dmarc tag, domain_modes off, list missing",
	     "dmarc: { mode = \"tag\"; discovery = \"psl\"; public_suffix_list = \"@PATH@\";\n"
	     "  domain_modes = ( { domain = \"a.example\"; mode = \"off\"; } ); };\n",
	     NULL, "No such file or directory"},
	    {"dmarc off, domain_modes enforce, list missing",
	     "dmarc: { mode = \"off\"; discovery = \"psl\"; public_suffix_list = \"@PATH@\";\n"
	     "  domain_modes = ( { domain = \"a.example\"; mode = \"enforce\"; } ); };\n",
	     NULL, "turns DMARC on for a.example"},
	    {"empty list", "dmarc: { discovery = \"psl\"; public_suffix_list = \"@PATH@\"; };\n",
	     "", "holds no rules"},
	    {"comments only", "dmarc: { discovery = \"psl\"; public_suffix_list = \"@PATH@\"; };\n",
	     "// ===BEGIN ICANN DOMAINS===\n\n   \n// nothing\n", "holds no rules"},
	    {"one rule", "dmarc: { discovery = \"psl\"; public_suffix_list = \"@PATH@\"; };\n",
	     "// x\n\ncom\n", NULL},
	    {"dmarc enforce by the tree walk, list missing",
	     "dmarc: { mode = \"enforce\"; public_suffix_list = \"@PATH@\"; };\n", NULL, NULL},
	    {"dmarc off, dkim.must_sign, list missing",
	     "dmarc: { mode = \"off\"; public_suffix_list = \"@PATH@\"; };\n"
	     "dkim: { must_sign = [ \"bank.example\" ]; };\n",
	     NULL, "dkim.must_sign needs it"},
	    {"dmarc off, dkim.must_sign, one rule",
	     "dmarc: { mode = \"off\"; public_suffix_list = \"@PATH@\"; };\n"
	     "dkim: { must_sign = [ \"bank.example\" ]; };\n",
	     "com\n", NULL},
	};
	int failed = 0;

	(void)state;
	for (size_t i = 0; i < PM_ARRAY_LEN(cases); i++) {
		char file[PATH_MAX + 32], text[2 * PATH_MAX + 512], name[32];
		struct config_errors errs;
		struct policy *p;

		snprintf(file, sizeof(file), "%s/psl-%zu.dat", tmpdir, i);
		if (cases[i].file != NULL) {
			FILE *fp = fopen(file, "w");

			if (fp == NULL)
				fail_msg("cannot create %s", file);
			fputs(cases[i].file, fp);
			fclose(fp);
		}
		fill_path(cases[i].text, file, text, sizeof(text));
		snprintf(name, sizeof(name), "psl%zu", i);
		p = config_load(write_conf(name, text), &errs);
		if (cases[i].want == NULL
		        ? p == NULL || errs.n != 0
		        : p != NULL || errs.n != 1 ||
		              strcmp(errs.v[0].key, "dmarc.public_suffix_list") != 0 ||
		              errs.v[0].line != 1 ||
		              strstr(errs.v[0].message, cases[i].want) == NULL) {
			char *t = errors_text(&errs);

			print_error("case %zu (%s): got %s and errors:%s\n  want %s%s%s\n", i,
			            cases[i].name, p != NULL ? "a policy" : "NULL", t,
			            cases[i].want == NULL ? "a policy" : "NULL and line 1 ...",
			            cases[i].want == NULL ? "" : cases[i].want,
			            cases[i].want == NULL ? "" : "...");
			free(t);
			failed++;
		} else if (p != NULL && strcmp(p->dmarc.public_suffix_list, file) != 0) {
			print_error("case %zu (%s): got path %s, want %s\n", i, cases[i].name,
			            p->dmarc.public_suffix_list, file);
			failed++;
		} else if (p != NULL && (p->psl != NULL) != (cases[i].file != NULL)) {
			/* loaded exactly when needed: a file is given only for those cases */
			print_error("case %zu (%s): got %s list, want %s\n", i, cases[i].name,
			            p->psl != NULL ? "a" : "no",
			            cases[i].file != NULL ? "one" : "none");
			failed++;
		}
		policy_release(p);
		config_errors_free(&errs);
	}
	if (failed != 0)
		fail_msg("%d of %zu cases misjudged", failed, PM_ARRAY_LEN(cases));
}

/* write_psl - the public suffix list file at path, with text */
static void write_psl(const char *path, const char *text)
{
	FILE *fp = fopen(path, "w");

	if (fp == NULL || fputs(text, fp) < 0 || fclose(fp) != 0)
		fail_msg("cannot write %s", path);
}

/*
 * test_psl_reload - the list belongs to the snapshot: a load while the
 * file is unchanged shares the current snapshot's list, a load after it
 * changed reads it again (a reload sees the change), and the older
 * snapshot keeps its own list until it is released
 */
static void test_psl_reload(void **state)
{
	char file[PATH_MAX + 32], text[2 * PATH_MAX + 256], org[256];
	struct policy *a, *b, *c;
	const char *path;

	(void)state;
	snprintf(file, sizeof(file), "%s/psl-reload.dat", tmpdir);
	write_psl(file, "com\n");
	fill_path("dmarc: { mode = \"off\"; public_suffix_list = \"@PATH@\"; };\n"
	          "dkim: { must_sign = [ \"bank.example\" ]; };\n",
	          file, text, sizeof(text));
	path = write_conf("pslreload", text);
	a = load_ok(path);
	policy_set_current(policy_hold(a));
	b = load_ok(path);
	if (a->psl == NULL || b->psl != a->psl)
		fail_msg("unchanged list: got %p and %p, want one list shared", (void *)a->psl,
		         (void *)b->psl);
	assert_true(dmarc_org_domain(b->psl, "a.b.bank.example", org, sizeof(org)));
	assert_string_equal(org, "bank.example"); /* implicit rule: "example" is a suffix */
	policy_set_current(b);                    /* what a reload does */
	write_psl(file, "com\nbank.example\n");   /* the list changes (size too) */
	c = load_ok(path);
	if (c->psl == NULL || c->psl == a->psl)
		fail_msg("changed list: got %p, want a new list (not %p)", (void *)c->psl,
		         (void *)a->psl);
	assert_true(dmarc_org_domain(c->psl, "a.b.bank.example", org, sizeof(org)));
	assert_string_equal(org, "b.bank.example");
	/* the old snapshot still answers by the list it was loaded with */
	assert_true(dmarc_org_domain(a->psl, "a.b.bank.example", org, sizeof(org)));
	assert_string_equal(org, "bank.example");
	policy_set_current(NULL);
	policy_release(a);
	policy_release(c);
	unlink(file);
}

/*
 * test_rcpt_reload - recipients.file belongs to the snapshot: a load
 * while the file is unchanged shares the current snapshot's table, a
 * load after it changed reads it again (strictly), and a table that a
 * re-read at run time took with a bad line skipped is not shared: the
 * load reads the file and refuses it, as it always did
 */
static void test_rcpt_reload(void **state)
{
	char file[PATH_MAX + 32], text[2 * PATH_MAX + 256], want[PATH_MAX + 64];
	struct config_errors errs;
	struct policy *a, *b, *c;
	struct pm_addr addr;
	const char *path, *why;

	(void)state;
	snprintf(file, sizeof(file), "%s/rcpt-reload.txt", tmpdir);
	write_psl(file, "bob@example.org\n");
	fill_path("recipients: { domains = [ \"example.org\" ]; file = \"@PATH@\"; };\n", file,
	          text, sizeof(text));
	path = write_conf("rcptreload", text);
	a = load_ok(path);
	assert_non_null(a->recipients.file_table);
	policy_set_current(policy_hold(a));
	b = load_ok(path);
	if (b->recipients.file_table != a->recipients.file_table)
		fail_msg("unchanged file: got %p and %p, want one table shared",
		         (void *)a->recipients.file_table, (void *)b->recipients.file_table);
	policy_release(b);

	write_psl(file, "bob@example.org\ncarol@example.org\n"); /* changed (size too) */
	c = load_ok(path);
	if (c->recipients.file_table == a->recipients.file_table)
		fail_msg("changed file: got the old table, want a new one");
	addr_parse("<carol@example.org>", 19, 0, &addr, &why);
	assert_int_equal(rcpt_lookup(&c->recipients, ADDR_OK, &addr, &why), RCPT_VALID);
	policy_release(c);

	/* a re-read at run time skips a bad line; a load then refuses the file */
	write_psl(file, "bob@example.org\nbad line\n");
	ft_set_recheck_ms(a->recipients.file_table, 0);
	addr_parse("<bob@example.org>", 17, 0, &addr, &why);
	assert_int_equal(rcpt_lookup(&a->recipients, ADDR_OK, &addr, &why), RCPT_VALID);
	c = config_load(path, &errs);
	snprintf(want, sizeof(want), "cannot use recipients file: %s:2: ", file);
	if (c != NULL || errs.n != 1 || strncmp(errs.v[0].message, want, strlen(want)) != 0)
		fail_msg("bad line: got %s, %zu errors (%s), want NULL and \"%s...\"",
		         c ? "a policy" : "NULL", errs.n, errs.n ? errs.v[0].message : "", want);
	config_errors_free(&errs);
	policy_set_current(NULL);
	policy_release(a);
	unlink(file);
}

/* key_seen - config_keys callback: add the key to a strbuf, one a line */
static void key_seen(const char *dotted_key, void *arg)
{
	sb_appendf(arg, "%s\n", dotted_key);
}

/* want_key - fail when the key (built from prefix, name, suffix) is not among keys */
static void want_key(const char *keys, const char *prefix, const char *name, const char *suffix)
{
	char line[200];

	snprintf(line, sizeof(line), "\n%s%s%s\n", prefix, name, suffix);
	if (strstr(keys, line) == NULL)
		fail_msg("key table: no key %s%s%s, want one for each name of the name table",
		         prefix, name, suffix);
}

/*
 * test_table_names - the key table names what the name tables name: an
 * overrides key per check (pm_check_name), a lists group per list kind
 * (list_kind_name), a replies key per reply (pm_reply_name)
 */
static void test_table_names(void **state)
{
	struct strbuf keys;

	(void)state;
	sb_init(&keys);
	sb_append(&keys, "\n");
	config_keys(key_seen, &keys);
	for (int c = 0; c < PM_CHECKS; c++)
		want_key(keys.s, "overrides.", pm_check_name((enum pm_check)c), "");
	for (int k = 0; k < PM_LIST_KINDS; k++) {
		want_key(keys.s, "lists.", list_kind_name((enum list_kind)k), ".allow");
		want_key(keys.s, "lists.", list_kind_name((enum list_kind)k), ".block_file");
	}
	for (int r = 0; r < PM_R_COUNT; r++)
		want_key(keys.s, "replies.", pm_reply_name((enum pm_reply_id)r), "");
	sb_free(&keys);
}

#define BIG_LINES 200000 /* lines of the big recipients and list files */

/* write_big - path with BIG_LINES lines "<before>N<after>", and extra after them */
static void write_big(const char *path, const char *before, const char *after, const char *extra)
{
	FILE *fp = fopen(path, "w");

	if (fp == NULL)
		fail_msg("cannot write %s", path);
	for (int i = 0; i < BIG_LINES; i++)
		fprintf(fp, "%s%d%s\n", before, i, after);
	if (fputs(extra, fp) < 0 || fclose(fp) != 0)
		fail_msg("cannot write %s", path);
}

/*
 * test_big_reload - a reload that changes neither a 200,000-line
 * recipients file nor a 200,000-line list file keeps the tables built
 * before (the same objects, not read again); once each file changed, the
 * next reload reads it and its new entries are seen
 */
static void test_big_reload(void **state)
{
	char rfile[PATH_MAX + 32], lfile[PATH_MAX + 32], text[4 * PATH_MAX + 256],
	    tmpl[4 * PATH_MAX + 256];
	const struct filetable *ra, *la;
	struct policy *a, *b, *c;
	struct pm_addr addr;
	const char *path, *why;

	(void)state;
	snprintf(rfile, sizeof(rfile), "%s/big-rcpt.txt", tmpdir);
	snprintf(lfile, sizeof(lfile), "%s/big-helo.txt", tmpdir);
	write_big(rfile, "user", "@example.org", "");
	write_big(lfile, "host", ".example.net", "");
	snprintf(tmpl, sizeof(tmpl),
	         "recipients: { domains = [ \"example.org\" ]; file = \"%s\"; };\n"
	         "lists: { helo: { block_file = \"@PATH@\"; }; };\n",
	         rfile);
	fill_path(tmpl, lfile, text, sizeof(text));
	path = write_conf("bigreload", text);
	a = load_ok(path);
	ra = a->recipients.file_table;
	la = list_file_table(a->lists[LIST_HELO].block_list);
	assert_non_null(ra);
	assert_non_null(la);
	policy_set_current(policy_hold(a));

	b = load_ok(path);
	if (b->recipients.file_table != ra)
		fail_msg("unchanged recipients file: got table %p, want %p (shared)",
		         (void *)b->recipients.file_table, (const void *)ra);
	if (list_file_table(b->lists[LIST_HELO].block_list) != la)
		fail_msg("unchanged list file: got table %p, want %p (shared)",
		         (const void *)list_file_table(b->lists[LIST_HELO].block_list),
		         (const void *)la);
	policy_set_current(b); /* a is now held by this test alone */

	write_big(rfile, "user", "@example.org", "newcomer@example.org\n");
	write_big(lfile, "host", ".example.net", "added.example.net\n");
	c = load_ok(path);
	if (c->recipients.file_table == ra || list_file_table(c->lists[LIST_HELO].block_list) == la)
		fail_msg("changed files: got the tables read before, want new ones");
	addr_parse("<newcomer@example.org>", 22, 0, &addr, &why);
	assert_int_equal(rcpt_lookup(&c->recipients, ADDR_OK, &addr, &why), RCPT_VALID);
	addr_parse("<user199999@example.org>", 24, 0, &addr, &why);
	assert_int_equal(rcpt_lookup(&c->recipients, ADDR_OK, &addr, &why), RCPT_VALID);
	assert_true(list_match(c->lists[LIST_HELO].block_list, "added.example.net", NULL));
	assert_true(list_match(c->lists[LIST_HELO].block_list, "host199999.example.net", NULL));
	policy_set_current(NULL);
	policy_release(a);
	policy_release(c);
	unlink(rfile);
	unlink(lfile);
}

/* test_e2e_conf - the end-to-end tests' policy loads with its dkim and dmarc groups */
static void test_e2e_conf(void **state)
{
	char path[PATH_MAX], lists[PATH_MAX + 2];
	struct strbuf sb;
	struct policy *p;
	char *text;
	const char *t, *at;

	(void)state;
	/* run.sh copies its list files to /run/policy-milter/lists/: read them where they are */
	text = read_all(src_path(path, sizeof(path), "tests/e2e/policy.conf"));
	if (text == NULL)
		fail_msg("cannot read %s", path);
	if (realpath(src_path(path, sizeof(path), "tests/e2e/lists"), lists) == NULL)
		fail_msg("cannot resolve %s", path);
	strcat(lists, "/");
	sb_init(&sb);
	for (t = text; (at = strstr(t, "/run/policy-milter/lists/")) != NULL; t = at + 25) {
		sb_appendn(&sb, t, (size_t)(at - t));
		sb_append(&sb, lists);
	}
	sb_append(&sb, t);
	p = load_ok(write_conf("e2e", sb.s));
	sb_free(&sb);
	free(text);
	mismatches = 0;
	want_int("dry_run", p->dry_run, false);
	want_int("lists.client.block", p->lists[LIST_CLIENT].block_list != NULL, 1);
	want_int("lists.helo.block_file: one entry",
	         (long)list_size(p->lists[LIST_HELO].block_list), 1);
	want_int("lists.sender.block_file: one entry",
	         (long)list_size(p->lists[LIST_SENDER].block_list), 1);
	want_int("lists.client.allow_file: two entries",
	         (long)list_size(p->lists[LIST_CLIENT].allow_list), 2);
	want_int("dkim.mode", p->dkim.mode, PM_MODE_ENFORCE);
	want_strv("dkim.must_sign", p->dkim.must_sign, p->dkim.nmust_sign, "mustsign.test");
	want_int("dmarc.mode", p->dmarc.mode, PM_MODE_ENFORCE);
	want_int("dmarc.quarantine", p->dmarc.quarantine, PM_QUARANTINE_TAG);
	want_int("spf.softfail", p->spf.action[PM_SPF_SOFTFAIL], PM_ACT_ACCEPT);
	want_int("recipients.max_recipients", p->recipients.max_recipients, 4);
	want_int("dnsbl.mode", p->dnsbl.mode, PM_MODE_ENFORCE);
	want_dnsbl_zones(&p->dnsbl, "bl.dnsbl.test=127.0.0.2,127.0.0.4/reject tag.dnsbl.test=/tag");
	want_int("iprev.mode", p->iprev.mode, PM_MODE_TAG);
	if (mismatches != 0)
		fail_msg("%d field(s) differ", mismatches);
	policy_release(p);
}

/* emit_first - keep the first printed line */
static void emit_first(const char *line, void *arg)
{
	char *buf = arg;

	if (buf[0] == '\0')
		snprintf(buf, 512, "%s", line);
}

/* test_errors_print - "file:line: key: message"; "file:line: message" without a key */
static void test_errors_print(void **state)
{
	static const struct {
		const char *text, *want_suffix;
	} cases[] = {
	    {"\nspf: { mode = \"sometimes\"; };\n",
	     ".conf:2: spf.mode: unknown mode \"sometimes\" (want off, log, tag or enforce)"},
	    {"a = ;\n", ".conf:1: syntax error"},
	};
	(void)state;
	for (size_t i = 0; i < PM_ARRAY_LEN(cases); i++) {
		struct config_errors errs;
		char name[32], got[512] = "", want[PATH_MAX + 600];
		const char *path;

		snprintf(name, sizeof(name), "print%zu", i);
		path = write_conf(name, cases[i].text);
		policy_release(config_load(path, &errs));
		config_errors_print(&errs, emit_first, got);
		snprintf(want, sizeof(want), "%s/%s%s", tmpdir, name, cases[i].want_suffix);
		config_errors_free(&errs);
		if (strcmp(got, want) != 0)
			fail_msg("case %zu: got \"%s\", want \"%s\"", i, got, want);
	}
}

/* test_missing_file - a file that cannot be opened is one error naming it */
static void test_missing_file(void **state)
{
	struct config_errors errs;
	char path[PATH_MAX + 32];
	struct policy *p;

	(void)state;
	snprintf(path, sizeof(path), "%s/does-not-exist.conf", tmpdir);
	p = config_load(path, &errs);
	if (p != NULL || errs.n != 1 || strcmp(errs.v[0].file, path) != 0 ||
	    strstr(errs.v[0].message, "No such file") == NULL) {
		char *t = errors_text(&errs);

		fail_msg("got %s, errors:%s\nwant NULL and \"%s: cannot open: No such file...\"",
		         p ? "a policy" : "NULL", t, path);
	}
	config_errors_free(&errs);
}

/* test_values - values given in the file are converted and normalised */
static void test_values(void **state)
{
	static const char text[] =
	    "authserv_id = \"mail.example.net\";\n"
	    "milter: { socket = \"inet6:10025@[::1]\"; socket_mode = \"0600\"; socket_owner = "
	    "\"root\";\n"
	    "  socket_group = \"\"; user = \"\"; group = \"mail\"; pid_file = \"\";\n"
	    "  timeout = 3600; backlog = 1; drain_timeout = 0; on_internal_error = \"accept\"; };\n"
	    "trusted_networks = ( \"192.0.2.0/24\", \"2001:DB8::/32\", \"198.51.100.7\" );\n"
	    "client_block: { mode = \"log\"; networks = [ \"::ffff:203.0.113.0/120\" ]; };\n"
	    "spf: { mode = \"tag\"; helo_mode = \"off\"; softfail = \"tempfail\"; none = "
	    "\"reject\";\n"
	    "  temperror = \"accept\"; receiver = \"spf.example.net\"; max_void_lookups = 0; };\n"
	    "sender_domain: { mode = \"log\"; };\n"
	    "recipients: { domains = [ \"Example.ORG\", \"sub.example.org\" ];\n"
	    "  addresses = [ \"Alice@Example.ORG\", \"@Example.NET\" ];\n"
	    "  detail_separators = \"\"; max_recipients = 0; max_unknown = 0;\n"
	    "  max_messages_per_connection = 5; delay_sender_refusals = false;\n"
	    "  exempt_from_sender_checks = [ \"abuse\", \"Hostmaster@Example.ORG\", \"a.b\" ]; };\n"
	    "log: { syslog_facility = \"local3\"; syslog_ident = \"pm\";\n"
	    "  json_file = \"/var/log/policy milter/decisions.json\"; };\n"
	    "dkim: { mode = \"enforce\"; max_signatures = 50; allow_l = true; min_key_bits = "
	    "2048;\n"
	    "  must_sign = [ \"PayPal.example\", \"bank.example\" ]; };\n"
	    "headers: { singletons = \"enforce\"; };\n"
	    "arc: { mode = \"enforce\"; trusted_sealers = [ \"Lists.Example\", \"groups.example\" "
	    "];\n"
	    "  max_sets = 10; };\n"
	    "dmarc: { mode = \"log\"; public_suffix_list = \"@PATH@\";\n"
	    "  quarantine = \"hold\"; quarantine_header = \"X-Spam-Flag\"; fail_open = true;\n"
	    "  spf_fail_at_mail = true; never_enforce = [ \"Lists.Example\" ];\n"
	    "  always_reject = [ \"bank.example\", \"gov.example\" ];\n"
	    "  display_name_exempt = [ \"Groups.Example\", \"lists.example\" ];\n"
	    "  domain_modes = ( { domain = \"Hosted.Example\"; mode = \"off\"; },\n"
	    "                   { mode = \"tag\"; domain = \"sub.hosted.example\"; } ); };\n"
	    "replies: { spf_fail = \"421 4.7.0 %{ip} 100%% try %{helo}\";\n"
	    "  sender_null_mx = \"550 5.7.27 %{domain} sends no mail\";\n"
	    "  from_header = \"554 5.7.1 One author please (%{result})\";\n"
	    "  dkim_tempfail = \"421 4.7.5 later\"; dmarc_reject = \"450 4.7.26 not now\";\n"
	    "  dnsbl_listed = \"550 5.7.1 %{ip} is in %{zone} (%{result})\"; };\n"
	    "dnsbl: { mode = \"log\"; zones = (\n"
	    "  { zone = \"Zen.Example\"; codes = [ \"127.0.0.2\", \"127.0.0.10\" ]; action = "
	    "\"reject\"; },\n"
	    "  { action = \"tag\"; zone = \"any.example\"; codes = [ ]; },\n"
	    "  { zone = \"defaults.example\"; } ); };\n"
	    "iprev: { mode = \"enforce\"; };\n";
	char conf[2 * PATH_MAX + sizeof(text)];
	struct policy *p;

	(void)state;
	fill_path(text, psl_path, conf, sizeof(conf));
	p = load_ok(write_conf("values", conf));
	mismatches = 0;
	want_str("authserv_id", p->authserv_id, "mail.example.net");
	want_str("milter.socket", p->milter.socket, "inet6:10025@[::1]");
	want_int("milter.socket_mode", (long)p->milter.socket_mode, 0600);
	want_str("milter.socket_owner", p->milter.socket_owner, "root");
	want_str("milter.socket_group", p->milter.socket_group, NULL);
	want_str("milter.user", p->milter.user, NULL);
	want_str("milter.group", p->milter.group, "mail");
	want_str("milter.pid_file", p->milter.pid_file, NULL);
	want_int("milter.timeout", p->milter.timeout, 3600);
	want_int("milter.backlog", p->milter.backlog, 1);
	want_int("milter.drain_timeout", p->milter.drain_timeout, 0);
	want_int("milter.on_internal_error", p->milter.on_internal_error, PM_ACT_ACCEPT);
	want_cidrs("trusted_networks", &p->trusted_networks,
	           "192.0.2.0/24 2001:db8::/32 198.51.100.7/32");
	want_int("client_block.mode", p->client_block.mode, PM_MODE_LOG);
	want_cidrs("client_block.networks", &p->client_block.networks, "203.0.113.0/24");
	want_int("spf.mode", p->spf.mode, PM_MODE_TAG);
	want_int("spf.helo_mode", p->spf.helo_mode, PM_MODE_OFF);
	want_int("spf.softfail", p->spf.action[PM_SPF_SOFTFAIL], PM_ACT_TEMPFAIL);
	want_int("spf.none", p->spf.action[PM_SPF_NONE], PM_ACT_REJECT);
	want_int("spf.temperror", p->spf.action[PM_SPF_TEMPERROR], PM_ACT_ACCEPT);
	want_int("spf.fail (default)", p->spf.action[PM_SPF_FAIL], PM_ACT_REJECT);
	want_int("spf.max_void_lookups", p->spf.max_void_lookups, 0);
	want_str("spf.receiver", p->spf.receiver, "spf.example.net");
	want_int("sender_domain.mode", p->sender_domain.mode, PM_MODE_LOG);
	want_strv("recipients.domains", p->recipients.domains, p->recipients.ndomains,
	          "example.org sub.example.org");
	want_strv("recipients.addresses", p->recipients.addresses, p->recipients.naddresses,
	          "Alice@example.org @example.net");
	want_str("recipients.detail_separators", p->recipients.detail_separators, "");
	want_int("recipients.max_recipients", p->recipients.max_recipients, 0);
	want_int("recipients.max_unknown", p->recipients.max_unknown, 0);
	want_int("recipients.max_messages_per_connection", p->recipients.max_messages, 5);
	want_int("recipients.delay_sender_refusals", p->recipients.delay_sender_refusals, false);
	want_strv("recipients.exempt_from_sender_checks", p->recipients.exempt,
	          p->recipients.nexempt, "abuse Hostmaster@example.org a.b");
	want_int("log.syslog_facility", p->log.syslog_facility, LOG_LOCAL3);
	want_str("log.syslog_ident", p->log.syslog_ident, "pm");
	want_str("log.json_file", p->log.json_file, "/var/log/policy milter/decisions.json");
	want_int("replies.spf_fail code", p->replies[PM_R_SPF_FAIL].code, 421);
	want_str("replies.spf_fail xcode", p->replies[PM_R_SPF_FAIL].xcode, "4.7.0");
	want_str("replies.spf_fail text", p->replies[PM_R_SPF_FAIL].text,
	         "%{ip} 100%% try %{helo}");
	want_int("replies.sender_null_mx code", p->replies[PM_R_SENDER_NULL_MX].code, 550);
	want_str("replies.sender_null_mx text", p->replies[PM_R_SENDER_NULL_MX].text,
	         "%{domain} sends no mail");
	want_str("replies.sender_syntax (default)", p->replies[PM_R_SENDER_SYNTAX].text,
	         "Bad sender address syntax");
	want_int("dkim.mode", p->dkim.mode, PM_MODE_ENFORCE);
	want_int("dkim.max_signatures", p->dkim.max_signatures, 50);
	want_int("dkim.allow_l", p->dkim.allow_l, true);
	want_int("dkim.min_key_bits", p->dkim.min_key_bits, 2048);
	want_int("headers.singletons", p->headers.singletons, PM_MODE_ENFORCE);
	want_int("arc.mode", p->arc.mode, PM_MODE_ENFORCE);
	want_strv("arc.trusted_sealers", p->arc.trusted_sealers, p->arc.ntrusted_sealers,
	          "lists.example groups.example");
	want_int("arc.max_sets", p->arc.max_sets, 10);
	want_strv("dkim.must_sign", p->dkim.must_sign, p->dkim.nmust_sign,
	          "paypal.example bank.example");
	want_int("dmarc.mode", p->dmarc.mode, PM_MODE_LOG);
	want_str("dmarc.public_suffix_list", p->dmarc.public_suffix_list, psl_path);
	want_int("dmarc.quarantine", p->dmarc.quarantine, PM_QUARANTINE_HOLD);
	want_str("dmarc.quarantine_header", p->dmarc.quarantine_header, "X-Spam-Flag");
	want_int("dmarc.fail_open", p->dmarc.fail_open, true);
	want_int("dmarc.spf_fail_at_mail", p->dmarc.spf_fail_at_mail, true);
	want_strv("dmarc.never_enforce", p->dmarc.never_enforce, p->dmarc.nnever_enforce,
	          "lists.example");
	want_strv("dmarc.always_reject", p->dmarc.always_reject, p->dmarc.nalways_reject,
	          "bank.example gov.example");
	want_strv("dmarc.display_name_exempt", p->dmarc.display_name_exempt,
	          p->dmarc.ndisplay_name_exempt, "groups.example lists.example");
	want_domain_modes(&p->dmarc, "hosted.example=off sub.hosted.example=tag");
	want_int("replies.from_header code", p->replies[PM_R_FROM_HEADER].code, 554);
	want_str("replies.from_header xcode", p->replies[PM_R_FROM_HEADER].xcode, "5.7.1");
	want_str("replies.from_header text", p->replies[PM_R_FROM_HEADER].text,
	         "One author please (%{result})");
	want_int("replies.dkim_tempfail code", p->replies[PM_R_DKIM_TEMPFAIL].code, 421);
	want_str("replies.dkim_tempfail text", p->replies[PM_R_DKIM_TEMPFAIL].text, "later");
	want_int("replies.dmarc_reject code", p->replies[PM_R_DMARC_REJECT].code, 450);
	want_str("replies.dmarc_reject xcode", p->replies[PM_R_DMARC_REJECT].xcode, "4.7.26");
	want_str("replies.dmarc_tempfail (default)", p->replies[PM_R_DMARC_TEMPFAIL].xcode,
	         "4.4.3");
	want_int("dnsbl.mode", p->dnsbl.mode, PM_MODE_LOG);
	want_dnsbl_zones(&p->dnsbl, "zen.example=127.0.0.2,127.0.0.10/reject any.example=/tag "
	                            "defaults.example=/reject");
	want_int("iprev.mode", p->iprev.mode, PM_MODE_ENFORCE);
	want_int("replies.dnsbl_listed code", p->replies[PM_R_DNSBL_LISTED].code, 550);
	want_str("replies.dnsbl_listed text", p->replies[PM_R_DNSBL_LISTED].text,
	         "%{ip} is in %{zone} (%{result})");
	want_str("replies.iprev_tempfail (default)", p->replies[PM_R_IPREV_TEMPFAIL].xcode,
	         "4.7.25");
	if (mismatches != 0)
		fail_msg("%d field(s) differ", mismatches);
	policy_release(p);
}

/* want_rule - report a rate-limit rule that differs (its rule text is checked apart) */
static void want_rule(const struct ratelimit_rule *r, const char *name, enum rl_key key,
                      enum rl_count count, int window, int limit, enum rl_action action, int v4,
                      int v6, bool exempt_trusted, const char *clients, const char *senders)
{
	char what[96];

	snprintf(what, sizeof(what), "ratelimits %s: name", name);
	want_str(what, r->name, name);
	snprintf(what, sizeof(what), "ratelimits %s: key", name);
	want_int(what, r->key, key);
	snprintf(what, sizeof(what), "ratelimits %s: count", name);
	want_int(what, r->count, count);
	snprintf(what, sizeof(what), "ratelimits %s: window", name);
	want_int(what, r->window, window);
	snprintf(what, sizeof(what), "ratelimits %s: limit", name);
	want_int(what, r->limit, limit);
	snprintf(what, sizeof(what), "ratelimits %s: action", name);
	want_int(what, r->action, action);
	snprintf(what, sizeof(what), "ratelimits %s: ipv4_prefix", name);
	want_int(what, r->ipv4_prefix, v4);
	snprintf(what, sizeof(what), "ratelimits %s: ipv6_prefix", name);
	want_int(what, r->ipv6_prefix, v6);
	snprintf(what, sizeof(what), "ratelimits %s: exempt_trusted", name);
	want_int(what, r->exempt_trusted, exempt_trusted);
	snprintf(what, sizeof(what), "ratelimits %s: exempt_clients", name);
	want_cidrs(what, &r->exempt_clients, clients);
	snprintf(what, sizeof(what), "ratelimits %s: exempt_senders", name);
	want_strv(what, r->exempt_senders, r->nexempt_senders, senders);
}

/*
 * test_state_values - a full state, greylisting and ratelimits setup
 * (Redis, two rules: one with every member, one with only the required
 * ones) loads with every value as written, normalised, and the defaults
 * of the members left out
 */
/* test_metrics_values - metrics.* off by default; a public address allowed when asked */
static void test_metrics_values(void **state)
{
	struct policy *p = load_ok(write_conf("metrics-default", "authserv_id = \"mx.test\";\n"));

	(void)state;
	assert_null(p->metrics.listen);
	assert_false(p->metrics.allow_public);
	policy_release(p);
	p = load_ok(write_conf("metrics-public", "metrics: { listen = \"inet:9187@192.0.2.1\"; "
	                                         "allow_public = true; };\n"));
	assert_string_equal(p->metrics.listen, "inet:9187@192.0.2.1");
	assert_true(p->metrics.allow_public);
	policy_release(p);
	p = load_ok(
	    write_conf("metrics-loopback", "metrics: { listen = \"inet:9187@127.0.0.1\"; };\n"));
	assert_string_equal(p->metrics.listen, "inet:9187@127.0.0.1");
	policy_release(p);
	p = load_ok(
	    write_conf("metrics-unix", "metrics: { listen = \"unix:/run/pm/metrics.sock\"; };\n"));
	assert_string_equal(p->metrics.listen, "unix:/run/pm/metrics.sock");
	policy_release(p);
}

static void test_state_values(void **state)
{
	static const char text[] =
	    "state:\n"
	    "{\n"
	    "  backend = \"redis\"; on_failure = \"tempfail\";\n"
	    "  lmdb: { path = \"/srv/pm/state.mdb\"; max_size_mb = 1048576; };\n"
	    "  redis: { server = \"[2001:DB8::6]:6380\"; username = \"milter\";\n"
	    "    password = \"s3cret pass\"; database = 1000; prefix = \"mx{eu}:\";\n"
	    "    connect_timeout_ms = 1; command_timeout_ms = 60000; };\n"
	    "};\n"
	    "greylisting:\n"
	    "{\n"
	    "  mode = \"enforce\"; delay = 1; retry_window = 2592000; lifetime = 34560000;\n"
	    "  ipv4_prefix = 32; ipv6_prefix = 128; auto_allow_after = 0;\n"
	    "  large_senders = [ \"Google.COM\", \"outlook.com\" ];\n"
	    "  exempt_clients = [ \"192.0.2.0/24\", \"2001:DB8::/32\" ];\n"
	    "  exempt_recipients = [ \"Sales@Example.ORG\", \"@Support.Example.ORG\" ];\n"
	    "};\n"
	    "ratelimits = (\n"
	    "  { name = \"per-user\"; key = \"sasl_user\"; count = \"recipients\"; window = 3600;\n"
	    "    limit = 100000000; action = \"reject\"; ipv4_prefix = 8; ipv6_prefix = 16;\n"
	    "    exempt_trusted = false; exempt_clients = [ \"198.51.100.7\", \"::1\" ];\n"
	    "    exempt_senders = [ \"Boss@Example.ORG\", \"@Partner.Example\", \"Lists.Example\" "
	    "]; },\n"
	    "  { limit = 1; window = 1; key = \"client_network\"; name = \"Net_24.v2\"; }\n"
	    ");\n";
	static const char *const key_names[] = {"client_address", "client_network", "sender",
	                                        "sender_domain",  "sasl_user",      "recipient"};
	struct policy *p = load_ok(write_conf("state-values", text));
	const struct state_settings *st = &p->state;
	const struct greylist_settings *g = &p->greylist;

	(void)state;
	mismatches = 0;
	want_int("state.backend", st->backend, STATE_REDIS);
	want_int("state.on_failure", st->on_failure, STATE_FAIL_TEMPFAIL);
	want_str("state.lmdb.path", st->lmdb_path, "/srv/pm/state.mdb");
	want_int("state.lmdb.max_size_mb", st->lmdb_max_mb, 1048576);
	want_str("state.redis.server", st->redis_server, "[2001:DB8::6]:6380");
	want_str("state.redis.username", st->redis_username, "milter");
	want_str("state.redis.password", st->redis_password, "s3cret pass");
	want_int("state.redis.database", st->redis_database, 1000);
	want_str("state.redis.prefix", st->redis_prefix, "mx{eu}:");
	want_int("state.redis.connect_timeout_ms", st->redis_connect_timeout_ms, 1);
	want_int("state.redis.command_timeout_ms", st->redis_command_timeout_ms, 60000);
	want_int("greylisting.mode", g->mode, PM_MODE_ENFORCE);
	want_int("greylisting.delay", g->delay, 1);
	want_int("greylisting.retry_window", g->retry_window, 2592000);
	want_int("greylisting.lifetime", g->lifetime, 34560000);
	want_int("greylisting.ipv4_prefix", g->ipv4_prefix, 32);
	want_int("greylisting.ipv6_prefix", g->ipv6_prefix, 128);
	want_int("greylisting.auto_allow_after", g->auto_allow_after, 0);
	want_strv("greylisting.large_senders", g->large_senders, g->nlarge_senders,
	          "google.com outlook.com");
	want_cidrs("greylisting.exempt_clients", &g->exempt_clients, "192.0.2.0/24 2001:db8::/32");
	want_strv("greylisting.exempt_recipients", g->exempt_recipients, g->nexempt_recipients,
	          "Sales@example.org @support.example.org");
	want_int("ratelimits", (long)p->ratelimit.nrules, 2);
	if (p->ratelimit.nrules == 2) {
		want_rule(&p->ratelimit.rules[0], "per-user", RL_KEY_SASL_USER, RL_COUNT_RECIPIENTS,
		          3600, 100000000, RL_ACT_REJECT, 8, 16, false, "198.51.100.7/32 ::1/128",
		          "Boss@example.org partner.example lists.example");
		want_str("ratelimits per-user: rule", p->ratelimit.rules[0].rule,
		         "ratelimits.per-user");
		want_rule(&p->ratelimit.rules[1], "Net_24.v2", RL_KEY_CLIENT_NET, RL_COUNT_MESSAGES,
		          1, 1, RL_ACT_TEMPFAIL, 24, 48, true, "", "");
		want_str("ratelimits Net_24.v2: rule", p->ratelimit.rules[1].rule,
		         "ratelimits.Net_24.v2");
	}
	policy_release(p);
	if (mismatches != 0)
		fail_msg("%d field(s) differ from the file", mismatches);

	/* every key kind by its name, in the enum's order */
	for (size_t i = 0; i < PM_ARRAY_LEN(key_names); i++) {
		char conf[256];

		snprintf(conf, sizeof(conf),
		         "ratelimits = ( { name = \"r\"; key = \"%s\"; window = 60; limit = 5; "
		         "count = \"messages\"; action = \"log\"; } );\n",
		         key_names[i]);
		p = load_ok(write_conf("state-key", conf));
		if (p->ratelimit.nrules != 1 || p->ratelimit.rules[0].key != (enum rl_key)i ||
		    p->ratelimit.rules[0].action != RL_ACT_LOG ||
		    p->ratelimit.rules[0].count != RL_COUNT_MESSAGES)
			fail_msg("key \"%s\": got %zu rules, key %d action %d, want 1, %zu, %d",
			         key_names[i], p->ratelimit.nrules,
			         p->ratelimit.nrules ? (int)p->ratelimit.rules[0].key : -1,
			         p->ratelimit.nrules ? (int)p->ratelimit.rules[0].action : -1, i,
			         RL_ACT_LOG);
		policy_release(p);
	}
}

/*
 * test_state_servers - every form of state.redis.server that loads, and
 * an empty one with backend lmdb (nothing needs it); backend redis loads
 * with its default server
 */
static void test_state_servers(void **state)
{
	static const char *const good[] = {
	    "127.0.0.1:6379", "redis.example.org:1",        "localhost:65535",
	    "[::1]:6379",     "unix:/run/redis/redis.sock", "",
	};
	struct policy *p;

	(void)state;
	for (size_t i = 0; i < PM_ARRAY_LEN(good); i++) {
		char conf[256];

		snprintf(conf, sizeof(conf), "state: { redis: { server = \"%s\"; }; };\n", good[i]);
		p = load_ok(write_conf("state-server", conf));
		mismatches = 0;
		want_str("state.redis.server", p->state.redis_server, good[i]);
		policy_release(p);
		if (mismatches != 0)
			fail_msg("server \"%s\" changed on load", good[i]);
	}
	p = load_ok(write_conf("state-redis", "state: { backend = \"redis\"; };\n"));
	mismatches = 0;
	want_int("state.backend", p->state.backend, STATE_REDIS);
	want_str("state.redis.server", p->state.redis_server, "127.0.0.1:6379");
	policy_release(p);
	if (mismatches != 0)
		fail_msg("backend redis with the default server");
}

/*
 * test_ratelimit_max - 32 rules load; a 33rd (and each one after it) is
 * an error at its own line, naming it
 */
static void test_ratelimit_max(void **state)
{
	struct config_errors errs;
	struct strbuf sb;
	struct policy *p;
	const char *path;
	char *t;

	(void)state;
	sb_init(&sb);
	sb_append(&sb, "ratelimits = (\n"); /* line 1 */
	for (int i = 1; i <= PM_RATELIMIT_RULES_MAX; i++)
		sb_appendf(&sb,
		           "%s  { name = \"r%d\"; key = \"sender\"; window = 60; limit = %d; }\n",
		           i > 1 ? "," : "", i, i); /* line i + 1 */
	sb_append(&sb, ");\n");
	p = load_ok(write_conf("rl-32", sb.s));
	if (p->ratelimit.nrules != PM_RATELIMIT_RULES_MAX ||
	    strcmp(p->ratelimit.rules[31].rule, "ratelimits.r32") != 0 ||
	    p->ratelimit.rules[31].limit != 32)
		fail_msg("32 rules: got %zu, want %d ending in r32", p->ratelimit.nrules,
		         PM_RATELIMIT_RULES_MAX);
	policy_release(p);

	sb_reset(&sb);
	sb_append(&sb, "ratelimits = (\n");
	for (int i = 1; i <= PM_RATELIMIT_RULES_MAX + 2; i++)
		sb_appendf(&sb,
		           "%s  { name = \"r%d\"; key = \"sender\"; window = 60; limit = %d; }\n",
		           i > 1 ? "," : "", i, i);
	sb_append(&sb, ");\n");
	path = write_conf("rl-34", sb.s);
	p = config_load(path, &errs);
	t = errors_text(&errs);
	if (p != NULL || errs.n != 2 ||
	    !has_error(&errs, path, 34, "ratelimits",
	               "element 33 (rule \"r33\"): too many rules: at most 32") ||
	    !has_error(&errs, path, 35, "ratelimits", "element 34 (rule \"r34\")"))
		fail_msg("34 rules: got %s and errors:%s\nwant NULL and errors at lines 34 and 35",
		         p != NULL ? "a policy" : "NULL", t);
	free(t);
	config_errors_free(&errs);
	sb_free(&sb);
}

/*
 * test_state_errors - errors of state, greylisting and ratelimits all
 * reported in one load, each at its file:line, the checks spanning
 * several keys after the values; a rule with an error is dropped
 * whole (its CIDR list and strings freed: the ASan build checks it)
 */
static void test_state_errors(void **state)
{
	static const char text[] =
	    "state:\n"                                                            /* 1 */
	    "{\n"                                                                 /* 2 */
	    "  backend = \"redis\";\n"                                            /* 3 */
	    "  lmdb: { path = \"relative/state.lmdb\"; };\n"                      /* 4 */
	    "  redis: { server = \"\"; database = 16000; };\n"                    /* 5 */
	    "};\n"                                                                /* 6 */
	    "greylisting:\n"                                                      /* 7 */
	    "{\n"                                                                 /* 8 */
	    "  delay = 3600;\n"                                                   /* 9 */
	    "  retry_window = 1800;\n"                                            /* 10 */
	    "  lifetime = 900;\n"                                                 /* 11 */
	    "  ipv6_prefix = 8;\n"                                                /* 12 */
	    "};\n"                                                                /* 13 */
	    "ratelimits = (\n"                                                    /* 14 */
	    "  { name = \"ok\"; key = \"sender\"; window = 60; limit = 5;\n"      /* 15 */
	    "    exempt_clients = [ \"192.0.2.0/24\" ];\n"                        /* 16 */
	    "    exempt_senders = [ \"a.example\" ];\n"                           /* 17 */
	    "    burst = 1; },\n"                                                 /* 18 */
	    "  { name = \"zero\"; key = \"sender\"; window = 0; limit = 5;\n"     /* 19 */
	    "    exempt_clients = [ \"192.0.2.0/24\" ];\n"                        /* 20 */
	    "    exempt_senders = [ \"b.example\" ]; },\n"                        /* 21 */
	    "  { name = \"ok\"; key = \"recipient\"; window = 60; limit = 5; }\n" /* 22 */
	    ");\n";                                                               /* 23 */
	static const struct {
		int line;
		const char *key, *msg;
	} want[] = {
	    {4, "state.lmdb.path", "must be an absolute path"},
	    {5, "state.redis.database", "16000 out of range"},
	    {12, "greylisting.ipv6_prefix", "8 out of range"},
	    {18, "ratelimits.burst", "element 1: unknown key"},
	    {19, "ratelimits.window", "0 out of range"},
	    {5, "state.redis.server", "state.backend is \"redis\" but state.redis.server is empty"},
	    {9, "greylisting.delay", "(3600) must be shorter than greylisting.retry_window (1800)"},
	    {11, "greylisting.lifetime", "(900) must not be shorter than greylisting.retry_window"},
	};
	struct config_errors errs;
	const char *path = write_conf("state-many", text);
	struct policy *p = config_load(path, &errs);
	char *t = errors_text(&errs);

	(void)state;
	if (p != NULL)
		fail_msg("got a policy, want NULL");
	if (errs.n != PM_ARRAY_LEN(want))
		fail_msg("got %zu errors:%s\nwant %zu", errs.n, t, PM_ARRAY_LEN(want));
	for (size_t i = 0; i < PM_ARRAY_LEN(want); i++) {
		const struct config_error *e = &errs.v[i];

		if (e->line != want[i].line || strcmp(e->key, want[i].key) != 0 ||
		    strcmp(e->file, path) != 0 || strstr(e->message, want[i].msg) == NULL)
			fail_msg("error %zu: got %s:%d %s \"%s\", want %s:%d %s ...%s...", i,
			         e->file, e->line, e->key, e->message, path, want[i].line,
			         want[i].key, want[i].msg);
	}
	free(t);
	config_errors_free(&errs);
}

/*
 * test_conf_ratelimits_example - the commented-out ratelimits example of
 * the default policy file ("#   ratelimits = (" to "#   );") loads, with
 * its two rules
 */
static void test_conf_ratelimits_example(void **state)
{
	char conf[PATH_MAX];
	char *text = read_all(src_path(conf, sizeof(conf), "conf/policy-milter.conf"));
	const char *start, *end;
	struct strbuf sb;
	struct policy *p;

	(void)state;
	if (text == NULL)
		fail_msg("cannot read %s", conf);
	start = strstr(text, "\n#   ratelimits = (\n");
	end = start != NULL ? strstr(start, "\n#   );\n") : NULL;
	if (end == NULL)
		fail_msg("%s: got no \"#   ratelimits = (\" ... \"#   );\" example, want one",
		         conf);
	sb_init(&sb);
	for (const char *l = start + 1; l <= end + 1;) {
		const char *eol = strchr(l, '\n');

		if (strncmp(l, "#   ", 4) != 0)
			fail_msg("%s: example line \"%.*s\" does not start with \"#   \"", conf,
			         (int)(eol - l), l);
		sb_appendn(&sb, l + 4, (size_t)(eol + 1 - l - 4));
		l = eol + 1;
	}
	p = load_ok(write_conf("conf-ratelimits", sb.s));
	if (p->ratelimit.nrules != 2)
		fail_msg("the example: got %zu rules, want 2", p->ratelimit.nrules);
	policy_release(p);
	sb_free(&sb);
	free(text);
}

/* test_sample_files - tests/conf/good/ all load; tests/conf/bad/ each give the error they expect */
static void test_sample_files(void **state)
{
	static const char *const kinds[] = {"good", "bad"};
	int checked = 0, failed = 0;

	(void)state;
	for (size_t k = 0; k < PM_ARRAY_LEN(kinds); k++) {
		char dir[PATH_MAX], rel[64];
		struct dirent *de;
		DIR *d;

		snprintf(rel, sizeof(rel), "tests/conf/%s", kinds[k]);
		if ((d = opendir(src_path(dir, sizeof(dir), rel))) == NULL)
			fail_msg("cannot open %s", dir);
		while ((de = readdir(d)) != NULL) {
			char path[PATH_MAX + 256], key[128] = "", msg[256] = "";
			struct config_errors errs;
			struct policy *p;
			int line = 0;
			char *text;

			if (strlen(de->d_name) < 6 ||
			    strcmp(de->d_name + strlen(de->d_name) - 5, ".conf") != 0)
				continue;
			snprintf(path, sizeof(path), "%s/%s", dir, de->d_name);
			checked++;
			p = config_load(path, &errs);
			if (k == 0) {
				if (p == NULL) {
					char *t = errors_text(&errs);

					print_error("%s: got errors:%s\nwant none\n", path, t);
					free(t);
					failed++;
				}
			} else if ((text = read_all(path)) == NULL ||
			           sscanf(text, "# expect: %d %127s %255[^\n]", &line, key, msg) !=
			               3) {
				print_error("%s: first line must be \"# expect: LINE KEY TEXT\"\n",
				            path);
				failed++;
				free(text);
			} else {
				if (strcmp(key, "-") == 0)
					key[0] = '\0';
				if (p != NULL || !has_error(&errs, path, line, key, msg)) {
					char *t = errors_text(&errs);

					print_error("%s: got errors:%s\nwant %d %s ...%s...\n",
					            path, t, line, key, msg);
					free(t);
					failed++;
				}
				free(text);
			}
			policy_release(p);
			config_errors_free(&errs);
		}
		closedir(d);
	}
	if (checked < 3)
		fail_msg("got %d sample files, want at least 3", checked);
	if (failed != 0)
		fail_msg("%d of %d sample files misjudged", failed, checked);
}

/* test_refcount - hold/release counts; set_current/acquire hand out references */
static void test_refcount(void **state)
{
	struct policy *a, *b, *got;
	const char *path = write_conf("rc", "spf: { mode = \"log\"; };\n");

	(void)state;
	if (policy_acquire() != NULL)
		fail_msg("policy_acquire before any set: got a policy, want NULL");
	a = load_ok(path);
	b = load_ok(path);
	if (b->generation <= a->generation)
		fail_msg("generation: got %u then %u, want increasing", a->generation,
		         b->generation);
	if (policy_hold(a) != a || a->refcount != 2)
		fail_msg("policy_hold: got refcount %d, want 2", a->refcount);
	policy_release(a);
	if (a->refcount != 1)
		fail_msg("policy_release: got refcount %d, want 1", a->refcount);

	policy_set_current(a); /* our reference moves in */
	got = policy_acquire();
	if (got != a || a->refcount != 2)
		fail_msg("acquire: got %p refcount %d, want %p refcount 2", (void *)got,
		         got ? got->refcount : 0, (void *)a);

	policy_set_current(b); /* a loses the current's reference, keeps ours */
	if (a->refcount != 1)
		fail_msg("after swap: old snapshot refcount got %d, want 1 (held by a session)",
		         a->refcount);
	if (a->spf.mode != PM_MODE_LOG)
		fail_msg("old snapshot after swap: got spf.mode %d, want %d", a->spf.mode,
		         PM_MODE_LOG);
	got = policy_acquire();
	if (got != b || b->refcount != 2)
		fail_msg("acquire after swap: got %p refcount %d, want %p refcount 2", (void *)got,
		         got ? got->refcount : 0, (void *)b);
	policy_release(got);
	policy_release(a); /* the last reference: freed (ASan checks) */

	policy_set_current(NULL); /* releases b */
	if (policy_acquire() != NULL)
		fail_msg("after set_current(NULL): got a policy, want NULL");
	policy_release(NULL); /* harmless */
}

/* swapper - acquire and release the current snapshot many times */
static void *swapper(void *arg)
{
	(void)arg;
	for (int i = 0; i < 20000; i++) {
		struct policy *p = policy_acquire();

		if (p == NULL || p->replies[PM_R_SPF_FAIL].text == NULL)
			return (void *)1;
		policy_release(p);
	}
	return NULL;
}

/* test_concurrent_swap - sessions acquire and release while the current snapshot changes */
static void test_concurrent_swap(void **state)
{
	const char *path = write_conf("swap", "");
	pthread_t t[4];
	int bad = 0;

	(void)state;
	policy_set_current(load_ok(path));
	for (size_t i = 0; i < PM_ARRAY_LEN(t); i++)
		pthread_create(&t[i], NULL, swapper, NULL);
	for (int i = 0; i < 50; i++)
		policy_set_current(load_ok(path));
	for (size_t i = 0; i < PM_ARRAY_LEN(t); i++) {
		void *rv;

		pthread_join(t[i], &rv);
		bad += rv != NULL;
	}
	policy_set_current(NULL);
	if (bad != 0)
		fail_msg("got %d threads that saw no or a freed snapshot, want 0", bad);
}

/* test_names - the name tables */
static void test_names(void **state)
{
	static const char *const want[] = {
	    "off",
	    "log",
	    "tag",
	    "enforce",
	    "accept",
	    "reject",
	    "tempfail",
	    "unchecked",
	    "none",
	    "neutral",
	    "pass",
	    "fail",
	    "softfail",
	    "temperror",
	    "permerror",
	    "client_blocked",
	    "internal_error",
	    "from_header",
	    "dkim_none_passing",
	    "dkim_none_acceptable",
	    "dkim_none_aligned",
	    "dkim_tempfail",
	    "dmarc_reject",
	    "dmarc_tempfail",
	    "dnsbl_listed",
	    "iprev_fail",
	    "iprev_tempfail",
	    "unchecked",
	    "pass",
	    "fail",
	    "permerror",
	    "temperror",
	};
	const char *got[PM_ARRAY_LEN(want)] = {
	    pm_mode_name(PM_MODE_OFF),
	    pm_mode_name(PM_MODE_LOG),
	    pm_mode_name(PM_MODE_TAG),
	    pm_mode_name(PM_MODE_ENFORCE),
	    pm_action_name(PM_ACT_ACCEPT),
	    pm_action_name(PM_ACT_REJECT),
	    pm_action_name(PM_ACT_TEMPFAIL),
	    pm_spf_result_name(PM_SPF_UNCHECKED),
	    pm_spf_result_name(PM_SPF_NONE),
	    pm_spf_result_name(PM_SPF_NEUTRAL),
	    pm_spf_result_name(PM_SPF_PASS),
	    pm_spf_result_name(PM_SPF_FAIL),
	    pm_spf_result_name(PM_SPF_SOFTFAIL),
	    pm_spf_result_name(PM_SPF_TEMPERROR),
	    pm_spf_result_name(PM_SPF_PERMERROR),
	    pm_reply_name(PM_R_CLIENT_BLOCKED),
	    pm_reply_name(PM_R_INTERNAL_ERROR),
	    pm_reply_name(PM_R_FROM_HEADER),
	    pm_reply_name(PM_R_DKIM_NONE_PASSING),
	    pm_reply_name(PM_R_DKIM_NONE_ACCEPTABLE),
	    pm_reply_name(PM_R_DKIM_NONE_ALIGNED),
	    pm_reply_name(PM_R_DKIM_TEMPFAIL),
	    pm_reply_name(PM_R_DMARC_REJECT),
	    pm_reply_name(PM_R_DMARC_TEMPFAIL),
	    pm_reply_name(PM_R_DNSBL_LISTED),
	    pm_reply_name(PM_R_IPREV_FAIL),
	    pm_reply_name(PM_R_IPREV_TEMPFAIL),
	    pm_iprev_result_name(PM_IPREV_UNCHECKED),
	    pm_iprev_result_name(PM_IPREV_PASS),
	    pm_iprev_result_name(PM_IPREV_FAIL),
	    pm_iprev_result_name(PM_IPREV_PERMERROR),
	    pm_iprev_result_name(PM_IPREV_TEMPERROR),
	};

	(void)state;
	for (size_t i = 0; i < PM_ARRAY_LEN(want); i++)
		if (strcmp(got[i], want[i]) != 0)
			fail_msg("case %zu: got \"%s\", want \"%s\"", i, got[i], want[i]);
	for (int r = 0; r < PM_R_COUNT; r++)
		if (strcmp(pm_reply_name((enum pm_reply_id)r), "unknown") == 0)
			fail_msg("pm_reply_name(%d): got \"unknown\", want a key name", r);
	if (strcmp(pm_spf_result_name(PM_SPF_NRESULTS), "unknown") != 0)
		fail_msg("pm_spf_result_name(out of range): got \"%s\", want \"unknown\"",
		         pm_spf_result_name(PM_SPF_NRESULTS));
}

/* write_text - a file name in the private directory, holding text; its path in buf */
static const char *write_text(const char *name, const char *text, char *buf, size_t size)
{
	FILE *fp;

	if ((size_t)snprintf(buf, size, "%s/%s", tmpdir, name) >= size)
		fail_msg("path too long: %s/%s", tmpdir, name);
	fp = fopen(buf, "w");
	if (fp == NULL)
		fail_msg("cannot create %s", buf);
	fputs(text, fp);
	fclose(fp);
	return buf;
}

/*
 * test_lists - the lists are built at load from inline entries and files
 * and match; a bad line of a list file is an error at that file's line; a
 * snapshot frees its lists (ASan)
 */
static void test_lists(void **state)
{
	char allow[PATH_MAX + 64], block[PATH_MAX + 64], conf[4 * PATH_MAX];
	struct config_errors errs;
	struct list_hit hit;
	struct pm_ip ip;
	struct policy *p;
	const char *path;

	(void)state;
	write_text("sender-allow.txt", "# partners\npartner.example\n\n.friends.example  # below\n",
	           allow, sizeof(allow));
	write_text("helo-block.txt", "bad.example\n[192.0.2.9]\n", block, sizeof(block));
	snprintf(conf, sizeof(conf),
	         "dry_run = true;\n"
	         "lists: {\n"
	         "  client: { allow = [ \"192.0.2.0/24\" ]; block = [ \"192.0.2.66\" ]; };\n"
	         "  client_name: { block = [ \".bad.example\" ]; };\n"
	         "  helo: { block_file = \"%s\"; };\n"
	         "  sender: { allow_file = \"%s\"; allow = [ \"Boss@Example.ORG\" ]; };\n"
	         "  recipient: { block = [ \"abuse@\" ]; allow = [ ]; };\n"
	         "};\n",
	         block, allow);
	path = write_conf("lists", conf);
	p = config_load(path, &errs);
	if (p == NULL) {
		char *t = errors_text(&errs);

		fail_msg("lists: got errors%s, want a policy", t);
	}
	assert_true(p->dry_run);
	assert_int_equal(pm_ip_parse("192.0.2.66", &ip), 0);
	assert_true(list_match_ip(p->lists[LIST_CLIENT].block_list, &ip, &hit));
	assert_true(list_match_ip(p->lists[LIST_CLIENT].allow_list, &ip, NULL));
	assert_int_equal(pm_ip_parse("198.51.100.1", &ip), 0);
	assert_false(list_match_ip(p->lists[LIST_CLIENT].allow_list, &ip, NULL));
	assert_true(list_match(p->lists[LIST_CLIENT_NAME].block_list, "mx.bad.example", NULL));
	assert_false(list_match(p->lists[LIST_CLIENT_NAME].block_list, "bad.example", NULL));
	assert_null(p->lists[LIST_CLIENT_NAME].allow_list);
	assert_true(list_match(p->lists[LIST_HELO].block_list, "[192.0.2.9]", &hit));
	assert_true(hit.in_file);
	assert_int_equal(hit.line, 2);
	assert_string_equal(hit.source, block);
	assert_true(list_match(p->lists[LIST_SENDER].allow_list, "<x@partner.example>", NULL));
	assert_true(list_match(p->lists[LIST_SENDER].allow_list, "x@a.friends.example", NULL));
	assert_true(list_match(p->lists[LIST_SENDER].allow_list, "boss@example.org", &hit));
	assert_false(hit.in_file);
	assert_string_equal(hit.source, "lists.sender.allow");
	assert_false(list_match(p->lists[LIST_SENDER].allow_list, "x@friends.example", NULL));
	assert_true(list_match(p->lists[LIST_RECIPIENT].block_list, "abuse@example.net", NULL));
	assert_null(p->lists[LIST_RECIPIENT].allow_list); /* empty: no list */
	assert_null(p->lists[LIST_SENDER].block_list);
	policy_release(p);

	/* a bad line in a list file: FILE:LINE of the list file, the *_file key */
	write_text("helo-bad.txt", "good.example\n\nbad..example\n", block, sizeof(block));
	snprintf(conf, sizeof(conf), "lists: { helo: { block_file = \"%s\"; }; };\n", block);
	path = write_conf("lists-bad", conf);
	p = config_load(path, &errs);
	if (p != NULL || errs.n != 1 ||
	    !has_error(&errs, block, 3, "lists.helo.block_file", "bad..example")) {
		char *t = errors_text(&errs);

		print_error("got %s and errors:%s\n  want %s:3: lists.helo.block_file\n",
		            p ? "a policy" : "NULL", t, block);
		free(t);
		policy_release(p);
		config_errors_free(&errs);
		fail();
	}
	config_errors_free(&errs);
}

/* mkdir_mode - a directory in tmpdir with exactly mode; its path into buf */
static const char *mkdir_mode(const char *name, mode_t mode, char *buf, size_t size)
{
	if ((size_t)snprintf(buf, size, "%s/%s", tmpdir, name) >= size)
		fail_msg("path too long: %s/%s", tmpdir, name);
	if (mkdir(buf, 0700) != 0 || chmod(buf, mode) != 0)
		fail_msg("cannot make %s with mode %04o", buf, (unsigned)mode);
	return buf;
}

/*
 * test_unsafe_files - list files, the recipients file and the public
 * suffix list anyone could change, and a socket directory anyone can
 * write, are refused at their keys, together
 */
static void test_unsafe_files(void **state)
{
	char ww[PATH_MAX + 64], inopen[PATH_MAX + 64], insticky[PATH_MAX + 64];
	char rcpt[PATH_MAX + 64], psl[PATH_MAX + 64], open[PATH_MAX + 64], sticky[PATH_MAX + 64];
	char safe[PATH_MAX + 64], conf[8 * PATH_MAX], want[3 * PATH_MAX + 400];
	struct config_errors errs;
	struct policy *p;
	const char *path;

	(void)state;
	mkdir_mode("open", 0777, open, sizeof(open));
	mkdir_mode("sticky", 01777, sticky, sizeof(sticky));
	mkdir_mode("safe", 0755, safe, sizeof(safe));
	write_text("ww-list.txt", "spam.example\n", ww, sizeof(ww));
	write_text("open/list.txt", "spam.example\n", inopen, sizeof(inopen));
	write_text("sticky/list.txt", "spam.example\n", insticky, sizeof(insticky));
	write_text("ww-rcpt.txt", "bob@example.org\n", rcpt, sizeof(rcpt));
	write_text("ww-psl.dat", "com\n", psl, sizeof(psl));
	if (chmod(ww, 0666) != 0 || chmod(rcpt, 0646) != 0 || chmod(psl, 0666) != 0)
		fail_msg("chmod failed");
	snprintf(
	    conf, sizeof(conf),
	    "milter: { socket = \"unix:%s/milter.sock\"; };\n"
	    "lists: {\n"
	    "  helo: { block_file = \"%s\"; };\n"
	    "  sender: { block_file = \"%s\"; allow_file = \"%s\"; };\n"
	    "};\n"
	    "recipients: { domains = [ \"example.org\" ]; file = \"%s\"; };\n"
	    "dmarc: { mode = \"enforce\"; discovery = \"psl\"; public_suffix_list = \"%s\"; };\n",
	    sticky, ww, inopen, insticky, rcpt, psl);
	path = write_conf("unsafe", conf);
	p = config_load(path, &errs);
	if (p != NULL || errs.n != 5) {
		char *t = errors_text(&errs);

		print_error("got %s and %zu errors:%s\n  want NULL and 5\n",
		            p ? "a policy" : "NULL", errs.n, t);
		free(t);
		policy_release(p);
		config_errors_free(&errs);
		fail();
	}
	snprintf(want, sizeof(want), "socket directory %s is world-writable (mode 1777)", sticky);
	assert_true(has_error(&errs, path, 1, "milter.socket", want));
	snprintf(want, sizeof(want),
	         "%s: unsafe permissions: the file is world-writable (mode 0666): anyone could "
	         "change it",
	         ww);
	assert_true(has_error(&errs, path, 3, "lists.helo.block_file", want));
	snprintf(want, sizeof(want),
	         "%s: unsafe permissions: its directory %s is world-writable without the sticky "
	         "bit (mode 0777)",
	         inopen, open);
	assert_true(has_error(&errs, path, 4, "lists.sender.block_file", want));
	snprintf(want, sizeof(want),
	         "cannot use recipients file: %s: unsafe permissions: the file is world-writable "
	         "(mode 0646)",
	         rcpt);
	assert_true(has_error(&errs, path, 6, "recipients.file", want));
	snprintf(want, sizeof(want),
	         "cannot use the public suffix list: %s: unsafe permissions: the file is "
	         "world-writable (mode 0666)",
	         psl);
	assert_true(has_error(&errs, path, 7, "dmarc.public_suffix_list", want));
	config_errors_free(&errs);

	/* made safe (the socket in a directory only root writes): it loads */
	if (chmod(ww, 0644) != 0 || chmod(open, 0755) != 0 || chmod(rcpt, 0640) != 0 ||
	    chmod(psl, 0644) != 0)
		fail_msg("chmod failed");
	snprintf(conf, sizeof(conf),
	         "milter: { socket = \"unix:%s/milter.sock\"; };\n"
	         "lists: {\n"
	         "  helo: { block_file = \"%s\"; };\n"
	         "  sender: { block_file = \"%s\"; allow_file = \"%s\"; };\n"
	         "};\n"
	         "recipients: { domains = [ \"example.org\" ]; file = \"%s\"; };\n"
	         "dmarc: { mode = \"enforce\"; public_suffix_list = \"%s\"; };\n",
	         safe, ww, inopen, insticky, rcpt, psl);
	path = write_conf("safe", conf);
	p = config_load(path, &errs);
	if (p == NULL) {
		char *t = errors_text(&errs);

		fail_msg("made safe: got errors%s, want a policy", t);
	}
	assert_true(list_match(p->lists[LIST_SENDER].allow_list, "<x@spam.example>", NULL));
	policy_release(p);
}

/*
 * test_fifo_files - a FIFO named as recipients.file, the public suffix list
 * or a list file (fuzz regression: the load blocked in open() waiting for
 * a writer): each an error at its key, "not a regular file", at once;
 * SIGALRM ends the test if a load blocks
 */
static void test_fifo_files(void **state)
{
	char fifo[PATH_MAX + 16], conf[3 * PATH_MAX + 400], want[PATH_MAX + 200];
	struct config_errors errs;
	struct policy *p;
	const char *path;
	char *t;

	(void)state;
	snprintf(fifo, sizeof(fifo), "%s/fifo", tmpdir);
	assert_int_equal(mkfifo(fifo, 0600), 0);
	snprintf(
	    conf, sizeof(conf),
	    "recipients: { domains = [ \"example.org\" ]; file = \"%s\"; };\n"
	    "dmarc: { mode = \"enforce\"; discovery = \"psl\"; public_suffix_list = \"%s\"; };\n"
	    "lists: { helo: { block_file = \"%s\"; }; };\n",
	    fifo, fifo, fifo);
	path = write_conf("fifo", conf);
	alarm(10);
	p = config_load(path, &errs);
	alarm(0);
	t = errors_text(&errs);
	if (p != NULL || errs.n != 3)
		fail_msg("got %zu errors%s, want 3", errs.n, t);
	snprintf(want, sizeof(want), "cannot use recipients file: %s: not a regular file", fifo);
	if (strstr(t, want) == NULL)
		fail_msg("got%s, want \"%s\"", t, want);
	snprintf(want, sizeof(want), "cannot use the public suffix list: %s: not a regular file",
	         fifo);
	if (strstr(t, want) == NULL)
		fail_msg("got%s, want \"%s\"", t, want);
	if (strstr(t, "lists.helo.block_file: ") == NULL || strstr(t, "not a regular file") == NULL)
		fail_msg("got%s, want lists.helo.block_file: ... not a regular file", t);
	free(t);
	config_errors_free(&errs);
	unlink(fifo);
}

/*
 * test_include_not_reg - @include naming a directory or a FIFO (fuzz
 * regression: libconfig's scanner called exit(), "input in flex scanner
 * failed", or blocked in fopen()); SIGALRM ends the test if a load blocks,
 * and an exit() ends it too
 */
static void test_include_not_reg(void **state)
{
#define TEXT(x) x, sizeof(x) - 1
	static const struct {
		const char *text; /* the policy file (NULs kept) */
		size_t len;
		int line;
		const char *want; /* substring of the one error; @PATH@ is tmpdir */
	} cases[] = {
	    {TEXT("@include \".\"\n"), 1, "@include \".\": @PATH@/.: not a regular file"},
	    {TEXT("dry_run = true;\n@include \"\"\n"), 2,
	     "@include \"\": @PATH@/: not a regular file"},
	    {TEXT("  @include \"incdir\"\n"), 1,
	     "@include \"incdir\": @PATH@/incdir: not a regular"},
	    {TEXT("@include \"\\.\"\n"), 1, "@include \".\": @PATH@/.: not a regular file"},
	    {TEXT("@include \"incfifo\"\n"), 1,
	     "@include \"incfifo\": @PATH@/incfifo: not a regular"},
	    /* libconfig reads past a NUL in a comment, and so must the check */
	    {TEXT("# a\0comment\n@include \"nested.inc\"\n"), 2, "@include \".\": @PATH@/.: not a"},
	    {TEXT("@include \"missing.inc\"\n"), 1, "cannot open include file"},
	};
#undef TEXT
	char path[PATH_MAX + 16], want[2 * PATH_MAX + 200];
	struct config_errors errs;
	struct policy *p;
	FILE *fp;

	(void)state;
	snprintf(path, sizeof(path), "%s/incdir", tmpdir);
	assert_int_equal(mkdir(path, 0755), 0);
	snprintf(path, sizeof(path), "%s/incfifo", tmpdir);
	assert_int_equal(mkfifo(path, 0600), 0);
	snprintf(path, sizeof(path), "%s/nested.inc", tmpdir);
	assert_non_null(fp = fopen(path, "w"));
	fputs("dry_run = true;\n@include \".\"\n", fp);
	assert_int_equal(fclose(fp), 0);
	write_conf("good", "dry_run = true;\n");

	for (size_t i = 0; i < PM_ARRAY_LEN(cases); i++) {
		const char *conf = write_conf("inc", "");
		char *t;

		assert_non_null(fp = fopen(conf, "w"));
		assert_int_equal(fwrite(cases[i].text, 1, cases[i].len, fp), cases[i].len);
		assert_int_equal(fclose(fp), 0);
		alarm(10);
		p = config_load(conf, &errs);
		alarm(0);
		fill_path(cases[i].want, tmpdir, want, sizeof(want));
		t = errors_text(&errs);
		/* the nested case's error is in nested.inc, at its line 2 */
		if (p != NULL || errs.n != 1 || errs.v[0].line != cases[i].line ||
		    strstr(t, want) == NULL)
			fail_msg("case %zu: got %zu errors%s, want one at line %d holding \"%s\"",
			         i, errs.n, t, cases[i].line, want);
		free(t);
		config_errors_free(&errs);
	}

	/* a good @include still loads */
	p = config_load(write_conf("inc", "@include \"good.conf\"\n"), &errs);
	if (p == NULL || !p->dry_run)
		fail_msg("@include \"good.conf\": got %s, want a policy with dry_run",
		         p ? "no dry_run" : "errors");
	policy_release(p);
	config_errors_free(&errs);
}

/*
 * test_policy_not_reg - the policy file itself a directory or a FIFO:
 * one error "not a regular file", at once (libconfig would exit() on the
 * directory and block on the FIFO)
 */
static void test_policy_not_reg(void **state)
{
	char path[PATH_MAX + 16];
	struct config_errors errs;
	struct policy *p;

	(void)state;
	snprintf(path, sizeof(path), "%s/notreg-dir", tmpdir);
	assert_int_equal(mkdir(path, 0755), 0);
	snprintf(path, sizeof(path), "%s/notreg-fifo", tmpdir);
	assert_int_equal(mkfifo(path, 0600), 0);
	for (int k = 0; k < 2; k++) {
		snprintf(path, sizeof(path), "%s/%s", tmpdir,
		         k == 0 ? "notreg-dir" : "notreg-fifo");
		alarm(10);
		p = config_load(path, &errs);
		alarm(0);
		if (p != NULL || errs.n != 1 ||
		    strstr(errs.v[0].message, "not a regular file") == NULL)
			fail_msg("%s as the policy file: want one \"not a regular file\" error",
			         path);
		config_errors_free(&errs);
	}
}

/* setup - a private directory for the snippets */
static int setup(void **state)
{
	FILE *fp;

	(void)state;
	if (tmpdir_make("test_config", tmpdir, sizeof(tmpdir)) != 0)
		return -1;
	snprintf(psl_path, sizeof(psl_path), "%s/psl.dat", tmpdir);
	if ((fp = fopen(psl_path, "w")) == NULL)
		return -1;
	fputs("// a public suffix list for the tests\n\n// ===BEGIN ICANN DOMAINS===\nexample\n"
	      "*.ck\n!www.ck\n",
	      fp);
	return fclose(fp) == 0 ? 0 : -1;
}

/* teardown - remove the snippets */
static int teardown(void **state)
{
	(void)state;
	return tmpdir_remove(tmpdir);
}

/* main - run every test */
int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_default_conf),
	    cmocka_unit_test(test_empty_conf),
	    cmocka_unit_test(test_keys_documented),
	    cmocka_unit_test(test_bad_snippets),
	    cmocka_unit_test(test_metrics_values),
	    cmocka_unit_test(test_many_errors),
	    cmocka_unit_test(test_errors_print),
	    cmocka_unit_test(test_missing_file),
	    cmocka_unit_test(test_values),
	    cmocka_unit_test(test_sample_files),
	    cmocka_unit_test(test_refcount),
	    cmocka_unit_test(test_concurrent_swap),
	    cmocka_unit_test(test_names),
	    cmocka_unit_test(test_dkim_dmarc_errors),
	    cmocka_unit_test(test_public_suffix_list),
	    cmocka_unit_test(test_psl_reload),
	    cmocka_unit_test(test_e2e_conf),
	    cmocka_unit_test(test_lists),
	    cmocka_unit_test(test_unsafe_files),
	    cmocka_unit_test(test_fifo_files),
	    cmocka_unit_test(test_include_not_reg),
	    cmocka_unit_test(test_policy_not_reg),
	    cmocka_unit_test(test_rcpt_reload),
	    cmocka_unit_test(test_big_reload),
	    cmocka_unit_test(test_table_names),
	    cmocka_unit_test(test_state_values),
	    cmocka_unit_test(test_state_servers),
	    cmocka_unit_test(test_ratelimit_max),
	    cmocka_unit_test(test_state_errors),
	    cmocka_unit_test(test_conf_ratelimits_example),
	};

	return cmocka_run_group_tests_name("config", tests, setup, teardown);
}
