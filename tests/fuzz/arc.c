/*
 * NAME
 *	fuzz arc - libFuzzer target for ARC header parsing and chain validation (src/arc.c)
 * DESCRIPTION
 *	Input: a raw message, headers and body, CRLF or LF, cut as the MTA
 *	hands it to the milter (fuzz_message_split: one callback per header
 *	field, name and value apart, the value with its leading space and
 *	folds; the body in 65535-byte chunks), then fed to one arc_verifier:
 *	arc_verify_header for each field, arc_verify_eoh, arc_verify_body,
 *	arc_verify_eom.
 *
 *	Keys come from a key lookup of the target's (no DNS), by the
 *	selector of "selector._domainkey.domain" whatever the domain:
 *	  rsa, s2026   tests/unit/data/dkim/test-rsa2048 (the seeds' chains are
 *	               sealed with it: tests/arc/mkchain.pl corpus)
 *	  ed           test-ed25519
 *	  rsa512       test-rsa512 (under the 1024-bit minimum)
 *	  tempfail     a temporary failure; multi: several records
 *	  revoked      p= empty; bad: p= not a key; edrsa: the Ed25519 key
 *	               with k=rsa
 *	  anything else: no key.
 *	Settings: the defaults (max_sets 50, min_key_bits 1024), leadspc as
 *	libmilter gives it with SMFIP_HDR_LEADSPC.
 *
 *	Checked besides the sanitizers: the result is one of the four; a
 *	message with no field named ARC-Seal, ARC-Message-Signature or
 *	ARC-Authentication-Results is none; temperror only after a key
 *	lookup that failed for now; a reason for fail and temperror, none
 *	for pass and none (it may quote the input: its readers escape it);
 *	pass has 1 to 50 sets numbered 1..n, every ARC-Seal verified, the
 *	newest AMS verified, cv= none at i=1 and pass above, oldest_pass at
 *	most n; bounded work: at most 2 x 50 signatures verified and as many
 *	key lookups as the target answered.
 *	With FUZZ_VERBOSE set each result is printed on stderr.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "arc.h"
#include "fuzzlib.h"
#include "util.h"

#ifndef PM_SRCDIR
#define PM_SRCDIR "."
#endif

#define CHUNK    65535 /* Postfix's MILTER_CHUNK_SIZE */
#define DKIM_DIR PM_SRCDIR "/tests/unit/data/dkim/"

/* The fixed keys: selector, and the file of tests/unit/data/dkim holding its record. */
static const struct {
	const char *selector, *file;
} key_files[] = {
    {"rsa", "test-rsa2048.txt"},
    {"s2026", "test-rsa2048.txt"},
    {"ed", "test-ed25519.txt"},
    {"rsa512", "test-rsa512.txt"},
};
static char *key_text[sizeof(key_files) / sizeof(key_files[0])];
static char *edrsa_text; /* the Ed25519 key under k=rsa */
static bool verbose;

/* What the key lookups of one input did. */
static unsigned lookups, tempfails;

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
	char *p;

	(void)argc;
	(void)argv;
	verbose = getenv("FUZZ_VERBOSE") != NULL;
	for (size_t i = 0; i < PM_ARRAY_LEN(key_files); i++) {
		char path[1024];

		snprintf(path, sizeof(path), "%s%s", DKIM_DIR, key_files[i].file);
		if ((key_text[i] = fuzz_slurp_line(path)) == NULL) {
			fprintf(stderr, "fuzz arc: cannot read %s\n", path);
			abort();
		}
	}
	edrsa_text = xstrdup(key_text[2]);
	if ((p = strstr(edrsa_text, "k=ed25519")) == NULL) {
		fprintf(stderr, "fuzz arc: no k=ed25519 in %s\n", key_text[2]);
		abort();
	}
	memcpy(p, "k=rsa    ", 9); /* as long as "k=ed25519": "k=rsa" and blanks */
	return 0;
}

/* key_lookup - the fixed keys, by selector */
static enum dkim_key_status key_lookup(const char *name, char **record, void *arg)
{
	const char *dot = strstr(name, "._domainkey.");
	size_t sl = dot != NULL ? (size_t)(dot - name) : 0;

	(void)arg;
	lookups++;
	FUZZ_CHECK(name != NULL && record != NULL, "key lookup without a name or record");
	if (dot == NULL)
		return DKIM_KEY_NOTFOUND;
#define SEL(s) (sl == strlen(s) && strncasecmp(name, s, sl) == 0)
	if (SEL("tempfail")) {
		tempfails++;
		return DKIM_KEY_TEMPFAIL;
	}
	if (SEL("multi"))
		return DKIM_KEY_MULTIPLE;
	if (SEL("revoked")) {
		*record = xstrdup("v=DKIM1; k=rsa; p=");
		return DKIM_KEY_FOUND;
	}
	if (SEL("bad")) {
		*record = xstrdup("v=DKIM1; k=rsa; p=AAAAB3NzaC1yc2E=");
		return DKIM_KEY_FOUND;
	}
	if (SEL("edrsa")) {
		*record = xstrdup(edrsa_text);
		return DKIM_KEY_FOUND;
	}
	for (size_t i = 0; i < PM_ARRAY_LEN(key_files); i++)
		if (SEL(key_files[i].selector)) {
			*record = xstrdup(key_text[i]);
			return DKIM_KEY_FOUND;
		}
#undef SEL
	return DKIM_KEY_NOTFOUND;
}

