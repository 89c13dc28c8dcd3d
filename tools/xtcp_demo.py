# SPDX-License-Identifier: GPL-2.0
"""xtcp_demo: the report of scripts/demo, made from that run's files.

  xtcp_demo.py text DIR [--compare-rc N]
      DIR/report.txt, DIR/demo.json and DIR/verdict.txt from what the
      guest left in DIR; prints report.txt; exit 0 same, 1 not
  xtcp_demo.py html DIR
      DIR/report.html with a ladder diagram per connection (matplotlib,
      PNG embedded), from DIR/report.json and DIR/demo.json

DIR is what scripts/demo --guest writes: scripts/xtcp-compare's
stock.pcap, xtcp.pcap, report.json (tools/xtcp_report.py's compare()),
client-*.out, counters-*-before/after.txt (--counters), and
scripts/xtcp-trace's trace/ (render.txt, tap.txt: scripts/seedmap.py).
"text" needs only Python's standard library (it runs in the TCG guest);
"html" needs matplotlib (Debian's python3-matplotlib), on the host.
"""
import argparse
import base64
import html
import io
import json
import os
import re
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import xtcp_report as xr  # noqa: E402

# The workloads of scripts/demo --clients, in the order they connect.
WORKLOADS = {
    "get-small": "curl GET of a 1000-byte file",
    "get-4M": "curl GET of a 4 MiB file",
    "get-64k": "curl GET of a 64 KiB file",
    "upload": "curl POST to /echo, the body echoed back",
    "nc-srvclose": "nc, HTTP/1.0 GET of a 300-byte file: the server "
                   "closes first",
    "nc-clclose": "nc -N, HTTP/1.1 GET of a 300-byte file: the client "
                  "closes first",
}


def read(path, default=""):
    try:
        with open(path, errors="replace") as f:
            return f.read()
    except OSError:
        return default


def parse_counters(text):
    """{name: value} of a counters file of xtcp-compare --counters:
    /proc/net/xtcp_stat's two lines ("Xtcp:" names, values) as
    "Xtcp.NAME", nstat's "NAME VALUE ..." lines as they are."""
    out = {}
    part = None
    names = None
    for ln in text.splitlines():
        if ln.startswith("# "):
            part = ln
            continue
        if ln.startswith("#"):
            continue            # nstat's "#kernel"
        w = ln.split()
        if not w:
            continue
        if "xtcp_stat" in (part or "") and w[0] == "Xtcp:":
            if names is None:
                names = w[1:]
            else:
                for k, v in zip(names, w[1:]):
                    out["Xtcp." + k] = int(v)
        elif "nstat" in (part or "") and len(w) >= 2 and \
                re.fullmatch(r"-?\d+", w[1]):
            out[w[0]] = int(w[1])
    return out


def counter_deltas(d, name):
    """The counters that moved during run NAME: {name: delta}, or None
    when the files are missing."""
    b = os.path.join(d, "counters-%s-before.txt" % name)
    a = os.path.join(d, "counters-%s-after.txt" % name)
    if not (os.path.exists(a) and os.path.exists(b)):
        return None
    before, after = parse_counters(read(b)), parse_counters(read(a))
    return {k: after[k] - before.get(k, 0) for k in sorted(after)
            if after[k] != before.get(k, 0)}


def stem(name):
    """A counter's name without its file's prefix: Xtcp.PassiveOpens,
    TcpPassiveOpens and TcpExtTCPHPAcks become PassiveOpens and
    TCPHPAcks, so stock's and xtcp's line up."""
    for p in ("Xtcp.", "TcpExt", "Tcp"):
        if name.startswith(p):
            return name[len(p):]
    return name


def counter_table(deltas, names=("stock", "xtcp")):
    """Rows (counter, first run's delta, second run's) for the TCP
    counters that moved in either run, each run's from its own stack
    (stock's nstat Tcp*, xtcp's /proc/net/xtcp_stat), and the rows of
    other counters (IP, UDP, ...) as (name, first, second)."""
    runs = [deltas.get(n) or {} for n in names]
    tcp = {}
    for i, (name, d) in enumerate(zip(names, runs)):
        own = "Xtcp." if name.startswith("xtcp") else "Tcp"
        for k, v in d.items():
            if k.startswith(own):
                tcp.setdefault(stem(k), [None, None])[i] = v
    other = sorted(set(k for d in runs for k in d
                       if not k.startswith(("Tcp", "Xtcp."))))
    return ([(k, tcp[k][0], tcp[k][1]) for k in sorted(tcp)],
            [(k, runs[0].get(k), runs[1].get(k)) for k in other])


