#!/usr/bin/env python3
"""statec.py - the state suite's client and checks (tests/state/run.sh).

SYNOPSIS
    statec.py --work DIR --maildir DIR --redis-port N --json-dir DIR PART [options]

DESCRIPTION
    PART is one of greylist, greylist-restart, ratelimit, concurrent, outage,
    slow, lmdb-fresh (run.sh describes each). The greylisting sessions are
    swaks runs (its transcript read as tests/e2e/scenario.pl reads it); the
    rate-limit and fault sessions use the small SMTP client below (every
    reply timed). Every reply is compared whole: basic code, enhanced code and
    text. Delivered copies are found by Message-ID in the Maildir; the JSON
    decision records by sender, recipient and stage in each milter's
    json_file. Prints "ok - ..." / "not ok - ..." lines; exit 1 when one
    failed.
"""
import argparse
import glob
import json
import os
import re
import socket
import subprocess
import sys
import threading
import time
import uuid

MX1 = ("127.0.0.1", 25)
MX2 = ("127.0.0.10", 25)
TF = ("127.0.0.1", 2526)  # MX1's listener with the on_failure = "tempfail" milter
LM = ("127.0.0.1", 2527)  # MX1's listener with the LMDB milter
JSON_OF = {MX1: "mx1", MX2: "mx2", TF: "tf", LM: "lm"}
AUTHSERV = {MX1: "mx.example.org", MX2: "mx2.example.org", TF: "tf.example.org",
            LM: "lm.example.org"}
NAME_OF = {MX1: "MX1", MX2: "MX2", TF: "MX1:2526 (tempfail)", LM: "MX1:2527 (LMDB)"}

# greylisting.delay of every milter (run.sh): long enough for a session under
# load (a swaks session took 4 s on a busy 2-core machine) and the store's
# whole-second ages
DELAY = 10
CMD_TIMEOUT = 0.25  # state.redis.command_timeout_ms
# the default replies (src/config_keys.c)
GREYLISTED = ("451 4.7.1 <%s>: Greylisted: first delivery attempt from your server for this "
              "sender and recipient; please retry in %d seconds")
RATELIMIT = "451 4.7.1 Too much mail from you or for this recipient; try again later"
STATE_TEMPFAIL = "451 4.3.0 Temporary local problem; please try again later"

FAILED = False
A = None  # the parsed arguments


LOCK = threading.Lock()  # one line at a time: the cases run in threads


def say(line):
    with LOCK:
        sys.stdout.write(line + "\n")
        sys.stdout.flush()


def ok(name):
    say("ok - " + name)


def notok(name):
    global FAILED
    FAILED = True
    say("not ok - " + name)


def check(name, got, want):
    if got == want:
        ok(name)
    else:
        notok("%s: got %r, want %r" % (name, got, want))


def check_true(name, cond, why):
    if cond:
        ok(name)
    else:
        notok("%s: %s" % (name, why))


def msgid(tag):
    return "<state-%s-%s@state.test>" % (tag, uuid.uuid4().hex[:12])


# ---- SMTP: our own client ---------------------------------------------------------

class Session:
    """One SMTP session over a socket bound to the client address."""

    def __init__(self, server, client, timeout=30):
        # (stage, "CODE text" with continuation lines joined by "\n", seconds, when: monotonic)
        self.replies = []
        self.sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        self.sock.settimeout(timeout)
        self.sock.bind((client, 0))
        self.sock.connect(server)
        self.f = self.sock.makefile("rb")
        self.read("banner", time.monotonic())

    def read(self, stage, t0):
        lines = []
        while True:
            line = self.f.readline()
            if not line:
                raise EOFError("connection closed at %s" % stage)
            line = line.decode("latin-1").rstrip("\r\n")
            lines.append(line)
            if len(line) < 4 or line[3] != "-":
                break
        r = "\n".join(lines)
        now = time.monotonic()
        self.replies.append((stage, r, now - t0, now))
        return r

    def cmd(self, stage, line):
        t0 = time.monotonic()
        self.sock.sendall((line + "\r\n").encode("latin-1"))
        return self.read(stage, t0)

    def close(self):
        try:
            self.sock.sendall(b"QUIT\r\n")
            self.f.readline()
        except OSError:
            pass
        self.sock.close()


def message(sender, rcpts, mid, subject):
    return ("From: <%s>\r\nTo: <%s>\r\nSubject: %s\r\nMessage-ID: %s\r\n"
            "Date: %s\r\n\r\nstate suite test message\r\n" %
            (sender, rcpts[0], subject, mid,
             time.strftime("%a, %d %b %Y %H:%M:%S +0000", time.gmtime())))


