#!/usr/bin/env python3
"""hostile.py - clients, good and hostile, of the metrics endpoint (tests/metrics/http.sh)

SYNOPSIS
    hostile.py errors   ADDR                 requests that must get an error, never a render
    hostile.py goods    ADDR BODY_FILE       odd but valid requests: 200 and the exact body
    hostile.py timing   ADDR TIMEOUT_MS      slowloris, an idle client, a half-closed request
    hostile.py flood    ADDR TIMEOUT_MS N    N idle connections, a scrape among them
    hostile.py unread   ADDR TIMEOUT_MS MAX_CONN   clients that never read a large body
    hostile.py parallel ADDR N BODY_FILE     N scrapes at once, every body the same as BODY_FILE
    hostile.py scrape   ADDR [--parallel N] [--seconds S] [--max-ms MS]

DESCRIPTION
    ADDR is a metrics.listen value: inet:PORT@HOST, inet6:PORT@HOST or
    unix:/path. Every subcommand but scrape prints TAP lines
    ("ok - metrics-http LABEL: ..." / "not ok - ...", LABEL from
    $METRICS_HTTP_LABEL) and exits 1 when one failed. Every response is
    read to the server's close: each must say "Connection: close", carry
    a Content-Length equal to its body, and be followed by the close.
    Time bounds are generous (a loaded machine): "at once" is within
    PROMPT seconds, well below the responder's own timeout.

    scrape is the load for other suites (the e2e test "50 parallel scrapes
    while SMTP is timed"): N threads (default 50) scrape ADDR one request
    after another for S seconds (default 10); it prints one line
    "scrapes=N failures=N max_ms=N" and exits 1 when a scrape failed (not
    200, no full body, an error) or, with --max-ms, took longer.
"""
import os
import select
import socket
import struct
import sys
import threading
import time

PROMPT = 2.5  # seconds: an answer "at once", on a loaded machine
LABEL = os.environ.get("METRICS_HTTP_LABEL", "")
failed = False


def report(good, desc, detail=""):
    global failed
    prefix = "metrics-http " + LABEL + ": " if LABEL else "metrics-http: "
    if good:
        print("ok - " + prefix + desc, flush=True)
    else:
        failed = True
        print("not ok - " + prefix + desc, flush=True)
        if detail:
            for line in str(detail).splitlines():
                print("    " + line, flush=True)


def connect(addr, rcvbuf=None, timeout=10.0):
    """a connected socket to a metrics.listen address"""
    if addr.startswith("unix:"):
        s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        target = addr[5:]
    else:
        fam = socket.AF_INET6 if addr.startswith("inet6:") else socket.AF_INET
        port, _, host = addr.split(":", 1)[1].partition("@")
        host = host.strip("[]") or ("::1" if fam == socket.AF_INET6 else "127.0.0.1")
        if host == "localhost":
            host = "::1" if fam == socket.AF_INET6 else "127.0.0.1"
        s = socket.socket(fam, socket.SOCK_STREAM)
        target = (host, int(port))
    if rcvbuf is not None:
        s.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, rcvbuf)
    s.settimeout(timeout)
    s.connect(target)
    return s


def read_all(s, deadline):
    """what the peer sends until its close; (bytes, how it ended: eof, reset, timeout)"""
    data = b""
    while True:
        left = deadline - time.monotonic()
        if left <= 0:
            return data, "timeout"
        s.settimeout(left)
        try:
            chunk = s.recv(65536)
        except socket.timeout:
            return data, "timeout"
        except ConnectionResetError:
            return data, "reset"
        if not chunk:
            return data, "eof"
        data += chunk


class Response:
    """a response as read: status, headers (lower-case names), body, and what is wrong with it"""

    def __init__(self, data, ended):
        self.raw, self.ended = data, ended
        self.status, self.headers, self.body, self.problems = None, [], b"", []
        head, sep, self.body = data.partition(b"\r\n\r\n")
        if not sep:
            self.problems.append("no complete head (%d bytes, %s)" % (len(data), ended))
            return
        lines = head.decode("latin-1").split("\r\n")
        parts = lines[0].split(" ", 2)
        if len(parts) < 2 or parts[0] != "HTTP/1.1" or not parts[1].isdigit():
            self.problems.append("bad status line %r" % lines[0])
            return
        self.status = int(parts[1])
        for line in lines[1:]:
            name, _, value = line.partition(":")
            self.headers.append((name.lower(), value.strip()))
        if self.header("connection") != "close":
            self.problems.append("Connection: %r" % self.header("connection"))
        cl = self.header("content-length")
        if cl is None or not cl.isdigit() or int(cl) != len(self.body):
            self.problems.append("Content-Length %r, body %d bytes" % (cl, len(self.body)))
        if ended != "eof":
            self.problems.append("not closed by the server (%s)" % ended)

    def header(self, name):
        for n, v in self.headers:
            if n == name:
                return v
        return None

    def __str__(self):
        return "status %s, problems %s, raw %r" % (self.status, self.problems, self.raw[:300])


