/*
 * NAME
 *	config 3 - read and validate the policy file into a snapshot
 * SYNOPSIS
 *	#include "config.h"
 *
 *	struct policy *config_load(const char *path, struct config_errors *errs);
 *	void config_errors_print(const struct config_errors *errs,
 *		void (*emit)(const char *line, void *arg), void *arg);
 *	void config_errors_free(struct config_errors *errs);
 *	void config_keys(void (*fn)(const char *dotted_key, void *arg), void *arg);
 * DESCRIPTION
 *	One table (settings[] below) lists every key the policy file may
 *	hold: its dotted name, its type, its default (written the way the
 *	file would write it), its limits or validator, and the field of
 *	struct policy it fills. Parsing, defaults and validation are all
 *	driven by that table, Postfix style: a key absent from the file
 *	gets its default through the same conversion and checks as a value
 *	read from the file.
 *
 *	config_load() walks the libconfig tree; every setting must name a
 *	table entry (an unknown key at any level is an error) of a matching
 *	type. Every string is copied into the snapshot, so the libconfig
 *	tree is destroyed before config_load() returns.
 *
 *	A list of groups (CT_GROUPLIST, such as dmarc.domain_modes) is
 *	followed in the table by its members (CF_MEMBER entries named
 *	"list.member", their field offsets relative to one element): every
 *	element must be a group holding every member (a CF_OPTIONAL one may
 *	be left out: it gets its default) and nothing else, and a CF_UNIQUE
 *	member may not repeat a value of an earlier element. A member is a
 *	string or (CT_STRLIST) a list of strings. The list's elem_check, if
 *	any, then judges the members together (overrides: exactly one of
 *	for_sender_domain and for_recipient_domain, one check at least; a
 *	check left out is -1, CT_OPT_MODE). After the load each override
 *	gets its rule text ("overrides.for_sender_domain=DOMAIN").
 *
 *	The allow and block lists (lists.KIND.allow, .allow_file, .block,
 *	.block_file) are plain table entries; after the table build_lists()
 *	makes each list with list_new() (lists.h), reading its file, and
 *	turns every problem into an error: an inline entry at its own line
 *	in the policy file (found again in the file, as libconfig may date
 *	an element one line late), a bad line of a list file at that file's
 *	line, an unreadable file at the *_file key, and so is a list file
 *	anyone on the host could change (world-writable, or in a
 *	world-writable directory without the sticky bit: pm_file_unsafe); so
 *	is such a recipients.file. build_recipients() reads recipients.file
 *	(strictly: a bad line is an error) into its table (rcpt_file_load,
 *	rcpt.h), or shares the current snapshot's table when the file is
 *	unchanged. The snapshot owns the lists and that table
 *	(policy_release frees them).
 *
 *	After the table, checks that involve several keys: the public suffix
 *	list must be readable, and safe as the list files are, whenever
 *	DMARC can run (dmarc.mode or a
 *	dmarc.domain_modes entry not "off"), no domain may be listed in
 *	both dmarc.never_enforce and dmarc.always_reject, and a unix
 *	milter.socket must not be in a world-writable directory (sticky or
 *	not: pm_socket_dir_unsafe). Then an empty
 *	authserv_id becomes gethostname(), and an empty spf.receiver becomes
 *	the authserv_id.
 *
 *	config_keys() calls fn once per leaf key (groups are not listed),
 *	in table order; tests use it to check that every key is documented.
 *
 *	The policy file, and each file it names with @include (depth first,
 *	as libconfig will read them), must be a regular file before
 *	libconfig sees it: libconfig 1.5 blocks in fopen() on a FIFO and its
 *	scanner calls exit() when reading a directory fails (@include "" or
 *	"."), which would end the daemon at a reload (check_includes). The
 *	recipients file and the public suffix list are opened without
 *	blocking too, and refused unless regular files.

 *	Loads may run in any thread but the result is only ever handed to
 *	other threads through policy_set_current() (policy.c).
 * DIAGNOSTICS
 *	config_load() collects every error (file, line, dotted key,
 *	message) into *errs and returns NULL if there was any; it never
 *	exits and never logs. libconfig stops at the first syntax error,
 *	so a syntax error is reported alone.
 */
#include <errno.h>
#include <fcntl.h>
#include <libconfig.h>
#include <limits.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <unistd.h>

#include "addr.h"
#include "cidr.h"
#include "config.h"
#include "log.h"
#include "policy.h"
#include "psl.h"
#include "rcpt.h"
#include "util.h"

/* What a table entry holds, and so how its value is read. */
enum cfg_type {
	CT_GROUP,        /* a group { } of other keys */
	CT_STRING,       /* char * */
	CT_INT,          /* int, within min..max */
	CT_MODE,         /* enum pm_mode, by name */
	CT_ACTION,       /* enum pm_action, by name */
	CT_OCTAL,        /* mode_t, from a string of octal digits ("0660") */
	CT_FACILITY,     /* int syslog facility, by name */
	CT_REPLY,        /* struct pm_reply, from "CODE X.Y.Z text" */
	CT_CIDRS,        /* struct pm_cidr_list, from a list of strings */
	CT_STRLIST,      /* char ** and a size_t count (count_off), from a list of strings */
	CT_BOOL,         /* bool, from true or false */
	CT_QUARANTINE,   /* enum pm_quarantine, by name */
	CT_DNSBL_ACTION, /* enum pm_dnsbl_action, by name */
	CT_GROUPLIST,    /* an array of elem_size structs and a size_t count (count_off), from
	                    a list of groups; the CF_MEMBER entries after it say what a group holds */
	CT_OPT_MODE,     /* int: an enum pm_mode by name, or -1 for "" (not given) */
};

/* flags */
#define CF_EMPTY_NULL 0x01 /* CT_STRING: "" is stored as NULL */
#define CF_4XX_ONLY   0x02 /* CT_REPLY: must be a 4xx reply */
#define CF_NO_REJECT  0x04 /* CT_ACTION: "reject" is not allowed */
#define CF_MEMBER     0x08 /* in each group of the CT_GROUPLIST before it; required */
#define CF_UNIQUE     0x10 /* CF_MEMBER string: no two elements may share a value */
#define CF_OPTIONAL   0x20 /* CF_MEMBER: may be left out of a group (then its default) */

/*
 * A validator sees a private copy of one string value (for lists, of one
 * element); it may rewrite it (free and replace *value, or change it in
 * place). It returns NULL when the value is good, or an error message,
 * static or written into buf.
 */
typedef const char *(*cfg_check_fn)(char **value, char *buf, size_t bufsize);

struct loader;
struct origin;
/*
 * An element check sees one element of a list of groups whose members
 * converted without error (idx from 0, o the group's origin) and records
 * its own errors (the element is then dropped).
 */
typedef void (*cfg_elem_fn)(struct loader *ld, char *elem, const struct origin *o, int idx);

struct cfg_key {
	const char *name; /* dotted */
	enum cfg_type type;
	unsigned flags;
	const char *def;  /* default as the file would write it; lists: space-separated */
	size_t off;       /* offsetof(struct policy, field); CF_MEMBER: within one element */
	size_t count_off; /* CT_STRLIST, CT_GROUPLIST: offsetof the element count */
	int min, max;     /* CT_INT */
	size_t elem_size; /* CT_GROUPLIST: the size of one element */
	cfg_check_fn check;
	cfg_elem_fn elem_check; /* CT_GROUPLIST: checks across the members of one element */
};

static const char *check_authserv_id(char **value, char *buf, size_t bufsize);
static const char *check_receiver(char **value, char *buf, size_t bufsize);
static const char *check_socket(char **value, char *buf, size_t bufsize);
static const char *check_account(char **value, char *buf, size_t bufsize);
static const char *check_abs_path(char **value, char *buf, size_t bufsize);
static const char *check_psl_path(char **value, char *buf, size_t bufsize);
static const char *check_separators(char **value, char *buf, size_t bufsize);
static const char *check_ident(char **value, char *buf, size_t bufsize);
static const char *check_json_file(char **value, char *buf, size_t bufsize);
static const char *check_domain(char **value, char *buf, size_t bufsize);
static const char *check_address(char **value, char *buf, size_t bufsize);
static const char *check_exempt(char **value, char *buf, size_t bufsize);
static const char *check_header_name(char **value, char *buf, size_t bufsize);
static const char *check_dnsbl_code(char **value, char *buf, size_t bufsize);
static const char *check_list_file(char **value, char *buf, size_t bufsize);
static const char *check_opt_domain(char **value, char *buf, size_t bufsize);
static void check_override(struct loader *ld, char *elem, const struct origin *o, int idx);

#define F(field) offsetof(struct policy, field)
#define GROUP(n)                                                                                   \
	{                                                                                          \
		.name = (n), .type = CT_GROUP                                                      \
	}
#define STR(n, d, field, fl, chk)                                                                  \
	{                                                                                          \
		.name = (n), .type = CT_STRING, .def = (d), .off = F(field), .flags = (fl),        \
		.check = (chk)                                                                     \
	}
#define INT(n, d, field, lo, hi)                                                                   \
	{                                                                                          \
		.name = (n), .type = CT_INT, .def = (d), .off = F(field), .min = (lo), .max = (hi) \
	}
#define MODE(n, d, field)                                                                          \
	{                                                                                          \
		.name = (n), .type = CT_MODE, .def = (d), .off = F(field)                          \
	}
#define ACTION(n, d, field, fl)                                                                    \
	{                                                                                          \
		.name = (n), .type = CT_ACTION, .def = (d), .off = F(field), .flags = (fl)         \
	}
#define BOOL(n, d, field)                                                                          \
	{                                                                                          \
		.name = (n), .type = CT_BOOL, .def = (d), .off = F(field)                          \
	}
#define DOMAINS(n, field, nfield)                                                                  \
	{                                                                                          \
		.name = (n), .type = CT_STRLIST, .def = "", .off = F(field),                       \
		.count_off = F(nfield), .check = check_domain                                      \
	}
#define LISTKEYS(kind, idx)                                                                        \
	GROUP("lists." kind),                                                                      \
	    {.name = "lists." kind ".allow",                                                       \
	     .type = CT_STRLIST,                                                                   \
	     .def = "",                                                                            \
	     .off = F(lists[idx].allow),                                                           \
	     .count_off = F(lists[idx].nallow)},                                                   \
	    STR("lists." kind ".allow_file", "", lists[idx].allow_file, CF_EMPTY_NULL,             \
	        check_list_file),                                                                  \
	    {.name = "lists." kind ".block",                                                       \
	     .type = CT_STRLIST,                                                                   \
	     .def = "",                                                                            \
	     .off = F(lists[idx].block),                                                           \
	     .count_off = F(lists[idx].nblock)},                                                   \
	    STR("lists." kind ".block_file", "", lists[idx].block_file, CF_EMPTY_NULL,             \
	        check_list_file)
