#!/bin/bash
# NAME
#	run.sh - the daemon's command line and process behaviour
# SYNOPSIS
#	tests/daemon/run.sh		(part of make check: suite "daemon")
# DESCRIPTION
#	As root, inside a private network, mount and pid namespace (lo up,
#	nothing else), with policy files, socket and pid file in a temporary
#	directory and the daemon dropping to nobody:nogroup, checks what
#	man/policy-milter.8 promises about:
#	  - options: -V and -h exit 0; a bad option, a missing argument or a
#	    stray argument exit 64 with the usage on stderr; -n says
#	    "configuration OK" for conf/policy-milter.conf and lists every
#	    error of a broken file as FILE:LINE: KEY: MESSAGE (exit 1);
#	  - refusals to start (exit 1, a clear message, nothing left behind):
#	    a broken file, an unknown milter.user or socket_group, root with
#	    an empty or root milter.user and no -R, a socket
#	    another instance listens on (left untouched and working), a path
#	    that is a regular file (left alone), a missing socket directory,
#	    a world-writable socket directory (sticky or not; milter.socket
#	    and -p), a world-writable list file, a list file in a
#	    world-writable directory without the sticky bit (-n reports
#	    these too), a pid file naming a running process;
#	  - a stale socket is removed and the daemon starts; a stale pid file
#	    is replaced; -p overrides milter.socket (unix: and inet:);
#	  - after start: the pid file holds the pid, the process runs as
#	    nobody:nogroup, the socket has mode 0660 and group nogroup;
#	  - -R: with an empty milter.user it runs as root (and says so); with
#	    milter.user nobody it still drops;
#	  - SIGUSR1 with a good file logs the new generation, with a broken
#	    file logs each error and keeps running (and answering), with a
#	    file naming a world-writable list file refuses it the same way;
#	  - SIGTERM, SIGINT and SIGHUP each stop it with exit 0 and remove the
#	    socket and the pid file; with a session in flight a new
#	    connection gets 421 4.3.2 and the session finishes first (with
#	    SIGTERM and with the drain signal SIGRTMIN+1); under a storm of
#	    200 SIGRTMIN+1 it drains and stops at once (never through
#	    libmilter), under 200 SIGTERM it exits 0 within drain_timeout;
#	  - the JSON decision log never slows a session: written to a FIFO
#	    nobody reads (writes stall) or to a full tmpfs (writes fail),
#	    every reply of 40 sessions comes within 1 s, the records that
#	    could not be written are reported (write errors at once, the
#	    totals at exit: every decision logged to syslog counted) and the daemon still stops in time with exit 0.
#	DAEMON_KEEP=1 keeps the work directory (/tmp/pm-daemon.*).
#	MILTER_BIN=build/asan-daemon/policy-milter (built by tests/milter/run.sh)
#	runs every check on the sanitizer build; any sanitizer report in a
#	daemon's stderr is then a failure too.
# DIAGNOSTICS
#	"ok - ..." / "not ok - ...: got X, want Y" lines; exit 0 all passed,
#	1 a check failed, 2 the test world could not be built, 77 not root.

set -u

HERE=$(cd "$(dirname "$0")" && pwd)
TOP=$(cd "$HERE/../.." && pwd)
BIN=${MILTER_BIN:-$TOP/src/policy-milter}
# shellcheck source=tests/e2e/lib.sh
. "$TOP/tests/e2e/lib.sh" # ns_reexec
PYTHON=${PYTHON:-python3}
export PYTHONDONTWRITEBYTECODE=1 # nothing written into the source tree

if [ -z "${DAEMON_INNER:-}" ]; then
	if [ "$(id -u)" != 0 ]; then
		echo "SKIPPED: daemon tests need root (unshare, privilege dropping)"
		exit 77
	fi
	for tool in unshare ip "$PYTHON"; do
		command -v "$tool" >/dev/null || {
			echo "daemon: $tool not found (run make deps)" >&2
			exit 2
		}
	done
	getent passwd nobody >/dev/null && getent group nogroup >/dev/null || {
		echo "daemon: user nobody / group nogroup missing" >&2
		exit 2
	}
	[ -x "$BIN" ] || make -s -C "$TOP" all || exit 2
	ns_reexec pm-daemon DAEMON_KEEP DAEMON_INNER "$0" "$@"
	rc=$?
	[ -n "${DAEMON_KEEP:-}" ] && echo "daemon: work directory kept: $E2E_DIR"
	exit "$rc"
fi
WORK=$E2E_DIR # made by ns_reexec

# ---- inside the namespaces ----------------------------------------------

ip link set lo up || {
	echo "daemon: ip link set lo up failed" >&2
	exit 2
}
# No syslog daemon of the host gets our lines.
if [ -e /dev/log ]; then mount --bind /dev/null /dev/log 2>/dev/null || true; fi

