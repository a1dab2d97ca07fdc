#!/bin/bash
# check.sh - the body of `make check`: every suite, then one summary line
# "N passed, N failed" counting every test case of every suite.
# Each suite leaves TAP-style "ok - ..." / "not ok - ..." lines in build/results/*.tap.
set -u
cd "$(dirname "$0")/.."
mkdir -p build/results
rc=0

# cpu_ticks PID - CPU time (user + system, clock ticks) of the waited-for children of shell PID
cpu_ticks() { awk '{ print $16 + $17 }' "/proc/$1/stat"; }

suite() { # suite NAME COMMAND... : run, keep its ok/not ok lines, its time in build/results/times
	local name=$1; shift
	echo "==== $name"
	local t0 c0 me=$BASHPID # this shell, or the background suite's own subshell
	t0=$(date +%s)
	c0=$(cpu_ticks "$me")
	"$@" 2>&1 | tee "build/results/$name.out"
	local s=${PIPESTATUS[0]}
	printf '%-14s %4d s wall %5d s CPU\n' "$name" $(($(date +%s) - t0)) \
		$((($(cpu_ticks "$me") - c0) / $(getconf CLK_TCK))) >>build/results/times
	grep -E '^(ok|not ok)( |$)' "build/results/$name.out" >"build/results/$name.tap" || true
	if [ "$s" -eq 77 ]; then # skipped (not root): an error only in CI
		if [ "${CI:-}" = true ]; then
			echo "not ok - $name: skipped, but CI=true requires it to run" >>"build/results/$name.tap"
			rc=1
		fi
		return
	fi
	if [ "$s" -ne 0 ] && ! grep -q '^not ok' "build/results/$name.tap"; then
		echo "not ok - $name: exited with status $s" >>"build/results/$name.tap"
	fi
	[ "$s" -eq 0 ] || rc=1
}

# suite_bg NAME COMMAND... - a suite in the background, beside the single-threaded suites
# that time nothing (unit, report, format); its output is shown by wait_bg. It runs as a
# grandchild, so its CPU time is counted in its own line of build/results/times only.
bg_names=()
suite_bg() {
	rm -f "build/results/$1.rc"
	( (
		suite "$@" >/dev/null
		echo "$rc" >"build/results/$1.rc"
	) &)
	bg_names+=("$1")
}
wait_bg() {
	local n
	for n in "${bg_names[@]}"; do
		while [ ! -e "build/results/$n.rc" ]; do sleep 1; done
		[ "$(cat "build/results/$n.rc")" = 0 ] || rc=1
		echo "==== $n (ran in the background)"
		cat "build/results/$n.out"
	done
	bg_names=()
}

# ARC chains made by Mail::DKIM: our validator (build/tests/arcverify) and Mail::DKIM must agree
# (about 80 s of one core of perl)
suite_bg arc-diff tests/arc/diff.sh
# make deb (dpkg-buildpackage from a copy of the tree), lintian, and the package installed,
# upgraded, removed and purged in throwaway overlay roots (root)
suite_bg deb tests/deb/run.sh
suite unit-plain tests/run-unit.sh plain build/tests $(sed -n 's/^UNIT_TESTS := //p' Makefile)
suite unit-asan tests/run-unit.sh asan build/asan/tests $(sed -n 's/^UNIT_TESTS := //p' Makefile)
# policy-milter-report over fixture logs (plain, gzip, garbage; its ASan+UBSan build too)
suite report tests/report/run.sh
# DMARC aggregate reports delivered through the e2e world's Postfix; the HTML report of
# an e2e decision log in headless Chromium (root)
suite report-e2e tests/report/e2e.sh
suite format tests/format-check.sh
suite man-lint tests/man-lint.sh
wait_bg
suite lint tests/lint.sh # cppcheck and clang-tidy (make lint)
suite fuzz tests/fuzz/run.sh # libFuzzer: each target's corpus, then 5 s of fuzzing
# make install / make uninstall into a DESTDIR, the systemd unit (systemd-analyze verify)
suite install tests/install/run.sh
suite spf tests/spf/run.sh
# the metrics endpoint's HTTP responder against good and hostile clients, plain and ASan+UBSan (loopback)
suite metrics-http tests/metrics/http.sh
# the official RFC 7208 SPF test suite (../shared/conformance), plain and ASan+UBSan
suite spf-rfc7208 tests/spf/rfc7208.sh
# negative answers cached for their SOA minimum, not longer (nsd, one zone change)
suite dnsneg tests/dnsneg/run.sh
suite daemon tests/daemon/run.sh
suite milter tests/milter/run.sh
suite e2e tests/e2e/run.sh
# the same scenarios through a real Sendmail 8.17 (unpacked beside Postfix)
suite e2e-sendmail tests/e2e/sendmail.sh
# the same world against the daemon built with ASan+UBSan (as the milter suite builds it)
suite e2e-asan tests/e2e/run-asan.sh
# greylisting and rate limits: two Postfix MX hosts sharing one Redis, an LMDB milter,
# Redis stopped and slow, LMDB deleted and corrupted (root)
suite state tests/state/run.sh
# the metrics endpoint: counters equal to the JSON decision log, promtool, 50 parallel scrapes (root)
suite metrics tests/metrics/run.sh
suite faults tests/faults/run.sh
suite soak env SOAK_MESSAGES=3000 tests/soak/run.sh # the soak, shortened; the ASan+LSan leak run

pass=$(cat build/results/*.tap | grep -c '^ok')
fail=$(cat build/results/*.tap | grep -c '^not ok')
echo
if [ "$fail" -ne 0 ]; then
	echo "Failures:"
	cat build/results/*.tap | grep '^not ok'
fi
[ "$fail" -eq 0 ] || rc=1
cat build/results/times
echo "$pass passed, $fail failed"
exit $rc
