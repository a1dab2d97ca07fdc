# shellcheck shell=bash
# NAME
#	lib.sh - a private mail world for the end-to-end tests and the demo
# SYNOPSIS
#	. tests/e2e/lib.sh
#	ns_reexec PREFIX KEEPVAR INNERVAR "$0" "$@"	(outside: re-run inside unshare)
#	ns_setup; nsd_start; postfix_setup; milter_start CONF; postfix_start; ...; ns_teardown
# DESCRIPTION
#	Everything happens inside a private network, mount and pid namespace
#	(unshare -n -m -p): nothing on the host changes and nothing leaks.
#	The loopback interface gets the documentation prefixes (192.0.2.0/24,
#	198.51.100.0/24, 203.0.113.0/24, 2001:db8::/32) as local routes, so
#	a client may connect from any address in them (SPF passes every
#	127/8 client: the tests never use those). Bind mounts put private
#	copies over /etc/resolv.conf, /etc/passwd, /etc/group, /etc/postfix,
#	/var/spool/postfix, /var/lib/postfix, and a tmpfs over /run.
#
#	DNS: nsd on 127.0.0.1 serves tests/e2e/zones/*.zone; silentdns on
#	127.0.0.2 never answers (but for "dead.example MX", see silentdns.c),
#	so a name outside those zones (nsd says REFUSED, the stub resolver
#	asks the next server) times out. nsd reads a work copy of the zones:
#	keys.sh makes fresh DKIM keys in $E2E_DIR/keys and their records are
#	appended to the copy of test.zone; each name in zones/servfail.list
#	becomes a secondary zone whose primary (silentdns) never answers, so
#	it never has data and nsd answers SERVFAIL for it (then
#	silentdns times out: a lookup that fails temporarily, even with
#	EDNS0, where a delegation to nowhere would look like "no data").
#
#	The work directory $E2E_DIR (made by the caller outside the
#	namespace) holds every log: maillog, milter.log, nsd.log.
# DIAGNOSTICS
#	die() prints "e2e: ..." on stderr and exits 2.

E2E_SRC=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
E2E_TOP=$(cd "$E2E_SRC/../.." && pwd)
E2E_BUILD=$E2E_TOP/build/e2e
MILTER_BIN=${MILTER_BIN:-$E2E_TOP/src/policy-milter}
MILTER_SOCKET=/var/spool/postfix/policy-milter/policy-milter.sock
VMAIL_UID=5000
MILTER_PID=

# die - report a set-up failure and stop
die() {
	echo "e2e: $*" >&2
	exit 2
}

# e2e_build_tools - compile the silent DNS server (outside the namespace)
e2e_build_tools() {
	mkdir -p "$E2E_BUILD"
	if [ ! -x "$E2E_BUILD/silentdns" ] || [ "$E2E_SRC/silentdns.c" -nt "$E2E_BUILD/silentdns" ]; then
		gcc -std=gnu11 -O2 -Wall -Wextra -Werror -o "$E2E_BUILD/silentdns" "$E2E_SRC/silentdns.c" ||
			die "cannot compile silentdns.c"
	fi
}

# ns_reexec PREFIX KEEPVAR INNERVAR SCRIPT ARGS... - from outside the
# namespaces: make the work directory E2E_DIR (/tmp/PREFIX.XXXXXX,
# exported, removed at exit unless the variable named KEEPVAR is set), run
# SCRIPT ARGS again inside fresh network, mount and pid namespaces with
# INNERVAR=1 in its environment, and return its exit status
ns_reexec() {
	local prefix=$1 keep=$2 inner=$3
	shift 3
	E2E_DIR=$(mktemp -d "/tmp/$prefix.XXXXXX") || die "cannot make a work directory"
	chmod 0755 "$E2E_DIR"
	export E2E_DIR
	# shellcheck disable=SC2064 # expand now
	trap "[ -n \"\${$keep:-}\" ] || rm -rf '$E2E_DIR'" EXIT
	env "$inner=1" unshare -n -m -p --fork --mount-proc --propagation private bash "$@"
}

