#!/bin/bash
# NAME
#	demo.sh - show policy-milter at work (make demo)
# SYNOPSIS
#	tests/e2e/demo.sh
# DESCRIPTION
#	Brings up, in private namespaces (see lib.sh), a DNS server with test
#	zones, Postfix on 127.0.0.1:25 and policy-milter with the default
#	policy conf/policy-milter.conf exactly as shipped (authserv-id
#	mx.example.org, local domain example.org). Sends a handful of sample
#	messages with swaks and prints, for each, what was sent, the replies,
#	and for a delivered message the Authentication-Results header of the
#	delivered copy. Then tears everything down. Nothing on the host
#	changes.
# DIAGNOSTICS
#	Needs root. Exit 0 when the world came up and every sample ran, 2 when
#	it could not be built (the logs are then printed).

set -u

HERE=$(cd "$(dirname "$0")" && pwd)
# shellcheck source=tests/e2e/lib.sh
. "$HERE/lib.sh"

CONF=$E2E_TOP/conf/policy-milter.conf

if [ -z "${E2E_INNER:-}" ]; then
	if [ "$(id -u)" != 0 ]; then
		echo "make demo needs root: it builds a private network, DNS server and Postfix (unshare)" >&2
		exit 1
	fi
	e2e_build_tools
	ns_reexec pm-demo DEMO_KEEP E2E_INNER "$0" "$@"
	rc=$?
	if [ "$rc" != 0 ]; then
		echo "---- Postfix maillog ----"
		tail -n 50 "$E2E_DIR/maillog" 2>/dev/null
		echo "---- policy-milter log ----"
		tail -n 50 "$E2E_DIR/milter.log" 2>/dev/null
	fi
	exit "$rc"
fi

trap ns_teardown EXIT
trap 'exit 2' INT TERM

echo "Setting up a private network, nsd (test zones), Postfix and policy-milter ..."
ns_setup
nsd_start
postfix_setup
milter_start "$CONF"
postfix_start
echo "policy-milter runs with $CONF (unchanged): $(head -n 1 "$E2E_DIR/milter.log" | sed 's/^[^]]*]: //')"
echo

n=0
# show_delivered FILE - the Authentication-Results header of a delivered copy ("" = none)
show_delivered() {
	if [ -n "$1" ]; then
		echo "    delivered; its Authentication-Results header:"
		awk '/^$/ { exit } /^Authentication-Results:/ { p = 1; print "      " $0; next }
			/^[ \t]/ && p { print "      " $0; next } { p = 0 }' "$1"
	else
		echo "    not delivered"
	fi
	echo
}

# sample - send one message: sample TITLE CLIENT HELO FROM RCPT [swaks args...]
sample() {
	local title=$1 client=$2 helo=$3 from=$4 rcpt=$5
	shift 5
	n=$((n + 1))
	local id="<demo-$n-$$@demo.test>"
	echo "=== $n. $title"
	echo "    client $client, HELO $helo, MAIL FROM:<$from>, RCPT TO:<$rcpt>"
	if [ "${1:-}" = --add-header ]; then
		echo "    message header sent: $2"
	fi
	swaks --server 127.0.0.1 --local-interface "$client" --helo "$helo" \
		--from "$from" --to "$rcpt" --timeout 30 \
		--header "Subject: policy-milter demo $n" --header "Message-Id: $id" "$@" 2>&1 |
		awk '
			/^ -> (EHLO|HELO|MAIL|RCPT|DATA)/ { cmd = substr($0, 5); first = ""; next }
			/^<(-|\*\*) +[0-9][0-9][0-9]-/ { if (first == "") first = substr($0, 5); next }
			/^<(-|\*\*) +[0-9][0-9][0-9]( |$)/ {
				r = substr($0, 5)
				if (first != "") { r = first " ..."; sub(/-/, " ", r); first = "" }
				if (indata) { printf "    %-34s %s\n", "(end of message)", r; indata = 0; next }
				if (cmd == "") next
				printf "    %-34s %s\n", cmd, r
				if (cmd == "DATA" && $2 ~ /^354/) indata = 1
				cmd = ""
			}'
	# The delivered copy, if any.
	local f="" i
	for i in $(seq 1 30); do
		f=$(grep -l -F "$id" "$E2E_DIR"/mail/mail/new/* 2>/dev/null | head -n 1)
		[ -n "$f" ] && break
		# Refused before DATA: nothing will arrive.
		grep -q "milter-reject.*$client\]" "$E2E_DIR/maillog" && [ "$i" -gt 3 ] && break
		sleep 0.1
	done
	show_delivered "$f"
}

sample "SPF pass: delivered and tagged" 192.0.2.10 client10.test alice@pass.test bob@example.org
sample "SPF fail: refused at MAIL FROM" 192.0.2.11 client11.test alice@fail.test bob@example.org
sample "SPF softfail: delivered, tagged spf=softfail" 192.0.2.12 client12.test \
	alice@softfail.test bob@example.org
sample "Relay attempt to a foreign domain: refused" 192.0.2.13 client10.test \
	alice@pass.test someone@elsewhere.test
sample "Bad sender syntax: refused" 192.0.2.14 client10.test 'x@c.test(comment' bob@example.org
sample "Sender domain does not exist: 550 5.1.8" 192.0.2.17 client10.test \
	alice@nonexistent.test bob@example.org
sample "postmaster: always accepted" 192.0.2.16 client10.test alice@pass.test postmaster@example.org
sample "Forged Authentication-Results claiming mx.example.org: removed" 192.0.2.15 client10.test \
	alice@pass.test bob@example.org \
	--add-header "Authentication-Results: mx.example.org; spf=pass smtp.mailfrom=forged@fail.test"

# sample_signed - a message built and DKIM-signed at run time by scenario.pl (FILE.scn)
sample_signed() {
	local file=$1 name f
	n=$((n + 1))
	name=$(sed -n 's/^name = demo: //p' "$file")
	echo "=== $n. $name"
	perl "$HERE/scenario.pl" --maildir "$E2E_DIR/mail/mail" --work "$E2E_DIR" "$file" |
		sed 's/^/    scenario check: /'
	f=$(grep -l -F "demo: $name" "$E2E_DIR"/mail/mail/new/* 2>/dev/null | head -n 1)
	show_delivered "$f"
}

sample "DMARC: From reject.test (p=reject), nothing aligned: 550 5.7.26" 192.0.2.20 \
	client10.test alice@pass.test bob@example.org --header "From: <alice@reject.test>"
sample "Two From header fields: 550 5.7.1" 192.0.2.21 client10.test alice@pass.test \
	bob@example.org --add-header "From: <mallory@pass.test>"
sample_signed "$HERE/demo/dkim-aligned.scn"
sample_signed "$HERE/demo/dkim-body-changed.scn"

echo "=== policy-milter's decision log (one key=value line per decision; syslog in production)"
sleep 0.3 # the last end-of-message line
grep -E ': (NOQUEUE|[0-9A-F]+): stage=' "$E2E_DIR/milter.log" | sed 's/^[^ ]* [^ ]* [a-z]*: /    /'
echo

echo "Tearing down ..."
exit 0
