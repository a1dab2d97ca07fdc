#!/usr/bin/perl
# NAME
#	scenario.pl - run end-to-end scenario files against an SMTP server
# SYNOPSIS
#	scenario.pl --maildir DIR --work DIR [-j N] FILE...
# DESCRIPTION
#	Each FILE describes one SMTP session (format: tests/e2e/README). The
#	session is driven either by swaks (tool = swaks, the default) or by
#	a small SMTP client of our own (tool = raw: exact bytes, no HELO,
#	pauses, a barrier for concurrent sessions). Every reply is compared
#	with the expected one (basic code exactly, enhanced code exactly,
#	text as a case-insensitive substring); delivered copies are found in
#	the Maildir DIR by the scenario's unique Message-ID and their headers
#	checked. Up to N files run at once (default 1).
#
#	Prints, in file order, one line per scenario: "ok - NAME" or
#	"not ok - NAME: got X, want Y[; ...]".
#
#	A scenario that uses from_header, raw_header, sign, after_sign_* or
#	verify gets its whole message built here (exact bytes, CRLF lines):
#	DKIM signatures are made with Mail::DKIM's signature, canonicalisation
#	and RSA algorithm classes, and for ed25519-sha256 (which this
#	Mail::DKIM lacks) with a small algorithm class of our own on
#	Crypt::PK::Ed25519 (RFC 8463: PureEdDSA over the SHA-256 hash of the
#	canonicalised header data). Keys come from the work directory
#	(keys.sh: --keys DIR, default WORK/keys). Such a message goes to swaks
#	as --data @FILE --no-data-fixup, or to our own client, unchanged but
#	for dot-stuffing. "verify" checks the signatures of the message as
#	sent or as delivered with Mail::DKIM::Verifier and with dkimpy
#	(dkimverify: an independent implementation, with ed25519): run.sh's
#	signing harness self-check.
#
#	ARC (RFC 8617): an arc_seal line is one hop: the message as it is at
#	that line (after the sign lines and the earlier after_sign_* changes
#	and hops, in file order) gets the hop's Authentication-Results, and
#	Mail::DKIM::ARC::Signer seals it (rsa-sha256; its ARC-Seal,
#	ARC-Message-Signature and ARC-Authentication-Results go on top).
#	"verify_arc" checks the chain with Mail::DKIM::ARC::Verifier.
# DIAGNOSTICS
#	Exit 0 when all passed, 1 when any failed, 2 on a malformed file.

use strict;
use warnings;
use Getopt::Long;
use IO::Socket::IP;
use IO::Select;
use POSIX qw(:sys_wait_h);
use Time::HiRes qw(time sleep);
use MIME::Base64;
use Digest::SHA;
use Mail::DKIM::Signature;
use Mail::DKIM::PrivateKey;
use Mail::DKIM::Verifier;
use Mail::DKIM::ARC::Signer;
use Mail::DKIM::ARC::Verifier;
use Crypt::PK::Ed25519;

my ($maildir, $work, $jobs, $keydir, $mta) = ('', '', 1, '', 'postfix');
GetOptions('maildir=s' => \$maildir, 'work=s' => \$work, 'j=i' => \$jobs, 'keys=s' => \$keydir,
    'mta=s' => \$mta)
    or die "usage: scenario.pl --maildir DIR --work DIR [--keys DIR] [--mta postfix|sendmail] [-j N] FILE...\n";
die "scenario.pl: --mta must be postfix or sendmail\n" unless $mta =~ /^(postfix|sendmail)$/;
die "scenario.pl: --maildir is required\n" unless $maildir;
# the test's own (mktemp) directory: never fixed names in /tmp
die "scenario.pl: --work is required\n" unless $work;
$keydir ||= "$work/keys";

my %MULTI = map { $_ => 1 } qw(rcpt expect_rcpt header want_header want_header_re no_header
    from_header raw_header sign after_sign_header after_sign_body after_sign_replace
    after_sign_edit after_sign_subject_tag arc_seal count_header want_raw_re no_raw_re verify
    verify_arc repeat_header);
my %SINGLE = map { $_ => 1 } qw(name tool client server port helo helo_cmd nohelo from body
    expect_banner expect_helo expect_auth expect_mail expect_data delivered barrier
    touch_after_helo wait_after_helo timeout auth_user auth_password);
# Values of these keys get \-escapes and %{C*N} expanded.
my %DECODE = map { $_ => 1 } qw(helo from rcpt header body send from_header raw_header
    after_sign_header after_sign_body after_sign_replace after_sign_edit after_sign_subject_tag
    arc_seal repeat_header);
# These keys make scenario.pl build (and maybe sign) the whole message itself.
my %BUILD = map { $_ => 1 } qw(from_header raw_header sign after_sign_header after_sign_body
    after_sign_replace after_sign_edit after_sign_subject_tag arc_seal verify verify_arc
    repeat_header);
# The after-signing changes and the ARC hops, applied in file order.
my %AFTER = map { $_ => 1 } qw(after_sign_header after_sign_body after_sign_replace after_sign_edit
    after_sign_subject_tag arc_seal);

# decode - expand \\ \r \n \t \0 \xHH and %{C*N} (C repeated N times)
sub decode {
	my ($v) = @_;
	$v =~ s/%\{(.)\*(\d+)\}/$1 x $2/ge;
	$v =~ s/\\(x([0-9a-fA-F]{2})|r|n|t|0|\\)/
	    defined $2 ? chr(hex $2) : $1 eq 'r' ? "\r" : $1 eq 'n' ? "\n" :
	    $1 eq 't' ? "\t" : $1 eq '0' ? "\0" : "\\"/ge;
	return $v;
}

