#!/bin/bash
# NAME
#	run.sh - the metrics endpoint against a real Postfix: counters equal the decision log
# SYNOPSIS
#	tests/metrics/run.sh		(root; make check: suite "metrics")
# DESCRIPTION
#	In the private namespaces of tests/e2e/lib.sh (nsd, Postfix, swaks,
#	the e2e zones and policy.conf with the JSON decision log on) the
#	milter runs with metrics.listen = "inet:9187@127.0.0.1". Checked:
#	  - before any mail: policy generation 1, the one session of
#	    Postfix's banner check, the start time and the build info (the
#	    version of policy-milter -V);
#	  - e2e scenarios of every kind (accepted, refused at connect, RCPT
#	    and end of message, tempfails from DNS timeouts and SERVFAIL, tag
#	    mode "would"), then, reloaded, delay_sender_refusals = false
#	    (refused at MAIL FROM) and dmarc.mode = "tag" (would-refusals at
#	    end of message); each scenario asserts its SMTP replies;
#	  - the scrape (curl): every decisions_total series equals the count
#	    of the JSON log's records with the same stage, action, check,
#	    reply code, enhanced code and applied/would, and no record is
#	    uncounted; sessions_total equals the connections Postfix's smtpd
#	    logged; no session open at the end; DNS queries (noerror,
#	    nxdomain, timeout or servfail among them), cache hits, the query
#	    time histogram, DKIM signatures (pass, rsa-sha256 and
#	    ed25519-sha256), DMARC results (fail with p=reject) all non-zero;
#	    policy generation 3 after two good reloads;
#	  - promtool check metrics accepts the scrape (names, types, HELP);
#	  - a reload with a broken policy file: reload_failures_total 1,
#	    reload_last_success 0, the generation kept; a reload changing
#	    metrics.listen logs that it needs a restart (the endpoint stays);
#	    -n refuses a public metrics.listen with file:line, and accepts
#	    it with metrics.allow_public = true;
#	  - the alert rules of the README (between the markers) equal
#	    conf/policy-milter.rules.yml, and promtool check rules accepts them;
#	  - 50 scrapes at a time (one curl --parallel, in a loop) while two
#	    SMTP clients send: every reply as expected, and the 95th
#	    percentile of the SMTP transaction time at most twice (plus
#	    0.25 s, the machine is shared) the same run without scrapes.
#	    The clients are python3 smtplib (load.py), timing connect to QUIT
#	    in-process: swaks' own start-up (perl) would measure the CPU
#	    the scrapers take, not the milter;
#	  - greylisting on LMDB (reloaded): a new triplet gets 451 4.7.1 and
#	    the store's operations are counted (backend lmdb), none failed;
#	  - at the end, the decision counters still equal the decision log.
# DIAGNOSTICS
#	Exit 0 when every check passed, 1 otherwise, 2 when the world could
#	not be built. Prints "ok - ..." / "not ok - ..." lines. As non-root:
#	"SKIPPED" and exit 77. METRICS_KEEP=1 keeps the work directory.
set -u
HERE=$(cd "$(dirname "$0")" && pwd)
# shellcheck source=tests/e2e/lib.sh
. "$HERE/../e2e/lib.sh"
E2E=$HERE/../e2e
PORT=9187
URL=http://127.0.0.1:$PORT/metrics

if [ -z "${METRICS_INNER:-}" ]; then
	if [ "$(id -u)" != 0 ]; then
		echo "SKIPPED: the metrics suite needs root (unshare, nsd, postfix)"
		exit 77
	fi
	for tool in unshare nsd postfix swaks curl promtool python3; do
		command -v "$tool" >/dev/null || {
			echo "metrics: $tool not found (run make deps)" >&2
			exit 2
		}
	done
	make -s -C "$E2E_TOP" src/policy-milter >/dev/null || exit 2
	e2e_build_tools
	ns_reexec pm-metrics METRICS_KEEP METRICS_INNER "$0" "$@"
	rc=$?
	[ "$rc" = 0 ] || e2e_show_logs 60 "nsd log" "$E2E_DIR/nsd.log"
	[ -n "${METRICS_KEEP:-}" ] && echo "metrics: work directory kept: $E2E_DIR"
	exit "$rc"
