/*
 * NAME
 *	verdict 3h - the decision: (stage, facts, policy) -> verdict
 * DESCRIPTION
 *	verdict_decide() is a pure function. The milter gathers facts into
 *	a struct pm_facts, asks for a verdict at each stage, and applies it;
 *	nothing else decides whether mail is refused. Checks in log or tag
 *	mode still produce the verdict they would have given, flagged
 *	"would" (logged as such), with action CONTINUE.
 *
 *	Order at each stage (first refusal wins); an internal error at any
 *	stage comes first (451 4.3.0, or fail open as configured):
 *	  connect  not for trusted networks: client_block; the block lists
 *	           lists.client.block (the client address, 554 5.7.1
 *	           client_blocked) and lists.client_name.block (the
 *	           verified PTR name, 554 5.7.1 client_name_blocked); then
 *	           a DNSBL zone with action reject that listed the client
 *	           (554 5.7.1, dnsbl mode; a zone with action tag never
 *	           refuses)
 *	  helo     nothing is refused at HELO: the HELO SPF result and the
 *	           HELO lists are decided here and applied at MAIL FROM,
 *	           when SMTP AUTH is known (like Postfix's
 *	           smtpd_delay_reject)
 *	  mail     unless trusted, the messages of the connection
 *	           (recipients.max_messages_per_connection: 421 4.7.0
 *	           max_messages); sender syntax; then, unless trusted: lists.helo.block
 *	           (554 5.7.1 helo_blocked) and lists.sender.block (554
 *	           5.7.1 sender_blocked), for authenticated clients too;
 *	           then, unless trusted or authenticated:
 *	           iprev, looked up at connect and applied here for the
 *	           same reason as HELO SPF (fail and permerror 550 5.7.25,
 *	           temperror 451 4.7.25); the sender domain (does not exist or has no MX, A or
 *	           AAAA: 550 5.1.8; null MX: 550 5.7.27; lookup failed
 *	           temporarily: 451 4.4.3 dns_tempfail), HELO SPF, MAIL
 *	           FROM SPF (null sender: postmaster@HELO). A refusal by these
 *	           four (iprev, sender domain, HELO SPF, SPF) is held when
 *	           verdict_delays_sender_refusals(): action CONTINUE,
 *	           delayed set, the rest that of the refusal; the milter
 *	           keeps it and gives it back as f->mail_refusal at RCPT
 *	  rcpt     recipient syntax; too many recipients; too many unknown
 *	           in this session; the refusal held from MAIL FROM
 *	           (f->mail_refusal with delayed set: same reply, check,
 *	           reason and rule; for an exempt recipient, f->rcpt_exempt,
 *	           a "would" instead: see below); unless trusted, lists.recipient.block
 *	           (554 5.7.1 rcpt_blocked, this recipient only,
 *	           authenticated clients too); then the recipient table:
 *	           exempt and
 *	           valid continue, unknown 550 5.1.1, foreign 554 5.7.1
 *	           unless trusted or authenticated, tempfail 451 4.4.3;
 *	           then, for a recipient let through so far (the milter
 *	           looks these up only then), greylisting (f->greylist:
 *	           new or early 451 4.7.1 greylisted, rule
 *	           "greylisting.delay", greylisting.mode; not for trusted or
 *	           authenticated clients nor with an allow list in force),
 *	           then the rate limits (f->ratelimit: ratelimit_tempfail
 *	           451 4.7.1 or ratelimit_reject 550 5.7.1 by the rule's
 *	           action, rule "ratelimits.NAME"; action log a "would");
 *	           a store failure (f->state_error) in the place of the
 *	           check that failed: with state.on_failure tempfail 451
 *	           4.3.0 state_tempfail, check "state", reason
 *	           "state_unavailable", rule "state.on_failure" (a "would"
 *	           when the check that failed would only log), with accept
 *	           nothing
 *	  eom      unless trusted or authenticated: the From header (not
 *	           exactly one From naming one author: 550 5.7.1
 *	           from_header; one whose display name shows an address of
 *	           another organizational domain, f->from_name_address, and
 *	           whose author domain is not in dmarc.display_name_exempt:
 *	           550 5.7.1 from_display_name; dmarc mode); a header field
 *	           RFC 5322 3.6 allows at most once repeated
 *	           (f->repeated_field, headers.singletons mode: 550 5.7.1
 *	           header_repeated; From is left to the From check, so two
 *	           From fields get the one From reply); must_sign (dkim mode:
 *	           550 5.7.20 / 5.7.21 / 5.7.22, 451 4.7.5); DMARC (the
 *	           overridden mode: fail with disposition reject 550 5.7.26,
 *	           quarantine marks the verdict quarantine, lookup failure
 *	           451 4.4.3 unless
 *	           dmarc.fail_open); then an SPF result deferred from MAIL
 *	           FROM (verdict_spf_deferred): refused now with its SPF
 *	           reply (550 5.7.23) unless a DMARC evaluation covers the
 *	           MAIL FROM domain (verdict_spf_excused): the author domain
 *	           (f->author) aligns with it (f->domains.sender, relaxed:
 *	           the same organizational domain) and DMARC passed
 *	           through an aligned DKIM signature (f->dmarc_dkim_aligned),
 *	           or DMARC failed temporarily for such an author (then
 *	           DMARC's temperror governed: 451 4.4.3 or dmarc.fail_open).
 *	           An unrelated author domain's DMARC result, pass or fail,
 *	           never excuses it. Between the two, ARC (arc.mode): a
 *	           chain that fails 550 5.7.29 arc_fail, one whose key
 *	           lookup failed for now 451 4.4.3 arc_temperror; none never
 *	           refuses. A DMARC fail a trusted ARC sealer rescued
 *	           (f->arc_override: disposition none) is no refusal: the
 *	           verdict names check dmarc, reason arc_override, rule
 *	           arc.trusted_sealers, unless something else objected or an
 *	           allow list is in force
 *
 *	Modes: off = the check is not evaluated; log and tag = the verdict
 *	it would have given is returned with would = true and action
 *	CONTINUE (an enforced refusal by a later check still wins over an
 *	earlier "would"); enforce = the refusal. Address syntax errors
 *	(501) and the limits (max_recipients, max_unknown; 0 = no limit)
 *	are not governed by a mode. Trusted or authenticated clients skip
 *	client_block and the DNSBLs (trusted only), iprev, the sender
 *	domain, HELO SPF, MAIL FROM SPF and the relay refusal, not syntax,
 *	limits or unknown local recipients. sender_domain and dnsbl in tag
 *	mode act as log (the Authentication-Results header has no method
 *	for them).
 *
 *	Allow and block lists (policy.h lists[], matched by the milter,
 *	given here as f->list_block and f->list_allow). A block entry has
 *	no mode: it refuses at the stage where its fact is known (above).
 *	Trusted networks are never blocked; authenticated clients are
 *	blocked by HELO, sender and recipient entries (an administrator's
 *	explicit block). A block entry always wins over an allow entry of
 *	any kind. An allow entry skips the refusing sender checks: the
 *	DNSBLs, iprev, the sender domain, HELO SPF, MAIL FROM SPF, the From
 *	header, must_sign, DMARC (its quarantine too) and the deferred SPF
 *	refusal; for the rest of the session (client address, client name,
 *	HELO name: from that HELO on), the message (sender), or the message
 *	when every accepted recipient is allowed (recipient: known at end of
 *	message only, so it cannot skip what MAIL FROM refused). Never
 *	skipped: address syntax, the limits, unknown local recipients, the
 *	relay refusal, internal errors, client_block and block entries. The
 *	skipped checks still run: their results are logged and tagged. A
 *	verdict whose refusal (or "would") an allow skipped has allowed set,
 *	check naming the first refusal skipped (its reply in reply), else
 *	the first "would" skipped (reply PM_R_COUNT), reason "allowed" and
 *	rule the allow list ("lists.sender.allow"); at end of message an allowed
 *	message gets reason "allowed" even when nothing objected (check
 *	"lists"). The first kind in list_kind order names the allow.
 *
 *	Recipient exemptions (recipients.exempt_from_sender_checks,
 *	verdict_rcpt_exempt): exempt_by is set at RCPT for an exempt
 *	recipient and at end of message when every accepted recipient is
 *	exempt (f->all_rcpts_exempt). Then a refusal an allow would skip
 *	(the held MAIL FROM refusal; the From header, must_sign, DMARC and
 *	the deferred SPF refusal) becomes a "would": action CONTINUE, would
 *	and exempt set, reply the refusal's, reason "exempt_recipient", rule
 *	exempt_by; a DMARC quarantine is not applied (a "would", reply
 *	PM_R_COUNT). An allow in force wins (reason "allowed"); block
 *	entries, syntax, limits, the recipient table and internal errors
 *	are never exempt. A message with exempt and other recipients gets
 *	no exemption.
 *
 *	Overrides per domain (policy.h overrides, verdict_mode): the mode
 *	of iprev, HELO SPF, SPF, the sender domain, DKIM (must_sign) and
 *	DMARC (the From header too) is the one verdict_mode gives for
 *	f->domains: at MAIL FROM the sender domain's override; at RCPT
 *	this recipient's; at end of message every accepted recipient's
 *	when they agree. At RCPT, with delay_sender_refusals, a recipient
 *	whose domain changes the mode of iprev, the sender domain, HELO SPF
 *	or SPF gets those checks judged again with its modes (a refusal
 *	held like MAIL FROM's, a "would", or nothing) instead of
 *	f->mail_refusal. The deferral of an SPF fail to DMARC
 *	(verdict_spf_deferred) uses the sender domain's DMARC mode only, so
 *	MAIL FROM and end of message agree. A check whose mode an override
 *	set has that override's rule ("overrides.for_sender_domain=x.example").
 *
 *	Dry run (p->dry_run): every refusal, 4xx or 5xx, of any check (the
 *	lists included) becomes a "would": action CONTINUE, would and
 *	dry_run set, reply the one that would have been sent; a DMARC
 *	quarantine is not applied (quarantine false) and is a "would" too.
 *	Not affected: internal errors (451 4.3.0 is not policy) and address
 *	syntax errors (501: the MTA could not use the address anyway).
 *
 *	The action always agrees with the class of the configured reply:
 *	a 4xx reply gives PM_V_TEMPFAIL and a 5xx one PM_V_REJECT, whatever
 *	the setting that asked for the refusal (an administrator may make
 *	unknown_recipient "450 4.1.1 ..."). libmilter drops a reply whose
 *	first digit does not match the SMFIS_ code returned, so the milter
 *	maps the action to SMFIS_REJECT / SMFIS_TEMPFAIL and sets the reply.
 */