RUN=$WORK/run # socket and pid file: the directory belongs to nobody, who removes them at exit
mkdir -p "$RUN"
chown nobody:nogroup "$RUN"
chmod 0755 "$RUN"
SOCK=$RUN/milter.sock
PIDF=$RUN/milter.pid
failed=0
PID=

ok() { echo "ok - $*"; }
notok() {
	echo "not ok - $*"
	failed=1
}
# check NAME GOT WANT - equal strings
check() {
	if [ "$2" = "$3" ]; then ok "$1"; else notok "$1: got '$2', want '$3'"; fi
}
# check_grep NAME FILE ERE - FILE has a line matching ERE
check_grep() {
	if grep -qE -- "$3" "$2"; then ok "$1"; else notok "$1: got '$(head -c 400 "$2" | tr '\n' '|')', want a line matching /$3/"; fi
}

# conf NAME [SOCKET] - write a good policy file $WORK/NAME.conf; prints its path
conf() {
	local f=$WORK/$1.conf sock=${2:-unix:$SOCK}
	cat >"$f" <<-EOF
		# tests/daemon: a minimal policy, no DNS needed (SPF, sender domain, DKIM, DMARC off)
		authserv_id = "mx.example.org";
		milter:
		{
		  socket = "$sock";
		  socket_mode = "0660";
		  socket_group = "nogroup";
		  user = "nobody";
		  group = "nogroup";
		  pid_file = "$PIDF";
		  drain_timeout = 10;
		};
		trusted_networks = [ "127.0.0.0/8" ];
		spf:
		{
		  mode = "off";
		  helo_mode = "off";
		  softfail = "accept";
		};
		sender_domain:
		{
		  mode = "off";
		};
		recipients:
		{
		  mode = "off";
		};
		dkim:
		{
		  mode = "off";
		};
		dmarc:
		{
		  mode = "off";
		};
	EOF
	chmod 0644 "$f"
	echo "$f"
}

# broken FILE - a policy file with four errors, at lines 2, 5, 6 and 10
broken() {
	cat >"$1" <<-'EOF'
		authserv_id = "mx.example.org";
		trusted_networks = [ "192.0.2.300/24" ];
		spf:
		{
		  mode = "enforcee";
		  softfall = "reject";
		};
		replies:
		{
		  spf_fail = "550 4.7.23 wrong class";
		};
	EOF
	chmod 0644 "$1"
}

# start NAME CONF [ARGS...] - run the daemon in the background (log $WORK/NAME.log);
# wait until SOCKETFILE (env WAIT_FOR, default $SOCK) exists or it exited
start() {
	local name=$1 conf=$2
	shift 2
	LOG=$WORK/$name.log
	"$BIN" -f -c "$conf" "$@" >"$LOG" 2>&1 &
	PID=$!
	local n=100
	while [ $n -gt 0 ]; do
		if [ -n "${WAIT_FOR:-}" ]; then
			grep -q 'listening on' "$LOG" && return 0
		elif [ -S "$SOCK" ] && grep -q 'listening on' "$LOG"; then
			return 0
		fi
		kill -0 "$PID" 2>/dev/null || return 1
		sleep 0.1
		n=$((n - 1))
	done
	return 1
}

# finish [SECONDS] - wait for $PID to exit (killing it after SECONDS); its status in RC
# (not in a $(...) subshell: only this shell can wait for its children)
finish() {
	local n=$((${1:-10} * 10))
	while [ $n -gt 0 ] && kill -0 "$PID" 2>/dev/null && [ "$(awk '{print $3}' "/proc/$PID/stat" 2>/dev/null)" != Z ]; do
		sleep 0.1
		n=$((n - 1))
	done
	if [ $n -le 0 ]; then
		kill -KILL "$PID" 2>/dev/null
		wait "$PID" 2>/dev/null
		RC="still running after ${1:-10} s (killed)"
		return
	fi
	wait "$PID"
	RC=$?
}

# probe SPEC - the CONNECT reply of a new milter connection
probe() { "$PYTHON" "$HERE/probe.py" probe "$1" 2>&1; }

# stopped NAME SIG - send SIG, then exit 0 and no socket / pid file left
stopped() {
	local name=$1 sig=$2 sockfile=${3:-$SOCK}
	kill "-$sig" "$PID"
	finish 10
	check "$name: SIG$sig: exit 0" "$RC" 0
	check "$name: SIG$sig: socket removed" "$([ -e "$sockfile" ] && echo present || echo absent)" absent
	check "$name: SIG$sig: pid file removed" "$([ -e "$PIDF" ] && echo present || echo absent)" absent
}

out=$WORK/out
err=$WORK/err

# ---- the command line ---------------------------------------------------

"$BIN" -V >"$out" 2>"$err"
check "-V: exit 0" "$?" 0
check_grep "-V: prints the version" "$out" '^policy-milter [0-9]+\.[0-9]+\.[0-9]+$'

