# SPDX-License-Identifier: GPL-2.0
"""Urgent data parity (RFC 9293 3.8.5, RFC 6093): parity.py's ua and ub.

ua: scapy's client sends segments with URG set to a stock and an xtcp
connection in the same run; the server side takes them with the calls a
program using urgent data makes (the agent's calls op, never blocking):
poll() (EPOLLPRI), sockatmark() (SIOCATMARK), recv() stopping at the
mark, recv(MSG_OOB), MSG_PEEK, SO_OOBINLINE.  What each call returned
is compared, and so is every ACK on the wire.  The stock side is held to
what tcp_check_urg(), tcp_urg() and tcp_recv_urg() (net/ipv4/tcp_input.c,
tcp.c) say, with BSD's urgent pointer (one past the urgent byte) and,
in one pair, RFC 1122's (net.ipv4.tcp_stdurg=1).

ub: the server writes with MSG_OOB; every segment it sends, URG flag and
urgent pointer included (tcp_mark_urg(), __tcp_transmit_skb()), is
compared with stock's.
"""
from xtcplib import problems, want_flags, want_note
from established import ACCEPTED, abort, data, opened
from sending import MSS, ack, rto_only_pair, want_lengths


def urg(f, name, off, text, ptr, flags="PAU"):
    """Send `text` at offset `off` with URG and urgent pointer `ptr`."""
    return f.send(name, f.seg(flags, seq=f.isn + 1 + off,
                              payload=text.encode(), urg=ptr))


def calls(side, f, name, *steps, quiet=0.3):
    """Step `name`: the server's calls, their results as the note, and
    whatever they put on the wire (a window update) within `quiet` s."""
    f.mark(name)
    f.cur.notes.append(side.calls(f, *steps))
    f.quiet(quiet)


def want_calls(tr, label, text):
    return want_note(tr, label, text)


def want_replies(tr, label, n):
    st = tr.step(label)
    got = len(st.pkts) if st else 0
    return None if got == n else "%s: %d replies, stock sends %d" % (
        label, got, n)


# ---------------------------------------------------------------------
# ua. urgent data in
# ---------------------------------------------------------------------

def in_segment(side):
    """The urgent byte in the segment that points to it: poll() says
    PRI; recv() stops before it; sockatmark() then says 1 and poll() no
    longer IN (the byte is no data); recv(MSG_OOB) returns it, once;
    the next recv() steps over it."""
    f = side.flow("c")
    if not opened(f):
        return
    urg(f, "d1", 0, "abc", 3)
    f.expect(1, 1.0)
    calls(side, f, "read", "poll", "atmark", "recv 100", "atmark", "poll",
          "oob", "atmark", "recv 100", "oob")
    data(f, "d2", 3, 2, byte=b"d")
    f.expect(1, 1.0)
    calls(side, f, "more", "recv 100", "atmark")
    abort(side, f)


def in_segment_sanity(tr):
    return problems(
        want_note(tr, "c:ack", ACCEPTED),
        want_replies(tr, "c:d1", 1),
        want_calls(tr, "c:read", "poll=IN|PRI|OUT atmark=0 recv='ab' "
                   "atmark=1 poll=PRI|OUT oob='c' atmark=1 recv:EAGAIN "
                   "oob:EINVAL"),
        want_calls(tr, "c:more", "recv='dd' atmark=0"),
        want_flags(tr, "c:abort", ["RA"]))


def ahead(side):
    """An urgent pointer beyond the segment: the byte is awaited
    (TCP_URG_NOTYET: no PRI, recv(MSG_OOB) EAGAIN) and taken from the
    later segment that holds it, which carries no URG itself."""
    f = side.flow("c")
    if not opened(f):
        return
    urg(f, "d1", 0, "abc", 10)
    f.expect(1, 1.0)
    calls(side, f, "early", "poll", "oob", "atmark", "recv 100")
    f.send("d2", f.seg("PA", seq=f.isn + 4, payload=b"defghijk"))
    f.expect(1, 1.0)
    calls(side, f, "read", "poll", "recv 100", "atmark", "oob", "recv 100")
    abort(side, f)


def ahead_sanity(tr):
    return problems(
        want_calls(tr, "c:early", "poll=IN|OUT oob:EAGAIN atmark=0 "
                   "recv='abc'"),
        want_calls(tr, "c:read", "poll=IN|PRI|OUT recv='defghi' atmark=1 "
                   "oob='j' recv='k'"),
        want_flags(tr, "c:abort", ["RA"]))


def oobinline(side):
    """SO_OOBINLINE: the urgent byte stays in the stream, recv(MSG_OOB)
    is EINVAL; sockatmark() still marks it."""
    f = side.flow("c")
    if not opened(f):
        return
    calls(side, f, "inline", "inline 1")
    urg(f, "d1", 0, "abc", 3)
    f.expect(1, 1.0)
    calls(side, f, "read", "poll", "oob", "atmark", "recv 100", "atmark",
          "recv 100", "atmark")
    abort(side, f)


