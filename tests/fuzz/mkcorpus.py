#!/usr/bin/python3
# NAME
#	mkcorpus.py - make the seed corpora of the fuzz targets (tests/fuzz/corpus/)
# SYNOPSIS
#	/usr/bin/python3 tests/fuzz/mkcorpus.py		(from the top directory)
# DESCRIPTION
#	Rewrites every tests/fuzz/corpus/TARGET/seed-* file from the tricky
#	inputs the other tests already hold: the string tables of the unit
#	tests (tests/unit/test_addr.c, test_hdrfrom.c, test_authres.c,
#	test_dmarc.c, test_lists.c), the end-to-end scenarios
#	(tests/e2e/scenarios/*.scn: addresses, From values, raw headers,
#	whole messages, DKIM-signed ones signed here with the test keys of
#	tests/unit/data/dkim through dkimpy, python3-dkim), the policy files
#	(conf/, tests/e2e/policy.conf, tests/e2e/broken/, tests/conf/bad/),
#	the list and recipients files, the _dmarc records of
#	tests/e2e/zones/test.zone, and the SPF records of
#	tests/unit/test_spfrecord.c and tests/spf/zones. regress-* files
#	(crashes found, kept as regressions) are never touched. File names are seed- and the first
#	12 hex digits of the content's SHA-1, so a rerun changes only what
#	changed (signatures carry a timestamp: signed seeds change).
#	The input formats are described at the top of each tests/fuzz/T.c.
# DIAGNOSTICS
#	Exits non-zero when a source is missing or signing fails.
import glob
import hashlib
import os
import re
import subprocess
import sys

import dkim

TOP = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
CORPUS = os.path.join(TOP, 'tests/fuzz/corpus')
KEYDIR = os.path.join(TOP, 'tests/unit/data/dkim')


def c_strings(path, pattern):
    """The C string literals (adjacent ones joined) matched by pattern's group 1."""
    text = open(path, encoding='utf-8').read()
    out = []
    for m in re.finditer(pattern, text):
        out.append(c_decode(m.group(1)))
    return out


def c_decode(lits):
    """The bytes of a run of C string literals: "a" "b\\x01"."""
    out = b''
    for lit in re.findall(r'"((?:[^"\\]|\\.)*)"', lits, re.S):
        i = 0
        while i < len(lit):
            c = lit[i]
            if c != '\\':
                out += c.encode('utf-8')
                i += 1
                continue
            n = lit[i + 1]
            if n == 'x':
                m = re.match(r'[0-9a-fA-F]{1,2}', lit[i + 2:])
                out += bytes([int(m.group(0), 16)])
                i += 2 + len(m.group(0))
            elif n in '01234567':
                m = re.match(r'[0-7]{1,3}', lit[i + 1:])
                out += bytes([int(m.group(0), 8)])
                i += 1 + len(m.group(0))
            else:
                out += {'r': b'\r', 'n': b'\n', 't': b'\t', '\\': b'\\', '"': b'"',
                        "'": b"'", '?': b'?'}.get(n, n.encode())
                i += 2
    return out


LIT = r'((?:"(?:[^"\\]|\\.)*"\s*)+)'


def scn_decode(v):
    """scenario.pl's decode: %{c*N}, \\xHH, \\r, \\n, \\t, \\0, \\\\."""
    v = re.sub(r'%\{(.)\*(\d+)\}', lambda m: m.group(1) * int(m.group(2)), v)
    out = re.sub(r'\\(x([0-9a-fA-F]{2})|r|n|t|0|\\)',
                 lambda m: chr(int(m.group(2), 16)) if m.group(2) else
                 {'r': '\r', 'n': '\n', 't': '\t', '0': '\0', '\\': '\\'}[m.group(1)], v)
    return out.encode('latin-1')


def scenarios():
    """Each scenario file as a list of (key, raw value) for the Postfix run."""
    out = []
    for f in sorted(glob.glob(os.path.join(TOP, 'tests/e2e/*/*.scn'))):
        kv = []
        for line in open(f, encoding='utf-8'):
            m = re.match(r'^\s*(?:(postfix|sendmail)\.)?([a-z_]+)\s*=\s?(.*?)\s*$', line)
            if line.lstrip().startswith('#') or not m or m.group(1) == 'sendmail':
                continue
            kv.append((m.group(2), m.group(3)))
        out.append((f, kv))
    return out


