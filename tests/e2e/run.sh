#!/bin/bash
# NAME
#	run.sh - policy-milter end-to-end tests on a real Postfix
# SYNOPSIS
#	tests/e2e/run.sh [scenario-file...]	(make e2e; part of make check)
# DESCRIPTION
#	Builds a private mail world in new namespaces (see lib.sh): nsd with
#	the zones in zones/ and fresh DKIM keys (keys.sh), a silent DNS
#	server for timeouts, Postfix on 127.0.0.1:25 and [::1]:25 with
#	smtpd_milters pointing at policy-milter, which runs with policy.conf,
#	and on 127.0.0.1:2525 without any milter. Then:
#	  - the signing harness self-check: every key record is served as
#	    keys.sh made it, and scenarios/selfcheck/*.scn sign messages the
#	    way the DKIM scenarios do, send them through port 2525 and have
#	    Mail::DKIM and dkimpy verify them as sent and as delivered; a
#	    failure here is the harness's (exit 2), not the milter's;
#	  - every scenario in scenarios/*.scn (see README), 4 at a time;
#	  - scenarios/concurrent/*.scn all at once (20 sessions that meet at a
#	    barrier after HELO, so the milter really holds 20 connections);
#	  - policy-milter -n on broken policy files (exit 1, file:line);
#	  - reloads with SIGUSR1: a good new file takes effect for new
#	    sessions while a session opened before finishes under the old
#	    policy; a broken file keeps the policy in force;
#	  - dmarc.quarantine = "hold" (reloaded): a p=quarantine message is
#	    accepted and lands in Postfix's hold queue, not in the mailbox;
#	  - dmarc.mode = "tag" (reloaded): several From fields and a p=reject
#	    fail are delivered, tagged, and logged as "would".
#	Prints one "ok - NAME" or "not ok - NAME: got X, want Y" line per
#	check. Environment: E2E_KEEP=1 keeps the work directory; E2E_JOBS sets
#	the parallelism of the main scenarios.
# DIAGNOSTICS
#	Exit 0 when every check passed, 1 when one failed, 2 when the world
#	could not be built or the signing self-check failed. As non-root: "SKIPPED: ..." and exit 0, unless
#	CI=true (then exit 1). On failure the Postfix maillog and the
#	milter's log are printed.

set -u

HERE=$(cd "$(dirname "$0")" && pwd)
# shellcheck source=tests/e2e/lib.sh
. "$HERE/lib.sh"

if [ -z "${E2E_INNER:-}" ]; then
	if [ "$(id -u)" != 0 ]; then
		echo "SKIPPED: end-to-end tests need root (unshare, nsd, postfix)"
		[ "${CI:-}" = true ] && exit 1
		exit 0
	fi
	for tool in unshare ip nsd postfix swaks dig perl gcc openssl dkimverify; do
		command -v "$tool" >/dev/null || {
			echo "e2e: $tool not found (run make deps)" >&2
			exit 2
		}
	done
	e2e_build_tools
	E2E_DIR=$(mktemp -d /tmp/pm-e2e.XXXXXX)
	chmod 0755 "$E2E_DIR"
	export E2E_DIR
	# shellcheck disable=SC2064 # expand now
	trap "[ -n \"\${E2E_KEEP:-}\" ] || rm -rf '$E2E_DIR'" EXIT
	E2E_INNER=1 unshare -n -m -p --fork --mount-proc --propagation private bash "$0" "$@"
	rc=$?
	if [ "$rc" != 0 ]; then
		echo "---- Postfix maillog ($E2E_DIR/maillog) ----"
		tail -n 200 "$E2E_DIR/maillog" 2>/dev/null
		echo "---- policy-milter log ($E2E_DIR/milter.log) ----"
		tail -n 200 "$E2E_DIR/milter.log" 2>/dev/null
		echo "---- nsd log ----"
		tail -n 20 "$E2E_DIR/nsd.log" 2>/dev/null
	fi
	[ -n "${E2E_KEEP:-}" ] && echo "e2e: work directory kept: $E2E_DIR"
	exit "$rc"
fi

# ---- inside the namespaces ----------------------------------------------

trap ns_teardown EXIT
trap 'exit 2' INT TERM