def second_pointer(side):
    """A new urgent pointer while the reader sits at the old, unread
    urgent byte: the old byte is skipped, not read as data (the "Double
    Dutch" comment of tcp_check_urg()); the new one is the OOB byte."""
    f = side.flow("c")
    if not opened(f):
        return
    urg(f, "d1", 0, "abc", 3)
    f.expect(1, 1.0)
    calls(side, f, "read", "recv 100")
    urg(f, "d2", 3, "def", 3)
    f.expect(1, 1.0)
    calls(side, f, "read2", "atmark", "recv 100", "atmark", "oob",
          "recv 100")
    abort(side, f)


def second_pointer_sanity(tr):
    return problems(
        want_calls(tr, "c:read", "recv='ab'"),
        want_calls(tr, "c:read2", "atmark=0 recv='de' atmark=1 oob='f' "
                   "recv:EAGAIN"),
        want_flags(tr, "c:abort", ["RA"]))


def one_segment(text, ptr, *steps):
    """A scenario: `text` in one segment with urgent pointer `ptr`, its
    ACK, then the server's calls `steps` (step "read")."""
    def scen(side):
        f = side.flow("c")
        if not opened(f):
            return
        urg(f, "d1", 0, text, ptr)
        f.expect(1, 1.0)
        calls(side, f, "read", *steps)
        abort(side, f)
    return scen


# MSG_PEEK stops at the mark as recv() does; after the OOB byte was
# taken, a peek steps over it (tcp_recvmsg_locked()'s urg_hole).
peek = one_segment("abcde", 3, "peek 100", "recv 100", "oob_peek", "oob",
                   "peek 100", "recv 100")


def bare_ack(side):
    """URG on a bare ACK: the pointer is taken and the byte awaited; no
    reply (a pure ACK is not answered)."""
    f = side.flow("c")
    if not opened(f):
        return
    f.send("urg", f.seg("AU", urg=2))
    f.quiet(0.3)
    calls(side, f, "early", "poll", "oob")
    data(f, "d1", 0, 3, byte=b"a")
    f.expect(1, 1.0)
    calls(side, f, "read", "recv 100", "oob", "recv 100")
    abort(side, f)


def bare_ack_sanity(tr):
    return problems(
        want_replies(tr, "c:urg", 0),
        want_calls(tr, "c:early", "poll=OUT oob:EAGAIN"),
        want_calls(tr, "c:read", "recv='a' oob='a' recv='a'"),
        want_flags(tr, "c:abort", ["RA"]))


# net.ipv4.tcp_stdurg=1: the pointer points at the urgent byte.
stdurg = one_segment("abc", 2, "recv 100", "oob", "recv 100")


def read_sanity(text):
    """Stock's answers: the "read" step's calls say `text`; the abort's
    RST."""
    return lambda tr: problems(want_calls(tr, "c:read", text),
                               want_flags(tr, "c:abort", ["RA"]))


oobinline_sanity = read_sanity("poll=IN|PRI|OUT oob:EINVAL atmark=0 "
                               "recv='ab' atmark=1 recv='c' atmark=0")
peek_sanity = read_sanity("peek='ab' recv='ab' oob_peek='c' oob='c' "
                          "peek='de' recv='de'")
stdurg_sanity = read_sanity("recv='ab' oob='c' recv:EAGAIN")


def test_ua(ctx):
    """Urgent data received: the byte out of band or inline."""
    for name, scen, sanity in (
            ("urgent byte in its segment: poll PRI, read to the mark, "
             "MSG_OOB", in_segment, in_segment_sanity),
            ("urgent pointer ahead of the data", ahead, ahead_sanity),
            ("SO_OOBINLINE", oobinline, oobinline_sanity),
            ("a second urgent pointer before the first byte was read",
             second_pointer, second_pointer_sanity),
            ("MSG_PEEK across the mark", peek, peek_sanity),
            ("URG on a bare ACK", bare_ack, bare_ack_sanity)):
        ctx.pair("ua.%s" % name, scen, sanity=sanity)
    # Stock's knob, which xtcp reads too: one namespace, so serial.
    old = ctx.agent.call("read_sysctl", name="stdurg", which="ipv4")
    old = int(list(old["values"].values())[0])
    ctx.agent.sysctl("stdurg", 1, "ipv4")
    try:
        ctx.pair("ua.net.ipv4.tcp_stdurg=1: the pointer at the byte",
                 stdurg, sanity=stdurg_sanity, serial=True)
    finally:
        ctx.agent.sysctl("stdurg", old, "ipv4")


# ---------------------------------------------------------------------
# ub. urgent data out
# ---------------------------------------------------------------------

