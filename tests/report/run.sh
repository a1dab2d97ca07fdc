#!/bin/bash
# NAME
#	run.sh - tests of policy-milter-report (make check: suite "report")
# SYNOPSIS
#	tests/report/run.sh
# DESCRIPTION
#	Builds src/policy-milter-report and its ASan+UBSan variant
#	build/asan/policy-milter-report, then runs them over the hand-made
#	fixture.log (known counts, exact expected text, JSON and CSV), the
#	same log gzip-compressed (made here with gzip -c), split into a
#	rotated .gz and a live file, on standard input, a log with garbage
#	lines made here (truncated, syslog, invalid UTF-8, 1 MB lines, NUL
#	bytes, ...), each filter, bad usage (exit 64) and inputs that
#	cannot be read (exit 1). Prints TAP "ok - ..." / "not ok - ..." lines.
# DIAGNOSTICS
#	Exit 0 when every test passed, 1 otherwise, 2 when the build failed.
set -u
cd "$(dirname "$0")/../.." || exit 2
TOP=$PWD
BIN=$TOP/src/policy-milter-report
ASAN_BIN=$TOP/build/asan/policy-milter-report
FIX=tests/report/fixture.log
W=build/report-test
fail=0

make -s src/policy-milter-report build/asan/policy-milter-report \
	build/tests/report/test_report build/asan/tests/report/test_report >/dev/null || {
	echo "not ok - report: build failed"
	exit 2
}
rm -rf "$W" && mkdir -p "$W"

ok() { echo "ok - report: $1"; }
notok() {
	echo "not ok - report: $1"
	fail=1
}
# check DESC GOT WANT - equal strings
check() {
	if [ "$2" = "$3" ]; then ok "$1"; else
		notok "$1"
		echo "    got:  $2"
		echo "    want: $3"
	fi
}
# check_file DESC GOT_FILE WANT_FILE - equal files (diff shown)
check_file() {
	if cmp -s "$2" "$3"; then ok "$1"; else
		notok "$1"
		diff -u "$3" "$2" | head -40 | sed 's/^/    /'
	fi
}
# run OUT ARGS... - run the tool, stdout to OUT, stderr to OUT.err; sets $rc
run() {
	local out=$1
	shift
	"$BIN" "$@" >"$out" 2>"$out.err"
	rc=$?
}
# tables FILE - the text report without its "inputs:" line
tables() { sed '/^inputs:/d' "$1"; }
# matched ARGS... - the "matched" count of a filtered text report
matched() {
	"$BIN" "$@" "$FIX" | sed -n 's/^records: *[0-9]* read, \([0-9]*\) matched$/\1/p'
}

# ---- unit tests (cmocka), plain and ASan+UBSan ----------------------------
for variant in plain asan; do
	t=build/tests/report/test_report
	[ $variant = asan ] && t=build/asan/tests/report/test_report
	CMOCKA_MESSAGE_OUTPUT=tap ASAN_OPTIONS=detect_leaks=1 "$t" >"$W/unit-$variant.log" 2>&1
	rc=$?
	sed -n "s/^\(not ok\|ok\) [0-9]* - \(.*\)/\1 - report: unit $variant \2/p" "$W/unit-$variant.log" >"$W/unit-$variant.tap"
	cat "$W/unit-$variant.tap"
	grep -q '^not ok' "$W/unit-$variant.tap" && fail=1
	if [ "$rc" != 0 ] && ! grep -q '^not ok' "$W/unit-$variant.tap"; then
		notok "unit $variant: exited with status $rc"
		tail -20 "$W/unit-$variant.log" | sed 's/^/    /'
	fi
done

# ---- the fixture: exact output in each format ----------------------------
run "$W/text" "$FIX"
check "text report exit status" "$rc" 0
check_file "text report equals expected.txt" "$W/text" tests/report/expected.txt
check "no diagnostics for a clean log" "$(cat "$W/text.err")" ""
run "$W/json" --json "$FIX"
check_file "--json equals expected.json" "$W/json" tests/report/expected.json
if python3 -c 'import json,sys; json.load(open(sys.argv[1]))' "$W/json" 2>/dev/null; then
	ok "--json output is valid JSON"
else notok "--json output is valid JSON"; fi
run "$W/csv" --csv "$FIX"
check_file "--csv equals expected.csv" "$W/csv" tests/report/expected.csv
check "--csv: every row has four fields" \
	"$(python3 -c 'import csv,sys; print(sorted({len(r) for r in csv.reader(open(sys.argv[1]))}))' "$W/csv")" "[4]"
run "$W/empty" /dev/null
check_file "an empty log gives the empty report (expected-empty.txt)" "$W/empty" tests/report/expected-empty.txt
check "--top 1 keeps one client" "$("$BIN" --csv --top 1 "$FIX" | grep -c '^client,')" 1
check "--top 1: the first by refusals, ties by address" \
	"$("$BIN" --csv --top 1 "$FIX" | grep '^client,')" "client,198.51.100.7,refusals,3"