def client_lines(d, name):
    return [ln for ln in read(os.path.join(d, "client-%s.out" % name))
            .splitlines() if ln.strip()]


def trace_summary(d):
    """(found, total, missing lines, not-ok TAP lines) of the trace."""
    render = read(os.path.join(d, "trace", "render.txt"))
    m = re.search(r"^(\d+) of (\d+) mapped seed steps found in order", render,
                  re.M)
    tap = read(os.path.join(d, "trace", "tap.txt"))
    bad = [ln for ln in tap.splitlines() if ln.startswith("not ok")]
    missing = []
    if "did not appear" in render:
        part = render.split("did not appear in order:", 1)[1]
        for ln in part.splitlines()[1:]:
            if not ln.strip():
                break
            missing.append(ln)
    if not m:
        return None, None, missing, bad or ["no trace rendered"]
    return int(m.group(1)), int(m.group(2)), missing, bad


def checks(d, rep, compare_rc):
    """[(ok, what, note)]: what the verdict is made of."""
    out = []
    if rep is None:
        return [(False, "the captures were compared",
                 "no report.json (xtcp-compare exit %s)" % compare_rc)]
    na, nb = rep["names"]
    out.append((rep["verdict"]["same"], "xtcp's segments are stock's",
                rep["verdict"]["text"]))
    out.append((compare_rc in (0, 1), "the pipeline ran",
                "xtcp-compare exit %s" % compare_rc))
    la, lb = client_lines(d, na), client_lines(d, nb)
    names = [ln.split()[0] for ln in la]
    bad = [ln for ln in la + lb if " rc=0 " not in ln + " "]
    out.append((len(la) == 5 and not bad and la == lb,
                "the clients got the same, and all of it",
                "%d workloads (%s)%s%s" % (
                    len(la), " ".join(names),
                    "; failed: " + "; ".join(bad) if bad else "",
                    "" if la == lb else "; %s and %s got different bytes" %
                    (na, nb))))
    conns = len(rep["connections"])
    out.append((conns == len(la), "one connection per workload",
                "%d connections, %d workloads" % (conns, len(la))))
    found, total, missing, notok = trace_summary(d)
    out.append((found is not None and found == total and not notok,
                "the trace holds every mapped seed step, in order",
                "%s of %s found%s" % (found, total, "; " + "; ".join(
                    x.strip() for x in missing + notok[:3])
                    if missing or notok else "")))
    deltas = {n: counter_deltas(d, n) for n in (na, nb)}
    if all(v is not None for v in deltas.values()):
        po = {n: deltas[n].get("Xtcp.PassiveOpens" if n.startswith("xtcp")
                               else "TcpPassiveOpens", 0) for n in (na, nb)}
        out.append((po[na] == conns and po[nb] == conns,
                    "PassiveOpens counted each connection once",
                    "%s %d, %s %d" % (na, po[na], nb, po[nb])))
    return out


def verdict_line(rep, cks):
    bad = [c for c in cks if not c[0]]
    if not bad:
        return "verdict: same - %s" % rep["verdict"]["text"].split(
            " - ", 1)[1] + "; the trace holds every mapped seed step; " \
            "the clients got the same"
    first = bad[0]
    return "verdict: DIFFERENT - %d of %d checks failed (first: %s: %s)" % (
        len(bad), len(cks), first[1], first[2])


def label_connections(text, names):
    """render_text()'s "connection N:" lines with the workload's name."""
    def sub(m):
        n = int(m.group(1))
        w = names[n - 1] if n <= len(names) else "?"
        return "connection %d (%s):" % (n, w)
    return re.sub(r"^connection (\d+):", sub, text, flags=re.M)


def build(d, compare_rc):
    path = os.path.join(d, "report.json")
    rep = None
    if os.path.exists(path):
        with open(path) as f:
            rep = json.load(f)
    cks = checks(d, rep, compare_rc)
    line = verdict_line(rep, cks) if rep else \
        "verdict: DIFFERENT - %s" % cks[0][2]
    names = rep["names"] if rep else ["stock", "xtcp"]
    deltas = {n: counter_deltas(d, n) for n in names}
    tcp, other = counter_table(deltas, names)
    work = [ln.split()[0] for ln in client_lines(d, names[0])]
    demo = {"version": 1, "names": names, "workloads": work,
            "compare_rc": compare_rc,
            "checks": [{"ok": ok, "what": w, "note": n} for ok, w, n in cks],
            "counters": {"tcp": tcp, "other": other},
            "verdict": {"same": all(c[0] for c in cks), "text": line}}
    return rep, demo


