/*
 * NAME
 *	policy 3h - the policy snapshot: every setting of the policy file
 * SYNOPSIS
 *	config.h: config_load (parse and validate; config.c)
 *	results.h: the check results the settings and the checks share
 *	policy.c: reference counting, the current snapshot, name tables
 * DESCRIPTION
 *	A struct policy is built by config_load() (config.c) from a libconfig
 *	file, validated whole, and then never changed: it is shared read-only
 *	between threads and reference-counted. A reload builds a new one and
 *	swaps it in (policy_set_current); a connection keeps the snapshot it took at
 *	connect (policy_acquire) until it closes, so a message never sees two
 *	policies. Every string here is owned by the snapshot (copied out of
 *	libconfig, whose config_destroy frees its own).
 */
#ifndef PM_POLICY_H
#define PM_POLICY_H

#include <stdbool.h>
#include <stddef.h>
#include <sys/types.h>

#include "cidr.h"
#include "lists.h"
#include "results.h"

struct filetable; /* filetable.h */

/* How a check acts (every check has one). */
enum pm_mode {
	PM_MODE_OFF = 0, /* not evaluated */
	PM_MODE_LOG,     /* evaluated and logged (with what it would have replied) */
	PM_MODE_TAG,     /* also recorded in the Authentication-Results header */
	PM_MODE_ENFORCE, /* also refused with the configured reply */
};

/* What a result asks for when its check is in enforce mode. */
enum pm_action {
	PM_ACT_ACCEPT = 0, /* deliver (tagged when the mode is tag or enforce) */
	PM_ACT_REJECT,     /* 5xx (or whatever class the reply says) */
	PM_ACT_TEMPFAIL,   /* 4xx */
};

/*
 * Every reply the milter can send. The policy file's replies { } group
 * has one key per entry (the name from pm_reply_name() in policy.c).
 */
