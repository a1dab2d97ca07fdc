# NAME
#	milterclient.py - the MTA side of the milter protocol (version 6), for tests
# SYNOPSIS
#	from milterclient import Milter
#	m = Milter("/path/to/socket")          # or Milter(("127.0.0.1", 8891))
#	m.optneg()                             # m.macro_lists(): what the filter asked for
#	r = m.connect(b"client.test", "4", 25, b"192.0.2.10", macros={"j": "mx"})
#	r = m.helo(b"mail.example"); r = m.mail([b"<a@b.test>"]); r = m.rcpt([b"<c@d>"])
#	m.header(b"Subject", b"hi"); m.eoh(); m.body(b"text\r\n"); r = m.eom()
#	m.abort(); m.quit()
# DESCRIPTION
#	Speaks what Postfix or Sendmail speak to a filter: 4-byte big-endian
#	length, one command byte, the data. Every argument is bytes and sent
#	exactly as given (NUL, CR, LF and 8-bit bytes included), so the tests
#	can produce what no MTA would. macros= sends an SMFIC_MACRO packet for
#	the command first ({name} or single-letter names, as the MTA spells
#	them). After optneg(), macro_lists() decodes the macro lists the filter
#	asked for in its negotiation reply (smfi_setsymlist): {stage: "names"}
#	with the SMFIM_* stage numbers (0 connect, 1 HELO, 2 MAIL, 3 RCPT,
#	4 DATA, 5 end of message, 6 end of headers).
#
#	Each command returns a Reply: kind (the final reply byte as a
#	one-character string: "c" continue, "a" accept, "r" reject, "t"
#	tempfail, "y" reply code, "d" discard, "s" skip, ...), text (the
#	SMFIR_REPLYCODE text, str, latin-1), and actions (the header and
#	envelope changes sent before it at end of message: tuples
#	("addheader", name, value), ("insheader", index, name, value),
#	("chgheader", index, name, value), ("other", cmd, data)). A command
#	the filter negotiated away (SMFIP_NO*) is not sent and returns None;
#	one with no reply (SMFIP_NR_*, ABORT, MACRO, QUIT) returns None too.
# DIAGNOSTICS
#	MilterError on a protocol violation, a closed connection or a
#	timeout (socket.timeout is turned into it).
import socket
import struct

SMFIP_NOCONNECT = 0x1
SMFIP_NOHELO = 0x2
SMFIP_NOMAIL = 0x4
SMFIP_NORCPT = 0x8
SMFIP_NOBODY = 0x10
SMFIP_NOHDRS = 0x20
SMFIP_NOEOH = 0x40
SMFIP_NR_HDR = 0x80
SMFIP_NOUNKNOWN = 0x100
SMFIP_NODATA = 0x200
SMFIP_SKIP = 0x400
SMFIP_RCPT_REJ = 0x800
SMFIP_NR_CONN = 0x1000
SMFIP_NR_HELO = 0x2000
SMFIP_NR_MAIL = 0x4000
SMFIP_NR_RCPT = 0x8000
SMFIP_NR_DATA = 0x10000
SMFIP_NR_EOH = 0x40000
SMFIP_NR_BODY = 0x80000
SMFIP_HDR_LEADSPC = 0x100000

# What we offer: every "don't send" step, SKIP and the no-reply bits (like Postfix 3.x).
OFFER_PROTOCOL = 0x1FFFFF
OFFER_ACTIONS = 0x1FF

FINAL = set("acrtydsf4")


class MilterError(Exception):
    pass


class Reply:
    def __init__(self, kind, text="", actions=None):
        self.kind = kind
        self.text = text
        self.actions = actions or []

    def __repr__(self):
        s = self.kind
        if self.text:
            s += " " + repr(self.text)
        if self.actions:
            s += " " + repr(self.actions)
        return s

    def code(self):
        """the reply as a short string: "continue", "reject", or the reply code text"""
        names = {"c": "continue", "a": "accept", "r": "reject", "t": "tempfail",
                 "d": "discard", "s": "skip", "f": "conn_fail", "4": "shutdown"}
        if self.kind == "y":
            return self.text
        return names.get(self.kind, "unknown(%r)" % self.kind)


def _cstr(b):
    if isinstance(b, str):
        b = b.encode("latin-1")
    return b + b"\0"


