# SPDX-License-Identifier: GPL-2.0
"""Loss recovery parity (issue 8): parity.py's ra..rd.

The server writes; scapy plays a client that loses segments on purpose:
it ACKs around holes with duplicate ACKs, SACK blocks and D-SACK
blocks, or goes silent at the tail.  Every segment the server sends in
answer is compared with stock's in the same run (which segments, in
which order, lengths, flags, options), and so is TCP_INFO read at quiet
moments (the agent's tcp_info op: congestion state, cwnd, ssthresh, the
scoreboard, retransmission and D-SACK counts, reordering).

Unlike sending.py, stock runs with its loss recovery at the defaults
(net.ipv4.tcp_sack=1, tcp_dsack=1, tcp_recovery=1 (RACK),
tcp_early_retrans=3 (TLP), tcp_frto=2, tcp_reordering=3), set
explicitly for both stacks; a net.xtcp twin the module does not have
is skipped (xtcplib.TWIN_OPTIONAL).  Both listeners set TCP_CONGESTION
"reno", which their children inherit: xtcp has Reno built in and no
CUBIC (mod/cong.c), and CUBIC's ssthresh (0.7 cwnd) and its growth
after a recovery (which depends on the time since it and on the RTT:
bictcp_update()) are no part of loss recovery.  With Reno, ssthresh is
half the window (tcp_reno_ssthresh()) and congestion avoidance adds
one segment per window of segments delivered (tcp_cong_avoid_ai()).
The stock side is held to what net/ipv4/tcp_input.c, tcp_recovery.c
and tcp_output.c say, the same in Debian's 6.1 and 6.12:

  ra  duplicate ACKs: the third enters fast recovery (Reno counting,
      tcp_newreno_mark_lost(); with SACK, RACK at the dupthresh,
      tcp_rack_reo_wnd() returning 0) and retransmits the first
      unacknowledged segment; without SACK the two before it each clock
      out a new segment (limited transmit: duplicate-ACKed segments
      leave the pipe, tcp_packets_in_flight()).  After the full ACK,
      cwnd is ssthresh, half what it was.  One SACK alone: a new
      segment, then RACK's reordering timer (min_rtt/4) marks the hole
      lost.
  rb  SACK blocks around three and four holes in one ACK: exactly the
      holes are retransmitted, in order (RACK, PRR's slow-start
      reduction bound lets them all go), nothing else.
  rc  D-SACK for the fast retransmission after the full ACK: undo
      (tcp_try_undo_dsack()), cwnd and ssthresh back; with timestamps
      the full ACK echoing the original's TSval undoes at once
      (tcp_packet_delayed(), Eifel).
  rd  tail loss: a probe after 2 SRTT (tcp_schedule_loss_probe(),
      tcp_send_loss_probe()): the last segment again, or new data; the
      SACK of the probe starts fast recovery.  Without SACK there is no
      probe: the retransmission timer fires.

The client delays the third ACK of the handshake by PATH_DELAY, so that
the server's first RTT sample is long against scapy's own reaction time
(tens of milliseconds in an emulated guest): the probe timeout (2 SRTT)
then cannot fire before the client's scripted ACKs.  Duplicate ACKs
with SACK blocks go as one burst (Flow.burst()), faster than RACK's
reordering window, and while they arrive the client's window holds
back new data (window scale 0, the window ending inside the flight):
whether a burst's limited transmit leaves at once depends on
tcp_tso_should_defer(), i.e. on scapy's timing.  After each step the
client waits until the server's replies have stopped coming, so that a
burst is never split between two steps.  The listeners get SO_SNDBUF
(capped at net.core.wmem_max) so that a write is queued whole at once
and segments never wait for the writing thread.  PSH flags are not
compared (Flow.loose_psh: they mark GSO packet ends).  Timings are held
to each side's own RTT estimate (tcpi_rtt, tcpi_min_rtt, tcpi_rto), as
sending.py's rto_problem() does.
"""
import copy
import re
import socket
import time

import xtcplib as X
from xtcplib import problems, want_note
from established import ACCEPTED, abort
from sending import IW, highest

# Stock's defaults for loss recovery, and the SACK knobs it depends on.
RECOVERY_SYSCTLS = {"sack": 1, "dsack": 1, "recovery": 1,
                    "early_retrans": 3, "frto": 2, "reordering": 3}
LISTENER_OPTS = [(socket.SOL_SOCKET, socket.SO_SNDBUF, 1 << 20),
                 (socket.IPPROTO_TCP, socket.TCP_CONGESTION, "reno")]
# How long the client holds back the handshake's third ACK, s.
PATH_DELAY = 0.15
# A reply to an ACK leaves at once: within this, s (the RTO is at least
# 200 ms above the RTT, and here well over half a second).
PROMPT = 0.15
INFINITE_SSTHRESH = 0x7fffffff
# The window of a client whose SYN has window scale 0, but while it
# holds new data back (flights()).
MAX_WINDOW = 65535
CA_STATES = ("Open", "Disorder", "CWR", "Recovery", "Loss")


def syn_options(f, layout, ws=7):
    """The SYN's options as a Linux client lays them out (tcp_options_
    write()): "sack" MSS, SACK-permitted, timestamp, window scale `ws`;
    "nosack" without SACK-permitted; "nots" without the timestamp."""
    ts = ("Timestamp", (f.ts0, 0))
    return {
        "sack": f.syn_opts("all", ws=ws),
        "nosack": [("MSS", 1460), ("NOP", None), ("NOP", None), ts,
                   ("NOP", None), ("WScale", ws)],
        "nots": f.syn_opts("all-nots", ws=ws),
    }[layout]


