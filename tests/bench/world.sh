# shellcheck shell=bash
# shellcheck disable=SC2153 # MILTER_BIN, MILTER_SOCKET, E2E_*: set by tests/e2e/lib.sh
# NAME
#	world.sh - the benchmark's additions to the end-to-end mail world
# SYNOPSIS
#	. tests/e2e/lib.sh; . tests/bench/world.sh
#	ns_setup; bench_nsd_start; unbound_start; bench_postfix_setup; postfix_start
#	pm_start CONF; pl_start CONF; od_start; nm_start; rs_start; ...; ns_teardown
# DESCRIPTION
#	On top of lib.sh (private namespaces, a private Postfix), inside the
#	namespaces:
#
#	bench_nsd_start: nsd on 127.0.0.1 serving the benchmark's zones
#	(tests/bench/zones: example.com the author domain, p=reject and the
#	DKIM keys; example.net the envelope domain and the clients' names;
#	example.org the receiving side; the clients' PTR records; com, net
#	and org empty, so that the DMARC tree walk's _dmarc.com and the like
#	get NXDOMAIN), with
#	fresh DKIM keys from tests/e2e/keys.sh whose rsa2048 and ed25519
#	records go into the work copy of example.com.zone, and fresh keys of
#	two ARC sealers, lists.example.net (arc, RSA 2048) and fwd.example.net
#	(arc, Ed25519; tests/arc/mkchain.pl keys) whose records go into
#	example.net.zone. Not the e2e zones:
#	they are all below test., which libunbound (inside OpenDKIM) answers
#	itself as one of its built-in local zones (NXDOMAIN), whatever it is
#	told to forward.
#
#	unbound_start: an unbound caching resolver on 192.0.2.53, with a
#	stub zone for every zone nsd serves (stub-addr 127.0.0.1), no DNSSEC
#	validation (module-config "iterator"), one thread with 8 MiB socket
#	buffers (with the default ones, bursts of queries from 200 milter
#	sessions overflow its receive buffer: a dropped query costs the
#	milter a 5 s resolver timeout, which is not what is measured here);
#	/etc/resolv.conf (lib.sh's bind-mounted copy, rewritten in place)
#	then names only 192.0.2.53, so every DNS client (Postfix, the milters, libspf2,
#	Mail::DKIM) goes through the cache, as on a real mail host. (Not a
#	127/8 address: libunbound never forwards to one unless a
#	configuration file says so, and OpenDKIM 2.11 crashes under
#	concurrent load when given one: ResolverConfiguration.)
#
#	bench_postfix_setup: lib.sh's postfix_setup, then no milter in
#	main.cf, mail to example.org discarded (virtual_transport = discard:
#	nothing is written but the queue file), no limit on connections per
#	client, and six listeners on 192.0.2.25 that differ only in their
#	milters (master.cf -o smtpd_milters):
#	    2525  none                          syslog_name postfix/none
#	    2526  policy-milter                 syslog_name postfix/pm
#	    2527  OpenDKIM, then OpenDMARC      syslog_name postfix/od
#	    2528  nullmilter                    syslog_name postfix/nm
#	    2529  rspamd (proxy, milter mode)   syslog_name postfix/rs
#	    2530  policy-milter, like-for-like  syslog_name postfix/pl
#
#	pm_start CONF: policy-milter -c CONF in the foreground of a
#	background job, without -f (it logs to syslog only, like OpenDKIM and
#	OpenDMARC; nothing listens on /dev/log in the namespace, so no
#	daemon pays for a log reader); its stderr goes to milter.log.
#	BENCH_MILTER_LOG=1 adds -f (every decision in milter.log).
#
#	pl_start CONF: a second policy-milter (setup pl) with policy file
#	CONF, whose socket is PL_SOCKET and pid file /run/policy-milter/pl.pid
#	(pl_conf in run.sh writes it); PL_PID. Its stderr goes to
#	milter-pl.log.
#
#	od_start: OpenDKIM (Mode v: verify only) and OpenDMARC (SPF by its own
#	validation through libspf2, RejectFailures true, the OpenDKIM
#	results read from the Authentication-Results header OpenDKIM adds
#	under the same authserv-id), each as its own user, with sockets below
#	/var/spool/postfix; configurations and logs in the work directory.
#
#	nm_start: the benchmark's null milter (tests/bench/nullmilter.c,
#	built into build/bench/bin by run.sh): it negotiates what
#	policy-milter does, does nothing, accepts everything and adds one
#	short header at end of message; NM_PID. It runs as root (it reads
#	nothing and needs no privilege; its socket is mode 0666 below
#	/var/spool/postfix); its stderr goes to nullmilter.log.
#
#	rs_start: rspamd 3.4 (Debian's package) as a new user sets it up for
#	a milter: Debian's /etc/rspamd/rspamd.conf unchanged, with
#	LOCAL_CONFDIR, DBDIR, RUNDIR and LOGDIR (--var) in the work directory
#	(rspamd/), whose local.d holds the changes: every module of
#	modules.d off (enabled = false) but spf, dkim (verification), dmarc
#	(actions { reject = "reject"; }: a p=reject failure is refused) and
#	milter_headers (use = ["authentication-results"]: the header every
#	other setup adds); no Redis (the modules that need it are off, the
#	Bayes classifier finds none); actions greylist and add_header off
#	(reject stays at its default 15 points: no good class comes near);
#	one normal worker (count = 1); the controller off; the proxy in
#	milter mode (Debian's default) on RS_SOCKET, in front of the normal
#	worker on localhost:11333 (the default upstream: not self_scan); DNS
#	through unbound ($BENCH_DNS). Run as _rspamd (-u, -g), pid file in
#	the work directory; RS_PID is the main process, rs_pids lists it and
#	its children (the proxy, the normal worker, the hyperscan helper).
#
#	Process figures (for a list of pids): proc_cpu_ticks (utime+stime of
#	every thread, /proc/PID/stat, in clock ticks), proc_hwm_kb (VmHWM,
#	the peak resident set, summed), proc_rss_kb (VmRSS, summed),
#	proc_reset_hwm (writes 5 to /proc/PID/clear_refs: the peak starts
#	again from the current resident set), proc_pss_kb (the sum of Pss
#	in /proc/PID/smaps_rollup: each shared page divided among the
#	processes that map it).

