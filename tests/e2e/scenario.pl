#!/usr/bin/perl
# NAME
#	scenario.pl - run end-to-end scenario files against an SMTP server
# SYNOPSIS
#	scenario.pl --maildir DIR [--work DIR] [-j N] FILE...
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
# DIAGNOSTICS
#	Exit 0 when all passed, 1 when any failed, 2 on a malformed file.

use strict;
use warnings;
use Getopt::Long;
use IO::Socket::IP;
use IO::Select;
use POSIX qw(:sys_wait_h);
use Time::HiRes qw(time sleep);

my ($maildir, $work, $jobs) = ('', '/tmp', 1);
GetOptions('maildir=s' => \$maildir, 'work=s' => \$work, 'j=i' => \$jobs)
    or die "usage: scenario.pl --maildir DIR [--work DIR] [-j N] FILE...\n";
die "scenario.pl: --maildir is required\n" unless $maildir;

my %MULTI = map { $_ => 1 } qw(rcpt expect_rcpt header want_header want_header_re no_header);
my %SINGLE = map { $_ => 1 } qw(name tool client server port helo helo_cmd nohelo from body
    expect_banner expect_helo expect_mail expect_data delivered barrier
    touch_after_helo wait_after_helo timeout);
# Values of these keys get \-escapes and %{C*N} expanded.
my %DECODE = map { $_ => 1 } qw(helo from rcpt header body send);

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
	my %s = (file => $file, steps => []);
	$s{$_} = [] for keys %MULTI;
	open(my $fh, '<', $file) or die "$file: $!\n";
	while (my $line = <$fh>) {
		chomp $line;
		next if $line =~ /^\s*(#|$)/;
		my ($k, $v) = $line =~ /^\s*([a-z_]+)\s*=\s?(.*?)\s*$/
		    or die "$file:$.: not key = value\n";
		$v = decode($v) if $DECODE{$k};
		if ($k eq 'send') {
			push @{ $s{steps} }, { send => $v };
		} elsif ($k eq 'expect') {
			die "$file:$.: expect before any send\n" unless @{ $s{steps} };
			$s{steps}[-1]{expect} = $v;
		} elsif ($MULTI{$k}) {
			push @{ $s{$k} }, $v;
		} elsif ($SINGLE{$k}) {
			die "$file:$.: $k given twice\n" if exists $s{$k};
			$s{$k} = $v;
		} else {
			die "$file:$.: unknown key $k\n";
		}
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

# message - the message text (CRLF lines, dot-stuffed, without the final dot)
sub message {
	my ($s) = @_;
	my @h = (
		'Date: ' . POSIX::strftime('%a, %d %b %Y %H:%M:%S +0000', gmtime),
		'From: <' . ($s->{from} ne '' ? $s->{from} : "postmaster\@$s->{helo}") . '>',
		'To: <' . ($s->{rcpt}[0] // 'bob@example.org') . '>',
		"Subject: e2e $s->{name}",
		"Message-ID: $s->{msgid}",
		@{ $s->{header} });
	my $body = $s->{body} // "This is the end-to-end scenario \"$s->{name}\".";
	my $m = join("\r\n", @h) . "\r\n\r\n";
	for my $l (split /\r?\n/, $body, -1) {
		$l = ".$l" if $l =~ /^\./;
		$m .= "$l\r\n";
	}
	return $m;
}

# session_swaks - run swaks and turn its transcript into [stage, reply] pairs
sub session_swaks {
	my ($s) = @_;
	my @cmd = ('swaks', '--server', $s->{server}, '--port', $s->{port},
		'--local-interface', $s->{client}, '--helo', $s->{helo},
		'--from', ($s->{from} eq '' ? '<>' : $s->{from}), '--timeout', $s->{timeout},
		'--header', "Subject: e2e $s->{name}", '--header', "Message-Id: $s->{msgid}");
	push @cmd, '--protocol', 'SMTP' if uc $s->{helo_cmd} eq 'HELO';
	push @cmd, '--to', join(',', @{ $s->{rcpt} }) if @{ $s->{rcpt} };
	push @cmd, '--add-header', $_ for @{ $s->{header} };
	push @cmd, '--body', $s->{body} if defined $s->{body};
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

# delivered_copies - the Maildir files holding this Message-ID, as lists of [name, value] headers
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
			$head =~ s/\r?\n[ \t]+/ /g;
			my @h;
			for my $l (split /\r?\n/, $head) {
				my ($n, $v) = $l =~ /^([^:\s]+):\s*(.*)$/ or next;
				(my $norm = $v) =~ s/\s+/ /g;
				$norm =~ s/ $//;
				push @h, [lc $n, $norm];
			}
			push @copies, \@h;
		}
	}
	return @copies;
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
	for my $stage (qw(banner helo mail data)) {
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
	my $want = $s->{delivered} // (@{ $s->{want_header} } || @{ $s->{want_header_re} } ? 'yes' : undef);
	return @bad unless defined $want || @{ $s->{no_header} };
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
	for my $c (@copies) {
		for my $spec (@{ $s->{want_header} }) {
			my ($name, $v) = split_header_spec($spec);
			my @vals = map { $_->[1] } grep { $_->[0] eq $name } @$c;
			push @bad, sprintf('%s: got %s, want "%s"', $name,
			    @vals ? join(' + ', map { printable($_) } @vals) : '(no such header)', $v)
			    unless grep { $_ eq $v } @vals;
		}
		for my $spec (@{ $s->{want_header_re} }) {
			my ($name, $re) = split_header_spec($spec);
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
		last if @bad;
	}
	return @bad;
}

# run_one - the result line for one file
sub run_one {
	my ($file) = @_;
	my $s = eval { parse($file) };
	return ("not ok - $file: $@", 2) unless $s;
	my @bad = eval { check_scenario($s) };
	@bad = ("runner error: $@") if $@;
	# What swaks itself complained about (on its stderr) explains the rest.
	unshift @bad, "swaks said: $s->{swaks_said}" if @bad && defined $s->{swaks_said};
	return @bad ? ("not ok - $s->{name}: " . join('; ', @bad), 1) : ("ok - $s->{name}", 0);
}

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
