# NAME
#	dmarc.sh - tests of policy-milter-report --dmarc-reports (sourced by run.sh)
# DESCRIPTION
#	Over tests/report/dmarc.log (records of 2026-11-29 for pass.test,
#	ext.test and norua.test written by hand with the keys the daemon's
#	"checks"."dmarc" gains for reports, a record of the day after, a
#	record without those keys, a rcpt-stage record, garbage lines, a
#	schema version 2 record and, last, a pass.test DMARC fail rescued by a
#	trusted ARC sealer: override trusted_forwarder with its comment) and dmarc-many.log (100 rua URIs): the
#	reports made (exactly the domains with a rua), their file names, the
#	exact XML of one, row counts equal to the messages, every report
#	valid against ../shared/spec/rfc9990-dmarc-2.0.xsd, non-mailto and
#	malformed URIs noted, at most 20 addresses; then delivery through a
#	fake sendmail that keeps each message: the Subject, the attachment
#	parsed back (MIME, base64, gzip, XML) equal to the file, the state
#	file, a re-run that sends nothing, a failing sendmail retried on the
#	next run, a run while another holds the state file's lock, --dry-run
#	sending nothing, and the ASan build over it all.
#	Uses run.sh's BIN, ASAN_BIN, W, ok, notok, check and check_file.

XSD=../shared/spec/rfc9990-dmarc-2.0.xsd
D=$W/dmarc
DL=tests/report/dmarc.log
DM=tests/report/dmarc-many.log
mkdir -p "$D/out" "$D/mail"

# A fake sendmail: checks its arguments, keeps each message as mail/N.eml.
cat >"$D/sendmail" <<SH
#!/bin/sh
[ "\$*" = "-t -oi -f dmarc-reports@mx.example.net" ] || { echo "bad args: \$*" >&2; exit 64; }
n=\$(ls "$D/mail" | wc -l)
cat >"$D/mail/\$((n + 1)).eml"
SH
chmod +x "$D/sendmail"
# shellcheck source=tests/report/dmarc-policy.sh
. tests/report/dmarc-policy.sh
# dconf FILE SENDMAIL - the policy file of these tests, with that sendmail
dconf() {
	dmarc_policy "$1" "$TOP/$DL" "$D/out" "$D/sent" "$2" "Example & Co" \
		dmarc-reports@mx.example.net dmarc-reports@mx.example.net
}
dconf "$D/policy.conf" "$D/sendmail"
# drun OUT ARGS... - the tool in --dmarc-reports mode with that policy; sets $rc
drun() {
	local out=$1
	shift
	"$BIN" --dmarc-reports --config "$D/policy.conf" "$@" >"$out" 2>"$out.err"
	rc=$?
}

# ---- the reports of a day, written only -------------------------------------
drun "$D/dry" --day 2026-11-29 --dry-run "$DL" "$DM"
check "dmarc --dry-run exits 0" "$rc" 0
check "dmarc: reports for exactly the domains with a rua" \
	"$(cd "$D/out" && ls | sed 's/![0-9a-f]*\.xml\.gz$//' | tr '\n' ' ')" \
	"mx.example.net!ext.test!1795910400!1795996799 mx.example.net!many.test!1795910400!1795996799 mx.example.net!pass.test!1795910400!1795996799 "
check "dmarc: garbage lines and schema version 2 counted and skipped" "$(cat "$D/dry.err")" \
	"policy-milter-report: skipped 3 malformed lines (first at $DL:12)"
check "dmarc: the period's DMARC results counted" "$(head -1 "$D/dry")" \
	"policy-milter-report: period 1795910400..1795996799: 10 DMARC results, 2 for no report, 3 reports"
