/*
 * NAME
 *	fuzz addr - libFuzzer target for addr.c (RFC 5321 envelope paths)
 * DESCRIPTION
 *	Input: one byte of addr_parse flags (the low two bits:
 *	ADDR_ALLOW_NULL, ADDR_ALLOW_LOCAL_ONLY), then the path exactly as an
 *	MTA could hand it over (NULs, controls and 8-bit bytes included).
 *	Checked besides the sanitizers:
 *	- *why is always set to printable ASCII (it goes into log lines);
 *	- ADDR_NULL and ADDR_LOCAL_ONLY only when their flag allows them,
 *	  the latter only for postmaster;
 *	- on ADDR_OK the local part is 1..255 bytes, the domain an address
 *	  literal or a lower-case name addr_domain_valid() accepts, and
 *	  addr_format() gives text that parses back to the same address;
 *	- addr_domain_valid() on the raw bytes agrees with what addr_parse
 *	  makes of "x@" and those bytes.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "addr.h"
#include "fuzzlib.h"
#include "util.h"

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
	(void)argc;
	(void)argv;
	return 0;
}

/* lower_case - no ASCII capital letters in s */
static bool lower_case(const char *s)
{
	for (; *s; s++)
		if (*s >= 'A' && *s <= 'Z')
			return false;
	return true;
}

/* check_domain_valid - addr_domain_valid on the raw bytes, against addr_parse of "x@bytes" */
static void check_domain_valid(const char *s, size_t n)
{
	struct pm_addr a;
	const char *why = NULL;
	char *buf;
	bool valid = addr_domain_valid(s, n);

	if (!valid || n > 300)
		return;
	/* a valid name holds only LDH and dots: "x@name" must parse to it, lower-cased */
	buf = malloc(n + 3);
	if (buf == NULL)
		abort();
	memcpy(buf, "x@", 2);
	memcpy(buf + 2, s, n);
	FUZZ_CHECK(addr_parse(buf, n + 2, 0, &a, &why) == ADDR_OK,
	           "addr_domain_valid accepts \"%.*s\" but addr_parse refuses it: %s", (int)n, s,
	           why);
	FUZZ_CHECK(strlen(a.domain) == n && strncasecmp(a.domain, s, n) == 0,
	           "domain \"%.*s\" parsed as \"%s\"", (int)n, s, a.domain);
	free(buf);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct pm_addr a, b;
	const char *why = NULL, *why2 = NULL;
	char text[2 * ADDR_LOCAL_MAX + ADDR_DOMAIN_MAX + 8];
	enum addr_status st;
	int flags;
	const char *raw;
	size_t len;

	if (size == 0)
		return 0;
	flags = data[0] & (ADDR_ALLOW_NULL | ADDR_ALLOW_LOCAL_ONLY);
	raw = (const char *)data + 1;
	len = size - 1;

	st = addr_parse(raw, len, flags, &a, &why);
	FUZZ_CHECK(why != NULL && fuzz_printable(why), "why not printable");
	switch (st) {
	case ADDR_NULL:
		FUZZ_CHECK(flags & ADDR_ALLOW_NULL, "ADDR_NULL without ADDR_ALLOW_NULL");
		break;
	case ADDR_LOCAL_ONLY:
		FUZZ_CHECK(flags & ADDR_ALLOW_LOCAL_ONLY,
		           "ADDR_LOCAL_ONLY without ADDR_ALLOW_LOCAL_ONLY");
		FUZZ_CHECK(pm_strcaseeq(a.local, "postmaster"), "local-only \"%s\"", a.local);
		FUZZ_CHECK(a.domain[0] == '\0', "local-only with a domain");
		break;
	case ADDR_OK:
		FUZZ_CHECK(a.local[0] != '\0' && strlen(a.local) <= ADDR_LOCAL_MAX,
		           "local part of %zu bytes", strlen(a.local));
		if (a.domain_is_literal) {
			size_t dl = strlen(a.domain);

			FUZZ_CHECK(dl > 2 && a.domain[0] == '[' && a.domain[dl - 1] == ']',
			           "literal \"%s\"", a.domain);
		} else {
			FUZZ_CHECK(addr_domain_valid(a.domain, strlen(a.domain)) &&
			               lower_case(a.domain),
			           "domain \"%s\" not a valid lower-case name", a.domain);
		}
		FUZZ_CHECK(memchr(a.local, '\0', strlen(a.local)) == NULL, "NUL in local");
		addr_format(&a, text, sizeof(text));
		FUZZ_CHECK(addr_parse(text, strlen(text), 0, &b, &why2) == ADDR_OK,
		           "addr_format gave \"%s\", which does not parse: %s", text, why2);
		FUZZ_CHECK(strcmp(a.local, b.local) == 0 && strcmp(a.domain, b.domain) == 0 &&
		               a.domain_is_literal == b.domain_is_literal,
		           "round trip: \"%s\"@\"%s\" -> \"%s\" -> \"%s\"@\"%s\"", a.local,
		           a.domain, text, b.local, b.domain);
		break;
	case ADDR_BAD:
		break;
	default:
		FUZZ_CHECK(0, "status %d", (int)st);
	}
	check_domain_valid(raw, len);
	return 0;
}
