/*
 * NAME
 *	dmarcmode 3 - write and mail the aggregate reports of one period
 * SYNOPSIS
 *	#include "dmarcmode.h"
 *
 *	int dmarc_settings_load(struct dmarc_settings *s, const char *path, char *err,
 *	                        size_t errsize);
 *	int dmarc_reports_finish(const struct agg *a, const struct dmarc_settings *s,
 *	                         bool dry_run, long long now, FILE *out, FILE *err);
 * DESCRIPTION
 *	The policy file is read with libconfig, the keys by their dotted
 *	names, and the daemon's defaults (config_keys.c) where absent: the
 *	daemon's own loader (policy-milter -n) validates the file, and
 *	linking it here would pull in libmilter, OpenDKIM and the DNS code.
 *	Each report is written as receiver!domain!begin!end!id.xml.gz in
 *	reports.directory (made when missing; a temporary file renamed into place). A report
 *	goes to each distinct mailto: address of the domain's rua (at most
 *	DMARC_MAX_RUA) that the state file does not list with its id, after
 *	the external destination check; each address handed to sendmail is
 *	added to the state file at once. The state file is locked (flock)
 *	for the whole run: a second run at the same time stops (75).
 * DIAGNOSTICS
 *	One line per report and per destination on out ("report ...",
 *	"sent ...", "skipped ...", "already sent ..."); failures on err.
 */
#include <errno.h>
#include <libconfig.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <fcntl.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>
#include <zlib.h>

#include "../psl.h"
#include "../util.h"
#include "deliver.h"
#include "dmarcmode.h"

#define PROG "policy-milter-report"

/* setting - the string at key, or def; NULL when it is empty */
static char *setting(config_t *cfg, const char *key, const char *def)
{
	const char *v = NULL;

	if (config_lookup_string(cfg, key, &v) != CONFIG_TRUE)
		v = def;
	return v != NULL && *v != '\0' ? xstrdup(v) : NULL;
}

/* dmarc_settings_load - the reports group of the policy file */
int dmarc_settings_load(struct dmarc_settings *s, const char *path, char *err, size_t errsize)
{
	config_t cfg;
	const char *at;

	memset(s, 0, sizeof(*s));
	config_init(&cfg);
	if (config_read_file(&cfg, path) != CONFIG_TRUE) {
		snprintf(err, errsize, "%s:%d: %s", path, config_error_line(&cfg),
		         config_error_text(&cfg) != NULL ? config_error_text(&cfg)
		                                         : strerror(errno));
		config_destroy(&cfg);
		return -1;
	}
	s->org_name = setting(&cfg, "reports.org_name", "");
	s->email = setting(&cfg, "reports.email", "");
	s->extra_contact_info = setting(&cfg, "reports.extra_contact_info", "");
	s->from = setting(&cfg, "reports.from", "");
	s->directory = setting(&cfg, "reports.directory", "/var/lib/policy-milter/reports");
	s->state_file = setting(&cfg, "reports.state_file", "/var/lib/policy-milter/reports-sent");
	s->sendmail = setting(&cfg, "reports.sendmail", "/usr/sbin/sendmail");
	s->json_file = setting(&cfg, "log.json_file", "");
	s->psl_path = setting(&cfg, "dmarc.public_suffix_list",
	                      "/usr/share/publicsuffix/public_suffix_list.dat");
	config_destroy(&cfg);
	if (s->org_name == NULL || s->email == NULL || s->from == NULL ||
	    (at = strrchr(s->from, '@')) == NULL || at[1] == '\0') {
		snprintf(err, errsize,
		         "%s: reports.org_name, reports.email and reports.from (an address) must "
		         "be set to make DMARC reports",
		         path);
		return -1;
	}
	if (s->directory == NULL || s->state_file == NULL || s->sendmail == NULL) {
		snprintf(err, errsize,
		         "%s: reports.directory, reports.state_file and reports.sendmail must not "
		         "be empty",
		         path);
		return -1;
	}
	s->receiver = pm_strlower(xstrdup(at + 1));
	return 0;
}

/* dmarc_settings_free - release the strings */
void dmarc_settings_free(struct dmarc_settings *s)
{
	free(s->org_name);
	free(s->email);
	free(s->extra_contact_info);
	free(s->from);
	free(s->directory);
	free(s->state_file);
	free(s->sendmail);
	free(s->json_file);
	free(s->psl_path);
	free(s->receiver);
	memset(s, 0, sizeof(*s));
}

/* read_whole - the bytes of a file (caller frees); NULL on error */
static unsigned char *read_whole(const char *path, size_t *len)
{
	FILE *fp = fopen(path, "rbe");
	unsigned char *buf = NULL;
	struct stat st;

	if (fp == NULL)
		return NULL;
	if (fstat(fileno(fp), &st) == 0 && st.st_size >= 0) {
		buf = xmalloc((size_t)st.st_size + 1);
		*len = fread(buf, 1, (size_t)st.st_size, fp);
		if (*len != (size_t)st.st_size) {
			free(buf);
			buf = NULL;
		}
	}
	fclose(fp);
	return buf;
}

