/*
 * NAME
 *	test_verdict - unit tests for verdict.c
 * DESCRIPTION
 *	Every row of the reply table of DESIGN.md that this slice decides,
 *	through verdict_decide() with policies built by config_load() from
 *	small policy files: action, reply code, enhanced code, check,
 *	reason and rule; log/tag/off modes; trusted and authenticated
 *	clients; limits; internal errors and fail-open; replies configured
 *	with another class; the DNSBL listing at connect and the iprev result
 *	at MAIL FROM (every outcome and mode, trusted and authenticated
 *	clients, order against client_block, SPF and the sender domain).
 *	Recipient exemptions (delay_sender_refusals): the rows written
 *	before them refuse at MAIL FROM, so load() turns
 *	recipients.delay_sender_refusals off for every policy that names
 *	neither it nor exempt_from_sender_checks; the P_EXEMPT* policies
 *	name them and test the held refusal at RCPT, the exempt recipient
 *	and the exempt message at end of message. Then
 *	messages per connection. Then reply_expand() with hostile values (CR,
 *	LF, NUL, 8-bit, '%', very long) and pm_verdict_action_name(). The
 *	names of stages, checks and reasons (one each, distinct), and the
 *	list every verdict's rule names (pm_list_ref). verdict_plan(): the
 *	lookups of each stage, case by case (the ones session.c makes).
 * DIAGNOSTICS
 *	"case NAME: got X, want Y" for each mismatch.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>

#include "config.h"
#include "dkim.h"
#include "dmarc.h"
#include "policy.h"
#include "unitpolicy.h"
#include "util.h"
#include "verdict.h"

static char tmp_dir[256];

/* Policy files, one per setting under test. */
#define BASE                                                                                       \
	"authserv_id = \"mx.example.org\";\n"                                                      \
	"trusted_networks = [ \"127.0.0.0/8\" ];\n"
#define RCPT_LIMITS "domains = [ \"example.org\" ]; max_recipients = 3; max_unknown = 2;"

static const char P_DEFAULT[] = BASE "client_block = { networks = [ \"203.0.113.0/24\" ]; };\n"
                                     "recipients = { " RCPT_LIMITS " };\n";
static const char P_LOG[] = BASE "client_block = { mode = \"log\"; networks = [ \"203.0.113.0/24\" "
                                 "]; };\n"
                                 "spf = { mode = \"log\"; helo_mode = \"log\"; };\n"
                                 "sender_domain = { mode = \"log\"; };\n"
                                 "recipients = { mode = \"log\"; " RCPT_LIMITS " };\n";
static const char P_TAG[] = BASE "client_block = { mode = \"tag\"; networks = [ \"203.0.113.0/24\" "
                                 "]; };\n"
                                 "spf = { mode = \"tag\"; helo_mode = \"tag\"; };\n"
                                 "sender_domain = { mode = \"tag\"; };\n"
                                 "recipients = { mode = \"tag\"; " RCPT_LIMITS " };\n";
static const char P_OFF[] = BASE "client_block = { mode = \"off\"; networks = [ \"203.0.113.0/24\" "
                                 "]; };\n"
                                 "spf = { mode = \"off\"; helo_mode = \"off\"; };\n"
                                 "sender_domain = { mode = \"off\"; };\n"
                                 "recipients = { mode = \"off\"; " RCPT_LIMITS " };\n";
static const char P_STRICT_SPF[] =
    BASE "spf = { softfail = \"reject\"; neutral = \"tempfail\"; none = \"tempfail\"; "
         "permerror = \"tempfail\"; };\n";
static const char P_HELO_LOG[] = BASE "spf = { mode = \"enforce\"; helo_mode = \"log\"; };\n";
static const char P_HELO_OFF[] = BASE "spf = { mode = \"enforce\"; helo_mode = \"off\"; };\n";
static const char P_SD_LOG[] = BASE "sender_domain = { mode = \"log\"; };\n";
static const char P_FAIL_OPEN[] = BASE "milter = { on_internal_error = \"accept\"; };\n"
                                       "recipients = { " RCPT_LIMITS " };\n";
static const char P_NO_LIMITS[] =
    BASE "recipients = { domains = [ \"example.org\" ]; max_recipients = 0; max_unknown = 0; };\n";
static const char P_CUSTOM[] =
    BASE "recipients = { " RCPT_LIMITS " };\n"
         "replies = {\n"
         "  unknown_recipient = \"450 4.1.1 <%{rcpt}>: not here today\";\n"
         "  spf_fail = \"451 4.7.23 SPF says no, for now\";\n"
         "  relay_denied = \"550 5.7.1 no relaying\";\n"
         "  sender_domain_unknown = \"450 4.1.8 <%{sender}>: not found (for now)\";\n"
         "};\n";

static const char P_DMARC_LOG[] = BASE "dmarc = { mode = \"log\"; };\n";
static const char P_DMARC_OFF[] = BASE "dmarc = { mode = \"off\"; };\n";
static const char P_DMARC_FAIL_OPEN[] = BASE "dmarc = { fail_open = true; };\n";
static const char P_NAME_EXEMPT[] =
    BASE "dmarc = { display_name_exempt = [ \"lists.example\" ]; };\n";
static const char P_SPF_AT_MAIL[] = BASE "dmarc = { spf_fail_at_mail = true; };\n";
static const char P_MUST_SIGN[] =
    BASE "dkim = { mode = \"enforce\"; must_sign = [ \"bank.test\" ]; };\n";
static const char P_OVERRIDES[] =
    BASE "dkim = { must_sign = [ \"bank.test\", \"Shop.Test\" ]; };\n"
         "dmarc = {\n"
         "  never_enforce = [ \"lists.test\", \"fwd.test\" ];\n"
         "  always_reject = [ \"brand.test\" ];\n"
         "  domain_modes = ( { domain = \"hosted.test\"; mode = \"log\"; },\n"
         "                   { domain = \"strict.hosted.test\"; mode = \"enforce\"; },\n"
         "                   { domain = \"quiet.test\"; mode = \"off\"; } );\n"
         "};\n";

/* DNSBL and iprev (issue 4): the listing and the iprev result are facts */
#define ZONES                                                                                      \
	"zones = ( { zone = \"zen.example\"; codes = [ \"127.0.0.2\" ]; action = \"reject\"; } );"
static const char P_DNSBL_LOG[] = BASE "dnsbl = { mode = \"log\"; " ZONES " };\n";
static const char P_DNSBL_TAG[] = BASE "dnsbl = { mode = \"tag\"; " ZONES " };\n";
static const char P_DNSBL_OFF[] = BASE "dnsbl = { mode = \"off\"; " ZONES " };\n";
static const char P_DNSBL_BLOCK_LOG[] =
    BASE "client_block = { mode = \"log\"; networks = [ \"203.0.113.0/24\" ]; };\n"
         "dnsbl = { " ZONES " };\n";
static const char P_IPREV_ENFORCE[] = BASE "iprev = { mode = \"enforce\"; };\n";
static const char P_IPREV_LOG[] = BASE "iprev = { mode = \"log\"; };\n";
static const char P_IPREV_OFF[] = BASE "iprev = { mode = \"off\"; };\n";
static const char P_IPREV_CUSTOM[] =
    BASE "iprev = { mode = \"enforce\"; };\n"
         "replies = { iprev_fail = \"450 4.7.25 no reverse DNS for %{ip}, try later\"; };\n";
static const char P_IPREV_SPF_TAG[] =
    BASE "iprev = { mode = \"enforce\"; };\nspf = { mode = \"tag\"; helo_mode = \"tag\"; };\n";

/* allow and block lists (issue 4): the matches are facts; dry run */
static const char P_DRY[] = BASE "dry_run = true;\n"
                                 "client_block = { networks = [ \"203.0.113.0/24\" ]; };\n"
                                 "recipients = { " RCPT_LIMITS " };\n";
static const char P_DRY_LOG[] = BASE "dry_run = true;\nspf = { mode = \"log\"; };\n";
static const char P_DRY_FAIL_OPEN[] = BASE "dry_run = true;\n"
                                           "milter = { on_internal_error = \"accept\"; };\n";
static const char P_LISTS_REPLIES[] =
    BASE "replies = { sender_blocked = \"450 4.7.1 <%{sender}>: not now\";\n"
         "  helo_blocked = \"550 5.7.0 go away %{helo}\"; };\n";

/* recipient exemptions and messages per connection (issue 4) */
#define EXEMPT_LIST                                                                                \
	"exempt_from_sender_checks = [ \"postmaster\", \"abuse\", \"spamtrap@example.net\" ];"
static const char P_EXEMPT[] =
    BASE "recipients = { domains = [ \"example.org\" ]; " EXEMPT_LIST " };\n";
/* sender- and recipient-domain overrides, with the refusals held for RCPT */
static const char P_DOMAIN_OV[] =
    BASE "recipients = { domains = [ \"example.org\" ]; " EXEMPT_LIST " };\n"
         "overrides = (\n"
         "  { for_recipient_domain = \"hosted.test\"; dmarc = \"log\"; spf = \"log\"; },\n"
         "  { for_recipient_domain = \"strict.hosted.test\"; dmarc = \"enforce\"; },\n"
         "  { for_sender_domain = \"partner.test\"; spf = \"tag\"; dmarc = \"tag\"; },\n"
         "  { for_sender_domain = \"noisy.test\"; sender_domain = \"off\"; },\n"
         "  { for_recipient_domain = \"unsigned.test\"; dkim = \"off\"; },\n"
         "  { for_recipient_domain = \"strict.test\"; spf = \"enforce\"; iprev = \"enforce\"; }\n"
         ");\n";
/* a check off by itself, turned on by an override */
static const char P_OV_ON[] = BASE "spf = { mode = \"off\"; };\n"
                                   "overrides = ( { for_sender_domain = \"x.test\"; spf = "
                                   "\"enforce\"; } );\n";
static const char P_EXEMPT_NODELAY[] =
    BASE "recipients = { domains = [ \"example.org\" ]; " EXEMPT_LIST
         " delay_sender_refusals = false; };\n";
static const char P_EXEMPT_NONE[] =
    BASE "recipients = { exempt_from_sender_checks = [ ]; delay_sender_refusals = true; };\n";
static const char P_EXEMPT_IPREV[] =
    BASE "iprev = { mode = \"enforce\"; };\nrecipients = { " EXEMPT_LIST " };\n";
static const char P_EXEMPT_SPF_LOG[] =
    BASE "spf = { mode = \"log\"; };\nrecipients = { " EXEMPT_LIST " };\n";
static const char P_EXEMPT_DRY[] = BASE "dry_run = true;\nrecipients = { " EXEMPT_LIST " };\n";
static const char P_EXEMPT_MUST_SIGN[] =
    BASE "dkim = { mode = \"enforce\"; must_sign = [ \"bank.test\" ]; };\n"
         "recipients = { " EXEMPT_LIST " };\n";
static const char P_DRY_MAX_MSGS[] =
    BASE "dry_run = true;\nrecipients = { max_messages_per_connection = 2; };\n";
#define SINGLE_ON "headers = { singletons = \"enforce\"; };\n"
static const char P_SINGLE_ENFORCE[] = BASE SINGLE_ON;
static const char P_SINGLE_LOG[] = BASE "headers = { singletons = \"log\"; };\n";
static const char P_SINGLE_OFF[] = BASE "headers = { singletons = \"off\"; };\n";
static const char P_SINGLE_EXEMPT[] =
    BASE SINGLE_ON "recipients = { domains = [ \"example.org\" ]; " EXEMPT_LIST " };\n";
static const char P_SINGLE_DRY[] = BASE SINGLE_ON "dry_run = true;\n";
static const char P_SINGLE_MUST_SIGN[] =
    BASE SINGLE_ON "dkim = { mode = \"enforce\"; must_sign = [ \"paypal.example\" ]; };\n";
static const char P_MAX_MSGS[] = BASE "recipients = { max_messages_per_connection = 2; };\n";
static const char P_MAX_MSGS_CUSTOM[] =
    BASE "recipients = { max_messages_per_connection = 1; };\n"
         "replies = { too_many_messages = \"450 4.7.1 one message per connection\"; };\n";

/* ARC (issue 15) */
static const char P_ARC_ENFORCE[] = BASE "arc = { mode = \"enforce\"; };\n";
static const char P_ARC_LOG[] = BASE "arc = { mode = \"log\"; };\n";
static const char P_ARC_OFF[] = BASE "arc = { mode = \"off\"; };\n";
static const char P_ARC_ENFORCE_DRY[] = BASE "dry_run = true;\narc = { mode = \"enforce\"; };\n";
static const char P_ARC_ENFORCE_EXEMPT[] =
    BASE "arc = { mode = \"enforce\"; };\nrecipients = { " EXEMPT_LIST " };\n";

struct vcase {
	const char *name;
	const char *policy;
	struct pm_facts f;
	enum pm_verdict_action action;
	bool would;
	int code;          /* of the (would-be) reply; 0 when nothing objects */
	const char *xcode; /* enhanced code */
	const char *check; /* NULL when nothing objects */
	const char *reason;
	const char *rule; /* NULL: not checked */
};

#define CONNECT .stage = PM_STAGE_CONNECT
#define HELO    .stage = PM_STAGE_HELO
#define MAIL    .stage = PM_STAGE_MAIL
#define RCPT    .stage = PM_STAGE_RCPT
#define EOM     .stage = PM_STAGE_EOM
#define CONT    PM_V_CONTINUE
#define REJ     PM_V_REJECT
#define TMP     PM_V_TEMPFAIL
#define BIT(k)  PM_LIST_BIT(LIST_##k)

/* MAIL FROM refusals held for RCPT (facts of the RCPT rows) */
static const struct pm_verdict HELD_SPF = {.reply = PM_R_SPF_FAIL,
                                           .check = CHK_SPF,
                                           .reason = RSN_SPF_FAIL,
                                           .rule = "spf.fail=reject",
                                           .delayed = true};
static const struct pm_verdict HELD_IPREV = {.reply = PM_R_IPREV_TEMPFAIL,
                                             .check = CHK_IPREV,
                                             .reason = RSN_IPREV_TEMPERROR,
                                             .rule = "iprev.mode=enforce",
                                             .delayed = true};
static const struct pm_verdict NOT_HELD = {
    .reply = PM_R_SPF_FAIL, .check = CHK_SPF, .reason = RSN_SPF_FAIL, .rule = "spf.fail=reject"};

#define EXEMPT_RULE "recipients.exempt_from_sender_checks"
#define DMARC_REJECT                                                                               \
	.from = FROM_OK, .dmarc = PM_DMARC_FAIL, .dmarc_disposition = PM_DMARC_P_REJECT,           \
	.dmarc_mode = PM_MODE_ENFORCE, .dmarc_rule = "dmarc.mode"

#define ARC_RESCUED                                                                                \
	.from = FROM_OK, .dmarc = PM_DMARC_FAIL, .dmarc_disposition = PM_DMARC_P_NONE,             \
	.dmarc_mode = PM_MODE_ENFORCE, .dmarc_rule = "arc.trusted_sealers", .arc_override = true

