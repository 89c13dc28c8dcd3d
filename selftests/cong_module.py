# SPDX-License-Identifier: GPL-2.0
"""The socket side of cong_module.sh: TCP_CONGESTION on a socket of
either stack, and a connection whose algorithm is a module.

  cong_module.py set NAME FAMILY...
      for each FAMILY (2 for stock, xtcp's number) a new socket chooses
      NAME: prints a line "ok <name read back>" or the errno's name
  cong_module.py sysctl VALUE FILE...
      writes VALUE to each sysctl FILE: prints a line "ok <read back>" or
      the errno's name
  cong_module.py serve FAMILY NAME PORT BYTES
      a listener on 198.18.0.1:PORT that chose NAME accepts one client,
      closes itself (only the connection holds the algorithm then),
      prints "child <the connection's algorithm>", receives BYTES and
      checks them, sends BYTES, prints "held" and waits for the client's
      FIN, then closes
  cong_module.py client PORT BYTES RELEASE
      a stock client of 198.18.0.1:PORT: sends BYTES, receives and checks
      BYTES, prints "ok", waits until file RELEASE exists, closes first

The bytes are pseudo-random, seeded per direction, so both ends know
what must arrive.
"""
import errno
import os
import random
import socket
import sys
import time

from xtcp_sock import make_socket

SRV = "198.18.0.1"
UP, DOWN = 1, 2


def payload(seed, size):
    """`size` pseudo-random bytes of direction `seed`."""
    return random.Random(seed).randbytes(size)


def ca_name(s):
    """The socket's TCP_CONGESTION."""
    raw = s.getsockopt(socket.SOL_TCP, socket.TCP_CONGESTION, 16)
    return raw.split(b"\0")[0].decode()


def recv_exact(s, size):
    buf = bytearray()
    while len(buf) < size:
        chunk = s.recv(min(65536, size - len(buf)))
        if not chunk:
            break
        buf += chunk
    return bytes(buf)


def cmd_set(name, *families):
    for family in families:
        s = make_socket(int(family))
        try:
            s.setsockopt(socket.SOL_TCP, socket.TCP_CONGESTION, name.encode())
            print("ok", ca_name(s))
        except OSError as e:
            print(errno.errorcode[e.errno])
        s.close()


def cmd_sysctl(value, *files):
    for path in files:
        try:
            with open(path, "w") as f:
                f.write(value + "\n")
            with open(path) as f:
                print("ok", f.read().strip())
        except OSError as e:
            print(errno.errorcode[e.errno])


def cmd_serve(family, name, port, size):
    size = int(size)
    ls = make_socket(int(family))
    ls.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    ls.setsockopt(socket.SOL_TCP, socket.TCP_CONGESTION, name.encode())
    ls.bind((SRV, int(port)))
    ls.listen(1)
    print("ready", flush=True)
    c, _ = ls.accept()
    ls.close()
    print("child", ca_name(c), flush=True)
    got = recv_exact(c, size)
    print("received", "intact" if got == payload(UP, size) else
          f"corrupt ({len(got)} bytes)", flush=True)
    c.sendall(payload(DOWN, size))
    print("held", flush=True)
    rest = c.recv(1)
    c.close()
    print("closed", "eof" if not rest else "extra data", flush=True)


def cmd_client(port, size, release):
    size = int(size)
    c = socket.create_connection((SRV, int(port)), timeout=30)
    c.sendall(payload(UP, size))
    got = recv_exact(c, size)
    print("ok" if got == payload(DOWN, size) else
          f"corrupt ({len(got)} bytes)", flush=True)
    for _ in range(600):
        if os.path.exists(release):
            break
        time.sleep(0.05)
    c.close()


def main():
    cmds = {"set": cmd_set, "sysctl": cmd_sysctl, "serve": cmd_serve,
            "client": cmd_client}
    cmds[sys.argv[1]](*sys.argv[2:])


if __name__ == "__main__":
    main()
