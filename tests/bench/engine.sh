#!/bin/bash
# NAME
#	engine.sh - libmilter's share: milters compared in one benchmark world
# SYNOPSIS
#	tests/bench/engine.sh
# DESCRIPTION
#	For tests/bench/README, "libmilter's share". Builds the benchmark's
#	world once (world.sh: nsd, unbound, Postfix with its listeners, the
#	signed mix; the setups nm and pm only: OpenDKIM and OpenDMARC are not
#	started), then, ENGINE_ROUNDS times, in turn:
#
#	  pm    each policy-milter binary of ENGINE_PM_BINS (default
#	        src/policy-milter) started afresh and driven alone by miltload,
#	        ENGINE_PM_CONNS (200) connections, ENGINE_PM_MESSAGES (20000)
#	        messages of the mix: the milter-only figures of run.sh
#	  null  each null milter of ENGINE_NM (default "nullmilter
#	        rawmilter:epoll rawmilter:threads": build/bench/bin/NAME,
#	        -m MODE after the colon) on the nm listener (port 2528):
#	        smtpload at ENGINE_CONC (50), ENGINE_MESSAGES (5000) messages
#	        through Postfix, and Postfix alone (port 2525) once per round;
#	        then the same milter driven alone by miltload (ENGINE_PM_CONNS
#	        connections, ENGINE_NM_MESSAGES (20000) messages)
#
#	Each line: the setup, messages/s, the milter's CPU ms per message
#	(utime+stime of all its threads, live or gone: /proc/PID/stat), its
#	peak RSS (VmHWM) for the milter-only runs, and for the MTA runs the
#	whole namespace's CPU ms per message. ENGINE_PERF=1: the milter-only
#	runs under perf stat -p (system calls by kind and page faults per
#	message; the tracing costs CPU: keep its runs apart from the timed
#	ones). ENGINE_SKIP_PM=1 or ENGINE_SKIP_NULL=1 leave a part out.
#	Results: build/bench/engine.txt (also printed). Needs root, like run.sh.
# DIAGNOSTICS
#	Exit 0 when every message of every run got its expected reply, 1 when
#	any did not, 2 when the world could not be built.
set -u

HERE=$(cd "$(dirname "$0")" && pwd)
# shellcheck source=tests/e2e/lib.sh
. "$HERE/../e2e/lib.sh"
# shellcheck source=tests/bench/world.sh
. "$HERE/world.sh"

BENCH_BIN=$E2E_TOP/build/bench/bin
OUT=$E2E_TOP/build/bench/engine.txt
ROUNDS=${ENGINE_ROUNDS:-3}
PM_BINS=${ENGINE_PM_BINS:-$E2E_TOP/src/policy-milter}
PM_CONNS=${ENGINE_PM_CONNS:-200}
PM_MESSAGES=${ENGINE_PM_MESSAGES:-20000}
NM_LIST=${ENGINE_NM:-nullmilter rawmilter:epoll rawmilter:threads}
CONC=${ENGINE_CONC:-50}
MESSAGES=${ENGINE_MESSAGES:-5000}
NM_MESSAGES=${ENGINE_NM_MESSAGES:-20000}
VARIANTS=4
CLIENTS="192.0.2.10 192.0.2.11 192.0.2.12"

if [ -z "${BENCH_INNER:-}" ]; then
	[ "$(id -u)" = 0 ] || {
		echo "SKIPPED: engine.sh needs root"
		exit 0
	}
	mkdir -p "$BENCH_BIN"
	for t in smtpload miltload; do
		gcc -std=gnu11 -O2 -Wall -Wextra -Werror -o "$BENCH_BIN/$t" "$HERE/$t.c" -lpthread || exit 2
	done
	gcc -std=gnu11 -O2 -Wall -Wextra -Werror -o "$BENCH_BIN/nullmilter" "$HERE/nullmilter.c" \
		-lmilter -lpthread || exit 2
	gcc -std=gnu11 -O2 -Wall -Wextra -Werror -o "$BENCH_BIN/rawmilter" "$HERE/rawmilter.c" \
		-lpthread || exit 2
	ns_reexec pm-engine BENCH_KEEP BENCH_INNER "$0" "$@"
	exit $?