static const struct vcase verdict_cases[] = {
    /* ARC: a failed chain refuses in enforce mode only; none never */
    {"arc enforce: fail 550 5.7.29",
     P_ARC_ENFORCE,
     {EOM, .arc = PM_ARC_FAIL},
     REJ,
     false,
     550,
     "5.7.29",
     "arc",
     "arc_fail",
     "arc.mode=enforce"},
    {"arc enforce: temperror 451 4.4.3",
     P_ARC_ENFORCE,
     {EOM, .arc = PM_ARC_TEMPERROR},
     TMP,
     false,
     451,
     "4.4.3",
     "arc",
     "arc_temperror",
     "arc.mode=enforce"},
    {"arc enforce: none is never refused",
     P_ARC_ENFORCE,
     {EOM, .arc = PM_ARC_NONE},
     CONT,
     false,
     0,
     NULL,
     NULL,
     NULL,
     NULL},
    {"arc enforce: pass",
     P_ARC_ENFORCE,
     {EOM, .arc = PM_ARC_PASS},
     CONT,
     false,
     0,
     NULL,
     NULL,
     NULL,
     NULL},
    {"arc tag (default): fail is a would",
     P_DEFAULT,
     {EOM, .arc = PM_ARC_FAIL},
     CONT,
     true,
     550,
     "5.7.29",
     "arc",
     "arc_fail",
     "arc.mode=tag"},
    {"arc log: temperror is a would",
     P_ARC_LOG,
     {EOM, .arc = PM_ARC_TEMPERROR},
     CONT,
     true,
     451,
     "4.4.3",
     "arc",
     "arc_temperror",
     "arc.mode=log"},
    {"arc off: nothing",
     P_ARC_OFF,
     {EOM, .arc = PM_ARC_FAIL},
     CONT,
     false,
     0,
     NULL,
     NULL,
     NULL,
     NULL},
    {"arc enforce: trusted client skipped",
     P_ARC_ENFORCE,
     {EOM, .arc = PM_ARC_FAIL, .trusted = true},
     CONT,
     false,
     0,
     NULL,
     NULL,
     NULL,
     NULL},
    {"arc enforce: DMARC reject comes first",
     P_ARC_ENFORCE,
     {EOM, DMARC_REJECT, .arc = PM_ARC_FAIL},
     REJ,
     false,
     550,
     "5.7.26",
     "dmarc",
     "dmarc_reject",
     NULL},
    {"arc enforce: dry run makes it a would",
     P_ARC_ENFORCE_DRY,
     {EOM, .arc = PM_ARC_FAIL},
     CONT,
     true,
     550,
     "5.7.29",
     "arc",
     "arc_fail",
     "arc.mode=enforce"},
    {"arc enforce: an allowed sender skips it",
     P_ARC_ENFORCE,
     {EOM, .arc = PM_ARC_FAIL, .list_allow = BIT(SENDER)},
     CONT,
     false,
     550,
     "5.7.29",
     "arc",
     "allowed",
     "lists.sender.allow"},
    {"arc enforce: exempt recipients make it a would",
     P_ARC_ENFORCE_EXEMPT,
     {EOM, .arc = PM_ARC_FAIL, .all_rcpts_exempt = true},
     CONT,
     true,
     550,
     "5.7.29",
     "arc",
     "exempt_recipient",
     EXEMPT_RULE},
    /* the rescue of a DMARC fail by a trusted ARC sealer: nothing refused, the record says why */
    {"arc rescue: arc_override",
     P_DEFAULT,
     {EOM, ARC_RESCUED, .arc = PM_ARC_PASS},
     CONT,
     false,
     0,
     NULL,
     "dmarc",
     "arc_override",
     "arc.trusted_sealers"},
    {"arc rescue: an allow list names the record",
     P_DEFAULT,
     {EOM, ARC_RESCUED, .arc = PM_ARC_PASS, .list_allow = BIT(SENDER)},
     CONT,
     false,
     0,
     NULL,
     "lists",
     "allowed",
     "lists.sender.allow"},
    {"arc rescue: a would of another check comes first",
     P_SINGLE_LOG,
     {EOM, ARC_RESCUED, .arc = PM_ARC_PASS, .repeated_field = "Subject"},
     CONT,
     true,
     550,
     "5.7.1",
     "headers",
     "header_repeated",
     "headers.singletons=log"},
    /* exemptions: the authentication refusals of MAIL FROM are held for RCPT */
    {"exempt list: SPF fail held",
     P_EXEMPT,
     {MAIL, .mfrom_spf = PM_SPF_FAIL},
     CONT,
     false,
     550,
     "5.7.23",
     "spf",
     "spf_fail",
     "spf.fail=reject"},
    {"exempt list: HELO SPF fail held",
     P_EXEMPT,
     {MAIL, .helo_spf = PM_SPF_FAIL},
     CONT,
     false,
     550,
     "5.7.23",
     "helo_spf",
     "helo_spf_fail",
     "spf.fail=reject"},
    {"exempt list: SPF temperror held",
     P_EXEMPT,
     {MAIL, .mfrom_spf = PM_SPF_TEMPERROR},
     CONT,
     false,
     451,
     "4.7.24",
     "spf",
     "spf_temperror",
     "spf.temperror=tempfail"},
    {"exempt list: sender domain unknown held",
     P_EXEMPT,
     {MAIL, .sender_domain = SENDER_DOMAIN_NXDOMAIN},
     CONT,
     false,
     550,
     "5.1.8",
     "sender_domain",
     "sender_domain_unknown",
     "sender_domain.mode=enforce"},
    {"exempt list: sender domain tempfail held",
     P_EXEMPT,
     {MAIL, .sender_domain = SENDER_DOMAIN_TEMPFAIL},
     CONT,
     false,
     451,
     "4.4.3",
     "sender_domain",
     "sender_domain_tempfail",
     NULL},
    {"exempt list: iprev fail held",
     P_EXEMPT_IPREV,
     {MAIL, .iprev = PM_IPREV_FAIL},
     CONT,
     false,
     550,
     "5.7.25",
     "iprev",
     "iprev_fail",
     "iprev.mode=enforce"},
    {"exempt list: sender block not held",
     P_EXEMPT,
     {MAIL, .list_block = BIT(SENDER), .mfrom_spf = PM_SPF_FAIL},
     REJ,
     false,
     554,
     "5.7.1",
     "lists",
     "sender_blocked",
     "lists.sender.block"},
    {"exempt list: HELO block not held",
     P_EXEMPT,
     {MAIL, .list_block = BIT(HELO)},
     REJ,
     false,
     554,
     "5.7.1",
     "lists",
     "helo_blocked",
     "lists.helo.block"},
    {"exempt list: sender syntax not held",
     P_EXEMPT,
     {MAIL, .sender_status = ADDR_BAD},
     REJ,
     false,
     501,
     "5.1.7",
     "sender_syntax",
     "sender_syntax",
     NULL},
    {"exempt list, delay off: SPF fail at MAIL FROM",
     P_EXEMPT_NODELAY,
     {MAIL, .mfrom_spf = PM_SPF_FAIL},
     REJ,
     false,
     550,
     "5.7.23",
     "spf",
     "spf_fail",
     NULL},
    {"empty exempt list: SPF fail at MAIL FROM",
     P_EXEMPT_NONE,
     {MAIL, .mfrom_spf = PM_SPF_FAIL},
     REJ,
     false,
     550,
     "5.7.23",
     "spf",
     "spf_fail",
     NULL},
    {"exempt list: SPF log mode is a would at MAIL FROM",
     P_EXEMPT_SPF_LOG,
     {MAIL, .mfrom_spf = PM_SPF_FAIL},
     CONT,
     true,
     550,
     "5.7.23",
     "spf",
     "spf_fail",
     NULL},
    {"exempt list: allowed sender, nothing held",
     P_EXEMPT,
     {MAIL, .mfrom_spf = PM_SPF_FAIL, .list_allow = BIT(SENDER)},
     CONT,
     false,
     550,
     "5.7.23",
     "spf",
     "allowed",
     "lists.sender.allow"},
    {"exempt list: trusted",
     P_EXEMPT,
     {MAIL, .trusted = true, .mfrom_spf = PM_SPF_FAIL},
     CONT,
     false,
     0,
     NULL,
     NULL,
     NULL,
     NULL},
    {"exempt list: authenticated",
     P_EXEMPT,
     {MAIL, .authenticated = true, .mfrom_spf = PM_SPF_FAIL},
     CONT,
     false,
     0,
     NULL,
     NULL,
     NULL,
     NULL},

    /* the held refusal at RCPT */
    {"held SPF fail, recipient not exempt",
     P_EXEMPT,
     {RCPT, .mail_refusal = &HELD_SPF},
     REJ,
     false,
     550,
     "5.7.23",
     "spf",
     "spf_fail",
     "spf.fail=reject"},
    {"held SPF fail, exempt recipient",
     P_EXEMPT,
     {RCPT, .mail_refusal = &HELD_SPF, .rcpt_exempt = true},
     CONT,
     true,
     550,
     "5.7.23",
     "spf",
     "exempt_recipient",
     EXEMPT_RULE},
    {"held iprev temperror, recipient not exempt",
     P_EXEMPT_IPREV,
     {RCPT, .mail_refusal = &HELD_IPREV},
     TMP,
     false,
     451,
     "4.7.25",
     "iprev",
     "iprev_temperror",
     "iprev.mode=enforce"},
    {"held SPF fail before the recipient table",
     P_EXEMPT,
     {RCPT, .mail_refusal = &HELD_SPF, .rcpt = RCPT_UNKNOWN},
     REJ,
     false,
     550,
     "5.7.23",
     "spf",
     "spf_fail",
     NULL},
    {"held SPF fail, exempt but blocked recipient",
     P_EXEMPT,
     {RCPT, .mail_refusal = &HELD_SPF, .rcpt_exempt = true, .list_block = BIT(RECIPIENT)},
     REJ,
     false,
     554,
     "5.7.1",
     "lists",
     "rcpt_blocked",
     NULL},
    {"held SPF fail, exempt but unknown recipient",
     P_EXEMPT,
     {RCPT, .mail_refusal = &HELD_SPF, .rcpt_exempt = true, .rcpt = RCPT_UNKNOWN},
     REJ,
     false,
     550,
     "5.1.1",
     "recipients",
     "unknown_recipient",
     NULL},
    {"held SPF fail, recipient syntax first",
     P_EXEMPT,
     {RCPT, .mail_refusal = &HELD_SPF, .rcpt_status = ADDR_BAD},
     REJ,
     false,
     501,
     "5.1.3",
     "rcpt_syntax",
     "rcpt_syntax",
     NULL},
    {"held SPF fail, recipient limit first",
     P_EXEMPT,
     {RCPT, .mail_refusal = &HELD_SPF, .rcpt_accepted = 100},
     TMP,
     false,
     452,
     "4.5.3",
     "max_recipients",
     "too_many_recipients",
     NULL},
    {"a verdict not held is no refusal at RCPT",
     P_EXEMPT,
     {RCPT, .mail_refusal = &NOT_HELD},
     CONT,
     false,
     0,
     NULL,
     NULL,
     NULL,
     NULL},
    {"exempt recipient, nothing held",
     P_EXEMPT,
     {RCPT, .rcpt_exempt = true},
     CONT,
     false,
     0,
     NULL,
     NULL,
     NULL,
     NULL},
    {"held SPF fail in a dry run",
     P_EXEMPT_DRY,
     {RCPT, .mail_refusal = &HELD_SPF},
     CONT,
     true,
     550,
     "5.7.23",
     "spf",
     "spf_fail",
     NULL},

    /* end of message: every recipient exempt, tagged only */
    {"DMARC reject, every recipient exempt",
     P_EXEMPT,
     {EOM, DMARC_REJECT, .all_rcpts_exempt = true},
     CONT,
     true,
     550,
     "5.7.26",
     "dmarc",
     "exempt_recipient",
     EXEMPT_RULE},
    {"DMARC reject, not every recipient exempt",
     P_EXEMPT,
     {EOM, DMARC_REJECT},
     REJ,
     false,
     550,
     "5.7.26",
     "dmarc",
     "dmarc_reject",
     NULL},
    {"DMARC reject, exempt, empty list",
     P_EXEMPT_NONE,
     {EOM, DMARC_REJECT, .all_rcpts_exempt = false},
     REJ,
     false,
     550,
     "5.7.26",
     "dmarc",
     "dmarc_reject",
     NULL},
    {"DMARC reject, exempt, delay off (still tagged only)",
     P_EXEMPT_NODELAY,
     {EOM, DMARC_REJECT, .all_rcpts_exempt = true},
     CONT,
     true,
     550,
     "5.7.26",
     "dmarc",
     "exempt_recipient",
     EXEMPT_RULE},
    {"DMARC tempfail, every recipient exempt",
     P_EXEMPT,
     {EOM, .from = FROM_OK, .dmarc = PM_DMARC_TEMPERROR, .dmarc_mode = PM_MODE_ENFORCE,
      .all_rcpts_exempt = true},
     CONT,
     true,
     451,
     "4.4.3",
     "dmarc",
     "exempt_recipient",
     EXEMPT_RULE},
    {"DMARC reject in log mode, exempt: its own would",
     P_EXEMPT,
     {EOM, .from = FROM_OK, .dmarc = PM_DMARC_FAIL, .dmarc_disposition = PM_DMARC_P_REJECT,
      .dmarc_mode = PM_MODE_LOG, .all_rcpts_exempt = true},
     CONT,
     true,
     550,
     "5.7.26",
     "dmarc",
     "dmarc_reject",
     NULL},
    {"From missing, every recipient exempt",
     P_EXEMPT,
     {EOM, .from = FROM_MISSING, .all_rcpts_exempt = true},
     CONT,
     true,
     550,
     "5.7.1",
     "from_header",
     "exempt_recipient",
     EXEMPT_RULE},
    {"From missing, not every recipient exempt",
     P_EXEMPT,
     {EOM, .from = FROM_MISSING},
     REJ,
     false,
     550,
     "5.7.1",
     "from_header",
     "from_missing",
     NULL},
    {"must_sign, every recipient exempt",
     P_EXEMPT_MUST_SIGN,
     {EOM, .from = FROM_OK, .must_sign = MUST_SIGN_NONE_PASSING, .all_rcpts_exempt = true},
     CONT,
     true,
     550,
     "5.7.20",
     "must_sign",
     "exempt_recipient",
     EXEMPT_RULE},
    {"deferred SPF fail, every recipient exempt",
     P_EXEMPT,
     {EOM, .mfrom_spf = PM_SPF_FAIL, .sender_has_dmarc = true, .from = FROM_OK,
      .dmarc = PM_DMARC_NONE, .dmarc_mode = PM_MODE_ENFORCE, .all_rcpts_exempt = true},
     CONT,
     true,
     550,
     "5.7.23",
     "spf",
     "exempt_recipient",
     EXEMPT_RULE},
    {"deferred SPF fail, not every recipient exempt",
     P_EXEMPT,
     {EOM, .mfrom_spf = PM_SPF_FAIL, .sender_has_dmarc = true, .from = FROM_OK,
      .dmarc = PM_DMARC_NONE, .dmarc_mode = PM_MODE_ENFORCE},
     REJ,
     false,
     550,
     "5.7.23",
     "spf",
     "spf_fail",
     NULL},
    {"DMARC reject, exempt and allowed: the allow names it",
     P_EXEMPT,
     {EOM, DMARC_REJECT, .all_rcpts_exempt = true, .list_allow = BIT(SENDER)},
     CONT,
     false,
     550,
     "5.7.26",
     "dmarc",
     "allowed",
     "lists.sender.allow"},
    {"DMARC reject, exempt, trusted",
     P_EXEMPT,
     {EOM, DMARC_REJECT, .all_rcpts_exempt = true, .trusted = true},
     CONT,
     false,
     0,
     NULL,
     NULL,
     NULL,
     NULL},

    /* messages per connection */
    {"second message of two",
     P_MAX_MSGS,
     {MAIL, .messages_in_session = 1},
     CONT,
     false,
     0,
     NULL,
     NULL,
     NULL,
     NULL},
    {"third message of two",
     P_MAX_MSGS,
     {MAIL, .messages_in_session = 2},
     TMP,
     false,
     421,
     "4.7.0",
     "max_messages",
     "too_many_messages",
     "recipients.max_messages_per_connection"},
    {"third message, bad syntax: the count first",
     P_MAX_MSGS,
     {MAIL, .messages_in_session = 2, .sender_status = ADDR_BAD},
     TMP,
     false,
     421,
     "4.7.0",
     "max_messages",
     "too_many_messages",
     NULL},
    {"third message, authenticated",
     P_MAX_MSGS,
     {MAIL, .messages_in_session = 2, .authenticated = true},
     TMP,
     false,
     421,
     "4.7.0",
     "max_messages",
     "too_many_messages",
     NULL},
    {"sixth message, trusted",
     P_MAX_MSGS,
     {MAIL, .messages_in_session = 5, .trusted = true},
     CONT,
     false,
     0,
     NULL,
     NULL,
     NULL,
     NULL},
    {"no limit by default",
     P_DEFAULT,
     {MAIL, .messages_in_session = 100000},
     CONT,
     false,
     0,
     NULL,
     NULL,
     NULL,
     NULL},
    {"second message, configured reply",
     P_MAX_MSGS_CUSTOM,
     {MAIL, .messages_in_session = 1},
     TMP,
     false,
     450,
     "4.7.1",
     "max_messages",
     "too_many_messages",
     NULL},
    {"third message in a dry run",
     P_DRY_MAX_MSGS,
     {MAIL, .messages_in_session = 2},
     CONT,
     true,
     421,
     "4.7.0",
     "max_messages",
     "too_many_messages",
     NULL},

    /* connect: client block list, 554 5.7.1 */
    {"client blocked",
     P_DEFAULT,
     {CONNECT, .client_blocked = true},
     REJ,
     false,
     554,
     "5.7.1",
     "client_block",
     "client_blocked",
     "client_block.networks"},
    {"client blocked but trusted",
     P_DEFAULT,
     {CONNECT, .client_blocked = true, .trusted = true},
     CONT,
     false,
     0,
     NULL,
     NULL,
     NULL,
     NULL},
    {"client not blocked", P_DEFAULT, {CONNECT}, CONT, false, 0, NULL, NULL, NULL, NULL},
    {"client blocked, log",
     P_LOG,
     {CONNECT, .client_blocked = true},
     CONT,
     true,
     554,
     "5.7.1",
     "client_block",
     "client_blocked",
     "client_block.networks"},
    {"client blocked, tag",
     P_TAG,
     {CONNECT, .client_blocked = true},
     CONT,
     true,
     554,
     "5.7.1",
     "client_block",
     "client_blocked",
     NULL},
    {"client blocked, off",
     P_OFF,
     {CONNECT, .client_blocked = true},
     CONT,
     false,
     0,
     NULL,
     NULL,
     NULL,
     NULL},

    /* connect: DNSBL, a zone with action reject listed the client: 554 5.7.1 */
    {"dnsbl listed (default mode enforce)",
     P_DEFAULT,
     {CONNECT, .dnsbl_listed = true},
     REJ,
     false,
     554,
     "5.7.1",
     "dnsbl",
     "dnsbl_listed",
     "dnsbl.zones"},
    {"dnsbl listed but trusted",
     P_DEFAULT,
     {CONNECT, .dnsbl_listed = true, .trusted = true},
     CONT,
     false,
     0,
     NULL,
     NULL,
     NULL,
     NULL},
    {"dnsbl listed, authenticated is not known at connect: refused",
     P_DEFAULT,
     {CONNECT, .dnsbl_listed = true, .authenticated = true},
     REJ,
     false,
     554,
     "5.7.1",
     "dnsbl",
     "dnsbl_listed",
     "dnsbl.zones"},
    {"dnsbl listed, log",
     P_DNSBL_LOG,
     {CONNECT, .dnsbl_listed = true},
     CONT,
     true,
     554,
     "5.7.1",
     "dnsbl",
     "dnsbl_listed",
     "dnsbl.zones"},
    {"dnsbl listed, tag (acts as log)",
     P_DNSBL_TAG,
     {CONNECT, .dnsbl_listed = true},
     CONT,
     true,
     554,
     "5.7.1",
     "dnsbl",
     "dnsbl_listed",
     "dnsbl.zones"},
    {"dnsbl listed, off",
     P_DNSBL_OFF,
     {CONNECT, .dnsbl_listed = true},
     CONT,
     false,
     0,
     NULL,
     NULL,
     NULL,
     NULL},
    {"dnsbl not listed", P_DEFAULT, {CONNECT}, CONT, false, 0, NULL, NULL, NULL, NULL},
    {"client blocked and dnsbl listed: client_block first",
     P_DEFAULT,
     {CONNECT, .client_blocked = true, .dnsbl_listed = true},
     REJ,
     false,
     554,
     "5.7.1",
     "client_block",
     "client_blocked",
     "client_block.networks"},
    {"client blocked (log) and dnsbl listed (enforce): the enforced refusal wins",
     P_DNSBL_BLOCK_LOG,
     {CONNECT, .client_blocked = true, .dnsbl_listed = true},
     REJ,
     false,
     554,
     "5.7.1",
     "dnsbl",
     "dnsbl_listed",
     "dnsbl.zones"},
    {"dnsbl listed, logged but not refused at MAIL FROM",
     P_DEFAULT,
     {MAIL, .dnsbl_listed = true},
     CONT,
     false,
     0,
     NULL,
     NULL,
     NULL,
     NULL},

    /* iprev: decided at connect, applied at MAIL FROM; fail and permerror 550 5.7.25,
       temperror 451 4.7.25 */
    {"iprev fail, enforce",
     P_IPREV_ENFORCE,
     {MAIL, .iprev = PM_IPREV_FAIL},
     REJ,
     false,
     550,
     "5.7.25",
     "iprev",
     "iprev_fail",
     "iprev.mode=enforce"},
    {"iprev permerror (no PTR), enforce",
     P_IPREV_ENFORCE,
     {MAIL, .iprev = PM_IPREV_PERMERROR},
     REJ,
     false,
     550,
     "5.7.25",
     "iprev",
     "iprev_permerror",
     "iprev.mode=enforce"},
    {"iprev temperror, enforce",
     P_IPREV_ENFORCE,
     {MAIL, .iprev = PM_IPREV_TEMPERROR},
     TMP,
     false,
     451,
     "4.7.25",
     "iprev",
     "iprev_temperror",
     "iprev.mode=enforce"},
    {"iprev pass, enforce",
     P_IPREV_ENFORCE,
     {MAIL, .iprev = PM_IPREV_PASS},
     CONT,
     false,
     0,
     NULL,
     NULL,
     NULL,
     NULL},
    {"iprev not checked, enforce", P_IPREV_ENFORCE, {MAIL}, CONT, false, 0, NULL, NULL, NULL, NULL},
    {"iprev fail, enforce, authenticated",
     P_IPREV_ENFORCE,
     {MAIL, .iprev = PM_IPREV_FAIL, .authenticated = true},
     CONT,
     false,
     0,
     NULL,
     NULL,
     NULL,
     NULL},
    {"iprev temperror, enforce, authenticated",
     P_IPREV_ENFORCE,
     {MAIL, .iprev = PM_IPREV_TEMPERROR, .authenticated = true},
     CONT,
     false,
     0,
     NULL,
     NULL,
     NULL,
     NULL},
    {"iprev fail, enforce, trusted",
     P_IPREV_ENFORCE,
     {MAIL, .iprev = PM_IPREV_FAIL, .trusted = true},
     CONT,
     false,
     0,
     NULL,
     NULL,
     NULL,
     NULL},
    {"iprev fail, enforce: nothing is refused at connect",
     P_IPREV_ENFORCE,
     {CONNECT, .iprev = PM_IPREV_FAIL},
     CONT,
     false,
     0,
     NULL,
     NULL,
     NULL,
     NULL},
    {"iprev fail, enforce: nothing is refused at HELO",
     P_IPREV_ENFORCE,
     {HELO, .iprev = PM_IPREV_FAIL},
     CONT,
     false,
     0,
     NULL,
     NULL,
     NULL,
     NULL},
    {"iprev fail, enforce: not again at RCPT TO",
     P_IPREV_ENFORCE,
     {RCPT, .iprev = PM_IPREV_FAIL},
     CONT,
     false,
     0,
     NULL,
     NULL,
     NULL,
     NULL},
    {"iprev fail, enforce: not again at end of message",
     P_IPREV_ENFORCE,
     {EOM, .iprev = PM_IPREV_FAIL},
     CONT,
     false,
     0,
     NULL,
     NULL,
     NULL,
     NULL},
    {"iprev fail, tag (the default)",
     P_DEFAULT,
     {MAIL, .iprev = PM_IPREV_FAIL},
     CONT,
     true,
     550,
     "5.7.25",
     "iprev",
     "iprev_fail",
     "iprev.mode=tag"},
    {"iprev permerror, tag (the default)",
     P_DEFAULT,
     {MAIL, .iprev = PM_IPREV_PERMERROR},
     CONT,
     true,
     550,
     "5.7.25",
     "iprev",
     "iprev_permerror",
     "iprev.mode=tag"},
    {"iprev temperror, log",
     P_IPREV_LOG,
     {MAIL, .iprev = PM_IPREV_TEMPERROR},
     CONT,
     true,
     451,
     "4.7.25",
     "iprev",
     "iprev_temperror",
     "iprev.mode=log"},
    {"iprev fail, log",
     P_IPREV_LOG,
     {MAIL, .iprev = PM_IPREV_FAIL},
     CONT,
     true,
     550,
     "5.7.25",
     "iprev",
     "iprev_fail",
     "iprev.mode=log"},
    {"iprev fail, off",
     P_IPREV_OFF,
     {MAIL, .iprev = PM_IPREV_FAIL},
     CONT,
     false,
     0,
     NULL,
     NULL,
     NULL,
     NULL},
    {"iprev pass, tag",
     P_DEFAULT,
     {MAIL, .iprev = PM_IPREV_PASS},
     CONT,
     false,
     0,
     NULL,
     NULL,
     NULL,
     NULL},
    {"iprev fail configured 450: tempfail",
     P_IPREV_CUSTOM,
     {MAIL, .iprev = PM_IPREV_FAIL},
     TMP,
     false,
     450,
     "4.7.25",
     "iprev",
     "iprev_fail",
     "iprev.mode=enforce"},
    {"iprev fail (enforce) before SPF fail",
     P_IPREV_ENFORCE,
     {MAIL, .iprev = PM_IPREV_FAIL, .mfrom_spf = PM_SPF_FAIL, .helo_spf = PM_SPF_FAIL},
     REJ,
     false,
     550,
     "5.7.25",
     "iprev",
     "iprev_fail",
     "iprev.mode=enforce"},
    {"iprev fail (enforce) before an unknown sender domain",
     P_IPREV_ENFORCE,
     {MAIL, .iprev = PM_IPREV_FAIL, .sender_domain = SENDER_DOMAIN_NXDOMAIN},
     REJ,
     false,
     550,
     "5.7.25",
     "iprev",
     "iprev_fail",
     "iprev.mode=enforce"},
    {"iprev fail (tag), SPF fail (enforce): the enforced refusal wins",
     P_DEFAULT,
     {MAIL, .iprev = PM_IPREV_FAIL, .mfrom_spf = PM_SPF_FAIL},
     REJ,
     false,
     550,
     "5.7.23",
     "spf",
     "spf_fail",
     "spf.fail=reject"},
    {"iprev fail (enforce), SPF fail (tag): iprev refuses",
     P_IPREV_SPF_TAG,
     {MAIL, .iprev = PM_IPREV_FAIL, .mfrom_spf = PM_SPF_FAIL},
     REJ,
     false,
     550,
     "5.7.25",
     "iprev",
     "iprev_fail",
     "iprev.mode=enforce"},
    {"bad sender syntax before iprev",
     P_IPREV_ENFORCE,
     {MAIL, .iprev = PM_IPREV_FAIL, .sender_status = ADDR_BAD},
     REJ,
     false,
     501,
     "5.1.7",
     "sender_syntax",
     "sender_syntax",
     NULL},

    /* MAIL FROM SPF: fail 550 5.7.23, permerror 550 5.7.24, temperror 451 4.7.24 */
    {"spf fail",
     P_DEFAULT,
     {MAIL, .mfrom_spf = PM_SPF_FAIL},
     REJ,
     false,
     550,
     "5.7.23",
     "spf",
     "spf_fail",
     "spf.fail=reject"},
    {"spf permerror",
     P_DEFAULT,
     {MAIL, .mfrom_spf = PM_SPF_PERMERROR},
     REJ,
     false,
     550,
     "5.7.24",
     "spf",
     "spf_permerror",
     "spf.permerror=reject"},
    {"spf temperror",
     P_DEFAULT,
     {MAIL, .mfrom_spf = PM_SPF_TEMPERROR},
     TMP,
     false,
     451,
     "4.7.24",
     "spf",
     "spf_temperror",
     "spf.temperror=tempfail"},
    {"spf softfail (default accept)",
     P_DEFAULT,
     {MAIL, .mfrom_spf = PM_SPF_SOFTFAIL},
     CONT,
     false,
     0,
     NULL,
     NULL,
     NULL,
     NULL},
    {"spf pass",
     P_DEFAULT,
     {MAIL, .mfrom_spf = PM_SPF_PASS},
     CONT,
     false,
     0,
     NULL,
     NULL,
     NULL,
     NULL},
    {"spf none",
     P_DEFAULT,
     {MAIL, .mfrom_spf = PM_SPF_NONE},
     CONT,
     false,
     0,
     NULL,
     NULL,
     NULL,
     NULL},
    {"spf neutral",
     P_DEFAULT,
     {MAIL, .mfrom_spf = PM_SPF_NEUTRAL},
     CONT,
     false,
     0,
     NULL,
     NULL,
     NULL,
     NULL},
    {"spf unchecked", P_DEFAULT, {MAIL}, CONT, false, 0, NULL, NULL, NULL, NULL},
    {"spf softfail=reject",
     P_STRICT_SPF,
     {MAIL, .mfrom_spf = PM_SPF_SOFTFAIL},
     REJ,
     false,
     550,
     "5.7.23",
     "spf",
     "spf_softfail",
     "spf.softfail=reject"},
    {"spf neutral=tempfail",
     P_STRICT_SPF,
     {MAIL, .mfrom_spf = PM_SPF_NEUTRAL},
     TMP,
     false,
     451,
     "4.7.24",
     "spf",
     "spf_neutral",
     "spf.neutral=tempfail"},
    {"spf none=tempfail",
     P_STRICT_SPF,
     {MAIL, .mfrom_spf = PM_SPF_NONE},
     TMP,
     false,
     451,
     "4.7.24",
     "spf",
     "spf_none",
     "spf.none=tempfail"},
    {"spf permerror=tempfail",
     P_STRICT_SPF,
     {MAIL, .mfrom_spf = PM_SPF_PERMERROR},
     TMP,
     false,
     451,
     "4.7.24",
     "spf",
     "spf_permerror",
     "spf.permerror=tempfail"},
    {"spf fail, log",
     P_LOG,
     {MAIL, .mfrom_spf = PM_SPF_FAIL},
     CONT,
     true,
     550,
     "5.7.23",
     "spf",
     "spf_fail",
     "spf.fail=reject"},
    {"spf temperror, tag",
     P_TAG,
     {MAIL, .mfrom_spf = PM_SPF_TEMPERROR},
     CONT,
     true,
     451,
     "4.7.24",
     "spf",
     "spf_temperror",
     NULL},
    {"spf fail, off",
     P_OFF,
     {MAIL, .mfrom_spf = PM_SPF_FAIL},
     CONT,
     false,
     0,
     NULL,
     NULL,
     NULL,
     NULL},
    {"null sender judged by HELO identity",
     P_DEFAULT,
     {MAIL, .sender_status = ADDR_NULL, .mfrom_spf = PM_SPF_FAIL},
     REJ,
     false,
     550,
     "5.7.23",
     "spf",
     "spf_fail",
     NULL},
    {"spf fail, trusted",
     P_DEFAULT,
     {MAIL, .trusted = true, .mfrom_spf = PM_SPF_FAIL},
     CONT,
     false,
     0,
     NULL,
     NULL,
     NULL,
     NULL},
    {"spf fail, authenticated",
     P_DEFAULT,
     {MAIL, .authenticated = true, .mfrom_spf = PM_SPF_FAIL, .helo_spf = PM_SPF_FAIL},
     CONT,
     false,
     0,
     NULL,
     NULL,
     NULL,
     NULL},
    {"spf temperror, authenticated",
     P_DEFAULT,
     {MAIL, .authenticated = true, .mfrom_spf = PM_SPF_TEMPERROR},
     CONT,
     false,
     0,
     NULL,
     NULL,
     NULL,
     NULL},

    /* HELO SPF: decided at HELO, applied at MAIL FROM */
    {"helo spf fail at HELO",
     P_DEFAULT,
     {HELO, .helo_spf = PM_SPF_FAIL},
     CONT,
     false,
     0,
     NULL,
     NULL,
     NULL,
     NULL},
    {"helo spf fail at MAIL",
     P_DEFAULT,
     {MAIL, .helo_spf = PM_SPF_FAIL, .mfrom_spf = PM_SPF_PASS},
     REJ,
     false,
     550,
     "5.7.23",
     "helo_spf",
     "helo_spf_fail",
     "spf.fail=reject"},
    {"helo spf permerror at MAIL",
     P_DEFAULT,
     {MAIL, .helo_spf = PM_SPF_PERMERROR},
     REJ,
     false,
     550,
     "5.7.24",
     "helo_spf",
     "helo_spf_permerror",
     NULL},
    {"helo spf temperror at MAIL",
     P_DEFAULT,
     {MAIL, .helo_spf = PM_SPF_TEMPERROR},
     TMP,
     false,
     451,
     "4.7.24",
     "helo_spf",
     "helo_spf_temperror",
     NULL},
    {"helo and mail spf fail: HELO first",
     P_DEFAULT,
     {MAIL, .helo_spf = PM_SPF_FAIL, .mfrom_spf = PM_SPF_FAIL},
     REJ,
     false,
     550,
     "5.7.23",
     "helo_spf",
     "helo_spf_fail",
     NULL},
    {"helo spf fail, trusted",
     P_DEFAULT,
     {MAIL, .trusted = true, .helo_spf = PM_SPF_FAIL},
     CONT,
     false,
     0,
     NULL,
     NULL,
     NULL,
     NULL},
    {"helo log, mail enforce: the enforced refusal wins",
     P_HELO_LOG,
     {MAIL, .helo_spf = PM_SPF_FAIL, .mfrom_spf = PM_SPF_FAIL},
     REJ,
     false,
     550,
     "5.7.23",
     "spf",
     "spf_fail",
     NULL},
    {"helo log alone: would",
     P_HELO_LOG,
     {MAIL, .helo_spf = PM_SPF_FAIL, .mfrom_spf = PM_SPF_PASS},
     CONT,
     true,
     550,
     "5.7.23",
     "helo_spf",
     "helo_spf_fail",
     NULL},
    {"helo and mail fail, log: the first would",
     P_LOG,
     {MAIL, .helo_spf = PM_SPF_FAIL, .mfrom_spf = PM_SPF_PERMERROR},
     CONT,
     true,
     550,
     "5.7.23",
     "helo_spf",
     "helo_spf_fail",
     NULL},
    {"helo off",
     P_HELO_OFF,
     {MAIL, .helo_spf = PM_SPF_FAIL, .mfrom_spf = PM_SPF_PASS},
     CONT,
     false,
     0,
     NULL,
     NULL,
     NULL,
     NULL},

    /* sender domain: 550 5.1.8 not found, 550 5.7.27 null MX, 451 4.4.3 lookup failed */
    {"sender domain nxdomain",
     P_DEFAULT,
     {MAIL, .sender_domain = SENDER_DOMAIN_NXDOMAIN},
     REJ,
     false,
     550,
     "5.1.8",
     "sender_domain",
     "sender_domain_unknown",
     "sender_domain.mode=enforce"},
    {"sender domain without MX, A, AAAA",
     P_DEFAULT,
     {MAIL, .sender_domain = SENDER_DOMAIN_NO_MAIL},
     REJ,
     false,
     550,
     "5.1.8",
     "sender_domain",
     "sender_domain_unknown",
     "sender_domain.mode=enforce"},
    {"sender domain null MX",
     P_DEFAULT,
     {MAIL, .sender_domain = SENDER_DOMAIN_NULL_MX},
     REJ,
     false,
     550,
     "5.7.27",
     "sender_domain",
     "sender_null_mx",
     "sender_domain.mode=enforce"},
    {"sender domain tempfail",
     P_DEFAULT,
     {MAIL, .sender_domain = SENDER_DOMAIN_TEMPFAIL},
     TMP,
     false,
     451,
     "4.4.3",
     "sender_domain",
     "sender_domain_tempfail",
     "sender_domain.mode=enforce"},
    {"sender domain ok",
     P_DEFAULT,
     {MAIL, .sender_domain = SENDER_DOMAIN_OK},
     CONT,
     false,
     0,
     NULL,
     NULL,
     NULL,
     NULL},
    {"sender domain nxdomain, log",
     P_LOG,
     {MAIL, .sender_domain = SENDER_DOMAIN_NXDOMAIN},
     CONT,
     true,
     550,
     "5.1.8",
     "sender_domain",
     "sender_domain_unknown",
     "sender_domain.mode=log"},
    {"sender domain null MX, tag",
     P_TAG,
     {MAIL, .sender_domain = SENDER_DOMAIN_NULL_MX},
     CONT,
     true,
     550,
     "5.7.27",
     "sender_domain",
     "sender_null_mx",
     "sender_domain.mode=tag"},
    {"sender domain tempfail, log",
     P_LOG,
     {MAIL, .sender_domain = SENDER_DOMAIN_TEMPFAIL},
     CONT,
     true,
     451,
     "4.4.3",
     "sender_domain",
     "sender_domain_tempfail",
     "sender_domain.mode=log"},
    {"sender domain nxdomain, off",
     P_OFF,
     {MAIL, .sender_domain = SENDER_DOMAIN_NXDOMAIN},
     CONT,
     false,
     0,
     NULL,
     NULL,
     NULL,
     NULL},
    {"sender domain nxdomain, trusted",
     P_DEFAULT,
     {MAIL, .trusted = true, .sender_domain = SENDER_DOMAIN_NXDOMAIN},
     CONT,
     false,
     0,
     NULL,
     NULL,
     NULL,
     NULL},
    {"sender domain null MX, authenticated",
     P_DEFAULT,
     {MAIL, .authenticated = true, .sender_domain = SENDER_DOMAIN_NULL_MX},
     CONT,
     false,
     0,
     NULL,
     NULL,
     NULL,
     NULL},
    {"sender domain tempfail, authenticated",
     P_DEFAULT,
     {MAIL, .authenticated = true, .sender_domain = SENDER_DOMAIN_TEMPFAIL},
     CONT,
     false,
     0,
     NULL,
     NULL,
     NULL,
     NULL},
    {"sender domain before HELO and MAIL FROM spf",
     P_DEFAULT,
     {MAIL, .sender_domain = SENDER_DOMAIN_NXDOMAIN, .helo_spf = PM_SPF_FAIL,
      .mfrom_spf = PM_SPF_FAIL},
     REJ,
     false,
     550,
     "5.1.8",
     "sender_domain",
     "sender_domain_unknown",
     NULL},
    {"sender domain tempfail before spf fail",
     P_DEFAULT,
     {MAIL, .sender_domain = SENDER_DOMAIN_TEMPFAIL, .mfrom_spf = PM_SPF_FAIL},
     TMP,
     false,
     451,
     "4.4.3",
     "sender_domain",
     "sender_domain_tempfail",
     NULL},
    {"sender syntax before sender domain",
     P_DEFAULT,
     {MAIL, .sender_status = ADDR_BAD, .sender_domain = SENDER_DOMAIN_NXDOMAIN},
     REJ,
     false,
     501,
     "5.1.7",
     "sender_syntax",
     "sender_syntax",
     NULL},
    {"sender domain logged, spf fail enforced",
     P_SD_LOG,
     {MAIL, .sender_domain = SENDER_DOMAIN_NXDOMAIN, .mfrom_spf = PM_SPF_FAIL},
     REJ,
     false,
     550,
     "5.7.23",
     "spf",
     "spf_fail",
     "spf.fail=reject"},
    {"sender domain logged, spf pass",
     P_SD_LOG,
     {MAIL, .sender_domain = SENDER_DOMAIN_NULL_MX, .mfrom_spf = PM_SPF_PASS},
     CONT,
     true,
     550,
     "5.7.27",
     "sender_domain",
     "sender_null_mx",
     "sender_domain.mode=log"},
    {"sender domain ok, spf fail",
     P_DEFAULT,
     {MAIL, .sender_domain = SENDER_DOMAIN_OK, .mfrom_spf = PM_SPF_FAIL},
     REJ,
     false,
     550,
     "5.7.23",
     "spf",
     "spf_fail",
     NULL},
    {"sender domain unknown configured 4xx",
     P_CUSTOM,
     {MAIL, .sender_domain = SENDER_DOMAIN_NXDOMAIN},
     TMP,
     false,
     450,
     "4.1.8",
     "sender_domain",
     "sender_domain_unknown",
     "sender_domain.mode=enforce"},
    {"internal error over sender domain",
     P_DEFAULT,
     {MAIL, .internal_error = true, .sender_domain = SENDER_DOMAIN_NXDOMAIN},
     TMP,
     false,
     451,
     "4.3.0",
     "internal_error",
     "internal_error",
     NULL},

    /* syntax: 501 5.1.7 / 501 5.1.3, whatever the modes and the client */
    {"sender syntax",
     P_DEFAULT,
     {MAIL, .sender_status = ADDR_BAD},
     REJ,
     false,
     501,
     "5.1.7",
     "sender_syntax",
     "sender_syntax",
     NULL},
    {"sender syntax, off",
     P_OFF,
     {MAIL, .sender_status = ADDR_BAD},
     REJ,
     false,
     501,
     "5.1.7",
     "sender_syntax",
     "sender_syntax",
     NULL},
    {"sender syntax, trusted",
     P_DEFAULT,
     {MAIL, .sender_status = ADDR_BAD, .trusted = true},
     REJ,
     false,
     501,
     "5.1.7",
     "sender_syntax",
     "sender_syntax",
     NULL},
    {"sender syntax before spf",
     P_DEFAULT,
     {MAIL, .sender_status = ADDR_BAD, .mfrom_spf = PM_SPF_FAIL},
     REJ,
     false,
     501,
     "5.1.7",
     "sender_syntax",
     "sender_syntax",
     NULL},
    {"rcpt syntax",
     P_DEFAULT,
     {RCPT, .rcpt_status = ADDR_BAD},
     REJ,
     false,
     501,
     "5.1.3",
     "rcpt_syntax",
     "rcpt_syntax",
     NULL},
    {"rcpt syntax, log",
     P_LOG,
     {RCPT, .rcpt_status = ADDR_BAD},
     REJ,
     false,
     501,
     "5.1.3",
     "rcpt_syntax",
     "rcpt_syntax",
     NULL},
    {"rcpt syntax, authenticated",
     P_DEFAULT,
     {RCPT, .rcpt_status = ADDR_BAD, .authenticated = true},
     REJ,
     false,
     501,
     "5.1.3",
     "rcpt_syntax",
     "rcpt_syntax",
     NULL},
    {"rcpt <> is bad syntax",
     P_DEFAULT,
     {RCPT, .rcpt_status = ADDR_NULL},
     REJ,
     false,
     501,
     "5.1.3",
     "rcpt_syntax",
     "rcpt_syntax",
     NULL},

    /* recipients: unknown 550 5.1.1, relay 554 5.7.1, tempfail 451 4.4.3 */
    {"unknown recipient",
     P_DEFAULT,
     {RCPT, .rcpt = RCPT_UNKNOWN},
     REJ,
     false,
     550,
     "5.1.1",
     "recipients",
     "unknown_recipient",
     "recipients.mode=enforce"},
    {"unknown recipient, trusted",
     P_DEFAULT,
     {RCPT, .rcpt = RCPT_UNKNOWN, .trusted = true},
     REJ,
     false,
     550,
     "5.1.1",
     "recipients",
     "unknown_recipient",
     NULL},
    {"unknown recipient, authenticated",
     P_DEFAULT,
     {RCPT, .rcpt = RCPT_UNKNOWN, .authenticated = true},
     REJ,
     false,
     550,
     "5.1.1",
     "recipients",
     "unknown_recipient",
     NULL},
    {"unknown recipient, log",
     P_LOG,
     {RCPT, .rcpt = RCPT_UNKNOWN},
     CONT,
     true,
     550,
     "5.1.1",
     "recipients",
     "unknown_recipient",
     "recipients.mode=log"},
    {"unknown recipient, tag",
     P_TAG,
     {RCPT, .rcpt = RCPT_UNKNOWN},
     CONT,
     true,
     550,
     "5.1.1",
     "recipients",
     "unknown_recipient",
     NULL},
    {"unknown recipient, off",
     P_OFF,
     {RCPT, .rcpt = RCPT_UNKNOWN},
     CONT,
     false,
     0,
     NULL,
     NULL,
     NULL,
     NULL},
    {"relay",
     P_DEFAULT,
     {RCPT, .rcpt = RCPT_FOREIGN},
     REJ,
     false,
     554,
     "5.7.1",
     "recipients",
     "relay_denied",
     "recipients.domains"},
    {"relay, trusted",
     P_DEFAULT,
     {RCPT, .rcpt = RCPT_FOREIGN, .trusted = true},
     CONT,
     false,
     0,
     NULL,
     NULL,
     NULL,
     NULL},
    {"relay, authenticated",
     P_DEFAULT,
     {RCPT, .rcpt = RCPT_FOREIGN, .authenticated = true},
     CONT,
     false,
     0,
     NULL,
     NULL,
     NULL,
     NULL},
    {"relay, log",
     P_LOG,
     {RCPT, .rcpt = RCPT_FOREIGN},
     CONT,
     true,
     554,
     "5.7.1",
     "recipients",
     "relay_denied",
     NULL},
    {"rcpt tempfail",
     P_DEFAULT,
     {RCPT, .rcpt = RCPT_TEMPFAIL},
     TMP,
     false,
     451,
     "4.4.3",
     "recipients",
     "rcpt_tempfail",
     NULL},
    {"rcpt tempfail, tag",
     P_TAG,
     {RCPT, .rcpt = RCPT_TEMPFAIL},
     CONT,
     true,
     451,
     "4.4.3",
     "recipients",
     "rcpt_tempfail",
     NULL},
    {"rcpt valid", P_DEFAULT, {RCPT, .rcpt = RCPT_VALID}, CONT, false, 0, NULL, NULL, NULL, NULL},
    {"postmaster",
     P_DEFAULT,
     {RCPT, .rcpt = RCPT_ALWAYS_VALID},
     CONT,
     false,
     0,
     NULL,
     NULL,
     NULL,
     NULL},

    /* limits: too many recipients 452 4.5.3, harvest 450 4.7.1 */
    {"recipient 3 of max 3",
     P_DEFAULT,
     {RCPT, .rcpt_accepted = 2},
     CONT,
     false,
     0,
     NULL,
     NULL,
     NULL,
     NULL},
    {"recipient 4 of max 3",
     P_DEFAULT,
     {RCPT, .rcpt_accepted = 3},
     TMP,
     false,
     452,
     "4.5.3",
     "max_recipients",
     "too_many_recipients",
     "recipients.max_recipients"},
    {"too many recipients, trusted",
     P_DEFAULT,
     {RCPT, .rcpt_accepted = 3, .trusted = true},
     TMP,
     false,
     452,
     "4.5.3",
     "max_recipients",
     "too_many_recipients",
     NULL},
    {"too many recipients, off",
     P_OFF,
     {RCPT, .rcpt_accepted = 30},
     TMP,
     false,
     452,
     "4.5.3",
     "max_recipients",
     "too_many_recipients",
     NULL},
    {"one unknown of max 2",
     P_DEFAULT,
     {RCPT, .unknown_in_session = 1},
     CONT,
     false,
     0,
     NULL,
     NULL,
     NULL,
     NULL},
    {"harvest: 2 unknown, a valid one next",
     P_DEFAULT,
     {RCPT, .unknown_in_session = 2, .rcpt = RCPT_VALID},
     TMP,
     false,
     450,
     "4.7.1",
     "max_unknown",
     "too_many_unknown",
     "recipients.max_unknown"},
    {"harvest: 5 unknown, another unknown",
     P_DEFAULT,
     {RCPT, .unknown_in_session = 5, .rcpt = RCPT_UNKNOWN},
     TMP,
     false,
     450,
     "4.7.1",
     "max_unknown",
     "too_many_unknown",
     NULL},
    {"harvest, authenticated",
     P_DEFAULT,
     {RCPT, .unknown_in_session = 2, .authenticated = true},
     TMP,
     false,
     450,
     "4.7.1",
     "max_unknown",
     "too_many_unknown",
     NULL},
    {"syntax before limits",
     P_DEFAULT,
     {RCPT, .rcpt_status = ADDR_BAD, .rcpt_accepted = 50, .unknown_in_session = 50},
     REJ,
     false,
     501,
     "5.1.3",
     "rcpt_syntax",
     "rcpt_syntax",
     NULL},
    {"no limits",
     P_NO_LIMITS,
     {RCPT, .rcpt_accepted = 100000, .unknown_in_session = 100000},
     CONT,
     false,
     0,
     NULL,
     NULL,
     NULL,
     NULL},

    /* internal error 451 4.3.0 (or fail open), before anything else */
    {"internal error at connect",
     P_DEFAULT,
     {CONNECT, .internal_error = true},
     TMP,
     false,
     451,
     "4.3.0",
     "internal_error",
     "internal_error",
     "milter.on_internal_error=tempfail"},
    {"internal error at MAIL, over bad syntax",
     P_DEFAULT,
     {MAIL, .internal_error = true, .sender_status = ADDR_BAD},
     TMP,
     false,
     451,
     "4.3.0",
     "internal_error",
     "internal_error",
     NULL},
    {"internal error at RCPT, trusted",
     P_DEFAULT,
     {RCPT, .internal_error = true, .trusted = true},
     TMP,
     false,
     451,
     "4.3.0",
     "internal_error",
     "internal_error",
     NULL},
    {"internal error at EOM",
     P_DEFAULT,
     {EOM, .internal_error = true},
     TMP,
     false,
     451,
     "4.3.0",
     "internal_error",
     "internal_error",
     NULL},
    {"internal error, log mode",
     P_LOG,
     {MAIL, .internal_error = true},
     TMP,
     false,
     451,
     "4.3.0",
     "internal_error",
     "internal_error",
     NULL},
    {"internal error, fail open",
     P_FAIL_OPEN,
     {RCPT, .internal_error = true},
     CONT,
     false,
     0,
     NULL,
     "internal_error",
     "internal_error_fail_open",
     "milter.on_internal_error=accept"},
    {"fail open policy, no error",
     P_FAIL_OPEN,
     {RCPT, .rcpt = RCPT_UNKNOWN},
     REJ,
     false,
     550,
     "5.1.1",
     "recipients",
     "unknown_recipient",
     NULL},

    /* a reply configured with another class: the action follows the reply */
    {"unknown recipient as 450",
     P_CUSTOM,
     {RCPT, .rcpt = RCPT_UNKNOWN},
     TMP,
     false,
     450,
     "4.1.1",
     "recipients",
     "unknown_recipient",
     NULL},
    {"spf fail as 451",
     P_CUSTOM,
     {MAIL, .mfrom_spf = PM_SPF_FAIL},
     TMP,
     false,
     451,
     "4.7.23",
     "spf",
     "spf_fail",
     "spf.fail=reject"},
    {"relay as 550",
     P_CUSTOM,
     {RCPT, .rcpt = RCPT_FOREIGN},
     REJ,
     false,
     550,
     "5.7.1",
     "recipients",
     "relay_denied",
     NULL},

    /* end of message: the From header (dmarc mode) */
    {"from missing",
     P_DEFAULT,
     {EOM, .from = FROM_MISSING},
     REJ,
     false,
     550,
     "5.7.1",
     "from_header",
     "from_missing",
     "dmarc.mode=enforce"},
    {"from several fields",
     P_DEFAULT,
     {EOM, .from = FROM_SEVERAL},
     REJ,
     false,
     550,
     "5.7.1",
     "from_header",
     "from_several",
     "dmarc.mode=enforce"},
    {"from several addresses",
     P_DEFAULT,
     {EOM, .from = FROM_SEVERAL_ADDRS},
     REJ,
     false,
     550,
     "5.7.1",
     "from_header",
     "from_several_addresses",
     "dmarc.mode=enforce"},
    {"from unusable",
     P_DEFAULT,
     {EOM, .from = FROM_BAD},
     REJ,
     false,
     550,
     "5.7.1",
     "from_header",
     "from_unusable",
     "dmarc.mode=enforce"},
    {"from ok", P_DEFAULT, {EOM, .from = FROM_OK}, CONT, false, 0, NULL, NULL, NULL, NULL},
    {"from missing, trusted",
     P_DEFAULT,
     {EOM, .from = FROM_MISSING, .trusted = true},
     CONT,
     false,
     0,
     NULL,
     NULL,
     NULL,
     NULL},
    {"from missing, authenticated",
     P_DEFAULT,
     {EOM, .from = FROM_MISSING, .authenticated = true},
     CONT,
     false,
     0,
     NULL,
     NULL,
     NULL,
     NULL},
    {"from missing, dmarc log",
     P_DMARC_LOG,
     {EOM, .from = FROM_MISSING},
     CONT,
     true,
     550,
     "5.7.1",
     "from_header",
     "from_missing",
     "dmarc.mode=log"},
    {"from missing, dmarc off",
     P_DMARC_OFF,
     {EOM, .from = FROM_MISSING},
     CONT,
     false,
     0,
     NULL,
     NULL,
     NULL,
     NULL},
    {"from several before must_sign",
     P_MUST_SIGN,
     {EOM, .from = FROM_SEVERAL, .must_sign = MUST_SIGN_NONE_PASSING},
     REJ,
     false,
     550,
     "5.7.1",
     "from_header",
     "from_several",
     NULL},

    /* headers.singletons: a field RFC 5322 3.6 allows once, repeated */
    {"repeated Subject, singletons enforce",
     P_SINGLE_ENFORCE,
     {EOM, .from = FROM_OK, .repeated_field = "Subject"},
     REJ,
     false,
     550,
     "5.7.1",
     "headers",
     "header_repeated",
     "headers.singletons=enforce"},
    {"repeated Subject, singletons tag (the default)",
     P_DEFAULT,
     {EOM, .from = FROM_OK, .repeated_field = "Subject"},
     CONT,
     true,
     550,
     "5.7.1",
     "headers",
     "header_repeated",
     "headers.singletons=tag"},
    {"repeated Subject, singletons log",
     P_SINGLE_LOG,
     {EOM, .from = FROM_OK, .repeated_field = "Subject"},
     CONT,
     true,
     550,
     "5.7.1",
     "headers",
     "header_repeated",
     "headers.singletons=log"},
    {"repeated Subject, singletons off",
     P_SINGLE_OFF,
     {EOM, .from = FROM_OK, .repeated_field = "Subject"},
     CONT,
     false,
     0,
     NULL,
     NULL,
     NULL,
     NULL},
    {"nothing repeated, singletons enforce",
     P_SINGLE_ENFORCE,
     {EOM, .from = FROM_OK},
     CONT,
     false,
     0,
     NULL,
     NULL,
     NULL,
     NULL},
    {"repeated Subject, trusted",
     P_SINGLE_ENFORCE,
     {EOM, .from = FROM_OK, .repeated_field = "Subject", .trusted = true},
     CONT,
     false,
     0,
     NULL,
     NULL,
     NULL,
     NULL},
    {"repeated Subject, authenticated",
     P_SINGLE_ENFORCE,
     {EOM, .from = FROM_OK, .repeated_field = "Subject", .authenticated = true},
     CONT,
     false,
     0,
     NULL,
     NULL,
     NULL,
     NULL},
    {"two From fields and a repeated Subject: the one From reply",
     P_SINGLE_ENFORCE,
     {EOM, .from = FROM_SEVERAL, .repeated_field = "Subject"},
     REJ,
     false,
     550,
     "5.7.1",
     "from_header",
     "from_several",
     "dmarc.mode=enforce"},
    {"repeated To before must_sign",
     P_SINGLE_MUST_SIGN,
     {EOM, .from = FROM_OK, .repeated_field = "To", .must_sign = MUST_SIGN_NONE_PASSING},
     REJ,
     false,
     550,
     "5.7.1",
     "headers",
     "header_repeated",
     "headers.singletons=enforce"},
    {"repeated Subject, then DMARC reject enforced: the refusal wins over the tag",
     P_DEFAULT,
     {EOM, DMARC_REJECT, .repeated_field = "Subject"},
     REJ,
     false,
     550,
     "5.7.26",
     "dmarc",
     "dmarc_reject",
     "dmarc.mode"},
    {"repeated Subject, sender allowed",
     P_SINGLE_ENFORCE,
     {EOM, .from = FROM_OK, .repeated_field = "Subject", .list_allow = BIT(SENDER)},
     CONT,
     false,
     550,
     "5.7.1",
     "headers",
     "allowed",
     "lists.sender.allow"},
    {"repeated Subject, every recipient exempt",
     P_SINGLE_EXEMPT,
     {EOM, .from = FROM_OK, .repeated_field = "Subject", .all_rcpts_exempt = true},
     CONT,
     true,
     550,
     "5.7.1",
     "headers",
     "exempt_recipient",
     EXEMPT_RULE},
    {"repeated Subject, dry run",
     P_SINGLE_DRY,
     {EOM, .from = FROM_OK, .repeated_field = "Subject"},
     CONT,
     true,
     550,
     "5.7.1",
     "headers",
     "header_repeated",
     "headers.singletons=enforce"},

    /* must_sign (dkim mode) */
    {"must_sign none passing",
     P_MUST_SIGN,
     {EOM, .from = FROM_OK, .must_sign = MUST_SIGN_NONE_PASSING},
     REJ,
     false,
     550,
     "5.7.20",
     "must_sign",
     "dkim_none_passing",
     "dkim.must_sign"},
    {"must_sign none acceptable",
     P_MUST_SIGN,
     {EOM, .from = FROM_OK, .must_sign = MUST_SIGN_NONE_ACCEPTABLE},
     REJ,
     false,
     550,
     "5.7.21",
     "must_sign",
     "dkim_none_acceptable",
     "dkim.must_sign"},
    {"must_sign none aligned",
     P_MUST_SIGN,
     {EOM, .from = FROM_OK, .must_sign = MUST_SIGN_NONE_ALIGNED},
     REJ,
     false,
     550,
     "5.7.22",
     "must_sign",
     "dkim_none_aligned",
     "dkim.must_sign"},
    {"must_sign key lookup failed",
     P_MUST_SIGN,
     {EOM, .from = FROM_OK, .must_sign = MUST_SIGN_TEMPFAIL},
     TMP,
     false,
     451,
     "4.7.5",
     "must_sign",
     "dkim_tempfail",
     "dkim.must_sign"},
    {"must_sign ok",
     P_MUST_SIGN,
     {EOM, .from = FROM_OK, .must_sign = MUST_SIGN_OK},
     CONT,
     false,
     0,
     NULL,
     NULL,
     NULL,
     NULL},
    {"must_sign none passing, dkim tag",
     P_DEFAULT,
     {EOM, .from = FROM_OK, .must_sign = MUST_SIGN_NONE_PASSING},
     CONT,
     true,
     550,
     "5.7.20",
     "must_sign",
     "dkim_none_passing",
     "dkim.must_sign"},
    {"must_sign before dmarc",
     P_MUST_SIGN,
     {EOM, .from = FROM_OK, .must_sign = MUST_SIGN_NONE_ALIGNED, .dmarc = PM_DMARC_FAIL,
      .dmarc_disposition = PM_DMARC_P_REJECT, .dmarc_mode = PM_MODE_ENFORCE},
     REJ,
     false,
     550,
     "5.7.22",
     "must_sign",
     "dkim_none_aligned",
     NULL},

    /* DMARC (the mode after the overrides comes in the facts) */
    {"dmarc reject",
     P_DEFAULT,
     {EOM, .from = FROM_OK, .dmarc = PM_DMARC_FAIL, .dmarc_disposition = PM_DMARC_P_REJECT,
      .dmarc_mode = PM_MODE_ENFORCE, .dmarc_rule = "dmarc.mode"},
     REJ,
     false,
     550,
     "5.7.26",
     "dmarc",
     "dmarc_reject",
     "dmarc.mode"},
    {"dmarc reject, always_reject rule",
     P_DEFAULT,
     {EOM, .from = FROM_OK, .dmarc = PM_DMARC_FAIL, .dmarc_disposition = PM_DMARC_P_REJECT,
      .dmarc_mode = PM_MODE_ENFORCE, .dmarc_rule = "dmarc.always_reject"},
     REJ,
     false,
     550,
     "5.7.26",
     "dmarc",
     "dmarc_reject",
     "dmarc.always_reject"},
    {"dmarc reject, mode log for this domain",
     P_DEFAULT,
     {EOM, .from = FROM_OK, .dmarc = PM_DMARC_FAIL, .dmarc_disposition = PM_DMARC_P_REJECT,
      .dmarc_mode = PM_MODE_LOG, .dmarc_rule = "dmarc.domain_modes"},
     CONT,
     true,
     550,
     "5.7.26",
     "dmarc",
     "dmarc_reject",
     "dmarc.domain_modes"},
    {"dmarc reject, mode off for this domain",
     P_DEFAULT,
     {EOM, .from = FROM_OK, .dmarc = PM_DMARC_FAIL, .dmarc_disposition = PM_DMARC_P_REJECT,
      .dmarc_mode = PM_MODE_OFF},
     CONT,
     false,
     0,
     NULL,
     NULL,
     NULL,
     NULL},
    {"dmarc fail, p=none",
     P_DEFAULT,
     {EOM, .from = FROM_OK, .dmarc = PM_DMARC_FAIL, .dmarc_disposition = PM_DMARC_P_NONE,
      .dmarc_mode = PM_MODE_ENFORCE},
     CONT,
     false,
     0,
     NULL,
     NULL,
     NULL,
     NULL},
    {"dmarc pass",
     P_DEFAULT,
     {EOM, .from = FROM_OK, .dmarc = PM_DMARC_PASS, .dmarc_disposition = PM_DMARC_P_NONE,
      .dmarc_mode = PM_MODE_ENFORCE},
     CONT,
     false,
     0,
     NULL,
     NULL,
     NULL,
     NULL},
    {"dmarc none",
     P_DEFAULT,
     {EOM, .from = FROM_OK, .dmarc = PM_DMARC_NONE, .dmarc_mode = PM_MODE_ENFORCE},
     CONT,
     false,
     0,
     NULL,
     NULL,
     NULL,
     NULL},
    {"dmarc permerror",
     P_DEFAULT,
     {EOM, .from = FROM_OK, .dmarc = PM_DMARC_PERMERROR, .dmarc_mode = PM_MODE_ENFORCE},
     CONT,
     false,
     0,
     NULL,
     NULL,
     NULL,
     NULL},
    {"dmarc temperror",
     P_DEFAULT,
     {EOM, .from = FROM_OK, .dmarc = PM_DMARC_TEMPERROR, .dmarc_mode = PM_MODE_ENFORCE},
     TMP,
     false,
     451,
     "4.4.3",
     "dmarc",
     "dmarc_tempfail",
     NULL},
    {"dmarc temperror, fail open",
     P_DMARC_FAIL_OPEN,
     {EOM, .from = FROM_OK, .dmarc = PM_DMARC_TEMPERROR, .dmarc_mode = PM_MODE_ENFORCE},
     CONT,
     false,
     0,
     NULL,
     NULL,
     NULL,
     NULL},
    {"dmarc reject, trusted",
     P_DEFAULT,
     {EOM, .trusted = true, .from = FROM_OK, .dmarc = PM_DMARC_FAIL,
      .dmarc_disposition = PM_DMARC_P_REJECT, .dmarc_mode = PM_MODE_ENFORCE},
     CONT,
     false,
     0,
     NULL,
     NULL,
     NULL,
     NULL},

    /* SPF fail and DMARC (RFC 7489 10.1) */
    {"spf fail, sender has dmarc: deferred",
     P_DEFAULT,
     {MAIL, .mfrom_spf = PM_SPF_FAIL, .sender_has_dmarc = true},
     CONT,
     false,
     0,
     NULL,
     NULL,
     NULL,
     NULL},
    {"spf fail, no dmarc record: at MAIL FROM",
     P_DEFAULT,
     {MAIL, .mfrom_spf = PM_SPF_FAIL},
     REJ,
     false,
     550,
     "5.7.23",
     "spf",
     "spf_fail",
     "spf.fail=reject"},
    {"spf fail, dmarc record, spf_fail_at_mail",
     P_SPF_AT_MAIL,
     {MAIL, .mfrom_spf = PM_SPF_FAIL, .sender_has_dmarc = true},
     REJ,
     false,
     550,
     "5.7.23",
     "spf",
     "spf_fail",
     "spf.fail=reject"},
    {"spf fail, dmarc record, dmarc only logged",
     P_DMARC_LOG,
     {MAIL, .mfrom_spf = PM_SPF_FAIL, .sender_has_dmarc = true},
     REJ,
     false,
     550,
     "5.7.23",
     "spf",
     "spf_fail",
     "spf.fail=reject"},
    {"spf fail, dmarc record, trusted",
     P_DEFAULT,
     {MAIL, .trusted = true, .mfrom_spf = PM_SPF_FAIL, .sender_has_dmarc = true},
     CONT,
     false,
     0,
     NULL,
     NULL,
     NULL,
     NULL},
    {"spf softfail accepted, dmarc record",
     P_DEFAULT,
     {MAIL, .mfrom_spf = PM_SPF_SOFTFAIL, .sender_has_dmarc = true},
     CONT,
     false,
     0,
     NULL,
     NULL,
     NULL,
     NULL},
    {"spf softfail rejected, dmarc record: deferred",
     P_STRICT_SPF,
     {MAIL, .mfrom_spf = PM_SPF_SOFTFAIL, .sender_has_dmarc = true},
     CONT,
     false,
     0,
     NULL,
     NULL,
     NULL,
     NULL},
    {"spf permerror, dmarc record: not deferred",
     P_DEFAULT,
     {MAIL, .mfrom_spf = PM_SPF_PERMERROR, .sender_has_dmarc = true},
     REJ,
     false,
     550,
     "5.7.24",
     "spf",
     "spf_permerror",
     NULL},
    {"deferred spf fail, author without dmarc",
     P_DEFAULT,
     {EOM, .from = FROM_OK, .mfrom_spf = PM_SPF_FAIL, .sender_has_dmarc = true,
      .dmarc = PM_DMARC_NONE, .dmarc_mode = PM_MODE_ENFORCE},
     REJ,
     false,
     550,
     "5.7.23",
     "spf",
     "spf_fail",
     "spf.fail=reject"},
    {"deferred spf fail, dmarc not evaluated",
     P_DEFAULT,
     {EOM, .from = FROM_OK, .mfrom_spf = PM_SPF_FAIL, .sender_has_dmarc = true},
     REJ,
     false,
     550,
     "5.7.23",
     "spf",
     "spf_fail",
     NULL},
    /*
     * the held SPF fail at end of message: excused only when the author
     * domain aligns (organizational domain) with the MAIL FROM domain and
     * DMARC passed through an aligned DKIM signature (issue 12, item 6)
     */
    {"deferred spf fail, same domain, dmarc pass through aligned DKIM (forwarded)",
     P_DEFAULT,
     {EOM, .from = FROM_OK, .author = "bank.example", .domains = {"bank.example", NULL, 0},
      .mfrom_spf = PM_SPF_FAIL, .sender_has_dmarc = true, .dmarc = PM_DMARC_PASS,
      .dmarc_dkim_aligned = true, .dmarc_disposition = PM_DMARC_P_NONE,
      .dmarc_mode = PM_MODE_ENFORCE},
     CONT,
     false,
     0,
     NULL,
     NULL,
     NULL,
     NULL},
    {"deferred spf fail, author a subdomain of the sender, dmarc pass through DKIM",
     P_DEFAULT,
     {EOM, .from = FROM_OK, .author = "news.bank.example", .domains = {"bank.example", NULL, 0},
      .sender_aligned = true, .mfrom_spf = PM_SPF_FAIL, .sender_has_dmarc = true,
      .dmarc = PM_DMARC_PASS, .dmarc_dkim_aligned = true, .dmarc_disposition = PM_DMARC_P_NONE,
      .dmarc_mode = PM_MODE_ENFORCE},
     CONT,
     false,
     0,
     NULL,
     NULL,
     NULL,
     NULL},
    {"deferred spf fail, sender a subdomain of the author, dmarc pass through DKIM",
     P_DEFAULT,
     {EOM, .from = FROM_OK, .author = "Bank.Example", .domains = {"bounces.bank.example", NULL, 0},
      .sender_aligned = true, .mfrom_spf = PM_SPF_FAIL, .sender_has_dmarc = true,
      .dmarc = PM_DMARC_PASS, .dmarc_dkim_aligned = true, .dmarc_disposition = PM_DMARC_P_NONE,
      .dmarc_mode = PM_MODE_ENFORCE},
     CONT,
     false,
     0,
     NULL,
     NULL,
     NULL,
     NULL},
    {"deferred spf fail, unrelated author, dmarc pass through its own DKIM",
     P_DEFAULT,
     {EOM, .from = FROM_OK, .author = "other.example", .domains = {"bank.example", NULL, 0},
      .mfrom_spf = PM_SPF_FAIL, .sender_has_dmarc = true, .dmarc = PM_DMARC_PASS,
      .dmarc_dkim_aligned = true, .dmarc_disposition = PM_DMARC_P_NONE,
      .dmarc_mode = PM_MODE_ENFORCE},
     REJ,
     false,
     550,
     "5.7.23",
     "spf",
     "spf_fail",
     "spf.fail=reject"},
    {"deferred spf fail, sibling under a public suffix (co.uk), dmarc pass through DKIM",
     P_DEFAULT,
     {EOM, .from = FROM_OK, .author = "attacker.co.uk", .domains = {"bank.co.uk", NULL, 0},
      .mfrom_spf = PM_SPF_FAIL, .sender_has_dmarc = true, .dmarc = PM_DMARC_PASS,
      .dmarc_dkim_aligned = true, .dmarc_disposition = PM_DMARC_P_NONE,
      .dmarc_mode = PM_MODE_ENFORCE},
     REJ,
     false,
     550,
     "5.7.23",
     "spf",
     "spf_fail",
     "spf.fail=reject"},
    {"deferred spf fail, unrelated author, dmarc fail p=none",
     P_DEFAULT,
     {EOM, .from = FROM_OK, .author = "other.example", .domains = {"bank.example", NULL, 0},
      .mfrom_spf = PM_SPF_FAIL, .sender_has_dmarc = true, .dmarc = PM_DMARC_FAIL,
      .dmarc_disposition = PM_DMARC_P_NONE, .dmarc_mode = PM_MODE_ENFORCE},
     REJ,
     false,
     550,
     "5.7.23",
     "spf",
     "spf_fail",
     "spf.fail=reject"},
    {"deferred spf fail, unrelated author, spf tag: a would",
     P_TAG,
     {EOM, .from = FROM_OK, .author = "other.example", .domains = {"bank.example", NULL, 0},
      .mfrom_spf = PM_SPF_FAIL, .sender_has_dmarc = true, .dmarc = PM_DMARC_PASS,
      .dmarc_dkim_aligned = true, .dmarc_disposition = PM_DMARC_P_NONE,
      .dmarc_mode = PM_MODE_ENFORCE},
     CONT,
     true,
     550,
     "5.7.23",
     "spf",
     "spf_fail",
     "spf.fail=reject"},
    {"deferred spf fail, same domain, dmarc pass without an aligned DKIM pass",
     P_DEFAULT,
     {EOM, .from = FROM_OK, .author = "bank.example", .domains = {"bank.example", NULL, 0},
      .mfrom_spf = PM_SPF_FAIL, .sender_has_dmarc = true, .dmarc = PM_DMARC_PASS,
      .dmarc_disposition = PM_DMARC_P_NONE, .dmarc_mode = PM_MODE_ENFORCE},
     REJ,
     false,
     550,
     "5.7.23",
     "spf",
     "spf_fail",
     "spf.fail=reject"},
    {"deferred spf fail, no author domain (address literal), dmarc not evaluated",
     P_DEFAULT,
     {EOM, .from = FROM_OK, .domains = {"bank.example", NULL, 0}, .mfrom_spf = PM_SPF_FAIL,
      .sender_has_dmarc = true},
     REJ,
     false,
     550,
     "5.7.23",
     "spf",
     "spf_fail",
     "spf.fail=reject"},
    {"deferred spf fail, same domain, dmarc fail p=reject",
     P_DEFAULT,
     {EOM, .from = FROM_OK, .author = "bank.example", .domains = {"bank.example", NULL, 0},
      .mfrom_spf = PM_SPF_FAIL, .sender_has_dmarc = true, .dmarc = PM_DMARC_FAIL,
      .dmarc_disposition = PM_DMARC_P_REJECT, .dmarc_mode = PM_MODE_ENFORCE},
     REJ,
     false,
     550,
     "5.7.26",
     "dmarc",
     "dmarc_reject",
     NULL},
    {"deferred spf fail, same domain, dmarc fail p=none: the SPF fail stands",
     P_DEFAULT,
     {EOM, .from = FROM_OK, .author = "bank.example", .domains = {"bank.example", NULL, 0},
      .mfrom_spf = PM_SPF_FAIL, .sender_has_dmarc = true, .dmarc = PM_DMARC_FAIL,
      .dmarc_disposition = PM_DMARC_P_NONE, .dmarc_mode = PM_MODE_ENFORCE},
     REJ,
     false,
     550,
     "5.7.23",
     "spf",
     "spf_fail",
     "spf.fail=reject"},
    {"deferred spf fail, same domain, dmarc fail p=quarantine: refused, not quarantined",
     P_DEFAULT,
     {EOM, .from = FROM_OK, .author = "bank.example", .domains = {"bank.example", NULL, 0},
      .mfrom_spf = PM_SPF_FAIL, .sender_has_dmarc = true, .dmarc = PM_DMARC_FAIL,
      .dmarc_disposition = PM_DMARC_P_QUARANTINE, .dmarc_mode = PM_MODE_ENFORCE},
     REJ,
     false,
     550,
     "5.7.23",
     "spf",
     "spf_fail",
     "spf.fail=reject"},
    {"deferred spf fail, same domain, dmarc temperror",
     P_DEFAULT,
     {EOM, .from = FROM_OK, .author = "bank.example", .domains = {"bank.example", NULL, 0},
      .mfrom_spf = PM_SPF_FAIL, .sender_has_dmarc = true, .dmarc = PM_DMARC_TEMPERROR,
      .dmarc_mode = PM_MODE_ENFORCE},
     TMP,
     false,
     451,
     "4.4.3",
     "dmarc",
     "dmarc_tempfail",
     NULL},
    {"deferred spf fail, same domain, dmarc temperror, fail_open: accepted",
     P_DMARC_FAIL_OPEN,
     {EOM, .from = FROM_OK, .author = "bank.example", .domains = {"bank.example", NULL, 0},
      .mfrom_spf = PM_SPF_FAIL, .sender_has_dmarc = true, .dmarc = PM_DMARC_TEMPERROR,
      .dmarc_mode = PM_MODE_ENFORCE},
     CONT,
     false,
     0,
     NULL,
     NULL,
     NULL,
     NULL},
    {"deferred spf fail, unrelated author, dmarc temperror: DMARC's 451 comes first",
     P_DEFAULT,
     {EOM, .from = FROM_OK, .author = "other.example", .domains = {"bank.example", NULL, 0},
      .mfrom_spf = PM_SPF_FAIL, .sender_has_dmarc = true, .dmarc = PM_DMARC_TEMPERROR,
      .dmarc_mode = PM_MODE_ENFORCE},
     TMP,
     false,
     451,
     "4.4.3",
     "dmarc",
     "dmarc_tempfail",
     NULL},
    {"deferred spf fail, unrelated author, dmarc temperror, fail_open: the SPF fail stands",
     P_DMARC_FAIL_OPEN,
     {EOM, .from = FROM_OK, .author = "other.example", .domains = {"bank.example", NULL, 0},
      .mfrom_spf = PM_SPF_FAIL, .sender_has_dmarc = true, .dmarc = PM_DMARC_TEMPERROR,
      .dmarc_mode = PM_MODE_ENFORCE},
     REJ,
     false,
     550,
     "5.7.23",
     "spf",
     "spf_fail",
     "spf.fail=reject"},
    {"spf fail without a held refusal (no sender dmarc): nothing at end of message",
     P_DEFAULT,
     {EOM, .from = FROM_OK, .author = "other.example", .domains = {"bank.example", NULL, 0},
      .mfrom_spf = PM_SPF_FAIL, .dmarc = PM_DMARC_PASS, .dmarc_dkim_aligned = true,
      .dmarc_mode = PM_MODE_ENFORCE},
     CONT,
     false,
     0,
     NULL,
     NULL,
     NULL,
     NULL},

    /* a From display name showing another domain's address (issue 12, item 10) */
    {"from display name shows another domain's address",
     P_DEFAULT,
     {EOM, .from = FROM_OK, .author = "attacker.example", .from_name_address = true},
     REJ,
     false,
     550,
     "5.7.1",
     "from_header",
     "from_display_name",
     "dmarc.mode=enforce"},
    {"from display name address, author is an address literal",
     P_DEFAULT,
     {EOM, .from = FROM_OK, .from_name_address = true},
     REJ,
     false,
     550,
     "5.7.1",
     "from_header",
     "from_display_name",
     "dmarc.mode=enforce"},
    {"from display name address, dmarc log: a would",
     P_DMARC_LOG,
     {EOM, .from = FROM_OK, .author = "attacker.example", .from_name_address = true},
     CONT,
     true,
     550,
     "5.7.1",
     "from_header",
     "from_display_name",
     "dmarc.mode=log"},
    {"from display name address, dmarc off",
     P_DMARC_OFF,
     {EOM, .from = FROM_OK, .author = "attacker.example", .from_name_address = true},
     CONT,
     false,
     0,
     NULL,
     NULL,
     NULL,
     NULL},
    {"from display name address, trusted",
     P_DEFAULT,
     {EOM, .trusted = true, .from = FROM_OK, .author = "attacker.example",
      .from_name_address = true},
     CONT,
     false,
     0,
     NULL,
     NULL,
     NULL,
     NULL},
    {"from display name address, default exemption googlegroups.com",
     P_DEFAULT,
     {EOM, .from = FROM_OK, .author = "googlegroups.com", .from_name_address = true},
     CONT,
     false,
     0,
     NULL,
     NULL,
     NULL,
     NULL},
    {"from display name address, below an exempt domain",
     P_NAME_EXEMPT,
     {EOM, .from = FROM_OK, .author = "News.Lists.Example", .from_name_address = true},
     CONT,
     false,
     0,
     NULL,
     NULL,
     NULL,
     NULL},
    {"from display name address, a lookalike of an exempt domain",
     P_NAME_EXEMPT,
     {EOM, .from = FROM_OK, .author = "badlists.example", .from_name_address = true},
     REJ,
     false,
     550,
     "5.7.1",
     "from_header",
     "from_display_name",
     "dmarc.mode=enforce"},
    {"from display name address, a list without the default googlegroups.com",
     P_NAME_EXEMPT,
     {EOM, .from = FROM_OK, .author = "googlegroups.com", .from_name_address = true},
     REJ,
     false,
     550,
     "5.7.1",
     "from_header",
     "from_display_name",
     "dmarc.mode=enforce"},
    {"from display name address before must_sign",
     P_MUST_SIGN,
     {EOM, .from = FROM_OK, .author = "bank.test", .from_name_address = true,
      .must_sign = MUST_SIGN_NONE_PASSING},
     REJ,
     false,
     550,
     "5.7.1",
     "from_header",
     "from_display_name",
     NULL},
    {"from display name address, sender allowed",
     P_DEFAULT,
     {EOM, .from = FROM_OK, .author = "attacker.example", .from_name_address = true,
      .list_allow = BIT(SENDER)},
     CONT,
     false,
     0,
     NULL,
     "from_header",
     "allowed",
     "lists.sender.allow"},

    /* lists: block entries refuse at their stage, whatever the modes */
    {"lists: client address blocked at connect",
     P_DEFAULT,
     {CONNECT, .list_block = BIT(CLIENT)},
     REJ,
     false,
     554,
     "5.7.1",
     "lists",
     "client_blocked",
     "lists.client.block"},
    {"lists: client name blocked at connect",
     P_DEFAULT,
     {CONNECT, .list_block = BIT(CLIENT_NAME)},
     REJ,
     false,
     554,
     "5.7.1",
     "lists",
     "client_name_blocked",
     "lists.client_name.block"},
    {"lists: client_block comes first",
     P_DEFAULT,
     {CONNECT, .client_blocked = true, .list_block = BIT(CLIENT)},
     REJ,
     false,
     554,
     "5.7.1",
     "client_block",
     "client_blocked",
     "client_block.networks"},
    {"lists: client blocked, client_block in log mode",
     P_LOG,
     {CONNECT, .client_blocked = true, .list_block = BIT(CLIENT)},
     REJ,
     false,
     554,
     "5.7.1",
     "lists",
     "client_blocked",
     "lists.client.block"},
    {"lists: a trusted client is never blocked",
     P_DEFAULT,
     {CONNECT, .trusted = true, .list_block = BIT(CLIENT) | BIT(CLIENT_NAME)},
     CONT,
     false,
     0,
     NULL,
     NULL,
     NULL,
     NULL},
    {"lists: a block wins over an allow of another kind",
     P_DEFAULT,
     {CONNECT, .list_block = BIT(CLIENT_NAME), .list_allow = BIT(CLIENT)},
     REJ,
     false,
     554,
     "5.7.1",
     "lists",
     "client_name_blocked",
     NULL},
    {"lists: a block wins over an allow of its kind",
     P_DEFAULT,
     {CONNECT, .list_block = BIT(CLIENT), .list_allow = BIT(CLIENT)},
     REJ,
     false,
     554,
     "5.7.1",
     "lists",
     "client_blocked",
     NULL},
    {"lists: client allowed, DNSBL listing skipped",
     P_DEFAULT,
     {CONNECT, .dnsbl_listed = true, .list_allow = BIT(CLIENT)},
     CONT,
     false,
     0,
     NULL,
     "dnsbl",
     "allowed",
     "lists.client.allow"},
    {"lists: client name allowed, DNSBL listing skipped",
     P_DEFAULT,
     {CONNECT, .dnsbl_listed = true, .list_allow = BIT(CLIENT_NAME)},
     CONT,
     false,
     0,
     NULL,
     "dnsbl",
     "allowed",
     "lists.client_name.allow"},
    {"lists: client allowed, client_block still refuses",
     P_DEFAULT,
     {CONNECT, .client_blocked = true, .list_allow = BIT(CLIENT)},
     REJ,
     false,
     554,
     "5.7.1",
     "client_block",
     "client_blocked",
     NULL},
    {"lists: HELO blocked at MAIL FROM",
     P_DEFAULT,
     {MAIL, .list_block = BIT(HELO)},
     REJ,
     false,
     554,
     "5.7.1",
     "lists",
     "helo_blocked",
     "lists.helo.block"},
    {"lists: sender blocked at MAIL FROM",
     P_DEFAULT,
     {MAIL, .list_block = BIT(SENDER)},
     REJ,
     false,
     554,
     "5.7.1",
     "lists",
     "sender_blocked",
     "lists.sender.block"},
    {"lists: HELO block before sender block",
     P_DEFAULT,
     {MAIL, .list_block = BIT(HELO) | BIT(SENDER)},
     REJ,
     false,
     554,
     "5.7.1",
     "lists",
     "helo_blocked",
     NULL},
    {"lists: authenticated client, HELO blocked",
     P_DEFAULT,
     {MAIL, .authenticated = true, .list_block = BIT(HELO)},
     REJ,
     false,
     554,
     "5.7.1",
     "lists",
     "helo_blocked",
     NULL},
    {"lists: authenticated client, sender blocked",
     P_DEFAULT,
     {MAIL, .authenticated = true, .list_block = BIT(SENDER)},
     REJ,
     false,
     554,
     "5.7.1",
     "lists",
     "sender_blocked",
     NULL},
    {"lists: trusted client, sender not blocked",
     P_DEFAULT,
     {MAIL, .trusted = true, .list_block = BIT(SENDER) | BIT(HELO)},
     CONT,
     false,
     0,
     NULL,
     NULL,
     NULL,
     NULL},
    {"lists: sender syntax before the sender block",
     P_DEFAULT,
     {MAIL, .sender_status = ADDR_BAD, .list_block = BIT(SENDER)},
     REJ,
     false,
     501,
     "5.1.7",
     "sender_syntax",
     "sender_syntax",
     NULL},
    {"lists: sender blocked and allowed: blocked",
     P_DEFAULT,
     {MAIL, .list_block = BIT(SENDER), .list_allow = BIT(SENDER)},
     REJ,
     false,
     554,
     "5.7.1",
     "lists",
     "sender_blocked",
     NULL},
    {"lists: HELO blocked, client allowed: blocked",
     P_DEFAULT,
     {MAIL, .list_block = BIT(HELO), .list_allow = BIT(CLIENT)},
     REJ,
     false,
     554,
     "5.7.1",
     "lists",
     "helo_blocked",
     NULL},
    {"lists: sender blocked before SPF fail",
     P_DEFAULT,
     {MAIL, .mfrom_spf = PM_SPF_FAIL, .list_block = BIT(SENDER)},
     REJ,
     false,
     554,
     "5.7.1",
     "lists",
     "sender_blocked",
     NULL},
    {"lists: configured block replies set the class",
     P_LISTS_REPLIES,
     {MAIL, .list_block = BIT(SENDER)},
     TMP,
     false,
     450,
     "4.7.1",
     "lists",
     "sender_blocked",
     NULL},
    {"lists: configured HELO block reply",
     P_LISTS_REPLIES,
     {MAIL, .list_block = BIT(HELO)},
     REJ,
     false,
     550,
     "5.7.0",
     "lists",
     "helo_blocked",
     NULL},
    {"lists: sender allowed, SPF fail skipped",
     P_DEFAULT,
     {MAIL, .mfrom_spf = PM_SPF_FAIL, .list_allow = BIT(SENDER)},
     CONT,
     false,
     0,
     NULL,
     "spf",
     "allowed",
     "lists.sender.allow"},
    {"lists: HELO allowed, HELO SPF fail skipped",
     P_DEFAULT,
     {MAIL, .helo_spf = PM_SPF_FAIL, .list_allow = BIT(HELO)},
     CONT,
     false,
     0,
     NULL,
     "helo_spf",
     "allowed",
     "lists.helo.allow"},
    {"lists: client allowed, MAIL FROM SPF fail skipped",
     P_DEFAULT,
     {MAIL, .mfrom_spf = PM_SPF_FAIL, .list_allow = BIT(CLIENT)},
     CONT,
     false,
     0,
     NULL,
     "spf",
     "allowed",
     "lists.client.allow"},
    {"lists: the first kind names the allow",
     P_DEFAULT,
     {MAIL, .mfrom_spf = PM_SPF_FAIL, .list_allow = BIT(SENDER) | BIT(CLIENT_NAME)},
     CONT,
     false,
     0,
     NULL,
     "spf",
     "allowed",
     "lists.client_name.allow"},
    {"lists: sender allowed, SPF temperror skipped",
     P_DEFAULT,
     {MAIL, .mfrom_spf = PM_SPF_TEMPERROR, .list_allow = BIT(SENDER)},
     CONT,
     false,
     0,
     NULL,
     "spf",
     "allowed",
     "lists.sender.allow"},
    {"lists: sender allowed, sender domain skipped",
     P_DEFAULT,
     {MAIL, .sender_domain = SENDER_DOMAIN_NXDOMAIN, .mfrom_spf = PM_SPF_FAIL,
      .list_allow = BIT(SENDER)},
     CONT,
     false,
     0,
     NULL,
     "sender_domain",
     "allowed",
     "lists.sender.allow"},
    {"lists: client allowed, iprev fail skipped",
     P_IPREV_ENFORCE,
     {MAIL, .iprev = PM_IPREV_FAIL, .list_allow = BIT(CLIENT)},
     CONT,
     false,
     0,
     NULL,
     "iprev",
     "allowed",
     "lists.client.allow"},
    {"lists: the skipped refusal is named, not an earlier skipped would",
     P_DEFAULT,
     {MAIL, .iprev = PM_IPREV_PERMERROR, .mfrom_spf = PM_SPF_FAIL, .list_allow = BIT(SENDER)},
     CONT,
     false,
     0,
     NULL,
     "spf",
     "allowed",
     "lists.sender.allow"},
    {"lists: sender allowed, a log mode would skipped too",
     P_LOG,
     {MAIL, .mfrom_spf = PM_SPF_FAIL, .list_allow = BIT(SENDER)},
     CONT,
     false,
     0,
     NULL,
     "spf",
     "allowed",
     "lists.sender.allow"},
    {"lists: sender allowed, sender syntax still refused",
     P_DEFAULT,
     {MAIL, .sender_status = ADDR_BAD, .list_allow = BIT(SENDER)},
     REJ,
     false,
     501,
     "5.1.7",
     "sender_syntax",
     "sender_syntax",
     NULL},
    {"lists: a recipient allow does not act at MAIL FROM",
     P_DEFAULT,
     {MAIL, .mfrom_spf = PM_SPF_FAIL, .list_allow = BIT(RECIPIENT)},
     REJ,
     false,
     550,
     "5.7.23",
     "spf",
     "spf_fail",
     NULL},
    {"lists: recipient blocked at RCPT",
     P_DEFAULT,
     {RCPT, .list_block = BIT(RECIPIENT)},
     REJ,
     false,
     554,
     "5.7.1",
     "lists",
     "rcpt_blocked",
     "lists.recipient.block"},
    {"lists: recipient blocked, authenticated",
     P_DEFAULT,
     {RCPT, .authenticated = true, .list_block = BIT(RECIPIENT)},
     REJ,
     false,
     554,
     "5.7.1",
     "lists",
     "rcpt_blocked",
     NULL},
    {"lists: recipient not blocked for a trusted client",
     P_DEFAULT,
     {RCPT, .trusted = true, .list_block = BIT(RECIPIENT)},
     CONT,
     false,
     0,
     NULL,
     NULL,
     NULL,
     NULL},
    {"lists: recipient block before the table",
     P_DEFAULT,
     {RCPT, .rcpt = RCPT_UNKNOWN, .list_block = BIT(RECIPIENT)},
     REJ,
     false,
     554,
     "5.7.1",
     "lists",
     "rcpt_blocked",
     NULL},
    {"lists: recipient syntax before the block",
     P_DEFAULT,
     {RCPT, .rcpt_status = ADDR_BAD, .list_block = BIT(RECIPIENT)},
     REJ,
     false,
     501,
     "5.1.3",
     "rcpt_syntax",
     "rcpt_syntax",
     NULL},
    {"lists: the recipient limit before the block",
     P_DEFAULT,
     {RCPT, .rcpt_accepted = 3, .list_block = BIT(RECIPIENT)},
     TMP,
     false,
     452,
     "4.5.3",
     "max_recipients",
     "too_many_recipients",
     NULL},
    {"lists: sender allowed, unknown recipient still refused",
     P_DEFAULT,
     {RCPT, .rcpt = RCPT_UNKNOWN, .list_allow = BIT(SENDER) | BIT(CLIENT)},
     REJ,
     false,
     550,
     "5.1.1",
     "recipients",
     "unknown_recipient",
     NULL},
    {"lists: client allowed, relay still refused",
     P_DEFAULT,
     {RCPT, .rcpt = RCPT_FOREIGN, .list_allow = BIT(CLIENT)},
     REJ,
     false,
     554,
     "5.7.1",
     "recipients",
     "relay_denied",
     NULL},
    {"lists: recipients allowed, DMARC reject skipped",
     P_DEFAULT,
     {EOM, .from = FROM_OK, .dmarc = PM_DMARC_FAIL, .dmarc_disposition = PM_DMARC_P_REJECT,
      .dmarc_mode = PM_MODE_ENFORCE, .list_allow = BIT(RECIPIENT)},
     CONT,
     false,
     0,
     NULL,
     "dmarc",
     "allowed",
     "lists.recipient.allow"},
    {"lists: sender allowed, DMARC reject skipped",
     P_DEFAULT,
     {EOM, .from = FROM_OK, .dmarc = PM_DMARC_FAIL, .dmarc_disposition = PM_DMARC_P_REJECT,
      .dmarc_mode = PM_MODE_ENFORCE, .list_allow = BIT(SENDER)},
     CONT,
     false,
     0,
     NULL,
     "dmarc",
     "allowed",
     "lists.sender.allow"},
    {"lists: client allowed, DMARC temperror skipped",
     P_DEFAULT,
     {EOM, .from = FROM_OK, .dmarc = PM_DMARC_TEMPERROR, .dmarc_mode = PM_MODE_ENFORCE,
      .list_allow = BIT(CLIENT)},
     CONT,
     false,
     0,
     NULL,
     "dmarc",
     "allowed",
     "lists.client.allow"},
    {"lists: HELO allowed, no From skipped",
     P_DEFAULT,
     {EOM, .from = FROM_MISSING, .list_allow = BIT(HELO)},
     CONT,
     false,
     0,
     NULL,
     "from_header",
     "allowed",
     "lists.helo.allow"},
    {"lists: sender allowed, must_sign skipped",
     P_MUST_SIGN,
     {EOM, .from = FROM_OK, .must_sign = MUST_SIGN_NONE_PASSING, .list_allow = BIT(SENDER)},
     CONT,
     false,
     0,
     NULL,
     "must_sign",
     "allowed",
     "lists.sender.allow"},
    {"lists: sender allowed, deferred SPF fail skipped",
     P_DEFAULT,
     {EOM, .from = FROM_OK, .mfrom_spf = PM_SPF_FAIL, .sender_has_dmarc = true,
      .list_allow = BIT(SENDER)},
     CONT,
     false,
     0,
     NULL,
     "spf",
     "allowed",
     "lists.sender.allow"},
    {"lists: an allowed message nothing objected to",
     P_DEFAULT,
     {EOM, .from = FROM_OK, .dmarc = PM_DMARC_PASS, .list_allow = BIT(SENDER)},
     CONT,
     false,
     0,
     NULL,
     "lists",
     "allowed",
     "lists.sender.allow"},
    {"lists: an authenticated client's allowed message: nothing to say",
     P_DEFAULT,
     {EOM, .authenticated = true, .list_allow = BIT(SENDER)},
     CONT,
     false,
     0,
     NULL,
     NULL,
     NULL,
     NULL},
    {"lists: allowed, an internal error still refuses",
     P_DEFAULT,
     {EOM, .internal_error = true, .list_allow = BIT(SENDER)},
     TMP,
     false,
     451,
     "4.3.0",
     "internal_error",
     "internal_error",
     NULL},

    /* dry run: every refusal is a "would", but internal and syntax errors */
    {"dry run: client_block",
     P_DRY,
     {CONNECT, .client_blocked = true},
     CONT,
     true,
     554,
     "5.7.1",
     "client_block",
     "client_blocked",
     "client_block.networks"},
    {"dry run: client address list block",
     P_DRY,
     {CONNECT, .list_block = BIT(CLIENT)},
     CONT,
     true,
     554,
     "5.7.1",
     "lists",
     "client_blocked",
     "lists.client.block"},
    {"dry run: DNSBL",
     P_DRY,
     {CONNECT, .dnsbl_listed = true},
     CONT,
     true,
     554,
     "5.7.1",
     "dnsbl",
     "dnsbl_listed",
     NULL},
    {"dry run: sender block",
     P_DRY,
     {MAIL, .list_block = BIT(SENDER)},
     CONT,
     true,
     554,
     "5.7.1",
     "lists",
     "sender_blocked",
     NULL},
    {"dry run: SPF fail at MAIL FROM",
     P_DRY,
     {MAIL, .mfrom_spf = PM_SPF_FAIL},
     CONT,
     true,
     550,
     "5.7.23",
     "spf",
     "spf_fail",
     "spf.fail=reject"},
    {"dry run: SPF temperror (4xx too)",
     P_DRY,
     {MAIL, .mfrom_spf = PM_SPF_TEMPERROR},
     CONT,
     true,
     451,
     "4.7.24",
     "spf",
     "spf_temperror",
     NULL},
    {"dry run: sender syntax still refused",
     P_DRY,
     {MAIL, .sender_status = ADDR_BAD},
     REJ,
     false,
     501,
     "5.1.7",
     "sender_syntax",
     "sender_syntax",
     NULL},
    {"dry run: recipient syntax still refused",
     P_DRY,
     {RCPT, .rcpt_status = ADDR_BAD},
     REJ,
     false,
     501,
     "5.1.3",
     "rcpt_syntax",
     "rcpt_syntax",
     NULL},
    {"dry run: unknown recipient",
     P_DRY,
     {RCPT, .rcpt = RCPT_UNKNOWN},
     CONT,
     true,
     550,
     "5.1.1",
     "recipients",
     "unknown_recipient",
     NULL},
    {"dry run: recipient block",
     P_DRY,
     {RCPT, .list_block = BIT(RECIPIENT)},
     CONT,
     true,
     554,
     "5.7.1",
     "lists",
     "rcpt_blocked",
     NULL},
    {"dry run: too many recipients",
     P_DRY,
     {RCPT, .rcpt_accepted = 3},
     CONT,
     true,
     452,
     "4.5.3",
     "max_recipients",
     "too_many_recipients",
     NULL},
    {"dry run: DMARC reject",
     P_DRY,
     {EOM, .from = FROM_OK, .dmarc = PM_DMARC_FAIL, .dmarc_disposition = PM_DMARC_P_REJECT,
      .dmarc_mode = PM_MODE_ENFORCE},
     CONT,
     true,
     550,
     "5.7.26",
     "dmarc",
     "dmarc_reject",
     NULL},
    {"dry run: internal error still refused",
     P_DRY,
     {MAIL, .internal_error = true},
     TMP,
     false,
     451,
     "4.3.0",
     "internal_error",
     "internal_error",
     NULL},
    {"dry run: a log mode would stays a would",
     P_DRY_LOG,
     {MAIL, .mfrom_spf = PM_SPF_FAIL},
     CONT,
     true,
     550,
     "5.7.23",
     "spf",
     "spf_fail",
     NULL},
    {"dry run: an allowed message",
     P_DRY,
     {EOM, .from = FROM_OK, .dmarc = PM_DMARC_FAIL, .dmarc_disposition = PM_DMARC_P_REJECT,
      .dmarc_mode = PM_MODE_ENFORCE, .list_allow = BIT(SENDER)},
     CONT,
     false,
     0,
     NULL,
     "dmarc",
     "allowed",
     "lists.sender.allow"},

    /* stages that refuse nothing */
    {"eom",
     P_DEFAULT,
     {EOM, .helo_spf = PM_SPF_FAIL, .mfrom_spf = PM_SPF_FAIL},
     CONT,
     false,
     0,
     NULL,
     NULL,
     NULL,
     NULL},
    {"helo", P_DEFAULT, {HELO}, CONT, false, 0, NULL, NULL, NULL, NULL},
};

