# SPDX-License-Identifier: GPL-2.0
"""Send-path parity: what the server writes, segment by segment.

The scenarios of parity.py's tests sa..sc: after the handshake the
server writes (the agent's send op) and scapy plays the client, ACKing
at chosen moments; every segment the server puts on the wire is
compared with stock's in the same run: sequence number relative to the
ISN, length, flags (PSH on the last segment of each GSO packet), ACK,
window and options.  The stock side is also held to what the kernel
source says: ten segments of initial window (RFC 6928, tcp_init_cwnd()),
slow start doubling per ACKed window (RFC 5681 3.1), the oldest segment
re-sent on timeout with the timer doubled (RFC 6298 5.5).

Connections end with an abort (SO_LINGER {1, 0}), whose RST both stacks
send; the orderly FIN comes with the closing states.
"""
import hashlib
import os
import socket
import time

import xtcplib as X
from xtcplib import problems, want_flags, want_note
from established import ACCEPTED, abort, opened

# The peer's MSS is 1460; with timestamps a segment carries 1448 bytes.
MSS = 1448
IW = 10


# These scenarios are about the timer, the window and the closing
# states: both stacks run with loss recovery cut to the timer (no tail
# loss probes, RACK or F-RTO), so that a segment left unacknowledged on
# purpose is re-sent by the RTO alone.  recovery.py tests the rest.
RTO_ONLY = {"early_retrans": 0, "recovery": 0, "frto": 0}


def rto_only_pair(ctx, name, scen, **kw):
    """ctx.pair() with loss recovery cut to the timer on both stacks
    (net.ipv4 and net.xtcp), restored afterwards."""
    old = {}
    for k, v in RTO_ONLY.items():
        for which in ("ipv4", "xtcp"):
            rep = ctx.agent.call("read_sysctl", name=k, which=which)
            old[k, which] = int(list(rep["values"].values())[0])
            ctx.agent.sysctl(k, v, which)
    try:
        return ctx.pair(name, scen, serial=True, **kw)
    finally:
        for (k, which), v in old.items():
            ctx.agent.sysctl(k, v, which)


def highest(f):
    """The end of the server's data seen so far, relative to its ISN+1."""
    end = 0
    for st in f.steps:
        for _, r in st.pkts:
            if r.payload and not r.has("S"):
                end = max(end, X.rel32(r.seq, f.srv_isn) - 1 +
                          len(r.payload))
    return end


def ack(f, name, upto, window=502, sent=0):
    """ACK the server's data up to `upto` bytes, the client having sent
    `sent` bytes of sequence space (a FIN counts one)."""
    return f.send(name, f.seg("A", seq=f.isn + 1 + sent,
                              ack=f.srv_isn + 1 + upto, window=window))


def data_lengths(tr, label):
    st = tr.step(label)
    return [len(r.payload) for _, r in st.pkts if r.payload] if st else []


def want_lengths(tr, label, want):
    got = data_lengths(tr, label)
    return None if got == want else "%s: segments of %s bytes, stock " \
        "sends %s" % (label, got, want)


# ---------------------------------------------------------------------
# sa. the initial window and slow start
# ---------------------------------------------------------------------

TOTAL_SA = 40 * MSS


def window_growth(side):
    """The server writes 40 MSS.  With no ACK, only the initial window
    leaves: ten segments (tcp_init_cwnd()), as two GSO packets of five
    (tcp_cwnd_test() keeps half the window for a second packet), PSH on
    the last of each.  ACKing them grows cwnd to twenty (slow start), so
    twenty more leave; ACKing those lets the last ten go."""
    f = side.flow("c")
    if not opened(f):
        return
    f.mark("write")
    f.cur.notes.append(side.send(f, TOTAL_SA))
    f.expect(IW, 1.0)
    ack(f, "ack10", highest(f))
    f.expect(2 * IW, 1.0)
    ack(f, "ack30", highest(f))
    f.expect(IW, 1.0)
    ack(f, "ack40", highest(f))
    f.quiet(0.1)
    f.mark("done")
    f.cur.notes.append(side.sent(f))
    abort(side, f)


def growth_sanity(tr):
    return problems(want_note(tr, "c:ack", ACCEPTED),
                    want_lengths(tr, "c:write", [MSS] * IW),
                    want_lengths(tr, "c:ack10", [MSS] * 2 * IW),
                    want_lengths(tr, "c:ack30", [MSS] * IW),
                    want_note(tr, "c:done", "sent %d bytes" % TOTAL_SA),
                    want_flags(tr, "c:abort", ["RA"]))


def test_sa(ctx):
    """The initial window, slow start, GSO packet boundaries."""
    rto_only_pair(ctx, "sa.initial window of 10, slow start to 20, then "
                  "the rest", window_growth, sanity=growth_sanity)


# ---------------------------------------------------------------------
# sb. retransmission timeout
# ---------------------------------------------------------------------

def rto(side):
    """Three segments the client never ACKs: after one RTO (200 ms and a
    little, RFC 6298 2.4 with Linux's 200 ms floor) the first is sent
    again, alone (tcp_retransmit_timer(): one segment, cwnd 1), after
    twice that again; then the client ACKs all three and the Loss state
    ends (snd_una passes high_seq).  A last write goes out at once."""
    f = side.flow("c")
    if not opened(f):
        return
    f.mark("write")
    f.cur.notes.append(side.send(f, 3 * MSS))
    # Three segments and two retransmissions: about 3 RTOs, more than
    # a second when emulation makes the handshake RTT long.
    f.expect(5, 3.0)
    f.mark("done")
    f.cur.notes.append(side.sent(f, 1.0))
    ack(f, "ack", 3 * MSS)
    f.quiet(0.3)
    f.mark("more")
    f.cur.notes.append(side.send(f, 100))
    f.quiet(0.3)
    abort(side, f)


