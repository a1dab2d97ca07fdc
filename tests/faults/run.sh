#!/bin/bash
# NAME
#	run.sh - policy-milter under faults, end to end with Postfix
# SYNOPSIS
#	tests/faults/run.sh [PART...]	(make faults; part of make check: suite "faults")
#	PART: dns walk dnsstop kill reload socket limits (default: all, in this order)
# DESCRIPTION
#	The mail world of tests/e2e/lib.sh (private network, mount and pid
#	namespaces; nsd on 127.0.0.1 with the e2e zones and fresh DKIM keys;
#	Postfix on 127.0.0.1:25 with milter_default_action = tempfail), with
#	two differences: /etc/resolv.conf names only faultdns (faultdns.c, on
#	127.0.0.3), a forwarder in front of nsd that delays, drops or answers
#	SERVFAIL for the names its rules file lists; and the milter runs this
#	directory's policy.conf (the shipped DNS timeouts and limits), with a
#	second instance on a fail-open policy behind a second Postfix
#	listener, 127.0.0.1:2526. Postfix's own limits are raised with
#	postconf -e (message_size_limit, virtual_mailbox_limit,
#	header_size_limit, smtpd_recipient_limit, error limits) so that the
#	oversized messages reach the milter. The client is smtpc.py: it
#	times every reply and sorts each message into accepted, refused with
#	a 4xx, refused with a 5xx or lost. Parts:
#	  dns      dns.json, all cases at once: sender domain, HELO name, SPF
#	           record, DMARC record, five DKIM keys and client PTR
#	           answering only after 10 s or 40 s, SERVFAIL for a sender's zone and for the DNSBL
#	           zone, a 3 s control that must be accepted, and one MAIL
#	           FROM whose sender domain and SPF lookups each answer 3 s
#	           late (the last SPF include after 40 s: more than spf.timeout
#	           in all), whose MAIL FROM reply must come within spf.timeout
#	           + 1 s (one DNS budget per command); each gets its
#	           4xx (or 250 where the policy fails open: the 2526 instance
#	           with dmarc.fail_open and spf.temperror = "accept"), never a
#	           5xx, every reply before Postfix's milter timeouts
#	           (milter_command_timeout, milter_content_timeout), and
#	           Postfix logs no milter timeout;
#	  walk     the RFC 9989 tree walk measured: one message per author
#	           domain of the e2e zones written the RFC 9989 way, the
#	           _dmarc (and the author's A, for np=) queries faultdns saw
#	           for each, printed; its reply, and at most 16 (two walks);
#	  dnsstop  40 messages over 10 s; the DNS server is SIGKILLed after 3 s
#	           and started again after 6.5 s: before accepted, during 451
#	           from the milter, after accepted again, nothing lost;
#	  kill     20 sessions held at five points (after EHLO, MAIL, RCPT,
#	           in the middle of DATA, and at end of message with the
#	           milter waiting for DNS), the milter SIGKILLed: every one
#	           sees a 4xx, a new session while it is down too; the milter
#	           started again over the stale socket it left; sent =
#	           delivered + refused(4xx), and every refused message sent
#	           again ends up delivered exactly once;
#	  reload   1,000 messages, 20 at a time, while the policy file
#	           alternates between a good file (blocks one sender) and a
#	           broken one (which, were any of it applied, would block every
#	           client) with SIGUSR1 every 100 ms: every blocked message
#	           554 5.7.1, every other one delivered exactly once, no 4xx;
#	  socket   what tests/daemon/run.sh does not cover: a socket directory
#	           the MTA cannot enter, and a socket_mode the MTA cannot
#	           connect with, must be a clear error at start, never a
#	           silently unreachable filter (Postfix then defers all mail);
#	           the stale socket a SIGKILL leaves is the kill part's;
#	  limits   on a freshly started milter: 10,000 header lines (250, all
#	           delivered), a 50 MiB body (250), 1,000 recipients (100 x
#	           250, 900 x 452 4.5.3, 100 copies), a 1 MiB header line
#	           (250), 500 DKIM-Signature headers (250, five verified and at
#	           most five key lookups: dkim.max_signatures); each judged
#	           (our Authentication-Results), the time and the milter's
#	           VmHWM (see LIMITS below).
#	FAULTS_KEEP=1 keeps the work directory (/tmp/pm-faults.*).
# LIMITS
#	What Postfix lets through: it keeps only the first 60,000 bytes of the
#	1 MiB header line once any milter is configured (a no-op libmilter
#	filter too), so the milter sees and the mailbox gets that much; the
#	limits part checks the milter keeps all of it. The memory limit: the
#	milter's VmHWM may grow by at most 16 MiB over the whole part. What it
#	must hold of a message is one header field at a time (libmilter's
#	packet, at most 64 KiB), libopendkim's copies of the header fields
#	(10,000 of them: about 1 MiB measured) and the DKIM-Signature fields,
#	of which dkim.max_signatures are verified (500: about 3 MiB); the body is hashed
#	as it streams by. 16 MiB is four times the growth measured (+3.8 MiB)
#	and under a third of the 50 MiB body: a milter that buffered the body,
#	or kept every message's headers, fails. Each oversized session must
#	end within 60 s (about 2 s measured, mostly the 50 MiB transfer).
# DIAGNOSTICS
#	"ok - ..." / "not ok - ..." lines; exit 0 all passed, 1 a check
#	failed, 2 the world could not be built, 77 not root. On failure the
#	tails of the maillog, the milter's log and faultdns's log are printed.

