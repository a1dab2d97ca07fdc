#!/usr/bin/perl
# NAME
#	verify.pl - Mail::DKIM::ARC::Verifier's answer for messages (the other side of diff.sh)
# SYNOPSIS
#	verify.pl --keys KEYSFILE MESSAGE...
# DESCRIPTION
#	For each MESSAGE (LF or CRLF) one line:
#	  MESSAGE<TAB>cv=<none|pass|fail|...><TAB>ams=<i:result,...><TAB><details>
#	cv is Mail::DKIM's ARC result ("invalid" and the like as it says
#	them), ams each ARC-Message-Signature's own result (Mail::DKIM
#	verifies all of them, not only the newest), details its
#	result_detail. Key lookups are answered from KEYSFILE
#	("selector._domainkey.domain TEXT" per line; ArcTest::FakeResolver),
#	never from the network. Mail::DKIM learns ed25519-sha256 from
#	ArcTest.pm.
# DIAGNOSTICS
#	Exit 0; non-zero when a file cannot be read.
use strict;
use warnings;
use FindBin;
use lib $FindBin::Bin;
use ArcTest;
use Getopt::Long;

my $keys;
GetOptions( 'keys=s' => \$keys ) or die "usage: verify.pl --keys FILE MESSAGE...\n";
die "usage: verify.pl --keys FILE MESSAGE...\n" unless $keys && @ARGV;
ArcTest::use_keys($keys);
for my $file (@ARGV) {
	open( my $fh, '<', $file ) or die "$file: $!\n";
	binmode $fh;
	my $text = do { local $/; <$fh> };
	close $fh;
	my ( $result, $detail, $v ) = ArcTest::arc_verify($text);
	my @ams;
	for my $sig ( $v->signatures ) {
		next unless ref($sig) eq 'Mail::DKIM::ARC::MessageSignature';
		push @ams, ( $sig->instance // '?' ) . ':' . ( $sig->result // '?' );
	}
	$detail //= '';
	$detail =~ s/\s+/ /g;
	print join( "\t", $file, "cv=$result", 'ams=' . join( ',', sort @ams ), $detail ), "\n";
}
