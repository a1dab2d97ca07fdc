#!/usr/bin/env python3
# NAME
#	probe.py - talk to a running policy-milter for tests/daemon/run.sh
# SYNOPSIS
#	python3 tests/daemon/probe.py probe SOCKET
#	python3 tests/daemon/probe.py drain SOCKET PID [SIGNAL]
#	python3 tests/daemon/probe.py storm SOCKET PID SIGNAL COUNT SECONDS
#	python3 tests/daemon/probe.py cut SOCKET PID SIGNALS SECONDS
#	python3 tests/daemon/probe.py stale PATH
#	python3 tests/daemon/probe.py sessions SOCKET N SECONDS
# DESCRIPTION
#	SOCKET is "unix:/path" or "inet:PORT@HOST", as for policy-milter -p.
#	probe: option negotiation, CONNECT from 192.0.2.10, QUIT; prints the
#	CONNECT reply ("continue" when the milter answers normally).
#	drain: holds a session open (CONNECT, HELO), sends SIGTERM (or the
#	signal number SIGNAL) to PID,
#	opens a second connection (its CONNECT reply must be 421 4.3.2),
#	finishes the first session's message (accepted, with our header),
#	and waits for PID to exit. Prints "ok - ..." / "not ok - ..." lines.
#	cut: holds a session open, sends SIGNALS SIGTERMs to PID (0.5 s
#	apart) and checks that PID exits within SECONDS although the
#	session never ends (a second signal, or milter.drain_timeout).
#	storm: holds a session open, sends COUNT signals SIGNAL to PID as
#	fast as it can, and checks that PID exits within SECONDS.
#	stale: leaves a unix socket at PATH that nobody listens on (what a
#	crash leaves behind).
#	sessions: N whole sessions one after the other (CONNECT, HELO, MAIL,
#	RCPT, a header, end of message: accepted), each reply within
#	SECONDS; prints one "ok" / "not ok" line with the slowest reply.
# DIAGNOSTICS
#	Exit 0 when everything was as wanted, 1 otherwise.
import os
import signal
import socket
import sys
import time

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "milter"))
from milterclient import Milter, MilterError  # noqa: E402


def where(spec):
    if spec.startswith("unix:"):
        return spec[5:]
    if spec.startswith("inet:"):
        port, host = spec[5:].split("@")
        return (host, int(port))
    return spec


def probe(spec):
    m = Milter(where(spec), timeout=10)
    m.optneg()
    r = m.connect(b"client10.test", "4", 25, b"192.0.2.10")
    m.quit()
    return r.code()


def alive(pid):
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    # a zombie (exited, not yet reaped by the shell) counts as gone
    try:
        with open("/proc/%d/stat" % pid) as f:
            return f.read().split(")")[-1].split()[0] != "Z"
    except OSError:
        return False


def drain(spec, pid, sig=signal.SIGTERM):
    bad = 0

    def result(name, got, want):
        nonlocal bad
        if got == want:
            print("ok - %s" % name)
        else:
            bad += 1
            print("not ok - %s: got %r, want %r" % (name, got, want))

    a = Milter(where(spec), timeout=10)
    a.optneg()
    result("drain: session in flight connects", a.connect(b"client10.test", "4", 25,
                                                          b"192.0.2.10").code(), "continue")
    result("drain: session in flight HELO", a.helo(b"client10.test").code(), "continue")
    os.kill(pid, sig)
    time.sleep(0.5)
    result("drain: still running while a session is in flight", alive(pid), True)
    try:
        b = Milter(where(spec), timeout=10)
        b.optneg()
        got = b.connect(b"client11.test", "4", 25, b"192.0.2.11").code()
        b.quit()
    except (MilterError, OSError) as e:
        got = "error: %s" % e
    result("drain: a new connection gets 421 4.3.2", got,
           "421 4.3.2 Service shutting down; try again later")
    result("drain: MAIL of the session in flight", a.mail([b"<alice@pass.test>"]).code(),
           "continue")
    result("drain: RCPT of the session in flight", a.rcpt([b"<bob@example.org>"]).code(),
           "continue")
    a.header(b"Subject", b"drain")
    a.eoh()
    r = a.eom()
    result("drain: the message in flight is accepted with our header",
           (r.code(), [x[0] for x in r.actions]), ("continue", ["insheader"]))
    a.quit()
    deadline = time.time() + 5
    while alive(pid) and time.time() < deadline:
        time.sleep(0.05)
    result("drain: exits once the session in flight ended", alive(pid), False)
    return bad