def exchange(addr, request, wait=PROMPT, chunks=None):
    """send request (whole, or in chunks), read the response; (Response, seconds)"""
    t0 = time.monotonic()
    s = connect(addr)
    try:
        for part in chunks or [request]:
            try:
                s.sendall(part)
            except (BrokenPipeError, ConnectionResetError):
                break
        data, ended = read_all(s, t0 + wait)
    finally:
        s.close()
    return Response(data, ended), time.monotonic() - t0


def want(desc, addr, request, status, extra=None, chunks=None):
    """one exchange: the status, a clean close, answered at once"""
    r, secs = exchange(addr, request, chunks=chunks)
    problems = list(r.problems)
    if r.status != status:
        problems.append("got status %s, want %d" % (r.status, status))
    if secs > PROMPT:
        problems.append("took %.2f s" % secs)
    if extra is not None:
        problems += extra(r)
    report(not problems, "%s: %d" % (desc, status), "; ".join(problems) + "\n" + str(r))
    return r


def get(path="/metrics", version="HTTP/1.1", headers="Host: x\r\n"):
    return ("GET %s %s\r\n%s\r\n" % (path, version, headers)).encode()


def cmd_errors(addr):
    allow = lambda r: [] if r.header("allow") == "GET" else ["Allow: %r" % r.header("allow")]
    for desc, req, status in [
        ("another path", get("/"), 404),
        ("another path /metrics/", get("/metrics/"), 404),
        ("another path /metricsx", get("/metricsx"), 404),
        ("another path /Metrics", get("/Metrics"), 404),
        ("a percent-encoded path", get("/%6detrics"), 404),
        ("absolute-form, another path", b"GET http://h/x HTTP/1.1\r\nHost: h\r\n\r\n", 404),
        ("garbage line", b"hello there\r\n\r\n", 400),
        ("HTTP/0.9 request line", b"GET /metrics\r\n\r\n", 400),
        ("two spaces", b"GET  /metrics HTTP/1.1\r\nHost: x\r\n\r\n", 400),
        ("trailing space", b"GET /metrics HTTP/1.1 \r\nHost: x\r\n\r\n", 400),
        ("lower-case version", get(version="http/1.1"), 400),
        ("HTTP/2.0 request line", get(version="HTTP/2.0"), 400),
        ("HTTP/2 preface", b"PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n" + b"\x00\x00\x12\x04\x00\x00\x00\x00\x00", 400),
        ("TLS ClientHello", bytes.fromhex("16030100a5010000a10303") + os.urandom(64), 400),
        ("binary garbage", bytes(range(1, 32)) * 8, 400),
        ("a NUL in the request line", b"GET /met\x00rics HTTP/1.1\r\nHost: x\r\n\r\n", 400),
        ("a NUL in a header", b"GET /metrics HTTP/1.1\r\nHost: x\x00y\r\n\r\n", 400),
        ("a lone NUL", b"\x00", 400),
        ("no Host in HTTP/1.1", get(headers=""), 400),
        ("two Host", get(headers="Host: a\r\nHost: b\r\n"), 400),
        ("a space before the colon", get(headers="Host : x\r\n"), 400),
        ("a header without colon", get(headers="Host: x\r\nNoColon\r\n"), 400),
        ("an obs-fold", get(headers="Host: x\r\nX-A: a\r\n b\r\n"), 400),
        ("a bare CR in a header", get(headers="Host: x\r\nX-A: a\rb\r\n"), 400),
        ("a control byte in a header", get(headers="Host: x\r\nX-A: \x01\r\n"), 400),
        ("a fragment", get("/metrics#x"), 400),
        ("a target not a path", get("metrics"), 400),
        ("POST", b"POST /metrics HTTP/1.1\r\nHost: x\r\nContent-Length: 2\r\n\r\nab", 405),
        ("HEAD", b"HEAD /metrics HTTP/1.1\r\nHost: x\r\n\r\n", 405),
        ("lower-case get", b"get /metrics HTTP/1.1\r\nHost: x\r\n\r\n", 405),
        ("DELETE", b"DELETE /metrics HTTP/1.0\r\n\r\n", 405),
    ]:
        want(desc, addr, req, status, extra=allow if status == 405 else None)
    # the bounds: a head one byte over, headers of 16 KiB and 1 MiB, a long request line
    for total in (8193, 16384, 1 << 20):
        want("a head of %d bytes" % total, addr, head_of(total), 431)
    want("a request line of 9000 bytes", addr, b"GET /" + b"a" * 9000 + b" HTTP/1.1\r\n\r\n", 414)
    want("a request line of 1 MiB without end", addr, b"GET /" + b"a" * (1 << 20), 414)
    # bad bytes sent slowly, in pieces: judged at the first bad piece
    want("garbage in pieces", addr, None, 400, chunks=[b"GE", b"T /me", b"trics\x01 HTTP/1.1\r\n"])
    # the client shuts its side with the request incomplete
    r, secs = half_closed(addr, b"GET /metr")
    report(r.status == 400 and not r.problems and secs < PROMPT,
           "a request cut short by the client's shutdown: 400", str(r))