# e2e_show_logs LINES [TITLE FILE]... - after a failed run (outside the
# namespace): the last LINES lines of the Postfix maillog and the milter's
# log in $E2E_DIR, then of each extra FILE under its TITLE
e2e_show_logs() {
	local n=$1
	shift
	echo "---- Postfix maillog ($E2E_DIR/maillog) ----"
	tail -n "$n" "$E2E_DIR/maillog" 2>/dev/null
	echo "---- policy-milter log ($E2E_DIR/milter.log) ----"
	tail -n "$n" "$E2E_DIR/milter.log" 2>/dev/null
	while [ $# -ge 2 ]; do
		echo "---- $1 ----"
		tail -n "$n" "$2" 2>/dev/null
		shift 2
	done
}

# wait_for - poll CMD (a string for eval) up to N tenths of a second
wait_for() {
	local n=$1
	shift
	while [ "$n" -gt 0 ]; do
		if eval "$*" >/dev/null 2>&1; then
			return 0
		fi
		sleep 0.1
		n=$((n - 1))
	done
	return 1
}

# ns_setup - loopback, addresses, private /etc files, resolv.conf
ns_setup() {
	[ -n "${E2E_DIR:-}" ] || die "E2E_DIR not set"
	ip link set lo up || die "ip link set lo up failed"
	local p
	for p in 192.0.2.0/24 198.51.100.0/24 203.0.113.0/24; do
		ip route add local "$p" dev lo || die "ip route add local $p failed"
	done
	ip addr add 127.0.0.2/8 dev lo 2>/dev/null || true
	ip -6 addr add 2001:db8::1/128 dev lo nodad || die "ip -6 addr add failed"
	ip -6 route add local 2001:db8::/32 dev lo || die "ip -6 route add local failed"
	# IPv6 binds to an address of a local route only with this (namespace-private) switch.
	sysctl -q -w net.ipv6.ip_nonlocal_bind=1 || die "sysctl net.ipv6.ip_nonlocal_bind failed"

	mount -t tmpfs -o mode=0755 tmpfs /run || die "mount /run failed"

	# resolv.conf: nsd first, the silent server second; short timeouts.
	cat >"$E2E_DIR/resolv.conf" <<-EOF
		nameserver 127.0.0.1
		nameserver 127.0.0.2
		options timeout:2 attempts:1
	EOF
	if [ -L /etc/resolv.conf ]; then
		local t
		t=$(readlink -f /etc/resolv.conf)
		mkdir -p "$(dirname "$t")" && touch "$t"
	fi
	mount --bind "$E2E_DIR/resolv.conf" /etc/resolv.conf || die "bind resolv.conf failed"
	printf '127.0.0.1\tlocalhost %s\n::1\tlocalhost ip6-localhost\n127.0.0.1\tmx.example.org\n' "$(hostname)" \
		>"$E2E_DIR/hosts"
	mount --bind "$E2E_DIR/hosts" /etc/hosts || die "bind hosts failed"

	# Users: policy-milter (the daemon drops to it) and a mailbox owner.
	cp /etc/passwd "$E2E_DIR/passwd"
	cp /etc/group "$E2E_DIR/group"
	getent passwd policy-milter >/dev/null ||
		echo "policy-milter:x:5001:5001:policy-milter:/nonexistent:/usr/sbin/nologin" >>"$E2E_DIR/passwd"
	getent group policy-milter >/dev/null || echo "policy-milter:x:5001:" >>"$E2E_DIR/group"
	echo "vmail:x:$VMAIL_UID:$VMAIL_UID:vmail:/nonexistent:/usr/sbin/nologin" >>"$E2E_DIR/passwd"
	echo "vmail:x:$VMAIL_UID:" >>"$E2E_DIR/group"
	# postfix (smtpd) reaches the milter socket through the policy-milter group.
	sed -i 's/^\(policy-milter:x:[0-9]*:\)$/\1postfix/' "$E2E_DIR/group"
	mount --bind "$E2E_DIR/passwd" /etc/passwd || die "bind passwd failed"
	mount --bind "$E2E_DIR/group" /etc/group || die "bind group failed"
	mkdir -p /run/policy-milter
	chown policy-milter:policy-milter /run/policy-milter
}

# nsd_start - make the DKIM keys, serve the test zones on 127.0.0.1, start the silent server on 127.0.0.2
nsd_start() {
	local zdir=$E2E_DIR/zones
	mkdir -p "$zdir"
	cp "$E2E_SRC"/zones/*.zone "$zdir/" || die "cannot copy the zones"
	"$E2E_SRC/keys.sh" "$E2E_DIR/keys" || die "cannot make the DKIM keys (keys.sh)"
	cat "$E2E_DIR/keys/dkim-records.zone" >>"$zdir/test.zone" || die "cannot add the DKIM key records"
	"$E2E_BUILD/silentdns" 127.0.0.2 53 &
	nsd_serve "$zdir" test. "$E2E_SRC/zones/servfail.list"
}

# nsd_serve ZDIR SOA_NAME [SERVFAIL_LIST] - nsd on 127.0.0.1:53 serving every
# ZDIR/*.zone (config, pid and state in $E2E_DIR/nsd, log $E2E_DIR/nsd.log);
# each name in SERVFAIL_LIST becomes a secondary zone whose primary
# (silentdns on 127.0.0.2) never answers: never loaded, nsd answers
# SERVFAIL for every name in it. Waits until SOA_NAME answers, and dies
# unless every zone file loaded cleanly (a bad generated key record would
# show here) and the log has no error.
nsd_serve() {
	local zdir=$1 soa=$2 servfail=${3:-} d=$E2E_DIR/nsd z name
	mkdir -p "$d"
	cat >"$d/nsd.conf" <<-EOF
		server:
		    ip-address: 127.0.0.1
		    port: 53
		    username: ""
		    chroot: ""
		    zonesdir: "$zdir"
		    pidfile: "$d/nsd.pid"
		    xfrdfile: "$d/xfrd.state"
		    xfrdir: "$d"
		    zonelistfile: "$d/zone.list"
		    database: ""
		    logfile: "$E2E_DIR/nsd.log"
		    server-count: 1
		    verbosity: 1
		    hide-version: yes
		    rrl-ratelimit: 0
		    refuse-any: no
		remote-control:
		    control-enable: no
	EOF
	for z in "$zdir"/*.zone; do
		name=$(basename "$z" .zone)
		printf 'zone:\n    name: "%s"\n    zonefile: "%s"\n' "$name" "$(basename "$z")" >>"$d/nsd.conf"
	done
	if [ -n "$servfail" ] && [ -f "$servfail" ]; then
		sed -e 's/[;#].*//' -e 's/[[:space:]]//g' -e '/^$/d' "$servfail" |
			while read -r name; do
				printf 'zone:\n    name: "%s"\n    request-xfr: 127.0.0.2 NOKEY\n' "$name"
			done >>"$d/nsd.conf"
	fi
	nsd-checkconf "$d/nsd.conf" || die "nsd.conf invalid"
	nsd -c "$d/nsd.conf" || die "nsd did not start (see $E2E_DIR/nsd.log)"
	wait_for 50 "dig +time=1 +tries=1 @127.0.0.1 SOA $soa | grep -q 'status: NOERROR'" ||
		die "nsd does not answer"
	for z in "$zdir"/*.zone; do
		name=$(basename "$z" .zone)
		grep -q "zone $name read with success" "$E2E_DIR/nsd.log" ||
			die "nsd did not load zone $name cleanly: $(grep -E 'error|warning' "$E2E_DIR/nsd.log" | head -n 5)"
	done
	! grep -q 'error:' "$E2E_DIR/nsd.log" ||
		die "nsd logged errors: $(grep 'error:' "$E2E_DIR/nsd.log" | head -n 5)"
}

# postfix_setup - a private Postfix configuration and spool (127.0.0.1 and [::1], no chroot)
postfix_setup() {
	local etc=$E2E_DIR/etc-postfix spool=$E2E_DIR/spool lib=$E2E_DIR/lib-postfix
	mkdir -p "$etc" "$spool" "$lib" "$E2E_DIR/mail"
	cp -a /etc/postfix/. "$etc/"
	rm -f "$etc/main.cf" "$etc/master.cf" "$etc"/*.db "$etc"/*.lmdb
	chown "$VMAIL_UID:$VMAIL_UID" "$E2E_DIR/mail"
	chown postfix:postfix "$lib"
	: >"$E2E_DIR/maillog"
	cat >"$etc/main.cf" <<-EOF
		# Private Postfix for the policy-milter end-to-end tests.
		compatibility_level = 3.6
		myhostname = mx.example.org
		mydomain = example.org
		myorigin = \$myhostname
		mydestination =
		inet_interfaces = 127.0.0.1, [::1]
		inet_protocols = all
		mynetworks = 127.0.0.0/8 [::1]/128
		# Clients on our own lo would otherwise get their headers rewritten.
		local_header_rewrite_clients =
		smtpd_banner = \$myhostname ESMTP
		biff = no
		append_dot_mydomain = no
		readme_directory = no
		alias_maps =
		alias_database =
		local_recipient_maps =
		relayhost =
		# Nothing leaves this world.
		default_transport = discard
		relay_transport = discard
		notify_classes =
		# Postfix itself accepts every recipient: policy-milter must refuse.
		virtual_mailbox_domains = example.org example.net ov.example.net
		virtual_mailbox_maps = static:mail/
		virtual_mailbox_base = $E2E_DIR/mail
		virtual_uid_maps = static:$VMAIL_UID
		virtual_gid_maps = static:$VMAIL_UID
		virtual_minimum_uid = 100
		smtpd_relay_restrictions = permit_mynetworks, check_client_access static:OK, reject_unauth_destination
		smtpd_recipient_restrictions =
		smtpd_helo_required = no
		smtpd_error_sleep_time = 0
		smtpd_soft_error_limit = 100
		smtpd_hard_error_limit = 200
		smtpd_junk_command_limit = 1000
		smtpd_client_connection_rate_limit = 0
		smtpd_tls_security_level = none
		smtputf8_enable = no
		in_flow_delay = 0
		smtpd_milters = unix:$MILTER_SOCKET
		milter_default_action = tempfail
		milter_protocol = 6
		milter_connect_timeout = 10s
		milter_command_timeout = 30s
		maillog_file = $E2E_DIR/maillog
		maillog_file_prefixes = /var, /dev/stdout, $E2E_DIR
		# SMTP AUTH (sasl_setup): the milter sees {auth_authen}.
		smtpd_sasl_auth_enable = yes
		smtpd_sasl_type = cyrus
		smtpd_sasl_path = smtpd
		cyrus_sasl_config_path = $E2E_DIR/sasl/plugins
		# with Postfix's own library search path too (Debian: /etc/postfix/sasl)
		smtpd_sasl_security_options = noanonymous
	EOF
	cat >"$etc/master.cf" <<-'EOF'
		# service type  private unpriv  chroot  wakeup  maxproc command
		smtp      inet  n       -       n       -       -       smtpd
		pickup    unix  n       -       n       60      1       pickup
		cleanup   unix  n       -       n       -       0       cleanup
		qmgr      unix  n       -       n       300     1       qmgr
		rewrite   unix  -       -       n       -       -       trivial-rewrite
		bounce    unix  -       -       n       -       0       bounce
		defer     unix  -       -       n       -       0       bounce
		trace     unix  -       -       n       -       0       bounce
		verify    unix  -       -       n       -       1       verify
		flush     unix  n       -       n       1000?   0       flush
		proxymap  unix  -       -       n       -       -       proxymap
		proxywrite unix -       -       n       -       1       proxymap
		smtp      unix  -       -       n       -       -       smtp
		relay     unix  -       -       n       -       -       smtp
		showq     unix  n       -       n       -       -       showq
		error     unix  -       -       n       -       -       error
		retry     unix  -       -       n       -       -       error
		discard   unix  -       -       n       -       -       discard
		local     unix  -       n       n       -       -       local
		virtual   unix  -       n       n       -       -       virtual
		anvil     unix  -       -       n       -       1       anvil
		scache    unix  -       -       n       -       1       scache
		postlog   unix-dgram n  -       n       -       1       postlogd
		# No milter here: the signing self-check sends through it (run.sh).
		127.0.0.1:2525 inet n   -       n       -       -       smtpd
		  -o smtpd_milters=
		  -o syslog_name=postfix/nomilter
	EOF
	if [ -n "${E2E_NO_MILTER:-}" ]; then
		sed -i '/^smtpd_milters/d' "$etc/main.cf"
	fi
	if [ "${E2E_MTA:-postfix}" = sendmail ]; then
		# Sendmail takes port 25 (with the milter); Postfix only delivers
		# what Sendmail relays to it on 127.0.0.1:2525.
		sed -i -e '/^smtpd_milters/d' -e 's/^inet_interfaces = .*/inet_interfaces = 127.0.0.1/' "$etc/main.cf"
		sed -i '/^smtp      inet/d' "$etc/master.cf"
	fi
	mount --bind "$etc" /etc/postfix || die "bind /etc/postfix failed"
	mount --bind "$spool" /var/spool/postfix || die "bind /var/spool/postfix failed"
	mount --bind "$lib" /var/lib/postfix || die "bind /var/lib/postfix failed"
	mkdir -p /var/spool/postfix/policy-milter
	chown policy-milter:policy-milter /var/spool/postfix/policy-milter
	chmod 0750 /var/spool/postfix/policy-milter
	sasl_setup
}

# postfix_start - start the private Postfix and wait for its banner
postfix_start() {
	postfix check >>"$E2E_DIR/postfix-start.log" 2>&1 || die "postfix check failed: $(cat "$E2E_DIR/postfix-start.log")"
	postfix start >>"$E2E_DIR/postfix-start.log" 2>&1 || die "postfix start failed: $(cat "$E2E_DIR/postfix-start.log")"
	local port=25
	[ "${E2E_MTA:-postfix}" = sendmail ] && port=2525
	wait_for 100 "smtp_ping 127.0.0.1 $port" || die "postfix does not listen on 127.0.0.1:$port"
}

# smtp_ping - true when an SMTP server answers 220 at ADDR port PORT (default 25; then QUIT)
smtp_ping() {
	(
		exec 3<>"/dev/tcp/$1/${2:-25}" || exit 1
		read -r -t 5 banner <&3 || exit 1
		printf 'QUIT\r\n' >&3
		read -r -t 5 _ <&3
		case $banner in 220*) exit 0 ;; *) exit 1 ;; esac
	)
}

