#!/bin/bash
# NAME
#	run.sh - policy-milter soak: a long run through Postfix, then a leak run
# SYNOPSIS
#	tests/soak/run.sh			(make soak: 50,000 messages)
#	SOAK_MESSAGES=3000 tests/soak/run.sh	(make check: suite "soak")
# DESCRIPTION
#	The benchmark's world (tests/e2e/lib.sh and tests/bench/world.sh:
#	private network, mount and pid namespaces; nsd with tests/bench/zones
#	and fresh DKIM keys behind unbound on 192.0.2.53; Postfix with the
#	policy-milter listener 192.0.2.25:2526) and its whole message mix
#	(tests/bench/mix, built, signed and verified by mkmsgs.pl): 6 rsa2048,
#	3 ed25519, 5 spf, 4 dmarc-reject (550), 1 rsa2048-100k, 1 spf-100k in
#	every 20 messages. policy-milter runs the default policy
#	(conf/policy-milter.conf, unchanged), as the benchmark runs it.
#
#	1. Soak. A warm-up (every message of the mix once at concurrency 1),
#	   then SOAK_MESSAGES messages at SOAK_CONC sessions at a time, sent
#	   by the benchmark's smtpload (one SMTP session per message, from
#	   192.0.2.10-12, every reply checked against its class). While it
#	   runs, the milter's VmRSS, open descriptors (/proc/PID/fd) and
#	   threads are sampled every SOAK_SAMPLE seconds. Checks:
#	   - replies: every message got its class's reply (smtpload: no
#	     mismatch), none other than 250 and 550, the counts per class
#	     add up to SOAK_MESSAGES;
#	   - no restart: the same milter process (pid and start time,
#	     /proc/PID/stat) before and after, and Postfix logged no milter
#	     trouble (no "warning: ... milter" line in its maillog);
#	   - RSS flat: the mean of the last quarter of the samples at most
#	     10% + 2 MiB above the mean of the second quarter (see RSS RULE);
#	   - descriptors: with no session in flight, after the warm-up and
#	     after the run, at most FD_SLACK (2) more after (see FD RULE).
#	2. Leak run. The daemon built with ASan+UBSan (the objects of
#	   tests/milter/asan-daemon.mk) and linked with lsanexit.c (main()
#	   leaves through _exit(), which would skip LeakSanitizer's check at
#	   exit; lsanexit.c runs it there), on the same policy and socket,
#	   driven by the benchmark's miltload (no MTA: every milter step of
#	   each message, as Postfix sends them) with SOAK_LEAK_MESSAGES
#	   messages over SOAK_LEAK_CONC connections, then SIGTERM. Checks: every
#	   reply as expected, exit status 0, the check ran ("lsanexit: leak
#	   check done: no leaks") and no sanitizer report at all. Before it, a
#	   self-test: the same binary with a leak planted at _exit
#	   (SOAK_LSAN_SELFTEST=1) must report it, exit 23, so a check that
#	   cannot work here (ptrace refused, no report on stderr) fails.
#
#	Results: printed and written to build/soak/results.txt (SOAK_OUT):
#	messages, replies by class and by code, first and last RSS, the
#	quarter means, first and last descriptor counts, the leak verdict.
# RSS RULE
#	The first quarter holds the warm-up of the process under 50 sessions
#	(glibc malloc arenas of libmilter's worker threads, libopendkim
#	state, the DNS cache) and is left out; the second and the
#	last quarter are half a run apart (25,000 messages in the full run).
#	RSS moves with the sessions in flight (the benchmark saw single
#	samples range over 18 to 25 MiB at 200 connections while its quarter
#	means differed by 5%), so means of quarters are compared, never two
#	samples; 10% allows that spread, 2 MiB an absolute floor for a small
#	process (about 20 MiB). A leak of L bytes per message raises the last
#	quarter's mean by about L x N/2: in the full run a steady leak of
#	about 170 bytes a message fails the rule, in the 3,000-message run
#	about 3 KiB. Smaller leaks are the leak run's job: LeakSanitizer
#	reports a single lost byte.
# FD RULE
#	Counted with no session in flight (after the warm-up, and after the
#	run once every session has closed), so the count is the daemon's own:
#	stdio, the listening socket, the pid file's and log's descriptors, a
#	resolver socket of an idle thread. A descriptor lost per session
#	would show as thousands; FD_SLACK (2) allows for a resolver socket a
#	worker thread keeps between sessions, and fails a leak of more than
#	two descriptors over the whole run. The peak under load is reported.
# ENVIRONMENT
#	SOAK_MESSAGES (50000), SOAK_CONC (50), SOAK_SAMPLE (0.25 s),
#	SOAK_LEAK_MESSAGES (2000), SOAK_LEAK_CONC (50), SOAK_LEAK=0 (no
#	leak run), SOAK_OUT (build/soak), SOAK_KEEP=1 keeps the work
#	directory (/tmp/pm-soak.*: maillog, milter logs, samples, messages).
# DIAGNOSTICS
#	"ok - ..." / "not ok - ..." lines; exit 0 all passed, 1 a check
#	failed, 2 the world could not be built, 77 not root.

