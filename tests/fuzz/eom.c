/*
 * NAME
 *	fuzz eom - libFuzzer target for the end-of-message path, fed a raw message
 * DESCRIPTION
 *	Input: a raw message, headers and body, CRLF or LF. It is cut the
 *	way the MTA hands it to the milter (one callback per header field,
 *	name and value apart, folded lines kept in the value; the headers
 *	end at an empty line or at a line that is no header field; the body
 *	in 65535-byte chunks) and goes through the pure modules in the order
 *	src/milter.c (through src/session.c) calls them:
 *
 *	  mi_header   dkim_verify_header for each field; the From fields
 *	              counted (the first kept), the fields RFC 5322 allows
 *	              once (verdict_singleton_field) too; each
 *	              Authentication-Results field judged by authres_is_ours
 *	  mi_eoh      dkim_verify_eoh, arc_verify_eoh
 *	  mi_body     dkim_verify_body, arc_verify_body
 *	  mi_eom      eom_evaluate (src/eom.c: dkim_verify_eom, the From
 *	              judgement, verdict_must_sign, verdict_dmarc_overrides,
 *	              dmarc_lookup, dmarc_evaluate, the overrides again);
 *	              verdict_decide; then, for a message going on, our
 *	              Authentication-Results value (eom_authres_value), and
 *	              for a refusal its reply text (reply_expand)
 *
 *	The end-of-message evaluation is the daemon's own (src/eom.c); only
 *	the few lines of session.c glue around it (what session_eom_input
 *	and session_facts gather) are repeated here. Not covered:
 *	the libmilter callbacks themselves (session and message state,
 *	macros, queue ids, the header changes, quarantine and replies sent
 *	through smfi_*), the MAIL FROM and RCPT stages (SPF, the sender
 *	domain, recipients) and the decision records.
 *
 *	What the MTA and DNS would say comes from the message itself, in
 *	header fields any message could carry (they are fed to DKIM like
 *	the others):
 *
 *	  X-Fuzz-Env: policy=0..2 mfrom=ADDR helo=NAME rcpt=ADDR (repeated)
 *	      spf=RESULT helo_spf=RESULT iprev=RESULT pct=0..99 trusted auth
 *	      noleadspc exempt allow=client|client_name|helo|sender|recipient
 *	  X-Fuzz-DNS: NAME TXT text | NAME SERVFAIL | NAME NXDOMAIN
 *
 *	Names no X-Fuzz-DNS field gives are answered from fixed tables: the
 *	test keys of tests/unit/data/dkim (rsa, rsa512, ed, at example.org
 *	and mustsign.test) and a few _dmarc records; anything else is
 *	NXDOMAIN. DNS is answered in the process (dkim key lookup override,
 *	and fake_resolve as the budgets' query function): no network.
 *
 *	Policies (policy=): 0 everything enforced, must_sign, quarantine
 *	by header; 1 tag and log modes, quarantine hold, fail_open, dry_run,
 *	l= allowed, 512-bit keys, two signatures; 2 overrides, domain_modes,
 *	never_enforce, always_reject and allow lists.
 *
 *	With FUZZ_VERBOSE set in the environment each verdict and header
 *	is printed on stderr (to see what a seed does).
 *
 *	Checked besides the sanitizers: DKIM gives at most max_signatures
 *	results, each in range; a refusal's action agrees with its reply's
 *	class; dry_run, trusted and authenticated never refuse here; our
 *	Authentication-Results value is printable ASCII folded with "\n\t",
 *	with closed quotes and comments, and claims our authserv-id, and
 *	for a message the ARC verifier ran on (arc.mode tag or enforce) it
 *	names the ARC result as a method (arc=pass, fail or none; never
 *	for a trusted or authenticated client); a reply
 *	text is printable ASCII, at most 449 bytes, with no '%' the template
 *	did not have.
 */
#include <resolv.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "addr.h"
#include "authres.h"
#include "config.h"
#include "arc.h"
#include "dkim.h"
#include "dmarc.h"
#include "dns.h"
#include "eom.h"
#include "fuzzlib.h"
#include "hdrfrom.h"
#include "policy.h"
#include "util.h"
#include "verdict.h"

#ifndef PM_SRCDIR
#define PM_SRCDIR "."
#endif

