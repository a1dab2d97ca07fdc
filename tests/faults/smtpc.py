#!/usr/bin/env python3
# NAME
#	smtpc.py - the SMTP client and the checks of the fault suite
# SYNOPSIS
#	python3 tests/faults/smtpc.py dns CASES.json --rules FILE --dnslog FILE COMMON...
#	python3 tests/faults/smtpc.py dnsstop --dns-pid PID --dns-cmd JSON --dns-pidfile F COMMON...
#	python3 tests/faults/smtpc.py kill1 --milter-pid PID --rules F --dnslog F --state F COMMON...
#	python3 tests/faults/smtpc.py kill2 --state F COMMON...
#	python3 tests/faults/smtpc.py reload --milter-pid PID --live F --good F --broken F
#	                              --milter-log F COMMON...
#	python3 tests/faults/smtpc.py limits --milter-pid PID --dnslog F COMMON...
#	python3 tests/faults/smtpc.py probe --port PORT COMMON...
#	COMMON: --maildir DIR --cmd-timeout S --content-timeout S
# DESCRIPTION
#	Speaks SMTP itself (one thread per session, source addresses from
#	the documentation prefixes the namespace routes to lo), times every
#	reply, and sorts each message into one outcome: "accepted" (250 to
#	the final dot), "refused4" (a 4xx the client saw, at any stage),
#	"refused5" (a 5xx) or "lost" (the connection ended, or a reply never
#	came, without a verdict the client could act on). Delivered copies
#	are counted in the Maildir by Message-ID. Each subcommand is one part
#	of tests/faults/run.sh (see there for what it proves):
#	  dns     the cases of CASES.json at once, with its faultdns rules;
#	  dnsstop a stream of messages while the DNS server is killed and,
#	          seconds later, started again;
#	  kill1   20 sessions held at five points of a transaction, then the
#	          milter SIGKILLed (its pid), then a session while it is down;
#	          the messages and their outcomes go to --state;
#	  kill2   (after run.sh restarted the milter) every refused message
#	          sent again; the Maildir holds each message exactly once;
#	  reload  1,000 messages while the policy file alternates good and
#	          broken, with SIGUSR1 every 100 ms;
#	  limits  the oversized messages, with the milter's VmHWM and times;
#	  walk    one message per RFC 9989 author domain: the queries each took
#	  probe   one plain message to --port; prints its outcome and replies.
#	Every reply must come before Postfix's milter timeouts
#	(--cmd-timeout for every command, --content-timeout for the final
#	dot).
# DIAGNOSTICS
#	"ok - ..." / "not ok - ...: got X, want Y" lines; exit 0 when all
#	passed, 1 when one failed, 2 on bad usage.
import argparse
import collections
import json
import os
import re
import shutil
import signal
import socket
import subprocess
import sys
import threading
import time

FAILED = False
PRINT_LOCK = threading.Lock()


def ok(msg):
    with PRINT_LOCK:
        print("ok - " + msg, flush=True)


def notok(msg):
    global FAILED
    FAILED = True
    with PRINT_LOCK:
        print("not ok - " + msg, flush=True)


def check(name, got, want):
    if got == want:
        ok(name)
    else:
        notok("%s: got %s, want %s" % (name, got, want))


def check_true(name, cond, detail):
    if cond:
        ok(name)
    else:
        notok("%s: %s" % (name, detail))


# ---- SMTP ---------------------------------------------------------------

class Lost(Exception):
    """The connection ended or a reply never came."""


class Session:
    """One SMTP connection; every reply is recorded with the seconds it took."""

    def __init__(self, timeout=330):
        self.timeout = timeout
        self.replies = []  # (stage, code, text, seconds)
        self.buf = b""
        self.sock = None

    def open(self, client, server="127.0.0.1", port=25):
        """Connect from address client and read the banner."""
        self.sock = socket.socket(socket.AF_INET6 if ":" in server else socket.AF_INET)
        self.sock.settimeout(self.timeout)
        self.sock.bind((client, 0))
        t = time.monotonic()
        try:
            self.sock.connect((server, port))
        except OSError as e:
            self.replies.append(("banner", None, "connect failed: %s" % e, time.monotonic() - t))
            raise Lost("connect")
        self.read("banner", t)

    def read(self, stage, t0):
        lines = []
        while True:
            while b"\n" not in self.buf:
                try:
                    chunk = self.sock.recv(65536)
                except (socket.timeout, OSError) as e:
                    self.replies.append((stage, None, "no reply: %s" % e, time.monotonic() - t0))
                    raise Lost(stage)
                if not chunk:
                    self.replies.append((stage, None, "connection closed", time.monotonic() - t0))
                    raise Lost(stage)
                self.buf += chunk
            line, self.buf = self.buf.split(b"\n", 1)
            line = line.rstrip(b"\r").decode("latin-1")
            lines.append(line)
            if not re.match(r"^\d{3}-", line):
                break
        code = int(lines[-1][:3]) if re.match(r"^\d{3}", lines[-1]) else 0
        text = " ".join(l[4:] for l in lines)
        self.replies.append((stage, code, text, time.monotonic() - t0))
        return code

    def send(self, data):
        try:
            self.sock.sendall(data)
        except OSError as e:
            self.replies.append(("send", None, "send failed: %s" % e, 0.0))
            raise Lost("send")

    def cmd(self, line, stage):
        t = time.monotonic()
        self.send(line.encode("latin-1") + b"\r\n")
        return self.read(stage, t)

    def close(self):
        if self.sock is None:
            return
        try:
            self.sock.sendall(b"QUIT\r\n")
        except OSError:
            pass
        self.sock.close()