def smtp(m, barrier=None):
    """Run message m (dict: server, client, sender, rcpts, msgid); the result: m with
    replies [(stage, reply, secs)], outcome accepted / refused4 / refused5 / lost."""
    r = dict(m, replies=[], outcome="lost", error=None)
    t0 = time.monotonic()
    s = None
    try:
        s = Session(m["server"], m["client"])
        r["replies"] = s.replies
        s.cmd("helo", "EHLO %s" % m.get("helo", "client.pass.test"))
        rep = s.cmd("mail", "MAIL FROM:<%s>" % m["sender"])
        if barrier is not None:
            barrier.wait(timeout=30)
        if rep.startswith("2"):
            good = 0
            for rc in m["rcpts"]:
                if s.cmd("rcpt", "RCPT TO:<%s>" % rc).startswith("2"):
                    good += 1
            if good:
                if s.cmd("datacmd", "DATA").startswith("3"):
                    t1 = time.monotonic()
                    s.sock.sendall(message(m["sender"], m["rcpts"], m["msgid"],
                                           m.get("subject", "state")).encode() + b".\r\n")
                    s.read("dot", t1)
        s.close()
    except (OSError, EOFError, threading.BrokenBarrierError) as e:
        r["error"] = str(e)
        if s is not None:
            s.sock.close()
    r["secs"] = time.monotonic() - t0
    last = r["replies"][-1][1] if r["replies"] else ""
    if r["error"] is None and r["replies"] and r["replies"][-1][0] == "dot" and last.startswith("2"):
        r["outcome"] = "accepted"
    elif r["replies"] and any(x[1][:1] == "5" for x in r["replies"]):
        r["outcome"] = "refused5"
    elif r["replies"] and any(x[1][:1] == "4" for x in r["replies"]):
        r["outcome"] = "refused4"
    return r


def run_all(msgs, barrier=False):
    """All messages at once (threads); with barrier, they meet after MAIL FROM."""
    out = [None] * len(msgs)
    b = threading.Barrier(len(msgs)) if barrier else None

    def one(i):
        out[i] = smtp(msgs[i], b)
    ts = [threading.Thread(target=one, args=(i,)) for i in range(len(msgs))]
    for t in ts:
        t.start()
    for t in ts:
        t.join()
    return out


def reply_at(r, stage):
    got = [x[1] for x in r["replies"] if x[0] == stage]
    return got[-1] if got else None


def secs_at(r, stage):
    got = [x[2] for x in r["replies"] if x[0] == stage]
    return got[-1] if got else None


def when_at(r, stage):
    got = [x[3] for x in r["replies"] if x[0] == stage]
    return got[-1] if got else None


def show(r):
    s = " | ".join("%s: %s" % (x[0], x[1].replace("\n", " / ")) for x in r["replies"]
                   if x[0] not in ("banner", "helo"))
    return s + ("; error: %s" % r["error"] if r.get("error") else "")


# ---- SMTP: swaks --------------------------------------------------------------------

def swaks(server, client, sender, rcpt, mid, auth=False):
    """One swaks session; [(stage, reply, when)] as tests/e2e/scenario.pl reads the
    transcript, when: time.monotonic() as the reply's last line was read"""
    cmd = ["swaks", "--server", server[0], "--port", str(server[1]), "--local-interface", client,
           "--helo", "client.pass.test", "--from", sender, "--to", rcpt, "--timeout", "30",
           "--header", "Subject: state suite %s" % mid, "--header", "Message-Id: %s" % mid]
    if auth:
        cmd += ["--auth-optional", "PLAIN", "--auth-user", "alice", "--auth-password", "e2e-secret"]
    p = subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.STDOUT)
    t, stage, reply, indata, notes = [], "banner", None, False, []
    for raw in p.stdout:
        now = time.monotonic()
        line = raw.decode("latin-1").rstrip("\r\n")
        if line.startswith(("<- ", "<** ")):
            rr = line.split(" ", 1)[1].strip()
            reply = rr if reply is None else reply + "\n" + rr
            if len(rr) > 3 and rr[3] == "-":
                continue
            if stage == "datacmd":
                if rr.startswith("3"):
                    indata, stage = True, "data"
                else:
                    t.append(("data", reply, now))
            else:
                t.append((stage, reply, now))
                if stage == "data":
                    indata = False
            reply = None
        elif line.startswith(" -> "):
            if indata:
                continue
            c = (line[4:].split() or [""])[0].upper()
            stage = {"EHLO": "helo", "HELO": "helo", "MAIL": "mail", "RCPT": "rcpt",
                     "DATA": "datacmd"}.get(c, c.lower())
        elif line.startswith("*** "):
            notes.append(line[4:])
    p.wait(timeout=60)
    if notes:
        t.append(("swaks", "; ".join(notes), time.monotonic()))
    return t


def sw_when(t, stage):
    got = [x[2] for x in t if x[0] == stage]
    return got[-1] if got else time.monotonic()


def sw_reply(t, stage):
    got = [x[1] for x in t if x[0] == stage]
    return got[-1] if got else None


# ---- the Maildir, the JSON records, Redis, the logs ----------------------------------------