#define AR_HEADER  "Authentication-Results"
#define CHUNK      65535 /* Postfix's MILTER_CHUNK_SIZE */
#define NPOLICIES  3
#define MAX_DNS    32
#define MAX_RCPTS  8
#define ADDR_TEXT  (ADDR_LOCAL_MAX * 2 + ADDR_DOMAIN_MAX + 8)
#define DKIM_DIR   PM_SRCDIR "/tests/unit/data/dkim/"
#define AUTHSERVID "mx.example.org"

static enum dns_status fake_resolve(const char *name, int type, int timeout, long left_ms,
                                    const unsigned char **answer, int *answer_len);

static const char *const policy_text[NPOLICIES] = {
    "authserv_id = \"" AUTHSERVID "\";\n"
    "recipients: { domains = [ \"example.org\", \"example.net\" ]; };\n"
    "iprev: { mode = \"enforce\"; };\n"
    "dkim: { mode = \"enforce\"; must_sign = [ \"mustsign.test\" ]; };\n"
    "dmarc: { mode = \"enforce\"; quarantine = \"tag\"; };\n"
    "arc: { mode = \"enforce\"; trusted_sealers = [ \"example.org\", \"forwarder.test\" ]; };\n"
    "headers: { singletons = \"enforce\"; };\n",

    "authserv_id = \"" AUTHSERVID "\";\n"
    "dry_run = true;\n"
    "spf: { mode = \"tag\"; helo_mode = \"log\"; };\n"
    "dkim: { mode = \"log\"; max_signatures = 2; allow_l = true; min_key_bits = 512;\n"
    "        must_sign = [ \"example.org\" ]; };\n"
    "dmarc: { mode = \"tag\"; quarantine = \"hold\"; fail_open = true; };\n"
    "arc: { mode = \"log\"; trusted_sealers = [ \"example.org\" ]; max_sets = 3; };\n"
    "headers: { singletons = \"log\"; };\n",

    "authserv_id = \"" AUTHSERVID "\";\n"
    "recipients: { domains = [ \"example.org\", \"ov.example.net\" ];\n"
    "              exempt_from_sender_checks = [ \"postmaster\", \"abuse\", "
    "\"x@example.org\" ]; };\n"
    "dkim: { mode = \"enforce\"; must_sign = [ \"example.org\", \"mustsign.test\" ]; };\n"
    "dmarc: { mode = \"enforce\"; quarantine = \"tag\"; spf_fail_at_mail = false;\n"
    "         never_enforce = [ \"forwarder.test\" ]; always_reject = [ \"example.com\" ];\n"
    "         domain_modes = ( { domain = \"none.example\"; mode = \"log\"; } ); };\n"
    "lists: { sender: { allow = [ \"partner@example.net\" ]; };\n"
    "         recipient: { allow = [ \"allowed@example.org\" ]; }; };\n"
    "overrides = ( { for_recipient_domain = \"ov.example.net\"; dmarc = \"log\"; },\n"
    "              { for_sender_domain = \"example.com\"; dkim = \"tag\"; } );\n",
};

static struct policy *policies[NPOLICIES];

/* The fixed DKIM key records: name, and the file of tests/unit/data/dkim holding the record. */
static const struct {
	const char *name, *file;
} key_files[] = {
    {"rsa._domainkey.example.org", "test-rsa2048.txt"},
    {"rsa512._domainkey.example.org", "test-rsa512.txt"},
    {"ed._domainkey.example.org", "test-ed25519.txt"},
    {"rsa._domainkey.mustsign.test", "test-rsa2048.txt"},
};
static char *key_text[sizeof(key_files) / sizeof(key_files[0])];

/* The fixed DMARC records. */
static const struct {
	const char *name, *text;
} dmarc_fixed[] = {
    {"_dmarc.example.org", "v=DMARC1; p=reject"},
    {"_dmarc.mustsign.test", "v=DMARC1; p=reject; adkim=s; aspf=s"},
    {"_dmarc.quarantine.example", "v=DMARC1; p=quarantine; pct=50"},
    {"_dmarc.none.example", "v=DMARC1; p=none; sp=reject"},
    {"_dmarc.example.com", "v=DMARC1; p=reject; sp=quarantine"},
    {"_dmarc.example.net", "v=DMARC1; p=quarantine"},
};