set -u

HERE=$(cd "$(dirname "$0")" && pwd)
BENCH=$HERE/../bench
# shellcheck source=tests/e2e/lib.sh
. "$HERE/../e2e/lib.sh"
# shellcheck source=tests/bench/world.sh
. "$BENCH/world.sh"

SOAK_BUILD=$E2E_TOP/build/soak
SOAK_OUT=${SOAK_OUT:-$SOAK_BUILD}
SOAK_BIN=$SOAK_BUILD/bin
LSAN_BIN=$SOAK_BUILD/policy-milter-lsan
MESSAGES=${SOAK_MESSAGES:-50000}
CONC=${SOAK_CONC:-50}
SAMPLE=${SOAK_SAMPLE:-0.25}
LEAK=${SOAK_LEAK:-1}
LEAK_MESSAGES=${SOAK_LEAK_MESSAGES:-2000}
LEAK_CONC=${SOAK_LEAK_CONC:-50}
FD_SLACK=2
VARIANTS=4
CLIENTS="192.0.2.10 192.0.2.11 192.0.2.12" # PTR mta1-3.example.net (tests/bench/zones)

# ---- outside the namespaces ----------------------------------------------------

if [ -z "${SOAK_INNER:-}" ]; then
	if [ "$(id -u)" != 0 ]; then
		echo "SKIPPED: the soak test needs root (unshare, nsd, unbound, postfix)"
		exit 77
	fi
	for v in "$MESSAGES" "$CONC" "$LEAK_MESSAGES" "$LEAK_CONC"; do
		case $v in '' | *[!0-9]*) echo "soak: SOAK_* sizes must be positive integers" >&2 && exit 2 ;; esac
		[ "$v" -gt 0 ] || { echo "soak: SOAK_* sizes must be positive integers" >&2 && exit 2; }
	done
	case $SAMPLE in '' | *[!0-9.]* | .* | *.*.*) echo "soak: SOAK_SAMPLE must be seconds (0.25)" >&2 && exit 2 ;; esac
	for tool in unshare ip nsd unbound unbound-checkconf postfix postconf dig perl gcc openssl dkimverify; do
		command -v "$tool" >/dev/null || {
			echo "soak: $tool not found (run make deps and tests/bench/deps.sh)" >&2
			exit 2
		}
	done
	[ -x "$MILTER_BIN" ] || make -s -C "$E2E_TOP" all || exit 2
	mkdir -p "$SOAK_BIN" "$SOAK_OUT"
	# The benchmark's load generators, built here (build/bench is the benchmark's).
	for t in smtpload miltload; do
		if [ ! -x "$SOAK_BIN/$t" ] || [ "$BENCH/$t.c" -nt "$SOAK_BIN/$t" ] || [ "$BENCH/loadcommon.h" -nt "$SOAK_BIN/$t" ]; then
			gcc -std=gnu11 -O2 -Wall -Wextra -Werror -Wshadow -Wmissing-prototypes -Wformat=2 \
				-o "$SOAK_BIN/$t" "$BENCH/$t.c" -lpthread || die "cannot compile $t.c"
		fi
	done
	if [ "$LEAK" != 0 ]; then
		make -s -C "$E2E_TOP" -f Makefile -f tests/milter/asan-daemon.mk -f tests/soak/lsan-daemon.mk \
			build/soak/policy-milter-lsan || {
			echo "not ok - soak: the ASan+LSan build of the daemon failed"
			exit 1
		}
	fi
	rm -f "$SOAK_OUT/results.txt"
	ns_reexec pm-soak SOAK_KEEP SOAK_INNER "$0" "$@"
	rc=$?
	[ "$rc" = 0 ] || e2e_show_logs 30 "the sanitizer build's log (leak run)" "$E2E_DIR/lsan-leak.log"
	[ -n "${SOAK_KEEP:-}" ] && echo "soak: work directory kept: $E2E_DIR"
	exit "$rc"