set -u

HERE=$(cd "$(dirname "$0")" && pwd)
# shellcheck source=tests/e2e/lib.sh
. "$HERE/../e2e/lib.sh"
FAULTS_BUILD=$E2E_TOP/build/faults
PYTHON=${PYTHON:-python3}
export PYTHONDONTWRITEBYTECODE=1 # nothing written into the source tree
ALL_PARTS="dns walk dnsstop kill reload socket limits"

if [ -z "${FAULTS_INNER:-}" ]; then
	if [ "$(id -u)" != 0 ]; then
		echo "SKIPPED: fault tests need root (unshare, nsd, postfix)"
		exit 77
	fi
	for tool in unshare ip nsd postfix postconf dig gcc openssl "$PYTHON"; do
		command -v "$tool" >/dev/null || {
			echo "faults: $tool not found (run make deps)" >&2
			exit 2
		}
	done
	for part in "$@"; do
		case " $ALL_PARTS " in *" $part "*) ;; *)
			echo "usage: tests/faults/run.sh [$ALL_PARTS]" >&2
			exit 2
			;;
		esac
	done
	[ -x "$MILTER_BIN" ] || make -s -C "$E2E_TOP" all || exit 2
	e2e_build_tools
	mkdir -p "$FAULTS_BUILD"
	if [ ! -x "$FAULTS_BUILD/faultdns" ] || [ "$HERE/faultdns.c" -nt "$FAULTS_BUILD/faultdns" ]; then
		gcc -std=gnu11 -O2 -Wall -Wextra -Werror -o "$FAULTS_BUILD/faultdns" "$HERE/faultdns.c" ||
			die "cannot compile faultdns.c"
	fi
	ns_reexec pm-faults FAULTS_KEEP FAULTS_INNER "$0" "$@"
	rc=$?
	[ "$rc" = 0 ] || e2e_show_logs 60 "faultdns log" "$E2E_DIR/faultdns.log"
	[ -n "${FAULTS_KEEP:-}" ] && echo "faults: work directory kept: $E2E_DIR"
	exit "$rc"
fi

# ---- inside the namespaces ----------------------------------------------

trap ns_teardown EXIT
trap 'exit 2' INT TERM