/* One X-Fuzz-DNS answer. */
enum fake_kind { FAKE_TXT, FAKE_SERVFAIL, FAKE_NXDOMAIN };
struct fake {
	char name[256];
	enum fake_kind kind;
	char *text;
};

/* What the MTA said of the session and the message (X-Fuzz-Env). */
struct env {
	int policy;
	char mfrom[ADDR_TEXT], helo[256];
	char rcpt[MAX_RCPTS][ADDR_TEXT];
	size_t nrcpt;
	enum pm_spf_result spf, helo_spf;
	enum pm_iprev_result iprev;
	unsigned pct, allow;
	bool trusted, auth, leadspc, exempt;
	struct fake dns[MAX_DNS];
	size_t ndns;
};

static struct env env;
static bool verbose; /* FUZZ_VERBOSE set: each verdict on stderr */
static unsigned char dns_buf[65536];

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
	struct config_errors errs;

	(void)argc;
	(void)argv;
	verbose = getenv("FUZZ_VERBOSE") != NULL;
	for (size_t i = 0; i < PM_ARRAY_LEN(key_files); i++) {
		char path[1024];

		snprintf(path, sizeof(path), "%s%s", DKIM_DIR, key_files[i].file);
		if ((key_text[i] = fuzz_slurp_line(path)) == NULL) {
			fprintf(stderr, "fuzz eom: cannot read %s\n", path);
			abort();
		}
	}
	for (int i = 0; i < NPOLICIES; i++) {
		const char *path = fuzz_path(0, "policy.conf");

		fuzz_write(path, policy_text[i], strlen(policy_text[i]));
		policies[i] = config_load(path, &errs);
		if (policies[i] == NULL) {
			fprintf(stderr, "fuzz eom: policy %d:\n", i);
			for (size_t j = 0; j < errs.n; j++)
				fprintf(stderr, "  %d: %s: %s\n", errs.v[j].line, errs.v[j].key,
				        errs.v[j].message);
			abort();
		}
		config_errors_free(&errs);
	}
	return 0;
}

/* ---- DNS ----------------------------------------------------------- */

/* name_eq - DNS names equal, case-insensitively, a final dot ignored */
static bool name_eq(const char *a, const char *b)
{
	size_t la = strlen(a), lb = strlen(b);

	if (la > 0 && a[la - 1] == '.')
		la--;
	if (lb > 0 && b[lb - 1] == '.')
		lb--;
	return la == lb && strncasecmp(a, b, la) == 0;
}

/* key_lookup - the DKIM key lookup override: X-Fuzz-DNS, then the test keys */
static enum dkim_key_status key_lookup(const char *name, char **record, void *arg)
{
	size_t found = 0;
	const char *text = NULL;

	(void)arg;
	for (size_t i = 0; i < env.ndns; i++) {
		if (!name_eq(env.dns[i].name, name))
			continue;
		if (env.dns[i].kind == FAKE_SERVFAIL)
			return DKIM_KEY_TEMPFAIL;
		if (env.dns[i].kind == FAKE_NXDOMAIN)
			return DKIM_KEY_NOTFOUND;
		if (found++ == 0)
			text = env.dns[i].text;
	}
	if (found > 1)
		return DKIM_KEY_MULTIPLE;
	if (found == 1) {
		*record = xstrdup(text);
		return DKIM_KEY_FOUND;
	}
	for (size_t i = 0; i < PM_ARRAY_LEN(key_files); i++)
		if (name_eq(key_files[i].name, name)) {
			*record = xstrdup(key_text[i]);
			return DKIM_KEY_FOUND;
		}
	return DKIM_KEY_NOTFOUND;
}