#define OVMODE(n, id)                                                                              \
	{                                                                                          \
		.name = "overrides." n, .type = CT_OPT_MODE, .def = "",                            \
		.off = offsetof(struct pm_override, mode[id]), .flags = CF_MEMBER | CF_OPTIONAL    \
	}
#define OVDOMAIN(n, field)                                                                         \
	{                                                                                          \
		.name = "overrides." n, .type = CT_STRING, .def = "",                              \
		.off = offsetof(struct pm_override, field),                                        \
		.flags = CF_MEMBER | CF_OPTIONAL | CF_EMPTY_NULL, .check = check_opt_domain        \
	}
#define REPLY(n, id, d, fl)                                                                        \
	{                                                                                          \
		.name = "replies." n, .type = CT_REPLY, .def = (d), .off = F(replies[id]),         \
		.flags = (fl)                                                                      \
	}

/*
 * Every key of the policy file. Keep conf/policy-milter.conf and
 * man/policy-milter.conf.5 in step (test_config checks both).
 */
static const struct cfg_key settings[] = {
    STR("authserv_id", "", authserv_id, 0, check_authserv_id),

    GROUP("milter"),
    STR("milter.socket", "unix:/var/spool/postfix/policy-milter/policy-milter.sock", milter.socket,
        0, check_socket),
    {.name = "milter.socket_mode", .type = CT_OCTAL, .def = "0660", .off = F(milter.socket_mode)},
    STR("milter.socket_owner", "", milter.socket_owner, CF_EMPTY_NULL, check_account),
    STR("milter.socket_group", "postfix", milter.socket_group, CF_EMPTY_NULL, check_account),
    STR("milter.user", "policy-milter", milter.user, CF_EMPTY_NULL, check_account),
    STR("milter.group", "", milter.group, CF_EMPTY_NULL, check_account),
    STR("milter.pid_file", "/run/policy-milter/policy-milter.pid", milter.pid_file, CF_EMPTY_NULL,
        check_abs_path),
    INT("milter.timeout", "300", milter.timeout, 1, 3600),
    INT("milter.backlog", "64", milter.backlog, 1, 65535),
    INT("milter.drain_timeout", "30", milter.drain_timeout, 0, 600),
    ACTION("milter.on_internal_error", "tempfail", milter.on_internal_error, CF_NO_REJECT),

    {.name = "trusted_networks",
     .type = CT_CIDRS,
     .def = "127.0.0.0/8 ::1/128",
     .off = F(trusted_networks)},

    GROUP("client_block"),
    MODE("client_block.mode", "enforce", client_block.mode),
    {.name = "client_block.networks", .type = CT_CIDRS, .def = "", .off = F(client_block.networks)},

    GROUP("dnsbl"),
    MODE("dnsbl.mode", "enforce", dnsbl.mode),
    {.name = "dnsbl.zones",
     .type = CT_GROUPLIST,
     .def = "",
     .off = F(dnsbl.zones),
     .count_off = F(dnsbl.nzones),
     .elem_size = sizeof(struct dnsbl_zone)},
    {.name = "dnsbl.zones.zone",
     .type = CT_STRING,
     .off = offsetof(struct dnsbl_zone, zone),
     .flags = CF_MEMBER | CF_UNIQUE,
     .check = check_domain},
    {.name = "dnsbl.zones.codes",
     .type = CT_STRLIST,
     .def = "",
     .off = offsetof(struct dnsbl_zone, codes),
     .count_off = offsetof(struct dnsbl_zone, ncodes),
     .flags = CF_MEMBER | CF_OPTIONAL,
     .check = check_dnsbl_code},
    {.name = "dnsbl.zones.action",
     .type = CT_DNSBL_ACTION,
     .def = "reject",
     .off = offsetof(struct dnsbl_zone, action),
     .flags = CF_MEMBER | CF_OPTIONAL},

    GROUP("iprev"),
    MODE("iprev.mode", "tag", iprev.mode),

    GROUP("spf"),
    MODE("spf.mode", "enforce", spf.mode),
    MODE("spf.helo_mode", "enforce", spf.helo_mode),
    ACTION("spf.pass", "accept", spf.action[PM_SPF_PASS], 0),
    ACTION("spf.none", "accept", spf.action[PM_SPF_NONE], 0),
    ACTION("spf.neutral", "accept", spf.action[PM_SPF_NEUTRAL], 0),
    ACTION("spf.fail", "reject", spf.action[PM_SPF_FAIL], 0),
    ACTION("spf.softfail", "accept", spf.action[PM_SPF_SOFTFAIL], 0),
    ACTION("spf.permerror", "reject", spf.action[PM_SPF_PERMERROR], 0),
    ACTION("spf.temperror", "tempfail", spf.action[PM_SPF_TEMPERROR], CF_NO_REJECT),
    INT("spf.timeout", "20", spf.timeout, 1, 300),
    INT("spf.dns_timeout", "5", spf.dns_timeout, 1, 60),
    INT("spf.max_dns_queries", "50", spf.max_dns_queries, 10, 1000),
    INT("spf.max_void_lookups", "2", spf.max_void_lookups, 0, 20),
    STR("spf.receiver", "", spf.receiver, 0, check_receiver),

    GROUP("sender_domain"),
    MODE("sender_domain.mode", "enforce", sender_domain.mode),

    GROUP("recipients"),
    MODE("recipients.mode", "enforce", recipients.mode),
    {.name = "recipients.domains",
     .type = CT_STRLIST,
     .def = "",
     .off = F(recipients.domains),
     .count_off = F(recipients.ndomains),
     .check = check_domain},
    {.name = "recipients.addresses",
     .type = CT_STRLIST,
     .def = "",
     .off = F(recipients.addresses),
     .count_off = F(recipients.naddresses),
     .check = check_address},
    STR("recipients.file", "", recipients.file, CF_EMPTY_NULL, NULL),
    STR("recipients.detail_separators", "+", recipients.detail_separators, 0, check_separators),
    INT("recipients.max_recipients", "100", recipients.max_recipients, 0, 100000),
    INT("recipients.max_unknown", "10", recipients.max_unknown, 0, 100000),
    INT("recipients.max_messages_per_connection", "0", recipients.max_messages, 0, 100000),
    {.name = "recipients.exempt_from_sender_checks",
     .type = CT_STRLIST,
     .def = "postmaster abuse",
     .off = F(recipients.exempt),
     .count_off = F(recipients.nexempt),
     .check = check_exempt},
    BOOL("recipients.delay_sender_refusals", "true", recipients.delay_sender_refusals),

    GROUP("dkim"),
    MODE("dkim.mode", "tag", dkim.mode),
    INT("dkim.max_signatures", "5", dkim.max_signatures, 1, 50),
    BOOL("dkim.allow_l", "false", dkim.allow_l),
    /* at most 4096: a larger RSA key's record exceeds libopendkim's 1024-byte key buffer */
    INT("dkim.min_key_bits", "1024", dkim.min_key_bits, 512, 4096),
    DOMAINS("dkim.must_sign", dkim.must_sign, dkim.nmust_sign),

    GROUP("dmarc"),
    MODE("dmarc.mode", "enforce", dmarc.mode),
    STR("dmarc.public_suffix_list", "/usr/share/publicsuffix/public_suffix_list.dat",
        dmarc.public_suffix_list, 0, check_psl_path),
    {.name = "dmarc.quarantine", .type = CT_QUARANTINE, .def = "tag", .off = F(dmarc.quarantine)},
    STR("dmarc.quarantine_header", "X-Policy-Milter-Quarantine", dmarc.quarantine_header, 0,
        check_header_name),
    BOOL("dmarc.fail_open", "false", dmarc.fail_open),
    BOOL("dmarc.spf_fail_at_mail", "false", dmarc.spf_fail_at_mail),
    DOMAINS("dmarc.never_enforce", dmarc.never_enforce, dmarc.nnever_enforce),
    DOMAINS("dmarc.always_reject", dmarc.always_reject, dmarc.nalways_reject),
    {.name = "dmarc.display_name_exempt",
     .type = CT_STRLIST,
     .def = "googlegroups.com",
     .off = F(dmarc.display_name_exempt),
     .count_off = F(dmarc.ndisplay_name_exempt),
     .check = check_domain},
    {.name = "dmarc.domain_modes",
     .type = CT_GROUPLIST,
     .def = "",
     .off = F(dmarc.domain_modes),
     .count_off = F(dmarc.ndomain_modes),
     .elem_size = sizeof(struct dmarc_domain_mode)},
    {.name = "dmarc.domain_modes.domain",
     .type = CT_STRING,
     .off = offsetof(struct dmarc_domain_mode, domain),
     .flags = CF_MEMBER | CF_UNIQUE,
     .check = check_domain},
    {.name = "dmarc.domain_modes.mode",
     .type = CT_MODE,
     .off = offsetof(struct dmarc_domain_mode, mode),
     .flags = CF_MEMBER},

    GROUP("headers"),
    MODE("headers.singletons", "tag", headers.singletons),

    GROUP("lists"),
    LISTKEYS("client", LIST_CLIENT),
    LISTKEYS("client_name", LIST_CLIENT_NAME),
    LISTKEYS("helo", LIST_HELO),
    LISTKEYS("sender", LIST_SENDER),
    LISTKEYS("recipient", LIST_RECIPIENT),

    {.name = "overrides",
     .type = CT_GROUPLIST,
     .def = "",
     .off = F(overrides),
     .count_off = F(noverrides),
     .elem_size = sizeof(struct pm_override),
     .elem_check = check_override},
    OVDOMAIN("for_sender_domain", sender_domain),
    OVDOMAIN("for_recipient_domain", recipient_domain),
    OVMODE("iprev", PM_CHECK_IPREV),
    OVMODE("helo_spf", PM_CHECK_HELO_SPF),
    OVMODE("spf", PM_CHECK_SPF),
    OVMODE("sender_domain", PM_CHECK_SENDER_DOMAIN),
    OVMODE("dkim", PM_CHECK_DKIM),
    OVMODE("dmarc", PM_CHECK_DMARC),

    BOOL("dry_run", "false", dry_run),

    GROUP("log"),
    {.name = "log.syslog_facility",
     .type = CT_FACILITY,
     .def = "mail",
     .off = F(log.syslog_facility)},
    STR("log.syslog_ident", "policy-milter", log.syslog_ident, 0, check_ident),
    STR("log.json_file", "", log.json_file, CF_EMPTY_NULL, check_json_file),

    GROUP("replies"),
    REPLY("client_blocked", PM_R_CLIENT_BLOCKED,
          "554 5.7.1 Client host %{ip} blocked by local policy", 0),
    REPLY("spf_fail", PM_R_SPF_FAIL,
          "550 5.7.23 SPF validation failed: %{domain} does not permit %{ip} to send mail as "
          "%{identity}",
          0),
    REPLY("spf_permerror", PM_R_SPF_PERMERROR,
          "550 5.7.24 SPF validation error: the SPF record of %{domain} is invalid", 0),
    REPLY("spf_temperror", PM_R_SPF_TEMPERROR,
          "451 4.7.24 SPF validation for %{domain} failed temporarily (DNS error); try again "
          "later",
          CF_4XX_ONLY),
    REPLY("sender_syntax", PM_R_SENDER_SYNTAX, "501 5.1.7 Bad sender address syntax", 0),
    REPLY("sender_domain_unknown", PM_R_SENDER_DOMAIN_UNKNOWN,
          "550 5.1.8 <%{sender}>: Sender address rejected: Domain not found", 0),
    REPLY("sender_null_mx", PM_R_SENDER_NULL_MX,
          "550 5.7.27 <%{sender}>: Sender address rejected: Domain %{domain} does not accept "
          "mail (null MX)",
          0),
    REPLY("rcpt_syntax", PM_R_RCPT_SYNTAX, "501 5.1.3 Bad recipient address syntax", 0),
    REPLY("unknown_recipient", PM_R_UNKNOWN_RECIPIENT,
          "550 5.1.1 <%{rcpt}>: Recipient address rejected: User unknown", 0),
    REPLY("relay_denied", PM_R_RELAY_DENIED, "554 5.7.1 <%{rcpt}>: Relay access denied", 0),
    REPLY("too_many_recipients", PM_R_TOO_MANY_RECIPIENTS, "452 4.5.3 Too many recipients",
          CF_4XX_ONLY),
    REPLY("too_many_unknown", PM_R_TOO_MANY_UNKNOWN,
          "450 4.7.1 Too many unknown recipients in this session; try again later", CF_4XX_ONLY),
    REPLY("rcpt_tempfail", PM_R_RCPT_TEMPFAIL,
          "451 4.4.3 Recipient lookup failed temporarily; try again later", CF_4XX_ONLY),
    REPLY("dns_tempfail", PM_R_DNS_TEMPFAIL,
          "451 4.4.3 DNS lookup failed temporarily; try again later", CF_4XX_ONLY),
    REPLY("internal_error", PM_R_INTERNAL_ERROR, "451 4.3.0 Internal error; try again later",
          CF_4XX_ONLY),
    REPLY("from_header", PM_R_FROM_HEADER,
          "550 5.7.1 Message rejected: it must have exactly one From header field naming one "
          "author (%{result})",
          0),
    REPLY("from_display_name", PM_R_FROM_DISPLAY_NAME,
          "550 5.7.1 Message rejected: the From display name shows an address of another "
          "domain than the author's (%{result})",
          0),
    REPLY("dkim_none_passing", PM_R_DKIM_NONE_PASSING,
          "550 5.7.20 No passing DKIM signature found for %{domain}", 0),
    REPLY("dkim_none_acceptable", PM_R_DKIM_NONE_ACCEPTABLE,
          "550 5.7.21 No acceptable DKIM signature found for %{domain}", 0),
    REPLY("dkim_none_aligned", PM_R_DKIM_NONE_ALIGNED,
          "550 5.7.22 No valid author-matched DKIM signature found for %{domain}", 0),
    REPLY("dkim_tempfail", PM_R_DKIM_TEMPFAIL,
          "451 4.7.5 DKIM key lookup for %{domain} failed temporarily; try again later",
          CF_4XX_ONLY),
    REPLY("dmarc_reject", PM_R_DMARC_REJECT,
          "550 5.7.26 Unauthenticated email from %{domain} is not accepted due to the domain's "
          "DMARC policy",
          0),
    REPLY("dmarc_tempfail", PM_R_DMARC_TEMPFAIL,
          "451 4.4.3 DMARC check for %{domain} failed temporarily (DNS error); try again later",
          CF_4XX_ONLY),
    REPLY("dnsbl_listed", PM_R_DNSBL_LISTED,
          "554 5.7.1 Service unavailable; client host %{ip} blocked using %{zone}", 0),
    REPLY("iprev_fail", PM_R_IPREV_FAIL,
          "550 5.7.25 Reverse DNS of %{ip} does not match (iprev %{result})", 0),
    REPLY("iprev_tempfail", PM_R_IPREV_TEMPFAIL,
          "451 4.7.25 Reverse DNS of %{ip} could not be checked (iprev %{result}); try again "
          "later",
          CF_4XX_ONLY),
    REPLY("helo_blocked", PM_R_HELO_BLOCKED,
          "554 5.7.1 <%{helo}>: Helo command rejected: blocked by local policy", 0),
    REPLY("sender_blocked", PM_R_SENDER_BLOCKED,
          "554 5.7.1 <%{sender}>: Sender address rejected: blocked by local policy", 0),
    REPLY("rcpt_blocked", PM_R_RCPT_BLOCKED,
          "554 5.7.1 <%{rcpt}>: Recipient address rejected: blocked by local policy", 0),
    REPLY("client_name_blocked", PM_R_CLIENT_NAME_BLOCKED,
          "554 5.7.1 Client host %{name}[%{ip}] blocked by local policy", 0),
    REPLY("too_many_messages", PM_R_TOO_MANY_MESSAGES,
          "421 4.7.0 Too many messages in this connection; try again later", CF_4XX_ONLY),
    REPLY("header_repeated", PM_R_HEADER_REPEATED,
          "550 5.7.1 Message rejected: the %{result} header field must not occur more than once "
          "(RFC 5322 section 3.6)",
          0),
};

