# shellcheck shell=bash
# NAME
#	nsdconf.sh - an nsd.conf for a test's private nsd (sourced)
# SYNOPSIS
#	. tests/nsdconf.sh; nsd_conf CONF DIR ZONEFILE...
# DESCRIPTION
#	Writes CONF: nsd on 127.0.0.1:53, no chroot, no user change, no
#	response rate limit, its pid, state, zone list and log (DIR/nsd.log)
#	in DIR, and one zone per ZONEFILE, named after the file without
#	".zone". Used by tests/spf/run.sh and tests/dnsneg/run.sh.
# DIAGNOSTICS
#	None; nsd itself says what it does not like in DIR/nsd.log.

# nsd_conf CONF DIR ZONEFILE... - write CONF (see above)
nsd_conf() {
	local conf=$1 dir=$2 z
	shift 2
	printf '%s\n' \
		'server:' \
		'	ip-address: 127.0.0.1' \
		'	port: 53' \
		"	zonesdir: \"$dir\"" \
		'	database: ""' \
		"	zonelistfile: \"$dir/zone.list\"" \
		"	xfrdfile: \"$dir/xfrd.state\"" \
		"	xfrdir: \"$dir\"" \
		"	pidfile: \"$dir/nsd.pid\"" \
		"	logfile: \"$dir/nsd.log\"" \
		'	username: ""' \
		'	chroot: ""' \
		'	verbosity: 1' \
		'	rrl-ratelimit: 0' \
		'	hide-version: yes' \
		'remote-control:' \
		'	control-enable: no' >"$conf"
	for z in "$@"; do
		printf 'zone:\n\tname: "%s"\n\tzonefile: "%s"\n' "$(basename "$z" .zone)" "$z"
	done >>"$conf"
}