/* fake_resolve - the _dmarc lookups: X-Fuzz-DNS, then the fixed records */
static enum dns_status fake_resolve(const char *name, int type, int timeout, long left_ms,
                                    const unsigned char **answer, int *answer_len)
{
	static unsigned char rdata[MAX_DNS][8192];
	struct fuzz_rr rr[MAX_DNS];
	size_t n = 0, len;

	(void)timeout;
	if (!dns_name_ok(name))
		return DNS_NXDOMAIN; /* as dns.c: "_dmarc." and a 250-byte name is no name */
	if (left_ms == 0 || left_ms < -1)
		return DNS_TEMPFAIL;
	for (size_t i = 0; i < env.ndns; i++) {
		if (!name_eq(env.dns[i].name, name))
			continue;
		if (env.dns[i].kind == FAKE_SERVFAIL)
			return DNS_TEMPFAIL;
		if (env.dns[i].kind == FAKE_NXDOMAIN)
			return DNS_NXDOMAIN;
		len = fuzz_txt_rdata(env.dns[i].text, strlen(env.dns[i].text), rdata[n],
		                     sizeof(rdata[n]));
		if (len == 0)
			continue;
		rr[n].type = ns_t_txt;
		rr[n].klass = ns_c_in;
		rr[n].rdata = rdata[n];
		rr[n].rdlen = len;
		n++;
	}
	for (size_t i = 0; n == 0 && i < PM_ARRAY_LEN(dmarc_fixed); i++)
		if (name_eq(dmarc_fixed[i].name, name)) {
			rr[0].type = ns_t_txt;
			rr[0].klass = ns_c_in;
			rr[0].rdlen =
			    fuzz_txt_rdata(dmarc_fixed[i].text, strlen(dmarc_fixed[i].text),
			                   rdata[0], sizeof(rdata[0]));
			rr[0].rdata = rdata[0];
			n = 1;
		}
	if (n == 0 || type != ns_t_txt)
		return DNS_NXDOMAIN;
	*answer_len = (int)fuzz_dns_build(dns_buf, sizeof(dns_buf), name, type, 0, rr, n);
	FUZZ_CHECK(*answer_len > 0, "answer does not fit");
	*answer = dns_buf;
	return DNS_OK;
}

/* ---- the message ---------------------------------------------------- */

/* word_after - the value of "key=" in a token, or NULL */
static const char *word_after(const char *tok, const char *key)
{
	size_t n = strlen(key);

	return strncmp(tok, key, n) == 0 ? tok + n : NULL;
}

/* spf_result - an SPF result by name (unchecked for anything else) */
static enum pm_spf_result spf_result(const char *s)
{
	for (int r = PM_SPF_NONE; r < PM_SPF_NRESULTS; r++)
		if (strcmp(s, pm_spf_result_name((enum pm_spf_result)r)) == 0)
			return (enum pm_spf_result)r;
	return PM_SPF_UNCHECKED;
}

/* read_env - the X-Fuzz-Env and X-Fuzz-DNS fields of the message */
static void read_env(const struct fuzz_message *m)
{
	static const char *const kinds[] = {"client", "client_name", "helo", "sender", "recipient"};

	memset(&env, 0, sizeof(env));
	env.leadspc = true;
	env.spf = PM_SPF_NONE;
	snprintf(env.helo, sizeof(env.helo), "client.example.net");
	for (size_t i = 0; i < m->n; i++) {
		char *v, *tok, *save = NULL;

		if (strcasecmp(m->f[i].name, "X-Fuzz-DNS") == 0 && env.ndns < MAX_DNS) {
			struct fake *fk = &env.dns[env.ndns];
			char kind[16];
			int off = 0;

			v = m->f[i].value;
			if (sscanf(v, " %255s %15s %n", fk->name, kind, &off) < 2)
				continue;
			if (strcmp(kind, "SERVFAIL") == 0)
				fk->kind = FAKE_SERVFAIL;
			else if (strcmp(kind, "NXDOMAIN") == 0)
				fk->kind = FAKE_NXDOMAIN;
			else if (strcmp(kind, "TXT") == 0)
				fk->kind = FAKE_TXT;
			else
				continue;
			fk->text = v + off;
			env.ndns++;
			continue;
		}
		if (strcasecmp(m->f[i].name, "X-Fuzz-Env") != 0)
			continue;
		v = xstrdup(m->f[i].value);
		for (tok = strtok_r(v, " \t\r\n", &save); tok != NULL;
		     tok = strtok_r(NULL, " \t\r\n", &save)) {
			const char *a;

			if ((a = word_after(tok, "policy=")) != NULL)
				env.policy = (int)(strtoul(a, NULL, 10) % NPOLICIES);
			else if ((a = word_after(tok, "mfrom=")) != NULL)
				snprintf(env.mfrom, sizeof(env.mfrom), "%s", a);
			else if ((a = word_after(tok, "helo=")) != NULL)
				snprintf(env.helo, sizeof(env.helo), "%s", a);
			else if ((a = word_after(tok, "rcpt=")) != NULL && env.nrcpt < MAX_RCPTS)
				snprintf(env.rcpt[env.nrcpt++], sizeof(env.rcpt[0]), "%s", a);
			else if ((a = word_after(tok, "spf=")) != NULL)
				env.spf = spf_result(a);
			else if ((a = word_after(tok, "helo_spf=")) != NULL)
				env.helo_spf = spf_result(a);
			else if ((a = word_after(tok, "iprev=")) != NULL)
				env.iprev = (enum pm_iprev_result)(strtoul(a, NULL, 10) % 5);
			else if ((a = word_after(tok, "pct=")) != NULL)
				env.pct = (unsigned)(strtoul(a, NULL, 10) % 100);
			else if ((a = word_after(tok, "allow=")) != NULL) {
				for (size_t k = 0; k < PM_ARRAY_LEN(kinds); k++)
					if (strcmp(a, kinds[k]) == 0)
						env.allow |= PM_LIST_BIT(k);
			} else if (strcmp(tok, "trusted") == 0)
				env.trusted = true;
			else if (strcmp(tok, "auth") == 0)
				env.auth = true;
			else if (strcmp(tok, "noleadspc") == 0)
				env.leadspc = false;
			else if (strcmp(tok, "exempt") == 0)
				env.exempt = true;
		}
		free(v);
	}
}