def head_of(total, extra=b""):
    """a valid GET /metrics whose head (request line and headers) is total bytes"""
    start, end = b"GET /metrics HTTP/1.1\r\nHost: x\r\nX-Pad: ", b"\r\n\r\n"
    return start + b"a" * (total - len(start) - len(end)) + end + extra


def half_closed(addr, request):
    t0 = time.monotonic()
    s = connect(addr)
    s.sendall(request)
    s.shutdown(socket.SHUT_WR)
    data, ended = read_all(s, t0 + PROMPT)
    s.close()
    return Response(data, ended), time.monotonic() - t0


def cmd_goods(addr, body_file):
    body = open(body_file, "rb").read()
    exact = lambda r: [] if r.body == body else ["body differs: %r" % r.body[:200]]
    ctype = lambda r: exact(r) + ([] if r.header("content-type") ==
                                  "text/plain; version=0.0.4; charset=utf-8" else
                                  ["Content-Type %r" % r.header("content-type")])
    for desc, req in [
        ("HTTP/1.1", get()),
        ("HTTP/1.0 without Host", get(version="HTTP/1.0", headers="")),
        ("a query string", get("/metrics?name[]=up&x=1")),
        ("absolute-form", b"GET http://127.0.0.1:9/metrics HTTP/1.1\r\nHost: 127.0.0.1:9\r\n\r\n"),
        ("bare LF line ends", b"GET /metrics HTTP/1.1\nHost: x\n\n"),
        ("an empty line first", b"\r\n" + get()),
        ("obs-text in a header", get(headers="Host: x\r\nX-A: \xc3\xa9\r\n")),
        ("a body after the head", b"GET /metrics HTTP/1.1\r\nHost: x\r\nContent-Length: 4\r\n\r\nbody"),
        ("a pipelined second request (only one answer)", get() + get("/x") + get()),
        ("a head of exactly 8192 bytes", head_of(8192)),
        ("a head of 8192 bytes and 64 KiB after it", head_of(8192, b"z" * 65536)),
    ]:
        want(desc, addr, req, 200, extra=ctype)
    want("a request in 1-byte pieces", addr, None, 200, extra=exact,
         chunks=[bytes([c]) for c in get()])