check "--top 0 keeps every client" "$("$BIN" --csv --top 0 "$FIX" | grep -c '^client,')" 6
check "--top limits each failing check's domains" \
	"$("$BIN" --csv --top 1 "$FIX" | grep -c '^failing_check,')" 6

# ---- compressed, rotated, standard input ---------------------------------
gzip -c "$FIX" >"$W/fixture.log.gz"
run "$W/gz" "$W/fixture.log.gz"
check "gzip-compressed log: exit status" "$rc" 0
check_file "gzip-compressed log gives the same report" <(tables "$W/gz") <(tables tests/report/expected.txt)
head -n 9 "$FIX" | gzip -c >"$W/rot.log.1.gz"
tail -n +10 "$FIX" >"$W/rot.log"
run "$W/rot" "$W/rot.log.1.gz" "$W/rot.log"
check_file "rotated .gz plus live log give the same report" <(tables "$W/rot") <(tables tests/report/expected.txt)
check "both inputs are listed" "$(grep '^inputs:' "$W/rot")" "inputs:    $W/rot.log.1.gz $W/rot.log"
cat "$W/rot.log.1.gz" <(gzip -c "$W/rot.log") >"$W/members.gz"
run "$W/members" "$W/members.gz"
check_file "a gzip file of two members (cat of two .gz) reads whole" <(tables "$W/members") <(tables tests/report/expected.txt)
"$BIN" - <"$FIX" >"$W/stdin" 2>&1
check_file "- reads standard input" <(tables "$W/stdin") <(tables tests/report/expected.txt)
check "standard input is named stdin" "$(grep '^inputs:' "$W/stdin")" "inputs:    stdin"
gzip -c "$FIX" | "$BIN" --json - >"$W/stdin-gz.json" 2>&1
check_file "gzip on standard input, --json" <(grep -v '^    "stdin"$' "$W/stdin-gz.json") \
	<(grep -v '^    "tests/report/fixture.log"$' tests/report/expected.json)

# ---- garbage lines ----------------------------------------------------------
# Made here: the fixture's 22 records, one of them with CRLF (still a record),
# interleaved with lines that are not records. Every table must equal the
# fixture's; the malformed count and each reason are checked.
G=$W/garbage.log
line() { sed -n "${1}p" "$FIX"; }
{
	line 1
	line 2 | head -c 300; echo                          # 2: truncated record
	echo 'Nov 29 21:30:00 mx postfix/smtpd[4242]: connect from unknown[192.0.2.1]' # 3: syslog
	line 2
	line 3 | sed 's/"helo":"client.test"/"helo":"\xff\xfeclient"/'; # 5: invalid UTF-8
	line 3
	head -c 1048576 /dev/zero | tr '\0' 'A'; echo       # 7: 1 MiB of text (kept, not JSON)
	l4=$(line 4) # 8: a record over 1 MiB (a 1.1 MB detail)
	printf '%s"detail":"' "${l4%%\"detail\":null*}"
	head -c 1100000 /dev/zero | tr '\0' x
	printf '"%s\n' "${l4#*\"detail\":null}"
	line 4
	line 5 | sed 's/"stage"/"st\x00age"/'                # 10: NUL byte
	line 5
	echo '{"v":1,"time":}'                              # 12: invalid JSON
	line 6 | sed 's/^{"v":1,/{"v":2,/'                  # 13: unknown schema version
	line 6
	line 7 | sed 's/"action":"reject",//'               # 15: missing required key
	line 7
	line 8 | sed 's/"would":false/"would":"false"/'     # 17: mistyped key
	line 8
	echo                                                # 19: empty line
	echo '[1,2,3]'                                      # 20: not an object
	line 9 | sed 's/"sender":"t@pass.test"/"sender":"t\\u0000@pass.test"/' # 21: escaped NUL in a key string
	line 9
	line 10 | sed 's/"action":"reject"/"action":"bounce"/' # 23: unknown action
	line 10
	line 11 | sed 's/"time":"2026-11-29T22:20:00.000Z"/"time":"2026-11-29 22:20"/' # 25: bad time
	line 11
	line 12 | sed 's/^{"v":1,/{"v":1,"v":1,/'           # 27: duplicate key
	line 12 | sed 's/$/\r/'                              # 28: CRLF: a record
	line 13 | sed 's/"code":550/"code":99/;s/"reply":null/"reply":{"code":99,"xcode":null,"text":null}/' # 29: bad code
	line 13
	echo '{"v":1.0}'                                    # 31: v not an integer
	head -c 100000 /dev/zero | tr '\0' '['; echo        # 32: nested too deep
	for n in $(seq 14 21); do line "$n"; done          # 33..40
	line 22                                             # 41
	printf '\xc3\x28 not UTF-8 at all\n'                 # 42: invalid UTF-8, not JSON
	line 22 | head -c 200                               # 43: the last line cut (no newline)
} >"$G"
run "$W/garbage" "$G"
check "garbage: exit status 0" "$rc" 0
check_file "garbage: every table equals the fixture's" \
	<(sed '/^inputs:/d;/^skipped /d' "$W/garbage") <(tables tests/report/expected.txt)
