# SPDX-License-Identifier: GPL-2.0
"""Unit tests of xtcp_report on pcaps made here with scapy (no guest).

  /usr/bin/python3 tools/test_xtcp_report.py [-v]

Each test writes two captures of one HTTP-like exchange (handshake with
MSS, SACK-perm, TS, NOP, WS; a request; a response; the client closes
first) that differ in what it is about, and checks the verdict, the
alignment and the JSON.
"""
import json
import os
import sys
import tempfile
import unittest

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import xtcp_report as xr  # noqa: E402

from scapy.all import IP, TCP, Ether, wrpcap  # noqa: E402

CLI, SRV = "198.18.0.2", "198.18.0.1"
M = 0xffffffff


def exchange(port=8080, cport=40000, cisn=1000, sisn=5000, ts_c=100,
             ts_s=900000, t0=1.0, dt=0.001, srv_win=509, extra_ack=False,
             mss=1460, sack_rel=None, dup_ack=None):
    """Frames of one connection; the knobs change what the server
    sends."""
    t = [t0]
    out = []

    def seg(d, flags, seq, ack, win, opts=(), payload=b"", gap=dt):
        src, dst, sp, dp = (CLI, SRV, cport, port) if d == "in" else \
            (SRV, CLI, port, cport)
        p = Ether() / IP(src=src, dst=dst, flags="DF") / \
            TCP(sport=sp, dport=dp, flags=flags, seq=seq & M, ack=ack & M,
                window=win, options=list(opts)) / payload
        p.time = t[0]
        t[0] += gap
        out.append(p)

    c, s = cisn, sisn
    seg("in", "S", c, 0, 64240, [("MSS", 1460), ("SAckOK", b""),
                                 ("Timestamp", (ts_c, 0)), ("NOP", None),
                                 ("WScale", 7)])
    seg("out", "SA", s, c + 1, 65160,
        [("MSS", mss), ("SAckOK", b""), ("Timestamp", (ts_s, ts_c)),
         ("NOP", None), ("WScale", 7)])
    seg("in", "A", c + 1, s + 1, 502, [("NOP", None), ("NOP", None),
                                       ("Timestamp", (ts_c + 1, ts_s))])
    req = b"GET /small HTTP/1.1\r\n\r\n"
    seg("in", "PA", c + 1, s + 1, 502,
        [("NOP", None), ("NOP", None), ("Timestamp", (ts_c + 1, ts_s))],
        req)
    if dup_ack is not None:
        seg("in", "A", c + 1 + len(req), s + 1 + dup_ack, 502,
            [("NOP", None), ("NOP", None), ("Timestamp", (ts_c + 1, ts_s))])
    if extra_ack:
        seg("out", "A", s + 1, c + 1 + len(req), srv_win,
            [("NOP", None), ("NOP", None),
             ("Timestamp", (ts_s + 1, ts_c + 1))])
    resp = b"HTTP/1.1 200 OK\r\n\r\n" + b"x" * 100
    opts = [("NOP", None), ("NOP", None),
            ("Timestamp", (ts_s + 2, ts_c + 1))]
    seg("out", "PA", s + 1, c + 1 + len(req), srv_win, opts, resp)
    ack_opts = [("NOP", None), ("NOP", None),
                ("Timestamp", (ts_c + 2, ts_s + 2))]
    if sack_rel:
        ack_opts += [("NOP", None), ("NOP", None),
                     ("SAck", tuple((s + x) & M for x in sack_rel))]
    seg("in", "A", c + 1 + len(req), s + 1 + len(resp), 501, ack_opts)
    seg("in", "FA", c + 1 + len(req), s + 1 + len(resp), 501,
        [("NOP", None), ("NOP", None), ("Timestamp", (ts_c + 3, ts_s + 2))])
    seg("out", "FA", s + 1 + len(resp), c + 2 + len(req), srv_win,
        [("NOP", None), ("NOP", None), ("Timestamp", (ts_s + 3, ts_c + 3))])
    seg("in", "A", c + 2 + len(req), s + 2 + len(resp), 501,
        [("NOP", None), ("NOP", None), ("Timestamp", (ts_c + 4, ts_s + 3))])
    return out