ns_setup
nsd_start
postfix_setup
# The milter reads a copy: the reload test rewrites it.
live=$E2E_DIR/live-policy.conf
cp "$HERE/policy.conf" "$live"
[ -n "${E2E_NO_MILTER:-}" ] || milter_start "$live"
postfix_start

RUNNER="perl $HERE/scenario.pl --maildir $E2E_DIR/mail/mail --work $E2E_DIR --keys $E2E_DIR/keys"
failed=0

# check - print one TAP-ish line for a shell-level check: check NAME GOT WANT
check() {
	if [ "$2" = "$3" ]; then
		echo "ok - $1"
	else
		echo "not ok - $1: got $2, want $3"
		failed=1
	fi
}

# keys_served - every signing domain serves every key record exactly as keys.sh made it
keys_served() {
	local d sel rec got bad=0
	while read -r d; do
		while read -r sel rec; do
			# dig prints the strings quoted and apart: join them
			got=$(dig +short +time=2 +tries=1 @127.0.0.1 TXT "$sel._domainkey.$d" | sed 's/" "//g; s/"//g')
			if [ "$got" != "$rec" ]; then
				echo "not ok - signing harness self-check: $sel._domainkey.$d TXT: got \"$got\", want \"$rec\""
				bad=1
			fi
		done <"$E2E_DIR/keys/records.txt"
		got=$(dig +short +time=2 +tries=1 @127.0.0.1 TXT "nokey._domainkey.$d")
		if [ -n "$got" ]; then
			echo "not ok - signing harness self-check: nokey._domainkey.$d TXT: got \"$got\", want nothing"
			bad=1
		fi
	done <"$E2E_DIR/keys/domains.txt"
	[ "$bad" = 0 ] && echo "ok - signing harness self-check: every DKIM key record served as made ($(wc -l <"$E2E_DIR/keys/domains.txt") domains)"
	return $bad
}

