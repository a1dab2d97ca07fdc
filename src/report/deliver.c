/*
 * NAME
 *	deliver 3 - rua addresses, the external destination check, the report mail
 * SYNOPSIS
 *	#include "deliver.h"
 *
 *	int rua_mailto(const char *uri, char *out, size_t size, const char **why);
 *	enum auth_result deliver_authorized(const struct psl *psl, const char *policy_domain,
 *	                                    const char *dest_domain, const char **why);
 *	char *deliver_message(const struct report_mail *m, long long now);
 *	int deliver_send(const char *sendmail, const char *from, const char *msg, char *err,
 *	                 size_t errsize);
 *	int deliver_state_load(struct sent_state *s, const char *path);
 *	bool deliver_state_has(const struct sent_state *s, const char *id, const char *addr);
 *	int deliver_state_add(struct sent_state *s, const char *path, const char *id,
 *	                      const char *addr);
 * DESCRIPTION
 *	An address from a rua URI goes into a To: header and onto
 *	sendmail's input, so only plain dot-atom local parts and LDH domains
 *	pass (no quotes, spaces, commas or line breaks). The message is
 *	multipart/mixed: a short text part and the report as an
 *	application/gzip attachment (base64) named as RFC 9990 3 says; its
 *	Subject is "Report Domain: D Submitter: R Report-ID: <id>".
 * DIAGNOSTICS
 *	Each function returns its failure; nothing here prints.
 */
#include <arpa/nameser.h>
#include <errno.h>
#include <fcntl.h>
#include <netdb.h>
#include <netinet/in.h>
#include <resolv.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "../psl.h"
#include "../util.h"
#include "deliver.h"

int (*deliver_txt_lookup)(const char *name, char ***txt) = deliver_res_query;

/* local_ok - a dot-atom local part */
static bool local_ok(const char *s, size_t n)
{
	if (n == 0 || n > 64 || s[0] == '.' || s[n - 1] == '.')
		return false;
	for (size_t i = 0; i < n; i++) {
		unsigned char c = (unsigned char)s[i];

		if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
		      strchr("!#$%&'*+/=?^_`{|}~.-", c) != NULL) ||
		    (c == '.' && s[i + 1] == '.'))
			return false;
	}
	return true;
}

