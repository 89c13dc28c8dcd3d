#!/usr/bin/python3
# SPDX-License-Identifier: GPL-2.0
"""Generic socket options that take an IPPROTO_TCP socket for a tcp_sock.

  tcp_sock_paths.py          (in a fresh network namespace, as root)

Documentation/design.rst ("Generic code that expects a tcp_sock") lists
the kernel paths that read a struct tcp_sock from any socket whose
protocol is TCP; an xtcp_sock is not one.  For those a user can reach,
each case here runs on a stock AF_INET socket and an AF_XTCP socket in
the same run and prints both answers; the expected xtcp answer is stock's
unless the table says otherwise:

- SO_RESERVE_MEM in a non-root memory cgroup: 6.12 dereferenced xtcp's
  missing memory accounting (an oops); xtcp answers EOPNOTSUPP, as stock
  does for a socket without accounting.  A bad value is EINVAL on both.
- SO_TIMESTAMPING with OPT_ID: EINVAL on both for an unbound socket and
  a listener; on a connection stock says 0, xtcp on 6.12 EOPNOTSUPP
  (refused: it would read past the object), on 6.1 0 (still open).

TAP; exit 0, 1, or 4 (AF_XTCP or a memory cgroup unavailable).
"""
import errno
import os
import socket
import subprocess
import sys

SO_RESERVE_MEM = 73
SO_TIMESTAMPING_NEW = 65
SOF_TIMESTAMPING_OPT_ID = 1 << 7
CGROOT = "/sys/fs/cgroup"
CG = CGROOT + "/xtcp-tcp-sock-paths"


def xtcp_family():
    try:
        with open("/sys/module/xtcp/parameters/family") as f:
            return int(f.read())
    except OSError:
        return None


def make(fam):
    raw = socket.socket(fam, socket.SOCK_STREAM, 0)
    return socket.socket(socket.AF_INET, socket.SOCK_STREAM, 0,
                         fileno=raw.detach())


def answer(fn):
    try:
        fn()
        return "0"
    except OSError as e:
        return errno.errorcode.get(e.errno, str(e.errno))


def intval(v):
    return v.to_bytes(4, sys.byteorder, signed=True)


def enter_memcg():
    """Put this process in a child memory cgroup (sk_memcg is set then)."""
    if not os.path.exists(CGROOT + "/cgroup.controllers"):
        subprocess.run(["mount", "-t", "cgroup2", "none", CGROOT],
                       check=False)
    try:
        with open(CGROOT + "/cgroup.controllers") as f:
            if "memory" not in f.read().split():
                return False
        with open(CGROOT + "/cgroup.subtree_control", "w") as f:
            f.write("+memory")
        os.makedirs(CG, exist_ok=True)
        with open(CG + "/cgroup.procs", "w") as f:
            f.write(str(os.getpid()))
        return True
    except OSError:
        return False


def leave_memcg():
    try:
        with open(CGROOT + "/cgroup.procs", "w") as f:
            f.write(str(os.getpid()))
        os.rmdir(CG)
    except OSError:
        pass


def connection(fam, port):
    """(listener, accepted socket, client) over loopback."""
    lst = make(fam)
    lst.bind(("127.0.0.1", port))
    lst.listen(4)
    cli = socket.create_connection(("127.0.0.1", port), timeout=5)
    lst.settimeout(5)
    acc = lst.accept()[0]
    return lst, acc, cli


def cases(fam, port):
    out = {}
    s = make(fam)
    out["reserve_mem 4096, fresh socket"] = answer(
        lambda: s.setsockopt(socket.SOL_SOCKET, SO_RESERVE_MEM, 4096))
    out["reserve_mem -1, fresh socket"] = answer(
        lambda: s.setsockopt(socket.SOL_SOCKET, SO_RESERVE_MEM, intval(-1)))
    out["opt_id, unbound socket"] = answer(
        lambda: s.setsockopt(socket.SOL_SOCKET, SO_TIMESTAMPING_NEW,
                             SOF_TIMESTAMPING_OPT_ID))
    s.close()
    lst, acc, cli = connection(fam, port)
    out["opt_id, listener"] = answer(
        lambda: lst.setsockopt(socket.SOL_SOCKET, SO_TIMESTAMPING_NEW,
                               SOF_TIMESTAMPING_OPT_ID))
    out["opt_id, accepted connection"] = answer(
        lambda: acc.setsockopt(socket.SOL_SOCKET, SO_TIMESTAMPING_NEW,
                               SOF_TIMESTAMPING_OPT_ID))
    for x in (acc, cli, lst):
        x.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER,
                     b"\1\0\0\0\0\0\0\0")
        x.close()
    return out


def expected_xtcp(name, stock):
    """xtcp's documented answer where it differs from stock's."""
    eopnotsupp = errno.errorcode[errno.EOPNOTSUPP]
    if name == "reserve_mem 4096, fresh socket":
        return eopnotsupp
    if name == "opt_id, accepted connection":
        return eopnotsupp if os.uname().release.startswith("6.12") \
            else stock
    return stock


def main():
    xfam = xtcp_family()
    if xfam is None:
        print("1..0 # SKIP xtcp not loaded")
        return 4
    subprocess.run(["ip", "link", "set", "lo", "up"], check=True)
    if not enter_memcg():
        print("1..0 # SKIP no cgroup2 memory controller")
        return 4
    try:
        stock = cases(socket.AF_INET, 7401)
        xtcp = cases(xfam, 7402)
    finally:
        leave_memcg()
    print("TAP version 13")
    print("1..%d" % len(stock))
    fails = 0
    for i, name in enumerate(stock, 1):
        want = expected_xtcp(name, stock[name])
        ok = xtcp[name] == want
        fails += not ok
        print("%sok %d %s # stock %s, xtcp %s (expected %s)" %
              ("" if ok else "not ", i, name, stock[name], xtcp[name], want))
    return 1 if fails else 0


if __name__ == "__main__":
    sys.exit(main())
