#!/bin/bash
# NAME
#	run.sh - greylisting and rate limits end to end: two Postfix MX hosts
#	sharing one Redis, an LMDB milter, and the state store's faults
# SYNOPSIS
#	tests/state/run.sh [PART...]	(make check: suite "state")
#	PART: check greylist ratelimit concurrent outage slow lmdb (default: all, in this order)
# DESCRIPTION
#	The mail world of tests/e2e/lib.sh (private network, mount and pid
#	namespaces; nsd serving the e2e zones on 127.0.0.1; Postfix with
#	milter_default_action = tempfail), plus:
#	  - one Debian redis-server on 127.0.0.1:6379 (tests/state/redis.sh: no
#	    persistence, its directory in the work directory; DEBUG allowed
#	    from localhost);
#	  - two Postfix instances standing for two MX hosts: MX1 on
#	    127.0.0.1:25 (/etc/postfix, the e2e world's own) and MX2 on
#	    127.0.0.10:25 (its own config directory, queue and data directory,
#	    maillog2), both delivering into the same Maildir; each with its own
#	    policy-milter and policy file (mx1.conf, mx2.conf: this directory's
#	    policy.conf and a part run.sh writes), both state.backend = "redis"
#	    on the same Redis and prefix;
#	  - on MX1 two more listeners: 127.0.0.1:2526 with a third milter
#	    (redis, state.on_failure = "tempfail") and 127.0.0.1:2527 with a
#	    fourth (state.backend = "lmdb", its file in $E2E_DIR/lmdb).
#	Every milter: greylisting enforce, delay 10 s, retry_window 60 s;
#	ratelimits "per-client" (client_address, 5 messages per 60 s) and
#	"per-rcpt" (recipient, 10 messages per 60 s); 192.0.2.0/24 is exempt
#	from the rate limits, 198.51.100.0/24 from greylisting.
#	statec.py is the client (swaks for the greylisting sessions, its own
#	SMTP code for the rest). Parts:
#	  check       policy-milter -n: the suite's policies pass; broken/*.conf
#	              (unknown key in a rule, window 0, no key, redis without a
#	              server) exit non-zero naming FILE:LINE of "ERROR HERE";
#	  greylist    first attempt 451 4.7.1 (the whole text, retry 10 s), again
#	              before the delay 451 (the rest of it), after it 250 and
#	              delivered (our Authentication-Results); a second message
#	              of the triplet at once; greylisted on MX1, accepted on MX2
#	              after the delay; postmaster, a trusted client and an
#	              authenticated one never greylisted; the same on the LMDB
#	              milter, then that milter restarted: the passed triplet
#	              still passes; the JSON records (new, early, passed, known,
#	              skipped);
#	  ratelimit   one client, messages alternating MX1 and MX2: five 250,
#	              the sixth 451 4.7.1 (ratelimit text), JSON state "over";
#	  concurrent  20 sessions at once (10 per MX, 20 client addresses, one
#	              recipient, limit 10) meeting at a barrier before RCPT:
#	              exactly 10 accepted and delivered, 10 refused 451 4.7.1,
#	              Redis's counter 10;
#	  outage      after the concurrent part (the milters' pools full of
#	              idle connections), Redis stopped in the middle of a run and started again:
#	              MX1 and MX2 (on_failure accept) accept and deliver every
#	              message (greylisting and the rate limits fail open, their
#	              JSON state "error"), the 2526 milter (tempfail) answers
#	              451 4.3.0 at RCPT, never a 5xx; MX1 and 2526 log the
#	              outage once, and its end once with the count of failed
#	              operations; every milter reaches Redis again within the
#	              backoff; then the counters count again (six messages
#	              alternating MX1 and MX2: the sixth over the limit);
#	  slow        Redis made slow for 5 s twice (CLIENT PAUSE 5000, then DEBUG
#	              SLEEP 5) while messages are sent: every RCPT reply within
#	              eight times the command timeout (250 ms), the fail-open 250
#	              on MX1 and 451 4.3.0 on 2526, all before Redis answers again;
#	  lmdb        the LMDB file deleted before a start (recreated, mail
#	              flows), and corrupted before a start (renamed aside to
#	              PATH.bad-*, the error logged naming it, a new file used).
#	The waits are long enough for a busy machine (a swaks session took 4 s
#	on 2 cores with a load of 15). The whole suite takes about a minute. STATE_KEEP=1 keeps the work
#	directory (/tmp/pm-state.*: maillog, maillog2, NAME.log and json/NAME.json
#	of each milter, redis/redis.log, the policies NAME.conf).
# DIAGNOSTICS
#	"ok - ..." / "not ok - ..." lines; exit 0 all passed, 1 a check
#	failed, 2 the world could not be built, 77 not root. On failure the
#	tails of the maillogs, the milters' logs and Redis's log are printed.

