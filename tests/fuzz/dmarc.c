/*
 * NAME
 *	fuzz dmarc - libFuzzer target for dmarc.c (records, lookups, evaluation)
 * DESCRIPTION
 *	The first input byte chooses one of two inputs.
 *
 *	Even: a record and what it is judged with, fields cut at NUL bytes:
 *	[0] the choice byte and more bytes choosing the SPF result, the DKIM
 *	results and pct_roll, [1] the TXT record text, [2] the author
 *	domain, [3] where the record was found ("" for the author domain),
 *	[4] the SPF domain, [5..7] DKIM d= domains. dmarc_parse_record(),
 *	then dmarc_evaluate() with it, dmarc_org_domain() and
 *	dmarc_aligned() on the domains.
 *
 *	Odd: DNS answers for dmarc_lookup(). The author domain up to the
 *	first LF, then one chunk per query in the order asked (the author
 *	domain, then its organizational domain): two bytes of length (big
 *	endian) and the chunk, whose first byte modulo 4 says NXDOMAIN,
 *	SERVFAIL, records (then [flags][length][RDATA] each: flags bit 0 a
 *	type other than TXT, bit 1 class CH; the RDATA as it comes, so TXT
 *	length bytes may run past it), or a raw answer packet. A query with
 *	no chunk is NXDOMAIN. The lookup's budget queries through
 *	fake_resolve (its query function): no query leaves the process.
 *
 *	Checked besides the sanitizers: records are FOUND (p= and sp= a
 *	policy, pct 0..100) or INVALID, and an unknown tag appended changes
 *	nothing; a lookup's status is one of the four and FOUND only at the
 *	author or the organizational domain; every why is printable; an
 *	outcome is pass exactly when an aligned pass was found (disposition
 *	none), a fail applies the policy or the next lower one (the policy
 *	itself at pct=100); the organizational domain is a suffix of the
 *	name at a label boundary and its own organizational domain;
 *	dmarc_aligned is symmetric, and strict alignment implies relaxed.
 */
#include <resolv.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "dkim.h"
#include "dmarc.h"
#include "dns.h"
#include "fuzzlib.h"
#include "psl.h"
#include "util.h"

#define PSL "/usr/share/publicsuffix/public_suffix_list.dat"

static enum dns_status fake_resolve(const char *name, int type, int timeout, long left_ms,
                                    const unsigned char **answer, int *answer_len);

/* The DNS answers of the running input. */
static const uint8_t *dns_data;
static size_t dns_left;
static unsigned char dns_buf[65536];

/* The real list, loaded once. */
static struct psl *psl;

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
	char err[512];

	(void)argc;
	(void)argv;
	if ((psl = psl_load(PSL, NULL, err, sizeof(err))) == NULL) {
		fprintf(stderr, "fuzz dmarc: %s\n", err);
		abort();
	}
	return 0;
}

/* fake_query - the budget's query function: fake_resolve below */
static enum dns_status fake_query(void *arg, const char *name, int type, int timeout, long left_ms,
                                  const unsigned char **answer, int *answer_len)
{
	(void)arg;
	return fake_resolve(name, type, timeout, left_ms, answer, answer_len);
}

/* fake_resolve - answer from the input's next chunk (see DESCRIPTION) */
static enum dns_status fake_resolve(const char *name, int type, int timeout, long left_ms,
                                    const unsigned char **answer, int *answer_len)
{
	struct fuzz_rr rr[32];
	const uint8_t *c;
	size_t len, n = 0, i;

	(void)timeout;
	if (!dns_name_ok(name))
		return DNS_NXDOMAIN; /* as dns.c: "_dmarc." and a 250-byte name is no name */
	FUZZ_CHECK(type == ns_t_txt && left_ms != 0, "type %d, %ld ms left", type, left_ms);
	if (dns_left < 2)
		return DNS_NXDOMAIN;
	len = (size_t)dns_data[0] << 8 | dns_data[1];
	if (len > dns_left - 2)
		len = dns_left - 2;
	c = dns_data + 2;
	dns_data += 2 + len;
	dns_left -= 2 + len;
	if (len == 0)
		return DNS_NXDOMAIN;
	switch (c[0] % 4) {
	case 0:
		return DNS_NXDOMAIN;
	case 1:
		return DNS_TEMPFAIL;
	case 2:
		for (i = 1; i + 2 <= len && n < 32; n++) {
			size_t rdlen = c[i + 1];

			if (rdlen > len - i - 2)
				rdlen = len - i - 2;
			rr[n].type = c[i] & 1 ? ns_t_a : ns_t_txt;
			rr[n].klass = c[i] & 2 ? ns_c_chaos : ns_c_in;
			rr[n].rdata = c + i + 2;
			rr[n].rdlen = rdlen;
			i += 2 + rdlen;
		}
		*answer_len = (int)fuzz_dns_build(dns_buf, sizeof(dns_buf), name, type, 0, rr, n);
		FUZZ_CHECK(*answer_len > 0, "answer does not fit");
		*answer = dns_buf;
		return n > 0 ? DNS_OK : DNS_NODATA;
	default:
		memcpy(dns_buf, c + 1, len - 1);
		*answer = dns_buf;
		*answer_len = (int)(len - 1);
		return DNS_OK;
	}
}

