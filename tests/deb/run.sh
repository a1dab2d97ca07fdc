#!/bin/bash
# NAME
#	run.sh - the deb suite: make deb, lintian, and the package installed,
#	upgraded, removed and purged in a throwaway root
# SYNOPSIS
#	tests/deb/run.sh	(make check runs it; root: exit 77 without)
# DESCRIPTION
#	Builds the package with "make deb" (DEB_BUILD_OPTIONS nocheck: the unit
#	suites of make check already ran the same tests; noautodbgsym) and checks its
#	control fields, its exact file list with modes and owners, the
#	hardening of both binaries and lintian (run as nobody): no error and
#	no warning, every other tag overridden in debian/ with a reason.
#
#	Then, in a private mount and network namespace, an overlay over the
#	host's / (upper layer on a tmpfs) becomes a throwaway root: the
#	host's dpkg database and its postfix are seen, nothing written
#	reaches the host. In it, with dpkg as an administrator would use it:
#	- install: the user, its postfix membership, the socket directory,
#	  the unit enabled and the report timer not, "policy-milter -n" on the
#	  installed policy, the installed daemon started (it binds its socket
#	  and drops to policy-milter), man finding the pages;
#	- reinstall over itself; an upgrade to a package whose default policy
#	  changed: the administrator's policy and "systemctl disable" kept,
#	  the new default beside it as policy-milter.conf.dpkg-dist;
#	- remove: the policy and the state kept; purge: nothing of the
#	  package left on the file system (the overlay's upper layer is
#	  searched), the user kept as documented;
#	- with no postfix group: the install still succeeds and touches
#	  nothing of Postfix;
#	- an unchanged policy is replaced by a newer default on upgrade.
#	Last, a copy of the tree in a root where libconfig-dev and
#	libmilter-dev were removed: a bare "make" stops before compiling and
#	names both packages and "make deps".
# DIAGNOSTICS
#	Prints "ok - ..." / "not ok - ..."; exit 0 when every check passed,
#	1 otherwise, 77 when not root.
set -u
cd "$(dirname "$0")/../.."
umask 022
top=$PWD

if [ "${1:-}" != --in-namespace ]; then
	if [ "$(id -u)" != 0 ]; then
		echo "deb: needs root (overlay root, dpkg) # SKIP"
		exit 77
	fi
	exec unshare -m -n --propagation private "$0" --in-namespace
fi

rc=0
ok() { echo "ok - $*"; }
fail() { echo "not ok - $*"; rc=1; }
check() { # check DESCRIPTION COMMAND...
	local what=$1; shift
	if "$@"; then ok "$what"; else fail "$what"; fi
}
ip link set lo up

work=$(mktemp -d)
mount -t tmpfs tmpfs "$work"
trap 'cd /; umount -R "$work" 2>/dev/null; rm -rf "$work"' EXIT

# ---- the package ------------------------------------------------------
version=$(make -s --no-print-directory --eval 'pv: ; @echo $(VERSION)' pv)
arch=$(dpkg --print-architecture)
deb=build/deb/policy-milter_${version}_${arch}.deb
if DEB_BUILD_OPTIONS="nocheck noautodbgsym" make --no-print-directory deb >"$work/build.log" 2>&1 && [ -f "$deb" ]; then
	ok "make deb builds $deb"
else
	fail "make deb builds $deb"
	tail -30 "$work/build.log" | sed 's/^/    /'
	exit 1
fi

field() { dpkg-deb -f "$deb" "$1"; }
check "Version is debian/changelog's ($version)" [ "$(field Version)" = "$version" ]
check "Depends: computed by dh_shlibdeps (libmilter, libopendkim, libconfig, libssl), and the sysusers tool" \
	eval 'field Depends | grep -q "libmilter1.0.1" && field Depends | grep -q "libopendkim11" &&
	      field Depends | grep -q "libconfig9" && field Depends | grep -q "libssl3" &&
	      field Depends | grep -q "systemd | systemd-standalone-sysusers"'
check "Suggests: postfix | sendmail" [ "$(field Suggests)" = "postfix | sendmail" ]
check "Recommends: publicsuffix" [ "$(field Recommends)" = "publicsuffix" ]
dpkg-deb -e "$deb" "$work/control"
check "the only conffile is /etc/policy-milter/policy-milter.conf" \
	[ "$(cat "$work/control/conffiles")" = /etc/policy-milter/policy-milter.conf ]
