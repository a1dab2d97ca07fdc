#!/usr/bin/env python3
# NAME
#	scenarios.py - milter-protocol scenarios that Postfix cannot produce
# SYNOPSIS
#	python3 tests/milter/scenarios.py --socket PATH --log FILE --label NAME
# DESCRIPTION
#	Talks to a running policy-milter (tests/milter/policy.conf, the .test
#	zones of tests/e2e served by nsd) as an MTA would, through
#	milterclient.py, and checks exact replies and header actions:
#	SMTP AUTH at MAIL, a connection without a client address, MAIL
#	without CONNECT or HELO, NUL / CR / LF / 8-bit bytes in every
#	argument, several Authentication-Results headers, two messages on one
#	connection with ABORT between, the queue id at MAIL or only at end
#	of message, a 1000-byte local part, 50 connections opened at once and
#	closed without a message. The macros: the negotiation reply asks for
#	exactly the lists the milter reads (none from an MTA that does not
#	offer SMFIF_SETSYMLIST); a Sendmail-style set (j, {daemon_name}=MTA,
#	{if_addr}, {i} from MAIL FROM on; an IPv6 {if_addr}; a wildcard
#	{daemon_addr}) and a Postfix-style one ({daemon_addr},
#	{daemon_name}=smtpd, {i} only from the second RCPT TO on, then only
#	at end of message for a second message) give the expected mta
#	object and queue id in every JSON record and syslog line. After
#	every scenario a plain message must still be accepted.
#
#	--log is the milter's stderr (-f): the queue-id and macro scenarios
#	read the decision lines from it; --json is its JSON decision log
#	(log.json_file), read by the macro scenarios.
# DIAGNOSTICS
#	One "ok - [LABEL] NAME" or "not ok - [LABEL] NAME: got X, want Y"
#	line per check. Exit 0 when all passed, 1 otherwise.
import argparse
import json
import os
import re
import socket
import sys
import time
import traceback

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from milterclient import (Milter, MilterError, OFFER_ACTIONS, OFFER_PROTOCOL,  # noqa: E402
                          SMFIP_HDR_LEADSPC, SMFIP_NR_HDR, SMFIP_NR_EOH, SMFIP_NR_BODY,
                          SMFIP_NODATA, SMFIP_NOUNKNOWN)

AR = "Authentication-Results"
AUTHSERV = "mx.example.org"
GOOD_IP = b"192.0.2.10"  # permitted by pass.test, helo-pass.test
TEXT_RE = re.compile(r"[245][0-9][0-9] [245]\.[0-9]{1,3}\.[0-9]{1,3} [ -~]*")
HEADER_RE = re.compile(r"[ -~]+(\n\t[ -~]+)*")

R_SPF_FAIL = ("550 5.7.23 SPF validation failed: fail.test does not permit 192.0.2.10 "
              "to send mail as %s")
R_SENDER = "501 5.1.7 Bad sender address syntax"
R_RCPT = "501 5.1.3 Bad recipient address syntax"
R_MANY = "452 4.5.3 Too many recipients"
R_INTERNAL = "451 4.3.0 Internal error; try again later"
R_NO_DOMAIN = "550 5.1.8 <%s>: Sender address rejected: Domain not found"
R_UNKNOWN = "550 5.1.1 <%s>: Recipient address rejected: User unknown"

SMFIF_SETSYMLIST = 0x100
# What the milter asks for, by SMFIM stage (0 connect, 2 MAIL, 3 RCPT, 5 end of message,
# 6 end of headers): exactly the macros it reads.
WANTED_MACROS = {0: "j {daemon_name} {daemon_addr} {if_addr}", 2: "i {auth_authen}", 3: "i",
                 5: "i", 6: "i"}
WANTED_PROTOCOL = (SMFIP_HDR_LEADSPC | SMFIP_NR_HDR | SMFIP_NR_EOH | SMFIP_NR_BODY | SMFIP_NODATA
                   | SMFIP_NOUNKNOWN)
DECISION_RE = re.compile(r"\]: info: (\S+): stage=(\S+) ")


class Failed(Exception):
    pass


class Runner:
    def __init__(self, sock, log, label, json_log=None):
        self.sock = sock
        self.log = log
        self.json_log = json_log
        self.label = label
        self.passed = 0
        self.failed = 0

    def result(self, name, problems):
        if problems:
            self.failed += 1
            print("not ok - [%s] %s: %s" % (self.label, name, "; ".join(problems)))
        else:
            self.passed += 1
            print("ok - [%s] %s" % (self.label, name))
        sys.stdout.flush()

    def run(self, name, fn):
        """run scenario fn(check) then the plain message; one result line for both"""
        problems = []

        def check(what, got, want):
            if got != want:
                problems.append("%s: got %r, want %r" % (what, got, want))

        try:
            fn(check)
        except (MilterError, OSError, Failed) as e:
            problems.append("%s: %s" % (type(e).__name__, e))
        except Exception:
            problems.append("exception: " + traceback.format_exc().replace("\n", " | "))
        try:
            p = plain_message(self.sock)
            if p:
                problems.append("plain message afterwards: " + p)
        except (MilterError, OSError) as e:
            problems.append("plain message afterwards: %s: %s" % (type(e).__name__, e))
        self.result(name, problems)

    def log_lines(self):
        time.sleep(0.2)
        with open(self.log, "rb") as f:
            return f.read().decode("latin-1").splitlines()

    def json_records(self):
        """every record of the JSON decision log (queued before the reply was sent and written
        by the daemon's writer thread right after: read it after log_lines' pause)"""
        if not self.json_log:
            raise Failed("no --json: the JSON decision log is not known")
        with open(self.json_log, "rb") as f:
            return [json.loads(line) for line in f.read().decode("utf-8").splitlines()]

    def decisions(self, host):
        """(JSON records, syslog lines) of the sessions whose MTA host name (j) is host"""
        lines = [ln for ln in self.log_lines() if (" mta=%s " % host) in ln]
        recs = [r for r in self.json_records() if (r.get("mta") or {}).get("host") == host]
        return recs, lines


