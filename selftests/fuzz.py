# SPDX-License-Identifier: GPL-2.0
"""fuzz.py: random and malformed segments at live xtcp connections, for
fuzz.sh.

  fuzz.py server --family N --addr A --port P
      Accepts connections; each one's first 4 bytes say what to do:
      "hold" keep it open and read (a peer FIN leaves it in CLOSE-WAIT),
      "clos" close() at once (FIN-WAIT-1, then FIN-WAIT-2 or TIME-WAIT
      as the peer answers), "shut" shutdown(SHUT_WR) and read on.
      Prints "ready" once listening; exits on SIGTERM.

  fuzz.py client --port P --count N [--seed S] [--ttl T] [--jobs J]
      From the client namespace (xtcplib's configuration, RST filter and
      capture): opens connections with scapy-built handshakes and drives
      them into ESTABLISHED, CLOSE-WAIT, FIN-WAIT-1, FIN-WAIT-2 and
      TIME-WAIT on the server, then sends N segments at them: every
      combination of the 8 flag bits in turn, sequence and
      acknowledgment numbers at, next to, half a window, a window and
      2^31 away from the connection's edges or random, random windows
      and urgent pointers, payloads from 0 to 1400 bytes, options valid,
      misplaced and malformed (bad lengths, truncated, unknown kinds,
      SACK blocks outside anything sent, TS and MSS with wrong sizes),
      data offsets below 5 and beyond the segment, and 3 % bad
      checksums.  Every 5000 segments it learns the connections' edges
      again from the server's replies, and every 20000 it opens a fresh
      set, so that live connections stay under attack.  Segments carry
      IP TTL T (77) so that fuzz.sh can count them at the server.
      J (2) processes share the work, each with its own flows (every
      J-th source port) and generator (seeded from S and its number),
      so that both CPUs of the guest send.  Prints "fuzz sent=N flows=N
      replies=N rsts=N seconds=S jobs=J" and exits 0.
"""
import argparse
import array
import os
import random
import signal
import socket
import struct
import sys
import threading
import time

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, "passive"))

from xtcp_sock import make_socket  # noqa: E402

# xtcplib and scapy, for the client only: importing scapy costs the
# server seconds of CPU under TCG (client() imports them).
X = IP = TCP = None

# What the server is told, and the state each flow is driven into.
PLANS = [
    ("hold", "ESTABLISHED"), ("hold", "ESTABLISHED"),
    ("hold", "ESTABLISHED"), ("hold", "CLOSE-WAIT"),
    ("clos", "FIN-WAIT-1"), ("clos", "FIN-WAIT-2"),
    ("clos", "TIME-WAIT"), ("shut", "FIN-WAIT-2"),
]
RESYNC = 5000
REOPEN = 20000


def csum(data):
    """The Internet checksum (RFC 1071) of data: summed in the host's
    byte order, which the one's complement sum allows, for speed."""
    if len(data) % 2:
        data += b"\0"
    s = sum(array.array("H", data))
    while s >> 16:
        s = (s & 0xffff) + (s >> 16)
    s = ~s & 0xffff
    return s if sys.byteorder == "big" else ((s & 0xff) << 8) | (s >> 8)


def server(args):
    lst = make_socket(args.family)
    lst.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    lst.bind((args.addr, args.port))
    lst.listen(128)
    keep = []
    signal.signal(signal.SIGTERM, lambda *_: os._exit(0))
    print("ready", flush=True)

    def reader(s):
        try:
            while s.recv(65536):
                pass
        except OSError:
            pass

    while True:
        try:
            s, _ = lst.accept()
        except OSError:
            continue
        # A connection the fuzz has reset already fails any call: drop it.
        try:
            s.settimeout(30)
            cmd = s.recv(4)
            if cmd == b"shut":
                s.shutdown(socket.SHUT_WR)
        except OSError:
            s.close()
            continue
        if cmd == b"clos":
            s.close()
            continue
        keep.append(s)
        threading.Thread(target=reader, args=(s,), daemon=True).start()


# ---------------------------------------------------------------------
# Options: valid, misplaced and malformed, as raw bytes
# ---------------------------------------------------------------------

# Random bytes for options and payloads: slices of one pool, since a
# getrandom() system call per segment costs more than the rest under TCG.
POOL = random.Random(0).randbytes(1 << 16)