def rto_times(tr, label):
    st = tr.step(label)
    return [r.t - st.t for _, r in st.pkts if r.payload] if st else []


def handshake_rtt(tr):
    """The RTT the server sampled from its SYN-ACK (tcp_synack_rtt_meas()):
    from the SYN-ACK on the wire to the third ACK scapy sent, s."""
    syn, ack = tr.step("c:syn"), tr.step("c:ack")
    if not syn or not syn.pkts or not ack:
        return None
    return ack.t - syn.pkts[0][1].t


def rto_problem(tr, backoff=2):
    """The first retransmission must come one RTO after the first
    transmission, the RTO being what RFC 6298 2.2 makes of the handshake's
    sample with Linux's 200 ms floor on the variance (SRTT + max(2 SRTT,
    rto_min)); the second after `backoff` times that (5.5: twice; 1 for
    a thin stream with linear timeouts).  Scapy's ACK latency under
    emulation varies from run to run, so each side is held to its own
    sample, within 15 % and a few jiffies."""
    times, rtt = rto_times(tr, "c:write"), handshake_rtt(tr)
    if len(times) != 5:
        return "%s: %d data segments, stock sends 3 and 2 retransmissions " \
            "in 1 s" % (tr.side, len(times))
    if rtt is None:
        return "%s: no handshake RTT" % tr.side
    want = rtt + max(2 * rtt, 0.2)
    first, second = times[3] - times[0], times[4] - times[3]
    if not 0.85 * want - 0.02 <= first <= 1.15 * want + 0.05:
        return "%s: first retransmission after %.3f s; the handshake RTT " \
            "%.3f s makes an RTO of %.3f s" % (tr.side, first, rtt, want)
    if not 0.85 * backoff <= second / first <= 1.15 * backoff:
        return "%s: second retransmission %.3f s after the first, which " \
            "came %.3f s after the send: not %g times" % (
                tr.side, second, first, backoff)
    return None


def rto_sanity(tr):
    return problems(want_note(tr, "c:ack", ACCEPTED),
                    want_lengths(tr, "c:write", [MSS] * 5),
                    rto_problem(tr),
                    want_lengths(tr, "c:more", [100]),
                    want_flags(tr, "c:abort", ["RA"]))


def rto_compare(stock, xtcp):
    """xtcp's timer obeys the same rule from its own RTT sample."""
    bad = rto_problem(xtcp)
    return [bad] if bad else [], []


TCP_THIN_LINEAR_TIMEOUTS = 16


def thin_sanity(tr):
    return problems(want_note(tr, "c:ack", ACCEPTED),
                    want_lengths(tr, "c:write", [MSS] * 5),
                    rto_problem(tr, backoff=1),
                    want_lengths(tr, "c:more", [100]),
                    want_flags(tr, "c:abort", ["RA"]))


def thin_compare(stock, xtcp):
    bad = rto_problem(xtcp, backoff=1)
    return [bad] if bad else [], []


def rto_icmp(side):
    """rto() with an ICMP host unreachable quoting SND.UNA right after
    the first retransmission (RFC 6069, tcp_ld_RTO_revert() from
    tcp_v4_err()): the doubling that retransmission took is undone, so
    the second comes one RTO after the first, not two."""
    f = side.flow("c")
    if not opened(f):
        return
    f.mark("write")
    f.cur.notes.append(side.send(f, 3 * MSS))
    f.expect(4, 2.0)
    f.send("icmp", f.icmp_error(3, 1, f.srv_isn + 1))
    f.expect(1, 2.0)
    f.mark("done")
    f.cur.notes.append(side.sent(f, 1.0))
    ack(f, "ack", 3 * MSS)
    f.quiet(0.3)
    abort(side, f)


def rto_icmp_problem(tr):
    """The ICMP came after the first retransmission: the second follows
    it by one RTO (the first's interval, 15 % and a few jiffies)."""
    w, i = tr.step("c:write"), tr.step("c:icmp")
    times = [r.t for st in (w, i) if st for _, r in st.pkts if r.payload]
    if len(times) != 5 or len(w.pkts) != 4:
        return "%s: %d data segments, 4 before the ICMP; stock sends 3 " \
            "and a retransmission, then one more" % (tr.side, len(times))
    first, second = times[3] - times[0], times[4] - times[3]
    if not 0.85 * first - 0.02 <= second <= 1.15 * first + 0.02:
        return "%s: second retransmission %.3f s after the first, which " \
            "came %.3f s after the send: the ICMP should have undone " \
            "the doubling" % (tr.side, second, first)
    return None


def rto_icmp_sanity(tr):
    return problems(want_note(tr, "c:ack", ACCEPTED),
                    want_flags(tr, "c:abort", ["RA"]),
                    rto_icmp_problem(tr))


def rto_icmp_compare(stock, xtcp):
    bad = rto_icmp_problem(xtcp)
    return [bad] if bad else [], []


def test_sb(ctx):
    """The retransmission timer: the oldest segment again, backed off;
    not backed off for a thin stream that asked for linear timeouts
    (TCP_THIN_LINEAR_TIMEOUTS on the listener: three segments in flight,
    and the first RTO ended the initial slow start); one doubling undone
    by an ICMP unreachable for SND.UNA (RFC 6069)."""
    rto_only_pair(ctx, "sb.retransmission timeout and backoff, then "
                  "recovery", rto, sanity=rto_sanity, compare=rto_compare)
    rto_only_pair(ctx, "sb.TCP_THIN_LINEAR_TIMEOUTS: the second timeout "
                  "not backed off", rto,
                  sockopts=[(socket.IPPROTO_TCP, TCP_THIN_LINEAR_TIMEOUTS,
                             1)],
                  sanity=thin_sanity, compare=thin_compare)
    rto_only_pair(ctx, "sb.ICMP host unreachable for SND.UNA after the "
                  "first timeout: one doubling undone (RFC 6069)",
                  rto_icmp, sanity=rto_icmp_sanity,
                  compare=rto_icmp_compare)