# ---- helpers ----------------------------------------------------------------
def sc_no_leadspc(sock):
    """an MTA that does not offer SMFIP_HDR_LEADSPC: our header value has no leading space"""
    def fn(check):
        m = session(sock, protocol=OFFER_PROTOCOL & ~SMFIP_HDR_LEADSPC)
        check("mail", m.mail([b"<alice@pass.test>"]).code(), "continue")
        check("rcpt", m.rcpt([b"<bob@example.org>"]).code(), "continue")
        r = message_body(m)
        check("eom actions", r.actions, [("insheader", 0, AR, ar_pass()[1:])])
        m.quit()
    return fn



def session(sock, helo=b"helo-pass.test", ip=GOOD_IP, family="4", name=b"client10.test",
            protocol=None):
    """a connection that got through CONNECT and HELO with "continue" (or raises)"""
    m = Milter(sock)
    if protocol is None:
        m.optneg()
    else:
        m.optneg(protocol=protocol)
    r = m.connect(name, family, 25, ip, macros={"j": "mx.example.org", "{daemon_name}": "smtpd"})
    if r is not None and r.kind != "c":
        raise Failed("connect: got %r, want continue" % r)
    r = m.helo(helo)
    if r is not None and r.kind != "c":
        raise Failed("helo: got %r, want continue" % r)
    return m


def message_body(m, headers=((b"Subject", b"test"),), body=b"Hello.\r\n"):
    """headers, EOH, body, end of message; returns the final Reply"""
    for name, value in headers:
        r = m.header(name, value)
        if r is not None and r.kind != "c":
            raise Failed("header %r: got %r, want continue" % (name, r))
    r = m.eoh()
    if r is not None and r.kind != "c":
        raise Failed("eoh: got %r, want continue" % r)
    r = m.body(body)
    if r is not None and r.kind != "c":
        raise Failed("body: got %r, want continue" % r)
    return m.eom()


def ar_pass(sender="alice@pass.test", helo="helo-pass.test"):
    """our header for an SPF pass from GOOD_IP (the client negotiates
    SMFIP_HDR_LEADSPC, so the value we add starts with its space); the ARC
    verifier ran (arc.mode is its default tag) and found no ARC field: arc=none"""
    return (" %s;\n\tspf=pass (%s designates %s as permitted sender)\n\tsmtp.mailfrom=%s;"
            " spf=pass smtp.helo=%s; arc=none" % (AUTHSERV, sender.split("@")[1],
                                                    GOOD_IP.decode(), sender, helo))


def plain_message(sock):
    """one ordinary accepted message; "" when all is well, else what went wrong"""
    m = session(sock)
    try:
        r = m.mail([b"<alice@pass.test>"], macros={"i": "PLAIN1"})
        if r.code() != "continue":
            return "mail: got %r" % r
        r = m.rcpt([b"<bob@example.org>"])
        if r.code() != "continue":
            return "rcpt: got %r" % r
        r = message_body(m)
        want = [("insheader", 0, AR, ar_pass())]
        if r.kind != "c" or r.actions != want:
            return "eom: got %r, want continue %r" % (r, want)
        return ""
    finally:
        m.quit()


def printable_reply(check, what, r):
    """r is continue, or a reply code with a one-line printable text"""
    if r is None:
        check(what + " reply", None, "a reply")
        return
    if r.kind == "c":
        return
    if r.kind != "y":
        check(what + " reply kind", r.kind, "c or y")
    elif not TEXT_RE.fullmatch(r.text):
        check(what + " reply text printable 'NNN X.Y.Z text'", r.text, "printable")


def printable_actions(check, what, r):
    for a in r.actions:
        if a[0] in ("insheader", "addheader", "chgheader"):
            value = a[-1]
            if a[0] == "chgheader" and value == "":
                continue
            if not HEADER_RE.fullmatch(value):
                check(what + " header value printable ASCII", value, "printable")


# ---- scenarios --------------------------------------------------------------
def sc_auth(sock):
    def fn(check):
        # without AUTH, fail.test refuses 192.0.2.10
        m = session(sock, helo=b"client10.test")
        r = m.mail([b"<alice@fail.test>"])
        check("mail without auth", r.code(), R_SPF_FAIL % "alice@fail.test")
        m.abort()
        m.quit()
        # with AUTH: neither the HELO (helo-fail.test) nor MAIL FROM is checked
        m = session(sock, helo=b"helo-fail.test")
        r = m.mail([b"<alice@fail.test>"], macros={"{auth_authen}": "alice",
                                                   "{auth_type}": "PLAIN"})
        check("mail with auth", r.code(), "continue")
        r = m.rcpt([b"<bob@example.org>"])
        check("rcpt", r.code(), "continue")
        r = message_body(m)
        check("eom", r.code(), "continue")
        check("eom actions", r.actions,
              [("insheader", 0, AR, " %s; auth=pass smtp.auth=alice" % AUTHSERV)])
        m.quit()
    return fn


def sc_auth_sender_domain(sock):
    def fn(check):
        # without AUTH: nonexistent.test does not exist (the sender in the reply escaped)
        m = session(sock, helo=b"client10.test")
        r = m.mail([b"<al\xc3\xa9@nonexistent.test>"])
        check("mail without auth", r.code(), R_NO_DOMAIN % "al\\xc3\\xa9@nonexistent.test")
        m.abort()
        m.quit()
        # with AUTH the sender domain is not checked
        m = session(sock, helo=b"client10.test")
        r = m.mail([b"<alice@nonexistent.test>"], macros={"{auth_authen}": "alice"})
        check("mail with auth", r.code(), "continue")
        r = m.rcpt([b"<bob@example.org>"])
        check("rcpt", r.code(), "continue")
        r = message_body(m)
        check("eom", r.code(), "continue")
        m.quit()
    return fn


