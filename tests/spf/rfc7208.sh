#!/bin/bash
# NAME
#	rfc7208.sh - the official RFC 7208 SPF test suite against spf.c
# SYNOPSIS
#	tests/spf/rfc7208.sh		(as root, from anywhere in the checkout)
# DESCRIPTION
#	Builds tests/spf/suiteprobe against the daemon's objects (plain and
#	ASan+UBSan), then, in a private network, mount and pid namespace,
#	runs tests/spf/rfc7208.py: its own DNS server on 127.0.0.1:53 serves
#	each scenario of ../shared/conformance/rfc7208-tests.yml (relative to
#	the top of the checkout; RFC7208_SUITE overrides) and both builds run
#	every test. Failures listed in tests/spf/rfc7208-deviations (one
#	"NAME reason" a line) do not fail the run.
# DIAGNOSTICS
#	Exit 0 all passed, 1 a test failed, 77 skipped (not root, no suite file,
#	no python3-yaml).
set -u
top=$(cd "$(dirname "$0")/../.." && pwd)
here=$top/tests/spf
suite=${RFC7208_SUITE:-$top/../shared/conformance/rfc7208-tests.yml}

if [ "${1:-}" != "--inside" ]; then
	if [ "$(id -u)" != 0 ]; then
		echo "SKIPPED: tests/spf/rfc7208.sh needs root (unshare, a DNS server on port 53)"
		exit 77
	fi
	if [ ! -r "$suite" ]; then
		echo "SKIPPED: the RFC 7208 suite is not at $suite (set RFC7208_SUITE)"
		exit 77
	fi
	if ! /usr/bin/python3 -c 'import yaml' 2>/dev/null; then
		echo "SKIPPED: /usr/bin/python3 has no yaml module (apt-get install python3-yaml)"
		exit 77
	fi
	cd "$top" || exit 1
	. "$top/tests/spf/build.sh"
	spf_build_probe suiteprobe || exit 1
	export RFC7208_SUITE=$suite
	exec unshare -n -m -p -f --mount-proc bash "$0" --inside
fi

# ---- inside the namespaces (we are pid 1: everything dies with us) ----
cd "$top" || exit 1
tmp=$(mktemp -d /tmp/rfc7208.XXXXXX)
trap 'rm -rf "$tmp"' EXIT
ip link set lo up
printf 'nameserver 127.0.0.1\noptions timeout:1 attempts:1\n' >"$tmp/resolv.conf"
mount --bind "$tmp/resolv.conf" /etc/resolv.conf || exit 1
export ASAN_OPTIONS=detect_leaks=1
/usr/bin/python3 "$here/rfc7208.py" "$RFC7208_SUITE" "$here/rfc7208-deviations" \
	build/spf/suiteprobe build/spf/suiteprobe-asan