# ---------------------------------------------------------------------
# sc. zero window
# ---------------------------------------------------------------------

# How long the client waits for the two window probes, s: three RTOs,
# each up to 2 s on a loaded host.
PROBES_WAIT = 6.0


def close_window(side, f):
    """The handshake, the server's write of twenty segments, the first
    ten (the initial window) and the client's ACK of them with a zero
    window; False if the handshake failed.  The waits end with the
    count: long ones cost a passing run nothing and keep a late reply
    (a loaded host) out of the next step."""
    if not opened(f):
        return False
    f.mark("write")
    f.cur.notes.append(side.send(f, 2 * IW * MSS))
    f.expect(IW, 2.0)
    ack(f, "zero", highest(f), window=0)
    return True


def zero_window(side):
    """The server writes twenty segments; the client ACKs the first ten
    (the initial window) with a zero window: the server stops, then
    probes (tcp_probe_timer(): a bare ACK one below SND.UNA, RFC 9293
    3.8.6.1), backed off, until a window update lets the rest go."""
    f = side.flow("c")
    if not close_window(side, f):
        return
    # Two probes: one RTO after the zero window, then twice that.
    f.expect(2, PROBES_WAIT)
    ack(f, "open", highest(f))
    f.expect(IW, 2.0)
    f.quiet(0.1)
    abort(side, f)


def probe_problem(tr):
    """Two bare ACKs, the second backed off to twice the first's wait
    (tcp_probe0_when(): the RTO shifted by icsk_backoff)."""
    st = tr.step("c:zero")
    times = [r.t - st.t for _, r in st.pkts if not r.payload] if st else []
    if len(times) != 2:
        return "c:zero: %d window probes in %g s; stock sends 2, one RTO " \
            "and then twice that after the zero window" % (len(times),
                                                           PROBES_WAIT)
    if not 1.6 <= (times[1] - times[0]) / times[0] <= 2.4:
        return "c:zero: probes %.3f s and %.3f s after the zero window: " \
            "the second not backed off" % tuple(times)
    return None


def zero_sanity(tr):
    return problems(want_note(tr, "c:ack", ACCEPTED),
                    want_lengths(tr, "c:write", [MSS] * IW),
                    want_lengths(tr, "c:open", [MSS] * IW),
                    probe_problem(tr),
                    want_flags(tr, "c:abort", ["RA"]))


def test_sc(ctx):
    """Zero-window probes and the window reopening."""
    rto_only_pair(ctx, "sc.zero window: probes, then the window opens",
                  zero_window, sanity=zero_sanity)


TESTS = {
    "sa": ("sending: initial window, slow start, GSO packets", test_sa),
    "sb": ("sending: retransmission timeout and backoff, RFC 6069's "
           "revert", test_sb),
    "sc": ("sending: zero-window probes", test_sc),
}


# ---------------------------------------------------------------------
# sd. closing: our FIN
# ---------------------------------------------------------------------


def server_closes_first(how):
    """The server writes 100 bytes, then close() (or shutdown(SHUT_WR):
    `how`): its FIN follows the data (FIN-WAIT-1); the client's ACK of
    the FIN (FIN-WAIT-2, no reply) and its own FIN, ACKed at once
    (TIME-WAIT).  After close(), the orphan becomes a timewait sock in
    FIN-WAIT-2 at the ACK of its FIN, since net.ipv4.tcp_fin_timeout is
    not above 60 s, and that ACKs the client's FIN; after
    shutdown(SHUT_WR) the full socket does."""
    def scen(side):
        f = side.flow("c")
        if not opened(f):
            return
        f.mark("write")
        f.cur.notes.append(side.send(f, 100))
        f.expect(1, 1.0)
        f.cur.notes.append(side.sent(f, 1.0))
        ack(f, "ackdata", 100)
        f.quiet(0.1)
        f.mark("close")
        f.cur.notes.append("closed %d" % side.close_child(f) if how is None
                           else side.shutdown_child(f, how))
        f.expect(1, 1.0)
        ack(f, "ackfin", 101)
        f.quiet(0.2)
        f.send("finack", f.seg("FA", ack=f.srv_isn + 1 + 101))
        f.expect(1, 1.0)
        f.quiet(0.2)
        if how is not None:
            f.mark("eof")
            f.cur.notes.append(side.recv(f, 1))
    return scen


def client_closes_first(side):
    """The client's FIN (CLOSE-WAIT; its ACK waits, the connection now
    interactive), a read that sees EOF, the server's close() (its FIN:
    LAST-ACK), the client's ACK of it (CLOSED: no reply), then a late
    segment, answered by a RST from no socket."""
    f = side.flow("c")
    if not opened(f):
        return
    f.send("fin", f.seg("FA"))
    f.expect(1, 1.0)
    f.mark("eof")
    f.cur.notes.append(side.recv(f, 1))
    server_close(side, f)
    ack(f, "ackfin", 1, sent=1)
    f.quiet(0.2)
    f.send("late", f.seg("A", seq=f.isn + 2, ack=f.srv_isn + 2))
    f.expect(1, 1.0)


def server_close(side, f):
    """The server's close() of `f`'s connection, and its FIN."""
    f.mark("close")
    f.cur.notes.append("closed %d" % side.close_child(f))
    f.expect(1, 1.0)


def simultaneous_close(side):
    """Both FINs cross: the server's close() sends its FIN, the client's
    FIN arrives without acknowledging it (FIN-WAIT-1 to CLOSING, ACKed
    at once), then the client's ACK of the server's FIN (TIME-WAIT, no
    reply)."""
    f = side.flow("c")
    if not opened(f):
        return
    server_close(side, f)
    f.send("fin", f.seg("FA"))
    f.expect(1, 1.0)
    ack(f, "ackfin", 1, sent=1)
    f.quiet(0.3)


