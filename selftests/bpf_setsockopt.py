#!/usr/bin/python3
# SPDX-License-Identifier: GPL-2.0
"""bpf_setsockopt(SOL_TCP) from a cgroup/setsockopt program on xtcp.

  bpf_setsockopt.py          (in a fresh network namespace, as root)

A BPF_CGROUP_SETSOCKOPT program may call the bpf_setsockopt() helper on
the socket whose setsockopt() it intercepts; the helper's SOL_TCP options
take any IPPROTO_TCP socket for a struct tcp_sock.  An xtcp socket is one
to generic code (Documentation/design.rst, "Generic code that expects a
tcp_sock"): on 6.12, before struct xtcp_sock began with a struct
tcp_sock, these options wrote past the object, and TCP_CONGESTION called
through xtcp's NULL icsk_ca_ops (an oops).

The program, loaded with the raw bpf(2) syscall (no libbpf, no compiler)
and attached to a child cgroup this process moves into, acts when the
user sets SOL_SOCKET/SO_PRIORITY: it calls bpf_setsockopt(SOL_TCP) on the
socket with each option of OPTS and stores the helper's return values in
an array map.  It runs on a stock AF_INET and an AF_XTCP accepted socket,
each with SO_KEEPALIVE set, over loopback; the expected answers:

- stock: 0 for every option (a test whose stock answers do not come back
  proves nothing, and fails);
- xtcp on 6.12: stock's, except TCP_CONGESTION: EPERM (xtcp_init_sock()
  sets icsk_ca_dst_locked, tcp_set_congestion_control() refuses);
- xtcp on 6.1: EINVAL for every option: 6.1's sol_tcp_sockopt() takes
  only sockets whose sk_prot->setsockopt is tcp_setsockopt.

Before the trigger the accepted socket holds 100 bytes unsent
(TCP_CORK).  The program's TCP_NODELAY makes stock's
tcp_push_pending_frames() send what sk_write_queue holds: stock's
client gets the 100 bytes at once (within 150 ms, before the probe
timer's 200 ms could send them).  On 6.12 xtcp keeps unsent data off
sk_write_queue (mod/compat.h, xtcp_compat_write_queue), so stock's code
finds nothing to send and never reaches tcp_write_xmit() with xtcp's
NULL icsk_af_ops (an oops before); xtcp's data leaves at the user's
own uncork, intact.

TCP_KEEPIDLE 1 arms xtcp's keepalive timer on 6.12
(inet_csk_reset_keepalive_timer(): icsk_keepalive_timer in the Debian
kernels, not sk_timer; mod/timer.c); the test waits for it to fire
before closing (the guest harness fails on any WARN or oops: a handler
that takes the timer for another field drops a reference the socket
does not hold).

TAP; exit 0, 1, or 4 (AF_XTCP, cgroup2 or bpf(2) unavailable).
"""
import ctypes
import errno
import os
import socket
import struct
import subprocess
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from xtcp_sock import enter_cgroup, leave_cgroup, make_socket, \
    xtcp_family  # noqa: E402

CG = "xtcp-bpf-setsockopt"

# include/uapi/linux/bpf.h (the same numbers on 6.1 and 6.12)
NR_BPF = 321                    # x86_64
BPF_MAP_CREATE = 0
BPF_MAP_LOOKUP_ELEM = 1
BPF_MAP_UPDATE_ELEM = 2
BPF_PROG_LOAD = 5
BPF_PROG_ATTACH = 8
BPF_PROG_DETACH = 9
BPF_MAP_TYPE_ARRAY = 2
BPF_PROG_TYPE_CGROUP_SOCKOPT = 25
BPF_CGROUP_SETSOCKOPT = 22
BPF_PSEUDO_MAP_VALUE = 2
BPF_FUNC_setsockopt = 49
ATTR_SIZE = 144                 # sizeof(union bpf_attr) on 6.1; 6.12: 152
# struct bpf_sockopt: sk at 0, optval 8, optval_end 16, level 24, optname 28
CTX_SK = 0
CTX_LEVEL = 24
CTX_OPTNAME = 28