check "postinst: enables policy-milter.service through deb-systemd-helper, starts it through deb-systemd-invoke" \
	eval 'grep -q "deb-systemd-helper enable .policy-milter.service." "$work/control/postinst" &&
	      grep -q "deb-systemd-invoke \$_dh_action .policy-milter.service." "$work/control/postinst"'
check "postinst: the report timer only keeps an administrator's earlier enable; nothing starts it" \
	eval 'grep -q "was-enabled .policy-milter-report.timer." "$work/control/postinst" &&
	      ! grep -q "deb-systemd-invoke.*policy-milter-report" "$work/control/postinst"'

# The exact contents: mode, owner and path ("lib" is /lib/systemd/system, bookworm's unit directory).
expected='drwxr-xr-x root/root ./
drwxr-xr-x root/root ./etc/
drwxr-xr-x root/root ./etc/policy-milter/
-rw-r--r-- root/root ./etc/policy-milter/policy-milter.conf
drwxr-xr-x root/root ./lib/
drwxr-xr-x root/root ./lib/systemd/
drwxr-xr-x root/root ./lib/systemd/system/
-rw-r--r-- root/root ./lib/systemd/system/policy-milter-report.service
-rw-r--r-- root/root ./lib/systemd/system/policy-milter-report.timer
-rw-r--r-- root/root ./lib/systemd/system/policy-milter.service
drwxr-xr-x root/root ./usr/
drwxr-xr-x root/root ./usr/lib/
drwxr-xr-x root/root ./usr/lib/sysusers.d/
-rw-r--r-- root/root ./usr/lib/sysusers.d/policy-milter.conf
drwxr-xr-x root/root ./usr/sbin/
-rwxr-xr-x root/root ./usr/sbin/policy-milter
-rwxr-xr-x root/root ./usr/sbin/policy-milter-report
drwxr-xr-x root/root ./usr/share/
drwxr-xr-x root/root ./usr/share/doc/
drwxr-xr-x root/root ./usr/share/doc/policy-milter/
-rw-r--r-- root/root ./usr/share/doc/policy-milter/changelog.gz
-rw-r--r-- root/root ./usr/share/doc/policy-milter/copyright
drwxr-xr-x root/root ./usr/share/doc/policy-milter/examples/
-rw-r--r-- root/root ./usr/share/doc/policy-milter/examples/policy-milter.rules.yml
drwxr-xr-x root/root ./usr/share/lintian/
drwxr-xr-x root/root ./usr/share/lintian/overrides/
-rw-r--r-- root/root ./usr/share/lintian/overrides/policy-milter
drwxr-xr-x root/root ./usr/share/man/
drwxr-xr-x root/root ./usr/share/man/man1/
-rw-r--r-- root/root ./usr/share/man/man1/policy-milter-report.1.gz
drwxr-xr-x root/root ./usr/share/man/man5/
-rw-r--r-- root/root ./usr/share/man/man5/policy-milter.conf.5.gz
drwxr-xr-x root/root ./usr/share/man/man8/
-rw-r--r-- root/root ./usr/share/man/man8/policy-milter.8.gz'
if diff -u <(echo "$expected") <(dpkg-deb -c "$deb" | awk '{ print $1, $2, $6 }') >"$work/diff"; then
	ok "package contents: exact file list, modes and owners"
else
	fail "package contents: exact file list, modes and owners"
	sed 's/^/    /' "$work/diff"
fi
dpkg-deb -x "$deb" "$work/pkg"
check "packaged policy is conf/policy-milter.conf" cmp -s conf/policy-milter.conf "$work/pkg/etc/policy-milter/policy-milter.conf"
check "packaged alert rules are conf/policy-milter.rules.yml" \
	cmp -s conf/policy-milter.rules.yml "$work/pkg/usr/share/doc/policy-milter/examples/policy-milter.rules.yml"
check "packaged unit runs /usr/sbin/policy-milter with the /etc policy" \
	grep -qx 'ExecStart=/usr/sbin/policy-milter -c /etc/policy-milter/policy-milter.conf' \
	"$work/pkg/lib/systemd/system/policy-milter.service"