class Milter:
    def __init__(self, where, timeout=30.0):
        if isinstance(where, tuple):
            self.sock = socket.create_connection(where, timeout=timeout)
        else:
            self.sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
            self.sock.settimeout(timeout)
            self.sock.connect(where)
        self.pflags = 0
        self.aflags = 0
        self.version = 0
        self.macro_list = b""

    def close(self):
        try:
            self.sock.close()
        except OSError:
            pass

    # ---- framing ----------------------------------------------------------
    def send(self, cmd, data=b""):
        pkt = struct.pack(">I", len(data) + 1) + cmd.encode() + data
        try:
            self.sock.sendall(pkt)
        except OSError as e:
            raise MilterError("send %s: %s" % (cmd, e))

    def _read(self, n):
        buf = b""
        while len(buf) < n:
            try:
                chunk = self.sock.recv(n - len(buf))
            except socket.timeout:
                raise MilterError("timeout waiting for a reply")
            except OSError as e:
                raise MilterError("recv: %s" % e)
            if not chunk:
                raise MilterError("connection closed by the filter")
            buf += chunk
        return buf

    def recv(self):
        (n,) = struct.unpack(">I", self._read(4))
        if n < 1 or n > 64 * 1024 * 1024:
            raise MilterError("bad packet length %d" % n)
        data = self._read(n)
        return chr(data[0]), data[1:]

    def reply(self):
        """read packets up to a final reply; collect the changes before it"""
        actions = []
        while True:
            cmd, data = self.recv()
            if cmd == "p":  # progress
                continue
            if cmd in FINAL:
                text = ""
                if cmd == "y":
                    text = data.rstrip(b"\0").decode("latin-1")
                return Reply(cmd, text, actions)
            actions.append(self._action(cmd, data))

    @staticmethod
    def _action(cmd, data):
        if cmd == "h":
            parts = data.split(b"\0")
            return ("addheader", parts[0].decode("latin-1"), parts[1].decode("latin-1"))
        if cmd in "im":
            (idx,) = struct.unpack(">I", data[:4])
            parts = data[4:].split(b"\0")
            name = "insheader" if cmd == "i" else "chgheader"
            return (name, idx, parts[0].decode("latin-1"), parts[1].decode("latin-1"))
        return ("other", cmd, data)

    def macros(self, stage, macros):
        if not macros:
            return
        data = stage.encode()
        for k, v in macros.items():
            data += _cstr(k) + _cstr(v)
        self.send("D", data)

    def _cmd(self, cmd, data, no_flag, nr_flag, macros=None):
        if self.pflags & no_flag:
            return None
        self.macros(cmd, macros)
        self.send(cmd, data)
        if nr_flag and self.pflags & nr_flag:
            return None
        return self.reply()

    # ---- commands ---------------------------------------------------------
    def optneg(self, version=6, actions=OFFER_ACTIONS, protocol=OFFER_PROTOCOL):
        self.send("O", struct.pack(">III", version, actions, protocol))
        cmd, data = self.recv()
        if cmd != "O" or len(data) < 12:
            raise MilterError("bad option negotiation reply %r %r" % (cmd, data))
        self.version, self.aflags, self.pflags = struct.unpack(">III", data[:12])
        self.macro_list = data[12:]
        return self.version, self.aflags, self.pflags

    def macro_lists(self):
        """the macro lists of the negotiation reply: {SMFIM stage: "space-separated names"}"""
        lists, data = {}, self.macro_list
        while data:
            if len(data) < 5 or b"\0" not in data[4:]:
                raise MilterError("bad macro list in the negotiation reply: %r" % data)
            (stage,) = struct.unpack(">I", data[:4])
            names, data = data[4:].split(b"\0", 1)
            if stage in lists:
                raise MilterError("macro list for stage %d given twice" % stage)
            lists[stage] = names.decode("latin-1")
        return lists

    def connect(self, hostname, family="4", port=25, address=b"", macros=None):
        data = _cstr(hostname) + family.encode()
        if family != "U":
            data += struct.pack(">H", port) + _cstr(address)
        return self._cmd("C", data, SMFIP_NOCONNECT, SMFIP_NR_CONN, macros)

    def helo(self, name, macros=None):
        return self._cmd("H", _cstr(name), SMFIP_NOHELO, SMFIP_NR_HELO, macros)

    def mail(self, args, macros=None):
        return self._cmd("M", b"".join(_cstr(a) for a in args), SMFIP_NOMAIL, SMFIP_NR_MAIL,
                         macros)

    def rcpt(self, args, macros=None):
        return self._cmd("R", b"".join(_cstr(a) for a in args), SMFIP_NORCPT, SMFIP_NR_RCPT,
                         macros)

    def data(self, macros=None):
        return self._cmd("T", b"", SMFIP_NODATA, SMFIP_NR_DATA, macros)

    def header(self, name, value, macros=None):
        if not (self.pflags & SMFIP_HDR_LEADSPC) and value[:1] == b" ":
            value = value[1:]
        return self._cmd("L", _cstr(name) + _cstr(value), SMFIP_NOHDRS, SMFIP_NR_HDR, macros)

    def eoh(self, macros=None):
        return self._cmd("N", b"", SMFIP_NOEOH, SMFIP_NR_EOH, macros)

    def body(self, chunk, macros=None):
        return self._cmd("B", chunk, SMFIP_NOBODY, SMFIP_NR_BODY, macros)

    def eom(self, macros=None):
        self.macros("E", macros)
        self.send("E")
        return self.reply()

    def abort(self):
        self.send("A")

    def quit(self):
        try:
            self.send("Q")
        except MilterError:
            pass
        self.close()