set -u

HERE=$(cd "$(dirname "$0")" && pwd)
# shellcheck source=tests/e2e/lib.sh
. "$HERE/../e2e/lib.sh"
PYTHON=${PYTHON:-python3}
export PYTHONDONTWRITEBYTECODE=1 # nothing written into the source tree
ALL_PARTS="check greylist ratelimit concurrent outage slow lmdb"

if [ -z "${STATE_INNER:-}" ]; then
	if [ "$(id -u)" != 0 ]; then
		echo "SKIPPED: state tests need root (unshare, nsd, postfix, redis-server)"
		exit 77
	fi
	for tool in unshare ip nsd postfix postconf dig swaks redis-server redis-cli "$PYTHON"; do
		command -v "$tool" >/dev/null || {
			echo "state: $tool not found (run make deps)" >&2
			exit 2
		}
	done
	for part in "$@"; do
		case " $ALL_PARTS " in *" $part "*) ;; *)
			echo "usage: tests/state/run.sh [$ALL_PARTS]" >&2
			exit 2
			;;
		esac
	done
	[ -x "$MILTER_BIN" ] || make -s -C "$E2E_TOP" all || exit 2
	e2e_build_tools
	ns_reexec pm-state STATE_KEEP STATE_INNER "$0" "$@"
	rc=$?
	if [ "$rc" != 0 ]; then
		e2e_show_logs 60 "MX2 maillog" "$E2E_DIR/maillog2" "MX1 milter" "$E2E_DIR/mx1.log" \
			"MX2 milter" "$E2E_DIR/mx2.log" "tempfail milter" "$E2E_DIR/tf.log" \
			"LMDB milter" "$E2E_DIR/lm.log" "redis log" "$E2E_DIR/redis/redis.log"
	fi
	[ -n "${STATE_KEEP:-}" ] && echo "state: work directory kept: $E2E_DIR"
	exit "$rc"
fi

# ---- inside the namespaces ----------------------------------------------

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

# ---- the milters ------------------------------------------------------------
# NAME: mx1 (MX1), mx2 (MX2), tf (MX1:2526, on_failure tempfail), lm (MX1:2527, LMDB)
declare -A PM_PID=()
SOCKDIR=/var/spool/postfix/policy-milter
REDIS_PORT=6379
REDIS_DIR=$E2E_DIR/redis
LMDB_DIR=$E2E_DIR/lmdb
LMDB_PATH=$LMDB_DIR/state.lmdb
JSON_DIR=$E2E_DIR/json # the milters' JSON decision logs (kept with STATE_KEEP)

# policy NAME AUTHSERV BACKEND ON_FAILURE - write $E2E_DIR/NAME.conf: policy.conf
# and this milter's own part
policy() {
	local name=$1 authserv=$2 backend=$3 onfail=$4
	{
		cat "$HERE/policy.conf"
		cat <<-EOF

			# ---- written by tests/state/run.sh for the milter "$name" ----
			authserv_id = "$authserv";

			milter:
			{
			  socket = "unix:$SOCKDIR/$name.sock";
			  socket_mode = "0660";
			  socket_group = "postfix";
			  user = "policy-milter";
			  pid_file = "";
			  drain_timeout = 5;
			};

			log:
			{
			  syslog_facility = "mail";
			  syslog_ident = "policy-milter-$name";
			  json_file = "$JSON_DIR/$name.json";
			};

			state:
			{
			  backend = "$backend";
			  on_failure = "$onfail";
			  lmdb:
			  {
			    path = "$LMDB_PATH";
			    max_size_mb = 16;
			  };
			  redis:
			  {
			    server = "127.0.0.1:$REDIS_PORT";
			    prefix = "pmtest:";
			    connect_timeout_ms = 500;
			    command_timeout_ms = 250;
			  };
			};

			greylisting:
			{
			  mode = "enforce";
			  delay = 10;
			  retry_window = 60;
			  lifetime = 3600;
			  auto_allow_after = 100;
			  exempt_clients = [ "198.51.100.0/24" ];
			};

			ratelimits = (
			  { name = "per-client"; key = "client_address"; count = "messages"; window = 60;
			    limit = 5; action = "tempfail"; exempt_clients = [ "192.0.2.0/24" ]; },
			  { name = "per-rcpt"; key = "recipient"; count = "messages"; window = 60;
			    limit = 10; action = "tempfail"; exempt_clients = [ "192.0.2.0/24" ]; }
			);
		EOF
	} >"$E2E_DIR/$name.conf"
}