check "garbage: the exact malformed count and the first one" "$(grep '^skipped' "$W/garbage")" \
	"skipped 21 malformed lines (first at $G:2)"
check "garbage: the same line on stderr" "$(cat "$W/garbage.err")" \
	"policy-milter-report: skipped 21 malformed lines (first at $G:2)"
check "garbage: 22 records read" "$(grep '^records:' "$W/garbage")" "records:   22 read, 22 matched"
"$BIN" -v "$G" 2>&1 >/dev/null | sed -n 's/^policy-milter-report: [^:]*:\([0-9]*\): malformed: /\1 /p' >"$W/reasons"
cat >"$W/reasons.want" <<'EOF'
2 not JSON: '}' expected near end of file
3 not JSON: '[' or '{' expected near 'Nov'
5 not a record: not UTF-8
7 not JSON: '[' or '{' expected
8 line longer than 1048576 bytes
10 not a record: NUL byte
12 not JSON: unexpected token near '}'
13 unsupported schema version: v
15 missing or mistyped key: action
17 missing or mistyped key: would
19 not JSON: '[' or '{' expected near end of file
20 not a record: not a JSON object
21 escaped NUL: in a string the report groups by
23 unknown value: action
25 not an RFC 3339 time: time
27 not JSON: duplicate object key near '"v"'
29 out of range: reply.code
31 mistyped key: v
32 not JSON: maximum parsing depth reached near '['
42 not a record: not UTF-8
43 not JSON: unexpected token near end of file
EOF
check_file "garbage: -v gives each malformed line and why" "$W/reasons" "$W/reasons.want"
ASAN_OPTIONS=abort_on_error=0:detect_leaks=1 UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1 \
	"$ASAN_BIN" -v "$G" >"$W/asan.out" 2>"$W/asan.err"
rc=$?
check "garbage under ASan+UBSan: exit status 0" "$rc" 0
if grep -qE 'Sanitizer|runtime error' "$W/asan.err"; then
	notok "garbage under ASan+UBSan: no sanitizer report"
	grep -E -A5 'Sanitizer|runtime error' "$W/asan.err" | head -30 | sed 's/^/    /'
else ok "garbage under ASan+UBSan: no sanitizer report"; fi
check_file "garbage under ASan+UBSan: the same report" "$W/asan.out" "$W/garbage"
for fmt in --json --csv; do
	ASAN_OPTIONS=detect_leaks=1 "$ASAN_BIN" $fmt --top 0 "$FIX" "$G" "$W/fixture.log.gz" >/dev/null 2>"$W/asan$fmt.err"
	rc=$?
	if [ "$rc" = 0 ] && ! grep -qE 'Sanitizer|runtime error' "$W/asan$fmt.err"; then
		ok "ASan+UBSan: $fmt over plain, garbage and gzip logs"
	else
		notok "ASan+UBSan: $fmt over plain, garbage and gzip logs (exit $rc)"
		head -30 "$W/asan$fmt.err" | sed 's/^/    /'
	fi
done