for b in policy-milter policy-milter-report; do
	f=$work/pkg/usr/sbin/$b
	check "$b is hardened: PIE, full RELRO (BIND_NOW), stack protector, FORTIFY" \
		eval 'readelf -h "$f" | grep -q "Type: *DYN" &&
		      readelf -lW "$f" | grep -q GNU_RELRO &&
		      readelf -dW "$f" | grep -q "FLAGS.*BIND_NOW" &&
		      readelf -sW --dyn-syms "$f" | grep -q __stack_chk_fail &&
		      readelf -sW --dyn-syms "$f" | grep -q "__[a-z]*_chk@"'
done
check "the version the daemon prints is the package's" \
	eval '"$work/pkg/usr/sbin/policy-milter" -V 2>&1 | grep -qF "$version"'

# ---- lintian, as an unprivileged user ----------------------------------------
# in a directory nobody can reach, whatever the checkout's parents allow
mkdir "$work/lintian.d"
cp build/deb/*.changes build/deb/*.buildinfo build/deb/*.deb "$work/lintian.d/"
chmod 0755 "$work" "$work/lintian.d"
chmod 0644 "$work/lintian.d/"*
if (cd "$work/lintian.d" && runuser -u nobody -- env HOME=/tmp lintian -I -E --pedantic --show-overrides \
	"policy-milter_${version}_${arch}.changes") >"$work/lintian" 2>&1; then
	lint_rc=0
else
	lint_rc=$?
fi
sed 's/^/    # /' "$work/lintian"
check "lintian: no error and no warning (exit $lint_rc)" \
	eval '[ "$lint_rc" = 0 ] && ! grep -q "^[EW]: " "$work/lintian"'
check "lintian: every info and pedantic tag overridden (with a reason in debian/policy-milter.lintian-overrides)" \
	eval '! grep -q "^[IPX]: " "$work/lintian"'

# ---- a throwaway root: the host's / under an overlay ----------------------------
# mkroot NAME - a fresh overlay root at $work/NAME/root (upper layer $work/NAME/upper)
mkroot() {
	local d=$work/$1
	mkdir -p "$d/upper" "$d/work" "$d/root"
	mount -t overlay overlay -o "lowerdir=/,upperdir=$d/upper,workdir=$d/work" "$d/root" || return 1
	mount --rbind /proc "$d/root/proc"
	mount --rbind /dev "$d/root/dev"
	mount -t tmpfs tmpfs "$d/root/tmp"
	# no /run/systemd/system: the maintainer scripts see no running systemd and start nothing
	mount -t tmpfs tmpfs "$d/root/run"
	root=$d/root
	upper=$d/upper
	# man-db's trigger rebuilds its whole index on every dpkg run (seconds each); man -w needs no index
	echo "man-db man-db/auto-update boolean false" | chroot "$root" debconf-set-selections
}
in_root() { chroot "$root" "$@"; }
dpkg_in() { # dpkg_in ARGS... - dpkg in the root, as "apt-get -y" runs it; output in $work/dpkg.out
	chroot "$root" env DEBIAN_FRONTEND=noninteractive dpkg --force-confdef --force-confold "$@" \
		</dev/null >"$work/dpkg.out" 2>&1 || { sed 's/^/    /' "$work/dpkg.out"; return 1; }
}
status() { in_root dpkg-query -W -f='${db:Status-Abbrev}' policy-milter 2>/dev/null | tr -d ' '; }

# The same package with a new version and a changed default policy, as the next release would be.
newer() { # newer VERSION OUT.deb
	local d=$work/repack-$1
	dpkg-deb -R "$deb" "$d"
	sed -i "s/^Version: .*/Version: $1/" "$d/DEBIAN/control"
	printf '\n# a line the next release adds to the default policy\n' >>"$d/etc/policy-milter/policy-milter.conf"
	dpkg-deb --root-owner-group -b "$d" "$2" >/dev/null
}
newer "$version+next1" "$work/next.deb"

if ! mkroot one; then
	fail "overlay root over / (mount -t overlay)"
	exit 1
fi
cp "$deb" "$work/next.deb" "$root/tmp/"
pkg=/tmp/$(basename "$deb")
conf=/etc/policy-milter/policy-milter.conf

check "dpkg -i: installs" dpkg_in -i "$pkg"
check "dpkg -i: status install ok installed" [ "$(status)" = ii ]
check "the system user policy-milter: system uid, no home, nologin (sysusers.d file)" \
	eval 'u=$(in_root getent passwd policy-milter) &&
	      [ "$(echo "$u" | cut -d: -f3)" -lt 1000 ] &&
	      [ "$(echo "$u" | cut -d: -f6-)" = "/nonexistent:/usr/sbin/nologin" ]'