#define NSETTINGS PM_ARRAY_LEN(settings)

static const char *const quarantine_names[] = {
    [PM_QUARANTINE_TAG] = "tag",
    [PM_QUARANTINE_HOLD] = "hold",
};

static const char *const dnsbl_action_names[] = {
    [PM_DNSBL_REJECT] = "reject",
    [PM_DNSBL_TAG] = "tag",
};

static unsigned load_generation;

/* Where a value came from, for error messages. */
struct origin {
	const char *file;
	int line; /* 0: a built-in default */
};

/* One load in progress. */
struct loader {
	const char *path;
	struct policy *p;
	struct config_errors *errs;
	bool seen[NSETTINGS];
	struct origin where[NSETTINGS]; /* of each key seen in the file */
};

/* err_add - record one error */
static void err_add(struct loader *ld, const struct origin *o, const char *key, const char *fmt,
                    ...) __attribute__((format(printf, 4, 5)));
static void err_add(struct loader *ld, const struct origin *o, const char *key, const char *fmt,
                    ...)
{
	struct config_errors *errs = ld->errs;
	struct config_error *e;
	struct strbuf sb;
	char msg[1024];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	errs->v = xrealloc(errs->v, (errs->n + 1) * sizeof(*errs->v));
	e = &errs->v[errs->n++];
	e->file = xstrdup(o != NULL && o->file != NULL ? o->file : ld->path);
	e->line = o != NULL ? o->line : 0;
	e->key = xstrdup(key != NULL ? key : "");
	if (o != NULL && o->line == 0 && key != NULL && *key != '\0') {
		sb_init(&sb);
		sb_appendf(&sb, "built-in default: %s", msg);
		e->message = sb_steal(&sb);
	} else {
		e->message = xstrdup(msg);
	}
}

/* origin_of - the file and line of a libconfig setting */
static struct origin origin_of(const struct loader *ld, const config_setting_t *s)
{
	struct origin o;

	o.file = config_setting_source_file(s);
	if (o.file == NULL)
		o.file = ld->path;
	o.line = (int)config_setting_source_line(s);
	return o;
}

/* field - the address of a table entry's field in the snapshot */
static void *field(struct policy *p, size_t off)
{
	return (char *)p + off;
}

/* type_name - a libconfig type in words, for "wrong type" messages */
static const char *type_name(int type)
{
	switch (type) {
	case CONFIG_TYPE_GROUP:
		return "a group";
	case CONFIG_TYPE_INT:
	case CONFIG_TYPE_INT64:
		return "an integer";
	case CONFIG_TYPE_FLOAT:
		return "a floating-point number";
	case CONFIG_TYPE_STRING:
		return "a string";
	case CONFIG_TYPE_BOOL:
		return "a boolean";
	case CONFIG_TYPE_ARRAY:
	case CONFIG_TYPE_LIST:
		return "a list";
	}
	return "nothing";
}

/* expected_type - what a table entry wants, in words */
static const char *expected_type(enum cfg_type t)
{
	switch (t) {
	case CT_GROUP:
		return "a group { ... }";
	case CT_INT:
		return "an integer";
	case CT_CIDRS:
	case CT_STRLIST:
		return "a list of strings [ \"...\", ... ]";
	case CT_OCTAL:
		return "a string of octal digits such as \"0660\"";
	case CT_BOOL:
		return "true or false (not quoted)";
	case CT_GROUPLIST:
		return "a list of groups ( { ... }, { ... } )";
	default:
		return "a string";
	}
}

/* name_index - the index of s in a table of n names, or -1 */
static int name_index(const char *const *names, size_t n, const char *s)
{
	for (size_t i = 0; i < n; i++)
		if (strcmp(names[i], s) == 0)
			return (int)i;
	return -1;
}

/* printable_ascii - every byte in 0x21..0x7e (or 0x20..0x7e with spaces allowed) */
static bool printable_ascii(const char *s, bool spaces)
{
	for (; *s != '\0'; s++) {
		unsigned char c = (unsigned char)*s;

		if (c > 0x7e || c < 0x20 || (c == ' ' && !spaces))
			return false;
	}
	return true;
}

/* check_placeholders - NULL when every '%' in text is "%%" or a known %{name} */
static const char *check_placeholders(const char *text, char *buf, size_t bufsize)
{
	for (const char *s = text; *s != '\0'; s++) {
		const char *end;
		if (*s != '%')
			continue;
		if (s[1] == '%') {
			s++;
			continue;
		}
		if (s[1] != '{')
			return "a lone '%' must be written \"%%\" (placeholders are %{name})";
		end = strchr(s + 2, '}');
		if (end == NULL)
			return "unterminated placeholder \"%{\"";
		if (pm_placeholder_find(s + 2, (size_t)(end - s - 2)) < 0) {
			snprintf(buf, bufsize,
			         "unknown placeholder \"%.*s\" (known: %%{ip} %%{name} %%{helo} "
			         "%%{sender} %%{rcpt} %%{domain} %%{result} %%{identity} %%{zone})",
			         (int)(end - s + 1 > 64 ? 64 : end - s + 1), s);
			return buf;
		}
		s = end;
	}
	return NULL;
}

/* digits - length of the run of decimal digits at s */
static size_t digits(const char *s)
{
	size_t n = 0;

	while (s[n] >= '0' && s[n] <= '9')
		n++;
	return n;
}

/*
 * reply_parse - parse "CODE X.Y.Z text" into *r (text copied). Returns
 * NULL, or an error message (static or in buf) and *r untouched.
 */