def message_chunks(m):
    """The message m (a dict) as byte chunks, CRLF lines, no final dot."""
    head = [
        "Date: %s" % time.strftime("%a, %d %b %Y %H:%M:%S +0000", time.gmtime()),
        "From: %s" % m.get("from_header", "<%s>" % (m["from"] or "postmaster@client.test")),
        "To: <%s>" % m["rcpts"][0],
        "Subject: faults %s" % m["name"],
        "Message-ID: %s" % m["msgid"],
    ]
    yield ("\r\n".join(head) + "\r\n").encode("latin-1")
    for gen in m.get("header_gen", []):
        yield from gen()
    for h in m.get("headers", []):
        yield (h + "\r\n").encode("latin-1")
    yield b"\r\n"
    size = m.get("body_size", 0)
    if size:
        line = b"x" * 76 + b"\r\n"
        block = line * 862  # about 64 KiB
        sent = 0
        while sent < size:
            b = block if size - sent >= len(block) else line * ((size - sent) // len(line) + 1)
            yield b
            sent += len(b)
    else:
        yield b"This message comes from the fault suite (%s).\r\n" % m["name"].encode()


def run_message(m, cmd_timeout, hold=None):
    """Send message m in a session of its own; returns the result dict.

    hold(point) is called at the pause points ("helo", "mail", "rcpt",
    "data" (after 354 and half the message), "dot" (after the final dot
    went out, before its reply is read))."""
    res = {"name": m["name"], "msgid": m["msgid"], "outcome": "lost", "replies": [],
           "rcpt_ok": 0, "start": time.time()}
    t0 = time.monotonic()
    s = None
    try:
        s = Session(m.get("timeout", 330))
        s.open(m.get("client", "192.0.2.10"), m.get("server", "127.0.0.1"), m.get("port", 25))
        if not answer(s, res, 2):
            return res
        s.cmd("EHLO %s" % m.get("helo", "client10.test"), "helo")
        if not answer(s, res, 2):
            return res
        pause(hold, m, "helo")
        s.cmd("MAIL FROM:<%s>" % m["from"], "mail")
        if not answer(s, res, 2):
            return res
        pause(hold, m, "mail")
        for r in m["rcpts"]:
            code = s.cmd("RCPT TO:<%s>" % r, "rcpt")
            if 200 <= code < 300:
                res["rcpt_ok"] += 1
        codes = [c for st, c, _, _ in s.replies if st == "rcpt"]
        if res["rcpt_ok"] == 0:
            res["outcome"] = verdict_of(codes)
            return res
        pause(hold, m, "rcpt")
        s.cmd("DATA", "data")
        if not answer(s, res, 3):
            return res
        chunks = message_chunks(m)
        if m.get("hold") == "data":
            first = next(chunks)
            s.send(first)
            pause(hold, m, "data")
        for c in chunks:
            s.send(c)
        t = time.monotonic()
        s.send(b".\r\n")
        pause(hold, m, "dot")
        code = s.read("dot", t)
        res["outcome"] = "accepted" if code == 250 else verdict_of([code])
    except Lost:
        res["outcome"] = "lost"
    finally:
        if s is not None:
            res["replies"] = s.replies
            s.close()
        res["secs"] = time.monotonic() - t0
        res["end"] = time.time()
    return res


def verdict_of(codes):
    """The outcome of refused replies: refused4 when a 4xx came, else refused5 / lost."""
    if any(c is not None and 400 <= c < 500 for c in codes):
        return "refused4"
    if any(c is not None and 500 <= c < 600 for c in codes):
        return "refused5"
    return "lost"


def answer(s, res, want_class):
    """Was the last reply of class want_class (2 or 3)? Else set the outcome and say no."""
    code = s.replies[-1][1]
    if code is not None and code // 100 == want_class:
        return True
    res["outcome"] = verdict_of([code])
    return False


def pause(hold, m, point):
    if hold is not None and m.get("hold") == point:
        hold(point)


def run_all(msgs, cmd_timeout, jobs=None, hold=None):
    """Run the messages in threads (at most jobs at once; None: all); results in order."""
    results = [None] * len(msgs)
    sem = threading.Semaphore(jobs) if jobs else None

    def worker(i):
        try:
            results[i] = run_message(msgs[i], cmd_timeout, hold)
        finally:
            if sem:
                sem.release()

    threads = []
    for i in range(len(msgs)):
        if sem:
            sem.acquire()
        t = threading.Thread(target=worker, args=(i,), daemon=True)
        t.start()
        threads.append(t)
    for t in threads:
        t.join()
    return results


def reply_matches(code, text, spec):
    """'CODE [X.Y.Z] [text]': the code equal, the enhanced code first, the text a substring."""
    parts = spec.split(None, 1)
    if code is None or str(code) != parts[0]:
        return False
    rest = parts[1] if len(parts) > 1 else ""
    mx = re.match(r"^(\d\.\d{1,3}\.\d{1,3})\s*(.*)$", rest)
    if mx:
        if not re.match(r"^%s(\s|$)" % re.escape(mx.group(1)), text):
            return False
        rest = mx.group(2)
    return rest.lower() in text.lower()


def show(res):
    """A result's replies, short, for messages."""
    out = []
    for st, code, text, secs in res["replies"]:
        out.append("%s=%s %s (%.1fs)" % (st, code, text[:60], secs))
    return "; ".join(out)


def slowest(res, stage_limit):
    """The replies that took as long as Postfix's timeout for that stage, or longer."""
    over = []
    for st, code, text, secs in res["replies"]:
        if secs >= stage_limit(st):
            over.append("%s %.1fs" % (st, secs))
    return over


# ---- the Maildir ----------------------------------------------------------

def maildir_ids(maildir):
    """Counter of Message-ID over the delivered files (new/ and cur/)."""
    ids = collections.Counter()
    for sub in ("new", "cur"):
        d = os.path.join(maildir, sub)
        if not os.path.isdir(d):
            continue
        for f in os.listdir(d):
            mid = None
            try:
                with open(os.path.join(d, f), "rb") as fh:
                    for line in fh:
                        if line in (b"\n", b"\r\n"):
                            break
                        if line[:11].lower() == b"message-id:":
                            mid = line[11:].strip().decode("latin-1")
            except OSError:
                continue
            if mid:
                ids[mid] += 1
    return ids


def delivered_file(maildir, msgid):
    """The path of one delivered copy of msgid, or None."""
    for sub in ("new", "cur"):
        d = os.path.join(maildir, sub)
        for f in os.listdir(d) if os.path.isdir(d) else []:
            p = os.path.join(d, f)
            with open(p, "rb") as fh:
                for line in fh:
                    if line in (b"\n", b"\r\n"):
                        break
                    if line.lower().startswith(b"message-id:") and \
                            line[11:].strip().decode("latin-1") == msgid:
                        return p
    return None


def wait_delivered(maildir, want, secs=20):
    """Wait until every msgid in want (msgid -> copies) has at least that many copies."""
    deadline = time.time() + secs
    while True:
        ids = maildir_ids(maildir)
        if all(ids[k] >= n for k, n in want.items()) or time.time() > deadline:
            return ids
        time.sleep(0.2)


def header_block(path):
    """The header lines of a delivered file, unfolded, as (lower name, value)."""
    hs = []
    with open(path, "rb") as fh:
        for line in fh:
            if line in (b"\n", b"\r\n"):
                break
            line = line.decode("latin-1").rstrip("\r\n")
            if line[:1] in (" ", "\t") and hs:
                hs[-1] = (hs[-1][0], hs[-1][1] + " " + line.strip())
            elif ":" in line:
                n, v = line.split(":", 1)
                hs.append((n.strip().lower(), v.strip()))
    return hs


SEQ = [0]


def msgid(tag):
    SEQ[0] += 1
    return "<faults-%s-%d-%d-%d@faults.test>" % (tag, os.getpid(), int(time.time() * 1000), SEQ[0])


def vmhwm(pid):
    """VmHWM and VmRSS of pid, in KiB."""
    with open("/proc/%d/status" % pid) as f:
        st = dict(l.split(":", 1) for l in f if ":" in l)
    return int(st["VmHWM"].split()[0]), int(st["VmRSS"].split()[0])


def dnslog_since(path, t0, pattern):
    """Lines of the faultdns log since epoch t0 whose name matches the regex pattern."""
    out = []
    try:
        with open(path) as f:
            for line in f:
                p = line.split()
                if len(p) >= 4 and float(p[0]) >= t0 and re.search(pattern, p[1], re.I):
                    out.append(p)
    except OSError:
        pass
    return out


def write_rules(path, rules):
    tmp = path + ".new"
    with open(tmp, "w") as f:
        f.write("".join(r + "\n" for r in rules))
    os.rename(tmp, path)


# ---- dns: the DNS fault cases -----------------------------------------------

def cmd_dns(a):
    with open(a.cases) as f:
        spec = json.load(f)
    write_rules(a.rules, spec["rules"])
    t0 = time.time()
    msgs = []
    for c in spec["cases"]:
        m = dict(c)
        m["msgid"] = msgid("dns")
        m.setdefault("rcpts", ["bob@example.org"])
        msgs.append(m)
    results = run_all(msgs, a.cmd_timeout)
    write_rules(a.rules, [])
    want = {m["msgid"]: m.get("delivered", 0) for m in msgs}
    ids = wait_delivered(a.maildir, {k: v for k, v in want.items() if v})
    for m, r in zip(msgs, results):
        name = "dns: %s" % m["name"]
        stage, spec_reply = m["expect"].split(" ", 1)
        got = [x for x in r["replies"] if x[0] == stage]
        last = got[-1] if got else (stage, None, "(no such reply)", 0.0)
        bad = []
        if not reply_matches(last[1], last[2], spec_reply):
            bad.append("%s: got %s %s, want %s" % (stage, last[1], last[2], spec_reply))
        fives = [x for x in r["replies"] if x[1] is not None and 500 <= x[1] < 600]
        if fives:
            bad.append("a 5xx: %s %s %s" % fives[0][:3])
        if r["outcome"] == "lost":
            bad.append("lost: %s" % show(r))
        over = slowest(r, lambda st: a.content_timeout if st == "dot" else a.cmd_timeout)
        if over:
            bad.append("replies as slow as Postfix's milter timeouts (%s s / %s s): %s" %
                       (a.cmd_timeout, a.content_timeout, ", ".join(over)))
        if ids[m["msgid"]] != m.get("delivered", 0):
            bad.append("delivered copies: got %d, want %d" % (ids[m["msgid"]], m.get("delivered", 0)))
        if "ar" in m and ids[m["msgid"]]:
            hs = header_block(delivered_file(a.maildir, m["msgid"]))
            ar = [v for n, v in hs if n == "authentication-results" and v.startswith("mx.example.org")]
            if not ar or m["ar"] not in ar[0]:
                bad.append("Authentication-Results: got %s, want one with %s" % (ar, m["ar"]))
        for st, limit in m.get("max_secs", {}).items():
            late = ["%s %.1f s" % (x[0], x[3]) for x in r["replies"] if x[0] == st and x[3] > limit]
            if late:
                bad.append("replies later than %s s: %s" % (limit, ", ".join(late)))
            if not [x for x in r["replies"] if x[0] == st]:
                bad.append("no %s reply to time" % st)
        if "min_secs" in m and r["secs"] < m["min_secs"]:
            bad.append("session took %.1f s, want at least %s s (the fault was not applied)" %
                       (r["secs"], m["min_secs"]))
        if "hit" in m:
            hits = dnslog_since(a.dnslog, t0, m["hit"])
            if not [h for h in hits if h[3] != "forward"]:
                bad.append("the DNS server never saw a faulty lookup matching /%s/" % m["hit"])
        worst = max(x[3] for x in r["replies"]) if r["replies"] else 0.0
        if bad:
            notok("%s: %s [%s]" % (name, "; ".join(bad), show(r)))
        else:
            timed = "".join("; %s reply in %.1f s" % (x[0], x[3]) for x in r["replies"]
                            if x[0] in m.get("max_secs", {}))
            ok("%s (%s in %.1f s; slowest reply %.1f s, session %.1f s%s)" %
               (name, " ".join(str(x) for x in last[1:3])[:70], last[3], worst, r["secs"], timed))


# ---- dnsstop: the DNS server killed mid-run ---------------------------------

def cmd_dnsstop(a):
    n, pace, stop_at, start_at = 40, 0.25, 3.0, 6.5
    # Each message has a HELO name of its own (no such name: SPF none), so that at
    # least one of its lookups (the HELO's SPF record) is never answered from a cache.
    msgs = [{"name": "dnsstop %02d" % i, "msgid": msgid("dnsstop"),
             "client": "192.0.2.%d" % (10 + i % 3), "helo": "m%02d-%d.dnsstop.test" % (i, os.getpid()),
             "from": "alice@pass.test", "rcpts": ["bob@example.org"]} for i in range(n)]
    results = [None] * n
    starts = [0.0] * n
    t0 = time.monotonic()
    wall0 = time.time()
    events = {}
    newpid = None

    def worker(i):
        starts[i] = time.monotonic() - t0
        results[i] = run_message(msgs[i], a.cmd_timeout)

    threads = []
    for i in range(n):
        at = t0 + i * pace
        while time.monotonic() < at:
            now = time.monotonic() - t0
            if "stop" not in events and now >= stop_at:
                os.kill(a.dns_pid, signal.SIGKILL)
                events["stop"] = now
            if "start" not in events and now >= start_at:
                p = subprocess.Popen(json.loads(a.dns_cmd), start_new_session=True)
                newpid = p.pid
                events["start"] = now
            time.sleep(0.01)
        t = threading.Thread(target=worker, args=(i,), daemon=True)
        t.start()
        threads.append(t)
    for t in threads:
        t.join()
    with open(a.dns_pidfile, "w") as f:
        f.write("%d\n" % newpid)
    stop, start = events["stop"], events["start"]
    counts = collections.Counter(r["outcome"] for r in results)
    before = [r for r, s in zip(results, starts) if s + 1.0 < stop]
    # wholly inside the outage: started after the kill, answered before the restart
    during = [r for r, s in zip(results, starts)
              if s >= stop and r["end"] < wall0 + start]
    after = [r for r, s in zip(results, starts) if s >= start + 1.0]
    print("# dnsstop: %d messages, one every %.2f s; DNS killed at %.1f s, started again at %.1f s; "
          "outcomes %s" % (n, pace, stop, start, dict(counts)), flush=True)
    bad = [r for r in results if r["outcome"] not in ("accepted", "refused4")]
    check_true("DNS server stopped mid-run: every message accepted or refused with a 4xx "
               "(no 5xx, none lost)", not bad,
               "; ".join("%s: %s [%s]" % (r["name"], r["outcome"], show(r)) for r in bad[:3]))
    fours = [r for r in results if r["outcome"] == "refused4"]
    theirs = [r for r in fours if not any(
        reply_matches(c, t, "451 4.7.24") or reply_matches(c, t, "451 4.4.3")
        for _, c, t, _ in r["replies"])]
    check_true("DNS server stopped: the 4xx are the milter's DNS replies (451 4.7.24 / 4.4.3), "
               "not Postfix's milter failure", not theirs,
               "; ".join("%s: %s" % (r["name"], show(r)) for r in theirs[:3]))
    check_true("DNS server stopped: the %d messages sent and answered while it was down got a 4xx" % len(during),
               during and all(r["outcome"] == "refused4" for r in during),
               "during the outage: %s" % collections.Counter(r["outcome"] for r in during))
    check_true("DNS server stopped: the messages before the stop were accepted",
               before and all(r["outcome"] == "accepted" for r in before),
               "before: %s" % collections.Counter(r["outcome"] for r in before))
    check_true("DNS server started again: the messages after it were accepted (recovered)",
               after and all(r["outcome"] == "accepted" for r in after),
               "after: %s" % "; ".join("%s: %s" % (r["name"], show(r)) for r in after
                                       if r["outcome"] != "accepted")[:500])
    over = [(r["name"], slowest(r, lambda st: a.content_timeout if st == "dot" else a.cmd_timeout))
            for r in results]
    over = [o for o in over if o[1]]
    check_true("DNS server stopped: every reply before Postfix's milter timeouts", not over,
               "%s" % over[:3])
    accepted = {r["msgid"]: 1 for r in results if r["outcome"] == "accepted"}
    ids = wait_delivered(a.maildir, accepted)
    wrong = [(r["name"], r["outcome"], ids[r["msgid"]]) for r in results
             if ids[r["msgid"]] != (1 if r["outcome"] == "accepted" else 0)]
    check_true("DNS server stopped: each accepted message delivered exactly once, no refused one "
               "delivered", not wrong, "(name, outcome, copies): %s" % wrong[:5])


# ---- kill1 / kill2: the milter SIGKILLed with 20 sessions in flight -----------------

POINTS = ["helo", "mail", "rcpt", "data", "dot"]


def milter_conns(pid):
    """Sockets the milter process holds open."""
    n = 0
    for fd in os.listdir("/proc/%d/fd" % pid):
        try:
            if os.readlink("/proc/%d/fd/%s" % (pid, fd)).startswith("socket:"):
                n += 1
        except OSError:
            pass
    return n


def cmd_kill1(a):
    # The end of message of the "dot" sessions waits on their DMARC record, one
    # domain each (a lookup of its own, whatever the milter caches).
    dot_domains = ["monitor.test", "quarantine.test", "orgfb.test", "relaxed.test"]
    write_rules(a.rules, ["_dmarc.%s TXT delay 30" % d for d in dot_domains])
    dmarc_re = r"^_dmarc\.(%s)$" % "|".join(re.escape(d) for d in dot_domains)
    done = [{"name": "kill: done before %d" % i, "msgid": msgid("kdone"),
             "client": "192.0.2.10", "from": "alice@pass.test", "rcpts": ["bob@example.org"]}
            for i in range(4)]
    done_res = run_all(done, a.cmd_timeout)
    base_conns = milter_conns(a.milter_pid)
    msgs = []
    for i in range(20):
        p = POINTS[i // 4]
        m = {"name": "kill: held at %s %d" % (p, i % 4), "msgid": msgid("kill"),
             "client": "192.0.2.%d" % (10 + i % 3), "helo": "client%d.test" % (10 + i % 3),
             "from": "alice@pass.test", "rcpts": ["bob@example.org"], "hold": p}
        if p == "dot":
            m["from_header"] = "<alice@%s>" % dot_domains[i % 4]
        msgs.append(m)
    ready = threading.Semaphore(0)
    go = threading.Event()

    def hold(point):
        ready.release()
        if point != "dot":  # the dot's reply is what the milter is working on
            go.wait(120)

    # The sessions held before the dot start first; the four end-of-message
    # sessions only once those 16 are in place, so that their DMARC lookups
    # (which the milter gives up after dns_timeout and its retry, 15 s) are
    # still in progress at the kill however long a slow machine takes to
    # bring the others to their hold points.
    early_msgs = [m for m in msgs if m["hold"] != "dot"]
    dot_msgs = [m for m in msgs if m["hold"] == "dot"]
    box = {}
    t_start = time.time()
    runners = [threading.Thread(target=lambda: box.setdefault("early", run_all(early_msgs, a.cmd_timeout,
                                                                              None, hold)), daemon=True)]
    runners[0].start()
    for i in range(len(early_msgs)):
        if not ready.acquire(timeout=60):
            notok("kill: only %d of 20 sessions reached their hold point" % i)
            go.set()
            runners[0].join()
            return
    t0 = time.time()
    runners.append(threading.Thread(target=lambda: box.setdefault("dot", run_all(dot_msgs, a.cmd_timeout,
                                                                               None, hold)), daemon=True))
    runners[1].start()
    for i in range(len(dot_msgs)):
        if not ready.acquire(timeout=60):
            notok("kill: only %d of 20 sessions reached their hold point" % (len(early_msgs) + i))
            go.set()
            for r in runners:
                r.join()
            return
    # the four end-of-message sessions: the milter asked for their DMARC record
    deadline = time.time() + 30
    while len(dnslog_since(a.dnslog, t0, dmarc_re)) < 4 and time.time() < deadline:
        time.sleep(0.1)
    asked = len(dnslog_since(a.dnslog, t0, dmarc_re))
    conns = milter_conns(a.milter_pid)
    check_true("kill: 20 sessions in flight in the milter when killed (its open sockets: %d before, %d "
               "now; 4 of them at end of message waiting for DNS)" % (base_conns, conns),
               conns - base_conns >= 20 and asked >= 4,
               "%d more sockets, %d DMARC lookups in progress" % (conns - base_conns, asked))
    time.sleep(0.3)
    os.kill(a.milter_pid, signal.SIGKILL)
    kill_time = time.time()
    print("# kill: the 16 early sessions held in %.1f s; the end-of-message sessions started %.1f s "
          "before the kill" % (t0 - t_start, kill_time - t0))
    go.set()
    for r in runners:
        r.join()
    msgs = early_msgs + dot_msgs
    results = box["early"] + box["dot"]
    # a new session while the milter is down: Postfix's milter_default_action = tempfail
    down = {"name": "kill: new session while the milter is down", "msgid": msgid("kdown"),
            "client": "192.0.2.10", "from": "alice@pass.test", "rcpts": ["bob@example.org"]}
    down_res = run_message(down, a.cmd_timeout)
    write_rules(a.rules, [])
    allres = done_res + results + [down_res]
    state = [{"name": r["name"], "msgid": r["msgid"], "outcome": r["outcome"],
              "replies": [list(x) for x in r["replies"]]} for r in allres]
    with open(a.state, "w") as f:
        json.dump({"kill_time": kill_time, "messages": state}, f)
    check("kill: the 4 messages sent before were accepted",
          [r["outcome"] for r in done_res], ["accepted"] * 4)
    for p in POINTS:
        rs = [r for r, m in zip(results, msgs) if m["hold"] == p]
        bad = [r for r in rs if r["outcome"] != "refused4"]
        if p == "dot":
            early = [r["name"] for r in rs if r["end"] < kill_time]
            check_true("kill: the 4 end-of-message sessions were still waiting for the milter when it was "
                       "killed", not early, "answered before the kill: %s" % early)
        check_true("kill: the 4 sessions held at %s saw a 4xx (%s)" %
                   (p, "; ".join(sorted({"%s %s %s" % (r["replies"][-1][0], r["replies"][-1][1],
                                                      r["replies"][-1][2][:50]) for r in rs}))),
                   not bad, "; ".join("%s: %s [%s]" % (r["name"], r["outcome"], show(r)) for r in bad))
    check("kill: a new session while the milter is down is refused with a 4xx (never accepted unchecked)",
          down_res["outcome"], "refused4")
    over = [(r["name"], slowest(r, lambda st: a.content_timeout if st == "dot" else a.cmd_timeout))
            for r in allres]
    over = [o for o in over if o[1]]
    check_true("kill: every reply before Postfix's milter timeouts", not over, "%s" % over[:3])


def cmd_kill2(a):
    with open(a.state) as f:
        st = json.load(f)
    msgs = st["messages"]
    sent = len(msgs)
    refused = [m for m in msgs if m["outcome"] == "refused4"]
    accepted = [m for m in msgs if m["outcome"] == "accepted"]
    other = [m for m in msgs if m["outcome"] not in ("refused4", "accepted")]
    # first: what the Maildir holds now, before any retry
    ids = wait_delivered(a.maildir, {m["msgid"]: 1 for m in accepted})
    delivered = [m for m in msgs if ids[m["msgid"]] > 0]
    print("# kill: sent %d, accepted %d, refused with a 4xx %d, other %d; delivered %d" %
          (sent, len(accepted), len(refused), len(other), len(delivered)), flush=True)
    check("kill: sent = delivered + refused(4xx)", "%d = %d + %d" % (sent, len(delivered), len(refused)),
          "%d = %d + %d" % (sent, sent - len(refused), len(refused)))
    wrong = [(m["name"], m["outcome"], ids[m["msgid"]]) for m in msgs
             if ids[m["msgid"]] != (1 if m["outcome"] == "accepted" else 0)]
    check_true("kill: each accepted message delivered exactly once, no refused one delivered",
               not wrong, "(name, outcome, copies): %s" % wrong[:5])
    # then: the client tries again (as a real MTA would) with the restarted milter
    retry = [{"name": "retry " + m["name"], "msgid": m["msgid"], "client": "192.0.2.10",
              "from": "alice@pass.test", "rcpts": ["bob@example.org"]} for m in refused]
    res = run_all(retry, a.cmd_timeout, jobs=10)
    bad = [r for r in res if r["outcome"] != "accepted"]
    check_true("kill: after the restart every refused message is accepted when sent again (%d)" % len(res),
               not bad, "; ".join("%s: %s" % (r["name"], show(r)) for r in bad[:3]))
    ids = wait_delivered(a.maildir, {m["msgid"]: 1 for m in msgs})
    copies = collections.Counter(ids[m["msgid"]] for m in msgs)
    check("kill: in the end every message is in the Maildir exactly once (copies: count of messages)",
          dict(copies), {1: sent})


# ---- reload: 1,000 messages while the policy is reloaded every 100 ms -------------

def cmd_reload(a):
    def count(pattern):
        with open(a.milter_log, errors="replace") as f:
            return sum(1 for l in f if pattern in l)

    def put(src):
        tmp = a.live + ".tmp"
        shutil.copyfile(src, tmp)
        os.rename(tmp, a.live)

    good0, bad0 = count("reloaded policy generation"), count("keeping policy generation")
    # the good policy is only ever loaded by a reload: its refusals prove the reloads work
    put(a.good)
    os.kill(a.milter_pid, signal.SIGUSR1)
    deadline = time.time() + 10
    while count("reloaded policy generation") == good0 and time.time() < deadline:
        time.sleep(0.05)
    if count("reloaded policy generation") == good0:
        notok("reload: the first reload of the good policy was never logged")
        return
    good0 = count("reloaded policy generation")
    stop = threading.Event()
    sent = {"good": 0, "broken": 0}

    def reloader():
        which = "broken"
        while not stop.is_set():
            put(a.broken if which == "broken" else a.good)
            os.kill(a.milter_pid, signal.SIGUSR1)
            sent[which] += 1
            which = "good" if which == "broken" else "broken"
            stop.wait(0.1)
        put(a.good)
        os.kill(a.milter_pid, signal.SIGUSR1)
        sent["good"] += 1

    n = a.count
    msgs = []
    for i in range(n):
        blocked = i % 10 == 0
        msgs.append({"name": "reload %04d" % i, "msgid": msgid("reload"),
                     "client": "192.0.2.%d" % (20 + i % 60), "helo": "client10.test",
                     "from": "blocked@pass.test" if blocked else "alice@pass.test",
                     "rcpts": ["bob@example.org"], "blocked": blocked, "timeout": 120})
    rt = threading.Thread(target=reloader, daemon=True)
    t0 = time.monotonic()
    rt.start()
    results = run_all(msgs, a.cmd_timeout, jobs=a.jobs)
    secs = time.monotonic() - t0
    stop.set()
    rt.join()
    # the last (good) reload is logged before we count
    deadline = time.time() + 10
    while count("reloaded policy generation") - good0 < 1 and time.time() < deadline:
        time.sleep(0.05)
    time.sleep(0.5)
    good_n, bad_n = count("reloaded policy generation") - good0, count("keeping policy generation") - bad0
    outcomes = collections.Counter(r["outcome"] for r in results)
    print("# reload: %d messages in %.1f s (%d at once); %d good and %d broken files signalled; "
          "logged %d reloads, %d refused broken files; outcomes %s" %
          (n, secs, a.jobs, sent["good"], sent["broken"], good_n, bad_n, dict(outcomes)), flush=True)
    check_true("reload: the load spanned at least 10 reloads of each file",
               sent["good"] >= 10 and sent["broken"] >= 10,
               "%d good, %d broken in %.1f s" % (sent["good"], sent["broken"], secs))
    check_true("reload: the milter reloaded most good files and refused most broken ones (at least "
               "three quarters of those signalled: close signals may merge)",
               good_n >= sent["good"] * 3 / 4 and bad_n >= sent["broken"] * 3 / 4,
               "logged %d reloads for %d good, %d refusals for %d broken" %
               (good_n, sent["good"], bad_n, sent["broken"]))
    blocked_bad = [r for r, m in zip(results, msgs) if m["blocked"] and not (
        r["outcome"] == "refused5" and any(st == "mail" and reply_matches(c, t, "554 5.7.1 blocked by local policy")
                                          for st, c, t, _ in r["replies"]))]
    check_true("reload: every message of the class the good policy blocks refused (554 5.7.1 at "
               "MAIL FROM, %d)" % sum(1 for m in msgs if m["blocked"]), not blocked_bad,
               "%d not: %s" % (len(blocked_bad), "; ".join("%s: %s" % (r["name"], show(r))
                                                          for r in blocked_bad[:3])))
    other_bad = [r for r, m in zip(results, msgs) if not m["blocked"] and r["outcome"] != "accepted"]
    check_true("reload: every other message accepted (%d): no session failed because of a reload" %
               sum(1 for m in msgs if not m["blocked"]), not other_bad,
               "%d not: %s" % (len(other_bad), "; ".join("%s: %s" % (r["name"], show(r))
                                                        for r in other_bad[:3])))
    over = [(r["name"], slowest(r, lambda st: a.content_timeout if st == "dot" else a.cmd_timeout))
            for r in results]
    over = [o for o in over if o[1]]
    check_true("reload: every reply before Postfix's milter timeouts", not over, "%s" % over[:3])
    want = {m["msgid"]: 1 for m in msgs if not m["blocked"]}
    ids = wait_delivered(a.maildir, want, 60)
    wrong = [m["name"] for m in msgs if ids[m["msgid"]] != (0 if m["blocked"] else 1)]
    check_true("reload: each accepted message delivered exactly once, no refused one delivered",
               not wrong, "%d wrong, e.g. %s" % (len(wrong), wrong[:5]))


# ---- limits: oversized messages through Postfix ------------------------------------

def cmd_limits(a):
    pid = a.milter_pid
    mb = 1024 * 1024

    def filler(n, fmt):
        def gen():
            for i in range(1, n + 1):
                yield (fmt.format(i=i) + "\r\n").encode("latin-1")
        return gen

    def big_header():
        yield b"X-Big: " + b"a" * mb + b"\r\n"

    def dkim_sigs():
        for i in range(1, 501):
            yield ("DKIM-Signature: v=1; a=rsa-sha256; c=relaxed/relaxed; d=signed.test; s=sel%d;\r\n"
                   "\th=from:to:subject; bh=47DEQpj8HBSa+/TImW+5JCeuQeRkm5NMpJWZG3hSuFU=;\r\n"
                   "\tb=bm90IGEgc2lnbmF0dXJlIGJ1dCBub3QgYnJva2VuIGVpdGhlcg==\r\n" % i).encode()

    base = {"client": "192.0.2.10", "from": "alice@pass.test", "rcpts": ["bob@example.org"],
            "timeout": 600}
    cases = [
        ("10,000 header lines", {"header_gen": [filler(10000, "X-Filler-{i:05d}: line {i} of the header")]},
         {"dot": "250"}, 1),
        ("a 50 MiB body", {"body_size": 50 * mb}, {"dot": "250"}, 1),
        ("1,000 recipients", {"rcpts": ["r%04d@example.net" % i for i in range(1, 1001)]},
         {"dot": "250"}, 100),
        ("a header line of 1 MiB", {"header_gen": [big_header]}, {"dot": "250"}, 1),
        ("500 DKIM-Signature headers", {"header_gen": [dkim_sigs], "from": "alice@signed.test",
                                        "from_header": "<alice@signed.test>"}, {"dot": "250"}, 1),
    ]
    # warm up: a plain message, so that the baseline includes a whole normal transaction
    warm = dict(base, name="limits warm-up", msgid=msgid("warm"))
    r = run_message(warm, a.cmd_timeout)
    check("limits: a plain message first (warm-up)", r["outcome"], "accepted")
    hwm0, rss0 = vmhwm(pid)
    print("# limits: milter VmHWM %d KiB, VmRSS %d KiB after the warm-up" % (hwm0, rss0), flush=True)
    for name, extra, want, copies in cases:
        m = dict(base, name=name, msgid=msgid("limits"))
        m.update(extra)
        t0 = time.time()
        r = run_message(m, a.cmd_timeout)
        hwm, rss = vmhwm(pid)
        bad = []
        extra_info = []
        for stage, spec in want.items():
            got = [x for x in r["replies"] if x[0] == stage]
            if not got or not reply_matches(got[-1][1], got[-1][2], spec):
                bad.append("%s: got %s, want %s" % (stage, got[-1][1:3] if got else None, spec))
        over = slowest(r, lambda st: a.content_timeout if st == "dot" else a.cmd_timeout)
        if over:
            bad.append("replies as slow as Postfix's milter timeouts: %s" % over)
        if name == "1,000 recipients":
            rc = [x for x in r["replies"] if x[0] == "rcpt"]
            okc = sum(1 for x in rc if x[1] == 250)
            refc = sum(1 for x in rc if reply_matches(x[1], x[2], "452 4.5.3"))
            if (okc, refc) != (100, 900):
                bad.append("RCPT replies: got %d x 250 and %d x 452 4.5.3 of %d, want 100 and 900" %
                           (okc, refc, len(rc)))
        ids = wait_delivered(a.maildir, {m["msgid"]: copies} if copies else {}, 30)
        if ids[m["msgid"]] != copies:
            bad.append("delivered copies: got %d, want %d" % (ids[m["msgid"]], copies))
        elif copies:
            path = delivered_file(a.maildir, m["msgid"])
            hs = header_block(path)
            ar = [v for n, v in hs if n == "authentication-results" and v.startswith("mx.example.org")]
            if len(ar) != 1:
                bad.append("Authentication-Results of ours: got %d, want 1 (the milter judged it)" % len(ar))
            if name == "10,000 header lines":
                nf = sum(1 for n, _ in hs if n.startswith("x-filler-"))
                if nf != 10000:
                    bad.append("X-Filler headers delivered: got %d, want 10000" % nf)
            # the Maildir keeps LF line ends: 77 of each 78 bytes sent
            if name == "a 50 MiB body" and os.path.getsize(path) < 50 * mb * 77 // 78:
                bad.append("delivered size %d, want at least %d (50 MiB in LF lines)" %
                           (os.path.getsize(path), 50 * mb * 77 // 78))
            if name == "a header line of 1 MiB":
                # Postfix with any milter (a no-op libmilter filter too) keeps the first
                # 60,000 bytes of the line; the milter must not shorten it further
                big = [v for n, v in hs if n == "x-big"]
                kept = len(big[0]) if big else 0
                extra_info.append("X-Big delivered with %d of %d bytes" % (kept, mb))
                if not big or kept < 59993 or big[0].strip("a"):
                    bad.append("X-Big delivered: got %d bytes, want the value kept (at least the "
                               "59,993 bytes Postfix passes on)" % kept)
            if name == "500 DKIM-Signature headers" and ar:
                nd = len(re.findall(r"\bdkim=", ar[0]))
                if nd != 5:
                    bad.append("dkim= results: got %d, want 5 (dkim.max_signatures)" % nd)
        if name == "500 DKIM-Signature headers":
            q = dnslog_since(a.dnslog, t0, r"\._domainkey\.signed\.test$")
            if len(q) > 5:
                bad.append("DKIM key lookups: got %d, want at most 5 (dkim.max_signatures)" % len(q))
        if r["secs"] > a.session_limit:
            bad.append("the session took %.1f s, over %d s" % (r["secs"], a.session_limit))
        worst = max(x[3] for x in r["replies"]) if r["replies"] else 0.0
        detail = "%s in %.1f s, slowest reply %.1f s; VmHWM %d KiB (+%d), VmRSS %d KiB%s" % (
            r["replies"][-1][1] if r["replies"] else None, r["secs"], worst, hwm, hwm - hwm0, rss,
            "".join("; " + x for x in extra_info))
        if bad:
            notok("limits: %s: %s [%s]" % (name, "; ".join(bad), detail))
        else:
            ok("limits: %s: %s" % (name, detail))
    hwm, rss = vmhwm(pid)
    check_true("limits: the milter's memory stayed bounded (VmHWM %d KiB -> %d KiB, +%d KiB; "
               "limit +%d KiB)" % (hwm0, hwm, hwm - hwm0, a.hwm_limit_kib),
               hwm - hwm0 <= a.hwm_limit_kib,
               "VmHWM grew by %d KiB, over the limit %d KiB" % (hwm - hwm0, a.hwm_limit_kib))


# ---- probe: one plain message, its outcome on one line -------------------------------

# ---- walk: the RFC 9989 tree walk's queries on the wire, measured -----------

# (author domain, the reply's code): the e2e zones written the RFC 9989 way
WALKS = [("eu.sales.walk.test", 550), ("shop-b.city.test", 550), ("ghost.np.test", 550),
         ("real.np.test", 250), ("testing.test", 250)]


def cmd_walk(a):
    """One message per author domain, one after another; the _dmarc TXT and the
    author's A queries faultdns forwarded for it (the shared cache answers what
    an earlier message asked): each message within two walks of 8 queries."""
    write_rules(a.rules, [])
    for i, (author, code) in enumerate(WALKS):
        sender = "alice@shop-a.city.test" if author == "shop-b.city.test" else "alice@pass.test"
        m = {"name": "walk: From %s" % author, "msgid": msgid("walk"), "client": "192.0.2.10",
             "from": sender, "rcpts": ["bob@example.org"], "from_header": "<alice@%s>" % author}
        t0 = time.time()
        r = run_message(m, a.cmd_timeout)
        time.sleep(0.3)
        q = [p[1] for p in dnslog_since(a.dnslog, t0, r"^(_dmarc\.|%s$)" % re.escape(author))]
        last = r["replies"][-1] if r["replies"] else (None, None, "", 0)
        print("# walk: From %s (MAIL FROM %s): %d queries sent: %s" %
              (author, sender.split("@")[1], len(q), " ".join(q) or "none (cached)"))
        check_true("walk: From %s: %s, at most 16 queries (two walks)" % (author, code),
                   last[1] == code and len(q) <= 16, "reply %s %s, %d queries" %
                   (last[1], last[2][:60], len(q)))


def cmd_probe(a):
    m = {"name": "probe", "msgid": msgid("probe"), "client": "192.0.2.10", "from": "alice@pass.test",
         "rcpts": ["bob@example.org"], "port": a.port}
    r = run_message(m, a.cmd_timeout)
    print("%s: %s" % (r["outcome"], show(r)))


def main():
    p = argparse.ArgumentParser(description="the fault suite's SMTP client")
    p.add_argument("part", choices=["dns", "walk", "dnsstop", "kill1", "kill2", "reload", "limits", "probe"])
    p.add_argument("cases", nargs="?")
    p.add_argument("--maildir", required=True)
    p.add_argument("--cmd-timeout", type=float, required=True)
    p.add_argument("--content-timeout", type=float, required=True)
    p.add_argument("--rules")
    p.add_argument("--dnslog")
    p.add_argument("--dns-pid", type=int)
    p.add_argument("--dns-cmd")
    p.add_argument("--dns-pidfile")
    p.add_argument("--milter-pid", type=int)
    p.add_argument("--state")
    p.add_argument("--live")
    p.add_argument("--good")
    p.add_argument("--broken")
    p.add_argument("--milter-log")
    p.add_argument("--count", type=int, default=1000)
    p.add_argument("--jobs", type=int, default=20)
    p.add_argument("--hwm-limit-kib", type=int, default=32768)
    p.add_argument("--port", type=int, default=25)
    p.add_argument("--session-limit", type=int, default=60)
    a = p.parse_args()
    {"dns": cmd_dns, "walk": cmd_walk, "dnsstop": cmd_dnsstop, "kill1": cmd_kill1, "kill2": cmd_kill2,
     "reload": cmd_reload, "limits": cmd_limits, "probe": cmd_probe}[a.part](a)
    sys.exit(1 if FAILED else 0)


if __name__ == "__main__":
    main()