def text_report(d, rep, demo):
    na, nb = demo["names"]
    o = []
    o.append("xtcp demo: %s" % ", ".join(
        "%s=%s" % (k, v) for k, v in sorted((rep or {}).get("meta", {})
                                           .items()) if k != "client"))
    o.append("")
    o.append("== workloads (scripts/demo --clients, from netns xcli)")
    for n, w in enumerate(demo["workloads"], 1):
        o.append("  %d %-12s %s" % (n, w, WORKLOADS.get(w, "")))
    for name in (na, nb):
        o.append("  %s got:" % name)
        o.extend("    " + ln for ln in client_lines(d, name))
    o.append("")
    o.append("== side by side, every segment (tools/xtcp_report.py, "
             "from %s.pcap and %s.pcap)" % (na, nb))
    if rep:
        o.append(label_connections(xr.render_text(rep), demo["workloads"])
                 .rstrip("\n"))
    o.append("")
    o.append("== xtcp's calls for one connection, next to the seed "
             "(scripts/xtcp-trace, seedmap.py)")
    o.append(read(os.path.join(d, "trace", "render.txt"),
                  "(no trace: see trace.log)").rstrip("\n"))
    o.append("")
    o.append("== counters that moved in xsrv, each run's from its stack "
             "(stock: nstat; xtcp: /proc/net/xtcp_stat)")
    tcp, other = demo["counters"]["tcp"], demo["counters"]["other"]
    o.append("  %-28s %12s %12s" % ("TCP", na, nb))
    for k, a, b in tcp:
        o.append("  %-28s %12s %12s" % (k, "-" if a is None else a,
                                         "-" if b is None else b))
    if other:
        o.append("  %-28s %12s %12s" % ("other (nstat)", na, nb))
        for k, a, b in other:
            o.append("  %-28s %12s %12s" % (k, "-" if a is None else a,
                                             "-" if b is None else b))
    o.append("")
    o.append("== summary")
    for c in demo["checks"]:
        o.append("%s %s # %s" % ("ok    " if c["ok"] else "NOT OK", c["what"],
                                 c["note"]))
    o.append(demo["verdict"]["text"])
    return "\n".join(o) + "\n"


def cmd_text(args):
    rep, demo = build(args.dir, args.compare_rc)
    text = text_report(args.dir, rep, demo)
    with open(os.path.join(args.dir, "demo.json"), "w") as f:
        json.dump(demo, f, indent=1)
        f.write("\n")
    with open(os.path.join(args.dir, "report.txt"), "w") as f:
        f.write(text)
    with open(os.path.join(args.dir, "verdict.txt"), "w") as f:
        f.write(demo["verdict"]["text"] + "\n")
    sys.stdout.write(text)
    return 0 if demo["verdict"]["same"] else 1


# ---------------------------------------------------------------------
# HTML and ladder diagrams (matplotlib)
# ---------------------------------------------------------------------

# A ladder shows every row up to LADDER_MAX; a longer connection its
# first LADDER_HEAD and last LADDER_TAIL rows around a gap.
LADDER_MAX = 48
LADDER_HEAD = 28
LADDER_TAIL = 14

MARK_COLOR = {"!": "#c00000", "~": "#b07000", "x": "#3060b0",
              "w": "#3060b0", "d": "#3060b0", "f": "#3060b0",
              "=": "#000000"}


def ladder_rows(c):
    n = len(c["rows"])
    if n <= LADDER_MAX:
        return list(range(n)), None
    return list(range(LADDER_HEAD)) + list(range(n - LADDER_TAIL, n)), \
        LADDER_HEAD


def seg_label(r):
    s = "%s %s" % (r["flags"], r["seq"])
    if r["ack"] is not None:
        s += " ack %s" % r["ack"]
    if r["len"]:
        s += " len %d" % r["len"]
    s += " win %d" % r["win"]
    return s


