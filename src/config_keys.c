/*
 * NAME
 *	config_keys 3 - the policy file's key table and value validators
 * SYNOPSIS
 *	#include "config.h"
 *
 *	void config_keys(void (*fn)(const char *dotted_key, void *arg), void *arg);
 *	const char *config_check_socket(const char *spec, char *buf, size_t bufsize);
 *
 *	#include "config_int.h"
 *
 *	const struct cfg_key *cfg_find_key(const char *dotted);
 *	const char *cfg_reply_parse(const char *s, bool only_4xx, struct pm_reply *r,
 *				    char *buf, size_t bufsize);
 * DESCRIPTION
 *	One table (cfg_settings[] below) lists every key the policy file may
 *	hold: its dotted name, its type, its default (written the way the
 *	file would write it), its limits or validator, and the field of
 *	struct policy it fills. Parsing, defaults and validation are all
 *	driven by that table (config_load.c), Postfix style: a key absent
 *	from the file gets its default through the same conversion and
 *	checks as a value read from the file.
 *
 *	A value named from a fixed set (state.backend, ratelimits.key, ...)
 *	is a CT_ENUM entry: the enum's value is the index of the name in the
 *	entry's names table (cfg_*_names below), and an unknown name is an
 *	error listing them.
 *
 *	A list of groups (CT_GROUPLIST, such as dmarc.domain_modes) is
 *	followed in the table by its members (CF_MEMBER entries named
 *	"list.member", their field offsets relative to one element); its
 *	elem_check (config_check.c) judges the members of one element
 *	together.
 *
 *	The validators here judge one value each, and may rewrite it into
 *	its canonical form (a lower-cased domain, a normalised address). The
 *	names of modes, actions and reply placeholders come from policy.c's
 *	tables (pm_mode_names, pm_action_names, pm_placeholder_names), and
 *	so do the lists of them in messages.
 *
 *	config_keys() calls fn once per leaf key (groups are not listed),
 *	in table order; tests use it to check that every key is documented.
 * DIAGNOSTICS
 *	A validator returns NULL or its message; nothing here logs.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>

#include "addr.h"
#include "arc.h"
#include "cidr.h"
#include "config_int.h"
#include "lists.h"
#include "util.h"

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
static const char *check_report_address(char **value, char *buf, size_t bufsize);
static const char *check_report_text(char **value, char *buf, size_t bufsize);
static const char *check_report_path(char **value, char *buf, size_t bufsize);
static const char *check_lmdb_path(char **value, char *buf, size_t bufsize);
static const char *check_redis_server(char **value, char *buf, size_t bufsize);
static const char *check_redis_text(char **value, char *buf, size_t bufsize);
static const char *check_redis_prefix(char **value, char *buf, size_t bufsize);
static const char *check_rule_name(char **value, char *buf, size_t bufsize);
static const char *check_sender_exempt(char **value, char *buf, size_t bufsize);

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
#define ENUM(n, d, field, tbl, wh)                                                                 \
	{                                                                                          \
		.name = (n), .type = CT_ENUM, .def = (d), .off = F(field), .names = (tbl),         \
		.nnames = PM_ARRAY_LEN(tbl), .what = (wh)                                          \
	}
#define RL(field) offsetof(struct ratelimit_rule, field)
#define RLENUM(n, d, field, tbl, wh, fl)                                                           \
	{                                                                                          \
		.name = "ratelimits." n, .type = CT_ENUM, .def = (d), .off = RL(field),            \
		.flags = CF_MEMBER | (fl), .names = (tbl), .nnames = PM_ARRAY_LEN(tbl),            \
		.what = (wh)                                                                       \
	}
#define RLINT(n, d, field, lo, hi, fl)                                                             \
	{                                                                                          \
		.name = "ratelimits." n, .type = CT_INT, .def = (d), .off = RL(field),             \
		.flags = CF_MEMBER | (fl), .min = (lo), .max = (hi)                                \
	}
#define REPLY(n, id, d, fl)                                                                        \
	{                                                                                          \
		.name = "replies." n, .type = CT_REPLY, .def = (d), .off = F(replies[id]),         \
		.flags = (fl)                                                                      \
	}

const char *const cfg_state_backend_names[STATE_REDIS + 1] = {
    [STATE_LMDB] = "lmdb",
    [STATE_REDIS] = "redis",
};

const char *const cfg_state_failure_names[STATE_FAIL_TEMPFAIL + 1] = {
    [STATE_FAIL_OPEN] = "accept",
    [STATE_FAIL_TEMPFAIL] = "tempfail",
};

const char *const cfg_rl_key_names[RL_KEY_RECIPIENT + 1] = {
    [RL_KEY_CLIENT_ADDR] = "client_address",
    [RL_KEY_CLIENT_NET] = "client_network",
    [RL_KEY_SENDER] = "sender",
    [RL_KEY_SENDER_DOMAIN] = "sender_domain",
    [RL_KEY_SASL_USER] = "sasl_user",
    [RL_KEY_RECIPIENT] = "recipient",
};

const char *const cfg_rl_count_names[RL_COUNT_RECIPIENTS + 1] = {
    [RL_COUNT_MESSAGES] = "messages",
    [RL_COUNT_RECIPIENTS] = "recipients",
};

const char *const cfg_rl_action_names[RL_ACT_LOG + 1] = {
    [RL_ACT_TEMPFAIL] = "tempfail",
    [RL_ACT_REJECT] = "reject",
    [RL_ACT_LOG] = "log",
};

/*
 * Every key of the policy file. Keep conf/policy-milter.conf and
 * man/policy-milter.conf.5 in step (test_config checks both).
 */
