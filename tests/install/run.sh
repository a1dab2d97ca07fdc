#!/bin/bash
# NAME
#	run.sh - the install suite: make install / make uninstall into a DESTDIR
# SYNOPSIS
#	tests/install/run.sh	(make check runs it; no root needed)
# DESCRIPTION
#	Installs into temporary DESTDIRs (PREFIX=/usr, then the default
#	/usr/local) and checks the exact file list and modes, the systemd
#	unit's ExecStart, that an existing policy file that differs is kept
#	(the shipped one then goes beside it as policy-milter.conf.dist),
#	"systemd-analyze verify" on the installed unit where it works, and
#	that make uninstall leaves only the shared directories and a policy
#	file the administrator changed. Prints "ok - ..." / "not ok - ...".
# DIAGNOSTICS
#	Exit 0 when every check passed, 1 otherwise.
set -u
cd "$(dirname "$0")/../.."
umask 022
rc=0
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT

ok() { echo "ok - $*"; }
fail() { echo "not ok - $*"; rc=1; }
check() { # check DESCRIPTION COMMAND...
	local what=$1; shift
	if "$@"; then ok "$what"; else fail "$what"; fi
}
# listing DIR - every file and directory below DIR as "MODE ./path", sorted
listing() { (cd "$1" && find . -mindepth 1 -printf '%M %p\n' | LC_ALL=C sort -k2); }
# same_list DESC DIR EXPECTED - the listing of DIR is exactly EXPECTED
same_list() {
	if diff -u <(printf '%s\n' "$3") <(listing "$2") >"$tmp/diff"; then
		ok "$1"
	else
		fail "$1"
		sed 's/^/    /' "$tmp/diff"
	fi
}
minstall() { make -s --no-print-directory install "$@" >"$tmp/out" 2>&1 || { cat "$tmp/out"; return 1; }; }
muninstall() { make -s --no-print-directory uninstall "$@" >"$tmp/out" 2>&1 || { cat "$tmp/out"; return 1; }; }

# shared directories: created by install when missing, left by uninstall
dirs_usr='drwxr-xr-x ./etc
drwxr-xr-x ./lib
drwxr-xr-x ./lib/systemd
drwxr-xr-x ./lib/systemd/system
drwxr-xr-x ./usr
drwxr-xr-x ./usr/lib
drwxr-xr-x ./usr/lib/sysusers.d
drwxr-xr-x ./usr/sbin
drwxr-xr-x ./usr/share
drwxr-xr-x ./usr/share/man
drwxr-xr-x ./usr/share/man/man1
drwxr-xr-x ./usr/share/man/man5
drwxr-xr-x ./usr/share/man/man8'
full_usr='drwxr-xr-x ./etc
drwxr-xr-x ./etc/policy-milter
-rw-r--r-- ./etc/policy-milter/policy-milter.conf
drwxr-xr-x ./lib
drwxr-xr-x ./lib/systemd
drwxr-xr-x ./lib/systemd/system
-rw-r--r-- ./lib/systemd/system/policy-milter-report.service
-rw-r--r-- ./lib/systemd/system/policy-milter-report.timer
-rw-r--r-- ./lib/systemd/system/policy-milter.service
drwxr-xr-x ./usr
drwxr-xr-x ./usr/lib
drwxr-xr-x ./usr/lib/sysusers.d
-rw-r--r-- ./usr/lib/sysusers.d/policy-milter.conf
drwxr-xr-x ./usr/sbin
-rwxr-xr-x ./usr/sbin/policy-milter
-rwxr-xr-x ./usr/sbin/policy-milter-report
drwxr-xr-x ./usr/share
drwxr-xr-x ./usr/share/man
drwxr-xr-x ./usr/share/man/man1
-rw-r--r-- ./usr/share/man/man1/policy-milter-report.1
drwxr-xr-x ./usr/share/man/man5
-rw-r--r-- ./usr/share/man/man5/policy-milter.conf.5
drwxr-xr-x ./usr/share/man/man8
-rw-r--r-- ./usr/share/man/man8/policy-milter.8'

