/*
 * NAME
 *	iprev 3 - reverse DNS of the client, forward-confirmed (RFC 8601 section 3)
 * SYNOPSIS
 *	#include "iprev.h"
 *
 *	char *iprev_reverse_name(const struct pm_ip *ip, const char *suffix, char *buf,
 *			size_t bufsize);
 *	int iprev_answer_addrs(const unsigned char *answer, int len, int type,
 *			struct pm_ip *out, size_t max);
 *	int iprev_answer_ptrs(const unsigned char *answer, int len,
 *			char names[][IPREV_NAME_MAX + 1], size_t max);
 *	void iprev_check(const struct pm_ip *ip, struct dns_budget *l, struct iprev_outcome *out);
 * DESCRIPTION
 *	iprev_check() asks for the PTR records of the client's reverse name,
 *	then, for each PTR name in answer order (at most IPREV_MAX_NAMES),
 *	for its addresses of the client's family, and stops at the first
 *	name that maps back (pass). A forward lookup that fails for now
 *	does not stop the others: a later name may still pass; only when
 *	none does is the result temperror rather than fail. A name that
 *	cannot be a DNS name (a PTR holding a space, say) is looked up by
 *	no one: it maps back to nothing.
 *
 *	The answer parsers read the answer section with dns.c's record
 *	iterator: records of the type asked for, whatever their owner (a
 *	resolver following an RFC 2317 CNAME returns the CNAME first).
 * DIAGNOSTICS
 *	None. A malformed answer counts as a lookup that failed for now.
 */
#include <arpa/inet.h>
#include <arpa/nameser.h>
#include <ctype.h>
#include <netinet/in.h>
#include <resolv.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>

#include "iprev.h"
#include "util.h"

/* iprev_reverse_name - "4.3.2.1.in-addr.arpa", nibbles for IPv6, or under suffix */
char *iprev_reverse_name(const struct pm_ip *ip, const char *suffix, char *buf, size_t bufsize)
{
	static const char hex[] = "0123456789abcdef";
	char rev[80];
	size_t n = 0;
	int w;

	if (ip == NULL || buf == NULL)
		return NULL;
	if (ip->family == AF_INET) {
		w = snprintf(rev, sizeof(rev), "%u.%u.%u.%u", ip->addr[3], ip->addr[2], ip->addr[1],
		             ip->addr[0]);
		if (w < 0 || (size_t)w >= sizeof(rev))
			return NULL;
		if (suffix == NULL)
			suffix = "in-addr.arpa";
	} else if (ip->family == AF_INET6) {
		for (int i = 15; i >= 0; i--) {
			rev[n++] = hex[ip->addr[i] & 0x0f];
			rev[n++] = '.';
			rev[n++] = hex[ip->addr[i] >> 4];
			rev[n++] = i > 0 ? '.' : '\0';
		}
		if (suffix == NULL)
			suffix = "ip6.arpa";
	} else {
		return NULL;
	}
	w = snprintf(buf, bufsize, "%s.%s", rev, suffix);
	if (w < 0 || (size_t)w >= bufsize)
		return NULL;
	return buf;
}

/* iprev_answer_addrs - the A or AAAA records of an answer; -1 when malformed */
int iprev_answer_addrs(const unsigned char *answer, int len, int type, struct pm_ip *out,
                       size_t max)
{
	size_t want = type == ns_t_a ? 4 : 16, n = 0;
	struct dns_answer a;
	struct dns_rr rr;
	int r;

	if (out == NULL)
		max = 0;
	if ((type != ns_t_a && type != ns_t_aaaa) || !dns_answer_open(&a, answer, len, type))
		return -1;
	while ((r = dns_answer_next(&a, &rr)) > 0) {
		if (n < max) {
			memset(&out[n], 0, sizeof(out[n]));
			out[n].family = type == ns_t_a ? AF_INET : AF_INET6;
			memcpy(out[n].addr, rr.addr, want);
		}
		n++;
	}
	return r < 0 ? -1 : (int)n;
}

/* iprev_answer_ptrs - the PTR names of an answer, lower-cased, without their trailing dot; -1 when
 * malformed */
int iprev_answer_ptrs(const unsigned char *answer, int len, char names[][IPREV_NAME_MAX + 1],
                      size_t max)
{
	struct dns_answer a;
	struct dns_rr rr;
	size_t n = 0;
	int r;

	if (names == NULL)
		max = 0;
	if (!dns_answer_open(&a, answer, len, ns_t_ptr))
		return -1;
	while ((r = dns_answer_next(&a, &rr)) > 0) {
		size_t l = strlen(rr.name);

		if (l > 0 && rr.name[l - 1] == '.')
			rr.name[--l] = '\0';
		if (l == 0 || l > IPREV_NAME_MAX)
			continue; /* the root, or too long: no host name */
		if (n < max) {
			for (size_t i = 0; i <= l; i++)
				names[n][i] = (char)tolower((unsigned char)rr.name[i]);
			n++;
		}
	}
	return r < 0 ? -1 : (int)n;
}

