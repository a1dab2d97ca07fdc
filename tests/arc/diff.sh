#!/bin/bash
# NAME
#	diff.sh - differential ARC test: policy-milter's validator against Mail::DKIM (issue 15)
# SYNOPSIS
#	tests/arc/diff.sh		(make check's arc-diff suite; builds build/tests/arcverify)
#	ARC_KEEP=1 tests/arc/diff.sh	keeps the work directory (keys, messages, answers)
# DESCRIPTION
#	1. Fresh keys (RSA 2048, Ed25519: mkchain.pl keys) into a temporary
#	   directory, their records in keys.txt.
#	2. mkchain.pl matrix: 24 chains (1, 2, 3 hops x rsa-sha256 and
#	   ed25519-sha256 x AMS body canonicalization relaxed and simple x
#	   the message unchanged or changed at each hop: Subject tag, footer,
#	   List-Id), each then with one byte flipped in each part (the newest
#	   AS's b=, the oldest AS's b=, the newest AMS's b=, the AAR i=1, the
#	   body, the Subject named in the newest AMS h=), a message without
#	   ARC header fields, a chain sealed rsa, ed25519, rsa, a chain
#	   sealed cv=fail, one whose i=1 says
#	   cv=pass, the newest seal's key missing or revoked, chains of 50
#	   and 51 sets.
#	3. For each message: build/tests/arcverify --keys keys.txt (its cv=)
#	   and verify.pl (Mail::DKIM::ARC::Verifier, keys from the same
#	   file). Both must give the cv the index expects (pass for the
#	   chains, fail for every flip, none without ARC). Where Mail::DKIM
#	   and RFC 8617 disagree the index says what Mail::DKIM gives
#	   (mkchain.pl comments each case) and ours must give the RFC's
#	   answer. For a pass, oldest_pass (when arcverify computes it, > 0)
#	   must be the RFC 8617 5.2 value from Mail::DKIM's own verdict on
#	   every AMS: the lowest instance from which every AMS up to the
#	   newest verifies.
#	One "ok -" or "not ok -" line per message, then the summary:
#	  arc-diff: C/N chains agreed (pass), F/M flips failed in both, ...
# DIAGNOSTICS
#	Exit 0 when every message got its expected answer from both sides,
#	1 otherwise, 77 (skipped) when Mail::DKIM or CryptX is missing.
set -u
cd "$(dirname "$0")/../.." || exit 1
here=tests/arc

if ! perl -MMail::DKIM::ARC::Verifier -MCrypt::PK::Ed25519 -e 1 2>/dev/null; then
	echo "SKIPPED: arc-diff: Mail::DKIM (libmail-dkim-perl) or CryptX (libcryptx-perl) missing"
	exit 77
fi
if ! make -s build/tests/arcverify >/dev/null; then
	echo "not ok - arc-diff: make build/tests/arcverify failed"
	exit 1
fi

work=$(mktemp -d "${TMPDIR:-/tmp}/pm-arc-diff.XXXXXX") || exit 1
if [ "${ARC_KEEP:-}" = 1 ]; then
	echo "# work directory kept: $work"
else
	trap 'rm -rf "$work"' EXIT
fi

if ! perl $here/mkchain.pl keys "$work/keys" >"$work/keys.log" 2>&1 ||
	! perl $here/mkchain.pl matrix --keys "$work/keys" --out "$work/m" >"$work/matrix.log" 2>&1; then
	echo "not ok - arc-diff: mkchain.pl could not make the chains:"
	cat "$work/keys.log" "$work/matrix.log" | tail -20
	exit 1
fi
keys=$work/keys/keys.txt

# Mail::DKIM 1.20230212 knows no ed25519-sha256: ArcTest.pm adds it. dkimpy
# (python3-dkim) checks that code against RFC 8463 on a DKIM signature (its
# ARC code has no ed25519), and must refuse the same message changed.
edcheck() { # edcheck FILE: dkimpy's verdict, True or False
	/usr/bin/python3 - "$keys" "$1" <<'EOF'
import sys
import dkim
keys = {}
for line in open(sys.argv[1]):
    name, text = line.rstrip('\n').split(' ', 1)
    keys[name.lower()] = text.encode()
def dnsfunc(name, timeout=5):
    name = name.decode() if isinstance(name, bytes) else name
    return keys.get(name.rstrip('.').lower())
print(dkim.verify(open(sys.argv[2], 'rb').read(), dnsfunc=dnsfunc))
EOF
}
perl $here/mkchain.pl edsig --keys "$work/keys" >"$work/edsig.eml" &&
	sed 's/^Subject: Quarterly/Subject: Quarterlx/' "$work/edsig.eml" >"$work/edsig-changed.eml"
