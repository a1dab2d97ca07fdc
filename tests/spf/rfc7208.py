#!/usr/bin/python3
# NAME
#	rfc7208.py - the RFC 7208 SPF test suite against spf.c and the DNS layer
# SYNOPSIS
#	rfc7208.py SUITE DEVIATIONS PROBE [PROBE...]	(inside tests/spf/rfc7208.sh)
# DESCRIPTION
#	Serves each scenario's zonedata of SUITE (the openspf.org YAML) from a
#	small authoritative DNS server of its own on 127.0.0.1:53 (UDP and
#	TCP), one scenario at a time, and runs every test of the scenario
#	through each PROBE (tests/spf/suiteprobe, plain and ASan+UBSan builds,
#	in parallel), a fresh process per scenario so that the DNS answer cache
#	never carries answers from one scenario to the next.
#
#	The zone data is served the way the suite's own driver (pyspf's
#	testspf.py) reads it: SPF entries are also served as TXT records unless
#	the name lists a TXT entry ("TXT: NONE" only suppresses that); a bare
#	TIMEOUT entry means no answer at all for a type none of whose records
#	came before it; a name absent from the zone is NXDOMAIN, a name present
#	without records of the type asked NODATA; CNAMEs are followed as an
#	authoritative server does. TXT values are bytes (the YAML's \xNN escapes
#	are bytes, NUL included), one character-string per list item, split at
#	255 bytes; an empty list is a TXT record with no strings at all.
#
#	A test passes when the result is one of its listed results
#	(explanations are not compared: the milter never uses exp= text). A
#	failing test listed in DEVIATIONS (one "NAME reason" a line, '#'
#	comments) is reported but does not fail the run.
#	Prints "ok - SECTION/TEST" or "not ok - SECTION/TEST: got X want Y"
#	per test, "SECTION: N/M" per section and "rfc7208: N/203" in the end.
# DIAGNOSTICS
#	Exit 0 when every test passed or is a listed deviation, else 1.
import os
import socket
import socketserver
import struct
import subprocess
import sys
import tempfile
import threading

import yaml

TYPES = {'A': 1, 'NS': 2, 'CNAME': 5, 'SOA': 6, 'PTR': 12, 'MX': 15, 'TXT': 16,
         'AAAA': 28, 'SPF': 99}

ZONE = {}  # the scenario being served: lower-cased name -> list of entries
ZONE_LOCK = threading.Lock()


def tobytes(s):
    """a YAML string as the bytes it stands for (\\xNN escapes are bytes)"""
    if isinstance(s, bytes):
        return s
    s = str(s)
    try:
        return s.encode('latin-1')
    except UnicodeEncodeError:
        return s.encode('utf-8')


def zone_entries(rrs):
    """one name's zonedata as ordered (type, value) / 'TIMEOUT' entries"""
    out, generated, gen = [], [], True
    for m in rrs:
        if not isinstance(m, dict):
            out.append(m)  # TIMEOUT
            continue
        for t, v in m.items():
            if t == 'TXT':
                gen = False
            elif t == 'SPF' and gen:
                generated.append(('TXT', v))
            if v != 'NONE':
                out.append((t, v))
    if gen:
        out.extend(generated)
    return out


def load_zone(zonedata):
    return {name.lower().rstrip('.'): zone_entries(rrs) for name, rrs in zonedata.items()}


def enc_name(name):
    """a name (str or bytes, dots between labels) in wire form, uncompressed"""
    b = tobytes(name)
    if b.endswith(b'.'):
        b = b[:-1]
    out = b''
    if b:
        for label in b.split(b'.'):
            out += bytes([len(label)]) + label
    return out + b'\0'


