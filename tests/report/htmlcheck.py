#!/usr/bin/env python3
# NAME
#	htmlcheck.py - the HTML page of policy-milter-report against its text report
# SYNOPSIS
#	htmlcheck.py compare TEXT HTML	(the same log and options)
#	htmlcheck.py selfcontained HTML
#	htmlcheck.py text HTML ID	(the text of the element with that id)
# DESCRIPTION
#	compare: parses the text report (header lines, then titled tables
#	whose columns are two or more spaces apart, "(none)" when empty) and
#	the page (python3's html.parser: the tables with id "t-NAME", their
#	body rows' th/td cells but the bar cells of class viz; the elements
#	with an id for the totals) and prints one "same"/"differs" line per
#	table and figure: records read and matched, the period, the malformed
#	count, every table (the hours table's refusals column for the hours
#	that have refusals), the totals (refused, would refuse, accepted,
#	pass rates) against the action and rate tables, and the chart's bars
#	(their refusals and would-refusals sum to those totals).
#	selfcontained: the page parses with every element closed in order,
#	and holds nothing that fetches or runs: no script, link, img, iframe,
#	object, embed, media, base or form element, no src, href, srcset,
#	action, poster, xlink:href or on* attribute, no url( or @import.
# DIAGNOSTICS
#	Exit 0 when everything matched, 1 otherwise (each difference printed).
import re
import sys
from html.parser import HTMLParser

TITLES = {
    "Decisions by action": "actions",
    "Decisions by reply code": "replies",
    "Top client addresses by refusals": "clients",
    "Top networks by refusals": "networks",
    "Top sender domains by failing check": "failing",
    "Pass rates at end of message": "rates",
    "Refusals per hour (UTC)": "hours",
    "Top recipients targeted with unknown addresses": "unknown",
    "Would have refused (log or tag mode, dry run)": "would",
    "Greylisting": "greylisting",
    "Top rate-limited keys": "ratelimited",
}
VOID = {"area", "base", "br", "col", "embed", "hr", "img", "input", "link", "meta", "source",
        "track", "wbr"}
FETCHING_TAGS = {"script", "link", "img", "iframe", "frame", "object", "embed", "audio", "video",
                 "source", "track", "base", "form", "image", "use", "foreignobject", "picture",
                 "portal", "applet", "noscript"}
FETCHING_ATTRS = {"src", "href", "srcset", "action", "formaction", "poster", "xlink:href",
                  "background", "data", "ping", "manifest", "codebase", "lowsrc"}


class Page(HTMLParser):
    """Tables by id, texts of elements with an id, chart bars, and problems."""

    def __init__(self):
        super().__init__(convert_charrefs=True)
        self.stack = []  # (tag, id, attrs)
        self.texts = {}  # id -> text
        self.attrs = {}  # id -> attrs dict
        self.tables = {}  # "t-NAME" -> rows
        self.table = None
        self.row = None
        self.cell = None
        self.bars = []  # (start, refused, would)
        self.problems = []
        self.data = []

    def handle_starttag(self, tag, attrs):
        self._element(tag, attrs)
        if tag not in VOID:
            a = dict(attrs)
            self.stack.append((tag, a.get("id"), a))
        self._open(tag, dict(attrs))

    def handle_startendtag(self, tag, attrs):
        self._element(tag, attrs)
        self._open(tag, dict(attrs))
        self._close(tag)

    def _element(self, tag, attrs):
        if tag in FETCHING_TAGS:
            self.problems.append("element <%s>" % tag)
        for k, v in attrs:
            if k in FETCHING_ATTRS or k.startswith("on"):
                self.problems.append("attribute %s=%r on <%s>" % (k, v, tag))
            if v is not None and re.search(r"url\s*\(|@import|javascript:", v, re.I):
                self.problems.append("%s=%r on <%s>" % (k, v, tag))

    def _open(self, tag, a):
        if a.get("id"):
            self.texts[a["id"]] = ""
            self.attrs[a["id"]] = a
        if tag == "table" and a.get("id", "").startswith("t-"):
            self.table = a["id"]
            self.tables[self.table] = []
        elif tag == "tr" and self.table and any(t == "tbody" for t, _, _ in self.stack):
            self.row = []
        elif tag in ("th", "td") and self.row is not None:
            self.cell = None if "viz" in a.get("class", "").split() else ""
        elif tag == "g" and "data-start" in a:
            self.bars.append((a["data-start"], int(a["data-refused"]), int(a["data-would"])))

    def handle_endtag(self, tag):
        if tag in VOID:
            return
        if not self.stack or self.stack[-1][0] != tag:
            self.problems.append("</%s> closes <%s>" % (tag, self.stack[-1][0] if self.stack
                                                          else "nothing"))
        else:
            self.stack.pop()
        self._close(tag)

    def _close(self, tag):
        if tag in ("th", "td") and self.row is not None:
            if self.cell is not None:
                self.row.append(self.cell.strip())
            self.cell = None
        elif tag == "tr" and self.row is not None:
            self.tables[self.table].append(self.row)
            self.row = None
        elif tag == "table":
            self.table = None

    def handle_data(self, data):
        self.data.append(data)
        if self.cell is not None:
            self.cell += data
        for _, i, _ in self.stack:
            if i:
                self.texts[i] += data


