#!/usr/bin/python3
"""load.py - SMTP transactions through Postfix and the milter, each timed and its replies checked

usage: load.py OUT CLIENTS COUNT ADDR...

CLIENTS threads each make COUNT connections to 127.0.0.1:25, thread i from
source address ADDR[i]: EHLO, MAIL FROM <alice@pass.test> (SPF pass for
192.0.2.0/24), RCPT TO <bob@example.org> (250), RCPT TO
<nobody@example.org> (550 5.1.1, the milter's unknown recipient), DATA
(250), QUIT. Each transaction's time, connect to QUIT's reply, measured
in-process, goes to OUT (one line: seconds); a reply other than expected
is printed ("wrong: ...") and counted. Last line on stdout:
"transactions=N wrong=N p50=S p95=S".
"""
import smtplib
import sys
import threading
import time

out, clients, count, addrs = sys.argv[1], int(sys.argv[2]), int(sys.argv[3]), sys.argv[4:]
times, wrong = [], []
lock = threading.Lock()
MSG = (b"From: Alice <alice@pass.test>\r\nTo: bob@example.org\r\nSubject: load\r\n"
       b"Message-ID: <%d.%d@pass.test>\r\n\r\nmetrics suite load\r\n")


def expect(what, got, code, text=None):
    """expect - a reply (code, text) as wanted, else noted"""
    ok = got[0] == code and (text is None or got[1].decode(errors="replace").startswith(text))
    if not ok:
        with lock:
            wrong.append("%s: got %r, want %d %s" % (what, got, code, text or ""))
    return ok


def client(i):
    for n in range(count):
        t0 = time.monotonic()
        try:
            s = smtplib.SMTP("127.0.0.1", 25, local_hostname="client10.test",
                             source_address=(addrs[i % len(addrs)], 0), timeout=60)
            expect("EHLO", s.ehlo(), 250)
            expect("MAIL", s.mail("alice@pass.test"), 250)
            expect("RCPT bob", s.rcpt("bob@example.org"), 250)
            expect("RCPT nobody", s.rcpt("nobody@example.org"), 550, "5.1.1")
            expect("DATA", s.data(MSG % (i, n)), 250)
            expect("QUIT", s.quit(), 221)
        except (OSError, smtplib.SMTPException) as e:
            with lock:
                wrong.append("transaction %d/%d: %s" % (i, n, e))
            continue
        with lock:
            times.append(time.monotonic() - t0)


threads = [threading.Thread(target=client, args=(i,)) for i in range(clients)]
for t in threads:
    t.start()
for t in threads:
    t.join()
for w in wrong:
    print("wrong: " + w)
times.sort()
with open(out, "w") as f:
    f.writelines("%.6f\n" % t for t in times)


def pct(p):
    return times[min(len(times) - 1, int(p * len(times)))] if times else 0.0


print("transactions=%d wrong=%d p50=%.4f p95=%.4f" % (len(times), len(wrong), pct(0.5), pct(0.95)))
