# SPDX-License-Identifier: GPL-2.0
"""xtcp_report: side-by-side segment tables of two TCP servers' captures.

Reads two pcaps (tcpdump -w) of the same client workload run against two
servers, typically stock TCP ("stock") and xtcp ("xtcp"), and compares
them connection by connection, segment by segment:

  connections   paired by the order of their first SYN
  segments      every segment of the connection, both directions, parsed
                from the bytes on the wire (struct, not scapy: odd option
                layouts show as they are)
  normalised    sequence and acknowledgement numbers relative to the ISN
                of the side that owns that sequence space, SACK blocks
                likewise, TSval/TSecr checked (TSval never goes back,
                TSecr echoes a TSval the peer sent) and compared as "TS",
                window raw and scaled by the scale its sender announced
  aligned       the server's segments paired in their order
                (difflib.SequenceMatcher on flags, seq and length), so
                that one extra segment is one gap row; the client's by
                key in any order (its pure ACKs by what they
                acknowledge); the rows shown in the first run's order,
                the second run's segments beside their partners

Everything else that differs is a difference: flags, windows, options
and their order, lengths, missing or extra segments, IP TOS/TTL/DF and
the IP ID's step.  The allowed differences are the ISN (random per
connection, RFC 6528), TSval values (a per-connection random offset
plus the clock) and time: scheduling (large gaps are marked "~" and
listed, since a timer that differs would show there), and segments of
the two directions that passed each other in flight, with the ACK
numbers that follow from it ("x", see compare_conn()), and a FIN that
Nagle and close() put on the data in one run and alone after it in the
other ("f", fin_split()).

Used by scripts/xtcp-compare and the demo:

  load_pcap(path)                      -> [Packet]
  connections(packets, port)           -> [Conn] in SYN order
  compare(conns_a, conns_b, ...)       -> report dict (the JSON)
  render_text(report)                  -> str
  verdict(report)                      -> (same: bool, line: str)

Command line:

  xtcp_report.py render A.pcap B.pcap --ports PA,PB [--names stock,xtcp]
        [--client NAME:RC:FILE]... [--meta-kv K=V]... [--json OUT]
        [--text OUT]
      prints the tables and the verdict; exit 0 same, 1 different
  xtcp_report.py wait-closed PCAP --port P [--timeout S]
      waits until every connection in PCAP (growing, tcpdump -U) has
      closed (FIN both ways and the last one acknowledged, or RST) and
      the capture has been quiet for a moment; exit 0, or 1 on timeout
"""
import argparse
import difflib
import hashlib
import json
import os
import struct
import sys
import time

FLAG_LETTERS = "FSRPAUEC"
OPT_EOL, OPT_NOP, OPT_MSS, OPT_WS, OPT_SACKOK, OPT_SACK, OPT_TS = \
    0, 1, 2, 3, 4, 5, 8

# Rows whose gap since the previous segment differs more than this (and
# by more than a factor of TIMING_RATIO) are marked "~".
TIMING_SLACK = 0.2
TIMING_RATIO = 2.0
# A delayed ACK leaves between TCP_DELACK_MIN (40 ms) and TCP_DELACK_MAX
# (200 ms) after what it acknowledges; some slack for jiffies and TCG.
DELACK_MIN = 0.035
DELACK_MAX = 0.3

# A bulk transfer: a stretch of one direction's data segments, with
# nothing but the peer's pure ACKs between them, of at least BULK_MIN
# data segments (twice the initial window of 10).
BULK_MIN = 20

ALLOWED_EXPLAINED = {
    "isn": "ISN: each connection's initial sequence number is random "
           "(RFC 6528); seq/ack and SACK blocks are shown relative to it",
    "tsval": "TSval: a random per-connection offset plus the clock; "
             "compared as \"TS\" once checked (TSval never goes back, "
             "TSecr echoes a TSval the peer sent)",
    "timing": "time: scheduling, above all under emulation; rows whose "
              "gap differs by more than %.1f s and %gx are marked \"~\"; "
              "segments of the two directions that passed each other in "
              "flight may be seen in either order, and an ACK number may "
              "leave out what arrived less than %.1f s before its segment "
              "left, never more than had arrived (\"x\"); a pure ACK "
              "that a delayed-ACK timer sent in one run where the other "
              "run's reply carried it sooner (\"d\")"
              % (TIMING_SLACK, TIMING_RATIO, TIMING_SLACK),
    "port": "ports: the client's ephemeral port, and the server's when "
            "the two servers listen on two ports",
    "bulk": "bulk transfers (\"b\"): in a stretch of at least %d data "
            "segments of one direction with only the peer's pure ACKs "
            "between them, where the sender's segments end (a short "
            "segment where a write ended, or an skb was cut at the "
            "window), which carry PSH, and how many ACKs the receiver "
            "sent with which windows follow from when each side ran; "
            "compared are the stretch as a whole: the same bytes, sent "
            "once, in order, the same MSS, the last segment's flags, "
            "every other field of the sender's segments and of the "
            "receiver's ACKs (options, IP header), ACK numbers "
            "that never go back nor cover what had not arrived, a window "
            "edge that never moves back, duplicate ACKs in both runs or "
            "in neither; and after the stretch, the receiver's window "
            "(\"w\": receive-buffer autotuning and the application's reads "
            "follow the same timing), the server's not below the "
            "smallest window it advertised before the stretch, the stock "
            "client's any (it tells how far its application had read)"
            % BULK_MIN,
    "read": "the client's window once it has received data (\"r\"): the "
            "client is the same stock stack in both runs, and its window "
            "is the receive space its application had not yet filled "
            "with unread data when the segment left, so it says how far "
            "the application had read: timing; every other field of the "
            "segment is compared, and its windows before any data arrived",
    "fin": "a FIN on the data or alone after it (\"f\"): Nagle holds a "
           "short segment until what was sent before it is acknowledged, "
           "and a close() that comes before that ACK puts the FIN on the "
           "held data (FPA with data), one that comes after it sends the "
           "FIN alone after the data (PA, then FA without data; the peer "
           "may acknowledge the data alone in between): timing, stock "
           "against stock too; compared are the data segment (the same "
           "seq and length, flags differing only by F, every other field "
           "equal) and the FIN alone (at the data's end, every other "
           "field as the segment that carried both); the peer's pure ACKs "
           "of exactly the data's end, in the run with the FIN alone "
           "only, are allowed",
}


class Packet:
    """One IPv4 TCP segment from a pcap record."""

    __slots__ = ("t", "src", "dst", "sport", "dport", "seq", "ack",
                 "flagbits", "window", "urg", "opts", "length", "tos",
                 "ttl", "df", "ip_id", "bad", "head")

    @property
    def flags(self):
        return "".join(c for i, c in enumerate(FLAG_LETTERS)
                       if self.flagbits & (1 << i))

    def has(self, letter):
        return letter in self.flags