enum pm_reply_id {
	PM_R_CLIENT_BLOCKED = 0, /* 554 5.7.1  connect: client_block list */
	PM_R_SPF_FAIL, /* 550 5.7.23 HELO or MAIL FROM SPF fail (or any result mapped to reject) */
	PM_R_SPF_PERMERROR,         /* 550 5.7.24 */
	PM_R_SPF_TEMPERROR,         /* 451 4.7.24 must be 4xx */
	PM_R_SENDER_SYNTAX,         /* 501 5.1.7 */
	PM_R_SENDER_DOMAIN_UNKNOWN, /* 550 5.1.8 the sender domain does not exist (or has no MX,
	                               A or AAAA) */
	PM_R_SENDER_NULL_MX,        /* 550 5.7.27 the sender domain has a null MX (RFC 7505) */
	PM_R_RCPT_SYNTAX,           /* 501 5.1.3 */
	PM_R_UNKNOWN_RECIPIENT,     /* 550 5.1.1 */
	PM_R_RELAY_DENIED,          /* 554 5.7.1 */
	PM_R_TOO_MANY_RECIPIENTS,   /* 452 4.5.3 must be 4xx */
	PM_R_TOO_MANY_UNKNOWN,      /* 450 4.7.1 must be 4xx: directory-harvest defence */
	PM_R_RCPT_TEMPFAIL,         /* 451 4.4.3 must be 4xx */
	PM_R_DNS_TEMPFAIL,          /* 451 4.4.3 must be 4xx: other lookups */
	PM_R_INTERNAL_ERROR,        /* 451 4.3.0 must be 4xx */
	PM_R_FROM_HEADER,           /* 550 5.7.1  end of message: not exactly one From mailbox */
	PM_R_DKIM_NONE_PASSING,     /* 550 5.7.20 must_sign domain: no passing signature */
	PM_R_DKIM_NONE_ACCEPTABLE,  /* 550 5.7.21 must_sign: passing but not acceptable
	                               (rsa-sha1, short key, short l=) */
	PM_R_DKIM_NONE_ALIGNED,     /* 550 5.7.22 must_sign: none matching the author domain */
	PM_R_DKIM_TEMPFAIL,         /* 451 4.7.5 must be 4xx: must_sign, key lookup failed */
	PM_R_DMARC_REJECT,          /* 550 5.7.26 DMARC fail, disposition reject */
	PM_R_DMARC_TEMPFAIL,        /* 451 4.4.3 must be 4xx: _dmarc lookup failed */
	PM_R_DNSBL_LISTED,          /* 554 5.7.1  connect: a DNSBL zone with action reject */
	PM_R_IPREV_FAIL,            /* 550 5.7.25 MAIL FROM: iprev fail or permerror */
	PM_R_IPREV_TEMPFAIL,        /* 451 4.7.25 must be 4xx: iprev temperror */
	PM_R_HELO_BLOCKED,          /* 554 5.7.1  MAIL FROM: lists.helo.block */
	PM_R_SENDER_BLOCKED,        /* 554 5.7.1  MAIL FROM: lists.sender.block */
	PM_R_RCPT_BLOCKED,          /* 554 5.7.1  RCPT: lists.recipient.block */
	PM_R_CLIENT_NAME_BLOCKED,   /* 554 5.7.1  connect: lists.client_name.block (the address
	                               block lists.client.block uses client_blocked) */
	PM_R_TOO_MANY_MESSAGES,     /* 421 4.7.0 must be 4xx: MAIL FROM past
	                               recipients.max_messages_per_connection */
	PM_R_FROM_DISPLAY_NAME,     /* 550 5.7.1  end of message: the From display name shows
	                               an address of another domain */
	PM_R_HEADER_REPEATED,       /* 550 5.7.1  end of message: a header field RFC 5322 3.6
	                               allows once occurs more often (headers.singletons) */
	PM_R_ARC_FAIL,              /* 550 5.7.29 end of message: the ARC chain failed (arc.mode
	                               enforce; RFC 8617 5.2.2) */
	PM_R_ARC_TEMPFAIL,          /* 451 4.4.3 must be 4xx: an ARC key lookup failed for now */
	PM_R_GREYLISTED,            /* 451 4.7.1 must be 4xx: RCPT, greylisting (RFC 6647); the
	                               text says when to retry (%{retry}) */
	PM_R_RATELIMIT_TEMPFAIL,    /* 451 4.7.1 must be 4xx: RCPT, a rate-limit rule with action
	                               tempfail is over its limit */
	PM_R_RATELIMIT_REJECT,      /* 550 5.7.1  RCPT: a rate-limit rule with action reject */
	PM_R_STATE_TEMPFAIL,        /* 451 4.3.0 must be 4xx: the state store (greylisting, rate
	                               limits) failed and state.on_failure is tempfail */
	PM_R_COUNT
};

/*
 * A parsed reply. text may hold placeholders expanded (and escaped) by
 * reply_expand(): %{ip} %{name} %{helo} %{sender} %{rcpt} %{domain}
 * %{result} %{identity} %{zone}. Validated at load: code 4xx or 5xx, enhanced
 * code "C.S.D" with C equal to the code's first digit.
 */
/*
 * Reply sizes, one from the other. An SMTP reply line is at most 512
 * bytes with its CRLF (RFC 5321 4.5.3.1.5); "550 5.7.23 " + an expanded
 * text + CRLF stays under it with room to spare. A configured template
 * (placeholders unexpanded) is shorter still, and the buffer a reply is
 * sent from holds the text with every '%' doubled (smfi_setreply).
 */
#define REPLY_LINE_MAX     512
#define REPLY_TEXT_MAX     (REPLY_LINE_MAX - 63)
#define REPLY_TEMPLATE_MAX (REPLY_TEXT_MAX - 49)
#define REPLY_BUF_SIZE     (2 * REPLY_TEXT_MAX + 1)

struct pm_reply {
	int code;       /* 451, 550, ... */
	char xcode[16]; /* "4.7.24" */
	char *text;     /* template, printable ASCII */
};