def zone_dmarc():
    """name -> [record text] of the _dmarc TXT records in test.zone."""
    recs = {}
    for line in open(os.path.join(TOP, 'tests/e2e/zones/test.zone'), encoding='utf-8'):
        m = re.match(r'^(_dmarc\S*)\s+TXT\s+(.*)$', line)
        if m:
            text = ''.join(re.findall(r'"((?:[^"\\]|\\.)*)"', m.group(2)))
            recs.setdefault(m.group(1) + '.test', []).append(text)
    return recs


class Corpus:
    def __init__(self):
        self.seeds = {}

    def add(self, target, data):
        if isinstance(data, str):
            data = data.encode('utf-8')
        self.seeds.setdefault(target, set()).add(data)

    def write(self):
        for target, seeds in sorted(self.seeds.items()):
            d = os.path.join(CORPUS, target)
            os.makedirs(d, exist_ok=True)
            for old in glob.glob(os.path.join(d, 'seed-*')):
                os.remove(old)
            for s in seeds:
                name = 'seed-' + hashlib.sha1(s).hexdigest()[:12]
                with open(os.path.join(d, name), 'wb') as fp:
                    fp.write(s)
            print('%-8s %4d seeds, %6d bytes' % (target, len(seeds), sum(map(len, seeds))))


def pem_rsa(name):
    return subprocess.run(['openssl', 'pkey', '-in', os.path.join(KEYDIR, name), '-traditional'],
                          capture_output=True, check=True).stdout


def ed25519_seed(name):
    der = subprocess.run(['openssl', 'pkey', '-in', os.path.join(KEYDIR, name), '-outform', 'DER'],
                         capture_output=True, check=True).stdout
    import base64
    return base64.b64encode(der[-32:])


def key_record(name):
    return open(os.path.join(KEYDIR, name), encoding='ascii').read().strip()


# selector of a scenario's "sign" -> (private key, key record file)
KEYS = {'rsa2048': ('test-rsa2048.key', 'test-rsa2048.txt'),
        'rsa1024': ('test-rsa768.key', 'test-rsa768.txt'),
        'rsa512': ('test-rsa512.key', 'test-rsa512.txt'),
        'ed25519': ('test-ed25519.key', 'test-ed25519.txt')}


def sign(msg, spec):
    """A DKIM-Signature field (bytes, CRLF folded, no final CRLF) and X-Fuzz-DNS lines."""
    domain, selector, *opts = spec.split()
    o = dict(x.split('=', 1) for x in opts)
    key = o.get('key', selector if selector in KEYS else 'rsa2048')
    keyfile, recfile = KEYS[key]
    alg = o.get('a', 'ed25519-sha256' if key == 'ed25519' else 'rsa-sha256')
    priv = ed25519_seed(keyfile) if key == 'ed25519' else pem_rsa(keyfile)
    c = o.get('c', 'relaxed/relaxed').split('/')
    args = dict(canonicalize=(c[0].encode(), c[1].encode()), signature_algorithm=alg.encode())
    if 'h' in o:
        args['include_headers'] = [h.encode() for h in o['h'].split(':')]
    if o.get('l') == 'body':
        args['length'] = True
    field = dkim.sign(msg, selector.encode(), domain.encode(), priv, **args).rstrip(b'\r\n')
    name = '%s._domainkey.%s' % (selector, domain)
    if selector == 'nokey':
        dns = []
    elif selector == 'revoked':
        dns = ['X-Fuzz-DNS: %s TXT v=DKIM1; k=rsa; p=' % name]
    elif selector == 'slow':
        dns = ['X-Fuzz-DNS: %s SERVFAIL' % name]
    else:
        dns = ['X-Fuzz-DNS: %s TXT %s' % (name, key_record(recfile))]
    return field, dns


def header_name(f):
    m = re.match(rb'^([^:\s]+)\s*:', f)
    return m.group(1).lower() if m else b''