def data_after_close(side):
    """close() with nothing unread: FIN-WAIT-1, the FIN ACKed
    (FIN-WAIT-2), then the client sends data the closed server can never
    read: RST (TCPAbortOnData, RFC 1122 4.2.2.13)."""
    f = side.flow("c")
    if not opened(f):
        return
    server_close(side, f)
    ack(f, "ackfin", 1)
    f.quiet(0.1)
    f.send("data", f.seg("PA", ack=f.srv_isn + 2, payload=b"z" * 10))
    f.expect(1, 1.0)
    f.quiet(0.1)


def close_sanity(*wants):
    """Each (step, flags) of `wants` got exactly those replies."""
    return lambda tr: problems(*(want_flags(tr, label, flags)
                                 for label, flags in wants))


def test_sd(ctx):
    """Our FIN and the closing states, against stock's."""
    before = ["c:syn", "c:ack", "c:write", "c:ackdata", "c:close",
              "c:ackfin"]
    rto_only_pair(ctx, "sd.server closes first: FIN-WAIT-1, FIN-WAIT-2, "
                  "the peer's FIN", server_closes_first(None),
                  parts=[("", before, close_sanity(
                             ("c:write", ["PA"]), ("c:close", ["FA"]),
                             ("c:ackfin", []))),
                         (", the timewait sock's ACK of it", ["c:finack"],
                          close_sanity(("c:finack", ["A"])))])
    rto_only_pair(ctx, "sd.server shuts down writing: FIN-WAIT-2, the "
                  "peer's FIN, EOF", server_closes_first(1),
                  sanity=close_sanity(("c:close", ["FA"]),
                                      ("c:ackfin", []),
                                      ("c:finack", ["A"])))
    rto_only_pair(ctx, "sd.client closes first: CLOSE-WAIT, LAST-ACK, "
                  "CLOSED", client_closes_first,
                  sanity=close_sanity(("c:close", ["FA"]),
                                      ("c:ackfin", []),
                                      ("c:late", ["R"])))
    rto_only_pair(ctx, "sd.simultaneous close: FIN-WAIT-1, CLOSING",
                  simultaneous_close,
                  sanity=close_sanity(("c:close", ["FA"]),
                                      ("c:fin", ["A"]),
                                      ("c:ackfin", [])))
    rto_only_pair(ctx, "sd.data after close(): RST", data_after_close,
                  sanity=close_sanity(("c:close", ["FA"]),
                                      ("c:data", ["R"])))


TESTS["sd"] = ("closing: our FIN, FIN-WAIT, CLOSING, LAST-ACK", test_sd)


# ---------------------------------------------------------------------
# sf. path MTU
# ---------------------------------------------------------------------

PMTU = 1000


def pmtu_drop(side):
    """Four full segments leave; an ICMP fragmentation-needed message
    quoting the first says the path takes 1000 bytes (RFC 1191): the MSS
    drops to 1000 - 40 - 12 (tcp_v4_mtu_reduced()) and everything in
    flight goes again at once, cut to it (tcp_simple_retransmit()); new
    data leaves at the new size.  Then an ICMP quoting a sequence number
    outside SND.UNA..SND.NXT, even one announcing 500 bytes, is ignored
    (OutOfWindowIcmps), and a host-unreachable is only a soft error: the
    connection goes on.  The route's cached MTU is flushed first, so that
    the other side's run does not decide this one."""
    X.run(["ip", "route", "flush", "cache"], ns=side.ctx.cfg.srv_ns)
    f = side.flow("c")
    if not opened(f):
        return
    f.mark("write")
    f.cur.notes.append(side.send(f, 4 * MSS))
    f.expect(4, 1.0)
    # At once: the retransmission timer must not have fired first.
    f.send("fragneeded", f.icmp_error(3, 4, seq=f.srv_isn + 1, mtu=PMTU))
    f.expect(7, 0.15)
    ack(f, "ackall", 4 * MSS)
    f.quiet(0.05)
    f.mark("more")
    f.cur.notes.append(side.send(f, 2 * MSS))
    f.expect(4, 1.0)
    f.send("stale", f.icmp_error(3, 4, seq=f.srv_isn + 1 + 8 * MSS,
                                 mtu=500))
    f.send("unreach", f.icmp_error(3, 1, seq=f.srv_isn + 1 + 4 * MSS))
    f.quiet(0.05)
    ack(f, "ackmore", 6 * MSS)
    f.quiet(0.1)
    abort(side, f)


def resent_small(tr, small):
    """The four segments went again whole, none above the new MSS (each
    skb of the retransmit queue is cut on its own, so the last piece of
    each GSO packet may be short)."""
    got = data_lengths(tr, "c:fragneeded")
    if sum(got) != 4 * MSS or max(got or [0]) > small:
        return "c:fragneeded: segments of %s bytes; stock re-sends %d " \
            "bytes in segments of at most %d" % (got, 4 * MSS, small)
    return None


def pmtu_sanity(tr):
    small = PMTU - 40 - 12
    return problems(want_lengths(tr, "c:write", [MSS] * 4),
                    resent_small(tr, small),
                    want_lengths(tr, "c:more", [small] * 3 +
                                 [2 * MSS - 3 * small]),
                    want_flags(tr, "c:abort", ["RA"]))


def test_sf(ctx):
    """ICMP errors for a connection: a path MTU drop, stale and soft
    errors."""
    try:
        rto_only_pair(ctx, "sf.fragmentation needed: MSS %d, in-flight "
                      "data re-sent, stale and soft errors ignored" %
                      (PMTU - 52), pmtu_drop, sanity=pmtu_sanity)
    finally:
        # The learned MTU would shrink every later test's MSS.
        X.run(["ip", "route", "flush", "cache"], ns=ctx.cfg.srv_ns)