def sc_no_address(family, address):
    def fn(check):
        m = Milter(sock_path)
        m.optneg()
        r = m.connect(b"localhost", family, 0, address)
        check("connect", r.code(), "continue")
        r = m.helo(b"helo-fail.test")
        check("helo", r.code(), "continue")
        r = m.mail([b"<alice@fail.test>"])
        check("mail (SPF would fail, local client)", r.code(), "continue")
        r = m.rcpt([b"<bob@example.org>"])
        check("rcpt", r.code(), "continue")
        r = message_body(m)
        check("eom", r.code(), "continue")
        check("eom actions", r.actions, [(
            "insheader", 0, AR, " %s; none (client in trusted network local)" % AUTHSERV)])
        m.quit()
    return fn


def sc_ipv6(sock):
    def fn(check):
        m = Milter(sock)
        m.optneg()
        r = m.connect(b"blocked.test", "6", 25, b"::ffff:203.0.113.5")
        check("connect from IPv4-mapped blocked address", r.code(),
              "554 5.7.1 Client host 203.0.113.5 blocked by local policy")
        m.quit()
        m = session(sock, family="6", ip=b"::ffff:203.0.113.200", helo=b"trusted.test")
        r = m.mail([b"<alice@fail.test>"])
        check("mail from IPv4-mapped trusted address", r.code(), "continue")
        r = m.rcpt([b"<bob@example.org>"])
        r = message_body(m)
        check("eom actions", r.actions, [("insheader", 0, AR, " %s;\n\tnone (client in trusted "
                                          "network 203.0.113.128/25)" % AUTHSERV)])
        m.quit()
        m = session(sock, family="6", ip=b"2001:db8::10", helo=b"helo-pass.test")
        r = m.mail([b"<alice@pass.test>"])
        check("mail from 2001:db8::10", r.code(), "continue")
        r = m.rcpt([b"<bob@example.org>"])
        r = message_body(m)
        check("eom actions", r.actions, [("insheader", 0, AR, ar_pass().replace(
            "192.0.2.10", "2001:db8::10"))])
        m.quit()
    return fn


def sc_bad_address(sock):
    def fn(check):
        # libmilter refuses an unparsable address and drops the connection
        for fam, addr in (("4", b"999.1.1.1"), ("6", b"zz::1::2"), ("4", b"")):
            m = Milter(sock, timeout=10)
            m.optneg()
            try:
                r = m.connect(b"bad.test", fam, 25, addr)
                if r.kind == "c":
                    r = m.helo(b"helo-pass.test")
                    r = m.mail([b"<alice@fail.test>"])
                    check("mail after unparsable address %r" % addr, r.code() == "continue",
                          False)
            except MilterError:
                pass  # closed by libmilter: defined too
            m.close()
    return fn


def sc_quit_nc(sock):
    def fn(check):
        # Sendmail reuses a filter connection: QUIT_NC, then a new SMTP session
        m = session(sock, helo=b"helo-fail.test")
        r = m.mail([b"<alice@fail.test>"], macros={"{auth_authen}": "alice"})
        check("session 1 mail with auth", r.code(), "continue")
        r = m.rcpt([b"<bob@example.org>"])
        r = message_body(m)
        check("session 1 eom actions", r.actions,
              [("insheader", 0, AR, " %s; auth=pass smtp.auth=alice" % AUTHSERV)])
        m.send("K")
        r = m.connect(b"client10.test", "4", 25, GOOD_IP)
        check("session 2 connect", r.code(), "continue")
        r = m.helo(b"client10.test")
        check("session 2 helo", r.code(), "continue")
        r = m.mail([b"<alice@fail.test>"])
        check("session 2 mail without auth (not inherited)", r.code(),
              R_SPF_FAIL % "alice@fail.test")
        m.abort()
        # what was negotiated once holds for the reused connection
        r = m.mail([b"<alice@pass.test>"])
        check("session 2 mail", r.code(), "continue")
        m.rcpt([b"<bob@example.org>"])
        r = message_body(m)
        check("session 2 header added with its leading space (SMFIP_HDR_LEADSPC kept)",
              [a[3][:1] for a in r.actions if a[0] == "insheader"], [" "])
        m.quit()
    return fn


def sc_mail_first(sock):
    def fn(check):
        m = Milter(sock)
        m.optneg()
        r = m.mail([b"<alice@pass.test>"])
        check("mail without connect/helo", r.code(), R_INTERNAL)
        m.abort()
        m.quit()
    return fn


def sc_helo_bytes(sock, helo, sender=b"<alice@pass.test>"):
    def fn(check):
        m = session(sock, helo=helo)
        r = m.mail([sender])
        printable_reply(check, "mail", r)
        if r is not None and r.kind == "c":
            r = m.rcpt([b"<bob@example.org>"])
            check("rcpt", r.code(), "continue")
            r = message_body(m)
            check("eom", r.code(), "continue")
            printable_actions(check, "eom", r)
            check("eom actions", [a[0] for a in r.actions], ["insheader"])
        else:
            m.abort()
        m.quit()
    return fn


def sc_mail_bytes(sock, sender, want):
    def fn(check):
        m = session(sock, helo=b"client10.test")
        r = m.mail([sender])
        check("mail", r.code(), want)
        printable_reply(check, "mail", r)
        m.abort()
        m.quit()
    return fn