def cmd_timing(addr, timeout_ms):
    bound = timeout_ms / 1000.0
    results = {}

    def slowloris():
        t0 = time.monotonic()
        s = connect(addr)
        trickle = get().replace(b"\r\n\r\n", b"\r\n") + b"X-Slow: abcdefghijklmnopqrstuvwxyz\r\n" * 10
        i, data, ended = 0, b"", "timeout"
        while time.monotonic() - t0 < bound + 3:
            r, _, _ = select.select([s], [], [], 1.0)
            if r:
                data, ended = read_all(s, time.monotonic() + 2)
                break
            try:
                s.send(trickle[i:i + 1])
                i += 1
            except (BrokenPipeError, ConnectionResetError):
                data, ended = read_all(s, time.monotonic() + 2)
                break
        s.close()
        results["slowloris"] = (Response(data, ended), time.monotonic() - t0, i)

    def idle():
        t0 = time.monotonic()
        s = connect(addr)
        data, ended = read_all(s, t0 + bound + 3)
        s.close()
        results["idle"] = (Response(data, ended), time.monotonic() - t0, 0)

    def partial():
        t0 = time.monotonic()
        s = connect(addr)
        s.sendall(b"GET /metrics HTTP/1.1\r\nHost: x\r\n")
        data, ended = read_all(s, t0 + bound + 3)
        s.close()
        results["partial"] = (Response(data, ended), time.monotonic() - t0, 0)

    threads = [threading.Thread(target=f) for f in (slowloris, idle, partial)]
    for t in threads:
        t.start()
    time.sleep(1.5)
    # meanwhile, a scrape is answered at once
    r, secs = exchange(addr, get())
    report(r.status == 200 and not r.problems and secs < PROMPT,
           "a scrape while slow clients wait: 200 in %.2f s" % secs, str(r))
    for t in threads:
        t.join()
    for name, desc in [("slowloris", "a slowloris client trickling a byte a second"),
                       ("idle", "a client that connects and sends nothing"),
                       ("partial", "a client that stops in the middle of its headers")]:
        r, secs, sent = results[name]
        good = r.status == 408 and not r.problems and bound - 0.1 <= secs <= bound + 1.0
        report(good, "%s: 408 and closed after %.2f s (bound %.1f s + 1 s)%s" %
               (desc, secs, bound, ", %d bytes sent" % sent if sent else ""), str(r))


def cmd_flood(addr, timeout_ms, n):
    bound = timeout_ms / 1000.0
    t0 = time.monotonic()
    socks = []
    try:
        for _ in range(n):
            socks.append(connect(addr))
    except OSError as e:
        report(False, "%d connections opened at once" % n, "only %d: %s" % (len(socks), e))
    time.sleep(0.3)
    r, secs = exchange(addr, get())
    report(r.status == 200 and not r.problems and secs < PROMPT,
           "a scrape among %d idle connections: 200 in %.2f s" % (len(socks), secs), str(r))
    statuses, bad = {}, []
    for s in socks:
        data, ended = read_all(s, t0 + bound + 1.5)
        s.close()
        resp = Response(data, ended)
        statuses[resp.status] = statuses.get(resp.status, 0) + 1
        if resp.status not in (408, 503) or (ended != "eof" and resp.status != 503):
            bad.append(str(resp))
    report(not bad, "every idle connection closed with 408 or 503 within the bound + 1.5 s: %s" %
           ", ".join("%s x%d" % kv for kv in sorted(statuses.items(), key=str)), "\n".join(bad[:5]))
    r, secs = exchange(addr, get())
    report(r.status == 200 and not r.problems, "a scrape after the flood: 200", str(r))


def cmd_unread(addr, timeout_ms, max_conn):
    bound = timeout_ms / 1000.0
    # 1. one client asks and never reads: the responder drops it at the bound
    t0 = time.monotonic()
    s = connect(addr, rcvbuf=4096)
    s.sendall(get())
    time.sleep(1.0)
    r, secs = exchange(addr, get(), wait=30)
    report(r.status == 200 and not r.problems and secs < PROMPT * 2,
           "a scrape of %d bytes while a client does not read: 200 in %.2f s" % (len(r.body), secs),
           str(r)[:300])
    full = len(r.raw)
    time.sleep(max(0.0, t0 + bound + 1.5 - time.monotonic()))
    s.setblocking(False)
    got, ended = 0, "open"
    try:
        while True:
            chunk = s.recv(1 << 20)
            if not chunk:
                ended = "eof"
                break
            got += len(chunk)
    except ConnectionResetError:
        ended = "reset"
    except BlockingIOError:
        ended = "open"
    s.close()
    report(ended in ("reset", "eof") and got < full,
           "a client that never reads a %d-byte response: dropped by the bound + 1.5 s (%s after %d bytes)"
           % (full, ended, got))
    # 2. clients that reset while their response is being written (SIGPIPE must not kill)
    for _ in range(20):
        c = connect(addr, rcvbuf=4096)
        c.sendall(get())
        time.sleep(0.02)
        c.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
        c.close()
    r, secs = exchange(addr, get(), wait=30)
    report(r.status == 200 and not r.problems, "20 clients reset in the middle of their response; then a scrape: 200", str(r)[:300])
    # 3. every slot held by a client that does not read: a new one gets 503 at once
    t0 = time.monotonic()
    held = []
    for _ in range(max_conn):
        c = connect(addr, rcvbuf=4096)
        c.sendall(get())
        held.append(c)
    time.sleep(0.5)
    r, secs = exchange(addr, get(), wait=30)
    # refused at once: closed with the request unread, so a reset may follow the 503
    report(r.status == 503 and r.problems in ([], ["not closed by the server (reset)"])
           and secs < PROMPT,
           "%d clients not reading: one more gets 503 at once (%.2f s)" % (max_conn, secs), str(r)[:300])
    time.sleep(max(0.0, t0 + bound + 1.5 - time.monotonic()))
    r, secs = exchange(addr, get(), wait=30)
    report(r.status == 200 and not r.problems and secs < PROMPT * 2,
           "after the bound they are dropped: a scrape gets 200 (%.2f s)" % secs, str(r)[:300])
    for c in held:
        c.close()


