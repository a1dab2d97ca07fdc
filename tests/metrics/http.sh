#!/bin/bash
# NAME
#	http.sh - the metrics endpoint's HTTP responder against good and hostile clients
#	(make check: suite "metrics-http")
# SYNOPSIS
#	tests/metrics/http.sh
# DESCRIPTION
#	Builds build/tests/metrics-httpd (tests/metrics/httpd.c: the
#	responder of src/metrics_http.c with a fixed render function that
#	counts its calls) and its ASan+UBSan build, and runs each on a free
#	loopback port (no root needed) against curl and the clients of
#	tests/metrics/hostile.py: the exact 200 (body and headers), 404,
#	405 with Allow, 400 for garbage, bad request lines and headers, the
#	HTTP/2 preface and NULs, 414 and 431 at the size bound, the render
#	never called for any of them; 408 for a slowloris client, an idle
#	one and one that stops mid-headers, within the time bound + 1 s; 100
#	idle connections with a scrape still answered at once; clients that
#	never read a 2 MiB body dropped at the bound, clients that reset
#	mid-response (the harness keeps SIGPIPE's default action), every slot held and
#	a new client refused with 503 at once; 50 parallel scrapes with
#	identical bodies; then a scrape still answered, no descriptor kept,
#	the resident memory grown by under 2 MiB (plain), and a clean exit on
#	SIGTERM (no sanitizer report). The bounds are read from the
#	harness's "ready" line, not repeated here. Then (plain build) a unix
#	socket: a stale one replaced, mode 0660, curl --unix-socket, a live
#	one refused, removed at stop; ::1; a public address refused; a
#	failing render answered 500.
#
#	Reuse (the e2e test "50 parallel scrapes do not slow SMTP replies"):
#	point the load generator at the daemon's metrics.listen while the
#	SMTP replies are timed, e.g.
#	    python3 tests/metrics/hostile.py scrape inet:9100@127.0.0.1 \
#	        --parallel 50 --seconds 10 &
#	It prints "scrapes=N failures=N max_ms=N" and exits 1 when a scrape
#	was not a full 200 (--max-ms MS: or took longer). The hostile
#	subcommands (errors, timing, flood, parallel; unread needs a body
#	over 1 MiB) run as well against the daemon's own endpoint (set
#	METRICS_HTTP_LABEL to name them in the TAP lines).
# DIAGNOSTICS
#	TAP lines "ok - metrics-http ..." / "not ok - ..."; exit 0 when
#	every test passed, 1 otherwise, 2 when the build failed.
set -u
cd "$(dirname "$0")/../.." || exit 2
make -s build/tests/metrics-httpd build/asan/tests/metrics-httpd >/dev/null || {
	echo "not ok - metrics-http: build failed"
	exit 2
}
W=build/metrics-http-test
rm -rf "$W" && mkdir -p "$W"
W=$(cd "$W" && pwd)
HOSTILE=tests/metrics/hostile.py
fail=0
pids=()
vpids=()
# shellcheck disable=SC2154 # p is the loop's
trap 'for p in "${pids[@]}"; do kill "$p" 2>/dev/null; done' EXIT

