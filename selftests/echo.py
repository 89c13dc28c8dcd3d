# SPDX-License-Identifier: GPL-2.0
"""echo.py: many connections echoing random-sized messages, for echo.sh.

  echo.py server --family N --addr A --port P
      An echo server on an AF_XTCP (or AF_INET: --family 2) listener:
      every byte a connection sends comes back on it, in order; a
      connection that ends (EOF) is closed after what it sent went back.
      One thread, selectors (epoll).  Prints "ready" once listening; on
      SIGTERM prints one line "server accepted=N echoed=BYTES errors=N"
      and exits 0.  --pace-every N [--pace-rate B]: every Nth connection
      accepted is paced (SO_MAX_PACING_RATE, B bytes/s, 2 MB/s), so that
      pacing timers run while connections echo, close and the module
      goes.

  echo.py client --addr A --port P --conns N --secs S [--seed N]
                 [--gap S]
      N stock TCP connections at once, each a loop for S seconds: write
      a message of 1 byte to 64 KiB (sizes and contents from a PRNG
      seeded per connection), read the same number of bytes back while
      writing, compare.  Then each closes first, and waits for the
      server's EOF.  Prints "client conns=N connected=N messages=N
      bytes=N corrupt=N errors=N idle=N eof=N min_messages=N" (the
      fewest messages one connection echoed) and exits 0 if every
      connection connected, echoed at least one message, nothing came
      back wrong and every connection saw the server's EOF; else 1.
      SIGTERM ends the run early, as if --secs had passed.  --gap S
      makes each connection wait S seconds between messages (light load
      beside another test).
"""
import argparse
import errno
import random
import selectors
import signal
import socket
import sys
import time

from xtcp_sock import make_socket

SO_MAX_PACING_RATE = getattr(socket, "SO_MAX_PACING_RATE", 47)
MAX_MSG = 64 * 1024
CHUNK = 64 * 1024
# An echo server stops reading a connection that has this much to send
# back, so that a client that does not read cannot grow its buffer.
BACKLOG_BYTES = 256 * 1024


def server(args):
    sel = selectors.DefaultSelector()
    lst = make_socket(args.family)
    lst.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    lst.bind((args.addr, args.port))
    lst.listen(1024)
    lst.setblocking(False)
    sel.register(lst, selectors.EVENT_READ, None)
    stats = {"accepted": 0, "echoed": 0, "errors": 0}
    stop = []
    signal.signal(signal.SIGTERM, lambda *_: stop.append(1))
    print("ready", flush=True)

    def close(conn):
        sel.unregister(conn.sock)
        conn.sock.close()

    class Conn:
        def __init__(self, sock):
            self.sock, self.out, self.eof = sock, bytearray(), False

        def events(self):
            ev = 0
            if not self.eof and len(self.out) < BACKLOG_BYTES:
                ev |= selectors.EVENT_READ
            if self.out:
                ev |= selectors.EVENT_WRITE
            return ev

    while not stop:
        for key, mask in sel.select(0.2):
            if key.data is None:
                try:
                    sock, _ = lst.accept()
                except BlockingIOError:
                    continue
                sock.setblocking(False)
                stats["accepted"] += 1
                if args.pace_every and \
                        stats["accepted"] % args.pace_every == 0:
                    sock.setsockopt(socket.SOL_SOCKET, SO_MAX_PACING_RATE,
                                    args.pace_rate)
                sel.register(sock, selectors.EVENT_READ, Conn(sock))
                continue
            conn = key.data
            try:
                if mask & selectors.EVENT_READ:
                    data = conn.sock.recv(CHUNK)
                    if data:
                        conn.out += data
                    else:
                        conn.eof = True
                if mask & selectors.EVENT_WRITE and conn.out:
                    n = conn.sock.send(conn.out)
                    stats["echoed"] += n
                    del conn.out[:n]
            except BlockingIOError:
                pass
            except OSError:
                stats["errors"] += 1
                close(conn)
                continue
            if conn.eof and not conn.out:
                close(conn)
            elif conn.events() != key.events:
                sel.modify(conn.sock, conn.events(), conn)
    print("server " + " ".join("%s=%d" % kv for kv in stats.items()),
          flush=True)
    return 0