/* domain_ok - an LDH domain name of at least two labels */
static bool domain_ok(const char *s)
{
	size_t n = strlen(s), label = 0;

	if (n == 0 || n > 253 || strchr(s, '.') == NULL)
		return false;
	for (size_t i = 0; i <= n; i++) {
		unsigned char c = (unsigned char)s[i];

		if (c == '.' || c == '\0') {
			if (label == 0 || label > 63 || s[i - 1] == '-')
				return false;
			label = 0;
		} else if ((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
		           (c >= '0' && c <= '9') || (c == '-' && label > 0) || c == '_') {
			label++;
		} else {
			return false;
		}
	}
	return true;
}

/* rua_mailto - the plain address of a mailto: URI */
int rua_mailto(const char *uri, char *out, size_t size, const char **why)
{
	size_t o = 0;
	char *at;

	memset(out, 0, size);
	if (strncasecmp(uri, "mailto:", 7) != 0) {
		*why = "not a mailto: URI (only mailto: is supported)";
		return -1;
	}
	for (const char *p = uri + 7; *p != '\0' && *p != '!' && *p != '?'; p++) {
		char c = *p;

		if (c == '%' && pm_hex_value((unsigned char)p[1]) >= 0 &&
		    pm_hex_value((unsigned char)p[2]) >= 0) {
			c = (char)(pm_hex_value((unsigned char)p[1]) * 16 +
			           pm_hex_value((unsigned char)p[2]));
			p += 2;
		}
		if (o + 1 >= size) {
			*why = "address too long";
			return -1;
		}
		out[o++] = c;
	}
	out[o] = '\0';
	at = strrchr(out, '@');
	if (at == NULL || !local_ok(out, (size_t)(at - out)) || !domain_ok(at + 1)) {
		*why = "not a plain address local@domain";
		return -1;
	}
	pm_strlower(at + 1);
	return 0;
}

/* deliver_txt_free - free a lookup's array */
void deliver_txt_free(char **txt)
{
	for (size_t i = 0; txt != NULL && txt[i] != NULL; i++)
		free(txt[i]);
	free(txt);
}

/* deliver_res_query - TXT by res_query: 1 found, 0 none (NXDOMAIN, NODATA), -1 temporary */
int deliver_res_query(const char *name, char ***txt)
{
	unsigned char ans[8192];
	size_t n = 0;
	ns_msg msg;
	int len;

	*txt = NULL;
	len = res_query(name, ns_c_in, ns_t_txt, ans, sizeof(ans));
	if (len < 0)
		return h_errno == HOST_NOT_FOUND || h_errno == NO_DATA ? 0 : -1;
	if (ns_initparse(ans, len, &msg) < 0)
		return -1;
	*txt = xcalloc((size_t)ns_msg_count(msg, ns_s_an) + 1, sizeof(**txt));
	for (int i = 0; i < ns_msg_count(msg, ns_s_an); i++) {
		const unsigned char *rd;
		struct strbuf sb;
		ns_rr rr;
		int rdlen;

		if (ns_parserr(&msg, ns_s_an, i, &rr) < 0 || ns_rr_type(rr) != ns_t_txt)
			continue;
		rd = ns_rr_rdata(rr);
		rdlen = ns_rr_rdlen(rr);
		sb_init(&sb);
		for (int k = 0; k < rdlen;) {
			int l = rd[k];

			if (k + 1 + l > rdlen)
				break;
			sb_appendn(&sb, (const char *)rd + k + 1, (size_t)l);
			k += 1 + l;
		}
		(*txt)[n++] = sb_steal(&sb);
	}
	return n > 0 ? 1 : 0;
}

/* tag_value - the value of tag in a "tag=value; ..." record into out, or NULL */
static const char *tag_value(const char *rec, const char *tag, char *out, size_t size)
{
	size_t tl = strlen(tag);

	for (const char *p = rec; p != NULL && *p != '\0'; p = strchr(p, ';'), p = p ? p + 1 : p) {
		const char *end;
		size_t n;

		p += strspn(p, " \t");
		if (strncmp(p, tag, tl) != 0)
			continue;
		end = p + tl + strspn(p + tl, " \t");
		if (*end != '=')
			continue;
		end++;
		end += strspn(end, " \t");
		n = strcspn(end, ";");
		while (n > 0 && (end[n - 1] == ' ' || end[n - 1] == '\t'))
			n--;
		if (n >= size)
			n = size - 1;
		memcpy(out, end, n);
		out[n] = '\0';
		return out;
	}
	return NULL;
}

/* starts_dmarc1 - the record's first tag is v=DMARC1 */
static bool starts_dmarc1(const char *rec)
{
	const char *p = rec + strspn(rec, " \t");

	if (strncmp(p, "v", 1) != 0)
		return false;
	p = p + 1 + strspn(p + 1, " \t");
	if (*p != '=')
		return false;
	p++;
	p += strspn(p, " \t");
	if (strncmp(p, "DMARC1", 6) != 0)
		return false;
	p += 6;
	p += strspn(p, " \t");
	return *p == '\0' || *p == ';';
}

/* rua_hosts_ok - every mailto: address of an authorizing record's rua= is at dest */
static bool rua_hosts_ok(const char *rua, const char *dest)
{
	char one[512], addr[320];
	const char *why;

	for (const char *p = rua; *p != '\0';) {
		size_t n = strcspn(p, ",");

		snprintf(one, sizeof(one), "%.*s", (int)(n < sizeof(one) ? n : sizeof(one) - 1), p);
		pm_strlower(one);
		if (rua_mailto(one + strspn(one, " \t"), addr, sizeof(addr), &why) == 0 &&
		    !pm_strcaseeq(strrchr(addr, '@') + 1, dest))
			return false;
		p += n;
		if (*p == ',')
			p++;
	}
	return true;
}

/* first_mailto - the first mailto: address of a rua= value into out ("" when none) */
static void first_mailto(const char *rua, char *out, size_t size)
{
	char one[512], addr[320];
	const char *why;

	out[0] = '\0';
	for (const char *p = rua; *p != '\0';) {
		size_t n = strcspn(p, ",");

		snprintf(one, sizeof(one), "%.*s", (int)(n < sizeof(one) ? n : sizeof(one) - 1), p);
		pm_strlower(one);
		if (rua_mailto(one + strspn(one, " \t"), addr, sizeof(addr), &why) == 0) {
			snprintf(out, size, "%s", addr);
			return;
		}
		p += n;
		if (*p == ',')
			p++;
	}
}

/* deliver_authorized - RFC 9990 4 */
enum auth_result deliver_authorized(const struct psl *psl, const char *policy_domain,
                                    const char *dest_domain, const char **why, char *to,
                                    size_t tosize)
{
	char org_p[PSL_NAME_MAX], org_d[PSL_NAME_MAX], name[1100], rua[1024];
	size_t lp = strlen(policy_domain), ld = strlen(dest_domain);
	enum auth_result res = AUTH_REFUSED;
	char **txt = NULL;
	int rc;

	if (to != NULL && tosize > 0)
		to[0] = '\0';
	if (lp < PSL_NAME_MAX && ld < PSL_NAME_MAX) {
		psl_org_of(psl, policy_domain, org_p);
		psl_org_of(psl, dest_domain, org_d);
		if (pm_strcaseeq(org_p, org_d) ||
		    (ld > lp && dest_domain[ld - lp - 1] == '.' &&
		     pm_strcasesuffix(dest_domain, policy_domain)) ||
		    pm_strcaseeq(policy_domain, dest_domain))
			return AUTH_INTERNAL;
	}
	snprintf(name, sizeof(name), "%s._report._dmarc.%s", policy_domain, dest_domain);
	if (strlen(name) > 253) {
		*why = "the authorization record's name is longer than DNS allows";
		return AUTH_REFUSED;
	}
	rc = deliver_txt_lookup(name, &txt);
	if (rc < 0) {
		*why = "temporary DNS failure looking up the authorization record";
		deliver_txt_free(txt);
		return AUTH_TEMPFAIL;
	}
	*why = "no v=DMARC1 authorization record";
	for (size_t i = 0; rc > 0 && txt != NULL && txt[i] != NULL; i++) {
		if (!starts_dmarc1(txt[i]))
			continue;
		if (tag_value(txt[i], "rua", rua, sizeof(rua)) != NULL &&
		    !rua_hosts_ok(rua, dest_domain)) {
			*why = "the authorization record redirects to another host";
			res = AUTH_REFUSED;
			break;
		}
		/* step 9: the Report Consumer's own rua= (at the same host) replaces ours */
		if (res != AUTH_AUTHORIZED && to != NULL && tosize > 0 &&
		    tag_value(txt[i], "rua", rua, sizeof(rua)) != NULL)
			first_mailto(rua, to, tosize);
		res = AUTH_AUTHORIZED;
	}
	deliver_txt_free(txt);
	return res;
}

/* base64_lines - append data in base64, 76 characters a line, CRLF-free (sendmail adds) */
static void base64_lines(struct strbuf *sb, const unsigned char *d, size_t n)
{
	static const char tab[] =
	    "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
	size_t col = 0;

	for (size_t i = 0; i < n; i += 3) {
		unsigned v = (unsigned)d[i] << 16;
		char q[4];

		if (i + 1 < n)
			v |= (unsigned)d[i + 1] << 8;
		if (i + 2 < n)
			v |= d[i + 2];
		q[0] = tab[(v >> 18) & 63];
		q[1] = tab[(v >> 12) & 63];
		q[2] = '=';
		q[3] = '=';
		if (i + 1 < n)
			q[2] = tab[(v >> 6) & 63];
		if (i + 2 < n)
			q[3] = tab[v & 63];
		sb_appendn(sb, q, 4);
		col += 4;
		if (col == 76) {
			sb_appendc(sb, '\n');
			col = 0;
		}
	}
	if (col > 0)
		sb_appendc(sb, '\n');
}

/* deliver_message - the report mail */
char *deliver_message(const struct report_mail *m, long long now)
{
	time_t t = (time_t)now, b = (time_t)m->begin, e = (time_t)m->end;
	char date[64], bs[32], es[32];
	struct strbuf sb;
	struct tm tm;

	strftime(date, sizeof(date), "%a, %d %b %Y %H:%M:%S +0000", gmtime_r(&t, &tm));
	strftime(bs, sizeof(bs), "%Y-%m-%d %H:%M:%S", gmtime_r(&b, &tm));
	strftime(es, sizeof(es), "%Y-%m-%d %H:%M:%S", gmtime_r(&e, &tm));
	sb_init(&sb);
	sb_appendf(&sb,
	           "From: <%s>\n"
	           "To: <%s>\n"
	           "Subject: Report Domain: %s\n Submitter: %s\n Report-ID: <%s>\n"
	           "Date: %s\n"
	           "Message-ID: <%s@%s>\n"
	           "Auto-Submitted: auto-generated\n"
	           "MIME-Version: 1.0\n"
	           "Content-Type: multipart/mixed; boundary=\"=_pmr_%s\"\n"
	           "\n"
	           "--=_pmr_%s\n"
	           "Content-Type: text/plain; charset=us-ascii\n"
	           "\n"
	           "A DMARC aggregate report (RFC 9990) from %s for %s,\n"
	           "messages received from %s to %s UTC.\n"
	           "\n"
	           "--=_pmr_%s\n"
	           "Content-Type: application/gzip; name=\"%s\"\n"
	           "Content-Disposition: attachment; filename=\"%s\"\n"
	           "Content-Transfer-Encoding: base64\n"
	           "\n",
	           m->from, m->to, m->domain, m->receiver, m->report_id, date, m->report_id,
	           m->receiver, m->report_id, m->report_id, m->receiver, m->domain, bs, es,
	           m->report_id, m->filename, m->filename);
	base64_lines(&sb, m->gz, m->gzlen);
	sb_appendf(&sb, "\n--=_pmr_%s--\n", m->report_id);
	return sb_steal(&sb);
}

/* deliver_send - sendmail -t -oi -f from, the message on its standard input */
int deliver_send(const char *sendmail, const char *from, const char *msg, char *err, size_t errsize)
{
	size_t len = strlen(msg), off = 0;
	int fds[2], status;
	pid_t pid;

	if (pipe(fds) < 0) {
		snprintf(err, errsize, "pipe: %s", strerror(errno));
		return -1;
	}
	if ((pid = fork()) < 0) {
		snprintf(err, errsize, "fork: %s", strerror(errno));
		close(fds[0]);
		close(fds[1]);
		return -1;
	}
	if (pid == 0) {
		dup2(fds[0], 0);
		close(fds[0]);
		close(fds[1]);
		execl(sendmail, "sendmail", "-t", "-oi", "-f", from, (char *)NULL);
		_exit(127);
	}
	close(fds[0]);
	signal(SIGPIPE, SIG_IGN);
	while (off < len) {
		ssize_t w = write(fds[1], msg + off, len - off);

		if (w < 0 && errno == EINTR)
			continue;
		if (w < 0)
			break;
		off += (size_t)w;
	}
	close(fds[1]);
	while (waitpid(pid, &status, 0) < 0)
		if (errno != EINTR) {
			snprintf(err, errsize, "waitpid: %s", strerror(errno));
			return -1;
		}
	if (off < len || !WIFEXITED(status) || WEXITSTATUS(status) != 0) {
		snprintf(err, errsize, "%s %s (status %d)", sendmail,
		         off < len ? "did not read the whole message" : "failed",
		         WIFEXITED(status) ? WEXITSTATUS(status) : -1);
		return -1;
	}
	return 0;
}

/* deliver_state_load - every line of the state file */
int deliver_state_load(struct sent_state *s, const char *path)
{
	char line[1024];
	FILE *fp;

	memset(s, 0, sizeof(*s));
	if ((fp = fopen(path, "re")) == NULL)
		return errno == ENOENT ? 0 : -1;
	while (fgets(line, sizeof(line), fp) != NULL) {
		line[strcspn(line, "\n")] = '\0';
		s->lines = xrealloc(s->lines, (s->n + 1) * sizeof(*s->lines));
		s->lines[s->n++] = xstrdup(line);
	}
	fclose(fp);
	return 0;
}

/* deliver_state_has - "id addr" is a line */
bool deliver_state_has(const struct sent_state *s, const char *id, const char *addr)
{
	size_t il = strlen(id);

	for (size_t i = 0; i < s->n; i++)
		if (strncmp(s->lines[i], id, il) == 0 && s->lines[i][il] == ' ' &&
		    strcmp(s->lines[i] + il + 1, addr) == 0)
			return true;
	return false;
}

/* deliver_state_add - append and fsync one line */
int deliver_state_add(struct sent_state *s, const char *path, const char *id, const char *addr)
{
	struct strbuf sb;
	int fd, rc = 0;

	sb_init(&sb);
	sb_appendf(&sb, "%s %s\n", id, addr);
	fd = open(path, O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC, 0640);
	if (fd < 0 || write(fd, sb.s, sb.len) != (ssize_t)sb.len || fsync(fd) < 0)
		rc = -1;
	if (fd >= 0)
		close(fd);
	sb.s[sb.len - 1] = '\0';
	s->lines = xrealloc(s->lines, (s->n + 1) * sizeof(*s->lines));
	s->lines[s->n++] = sb_steal(&sb);
	return rc;
}

/* deliver_state_free - release the lines */
void deliver_state_free(struct sent_state *s)
{
	for (size_t i = 0; i < s->n; i++)
		free(s->lines[i]);
	free(s->lines);
	memset(s, 0, sizeof(*s));
}
