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
#
#	Then the HTML report (issue 19): policy-milter (tests/e2e/policy.conf)
#	behind the same Postfix, 25 of the e2e scenarios (each asserting its
#	replies) make a JSON decision log; policy-milter-report --html makes
#	the page, whose tables and totals must equal the text report's
#	(htmlcheck.py). Headless Chromium opens it through the DevTools
#	protocol (chromeshot.py, in a network namespace of its own): no
#	console error, no exception, no request of any kind, and a PNG
#	screenshot 1280 pixels wide, of many colours, with the chart's bars
#	in it (python3-pil counts them). chromeshot.py is first shown to
#	catch a planted console.error, exception and image request. The page
#	and the screenshot are left in build/report-e2e.html and .png.
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
	make -s -C "$E2E_TOP" src/policy-milter src/policy-milter-report >/dev/null || exit 2
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
# the e2e world's zones (without DKIM keys: the scenarios run below sign
# nothing) and two of our own
zdir=$E2E_DIR/zones
mkdir -p "$zdir"
cp "$E2E_SRC"/zones/*.zone "$zdir/" || die "cannot copy the zones"
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
nsd_serve "$zdir" reports.test. "$E2E_SRC/zones/servfail.list"
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

# ---- the HTML report of a decision log made by the e2e world ----------------
# policy-milter (tests/e2e/policy.conf) behind the same Postfix; some of the
# e2e scenarios (each asserts its own replies) make its JSON decision log.
mkdir -p /run/policy-milter/lists
cp "$E2E_SRC"/lists/*.txt /run/policy-milter/lists/
chmod -R a+rX /run/policy-milter/lists
cp "$E2E_SRC/policy.conf" "$E2E_DIR/live-policy.conf"
milter_start "$E2E_DIR/live-policy.conf"
postconf -e "smtpd_milters = unix:$MILTER_SOCKET" \
	"virtual_mailbox_domains = reports.test other.test example.org example.net ov.example.net"
postfix reload >/dev/null 2>&1
wait_for 100 "smtp_ping 127.0.0.1" || die "postfix does not answer after its reload"
scn=
for s in spf-fail spf-softfail spf-pass spf-neutral spf-permerror ipv6-fail unknown-recipient \
	harvest recipient-mixed relay-denied too-many-recipients syntax-rcpt lists-client-block \
	lists-sender-block sender-domain-nxdomain sender-domain-null-mx null-sender-helo-fail \
	dmarc-reject dmarc-quarantine-tag dmarc-none dmarc-aspf-strict-fail exempt-spf-fail-postmaster \
	override-rcpt-dmarc-log dnsbl-listed iprev-fail; do
	scn="$scn $E2E_SRC/scenarios/$s.scn"
done
mkdir -p "$E2E_DIR/keys"
# shellcheck disable=SC2086 # one word per scenario file
perl "$E2E_SRC/scenario.pl" --maildir "$E2E_DIR/mail/mail" --work "$E2E_DIR" --keys "$E2E_DIR/keys" \
	-j 4 $scn >"$E2E_DIR/scenarios.out" 2>&1
check "the e2e scenarios that make the log pass" \
	"$(grep -c '^ok' "$E2E_DIR/scenarios.out") $(grep -c '^not ok' "$E2E_DIR/scenarios.out")" "$(echo $scn | wc -w) 0"
grep '^not ok' "$E2E_DIR/scenarios.out" | head -5 | sed 's/^/    /'
milter_stop
dlog=/run/policy-milter/decisions.json
html=$E2E_DIR/report.html
REPORT=$E2E_TOP/src/policy-milter-report
"$REPORT" "$dlog" >"$E2E_DIR/report.txt" 2>"$E2E_DIR/report.err"
"$REPORT" --html "$html" "$dlog" 2>>"$E2E_DIR/report.err"
check "the e2e log: text and HTML reports made, no diagnostics" "$? $(cat "$E2E_DIR/report.err")" "0 "
check "the e2e log has records, refusals and would-refusals" \
	"$(sed -n 's/^records: *\([0-9]*\) read.*/\1/p' "$E2E_DIR/report.txt" | grep -c '^[1-9]') $(sed -n '/^Decisions by action/,/^$/p' "$E2E_DIR/report.txt" | awk '$1 == "reject" && $2 > 0 && $3 > 0' | wc -l)" "1 1"