TESTS["sf"] = ("sending: ICMP fragmentation needed, stale and soft errors",
               test_sf)


# ---------------------------------------------------------------------
# se. real clients download
# ---------------------------------------------------------------------

def body_digest(n):
    """SHA-256 of the N-byte body the agent serves (X.DOWNLOAD)."""
    h = hashlib.sha256()
    chunk = X.PATTERN * 4096
    while n > 0:
        h.update(chunk[:n])
        n -= min(n, len(chunk))
    return h.hexdigest()[:16]


def body_of(raw):
    """What follows the HTTP header of a response read whole."""
    head, _, body = raw.partition(b"\r\n\r\n")
    return body if head.startswith(b"HTTP/1.0 200") else b""


def get_python(ctx, side, lport, n):
    """A socket client: request, read header and body, then close."""
    s = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    s.settimeout(30)
    raw = bytearray()
    try:
        s.bind((ctx.cfg.cli_ip, lport))
        s.connect((ctx.cfg.srv_ip, side.port))
        s.sendall(b"GET / HTTP/1.0\r\n\r\n")
        while True:
            chunk = s.recv(1 << 16)
            raw += chunk
            if not chunk or len(body_of(bytes(raw))) >= n:
                break
        return bytes(raw)
    except OSError as e:
        return "python: %s" % e
    finally:
        s.close()


def get_cmd(argv):
    def get(ctx, side, lport, n):
        rc, out = X.client_cmd(ctx.cfg, argv, side.port, lport, 90)
        if rc:
            return "%s exit %s" % (argv[0], rc)
        return out if argv[0] == "nc" else \
            b"HTTP/1.0 200 OK\r\n\r\n" + out
    return get


# (name, binary, client, largest size it fetches)
GETTERS = (
    ("python-socket", None, get_python, 1 << 20),
    ("curl", "curl", get_cmd(["curl", "-sS", "--noproxy", "*", "--max-time",
                              "80", "--local-port", "{lport}",
                              "http://{srv}:{port}/"]), 16 << 20),
    ("nc", "nc", get_cmd(["nc", "-N", "-w", "10", "-p", "{lport}", "{srv}",
                          "{port}"]), 1 << 20),
)


def download(ctx, side, client, n):
    """`client` fetches the N-byte body; notes what it got, whether the
    server accepted it, and how the server's write and close went."""
    lport = ctx.next_client_port()
    got = client(ctx, side, lport, n)
    if isinstance(got, str):
        side.note(got, "client")
    else:
        body = body_of(got)
        side.note("client got %d bytes sha256 %s" % (
            len(body), hashlib.sha256(body).hexdigest()[:16]), "client")
    me = [ctx.cfg.cli_ip, lport]
    ev = ctx.agent.wait_event(
        lambda e: e.get("ev") == "accept" and e.get("lid") == side.lid and
        e["peer"] == me, 3.0)
    side.note(ACCEPTED if ev else "no accept()", "accept")
    ev = ctx.agent.wait_event(
        lambda e: e.get("ev") == "served" and e.get("lid") == side.lid and
        e["peer"] == me, 10.0)
    side.note("server: %s" % (ev["result"] if ev else "no report"),
              "server")


def want_body(n):
    return lambda tr: problems(
        want_note(tr, "client", "client got %d bytes sha256 %s" % (
            n, body_digest(n))),
        want_note(tr, "server", "server: sent"))


# The server's NIC delays and loses what the server sends.
NETEM_SE = ["delay", "2ms", "loss", "1%"]


def test_se(ctx):
    """curl, nc and a Python client download 1 B and 1 MiB from a server
    that writes an HTTP/1.0 response and closes after the client: what
    each client got (length, SHA-256) must be stock's and the whole body.
    (transfer.sh moves 64 MiB each way with the NICs' offloads on.)  Then
    1 MiB through netem loss on the server's NIC, which xtcp repairs with
    its retransmission timer."""
    for name, binary, client, largest in GETTERS:
        if ctx.skip_without("se.download %s" % name, binary):
            continue
        for n in (1, 1 << 20):
            if n > largest:
                continue
            ctx.pair("se.download %d bytes, %s" % (n, name),
                     lambda side, c=client, n=n: download(ctx, side, c, n),
                     greet=X.DOWNLOAD + str(n), sanity=want_body(n),
                     serial=n > 1 << 20, timeout=200)
    name = "se.download 1 MiB through netem %s" % " ".join(NETEM_SE)
    tc = ["tc", "qdisc", "replace", "dev", "srv0", "root", "netem"]
    try:
        X.run(tc + NETEM_SE, ns=ctx.cfg.srv_ns)
    except X.SetupError as e:
        ctx.report(name, True, skip="no netem qdisc: %s" % e)
        return
    try:
        ctx.pair(name, lambda side: download(ctx, side, get_python, 1 << 20),
                 greet=X.DOWNLOAD + str(1 << 20), sanity=want_body(1 << 20),
                 timeout=120)
    finally:
        X.run(["tc", "qdisc", "del", "dev", "srv0", "root"],
              ns=ctx.cfg.srv_ns, check=False)


TESTS["se"] = ("sending: curl, nc and Python download, and through netem",
               test_se)


# ---------------------------------------------------------------------
# sg. keepalive
# ---------------------------------------------------------------------

KEEPALIVE_OPTS = [(socket.SOL_SOCKET, socket.SO_KEEPALIVE, 1),
                  (socket.IPPROTO_TCP, socket.TCP_KEEPIDLE, 1),
                  (socket.IPPROTO_TCP, socket.TCP_KEEPINTVL, 1),
                  (socket.IPPROTO_TCP, socket.TCP_KEEPCNT, 2)]


