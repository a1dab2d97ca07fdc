#!/bin/bash
# NAME
#	sendmail.sh - policy-milter end-to-end tests on a real Sendmail 8.17
# SYNOPSIS
#	tests/e2e/sendmail.sh [scenario-file...]	(make e2e-sendmail; part of make check)
# DESCRIPTION
#	The same private mail world as run.sh (lib.sh: nsd with the test
#	zones and fresh DKIM keys, the silent DNS server, policy-milter with
#	policy.conf), but the MTA on 127.0.0.1:25 and [::1]:25 is Debian's
#	Sendmail 8.17, unpacked beside Postfix (sendmail_fetch: apt-get
#	download, dpkg -x; never installed), its .cf built with m4 from a .mc
#	with INPUT_MAIL_FILTER(..., `F=T, T=...') (sendmail_setup). Sendmail
#	relays what it accepts to a Postfix without milter on 127.0.0.1:2525,
#	which delivers into the Maildir the scenarios read.
#
#	Every scenario of scenarios/*.scn and scenarios/concurrent/*.scn runs
#	through Sendmail with the same expected replies and headers; where
#	Sendmail legitimately behaves otherwise the scenario says so with
#	sendmail.KEY lines and a sendmail.why line (see README). Then checks
#	that need Sendmail itself:
#	  - the queue id: each delivered copy's Sendmail Received field names
#	    the queue id ("with ESMTP id ..."), and the milter's decision log
#	    line for that message carries the same id;
#	  - the macros Sendmail sends and Postfix does not ({daemon_name},
#	    {if_addr}, j) reach the decision log;
#	  - SMTP AUTH (Cyrus SASL, sasldb): an authenticated client's
#	    {auth_authen} makes the milter skip the sender checks;
#	  - headers.singletons in enforce, log and off mode
#	    (scenarios/singletons/, singletons_modes in lib.sh).
# DIAGNOSTICS
#	Exit 0 when every check passed, 1 when one failed, 2 when the world
#	could not be built. As non-root: "SKIPPED: ..." and exit 77.

set -u

HERE=$(cd "$(dirname "$0")" && pwd)
# shellcheck source=tests/e2e/lib.sh
. "$HERE/lib.sh"
export E2E_MTA=sendmail

if [ -z "${E2E_INNER:-}" ]; then
	if [ "$(id -u)" != 0 ]; then
		echo "SKIPPED: end-to-end tests need root (unshare, nsd, postfix, sendmail)"
		exit 77
	fi
	for tool in unshare ip nsd postfix swaks dig perl gcc openssl m4 apt-get dpkg; do
		command -v "$tool" >/dev/null || {
			echo "e2e-sendmail: $tool not found (run make deps)" >&2
			exit 2
		}
	done
	e2e_build_tools
	sendmail_fetch
	export SENDMAIL_ROOT
	ns_reexec pm-sendmail E2E_KEEP E2E_INNER "$0" "$@"
	rc=$?
	[ "$rc" = 0 ] || e2e_show_logs 200
	[ -n "${E2E_KEEP:-}" ] && echo "e2e-sendmail: work directory kept: $E2E_DIR"
	exit "$rc"
fi

# ---- inside the namespaces ----------------------------------------------

trap ns_teardown EXIT
trap 'exit 2' INT TERM

