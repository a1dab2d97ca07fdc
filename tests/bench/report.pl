#!/usr/bin/perl
# NAME
#	report.pl - the benchmark's results file, from what run.sh measured
# SYNOPSIS
#	report.pl --runs RUNS --machine MACHINE --mix MIX --text OUT.txt --json OUT.json
# DESCRIPTION
#	RUNS (run.sh's runs.txt) holds, per run, a "run" line (setup,
#	concurrency, exit status, CPU seconds of the milter processes and of
#	the whole machine, peak RSS, the file of per-message latencies) and
#	the load generator's summary lines ("result", "class", "rss"), all
#	key=value. MACHINE holds "key value" lines (date, nproc, CPU model,
#	kernel, software versions). MIX is tests/bench/mix (for the mix line).
#
#	Per setup and concurrency, over its rounds: messages/s (all messages
#	/ all seconds; each round's figure is kept in the JSON), latency
#	median and 99th percentile (nearest rank over every message of every
#	round), CPU seconds per 1,000 messages (the milter processes; the
#	whole mail world: every process of the namespace less the load
#	generator's own CPU time; unbound; and in the JSON the load generator
#	and the whole machine, other tenants included), the largest peak RSS
#	of a round, and the replies per class. Then the ratios (messages/s)
#	policy-milter/no-milter, policy-milter/OpenDKIM+OpenDMARC,
#	policy-milter/null-milter and null-milter/no-milter (the null milter,
#	nullmilter.c, does nothing: the last ratio bounds what any milter can
#	reach on this machine), the milter-only run, what ARC costs (the
#	milter alone on one class without and with two ARC sets: milter CPU
#	per message and messages/s), what greylisting and a rate limit cost
#	(issue 16: the milter alone without state, and with greylisting and
#	one rate limit on lmdb and on redis, every triplet known: milter CPU
#	per 1,000 messages, peak RSS, Redis commands and round trips per
#	message), the issue's targets (met or not: figures, never the exit status) and
#	whether every message got the reply it should.
#
#	Writes OUT.txt (human) and OUT.json (the same figures, for tools).
# DIAGNOSTICS
#	Exit 0 when both files were written, 1 on unreadable input.

use strict;
use warnings;
use Getopt::Long;
use JSON::PP;

my ($runs_file, $machine_file, $mix_file, $text_file, $json_file);
GetOptions('runs=s' => \$runs_file, 'machine=s' => \$machine_file, 'mix=s' => \$mix_file,
	'text=s' => \$text_file, 'json=s' => \$json_file)
    or die "usage: report.pl --runs RUNS --machine MACHINE --mix MIX --text OUT.txt --json OUT.json\n";
die "report.pl: every option is required\n"
    unless $runs_file && $machine_file && $mix_file && $text_file && $json_file;

my %NAME = (none => 'no milter', pm => 'policy-milter', pl => 'policy-milter pl', od => 'OpenDKIM+OpenDMARC',
	nm => 'null milter', rs => 'rspamd');
my @SETUPS = qw(none pm pl od nm rs);

# kv - the key=value pairs of a line, as a hash
sub kv {
	my ($line) = @_;
	my %h;
	$h{$1} = $2 while $line =~ /(\S+?)=(\S*)/g;
	return %h;
}

# ---- read --------------------------------------------------------------------

my %machine;
open(my $mfh, '<', $machine_file) or die "report.pl: $machine_file: $!\n";
while (<$mfh>) {
	chomp;
	my ($k, $v) = split ' ', $_, 2;
	$machine{$k} = $v // '';
}
close $mfh;