const struct cfg_key cfg_settings[] = {
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
    {.name = "dmarc.discovery", .type = CT_DISCOVERY, .def = "treewalk", .off = F(dmarc.discovery)},
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

    GROUP("arc"),
    MODE("arc.mode", "tag", arc.mode),
    DOMAINS("arc.trusted_sealers", arc.trusted_sealers, arc.ntrusted_sealers),
    INT("arc.max_sets", "50", arc.max_sets, 1, ARC_MAX_INSTANCES),

    GROUP("state"),
    ENUM("state.backend", "lmdb", state.backend, cfg_state_backend_names, "state backend"),
    ENUM("state.on_failure", "accept", state.on_failure, cfg_state_failure_names,
         "state.on_failure value"),
    GROUP("state.lmdb"),
    STR("state.lmdb.path", "/var/lib/policy-milter/state.lmdb", state.lmdb_path, 0,
        check_lmdb_path),
    INT("state.lmdb.max_size_mb", "256", state.lmdb_max_mb, 1, 1048576),
    GROUP("state.redis"),
    STR("state.redis.server", "127.0.0.1:6379", state.redis_server, 0, check_redis_server),
    STR("state.redis.username", "", state.redis_username, CF_EMPTY_NULL, check_redis_text),
    STR("state.redis.password", "", state.redis_password, CF_EMPTY_NULL, check_redis_text),
    INT("state.redis.database", "0", state.redis_database, 0, 1000),
    STR("state.redis.prefix", "pm:", state.redis_prefix, 0, check_redis_prefix),
    INT("state.redis.connect_timeout_ms", "500", state.redis_connect_timeout_ms, 1, 60000),
    INT("state.redis.command_timeout_ms", "250", state.redis_command_timeout_ms, 1, 60000),

    GROUP("greylisting"),
    MODE("greylisting.mode", "off", greylist.mode),
    INT("greylisting.delay", "300", greylist.delay, 1, 86400),
    INT("greylisting.retry_window", "86400", greylist.retry_window, 1, 2592000),
    INT("greylisting.lifetime", "3110400", greylist.lifetime, 1, 34560000),
    INT("greylisting.ipv4_prefix", "24", greylist.ipv4_prefix, 8, 32),
    INT("greylisting.ipv6_prefix", "64", greylist.ipv6_prefix, 16, 128),
    INT("greylisting.auto_allow_after", "5", greylist.auto_allow_after, 0, 1000),
    DOMAINS("greylisting.large_senders", greylist.large_senders, greylist.nlarge_senders),
    {.name = "greylisting.exempt_clients",
     .type = CT_CIDRS,
     .def = "",
     .off = F(greylist.exempt_clients)},
    {.name = "greylisting.exempt_recipients",
     .type = CT_STRLIST,
     .def = "",
     .off = F(greylist.exempt_recipients),
     .count_off = F(greylist.nexempt_recipients),
     .check = check_address},

    {.name = "ratelimits",
     .type = CT_GROUPLIST,
     .def = "",
     .off = F(ratelimit.rules),
     .count_off = F(ratelimit.nrules),
     .elem_size = sizeof(struct ratelimit_rule),
     .elem_check = cfg_check_ratelimit},
    {.name = "ratelimits.name",
     .type = CT_STRING,
     .off = RL(name),
     .flags = CF_MEMBER | CF_UNIQUE,
     .check = check_rule_name},
    RLENUM("key", "", key, cfg_rl_key_names, "rate-limit key", 0),
    RLENUM("count", "messages", count, cfg_rl_count_names, "rate-limit count", CF_OPTIONAL),
    RLINT("window", "", window, 1, 2592000, 0),
    RLINT("limit", "", limit, 1, 100000000, 0),
    RLENUM("action", "tempfail", action, cfg_rl_action_names, "rate-limit action", CF_OPTIONAL),
    RLINT("ipv4_prefix", "24", ipv4_prefix, 8, 32, CF_OPTIONAL),
    RLINT("ipv6_prefix", "48", ipv6_prefix, 16, 128, CF_OPTIONAL),
    {.name = "ratelimits.exempt_trusted",
     .type = CT_BOOL,
     .def = "true",
     .off = RL(exempt_trusted),
     .flags = CF_MEMBER | CF_OPTIONAL},
    {.name = "ratelimits.exempt_clients",
     .type = CT_CIDRS,
     .def = "",
     .off = RL(exempt_clients),
     .flags = CF_MEMBER | CF_OPTIONAL},
    {.name = "ratelimits.exempt_senders",
     .type = CT_STRLIST,
     .def = "",
     .off = RL(exempt_senders),
     .count_off = RL(nexempt_senders),
     .flags = CF_MEMBER | CF_OPTIONAL,
     .check = check_sender_exempt},

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
     .elem_check = cfg_check_override},
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

    GROUP("metrics"),
    STR("metrics.listen", "", metrics.listen, CF_EMPTY_NULL, NULL),
    BOOL("metrics.allow_public", "false", metrics.allow_public),

    GROUP("reports"),
    STR("reports.org_name", "", reports.org_name, CF_EMPTY_NULL, check_report_text),
    STR("reports.email", "", reports.email, CF_EMPTY_NULL, check_report_address),
    STR("reports.extra_contact_info", "", reports.extra_contact_info, CF_EMPTY_NULL,
        check_report_text),
    STR("reports.from", "", reports.from, CF_EMPTY_NULL, check_report_address),
    STR("reports.directory", "/var/lib/policy-milter/reports", reports.directory, 0,
        check_report_path),
    STR("reports.state_file", "/var/lib/policy-milter/reports-sent", reports.state_file, 0,
        check_report_path),
    STR("reports.sendmail", "/usr/sbin/sendmail", reports.sendmail, 0, check_report_path),

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
    REPLY("arc_fail", PM_R_ARC_FAIL,
          "550 5.7.29 ARC validation failure: the ARC chain of this message does not verify "
          "(%{result})",
          0),
    REPLY("arc_tempfail", PM_R_ARC_TEMPFAIL,
          "451 4.4.3 ARC validation failed temporarily (DNS error); try again later", CF_4XX_ONLY),
    REPLY("greylisted", PM_R_GREYLISTED,
          "451 4.7.1 <%{rcpt}>: Greylisted: first delivery attempt from your server for this "
          "sender and recipient; please retry in %{retry} seconds",
          CF_4XX_ONLY),
    REPLY("ratelimit_tempfail", PM_R_RATELIMIT_TEMPFAIL,
          "451 4.7.1 Too much mail from you or for this recipient; try again later", CF_4XX_ONLY),
    REPLY("ratelimit_reject", PM_R_RATELIMIT_REJECT,
          "550 5.7.1 Message refused: sending rate limit exceeded", 0),
    REPLY("state_tempfail", PM_R_STATE_TEMPFAIL,
          "451 4.3.0 Temporary local problem; please try again later", CF_4XX_ONLY),
};

