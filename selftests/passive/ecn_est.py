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

dc runs the same two directions with DCTCP (RFC 8257) on both listeners
(TCP_CONGESTION "dctcp": stock's tcp_dctcp, xtcp's xtcp_dctcp), ECN off
in the sysctls so that only the algorithm's TCP_CONG_NEEDS_ECN can
accept the ECN-setup SYN (tcp_ecn_create_request()):

- the SYN-ACK carries ECE and ECT(0), as every segment of a DCTCP
  connection does, its ACKs included (tcp_ecn_send());
- receiving: ECE mirrors the last segment's CE mark, not RFC 3168's
  "until CWR": DCTCP's CE state machine (dctcp_ece_ack_update()) ACKs
  each change at once, and when an ACK was being delayed (TCP_QUICKACK
  0) first ACKs the data before the change with the old ECE;
- sending: an ECE cuts cwnd by alpha/2 (alpha starts at 1: half), once
  per window; alpha then follows the fraction of ECE-acknowledged
  segments per window (dctcp_update_alpha()).  TCP_INFO (cwnd,
  ssthresh, congestion state) and TCP_CC_INFO (alpha, the CE state) are
  compared with stock's at every quiet moment.
"""
import socket

import xtcplib as X
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


# ---------------------------------------------------------------------
# dc. DCTCP: ECN by the algorithm, ECE mirroring CE, alpha-sized cuts
# ---------------------------------------------------------------------

DCTCP = [(socket.IPPROTO_TCP, socket.TCP_CONGESTION, "dctcp")]
TCP_QUICKACK = getattr(socket, "TCP_QUICKACK", 12)


def dctcp_receive(side):
    """CE marks in, one segment at a time (quick ACKs), then an ECT and
    a CE segment back to back while ACKs are delayed, then ECT again."""
    f = side.flow("c")
    if not ecn_opened(f):
        return
    for name, off, tos in (("ect", 0, ECT0), ("ce", 100, CE),
                           ("ce2", 200, CE), ("ect2", 300, ECT0)):
        data(f, name, off, 100, tos=tos)
        f.expect(1, 1.0)
    f.mark("noquick")
    f.cur.notes.append(side.setsockopt_child(f, [(socket.IPPROTO_TCP,
                                                   TCP_QUICKACK, 0)]))
    f.burst("change", [f.seg("PA", seq=f.isn + 1 + 400, payload=b"x" * 100,
                             tos=ECT0),
                       f.seg("PA", seq=f.isn + 1 + 500, payload=b"x" * 100,
                             tos=CE)])
    f.expect(2, 1.0)
    data(f, "back", 600, 100, tos=ECT0)
    f.expect(1, 1.0)
    abort(side, f)


def acks_of(tr, label):
    """The step's replies as (ACK number relative to our ISN, ECE)."""
    st = tr.step(label)
    if st is None:
        return None
    return [(X.rel32(r.ack, st.flow.isn) - 1, "E" in r.flags)
            for _, r in st.pkts]


def want_acks(tr, label, want):
    got = acks_of(tr, label)
    return None if got == want else "%s: ACKs (bytes, ECE) %s, DCTCP " \
        "sends %s" % (label, got, want)


def dctcp_receive_sanity(tr):
    return problems(
        want_note(tr, "c:ack", ACCEPTED),
        want_replies(tr, "c:syn", 1, flag_has="E", tos=ECT0),
        want_acks(tr, "c:ect", [(100, False)]),
        want_acks(tr, "c:ce", [(200, True)]),
        want_acks(tr, "c:ce2", [(300, True)]),
        want_acks(tr, "c:ect2", [(400, False)]),
        want_acks(tr, "c:change", [(500, False), (600, True)]),
        want_acks(tr, "c:back", [(700, False)]),
        want_replies(tr, "c:ect2", 1, tos=ECT0))


def dctcp_info(side, f, name):
    """Step `name`: cwnd, ssthresh, state and DCTCP's alpha, as a note."""
    f.mark(name)
    i = side.tcp_info(f)
    f.cur.info = i
    if i is None:
        f.cur.notes.append("tcp_info: failed")
        return
    f.cur.notes.append(
        "tcp_info: %s ca_state=%d cwnd=%d ssthresh=%d alpha=%s ce_state=%s "
        "delivered=%d delivered_ce=%d" % (
            i.get("ca_name"), i["ca_state"], i["snd_cwnd"],
            i["snd_ssthresh"], i.get("dctcp_alpha"), i.get("dctcp_ce_state"),
            i["delivered"], i["delivered_ce"]))