/* lower - the next lower policy, as dmarc.h says pct applies it */
static enum pm_dmarc_policy lower(enum pm_dmarc_policy p)
{
	return p == PM_DMARC_P_REJECT ? PM_DMARC_P_QUARANTINE : PM_DMARC_P_NONE;
}

/* is_policy - none, quarantine or reject */
static bool is_policy(enum pm_dmarc_policy p)
{
	return p == PM_DMARC_P_NONE || p == PM_DMARC_P_QUARANTINE || p == PM_DMARC_P_REJECT;
}

/* check_record - a parsed or looked-up record */
static void check_record(const struct dmarc_record *r)
{
	FUZZ_CHECK(fuzz_printable(r->why), "record why \"%s\"", r->why);
	FUZZ_CHECK(r->pct >= 0 && r->pct <= 100, "pct %d", r->pct);
	if (r->status == DMARC_REC_FOUND)
		FUZZ_CHECK(is_policy(r->p) && is_policy(r->sp), "FOUND with p %d sp %d", r->p,
		           r->sp);
}

/* check_org - the organizational domain of d, if it has one */
static void check_org(const char *d)
{
	char org[DMARC_DOMAIN_MAX], org2[DMARC_DOMAIN_MAX];
	size_t dl, ol;

	if (!dmarc_org_domain(psl, d, org, sizeof(org)))
		return;
	dl = strlen(d);
	if (dl > 0 && d[dl - 1] == '.')
		dl--;
	ol = strlen(org);
	FUZZ_CHECK(ol > 0 && ol <= dl && strncasecmp(d + dl - ol, org, ol) == 0 &&
	               (ol == dl || d[dl - ol - 1] == '.'),
	           "org domain \"%s\" of \"%s\"", org, d);
	FUZZ_CHECK(dmarc_org_domain(psl, org, org2, sizeof(org2)) && strcmp(org, org2) == 0,
	           "org domain of \"%s\" is \"%s\", of that \"%s\"", d, org, org2);
}

/* check_aligned - dmarc_aligned for a and b */
static void check_aligned(const char *a, const char *b)
{
	bool s = dmarc_aligned(psl, a, b, true), r = dmarc_aligned(psl, a, b, false);

	FUZZ_CHECK(s == dmarc_aligned(psl, b, a, true) && r == dmarc_aligned(psl, b, a, false),
	           "alignment of \"%s\" and \"%s\" not symmetric", a, b);
	FUZZ_CHECK(!s || r, "\"%s\" and \"%s\": strict but not relaxed", a, b);
}

/* check_outcome - dmarc_evaluate's outcome for in */
static void check_outcome(const struct dmarc_input *in, const struct dmarc_outcome *o)
{
	FUZZ_CHECK(fuzz_printable(o->why), "outcome why \"%s\"", o->why);
	FUZZ_CHECK(!o->spf_aligned || in->spf == PM_SPF_PASS, "SPF aligned without a pass");
	switch (o->result) {
	case PM_DMARC_PASS:
		FUZZ_CHECK(o->spf_aligned || o->dkim_aligned, "pass without an aligned pass");
		FUZZ_CHECK(o->disposition == PM_DMARC_P_NONE, "pass with disposition %d",
		           o->disposition);
		break;
	case PM_DMARC_FAIL:
		FUZZ_CHECK(!o->spf_aligned && !o->dkim_aligned, "fail with an aligned pass");
		FUZZ_CHECK(in->rec->status == DMARC_REC_FOUND && is_policy(o->policy),
		           "fail without a record");
		FUZZ_CHECK(o->disposition == o->policy || o->disposition == lower(o->policy),
		           "policy %d, disposition %d", o->policy, o->disposition);
		if (in->rec->pct == 100)
			FUZZ_CHECK(o->disposition == o->policy, "pct=100 did not apply the policy");
		break;
	case PM_DMARC_NONE:
	case PM_DMARC_TEMPERROR:
	case PM_DMARC_PERMERROR:
		FUZZ_CHECK(!o->spf_aligned && !o->dkim_aligned, "result %d with an aligned pass",
		           o->result);
		break;
	default:
		FUZZ_CHECK(0, "result %d", o->result);
	}
}