my @mix;
open(my $xfh, '<', $mix_file) or die "report.pl: $mix_file: $!\n";
while (<$xfh>) {
	next if /^\s*(#|$)/;
	my @f = split;
	push @mix, { name => $f[0], weight => $f[1], expect => $f[2], kib => $f[6] };
}
close $xfh;

my (%run, @order); # label => { run => {...}, result => {...}, classes => [...], rss => {...} }
my (%replytext, $rsheaders); # setup => the text of its refusal; what rspamd adds
open(my $rfh, '<', $runs_file) or die "report.pl: $runs_file: $!\n";
while (my $l = <$rfh>) {
	chomp $l;
	if ($l =~ /^replytext setup=(\S+) class=(\S+) text=(.*)$/) {
		$replytext{$1} = { class => $2, text => $3 };
		next;
	}
	if ($l =~ /^rsheaders setup=rs added=(\S*) removed=(\S*) ar=(.*)$/) {
		$rsheaders = { added => [ grep { $_ ne 'none' } split /,/, $1 ], removed => [ grep { $_ ne 'none' } split /,/, $2 ],
			authentication_results => $3 };
		next;
	}
	my ($kind) = $l =~ /^(\w+) /;
	next unless $kind;
	my %h = kv($l);
	my $label = $h{label} // next;
	push @order, $label unless $run{$label};
	$run{$label} //= { classes => [] };
	if ($kind eq 'class') {
		push @{ $run{$label}{classes} }, \%h;
	} else {
		$run{$label}{$kind} = \%h;
	}
}
close $rfh;

# latencies - every latency (ms) in the files of these runs, sorted
sub latencies {
	my @v;
	for my $r (@_) {
		my $f = $r->{run}{latfile} // next;
		open(my $fh, '<', $f) or next;
		while (<$fh>) {
			my @f = split;
			push @v, $f[2] if @f >= 3;
		}
		close $fh;
	}
	return sort { $a <=> $b } @v;
}

# pct - nearest-rank percentile P of the sorted list
sub pct {
	my ($p, @v) = @_;
	return undef unless @v;
	my $k = int($p / 100 * @v + 0.999999999);
	$k = 1 if $k < 1;
	$k = @v if $k > @v;
	return $v[$k - 1];
}

sub r1 { my ($v, $d) = @_; return defined $v ? 0 + sprintf("%.${d}f", $v) : undef }

# ---- aggregate -----------------------------------------------------------------

my (%agg, @concs, %seen_conc, @xcheck);
my ($checked, $wrong, $drops, @failed_runs) = (0, 0, 0);
for my $label (@order) {
	my $r = $run{$label};
	if (my $x = $r->{xcheck}) { # smtp-source: all accepted, or it stopped
		$checked += $x->{messages} if $x->{rc} == 0;
		push @failed_runs, $label if $x->{rc} != 0;
		push @xcheck, { setup => $x->{setup}, name => $NAME{ $x->{setup} }, concurrency => 0 + $x->{conc},
			messages => 0 + $x->{messages}, seconds => 0 + $x->{seconds},
			rate => r1($x->{seconds} > 0 ? $x->{messages} / $x->{seconds} : 0, 1),
			ok => $x->{rc} == 0 ? JSON::PP::true : JSON::PP::false };
		next;
	}
	my $res = $r->{result};
	$drops += $r->{run}{dns_udp_drops} // 0;
	$checked += $res ? $res->{messages} : 0;
	$wrong += $res ? $res->{mismatches} : 0;
	push @failed_runs, $label if !$res || ($r->{run}{rc} // 1) != 0 || $res->{mismatches};
	next if $label =~ /^check-/ || ($r->{run}{mode} // '') ne 'mta' || !$res;
	my ($s, $c) = ($r->{run}{setup}, $r->{run}{conc});
	push @concs, $c unless $seen_conc{$c}++;
	push @{ $agg{$c}{$s}{runs} }, $r;
}

my @mta;
for my $c (@concs) {
	for my $s (@SETUPS) {
		my $runs = $agg{$c}{$s}{runs} or next;
		my ($n, $sec, $mcpu, $scpu, $hwm, $mism, $dd, $ncpu, $ccpu, $dcpu, $pss, $procs) = (0, 0, 0, 0, undef, 0, 0, 0, 0, 0, undef, undef);
		my (%cls, @rounds, %pcpu);
		for my $r (@$runs) {
			for (split /,/, ($r->{run}{procs_cpu_s} // '')) {
				my ($name, $sec) = split /:/;
				$pcpu{$name} += $sec if defined $sec;
			}
			$n += $r->{result}{messages};
			$sec += $r->{result}{seconds};
			$mism += $r->{result}{mismatches};
			$scpu += $r->{run}{machine_cpu_s} // 0;
			$ncpu += $r->{run}{ns_cpu_s} // 0;
			$dcpu += $r->{run}{dns_cpu_s} // 0;
			$ccpu += $r->{result}{client_cpu_s} // 0;
			$dd += $r->{run}{dns_udp_drops} // 0;
			$mcpu += $r->{run}{milter_cpu_s} // 0;
			$hwm = $r->{run}{hwm_kb} if defined $r->{run}{hwm_kb} && (!defined $hwm || $r->{run}{hwm_kb} > $hwm);
			$pss = $r->{run}{pss_kb} if ($r->{run}{pss_kb} // '') ne '' && (!defined $pss || $r->{run}{pss_kb} > $pss);
			$procs = $r->{run}{procs} if defined $r->{run}{procs};
			push @rounds, { label => $r->{run}{label}, messages => 0 + $r->{result}{messages},
				seconds => 0 + $r->{result}{seconds}, rate => 0 + $r->{result}{rate},
				p50_ms => 0 + $r->{result}{p50_ms}, p99_ms => 0 + $r->{result}{p99_ms},
				world_cpu_s => r1(($r->{run}{ns_cpu_s} // 0) - ($r->{result}{client_cpu_s} // 0), 2),
				pss_end_mib => ($r->{run}{pss_kb} // '') ne '' ? r1($r->{run}{pss_kb} / 1024, 1) : undef,
				milter_cpu_s => defined $r->{run}{milter_cpu_s} ? 0 + $r->{run}{milter_cpu_s} : undef };
			for my $k (@{ $r->{classes} }) {
				my $e = $cls{ $k->{name} } //= { expect => 0 + $k->{expect}, sent => 0, got_250 => 0, got_550 => 0, got_other => 0 };
				$e->{$_} += $k->{$_} for qw(sent got_250 got_550 got_other);
			}
		}
		my @lat = latencies(@$runs);
		my $a = $agg{$c}{$s} = {
			setup => $s, name => $NAME{$s}, concurrency => 0 + $c, messages => $n,
			seconds => r1($sec, 3), rate => r1($sec > 0 ? $n / $sec : 0, 1),
			p50_ms => r1(pct(50, @lat), 2), p99_ms => r1(pct(99, @lat), 2), max_ms => r1($lat[-1], 2),
			milter_cpu_s_per_1000 => $s eq 'none' ? undef : r1($mcpu / $n * 1000, 2),
			peak_rss_mib => defined $hwm ? r1($hwm / 1024, 1) : undef,
			pss_mib => defined $pss ? r1($pss / 1024, 1) : undef, processes => defined $procs ? 0 + $procs : undef,
			%pcpu ? (milter_cpu_s_per_1000_by_process => { map { $_ => r1($pcpu{$_} / $n * 1000, 2) } keys %pcpu }) : (),
			world_cpu_s_per_1000 => r1(($ncpu - $ccpu) / $n * 1000, 2),
			dns_cpu_s_per_1000 => r1($dcpu / $n * 1000, 2),
			client_cpu_s_per_1000 => r1($ccpu / $n * 1000, 2),
			machine_cpu_s_per_1000 => r1($scpu / $n * 1000, 2),
			mismatches => $mism, dns_udp_drops => $dd, classes => \%cls, rounds => \@rounds,
		};
		push @mta, $a;
	}
}

# ratio A B KEY - A's KEY over B's (two decimals), undef unless both were measured
sub ratio {
	my ($x, $y, $k) = @_;
	return undef unless $x && $y && ref $x eq 'HASH' && ref $y eq 'HASH' && defined $x->{$k} && $y->{$k};
	return r1($x->{$k} / $y->{$k}, 2);
}

my @ratios;
for my $c (@concs) {
	my %g = map { $_ => (ref $agg{$c}{$_} eq 'HASH' && defined $agg{$c}{$_}{rate} ? $agg{$c}{$_} : undef) } @SETUPS;
	my $x = { concurrency => 0 + $c,
		pm_over_none => ratio($g{pm}, $g{none}, 'rate'), pm_over_od => ratio($g{pm}, $g{od}, 'rate'),
		pm_over_nm => ratio($g{pm}, $g{nm}, 'rate'), nm_over_none => ratio($g{nm}, $g{none}, 'rate'),
		pl_over_rs => ratio($g{pl}, $g{rs}, 'rate'), pl_over_nm => ratio($g{pl}, $g{nm}, 'rate'),
		nm_over_rs => ratio($g{nm}, $g{rs}, 'rate'), pl_over_none => ratio($g{pl}, $g{none}, 'rate'),
		rs_over_none => ratio($g{rs}, $g{none}, 'rate'),
		pl_cpu_over_rs_cpu => ratio($g{pl}, $g{rs}, 'milter_cpu_s_per_1000'),
		pl_cpu_s_per_1000 => $g{pl} ? $g{pl}{milter_cpu_s_per_1000} : undef,
		rs_cpu_s_per_1000 => $g{rs} ? $g{rs}{milter_cpu_s_per_1000} : undef };
	push @ratios, $x if grep { defined $x->{$_} } grep { /_over_/ } keys %$x;
}

my ($milter, $milter_pl);
for my $label (@order) {
	my $r = $run{$label};
	next unless ($r->{run}{mode} // '') eq 'milter' && $r->{result};
	my $setup = $r->{run}{setup} // 'pm';
	my @lat = latencies($r);
	my $rss = $r->{rss} // {};
	my @samples = map { my ($at, $kb) = split /:/; { messages => 0 + $at, rss_kib => 0 + $kb } }
	    grep { /:/ } split /,/, ($rss->{samples} // '');
	my $m = {
		setup => $setup,
		connections => 0 + $r->{run}{conc}, messages => 0 + $r->{result}{messages},
		seconds => 0 + $r->{result}{seconds}, rate => 0 + $r->{result}{rate},
		p50_ms => r1(pct(50, @lat), 2), p99_ms => r1(pct(99, @lat), 2),
		milter_cpu_s_per_1000 => r1($r->{run}{milter_cpu_s} / $r->{result}{messages} * 1000, 2),
		world_cpu_s_per_1000 => r1((($r->{run}{ns_cpu_s} // 0) - ($r->{result}{client_cpu_s} // 0)) / $r->{result}{messages} * 1000, 2),
		dns_cpu_s_per_1000 => r1(($r->{run}{dns_cpu_s} // 0) / $r->{result}{messages} * 1000, 2),
		client_cpu_s_per_1000 => r1(($r->{result}{client_cpu_s} // 0) / $r->{result}{messages} * 1000, 2),
		peak_rss_mib => r1(($r->{run}{hwm_kb} // 0) / 1024, 1),
		pss_end_mib => ($r->{run}{pss_kb} // '') ne '' ? r1($r->{run}{pss_kb} / 1024, 1) : undef,
		rss_first_mib => r1(($rss->{first_kb} // 0) / 1024, 1), rss_first_at => 0 + ($rss->{first_at} // 0),
		rss_last_mib => r1(($rss->{last_kb} // 0) / 1024, 1), rss_last_at => 0 + ($rss->{last_at} // 0),
		rss_end_mib => r1(($rss->{end_kb} // 0) / 1024, 1),
		rss_samples => \@samples, mismatches => 0 + $r->{result}{mismatches},
		dns_udp_drops => 0 + ($r->{run}{dns_udp_drops} // 0),
		classes => { map { $_->{name} => { expect => 0 + $_->{expect}, sent => 0 + $_->{sent},
			got_250 => 0 + $_->{got_250}, got_550 => 0 + $_->{got_550}, got_other => 0 + $_->{got_other} } }
			@{ $r->{classes} } },
	};
	if ($setup eq 'pl') {
		$milter_pl = $m;
	} else {
		$milter = $m;
	}
}

# What ARC costs (issue 15): the milter alone on the rsa2048 class without
# (milter-noarc) and with two ARC sets (milter-arc2), the same messages otherwise.
my $arc;
{
	my %side;
	for my $label (@order) {
		my $r = $run{$label};
		next unless ($r->{run}{mode} // '') eq 'arc' && $r->{result} && $r->{result}{messages};
		push @{ $side{ $label =~ /-arc2-/ ? 'with' : 'without' } }, $r;
	}
	my $sum = sub { # the runs of one side together
		my @r = @_;
		my ($n, $secs, $cpu, $wrong, $hwm) = (0, 0, 0, 0, 0);
		for (@r) {
			$n += $_->{result}{messages};
			$secs += $_->{result}{seconds};
			$cpu += $_->{run}{milter_cpu_s};
			$wrong += $_->{result}{mismatches};
			$hwm = $_->{run}{hwm_kb} if ($_->{run}{hwm_kb} // 0) > $hwm;
		}
		my @lat = latencies(@r);
		return { runs => scalar(@r), connections => 0 + $r[0]{run}{conc}, messages => $n,
			rate => r1($secs > 0 ? $n / $secs : 0, 1), p50_ms => r1(pct(50, @lat), 2), p99_ms => r1(pct(99, @lat), 2),
			milter_cpu_us_per_message => r1($cpu / $n * 1e6, 1), peak_rss_mib => r1($hwm / 1024, 1),
			mismatches => $wrong };
	};
	if ($side{with} && $side{without}) {
		my ($w, $o) = ($sum->(@{ $side{with} }), $sum->(@{ $side{without} }));
		$arc = { without => $o, with => $w,
			sets => 2, sealers => [ 'i=1 lists.example.net rsa-sha256', 'i=2 fwd.example.net ed25519-sha256' ],
			cpu_us_per_message => r1($w->{milter_cpu_us_per_message} - $o->{milter_cpu_us_per_message}, 1),
			cpu_ratio => $o->{milter_cpu_us_per_message} ? r1($w->{milter_cpu_us_per_message} / $o->{milter_cpu_us_per_message}, 2) : undef,
			rate_ratio => $o->{rate} ? r1($w->{rate} / $o->{rate}, 2) : undef };
	}
}

# What greylisting and a rate limit cost (issue 16): the milter alone, the
# whole mix with repeating senders, without state (state-none) and with
# greylisting (every triplet known) and one rate limit on each backend.
my $state;
{
	my %side;
	for my $label (@order) {
		my $r = $run{$label};
		next unless ($r->{run}{mode} // '') eq 'state' && $r->{result} && $r->{result}{messages};
		my ($b) = $label =~ /^state-(\w+)-r\d+$/ or next;
		push @{ $side{$b} }, $r;
	}
	for my $b (grep { $side{$_} } qw(none lmdb redis)) {
		my @r = @{ $side{$b} };
		my ($n, $secs, $cpu, $wrong, $hwm, %cmd, @rounds) = (0, 0, 0, 0, 0);
		for (@r) {
			push @rounds, { label => $_->{run}{label}, messages => 0 + $_->{result}{messages},
				rate => 0 + $_->{result}{rate}, p50_ms => 0 + $_->{result}{p50_ms},
				milter_cpu_us_per_message => r1($_->{run}{milter_cpu_s} / $_->{result}{messages} * 1e6, 1),
				peak_rss_mib => r1(($_->{run}{hwm_kb} // 0) / 1024, 1) };
			$n += $_->{result}{messages};
			$secs += $_->{result}{seconds};
			$cpu += $_->{run}{milter_cpu_s};
			$wrong += $_->{result}{mismatches};
			$hwm = $_->{run}{hwm_kb} if ($_->{run}{hwm_kb} // 0) > $hwm;
			for (split /,/, ($_->{run}{redis_commands} // '')) {
				my ($name, $calls) = split /:/;
				$cmd{$name} += $calls if defined $calls;
			}
		}
		my @lat = latencies(@r);
		my $x = $state->{$b} = { runs => scalar(@r), connections => 0 + $r[0]{run}{conc}, messages => $n,
			rate => r1($secs > 0 ? $n / $secs : 0, 1), p50_ms => r1(pct(50, @lat), 2), p99_ms => r1(pct(99, @lat), 2),
			milter_cpu_ms_per_1000 => r1($cpu / $n * 1e6, 1), milter_cpu_us_per_message => r1($cpu / $n * 1e6, 1),
			peak_rss_mib => r1($hwm / 1024, 1), mismatches => $wrong, rounds => \@rounds };
		if (%cmd) {
			my $all = 0;
			$all += $_ for values %cmd;
			$x->{redis_commands_per_message} = r1($all / $n, 2);
			$x->{redis_commands} = { map { $_ => r1($cmd{$_} / $n, 3) } keys %cmd };
		}
	}
	for my $label (@order) {
		my $rt = $run{$label}{roundtrips} or next;
		next unless $state && $state->{redis} && $rt->{messages};
		$state->{redis}{round_trips_per_message} = r1($rt->{sent} / $rt->{messages}, 2);
		$state->{redis}{script_calls_per_message} = r1($rt->{lua} / $rt->{messages}, 2);
		$state->{redis}{round_trip_sample_messages} = 0 + $rt->{messages};
	}
	if ($state && $state->{none}) {
		for my $b (grep { $state->{$_} } qw(lmdb redis)) {
			$state->{$b}{cpu_us_per_message_over_none} =
			    r1($state->{$b}{milter_cpu_us_per_message} - $state->{none}{milter_cpu_us_per_message}, 1);
			$state->{$b}{rate_ratio_over_none} = $state->{none}{rate} ? r1($state->{$b}{rate} / $state->{none}{rate}, 2) : undef;
		}
	}
}

# The issue's targets, at the highest concurrency measured (50 in a full run).
my @targets;
if (@ratios) {
	my $top = $ratios[-1];
	push @targets, { target => "throughput at c=$top->{concurrency} >= 2x OpenDKIM+OpenDMARC",
		value => $top->{pm_over_od}, unit => 'x', met => defined $top->{pm_over_od} ? ($top->{pm_over_od} >= 2 ? JSON::PP::true : JSON::PP::false) : undef }
	    if defined $top->{pm_over_od};
	push @targets, { target => "throughput at c=$top->{concurrency} at most 15% below no milter",
		value => $top->{pm_over_none}, unit => 'x', met => $top->{pm_over_none} >= 0.85 ? JSON::PP::true : JSON::PP::false }
	    if defined $top->{pm_over_none};
	# issue 17: the like-for-like policy (pl) against rspamd and the null milter
	my $tf = sub { return $_[0] ? JSON::PP::true : JSON::PP::false };
	push @targets, { target => "pl ahead of rspamd in msgs/s at c=$top->{concurrency} (pl/rspamd > 1)",
		value => $top->{pl_over_rs}, unit => 'x', met => $tf->($top->{pl_over_rs} > 1) }
	    if defined $top->{pl_over_rs};
	push @targets, { target => "pl below rspamd in milter CPU per message at c=$top->{concurrency} (< 1)",
		value => $top->{pl_cpu_over_rs_cpu}, unit => 'x', met => $tf->($top->{pl_cpu_over_rs_cpu} < 1) }
	    if defined $top->{pl_cpu_over_rs_cpu};
	push @targets, { target => "pl at least 0.95 of the null milter in msgs/s at c=$top->{concurrency}",
		value => $top->{pl_over_nm}, unit => 'x', met => $tf->($top->{pl_over_nm} >= 0.95) }
	    if defined $top->{pl_over_nm};
}
if ($milter) {
	push @targets, { target => "peak RSS < 64 MiB at $milter->{connections} connections",
		value => $milter->{peak_rss_mib}, unit => 'MiB', met => $milter->{peak_rss_mib} < 64 ? JSON::PP::true : JSON::PP::false };
	# RSS moves with the sessions in flight: compare the means of the first
	# and the last quarter of the samples, not two single samples.
	my @kb = map { $_->{rss_kib} } @{ $milter->{rss_samples} };
	if (@kb >= 4) {
		my $q = int(@kb / 4);
		my ($first, $last) = (0, 0);
		$first += $kb[$_] for 0 .. $q - 1;
		$last += $kb[$_] for @kb - $q .. $#kb;
		($first, $last) = ($first / $q / 1024, $last / $q / 1024);
		@$milter{qw(rss_first_quarter_mib rss_last_quarter_mib rss_min_mib rss_max_mib)} =
		    (r1($first, 1), r1($last, 1), r1((sort { $a <=> $b } @kb)[0] / 1024, 1), r1((sort { $b <=> $a } @kb)[0] / 1024, 1));
		push @targets, { target => "no RSS growth over $milter->{messages} messages (last quarter's mean within 10% of the first's)",
			value => r1($last - $first, 1), unit => 'MiB',
			met => $last <= $first * 1.10 ? JSON::PP::true : JSON::PP::false };
	}
}

my $ok = !@failed_runs && $wrong == 0;
my %out = (
	title => 'policy-milter benchmark (make bench)', machine => \%machine,
	mix => [ map { { %$_, weight => 0 + $_->{weight}, expect => 0 + $_->{expect}, body_kib => 0 + $_->{kib} } } @mix ],
	mta => \@mta, ratios => \@ratios, smtp_source => \@xcheck, milter_only => $milter, milter_only_pl => $milter_pl,
	arc => $arc, state => $state, refusal_text => \%replytext, rspamd_headers => $rsheaders,
	targets => \@targets, dns_udp_drops => $drops,
	correctness => { messages_checked => $checked, wrong_replies => $wrong, failed_runs => \@failed_runs,
		ok => $ok ? JSON::PP::true : JSON::PP::false },
);
delete $_->{kib} for @{ $out{mix} };

# ---- write ---------------------------------------------------------------------

open(my $jfh, '>', "$json_file.tmp") or die "report.pl: $json_file: $!\n";
print $jfh JSON::PP->new->canonical->pretty->encode(\%out);
close $jfh or die "report.pl: $json_file: $!\n";
rename "$json_file.tmp", $json_file or die "report.pl: $json_file: $!\n";

sub fmt { my ($v, $f) = @_; return defined $v ? sprintf($f, $v) : '-' }

my $t = '';
$t .= "policy-milter benchmark (make bench), $machine{date}\n";
$t .= sprintf("machine:  %s CPUs (nproc), %s, %s, %.0f GiB memory\n", $machine{nproc} // '?',
	$machine{cpu} // '?', $machine{kernel} // '?', ($machine{memory_kib} // 0) / 1048576);
$t .= "software: Postfix $machine{postfix}, OpenDKIM $machine{opendkim}, OpenDMARC $machine{opendmarc}, "
    . "unbound $machine{unbound}, nsd $machine{nsd}\n";
$t .= "milter:   $machine{policy_milter}, commit $machine{commit}, binary sha256 "
    . ($machine{policy_milter_sha256} // '?') . "; nullmilter sha256 " . ($machine{nullmilter_sha256} // '?') . "\n";
$t .= "run:      mode $machine{mode}, $machine{duration_s} s\n";
my $cyc = 0;
$cyc += $_->{weight} for @mix;
$t .= "mix:      per $cyc messages: "
    . join(', ', map { "$_->{weight} $_->{name}" . ($_->{expect} != 250 ? " ($_->{expect})" : '') } @mix) . "\n";
if (@mta) {
	$t .= "\nThrough Postfix (one message per SMTP session; latency: connect to the reply to the final dot).\n"
	    . "CPU seconds per 1,000 messages: milter = the milter processes; world = every process of the\n"
	    . "benchmark's namespace (Postfix, milters, unbound, nsd) but the load generator; DNS = unbound.\n"
	    . "Memory of the milter processes (all of them: od both daemons, rs every rspamd process): peak\n"
	    . "RSS (VmHWM, largest of the rounds) and PSS (smaps_rollup at the end of a run, largest of the rounds).\n"
	    . "policy-milter pl: the like-for-like policy (the default with iprev, HELO SPF, sender_domain, arc off).\n";
	$t .= sprintf("%5s  %-19s %6s %7s %7s %7s %7s %6s %5s %9s %6s  %s\n", 'conc', 'setup', 'msgs', 'msgs/s',
		'p50 ms', 'p99 ms', 'milter', 'world', 'DNS', 'peak RSS', 'PSS', 'replies');
	$t .= sprintf("%5s  %-19s %6s %7s %7s %7s %7s %6s %5s %9s %6s\n", '', '', '', '', '', '', 'CPU', 'CPU', 'CPU', 'MiB', 'MiB');
	for my $a (@mta) {
		$t .= sprintf("%5d  %-19s %6d %7.1f %7.1f %7.1f %7s %6.2f %5.2f %9s %6s  %s\n", $a->{concurrency}, $a->{name},
			$a->{messages}, $a->{rate}, $a->{p50_ms} // 0, $a->{p99_ms} // 0,
			fmt($a->{milter_cpu_s_per_1000}, '%.2f'), $a->{world_cpu_s_per_1000}, $a->{dns_cpu_s_per_1000},
			fmt($a->{peak_rss_mib}, '%.1f'), fmt($a->{pss_mib}, '%.1f'),
			$a->{mismatches} ? "$a->{mismatches} WRONG" : 'as expected');
	}
	for my $x (grep { $_->{milter_cpu_s_per_1000_by_process} } @mta) {
		my $p = $x->{milter_cpu_s_per_1000_by_process};
		$t .= sprintf("  %s at c=%d, milter CPU s per 1,000 messages by process: %s\n", $x->{name}, $x->{concurrency},
			join(', ', map { "$_ $p->{$_}" } sort { $p->{$b} <=> $p->{$a} || $a cmp $b } keys %$p));
	}
	$t .= "\nRatios of messages/s\n";
	$t .= sprintf("%5s  %24s  %34s  %27s  %23s\n", 'conc', 'policy-milter/no milter',
		'policy-milter/OpenDKIM+OpenDMARC', 'policy-milter/null milter', 'null milter/no milter');
	$t .= sprintf("%5d  %24s  %34s  %27s  %23s\n", $_->{concurrency}, fmt($_->{pm_over_none}, '%.2f'),
		fmt($_->{pm_over_od}, '%.2f'), fmt($_->{pm_over_nm}, '%.2f'), fmt($_->{nm_over_none}, '%.2f'))
	    for @ratios;
	if (grep { defined $_->{pl_over_rs} || defined $_->{pl_over_nm} || defined $_->{nm_over_rs} } @ratios) {
		$t .= "\nLike-for-like (issue 17): policy-milter pl against rspamd and the null milter\n";
		$t .= sprintf("%5s  %17s  %27s  %17s  %20s  %18s\n", 'conc', 'pl/rspamd msgs/s',
			'milter CPU s/1k pl : rspamd', 'pl/null milter', 'null milter/rspamd', 'rspamd/no milter');
		$t .= sprintf("%5d  %17s  %27s  %17s  %20s  %18s\n", $_->{concurrency}, fmt($_->{pl_over_rs}, '%.2f'),
			sprintf('%s : %s (x%s)', fmt($_->{pl_cpu_s_per_1000}, '%.2f'), fmt($_->{rs_cpu_s_per_1000}, '%.2f'),
				fmt($_->{pl_cpu_over_rs_cpu}, '%.2f')),
			fmt($_->{pl_over_nm}, '%.2f'), fmt($_->{nm_over_rs}, '%.2f'), fmt($_->{rs_over_none}, '%.2f'))
		    for @ratios;
	}
	$t .= "The null milter (tests/bench/nullmilter.c) negotiates what policy-milter does, does no work and adds\n"
	    . "one header, so null milter/no milter is what the milter protocol alone costs: no milter on this\n"
	    . "MTA and machine can do better than that ratio, and policy-milter/null milter is its own share.\n"
	    if grep { defined $_->{nm_over_none} } @ratios;
}
if (%replytext) {
	$t .= "\nThe refusal of a dmarc-reject message (one message through each setup, swaks):\n";
	$t .= sprintf("  %-19s %s\n", $NAME{$_} // $_, $replytext{$_}{text} ne '' ? $replytext{$_}{text} : '(no reply)')
	    for grep { $replytext{$_} } @SETUPS;
}
if ($rsheaders) {
	$t .= "rspamd's reply for an accepted message (rsa2048; rspamc --json at its normal worker) asks the MTA to add "
	    . (@{ $rsheaders->{added} } ? join(', ', @{ $rsheaders->{added} }) : 'no header field')
	    . (@{ $rsheaders->{removed} } ? " and remove " . join(', ', @{ $rsheaders->{removed} }) : '') . ":\n";
	$t .= "  $rsheaders->{authentication_results}\n" if $rsheaders->{authentication_results} ne '';
}
if (my @rs = grep { $_->{setup} eq 'rs' } @mta) {
	my $same = !grep { $_->{mismatches} } grep { $_->{setup} =~ /^(rs|pl|pm)$/ } @mta;
	my $rt = $replytext{rs} ? $replytext{rs}{text} : '554 (its reject action)';
	$t .= "Where rspamd differs from policy-milter on this mix: "
	    . ($same ? "the same decisions for every class (all accepted but dmarc-reject)"
		: "NOT the same decisions (see the replies above)")
	    . ";\nit refuses with \"$rt\" where policy-milter says 550 5.7.26; its Authentication-Results\n"
	    . "(milter_headers) carries dkim, dmarc and spf but no iprev (pm) and no arc. Beyond this mix (issue\n"
	    . "17's findings, not measured here): an SPF record with a syntax error, two records, more than 10\n"
	    . "lookups, void lookups, a failing include all give spf=pass; several From-header tricks dmarc=none.\n";
}
if (@xcheck) {
	$t .= "\nCross-check with Postfix's smtp-source (class rsa2048 only, one sender; stops at any refusal)\n";
	$t .= sprintf("%5d  %-19s %8d %8.1f  %s\n", $_->{concurrency}, $_->{name}, $_->{messages}, $_->{rate},
		$_->{ok} ? 'all accepted' : 'FAILED') for @xcheck;
}
if ($milter) {
	$t .= "\npolicy-milter alone (miltload over its socket, no MTA, $milter->{connections} connections, "
	    . "$milter->{messages} messages)\n";
	$t .= sprintf("  ceiling %.1f msgs/s; latency p50 %.2f ms, p99 %.2f ms; CPU s/1k messages: milter %.2f, DNS %.2f; %s\n",
		$milter->{rate}, $milter->{p50_ms} // 0, $milter->{p99_ms} // 0, $milter->{milter_cpu_s_per_1000},
		$milter->{dns_cpu_s_per_1000},
		$milter->{mismatches} ? "$milter->{mismatches} WRONG replies" : 'all replies as expected');
	$t .= sprintf("  peak RSS %.1f MiB; RSS %.1f MiB after %d messages, %.1f MiB after %d, %.1f MiB at the end; PSS at the end %s MiB\n",
		$milter->{peak_rss_mib}, $milter->{rss_first_mib}, $milter->{rss_first_at}, $milter->{rss_last_mib},
		$milter->{rss_last_at}, $milter->{rss_end_mib}, fmt($milter->{pss_end_mib}, '%.1f'));
	$t .= sprintf("  RSS sampled every 1,000 messages: %.1f to %.1f MiB; mean of the first quarter %.1f, of the last %.1f MiB\n",
		@$milter{qw(rss_min_mib rss_max_mib rss_first_quarter_mib rss_last_quarter_mib)})
	    if defined $milter->{rss_first_quarter_mib};
}
for my $m (grep { $_ } $milter_pl) {
	$t .= "\npolicy-milter alone with the like-for-like policy (pl; same load, started afresh)\n";
	$t .= sprintf("  ceiling %.1f msgs/s; latency p50 %.2f ms, p99 %.2f ms; CPU s/1k messages: milter %.2f, DNS %.2f; peak RSS %.1f MiB, PSS %s MiB; %s\n",
		$m->{rate}, $m->{p50_ms} // 0, $m->{p99_ms} // 0, $m->{milter_cpu_s_per_1000}, $m->{dns_cpu_s_per_1000},
		$m->{peak_rss_mib}, fmt($m->{pss_end_mib}, '%.1f'),
		$m->{mismatches} ? "$m->{mismatches} WRONG replies" : 'all replies as expected');
	$t .= sprintf("  pl/pm ceiling x%.2f\n", $m->{rate} / $milter->{rate}) if $milter && $milter->{rate};
}
if ($arc) {
	$t .= "\nWhat ARC costs (issue 15): policy-milter alone, class rsa2048 without and with two ARC sets\n"
	    . "(i=1 lists.example.net rsa-sha256, i=2 fwd.example.net ed25519-sha256; message unchanged), "
	    . "$arc->{with}{runs} runs of each in turn, $arc->{with}{messages} messages each in all, "
	    . "$arc->{with}{connections} connections\n";
	for my $k (qw(without with)) {
		my $x = $arc->{$k};
		$t .= sprintf("  %-11s %8.1f msgs/s; milter CPU %7.1f us/message; latency p50 %.2f ms, p99 %.2f ms; peak RSS %.1f MiB%s\n",
			"$k ARC", $x->{rate}, $x->{milter_cpu_us_per_message}, $x->{p50_ms} // 0, $x->{p99_ms} // 0,
			$x->{peak_rss_mib}, $x->{mismatches} ? "; $x->{mismatches} WRONG replies" : '');
	}
	$t .= sprintf("  ARC: %+.1f us of milter CPU per message (x%s), messages/s x%s\n", $arc->{cpu_us_per_message},
		fmt($arc->{cpu_ratio}, '%.2f'), fmt($arc->{rate_ratio}, '%.2f'));
}
if ($state) {
	my $any = (grep { $state->{$_} } qw(none lmdb redis))[0];
	$t .= "\nWhat greylisting and a rate limit cost (issue 16): policy-milter alone, the whole mix, senders\n"
	    . "repeating so every triplet is known (primed: one round all new, one all passed); greylisting\n"
	    . "enforce (auto_allow_after 0: every triplet looked up) and one rate limit (per client address,\n"
	    . "never reached), $state->{$any}{runs} runs of each in turn, $state->{$any}{messages} messages each in all, "
	    . "$state->{$any}{connections} connections\n";
	for my $b (grep { $state->{$_} } qw(none lmdb redis)) {
		my $x = $state->{$b};
		$t .= sprintf("  %-9s %8.1f msgs/s; milter CPU %6.1f ms/1,000 messages%s; p50 %.2f ms, p99 %.2f ms; peak RSS %.1f MiB%s\n",
			$b eq 'none' ? 'no state' : $b, $x->{rate}, $x->{milter_cpu_ms_per_1000},
			defined $x->{cpu_us_per_message_over_none} ? sprintf(" (%+.1f us/message)", $x->{cpu_us_per_message_over_none}) : '',
			$x->{p50_ms} // 0, $x->{p99_ms} // 0, $x->{peak_rss_mib}, $x->{mismatches} ? "; $x->{mismatches} WRONG replies" : '');
		$t .= "            rounds: " . join(', ', map { sprintf("%.1f msgs/s %.0f us/message", $_->{rate}, $_->{milter_cpu_us_per_message}) }
			@{ $x->{rounds} }) . "\n" if @{ $x->{rounds} } > 1;
	}
	if (my $x = $state->{redis}) {
		$t .= sprintf("  redis: %s round trips per message (commands the milter sent, MONITOR over %s messages; its scripts\n"
			. "         called %s more); INFO commandstats over the measured runs: %s commands per message (%s)\n",
			fmt($x->{round_trips_per_message}, '%.2f'), $x->{round_trip_sample_messages} // '-',
			fmt($x->{script_calls_per_message}, '%.2f'), fmt($x->{redis_commands_per_message}, '%.2f'),
			join(', ', map { "$_ $x->{redis_commands}{$_}" } sort keys %{ $x->{redis_commands} // {} }));
	}
}
if (@targets) {
	$t .= "\nTargets (issues 6 and 17; reported, never the exit status)\n";
	$t .= sprintf("  %-70s %8s  %s\n", $_->{target}, "$_->{value} $_->{unit}",
		!defined $_->{met} ? '-' : $_->{met} ? 'met' : 'NOT met') for @targets;
}
$t .= "\nDNS: $drops queries lost on the way to unbound (full receive buffer; each costs a resolver timeout)\n"
    if $drops;
$t .= "\nCorrectness: " . ($ok
	? "every one of $checked messages got the reply its class expects\n"
	: "FAILED: $wrong wrong replies; runs: " . join(' ', @failed_runs) . "\n");

open(my $tfh, '>', "$text_file.tmp") or die "report.pl: $text_file: $!\n";
print $tfh $t;
close $tfh or die "report.pl: $text_file: $!\n";
rename "$text_file.tmp", $text_file or die "report.pl: $text_file: $!\n";
exit 0;