check "dmarc --dry-run sends nothing" "$(ls "$D/mail" | wc -l) $([ -e "$D/sent" ] && echo state)" "0 "
pass_gz=$(ls "$D"/out/*'!pass.test!'*)
check "dmarc: file name receiver!domain!begin!end!id.xml.gz, id as in the report" \
	"$(basename "$pass_gz")" "mx.example.net!pass.test!1795910400!1795996799!$(zcat "$pass_gz" | sed -n 's/.*<report_id>\([0-9a-f]*\)<.*/\1/p').xml.gz"
zcat "$pass_gz" | sed 's|<report_id>[0-9a-f]*</report_id>|<report_id>ID</report_id>|' >"$D/pass.xml"
check_file "dmarc: the pass.test report, exactly" "$D/pass.xml" tests/report/expected-dmarc-pass.xml
for f in "$D"/out/*.xml.gz; do
	name=$(basename "$f")
	if zcat "$f" | xmllint --noout --schema "$XSD" - >"$D/xmllint.out" 2>&1; then
		ok "dmarc: $name validates against rfc9990-dmarc-2.0.xsd"
	else
		notok "dmarc: $name validates against rfc9990-dmarc-2.0.xsd"
		sed 's/^/    /' "$D/xmllint.out" | head -5
	fi
done
# counts - the sum of a report's <count>s
counts() { zcat "$1" | grep -o '<count>[0-9]*</count>' | tr -dc '0-9\n' | paste -sd+ | bc; }
check "dmarc: pass.test row counts sum to its 6 messages of the day (one rescued by a trusted ARC sealer)" "$(counts "$pass_gz")" 6
check "dmarc: ext.test counts its 1 message" "$(counts "$D"/out/*'!ext.test!'*)" 1
check "dmarc: the non-mailto and malformed URIs are noted" \
	"$(grep -c 'note domain=ext.test rua=.*ignored' "$D/dry")" 2
check "dmarc: ... and named in the report's error element" \
	"$(zcat "$D"/out/*'!ext.test!'* | grep -o '<error>[^<]*</error>')" \
	"<error>rua URI &quot;https://ext.test/dmarc&quot; ignored: not a mailto: URI (only mailto: is supported); rua URI &quot;mailto:bad address@ext.test&quot; ignored: not a plain address local@domain</error>"
check "dmarc: 100 rua URIs: 80 noted as over the limit" "$(grep 'note domain=many.test' "$D/dry")" \
	"policy-milter-report: note domain=many.test: 80 rua addresses ignored: at most 20 are used"

# ---- delivery -------------------------------------------------------------------
rm -rf "$D/out" && mkdir -p "$D/out"
drun "$D/send" --day 2026-11-29 "$DL" "$DM"
check "dmarc delivery exits 0" "$rc" 0
check "dmarc: one mail per address: pass.test 1, ext.test 1, many.test 20" "$(ls "$D/mail" | wc -l)" 22
check "dmarc: the state file lists every address sent to" "$(wc -l <"$D/sent")" 22
check "dmarc: each sent address logged" "$(grep -c '^policy-milter-report: sent id=' "$D/send")" 22
pass_id=$(basename "$(ls "$D"/out/*'!pass.test!'*)" | sed 's/.*!\([0-9a-f]*\)\.xml\.gz$/\1/')
grep -l "^To: <dmarc@pass.test>" "$D"/mail/*.eml >"$D/pass.mails"
check "dmarc: one mail to dmarc@pass.test" "$(wc -l <"$D/pass.mails")" 1
# the mail parsed back: Subject, attachment name and type, gzip, XML equal to the file
python3 - "$(cat "$D/pass.mails")" "$D/back" >"$D/parsed" 2>&1 <<'PY'
import email, email.policy, gzip, sys
m = email.message_from_binary_file(open(sys.argv[1], "rb"), policy=email.policy.default)
print("subject:", m["Subject"])
for part in m.iter_attachments():
    print("attachment:", part.get_content_type(), part.get_filename())
    open(sys.argv[2], "wb").write(gzip.decompress(part.get_content()))
PY
check "dmarc: the mail's Subject and attachment" "$(cat "$D/parsed")" \
	"subject: Report Domain: pass.test Submitter: mx.example.net Report-ID: <$pass_id>
attachment: application/gzip mx.example.net!pass.test!1795910400!1795996799!$pass_id.xml.gz"
check_file "dmarc: the attachment unzipped is the report" "$D/back" <(zcat "$D"/out/*'!pass.test!'*)
check "dmarc: the external destination check let the domain's own addresses through" \
	"$(grep -c 'skipped id=' "$D/send")" 0
drun "$D/again" --day 2026-11-29 "$DL" "$DM"
check "dmarc: a re-run of the day exits 0" "$rc" 0
check "dmarc: a re-run of the day sends nothing" "$(ls "$D/mail" | wc -l) $(wc -l <"$D/sent")" "22 22"
check "dmarc: ... and says so for each report" "$(grep -c 'already sent id=.* (every address)' "$D/again")" 3

# a sendmail that fails: exit 1, nothing recorded; the next run sends it
rm -f "$D/sent" "$D"/mail/*
dconf "$D/policy.conf" /bin/false
drun "$D/fail" --day 2026-11-29 "$DL"
check "dmarc: a failing sendmail exits 1" "$rc" 1
check "dmarc: ... is named on stderr" "$(grep -c 'not sent id=.* to=dmarc@pass.test: /bin/false failed (status 1)' "$D/fail.err")" 1
check "dmarc: ... and nothing is recorded as sent" "$([ -e "$D/sent" ] && wc -l <"$D/sent" || echo 0)" 0
dconf "$D/policy.conf" "$D/sendmail"
drun "$D/retry" --day 2026-11-29 "$DL"
check "dmarc: the next run sends what failed" "$rc $(ls "$D/mail" | wc -l)" "0 2"
rm -f "$D/sent" "$D"/mail/*
flock "$D/sent" "$BIN" --dmarc-reports --config "$D/policy.conf" --day 2026-11-29 "$DL" >"$D/locked" 2>&1
check "dmarc: a run while another holds the state file's lock exits 75, sends nothing" \
	"$? $(ls "$D/mail" | wc -l) $(grep -c 'another run holds its lock' "$D/locked")" "75 0 1"

# ---- the period, the policy file, usage ----------------------------------------
drun "$D/range" --since "2026-11-29 10:00" --until "2026-11-29 11:00" --dry-run "$DL"
check "dmarc: --since/--until bound the period" \
	"$(sed -n 1p "$D/range")" "policy-milter-report: period 1795946400..1795949999: 1 DMARC results, 0 for no report, 1 report"
drun "$D/deflog" --day 2026-11-29 --dry-run
check "dmarc: without LOG, log.json_file is read" "$(sed -n 1p "$D/deflog")" \
	"policy-milter-report: period 1795910400..1795996799: 9 DMARC results, 2 for no report, 2 reports"
echo 'reports: { org_name = "x"; };' >"$D/bare.conf"
"$BIN" --dmarc-reports --config "$D/bare.conf" --day 2026-11-29 "$DL" >"$D/bare" 2>&1
check "dmarc: a policy without reports.email and reports.from exits 78" "$?" 78
usage_case "--day with --since" --dmarc-reports --day 2026-11-29 --since 2026-11-29 "$DL"
usage_case "--day not a day" --dmarc-reports --day 2026-11-29T10:00 "$DL"
usage_case "--dmarc-reports with --json" --dmarc-reports --json "$DL"
usage_case "--dry-run without --dmarc-reports" --dry-run "$DL"

# ---- the ASan+UBSan build over the same --------------------------------------------
rm -rf "$D/out" "$D/sent" && mkdir -p "$D/out"
ASAN_OPTIONS=detect_leaks=1 UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1 \
	"$ASAN_BIN" --dmarc-reports --config "$D/policy.conf" --day 2026-11-29 "$DL" "$DM" >"$D/asan" 2>"$D/asan.err"
check "dmarc: the ASan build runs clean" "$? $(grep -c 'Sanitizer' "$D/asan.err")" "0 0"
