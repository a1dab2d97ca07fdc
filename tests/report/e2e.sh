#!/bin/bash
# NAME
#	e2e.sh - DMARC aggregate reports delivered through the e2e world's Postfix
# SYNOPSIS
#	tests/report/e2e.sh		(root; make check: suite "report-e2e")
# DESCRIPTION
#	In the private namespaces of tests/e2e/lib.sh: nsd serves two zones
#	made here (reports.test, with the authorization record
#	authd.example._report._dmarc.reports.test "v=DMARC1", and other.test,
#	with none), Postfix (no milter) delivers reports.test and other.test
#	into a maildir. policy-milter-report --dmarc-reports reads a decision
#	log made here (records of 2026-11-29 for reports.test, authd.example
#	and noauth.example, each asking for reports) and hands its reports to
#	Postfix's sendmail. Checked: the report of reports.test (same
#	organizational domain) and of authd.example (authorized external
#	destination) arrive, each parsed back (Subject, attachment name, gzip,
#	XML valid against the RFC 9990 schema, row counts equal to the
#	messages); noauth.example's external destination gets nothing and the
#	skip is logged; a re-run sends nothing new.
# DIAGNOSTICS
#	Exit 0 when every check passed, 1 otherwise, 2 when the world could
#	not be built. Prints "ok - ..." / "not ok - ..." lines.
set -u
HERE=$(cd "$(dirname "$0")" && pwd)
# shellcheck source=tests/e2e/lib.sh
. "$HERE/../e2e/lib.sh"

if [ -z "${REPORT_E2E_INNER:-}" ]; then
	if [ "$(id -u)" != 0 ]; then
		echo "SKIPPED: the report end-to-end test needs root (unshare, nsd, postfix)"
		exit 0
	fi
	make -s -C "$E2E_TOP" src/policy-milter-report >/dev/null || exit 2
	e2e_build_tools
	ns_reexec pm-report-e2e REPORT_E2E_KEEP REPORT_E2E_INNER "$0" "$@"
	rc=$?
	[ "$rc" = 0 ] || e2e_show_logs 50 "report run" "$E2E_DIR/run1.out"
	exit "$rc"
fi

# ---- inside the namespaces --------------------------------------------------
fail=0
ok() { echo "ok - report-e2e: $1"; }
notok() {
	echo "not ok - report-e2e: $1"
	fail=1
}
check() { # check DESC GOT WANT
	if [ "$2" = "$3" ]; then ok "$1"; else
		notok "$1"
		echo "    got:  $2"
		echo "    want: $3"
	fi
}

ns_setup
zdir=$E2E_DIR/rzones
mkdir -p "$zdir"
for z in reports.test other.test; do
	cat >"$zdir/$z.zone" <<-EOF
		\$ORIGIN $z.
		\$TTL 300
		@	SOA	ns.$z. hostmaster.$z. 1 3600 600 86400 300
		@	NS	ns.$z.
		ns	A	127.0.0.1
	EOF
done
echo 'authd.example._report._dmarc	TXT	"v=DMARC1"' >>"$zdir/reports.test.zone"
"$E2E_BUILD/silentdns" 127.0.0.2 53 &
nsd_serve "$zdir" reports.test.
E2E_NO_MILTER=1 postfix_setup
postconf -e "virtual_mailbox_domains = reports.test other.test" "myhostname = mx.receiver.test"
postfix_start

# the decision log: n messages of a policy domain from one source
log=$E2E_DIR/decisions.json
# rec POLICY_DOMAIN RUA IP - one end-of-message record of 2026-11-29
rec() {
	printf '{"v":1,"time":"2026-11-29T12:00:00Z","queue_id":null,"stage":"eom","client":{"addr":"%s","name":null,"iprev":null},"helo":null,"sender":"a@%s","recipients":["b@example.org"],"checks":{"spf":{"result":"pass","domain":"%s","scope":"mfrom"},"dkim":[{"result":"pass","domain":"%s","selector":"s1"}],"dmarc":{"result":"pass","domain":"%s","policy":"reject","disposition":null,"policy_domain":"%s","discovery":"treewalk","published":{"p":"reject","sp":null,"np":null,"t":null,"psd":null,"adkim":null,"aspf":null,"pct":null,"rua":["%s"]},"override":null,"dkim":"pass","spf":"pass"}},"dnsbl":[],"action":"accept","would":false,"dry_run":false,"reply":null,"check":null,"reason":null,"rule":null,"detail":null}\n' \
		"$3" "$1" "$1" "$1" "$1" "$1" "$2"
}
{
	for _ in 1 2 3; do rec reports.test mailto:dmarc@reports.test 192.0.2.1; done
	rec reports.test mailto:dmarc@reports.test 192.0.2.2
	for _ in 1 2; do rec authd.example mailto:agg@reports.test 198.51.100.5; done
	rec noauth.example mailto:agg@other.test 203.0.113.9
} >"$log"
# shellcheck source=tests/report/dmarc-policy.sh
. "$HERE/dmarc-policy.sh"
dmarc_policy "$E2E_DIR/policy.conf" "$log" "$E2E_DIR/reports" "$E2E_DIR/reports-sent" \
	/usr/sbin/sendmail "Receiver Test" postmaster@receiver.test dmarc-reports@receiver.test

