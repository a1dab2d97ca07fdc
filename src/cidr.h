/*
 * NAME
 *	cidr 3h - IPv4/IPv6 addresses and CIDR blocks
 * DESCRIPTION
 *	Pure functions. An IPv4-mapped IPv6 address (::ffff:a.b.c.d) is
 *	stored as IPv4, so "192.0.2.0/24" matches a client that arrived on
 *	a dual-stack socket. A network with host bits set ("192.0.2.1/24")
 *	is an error, the way Postfix warns about it: the administrator
 *	probably meant something else.
 */
#ifndef PM_CIDR_H
#define PM_CIDR_H

#include <stdbool.h>
#include <stddef.h>
#include <sys/socket.h>

struct pm_ip {
	int family;             /* AF_INET, AF_INET6, or AF_UNSPEC for "no address" */
	unsigned char addr[16]; /* network order; IPv4 uses the first 4 bytes */
};

struct pm_cidr {
	struct pm_ip net;
	unsigned prefix; /* 0..32 or 0..128 */
};

struct pm_cidr_list {
	struct pm_cidr *v;
	size_t n;
};

#define PM_IP_STRLEN 46 /* INET6_ADDRSTRLEN */

/* pm_ip_parse - parse a textual address (no brackets, no prefix); 0 ok, -1 bad */
int pm_ip_parse(const char *s, struct pm_ip *out);
/* pm_ip_from_sockaddr - convert; sa NULL or an unknown family gives AF_UNSPEC and returns -1 */
int pm_ip_from_sockaddr(const struct sockaddr *sa, struct pm_ip *out);
/* pm_ip_format - print into buf (at least PM_IP_STRLEN); AF_UNSPEC prints "unknown"; returns buf */
char *pm_ip_format(const struct pm_ip *ip, char *buf, size_t bufsize);
/* pm_ip_is_loopback - 127/8 or ::1 */
bool pm_ip_is_loopback(const struct pm_ip *ip);

/*
 * pm_cidr_parse - parse "a.b.c.d[/n]" or "x:y::z[/n]" (a bare address is
 * a host route). Returns 0, or -1 with *err set to a static message.
 */
int pm_cidr_parse(const char *s, struct pm_cidr *out, const char **err);
/* pm_cidr_match - ip inside the block? different families never match */
bool pm_cidr_match(const struct pm_cidr *c, const struct pm_ip *ip);
/* pm_cidr_list_match - first matching block or NULL */
const struct pm_cidr *pm_cidr_list_match(const struct pm_cidr_list *l, const struct pm_ip *ip);
/* pm_cidr_format - "net/prefix" into buf (at least PM_IP_STRLEN + 4) */
char *pm_cidr_format(const struct pm_cidr *c, char *buf, size_t bufsize);

#endif