fi

# ---- inside the namespaces -------------------------------------------------------

trap ns_teardown EXIT
trap 'exit 2' INT TERM

failed=0
ok() { echo "ok - $*"; }
notok() {
	echo "not ok - $*"
	failed=1
}
RES=$E2E_DIR/results.txt
: >"$RES"
# res LINE... - a line of the results (printed at the end, written to SOAK_OUT)
res() { printf '%s\n' "$*" >>"$RES"; }
# finish - the results file, printed; the exit status
finish() {
	res "verdict   $([ "$failed" = 0 ] && echo PASS || echo FAIL)"
	cp "$RES" "$SOAK_OUT/results.txt"
	echo "---- results ($SOAK_OUT/results.txt) ----"
	cat "$RES"
	exit "$failed"
}

ns_setup
# No syslog daemon of the host gets our lines.
if [ -e /dev/log ]; then mount --bind /dev/null /dev/log 2>/dev/null || true; fi
bench_nsd_start
unbound_start
bench_postfix_setup
postfix_start

# The milter under test, copied (src/ is shared with other work).
cp "$MILTER_BIN" "$E2E_DIR/policy-milter" || die "cannot copy $MILTER_BIN"
MILTER_BIN=$E2E_DIR/policy-milter
PM_CONF=$E2E_DIR/policy-milter.conf
cp "$E2E_TOP/conf/policy-milter.conf" "$PM_CONF"
"$MILTER_BIN" -n -c "$PM_CONF" >/dev/null 2>&1 || die "policy-milter -n refuses $PM_CONF"
pm_start "$PM_CONF"

MSGS=$E2E_DIR/msgs
perl "$BENCH/mkmsgs.pl" --mix "$BENCH/mix" --keys "$E2E_DIR/keys" --out "$MSGS" \
	--variants "$VARIANTS" --verify >"$E2E_DIR/mkmsgs.log" 2>&1 ||
	die "the messages could not be built or do not verify: $(tail -n 5 "$E2E_DIR/mkmsgs.log")"
CYCLE=$(awk '{ n += $2 } END { print n }' "$MSGS/mix.idx")

{
	echo "policy-milter soak test (tests/soak/run.sh), $(date -u '+%Y-%m-%d %H:%M:%S UTC')"
	echo "machine   $(nproc) CPUs, $(awk -F': ' '/^model name/ { print $2; exit }' /proc/cpuinfo), $(uname -sr)"
	echo "milter    $("$MILTER_BIN" -V 2>&1 | head -n 1), commit $(git -C "$E2E_TOP" rev-parse --short HEAD 2>/dev/null)$(git -C "$E2E_TOP" diff --quiet HEAD 2>/dev/null || echo ' (with uncommitted changes)'), binary sha256 $(sha256sum "$MILTER_BIN" | cut -c1-16); default policy (conf/policy-milter.conf)"
	echo "mix       per $CYCLE messages: $(awk '{ printf "%s%s %s", (NR > 1 ? ", " : ""), $2, $1 }' "$MSGS/mix.idx") (tests/bench/mix)"
} >>"$RES"

# fd_count PID - open descriptors of PID (/proc/PID/fd), no fork
fd_count() {
	local f=("/proc/$1/fd/"*)
	[ -e "${f[0]}" ] || return 1
	echo "${#f[@]}"
}
# start_time PID - the start time of PID (/proc/PID/stat field 22), its identity with the pid
start_time() {
	local stat f
	stat=$(cat "/proc/$1/stat" 2>/dev/null) || return 1
	read -r -a f <<<"${stat##*) }"
	echo "${f[19]}"
}
# sampler PID FILE - every SAMPLE seconds "SECONDS RSS_KB FDS THREADS" of PID, until FILE.stop exists
sampler() {
	local pid=$1 out=$2 k v rss thr t0=${EPOCHREALTIME/./} t f
	while [ ! -e "$out.stop" ]; do
		rss='' thr=''
		while read -r k v _; do
			case $k in VmRSS:) rss=$v ;; Threads:) thr=$v ;; esac
		done <"/proc/$pid/status" || break
		f=("/proc/$pid/fd/"*)
		t=$((${EPOCHREALTIME/./} - t0))
		printf '%d.%02d %s %s %s\n' $((t / 1000000)) $((t % 1000000 / 10000)) "$rss" "${#f[@]}" "$thr" >>"$out"
		sleep "$SAMPLE"
	done
}
# sl_field FILE KEY - KEY=VALUE of smtpload's/miltload's "result" line
sl_field() {
	sed -n "s/^result .*\<$2=\([^ ]*\).*/\1/p" "$1"
}
# maillog_milter_trouble - Postfix's warnings about a milter (unreachable, dropped, timed out)
maillog_milter_trouble() {
	grep -ciE 'warning: .*milter' "$E2E_DIR/maillog"
}