check "policy-milter is in the postfix group (it exists here)" \
	eval 'in_root id -nG policy-milter | tr " " "\n" | grep -qx postfix'
check "socket directory /var/spool/postfix/policy-milter: policy-milter:postfix 0750" \
	[ "$(in_root stat -c '%U:%G %a' /var/spool/postfix/policy-milter 2>&1)" = "policy-milter:postfix 750" ]
check "installed policy: root:root 0644, the shipped one" \
	eval '[ "$(in_root stat -c "%U:%G %a" "$conf")" = "root:root 644" ] && cmp -s conf/policy-milter.conf "$root$conf"'
check "policy-milter.service enabled (deb-systemd-helper: multi-user.target.wants link)" \
	[ "$(readlink "$root/etc/systemd/system/multi-user.target.wants/policy-milter.service")" = /lib/systemd/system/policy-milter.service ]
check "policy-milter-report.timer not enabled" \
	eval '[ ! -e "$root/etc/systemd/system/timers.target.wants/policy-milter-report.timer" ] &&
	      [ "$(in_root systemctl is-enabled policy-milter-report.timer 2>&1)" = disabled ]'
check "man finds the three pages" \
	eval 'in_root man -w 8 policy-milter | grep -qx /usr/share/man/man8/policy-milter.8.gz &&
	      in_root man -w 5 policy-milter.conf | grep -qx /usr/share/man/man5/policy-milter.conf.5.gz &&
	      in_root man -w 1 policy-milter-report | grep -qx /usr/share/man/man1/policy-milter-report.1.gz'
check "policy-milter -n accepts the installed policy" \
	eval 'in_root /usr/sbin/policy-milter -n -c "$conf" 2>&1 | grep -q "configuration OK"'

# The installed daemon, started as the unit starts it (the unit's RuntimeDirectory made by hand).
mkdir -p "$root/run/policy-milter"
chroot "$root" /usr/sbin/policy-milter -f -c "$conf" >"$work/daemon.log" 2>&1 &
dpid=$!
sock=$root/var/spool/postfix/policy-milter/policy-milter.sock
for _ in $(seq 50); do [ -S "$sock" ] && break; sleep 0.1; done
check "the installed daemon starts: socket root:postfix 0660 in the socket directory" \
	[ "$(in_root stat -c '%U:%G %a' /var/spool/postfix/policy-milter/policy-milter.sock 2>&1)" = "root:postfix 660" ]
uid=$(in_root id -u policy-milter)
check "the installed daemon runs as policy-milter (uid $uid)" \
	eval 'for _ in $(seq 20); do [ "$(ps -o uid= -p "$dpid" | tr -d " ")" = "$uid" ] && break; sleep 0.1; done;
	      [ "$(ps -o uid= -p "$dpid" | tr -d " ")" = "$uid" ]'
kill -TERM "$dpid" 2>/dev/null
wait "$dpid"
check "the daemon stops on SIGTERM, leaving no socket" [ ! -e "$sock" ]
[ "$rc" = 0 ] || sed 's/^/    # daemon: /' "$work/daemon.log"

check "dpkg -i over itself (same version): succeeds" dpkg_in -i "$pkg"
check "reinstall: the policy untouched, no .dpkg-dist" \
	eval 'cmp -s conf/policy-milter.conf "$root$conf" && [ ! -e "$root$conf.dpkg-dist" ]'

# The administrator edits the policy and disables the service; the next release changes the default.
echo '# changed by the administrator' >>"$root$conf"
cp "$root$conf" "$work/admin.conf"
mkdir -p "$root/var/lib/policy-milter"
echo state >"$root/var/lib/policy-milter/state.lmdb"
in_root systemctl disable policy-milter.service >/dev/null 2>&1
check "dpkg -i the next release (default policy changed): upgrades" dpkg_in -i "/tmp/next.deb"
check "upgrade: status ii at the new version" \
	eval '[ "$(status)" = ii ] && [ "$(in_root dpkg-query -W -f="\${Version}" policy-milter)" = "$version+next1" ]'
check "upgrade: the administrator's policy kept" cmp -s "$work/admin.conf" "$root$conf"
check "upgrade: the new default beside it as policy-milter.conf.dpkg-dist" \
	eval 'tail -1 "$root$conf.dpkg-dist" | grep -q "a line the next release adds" &&
	      head -n -2 "$root$conf.dpkg-dist" | cmp -s - conf/policy-milter.conf'