def rr(port=8080, fin_first=False, ack_ahead=0, pure_ack=False, lag=0.0):
    """5 bytes in, 5 bytes out, the client closes first: with fin_first
    the client's FIN reaches the server before its reply leaves, which
    then acknowledges it too (ack_ahead: acknowledge more than arrived)."""
    c, s, t, out = 1000, 5000, [1.0], []

    def seg(d, flags, seq, ack, payload=b""):
        src, dst, sp, dp = (CLI, SRV, 40000, port) if d == "in" else \
            (SRV, CLI, port, 40000)
        p = Ether() / IP(src=src, dst=dst, flags="DF") / \
            TCP(sport=sp, dport=dp, flags=flags, seq=seq, ack=ack,
                window=500) / payload
        p.time = t[0]
        t[0] += 0.001
        out.append(p)

    seg("in", "S", c, 0)
    seg("out", "SA", s, c + 1)
    seg("in", "A", c + 1, s + 1)
    seg("in", "PA", c + 1, s + 1, b"hello")
    if fin_first:
        seg("in", "FA", c + 6, s + 1)
        if pure_ack:
            seg("out", "A", s + 1, c + 6)
        t[0] += lag
        seg("out", "PA", s + 1, c + 7 + ack_ahead - (lag > 0), b"hello")
    else:
        if pure_ack:
            seg("out", "A", s + 1, c + 6)
        seg("out", "PA", s + 1, c + 6 + ack_ahead, b"hello")
        seg("in", "FA", c + 6, s + 1)
    seg("in", "A", c + 7, s + 6)
    seg("out", "FA", s + 6, c + 7)
    seg("in", "A", c + 7, s + 7)
    return out


def script(port, steps):
    """Frames from (direction, flags, rel seq, rel ack, payload length
    [, window]) steps, 1 ms apart; IP IDs count up per direction from a
    random start, as a connected socket's do."""
    c, s, out, t = 1000, 5000, [], 1.0
    ids = {"in": 40000, "out": port * 7}
    for d, flags, seq, ack, n, *win in steps:
        src, dst, sp, dp = (CLI, SRV, 40000, port) if d == "in" else \
            (SRV, CLI, port, 40000)
        base, peer = (c, s) if d == "in" else (s, c)
        ids[d] = (ids[d] + 1) & 0xffff
        p = Ether() / IP(src=src, dst=dst, flags="DF", id=ids[d]) / \
            TCP(sport=sp, dport=dp, flags=flags, seq=base + seq,
                ack=peer + ack if "A" in flags else 0,
                window=win[0] if win else 500) / (b"x" * n)
        p.time = t
        t += 0.001
        out.append(p)
    return out


def bulk(port=8080, segs=30, mss=1448, short_at=None, acks_every=2,
         end_win=600, resend=None, dup_at=None, srv_win=500):
    """A download: handshake, a 5-byte request, segs * 1448 bytes of the
    server's in segments of mss (PSH on the last; with short_at=k the
    k-th is 300 bytes with PSH, as where a write ended while the queue
    was empty), the client's pure ACKs every acks_every segments with
    growing windows (dup_at: that ACK sent twice), resend=k: segment k
    sent again, then the client's FIN with window end_win and the
    server's."""
    steps = [("in", "S", 0, 0, 0), ("out", "SA", 0, 1, 0, srv_win),
             ("in", "A", 1, 1, 0), ("in", "PA", 1, 1, 5),
             ("out", "A", 1, 6, 0, srv_win)]
    seq, win, end, k = 1, 500, 1 + segs * 1448, 0
    while seq < end:
        n = 300 if k == short_at else min(mss, end - seq)
        flags = "PA" if k == short_at or seq + n == end else "A"
        steps.append(("out", flags, seq, 6, n, srv_win))
        if k == resend:
            steps.append(steps[-1])
        seq += n
        if (k + 1) % acks_every == 0:
            win += 3
            steps.append(("in", "A", 6, seq, 0, win))
            if k == dup_at:
                steps.append(steps[-1])
        k += 1
    steps += [("in", "FA", 6, seq, 0, end_win),
              ("out", "FA", seq, 7, 0, srv_win),
              ("in", "A", 7, seq + 1, 0, end_win)]
    return script(port, steps)


