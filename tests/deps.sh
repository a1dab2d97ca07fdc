#!/bin/sh
# NAME
#	deps.sh - install the Debian packages the build and the tests need
# SYNOPSIS
#	tests/deps.sh		(make deps)
#	tests/deps.sh PACKAGE...	(other package sets: tests/bench/deps.sh)
#	tests/deps.sh --build	(before make compiles anything)
# DESCRIPTION
#	--build installs nothing: it checks the build dependencies only, the
#	Build-Depends of debian/control (but debhelper and the test-only
#	ones marked <!nocheck>) and the compiler, and when some are missing
#	names the packages and "make deps" and exits 1, so that a bare "make"
#	on a fresh machine stops there instead of in a compiler error. Without
#	dpkg (not Debian) it asks pkg-config for the libraries instead.
#
#	Asks dpkg which of the packages below (or the PACKAGEs named) are
#	missing and installs only those, with apt-get, non-interactively.
#	opendmarc's database question is answered "no". Postfix is preseeded to "No
#	configuration" (the tests write their own private configuration), and
#	the services that postfix, nsd and redis-server would start on
#	installation are held back with a temporary policy-rc.d: the tests
#	never use the host's instances (they start their own). When
#	everything is installed it only runs one dpkg-query.
#	Recommends are not installed, so the ones the tests use are listed:
#	libio-socket-inet6-perl gives swaks IPv6 (without it swaks exits
#	"IPv6 not available" and the IPv6 end-to-end scenarios fail).
#	libmail-dkim-perl and libcryptx-perl (Crypt::PK::Ed25519) sign the
#	DKIM test messages of the end-to-end suite (scenario.pl) and make and
#	verify the ARC chains of tests/arc (mkchain.pl, verify.pl); and
#	Mail::DKIM::ARC seals and verifies the e2e ARC chains (its dependency
#	libmail-authenticationresults-perl reads the sealer's results);
#	python3-dkim (dkimpy, with Ed25519 through python3-nacl) is the
#	second, independent verifier of the signing self-check.
#	libjansson-dev (JSON) and zlib1g-dev (plain and gzip files alike)
#	build policy-milter-report; gzip makes its rotated-log test input.
#	libssl-dev (OpenSSL's libcrypto, EVP) checks the RSA and Ed25519
#	signatures of ARC chains (src/arc.c).
#	m4, libwrap0 and liblockfile1 build and run the Sendmail the
#	e2e-sendmail suite unpacks (its packages conflict with postfix, so
#	tests/e2e/lib.sh sendmail_fetch downloads them and never installs
#	them); sasl2-bin (saslpasswd2) and libsasl2-modules (PLAIN, LOGIN)
#	give both MTAs SMTP AUTH for the {auth_authen} scenarios. unbound
#	is the caching resolver of the soak suite's world (tests/bench).
#	clang and libclang-rt-14-dev (bookworm's libFuzzer, ASan and UBSan
#	runtimes, not a dependency of clang) build the libFuzzer targets of
#	tests/fuzz (make fuzz, the fuzz suite); llvm gives llvm-symbolizer,
#	for crash reports with file and line. cppcheck and clang-tidy run
#	make lint (tests/lint.sh). python3-yaml reads the RFC 7208 SPF test
#	suite (tests/spf/rfc7208.py, the spf-rfc7208 suite). libxml2-utils
#	(xmllint --schema) validates the DMARC aggregate reports of the
#	report suite against RFC 9990's schema; bc sums their row counts.
#	liblmdb-dev and libhiredis-dev build the state store's two backends
#	(src/store_lmdb.c, src/store_redis.c: greylisting and rate limits);
#	redis-server is the private Redis the unit test (test_store) and the
#	state suite start (tests/state/redis.sh), redis-tools gives them
#	redis-cli, and lmdb-utils (mdb_stat, mdb_dump) looks into an LMDB file
#	when a test fails. dpkg-dev and debhelper build the Debian package
#	(make deb), lintian checks it, and man-db's man -w finds its pages
#	in the deb suite's throwaway root. chromium opens the HTML page of
#	policy-milter-report (report-e2e suite) headless, driven through its
#	DevTools protocol by tests/report/chromeshot.py with python3-websocket,
#	to a screenshot whose colours python3-pil counts. prometheus gives
#	promtool, which the metrics suite runs on a scrape (check metrics) and
#	on the alert rules of the README (check rules, test rules); its
#	service is never started by the tests.
# DIAGNOSTICS
#	Exit 0 when everything is installed; 1 when something is missing and
#	we are not root, or apt-get failed.

