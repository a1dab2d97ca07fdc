#!/bin/bash
# man-lint.sh - every man page must be clean under mandoc -Tlint and groff -ww
set -u
cd "$(dirname "$0")/.."
rc=0
for page in man/*.[1-8]; do
	[ -e "$page" ] || continue
	out=$( { mandoc -Tlint -W warning "$page"; groff -ww -z -man "$page"; } 2>&1)
	if [ -z "$out" ]; then
		echo "ok - man lint $page"
	else
		echo "not ok - man lint $page:"
		echo "$out" | sed 's/^/    /'
		rc=1
	fi
done
exit $rc