# ---- PREFIX=/usr: the Debian layout -------------------------------------
d=$tmp/usr
unit=$d/lib/systemd/system/policy-milter.service
conf=$d/etc/policy-milter/policy-milter.conf
check "make install DESTDIR PREFIX=/usr succeeds" minstall DESTDIR="$d" PREFIX=/usr
same_list "PREFIX=/usr: exact file list and modes" "$d" "$full_usr"
check "installed daemon is src/policy-milter" cmp -s src/policy-milter "$d/usr/sbin/policy-milter"
check "installed report tool is src/policy-milter-report" \
	cmp -s src/policy-milter-report "$d/usr/sbin/policy-milter-report"
check "installed policy is the shipped conf/policy-milter.conf" cmp -s conf/policy-milter.conf "$conf"
check "installed man pages are the sources" \
	eval 'cmp -s man/policy-milter.8 "$d/usr/share/man/man8/policy-milter.8" &&
	      cmp -s man/policy-milter.conf.5 "$d/usr/share/man/man5/policy-milter.conf.5" &&
	      cmp -s man/policy-milter-report.1 "$d/usr/share/man/man1/policy-milter-report.1"'
check "unit ExecStart is the installed sbin path with the policy file" \
	eval '[ "$(grep "^ExecStart=" "$unit")" = "ExecStart=/usr/sbin/policy-milter -c /etc/policy-milter/policy-milter.conf" ]'
check "unit has no @PLACEHOLDER@ left" eval '! grep -q "@[A-Z]*@" "$unit"'
runit=$d/lib/systemd/system/policy-milter-report.service
check "report unit: oneshot as policy-milter, ExecStart the installed report tool with the policy file" \
	eval 'grep -qx "Type=oneshot" "$runit" && grep -qx "User=policy-milter" "$runit" &&
	      [ "$(grep "^ExecStart=" "$runit")" = "ExecStart=/usr/sbin/policy-milter-report --dmarc-reports --config /etc/policy-milter/policy-milter.conf" ] &&
	      ! grep -q "@[A-Z]*@" "$runit"'
check "report timer: daily, persistent, wanted by timers.target" \
	eval 'grep -qx "OnCalendar=\*-\*-\* 00:15:00 UTC" "$d/lib/systemd/system/policy-milter-report.timer" &&
	      grep -qx "Persistent=true" "$d/lib/systemd/system/policy-milter-report.timer" &&
	      grep -qx "WantedBy=timers.target" "$d/lib/systemd/system/policy-milter-report.timer"'
check "unit: Type=simple, reload by SIGUSR1, stop by the drain signal SIGRTMIN+1, restart on failure, no User=" \
	eval 'grep -qx "Type=simple" "$unit" && grep -qx "ExecReload=/bin/kill -USR1 \$MAINPID" "$unit" &&
	      grep -qx "KillSignal=SIGRTMIN+1" "$unit" &&
	      grep -qx "Restart=on-failure" "$unit" && ! grep -q "^User=" "$unit"'
check "unit: sandbox (ProtectSystem=strict, socket dir writable, NoNewPrivileges)" \
	eval 'grep -qx "ProtectSystem=strict" "$unit" && grep -qx "NoNewPrivileges=yes" "$unit" &&
	      grep -qx "RuntimeDirectory=policy-milter" "$unit" && grep -qx "ProtectHome=yes" "$unit" &&
	      grep -qx "PrivateTmp=yes" "$unit" &&
	      grep -q "^ReadWritePaths=.*/var/spool/postfix/policy-milter" "$unit"'

# a second install with the policy unchanged writes no .dist
check "sysusers.d file makes the system user policy-milter" \
	grep -qx 'u policy-milter - "policy-milter" /nonexistent /usr/sbin/nologin' \
	"$d/usr/lib/sysusers.d/policy-milter.conf"
if command -v systemd-sysusers >/dev/null && systemd-sysusers --help 2>/dev/null | grep -q -- --dry-run; then
	mkdir -p "$tmp/sysroot/etc"
	: >"$tmp/sysroot/etc/passwd"
	: >"$tmp/sysroot/etc/group"
	check "systemd-sysusers reads the sysusers.d file: it would create policy-milter" \
		eval 'systemd-sysusers --dry-run --root="$tmp/sysroot" "$d/usr/lib/sysusers.d/policy-milter.conf" 2>&1 | grep -q "^Creating user .policy-milter."'
else
	ok "systemd-sysusers --dry-run # SKIP systemd-sysusers (with --dry-run) not installed"
fi
check "second install succeeds" minstall DESTDIR="$d" PREFIX=/usr
same_list "second install, policy unchanged: same list, no .dist" "$d" "$full_usr"