def copies(mid):
    """The delivered files holding Message-ID mid: [{header name: [values]}]."""
    out = []
    for f in glob.glob(os.path.join(A.maildir, "new", "*")) + glob.glob(os.path.join(A.maildir, "cur", "*")):
        try:
            with open(f, "rb") as fh:
                head = fh.read(65536).decode("latin-1").split("\n\n", 1)[0]
        except OSError:
            continue
        h = {}
        for line in head.replace("\n\t", " ").replace("\n ", " ").split("\n"):
            if ":" in line:
                n, v = line.split(":", 1)
                h.setdefault(n.strip().lower(), []).append(" ".join(v.split()))
        if mid in h.get("message-id", []):
            out.append(h)
    return out


def wait_copies(mid, n, secs=15):
    deadline = time.time() + secs
    while True:
        c = copies(mid)
        if len(c) >= n or time.time() > deadline:
            if n == 0:
                time.sleep(0.5)
                c = copies(mid)
            return c
        time.sleep(0.1)


def check_delivered(name, mid, server, n=1):
    """exactly n copies, each with our Authentication-Results (that milter's authserv_id)"""
    c = wait_copies(mid, n)
    ar = AUTHSERV[server]
    bad = [h for h in c if not any(v.startswith(ar + ";") for v in h.get("authentication-results", []))]
    check_true("%s: delivered (%d cop%s, each with Authentication-Results: %s; ...)" %
               (name, n, "y" if n == 1 else "ies", ar),
               len(c) == n and not bad,
               "got %d copies (%d without that field): %s" %
               (len(c), len(bad), [h.get("authentication-results") for h in c][:2]))


def records(server):
    path = os.path.join(A.json_dir, JSON_OF[server] + ".json")
    out = []
    try:
        with open(path, encoding="utf-8", errors="replace") as fh:
            for line in fh:
                try:
                    out.append(json.loads(line))
                except ValueError:
                    pass
    except OSError:
        pass
    return out


def record(server, stage, sender, rcpt=None, n=1, secs=5):
    """the n-th record (1: the first) of that stage, sender and recipient; None after secs"""
    deadline = time.time() + secs
    while True:
        got = [r for r in records(server) if r.get("stage") == stage and r.get("sender") == sender
               and (rcpt is None or rcpt in (r.get("recipients") or []))]
        if len(got) >= n:
            return got[n - 1]
        if time.time() > deadline:
            return None
        time.sleep(0.1)


def sub(d, want):
    """the keys of want that differ in d: {key: (got, want)}"""
    return {k: (d.get(k) if isinstance(d, dict) else None, v) for k, v in want.items()
            if not isinstance(d, dict) or d.get(k) != v}


def check_record(name, server, stage, sender, rcpt, want, gl=None, rl=None, n=1):
    """the record's top-level fields want, its checks.greylist[0] holding gl,
    its checks.ratelimit[] holding each of rl (matched by rule)"""
    r = record(server, stage, sender, rcpt, n)
    if r is None:
        notok("%s: no %s record from %s to %s in %s.json" % (name, stage, sender, rcpt, JSON_OF[server]))
        return None
    diff = sub(r, want)
    checks = r.get("checks") or {}
    if gl is not None:
        g = checks.get("greylist") or []
        d = sub(g[0] if g else None, gl)
        if d:
            diff["checks.greylist[0]"] = d
    for want_rl in rl or []:
        got = [x for x in checks.get("ratelimit") or [] if x.get("rule") == want_rl["rule"]]
        d = sub(got[0] if got else None, want_rl)
        if d:
            diff["checks.ratelimit[%s]" % want_rl["rule"]] = d
    check_true(name, not diff, "differs: %s" % diff)
    return r


def redis(*args):
    p = subprocess.run(["redis-cli", "-h", "127.0.0.1", "-p", str(A.redis_port)] + list(args),
                       stdout=subprocess.PIPE, stderr=subprocess.STDOUT, timeout=10)
    return p.stdout.decode().strip()


def redis_value(rule, value):
    """the counter of rule for value (the key pmtest:rl:RULE:VALUE, however the value is escaped)"""
    key = "pmtest:rl:%s:%s" % (rule, value)
    v = redis("GET", key)
    if v:
        return v
    keys = [k for k in redis("--scan", "--pattern", "pmtest:rl:%s:*" % rule).split("\n") if k]
    hits = [k for k in keys if value.replace("@", "") in k.replace("%40", "").replace("@", "")]
    return redis("GET", hits[0]) if len(hits) == 1 else "(no key %s among %s)" % (key, keys[:5])


def log_lines(name):
    try:
        with open(os.path.join(A.work, name + ".log"), encoding="utf-8", errors="replace") as fh:
            return fh.readlines()
    except OSError:
        return []


def log_count(name, text):
    try:
        with open(os.path.join(A.work, name + ".log"), encoding="utf-8", errors="replace") as fh:
            return sum(1 for line in fh if text in line)
    except OSError:
        return 0


# ---- greylist --------------------------------------------------------------------------

def gl_want(state, net, sender, rcpt, backend, **kw):
    d = {"state": state, "network": net, "sender": sender, "recipient": rcpt, "backend": backend}
    d.update(kw)
    return d


GREYLIST_REFUSAL = {"action": "tempfail", "check": "greylist", "reason": "greylisted",
                    "rule": "greylisting.delay"}