PARTS=${*:-$ALL_PARTS}
failed=0
ok() { echo "ok - $*"; }
notok() {
	echo "not ok - $*"
	failed=1
}
# check NAME GOT WANT - equal strings
check() {
	if [ "$2" = "$3" ]; then ok "$1"; else notok "$1: got '$2', want '$3'"; fi
}
# want PART - is PART among the parts to run?
want() { case " $PARTS " in *" $1 "*) return 0 ;; *) return 1 ;; esac }

ns_setup
# No syslog daemon of the host gets our lines (-f puts them in milter.log).
if [ -e /dev/log ]; then mount --bind /dev/null /dev/log 2>/dev/null || true; fi
nsd_start

# faultdns on 127.0.0.3 in front of nsd, and the only name server anyone asks
# (the same file: /etc/resolv.conf is a bind mount of it). One attempt:
# policy-milter sets its own per-query timeout (spf.dns_timeout).
RULES=$E2E_DIR/faultdns.rules
DNSLOG=$E2E_DIR/faultdns.log
: >"$RULES"
DNS_CMD=("$FAULTS_BUILD/faultdns" 127.0.0.3 53 127.0.0.1 "$RULES" "$DNSLOG")
"${DNS_CMD[@]}" 2>>"$E2E_DIR/faultdns.err" &
DNS_PID=$!
printf 'nameserver 127.0.0.3\noptions timeout:2 attempts:1\n' >"$E2E_DIR/resolv.conf"
wait_for 50 "dig +time=1 +tries=1 @127.0.0.3 SOA test. | grep -q 'status: NOERROR'" ||
	die "faultdns does not answer"

postfix_setup
# Postfix's own limits above the oversized messages (part limits), and the
# error limits above the 900 recipients the milter refuses in one session.
postconf -e message_size_limit=67108864 virtual_mailbox_limit=67108864 \
	header_size_limit=4194304 smtpd_recipient_limit=2000 \
	smtpd_soft_error_limit=1000 smtpd_hard_error_limit=2000 ||
	die "postconf -e failed"
# The fail-open instance behind its own listener.
FO_SOCKET=/var/spool/postfix/policy-milter/failopen.sock
if ! { postconf -M "127.0.0.1:2526/inet=127.0.0.1:2526 inet n - n - - smtpd" &&
	postconf -P "127.0.0.1:2526/inet/smtpd_milters=unix:$FO_SOCKET" \
		"127.0.0.1:2526/inet/syslog_name=postfix/failopen"; }; then
	die "postconf -M/-P failed"
fi
# A listener for the socket trouble part, its milter socket in pm-trouble/.
TR_SOCKET=/var/spool/postfix/pm-trouble/m.sock
if ! { postconf -M "127.0.0.1:2527/inet=127.0.0.1:2527 inet n - n - - smtpd" &&
	postconf -P "127.0.0.1:2527/inet/smtpd_milters=unix:$TR_SOCKET" \
		"127.0.0.1:2527/inet/syslog_name=postfix/trouble"; }; then
	die "postconf -M/-P failed"
fi
CMD_TIMEOUT=$(postconf -h milter_command_timeout | tr -d s)
CONTENT_TIMEOUT=$(postconf -h milter_content_timeout | tr -d s)
[ "$(postconf -h milter_default_action)" = tempfail ] || die "milter_default_action is not tempfail"

live=$E2E_DIR/live-policy.conf
cp "$HERE/policy.conf" "$live"
failopen=$E2E_DIR/failopen.conf
sed -e 's/^  fail_open = false;/  fail_open = true;/' -e 's/^  temperror = "tempfail";/  temperror = "accept";/' \
	-e "s|^  socket = \"unix:[^\"]*\";|  socket = \"unix:$FO_SOCKET\";|" -e 's|^  pid_file = "[^"]*";|  pid_file = "";|' \
	"$HERE/policy.conf" >"$failopen"
[ "$(diff "$HERE/policy.conf" "$failopen" | grep -c '^>')" = 4 ] ||
	die "policy.conf lacks one of the lines the fail-open policy rewrites"
