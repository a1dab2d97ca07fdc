/*
 * NAME
 *	session 3h - one MTA connection and its current message: state,
 *	lifetime, facts and lookups
 * DESCRIPTION
 *	A struct session lives from connect (or the negotiation) to close;
 *	its struct message from MAIL FROM to end of message, abort, a new
 *	MAIL FROM or HELO. Both hold what the milter learnt (the client,
 *	HELO, sender, accepted recipients, the lookups' outcomes, the list
 *	matches) and nothing of libmilter: milter.c gets a callback's
 *	arguments and macros, calls one function here, and applies one
 *	verdict. session_facts() turns the state into the verdict's struct
 *	pm_facts; the lookups follow verdict_plan(); session_log() writes
 *	the decision record of a verdict.
 */
#ifndef PM_SESSION_H
#define PM_SESSION_H

#include <stdbool.h>
#include <stddef.h>
#include <sys/socket.h>

#include "addr.h"
#include "arc.h"
#include "dkim.h"
#include "dmarc.h"
#include "dns.h"
#include "dnsbl.h"
#include "eom.h"
#include "greylist.h"
#include "iprev.h"
#include "lists.h"
#include "log.h"
#include "policy.h"
#include "ratelimit.h"
#include "sender.h"
#include "spf.h"
#include "store.h"
#include "util.h"
#include "verdict.h"

#define ADDR_TEXT_MAX (ADDR_LOCAL_MAX + ADDR_DOMAIN_MAX + 8)

/* Which allow and block entries matched, and where (list_hit_format text). */
struct list_state {
	unsigned allow, block;       /* PM_LIST_BIT(kind) */
	char *hit[2][PM_LIST_KINDS]; /* [0] allow, [1] block */
};

/* Greylisting's outcome for one accepted recipient, for the end-of-message record. */
struct gl_note {
	enum greylist_state state;
	long age, retry_in;  /* -1: not known */
	const char *skip;    /* static: why skipped, or NULL */
	char *network;       /* NULL when skipped before the triplet was built */
	char *sender, *rcpt; /* normalised */
};

/* One transaction: MAIL FROM to end of message (or abort). */
struct message {
	char *queue_id; /* NULL until the MTA tells ({i}) */
	bool started;   /* MAIL FROM seen */
	enum addr_status sender_status;
	struct pm_addr sender; /* valid when sender_status is ADDR_OK */
	char *sender_text;     /* for logs: "<>", "local@domain" or the path as given */
	struct sender_domain_outcome sender_domain; /* status UNCHECKED when not looked up */
	struct spf_outcome mfrom_spf;               /* result PM_SPF_UNCHECKED when not evaluated */
	char **rcpt_list;                           /* accepted recipients, one string each */
	char **rcpt_domains; /* their domains, for the overrides (NULL: no domain) */
	size_t nrcpt_list;   /* of rcpt_list and rcpt_domains */
	unsigned ar_count;   /* Authentication-Results headers seen so far */
	unsigned *ar_ours;   /* 1-based indices (among those) that claim our authserv-id */
	size_t n_ar_ours;
	unsigned qh_count; /* quarantine headers (dmarc.quarantine_header) that came in */
	bool headers_seen; /* the header callback ran (the verifier is set up then) */
	bool eom_clock;    /* eom_budget is set */
	/* the budget the DKIM key and DMARC lookups share (message_eom_start) */
	struct dns_budget eom_budget;
	struct dkim_verifier *dkim; /* NULL when not verifying this message */
	struct arc_verifier *arc;   /* NULL when not verifying ARC (arc.mode off) */
	unsigned from_count;        /* From header fields */
	char *from_value;           /* the first one's value */
	const char *singles[10];    /* static: the fields of verdict_singleton_field seen once */
	size_t nsingles;
	const char *repeated_field; /* static: the first of them seen a second time, or NULL */
	bool sender_dmarc_done;     /* sender_dmarc holds the MAIL FROM domain's record */
	struct dmarc_record sender_dmarc;
	struct list_state lists;        /* sender (allow and block), recipient (allow: the first
	                                   accepted recipient allowed; block: this RCPT's) */
	unsigned rcpt_allowed;          /* accepted recipients in lists.recipient.allow */
	unsigned rcpt_exempt;           /* accepted recipients in exempt_from_sender_checks */
	struct pm_verdict mail_refusal; /* MAIL FROM's refusal held for RCPT (delayed set) */
	struct gl_note *greylist;       /* accepted recipients greylisting looked at */
	size_t ngreylist;
	struct rl_message ratelimit; /* the rate-limit rules this message counted (and failed) */
	/* the message's _dmarc answers, shared by its walks: last, since at 37 KiB it is
	   most of the message, and message_reset clears only its count (entries are read
	   only below it) */
	struct dmarc_memo dmarc_memo;
};