def refusal(text):
    code, xcode, rest = text.split(" ", 2)
    return dict(GREYLIST_REFUSAL, reply={"code": int(code), "xcode": xcode, "text": rest})


def first_attempt(name, server, client, sender, rcpt, backend):
    """the first attempt (its reply checked now); returns its start time and the
    checks to run later (nothing delivered, the JSON record)"""
    mid = msgid("gl")
    t = swaks(server, client, sender, rcpt, mid)
    want = GREYLISTED % (rcpt, DELAY)
    check("%s: first attempt on %s: RCPT TO" % (name, NAME_OF[server]), sw_reply(t, "rcpt"), want)
    t0 = sw_when(t, "rcpt")  # the triplet was made just before this reply

    def later():
        check("%s: first attempt: nothing delivered" % name, len(wait_copies(mid, 0)), 0)
        check_record("%s: first attempt: JSON rcpt record, greylist state new, retry_in %d" %
                     (name, DELAY), server, "rcpt", sender, rcpt, refusal(want),
                     gl_want("new", "192.0.2.0/24", sender, rcpt, backend, retry_in=DELAY))
    return t0, later


def early_attempt(name, server, client, sender, rcpt, backend, t0, n=1):
    """an attempt before the delay is over (its reply checked now); the checks to run later"""
    mid = msgid("gl")
    t = swaks(server, client, sender, rcpt, mid)
    got = sw_reply(t, "rcpt") or ""
    left = DELAY - (sw_when(t, "rcpt") - t0)
    retry = None
    for n_ in range(1, DELAY + 1):
        if got == GREYLISTED % (rcpt, n_):
            retry = n_
    check_true("%s: again before the delay on %s (%.1f s left): RCPT TO %s" %
               (name, NAME_OF[server], left, GREYLISTED % (rcpt, retry or 0)),
               retry is not None and left > 0,
               "got %r, want %r with N from 1 to %d" % (got, GREYLISTED % (rcpt, 0), DELAY))

    def later():
        check("%s: early attempt: nothing delivered" % name, len(wait_copies(mid, 0)), 0)
        if retry is not None:
            check_record("%s: early attempt: JSON rcpt record, greylist state early, retry_in %d" %
                         (name, retry), server, "rcpt", sender, rcpt,
                         refusal(GREYLISTED % (rcpt, retry)),
                         gl_want("early", "192.0.2.0/24", sender, rcpt, backend, retry_in=retry), n=n)
    return later


def accepted(name, server, client, sender, rcpt, backend, state, n=1, net="192.0.2.0/24",
             auth=False, skip=None):
    mid = msgid("gl")
    t = swaks(server, client, sender, rcpt, mid, auth=auth)
    check("%s on %s: RCPT TO" % (name, NAME_OF[server]), (sw_reply(t, "rcpt") or "")[:3], "250")
    check("%s: end of data" % name, (sw_reply(t, "data") or "")[:3], "250")
    check_delivered(name, mid, server)
    gl = gl_want(state, net, sender, rcpt, backend) if state != "skipped" else {"state": "skipped",
                                                                               "skip": skip}
    r = check_record("%s: JSON eom record, greylist state %s%s" % (name, state, ", skip " + skip if skip else ""),
                     server, "eom",
                     sender, rcpt, {"action": "accept"}, gl, n=n)
    return r


def cmd_greylist(a):
    # the first attempts at once, then the early ones; the rest of the checks
    # while the delay runs out: one wait for every case
    cases = {
        "A": (MX1, "192.0.2.11", "grey-a@pass.test", "grey-a@example.net", "redis"),
        "B": (MX1, "192.0.2.12", "grey-b@pass.test", "grey-b@example.net", "redis"),
        "F": (LM, "192.0.2.15", "grey-f@pass.test", "grey-f@example.net", "lmdb"),
    }
    names = {"A": "greylisting", "B": "greylisting across MX hosts", "F": "greylisting (LMDB)"}
    t0, later = {}, []

    def first(k):
        t0[k], f = first_attempt(names[k], *cases[k])
        later.append(f)
    par([lambda k=k: first(k) for k in cases])
    time.sleep(max(0.0, max(t0.values()) + 1.0 - time.monotonic()))
    a_, b_, f_ = cases["A"], cases["B"], cases["F"]
    # (the early records: the second rcpt record of the sender on MX1 and LMDB, the first on MX2)
    par([lambda: later.append(early_attempt(names["A"], *a_, t0["A"], n=2)),
         lambda: later.append(early_attempt(names["B"] + " (early on MX2: the state is shared)", MX2,
                                            *b_[1:], t0["B"])),
         lambda: later.append(early_attempt(names["F"], *f_, t0["F"], n=2))])
    # never greylisted: postmaster, a trusted client, an authenticated one
    par(later + [
        lambda: accepted("postmaster: first attempt accepted", MX1, "192.0.2.13", "grey-c@pass.test",
                         "postmaster@example.org", "redis", "skipped", skip="postmaster"),
        lambda: accepted("trusted client (203.0.113.130): first attempt accepted", MX1,
                         "203.0.113.130", "grey-d@pass.test", "grey-d@example.net", "redis",
                         "skipped", skip="trusted"),
        lambda: accepted("authenticated client (AUTH PLAIN alice): first attempt accepted", MX1,
                         "192.0.2.14", "grey-e@pass.test", "grey-e@example.net", "redis",
                         "skipped", auth=True, skip="authenticated")])
    # past the delay of every case's triplet
    time.sleep(max(0.0, max(t0.values()) + DELAY + 0.2 - time.monotonic()))
    par([lambda: accepted("greylisting: after the delay, passed", *a_, "passed"),
         lambda: accepted("greylisting across MX hosts: greylisted on MX1, after the delay passed",
                          MX2, *b_[1:], "passed"),
         lambda: accepted("greylisting (LMDB): after the delay, passed", *f_, "passed")])
    accepted("greylisting: a second message of the passed triplet, at once (known)", *a_, "known", n=2)
    accepted("greylisting across MX hosts: a second message on MX1, at once (known)", MX1, *b_[1:],
             "known")