static const char *reply_parse(const char *s, bool only_4xx, struct pm_reply *r, char *buf,
                               size_t bufsize)
{
	const char *x, *t, *msg;
	size_t n;

	if (digits(s) != 3 || (s[0] != '4' && s[0] != '5') || s[1] > '5' || s[3] != ' ')
		return "must start with a 3-digit reply code 4xx or 5xx and a space, "
		       "as in \"550 5.7.1 text\"";
	if (only_4xx && s[0] != '4') {
		snprintf(buf, bufsize,
		         "must be a 4xx (temporary) reply, got %.3s: this condition must never "
		         "refuse mail permanently",
		         s);
		return buf;
	}
	x = s + 4;
	n = digits(x);
	if (n != 1 || x[1] != '.')
		return "the reply code must be followed by an enhanced status code "
		       "class.subject.detail (RFC 3463), as in \"550 5.7.1 text\"";
	if (x[0] != s[0]) {
		snprintf(buf, bufsize,
		         "enhanced status code class %c does not match reply code %.3s "
		         "(RFC 3463: the class must equal the reply's first digit)",
		         x[0], s);
		return buf;
	}
	t = x + 2;
	n = digits(t);
	if (n < 1 || n > 3 || (t[0] == '0' && n > 1) || t[n] != '.')
		return "bad enhanced status code subject: want 0..999 without leading zeros "
		       "(RFC 3463 class.subject.detail)";
	t += n + 1;
	n = digits(t);
	if (n < 1 || n > 3 || (t[0] == '0' && n > 1))
		return "bad enhanced status code detail: want 0..999 without leading zeros "
		       "(RFC 3463 class.subject.detail)";
	t += n;
	if (*t == '\0' || (*t == ' ' && t[1] == '\0'))
		return "reply text missing after the enhanced status code";
	if (*t != ' ')
		return "the enhanced status code must be followed by a space and the reply text";
	if ((size_t)(t - x) >= sizeof(r->xcode))
		return "enhanced status code too long";
	t++;
	if (!printable_ascii(t, true))
		return "reply text must be printable ASCII (no control characters or 8-bit bytes)";
	if (strlen(t) > REPLY_TEMPLATE_MAX) {
		snprintf(buf, bufsize, "reply text longer than %d bytes", REPLY_TEMPLATE_MAX);
		return buf;
	}
	if ((msg = check_placeholders(t, buf, bufsize)) != NULL)
		return msg;
	r->code = (s[0] - '0') * 100 + (s[1] - '0') * 10 + (s[2] - '0');
	memcpy(r->xcode, x, (size_t)(t - 1 - x));
	r->xcode[t - 1 - x] = '\0';
	r->text = xstrdup(t);
	return NULL;
}

/* is_token - true when s is an RFC 2045 token (printable, no space, no tspecials) */
static bool is_token(const char *s)
{
	if (*s == '\0' || strlen(s) > 255 || !printable_ascii(s, false))
		return false;
	return strpbrk(s, "()<>@,;:\\\"/[]?=") == NULL;
}

/* check_authserv_id - "" (the host name) or an RFC 8601 authserv-id token */
static const char *check_authserv_id(char **value, char *buf, size_t bufsize)
{
	(void)buf;
	(void)bufsize;
	if (**value == '\0' || is_token(*value))
		return NULL;
	return "must be a host name or token: printable ASCII without spaces or any of "
	       "()<>@,;:\\\"/[]?= (RFC 8601 authserv-id)";
}

/* check_receiver - "" (the authserv_id) or a host name for SPF's %{r} */
static const char *check_receiver(char **value, char *buf, size_t bufsize)
{
	(void)buf;
	(void)bufsize;
	if (**value == '\0' || is_token(*value))
		return NULL;
	return "must be a host name (printable ASCII, no spaces)";
}

/* check_port_host - "PORT" or "PORT@HOST" with PORT 1..65535 */
static const char *check_port_host(const char *s, char *buf, size_t bufsize)
{
	size_t n = digits(s);
	long port;

	if (n == 0 || n > 5 || (s[n] != '\0' && s[n] != '@')) {
		snprintf(buf, bufsize, "want inet:PORT@HOST or inet6:PORT@HOST, got port \"%.*s\"",
		         (int)strcspn(s, "@"), s);
		return buf;
	}
	port = strtol(s, NULL, 10);
	if (port < 1 || port > 65535) {
		snprintf(buf, bufsize, "port %ld out of range 1..65535", port);
		return buf;
	}
	if (s[n] == '@' && (s[n + 1] == '\0' || !printable_ascii(s + n + 1, false)))
		return "host after '@' must be a non-empty address or host name";
	return NULL;
}

/* check_socket - "unix:/path", "inet:PORT@HOST" or "inet6:PORT@HOST" */
static const char *check_socket(char **value, char *buf, size_t bufsize)
{
	const char *s = *value;

	if (strncmp(s, "unix:", 5) == 0) {
		s += 5;
		if (*s != '/')
			return "unix socket path must be absolute (unix:/path)";
		if (strlen(s) >= 108)
			return "unix socket path too long (at most 107 bytes)";
		if (!printable_ascii(s, false))
			return "unix socket path must be printable ASCII without spaces";
		return NULL;
	}
	if (strncmp(s, "inet:", 5) == 0)
		return check_port_host(s + 5, buf, bufsize);
	if (strncmp(s, "inet6:", 6) == 0)
		return check_port_host(s + 6, buf, bufsize);
	return "must be unix:/path, inet:PORT@HOST or inet6:PORT@HOST";
}

/* config_check_socket - validate a socket spec as milter.socket is (for -p); NULL when fine */
const char *config_check_socket(const char *spec, char *buf, size_t bufsize)
{
	char *copy = (char *)spec;

	return check_socket(&copy, buf, bufsize);
}

/* check_account - "" or a plausible user or group name (its existence is checked at start) */
static const char *check_account(char **value, char *buf, size_t bufsize)
{
	const char *s = *value;

	(void)buf;
	(void)bufsize;
	if (*s == '\0')
		return NULL;
	if (strlen(s) > 32 || *s == '-' ||
	    strspn(s, "abcdefghijklmnopqrstuvwxyz"
	              "ABCDEFGHIJKLMNOPQRSTUVWXYZ"
	              "0123456789._-") != strlen(s))
		return "must be a user or group name (letters, digits, '.', '_', '-'; at most 32)";
	return NULL;
}

/* check_abs_path - "" or an absolute path */
static const char *check_abs_path(char **value, char *buf, size_t bufsize)
{
	(void)buf;
	(void)bufsize;
	if (**value == '\0')
		return NULL;
	if (**value != '/')
		return "must be an absolute path (or \"\" for none)";
	return NULL;
}

/* check_psl_path - an absolute path (whether it is readable is checked after the table) */
static const char *check_psl_path(char **value, char *buf, size_t bufsize)
{
	(void)buf;
	(void)bufsize;
	if (**value != '/' || !printable_ascii(*value, false))
		return "must be the absolute path of the public suffix list, such as "
		       "\"/usr/share/publicsuffix/public_suffix_list.dat\"";
	return NULL;
}

/* check_separators - "" or punctuation characters other than '@' */
static const char *check_separators(char **value, char *buf, size_t bufsize)
{
	(void)buf;
	(void)bufsize;
	for (const char *s = *value; *s != '\0'; s++) {
		unsigned char c = (unsigned char)*s;

		if (c <= ' ' || c > 0x7e || c == '@' || c == '"' || c == '\\' ||
		    (c >= '0' && c <= '9') || ((c | 0x20) >= 'a' && (c | 0x20) <= 'z'))
			return "must be \"\" or punctuation characters (not '@', '\"', '\\')";
	}
	return NULL;
}

/* check_ident - a non-empty printable syslog tag */
static const char *check_ident(char **value, char *buf, size_t bufsize)
{
	(void)buf;
	(void)bufsize;
	if (**value == '\0' || strlen(*value) > 64 || !printable_ascii(*value, false))
		return "must be 1..64 printable ASCII characters without spaces";
	return NULL;
}

/*
 * check_json_file - "" (no JSON decision log) or the absolute path of a
 * file: no control characters, not ending in '/' (whether it can be
 * opened is found out at start, as the milter user)
 */
static const char *check_json_file(char **value, char *buf, size_t bufsize)
{
	const char *s = *value;

	(void)buf;
	(void)bufsize;
	if (*s == '\0')
		return NULL;
	if (*s != '/')
		return "must be an absolute path, such as "
		       "\"/var/log/policy-milter/decisions.json\" (or \"\" for no JSON log)";
	for (; *s != '\0'; s++)
		if ((unsigned char)*s < 0x20 || *s == 0x7f)
			return "must not hold control characters";
	if (s[-1] == '/')
		return "must name a file, not a directory (it ends in '/')";
	return NULL;
}

/*
 * Header fields a message's meaning or its authentication rests on: a
 * quarantine marker must not add (a second) one of them.
 */
static const char *const reserved_headers[] = {
    "From",
    "Sender",
    "Reply-To",
    "To",
    "Cc",
    "Bcc",
    "Date",
    "Subject",
    "Message-ID",
    "Received",
    "Return-Path",
    "DKIM-Signature",
    "ARC-Seal",
    "ARC-Message-Signature",
    "ARC-Authentication-Results",
    "Authentication-Results",
    "Received-SPF",
};

/* check_header_name - an RFC 5322 field name (ftext: 0x21..0x7e but ':'), 1..64 bytes */
static const char *check_header_name(char **value, char *buf, size_t bufsize)
{
	const char *s = *value;

	if (*s == '\0' || strlen(s) > 64 || !printable_ascii(s, false) || strchr(s, ':') != NULL) {
		snprintf(buf, bufsize,
		         "\"%.100s\" is not a header field name: want 1..64 printable ASCII "
		         "characters without spaces or ':' (RFC 5322 ftext), such as "
		         "\"X-Policy-Milter-Quarantine\"",
		         s);
		return buf;
	}
	for (size_t i = 0; i < PM_ARRAY_LEN(reserved_headers); i++)
		if (pm_strcaseeq(s, reserved_headers[i])) {
			snprintf(buf, bufsize,
			         "\"%.100s\" is a standard header field; a quarantine marker needs "
			         "a name of its own, such as \"X-Policy-Milter-Quarantine\"",
			         s);
			return buf;
		}
	return NULL;
}

/*
 * check_dnsbl_code - a DNSBL answer that may count: an IPv4 address in
 * 127.0.0.0/8, not 127.0.0.1 nor 127.255.255.0/24 (error codes, never a
 * listing); rewritten in canonical form
 */
static const char *check_dnsbl_code(char **value, char *buf, size_t bufsize)
{
	struct pm_ip ip;
	char out[PM_IP_STRLEN];

	if (pm_ip_parse(*value, &ip) != 0 || ip.family != AF_INET || ip.addr[0] != 127) {
		snprintf(buf, bufsize,
		         "\"%.100s\" is not a DNSBL return code: want an IPv4 address in "
		         "127.0.0.0/8, such as \"127.0.0.2\"",
		         *value);
		return buf;
	}
	if (pm_dnsbl_error_code(&ip)) {
		snprintf(buf, bufsize,
		         "\"%.100s\" is an error code (127.0.0.1, 127.255.255.0/24: the list "
		         "refused the query), never a listing",
		         *value);
		return buf;
	}
	free(*value);
	*value = xstrdup(pm_ip_format(&ip, out, sizeof(out)));
	return NULL;
}