#ifndef PM_VERDICT_H
#define PM_VERDICT_H

#include <stdbool.h>

#include "addr.h"
#include "arc.h"
#include "dmarc.h"
#include "greylist.h"
#include "policy.h"
#include "rcpt.h"
#include "sender.h"

#define PM_LIST_BIT(kind) (1u << (unsigned)(kind))

enum pm_stage {
	PM_STAGE_CONNECT,
	PM_STAGE_HELO,
	PM_STAGE_MAIL,
	PM_STAGE_RCPT,
	PM_STAGE_EOM,
	PM_STAGE_COUNT
};

/*
 * The check a verdict names (pm_check_id_name: the name in logs and JSON).
 * Not enum pm_check (policy.h), which lists the checks a mode governs.
 */
enum pm_check_id {
	CHK_NONE = 0,       /* nothing objected (no name) */
	CHK_CLIENT_BLOCK,   /* "client_block" */
	CHK_DNSBL,          /* "dnsbl" */
	CHK_IPREV,          /* "iprev" */
	CHK_HELO_SPF,       /* "helo_spf" */
	CHK_SPF,            /* "spf" */
	CHK_SENDER_SYNTAX,  /* "sender_syntax" */
	CHK_SENDER_DOMAIN,  /* "sender_domain" */
	CHK_MAX_MESSAGES,   /* "max_messages" */
	CHK_RCPT_SYNTAX,    /* "rcpt_syntax" */
	CHK_RECIPIENTS,     /* "recipients" */
	CHK_MAX_RECIPIENTS, /* "max_recipients" */
	CHK_MAX_UNKNOWN,    /* "max_unknown" */
	CHK_LISTS,          /* "lists": a block entry, or an allowed message */
	CHK_FROM_HEADER,    /* "from_header" */
	CHK_HEADERS,        /* "headers": a field allowed once repeated */
	CHK_MUST_SIGN,      /* "must_sign" */
	CHK_DMARC,          /* "dmarc" */
	CHK_ARC,            /* "arc" */
	CHK_INTERNAL_ERROR, /* "internal_error" */
	CHK_GREYLIST,       /* "greylist" */
	CHK_RATELIMIT,      /* "ratelimit" */
	CHK_STATE,          /* "state": the state store failed (state.on_failure tempfail) */
	CHK_COUNT
};