# ---- 1. the soak through Postfix ----------------------------------------------------

smtp_load() { # N CONC OUT: smtpload to the policy-milter listener
	"$SOAK_BIN/smtpload" -s "$BENCH_SERVER" -p 2526 -c "$2" -n "$1" -m "$MSGS/mix.idx" \
		-b "${CLIENTS// /,}" >"$3" 2>"$3.err"
}

# Warm-up: every message of the mix once, at concurrency 1.
if ! smtp_load $((CYCLE * VARIANTS)) 1 "$E2E_DIR/out.warmup"; then
	notok "warm-up: not every message of the mix got its expected reply: $(head -n 3 "$E2E_DIR/out.warmup.err" | tr '\n' '|')"
	finish
fi
ok "warm-up: $((CYCLE * VARIANTS)) messages at concurrency 1, every reply as expected"
PID0=$PM_PID
START0=$(start_time "$PM_PID") || die "policy-milter is gone after the warm-up"
FD0=$(fd_count "$PM_PID") || die "cannot count the milter's descriptors"
RSS0=$(proc_rss_kb "$PM_PID")
trouble0=$(maillog_milter_trouble)

SAMPLES=$E2E_DIR/samples.txt
: >"$SAMPLES"
sampler "$PM_PID" "$SAMPLES" &
SAMPLER_PID=$!
echo "# soak: $MESSAGES messages at concurrency $CONC through Postfix (port 2526)"
smtp_load "$MESSAGES" "$CONC" "$E2E_DIR/out.soak"
rc=$?
touch "$SAMPLES.stop"
wait "$SAMPLER_PID"

# Replies: every one as its class expects; counts per class and per code.
OUT=$E2E_DIR/out.soak
seconds=$(sl_field "$OUT" seconds)
rate=$(sl_field "$OUT" rate)
mism=$(sl_field "$OUT" mismatches)
read -r sent g250 g550 gother <<<"$(awk '$1 == "class" {
	for (i = 2; i <= NF; i++) { split($i, kv, "="); v[kv[1]] = kv[2] }
	s += v["sent"]; a += v["got_250"]; b += v["got_550"]; o += v["got_other"] }
	END { print s + 0, a + 0, b + 0, o + 0 }' "$OUT")"
res "soak      $MESSAGES messages at concurrency $CONC through Postfix + policy-milter: ${seconds:-?} s, ${rate:-?} msgs/s, p50 $(sl_field "$OUT" p50_ms) ms, p99 $(sl_field "$OUT" p99_ms) ms"
res "replies   250: $g250, 550: $g550, other: $gother (sent $sent, mismatches ${mism:-?})"
awk '$1 == "class" {
	for (i = 2; i <= NF; i++) { split($i, kv, "="); v[kv[1]] = kv[2] }
	printf "  %-14s expect %s  sent %6d  250 %6d  550 %6d  other %d\n", v["name"], v["expect"], v["sent"], v["got_250"], v["got_550"], v["got_other"] }' "$OUT" >>"$RES"
if [ "$rc" = 0 ] && [ "$mism" = 0 ] && [ "$sent" = "$MESSAGES" ] && [ "$gother" = 0 ] &&
	[ $((g250 + g550)) = "$MESSAGES" ]; then
	ok "replies: $MESSAGES messages, every one as its class expects (250: $g250, 550: $g550)"
else
	notok "replies: smtpload exit $rc, mismatches ${mism:-?}, sent $sent of $MESSAGES, 250: $g250, 550: $g550, other: $gother: $(head -n 5 "$OUT.err" | tr '\n' '|')"
