#!/usr/bin/perl
# NAME
#	mkchain.pl - ARC chains made at test time with Mail::DKIM (issue 15)
# SYNOPSIS
#	mkchain.pl keys DIR [DOMAIN:SELECTOR:ALG ...]
#	mkchain.pl seal --keys DIR [--in FILE] [--author D:S] --hop D:S:ALG [--hop ...]
#	           [--canon relaxed|simple] [--changes] [--no-check] > MESSAGE
#	mkchain.pl matrix --keys DIR --out OUTDIR
#	mkchain.pl edsig --keys DIR > MESSAGE
#	mkchain.pl corpus OUTDIR
# DESCRIPTION
#	keys: fresh keys (openssl genpkey: RSA 2048, Ed25519) into DIR, one
#	PEM file per key (SELECTOR._domainkey.DOMAIN.pem), and DIR/keys.txt,
#	the key records in arcverify's format ("SELECTOR._domainkey.DOMAIN
#	v=DKIM1; k=...; p=..." per line). ALG is rsa or ed25519. Without
#	DOMAIN:SELECTOR:ALG arguments: the keys matrix needs (the author
#	author.example s2026 rsa; the hops lists.example, forward.example,
#	relay.example, each with selectors rsa and ed; and a revoked record,
#	revoked._domainkey.forward.example).
#	DOMAIN:SELECTOR:ALG=FILE copies the private key FILE instead of
#	making one.
#
#	seal: a message (--in FILE, else a built-in one from
#	alice@author.example), DKIM-signed by the author (--author D:S, rsa,
#	default author.example:s2026; "--author none" leaves it unsigned; a
#	message given with --in is signed only when --author is given),
#	then passed through each --hop in turn. A hop, like a mailing list
#	or a forwarder:
#	  1. judges the message as it arrived (Mail::DKIM: the first DKIM
#	     signature, the ARC chain; SPF is taken as passing for the
#	     previous hop's domain) and writes its Authentication-Results
#	     (authserv-id its domain) with dkim=, spf=, dmarc= (DKIM or SPF
#	     aligned with the From domain) and arc=;
#	  2. with --changes: tags the Subject "[hopN] ", appends a footer to
#	     the body and adds a List-Id field;
#	  3. seals (ArcTest::Sealer, Mail::DKIM::ARC::Signer): the AAR from
#	     its A-R, the AMS (a=ALG, c=relaxed/CANON), the AS with cv= from
#	     step 1 (none, pass or fail).
#	Each hop checks that the chain it received is pass (none at the
#	first): a chain made here that Mail::DKIM itself does not take is
#	a bug of this script (--no-check skips it, for long chains).
#	Written with CRLF line ends.
#
#	matrix: the differential suite's inputs into OUTDIR (keys from
#	DIR), and OUTDIR/index, one line per message:
#	  FILE<TAB>EXPECTED<TAB>MAILDKIM<TAB>WHAT
#	EXPECTED is the cv RFC 8617 gives (pass, fail, none), MAILDKIM the
#	result Mail::DKIM must give ("=" when the same; differing only where
#	Mail::DKIM and RFC 8617 disagree, each such case commented below).
#	The chains: 1, 2, 3 hops x rsa-sha256/ed25519-sha256 x AMS body
#	canonicalization relaxed/simple x without/with changes at each hop
#	(24), and for each chain one byte flipped in each part (fail
#	expected): the newest AS's b=, the oldest AS's b= (2 and 3 hops),
#	the newest AMS's b=, the AAR i=1, the body, a header field the
#	newest AMS's h= names; a message without ARC header fields (none);
#	a chain of 3 hops sealed rsa, ed25519, rsa (pass); a chain sealed
#	cv=fail by a forwarder that received it broken; i=1
#	sealed cv=pass; the newest seal's key without a record or revoked;
#	50 and 51 sets (the RFC 8617 limit).
#
#	edsig: a message with a DKIM-Signature a=ed25519-sha256 (d=lists.example
#	s=ed) made by the ed25519 code ArcTest.pm gives Mail::DKIM, for an
#	independent verifier (dkimpy, whose ARC code knows no ed25519) to
#	check that code against RFC 8463.
#
#	corpus: the seeds of the arc fuzz target (tests/fuzz/arc.c) into
#	OUTDIR (its seed-* files replaced; regress-* kept), signed with the
#	published test keys of tests/unit/data/dkim (selector rsa:
#	test-rsa2048, ed: test-ed25519, as the target's key lookup answers):
#	chains of 1 to 3 hops, and hostile variants (a set's header missing
#	or doubled, a gap, i=0, cv= out of rule, a huge b=, a non-LDH d=,
#	selectors the target answers with a temporary failure, several
#	records, a revoked, malformed or 512-bit key, 60 sets). Names: seed- and the
#	first 12 hex digits of the content's SHA-1.
# DIAGNOSTICS
#	Dies (non-zero exit) when openssl, signing or a hop's check fails.
use strict;
use warnings;
use FindBin;
use lib $FindBin::Bin;
use ArcTest;
use Crypt::PK::Ed25519;
use File::Path qw(make_path);
use Getopt::Long qw(GetOptionsFromArray);
use MIME::Base64;