struct milter_settings {
	char *socket;       /* "unix:/path", "inet:port@host", "inet6:port@host" */
	mode_t socket_mode; /* for unix sockets */
	char *socket_owner; /* user name or NULL: leave as created */
	char *socket_group; /* group name or NULL */
	char *user;         /* drop to this user after binding (NULL: stay) */
	char *group;        /* and this group (NULL: the user's primary group) */
	char *pid_file;     /* NULL or "": none */
	int timeout;        /* libmilter I/O timeout with the MTA, seconds */
	int backlog;
	int drain_timeout;                /* on stop, seconds to let sessions finish */
	enum pm_action on_internal_error; /* TEMPFAIL (451 4.3.0) or ACCEPT (fail open) */
};

struct client_block_settings {
	enum pm_mode mode;
	struct pm_cidr_list networks;
};

/* What a listing in one DNSBL zone does (dnsbl.zones.action). */
enum pm_dnsbl_action {
	PM_DNSBL_REJECT = 0, /* refused with replies.dnsbl_listed (dnsbl.mode enforce) */
	PM_DNSBL_TAG,        /* never refused: the listing is logged (the decision's dnsbl) */
};

/* One DNS blocklist (RFC 5782). */
struct dnsbl_zone {
	char *zone;   /* lower-case, e.g. "zen.example" */
	char **codes; /* answers that count, canonical dotted quads in 127.0.0.0/8 (never
	                 127.0.0.1 or 127.255.255.0/24); none: any such answer counts */
	size_t ncodes;
	enum pm_dnsbl_action action;
};

struct dnsbl_settings {
	enum pm_mode mode; /* connect; tag acts as log (nothing goes into the A-R header) */
	struct dnsbl_zone *zones;
	size_t nzones;
};

struct iprev_settings {
	enum pm_mode mode; /* evaluated at connect, applied at MAIL FROM (never to trusted or
	                      authenticated clients); tag: iprev= in the A-R header */
};

struct spf_settings {
	enum pm_mode mode;      /* MAIL FROM identity (and postmaster@HELO for <>) */
	enum pm_mode helo_mode; /* HELO identity */
	enum pm_action action[PM_SPF_NRESULTS]; /* per result, used in enforce mode;
	                                           TEMPERROR may not be REJECT */
	int timeout;                            /* seconds for one whole evaluation */
	int dns_timeout;                        /* seconds for one DNS query (per attempt) */
	int max_dns_queries;                    /* hard cap on queries in one evaluation */
	int max_void_lookups;                   /* RFC 7208 4.6.4: 2 */
	char *receiver;                         /* our name for %{r}; the authserv_id by default */
};

struct sender_domain_settings {
	enum pm_mode mode; /* MAIL FROM: the sender domain exists and has no null MX; tag = log
	                      (nothing goes into Authentication-Results) */
};

struct recipient_settings {
	enum pm_mode mode;
	char **domains; /* local domains, lower-case */
	size_t ndomains;
	char **addresses; /* valid recipients: "user@domain" or "@domain", lower-cased domain */
	size_t naddresses;
	char *file;                   /* NULL or path of a file of addresses */
	struct filetable *file_table; /* that file's table (rcpt_file_load), owned; NULL: no file */
	char *detail_separators;      /* "+" by default; "" disables */
	int max_recipients;           /* per message, 452 4.5.3 past it; 0: no limit */
	int max_unknown;              /* per session; further RCPTs get 4xx; 0: no limit */
	int max_messages;             /* max_messages_per_connection: MAIL FROMs per connection
	                                 (not for trusted clients); 0: no limit */
	char **exempt; /* exempt_from_sender_checks: local parts ("abuse", at any local domain)
	                  or addresses "local@domain" (domain lower-cased) */
	size_t nexempt;
	bool delay_sender_refusals; /* with exempt entries: the authentication refusals of MAIL
	                               FROM are sent at each RCPT of a recipient not exempt */
};