def scrape_once(addr, wait=30):
    r, secs = exchange(addr, get(), wait=wait)
    return r, secs


def cmd_parallel(addr, n, body_file):
    body = open(body_file, "rb").read() if body_file else None
    barrier = threading.Barrier(n)
    out = [None] * n

    def one(i):
        barrier.wait()
        try:
            out[i] = scrape_once(addr)
        except OSError as e:
            out[i] = (None, str(e))

    threads = [threading.Thread(target=one, args=(i,)) for i in range(n)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    bad = [str(r) if r is not None else e for r, e in out
           if r is None or r.status != 200 or r.problems]
    report(not bad, "%d parallel scrapes: all 200" % n, "\n".join(bad[:5]))
    bodies = set(r.body for r, _ in out if r is not None)
    report(len(bodies) == 1 and (body is None or bodies == {body}),
           "%d parallel scrapes: identical bodies%s" % (n, ", the expected one" if body else ""),
           "%d different bodies" % len(bodies))


def cmd_scrape(addr, parallel=50, seconds=10.0, max_ms=None):
    stop = time.monotonic() + seconds
    lock = threading.Lock()
    stats = {"n": 0, "failures": 0, "max": 0.0, "first": None}

    def loop():
        while time.monotonic() < stop:
            try:
                r, secs = scrape_once(addr)
                problem = None if r.status == 200 and not r.problems else str(r)[:300]
            except OSError as e:
                secs, problem = 0.0, str(e)
            if problem is None and max_ms is not None and secs * 1000 > max_ms:
                problem = "took %.0f ms" % (secs * 1000)
            with lock:
                stats["n"] += 1
                stats["max"] = max(stats["max"], secs)
                if problem is not None:
                    stats["failures"] += 1
                    stats["first"] = stats["first"] or problem

    threads = [threading.Thread(target=loop) for _ in range(parallel)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    print("scrapes=%d failures=%d max_ms=%.0f" % (stats["n"], stats["failures"], stats["max"] * 1000))
    if stats["first"]:
        print("first failure: " + stats["first"])
    return 1 if stats["failures"] or stats["n"] == 0 else 0


def main(argv):
    if len(argv) < 3:
        sys.stderr.write(__doc__)
        return 64
    cmd, addr, rest = argv[1], argv[2], argv[3:]
    if cmd == "errors":
        cmd_errors(addr)
    elif cmd == "goods":
        cmd_goods(addr, rest[0])
    elif cmd == "timing":
        cmd_timing(addr, int(rest[0]))
    elif cmd == "flood":
        cmd_flood(addr, int(rest[0]), int(rest[1]))
    elif cmd == "unread":
        cmd_unread(addr, int(rest[0]), int(rest[1]))
    elif cmd == "parallel":
        cmd_parallel(addr, int(rest[0]), rest[1] if len(rest) > 1 else None)
    elif cmd == "scrape":
        opts = {"--parallel": 50, "--seconds": 10.0, "--max-ms": None}
        for i in range(0, len(rest) - 1, 2):
            if rest[i] not in opts:
                sys.stderr.write(__doc__)
                return 64
            opts[rest[i]] = float(rest[i + 1])
        return cmd_scrape(addr, int(opts["--parallel"]), opts["--seconds"], opts["--max-ms"])
    else:
        sys.stderr.write(__doc__)
        return 64
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