my @HOPS    = qw(lists.example forward.example relay.example);
my $AUTHOR  = 'author.example:s2026';
my @DEFAULT_KEYS = ( 'author.example:s2026:rsa', map { ( "$_:rsa:rsa", "$_:ed:ed25519" ) } @HOPS );

my $cmd = shift @ARGV // '';
if    ( $cmd eq 'keys' )   { cmd_keys(@ARGV) }
elsif ( $cmd eq 'seal' )   { cmd_seal(@ARGV) }
elsif ( $cmd eq 'matrix' ) { cmd_matrix(@ARGV) }
elsif ( $cmd eq 'edsig' )  { cmd_edsig(@ARGV) }
elsif ( $cmd eq 'corpus' ) { cmd_corpus(@ARGV) }
else {
	die "usage: mkchain.pl keys DIR [D:S:ALG ...] | seal --keys DIR --hop D:S:ALG ... | matrix --keys DIR --out DIR\n";
}
exit 0;

# ---- keys ------------------------------------------------------------------

sub cmd_keys {
	my ( $dir, @specs ) = @_;
	die "mkchain.pl keys: no directory\n" unless defined $dir;
	my $default = !@specs;
	@specs = @DEFAULT_KEYS if $default;
	make_path($dir);
	open( my $out, '>', "$dir/keys.txt" ) or die "$dir/keys.txt: $!\n";
	for my $spec (@specs) {
		my ( $dom, $sel, $alg ) = split /:/, $spec;
		die "mkchain.pl keys: $spec is not DOMAIN:SELECTOR:ALG\n" unless defined $alg;
		my $from;
		( $alg, $from ) = split /=/, $alg, 2;
		my $pem = key_file( $dir, $dom, $sel );
		if ( defined $from ) {
			system( 'cp', $from, $pem ) == 0 or die "cp $from failed\n";
			print $out "$sel._domainkey.$dom ", key_record( $pem, $alg ), "\n";
			next;
		}
		my @algopt = $alg eq 'rsa' ? ( '-algorithm', 'RSA', '-pkeyopt', 'rsa_keygen_bits:2048' )
		  : $alg eq 'ed25519' ? ( '-algorithm', 'ed25519' )
		  : die "mkchain.pl keys: algorithm $alg is not rsa or ed25519\n";
		system( 'openssl', 'genpkey', '-quiet', @algopt, '-out', $pem ) == 0
		  or die "openssl genpkey $alg failed\n";
		print $out "$sel._domainkey.$dom ", key_record( $pem, $alg ), "\n";
	}
	# a revoked key (empty p=) for the matrix's key-revoked case
	print $out "revoked._domainkey.$HOPS[1] v=DKIM1; k=rsa; p=\n" if $default;
	close $out or die "$dir/keys.txt: $!\n";
}

