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
  missing memory accounting (an oops).  xtcp has its own pool now
  (mod/mem.c): a fresh socket answers 0 as stock's, reads the value
  back, and the protocol's pool in /proc/net/protocols holds the 1024
  pages of a 4 MiB reservation until close, as stock's does.  An
  accepted xtcp connection has no memory cgroup (the kernel does not
  export what inet_csk_accept() uses to give it one), so it answers
  EOPNOTSUPP where stock answers 0.  A bad value is EINVAL on both.
- SO_TIMESTAMPING with OPT_ID: EINVAL on both for an unbound socket and
  a listener, 0 on a connection (it reads tcp_sk(sk)->snd_una, which an
  xtcp_sock now carries).
- The sock_diag destroy broadcast: any user may subscribe to
  SKNLGRP_INET_TCP_DESTROY (this one does as uid 65534), and each TCP
  socket freed in the namespace is reported with tcp_get_info() read
  from it.  The accepted connection's report must agree with stock's
  field by field (state, options, window scales, MSS, cwnd, queues, ...):
  before xtcp_sock carried a struct tcp_sock, these were read from past
  the end of the object.

TAP; exit 0, 1, or 4 (AF_XTCP or a memory cgroup unavailable).
"""
import errno
import os
import select
import socket
import struct
import subprocess
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from xtcp_sock import enter_cgroup, leave_cgroup, make_socket, \
    xtcp_family  # noqa: E402

SO_RESERVE_MEM = 73
SO_TIMESTAMPING_NEW = 65
SOF_TIMESTAMPING_OPT_ID = 1 << 7
NETLINK_SOCK_DIAG = 4
SKNLGRP_INET_TCP_DESTROY = 1
INET_DIAG_INFO = 2
NOBODY = 65534
CG = "xtcp-tcp-sock-paths"


def answer(fn):
    try:
        fn()
        return "0"
    except OSError as e:
        return errno.errorcode.get(e.errno, str(e.errno))


def intval(v):
    return v.to_bytes(4, sys.byteorder, signed=True)


def pool_pages(fam):
    """The memory column of fam's protocol in /proc/net/protocols: pages
    its pool holds (tcp_memory_allocated for TCP, xtcp's own for XTCP)."""
    name = "TCP" if fam == socket.AF_INET else "XTCP"
    with open("/proc/net/protocols") as f:
        for line in f:
            cols = line.split()
            if cols and cols[0] == name:
                return int(cols[3])
    return None


RESERVE = 4 << 20       # 1024 pages: each change reaches the shared count


def pcpu_rsv():
    """net.core.mem_pcpu_rsv: pages each CPU caches in front of a
    protocol's shared count (SK_MEMORY_PCPU_RESERVE, 256 by default)."""
    try:
        with open("/proc/sys/net/core/mem_pcpu_rsv") as f:
            return int(f.read())
    except OSError:
        return 256


def reserve_cases(fam, out):
    """SO_RESERVE_MEM of 4 MiB on a fresh socket: the answer, the value
    read back, and what the protocol's pool shows before and after."""
    s = make_socket(fam)
    out["reserve_mem 4096, fresh socket"] = answer(
        lambda: s.setsockopt(socket.SOL_SOCKET, SO_RESERVE_MEM, 4096))
    out["reserve_mem -1, fresh socket"] = answer(
        lambda: s.setsockopt(socket.SOL_SOCKET, SO_RESERVE_MEM, intval(-1)))
    before = pool_pages(fam)
    out["reserve_mem 4 MiB, fresh socket"] = answer(
        lambda: s.setsockopt(socket.SOL_SOCKET, SO_RESERVE_MEM, RESERVE))
    held = pool_pages(fam)
    out["reserve_mem 4 MiB: getsockopt"] = str(
        s.getsockopt(socket.SOL_SOCKET, SO_RESERVE_MEM))
    s.close()
    time.sleep(0.1)
    after = pool_pages(fam)
    # Each CPU caches between -rsv and +rsv pages in front of the shared
    # count (sk_memory_allocated_add/sub); a change of 1024 pages flushes
    # that CPU's cache with it, so each step moves the count by 1024 give
    # or take less than rsv, in either direction.
    rsv = pcpu_rsv()
    pages = RESERVE // 4096
    if before is None:
        held_s = after_s = "no pool"
    else:
        held_s = "yes" if abs(held - before - pages) < rsv \
            else "no (%d)" % (held - before)
        after_s = "yes" if abs(after - held + pages) < rsv \
            else "no (%d)" % (after - held)
        print("# %s pool: %d pages, %d with 4 MiB reserved, %d after close"
              % ("TCP" if fam == socket.AF_INET else "XTCP", before, held,
                 after), file=sys.stderr)
    out["reserve_mem 4 MiB: the pool holds 1024 pages"] = held_s
    out["reserve_mem 4 MiB: close gives them back"] = after_s


def connection(fam, port):
    """(listener, accepted socket, client) over loopback."""
    lst = make_socket(fam)
    lst.bind(("127.0.0.1", port))
    lst.listen(4)
    cli = socket.create_connection(("127.0.0.1", port), timeout=5)
    lst.settimeout(5)
    acc = lst.accept()[0]
    return lst, acc, cli


def destroy_listener():
    """A NETLINK_SOCK_DIAG socket subscribed, unprivileged, to TCP destroys."""
    nl = socket.socket(socket.AF_NETLINK, socket.SOCK_RAW, NETLINK_SOCK_DIAG)
    os.setresuid(NOBODY, NOBODY, 0)
    try:
        nl.bind((0, 1 << (SKNLGRP_INET_TCP_DESTROY - 1)))
    finally:
        os.setresuid(0, 0, 0)
    return nl


# (name, struct format, offset) in struct tcp_info; the window scales
# share a byte.
TCPI = (("state", "B", 0), ("options", "B", 5), ("wscales", "B", 6),
        ("snd_mss", "I", 16), ("unacked", "I", 24), ("retrans", "I", 36),
        ("rcv_ssthresh", "I", 64), ("snd_ssthresh", "I", 76),
        ("snd_cwnd", "I", 80), ("advmss", "I", 84),
        ("total_retrans", "I", 100), ("bytes_acked", "Q", 120),
        ("bytes_received", "Q", 128))


def destroy_report(nl, port):
    """The destroy report of the accepted socket on PORT, as a dict."""
    got = None
    while select.select([nl], [], [], 2)[0]:
        buf = nl.recv(65536)
        off = 0
        while off + 16 <= len(buf):
            mlen = struct.unpack_from("=I", buf, off)[0]
            msg = buf[off + 16:off + mlen]
            off += (mlen + 3) & ~3
            if len(msg) < 72:
                continue
            state = msg[1]
            # The accepted socket: our port, a peer address (its dport
            # is 0 after a SO_LINGER {1, 0} close, which disconnects).
            sport = struct.unpack_from(">H", msg, 4)[0]
            if sport != port or msg[24:28] == bytes(4):
                continue
            rep = {"idiag_state": state,
                   "rqueue": struct.unpack_from("=I", msg, 56)[0],
                   "wqueue": struct.unpack_from("=I", msg, 60)[0]}
            a = 72
            while a + 4 <= len(msg):
                alen, atype = struct.unpack_from("=HH", msg, a)
                if alen < 4:
                    break
                if atype == INET_DIAG_INFO:
                    info = msg[a + 4:a + alen]
                    for name, fmt, o in TCPI:
                        rep[name] = struct.unpack_from("=" + fmt, info, o)[0]
                a += (alen + 3) & ~3
            got = rep
        if got:
            break
    return got


def cases(fam, port):
    out = {}
    reserve_cases(fam, out)
    s = make_socket(fam)
    out["opt_id, unbound socket"] = answer(
        lambda: s.setsockopt(socket.SOL_SOCKET, SO_TIMESTAMPING_NEW,
                             SOF_TIMESTAMPING_OPT_ID))
    s.close()
    nl = destroy_listener()
    lst, acc, cli = connection(fam, port)
    out["opt_id, listener"] = answer(
        lambda: lst.setsockopt(socket.SOL_SOCKET, SO_TIMESTAMPING_NEW,
                               SOF_TIMESTAMPING_OPT_ID))
    out["opt_id, accepted connection"] = answer(
        lambda: acc.setsockopt(socket.SOL_SOCKET, SO_TIMESTAMPING_NEW,
                               SOF_TIMESTAMPING_OPT_ID))
    out["reserve_mem 4096, accepted connection"] = answer(
        lambda: acc.setsockopt(socket.SOL_SOCKET, SO_RESERVE_MEM, 4096))
    # The client resets the connection; the accepted socket, closed by
    # the RST, is then closed by its user without a disconnect (a
    # SO_LINGER {1, 0} close would run stock's tcp_disconnect(), which
    # clears what the report shows, and xtcp has no FIN to send yet).
    cli.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, b"\1\0\0\0\0\0\0\0")
    cli.close()
    time.sleep(0.3)
    acc.close()
    lst.close()
    rep = destroy_report(nl, port)
    nl.close()
    if rep is None:
        out["destroy broadcast of the accepted socket"] = "none"
    else:
        for name, val in rep.items():
            out["destroy broadcast: " + name] = str(val)
    return out