/* load - write text to a file and load it; fails the test (with every error) when it does not */
static struct policy *load(const char *text)
{
	char path[300];
	FILE *fp;

	fp = fopen(unit_policy_path(tmp_dir, path, sizeof(path)), "w");
	assert_non_null(fp);
	if (strstr(text, "delay_sender_refusals") != NULL ||
	    strstr(text, "exempt_from_sender_checks") != NULL) {
		fputs(text, fp);
	} else {
		/* the rows that refuse at MAIL FROM: no delay to RCPT (see the header) */
		const char *g = strstr(text, "recipients = { ");

		if (g == NULL) {
			fputs(text, fp);
			fputs("recipients = { delay_sender_refusals = false; };\n", fp);
		} else {
			g += strlen("recipients = { ");
			fwrite(text, 1, (size_t)(g - text), fp);
			fputs("delay_sender_refusals = false; ", fp);
			fputs(g, fp);
		}
	}
	assert_int_equal(fclose(fp), 0);
	return unit_policy_load(path);
}

/* streq - equal strings, NULLs equal only to each other */
static bool streq(const char *a, const char *b)
{
	return (a == NULL || b == NULL) ? a == b : strcmp(a, b) == 0;
}

#define NS(s) ((s) ? (s) : "(null)")

/*
 * list_ref_agrees - the verdict's list ref names the list its rule names
 * ("lists.KIND.block" or ".allow"), and no list when the rule names none
 */
