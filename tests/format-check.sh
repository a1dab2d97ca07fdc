#!/bin/bash
# format-check.sh - the C sources must be as clang-format (.clang-format) leaves them
set -u
cd "$(dirname "$0")/.."
if ! command -v clang-format >/dev/null; then
	echo "SKIPPED: clang-format not installed"
	exit 77
fi
rc=0
for f in src/*.c src/*.h tests/unit/*.c; do
	if clang-format --dry-run -Werror "$f" >/dev/null 2>&1; then
		echo "ok - format $f"
	else
		echo "not ok - format $f: run 'make format'"
		rc=1
	fi
done
exit $rc