"$BIN" -h >"$out" 2>"$err"
check "-h: exit 0" "$?" 0
check_grep "-h: usage on stdout" "$out" '^usage: policy-milter '
check "-h: nothing on stderr" "$(cat "$err")" ""

for args in "-x" "-c" "-p" "extra-argument" "-n extra-argument" "-V -q"; do
	# shellcheck disable=SC2086 # split on purpose
	"$BIN" $args >"$out" 2>"$err"
	rc=$?
	if [ "$args" = "-V -q" ]; then
		# getopt stops at -V (it prints and exits 0 before -q is read)
		check "'$args': -V wins, exit 0" "$rc" 0
		continue
	fi
	check "'$args': exit 64" "$rc" 64
	check_grep "'$args': usage on stderr" "$err" '^usage: policy-milter '
	check "'$args': nothing on stdout" "$(cat "$out")" ""
done
"$BIN" -x >/dev/null 2>"$err"
check_grep "-x: names the option" "$err" 'unknown option -x'
"$BIN" -c >/dev/null 2>"$err"
check_grep "-c without argument: says so" "$err" 'option -c needs an argument'
"$BIN" stray >/dev/null 2>"$err"
check_grep "stray argument: named" "$err" 'unexpected argument "stray"'

"$BIN" -n -c "$TOP/conf/policy-milter.conf" >"$out" 2>"$err"
check "-n default policy file: exit 0" "$?" 0
check "-n default policy file: output" "$(cat "$out")" "policy-milter: configuration OK"
check "-n default policy file: nothing on stderr" "$(cat "$err")" ""

GOOD=$(conf good)
"$BIN" -n -c "$GOOD" >"$out" 2>"$err"
check "-n test policy file: exit 0" "$?" 0

BAD=$WORK/broken.conf
broken "$BAD"
"$BIN" -n -c "$BAD" >"$out" 2>"$err"
check "-n broken file: exit 1" "$?" 1
check "-n broken file: no OK on stdout" "$(cat "$out")" ""
check "-n broken file: every error as FILE:LINE: KEY:" \
	"$(sed -n 's/^\([^:]*:[0-9]*: [a-z_.]*\): .*/\1/p' "$err" | tr '\n' '|')" \
	"$BAD:2: trusted_networks|$BAD:5: spf.mode|$BAD:6: spf.softfall|$BAD:10: replies.spf_fail|"
check "-n broken file: nothing but the errors on stderr" "$(wc -l <"$err")" 4

# ---- refusals to start --------------------------------------------------

start broken "$BAD"
finish 10
check "start with a broken file: exit 1" "$RC" 1
check_grep "start with a broken file: errors listed" "$LOG" "^$BAD:5: spf.mode: "
check_grep "start with a broken file: refusal said" "$LOG" 'refusing to start: errors in'
check "start with a broken file: no socket" "$([ -e "$SOCK" ] && echo present || echo absent)" absent

NOUSER=$(conf nouser)
sed -i 's/user = "nobody";/user = "no-such-user-pm";/' "$NOUSER"
start nouser "$NOUSER"
finish 10
check "unknown milter.user: exit 1" "$RC" 1
check_grep "unknown milter.user: says which" "$LOG" 'milter.user "no-such-user-pm" does not exist'
check "unknown milter.user: no socket left" "$([ -e "$SOCK" ] && echo present || echo absent)" absent
check "unknown milter.user: no pid file left" "$([ -e "$PIDF" ] && echo present || echo absent)" absent

# root without a milter user (empty, or root itself) is refused unless -R
for u in "" root; do
	ROOTCONF=$(conf "root-user-${u:-empty}")
	sed -i "s/user = \"nobody\";/user = \"$u\";/" "$ROOTCONF"
	start "root-user-${u:-empty}" "$ROOTCONF"
	finish 10
	check "milter.user \"$u\" as root without -R: exit 1" "$RC" 1
	check_grep "milter.user \"$u\" as root without -R: refusal said" "$LOG" \
		'refusing to run as root: milter.user is empty or root \(set milter.user, or use -R'
	check "milter.user \"$u\" as root without -R: no socket left" "$([ -e "$SOCK" ] && echo present || echo absent)" absent
	check "milter.user \"$u\" as root without -R: no pid file left" "$([ -e "$PIDF" ] && echo present || echo absent)" absent
done

NOGROUP=$(conf nogroup)
sed -i 's/socket_group = "nogroup";/socket_group = "no-such-group-pm";/' "$NOGROUP"
start nogroup "$NOGROUP"
finish 10
check "unknown milter.socket_group: exit 1" "$RC" 1
check_grep "unknown milter.socket_group: says which" "$LOG" 'milter.socket_group "no-such-group-pm" does not exist'