static bool list_ref_agrees(const struct pm_verdict *v)
{
	char want[64];

	if (!v->list.set)
		return v->rule == NULL || strncmp(v->rule, "lists.", 6) != 0;
	snprintf(want, sizeof(want), "lists.%s.%s", list_kind_name(v->list.kind),
	         v->list.block ? "block" : "allow");
	return streq(v->rule, want);
}

/* check_case - one case; returns the number of mismatches (printed) */
static int check_case(const struct vcase *c, const struct policy *p)
{
	struct pm_verdict v;
	const char *check, *reason;
	int bad = 0;

	verdict_decide(&c->f, p, &v);
	check = pm_check_id_name(v.check);
	reason = pm_reason_name(v.reason);
	if (v.action != c->action || v.would != c->would) {
		print_error("case %s: got action %s would=%d, want %s would=%d\n", c->name,
		            pm_verdict_action_name(v.action), v.would,
		            pm_verdict_action_name(c->action), c->would);
		bad++;
	}
	if (!streq(check, c->check) || !streq(reason, c->reason) ||
	    (c->rule && !streq(v.rule, c->rule))) {
		print_error("case %s: got check %s reason %s rule %s, want %s %s %s\n", c->name,
		            NS(check), NS(reason), NS(v.rule), NS(c->check), NS(c->reason),
		            c->rule ? c->rule : "(any)");
		bad++;
	}
	if (!list_ref_agrees(&v)) {
		print_error("case %s: got rule %s with list ref set=%d kind %d block=%d\n", c->name,
		            NS(v.rule), v.list.set, (int)v.list.kind, v.list.block);
		bad++;
	}
	if (v.check != CHK_NONE && (v.reason == RSN_NONE || v.rule == NULL)) {
		print_error("case %s: got a check without reason or rule\n", c->name);
		bad++;
	}
	if (c->code != 0) {
		const struct pm_reply *r;

		if ((int)v.reply < 0 || v.reply >= PM_R_COUNT) {
			print_error("case %s: got reply id %d, want a reply %d %s\n", c->name,
			            (int)v.reply, c->code, c->xcode);
			return bad + 1;
		}
		r = &p->replies[v.reply];
		if (r->code != c->code || strcmp(r->xcode, c->xcode) != 0) {
			print_error("case %s: got reply %d %s (%s), want %d %s\n", c->name, r->code,
			            r->xcode, pm_reply_name(v.reply), c->code, c->xcode);
			bad++;
		}
		/* the action agrees with the reply's class */
		if (v.action != PM_V_CONTINUE &&
		    (v.action == PM_V_TEMPFAIL) != (r->code / 100 == 4)) {
			print_error("case %s: got action %s with reply %d\n", c->name,
			            pm_verdict_action_name(v.action), r->code);
			bad++;
		}
	} else if (v.action != PM_V_CONTINUE || v.would) {
		print_error("case %s: got a refusal, want none\n", c->name);
		bad++;
	}
	return bad;
}