def message(kv, dmarc, policy):
    """The scenario's message as scenario.pl builds it, with its X-Fuzz-Env and X-Fuzz-DNS."""
    get = lambda k, d=None: next((v for kk, v in kv if kk == k), d)
    every = lambda k: [v for kk, v in kv if kk == k]
    mfrom = get('from', 'alice@pass.test')
    helo = get('helo', 'mail.pass.test')
    rcpts = every('rcpt') or ['bob@example.org']
    client = get('client', '192.0.2.10')
    author = mfrom if mfrom else 'postmaster@' + helo
    froms = [scn_decode(v) for v in every('from_header')] or [('<%s>' % author).encode()]
    h = [b'Date: Thu, 01 Jan 2026 00:00:00 +0000']
    h += [b'From: ' + f for f in froms if f != b'none']
    h += [('To: <%s>' % rcpts[0]).encode(), ('Subject: e2e %s' % get('name', '')).encode(),
          b'Message-ID: <seed@e2e.test>']
    for k, v in kv:
        if k in ('header', 'raw_header'):
            h.append(scn_decode(v))
        elif k == 'repeat_header':
            n, line = scn_decode(v).split(b' ', 1)
            h += [line.replace(b'%{i}', str(i).encode()) for i in range(1, min(int(n), 4) + 1)]
    signs = every('sign')
    env = ['policy=%d' % policy, 'mfrom=%s' % (mfrom or '<>'), 'helo=%s' % helo]
    env += ['rcpt=%s' % r for r in rcpts[:4]]
    env.append('spf=none' if signs else 'spf=pass')
    if client.startswith('203.0.113.') and int(client.rsplit('.', 1)[1]) >= 128:
        env.append('trusted')
    if get('auth_user'):
        env.append('auth')
    dns = []
    for f in froms:
        m = re.search(rb'@([A-Za-z0-9.-]+)', f)
        if m:
            d = m.group(1).decode().lower().rstrip('.')
            for name in ('_dmarc.' + d, '_dmarc.' + '.'.join(d.split('.')[-2:])):
                dns += ['X-Fuzz-DNS: %s TXT %s' % (name, t) for t in dmarc.get(name, [])]
    h.append(('X-Fuzz-Env: ' + ' '.join(env)).encode())
    body = scn_decode(get('body', 'This is the end-to-end scenario.'))
    body = b''.join(l + b'\r\n' for l in re.split(rb'\r?\n', body))
    for spec in signs:
        field, kdns = sign(b'\r\n'.join(h) + b'\r\n\r\n' + body, spec)
        h.insert(0, field)
        dns += kdns
    for k, v in kv:
        v = scn_decode(v)
        if k == 'after_sign_header':
            h.insert(0, v)
        elif k == 'after_sign_body':
            body += b''.join(l + b'\r\n' for l in re.split(rb'\r?\n', v))
        elif k == 'after_sign_replace':
            i = next(i for i, f in enumerate(h) if header_name(f) == header_name(v))
            h[i] = v
        elif k == 'after_sign_edit':
            n, rest = v.split(b':', 1)
            old, new = rest.strip().split(b' => ', 1)
            i = next(i for i, f in enumerate(h) if header_name(f) == n.lower() and old in f)
            h[i] = h[i].replace(old, new, 1)
    h += [x.encode() for x in sorted(set(dns))]
    return b'\r\n'.join(h) + b'\r\n\r\n' + body


