/*
 * NAME
 *	fuzz authres - libFuzzer target for authres.c (Authentication-Results)
 * DESCRIPTION
 *	Two parts of authres.c see what a sender controls: authres_is_ours()
 *	decides whether an Authentication-Results header that came with the
 *	message claims our authserv-id (it is then removed), and
 *	authres_format() writes values taken from the message (HELO, MAIL
 *	FROM, DKIM d= and s=, comments) into our header.
 *
 *	Input: fields cut at NUL bytes: [0] the authserv-id (used when it
 *	is a token, as the policy file requires, else "mx.example.org"),
 *	[1] an incoming header value, [2] bytes choosing the results and the
 *	number of DKIM signatures, then the strings of struct authres_input
 *	and of up to three signatures.
 *
 *	Checked besides the sanitizers:
 *	- authres_is_ours() is unchanged by CFWS put before the value and
 *	  by the case of the authserv-id, and a value it claims starts (after
 *	  CFWS) with the id, bare or quoted;
 *	- authres_format() writes printable ASCII only, lines folded with
 *	  "\n\t", no line over 998 bytes, quoted strings and comments that
 *	  close, exactly one ";" per resinfo outside them (nothing written
 *	  can add or end a resinfo), and a value authres_is_ours() claims
 *	  for our id and no other.
 */
#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "authres.h"
#include "fuzzlib.h"
#include "util.h"

#define DEFAULT_ID "mx.example.org"
#define MAX_SIGS   3

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
	(void)argc;
	(void)argv;
	return 0;
}

/* is_id_token - what config.c accepts as authserv_id: printable, no space, no tspecial */
static bool is_id_token(const char *s)
{
	if (*s == '\0' || strlen(s) > 255 || !fuzz_printable(s) || strchr(s, ' ') != NULL)
		return false;
	return strpbrk(s, "()<>@,;:\\\"/[]?=") == NULL;
}

/* skip_ws_comments - past spaces, tabs, CR, LF and balanced comments; NULL when unclosed */
static const char *skip_ws_comments(const char *p)
{
	for (;;) {
		int depth = 0;

		while (*p == ' ' || *p == '\t' || *p == '\r' || *p == '\n')
			p++;
		if (*p != '(')
			return p;
		do {
			if (*p == '\0' || (*p == '\\' && p[1] == '\0'))
				return NULL;
			if (*p == '\\')
				p++;
			else if (*p == '(')
				depth++;
			else if (*p == ')')
				depth--;
			p++;
		} while (depth > 0);
	}
}

/* check_is_ours - the invariants of authres_is_ours for value and id */
static void check_is_ours(const char *value, const char *id)
{
	bool ours = authres_is_ours(value, id);
	size_t n = strlen(value);
	char *pre = malloc(n + 16), *upper = strdup(id);
	const char *p;

	if (pre == NULL || upper == NULL)
		abort();
	snprintf(pre, n + 16, " (x\\)) \t%s", value);
	FUZZ_CHECK(authres_is_ours(pre, id) == ours, "CFWS before the value changes the answer");
	for (char *u = upper; *u; u++)
		*u = (char)toupper((unsigned char)*u);
	FUZZ_CHECK(authres_is_ours(value, upper) == ours, "the id's case changes the answer");
	if (ours) {
		p = skip_ws_comments(value);
		FUZZ_CHECK(p != NULL, "claimed, but the comments do not close");
		FUZZ_CHECK(strncasecmp(p, id, strlen(id)) == 0 || *p == '"',
		           "claimed \"%s\" for id \"%s\"", value, id);
	}
	free(pre);
	free(upper);
}

/* check_header - the value authres_format wrote: see DESCRIPTION */
static void check_header(const char *v, const char *id, size_t resinfos)
{
	size_t semis = 0, col = 0;
	int depth = 0;
	bool quoted = false;
	const char *p;

	for (p = v; *p; p++) {
		unsigned char c = (unsigned char)*p;

		if (c == '\n') {
			FUZZ_CHECK(p[1] == '\t', "LF not followed by TAB in \"%s\"", v);
			col = 0;
			continue;
		}
		FUZZ_CHECK(c == '\t' || (c >= 0x20 && c <= 0x7e), "byte 0x%02x in \"%s\"", c, v);
		FUZZ_CHECK(++col <= 998, "line longer than 998 bytes");
		if (quoted) {
			if (c == '\\' && p[1] != '\0' && p[1] != '\n')
				p++, col++;
			else if (c == '"')
				quoted = false;
		} else if (depth > 0) {
			if (c == '\\' && p[1] != '\0' && p[1] != '\n')
				p++, col++;
			else if (c == '(')
				depth++;
			else if (c == ')')
				depth--;
		} else if (c == '"') {
			quoted = true;
		} else if (c == '(') {
			depth++;
		} else {
			FUZZ_CHECK(c != ')' && c != '\\', "stray '%c' in \"%s\"", c, v);
			if (c == ';')
				semis++;
		}
	}
	FUZZ_CHECK(!quoted && depth == 0, "unclosed quote or comment in \"%s\"", v);
	FUZZ_CHECK(semis == resinfos, "%zu resinfos written as %zu in \"%s\"", resinfos, semis, v);
	FUZZ_CHECK(authres_is_ours(v, id), "our own header \"%s\" is not ours for \"%s\"", v, id);
	FUZZ_CHECK(!authres_is_ours(v, "other.invalid"), "our header claimed for another id");
}

