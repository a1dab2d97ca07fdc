/*
 * NAME
 *	cidr 3 - IPv4/IPv6 addresses and CIDR blocks
 * SYNOPSIS
 *	#include "cidr.h"
 *
 *	int pm_ip_parse(const char *s, struct pm_ip *out);
 *	int pm_ip_from_sockaddr(const struct sockaddr *sa, struct pm_ip *out);
 *	char *pm_ip_format(const struct pm_ip *ip, char *buf, size_t bufsize);
 *	bool pm_ip_is_loopback(const struct pm_ip *ip);
 *	int pm_cidr_parse(const char *s, struct pm_cidr *out, const char **err);
 *	bool pm_cidr_match(const struct pm_cidr *c, const struct pm_ip *ip);
 *	const struct pm_cidr *pm_cidr_list_match(const struct pm_cidr_list *l,
 *	                                         const struct pm_ip *ip);
 *	char *pm_cidr_format(const struct pm_cidr *c, char *buf, size_t bufsize);
 * DESCRIPTION
 *	Pure functions over inet_pton(3)/inet_ntop(3). An IPv4-mapped IPv6
 *	address (::ffff:a.b.c.d) is normalised to IPv4 wherever it enters
 *	(text, sockaddr, or a struct pm_ip handed to the matchers), so an
 *	IPv4 block matches a client on a dual-stack socket. A mapped block
 *	("::ffff:192.0.2.0/120") becomes the IPv4 block 192.0.2.0/24; a
 *	mapped block shorter than /96 cannot be expressed in IPv4 and stays
 *	IPv6. Input is strict: no surrounding whitespace, no leading zeros
 *	in IPv4 octets (inet_pton rejects them) or in the prefix length.
 * DIAGNOSTICS
 *	pm_cidr_parse() returns -1 with a static message: "empty",
 *	"not an IP address", "bad prefix length", "prefix out of range" or
 *	"host bits set (the network address must end in zeros)".
 */
#include <arpa/inet.h>
#include <netinet/in.h>
#include <stdio.h>
#include <string.h>

#include "cidr.h"

static const unsigned char v4mapped_prefix[12] = {0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff};

/* is_v4mapped - an AF_INET6 address of the form ::ffff:a.b.c.d? */
static bool is_v4mapped(const unsigned char addr[16])
{
	return memcmp(addr, v4mapped_prefix, sizeof(v4mapped_prefix)) == 0;
}

/* set_v6 - fill out from 16 network-order bytes, mapped addresses become IPv4 */
static void set_v6(struct pm_ip *out, const unsigned char addr[16])
{
	memset(out, 0, sizeof(*out));
	if (is_v4mapped(addr)) {
		out->family = AF_INET;
		memcpy(out->addr, addr + 12, 4);
	} else {
		out->family = AF_INET6;
		memcpy(out->addr, addr, 16);
	}
}

/* set_v4 - fill out from 4 network-order bytes */
static void set_v4(struct pm_ip *out, const unsigned char addr[4])
{
	memset(out, 0, sizeof(*out));
	out->family = AF_INET;
	memcpy(out->addr, addr, 4);
}

/* normalise - copy ip, turning a mapped IPv6 address into IPv4 */
static void normalise(const struct pm_ip *ip, struct pm_ip *out)
{
	if (ip->family == AF_INET6)
		set_v6(out, ip->addr);
	else
		*out = *ip;
}

/* pm_ip_parse - parse a textual address (no brackets, no prefix); 0 ok, -1 bad */
int pm_ip_parse(const char *s, struct pm_ip *out)
{
	unsigned char buf[16];

	memset(out, 0, sizeof(*out));
	out->family = AF_UNSPEC;
	if (s == NULL)
		return -1;
	if (inet_pton(AF_INET, s, buf) == 1) {
		set_v4(out, buf);
		return 0;
	}
	if (inet_pton(AF_INET6, s, buf) == 1) {
		set_v6(out, buf);
		return 0;
	}
	return -1;
}

/* pm_ip_from_sockaddr - convert; sa NULL or an unknown family gives AF_UNSPEC and -1 */
int pm_ip_from_sockaddr(const struct sockaddr *sa, struct pm_ip *out)
{
	memset(out, 0, sizeof(*out));
	out->family = AF_UNSPEC;
	if (sa == NULL)
		return -1;
	if (sa->sa_family == AF_INET) {
		struct sockaddr_in sin;

		memcpy(&sin, sa, sizeof(sin));
		set_v4(out, (const unsigned char *)&sin.sin_addr);
		return 0;
	}
	if (sa->sa_family == AF_INET6) {
		struct sockaddr_in6 sin6;

		memcpy(&sin6, sa, sizeof(sin6));
		set_v6(out, sin6.sin6_addr.s6_addr);
		return 0;
	}
	return -1;
}

/* pm_ip_format - print into buf; AF_UNSPEC prints "unknown"; returns buf */
char *pm_ip_format(const struct pm_ip *ip, char *buf, size_t bufsize)
{
	struct pm_ip n;

	if (buf == NULL || bufsize == 0)
		return buf;
	buf[0] = '\0';
	if (ip == NULL || (ip->family != AF_INET && ip->family != AF_INET6)) {
		snprintf(buf, bufsize, "unknown");
		return buf;
	}
	normalise(ip, &n);
	if (inet_ntop(n.family, n.addr, buf, (socklen_t)bufsize) == NULL)
		snprintf(buf, bufsize, "unknown");
	return buf;
}