SOL_TCP = 6
TCP_NODELAY = 1
TCP_CORK = 3
HELD = (b"corked, unsent at the trigger. " * 4)[:100]
TCP_MAXSEG = 2
TCP_KEEPIDLE = 4
TCP_WINDOW_CLAMP = 10
TCP_CONGESTION = 13
SO_PRIORITY = 12                # the trigger; SOL_SOCKET is 1

# (name, optname, value as the low 32 bits of a u64 store, optlen)
OPTS = (("TCP_CONGESTION reno", TCP_CONGESTION,
         int.from_bytes(b"reno", "little"), 5),    # "reno\0\0\0\0"
        ("TCP_KEEPIDLE 1", TCP_KEEPIDLE, 1, 4),
        ("TCP_WINDOW_CLAMP 8192", TCP_WINDOW_CLAMP, 8192, 4),
        ("TCP_NODELAY 1", TCP_NODELAY, 1, 4),
        ("TCP_MAXSEG 1000", TCP_MAXSEG, 1000, 4))
# Map value: u64 slot 0 counts the program's runs, slot 1 + i holds the
# return of OPTS[i]; NOT_RUN marks a slot the program never wrote.
SLOTS = 1 + len(OPTS)
NOT_RUN = -(1 << 63)

libc = ctypes.CDLL(None, use_errno=True)
libc.syscall.restype = ctypes.c_long


def bpf(cmd, attr):
    """bpf(2) with ATTR (a ctypes buffer); the result, or OSError."""
    ret = libc.syscall(NR_BPF, cmd, attr, ATTR_SIZE)
    if ret < 0:
        err = ctypes.get_errno()
        raise OSError(err, os.strerror(err))
    return ret


def attr(fmt, *vals):
    buf = ctypes.create_string_buffer(ATTR_SIZE)
    struct.pack_into("=" + fmt, buf, 0, *vals)
    return buf


def insn(code, dst=0, src=0, off=0, imm=0):
    return struct.pack("<BBhi", code, dst | src << 4, off, imm)


def program(map_fd):
    """The instructions; jumps go to "out", resolved at the end."""
    r0, r1, r2, r3, r4, r5, r6, r7, r8, r10 = 0, 1, 2, 3, 4, 5, 6, 7, 8, 10
    MOV_X, MOV_K, ADD_K = 0xbf, 0xb7, 0x07        # BPF_ALU64
    LDX_W, LDX_DW = 0x61, 0x79
    ST_DW, STX_DW = 0x7a, 0x7b
    JNE_K, CALL, EXIT, LD_DW = 0x55, 0x85, 0x95, 0x18
    p = []
    jumps = []

    def jne_out(reg, imm):
        jumps.append(len(p))
        p.append((JNE_K, reg, 0, imm))

    p.append((MOV_X, r6, r1, 0))                  # r6 = ctx
    p.append((LDX_W, r2, r6, 0, CTX_LEVEL))       # r2 = ctx->level
    jne_out(r2, socket.SOL_SOCKET)
    p.append((LDX_W, r2, r6, 0, CTX_OPTNAME))     # r2 = ctx->optname
    jne_out(r2, SO_PRIORITY)
    p.append((LDX_DW, r7, r6, 0, CTX_SK))         # r7 = ctx->sk
    # r8 = &value of map[0] (ld_imm64 of a map value, two slots)
    p.append((LD_DW, r8, BPF_PSEUDO_MAP_VALUE, map_fd, 0))
    p.append((0, 0, 0, 0, 0))
    p.append((LDX_DW, r1, r8, 0, 0))              # slot 0 += 1
    p.append((ADD_K, r1, 0, 1, 0))
    p.append((STX_DW, r8, r1, 0, 0))
    for i, (_, optname, val, optlen) in enumerate(OPTS, 1):
        p.append((ST_DW, r10, 0, val, -8))        # *(u64 *)(fp - 8) = val
        p.append((MOV_X, r1, r7, 0))              # sk
        p.append((MOV_K, r2, 0, SOL_TCP))         # level
        p.append((MOV_K, r3, 0, optname))         # optname
        p.append((MOV_X, r4, r10, 0))             # optval = fp - 8
        p.append((ADD_K, r4, 0, -8))
        p.append((MOV_K, r5, 0, optlen))          # optlen
        p.append((CALL, 0, 0, BPF_FUNC_setsockopt))
        p.append((STX_DW, r8, r0, 0, 8 * i))      # slot i = return
    out = len(p)
    p.append((MOV_K, r0, 0, 1))                   # 1: let setsockopt()
    p.append((EXIT, 0, 0, 0))                     # go on
    code = b""
    for n, ins in enumerate(p):
        c, dst, src, imm = ins[:4]
        off = ins[4] if len(ins) > 4 else 0
        if n in jumps:
            off = out - n - 1
        code += insn(c, dst, src, off, imm)
    return code