/* pick - byte i of the choice field, or 0 */
static unsigned pick(const char *choice, size_t i)
{
	return i < strlen(choice) ? (unsigned char)choice[i] : 0;
}

/* opt - field i as an optional string: NULL when it is absent or "-" */
static const char *opt(const struct fuzz_fields *f, size_t i)
{
	const char *s = fuzz_field(f, i);

	return i >= f->n || strcmp(s, "-") == 0 ? NULL : s;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct fuzz_fields f;
	struct authres_input in;
	struct dkim_sig_result sig[MAX_SIGS];
	struct dkim_results dk;
	const char *id, *choice;
	size_t resinfos = 0, k = 15;
	char *out;

	fuzz_split(data, size, 40, &f);
	id = is_id_token(fuzz_field(&f, 0)) ? fuzz_field(&f, 0) : DEFAULT_ID;
	check_is_ours(fuzz_field(&f, 1), id);
	check_is_ours(fuzz_field(&f, 1), DEFAULT_ID);

	choice = fuzz_field(&f, 2);
	memset(&in, 0, sizeof(in));
	in.authserv_id = id;
	in.iprev = (enum pm_iprev_result)(pick(choice, 0) % (PM_IPREV_TEMPERROR + 2));
	in.mfrom_spf = (enum pm_spf_result)(pick(choice, 1) % (PM_SPF_NRESULTS + 1));
	in.helo_spf = (enum pm_spf_result)(pick(choice, 2) % (PM_SPF_NRESULTS + 1));
	in.dmarc = (enum pm_dmarc_result)(pick(choice, 3) % (PM_DMARC_NRESULTS + 1));
	in.auth_user = opt(&f, 3);
	in.trusted_network = opt(&f, 4);
	in.iprev_ip = opt(&f, 5);
	in.iprev_comment = opt(&f, 6);
	in.helo = opt(&f, 7);
	in.mailfrom = opt(&f, 8);
	in.mfrom_comment = opt(&f, 9);
	in.dmarc_policy = opt(&f, 10);
	in.dmarc_disposition = opt(&f, 11);
	in.header_from = opt(&f, 12);
	in.dmarc_comment = opt(&f, 13);
	in.policy_comment = opt(&f, 14);
	if (pick(choice, 4) % 5 != 0) {
		memset(sig, 0, sizeof(sig));
		dk.n = pick(choice, 4) % 5 - 1;
		if (dk.n > MAX_SIGS)
			dk.n = MAX_SIGS;
		dk.total = dk.n;
		dk.sig = sig;
		for (size_t i = 0; i < dk.n; i++, k += 5) {
			sig[i].result =
			    (enum pm_dkim_result)(pick(choice, 5 + i) % PM_DKIM_NRESULTS);
			snprintf(sig[i].domain, sizeof(sig[i].domain), "%s", fuzz_field(&f, k));
			snprintf(sig[i].selector, sizeof(sig[i].selector), "%s",
			         fuzz_field(&f, k + 1));
			snprintf(sig[i].algorithm, sizeof(sig[i].algorithm), "%s",
			         fuzz_field(&f, k + 2));
			/* the fixed-size fields need no NUL: fill them whole */
			strncpy(sig[i].b, fuzz_field(&f, k + 3), sizeof(sig[i].b));
			strncpy(sig[i].reason, fuzz_field(&f, k + 4), sizeof(sig[i].reason));
			sig[i].key_bits = pick(choice, 8 + i) * 16;
		}
		in.dkim = &dk;
	}

	if (in.iprev != PM_IPREV_UNCHECKED)
		resinfos++;
	if (in.auth_user != NULL)
		resinfos++;
	if (in.mfrom_spf != PM_SPF_UNCHECKED)
		resinfos++;
	if (in.helo_spf != PM_SPF_UNCHECKED)
		resinfos++;
	if (in.dkim != NULL)
		resinfos += in.dkim->n > 0 ? in.dkim->n : 1;
	if (in.dmarc != PM_DMARC_UNCHECKED)
		resinfos++;
	out = authres_format(&in);
	FUZZ_CHECK(out != NULL, "authres_format returned NULL");
	check_header(out, id, resinfos > 0 ? resinfos : 1);
	free(out);
	fuzz_fields_free(&f);
	return 0;
}