ok() { echo "ok - metrics-http $label: $1"; }
notok() {
	echo "not ok - metrics-http $label: $1"
	fail=1
}
# expect DESC COMMAND... - ok when the command succeeds
expect() {
	local desc=$1
	shift
	if "$@"; then ok "$desc"; else notok "$desc"; fi
}
# check DESC GOT WANT - equal strings
check() {
	if [ "$2" = "$3" ]; then ok "$1"; else
		notok "$1"
		echo "    got:  $2"
		echo "    want: $3"
	fi
}
# free_port - a loopback TCP port nobody listens on now
free_port() {
	python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'
}
# start NAME BIN ARGS... - start the harness (output in $W/NAME.out, .err); sets $pid; 1 if not ready
start() {
	local name=$1
	shift
	"$@" >"$W/$name.out" 2>"$W/$name.err" &
	pid=$!
	pids+=("$pid")
	for _ in $(seq 50); do
		grep -q '^ready ' "$W/$name.out" && return 0
		kill -0 "$pid" 2>/dev/null || break
		sleep 0.1
	done
	notok "$name: the harness did not start: $(cat "$W/$name.err")"
	return 1
}
# bound NAME KEY - a value of the harness's ready line
bound() {
	sed -n "s/^ready .* $2=\([0-9]*\).*/\1/p" "$W/$1.out"
}
# renders NAME PID - how many times the render function ran so far
renders() {
	local before
	before=$(grep -c '^renders ' "$W/$1.out")
	kill -USR1 "$2"
	for _ in $(seq 50); do
		[ "$(grep -c '^renders ' "$W/$1.out")" -gt "$before" ] && break
		sleep 0.1
	done
	grep '^renders ' "$W/$1.out" | tail -n 1 | cut -d ' ' -f 2
}
# stop NAME PID - SIGTERM: exit 0 within 5 s, "stopped", no sanitizer report
stop() {
	local rc
	kill -TERM "$2"
	for _ in $(seq 50); do
		kill -0 "$2" 2>/dev/null || break
		sleep 0.1
	done
	if kill -0 "$2" 2>/dev/null; then
		notok "$1: still running 5 s after SIGTERM"
		kill -KILL "$2"
	fi
	wait "$2"
	rc=$?
	check "$1: exit status after SIGTERM" "$rc" 0
	check "$1: stopped cleanly" "$(tail -n 1 "$W/$1.out")" stopped
	if grep -qE 'ERROR: (Address|Leak)Sanitizer|runtime error|SUMMARY: ' "$W/$1.err"; then
		notok "$1: sanitizer report"
		sed 's/^/    /' "$W/$1.err" | head -40
	else
		ok "$1: no sanitizer report"
	fi
}
# tap FILE - copy the TAP lines of hostile.py, count its failures
tap() {
	cat "$1"
	grep -q '^not ok' "$1" && fail=1
	grep -q '^ok' "$1" || notok "$1: no results"
}
# curl_check DESC WANT_STATUS CURL_ARGS... - status by curl, headers in $W/h, body in $W/b
curl_check() {
	local desc=$1 want=$2 got
	shift 2
	got=$(curl -sS --max-time 5 -D "$W/h" -o "$W/b" -w '%{http_code}' "$@" 2>"$W/curl.err")
	check "curl $desc: status" "$got" "$want"
}

printf '# HELP pm_test_up Whether the test responder is up.\n# TYPE pm_test_up gauge\npm_test_up 1\n' >"$W/body"