/* pm_ip_is_loopback - 127/8 or ::1 */
bool pm_ip_is_loopback(const struct pm_ip *ip)
{
	static const unsigned char v6lo[16] = {0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1};
	struct pm_ip n;

	if (ip == NULL)
		return false;
	normalise(ip, &n);
	if (n.family == AF_INET)
		return n.addr[0] == 127;
	if (n.family == AF_INET6)
		return memcmp(n.addr, v6lo, 16) == 0;
	return false;
}

/* prefix_match - do the first bits bits of a and b agree? */
static bool prefix_match(const unsigned char *a, const unsigned char *b, unsigned bits)
{
	unsigned whole = bits / 8, rest = bits % 8;
	unsigned char mask;

	if (memcmp(a, b, whole) != 0)
		return false;
	if (rest == 0)
		return true;
	mask = (unsigned char)(0xff << (8 - rest));
	return (a[whole] & mask) == (b[whole] & mask);
}

/* host_bits_zero - are all bits after the first bits bits of addr (len bytes) zero? */
static bool host_bits_zero(const unsigned char *addr, size_t len, unsigned bits)
{
	size_t i;

	for (i = 0; i < len; i++) {
		unsigned lo = (unsigned)i * 8;
		unsigned char mask;

		if (lo + 8 <= bits)
			continue;
		mask = lo >= bits ? 0xff : (unsigned char)(0xff >> (bits - lo));
		if (addr[i] & mask)
			return false;
	}
	return true;
}

/* pm_cidr_parse - parse "a.b.c.d[/n]" or "x:y::z[/n]"; -1 with *err set on error */
int pm_cidr_parse(const char *s, struct pm_cidr *out, const char **err)
{
	char addr[PM_IP_STRLEN + 1];
	const char *slash, *p, *dummy;
	unsigned char buf[16];
	unsigned prefix = 0, max;
	bool has_prefix;
	int family;

	if (err == NULL)
		err = &dummy;
	memset(out, 0, sizeof(*out));
	out->net.family = AF_UNSPEC;
	if (s == NULL || *s == '\0') {
		*err = "empty";
		return -1;
	}
	slash = strchr(s, '/');
	has_prefix = slash != NULL;
	if (!has_prefix)
		slash = s + strlen(s);
	if ((size_t)(slash - s) > PM_IP_STRLEN || slash == s) {
		*err = "not an IP address";
		return -1;
	}
	memcpy(addr, s, (size_t)(slash - s));
	addr[slash - s] = '\0';
	if (inet_pton(AF_INET, addr, buf) == 1) {
		family = AF_INET;
		max = 32;
	} else if (inet_pton(AF_INET6, addr, buf) == 1) {
		family = AF_INET6;
		max = 128;
	} else {
		*err = "not an IP address";
		return -1;
	}
	if (has_prefix) {
		p = slash + 1;
		/* digits only, no sign, no leading zero, at most three of them */
		if (*p == '\0' || strspn(p, "0123456789") != strlen(p) || strlen(p) > 3 ||
		    (p[0] == '0' && p[1] != '\0')) {
			*err = "bad prefix length";
			return -1;
		}
		for (; *p; p++)
			prefix = prefix * 10 + (unsigned)(*p - '0');
		if (prefix > max) {
			*err = "prefix out of range";
			return -1;
		}
	} else {
		prefix = max;
	}
	if (!host_bits_zero(buf, max / 8, prefix)) {
		*err = "host bits set (the network address must end in zeros)";
		return -1;
	}
	if (family == AF_INET) {
		set_v4(&out->net, buf);
	} else if (is_v4mapped(buf) && prefix >= 96) {
		set_v4(&out->net, buf + 12);
		prefix -= 96;
	} else {
		memset(&out->net, 0, sizeof(out->net));
		out->net.family = AF_INET6;
		memcpy(out->net.addr, buf, 16);
	}
	out->prefix = prefix;
	return 0;
}

/* pm_cidr_match - ip inside the block? different families never match */
bool pm_cidr_match(const struct pm_cidr *c, const struct pm_ip *ip)
{
	struct pm_ip n;

	if (c == NULL || ip == NULL)
		return false;
	normalise(ip, &n);
	if (n.family != c->net.family)
		return false;
	if (n.family == AF_INET)
		return c->prefix <= 32 && prefix_match(c->net.addr, n.addr, c->prefix);
	if (n.family == AF_INET6)
		return c->prefix <= 128 && prefix_match(c->net.addr, n.addr, c->prefix);
	return false;
}

/* pm_cidr_list_match - first matching block or NULL */
const struct pm_cidr *pm_cidr_list_match(const struct pm_cidr_list *l, const struct pm_ip *ip)
{
	size_t i;

	if (l == NULL)
		return NULL;
	for (i = 0; i < l->n; i++)
		if (pm_cidr_match(&l->v[i], ip))
			return &l->v[i];
	return NULL;
}

/* pm_cidr_format - "net/prefix" into buf (at least PM_IP_STRLEN + 4) */
char *pm_cidr_format(const struct pm_cidr *c, char *buf, size_t bufsize)
{
	char ip[PM_IP_STRLEN];

	if (buf == NULL || bufsize == 0)
		return buf;
	pm_ip_format(&c->net, ip, sizeof(ip));
	snprintf(buf, bufsize, "%s/%u", ip, c->prefix);
	return buf;
}