struct dkim_settings {
	enum pm_mode mode;  /* off: no verification; log, tag (dkim= in A-R);
	                       enforce: must_sign refused */
	int max_signatures; /* verified per message (default 5) */
	bool allow_l;       /* l= shorter than the body may pass (default false) */
	int min_key_bits;   /* RSA keys below: policy (default 1024; at most 4096: a larger
	                       key's record does not fit libopendkim, DKIM_KEY_RECORD_MAX) */
	char **must_sign;   /* author domains (lower-case; a subdomain matches too) */
	size_t nmust_sign;
};

struct header_settings {
	enum pm_mode singletons; /* end of message: a field RFC 5322 3.6 allows at most once
	                            (verdict_singleton_field; From is the From check's) occurs
	                            again; tag: a comment in Authentication-Results */
};

/*
 * ARC (RFC 8617, arc.c): the chain of a message from a client neither
 * trusted nor authenticated is verified unless the mode is off; tag adds
 * arc= to Authentication-Results and lets the oldest trusted sealer's
 * ARC-Authentication-Results rescue a DMARC fail (arctrust.c); enforce
 * also refuses a failed chain (550 5.7.29; temperror 451 4.4.3).
 */
struct arc_settings {
	enum pm_mode mode;
	char **trusted_sealers; /* domains (lower-case): a seal's d= equal to one or below it */
	size_t ntrusted_sealers;
	int max_sets; /* chains with more ARC sets fail unverified (1..50) */
};

/*
 * The state store (store.h): what greylisting and the rate limits
 * remember across connections and hosts.
 */
enum state_backend {
	STATE_LMDB = 0, /* one host: an LMDB file (state.lmdb.path) */
	STATE_REDIS,    /* several MX hosts sharing one Redis (state.redis.*) */
};

/* What a check that needs the store does when the store fails (state.on_failure). */
enum state_failure {
	STATE_FAIL_OPEN = 0, /* go on as if the check had let the mail through (logged) */
	STATE_FAIL_TEMPFAIL, /* 451 4.3.0 (replies.state_tempfail); never a 5xx */
};

struct state_settings {
	enum state_backend backend;    /* state.backend: "lmdb" (default) or "redis" */
	enum state_failure on_failure; /* state.on_failure: "accept" (default) or "tempfail" */
	char *lmdb_path;               /* state.lmdb.path: absolute, default
	                                  "/var/lib/policy-milter/state.lmdb" */
	int lmdb_max_mb;               /* state.lmdb.max_size_mb: the map size, MiB (default 256) */
	char *redis_server;            /* state.redis.server: "host:port", "[v6addr]:port" or
	                                  "unix:/path" (default "127.0.0.1:6379") */
	char *redis_username;          /* state.redis.username: Redis 6 ACL user, NULL: none */
	char *redis_password;          /* state.redis.password: NULL: no AUTH */
	int redis_database;            /* state.redis.database: SELECT (default 0) */
	char *redis_prefix;            /* state.redis.prefix: before every key (default "pm:") */
	int redis_connect_timeout_ms;  /* state.redis.connect_timeout_ms (default 500) */
	int redis_command_timeout_ms;  /* state.redis.command_timeout_ms (default 250) */
};

/*
 * Greylisting (RFC 6647; greylist.h): at RCPT, a recipient otherwise
 * accepted, from a client neither trusted, authenticated, allow-listed
 * nor a listed large sender, is refused 451 4.7.1 until the triplet
 * (client network, normalised sender, recipient) was first seen delay
 * seconds ago, and no more than retry_window seconds ago.
 */
struct greylist_settings {
	enum pm_mode mode;    /* greylisting.mode: off (default), log, tag (as log), enforce */
	int delay;            /* greylisting.delay: seconds (default 300) */
	int retry_window;     /* greylisting.retry_window: seconds (default 86400) */
	int lifetime;         /* greylisting.lifetime: seconds a passed triplet (and an
	                         auto-allowed client) is remembered (default 3110400: 36 d) */
	int ipv4_prefix;      /* greylisting.ipv4_prefix: the client network (default 24) */
	int ipv6_prefix;      /* greylisting.ipv6_prefix (default 64) */
	int auto_allow_after; /* greylisting.auto_allow_after: a client network that passed
	                         this many triplets is let through without delay; 0: never
	                         (default 5) */
	char **large_senders; /* greylisting.large_senders: domains (lower-case); a client whose
	                         forward-confirmed name is, or is below, one of them, or a
	                         sender with SPF pass whose domain is, or is below, one of them,
	                         is not greylisted */
	size_t nlarge_senders;
	struct pm_cidr_list exempt_clients; /* greylisting.exempt_clients: never greylisted */
	char **exempt_recipients;           /* greylisting.exempt_recipients: addresses or "@domain"
	                                       (lower-case domain) never greylisted (postmaster and
	                                       abuse always are exempt) */
	size_t nexempt_recipients;
};