ed_good=$(edcheck "$work/edsig.eml" 2>&1)
ed_bad=$(edcheck "$work/edsig-changed.eml" 2>&1)
if [ "$ed_good" = True ] && [ "$ed_bad" = False ]; then
	echo "ok - arc-diff: the ed25519-sha256 given to Mail::DKIM signs as dkimpy verifies (RFC 8463)"
else
	echo "not ok - arc-diff: dkimpy on Mail::DKIM's ed25519-sha256 signature: $ed_good, changed: $ed_bad"
	exit 1
fi

# Mail::DKIM's answers, all messages in one perl
cut -f1 "$work/m/index" | sed "s|^|$work/m/|" | xargs perl $here/verify.pl --keys "$keys" \
	>"$work/maildkim" 2>"$work/maildkim.err" || {
	echo "not ok - arc-diff: verify.pl failed:"
	tail -20 "$work/maildkim.err"
	exit 1
}

rc=0
chains=0 chains_ok=0 flips=0 flips_ok=0 other=0 other_ok=0 oldest=0
while IFS=$'\t' read -r file expect mdkim what; do
	[ "$mdkim" = "=" ] && mdkim=$expect
	ours=$(build/tests/arcverify --keys "$keys" "$work/m/$file")
	ours_cv=$(sed -n 's/^cv=\([a-z]*\) .*/\1/p' <<<"$ours")
	ours_op=$(sed -n 's/.* oldest_pass=\([0-9]*\) .*/\1/p' <<<"$ours")
	line=$(grep -F "$work/m/$file"$'	' "$work/maildkim")
	theirs_cv=$(cut -f2 <<<"$line" | sed 's/^cv=//')
	ams=$(cut -f3 <<<"$line" | sed 's/^ams=//')
	detail=$(cut -f4 <<<"$line")
	problem=
	[ "$ours_cv" = "$expect" ] || problem="arcverify cv=$ours_cv, expected $expect"
	if [ "$theirs_cv" != "$mdkim" ]; then
		problem="${problem:+$problem; }Mail::DKIM cv=$theirs_cv, expected $mdkim"
	fi
	# oldest-pass (RFC 8617 5.2): the lowest instance i such that every AMS i..n verifies
	if [ -z "$problem" ] && [ "$expect" = pass ] && [ "${ours_op:-0}" -gt 0 ]; then
		want=$(tr ',' '\n' <<<"$ams" | sort -t: -k1,1nr | awk -F: '$2 != "pass" { exit } { low = $1 } END { print low + 0 }')
		if [ "$ours_op" != "$want" ]; then
			problem="oldest_pass=$ours_op, Mail::DKIM's AMS results ($ams) give $want"
		else
			oldest=$((oldest + 1))
		fi
	fi
	case $file in
	*.flip-*) flips=$((flips + 1)) ;;
	[0-9]hop-*) chains=$((chains + 1)) ;;
	*) other=$((other + 1)) ;;
	esac
	if [ -z "$problem" ]; then
		case $file in
		*.flip-*) flips_ok=$((flips_ok + 1)) ;;
		[0-9]hop-*) chains_ok=$((chains_ok + 1)) ;;
		*) other_ok=$((other_ok + 1)) ;;
		esac
		note=
		[ "$mdkim" != "$expect" ] && note=" (Mail::DKIM says $mdkim: RFC 8617 wins, see mkchain.pl)"
		echo "ok - arc-diff $file: $what: $expect$note"
	else
		echo "not ok - arc-diff $file: $what: $problem"
		echo "#   arcverify: $ours"
		echo "#   Mail::DKIM: $theirs_cv ${detail:0:300}"
		rc=1
	fi
done <"$work/m/index"

echo "arc-diff: $chains_ok/$chains chains agreed (pass from both), $flips_ok/$flips flips failed in both," \
	"$other_ok/$other other cases (no ARC, mixed algorithms, cv=fail, i=1 cv=pass, no key, revoked key, 50 and 51 sets) as expected;" \
	"oldest_pass checked on $oldest chains"
exit $rc