/* Why a check objected (pm_reason_name: the name in logs and JSON, "spf_fail"). */
enum pm_reason {
	RSN_NONE = 0, /* nothing to say (no name) */
	RSN_SPF_NONE,
	RSN_SPF_NEUTRAL,
	RSN_SPF_PASS,
	RSN_SPF_FAIL,
	RSN_SPF_SOFTFAIL,
	RSN_SPF_TEMPERROR,
	RSN_SPF_PERMERROR,
	RSN_HELO_SPF_NONE,
	RSN_HELO_SPF_NEUTRAL,
	RSN_HELO_SPF_PASS,
	RSN_HELO_SPF_FAIL,
	RSN_HELO_SPF_SOFTFAIL,
	RSN_HELO_SPF_TEMPERROR,
	RSN_HELO_SPF_PERMERROR,
	RSN_CLIENT_BLOCKED,
	RSN_CLIENT_NAME_BLOCKED,
	RSN_HELO_BLOCKED,
	RSN_SENDER_BLOCKED,
	RSN_RCPT_BLOCKED,
	RSN_DNSBL_LISTED,
	RSN_IPREV_FAIL,
	RSN_IPREV_PERMERROR,
	RSN_IPREV_TEMPERROR,
	RSN_SENDER_DOMAIN_UNKNOWN,
	RSN_SENDER_NULL_MX,
	RSN_SENDER_DOMAIN_TEMPFAIL,
	RSN_SENDER_SYNTAX,
	RSN_TOO_MANY_MESSAGES,
	RSN_RCPT_SYNTAX,
	RSN_TOO_MANY_RECIPIENTS,
	RSN_TOO_MANY_UNKNOWN,
	RSN_UNKNOWN_RECIPIENT,
	RSN_RELAY_DENIED,
	RSN_RCPT_TEMPFAIL,
	RSN_FROM_MISSING,
	RSN_FROM_SEVERAL,
	RSN_FROM_SEVERAL_ADDRESSES,
	RSN_FROM_UNUSABLE,
	RSN_FROM_DISPLAY_NAME,
	RSN_HEADER_REPEATED,
	RSN_DKIM_NONE_PASSING,
	RSN_DKIM_NONE_ACCEPTABLE,
	RSN_DKIM_NONE_ALIGNED,
	RSN_DKIM_TEMPFAIL,
	RSN_DMARC_TEMPFAIL,
	RSN_DMARC_REJECT,
	RSN_DMARC_QUARANTINE,
	RSN_ARC_FAIL,
	RSN_ARC_TEMPERROR,
	RSN_ARC_OVERRIDE,
	RSN_ALLOWED,
	RSN_EXEMPT_RECIPIENT,
	RSN_INTERNAL_ERROR,
	RSN_INTERNAL_ERROR_FAIL_OPEN,
	RSN_GREYLISTED,
	RSN_RATELIMIT_EXCEEDED,
	RSN_STATE_UNAVAILABLE,
	RSN_COUNT
};

