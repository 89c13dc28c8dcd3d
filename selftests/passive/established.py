# SPDX-License-Identifier: GPL-2.0
"""Established-connection parity: the receive path, scenario by scenario.

The scenarios of parity.py's tests u..x: after the handshake, scapy
sends the client's data, FIN, duplicates and bad segments to a stock and
an xtcp connection in the same run; every reply is compared field by
field (ACK number, window, options with D-SACK blocks relative to our
ISN), and so is what the server's read() returns (length, digest, EOF,
error).  Each scenario also checks the stock side against what the
kernel source says stock TCP does.

What the server sends is sending.py's.  Connections end with an abort
(SO_LINGER {1, 0}), whose RST both stacks send.
"""
import hashlib
import socket
import subprocess

import xtcplib as X
from xtcplib import problems, want_flags, want_note

ACCEPTED = "accept() returned the client's address"
# Below every first guess of the peer's MSS (TCP_MSS_DEFAULT, or 502 where
# scapy's 502-byte window bounds it), so that no segment teaches the
# receive side its payload/truesize ratio before the full-sized one.
SIZES = (100, 400, 1000)


def opened(f, opts="all"):
    """The handshake; True once the server accepted the connection."""
    f.handshake_syn(opts=opts)
    if f.synack is None:
        return False
    f.send("ack", f.seg("A"))
    return f.expect_accept(3.0)


def data(f, name, off, size, flags="PA", byte=b"x", **kw):
    """Send `size` bytes at offset `off` of the client's stream."""
    return f.send(name, f.seg(flags, seq=f.isn + 1 + off,
                              payload=byte * size, **kw))


def abort(side, f):
    f.mark("abort")
    f.cur.notes.append("aborted %d" % side.abort(f))
    f.expect(1, 1.0)


def want_ack_of(tr, label, off):
    """The step's one reply is a bare ACK of `off` bytes of our stream."""
    st = tr.step(label)
    if not st or len(st.pkts) != 1:
        return "%s: %d replies, stock sends one ACK" % (
            label, len(st.pkts) if st else 0)
    got = st.pkts[0][0]["tcp.ack"]
    want = "ourISN%+d" % (1 + off)
    return None if got == want else "%s: ACK %s, stock ACKs %s" % (
        label, got, want)


def want_sack(tr, label, text):
    st = tr.step(label)
    got = st.pkts[0][0]["tcp.options"] if st and st.pkts else ""
    return None if text in got else "%s: options %s, stock sends %s" % (
        label, got, text)


# ---------------------------------------------------------------------
# u. in-order data
# ---------------------------------------------------------------------

def inorder(opts):
    """Three segments, each ACKed at once (quick-ACK mode at the start,
    tcp_event_data_recv()), a read of all, the FIN (ACKed, delayed in
    pingpong mode: tcp_fin()), a read that sees EOF, TCP_INFO's segment
    and byte counters (stock's), then an abort.

    The third segment is larger than the first guess of the peer's MSS:
    from it on the window depends on the NIC buffer's truesize, which
    differs between runs, so those windows are held to stock's rule
    (right_edge_never_recedes) instead of compared."""
    def scen(side):
        f = side.flow("c")
        if not opened(f, opts):
            return
        off = 0
        for i, size in enumerate(SIZES):
            f.loose_window = size > SIZES[1]
            data(f, "d%d" % (i + 1), off, size, byte=b"xyz"[i:i + 1])
            f.expect(1, 1.0)
            off += size
        f.mark("read")
        f.cur.notes.append(side.recv(f, off))
        f.quiet(0.3)
        f.send("fin", f.seg("FA", seq=f.isn + 1 + off))
        f.expect(1, 1.0)
        f.mark("eof")
        f.cur.notes.append(side.recv(f, 1))
        f.mark("info")
        f.cur.notes.append(X.segs_note(side.tcp_info(f)))
        abort(side, f)
    return scen