def sc_rcpt_bytes(sock, rcpt, want):
    def fn(check):
        m = session(sock)
        r = m.mail([b"<alice@pass.test>"])
        check("mail", r.code(), "continue")
        r = m.rcpt([rcpt])
        check("rcpt", r.code(), want)
        printable_reply(check, "rcpt", r)
        r = m.rcpt([b"<bob@example.org>"])
        check("good rcpt after it", r.code(), "continue")
        r = message_body(m)
        check("eom", r.code(), "continue")
        check("eom actions", r.actions, [("insheader", 0, AR, ar_pass())])
        m.quit()
    return fn


def sc_header_bytes(sock, headers, want_deleted):
    def fn(check):
        m = session(sock)
        r = m.mail([b"<alice@pass.test>"])
        check("mail", r.code(), "continue")
        r = m.rcpt([b"<bob@example.org>"])
        check("rcpt", r.code(), "continue")
        r = message_body(m, headers=headers, body=b"8-bit \xff\x00 body\r\n")
        check("eom", r.code(), "continue")
        printable_actions(check, "eom", r)
        want = [("chgheader", i, AR, "") for i in want_deleted]
        want.append(("insheader", 0, AR, ar_pass()))
        check("eom actions", r.actions, want)
        m.quit()
    return fn


def sc_auth_bytes(sock, user):
    def fn(check):
        m = session(sock)
        r = m.mail([b"<alice@fail.test>"], macros={"{auth_authen}": user})
        check("mail", r.code(), "continue")
        r = m.rcpt([b"<bob@example.org>"])
        check("rcpt", r.code(), "continue")
        r = message_body(m)
        check("eom", r.code(), "continue")
        printable_actions(check, "eom", r)
        check("eom actions", [a[0] for a in r.actions], ["insheader"])
        if r.actions and not r.actions[0][3].startswith(" " + AUTHSERV + ";\n\tauth=pass smtp.auth="):
            check("A-R", r.actions[0][3], "auth=pass smtp.auth=...")
        m.quit()
    return fn


def sc_several_ar(sock):
    def fn(check):
        headers = [
            (b"Authentication-Results", b"mx.example.org; spf=pass smtp.mailfrom=forged1@x.test"),
            (b"Received", b"from somewhere"),
            (b"Authentication-Results", b"other.example; spf=pass smtp.mailfrom=kept@x.test"),
            (b"authentication-results", b"MX.Example.ORG; dkim=pass header.d=forged2.test"),
            (b"Subject", b"several"),
        ]
        fn2 = sc_header_bytes(sock, headers, [3, 1])
        fn2(check)
    return fn


def sc_many_ar(sock, n=100):
    def fn(check):
        headers = []
        for i in range(n):
            if i % 2 == 0:
                headers.append((b"Authentication-Results", b"mx.example.org; spf=pass x=%d" % i))
            else:
                headers.append((b"Authentication-Results", b"other.example; spf=pass x=%d" % i))
        # ours are the odd positions 1, 3, ..., 2n-1 among n headers; deleted highest first
        fn2 = sc_header_bytes(sock, headers, list(range(n - 1, 0, -2)))
        fn2(check)
    return fn


def sc_abort_between(sock):
    def fn(check):
        m = session(sock)
        r = m.mail([b"<alice@pass.test>"])
        check("msg1 mail", r.code(), "continue")
        for rc in (b"<bob@example.org>", b"<carol@example.org>"):
            r = m.rcpt([rc])
            check("msg1 rcpt %s" % rc.decode(), r.code(), "continue")
        r = m.rcpt([b"<dave@example.org>"])
        check("msg1 third rcpt (max_recipients 2)", r.code(), R_MANY)
        r = m.header(b"Authentication-Results", b"mx.example.org; spf=pass")
        m.abort()
        # second message: counts and the forged header are forgotten
        r = m.mail([b"<carol@pass.test>"])
        check("msg2 mail", r.code(), "continue")
        for rc in (b"<bob@example.org>", b"<carol@example.org>"):
            r = m.rcpt([rc])
            check("msg2 rcpt %s" % rc.decode(), r.code(), "continue")
        r = message_body(m)
        check("msg2 eom", r.code(), "continue")
        check("msg2 eom actions", r.actions,
              [("insheader", 0, AR, ar_pass("carol@pass.test"))])
        # third message after a refused one: judged alone
        r = m.mail([b"<alice@fail.test>"])
        check("msg3 mail", r.code(), R_SPF_FAIL % "alice@fail.test")
        m.abort()
        r = m.mail([b"<dave@pass.test>"])
        check("msg4 mail", r.code(), "continue")
        r = m.rcpt([b"<erin@example.org>"])
        check("msg4 rcpt", r.code(), "continue")
        r = message_body(m)
        check("msg4 eom actions", r.actions,
              [("insheader", 0, AR, ar_pass("dave@pass.test"))])
        m.quit()
    return fn