def cmd_greylist_restart(a):
    accepted("greylisting (LMDB): after the milter's restart the passed triplet still passes (known)",
             LM, "192.0.2.15", "grey-f@pass.test", "grey-f@example.net", "lmdb", "known", n=2)


def par(fns):
    ts = [threading.Thread(target=f) for f in fns]
    for t in ts:
        t.start()
    for t in ts:
        t.join()


# ---- rate limits --------------------------------------------------------------------------

def rl_msg(server, client, sender, rcpt, tag):
    return {"server": server, "client": client, "sender": sender, "rcpts": [rcpt], "msgid": msgid(tag)}


def cmd_ratelimit(a):
    client, sender = "198.51.100.5", "rl@pass.test"
    rs = []
    for i in range(6):
        server = MX1 if i % 2 == 0 else MX2
        rs.append(smtp(rl_msg(server, client, sender, "rl-%d@example.net" % i, "rl")))
    for i, r in enumerate(rs[:5]):
        check_true("ratelimit across MX hosts: message %d of 5 (%s) accepted" % (i + 1, NAME_OF[r["server"]]),
                   r["outcome"] == "accepted" and reply_at(r, "rcpt").startswith("250 "), show(r))
    check("ratelimit across MX hosts: the 6th (MX2) RCPT TO", reply_at(rs[5], "rcpt"), RATELIMIT)
    for r in rs[:5]:
        check_delivered("ratelimit across MX hosts: %s" % r["rcpts"][0], r["msgid"], r["server"])
    check("ratelimit across MX hosts: the 6th not delivered", len(wait_copies(rs[5]["msgid"], 0)), 0)
    code, xcode, text = RATELIMIT.split(" ", 2)
    check_record("ratelimit across MX hosts: the 6th's JSON rcpt record, state over", MX2, "rcpt",
                 sender, "rl-5@example.net",
                 {"action": "tempfail", "check": "ratelimit", "reason": "ratelimit_exceeded",
                  "rule": "ratelimits.per-client",
                  "reply": {"code": int(code), "xcode": xcode, "text": text}},
                 rl=[{"rule": "per-client", "key": "client_address", "value": client, "count": 5,
                      "limit": 5, "window": 60, "action": "tempfail", "state": "over",
                      "backend": "redis"}])
    check_record("ratelimit across MX hosts: the 5th's JSON eom record (MX1) counts 5 of 5", MX1, "eom",
                 sender, "rl-4@example.net", {"action": "accept"},
                 rl=[{"rule": "per-client", "key": "client_address", "value": client, "count": 5,
                      "limit": 5, "window": 60, "state": "ok", "backend": "redis"}])
    check("ratelimit across MX hosts: Redis holds the counter 5", redis_value("per-client", client), "5")


def cmd_concurrent(a):
    rcpt = "burst@example.net"
    msgs = [rl_msg(MX1 if i % 2 == 0 else MX2, "198.51.100.%d" % (100 + i), "burst@pass.test", rcpt,
                   "burst") for i in range(20)]
    t0 = time.monotonic()
    rs = run_all(msgs, barrier=True)
    secs = time.monotonic() - t0
    rc = [reply_at(r, "rcpt") or "none: %s" % show(r) for r in rs]
    acc = sum(1 for x in rc if x.startswith("250 "))
    refused = sum(1 for x in rc if x == RATELIMIT)
    say("# concurrent: 20 sessions in %.1f s: %d RCPT 250, %d %s" % (secs, acc, refused, RATELIMIT))
    check("concurrent: 20 sessions at once (10 per MX) against per-rcpt limit 10: RCPT 250 / 451 4.7.1 "
          "ratelimit / other", (acc, refused, 20 - acc - refused), (10, 10, 0))
    done = [r for r in rs if r["outcome"] == "accepted"]
    check("concurrent: the accepted ones' end of data 250", len(done), acc)
    got = sum(len(wait_copies(r["msgid"], 1)) for r in done)
    check("concurrent: delivered copies", got, 10)
    check("concurrent: Redis holds the counter 10", redis_value("per-rcpt", rcpt), "10")
    # the refused ones' per-client counts were taken back (a later rule refused the recipient)
    tot = 0
    for m in msgs:
        v = redis("GET", "pmtest:rl:per-client:%s" % m["client"])
        tot += int(v) if v.isdigit() else 0
    check("concurrent: the per-client counts of the refused recipients taken back (sum of 20 counters)",
          tot, 10)