/* One MTA connection. */
struct session {
	struct policy *policy; /* our reference, released at close */
	struct store *store;   /* the state store (store_acquire at connect), or NULL */
	struct pm_ip ip;       /* AF_UNSPEC: no address (local submission) */
	char addr[PM_IP_STRLEN];
	char *name;
	char *mta_host;   /* the MTA's host name (macro j), or NULL */
	char *mta_daemon; /* its daemon name ({daemon_name}), or NULL */
	char *local_addr; /* the address the client connected to ({if_addr}, {daemon_addr}) */
	char *helo;       /* NULL until HELO/EHLO */
	bool trusted;
	char trusted_net[PM_IP_STRLEN + 8]; /* the block that matched, or "local" */
	bool blocked;
	bool broken; /* state was lost: every stage is an internal error */
	bool authenticated;
	char *auth_user;
	unsigned long proto;         /* the SMFIP_* flags negotiated for this milter connection */
	struct spf_outcome helo_spf; /* result PM_SPF_UNCHECKED until HELO SPF ran */
	bool iprev_applies; /* iprev holds the connect-time result of an iprev check that is on
	                     (a lookup made only for the client name lists is not reported) */
	struct iprev_outcome iprev;
	bool iprev_checked, dnsbl_checked;    /* the lookups made at connect */
	struct dnsbl_outcome dnsbl;           /* zones asked at connect (nzones 0: none) */
	struct pm_decision_dnsbl *dnsbl_hits; /* the listings, for the decision records */
	size_t ndnsbl_hits;
	struct list_state lists; /* client, client_name (connect), helo (the last HELO) */
	char *verified_name;     /* iprev pass: the forward-confirmed PTR name, or NULL */
	unsigned unknown_rcpts;  /* unknown recipients refused in this session */
	unsigned messages;       /* MAIL FROM commands seen in this session */
	struct message msg;
};

/* What RCPT TO found for one recipient (session_rcpt_judge). */
struct rcpt_judgement {
	struct pm_addr addr;     /* parsed, when facts.rcpt_status is ADDR_OK or LOCAL_ONLY */
	char buf[ADDR_TEXT_MAX]; /* text's storage */
	const char *text;        /* the recipient for logs and %{rcpt} */
	const char *domain;      /* its domain, or NULL */
	char *domains[1];        /* facts.domains.rcpt */
	const char *why;         /* the detail for the log (a syntax error, MAIL FROM's why) */
	struct list_state lists; /* this recipient's list matches */
	struct pm_facts facts;
	struct pm_verdict verdict;
	/* greylisting and the rate limits (looked up when the other checks let it through) */
	struct greylist_triplet triplet;
	struct greylist_result grey;          /* state GL_NONE: not looked at */
	const char *grey_skip;                /* static: why skipped */
	bool triplet_set;                     /* triplet holds the triplet */
	char retry[24];                       /* %{retry}: grey.retry_in as text */
	struct pm_decision_greylist rec_grey; /* for its record */
	struct pm_decision_ratelimit rec_rl;
	bool rec_rl_set;
	/* the rules counted for it: last, since its entries are 17 KiB of the 20 and
	   are read only below rl.n (session_rcpt_judge clears the rest) */
	struct rl_rcpt rl;
};

/* session_new - a session on the current policy (NULL when there is no policy yet) */
struct session *session_new(void);
/* session_free - release everything the session holds; NULL is fine */
void session_free(struct session *s);
/* session_count - sessions open now */
unsigned session_count(void);
/* message_reset - forget the transaction; the message is ready for the next MAIL FROM */
void message_reset(struct message *m);

/* list_state_forget - forget the matches of kind k */
void list_state_forget(struct list_state *ls, enum list_kind k);
/* list_state_free - forget every match */
void list_state_free(struct list_state *ls);
/*
 * list_state_match - match one value against the allow and block lists
 * of kind k (ip for LIST_CLIENT, st and a for the address kinds, text for
 * the names) and remember what matched in ls (the kind's old matches are
 * forgotten first)
 */
void list_state_match(const struct policy *p, struct list_state *ls, enum list_kind k,
                      const struct pm_ip *ip, enum addr_status st, const struct pm_addr *a,
                      const char *text);

/* session_facts - the session and message facts every stage shares */
void session_facts(const struct session *s, enum pm_stage stage, struct pm_facts *f);

/* What a verdict is about, beside the session: for its reply and its record. */
struct verdict_ctx {
	enum pm_stage stage;
	const char *rcpt;            /* rcpt: the recipient judged; eom: every accepted one,
	                                comma-separated (for %{rcpt}); else NULL */
	const char *rcpt_domain;     /* rcpt: its domain (%{domain}), or NULL */
	const char *detail;          /* the record's detail when the verdict's rule differs (a
	                                syntax error, SPF's comment), or its rule when there is
	                                no verdict */
	const struct auth_eom *auth; /* eom: what eom_evaluate found, else NULL */
	const char *retry;           /* rcpt: %{retry} of a greylisting refusal, or NULL */
	const struct pm_decision_greylist *greylist;   /* rcpt: the recipient's, or NULL */
	const struct pm_decision_ratelimit *ratelimit; /* rcpt: the rule over its limit, or NULL */
};