def right_edges(tr):
    """(label, right edge of the window) of every ACK in `tr`, the
    window scaled by the shift the SYN-ACK announced (RFC 7323 2.3)."""
    shift, out = 0, []
    for st in tr.steps:
        for _, r in st.pkts:
            if r.has("S"):
                shift = r.option("WScale") or 0
                continue
            if r.has("A"):
                out.append((st.label, (r.ack + (r.window << shift)) &
                            0xffffffff))
    return out


def right_edge_never_recedes(stock, xtcp):
    """RFC 9293 3.8.6.2.2 (tcp_select_window()): an offered window is
    never taken back; the right edge only moves right."""
    bad = []
    for tr in (stock, xtcp):
        edges = right_edges(tr)
        for (la, ea), (lb, eb) in zip(edges, edges[1:]):
            if X.rel32(eb, ea) < 0:
                bad.append("%s: right edge moved back %d bytes from %s to "
                           "%s" % (tr.side, X.rel32(ea, eb), la, lb))
    return bad, []


def inorder_sanity(tr):
    total = sum(SIZES)
    return problems(want_note(tr, "c:ack", ACCEPTED),
                    want_ack_of(tr, "c:d1", SIZES[0]),
                    want_ack_of(tr, "c:d2", SIZES[0] + SIZES[1]),
                    want_ack_of(tr, "c:d3", total),
                    want_note(tr, "c:read", "read %d bytes" % total),
                    want_ack_of(tr, "c:fin", total + 1),
                    want_note(tr, "c:eof", "read 0 bytes"),
                    # In: the SYN, the third ACK, three segments of
                    # data, the FIN.
                    want_note(tr, "c:info",
                              "segs: segs_in=6 data_segs_in=3 "),
                    want_flags(tr, "c:abort", ["RA"]))


def test_u(ctx):
    """In-order data with and without timestamps and window scaling."""
    for lname, opts in (("all options", "all"), ("MSS only", "mss"),
                        ("no timestamps", "all-nots")):
        ctx.pair("u.in-order data, read, FIN, EOF (SYN %s)" % lname,
                 inorder(opts), sanity=inorder_sanity,
                 compare=right_edge_never_recedes)


# ---------------------------------------------------------------------
# v. duplicates, overlaps and segments outside the window
# ---------------------------------------------------------------------

def duplicates(side):
    """A retransmitted segment and one that overlaps rcv_nxt: immediate
    ACKs carrying D-SACK blocks (tcp_data_queue(), RFC 2883); data out of
    the window and far behind it: duplicate ACKs (tcp_send_dupack())."""
    f = side.flow("c")
    if not opened(f):
        return
    data(f, "d1", 0, 100)
    f.expect(1, 1.0)
    data(f, "dup", 0, 100)
    f.expect(1, 1.0)
    data(f, "overlap", 50, 100, byte=b"z")
    f.expect(1, 1.0)
    data(f, "beyond", 1 << 24, 100)
    f.expect(1, 1.0)
    data(f, "behind", -(1 << 24), 100)
    f.expect(1, 1.0)
    f.mark("read")
    f.cur.notes.append(side.recv(f, 150))
    abort(side, f)


def duplicates_sanity(tr):
    return problems(want_ack_of(tr, "c:d1", 100),
                    want_ack_of(tr, "c:dup", 100),
                    want_sack(tr, "c:dup", "SAck=[+1,+101]"),
                    want_ack_of(tr, "c:overlap", 150),
                    want_sack(tr, "c:overlap", "SAck=[+51,+101]"),
                    want_ack_of(tr, "c:beyond", 150),
                    want_ack_of(tr, "c:behind", 150),
                    want_note(tr, "c:read", "read 150 bytes"),
                    want_flags(tr, "c:abort", ["RA"]))


def test_v(ctx):
    ctx.pair("v.duplicate, overlapping and out-of-window data",
             duplicates, sanity=duplicates_sanity)


# ---------------------------------------------------------------------
# w. RST, SYN, bad ACKs and PAWS on a connection
# ---------------------------------------------------------------------

