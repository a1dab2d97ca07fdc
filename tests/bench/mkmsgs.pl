#!/usr/bin/perl
# NAME
#	mkmsgs.pl - build and pre-sign the benchmark's messages, once per run
# SYNOPSIS
#	mkmsgs.pl --mix FILE --keys DIR --out DIR [--variants N] [--verify]
# DESCRIPTION
#	Reads the mix (tests/bench/mix: NAME WEIGHT EXPECT MAIL_FROM
#	FROM_HEADER SELECTOR BODY_KIB) and writes, for every class, N variants
#	(default 4; each its own Subject and Message-ID) as OUT/NAME.vI.eml:
#	the exact message bytes, CRLF lines, not dot-stuffed. A class with a
#	selector is DKIM-signed by the From header's domain with the key
#	keys.sh made for it (DIR/SELECTOR.pem): rsa-sha256 with RSA keys,
#	ed25519-sha256 (RFC 8463) with the Ed25519 key, c=relaxed/relaxed,
#	h= From, To, Subject, Date, Message-ID, MIME-Version, Content-Type.
#	Signing works as tests/e2e/scenario.pl does it (Mail::DKIM's classes;
#	for ed25519, which this Mail::DKIM lacks, a small algorithm class on
#	Crypt::PK::Ed25519).
#
#	OUT/mix.idx then holds one line per class for the load generators
#	(smtpload, miltload):
#	    NAME WEIGHT EXPECT MAIL_FROM FILE[,FILE...]
#
#	--verify (inside the benchmark's namespace, where the key records are
#	served) checks every signed message as built: dkimpy's dkimverify must
#	pass each one, and Mail::DKIM::Verifier each RSA one. A signer that
#	does not sign right would make every milter look wrong.
# DIAGNOSTICS
#	Exit 0 when everything was written (and verified); 1 with a message
#	on stderr otherwise.

use strict;
use warnings;
use Getopt::Long;
use POSIX qw(strftime);
use MIME::Base64;
use Digest::SHA;
use Mail::DKIM::Signature;
use Mail::DKIM::PrivateKey;
use Mail::DKIM::Verifier;
use Crypt::PK::Ed25519;

my ($mix, $keydir, $out, $variants, $verify) = ('', '', '', 4, 0);
GetOptions('mix=s' => \$mix, 'keys=s' => \$keydir, 'out=s' => \$out,
	'variants=i' => \$variants, 'verify' => \$verify)
    or die "usage: mkmsgs.pl --mix FILE --keys DIR --out DIR [--variants N] [--verify]\n";
die "mkmsgs.pl: --mix, --keys and --out are required\n" unless $mix && $keydir && $out;
die "mkmsgs.pl: --variants must be 1..100\n" unless $variants >= 1 && $variants <= 100;
mkdir $out unless -d $out;
die "mkmsgs.pl: cannot make $out: $!\n" unless -d $out;