def sc_queue_id(runner, at_mail):
    sock = runner.sock

    def fn(check):
        tag = "QIDMAIL%d" % os.getpid() if at_mail else "QIDEOM%d" % os.getpid()
        m = session(sock)
        r = m.mail([b"<alice@pass.test>"], macros={"i": tag} if at_mail else None)
        check("mail", r.code(), "continue")
        r = m.rcpt([b"<nobody-here@example.org>"])
        check("unknown rcpt", r.code(),
              "550 5.1.1 <nobody-here@example.org>: Recipient address rejected: User unknown")
        r = m.rcpt([b"<bob@example.org>"])
        check("rcpt", r.code(), "continue")
        for name, value in ((b"Subject", b"qid"),):
            m.header(name, value)
        m.eoh()
        m.body(b"x\r\n")
        r = m.eom(macros=None if at_mail else {"i": tag})
        check("eom", r.code(), "continue")
        m.quit()
        lines = runner.log_lines()
        eom = [ln for ln in lines if (tag + ": stage=eom") in ln]
        check("log lines '%s: stage=eom'" % tag, len(eom), 1)
        if eom and "action=accept" not in eom[0]:
            check("eom line", eom[0], "action=accept")
        want_rcpt = tag if at_mail else "NOQUEUE"
        rl = [ln for ln in lines if "rcpt=<nobody-here@example.org>" in ln
              and (want_rcpt + ": stage=rcpt") in ln]
        if at_mail:
            check("rcpt refusal logged with %s" % want_rcpt, len(rl), 1)
        else:
            # the queue id is not known yet at RCPT: NOQUEUE (only this scenario's line is new)
            check("rcpt refusal logged with NOQUEUE (some line)", len(rl) >= 1, True)
    return fn


def sc_negotiate_macros(sock):
    def fn(check):
        m = Milter(sock)
        m.optneg()
        check("actions: SMFIF_SETSYMLIST", m.aflags & SMFIF_SETSYMLIST, SMFIF_SETSYMLIST)
        check("macro lists asked for", m.macro_lists(), WANTED_MACROS)
        # no reply wanted to headers, end of headers and body chunks; no DATA, no unknown
        # commands; header values with their leading space
        check("protocol steps asked for", hex(m.pflags), hex(WANTED_PROTOCOL))
        m.quit()
        # an MTA offering only some of them gets only those, and still gets every answer
        m = Milter(sock)
        m.optneg(protocol=SMFIP_HDR_LEADSPC | SMFIP_NR_HDR)
        check("MTA offering LEADSPC and NR_HDR only", hex(m.pflags),
              hex(SMFIP_HDR_LEADSPC | SMFIP_NR_HDR))
        r = m.connect(b"client10.test", "4", 25, GOOD_IP)
        m.helo(b"helo-pass.test")
        m.mail([b"<alice@pass.test>"])
        m.rcpt([b"<bob@example.org>"])
        r = message_body(m)
        check("MTA offering LEADSPC and NR_HDR only: eom", (r.kind, r.actions),
              ("c", [("insheader", 0, AR, ar_pass())]))
        m.quit()
        # an MTA that does not let a filter choose (before Sendmail 8.14, Postfix 2.5):
        # no lists, no action it did not offer, and mail goes through as ever
        m = Milter(sock)
        m.optneg(actions=OFFER_ACTIONS & ~SMFIF_SETSYMLIST)
        check("old MTA: actions", m.aflags & ~(OFFER_ACTIONS & ~SMFIF_SETSYMLIST), 0)
        check("old MTA: no macro lists", m.macro_lists(), {})
        r = m.connect(b"client10.test", "4", 25, GOOD_IP)
        check("old MTA: connect", r.code(), "continue")
        r = m.helo(b"helo-pass.test")
        check("old MTA: helo", r.code(), "continue")
        r = m.mail([b"<alice@pass.test>"])
        check("old MTA: mail", r.code(), "continue")
        r = m.rcpt([b"<bob@example.org>"])
        check("old MTA: rcpt", r.code(), "continue")
        r = message_body(m)
        check("old MTA: eom", (r.kind, r.actions), ("c", [("insheader", 0, AR, ar_pass())]))
        m.quit()
    return fn


def check_decisions(check, runner, host, want_mta, want_logged, fragment):
    """the JSON records and syslog lines of host's sessions: (stage, queue id, action) each,
    the mta object in every record, fragment (the syslog form of it) in every line"""
    recs, lines = runner.decisions(host)
    check("JSON records (stage, queue_id, action)",
          [(r["stage"], r["queue_id"], r["action"]) for r in recs], want_logged)
    check("JSON mta objects", [r["mta"] for r in recs], [want_mta] * len(want_logged))
    check("JSON: mta right after client", [list(r)[4:6] for r in recs],
          [["client", "mta"]] * len(want_logged))
    got = []
    for ln in lines:
        d = DECISION_RE.search(ln)
        got.append((d.group(2), None if d.group(1) == "NOQUEUE" else d.group(1)) if d else ln)
    check("syslog lines (stage, queue id)", got, [(st, q) for st, q, _ in want_logged])
    check("syslog lines with '%s'" % fragment, sum(fragment in ln for ln in lines),
          len(want_logged))