fi

trap ns_teardown EXIT
trap 'exit 2' INT TERM
TICKS=$(getconf CLK_TCK)
failed=0
MSGS=$E2E_DIR/msgs
ns_setup
bench_nsd_start
unbound_start
bench_postfix_setup
postfix_start
PM_CONF=$E2E_DIR/policy-milter.conf
cp "$E2E_TOP/conf/policy-milter.conf" "$PM_CONF"
perl "$HERE/mkmsgs.pl" --mix "$HERE/mix" --keys "$E2E_DIR/keys" --out "$MSGS" \
	--variants "$VARIANTS" --verify >/dev/null || die "the messages could not be built"
: >"$E2E_DIR/engine.txt"

PERF_EVENTS=page-faults,syscalls:sys_enter_clone3,syscalls:sys_enter_mmap,syscalls:sys_enter_munmap
PERF_EVENTS=$PERF_EVENTS,syscalls:sys_enter_madvise,syscalls:sys_enter_mprotect,syscalls:sys_enter_poll
PERF_EVENTS=$PERF_EVENTS,syscalls:sys_enter_read,syscalls:sys_enter_write,syscalls:sys_enter_writev
PERF_EVENTS=$PERF_EVENTS,syscalls:sys_enter_futex,syscalls:sys_enter_openat

# ns_ticks - CPU of every process of the namespace, live or gone (run.sh's ns_cpu_ticks)
ns_ticks() {
	cat /proc/[0-9]*/stat 2>/dev/null | awk '{ sub(/^.*\) /, ""); t += $12 + $13 + $14 + $15 } END { print t + 0 }'
}

# line LABEL OUTFILE RC N C0 C1 EXTRA - one result line
line() {
	local label=$1 out=$2 rc=$3 n=$4 rate
	rate=$(sed -n 's/^result .* rate=\([0-9.]*\).*/\1/p' "$out")
	awk -v l="$label" -v rc="$rc" -v r="${rate:-?}" -v c0="$5" -v c1="$6" \
		-v n="$n" -v h="$TICKS" -v x="$7" 'BEGIN {
		printf "%-28s rc=%s msgs_per_s=%s milter_cpu_ms_per_msg=%.3f%s\n",
			l, rc, r, (c1 - c0) * 1000 / h / n, x }' | tee -a "$E2E_DIR/engine.txt"
	[ "$rc" = 0 ] || {
		failed=1
		head -n 5 "${out%.out}.err"
	}
}

# miltload_run LABEL SOCKET PID N [ARG...] - miltload against a milter's socket
miltload_run() {
	local label=$1 sock=$2 pid=$3 n=$4 c0 c1 rc clients perf='' extra
	shift 4
	clients=$(i=1; for a in $CLIENTS; do printf '%s=mta%s.example.net,' "$a" $i; i=$((i + 1)); done)
	proc_reset_hwm "$pid"
	if [ -n "${ENGINE_PERF:-}" ]; then
		perf stat -x, -e "$PERF_EVENTS" -p "$pid" -o "$E2E_DIR/$label.perf" &
		perf=$!
		sleep 0.5
	fi
	c0=$(proc_cpu_ticks "$pid")
	"$BENCH_BIN/miltload" -S "$sock" -c "$PM_CONNS" -n "$n" -m "$MSGS/mix.idx" -b "${clients%,}" "$@" \
		>"$E2E_DIR/$label.out" 2>"$E2E_DIR/$label.err"
	rc=$?
	c1=$(proc_cpu_ticks "$pid") || die "$label: the milter died"
	extra=" hwm_kb=$(proc_hwm_kb "$pid")"
	if [ -n "$perf" ]; then
		kill -INT "$perf"
		wait "$perf"
		extra=$extra$(awk -F, -v n="$n" '$3 != "" { sub(/syscalls:sys_enter_/, "", $3)
			printf " %s=%.2f", $3, $1 / n }' "$E2E_DIR/$label.perf")
	fi
	line "$label" "$E2E_DIR/$label.out" "$rc" "$n" "$c0" "$c1" "$extra"
}