/* write_gz - the text, gzip-compressed, at path (by a temporary file); 0 or -1 */
static int write_gz(const char *path, const char *text, size_t len)
{
	char tmp[4200];
	gzFile gz;
	int ok;

	snprintf(tmp, sizeof(tmp), "%s.tmp", path);
	if ((gz = gzopen(tmp, "wb9")) == NULL)
		return -1;
	ok = gzwrite(gz, text, (unsigned)len) == (int)len;
	if (gzclose(gz) != Z_OK || !ok || rename(tmp, path) < 0) {
		remove(tmp);
		return -1;
	}
	return 0;
}

/* The destinations of one report, and what the report's <error> says about its rua. */
struct dests {
	char addr[DMARC_MAX_RUA][320];
	size_t n;
	struct strbuf notes;
};

/* collect_dests - the distinct mailto: addresses of d's rua; the others noted */
static void collect_dests(const struct agg_domain *d, struct dests *ds, FILE *out)
{
	char addr[320];
	const char *why;
	size_t over = 0;

	ds->n = 0;
	sb_init(&ds->notes);
	for (size_t i = 0; i < d->nrua; i++) {
		bool dup = false;

		if (rua_mailto(d->rua[i], addr, sizeof(addr), &why) < 0) {
			fprintf(out, PROG ": note domain=%s rua=\"%.200s\" ignored: %s\n",
			        d->domain, d->rua[i], why);
			sb_appendf(&ds->notes, "%srua URI \"%.200s\" ignored: %s",
			           ds->notes.len ? "; " : "", d->rua[i], why);
			continue;
		}
		for (size_t k = 0; k < ds->n; k++)
			dup = dup || strcmp(ds->addr[k], addr) == 0;
		if (dup)
			continue;
		if (ds->n == DMARC_MAX_RUA) {
			over++;
			continue;
		}
		snprintf(ds->addr[ds->n++], sizeof(ds->addr[0]), "%s", addr);
	}
	if (over > 0) {
		fprintf(out,
		        PROG ": note domain=%s: %zu rua addresses ignored: at most %d are used\n",
		        d->domain, over, DMARC_MAX_RUA);
		sb_appendf(&ds->notes, "%s%zu rua addresses ignored: at most %d are used",
		           ds->notes.len ? "; " : "", over, DMARC_MAX_RUA);
	}
}

/* send_one - check and mail one destination; 0 sent or skipped, 1 failed, 75 tempfail */
static int send_one(const struct dmarc_settings *s, const struct psl *psl, struct sent_state *st,
                    struct report_mail *m, long long now, FILE *out, FILE *err)
{
	const char *why = NULL;
	char errbuf[512], to[320] = "";
	struct report_mail sent;
	char *msg;

	if (deliver_state_has(st, m->report_id, m->to)) {
		fprintf(out, PROG ": already sent id=%s to=%s\n", m->report_id, m->to);
		return 0;
	}
	switch (deliver_authorized(psl, m->domain, strrchr(m->to, '@') + 1, &why, to, sizeof(to))) {
	case AUTH_REFUSED:
		fprintf(out, PROG ": skipped id=%s to=%s: external destination: %s\n", m->report_id,
		        m->to, why);
		return 0;
	case AUTH_TEMPFAIL:
		fprintf(err, PROG ": deferred id=%s to=%s: %s\n", m->report_id, m->to, why);
		return 75;
	default:
		break;
	}
	sent = *m; /* the state file keeps the rua address the policy named */
	if (to[0] != '\0' && strcmp(to, m->to) != 0) {
		fprintf(out, PROG ": id=%s to=%s: the authorization record names %s instead\n",
		        m->report_id, m->to, to);
		sent.to = to;
	}
	msg = deliver_message(&sent, now);
	if (deliver_send(s->sendmail, s->from, msg, errbuf, sizeof(errbuf)) < 0) {
		fprintf(err, PROG ": not sent id=%s to=%s: %s\n", m->report_id, m->to, errbuf);
		free(msg);
		return 1;
	}
	free(msg);
	if (deliver_state_add(st, s->state_file, m->report_id, m->to) < 0)
		fprintf(err, PROG ": %s: cannot record id=%s to=%s: %s\n", s->state_file,
		        m->report_id, m->to, strerror(errno));
	fprintf(out, PROG ": sent id=%s to=%s\n", m->report_id, m->to);
	return 0;
}

/* all_sent - every destination already has the report */
static bool all_sent(const struct sent_state *st, const char *id, const struct dests *ds)
{
	for (size_t k = 0; k < ds->n; k++)
		if (!deliver_state_has(st, id, ds->addr[k]))
			return false;
	return ds->n > 0;
}