def cut(spec, pid, signals, seconds):
    a = Milter(where(spec), timeout=10)
    a.optneg()
    r = a.connect(b"client10.test", "4", 25, b"192.0.2.10").code()
    if r != "continue":
        print("not ok - cut: connect: got %r, want 'continue'" % r)
        return 1
    start = time.time()
    for i in range(signals):
        if i:
            time.sleep(0.5)
        os.kill(pid, signal.SIGTERM)
    while alive(pid) and time.time() < start + 15:
        time.sleep(0.05)
    took = time.time() - start
    a.close()
    if alive(pid) or took > seconds:
        print("not ok - cut (%d signal(s)): got exit after %.1f s, want at most %.1f s"
              % (signals, took, seconds))
        return 1
    print("ok - cut (%d signal(s)): exits after %.1f s with a session still open"
          % (signals, took))
    return 0


def sessions(spec, n, seconds):
    slowest = 0.0
    for i in range(n):
        try:
            a = Milter(where(spec), timeout=max(seconds * 3, 10))
            a.optneg()
            steps = [
                lambda: a.connect(b"client10.test", "4", 25, b"192.0.2.10"),
                lambda: a.helo(b"client10.test"),
                lambda: a.mail([b"<alice@pass.test>"]),
                lambda: a.rcpt([b"<bob@example.org>"]),
            ]
            for step in steps:
                start = time.time()
                code = step().code()
                slowest = max(slowest, time.time() - start)
                if code != "continue":
                    print("not ok - sessions: session %d: got %r, want 'continue'" % (i + 1, code))
                    return 1
            a.header(b"Subject", b"session %d" % (i + 1))
            a.eoh()
            start = time.time()
            r = a.eom()
            slowest = max(slowest, time.time() - start)
            a.quit()
        except (MilterError, OSError) as e:
            print("not ok - sessions: session %d: %s" % (i + 1, e))
            return 1
        if r.code() != "continue":
            print("not ok - sessions: session %d: end of message: got %r" % (i + 1, r.code()))
            return 1
    if slowest > seconds:
        print("not ok - sessions: %d sessions: slowest reply %.2f s, want at most %.2f s"
              % (n, slowest, seconds))
        return 1
    print("ok - sessions: %d sessions, slowest reply %.3f s (at most %.2f s)" % (n, slowest, seconds))
    return 0


def storm(spec, pid, sig, count, seconds):
    a = Milter(where(spec), timeout=10)
    a.optneg()
    r = a.connect(b"client10.test", "4", 25, b"192.0.2.10").code()
    if r != "continue":
        print("not ok - storm: connect: got %r, want 'continue'" % r)
        return 1
    start = time.time()
    sent = 0
    for _ in range(count):
        try:
            os.kill(pid, sig)
        except ProcessLookupError:
            break
        sent += 1
    while alive(pid) and time.time() < start + seconds + 5:
        time.sleep(0.05)
    took = time.time() - start
    a.close()
    if alive(pid) or took > seconds:
        print("not ok - storm (%d x signal %d): got exit after %.1f s, want at most %.1f s"
              % (sent, sig, took, seconds))
        return 1
    print("ok - storm (%d x signal %d): exits after %.1f s" % (sent, sig, took))
    return 0


def stale(path):
    s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    s.bind(path)
    s.close()  # the file stays; nobody listens


def main():
    if len(sys.argv) >= 3 and sys.argv[1] == "probe":
        try:
            print(probe(sys.argv[2]))
        except (MilterError, OSError) as e:
            print("error: %s" % e)
            return 1
        return 0
    if len(sys.argv) == 4 and sys.argv[1] == "drain":
        return 1 if drain(sys.argv[2], int(sys.argv[3])) else 0
    if len(sys.argv) == 5 and sys.argv[1] == "drain":
        return 1 if drain(sys.argv[2], int(sys.argv[3]), int(sys.argv[4])) else 0
    if len(sys.argv) == 7 and sys.argv[1] == "storm":
        return storm(sys.argv[2], int(sys.argv[3]), int(sys.argv[4]), int(sys.argv[5]),
                     float(sys.argv[6]))
    if len(sys.argv) == 6 and sys.argv[1] == "cut":
        return cut(sys.argv[2], int(sys.argv[3]), int(sys.argv[4]), float(sys.argv[5]))
    if len(sys.argv) == 5 and sys.argv[1] == "sessions":
        return sessions(sys.argv[2], int(sys.argv[3]), float(sys.argv[4]))
    if len(sys.argv) == 3 and sys.argv[1] == "stale":
        stale(sys.argv[2])
        return 0
    print("usage: probe.py probe SOCKET | drain SOCKET PID [SIGNAL] | "
          "storm SOCKET PID SIGNAL COUNT SECONDS | cut SOCKET PID N SECONDS | "
          "stale PATH | sessions SOCKET N SECONDS", file=sys.stderr)
    return 2


if __name__ == "__main__":
    sys.exit(main())