/* ---- the milter's glue, as in src/session.c ------------------------ */

/* The envelope as parsed at MAIL FROM and RCPT TO. */
struct envelope {
	enum addr_status sender_status;
	struct pm_addr sender;
	char spf_domain[256];
	struct pm_addr rcpt[MAX_RCPTS];
	char *rcpt_domains[MAX_RCPTS];
	size_t nrcpt;
	bool sender_has_dmarc;
	struct pm_domains domains;
};

/* fake_query - a budget's query function: fake_resolve */
static enum dns_status fake_query(void *arg, const char *name, int type, int timeout, long left_ms,
                                  const unsigned char **answer, int *answer_len)
{
	(void)arg;
	return fake_resolve(name, type, timeout, left_ms, answer, answer_len);
}

/* budget - *b as session.c builds it for one MTA command, querying through fake_query */
static struct dns_budget *budget(const struct policy *p, struct dns_budget *b)
{
	dns_budget_init(b, p->spf.dns_timeout, p->spf.timeout);
	b->query = fake_query;
	return b;
}

/* envelope - MAIL FROM and the RCPTs of env, parsed; the sender's DMARC record looked up */
static void envelope(const struct policy *p, struct envelope *e)
{
	const char *why;
	struct dmarc_record rec;
	struct dns_budget b;

	memset(e, 0, sizeof(*e));
	e->sender_status =
	    addr_parse(env.mfrom, strlen(env.mfrom), ADDR_ALLOW_NULL, &e->sender, &why);
	if (e->sender_status != ADDR_OK) {
		e->sender_status = ADDR_NULL; /* a bad one was refused at MAIL FROM */
		memset(&e->sender, 0, sizeof(e->sender));
		snprintf(e->spf_domain, sizeof(e->spf_domain), "%s", env.helo);
	} else {
		snprintf(e->spf_domain, sizeof(e->spf_domain), "%s", e->sender.domain);
		if (!e->sender.domain_is_literal)
			e->domains.sender = e->sender.domain;
	}
	for (size_t i = 0; i < env.nrcpt; i++) {
		enum addr_status st = addr_parse(env.rcpt[i], strlen(env.rcpt[i]),
		                                 ADDR_ALLOW_LOCAL_ONLY, &e->rcpt[e->nrcpt], &why);

		if (st != ADDR_OK && st != ADDR_LOCAL_ONLY)
			continue; /* refused at RCPT */
		e->rcpt_domains[e->nrcpt] = st == ADDR_OK ? e->rcpt[e->nrcpt].domain : NULL;
		e->nrcpt++;
	}
	e->domains.rcpt = e->rcpt_domains;
	e->domains.nrcpt = e->nrcpt;
	/* mi_envfrom: does the sender domain publish DMARC (an SPF fail may wait for it) */
	if (e->domains.sender != NULL && policy_dmarc_on(p)) {
		dmarc_lookup(p->psl, e->domains.sender, budget(p, &b), &rec);
		e->sender_has_dmarc =
		    rec.status == DMARC_REC_FOUND || rec.status == DMARC_REC_TEMPFAIL;
	}
}