/* test_quarantine - p=quarantine: enforced marks the verdict, log and tag only "would" */
static void test_quarantine(void **state)
{
	struct pm_facts f = {EOM,
	                     .from = FROM_OK,
	                     .dmarc = PM_DMARC_FAIL,
	                     .dmarc_disposition = PM_DMARC_P_QUARANTINE,
	                     .dmarc_mode = PM_MODE_ENFORCE,
	                     .dmarc_rule = "dmarc.mode"};
	struct policy *p = load(P_DEFAULT);
	struct pm_verdict v;

	(void)state;
	verdict_decide(&f, p, &v);
	assert_int_equal(v.action, PM_V_CONTINUE);
	assert_true(v.quarantine);
	assert_false(v.would);
	assert_string_equal(pm_reason_name(v.reason), "dmarc_quarantine");

	f.dmarc_mode = PM_MODE_TAG;
	verdict_decide(&f, p, &v);
	assert_int_equal(v.action, PM_V_CONTINUE);
	assert_false(v.quarantine);
	assert_true(v.would);
	assert_int_equal(v.reply, PM_R_COUNT);
	assert_string_equal(pm_reason_name(v.reason), "dmarc_quarantine");

	f.dmarc_mode = PM_MODE_OFF;
	verdict_decide(&f, p, &v);
	assert_false(v.quarantine);
	assert_false(v.would);

	/* pct lowered reject to quarantine: same */
	f.dmarc_mode = PM_MODE_ENFORCE;
	f.dmarc = PM_DMARC_PASS;
	verdict_decide(&f, p, &v);
	assert_false(v.quarantine);
	policy_release(p);
}

/*
 * test_flags - allowed, allowed_by and dry_run: set exactly when an allow
 * skipped something or the dry run turned a refusal into a "would"; a
 * quarantine in a dry run or under an allow is never applied
 */
static void test_flags(void **state)
{
	struct pm_facts f = {MAIL, .mfrom_spf = PM_SPF_FAIL};
	struct pm_facts q = {EOM,
	                     .from = FROM_OK,
	                     .dmarc = PM_DMARC_FAIL,
	                     .dmarc_disposition = PM_DMARC_P_QUARANTINE,
	                     .dmarc_mode = PM_MODE_ENFORCE,
	                     .dmarc_rule = "dmarc.mode"};
	struct policy *p = load(P_DEFAULT), *dry = load(P_DRY), *drylog = load(P_DRY_LOG),
	              *dryopen = load(P_DRY_FAIL_OPEN);
	struct pm_verdict v;

	(void)state;
	verdict_decide(&f, p, &v);
	assert_false(v.allowed);
	assert_null(v.allowed_by);
	assert_false(v.dry_run);

	f.list_allow = PM_LIST_BIT(LIST_SENDER);
	verdict_decide(&f, p, &v);
	assert_true(v.allowed);
	assert_string_equal(v.allowed_by, "lists.sender.allow");
	assert_int_equal(v.reply, PM_R_SPF_FAIL); /* what the allow saved */
	assert_int_equal(v.action, PM_V_CONTINUE);
	assert_false(v.would);

	/* a skipped "would" (iprev, tag mode) first: the skipped refusal is named */
	f.iprev = PM_IPREV_PERMERROR;
	verdict_decide(&f, p, &v);
	assert_string_equal(pm_check_id_name(v.check), "spf");
	assert_int_equal(v.reply, PM_R_SPF_FAIL);
	f.mfrom_spf = PM_SPF_NONE;
	verdict_decide(&f, p, &v);
	assert_true(v.allowed);
	assert_string_equal(pm_check_id_name(v.check), "iprev");
	assert_int_equal(v.reply, PM_R_COUNT);
	f.iprev = PM_IPREV_UNCHECKED;

	/* in force but nothing to skip at MAIL FROM: not allowed (nothing to log) */
	f.mfrom_spf = PM_SPF_PASS;
	verdict_decide(&f, p, &v);
	assert_false(v.allowed);
	assert_string_equal(v.allowed_by, "lists.sender.allow");
	assert_int_equal(v.reason, RSN_NONE);

	/* dry run: flagged; a log mode "would" is not */
	f.mfrom_spf = PM_SPF_FAIL;
	f.list_allow = 0;
	verdict_decide(&f, dry, &v);
	assert_true(v.would);
	assert_true(v.dry_run);
	assert_int_equal(v.reply, PM_R_SPF_FAIL);
	verdict_decide(&f, drylog, &v);
	assert_true(v.would);
	assert_false(v.dry_run);
	f.internal_error = true;
	verdict_decide(&f, dry, &v);
	assert_int_equal(v.action, PM_V_TEMPFAIL);
	assert_false(v.dry_run);
	verdict_decide(&f, dryopen, &v); /* fail open: no refusal to turn */
	assert_int_equal(v.action, PM_V_CONTINUE);
	assert_false(v.would);
	assert_false(v.dry_run);

	/* quarantine: enforced; a dry run "would"; skipped under an allow */
	verdict_decide(&q, p, &v);
	assert_true(v.quarantine);
	verdict_decide(&q, dry, &v);
	assert_false(v.quarantine);
	assert_true(v.would);
	assert_true(v.dry_run);
	assert_int_equal(v.reply, PM_R_COUNT);
	assert_string_equal(pm_reason_name(v.reason), "dmarc_quarantine");
	q.list_allow = PM_LIST_BIT(LIST_CLIENT);
	verdict_decide(&q, p, &v);
	assert_false(v.quarantine);
	assert_false(v.would);
	assert_true(v.allowed);
	assert_string_equal(pm_check_id_name(v.check), "dmarc");
	assert_string_equal(pm_reason_name(v.reason), "allowed");
	assert_string_equal(v.rule, "lists.client.allow");
	policy_release(p);
	policy_release(dry);
	policy_release(drylog);
	policy_release(dryopen);
}