const size_t cfg_nsettings = PM_ARRAY_LEN(cfg_settings);

const char *const cfg_quarantine_names[PM_QUARANTINE_HOLD + 1] = {
    [PM_QUARANTINE_TAG] = "tag",
    [PM_QUARANTINE_HOLD] = "hold",
};

const char *const cfg_discovery_names[DMARC_DISCOVERY_PSL + 1] = {
    [DMARC_DISCOVERY_TREEWALK] = "treewalk",
    [DMARC_DISCOVERY_PSL] = "psl",
};

const char *const cfg_dnsbl_action_names[PM_DNSBL_TAG + 1] = {
    [PM_DNSBL_REJECT] = "reject",
    [PM_DNSBL_TAG] = "tag",
};

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

/* cfg_names_text - the names joined for a message: "off, log, tag or enforce" */
const char *cfg_names_text(const char *const *names, size_t n, const char *before,
                           const char *after, const char *sep, const char *last, char *buf,
                           size_t bufsize)
{
	size_t len = 0;

	buf[0] = '\0';
	for (size_t i = 0; i < n && len < bufsize; i++) {
		int w = snprintf(buf + len, bufsize - len, "%s%s%s%s",
		                 i == 0       ? ""
		                 : i == n - 1 ? last
		                              : sep,
		                 before, names[i], after);

		if (w < 0)
			break;
		len += (size_t)w;
	}
	return buf;
}