def ladder_png(rep, c, title):
    import matplotlib
    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    idx, gap = ladder_rows(c)
    h = 1.2 + 0.28 * (len(idx) + (2 if gap else 0))
    fig, axes = plt.subplots(1, 2, figsize=(13, h), sharey=True)
    for ax, side, name in zip(axes, ("a", "b"), rep["names"]):
        ax.set_xlim(-0.55, 1.55)
        ax.set_ylim(len(idx) + (2 if gap else 0) + 0.5, -1.2)
        ax.axis("off")
        for x, who in ((0, "client (stock)"), (1, "server (%s)" % name)):
            ax.plot([x, x], [-0.5, len(idx) + (2 if gap else 0) + 0.3],
                    color="#555555", lw=1)
            ax.text(x, -0.9, who, ha="center", va="bottom", fontsize=9,
                    weight="bold")
        y = 0
        for k, i in enumerate(idx):
            if gap is not None and k == gap:
                ax.text(0.5, y + 0.5, "... %d rows (the tables show them) ..."
                        % (len(c["rows"]) - LADDER_HEAD - LADDER_TAIL),
                        ha="center", va="center", fontsize=8, style="italic")
                y += 2
            row = c["rows"][i]
            r = row[side]
            if r is not None:
                x0, x1 = (0, 1) if r["dir"] == "in" else (1, 0)
                col = MARK_COLOR.get(row["mark"], "#000000")
                ax.annotate("", xy=(x1, y + 0.35), xytext=(x0, y - 0.25),
                            arrowprops=dict(arrowstyle="->", color=col,
                                            lw=1))
                ax.text(0.5, y - 0.05, seg_label(r), ha="center",
                        va="bottom", fontsize=7, color=col)
                ax.text(-0.06 if r["dir"] == "in" else 1.06, y - 0.25,
                        "%.4f" % r["t"], ha="right" if r["dir"] == "in"
                        else "left", va="center", fontsize=6,
                        color="#666666")
            y += 1
        ax.set_title(name, fontsize=10)
    fig.suptitle(title, fontsize=10)
    fig.tight_layout()
    buf = io.BytesIO()
    fig.savefig(buf, format="png", dpi=80)
    plt.close(fig)
    return buf.getvalue()


def h(s):
    return html.escape(str(s))


def html_cell(r):
    if r is None:
        return "<td colspan=8></td>"
    win = str(r["win"]) if r["win"] == r["win_scaled"] else \
        "%d(%d)" % (r["win"], r["win_scaled"])
    return "".join("<td>%s</td>" % h(v) for v in (
        "%.4f" % r["t"], "&rarr;" if r["dir"] == "in" else "&larr;",
        r["flags"], r["seq"], "-" if r["ack"] is None else r["ack"], win,
        r["len"], ",".join(r["opts"]) or "-")).replace(
            "&amp;rarr;", "&rarr;").replace("&amp;larr;", "&larr;")


def html_table(rep, c):
    na, nb = rep["names"]
    head = "".join("<th>%s</th>" % x for x in
                   ("t", "dir", "flags", "seq", "ack", "win", "len",
                    "options"))
    o = ["<table class=seg><tr><th>#</th><th colspan=8>%s</th><th></th>"
         "<th colspan=8>%s</th></tr>" % (h(na), h(nb)),
         "<tr><th></th>%s<th></th>%s</tr>" % (head, head)]
    for r in c["rows"]:
        cls = {"!": "diff", "~": "timing", "x": "timing", "d": "timing",
               "w": "timing", "b": "timing", "f": "timing"}.get(
            r["mark"], "")
        mark = "" if r["mark"] == "=" else r["mark"]
        o.append("<tr class='%s'><td>%d</td>%s<td class=mark title='%s'>%s"
                 "</td>%s</tr>" % (cls, r["n"], html_cell(r["a"]),
                                   h(", ".join(r["fields"])), h(mark),
                                   html_cell(r["b"])))
    o.append("</table>")
    return "\n".join(o)


CSS = """
body { font-family: sans-serif; margin: 1.5em; }
pre { background: #f6f6f6; padding: .6em; font-size: 12px; overflow-x: auto; }
table.seg { border-collapse: collapse; font-family: monospace; font-size: 11px; }
table.seg td, table.seg th { padding: 1px 5px; border-bottom: 1px solid #eee;
  white-space: nowrap; }
tr.diff { background: #ffd8d8; } tr.timing { background: #eef3ff; }
td.mark { font-weight: bold; color: #c00000; }
.same { color: #006000; } .different { color: #c00000; }
table.cnt td, table.cnt th { padding: 1px 10px; text-align: right; }
table.cnt td:first-child { text-align: left; }
"""


