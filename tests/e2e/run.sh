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
#	    fail are delivered, tagged, and logged as "would";
#	  - the allow and block lists (lists/*.txt copied to
#	    /run/policy-milter/lists/, scenarios/lists-*.scn): a list file
#	    rewritten while the milter runs is re-read by the next session;
#	  - ARC (arc-*.scn sealed at test time): the decision lines of the
#	    trusted sealer's rescue and of chains that rescue nothing;
#	    arc.mode = "enforce" (reloaded, scenarios/arcenforce/): a failed
#	    chain 550 5.7.29, a key lookup failed for now 451 4.4.3; arc.mode
#	    = "log" (reloaded, scenarios/arclog/): nothing applied, "would";
#	  - dry_run = true (reloaded): mail refused otherwise (SPF fail at MAIL
#	    FROM, DMARC p=reject, a blocked sender, client_block, an unknown
#	    recipient) is delivered, and the log says what would have been
#	    sent (would=yes dry_run=yes, the reply);
#	  - the JSON decision log (log.json_file): made by the milter user,
#	    mode 0640; rotated after the scenarios (rename, then the SIGUSR1
#	    of the reload test reopens it); -n refuses a relative path; a file
#	    the milter user cannot open stops the start; the tag mode reload
#	    names another file, and a reload naming one that cannot be opened
#	    keeps the one in use; at the end every line of every file is
#	    parsed (python3 json): valid JSON, the schema's keys in order, one
#	    record per syslog decision line, and known scenarios field by
#	    field (DMARC p=reject, SPF fail at MAIL FROM, dkim=pass accepted,
#	    unknown recipient, three recipients, a tag mode "would").
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
	ns_reexec pm-e2e E2E_KEEP E2E_INNER "$0" "$@"
	rc=$?
	[ "$rc" = 0 ] || e2e_show_logs 200 "nsd log" "$E2E_DIR/nsd.log"
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
# The list files the policy names (lists.*_file), readable by the milter user.
LISTS=/run/policy-milter/lists
mkdir -p "$LISTS"
cp "$HERE"/lists/*.txt "$LISTS/"
chmod 0755 "$LISTS"
chmod 0644 "$LISTS"/*.txt
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

# 2. The recipient exemptions: what was delivered to an exempt recipient is
# logged as what would have been sent, reason exempt_recipient.
exempt_logged() {
	check "exempt recipient: the log says $1 would have been sent" \
		"$(grep -c "stage=$3 client=$2 .*would=yes reply=\"$4.*reason=exempt_recipient" "$E2E_DIR/milter.log")" 1
}
exempt_logged "550 5.7.23 (SPF fail, to postmaster)" 192.0.2.231 rcpt "550 5.7.23 SPF validation failed"
exempt_logged "550 5.7.26 (DMARC p=reject, to abuse)" 192.0.2.233 eom "550 5.7.26 Unauthenticated email from reject.test"

# 2. The overrides per domain: what a log-mode override let through is
# logged as what would have been sent, with the override as the rule.
check "override: the log says 550 5.7.26 would have been sent to ov.example.net" \
	"$(grep -c 'stage=eom client=192.0.2.236 .*would=yes reply="550 5.7.26 .*rule=overrides.for_recipient_domain=ov.example.net' "$E2E_DIR/milter.log")" 1
check "override: the SPF fail refused for ov.example.net names the override" \
	"$(grep -c 'stage=rcpt client=192.0.2.239 .*reply="550 5.7.23 .*rule=overrides.for_recipient_domain=ov.example.net' "$E2E_DIR/milter.log")" 1

# 2. ARC (arc-*.scn): the decision line names the chain's sets, and the
# trusted sealer whose rescue applied; an untrusted sealer and a forged seal
# rescue nothing; a message without ARC fields says arc=none (no arc_sets=).
arc_logged() {
	check "ARC: the decision line of $1" \
		"$(grep -c "stage=eom client=$2 .*$3" "$E2E_DIR/milter.log")" 1
}
arc_logged "the trusted list's rescue names the sealer" 192.0.2.70 \
	' dmarc=fail dmarc_policy=reject dmarc_dis=none dmarc_pdomain=arcauthor\.test dmarc_override=trusted_forwarder arc=pass arc_sets=1:trusted-list\.test arc_sealer=trusted-list\.test arc_instance=1 arc_override=applied action=accept check=dmarc reason=arc_override rule=arc\.trusted_sealers$'
arc_logged "two hops: both sets, the oldest trusted sealer's rescue" 192.0.2.72 \
	' arc=pass arc_sets=1:trusted-list\.test,2:untrusted-list\.test arc_sealer=trusted-list\.test arc_instance=1 arc_override=applied action=accept check=dmarc reason=arc_override '
arc_logged "an untrusted sealer: arc=pass, no rescue, 550 5.7.26" 192.0.2.73 \
	' dmarc_dis=reject dmarc_pdomain=arcauthor\.test arc=pass arc_sets=1:untrusted-list\.test action=reject reply="550 5.7.26 '
arc_logged "a forged seal: arc=fail, no rescue, 550 5.7.26" 192.0.2.74 \
	' arc=fail arc_sets=1:trusted-list\.test action=reject reply="550 5.7.26 .* reason=dmarc_reject '
arc_logged "an AAR for another author: no rescue" 192.0.2.77 \
	' arc=pass arc_sets=1:trusted-list\.test action=reject reply="550 5.7.26 '
arc_logged "no ARC fields: arc=none" 192.0.2.76 \
	' dmarc=pass dmarc_policy=reject dmarc_dis=none dmarc_pdomain=arcauthor\.test arc=none action=accept$'
check "ARC: the forged seal's failure is logged with its reason" \
	"$(grep -c ': arc=fail i=1: i=1 AMS: signature does not verify$' "$E2E_DIR/milter.log")" 1

# 2a. A list file rewritten while the milter runs: the next session that
# needs it (at most a second after the change) reads it again.
$RUNNER "$HERE/lists/reread-helo-before.scn" || failed=1
echo "reread-helo.test" >>"$LISTS/helo-block.txt"
sleep 1.1
$RUNNER "$HERE/lists/reread-helo.scn" || failed=1

# 2b. The JSON decision log: the milter user made it, mode 0640. Rotate it
# the way logrotate does: rename it now; the SIGUSR1 of the reload test
# reopens it at its path (checked in section 8).
JSON_LOG=/run/policy-milter/decisions.json
JSON_TAG=/run/policy-milter/decisions-tag.json
JSON_DRY=/run/policy-milter/decisions-dry.json
JSON_LINE='json_file = "/run/policy-milter/decisions.json";'
check "JSON decision log: created by the milter user, mode 0640" \
	"$(stat -c '%U %a' "$JSON_LOG" 2>/dev/null)" "policy-milter 640"
mv "$JSON_LOG" "$JSON_LOG.1"

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

# 3b. log.json_file: -n refuses a relative path; a file the milter user cannot
# open (a directory only root may enter) stops the start, and it says why.
# (Its socket goes where the milter user may remove it after the drop.)
if grep -qF "$JSON_LINE" "$HERE/policy.conf"; then
	sed "s|$JSON_LINE|json_file = \"decisions.json\";|" "$HERE/policy.conf" >"$E2E_DIR/json-relative.conf"
	out=$("$MILTER_BIN" -n -c "$E2E_DIR/json-relative.conf" 2>&1)
	rc=$?
	check "policy-milter -n refuses a relative log.json_file" \
		"$rc $(printf '%s\n' "$out" | grep -c 'log.json_file: must be an absolute path')" "1 1"
	mkdir -m 0700 "$E2E_DIR/rootonly"
	sed -e "s|$JSON_LINE|json_file = \"$E2E_DIR/rootonly/decisions.json\";|" \
		-e 's|pid_file = "[^"]*";|pid_file = "";|' "$HERE/policy.conf" >"$E2E_DIR/json-unopenable.conf"
	out=$(timeout 30 "$MILTER_BIN" -c "$E2E_DIR/json-unopenable.conf" -p "unix:/run/policy-milter/json-start.sock" 2>&1)
	rc=$?
	check "a log.json_file the milter user cannot open stops the start (exit 1, says why)" \
		"$rc $(printf '%s\n' "$out" | grep -c "cannot open the JSON decision log $E2E_DIR/rootonly/decisions.json: Permission denied.*refusing to start")" "1 1"
	check "the refused start leaves no socket and no JSON log" \
		"$([ -e "/run/policy-milter/json-start.sock" ] || [ -e "$E2E_DIR/rootonly/decisions.json" ] && echo left || echo none)" none
else
	echo "not ok - JSON decision log: tests/e2e/policy.conf has no line '$JSON_LINE'"
	failed=1
fi

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
# The JSON decision log goes to another file meanwhile (section 8 reads it).
perl -0pe 's/mode = "enforce";\n  quarantine = "tag";/mode = "tag";\n  quarantine = "tag";/' \
	"$HERE/policy.conf" >"$live.new"
if ! cmp -s "$HERE/policy.conf" "$live.new"; then
	sed -i "s|$JSON_LINE|json_file = \"$JSON_TAG\";|" "$live.new"
	mv "$live.new" "$live"
	if reload_milter; then
		$RUNNER "$HERE"/scenarios/tagmode/*.scn || failed=1
		# rule=dmarc.mode: not override-rcpt-dmarc-log.scn's "would" (an override)
		n=$(grep -c 'would=yes reply="550 5.7.26 .*check=dmarc reason=dmarc_reject rule=dmarc.mode' \
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

# reloaded_scenarios WHAT DIR - $live.new becomes the live policy (reloaded),
# DIR's scenarios run under it, then policy.conf is loaded again
reloaded_scenarios() {
	mv "$live.new" "$live"
	if reload_milter; then
		$RUNNER "$2"/*.scn || failed=1
	else
		echo "not ok - $1: the milter did not reload the policy"
		failed=1
	fi
	cp "$HERE/policy.conf" "$live"
	reload_milter || echo "e2e: the milter did not reload the test policy (going on)"
}

# 6a. recipients.delay_sender_refusals = false: the sender checks refuse at
# MAIL FROM itself again (the earliest stage; RFC 7489 10.1's deferral to
# end of message is unchanged), mail to postmaster included.
sed 's/delay_sender_refusals = true;/delay_sender_refusals = false;/' "$HERE/policy.conf" >"$live.new"
if ! cmp -s "$HERE/policy.conf" "$live.new"; then
	reloaded_scenarios "delay_sender_refusals = false" "$HERE"/scenarios/mailfrom
else
	rm -f "$live.new"
	echo "not ok - delay_sender_refusals: tests/e2e/policy.conf has no line 'delay_sender_refusals = true;'"
	failed=1
fi

# 6b. A reload naming a JSON decision log that cannot be opened: the policy is
# installed, the error logged, and the records still go to the file in use.
sed "s|$JSON_LINE|json_file = \"/nonexistent/decisions.json\";|" "$HERE/policy.conf" >"$live.new"
mv "$live.new" "$live"
if reload_milter; then
	check "reload: a JSON decision log that cannot be opened is logged, the one in use stays" \
		"$(grep -c "cannot open the JSON decision log /nonexistent/decisions.json: No such file or directory; records still go to $JSON_LOG" "$E2E_DIR/milter.log")" 1
	$RUNNER "$HERE/scenarios/recipient-mixed.scn" || failed=1
else
	echo "not ok - JSON decision log: the milter did not reload the policy"
	failed=1
fi
cp "$HERE/policy.conf" "$live"
reload_milter || echo "e2e: the milter did not reload the test policy (going on)"

# 6c. dry_run = true: what the policy refuses is delivered, the
# Authentication-Results header is added, and the log says what would have
# been sent. The JSON decision log goes to another file meanwhile.
if grep -q '^dry_run = false;' "$HERE/policy.conf"; then
	sed -e 's/^dry_run = false;/dry_run = true;/' \
		-e "s|$JSON_LINE|json_file = \"$JSON_DRY\";|" "$HERE/policy.conf" >"$live.new"
	mv "$live.new" "$live"
	if reload_milter; then
		$RUNNER "$HERE"/dryrun/*.scn || failed=1
		# dryrun_logged WHAT CLIENT STAGE REPLY: one would=yes dry_run=yes line
		dryrun_logged() {
			check "dry run: the log says $1 would have been sent" \
				"$(grep -c "stage=$3 client=$2 .*would=yes dry_run=yes reply=\"$4" "$E2E_DIR/milter.log")" 1
		}
		dryrun_logged "550 5.7.23 (SPF fail, held for RCPT)" 192.0.2.221 rcpt "550 5.7.23 SPF validation failed"
		dryrun_logged "550 5.7.26 (DMARC p=reject)" 192.0.2.222 eom "550 5.7.26 Unauthenticated email from reject.test"
		dryrun_logged "554 5.7.1 (blocked sender)" 192.0.2.223 mail "554 5.7.1 <spammer@pass.test>: Sender address rejected: blocked by local policy"
		dryrun_logged "550 5.1.1 (unknown recipient)" 192.0.2.223 rcpt "550 5.1.1 <nobody@example.org>"
		dryrun_logged "554 5.7.1 (client_block)" 203.0.113.6 connect "554 5.7.1 Client host 203.0.113.6 blocked"
	else
		echo "not ok - dry_run = true: the milter did not reload the policy"
		failed=1
	fi
	cp "$HERE/policy.conf" "$live"
	reload_milter || echo "e2e: the milter did not reload the test policy (going on)"
else
	echo "not ok - dry run: tests/e2e/policy.conf has no line 'dry_run = false;' to rewrite"
	failed=1
fi

# 6d. dmarc.mode = "off", and the override that turns DMARC on for
# ov.example.net removed: dkim.must_sign still aligns by the public suffix
# list (loaded for it), so a subdomain signed by its parent is delivered,
# not refused 550 5.7.22; another domain's signature is still refused.
# A milter started afresh with this policy, not a reload: a list loaded
# while DMARC was on must not be what makes it pass.
perl -0pe 's/mode = "enforce";\n  quarantine = "tag";/mode = "off";\n  quarantine = "tag";/; s/ dmarc = "log";//' \
	"$HERE/policy.conf" >"$live.new"
if ! grep -q 'dmarc = "log"' "$live.new" && grep -q '^  mode = "off";$' "$live.new"; then
	mv "$live.new" "$live"
	milter_stop
	check "dmarc.mode = \"off\": the milter stopped for a fresh start exits 0" "$?" 0
	milter_start "$live"
	$RUNNER "$HERE"/scenarios/dmarcoff/*.scn || failed=1
	cp "$HERE/policy.conf" "$live"
	milter_stop
	milter_start "$live"
else
	rm -f "$live.new"
	echo "not ok - dmarc.mode = \"off\": tests/e2e/policy.conf has no dmarc group or override to rewrite"
	failed=1
fi

# 6f. dmarc.discovery = "psl" (RFC 7489's way, reloaded): the public suffix
# list decides organizational domains (psd= ignored) and only the author
# domain and its organizational domain are asked (no tree walk).
perl -0pe 's/mode = "enforce";\n  quarantine = "tag";/mode = "enforce";\n  quarantine = "tag";\n  discovery = "psl";/' \
	"$HERE/policy.conf" >"$live.new"
if grep -q '^  discovery = "psl";$' "$live.new"; then
	reloaded_scenarios 'dmarc.discovery = "psl"' "$HERE"/scenarios/dmarcpsl
else
	rm -f "$live.new"
	echo "not ok - dmarc.discovery = \"psl\": tests/e2e/policy.conf has no dmarc group to rewrite"
	failed=1
fi

# 6g. arc.mode = "enforce" (reloaded): a chain that fails is refused 550
# 5.7.29 although DMARC has nothing to refuse, a sealer key lookup that
# fails for now 451 4.4.3; a good chain (trusted or not) and no chain at all
# are delivered, and the trusted list still rescues its p=reject author.
perl -0pe 's/\narc:\n\{\n  mode = "tag";/\narc:\n{\n  mode = "enforce";/' "$HERE/policy.conf" >"$live.new"
if ! cmp -s "$HERE/policy.conf" "$live.new"; then
	reloaded_scenarios 'arc.mode = "enforce"' "$HERE"/scenarios/arcenforce
	arc_logged "arc.mode enforce: the forged chain refused by the ARC check" 192.0.2.80 \
		' dmarc=none .*arc=fail arc_sets=1:trusted-list\.test action=reject reply="550 5\.7\.29 .* check=arc reason=arc_fail rule=arc\.mode=enforce'
	arc_logged "arc.mode enforce: a sealer key lookup that failed for now" 192.0.2.85 \
		' arc=temperror arc_sets=1:signed\.test action=tempfail reply="451 4\.4\.3 .* check=arc reason=arc_temperror rule=arc\.mode=enforce'
	arc_logged "arc.mode enforce: no ARC fields, arc=none, never refused" 192.0.2.83 \
		' dmarc=none .*arc=none action=accept$'
else
	rm -f "$live.new"
	echo "not ok - arc.mode = \"enforce\": tests/e2e/policy.conf has no arc group to rewrite"
	failed=1
fi

# 6h. arc.mode = "log" (reloaded): verified and logged, nothing changes: the
# rescue tag mode applies is logged as "would" and DMARC refuses as before; a
# forged chain is only logged; no arc= in Authentication-Results.
perl -0pe 's/\narc:\n\{\n  mode = "tag";/\narc:\n{\n  mode = "log";/' "$HERE/policy.conf" >"$live.new"
if ! cmp -s "$HERE/policy.conf" "$live.new"; then
	reloaded_scenarios 'arc.mode = "log"' "$HERE"/scenarios/arclog
	arc_logged "arc.mode log: the rescue that would have applied" 192.0.2.86 \
		' dmarc_dis=reject .*arc=pass arc_sets=1:trusted-list\.test arc_sealer=trusted-list\.test arc_instance=1 arc_override=would action=reject reply="550 5\.7\.26 .* reason=dmarc_reject '
	arc_logged "arc.mode log: the forged chain, what enforce would have sent" 192.0.2.88 \
		' arc=fail arc_sets=1:trusted-list\.test action=reject would=yes reply="550 5\.7\.29 .* check=arc reason=arc_fail rule=arc\.mode=log'
else
	rm -f "$live.new"
	echo "not ok - arc.mode = \"log\": tests/e2e/policy.conf has no arc group to rewrite"
	failed=1
fi

# 6e. headers.singletons = "enforce", "log", "off" (reloaded; "tag", the
# default, is headers-singletons-tag.scn): two Subject fields refused with
# 550 5.7.1 naming the field, delivered untagged and logged as would,
# delivered and not logged.
singletons_modes

# 7. SIGTERM: the milter exits 0.
milter_stop
check "policy-milter exits 0 on SIGTERM" "$?" 0
# With MILTER_BIN a sanitizer build (make check's e2e-asan suite), any report lands here.
reports=$(grep -cE 'ERROR: AddressSanitizer|ERROR: LeakSanitizer|runtime error:' "$E2E_DIR/milter.log")
check "no sanitizer report in the milter's log" "$reports" 0

# 8. The JSON decision log, every file: each line valid JSON with the schema's
# keys in order, one record per syslog decision line, and known scenarios
# field by field (jsoncheck below).
decisions=$(grep -cE '\]: info: [^ ]+: stage=' "$E2E_DIR/milter.log")
cp "$JSON_LOG.1" "$JSON_LOG" "$JSON_TAG" "$JSON_DRY" "$E2E_DIR/" 2>/dev/null # kept with E2E_KEEP
"${PYTHON:-python3}" - "$decisions" "$JSON_LOG.1" "$JSON_LOG" "$JSON_TAG" "$JSON_DRY" <<'PY' || failed=1
# jsoncheck.py - the JSON decision log against schema version 1 (run.sh section 8)
# usage: python3 jsoncheck.py SYSLOG_DECISIONS ROTATED CURRENT TAG DRY
import json
import re
import sys

KEYS = ["v", "time", "queue_id", "stage", "client", "mta", "helo", "sender", "recipients",
        "checks", "dnsbl", "action", "would", "dry_run", "reply", "check", "reason",
        "rule", "detail"]
CHECK_KEYS = {"helo_spf": ["result", "domain"], "spf": ["result", "domain", "scope"],
              "dmarc": ["result", "domain", "policy", "disposition", "policy_domain",
                        "discovery", "published", "override", "dkim", "spf"]}
ARC_KEYS = ["result", "reason", "oldest_pass", "sets"]
ARC_SET_KEYS = ["i", "d", "s", "a", "cv", "as"]
PUBLISHED = ["p", "sp", "np", "t", "psd", "adkim", "aspf", "pct", "rua"]
QID = object()  # a queue id: upper-case hex
failed = False


def say(ok, what, why=""):
    global failed
    if ok:
        print("ok - JSON decision log: " + what)
    else:
        failed = True
        print("not ok - JSON decision log: " + what + ": " + why)


def no_dups(pairs):
    keys = [k for k, _ in pairs]
    if len(keys) != len(set(keys)):
        raise ValueError("duplicate key in %r" % keys)
    return dict(pairs)


def bad_constant(name):
    raise ValueError("not JSON: " + name)


def strings_ok(x):
    """every string is encodable as UTF-8 (no lone surrogates from \\u escapes)"""
    if isinstance(x, str):
        x.encode("utf-8")
    elif isinstance(x, list):
        for e in x:
            strings_ok(e)
    elif isinstance(x, dict):
        for k, v in x.items():
            strings_ok(k)
            strings_ok(v)


def opt_str(x):
    return x is None or isinstance(x, str)


def schema_problem(r):
    """why record r does not follow schema version 1, or None"""
    if list(r) != KEYS:
        return "keys %s" % list(r)
    if r["v"] != 1 or isinstance(r["v"], bool):
        return "v %r" % r["v"]
    if not re.fullmatch(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z", r["time"] or ""):
        return "time %r" % r["time"]
    if r["stage"] not in ("connect", "helo", "mail", "rcpt", "eom"):
        return "stage %r" % r["stage"]
    c = r["client"]
    if not isinstance(c, dict) or list(c) != ["addr", "name", "iprev"] or \
            not all(opt_str(v) for v in c.values()):
        return "client %r" % c
    for k in ("queue_id", "helo", "sender", "check", "reason", "rule", "detail"):
        if not opt_str(r[k]):
            return "%s %r" % (k, r[k])
    if not isinstance(r["recipients"], list) or \
            not all(isinstance(x, str) for x in r["recipients"]):
        return "recipients %r" % r["recipients"]
    ch = r["checks"]
    if not isinstance(ch, dict):
        return "checks %r" % ch
    order = [k for k in ("helo_spf", "spf", "dkim", "dmarc", "arc") if k in ch]
    if list(ch) != order:
        return "checks keys %s" % list(ch)
    for k, want in CHECK_KEYS.items():
        got = list(ch[k]) if k in ch and isinstance(ch[k], dict) else None
        if k == "dmarc" and got is not None and "override_comment" in got:
            got.remove("override_comment")  # optional, right after "override"
            if list(ch[k]).index("override_comment") != got.index("override") + 1:
                return "checks.dmarc override_comment out of place"
        if k in ch and (not isinstance(ch[k], dict) or got != want):
            return "checks.%s %r" % (k, ch[k])
    arc = ch.get("arc")
    if arc is not None and (not isinstance(arc, dict) or
                            list(arc) not in (ARC_KEYS, ARC_KEYS + ["override"]) or
                            arc["result"] not in ("none", "pass", "fail", "temperror") or
                            not all(isinstance(s, dict) and list(s) == ARC_SET_KEYS
                                    for s in arc["sets"]) or
                            ("override" in arc and
                             list(arc["override"]) != ["sealer", "instance", "method",
                                                       "applied"])):
        return "checks.arc %r" % arc
    pub = ch.get("dmarc", {}).get("published")
    if pub is not None and (not isinstance(pub, dict) or list(pub) != PUBLISHED or
                            not isinstance(pub["rua"], list)):
        return "checks.dmarc.published %r" % pub
    if "dkim" in ch and (not isinstance(ch["dkim"], list) or not all(
            isinstance(s, dict) and list(s) == ["result", "domain", "selector"]
            for s in ch["dkim"])):
        return "checks.dkim %r" % ch["dkim"]
    if not isinstance(r["dnsbl"], list) or not all(
            isinstance(h, dict) and list(h) == ["zone", "answer"] and
            all(isinstance(v, str) for v in h.values()) for h in r["dnsbl"]):
        return "dnsbl %r" % r["dnsbl"]
    if r["action"] not in ("accept", "reject", "tempfail", "quarantine", "hold"):
        return "action %r" % r["action"]
    if not isinstance(r["would"], bool) or not isinstance(r["dry_run"], bool) or \
            (r["dry_run"] and not r["would"]):
        return "would %r dry_run %r" % (r["would"], r["dry_run"])
    rep = r["reply"]
    if rep is not None and (not isinstance(rep, dict) or list(rep) != ["code", "xcode", "text"]
                            or not isinstance(rep["code"], int)):
        return "reply %r" % rep
    return None


def load(path):
    recs = []
    try:
        data = open(path, "rb").read()
    except OSError as e:
        say(False, "read " + path, str(e))
        return recs
    bad = []
    if data and not data.endswith(b"\n"):
        bad.append("no newline at the end")
    for n, line in enumerate(data.split(b"\n")[:-1], 1):
        try:
            r = json.loads(line.decode("utf-8"), object_pairs_hook=no_dups,
                           parse_constant=bad_constant)
            strings_ok(r)
            why = schema_problem(r) if isinstance(r, dict) else "not an object"
        except (ValueError, UnicodeError) as e:
            why = str(e)
        if why:
            bad.append("line %d: %s: %s" % (n, why, line[:300]))
        else:
            recs.append(r)
    say(not bad and recs, "%s: %d record(s), every line valid JSON with the schema's keys in "
        "order" % (path, len(recs)), "; ".join(bad[:5]) or "no records")
    return recs


def same(got, want):
    for k, v in want.items():
        if v is QID:
            if not isinstance(got.get(k), str) or not re.fullmatch(r"[0-9A-F]{6,}", got[k]):
                return "%s: got %r, want a queue id" % (k, got.get(k))
        elif got.get(k) != v:
            return "%s: got %s, want %s" % (k, json.dumps(got.get(k)), json.dumps(v))
    return None


def expect(what, recs, addr, stage, want):
    found = [r for r in recs if r["client"]["addr"] == addr and r["stage"] == stage]
    if not found:
        say(False, what, "no record from %s at %s" % (addr, stage))
        return
    full = dict(want, client=dict(want["client"], addr=addr), stage=stage)
    why = [w for w in (same(r, full) for r in found) if w]
    say(not why, what, "; ".join(why))


def base(**kw):
    r = {"v": 1, "queue_id": QID, "client": {"name": None, "iprev": "permerror"},
         "helo": "client10.test", "sender": "alice@pass.test",
         "recipients": ["bob@example.org"], "dnsbl": [], "action": "accept",
         "would": False, "dry_run": False, "reply": None, "check": None, "reason": None,
         "rule": None, "detail": None}
    r.update(kw)
    return r


HELO_NONE = {"result": "none", "domain": "client10.test"}
SPF_PASS = {"result": "pass", "domain": "pass.test", "scope": "mfrom"}


def dmarc(result, domain, policy=None, dis=None, pdomain=None, published=None,
          override=None, dkim="fail", spf="fail", override_comment=None):
    """checks.dmarc: the RFC 7489 four, then what an RFC 9990 report needs"""
    pub = None
    if published is not None:
        pub = dict({k: None for k in PUBLISHED}, rua=[])
        pub.update(published)
    d = {"result": result, "domain": domain, "policy": policy, "disposition": dis,
         "policy_domain": pdomain, "discovery": "treewalk", "published": pub,
         "override": override, "dkim": dkim, "spf": spf}
    if override_comment is not None:  # written only on an ARC rescue
        d["override_comment"] = override_comment
    return d


DMARC_NONE_PASS = dmarc("none", "pass.test")
# checks.arc of a message without ARC fields from a client that is verified (arc.mode tag)
ARC_NONE = {"result": "none", "reason": None, "oldest_pass": 0, "sets": []}
REJECT_FAIL = dmarc("fail", "reject.test", "reject", "reject", "reject.test", {"p": "reject"})
DMARC_REJECT = base(
    checks={"helo_spf": HELO_NONE, "spf": SPF_PASS, "dkim": [], "dmarc": REJECT_FAIL,
            "arc": ARC_NONE},
    action="reject",
    reply={"code": 550, "xcode": "5.7.26", "text": "Unauthenticated email from reject.test "
           "is not accepted due to the domain's DMARC policy"},
    check="dmarc", reason="dmarc_reject", rule="dmarc.mode")
MULTI = base(recipients=["bob@example.org", "carol+lists@example.org", "anyone@example.net"],
             checks={"helo_spf": HELO_NONE, "spf": SPF_PASS, "dkim": [],
                     "dmarc": DMARC_NONE_PASS, "arc": ARC_NONE})

syslog_count, rotated, current, tag, dry = (int(sys.argv[1]), sys.argv[2], sys.argv[3],
                                            sys.argv[4], sys.argv[5])
r1, r2, r3, r4 = load(rotated), load(current), load(tag), load(dry)
n = len(r1) + len(r2) + len(r3) + len(r4)
say(not any(r["dry_run"] for r in r1 + r2 + r3), "dry_run false outside the dry run",
    "dry_run true in a record written without dry_run = true")
say(n == syslog_count, "one record per syslog decision line",
    "got %d records, want %d" % (n, syslog_count))

expect("DMARC p=reject refused at end of message, every field", r1, "192.0.2.133", "eom",
       DMARC_REJECT)
expect("SPF fail held from MAIL FROM, refused at RCPT TO (NOQUEUE), every field", r1,
       "192.0.2.11", "rcpt",
       base(queue_id=None, client={"name": "client11.test", "iprev": "pass"},
            helo="client11.test", sender="alice@fail.test", recipients=["bob@example.org"],
            checks={"helo_spf": {"result": "none", "domain": "client11.test"},
                    "spf": {"result": "fail", "domain": "fail.test", "scope": "mfrom"}},
            action="reject",
            reply={"code": 550, "xcode": "5.7.23", "text": "SPF validation failed: fail.test "
                   "does not permit 192.0.2.11 to send mail as alice@fail.test"},
            check="spf", reason="spf_fail", rule="spf.fail=reject",
            detail="fail.test does not designate 192.0.2.11 as permitted sender"))
expect("accepted with dkim=pass, every field", r1, "192.0.2.101", "eom",
       base(sender="alice@signed.test",
            checks={"helo_spf": HELO_NONE,
                    "spf": {"result": "pass", "domain": "signed.test", "scope": "mfrom"},
                    "dkim": [{"result": "pass", "domain": "signed.test",
                              "selector": "rsa2048"}],
                    "dmarc": dmarc("none", "signed.test"), "arc": ARC_NONE}))
expect("unknown recipient refused at RCPT TO, every field", r1, "192.0.2.23", "rcpt",
       base(recipients=["nobody@example.org"], checks={"helo_spf": HELO_NONE, "spf": SPF_PASS},
            action="reject",
            reply={"code": 550, "xcode": "5.1.1",
                   "text": "<nobody@example.org>: Recipient address rejected: User unknown"},
            check="recipients", reason="unknown_recipient", rule="recipients.mode=enforce",
            detail="recipients.addresses: not listed"))
expect("three accepted recipients at end of message, every field", r1, "192.0.2.23", "eom",
       MULTI)
# (iprev is looked up although the listing refuses: a lists.client_name.allow
# entry could have saved the client)
expect("DNSBL listing refused at connect, every field", r1, "192.0.2.180", "connect",
       base(queue_id=None, client={"name": None, "iprev": "permerror"}, helo=None, sender=None,
            recipients=[], checks={}, dnsbl=[{"zone": "bl.dnsbl.test", "answer": "127.0.0.2"}],
            action="reject",
            reply={"code": 554, "xcode": "5.7.1", "text": "Service unavailable; client host "
                   "192.0.2.180 blocked using bl.dnsbl.test"},
            check="dnsbl", reason="dnsbl_listed", rule="dnsbl.zones"))
expect("DNSBL tag zone listing in the accepted message's record", r1, "192.0.2.182", "eom",
       base(dnsbl=[{"zone": "tag.dnsbl.test", "answer": "127.0.0.2"}],
            checks={"helo_spf": HELO_NONE, "spf": SPF_PASS, "dkim": [],
                    "dmarc": DMARC_NONE_PASS, "arc": ARC_NONE}))
expect("iprev pass in the accepted message's record", r1, "192.0.2.190", "eom",
       base(client={"name": "iprev-pass.test", "iprev": "pass"}, helo="iprev-pass.test",
            checks={"helo_spf": {"result": "none", "domain": "iprev-pass.test"},
                    "spf": SPF_PASS, "dkim": [], "dmarc": DMARC_NONE_PASS,
                    "arc": ARC_NONE}))
# after the rotation (rename, then SIGUSR1): the reopened file
say(any(r["client"]["addr"] == "192.0.2.51" and r["stage"] == "rcpt" and
        r["action"] == "reject" for r in r2),
    "after rename and SIGUSR1 the new file gets the records (reload scenario)",
    "no record from 192.0.2.51 in " + current)
expect("a reload naming a file that cannot be opened keeps writing the one in use", r2,
       "192.0.2.23", "eom", MULTI)
# dmarc.mode = "tag" was loaded with another json_file: its records went there
others = sorted({r["client"]["addr"] for r in r3} - {"192.0.2.61", "192.0.2.62"})
say(not others, "a reload with another json_file writes there (the tag mode records only)",
    "records from %s in %s" % (others, tag))
# (delivered in tag mode: the RFC 9990 override is local_policy)
LOCAL = dict(REJECT_FAIL, override="local_policy")
expect("dmarc.mode tag: would have refused, every field", r3, "192.0.2.62", "eom",
       dict(DMARC_REJECT, would=True, checks=dict(DMARC_REJECT["checks"], dmarc=LOCAL)))
# dry_run = true was loaded with another json_file: its records went there
expect("dry run: DMARC p=reject would have been refused, every field", r4, "192.0.2.222",
       "eom", dict(DMARC_REJECT, would=True, dry_run=True,
                   client={"name": None, "iprev": "permerror"},
                   checks=dict(DMARC_REJECT["checks"], dmarc=LOCAL)))
DRY_BLOCKED = base(recipients=[], sender="spammer@pass.test",
                    checks={"helo_spf": HELO_NONE, "spf": SPF_PASS},
                    action="reject", would=True, dry_run=True,
                    reply={"code": 554, "xcode": "5.7.1", "text": "<spammer@pass.test>: Sender "
                           "address rejected: blocked by local policy"},
                    check="lists", reason="sender_blocked", rule="lists.sender.block",
                    detail="spammer@pass.test in /run/policy-milter/lists/sender-block.txt:3")
del DRY_BLOCKED["queue_id"]  # whether the MTA has one at MAIL FROM is its business
expect("dry run: a blocked sender would have been refused, every field", r4, "192.0.2.223",
       "mail", DRY_BLOCKED)
# the lists (main scenarios): a block and an allow, field by field
expect("lists.sender.block refused at MAIL FROM, every field", r1, "192.0.2.207", "mail",
       base(queue_id=None, sender="spammer@pass.test", recipients=[],
            checks={"helo_spf": HELO_NONE},
            action="reject",
            reply={"code": 554, "xcode": "5.7.1", "text": "<spammer@pass.test>: Sender "
                   "address rejected: blocked by local policy"},
            check="lists", reason="sender_blocked", rule="lists.sender.block",
            detail="spammer@pass.test in /run/policy-milter/lists/sender-block.txt:3"))
expect("lists.sender.allow: the accepted message says allowed, every field", r1,
       "192.0.2.208", "eom",
       base(sender="partner@fail.test",
            checks={"helo_spf": HELO_NONE,
                    "spf": {"result": "fail", "domain": "fail.test", "scope": "mfrom"},
                    "dkim": [], "dmarc": LOCAL, "arc": ARC_NONE},
            check="dmarc", reason="allowed", rule="lists.sender.allow",
            detail="partner@fail.test in lists.sender.allow[0]"))
# RFC 9989 scenarios: what an RFC 9990 report reads (policy domain, the record as
# published, the override)
NOPTR = {"name": None, "iprev": "permerror"}
expect("t=y: disposition quarantine, override policy_test_mode", r1, "192.0.2.248", "eom",
       {"client": NOPTR,
        "checks": {"helo_spf": HELO_NONE, "spf": SPF_PASS, "dkim": [],
                   "dmarc": dmarc("fail", "testing.test", "reject", "quarantine",
                                  "testing.test", {"p": "reject", "t": "y"},
                                  override="policy_test_mode"), "arc": ARC_NONE}})
expect("np=reject for a subdomain that does not exist: policy reject from np.test", r1,
       "192.0.2.246", "eom",
       {"client": NOPTR,
        "checks": {"helo_spf": HELO_NONE, "spf": SPF_PASS, "dkim": [],
                   "dmarc": dmarc("fail", "ghost.np.test", "reject", "reject", "np.test",
                                  {"p": "none", "np": "reject"}), "arc": ARC_NONE}})
expect("psd=y: the public suffix domain's record, the sibling's SPF pass not aligned", r1,
       "192.0.2.244", "eom",
       {"client": NOPTR, "sender": "alice@shop-a.city.test",
        "checks": {"helo_spf": HELO_NONE,
                   "spf": {"result": "pass", "domain": "shop-a.city.test", "scope": "mfrom"},
                   "dkim": [],
                   "dmarc": dmarc("fail", "shop-b.city.test", "reject", "reject", "city.test",
                                  {"p": "reject", "psd": "y"}), "arc": ARC_NONE}})
expect("a record at an intermediate level: policy domain sales.walk.test", r1, "192.0.2.243",
       "eom",
       {"client": NOPTR,
        "checks": {"helo_spf": HELO_NONE, "spf": SPF_PASS, "dkim": [],
                   "dmarc": dmarc("fail", "eu.sales.walk.test", "reject", "reject",
                                  "sales.walk.test", {"p": "reject"}), "arc": ARC_NONE}})
# ARC (arc-trusted-rescue.scn): the chain, the set, and the trusted sealer's rescue
ARC_SET = {"i": 1, "d": "trusted-list.test", "s": "rsa2048", "a": "rsa-sha256", "cv": "none",
           "as": True}
expect("ARC: a trusted sealer's rescue of a p=reject fail, every field", r1, "192.0.2.70", "eom",
       base(client=NOPTR, sender="arcauthor-bounces@trusted-list.test",
            checks={"helo_spf": HELO_NONE,
                    "spf": {"result": "pass", "domain": "trusted-list.test", "scope": "mfrom"},
                    "dkim": [{"result": "fail", "domain": "arcauthor.test",
                              "selector": "rsa2048"}],
                    "dmarc": dmarc("fail", "arcauthor.test", "reject", "none", "arcauthor.test",
                                   {"p": "reject"}, override="trusted_forwarder",
                                   override_comment="arc=pass as[1].d=trusted-list.test"),
                    "arc": {"result": "pass", "reason": None, "oldest_pass": 1,
                            "sets": [ARC_SET],
                            "override": {"sealer": "trusted-list.test", "instance": 1,
                                         "method": "dmarc", "applied": True}}},
            check="dmarc", reason="arc_override", rule="arc.trusted_sealers"))
sys.exit(1 if failed else 0)
PY

# 9. policy-milter-report reads what the daemon wrote: every record, nothing
# malformed (the reader and the writer agree on the schema).
report=$E2E_TOP/src/policy-milter-report
files=()
for f in "$JSON_LOG.1" "$JSON_LOG" "$JSON_TAG" "$JSON_DRY"; do [ -s "$f" ] && files+=("$f"); done
if [ -x "$report" ] && out=$("$report" --json "${files[@]}" 2>&1); then
	got=$(printf '%s' "$out" | "${PYTHON:-python3}" -c '
import json, sys
r = json.load(sys.stdin)
print(r["records"]["read"], r["malformed"]["lines"])')
	check "policy-milter-report over the daemon's JSON logs: every decision read, none malformed" \
		"$got" "$decisions 0"
else
	echo "not ok - policy-milter-report over the daemon's JSON logs: ${out:-not built}"
	failed=1
fi

# 10. RFC 9990 aggregate reports from what the daemon wrote (--dry-run: the
# files only; tests/report/e2e.sh hands reports to Postfix): one report per
# policy domain that published rua= and was judged, each valid against the
# 2.0 schema, its message count that of the log's end-of-message DMARC
# records for the domain.
if [ -x "$report" ]; then
	# shellcheck source=tests/report/dmarc-policy.sh
	. "$E2E_TOP/tests/report/dmarc-policy.sh"
	rdir=$E2E_DIR/dmarc-reports
	mkdir -p "$rdir"
	dmarc_policy "$E2E_DIR/report-policy.conf" "$JSON_LOG" "$rdir" "$rdir/sent" \
		/bin/false "E2E Receiver" "dmarc-reports@mx.example.org" "dmarc-reports@example.org"
	want=$("${PYTHON:-python3}" - "${files[@]}" <<'PY'
import collections, json, sys
n = collections.Counter()
for f in sys.argv[1:]:
    for line in open(f, encoding="utf-8", errors="replace"):
        try:
            r = json.loads(line)
        except ValueError:
            continue
        d = (r.get("checks") or {}).get("dmarc") or {}
        pub = d.get("published") or {}
        if r.get("stage") == "eom" and d.get("result") in ("pass", "fail") and pub.get("rua"):
            n[d.get("policy_domain")] += 1
print(" ".join("%s=%d" % kv for kv in sorted(n.items())))
PY
)
	since=$(date -u -d '-1 day' +%Y-%m-%dT%H:%M:%SZ)
	until=$(date -u -d '+1 day' +%Y-%m-%dT%H:%M:%SZ)
	out=$("$report" --dmarc-reports --dry-run --config "$E2E_DIR/report-policy.conf" \
		--since "$since" --until "$until" "${files[@]}" 2>&1)
	got=$(printf '%s\n' "$out" | sed -n 's/.* report id=[^ ]* domain=\([^ ]*\) rows=[0-9]* messages=\([0-9]*\) .*/\1=\2/p' | sort | tr '\n' ' ' | sed 's/ $//')
	echo "# DMARC aggregate reports (domain=messages): ${got:-none}"
	check "DMARC aggregate reports from the daemon's JSON log: one per rua domain judged, every message counted" \
		"$got" "$want"
	[ -n "$want" ] || { echo "not ok - the e2e log holds no DMARC result for a domain with rua="; failed=1; }
	xsd=$E2E_TOP/../shared/spec/rfc9990-dmarc-2.0.xsd
	if [ -r "$xsd" ] && command -v xmllint >/dev/null; then
		bad=0
		for f in "$rdir"/*.xml.gz; do
			[ -e "$f" ] || continue
			gzip -dc "$f" | xmllint --noout --schema "$xsd" - >/dev/null 2>&1 || bad=$((bad + 1))
		done
		check "DMARC aggregate reports from the daemon's JSON log: every one valid against the RFC 9990 schema" \
			"$bad" 0
	else
		echo "ok - # SKIP RFC 9990 schema check: $xsd or xmllint missing"
	fi
fi

exit $failed