def rdata(t, v):
    if t == 'A':
        return socket.inet_pton(socket.AF_INET, v)
    if t == 'AAAA':
        return socket.inet_pton(socket.AF_INET6, v)
    if t in ('PTR', 'CNAME'):
        return enc_name(v)
    if t == 'MX':
        return struct.pack('!H', int(v[0])) + enc_name(v[1])
    if t in ('TXT', 'SPF'):
        strings = v if isinstance(v, list) else [v]
        out = b''
        for s in strings:
            b = tobytes(s)
            chunks = [b[i:i + 255] for i in range(0, len(b), 255)] or [b'']
            for c in chunks:
                out += bytes([len(c)]) + c
        return out
    raise ValueError('type %s' % t)


def lookup(zone, name, qtype, seen=None):
    """(rcode, [(owner, type, rdata)]) or None for no answer at all"""
    seen = seen or set()
    entries = zone.get(name.lower())
    if entries is None:
        return 3, []
    answers, found = [], False
    for e in entries:
        if e == 'TIMEOUT':
            if not found:
                return None
            break
        t, v = e
        if t == qtype:
            found = True
            answers.append((name, t, v))
        elif t == 'CNAME' and qtype != 'CNAME':
            answers.append((name, t, v))
            target = tobytes(v).rstrip(b'.').decode('latin-1')
            if target.lower() in seen or len(seen) > 8:
                return 0, answers
            seen.add(name.lower())
            more = lookup(zone, target, qtype, seen)
            if more is None:
                return None
            return more[0], answers + more[1]
    return 0, answers


def respond(query, tcp):
    """the reply to one query message, or None (no answer: TIMEOUT)"""
    if len(query) < 12:
        return None
    qid, flags, qd = struct.unpack('!HHH', query[:6])
    if qd != 1:
        return None
    pos, labels = 12, []
    while pos < len(query) and query[pos] != 0:
        n = query[pos]
        labels.append(query[pos + 1:pos + 1 + n])
        pos += 1 + n
    pos += 1
    qtype, qclass = struct.unpack('!HH', query[pos:pos + 4])
    question = query[12:pos + 4]
    udp_size = 512
    arcount = struct.unpack('!H', query[10:12])[0]
    if arcount and len(query) >= pos + 4 + 11 and query[pos + 4 + 3:pos + 4 + 5] == b'\0\x29':
        udp_size = max(512, struct.unpack('!H', query[pos + 4 + 5:pos + 4 + 7])[0])
    name = b'.'.join(labels).decode('latin-1')
    tname = {v: k for k, v in TYPES.items()}.get(qtype)
    with ZONE_LOCK:
        zone = ZONE
    if tname is None:
        rcode, answers = (0 if name.lower() in zone else 3), []
    else:
        res = lookup(zone, name, tname)
        if res is None:
            return None
        rcode, answers = res
    body = b''
    for owner, t, v in answers:
        rd = rdata(t, v)
        body += enc_name(owner) + struct.pack('!HHIH', TYPES[t], 1, 60, len(rd)) + rd
    rflags = 0x8000 | 0x0400 | (flags & 0x0100) | 0x0080 | rcode
    msg = struct.pack('!HHHHHH', qid, rflags, 1, len(answers), 0, 0) + question + body
    if not tcp and len(msg) > udp_size:
        msg = struct.pack('!HHHHHH', qid, rflags | 0x0200, 1, 0, 0, 0) + question
    return msg


class UDPHandler(socketserver.BaseRequestHandler):
    def handle(self):
        data, sock = self.request
        reply = respond(data, False)
        if reply is not None:
            sock.sendto(reply, self.client_address)


class TCPHandler(socketserver.BaseRequestHandler):
    def handle(self):
        try:
            while True:
                head = self.request.recv(2)
                if len(head) < 2:
                    return
                n = struct.unpack('!H', head)[0]
                data = b''
                while len(data) < n:
                    chunk = self.request.recv(n - len(data))
                    if not chunk:
                        return
                    data += chunk
                reply = respond(data, True)
                if reply is None:
                    return
                self.request.sendall(struct.pack('!H', len(reply)) + reply)
        except OSError:
            return


class ThreadedUDP(socketserver.ThreadingMixIn, socketserver.UDPServer):
    daemon_threads = True
    allow_reuse_address = True