/* one_report - write and send d's report; 0, 1 or 75 as dmarc_reports_finish */
static int one_report(const struct agg *a, const struct agg_domain *d,
                      const struct dmarc_settings *s, const struct psl *psl, struct sent_state *st,
                      bool dry_run, long long now, FILE *out, FILE *err)
{
	char id[17], name[600], path[4096];
	struct agg_meta meta;
	struct report_mail m;
	struct dests ds;
	char *xml = NULL;
	size_t xlen = 0;
	int status = 0, rc;
	FILE *mem;

	dmarcagg_report_id(s->receiver, d->domain, a->begin, a->end, id);
	collect_dests(d, &ds, out);
	if (!dry_run && all_sent(st, id, &ds)) {
		fprintf(out, PROG ": already sent id=%s domain=%s (every address)\n", id,
		        d->domain);
		sb_free(&ds.notes);
		return 0;
	}
	snprintf(name, sizeof(name), "%s!%s!%lld!%lld!%s.xml.gz", s->receiver, d->domain, a->begin,
	         a->end, id);
	snprintf(path, sizeof(path), "%s/%s", s->directory, name);
	meta = (struct agg_meta){.org_name = s->org_name,
	                         .email = s->email,
	                         .extra_contact_info = s->extra_contact_info,
	                         .report_id = id,
	                         .error = ds.notes.len ? ds.notes.s : NULL};
	mem = open_memstream(&xml, &xlen);
	if (mem == NULL || dmarcagg_write_xml(mem, a, d, &meta) < 0 || fclose(mem) != 0 ||
	    write_gz(path, xml, xlen) < 0) {
		fprintf(err, PROG ": %s: cannot write the report: %s\n", path, strerror(errno));
		free(xml);
		sb_free(&ds.notes);
		return 1;
	}
	free(xml);
	sb_free(&ds.notes);
	fprintf(out, PROG ": report id=%s domain=%s rows=%zu messages=%lld file=%s\n", id,
	        d->domain, d->nrows, d->messages, path);
	if (dry_run)
		return 0;
	m = (struct report_mail){.from = s->from,
	                         .domain = d->domain,
	                         .receiver = s->receiver,
	                         .report_id = id,
	                         .filename = name,
	                         .begin = a->begin,
	                         .end = a->end};
	if ((m.gz = read_whole(path, &m.gzlen)) == NULL) {
		fprintf(err, PROG ": %s: cannot read the report back: %s\n", path, strerror(errno));
		return 1;
	}
	for (size_t k = 0; k < ds.n; k++) {
		m.to = ds.addr[k];
		rc = send_one(s, psl, st, &m, now, out, err);
		if (rc == 1 || (rc == 75 && status == 0))
			status = rc;
	}
	free((void *)m.gz);
	return status;
}

/*
 * lock_state - an exclusive lock on the state file (made when missing) for
 * the whole run, so two runs never send one report twice; the open
 * descriptor, or -1 (1 set in *status, or 75 when another run holds it)
 */
static int lock_state(const char *path, FILE *err, int *status)
{
	int fd = open(path, O_RDWR | O_CREAT | O_CLOEXEC, 0640);

	if (fd < 0) {
		fprintf(err, PROG ": %s: cannot open: %s\n", path, strerror(errno));
		*status = 1;
		return -1;
	}
	if (flock(fd, LOCK_EX | LOCK_NB) < 0) {
		fprintf(err, PROG ": %s: %s\n", path,
		        errno == EWOULDBLOCK ? "another run holds its lock; try again later"
		                             : strerror(errno));
		*status = errno == EWOULDBLOCK ? 75 : 1;
		close(fd);
		return -1;
	}
	return fd;
}

/* dmarc_reports_finish - every report of the period */
int dmarc_reports_finish(const struct agg *a, const struct dmarc_settings *s, bool dry_run,
                         long long now, FILE *out, FILE *err)
{
	struct sent_state st;
	struct psl *psl = NULL;
	char perr[512];
	int status = 0, rc, lock = -1;

	if (mkdir(s->directory, 0750) < 0 && errno != EEXIST) {
		fprintf(err, PROG ": %s: cannot create: %s\n", s->directory, strerror(errno));
		return 1;
	}
	if (!dry_run && (lock = lock_state(s->state_file, err, &status)) < 0)
		return status;
	if (deliver_state_load(&st, s->state_file) < 0) {
		fprintf(err, PROG ": %s: %s\n", s->state_file, strerror(errno));
		if (lock >= 0)
			close(lock);
		return 1;
	}
	if (!dry_run && s->psl_path != NULL &&
	    (psl = psl_load(s->psl_path, NULL, perr, sizeof(perr))) == NULL)
		fprintf(err,
		        PROG ": %s; every destination outside the policy domain needs its "
		             "authorization record\n",
		        perr);
	fprintf(
	    out, PROG ": period %lld..%lld: %lld DMARC results, %lld for no report, %zu report%s\n",
	    a->begin, a->end, a->considered, a->no_rua, a->ndomains, a->ndomains == 1 ? "" : "s");
	for (size_t i = 0; i < a->ndomains; i++) {
		rc = one_report(a, a->domains[i], s, psl, &st, dry_run, now, out, err);
		if (rc == 1 || (rc == 75 && status == 0))
			status = rc;
	}
	psl_release(psl);
	deliver_state_free(&st);
	if (lock >= 0)
		close(lock);
	return status;
}