# read_mix - the classes of the mix file, in file order
sub read_mix {
	my @classes;
	open(my $fh, '<', $mix) or die "mkmsgs.pl: $mix: $!\n";
	while (my $l = <$fh>) {
		next if $l =~ /^\s*(#|$)/;
		my @f = split ' ', $l;
		die "mkmsgs.pl: $mix:$.: want 7 fields, got " . @f . "\n" unless @f == 7;
		my %c;
		@c{qw(name weight expect mailfrom from selector kib)} = @f;
		die "mkmsgs.pl: $mix:$.: bad weight, expect or size\n"
		    unless $c{weight} =~ /^[1-9]\d*$/ && $c{expect} =~ /^[245]\d\d$/ && $c{kib} =~ /^[1-9]\d*$/;
		die "mkmsgs.pl: $mix:$.: bad address\n" unless $c{mailfrom} =~ /^[^@\s]+@[^@\s]+$/ && $c{from} =~ /^[^@\s]+@([^@\s]+)$/;
		$c{domain} = $1;
		die "mkmsgs.pl: $mix:$.: selector is rsa2048, ed25519 or -\n"
		    unless $c{selector} =~ /^(rsa2048|ed25519|-)$/;
		push @classes, \%c;
	}
	close $fh;
	die "mkmsgs.pl: $mix: no classes\n" unless @classes;
	return @classes;
}

# body_text - about KIB KiB of plain text lines (CRLF), different for each class and variant
sub body_text {
	my ($kib, $seed) = @_;
	my @words = qw(the quarterly report shows that delivery of mail from our partners
	    improved after every sender published records for authentication and the
	    receivers began to check them before accepting any message at all);
	my ($text, $i) = ('', 0);
	while (length $text < $kib * 1024) {
		my $line = '';
		while (length $line < 66) {
			$line .= $words[($i * 7 + $seed) % @words] . ' ';
			$i++;
		}
		$line =~ s/ $//;
		$text .= "$line\r\n";
		$text .= "\r\n" if $i % 50 < 10 && length($line) % 3 == 0; # a paragraph now and then
	}
	return $text;
}

# header_name - the field name of a header field text, lower case
sub header_name {
	my ($f) = @_;
	return $f =~ /^([^:\s]+)\s*:/ ? lc $1 : '';
}

# dkim_run - feed headers and body through a fresh algorithm object for $sig
sub dkim_run {
	my ($sig, $headers, $body) = @_;
	my $alg = $sig->algorithm;
	my $class = $alg eq 'ed25519-sha256' ? 'Bench::Ed25519Sha256' : $sig->get_algorithm_class($alg)
	    // die "mkmsgs.pl: unknown algorithm $alg\n";
	my $algo = $class->new(Signature => $sig);
	my @h = map { "$_\r\n" } @$headers;
	$algo->add_header($_) for @h;
	$algo->finish_header(Headers => \@h);
	$algo->add_body($body) if length $body;
	$algo->finish_body;
	return $algo;
}

# dkim_sign - the DKIM-Signature field for headers and body, by DOMAIN with SELECTOR's key
sub dkim_sign {
	my ($domain, $selector, $headers, $body) = @_;
	my $alg = $selector eq 'ed25519' ? 'ed25519-sha256' : 'rsa-sha256';
	my $h = join(':', grep { /^(from|to|subject|date|message-id|mime-version|content-type)$/ }
		map { header_name($_) } @$headers);
	my $sig = Mail::DKIM::Signature->new(Algorithm => $alg, Method => 'relaxed/relaxed',
		Headers => $h, Domain => $domain, Selector => $selector, Timestamp => int(time));
	my $algo = dkim_run($sig, $headers, $body);
	my $file = "$keydir/$selector.pem";
	die "mkmsgs.pl: no key file $file (keys.sh)\n" unless -r $file;
	my $pk = $selector eq 'ed25519' ? Crypt::PK::Ed25519->new($file)
	    : Mail::DKIM::PrivateKey->load(File => $file);
	$sig->data($algo->sign($pk));
	$sig->prettify_safe;
	(my $field = $sig->as_string) =~ s/\r?\n\z//;
	return $field;
}

# build - one message of class C, variant V: (text, signed?)
sub build {
	my ($c, $v) = @_;
	my $date = strftime('%a, %d %b %Y %H:%M:%S +0000', gmtime);
	my @h = ("Date: $date", "From: Bench Sender <$c->{from}>", 'To: <bob@example.org>',
		"Subject: bench $c->{name} variant $v", "Message-ID: <bench-$c->{name}-v$v-$$\@bench.test>",
		'MIME-Version: 1.0', 'Content-Type: text/plain; charset=us-ascii');
	my $body = body_text($c->{kib}, length($c->{name}) * 13 + $v);
	if ($c->{selector} ne '-') {
		unshift @h, dkim_sign($c->{domain}, $c->{selector}, \@h, $body);
	}
	return join("\r\n", @h) . "\r\n\r\n" . $body;
}

# check_signed - problems with a signed message as built: dkimpy (and Mail::DKIM for RSA) must pass it
sub check_signed {
	my ($file, $selector) = @_;
	my @bad;
	my $o = `dkimverify < '$file' 2>&1`;
	push @bad, "dkimverify: " . join(' ', split ' ', $o) if $? != 0;
	if ($selector ne 'ed25519') {
		open(my $fh, '<', $file) or return ("$file: $!");
		binmode $fh;
		local $/;
		my $m = <$fh>;
		close $fh;
		my $ver = Mail::DKIM::Verifier->new;
		$ver->PRINT($m);
		$ver->CLOSE;
		push @bad, 'Mail::DKIM: ' . $ver->result_detail unless $ver->result eq 'pass';
	}
	return @bad;
}

my @classes = read_mix();
my @bad;
open(my $idx, '>', "$out/mix.idx.tmp") or die "mkmsgs.pl: $out/mix.idx.tmp: $!\n";
for my $c (@classes) {
	my @files;
	for my $v (1 .. $variants) {
		my $f = "$out/$c->{name}.v$v.eml";
		open(my $fh, '>', $f) or die "mkmsgs.pl: $f: $!\n";
		binmode $fh;
		print $fh build($c, $v);
		close $fh or die "mkmsgs.pl: $f: $!\n";
		push @files, $f;
		push @bad, map { "$f: $_" } check_signed($f, $c->{selector}) if $verify && $c->{selector} ne '-';
	}
	print $idx join(' ', @$c{qw(name weight expect mailfrom)}, join(',', @files)), "\n";
}
close $idx or die "mkmsgs.pl: $out/mix.idx: $!\n";
if (@bad) {
	print STDERR "mkmsgs.pl: a signed message does not verify: $_\n" for @bad;
	exit 1;
}
rename "$out/mix.idx.tmp", "$out/mix.idx" or die "mkmsgs.pl: $out/mix.idx: $!\n";
exit 0;

# ---- ed25519-sha256 (RFC 8463), which this Mail::DKIM does not have ------------

package Bench::Ed25519Sha256;
use parent -norequire, 'Mail::DKIM::Algorithm::Base';

# init_digests - SHA-256 for the header data and the body, as rsa-sha256
sub init_digests {
	my ($self) = @_;
	$self->{header_digest} = Digest::SHA->new(256);
	$self->{body_digest} = Digest::SHA->new(256);
}

# sign - PureEdDSA (Ed25519) over the SHA-256 hash of the canonicalised headers; base64
sub sign {
	my ($self, $key) = @_;
	return MIME::Base64::encode_base64($key->sign_message($self->{header_digest}->digest), '');
}

# wants_pre_signature_headers - as the RSA classes
sub wants_pre_signature_headers { return 1 }
