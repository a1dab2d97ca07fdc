#!/bin/bash
# run-unit.sh - run cmocka unit tests in TAP mode and record the results
# usage: run-unit.sh LABEL DIR TEST...
# The test binaries run UNIT_JOBS at a time (default 4: several of them
# mostly wait, on a file's re-read clock or a private redis-server);
# each one's TAP lines are then copied, in the order given, to
# build/results/unit-LABEL.tap (prefixed with the test name) and echoed;
# exit status 1 when any failed.
set -u
label=$1; dir=$2; shift 2
jobs=${UNIT_JOBS:-4}
case $jobs in '' | *[!0-9]* | 0) jobs=1 ;; esac
mkdir -p build/results
out=build/results/unit-$label.tap
: >"$out"
status=0

# run_one TEST - run one binary, its output in its log, its exit status beside it
run_one() {
	local log=build/results/unit-$label-$1.log
	CMOCKA_MESSAGE_OUTPUT=tap "$dir/$1" >"$log" 2>&1
	echo $? >"$log.rc"
}
export -f run_one
export label dir
printf '%s\0' "$@" | xargs -0 -P "$jobs" -n 1 bash -c 'run_one "$1"' _

for t in "$@"; do
	log=build/results/unit-$label-$t.log
	rc=$(cat "$log.rc" 2>/dev/null || echo 127)
	rm -f "$log.rc"
	# cmocka TAP: "ok N - name" / "not ok N - name"
	sed -n -e "s/^\(not ok\|ok\) [0-9]* - \(.*\)/\1 - $label $t: \2/p" "$log" >>"$out.tmp.$$"
	if [ "$rc" -ne 0 ]; then
		status=1
		if ! grep -q '^not ok' "$out.tmp.$$"; then
			# crashed (sanitizer, abort) before reporting: count as a failure
			echo "not ok - $label $t: exited with status $rc" >>"$out.tmp.$$"
		fi
		echo "---- $label $t failed (exit $rc), its output:"
		sed 's/^/    /' "$log" | tail -60
	fi
	cat "$out.tmp.$$" >>"$out"
	rm -f "$out.tmp.$$"
done
pass=$(grep -c '^ok' "$out")
fail=$(grep -c '^not ok' "$out")
cat "$out"
echo "unit ($label): $pass passed, $fail failed"
exit $status