# ---- faults ---------------------------------------------------------------------------------

def cmd_outage(a):
    def ctl(what):
        """redis_start / redis_stop of tests/state/redis.sh"""
        cmd = '. "$0"; redis_%s "$@"' % what
        args = [a.redis_dir] + (a.redis_args.split() if what == "start" else [])
        return subprocess.run(["bash", "-c", cmd, a.redis_sh] + args, timeout=30).returncode
    results = []
    n = [0]

    def send(server, phase, grey=False):
        n[0] += 1
        # (a client address of its own each: 198.51.100.101 to .250; grey: one the
        # greylisting looks at, not rate limited)
        m = rl_msg(server, "198.51.100.%d" % (100 + n[0] % 150), "outage@pass.test",
                   "outage-%d@example.net" % n[0], "outage")
        if grey:
            m.update(client="192.0.2.30", sender="gl-outage-%d@pass.test" % n[0])
        r = smtp(m)
        r["phase"] = phase
        results.append(r)
        return r
    # (MX2 too: it keeps a pooled connection to the server about to be stopped)
    for _ in range(2):
        par([lambda: send(MX1, "before"), lambda: send(TF, "before"), lambda: send(MX2, "before")])
    ctl("stop")
    t_stop = time.monotonic()
    for i in range(5):
        par([lambda: send(MX1, "during"), lambda: send(TF, "during")] +
            ([lambda: send(MX1, "during-grey", True), lambda: send(TF, "during-grey", True)] if i == 2 else []))
        time.sleep(0.3)
    if ctl("start") != 0:
        notok("outage: redis-server did not start again")
        return
    say("# outage: Redis stopped for %.1f s" % (time.monotonic() - t_stop))
    # after: until every milter reaches Redis again. MX1 and the tempfail milter
    # end their outage; MX2, idle while Redis was down, may still hold pooled
    # connections the old server closed: its first operations then fail (it
    # fails open and logs an outage of its own) until it reconnects. The bound:
    # the store's backoff tops out at 30 s.
    t_back = time.monotonic()
    back = "state store redis 127.0.0.1:%d back after" % a.redis_port

    def all_back():
        return (log_count("mx1", back) >= 1 and log_count("tf", back) >= 1 and
                log_count("mx2", "unavailable") == log_count("mx2", back))
    while time.monotonic() - t_back < 35:
        par([lambda: send(MX1, "after"), lambda: send(TF, "after"), lambda: send(MX2, "after")])
        if all_back():
            break
        time.sleep(0.5)
    secs = time.monotonic() - t_back
    say("# outage: every milter reached Redis again %.1f s after it was back (MX1 and the tempfail "
          "milter each logged the end of their outage; MX2, idle during it, logged %d outage(s) of "
          "its own afterwards)" % (secs, log_count("mx2", "unavailable")))
    check_true("outage: every milter reached Redis again within the store's backoff (35 s)", all_back(),
               "after %.1f s: \"%s\" %d times in mx1.log, %d in tf.log; mx2.log: %d outages, %d ends" %
               (secs, back, log_count("mx1", back), log_count("tf", back),
                log_count("mx2", "unavailable"), log_count("mx2", back)))
    par([lambda: send(MX1, "back"), lambda: send(TF, "back")])
    mx1 = [r for r in results if r["server"] in (MX1, MX2)]
    tf = [r for r in results if r["server"] == TF]
    bad = [r for r in mx1 if r["outcome"] != "accepted"]
    check_true("outage: on_failure accept (MX1, MX2): every message accepted (%d, %d during the outage)" %
               (len(mx1), sum(1 for r in mx1 if r["phase"] == "during")), not bad,
               "; ".join("%s: %s" % (r["phase"], show(r)) for r in bad[:3]))
    lost = [r for r in mx1 if len(wait_copies(r["msgid"], 1)) != 1]
    check_true("outage: on_failure accept (MX1, MX2): nothing lost, every message delivered once", not lost,
               "%d not delivered exactly once" % len(lost))
    five = [r for r in results if r["outcome"] == "refused5" or r["outcome"] == "lost"]
    check_true("outage: never a 5xx, no session lost (%d sessions)" % len(results), not five,
               "; ".join(show(r) for r in five[:3]))
    during = [r for r in tf if r["phase"] == "during"]
    badtf = [r for r in during if reply_at(r, "rcpt") != STATE_TEMPFAIL]
    check_true("outage: on_failure tempfail (2526): RCPT TO during the outage: %s (%d messages)" %
               (STATE_TEMPFAIL, len(during)), not badtf, "; ".join(show(r) for r in badtf[:3]))
    for phase in ("before", "back"):
        x = [r for r in tf if r["phase"] == phase and r["outcome"] != "accepted"]
        check_true("outage: on_failure tempfail (2526): accepted %s the outage" % phase, not x,
                   "; ".join(show(r) for r in x[:3]))
    tfd = [r for r in tf if r["outcome"] == "accepted" and len(wait_copies(r["msgid"], 1)) != 1]
    check("outage: on_failure tempfail (2526): the accepted ones delivered once", len(tfd), 0)
    r = during[0] if during else None
    if r is not None:
        code, xcode, text = STATE_TEMPFAIL.split(" ", 2)
        check_record("outage: on_failure tempfail: JSON rcpt record (check state, reason "
                     "state_unavailable)", TF, "rcpt", r["sender"], r["rcpts"][0],
                     {"action": "tempfail", "check": "state", "reason": "state_unavailable",
                      "rule": "state.on_failure",
                      "reply": {"code": int(code), "xcode": xcode, "text": text}})
    # the end of the outage is logged with the count of the operations that failed:
    # at least one for each message a milter judged while Redis was down
    for name, srv in (("mx1", MX1), ("tf", TF)):
        got = [line for line in log_lines(name) if back in line]
        m_ = re.search(r"back after (\d+) s; (\d+) operations failed", got[-1]) if got else None
        nd = sum(1 for r in results if r["server"] == srv and r["phase"].startswith("during"))
        check_true("outage: %s logged the outage's end with its count of failed operations (at least "
                   "the %d messages judged during it)" % (name, nd),
                   m_ is not None and int(m_.group(2)) >= nd, "got %r" % (got[-1:] or None))
    # what the records say: on_failure accept lets the message through with state error
    for r in [r for r in mx1 if r["phase"] == "during"][:1]:
        check_record("outage: on_failure accept: JSON eom record, the rate limit's state error", MX1,
                     "eom", r["sender"], r["rcpts"][0], {"action": "accept"},
                     rl=[{"rule": "per-client", "key": "client_address", "value": r["client"],
                          "state": "error", "backend": "redis"}])
    for r in [r for r in results if r["phase"] == "during-grey"]:
        if r["server"] == MX1:
            check_true("outage: on_failure accept: greylisting fails open (MX1, a greylisted client's "
                       "first message accepted)", r["outcome"] == "accepted", show(r))
            check_record("outage: on_failure accept: JSON eom record, greylist state error", MX1, "eom",
                         r["sender"], r["rcpts"][0], {"action": "accept"},
                         {"state": "error", "backend": "redis"})
        else:
            check("outage: on_failure tempfail: greylisting's store failure (2526): RCPT TO",
                  reply_at(r, "rcpt"), STATE_TEMPFAIL)
    # the counters count again: a new client, six messages alternating MX1 and MX2
    rs = [smtp(rl_msg(MX1 if i % 2 == 0 else MX2, "198.51.100.77", "resume@pass.test",
                      "resume-%d@example.net" % i, "resume")) for i in range(6)]
    check("outage: counters resume after Redis returned: six messages (MX1, MX2, ...): RCPT TO",
          [(reply_at(r, "rcpt") or "")[:3] for r in rs[:5]] + [reply_at(rs[5], "rcpt")],
          ["250"] * 5 + [RATELIMIT])
    check("outage: Redis holds the new counter 5", redis_value("per-client", "198.51.100.77"), "5")