/* An allow or block list a verdict's rule names ("lists.sender.block"). */
struct pm_list_ref {
	bool set; /* the rule is a list's; kind and block say which */
	enum list_kind kind;
	bool block; /* the block list (else the allow list) */
};

/* The From header field(s), for DMARC (RFC 7489 6.6.1). */
enum from_status {
	FROM_UNCHECKED = 0,
	FROM_OK,            /* exactly one From with exactly one mailbox with a DNS domain */
	FROM_MISSING,       /* no From header field */
	FROM_SEVERAL,       /* several From header fields */
	FROM_SEVERAL_ADDRS, /* one From naming several mailboxes */
	FROM_BAD,           /* unparsable, no mailbox or no domain (an address literal is
	                       FROM_OK: one author, but DMARC has no domain to judge) */
};

/* A must_sign author domain's signatures (RFC 7372 codes). */
enum must_sign_status {
	MUST_SIGN_NOT_LISTED = 0,  /* or not checked */
	MUST_SIGN_OK,              /* a passing signature aligned with the author domain */
	MUST_SIGN_NONE_PASSING,    /* 5.7.20: no signature passed at all */
	MUST_SIGN_NONE_ACCEPTABLE, /* 5.7.21: one verified but was not acceptable (result policy) */
	MUST_SIGN_NONE_ALIGNED,    /* 5.7.22: one passed, none for the author domain */
	MUST_SIGN_TEMPFAIL,        /* no pass and a key lookup failed for now: 451 4.7.5 */
};