/*
 * session_reply_vars - placeholder values for the reply of verdict v; the
 * SPF identity judged goes to identity (identity_size bytes), which vars
 * points into
 */
void session_reply_vars(const struct session *s, const struct pm_verdict *v,
                        const struct verdict_ctx *vc, char *identity, size_t identity_size,
                        struct pm_reply_vars *vars);

/*
 * session_log - one decision record of verdict v (NULL: none, vc->detail
 * is the rule); action and reply say what was (or would be) sent. The
 * recipients are vc->rcpt (the one judged) before end of message, and
 * every accepted one at end of message.
 */
void session_log(const struct session *s, const struct verdict_ctx *vc, const char *action,
                 bool would, const char *reply, const struct pm_verdict *v);

/*
 * session_mta - what the MTA says of itself at connect (each NULL when
 * not given): its host name (macro j), daemon name ({daemon_name}), and
 * the local address the client connected to (Sendmail's {if_addr}, else
 * Postfix's {daemon_addr}; canonical form, a wildcard says nothing)
 */
void session_mta(struct session *s, const char *host, const char *daemon, const char *if_addr,
                 const char *daemon_addr);
/*
 * session_client - the client's name and address (sa NULL or not an
 * address: a local submission, trusted); trusted_networks, client_block
 * and the client lists decide what they can
 */
void session_client(struct session *s, const char *hostname, const struct sockaddr *sa);
/*
 * session_connect_lookups - the lookups verdict_plan asks for at connect:
 * the DNSBLs, then iprev; f (the connect facts) is brought up to date
 */
void session_connect_lookups(struct session *s, struct pm_facts *f);
/* session_helo - a new HELO name: the transaction reset, the HELO lists, HELO SPF */
void session_helo(struct session *s, const char *helo);
/*
 * session_mail - a new message from sender raw (auth_user: the SMTP AUTH
 * name, or NULL): its syntax, the sender lists, the lookups, and the
 * verdict v; a refusal held for RCPT is kept in the message
 */
void session_mail(struct session *s, const char *raw, const char *auth_user, struct pm_verdict *v);
/* session_mail_lookups - the lookups verdict_plan asks for at MAIL FROM */
void session_mail_lookups(struct session *s);
/* session_mail_why - the detail of a MAIL FROM verdict: iprev's or SPF's comment, or NULL */
const char *session_mail_why(const struct session *s, const struct pm_verdict *v);

/*
 * session_rcpt_judge - parse the recipient raw, look it up (recipient
 * table, lists, exemption) and ask the verdict: j->verdict, with the text,
 * domain and detail apply_verdict needs. When the verdict lets it
 * through (a "would" too), greylisting is looked up in the store, the
 * verdict asked again, then (still through) the rate limits counted and
 * the verdict asked a last time.
 */
void session_rcpt_judge(struct session *s, const char *raw, struct rcpt_judgement *j);
/* session_rcpt_ctx - what the record and the reply of j's verdict need */
void session_rcpt_ctx(const struct rcpt_judgement *j, struct verdict_ctx *vc);
/*
 * session_rcpt_done - the recipient was accepted (or not): count it and
 * keep it in the message (with its greylisting and its rate-limit
 * counts; a recipient not accepted has its counts taken back); frees
 * what j holds
 */
void session_rcpt_done(struct session *s, struct rcpt_judgement *j, bool accepted);

/* session_message_auth - are DKIM, DMARC or ARC evaluated for this message (verdict_plan)? */
bool session_message_auth(const struct session *s);
/* message_headers_begin - the first header of a message: set up the DKIM and ARC verifiers */
void message_headers_begin(struct session *s, bool leadspc);
/*
 * message_header - one header field (name NULL: none): fed to the DKIM
 * and ARC verifiers; the From fields (the first kept), the fields RFC 5322 allows
 * once, the Authentication-Results claiming our authserv-id and the
 * incoming quarantine headers are counted
 */
void message_header(struct session *s, const char *name, const char *value, bool leadspc);
/* message_eoh - end of headers: the budget of end of message starts; the verifier is told */
void message_eoh(struct session *s, bool leadspc);
/* message_eom_start - start the budget of end of message, once per message */
void message_eom_start(struct session *s);
/*
 * session_eom_input - the session's and the message's facts end of
 * message reads (eom.h); the verifiers are set up first and the budget
 * of end of message started when DKIM, DMARC or ARC are evaluated
 */
void session_eom_input(struct session *s, bool leadspc, struct eom_input *in);
/* session_eom_facts - the end-of-message facts, with what eom_evaluate found in a */
void session_eom_facts(const struct session *s, const struct auth_eom *a, struct pm_facts *f);
/* message_rcpts_text - the accepted recipients, comma-separated, into sb; NULL when none */
const char *message_rcpts_text(const struct message *m, struct strbuf *sb);

#endif