/* pick - byte i of s, or 0 */
static unsigned pick(const char *s, size_t i)
{
	return i < strlen(s) ? (unsigned char)s[i] : 0;
}

/* evaluate - dmarc_evaluate of rec for author with the choices and domains of f */
static void evaluate(const struct fuzz_fields *f, const struct dmarc_record *rec,
                     const char *author)
{
	const char *choice = fuzz_field(f, 0);
	struct dkim_sig_result sig[3];
	struct dkim_results dk;
	struct dmarc_input in;
	struct dmarc_outcome out;

	memset(&in, 0, sizeof(in));
	memset(sig, 0, sizeof(sig));
	in.psl = psl;
	in.from_domain = author;
	in.rec = rec;
	in.spf = (enum pm_spf_result)(pick(choice, 1) % PM_SPF_NRESULTS);
	in.spf_domain = pick(choice, 1) & 0x80 ? NULL : fuzz_field(f, 4);
	in.pct_roll = pick(choice, 2);
	dk.n = pick(choice, 3) % 4;
	dk.total = dk.n;
	dk.sig = sig;
	for (size_t i = 0; i < dk.n; i++) {
		sig[i].result = (enum pm_dkim_result)(pick(choice, 4 + i) % PM_DKIM_NRESULTS);
		snprintf(sig[i].domain, sizeof(sig[i].domain), "%s", fuzz_field(f, 5 + i));
	}
	in.dkim = pick(choice, 3) & 0x80 ? NULL : &dk;
	dmarc_evaluate(&in, &out);
	check_outcome(&in, &out);
}

/* one_record - the even input */
static void one_record(const uint8_t *data, size_t size)
{
	struct fuzz_fields f;
	struct dmarc_record rec, rec2;
	const char *text, *author, *at;
	char *more;

	fuzz_split(data, size, 8, &f);
	text = fuzz_field(&f, 1);
	author = fuzz_field(&f, 2);
	at = fuzz_field(&f, 3)[0] != '\0' ? fuzz_field(&f, 3) : author;
	dmarc_parse_record(psl, text, author, at, &rec);
	FUZZ_CHECK(rec.status == DMARC_REC_FOUND || rec.status == DMARC_REC_INVALID, "status %d",
	           rec.status);
	check_record(&rec);

	more = xmalloc(strlen(text) + 16);
	sprintf(more, "%s; zz=1", text);
	dmarc_parse_record(psl, more, author, at, &rec2);
	FUZZ_CHECK(rec.status == rec2.status && rec.p == rec2.p && rec.sp == rec2.sp &&
	               rec.pct == rec2.pct && rec.adkim_strict == rec2.adkim_strict &&
	               rec.aspf_strict == rec2.aspf_strict,
	           "an unknown tag appended changes the record \"%s\"", text);
	free(more);

	evaluate(&f, &rec, author);
	for (size_t i = 2; i < 8; i++) {
		check_org(fuzz_field(&f, i));
		check_aligned(author, fuzz_field(&f, i));
	}
	fuzz_fields_free(&f);
}

/* lookup - the odd input */
static void lookup(const uint8_t *data, size_t size)
{
	const uint8_t *lf = memchr(data, '\n', size);
	size_t alen = lf != NULL ? (size_t)(lf - data) : size;
	struct fuzz_fields f = {NULL, 0, NULL};
	struct dmarc_record rec;
	struct dns_budget b;
	char *author = fuzz_cstr(data, alen);

	dns_data = lf != NULL ? lf + 1 : data + size;
	dns_left = size - alen - (lf != NULL);
	dns_budget_init(&b, 1, 1);
	b.query = fake_query;
	dmarc_lookup(psl, author, &b, &rec);
	check_record(&rec);
	switch (rec.status) {
	case DMARC_REC_FOUND:
		FUZZ_CHECK(strcmp(rec.found_at, rec.domain) == 0 ||
		               strcmp(rec.found_at, rec.org_domain) == 0,
		           "record found at \"%s\" for \"%s\"", rec.found_at, rec.domain);
		break;
	case DMARC_REC_NONE:
	case DMARC_REC_TEMPFAIL:
	case DMARC_REC_INVALID:
		break;
	default:
		FUZZ_CHECK(0, "status %d", rec.status);
	}
	fuzz_split((const uint8_t *)"", 0, 1, &f);
	evaluate(&f, &rec, author);
	fuzz_fields_free(&f);
	free(author);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	if (size == 0)
		return 0;
	if (data[0] & 1)
		lookup(data + 1, size - 1);
	else
		one_record(data, size);
	return 0;
}