/*
 * The domains the overrides match (verdict_mode), as far as known: the
 * sender domain (from MAIL FROM on; NULL for the null sender or an
 * address literal), and the recipient domains (at RCPT this recipient's,
 * at end of message every accepted recipient's; NULL for a recipient
 * without a domain, which matches no override).
 */
struct pm_domains {
	const char *sender;
	char *const *rcpt;
	size_t nrcpt;
};

/* Everything the decision needs; the milter fills what is known so far. */
struct pm_facts {
	enum pm_stage stage;
	bool trusted;               /* client in trusted_networks */
	bool authenticated;         /* {auth_authen} was set */
	bool client_blocked;        /* client in client_block.networks */
	bool dnsbl_listed;          /* a dnsbl.zones zone with action reject listed the client */
	enum pm_iprev_result iprev; /* PM_IPREV_UNCHECKED when not evaluated */

	enum pm_spf_result helo_spf; /* PM_SPF_UNCHECKED when not evaluated */

	enum addr_status sender_status;          /* MAIL FROM parse */
	enum sender_domain_status sender_domain; /* SENDER_DOMAIN_UNCHECKED when not looked up */
	enum pm_spf_result mfrom_spf;            /* MAIL FROM (or postmaster@HELO for <>) */

	enum addr_status rcpt_status; /* this RCPT's parse */
	enum rcpt_status rcpt;        /* this RCPT's table lookup (when parse ok) */
	unsigned rcpt_accepted;       /* recipients already accepted in this message */
	unsigned unknown_in_session;  /* unknown recipients already refused in this session */

	/* MAIL FROM: the sender domain (or its organizational domain) publishes a
	   DMARC record, so an SPF fail waits for DMARC at end of message unless
	   dmarc.spf_fail_at_mail (and only when dmarc.mode is enforce) */
	bool sender_has_dmarc;

	/* end of message */
	enum from_status from;           /* the From header(s); FROM_UNCHECKED when dmarc is off */
	const char *author;              /* FROM_OK: the author domain, else NULL (an address
	                                    literal, or the From header not judged) */
	bool sender_aligned;             /* the MAIL FROM domain has the author's organizational
	                                    domain by the tree walk (dmarc.discovery) */
	bool from_name_address;          /* FROM_OK: the display name holds an address whose
	                                    domain is not the author's organizational domain */
	const char *repeated_field;      /* static: the first field of verdict_singleton_field
	                                    that occurs a second time, or NULL */
	enum must_sign_status must_sign; /* MUST_SIGN_NOT_LISTED unless dkim.must_sign lists the
	                                    author domain */
	enum pm_dmarc_result dmarc;      /* PM_DMARC_UNCHECKED when not evaluated */
	enum pm_dmarc_policy dmarc_disposition; /* after pct (and always_reject) */
	enum pm_mode dmarc_mode; /* dmarc.mode after the overrides (verdict_dmarc_overrides) */
	const char *dmarc_rule;  /* static: the setting that decided the DMARC action */
	bool dmarc_dkim_aligned; /* DMARC passed through an aligned DKIM signature */
	enum pm_arc_result arc;  /* the ARC chain (PM_ARC_NONE when not verified) */
	bool arc_override;       /* a trusted ARC sealer rescued a DMARC fail (arctrust.h,
	                            arc.mode tag or enforce): its disposition is none */