sub key_file { my ( $dir, $dom, $sel ) = @_; return "$dir/$sel._domainkey.$dom.pem" }

# key_record - the TXT record publishing a private key's public half
sub key_record {
	my ( $pem, $alg ) = @_;
	if ( $alg eq 'ed25519' ) {
		my $pk = Crypt::PK::Ed25519->new($pem);
		return 'v=DKIM1; k=ed25519; p=' . encode_base64( $pk->export_key_raw('public'), '' );
	}
	my $x509 = Mail::DKIM::PrivateKey->load( File => $pem )->cork->get_public_key_x509_string;
	$x509 =~ s/-----[^-]+-----//g;
	$x509 =~ s/\s+//g;
	return "v=DKIM1; k=rsa; p=$x509";
}

# signing_key - what Mail::DKIM signs with: its PrivateKey (rsa) or a Crypt::PK::Ed25519
sub signing_key {
	my ( $dir, $dom, $sel, $alg ) = @_;
	my $pem = key_file( $dir, $dom, $sel );
	die "no key $pem (mkchain.pl keys)\n" unless -r $pem;
	return $alg =~ /^ed25519/ ? Crypt::PK::Ed25519->new($pem) : Mail::DKIM::PrivateKey->load( File => $pem );
}

# ---- messages --------------------------------------------------------------

sub base_message {
	my ($tag) = @_;
	return ArcTest::crlf(<<"EOM");
From: Alice Author <alice\@author.example>
To: Team List <team\@lists.example>
Subject: Quarterly figures, $tag
Date: Sun, 06 Dec 2026 10:00:00 +0000
Message-ID: <$tag\@author.example>
MIME-Version: 1.0
Content-Type: text/plain; charset=us-ascii

Hello team,

the figures  are	in, with   some white space   
that relaxed and simple canonicalization treat apart.
 A line that starts with a space.

Alice


EOM
}

sub author_sign {
	my ( $keydir, $text, $dom, $sel ) = @_;
	my $signer = Mail::DKIM::Signer->new(
		Algorithm => 'rsa-sha256',
		Method    => 'relaxed/relaxed',
		Domain    => $dom,
		Selector  => $sel,
		Key       => signing_key( $keydir, $dom, $sel, 'rsa' ),
		Headers   => 'from:to:subject:date:message-id:mime-version:content-type',
	);
	ArcTest::feed( $signer, $text );
	return $signer->signature->as_string . "\r\n" . $text;
}

# split_message - (header text, body) of a CRLF message
sub split_message {
	my ($text) = @_;
	my $at = index( $text, "\r\n\r\n" );
	die "no end of headers\n" if $at < 0;
	return ( substr( $text, 0, $at + 2 ), substr( $text, $at + 4 ) );
}

# from_domain - the From address's domain
sub from_domain {
	my ($text) = @_;
	my ($hdr) = split_message($text);
	return lc($1) if $hdr =~ /^From:[^\r\n]*\@([A-Za-z0-9.-]+)/mi;
	return '';
}