def dctcp_send(side):
    """The server writes 60 MSS; ten leave.  ECE on the ACK of five cuts
    cwnd to 5 (alpha 1); ECE on the rest of that window cuts nothing
    more; a clean ACK of all sent ends the reduction and lets more go;
    an ECE on the ACK of half of that window cuts by the alpha the
    windows so far gave."""
    f = side.flow("c")
    f.loose_psh = True
    if not ecn_opened(f):
        return
    dctcp_info(side, f, "i0")
    f.mark("write")
    f.cur.notes.append(side.send(f, 60 * MSS))
    f.expect(10, 1.0)
    f.quiet(0.1)
    ece_ack(f, "ece1", 5 * MSS)
    f.quiet(0.1)
    dctcp_info(side, f, "i1")
    ece_ack(f, "ece2", 10 * MSS)
    f.quiet(0.1)
    dctcp_info(side, f, "i2")
    base = highest(f)
    ece_ack(f, "ack_all", base, flags="A")
    f.quiet(0.2)
    dctcp_info(side, f, "i3")
    ece_ack(f, "ece3", base + (highest(f) - base) // 2 // MSS * MSS)
    f.quiet(0.1)
    dctcp_info(side, f, "i4")
    ece_ack(f, "ack_all2", highest(f), flags="A")
    f.quiet(0.2)
    dctcp_info(side, f, "i5")
    abort(side, f)


def want_cut(tr, before, after):
    """Step `after`'s ssthresh is step `before`'s cwnd less alpha/2 of
    it (dctcp_ssthresh()), in the CWR state."""
    a, b = info_of(tr, before), info_of(tr, after)
    if a is None or b is None or a.get("dctcp_alpha") is None:
        return "%s/%s: no TCP_INFO or no DCTCP info" % (before, after)
    want = max(a["snd_cwnd"] - ((a["snd_cwnd"] * a["dctcp_alpha"]) >> 11), 2)
    if b["snd_ssthresh"] != want or b["ca_state"] != 2:
        return "%s: ssthresh %d in state %d; DCTCP's cut of cwnd %d at " \
            "alpha %d is %d, in CWR" % (after, b["snd_ssthresh"],
                                        b["ca_state"], a["snd_cwnd"],
                                        a["dctcp_alpha"], want)
    return None


def info_of(tr, label):
    st = tr.step(label)
    return getattr(st, "info", None) if st else None


def dctcp_send_sanity(tr):
    i0 = info_of(tr, "c:i0") or {}
    return problems(
        want_note(tr, "c:ack", ACCEPTED),
        None if i0.get("ca_name") == "dctcp" and
        i0.get("dctcp_alpha") == 1024 else
        "c:i0: algorithm %s alpha %s, want dctcp at 1024" % (
            i0.get("ca_name"), i0.get("dctcp_alpha")),
        want_replies(tr, "c:write", 10, flag_lacks="C", tos=ECT0),
        want_cut(tr, "c:i0", "c:i1"),
        want_replies(tr, "c:ece2", len(replies(tr, "c:ece2")),
                     flag_lacks="C"),
        want_cut(tr, "c:i3", "c:i4"))


def test_dc(ctx):
    """DCTCP on both listeners."""
    ctx.pair("dc.DCTCP: ECN by the algorithm, ECE mirrors CE", dctcp_receive,
             sysctls={"ecn": 0}, sockopts=DCTCP, sanity=dctcp_receive_sanity)
    rto_only_pair(ctx, "dc.DCTCP: cwnd cut by alpha/2 once per window, "
                  "alpha per window", dctcp_send, sysctls={"ecn": 0},
                  sockopts=DCTCP + [(socket.SOL_SOCKET, socket.SO_SNDBUF,
                                     1 << 20)],
                  sanity=dctcp_send_sanity)


def test_ec(ctx):
    """ECN on established connections, both directions."""
    ctx.pair("ec.CE in: ECE echoed until CWR", receive_ce,
             sanity=receive_sanity)
    rto_only_pair(ctx, "ec.ECE in: ECT(0) data, one cwnd cut, CWR on new "
                  "data", send_ece, sanity=send_sanity)


TESTS = {
    "ec": ("established: ECN, CE echoed as ECE until CWR; ECT(0) data, "
           "ECE cuts cwnd once, CWR", test_ec),
    "dc": ("established: DCTCP on both listeners: ECN by the algorithm, "
           "ECE mirrors CE, cwnd cut by alpha/2, alpha per window", test_dc),
}