/* exempt - verdict_rcpt_exempt for an address "local@domain" or a bare local part */
static bool exempt(const struct policy *p, const char *text)
{
	struct pm_addr a;
	const char *why = NULL;
	enum addr_status st = addr_parse(text, strlen(text), ADDR_ALLOW_LOCAL_ONLY, &a, &why);

	return verdict_rcpt_exempt(p, st, &a);
}

/*
 * test_exempt - the flags of the recipient exemptions (delayed, exempt,
 * exempt_by), the exempt quarantine, and which recipients are exempt
 */
static void test_exempt(void **state)
{
	struct pm_facts f = {MAIL, .mfrom_spf = PM_SPF_FAIL};
	struct pm_facts q = {EOM,
	                     .from = FROM_OK,
	                     .dmarc = PM_DMARC_FAIL,
	                     .dmarc_disposition = PM_DMARC_P_QUARANTINE,
	                     .dmarc_mode = PM_MODE_ENFORCE,
	                     .dmarc_rule = "dmarc.mode",
	                     .all_rcpts_exempt = true};
	struct policy *p = load(P_EXEMPT), *nodelay = load(P_EXEMPT_NODELAY),
	              *none = load(P_EXEMPT_NONE), *dry = load(P_EXEMPT_DRY);
	struct pm_verdict v, held;

	(void)state;
	assert_true(verdict_delays_sender_refusals(p));
	assert_false(verdict_delays_sender_refusals(nodelay));
	assert_false(verdict_delays_sender_refusals(none));

	/* MAIL FROM: held, flagged delayed; not with the delay off */
	verdict_decide(&f, p, &held);
	assert_true(held.delayed);
	assert_int_equal(held.action, PM_V_CONTINUE);
	assert_false(held.would);
	assert_false(held.dry_run);
	verdict_decide(&f, nodelay, &v);
	assert_false(v.delayed);
	assert_int_equal(v.action, PM_V_REJECT);
	verdict_decide(&f, dry, &v); /* a dry run holds it too: the RCPT says would */
	assert_true(v.delayed);
	assert_false(v.dry_run);
	f.list_block = PM_LIST_BIT(LIST_SENDER);
	verdict_decide(&f, p, &v);
	assert_false(v.delayed);
	f.list_block = 0;
	f.mfrom_spf = PM_SPF_PASS;
	verdict_decide(&f, p, &v);
	assert_false(v.delayed);
	assert_int_equal(v.check, CHK_NONE);

	/* RCPT: the held verdict itself */
	memset(&f, 0, sizeof(f));
	f.stage = PM_STAGE_RCPT;
	f.mail_refusal = &held;
	verdict_decide(&f, p, &v);
	assert_int_equal(v.action, PM_V_REJECT);
	assert_int_equal(v.reply, PM_R_SPF_FAIL);
	assert_false(v.exempt);
	assert_false(v.delayed);
	assert_null(v.exempt_by);
	f.rcpt_exempt = true;
	verdict_decide(&f, p, &v);
	assert_int_equal(v.action, PM_V_CONTINUE);
	assert_true(v.would);
	assert_true(v.exempt);
	assert_string_equal(v.exempt_by, "recipients.exempt_from_sender_checks");
	f.rcpt_exempt = false;
	verdict_decide(&f, dry, &v);
	assert_true(v.would);
	assert_true(v.dry_run);
	assert_false(v.exempt);

	/* end of message: a quarantine is neither applied nor a dry-run matter */
	verdict_decide(&q, p, &v);
	assert_false(v.quarantine);
	assert_true(v.would);
	assert_true(v.exempt);
	assert_int_equal(v.reply, PM_R_COUNT);
	assert_string_equal(pm_reason_name(v.reason), "exempt_recipient");
	q.all_rcpts_exempt = false;
	verdict_decide(&q, p, &v);
	assert_true(v.quarantine);
	assert_false(v.exempt);
	assert_null(v.exempt_by);

	/* which recipients: local parts at local domains, listed addresses */
	assert_true(exempt(p, "postmaster@example.org"));
	assert_true(exempt(p, "PostMaster@EXAMPLE.org"));
	assert_true(exempt(p, "postmaster"));
	assert_true(exempt(p, "abuse@example.org"));
	assert_true(exempt(p, "abuse+reports@example.org")); /* detail separator "+" */
	assert_true(exempt(p, "spamtrap@example.net"));      /* a listed address */
	assert_true(exempt(p, "SpamTrap@Example.NET"));
	assert_false(exempt(p, "abuse@example.net")); /* not a local domain */
	assert_false(exempt(p, "abusex@example.org"));
	assert_false(exempt(p, "bob@example.org"));
	assert_false(exempt(p, "spamtrap@example.org"));
	assert_false(exempt(p, "+abuse@example.org"));
	assert_false(exempt(none, "postmaster@example.org"));
	assert_false(verdict_rcpt_exempt(p, ADDR_BAD, NULL));
	assert_false(verdict_rcpt_exempt(NULL, ADDR_OK, NULL));
	policy_release(p);
	/* no local domains: every domain is local (the recipient table accepts them all) */
	p = load(P_EXEMPT_IPREV);
	assert_true(exempt(p, "abuse@anywhere.test"));
	assert_false(exempt(p, "bob@anywhere.test"));
	policy_release(p);
	policy_release(nodelay);
	policy_release(none);
	policy_release(dry);
}

/* test_domain_in_list - equal or below, never a mere suffix */
static void test_domain_in_list(void **state)
{
	char *list[] = {"example.test", "co.test"};

	(void)state;
	assert_true(domain_in_list("example.test", list, 2));
	assert_true(domain_in_list("EXAMPLE.test", list, 2));
	assert_true(domain_in_list("a.b.example.test", list, 2));
	assert_false(domain_in_list("badexample.test", list, 2));
	assert_false(domain_in_list("test", list, 2));
	assert_false(domain_in_list("example.test.evil", list, 2));
	assert_false(domain_in_list(NULL, list, 2));
	assert_false(domain_in_list("example.test", list, 0));
}

/* sig - one signature result */
static struct dkim_sig_result sig(enum pm_dkim_result r, const char *d)
{
	struct dkim_sig_result s;

	memset(&s, 0, sizeof(s));
	s.result = r;
	snprintf(s.domain, sizeof(s.domain), "%s", d);
	snprintf(s.selector, sizeof(s.selector), "sel");
	return s;
}

/* test_must_sign - the RFC 7372 code for each set of signatures */
static void test_must_sign(void **state)
{
	struct policy *p = load(P_OVERRIDES);
	struct dkim_sig_result v[3];
	struct dkim_results r = {.sig = v};

	(void)state;
	assert_int_equal(verdict_must_sign(p, "other.test", &r), MUST_SIGN_NOT_LISTED);
	assert_int_equal(verdict_must_sign(p, NULL, &r), MUST_SIGN_NOT_LISTED);
	assert_int_equal(verdict_must_sign(p, "bank.test", NULL), MUST_SIGN_NONE_PASSING);
	assert_int_equal(verdict_must_sign(p, "bank.test", &r), MUST_SIGN_NONE_PASSING);
	/* listed in mixed case in the file; a subdomain of a listed domain counts */
	assert_int_equal(verdict_must_sign(p, "mail.shop.test", &r), MUST_SIGN_NONE_PASSING);

	v[0] = sig(PM_DKIM_PASS, "bank.test");
	r.n = 1;
	assert_int_equal(verdict_must_sign(p, "bank.test", &r), MUST_SIGN_OK);
	/* relaxed: a parent or child domain signature aligns */
	assert_int_equal(verdict_must_sign(p, "mail.bank.test", &r), MUST_SIGN_OK);
	v[0] = sig(PM_DKIM_PASS, "esp.test");
	assert_int_equal(verdict_must_sign(p, "bank.test", &r), MUST_SIGN_NONE_ALIGNED);
	v[0] = sig(PM_DKIM_POLICY, "bank.test");
	assert_int_equal(verdict_must_sign(p, "bank.test", &r), MUST_SIGN_NONE_ACCEPTABLE);
	v[1] = sig(PM_DKIM_PASS, "esp.test");
	r.n = 2;
	assert_int_equal(verdict_must_sign(p, "bank.test", &r), MUST_SIGN_NONE_ALIGNED);
	v[2] = sig(PM_DKIM_TEMPERROR, "bank.test");
	r.n = 3;
	assert_int_equal(verdict_must_sign(p, "bank.test", &r), MUST_SIGN_TEMPFAIL);
	/* a temperror of a third party does not hold the mail back */
	v[2] = sig(PM_DKIM_TEMPERROR, "esp2.test");
	assert_int_equal(verdict_must_sign(p, "bank.test", &r), MUST_SIGN_NONE_ALIGNED);
	v[0] = sig(PM_DKIM_FAIL, "bank.test");
	v[1] = sig(PM_DKIM_PERMERROR, "bank.test");
	v[2] = sig(PM_DKIM_NEUTRAL, "bank.test");
	assert_int_equal(verdict_must_sign(p, "bank.test", &r), MUST_SIGN_NONE_PASSING);
	v[2] = sig(PM_DKIM_PASS, "bank.test");
	assert_int_equal(verdict_must_sign(p, "bank.test", &r), MUST_SIGN_OK);
	policy_release(p);
}

/*
 * test_must_sign_without_dmarc - must_sign aligns by the public suffix
 * list whether DMARC is on or off (the policy loads the list for either):
 * news.bank.test signed by its parent bank.test is not refused
 */
static void test_must_sign_without_dmarc(void **state)
{
	static const char *const texts[] = {
	    BASE "dkim = { mode = \"enforce\"; must_sign = [ \"bank.test\" ]; };\n"
	         "dmarc = { mode = \"off\"; };\n",
	    BASE "dkim = { mode = \"enforce\"; must_sign = [ \"bank.test\" ]; };\n"
	         "dmarc = { mode = \"enforce\"; };\n",
	};
	struct dkim_sig_result v[1];
	struct dkim_results r = {.sig = v, .n = 1};

	(void)state;
	for (size_t i = 0; i < PM_ARRAY_LEN(texts); i++) {
		struct policy *p = load(texts[i]);
		struct pm_facts f;
		struct pm_verdict vd;
		enum must_sign_status got;

		if (p->psl == NULL)
			fail_msg("policy %zu: got no public suffix list, want one (must_sign)", i);
		v[0] = sig(PM_DKIM_PASS, "bank.test");
		got = verdict_must_sign(p, "news.bank.test", &r);
		if (got != MUST_SIGN_OK)
			fail_msg(
			    "policy %zu (dmarc %s): news.bank.test signed d=bank.test: got %d, "
			    "want MUST_SIGN_OK (%d)",
			    i, i == 0 ? "off" : "on", got, MUST_SIGN_OK);
		/* and the verdict: accepted, not 550 5.7.22 */
		memset(&f, 0, sizeof(f));
		f.stage = PM_STAGE_EOM;
		f.from = FROM_OK;
		f.must_sign = got;
		verdict_decide(&f, p, &vd);
		if (vd.action != PM_V_CONTINUE)
			fail_msg("policy %zu: got action %s (check %s, reason %s), want continue",
			         i, pm_verdict_action_name(vd.action),
			         NS(pm_check_id_name(vd.check)), NS(pm_reason_name(vd.reason)));
		/* an unrelated signer still is not aligned */
		v[0] = sig(PM_DKIM_PASS, "other.test");
		if (verdict_must_sign(p, "news.bank.test", &r) != MUST_SIGN_NONE_ALIGNED)
			fail_msg("policy %zu: d=other.test for news.bank.test: want NONE_ALIGNED",
			         i);
		policy_release(p);
	}
}

/* test_overrides - domain_modes, never_enforce, always_reject */
static void test_overrides(void **state)
{
	struct policy *p = load(P_OVERRIDES);
	struct dkim_sig_result v[1];
	struct dkim_results r = {.sig = v, .n = 0};
	enum pm_mode mode;
	enum pm_dmarc_policy dis;
	const char *rule;

	(void)state;
	verdict_dmarc_overrides(p, NULL, "plain.test", NULL, &r, PM_DMARC_FAIL, PM_DMARC_P_REJECT,
	                        &mode, &dis, &rule);
	assert_int_equal(mode, PM_MODE_ENFORCE);
	assert_int_equal(dis, PM_DMARC_P_REJECT);
	assert_string_equal(rule, "dmarc.mode");

	/* longest match wins */
	verdict_dmarc_overrides(p, NULL, "a.hosted.test", NULL, &r, PM_DMARC_FAIL,
	                        PM_DMARC_P_REJECT, &mode, &dis, &rule);
	assert_int_equal(mode, PM_MODE_LOG);
	assert_string_equal(rule, "dmarc.domain_modes");
	verdict_dmarc_overrides(p, NULL, "x.strict.hosted.test", NULL, &r, PM_DMARC_FAIL,
	                        PM_DMARC_P_REJECT, &mode, &dis, &rule);
	assert_int_equal(mode, PM_MODE_ENFORCE);
	verdict_dmarc_overrides(p, NULL, "quiet.test", NULL, &r, PM_DMARC_FAIL, PM_DMARC_P_REJECT,
	                        &mode, &dis, &rule);
	assert_int_equal(mode, PM_MODE_OFF);
	/* not a mere suffix */
	verdict_dmarc_overrides(p, NULL, "unhosted.test", NULL, &r, PM_DMARC_FAIL,
	                        PM_DMARC_P_REJECT, &mode, &dis, &rule);
	assert_int_equal(mode, PM_MODE_ENFORCE);

	/* always_reject: a fail is rejected whatever the disposition */
	verdict_dmarc_overrides(p, NULL, "brand.test", NULL, &r, PM_DMARC_FAIL, PM_DMARC_P_NONE,
	                        &mode, &dis, &rule);
	assert_int_equal(dis, PM_DMARC_P_REJECT);
	assert_string_equal(rule, "dmarc.always_reject");
	verdict_dmarc_overrides(p, NULL, "brand.test", NULL, &r, PM_DMARC_PASS, PM_DMARC_P_NONE,
	                        &mode, &dis, &rule);
	assert_int_equal(dis, PM_DMARC_P_NONE);

	/* never_enforce: author domain, SPF-passing MAIL FROM domain, passing DKIM d= */
	verdict_dmarc_overrides(p, NULL, "lists.test", NULL, &r, PM_DMARC_FAIL, PM_DMARC_P_REJECT,
	                        &mode, &dis, &rule);
	assert_int_equal(mode, PM_MODE_TAG);
	assert_string_equal(rule, "dmarc.never_enforce");
	verdict_dmarc_overrides(p, NULL, "brand.test", "bounce.fwd.test", &r, PM_DMARC_FAIL,
	                        PM_DMARC_P_REJECT, &mode, &dis, &rule);
	assert_int_equal(mode, PM_MODE_TAG);
	v[0] = sig(PM_DKIM_PASS, "lists.test");
	r.n = 1;
	verdict_dmarc_overrides(p, NULL, "plain.test", NULL, &r, PM_DMARC_FAIL, PM_DMARC_P_REJECT,
	                        &mode, &dis, &rule);
	assert_int_equal(mode, PM_MODE_TAG);
	/* a failing signature by the forwarder proves nothing */
	v[0] = sig(PM_DKIM_FAIL, "lists.test");
	verdict_dmarc_overrides(p, NULL, "plain.test", NULL, &r, PM_DMARC_FAIL, PM_DMARC_P_REJECT,
	                        &mode, &dis, &rule);
	assert_int_equal(mode, PM_MODE_ENFORCE);
	/* log stays log */
	verdict_dmarc_overrides(p, NULL, "lists.hosted.test", NULL, &r, PM_DMARC_FAIL,
	                        PM_DMARC_P_REJECT, &mode, &dis, &rule);
	assert_int_equal(mode, PM_MODE_LOG);
	policy_release(p);

	p = load(P_DMARC_OFF);
	verdict_dmarc_overrides(p, NULL, "plain.test", NULL, &r, PM_DMARC_FAIL, PM_DMARC_P_REJECT,
	                        &mode, &dis, &rule);
	assert_int_equal(mode, PM_MODE_OFF);
	policy_release(p);
}

/* mode_of - verdict_mode of check c for a sender domain and up to two recipient domains */
static enum pm_mode mode_of(const struct policy *p, enum pm_check c, const char *sender,
                            const char *r1, const char *r2, size_t nrcpt, const char **rule)
{
	char *rcpts[2] = {(char *)r1, (char *)r2};
	struct pm_domains d = {sender, rcpts, nrcpt};

	return verdict_mode(p, c, &d, rule);
}

/* test_domain_overrides - the overrides per sender and recipient domain */
static void test_domain_overrides(void **state)
{
	struct policy *p = load(P_DOMAIN_OV), *on = load(P_OV_ON), *off = load(P_OFF);
	struct pm_facts f = {MAIL, .mfrom_spf = PM_SPF_FAIL};
	struct pm_verdict v, held;
	char *rcpt[2] = {NULL, NULL};
	const char *rule = "x";
	enum pm_mode mode;
	enum pm_dmarc_policy dis;

	(void)state;
	/* no domain known: the policy's own mode, no rule */
	assert_int_equal(verdict_mode(p, PM_CHECK_SPF, NULL, &rule), PM_MODE_ENFORCE);
	assert_null(rule);
	assert_int_equal(mode_of(p, PM_CHECK_SPF, NULL, NULL, NULL, 0, &rule), PM_MODE_ENFORCE);
	assert_int_equal(verdict_mode(NULL, PM_CHECK_SPF, NULL, NULL), PM_MODE_OFF);
	assert_int_equal(verdict_mode(p, PM_CHECKS, NULL, NULL), PM_MODE_OFF);

	/* sender only: the domain and below, not a mere suffix */
	assert_int_equal(mode_of(p, PM_CHECK_SPF, "partner.test", NULL, NULL, 0, &rule),
	                 PM_MODE_TAG);
	assert_string_equal(rule, "overrides.for_sender_domain=partner.test");
	assert_int_equal(mode_of(p, PM_CHECK_SPF, "MX.Partner.Test", NULL, NULL, 0, &rule),
	                 PM_MODE_TAG);
	assert_int_equal(mode_of(p, PM_CHECK_SPF, "notpartner.test", NULL, NULL, 0, &rule),
	                 PM_MODE_ENFORCE);
	assert_null(rule);
	/* a group names only its checks */
	assert_int_equal(mode_of(p, PM_CHECK_IPREV, "partner.test", NULL, NULL, 0, &rule),
	                 PM_MODE_TAG); /* iprev.mode default tag */
	assert_null(rule);

	/* recipient only */
	assert_int_equal(mode_of(p, PM_CHECK_DMARC, NULL, "hosted.test", NULL, 1, &rule),
	                 PM_MODE_LOG);
	assert_string_equal(rule, "overrides.for_recipient_domain=hosted.test");
	/* longest match; spf from the shorter group, the longer one not naming it */
	assert_int_equal(mode_of(p, PM_CHECK_DMARC, NULL, "a.strict.hosted.test", NULL, 1, &rule),
	                 PM_MODE_ENFORCE);
	assert_string_equal(rule, "overrides.for_recipient_domain=strict.hosted.test");
	assert_int_equal(mode_of(p, PM_CHECK_SPF, NULL, "a.strict.hosted.test", NULL, 1, &rule),
	                 PM_MODE_LOG);
	assert_string_equal(rule, "overrides.for_recipient_domain=hosted.test");
	/* a recipient without a domain matches nothing */
	assert_int_equal(mode_of(p, PM_CHECK_DMARC, NULL, NULL, NULL, 1, &rule), PM_MODE_ENFORCE);

	/* both: the recipient's wins; a recipient without one gets the sender's */
	assert_int_equal(mode_of(p, PM_CHECK_DMARC, "partner.test", "hosted.test", NULL, 1, &rule),
	                 PM_MODE_LOG);
	assert_string_equal(rule, "overrides.for_recipient_domain=hosted.test");
	assert_int_equal(mode_of(p, PM_CHECK_DMARC, "partner.test", "example.org", NULL, 1, &rule),
	                 PM_MODE_TAG);
	assert_string_equal(rule, "overrides.for_sender_domain=partner.test");

	/* several recipients: used only when they agree */
	assert_int_equal(mode_of(p, PM_CHECK_DMARC, NULL, "hosted.test", "x.hosted.test", 2, &rule),
	                 PM_MODE_LOG);
	assert_string_equal(rule, "overrides.for_recipient_domain=hosted.test");
	assert_int_equal(mode_of(p, PM_CHECK_DMARC, NULL, "hosted.test", "example.org", 2, &rule),
	                 PM_MODE_ENFORCE);
	assert_null(rule);
	assert_int_equal(
	    mode_of(p, PM_CHECK_DMARC, "partner.test", "hosted.test", "example.org", 2, &rule),
	    PM_MODE_TAG);
	assert_string_equal(rule, "overrides.for_sender_domain=partner.test");
	/* agreeing modes by different routes: the same mode */
	assert_int_equal(mode_of(p, PM_CHECK_SPF, "partner.test", "hosted.test", NULL, 1, &rule),
	                 PM_MODE_LOG);

	/* an override to off */
	assert_int_equal(mode_of(p, PM_CHECK_SENDER_DOMAIN, "noisy.test", NULL, NULL, 0, &rule),
	                 PM_MODE_OFF);
	assert_string_equal(rule, "overrides.for_sender_domain=noisy.test");
	assert_int_equal(mode_of(p, PM_CHECK_DKIM, NULL, "unsigned.test", NULL, 1, &rule),
	                 PM_MODE_OFF);
	assert_true(policy_check_on(p, PM_CHECK_SENDER_DOMAIN));
	/* off by itself, on by an override: evaluated, applied only for that domain */
	assert_true(policy_check_on(on, PM_CHECK_SPF));
	assert_false(policy_check_on(off, PM_CHECK_SPF));
	assert_int_equal(mode_of(on, PM_CHECK_SPF, "a.x.test", NULL, NULL, 0, NULL),
	                 PM_MODE_ENFORCE);
	assert_int_equal(mode_of(on, PM_CHECK_SPF, "y.test", NULL, NULL, 0, NULL), PM_MODE_OFF);
	f.domains.sender = "y.test";
	verdict_decide(&f, on, &v);
	assert_int_equal(v.check, CHK_NONE);
	f.domains.sender = "x.test";
	verdict_decide(&f, on, &v);
	assert_int_equal(v.action, PM_V_REJECT);
	assert_string_equal(v.rule, "overrides.for_sender_domain=x.test");
	assert_string_equal(pm_check_name(PM_CHECK_SENDER_DOMAIN), "sender_domain");
	assert_string_equal(pm_check_name(PM_CHECKS), "unknown");

	/* MAIL FROM: a sender override in tag mode is a "would", not held */
	f.domains.sender = "partner.test";
	verdict_decide(&f, p, &v);
	assert_false(v.delayed);
	assert_true(v.would);
	assert_int_equal(v.action, PM_V_CONTINUE);
	assert_string_equal(v.rule, "overrides.for_sender_domain=partner.test");
	/* ... which a recipient domain's enforce override refuses at its RCPT */
	f.stage = PM_STAGE_RCPT;
	f.domains.rcpt = rcpt;
	f.domains.nrcpt = 1;
	rcpt[0] = "strict.test";
	verdict_decide(&f, p, &v);
	assert_int_equal(v.action, PM_V_REJECT);
	assert_int_equal(v.reply, PM_R_SPF_FAIL);
	assert_string_equal(pm_check_id_name(v.check), "spf");
	assert_string_equal(v.rule, "overrides.for_recipient_domain=strict.test");
	f.rcpt_exempt = true; /* an exempt recipient there: a "would" */
	verdict_decide(&f, p, &v);
	assert_int_equal(v.action, PM_V_CONTINUE);
	assert_true(v.exempt);
	f.rcpt_exempt = false;
	rcpt[0] = "example.org"; /* no recipient override: the MAIL FROM "would" stays one */
	verdict_decide(&f, p, &v);
	assert_int_equal(v.action, PM_V_CONTINUE);
	assert_int_equal(v.check, CHK_NONE);

	/* a sender without override: MAIL FROM holds the refusal ... */
	f.stage = PM_STAGE_MAIL;
	f.domains = (struct pm_domains){"other.test", NULL, 0};
	verdict_decide(&f, p, &held);
	assert_true(held.delayed);
	/* ... each recipient gets its own domain's mode */
	f.stage = PM_STAGE_RCPT;
	f.mail_refusal = &held;
	f.domains.rcpt = rcpt;
	f.domains.nrcpt = 1;
	rcpt[0] = "example.org";
	verdict_decide(&f, p, &v);
	assert_int_equal(v.action, PM_V_REJECT);
	assert_string_equal(v.rule, "spf.fail=reject");
	rcpt[0] = "a.hosted.test";
	verdict_decide(&f, p, &v);
	assert_int_equal(v.action, PM_V_CONTINUE);
	assert_true(v.would);
	assert_int_equal(v.reply, PM_R_SPF_FAIL);
	assert_string_equal(pm_check_id_name(v.check), "spf");
	assert_string_equal(v.rule, "overrides.for_recipient_domain=hosted.test");
	f.trusted = true; /* MAIL FROM did not judge a trusted client */
	verdict_decide(&f, p, &v);
	assert_int_equal(v.check, CHK_NONE);
	f.trusted = false;
	/* iprev: enforce for strict.test only (iprev.mode tag) */
	f.mfrom_spf = PM_SPF_PASS;
	f.iprev = PM_IPREV_FAIL;
	f.mail_refusal = NULL;
	rcpt[0] = "strict.test";
	verdict_decide(&f, p, &v);
	assert_int_equal(v.action, PM_V_REJECT);
	assert_int_equal(v.reply, PM_R_IPREV_FAIL);

	/* end of message: the From header and must_sign by the recipients' mode */
	memset(&f, 0, sizeof(f));
	f.stage = PM_STAGE_EOM;
	f.from = FROM_MISSING;
	f.domains.rcpt = rcpt;
	f.domains.nrcpt = 1;
	rcpt[0] = "hosted.test";
	verdict_decide(&f, p, &v);
	assert_int_equal(v.action, PM_V_CONTINUE);
	assert_true(v.would);
	assert_string_equal(pm_check_id_name(v.check), "from_header");
	rcpt[1] = "example.org";
	f.domains.nrcpt = 2; /* mixed: the policy's mode */
	verdict_decide(&f, p, &v);
	assert_int_equal(v.action, PM_V_REJECT);
	assert_int_equal(v.reply, PM_R_FROM_HEADER);
	f.from = FROM_OK;
	f.must_sign = MUST_SIGN_NONE_PASSING;
	f.domains.nrcpt = 1;
	rcpt[0] = "unsigned.test";
	verdict_decide(&f, p, &v);
	assert_int_equal(v.check, CHK_NONE);
	assert_false(v.would);
	rcpt[0] = "example.org";
	verdict_decide(&f, p, &v);
	assert_string_equal(pm_check_id_name(v.check), "must_sign"); /* dkim.mode tag: a "would" */
	assert_true(v.would);

	/* DMARC: the overrides win over dmarc.mode; always_reject etc. still follow */
	rcpt[0] = "hosted.test";
	verdict_dmarc_overrides(p, &f.domains, "brand.test", NULL, NULL, PM_DMARC_FAIL,
	                        PM_DMARC_P_REJECT, &mode, &dis, &rule);
	assert_int_equal(mode, PM_MODE_LOG);
	assert_string_equal(rule, "overrides.for_recipient_domain=hosted.test");
	rcpt[0] = "example.org";
	verdict_dmarc_overrides(p, &f.domains, "brand.test", NULL, NULL, PM_DMARC_FAIL,
	                        PM_DMARC_P_REJECT, &mode, &dis, &rule);
	assert_int_equal(mode, PM_MODE_ENFORCE);
	assert_string_equal(rule, "dmarc.mode");
	policy_release(p);
	policy_release(on);
	policy_release(off);
}