# ---- greylisting and rate limits (issue 16) ----------------------------------
# state.log: hand-made records as the contract writes checks.greylist[] and
# checks.ratelimit[] (made once by hand, see the git log): 8
# triplets first seen, 5 passed (ages 360, 600, 1800, 600 and one unknown),
# 3 never retried (one of them retried only before its new), 4 rate-limited keys.
SF=tests/report/state.log
HF=tests/report/state-hostile.log
csvv() { grep "^$2," "$1" | cut -d, -f4; } # csvv FILE SECTION,KEY,METRIC
run "$W/state" "$SF"
check "state: exit status" "$rc" 0
check_file "state: text equals expected-state.txt" "$W/state" tests/report/expected-state.txt
check "state: no diagnostics" "$(cat "$W/state.err")" ""
run "$W/state.json" --json "$SF"
check_file "state: --json equals expected-state.json" "$W/state.json" tests/report/expected-state.json
run "$W/state.csv" --csv "$SF"
check_file "state: --csv equals expected-state.csv" "$W/state.csv" tests/report/expected-state.csv
C=$W/state.csv
check "state: triplets first seen (distinct, a repeated new counts once)" "$(csvv "$C" greylisting,first_seen,count)" 8
check "state: passed after retry" "$(csvv "$C" greylisting,passed,count)" 5
check "state: median age at pass (nearest rank of 360 600 600 1800)" "$(csvv "$C" greylisting,pass_age_median,seconds)" 600
check "state: 90th percentile age at pass" "$(csvv "$C" greylisting,pass_age_p90,seconds)" 1800
check "state: never retried (a retry before the new does not count)" "$(csvv "$C" greylisting,never_retried,count)" 3
check "state: early retries" "$(csvv "$C" greylist_state,early,count)" 2
check "state: known" "$(csvv "$C" greylist_state,known,count)" 3
check "state: auto-allowed" "$(csvv "$C" greylist_state,auto,count)" 1
check "state: store errors" "$(csvv "$C" greylist_state,error,count)" 1
check "state: rate-limited keys by refusals, ties by rule" \
	"$(grep '^ratelimited,.*,refusals,' "$C" | cut -d, -f2,4 | tr '\n' ' ')" \
	"per-user:sasl_user:alice,3 per-net:client_network:2001:db8:1::/48,2 per-ip:client_address:198.51.100.7,1 per-sender:sender:b@x.test,1 "
check "state: an ok or error state is no refusal" "$(grep -c '^ratelimited,.*192.0.2.11' "$C")" 0
check "state: first and last refusal of a key" \
	"$(grep '^ratelimited,per-user:sasl_user:alice,[fl]' "$C" | cut -d, -f4 | tr '\n' ' ')" \
	"2026-12-01T10:20:00.000Z 2026-12-01T10:50:00.000Z "
check "state: --top 2 keeps two rate-limited keys" "$("$BIN" --top 2 "$SF" | sed -n '/^Top rate-limited keys/,$p' | grep -c '^  per-')" 2
check "state: --top 0 keeps all of them" "$("$BIN" --csv --top 0 "$SF" | grep -c '^ratelimited,.*,refusals,')" 4
"$BIN" --csv --until '2026-12-01 13:05' "$SF" >"$W/state-until.csv"
check "state: --until: first seen in the period only" "$(csvv "$W/state-until.csv" greylisting,first_seen,count)" 7
check "state: --until: a retry after the period still counts as one" \
	"$(csvv "$W/state-until.csv" greylisting,never_retried,count)" 2
check "state: --until: passed in the period only" "$(csvv "$W/state-until.csv" greylisting,passed,count)" 4
tac "$SF" >"$W/state-rev.log"
run "$W/state-rev" "$W/state-rev.log"
check_file "state: the same report whatever the order of the lines" <(tables "$W/state-rev") <(tables tests/report/expected-state.txt)
head -n 14 "$SF" | gzip -c >"$W/state.log.1.gz"
tail -n +15 "$SF" >"$W/state.log"
run "$W/state-rot" "$W/state.log.1.gz" "$W/state.log"
check_file "state: rotated .gz plus live log give the same report" <(tables "$W/state-rot") <(tables tests/report/expected-state.txt)

# state-hostile.log: 27 records whose 29 bad elements (not an object, a
# member missing, mistyped, out of range, too long, with NUL, unknown state
# or key kind) are skipped and counted, the good ones still counted, and one
# line whose integer does not fit (malformed).
run "$W/hostile" --csv "$HF"
check "hostile: exit status 0" "$rc" 0
check "hostile: records read" "$(csvv "$W/hostile" records,read,count)" 27
check "hostile: one malformed line" "$(csvv "$W/hostile" malformed,lines,count)" 1
check "hostile: elements skipped" "$(csvv "$W/hostile" state_elements,skipped,count)" 29
check "hostile: the first skipped, where and why" "$(csvv "$W/hostile" state_elements,first,location)" \
	"$HF:1: checks.greylist: not an array"
check "hostile: the good greylist elements count" "$(csvv "$W/hostile" greylist_state,new,count)" 4
check "hostile: the good rate-limit elements count" "$(csvv "$W/hostile" ratelimited,per-ip:client_address:198.51.100.20,refusals)" 3
check "hostile: the count on stderr" "$(sed -n 2p "$W/hostile.err")" \
	"policy-milter-report: skipped 29 greylist/ratelimit elements (first at $HF:1: checks.greylist: not an array)"
