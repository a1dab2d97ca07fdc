/*
 * NAME
 *	dnsmsg.h - building DNS answer messages byte by byte, for unit tests
 * DESCRIPTION
 *	Included by the tests that feed a fake resolver (test_dnsbl,
 *	test_iprev, test_dns): a message buffer, 16-bit values in network
 *	order, names as labels without compression, a header with one
 *	question and answer records owned by it. Header-only: static functions.
 */
#ifndef PM_TEST_DNSMSG_H
#define PM_TEST_DNSMSG_H

#include <arpa/nameser.h>
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

/* msg_start - header and question for name/type; answers follow */
static inline void msg_start(struct msg *m, const char *name, int type)
{
	memset(m, 0, sizeof(*m));
	put16(m, 0x1234);
	put16(m, 0x8180);
	put16(m, 1);
	put16(m, 0); /* ancount, patched by msg_add */
	put16(m, 0);
	put16(m, 0);
	put_name(m, name);
	put16(m, (unsigned)type);
	put16(m, ns_c_in);
}

/* msg_add - one answer record owned by the question name (pointer 0xc00c) */
static inline void msg_add(struct msg *m, int type, const void *rdata, int rdlen)
{
	m->b[m->len++] = 0xc0;
	m->b[m->len++] = 0x0c;
	put16(m, (unsigned)type);
	put16(m, ns_c_in);
	put16(m, 0);
	put16(m, 300);
	put16(m, (unsigned)rdlen);
	memcpy(m->b + m->len, rdata, (size_t)rdlen);
	m->len += rdlen;
	m->ancount++;
	m->b[6] = (unsigned char)(m->ancount >> 8);
	m->b[7] = (unsigned char)m->ancount;
}

/* msg_add_name - a record whose rdata is a name (PTR, CNAME) */
static inline void msg_add_name(struct msg *m, int type, const char *name)
{
	struct msg tmp;

	tmp.len = 0;
	put_name(&tmp, name);
	msg_add(m, type, tmp.b, tmp.len);
}

#endif