SLOW = 5  # seconds Redis stays slow (CLIENT PAUSE, DEBUG SLEEP)


def slow_case(how, limit, first, t_slow):
    """two messages (MX1: on_failure accept; 2526: tempfail) while Redis is slow
    (since t_slow, for SLOW seconds)"""
    msgs = [rl_msg(MX1, "198.51.100.%d" % first, "slow@pass.test", "slow-%d@example.net" % first, "slow"),
            rl_msg(TF, "198.51.100.%d" % (first + 1), "slow@pass.test", "slow-%d@example.net" % (first + 1),
                   "slow")]
    rs = run_all(msgs)
    say("# slow (%s): RCPT TO answered in %.2f s and %.2f s, %.2f s and %.2f s after Redis went slow" %
          (how, secs_at(rs[0], "rcpt") or -1, secs_at(rs[1], "rcpt") or -1,
           (when_at(rs[0], "rcpt") or t_slow) - t_slow, (when_at(rs[1], "rcpt") or t_slow) - t_slow))
    check_true("slow (%s): on_failure accept (MX1): RCPT TO 250 within %.1f s" % (how, limit),
               (reply_at(rs[0], "rcpt") or "")[:4] == "250 " and (secs_at(rs[0], "rcpt") or 99) < limit
               and rs[0]["outcome"] == "accepted", show(rs[0]))
    check_true("slow (%s): on_failure tempfail (2526): RCPT TO %s within %.1f s" % (how, STATE_TEMPFAIL, limit),
               reply_at(rs[1], "rcpt") == STATE_TEMPFAIL and (secs_at(rs[1], "rcpt") or 99) < limit, show(rs[1]))
    late = [(when_at(r, "rcpt") or 1e9) - t_slow for r in rs]
    check_true("slow (%s): both RCPT TO answered while Redis was still slow (%d s): never waited for it" %
               (how, SLOW), max(late) < SLOW - 0.1, "answered %.1f s and %.1f s after it went slow" % tuple(late))
    check("slow (%s): the accepted message delivered once" % how, len(wait_copies(rs[0]["msgid"], 1)), 1)


