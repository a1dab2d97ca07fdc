/*
 * NAME
 *	dmarcmode 3h - policy-milter-report --dmarc-reports: settings, files, mails
 * SYNOPSIS
 *	#include "dmarcmode.h"
 * DESCRIPTION
 *	dmarc_settings_load() reads the reports group (and log.json_file,
 *	dmarc.public_suffix_list) of the daemon's policy file with libconfig;
 *	dmarc_reports_finish() writes one gzip report per policy domain of a
 *	filled struct agg and, unless dry_run, mails it to each rua mailto:
 *	address not yet sent to (deliver.h).
 */
#ifndef PMR_DMARCMODE_H
#define PMR_DMARCMODE_H

#include <stdbool.h>
#include <stdio.h>

#include "dmarcagg.h"

/* At most this many mailto: destinations per report; the rest are noted and skipped. */
#define DMARC_MAX_RUA 20

struct dmarc_settings {
	char *org_name, *email, *extra_contact_info, *from, *directory, *state_file, *sendmail;
	char *json_file; /* log.json_file; NULL: none */
	char *psl_path;  /* dmarc.public_suffix_list */
	char *receiver;  /* the domain of from */
};

/*
 * dmarc_settings_load - the settings of the policy file at path; 0, or -1
 * with a message in err (the file cannot be read or parsed, or org_name,
 * email or from is missing)
 */
int dmarc_settings_load(struct dmarc_settings *s, const char *path, char *err, size_t errsize);
void dmarc_settings_free(struct dmarc_settings *s);

/*
 * dmarc_reports_finish - write (and unless dry_run send) every report of a;
 * progress lines to out, problems to err; 0 when everything went, 1 when a
 * report could not be written or a mail not handed over (it is sent on the
 * next run of the same period), 75 when only authorization lookups failed
 * temporarily
 */
int dmarc_reports_finish(const struct agg *a, const struct dmarc_settings *s, bool dry_run,
                         long long now, FILE *out, FILE *err);

#endif