def upload(port=8080, segs=30, end_win=600):
    """An upload: handshake, the server's 5-byte greeting (window 500)
    and the client's ACK of it, segs * 1448 bytes of the client's, the
    server's pure ACKs every two segments with growing windows, its
    5-byte reply with window end_win, the client's FIN and the
    server's."""
    steps = [("in", "S", 0, 0, 0), ("out", "SA", 0, 1, 0),
             ("in", "A", 1, 1, 0), ("out", "PA", 1, 1, 5, 500),
             ("in", "A", 1, 6, 0)]
    seq, win, end, k = 1, 500, 1 + segs * 1448, 0
    while seq < end:
        n = min(1448, end - seq)
        steps.append(("in", "PA" if seq + n == end else "A", seq, 6, n))
        seq += n
        if k % 2:
            win += 3
            steps.append(("out", "A", 6, seq, 0, win))
        k += 1
    steps += [("out", "PA", 6, seq, 5, end_win),
              ("in", "FA", seq, 11, 0),
              ("out", "FA", 11, seq + 1, 0, end_win),
              ("in", "A", seq + 1, 12, 0)]
    return script(port, steps)


HEAD = [("in", "S", 0, 0, 0), ("out", "SA", 0, 1, 0), ("in", "A", 1, 1, 0),
        ("in", "PA", 1, 1, 5), ("out", "A", 1, 6, 0)]