milter_start "$live"
"$MILTER_BIN" -f -c "$failopen" >>"$E2E_DIR/failopen.log" 2>&1 &
FO_PID=$!
wait_for 100 "[ -S $FO_SOCKET ]" || die "the fail-open policy-milter did not start (see failopen.log)"
postfix_start

SMTPC=("$PYTHON" "$HERE/smtpc.py")
COMMON=(--maildir "$E2E_DIR/mail/mail" --cmd-timeout "$CMD_TIMEOUT" --content-timeout "$CONTENT_TIMEOUT")
echo "# Postfix milter_command_timeout ${CMD_TIMEOUT} s, milter_content_timeout ${CONTENT_TIMEOUT} s," \
	"milter_default_action tempfail"

# maillog_milter_timeouts - lines where Postfix gave up waiting for a milter
maillog_milter_timeouts() {
	grep -ciE 'milter .*(timed? ?out|timeout)' "$E2E_DIR/maillog"
}

# running NAME PID - the process is still there
running() {
	check "$1" "$(kill -0 "$2" 2>/dev/null && echo running || echo gone)" running
}

# ---- 1. DNS faults ----------------------------------------------------------
if want dns; then
	before=$(maillog_milter_timeouts)
	"${SMTPC[@]}" dns "$HERE/dns.json" --rules "$RULES" --dnslog "$DNSLOG" "${COMMON[@]}" || failed=1
	check "dns: Postfix logged no milter timeout" "$(($(maillog_milter_timeouts) - before))" 0
	# each temperror's decision says why its lookup failed (detail dns=...)
	for why in "check=sender_domain .*detail=dns=servfail_or_refused" \
		"check=sender_domain .*detail=dns=timeout" "check=dmarc .*detail=dns=timeout" \
		"check=iprev .*detail=\"PTR lookup failed temporarily; dns=timeout\"" \
		"check=spf .*detail=\"DNS error looking up [^\"]*; dns=timeout\""; do
		check "dns: a decision logged with $why" \
			"$(grep -c -- "$why" "$E2E_DIR/milter.log" | awk '{print ($1 > 0) ? "logged" : "missing"}')" logged
	done
	running "dns: policy-milter still running" "$MILTER_PID"
	running "dns: the fail-open policy-milter still running" "$FO_PID"
fi

# ---- 1b. The RFC 9989 tree walk's queries, measured ----------------------------
if want walk; then
	"${SMTPC[@]}" walk --rules "$RULES" --dnslog "$DNSLOG" "${COMMON[@]}" || failed=1
fi

# ---- 2. The DNS server stopped mid-run ------------------------------------------
if want dnsstop; then
	before=$(maillog_milter_timeouts)
	"${SMTPC[@]}" dnsstop --dns-pid "$DNS_PID" --dns-cmd "$("$PYTHON" -c 'import json,sys; print(json.dumps(sys.argv[1:]))' "${DNS_CMD[@]}")" \
		--dns-pidfile "$E2E_DIR/faultdns.pid" "${COMMON[@]}" || failed=1
	wait "$DNS_PID" 2>/dev/null
	DNS_PID=$(cat "$E2E_DIR/faultdns.pid" 2>/dev/null)
	check "dnsstop: Postfix logged no milter timeout" "$(($(maillog_milter_timeouts) - before))" 0
	running "dnsstop: policy-milter still running" "$MILTER_PID"
fi