def cmd_html(args):
    d = args.dir
    with open(os.path.join(d, "demo.json")) as f:
        demo = json.load(f)
    rep = None
    if os.path.exists(os.path.join(d, "report.json")):
        with open(os.path.join(d, "report.json")) as f:
            rep = json.load(f)
    na, nb = demo["names"]
    v = demo["verdict"]
    o = ["<!DOCTYPE html><html><head><meta charset='utf-8'>"
         "<title>xtcp demo</title><style>%s</style></head><body>" % CSS,
         "<h1>xtcp next to stock TCP</h1>",
         "<p class='%s'><b>%s</b></p>" % ("same" if v["same"] else
                                          "different", h(v["text"]))]
    if rep:
        o.append("<p>%s</p>" % h(", ".join(
            "%s=%s" % (k, x) for k, x in sorted(rep["meta"].items())
            if k != "client")))
    o.append("<h2>Checks</h2><ul>")
    for c in demo["checks"]:
        o.append("<li class='%s'>%s %s <small>(%s)</small></li>" % (
            "same" if c["ok"] else "different", "ok" if c["ok"] else
            "NOT OK", h(c["what"]), h(c["note"])))
    o.append("</ul><h2>Workloads</h2><ol>")
    for w in demo["workloads"]:
        o.append("<li><code>%s</code>: %s</li>" % (h(w),
                                                   h(WORKLOADS.get(w, ""))))
    o.append("</ol>")
    if rep:
        o.append("<h2>Connections</h2><p>Time runs down; each arrow is a "
                 "segment as the server's NIC saw it (tcpdump), seq/ack "
                 "relative to each side's ISN. Colours and marks: red "
                 "<b>!</b> an unexplained difference, blue <b>x</b>/<b>d</b>"
                 "/<b>f</b> and amber <b>~</b> timing (<b>f</b>: a FIN on "
                 "the data in one run, alone after it in the other), "
                 "<b>b</b> a bulk transfer compared as a "
                 "whole, <b>w</b> the window after one (allowed, explained "
                 "below)."
                 "</p>")
        for c in rep["connections"]:
            n = c["n"]
            w = demo["workloads"][n - 1] if n <= len(demo["workloads"]) \
                else "?"
            title = "connection %d: %s" % (n, w)
            png = ladder_png(rep, c, title)
            o.append("<h3>%s</h3>" % h(title))
            o.append("<img alt='ladder diagram of %s' src='data:image/png;"
                     "base64,%s'>" % (h(title),
                                      base64.b64encode(png).decode()))
            big = len(c["rows"]) > 80
            o.append("<details%s><summary>every segment, side by side (%d "
                     "rows)</summary>" % ("" if big else " open",
                                         len(c["rows"])))
            o.append(html_table(rep, c))
            o.append("</details>")
        if rep["differences"]:
            o.append("<h2>Unexplained differences (%d)</h2><ul>" %
                     len(rep["differences"]))
            for x in rep["differences"][:200]:
                o.append("<li>conn %s row %s: %s: %s</li>" % (
                    x["conn"], x["row"], h(x["field"]), h(x["text"])))
            o.append("</ul>")
        o.append("<h2>Allowed differences</h2><ul>")
        for k in sorted(rep["allowed"]):
            o.append("<li>%s</li>" % h(rep["allowed"][k]))
        o.append("</ul>")
    o.append("<h2>xtcp's calls for one connection, next to the seed</h2>")
    o.append("<pre>%s</pre>" % h(read(os.path.join(d, "trace", "render.txt"),
                                      "(no trace)")))
    o.append("<h2>Counters that moved</h2><p>Each run's TCP counters from "
             "its own stack: stock's from nstat, xtcp's from "
             "/proc/net/xtcp_stat; then the others (nstat).</p>"
             "<table class=cnt><tr><th>TCP</th><th>%s</th><th>%s</th></tr>"
             % (h(na), h(nb)))
    for k, a, b in demo["counters"]["tcp"]:
        o.append("<tr><td>%s</td><td>%s</td><td>%s</td></tr>" % (
            h(k), "-" if a is None else a, "-" if b is None else b))
    for k, a, b in demo["counters"]["other"]:
        o.append("<tr><td>%s</td><td>%s</td><td>%s</td></tr>" % (
            h(k), "-" if a is None else a, "-" if b is None else b))
    o.append("</table>")
    o.append("<p>Files: %s.pcap, %s.pcap, report.txt, report.json, "
             "trace/trace.raw.</p></body></html>" % (h(na), h(nb)))
    with open(os.path.join(d, "report.html"), "w") as f:
        f.write("\n".join(o) + "\n")
    return 0


def main(argv=None):
    ap = argparse.ArgumentParser(description="scripts/demo's report "
                                 "(see the module's docstring)")
    sub = ap.add_subparsers(dest="cmd", required=True)
    t = sub.add_parser("text")
    t.add_argument("dir")
    t.add_argument("--compare-rc", type=int, default=0)
    w = sub.add_parser("html")
    w.add_argument("dir")
    args = ap.parse_args(argv)
    return cmd_text(args) if args.cmd == "text" else cmd_html(args)


if __name__ == "__main__":
    sys.exit(main())