set -eu

# build_check - the --build mode (see DESCRIPTION)
build_check() {
	control=$(dirname "$0")/../debian/control
	cc=${CC:-cc}
	if command -v dpkg-query >/dev/null 2>&1; then
		# Build-Depends: one package per comma-separated item, first of any alternatives
		PACKAGES=$(sed -n '/^Build-Depends:/,/^[^ ]/p' "$control" | sed -e 's/^Build-Depends://' -e '/^[^ ]/d' |
			tr ',' '\n' | grep -v -e '<!nocheck>' -e debhelper-compat |
			sed -e 's/|.*//' -e 's/[[(<].*//' -e 's/[[:space:]]//g' | grep -v '^$')
		PACKAGES="gcc make $PACKAGES"
		absent=$(missing)
		if ! command -v "$cc" >/dev/null 2>&1; then
			case " $absent " in *" gcc "*) ;; *) absent="gcc $absent" ;; esac
		fi
		absent=$(echo $absent) # one space between names
		[ -n "$absent" ] || return 0
		echo "policy-milter cannot be built here: these Debian packages are missing:" >&2
		echo "    $absent" >&2
		echo "Install them, with what the tests need, as root:" >&2
		echo "    make deps" >&2
		echo "or only them: apt-get install $absent" >&2
		return 1
	fi
	absent=
	command -v "$cc" >/dev/null 2>&1 || absent="$cc"
	if ! command -v pkg-config >/dev/null 2>&1; then
		absent="$absent pkg-config"
	else
		for m in milter libconfig opendkim libcrypto lmdb hiredis libidn2 jansson zlib; do
			pkg-config --exists "$m" || absent="$absent $m"
		done
	fi
	[ -n "$absent" ] || return 0
	echo "policy-milter cannot be built here: missing (pkg-config modules):$absent" >&2
	echo "On Debian, as root: make deps" >&2
	return 1
}

DEFAULT_PACKAGES="
build-essential gcc make pkg-config
libmilter-dev libopendkim-dev libidn2-dev libconfig-dev libcmocka-dev
libjansson-dev zlib1g-dev gzip libssl-dev
postfix nsd swaks perl libio-socket-inet6-perl libmail-dkim-perl libcryptx-perl python3-dkim
mandoc groff-base
iproute2 util-linux procps
publicsuffix dnsutils opendkim-tools
m4 libwrap0 liblockfile1 sasl2-bin libsasl2-modules
unbound
clang-format cppcheck clang-tidy
clang libclang-rt-14-dev llvm
python3 python3-yaml
libxml2-utils bc
liblmdb-dev libhiredis-dev redis-server redis-tools lmdb-utils
dpkg-dev debhelper lintian man-db
chromium python3-websocket python3-pil
prometheus
"
PACKAGES=${*:-$DEFAULT_PACKAGES}

# missing - the packages dpkg does not report as installed
missing() {
	# One dpkg-query for all: "ii name" for installed ones; unknown names go to stderr.
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

if [ "${1:-}" = --build ]; then
	build_check
	exit
fi

todo=$(missing)
if [ -z "$todo" ]; then
	echo "deps: all packages installed"
	exit 0
fi

if [ "$(id -u)" != 0 ]; then
	echo "deps: missing packages: $todo" >&2
	echo "deps: run 'make deps' as root (or: apt-get install $todo)" >&2
	exit 1
fi

echo "deps: installing: $todo"
export DEBIAN_FRONTEND=noninteractive

# Postfix asks what kind of mail system this is: we configure it ourselves.
echo "postfix postfix/main_mailer_type select No configuration" | debconf-set-selections
echo "postfix postfix/mailname string mx.example.org" | debconf-set-selections
# opendmarc's history database (dbconfig-common, MySQL) is not used.
echo "opendmarc opendmarc/dbconfig-install boolean false" | debconf-set-selections

# Keep the services (postfix, nsd, unbound, redis-server, ...) from being started by their installation.
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
	echo "deps: still missing after apt-get: $still" >&2
	exit 1
fi
echo "deps: done"