PY=/usr/bin/python3
[ -x "$PY" ] || PY=python3
if "$PY" "$HERE/htmlcheck.py" compare "$E2E_DIR/report.txt" "$html" >"$E2E_DIR/htmlcheck.out" 2>&1; then
	ok "the e2e log: the page's totals and tables equal the text report's ($(grep -c '^same' "$E2E_DIR/htmlcheck.out") compared)"
else
	notok "the e2e log: the page's totals and tables equal the text report's"
	grep -v '^same' "$E2E_DIR/htmlcheck.out" | head -20 | sed 's/^/    /'
fi
cp "$dlog" "$E2E_DIR/decisions-e2e.json" # kept with REPORT_E2E_KEEP=1
cp "$html" "$E2E_TOP/build/report-e2e.html" 2>/dev/null || true

# Headless Chromium (tests/report/chromeshot.py: the DevTools protocol) in a
# network namespace of its own, loopback only: a screenshot, no console
# error, no exception, no request. First the check itself, on a throwaway
# page that logs an error, throws and loads an image: it must see all three.
if ! command -v chromium >/dev/null || ! "$PY" -c 'import websocket, PIL' 2>/dev/null; then
	notok "chromium, python3-websocket and python3-pil are installed (tests/deps.sh)"
else
	# shoot NAME PAGE - chromeshot.py on PAGE in a fresh network namespace; output in $E2E_DIR/NAME.out
	shoot() {
		unshare -n sh -c 'ip link set lo up && exec "$0" "$@"' "$PY" "$HERE/chromeshot.py" "$2" \
			"$E2E_DIR/$1.png" "$E2E_DIR/chromium-$1" 1280 >"$E2E_DIR/$1.out" 2>&1
	}
	cat >"$E2E_DIR/planted.html" <<-'EOF'
		<!DOCTYPE html><html lang="en"><head><meta charset="utf-8"><title>planted</title></head>
		<body><p>planted</p><script>console.error("planted console error"); throw new Error("planted exception");</script>
		<img src="http://192.0.2.1/planted.png" alt=""></body></html>
	EOF
	shoot planted "$E2E_DIR/planted.html"
	check "chromeshot.py sees a planted console error, exception and request (exit 1)" \
		"$? $(grep -c -e '^console-error: planted console error$' -e '^exception: Error: planted exception' \
			-e '^request: http://192.0.2.1/planted.png$' "$E2E_DIR/planted.out")" "1 3"
	shoot page "$html"
	rc=$?
	check "Chromium: the page loads with no console error, no exception and no request" \
		"$rc $(grep -v '^screenshot ' "$E2E_DIR/page.out")" "0 "
	[ "$rc" = 0 ] || sed 's/^/    /' "$E2E_DIR/page.out" | head -10
	# the PNG: its size as reported, tall enough for the whole page, not blank, the chart drawn
	"$PY" - "$E2E_DIR/page.png" >"$E2E_DIR/png.out" 2>&1 <<-'EOF'
		import sys
		from PIL import Image
		im = Image.open(sys.argv[1])
		print(im.format, im.size[0], "tall" if im.size[1] > 1200 else "short:%d" % im.size[1])
		px = im.convert("RGB").getdata()
		colours = im.convert("RGB").getcolors(1 << 24)
		print("colours", "many" if len(colours) > 200 else len(colours))
		counts = dict((c, n) for n, c in colours)
		print("refusal-red", "drawn" if counts.get((192, 57, 43), 0) > 2000 else counts.get((192, 57, 43), 0),
		      "would-amber", "drawn" if counts.get((229, 159, 28), 0) > 200 else counts.get((229, 159, 28), 0))
	EOF
	check "the screenshot is a PNG 1280 pixels wide of the whole page, many colours, the chart's bars drawn" \
		"$(tr '\n' ' ' <"$E2E_DIR/png.out")" "PNG 1280 tall colours many refusal-red drawn would-amber drawn "
	cp "$E2E_DIR/page.png" "$E2E_TOP/build/report-e2e.png" 2>/dev/null || true
fi

postfix stop >/dev/null 2>&1
exit $fail