"$BIN" -v "$HF" 2>&1 >/dev/null | sed -n 's/^policy-milter-report: [^:]*:\([0-9]*\): skipped \([0-9]*\) greylist\/ratelimit elements*: /\1 \2 /p' >"$W/hostile.why"
check_file "hostile: -v gives each record's skipped elements and the first reason" "$W/hostile.why" tests/report/expected-hostile-why.txt
# a record of 4000 good and 4000 bad elements, and one of 20000 empty objects
good=$(sed -n 27p "$HF" | sed 's/.*"greylist":\[\({[^}]*}\),.*/\1/')
{
	printf '{"v":1,"time":"2026-12-01T16:00:00.000Z","queue_id":null,"stage":"eom","client":{"addr":"198.51.100.20","name":null,"iprev":null},"helo":null,"sender":"h@h.test","recipients":[],"checks":{"greylist":['
	for i in $(seq 1 4000); do printf '%s,{"state":"passed","age":1e3},' "$good"; done
	printf '{}],"ratelimit":['
	for i in $(seq 1 20000); do printf '{},'; done
	printf '[]]},"dnsbl":[],"action":"accept","would":false,"dry_run":false,"reply":null,"check":null,"reason":null,"rule":null,"detail":null}\n'
} >"$W/huge.log"
ASAN_OPTIONS=detect_leaks=1 UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1 \
	"$ASAN_BIN" --csv "$W/huge.log" >"$W/huge.csv" 2>"$W/huge.err"
check "huge arrays under ASan+UBSan: exit status 0" "$?" 0
check "huge arrays: 4000 good elements counted" "$(csvv "$W/huge.csv" greylist_state,new,count)" 4000
check "huge arrays: 4001 + 20001 bad elements skipped" "$(csvv "$W/huge.csv" state_elements,skipped,count)" 24002
for fmt in "" --json --csv; do
	ASAN_OPTIONS=detect_leaks=1 UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1 \
		"$ASAN_BIN" -v $fmt --top 0 "$SF" "$HF" "$W/huge.log" "$W/state.log.1.gz" >/dev/null 2>"$W/asan-state$fmt.err"
	rc=$?
	if [ "$rc" = 0 ] && ! grep -qE 'Sanitizer|runtime error' "$W/asan-state$fmt.err"; then
		ok "ASan+UBSan: state, hostile and huge logs ${fmt:-text}"
	else
		notok "ASan+UBSan: state, hostile and huge logs ${fmt:-text} (exit $rc)"
		grep -E -A5 'Sanitizer|runtime error' "$W/asan-state$fmt.err" | head -30 | sed 's/^/    /'
	fi
done

# ---- strings from the log are escaped in text, kept in JSON ----------------
line 6 | sed 's/"recipients":\["nobody@example.org"\]/"recipients":["\\u00e9vil\\u0001,\\"x\\"@example.org"]/' >"$W/esc.log"
check "text escapes control characters, keeps UTF-8" \
	"$("$BIN" "$W/esc.log" | grep example.org)" '  évil\x01,"x"@example.org         1'
check "CSV quotes a field with a comma or quote" \
	"$("$BIN" --csv "$W/esc.log" | grep '^unknown_recipient')" 'unknown_recipient,"évil\x01,""x""@example.org",attempts,1'
check "JSON keeps the string" "$("$BIN" --json "$W/esc.log" | grep '"recipient"')" \
	'      "recipient": "évil\u0001,\"x\"@example.org",'

# ---- --html: one self-contained page, the same numbers as the text report ----
# htmlcheck.py compare parses both (the text report's tables, the page's
# tables by id and its totals) and prints one "same"/"differs" line each.
HC=tests/report/htmlcheck.py
# html_same DESC LOG ARGS... - the page and the text report of the same log and options agree
html_same() {
	local desc=$1 log=$2
	shift 2
	"$BIN" "$@" "$log" >"$W/hs.txt" 2>/dev/null
	"$BIN" --html "$W/hs.html" "$@" "$log" 2>/dev/null
	if python3 "$HC" compare "$W/hs.txt" "$W/hs.html" >"$W/hs.out" 2>&1 &&
		[ "$(grep -c '^same' "$W/hs.out")" -ge 20 ]; then
		ok "--html: $desc: every table and total equals the text report's ($(grep -c '^same' "$W/hs.out") compared)"
	else
		notok "--html: $desc: every table and total equals the text report's"
		grep -v '^same' "$W/hs.out" | head -20 | sed 's/^/    /'
	fi
}
run "$W/page.out" --html "$W/page.html" "$FIX"
check "--html: exit status" "$rc" 0
check "--html FILE: nothing on standard output or standard error" "$(cat "$W/page.out" "$W/page.out.err")" ""
check "--html: a page" "$(head -c 15 "$W/page.html")" "<!DOCTYPE html>"
html_same "the fixture" "$FIX"
html_same "the fixture, --top 1" "$FIX" --top 1
html_same "the fixture, --top 0" "$FIX" --top 0
html_same "the fixture, filters" "$FIX" --client 198.51.100.0/24 --since 2026-11-29T21:30:00Z --action reject --action tempfail
html_same "the fixture, --domain and --until" "$FIX" --domain test --until '2026-11-30 01:00'
html_same "greylisting and rate limits (state.log)" "$SF"
html_same "hostile greylisting elements (state-hostile.log)" "$HF"
html_same "the garbage log (malformed lines)" "$G"
html_same "an empty log" /dev/null
python3 "$HC" text "$W/page.html" t-clients >"$W/page.clients"
check "--html: the page's own figures (198.51.100.7 first, 3 refusals)" \
	"$(python3 "$HC" text "$W/page.html" refused) $(sed -n 's/^ *\(198\.51\.100\.7\) *\([0-9]*\) *$/\1 \2/p' "$W/page.clients" | head -1)" \
	"11 198.51.100.7 3"