def sc_sendmail_macros(runner):
    sock = runner.sock

    def fn(check):
        pid = os.getpid()
        host, qid = "mx-sm%d.example.org" % pid, "5ATSM%dQ" % pid
        # Sendmail: j, {daemon_name} = the DaemonPortOptions Name (MTA), {if_addr}; {i} from
        # MAIL FROM on (with the other macros it sends)
        m = Milter(sock)
        m.optneg()
        r = m.connect(b"client10.test", "4", 25, GOOD_IP,
                      macros={"j": host, "{daemon_name}": "MTA", "{if_addr}": "192.0.2.25",
                              "{if_name}": "mx.example.org", "_": "client10.test [192.0.2.10]"})
        check("connect", r.code(), "continue")
        check("helo", m.helo(b"helo-pass.test").code(), "continue")
        r = m.mail([b"<alice@pass.test>"], macros={"i": qid, "{mail_mailer}": "esmtp",
                                                   "{mail_addr}": "alice@pass.test"})
        check("mail", r.code(), "continue")
        r = m.rcpt([b"<nobody-sm@example.org>"], macros={"i": qid, "{rcpt_mailer}": "local"})
        check("unknown rcpt", r.code(), R_UNKNOWN % "nobody-sm@example.org")
        r = m.rcpt([b"<bob@example.org>"], macros={"i": qid, "{rcpt_mailer}": "local"})
        check("rcpt", r.code(), "continue")
        r = message_body(m)
        check("eom", r.code(), "continue")
        m.quit()
        check_decisions(check, runner, host, {"host": host, "daemon": "MTA",
                                              "local_addr": "192.0.2.25"},
                        [("rcpt", qid, "reject"), ("eom", qid, "accept")],
                        "client_name=client10.test mta=%s daemon=MTA local=192.0.2.25 "
                        "helo=helo-pass.test " % host)

        # an IPv6 interface: Sendmail writes {if_addr} as "IPv6:..."; logged in canonical form
        host6 = "mx-sm6-%d.example.org" % pid
        m = Milter(sock)
        m.optneg()
        r = m.connect(b"client10.test", "6", 25, b"2001:db8::10",
                      macros={"j": host6, "{daemon_name}": "MTA-v6",
                              "{if_addr}": "IPv6:2001:DB8:0::25"})
        check("v6 connect", r.code(), "continue")
        m.helo(b"helo-pass.test")
        check("v6 mail", m.mail([b"<alice@pass.test>"], macros={"i": qid + "6"}).code(),
              "continue")
        check("v6 unknown rcpt", m.rcpt([b"<nobody-sm6@example.org>"]).code(),
              R_UNKNOWN % "nobody-sm6@example.org")
        m.abort()
        m.quit()
        check_decisions(check, runner, host6, {"host": host6, "daemon": "MTA-v6",
                                               "local_addr": "2001:db8::25"},
                        [("rcpt", qid + "6", "reject")],
                        " mta=%s daemon=MTA-v6 local=2001:db8::25 helo=" % host6)

        # loopback: Sendmail sends no {if_addr}; its {daemon_addr} is the address it listens
        # on (a wildcard), which says nothing; an empty {daemon_name} is no name
        hostlo = "mx-smlo-%d.example.org" % pid
        m = Milter(sock)
        m.optneg()
        r = m.connect(b"client10.test", "4", 25, GOOD_IP,
                      macros={"j": hostlo, "{daemon_name}": "", "{daemon_addr}": "0.0.0.0"})
        check("lo connect", r.code(), "continue")
        m.helo(b"helo-pass.test")
        check("lo mail", m.mail([b"<alice@pass.test>"], macros={"i": qid + "L"}).code(),
              "continue")
        check("lo unknown rcpt", m.rcpt([b"<nobody-smlo@example.org>"]).code(),
              R_UNKNOWN % "nobody-smlo@example.org")
        m.abort()
        m.quit()
        check_decisions(check, runner, hostlo, {"host": hostlo, "daemon": None,
                                                "local_addr": None},
                        [("rcpt", qid + "L", "reject")],
                        " mta=%s helo=helo-pass.test " % hostlo)
    return fn


def sc_postfix_macros(runner):
    sock = runner.sock

    def fn(check):
        pid = os.getpid()
        host = "mx-pf%d.example.org" % pid
        qid1, qid2 = "4F%06XA" % pid, "4F%06XB" % pid
        # Postfix: j, {daemon_name} (milter_macro_daemon_name), {daemon_addr}; no {i} until
        # the queue file is opened at the first accepted recipient
        m = Milter(sock)
        m.optneg()
        r = m.connect(b"client10.test", "4", 25, GOOD_IP,
                      macros={"j": host, "{daemon_name}": "smtpd",
                              "{daemon_addr}": "198.51.100.25", "{daemon_port}": "25",
                              "v": "Postfix 3.7.11"})
        check("connect", r.code(), "continue")
        check("helo", m.helo(b"helo-pass.test").code(), "continue")
        check("mail", m.mail([b"<alice@pass.test>"]).code(), "continue")
        check("unknown rcpt before any {i}", m.rcpt([b"<nobody-pf1@example.org>"]).code(),
              R_UNKNOWN % "nobody-pf1@example.org")
        check("rcpt", m.rcpt([b"<bob@example.org>"]).code(), "continue")
        r = m.rcpt([b"<nobody-pf2@example.org>"], macros={"i": qid1})
        check("unknown rcpt with {i}", r.code(), R_UNKNOWN % "nobody-pf2@example.org")
        m.header(b"Subject", b"postfix macros")
        m.eoh(macros={"i": qid1})
        m.body(b"x\r\n")
        check("eom", m.eom(macros={"i": qid1}).code(), "continue")
        # a second message on the connection: {i} only at end of message; the first
        # message's queue id is never reused
        check("mail 2", m.mail([b"<carol@pass.test>"]).code(), "continue")
        check("rcpt 2", m.rcpt([b"<bob@example.org>"]).code(), "continue")
        check("unknown rcpt 2", m.rcpt([b"<nobody-pf3@example.org>"]).code(),
              R_UNKNOWN % "nobody-pf3@example.org")
        m.header(b"Subject", b"postfix macros 2")
        m.eoh()
        m.body(b"x\r\n")
        check("eom 2", m.eom(macros={"i": qid2}).code(), "continue")
        m.quit()
        check_decisions(check, runner, host, {"host": host, "daemon": "smtpd",
                                              "local_addr": "198.51.100.25"},
                        [("rcpt", None, "reject"), ("rcpt", qid1, "reject"),
                         ("eom", qid1, "accept"), ("rcpt", None, "reject"),
                         ("eom", qid2, "accept")],
                        "client_name=client10.test mta=%s daemon=smtpd local=198.51.100.25 "
                        "helo=helo-pass.test " % host)
    return fn