def keepalive(side):
    """The listener has SO_KEEPALIVE with TCP_KEEPIDLE, TCP_KEEPINTVL of
    1 s and TCP_KEEPCNT 2, which its children inherit.  Flow c: a probe
    (a bare ACK one below SND.UNA) after 1 s idle; the client answers,
    which resets the count, so the next probe comes 1 s after the
    answer; unanswered, another after 1 s, then the connection is given
    up with a RST and a read fails with ETIMEDOUT.  Flow d turns
    SO_KEEPALIVE off on its connection: no probe."""
    f = side.flow("c")
    if not opened(f):
        return
    f.mark("idle")
    f.expect(1, 2.5)
    f.send("answer", f.seg("A"))
    f.expect(3, 5.0)
    f.mark("read")
    f.cur.notes.append(side.recv(f, 1))
    d = side.flow("d")
    if not opened(d):
        return
    d.mark("off")
    d.cur.notes.append(side.setsockopt_child(
        d, [(socket.SOL_SOCKET, socket.SO_KEEPALIVE, 0)]))
    d.quiet(1.5)
    abort(side, d)


def probe_times(tr, label):
    st = tr.step(label)
    return [r.t - st.t for _, r in st.pkts] if st else []


def keepalive_problem(tr):
    """Each probe one below SND.UNA, spaced by the 1 s settings."""
    for label in ("c:idle", "c:answer"):
        st = tr.step(label)
        for n, r in st.pkts if st else []:
            if r.payload or (r.has("A") and not r.has("R") and
                             n["tcp.seq"] != "ISN+0"):
                return "%s: %s %s is no keepalive probe (ISN+0, no " \
                    "data)" % (label, n["tcp.flags"], n["tcp.seq"])
    times = probe_times(tr, "c:answer")
    if len(times) == 3 and not all(abs(t - (i + 1)) < 0.3
                                   for i, t in enumerate(times)):
        return "c:answer: probes and RST at %s s after the answer; " \
            "TCP_KEEPIDLE and TCP_KEEPINTVL make it 1, 2, 3" % \
            ", ".join("%.2f" % t for t in times)
    return None


def want_read_error(tr, label, err):
    st = tr.step(label)
    notes = st.notes if st else []
    return None if any(n.endswith("error " + err) for n in notes) else \
        "%s: notes %s, a read fails with %s" % (label, notes, err)


def keepalive_sanity(tr):
    return problems(want_note(tr, "c:ack", ACCEPTED),
                    want_flags(tr, "c:idle", ["A"]),
                    want_flags(tr, "c:answer", ["A", "A", "RA"]),
                    keepalive_problem(tr),
                    want_read_error(tr, "c:read", "ETIMEDOUT"),
                    want_note(tr, "d:off", "setsockopt: 0"),
                    want_flags(tr, "d:off", []),
                    want_flags(tr, "d:abort", ["RA"]))


def test_sg(ctx):
    """SO_KEEPALIVE, TCP_KEEPIDLE/INTVL/CNT: probes, answer, give-up."""
    ctx.pair("sg.keepalive: probes after TCP_KEEPIDLE, reset by an "
             "answer, RST after TCP_KEEPCNT", keepalive,
             sanity=keepalive_sanity, serial=True, sockopts=KEEPALIVE_OPTS)


TESTS["sg"] = ("sending: keepalive probes and give-up", test_sg)


# ---------------------------------------------------------------------
# sh. TIME-WAIT
# ---------------------------------------------------------------------

def closed_to_time_wait(side, f):
    """The server's close() and the client's ACK of its FIN (the orphan
    becomes a timewait sock in FIN-WAIT-2), then the client's FIN, which
    it ACKs: TIME-WAIT."""
    server_close(side, f)
    ack(f, "ackfin", 1)
    f.quiet(0.1)
    f.send("fin", f.seg("FA", ack=f.srv_isn + 2))
    f.expect(1, 1.0)
    f.quiet(0.1)


def time_wait(side):
    """What a timewait sock answers (tcp_timewait_state_process()).
    Flow c: a retransmitted FIN is ACKed (out of window; a FIN is never
    rate-limited), an old bare ACK too, the same again at once not
    (net.ipv4.tcp_invalid_ratelimit), a bare in-window ACK gets nothing.
    Flow d, the same 4-tuple: a SYN above RCV.NXT kills the timewait
    sock and reopens the connection through the listener, and is
    accepted.  Flow e: an in-window RST kills the timewait sock
    (TIME-WAIT assassination, RFC 1337 notwithstanding:
    net.ipv4.tcp_rfc1337 is 0), so a late ACK finds no socket: RST."""
    f = side.flow("c")
    if not opened(f):
        return
    closed_to_time_wait(side, f)
    f.send("refin", f.seg("FA", ack=f.srv_isn + 2))
    f.expect(1, 1.0)
    f.send("old", f.seg("A", ack=f.srv_isn + 2))
    f.expect(1, 1.0)
    f.send("old2", f.seg("A", ack=f.srv_isn + 2))
    f.quiet(0.2)
    f.send("inwin", f.seg("A", seq=f.isn + 2, ack=f.srv_isn + 2))
    f.quiet(0.2)
    # d's frames share c's 4-tuple: c collects them in a step of its own.
    f.mark("reopened")
    d = side.flow("d", isn=f.isn + 100000, ts0=f.ts0 + 100000)
    d.sport = f.sport
    if not opened(d):
        return
    abort(side, d)
    e = side.flow("e")
    if not opened(e):
        return
    closed_to_time_wait(side, e)
    e.send("rst", e.seg("R", seq=e.isn + 2, ts=False))
    e.quiet(0.2)
    e.send("late", e.seg("A", seq=e.isn + 2, ack=e.srv_isn + 2))
    e.expect(1, 1.0)