fi

# ---- inside the namespaces --------------------------------------------------
trap ns_teardown EXIT
trap 'exit 2' INT TERM
fail=0
ok() { echo "ok - metrics: $1"; }
notok() {
	echo "not ok - metrics: $1"
	fail=1
}
check() { # check DESC GOT WANT
	if [ "$2" = "$3" ]; then ok "$1"; else
		notok "$1"
		echo "    got:  $2"
		echo "    want: $3"
	fi
}
# scrape FILE - GET /metrics into FILE; its HTTP status on stdout
scrape() {
	curl -s -m 10 -o "$1" -w '%{http_code}' "$URL"
}
# value FILE SERIES - the value of SERIES (name and labels as rendered) in FILE, or "absent"
value() {
	awk -v s="$2" 'substr($0, 1, length(s) + 1) == s " " { print $NF; found = 1 } END { if (!found) print "absent" }' "$1"
}
# sum NAME FILE [LABEL_RE] - the sum of the series of NAME in FILE (whose labels match LABEL_RE)
sum() {
	awk -v n="$1" -v re="${3:-}" 'index($0, n "{") == 1 && $0 ~ re { s += $NF } END { printf "%d\n", s }' "$2"
}

ns_setup
nsd_start
postfix_setup
live=$E2E_DIR/live-policy.conf
JSON_LOG=/run/policy-milter/decisions.json
{
	cat "$E2E/policy.conf"
	printf 'metrics:\n{\n  listen = "inet:%s@127.0.0.1";\n};\n' "$PORT"
} >"$live"
grep -q "json_file = \"$JSON_LOG\";" "$live" || {
	echo "not ok - metrics: tests/e2e/policy.conf no longer logs to $JSON_LOG"
	exit 1
}
LISTS=/run/policy-milter/lists
mkdir -p "$LISTS"
cp "$E2E"/lists/*.txt "$LISTS/"
chmod 0755 "$LISTS"
chmod 0644 "$LISTS"/*.txt
milter_start "$live"
postfix_start
wait_for 50 "curl -s -m 2 -o /dev/null $URL" || {
	echo "not ok - metrics: nothing answers on $URL (see milter.log)"
	exit 1
}
RUNNER="perl $E2E/scenario.pl --maildir $E2E_DIR/mail/mail --work $E2E_DIR --keys $E2E_DIR/keys"

# 1. Before any mail.
m0=$E2E_DIR/scrape0.txt
check "GET /metrics answers 200" "$(scrape "$m0")" 200
# (postfix_start's banner check was a connection already)
check "before any mail: generation 1, sessions as Postfix's connections, none open, started now, build info" \
	"$(value "$m0" policy_milter_policy_generation) $(value "$m0" policy_milter_sessions_total) $(value "$m0" policy_milter_sessions_open) $(($(date +%s) - $(value "$m0" policy_milter_start_time_seconds) < 60)) $(value "$m0" "policy_milter_build_info{version=\"$("$MILTER_BIN" -V | cut -d' ' -f2)\"}")" \
	"1 $(grep -c 'postfix/smtpd\[[0-9]*\]: connect from' "$E2E_DIR/maillog") 0 1 1"

# 2. Mail of every kind; each scenario asserts its replies.
sc=$E2E/scenarios
if ! $RUNNER -j 4 "$sc"/dkim-simple-pass.scn "$sc"/dkim-ed25519-pass.scn \
	"$sc"/dmarc-dkim-aligned-pass.scn "$sc"/spf-pass.scn "$sc"/client-blocked.scn \
	"$sc"/dnsbl-listed.scn "$sc"/unknown-recipient.scn "$sc"/spf-fail.scn \
	"$sc"/too-many-recipients.scn "$sc"/syntax-rcpt.scn "$sc"/dmarc-reject.scn \
	"$sc"/from-multiple.scn "$sc"/headers-singletons-tag.scn "$sc"/iprev-fail.scn \
	"$sc"/dmarc-quarantine-tag.scn "$sc"/spf-temperror.scn "$sc"/sender-domain-timeout.scn \
	"$sc"/dmarc-timeout.scn "$sc"/sender-domain-nxdomain.scn; then
	notok "the scenarios' SMTP replies (see above)"
fi
# refusals at MAIL FROM, and dmarc.mode "tag" (would-refusals at end of message)
sed -e 's/delay_sender_refusals = true;/delay_sender_refusals = false;/' "$live" |
	perl -0pe 's/mode = "enforce";\n  quarantine = "tag";/mode = "tag";\n  quarantine = "tag";/' >"$live.new"
check "the reloaded policy differs where it should" "$(diff "$live" "$live.new" | grep -c '^>')" 2
cp "$live" "$live.base"
mv "$live.new" "$live"
if reload_milter; then
	$RUNNER "$sc"/mailfrom/*.scn "$sc"/tagmode/*.scn || notok "the reloaded scenarios' SMTP replies (see above)"
else
	notok "the milter did not reload the policy"
fi
cp "$live.base" "$live"
reload_milter || notok "the milter did not reload the base policy"

# 3. The counters against the decision log. The log is written by a thread
# of its own: wait until it has every record the counters have.
m1=$E2E_DIR/scrape1.txt
wait_for 100 "scrape $m1 >/dev/null && [ \"\$(sum policy_milter_decisions_total $m1)\" = \"\$(wc -l <$JSON_LOG)\" ] && [ \"\$(value $m1 policy_milter_sessions_open)\" = 0 ]"
scrape "$m1" >/dev/null
cat >"$E2E_DIR/compare.py" <<'PY'
import collections, json, re, sys
want = collections.Counter()
for line in open(sys.argv[1]):
    r = json.loads(line)
    rep = r["reply"] or {}
    code = rep.get("code")
    want[(r["stage"], r["action"], r["check"] or "none", "" if code is None else str(code),
          rep.get("xcode") or "", "would" if r["would"] else "applied")] += 1
got = collections.Counter()
names = ("stage", "action", "check", "code", "enhanced", "mode")
for line in open(sys.argv[2]):
    m = re.match(r'policy_milter_decisions_total\{(.*)\} (\d+)$', line)
    if m:
        labels = dict(re.findall(r'(\w+)="((?:[^"\\]|\\.)*)"', m.group(1)))
        got[tuple(labels[n] for n in names)] += int(m.group(2))
bad = 0
for k in sorted(set(want) | set(got)):
    if want[k] != got[k]:
        print("    %s: metrics %d, decision log %d" % (",".join(k), got[k], want[k]))
        bad += 1
print("records=%d series=%d differing=%d stages=%d would=%d" % (
    sum(want.values()), len(got), bad, len({k[0] for k in want}),
    sum(v for k, v in want.items() if k[5] == "would")))
PY
cp "$JSON_LOG" "$E2E_DIR/decisions.json" # kept with the work directory (METRICS_KEEP=1)
cmp_out=$(python3 "$E2E_DIR/compare.py" "$E2E_DIR/decisions.json" "$m1")
summary=$(printf '%s\n' "$cmp_out" | tail -n 1)
if printf '%s\n' "$summary" | grep -q ' differing=0 ' &&
	! printf '%s\n' "$summary" | grep -q '^records=0 '; then
	ok "decisions_total equals the decision log, series by series ($summary)"
else
	notok "decisions_total equals the decision log, series by series"
	printf '%s\n' "$cmp_out"
fi
check "the decision log holds the stages connect, mail, rcpt and eom, and would-records" \
	"$(printf '%s\n' "$summary" | sed -n 's/.* stages=\([0-9]*\) would=\([0-9]*\)$/\1 \2/p' | awk '{ print ($1 >= 4), ($2 > 0) }')" "1 1"
check "the decision log holds tempfails (451) and refusals (5xx), both counted" \
	"$(($(sum policy_milter_decisions_total "$m1" 'code="451"') > 0)) $(($(sum policy_milter_decisions_total "$m1" 'code="550"') > 0))" "1 1"
check "sessions_total equals the connections Postfix's smtpd logged" \
	"$(value "$m1" policy_milter_sessions_total)" "$(grep -c 'postfix/smtpd\[[0-9]*\]: connect from' "$E2E_DIR/maillog")"
check "no session open at the end" "$(value "$m1" policy_milter_sessions_open)" 0
check "DNS: noerror, nxdomain and timeout or servfail queries counted" \
	"$(($(sum policy_milter_dns_queries_total "$m1" 'outcome="noerror"') > 0)) $(($(sum policy_milter_dns_queries_total "$m1" 'outcome="nxdomain"') > 0)) $(($(sum policy_milter_dns_queries_total "$m1" 'outcome="(timeout|servfail|servfail_or_refused)"') > 0))" \
	"1 1 1"
check "DNS: cache hits and misses, and the query time histogram (+Inf equal to _count)" \
	"$(($(value "$m1" policy_milter_dns_cache_hits_total) > 0)) $(($(value "$m1" policy_milter_dns_cache_misses_total) > 0)) $(($(value "$m1" policy_milter_dns_query_duration_seconds_count) > 0)) $(value "$m1" 'policy_milter_dns_query_duration_seconds_bucket{le="+Inf"}')" \
	"1 1 1 $(value "$m1" policy_milter_dns_query_duration_seconds_count)"
check "the histogram has observations over 1 s (the timeouts)" \
	"$(($(value "$m1" policy_milter_dns_query_duration_seconds_count) > $(value "$m1" 'policy_milter_dns_query_duration_seconds_bucket{le="1"}')))" 1
check "DKIM: rsa-sha256 and ed25519-sha256 passes counted" \
	"$(($(sum policy_milter_dkim_signatures_total "$m1" 'result="pass",algorithm="rsa-sha256"') > 0)) $(($(sum policy_milter_dkim_signatures_total "$m1" 'result="pass",algorithm="ed25519-sha256"') > 0))" \
	"1 1"
check "DMARC: fail with p=reject, and pass, counted" \
	"$(($(sum policy_milter_dmarc_results_total "$m1" 'result="fail",policy="reject"') > 0)) $(($(sum policy_milter_dmarc_results_total "$m1" 'result="pass"') > 0))" \
	"1 1"
check "policy generation 3 after two good reloads, the last one good" \
	"$(value "$m1" policy_milter_policy_generation) $(value "$m1" policy_milter_reload_last_success) $(value "$m1" policy_milter_reload_failures_total)" \
	"3 1 0"
check "no family overflowed" "$(sum policy_milter_metrics_overflow_total "$m1")" 0
if out=$(promtool check metrics <"$m1" 2>&1); then
	ok "promtool check metrics accepts the scrape"
else
	notok "promtool check metrics accepts the scrape"
	printf '    %s\n' "$out"
fi

# 4. A broken policy file: the reload fails, the generation stays.
n=$(grep -c 'reload of .* failed' "$E2E_DIR/milter.log")
printf 'bogus_key = 1;\n' >>"$live"
kill -USR1 "$MILTER_PID"
wait_for 100 "[ \$(grep -c 'reload of .* failed' $E2E_DIR/milter.log) -gt $n ]" ||
	notok "the milter did not log the failed reload"
m2=$E2E_DIR/scrape2.txt
scrape "$m2" >/dev/null
check "a broken reload: failures 1, last success 0, generation kept (3)" \
	"$(value "$m2" policy_milter_reload_failures_total) $(value "$m2" policy_milter_reload_last_success) $(value "$m2" policy_milter_policy_generation)" \
	"1 0 3"
cp "$live.base" "$live"

# 4a. metrics.* is read at start only: a reload that changes it says so, and
# the endpoint stays where it was; -n refuses a public address with file:line.
sed "s/listen = \"inet:$PORT@127.0.0.1\";/listen = \"inet:9188@127.0.0.1\";/" "$live.base" >"$live"
reload_milter || notok "the milter did not reload the policy with another metrics.listen"
check "a reload changing metrics.listen logs that it takes effect at restart; the endpoint stays" \
	"$(grep -c 'metrics settings changed; they take effect at restart' "$E2E_DIR/milter.log") $(scrape "$E2E_DIR/scrape-moved.txt") $(curl -s -m 2 -o /dev/null -w '%{http_code}' http://127.0.0.1:9188/metrics)" \
	"1 200 000"
cp "$live.base" "$live"
reload_milter || notok "the milter did not reload the base policy"
sed "s/listen = \"inet:$PORT@127.0.0.1\";/listen = \"inet:$PORT@192.0.2.1\";/" "$live.base" >"$E2E_DIR/public.conf"
line=$(grep -n "listen = \"inet:$PORT@192.0.2.1\";" "$E2E_DIR/public.conf" | cut -d: -f1)
out=$("$MILTER_BIN" -n -c "$E2E_DIR/public.conf" 2>&1)
check "-n refuses a public metrics.listen, naming file:line and key" \
	"$? $(printf '%s\n' "$out" | grep -c "^$E2E_DIR/public.conf:$line: metrics.listen: ")" "1 1"
printf '%s\n' "$out" | grep -q 'metrics.listen' || printf '    %s\n' "$out"
sed 's/listen = "inet:\([0-9]*\)@192.0.2.1";/listen = "inet:\1@192.0.2.1"; allow_public = true;/' \
	"$E2E_DIR/public.conf" >"$E2E_DIR/public-allowed.conf"
check "-n accepts it with metrics.allow_public = true" \
	"$("$MILTER_BIN" -n -c "$E2E_DIR/public-allowed.conf" 2>&1)" "policy-milter: configuration OK"

# 5. The alert rules: the README's are the file's, and promtool accepts them.
sed -n '/^<!-- begin policy-milter.rules.yml -->$/,/^<!-- end policy-milter.rules.yml -->$/p' "$E2E_TOP/README.md" |
	sed -e '1,2d' -e '$d' | sed '$d' >"$E2E_DIR/readme-rules.yml"
check "the README's alert rules are conf/policy-milter.rules.yml" \
	"$(cmp -s "$E2E_DIR/readme-rules.yml" "$E2E_TOP/conf/policy-milter.rules.yml" && echo same || echo differ)" same
if out=$(promtool check rules "$E2E_TOP/conf/policy-milter.rules.yml" 2>&1); then
	ok "promtool check rules accepts conf/policy-milter.rules.yml ($(printf '%s\n' "$out" | grep -o 'SUCCESS: [0-9]* rules found'))"
else
	notok "promtool check rules accepts conf/policy-milter.rules.yml"
	printf '    %s\n' "$out"
fi
if out=$(cd "$HERE" && promtool test rules rules-test.yml 2>&1); then
	ok "promtool test rules: each alert fires on its input series, and not on quiet ones"
else
	notok "promtool test rules: each alert fires on its input series, and not on quiet ones"
	printf '    %s\n' "$out"
fi

# 6. 50 scrapes at a time while mail flows: the replies stay right and the
# SMTP transaction time (95th percentile) at most doubles (+0.25 s).
LOADN=${METRICS_LOAD_COUNT:-30}
load() { # load NAME - two clients of LOADN transactions each; the summary line
	python3 "$HERE/load.py" "$E2E_DIR/times-$1.txt" 2 "$LOADN" 192.0.2.90 192.0.2.91 >"$E2E_DIR/load-$1.out" 2>&1
	tail -n 1 "$E2E_DIR/load-$1.out"
}
field() { printf '%s\n' "$1" | sed -n "s/.*$2=\([0-9.]*\).*/\1/p"; }
base=$(load quiet)
urls=()
for _ in $(seq 50); do urls+=(-o /dev/null "$URL"); done
(
	while :; do
		curl -s -m 20 --parallel --parallel-immediate --parallel-max 50 -w '%{http_code}\n' "${urls[@]}"
	done >"$E2E_DIR/scrapes.txt" 2>/dev/null
) &
scraper=$!
wait_for 100 "[ \$(grep -c . $E2E_DIR/scrapes.txt) -ge 50 ]"
busy=$(load scraped)
kill "$scraper"
wait "$scraper" 2>/dev/null
codes=$(sort "$E2E_DIR/scrapes.txt" | uniq -c | awk '{ printf "%s%s:%s", sep, $2, $1; sep = " " }')
check "under load without scrapes: every reply right ($base)" "$(field "$base" transactions) $(field "$base" wrong)" "$((2 * LOADN)) 0"
check "with 50 parallel scrapes: every reply right ($busy)" "$(field "$busy" transactions) $(field "$busy" wrong)" "$((2 * LOADN)) 0"
[ "$(field "$busy" wrong)" = 0 ] || grep '^wrong' "$E2E_DIR/load-scraped.out" | head -n 5
check "the scrapes were answered 200, many times over ($codes)" \
	"$(grep -vc '^200$' "$E2E_DIR/scrapes.txt") $(($(grep -c '^200$' "$E2E_DIR/scrapes.txt") >= 100))" "0 1"
