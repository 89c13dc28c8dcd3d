# SPDX-License-Identifier: GPL-2.0
"""TCP_TX_DELAY parity: parity.py's td.

setsockopt(SOL_TCP, TCP_TX_DELAY) takes any value, in microseconds, with
no capability check (do_tcp_setsockopt() stores it in tp->tcp_tx_delay);
every segment the socket sends then leaves that much later: its earliest
departure time (skb->tstamp) is moved on by tcp_add_tx_delay() in
__tcp_transmit_skb() and tcp_make_synack() (the listener's delay for a
SYN-ACK), and by tcp_transmit_time() for the ACKs and RSTs sent on a
socket's behalf (the listener's for a request, tw_tx_delay for a
timewait sock).  A child starts with its listener's value (the clone).
Only a qdisc that honours departure times enforces it: both tests run
with fq as srv0's root qdisc.

td.delay: the listener has 200 ms; an unprivileged socket (uid 65534,
no capabilities) sets and reads it as root does; the SYN-ACK, the
request's challenge ACK and RST, then the child's ACK, data, FIN and
its timewait sock's ACK all leave 190 ms to 390 ms after what they
answer (a delay applied twice would pass 400 ms), on both stacks; the
listener and the child read 200000 back.

td.control: no delay on the listener: the same answers leave within
190 ms; the child then sets 200 ms itself, and its next ACK and its
abort RST are delayed.

Each stack is held to these rules by itself (a broken environment, e.g.
no fq, fails the stock side), and the transcripts are compared as
everywhere else.
"""
import socket

import xtcplib as X
from xtcplib import problems, want_flags, want_note
from established import ACCEPTED, abort, opened
from sending import ack, server_close

TCP_TX_DELAY = 37       # include/uapi/linux/tcp.h; Python has no name
DELAY_US = 200000
DELAYED = (0.190, 0.390)    # seconds after the stimulus, for DELAY_US
PROMPT = 0.190              # without a delay: sooner than any delayed one

TX_DELAY = (socket.IPPROTO_TCP, TCP_TX_DELAY)


def getsockopt(side, flow=None):
    """The listener's (or `flow`'s child's) TCP_TX_DELAY, as a note."""
    rep = side.ctx.agent.call(
        "getsockopt", lid=side.lid, level=TX_DELAY[0], name=TX_DELAY[1],
        peer=[flow.src, flow.sport] if flow else None)
    return "TCP_TX_DELAY %s" % (rep["value"] if rep["ok"] else rep["error"])


def unprivileged(side):
    """TCP_TX_DELAY set and read on a socket of this side's family by a
    process without capabilities, as a note."""
    rep = side.ctx.agent.call("unpriv_sockopt", family=side.family,
                              level=TX_DELAY[0], name=TX_DELAY[1],
                              value=DELAY_US)
    if not rep["ok"]:
        return "unprivileged: %s" % rep["error"]
    return "unprivileged: CapEff %s, set %s, read %s" % (
        rep["capeff"], rep["set"], rep["get"])


def delayed(side):
    side.note(unprivileged(side), "unprivileged")
    side.note(getsockopt(side), "listener")
    f = side.flow("c")
    f.handshake_syn()
    if f.synack is None:
        return
    # In window but not RCV.NXT: a challenge ACK (the listener's delay).
    f.send("rst", f.seg("R", seq=f.isn + 1 + 1000, ack=0, ts=False))
    f.expect(1, 1.0)
    # A bad ACK number: the listener's RST.
    f.send("bad-ack", f.seg("A", ack=(f.srv_isn + 2) & 0xffffffff))
    f.expect(1, 1.0)
    f.send("ack", f.seg("A"))
    if not f.expect_accept(3.0):
        return
    f.cur.notes.append("child " + getsockopt(side, f))
    f.send("data", f.seg("PA", payload=b"x" * 10))
    f.expect(1, 1.0)
    f.cur.notes.append(side.recv(f, 10))   # close() then sends a FIN
    f.mark("write")
    f.cur.notes.append(side.send(f, 100))
    f.expect(1, 1.0)
    ack(f, "ackdata", 100, sent=10)
    f.quiet(0.05)
    # close(): the FIN; the orphan becomes a timewait sock at the ACK of
    # it, which ACKs the client's FIN (tw_tx_delay).
    server_close(side, f)
    ack(f, "ackfin", 101, sent=10)
    f.quiet(0.05)
    f.send("fin", f.seg("FA", seq=f.isn + 11, ack=f.srv_isn + 102))
    f.expect(1, 1.0)


DELAYED_STEPS = (("c:syn", "SA"), ("c:rst", "A"), ("c:bad-ack", "R"),
                 ("c:data", "A"), ("c:write", "PA"), ("c:close", "FA"),
                 ("c:fin", "A"))