def parse_html(path):
    p = Page()
    with open(path, encoding="utf-8") as f:
        p.feed(f.read())
    p.close()
    if p.stack:
        p.problems.append("unclosed: " + " ".join(t for t, _, _ in p.stack))
    return p


def parse_text(path):
    """Header lines (key -> rest) and tables (title -> rows of cells)."""
    with open(path, encoding="utf-8") as f:
        blocks = f.read().rstrip("\n").split("\n\n")
    header = {}
    for line in blocks[0].split("\n")[1:]:
        m = re.match(r"(\w+):\s+(.*)$", line)
        if m:
            header[m.group(1)] = m.group(2)
        elif line.startswith("skipped "):
            header.setdefault("skipped", []).append(line)
    tables = {}
    for b in blocks[1:]:
        lines = b.split("\n")
        rows = [re.split(r"\s{2,}", ln.strip()) for ln in lines[1:]]
        tables[lines[0]] = [] if rows == [["(none)"]] else rows[1:]
    return header, tables


def compare(text_path, html_path):
    header, tables = parse_text(text_path)
    page = parse_html(html_path)
    bad = 0

    def same(what, got, want):
        nonlocal bad
        if got == want:
            print("same: %s" % what)
        else:
            bad = 1
            print("differs: %s\n    html: %r\n    text: %r" % (what, got, want))

    read, matched = re.match(r"(\d+) read, (\d+) matched", header["records"]).groups()
    same("records read", page.texts.get("records-read"), read)
    same("records matched", page.texts.get("records-matched"), matched)
    period = header["period"]
    if period == "-":
        same("period", page.texts.get("period-first"), "-")
    else:
        same("period", "%s to %s" % (page.texts.get("period-first"), page.texts.get("period-last")),
             period)
    for line in header.get("skipped", []):
        pid = "malformed" if "malformed" in line else "state-skipped"
        same(pid, page.texts.get(pid, "").lower(), line.lower())
    if "skipped" not in header:
        same("no skipped lines", [i for i in ("malformed", "state-skipped") if i in page.texts], [])
    same("the same tables", sorted("t-" + TITLES[t] for t in tables),
         sorted(t for t in page.texts if t.startswith("t-")))
    for title, rows in tables.items():
        tid = "t-" + TITLES[title]
        got = page.tables.get(tid, [])
        if tid == "t-hours":
            got = [r[:2] for r in got if r[1] != "0"]
        same("table %s (%d rows)" % (title, len(rows)), got, rows)
    acts = {r[0]: (int(r[1]), int(r[2])) for r in tables["Decisions by action"]}
    refused = acts["reject"][0] + acts["tempfail"][0]
    would = acts["reject"][1] + acts["tempfail"][1]
    same("total refused", page.texts.get("refused"), str(refused))
    same("total would refuse", page.texts.get("would-refuse"), str(would))
    same("total accepted", page.texts.get("accepted"), str(acts["accept"][0]))
    for r in tables["Pass rates at end of message"]:
        same("%s pass rate" % r[0], page.texts.get("rate-" + r[0]), r[3])
    if matched != "0":
        chart = page.attrs.get("chart", {})
        same("chart: refusals", (chart.get("data-refused"), sum(b[1] for b in page.bars)),
             (str(refused), refused))
        same("chart: would-refusals", (chart.get("data-would"), sum(b[2] for b in page.bars)),
             (str(would), would))
        hours = page.tables.get("t-hours", [])
        same("hours table: would-refusals", sum(int(r[2]) for r in hours), would)
    same("well-formed, nothing fetched", page.problems, [])
    return bad


def main():
    if sys.argv[1] == "compare":
        sys.exit(compare(sys.argv[2], sys.argv[3]))
    if sys.argv[1] == "selfcontained":
        page = parse_html(sys.argv[2])
        raw = open(sys.argv[2], encoding="utf-8").read()
        if re.search(r"url\s*\(|@import", raw, re.I):
            page.problems.append("url( or @import in the page")
        for p in page.problems:
            print(p)
        sys.exit(1 if page.problems else 0)
    if sys.argv[1] == "text":
        page = parse_html(sys.argv[2])
        print(page.texts.get(sys.argv[3], ""))
        sys.exit(0)
    sys.exit(2)


if __name__ == "__main__":
    main()