/* check_placeholders - NULL when every '%' in text is "%%" or a known %{name} */
static const char *check_placeholders(const char *text, char *buf, size_t bufsize)
{
	char known[256];

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
			cfg_names_text(pm_placeholder_names, PM_PH_COUNT, "%{", "}", " ", " ",
			               known, sizeof(known));
			snprintf(buf, bufsize, "unknown placeholder \"%.*s\" (known: %s)",
			         (int)(end - s + 1 > 64 ? 64 : end - s + 1), s, known);
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

/* cfg_reply_parse - parse "CODE X.Y.Z text" into *r (text copied), or say why not */
const char *cfg_reply_parse(const char *s, bool only_4xx, struct pm_reply *r, char *buf,
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

/* cfg_find_key - the table entry for a dotted name, or NULL */
const struct cfg_key *cfg_find_key(const char *dotted)
{
	for (size_t i = 0; i < cfg_nsettings; i++)
		if (strcmp(cfg_settings[i].name, dotted) == 0)
			return &cfg_settings[i];
	return NULL;
}

/* config_keys - call fn with the dotted name of every leaf key, in table order */
void config_keys(void (*fn)(const char *dotted_key, void *arg), void *arg)
{
	for (size_t i = 0; i < cfg_nsettings; i++)
		if (cfg_settings[i].type != CT_GROUP && cfg_settings[i].type != CT_GROUPLIST)
			fn(cfg_settings[i].name, arg);
}

/* check_report_address - "" or an address local@domain (not a catch-all "@domain") */
static const char *check_report_address(char **value, char *buf, size_t bufsize)
{
	if (**value == '\0')
		return NULL;
	if (**value == '@')
		return "must be an address local@domain (or \"\" for none)";
	return check_address(value, buf, bufsize);
}

/* check_report_text - printable UTF-8 text of at most 200 bytes (a report's metadata) */
static const char *check_report_text(char **value, char *buf, size_t bufsize)
{
	(void)buf;
	(void)bufsize;
	if (strlen(*value) > 200)
		return "must be at most 200 bytes";
	if (!pm_utf8_valid((const unsigned char *)*value, strlen(*value)))
		return "must be UTF-8";
	for (const char *s = *value; *s != '\0'; s++)
		if ((unsigned char)*s < 0x20 || *s == 0x7f)
			return "must not hold control characters";
	return NULL;
}

/* check_report_path - an absolute path without control characters */
static const char *check_report_path(char **value, char *buf, size_t bufsize)
{
	(void)buf;
	(void)bufsize;
	if (**value != '/')
		return "must be an absolute path";
	for (const char *s = *value; *s != '\0'; s++)
		if ((unsigned char)*s < 0x20 || *s == 0x7f)
			return "must not hold control characters";
	return NULL;
}

/* check_lmdb_path - the absolute path of the LMDB state file, printable, not a directory */
static const char *check_lmdb_path(char **value, char *buf, size_t bufsize)
{
	const char *s = *value;

	(void)buf;
	(void)bufsize;
	if (*s != '/')
		return "must be an absolute path, such as \"/var/lib/policy-milter/state.lmdb\"";
	if (!printable_ascii(s, true))
		return "must be printable ASCII";
	if (s[strlen(s) - 1] == '/')
		return "must name a file, not a directory (it ends in '/')";
	return NULL;
}

/* check_redis_port - ":PORT" at s, PORT 1..65535 and nothing after it; NULL when fine */
static const char *check_redis_port(const char *s, char *buf, size_t bufsize)
{
	size_t n;
	long port;

	if (*s != ':')
		return "want host:port, [IPv6 address]:port or unix:/path, such as "
		       "\"127.0.0.1:6379\"";
	n = digits(++s);
	if (n == 0 || n > 5 || s[n] != '\0') {
		snprintf(buf, bufsize, "bad port \"%.20s\": want 1..65535", s);
		return buf;
	}
	port = strtol(s, NULL, 10);
	if (port < 1 || port > 65535) {
		snprintf(buf, bufsize, "port %ld out of range 1..65535", port);
		return buf;
	}
	return NULL;
}

/*
 * check_redis_server - "" (no server: only good with backend "lmdb",
 * cfg_check_state), "HOST:PORT" (an IPv4 address or a host name),
 * "[IPV6]:PORT" or "unix:/absolute/path"
 */
static const char *check_redis_server(char **value, char *buf, size_t bufsize)
{
	const char *s = *value, *colon, *end;
	struct pm_ip ip;
	char host[300];

	if (*s == '\0')
		return NULL;
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
	if (*s == '[') {
		end = strchr(s, ']');
		if (end == NULL || (size_t)(end - s - 1) >= sizeof(host))
			return "unterminated \"[\": want [IPv6 address]:port, such as "
			       "\"[::1]:6379\"";
		memcpy(host, s + 1, (size_t)(end - s - 1));
		host[end - s - 1] = '\0';
		if (pm_ip_parse(host, &ip) != 0 || ip.family != AF_INET6) {
			snprintf(buf, bufsize, "\"%.100s\" is not an IPv6 address", host);
			return buf;
		}
		return check_redis_port(end + 1, buf, bufsize);
	}
	colon = strrchr(s, ':');
	if (colon == NULL || colon == s || (size_t)(colon - s) >= sizeof(host))
		return "want host:port, [IPv6 address]:port or unix:/path, such as "
		       "\"127.0.0.1:6379\"";
	memcpy(host, s, (size_t)(colon - s));
	host[colon - s] = '\0';
	if (strchr(host, ':') != NULL)
		return "an IPv6 address must be in brackets: [IPv6 address]:port, such as "
		       "\"[::1]:6379\"";
	if (pm_ip_parse(host, &ip) != 0 && !addr_domain_valid(host, strlen(host))) {
		snprintf(buf, bufsize, "\"%.100s\" is not an IPv4 address or a host name", host);
		return buf;
	}
	return check_redis_port(colon, buf, bufsize);
}

/* check_redis_text - "" (none) or a Redis user name or password: printable ASCII */
static const char *check_redis_text(char **value, char *buf, size_t bufsize)
{
	(void)buf;
	(void)bufsize;
	if (strlen(*value) > 256 || !printable_ascii(*value, true))
		return "must be at most 256 printable ASCII characters";
	return NULL;
}

/* check_redis_prefix - what every Redis key starts with: printable ASCII, no spaces, <= 64 */
static const char *check_redis_prefix(char **value, char *buf, size_t bufsize)
{
	(void)buf;
	(void)bufsize;
	if (strlen(*value) > 64 || !printable_ascii(*value, false))
		return "must be at most 64 printable ASCII characters without spaces, such as "
		       "\"pm:\"";
	return NULL;
}

/* check_rule_name - a rate-limit rule's name: 1..32 of letters, digits, '_', '.', '-' */
static const char *check_rule_name(char **value, char *buf, size_t bufsize)
{
	size_t n = strlen(*value);

	if (n == 0 || n > 32 ||
	    strspn(*value, "abcdefghijklmnopqrstuvwxyz"
	                   "ABCDEFGHIJKLMNOPQRSTUVWXYZ"
	                   "0123456789_.-") != n) {
		snprintf(buf, bufsize,
		         "\"%.100s\" is not a rule name: want 1..32 letters, digits, '_', '.' or "
		         "'-', such as \"per-user\"",
		         *value);
		return buf;
	}
	return NULL;
}

/*
 * check_sender_exempt - an entry of ratelimits.exempt_senders: an address
 * "local@domain" (domain lower-cased), or a domain ("example.org" or
 * "@example.org", kept as "example.org": that domain and those below it)
 */
static const char *check_sender_exempt(char **value, char *buf, size_t bufsize)
{
	if (**value == '@') {
		char *domain = xstrdup(*value + 1);

		if (check_domain(&domain, buf, bufsize) != NULL) {
			free(domain);
			snprintf(buf, bufsize, "\"%.300s\" is not an address or a domain", *value);
			return buf;
		}
		free(*value);
		*value = domain;
		return NULL;
	}
	if (strchr(*value, '@') != NULL)
		return check_address(value, buf, bufsize);
	if (check_domain(value, buf, bufsize) != NULL) {
		snprintf(buf, bufsize, "\"%.300s\" is not an address or a domain", *value);
		return buf;
	}
	return NULL;
}