def delayed_sanity(tr):
    return problems(
        want_note(tr, "unprivileged", "unprivileged: CapEff "
                  "0000000000000000, set 0, read %d" % DELAY_US),
        want_note(tr, "listener", "TCP_TX_DELAY %d" % DELAY_US),
        want_note(tr, "c:ack", ACCEPTED),
        want_note(tr, "c:ack", "child TCP_TX_DELAY %d" % DELAY_US),
        want_flags(tr, "c:ackdata", []), want_flags(tr, "c:ackfin", []),
        *[want_flags(tr, label, [flags]) for label, flags in DELAYED_STEPS],
        *timing(tr, [(label, True) for label, _ in DELAYED_STEPS]))


def control(side):
    f = side.flow("c")
    if not opened(f):
        return
    f.cur.notes.append("child " + getsockopt(side, f))
    f.send("data", f.seg("PA", payload=b"x" * 10))
    f.expect(1, 1.0)
    f.mark("set")
    f.cur.notes.append(side.setsockopt_child(f, [TX_DELAY + (DELAY_US,)]))
    f.cur.notes.append("child " + getsockopt(side, f))
    f.cur.notes.append("listener " + getsockopt(side))
    f.send("data2", f.seg("PA", seq=f.isn + 11, payload=b"y" * 10))
    f.expect(1, 1.0)
    abort(side, f)


CONTROL_STEPS = (("c:syn", "SA", False), ("c:data", "A", False),
                 ("c:data2", "A", True), ("c:abort", "RA", True))


def control_sanity(tr):
    return problems(
        want_note(tr, "c:ack", ACCEPTED),
        want_note(tr, "c:ack", "child TCP_TX_DELAY 0"),
        want_note(tr, "c:set", "setsockopt: 0"),
        want_note(tr, "c:set", "child TCP_TX_DELAY %d" % DELAY_US),
        want_note(tr, "c:set", "listener TCP_TX_DELAY 0"),
        *[want_flags(tr, label, [flags]) for label, flags, _ in
          CONTROL_STEPS],
        *timing(tr, [(label, late) for label, _, late in CONTROL_STEPS]))


def first_reply_after(tr, label):
    """Seconds from step `label`'s stimulus to its first reply, or None."""
    st = tr.step(label)
    if not st or not st.pkts:
        return None
    return st.pkts[0][1].t - st.t


def timing(tr, steps):
    """Problems with the rule: each of `steps`, (label, delayed), is
    answered DELAYED after its stimulus if delayed, else within PROMPT."""
    out = []
    for label, late in steps:
        dt = first_reply_after(tr, label)
        if dt is None:
            continue        # want_flags() says it
        if late and not DELAYED[0] <= dt < DELAYED[1]:
            out.append("%s: %s's answer after %.3f s, not %g..%g s" % (
                label, tr.side, dt, *DELAYED))
        elif not late and dt >= PROMPT:
            out.append("%s: %s's answer after %.3f s, not within %g s "
                       "(no delay set)" % (label, tr.side, dt, PROMPT))
    return out


def timing_compare(steps):
    """compare(): xtcp held to the same rule; both sides' times logged."""
    def compare(stock, xtcp):
        info = []
        for label, late in steps:
            times = [first_reply_after(tr, label) for tr in (stock, xtcp)]
            info.append("%s (%s): stock %s, xtcp %s" % (
                label, "delayed" if late else "no delay",
                *["-" if t is None else "%.0f ms" % (t * 1000)
                  for t in times]))
        return timing(xtcp, steps), info
    return compare


def test_td(ctx):
    """TCP_TX_DELAY on the listener and on a child, under fq."""
    names = ("td.delay: TCP_TX_DELAY %d us on the listener: unprivileged "
             "set, read back on the child, SYN-ACK, challenge ACK, RST, "
             "ACK, data, FIN, timewait ACK delayed" % DELAY_US,
             "td.control: no delay until the child sets it: its ACK and "
             "RST delayed")
    try:
        X.run(["tc", "qdisc", "replace", "dev", "srv0", "root", "fq"],
              ns=ctx.cfg.srv_ns)
    except X.SetupError as e:
        for name in names:
            ctx.report(name, False, ["no fq qdisc: %s" % e])
        return
    try:
        ctx.pair(names[0], delayed, sanity=delayed_sanity,
                 compare=timing_compare([(label, True) for label, _ in
                                         DELAYED_STEPS]),
                 sockopts=[TX_DELAY + (DELAY_US,)], timeout=30)
        ctx.pair(names[1], control, sanity=control_sanity,
                 compare=timing_compare([(label, late) for label, _, late
                                         in CONTROL_STEPS]), timeout=30)
    finally:
        X.run(["tc", "qdisc", "del", "dev", "srv0", "root"],
              ns=ctx.cfg.srv_ns, check=False)


TESTS = {
    "td": ("TCP_TX_DELAY: set unprivileged, inherited, every segment "
           "delayed (fq)", test_td),
}
