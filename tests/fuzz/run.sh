#!/bin/bash
# NAME
#	run.sh - run the libFuzzer targets of tests/fuzz (make fuzz; make check's fuzz suite)
# SYNOPSIS
#	tests/fuzz/run.sh [TARGET...]		(default: every target in FUZZ_TARGETS)
#	FUZZ_SECONDS=N tests/fuzz/run.sh	(seconds of fuzzing per target; default 5)
# DESCRIPTION
#	Builds the targets (make fuzz-build: clang, -fsanitize=fuzzer,address,
#	undefined), then for each target (one target per CPU at once; the lines in target order):
#	1. runs every file of tests/fuzz/corpus/TARGET (seeds and regressions)
#	   once: a regression in a seed shows at once;
#	2. fuzzes it FUZZ_SECONDS seconds from that corpus (-timeout=10 per
#	   input, -rss_limit_mb=512: a run-away input is a bug too). New
#	   inputs go to a temporary directory, never into the committed
#	   corpus.
#	Each step prints one "ok - fuzz ..." or "not ok - fuzz ..." line. A
#	failing input is kept in build/fuzz/artifacts/TARGET/ (crash-*,
#	timeout-*, oom-*, leak-*) with the command that reproduces it.
#	ASAN_OPTIONS keeps the quarantine small so that the RSS limit
#	measures the code, not the allocator.
# DIAGNOSTICS
#	Exit 0 when every step passed, 1 when one failed or the build
#	failed, 77 (skipped) when clang or its fuzzer runtime is missing.
set -u
cd "$(dirname "$0")/../.."

secs=${FUZZ_SECONDS:-5}
case $secs in
'' | *[!0-9]*)
	echo "not ok - fuzz: FUZZ_SECONDS must be a number of seconds, not \"$secs\""
	exit 1
	;;
esac
if [ $# -gt 0 ]; then
	targets=("$@")
else
	read -r -a targets <<<"$(sed -n 's/^FUZZ_TARGETS := //p' Makefile)"
fi

if ! command -v "${FUZZ_CC:-clang}" >/dev/null; then
	echo "SKIPPED: fuzz: ${FUZZ_CC:-clang} not installed (make deps installs clang)"
	exit 77
fi
mkdir -p build/fuzz
log=build/fuzz/build.log
if ! make -s -j"$(nproc)" fuzz-build >"$log" 2>&1; then
	if grep -q 'libclang_rt.fuzzer\|fsanitize=fuzzer' "$log"; then
		echo "SKIPPED: fuzz: no libFuzzer runtime (make deps installs libclang-rt-14-dev)"
		tail -5 "$log"
		exit 77
	fi
	echo "not ok - fuzz: make fuzz-build failed (build/fuzz/build.log):"
	tail -30 "$log"
	exit 1
fi

work=$(mktemp -d "${TMPDIR:-/tmp}/pm-fuzz-run.XXXXXX") || exit 1
trap 'rm -rf "$work"' EXIT
export TMPDIR=$work
export ASAN_OPTIONS=${ASAN_OPTIONS:-quarantine_size_mb=16:detect_leaks=1}
export UBSAN_OPTIONS=${UBSAN_OPTIONS:-print_stacktrace=1:halt_on_error=1}

# fuzz_one TARGET - its corpus, then its fuzzing: TAP lines on standard
# output, exit 1 when either failed (the targets run one per CPU at once,
# each libFuzzer process being single-threaded; their lines are printed
# afterwards in the order of the targets)
fuzz_one() {
	local t=$1 bin corpus arts dict opts n out cov before st runs speed rss art
	bin=build/fuzz/$t
	corpus=tests/fuzz/corpus/$t
	arts=build/fuzz/artifacts/$t
	mkdir -p "$arts" "$work/$t"
	dict=()
	[ -f "tests/fuzz/$t.dict" ] && dict=(-dict="tests/fuzz/$t.dict")
	opts=(-timeout=10 -rss_limit_mb=512 -artifact_prefix="$arts/" "${dict[@]}")

	# 1. the corpus as it is
	n=$(find "$corpus" -type f | wc -l)
	out=$work/$t.replay.log
	if "$bin" -runs=0 "${opts[@]}" "$corpus" >"$out" 2>&1; then
		cov=$(sed -n 's/.*INITED cov: \([0-9]*\).*/\1/p' "$out" | tail -1)
		echo "ok - fuzz $t: $n corpus inputs run clean (${cov:-?} edges covered)"
	else
		echo "not ok - fuzz $t: a corpus input fails:"
		grep -E 'ERROR|invariant broken|SUMMARY|Running:|Test unit written' "$out" | head -20
		return 1
	fi

	# 2. fuzzing
	out=$work/$t.fuzz.log
	before=$(find "$arts" -type f | wc -l)
	"$bin" -max_total_time="$secs" -print_final_stats=1 "${opts[@]}" "$work/$t" "$corpus" \
		>"$out" 2>&1
	st=$?
	runs=$(sed -n 's/^stat::number_of_executed_units: *//p' "$out")
	speed=$(sed -n 's/^stat::average_exec_per_sec: *//p' "$out")
	rss=$(sed -n 's/^stat::peak_rss_mb: *//p' "$out")
	cov=$(sed -n 's/.*\(DONE\|pulse\|NEW\|REDUCE\) *cov: \([0-9]*\).*/\2/p' "$out" | tail -1)
	if [ "$st" -eq 0 ] && [ "$(find "$arts" -type f | wc -l)" -eq "$before" ]; then
		echo "ok - fuzz $t: ${secs}s, ${runs:-?} runs (${speed:-?}/s), ${cov:-?} edges," \
			"peak RSS ${rss:-?} MB, no crash, leak, timeout or OOM"
	else
		art=$(sed -n 's/.*Test unit written to \(.*\)$/\1/p' "$out" | tail -1)
		echo "not ok - fuzz $t: status $st, input saved as ${art:-?}" \
			"(reproduce: $bin ${art:-FILE})"
		grep -E 'ERROR|invariant broken|SUMMARY|==[0-9]+==|#[0-9] 0x' "$out" | head -25
		return 1
	fi
}
export -f fuzz_one
export work secs
printf '%s\0' "${targets[@]}" |
	xargs -0 -P "$(nproc)" -n 1 bash -c 'fuzz_one "$1" >"$work/$1.tap" 2>&1; echo $? >"$work/$1.rc"' _
rc=0
for t in "${targets[@]}"; do
	cat "$work/$t.tap" 2>/dev/null || echo "not ok - fuzz $t: did not run"
	[ "$(cat "$work/$t.rc" 2>/dev/null)" = 0 ] || rc=1
done
exit $rc