/* test_reply_table - every case through verdict_decide */
static void test_reply_table(void **state)
{
	size_t i, failed = 0;

	(void)state;
	for (i = 0; i < PM_ARRAY_LEN(verdict_cases); i++) {
		struct policy *p = load(verdict_cases[i].policy);

		if (check_case(&verdict_cases[i], p))
			failed++;
		policy_release(p);
	}
	if (failed)
		fail_msg("%zu of %zu verdict cases failed", failed, PM_ARRAY_LEN(verdict_cases));
}

/* test_defaults - the default replies are those of the DESIGN.md table */
static void test_defaults(void **state)
{
	static const struct {
		enum pm_reply_id id;
		int code;
		const char *xcode;
	} want[] = {
	    {PM_R_CLIENT_BLOCKED, 554, "5.7.1"},        {PM_R_SPF_FAIL, 550, "5.7.23"},
	    {PM_R_SPF_PERMERROR, 550, "5.7.24"},        {PM_R_SPF_TEMPERROR, 451, "4.7.24"},
	    {PM_R_SENDER_SYNTAX, 501, "5.1.7"},         {PM_R_RCPT_SYNTAX, 501, "5.1.3"},
	    {PM_R_SENDER_DOMAIN_UNKNOWN, 550, "5.1.8"}, {PM_R_SENDER_NULL_MX, 550, "5.7.27"},
	    {PM_R_UNKNOWN_RECIPIENT, 550, "5.1.1"},     {PM_R_RELAY_DENIED, 554, "5.7.1"},
	    {PM_R_TOO_MANY_RECIPIENTS, 452, "4.5.3"},   {PM_R_TOO_MANY_UNKNOWN, 450, "4.7.1"},
	    {PM_R_RCPT_TEMPFAIL, 451, "4.4.3"},         {PM_R_DNS_TEMPFAIL, 451, "4.4.3"},
	    {PM_R_INTERNAL_ERROR, 451, "4.3.0"},        {PM_R_DNSBL_LISTED, 554, "5.7.1"},
	    {PM_R_IPREV_FAIL, 550, "5.7.25"},           {PM_R_IPREV_TEMPFAIL, 451, "4.7.25"},
	    {PM_R_HELO_BLOCKED, 554, "5.7.1"},          {PM_R_SENDER_BLOCKED, 554, "5.7.1"},
	    {PM_R_RCPT_BLOCKED, 554, "5.7.1"},          {PM_R_CLIENT_NAME_BLOCKED, 554, "5.7.1"},
	    {PM_R_TOO_MANY_MESSAGES, 421, "4.7.0"},     {PM_R_HEADER_REPEATED, 550, "5.7.1"},
	};
	struct policy *p = load(BASE);
	size_t i, failed = 0;

	(void)state;
	for (i = 0; i < PM_ARRAY_LEN(want); i++) {
		const struct pm_reply *r = &p->replies[want[i].id];

		if (r->code != want[i].code || strcmp(r->xcode, want[i].xcode) != 0) {
			print_error("%s: got %d %s, want %d %s\n", pm_reply_name(want[i].id),
			            r->code, r->xcode, want[i].code, want[i].xcode);
			failed++;
		}
	}
	policy_release(p);
	if (failed)
		fail_msg("%zu default replies differ from DESIGN.md", failed);
}

/* test_singleton_field - the fields RFC 5322 3.6 allows once (From: the From check's) */
static void test_singleton_field(void **state)
{
	static const struct {
		const char *name, *want;
	} cases_[] = {
	    {"Subject", "Subject"},
	    {"SUBJECT", "Subject"},
	    {"subject \t", "Subject"},
	    {"Date", "Date"},
	    {"Sender", "Sender"},
	    {"reply-to", "Reply-To"},
	    {"To", "To"},
	    {"cc", "Cc"},
	    {"Bcc", "Bcc"},
	    {"Message-Id", "Message-ID"},
	    {"In-Reply-To", "In-Reply-To"},
	    {"References", "References"},
	    {"From", NULL},
	    {"Received", NULL},
	    {"Subjects", NULL},
	    {"Sub", NULL},
	    {"X-Subject", NULL},
	    {"Resent-To", NULL},
	    {"Comments", NULL},
	    {"Keywords", NULL},
	    {"", NULL},
	    {NULL, NULL},
	};

	(void)state;
	for (size_t i = 0; i < PM_ARRAY_LEN(cases_); i++) {
		const char *got = verdict_singleton_field(cases_[i].name);

		if ((got == NULL) != (cases_[i].want == NULL) ||
		    (got != NULL && strcmp(got, cases_[i].want) != 0))
			fail_msg("verdict_singleton_field(\"%s\"): got %s, want %s",
			         cases_[i].name ? cases_[i].name : "(null)", got ? got : "NULL",
			         cases_[i].want ? cases_[i].want : "NULL");
	}
}

/* test_null_inputs - no facts or no policy: a 4xx, never a crash or an accept */
static void test_null_inputs(void **state)
{
	struct pm_verdict v;
	struct pm_facts f = {.stage = PM_STAGE_RCPT};
	struct policy *p = load(P_DEFAULT);

	(void)state;
	verdict_decide(NULL, p, &v);
	assert_int_equal(v.action, PM_V_TEMPFAIL);
	assert_int_equal(v.reply, PM_R_INTERNAL_ERROR);
	verdict_decide(&f, NULL, &v);
	assert_int_equal(v.action, PM_V_TEMPFAIL);
	/* out-of-range values are "nothing to refuse", not a wild read */
	f.stage = (enum pm_stage)42;
	verdict_decide(&f, p, &v);
	assert_int_equal(v.action, PM_V_CONTINUE);
	f.stage = PM_STAGE_MAIL;
	f.mfrom_spf = (enum pm_spf_result)99;
	verdict_decide(&f, p, &v);
	assert_int_equal(v.action, PM_V_CONTINUE);
	assert_int_equal(v.reply, PM_R_COUNT);
	f.sender_domain = (enum sender_domain_status)99;
	verdict_decide(&f, p, &v);
	assert_int_equal(v.action, PM_V_CONTINUE);
	assert_int_equal(v.reply, PM_R_COUNT);
	policy_release(p);
}

/* expand - reply_expand of text with vars into a 1024-byte buffer */
static const char *expand(const char *text, const struct pm_reply_vars *vars, char *buf,
                          size_t size)
{
	struct pm_reply r = {550, "5.7.1", (char *)text};

	return reply_expand(&r, vars, buf, size);
}

/* all_printable - printable ASCII only */
static bool all_printable(const char *s)
{
	for (; *s; s++)
		if ((unsigned char)*s < 0x20 || (unsigned char)*s > 0x7e)
			return false;
	return true;
}

/* test_reply_expand - placeholders and hostile values */
static void test_reply_expand(void **state)
{
	static char long_a[10001], long_8bit[10001], want_long_a[300];
	struct pm_reply_vars all = {
	    "192.0.2.1",   "client.example", "helo.example", "s@example.org", "r@example.org",
	    "example.org", "fail",           "mailfrom",     "zen.example",   "300"};
	struct {
		const char *text;
		struct pm_reply_vars vars;
		const char *want;
	} cases[] = {
	    {"plain text", {0}, "plain text"},
	    {"Hello %{ip}", {.ip = "192.0.2.1"}, "Hello 192.0.2.1"},
	    {"<%{rcpt}>: unknown", {.rcpt = "a\r\nb"}, "<a\\x0d\\x0ab>: unknown"},
	    {"<%{rcpt}>", {.rcpt = "x\r\n250 OK"}, "<x\\x0d\\x0a250 OK>"},
	    {"%{helo}", {.helo = "j\xc3\xb6rg\x7f\x01"}, "j\\xc3\\xb6rg\\x7f\\x01"},
	    {"%{helo}", {.helo = "a\0b"}, "a"},
	    {"%{sender}", {.sender = "100%\\d%s"}, "100\\x25\\x5cd\\x25s"},
	    {"%{sender}", {.sender = "%{ip}"}, "\\x25{ip}"},
	    {"100%% sure %{ip}", {.ip = "192.0.2.1"}, "100%% sure 192.0.2.1"},
	    {"%{unknown} %{ip", {.ip = "x"}, "%{unknown} %{ip"},
	    {"%{ip}%{ip}", {.ip = "1"}, "11"},
	    {"[%{name}]", {.name = NULL}, "[]"},
	    {"%", {0}, "%"},
	    {"%{", {0}, "%{"},
	    {"%{}", {0}, "%{}"},
	    {"bad\x01template\xff", {0}, "bad?template?"},
	    {"%{ip} %{name} %{helo} %{sender} %{rcpt} %{domain} %{result} %{identity} %{zone} "
	     "%{retry}",
	     {"192.0.2.1", "client.example", "helo.example", "s@example.org", "r@example.org",
	      "example.org", "fail", "mailfrom", "zen.example", "300"},
	     "192.0.2.1 client.example helo.example s@example.org r@example.org example.org fail "
	     "mailfrom zen.example 300"},
	    {"retry in %{retry} seconds", {.retry = "12\r\n"}, "retry in 12\\x0d\\x0a seconds"},
	    {"retry in %{retry} seconds", {0}, "retry in  seconds"},
	    {"blocked using %{zone}",
	     {.zone = "bl\r\n.example%s"},
	     "blocked using bl\\x0d\\x0a.example\\x25s"},
	    {"<%{rcpt}>", {.rcpt = long_a}, want_long_a},
	};
	char buf[1024];
	size_t i, failed = 0;

	(void)state;
	memset(long_a, 'a', sizeof(long_a) - 1);
	memset(long_8bit, 0xff, sizeof(long_8bit) - 1);
	snprintf(want_long_a, sizeof(want_long_a), "<%.200s...>", long_a);
	for (i = 0; i < PM_ARRAY_LEN(cases); i++) {
		expand(cases[i].text, &cases[i].vars, buf, sizeof(buf));
		if (strcmp(buf, cases[i].want) != 0) {
			print_error("case %zu: got \"%s\", want \"%s\"\n", i, buf, cases[i].want);
			failed++;
		}
	}
	/* NULL vars: every placeholder empty */
	expand("[%{ip}%{rcpt}]", NULL, buf, sizeof(buf));
	if (strcmp(buf, "[]") != 0) {
		print_error("NULL vars: got \"%s\", want \"[]\"\n", buf);
		failed++;
	}
	/* every value long and 8-bit: the text stays printable and under 450 bytes */
	{
		struct pm_reply_vars v = {long_8bit, long_8bit, long_8bit, long_8bit, long_8bit,
		                          long_8bit, long_8bit, long_8bit, long_8bit, long_8bit};

		expand("%{ip} %{name} %{helo} %{sender} %{rcpt} %{domain} %{result} %{identity} "
		       "%{zone} %{retry}",
		       &v, buf, sizeof(buf));
		if (strlen(buf) > 449 || !all_printable(buf) || strchr(buf, '%') != NULL ||
		    strncmp(buf, "\\xff\\xff", 8) != 0 ||
		    strcmp(buf + strlen(buf) - 3, "...") != 0) {
			print_error("long 8-bit values: got %zu bytes \"%.60s...\"\n", strlen(buf),
			            buf);
			failed++;
		}
	}
	/* a small buffer is never overrun */
	expand("Hello %{ip}", &all, buf, 8);
	if (strlen(buf) != 7 || strncmp(buf, "Hell", 4) != 0) {
		print_error("small buffer: got \"%s\", want 7 bytes\n", buf);
		failed++;
	}
	expand("Hello", &all, buf, 1);
	if (buf[0] != '\0') {
		print_error("1-byte buffer: got \"%s\", want \"\"\n", buf);
		failed++;
	}
	if (failed)
		fail_msg("%zu reply_expand cases failed", failed);
}

/* test_expand_configured - the default replies expand cleanly with hostile values */
static void test_expand_configured(void **state)
{
	struct policy *p = load(P_DEFAULT);
	struct pm_reply_vars v = {"192.0.2.1\r\n", "evil\n250 OK", "\x80",   "a%sb",
	                          "x\r\ny",        "d.test\r\n",   "fail\0", "id",
	                          "zone\r\n%s",    "300\r\n%s"};
	char buf[1024];
	size_t failed = 0;

	(void)state;
	for (int id = 0; id < PM_R_COUNT; id++) {
		reply_expand(&p->replies[id], &v, buf, sizeof(buf));
		if (!all_printable(buf) || strlen(buf) > 449 || strstr(buf, "%s") != NULL) {
			print_error("%s: got \"%s\"\n", pm_reply_name((enum pm_reply_id)id), buf);
			failed++;
		}
	}
	reply_expand(&p->replies[PM_R_DNSBL_LISTED], &v, buf, sizeof(buf));
	if (strcmp(buf, "Service unavailable; client host 192.0.2.1\\x0d\\x0a blocked using "
	                "zone\\x0d\\x0a\\x25s") != 0) {
		print_error("dnsbl_listed: got \"%s\", want the escaped address and zone\n", buf);
		failed++;
	}
	reply_expand(&p->replies[PM_R_IPREV_FAIL], &v, buf, sizeof(buf));
	if (strcmp(buf, "Reverse DNS of 192.0.2.1\\x0d\\x0a does not match (iprev fail)") != 0) {
		print_error("iprev_fail: got \"%s\", want the escaped address and result\n", buf);
		failed++;
	}
	reply_expand(&p->replies[PM_R_UNKNOWN_RECIPIENT], &v, buf, sizeof(buf));
	if (strstr(buf, "<x\\x0d\\x0ay>") == NULL) {
		print_error("unknown_recipient: got \"%s\", want the escaped recipient\n", buf);
		failed++;
	}
	policy_release(p);
	if (failed)
		fail_msg("%zu configured replies failed", failed);
}

/* test_action_names - every action has its name */
static void test_action_names(void **state)
{
	(void)state;
	assert_string_equal(pm_verdict_action_name(PM_V_CONTINUE), "continue");
	assert_string_equal(pm_verdict_action_name(PM_V_REJECT), "reject");
	assert_string_equal(pm_verdict_action_name(PM_V_TEMPFAIL), "tempfail");
}

/* setup - a temporary directory for the policy files */
static int setup(void **state)
{
	(void)state;

	snprintf(tmp_dir, sizeof(tmp_dir), "/tmp/test_verdict.XXXXXX");
	return mkdtemp(tmp_dir) ? 0 : -1;
}

/* teardown - remove it */
static int teardown(void **state)
{
	(void)state;
	return unit_policy_dir_free(tmp_dir);
}

/* verdict_plan: the lookups each stage makes (policies beside the table) */
#define CN_ALLOW "lists = { client_name = { allow = [ \"good.example\" ]; }; };\n"
static const char P_PLAN_DNSBL[] = BASE "dnsbl = { " ZONES " };\n";
static const char P_PLAN_DNSBL_CN[] = BASE "dnsbl = { " ZONES " };\n" CN_ALLOW;
static const char P_PLAN_DNSBL_DRY[] = BASE "dry_run = true;\ndnsbl = { " ZONES " };\n";
static const char P_PLAN_CN_ONLY[] =
    BASE "iprev = { mode = \"off\"; };\n"
         "lists = { client_name = { block = [ \"bad.example\" ]; }; };\n";
static const char P_PLAN_MAX[] = BASE "recipients = { max_messages_per_connection = 2; };\n";
static const char P_PLAN_DRY_IPREV[] = BASE "dry_run = true;\niprev = { mode = \"enforce\"; };\n";
static const char P_PLAN_SPF_OFF[] = BASE "spf = { mode = \"off\"; helo_mode = \"off\"; };\n";
static const char P_PLAN_NO_AUTH[] =
    BASE "dkim = { mode = \"off\"; };\ndmarc = { mode = \"off\"; };\n"
         "arc = { mode = \"off\"; };\n";
static const char P_PLAN_ARC_ONLY[] =
    BASE "dkim = { mode = \"off\"; };\ndmarc = { mode = \"off\"; };\narc = { mode = \"log\"; };\n";

/* One verdict_plan case: the policy, the facts so far, the lookups wanted. */
struct pcase {
	const char *name;
	const char *policy;
	struct pm_facts f;
	struct pm_plan want;
};

#define SENDER_AT(d) .domains = {.sender = (d)}

