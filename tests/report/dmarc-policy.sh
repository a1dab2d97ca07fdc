# shellcheck shell=bash
# NAME
#	dmarc-policy.sh - the policy file of the DMARC report tests (sourced)
# SYNOPSIS
#	dmarc_policy FILE JSON_LOG DIRECTORY STATE_FILE SENDMAIL ORG_NAME EMAIL FROM
# DESCRIPTION
#	Writes a policy file holding log.json_file and a reports group with
#	those values: used by dmarc.sh (a fake sendmail) and e2e.sh (Postfix's).
dmarc_policy() {
	cat >"$1" <<CONF
log: { json_file = "$2"; };
reports:
{
  org_name = "$6";
  email = "$7";
  from = "$8";
  directory = "$3";
  state_file = "$4";
  sendmail = "$5";
};
CONF
}
