#!/usr/bin/python3
# NAME
#	chromeshot.py - open a page in headless Chromium, screenshot it, report errors
# SYNOPSIS
#	chromeshot.py PAGE PNG PROFILE_DIR [WIDTH]
# DESCRIPTION
#	Starts chromium headless (--disable-gpu, a private --user-data-dir
#	PROFILE_DIR, --no-sandbox only when run as root, the DevTools
#	protocol on a port of its choosing on 127.0.0.1), opens PAGE (a
#	file) through the protocol (python3-websocket) with the Runtime, Log,
#	Page and Network domains enabled, waits for its load event and a
#	moment more, and writes a PNG screenshot of the whole page, WIDTH
#	(default 1280) CSS pixels wide at scale 1, to PNG. Prints one line
#	per problem seen from the start: "exception: ..." (Runtime.
#	exceptionThrown), "console-error: ..." (Runtime.consoleAPICalled of
#	type error or assert), "log-error: ..." (Log.entryAdded of level
#	error, such as a Content-Security-Policy violation) and "request:
#	URL" (Network.requestWillBeSent for anything but PAGE itself), then
#	"screenshot WIDTHxHEIGHT". Meant to run in a network namespace of its
#	own (unshare -n) with only loopback up.
# DIAGNOSTICS
#	Exit 0 when the screenshot was written and no problem was seen, 1
#	when a problem was seen, 2 when Chromium or the protocol failed.
import base64
import json
import os
import shutil
import subprocess
import sys
import time
import urllib.request

import websocket


def chromium_binary():
    for name in ("chromium", "chromium-browser", "google-chrome"):
        path = shutil.which(name)
        if path:
            return path
    sys.exit("chromeshot: chromium not found (tests/deps.sh installs it)")


class Tab:
    """One DevTools protocol connection to a page target."""

    def __init__(self, url):
        self.ws = websocket.create_connection(url, timeout=30, suppress_origin=True)
        self.next_id = 0
        self.events = []

    def call(self, method, **params):
        self.next_id += 1
        self.ws.send(json.dumps({"id": self.next_id, "method": method, "params": params}))
        while True:
            msg = json.loads(self.ws.recv())
            if msg.get("id") == self.next_id:
                if "error" in msg:
                    raise RuntimeError("%s: %s" % (method, msg["error"]))
                return msg.get("result", {})
            if "method" in msg:
                self.events.append(msg)

    def wait_event(self, method, seconds):
        deadline = time.monotonic() + seconds
        for e in self.events:
            if e["method"] == method:
                return True
        while time.monotonic() < deadline:
            self.ws.settimeout(max(0.05, deadline - time.monotonic()))
            try:
                msg = json.loads(self.ws.recv())
            except websocket.WebSocketTimeoutException:
                break
            if "method" in msg:
                self.events.append(msg)
                if msg["method"] == method:
                    return True
        self.ws.settimeout(30)
        return False

    def drain(self, seconds):
        self.wait_event("-none-", seconds)


def problems(events, page_url):
    out = []
    for e in events:
        m, p = e["method"], e.get("params", {})
        if m == "Runtime.exceptionThrown":
            d = p.get("exceptionDetails", {})
            out.append("exception: %s" % (d.get("exception", {}).get("description") or d.get("text")))
        elif m == "Runtime.consoleAPICalled" and p.get("type") in ("error", "assert"):
            out.append("console-error: %s" % " ".join(
                str(a.get("value", a.get("description", ""))) for a in p.get("args", [])))
        elif m == "Log.entryAdded" and p.get("entry", {}).get("level") == "error":
            out.append("log-error: %s" % p["entry"].get("text"))
        elif m == "Network.requestWillBeSent":
            url = p.get("request", {}).get("url", "")
            if url != page_url:
                out.append("request: %s" % url)
    return out


def main():
    page, png, profile = sys.argv[1], sys.argv[2], sys.argv[3]
    width = int(sys.argv[4]) if len(sys.argv) > 4 else 1280
    page_url = "file://" + os.path.abspath(page)
    os.makedirs(profile, exist_ok=True)
    args = [chromium_binary(), "--headless=new", "--disable-gpu", "--user-data-dir=" + profile,
            "--remote-debugging-address=127.0.0.1", "--remote-debugging-port=0",
            "--no-first-run", "--no-default-browser-check", "--disable-extensions",
            "--disable-background-networking", "--disable-component-update", "--disable-sync",
            "--disable-default-apps", "--hide-scrollbars", "--mute-audio",
            "--window-size=%d,800" % width, "about:blank"]
    if os.geteuid() == 0:
        args.insert(1, "--no-sandbox")  # Chromium refuses to run as root with its sandbox
    log = open(os.path.join(profile, "chromium.log"), "w")
    proc = subprocess.Popen(args, stdout=log, stderr=log)
    try:
        port_file = os.path.join(profile, "DevToolsActivePort")
        deadline = time.monotonic() + 30
        while not os.path.exists(port_file) or os.path.getsize(port_file) == 0:
            if proc.poll() is not None or time.monotonic() > deadline:
                print("chromeshot: chromium did not start (see %s)" % log.name)
                return 2
            time.sleep(0.05)
        port = int(open(port_file).read().split()[0])
        targets = json.load(urllib.request.urlopen("http://127.0.0.1:%d/json/list" % port,
                                                   timeout=10))
        target = next(t for t in targets if t.get("type") == "page")
        tab = Tab(target["webSocketDebuggerUrl"])
        for domain in ("Runtime", "Log", "Page", "Network"):
            tab.call(domain + ".enable")
        tab.call("Emulation.setDeviceMetricsOverride", width=width, height=800,
                 deviceScaleFactor=1, mobile=False)
        tab.events.clear()
        tab.call("Page.navigate", url=page_url)
        if not tab.wait_event("Page.loadEventFired", 20):
            print("chromeshot: the page did not load")
            return 2
        tab.drain(0.3)
        metrics = tab.call("Page.getLayoutMetrics")
        height = int(metrics.get("cssContentSize", metrics.get("contentSize"))["height"])
        height = max(1, min(height, 8000))
        tab.call("Emulation.setDeviceMetricsOverride", width=width, height=height,
                 deviceScaleFactor=1, mobile=False)
        shot = tab.call("Page.captureScreenshot", format="png", fromSurface=True)
        with open(png, "wb") as f:
            f.write(base64.b64decode(shot["data"]))
        tab.drain(0.2)
        found = problems(tab.events, page_url)
        for p in found:
            print(p)
        print("screenshot %dx%d" % (width, height))
        tab.ws.close()
        return 1 if found else 0
    except (OSError, RuntimeError, StopIteration, ValueError, KeyError,
            websocket.WebSocketException) as e:
        print("chromeshot: %s: %s" % (type(e).__name__, e))
        return 2
    finally:
        proc.terminate()
        try:
            proc.wait(10)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()


if __name__ == "__main__":
    sys.exit(main())