/* set - the result and its reason, "text" followed by arg (when not NULL) */
static void set(struct iprev_outcome *out, enum pm_iprev_result r, const char *text,
                const char *arg)
{
	out->result = r;
	snprintf(out->why, sizeof(out->why), "%s%.253s", text, arg != NULL ? arg : "");
}

/*
 * maps_back - does name have an address (of ip's family) equal to ip?
 * 1 yes, 0 no, -1 the lookup failed for now
 */
static int maps_back(const struct pm_ip *ip, const char *name, struct dns_budget *l)
{
	int type = ip->family == AF_INET ? ns_t_a : ns_t_aaaa;
	size_t alen = ip->family == AF_INET ? 4 : 16;
	struct dns_reply ans;
	struct pm_ip addrs[16];
	int n;

	if (!dns_name_ok(name))
		return 0;
	switch (dns_budget_query(l, name, type, &ans)) {
	case DNS_OK:
		break;
	case DNS_NXDOMAIN:
	case DNS_NODATA:
		return 0;
	case DNS_TEMPFAIL:
	default:
		return -1;
	}
	n = iprev_answer_addrs(ans.msg, ans.len, type, addrs, PM_ARRAY_LEN(addrs));
	dns_reply_free(&ans);
	if (n < 0) {
		l->fail = DNS_FAIL_MALFORMED;
		return -1;
	}
	if ((size_t)n > PM_ARRAY_LEN(addrs))
		n = (int)PM_ARRAY_LEN(addrs);
	for (int i = 0; i < n; i++)
		if (memcmp(addrs[i].addr, ip->addr, alen) == 0)
			return 1;
	return 0;
}

/* iprev_check - PTR names, then each name's addresses: pass, fail, permerror or temperror */
void iprev_check(const struct pm_ip *ip, struct dns_budget *l, struct iprev_outcome *out)
{
	char rname[128], names[IPREV_MAX_NAMES][IPREV_NAME_MAX + 1];
	struct dns_reply ans;
	const char *temp_name = NULL;
	enum dns_fail temp_fail = DNS_FAIL_NONE;
	int n;

	memset(out, 0, sizeof(*out));
	if (ip == NULL || (ip->family != AF_INET && ip->family != AF_INET6) ||
	    iprev_reverse_name(ip, NULL, rname, sizeof(rname)) == NULL) {
		set(out, PM_IPREV_PERMERROR, "no client address", NULL);
		return;
	}
	switch (dns_budget_query(l, rname, ns_t_ptr, &ans)) {
	case DNS_OK:
		break;
	case DNS_NXDOMAIN:
	case DNS_NODATA:
		set(out, PM_IPREV_PERMERROR, "no PTR record", NULL);
		return;
	case DNS_TEMPFAIL:
	default:
		set(out, PM_IPREV_TEMPERROR, "PTR lookup failed temporarily", NULL);
		out->dns_fail = l->fail;
		return;
	}
	n = iprev_answer_ptrs(ans.msg, ans.len, names, IPREV_MAX_NAMES);
	dns_reply_free(&ans);
	if (n < 0) {
		set(out, PM_IPREV_TEMPERROR, "malformed PTR answer", NULL);
		out->dns_fail = DNS_FAIL_MALFORMED;
		return;
	}
	if (n == 0) {
		set(out, PM_IPREV_PERMERROR, "no PTR record", NULL);
		return;
	}
	for (int i = 0; i < n; i++) {
		int m = maps_back(ip, names[i], l);

		if (m > 0) {
			snprintf(out->name, sizeof(out->name), "%.253s", names[i]);
			set(out, PM_IPREV_PASS, "", names[i]);
			return;
		}
		if (m < 0 && temp_name == NULL) {
			temp_name = names[i];
			temp_fail = l->fail;
		}
	}
	snprintf(out->name, sizeof(out->name), "%.253s", names[0]);
	if (temp_name != NULL) {
		out->result = PM_IPREV_TEMPERROR;
		out->dns_fail = temp_fail;
		snprintf(out->why, sizeof(out->why), "address lookup of %.253s failed temporarily",
		         temp_name);
	} else {
		out->result = PM_IPREV_FAIL;
		if (n == 1)
			snprintf(out->why, sizeof(out->why),
			         "%.253s does not resolve to the address", names[0]);
		else
			snprintf(out->why, sizeof(out->why),
			         "none of %d PTR names resolves to the address (first: %.253s)", n,
			         names[0]);
	}
}