BENCH_DNS=192.0.2.53
BENCH_ZONES=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)/zones
BENCH_SERVER=192.0.2.25
PM_SOCKET=$MILTER_SOCKET
OD_DKIM_SOCKET=/var/spool/postfix/opendkim/opendkim.sock
OD_DMARC_SOCKET=/var/spool/postfix/opendmarc/opendmarc.sock
NM_SOCKET=/var/spool/postfix/nullmilter/nullmilter.sock
NM_BIN=${NM_BIN:-$E2E_TOP/build/bench/bin/nullmilter}
RS_SOCKET=/var/spool/postfix/rspamd/rspamd.sock
PL_SOCKET=/var/spool/postfix/policy-milter/pl.sock
NM_PID=
PM_PID=
PL_PID=
OD_PIDS=
RS_PID=

# bench_nsd_start - fresh DKIM keys; nsd on 127.0.0.1 serving tests/bench/zones with them
bench_nsd_start() {
	local zdir=$E2E_DIR/zones sel rec
	mkdir -p "$zdir"
	cp "$BENCH_ZONES"/*.zone "$zdir/" || die "cannot copy the zones"
	"$E2E_SRC/keys.sh" "$E2E_DIR/keys" >/dev/null || die "cannot make the DKIM keys (keys.sh)"
	# keys.sh's records.txt: "SELECTOR TEXT" a line; a TXT string holds at most 255 bytes
	while read -r sel rec; do
		case $sel in rsa2048 | ed25519) ;; *) continue ;; esac
		printf '%s._domainkey\tTXT\t%s\n' "$sel" \
			"$(printf '%s' "$rec" | fold -b -w 255 | sed 's/.*/"&"/' | tr '\n' ' ')"
	done <"$E2E_DIR/keys/records.txt" >>"$zdir/example.com.zone"
	grep -q '^ed25519._domainkey' "$zdir/example.com.zone" || die "no DKIM key records from keys.sh"
	# The ARC sealers of the arc2 messages (issue 15): keys of two forwarders
	# below example.net (tests/arc/mkchain.pl), their records in that zone
	perl "$E2E_TOP/tests/arc/mkchain.pl" keys "$E2E_DIR/arckeys" \
		lists.example.net:arc:rsa fwd.example.net:arc:ed25519 >/dev/null ||
		die "cannot make the ARC sealers' keys (tests/arc/mkchain.pl)"
	while read -r name rec; do
		printf '%s.\tTXT\t%s\n' "$name" \
			"$(printf '%s' "$rec" | fold -b -w 255 | sed 's/.*/"&"/' | tr '\n' ' ')"
	done <"$E2E_DIR/arckeys/keys.txt" >>"$zdir/example.net.zone"
	# mkchain.pl's own DNS (its keys file) also knows the author's key, so that
	# each sealer's ARC-Authentication-Results says dkim=pass as it would
	sed -n 's/^rsa2048 /rsa2048._domainkey.example.com /p' "$E2E_DIR/keys/records.txt" >>"$E2E_DIR/arckeys/keys.txt"
	nsd_serve "$zdir" example.com.
}