/*
 * check_list_file - "" (no file) or the absolute path of a list file
 * (read, and so checked, when the lists are built: build_lists)
 */
static const char *check_list_file(char **value, char *buf, size_t bufsize)
{
	(void)buf;
	(void)bufsize;
	if (**value == '\0')
		return NULL;
	if (**value != '/' || !printable_ascii(*value, true))
		return "must be the absolute path of a list file, one entry a line (or \"\" for "
		       "none)";
	return NULL;
}

/* check_domain - an LDH domain name; lower-cased in place */
static const char *check_domain(char **value, char *buf, size_t bufsize)
{
	pm_strlower(*value);
	if (!addr_domain_valid(*value, strlen(*value))) {
		snprintf(buf, bufsize, "\"%.300s\" is not a valid domain name", *value);
		return buf;
	}
	return NULL;
}

/* check_opt_domain - "" (not given) or a domain name as check_domain wants it */
static const char *check_opt_domain(char **value, char *buf, size_t bufsize)
{
	return **value == '\0' ? NULL : check_domain(value, buf, bufsize);
}

/* check_address - "local@domain" or "@domain"; rewritten with the domain lower-cased */
static const char *check_address(char **value, char *buf, size_t bufsize)
{
	struct pm_addr a;
	const char *why = NULL;
	char out[ADDR_LOCAL_MAX + ADDR_DOMAIN_MAX + 8];

	if (**value == '@') {
		if (check_domain(&(char *){*value + 1}, buf, bufsize) != NULL) {
			snprintf(buf, bufsize, "\"%.300s\": not a valid catch-all \"@domain\"",
			         *value);
			return buf;
		}
		return NULL;
	}
	if (strchr(*value, '@') == NULL ||
	    addr_parse(*value, strlen(*value), 0, &a, &why) != ADDR_OK) {
		snprintf(buf, bufsize, "\"%.300s\" is not an address local@domain or @domain%s%s",
		         *value, why != NULL ? ": " : "", why != NULL ? why : "");
		return buf;
	}
	if (a.domain_is_literal || !addr_domain_valid(a.domain, strlen(a.domain))) {
		snprintf(buf, bufsize, "\"%.300s\": the domain must be a domain name", *value);
		return buf;
	}
	addr_format(&a, out, sizeof(out));
	free(*value);
	*value = xstrdup(out);
	return NULL;
}

/*
 * check_exempt - an entry of recipients.exempt_from_sender_checks: a local
 * part ("abuse"), or an address "local@domain" (normalised like
 * recipients.addresses; no catch-all)
 */
static const char *check_exempt(char **value, char *buf, size_t bufsize)
{
	struct pm_addr a;
	const char *why = NULL;
	char full[ADDR_LOCAL_MAX + 32];

	if (strchr(*value, '@') != NULL) {
		if (**value == '@') {
			snprintf(buf, bufsize,
			         "\"%.300s\": a local part (\"abuse\") or an address local@domain, "
			         "not a catch-all",
			         *value);
			return buf;
		}
		return check_address(value, buf, bufsize);
	}
	snprintf(full, sizeof(full), "%s@local.invalid", *value);
	if (**value == '\0' || strlen(*value) > ADDR_LOCAL_MAX ||
	    addr_parse(full, strlen(full), 0, &a, &why) != ADDR_OK || a.had_source_route) {
		snprintf(buf, bufsize,
		         "\"%.300s\" is not a local part or an address local@domain%s%s", *value,
		         why != NULL ? ": " : "", why != NULL ? why : "");
		return buf;
	}
	return NULL;
}

/*
 * set_value_at - convert one string value (from the file or a default)
 * into k's field at base + k->off (base: the snapshot, or one element of
 * a list of groups); false (with the error recorded) when it is refused
 */
static bool set_value_at(struct loader *ld, const struct cfg_key *k, const char *s,
                         const struct origin *o, char *base)
{
	char buf[640];
	char *copy = xstrdup(s);
	const char *msg = NULL;
	void *f = base + k->off;
	size_t nerrs = ld->errs->n;
	int i;

	if (k->check != NULL && (msg = k->check(&copy, buf, sizeof(buf))) != NULL) {
		err_add(ld, o, k->name, "%s", msg);
		free(copy);
		return false;
	}
	switch (k->type) {
	case CT_STRING:
		if ((k->flags & CF_EMPTY_NULL) && *copy == '\0') {
			free(copy);
			copy = NULL;
		}
		*(char **)f = copy;
		return true;
	case CT_MODE:
		if ((i = name_index(pm_mode_names, PM_ARRAY_LEN(pm_mode_names), copy)) < 0)
			err_add(ld, o, k->name,
			        "unknown mode \"%.100s\" (want off, log, tag or enforce)", copy);
		else
			*(enum pm_mode *)f = (enum pm_mode)i;
		break;
	case CT_OPT_MODE:
		if (*copy == '\0')
			*(int *)f = -1;
		else if ((i = name_index(pm_mode_names, PM_ARRAY_LEN(pm_mode_names), copy)) < 0)
			err_add(ld, o, k->name,
			        "unknown mode \"%.100s\" (want off, log, tag or enforce)", copy);
		else
			*(int *)f = i;
		break;
	case CT_QUARANTINE:
		if ((i = name_index(quarantine_names, PM_ARRAY_LEN(quarantine_names), copy)) < 0)
			err_add(ld, o, k->name,
			        "unknown quarantine action \"%.100s\" (want tag or hold)", copy);
		else
			*(enum pm_quarantine *)f = (enum pm_quarantine)i;
		break;
	case CT_DNSBL_ACTION:
		if ((i = name_index(dnsbl_action_names, PM_ARRAY_LEN(dnsbl_action_names), copy)) <
		    0)
			err_add(ld, o, k->name,
			        "unknown DNSBL action \"%.100s\" (want reject or tag)", copy);
		else
			*(enum pm_dnsbl_action *)f = (enum pm_dnsbl_action)i;
		break;
	case CT_BOOL: /* built-in defaults only: the file gives a libconfig boolean */
		if (strcmp(copy, "true") == 0 || strcmp(copy, "false") == 0)
			*(bool *)f = strcmp(copy, "true") == 0;
		else
			err_add(ld, o, k->name, "\"%.100s\" is not true or false", copy);
		break;
	case CT_ACTION:
		i = name_index(pm_action_names, PM_ARRAY_LEN(pm_action_names), copy);
		if (i < 0)
			err_add(ld, o, k->name,
			        "unknown action \"%.100s\" (want accept, reject or tempfail)",
			        copy);
		else if (i == PM_ACT_REJECT && (k->flags & CF_NO_REJECT))
			err_add(ld, o, k->name,
			        "\"reject\" is not allowed here: a temporary problem must never "
			        "become a permanent 5xx refusal (want tempfail or accept)");
		else
			*(enum pm_action *)f = (enum pm_action)i;
		break;
	case CT_OCTAL: {
		size_t n = strspn(copy, "01234567");

		if (n == 0 || copy[n] != '\0' || n > 5 || strtol(copy, NULL, 8) > 07777)
			err_add(ld, o, k->name,
			        "\"%.100s\" is not a file mode: want octal digits such as \"0660\"",
			        copy);
		else
			*(mode_t *)f = (mode_t)strtol(copy, NULL, 8);
		break;
	}
	case CT_FACILITY:
		if ((i = log_facility_parse(copy)) < 0)
			err_add(ld, o, k->name,
			        "unknown syslog facility \"%.100s\" (want mail, daemon, user or "
			        "local0..local7)",
			        copy);
		else
			*(int *)f = i;
		break;
	case CT_REPLY:
		msg = reply_parse(copy, (k->flags & CF_4XX_ONLY) != 0, (struct pm_reply *)f, buf,
		                  sizeof(buf));
		if (msg != NULL)
			err_add(ld, o, k->name, "%s", msg);
		break;
	default:
		pm_fatal("config: key %s: not a string type", k->name);
	}
	free(copy);
	return ld->errs->n == nerrs;
}

/* set_string_value - convert one string value into k's field in the snapshot */
static void set_string_value(struct loader *ld, const struct cfg_key *k, const char *s,
                             const struct origin *o)
{
	(void)set_value_at(ld, k, s, o, (char *)ld->p);
}

/*
 * add_list_element_at - convert one element of a list value into k's
 * field at base + k->off (base: the snapshot, or one element of a list of
 * groups)
 */
static void add_list_element_at(struct loader *ld, const struct cfg_key *k, const char *s,
                                size_t idx, const struct origin *o, char *base)
{
	void *f = base + k->off;
	char buf[640];
	const char *msg;

	if (k->type == CT_CIDRS) {
		struct pm_cidr_list *l = f;
		struct pm_cidr c;

		if (pm_cidr_parse(s, &c, &msg) != 0) {
			err_add(ld, o, k->name, "element %zu \"%.100s\": %s", idx + 1, s,
			        msg != NULL ? msg : "not an address or network");
			return;
		}
		l->v = xrealloc(l->v, (l->n + 1) * sizeof(*l->v));
		l->v[l->n++] = c;
	} else {
		char ***v = f;
		size_t *n = (size_t *)(base + k->count_off);
		char *copy = xstrdup(s);

		if (k->check != NULL && (msg = k->check(&copy, buf, sizeof(buf))) != NULL) {
			err_add(ld, o, k->name, "element %zu: %s", idx + 1, msg);
			free(copy);
			return;
		}
		*v = xrealloc(*v, (*n + 1) * sizeof(**v));
		(*v)[(*n)++] = copy;
	}
}

/* add_list_element - convert one element of a list value into k's field in the snapshot */
static void add_list_element(struct loader *ld, const struct cfg_key *k, const char *s, size_t idx,
                             const struct origin *o)
{
	add_list_element_at(ld, k, s, idx, o, (char *)ld->p);
}

/* members_of - the CF_MEMBER entries that follow the list of groups k; their count in *n */
static const struct cfg_key *members_of(const struct cfg_key *k, size_t *n)
{
	const struct cfg_key *end = settings + NSETTINGS;

	*n = 0;
	while (k + 1 + *n < end && (k[1 + *n].flags & CF_MEMBER))
		(*n)++;
	return k + 1;
}

/*
 * member_list - "domain and mode": the member names of list k (only the
 * required ones when required), for messages
 */
static void member_list(const struct cfg_key *k, bool required, struct strbuf *sb)
{
	size_t n, m = 0, shown = 0;
	const struct cfg_key *mem = members_of(k, &n);

	for (size_t j = 0; j < n; j++)
		if (!required || !(mem[j].flags & CF_OPTIONAL))
			m++;
	for (size_t j = 0; j < n; j++) {
		if (required && (mem[j].flags & CF_OPTIONAL))
			continue;
		shown++;
		sb_appendf(sb, "%s%s",
		           shown == 1   ? ""
		           : shown == m ? " and "
		                        : ", ",
		           mem[j].name + strlen(k->name) + 1);
	}
}