"$E2E_TOP/src/policy-milter-report" --dmarc-reports --config "$E2E_DIR/policy.conf" \
	--day 2026-11-29 >"$E2E_DIR/run1.out" 2>&1
check "the run exits 0" "$?" 0
check "three reports written" "$(ls "$E2E_DIR/reports" | wc -l)" 3
check "noauth.example: the external destination without its record is skipped and logged" \
	"$(grep -c '^policy-milter-report: skipped id=[0-9a-f]* to=agg@other.test: external destination: no v=DMARC1 authorization record$' "$E2E_DIR/run1.out")" 1
maildir=$E2E_DIR/mail/mail/new
wait_for 100 '[ "$(ls "$maildir" 2>/dev/null | wc -l)" -ge 2 ]'
sleep 1
check "Postfix delivered two reports into the rua mailbox" "$(ls "$maildir" 2>/dev/null | wc -l)" 2
check "nothing went to other.test" "$(grep -c 'to=<agg@other.test>' "$E2E_DIR/maillog")" 0

# each delivered mail parsed back: domain, To, subject, attachment name, rows, messages, schema
cat >"$E2E_DIR/parse.py" <<'PY'
import email, email.policy, gzip, re, sys
m = email.message_from_binary_file(open(sys.argv[1], "rb"), policy=email.policy.default)
xml = b""
name = ""
for part in m.iter_attachments():
    name = part.get_filename()
    xml = gzip.decompress(part.get_content())
open(sys.argv[2], "wb").write(xml)
counts = [int(c) for c in re.findall(rb"<count>(\d+)</count>", xml)]
dom = re.search(rb"<policy_published><domain>([^<]*)<", xml).group(1).decode()
rid = re.search(rb"<report_id>([^<]*)<", xml).group(1).decode()
subj = m["Subject"] == "Report Domain: %s Submitter: receiver.test Report-ID: <%s>" % (dom, rid)
fname = re.fullmatch(r"receiver\.test!%s!1795910400!1795996799!%s\.xml\.gz" % (re.escape(dom), rid), name)
print(dom, m["To"], "subject-ok" if subj else "subject-bad:" + str(m["Subject"]),
      "name-ok" if fname else "name-bad:" + str(name), len(counts), sum(counts))
PY
for m in "$maildir"/*; do
	python3 "$E2E_DIR/parse.py" "$m" "$E2E_DIR/back.xml" 2>&1 | tr '\n' ' '
	if xmllint --noout --schema "$E2E_TOP/../shared/spec/rfc9990-dmarc-2.0.xsd" "$E2E_DIR/back.xml" 2>/dev/null; then
		echo valid
	else
		echo invalid
	fi
done | sort >"$E2E_DIR/parsed"
check "each delivered report parsed back: subject, file name, rows, messages, schema" "$(cat "$E2E_DIR/parsed")" \
	"authd.example agg@reports.test subject-ok name-ok 1 2 valid
reports.test dmarc@reports.test subject-ok name-ok 2 4 valid"

"$E2E_TOP/src/policy-milter-report" --dmarc-reports --config "$E2E_DIR/policy.conf" \
	--day 2026-11-29 >"$E2E_DIR/run2.out" 2>&1
check "a re-run exits 0" "$?" 0
sleep 2
check "a re-run sends nothing new" "$(ls "$maildir" | wc -l) $(grep -c '^policy-milter-report: sent id=' "$E2E_DIR/run2.out")" "2 0"

postfix stop >/dev/null 2>&1
exit $fail
