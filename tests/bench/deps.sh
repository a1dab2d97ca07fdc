#!/bin/sh
# NAME
#	deps.sh - install the Debian packages the benchmark needs
# SYNOPSIS
#	tests/bench/deps.sh		(make bench runs it after make deps)
# DESCRIPTION
#	The benchmark (tests/bench/run.sh) needs, besides what tests/deps.sh
#	installs for the end-to-end world (postfix with smtp-source, nsd,
#	Mail::DKIM, dkimpy, dig, gcc):
#	  opendkim   the OpenDKIM milter (setup 3, DKIM verification);
#	  opendmarc  the OpenDMARC milter (setup 3, SPF and DMARC);
#	  unbound    the caching resolver in front of nsd;
#	  rspamd     rspamd 3.4 in milter mode (setup rs: proxy worker in
#	             front of one normal worker; SPF, DKIM, DMARC only).
#	tests/deps.sh installs them the same way: only what is missing, no
#	recommends, services held back (the benchmark runs its own instances
#	in a private namespace, never the host's).
# DIAGNOSTICS
#	As tests/deps.sh.

exec sh "$(dirname "$0")/../deps.sh" opendkim opendmarc unbound rspamd