def opened(f, layout, ws=7):
    """The handshake, its third ACK sent PATH_DELAY after the SYN-ACK
    arrived; True once the server accepted the connection.  With `ws`
    0 the client's windows are bytes: it offers MAX_WINDOW (the flow's
    `window`, see ack_seg())."""
    f.handshake_syn(opts=syn_options(f, layout, ws))
    if f.synack is None:
        return False
    if ws == 0:
        f.window = MAX_WINDOW
    time.sleep(max(0.0, f.synack.t + PATH_DELAY - time.time()))
    f.send("ack", f.seg("A", window=getattr(f, "window", 502)))
    # Where GSO packets end (their PSH) is timing: Flow.loose_psh.
    f.loose_psh = True
    return f.expect_accept(3.0)


def mss_of(f):
    """The server's segment size: 1460 less the timestamp option."""
    return 1448 if f.srv_ts is not None else 1460


def arrivals(f):
    """(time, offset, length, TSval) of every data segment the server
    sent on `f`, in the order they arrived."""
    f.flush()
    out = []
    for st in f.steps:
        for _, r in st.pkts:
            if r.payload and not r.has("S"):
                ts = r.option("TS")
                out.append((r.t, X.rel32(r.seq, f.srv_isn) - 1,
                            len(r.payload), ts[0] if ts else None))
    return sorted(out)


def echo(f, upto):
    """The TSecr of an ACK of `upto` bytes: the TSval of the last segment
    to arrive below it, i.e. the one that moved the left edge (RFC 7323
    4.3; a duplicate ACK echoes the last in-order segment's)."""
    below = [a for a in arrivals(f) if a[1] < upto]
    return below[-1][3] if below else None


def original_tsval(f, off):
    """The TSval of the first transmission of the segment at `off`."""
    for a in arrivals(f):
        if a[1] == off:
            return a[3]
    return None


def ack_seg(f, upto, sack=(), ecr=None, window=None):
    """An ACK of `upto` bytes of the server's stream with SACK blocks
    `sack` ((start, end) offsets, the most recent first, as a receiver
    orders them), echoing `ecr` (default: echo()), offering `window`
    (default: the flow's `window` attribute, else 502, which the SYN's
    window scale multiplies)."""
    if ecr is None and f.srv_ts is not None:
        ecr = echo(f, upto)
    if window is None:
        window = getattr(f, "window", 502)
    base = f.srv_isn + 1
    return f.seg("A", ack=(base + upto) & 0xffffffff, ecr=ecr,
                 window=window,
                 sack=[(base + a, base + b) for a, b in sack])


def collect(f, segs, wait=1.0, calm=0.05):
    """Wait for `segs` replies to the current step (at most `wait` s),
    then until none has come for `calm` s, so that the step holds a
    burst whole and the next step takes none of it; with `segs` 0 just
    collect for 0.1 s."""
    if not segs:
        f.quiet(0.1)
        return
    f.expect(segs, wait)
    while True:
        f.flush()
        last = max([f.cur.t] + [r.t for _, r in f.cur.pkts])
        if time.time() - last >= calm:
            return
        time.sleep(0.01)


def ack(f, name, upto, sack=(), ecr=None, segs=0, wait=1.0, window=None):
    """Step `name`: ack_seg(), then collect() `segs` replies."""
    f.send(name, ack_seg(f, upto, sack, ecr, window))
    collect(f, segs, wait)


def dupacks(f, upto, sacks):
    """Step "dupacks": duplicate ACKs of `upto`, one with each entry of
    `sacks` as its SACK blocks, sent back to back (Flow.burst())."""
    f.burst("dupacks", [ack_seg(f, upto, sack) for sack in sacks])
    collect(f, 1)


def write(side, f, nbytes, segs):
    """Step "write": the server writes `nbytes`; `segs` segments leave."""
    f.mark("write")
    f.cur.notes.append(side.send(f, nbytes))
    collect(f, segs)


def done(side, f):
    """Step "done": how the write ended."""
    f.mark("done")
    f.cur.notes.append(side.sent(f, 1.0))


def info(side, f, name):
    """Step `name`: TCP_INFO of the connection.  The fields that must be
    stock's go into a note (compared); the whole struct stays with the
    step (timings are checked against its RTT estimate)."""
    f.mark(name)
    i = side.tcp_info(f)
    f.cur.info = i
    if i is None:
        f.cur.notes.append("tcp_info: failed")
        return None
    state = CA_STATES[i["ca_state"]] if i["ca_state"] < len(CA_STATES) \
        else i["ca_state"]
    f.cur.notes.append(
        "tcp_info: ca_state=%s cwnd=%d ssthresh=%d unacked=%d sacked=%d "
        "lost=%d retrans=%d total_retrans=%d reordering=%d dsack_dups=%d "
        "reord_seen=%d" % (
            state, i["snd_cwnd"], i["snd_ssthresh"], i["unacked"],
            i["sacked"], i["lost"],
            i["retrans"], i["total_retrans"], i["reordering"],
            i["dsack_dups"], i["reord_seen"]))
    f.cur.notes.append(X.segs_note(i))
    return i


# ---------------------------------------------------------------------
# Checks of a transcript
# ---------------------------------------------------------------------

def seg_list(tr, label):
    """What the server sent in step `label`: a data segment of one MSS
    at k MSS into its stream as k, another as (offset, length), anything
    without data as its flags; None if there is no such step."""
    st = tr.step(label)
    if st is None:
        return None
    m = mss_of(st.flow)
    out = []
    for n, r in st.pkts:
        if not r.payload:
            out.append(n["tcp.flags"])
            continue
        off = int(n["tcp.seq"][len("ISN"):]) - 1
        out.append(off // m if off % m == 0 and len(r.payload) == m
                   else (off, len(r.payload)))
    return out


