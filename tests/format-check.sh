#!/bin/bash
# format-check.sh - the C sources must be as clang-format (.clang-format) leaves them
set -u
cd "$(dirname "$0")/.."
if ! command -v clang-format >/dev/null; then
	echo "SKIPPED: clang-format not installed"
	exit 77
fi
files=(src/*.c src/*.h src/report/*.[ch] tests/unit/*.c tests/report/*.c tests/fuzz/*.[ch] tests/arc/*.c tests/metrics/*.c)
bad=
# one clang-format for all (its start-up is most of the time); one a file only to name the bad ones
if ! clang-format --dry-run -Werror "${files[@]}" >/dev/null 2>&1; then
	for f in "${files[@]}"; do
		clang-format --dry-run -Werror "$f" >/dev/null 2>&1 || bad="$bad $f"
	done
	[ -n "$bad" ] || bad=" (clang-format failed on the whole set)"
fi
if [ -z "$bad" ]; then
	echo "ok - clang-format: every C source is formatted"
	exit 0
fi
echo "not ok - clang-format: not formatted (run 'make format'):$bad"
exit 1