def sc_long_local(sock):
    def fn(check):
        m = session(sock, helo=b"client10.test")
        r = m.mail([b"<" + b"a" * 1000 + b"@pass.test>"])
        check("mail, 1000-byte local part", r.code(), R_SENDER)
        m.abort()
        r = m.mail([b"<" + b"a" * 200 + b"@fail.test>"])
        # the identity is capped ("..."): only the start is exact
        want = R_SPF_FAIL % ("a" * 100)
        check("mail, 200-byte local part, SPF fail", r.code()[:len(want)], want)
        printable_reply(check, "mail, 200-byte local part", r)
        m.abort()
        r = m.mail([b"<alice@pass.test>", b"SIZE=100", b"BODY=8BITMIME"])
        check("mail with ESMTP args", r.code(), "continue")
        r = m.rcpt([b"<" + b"b" * 1000 + b"@example.org>"])
        check("rcpt, 1000-byte local part", r.code(), R_RCPT)
        r = m.rcpt([b"<bob@" + b"x" * 1000 + b".example.org>"])
        check("rcpt, 1000-byte domain", r.code(), R_RCPT)
        m.abort()
        m.quit()
        # a 1000-byte HELO name
        m = session(sock, helo=b"h" * 1000 + b".test")
        r = m.mail([b"<alice@pass.test>"])
        printable_reply(check, "mail after 1000-byte HELO", r)
        m.abort()
        m.quit()
    return fn


def sc_many(sock, n=50):
    def fn(check):
        conns = []
        try:
            for i in range(n):
                m = Milter(sock)
                conns.append(m)
            for i, m in enumerate(conns):
                m.optneg()
                if i % 2 == 1:
                    ip = ("192.0.2.%d" % (100 + i)).encode()
                    r = m.connect(b"client.test", "4", 1000 + i, ip)
                    check("connect %d" % i, r.code(), "continue")
                if i % 4 == 3:
                    r = m.helo(b"helo-pass.test")
                    check("helo %d" % i, r.code(), "continue")
        finally:
            for i, m in enumerate(conns):
                if i % 3 == 0:
                    m.quit()
                else:
                    m.close()
        time.sleep(0.5)
    return fn


HOSTILE = b"\x1b[31m\x1b]0;pwn\x07\r\n\x00\xff\xc3"  # ANSI colour and title, CR LF, NUL, bad 8-bit


def sc_hostile_everywhere(R):
    """CR, LF, NUL, ANSI escapes and 8-bit bytes in the HELO name, the client
    name, the sender, a recipient, the SMTP AUTH user, the From and other
    headers: every reply text and header value we send is printable, and so
    is every line of our logs (checked at the end for the whole run)"""
    def fn(check):
        m = Milter(R.sock)
        m.optneg()
        # (a NUL inside the connect packet's host name breaks the packet: libmilter
        # drops the connection, as sc_bad_address shows for addresses; MTAs never send one)
        r = m.connect(b"evil" + HOSTILE.replace(b"\x00", b"") + b".test", "4", 25, GOOD_IP)
        check("connect", r.code(), "continue")
        r = m.helo(b"helo" + HOSTILE + b".test")
        printable_reply(check, "helo", r)
        r = m.mail([b"<ev" + HOSTILE + b"il@fail.test>"])
        check("mail (bad sender syntax)", r.code(), R_SENDER)
        printable_reply(check, "mail", r)
        m.abort()
        # (no NUL in a macro value: the MTA builds macro packets from C strings, and
        # libmilter 8.17's smfi_getsymval reads past a packet with an odd number of
        # strings and crashes the filter: nothing a filter can guard against)
        r = m.mail([b"<alice@fail.test>"],
                   macros={"{auth_authen}": "al" + HOSTILE.replace(b"\x00", b"").decode("latin-1")})
        check("mail (authenticated)", r.code(), "continue")
        r = m.rcpt([b"<b" + HOSTILE + b"ob@example.org>"])
        check("rcpt (bad syntax)", r.code(), R_RCPT)
        printable_reply(check, "rcpt", r)
        r = m.rcpt([b"<bob@example.org>"])
        check("rcpt", r.code(), "continue")
        r = message_body(m, headers=((b"From", b"\"Ev" + HOSTILE + b"\" <x@ev" + HOSTILE + b"il.test>"),
                                     (b"Subject", HOSTILE)), body=HOSTILE + b"\r\n")
        printable_actions(check, "eom", r)
        m.quit()
    return fn