fi

# No restart: the same process, and Postfix never found the milter missing.
START1=$(start_time "$PID0")
trouble=$(($(maillog_milter_trouble) - trouble0))
if [ "$START1" = "$START0" ]; then
	ok "no restart: policy-milter pid $PID0 ran through the whole soak"
else
	notok "no restart: policy-milter pid $PID0 is gone or not the same process (start time $START0, now '${START1:-gone}')"
fi
if [ "$trouble" = 0 ]; then
	ok "Postfix logged no milter warning during the soak"
else
	notok "Postfix logged $trouble milter warnings: $(grep -iE 'warning: .*milter' "$E2E_DIR/maillog" | head -n 3 | tr '\n' '|')"
fi

# Descriptors at rest: wait until the sessions have closed.
wait_for 100 "[ \$(fd_count $PID0) -le $((FD0 + FD_SLACK)) ]"
FD1=$(fd_count "$PID0")
RSS1=$(proc_rss_kb "$PID0")
fdpeak=$(awk '$3 > m { m = $3 } END { print m + 0 }' "$SAMPLES")
res "fds       at rest: $FD0 after the warm-up, ${FD1:-?} after the soak (slack $FD_SLACK); peak under load $fdpeak"
if [ -n "$FD1" ] && [ "$FD1" -le $((FD0 + FD_SLACK)) ]; then
	ok "descriptors: $FD0 before, $FD1 after the soak (at rest; at most $FD_SLACK more allowed)"
else
	notok "descriptors: $FD0 before, ${FD1:-?} after the soak (at rest; at most $FD_SLACK more allowed): $(find "/proc/$PID0/fd" -mindepth 1 -printf '%f -> %l\n' 2>&1 | sort -n | tail -n 8 | tr '\n' '|')"
fi

