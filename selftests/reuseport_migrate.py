#!/usr/bin/python3
# SPDX-License-Identifier: GPL-2.0
"""Reuseport migration of a closing listener's connections, stock vs xtcp.

  reuseport_migrate.py SRV_NS CLI_NS SRV_IP

An SO_REUSEPORT listener A, N stock clients that complete their
handshakes (none accepted), a second listener B joining A's group, then
A closes; B accepts what it can and each client learns whether it was
reset.  The counts (accepted by B, reset, migrated and failed:
TCPMigrateReqSuccess and TCPMigrateReqFailure in TcpExt for stock, in
/proc/net/xtcp_stat for xtcp) must be stock's, and stock's must be
(N, 0, N, 0) with migration on and (0, N, 0, 0) with it off.  For each setting M of stock's net.ipv4.tcp_migrate_req, xtcp runs
twice: with its twin net.xtcp.migrate_req at M and stock's at M, then
with stock's at the other value, which must change nothing for xtcp
(the kernel's reuseport layer reads stock's knob itself), and stock's
TCPMigrateReqSuccess must not move in xtcp's runs.  One TAP line per
run.  Exit 0, 1, or 4 (AF_XTCP unavailable).
"""
import os
import select
import socket
import subprocess
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from xtcp_sock import enter_netns as enter  # noqa: E402
from xtcp_sock import make_socket, proc_counter as counter  # noqa: E402
from xtcp_sock import xtcp_family  # noqa: E402

N = 12


def migrations(srv_ns):
    """TCPMigrateReqSuccess and TCPMigrateReqFailure of stock and of xtcp
    in srv_ns: ((stock's), (xtcp's))."""
    enter(srv_ns)
    return tuple((counter(path, table, "TCPMigrateReqSuccess"),
                  counter(path, table, "TCPMigrateReqFailure"))
                 for path, table in (("/proc/net/netstat", "TcpExt"),
                                     ("/proc/net/xtcp_stat", "Xtcp")))


def sysctl(srv_ns, name, value):
    subprocess.run(["ip", "netns", "exec", srv_ns, "sysctl", "-qw",
                    "%s=%d" % (name, value)], check=True)


def listener(fam, ip, port):
    s = make_socket(fam)
    s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEPORT, 1)
    s.bind((ip, port))
    s.listen(64)
    return s


def abort(s):
    s.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, b"\1\0\0\0\0\0\0\0")
    s.close()


def run(fam, stock_knob, xtcp_knob, srv_ns, cli_ns, ip, port):
    """(accepted by B, reset, migrated, failed to migrate, migrated by
    the other stack)."""
    sysctl(srv_ns, "net.ipv4.tcp_migrate_req", stock_knob)
    sysctl(srv_ns, "net.xtcp.migrate_req", xtcp_knob)
    before = migrations(srv_ns)
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
    after = migrations(srv_ns)
    own = int(fam != socket.AF_INET)
    return (len(accepted), reset, after[own][0] - before[own][0],
            after[own][1] - before[own][1],
            after[1 - own][0] - before[1 - own][0])


def main():
    srv_ns, cli_ns, ip = sys.argv[1:4]
    xfam = xtcp_family()
    if xfam is None:
        print("1..0 # SKIP xtcp not loaded")
        return 4
    print("TAP version 13")
    print("1..4")
    fails, num, port = 0, 0, 7300
    for migrate in (0, 1):
        port += 1
        stock = run(socket.AF_INET, migrate, migrate, srv_ns, cli_ns, ip,
                    port)
        want = (N, 0, N, 0, 0) if migrate else (0, N, 0, 0, 0)
        for other in (migrate, 1 - migrate):
            port += 1
            xtcp = run(xfam, other, migrate, srv_ns, cli_ns, ip, port)
            ok = stock == xtcp == want
            num += 1
            print("# (accepted by B, reset, migrated, failed, migrated by "
                  "the other stack): stock %s, xtcp %s" % (stock, xtcp))
            print("%sok %d net.xtcp.migrate_req=%d with "
                  "net.ipv4.tcp_migrate_req=%d as stock with %d: %d "
                  "connections, listener A closes"
                  % ("" if ok else "not ", num, migrate, other, migrate, N))
            fails += not ok
    return 1 if fails else 0


if __name__ == "__main__":
    sys.exit(main())