	/* allow and block lists: bit PM_LIST_BIT(kind) per enum list_kind */
	unsigned list_block; /* block entries that matched: client and client_name (connect),
	                        helo and sender (MAIL FROM on), recipient (this RCPT) */
	unsigned list_allow; /* allow entries in force: client, client_name (session), helo
	                        (since the HELO), sender (the message), recipient (every accepted
	                        recipient allowed: end of message only) */

	/* messages per connection, and recipient exemptions */
	unsigned messages_in_session;          /* MAIL FROMs before this one in this connection */
	const struct pm_verdict *mail_refusal; /* rcpt: the MAIL FROM refusal held for RCPT
	                                          (a verdict with delayed set), or NULL */
	bool rcpt_exempt;      /* rcpt: this recipient is in exempt_from_sender_checks */
	bool all_rcpts_exempt; /* eom: every accepted recipient (one at least) is exempt */

	/* rcpt: the state store's checks, looked up once every check above let the recipient
	   through (session_rcpt_judge) */
	enum greylist_state greylist;           /* GL_NONE when not looked at */
	long greylist_retry;                    /* new, early: seconds until a retry passes */
	const struct ratelimit_rule *ratelimit; /* the rule over its limit: the one with action
	                                           tempfail or reject, else the first with action
	                                           log; NULL: none */
	bool state_error;                       /* the store failed (greylist GL_ERROR, or a rate
	                                           limit's count) */
	const struct ratelimit_rule *state_error_rule; /* with state_error: the rule whose count
	                                                  failed, NULL: greylisting's lookup */

	struct pm_domains domains; /* for the overrides (verdict_mode) */

	/* the lookups already made (verdict_plan) */
	bool dnsbl_checked;        /* connect: the DNSBLs were asked */
	bool iprev_checked;        /* connect: the client's reverse DNS was looked up */
	bool sender_dmarc_checked; /* mail: the sender domain's DMARC record was looked up */

	bool internal_error; /* something broke while gathering facts at this stage:
	                        451 4.3.0, or continue when milter.on_internal_error = accept */
};

enum pm_verdict_action {
	PM_V_CONTINUE = 0, /* go on (SMFIS_CONTINUE) */
	PM_V_REJECT,       /* refuse with reply (5xx, or 4xx if so configured) */
	PM_V_TEMPFAIL,     /* refuse with reply (4xx) */
};

struct pm_verdict {
	enum pm_verdict_action action;
	enum pm_reply_id reply; /* meaningful when action != CONTINUE or would (and for the
	                           internal_error fail-open case); PM_R_COUNT when nothing
	                           objected: never index replies[] with it then */
	bool would;             /* a check in log/tag mode would have refused */
	enum pm_check_id check; /* CHK_NONE when nothing objected; CHK_LISTS for a block
	                           entry, or an allowed message nothing objected to */
	enum pm_reason reason;  /* e.g. RSN_SPF_FAIL; RSN_NONE with CHK_NONE */
	const char *rule; /* static: the policy setting that decided, e.g. "spf.fail=reject" */
	struct pm_list_ref list; /* the list rule names, when it names one */
	bool quarantine;         /* eom, accepted: DMARC says quarantine (enforced): the milter adds
	                            the quarantine header or holds the message (dmarc.quarantine) */
	bool allowed; /* an allow list skipped a refusal or "would" (check says which, reply
	                 the refusal's or PM_R_COUNT; reason "allowed", rule the list), or
	                 (eom) the message is allowed; action CONTINUE, would false */
	const char *allowed_by;      /* static: the allow list in force ("lists.sender.allow"), or
	                                NULL */
	enum list_kind allowed_kind; /* with allowed_by: its kind */
	bool dry_run;                /* the global dry run turned a refusal (or a quarantine) into
	                                this "would" */
	bool delayed; /* mail: an authentication refusal held for RCPT (delay_sender_refusals):
	                 action CONTINUE, reply, check, reason and rule those of the refusal */
	bool exempt;  /* rcpt, eom: the recipients' exemption turned a sender-check refusal into
	                 this "would" (reason "exempt_recipient") */
	const char *exempt_by; /* static: "recipients.exempt_from_sender_checks" when the
	                          exemption is in force (this recipient; every recipient) */
};