NODIR=$(conf nodir "unix:$WORK/no-such-dir/milter.sock")
WAIT_FOR=log start nodir "$NODIR"
finish 10
check "missing socket directory: exit 1" "$RC" 1
check_grep "missing socket directory: says so" "$LOG" "socket directory $WORK/no-such-dir does not exist"

# Unsafe permissions: a clear message naming the path and the problem, exit 1,
# nothing left behind.
# nothing_left NAME - no socket and no pid file after a refused start
nothing_left() {
	check "$1: no socket left" "$(ls -A "$WORK/wwsock" "$WORK/wwsticky" "$RUN" | grep -c '\.sock$')" 0
	check "$1: no pid file left" "$([ -e "$PIDF" ] && echo present || echo absent)" absent
}
mkdir -m 0755 "$WORK/wwsock" "$WORK/wwsticky" "$WORK/lists" "$WORK/wwlists"
chmod 0777 "$WORK/wwsock"
chmod 1777 "$WORK/wwsticky"
chmod 0777 "$WORK/wwlists"
for t in "wwsock 0777" "wwsticky 1777"; do
	read -r d mode <<<"$t"
	WWSOCK=$(conf "$d" "unix:$WORK/$d/milter.sock")
	"$BIN" -n -c "$WWSOCK" >"$out" 2>"$err"
	check "socket directory mode $mode: -n exit 1" "$?" 1
	check_grep "socket directory mode $mode: -n names it" "$err" "^$WWSOCK:[0-9]+: milter.socket: socket directory $WORK/$d is world-writable \(mode $mode\): anyone could plant a socket there"
	WAIT_FOR=log start "$d" "$WWSOCK"
	finish 10
	check "socket directory mode $mode: exit 1" "$RC" 1
	check_grep "socket directory mode $mode: says why and where instead" "$LOG" "socket directory $WORK/$d is world-writable \(mode $mode\).*such as /run/policy-milter or Postfix's /var/spool/postfix/policy-milter"
	check_grep "socket directory mode $mode: refusal said" "$LOG" 'refusing to start: errors in'
	nothing_left "socket directory mode $mode"
done
WAIT_FOR=log start p-wwsock "$GOOD" -p "unix:$WORK/wwsticky/milter.sock"
finish 10
check "-p into a world-writable directory: exit 1" "$RC" 1
check_grep "-p into a world-writable directory: says why" "$LOG" "socket directory $WORK/wwsticky is world-writable \(mode 1777\).*; refusing to start"
nothing_left "-p into a world-writable directory"

echo "spam.example" >"$WORK/lists/ww.txt"
chmod 0666 "$WORK/lists/ww.txt"
echo "spam.example" >"$WORK/wwlists/helo.txt"
chmod 0644 "$WORK/wwlists/helo.txt"
WWLIST=$(conf wwlist)
printf 'lists:\n{\n  helo: { block_file = "%s"; };\n};\n' "$WORK/lists/ww.txt" >>"$WWLIST"
INWW=$(conf inww)
printf 'lists:\n{\n  helo: { allow_file = "%s"; };\n};\n' "$WORK/wwlists/helo.txt" >>"$INWW"
for t in "wwlist|$WWLIST|lists.helo.block_file|$WORK/lists/ww.txt: unsafe permissions: the file is world-writable \(mode 0666\): anyone could change it; chmod o-w $WORK/lists/ww.txt" \
	"inww|$INWW|lists.helo.allow_file|$WORK/wwlists/helo.txt: unsafe permissions: its directory $WORK/wwlists is world-writable without the sticky bit \(mode 0777\): anyone could replace the file"; do
	IFS='|' read -r name f key msg <<<"$t"
	"$BIN" -n -c "$f" >"$out" 2>"$err"
	check "$name: -n exit 1" "$?" 1
	check_grep "$name: -n names the file and the problem" "$err" "^$f:[0-9]+: $key: $msg"
	start "$name" "$f"
	finish 10
	check "$name: start exit 1" "$RC" 1
	check_grep "$name: start names the file and the problem" "$LOG" "^$f:[0-9]+: $key: $msg"
	nothing_left "$name"
done
# the sticky bit keeps others from replacing a file in a world-writable directory
chmod 1777 "$WORK/wwlists"
"$BIN" -n -c "$INWW" >"$out" 2>"$err"
check "list file in a sticky world-writable directory: -n OK" "$?" 0
chmod 0777 "$WORK/wwlists"

echo "precious" >"$SOCK"
start regular "$GOOD"
finish 10
check "socket path is a regular file: exit 1" "$RC" 1
check_grep "socket path is a regular file: says so" "$LOG" "$SOCK exists and is not a socket"
check "socket path is a regular file: left alone" "$(cat "$SOCK" 2>&1)" precious
check "socket path is a regular file: no pid file" "$([ -e "$PIDF" ] && echo present || echo absent)" absent
rm -f "$SOCK"

# ---- a normal start -----------------------------------------------------