# ---- 3. SIGKILL with 20 sessions in flight, then a restart ---------------------
if want kill; then
	"${SMTPC[@]}" kill1 --milter-pid "$MILTER_PID" --rules "$RULES" --dnslog "$DNSLOG" \
		--state "$E2E_DIR/kill.json" "${COMMON[@]}" || failed=1
	wait "$MILTER_PID" 2>/dev/null
	check "kill: the milter is gone and left its socket behind (stale)" \
		"$(kill -0 "$MILTER_PID" 2>/dev/null && echo running || echo gone) $([ -S "$MILTER_SOCKET" ] && echo socket)" \
		"gone socket"
	# started again as its supervisor would: over the stale socket and pid file
	n=$(grep -c "removed stale socket $MILTER_SOCKET" "$E2E_DIR/milter.log")
	"$MILTER_BIN" -f -c "$live" >>"$E2E_DIR/milter.log" 2>&1 &
	MILTER_PID=$!
	if wait_for 100 "[ \$(grep -c 'removed stale socket $MILTER_SOCKET' $E2E_DIR/milter.log) -gt $n ] && grep -q 'listening on' $E2E_DIR/milter.log && [ -S $MILTER_SOCKET ]"; then
		ok "kill: restarted over the stale socket (removed stale socket, logged)"
	else
		notok "kill: the restart did not remove the stale socket and listen: $(tail -n 3 "$E2E_DIR/milter.log" | tr '\n' '|')"
	fi
	check "kill: the restarted milter's pid file" "$(cat /run/policy-milter/policy-milter.pid 2>&1)" "$MILTER_PID"
	"${SMTPC[@]}" kill2 --state "$E2E_DIR/kill.json" "${COMMON[@]}" || failed=1
fi

# ---- 4. Reload under load --------------------------------------------------------
if want reload; then
	good=$E2E_DIR/reload-good.conf
	broken=$E2E_DIR/reload-broken.conf
	{
		cat "$HERE/policy.conf"
		printf '%s\n' '# reload test: the good file blocks one sender' \
			'lists: { sender: { block = [ "blocked@pass.test" ]; }; };'
	} >"$good"
	{
		cat "$HERE/policy.conf"
		printf '%s\n' '# reload test: broken; were any of it applied, every client would be refused' \
			'client_block: { mode = "enforce"; networks = [ "192.0.2.0/24" ]; };' \
			'no_such_setting = true;'
	} >"$broken"
	"$MILTER_BIN" -n -c "$good" >/dev/null 2>&1
	check "reload: the good file passes policy-milter -n" "$?" 0
	"$MILTER_BIN" -n -c "$broken" >/dev/null 2>&1
	check "reload: the broken file fails policy-milter -n" "$?" 1
	before=$(maillog_milter_timeouts)
	"${SMTPC[@]}" reload --milter-pid "$MILTER_PID" --live "$live" --good "$good" --broken "$broken" \
		--milter-log "$E2E_DIR/milter.log" --count 1000 --jobs 20 "${COMMON[@]}" || failed=1
	check "reload: Postfix logged no milter timeout" "$(($(maillog_milter_timeouts) - before))" 0
	running "reload: policy-milter still running" "$MILTER_PID"
	cp "$HERE/policy.conf" "$live"
	reload_milter || notok "reload: the test policy was not reloaded afterwards"
fi

