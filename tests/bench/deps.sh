#!/bin/sh
# NAME
#	deps.sh - install the Debian packages the benchmark needs
# SYNOPSIS
#	tests/bench/deps.sh		(make bench runs it after make deps)
# DESCRIPTION
#	The benchmark (tests/bench/run.sh) needs, besides what tests/deps.sh
#	installs for the end-to-end world (postfix with smtp-source, nsd,
#	Mail::DKIM, dkimpy, dig, gcc):
#	  opendkim   the OpenDKIM milter (setup 3, DKIM verification);
#	  opendmarc  the OpenDMARC milter (setup 3, SPF and DMARC);
#	  unbound    the caching resolver in front of nsd.
#	Asks dpkg which are missing and installs only those, with apt-get,
#	non-interactively and without recommends. The services that the
#	packages would start on installation are held back with a temporary
#	policy-rc.d: the benchmark runs its own instances in a private
#	namespace, never the host's. When everything is installed it only
#	runs one dpkg-query.
# DIAGNOSTICS
#	Exit 0 when everything is installed; 1 when something is missing and
#	we are not root, or apt-get failed.

set -eu

PACKAGES="opendkim opendmarc unbound"

# missing - the packages dpkg does not report as installed
missing() {
	# shellcheck disable=SC2086 # word splitting wanted
	installed=" "$(dpkg-query -W -f='${db:Status-Abbrev} ${Package}\n' $PACKAGES 2>/dev/null |
		awk '$1 == "ii" { printf "%s ", $2 }')
	for p in $PACKAGES; do
		case "$installed" in
		*" $p "*) ;;
		*) printf '%s ' "$p" ;;
		esac
	done
}

todo=$(missing)
if [ -z "$todo" ]; then
	echo "bench deps: all packages installed"
	exit 0
fi

if [ "$(id -u)" != 0 ]; then
	echo "bench deps: missing packages: $todo" >&2
	echo "bench deps: run 'make bench' as root (or: apt-get install $todo)" >&2
	exit 1
fi

echo "bench deps: installing: $todo"
export DEBIAN_FRONTEND=noninteractive

# opendmarc's history database (dbconfig-common, MySQL) is not used: no
# database server is set up, and none is asked for.
echo "opendmarc opendmarc/dbconfig-install boolean false" | debconf-set-selections

# Keep opendkim, opendmarc and unbound from being started by their installation.
rc=/usr/sbin/policy-rc.d
own_rc=no
if [ ! -e "$rc" ]; then
	printf '#!/bin/sh\nexit 101\n' >"$rc"
	chmod 0755 "$rc"
	own_rc=yes
fi
cleanup() {
	if [ "$own_rc" = yes ]; then rm -f "$rc"; fi
}
trap cleanup EXIT INT TERM

apt-get update -qq
# shellcheck disable=SC2086
apt-get install -y -q --no-install-recommends $todo

still=$(missing)
if [ -n "$still" ]; then
	echo "bench deps: still missing after apt-get: $still" >&2
	exit 1
fi
echo "bench deps: done"
