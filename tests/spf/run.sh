#!/bin/bash
# NAME
#	run.sh - SPF behaviour tests: spf.c + dns.c against real DNS
# SYNOPSIS
#	tests/spf/run.sh		(as root, from the top of the checkout)
# DESCRIPTION
#	Builds tests/spf/spfprobe (plain and ASan+UBSan) and silentdns, then,
#	in a private network, mount and pid namespace: nsd serves
#	tests/spf/zones on 127.0.0.1:53, silentdns (127.0.0.2:53) is the
#	second nameserver, a resolv.conf naming both is bind-mounted over
#	/etc/resolv.conf. Runs every case of tests/spf/cases once (timed),
#	then 20 threads at once, each with the plain and the ASan build.
#	Prints "ok - X" / "not ok - X: ..." lines and a final count.
# DIAGNOSTICS
#	Exit 0 all passed, 1 a case failed, 77 skipped (not root, no nsd).
set -u
top=$(cd "$(dirname "$0")/../.." && pwd)
here=$top/tests/spf

if [ "${1:-}" != "--inside" ]; then
	if [ "$(id -u)" != 0 ]; then
		echo "SKIPPED: tests/spf/run.sh needs root (unshare, nsd on port 53)"
		exit 77
	fi
	if [ ! -x /usr/sbin/nsd ]; then
		echo "SKIPPED: nsd is not installed"
		exit 77
	fi
	cd "$top" || exit 1
	. "$here/build.sh"
	spf_build_probe spfprobe || exit 1
	cflags="-O1 -g -std=gnu11 -Wall -Wextra -Werror -D_GNU_SOURCE -Isrc"
	cc $cflags -o build/spf/silentdns tests/spf/silentdns.c || exit 1
	exec unshare -n -m -p -f --mount-proc bash "$0" --inside
fi

# ---- inside the namespaces (we are pid 1: everything dies with us) ----
cd "$top" || exit 1
tmp=$(mktemp -d /tmp/spftest.XXXXXX)
trap 'rm -rf "$tmp"' EXIT
ip link set lo up

cp "$here"/zones/*.zone "$tmp"/
. "$top/tests/nsdconf.sh"
nsd_conf "$tmp/nsd.conf" "$tmp" "$tmp"/*.zone
printf 'nameserver 127.0.0.1\nnameserver 127.0.0.2\noptions timeout:2 attempts:2\n' >"$tmp/resolv.conf"
mount --bind "$tmp/resolv.conf" /etc/resolv.conf || exit 1

build/spf/silentdns 127.0.0.2 53 &
/usr/sbin/nsd -d -c "$tmp/nsd.conf" 2>"$tmp/nsd.err" &
for _ in $(seq 50); do
	dig +short +time=1 +tries=1 @127.0.0.1 pass.spf.test TXT 2>/dev/null | grep -q spf1 && break
	sleep 0.1
done
if ! dig +short +time=1 +tries=1 @127.0.0.1 pass.spf.test TXT | grep -q spf1; then
	echo "not ok - nsd did not come up"
	cat "$tmp/nsd.err" "$tmp/nsd.log" 2>/dev/null
	exit 1
fi

failed=0
passed=0
# run LABEL CMD... - one spfprobe run; its "ok"/"not ok" lines count
run() {
	local label=$1 out rc
	shift
	out=$("$@" 2>"$tmp/stderr")
	rc=$?
	printf '%s\n' "$out" | sed "s/^\(not ok\|ok\) - /\1 - $label: /"
	passed=$((passed + $(printf '%s\n' "$out" | grep -c '^ok - ')))
	failed=$((failed + $(printf '%s\n' "$out" | grep -c '^not ok - ')))
	if [ $rc -ne 0 ] && ! printf '%s\n' "$out" | grep -q '^not ok'; then
		echo "not ok - $label: exit status $rc"
		failed=$((failed + 1))
	fi
	if grep -q "Sanitizer\|runtime error" "$tmp/stderr" || [ $rc -ne 0 ] && [ -s "$tmp/stderr" ]; then
		echo "not ok - $label: sanitizer report"
		cat "$tmp/stderr"
		failed=$((failed + 1))
	fi
}

run plain build/spf/spfprobe -f "$here/cases"
run threads build/spf/spfprobe -t 20 -f "$here/cases"
run asan build/spf/spfprobe-asan -f "$here/cases"
run asan-threads build/spf/spfprobe-asan -t 20 -f "$here/cases"

echo "spf: $passed passed, $failed failed"
[ "$failed" -eq 0 ]
