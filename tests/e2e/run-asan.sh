#!/bin/bash
# NAME
#	run-asan.sh - the end-to-end suite against the daemon built with ASan+UBSan
# DESCRIPTION
#	Builds build/asan-daemon/policy-milter (tests/milter/asan-daemon.mk, the
#	sanitizer flags of the unit tests) and runs tests/e2e/run.sh with it;
#	run.sh's last check fails on any sanitizer report in the milter's log.
#	Exit status as run.sh's (77: skipped, not root).
set -u
TOP=$(cd "$(dirname "$0")/../.." && pwd)
if [ "$(id -u)" = 0 ]; then
	make -s -C "$TOP" -f Makefile -f tests/milter/asan-daemon.mk build/asan-daemon/policy-milter || {
		echo "not ok - e2e-asan: the sanitizer build of the daemon failed"
		exit 1
	}
fi
MILTER_BIN=$TOP/build/asan-daemon/policy-milter exec "$TOP/tests/e2e/run.sh" "$@"
