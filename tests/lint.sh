#!/bin/bash
# lint.sh - the body of `make lint`: cppcheck and clang-tidy over the
# daemon's and policy-milter-report's sources (src/*.c, src/report/*.c).
# clang-tidy runs the checks of .clang-tidy (bugprone-*, cert-*,
# clang-analyzer-*, the exclusions there with their reasons), one process a
# file, as many at a time as there are CPUs; cppcheck runs with
# --enable=warning,performance,portability and the suppressions of
# tests/lint/cppcheck.supp. Prints ok / not ok lines; exit 1 on any finding.
set -u
cd "$(dirname "$0")/.."
for tool in cppcheck clang-tidy; do
	if ! command -v "$tool" >/dev/null; then
		echo "not ok - lint: $tool not installed (make deps)"
		exit 1
	fi
done
rc=0
srcs=(src/*.c src/report/*.c)
# the compiler's view of the sources, as the Makefile builds them
defs=(-D_GNU_SOURCE -DPM_VERSION='"lint"' -DPM_CONFIG_PATH='"/etc/policy-milter/policy-milter.conf"')
# shellcheck disable=SC2207 # word splitting wanted
pkgflags=($(pkg-config --cflags milter libconfig opendkim jansson zlib 2>/dev/null))
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT

if cppcheck -j"$(nproc)" --enable=warning,performance,portability --error-exitcode=1 \
	--inline-suppr --suppressions-list=tests/lint/cppcheck.supp --quiet --std=c11 \
	"${defs[@]}" -Isrc -Isrc/report \
	--template='{file}:{line}: {severity}: {message} [{id}]' "${srcs[@]}" >"$tmp/cppcheck" 2>&1; then
	echo "ok - cppcheck: ${#srcs[@]} files"
else
	echo "not ok - cppcheck:"
	sed 's/^/    /' "$tmp/cppcheck"
	rc=1
fi

# tidy FILE - clang-tidy of one file into $tmp/FILE.out, its status into $tmp/FILE.rc
tidy() {
	local out=$tmp/${1//\//_}
	# shellcheck disable=SC2086 # word splitting wanted: no flag holds a space
	clang-tidy --quiet "$1" -- $LINT_FLAGS >"$out.out" 2>&1
	echo $? >"$out.rc"
}
LINT_FLAGS="-std=gnu11 ${defs[*]} ${pkgflags[*]} -Isrc -Isrc/report"
export -f tidy
export tmp LINT_FLAGS
printf '%s\0' "${srcs[@]}" | xargs -0 -P "$(nproc)" -n 1 bash -c 'tidy "$1"' _
for f in "${srcs[@]}"; do
	out=$tmp/${f//\//_}
	if [ "$(cat "$out.rc" 2>/dev/null)" = 0 ]; then
		echo "ok - clang-tidy $f"
	else
		echo "not ok - clang-tidy $f:"
		grep -v -e ' warnings\? generated\.$' -e '^Suppressed ' -e '^Use -header-filter' \
			-e '^Use -system-headers' "$out.out" | sed 's/^/    /'
		rc=1
	fi
done
exit $rc