def map_create():
    return bpf(BPF_MAP_CREATE,
               attr("IIII", BPF_MAP_TYPE_ARRAY, 4, 8 * SLOTS, 1))


def map_io(map_fd, cmd, vals=None):
    key = ctypes.c_uint32(0)
    val = (ctypes.c_int64 * SLOTS)(*(vals or ()))
    bpf(cmd, attr("IxxxxQQQ", map_fd, ctypes.addressof(key),
                  ctypes.addressof(val), 0))
    return list(val)


def prog_load(map_fd):
    code = program(map_fd)
    insns = ctypes.create_string_buffer(code, len(code))
    lic = ctypes.create_string_buffer(b"GPL")
    log = ctypes.create_string_buffer(1 << 16)
    a = attr("IIQQIIQII16sII", BPF_PROG_TYPE_CGROUP_SOCKOPT, len(code) // 8,
             ctypes.addressof(insns), ctypes.addressof(lic), 1, len(log),
             ctypes.addressof(log), 0, 0, b"xtcp_setsockopt", 0,
             BPF_CGROUP_SETSOCKOPT)
    try:
        return bpf(BPF_PROG_LOAD, a)
    except OSError as e:
        e.verifier_log = log.value.decode(errors="replace")
        raise


def prog_attach(cmd, cg_fd, prog_fd):
    bpf(cmd, attr("IIII", cg_fd, prog_fd, BPF_CGROUP_SETSOCKOPT, 0))


def held_data(acc, cli):
    """What the client got within 150 ms of the trigger, and in all once
    the server uncorked.  150 ms: less than the 200 ms (TCP_RTO_MIN) after
    which the probe timer sends corked data anyway."""
    cli.settimeout(0.15)
    try:
        early = cli.recv(4096)
    except socket.timeout:
        early = b""
    acc.setsockopt(SOL_TCP, TCP_CORK, 0)
    data = early
    cli.settimeout(3)
    while len(data) < len(HELD):
        more = cli.recv(4096)
        if not more:
            break
        data += more
    return len(early), data == HELD


def run(map_fd, fam, port):
    """(listener, accepted, client), the map's slots after the trigger,
    and held_data()."""
    lst = make_socket(fam)
    lst.bind(("127.0.0.1", port))
    lst.listen(4)
    cli = socket.create_connection(("127.0.0.1", port), timeout=5)
    lst.settimeout(5)
    acc = lst.accept()[0]
    map_io(map_fd, BPF_MAP_UPDATE_ELEM, [0] + [NOT_RUN] * len(OPTS))
    acc.setsockopt(socket.SOL_SOCKET, socket.SO_KEEPALIVE, 1)
    acc.setsockopt(SOL_TCP, TCP_CORK, 1)
    acc.sendall(HELD)
    acc.setsockopt(socket.SOL_SOCKET, SO_PRIORITY, 0)     # the trigger
    slots = map_io(map_fd, BPF_MAP_LOOKUP_ELEM)
    return (lst, acc, cli), slots, held_data(acc, cli)