# one_variant plain|asan - the TCP cases against one build, in a work directory of its own
one_variant() {
	local variant=$1 bin port addr url small large timing port2 fds0 rss0 rss1 goods
	local timeout_ms max_conn max_request
	label=$variant
	export METRICS_HTTP_LABEL=$variant
	W=$W/$variant
	mkdir -p "$W"
	cp "$W/../body" "$W/body"
	bin=build/tests/metrics-httpd
	[ "$variant" = asan ] && bin=build/asan/tests/metrics-httpd
	export ASAN_OPTIONS=detect_leaks=1:abort_on_error=0 UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1

	port=$(free_port)
	addr=inet:$port@127.0.0.1
	url=http://127.0.0.1:$port
	start small "$bin" "$addr" || return
	small=$pid
	timeout_ms=$(bound small timeout_ms)
	max_conn=$(bound small max_conn)
	max_request=$(bound small max_request)
	check "the bounds the harness reports" "$max_conn $max_request $timeout_ms" "64 8192 5000"
	fds0=$(find "/proc/$small/fd" -mindepth 1 | wc -l)

	# errors first: none of them may call the render function
	python3 "$HOSTILE" errors "$addr" >"$W/errors.tap" 2>&1
	tap "$W/errors.tap"
	check "no render for any error" "$(renders small "$small")" 0

	curl_check "GET /metrics" 200 "$url/metrics"
	if cmp -s "$W/b" "$W/body"; then ok "curl GET /metrics: the exact body"; else
		notok "curl GET /metrics: the exact body"
		od -c "$W/b" | head -10 | sed 's/^/    /'
	fi
	# the exact header lines, in order (the date's form checked, then blanked)
	if grep -qE '^Date: (Mon|Tue|Wed|Thu|Fri|Sat|Sun), [0-9]{2} [A-Z][a-z]{2} [0-9]{4} [0-9]{2}:[0-9]{2}:[0-9]{2} GMT.$' "$W/h"; then
		ok "curl GET /metrics: an IMF-fixdate Date header"
	else
		notok "curl GET /metrics: an IMF-fixdate Date header"
	fi
	check "curl GET /metrics: the headers" "$(sed 's/^Date: .*/Date: D/' "$W/h" | tr -d '\r')" \
		"$(printf 'HTTP/1.1 200 OK\nDate: D\nContent-Type: text/plain; version=0.0.4; charset=utf-8\nContent-Length: %s\nConnection: close\n' "$(wc -c <"$W/body")")"
	curl_check "GET /metrics?x=1" 200 "$url/metrics?x=1"
	curl_check "HTTP/1.0" 200 --http1.0 "$url/metrics"
	curl_check "GET /" 404 "$url/"
	curl_check "GET /metrics/x" 404 "$url/metrics/x"
	curl_check "POST /metrics" 405 -X POST -d x=1 "$url/metrics"
	check "curl POST /metrics: Allow" "$(sed -n 's/^Allow: //p' "$W/h" | tr -d '\r')" GET
	curl_check "a 10 KiB header" 431 -H "X-Big: $(head -c 10000 /dev/zero | tr '\0' a)" "$url/metrics"
	curl_check "a 9 KiB path" 414 "$url/$(head -c 9000 /dev/zero | tr '\0' a)"
	check "renders: one per 200 of curl" "$(renders small "$small")" 3

	python3 "$HOSTILE" goods "$addr" "$W/body" >"$W/goods.tap" 2>&1
	tap "$W/goods.tap"
	goods=$(grep -c '^ok' "$W/goods.tap")
	check "renders: one per 200 of curl and goods" "$(renders small "$small")" $((3 + goods))
	rss0=$(awk '/^VmRSS/ {print $2}' "/proc/$small/status")

	# the slow clients here, the clients that do not read on a harness of their own meanwhile
	port2=$(free_port)
	start large "$bin" -b 2097152 "inet:$port2@127.0.0.1" || return
	large=$pid
	python3 "$HOSTILE" timing "$addr" "$timeout_ms" >"$W/timing.tap" 2>&1 &
	timing=$!
	python3 "$HOSTILE" unread "inet:$port2@127.0.0.1" "$timeout_ms" "$max_conn" >"$W/unread.tap" 2>&1
	wait "$timing"
	tap "$W/timing.tap"
	tap "$W/unread.tap"
	curl_check "(large body) still answers" 200 "http://127.0.0.1:$port2/metrics"
	check "(large body) its whole body" "$(wc -c <"$W/b")" "$(bound large body_bytes)"
	stop large "$large"

	python3 "$HOSTILE" flood "$addr" "$timeout_ms" 100 >"$W/flood.tap" 2>&1
	tap "$W/flood.tap"
	python3 "$HOSTILE" parallel "$addr" 50 "$W/body" >"$W/parallel.tap" 2>&1
	tap "$W/parallel.tap"
	curl_check "after all that, GET /metrics" 200 "$url/metrics"
	expect "after all that, the exact body" cmp -s "$W/b" "$W/body"
	# every connection closed by now (the lingering ones within 1 s): no descriptor kept
	sleep 1.2
	check "after all that, the descriptors open" "$(find "/proc/$small/fd" -mindepth 1 | wc -l)" "$fds0"
	if [ "$variant" = plain ]; then # (ASan's quarantine keeps freed memory)
		rss1=$(awk '/^VmRSS/ {print $2}' "/proc/$small/status")
		expect "after the hostile clients, the resident memory grew by under 2 MiB ($rss0 -> $rss1 KiB)" \
			test $((rss1 - rss0)) -lt 2048
	fi
	stop small "$small"
}

