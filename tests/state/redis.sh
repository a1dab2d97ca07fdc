# shellcheck shell=bash
# NAME
#	redis.sh - a private redis-server for the state tests
# SYNOPSIS
#	. tests/state/redis.sh
#	redis_start DIR [REDIS-ARG...]	e.g. redis_start "$W/redis" --port 6390
#	redis_cli DIR COMMAND...	e.g. redis_cli "$W/redis" DBSIZE
#	redis_stop DIR
# DESCRIPTION
#	redis_start makes DIR if needed and starts Debian's redis-server
#	there: daemonized, its pid in DIR/redis.pid, its log in DIR/redis.log,
#	listening on the unix socket DIR/redis.sock (mode 0777, so a milter
#	running as another user may connect; DIR's own mode decides) and, only
#	when a REDIS-ARG says "--port N", on 127.0.0.1 port N (the default is
#	--port 0: no TCP). No persistence (--save "" --appendonly no), nothing
#	read from /etc/redis. The REDIS-ARGs come after these settings, so
#	they may override any of them (e.g. --requirepass SECRET). It returns
#	once the server answers PING (within 10 s), else prints the log's tail
#	and returns 1. Inside a fresh network namespace bring "lo" up first.
#
#	redis_cli runs redis-cli against DIR/redis.sock (with REDISCLI_AUTH
#	from the environment, if the server wants a password).
#
#	redis_stop sends SIGTERM to the server in DIR/redis.pid and waits
#	(5 s, then SIGKILL) until it is gone; nothing to stop is fine.
# DIAGNOSTICS
#	"redis: ..." on stderr and status 1 when redis-server is missing or
#	does not start.

# redis_start DIR [REDIS-ARG...] - a private server in DIR, answering PING
redis_start() {
	local dir=$1
	shift
	if ! command -v redis-server >/dev/null; then
		echo "redis: redis-server not installed (make deps)" >&2
		return 1
	fi
	mkdir -p "$dir" || return 1
	dir=$(cd "$dir" && pwd)
	rm -f "$dir/redis.sock" "$dir/redis.pid"
	redis-server --daemonize yes --pidfile "$dir/redis.pid" --logfile "$dir/redis.log" \
		--dir "$dir" --unixsocket "$dir/redis.sock" --unixsocketperm 777 \
		--bind 127.0.0.1 --port 0 --save "" --appendonly no "$@" || {
		echo "redis: redis-server did not start (see $dir/redis.log)" >&2
		return 1
	}
	for _ in $(seq 100); do
		if [ -S "$dir/redis.sock" ] &&
			redis-cli -s "$dir/redis.sock" PING 2>/dev/null | grep -q -e PONG -e NOAUTH; then
			return 0
		fi
		sleep 0.1
	done
	echo "redis: no answer on $dir/redis.sock after 10 s; $dir/redis.log says:" >&2
	tail -20 "$dir/redis.log" >&2 2>/dev/null
	return 1
}

# redis_cli DIR COMMAND... - one command to the server of DIR
redis_cli() {
	local dir=$1
	shift
	redis-cli -s "$dir/redis.sock" "$@"
}

# redis_stop DIR - stop the server of DIR, if any, and wait until it is gone
redis_stop() {
	local dir=$1 pid
	[ -f "$dir/redis.pid" ] || return 0
	pid=$(cat "$dir/redis.pid" 2>/dev/null)
	[ -n "$pid" ] || return 0
	kill -TERM "$pid" 2>/dev/null || {
		rm -f "$dir/redis.pid"
		return 0
	}
	for _ in $(seq 50); do
		kill -0 "$pid" 2>/dev/null || break
		sleep 0.1
	done
	if kill -0 "$pid" 2>/dev/null; then
		kill -KILL "$pid" 2>/dev/null
		sleep 0.1
	fi
	rm -f "$dir/redis.pid" "$dir/redis.sock"
	return 0
}