/* free_element - free the strings one element of list k owns (not the element) */
static void free_element(const struct cfg_key *k, char *elem)
{
	size_t n;
	const struct cfg_key *mem = members_of(k, &n);

	for (size_t j = 0; j < n; j++) {
		if (mem[j].type == CT_STRING) {
			free(*(char **)(elem + mem[j].off));
		} else if (mem[j].type == CT_STRLIST) {
			char **v = *(char ***)(elem + mem[j].off);
			size_t count = *(size_t *)(elem + mem[j].count_off);

			for (size_t i = 0; i < count; i++)
				free(v[i]);
			free(v);
		}
	}
}

/*
 * set_member - convert setting m, member mem of one element (elem) of a
 * list of groups: a string, or for CT_STRLIST a list of strings
 */
static void set_member(struct loader *ld, const struct cfg_key *mem, config_setting_t *m,
                       const struct origin *mo, char *elem)
{
	int type = config_setting_type(m);

	if (mem->type != CT_STRLIST) {
		if (type != CONFIG_TYPE_STRING)
			err_add(ld, mo, mem->name, "wrong type: got %s, want a string",
			        type_name(type));
		else
			(void)set_value_at(ld, mem, config_setting_get_string(m), mo, elem);
		return;
	}
	if (type != CONFIG_TYPE_ARRAY && type != CONFIG_TYPE_LIST) {
		err_add(ld, mo, mem->name, "wrong type: got %s, want %s", type_name(type),
		        expected_type(CT_STRLIST));
		return;
	}
	for (int i = 0; i < config_setting_length(m); i++) {
		config_setting_t *e = config_setting_get_elem(m, (unsigned)i);

		if (config_setting_type(e) != CONFIG_TYPE_STRING)
			err_add(ld, mo, mem->name, "wrong type: element %d is %s, want a string",
			        i + 1, type_name(config_setting_type(e)));
		else
			add_list_element_at(ld, mem, config_setting_get_string(e), (size_t)i, mo,
			                    elem);
	}
}

/* set_member_default - an optional member left out of a group gets its default */
static void set_member_default(struct loader *ld, const struct cfg_key *mem, const struct origin *o,
                               char *elem)
{
	if (mem->type == CT_STRLIST) {
		char *copy = xstrdup(mem->def != NULL ? mem->def : ""), *save = NULL;
		size_t i = 0;

		for (char *w = strtok_r(copy, " ", &save); w != NULL;
		     w = strtok_r(NULL, " ", &save))
			add_list_element_at(ld, mem, w, i++, o, elem);
		free(copy);
		return;
	}
	(void)set_value_at(ld, mem, mem->def != NULL ? mem->def : "", o, elem);
}

#define MAX_MEMBERS 8

/*
 * add_group_element - convert group g, element idx of the list of groups
 * k, and append it to k's array; nothing is appended when it has an error
 */
static void add_group_element(struct loader *ld, const struct cfg_key *k, config_setting_t *g,
                              int idx)
{
	size_t nmem, nmissing = 0, *count = field(ld->p, k->count_off);
	const struct cfg_key *mem = members_of(k, &nmem);
	bool present[MAX_MEMBERS] = {false};
	struct origin where[MAX_MEMBERS], go = origin_of(ld, g);
	size_t nerrs = ld->errs->n;
	char *elem = xcalloc(1, k->elem_size), *array;
	struct strbuf names, dotted;

	if (nmem == 0 || nmem > MAX_MEMBERS)
		pm_fatal("config: list %s: %zu members", k->name, nmem);
	sb_init(&names);
	member_list(k, false, &names);
	sb_init(&dotted);
	for (int i = 0; i < config_setting_length(g); i++) {
		config_setting_t *m = config_setting_get_elem(g, (unsigned)i);
		struct origin mo = origin_of(ld, m);
		const char *name = config_setting_name(m);
		size_t j;

		sb_reset(&dotted);
		sb_appendf(&dotted, "%s.%s", k->name, name != NULL ? name : "?");
		for (j = 0; j < nmem && strcmp(mem[j].name, dotted.s) != 0; j++)
			;
		if (j == nmem) {
			err_add(ld, &mo, dotted.s, "unknown key (a group of %s holds %s)", k->name,
			        names.s);
			continue;
		}
		present[j] = true;
		where[j] = mo;
		set_member(ld, &mem[j], m, &mo, elem);
	}
	sb_reset(&dotted); /* now the names of the missing members */
	for (size_t j = 0; j < nmem; j++) {
		if (present[j])
			continue;
		if (mem[j].flags & CF_OPTIONAL) {
			where[j] = go;
			set_member_default(ld, &mem[j], &go, elem);
			continue;
		}
		sb_appendf(&dotted, "%s%s", nmissing++ == 0 ? "" : " and ",
		           mem[j].name + strlen(k->name) + 1);
	}
	if (nmissing > 0) {
		sb_reset(&names);
		member_list(k, true, &names);
		err_add(ld, &go, k->name, "element %d: %s %s missing (each group needs %s)",
		        idx + 1, dotted.s, nmissing > 1 ? "are" : "is", names.s);
	}
	if (k->elem_check != NULL && ld->errs->n == nerrs)
		k->elem_check(ld, elem, &go, idx);
	memcpy(&array, field(ld->p, k->off), sizeof(array));
	for (size_t j = 0; j < nmem && ld->errs->n == nerrs; j++) {
		const char *v;

		if (!(mem[j].flags & CF_UNIQUE) || mem[j].type != CT_STRING)
			continue;
		v = *(char **)(elem + mem[j].off);
		for (size_t e = 0; e < *count; e++)
			if (strcmp(*(char **)(array + e * k->elem_size + mem[j].off), v) == 0) {
				err_add(ld, &where[j], mem[j].name,
				        "element %d: \"%.300s\" is already given by an earlier "
				        "element (each may appear once)",
				        idx + 1, v);
				break;
			}
	}
	if (ld->errs->n == nerrs) {
		array = xrealloc(array, (*count + 1) * k->elem_size);
		memcpy(array + *count * k->elem_size, elem, k->elem_size);
		(*count)++;
		memcpy(field(ld->p, k->off), &array, sizeof(array));
	} else {
		free_element(k, elem);
	}
	free(elem);
	sb_free(&dotted);
	sb_free(&names);
}

/* set_from_setting - convert the value of setting s (named by k) into the snapshot */
static void set_from_setting(struct loader *ld, const struct cfg_key *k, config_setting_t *s)
{
	struct origin o = origin_of(ld, s);
	int type = config_setting_type(s);

	switch (k->type) {
	case CT_GROUP:
		pm_fatal("config: set_from_setting on group %s", k->name);
	case CT_INT: {
		long long v;

		if (type != CONFIG_TYPE_INT && type != CONFIG_TYPE_INT64)
			goto wrong_type;
		v = config_setting_get_int64(s);
		if (v < k->min || v > k->max)
			err_add(ld, &o, k->name, "%lld out of range: want %d..%d", v, k->min,
			        k->max);
		else
			*(int *)field(ld->p, k->off) = (int)v;
		return;
	}
	case CT_BOOL:
		if (type != CONFIG_TYPE_BOOL)
			goto wrong_type;
		*(bool *)field(ld->p, k->off) = config_setting_get_bool(s) != 0;
		return;
	case CT_GROUPLIST:
		if (type != CONFIG_TYPE_ARRAY && type != CONFIG_TYPE_LIST)
			goto wrong_type;
		for (int i = 0; i < config_setting_length(s); i++) {
			config_setting_t *e = config_setting_get_elem(s, (unsigned)i);

			if (config_setting_type(e) != CONFIG_TYPE_GROUP) {
				struct strbuf names;

				sb_init(&names);
				member_list(k, false, &names);
				err_add(ld, &o, k->name,
				        "wrong type: element %d is %s, want a group { ... } of %s",
				        i + 1, type_name(config_setting_type(e)), names.s);
				sb_free(&names);
				continue;
			}
			add_group_element(ld, k, e, i);
		}
		return;
	case CT_CIDRS:
	case CT_STRLIST:
		if (type != CONFIG_TYPE_ARRAY && type != CONFIG_TYPE_LIST)
			goto wrong_type;
		for (int i = 0; i < config_setting_length(s); i++) {
			config_setting_t *e = config_setting_get_elem(s, (unsigned)i);
			/*
			 * The key's line, not the element's: libconfig dates an
			 * element after its look-ahead token (adjacent strings
			 * concatenate), one line late for a last element.
			 */
			struct origin eo = o;

			if (config_setting_type(e) != CONFIG_TYPE_STRING) {
				err_add(ld, &eo, k->name,
				        "wrong type: element %d is %s, want a string", i + 1,
				        type_name(config_setting_type(e)));
				continue;
			}
			add_list_element(ld, k, config_setting_get_string(e), (size_t)i, &eo);
		}
		return;
	default:
		if (type != CONFIG_TYPE_STRING)
			goto wrong_type;
		set_string_value(ld, k, config_setting_get_string(s), &o);
		return;
	}
wrong_type:
	err_add(ld, &o, k->name, "wrong type: got %s, want %s", type_name(type),
	        expected_type(k->type));
}

/* set_default - give an absent key its default, through the same conversion */
static void set_default(struct loader *ld, const struct cfg_key *k)
{
	struct origin o = {ld->path, 0};

	if (k->flags & CF_MEMBER)
		return;
	switch (k->type) {
	case CT_GROUP:
		return;
	case CT_GROUPLIST:
		if (*k->def != '\0')
			pm_fatal("config: list %s: only an empty default is supported", k->name);
		return;
	case CT_INT: {
		int v = (int)strtol(k->def, NULL, 10);

		if (v < k->min || v > k->max)
			err_add(ld, &o, k->name, "%d out of range: want %d..%d", v, k->min, k->max);
		*(int *)field(ld->p, k->off) = v;
		return;
	}
	case CT_CIDRS:
	case CT_STRLIST: {
		char *copy = xstrdup(k->def), *save = NULL;
		size_t i = 0;

		for (char *w = strtok_r(copy, " ", &save); w != NULL;
		     w = strtok_r(NULL, " ", &save))
			add_list_element(ld, k, w, i++, &o);
		free(copy);
		return;
	}
	default:
		set_string_value(ld, k, k->def, &o);
		return;
	}
}

/* find_key - the table entry for a dotted name, or NULL */
static const struct cfg_key *find_key(const char *dotted)
{
	for (size_t i = 0; i < NSETTINGS; i++)
		if (strcmp(settings[i].name, dotted) == 0)
			return &settings[i];
	return NULL;
}