def answer(v):
    if v == NOT_RUN:
        return "not run"
    if v < 0:
        return "-" + errno.errorcode.get(-v, str(-v))
    return str(v)


def expected_xtcp(optname, stock):
    """xtcp's documented answer where it differs from stock's."""
    if tuple(map(int, os.uname().release.split(".")[:2])) < (6, 12):
        return -errno.EINVAL        # 6.1: sk_prot->setsockopt check
    if optname == TCP_CONGESTION:
        return -errno.EPERM         # icsk_ca_dst_locked
    return stock


def main():
    xfam = xtcp_family()
    if xfam is None:
        print("1..0 # SKIP xtcp not loaded")
        return 4
    subprocess.run(["ip", "link", "set", "lo", "up"], check=True)
    try:
        map_fd = map_create()
    except OSError as e:
        print("1..0 # SKIP bpf(BPF_MAP_CREATE): %s" % e.strerror)
        return 4
    try:
        prog_fd = prog_load(map_fd)
    except OSError as e:
        print("TAP version 13")
        print("1..1")
        print("not ok 1 BPF_PROG_LOAD # %s; verifier log:" % e.strerror)
        for line in e.verifier_log.splitlines():
            print("#   " + line)
        return 1
    cg = enter_cgroup(CG)
    if cg is None:
        print("1..0 # SKIP no cgroup2 to attach to")
        return 4
    cg_fd = os.open(cg, os.O_RDONLY | os.O_DIRECTORY)
    socks = []
    try:
        prog_attach(BPF_PROG_ATTACH, cg_fd, prog_fd)
        try:
            s, stock, stock_held = run(map_fd, socket.AF_INET, 7411)
            socks += s
            s, xtcp, xtcp_held = run(map_fd, xfam, 7412)
            socks += s
            # TCP_KEEPIDLE 1: let the keepalive timers fire.
            time.sleep(3)
        finally:
            prog_attach(BPF_PROG_DETACH, cg_fd, prog_fd)
    finally:
        for s in socks:
            s.close()
        os.close(cg_fd)
        leave_cgroup(cg)
    print("TAP version 13")
    print("1..%d" % (3 + len(OPTS)))
    ok = stock[0] == 1 and xtcp[0] == 1
    fails = not ok
    print("%sok 1 program runs per trigger # stock %d, xtcp %d (expected 1)"
          % ("" if ok else "not ", stock[0], xtcp[0]))
    for i, (name, optname, _, _) in enumerate(OPTS, 1):
        want = expected_xtcp(optname, stock[i])
        # Stock must have run and taken the option, or nothing is shown.
        ok = stock[i] == 0 and xtcp[i] == want
        fails += not ok
        print("%sok %d %s # stock %s, xtcp %s (expected %s)" %
              ("" if ok else "not ", i + 1, name, answer(stock[i]),
               answer(xtcp[i]), answer(want)))
    n = len(OPTS) + 2
    # Stock's TCP_NODELAY pushed the corked bytes: the case is live.
    ok = stock_held == (100, True)
    fails += not ok
    print("%sok %d stock: bpf TCP_NODELAY sends corked data at once # "
          "%d bytes at the trigger, intact %s" %
          ("" if ok else "not ", n, stock_held[0], stock_held[1]))
    ok = xtcp_held[1]
    fails += not ok
    print("%sok %d xtcp: corked data intact after the uncork, no oops # "
          "%d bytes at the trigger (xtcp sends at its next push)" %
          ("" if ok else "not ", n + 1, xtcp_held[0]))
    return 1 if fails else 0


if __name__ == "__main__":
    sys.exit(main())