/* What a rate-limit rule counts by (ratelimits.key). */
enum rl_key {
	RL_KEY_CLIENT_ADDR = 0, /* "client_address" */
	RL_KEY_CLIENT_NET,      /* "client_network": ipv4_prefix / ipv6_prefix of the rule */
	RL_KEY_SENDER,          /* "sender": normalised as greylisting does (null sender: none) */
	RL_KEY_SENDER_DOMAIN,   /* "sender_domain" (null sender: none) */
	RL_KEY_SASL_USER,       /* "sasl_user" (not authenticated: the rule does not apply) */
	RL_KEY_RECIPIENT,       /* "recipient" */
};

/* What a rule counts (ratelimits.count). */
enum rl_count {
	RL_COUNT_MESSAGES = 0, /* "messages": once per message (per recipient for key recipient) */
	RL_COUNT_RECIPIENTS,   /* "recipients": every accepted RCPT */
};

/* What a rule over its limit does (ratelimits.action). */
enum rl_action {
	RL_ACT_TEMPFAIL = 0, /* "tempfail": 451 4.7.1 (replies.ratelimit_tempfail) */
	RL_ACT_REJECT,       /* "reject": 550 5.7.1 (replies.ratelimit_reject) */
	RL_ACT_LOG,          /* "log": logged as a "would" */
};

#define PM_RATELIMIT_RULES_MAX 32

/* One rate-limit rule (ratelimits, a list of groups, in the order of the file). */
struct ratelimit_rule {
	char *name;            /* ratelimits.name: unique, [A-Za-z0-9_.-]{1,32}; logs and keys */
	enum rl_key key;       /* ratelimits.key */
	enum rl_count count;   /* ratelimits.count (default messages) */
	int window;            /* ratelimits.window: seconds, 1..2592000 */
	int limit;             /* ratelimits.limit: 1.. */
	enum rl_action action; /* ratelimits.action (default tempfail) */
	int ipv4_prefix;       /* ratelimits.ipv4_prefix (client_network; default 24) */
	int ipv6_prefix;       /* ratelimits.ipv6_prefix (client_network; default 48) */
	bool exempt_trusted;   /* ratelimits.exempt_trusted: trusted_networks not counted
	                          (default true) */
	struct pm_cidr_list exempt_clients; /* ratelimits.exempt_clients */
	char **exempt_senders; /* ratelimits.exempt_senders: addresses, or domains (a domain
	                          matches the sender domain and those below it) */
	size_t nexempt_senders;
	char *rule; /* built at load: "ratelimits.NAME" */
};

struct ratelimit_settings {
	struct ratelimit_rule *rules; /* ratelimits (top-level list); none: no rate limits */
	size_t nrules;                /* at most PM_RATELIMIT_RULES_MAX */
};

/* What p=quarantine does when enforced. */
enum pm_quarantine {
	PM_QUARANTINE_TAG = 0, /* deliver with the quarantine header and dmarc=fail */
	PM_QUARANTINE_HOLD,    /* smfi_quarantine: the MTA holds the message */
};

/* A per-author-domain DMARC mode (dmarc.domain_modes). */
struct dmarc_domain_mode {
	char *domain; /* lower-case; a subdomain matches too; the longest match wins */
	enum pm_mode mode;
};