/* walk - check every setting of group g (prefix "" at the top) and convert its values */
static void walk(struct loader *ld, config_setting_t *g, const char *prefix)
{
	for (int i = 0; i < config_setting_length(g); i++) {
		config_setting_t *s = config_setting_get_elem(g, (unsigned)i);
		const char *name = config_setting_name(s);
		const struct cfg_key *k;
		struct origin o = origin_of(ld, s);
		struct strbuf dotted;

		sb_init(&dotted);
		if (*prefix != '\0')
			sb_appendf(&dotted, "%s.", prefix);
		sb_append(&dotted, name != NULL ? name : "?");
		k = find_key(dotted.s);
		if (k == NULL || (k->flags & CF_MEMBER)) {
			err_add(ld, &o, dotted.s, "%s",
			        config_setting_is_group(s) ? "unknown group" : "unknown key");
		} else {
			ld->seen[k - settings] = true;
			ld->where[k - settings] = o;
			if (k->type != CT_GROUP)
				set_from_setting(ld, k, s);
			else if (!config_setting_is_group(s))
				err_add(ld, &o, dotted.s,
				        "wrong type: got %s, want a group { ... }",
				        type_name(config_setting_type(s)));
			else
				walk(ld, s, dotted.s);
		}
		sb_free(&dotted);
	}
}

/* default_authserv_id - the host name (or "localhost" when there is none) */
static char *default_authserv_id(void)
{
	char host[HOST_NAME_MAX + 1];

	if (gethostname(host, sizeof(host)) != 0 || host[0] == '\0')
		return xstrdup("localhost");
	host[sizeof(host) - 1] = '\0';
	return xstrdup(host);
}

/*
 * slurp_regular - the whole content of path, a regular file, opened
 * without blocking (a FIFO must not hang a load), NUL-terminated, its
 * length in *len; NULL with the reason in buf
 */
static char *slurp_regular(const char *path, size_t *len, char *buf, size_t bufsize)
{
	struct stat st;
	struct strbuf sb;
	char chunk[8192];
	ssize_t n;
	int fd;

	if ((fd = open(path, O_RDONLY | O_NONBLOCK | O_CLOEXEC)) < 0) {
		snprintf(buf, bufsize, "cannot open: %s", strerror(errno));
		return NULL;
	}
	if (fstat(fd, &st) != 0 || !S_ISREG(st.st_mode)) {
		snprintf(buf, bufsize, "cannot read: not a regular file");
		close(fd);
		return NULL;
	}
	sb_init(&sb);
	while ((n = read(fd, chunk, sizeof(chunk))) != 0) {
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0) {
			snprintf(buf, bufsize, "cannot read: %s", strerror(errno));
			sb_free(&sb);
			close(fd);
			return NULL;
		}
		sb_appendn(&sb, chunk, (size_t)n);
	}
	close(fd);
	*len = sb.len;
	return sb_steal(&sb);
}

#define INCLUDE_DEPTH_MAX 10 /* libconfig's MAX_INCLUDE_DEPTH */

/* include_name - NAME of an @include line's [p, end) after the '"'; false when unterminated */
static bool include_name(const char *p, const char *end, struct strbuf *name)
{
	while (p < end && *p != '"') {
		const char *run = p;

		if (*p == '\\') {
			/* \\ and \" are escapes; libconfig's scanner drops any other backslash */
			if (p + 1 < end && (p[1] == '\\' || p[1] == '"'))
				sb_appendc(name, p[1]);
			p += p + 1 < end && (p[1] == '\\' || p[1] == '"') ? 2 : 1;
			continue;
		}
		while (p < end && *p != '"' && *p != '\\')
			p++;
		/* libconfig appends each run as a C string: up to its first NUL */
		sb_appendn(name, run, strnlen(run, (size_t)(p - run)));
	}
	return p < end;
}

/*
 * check_includes - libconfig 1.5 opens an "@include" file with fopen(),
 * which blocks on a FIFO, and its flex scanner calls exit() when reading
 * fails ("input in flex scanner failed": @include "" or "." names the
 * directory), which would end the daemon at a reload. So every line
 * [ \t]*@include[ \t]+"NAME" of file (text, len bytes) is looked at
 * before libconfig reads it, in libconfig's order and way: NAME with \\
 * and \" undone, below dir (the include directory, NULL: none) when
 * there is one; something there that is not a regular file is an error,
 * and a regular file is checked the same way, depth first. A missing
 * file, or nesting deeper than libconfig allows, is left for libconfig to
 * report (*stop set: it stops there). A line inside a comment or a
 * string that looks like an @include is checked too (stricter than
 * libconfig). false when an error was recorded.
 */
static bool check_includes(struct loader *ld, const char *file, const char *text, size_t len,
                           const char *dir, int depth, bool *stop)
{
	const char *line = text, *eot = text + len;
	bool ok = true;
	int lineno = 1;

	for (; line < eot && !*stop; lineno++) {
		const char *eol = memchr(line, '\n', (size_t)(eot - line)), *p = line;
		struct strbuf name, full;
		struct origin o = {file, lineno};
		struct stat st;
		bool found;
		char why[256], *inc;
		size_t inclen;

		line = eol != NULL ? eol + 1 : eot;
		while (p < eot && (*p == ' ' || *p == '\t'))
			p++;
		if (eot - p < 10 || memcmp(p, "@include", 8) != 0 || (p[8] != ' ' && p[8] != '\t'))
			continue;
		for (p += 8; p < eot && (*p == ' ' || *p == '\t'); p++)
			;
		if (p >= eot || *p++ != '"')
			continue;
		sb_init(&name);
		if (!include_name(p, eot, &name)) {
			sb_free(&name); /* unterminated: a syntax error for libconfig */
			continue;
		}
		sb_init(&full);
		if (dir != NULL)
			sb_appendf(&full, "%s/", dir);
		sb_append(&full, name.s);
		found = stat(full.s, &st) == 0;
		if (found && !S_ISREG(st.st_mode)) {
			err_add(ld, &o, "", "@include \"%s\": %s: not a regular file", name.s,
			        full.s);
			ok = false;
		} else if (!found || depth + 1 > INCLUDE_DEPTH_MAX ||
		           (inc = slurp_regular(full.s, &inclen, why, sizeof(why))) == NULL) {
			/*
			 * libconfig: "cannot open include file", "include file nesting
			 * too deep"; or changed since the stat, or unreadable: libconfig says
			 */
			*stop = true;
		} else {
			if (!check_includes(ld, full.s, inc, inclen, dir, depth + 1, stop))
				ok = false;
			free(inc);
		}
		sb_free(&name);
		sb_free(&full);
	}
	return ok;
}

/* read_file - parse path into cfg; false (with the error recorded) on I/O or syntax errors */
static bool read_file(struct loader *ld, config_t *cfg)
{
	char *dir, *slash, *text, why[256];
	bool stop = false, ok;
	size_t len;

	if ((text = slurp_regular(ld->path, &len, why, sizeof(why))) == NULL) {
		err_add(ld, NULL, "", "%s", why);
		return false;
	}
	dir = xstrdup(ld->path);
	if ((slash = strrchr(dir, '/')) != NULL) {
		slash[slash == dir ? 1 : 0] = '\0';
		config_set_include_dir(cfg, dir);
	}
	ok = check_includes(ld, ld->path, text, len, slash != NULL ? dir : NULL, 0, &stop);
	free(text);
	free(dir);
	if (!ok)
		return false;
	if (config_read_file(cfg, ld->path) == CONFIG_TRUE)
		return true;
	if (config_error_type(cfg) == CONFIG_ERR_FILE_IO) {
		struct origin o = {config_error_file(cfg), 0};

		err_add(ld, &o, "", "cannot read: %s", config_error_text(cfg));
	} else {
		struct origin o = {config_error_file(cfg), config_error_line(cfg)};

		err_add(ld, &o, "", "%s", config_error_text(cfg));
	}
	return false;
}

/* key_origin - where the named key was set, or its built-in default */
static struct origin key_origin(const struct loader *ld, const char *name)
{
	const struct cfg_key *k = find_key(name);
	struct origin o = {ld->path, 0};

	if (k == NULL)
		pm_fatal("config: no key %s", name);
	return ld->seen[k - settings] ? ld->where[k - settings] : o;
}

/*
 * psl_needed_by - why the policy ld builds needs the public suffix list,
 * into buf (for the error when it cannot be loaded); NULL when it does
 * not: neither DMARC (policy_dmarc_on) nor dkim.must_sign can run
 */
static const char *psl_needed_by(const struct policy *p, char *buf, size_t bufsize)
{
	const struct dmarc_settings *d = &p->dmarc;

	if (!policy_dmarc_on(p))
		return p->dkim.nmust_sign > 0
		           ? "dkim.must_sign needs it to align a subdomain with its parent "
		             "domain: install it, e.g. Debian's publicsuffix package"
		           : NULL;
	if (d->mode != PM_MODE_OFF)
		return "DMARC needs it: install it, e.g. Debian's publicsuffix package, or set "
		       "dmarc.mode = \"off\"";
	for (size_t i = 0; i < d->ndomain_modes; i++)
		if (d->domain_modes[i].mode != PM_MODE_OFF) {
			snprintf(buf, bufsize,
			         "DMARC needs it: dmarc.domain_modes turns DMARC on for %s",
			         d->domain_modes[i].domain);
			return buf;
		}
	for (size_t i = 0; i < p->noverrides; i++)
		if (p->overrides[i].mode[PM_CHECK_DMARC] > PM_MODE_OFF) {
			const struct pm_override *ov = &p->overrides[i];

			snprintf(buf, bufsize, "DMARC needs it: an override turns DMARC on for %s",
			         ov->sender_domain != NULL ? ov->sender_domain
			                                   : ov->recipient_domain);
			return buf;
		}
	return "DMARC needs it";
}

/*
 * load_psl - the public suffix list into the snapshot whenever DMARC or
 * dkim.must_sign can use it; the current snapshot's list is shared when
 * its file is unchanged (psl_load), otherwise the file is read again
 */
static void load_psl(struct loader *ld)
{
	struct policy *p = ld->p, *cur;
	char why[1400], need[600];
	const char *by = psl_needed_by(p, need, sizeof(need));

	if (by == NULL || p->dmarc.public_suffix_list == NULL)
		return; /* not needed, or its value was refused (reported) */
	cur = policy_acquire();
	p->psl =
	    psl_load(p->dmarc.public_suffix_list, cur != NULL ? cur->psl : NULL, why, sizeof(why));
	policy_release(cur);
	if (p->psl == NULL) {
		struct origin o = key_origin(ld, "dmarc.public_suffix_list");

		err_add(ld, &o, "dmarc.public_suffix_list",
		        "cannot use the public suffix list: %s (%s)", why, by);
	}
}

/*
 * check_dmarc - the checks that span several dmarc keys: the public
 * suffix list must be usable whenever it is needed (load_psl), and no
 * domain may be both never refused and always rejected
 */
