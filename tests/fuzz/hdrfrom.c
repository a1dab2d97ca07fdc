/*
 * NAME
 *	fuzz hdrfrom - libFuzzer target for hdrfrom.c (the From header, DMARC's author)
 * DESCRIPTION
 *	Input: one From header value, the bytes after "From:" (folding,
 *	NULs, 8-bit bytes and all). Checked besides the sanitizers:
 *	- on failure *why is printable ASCII and the list is empty;
 *	- every mailbox has a local part (at most HDRFROM_LOCAL_MAX bytes,
 *	  UTF-8) and a domain: a bracketed literal, or a lower-case name of
 *	  at most HDRFROM_DOMAIN_MAX bytes that addr_domain_valid() accepts
 *	  (an 8-bit name must have become its A-labels);
 *	- the domains a display text shows (name_domains) are at most
 *	  HDRFROM_NAME_DOMAINS_MAX dotted names, lower-case, without empty
 *	  labels;
 *	- hdrfrom_author() agrees with the count and the literal flag;
 *	- the value parses the same when it is folded ("\r\n " before it)
 *	  and when a final line break ends it.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "addr.h"
#include "fuzzlib.h"
#include "hdrfrom.h"
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

/* same_list - two parses gave the same mailboxes */
static bool same_list(const struct hdrfrom_list *a, const struct hdrfrom_list *b)
{
	if (a->count != b->count || a->groups != b->groups)
		return false;
	for (size_t i = 0; i < a->count; i++) {
		const struct hdrfrom_mailbox *x = &a->mbox[i], *y = &b->mbox[i];

		if (strcmp(x->local, y->local) != 0 || strcmp(x->domain, y->domain) != 0 ||
		    x->local_quoted != y->local_quoted ||
		    x->domain_is_literal != y->domain_is_literal || x->in_group != y->in_group ||
		    x->had_route != y->had_route || x->nname_domains != y->nname_domains)
			return false;
		for (size_t k = 0; k < x->nname_domains; k++)
			if (strcmp(x->name_domains[k], y->name_domains[k]) != 0)
				return false;
	}
	return true;
}

/* check_list - the invariants of a successful parse */
static void check_list(const struct hdrfrom_list *l)
{
	const struct hdrfrom_mailbox *mb = NULL;
	const char *why = NULL;
	enum hdrfrom_author_status st;

	for (size_t i = 0; i < l->count; i++) {
		const struct hdrfrom_mailbox *m = &l->mbox[i];
		size_t ll, dl;

		FUZZ_CHECK(m->local != NULL && m->domain != NULL, "mailbox %zu incomplete", i);
		ll = strlen(m->local);
		dl = strlen(m->domain);
		FUZZ_CHECK(ll > 0 && ll <= HDRFROM_LOCAL_MAX, "local part of %zu bytes", ll);
		FUZZ_CHECK(pm_utf8_valid((const unsigned char *)m->local, ll), "local not UTF-8");
		if (m->domain_is_literal)
			FUZZ_CHECK(dl > 2 && m->domain[0] == '[' && m->domain[dl - 1] == ']',
			           "literal \"%s\"", m->domain);
		else
			FUZZ_CHECK(dl <= HDRFROM_DOMAIN_MAX && addr_domain_valid(m->domain, dl) &&
			               lower_case(m->domain),
			           "domain \"%s\"", m->domain);
		FUZZ_CHECK(m->nname_domains <= HDRFROM_NAME_DOMAINS_MAX &&
		               (m->nname_domains == 0) == (m->name_domains == NULL),
		           "%zu display-name domains", m->nname_domains);
		for (size_t k = 0; k < m->nname_domains; k++) {
			const char *nd = m->name_domains[k];

			FUZZ_CHECK(nd != NULL && strchr(nd, '.') != NULL && nd[0] != '.' &&
			               nd[strlen(nd) - 1] != '.' && strstr(nd, "..") == NULL &&
			               lower_case(nd),
			           "display-name domain \"%s\"", nd != NULL ? nd : "(null)");
		}
	}
	st = hdrfrom_author(l, &mb, &why);
	switch (st) {
	case HDRFROM_AUTHOR_OK:
		FUZZ_CHECK(l->count == 1 && mb == &l->mbox[0] && !mb->domain_is_literal,
		           "author OK with %zu mailboxes", l->count);
		break;
	case HDRFROM_AUTHOR_NONE:
		FUZZ_CHECK(l->count == 0 && mb == NULL, "author NONE with %zu", l->count);
		break;
	case HDRFROM_AUTHOR_SEVERAL:
		FUZZ_CHECK(l->count > 1 && mb == NULL, "author SEVERAL with %zu", l->count);
		break;
	case HDRFROM_AUTHOR_LITERAL:
		FUZZ_CHECK(l->count == 1 && l->mbox[0].domain_is_literal && mb == NULL,
		           "author LITERAL");
		break;
	}
	if (st != HDRFROM_AUTHOR_OK)
		FUZZ_CHECK(why != NULL && fuzz_printable(why), "author why");
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct hdrfrom_list l, l2;
	const char *why = NULL, *why2 = NULL;
	bool ok, ok2;
	char *v;

	ok = hdrfrom_parse((const char *)data, size, &l, &why);
	if (!ok) {
		FUZZ_CHECK(why != NULL && fuzz_printable(why), "why not printable");
		FUZZ_CHECK(l.count == 0 && l.mbox == NULL, "list not empty after a failure");
	} else {
		check_list(&l);
	}

	/* folded before the value, and ended by a line break: the same result */
	v = malloc(size + 5);
	if (v == NULL)
		abort();
	memcpy(v, "\r\n ", 3);
	if (size > 0)
		memcpy(v + 3, data, size);
	memcpy(v + 3 + size, "\r\n", 2);
	if (size == 0 || (data[size - 1] != '\r' && data[size - 1] != '\n')) {
		ok2 = hdrfrom_parse(v, size + 5, &l2, &why2);
		FUZZ_CHECK(ok == ok2, "folded: parse %s, unfolded %s (%s)", ok2 ? "ok" : "failed",
		           ok ? "ok" : "failed", ok ? why2 : why);
		if (ok)
			FUZZ_CHECK(same_list(&l, &l2), "folded value gives other mailboxes");
		hdrfrom_free(&l2);
	}
	free(v);
	hdrfrom_free(&l);
	return 0;
}