if start main "$GOOD"; then
	ok "start: listening"
else
	notok "start: not listening after 10 s: $(tr '\n' '|' <"$LOG")"
fi
MAIN=$PID
check "start: pid file holds the pid" "$(cat "$PIDF" 2>&1)" "$MAIN"
check "start: runs as nobody (Uid)" "$(awk '/^Uid:/ {print $2, $3, $4, $5}' "/proc/$MAIN/status")" "65534 65534 65534 65534"
check "start: runs as nogroup (Gid)" "$(awk '/^Gid:/ {print $2, $3, $4, $5}' "/proc/$MAIN/status")" "65534 65534 65534 65534"
check "start: no supplementary root group" "$(awk '/^Groups:/ {$1=""; print}' "/proc/$MAIN/status" | grep -wc 0)" 0
check "start: socket mode 0660" "$(stat -c %a "$SOCK" 2>&1)" 660
check "start: socket group nogroup" "$(stat -c %G "$SOCK" 2>&1)" nogroup
check "start: answers a milter connection" "$(probe "unix:$SOCK")" continue

# a second instance on the same socket is refused; the first keeps working
ino=$(stat -c %i "$SOCK")
OTHER=$(conf other)
sed -i "s|pid_file = \"$PIDF\";|pid_file = \"$RUN/other.pid\";|" "$OTHER"
start second "$OTHER"
finish 10
check "live socket: second instance exits 1" "$RC" 1
check_grep "live socket: says another process listens" "$LOG" 'another process is listening on this socket'
check "live socket: socket untouched (same inode)" "$(stat -c %i "$SOCK" 2>&1)" "$ino"
check "live socket: no pid file of the second" "$([ -e "$RUN/other.pid" ] && echo present || echo absent)" absent
check "live socket: first instance still answers" "$(probe "unix:$SOCK")" continue

# the pid file names a running process (the first instance): refused
STALEPID=$(conf pidrun "unix:$RUN/pidrun.sock")
WAIT_FOR=log start pidrun "$STALEPID"
finish 10
check "pid file names a running process: exit 1" "$RC" 1
check_grep "pid file names a running process: says so" "$LOG" "names running process $MAIN"
check "pid file names a running process: pid file kept" "$(cat "$PIDF" 2>&1)" "$MAIN"
check "pid file names a running process: its socket removed" "$([ -e "$RUN/pidrun.sock" ] && echo present || echo absent)" absent
PID=$MAIN
LOG=$WORK/main.log

# reload with a good file: the new generation is logged
sed -i 's/softfail = "accept";/softfail = "reject";/' "$GOOD"
kill -USR1 "$MAIN"
n=50
while [ $n -gt 0 ] && ! grep -q 'reloaded policy generation' "$LOG"; do
	sleep 0.1
	n=$((n - 1))
done
check_grep "SIGUSR1, good file: new generation logged" "$LOG" "reloaded policy generation 2 from $GOOD"
check "SIGUSR1, good file: still answers" "$(probe "unix:$SOCK")" continue

# reload with a broken file: every error logged, the policy kept, still running
cp "$GOOD" "$WORK/good.saved"
broken "$GOOD"
kill -USR1 "$MAIN"
n=50
while [ $n -gt 0 ] && ! grep -q 'reload of .* failed' "$LOG"; do
	sleep 0.1
	n=$((n - 1))
done
check_grep "SIGUSR1, broken file: failure logged, generation kept" "$LOG" "reload of $GOOD failed; keeping policy generation 2"
for e in "2: trusted_networks" "5: spf.mode" "6: spf.softfall" "10: replies.spf_fail"; do
	check_grep "SIGUSR1, broken file: logs $e" "$LOG" "$GOOD:$e: "
done
check "SIGUSR1, broken file: still running" "$(kill -0 "$MAIN" 2>&1 && echo running)" running
check "SIGUSR1, broken file: still answers" "$(probe "unix:$SOCK")" continue
cp "$WORK/good.saved" "$GOOD"

# reload naming a world-writable list file: refused like a broken file, old policy kept
printf 'lists:\n{\n  helo: { block_file = "%s"; };\n};\n' "$WORK/lists/ww.txt" >>"$GOOD"
n=$(grep -c "reload of $GOOD failed; keeping policy generation 2" "$LOG")
kill -USR1 "$MAIN"
wait_for 50 "[ \$(grep -c 'reload of .* failed' '$LOG') -gt $n ]"
check "SIGUSR1, world-writable list file: refused, generation 2 kept" \
	"$(grep -c "reload of $GOOD failed; keeping policy generation 2" "$LOG")" $((n + 1))