/*
 * verdict_rcpt_exempt - is this recipient (status ADDR_OK or
 * ADDR_LOCAL_ONLY) in recipients.exempt_from_sender_checks: a listed local
 * part at a local domain (any domain when recipients.domains is empty; the
 * part before a detail separator counts too), or a listed address (local
 * parts and domains compared ignoring case)
 */
bool verdict_rcpt_exempt(const struct policy *p, enum addr_status status, const struct pm_addr *a);

/*
 * verdict_mode - the mode of check c for mail between the domains d
 * (overrides, policy.h). An override matches when the domain is its
 * for_sender_domain / for_recipient_domain or below it; of the groups
 * naming c, the longest matching domain wins (the first of equal
 * length). A recipient's mode is that of its recipient-domain override,
 * else that of the sender-domain override, else the policy's own mode
 * (policy_mode): the receiving domain decides what its users get. With
 * no recipient (before RCPT) the sender-domain override or the policy
 * decides; with several (end of message) their modes are used only when
 * every recipient gives the same one, else the recipient overrides are
 * ignored (the sender-domain override or the policy decides). *rule (when
 * rule is not NULL) is the deciding override's rule text (owned by the
 * policy snapshot), or NULL when the policy's own mode decided. d may be
 * NULL (no domains known).
 */
enum pm_mode verdict_mode(const struct policy *p, enum pm_check c, const struct pm_domains *d,
                          const char **rule);

/* verdict_delays_sender_refusals - are MAIL FROM's authentication refusals held for RCPT? */
bool verdict_delays_sender_refusals(const struct policy *p);

/*
 * verdict_spf_deferred - an SPF result at MAIL FROM that would be refused
 * but waits for DMARC at end of message (RFC 7489 10.1): result fail or
 * softfail set to reject, dmarc.mode enforce, dmarc.spf_fail_at_mail false,
 * f->sender_has_dmarc, a client neither trusted nor authenticated
 */
bool verdict_spf_deferred(const struct pm_facts *f, const struct policy *p);

/*
 * verdict_spf_excused - at end of message, does DMARC excuse the SPF
 * refusal verdict_spf_deferred held? Only an evaluation that covers the
 * domain whose SPF failed: the author domain f->author aligned (relaxed,
 * dmarc_aligned over p->psl) with the MAIL FROM domain f->domains.sender, and DMARC passed
 * through an aligned DKIM signature (RFC 7489 10.1: a signature that
 * survived forwarding), or DMARC temperror for such an author (decided by
 * DMARC's temperror rule). A pass through SPF cannot happen (SPF failed),
 * and an unrelated author domain's result says nothing about the MAIL
 * FROM domain.
 */
bool verdict_spf_excused(const struct pm_facts *f, const struct policy *p);

/*
 * verdict_dmarc_overrides - the DMARC mode and disposition for one message
 * after dmarc.domain_modes (longest suffix match on the author domain),
 * dmarc.never_enforce (author domain, or spf_pass_domain: the MAIL FROM
 * domain when SPF passed, or the d= of a passing DKIM signature, is a
 * listed domain or below one: mode at most tag) and dmarc.always_reject
 * (author domain listed: a fail gets disposition reject whatever p= and
 * pct). *rule says which setting decided (static text).
 */
void verdict_dmarc_overrides(const struct policy *p, const struct pm_domains *d, const char *author,
                             const char *spf_pass_domain, const struct dkim_results *dkim,
                             enum pm_dmarc_result result, enum pm_dmarc_policy disposition,
                             enum pm_mode *mode, enum pm_dmarc_policy *disposition_out,
                             const char **rule);

/*
 * verdict_must_sign - the must_sign status of the author domain (listed in
 * dkim.must_sign, itself or a parent): OK when a DKIM signature passed
 * with d= aligned (relaxed) with the author domain; otherwise TEMPFAIL
 * when an aligned signature had temperror (it may pass later),
 * NONE_ALIGNED when some signature passed, NONE_ACCEPTABLE when one had
 * result policy, else NONE_PASSING.
 * MUST_SIGN_NOT_LISTED when the domain is not listed (or author is NULL).
 */
enum must_sign_status verdict_must_sign(const struct policy *p, const char *author,
                                        const struct dkim_results *dkim);

