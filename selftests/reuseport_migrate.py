#!/usr/bin/python3
# SPDX-License-Identifier: GPL-2.0
"""Reuseport migration of a closing listener's connections, stock vs xtcp.

  reuseport_migrate.py SRV_NS CLI_NS SRV_IP

For AF_INET and then AF_XTCP, with net.ipv4.tcp_migrate_req 0 and 1 in
the server namespace: an SO_REUSEPORT listener A, N stock clients that
complete their handshakes (none accepted), a second listener B joining
A's group, then A closes; B accepts what it can and each client learns
whether it was reset.  The counts (accepted by B, reset, migrated:
TcpExt TCPMigrateReqSuccess for stock, the same name in
/proc/net/xtcp_stat for xtcp) must be stock's, and stock's must be
(N, 0, N) with migration on and (0, N, 0) with it off.  One TAP line per setting.  Exit 0, 1, or 4
(AF_XTCP unavailable).
"""
import ctypes
import os
import select
import socket
import subprocess
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from xtcp_sock import make_socket, xtcp_family  # noqa: E402

N = 12
CLONE_NEWNET = 0x40000000
LIBC = ctypes.CDLL(None, use_errno=True)


def enter(ns):
    """Move this thread into network namespace ns."""
    fd = os.open("/run/netns/" + ns, os.O_RDONLY)
    try:
        if LIBC.setns(fd, CLONE_NEWNET) != 0:
            raise OSError(ctypes.get_errno(), "setns " + ns)
    finally:
        os.close(fd)


def counter(path, table, name):
    with open(path) as f:
        rows = [l.split() for l in f if l.startswith(table + ":")]
    for head, vals in zip(rows[0::2], rows[1::2]):
        if name in head:
            return int(vals[head.index(name)])
    return 0


def migrations(fam, srv_ns):
    enter(srv_ns)
    if fam == socket.AF_INET:
        return counter("/proc/net/netstat", "TcpExt", "TCPMigrateReqSuccess")
    return counter("/proc/net/xtcp_stat", "Xtcp", "TCPMigrateReqSuccess")


def listener(fam, ip, port):
    s = make_socket(fam)
    s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEPORT, 1)
    s.bind((ip, port))
    s.listen(64)
    return s


def abort(s):
    s.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, b"\1\0\0\0\0\0\0\0")
    s.close()


def run(fam, migrate, srv_ns, cli_ns, ip, port):
    subprocess.run(["ip", "netns", "exec", srv_ns, "sysctl", "-qw",
                    "net.ipv4.tcp_migrate_req=%d" % migrate], check=True)
    before = migrations(fam, srv_ns)
    a = listener(fam, ip, port)
    enter(cli_ns)
    clients = []
    for _ in range(N):
        c = socket.create_connection((ip, port), timeout=5)
        c.setblocking(False)
        clients.append(c)
    # Every child is queued on A, the group's only member so far; then
    # B joins the group and A closes.
    time.sleep(0.5)
    enter(srv_ns)
    b = listener(fam, ip, port)
    a.close()
    b.setblocking(False)
    accepted, deadline = [], time.time() + 3
    while time.time() < deadline and len(accepted) < N:
        select.select([b], [], [], 0.2)
        try:
            accepted.append(b.accept()[0])
        except BlockingIOError:
            pass
    time.sleep(0.5)
    reset = 0
    for c in clients:
        try:
            c.recv(1)
        except ConnectionResetError:
            reset += 1
        except BlockingIOError:
            pass
    for s in accepted + clients:
        abort(s)
    b.close()
    moved = migrations(fam, srv_ns) - before
    return len(accepted), reset, moved


def main():
    srv_ns, cli_ns, ip = sys.argv[1:4]
    xfam = xtcp_family()
    if xfam is None:
        print("1..0 # SKIP xtcp not loaded")
        return 4
    print("TAP version 13")
    print("1..2")
    fails = 0
    for i, migrate in enumerate((0, 1), 1):
        stock = run(socket.AF_INET, migrate, srv_ns, cli_ns, ip, 7301 + i)
        xtcp = run(xfam, migrate, srv_ns, cli_ns, ip, 7311 + i)
        want = (N, 0, N) if migrate else (0, N, 0)
        ok = stock == xtcp == want
        print("# migrate_req=%d: (accepted by B, reset, migrated): "
              "stock %s, xtcp %s" % (migrate, stock, xtcp))
        print("%sok %d tcp_migrate_req=%d: %d connections, listener A "
              "closes" % ("" if ok else "not ", i, migrate, N))
        fails += not ok
    return 1 if fails else 0


if __name__ == "__main__":
    sys.exit(main())
