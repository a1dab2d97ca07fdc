/*
 * NAME
 *	dnsmsg.h - building DNS answer messages byte by byte, for unit tests
 * DESCRIPTION
 *	Included by the tests that feed a fake resolver (test_dnsbl,
 *	test_iprev): a message buffer, 16-bit values in network order and
 *	names as labels without compression. Header-only: static functions.
 */
#ifndef PM_TEST_DNSMSG_H
#define PM_TEST_DNSMSG_H

#include <string.h>

#define MSG_MAX 4096

struct msg {
	unsigned char b[MSG_MAX];
	int len;
	int ancount;
};

/* put16 - a 16-bit value in network order */
static inline void put16(struct msg *m, unsigned v)
{
	m->b[m->len++] = (unsigned char)(v >> 8);
	m->b[m->len++] = (unsigned char)v;
}

/* put_name - a domain name as labels (no compression) */
static inline void put_name(struct msg *m, const char *name)
{
	const char *p = name;

	while (*p != '\0') {
		size_t n = strcspn(p, ".");

		m->b[m->len++] = (unsigned char)n;
		memcpy(m->b + m->len, p, n);
		m->len += (int)n;
		p += n;
		if (*p == '.')
			p++;
	}
	m->b[m->len++] = 0;
}

#endif