# 0. The signing harness self-check: without it a broken signer would look
# like a broken milter. It runs before anything else, even for single files.
if ! keys_served || ! $RUNNER -j "${E2E_JOBS:-4}" "$HERE"/scenarios/selfcheck/*.scn; then
	echo "not ok - signing harness self-check failed: a harness failure, not the milter's; nothing else run"
	exit 2
fi

if [ $# -gt 0 ]; then
	$RUNNER -j "${E2E_JOBS:-4}" "$@" || failed=1
	exit $failed
fi

# 1. The scenarios, a few at a time.
$RUNNER -j "${E2E_JOBS:-4}" "$HERE"/scenarios/*.scn || failed=1

# 2. Twenty concurrent sessions, each from its own address.
rm -rf "$E2E_DIR/barrier"
$RUNNER -j 100 "$HERE"/scenarios/concurrent/*.scn || failed=1

# 3. policy-milter -n: the test policy is fine, broken ones name file:line.
out=$("$MILTER_BIN" -n -c "$HERE/policy.conf" 2>&1)
check "policy-milter -n accepts the test policy" "$?" 0
for bad in "$HERE"/broken/*.conf; do
	want_line=$(grep -n 'ERROR HERE' "$bad" | head -n 1 | cut -d: -f1)
	out=$("$MILTER_BIN" -n -c "$bad" 2>&1)
	rc=$?
	check "policy-milter -n $(basename "$bad") exits 1" "$rc" 1
	if printf '%s\n' "$out" | grep -q "$bad:$want_line"; then
		echo "ok - policy-milter -n $(basename "$bad") names $bad:$want_line"
	else
		echo "not ok - policy-milter -n $(basename "$bad") names file:line: got \"$(printf '%s' "$out" | head -n 3 | tr '\n' ' ')\", want $bad:$want_line"
		failed=1
	fi
done

# 4. Reload (SIGUSR1) with a good new file, while a session opened before it runs.
rm -f "$E2E_DIR/old-ready" "$E2E_DIR/reloaded"
$RUNNER "$HERE/reload/before-old-session.scn" >"$E2E_DIR/old-session.out" 2>&1 &
old=$!
if wait_for 100 "[ -e $E2E_DIR/old-ready ]"; then
	sed 's/softfail = "accept";/softfail = "reject";/' "$HERE/policy.conf" >"$live.new"
	mv "$live.new" "$live"
	kill -USR1 "$MILTER_PID"
	wait_for 100 "grep -q 'reloaded policy generation 2' $E2E_DIR/milter.log" ||
		echo "e2e: no 'reloaded policy generation 2' in milter.log (going on)"
	$RUNNER "$HERE/reload/after-good-reload.scn" || failed=1
	touch "$E2E_DIR/reloaded"
	wait "$old" || failed=1
	cat "$E2E_DIR/old-session.out"
	# A broken file: the policy in force (softfail rejected) stays.
	cp "$HERE/broken/unknown-key.conf" "$live"
	kill -USR1 "$MILTER_PID"
	wait_for 100 "grep -q 'keeping policy generation 2' $E2E_DIR/milter.log" ||
		echo "e2e: no 'keeping policy generation 2' in milter.log (going on)"
	check "policy-milter still running after a broken reload" \
		"$(kill -0 "$MILTER_PID" 2>/dev/null && echo running || echo gone)" running
	$RUNNER "$HERE/reload/after-broken-reload.scn" || failed=1
else
	echo "not ok - reload: the session opened before the reload never got ready"
	kill "$old" 2>/dev/null
	cat "$E2E_DIR/old-session.out"
	failed=1
fi

# reload_milter - SIGUSR1 and wait until the milter logs one more successful reload
reload_milter() {
	local n
	n=$(grep -c 'reloaded policy generation' "$E2E_DIR/milter.log")
	kill -USR1 "$MILTER_PID"
	wait_for 100 "[ \$(grep -c 'reloaded policy generation' $E2E_DIR/milter.log) -gt $n ]"
}

# 5. dmarc.quarantine = "hold": a p=quarantine message gets 250 at end of
# data, is not delivered, and waits in Postfix's hold queue.
if grep -q 'quarantine = "tag";' "$HERE/policy.conf"; then
	sed 's/quarantine = "tag";/quarantine = "hold";/' "$HERE/policy.conf" >"$live.new"
	mv "$live.new" "$live"
	if reload_milter; then
		$RUNNER "$HERE/scenarios/hold/dmarc-quarantine-hold.scn" || failed=1
		held=$(postqueue -j 2>/dev/null | grep '"queue_name": *"hold"' |
			grep -c '"sender": *"holdcheck@pass.test"')
		check "quarantine = \"hold\": the p=quarantine message is in Postfix's hold queue" "$held" 1
	else
		echo "not ok - quarantine = \"hold\": the milter did not reload the policy"
		failed=1
	fi
	cp "$HERE/policy.conf" "$live"
	reload_milter || echo "e2e: the milter did not reload the test policy (going on)"
else
	echo "not ok - quarantine = \"hold\": tests/e2e/policy.conf has no line 'quarantine = \"tag\";' to rewrite"
	failed=1
fi

# 6. dmarc.mode = "tag": what enforce refuses is delivered, tagged in the
# Authentication-Results header, and logged as what would have been sent.
perl -0pe 's/mode = "enforce";\n  quarantine = "tag";/mode = "tag";\n  quarantine = "tag";/' \
	"$HERE/policy.conf" >"$live.new"
if ! cmp -s "$HERE/policy.conf" "$live.new"; then
	mv "$live.new" "$live"
	if reload_milter; then
		$RUNNER "$HERE"/scenarios/tagmode/*.scn || failed=1
		n=$(grep -c 'would=yes reply="550 5.7.26 .*check=dmarc reason=dmarc_reject' \
			"$E2E_DIR/milter.log")
		check "dmarc.mode = \"tag\": the log says 550 5.7.26 would have been sent" "$n" 1
	else
		echo "not ok - dmarc.mode = \"tag\": the milter did not reload the policy"
		failed=1
	fi
	cp "$HERE/policy.conf" "$live"
	reload_milter || echo "e2e: the milter did not reload the test policy (going on)"
else
	rm -f "$live.new"
	echo "not ok - dmarc.mode = \"tag\": tests/e2e/policy.conf has no dmarc group to rewrite"
	failed=1
fi

# 7. SIGTERM: the milter exits 0.
milter_stop
check "policy-milter exits 0 on SIGTERM" "$?" 0
# With MILTER_BIN a sanitizer build (make check's e2e-asan suite), any report lands here.
reports=$(grep -cE 'ERROR: AddressSanitizer|ERROR: LeakSanitizer|runtime error:' "$E2E_DIR/milter.log")
check "no sanitizer report in the milter's log" "$reports" 0

exit $failed