def sc_logs_printable(R):
    """every line the milter logged in this run (stderr) is printable ASCII,
    and every JSON record parses with no raw control character"""
    def fn(check):
        lines = R.log_lines()
        bad = [l for l in lines if re.search(r"[^\x20-\x7e]", l)]
        check("log lines with a control or 8-bit byte", bad[:2], [])
        # a raw LF in a value would start a line of its own, without the time stamp
        cut = [l[:80] for l in lines if not re.match(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d", l)]
        check("log lines not starting with a time stamp", cut[:2], [])
        if R.json_log:
            with open(R.json_log, "rb") as f:
                raw = f.read()
            lines = raw.split(b"\n")
            check("JSON log ends with a newline", raw[-1:], b"\n")
            badj = [l[:80] for l in lines[:-1] if re.search(rb"[\x00-\x1f\x7f]", l)]
            check("JSON lines with a raw control byte", badj[:2], [])
            for l in lines[:-1]:
                json.loads(l)  # raises on a malformed record
    return fn


def main():
    global sock_path
    ap = argparse.ArgumentParser()
    ap.add_argument("--socket", required=True)
    ap.add_argument("--log", required=True)
    ap.add_argument("--label", default="milter")
    ap.add_argument("--json", default=None)
    a = ap.parse_args()
    sock_path = a.socket
    s = a.socket
    R = Runner(s, a.log, a.label, a.json)

    R.run("plain message accepted with Authentication-Results", lambda check: None)
    R.run("MTA without SMFIP_HDR_LEADSPC: header value without leading space",
          sc_no_leadspc(s))
    R.run("{auth_authen} at MAIL: SPF skipped for a failing domain, A-R auth=pass smtp.auth",
          sc_auth(s))
    R.run("{auth_authen} at MAIL: nonexistent sender domain not checked (550 5.1.8 without)",
          sc_auth_sender_domain(s))
    R.run("no client address (SMFIA_UNKNOWN): local, trusted", sc_no_address("U", b""))
    R.run("unix-socket client (SMFIA_UNIX): local, trusted",
          sc_no_address("L", b"/var/run/client.sock"))
    R.run("IPv6 and IPv4-mapped client addresses", sc_ipv6(s))
    R.run("unparsable client address: defined (libmilter drops it)", sc_bad_address(s))
    R.run("QUIT_NC then a new session on the same connection: nothing inherited",
          sc_quit_nc(s))
    R.run("MAIL without CONNECT or HELO: 451 4.3.0", sc_mail_first(s))
    R.run("HELO with NUL: defined reply", sc_helo_bytes(s, b"helo-pass.test\0evil.test"))
    R.run("HELO with CR LF: defined reply, printable",
          sc_helo_bytes(s, b"helo-fail.test\r\nX-Evil: 1"))
    R.run("HELO with 8-bit and controls: defined reply, printable",
          sc_helo_bytes(s, b"h\xe9lo\x01\x7f\\.test"))
    R.run("HELO with 8-bit, null sender: defined reply, printable",
          sc_helo_bytes(s, b"h\xc3\xa9lo\r\n.test", sender=b"<>"))
    R.run("HELO empty: defined reply", sc_helo_bytes(s, b""))
    R.run("MAIL with NUL: 501 5.1.7", sc_mail_bytes(s, b"<alice@pa\0ss.test>", R_SENDER))
    R.run("MAIL with CR LF: 501 5.1.7", sc_mail_bytes(s, b"<ali\r\nce@pass.test>", R_SENDER))
    R.run("MAIL with bad 8-bit: 501 5.1.7", sc_mail_bytes(s, b"<al\xe9@pass.test>", R_SENDER))
    R.run("MAIL with 8-bit domain: 501 5.1.7", sc_mail_bytes(s, b"<al@p\xe4ss.test>", R_SENDER))
    R.run("MAIL with UTF-8 local part, SPF fail: escaped identity",
          sc_mail_bytes(s, b"<al\xc3\xa9@fail.test>",
                        R_SPF_FAIL % "al\\xc3\\xa9@fail.test"))
    R.run("MAIL with quoted CR LF: 501 5.1.7",
          sc_mail_bytes(s, b"<\"a\r\nb\"@pass.test>", R_SENDER))
    R.run("RCPT with NUL: 501 5.1.3", sc_rcpt_bytes(s, b"<bob\0@example.org>", R_RCPT))
    R.run("RCPT with CR LF: 501 5.1.3", sc_rcpt_bytes(s, b"<bob@example.org\r\n>", R_RCPT))
    R.run("RCPT with 8-bit: 501 5.1.3", sc_rcpt_bytes(s, b"<b\xffob@example.org>", R_RCPT))
    R.run("header values with CR LF / 8-bit / controls: printable actions",
          sc_header_bytes(s, [
              (b"Subject", b"a\r\nb\xff\x01"),
              (b"Authentication-Results", b"mx.example.org;\r\n spf=pass \xff\x01"),
              (b"Authentication-Results\xff", b"mx.example.org; x"),
              (b"Authentication-Results", b"\r\n\t(c\xff) mx.example.org; spf=pass"),
              (b"Authentication-Results", b"\xffmx.example.org; spf=pass"),
              (b"X-Empty", b""),
          ], [2, 1]))
    R.run("header value with NUL: defined reply",
          sc_header_bytes(s, [(b"Subject", b"a\0b"), (b"Authentication-Results", b"mx.example.org\0x")],
                          [1]))
    R.run("{auth_authen} with space, quote, controls, 8-bit: printable A-R",
          sc_auth_bytes(s, "us er\"\x01\xff\\"))
    R.run("several A-R: ours (two case variants) at 1 and 3 deleted, foreign kept",
          sc_several_ar(s))
    R.run("100 A-R headers, every other one ours: 50 CHGHEADER, highest index first",
          sc_many_ar(s))
    R.run("two messages on one connection with ABORT between: state reset",
          sc_abort_between(s))
    R.run("queue id {i} at MAIL", sc_queue_id(R, True))
    R.run("queue id {i} only at end of message (Sendmail style)", sc_queue_id(R, False))
    R.run("negotiation asks for exactly the macros read; none from an MTA that cannot",
          sc_negotiate_macros(s))
    R.run("Sendmail macros (j, {daemon_name}=MTA, {if_addr}, {i} at MAIL): mta object, "
          "queue id in every record", sc_sendmail_macros(R))
    R.run("Postfix macros ({daemon_addr}, {daemon_name}=smtpd, {i} at RCPT/EOM only): mta "
          "object, queue id once given", sc_postfix_macros(R))
    R.run("1000-byte local part / domain / HELO: defined replies", sc_long_local(s))
    R.run("50 connections at once, closed without a message", sc_many(s))
    R.run("CR, LF, NUL, ANSI escapes, 8-bit in HELO, client name, addresses, AUTH user, "
          "headers: printable replies and headers", sc_hostile_everywhere(R))
    # last: what every scenario above made the milter log
    R.run("every log line printable, every JSON record valid", sc_logs_printable(R))

    print("# [%s] %d passed, %d failed" % (a.label, R.passed, R.failed))
    return 0 if R.failed == 0 else 1


sock_path = None
if __name__ == "__main__":
    sys.exit(main())