def bad_segments(side):
    """RFC 5961: an in-window RST and a SYN get challenge ACKs (each
    after the per-socket limit's 0.5 s); an ACK of data never sent is
    dropped; an ACK far older than SND.UNA gets a challenge ACK; data
    with an old TSval fails PAWS and is answered by a duplicate ACK
    (RFC 7323 5); then an exact RST resets, and read() says so."""
    f = side.flow("c")
    if not opened(f):
        return
    data(f, "d1", 0, 100)
    f.expect(1, 1.0)
    f.send("rst-in-window", f.seg("R", seq=f.isn + 1 + 100 + 500, ack=0,
                                  ts=False))
    f.quiet(0.6)
    f.send("syn-in-window", f.seg("S", seq=f.isn + 1 + 100, ack=0,
                                  ts=False))
    f.quiet(0.6)
    f.send("ack-unsent", f.seg("A", seq=f.isn + 101,
                               ack=(f.srv_isn + 1 + 1000) & 0xffffffff))
    f.quiet(0.6)
    f.send("ack-old", f.seg("A", seq=f.isn + 101,
                            ack=(f.srv_isn + 1 - (1 << 20)) & 0xffffffff))
    f.quiet(0.6)
    data(f, "paws", 100, 100, tsval=f.ts0 - 1000)
    f.expect(1, 1.0)
    f.send("rst-exact", f.seg("R", seq=f.isn + 101, ack=0, ts=False))
    f.quiet(0.3)
    f.mark("read")
    f.cur.notes.append(side.recv(f, 200))


def bad_sanity(tr):
    return problems(want_ack_of(tr, "c:rst-in-window", 100),
                    want_ack_of(tr, "c:syn-in-window", 100),
                    want_flags(tr, "c:ack-unsent", []),
                    want_ack_of(tr, "c:ack-old", 100),
                    want_ack_of(tr, "c:paws", 100),
                    want_flags(tr, "c:rst-exact", []),
                    want_note(tr, "c:read", "read 100 bytes"))


def test_w(ctx):
    ctx.pair("w.RST, SYN, bad ACKs and PAWS on a connection",
             bad_segments, sanity=bad_sanity)


# ---------------------------------------------------------------------
# x. close with unread data
# ---------------------------------------------------------------------

def unread_close(side):
    """close() with data the user never read resets the connection
    (tcp_close(): TCPAbortOnClose, RFC 2525 2.17)."""
    f = side.flow("c")
    if not opened(f):
        return
    data(f, "d1", 0, 100)
    f.expect(1, 1.0)
    f.mark("close")
    f.cur.notes.append("closed %d" % side.close_child(f))
    f.expect(1, 1.0)
    f.send("after", f.seg("PA", seq=f.isn + 101, payload=b"late"))
    f.expect(1, 1.0)


def test_x(ctx):
    ctx.pair("x.close with unread data sends a RST", unread_close,
             sanity=lambda tr: problems(
                 want_ack_of(tr, "c:d1", 100),
                 want_flags(tr, "c:close", ["RA"]),
                 want_flags(tr, "c:after", ["R"])))


# ---------------------------------------------------------------------
# y. stock clients upload
# ---------------------------------------------------------------------