/*
 * eom_input_of - what session.c session_eom_input gathers, from env and the
 * envelope e (no DMARC record kept from MAIL FROM: the author domain's
 * is always looked up)
 */
static void eom_input_of(const struct policy *p, const struct envelope *e,
                         struct dkim_verifier *dkim, unsigned from_count, const char *from_value,
                         const char *repeated_field, struct dns_budget *b, struct eom_input *in)
{
	memset(in, 0, sizeof(*in));
	in->policy = p;
	in->queue_id = "FUZZ";
	in->trusted = env.trusted;
	in->authenticated = env.auth;
	in->auth_user = "fuzz-user";
	in->trusted_net = "192.0.2.0/24";
	in->domains = e->domains;
	in->client_addr = "192.0.2.1";
	in->iprev_applies = env.iprev != PM_IPREV_UNCHECKED;
	in->iprev = env.iprev;
	in->helo = env.helo;
	in->helo_spf = env.helo_spf;
	in->sender_status = e->sender_status;
	in->sender = &e->sender;
	in->mfrom_spf = env.spf;
	in->mfrom_spf_domain = e->spf_domain;
	in->dkim = dkim;
	in->from_count = from_count;
	in->from_value = from_value;
	in->repeated_field = repeated_field;
	in->budget = budget(p, b);
	in->pct_roll = env.pct;
}

/* ---- checks -------------------------------------------------------- */

/* check_header - our Authentication-Results value */
static void check_header(const char *v, const char *id)
{
	int depth = 0;
	bool quoted = false;

	for (const char *p = v; *p; p++) {
		unsigned char c = (unsigned char)*p;

		if (c == '\n') {
			FUZZ_CHECK(p[1] == '\t', "LF not followed by TAB in \"%s\"", v);
			continue;
		}
		FUZZ_CHECK(c == '\t' || (c >= 0x20 && c <= 0x7e), "byte 0x%02x in \"%s\"", c, v);
		if (c == '\\' && (quoted || depth > 0) && p[1] != '\0')
			p++;
		else if (quoted)
			quoted = c != '"';
		else if (c == '"' && depth == 0)
			quoted = true;
		else if (c == '(')
			depth++;
		else if (c == ')')
			FUZZ_CHECK(--depth >= 0, "stray ')' in \"%s\"", v);
	}
	FUZZ_CHECK(!quoted && depth == 0, "unclosed quote or comment in \"%s\"", v);
	FUZZ_CHECK(authres_is_ours(v, id), "our header \"%s\" is not ours", v);
}