def main():
    c = Corpus()
    scns = scenarios()
    unit = os.path.join(TOP, 'tests/unit')

    # addr: the unit test table, every scenario address; flags byte: both allowed, or none
    for s in c_strings(os.path.join(unit, 'test_addr.c'), r'\{S\(' + LIT + r'\)'):
        c.add('addr', b'\x03' + s)
    for f, kv in scns:
        for k, v in kv:
            if k in ('from', 'rcpt'):
                c.add('addr', b'\x03<' + scn_decode(v) + b'>')
                c.add('addr', b'\x00' + scn_decode(v))

    # hdrfrom: the unit test table, every From value of the scenarios
    for s in c_strings(os.path.join(unit, 'test_hdrfrom.c'),
                       r'(?:\{S|OK0|OK1|OK2|BAD)\(' + LIT + r'[,)]'):
        c.add('hdrfrom', s)
    for f, kv in scns:
        for k, v in kv:
            if k == 'from_header':
                c.add('hdrfrom', scn_decode(v))
            elif k == 'raw_header' and re.match(r'(?i)^from\s*(\\r\\n)?\s*:', v):
                c.add('hdrfrom', scn_decode(v).split(b':', 1)[1])

    # authres: id, incoming value, choices, then the authres_input strings
    choice = b'\x01\x03\x03\x02\x03\x01\x02\x04\x40\x80'
    fields = [b'user@example.org', b'203.0.113.128/25', b'192.0.2.1', b'mail.b.test',
              b'mail.pass.test', b'alice@pass.test', b'void lookup limit exceeded', b'reject',
              b'quarantine', b'reject.test', b'several DMARC records',
              b'allowed by local policy: lists.sender.allow',
              b'example.org', b'rsa', b'rsa-sha256', b'AbCdEfGh', b'bad signature',
              b'legit.test(.evil.test', b'sel"ector', b'ed25519-sha256', b'\\x00\\x01', b'']
    for v in c_strings(os.path.join(unit, 'test_authres.c'), r'\{\s*' + LIT + r',\s*(?:ID|")'):
        c.add('authres', b'mx.example.org\0' + v + b'\0' + choice)
    for f, kv in scns:
        for k, v in kv:
            v = scn_decode(v)
            if k == 'repeat_header':
                v = v.split(b' ', 1)[1].replace(b'%{i}', b'1')
            if k in ('header', 'repeat_header') and v.lower().startswith(b'authentication-results'):
                c.add('authres', b'mx.example.org\0' + v.split(b':', 1)[1] + b'\0' + choice +
                      b'\0' + b'\0'.join(fields))
    c.add('authres', b'my id\0"my id"; none\0' + choice + b'\0' + b'\0'.join(fields[::-1]))

    # config: every policy file, and seeds naming each fixture of the target
    for f in ([os.path.join(TOP, 'conf/policy-milter.conf'),
               os.path.join(TOP, 'tests/e2e/policy.conf')] +
              sorted(glob.glob(os.path.join(TOP, 'tests/e2e/broken/*.conf'))) +
              sorted(glob.glob(os.path.join(TOP, 'tests/conf/bad/*.conf')))):
        c.add('config', open(f, 'rb').read())
    for key, files in (('recipients.file', ['recipients.txt', 'ww.txt', 'dir', 'fifo', 'zero',
                                             'missing', 'empty.txt']),):
        for name in files:
            c.add('config', 'recipients: { domains = [ "example.org" ]; file = "@DIR@/%s"; };\n'
                  % name)
    for kind, good in (('client', 'client.txt'), ('client_name', 'names.txt'),
                       ('helo', 'names.txt'), ('sender', 'senders.txt'),
                       ('recipient', 'senders.txt')):
        for name in (good, 'ww.txt', 'dir', 'fifo', 'zero', 'empty.txt'):
            c.add('config', 'lists: { %s: { allow_file = "@DIR@/%s"; block = [ "x" ]; }; };\n'
                  % (kind, name))
    for name in ('psl.dat', 'ww.txt', 'dir', 'fifo', 'zero', 'empty.txt'):
        c.add('config', 'dmarc: { mode = "enforce"; public_suffix_list = "@DIR@/%s"; };\n' % name)
    c.add('config', '@include "inc.conf"\nauthserv_id = "mx.example.org";\n')
    c.add('config', 'milter: { socket = "unix:@DIR@/s.sock"; };\nlog: { json_file = "@DIR@/j"; };\n')

    # rcpt: the unit test files, and the scenario recipients
    for f in sorted(glob.glob(os.path.join(unit, 'data/recipients-*.txt'))):
        c.add('rcpt', open(f, 'rb').read())
    rc = sorted({v for f, kv in scns for k, v in kv if k == 'rcpt'})
    c.add('rcpt', '\n'.join(rc) + '\n@example.net\n# comment\n  "john doe"@example.org  # x\n')
    # enough lines for the table to grow, some malformed (the lenient read skips them)
    c.add('rcpt', ''.join('user%d@example.org\n' % i if i % 10 else 'bad line %d\n' % i
                          for i in range(120)))

    # lists: the list files with their kind, the unit test entries for every kind
    kinds = {'client': 0, 'client-name': 1, 'helo': 2, 'sender': 3}
    for f in sorted(glob.glob(os.path.join(TOP, 'tests/e2e/lists/*.txt'))):
        k = kinds[re.sub(r'-(allow|block)\.txt$', '', os.path.basename(f))]
        c.add('lists', bytes([k]) + open(f, 'rb').read())
    entries = c_strings(os.path.join(unit, 'test_lists.c'), r'\{\s*' + LIT + r',')
    for k in range(5):
        good = [e for e in entries if b'\n' not in e and b'\0' not in e]
        for i in range(0, len(good), 12):
            c.add('lists', bytes([k]) + b'\n'.join(good[i:i + 12]) + b'\n')
            c.add('lists', bytes([k | 0x80]) + b'\n'.join(good[i:i + 12]))

    # dmarc: unit test records and the zone's, with domains; and DNS answers for lookups
    recs = c_strings(os.path.join(unit, 'test_dmarc.c'), r'(?:FOUND|INVALID)\(' + LIT + r',')
    dmarc = zone_dmarc()
    recs += [t.encode() for ts in dmarc.values() for t in ts]
    doms = [b'mail.example.com', b'example.com', b'', b'example.com', b'example.com',
            b'sub.example.co.uk', b'EXAMPLE.COM.']
    for i, r in enumerate(recs):
        ch = bytes([2 * (i % 100), 3 + i % 5, i % 100 + 1, 1 + i % 3, 1, 1 + i % 5, 6])
        c.add('dmarc', ch + b'\0' + r + b'\0' + b'\0'.join(doms[i % 2:]))

    def chunk(b):
        return bytes([len(b) >> 8, len(b) & 0xff]) + b

    def txt(t):
        return bytes([0, len(t) + 1, len(t)]) + t

    c.add('dmarc', b'\x01mail.example.com\n' + chunk(b'\x00') +
          chunk(b'\x02' + txt(b'v=DMARC1; p=reject; sp=none')))
    c.add('dmarc', b'\x01example.com\n' + chunk(b'\x02' + txt(b'v=DMARC1; p=none') +
                                                 txt(b'v=DMARC1; p=reject')))
    c.add('dmarc', b'\x01example.com\n' + chunk(b'\x02' + txt(b'v=DMARC1; p=reject\0x') +
                                                 b'\x01\x04\xc0\x00\x02\x01'))
    c.add('dmarc', b'\x01a.b.example.com\n' + chunk(b'\x01'))
    c.add('dmarc', b'\x01example.com\n' + chunk(b'\x02\x00\x05\x09v=DMARC1'))
    c.add('dmarc', b'\x01example.com\n' + chunk(b'\x03\x00\x00\x81\x80\x00\x01\x00\x01\x00\x00'
                                                 b'\x00\x00\x06_dmarc\x07example\x03com\x00'
                                                 b'\x00\x10\x00\x01\xc0\x0c\x00\x10\x00\x01'
                                                 b'\x00\x00\x01\x2c\x00\x13\x12v=DMARC1; p=reject'))

    # spfrecord: the unit test's records, every TXT record of the SPF test zones
    for s in c_strings(os.path.join(unit, 'test_spfrecord.c'), r'\{' + LIT + r',\s*\d+,'):
        c.add('spfrecord', s)
    for f in sorted(glob.glob(os.path.join(TOP, 'tests/spf/zones/*.zone'))):
        for line in open(f, 'rb'):
            m = re.search(rb'\sTXT\s+(.*)$', line)
            if m:
                c.add('spfrecord', b''.join(re.findall(rb'"([^"]*)"', m.group(1))))

    # eom: every scenario's message (policy 0), a few with policies 1 and 2
    for i, (f, kv) in enumerate(scns):
        try:
            c.add('eom', message(kv, dmarc, 0))
            if i % 9 == 0:
                c.add('eom', message(kv, dmarc, 1 + (i // 9) % 2))
        except (StopIteration, ValueError, KeyError) as e:
            print('skipped %s: %r' % (os.path.basename(f), e), file=sys.stderr)
    c.add('eom', b'X-Fuzz-Env: policy=0 mfrom=a@example.org noleadspc\nFrom:a@example.org\n'
          b'From: b@example.org\n\nbody\n')
    c.add('eom', b'From: <x@example.org>\r\nX-Fuzz-DNS: _dmarc.example.org SERVFAIL\r\n\r\n')
    c.write()


if __name__ == '__main__':
    main()