class Client:
    """One connection's message loop."""

    def __init__(self, n, args, sel, stats):
        self.rng = random.Random(args.seed * 100003 + n)
        self.sel, self.stats = sel, stats
        self.sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        self.sock.setblocking(False)
        self.connected, self.closing, self.done = False, False, False
        self.msg = self.out = b""
        self.got = bytearray()
        self.count = 0
        self.gap, self.resume = args.gap, 0.0
        err = self.sock.connect_ex((args.addr, args.port))
        if err not in (0, errno.EINPROGRESS):
            raise OSError(err, "connect")
        sel.register(self.sock, selectors.EVENT_WRITE, self)

    def next_message(self):
        size = self.rng.randint(1, MAX_MSG)
        self.msg = self.out = self.rng.randbytes(size)
        self.got = bytearray()

    def events(self):
        if self.closing:
            return selectors.EVENT_READ
        return selectors.EVENT_READ | (selectors.EVENT_WRITE
                                       if self.out else 0)

    def finish(self):
        """Close first: shutdown(SHUT_WR), then wait for the server's
        EOF."""
        self.closing = True
        self.sock.shutdown(socket.SHUT_WR)

    def step(self, mask, deadline):
        if not self.connected:
            err = self.sock.getsockopt(socket.SOL_SOCKET, socket.SO_ERROR)
            if err:
                raise OSError(err, "connect")
            self.connected = True
            self.stats["connected"] += 1
            self.next_message()
        if mask & selectors.EVENT_WRITE and self.out:
            n = self.sock.send(self.out)
            self.out = self.out[n:]
        if mask & selectors.EVENT_READ:
            data = self.sock.recv(CHUNK)
            if not data:
                if not self.closing:
                    raise OSError(errno.ECONNRESET, "early EOF")
                self.stats["eof"] += 1
                self.done = True
                return
            if self.closing:
                raise OSError(errno.EPROTO, "data after the last message")
            self.got += data
            if len(self.got) > len(self.msg):
                self.stats["corrupt"] += 1
                raise OSError(errno.EPROTO, "more than was sent")
            if len(self.got) == len(self.msg):
                self.stats["messages"] += 1
                self.count += 1
                self.stats["bytes"] += len(self.msg)
                if self.got != self.msg:
                    self.stats["corrupt"] += 1
                if time.monotonic() >= deadline:
                    self.finish()
                elif self.gap:
                    self.msg = self.out = b""
                    self.resume = time.monotonic() + self.gap
                else:
                    self.next_message()

    def wake(self, deadline):
        """After --gap: the next message, or the close at the deadline."""
        if not self.resume or time.monotonic() < self.resume:
            return False
        self.resume = 0.0
        if time.monotonic() >= deadline:
            self.finish()
        else:
            self.next_message()
        return True


def client(args):
    sel = selectors.DefaultSelector()
    stats = dict.fromkeys(("conns", "connected", "messages", "bytes",
                           "corrupt", "errors", "idle", "eof",
                           "min_messages"), 0)
    clients = [Client(i, args, sel, stats) for i in range(args.conns)]
    stats["conns"] = len(clients)
    deadline = time.monotonic() + args.secs
    # Each connection finishes its message in flight at the deadline.
    hard = deadline + 60
    live = set(clients)
    stop = []
    signal.signal(signal.SIGTERM, lambda *_: stop.append(1))
    while live and time.monotonic() < hard:
        if stop and deadline > time.monotonic():
            deadline = time.monotonic()
            hard = deadline + 60
        for c in list(live):
            if c.wake(deadline):
                sel.modify(c.sock, c.events(), c)
        for key, mask in sel.select(min(1.0, args.gap) if args.gap else 1.0):
            c = key.data
            try:
                c.step(mask, deadline)
            except BlockingIOError:
                pass
            except OSError as e:
                stats["errors"] += 1
                print("client: connection %d: %s" % (clients.index(c), e),
                      file=sys.stderr)
                c.done = True
            if c.done:
                sel.unregister(c.sock)
                c.sock.close()
                live.discard(c)
            elif c.events() != key.events:
                sel.modify(c.sock, c.events(), c)
    stats["idle"] = sum(1 for c in clients if c.connected and
                        not c.done and not c.closing)
    stats["errors"] += len(live)
    stats["min_messages"] = min(c.count for c in clients)
    print("client " + " ".join("%s=%d" % kv for kv in stats.items()),
          flush=True)
    ok = (stats["connected"] == args.conns and stats["corrupt"] == 0 and
          stats["errors"] == 0 and stats["eof"] == args.conns and
          stats["min_messages"] >= 1)
    return 0 if ok else 1


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("role", choices=("server", "client"))
    ap.add_argument("--family", type=int, default=socket.AF_INET)
    ap.add_argument("--addr", required=True)
    ap.add_argument("--port", type=int, required=True)
    ap.add_argument("--conns", type=int, default=200)
    ap.add_argument("--secs", type=float, default=30)
    ap.add_argument("--seed", type=int, default=1)
    ap.add_argument("--gap", type=float, default=0)
    ap.add_argument("--pace-every", type=int, default=0)
    ap.add_argument("--pace-rate", type=int, default=2000000)
    args = ap.parse_args()
    return server(args) if args.role == "server" else client(args)


if __name__ == "__main__":
    sys.exit(main())