# RSS: the last quarter's mean within 10% + 2 MiB of the second quarter's.
# shellcheck disable=SC2046 # one word per figure
set -- $(awk '{ r[n++] = $2; if ($4 > th) th = $4 }
	END {
		if (n == 0) { print 0; exit }
		for (i = 0; i < n; i++) {
			if (i >= int(n / 4) && i < int(n / 2)) { q2 += r[i]; n2++ }
			if (i >= int(3 * n / 4)) { q4 += r[i]; n4++ }
			if (min == "" || r[i] < min) min = r[i]
			if (r[i] > max) max = r[i]
		}
		printf "%d %d %d %.0f %.0f %d %d %d\n", n, r[0], r[n - 1], q2 / n2, q4 / n4, min, max, th
	}' "$SAMPLES")
nsamp=$1
if [ "$nsamp" -lt 8 ]; then
	notok "RSS: only $nsamp samples (at least 8 needed: raise SOAK_MESSAGES or lower SOAK_SAMPLE)"
	res "rss       only $nsamp samples"
else
	first=$2 last=$3 q2=$4 q4=$5 min=$6 max=$7 threads=$8
	limit=$(((q2 * 110 + 99) / 100 + 2048))
	mib() { awk -v k="$1" 'BEGIN { printf "%.1f", k / 1024 }'; }
	res "rss       first sample $(mib "$first") MiB, last $(mib "$last") MiB ($nsamp samples every $SAMPLE s, $(mib "$min") to $(mib "$max") MiB; up to $threads threads)"
	res "          quarter means: second $(mib "$q2") MiB, last $(mib "$q4") MiB (limit $(mib "$limit") MiB); at rest $(mib "$RSS0") MiB after the warm-up, $(mib "${RSS1:-0}") MiB after the soak"
	if [ "$q4" -le "$limit" ]; then
		ok "RSS flat: last quarter's mean $(mib "$q4") MiB <= second quarter's $(mib "$q2") MiB + 10% + 2 MiB"
	else
		notok "RSS grew: last quarter's mean $(mib "$q4") MiB > second quarter's $(mib "$q2") MiB + 10% + 2 MiB ($(mib "$limit") MiB)"
	fi
fi

# ---- 2. the leak run: ASan+LSan build, miltload, SIGTERM ------------------------------

# lsan_run LABEL SELFTEST N CONC - start the sanitizer build on the same policy and
# socket, N messages over CONC milter connections, SIGTERM; sets LSAN_RC, LSAN_LOG, LOAD_RC
lsan_run() {
	local label=$1 self=$2 n=$3 conc=$4 pid clients
	LSAN_LOG=$E2E_DIR/lsan-$label.log
	rm -f "$PM_SOCKET"
	SOAK_LSAN_SELFTEST=$self ASAN_OPTIONS=detect_leaks=1:abort_on_error=0:log_path=stderr \
		LSAN_OPTIONS=report_objects=1 UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1 \
		"$LSAN_BIN" -c "$PM_CONF" >"$LSAN_LOG" 2>&1 &
	pid=$!
	MILTER_PID=$pid # ns_teardown stops it
	if ! wait_for 300 "[ -S $PM_SOCKET ]"; then
		kill "$pid" 2>/dev/null
		LSAN_RC=-1 LOAD_RC=-1
		return
	fi
	clients=$(i=1; for a in $CLIENTS; do printf '%s=mta%s.example.net,' "$a" $i; i=$((i + 1)); done)
	"$SOAK_BIN/miltload" -S "$PM_SOCKET" -c "$conc" -n "$n" -m "$MSGS/mix.idx" -b "${clients%,}" \
		>"$E2E_DIR/out.$label" 2>"$E2E_DIR/out.$label.err"
	LOAD_RC=$?
	kill -TERM "$pid"
	if wait_for 600 "! kill -0 $pid"; then
		wait "$pid"
		LSAN_RC=$?
	else
		kill -KILL "$pid" 2>/dev/null
		wait "$pid" 2>/dev/null
		LSAN_RC=timeout
	fi
	MILTER_PID=''
}

if [ "$LEAK" = 0 ]; then
	res "leaks     not checked (SOAK_LEAK=0)"
	finish
fi
if pm_stop; then
	ok "policy-milter stopped on SIGTERM after the soak, exit 0"
else
	notok "policy-milter did not exit 0 on SIGTERM after the soak"
fi

# Self-test: a planted leak must be found, or the check proves nothing here.
lsan_run selftest 1 20 5
if [ "$LSAN_RC" = 23 ] && grep -q 'ERROR: LeakSanitizer: detected memory leaks' "$LSAN_LOG" &&
	grep -q 'Direct leak of 4321 byte' "$LSAN_LOG" && grep -q 'lsanexit_planted_leak' "$LSAN_LOG"; then
	ok "leak check self-test: the planted 4321-byte leak is reported, exit 23"
	selftest=passed
else
	notok "leak check self-test: the planted leak was not reported (exit $LSAN_RC): $(grep -E 'lsanexit|ERROR|Sanitizer' "$LSAN_LOG" | head -n 5 | tr '\n' '|')"
	selftest=FAILED
fi

lsan_run leak 0 "$LEAK_MESSAGES" "$LEAK_CONC"
lmism=$(sl_field "$E2E_DIR/out.leak" mismatches)
if [ "$LOAD_RC" = 0 ] && [ "$lmism" = 0 ]; then
	ok "leak run: $LEAK_MESSAGES messages over $LEAK_CONC milter connections, every reply as expected"
else
	notok "leak run: miltload exit $LOAD_RC, mismatches ${lmism:-?}: $(head -n 5 "$E2E_DIR/out.leak.err" | tr '\n' '|')"
fi
reports=$(grep -cE 'ERROR: (LeakSanitizer|AddressSanitizer)|runtime error:|SUMMARY: (Address|Leak|UndefinedBehavior)Sanitizer' "$LSAN_LOG")
if [ "$LSAN_RC" = 0 ] && [ "$reports" = 0 ] && grep -q 'lsanexit: leak check done: no leaks' "$LSAN_LOG"; then
	verdict="no leaks"
	ok "leak run: LeakSanitizer ran at exit and found no leak, no sanitizer report, exit 0"
else
	verdict="LEAKS or errors (exit $LSAN_RC, $reports report lines)"
	notok "leak run: exit $LSAN_RC, $reports sanitizer report lines, check done: '$(sed -n 's/^lsanexit: leak check done: //p' "$LSAN_LOG")': $(grep -E -A 4 'ERROR:|runtime error:' "$LSAN_LOG" | head -n 12 | tr '\n' '|')"
fi
res "leaks     LeakSanitizer (ASan+UBSan build), $LEAK_MESSAGES messages via miltload at $LEAK_CONC connections, then SIGTERM: $verdict; self-test (planted leak found): $selftest"
finish