# Both builds at once: their cases mostly wait on the bounds (5 s), not on the CPU.
for variant in plain asan; do
	(
		trap 'for p in "${pids[@]}"; do kill "$p" 2>/dev/null; done' EXIT
		one_variant "$variant"
		exit "$fail"
	) >"$W/$variant.tap" 2>&1 &
	vpids+=($!)
done
for i in 0 1; do
	wait "${vpids[$i]}" || fail=1
done
cat "$W/plain.tap" "$W/asan.tap"

label=plain
bin=build/tests/metrics-httpd
export METRICS_HTTP_LABEL=plain

# a unix socket: a stale one is replaced, the mode is 0660, a live one is refused, removed at stop
sock=$W/metrics.sock
python3 -c 'import socket,sys; s=socket.socket(socket.AF_UNIX); s.bind(sys.argv[1])' "$sock"
if start unix "$bin" "unix:$sock"; then
	unix=$pid
	ok "unix: a stale socket is replaced"
	check "unix: the socket's mode" "$(stat -c %a "$sock")" 660
	curl_check "--unix-socket GET /metrics" 200 --unix-socket "$sock" http://localhost/metrics
	expect "unix: the exact body" cmp -s "$W/b" "$W/body"
	curl_check "--unix-socket GET /other" 404 --unix-socket "$sock" http://localhost/other
	METRICS_HTTP_LABEL="plain unix" python3 "$HOSTILE" parallel "unix:$sock" 50 "$W/body" \
		>"$W/unix-parallel.tap" 2>&1
	tap "$W/unix-parallel.tap"
	"$bin" "unix:$sock" >"$W/unix2.out" 2>"$W/unix2.err"
	check "unix: a second harness on the live socket: exit status" "$?" 1
	expect "unix: a live socket is never stolen ($(cat "$W/unix2.err"))" \
		grep -q 'another process is listening' "$W/unix2.err"
	curl_check "--unix-socket, the first still answers" 200 --unix-socket "$sock" http://localhost/metrics
	stop unix "$unix"
	expect "unix: the socket is removed at stop" test ! -e "$sock"
fi
: >"$W/file"
"$bin" "unix:$W/file" >/dev/null 2>"$W/file.err"
check "unix: a file that is not a socket: exit status" "$?" 1
expect "unix: a file that is not a socket is not replaced ($(cat "$W/file.err"))" \
	grep -q 'is not a socket' "$W/file.err"

# ::1, where the host has it
port=$(free_port)
if python3 -c 'import socket; socket.socket(socket.AF_INET6).bind(("::1", 0))' 2>/dev/null; then
	if start v6 "$bin" "inet6:$port@::1"; then
		curl_check "inet6 ::1 GET /metrics" 200 -g "http://[::1]:$port/metrics"
		stop v6 "$pid"
	fi
else
	ok "inet6: skipped, no ::1 here"
fi

# a public address is refused unless allowed (-p); a failing render gets 500
"$bin" "inet:$port@192.0.2.1" >/dev/null 2>"$W/public.err"
check "a public address: exit status" "$?" 1
expect "a public address is refused ($(cat "$W/public.err"))" \
	grep -q 'not a loopback address' "$W/public.err"
"$bin" "inet:$port" >/dev/null 2>"$W/any.err"
check "no host (every address): exit status" "$?" 1
if start failing "$bin" -f "inet:$port@127.0.0.1"; then
	curl_check "a failing render" 500 "http://127.0.0.1:$port/metrics"
	stop failing "$pid"
fi

exit $fail