class ThreadedTCP(socketserver.ThreadingMixIn, socketserver.TCPServer):
    daemon_threads = True
    allow_reuse_address = True


def start_server(addr='127.0.0.1', port=53):
    for cls, handler in ((ThreadedUDP, UDPHandler), (ThreadedTCP, TCPHandler)):
        srv = cls((addr, port), handler)
        threading.Thread(target=srv.serve_forever, daemon=True).start()


def field(v):
    s = '' if v is None else str(v)
    if '\t' in s or '\n' in s:
        raise ValueError('tab or newline in a case field: %r' % s)
    return s


def main():
    if len(sys.argv) < 4:
        print('usage: rfc7208.py SUITE DEVIATIONS PROBE...', file=sys.stderr)
        return 2
    suite, devfile, probes = sys.argv[1], sys.argv[2], sys.argv[3:]
    deviations = {}
    if os.path.exists(devfile):
        for line in open(devfile, encoding='utf-8'):
            line = line.strip()
            if line and not line.startswith('#'):
                name, _, why = line.partition(' ')
                deviations[name] = why.strip()
    with open(suite, 'rb') as fp:
        scenarios = list(yaml.safe_load_all(fp))
    start_server()
    global ZONE
    total = passed = bad = 0
    sections = []
    tmp = tempfile.mkdtemp(prefix='rfc7208.')
    for sc in scenarios:
        section = sc['description'].split('\n')[0].strip()
        with ZONE_LOCK:
            ZONE = load_zone(sc['zonedata'])
        cases = os.path.join(tmp, 'cases')
        with open(cases, 'w', encoding='latin-1') as fp:
            for name, t in sc['tests'].items():
                fp.write('\t'.join([name, field(t['host']), field(t.get('helo')),
                                    field(t.get('mailfrom'))]) + '\n')
        procs = []
        for i, probe in enumerate(probes):
            err = open(os.path.join(tmp, 'stderr%d' % i), 'w+b')
            procs.append((probe, err, subprocess.Popen([probe, cases], stdout=subprocess.PIPE,
                                                       stderr=err)))
        got = []
        for probe, err, p in procs:
            out, _ = p.communicate()
            err.seek(0)
            errtext = err.read().decode('latin-1')
            res = {}
            for line in out.decode('latin-1').splitlines():
                parts = line.split('\t')
                res[parts[0]] = (parts[1], parts[2] if len(parts) > 2 else '')
            sanitizer = 'Sanitizer' in errtext or 'runtime error' in errtext
            got.append((os.path.basename(probe), p.returncode, res, sanitizer, errtext))
        spass = 0
        for name, t in sc['tests'].items():
            want = t['result'] if isinstance(t['result'], list) else [t['result']]
            label = '%s/%s' % (section, name)
            problems = []
            for pname, rc, res, sanitizer, errtext in got:
                r, comment = res.get(name, ('(no result)', ''))
                if rc != 0 or sanitizer:
                    problems.append('%s: exit %d%s' % (pname, rc,
                                                       ', sanitizer report' if sanitizer else ''))
                elif r not in want:
                    problems.append('%s: got %s want %s (%s)' % (pname, r, '/'.join(want),
                                                                 comment))
            total += 1
            if not problems:
                spass += 1
                print('ok - %s' % label)
            elif name in deviations:
                print('ok - %s # known deviation: %s; %s' % (label, deviations[name],
                                                             '; '.join(problems)))
            else:
                bad += 1
                print('not ok - %s: %s' % (label, '; '.join(problems)))
        for pname, rc, res, sanitizer, errtext in got:
            if sanitizer or rc != 0:
                sys.stdout.write('# %s stderr:\n' % pname + errtext)
        passed += spass
        sections.append((section, spass, len(sc['tests'])))
    for section, p, n in sections:
        print('%s: %d/%d' % (section, p, n))
    print('rfc7208: %d/%d' % (passed, total))
    return 0 if bad == 0 else 1


if __name__ == '__main__':
    sys.exit(main())