# milter_start - run policy-milter -f with policy file CONF (extra args after it); wait for its socket
milter_start() {
	local conf=$1
	shift
	[ -x "$MILTER_BIN" ] || die "$MILTER_BIN not built"
	rm -f "$MILTER_SOCKET"
	"$MILTER_BIN" -f -c "$conf" "$@" >>"$E2E_DIR/milter.log" 2>&1 &
	MILTER_PID=$!
	wait_for 100 "[ -S $MILTER_SOCKET ]" || {
		kill "$MILTER_PID" 2>/dev/null
		die "policy-milter did not create $MILTER_SOCKET (see milter.log)"
	}
}

# reload_milter - SIGUSR1 and wait until the milter logs one more successful reload
reload_milter() {
	local n
	n=$(grep -c 'reloaded policy generation' "$E2E_DIR/milter.log")
	kill -USR1 "$MILTER_PID"
	wait_for 100 "[ \$(grep -c 'reloaded policy generation' $E2E_DIR/milter.log) -gt $n ]"
}

# singletons_modes - headers.singletons = "enforce", "log" and "off" in
# turn (the live policy rewritten from policy.conf and reloaded), each
# running scenarios/singletons/MODE/*.scn; then the log mode's "would"
# record and the off mode's silence are checked, and policy.conf is
# loaded again. Uses the caller's HERE, live, RUNNER and check(); sets
# failed=1 on a failure.
singletons_modes() {
	local mode n
	for mode in enforce log off; do
		sed "s/singletons = \"tag\";/singletons = \"$mode\";/" "$HERE/policy.conf" >"$live.new"
		if cmp -s "$HERE/policy.conf" "$live.new"; then
			rm -f "$live.new"
			echo "not ok - headers.singletons: tests/e2e/policy.conf has no line 'singletons = \"tag\";'"
			failed=1
			return
		fi
		mv "$live.new" "$live"
		if reload_milter; then
			$RUNNER "$HERE"/scenarios/singletons/$mode/*.scn || failed=1
		else
			echo "not ok - headers.singletons = \"$mode\": the milter did not reload the policy"
			failed=1
		fi
	done
	cp "$HERE/policy.conf" "$live"
	reload_milter || echo "e2e: the milter did not reload the test policy (going on)"
	n=$(grep -c 'client=192\.0\.2\.178 .*would=yes reply="550 5\.7\.1 Message rejected: the Subject header field must not occur more than once (RFC 5322 section 3\.6)" check=headers reason=header_repeated rule=headers\.singletons=log detail=Subject$' "$E2E_DIR/milter.log")
	check "headers.singletons = \"log\": the log says 550 5.7.1 would have been sent, naming Subject" "$n" 1
	n=$(grep -c 'client=192\.0\.2\.179 .*check=headers' "$E2E_DIR/milter.log")
	check "headers.singletons = \"off\": nothing logged for the repeated Subject" "$n" 0
}

# milter_stop - SIGTERM the milter and wait; returns its exit status
milter_stop() {
	local rc=0
	if [ -n "$MILTER_PID" ] && kill -0 "$MILTER_PID" 2>/dev/null; then
		kill -TERM "$MILTER_PID"
		wait "$MILTER_PID" || rc=$?
	fi
	MILTER_PID=
	return $rc
}

# sendmail_fetch - outside the namespace: Debian's Sendmail 8.17 unpacked
# beside Postfix in build/sendmail/root (apt-get download + dpkg -x; the
# packages conflict with postfix as installed packages, so they are never
# installed). Kept between runs; fetched again when missing.
sendmail_fetch() {
	local d=$E2E_TOP/build/sendmail p
	SENDMAIL_ROOT=$d/root
	if [ -x "$SENDMAIL_ROOT/usr/libexec/sendmail/sendmail" ] && [ -f "$SENDMAIL_ROOT/usr/share/sendmail/cf/m4/cf.m4" ]; then
		return 0
	fi
	rm -rf "$d"
	mkdir -p "$d/debs" || die "cannot make $d"
	# (with fresh package lists when the first try fails: a new machine may have none)
	(cd "$d/debs" && apt-get -q -o APT::Sandbox::User=root download sendmail-bin sendmail-base sendmail-cf) \
		>"$d/download.log" 2>&1 ||
		(apt-get update -qq && cd "$d/debs" &&
			apt-get -q -o APT::Sandbox::User=root download sendmail-bin sendmail-base sendmail-cf) \
			>>"$d/download.log" 2>&1 ||
		die "apt-get download sendmail-bin sendmail-base sendmail-cf failed: $(tail -n 3 "$d/download.log")"
	for p in "$d"/debs/*.deb; do
		dpkg -x "$p" "$SENDMAIL_ROOT" || die "dpkg -x $p failed"
	done
	[ -x "$SENDMAIL_ROOT/usr/libexec/sendmail/sendmail" ] || die "no sendmail binary in the unpacked packages"
}

# sendmail_setup - a private Sendmail on 127.0.0.1:25 and [::1]:25 (call
# postfix_setup first with E2E_MTA=sendmail: Postfix then listens on port
# 2525 only, and Sendmail relays every message there for delivery into the
# same Maildir). The .cf is built from $E2E_DIR/sendmail/sendmail.mc with m4
# and the unpacked sendmail-cf; queue, pid and status files live in
# $E2E_DIR/sendmail. Sendmail logs to syslog only, and the namespace has
# no /dev/log (it would land on the host's /dev): its queue ids are read
# from the Received field it adds to each delivered copy instead.
sendmail_setup() {
	local d=$E2E_DIR/sendmail cf=$SENDMAIL_ROOT/usr/share/sendmail/cf
	mkdir -p "$d/queue" "$d/etc" || die "cannot make $d"
	chmod 0700 "$d/queue"
	grep -q '^smmsp:' /etc/group || echo "smmsp:x:5002:" >>/etc/group
	grep -q '^smmsp:' /etc/passwd ||
		echo "smmsp:x:5002:5002:sendmail client:/nonexistent:/usr/sbin/nologin" >>/etc/passwd
	cp "$SENDMAIL_ROOT/etc/mail/helpfile" "$d/etc/helpfile" 2>/dev/null || : >"$d/etc/helpfile"
	: >"$d/etc/statistics"
	# Sendmail sleeps 60 s at start when the host name's canonical name is
	# unqualified ("localhost"): name this host smx.example.org first (the
	# same inode: /etc/hosts is a bind mount of this file).
	printf '127.0.0.1\tsmx.example.org %s\n%s\n' "$(hostname)" "$(cat "$E2E_DIR/hosts")" >"$d/hosts.new"
	cat "$d/hosts.new" >"$E2E_DIR/hosts"
	# Milter.macros: trimmed on purpose to none of the macros policy-milter
	# reads. It asks for its own lists in the negotiation (smfi_setsymlist),
	# so the queue id, {auth_authen}, j, {daemon_name} and {if_addr} in its
	# log (sendmail.sh checks them) prove that Sendmail honoured the request.
	cat >"$d/sendmail.mc" <<-EOF
		divert(-1)
		# Private Sendmail for the policy-milter end-to-end tests.
		divert(0)dnl
		include(\`$cf/m4/cf.m4')dnl
		VERSIONID(\`policy-milter e2e')dnl
		OSTYPE(\`linux')dnl
		define(\`confDOMAIN_NAME', \`smx.example.org')dnl
		define(\`confCF_VERSION', \`e2e')dnl
		define(\`QUEUE_DIR', \`$d/queue')dnl
		define(\`STATUS_FILE', \`$d/etc/statistics')dnl
		define(\`confHELP_FILE', \`$d/etc/helpfile')dnl
		define(\`confPID_FILE', \`$d/sendmail.pid')dnl
		define(\`ALIAS_FILE', \`')dnl
		define(\`confCW_FILE', \`$d/etc/local-host-names')dnl
		define(\`confDONT_PROBE_INTERFACES', \`True')dnl
		define(\`confTO_IDENT', \`0')dnl
		define(\`confTO_CONNECT', \`10s')dnl
		define(\`confQUEUE_LA', \`100')dnl
		define(\`confREFUSE_LA', \`200')dnl
		define(\`confDELAY_LA', \`0')dnl
		define(\`confMAX_DAEMON_CHILDREN', \`0')dnl
		define(\`confCONNECTION_RATE_THROTTLE', \`0')dnl
		define(\`confBAD_RCPT_THROTTLE', \`0')dnl
		define(\`confPRIVACY_FLAGS', \`authwarnings,noexpn,novrfy')dnl
		define(\`confDELIVERY_MODE', \`background')dnl
		define(\`confLOG_LEVEL', \`14')dnl
		define(\`SMART_HOST', \`relay:[127.0.0.1]')dnl
		define(\`RELAY_MAILER_ARGS', \`TCP \$h 2525')dnl
		define(\`ESMTP_MAILER_ARGS', \`TCP \$h 2525')dnl
		define(\`confMILTER_MACROS_CONNECT', \`_')dnl
		define(\`confMILTER_MACROS_HELO', \`{cipher}')dnl
		define(\`confMILTER_MACROS_ENVFROM', \`{mail_addr}')dnl
		define(\`confMILTER_MACROS_ENVRCPT', \`{rcpt_addr}')dnl
		define(\`confMILTER_MACROS_EOM', \`{msg_id}')dnl
		define(\`confAUTH_MECHANISMS', \`PLAIN LOGIN')dnl
		TRUST_AUTH_MECH(\`PLAIN LOGIN')dnl
		FEATURE(\`nocanonify')dnl
		FEATURE(\`accept_unresolvable_domains')dnl
		FEATURE(\`promiscuous_relay')dnl
		DAEMON_OPTIONS(\`Port=25, Addr=127.0.0.1, Name=MTA')dnl
		DAEMON_OPTIONS(\`Port=25, Addr=::1, Name=MTA-v6, Family=inet6')dnl
		INPUT_MAIL_FILTER(\`policy-milter', \`S=unix:$MILTER_SOCKET, F=T, T=C:10s;S:30s;R:60s;E:5m')dnl
		MAILER(\`smtp')dnl
	EOF
	: >"$d/etc/local-host-names"
	m4 "$d/sendmail.mc" >"$d/sendmail.cf" 2>"$d/m4.log" || die "m4 sendmail.mc failed: $(cat "$d/m4.log")"
	[ -s "$d/sendmail.cf" ] || die "m4 made an empty sendmail.cf: $(cat "$d/m4.log")"
}

# sasl_setup - SMTP AUTH for the MTAs: Cyrus SASL with a private sasldb
# ($E2E_DIR/sasl/sasldb2) holding alice (password "e2e-secret") in the
# realms smx.example.org (Sendmail) and mx.example.org (Postfix). libsasl2
# reads Sendmail.conf from its plugin directory: a copy of that directory
# with the file added is bind-mounted over it (namespace only).
SASL_PLUGINS=/usr/lib/x86_64-linux-gnu/sasl2
sasl_setup() {
	local d=$E2E_DIR/sasl realm
	mkdir -p "$d/plugins" || die "cannot make $d"
	for realm in smx.example.org mx.example.org; do
		echo e2e-secret | saslpasswd2 -c -p -f "$d/sasldb2" -u "$realm" alice ||
			die "saslpasswd2 failed"
	done
	chgrp postfix "$d/sasldb2" && chmod 0640 "$d/sasldb2"
	cp -a "$SASL_PLUGINS/." "$d/plugins/" || die "cannot copy $SASL_PLUGINS"
	printf 'pwcheck_method: auxprop\nauxprop_plugin: sasldb\nmech_list: PLAIN LOGIN\nsasldb_path: %s\n' \
		"$d/sasldb2" | tee "$d/plugins/Sendmail.conf" >"$d/plugins/smtpd.conf"
	mount --bind "$d/plugins" "$SASL_PLUGINS" || die "bind $SASL_PLUGINS failed"
	mkdir -p "$E2E_DIR/etc-postfix/sasl" && cp "$d/plugins/smtpd.conf" "$E2E_DIR/etc-postfix/sasl/smtpd.conf"
}

# sendmail_start - start the private Sendmail daemon and wait for its banner
sendmail_start() {
	local d=$E2E_DIR/sendmail
	"$SENDMAIL_ROOT/usr/libexec/sendmail/sendmail" -bd -q30m -C "$d/sendmail.cf" \
		>>"$d/start.log" 2>&1 || die "sendmail did not start: $(cat "$d/start.log")"
	wait_for 150 "smtp_ping 127.0.0.1" || die "sendmail does not listen on 127.0.0.1:25: $(cat "$d/start.log")"
}

# ns_teardown - stop everything this world started (the pid namespace reaps the rest)
ns_teardown() {
	milter_stop || true
	postfix stop >/dev/null 2>&1 || true
	if [ -f "$E2E_DIR/sendmail/sendmail.pid" ]; then
		kill "$(head -n 1 "$E2E_DIR/sendmail/sendmail.pid")" 2>/dev/null || true
	fi
	if [ -f "$E2E_DIR/nsd/nsd.pid" ]; then
		kill "$(cat "$E2E_DIR/nsd/nsd.pid")" 2>/dev/null || true
	fi
	jobs -p | xargs -r kill 2>/dev/null || true
}
