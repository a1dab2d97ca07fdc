/*
 * NAME
 *	fuzz spfrecord - libFuzzer target for spfrecord.c (RFC 7208 records)
 * DESCRIPTION
 *	Input: the bytes of one TXT record as DNS could hand them over
 *	(NULs, controls and 8-bit bytes included). Checked besides the
 *	sanitizers:
 *	- a refused record gives a printable reason and comes back empty;
 *	- an accepted one holds only printable ASCII and spaces, starts
 *	  with "v=spf1" (spf_record_is_spf agrees), and every term is sane:
 *	  a qualifier of + - ~ ?, CIDR lengths within 32 and 128, each
 *	  domain-spec (and redirect=, exp=) accepted by spf_domain_spec_ok;
 *	- every domain-spec expands (fixed macro values, %{p} answered)
 *	  and spf_target_name cuts the result to at most 253 bytes.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "fuzzlib.h"
#include "spfrecord.h"
#include "util.h"

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
	(void)argc;
	(void)argv;
	return 0;
}

/* fuzz_ptr - %{p}: a fixed validated name */
static bool fuzz_ptr(void *arg, const char *domain, struct strbuf *out)
{
	(void)arg;
	(void)domain;
	sb_append(out, "mx.example.org");
	return true;
}

/* check_spec - a compiled domain-spec is valid, and expands to a name of at most 253 bytes */
static void check_spec(const char *spec)
{
	static const struct spf_macro_ctx ctx = {
	    .sender = "~a.b-c@example.com",
	    .local = "~a.b-c",
	    .origin = "example.com",
	    .domain = "sub.example.com",
	    .ip = "192.0.2.3",
	    .ipver = "in-addr",
	    .helo = "mx.example.org",
	    .ptr = fuzz_ptr,
	};
	char err[SPF_ERR_SIZE];
	struct strbuf sb;
	char *name;

	FUZZ_CHECK(spf_domain_spec_ok(spec, strlen(spec), err),
	           "compiled domain-spec \"%s\" refused: %s", spec, err);
	sb_init(&sb);
	FUZZ_CHECK(spf_macro_expand(spec, &ctx, &sb), "expansion of \"%s\" stopped", spec);
	name = spf_target_name(sb_steal(&sb));
	FUZZ_CHECK(strlen(name) <= 253, "target of \"%s\" is %zu bytes", spec, strlen(name));
	free(name);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct spf_record rec;
	char err[SPF_ERR_SIZE] = "";
	const char *txt = (const char *)data;

	if (!spf_record_parse(txt, size, &rec, err)) {
		FUZZ_CHECK(err[0] != '\0' && fuzz_printable(err), "reason \"%s\"", err);
		FUZZ_CHECK(rec.nterms == 0 && rec.terms == NULL && rec.redirect == NULL &&
		               rec.exp == NULL,
		           "a refused record came back with terms");
		return 0;
	}
	FUZZ_CHECK(spf_record_is_spf(txt, size), "accepted without v=spf1");
	for (size_t i = 0; i < size; i++)
		FUZZ_CHECK(data[i] >= 0x20 && data[i] < 0x7f, "accepted byte 0x%02x", data[i]);
	for (size_t i = 0; i < rec.nterms; i++) {
		const struct spf_term *t = &rec.terms[i];

		FUZZ_CHECK(strchr("+-~?", t->qualifier) != NULL && t->qualifier != '\0',
		           "qualifier 0x%02x", (unsigned char)t->qualifier);
		FUZZ_CHECK(t->cidr4 <= 32 && t->cidr6 <= 128, "CIDR /%u //%u", t->cidr4, t->cidr6);
		if (t->domain != NULL)
			check_spec(t->domain);
	}
	if (rec.redirect != NULL)
		check_spec(rec.redirect);
	if (rec.exp != NULL)
		check_spec(rec.exp);
	spf_record_free(&rec);
	return 0;
}