check_grep "SIGUSR1, world-writable list file: names it and the problem" "$LOG" "$GOOD:[0-9]+: lists.helo.block_file: $WORK/lists/ww.txt: unsafe permissions: the file is world-writable \(mode 0666\)"
check "SIGUSR1, world-writable list file: still answers" "$(probe "unix:$SOCK")" continue
# made safe: the same file is taken at the next reload
chmod 0644 "$WORK/lists/ww.txt"
kill -USR1 "$MAIN"
wait_for 50 "grep -q 'reloaded policy generation 3' '$LOG'"
check_grep "SIGUSR1, list file made safe: reloaded" "$LOG" "reloaded policy generation 3 from $GOOD"
cp "$WORK/good.saved" "$GOOD"

stopped "main" TERM
check_grep "SIGTERM: stop logged" "$LOG" 'stopping on signal 15'

# ---- a stale socket, a stale pid file, SIGINT ---------------------------

"$PYTHON" "$HERE/probe.py" stale "$SOCK"
echo 999999 >"$PIDF" # no such process (pid_max is lower)
if [ -S "$SOCK" ] && start stale "$GOOD"; then
	ok "stale socket: removed, started"
else
	notok "stale socket: did not start: $(tr '\n' '|' <"$LOG")"
fi
check_grep "stale socket: removal logged" "$LOG" "removed stale socket $SOCK"
check "stale pid file: replaced" "$(cat "$PIDF" 2>&1)" "$PID"
check "stale socket: answers" "$(probe "unix:$SOCK")" continue
stopped "stale" INT

# ---- -p overrides milter.socket; SIGHUP ---------------------------------

ALT=$RUN/alt.sock
SOCK_SAVE=$SOCK
SOCK=$ALT
if start p-unix "$GOOD" -p "unix:$ALT"; then ok "-p unix: listening on $ALT"; else notok "-p unix: not listening: $(tr '\n' '|' <"$LOG")"; fi
check "-p unix: milter.socket not created" "$([ -e "$SOCK_SAVE" ] && echo present || echo absent)" absent
check "-p unix: answers" "$(probe "unix:$ALT")" continue
check "-p unix: socket mode 0660" "$(stat -c %a "$ALT" 2>&1)" 660
stopped "-p unix" HUP "$ALT"
SOCK=$SOCK_SAVE

PORT=$((20000 + RANDOM % 20000))
if WAIT_FOR=log start p-inet "$GOOD" -p "inet:$PORT@127.0.0.1"; then ok "-p inet: listening"; else notok "-p inet: not listening: $(tr '\n' '|' <"$LOG")"; fi
check "-p inet: answers on 127.0.0.1:$PORT" "$(probe "inet:$PORT@127.0.0.1")" continue
check "-p inet: milter.socket not created" "$([ -e "$SOCK" ] && echo present || echo absent)" absent
check "-p inet: pid file" "$(cat "$PIDF" 2>&1)" "$PID"
stopped "-p inet" TERM

# ---- -R: root without a milter user runs as root -----------------------

ROOTOK=$(conf root-ok)
sed -i 's/user = "nobody";/user = "";/' "$ROOTOK"
if start root-ok "$ROOTOK" -R; then ok "-R, empty milter.user: listening"; else notok "-R, empty milter.user: not listening: $(tr '\n' '|' <"$LOG")"; fi
check "-R, empty milter.user: runs as root (Uid)" "$(awk '/^Uid:/ {print $2, $3, $4, $5}' "/proc/$PID/status")" "0 0 0 0"
check_grep "-R, empty milter.user: warns it runs as root" "$LOG" 'milter.user is empty or root: running as root \(-R\)'
check "-R, empty milter.user: answers" "$(probe "unix:$SOCK")" continue
stopped "-R" TERM
# -R with a milter user: the drop still happens
if start root-drop "$GOOD" -R; then ok "-R with milter.user nobody: listening"; else notok "-R with milter.user nobody: not listening: $(tr '\n' '|' <"$LOG")"; fi
check "-R with milter.user nobody: still drops to nobody (Uid)" "$(awk '/^Uid:/ {print $2, $3, $4, $5}' "/proc/$PID/status")" "65534 65534 65534 65534"
stopped "-R with milter.user" TERM

# ---- the drain: a session in flight finishes, new connections get 421 ---

PORT=$((PORT + 1))
if WAIT_FOR=log start drain "$GOOD" -p "inet:$PORT@127.0.0.1"; then
	"$PYTHON" "$HERE/probe.py" drain "inet:$PORT@127.0.0.1" "$PID" || failed=1
	finish 10
	check "drain: exit 0" "$RC" 0
	check "drain: pid file removed" "$([ -e "$PIDF" ] && echo present || echo absent)" absent
	check_grep "drain: logged" "$LOG" 'waiting up to 10 s for 1 session'
	check_grep "drain: nothing cut off" "$LOG" 'stopped \(0 session\(s\) cut off\)'
else
	notok "drain: not listening: $(tr '\n' '|' <"$LOG")"
fi