# ---- 5. Socket trouble at start ------------------------------------------------------
# trouble NAME MODE SOCKET_MODE - start an instance on $TR_SOCKET, its directory
# owned by root with mode MODE and milter.socket_mode SOCKET_MODE; Postfix
# (user postfix, group policy-milter through /etc/group) cannot reach the
# socket. Wanted: exit 1 with an error, or a warning at start, naming the
# socket or its directory: never a filter that runs and nobody can reach.
trouble() {
	local name=$1 mode=$2 smode=$3 slug conf log pid rc
	slug=$(printf '%s' "$name" | tr -c 'A-Za-z0-9' '-')
	conf=$E2E_DIR/trouble-$slug.conf
	log=$E2E_DIR/trouble-$slug.log
	rm -rf "${TR_SOCKET%/*}"
	mkdir -m "$mode" "${TR_SOCKET%/*}"
	sed -e "s|^  socket = \"unix:[^\"]*\";|  socket = \"unix:$TR_SOCKET\";|" -e 's|^  pid_file = "[^"]*";|  pid_file = "";|' \
		-e "s|^  socket_mode = \"[0-7]*\";|  socket_mode = \"$smode\";|" "$HERE/policy.conf" >"$conf"
	"$MILTER_BIN" -f -c "$conf" >"$log" 2>&1 &
	pid=$!
	wait_for 50 "! kill -0 $pid 2>/dev/null || grep -q 'listening on' '$log'"
	# what Postfix makes of it: a message through the listener using that socket
	"${SMTPC[@]}" probe --port 2527 "${COMMON[@]}" >"$E2E_DIR/trouble-$slug.smtp" 2>&1
	if kill -0 "$pid" 2>/dev/null; then
		if grep -qiE "(warning|error).*(${TR_SOCKET}|${TR_SOCKET%/*})" "$log"; then
			ok "socket trouble: $name: runs, but says so at start: $(grep -iE "(warning|error).*${TR_SOCKET%/*}" "$log" | head -n 1)"
		else
			notok "socket trouble: $name: got a filter that starts silently and that Postfix cannot reach ($(head -n 1 "$E2E_DIR/trouble-$slug.smtp"); maillog: $(grep -o "connect to Milter service unix:$TR_SOCKET: [^;]*" "$E2E_DIR/maillog" | tail -n 1)), want a clear error or warning at start naming $TR_SOCKET or its directory"
		fi
		kill -TERM "$pid"
		wait "$pid"
	else
		wait "$pid"
		rc=$?
		if [ "$rc" = 1 ] && grep -qE "${TR_SOCKET%/*}" "$log"; then
			ok "socket trouble: $name: refused to start (exit 1): $(grep -E "${TR_SOCKET%/*}" "$log" | head -n 1)"
		else
			notok "socket trouble: $name: exit $rc without naming the socket or its directory: $(tr '\n' '|' <"$log")"
		fi
	fi
}
if want socket; then
	# the control: the same listener and a directory set up as README says
	rm -rf "${TR_SOCKET%/*}"
	install -d -o policy-milter -g postfix -m 0750 "${TR_SOCKET%/*}"
	sed -e "s|^  socket = \"unix:[^\"]*\";|  socket = \"unix:$TR_SOCKET\";|" -e 's|^  pid_file = "[^"]*";|  pid_file = "";|' \
		"$HERE/policy.conf" >"$E2E_DIR/trouble-control.conf"
	"$MILTER_BIN" -f -c "$E2E_DIR/trouble-control.conf" >"$E2E_DIR/trouble-control.log" 2>&1 &
	pid=$!
	wait_for 50 "[ -S $TR_SOCKET ]"
	check "socket trouble: control: a socket directory as README says (0750 policy-milter:postfix) is reached" \
		"$("${SMTPC[@]}" probe --port 2527 "${COMMON[@]}" 2>&1 | cut -d: -f1)" accepted
	kill -TERM "$pid"
	wait "$pid"
	trouble "socket directory root-only (0700)" 0700 0660
	trouble "socket_mode 0600 (the MTA cannot connect)" 0755 0600
fi

# ---- 6. Resource limits ------------------------------------------------------------------
if want limits; then
	# a fresh process: VmHWM is a high-water mark, earlier parts must not hide growth
	milter_stop || notok "limits: the milter did not stop cleanly before the restart"
	milter_start "$live"
	"${SMTPC[@]}" limits --milter-pid "$MILTER_PID" --dnslog "$DNSLOG" --hwm-limit-kib 16384 \
		--session-limit 60 "${COMMON[@]}" || failed=1
	running "limits: policy-milter still running" "$MILTER_PID"
fi

milter_stop
check "policy-milter exits 0 on SIGTERM at the end" "$?" 0
reports=$(grep -cE 'ERROR: AddressSanitizer|ERROR: LeakSanitizer|runtime error:' "$E2E_DIR/milter.log")
check "no sanitizer report in the milter's log" "$reports" 0
exit $failed