# hop - one forwarder: judge, change, seal; the message as it leaves
sub hop {
	my ( $keydir, $text, $n, $spec, $prev, %o ) = @_;
	my ( $dom, $sel, $alg ) = split /:/, $spec;
	$alg = 'rsa' unless defined $alg;
	my $algname = $alg eq 'rsa' ? 'rsa-sha256' : 'ed25519-sha256';

	# 1. the message as it arrived
	my ( $dkim, $dd, $ds, $db ) = ArcTest::dkim_verify($text);
	my ($arc) = $n == 1 ? ('none') : $o{nocheck} ? ('pass') : ArcTest::arc_verify($text);
	if ( !$o{nocheck} ) {
		my $want = $o{received} // ( $n == 1 ? 'none' : 'pass' );
		die "hop $n ($dom): the chain received is $arc, not $want\n" if $arc ne $want;
	}
	$arc = $o{cv} if defined $o{cv};    # a sealer that writes the cv= it was told to
	my $author = from_domain($text);
	my $mfrom  = $prev // $author;
	my $dmarc  = ( $dkim eq 'pass' && lc( $dd // '' ) eq $author ) || $mfrom eq $author ? 'pass' : 'fail';
	my @ar = $dkim eq 'none' ? ('dkim=none') : ("dkim=$dkim header.d=$dd header.s=$ds header.b=$db");
	push @ar, "spf=pass smtp.mailfrom=" . ( $mfrom eq $author ? "alice\@$author" : "bounces\@$mfrom" );
	push @ar, "dmarc=$dmarc header.from=$author";
	push @ar, "arc=$arc";
	my $ar = "Authentication-Results: $dom;\r\n\t" . join( ";\r\n\t", @ar ) . "\r\n";
	my $received = "Received: from mx.$mfrom by mx.$dom; Sun, 06 Dec 2026 10:0$n:00 +0000\r\n";
	my ( $hdr, $body ) = split_message($text);

	# 2. what a list does to it
	if ( $o{changes} ) {
		$hdr =~ s/^Subject:[ \t]*/Subject: [hop$n] /mi or die "no Subject\n";
		$hdr .= "List-Id: Team at $dom <team.$dom>\r\n";
		$body .= "-- \r\nTeam list at $dom: https://$dom/team\r\n";
	}
	$text = $received . $ar . $hdr . "\r\n" . $body;

	# 3. the seal
	my $sealer = ArcTest::Sealer->new(
		Algorithm => $algname,
		Domain    => $dom,
		SrvId     => lc $dom,
		Selector  => $sel,
		Key       => signing_key( $keydir, $dom, $sel, $algname ),
		Chain     => $arc,
		AMSMethod => "relaxed/$o{canon}",
	);
	ArcTest::feed( $sealer, $text );
	die "hop $n ($dom): not sealed: " . ( $sealer->{details} // $sealer->result ) . "\n"
	  unless $sealer->result eq 'sealed';
	return $sealer->as_string . $text;
}

# chain - a message through the hops
sub chain {
	my ( $keydir, $text, $hops, %o ) = @_;
	my $prev;
	my $n = 0;
	for my $spec (@$hops) {
		$text = hop( $keydir, $text, ++$n, $spec, $prev, %o );
		($prev) = split /:/, $spec;
	}
	return $text;
}

sub cmd_seal {
	my @args = @_;
	my ( $keydir, $in, $author, @hops, $canon, $changes, $nocheck );
	$canon = 'relaxed';
	GetOptionsFromArray(
		\@args,
		'keys=s'   => \$keydir,
		'in=s'     => \$in,
		'author=s' => \$author,
		'hop=s'    => \@hops,
		'canon=s'  => \$canon,
		'changes'  => \$changes,
		'no-check' => \$nocheck,
	) or die "mkchain.pl seal: bad options\n";
	die "mkchain.pl seal: --keys DIR and at least one --hop needed\n" unless $keydir && @hops;
	die "mkchain.pl seal: --canon relaxed or simple\n" unless $canon =~ /^(relaxed|simple)$/;
	ArcTest::use_keys("$keydir/keys.txt");
	my $text;
	if ( defined $in ) {
		open( my $fh, '<', $in ) or die "$in: $!\n";
		local $/;
		$text = ArcTest::crlf(<$fh>);
	}
	else {
		$text = base_message('sealed');
		$author //= $AUTHOR;
	}
	if ( defined $author && $author ne 'none' ) {
		$text = author_sign( $keydir, $text, split( /:/, $author ) );
	}
	binmode STDOUT;
	print chain( $keydir, $text, \@hops, canon => $canon, changes => $changes, nocheck => $nocheck );
}

sub cmd_edsig {
	my @args = @_;
	my $keydir;
	GetOptionsFromArray( \@args, 'keys=s' => \$keydir ) or die "bad options\n";
	die "mkchain.pl edsig: --keys DIR\n" unless $keydir;
	my $text   = base_message('edsig');
	my $signer = Mail::DKIM::Signer->new(
		Algorithm => 'ed25519-sha256',
		Method    => 'relaxed/simple',
		Domain    => 'lists.example',
		Selector  => 'ed',
		Key       => signing_key( $keydir, 'lists.example', 'ed', 'ed25519' ),
		Headers   => 'from:to:subject:date:message-id',
	);
	ArcTest::feed( $signer, $text );
	binmode STDOUT;
	print $signer->signature->as_string . "\r\n" . $text;
}

sub cmd_corpus {
	my ($out) = @_;
	die "mkchain.pl corpus: no directory\n" unless defined $out;
	require Digest::SHA;
	require File::Temp;
	my $data   = "$FindBin::Bin/../unit/data/dkim";
	my $keydir = File::Temp::tempdir( CLEANUP => 1 );
	cmd_keys( $keydir, "author.example:s2026:rsa=$data/test-rsa2048.key",
		map { ( "$_:rsa:rsa=$data/test-rsa2048.key", "$_:ed:ed25519=$data/test-ed25519.key" ) } @HOPS );
	ArcTest::use_keys("$keydir/keys.txt");
	make_path($out);
	unlink glob("$out/seed-*");
	my %seen;
	my $put = sub {
		my ($text) = @_;
		my $name = 'seed-' . substr( Digest::SHA::sha1_hex($text), 0, 12 );
		return if $seen{$name}++;
		open( my $fh, '>', "$out/$name" ) or die "$out/$name: $!\n";
		binmode $fh;
		print $fh $text;
		close $fh or die "$out/$name: $!\n";
	};
	my $signed = sub { author_sign( $keydir, base_message(shift), split( /:/, $AUTHOR ) ) };
	my @two;
	for my $hops ( 1 .. 3 ) {
		for my $alg (qw(rsa ed25519)) {
			my $sel = $alg eq 'rsa' ? 'rsa' : 'ed';
			my @h = map { "$HOPS[$_]:$sel:$alg" } 0 .. $hops - 1;
			for my $canon (qw(relaxed simple)) {
				my $t = chain( $keydir, $signed->("c$hops$alg$canon"), \@h, canon => $canon, changes => $hops > 1 );
				$put->($t);
				push @two, $t if $hops == 2;
			}
		}
	}
	# a mixed chain: rsa, then ed25519, then rsa; LF line ends
	my $mixed = chain( $keydir, $signed->('mixed'),
		[ 'lists.example:rsa:rsa', 'forward.example:ed:ed25519', 'relay.example:rsa:rsa' ], canon => 'simple', changes => 1 );
	( my $lf = $mixed ) =~ s/\r\n/\n/g;
	$put->($lf);
	$put->( $signed->('noarc') );

	# hostile variants of a two-set chain
	my $t = $two[0];
	my $drop = sub {    # the field NAME i=INST removed
		my ( $text, $name, $inst ) = @_;
		my $f = find_field( $text, $name, $inst );
		substr( $text, $f->[1], $f->[2] - $f->[1] ) = '';
		return $text;
	};
	my $dup = sub {    # the field NAME i=INST twice
		my ( $text, $name, $inst ) = @_;
		my $f = find_field( $text, $name, $inst );
		substr( $text, $f->[1], 0 ) = substr( $text, $f->[1], $f->[2] - $f->[1] );
		return $text;
	};
	for my $name ( 'ARC-Seal', 'ARC-Message-Signature', 'ARC-Authentication-Results' ) {
		$put->( $drop->( $t, $name, 1 ) );
		$put->( $dup->( $t, $name, 2 ) );
	}
	( my $gap = $t ) =~ s/\bi=2;/i=3;/g;
	$put->($gap);
	( my $zero = $t ) =~ s/\bi=1;/i=0;/g;
	$put->($zero);
	( my $cvfail = $t ) =~ s/cv=pass/cv=fail/;
	$put->($cvfail);
	( my $cvnone = $t ) =~ s/cv=pass/cv=none/;
	$put->($cvnone);
	( my $huge = $t ) =~ s/(ARC-Seal: i=2;[^\r]*?\bb=)/$1 . ('QUJD' x 2500)/e;
	$put->($huge);
	( my $ldh = $t ) =~ s/d=forward\.example/d=for_ward..example/g;
	$put->($ldh);
	for my $sel (qw(tempfail multi revoked bad rsa512 nokey edrsa)) {
		( my $k = $t ) =~ s/(ARC-Seal: i=2;[^\r]*?)\bs=\w+/$1s=$sel/;
		$put->($k);
	}
	# 60 short unsigned sets: over the 50-set limit (small; the structure is what counts)
	my $sixty = '';
	for my $i ( reverse 1 .. 60 ) {
		my $cv = $i == 1 ? 'none' : 'pass';
		$sixty .= "ARC-Seal: i=$i; a=ed25519-sha256; cv=$cv; d=lists.example; s=ed; b=AAAA\r\n"
		  . "ARC-Message-Signature: i=$i; a=ed25519-sha256; c=relaxed/relaxed; d=lists.example; s=ed; h=from; bh=AAAA; b=AAAA\r\n"
		  . "ARC-Authentication-Results: i=$i; lists.example; arc=pass\r\n";
	}
	$put->( $sixty . base_message('sixty') );
}

# ---- the matrix and its flips ------------------------------------------------

# fields - the header fields of a message: [name, start, end] (end past the CRLF)
sub fields {
	my ($text) = @_;
	my ($hdr) = split_message($text);
	my @f;
	while ( $hdr =~ /\G([^:\r\n]+):(?:[^\r\n]*\r\n)(?:[ \t][^\r\n]*\r\n)*/gc ) {
		push @f, [ $1, $-[0], $+[0] ];
	}
	return @f;
}

# field_tag - a tag's value in a tag-list field (whitespace kept), and its offset in the text
sub field_tag {
	my ( $text, $f, $tag ) = @_;
	my $s = substr( $text, $f->[1], $f->[2] - $f->[1] );
	return unless $s =~ /[:;]\s*\Q$tag\E\s*=([^;]*)/g;
	return ( $1, $f->[1] + $-[1] );
}

sub instance_of {
	my ( $text, $f ) = @_;
	my ($i) = field_tag( $text, $f, 'i' );
	return defined $i ? $i + 0 : -1;
}

# find_field - the field NAME with i=INSTANCE
sub find_field {
	my ( $text, $name, $inst ) = @_;
	for my $f ( fields($text) ) {
		return $f if lc $f->[0] eq lc $name && instance_of( $text, $f ) == $inst;
	}
	die "no $name i=$inst\n";
}

# flip_at - the text with the first letter or digit at or after pos changed
# (a->b, z->a, 9->0: the same class, so base64 stays base64)
sub flip_at {
	my ( $text, $pos ) = @_;
	pos($text) = $pos;
	$text =~ /\G[^A-Za-z0-9]*/gc;
	my $at = pos($text);
	my $c  = substr( $text, $at, 1 );
	die "nothing to flip at $pos\n" unless $c =~ /[A-Za-z0-9]/;
	my $n = $c eq 'z' ? 'a' : $c eq 'Z' ? 'A' : $c eq '9' ? '0' : chr( ord($c) + 1 );
	substr( $text, $at, 1 ) = $n;
	return $text;
}

# flip_b - flip a byte in the middle of a signature's b= (not its last characters,
# whose low bits base64 may leave unused)
sub flip_b {
	my ( $text, $f ) = @_;
	my ( $val, $off ) = field_tag( $text, $f, 'b' );
	die "no b=\n" unless defined $val;
	return flip_at( $text, $off + int( length($val) / 2 ) );
}

sub cmd_matrix {
	my @args = @_;
	my ( $keydir, $out );
	GetOptionsFromArray( \@args, 'keys=s' => \$keydir, 'out=s' => \$out ) or die "bad options\n";
	die "mkchain.pl matrix: --keys DIR --out DIR\n" unless $keydir && $out;
	ArcTest::use_keys("$keydir/keys.txt");
	make_path($out);
	open( my $idx, '>', "$out/index" ) or die "$out/index: $!\n";
	my $put = sub {
		my ( $name, $text, $expect, $mdkim, $what ) = @_;
		open( my $fh, '>', "$out/$name" ) or die "$out/$name: $!\n";
		binmode $fh;
		print $fh $text;
		close $fh or die "$out/$name: $!\n";
		print $idx join( "\t", $name, $expect, $mdkim, $what ), "\n";
	};

	# no ARC header fields at all: none (the author's DKIM signature only)
	$put->( 'noarc.eml', author_sign( $keydir, base_message('noarc'), split( /:/, $AUTHOR ) ),
		'none', '=', 'no ARC header fields' );

	for my $hops ( 1 .. 3 ) {
		for my $alg (qw(rsa ed25519)) {
			my $sel = $alg eq 'rsa' ? 'rsa' : 'ed';
			for my $canon (qw(relaxed simple)) {
				for my $changes ( 0, 1 ) {
					my $name = sprintf( '%dhop-%s-%s-%s', $hops, $alg, $canon, $changes ? 'changed' : 'same' );
					my @h = map { "$HOPS[$_]:$sel:$alg" } 0 .. $hops - 1;
					my $text = author_sign( $keydir, base_message($name), split( /:/, $AUTHOR ) );
					$text = chain( $keydir, $text, \@h, canon => $canon, changes => $changes );
					$put->( "$name.eml", $text, 'pass', '=', "$hops hops, $alg, AMS c=relaxed/$canon, "
						  . ( $changes ? 'changed at each hop' : 'unchanged' ) );

					my $as  = find_field( $text, 'ARC-Seal',               $hops );
					my $ams = find_field( $text, 'ARC-Message-Signature',  $hops );
					my $aar = find_field( $text, 'ARC-Authentication-Results', 1 );
					$put->( "$name.flip-as-newest.eml", flip_b( $text, $as ), 'fail', '=',
						"the newest ARC-Seal's b= (i=$hops)" );
					if ( $hops > 1 ) {
						$put->( "$name.flip-as-oldest.eml", flip_b( $text, find_field( $text, 'ARC-Seal', 1 ) ),
							'fail', '=', "the oldest ARC-Seal's b= (i=1)" );
					}
					$put->( "$name.flip-ams.eml", flip_b( $text, $ams ), 'fail', '=',
						"the newest ARC-Message-Signature's b= (i=$hops)" );
					# the authserv-id of the AAR i=1 (every seal covers it)
					my ( undef, $ioff ) = field_tag( $text, $aar, 'i' );
					my $semi = index( $text, ';', $ioff );
					$put->( "$name.flip-aar.eml", flip_at( $text, $semi + 1 ), 'fail', '=',
						'the ARC-Authentication-Results i=1 (its authserv-id)' );
					my ($hdr) = split_message($text);
					$put->( "$name.flip-body.eml", flip_at( $text, length($hdr) + 2 ), 'fail', '=',
						'the body (its first letter)' );
					my ($hlist) = field_tag( $text, $ams, 'h' );
					$hlist =~ s/\s+//g;
					my %named = map { lc($_) => 1 } split /:/, $hlist;
					die "$name: the newest AMS does not sign Subject (h=$hlist)\n" unless $named{subject};
					my ($subj) = grep { lc $_->[0] eq 'subject' } fields($text);
					$put->( "$name.flip-header.eml", flip_at( $text, $subj->[1] + length('Subject:') ), 'fail', '=',
						'the Subject field (named in the newest AMS h=)' );
				}
			}
		}
	}

	# Sealers of both algorithms in one chain: rsa, ed25519, rsa, changed at each hop
	$put->( 'mixed.eml', chain( $keydir, author_sign( $keydir, base_message('mixed'), split( /:/, $AUTHOR ) ),
			[ "$HOPS[0]:rsa:rsa", "$HOPS[1]:ed:ed25519", "$HOPS[2]:rsa:rsa" ], canon => 'simple', changes => 1 ),
		'pass', '=', '3 hops sealed rsa-sha256, ed25519-sha256, rsa-sha256, changed at each hop' );

	# A forwarder that found the chain broken (the body changed after hop 1,
	# without a seal) and sealed with cv=fail: fail (RFC 8617 5.2 step 2).
	{
		my $t = chain( $keydir, author_sign( $keydir, base_message('cvfail'), split( /:/, $AUTHOR ) ),
			["$HOPS[0]:rsa:rsa"], canon => 'relaxed' );
		my ($hdr) = split_message($t);
		$t = flip_at( $t, length($hdr) + 2 );
		$t = hop( $keydir, $t, 2, "$HOPS[1]:ed:ed25519", $HOPS[0], canon => 'relaxed', received => 'fail', cv => 'fail' );
		$put->( 'cvfail.eml', $t, 'fail', '=', 'sealed cv=fail by a forwarder that received a broken chain' );
	}
	# i=1 sealed with cv=pass: fail (RFC 8617 5.2 step 3: i=1 must be cv=none).
	$put->( 'cv1pass.eml', hop( $keydir, author_sign( $keydir, base_message('cv1pass'), split( /:/, $AUTHOR ) ),
			1, "$HOPS[0]:rsa:rsa", undef, canon => 'relaxed', cv => 'pass' ),
		'fail', '=', 'the first seal says cv=pass' );
	# The newest seal names a selector with no key record (gone), or a revoked key:
	# RFC 8617 5.2 has fail for a seal that does not verify. RFC 8617 vs Mail::DKIM:
	# Mail::DKIM 1.20230212 answers with its DKIM word "invalid" (no usable key),
	# which RFC 8617 does not register for ARC; our answer is fail.
	for my $sel (qw(gone revoked)) {
		my $t = chain( $keydir, author_sign( $keydir, base_message("key$sel"), split( /:/, $AUTHOR ) ),
			[ "$HOPS[0]:rsa:rsa", "$HOPS[1]:rsa:rsa" ], canon => 'relaxed' );
		my $as = find_field( $t, 'ARC-Seal', 2 );
		my ( $v, $off ) = field_tag( $t, $as, 's' );
		substr( $t, $off, length($v) ) = $sel;
		$put->( "key-$sel.eml", $t, 'fail', 'invalid',
			$sel eq 'gone' ? "the newest seal's key has no record (s=gone)" : "the newest seal's key is revoked (p= empty)" );
	}

	# RFC 8617 4.2.1 and 5.1.2: at most 50 ARC sets. 50 sets pass for both.
	my @h50 = map { sprintf( '%s:ed:ed25519', $HOPS[ $_ % 3 ] ) } 0 .. 49;
	my $t50 = chain( $keydir, author_sign( $keydir, base_message('50sets'), split( /:/, $AUTHOR ) ),
		\@h50, canon => 'relaxed', nocheck => 1 );
	$put->( '50sets.eml', $t50, 'pass', '=', '50 ARC sets (the most RFC 8617 allows)' );
	# RFC 8617 vs Mail::DKIM: a 51st set makes the chain fail (the i= tag is 1 to 50;
	# 5.2: chains over the limit fail). Mail::DKIM 1.20230212 takes instances up to
	# 1024 and passes it; RFC 8617 wins, our answer is asserted as fail.
	my $t51 = hop( $keydir, $t50, 51, 'relay.example:ed:ed25519', 'lists.example', canon => 'relaxed', nocheck => 1 );
	$put->( '51sets.eml', $t51, 'fail', 'pass', '51 ARC sets (over the RFC 8617 limit of 50)' );
	close $idx or die "$out/index: $!\n";
}