def junk(rnd, n):
    off = rnd.getrandbits(15)
    return POOL[off:off + n]


def ts_opt(val, ecr):
    return b"\x01\x01\x08\x0a" + struct.pack("!II", val, ecr)


def sack_opt(blocks):
    body = b"".join(struct.pack("!II", a & 0xffffffff, b & 0xffffffff)
                    for a, b in blocks)
    return b"\x01\x01\x05" + bytes([2 + len(body)]) + body


def options(rnd, f):
    """One option block for flow f, not yet padded."""
    k = rnd.randrange(16)
    una, nxt = f.rcv_nxt, f.rcv_nxt
    if k == 0:
        return ts_opt(f.ts + rnd.randrange(3), f.srv_ts or 0)
    if k == 1:
        return ts_opt(rnd.getrandbits(32), rnd.getrandbits(32))
    if k == 2:   # TS with a wrong length
        return b"\x08" + bytes([rnd.choice([0, 1, 2, 9, 11, 40])]) + \
            junk(rnd, 8)
    if k == 3:
        return sack_opt([(una - 1000, una), (nxt + 1, nxt + 3000)])
    if k == 4:
        return sack_opt([(rnd.getrandbits(32), rnd.getrandbits(32))
                         for _ in range(rnd.randrange(1, 5))])
    if k == 5:   # SACK whose length is not 2 + 8n
        return b"\x05" + bytes([rnd.choice([2, 3, 9, 13, 255])]) + \
            junk(rnd, 10)
    if k == 6:   # MSS, WScale, SAckOK after the handshake, odd sizes too
        return rnd.choice([b"\x02\x04\x05\xb4", b"\x02\x03\x05",
                           b"\x03\x03\x0e", b"\x03\x03\xff", b"\x04\x02",
                           b"\x04\x05\x00\x00\x00"])
    if k == 7:   # unknown kinds
        n = rnd.randrange(2, 12)
        return bytes([rnd.randrange(9, 254), n]) + junk(rnd, n - 2)
    if k == 8:   # length 0 or 1: a parser that trusts it loops
        return bytes([rnd.randrange(2, 254), rnd.choice([0, 1])]) + \
            junk(rnd, rnd.randrange(6))
    if k == 9:   # a length past the end of the options
        return bytes([rnd.choice([2, 5, 8, 30]), 40]) + junk(rnd, 4)
    if k == 10:  # EOL, then garbage
        return b"\x00" + junk(rnd, rnd.randrange(1, 12))
    if k == 11:  # MD5 (19), fast open (34), experimental (253/254)
        return bytes([rnd.choice([19, 34, 253, 254]), 18]) + junk(rnd, 16)
    if k == 12:
        return junk(rnd, rnd.randrange(1, 40))
    return b""


class Flow:
    def __init__(self, sport, plan, isn):
        self.sport, self.cmd, self.want = sport, plan[0], plan[1]
        self.isn = isn
        self.snd_nxt = self.isn + 1
        self.rcv_nxt = None
        self.srv_ts = None
        self.ts = 1000
        self.state = "SYN-SENT"


