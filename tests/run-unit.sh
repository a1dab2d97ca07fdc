#!/bin/bash
# run-unit.sh - run cmocka unit tests in TAP mode and record the results
# usage: run-unit.sh LABEL DIR TEST...
# Each test binary's TAP lines are copied to build/results/unit-LABEL.tap
# (prefixed with the test name) and echoed; exit status 1 when any failed.
set -u
label=$1; dir=$2; shift 2
mkdir -p build/results
out=build/results/unit-$label.tap
: >"$out"
status=0
for t in "$@"; do
	log=build/results/unit-$label-$t.log
	CMOCKA_MESSAGE_OUTPUT=tap "$dir/$t" >"$log" 2>&1
	rc=$?
	# cmocka TAP: "ok N - name" / "not ok N - name"
	sed -n -e "s/^\(not ok\|ok\) [0-9]* - \(.*\)/\1 - $label $t: \2/p" "$log" >>"$out.tmp.$$"
	if [ $rc -ne 0 ]; then
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
