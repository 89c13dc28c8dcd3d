# SPDX-License-Identifier: GPL-2.0
"""ECN parity (RFC 3168) on established connections: parity.py's ec.

The client's SYN asks for ECN (ECE and CWR), which stock and xtcp accept
at net.ipv4.tcp_ecn / net.xtcp.ecn 2.  Then, against both servers:

- receiving: data marked CE makes the server echo ECE on its ACKs, at
  once (quick ACKs: the sender's cwnd may be small), and on every ACK
  until data arrives with CWR; that one is ACKed at once and without
  ECE (RFC 3168 6.1.3, tcp_ecn_check_ce(), tcp_ecn_accept_cwr());
- sending: the server's new data leaves ECT(0) (IP TOS 0x02) and its
  ACKs Not-ECT (6.1.5, tcp_ecn_send()); an ACK with ECE cuts cwnd once
  (CWR state) and the next new data segment carries CWR (6.1.2); a
  second ECE in the same window does not cut again.  Both stacks run
  with loss probes and RACK off (sending.py's rto_only_pair()): scapy's
  pace under emulation cannot then race a probe timer, and only the
  RTO, which every step stays well inside, could re-send.

Every segment is compared with stock's, IP TOS included.  The stock side
is also held to RFC 3168's rules above.
"""
from xtcplib import problems, want_note
from established import ACCEPTED, abort, data
from sending import MSS, highest, rto_only_pair

NOT_ECT, ECT0, CE = 0, 2, 3


def ecn_opened(f):
    """A handshake that asks for ECN; True once accepted."""
    f.handshake_syn(opts="all", flags="SEC")
    if f.synack is None:
        return False
    f.send("ack", f.seg("A"))
    return f.expect_accept(3.0)


def replies(tr, label):
    st = tr.step(label)
    return [r for _, r in st.pkts] if st else []


def want_replies(tr, label, n, flag_has=None, flag_lacks=None, tos=None):
    """Step `label` got `n` replies; each has / lacks the flag letters,
    and (if given) that IP TOS ECN field."""
    got = replies(tr, label)
    if len(got) != n:
        return "%s: %d replies, stock sends %d" % (label, len(got), n)
    for r in got:
        fl = r.flags
        if flag_has and not all(c in fl for c in flag_has):
            return "%s: flags %s without %s" % (label, fl, flag_has)
        if flag_lacks and any(c in fl for c in flag_lacks):
            return "%s: flags %s with %s" % (label, fl, flag_lacks)
        if tos is not None and (r.tos & 3) != tos:
            return "%s: IP ECN field %d, RFC 3168 says %d" % (
                label, r.tos & 3, tos)
    return None


# ---------------------------------------------------------------------
# ec. receiving CE, echoing ECE until CWR
# ---------------------------------------------------------------------

def receive_ce(side):
    f = side.flow("c")
    if not ecn_opened(f):
        return
    data(f, "ect", 0, 100, tos=ECT0)
    f.expect(1, 1.0)
    data(f, "ce", 100, 100, tos=CE)
    f.expect(1, 1.0)
    data(f, "after", 200, 100, tos=ECT0)
    f.expect(1, 1.0)
    data(f, "cwr", 300, 100, flags="PAC", tos=ECT0)
    f.expect(1, 1.0)
    data(f, "clean", 400, 100, tos=ECT0)
    f.expect(1, 1.0)
    abort(side, f)


def receive_sanity(tr):
    return problems(want_note(tr, "c:ack", ACCEPTED),
                    want_replies(tr, "c:ect", 1, flag_lacks="E",
                                 tos=NOT_ECT),
                    want_replies(tr, "c:ce", 1, flag_has="E", tos=NOT_ECT),
                    want_replies(tr, "c:after", 1, flag_has="E"),
                    want_replies(tr, "c:cwr", 1, flag_lacks="E"))


# ---------------------------------------------------------------------
# ec. sending: ECT(0) on data, ECE cuts cwnd once, CWR on new data
# ---------------------------------------------------------------------

TOTAL = 40 * MSS


def ece_ack(f, name, upto, flags="AE"):
    return f.send(name, f.seg(flags, ack=f.srv_isn + 1 + upto))


def send_ece(side):
    """The server writes 40 MSS; ten leave (the initial window), ECT(0).
    ACKing five with ECE cuts cwnd (CWR; PRR lets two new segments go),
    the first new one carries CWR.  ACKing the other five of that window
    with ECE again does not cut again (no CWR).  Then a plain ACK of all
    that was sent lets more out.  Every step ACKs within 0.1 s of the
    last, well inside the RTO.  (An ECE that ACKs the whole window
    reduced at, high_seq, starts a new reduction in stock: CWR again.)"""
    f = side.flow("c")
    if not ecn_opened(f):
        return
    f.mark("write")
    f.cur.notes.append(side.send(f, TOTAL))
    f.expect(10, 1.0)
    ece_ack(f, "ece1", 5 * MSS)
    f.quiet(0.1)
    ece_ack(f, "ece2", 10 * MSS)
    f.quiet(0.1)
    ece_ack(f, "ack_all", highest(f), flags="A")
    f.quiet(0.1)
    abort(side, f)


def cwr_once(tr, label):
    """New data after the first ECE: CWR on the first segment only, all
    ECT(0) (PRR lets ssthresh - in flight of them go: 7 - 5 for CUBIC)."""
    got = replies(tr, label)
    if not got:
        return "%s: nothing sent, stock sends new data with CWR" % label
    if "C" not in got[0].flags or any("C" in r.flags for r in got[1:]):
        return "%s: flags %s, stock sets CWR on the first only" % (
            label, [r.flags for r in got])
    if any((r.tos & 3) != ECT0 for r in got):
        return "%s: IP ECN fields %s, RFC 3168 says ECT(0)" % (
            label, [r.tos & 3 for r in got])
    return None


def send_sanity(tr):
    return problems(want_note(tr, "c:ack", ACCEPTED),
                    want_replies(tr, "c:write", 10, flag_lacks="C",
                                 tos=ECT0),
                    cwr_once(tr, "c:ece1"),
                    want_replies(tr, "c:ece2", len(replies(tr, "c:ece2")),
                                 flag_lacks="C"))


def test_ec(ctx):
    """ECN on established connections, both directions."""
    ctx.pair("ec.CE in: ECE echoed until CWR", receive_ce,
             sanity=receive_sanity)
    rto_only_pair(ctx, "ec.ECE in: ECT(0) data, one cwnd cut, CWR on new "
                  "data", send_ece, sanity=send_sanity)


TESTS = {
    "ec": ("established: ECN, CE echoed as ECE until CWR; ECT(0) data, "
           "ECE cuts cwnd once, CWR", test_ec),
}