class Client:
    """One sender: its own generator, flows, source ports and capture.
    Job k of n takes every n-th source port from SPORT_LO + k."""

    def __init__(self, args, cfg, ifname, job=0, count=None):
        self.args = args
        self.count = args.count if count is None else count
        # One generator for everything a job does: a run is replayed by
        # its --seed (and --jobs).
        self.rnd = random.Random(args.seed * 1000 + job)
        self.cfg = cfg
        self.wire = X.Wire(self.cfg, ifname)
        self.cursor = 0
        self.flows = {}
        self.job, self.jobs = job, args.jobs
        self.next_sport = X.SPORT_LO + job
        self.sent = 0
        self.replies = 0
        self.rsts = 0
        self.opened = 0
        self.seconds = 0.0
        self.tx = self.wire.tx
        self.src = socket.inet_aton(self.cfg.cli_ip)
        self.dst = socket.inet_aton(self.cfg.srv_ip)

    def close(self):
        self.wire.close()

    # --- the server's replies -------------------------------------------

    def learn(self):
        """Edges of every flow from the server's replies since last time."""
        frames, self.cursor = self.wire.frames_since(self.cursor)
        for t, fr in frames:
            try:
                r = X.Reply(t, fr)
            except (struct.error, IndexError):
                continue
            f = self.flows.get(r.dport)
            if r.sport != self.args.port or not f:
                continue
            self.replies += 1
            if r.has("R"):
                self.rsts += 1
                f.state = "CLOSED"
                continue
            if r.has("S") and r.has("A") and f.rcv_nxt is None:
                f.rcv_nxt = r.seq + 1
            if f.rcv_nxt is None:
                continue
            end = r.seq + len(r.payload) + (1 if r.has("F") else 0)
            if (end - f.rcv_nxt) & 0x80000000 == 0:
                f.rcv_nxt = end
            if r.has("A") and ((r.ack - f.snd_nxt) & 0x80000000) == 0:
                f.snd_nxt = r.ack
            ts = r.option("TS")
            if ts:
                f.srv_ts = ts[0] if isinstance(ts, tuple) else f.srv_ts

    # --- scapy for the handshakes ------------------------------------------

    def send_scapy(self, f, flags, payload=b"", opts=None):
        if opts is None:
            opts = [("NOP", None), ("NOP", None),
                    ("Timestamp", (f.ts, f.srv_ts or 0))]
        p = IP(src=self.cfg.cli_ip, dst=self.cfg.srv_ip, ttl=64,
               flags="DF") / TCP(sport=f.sport, dport=self.args.port,
                                  seq=f.snd_nxt & 0xffffffff,
                                  ack=(f.rcv_nxt or 0) & 0xffffffff,
                                  flags=flags, window=502, options=opts)
        if payload:
            p = p / payload
        self.wire.send(p)
        f.ts += 1

    def wait(self, pred, timeout=3.0):
        end = time.time() + timeout
        while time.time() < end:
            self.learn()
            if pred():
                return True
            time.sleep(0.02)
        return False

    def open_set(self):
        """One flow per plan, each driven into its state."""
        new = []
        for plan in PLANS:
            f = Flow(self.next_sport, plan, self.rnd.getrandbits(32))
            self.next_sport += self.jobs
            if self.next_sport > X.SPORT_HI:
                self.next_sport = X.SPORT_LO + self.job
            self.flows[f.sport] = f
            f.snd_nxt = f.isn
            self.send_scapy(f, "S", opts=[
                ("MSS", 1460), ("SAckOK", b""), ("Timestamp", (f.ts, 0)),
                ("NOP", None), ("WScale", 7)])
            f.snd_nxt = f.isn + 1
            new.append(f)
        self.wait(lambda: all(f.rcv_nxt is not None for f in new))
        for f in new:
            if f.rcv_nxt is None:
                continue
            self.send_scapy(f, "A")
            self.send_scapy(f, "PA", f.cmd.encode())
            f.snd_nxt += 4
            f.state = "ESTABLISHED"
        self.wait(lambda: all(f.snd_nxt == f.isn + 5 for f in new
                              if f.rcv_nxt is not None), 2.0)
        time.sleep(0.2)
        self.learn()
        for f in new:
            if f.rcv_nxt is None:
                continue
            if f.want == "CLOSE-WAIT":
                self.send_scapy(f, "FA")
                f.snd_nxt += 1
            elif f.want in ("FIN-WAIT-2", "TIME-WAIT") and f.cmd == "clos":
                self.send_scapy(f, "A")
                if f.want == "TIME-WAIT":
                    self.send_scapy(f, "FA")
                    f.snd_nxt += 1
            elif f.cmd == "shut":
                self.send_scapy(f, "A")
            f.state = f.want
        return len(new)

    # --- the fuzz segments ----------------------------------------------

    def near(self, rnd, base):
        k = rnd.randrange(12)
        off = (0, 1, -1, 2, 1000, -1000, 32768, -32768, 65535, -65536,
               1 << 31, None)[k]
        if off is None:
            return rnd.getrandbits(32)
        return (base + off) & 0xffffffff

    def segment(self, rnd, f, flags):
        seq = self.near(rnd, f.snd_nxt)
        ack = self.near(rnd, f.rcv_nxt)
        opts = options(rnd, f)
        opts += b"\x00" * (-len(opts) % 4)
        opts = opts[:40]
        plen = rnd.choice((0, 0, 0, 1, 10, 100, 536, 1400))
        payload = junk(rnd, plen)
        doff = 5 + len(opts) // 4
        k = rnd.randrange(100)
        if k < 2:
            doff = rnd.randrange(0, 5)
        elif k < 4:
            doff = min(15, doff + rnd.randrange(1, 11))
        urg = rnd.getrandbits(16) if flags & 0x20 else 0
        th = struct.pack("!HHIIBBHHH", f.sport, self.args.port, seq, ack,
                         doff << 4, flags, rnd.getrandbits(16), 0, urg)
        seg = th + opts + payload
        ck = csum(self.src + self.dst + struct.pack("!BBH", 0, 6, len(seg)) +
                  seg)
        if rnd.randrange(100) < 3:
            ck ^= 0x1234
        seg = seg[:16] + struct.pack("!H", ck) + seg[18:]
        ip = struct.pack("!BBHHHBBH4s4s", 0x45, 0, 20 + len(seg), 0,
                         0x4000, self.args.ttl, 6, 0, self.src, self.dst)
        return ip + seg

    def live(self):
        """The flows whose handshake got a SYN-ACK: the ones to attack."""
        return [f for f in self.flows.values() if f.rcv_nxt is not None]

    def run(self):
        rnd = self.rnd
        opened = self.open_set()
        order = list(range(256))
        t0 = time.time()
        live = self.live()
        for i in range(self.count):
            if i and i % RESYNC == 0:
                self.learn()
            if i and i % REOPEN == 0:
                opened += self.open_set()
                live = self.live()
            if not live:
                break
            f = live[i % len(live)]
            if i % 256 == 0:
                rnd.shuffle(order)
            pkt = self.segment(rnd, f, order[i % 256])
            self.tx.sendto(pkt, (self.cfg.srv_ip, 0))
            self.sent += 1
        time.sleep(0.5)
        self.learn()
        self.opened = opened
        self.seconds = time.time() - t0

    def totals(self):
        return (self.sent, self.opened, self.replies, self.rsts,
                self.seconds)