static const struct pcase plan_cases[] = {
    /* connect */
    {"connect: no zones: iprev (tag) looked up and applied",
     P_DEFAULT,
     {CONNECT},
     {.iprev = true, .iprev_applies = true}},
    {"connect: trusted: nothing", P_PLAN_DNSBL, {CONNECT, .trusted = true}, {0}},
    {"connect: broken session, failing open: nothing",
     P_FAIL_OPEN,
     {CONNECT, .internal_error = true},
     {0}},
    {"connect: client_block refuses: nothing",
     P_PLAN_DNSBL,
     {CONNECT, .client_blocked = true},
     {0}},
    {"connect: client block entry: nothing",
     P_PLAN_DNSBL_CN,
     {CONNECT, .list_block = BIT(CLIENT)},
     {0}},
    {"connect: client_block in log mode: the DNSBLs and iprev",
     P_DNSBL_BLOCK_LOG,
     {CONNECT, .client_blocked = true},
     {.dnsbl = true, .iprev = true, .iprev_applies = true}},
    {"connect: zones not asked yet: the DNSBLs and iprev",
     P_PLAN_DNSBL,
     {CONNECT},
     {.dnsbl = true, .iprev = true, .iprev_applies = true}},
    {"connect: zones asked, not listed: iprev",
     P_PLAN_DNSBL,
     {CONNECT, .dnsbl_checked = true},
     {.iprev = true, .iprev_applies = true}},
    {"connect: listed: no iprev",
     P_PLAN_DNSBL,
     {CONNECT, .dnsbl_checked = true, .dnsbl_listed = true},
     {0}},
    {"connect: listed, a client name allow list: iprev",
     P_PLAN_DNSBL_CN,
     {CONNECT, .dnsbl_checked = true, .dnsbl_listed = true},
     {.iprev = true, .iprev_applies = true}},
    {"connect: listed in log mode: iprev",
     P_DNSBL_LOG,
     {CONNECT, .dnsbl_checked = true, .dnsbl_listed = true},
     {.iprev = true, .iprev_applies = true}},
    {"connect: listed in a dry run: iprev",
     P_PLAN_DNSBL_DRY,
     {CONNECT, .dnsbl_checked = true, .dnsbl_listed = true},
     {.iprev = true, .iprev_applies = true}},
    {"connect: dnsbl off: iprev only",
     P_DNSBL_OFF,
     {CONNECT},
     {.iprev = true, .iprev_applies = true}},
    {"connect: iprev off, no client name list: nothing", P_IPREV_OFF, {CONNECT}, {0}},
    {"connect: iprev off, a client name list: looked up, not applied",
     P_PLAN_CN_ONLY,
     {CONNECT},
     {.iprev = true}},
    {"connect: iprev looked up already: nothing", P_DEFAULT, {CONNECT, .iprev_checked = true}, {0}},

    /* HELO */
    {"helo: HELO SPF", P_DEFAULT, {HELO}, {.helo_spf = true}},
    {"helo: helo_mode off: nothing", P_HELO_OFF, {HELO}, {0}},
    {"helo: trusted: nothing", P_DEFAULT, {HELO, .trusted = true}, {0}},
    {"helo: evaluated already: nothing", P_DEFAULT, {HELO, .helo_spf = PM_SPF_PASS}, {0}},

    /* MAIL FROM */
    {"mail: a sender domain: the domain and SPF",
     P_DEFAULT,
     {MAIL, SENDER_AT("example.net")},
     {.sender_domain = true, .spf = true}},
    {"mail: null sender: SPF only", P_DEFAULT, {MAIL, .sender_status = ADDR_NULL}, {.spf = true}},
    {"mail: an address literal: SPF only", P_DEFAULT, {MAIL}, {.spf = true}},
    {"mail: authenticated: nothing",
     P_DEFAULT,
     {MAIL, .authenticated = true, SENDER_AT("example.net")},
     {0}},
    {"mail: trusted: nothing", P_DEFAULT, {MAIL, .trusted = true, SENDER_AT("example.net")}, {0}},
    {"mail: bad sender: nothing", P_DEFAULT, {MAIL, .sender_status = ADDR_BAD}, {0}},
    {"mail: messages used up: nothing",
     P_PLAN_MAX,
     {MAIL, .messages_in_session = 2, SENDER_AT("example.net")},
     {0}},
    {"mail: messages used up in a dry run: nothing",
     P_DRY_MAX_MSGS,
     {MAIL, .messages_in_session = 2, SENDER_AT("example.net")},
     {0}},
    {"mail: one message left: the lookups",
     P_PLAN_MAX,
     {MAIL, .messages_in_session = 1, SENDER_AT("example.net")},
     {.sender_domain = true, .spf = true}},
    {"mail: sender block entry: nothing",
     P_DEFAULT,
     {MAIL, .list_block = BIT(SENDER), SENDER_AT("example.net")},
     {0}},
    {"mail: HELO block entry: nothing",
     P_DEFAULT,
     {MAIL, .list_block = BIT(HELO), SENDER_AT("example.net")},
     {0}},
    {"mail: sender block entry in a dry run: the lookups",
     P_DRY,
     {MAIL, .list_block = BIT(SENDER), SENDER_AT("example.net")},
     {.sender_domain = true, .spf = true}},
    {"mail: iprev fail enforced: nothing",
     P_IPREV_ENFORCE,
     {MAIL, .iprev = PM_IPREV_FAIL, SENDER_AT("example.net")},
     {0}},
    {"mail: iprev fail in tag mode: the lookups",
     P_DEFAULT,
     {MAIL, .iprev = PM_IPREV_FAIL, SENDER_AT("example.net")},
     {.sender_domain = true, .spf = true}},
    {"mail: iprev fail held for RCPT: nothing",
     P_EXEMPT_IPREV,
     {MAIL, .iprev = PM_IPREV_FAIL, SENDER_AT("example.net")},
     {0}},
    {"mail: iprev fail enforced in a dry run: the lookups",
     P_PLAN_DRY_IPREV,
     {MAIL, .iprev = PM_IPREV_FAIL, SENDER_AT("example.net")},
     {.sender_domain = true, .spf = true}},
    {"mail: sender domain unknown: no SPF",
     P_DEFAULT,
     {MAIL, .sender_domain = SENDER_DOMAIN_NXDOMAIN, SENDER_AT("example.net")},
     {0}},
    {"mail: sender domain unknown, held for RCPT: no SPF",
     P_EXEMPT,
     {MAIL, .sender_domain = SENDER_DOMAIN_NXDOMAIN, SENDER_AT("example.net")},
     {0}},
    {"mail: sender domain unknown in log mode: SPF",
     P_SD_LOG,
     {MAIL, .sender_domain = SENDER_DOMAIN_NXDOMAIN, SENDER_AT("example.net")},
     {.spf = true}},
    {"mail: sender domain found: SPF",
     P_DEFAULT,
     {MAIL, .sender_domain = SENDER_DOMAIN_OK, SENDER_AT("example.net")},
     {.spf = true}},
    {"mail: HELO SPF refuses: MAIL FROM SPF still",
     P_DEFAULT,
     {MAIL, .helo_spf = PM_SPF_FAIL, SENDER_AT("example.net")},
     {.sender_domain = true, .spf = true}},
    {"mail: SPF off: the sender domain only",
     P_PLAN_SPF_OFF,
     {MAIL, SENDER_AT("example.net")},
     {.sender_domain = true}},
    {"mail: SPF off by itself, on for this sender domain",
     P_OV_ON,
     {MAIL, SENDER_AT("x.test")},
     {.sender_domain = true, .spf = true}},
    {"mail: SPF fail, DMARC enforced: the sender domain's DMARC record",
     P_DEFAULT,
     {MAIL, .sender_domain = SENDER_DOMAIN_OK, .mfrom_spf = PM_SPF_FAIL, SENDER_AT("example.net")},
     {.sender_dmarc = true}},
    {"mail: SPF softfail set to reject: the DMARC record",
     P_STRICT_SPF,
     {MAIL, .sender_domain = SENDER_DOMAIN_OK, .mfrom_spf = PM_SPF_SOFTFAIL,
      SENDER_AT("example.net")},
     {.sender_dmarc = true}},
    {"mail: SPF softfail not refused: no DMARC record",
     P_DEFAULT,
     {MAIL, .sender_domain = SENDER_DOMAIN_OK, .mfrom_spf = PM_SPF_SOFTFAIL,
      SENDER_AT("example.net")},
     {0}},
    {"mail: SPF pass: no DMARC record",
     P_DEFAULT,
     {MAIL, .sender_domain = SENDER_DOMAIN_OK, .mfrom_spf = PM_SPF_PASS, SENDER_AT("example.net")},
     {0}},
    {"mail: SPF fail, spf_fail_at_mail: no DMARC record",
     P_SPF_AT_MAIL,
     {MAIL, .sender_domain = SENDER_DOMAIN_OK, .mfrom_spf = PM_SPF_FAIL, SENDER_AT("example.net")},
     {0}},
    {"mail: SPF fail, DMARC in log mode: no DMARC record",
     P_DMARC_LOG,
     {MAIL, .sender_domain = SENDER_DOMAIN_OK, .mfrom_spf = PM_SPF_FAIL, SENDER_AT("example.net")},
     {0}},
    {"mail: SPF fail, DMARC tag for this sender domain: no DMARC record",
     P_DOMAIN_OV,
     {MAIL, .sender_domain = SENDER_DOMAIN_OK, .mfrom_spf = PM_SPF_FAIL, SENDER_AT("partner.test")},
     {0}},
    {"mail: SPF fail, DMARC record looked up already: nothing",
     P_DEFAULT,
     {MAIL, .sender_domain = SENDER_DOMAIN_OK, .mfrom_spf = PM_SPF_FAIL,
      .sender_dmarc_checked = true, SENDER_AT("example.net")},
     {0}},
    {"mail: SPF fail for the null sender: no DMARC record",
     P_DEFAULT,
     {MAIL, .sender_status = ADDR_NULL, .mfrom_spf = PM_SPF_FAIL},
     {0}},

    /* RCPT and end of message */
    {"rcpt: nothing", P_DEFAULT, {RCPT, SENDER_AT("example.net")}, {0}},
    {"eom: DKIM and DMARC", P_DEFAULT, {EOM}, {.message_auth = true}},
    {"eom: authenticated: nothing", P_DEFAULT, {EOM, .authenticated = true}, {0}},
    {"eom: trusted: nothing", P_DEFAULT, {EOM, .trusted = true}, {0}},
    {"eom: DKIM, DMARC and ARC off: nothing", P_PLAN_NO_AUTH, {EOM}, {0}},
    {"eom: ARC alone", P_PLAN_ARC_ONLY, {EOM}, {.message_auth = true}},
    {"eom: ARC alone, authenticated: nothing", P_PLAN_ARC_ONLY, {EOM, .authenticated = true}, {0}},
};

/* plan_text - the lookups of a plan, for messages */
static const char *plan_text(const struct pm_plan *pl, char *buf, size_t size)
{
	snprintf(buf, size, "%s%s%s%s%s%s%s%s", pl->dnsbl ? "dnsbl " : "",
	         pl->iprev ? "iprev " : "", pl->iprev_applies ? "iprev_applies " : "",
	         pl->helo_spf ? "helo_spf " : "", pl->sender_domain ? "sender_domain " : "",
	         pl->spf ? "spf " : "", pl->sender_dmarc ? "sender_dmarc " : "",
	         pl->message_auth ? "message_auth " : "");
	return buf[0] != '\0' ? buf : "nothing";
}

/* test_plan - the lookups verdict_plan asks for, case by case */
static void test_plan(void **state)
{
	int bad = 0;

	(void)state;
	for (size_t i = 0; i < PM_ARRAY_LEN(plan_cases); i++) {
		const struct pcase *c = &plan_cases[i];
		struct policy *p = load(c->policy);
		struct pm_plan got;
		char gbuf[160], wbuf[160];
		const char *g, *w;

		verdict_plan(&c->f, p, &got);
		g = plan_text(&got, gbuf, sizeof(gbuf));
		w = plan_text(&c->want, wbuf, sizeof(wbuf));
		if (strcmp(g, w) != 0) {
			print_error("case %s: got %s, want %s\n", c->name, g, w);
			bad++;
		}
		policy_release(p);
	}
	{
		struct pm_plan none;
		char g[160];

		memset(&none, 0xff, sizeof(none));
		verdict_plan(NULL, NULL, &none);
		if (strcmp(plan_text(&none, g, sizeof(g)), "nothing") != 0) {
			print_error("no facts, no policy: got %s, want nothing\n", g);
			bad++;
		}
	}
	assert_int_equal(bad, 0);
}

/*
 * names_distinct - every value in [first, count) of an enum has a name,
 * and no two share one; returns the number of faults (printed)
 */
static int names_distinct(const char *what, int first, int count, const char *(*name)(int))
{
	int bad = 0;

	for (int i = first; i < count; i++) {
		const char *n = name(i);

		if (n == NULL || n[0] == '\0') {
			print_error("%s %d: got no name, want one\n", what, i);
			bad++;
			continue;
		}
		for (int j = first; j < i; j++) {
			if (name(j) != NULL && strcmp(name(j), n) == 0) {
				print_error("%s %d and %d: both named \"%s\"\n", what, j, i, n);
				bad++;
			}
		}
	}
	if (name(count) != NULL || name(-1) != NULL) {
		print_error("%s: a value out of range got a name\n", what);
		bad++;
	}
	return bad;
}

/* The name functions, with an int argument for names_distinct. */
static const char *stage_name(int i)
{
	return pm_stage_name((enum pm_stage)i);
}

static const char *check_name(int i)
{
	return pm_check_id_name((enum pm_check_id)i);
}

static const char *reason_name(int i)
{
	return pm_reason_name((enum pm_reason)i);
}

/*
 * test_names - one distinct name per stage, check and reason (none for
 * CHK_NONE and RSN_NONE), spelt as logs and JSON have them
 */
static void test_names(void **state)
{
	const struct {
		const char *got, *want;
	} spelt[] = {
	    {pm_stage_name(PM_STAGE_CONNECT), "connect"},
	    {pm_stage_name(PM_STAGE_EOM), "eom"},
	    {pm_check_id_name(CHK_HELO_SPF), "helo_spf"},
	    {pm_check_id_name(CHK_INTERNAL_ERROR), "internal_error"},
	    {pm_reason_name(RSN_SPF_FAIL), "spf_fail"},
	    {pm_reason_name(RSN_INTERNAL_ERROR_FAIL_OPEN), "internal_error_fail_open"},
	    {pm_reason_name(RSN_CLIENT_NAME_BLOCKED), "client_name_blocked"},
	};
	int bad = 0;

	(void)state;
	bad += names_distinct("stage", 0, PM_STAGE_COUNT, stage_name);
	bad += names_distinct("check", CHK_NONE + 1, CHK_COUNT, check_name);
	bad += names_distinct("reason", RSN_NONE + 1, RSN_COUNT, reason_name);
	if (pm_check_id_name(CHK_NONE) != NULL || pm_reason_name(RSN_NONE) != NULL) {
		print_error("CHK_NONE or RSN_NONE: got a name, want none\n");
		bad++;
	}
	for (size_t i = 0; i < PM_ARRAY_LEN(spelt); i++) {
		if (!streq(spelt[i].got, spelt[i].want)) {
			print_error("name %zu: got \"%s\", want \"%s\"\n", i, NS(spelt[i].got),
			            spelt[i].want);
			bad++;
		}
	}
	assert_int_equal(bad, 0);
}

/* Greylisting and the rate limits (issue 16). */
#define STATE_RULES                                                                                \
	"ratelimits = ( { name = \"per-ip\"; key = \"client_address\"; window = 3600; limit = "    \
	"10; },\n"                                                                                 \
	"  { name = \"rej\"; key = \"sender\"; window = 60; limit = 5; action = \"reject\"; },\n"  \
	"  { name = \"logged\"; key = \"recipient\"; window = 60; limit = 5; action = \"log\"; } " \
	");\n"
static const char P_GREY[] = BASE "greylisting = { mode = \"enforce\"; };\n" STATE_RULES
                                  "recipients = { " RCPT_LIMITS " };\n";
static const char P_GREY_LOG[] =
    BASE "greylisting = { mode = \"log\"; };\n" STATE_RULES "recipients = { " RCPT_LIMITS " };\n";
static const char P_GREY_TAG[] = BASE "greylisting = { mode = \"tag\"; };\n"
                                      "recipients = { " RCPT_LIMITS " };\n";
static const char P_GREY_DRY[] =
    BASE "dry_run = true;\ngreylisting = { mode = \"enforce\"; };\n" STATE_RULES
         "recipients = { " RCPT_LIMITS " };\n";
static const char P_GREY_TEMPFAIL[] = BASE "state = { on_failure = \"tempfail\"; };\n"
                                           "greylisting = { mode = \"enforce\"; };\n" STATE_RULES
                                           "recipients = { " RCPT_LIMITS " };\n";
static const char P_GREY_LOG_TEMPFAIL[] = BASE "state = { on_failure = \"tempfail\"; };\n"
                                               "greylisting = { mode = \"log\"; };\n"
                                               "recipients = { " RCPT_LIMITS " };\n";

/* rule_named - the policy's rate-limit rule called name */
static const struct ratelimit_rule *rule_named(const struct policy *p, const char *name)
{
	for (size_t i = 0; i < p->ratelimit.nrules; i++)
		if (strcmp(p->ratelimit.rules[i].name, name) == 0)
			return &p->ratelimit.rules[i];
	fail_msg("no rule %s", name);
	return NULL;
}

/* want - the verdict's action, would, reply, check, reason and rule */
static void want(const struct pm_verdict *v, const char *what, enum pm_verdict_action action,
                 bool would, enum pm_reply_id reply, const char *check, const char *reason,
                 const char *rule)
{
	const char *c = pm_check_id_name(v->check), *r = pm_reason_name(v->reason);

	if (v->action != action || v->would != would || (check != NULL && v->reply != reply) ||
	    (c == NULL) != (check == NULL) || (c != NULL && strcmp(c, check) != 0) ||
	    (r == NULL) != (reason == NULL) || (r != NULL && strcmp(r, reason) != 0) ||
	    (v->rule == NULL) != (rule == NULL) || (rule != NULL && strcmp(v->rule, rule) != 0))
		fail_msg("case %s: got %s would %d reply %d %s/%s/%s, want %s would %d reply %d "
		         "%s/%s/%s",
		         what, pm_verdict_action_name(v->action), v->would, (int)v->reply,
		         c ? c : "-", r ? r : "-", v->rule ? v->rule : "-",
		         pm_verdict_action_name(action), would, (int)reply, check ? check : "-",
		         reason ? reason : "-", rule ? rule : "-");
}

/* test_greylist - the greylisting states at RCPT, modes, dry run, skips */
static void test_greylist(void **state)
{
	struct policy *p = load(P_GREY), *log = load(P_GREY_LOG), *tag = load(P_GREY_TAG),
	              *dry = load(P_GREY_DRY), *off;
	struct pm_facts f = {RCPT, .rcpt = RCPT_VALID, .greylist = GL_NEW, .greylist_retry = 300};
	struct pm_verdict v;
	char buf[600];
	const struct pm_reply_vars vars = {.rcpt = "bob@example.org", .retry = "300"};
	static const enum greylist_state through[] = {GL_NONE,  GL_SKIPPED, GL_PASSED,
	                                              GL_KNOWN, GL_AUTO,    GL_ERROR};

	(void)state;
	verdict_decide(&f, p, &v);
	want(&v, "new", PM_V_TEMPFAIL, false, PM_R_GREYLISTED, "greylist", "greylisted",
	     "greylisting.delay");
	assert_int_equal(p->replies[v.reply].code, 451);
	assert_string_equal(p->replies[v.reply].xcode, "4.7.1");
	reply_expand(&p->replies[v.reply], &vars, buf, sizeof(buf));
	if (strstr(buf, "retry in 300 seconds") == NULL || strstr(buf, "<bob@example.org>") == NULL)
		fail_msg("greylisted reply: got \"%s\"", buf);
	f.greylist = GL_EARLY;
	verdict_decide(&f, p, &v);
	want(&v, "early", PM_V_TEMPFAIL, false, PM_R_GREYLISTED, "greylist", "greylisted",
	     "greylisting.delay");
	for (size_t i = 0; i < PM_ARRAY_LEN(through); i++) {
		char what[32];

		f.greylist = through[i];
		verdict_decide(&f, p, &v);

		snprintf(what, sizeof(what), "state %d", (int)through[i]);
		want(&v, what, PM_V_CONTINUE, false, PM_R_COUNT, NULL, NULL, NULL);
	}
	/* log and tag: a "would"; dry run: a "would" flagged dry_run */
	f.greylist = GL_NEW;
	verdict_decide(&f, log, &v);
	want(&v, "log", PM_V_CONTINUE, true, PM_R_GREYLISTED, "greylist", "greylisted",
	     "greylisting.delay");
	verdict_decide(&f, tag, &v);
	want(&v, "tag", PM_V_CONTINUE, true, PM_R_GREYLISTED, "greylist", "greylisted",
	     "greylisting.delay");
	verdict_decide(&f, dry, &v);
	want(&v, "dry run", PM_V_CONTINUE, true, PM_R_GREYLISTED, "greylist", "greylisted",
	     "greylisting.delay");
	assert_true(v.dry_run);
	/* trusted, authenticated, an allow list in force: never greylisted */
	f.trusted = true;
	verdict_decide(&f, p, &v);
	want(&v, "trusted", PM_V_CONTINUE, false, PM_R_COUNT, NULL, NULL, NULL);
	f.trusted = false;
	f.authenticated = true;
	verdict_decide(&f, p, &v);
	want(&v, "authenticated", PM_V_CONTINUE, false, PM_R_COUNT, NULL, NULL, NULL);
	f.authenticated = false;
	f.list_allow = PM_LIST_BIT(LIST_CLIENT);
	verdict_decide(&f, p, &v);
	assert_int_equal(v.action, PM_V_CONTINUE);
	assert_int_not_equal(v.check, CHK_GREYLIST);
	f.list_allow = 0;
	/* an earlier refusal wins: the recipient table */
	f.rcpt = RCPT_UNKNOWN;
	verdict_decide(&f, p, &v);
	want(&v, "unknown first", PM_V_REJECT, false, PM_R_UNKNOWN_RECIPIENT, "recipients",
	     "unknown_recipient", "recipients.mode=enforce");
	/* greylisting off: the state is not looked at */
	f.rcpt = RCPT_VALID;
	off = load(P_DEFAULT);
	verdict_decide(&f, off, &v);
	want(&v, "off", PM_V_CONTINUE, false, PM_R_COUNT, NULL, NULL, NULL);
	/* not at other stages */
	f.stage = PM_STAGE_MAIL;
	verdict_decide(&f, p, &v);
	assert_int_not_equal(v.check, CHK_GREYLIST);
	policy_release(p);
	policy_release(log);
	policy_release(tag);
	policy_release(dry);
	policy_release(off);
}

/* test_ratelimit_verdict - a rule over its limit: tempfail, reject, log; after greylisting */
static void test_ratelimit_verdict(void **state)
{
	struct policy *p = load(P_GREY), *dry = load(P_GREY_DRY), *log = load(P_GREY_LOG);
	struct pm_facts f = {RCPT, .rcpt = RCPT_VALID, .greylist = GL_PASSED};
	struct pm_verdict v;

	(void)state;
	f.ratelimit = rule_named(p, "per-ip");
	verdict_decide(&f, p, &v);
	want(&v, "tempfail", PM_V_TEMPFAIL, false, PM_R_RATELIMIT_TEMPFAIL, "ratelimit",
	     "ratelimit_exceeded", "ratelimits.per-ip");
	assert_int_equal(p->replies[v.reply].code, 451);
	assert_string_equal(p->replies[v.reply].xcode, "4.7.1");
	f.ratelimit = rule_named(p, "rej");
	verdict_decide(&f, p, &v);
	want(&v, "reject", PM_V_REJECT, false, PM_R_RATELIMIT_REJECT, "ratelimit",
	     "ratelimit_exceeded", "ratelimits.rej");
	assert_int_equal(p->replies[v.reply].code, 550);
	assert_string_equal(p->replies[v.reply].xcode, "5.7.1");
	f.ratelimit = rule_named(p, "logged");
	verdict_decide(&f, p, &v);
	want(&v, "log", PM_V_CONTINUE, true, PM_R_RATELIMIT_TEMPFAIL, "ratelimit",
	     "ratelimit_exceeded", "ratelimits.logged");
	f.ratelimit = rule_named(dry, "rej");
	verdict_decide(&f, dry, &v);
	want(&v, "dry run", PM_V_CONTINUE, true, PM_R_RATELIMIT_REJECT, "ratelimit",
	     "ratelimit_exceeded", "ratelimits.rej");
	assert_true(v.dry_run);
	/* greylisting refuses first */
	f.ratelimit = rule_named(p, "rej");
	f.greylist = GL_NEW;
	verdict_decide(&f, p, &v);
	want(&v, "greylist first", PM_V_TEMPFAIL, false, PM_R_GREYLISTED, "greylist", "greylisted",
	     "greylisting.delay");
	/* a greylisting "would" (log mode) loses to an enforced rate limit */
	f.ratelimit = rule_named(log, "per-ip");
	verdict_decide(&f, log, &v);
	want(&v, "would then limit", PM_V_TEMPFAIL, false, PM_R_RATELIMIT_TEMPFAIL, "ratelimit",
	     "ratelimit_exceeded", "ratelimits.per-ip");
	/* rate limits apply to trusted and authenticated clients too (their rule says) */
	f.greylist = GL_SKIPPED;
	f.ratelimit = rule_named(p, "per-ip");
	f.authenticated = true;
	verdict_decide(&f, p, &v);
	want(&v, "authenticated", PM_V_TEMPFAIL, false, PM_R_RATELIMIT_TEMPFAIL, "ratelimit",
	     "ratelimit_exceeded", "ratelimits.per-ip");
	policy_release(p);
	policy_release(dry);
	policy_release(log);
}

/* test_state_failure - on_failure tempfail: 451 4.3.0; accept: through */
static void test_state_failure(void **state)
{
	struct policy *open = load(P_GREY), *tf = load(P_GREY_TEMPFAIL),
	              *logtf = load(P_GREY_LOG_TEMPFAIL), *dry = load(P_GREY_DRY);
	struct pm_facts f = {RCPT, .rcpt = RCPT_VALID, .greylist = GL_ERROR, .state_error = true};
	struct pm_verdict v;

	(void)state;
	verdict_decide(&f, open, &v);
	want(&v, "accept", PM_V_CONTINUE, false, PM_R_COUNT, NULL, NULL, NULL);
	verdict_decide(&f, tf, &v);
	want(&v, "tempfail", PM_V_TEMPFAIL, false, PM_R_STATE_TEMPFAIL, "state",
	     "state_unavailable", "state.on_failure");
	assert_int_equal(tf->replies[v.reply].code, 451);
	assert_string_equal(tf->replies[v.reply].xcode, "4.3.0");
	/* greylisting in log mode: its failure is a "would" */
	verdict_decide(&f, logtf, &v);
	want(&v, "log mode", PM_V_CONTINUE, true, PM_R_STATE_TEMPFAIL, "state", "state_unavailable",
	     "state.on_failure");
	/* a rate limit's failure: by its action */
	f.greylist = GL_PASSED;
	f.state_error_rule = rule_named(tf, "rej");
	verdict_decide(&f, tf, &v);
	want(&v, "rule", PM_V_TEMPFAIL, false, PM_R_STATE_TEMPFAIL, "state", "state_unavailable",
	     "state.on_failure");
	f.state_error_rule = rule_named(tf, "logged");
	verdict_decide(&f, tf, &v);
	want(&v, "log rule", PM_V_CONTINUE, true, PM_R_STATE_TEMPFAIL, "state", "state_unavailable",
	     "state.on_failure");
	f.state_error_rule = rule_named(open, "rej");
	verdict_decide(&f, open, &v);
	want(&v, "rule accept", PM_V_CONTINUE, false, PM_R_COUNT, NULL, NULL, NULL);
	/* trusted: greylisting skipped, its failure cannot be */
	f.state_error_rule = NULL;
	f.greylist = GL_ERROR;
	f.trusted = true;
	verdict_decide(&f, tf, &v);
	want(&v, "trusted", PM_V_CONTINUE, false, PM_R_COUNT, NULL, NULL, NULL);
	f.trusted = false;
	/* dry run: never refused */
	verdict_decide(&f, dry, &v);
	assert_int_equal(v.action, PM_V_CONTINUE);
	policy_release(open);
	policy_release(tf);
	policy_release(logtf);
	policy_release(dry);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_reply_table),
	    cmocka_unit_test(test_names),
	    cmocka_unit_test(test_plan),
	    cmocka_unit_test(test_defaults),
	    cmocka_unit_test(test_null_inputs),
	    cmocka_unit_test(test_singleton_field),
	    cmocka_unit_test(test_reply_expand),
	    cmocka_unit_test(test_expand_configured),
	    cmocka_unit_test(test_action_names),
	    cmocka_unit_test(test_quarantine),
	    cmocka_unit_test(test_domain_in_list),
	    cmocka_unit_test(test_must_sign),
	    cmocka_unit_test(test_must_sign_without_dmarc),
	    cmocka_unit_test(test_overrides),
	    cmocka_unit_test(test_domain_overrides),
	    cmocka_unit_test(test_flags),
	    cmocka_unit_test(test_exempt),
	    cmocka_unit_test(test_greylist),
	    cmocka_unit_test(test_ratelimit_verdict),
	    cmocka_unit_test(test_state_failure),
	};

	return cmocka_run_group_tests(tests, setup, teardown);
}
