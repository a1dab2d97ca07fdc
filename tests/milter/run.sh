#!/bin/bash
# NAME
#	run.sh - milter-protocol tests: what Postfix cannot send
# SYNOPSIS
#	tests/milter/run.sh		(part of make check: suite "milter")
# DESCRIPTION
#	Builds the daemon with the sanitizers (SAN_FLAGS of the Makefile) in
#	build/asan-daemon/ (asan-daemon.mk), then, inside a private network,
#	mount and pid namespace with nsd serving tests/e2e/zones (lib.sh's
#	ns_setup and nsd_start), runs policy-milter with policy.conf (and a
#	JSON decision log, log.json_file, in its work directory) on a
#	unix socket and drives scenarios.py against it, as an MTA would
#	through the milter protocol (milterclient.py): once with
#	src/policy-milter and once with the sanitizer build. After each run
#	the milter is stopped with SIGTERM and must exit 0 with no session
#	left open; the sanitizer build's stderr must hold no sanitizer report.
#	MT_KEEP=1 keeps the work directory (/tmp/pm-milter.*).
# DIAGNOSTICS
#	"ok - ..." / "not ok - ...: got X, want Y" lines. Exit 0 all passed,
#	1 a check failed, 2 the world could not be built, 77 not root.

set -u

HERE=$(cd "$(dirname "$0")" && pwd)
TOP=$(cd "$HERE/../.." && pwd)
# shellcheck source=tests/e2e/lib.sh
. "$TOP/tests/e2e/lib.sh"
ASAN_BIN=$TOP/build/asan-daemon/policy-milter
PLAIN_BIN=$TOP/src/policy-milter
PYTHON=${PYTHON:-python3}
export PYTHONDONTWRITEBYTECODE=1 # nothing written into the source tree

if [ -z "${MT_INNER:-}" ]; then
	if [ "$(id -u)" != 0 ]; then
		echo "SKIPPED: milter-protocol tests need root (unshare, nsd)"
		exit 77
	fi
	for tool in unshare ip nsd dig gcc make "$PYTHON"; do
		command -v "$tool" >/dev/null || {
			echo "milter: $tool not found (run make deps)" >&2
			exit 2
		}
	done
	[ -x "$PLAIN_BIN" ] || make -s -C "$TOP" all || exit 2
	make -s -C "$TOP" -f Makefile -f tests/milter/asan-daemon.mk build/asan-daemon/policy-milter ||
		{
			echo "not ok - milter: the sanitizer build of the daemon failed"
			exit 1
		}
	e2e_build_tools
	ns_reexec pm-milter MT_KEEP MT_INNER "$0" "$@"
	rc=$?
	if [ "$rc" != 0 ]; then
		for f in "$E2E_DIR"/milter-*.log; do
			[ -f "$f" ] || continue
			echo "---- $f (last 60 lines) ----"
			tail -n 60 "$f"
		done
	fi
	[ -n "${MT_KEEP:-}" ] && echo "milter: work directory kept: $E2E_DIR"
	exit "$rc"
fi

# ---- inside the namespaces ----------------------------------------------

trap ns_teardown EXIT
trap 'exit 2' INT TERM
ns_setup
nsd_start

failed=0

# ok / notok - one result line
ok() { echo "ok - $*"; }
notok() {
	echo "not ok - $*"
	failed=1
}

# run_variant LABEL BINARY - start the milter, run the scenarios, stop it, check its log
run_variant() {
	local label=$1 bin=$2 dir=$E2E_DIR/$1 log=$E2E_DIR/milter-$1.log rc pid
	mkdir -p "$dir"
	chown policy-milter:policy-milter "$dir"
	: >"$log"
	# policy.conf with a JSON decision log in the work directory (opened as policy-milter)
	sed "s|^\(  syslog_ident = .*\)$|\1\n  json_file = \"$dir/decisions.json\";|" \
		"$HERE/policy.conf" >"$dir/policy.conf"
	grep -q 'json_file' "$dir/policy.conf" || {
		notok "[$label] could not add log.json_file to the policy"
		return
	}
	ASAN_OPTIONS=abort_on_error=0:detect_leaks=0:log_path=stderr UBSAN_OPTIONS=print_stacktrace=1 \
		"$bin" -f -c "$dir/policy.conf" -p "unix:$dir/milter.sock" >>"$log" 2>&1 &
	pid=$!
	if ! wait_for 100 "[ -S $dir/milter.sock ]"; then
		notok "[$label] policy-milter did not create its socket (see $log)"
		kill "$pid" 2>/dev/null
		return
	fi
	"$PYTHON" "$HERE/scenarios.py" --socket "$dir/milter.sock" --log "$log" --label "$label" \
		--json "$dir/decisions.json" || failed=1

	# stop: exit 0, every session closed (none leaked by the scenarios)
	kill -TERM "$pid"
	if wait_for 150 "! kill -0 $pid"; then
		wait "$pid"
		rc=$?
	else
		kill -KILL "$pid"
		wait "$pid"
		rc=timeout
	fi
	if [ "$rc" = 0 ]; then
		ok "[$label] SIGTERM after the scenarios: exit 0"
	else
		notok "[$label] SIGTERM after the scenarios: got exit $rc, want 0"
	fi
	if grep -q 'waiting up to [0-9]* s for 0 session(s)' "$log" &&
		grep -q 'stopped (0 session(s) cut off)' "$log"; then
		ok "[$label] no session left open after the scenarios"
	else
		notok "[$label] sessions left open: got '$(grep -E 'for [0-9]+ session|cut off' "$log" | tr '\n' ' ')', want 0 sessions"
	fi
	if grep -qE 'ERROR: AddressSanitizer|ERROR: LeakSanitizer|runtime error:|SUMMARY: (Address|Undefined)' "$log"; then
		notok "[$label] sanitizer report in the milter's stderr: $(grep -m1 -E 'ERROR: |runtime error:' "$log")"
	else
		ok "[$label] no sanitizer report and no crash in the milter's stderr"
	fi
}

run_variant plain "$PLAIN_BIN"
run_variant asan "$ASAN_BIN"

exit $failed