def run_job(args, cfg, ifname, job, count, wfd):
    """A child's life: fuzz, then its totals as one line on wfd."""
    c = Client(args, cfg, ifname, job, count)
    try:
        c.run()
    finally:
        c.close()
    os.write(wfd, (" ".join(map(str, c.totals())) + "\n").encode())


def client(args):
    """--jobs senders at once (each a process: the segments' way through
    the kernels runs on the sender's CPU), under one RST filter."""
    global X, IP, TCP
    import xtcplib as X
    from scapy.layers.inet import IP, TCP
    cfg = X.Config()
    ifname = X.find_cli_if(cfg)
    rst = X.RstFilter(cfg, ifname)
    rst.install()
    rfd, wfd = os.pipe()
    pids = []
    try:
        for job in range(args.jobs):
            count = args.count // args.jobs + \
                (args.count % args.jobs if job == 0 else 0)
            pid = os.fork()
            if pid == 0:
                code = 1
                try:
                    os.close(rfd)
                    run_job(args, cfg, ifname, job, count, wfd)
                    code = 0
                finally:
                    os._exit(code)
            pids.append(pid)
        os.close(wfd)
        failed = sum(os.waitpid(p, 0)[1] != 0 for p in pids)
        with os.fdopen(rfd) as r:
            rows = [line.split() for line in r]
    finally:
        rst.remove()
    sums = [sum(float(row[i]) for row in rows) for i in range(4)]
    secs = max((float(row[4]) for row in rows), default=0.0)
    print("fuzz sent=%d flows=%d replies=%d rsts=%d seconds=%.1f jobs=%d" % (
        *sums, secs, args.jobs), flush=True)
    return 1 if failed else 0


def main():
    p = argparse.ArgumentParser()
    sub = p.add_subparsers(dest="mode", required=True)
    s = sub.add_parser("server")
    s.add_argument("--family", type=int, required=True)
    s.add_argument("--addr", required=True)
    s.add_argument("--port", type=int, required=True)
    c = sub.add_parser("client")
    c.add_argument("--port", type=int, required=True)
    c.add_argument("--count", type=int, default=100000)
    c.add_argument("--seed", type=int, default=1)
    c.add_argument("--ttl", type=int, default=77)
    c.add_argument("--jobs", type=int, default=2)
    args = p.parse_args()
    return server(args) if args.mode == "server" else client(args)


if __name__ == "__main__":
    sys.exit(main())