# a second stop signal ends the drain; so does milter.drain_timeout
PORT=$((PORT + 1))
if WAIT_FOR=log start cut2 "$GOOD" -p "inet:$PORT@127.0.0.1"; then
	"$PYTHON" "$HERE/probe.py" cut "inet:$PORT@127.0.0.1" "$PID" 2 3 || failed=1
	finish 5
	check "second SIGTERM: exit 0" "$RC" 0
	check_grep "second SIGTERM: logged" "$LOG" 'second stop signal'
	check_grep "second SIGTERM: the session cut off" "$LOG" 'stopped \(1 session\(s\) cut off\)'
else
	notok "second SIGTERM: not listening: $(tr '\n' '|' <"$LOG")"
fi
SHORT=$(conf short)
sed -i 's/drain_timeout = 10;/drain_timeout = 1;/' "$SHORT"
PORT=$((PORT + 1))
if WAIT_FOR=log start cut1 "$SHORT" -p "inet:$PORT@127.0.0.1"; then
	"$PYTHON" "$HERE/probe.py" cut "inet:$PORT@127.0.0.1" "$PID" 1 4 || failed=1
	finish 5
	check "drain_timeout 1 s: exit 0" "$RC" 0
	check_grep "drain_timeout 1 s: the session cut off" "$LOG" 'stopped \(1 session\(s\) cut off\)'
else
	notok "drain_timeout: not listening: $(tr '\n' '|' <"$LOG")"
fi

# the drain signal SIGRTMIN+1 (libmilter does not watch it): the same drain
RTMIN1=$(("$(kill -l RTMIN)" + 1))
PORT=$((PORT + 1))
if WAIT_FOR=log start drain-rt "$GOOD" -p "inet:$PORT@127.0.0.1"; then
	"$PYTHON" "$HERE/probe.py" drain "inet:$PORT@127.0.0.1" "$PID" "$RTMIN1" >"$out" || failed=1
	sed 's/ - drain:/ - SIGRTMIN+1 drain:/' "$out"
	finish 10
	check "SIGRTMIN+1 drain: exit 0" "$RC" 0
	check "SIGRTMIN+1 drain: pid file removed" "$([ -e "$PIDF" ] && echo present || echo absent)" absent
	check_grep "SIGRTMIN+1 drain: logged" "$LOG" "stopping on signal $RTMIN1: refusing new connections, waiting up to 10 s for 1 session"
	check_grep "SIGRTMIN+1 drain: nothing cut off" "$LOG" 'stopped \(0 session\(s\) cut off\)'
else
	notok "SIGRTMIN+1 drain: not listening: $(tr '\n' '|' <"$LOG")"
fi

# signal storms with a session in flight: SIGRTMIN+1 always reaches the
# drain (the first starts it, the next ends the wait: out within 5 s);
# SIGTERM, which libmilter's thread may take (and then the drain runs to
# its end, 10 s), still stops cleanly: exit 0 within drain_timeout + 3 s,
# nothing left behind
for spec in "RTMIN+1 $RTMIN1 5" "TERM 15 13"; do
	read -r sig num bound <<<"$spec"
	PORT=$((PORT + 1))
	if WAIT_FOR=log start "storm-$sig" "$GOOD" -p "inet:$PORT@127.0.0.1"; then
		"$PYTHON" "$HERE/probe.py" storm "inet:$PORT@127.0.0.1" "$PID" "$num" 200 "$bound" || failed=1
		finish 10
		check "SIG$sig storm: exit 0" "$RC" 0
		check "SIG$sig storm: pid file removed" "$([ -e "$PIDF" ] && echo present || echo absent)" absent
		check_grep "SIG$sig storm: stop logged" "$LOG" 'stopped \([01] session\(s\) cut off\)'
		if [ "$sig" = RTMIN+1 ]; then
			check_grep "SIG$sig storm: the drain began" "$LOG" "stopping on signal $RTMIN1: refusing new connections"
			check_grep "SIG$sig storm: the next signal ended the wait" "$LOG" 'second stop signal'
			check "SIG$sig storm: libmilter never took a signal" "$(grep -c 'libmilter stopped' "$LOG")" 0
		fi
	else
		notok "SIG$sig storm: not listening: $(tr '\n' '|' <"$LOG")"
	fi
done

# a pid file in a directory the milter user cannot write: left empty at exit
mkdir -p "$WORK/rootdir"
chmod 0755 "$WORK/rootdir"
ROOTPID=$(conf rootpid)
sed -i "s|pid_file = \"$PIDF\";|pid_file = \"$WORK/rootdir/milter.pid\";|" "$ROOTPID"
if start rootpid "$ROOTPID"; then
	check "pid file in a root directory: written" "$(cat "$WORK/rootdir/milter.pid" 2>&1)" "$PID"
	kill -TERM "$PID"
	finish 10
	check "pid file in a root directory: SIGTERM exit 0" "$RC" 0
	check "pid file in a root directory: left empty" "$(wc -c <"$WORK/rootdir/milter.pid" 2>&1)" 0