# pm_start NAME - start the milter NAME with $E2E_DIR/NAME.conf (log NAME.log) and
# wait for its socket; 1 when it did not come up
pm_start() {
	local name=$1
	rm -f "$SOCKDIR/$name.sock"
	"$MILTER_BIN" -f -c "$E2E_DIR/$name.conf" >>"$E2E_DIR/$name.log" 2>&1 &
	PM_PID[$name]=$!
	wait_for 100 "[ -S $SOCKDIR/$name.sock ]" && return 0
	kill "${PM_PID[$name]}" 2>/dev/null
	PM_PID[$name]=
	return 1
}

# pm_stop NAME - SIGTERM and wait; its exit status
pm_stop() {
	local name=$1 pid=${PM_PID[$1]:-} rc=0
	if [ -n "$pid" ] && kill -0 "$pid" 2>/dev/null; then
		kill -TERM "$pid"
		wait "$pid" || rc=$?
	fi
	PM_PID[$name]=
	return $rc
}

# ---- Redis ---------------------------------------------------------------------
# shellcheck source=tests/state/redis.sh
. "$HERE/redis.sh"
# the suite's server: 127.0.0.1:$REDIS_PORT, DEBUG allowed from localhost
REDIS_ARGS=(--port "$REDIS_PORT" --enable-debug-command local)

teardown() {
	local n
	for n in "${!PM_PID[@]}"; do pm_stop "$n" || true; done
	postfix -c "$E2E_DIR/etc-postfix2" stop >/dev/null 2>&1 || true
	redis_stop "$REDIS_DIR"
	ns_teardown
}
trap teardown EXIT
trap 'exit 2' INT TERM