check "p95 SMTP transaction time with scrapes ($(field "$busy" p95) s) at most 2 x $(field "$base" p95) s + 0.25 s" \
	"$(awk -v b="$(field "$base" p95)" -v s="$(field "$busy" p95)" 'BEGIN { print (s <= 2 * b + 0.25) ? "yes" : "no" }')" yes
m3=$E2E_DIR/scrape3.txt
scrape "$m3" >/dev/null
check "the milter is still the one started, and counted every load session" \
	"$(kill -0 "$MILTER_PID" && echo running) $(value "$m3" policy_milter_sessions_total)" \
	"running $(grep -c 'postfix/smtpd\[[0-9]*\]: connect from' "$E2E_DIR/maillog")"

# 7. The state store: greylisting on LMDB (reloaded), one new triplet: 451 4.7.1,
# and the store's operations counted by backend and operation, none failed.
cp "$live.base" "$live"
printf '%s\n' 'state: { backend = "lmdb"; lmdb: { path = "/run/policy-milter/state.lmdb"; max_size_mb = 16; }; };' \
	'greylisting: { mode = "enforce"; };' >>"$live"
if reload_milter; then
	out=$(swaks --server 127.0.0.1 --local-interface 192.0.2.92 --helo client10.test \
		--from alice@pass.test --to bob@example.org --quit-after RCPT 2>&1)
	check "greylisting on LMDB: a new triplet gets 451 4.7.1 at RCPT TO" \
		"$(printf '%s\n' "$out" | grep -c '^<\** *451 4.7.1')" 1
	m4=$E2E_DIR/scrape4.txt
	scrape "$m4" >/dev/null
	check "store operations counted for lmdb, none failed" \
		"$(($(sum policy_milter_store_operations_total "$m4" 'backend="lmdb"') > 0)) $(sum policy_milter_store_failures_total "$m4")" "1 0"
else
	notok "the milter did not reload the policy with greylisting on LMDB"
fi

# 8. At the end, after the load and greylisting: still every record counted.
m5=$E2E_DIR/scrape5.txt
wait_for 100 "scrape $m5 >/dev/null && [ \"\$(sum policy_milter_decisions_total $m5)\" = \"\$(wc -l <$JSON_LOG)\" ]"
cp "$JSON_LOG" "$E2E_DIR/decisions-end.json"
summary=$(python3 "$E2E_DIR/compare.py" "$E2E_DIR/decisions-end.json" "$m5" | tail -n 1)
check "at the end, decisions_total still equals the decision log ($summary)" \
	"$(printf '%s\n' "$summary" | grep -o 'differing=[0-9]*')" differing=0

postfix stop >/dev/null 2>&1
exit $fail
