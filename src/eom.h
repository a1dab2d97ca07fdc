/*
 * NAME
 *	eom 3h - end of message: From, DKIM, DMARC, must_sign and our
 *	Authentication-Results value, from the message's facts
 * DESCRIPTION
 *	No libmilter: session.c gathers the facts of the session and the
 *	message into a struct eom_input, eom_evaluate() computes what they
 *	say about the message's authentication (struct auth_eom), session.c
 *	hands that to the verdict as facts, and eom_authres_value() builds
 *	the Authentication-Results value for a message that goes on. The
 *	eom fuzz target (tests/fuzz/eom.c) calls the same two functions.
 */
#ifndef PM_EOM_H
#define PM_EOM_H

#include <stdbool.h>

#include "addr.h"
#include "arc.h"
#include "arctrust.h"
#include "dkim.h"
#include "dmarc.h"
#include "dns.h"
#include "hdrfrom.h"
#include "policy.h"
#include "verdict.h"

/* What end of message found out about the message's authentication. */
struct auth_eom {
	bool checked;   /* DKIM/DMARC evaluated at all */
	bool dkim_done; /* dkim holds this message's results */
	struct dkim_results dkim;
	enum from_status from;
	const char *from_why; /* why the From header is not usable (or, FROM_OK with
	                         from_name_address, name_why) */
	char author[HDRFROM_DOMAIN_MAX + 1];
	bool from_name_address; /* the display name shows another domain's address */
	char name_why[HDRFROM_DOMAIN_MAX + 64];
	struct dmarc_record rec;
	struct dmarc_outcome dmarc; /* result UNCHECKED when not evaluated */
	enum pm_mode dmarc_mode;    /* after the overrides */
	enum pm_dmarc_policy disposition;
	const char *dmarc_rule;
	enum must_sign_status must_sign;
	bool sender_aligned; /* the MAIL FROM domain has the author's organizational domain
	                        (by dmarc.discovery's method) */
	bool arc_done;       /* arc holds this message's ARC result (free with eom_free) */
	struct arc_result arc;
	struct arctrust_rescue arc_rescue; /* rescued: the oldest trusted sealer vouched for a
	                                      DMARC fail (applied or, arc.mode log, not) */
	bool arc_override; /* the rescue applied (arc.mode tag or enforce): disposition none,
	                      dmarc_rule "arc.trusted_sealers" */
};

/* The facts of the session and the message that end of message reads. */
struct eom_input {
	const struct policy *policy;
	const char *queue_id; /* for the log lines; NULL: not known yet */
	bool trusted, authenticated;
	bool broken;               /* the session lost its state: nothing is evaluated */
	const char *auth_user;     /* authenticated: the SMTP AUTH name */
	const char *trusted_net;   /* trusted: the block that matched, or "local" */
	struct pm_domains domains; /* for the overrides: the sender's and every recipient's */
	const char *client_addr;   /* text */
	bool iprev_applies;        /* iprev holds the result of an iprev check that is on */
	enum pm_iprev_result iprev;
	const char *iprev_why;       /* the name that passed, or why not; NULL or "": none */
	const char *helo;            /* NULL until HELO */
	enum pm_spf_result helo_spf; /* PM_SPF_UNCHECKED when not evaluated */
	enum addr_status sender_status;
	const struct pm_addr *sender;            /* when sender_status is ADDR_OK */
	enum pm_spf_result mfrom_spf;            /* PM_SPF_UNCHECKED when not evaluated */
	const char *mfrom_spf_domain;            /* the domain SPF evaluated; NULL or "": none */
	const char *mfrom_spf_comment;           /* NULL or "": none */
	const struct dmarc_record *sender_dmarc; /* MAIL FROM domain's record, or NULL */
	struct dmarc_memo *dmarc_memo;           /* the message's _dmarc answers, or NULL */
	struct dkim_verifier *dkim;              /* NULL when not verifying this message */
	struct arc_verifier *arc;                /* NULL when not verifying ARC */
	unsigned from_count;                     /* From header fields */
	const char *from_value;                  /* the first one's value */
	const char *repeated_field; /* the first field allowed once seen twice, or NULL */
	struct dns_budget *budget;  /* for the author domain's DMARC lookup */
	unsigned pct_roll;          /* 0..99, for the record's pct= */
};

/*
 * eom_evaluate - DKIM results (the verifier's end of message), the ARC
 * chain (in->arc), the From header, DMARC and must_sign for the message
 * that just ended (nothing for trusted or authenticated clients, or a
 * broken session); then the ARC rescue of a DMARC fail whose reject or
 * quarantine would apply (arctrust.h: arc.mode log notes it in
 * a->arc_rescue, tag and enforce also apply it: a->arc_override). Every
 * DKIM signature that did not pass, and an ARC chain that did not pass,
 * gets a log line. Free *a with eom_free.
 */
void eom_evaluate(const struct eom_input *in, struct auth_eom *a);

/* eom_free - release what eom_evaluate left in *a (DKIM and ARC results); a stays valid */
void eom_free(struct auth_eom *a);

/*
 * eom_authres_value - our Authentication-Results value for the message,
 * tagged as the modes in force for it say, with a comment naming the
 * allow list when the verdict v is an allow; the caller frees
 */
char *eom_authres_value(const struct eom_input *in, const struct auth_eom *a,
                        const struct pm_verdict *v);

#endif