def write_acked(side, f, name, step, segs, upto, ack_name):
    """Step `name`: the server's write `step` and its `segs` segments,
    then step `ack_name`: the client ACKs `upto` bytes at once, before any
    timer of the server's."""
    calls(side, f, name, step, quiet=0)
    f.expect(segs, 1.0)
    ack(f, ack_name, upto)
    f.quiet(0.05)


def oob_after_data(side):
    """100 bytes, then one with MSG_OOB: it leaves at once (Nagle does
    not hold urgent data back, tcp_nagle_test()) with URG and a pointer
    past it (BSD); once the client ACKs it, the next write has no URG.
    Each write is ACKed at once, before any timer."""
    f = side.flow("c")
    if not opened(f):
        return
    write_acked(side, f, "w1", "send 100", 1, 100, "a1")
    write_acked(side, f, "w2", "send_oob 1", 1, 101, "a2")
    write_acked(side, f, "w3", "send 10", 1, 111, "a3")
    abort(side, f)


def urg_of(tr, label):
    st = tr.step(label)
    return [(len(r.payload), r.has("U"), r.urg) for _, r in st.pkts
            if r.payload] if st else []


def want_urg(tr, label, want):
    got = urg_of(tr, label)
    return None if got == want else "%s: segments (length, URG, pointer) " \
        "%s, stock sends %s" % (label, got, want)


def oob_after_data_sanity(tr):
    return problems(
        want_urg(tr, "c:w1", [(100, False, 0)]),
        want_urg(tr, "c:w2", [(1, True, 1)]),
        want_urg(tr, "c:w3", [(10, False, 0)]),
        want_flags(tr, "c:abort", ["RA"]))


def oob_large(side):
    """3000 bytes with MSG_OOB: skbs of one MSS (tcp_xmit_size_goal()
    without GSO), each segment pointing to the end; ACKing the first
    sends nothing more, ACKing all ends urgent mode."""
    f = side.flow("c")
    if not opened(f):
        return
    write_acked(side, f, "w", "send_oob 3000", 3, MSS, "ack1")
    ack(f, "ack", 3000)
    f.quiet(0.05)
    write_acked(side, f, "w2", "send 10", 1, 3010, "a2")
    abort(side, f)


def oob_large_sanity(tr):
    last = 3000 - 2 * MSS
    return problems(
        want_lengths(tr, "c:w", [MSS, MSS, last]),
        want_urg(tr, "c:w", [(MSS, True, 3000), (MSS, True, 3000 - MSS),
                             (last, True, last)]),
        want_replies(tr, "c:ack1", 0),
        want_urg(tr, "c:w2", [(10, False, 0)]),
        want_flags(tr, "c:abort", ["RA"]))


def oob_closed_window(side):
    """Urgent data the peer's closed window holds back: the ACK of the
    peer's next data points to it all the same (every segment below
    snd_up, __tcp_transmit_skb()).  The abort comes before the first
    zero-window probe (one RTO, at least 200 ms, after the write)."""
    f = side.flow("c")
    if not opened(f):
        return
    data(f, "d0", 0, 5)
    f.expect(1, 1.0)
    # Newer than SND.WL1, so that 6.1 takes a zero window too.
    data(f, "zero", 5, 5, window=0)
    f.expect(1, 1.0)
    calls(side, f, "w", "send_oob 10", quiet=0.05)
    data(f, "d1", 10, 5, window=0)
    f.expect(1, 1.0)
    abort(side, f)


def oob_closed_window_sanity(tr):
    st = tr.step("c:d1")
    got = [(r.has("U"), r.urg) for _, r in st.pkts] if st else []
    return problems(
        want_urg(tr, "c:w", []),
        None if got == [(True, 10)] else "c:d1: ACKs (URG, pointer) %s, "
        "stock sends [(True, 10)]" % got,
        # The RST too is below snd_up.
        want_flags(tr, "c:abort", ["RAU"]))


def test_ub(ctx):
    """Urgent data sent: URG and the pointer on the wire.  Stock with
    its timer as its only loss recovery (sending.py)."""
    for name, scen, sanity in (
            ("MSG_OOB after data: URG at once, ends with the ACK",
             oob_after_data, oob_after_data_sanity),
            ("MSG_OOB of 3000 bytes: one MSS a segment, each pointing "
             "to the end", oob_large, oob_large_sanity),
            ("MSG_OOB into a closed window: the ACKs point to it",
             oob_closed_window, oob_closed_window_sanity)):
        rto_only_pair(ctx, "ub.%s" % name, scen, sanity=sanity)


TESTS = {
    "ua": ("urgent data in: MSG_OOB, SO_OOBINLINE, sockatmark, EPOLLPRI",
           test_ua),
    "ub": ("urgent data out: MSG_OOB sends URG and the pointer", test_ub),
}