# parse - read one scenario file into a hash; dies with file:line on errors
sub parse {
	my ($file) = @_;
	my %s = (file => $file, steps => [], extra => [], after => []);
	$s{$_} = [] for keys %MULTI;
	open(my $fh, '<', $file) or die "$file: $!\n";
	# First pass: every line, with its MTA prefix ("sendmail.KEY = ...").
	my (@lines, %mine, %theirs);
	while (my $line = <$fh>) {
		chomp $line;
		next if $line =~ /^\s*(#|$)/;
		my ($m, $k, $v) = $line =~ /^\s*(?:(postfix|sendmail)\.)?([a-z_]+)\s*=\s?(.*?)\s*$/
		    or die "$file:$.: not key = value\n";
		$m //= '';
		die "$file:$.: unknown key $k\n"
		    unless $MULTI{$k} || $SINGLE{$k} || $k eq 'send' || $k eq 'expect'
		    || ($m ne '' && ($k eq 'why' || $k eq 'skip'));
		# send and expect go together: an MTA's own session replaces the whole one
		my $group = $k eq 'expect' ? 'send' : $k;
		$mine{$group} = 1 if $m eq $mta && $k ne 'why' && $k ne 'skip';
		$theirs{$m}{$k} = $v if $m ne '';
		push @lines, [$m, $k, $v, $.];
	}
	# Each MTA's differences must say why (the test says so, not just does so).
	for my $m (sort keys %theirs) {
		my @keys = grep { $_ ne 'why' && $_ ne 'skip' } keys %{ $theirs{$m} };
		die "$file: $m.KEY lines without a $m.why line\n" if @keys && !defined $theirs{$m}{why};
		die "$file: $m.why without any $m.KEY line\n" if !@keys && !defined $theirs{$m}{skip}
		    && defined $theirs{$m}{why};
	}
	$s{skip} = $theirs{$mta}{skip} if defined $theirs{$mta}{skip};
	$s{why} = $theirs{$mta}{why} if defined $theirs{$mta}{why};
	# Second pass: the common lines the MTA does not replace, and its own.
	for my $l (@lines) {
		my ($m, $k, $v, $ln) = @$l;
		next if $k eq 'why' || $k eq 'skip';
		my $group = $k eq 'expect' ? 'send' : $k;
		next if $m eq '' ? $mine{$group} : $m ne $mta;
		$v = decode($v) if $DECODE{$k};
		if ($k eq 'send') {
			push @{ $s{steps} }, { send => $v };
		} elsif ($k eq 'expect') {
			die "$file:$ln: expect before any send\n" unless @{ $s{steps} };
			$s{steps}[-1]{expect} = $v;
		} elsif ($MULTI{$k}) {
			push @{ $s{$k} }, $v;
			# header lines of a built message keep their file order
			push @{ $s{extra} }, $v if $k eq 'header' || $k eq 'raw_header';
			push @{ $s{extra} }, repeat_header($v, "$file:$ln") if $k eq 'repeat_header';
			push @{ $s{after} }, [$k, $v] if $AFTER{$k};
		} else {
			die "$file:$ln: $k given twice\n" if exists $s{$k};
			$s{$k} = $v;
		}
		$s{build} = 1 if $BUILD{$k};
		check_value($k, $v, "$file:$ln");
	}
	close $fh;
	die "$file: no name\n" unless defined $s{name};
	$s{tool} //= @{ $s{steps} } ? 'raw' : 'swaks';
	die "$file: tool must be swaks or raw\n" unless $s{tool} =~ /^(swaks|raw)$/;
	$s{server} //= '127.0.0.1';
	$s{port} //= 25;
	$s{client} //= '192.0.2.10';
	$s{helo} //= 'mail.pass.test';
	$s{helo_cmd} //= 'EHLO';
	$s{timeout} //= 60;
	$s{from} //= 'alice@pass.test';
	(my $slug = $s{name}) =~ s/[^A-Za-z0-9]+/-/g;
	$s{msgid} = sprintf('<e2e-%s-%d-%d@e2e.test>', substr($slug, 0, 40), $$, int(time * 1000));
	return \%s;
}

# check_value - die with WHERE on a malformed value of the new keys (before any session)
sub check_value {
	my ($k, $v, $where) = @_;
	if ($k eq 'sign') {
		my ($d, $sel, @o) = split ' ', $v;
		die "$where: sign = DOMAIN SELECTOR [a=ALG] [l=N|l=body] [c=H/B] [h=LIST] [q=LIST] [key=NAME]\n"
		    unless defined $sel;
		for (@o) {
			die "$where: sign: unknown option \"$_\"\n" unless /^(a|l|c|h|q|key)=./;
			die "$where: sign: l= takes a number or \"body\"\n" if /^l=/ && !/^l=(\d+|body)$/;
			die "$where: sign: key= is one of rsa2048 rsa1024 rsa512 rsa8192 ed25519\n"
			    if /^key=/ && !/^key=(rsa2048|rsa1024|rsa512|rsa8192|ed25519)$/;
		}
	} elsif ($k eq 'after_sign_edit') {
		die "$where: after_sign_edit = Name: OLD => NEW\n" unless $v =~ /^[^:\s]+:\s*.+? => /s;
	} elsif ($k eq 'after_sign_replace' || $k eq 'after_sign_header') {
		die "$where: $k = Name: value\n" unless $v =~ /^[^:\s]+\s*:/;
	} elsif ($k eq 'count_header') {
		die "$where: count_header = Name: REGEX = N\n" unless $v =~ /^[^:\s]+:.* = \d+$/;
	} elsif ($k eq 'verify') {
		die "$where: verify = sent|delivered mail-dkim|dkimpy RESULT...\n"
		    unless $v =~ /^(sent|delivered)\s+(mail-dkim|dkimpy)(\s+\S+)+$/;
	} elsif ($k eq 'verify_arc') {
		die "$where: verify_arc = sent|delivered pass|fail|none\n"
		    unless $v =~ /^(sent|delivered)\s+(pass|fail|none)$/;
	} elsif ($k eq 'arc_seal') {
		my ($d, $sel, $o, $aar) = arc_seal_spec($v)
		    or die "$where: arc_seal = DOMAIN SELECTOR [key=NAME] [cv=none|pass|fail]: AUTHSERV-ID; RESULTS\n";
		for (split ' ', $o) {
			die "$where: arc_seal: unknown option \"$_\"\n" unless /^(key|cv)=./;
			die "$where: arc_seal: key= is one of rsa2048 rsa1024 forged\n"
			    if /^key=/ && !/^key=(rsa2048|rsa1024|forged)$/;
			die "$where: arc_seal: cv= is none, pass or fail\n" if /^cv=/ && !/^cv=(none|pass|fail)$/;
		}
	}
}

# repeat_header - "N Name: value" -> N header lines, %{i} replaced by 1..N
sub repeat_header {
	my ($v, $where) = @_;
	my ($n, $line) = $v =~ /^(\d+) (.+)$/s or die "$where: repeat_header = N Name: value\n";
	return map { (my $l = $line) =~ s/%\{i\}/$_/g; $l } 1 .. $n;
}

# printable - a reply or value shown in a message, control bytes escaped
sub printable {
	my ($v) = @_;
	return '(none)' unless defined $v;
	$v =~ s/([^\x20-\x7e])/sprintf('\\x%02x', ord $1)/ge;
	$v = substr($v, 0, 200) . '...' if length $v > 200;
	return "\"$v\"";
}

# reply_matches - does reply text (all lines, "code text" each) match the spec "CODE [X.Y.Z] [text]"?
sub reply_matches {
	my ($got, $spec) = @_;
	my ($code, $rest) = $spec =~ /^\s*(\S+)\s*(.*)$/;
	if ($code eq 'none') {
		return !defined $got;
	}
	return 0 unless defined $got;
	my ($gcode, $gtext) = $got =~ /^(\d{3})[ -]?(.*)$/s or return 0;
	return 0 unless $gcode eq $code;
	if ($rest =~ s/^(\d\.\d{1,3}\.\d{1,3})\b\s*//) {
		my $x = $1;
		return 0 unless $gtext =~ /^\Q$x\E(\s|$)/;
	}
	return 1 if $rest eq '';
	(my $flat = $got) =~ s/\r?\n\d{3}[ -]/ /g;
	return index(lc $flat, lc $rest) >= 0;
}

# ---- SMTP sessions ---------------------------------------------------------

# session_raw - drive the session ourselves; returns list of [stage, reply]
sub session_raw {
	my ($s) = @_;
	my @t;
	my $sock = IO::Socket::IP->new(
		PeerHost => $s->{server}, PeerPort => $s->{port},
		LocalHost => $s->{client}, Timeout => 10, Proto => 'tcp');
	unless ($sock) {
		push @t, ['banner', "(connect failed: $@)"];
		return @t;
	}
	binmode $sock;
	my $sel = IO::Select->new($sock);
	my $buf = '';
	my $read = sub {
		my $deadline = time + $s->{timeout};
		my $reply = '';
		while (1) {
			while ($buf =~ s/^([^\n]*)\n//) {
				(my $l = $1) =~ s/\r$//;
				$reply .= ($reply eq '' ? '' : "\n") . $l;
				return $reply if $l =~ /^\d{3}( |$)/ || $l !~ /^\d{3}-/;
			}
			my $left = $deadline - time;
			return $reply eq '' ? undef : $reply if $left <= 0;
			return $reply eq '' ? undef : $reply unless $sel->can_read($left);
			my $n = sysread($sock, $buf, 65536, length $buf);
			return $reply eq '' ? undef : $reply unless $n;
		}
	};
	my $send = sub { my $l = shift; syswrite($sock, "$l\r\n") };
	my $msg = message($s);

	push @t, ['banner', $read->()];
	if (@{ $s->{steps} }) {
		for my $st (@{ $s->{steps} }) {
			my $c = $st->{send};
			if ($c =~ /^\.SLEEP\s+([\d.]+)$/) {
				sleep $1;
				next;
			} elsif ($c eq '.MESSAGE') {
				syswrite($sock, $msg . ".\r\n");
			} else {
				$send->($c);
			}
			push @t, ["step:$c", $read->(), $st->{expect}];
		}
		close $sock;
		return @t;
	}

	if (!$s->{nohelo}) {
		$send->("$s->{helo_cmd} $s->{helo}");
		push @t, ['helo', $read->()];
	}
	sync_points($s) or push @t, ['sync', 'barrier or wait file timed out'];
	$send->("MAIL FROM:<$s->{from}>");
	my $r = $read->();
	push @t, ['mail', $r];
	if (defined $r && $r =~ /^2/) {
		my $ok = 0;
		for my $rc (@{ $s->{rcpt} }) {
			$send->("RCPT TO:<$rc>");
			$r = $read->();
			push @t, ['rcpt', $r];
			$ok++ if defined $r && $r =~ /^2/;
		}
		if ($ok) {
			$send->('DATA');
			$r = $read->();
			if (defined $r && $r =~ /^3/) {
				syswrite($sock, $msg . ".\r\n");
				push @t, ['data', $read->()];
			} else {
				push @t, ['data', $r];
			}
		}
	}
	$send->('QUIT');
	$read->();
	close $sock;
	return @t;
}

# touch - create an empty file
sub touch {
	my ($path) = @_;
	open(my $fh, '>', $path) or return;
	close $fh;
}

# sync_points - barrier and reload files of a raw session after HELO; false on timeout
sub sync_points {
	my ($s) = @_;
	if ($s->{touch_after_helo}) {
		touch("$work/$s->{touch_after_helo}");
	}
	if ($s->{barrier}) {
		my $dir = "$work/barrier";
		mkdir $dir;
		touch("$dir/$$");
		my $deadline = time + 30;
		while (1) {
			opendir(my $dh, $dir) or return 0;
			my $n = grep { !/^\./ } readdir $dh;
			closedir $dh;
			last if $n >= $s->{barrier};
			return 0 if time > $deadline;
			sleep 0.05;
		}
	}
	if ($s->{wait_after_helo}) {
		my $deadline = time + 60;
		until (-e "$work/$s->{wait_after_helo}") {
			return 0 if time > $deadline;
			sleep 0.05;
		}
	}
	return 1;
}

# message - the message for the wire: dot-stuffed CRLF lines, without the final dot
sub message {
	my ($s) = @_;
	(my $m = message_text($s)) =~ s/(\A|\n)\./$1../g;
	return $m;
}

# message_text - the message as built (and signed), before dot-stuffing; made once
sub message_text {
	my ($s) = @_;
	$s->{text} //= $s->{build} ? build_message($s) : plain_message($s);
	return $s->{text};
}

# date_header - "Date: ..." now
sub date_header {
	return 'Date: ' . POSIX::strftime('%a, %d %b %Y %H:%M:%S +0000', gmtime);
}

# body_text - the scenario's body, CRLF lines
sub body_text {
	my ($s) = @_;
	my $body = $s->{body} // "This is the end-to-end scenario \"$s->{name}\".";
	return join('', map { "$_\r\n" } split(/\r?\n/, $body, -1));
}

# mailfrom_author - the MAIL FROM address, or postmaster@HELO for the null sender
sub mailfrom_author {
	my ($s) = @_;
	return $s->{from} ne '' ? $s->{from} : "postmaster\@$s->{helo}";
}

# plain_message - the raw client's message of a scenario without message keys
sub plain_message {
	my ($s) = @_;
	my @h = (date_header(), 'From: <' . mailfrom_author($s) . '>',
		'To: <' . ($s->{rcpt}[0] // 'bob@example.org') . '>',
		"Subject: e2e $s->{name}", "Message-ID: $s->{msgid}", @{ $s->{header} });
	return join("\r\n", @h) . "\r\n\r\n" . body_text($s);
}

# header_name - the field name of a header field text ("From :" -> "from"), or ''
sub header_name {
	my ($f) = @_;
	return $f =~ /^([^:\s]+)\s*:/ ? lc $1 : '';
}

# build_message - the scenario's own message: headers, signatures, after-signing changes
sub build_message {
	my ($s) = @_;
	my @from = @{ $s->{from_header} } ? @{ $s->{from_header} } : ('<' . mailfrom_author($s) . '>');
	my @h = (date_header());
	push @h, map { "From: $_" } grep { $_ ne 'none' } @from;
	push @h, 'To: <' . ($s->{rcpt}[0] // 'bob@example.org') . '>', "Subject: e2e $s->{name}",
	    "Message-ID: $s->{msgid}", @{ $s->{extra} };
	my $body = body_text($s);
	$s->{sig_b} = [];
	for my $spec (@{ $s->{sign} }) {
		my ($field, $b) = dkim_sign($spec, \@h, $body);
		unshift @h, $field; # a signer adds its signature on top
		push @{ $s->{sig_b} }, $b;
	}
	for my $e (@{ $s->{after} }) {
		my ($k, $v) = @$e;
		if ($k eq 'after_sign_header') {
			unshift @h, $v;
		} elsif ($k eq 'after_sign_body') {
			$body .= join('', map { "$_\r\n" } split(/\r?\n/, $v, -1));
		} elsif ($k eq 'after_sign_subject_tag') {
			my ($i) = grep { header_name($h[$_]) eq 'subject' } 0 .. $#h;
			die "after_sign_subject_tag: no Subject header\n" unless defined $i;
			$h[$i] =~ s/^([^:]*:[ \t]*)/$1$v /;
		} elsif ($k eq 'arc_seal') {
			unshift @h, arc_seal($v, \@h, $body);
		} elsif ($k eq 'after_sign_replace') {
			my $n = header_name($v);
			my ($i) = grep { header_name($h[$_]) eq $n } 0 .. $#h;
			die "after_sign_replace: no $n header to replace\n" unless defined $i;
			$h[$i] = $v;
		} else { # after_sign_edit = Name: OLD => NEW
			my ($n, $old, $new) = $v =~ /^([^:\s]+):\s*(.+?) => (.*)$/s;
			my ($i) = grep { header_name($h[$_]) eq lc $n && index($h[$_], $old) >= 0 } 0 .. $#h;
			die "after_sign_edit: no $n header holding \"$old\"\n" unless defined $i;
			substr($h[$i], index($h[$i], $old), length $old) = $new;
		}
	}
	return join("\r\n", @h) . "\r\n\r\n" . $body;
}

# ---- DKIM signing and verification -----------------------------------------

my %KEYFILE = map { $_ => 1 } qw(rsa2048 rsa1024 rsa512 rsa8192 ed25519);

# default_h - h= for a signature: every From, To, Subject, Date and Message-ID present
sub default_h {
	my ($headers) = @_;
	return join(':', grep { /^(from|to|subject|date|message-id)$/ } map { header_name($_) } @$headers);
}

# dkim_run - feed headers and body through a fresh algorithm object for $sig
sub dkim_run {
	my ($sig, $headers, $body) = @_;
	my $alg = $sig->algorithm;
	my $class = $alg eq 'ed25519-sha256' ? 'E2E::Ed25519Sha256' : $sig->get_algorithm_class($alg)
	    // die "sign: unknown algorithm $alg\n";
	my $algo = $class->new(Signature => $sig);
	my @h = map { "$_\r\n" } @$headers;
	$algo->add_header($_) for @h;
	$algo->finish_header(Headers => \@h);
	$algo->add_body($body) if length $body;
	$algo->finish_body;
	return $algo;
}

# dkim_sign - "DOMAIN SELECTOR [opts]" over headers and body: (DKIM-Signature field, first 8 of b=)
sub dkim_sign {
	my ($spec, $headers, $body) = @_;
	my ($domain, $selector, @opts) = split ' ', $spec;
	my %o = map { /^([a-z]+)=(.*)$/ } @opts;
	my $key = $o{key} // ($KEYFILE{$selector} ? $selector : 'rsa2048');
	my $alg = $o{a} // ($key eq 'ed25519' ? 'ed25519-sha256' : 'rsa-sha256');
	die "sign: $alg needs key=ed25519\n" if ($alg eq 'ed25519-sha256') != ($key eq 'ed25519');
	my %args = (Algorithm => $alg, Method => $o{c} // 'relaxed/relaxed',
		Headers => $o{h} // default_h($headers), Domain => $domain, Selector => $selector,
		Timestamp => int(time));
	my $sig = Mail::DKIM::Signature->new(%args);
	$sig->protocol($o{q}) if defined $o{q}; # q=, signed like every tag
	if (defined $o{l}) {
		my $l = $o{l};
		if ($l eq 'body') { # the length of the canonicalised body
			my $probe = dkim_run(Mail::DKIM::Signature->new(%args), $headers, $body);
			$l = $probe->{body_canon}->body_count;
		}
		$sig->body_count($l);
	}
	my $algo = dkim_run($sig, $headers, $body);
	my $file = "$keydir/$key.pem";
	die "sign: no key file $file (keys.sh)\n" unless -r $file;
	my $pk = $key eq 'ed25519' ? Crypt::PK::Ed25519->new($file)
	    : Mail::DKIM::PrivateKey->load(File => $file);
	$sig->data($algo->sign($pk));
	$sig->prettify_safe;
	(my $b = $sig->data) =~ s/\s+//g;
	(my $field = $sig->as_string) =~ s/\r?\n\z//;
	return ($field, substr($b, 0, 8));
}

# ---- ARC sealing (RFC 8617) and verification --------------------------------

# arc_seal_spec - "DOMAIN SELECTOR [opts]: AUTHSERV-ID; RESULTS" -> (domain, selector, opts, aar)
sub arc_seal_spec {
	my ($spec) = @_;
	return $spec =~ /^(\S+)\s+([^\s:]+)((?:\s+[a-z]+=[^\s:]+)*)\s*:\s*([^;\s]+\s*;.*)$/s;
}

# arc_seal - one ARC hop over headers and body as they are now: the sealer's Authentication-Results
# (AAR) on top, then Mail::DKIM::ARC::Signer makes the set; returns (ARC-Seal,
# ARC-Message-Signature, ARC-Authentication-Results) to put on top, in that order
sub arc_seal {
	my ($spec, $headers, $body) = @_;
	my ($domain, $selector, $opts, $aar) = arc_seal_spec($spec);
	my %o = map { /^([a-z]+)=(.*)$/ } split ' ', $opts;
	my ($srvid) = $aar =~ /^([^;\s]+)/;
	my $key = $o{key} // ($KEYFILE{$selector} ? $selector : 'rsa2048');
	my $file = "$keydir/$key.pem";
	die "arc_seal: no key file $file (keys.sh)\n" unless -r $file;
	# the chain so far is taken as valid unless the scenario says otherwise
	my $cv = $o{cv} // ((grep { header_name($_) eq 'arc-seal' } @$headers) ? 'pass' : 'none');
	my $signer = Mail::DKIM::ARC::Signer->new(Algorithm => 'rsa-sha256', Chain => $cv,
		Domain => $domain, Selector => $selector, SrvId => lc $srvid, KeyFile => $file,
		Timestamp => int(time));
	# the Authentication-Results the sealer recorded, above every ARC field (the signer
	# copies it into the AAR; it leaves the message with the hop, as a list strips it)
	$signer->PRINT(join('', map { "$_\r\n" } "Authentication-Results: $aar", @$headers)
	    . "\r\n" . $body);
	$signer->CLOSE;
	die "arc_seal: $domain: $signer->{result}" . ($signer->{details} ? " ($signer->{details})" : '')
	    . "\n" unless $signer->result eq 'sealed';
	return map { (my $f = $_) =~ s/\r?\n\z//; $f } $signer->as_strings;
}

# verify_arc - Mail::DKIM::ARC::Verifier's chain result for $msg: pass, fail or none
sub verify_arc {
	my ($msg) = @_;
	(my $m = $msg) =~ s/\r?\n/\r\n/g;
	my $v = Mail::DKIM::ARC::Verifier->new;
	$v->PRINT($m);
	$v->CLOSE;
	return ($v->result // '(no result)', $v->result_detail // '');
}

# check_verify_arc - one "verify_arc = WHERE RESULT" line against a message text
sub check_verify_arc {
	my ($spec, $msg) = @_;
	my ($where, $want) = split ' ', $spec;
	my ($got, $detail) = verify_arc($msg);
	return $got eq $want ? () : (sprintf('verify_arc %s: got %s, want %s', $where,
		printable($detail ne '' ? $detail : $got), $want));
}

# verify_mail_dkim - Mail::DKIM::Verifier's result for each signature of $msg, top first
sub verify_mail_dkim {
	my ($msg) = @_;
	(my $m = $msg) =~ s/\r?\n/\r\n/g;
	my $v = Mail::DKIM::Verifier->new;
	$v->PRINT($m);
	$v->CLOSE;
	my @sigs = $v->signatures;
	return ('none') unless @sigs;
	return map { $_->result_detail } @sigs;
}

# verify_dkimpy - dkimpy's verdict (dkimverify --index N) on each signature of $msg, top
# first: "pass" or "fail: what it said"
sub verify_dkimpy {
	my ($msg, $tag) = @_;
	my ($head) = split /\r?\n\r?\n/, $msg, 2;
	my $n = () = $head =~ /^DKIM-Signature[ \t]*:/mgi;
	return ('none') unless $n;
	my $f = "$work/verify-$$-$tag.eml";
	open(my $fh, '>', $f) or return ("fail: cannot write $f: $!");
	binmode $fh;
	print $fh $msg;
	close $fh;
	my @r;
	for my $i (0 .. $n - 1) {
		my @out = grep { /\S/ } `dkimverify --index $i < '$f' 2>&1`;
		my $rc = $? >> 8;
		# its verdict, or the last line of a Python traceback (dkimpy raises on some errors)
		(my $last = $out[-1] // '') =~ s/\s+/ /g;
		$last =~ s/^ | $//g;
		push @r, $rc == 0 ? 'pass' : "fail: $last (exit $rc)";
	}
	unlink $f;
	return @r;
}

# check_verify - one "verify = WHERE TOOL RESULT..." line against a message text
sub check_verify {
	my ($spec, $msg, $tag) = @_;
	my ($where, $tool, @want) = split ' ', $spec;
	my @got = $tool eq 'mail-dkim' ? verify_mail_dkim($msg) : verify_dkimpy($msg, $tag);
	my $ok = @got == @want;
	for my $i (0 .. $#want) {
		last unless $ok;
		# "pass" matches "pass"; "fail" matches "fail (body has been altered)" and "fail: ..."
		$ok = defined $got[$i] && $got[$i] =~ /^\Q$want[$i]\E(\b|$)/;
	}
	return $ok ? () : (sprintf('verify %s %s: got %s, want %s', $where, $tool,
		join(' + ', map { printable($_) } @got), join(' ', @want)));
}

# pvalue - an RFC 8601 property value as the milter writes it: a token, or a quoted-string
sub pvalue {
	my ($v) = @_;
	return $v if $v =~ /^[A-Za-z0-9!#\$%&'*+\-.^_`{|}~]+$/;
	(my $q = $v) =~ s/(["\\])/\\$1/g;
	return "\"$q\"";
}

# expand - %{bN} in a header spec: header.b of the Nth sign line (quoted as a regex when re)
sub expand {
	my ($s, $v, $re) = @_;
	$v =~ s{%\{b(\d+)\}}{
		my $b = $s->{sig_b}[$1 - 1];
		defined $b ? ($re ? quotemeta(pvalue($b)) : pvalue($b)) : "(no signature $1)"
	}ge;
	return $v;
}

# session_swaks - run swaks and turn its transcript into [stage, reply] pairs
sub session_swaks {
	my ($s) = @_;
	my @cmd = ('swaks', '--server', $s->{server}, '--port', $s->{port},
		'--local-interface', $s->{client}, '--helo', $s->{helo},
		'--from', ($s->{from} eq '' ? '<>' : $s->{from}), '--timeout', $s->{timeout});
	push @cmd, '--protocol', 'SMTP' if uc $s->{helo_cmd} eq 'HELO';
	push @cmd, '--auth-optional', 'PLAIN', '--auth-user', $s->{auth_user}, '--auth-password', $s->{auth_password} // ''
	    if defined $s->{auth_user};
	push @cmd, '--to', join(',', @{ $s->{rcpt} }) if @{ $s->{rcpt} };
	if ($s->{build}) {
		# our own message, exactly: swaks only sends it (and the final dot)
		my $f = "$work/data-$$.eml";
		open(my $dfh, '>', $f) or return (['swaks', "cannot write $f: $!"]);
		binmode $dfh;
		print $dfh message($s), '.';
		close $dfh;
		push @cmd, '--data', "\@$f", '--no-data-fixup';
	} else {
		push @cmd, '--header', "Subject: e2e $s->{name}", '--header', "Message-Id: $s->{msgid}";
		push @cmd, '--add-header', $_ for @{ $s->{header} };
		push @cmd, '--body', $s->{body} if defined $s->{body};
	}
	# swaks prints its own errors ("*** ...") on stderr: read them with the
	# transcript (it flushes every line, so the order is kept).
	my $pid = open(my $fh, '-|') // return (['swaks', "cannot run swaks: $!"]);
	if (!$pid) {
		open(STDERR, '>&', \*STDOUT) or POSIX::_exit(127);
		exec(@cmd) or print "*** cannot run swaks: $!\n";
		POSIX::_exit(127);
	}
	my @lines = <$fh>;
	close $fh;
	unlink "$work/data-$$.eml" if $s->{build};
	my (@t, @notes, $stage, $reply, $indata);
	$stage = 'banner';
	for my $l (@lines) {
		$l =~ s/\r?\n$//;
		if ($l =~ /^<(?:-|\*\*)\s+(\d{3}[ -].*|\d{3})$/) {
			my $r = $1;
			$reply = defined $reply ? "$reply\n$r" : $r;
			next if $r =~ /^\d{3}-/;
			if ($stage eq 'datacmd') {
				if ($r =~ /^3/) {
					$indata = 1;
					$stage = 'data';
				} else {
					push @t, ['data', $reply];
				}
			} else {
				push @t, [$stage, $reply];
				$indata = 0 if $stage eq 'data';
			}
			$reply = undef;
		} elsif ($l =~ /^ -> (.*)$/) {
			next if $indata;
			my $c = uc((split ' ', $1)[0] // '');
			$stage = $c eq 'EHLO' || $c eq 'HELO' ? 'helo' : $c eq 'MAIL' ? 'mail'
			    : $c eq 'RCPT' ? 'rcpt' : $c eq 'DATA' ? 'datacmd' : lc $c;
		} elsif ($l =~ /^\*\*\* (.*)$/) {
			push @notes, $1;
		}
	}
	push @t, ['swaks', join('; ', @notes)] if @notes;
	return @t;
}

# ---- checks ----------------------------------------------------------------

# delivered_copies - the Maildir copies holding this Message-ID: { h => [[name, value]...],
# raw => the header block as stored, file => its path }
sub delivered_copies {
	my ($msgid) = @_;
	my @copies;
	for my $sub ('new', 'cur') {
		opendir(my $dh, "$maildir/$sub") or next;
		for my $f (sort grep { !/^\./ } readdir $dh) {
			open(my $fh, '<', "$maildir/$sub/$f") or next;
			local $/ = "\n\n";
			my $head = <$fh> // '';
			close $fh;
			next unless index($head, $msgid) >= 0;
			my $raw = $head;
			$head =~ s/\r?\n[ \t]+/ /g;
			my @h;
			for my $l (split /\r?\n/, $head) {
				my ($n, $v) = $l =~ /^([^:\s]+):\s*(.*)$/ or next;
				(my $norm = $v) =~ s/\s+/ /g;
				$norm =~ s/ $//;
				push @h, [lc $n, $norm];
			}
			push @copies, { h => \@h, raw => $raw, file => "$maildir/$sub/$f" };
		}
	}
	return @copies;
}

# slurp - a whole file, bytes
sub slurp {
	my ($path) = @_;
	open(my $fh, '<', $path) or return '';
	binmode $fh;
	local $/;
	my $c = <$fh>;
	close $fh;
	return $c;
}

# split_header_spec - "Name: value" -> (lc name, value with whitespace runs made one space)
sub split_header_spec {
	my ($spec) = @_;
	my ($n, $v) = $spec =~ /^([^:\s]+):\s*(.*)$/s;
	return (lc($spec), undef) unless defined $n;
	$v =~ s/\s+/ /g;
	return (lc $n, $v);
}

# check_scenario - run one scenario; returns the list of problems ("got X, want Y")
sub check_scenario {
	my ($s) = @_;
	my @bad;
	if ($s->{build}) {
		message_text($s); # build and sign now: a signing error is the harness's, before any session
		for my $spec (grep { /^sent / } @{ $s->{verify} }) {
			push @bad, check_verify($spec, $s->{text}, 'sent');
		}
		push @bad, check_verify_arc($_, $s->{text}) for grep { /^sent / } @{ $s->{verify_arc} };
	}
	my @t = $s->{tool} eq 'raw' ? session_raw($s) : session_swaks($s);
	my %first;
	my @rcpt_replies;
	my $data_ok = 0;
	for my $e (@t) {
		my ($stage, $r, $exp) = @$e;
		if ($stage =~ /^step:(.*)$/s) {
			my $c = $1;
			push @bad, sprintf('%s: got %s, want "%s"', printable($c), printable($r), $exp)
			    if defined $exp && !reply_matches($r, $exp);
			$data_ok = 1 if $c eq '.MESSAGE' && defined $r && $r =~ /^2/;
			next;
		}
		if ($stage eq 'sync') {
			push @bad, "got $r, want all sessions in step";
			next;
		}
		push @rcpt_replies, $r if $stage eq 'rcpt';
		$first{$stage} //= $r;
		$data_ok = 1 if $stage eq 'data' && defined $r && $r =~ /^2/;
	}
	for my $stage (qw(banner helo auth mail data)) {
		my $exp = $s->{"expect_$stage"} // next;
		push @bad, sprintf('%s: got %s, want "%s"', $stage, printable($first{$stage}), $exp)
		    unless reply_matches($first{$stage}, $exp);
	}
	my @er = @{ $s->{expect_rcpt} };
	if (@er) {
		my $n = @{ $s->{rcpt} };
		$n = @er if @er > $n;
		for my $i (0 .. $n - 1) {
			my $exp = $er[$i] // $er[-1];
			push @bad, sprintf('rcpt %d %s: got %s, want "%s"', $i + 1,
			    printable($s->{rcpt}[$i]), printable($rcpt_replies[$i]), $exp)
			    unless reply_matches($rcpt_replies[$i], $exp);
		}
	}

	$s->{swaks_said} = $first{swaks};
	my @delivered_verify = grep { /^delivered / } @{ $s->{verify} };
	my @delivered_arc = grep { /^delivered / } @{ $s->{verify_arc} };
	my $want = $s->{delivered} // (@{ $s->{want_header} } || @{ $s->{want_header_re} }
	    || @{ $s->{count_header} } || @{ $s->{want_raw_re} } || @delivered_verify
	    || @delivered_arc ? 'yes' : undef);
	return @bad unless defined $want || @{ $s->{no_header} } || @{ $s->{no_raw_re} };
	$want //= 'yes';
	my $n = $want eq 'yes' ? 1 : $want eq 'no' ? 0 : $want;
	my @copies;
	my $deadline = time + ($n > 0 ? 15 : ($data_ok ? 3 : 0));
	while (1) {
		@copies = delivered_copies($s->{msgid});
		last if $n > 0 && @copies >= $n;
		last if time >= $deadline;
		sleep 0.1;
	}
	if ($want eq 'yes' ? !@copies : @copies != $n) {
		push @bad, sprintf('delivered copies: got %d, want %s', scalar @copies, $want);
	}
	for my $copy (@copies) {
		my $c = $copy->{h};
		for my $spec (@{ $s->{want_header} }) {
			my ($name, $v) = split_header_spec(expand($s, $spec, 0));
			my @vals = map { $_->[1] } grep { $_->[0] eq $name } @$c;
			push @bad, sprintf('%s: got %s, want "%s"', $name,
			    @vals ? join(' + ', map { printable($_) } @vals) : '(no such header)', $v)
			    unless grep { $_ eq $v } @vals;
		}
		for my $spec (@{ $s->{want_header_re} }) {
			my ($name, $re) = split_header_spec(expand($s, $spec, 1));
			my @vals = map { $_->[1] } grep { $_->[0] eq $name } @$c;
			push @bad, sprintf('%s: got %s, want /%s/', $name,
			    @vals ? join(' + ', map { printable($_) } @vals) : '(no such header)', $re)
			    unless grep { $_ =~ /$re/ } @vals;
		}
		for my $spec (@{ $s->{no_header} }) {
			my ($name, $sub) = split_header_spec($spec);
			my @hit = grep { $_->[0] eq $name && (!defined $sub || index($_->[1], $sub) >= 0) } @$c;
			push @bad, sprintf('%s: got %s, want no header%s', $name, printable($hit[0][1]),
			    defined $sub ? " containing \"$sub\"" : '') if @hit;
		}
		for my $spec (@{ $s->{count_header} }) {
			my ($nv, $want_n) = $spec =~ /^(.*) = (\d+)$/s;
			my ($name, $re) = split_header_spec(expand($s, $nv, 1));
			my @hit = grep { $_->[0] eq $name && $_->[1] =~ /$re/ } @$c;
			push @bad, sprintf('%s headers matching /%s/: got %d%s, want %d', $name, $re,
			    scalar @hit, @hit ? ' (' . join(' + ', map { printable($_->[1]) } @hit) . ')' : '',
			    $want_n) unless @hit == $want_n;
		}
		(my $raw = $copy->{raw}) =~ s/\r\n/\n/g;
		for my $re (@{ $s->{want_raw_re} }) {
			push @bad, sprintf('header block: got %s, want /%s/', printable($raw), $re)
			    unless $raw =~ /$re/m;
		}
		for my $re (@{ $s->{no_raw_re} }) {
			push @bad, sprintf('header block: got %s, want no /%s/', printable($raw), $re)
			    if $raw =~ /$re/m;
		}
		for my $spec (@delivered_verify) {
			push @bad, check_verify($spec, slurp($copy->{file}), 'delivered');
		}
		push @bad, check_verify_arc($_, slurp($copy->{file})) for @delivered_arc;
		last if @bad;
	}
	return @bad;
}

# run_one - the result line for one file
sub run_one {
	my ($file) = @_;
	my $s = eval { parse($file) };
	return ("not ok - $file: $@", 2) unless $s;
	return ("ok - $s->{name} # SKIP $mta: $s->{skip}", 0) if defined $s->{skip};
	my @bad = eval { check_scenario($s) };
	@bad = ("runner error: $@") if $@;
	# What swaks itself complained about (on its stderr) explains the rest.
	unshift @bad, "swaks said: $s->{swaks_said}" if @bad && defined $s->{swaks_said};
	my $differs = defined $s->{why} ? " ($mta differs: $s->{why})" : '';
	return @bad ? ("not ok - $s->{name}$differs: " . join('; ', @bad), 1) : ("ok - $s->{name}$differs", 0);
}

# ---- ed25519-sha256 (RFC 8463), which this Mail::DKIM does not have ------------

package E2E::Ed25519Sha256;
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

package main;

# ---- main: run the files, N at a time, report in file order -----------------

my @files = @ARGV;
my $dir = "$work/scenario-results.$$";
mkdir $dir or die "scenario.pl: mkdir $dir: $!\n";
my %running;
my $i = 0;
my $worst = 0;
my $reap = sub {
	my $pid = waitpid(-1, 0);
	return if $pid <= 0;
	my $st = $? >> 8;
	$worst = $st if $st > $worst;
	delete $running{$pid};
};
for my $f (@files) {
	$reap->() while keys %running >= $jobs;
	my $idx = $i++;
	my $pid = fork;
	die "fork: $!" unless defined $pid;
	if ($pid == 0) {
		open(STDIN, '<', '/dev/null');
		my ($line, $rc) = run_one($f);
		if (open(my $fh, '>', "$dir/$idx")) {
			print $fh "$line\n";
			close $fh;
		}
		POSIX::_exit($rc);
	}
	$running{$pid} = 1;
}
$reap->() while keys %running;
for my $idx (0 .. $i - 1) {
	if (open(my $fh, '<', "$dir/$idx")) {
		print <$fh>;
	} else {
		print "not ok - $files[$idx]: runner died\n";
		$worst = 1 if $worst < 1;
	}
	unlink "$dir/$idx";
}
rmdir $dir;
exit($worst ? ($worst == 2 ? 2 : 1) : 0);
