# SPDX-License-Identifier: GPL-2.0
"""pacing.sh's two ends: one paced download, timed by its receiver.

  pacing.py serve FAMILY PORT RATE NBYTES   (in xsrv; FAMILY inet|xtcp)
      accept one connection, set SO_MAX_PACING_RATE to RATE bytes/s on
      it (0: leave it unpaced), write NBYTES, then print one JSON line:
      TCP_INFO's pacing_rate, max_pacing_rate and total_retrans read
      before the close
  pacing.py fetch IP PORT                   (in xcli)
      read to EOF; print one JSON line: bytes, and seconds from the
      first byte to the last (the receiver's view of the sender's pace)
"""
import json
import socket
import struct
import sys
import time

from xtcp_sock import make_socket, xtcp_family

SO_MAX_PACING_RATE = getattr(socket, "SO_MAX_PACING_RATE", 47)
TCP_INFO = getattr(socket, "TCP_INFO", 11)
# struct tcp_info up to tcpi_max_pacing_rate: 8 u8, 24 u32, 2 u64.
INFO_FMT = "=8B24I2Q"


def serve(family, port, rate, nbytes):
    fam = socket.AF_INET if family == "inet" else xtcp_family()
    if fam is None:
        print(json.dumps({"error": "xtcp not loaded"}), flush=True)
        return 1
    lst = make_socket(fam)
    lst.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    lst.bind(("0.0.0.0", port))
    lst.listen(8)
    print("ready", flush=True)
    lst.settimeout(30)
    conn, _ = lst.accept()
    if rate:
        conn.setsockopt(socket.SOL_SOCKET, SO_MAX_PACING_RATE, rate)
    chunk = b"p" * 65536
    left = nbytes
    while left > 0:
        left -= conn.send(chunk[:min(left, len(chunk))])
    raw = conn.getsockopt(socket.IPPROTO_TCP, TCP_INFO,
                          struct.calcsize(INFO_FMT))
    sndbuf = conn.getsockopt(socket.SOL_SOCKET, socket.SO_SNDBUF)
    vals = struct.unpack(INFO_FMT, raw)
    conn.shutdown(socket.SHUT_WR)
    conn.settimeout(30)
    conn.recv(1)
    conn.close()
    lst.close()
    print(json.dumps({"pacing_rate": vals[32], "max_pacing_rate": vals[33],
                      "total_retrans": vals[31], "sndbuf": sndbuf}),
          flush=True)
    return 0


def fetch(ip, port):
    s = socket.create_connection((ip, port), timeout=30)
    n, first, last = 0, None, None
    while True:
        b = s.recv(262144)
        if not b:
            break
        last = time.monotonic()
        if first is None:
            first = last
        n += len(b)
    s.close()
    secs = (last - first) if first is not None else 0.0
    print(json.dumps({"bytes": n, "seconds": secs}), flush=True)
    return 0


def main(argv):
    if len(argv) == 6 and argv[1] == "serve":
        return serve(argv[2], int(argv[3]), int(argv[4]), int(argv[5]))
    if len(argv) == 4 and argv[1] == "fetch":
        return fetch(argv[2], int(argv[3]))
    print(__doc__, file=sys.stderr)
    return 2


if __name__ == "__main__":
    sys.exit(main(sys.argv))