struct dmarc_settings {
	enum pm_mode mode;              /* end of message: From header and DMARC */
	enum dmarc_discovery discovery; /* tree walk (RFC 9989) or PSL (RFC 7489) */
	char *public_suffix_list;       /* path; read at load when discovery is PSL or
	                                   dkim.must_sign needs it */
	enum pm_quarantine quarantine;
	char *quarantine_header; /* header name added for a tagged quarantine */
	bool fail_open;          /* _dmarc lookup temporarily failed: accept (true) or 451 */
	bool spf_fail_at_mail;   /* refuse SPF fail at MAIL FROM even when the sender domain
	                            has a DMARC record (false: defer to DMARC, RFC 7489 10.1) */
	char **never_enforce;    /* author domains, or trusted forwarders (a passing SPF
	                            MAIL FROM domain or DKIM d=), never refused */
	size_t nnever_enforce;
	char **always_reject; /* author domains whose DMARC fail is rejected whatever p= and pct */
	size_t nalways_reject;
	char **display_name_exempt; /* author domains whose From may show another domain's
	                               address in its display name */
	size_t ndisplay_name_exempt;
	struct dmarc_domain_mode *domain_modes;
	size_t ndomain_modes;
};

/*
 * The checks whose mode an override (overrides) may change, by the name
 * of the override key (pm_check_name): iprev (iprev.mode), helo_spf
 * (spf.helo_mode), spf (spf.mode), sender_domain (sender_domain.mode),
 * dkim (dkim.mode), dmarc (dmarc.mode). The DNSBLs, client_block and the
 * recipient table are decided before any domain is known, or are not a
 * sender check: they have no override.
 */
enum pm_check {
	PM_CHECK_IPREV = 0,
	PM_CHECK_HELO_SPF,
	PM_CHECK_SPF,
	PM_CHECK_SENDER_DOMAIN,
	PM_CHECK_DKIM,
	PM_CHECK_DMARC,
	PM_CHECKS
};

/*
 * One group of overrides: the modes of some checks for mail from a sender
 * domain (for_sender_domain) or to a recipient domain
 * (for_recipient_domain), exactly one of the two; the domain itself or
 * any domain below it. How they combine: verdict_mode (verdict.h).
 */
struct pm_override {
	char *sender_domain;    /* for_sender_domain, lower-case, or NULL */
	char *recipient_domain; /* for_recipient_domain, lower-case, or NULL */
	int mode[PM_CHECKS];    /* an enum pm_mode, or -1: this group does not name the check */
	char *rule;             /* built at load: "overrides.for_recipient_domain=hosted.example" */
};

/* The allow and block lists of one kind (lists.client, lists.helo, ...). */
struct list_settings {
	char **allow; /* inline entries as written (kept for the record; the lists hold them) */
	size_t nallow;
	char *allow_file; /* NULL: none */
	char **block;
	size_t nblock;
	char *block_file;
	struct pm_list *allow_list; /* built at load (NULL when empty); freed with the snapshot */
	struct pm_list *block_list;
};

/* One struct list_settings per enum list_kind (lists.h), in that order. */
#define PM_LIST_KINDS 5

struct log_settings {
	int syslog_facility; /* LOG_MAIL, ... */
	char *syslog_ident;
	char *json_file; /* absolute path of the JSON decision log, or NULL: none */
};

/* DMARC aggregate reports (RFC 9990): read by policy-milter-report, unused by the daemon */
struct report_settings {
	char *org_name;           /* report_metadata org_name; NULL: reports cannot be made */
	char *email;              /* report_metadata email, the contact address */
	char *extra_contact_info; /* NULL: none */
	char *from;       /* From: of report mails; its domain is the receiver (submitter) */
	char *directory;  /* where report files are written */
	char *state_file; /* the ids of the reports sent, one "id address" per line */
	char *sendmail;   /* sendmail(8) path */
};

/* The metrics endpoint (metrics.*): read at start only. */
struct metrics_settings {
	char *listen;      /* "unix:/path", "inet:port@host", "inet6:port@host"; NULL: off */
	bool allow_public; /* a non-loopback inet address allowed */
};

struct policy {
	int refcount;        /* atomic; see policy_acquire/policy_release */
	char *path;          /* the file it came from */
	unsigned generation; /* 1, 2, ... one per successful load */