def want_segs(tr, label, want):
    got = seg_list(tr, label)
    return None if got == want else "%s: the server sent %s, stock " \
        "sends %s (segments numbered in MSS from the first byte)" % (
            label, got, want)


def span(first, last):
    """Segments `first` to `last`, inclusive."""
    return list(range(first, last + 1))


def reply_delay(tr, label, k, since=None):
    """Seconds from step `since` (default: `label`) to the arrival of
    the first segment at k MSS in step `label`, or None."""
    st = tr.step(label)
    t0 = tr.step(since or label)
    if st is None or t0 is None:
        return None
    m = mss_of(st.flow)
    for n, r in st.pkts:
        if r.payload and int(n["tcp.seq"][len("ISN"):]) - 1 == k * m:
            return r.t - t0.t
    return None


def want_prompt(tr, label, k):
    """The segment at k MSS left at once in answer to step `label`: no
    timer sent it."""
    d = reply_delay(tr, label, k)
    if d is None:
        return "%s: no segment %d" % (label, k)
    return None if d <= PROMPT else "%s: segment %d %.3f s after the " \
        "ACK; stock sends it at once (within %g s)" % (label, k, d, PROMPT)


def info_of(tr, label):
    st = tr.step(label)
    return getattr(st, "info", None) if st else None


def want_info(tr, label, **want):
    """TCP_INFO of step `label` has the fields `want` (ca_state by name;
    min_cwnd: snd_cwnd at least that)."""
    i = info_of(tr, label)
    if i is None:
        return "%s: no TCP_INFO" % label
    bad = []
    for k, v in want.items():
        if k == "ca_state":
            got = CA_STATES[i[k]] if i[k] < len(CA_STATES) else i[k]
            ok = got == v
        elif k == "min_cwnd":
            got, ok = i["snd_cwnd"], i["snd_cwnd"] >= v
        else:
            got = i[k]
            ok = got == v
        if not ok:
            bad.append("%s %s, stock's %s" % (k, got, v))
    return "%s: TCP_INFO %s" % (label, ", ".join(bad)) if bad else None


def common(tr):
    """Every scenario: the connection was accepted, the write finished,
    the abort sent its RST."""
    return [want_note(tr, "c:ack", ACCEPTED),
            want_note(tr, "c:done", "sent "),
            want_segs(tr, "c:abort", ["RA"])]


def xtcp_check(*checks):
    """A compare function holding the xtcp side to the timing rules the
    sanity check holds stock to, each against its own RTT estimate."""
    def compare(stock, xtcp):
        return ["xtcp side: " + p if not p.startswith(xtcp.side) else p
                for p in problems(*(c(xtcp) for c in checks))], []
    return compare


def recovery_pair(ctx, name, scen, **kw):
    """ctx.pair() with stock's loss recovery at its defaults, the sides
    one after the other (timing), a send buffer that holds the write,
    Reno."""
    return ctx.pair(name, scen, sysctls=RECOVERY_SYSCTLS, serial=True,
                    sockopts=LISTENER_OPTS, **kw)


# ---------------------------------------------------------------------
# ra. fast retransmit on duplicate ACKs
# ---------------------------------------------------------------------

RA_TOTAL = 50


def flights(side, f, total, closed=False):
    """The server writes `total` MSS: 10 leave (the initial window), and
    on their ACK 20 more (slow start), 10..29.  With `closed` that ACK
    offers a window of 19 MSS (in bytes: the SYN's window scale is 0),
    ending at 29: the second flight is 10..28, and nothing more may
    leave until the client opens the window.  That flight is then
    limited by the window, not by cwnd (20)."""
    m = mss_of(f)
    write(side, f, total * m, IW)
    if closed:
        f.window = 19 * m
    ack(f, "ack10", 10 * m, segs=19 if closed else 20)