class ReportTest(unittest.TestCase):
    def setUp(self):
        self.dir = tempfile.mkdtemp()

    def tearDown(self):
        for f in os.listdir(self.dir):
            os.unlink(os.path.join(self.dir, f))
        os.rmdir(self.dir)

    def run_pair(self, a_frames, b_frames, pa=8080, pb=8081):
        fa = os.path.join(self.dir, "a.pcap")
        fb = os.path.join(self.dir, "b.pcap")
        wrpcap(fa, a_frames)
        wrpcap(fb, b_frames)
        js = os.path.join(self.dir, "r.json")
        txt = os.path.join(self.dir, "r.txt")
        devnull = open(os.devnull, "w")
        old, sys.stdout = sys.stdout, devnull
        try:
            rc = xr.main(["render", fa, fb, "--ports", "%d,%d" % (pa, pb),
                          "--json", js, "--text", txt])
        finally:
            sys.stdout = old
            devnull.close()
        with open(js) as f:
            rep = json.load(f)
        with open(txt) as f:
            text = f.read()
        return rc, rep, text

    def test_same_but_isn_ts_time_ports(self):
        a = exchange()
        b = exchange(port=8081, cport=41234, cisn=0xfffffff0,
                     sisn=0x7fffff00, ts_c=5, ts_s=123, t0=50.0, dt=0.003)
        rc, rep, text = self.run_pair(a, b)
        self.assertEqual(rc, 0, text)
        self.assertTrue(rep["verdict"]["same"])
        self.assertEqual(len(rep["connections"]), 1)
        rows = rep["connections"][0]["rows"]
        self.assertEqual(len(rows), 9)
        syn = rows[0]["a"]
        self.assertEqual(syn["opts"], ["MSS 1460", "SACK_PERM", "TS +0/0",
                                       "NOP", "WS 7"])
        self.assertEqual(rows[2]["b"]["seq"], 1)
        self.assertEqual(rows[2]["b"]["ack"], 1)
        self.assertEqual(rows[4]["a"]["win_scaled"], 509 << 7)
        self.assertIn("verdict: same", text)

    def test_window_differs(self):
        rc, rep, text = self.run_pair(exchange(),
                                      exchange(port=8081, srv_win=510))
        self.assertEqual(rc, 1)
        self.assertFalse(rep["verdict"]["same"])
        fields = {d["field"] for d in rep["differences"]}
        self.assertEqual(fields, {"win"})
        self.assertIn("DIFFERENT", text)

    def test_extra_ack_is_one_gap_row(self):
        rc, rep, text = self.run_pair(exchange(),
                                      exchange(port=8081, extra_ack=True))
        self.assertEqual(rc, 1)
        rows = rep["connections"][0]["rows"]
        self.assertEqual(len(rows), 10)
        gaps = [r for r in rows if r["a"] is None]
        self.assertEqual(len(gaps), 1)
        self.assertEqual(gaps[0]["b"]["flags"], "A")
        self.assertEqual(gaps[0]["b"]["dir"], "out")
        # every other row is paired and equal
        self.assertEqual([r["mark"] for r in rows].count("!"), 1)
        self.assertEqual(len(rep["differences"]), 1)

    @staticmethod
    def swap(frames, i, j):
        """Frames i and j exchanged, each keeping its slot's time."""
        f = list(frames)
        f[i].time, f[j].time = f[j].time, f[i].time
        f[i], f[j] = f[j], f[i]
        return f

    def test_crossing_in_flight_is_allowed(self):
        # a client ACK (acking nothing new) and the response cross
        a = exchange(dup_ack=0)
        b = self.swap(exchange(port=8081, dup_ack=0), 4, 5)
        rc, rep, text = self.run_pair(a, b)
        self.assertEqual(rc, 0, text)
        marks = [r["mark"] for r in rep["connections"][0]["rows"]]
        self.assertIn("x", marks)
        self.assertEqual(len(marks), 10)        # no gap rows

    def test_crossing_that_acks_is_a_difference(self):
        # the moved client ACK acknowledges the response it now precedes
        a = exchange(dup_ack=119)
        b = self.swap(exchange(port=8081, dup_ack=119), 4, 5)
        rc, rep, text = self.run_pair(a, b)
        self.assertEqual(rc, 1, text)
        self.assertEqual([d["field"] for d in rep["differences"]],
                         ["order"])

    def test_crossing_fin_is_allowed(self):
        # the reply left before or after the client's FIN arrived: its
        # ACK number says which, and both are stock's behaviour
        rc, rep, text = self.run_pair(rr(), rr(port=8081, fin_first=True))
        self.assertEqual(rc, 0, text)
        self.assertEqual([r["mark"] for r in
                          rep["connections"][0]["rows"]].count("x"), 2)

    def test_crossing_two_segments(self):
        # an ACK and the reply, both crossing the client's FIN
        rc, rep, text = self.run_pair(rr(pure_ack=True),
                                      rr(port=8081, fin_first=True,
                                         pure_ack=True))
        self.assertEqual(rc, 0, text)
        # the FIN on two rows, and the reply whose ACK number covers it
        # in one run only; the ACK is the same in both
        self.assertEqual([r["mark"] for r in
                          rep["connections"][0]["rows"]].count("x"), 3)

    def test_ack_behind_a_fin_just_arrived(self):
        # the reply leaves after the FIN arrived, not yet acknowledging
        # it: as stock when the FIN waits in the backlog
        rc, rep, text = self.run_pair(rr(), rr(port=8081, fin_first=True,
                                               lag=0.001))
        self.assertEqual(rc, 0, text)

    def test_ack_behind_for_long_is_a_difference(self):
        rc, rep, text = self.run_pair(rr(), rr(port=8081, fin_first=True,
                                               lag=0.5))
        self.assertEqual(rc, 1, text)

    def test_two_crossings_at_once(self):
        # the reply crosses the client's FIN, the client's ACK of it the
        # server's FIN (seen on 6.1)
        a = script(8080, HEAD + [
            ("in", "FA", 6, 1, 0), ("out", "PA", 1, 7, 5),
            ("out", "FA", 6, 7, 0), ("in", "A", 7, 6, 0),
            ("in", "A", 7, 7, 0)])
        b = script(8081, HEAD + [
            ("out", "PA", 1, 6, 5), ("in", "FA", 6, 1, 0),
            ("in", "A", 7, 6, 0), ("out", "FA", 6, 7, 0),
            ("in", "A", 7, 7, 0)])
        rc, rep, text = self.run_pair(a, b)
        self.assertEqual(rc, 0, text)

    def test_reordered_data_is_a_difference(self):
        # two data segments of one direction swapped is no crossing
        a = script(8080, HEAD + [("out", "PA", 1, 6, 5),
                                 ("out", "PA", 6, 6, 5)])
        b = script(8081, HEAD + [("out", "PA", 6, 6, 5),
                                 ("out", "PA", 1, 6, 5)])
        rc, rep, text = self.run_pair(a, b)
        self.assertEqual(rc, 1, text)

    def test_delayed_ack_when_the_app_is_slow(self):
        # the client's FIN; stock's app closes at once (FIN carries the
        # ACK), xtcp's later, so a delayed ACK goes first (seen on 6.1)
        tail = [("in", "FA", 6, 6, 0)]
        a = script(8080, HEAD + [("out", "PA", 1, 6, 5)] + tail +
                   [("out", "FA", 6, 7, 0), ("in", "A", 7, 7, 0)])
        steps = HEAD + [("out", "PA", 1, 6, 5)] + tail + [
            ("out", "A", 6, 7, 0), ("out", "FA", 6, 7, 0),
            ("in", "A", 7, 7, 0)]
        b = script(8081, steps)
        for f in b[-3:]:
            f.time += 0.07                  # the timer, 70 ms later
        rc, rep, text = self.run_pair(a, b)
        self.assertEqual(rc, 0, text)
        self.assertIn("d", [r["mark"] for r in
                            rep["connections"][0]["rows"]])
        # an immediate extra ACK is no delayed one
        b = script(8081, steps)
        rc, rep, text = self.run_pair(a, b)
        self.assertEqual(rc, 1, text)

    def test_client_acks_follow_the_crossing(self):
        # the reply reached the client before its close, or after its FIN
        # left: the stock client's ACKs differ accordingly (seen on 6.12)
        a = script(8080, HEAD + [
            ("out", "PA", 1, 6, 5), ("in", "A", 6, 6, 0),
            ("in", "FA", 6, 6, 0), ("out", "FA", 6, 7, 0),
            ("in", "A", 7, 7, 0)])
        b = script(8081, HEAD + [
            ("in", "FA", 6, 1, 0), ("out", "PA", 1, 7, 5),
            ("out", "FA", 6, 7, 0), ("in", "A", 7, 6, 0),
            ("in", "A", 7, 7, 0)])
        rc, rep, text = self.run_pair(a, b)
        self.assertEqual(rc, 0, text)

    def test_ip_id_steps(self):
        a = script(8080, HEAD)
        b = script(8081, HEAD)
        b[4][IP].id = (b[3][IP].id + 50) & 0xffff    # not +1
        rc, rep, text = self.run_pair(a, b)
        self.assertEqual(rc, 1, text)
        self.assertEqual(rep["differences"][0]["field"], "ip")

    def test_crossing_ack_ahead_is_a_difference(self):
        # acknowledging what has not arrived is no crossing
        rc, rep, text = self.run_pair(rr(), rr(port=8081, fin_first=True,
                                               ack_ahead=1))
        self.assertEqual(rc, 1, text)

    def test_synack_option_differs(self):
        rc, rep, _ = self.run_pair(exchange(), exchange(port=8081, mss=1400))
        self.assertEqual(rc, 1)
        self.assertEqual(rep["differences"][0]["row"], 2)
        self.assertEqual(rep["differences"][0]["field"], "opts")

    def test_sack_blocks_relative(self):
        a = exchange(sack_rel=(500, 600))
        b = exchange(port=8081, sisn=77777, sack_rel=(500, 600))
        rc, rep, text = self.run_pair(a, b)
        self.assertEqual(rc, 0, text)
        opts = rep["connections"][0]["rows"][5]["a"]["opts"]
        self.assertIn("SACK 500-600", opts)

    def test_missing_connection(self):
        rc, rep, _ = self.run_pair(exchange() + exchange(
            cport=40001, t0=2.0), exchange(port=8081))
        self.assertEqual(rc, 1)
        self.assertEqual(rep["differences"][0]["field"], "connection")

    def test_nothing_captured(self):
        rc, rep, _ = self.run_pair(exchange(port=9), exchange(port=9))
        self.assertEqual(rc, 1)
        self.assertIn("NOTHING", rep["verdict"]["text"])

    def test_closed(self):
        conns = xr.connections(xr.load_pcap(self.write(exchange())), 8080)
        self.assertTrue(conns[0].closed())
        conns = xr.connections(xr.load_pcap(self.write(exchange()[:-1])),
                               8080)
        self.assertFalse(conns[0].closed())

    def test_bulk_timing_is_same(self):
        """Where a bulk transfer's segments end, which carry PSH, how
        many ACKs the receiver sends and its windows, and its window
        after the transfer: timing ("b", "w")."""
        rc, rep, text = self.run_pair(
            bulk(), bulk(port=8081, short_at=7, acks_every=3, end_win=900))
        self.assertEqual(rc, 0, text)
        marks = [r["mark"] for r in rep["connections"][0]["rows"]]
        self.assertIn("b", marks)
        self.assertIn("w", marks)
        notes = [t for t in rep["timing"] if "bulk" in t]
        self.assertEqual(len(notes), 1)
        self.assertEqual(notes[0]["bulk"][1]["short"], 2)
        self.assertEqual(notes[0]["bulk"][0]["short"], 0)
        self.assertIn("(b): a bulk transfer", text)
        self.assertIn("bulk transfers", text)

    def test_bulk_window_after_floor(self):
        """The server's window after an upload may be as low as the
        smallest it advertised before (data not read yet), not lower;
        the stock client's after a download is timing, however low
        (6.1's: 502 before, 501 after in one run, 641 in the other)."""
        rc, _, text = self.run_pair(upload(end_win=500),
                                    upload(port=8081, end_win=900))
        self.assertEqual(rc, 0, text)
        rc, rep, _ = self.run_pair(upload(end_win=499),
                                   upload(port=8081, end_win=900))
        self.assertEqual(rc, 1)
        self.assertEqual({d["field"] for d in rep["differences"]}, {"win"})
        rc, rep, text = self.run_pair(bulk(end_win=400),
                                      bulk(port=8081, end_win=900))
        self.assertEqual(rc, 0, text)
        self.assertIn("w", [r["mark"] for r in
                            rep["connections"][0]["rows"]])

    def test_bulk_short_transfer_exact(self):
        """Fewer than BULK_MIN segments: compared segment by segment."""
        rc, rep, _ = self.run_pair(bulk(segs=10),
                                   bulk(port=8081, segs=10, short_at=3))
        self.assertEqual(rc, 1)
        self.assertNotIn("b", [r["mark"] for r in
                               rep["connections"][0]["rows"]])

    def test_bulk_differences(self):
        """What a bulk transfer must keep: each byte once, the MSS, the
        sender's other fields, no duplicate ACKs only on one side, the
        window after it not below the one before."""
        cases = {
            "bulk: in order, each byte once": dict(resend=12),
            "bulk: mss": dict(mss=1400),
            "bulk: sender's other fields": dict(srv_win=501),
            "bulk: duplicate ACKs": dict(dup_at=9),
        }
        for field, kw in cases.items():
            rc, rep, text = self.run_pair(bulk(), bulk(port=8081, **kw))
            self.assertEqual(rc, 1, field)
            self.assertIn(field, {d["field"] for d in rep["differences"]},
                          (field, rep["differences"]))

    # A reply of headers (10 bytes) and a short body (20) after them,
    # then the server's close: Nagle holds the body until the headers
    # are acknowledged, and close() before that ACK puts the FIN on the
    # body, after it sends the FIN alone (rule "f").
    @staticmethod
    def fin_merged(port=8080):
        return script(port, HEAD + [
            ("out", "PA", 1, 6, 10), ("out", "FPA", 11, 6, 20),
            ("in", "A", 6, 11, 0), ("in", "A", 6, 32, 0),
            ("in", "FA", 6, 32, 0), ("out", "A", 32, 7, 0)])

    @staticmethod
    def fin_split(port=8081, fin_seq=31, fin_win=500, data_win=500,
                  data_acks=1, extra=()):
        return script(port, HEAD + [
            ("out", "PA", 1, 6, 10), ("in", "A", 6, 11, 0),
            ("out", "PA", 11, 6, 20, data_win),
            ("out", "FA", fin_seq, 6, 0, fin_win)] +
            [("in", "A", 6, 31, 0)] * data_acks + list(extra) + [
            ("in", "A", 6, 32, 0), ("in", "FA", 6, 32, 0),
            ("out", "A", 32, 7, 0)])

    def test_fin_on_the_data_or_alone_is_timing(self):
        """FPA with the data in one run, PA then FA in the other, with or
        without the client's ACK of the data alone, either run first."""
        for acks in (1, 0, 2):
            rc, rep, text = self.run_pair(self.fin_merged(),
                                          self.fin_split(data_acks=acks))
            self.assertEqual(rc, 0, text)
            marks = [r["mark"] for r in rep["connections"][0]["rows"]]
            self.assertEqual(marks.count("f"), 2 + acks, text)
            self.assertNotIn("!", marks)
            notes = [t for t in rep["timing"] if "fin_split" in t]
            self.assertEqual(len(notes), 1)
            self.assertEqual(notes[0]["fin_split"]["merged"], 0)
            self.assertEqual(notes[0]["fin_split"]["len"], 20)
            self.assertEqual(notes[0]["fin_split"]["acks"], acks)
            self.assertIn("(f): stock sent the FIN on the data", text)
            self.assertIn("a FIN on the data or alone after it", text)
        rc, rep, text = self.run_pair(self.fin_split(port=8080),
                                      self.fin_merged(port=8081))
        self.assertEqual(rc, 0, text)
        self.assertEqual([r["mark"] for r in rep["connections"][0]["rows"]]
                         .count("f"), 3)
        self.assertIn("(f): xtcp sent the FIN on the data", text)

    def test_fin_alone_elsewhere_is_a_difference(self):
        """The lone FIN not at the data's end."""
        for seq in (32, 30):
            rc, rep, text = self.run_pair(self.fin_merged(),
                                          self.fin_split(fin_seq=seq))
            self.assertEqual(rc, 1, text)
            self.assertNotIn("f", [r["mark"] for r in
                                   rep["connections"][0]["rows"]])
            self.assertIn("flags", {d["field"] for d in rep["differences"]})

    def test_fin_with_other_fields_differing_is_a_difference(self):
        """The data segment, or the lone FIN, differing in more than F."""
        for kw in (dict(data_win=501), dict(fin_win=501)):
            rc, rep, text = self.run_pair(self.fin_merged(),
                                          self.fin_split(**kw))
            self.assertEqual(rc, 1, (kw, text))
            self.assertNotIn("f", [r["mark"] for r in
                                   rep["connections"][0]["rows"]])

    def test_fin_alone_extra_ack_beyond_the_data_is_a_difference(self):
        """A peer ACK in the split run only that acknowledges the FIN
        (beyond the data) is no ACK of the data alone."""
        rc, rep, text = self.run_pair(self.fin_merged(), self.fin_split(
            extra=[("in", "A", 6, 32, 0)]))
        self.assertEqual(rc, 1, text)
        self.assertEqual([(d["field"], d["text"]) for d in
                          rep["differences"]],
                         [("segment", "only on side b: in A seq=6 ack=32 "
                           "win=500 len=0")])
        marks = [r["mark"] for r in rep["connections"][0]["rows"]]
        self.assertEqual(marks.count("f"), 3)

    def write(self, frames):
        f = os.path.join(self.dir, "w.pcap")
        wrpcap(f, frames)
        return f

    @staticmethod
    def reply(port=8080, cli_win=500, third_win=500, srv_win=500):
        """A request, the server's 5-byte reply, the client's ACK of it
        with window cli_win (its third ACK with third_win), FINs."""
        return script(port, [
            ("in", "S", 0, 0, 0), ("out", "SA", 0, 1, 0, srv_win),
            ("in", "A", 1, 1, 0, third_win), ("in", "PA", 1, 1, 5),
            ("out", "PA", 1, 6, 5, srv_win), ("in", "A", 6, 6, 0, cli_win),
            ("in", "FA", 6, 6, 0, cli_win), ("out", "FA", 6, 7, 0, srv_win),
            ("in", "A", 7, 7, 0, cli_win)])

    def test_client_window_with_data_read_is_timing(self):
        """The client's window once it has the reply says how far its
        application had read ("r"): allowed, listed."""
        rc, rep, text = self.run_pair(self.reply(),
                                      self.reply(port=8081, cli_win=498))
        self.assertEqual(rc, 0, text)
        marks = [r["mark"] for r in rep["connections"][0]["rows"]]
        self.assertEqual(marks.count("r"), 3, marks)
        self.assertEqual(rep["timing"][0]["client_window"], [500, 498])
        self.assertIn("(r): the client's window", text)

    def test_client_window_before_data_is_a_difference(self):
        """Its window before any data of the server's (the third ACK) is
        compared."""
        rc, rep, text = self.run_pair(self.reply(),
                                      self.reply(port=8081, third_win=498))
        self.assertEqual(rc, 1, text)
        self.assertEqual([(d["row"], d["field"]) for d in
                          rep["differences"]], [(3, "win")])

    def test_server_window_is_a_difference(self):
        """The server's window is the stack under test's: compared."""
        rc, rep, text = self.run_pair(self.reply(),
                                      self.reply(port=8081, srv_win=498))
        self.assertEqual(rc, 1, text)
        self.assertEqual({d["field"] for d in rep["differences"]}, {"win"})


if __name__ == "__main__":
    unittest.main()