def expected_xtcp(name, stock):
    """xtcp's documented answer where it differs from stock's."""
    eopnotsupp = errno.errorcode[errno.EOPNOTSUPP]
    if name == "reserve_mem 4096, accepted connection":
        return eopnotsupp
    return stock


def main():
    xfam = xtcp_family()
    if xfam is None:
        print("1..0 # SKIP xtcp not loaded")
        return 4
    subprocess.run(["ip", "link", "set", "lo", "up"], check=True)
    # A child memory cgroup: sk_memcg is set then (SO_RESERVE_MEM).
    cg = enter_cgroup(CG, "memory")
    if cg is None:
        print("1..0 # SKIP no cgroup2 memory controller")
        return 4
    try:
        stock = cases(socket.AF_INET, 7401)
        xtcp = cases(xfam, 7402)
    finally:
        leave_cgroup(cg)
    print("TAP version 13")
    print("1..%d" % len(stock))
    fails = 0
    for i, name in enumerate(stock, 1):
        want = expected_xtcp(name, stock[name])
        got = xtcp.get(name, "missing")
        # A report stock did not send proves nothing: inet_diag absent?
        ok = got == want and stock[name] != "none"
        fails += not ok
        print("%sok %d %s # stock %s, xtcp %s (expected %s)" %
              ("" if ok else "not ", i, name, stock[name], got, want))
    return 1 if fails else 0


if __name__ == "__main__":
    sys.exit(main())