/* check_reply - the reply text a refusal would send, with the message's values in it */
static void check_reply(const struct policy *p, const struct envelope *e, const struct auth_eom *a,
                        const struct pm_verdict *v, const char *repeated_field)
{
	const struct pm_reply *r = &p->replies[v->reply];
	struct pm_reply_vars vars;
	char buf[1024], sender[ADDR_TEXT];
	int pct_template = 0, pct_text = 0;

	memset(&vars, 0, sizeof(vars));
	vars.ip = "192.0.2.1";
	vars.helo = env.helo;
	vars.sender =
	    e->sender_status == ADDR_OK ? addr_format(&e->sender, sender, sizeof(sender)) : "";
	vars.rcpt = env.nrcpt > 0 ? env.rcpt[0] : NULL;
	vars.domain = a->author;
	vars.identity = env.mfrom;
	vars.result = v->check == CHK_HEADERS ? repeated_field
	              : v->check == CHK_ARC   ? a->arc.reason
	                                      : a->from_why;
	reply_expand(r, &vars, buf, sizeof(buf));
	FUZZ_CHECK(fuzz_printable(buf) && strlen(buf) <= 449, "reply text \"%s\"", buf);
	for (const char *s = r->text; *s; s++)
		pct_template += *s == '%';
	for (const char *s = buf; *s; s++)
		pct_text += *s == '%';
	FUZZ_CHECK(pct_text <= pct_template, "'%%' from a value in the reply \"%s\"", buf);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct fuzz_message m;
	struct envelope e;
	struct dkim_verify_settings ds;
	struct dkim_verifier *dkim = NULL;
	struct arc_verify_settings as;
	struct arc_verifier *arc = NULL;
	struct auth_eom a;
	struct eom_input in;
	struct dns_budget b;
	struct pm_facts f;
	struct pm_verdict v;
	const struct policy *p;
	unsigned from_count = 0;
	char *from_value = NULL;
	const char *singles[10], *repeated_field = NULL;
	size_t nsingles = 0;

	fuzz_message_split(data, size, &m);
	read_env(&m);
	p = policies[env.policy];
	envelope(p, &e);

	/* headers_begin: a verifier when DKIM or DMARC can run */
	if (!env.trusted && !env.auth &&
	    (policy_check_on(p, PM_CHECK_DKIM) || policy_dmarc_on(p))) {
		dkim_verify_defaults(&ds);
		ds.max_signatures = p->dkim.max_signatures;
		ds.allow_l = p->dkim.allow_l;
		ds.min_key_bits = p->dkim.min_key_bits;
		ds.dns_timeout = p->spf.dns_timeout;
		ds.leadspc = env.leadspc;
		ds.key_lookup = key_lookup;
		dkim = dkim_verify_new(&ds, "FUZZ");
	}
	/* and an ARC verifier unless arc.mode is off (the same key records) */
	if (!env.trusted && !env.auth && p->arc.mode != PM_MODE_OFF) {
		arc_verify_defaults(&as);
		as.max_sets = (unsigned)p->arc.max_sets;
		as.dns_timeout = p->spf.dns_timeout;
		as.leadspc = env.leadspc;
		as.key_lookup = key_lookup;
		arc = arc_verify_new(&as, "FUZZ");
	}
	/* mi_header */
	for (size_t i = 0; i < m.n; i++) {
		const char *value = m.f[i].value;

		if (!env.leadspc && value[0] == ' ')
			value++; /* libmilter drops the space after the colon */
		if (dkim != NULL)
			dkim_verify_header(dkim, m.f[i].name, value);
		if (arc != NULL)
			arc_verify_header(arc, m.f[i].name, value);
		{ /* note_singleton */
			const char *sf = verdict_singleton_field(m.f[i].name);
			size_t k;

			for (k = 0; sf != NULL && k < nsingles && singles[k] != sf; k++)
				;
			if (sf != NULL && k < nsingles && repeated_field == NULL)
				repeated_field = sf;
			else if (sf != NULL && k == nsingles && nsingles < PM_ARRAY_LEN(singles))
				singles[nsingles++] = sf;
		}
		if (verdict_field_is(m.f[i].name, "From")) {
			if (from_count++ == 0)
				from_value = xstrdup(value);
		} else if (strcasecmp(m.f[i].name, AR_HEADER) == 0) {
			authres_is_ours(value, p->authserv_id);
		}
	}
	/* mi_eoh, mi_body */
	if (dkim != NULL) {
		dkim_verify_eoh(dkim);
		for (size_t off = 0; off < m.body_len; off += CHUNK)
			dkim_verify_body(dkim, m.body + off,
			                 m.body_len - off < CHUNK ? m.body_len - off : CHUNK);
	}
	if (arc != NULL) {
		arc_verify_eoh(arc);
		for (size_t off = 0; off < m.body_len; off += CHUNK)
			arc_verify_body(arc, m.body + off,
			                m.body_len - off < CHUNK ? m.body_len - off : CHUNK);
	}

	/* mi_eom */
	eom_input_of(p, &e, dkim, from_count, from_value != NULL ? from_value : "", repeated_field,
	             &b, &in);
	in.arc = arc;
	if (arc != NULL)
		arc_verify_budget(arc, in.budget);
	eom_evaluate(&in, &a);
	FUZZ_CHECK(!a.arc_override || (a.arc_done && a.arc.result == PM_ARC_PASS &&
	                               a.arc_rescue.rescued && p->arc.mode >= PM_MODE_TAG),
	           "an ARC override without a passing chain and a trusted sealer");
	if (a.dkim_done) {
		FUZZ_CHECK(a.dkim.n <= (size_t)p->dkim.max_signatures && a.dkim.n <= a.dkim.total,
		           "%zu DKIM results of %zu signatures, max %d", a.dkim.n, a.dkim.total,
		           p->dkim.max_signatures);
		for (size_t i = 0; i < a.dkim.n; i++)
			FUZZ_CHECK(a.dkim.sig[i].result > PM_DKIM_NONE &&
			               a.dkim.sig[i].result < PM_DKIM_NRESULTS,
			           "DKIM result %d", a.dkim.sig[i].result);
	}
	memset(&f, 0, sizeof(f));
	f.stage = PM_STAGE_EOM;
	f.trusted = env.trusted;
	f.authenticated = env.auth;
	f.iprev = env.iprev;
	f.helo_spf = env.helo_spf;
	f.sender_status = e.sender_status;
	f.sender_domain = e.sender_status == ADDR_OK ? SENDER_DOMAIN_OK : SENDER_DOMAIN_UNCHECKED;
	f.mfrom_spf = env.spf;
	f.rcpt_status = ADDR_OK;
	f.rcpt = RCPT_VALID;
	f.rcpt_accepted = (unsigned)e.nrcpt;
	f.sender_has_dmarc = e.sender_has_dmarc;
	f.list_allow = env.allow & ~PM_LIST_BIT(LIST_RECIPIENT);
	if (e.nrcpt > 0 && (env.allow & PM_LIST_BIT(LIST_RECIPIENT)))
		f.list_allow |= PM_LIST_BIT(LIST_RECIPIENT); /* every recipient is allowed */
	f.all_rcpts_exempt = e.nrcpt > 0 && env.exempt;
	f.domains = e.domains;
	f.from = a.from;
	f.author = a.author[0] != '\0' ? a.author : NULL;
	f.from_name_address = a.from_name_address;
	f.dmarc_dkim_aligned = a.dmarc.result == PM_DMARC_PASS && a.dmarc.dkim_aligned;
	f.repeated_field = repeated_field;
	f.must_sign = a.must_sign;
	f.dmarc = a.dmarc.result;
	f.dmarc_disposition = a.disposition;
	f.dmarc_mode = a.dmarc_mode;
	f.dmarc_rule = a.dmarc_rule;
	f.arc = a.arc_done ? a.arc.result : PM_ARC_NONE;
	f.arc_override = a.arc_override;
	verdict_decide(&f, p, &v);

	switch (v.action) {
	case PM_V_CONTINUE: {
		char *value = eom_authres_value(&in, &a, &v);

		check_header(value, p->authserv_id);
		FUZZ_CHECK(!a.arc_done || (!env.trusted && !env.auth),
		           "ARC verified for a trusted (%d) or authenticated (%d) client",
		           env.trusted, env.auth);
		if (a.arc_done && p->arc.mode >= PM_MODE_TAG) {
			const char *want = a.arc.result == PM_ARC_PASS   ? "arc=pass"
			                   : a.arc.result == PM_ARC_NONE ? "arc=none"
			                                                 : "arc=fail";
			char semi[24], tab[24];

			snprintf(semi, sizeof(semi), "; %s", want);
			snprintf(tab, sizeof(tab), "\t%s", want);
			FUZZ_CHECK(strstr(value, semi) != NULL || strstr(value, tab) != NULL,
			           "ARC verified, but no %s method in \"%s\"", want, value);
		}
		if (verbose)
			fprintf(stderr, "eom: policy %d: continue%s: Authentication-Results: %s\n",
			        env.policy, v.quarantine ? " (quarantine)" : "", value);
		free(value);
		break;
	}
	case PM_V_REJECT:
	case PM_V_TEMPFAIL:
		FUZZ_CHECK(v.reply < PM_R_COUNT, "a refusal without a reply");
		FUZZ_CHECK(p->replies[v.reply].code / 100 == (v.action == PM_V_REJECT ? 5 : 4),
		           "action %s with reply %d", pm_verdict_action_name(v.action),
		           p->replies[v.reply].code);
		FUZZ_CHECK(!p->dry_run && !env.trusted && !env.auth,
		           "refused (%s) though dry_run %d, trusted %d, auth %d",
		           pm_reason_name(v.reason), p->dry_run, env.trusted, env.auth);
		check_reply(p, &e, &a, &v, repeated_field);
		if (verbose)
			fprintf(stderr, "eom: policy %d: %s %d %s (%s)\n", env.policy,
			        pm_verdict_action_name(v.action), p->replies[v.reply].code,
			        p->replies[v.reply].xcode, pm_reason_name(v.reason));
		break;
	default:
		FUZZ_CHECK(0, "action %d", v.action);
	}

	eom_free(&a);
	dkim_verify_free(dkim);
	arc_verify_free(arc);
	free(from_value);
	fuzz_message_free(&m);
	return 0;
}