# the administrator changes the policy: install keeps it, writes the .dist
echo '# changed by the administrator' >>"$conf"
cp "$conf" "$tmp/changed.conf"
check "install over a changed policy succeeds" minstall DESTDIR="$d" PREFIX=/usr
check "install over a changed policy says so" grep -q 'policy-milter.conf.dist' "$tmp/out"
check "the changed policy is kept" cmp -s "$tmp/changed.conf" "$conf"
check "the shipped policy is beside it as policy-milter.conf.dist" \
	cmp -s conf/policy-milter.conf "$conf.dist"
check "policy-milter.conf.dist has mode 0644" eval '[ "$(stat -c %a "$conf.dist")" = 644 ]'

# systemd-analyze verify, in a root made of the DESTDIR and the host's units
if ! command -v systemd-analyze >/dev/null; then
	ok "systemd-analyze verify # SKIP systemd-analyze not installed"
else
	v=$tmp/verifyroot
	mkdir -p "$v/bin" "$v/lib/systemd/system"
	cp /lib/systemd/system/*.target "$v/lib/systemd/system/" 2>/dev/null
	cp -a "$d/." "$v/"
	cp /bin/kill "$v/bin/kill"
	# a unit known to be good: when even it fails, verify cannot work here
	printf '[Service]\nExecStart=/bin/kill -0 1\n' >"$v/lib/systemd/system/pm-ref.service"
	if ! out=$(cd / && systemd-analyze verify --man=no --root="$v" /lib/systemd/system/pm-ref.service 2>&1) ||
		[ -n "$out" ]; then
		ok "systemd-analyze verify # SKIP does not work here: $(echo "$out" | head -1)"
	elif out=$(cd / && systemd-analyze verify --man=no --root="$v" \
		/lib/systemd/system/policy-milter.service /lib/systemd/system/policy-milter-report.service \
		/lib/systemd/system/policy-milter-report.timer 2>&1) && [ -z "$out" ]; then
		ok "systemd-analyze verify on the installed units (daemon, report service and timer): clean"
	else
		fail "systemd-analyze verify on the installed unit:"
		echo "$out" | sed 's/^/    /'
	fi
fi

check "make uninstall succeeds" muninstall DESTDIR="$d" PREFIX=/usr
same_list "uninstall leaves the shared directories and the changed policy only" "$d" \
	"$(printf '%s\n' "$dirs_usr" 'drwxr-xr-x ./etc/policy-milter' \
		'-rw-r--r-- ./etc/policy-milter/policy-milter.conf' | LC_ALL=C sort -k2)"
check "uninstall says the changed policy is kept" grep -q 'differs from the shipped policy: kept' "$tmp/out"
check "the changed policy is untouched by uninstall" cmp -s "$tmp/changed.conf" "$conf"

# an unchanged policy is removed with /etc/policy-milter
d=$tmp/usr2
check "install into a fresh DESTDIR" minstall DESTDIR="$d" PREFIX=/usr
check "uninstall with the shipped policy unchanged" muninstall DESTDIR="$d" PREFIX=/usr
same_list "uninstall removes an unchanged policy and /etc/policy-milter" "$d" "$dirs_usr"

# ---- the default PREFIX=/usr/local ---------------------------------------
d=$tmp/local
check "make install DESTDIR (default PREFIX) succeeds" minstall DESTDIR="$d"
same_list "PREFIX=/usr/local: exact file list and modes" "$d" \
	"$(echo "$full_usr" | sed -e 's| \./usr| ./usr/local|' -e 's| \./lib| ./usr/local/lib|' |
		{ cat; printf '%s\n' 'drwxr-xr-x ./usr' 'drwxr-xr-x ./usr/local/lib'; } | LC_ALL=C sort -k2 -u)"
check "PREFIX=/usr/local: ExecStart is /usr/local/sbin/policy-milter" \
	grep -qx 'ExecStart=/usr/local/sbin/policy-milter -c /etc/policy-milter/policy-milter.conf' \
	"$d/usr/local/lib/systemd/system/policy-milter.service"
check "PREFIX=/usr/local: uninstall succeeds" muninstall DESTDIR="$d"
check "PREFIX=/usr/local: uninstall leaves no file" eval '[ -z "$(find "$d" -type f)" ] && [ ! -e "$d/etc/policy-milter" ]'

exit $rc