static void check_dmarc(struct loader *ld)
{
	const struct dmarc_settings *d = &ld->p->dmarc;

	load_psl(ld);
	for (size_t i = 0; i < d->nalways_reject; i++)
		for (size_t j = 0; j < d->nnever_enforce; j++)
			if (strcmp(d->always_reject[i], d->never_enforce[j]) == 0) {
				struct origin o = key_origin(ld, "dmarc.always_reject");

				err_add(ld, &o, "dmarc.always_reject",
				        "\"%s\" is in dmarc.never_enforce too: a domain cannot be "
				        "both never refused and always rejected",
				        d->always_reject[i]);
			}
}

/*
 * check_override - one group of overrides: exactly one of
 * for_sender_domain and for_recipient_domain, and one check key at least
 */
static void check_override(struct loader *ld, char *elem, const struct origin *o, int idx)
{
	const struct pm_override *ov = (const struct pm_override *)elem;
	bool named = false;

	if ((ov->sender_domain == NULL) == (ov->recipient_domain == NULL))
		err_add(ld, o, "overrides",
		        "element %d: give exactly one of for_sender_domain and "
		        "for_recipient_domain",
		        idx + 1);
	for (int c = 0; c < PM_CHECKS; c++)
		if (ov->mode[c] >= 0)
			named = true;
	if (!named)
		err_add(ld, o, "overrides",
		        "element %d: names no check (give the mode of one or more of iprev, "
		        "helo_spf, spf, sender_domain, dkim and dmarc)",
		        idx + 1);
}

/* override_rules - each override's rule text, "overrides.for_sender_domain=DOMAIN" */
static void override_rules(struct policy *p)
{
	for (size_t i = 0; i < p->noverrides; i++) {
		struct pm_override *ov = &p->overrides[i];
		struct strbuf sb;

		sb_init(&sb);
		if (ov->sender_domain != NULL)
			sb_appendf(&sb, "overrides.for_sender_domain=%s", ov->sender_domain);
		else
			sb_appendf(&sb, "overrides.for_recipient_domain=%s",
			           ov->recipient_domain != NULL ? ov->recipient_domain : "");
		ov->rule = xstrdup(sb.s);
		sb_free(&sb);
	}
}

/*
 * element_line - the line of a list element whose quoted value is value:
 * libconfig dates an element after its look-ahead token, one line late
 * when the "," or "]" after it is on a later line, so the lines from lo
 * (the previous element's) to hi (libconfig's) are searched for
 * "value", last first. hi when it is not found (escapes in the value)
 * or the file cannot be read.
 */
static int element_line(const char *file, int lo, int hi, const char *value)
{
	char *line = NULL, *want;
	size_t cap = 0;
	int n = 0, found = hi;
	FILE *fp;

	if (lo >= hi || lo <= 0 || file == NULL || (fp = fopen(file, "r")) == NULL)
		return hi;
	want = xmalloc(strlen(value) + 3);
	snprintf(want, strlen(value) + 3, "\"%s\"", value);
	while (getline(&line, &cap, fp) >= 0 && ++n <= hi)
		if (n >= lo && strstr(line, want) != NULL)
			found = n;
	free(want);
	free(line);
	fclose(fp);
	return found;
}

/*
 * build_list - the allow (or block) list of one kind from its inline
 * entries (read again from the libconfig tree, for their lines) and its
 * file; list_new's errors become "file:line: key: message": an inline
 * entry at its line in the policy file, a bad line of the list file at
 * that line, an unreadable file at the policy file's *_file key
 */
static void build_list(struct loader *ld, config_t *cfg, enum list_kind kind, bool allow)
{
	struct list_settings *ls = &ld->p->lists[kind];
	const char *path = allow ? ls->allow_file : ls->block_file;
	struct list_errors errs = {NULL, 0};
	char key[48], fkey[64];
	const char **entries = NULL;
	config_setting_t *s;
	struct pm_list *l;
	struct origin ko;
	int *lines = NULL;
	size_t n = 0;

	snprintf(key, sizeof(key), "lists.%s.%s", list_kind_name(kind), allow ? "allow" : "block");
	snprintf(fkey, sizeof(fkey), "%s_file", key);
	ko = key_origin(ld, key);
	s = config_lookup(cfg, key);
	if (s != NULL && (config_setting_type(s) == CONFIG_TYPE_ARRAY ||
	                  config_setting_type(s) == CONFIG_TYPE_LIST)) {
		int len = config_setting_length(s), prev = ko.line;

		entries = xcalloc((size_t)len + 1, sizeof(*entries));
		lines = xcalloc((size_t)len + 1, sizeof(*lines));
		for (int i = 0; i < len; i++) {
			config_setting_t *e = config_setting_get_elem(s, (unsigned)i);

			if (config_setting_type(e) != CONFIG_TYPE_STRING)
				continue; /* reported by the table walk */
			entries[n] = config_setting_get_string(e);
			lines[n] = element_line(ko.file, prev, (int)config_setting_source_line(e),
			                        entries[n]);
			prev = lines[n++];
		}
	}
	if (n > 0 || path != NULL) {
		l = list_new(kind, key, entries, n, path, &errs);
		for (size_t i = 0; i < errs.n; i++) {
			const struct list_error *e = &errs.v[i];
			struct origin o = ko;

			if (e->file == NULL) {
				if (e->index < n)
					o.line = lines[e->index];
				err_add(ld, &o, key, "%s", e->message);
			} else if (e->line > 0) {
				o.file = e->file;
				o.line = (int)e->line;
				err_add(ld, &o, fkey, "%s", e->message);
			} else {
				o = key_origin(ld, fkey);
				err_add(ld, &o, fkey, "%s: %s", e->file, e->message);
			}
		}
		list_errors_free(&errs);
		if (allow)
			ls->allow_list = l;
		else
			ls->block_list = l;
	}
	free(entries);
	free(lines);
}

/*
 * build_recipients - recipients.file read into the snapshot's table (or
 * the current snapshot's table shared, when the file is unchanged); a
 * file that cannot be used is an error at recipients.file
 */
static void build_recipients(struct loader *ld)
{
	struct recipient_settings *rs = &ld->p->recipients;
	struct policy *cur;
	char why[512];

	if (rs->file == NULL || rs->file[0] == '\0')
		return;
	cur = policy_acquire();
	rs->file_table =
	    rcpt_file_load(rs->file, cur ? cur->recipients.file_table : NULL, why, sizeof(why));
	if (cur != NULL)
		policy_release(cur);
	if (rs->file_table == NULL) {
		struct origin o = key_origin(ld, "recipients.file");

		err_add(ld, &o, "recipients.file", "cannot use recipients file: %s",
		        why[0] != '\0' ? why : "unreadable");
	}
}

/*
 * check_socket_dir - a unix milter.socket must not be in a world-writable
 * directory (a missing one is reported at start, where it matters)
 */
static void check_socket_dir(struct loader *ld)
{
	const char *s = ld->p->milter.socket;
	char why[PATH_MAX + 400];

	if (s == NULL || strncmp(s, "unix:", 5) != 0 || s[5] != '/')
		return;
	if (pm_socket_dir_unsafe(s + 5, why, sizeof(why)) != NULL) {
		struct origin o = key_origin(ld, "milter.socket");

		err_add(ld, &o, "milter.socket", "%s", why);
	}
}

/* build_lists - every allow and block list (before config_destroy: build_list reads the tree) */
static void build_lists(struct loader *ld, config_t *cfg)
{
	for (int k = 0; k < PM_LIST_KINDS; k++) {
		build_list(ld, cfg, (enum list_kind)k, true);
		build_list(ld, cfg, (enum list_kind)k, false);
	}
}

/* config_load - read and validate a policy file; a new snapshot (refcount 1) or NULL */
struct policy *config_load(const char *path, struct config_errors *errs)
{
	struct loader ld;
	config_t cfg;
	bool parsed;

	memset(&ld, 0, sizeof(ld));
	ld.path = path;
	ld.errs = errs;
	errs->v = NULL;
	errs->n = 0;
	ld.p = xcalloc(1, sizeof(*ld.p));
	ld.p->refcount = 1;
	ld.p->path = xstrdup(path);

	config_init(&cfg);
	parsed = read_file(&ld, &cfg);
	/*
	 * Defaults even after errors in the values (defaults cannot fail), so
	 * that the checks spanning several keys run and report in the same
	 * pass; a key whose value was refused stays zero (a mode off, a path
	 * NULL) and is not checked again. A file that did not parse is
	 * reported alone. The checks run before config_destroy(): ld.where
	 * points at file names libconfig owns.
	 */
	if (parsed) {
		walk(&ld, config_root_setting(&cfg), "");
		for (size_t i = 0; i < NSETTINGS; i++)
			if (!ld.seen[i])
				set_default(&ld, &settings[i]);
		check_dmarc(&ld);
		check_socket_dir(&ld);
		build_lists(&ld, &cfg);
		build_recipients(&ld);
	}
	config_destroy(&cfg);
	if (errs->n != 0) {
		policy_release(ld.p);
		return NULL;
	}
	if (ld.p->authserv_id[0] == '\0') {
		free(ld.p->authserv_id);
		ld.p->authserv_id = default_authserv_id();
	}
	if (ld.p->spf.receiver[0] == '\0') {
		free(ld.p->spf.receiver);
		ld.p->spf.receiver = xstrdup(ld.p->authserv_id);
	}
	override_rules(ld.p);
	ld.p->generation = __atomic_add_fetch(&load_generation, 1, __ATOMIC_RELAXED);
	return ld.p;
}

/* config_errors_print - call emit with one "file:line: key: message" line per error */
void config_errors_print(const struct config_errors *errs,
                         void (*emit)(const char *line, void *arg), void *arg)
{
	struct strbuf sb;

	sb_init(&sb);
	for (size_t i = 0; i < errs->n; i++) {
		const struct config_error *e = &errs->v[i];

		sb_reset(&sb);
		sb_append(&sb, e->file);
		if (e->line > 0)
			sb_appendf(&sb, ":%d", e->line);
		sb_append(&sb, ": ");
		if (e->key[0] != '\0')
			sb_appendf(&sb, "%s: ", e->key);
		sb_append(&sb, e->message);
		emit(sb.s, arg);
	}
	sb_free(&sb);
}

/* config_errors_free - free every error; *errs is left empty */
void config_errors_free(struct config_errors *errs)
{
	for (size_t i = 0; i < errs->n; i++) {
		free(errs->v[i].file);
		free(errs->v[i].key);
		free(errs->v[i].message);
	}
	free(errs->v);
	errs->v = NULL;
	errs->n = 0;
}

/* config_keys - call fn with the dotted name of every leaf key, in table order */
void config_keys(void (*fn)(const char *dotted_key, void *arg), void *arg)
{
	for (size_t i = 0; i < NSETTINGS; i++)
		if (settings[i].type != CT_GROUP && settings[i].type != CT_GROUPLIST)
			fn(settings[i].name, arg);
}