def rest(f, name, total):
    """Step `name`: ACK all the server sent; the rest of `total` MSS
    leaves."""
    top = highest(f)
    ack(f, name, top, segs=total - top // mss_of(f))


def ack_all(side, f, total):
    """The end of a scenario: step "all" ACKs all `total` MSS, then
    "done" (how the write ended), "info" (TCP_INFO) and the abort."""
    ack(f, "all", total * mss_of(f))
    done(side, f)
    info(side, f, "info")
    abort(side, f)


def reno_dupacks(side):
    """No SACK.  Flights 0..9 and 10..29 (50 MSS written); 10 is "lost":
    the client sends three duplicate ACKs for it, one at a time.  The
    first two each let a new segment out (30, 31; limited transmit,
    RFC 3042: tcp_add_reno_sack() counts each as a segment out of the
    pipe); the third marks 10 lost (sacked_out reaches tcp_reordering,
    tcp_newreno_mark_lost()), fast recovery retransmits it at once (PRR:
    one, ceil(ssthresh / prior cwnd)).  The ACK of everything sent (32)
    is no more than high_seq, so Reno stays in Recovery
    (tcp_is_non_sack_preventing_reopen()) and PRR lets ssthresh, 10,
    go; the next ACK ends the recovery and the rest leaves."""
    f = side.flow("c")
    if not opened(f, "nosack"):
        return
    m = mss_of(f)
    flights(side, f, RA_TOTAL)
    for i in (1, 2, 3):
        ack(f, "dup%d" % i, 10 * m, segs=1)
    ack(f, "full", 32 * m, segs=10)
    rest(f, "rest", RA_TOTAL)
    ack_all(side, f, RA_TOTAL)


def reno_dupacks_sanity(tr):
    return problems(
        *common(tr),
        want_segs(tr, "c:write", span(0, 9)),
        want_segs(tr, "c:ack10", span(10, 29)),
        want_segs(tr, "c:dup1", [30]),
        want_segs(tr, "c:dup2", [31]),
        want_segs(tr, "c:dup3", [10]),
        want_prompt(tr, "c:dup3", 10),
        want_segs(tr, "c:full", span(32, 41)),
        want_segs(tr, "c:rest", span(42, 49)),
        want_segs(tr, "c:all", []),
        want_info(tr, "c:info", ca_state="Open", snd_ssthresh=10,
                  unacked=0, total_retrans=1, reordering=3))


def sack_loss(side, f):
    """ra's SACK loss, up to the fast retransmit: the handshake with SACK
    (window scale 0), flights 0..9 and 10..28 (the window ending at 29),
    then three duplicate ACKs for 10 with SACK blocks for 11, 11-12,
    11-13 in one burst.  The MSS, or None if the handshake failed."""
    if not opened(f, "sack", ws=0):
        return None
    m = mss_of(f)
    flights(side, f, RA_TOTAL, closed=True)
    dupacks(f, 10 * m, [[(11 * m, (12 + i) * m)] for i in range(3)])
    return m


def sack_dupacks(side):
    """SACK.  Flights 0..9 and 10..28, the client's window ending at 29
    (flights()); 10 is "lost": three duplicate ACKs for it with SACK
    blocks for 11, 11-12, 11-13, in one burst.  The third makes
    sacked_out reach tcp_reordering, RACK's reordering window is then 0
    (tcp_rack_reo_wnd()) and 10, sent before the SACKed segments, is
    lost: fast recovery retransmits it at once (PRR: one).  The full ACK
    (29, the retransmission's TSval echoed) opens the window and ends
    the recovery: cwnd is ssthresh, 10 (tcp_end_cwnd_reduction()), and
    congestion avoidance adds one for the 16 segments this ACK delivers
    (the window was last used whole, by PRR): 11 new segments leave;
    the next ACK the rest."""
    f = side.flow("c")
    m = sack_loss(side, f)
    if not m:
        return
    ack(f, "full", 29 * m, segs=11, window=MAX_WINDOW)
    rest(f, "rest", RA_TOTAL)
    ack_all(side, f, RA_TOTAL)


def sack_dupacks_sanity(tr):
    return problems(
        *common(tr),
        want_segs(tr, "c:write", span(0, 9)),
        want_segs(tr, "c:ack10", span(10, 28)),
        want_segs(tr, "c:dupacks", [10]),
        want_prompt(tr, "c:dupacks", 10),
        want_segs(tr, "c:full", span(29, 39)),
        want_segs(tr, "c:rest", span(40, 49)),
        want_segs(tr, "c:all", []),
        want_info(tr, "c:info", ca_state="Open", snd_ssthresh=10,
                  unacked=0, total_retrans=1, reordering=3))


def rack_reo_problem(tr):
    """One SACK (fewer than tcp_reordering): RACK waits its reordering
    window, min_rtt/4 (tcp_rack_reo_wnd(): no reordering seen, srtt
    larger), plus TCP_TIMEOUT_MIN_US in jiffies (tcp_rack_mark_lost()),
    then marks the hole lost and retransmits it (tcp_rack_reo_timeout()).
    Held to the side's own min_rtt, read right after."""
    i, d = info_of(tr, "c:info1"), reply_delay(tr, "c:sack1", 10)
    if i is None or d is None:
        return "%s: no retransmission of segment 10 after one SACK, or " \
            "no TCP_INFO" % tr.side
    hz = X.kernel_hz() or 250
    wnd = min(i["min_rtt"] / 4, i["rtt"]) / 1e6
    lo, hi = wnd, wnd + 0.002 + 2.0 / hz + 0.05
    if not lo <= d <= hi:
        return "%s: segment 10 retransmitted %.3f s after the SACK; RACK's " \
            "reordering window (min_rtt %.3f s / 4) puts it in [%.3f, " \
            "%.3f] s" % (tr.side, d, i["min_rtt"] / 1e6, lo, hi)
    return None


def rack_timer(side):
    """SACK.  Flights 0..9 and 10..29, 31 MSS written; one SACK, of 11:
    the last segment, 30, leaves at once (limited transmit); RACK's
    reordering timer then marks 10 lost and fast recovery retransmits it
    (PRR: one).  The full ACK (of 31) ends the recovery, ssthresh 10."""
    f = side.flow("c")
    if not opened(f, "sack"):
        return
    m = mss_of(f)
    flights(side, f, 31)
    ack(f, "sack1", 10 * m, [(11 * m, 12 * m)], segs=2)
    info(side, f, "info1")
    ack(f, "full", 31 * m)
    done(side, f)
    info(side, f, "info")
    abort(side, f)


def rack_timer_sanity(tr):
    return problems(
        *common(tr),
        want_segs(tr, "c:ack10", span(10, 29)),
        want_segs(tr, "c:sack1", [30, 10]),
        want_prompt(tr, "c:sack1", 30),
        rack_reo_problem(tr),
        want_info(tr, "c:info1", ca_state="Recovery", snd_cwnd=20,
                  snd_ssthresh=10, unacked=21, sacked=1, lost=1, retrans=1),
        want_segs(tr, "c:full", []),
        want_info(tr, "c:info", ca_state="Open", snd_ssthresh=10,
                  unacked=0, total_retrans=1, reordering=3))


def test_ra(ctx):
    """Fast retransmit on three duplicate ACKs, without and with SACK;
    RACK's reordering timer after one SACK."""
    recovery_pair(ctx, "ra.three duplicate ACKs, no SACK: limited "
                  "transmit, fast retransmit of the first segment on the "
                  "third, ssthresh 10", reno_dupacks,
                  sanity=reno_dupacks_sanity,
                  compare=xtcp_check(
                      lambda tr: want_prompt(tr, "c:dup3", 10)))
    recovery_pair(ctx, "ra.three duplicate ACKs with SACK blocks: fast "
                  "retransmit of the first segment, ssthresh 10",
                  sack_dupacks, sanity=sack_dupacks_sanity,
                  compare=xtcp_check(
                      lambda tr: want_prompt(tr, "c:dupacks", 10)))
    recovery_pair(ctx, "ra.one SACK: limited transmit, RACK's reordering "
                  "timer, then the retransmission", rack_timer,
                  sanity=rack_timer_sanity,
                  compare=xtcp_check(rack_reo_problem))


# ---------------------------------------------------------------------
# rb. retransmission of exactly the holes
# ---------------------------------------------------------------------

RB_TOTAL = 30
# (layout, holes in the second flight 10..29); without timestamps an
# ACK has room for four SACK blocks, with them for three.
RB_CASES = (("sack", (10, 15, 20)), ("nots", (10, 13, 17, 22)))


def sack_blocks(holes, upto, end, m):
    """The SACK blocks a receiver that has everything from `upto` to
    `end` (segments) but `holes` reports, the highest (most recently
    received) first."""
    blocks, start = [], upto
    for h in sorted(holes) + [end]:
        if h > start:
            blocks.append((start * m, h * m))
        start = max(start, h + 1)
    return blocks[::-1]


def holes_scenario(layout, holes):
    """The server writes 30 MSS: 10 leave, 20 after their ACK.  One ACK
    of 10 with SACK blocks for everything else of the flight but
    `holes`: RACK marks every hole lost at once (a later segment is
    SACKed and sacked_out >= tcp_reordering: no reordering window), PRR
    lets them all go (pipe 0, cwnd up to ssthresh, 10), and exactly the
    holes are retransmitted, in order.  Then ACKs as each retransmission
    arrives: nothing more is sent (no hole is lost again, no new data);
    the last one ends the recovery."""
    def scen(side):
        f = side.flow("c")
        if not opened(f, layout):
            return
        m = mss_of(f)
        flights(side, f, RB_TOTAL)
        ack(f, "sack", 10 * m, sack_blocks(holes, 11, 30, m),
            segs=len(holes))
        info(side, f, "info1")
        for i, h in enumerate(holes[1:], 1):
            ack(f, "ack%d" % h, h * m, sack_blocks(holes[i:], h + 1, 30, m))
        ack(f, "full", RB_TOTAL * m)
        done(side, f)
        info(side, f, "info")
        abort(side, f)
    return scen


def holes_sanity(holes):
    sacked = 19 - (len(holes) - 1)
    return lambda tr: problems(
        *common(tr),
        want_segs(tr, "c:ack10", span(10, 29)),
        want_segs(tr, "c:sack", list(holes)),
        want_prompt(tr, "c:sack", holes[-1]),
        want_info(tr, "c:info1", ca_state="Recovery", snd_cwnd=10,
                  snd_ssthresh=10, unacked=20, sacked=sacked,
                  lost=len(holes), retrans=len(holes)),
        *(want_segs(tr, "c:ack%d" % h, []) for h in holes[1:]),
        want_segs(tr, "c:full", []),
        want_info(tr, "c:info", ca_state="Open", snd_cwnd=10,
                  snd_ssthresh=10, unacked=0, total_retrans=len(holes)))


def test_rb(ctx):
    """SACK blocks around holes: the holes, and only they, again."""
    for layout, holes in RB_CASES:
        recovery_pair(ctx, "rb.SACK blocks around holes %s%s: exactly the "
                      "holes retransmitted" % (
                          ",".join(map(str, holes)),
                          "" if layout == "sack" else ", no timestamps"),
                      holes_scenario(layout, holes),
                      sanity=holes_sanity(holes))


# ---------------------------------------------------------------------
# rc. D-SACK: undo
# ---------------------------------------------------------------------

RC_TOTAL = 49


def dsack_undo(layout):
    """ra's SACK case (sack_dupacks()): fast retransmit of 10, but the
    original 10 was only late.  Without timestamps: the full ACK (of 29,
    opening the window) ends the recovery, 11 new segments leave (as in
    sack_dupacks()); then the retransmission arrives too, and the client
    reports it with a D-SACK block [10, 11) below the ACK (RFC 2883).
    That was the only retransmission (undo_retrans reaches 0,
    tcp_check_dsack()), so stock undoes (tcp_try_undo_dsack()): cwnd
    back to 20 (tcp_reno_undo_cwnd()), ssthresh to what it was,
    infinite: the last 9 leave.  With timestamps the full ACK echoes the original's TSval,
    older than the retransmission (tcp_packet_delayed()): undone at
    once (tcp_try_undo_recovery()), all 20 left leave on it (slow start
    again) and the D-SACK changes nothing."""
    def scen(side):
        f = side.flow("c")
        if not opened(f, layout, ws=0):
            return
        m = mss_of(f)
        flights(side, f, RC_TOTAL, closed=True)
        dupacks(f, 10 * m, [[(11 * m, (12 + i) * m)] for i in range(3)])
        orig = original_tsval(f, 10 * m)
        eifel = f.srv_ts is not None
        f.window = MAX_WINDOW
        ack(f, "full", 29 * m, ecr=orig, segs=20 if eifel else 11)
        ack(f, "dsack", 29 * m, [(10 * m, 11 * m)], ecr=orig,
            segs=RC_TOTAL - highest(f) // m)
        ack_all(side, f, RC_TOTAL)
    return scen


def dsack_sanity(eifel):
    top = RC_TOTAL if eifel else 40
    return lambda tr: problems(
        *common(tr),
        want_segs(tr, "c:dupacks", [10]),
        want_segs(tr, "c:full", span(29, top - 1)),
        want_segs(tr, "c:dsack", span(top, RC_TOTAL - 1)),
        want_prompt(tr, "c:full" if eifel else "c:dsack", RC_TOTAL - 1),
        want_segs(tr, "c:all", []),
        want_info(tr, "c:info", ca_state="Open",
                  snd_ssthresh=INFINITE_SSTHRESH, min_cwnd=20, unacked=0,
                  total_retrans=1, dsack_dups=1))


def test_rc(ctx):
    """D-SACK of the only retransmission undoes the cwnd reduction;
    with timestamps the full ACK already does."""
    recovery_pair(ctx, "rc.D-SACK for the fast retransmission, no "
                  "timestamps: undo, cwnd 20 again", dsack_undo("nots"),
                  sanity=dsack_sanity(False))
    recovery_pair(ctx, "rc.timestamps: the full ACK echoes the original: "
                  "undo at once, the D-SACK after it changes nothing",
                  dsack_undo("sack"), sanity=dsack_sanity(True))


# ---------------------------------------------------------------------
# rd. tail loss
# ---------------------------------------------------------------------

def pto_problem(tr, label, k):
    """The probe (segment k of step `label`) leaves one probe timeout
    after the ACK that armed it: 2 SRTT + TCP_TIMEOUT_MIN_US, more than
    one segment being out (tcp_schedule_loss_probe()), in jiffies; and
    before the RTO.  Held to the side's own SRTT (tcpi_rtt, which the
    probe does not change), within 15 % and a few jiffies."""
    i, d = info_of(tr, "c:info1"), reply_delay(tr, label, k)
    if i is None or d is None:
        return "%s: no probe (segment %d) after %s, or no TCP_INFO" % (
            tr.side, k, label)
    hz = X.kernel_hz() or 250
    want = (2 * i["rtt"] + 2000) / 1e6
    lo, hi = 0.85 * want - 0.005, 1.15 * want + 1.0 / hz + 0.04
    if not lo <= d <= hi:
        return "%s: probe %.3f s after %s; 2 SRTT (%.3f s) + 2 ms makes " \
            "%.3f s" % (tr.side, d, label, i["rtt"] / 1e6, want)
    if d >= i["rto"] / 1e6:
        return "%s: probe %.3f s after %s, not before the RTO (%.3f s)" % (
            tr.side, d, label, i["rto"] / 1e6)
    return None


def probe_last(side):
    """Six segments; the client ACKs three and no more.  After 2 SRTT the
    server probes with the last segment again (no new data to send).
    The client then SACKs the probe (PATH_DELAY later, so that RACK
    takes the RTT sample: not below min_rtt): 3 and 4 are lost, sent
    long before it; fast recovery (ssthresh 6, half of 13), PRR with
    pipe 0 sends one (its slow-start bound: what was delivered), then
    one for the ACK of it."""
    f = side.flow("c")
    if not opened(f, "sack"):
        return
    m = mss_of(f)
    write(side, f, 6 * m, 6)
    ack(f, "ack3", 3 * m, segs=1, wait=2.0)
    probe = f.cur.pkts[-1][1].t if f.cur.pkts else time.time()
    info(side, f, "info1")
    time.sleep(max(0.0, probe + PATH_DELAY - time.time()))
    ack(f, "sack", 3 * m, [(5 * m, 6 * m)], segs=1)
    ack(f, "ack4", 4 * m, [(5 * m, 6 * m)], segs=1)
    ack(f, "full", 6 * m)
    done(side, f)
    info(side, f, "info")
    abort(side, f)


def probe_last_sanity(tr):
    return problems(
        *common(tr),
        want_segs(tr, "c:write", span(0, 5)),
        want_segs(tr, "c:ack3", [5]),
        pto_problem(tr, "c:ack3", 5),
        # The probe is no retransmission in flight (retrans_out:
        # __tcp_retransmit_skb(), not tcp_retransmit_skb()).
        want_info(tr, "c:info1", ca_state="Open", unacked=3, retrans=0,
                  total_retrans=1),
        want_segs(tr, "c:sack", [3]),
        want_prompt(tr, "c:sack", 3),
        want_segs(tr, "c:ack4", [4]),
        want_segs(tr, "c:full", []),
        want_info(tr, "c:info", ca_state="Open", snd_cwnd=6, snd_ssthresh=6,
                  unacked=0, total_retrans=3))


def probe_new(side):
    """Thirty segments written: 10 leave, the ACK of 5 grows cwnd to 15
    and 10 more leave; then silence.  The probe is new data (segment 20,
    tcp_send_loss_probe(): the send head fits the window), one segment
    though cwnd is full.  The client ACKs all of it: the rest leaves."""
    f = side.flow("c")
    if not opened(f, "sack"):
        return
    m = mss_of(f)
    write(side, f, 30 * m, IW)
    ack(f, "ack5", 5 * m, segs=11, wait=2.0)
    info(side, f, "info1")
    ack(f, "ack21", 21 * m, segs=9)
    ack_all(side, f, 30)


def probe_new_sanity(tr):
    return problems(
        *common(tr),
        want_segs(tr, "c:ack5", span(10, 20)),
        pto_problem(tr, "c:ack5", 20),
        want_info(tr, "c:info1", ca_state="Open", unacked=16, retrans=0,
                  total_retrans=0),
        want_segs(tr, "c:ack21", span(21, 29)),
        want_segs(tr, "c:all", []),
        want_info(tr, "c:info", ca_state="Open", unacked=0,
                  total_retrans=0))


def rto_problem(tr):
    """Without SACK no probe (tcp_schedule_loss_probe() wants
    tcp_is_sack()): the first retransmission is the timer's, one RTO
    (tcpi_rto, read right after the ACK that re-armed it) after that
    ACK."""
    i, d = info_of(tr, "c:rto"), reply_delay(tr, "c:rto", 3, "c:ack3")
    if i is None or d is None:
        return "%s: no retransmission of segment 3, or no TCP_INFO" % \
            tr.side
    rto = i["rto"] / 1e6
    if not 0.95 * rto - 0.005 <= d <= 1.1 * rto + 0.04:
        return "%s: segment 3 retransmitted %.3f s after the ACK; the RTO " \
            "is %.3f s" % (tr.side, d, rto)
    return None


def no_sack_rto(side):
    """No SACK: six segments, three ACKed, then silence until the RTO
    sends segment 3 alone (cwnd 1, Loss).  Its ACK is no F-RTO proof of
    a spurious timeout (only retransmitted data ACKed, no new data to
    send: tcp_process_loss()), so slow start sends 4 and 5.  The ACK of
    all of it leaves the connection in Loss (Reno: nothing above
    high_seq ACKed)."""
    f = side.flow("c")
    if not opened(f, "nosack"):
        return
    m = mss_of(f)
    write(side, f, 6 * m, 6)
    ack(f, "ack3", 3 * m, segs=0)
    info(side, f, "rto")
    f.expect(1, 2.0)
    ack(f, "ack4", 4 * m, segs=2)
    ack(f, "full", 6 * m)
    done(side, f)
    info(side, f, "info")
    abort(side, f)


def no_sack_rto_sanity(tr):
    return problems(
        *common(tr),
        want_segs(tr, "c:ack3", []),
        want_segs(tr, "c:rto", [3]),
        rto_problem(tr),
        want_info(tr, "c:rto", ca_state="Open", unacked=3, retrans=0),
        want_segs(tr, "c:ack4", [4, 5]),
        want_segs(tr, "c:full", []),
        # All ACKed, but not more than high_seq: Reno holds the state
        # (tcp_process_loss(), tcp_is_non_sack_preventing_reopen()).
        want_info(tr, "c:info", ca_state="Loss", unacked=0,
                  total_retrans=3))


def test_rd(ctx):
    """Tail loss: probes after 2 SRTT with SACK, the timer without."""
    recovery_pair(ctx, "rd.tail loss: the last segment probed after 2 "
                  "SRTT, its SACK starts fast recovery", probe_last,
                  sanity=probe_last_sanity,
                  compare=xtcp_check(lambda tr: pto_problem(tr, "c:ack3",
                                                            5)))
    recovery_pair(ctx, "rd.tail loss with data queued: new data probed "
                  "after 2 SRTT", probe_new, sanity=probe_new_sanity,
                  compare=xtcp_check(lambda tr: pto_problem(tr, "c:ack5",
                                                            20)))
    recovery_pair(ctx, "rd.tail loss without SACK: no probe, the RTO",
                  no_sack_rto, sanity=no_sack_rto_sanity,
                  compare=xtcp_check(rto_problem))


# ---------------------------------------------------------------------
# re. the same recovery under CUBIC
# ---------------------------------------------------------------------

CUBIC_OPTS = [LISTENER_OPTS[0],
              (socket.IPPROTO_TCP, socket.TCP_CONGESTION, "cubic")]


def cubic_dupacks(side):
    """ra's SACK case with both listeners on CUBIC: the fast retransmit
    of 10 as there, and the reduction CUBIC's (bictcp_recalc_ssthresh()):
    ssthresh = 20 x 717 / 1024 = 14.  The full ACK ends the recovery at
    cwnd 14 (tcp_end_cwnd_reduction()) and CUBIC's bictcp_update() grows
    it for the 16 segments the ACK delivers by what its curve gives at
    that moment: the epoch starts with this ACK, so the curve's time is
    CUBIC's delay_min, the connection's least RTT (cubic_cwnd()).  That
    RTT is scapy's reaction time, which differs from run to run, and so
    may the growth: cwnd after the recovery and at the end is checked on
    each side against its own RTT, and left out of the comparison
    (cubic_timing()); ssthresh, the states and the segments are
    compared."""
    f = side.flow("c")
    m = sack_loss(side, f)
    if not m:
        return
    info(side, f, "info1")
    ack(f, "full", 29 * m, segs=14, window=MAX_WINDOW)
    info(side, f, "info2")
    rest(f, "rest", RA_TOTAL)
    ack_all(side, f, RA_TOTAL)


# CUBIC's constants (tcp_cubic.c): bic_scale 41, beta 717 / 1024,
# BICTCP_HZ 10 (time in 1/1024 s), and Debian's CONFIG_HZ.
CUBIC_SCALE = 41 * 10
CUBIC_FACTOR = (1 << 40) // CUBIC_SCALE
HZ = 250


def cubic_cwnd(delay_min_us, cwnd=14, last_max=20, acked=16):
    """cwnd after bictcp_cong_avoid() on the first ACK of a new epoch
    (bictcp_update(): t = delay_min, origin last_max, K = cbrt((last_max
    - cwnd) / C)) that delivers `acked` segments, the Reno estimate
    (tcp_friendliness) then at cwnd and ack_cnt `acked`, below its step
    for these numbers; then tcp_cong_avoid_ai() from snd_cwnd_cnt 0."""
    k = round((CUBIC_FACTOR * (last_max - cwnd)) ** (1 / 3))
    jiffies = -(-delay_min_us * HZ // 1000000)
    t = (jiffies << 10) // HZ
    offs = k - t if t < k else t - k
    delta = (CUBIC_SCALE * offs ** 3) >> 40
    target = last_max - delta if t < k else last_max + delta
    cnt = cwnd // (target - cwnd) if target > cwnd else 100 * cwnd
    return cwnd + acked // max(cnt, 2)


# The RTT samples CUBIC's delay_min is the least of (bictcp_acked()):
# (ACK step, step the segment came in, the segment whose send time the
# sample measures from: the newest one the ACK newly covers or SACKs).
CUBIC_SAMPLES = (("c:ack10", "c:write", 9), ("c:dupacks", "c:ack10", 13),
                 ("c:full", "c:ack10", 28))
# Slack on CUBIC's delay_min, us: veth and softirq between scapy's
# clock and the server's, jiffies, timestamp granularity.
CUBIC_SLACK = 10000


def cubic_problem(tr):
    """cwnd after the recovery is CUBIC's for a delay_min this side can
    have had: at least TCP_INFO's min_rtt (whose samples include
    delay_min's and the handshake's), at most the least of the samples
    as the client saw them (CUBIC_SAMPLES); and it only grows after."""
    i2, i = info_of(tr, "c:info2"), info_of(tr, "c:info")
    if i2 is None or i is None:
        return "%s: no TCP_INFO" % tr.side
    seen = [reply_delay(tr, where, k, since=label)
            for label, where, k in CUBIC_SAMPLES]
    lo = max(1, i2["min_rtt"] - CUBIC_SLACK)
    hi = (min(-d for d in seen if d is not None) * 1e6 if any(
        d is not None for d in seen) else lo) + CUBIC_SLACK
    want = sorted({cubic_cwnd(d) for d in range(int(lo), int(hi) + 1, 500)}
                  | {cubic_cwnd(int(lo))})
    got = i2["snd_cwnd"]
    if got not in want:
        return "%s: cwnd %d after the recovery; CUBIC gives %s for a " \
            "delay_min of %d to %d us" % (tr.side, got, " or ".join(
                map(str, want)), lo, hi)
    if not got <= i["snd_cwnd"] <= 20:
        return "%s: cwnd %d at the end, %d after the recovery: CUBIC grows " \
            "it towards 20, the window before the loss" % (
                tr.side, i["snd_cwnd"], got)
    return None


def cubic_timing(tr):
    """A copy of `tr` without what CUBIC's clock decides: the cwnd in
    c:info2's and c:info's notes, at c:info2 what that cwnd let out
    (unacked, segs_out, data_segs_out: the sender has data queued, so
    they follow cwnd; cubic_dupacks_sanity() holds unacked to each
    side's own cwnd), and where c:full's segments end and c:rest's begin
    (all of them in c:full)."""
    out = copy.copy(tr)
    out.steps = []
    merged = None
    for st in tr.steps:
        c = copy.copy(st)
        c.pkts = list(st.pkts)
        if st.label in ("c:info2", "c:info"):
            c.notes = [re.sub(r"cwnd=\d+", "cwnd=(CUBIC's)", n)
                       for n in st.notes]
        if st.label == "c:info2":
            c.notes = [re.sub(r"\b(unacked|segs_out|data_segs_out)=\d+",
                              r"\1=(CUBIC's)", n) for n in c.notes]
        if st.label == "c:full":
            merged = c
        elif st.label == "c:rest" and merged is not None:
            merged.pkts.extend(c.pkts)
            c.pkts = []
        out.steps.append(c)
    return out


def cubic_dupacks_sanity(tr):
    i2 = info_of(tr, "c:info2") or {"snd_cwnd": 0}
    cwnd = i2["snd_cwnd"]
    return problems(
        *common(tr),
        want_segs(tr, "c:ack10", span(10, 28)),
        want_segs(tr, "c:dupacks", [10]),
        want_info(tr, "c:info1", ca_state="Recovery", snd_ssthresh=14),
        want_info(tr, "c:info2", ca_state="Open", snd_ssthresh=14,
                  unacked=cwnd),
        cubic_problem(tr),
        want_segs(tr, "c:full", span(29, 28 + cwnd)),
        want_segs(tr, "c:rest", span(29 + cwnd, 49)),
        want_info(tr, "c:info", ca_state="Open", snd_ssthresh=14,
                  unacked=0, total_retrans=1))


def test_re(ctx):
    """ra's fast retransmit with SACK, both listeners on CUBIC."""
    ctx.pair("re.CUBIC: three duplicate ACKs with SACK blocks: fast "
             "retransmit, ssthresh 0.7 x cwnd, CUBIC's growth after",
             cubic_dupacks, sysctls=RECOVERY_SYSCTLS, serial=True,
             sockopts=CUBIC_OPTS, sanity=cubic_dupacks_sanity,
             normalize=cubic_timing,
             compare=xtcp_check(lambda tr: want_prompt(tr, "c:dupacks", 10),
                                cubic_problem))


TESTS = {
    "ra": ("loss recovery: fast retransmit on duplicate ACKs, RACK's "
           "reordering timer", test_ra),
    "rb": ("loss recovery: SACK blocks, exactly the holes retransmitted",
           test_rb),
    "rc": ("loss recovery: D-SACK and timestamp undo", test_rc),
    "rd": ("loss recovery: tail loss probes, the RTO without SACK",
           test_rd),
    "re": ("loss recovery under CUBIC: its reduction against stock's",
           test_re),
}