# c's ISN + 65539: the timewait sock's SND.NXT (c's SYN and FIN) + 65537
TW_ISN_DELTA = 65539


def reopen_isn_delta(tr):
    """d's SYN-ACK sequence number less c's, or None."""
    c_syn, d_syn = tr.step("c:syn"), tr.step("d:syn")
    if not (c_syn and c_syn.pkts and d_syn and d_syn.pkts):
        return None
    return (d_syn.pkts[0][1].seq - c_syn.pkts[0][1].seq) & 0xffffffff


def reopen_compare(stock, xtcp):
    """The reopened connection's ISN.  tcp_timewait_state_process()
    picks SND.NXT + 65537 (RFC 1122 4.2.2.13); Debian's 6.12 hands it to
    the listener, 6.1's tcp_v4_fill_cb() clears it on the way and the
    listener picks a fresh one.  xtcp must do what stock did."""
    s, x = reopen_isn_delta(stock), reopen_isn_delta(xtcp)
    if s is None or x is None:
        return ["d:syn: no SYN-ACK to compare ISNs"], []
    info = ["reopened ISN: stock c's %+d, xtcp c's %+d" % (s, x)]
    if (s == TW_ISN_DELTA) != (x == TW_ISN_DELTA):
        return ["d:syn: xtcp's ISN is c's %+d, stock's c's %+d: stock %s "
                "SND.NXT + 65537" % (x, s, "takes" if s == TW_ISN_DELTA
                                     else "does not take")], info
    return [], info


def time_wait_sanity(tr):
    return problems(want_flags(tr, "c:close", ["FA"]),
                    want_flags(tr, "c:ackfin", []),
                    want_flags(tr, "c:fin", ["A"]),
                    want_flags(tr, "c:refin", ["A"]),
                    want_flags(tr, "c:old", ["A"]),
                    want_flags(tr, "c:old2", []),
                    want_flags(tr, "c:inwin", []),
                    want_flags(tr, "d:syn", ["SA"]),
                    want_note(tr, "d:ack", ACCEPTED),
                    want_flags(tr, "e:fin", ["A"]),
                    want_flags(tr, "e:rst", []),
                    want_flags(tr, "e:late", ["R"]))


# c:reopened holds d's segments, numbered from c's ISN: not compared
# (the ISN may be a fresh one), d's own steps are.
TW_LABELS = ["c:syn", "c:ack", "c:close", "c:ackfin", "c:fin", "c:refin",
             "c:old", "c:old2", "c:inwin", "d:syn", "d:ack", "d:abort",
             "e:syn", "e:ack", "e:close", "e:ackfin", "e:fin", "e:rst",
             "e:late"]


def test_sh(ctx):
    """The timewait sock's answers, a SYN that reopens, assassination."""
    rto_only_pair(ctx, "sh.TIME-WAIT: FIN ACKed again, rate limit, a new "
                  "SYN reopens, RST kills", time_wait,
                  parts=[("", TW_LABELS, time_wait_sanity)],
                  compare=reopen_compare)


TESTS["sh"] = ("closing: the timewait sock's answers", test_sh)


# ---------------------------------------------------------------------
# si. a window that ends a few bytes past a segment
# ---------------------------------------------------------------------

# The client's buffer ends 24 bytes past the fourth full segment: the
# right edge of every window it offers until it opens the window wide.
EDGE_SI = 4 * MSS + 24
TOTAL_SI = 6 * MSS


def grows_head_skb():
    """6.12's tcp_write_xmit() grows the skb at the head of the write
    queue up to what cwnd allows with the bytes of the skbs behind it
    (tcp_grow_skb()) before counting its segments; 6.1's sends the skbs
    as sendmsg() cut them."""
    rel = os.uname().release.split("-")[0].split(".")
    return tuple(int(x) for x in rel[:2]) >= (6, 12)


def ragged_edge(side):
    """The client's third ACK offers three segments' worth (4344 bytes,
    no window scaling): the largest window seen is that small, so
    sendmsg() cuts the server's write of six segments into skbs of one
    MSS (tcp_xmit_size_goal(): half the largest window, rounded down to
    whole segments, at least one), and three of them leave.  The client
    ACKs them with its right edge 1472 bytes further, an MSS and 24: 6.1
    sends the next skb, one segment, and keeps the 24 bytes; 6.12 has
    grown the first skb left over to the other three (4344 bytes), of
    which 1472 fit: one GSO packet of an MSS and the 24-byte tail
    (tcp_mss_split_point(): Nagle holds back no partial segment while
    nothing is in flight).  The client ACKs what came, the edge where
    it was: 24 bytes of window left on 6.1, none on 6.12.  Nothing in
    flight then, so a zero-window probe one RTO later
    (tcp_check_probe_timer(), tcp_probe0_base()): on 6.1 it carries the
    24 bytes (tcp_write_wakeup() sends what fits), on 6.12 it is a bare
    ACK one below SND.UNA.  Then the window opens and the rest leaves:
    on 6.1 as the skbs were cut (1424 bytes, then a segment), on 6.12
    the rest of the grown skb as one GSO packet (a segment, then 1424
    bytes)."""
    f = side.flow("c")
    f.handshake_syn(opts="all", ws=0)
    if f.synack is None:
        return
    f.send("ack", f.seg("A", window=3 * MSS))
    if not f.expect_accept(3.0):
        return
    f.mark("write")
    f.cur.notes.append(side.send(f, TOTAL_SI))
    f.expect(3, 1.0)
    ack(f, "more", highest(f), window=EDGE_SI - highest(f))
    # ACKed well within the RTO: one GSO packet or one segment.
    f.expect(1, 1.0)
    f.quiet(0.1)
    ack(f, "edge", highest(f), window=EDGE_SI - highest(f))
    f.expect(1, 2.0)
    # The RTO the probe waited for; no RTT sample comes in between.
    f.cur.info = side.tcp_info(f)
    ack(f, "open", highest(f), window=65535)
    f.expect(2, 1.0)
    f.quiet(0.1)
    ack(f, "all", highest(f), window=65535)
    f.quiet(0.1)
    f.mark("done")
    f.cur.notes.append(side.sent(f))
    abort(side, f)