/*
 * verdict_singleton_field - the field's name as RFC 5322 3.6 spells it
 * (static) when name (any case, white space before the colon ignored) is
 * one it allows at most once: Date, Sender, Reply-To, To, Cc, Bcc,
 * Message-ID, In-Reply-To, References, Subject; else NULL. From is not
 * listed: the From check judges it (exactly one, naming one author).
 */
const char *verdict_singleton_field(const char *name);

/* verdict_field_is - the header field name is want, ignoring case and white space before the colon
 */
bool verdict_field_is(const char *name, const char *want);

/* verdict_decide - the verdict for f->stage; never fails */
void verdict_decide(const struct pm_facts *f, const struct policy *p, struct pm_verdict *v);

/*
 * The lookups a stage still needs (verdict_plan), in the order they are
 * made; each may depend on the result of one before it.
 */
struct pm_plan {
	bool dnsbl;         /* connect: ask the DNSBL zones */
	bool iprev;         /* connect: look up the client's reverse DNS */
	bool iprev_applies; /* with iprev: the result is applied and reported (iprev is on;
	                       else it is looked up for lists.client_name only) */
	bool helo_spf;      /* helo: SPF for the HELO identity */
	bool sender_domain; /* mail: does the sender domain exist, with MX, A or AAAA */
	bool spf;           /* mail: SPF for MAIL FROM (the null sender: postmaster@HELO) */
	bool sender_dmarc;  /* mail: the sender domain's DMARC record, which an SPF refusal
	                       may wait for (verdict_spf_deferred) */
	bool message_auth;  /* header, eom: verify DKIM and ARC, evaluate DMARC (eom.h) */
};

/*
 * verdict_plan - which lookups stage f->stage still needs, given the facts
 * gathered so far (f says which were made). None for a trusted client or
 * a broken session (internal_error), none at MAIL FROM for an
 * authenticated client or a bad sender. Connect: the DNSBLs (when on,
 * unless the client is refused already), then iprev (when on, or
 * lists.client_name has entries), not when the client is refused, unless
 * by a DNSBL and lists.client_name has an allow list. HELO: HELO SPF when
 * on. MAIL FROM: nothing when the messages per connection are used up,
 * or a block entry, iprev or (after its lookup) the sender domain
 * refuses the mail or holds the refusal for RCPT; else the sender domain
 * (a sender with a domain name), SPF when on, then the sender domain's
 * DMARC record when an SPF fail or softfail set to reject may wait for it
 * (verdict_spf_deferred). End of message (not for an authenticated
 * client): message_auth when DKIM, DMARC (policy_check_on) or ARC
 * (arc.mode) is on. The milter asks again after each lookup.
 */
void verdict_plan(const struct pm_facts *f, const struct policy *p, struct pm_plan *plan);

/* Values for reply placeholders; NULL prints as "". */
struct pm_reply_vars {
	const char *ip, *name, *helo, *sender, *rcpt, *domain, *result, *identity, *zone;
	const char *retry; /* greylisting: seconds until a retry passes, or NULL */
};

/*
 * reply_expand - the reply's text with placeholders replaced by escaped
 * values (see pm_escape; each value cut at 200 bytes, then "..."), into
 * buf. The result is the text as the client should see it: printable
 * ASCII only, at most 449 bytes (so the whole reply line fits in 512),
 * and no "%" other than those the template had ('%' in a value becomes
 * "\x25"; "%%" in the template stays "%%", unknown "%{x}" stays as is).
 * The milter doubles every '%' itself for smfi_setreply. Returns buf.
 */
char *reply_expand(const struct pm_reply *r, const struct pm_reply_vars *vars, char *buf,
                   size_t bufsize);

/* pm_verdict_action_name - "continue", "reject", "tempfail" */
const char *pm_verdict_action_name(enum pm_verdict_action a);

/* pm_stage_name - "connect", "helo", "mail", "rcpt", "eom"; NULL for no stage */
const char *pm_stage_name(enum pm_stage s);

/* pm_check_id_name - the check's name in logs and JSON ("spf"); NULL for CHK_NONE */
const char *pm_check_id_name(enum pm_check_id c);

/* pm_reason_name - the reason's name in logs and JSON ("spf_fail"); NULL for RSN_NONE */
const char *pm_reason_name(enum pm_reason r);

#endif
