# SPDX-License-Identifier: GPL-2.0
"""fastopen.py: fastopen.sh's checks of its capture and counters.

  fastopen.py PCAP STOCK_PORT XTCP_PORT BEFORE AFTER

PCAP is tcpdump -U -w of curl --tcp-fastopen fetching twice from each
port (stock's pair first), growing while this runs: it waits up to
WAIT s for the four connections to close.  BEFORE and AFTER are the
server namespace's /proc/net/netstat and /proc/net/xtcp_stat, cat'ed
before the first fetch and after the last.

Prints one line per check, "RC<TAB>NAME<TAB>NOTE" (RC 0 pass), and
"# " lines for the log; fastopen.sh turns them into TAP.  The pcap is
read by tools/xtcp_report.py (struct, not scapy: no 5-13 s import under
TCG), which also compares each of stock's openings with xtcp's, segment
by segment (options, cookie included: both stacks have the same key).
"""
import os
import sys
import time

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)),
                                "..", "tools"))
import xtcp_report as xr  # noqa: E402

OPT_FASTOPEN = 34
WAIT = 10
COUNTERS = ("TCPFastOpenPassive", "TCPFastOpenCookieReqd",
            "TCPFastOpenPassiveFail")
# Each side's deltas over its two connections: one cookie request, one
# child at SYN time, no cookie refused.
WANT = {"TCPFastOpenPassive": 1, "TCPFastOpenCookieReqd": 1,
        "TCPFastOpenPassiveFail": 0}


def out(ok, name, note=""):
    print("%d\t%s\t%s" % (0 if ok else 1, name, note), flush=True)


def conns_closed(path, ports):
    """{port: [Conn]} once each port has two closed connections, or what
    there is after WAIT s."""
    end = time.monotonic() + WAIT
    while True:
        pkts = xr.load_pcap(path)
        conns = {p: xr.connections(pkts, p) for p in ports}
        if all(len(c) >= 2 and all(x.closed() for x in c)
               for c in conns.values()) or time.monotonic() > end:
            return conns
        time.sleep(0.2)


def stats(path):
    """{prefix: {name: value}} of /proc/net/netstat-style lines (names,
    then values, each line led by "Prefix:")."""
    names, res = {}, {}
    with open(path) as f:
        for line in f:
            w = line.split()
            if not w:
                continue
            if w[0] not in names:
                names[w[0]] = w[1:]
            else:
                res[w[0].rstrip(":")] = dict(zip(names[w[0]],
                                                 map(int, w[1:])))
    return res


def cookie_opt(p):
    """The value of p's option 34, None if it has none."""
    for kind, val in p.opts:
        if kind == OPT_FASTOPEN:
            return val
    return None


def first(conn, d, flags):
    return conn.first(lambda p: conn.direction(p) == d and p.flags == flags)


def shape(conn):
    """The connection's segments as "dir flags len", in capture order."""
    return " ".join("%s%s/%d" % (">" if conn.direction(p) == "in" else "<",
                                 p.flags, p.length) for p in conn.pkts)


def opening(conn):
    """A Conn of conn's opening alone: the SYN, the SYN-ACK and the
    client's first segment of data after the SYN (the request where the
    SYN did not carry it), in capture order.  What follows depends on
    when each side ran (how the 16 KiB go out, where PSH falls, which
    ACKs are sent; the client's ACK of a SYN-ACK may come after the
    data the Fast Open child sent with it and acknowledge that too):
    under TCG even stock against stock differ there."""
    syn, sa = first(conn, "in", "S"), first(conn, "out", "SA")
    pick = [syn, sa, conn.first(lambda p: conn.direction(p) == "in" and
                                not p.has("S") and p.length > 0)]
    c = xr.Conn(syn)
    c.pkts = [p for p in conn.pkts if any(p is q for q in pick)]
    return c