UPLOAD = bytes((i * 7 + i // 251) & 0xff for i in range(1 << 20))


def upload_python(ctx, side, lport):
    """A stock client sends 1 MiB and half-closes; returns a note."""
    s = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    s.settimeout(20)
    try:
        s.bind((ctx.cfg.cli_ip, lport))
        s.connect((ctx.cfg.srv_ip, side.port))
        s.sendall(UPLOAD)
        s.shutdown(socket.SHUT_WR)
        return "client sent %d bytes" % len(UPLOAD)
    except OSError as e:
        return "client: %s" % e
    finally:
        s.close()


def upload_nc(ctx, side, lport):
    """nc sends 1 MiB from stdin and half-closes (-N)."""
    try:
        p = subprocess.run(["nc", "-N", "-w", "10", "-p", str(lport),
                            ctx.cfg.srv_ip, str(side.port)],
                           input=UPLOAD, stdout=subprocess.DEVNULL,
                           stderr=subprocess.DEVNULL, timeout=30)
        return "nc exit %d" % p.returncode
    except subprocess.TimeoutExpired:
        return "nc timed out"


def sunk_note(ctx, side, lport, client_note):
    """Wait for the server's report on the upload from `lport`."""
    side.note(client_note, "client")
    me = [ctx.cfg.cli_ip, lport]
    ev = ctx.agent.wait_event(
        lambda e: e.get("ev") == "accept" and
        e.get("lid") == side.lid and e["peer"] == me, 3.0)
    side.note(ACCEPTED if ev else "no accept()", "accept")
    ev = ctx.agent.wait_event(
        lambda e: e.get("ev") == "sunk" and
        e.get("lid") == side.lid and e["peer"] == me, 20.0)
    side.note("sunk %d bytes sha256 %s, %s" % (
        ev["len"], ev["sha256"][:16], ev["result"]) if ev
        else "server: no report", "server")
    if ev:
        before, after = ev["rcvbuf"]
        X.log("%s: SO_RCVBUF %s -> %s" % (side.name, before, after))
        side.note("receive buffer grew" if None not in (before, after) and
                  after > before else "receive buffer stayed", "rcvbuf")


def stat_of(side, name):
    """Counter `name` of this side's stack (xtcp_stat for xtcp)."""
    rep = side.ctx.agent.call("stats")
    table = rep["stock" if side.name == "stock" or side.ctx.cfg.selftest
                else "xtcp"]
    return sum(v for k, v in table.items() if k.endswith(name))


# The client's NIC reorders and loses what the client sends: the
# server's out-of-order queue and SACK blocks carry the transfer.
NETEM = ["delay", "2ms", "reorder", "25%", "50%", "loss", "1%"]


def test_y(ctx):
    """Real clients write 1 MiB to a server that reads to EOF: what the
    server read (length, SHA-256, how the stream ended) must be stock's,
    and stock's must be the whole upload.  The receive buffer must have
    grown by autotuning (tcp_rcv_space_adjust()) on both.  The last
    upload crosses netem
    reordering and loss, and both servers must have queued data out of
    order (TCPOFOQueue)."""
    want = "sunk %d bytes sha256 %s, eof" % (
        len(UPLOAD), hashlib.sha256(UPLOAD).hexdigest()[:16])
    for name, binary, client in (("python-socket", None, upload_python),
                                 ("nc", "nc", upload_nc)):
        if ctx.skip_without("y.upload %s" % name, binary):
            continue

        def scen(side, client=client):
            lport = ctx.next_client_port()
            sunk_note(ctx, side, lport, client(ctx, side, lport))

        ctx.pair("y.upload 1 MiB, %s" % name, scen, greet=X.SINK,
                 sanity=lambda tr: problems(
                     want_note(tr, "server", want),
                     want_note(tr, "rcvbuf", "receive buffer grew")))

    name = "y.upload 1 MiB through netem %s" % " ".join(NETEM)
    tc = ["tc", "qdisc", "replace", "dev", ctx.cli_if, "root", "netem"]
    try:
        X.run(tc + NETEM)
    except X.SetupError as e:
        ctx.report(name, True, skip="no netem qdisc: %s" % e)
        return

    def lossy(side):
        before = stat_of(side, "TCPOFOQueue")
        lport = ctx.next_client_port()
        sunk_note(ctx, side, lport, upload_python(ctx, side, lport))
        queued = stat_of(side, "TCPOFOQueue") > before
        side.note("out-of-order data queued" if queued
                  else "nothing queued out of order", "ofo")

    try:
        ctx.pair(name, lossy, greet=X.SINK,
                 sanity=lambda tr: problems(
                     want_note(tr, "server", want),
                     want_note(tr, "ofo", "out-of-order data queued")))
    finally:
        X.run(["tc", "qdisc", "del", "dev", ctx.cli_if, "root"],
              check=False)


# ---------------------------------------------------------------------
# z. holes: the out-of-order queue and its SACK blocks
# ---------------------------------------------------------------------

# (label, stream offset) of 100-byte segments, in the order sent.
HOLES = (("d1", 0), ("h1", 200), ("h2", 400), ("h3", 300), ("dup", 250),
         ("h4", 600), ("h5", 800), ("h6", 1000), ("lap", 550),
         ("fill1", 100), ("fill2", 500), ("fill3", 700), ("fill4", 900))
HOLES_END = 1100


def holes(opts):
    """Segments beyond holes (tcp_data_queue_ofo()): each is ACKed at
    once with the SACK blocks of RFC 2018, the changed block first and
    as many as fit beside the timestamp; data already queued out of
    order gets a D-SACK (RFC 2883); filling a hole moves what follows
    to the receive queue (tcp_ofo_queue()) with a D-SACK for what the
    filler overlapped.  Then a FIN beyond a hole is held until the hole
    is filled, and the read sees all the data, then EOF."""
    def scen(side):
        f = side.flow("c")
        if not opened(f, opts):
            return
        for label, off in HOLES:
            data(f, label, off, 100, byte=bytes([0x41 + off // 100]))
            f.expect(1, 1.0)
        f.mark("read")
        f.cur.notes.append(side.recv(f, HOLES_END))
        f.send("fin-beyond", f.seg("FA", seq=f.isn + 1 + HOLES_END + 100,
                                   payload=b"q" * 100))
        f.expect(1, 1.0)
        data(f, "fin-fill", HOLES_END, 100, byte=b"p")
        f.expect(1, 1.0)
        f.mark("read-rest")
        f.cur.notes.append(side.recv(f, 200))
        f.mark("eof")
        f.cur.notes.append(side.recv(f, 1))
        abort(side, f)
    return scen


def holes_sanity(opts):
    """What tcp_input.c makes of HOLES, per SYN layout."""
    # SACK blocks that fit: 3 beside a timestamp, else 4 (RFC 2018 3).
    room = 3 if opts == "all" else 4

    def blocks(tr, label, *spans):
        if opts == "mss":
            return None
        return want_sack(tr, label, "SAck=" + ",".join(
            "[+%d,+%d]" % (1 + a, 1 + b) for a, b in spans[:room]))

    def check(tr):
        return problems(
            *[want_ack_of(tr, "c:" + label, 100) for label, _ in HOLES[:9]],
            blocks(tr, "c:h1", (200, 300)),
            blocks(tr, "c:h2", (400, 500), (200, 300)),
            blocks(tr, "c:h3", (200, 500)),
            blocks(tr, "c:dup", (250, 350), (200, 500)),
            blocks(tr, "c:h6", (1000, 1100), (800, 900), (600, 700),
                   (200, 500)),
            blocks(tr, "c:lap", (600, 650), (550, 700), (1000, 1100),
                   (800, 900), (200, 500)),
            want_ack_of(tr, "c:fill1", 500),
            want_ack_of(tr, "c:fill4", HOLES_END),
            want_note(tr, "c:read", "read %d bytes" % HOLES_END),
            want_ack_of(tr, "c:fin-fill", HOLES_END + 201),
            want_note(tr, "c:read-rest", "read 200 bytes"),
            want_note(tr, "c:eof", "read 0 bytes"),
            want_flags(tr, "c:abort", ["RA"]))
    return check


# Quick ACKs at the first data: min(rcv_wnd / (2 * rcv_mss), 16)
# (tcp_incr_quickack()), 16 here; 100-byte segments never add one.
QUICK = 16


def compressed(side):
    """SACK compression (__tcp_ack_snd_check()): once the quick ACKs are
    spent (the 17th in-order segment's ACK is delayed), out-of-order
    segments for one hole get TCP_FASTRETRANS_THRESH immediate duplicate
    ACKs, then ACKs from the compression timer, which with no RTT
    estimate yet fires at once; filling the hole is ACKed at once."""
    f = side.flow("c")
    if not opened(f):
        return
    for i in range(QUICK + 1):
        data(f, "d%d" % (i + 1), 100 * i, 100)
        f.expect(1, 1.0)
    hole = 100 * (QUICK + 1)
    for i in range(5):
        data(f, "o%d" % (i + 1), hole + 100 * (i + 1), 100)
        f.expect(1, 1.0)
    data(f, "fill", hole, 100)
    f.expect(1, 1.0)
    f.mark("read")
    f.cur.notes.append(side.recv(f, hole + 600))
    abort(side, f)


def compressed_sanity(tr):
    hole = 100 * (QUICK + 1)
    items = [want_ack_of(tr, "c:d%d" % (QUICK + 1), hole)]
    for i in range(1, 6):
        items += [want_ack_of(tr, "c:o%d" % i, hole),
                  want_sack(tr, "c:o%d" % i, "SAck=[+%d,+%d]" % (
                      hole + 101, hole + 101 + 100 * i))]
    items += [want_ack_of(tr, "c:fill", hole + 600),
              want_note(tr, "c:read", "read %d bytes" % (hole + 600))]
    return problems(*items)


# A small receive buffer, and more out-of-order data than its skbs'
# truesize can fit: 60 segments of 200 bytes beyond a 100-byte hole.
COLLAPSE_RCVBUF = 16384
COLLAPSE_SEGS = 60


def collapsing(side):
    """tcp_prune_queue() under a small SO_RCVBUF: the out-of-order queue
    outgrows the budget in skb overhead long before the window is used,
    and stock packs it into dense skbs (tcp_collapse_ofo_queue(),
    TCPRcvCollapsed) rather than renege on what it SACKed.  When the hole
    is filled, every byte must be there to read."""
    f = side.flow("c")
    if not opened(f):
        return
    before = stat_of(side, "TCPRcvCollapsed")
    f.loose_window = True
    for i in range(COLLAPSE_SEGS):
        data(f, "o%d" % (i + 1), 100 + 200 * i, 200,
             byte=bytes([0x41 + i % 26]))
        f.expect(1, 1.0)
    data(f, "fill", 0, 100, byte=b"0")
    f.expect(1, 1.0)
    f.mark("read")
    f.cur.notes.append(side.recv(f, 100 + 200 * COLLAPSE_SEGS))
    f.cur.notes.append("collapsed" if stat_of(side, "TCPRcvCollapsed") >
                       before else "nothing collapsed")
    abort(side, f)


def collapsing_sanity(tr):
    total = 100 + 200 * COLLAPSE_SEGS
    return problems(want_ack_of(tr, "c:fill", total),
                    want_note(tr, "c:read", "read %d bytes" % total),
                    want_note(tr, "c:read", "collapsed"))


def test_z(ctx):
    """Out-of-order data with SACK and timestamps, SACK alone, and
    neither (duplicate ACKs only); then SACK compression."""
    for lname, opts in (("all options", "all"), ("no timestamps",
                                                 "all-nots"),
                        ("MSS only", "mss")):
        ctx.pair("z.holes, SACK blocks, D-SACK, FIN beyond a hole (SYN "
                 "%s)" % lname, holes(opts), sanity=holes_sanity(opts))
    ctx.pair("z.SACK compression once the quick ACKs are spent",
             compressed, sanity=compressed_sanity)
    ctx.pair("z.SO_RCVBUF %d: the out-of-order queue is collapsed, "
             "not reneged" % COLLAPSE_RCVBUF, collapsing,
             sanity=collapsing_sanity,
             sockopts=[(socket.SOL_SOCKET, socket.SO_RCVBUF,
                        COLLAPSE_RCVBUF)])


TESTS = {
    "u": ("established: in-order data, read, FIN, EOF", test_u),
    "v": ("established: duplicate and out-of-window data, D-SACK", test_v),
    "w": ("established: RST, SYN, bad ACKs, PAWS", test_w),
    "x": ("established: close with unread data", test_x),
    "y": ("established: stock clients upload 1 MiB", test_y),
    "z": ("established: out-of-order data, SACK blocks", test_z),
}