if python3 "$HC" selfcontained "$W/page.html" >"$W/page.sc" 2>&1; then
	ok "--html: well-formed, no script, no link, no fetch of any kind"
else
	notok "--html: well-formed, no script, no link, no fetch of any kind"
	sed 's/^/    /' "$W/page.sc" | head
fi
# the check itself fails on a page that fetches or runs something
for bad in '<script>console.log(1)</script>' '<img src="x.png" alt="">' '<link rel="stylesheet" href="s.css">' \
	'<p style="background:url(http://x/)">x</p>' '<p onclick="x()">x</p>' '<div><p>x</div>'; do
	sed "s|</main>|$bad</main>|" "$W/page.html" >"$W/bad.html"
	if python3 "$HC" selfcontained "$W/bad.html" >/dev/null 2>&1; then
		notok "--html: the self-containment check catches $bad"
	else ok "--html: the self-containment check catches $bad"; fi
done
check "--html: lang, title, a Content-Security-Policy that forbids every fetch" \
	"$(grep -c -e '^<html lang="en">$' -e '^<title>policy-milter decision report, 2026-11-29T21:00 to 2026-11-30T01:45 UTC</title>$' \
		-e "content=\"default-src 'none'; style-src 'unsafe-inline'\"" "$W/page.html")" 3
check "--html: the chart is an SVG image with its title and description" \
	"$(grep -c -e '<svg id="chart" viewBox="0 0 960 300" role="img" aria-labelledby="chart-title chart-desc"' \
		-e '<title id="chart-title">Refusals and would-refusals per hour (UTC)</title>' "$W/page.html")" 2