# unbound_start - a caching resolver on 192.0.2.53 in front of nsd; resolv.conf points at it
unbound_start() {
	local d=$E2E_DIR/unbound z name
	mkdir -p "$d"
	cat >"$d/unbound.conf" <<-EOF
		server:
		    interface: $BENCH_DNS
		    port: 53
		    do-ip6: no
		    username: ""
		    chroot: ""
		    directory: "$d"
		    pidfile: "$d/unbound.pid"
		    logfile: "$E2E_DIR/unbound.log"
		    use-syslog: no
		    verbosity: 1
		    num-threads: 1
		    so-rcvbuf: 8m
		    so-sndbuf: 8m
		    module-config: "iterator"
		    do-not-query-localhost: no
		    access-control: 127.0.0.0/8 allow
		    access-control: 192.0.2.0/24 allow
	EOF
	# BENCH_DNS_LOG=1: every query in unbound.log (for debugging)
	[ -n "${BENCH_DNS_LOG:-}" ] && echo "    log-queries: yes" >>"$d/unbound.conf"
	# Every zone nsd serves: not one of unbound's built-in local zones
	# (2.0.192.in-addr.arpa is one), and asked of nsd.
	for z in "$E2E_DIR"/zones/*.zone; do
		name=$(basename "$z" .zone)
		printf '    local-zone: "%s." nodefault\n' "$name" >>"$d/unbound.conf"
	done
	for z in "$E2E_DIR"/zones/*.zone; do
		name=$(basename "$z" .zone)
		printf 'stub-zone:\n    name: "%s."\n    stub-addr: 127.0.0.1@53\n' "$name" >>"$d/unbound.conf"
	done
	printf 'remote-control:\n    control-enable: no\n' >>"$d/unbound.conf"
	unbound-checkconf "$d/unbound.conf" >/dev/null || die "unbound.conf invalid: $(unbound-checkconf "$d/unbound.conf" 2>&1)"
	unbound -c "$d/unbound.conf" || die "unbound did not start (see $E2E_DIR/unbound.log)"
	wait_for 50 "dig +time=1 +tries=1 @$BENCH_DNS TXT _dmarc.example.com | grep -q 'status: NOERROR'" ||
		die "unbound does not answer for the test zones"
	# lib.sh bind-mounted its copy over /etc/resolv.conf: rewrite it in place.
	cat >"$E2E_DIR/resolv.conf" <<-EOF
		nameserver $BENCH_DNS
	EOF
	wait_for 20 "dig +time=1 +tries=1 TXT example.net | grep -q 'SERVER: $BENCH_DNS'" ||
		die "resolv.conf does not lead to unbound"
}

# bench_postfix_setup - lib.sh's Postfix, then six listeners differing only in their milters
bench_postfix_setup() {
	postfix_setup
	postconf -c /etc/postfix -e \
		'smtpd_milters =' \
		'virtual_transport = discard' \
		'smtpd_client_connection_count_limit = 0' \
		'smtpd_client_message_rate_limit = 0' \
		'smtpd_client_recipient_rate_limit = 0' ||
		die "postconf failed"
	cat >>/etc/postfix/master.cf <<-EOF
		# The benchmark's six setups (tests/bench/world.sh).
		$BENCH_SERVER:2525 inet n - n - - smtpd
		  -o smtpd_milters=
		  -o syslog_name=postfix/none
		$BENCH_SERVER:2526 inet n - n - - smtpd
		  -o smtpd_milters=unix:$PM_SOCKET
		  -o syslog_name=postfix/pm
		$BENCH_SERVER:2527 inet n - n - - smtpd
		  -o smtpd_milters=unix:$OD_DKIM_SOCKET,unix:$OD_DMARC_SOCKET
		  -o syslog_name=postfix/od
		$BENCH_SERVER:2528 inet n - n - - smtpd
		  -o smtpd_milters=unix:$NM_SOCKET
		  -o syslog_name=postfix/nm
		$BENCH_SERVER:2529 inet n - n - - smtpd
		  -o smtpd_milters=unix:$RS_SOCKET
		  -o syslog_name=postfix/rs
		$BENCH_SERVER:2530 inet n - n - - smtpd
		  -o smtpd_milters=unix:$PL_SOCKET
		  -o syslog_name=postfix/pl
	EOF
}

# pm_start CONF - policy-milter with policy file CONF; PM_PID
pm_start() {
	local conf=$1 f=
	[ -x "$MILTER_BIN" ] || die "$MILTER_BIN not built"
	[ -n "${BENCH_MILTER_LOG:-}" ] && f=-f
	rm -f "$PM_SOCKET"
	# shellcheck disable=SC2086 # $f: one option or none
	"$MILTER_BIN" $f -c "$conf" >>"$E2E_DIR/milter.log" 2>&1 &
	PM_PID=$!
	# shellcheck disable=SC2034 # lib.sh's milter_stop (and ns_teardown) stop it
	MILTER_PID=$PM_PID
	wait_for 100 "[ -S $PM_SOCKET ]" || {
		kill "$PM_PID" 2>/dev/null
		die "policy-milter did not create $PM_SOCKET (see milter.log: $(tail -n 5 "$E2E_DIR/milter.log"))"
	}
}

# pm_stop - SIGTERM policy-milter and wait for it
pm_stop() {
	milter_stop || true
	PM_PID=
}

# pl_start CONF - the like-for-like policy-milter (setup pl), socket PL_SOCKET; PL_PID
pl_start() {
	local conf=$1 f=
	[ -n "${BENCH_MILTER_LOG:-}" ] && f=-f
	rm -f "$PL_SOCKET"
	# shellcheck disable=SC2086 # $f: one option or none
	"$MILTER_BIN" $f -c "$conf" >>"$E2E_DIR/milter-pl.log" 2>&1 &
	PL_PID=$!
	wait_for 100 "[ -S $PL_SOCKET ]" || {
		kill "$PL_PID" 2>/dev/null
		die "policy-milter (pl) did not create $PL_SOCKET (see milter-pl.log: $(tail -n 5 "$E2E_DIR/milter-pl.log"))"
	}
}

# od_start - OpenDKIM (verify) and OpenDMARC (SPF, DMARC, rejects); OD_PIDS
od_start() {
	local d=$E2E_DIR/od
	mkdir -p "$d" /run/opendkim /run/opendmarc
	chown opendkim:opendkim /run/opendkim
	chown opendmarc:opendmarc /run/opendmarc
	install -d -o opendkim -g opendkim -m 0755 "$(dirname "$OD_DKIM_SOCKET")"
	install -d -o opendmarc -g opendmarc -m 0755 "$(dirname "$OD_DMARC_SOCKET")"
	cat >"$d/opendkim.conf" <<-EOF
		# OpenDKIM for the benchmark: verify only, the decisions left to OpenDMARC.
		Mode                 v
		Socket               local:$OD_DKIM_SOCKET
		UMask                0111
		PidFile              /run/opendkim/opendkim.pid
		UserID               opendkim:opendkim
		AuthservID           mx.example.org
		Nameservers          $BENCH_DNS
		MinimumKeyBits       1024
		AlwaysAddARHeader    yes
		Syslog               yes
	EOF
	cat >"$d/opendmarc.conf" <<-EOF
		# OpenDMARC for the benchmark: SPF by its own validation, DMARC with
		# OpenDKIM's results, failures of p=reject refused.
		Socket               local:$OD_DMARC_SOCKET
		UMask                0111
		PidFile              /run/opendmarc/opendmarc.pid
		UserID               opendmarc:opendmarc
		AuthservID           mx.example.org
		TrustedAuthservIDs   mx.example.org
		PublicSuffixList     /usr/share/publicsuffix/public_suffix_list.dat
		SPFSelfValidate      true
		SPFIgnoreResults     true
		RejectFailures       true
		IgnoreAuthenticatedClients true
		RequiredHeaders      false
		FailureReports       false
		Syslog               true
	EOF
	rm -f "$OD_DKIM_SOCKET" "$OD_DMARC_SOCKET"
	opendkim -x "$d/opendkim.conf" >>"$E2E_DIR/opendkim.log" 2>&1 ||
		die "opendkim did not start: $(tail -n 5 "$E2E_DIR/opendkim.log")"
	opendmarc -c "$d/opendmarc.conf" >>"$E2E_DIR/opendmarc.log" 2>&1 ||
		die "opendmarc did not start: $(tail -n 5 "$E2E_DIR/opendmarc.log")"
	wait_for 100 "[ -S $OD_DKIM_SOCKET ] && [ -S $OD_DMARC_SOCKET ] && [ -s /run/opendkim/opendkim.pid ] && [ -s /run/opendmarc/opendmarc.pid ]" ||
		die "OpenDKIM or OpenDMARC did not create its socket or pid file"
	# shellcheck disable=SC2034 # used by run.sh
	OD_PIDS="$(cat /run/opendkim/opendkim.pid) $(cat /run/opendmarc/opendmarc.pid)"
}

# nm_start - the null milter (nullmilter.c); NM_PID
nm_start() {
	[ -x "$NM_BIN" ] || die "$NM_BIN not built"
	install -d -m 0755 "$(dirname "$NM_SOCKET")"
	rm -f "$NM_SOCKET"
	"$NM_BIN" -p "unix:$NM_SOCKET" >>"$E2E_DIR/nullmilter.log" 2>&1 &
	NM_PID=$!
	wait_for 100 "[ -S $NM_SOCKET ]" || {
		kill "$NM_PID" 2>/dev/null
		die "nullmilter did not create $NM_SOCKET (see nullmilter.log: $(tail -n 5 "$E2E_DIR/nullmilter.log"))"
	}
}

# rs_start - rspamd: proxy in milter mode in front of one normal worker; SPF, DKIM, DMARC only; RS_PID
rs_start() {
	local d=$E2E_DIR/rspamd f n
	local vars=(--var="LOCAL_CONFDIR=$d" --var="DBDIR=$d/db" --var="RUNDIR=$d/run" --var="LOGDIR=$d")
	mkdir -p "$d/local.d"
	install -d -o _rspamd -g _rspamd -m 0755 "$d/db" "$d/run" "$(dirname "$RS_SOCKET")"
	chown _rspamd:_rspamd "$d" # its log file
	# every module off but SPF, DKIM, DMARC and the header of the results
	for f in /etc/rspamd/modules.d/*.conf; do
		n=$(basename "$f" .conf)
		case $n in spf | dkim | dmarc | milter_headers) continue ;; esac
		echo 'enabled = false;' >"$d/local.d/$n.conf"
	done
	echo 'actions { reject = "reject"; }' >"$d/local.d/dmarc.conf"
	echo 'use = ["authentication-results"];' >"$d/local.d/milter_headers.conf"
	printf 'greylist = null;\nadd_header = null;\n' >"$d/local.d/actions.conf"
	echo 'count = 1;' >"$d/local.d/worker-normal.inc"
	echo 'enabled = false;' >"$d/local.d/worker-controller.inc"
	echo "bind_socket = \"$RS_SOCKET mode=0666\";" >"$d/local.d/worker-proxy.inc"
	echo "dns { nameserver = [\"$BENCH_DNS\"]; }" >"$d/local.d/options.inc"
	rspamadm "${vars[@]}" configtest -q -c /etc/rspamd/rspamd.conf >"$E2E_DIR/rspamd-configtest.log" 2>&1 ||
		die "rspamadm configtest refuses the rspamd configuration: $(tail -n 5 "$E2E_DIR/rspamd-configtest.log")"
	rm -f "$RS_SOCKET"
	rspamd "${vars[@]}" -c /etc/rspamd/rspamd.conf -u _rspamd -g _rspamd -p "$d/run/rspamd.pid" \
		>>"$E2E_DIR/rspamd.out" 2>&1 || die "rspamd did not start: $(tail -n 5 "$E2E_DIR/rspamd.out" "$d/rspamd.log")"
	wait_for 600 "[ -S $RS_SOCKET ] && [ -s $d/run/rspamd.pid ]" ||
		die "rspamd did not create $RS_SOCKET (see rspamd/rspamd.log: $(tail -n 5 "$d/rspamd.log"))"
	RS_PID=$(cat "$d/run/rspamd.pid")
}

# rs_pids - rspamd's main process and its children (proxy, normal worker, helpers)
rs_pids() {
	# shellcheck disable=SC2046 # one word per pid
	echo "$RS_PID" $(pgrep -P "$RS_PID")
}

# proc_cpu_ticks PID... - utime + stime of the processes (every thread, live or gone), in clock ticks
proc_cpu_ticks() {
	local pid sum=0 stat f
	for pid in "$@"; do
		stat=$(cat "/proc/$pid/stat" 2>/dev/null) || return 1
		# after "(comm) " come state (field 3) ... utime (14) and stime (15)
		read -r -a f <<<"${stat##*) }"
		sum=$((sum + f[11] + f[12]))
	done
	echo "$sum"
}

# proc_status_kb FIELD PID... - the sum of FIELD (VmHWM, VmRSS) of the processes, in kB
proc_status_kb() {
	local field=$1 pid sum=0 v
	shift
	for pid in "$@"; do
		v=$(awk -v f="$field:" '$1 == f { print $2 }' "/proc/$pid/status" 2>/dev/null)
		[ -n "$v" ] || return 1
		sum=$((sum + v))
	done
	echo "$sum"
}

proc_hwm_kb() { proc_status_kb VmHWM "$@"; }

# proc_pss_kb PID... - the sum of Pss (smaps_rollup) of the processes, in kB
proc_pss_kb() {
	local pid sum=0 v
	for pid in "$@"; do
		v=$(awk '$1 == "Pss:" { print $2; exit }' "/proc/$pid/smaps_rollup" 2>/dev/null)
		[ -n "$v" ] || return 1
		sum=$((sum + v))
	done
	echo "$sum"
}
proc_rss_kb() { proc_status_kb VmRSS "$@"; }

# proc_reset_hwm PID... - let the peak resident set start again from now
proc_reset_hwm() {
	local pid
	for pid in "$@"; do
		echo 5 >"/proc/$pid/clear_refs" || return 1
	done
}
