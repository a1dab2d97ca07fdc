#!/bin/bash
# NAME
#	run.sh - negative DNS answers are cached for their SOA minimum (RFC 2308)
# SYNOPSIS
#	tests/dnsneg/run.sh	(from the top of the checkout; part of make check)
# DESCRIPTION
#	In a private network, mount and pid namespace nsd serves neg.test,
#	whose SOA MINIMUM is 3 s (SOA TTL 300). negprobe (dns.c and its
#	cache, one process) asks for a TXT record that is not there
#	(NXDOMAIN), the zone then gets it and nsd is restarted with it;
#	asked again at once the answer still comes from the cache
#	(NXDOMAIN), asked again 4.5 s after the first query it is found.
#	The same for a name that exists without TXT (NODATA). A name in a
#	zone nsd does not serve gets REFUSED, a temporary failure whose
#	cause is logged as "servfail_or_refused" (glibc's res_nsend tries
#	the next server and ends without the RCODE; dns.c tells it from a
#	timeout by how soon it ended).
# DIAGNOSTICS
#	Exit 0 all passed, 1 a step failed, 77 skipped (not root, no nsd).
here=$(cd "$(dirname "$0")" && pwd)
top=$(cd "$here/../.." && pwd)

if [ "$1" != "--inside" ]; then
	if [ "$(id -u)" -ne 0 ] || ! command -v unshare >/dev/null; then
		echo "SKIPPED: tests/dnsneg/run.sh needs root (unshare, nsd on port 53)"
		exit 77
	fi
	if [ ! -x /usr/sbin/nsd ]; then
		echo "SKIPPED: nsd is not installed"
		exit 77
	fi
	cd "$top" || exit 1
	make -s build/obj/dns.o build/obj/dnscache.o build/obj/util.o build/obj/metrics.o || exit 1
	mkdir -p build/dnsneg
	cc -O1 -g -std=gnu11 -Wall -Wextra -Werror -D_GNU_SOURCE -Isrc -o build/dnsneg/negprobe \
		tests/dnsneg/negprobe.c build/obj/dns.o build/obj/dnscache.o build/obj/util.o build/obj/metrics.o \
		-lresolv -lpthread || exit 1
	exec unshare -n -m -p -f --mount-proc bash "$0" --inside
fi

# ---- inside the namespaces (we are pid 1: everything dies with us) ----
cd "$top" || exit 1
tmp=$(mktemp -d /tmp/dnsneg.XXXXXX)
trap 'rm -rf "$tmp"' EXIT
ip link set lo up

# zone [EXTRA-RECORD...] - neg.test with a 3 s SOA minimum
# shellcheck disable=SC2120 # the records are passed only by the publish scripts
zone() {
	# shellcheck disable=SC2016 # $TTL is the zone file's
	printf '$TTL 300\n@ IN SOA ns.neg.test. host.neg.test. 1 3600 600 86400 3\n'
	printf '@ IN NS ns.neg.test.\nns IN A 127.0.0.1\nhost IN A 127.0.0.1\n'
	printf '%s\n' "$@"
}
# shellcheck disable=SC2119
zone >"$tmp/neg.test.zone"
. "$top/tests/nsdconf.sh"
nsd_conf "$tmp/nsd.conf" "$tmp" "$tmp/neg.test.zone"
printf 'nameserver 127.0.0.1\noptions timeout:1 attempts:1\n' >"$tmp/resolv.conf"
mount --bind "$tmp/resolv.conf" /etc/resolv.conf || exit 1

# start_nsd WANT-NAME - (re)start nsd and wait until it serves WANT-NAME's TXT
start_nsd() {
	local pid

	if [ -s "$tmp/nsd.pid" ]; then
		pid=$(cat "$tmp/nsd.pid")
		kill "$pid" 2>/dev/null
		while kill -0 "$pid" 2>/dev/null; do sleep 0.05; done
		rm -f "$tmp/nsd.pid"
	fi
	/usr/sbin/nsd -c "$tmp/nsd.conf" 2>>"$tmp/nsd.err" || return 1
	for _ in $(seq 50); do
		if [ -z "$1" ]; then
			dig +time=1 +tries=1 @127.0.0.1 neg.test SOA 2>/dev/null | grep -q NOERROR && return 0
		else
			dig +short +time=1 +tries=1 @127.0.0.1 "$1" TXT 2>/dev/null | grep -q . && return 0
		fi
		sleep 0.1
	done
	echo "not ok - nsd did not come up"
	cat "$tmp/nsd.err" "$tmp/nsd.log" 2>/dev/null
	return 1
}
start_nsd "" || exit 1
# the zone changes the probes make between their queries (run by bash)
# shellcheck disable=SC2016 # $tmp is expanded when the script runs
{
	declare -f zone start_nsd
	echo "tmp=$tmp"
	echo 'zone "new IN TXT \"published\"" >"$tmp/neg.test.zone" && start_nsd new.neg.test'
} >"$tmp/publish-new.sh"
# shellcheck disable=SC2016
{
	declare -f zone start_nsd
	echo "tmp=$tmp"
	echo 'zone "new IN TXT \"published\"" "host IN TXT \"now\"" >"$tmp/neg.test.zone" && start_nsd host.neg.test'
} >"$tmp/publish-host.sh"

failed=0
# NXDOMAIN, then the name and its TXT published; a zone nsd does not serve: REFUSED
build/dnsneg/negprobe new.neg.test nxdomain "bash $tmp/publish-new.sh" nxdomain 4500 ok \
	refused.example servfail_or_refused || failed=1
# NODATA (the name exists without TXT), then a TXT record for it
build/dnsneg/negprobe host.neg.test nodata "bash $tmp/publish-host.sh" nodata 4500 ok || failed=1
[ "$failed" -eq 0 ] && echo "dnsneg: passed" || echo "dnsneg: FAILED"
exit "$failed"