def probe_delay_problem(tr):
    """The zero-window probe one RTO (tcpi_rto, at least TCP_RTO_MIN)
    after the ACK that left nothing in flight: no earlier, and no later
    than the timer wheel's slack and the path allow."""
    st = tr.step("c:edge")
    if not st or len(st.pkts) != 1:
        return "%s c:edge: %d segments, stock sends one probe" % (
            tr.side, len(st.pkts) if st else 0)
    info = getattr(st, "info", None)
    if not info:
        return "%s c:edge: no TCP_INFO" % tr.side
    rto = max(info["rto"] / 1e6, 0.2)
    t = st.pkts[0][1].t - st.t
    if not 0.9 * rto - 0.02 <= t <= 1.25 * rto + 0.1:
        return "%s c:edge: probe %.3f s after the ACK, the RTO is %.3f s" \
            % (tr.side, t, rto)
    return None


def edge_sanity(tr):
    grown = grows_head_skb()
    st = tr.step("c:edge")
    probe = None
    if st and len(st.pkts) == 1:
        n, r = st.pkts[0]
        if grown and (r.payload or n["tcp.seq"] != "ISN+%d" % EDGE_SI):
            probe = "c:edge: %s %s is no bare probe one below SND.UNA" % (
                n["tcp.flags"], n["tcp.seq"])
    return problems(want_note(tr, "c:ack", ACCEPTED),
                    want_lengths(tr, "c:write", [MSS] * 3),
                    want_lengths(tr, "c:more",
                                 [MSS, 24] if grown else [MSS]),
                    want_lengths(tr, "c:edge", [] if grown else [24]),
                    probe, probe_delay_problem(tr),
                    want_lengths(tr, "c:open", [MSS, MSS - 24]
                                 if grown else [MSS - 24, MSS]),
                    want_note(tr, "c:done", "sent %d bytes" % TOTAL_SI),
                    want_flags(tr, "c:abort", ["RA"]))


def edge_compare(stock, xtcp):
    """xtcp's probe waits for its own RTO, as stock's."""
    bad = probe_delay_problem(xtcp)
    return [bad] if bad else [], []


def test_si(ctx):
    """A window edge 24 bytes past a segment boundary, skbs of one MSS."""
    rto_only_pair(ctx, "si.window edge 24 bytes past a segment: the "
                  "tail, the zero-window probe, the rest", ragged_edge,
                  sanity=edge_sanity, compare=edge_compare)


TESTS["si"] = ("sending: a window edge past a segment, the probe, the tail",
               test_si)


# ---------------------------------------------------------------------
# sj. zero-window probes under TCP_USER_TIMEOUT
# ---------------------------------------------------------------------

TCP_USER_TIMEOUT = getattr(socket, "TCP_USER_TIMEOUT", 18)
USER_TIMEOUT_SJ = 0.9
# When the client's segment comes, after the first probe: past the user
# timeout, before a third probe an unclamped timer would send (the first
# probe waits an RTO R of at least 200 ms, the next two 2R and 4R).
LATE_SJ = 1.05


def probe_user_timeout(side):
    """sc's zero window with TCP_USER_TIMEOUT 900 ms on the listener (the
    child inherits it): the probes back off as in sc, but each probe
    timer is cut to what the user timeout leaves since the first probe
    (tcp_clamp_probe0_to_user_timeout(), from tcp_send_probe0() and
    tcp_ack_probe()), so the connection is given up 900 ms after the
    first probe (tcp_probe_timer(): ETIMEDOUT), where the backed-off
    timer alone would wait until 6 RTOs after it.  A client segment
    1.05 s after the first probe then finds no socket: RST."""
    f = side.flow("c")
    if not close_window(side, f):
        return
    f.expect(1, 2.0)
    first = f.cur.pkts[0][1].t if f.cur.pkts else f.cur.t
    while time.time() < first + LATE_SJ:
        time.sleep(0.01)
    f.send("late", f.seg("PA", ack=f.srv_isn + 1 + highest(f),
                         window=0, payload=b"x"))
    f.expect(1, 1.0)
    f.mark("read")
    f.cur.notes.append(side.recv(f, 1, 0.2))
    abort(side, f)


def user_timeout_sanity(tr):
    st = tr.step("c:zero")
    probes = [n for n, r in st.pkts if not r.payload] if st else []
    bad = None if st and probes and len(probes) == len(st.pkts) else \
        "c:zero: %s, stock sends bare window probes" % (
            st.flags() if st else "no step")
    return problems(want_note(tr, "c:ack", ACCEPTED),
                    want_lengths(tr, "c:write", [MSS] * IW), bad,
                    want_flags(tr, "c:late", ["R"]),
                    want_read_error(tr, "c:read", "ETIMEDOUT"))


def test_sj(ctx):
    """TCP_USER_TIMEOUT cuts the zero-window probe timer."""
    rto_only_pair(ctx, "sj.zero window under TCP_USER_TIMEOUT: given up "
                  "900 ms after the first probe", probe_user_timeout,
                  sockopts=[(socket.IPPROTO_TCP, TCP_USER_TIMEOUT,
                             int(USER_TIMEOUT_SJ * 1000))],
                  sanity=user_timeout_sanity)


TESTS["sj"] = ("sending: zero-window probes under TCP_USER_TIMEOUT",
               test_sj)