def ending(conn):
    """What the rest must agree on: the bytes each way, and the close as
    "dir flags/len" from the first FIN on.  A pure ACK of the server's
    before its own FIN is left out: after the client's FIN the server is
    in pingpong mode (tcp_fin()), and its ACK rides on the FIN when
    nginx's close() comes first, or goes alone when the delayed-ACK
    timer does (CI, 6.1: xtcp's once did), stock against stock too."""
    n = {"in": 0, "out": 0}
    close, server_fin = [], False
    for p in conn.pkts:
        d = conn.direction(p)
        n[d] += p.length
        if "F" in p.flags or close:
            server_fin |= d == "out" and "F" in p.flags
            if d == "out" and p.flags == "A" and not p.length and \
                    not server_fin:
                continue
            close.append("%s%s/%d" % (">" if d == "in" else "<", p.flags,
                                      p.length))
    return "%d bytes in, %d out, closed by %s" % (n["in"], n["out"],
                                                  " ".join(close))


def check_side(name, conns):
    if len(conns) != 2:
        out(False, "%s: two connections captured" % name,
            "%d" % len(conns))
        return
    c1, c2 = conns
    syn1, sa1 = first(c1, "in", "S"), first(c1, "out", "SA")
    syn2, sa2 = first(c2, "in", "S"), first(c2, "out", "SA")
    if not (syn1 and sa1 and syn2 and sa2):
        out(False, "%s: both handshakes captured" % name,
            "%s / %s" % (shape(c1), shape(c2)))
        return
    req, cookie = cookie_opt(syn1), cookie_opt(sa1)
    out(req == b"" and syn1.length == 0 and
        isinstance(cookie, bytes) and len(cookie) >= 4,
        "%s: 1st SYN asks for a cookie, the SYN-ACK gives one" % name,
        "SYN option 34 %s, %d bytes of data; SYN-ACK cookie %s" % (
            "absent" if req is None else repr(req.hex()), syn1.length,
            cookie.hex() if isinstance(cookie, bytes) else "absent"))
    sent = cookie_opt(syn2)
    want_ack = (syn2.seq + 1 + syn2.length) & 0xffffffff
    out(sent == cookie and syn2.length > 0 and syn2.head.startswith(b"GET ")
        and sa2.ack == want_ack,
        "%s: 2nd SYN carries the cookie and the request, the SYN-ACK "
        "acknowledges it" % name,
        "cookie %s, %d bytes of data %r, SYN-ACK acks ISN+1+%d" % (
            "absent" if sent is None else sent.hex(), syn2.length,
            syn2.head, xr.rel32(sa2.ack, syn2.seq) - 1))
    for k, c in enumerate(conns):
        print("# %s conn %d: %s" % (name, k + 1, shape(c)))


def main():
    path, sport, xport, before, after = sys.argv[1:6]
    sport, xport = int(sport), int(xport)
    conns = conns_closed(path, (sport, xport))
    check_side("stock", conns[sport])
    check_side("xtcp", conns[xport])

    b, a = stats(before), stats(after)
    for name, table in (("stock", "TcpExt"), ("xtcp", "Xtcp")):
        delta = {c: a.get(table, {}).get(c, 0) - b.get(table, {}).get(c, 0)
                 for c in COUNTERS}
        out(delta == WANT, "%s: Fast Open counters" % name,
            " ".join("%s%+d" % kv for kv in delta.items()) +
            "; want " + " ".join("%s%+d" % kv for kv in WANT.items()))

    cs, cx = conns[sport], conns[xport]
    if len(cs) != 2 or len(cx) != 2:
        out(False, "stock and xtcp: the same openings and endings",
            "%d and %d connections" % (len(cs), len(cx)))
        return 0
    rep = xr.compare([opening(c) for c in cs], [opening(c) for c in cx],
                     ("stock", "xtcp"), {"ports": "%d,%d" % (sport, xport)})
    same, line = xr.verdict(rep)
    out(same, "stock and xtcp: the same openings (xtcp_report)", line)
    if not same:
        for t in xr.render_text(rep).splitlines():
            print("# " + t)
    es, ex = [ending(c) for c in cs], [ending(c) for c in cx]
    out(es == ex, "stock and xtcp: the same bytes and close",
        "; ".join(es) + (" (both)" if es == ex else " | xtcp: " +
                         "; ".join(ex)))
    return 0


if __name__ == "__main__":
    sys.exit(main())