check "--html: the chart has one bar per hour with refusals or would-refusals" \
	"$(grep -o '<g data-start="[^"]*" data-refused="[0-9]*" data-would="[0-9]*">' "$W/page.html" | tr '\n' ' ')" \
	'<g data-start="2026-11-29T21:00:00.000Z" data-refused="3" data-would="0"> <g data-start="2026-11-29T22:00:00.000Z" data-refused="5" data-would="1"> <g data-start="2026-11-30T01:00:00.000Z" data-refused="3" data-would="2"> '
check "--html: every table has column headings and row headings" \
	"$(grep -c '<th scope="col"' "$W/page.html") $(grep -c '<tr><th scope="row">\|<tr class="total"><th scope="row">' "$W/page.html")" "10 54"
"$BIN" --html - "$FIX" >"$W/page-stdout.html" 2>"$W/page-stdout.err"
check "--html - writes the same page to standard output" "$(cmp "$W/page-stdout.html" "$W/page.html" && echo same) $(cat "$W/page-stdout.err")" "same "
# a page over 20 days: one bar per day; over 2 years: runs of days, at most 400 bars
{ line 1; line 22; line 4 | sed 's/"time":"2026-11-29T21:20:00.000Z"/"time":"2026-12-19T00:00:00.000Z"/'; } >"$W/days.log"
"$BIN" --html "$W/days.html" "$W/days.log"
check "--html: a 20-day period has a bar per day" \
	"$(grep -o '<svg id="chart"[^>]*data-bar-ms="[0-9]*"' "$W/days.html" | sed 's/.*data-bar-ms=//') $(grep -o '<g data-start="[^"]*" data-refused="[0-9]*"' "$W/days.html" | tr '\n' ' ')" \
	'"86400000" <g data-start="2026-11-30T00:00:00.000Z" data-refused="1" <g data-start="2026-12-19T00:00:00.000Z" data-refused="1" '
html_same "a 20-day period" "$W/days.log"
sed 's/"time":"2026-11-29T21:00:01.000Z"/"time":"2024-01-01T00:00:00.000Z"/' "$W/days.log" >"$W/years.log"
"$BIN" --html "$W/years.html" "$W/years.log"
check "--html: a 3-year period has runs of 3 days, under 400 bars" \
	"$(grep -o '<svg id="chart"[^>]*data-bar-ms="[0-9]*"' "$W/years.html" | sed 's/.*data-bar-ms=//') $(grep -o '<desc id="chart-desc">[^<]*' "$W/years.html" | grep -o '[0-9]* bars')" \
	'"259200000" 362 bars'
# attacker-controlled strings: a judged domain and a file name with markup, quotes and &
line 4 | python3 -c 'import json,sys; r=json.loads(sys.stdin.read()); r["checks"]["spf"]["domain"]="<script>alert(\"a&b\")</script>\x27.test"; print(json.dumps(r))' >"$W/evil.log"
cp "$W/evil.log" "$W/<b>&\"x'.log"
"$BIN" --html "$W/evil.html" "$W/evil.log" "$W/<b>&\"x'.log"
check "--html: no markup from the log reaches the page" "$(grep -ci -e '<script' -e '<b>' "$W/evil.html")" 0
check "--html: the domain is escaped as character references" \
	"$(grep -c "<td>&lt;script&gt;alert(&quot;a&amp;b&quot;)&lt;/script&gt;&#39;.test</td>" "$W/evil.html")" 1
check "--html: parsed back, the domain reads as written in the log" \
	"$(python3 "$HC" text "$W/evil.html" t-failing | grep -o '<script>.*\.test')" "<script>alert(\"a&b\")</script>'.test"
check "--html: the file name is escaped" "$(grep -c "<code>$W/&lt;b&gt;&amp;&quot;x&#39;.log</code>" "$W/evil.html")" 1
html_same "hostile strings" "$W/evil.log"
python3 "$HC" selfcontained "$W/evil.html" >/dev/null 2>&1
check "--html: hostile strings: still well-formed, nothing fetched" "$?" 0
# written atomically: a temporary file beside FILE, renamed; the umask's mode; nothing left
echo old >"$W/atomic.html"
(umask 027 && "$BIN" --html "$W/atomic.html" "$FIX")
check "--html: replaces the file, mode 0666 less the umask, no temporary file left" \
	"$(head -c 15 "$W/atomic.html") $(stat -c %a "$W/atomic.html") $(ls "$W" | grep -c '^atomic\.html\.')" "<!DOCTYPE html> 640 0"
run "$W/nodir" --html "$W/no-such-dir/r.html" "$FIX"
check "--html into a missing directory exits 1" "$rc $(grep -c 'no-such-dir/r.html: cannot create a temporary file beside it: No such file or directory$' "$W/nodir.err")" "1 1"
mkdir -p "$W/adir.html"
run "$W/isdir" --html "$W/adir.html" "$FIX"
check "--html over a directory exits 1 and leaves no temporary file" "$rc $(ls "$W" | grep -c '^adir\.html\.')" "1 0"
if [ -w /dev/full ]; then
	"$BIN" --html - "$FIX" >/dev/full 2>/dev/null
	check "--html - to an unwritable standard output exits 1" "$?" 1
fi
ASAN_OPTIONS=detect_leaks=1 UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1 \
	"$ASAN_BIN" -v --html "$W/asan.html" --top 0 "$G" "$FIX" "$SF" "$HF" "$W/huge.log" "$W/evil.log" "$W/years.log" >/dev/null 2>"$W/asan-html.err"
rc=$?
if [ "$rc" = 0 ] && ! grep -qE 'Sanitizer|runtime error' "$W/asan-html.err"; then
	ok "ASan+UBSan: --html over the garbage, fixture, state, hostile, huge and 3-year logs"
else
	notok "ASan+UBSan: --html over the garbage, fixture, state, hostile, huge and 3-year logs (exit $rc)"
	grep -E -A5 'Sanitizer|runtime error' "$W/asan-html.err" | head -30 | sed 's/^/    /'
fi
ASAN_OPTIONS=detect_leaks=1 UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1 \
	"$ASAN_BIN" --html - "$G" >"$W/asan-garbage.html" 2>"$W/asan-garbage.err"
rc=$?
"$BIN" --html "$W/garbage.html" "$G" 2>/dev/null
if [ "$rc" = 0 ] && ! grep -qE 'Sanitizer|runtime error' "$W/asan-garbage.err" && cmp -s "$W/asan-garbage.html" "$W/garbage.html"; then
	ok "ASan+UBSan: --html - over the garbage log: no report, the same page"
else
	notok "ASan+UBSan: --html - over the garbage log: no report, the same page (exit $rc)"
	grep -E -A5 'Sanitizer|runtime error' "$W/asan-garbage.err" | head -30 | sed 's/^/    /'
fi

# ---- filters -----------------------------------------------------------------
check "--client CIDR" "$(matched --client 198.51.100.0/24)" 6
check "--client ADDR (an IPv4-mapped client address matches)" "$(matched --client 198.51.100.7)" 3
check "--client IPv6 /48" "$(matched --client 2001:db8:1::/48)" 2
check "--client twice: either matches" "$(matched --client 192.0.2.0/24 --client 2001:DB8::/32)" 12
check "--domain: sender domain" "$(matched --domain pass.test)" 4
check "--domain: domains below it" "$(matched --domain test)" 20
check "--domain: the DMARC domain" "$(matched --domain reject.test)" 3
check "--domain: case and trailing dot ignored" "$(matched --domain Spf-Fail.Test.)" 3
check "--domain: whole labels only (fail.test is not spf-fail.test)" "$(matched --domain fail.test)" 0
check "--action reject (applied and would)" "$(matched --action reject)" 11
check "--action twice" "$(matched --action hold --action quarantine)" 2
check "--since a date (inclusive)" "$(matched --since 2026-11-30)" 8
check "--until a date and time (exclusive)" "$(matched --until '2026-11-29 22:00')" 5
check "--since/--until RFC 3339, with milliseconds" \
	"$(matched --since 2026-11-29T22:15:00Z --until 2026-11-29T22:30:00.001Z)" 4
check "--since matches a record written with an offset" "$(matched --since '2026-11-30 01:45')" 1
check "--until with an offset" "$(matched --until 2026-11-30T02:45:00+01:00)" 21
check "filters combine" "$(matched --action reject --client 198.51.100.0/24 --since 2026-11-30)" 1
run "$W/filtered" --client 198.51.100.0/24 "$FIX"
check "a filtered report counts only the matched records" \
	"$(grep -A3 '^Top networks' "$W/filtered" | tail -n +3)" "  198.51.100.0/24         6"

# ---- exit statuses -------------------------------------------------------------
usage_case() { # usage_case DESC ARGS... : exit 64 and a usage message
	local desc=$1
	shift
	"$BIN" "$@" >"$W/usage.out" 2>"$W/usage.err"
	rc=$?
	if [ "$rc" = 64 ] && grep -q '^usage: policy-milter-report' "$W/usage.err" && [ ! -s "$W/usage.out" ]; then
		ok "bad usage exits 64: $desc"
	else
		notok "bad usage exits 64: $desc (exit $rc)"
		sed 's/^/    /' "$W/usage.err" | head -5
	fi
}
usage_case "no log" 
usage_case "unknown option" --bogus "$FIX"
usage_case "--top without its argument" "$FIX" --top
usage_case "--top not a number" --top ten "$FIX"
usage_case "--top negative" --top -1 "$FIX"
usage_case "--since not a time" --since yesterday "$FIX"
usage_case "--since an impossible date" --since 2026-02-30 "$FIX"
usage_case "--until not later than --since" --since 2026-11-30 --until 2026-11-29 "$FIX"
usage_case "--client with host bits set" --client 192.0.2.1/24 "$FIX"
usage_case "--client not an address" --client mx.example.net "$FIX"
usage_case "--domain empty" --domain "" "$FIX"
usage_case "--domain malformed" --domain a..b "$FIX"
usage_case "--action unknown" --action bounce "$FIX"
usage_case "--json with --csv" --json --csv "$FIX"
usage_case "--html with --json" --html "$W/u.html" --json "$FIX"
usage_case "--csv with --html" --csv --html - "$FIX"
usage_case "--html twice" --html - --html "$W/u.html" "$FIX"
usage_case "--html without its file" "$FIX" --html
usage_case "--html with an empty file name" --html "" "$FIX"
usage_case "--html with --dmarc-reports" --dmarc-reports --html - --day 2026-11-29
"$BIN" --help >"$W/help" 2>&1
check "--help exits 0" "$?" 0
check "-V prints the version" "$("$BIN" -V)" "policy-milter-report $(make -s --no-print-directory --eval 'pv: ; @echo $(VERSION)' pv)"

run "$W/missing" "$W/no-such.log" "$FIX"
check "a missing file exits 1" "$rc" 1
check "a missing file is named on stderr" "$(cat "$W/missing.err")" \
	"policy-milter-report: $W/no-such.log: cannot open: No such file or directory"
check_file "the other inputs are still reported" <(tables "$W/missing") <(tables tests/report/expected.txt)
run "$W/dir" "$W"
check "a directory exits 1" "$rc" 1
check "a directory: read error on stderr" "$(grep -c 'read error after line 0' "$W/dir.err")" 1
head -c 400 "$W/fixture.log.gz" >"$W/cut.log.gz"
run "$W/cut" "$W/cut.log.gz"
check "a gzip file cut short exits 1" "$rc" 1
check "a gzip file cut short: read error on stderr" "$(grep -c ': read error after line [0-9]*: unexpected end of file$' "$W/cut.err")" 1
if [ -w /dev/full ]; then
	"$BIN" "$FIX" >/dev/full 2>"$W/full.err"
	check "an unwritable report exits 1" "$?" 1
fi

# ---- --dmarc-reports (RFC 9990 aggregate reports) --------------------------------
. tests/report/dmarc.sh

exit $fail