else
	notok "pid file in a root directory: did not start: $(tr '\n' '|' <"$LOG")"
fi

# -p is held to the same rules as milter.socket: what -n refuses in the file
# must not make the daemon listen somewhere else
for spec in "inet:99999@127.0.0.1" "inet:0@127.0.0.1" "unix:" "unix:relative.sock"; do
	BADP=$(conf badp "$spec")
	"$BIN" -n -c "$BADP" >/dev/null 2>"$err"
	check "milter.socket = \"$spec\": -n refuses it" "$?" 1
	(cd "$WORK" && exec "$BIN" -f -c "$GOOD" -p "$spec") >"$WORK/badp.log" 2>&1 &
	PID=$!
	n=30
	while [ $n -gt 0 ] && kill -0 "$PID" 2>/dev/null && ! grep -q 'listening on' "$WORK/badp.log"; do
		sleep 0.1
		n=$((n - 1))
	done
	if grep -q 'listening on' "$WORK/badp.log"; then
		kill -TERM "$PID"
		finish 10
		notok "-p '$spec': got a running daemon ($(grep -o 'listening on.*' "$WORK/badp.log" | head -1)), want a refusal (exit 64 or 1)"
	else
		finish 5
		case $RC in
		1 | 64) ok "-p '$spec': refused (exit $RC)" ;;
		*) notok "-p '$spec': got exit $RC, want a refusal (exit 64 or 1)" ;;
		esac
	fi
	rm -f "$WORK/relative.sock" "$PIDF"
done

# ---- the JSON decision log: a stalled or full disk never slows a session ---

# json_conf NAME PATH - the minimal policy with log.json_file = PATH
json_conf() {
	local f
	f=$(conf "$1")
	printf 'log:\n{\n  json_file = "%s";\n};\n' "$2" >>"$f"
	echo "$f"
}

# writes stall: a FIFO whose reader never reads, its pipe shrunk to one page
FIFO=$WORK/stall.fifo
mkfifo -m 0666 "$FIFO"
exec 9<>"$FIFO"
"$PYTHON" -c 'import fcntl; fcntl.fcntl(9, 1031, 4096)' # F_SETPIPE_SZ
STALL=$(json_conf stall "$FIFO")
if start stall "$STALL"; then
	"$PYTHON" "$HERE/probe.py" sessions "unix:$SOCK" 40 1 || failed=1
	kill -TERM "$PID"
	finish 15
	check "stalled JSON log: SIGTERM exit 0" "$RC" 0
	check_grep "stalled JSON log: records not written reported at exit" "$LOG" \
		"JSON decision log $FIFO at exit: 0 record\\(s\\) lost to write errors, 0 dropped \\(queue full\\), [1-9][0-9]* not written"
else
	notok "stalled JSON log: did not start: $(tr '\n' '|' <"$LOG")"
fi
exec 9<&-

# writes fail: a full tmpfs
FULL=$WORK/full
mkdir -p "$FULL"
if mount -t tmpfs -o size=16k,mode=0777 tmpfs "$FULL"; then
	touch "$FULL/decisions.json"
	chown nobody:nogroup "$FULL/decisions.json"
	dd if=/dev/zero of="$FULL/filler" bs=4k count=100 2>/dev/null
	FULLC=$(json_conf full "$FULL/decisions.json")
	if start full "$FULLC"; then
		"$PYTHON" "$HERE/probe.py" sessions "unix:$SOCK" 40 1 || failed=1
		kill -TERM "$PID"
		finish 15
		check "full JSON log: SIGTERM exit 0" "$RC" 0
		check_grep "full JSON log: the first failure reported" "$LOG" \
			"cannot write the JSON decision log $FULL/decisions.json: No space left on device \\(1 record\\(s\\) lost"
		decisions=$(grep -c ' stage=' "$LOG") # each a record the full disk refused
		check_grep "full JSON log: every lost record ($decisions) counted at exit" "$LOG" \
			"JSON decision log $FULL/decisions.json at exit: $decisions record\\(s\\) lost to write errors, 0 dropped \\(queue full\\), 0 not written"
	else
		notok "full JSON log: did not start: $(tr '\n' '|' <"$LOG")"
	fi
	umount "$FULL"
else
	notok "full JSON log: cannot mount a tmpfs on $FULL"
fi

# every daemon's stderr: no sanitizer report (with MILTER_BIN set to the sanitizer build)
if grep -lE 'ERROR: (Address|Leak)Sanitizer|runtime error:' "$WORK"/*.log >"$out" 2>/dev/null; then
	notok "sanitizer report in: $(tr '\n' ' ' <"$out")"
else
	ok "no sanitizer report in any daemon's stderr"
fi

exit $failed