/* is_arc_field - one of the three ARC header field names (white space before the colon kept) */
static bool is_arc_field(const char *name)
{
	static const char *const names[] = {"ARC-Seal", "ARC-Message-Signature",
	                                    "ARC-Authentication-Results"};
	size_t len = strcspn(name, " \t");

	for (size_t i = 0; i < PM_ARRAY_LEN(names); i++)
		if (len == strlen(names[i]) && strncasecmp(name, names[i], len) == 0)
			return true;
	return false;
}

/* check_result - the invariants of one result (see the top of the file) */
static void check_result(const struct arc_result *r, bool any_arc)
{
	FUZZ_CHECK(r->result >= PM_ARC_NONE && r->result < PM_ARC_NRESULTS, "result %d",
	           (int)r->result);
	FUZZ_CHECK(memchr(r->reason, '\0', sizeof(r->reason)) != NULL, "reason not terminated");
	/* the reason may quote the input (a= value): its readers escape it (authres, log) */
	FUZZ_CHECK((r->result != PM_ARC_FAIL && r->result != PM_ARC_TEMPERROR) ||
	               r->reason[0] != '\0',
	           "%s without a reason", pm_arc_result_name(r->result));
	FUZZ_CHECK(any_arc || r->result == PM_ARC_NONE, "no ARC field, but %s",
	           pm_arc_result_name(r->result));
	FUZZ_CHECK(r->result != PM_ARC_TEMPERROR || tempfails > 0,
	           "temperror without a temporary key failure (%s)", r->reason);
	FUZZ_CHECK(r->n <= ARC_MAX_INSTANCES, "%zu sets", r->n);
	FUZZ_CHECK(r->n == 0 || r->set != NULL, "%zu sets, none given", r->n);
	FUZZ_CHECK(r->verified <= 2 * ARC_MAX_INSTANCES, "%u signatures verified", r->verified);
	FUZZ_CHECK(r->lookups <= lookups, "%u lookups counted, %u made", r->lookups, lookups);
	FUZZ_CHECK(lookups <= 2 * ARC_MAX_INSTANCES, "%u key lookups", lookups);
	for (size_t k = 0; k < r->n; k++) {
		const struct arc_set *s = &r->set[k];

		FUZZ_CHECK(s->instance == k + 1, "set %zu has instance %u", k, s->instance);
		FUZZ_CHECK(memchr(s->domain, '\0', sizeof(s->domain)) != NULL &&
		               memchr(s->selector, '\0', sizeof(s->selector)) != NULL &&
		               memchr(s->algorithm, '\0', sizeof(s->algorithm)) != NULL &&
		               memchr(s->cv, '\0', sizeof(s->cv)) != NULL,
		           "set %zu: a string not terminated", k);
		FUZZ_CHECK(s->ams_checked || !s->ams_valid, "set %zu: AMS valid but not checked",
		           k);
	}
	if (r->result == PM_ARC_NONE || r->result == PM_ARC_PASS)
		FUZZ_CHECK(r->reason[0] == '\0', "%s with a reason: %s",
		           pm_arc_result_name(r->result), r->reason);
	if (r->result != PM_ARC_PASS)
		return;
	FUZZ_CHECK(r->n >= 1, "pass without a set");
	FUZZ_CHECK(r->oldest_pass <= r->n, "oldest_pass %u of %zu sets", r->oldest_pass, r->n);
	for (size_t k = 0; k < r->n; k++) {
		const struct arc_set *s = &r->set[k];

		FUZZ_CHECK(s->as_valid, "pass, but the ARC-Seal i=%zu did not verify", k + 1);
		FUZZ_CHECK(strcmp(s->cv, k == 0 ? "none" : "pass") == 0, "pass with cv=%s at i=%zu",
		           s->cv, k + 1);
		FUZZ_CHECK(s->aar != NULL, "pass without the AAR i=%zu", k + 1);
	}
	FUZZ_CHECK(r->set[r->n - 1].ams_checked && r->set[r->n - 1].ams_valid,
	           "pass, but the newest AMS did not verify");
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct fuzz_message m;
	struct arc_verify_settings s;
	struct arc_verifier *v;
	struct arc_result r;
	bool any_arc = false;

	fuzz_message_split(data, size, &m);
	lookups = tempfails = 0;
	arc_verify_defaults(&s);
	s.leadspc = true;
	s.key_lookup = key_lookup;
	v = arc_verify_new(&s, "FUZZ");
	for (size_t i = 0; i < m.n; i++) {
		any_arc = any_arc || is_arc_field(m.f[i].name);
		arc_verify_header(v, m.f[i].name, m.f[i].value);
	}
	arc_verify_eoh(v);
	for (size_t off = 0; off < m.body_len; off += CHUNK)
		arc_verify_body(v, m.body + off,
		                m.body_len - off < CHUNK ? m.body_len - off : CHUNK);
	arc_verify_eom(v, &r);
	if (verbose) {
		fprintf(stderr,
		        "arc=%s reason=\"%s\" sets=%zu oldest_pass=%u verified=%u lookups=%u\n",
		        pm_arc_result_name(r.result), r.reason, r.n, r.oldest_pass, r.verified,
		        r.lookups);
		for (size_t k = 0; k < r.n; k++)
			fprintf(stderr, "  i=%u d=%s s=%s a=%s cv=%s as=%d ams=%d/%d\n",
			        r.set[k].instance, r.set[k].domain, r.set[k].selector,
			        r.set[k].algorithm, r.set[k].cv, r.set[k].as_valid,
			        r.set[k].ams_checked, r.set[k].ams_valid);
	}
	check_result(&r, any_arc);
	arc_result_free(&r);
	arc_verify_free(v);
	fuzz_message_free(&m);
	return 0;
}