def parse_options(buf):
    """TCP options as [(kind, value)] in order; value is None, an int,
    a tuple, or bytes for what is not understood; a malformed tail is
    (-1, bytes)."""
    out = []
    i = 0
    while i < len(buf):
        kind = buf[i]
        if kind in (OPT_EOL, OPT_NOP):
            out.append((kind, None))
            i += 1
            continue
        if i + 1 >= len(buf) or buf[i + 1] < 2 or i + buf[i + 1] > len(buf):
            out.append((-1, bytes(buf[i:])))
            break
        ln = buf[i + 1]
        body = bytes(buf[i + 2:i + ln])
        if kind == OPT_MSS and ln == 4:
            val = struct.unpack("!H", body)[0]
        elif kind == OPT_WS and ln == 3:
            val = body[0]
        elif kind == OPT_SACKOK and ln == 2:
            val = None
        elif kind == OPT_TS and ln == 10:
            val = struct.unpack("!II", body)
        elif kind == OPT_SACK and (ln - 2) % 8 == 0:
            val = struct.unpack("!%dI" % ((ln - 2) // 4), body)
        else:
            val = body
        out.append((kind, val))
        i += ln
    return out


def parse_ip(t, ip):
    """A Packet from an IPv4 datagram (possibly cut by the snaplen), or
    None if it is not TCP over IPv4."""
    if len(ip) < 20 or ip[0] >> 4 != 4 or ip[9] != 6:
        return None
    ihl = (ip[0] & 0xf) * 4
    tot = struct.unpack("!H", ip[2:4])[0]
    th = ip[ihl:]
    if len(th) < 20:
        return None
    p = Packet()
    p.t = t
    p.tos = ip[1]
    p.ip_id = struct.unpack("!H", ip[4:6])[0]
    p.df = bool(struct.unpack("!H", ip[6:8])[0] & 0x4000)
    p.ttl = ip[8]
    p.src = "%d.%d.%d.%d" % tuple(ip[12:16])
    p.dst = "%d.%d.%d.%d" % tuple(ip[16:20])
    (p.sport, p.dport, p.seq, p.ack, off, p.flagbits, p.window, _csum,
     p.urg) = struct.unpack("!HHIIBBHHH", th[:20])
    doff = (off >> 4) * 4
    p.flagbits |= (off & 1) << 8           # AccECN/NS bit, if ever set
    p.opts = parse_options(th[20:doff])
    p.bad = doff < 20 or len(th) < doff
    p.length = max(0, tot - ihl - doff)
    # The payload's first bytes as captured (selftests/fastopen.py looks
    # for the request in a SYN).
    p.head = bytes(th[doff:doff + min(p.length, 16)])
    return p


def load_pcap(path):
    """The IPv4 TCP segments of a pcap file (Ethernet, Linux cooked v1/v2
    or raw IP link types), in file order."""
    with open(path, "rb") as f:
        data = f.read()
    return parse_pcap(data)


def parse_pcap(data):
    if len(data) < 24:
        return []
    magic = data[:4]
    if magic in (b"\xd4\xc3\xb2\xa1", b"\x4d\x3c\xb2\xa1"):
        end = "<"
    elif magic in (b"\xa1\xb2\xc3\xd4", b"\xa1\xb2\x3c\x4d"):
        end = ">"
    else:
        raise ValueError("not a pcap file (pcapng? use tcpdump -w)")
    nano = magic in (b"\x4d\x3c\xb2\xa1", b"\xa1\xb2\x3c\x4d")
    linktype = struct.unpack(end + "I", data[20:24])[0] & 0xffff
    pkts = []
    off = 24
    while off + 16 <= len(data):
        sec, frac, incl, _orig = struct.unpack(end + "IIII",
                                               data[off:off + 16])
        off += 16
        frame = data[off:off + incl]
        off += incl
        if len(frame) < incl:
            break                   # a record still being written
        t = sec + frac / (1e9 if nano else 1e6)
        ip = l3(linktype, frame)
        if ip is None:
            continue
        p = parse_ip(t, ip)
        if p is not None:
            pkts.append(p)
    return pkts


def l3(linktype, frame):
    """The IPv4 datagram in a frame, or None."""
    if linktype == 1:               # Ethernet, maybe one VLAN tag
        et, o = struct.unpack("!H", frame[12:14])[0], 14
        if et == 0x8100:
            et, o = struct.unpack("!H", frame[16:18])[0], 18
    elif linktype == 113:           # Linux cooked v1
        et, o = struct.unpack("!H", frame[14:16])[0], 16
    elif linktype == 276:           # Linux cooked v2
        et, o = struct.unpack("!H", frame[0:2])[0], 20
    elif linktype in (101, 228):    # raw IP
        return frame
    else:
        return None
    return frame[o:] if et == 0x0800 else None


class Conn:
    """One connection to the server port: its segments in capture order,
    oriented by the client's first SYN."""

    def __init__(self, syn):
        self.client = (syn.src, syn.sport)
        self.server = (syn.dst, syn.dport)
        self.pkts = []
        self.t0 = syn.t

    def direction(self, p):
        return "in" if (p.src, p.sport) == self.client else "out"

    def first(self, pred):
        for p in self.pkts:
            if pred(p):
                return p
        return None

    def isn(self, d):
        """The ISN of direction d ("in": the client's, "out": the
        server's), from its SYN; None if that SYN was not captured."""
        p = self.first(lambda p: self.direction(p) == d and p.has("S"))
        return p.seq if p else None

    def wscale(self, d):
        """The window scale direction d's sender announced, if both SYNs
        carried one (else 0: windows are not scaled)."""
        syn = {x: self.first(lambda p, x=x: self.direction(p) == x and
                             p.has("S")) for x in ("in", "out")}
        ws = {x: dict(syn[x].opts).get(OPT_WS) if syn[x] else None
              for x in syn}
        if ws["in"] is None or ws["out"] is None:
            return 0
        return min(ws[d], 14)

    def closed(self):
        """RST seen, or FIN both ways with the last FIN acknowledged."""
        fin = {}
        last_fin = None
        for p in self.pkts:
            if p.has("R"):
                return True
            d = self.direction(p)
            if p.has("F"):
                fin[d] = (p.seq + p.length + 1) & 0xffffffff
                last_fin = d
        if len(fin) < 2:
            return False
        other = "out" if last_fin == "in" else "in"
        want = fin[last_fin]
        return any(self.direction(p) == other and p.has("A") and
                   rel32(p.ack, want) >= 0 for p in self.pkts)


def rel32(a, b):
    d = (a - b) & 0xffffffff
    return d - (1 << 32) if d & 0x80000000 else d


def connections(pkts, port):
    """Connections to server port `port` in the order of their first
    SYN; segments of a 4-tuple before its SYN are dropped, a SYN after a
    connection closed starts a new one."""
    conns, live = [], {}
    for p in pkts:
        if p.dport == port:
            key = (p.src, p.sport, p.dst, p.dport)
        elif p.sport == port:
            key = (p.dst, p.dport, p.src, p.sport)
        else:
            continue
        c = live.get(key)
        if p.has("S") and not p.has("A") and p.dport == port and \
                (c is None or (c.closed() and not
                               (p.seq == c.isn("in")))):
            c = Conn(p)
            live[key] = c
            conns.append(c)
        if c is not None:
            c.pkts.append(p)
    return conns


def fmt_opt(kind, val):
    """(display, key) of one option; TS values are normalised later."""
    if kind == OPT_NOP:
        return "NOP", "NOP"
    if kind == OPT_EOL:
        return "EOL", "EOL"
    if kind == OPT_MSS:
        s = "MSS %d" % val
    elif kind == OPT_WS:
        s = "WS %d" % val
    elif kind == OPT_SACKOK:
        s = "SACK_PERM"
    elif kind == -1:
        s = "BAD %s" % val.hex()
    else:
        s = "opt%d %s" % (kind, val.hex() if isinstance(val, bytes)
                          else val)
    return s, s


# The seq of a client's pure ACK, as compared: snd_nxt, which says only
# whether the client had sent its FIN yet (timing, when the server's
# segments and the client's close cross).
PURE_ACK = "pure ACK"


def ip_id_key(p, d, last_id):
    """The IP ID as compared: whether it is 0 on a SYN or RST (stock sends
    those of request and control sockets with ID 0), else its step from
    the direction's previous segment ("+1": a connected socket counts
    from a random start); "first" after a SYN-ACK of ID 0."""
    if p.has("S") or p.has("R"):
        return "0" if p.ip_id == 0 else "nz"
    if d not in last_id or last_id[d] == 0:
        return "first"
    return "%+d" % ((p.ip_id - last_id[d]) & 0xffff)


def normalise(conn):
    """The rows of one connection: a dict per segment with what is shown
    ("show") and what is compared ("key" fields)."""
    isn = {d: conn.isn(d) for d in ("in", "out")}
    ws = {d: conn.wscale(d) for d in ("in", "out")}
    ts_first = {}
    ts_seen = {"in": set(), "out": set()}
    ts_last = {}
    last_id = {}
    rows = []
    for p in conn.pkts:
        d = conn.direction(p)
        peer = "out" if d == "in" else "in"
        seq = "%u" % p.seq if isn[d] is None else rel32(p.seq, isn[d])
        if p.has("A"):
            ack = "%u" % p.ack if isn[peer] is None else \
                rel32(p.ack, isn[peer])
        else:
            ack = None
        scaled = p.window if p.has("S") else p.window << ws[d]
        shows, keys = [], []
        for kind, val in p.opts:
            if kind == OPT_TS:
                tsval, ecr = val
                first = ts_first.setdefault(d, tsval)
                fpeer = ts_first.get(peer)
                e = "0" if ecr == 0 and fpeer is None else \
                    "%+d" % rel32(ecr, fpeer) if fpeer is not None \
                    else "%u" % ecr
                shows.append("TS %+d/%s" % (rel32(tsval, first), e))
                notes = []
                if d in ts_last and rel32(tsval, ts_last[d]) < 0:
                    notes.append("TSval went back")
                if p.has("A") and ecr not in ts_seen[peer]:
                    notes.append("TSecr echoes no TSval seen")
                if not p.has("A") and ecr != 0:
                    notes.append("TSecr nonzero without ACK")
                ts_last[d] = tsval
                ts_seen[d].add(tsval)
                keys.append("TS" + ("(%s)" % "; ".join(notes)
                                    if notes else ""))
            elif kind == OPT_SACK:
                base = isn[peer]
                blocks = ["%d-%d" % (rel32(val[i], base),
                                     rel32(val[i + 1], base))
                          if base is not None else
                          "%u-%u" % (val[i], val[i + 1])
                          for i in range(0, len(val), 2)]
                s = "SACK " + " ".join(blocks)
                shows.append(s)
                keys.append(s)
            else:
                s, k = fmt_opt(kind, val)
                shows.append(s)
                keys.append(k)
        row = {
            "t": round(p.t - conn.t0, 6),
            "dir": d,
            "flags": p.flags,
            "seq": seq,
            "ack": ack,
            "win": p.window,
            "win_scaled": scaled,
            "opts": shows,
            "len": p.length,
            "key": {
                "dir": d,
                "flags": p.flags,
                "seq": seq,
                "ack": ack,
                "win": p.window,
                "opts": keys,
                "len": p.length,
            },
        }
        if d == "in" and p.flags == "A" and not p.length:
            row["key"]["seq"] = PURE_ACK
        # The IP header of the server's segments; the client's is the
        # client stack's (its last ACK from a timewait sock, say, takes
        # another IP ID).
        if d == "out":
            row["key"]["ip"] = "tos=0x%02x ttl=%d df=%d id=%s" % (
                p.tos, p.ttl, p.df, ip_id_key(p, d, last_id))
        last_id[d] = p.ip_id
        if p.urg and p.has("U"):
            row["key"]["urg"] = p.urg
        if p.bad:
            row["key"]["bad"] = "header cut or bad data offset"
        rows.append(row)
    return rows


def delayed_ack(rows, k, other, pairs, side):
    """If rows[k], a row of one run only, is a pure ACK that a delayed-ACK
    timer sent (DELACK_MIN to DELACK_MAX after the segment it
    acknowledges, with nothing new to acknowledge since), while in the
    other run (other) the same acknowledgement left on a segment of the
    same direction sooner than that: (its delay, the other's delay);
    else None.  Which comes first, the timer or the application's reply,
    is timing, and stock does either.  side: 0 if rows is pairs' first
    run, 1 if the second."""
    r = rows[k]
    if r["key"]["flags"] != "A" or r["len"] or \
            not isinstance(r["key"]["ack"], int):
        return None
    d, ack = r["key"]["dir"], r["key"]["ack"]
    acked = [m for m in range(k) if rows[m]["key"]["dir"] != d and
             seq_end(rows[m]) == ack]
    if not acked:
        return None
    y = acked[-1]
    delay = r["t"] - rows[y]["t"]
    if not DELACK_MIN <= delay <= DELACK_MAX:
        return None
    if any(rows[m]["key"]["dir"] == d and rows[m]["key"]["ack"] == ack
           for m in range(y + 1, k)):
        return None                 # acknowledged already: no timer
    partner = {p[side]: p[1 - side] for p in pairs
               if p[0] is not None and p[1] is not None}
    if y not in partner:
        return None
    y2 = partner[y]
    for m in range(y2 + 1, len(other)):
        o = other[m]
        if o["key"]["dir"] == d and o["key"]["ack"] == ack:
            gap2 = o["t"] - other[y2]["t"]
            return (round(delay, 4), round(gap2, 4)) if gap2 < delay \
                else None
    return None


def seg_key(r):
    """What makes two rows of one direction the same segment: flags,
    seq and length; for the client's pure ACKs what they acknowledge."""
    k = r["key"]
    if k["seq"] == PURE_ACK:
        return (k["flags"], "ack", k["ack"])
    return (k["flags"], k["seq"], k["len"])


def pair_by_key(ra, ia, rb, jb):
    """The k-th row of each key in ia with the k-th of that key in jb,
    in any order; the rest alone."""
    left = {}
    for j in jb:
        left.setdefault(seg_key(rb[j]), []).append(j)
    got = []
    for i in ia:
        js = left.get(seg_key(ra[i]))
        got.append((i, js.pop(0) if js else None))
    got.extend((None, j) for js in left.values() for j in js)
    return got


def align_block(ra, rb, i1, i2, j1, j2):
    """Pairs for a block that differs: the server's rows paired in their
    order (SequenceMatcher on flags, seq and length), the client's by
    key in any order (pair_by_key()), the pairs
    in ra's order, a row only in rb after the partner of the rb row
    before it.  Returns (pairs, moved): moved holds the pairs whose rb
    row is out of ra's order (segments of the two directions that
    passed each other)."""
    got = []
    for d in ("in", "out"):
        ia = [i for i in range(i1, i2) if ra[i]["key"]["dir"] == d]
        jb = [j for j in range(j1, j2) if rb[j]["key"]["dir"] == d]
        if d == "in":
            # The client is stock in both runs: the order of its
            # segments follows when the server's arrived.
            got.extend(pair_by_key(ra, ia, rb, jb))
            continue
        sm = difflib.SequenceMatcher(None, [seg_key(ra[i]) for i in ia],
                                     [seg_key(rb[j]) for j in jb],
                                     autojunk=False)
        for op, a1, a2, b1, b2 in sm.get_opcodes():
            xa, xb = ia[a1:a2], jb[b1:b2]
            if op in ("equal", "replace"):
                n = min(len(xa), len(xb))
                got.extend(zip(xa[:n], xb[:n]))
                xa, xb = xa[n:], xb[n:]
            got.extend((i, None) for i in xa)
            got.extend((None, j) for j in xb)
    where = {}
    for i, j in got:
        if i is not None and j is not None:
            where[j] = i
    pos = []
    for i, j in got:
        if i is not None:
            pos.append((i, 0, j, (i, j)))
            continue
        before = [where[k] for k in range(j1, j) if k in where]
        pos.append((max(before) if before else i1 - 1, 1 + j, j, (i, j)))
    pos.sort(key=lambda x: (x[0], x[1]))
    pairs = [x[3] for x in pos]
    moved = set()
    both = [(n, i, j) for n, (i, j) in enumerate(pairs)
            if i is not None and j is not None]
    for n, i, j in both:
        if any((i2 < i) != (j2 < j) for _, i2, j2 in both):
            moved.add(n)
    return pairs, moved


def align(ra, rb):
    """(pairs, moved): pairs (i or None, j or None) aligning rows ra with
    rows rb, each direction's segments paired in their order, and the
    indexes of pairs whose rows sit in another order in the two runs
    (align_block() over the whole connection)."""
    return align_block(ra, rb, 0, len(ra), 0, len(rb))


def gap(rows, i):
    """Time from row i-1 to row i of one side (row 0: 0)."""
    return rows[i]["t"] - rows[i - 1]["t"] if i else 0.0


def seq_end(r):
    """The relative sequence number after segment r, or None if it
    consumes none (a pure ACK or RST) or its ISN is unknown."""
    k = r["key"]
    n = k["len"] + ("S" in k["flags"]) + ("F" in k["flags"])
    if not n or not isinstance(k["seq"], int):
        return None
    return k["seq"] + n


def peer_end_before(rows, i, d):
    """The highest relative sequence number that segments of the other
    direction than d reached before row i (None if none)."""
    ends = [seq_end(r) for r in rows[:i] if r["key"]["dir"] != d]
    ends = [e for e in ends if e is not None]
    return max(ends) if ends else None


def same_but_ack(ra, i, rb, j):
    """Whether rows ra[i] and rb[j] are equal but maybe for their ACK
    numbers, each of which acknowledges no more than had arrived before
    it in its run and leaves out only what arrived just before
    (ack_lag_ok): the same cumulative ACK, sent earlier or later."""
    if dict(ra[i]["key"], ack=None) != dict(rb[j]["key"], ack=None):
        return False
    return acks_in_order(ra, i) and acks_in_order(rb, j)


def ack_lag_ok(rows, k):
    """Whether the ACK number of rows[k], if it does not cover all that
    had arrived before it left, leaves out only segments that arrived
    less than TIMING_SLACK before (still in the stack's hands: softirq,
    a backlog behind the socket's owner)."""
    r = rows[k]
    ack = r["key"]["ack"]
    if ack is None:
        return True
    if not isinstance(ack, int):
        return False
    for y in rows[:k]:
        end = seq_end(y) if y["key"]["dir"] != r["key"]["dir"] else None
        if end is not None and end > ack and r["t"] - y["t"] >= TIMING_SLACK:
            return False
    return True


def is_pure_ack(r):
    k = r["key"]
    return k["flags"] == "A" and not k["len"] and \
        not any(o.startswith("SACK ") for o in k["opts"])


def bulk_stretches(rows):
    """[(start, end, sender)]: the bulk transfers of a connection's rows,
    rows[start:end]: from a data segment of the sender on, as long as
    each row is a data segment of the sender without SYN, FIN or RST or
    a pure ACK of the peer (no SACK blocks), and holding at least
    BULK_MIN data segments."""
    out = []
    i = 0
    while i < len(rows):
        k = rows[i]["key"]
        if not k["len"] or set(k["flags"]) & set("SFR"):
            i += 1
            continue
        d = k["dir"]
        j = i
        n = 0
        while j < len(rows):
            kj = rows[j]["key"]
            if kj["dir"] == d and kj["len"] and \
                    not set(kj["flags"]) & set("SFR"):
                n += 1
            elif kj["dir"] == d or not is_pure_ack(rows[j]):
                break
            j += 1
        if n >= BULK_MIN:
            out.append((i, j, d))
        i = j
    return out


def bulk_shape(rows, sender, win_floor=None):
    """What is compared of a bulk stretch of one run (rows of the stretch
    only; ACK checks against what had arrived within it), and the counts
    shown.  win_floor: the sender received a bulk transfer before, and
    its window then was this: its window, autotuned since, is compared
    only for not being below it."""
    data = [r for r in rows if r["key"]["dir"] == sender]
    acks = [r for r in rows if r["key"]["dir"] != sender]
    mss = max(r["len"] for r in data)
    ends, shape = [], {}
    shape["bytes"] = "%s-%s" % (data[0]["seq"], seq_end(data[-1]))
    shape["mss"] = mss
    shape["in order, each byte once"] = all(
        isinstance(x["seq"], int) and x["seq"] == seq_end(p)
        for p, x in zip(data, data[1:]))
    shape["last segment's flags"] = data[-1]["flags"]

    def fields(r, drop):
        k = dict(r["key"], flags=r["key"]["flags"].replace("P", ""))
        for f in drop:
            k.pop(f, None)
        return json.dumps(k, sort_keys=True)
    drop = ("seq", "len") if win_floor is None else ("seq", "len", "win")
    shape["sender's other fields"] = sorted({fields(r, drop) for r in data})
    if win_floor is not None:
        shape["sender's window not below it before"] = all(
            r["win_scaled"] >= win_floor for r in data)
    shape["receiver's other fields"] = sorted({fields(r, ("ack", "win"))
                                               for r in acks})
    ack_ok, edge_ok, dup = True, True, 0
    last = None
    for r in rows:
        k = r["key"]
        if k["dir"] == sender:
            e = seq_end(r)
            if e is not None:
                ends.append(e)
            continue
        if not isinstance(k["ack"], int) or \
                (ends and k["ack"] > max(ends)):
            ack_ok = False
        if last is not None:
            if k["ack"] < last[0]:
                ack_ok = False
            if k["ack"] + r["win_scaled"] < last[0] + last[1]:
                edge_ok = False
            if (k["ack"], r["win_scaled"]) == last:
                dup += 1
        last = (k["ack"], r["win_scaled"])
    shape["ACK numbers never back nor ahead"] = ack_ok
    shape["window edge never back"] = edge_ok
    shape["duplicate ACKs"] = dup > 0
    counts = {"segments": len(data), "acks": len(acks),
              "psh": sum(1 for r in data if "P" in r["flags"]),
              "short": sum(1 for r in data if r["len"] < mss),
              "dupacks": dup}
    return shape, counts


def win_floor(rows, s, before):
    """If the sender of stretch s received one of the stretches before
    (earlier ones of the same run), the smallest window it advertised
    before that one (window_after_bulk() says why); else None."""
    for x in before:
        if x[2] != s[2]:
            w = [r["win_scaled"] for r in rows[:x[0]]
                 if r["key"]["dir"] == s[2] and "S" not in r["key"]["flags"]]
            return min(w) if w else 0
    return None


def compare_bulk(ra, sa, rb, sb, before=()):
    """Differences (field, text) of two runs' bulk stretches sa, sb
    ((start, end, sender) each) and the counts of each run; before: the
    pairs of stretches before them."""
    shape_a, count_a = bulk_shape(ra[sa[0]:sa[1]], sa[2], win_floor(
        ra, sa, [x for x, _ in before]))
    shape_b, count_b = bulk_shape(rb[sb[0]:sb[1]], sb[2], win_floor(
        rb, sb, [y for _, y in before]))
    diffs = [("bulk: " + k, "%s vs %s" % (shape_a[k], shape_b[k]))
             for k in shape_a if shape_a[k] != shape_b[k]]
    return diffs, (count_a, count_b)


def parts(ra, rb):
    """The connection cut into blocks aligned on their own: [(i1, i2, j1,
    j2, bulk)], bulk the pair of stretches when the block is one in both
    runs.  Bulk transfers are used only when both runs have as many, of
    the same senders, starting at the same place."""
    sa, sb = bulk_stretches(ra), bulk_stretches(rb)
    if not sa or len(sa) != len(sb) or any(
            x[2] != y[2] or ra[x[0]]["key"]["seq"] != rb[y[0]]["key"]["seq"]
            for x, y in zip(sa, sb)):
        return [(0, len(ra), 0, len(rb), None)]
    out = []
    i = j = 0
    for x, y in zip(sa, sb):
        out.append((i, x[0], j, y[0], None))
        out.append((x[0], x[1], y[0], y[1], (x, y)))
        i, j = x[1], y[1]
    out.append((i, len(ra), j, len(rb), None))
    return out


def window_after_bulk(ra, i, rb, j, bulks):
    """If rows ra[i] and rb[j] differ only in their window, come after a
    bulk stretch their direction received, and neither window is below
    the smallest window that direction advertised before the stretch
    (after its SYN; autotuning never shrinks the buffer, but what the
    application has not read yet may keep the window below where it
    was): (window a, window b); else None.  The client ("in") is the
    same stock stack in both runs, and its window only says how far
    its application had read: any window of it after the stretch is
    timing (a client that had read less advertises less than before)."""
    a, b = ra[i]["key"], rb[j]["key"]
    if dict(a, win=None) != dict(b, win=None):
        return None
    for x, y in bulks:
        if x[2] != a["dir"] and x[1] <= i and y[1] <= j:
            before = [r["win_scaled"] for rows, s in ((ra, x), (rb, y))
                      for r in rows[:s[0]] if r["key"]["dir"] == a["dir"]
                      and "S" not in r["key"]["flags"]]
            floor = min(before) if before and a["dir"] == "out" else 0
            if min(ra[i]["win_scaled"], rb[j]["win_scaled"]) >= floor:
                return (a["win"], b["win"])
    return None


def client_window_after_data(ra, i, rb, j):
    """If rows ra[i] and rb[j] are the client's, differ only in their
    window, and acknowledge data of the server's (ACK number past the
    SYN's 1): (window a, window b); else None.  Its window then follows
    how much of that data its application had read (ALLOWED_EXPLAINED's
    "read")."""
    a, b = ra[i]["key"], rb[j]["key"]
    if a["dir"] != "in" or a["win"] == b["win"] or \
            dict(a, win=None) != dict(b, win=None):
        return None
    if not isinstance(a["ack"], int) or a["ack"] <= 1:
        return None
    return (a["win"], b["win"])


def bare_fin_of(r, m, end):
    """Whether row r is a FIN alone (no data) at relative sequence number
    end, its flags those of m (a data segment carrying the FIN) with or
    without PSH, and every other compared field m's."""
    k = r["key"]
    if k["seq"] != end or k["len"] or "F" not in k["flags"] or \
            k["flags"] not in (m["flags"], m["flags"].replace("P", "")):
        return False
    blank = dict(flags=None, seq=None, len=None)
    return dict(k, **blank) == dict(m, **blank)


def acks_in_order(rows, k):
    """Whether the ACK number of rows[k] covers no more than had arrived
    before it, and leaves out only what arrived just before
    (ack_lag_ok())."""
    ack = rows[k]["key"]["ack"]
    return ack_lag_ok(rows, k) and (ack is None or ack <= (
        peer_end_before(rows, k, rows[k]["key"]["dir"]) or 0))


def fin_split(ra, rb, pairs, moved, skip=()):
    """Rule "f": a FIN that rides on the data in one run and follows it
    alone in the other.  A server that writes a short body after its
    headers and closes at once has the body held by Nagle until the
    headers are acknowledged: if close() comes first, the FIN is queued
    on the body and leaves with it (FPA with data); if the ACK comes
    first, the body leaves (PA), then the FIN alone (FA, no data).
    Which is timing, stock against stock too.

    A group is: a pair (i, j) whose rows are the same segment but for F
    (the same seq and length, flags differing only by F, every other
    compared field equal), the one run's ("merged") with F and data;
    in the other run ("split") a FIN of one run only, of the same
    direction, at the data's end, otherwise as the merged segment (its
    flags the same with or without PSH, every other compared field
    equal); and the peer's pure ACKs of the split run only that
    acknowledge exactly the data's end (the data without the FIN),
    after the data.  A data pair whose rows sit in another order
    relative to the peer's (moved) must have ACK numbers that cover no
    more than had arrived (as "x").  Pairs in skip (a bulk transfer's)
    take no part.

    Returns [(pair indexes of the group, the data pair first; the run
    that merged, 0 or 1; the data's seq and length; how many ACKs)]."""
    only = ({}, {})
    for n, (i, j) in enumerate(pairs):
        if n in skip:
            continue
        if j is None and i is not None:
            only[0][i] = n
        elif i is None and j is not None:
            only[1][j] = n
    groups, used = [], set()
    for n, (i, j) in enumerate(pairs):
        if i is None or j is None or n in skip:
            continue
        for merged, (mrows, mk, srows, sk) in enumerate(
                ((ra, i, rb, j), (rb, j, ra, i))):
            m, s = mrows[mk]["key"], srows[sk]["key"]
            if not m["len"] or "F" not in m["flags"] or \
                    "F" in s["flags"] or set("SR") & set(m["flags"]) or \
                    set(m["flags"]) != set(s["flags"]) | {"F"} or \
                    not isinstance(s["seq"], int) or \
                    dict(m, flags=None) != dict(s, flags=None):
                continue
            if n in moved and not (acks_in_order(ra, i) and
                                   acks_in_order(rb, j)):
                continue
            end = s["seq"] + s["len"]
            lone = only[1 - merged]
            fins = [k for k in sorted(lone) if k > sk and
                    lone[k] not in used and srows[k]["key"]["dir"] ==
                    s["dir"] and bare_fin_of(srows[k], m, end)]
            if not fins:
                continue
            acks = [lone[k] for k in sorted(lone) if k > sk and
                    lone[k] not in used and srows[k]["key"]["dir"] !=
                    s["dir"] and is_pure_ack(srows[k]) and
                    srows[k]["key"]["ack"] == end]
            group = [n, lone[fins[0]]] + acks
            used.update(group)
            groups.append((group, merged, s["seq"], s["len"], len(acks)))
            break
    return groups


def compare_conn(ca, cb):
    """The compared rows of one pair of connections (either may be None).
    Returns (rows, differences, timing notes)."""
    ra = normalise(ca) if ca else []
    rb = normalise(cb) if cb else []
    out, diffs, timing = [], [], []
    pairs, moved, bulk_at, bulks = [], set(), {}, []
    for i1, i2, j1, j2, bulk in parts(ra, rb):
        if bulk:
            n = max(i2 - i1, j2 - j1)
            first = len(pairs) + 1
            pairs.extend((i1 + k if i1 + k < i2 else None,
                          j1 + k if j1 + k < j2 else None)
                         for k in range(n))
            bulk_at.update((p, first) for p in range(first - 1, len(pairs)))
            bd, counts = compare_bulk(ra, bulk[0], rb, bulk[1], bulks)
            bulks.append(bulk)
            diffs.extend((first, f, t) for f, t in bd)
            timing.append((first, "bulk", counts))
            continue
        bp, bm = align_block(ra, rb, i1, i2, j1, j2)
        moved.update(len(pairs) + m for m in bm)
        pairs.extend(bp)
    fin_at = {}
    for g in fin_split(ra, rb, pairs, moved, bulk_at):
        fin_at.update((p, g) for p in g[0])
    for n, (i, j) in enumerate(pairs, 1):
        a = ra[i] if i is not None else None
        b = rb[j] if j is not None else None
        row = {"n": n, "a": a and {k: v for k, v in a.items() if k != "key"},
               "b": b and {k: v for k, v in b.items() if k != "key"},
               "fields": [], "mark": "="}
        if n - 1 in bulk_at:
            row["mark"] = "b"
        elif n - 1 in fin_at:
            row["mark"] = "f"
            group, merged, seq, ln, acks = fin_at[n - 1]
            if n - 1 == group[0]:
                row["fields"] = ["flags"]
                timing.append((n, "fin", {
                    "rows": sorted(p + 1 for p in group), "merged": merged,
                    "seq": seq, "len": ln, "acks": acks}))
        elif a is not None and b is not None and \
                window_after_bulk(ra, i, rb, j, bulks):
            row["mark"] = "w"
            timing.append((n, "win", window_after_bulk(ra, i, rb, j, bulks)))
        elif a is not None and b is not None and \
                client_window_after_data(ra, i, rb, j):
            row["mark"] = "r"
            timing.append((n, "read", client_window_after_data(ra, i, rb,
                                                                j)))
        elif a is not None and b is not None and \
                (a["key"]["ack"] != b["key"]["ack"] or n - 1 in moved) and \
                same_but_ack(ra, i, rb, j):
            row["mark"] = "x"
            if n - 1 in moved:
                timing.append((n, "moved", None))
            else:
                row["fields"] = ["ack"]
                timing.append((n, "ack", None))
        elif a is None and delayed_ack(rb, j, ra, pairs, 1) or \
                b is None and delayed_ack(ra, i, rb, pairs, 0):
            row["mark"] = "d"
            timing.append((n, "delack", delayed_ack(
                rb, j, ra, pairs, 1) if a is None else delayed_ack(
                    ra, i, rb, pairs, 0)))
        elif a is None or b is None:
            have = a or b
            row["fields"] = ["segment"]
            row["mark"] = "!"
            diffs.append((n, "segment", "only on side %s: %s %s" % (
                "a" if a else "b", have["dir"], seg_brief(have))))
        else:
            for f in sorted(set(a["key"]) | set(b["key"])):
                if a["key"].get(f) != b["key"].get(f):
                    row["fields"].append(f)
                    diffs.append((n, f, "%s vs %s" % (
                        a["key"].get(f), b["key"].get(f))))
            if n - 1 in moved:
                # in another order, and the ACK numbers do not say the
                # segments passed each other in flight
                row["fields"].append("order")
                diffs.append((n, "order", "%s's segment sits elsewhere "
                              "(at %.4f s) and its ACK number or timing "
                              "does not explain it" % ("b", b["t"])))
            if row["fields"]:
                row["mark"] = "!"
            else:
                ga, gb = gap(ra, i), gap(rb, j)
                if abs(ga - gb) > TIMING_SLACK and \
                        max(ga, gb) > TIMING_RATIO * max(min(ga, gb), 1e-3):
                    row["mark"] = "~"
                    timing.append((n, ga, gb))
        out.append(row)
    return out, diffs, timing


def seg_brief(r):
    return "%s seq=%s ack=%s win=%s len=%d" % (
        r["flags"], r["seq"], r["ack"], r["win"], r["len"])


def compare(conns_a, conns_b, names=("stock", "xtcp"), meta=None,
            clients=None):
    """The report (a JSON-able dict) of two runs' connections."""
    rep = {"version": 1, "names": list(names), "meta": meta or {},
           "clients": clients or {}, "connections": [],
           "differences": [], "timing": [],
           "allowed": dict(ALLOWED_EXPLAINED)}
    for k in range(max(len(conns_a), len(conns_b))):
        ca = conns_a[k] if k < len(conns_a) else None
        cb = conns_b[k] if k < len(conns_b) else None
        rows, diffs, timing = compare_conn(ca, cb)
        c = {"n": k + 1, "rows": rows,
             "a": ca and conn_info(ca), "b": cb and conn_info(cb)}
        rep["connections"].append(c)
        if ca is None or cb is None:
            rep["differences"].append({
                "conn": k + 1, "row": None, "field": "connection",
                "text": "connection %d only in the %s run" % (
                    k + 1, names[0] if ca else names[1])})
        for n, f, text in diffs:
            rep["differences"].append({"conn": k + 1, "row": n,
                                       "field": f, "text": text})
        for n, ga, gb in timing:
            if ga == "delack":
                rep["timing"].append({"conn": k + 1, "row": n,
                                      "delack": gb})
            elif ga == "moved":
                rep["timing"].append({"conn": k + 1, "row": n,
                                      "moved": True})
            elif ga == "ack":
                rep["timing"].append({"conn": k + 1, "row": n,
                                      "crossed_ack": True})
            elif ga == "bulk":
                rep["timing"].append({"conn": k + 1, "row": n,
                                      "bulk": list(gb)})
            elif ga == "win":
                rep["timing"].append({"conn": k + 1, "row": n,
                                      "win_after_bulk": list(gb)})
            elif ga == "read":
                rep["timing"].append({"conn": k + 1, "row": n,
                                      "client_window": list(gb)})
            elif ga == "fin":
                rep["timing"].append({"conn": k + 1, "row": n,
                                      "fin_split": gb})
            else:
                rep["timing"].append({"conn": k + 1, "row": n,
                                      "gap_a": ga, "gap_b": gb})
    cl = rep["clients"]
    if names[0] in cl and names[1] in cl:
        for f in ("rc", "out_sha256"):
            va, vb = cl[names[0]].get(f), cl[names[1]].get(f)
            if va != vb:
                rep["differences"].append({
                    "conn": None, "row": None, "field": "client." + f,
                    "text": "client %s: %s %s, %s %s" % (
                        f, names[0], va, names[1], vb)})
    same, line = verdict(rep)
    rep["verdict"] = {"same": same, "text": line}
    return rep


def conn_info(c):
    return {"client": "%s:%d" % c.client, "server": "%s:%d" % c.server,
            "segments": len(c.pkts), "isn_client": c.isn("in"),
            "isn_server": c.isn("out"), "wscale_client": c.wscale("in"),
            "wscale_server": c.wscale("out"), "closed": c.closed()}


def verdict(rep):
    """(same, one line) for a report."""
    na, nb = rep["names"]
    conns = rep["connections"]
    segs = sum(len(c["rows"]) for c in conns)
    if not conns:
        return False, "verdict: NOTHING TO COMPARE - no connection " \
            "captured in either run"
    nd = len(rep["differences"])
    if nd:
        first = rep["differences"][0]
        where = "connection %s row %s" % (first["conn"], first["row"]) \
            if first["row"] else "connection %s" % first["conn"] \
            if first["conn"] else "client"
        return False, "verdict: DIFFERENT - %d unexplained difference%s " \
            "between %s and %s (first: %s, %s: %s)" % (
                nd, "" if nd == 1 else "s", na, nb, where, first["field"],
                first["text"])
    extra = "; %d timing note%s" % (len(rep["timing"]), "" if
                                    len(rep["timing"]) == 1 else "s") \
        if rep["timing"] else ""
    return True, "verdict: same - %s and %s: %d connection%s, %d rows, " \
        "differences only in ISN, TSval and timing%s" % (
            na, nb, len(conns), "" if len(conns) == 1 else "s", segs, extra)


# ---------------------------------------------------------------------
# Text
# ---------------------------------------------------------------------

COLS = (("t", 8), ("dir", 3), ("flags", 5), ("seq", 7), ("ack", 7),
        ("win", 13), ("len", 5), ("options", 0))


def cell(r, width_opts):
    if r is None:
        return " " * (sum(w + 1 for _, w in COLS[:-1]) + width_opts)
    arrow = "->" if r["dir"] == "in" else "<-"
    win = str(r["win"]) if r["win"] == r["win_scaled"] else \
        "%d(%d)" % (r["win"], r["win_scaled"])
    vals = ("%.4f" % r["t"], arrow, r["flags"], str(r["seq"]),
            "-" if r["ack"] is None else str(r["ack"]), win,
            str(r["len"]), ",".join(r["opts"]) or "-")
    s = ""
    for (name, w), v in zip(COLS, vals):
        s += v.ljust(w) + " " if w else v.ljust(width_opts)
    return s


def render_conn(rep, c):
    na, nb = rep["names"]
    wo = max([12] + [len(",".join(r[s]["opts"])) for r in c["rows"]
                     for s in ("a", "b") if r[s]])
    lines = []
    desc = []
    for side, name in (("a", na), ("b", nb)):
        i = c[side]
        desc.append("%s %s > %s, %d segments" % (
            name, i["client"], i["server"], i["segments"]) if i else
            "%s: none" % name)
    lines.append("connection %d: %s | %s" % (c["n"], desc[0], desc[1]))
    head = ""
    for name, w in COLS:
        head += name.ljust(w) + " " if w else name.ljust(wo)
    lines.append("  %4s  %s  %s  %s" % ("#", na.ljust(len(head)), " ",
                                        nb))
    lines.append("  %4s  %s  %s  %s" % ("", head, " ", head.rstrip()))
    for r in c["rows"]:
        mark = " " if r["mark"] == "=" else r["mark"]
        lines.append(("  %4d  %s  %s  %s" % (
            r["n"], cell(r["a"], wo), mark, cell(r["b"], wo))).rstrip())
        if r["mark"] == "!" and r["a"] and r["b"]:
            lines.append("        ^ differs: %s" % ", ".join(r["fields"]))
    return lines


def render_text(rep):
    na, nb = rep["names"]
    out = []
    m = rep.get("meta") or {}
    if m:
        out.append("xtcp-compare: %s" % ", ".join(
            "%s=%s" % (k, m[k]) for k in sorted(m)))
    for name in (na, nb):
        cl = rep["clients"].get(name)
        if cl:
            out.append("client against %s: exit %s, %s bytes of output" % (
                name, cl.get("rc"), cl.get("out_bytes")))
    out.append("columns: t = seconds since the client's SYN; -> client "
               "to server, <- server to client; seq/ack relative to "
               "each side's ISN; win raw(scaled); TS TSval/TSecr "
               "relative to each side's first TSval; marks: ! differs, "
               "~ timing only, x the same segment elsewhere or with another "
               "ACK number (crossed in flight), d a delayed ACK the other "
               "run's reply made unneeded, b a bulk transfer's row (compared as a "
               "whole), w the receiver's window after a bulk transfer, r "
               "the client's window once it had data to read, f "
               "a FIN on the data in one run and alone after it in the "
               "other, with the peer's ACKs of the data alone")
    for c in rep["connections"]:
        out.append("")
        out.extend(render_conn(rep, c))
    out.append("")
    if rep["differences"]:
        out.append("unexplained differences (%d):" %
                   len(rep["differences"]))
        for d in rep["differences"]:
            where = "conn %s row %s" % (d["conn"], d["row"]) if d["row"] \
                else "conn %s" % d["conn"] if d["conn"] else "client"
            out.append("  %s: %s: %s" % (where, d["field"], d["text"]))
    if rep["timing"]:
        out.append("timing (allowed, listed: a timer that differs would "
                   "show here):")
        for d in rep["timing"]:
            if "delack" in d:
                out.append("  conn %d row %d (d): a pure ACK a delayed-ACK "
                           "timer sent %.3f s after what it acknowledges; "
                           "in the other run the same ACK left %.3f s "
                           "after, on the reply, before such a timer" % (
                               d["conn"], d["row"], d["delack"][0],
                               d["delack"][1]))
                continue
            if "moved" in d:
                out.append("  conn %d row %d (x): %s's segment is the "
                           "same, at another place: segments of the two "
                           "directions passed each other in flight (its "
                           "time column says where; its ACK number covers "
                           "no more than had arrived)" % (
                               d["conn"], d["row"], nb))
                continue
            if "bulk" in d:
                ca, cb = d["bulk"]
                out.append("  conn %d rows %d- (b): a bulk transfer, compared "
                           "as a whole: %s %d segments (%d short, %d PSH), "
                           "%d ACKs (%d duplicate); %s %d segments (%d "
                           "short, %d PSH), %d ACKs (%d duplicate)" % (
                               d["conn"], d["row"], na, ca["segments"],
                               ca["short"], ca["psh"], ca["acks"],
                               ca["dupacks"], nb, cb["segments"],
                               cb["short"], cb["psh"], cb["acks"],
                               cb["dupacks"]))
                continue
            if "fin_split" in d:
                f = d["fin_split"]
                merged, split = (na, nb) if f["merged"] == 0 else (nb, na)
                out.append("  conn %d rows %s (f): %s sent the FIN on the "
                           "data (seq %d, len %d), %s the data, then the "
                           "FIN alone%s: Nagle held the data until the ACK "
                           "of what was before it, and close() came before "
                           "that ACK on %s, after it on %s" % (
                               d["conn"], ",".join(map(str, f["rows"])),
                               merged, f["seq"], f["len"], split,
                               "" if not f["acks"] else
                               " (and the peer acknowledged the data alone"
                               "%s)" % ("" if f["acks"] == 1 else
                                        ", %d times" % f["acks"]),
                               merged, split))
                continue
            if "win_after_bulk" in d:
                out.append("  conn %d row %d (w): the receiver's window "
                           "after a bulk transfer: %s on %s, %s on %s" % (
                               d["conn"], d["row"],
                               d["win_after_bulk"][0], na,
                               d["win_after_bulk"][1], nb))
                continue
            if "client_window" in d:
                out.append("  conn %d row %d (r): the client's window, "
                           "with data it had received: %s on %s, %s on %s"
                           % (d["conn"], d["row"], d["client_window"][0],
                              na, d["client_window"][1], nb))
                continue
            if "crossed_ack" in d:
                out.append("  conn %d row %d (x): the ACK number differs: "
                           "it covers no more than had arrived when the "
                           "segment left, and leaves out only what arrived "
                           "less than %.1f s before (in flight, or not yet "
                           "processed)" % (d["conn"], d["row"],
                                           TIMING_SLACK))
                continue
            out.append("  conn %d row %d (~): %.3f s after the previous "
                       "segment on %s, %.3f s on %s" % (
                           d["conn"], d["row"], d["gap_a"], na,
                           d["gap_b"], nb))
    out.append("allowed differences, not marked:")
    for k in ("isn", "tsval", "timing", "port", "bulk", "fin"):
        if k in rep["allowed"]:
            out.append("  - " + rep["allowed"][k])
    out.append(rep["verdict"]["text"])
    return "\n".join(out) + "\n"


# ---------------------------------------------------------------------
# Command line
# ---------------------------------------------------------------------

def client_info(rc, path):
    """What is compared of a client run: exit status and output."""
    try:
        with open(path, "rb") as f:
            data = f.read()
    except OSError:
        data = b""
    return {"rc": rc, "out_bytes": len(data),
            "out_sha256": hashlib.sha256(data).hexdigest()}


def cmd_render(args):
    pa, pb = (int(x) for x in args.ports.split(","))
    names = tuple(args.names.split(","))
    meta, clients = {}, {}
    for kv in args.meta_kv:
        k, _, v = kv.partition("=")
        meta[k] = v
    for c in args.client:
        name, rc, path = c.split(":", 2)
        clients[name] = client_info(int(rc), path)
    rep = compare(connections(load_pcap(args.a), pa),
                  connections(load_pcap(args.b), pb), names, meta, clients)
    text = render_text(rep)
    if args.json:
        with open(args.json, "w") as f:
            json.dump(rep, f, indent=1)
            f.write("\n")
    if args.text:
        with open(args.text, "w") as f:
            f.write(text)
    sys.stdout.write(text)
    return 0 if rep["verdict"]["same"] else 1


def cmd_wait_closed(args):
    end = time.monotonic() + args.timeout
    last_size, quiet_since = -1, time.monotonic()
    while time.monotonic() < end:
        try:
            size = os.path.getsize(args.pcap)
        except OSError:
            size = 0
        if size != last_size:
            last_size, quiet_since = size, time.monotonic()
        elif time.monotonic() - quiet_since >= args.quiet:
            conns = connections(load_pcap(args.pcap), args.port)
            if all(c.closed() for c in conns):
                return 0
        time.sleep(0.05)
    return 1


def main(argv=None):
    ap = argparse.ArgumentParser(
        description="Side-by-side segment tables of two TCP servers' "
        "captures (see the module's docstring).")
    sub = ap.add_subparsers(dest="cmd", required=True)
    r = sub.add_parser("render", help="compare two pcaps")
    r.add_argument("a")
    r.add_argument("b")
    r.add_argument("--ports", required=True, help="PA,PB: server ports")
    r.add_argument("--names", default="stock,xtcp")
    r.add_argument("--meta-kv", action="append", default=[],
                   metavar="K=V", help="a line of the report's head")
    r.add_argument("--client", action="append", default=[],
                   metavar="NAME:RC:FILE", help="the client's exit status "
                   "and output in run NAME (compared)")
    r.add_argument("--json")
    r.add_argument("--text")
    w = sub.add_parser("wait-closed", help="wait until a capture's "
                       "connections have closed")
    w.add_argument("pcap")
    w.add_argument("--port", type=int, required=True)
    w.add_argument("--timeout", type=float, default=5.0)
    w.add_argument("--quiet", type=float, default=0.2,
                   help="seconds without new packets first (0.2)")
    args = ap.parse_args(argv)
    return cmd_render(args) if args.cmd == "render" else \
        cmd_wait_closed(args)


if __name__ == "__main__":
    sys.exit(main())