# ---- the world ---------------------------------------------------------------
ns_setup
# No syslog daemon of the host gets our lines (-f puts them in NAME.log).
if [ -e /dev/log ]; then mount --bind /dev/null /dev/log 2>/dev/null || true; fi
ip addr add 127.0.0.10/8 dev lo 2>/dev/null || true
# DNS: the e2e zones (no DKIM keys: nothing here is signed), the silent server
mkdir -p "$E2E_DIR/zones"
cp "$E2E_SRC"/zones/*.zone "$E2E_DIR/zones/" || die "cannot copy the zones"
"$E2E_BUILD/silentdns" 127.0.0.2 53 &
nsd_serve "$E2E_DIR/zones" test. "$E2E_SRC/zones/servfail.list"

redis_start "$REDIS_DIR" "${REDIS_ARGS[@]}" || die "redis-server did not start (see $REDIS_DIR/redis.log)"

# MX1: the e2e world's Postfix, on 127.0.0.1 only, plus the 2526 and 2527 listeners
postfix_setup
postconf -e "inet_interfaces = 127.0.0.1" "inet_protocols = ipv4" \
	"smtpd_milters = unix:$SOCKDIR/mx1.sock" "alternate_config_directories = $E2E_DIR/etc-postfix2" ||
	die "postconf -e failed"
for l in 2526:tf 2527:lm; do
	port=${l%:*} name=${l#*:}
	if ! { postconf -M "127.0.0.1:$port/inet=127.0.0.1:$port inet n - n - - smtpd" &&
		postconf -P "127.0.0.1:$port/inet/smtpd_milters=unix:$SOCKDIR/$name.sock" \
			"127.0.0.1:$port/inet/syslog_name=postfix/$name"; }; then
		die "postconf -M/-P failed"
	fi
done
[ "$(postconf -h milter_default_action)" = tempfail ] || die "milter_default_action is not tempfail"
# MX2: its own config directory (a copy of MX1's), queue, data directory and log
MX2_ETC=$E2E_DIR/etc-postfix2
cp -a "$E2E_DIR/etc-postfix/." "$MX2_ETC/"
mkdir -p "$E2E_DIR/spool2" "$E2E_DIR/lib-postfix2"
chown postfix:postfix "$E2E_DIR/lib-postfix2"
: >"$E2E_DIR/maillog2"
postconf -c "$MX2_ETC" -e "inet_interfaces = 127.0.0.10" "myhostname = mx2.example.org" \
	"queue_directory = $E2E_DIR/spool2" "data_directory = $E2E_DIR/lib-postfix2" \
	"maillog_file = $E2E_DIR/maillog2" "smtpd_milters = unix:$SOCKDIR/mx2.sock" \
	"alternate_config_directories =" || die "postconf -c MX2 -e failed"
postconf -c "$MX2_ETC" -MX 127.0.0.1:2525/inet 127.0.0.1:2526/inet 127.0.0.1:2527/inet ||
	die "postconf -c MX2 -MX failed"

# the milters: state in Redis (MX1, MX2, the tempfail one) and in LMDB
mkdir -p "$LMDB_DIR" "$JSON_DIR" && chown policy-milter:policy-milter "$LMDB_DIR" "$JSON_DIR"
policy mx1 mx.example.org redis accept
policy mx2 mx2.example.org redis accept
policy tf tf.example.org redis tempfail
policy lm lm.example.org lmdb accept
for n in mx1 mx2 tf lm; do
	if ! out=$("$MILTER_BIN" -n -c "$E2E_DIR/$n.conf" 2>&1); then
		echo "not ok - the suite's policy $n.conf passes policy-milter -n: $out"
		exit 1
	fi
done
for n in mx1 mx2 tf lm; do
	pm_start "$n" || die "policy-milter $n did not create $SOCKDIR/$n.sock (see $n.log)"
done

postfix_start
postfix -c "$MX2_ETC" check >>"$E2E_DIR/postfix-start.log" 2>&1 || die "postfix check (MX2) failed: $(tail -n 5 "$E2E_DIR/postfix-start.log")"
postfix -c "$MX2_ETC" start >>"$E2E_DIR/postfix-start.log" 2>&1 || die "postfix start (MX2) failed: $(tail -n 5 "$E2E_DIR/postfix-start.log")"
for hp in "127.0.0.10 25" "127.0.0.1 2526" "127.0.0.1 2527"; do
	wait_for 100 "smtp_ping $hp" || die "no SMTP server at $hp"
done

STATEC=("$PYTHON" "$HERE/statec.py" --work "$E2E_DIR" --maildir "$E2E_DIR/mail/mail"
	--redis-port "$REDIS_PORT" --json-dir "$JSON_DIR")
echo "# MX1 127.0.0.1:25, MX2 127.0.0.10:25, tempfail 127.0.0.1:2526, LMDB 127.0.0.1:2527; redis 127.0.0.1:$REDIS_PORT"

# running NAME - the milter NAME is still there
running() {
	check "policy-milter $1 still running" "$(kill -0 "${PM_PID[$1]:-0}" 2>/dev/null && echo running || echo gone)" running
}

# ---- policy-milter -n ----------------------------------------------------------
if want check; then
	ok "policy-milter -n accepts the suite's four policies (redis accept, redis tempfail, lmdb)"
	for bad in "$HERE"/broken/*.conf; do
		want_line=$(grep -n 'ERROR HERE' "$bad" | head -n 1 | cut -d: -f1)
		out=$("$MILTER_BIN" -n -c "$bad" 2>&1)
		rc=$?
		if [ "$rc" != 0 ] && printf '%s\n' "$out" | grep -q "$bad:$want_line\b"; then
			ok "policy-milter -n $(basename "$bad"): exit $rc, names $bad:$want_line: $(printf '%s\n' "$out" | grep "$bad:$want_line" | head -n 1 | sed "s|$HERE/||")"
		else
			notok "policy-milter -n $(basename "$bad"): got exit $rc, \"$(printf '%s' "$out" | head -n 3 | tr '\n' ' ')\", want non-zero naming $bad:$want_line"
		fi
	done
fi

# ---- greylisting -------------------------------------------------------------------
if want greylist; then
	"${STATEC[@]}" greylist || failed=1
	# the LMDB milter restarted: the triplet it let through is still known
	pm_stop lm
	check "LMDB milter: exit 0 on SIGTERM" "$?" 0
	if pm_start lm; then
		"${STATEC[@]}" greylist-restart || failed=1
	else
		notok "LMDB milter: did not start again (see lm.log)"
	fi
fi

# ---- rate limits ---------------------------------------------------------------------
if want ratelimit; then
	"${STATEC[@]}" ratelimit || failed=1
fi
if want concurrent; then
	"${STATEC[@]}" concurrent || failed=1
fi

# ---- Redis stopped in the middle of a run -----------------------------------------
if want outage; then
	"${STATEC[@]}" outage --redis-sh "$HERE/redis.sh" --redis-dir "$REDIS_DIR" --redis-args "${REDIS_ARGS[*]}" ||
		failed=1
	for n in mx1 tf; do
		unav=$(grep -c "state store redis 127.0.0.1:$REDIS_PORT unavailable" "$E2E_DIR/$n.log")
		back=$(grep -c "state store redis 127.0.0.1:$REDIS_PORT back after [0-9]* s; [0-9]* operations failed" "$E2E_DIR/$n.log")
		check "outage: milter $n logged the outage once and its end once (with the failed operations)" \
			"$unav $back" "1 1"
	done
	running mx1
	running tf
fi

# ---- Redis answering slowly ----------------------------------------------------------
if want slow; then
	"${STATEC[@]}" slow || failed=1
	running mx1
	running tf
fi

# ---- LMDB deleted and corrupted at start -------------------------------------------------
if want lmdb; then
	pm_stop lm
	rm -f "$LMDB_PATH" "$LMDB_PATH-lock"
	if pm_start lm; then
		check "lmdb: the file deleted before a start is recreated" "$([ -s "$LMDB_PATH" ] && echo there || echo missing)" there
		"${STATEC[@]}" lmdb-fresh --tag deleted || failed=1
	else
		notok "lmdb: the milter did not start with its LMDB file deleted: $(tail -n 3 "$E2E_DIR/lm.log" | tr '\n' '|')"
	fi
	pm_stop lm
	head -c 65536 /dev/urandom >"$LMDB_PATH"
	chown policy-milter:policy-milter "$LMDB_PATH"
	rm -f "$LMDB_PATH-lock"
	if pm_start lm; then
		bad=$(find "$LMDB_DIR" -name 'state.lmdb.bad-*' | head -n 1)
		check "lmdb: a corrupted file is renamed aside (state.lmdb.bad-YYYYmmddTHHMMSSZ)" \
			"$(basename "${bad:-none}" | sed 's/[0-9]\{8\}T[0-9]\{6\}Z$/DATE/')" "state.lmdb.bad-DATE"
		check "lmdb: the error is logged naming the file put aside" \
			"$([ -n "$bad" ] && grep -c "$LMDB_PATH.*$bad" "$E2E_DIR/lm.log" | awk '{print ($1 > 0) ? "logged" : "missing"}')" logged
		"${STATEC[@]}" lmdb-fresh --tag corrupted || failed=1
	else
		notok "lmdb: the milter did not start over a corrupted LMDB file: $(tail -n 3 "$E2E_DIR/lm.log" | tr '\n' '|')"
	fi
	running lm
fi

# ---- the JSON decision logs ------------------------------------------------------------------
# every line of the four milters' logs parses, and policy-milter-report reads
# every record (the greylist and ratelimit entries included) as well formed
if ls "$JSON_DIR"/*.json >/dev/null 2>&1; then
	got=$("$PYTHON" - "$JSON_DIR"/*.json <<-'PY'
		import json, sys
		n = bad = 0
		for f in sys.argv[1:]:
		    for line in open(f, encoding="utf-8", errors="replace"):
		        n += 1
		        try:
		            json.loads(line)
		        except ValueError:
		            bad += 1
		print(n, bad)
	PY
	)
	lines=${got% *}
	check "JSON decision logs: every line parses ($lines records)" "${got#* }" 0
	if out=$("$E2E_TOP/src/policy-milter-report" --json "$JSON_DIR"/*.json 2>&1); then
		check "policy-milter-report reads every record of the JSON decision logs, none malformed" \
			"$(printf '%s' "$out" | "$PYTHON" -c 'import json, sys; r = json.load(sys.stdin); print(r["records"]["read"], r["malformed"]["lines"])' 2>&1)" \
			"$lines 0"
	else
		notok "policy-milter-report over the JSON decision logs: $out"
	fi
fi

# ---- the end -------------------------------------------------------------------------------
for n in mx1 mx2 tf lm; do
	pm_stop "$n"
	check "policy-milter $n exits 0 on SIGTERM at the end" "$?" 0
done
reports=$(cat "$E2E_DIR"/{mx1,mx2,tf,lm}.log | grep -cE 'ERROR: AddressSanitizer|ERROR: LeakSanitizer|runtime error:')
check "no sanitizer report in the milters' logs" "$reports" 0
exit $failed