check "upgrade: the administrator's systemctl disable kept" \
	eval '[ ! -e "$root/etc/systemd/system/multi-user.target.wants/policy-milter.service" ] &&
	      [ "$(in_root systemctl is-enabled policy-milter.service 2>&1)" = disabled ]'

check "dpkg -r: removes" dpkg_in -r policy-milter
check "remove: status rc (config files left)" [ "$(status)" = rc ]
check "remove: binaries and units gone" \
	eval '[ ! -e "$root/usr/sbin/policy-milter" ] && [ ! -e "$root/usr/sbin/policy-milter-report" ] &&
	      [ ! -e "$root/lib/systemd/system/policy-milter.service" ]'
check "remove: the policy (and .dpkg-dist) and the state kept" \
	eval 'cmp -s "$work/admin.conf" "$root$conf" && [ -e "$root$conf.dpkg-dist" ] &&
	      [ -e "$root/var/lib/policy-milter/state.lmdb" ]'

check "dpkg -P: purges" dpkg_in -P policy-milter
check "purge: not installed" [ -z "$(status)" ]
leftover=$(cd "$upper" && find . -name '*policy-milter*' | sort)
check "purge: nothing of the package left anywhere (overlay upper layer searched)" [ -z "$leftover" ]
[ -z "$leftover" ] || echo "$leftover" | sed 's/^/    # left: /'
check "purge: the user policy-milter stays (README, Install)" eval 'in_root getent passwd policy-milter >/dev/null'

# ---- without Postfix's group: nothing of Postfix touched -----------------------------------
mkroot two
cp "$deb" "$work/next.deb" "$root/tmp/"
sed -i '/^postfix:/d' "$root/etc/group" "$root/etc/gshadow"
check "no postfix group: dpkg -i installs" dpkg_in -i "$pkg"
check "no postfix group: the user is made, in no postfix group, no socket directory made" \
	eval 'in_root id policy-milter >/dev/null && ! in_root id -nG policy-milter | grep -qw postfix &&
	      [ ! -e "$root/var/spool/postfix/policy-milter" ]'
in_root /usr/sbin/policy-milter -f -c "$conf" >"$work/daemon2.log" 2>&1
d2_rc=$?
sed 's/^/    # daemon: /' "$work/daemon2.log"
check "no postfix group: the daemon refuses to start (exit $d2_rc), saying what is missing" \
	eval '[ "$d2_rc" = 1 ] && grep -q "does not exist" "$work/daemon2.log"'
check "an unchanged policy: the next release's default replaces it, no .dpkg-dist" \
	eval 'dpkg_in -i /tmp/next.deb && tail -1 "$root$conf" | grep -q "a line the next release adds" &&
	      [ ! -e "$root$conf.dpkg-dist" ]'
check "no postfix group: purge" eval 'dpkg_in -P policy-milter && [ ! -e "$root/etc/policy-milter" ]'

# ---- a bare make without the build dependencies ---------------------------------------------
mkroot three
mkdir "$root/tmp/src"
tar -c --exclude=./build --exclude=./.git --exclude=./src/policy-milter --exclude=./src/policy-milter-report . |
	tar -x -C "$root/tmp/src"
in_root dpkg -r --force-depends libconfig-dev libmilter-dev >/dev/null 2>&1
check "the throwaway root lost libconfig.h and libmilter/mfapi.h" \
	eval '[ ! -e "$root/usr/include/libconfig.h" ] && [ ! -e "$root/usr/include/libmilter/mfapi.h" ]'
if in_root sh -c 'cd /tmp/src && make' >"$work/make.out" 2>&1; then make_rc=0; else make_rc=$?; fi
sed 's/^/    # make: /' "$work/make.out"
check "bare make without the build dependencies fails (exit $make_rc)" [ "$make_rc" != 0 ]
check "it names the missing packages libconfig-dev and libmilter-dev, and make deps" \
	eval 'grep -q "^    libconfig-dev libmilter-dev$" "$work/make.out" && grep -q "^    make deps$" "$work/make.out"'
check "it stops before compiling: no compiler error, no object file" \
	eval '! grep -q "libconfig.h\|error:" "$work/make.out" && [ -z "$(find "$root/tmp/src" -name "*.o")" ]'

exit $rc