ns_setup
nsd_start
postfix_setup
sendmail_setup
live=$E2E_DIR/live-policy.conf
cp "$HERE/policy.conf" "$live"
LISTS=/run/policy-milter/lists
mkdir -p "$LISTS"
cp "$HERE"/lists/*.txt "$LISTS/"
chmod 0755 "$LISTS"
chmod 0644 "$LISTS"/*.txt
milter_start "$live"
postfix_start
sendmail_start

RUNNER="perl $HERE/scenario.pl --mta sendmail --maildir $E2E_DIR/mail/mail --work $E2E_DIR --keys $E2E_DIR/keys"
failed=0

if [ $# -gt 0 ]; then
	$RUNNER -j "${E2E_JOBS:-4}" "$@" || failed=1
	exit $failed
fi

# check - one TAP-ish line for a shell-level check: check NAME GOT WANT
check() {
	if [ "$2" = "$3" ]; then
		echo "ok - sendmail: $1"
	else
		echo "not ok - sendmail: $1: got $2, want $3"
		failed=1
	fi
}

# 1. Every scenario, then twenty concurrent sessions (as run.sh does).
$RUNNER -j "${E2E_JOBS:-4}" "$HERE"/scenarios/*.scn || failed=1
rm -rf "$E2E_DIR/barrier"
$RUNNER -j 100 "$HERE"/scenarios/concurrent/*.scn || failed=1

# 2. Refusals at connect: Sendmail shows the client only "550 5.0.0
# Command rejected" (the scenarios say so); the milter's log must still
# hold its own reply, naming the DNSBL zone or the list.
for spec in \
	'192.0.2.180|554 5.7.1 Service unavailable; client host 192.0.2.180 blocked using bl.dnsbl.test' \
	'2001:db8::180|554 5.7.1 Service unavailable; client host 2001:db8::180 blocked using bl.dnsbl.test' \
	'192.0.2.201|554 5.7.1 Client host 192.0.2.201 blocked by local policy'; do
	addr=${spec%%|*}
	reply=${spec#*|}
	check "the milter logged its connect refusal of $addr: \"$reply\"" \
		"$(grep -cF "stage=connect client=$addr " "$E2E_DIR/milter.log" | tr -d ' ')/$(grep -F "stage=connect client=$addr " "$E2E_DIR/milter.log" | grep -cF "reply=\"$reply")" 1/1
done

# 3. Queue ids and macros: Sendmail's Received field of each delivered
# copy names its queue id ("with ESMTP id ..."); the milter's end of
# message decision for it must carry the same id, and the macros Sendmail
# sends (j, {daemon_name}, {if_addr}; Postfix sends {daemon_addr} instead
# of {if_addr}) must reach the syslog line and the JSON record.
python3 - "$E2E_DIR/mail/mail" "$E2E_DIR/milter.log" /run/policy-milter/decisions.json <<'PY' || failed=1
import email.parser, json, os, re, sys
maildir, log, jlog = sys.argv[1:4]
ids = []
for sub in ("new", "cur"):
    d = os.path.join(maildir, sub)
    for f in sorted(os.listdir(d)) if os.path.isdir(d) else []:
        with open(os.path.join(d, f), "rb") as fh:
            h = email.parser.BytesHeaderParser().parse(fh)
        for r in h.get_all("Received") or []:
            m = re.search(r"by smx\.example\.org \([^)]*\)\s+with ESMTPA?\s+id\s+([A-Za-z0-9]+)", " ".join(r.split()))
            if m:
                ids.append(m.group(1))
lines = open(log, encoding="utf-8", errors="replace").read().splitlines()
eom = {}
for l in lines:
    m = re.search(r": (\S+): stage=eom (.*)", l)
    if m:
        eom.setdefault(m.group(1), []).append(m.group(2))
bad = [q for q in ids if q not in eom]
ok = len(ids) >= 100 and not bad
print(("ok" if ok else "not ok") + " - sendmail: every delivered copy's queue id (%d, from Sendmail's Received) is on the milter's end-of-message log line%s"
      % (len(ids), "" if ok else ": missing for %s" % " ".join(bad[:5])))
macro_bad = [q for q in ids if q in eom and not any(
    re.search(r"\bmta=smx\.example\.org daemon=MTA(-v6)? local=(127\.0\.0\.1|::1)\b", x) for x in eom[q])]
print(("ok" if not macro_bad and ids else "not ok") +
      " - sendmail: the log line of each says mta=smx.example.org daemon=MTA[-v6] local=127.0.0.1|::1 (j, {daemon_name}, {if_addr})%s"
      % ("" if not macro_bad else ": not for %s" % " ".join(macro_bad[:5])))
recs = [json.loads(l) for l in open(jlog, encoding="utf-8") if l.strip()]
jeom = {r["queue_id"]: r for r in recs if r.get("stage") == "eom" and r.get("queue_id")}
jbad = [q for q in ids if q not in jeom or jeom[q]["mta"]["host"] != "smx.example.org"
        or jeom[q]["mta"]["daemon"] not in ("MTA", "MTA-v6")
        or jeom[q]["mta"]["local_addr"] not in ("127.0.0.1", "::1")]
print(("ok" if not jbad and ids else "not ok") +
      " - sendmail: the JSON record of each has its queue_id and mta {host, daemon, local_addr}%s"
      % ("" if not jbad else ": not for %s" % " ".join(jbad[:5])))
sys.exit(1 if bad or macro_bad or jbad or not ids else 0)
PY

# 4. dmarc.quarantine = "hold": smfi_quarantine makes Sendmail keep the
# message in its queue as a quarantined ("hf") file with the reason.
sed 's/quarantine = "tag";/quarantine = "hold";/' "$HERE/policy.conf" >"$live"
if reload_milter; then
	$RUNNER "$HERE/scenarios/hold/dmarc-quarantine-hold.scn" || failed=1
	held=$(grep -l '^S<holdcheck@pass.test>' "$E2E_DIR"/sendmail/queue/hf* 2>/dev/null | head -n 1)
	check "quarantine = \"hold\": the message is a quarantined queue file (hf*)" "${held:+yes}" yes
	check "quarantine = \"hold\": its quarantine reason is the DMARC result" \
		"$(grep -c "^qdmarc=fail (p=quarantine dis=quarantine) header.from=quarantine.test$" "${held:-/dev/null}")" 1
else
	echo "not ok - sendmail: quarantine = \"hold\": the milter did not reload the policy"
	failed=1
fi
cp "$HERE/policy.conf" "$live"

# 4a. headers.singletons = "enforce", "log", "off" (reloaded), as run.sh.
singletons_modes

# 5. The milter stopped: F=T makes Sendmail tempfail, never pass mail unfiltered.
milter_stop || true
$RUNNER "$HERE/sendmail/milter-down.scn" || failed=1

grep -q 'runtime error\|AddressSanitizer\|LeakSanitizer' "$E2E_DIR/milter.log" &&
	{ echo "not ok - sendmail: sanitizer report in the milter's log"; failed=1; }
exit $failed