def cmd_slow(a):
    # every reply within eight times state.redis.command_timeout_ms (250 ms): each
    # store operation gives up after it, and an outage's backoff answers at once
    limit = 8 * CMD_TIMEOUT
    back = "state store redis 127.0.0.1:%d back after" % a.redis_port
    # CLIENT PAUSE: the server holds every client's commands
    t_slow = time.monotonic()
    check("slow: CLIENT PAUSE %d ALL" % (SLOW * 1000), redis("CLIENT", "PAUSE", str(SLOW * 1000), "ALL"), "OK")
    slow_case("CLIENT PAUSE", limit, 60, t_slow)
    time.sleep(max(0.0, t_slow + SLOW - time.monotonic()))
    # until both milters reach Redis again, then DEBUG SLEEP: the server itself
    # busy. A lone timed-out operation fails only itself; three in a row begin an
    # outage (its backoff). Reached again: no outage open (as many "back after"
    # lines as "unavailable" ones) and a probe counted: MX1's end-of-message record
    # with its rate-limit state "ok", 2526's (tempfail) RCPT TO answered 250.
    unav = "state store redis 127.0.0.1:%d unavailable" % a.redis_port

    def closed(n):
        return log_count(n, unav) == log_count(n, back)

    deadline = time.monotonic() + 15
    i = 0
    reached = {"mx1": False, "tf": False}
    while time.monotonic() < deadline and not all(reached.values()):
        i += 1
        rcpt = "probe-%d@example.net" % i
        rs = run_all([rl_msg(MX1, "198.51.100.%d" % (200 + i % 50), "probe@pass.test", rcpt, "probe"),
                      rl_msg(TF, "198.51.100.%d" % (200 + i % 50), "probe@pass.test", rcpt, "probe")])
        rec = record(MX1, "eom", "probe@pass.test", rcpt, secs=2) or {}
        rl = (rec.get("checks") or {}).get("ratelimit") or []
        if closed("mx1") and rl and all(e.get("state") == "ok" for e in rl):
            reached["mx1"] = True
        if closed("tf") and (reply_at(rs[1], "rcpt") or "")[:4] == "250 ":
            reached["tf"] = True
        if not all(reached.values()):
            time.sleep(0.5)
    check_true("slow: both milters reached Redis again after the pause", all(reached.values()),
               "still failing after 15 s: %s" % ", ".join(n for n in reached if not reached[n]))
    t_slow = time.monotonic()
    p = subprocess.Popen(["redis-cli", "-h", "127.0.0.1", "-p", str(a.redis_port), "DEBUG", "SLEEP", str(SLOW)],
                         stdout=subprocess.PIPE, stderr=subprocess.STDOUT)
    time.sleep(0.2)
    slow_case("DEBUG SLEEP", limit, 62, t_slow)
    out = p.communicate(timeout=20)[0].decode().strip()
    check("slow: DEBUG SLEEP %d answered" % SLOW, out, "OK")


def cmd_lmdb_fresh(a):
    tag = a.tag
    client = {"deleted": "192.0.2.16", "corrupted": "192.0.2.17"}[tag]
    _, later = first_attempt("lmdb %s at start: the new file works" % tag, LM, client,
                             "lmdb-%s@pass.test" % tag, "lmdb-%s@example.net" % tag, "lmdb")
    later()
    # what the old file knew is gone: the triplet passed before is new again
    sender, rcpt = "grey-f@pass.test", "grey-f@example.net"
    t = swaks(LM, "192.0.2.15", sender, rcpt, msgid("gl"))
    check("lmdb %s at start: the triplet passed before is new again" % tag, sw_reply(t, "rcpt"),
          GREYLISTED % (rcpt, DELAY))


def main():
    global A
    p = argparse.ArgumentParser(description="the state suite's client")
    p.add_argument("part", choices=["greylist", "greylist-restart", "ratelimit", "concurrent", "outage",
                                    "slow", "lmdb-fresh"])
    p.add_argument("--work", required=True)
    p.add_argument("--maildir", required=True)
    p.add_argument("--redis-port", type=int, required=True)
    p.add_argument("--json-dir", required=True)
    p.add_argument("--redis-sh")
    p.add_argument("--redis-dir")
    p.add_argument("--redis-args")
    p.add_argument("--tag")
    A = p.parse_args()
    {"greylist": cmd_greylist, "greylist-restart": cmd_greylist_restart, "ratelimit": cmd_ratelimit,
     "concurrent": cmd_concurrent, "outage": cmd_outage, "slow": cmd_slow,
     "lmdb-fresh": cmd_lmdb_fresh}[A.part](A)
    sys.exit(1 if FAILED else 0)


if __name__ == "__main__":
    main()