	char *authserv_id; /* RFC 8601 authserv-id; the host name by default */
	struct milter_settings milter;
	struct pm_cidr_list trusted_networks;
	struct client_block_settings client_block;
	struct dnsbl_settings dnsbl;
	struct iprev_settings iprev;
	struct spf_settings spf;
	struct sender_domain_settings sender_domain;
	struct recipient_settings recipients;
	struct dkim_settings dkim;
	struct dmarc_settings dmarc;
	struct header_settings headers;
	struct arc_settings arc;
	struct state_settings state;
	struct greylist_settings greylist;
	struct ratelimit_settings ratelimit;
	struct list_settings lists[PM_LIST_KINDS]; /* by enum list_kind */
	struct pm_override *overrides;             /* in the order of the file */
	size_t noverrides;
	bool dry_run; /* nothing refused: every refusal is logged as a "would" (verdict.h) */
	/* dmarc.public_suffix_list as loaded (psl.h), one reference; NULL when
	   neither DMARC nor dkim.must_sign can run (nothing then asks for it) */
	struct psl *psl;
	struct log_settings log;
	struct metrics_settings metrics;
	struct report_settings reports;
	struct pm_reply replies[PM_R_COUNT];
};

/* policy_hold - take one more reference; returns p */
struct policy *policy_hold(struct policy *p);
/* policy_release - drop one reference, freeing on the last */
void policy_release(struct policy *p);

/* policy_set_current - install p (the caller's reference moves in); the old one is released */
void policy_set_current(struct policy *p);
/* policy_acquire - a reference to the current snapshot (NULL before the first set); release it */
struct policy *policy_acquire(void);

/*
 * policy_dmarc_on - can DMARC run at all: dmarc.mode, an entry of
 * dmarc.domain_modes or an override naming dmarc is not off
 */
bool policy_dmarc_on(const struct policy *p);

/* policy_mode - the policy's own mode of check c (before any override) */
enum pm_mode policy_mode(const struct policy *p, enum pm_check c);

/*
 * policy_check_on - is check c evaluated at all: its own mode or an
 * override naming it is not off (the milter looks up what an override
 * may need; the verdict applies the mode in force for the message)
 */
bool policy_check_on(const struct policy *p, enum pm_check c);

/* pm_check_name - "iprev", "helo_spf", "spf", "sender_domain", "dkim", "dmarc" */
const char *pm_check_name(enum pm_check c);

/* Name tables, for logs and the config parser. */
const char *pm_mode_name(enum pm_mode m);
const char *pm_action_name(enum pm_action a);
/* the names of the modes and actions, indexed by the enum (the config reads them, logs show them)
 */
extern const char *const pm_mode_names[PM_MODE_ENFORCE + 1];
extern const char *const pm_action_names[PM_ACT_TEMPFAIL + 1];

/* The placeholders of reply texts (%{name}); one table for the config check and the expander. */
enum pm_placeholder {
	PM_PH_IP = 0,
	PM_PH_NAME,
	PM_PH_HELO,
	PM_PH_SENDER,
	PM_PH_RCPT,
	PM_PH_DOMAIN,
	PM_PH_RESULT,
	PM_PH_IDENTITY,
	PM_PH_ZONE,
	PM_PH_RETRY, /* greylisting: seconds until a retry is let through */
	PM_PH_COUNT
};
extern const char *const pm_placeholder_names[PM_PH_COUNT];
/* pm_placeholder_find - the placeholder named by name (len bytes), or -1 */
int pm_placeholder_find(const char *name, size_t len);
const char *pm_reply_name(enum pm_reply_id id);
/*
 * pm_dnsbl_error_code - is ip a DNSBL error answer, never a listing:
 * 127.0.0.1 (RFC 5782 keeps it unlisted; some lists answer it for a
 * refused query) or 127.255.255.0/24 (Spamhaus: refused, over quota)?
 */
bool pm_dnsbl_error_code(const struct pm_ip *ip);

#endif