# smtp_run LABEL PORT PID - smtpload through Postfix's listener PORT (PID: the milter, or -)
smtp_run() {
	local label=$1 port=$2 pid=$3 c0=0 c1=0 n0 n1 rc
	[ "$pid" != - ] && c0=$(proc_cpu_ticks "$pid")
	n0=$(ns_ticks)
	"$BENCH_BIN/smtpload" -s "$BENCH_SERVER" -p "$port" -c "$CONC" -n "$MESSAGES" \
		-m "$MSGS/mix.idx" -b "${CLIENTS// /,}" -E 250 >"$E2E_DIR/$label.out" 2>"$E2E_DIR/$label.err"
	rc=$?
	n1=$(ns_ticks)
	[ "$pid" != - ] && { c1=$(proc_cpu_ticks "$pid") || die "$label: the milter died"; }
	line "$label" "$E2E_DIR/$label.out" "$rc" "$MESSAGES" "$c0" "$c1" \
		"$(awk -v a="$n0" -v b="$n1" -v n="$MESSAGES" -v h="$TICKS" \
			'BEGIN { printf " ns_cpu_ms_per_msg=%.3f", (b - a) * 1000 / h / n }')"
}

# null_start NAME[:MODE] - that null milter on the nm listener's socket; NM_PID
null_start() {
	local bin=${1%%:*} mode=
	[ "$bin" != "$1" ] && mode="-m ${1#*:}"
	rm -f "$NM_SOCKET"
	install -d -m 0755 "$(dirname "$NM_SOCKET")"
	# shellcheck disable=SC2086 # $mode: one option or none
	"$BENCH_BIN/$bin" -p "unix:$NM_SOCKET" $mode >>"$E2E_DIR/nullmilter.log" 2>&1 &
	NM_PID=$!
	wait_for 100 "[ -S $NM_SOCKET ]" || die "$1 did not start"
}

null_stop() {
	kill "$NM_PID" 2>/dev/null
	wait "$NM_PID" 2>/dev/null
	NM_PID=
}

# the check: the mix (80 messages) once through each null milter: 250 for every one
keep=$MESSAGES
MESSAGES=80
for m in $NM_LIST; do
	null_start "$m"
	smtp_run "check-${m/:/-}" 2528 "$NM_PID" >/dev/null
	null_stop
done
MESSAGES=$keep
[ "$failed" = 0 ] || die "a null milter does not answer right"

for r in $(seq 1 "$ROUNDS"); do
	if [ -z "${ENGINE_SKIP_PM:-}" ]; then
		for b in $PM_BINS; do
			MILTER_BIN=$b
			pm_start "$PM_CONF"
			miltload_run "pm-$(basename "$b")-r$r" "$PM_SOCKET" "$PM_PID" "$PM_MESSAGES"
			pm_stop
		done
	fi
	if [ -z "${ENGINE_SKIP_NULL:-}" ]; then
		smtp_run "mta-none-c$CONC-r$r" 2525 -
		for m in $NM_LIST; do
			null_start "$m"
			smtp_run "mta-${m/:/-}-c$CONC-r$r" 2528 "$NM_PID"
			miltload_run "alone-${m/:/-}-r$r" "$NM_SOCKET" "$NM_PID" "$NM_MESSAGES" -E 250
			null_stop
		done
	fi
done
cp "$E2E_DIR/engine.txt" "$OUT"
exit "$failed"
