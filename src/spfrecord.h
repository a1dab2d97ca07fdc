/*
 * NAME
 *	spfrecord 3h - strict RFC 7208 SPF record parser and macro expansion
 * SYNOPSIS
 *	#include "spfrecord.h"
 * DESCRIPTION
 *	spf_record_parse() checks a whole record against the ABNF of RFC 7208
 *	section 12 (every term and modifier, CIDR lengths, domain-specs and
 *	their macros, the characters allowed) before anything is evaluated,
 *	and compiles it into a list of terms. A record that does not follow
 *	the grammar gives an exact, printable reason (the permerror comment).
 *
 *	spf_macro_expand() expands a domain-spec or macro-string that the
 *	parser accepted (RFC 7208 section 7), and spf_target_name() turns an
 *	expansion into the name to look up (trailing dot dropped, left labels
 *	cut to 253 bytes).
 *
 *	No I/O and no globals: the %{p} macro is asked of a callback.
 * DIAGNOSTICS
 *	Allocation failure aborts (xmalloc). Everything else is a return value.
 */
#ifndef PM_SPFRECORD_H
#define PM_SPFRECORD_H

#include <stdbool.h>
#include <stddef.h>

#include "util.h"

enum spf_mech {
	SPF_MECH_ALL,
	SPF_MECH_INCLUDE,
	SPF_MECH_A,
	SPF_MECH_MX,
	SPF_MECH_PTR,
	SPF_MECH_IP4,
	SPF_MECH_IP6,
	SPF_MECH_EXISTS,
};

/* One directive of a record. */
struct spf_term {
	enum spf_mech mech;
	char qualifier;         /* '+', '-', '~' or '?' ('+' when none was written) */
	char *domain;           /* the domain-spec as written, or NULL: the current domain */
	unsigned cidr4;         /* a, mx, ip4: prefix length (32 when none) */
	unsigned cidr6;         /* a, mx, ip6: prefix length (128 when none) */
	unsigned char addr[16]; /* ip4 (first 4 bytes) or ip6 network, network order */
};

/* A compiled record (owned by the caller: spf_record_free). */
struct spf_record {
	struct spf_term *terms;
	size_t nterms;
	char *redirect; /* redirect= domain-spec, or NULL (also when the record has "all") */
	char *exp;      /* exp= domain-spec, or NULL (checked, never fetched) */
};

#define SPF_ERR_SIZE 160

/*
 * spf_record_is_spf - does this TXT string (len bytes, may hold NULs)
 * select as an SPF record: "v=spf1" in any case, then a space or the end
 * (RFC 7208 4.5)?
 */
bool spf_record_is_spf(const char *txt, size_t len);

/*
 * spf_record_parse - compile txt (len bytes, a selected record) into rec.
 * Returns true, or false with rec empty and a printable reason in err
 * (SPF_ERR_SIZE bytes), e.g. "ip4 CIDR length /33 out of range".
 */
bool spf_record_parse(const char *txt, size_t len, struct spf_record *rec, char *err);

/* spf_record_free - free what rec holds (rec itself is the caller's) */
void spf_record_free(struct spf_record *rec);

/*
 * spf_domain_spec_ok - is s (len bytes) a domain-spec (RFC 7208 7.1): a
 * macro-string ending in a macro or in "." toplabel ["."]? When not,
 * false with the reason in err (SPF_ERR_SIZE bytes).
 */
bool spf_domain_spec_ok(const char *s, size_t len, char *err);

/* spf_macro_string_ok - is s (len bytes) a macro-string (macros checked)? */
bool spf_macro_string_ok(const char *s, size_t len, char *err);

/* The values the macros of a domain-spec expand to. */
struct spf_macro_ctx {
	const char *sender; /* s: local@domain */
	const char *local;  /* l */
	const char *origin; /* o: the domain of the sender */
	const char *domain; /* d: the current domain */
	const char *ip;     /* i: dotted quad, or dotted nibbles for IPv6 */
	const char *ipver;  /* v: "in-addr" or "ip6" */
	const char *helo;   /* h */
	/* p: the validated name of the client; false stops the expansion */
	bool (*ptr)(void *arg, const char *domain, struct strbuf *out);
	void *arg;
};

/*
 * spf_macro_expand - expand a domain-spec or macro-string that
 * spf_domain_spec_ok / spf_macro_string_ok accepted, appending to out.
 * Returns false only when ctx->ptr did (a lookup for %{p} must stop the
 * evaluation).
 */
bool spf_macro_expand(const char *spec, const struct spf_macro_ctx *ctx, struct strbuf *out);

/*
 * spf_target_name - the name to look up from an expanded domain-spec:
 * the trailing dot dropped, then whole labels cut from the left while it
 * exceeds 253 bytes (RFC 7208 7.3). In place; returns s.
 */
char *spf_target_name(char *s);

#endif
