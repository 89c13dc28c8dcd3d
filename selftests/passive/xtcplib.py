# SPDX-License-Identifier: GPL-2.0
"""Shared machinery of the passive-open parity tests (selftests/passive).

Every scenario runs twice in the same run: against a stock AF_INET
listener and against an AF_XTCP listener, both in the server namespace
with the same sysctls.  The client side is scapy-built segments sent
from the client namespace through a raw IP socket, and the server's
replies are captured on the client NIC.  Each reply is normalised (the
ISN and the TSval are dropped, everything else kept) and the two
transcripts are compared step by step; on a mismatch both are printed
field by field.

Layout, from the environment (defaults match selftests/lib.sh):

  XTCP_SRV_NS  xsrv         server namespace (listeners, agent)
  XTCP_CLI_NS  xcli         client namespace (scapy, captures)
  XTCP_SRV_IP  198.18.0.1   listener address
  XTCP_CLI_IP  198.18.0.2   client address
  XTCP_CLI_IF  (found)      client NIC; default: the one holding CLI_IP
  XTCP_CLI_ALT_IP 198.19.0.2  a second client address outside the
                            server's subnet, reached through CLI_IP as
                            its gateway (Gateway, scenario l)

Development switches:

  XTCP_PARITY_SELFTEST=1    the "xtcp" side is a second stock AF_INET
                            listener: the framework must pass
  XTCP_PARITY_PERTURB=WHAT  perturb the "xtcp" side only, to prove the
                            framework fails: mss, tos, ttl, rcvbuf,
                            defer, or sysctl:NAME=VALUE (net.xtcp.NAME,
                            or net.ipv4.tcp_NAME under SELFTEST while the
                            "xtcp" side runs; forces serial sides)
  XTCP_PARITY_SERIAL=1      run the stock and xtcp sides one after the
                            other instead of concurrently
  XTCP_PARITY_VERBOSE=1     print every transcript, not just diffs

Only 198.18.0.0/24 is ever used, and CLI_ALT_IP from the rest of the
benchmarking range 198.18.0.0/15: the configuration is refused otherwise
and every segment is checked before it is sent.
"""
import ctypes
import functools
import ipaddress
import json
import os
import select
import shutil
import socket
import struct
import subprocess
import threading
import time

from scapy.layers.inet import ICMP, IP, TCP
from scapy.packet import Raw

KSFT_PASS, KSFT_FAIL, KSFT_SKIP = 0, 1, 4

HERE = os.path.dirname(os.path.abspath(__file__))
PYTHON = "/usr/bin/python3"
NET = ipaddress.ip_network("198.18.0.0/24")
# RFC 2544's benchmarking range: CLI_ALT_IP must lie in it, outside NET.
BENCH_NET = ipaddress.ip_network("198.18.0.0/15")

# Client source ports for scapy flows.  Outside the ports the stock
# clients of scenario k bind (40000+), so the RST filter never touches a
# real socket's traffic.
SPORT_LO, SPORT_HI = 20000, 29999
# skb->mark of every segment we send, so that the RST filter can tell
# our RSTs (scenario c) from the client kernel's.
MARK = 0x78746370  # "xtcp"
FILTER_PREF = 4977

# A SYN-ACK arriving this long after the flow's previous SYN-ACK is the
# request timer's retransmission (TCP_TIMEOUT_INIT is 1 s,
# reqsk_timer_handler()), not a reply, unless the step's stimulus was a
# SYN sent less than this long before it.  In a slow guest a scenario's
# steps can straddle the 1 s timer, so these are filed apart, not compared.
RTX_GAP = 0.75

# The baseline every scenario starts from, for net.ipv4.tcp_<k> and its
# twin net.xtcp.<k> alike.  Explicit values: a guest's defaults (e.g.
# max_syn_backlog, scaled by memory) must not decide the result.
# A listener "greeting" that makes the agent read each connection to EOF
# and report what it read (xtcp_agent.SINK).
SINK = "\0sink"
# One that makes it serve an HTTP/1.0 response of N bytes of PATTERN
# (xtcp_agent.DOWNLOAD).
DOWNLOAD = "\0download:"
PATTERN = b"0123456789abcdef"

# How many lines of a failed check's problems follow its "not ok".
WHY_LINES = 4
DIFFERS = "<-- differs"

BASE_SYSCTLS = {
    "syncookies": 1,
    "max_syn_backlog": 256,
    "synack_retries": 5,
    "abort_on_overflow": 0,
    "ecn": 2,
    "timestamps": 1,
    "window_scaling": 1,
    "sack": 1,
    "migrate_req": 0,
}

# Stock knobs whose net.xtcp twin came with issue 8's loss recovery: a
# module older than that lacks them.  ctx.pair() sets net.ipv4.tcp_<k>
# and, where it exists, net.xtcp.<k>; a missing twin is logged once, not
# an error.
TWIN_OPTIONAL = frozenset(("recovery", "early_retrans", "frto",
                           "reordering", "dsack"))

PERTURB_SOCKOPTS = {
    "mss": [(socket.IPPROTO_TCP, socket.TCP_MAXSEG, 1000)],
    "tos": [(socket.IPPROTO_IP, socket.IP_TOS, 0x10)],
    "ttl": [(socket.IPPROTO_IP, socket.IP_TTL, 32)],
    "rcvbuf": [(socket.SOL_SOCKET, socket.SO_RCVBUF, 4096)],
    "defer": [(socket.IPPROTO_TCP, socket.TCP_DEFER_ACCEPT, 5)],
}


class SkipTest(Exception):
    pass


class SetupError(Exception):
    pass


def env_flag(name):
    return os.environ.get(name, "0") not in ("", "0", "no")


def log(msg=""):
    for line in str(msg).splitlines() or [""]:
        print("# " + line, flush=True)


# ---------------------------------------------------------------------
# The jiffies epoch and stock's "recent SYN flood" test
# ---------------------------------------------------------------------
#
# tcp_synq_no_recent_overflow() calls a listener flooded while the 32-bit
# jiffies lie within [stamp - HZ, stamp + TCP_SYNCOOKIE_VALID] of its last
# SYN cookie.  A listener that never sent one has stamp 0, and jiffies
# start at -300 s (INITIAL_JIFFIES), so from about 299 s to 420 s of
# uptime every fresh listener counts as flooded: a stray ACK to it is
# checked as a cookie and TcpExt.SyncookiesFailed counts it.  The reply
# (a RST) is the same; only that counter depends on when a test runs.

SYNCOOKIE_VALID_S = 120         # TCP_SYNCOOKIE_VALID, include/net/tcp.h


@functools.lru_cache(maxsize=None)
def kernel_hz():
    """CONFIG_HZ of the running kernel (Debian: 250), or None."""
    try:
        with open("/boot/config-" + os.uname().release) as f:
            for line in f:
                if line.startswith("CONFIG_HZ="):
                    return int(line.split("=")[1])
    except (OSError, ValueError):
        pass
    return None


def jiffies32():
    """The kernel's jiffies, low 32 bits (/proc/timer_list, root), or
    None."""
    try:
        with open("/proc/timer_list") as f:
            for line in f:
                if line.startswith("jiffies:"):
                    return int(line.split()[1]) & 0xffffffff
    except (OSError, ValueError, IndexError):
        pass
    return None


def fresh_listener_flooded():
    """Whether a listener that never sent a SYN cookie counts as flooded
    now (the window above), or None when jiffies or HZ cannot be read."""
    hz, j = kernel_hz(), jiffies32()
    if hz is None or j is None:
        return None
    return (j + hz) & 0xffffffff <= hz + SYNCOOKIE_VALID_S * hz


# ---------------------------------------------------------------------
# Configuration and namespaces
# ---------------------------------------------------------------------

class Config:
    def __init__(self):
        e = os.environ
        self.srv_ns = e.get("XTCP_SRV_NS", "xsrv")
        self.cli_ns = e.get("XTCP_CLI_NS", "xcli")
        self.srv_ip = e.get("XTCP_SRV_IP", "198.18.0.1")
        self.cli_ip = e.get("XTCP_CLI_IP", "198.18.0.2")
        self.cli_if = e.get("XTCP_CLI_IF", "")
        self.alt_ip = e.get("XTCP_CLI_ALT_IP", "198.19.0.2")
        self.selftest = env_flag("XTCP_PARITY_SELFTEST")
        self.perturb = e.get("XTCP_PARITY_PERTURB", "")
        self.serial = env_flag("XTCP_PARITY_SERIAL")
        self.verbose = env_flag("XTCP_PARITY_VERBOSE")
        for ip in (self.srv_ip, self.cli_ip):
            if ipaddress.ip_address(ip) not in NET:
                raise SetupError("%s is outside %s: refusing" % (ip, NET))
        if self.srv_ip == self.cli_ip:
            raise SetupError("server and client address are the same")
        alt = ipaddress.ip_address(self.alt_ip)
        if alt not in BENCH_NET or alt in NET:
            raise SetupError("XTCP_CLI_ALT_IP %s must be in %s outside %s: "
                             "refusing" % (self.alt_ip, BENCH_NET, NET))
        if self.perturb and not (self.perturb in PERTURB_SOCKOPTS or
                                 self.perturb.startswith("sysctl:")):
            raise SetupError("unknown XTCP_PARITY_PERTURB=%s" % self.perturb)
        if self.perturb.startswith("sysctl:"):
            self.serial = True

    def perturb_sysctl(self):
        """(name, value) of a sysctl perturbation, or None."""
        if not self.perturb.startswith("sysctl:"):
            return None
        name, _, value = self.perturb[len("sysctl:"):].partition("=")
        return name, int(value)


def run(cmd, ns=None, check=True, timeout=30):
    if ns:
        cmd = ["ip", "netns", "exec", ns] + cmd
    p = subprocess.run(cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                       text=True, timeout=timeout)
    if check and p.returncode:
        raise SetupError("%s: exit %d: %s" % (" ".join(cmd), p.returncode,
                                              p.stderr.strip()))
    return p


def netns_exists(name):
    return os.path.exists("/run/netns/" + name)


def find_cli_if(cfg):
    p = run(["ip", "-o", "-4", "addr", "show"], ns=cfg.cli_ns)
    for line in p.stdout.splitlines():
        f = line.split()
        if "inet" in f and f[f.index("inet") + 1].split("/")[0] == cfg.cli_ip:
            return f[1]
    raise SetupError("no interface with %s in netns %s" %
                     (cfg.cli_ip, cfg.cli_ns))


def veth_up(cfg):
    """Host development: the lib.sh topology over a veth pair.

    In the guest, selftests/lib.sh's nics_up builds it over two virtio
    NICs instead.  veth marks locally generated packets CHECKSUM_
    UNNECESSARY for the peer unless rx checksumming is off, which would
    hide bad checksums (scenario j) from the server: turn it off.
    """
    for ns in (cfg.srv_ns, cfg.cli_ns):
        if netns_exists(ns):
            raise SetupError("netns %s already exists: not touching it" % ns)
    run(["ip", "netns", "add", cfg.srv_ns])
    run(["ip", "netns", "add", cfg.cli_ns])
    run(["ip", "link", "add", "srv0", "netns", cfg.srv_ns, "type", "veth",
         "peer", "name", "cli0", "netns", cfg.cli_ns])
    for ns, dev, ip in ((cfg.srv_ns, "srv0", cfg.srv_ip),
                        (cfg.cli_ns, "cli0", cfg.cli_ip)):
        run(["sysctl", "-qw", "net.ipv6.conf.all.disable_ipv6=1",
             "net.ipv6.conf.default.disable_ipv6=1"], ns=ns)
        run(["ip", "addr", "add", ip + "/24", "dev", dev], ns=ns)
        run(["ethtool", "-K", dev, "rx", "off", "tx", "off", "gro", "off",
             "gso", "off", "tso", "off"], ns=ns, check=False)
        run(["ip", "link", "set", dev, "up"], ns=ns)
        run(["ip", "link", "set", "lo", "up"], ns=ns)
    run(["sysctl", "-qw", "net.ipv4.ip_local_port_range=10000 65000",
         "net.ipv4.tcp_tw_reuse=1"], ns=cfg.cli_ns)
    run(["ping", "-q", "-c", "1", "-W", "5", cfg.cli_ip], ns=cfg.srv_ns)


def veth_down(cfg):
    for ns in (cfg.srv_ns, cfg.cli_ns):
        if netns_exists(ns):
            p = run(["ip", "netns", "pids", ns], check=False)
            for pid in p.stdout.split():
                if pid == str(os.getpid()):
                    continue    # we live in the client namespace
                try:
                    os.kill(int(pid), 9)
                except (OSError, ValueError):
                    pass
            run(["ip", "netns", "del", ns], check=False)


def enter_netns(name):
    """Move this thread (call it before any other thread exists) into
    network namespace `name`: raw sockets, captures and the stock
    clients of scenario k then all live in the client namespace."""
    libc = ctypes.CDLL(None, use_errno=True)
    fd = os.open("/run/netns/" + name, os.O_RDONLY)
    try:
        if libc.setns(fd, 0x40000000) != 0:  # CLONE_NEWNET
            err = ctypes.get_errno()
            raise SetupError("setns(%s): %s" % (name, os.strerror(err)))
    finally:
        os.close(fd)


# ---------------------------------------------------------------------
# Classic BPF, for the RST filter (tc cls_bpf) and the capture socket
# ---------------------------------------------------------------------

def assemble(prog):
    """Classic BPF with symbolic jump targets: an instruction is
    (code, jt, jf, k) where jt/jf are 0 (next) or a label name, and a
    bare string in the list defines a label."""
    labels, out = {}, []
    for ins in prog:
        if isinstance(ins, str):
            labels[ins] = len(out)
        else:
            out.append(ins)
    res = []
    for i, (code, jt, jf, k) in enumerate(out):
        jt = labels[jt] - i - 1 if isinstance(jt, str) else jt
        jf = labels[jf] - i - 1 if isinstance(jf, str) else jf
        res.append((code, jt, jf, k & 0xffffffff))
    return res


def rst_filter_prog(srv_ip, lo, hi, mark):
    """Drop the client kernel's RSTs to the server for our source ports.

    scapy's SYNs have no socket behind them, so the client kernel answers
    every SYN-ACK with an RST (tcp_v4_send_reset() from tcp_v4_rcv()'s
    no_tcp_socket path); an RST with seq == rcv_nxt would kill the request
    (tcp_check_req(): embryonic_reset).  Matching: IPv4, TCP, to the
    server, unfragmented, source port in [lo, hi], RST set, and skb->mark
    not ours (our own RSTs carry SO_MARK).  cls_bpf direct-action: return
    TC_ACT_SHOT (2) or TC_ACT_OK (0); no act_gact needed.  Offsets are
    from the Ethernet header (tc egress).
    """
    ip = struct.unpack("!I", socket.inet_aton(srv_ip))[0]
    return assemble([
        (0x28, 0, 0, 12),               # ldh [12]        ethertype
        (0x15, 0, "pass", 0x0800),      # jeq #IPv4
        (0x30, 0, 0, 23),               # ldb [23]        protocol
        (0x15, 0, "pass", 6),           # jeq #TCP
        (0x20, 0, 0, 30),               # ld [30]         daddr
        (0x15, 0, "pass", ip),          # jeq #server
        (0x28, 0, 0, 20),               # ldh [20]        frag_off
        (0x45, "pass", 0, 0x1fff),      # jset #offset    (a fragment)
        (0xb1, 0, 0, 14),               # ldxb 4*([14]&0xf)
        (0x48, 0, 0, 14),               # ldh [x+14]      source port
        (0x35, 0, "pass", lo),          # jge #lo
        (0x35, "pass", 0, hi + 1),      # jge #hi+1
        (0x50, 0, 0, 14 + 13),          # ldb [x+27]      TCP flags
        (0x45, 0, "pass", 0x04),        # jset #RST
        (0x20, 0, 0, -0x1000 + 20),     # ld #mark        (SKF_AD_MARK)
        (0x15, "pass", 0, mark),        # jeq #ours
        (0x06, 0, 0, 2),                # ret #TC_ACT_SHOT
        "pass",
        (0x06, 0, 0, 0),                # ret #TC_ACT_OK
    ])


def capture_prog(srv_ip):
    """Socket filter: IPv4 TCP from the server, whole frame."""
    ip = struct.unpack("!I", socket.inet_aton(srv_ip))[0]
    return assemble([
        (0x28, 0, 0, 12),               # ldh [12]
        (0x15, 0, "drop", 0x0800),      # jeq #IPv4
        (0x30, 0, 0, 23),               # ldb [23]
        (0x15, 0, "drop", 6),           # jeq #TCP
        (0x20, 0, 0, 26),               # ld [26]         saddr
        (0x15, 0, "drop", ip),          # jeq #server
        (0x06, 0, 0, 0x40000),          # ret #all
        "drop",
        (0x06, 0, 0, 0),                # ret #0
    ])


def bpf_check(prog):
    """Every conditional jump must land inside the program."""
    for i, (code, jt, jf, _) in enumerate(prog):
        if code & 0x07 == 0x05 and code != 0x05:  # BPF_JMP, not JA
            for off in (jt, jf):
                if i + 1 + off >= len(prog):
                    raise SetupError("bpf: insn %d jumps out" % i)
    return prog


def bpf_bytecode(prog):
    """tc's `bytecode` syntax: "N,code jt jf k,..." """
    bpf_check(prog)
    return ",".join([str(len(prog))] +
                    ["%d %d %d %d" % ins for ins in prog])


class RstFilter:
    """tc clsact + cls_bpf on the client NIC's egress (see
    rst_filter_prog).  Removed again by remove()."""

    def __init__(self, cfg, ifname):
        self.cfg, self.ifname = cfg, ifname
        self.added_qdisc = False

    def install(self):
        ns, dev = self.cfg.cli_ns, self.ifname
        q = run(["tc", "qdisc", "show", "dev", dev], ns=ns)
        if "clsact" not in q.stdout:
            run(["tc", "qdisc", "add", "dev", dev, "clsact"], ns=ns)
            self.added_qdisc = True
        prog = rst_filter_prog(self.cfg.srv_ip, SPORT_LO, SPORT_HI, MARK)
        run(["tc", "filter", "replace", "dev", dev, "egress", "pref",
             str(FILTER_PREF), "bpf", "da", "bytecode", bpf_bytecode(prog)],
            ns=ns)

    def remove(self):
        ns, dev = self.cfg.cli_ns, self.ifname
        run(["tc", "filter", "del", "dev", dev, "egress", "pref",
             str(FILTER_PREF)], ns=ns, check=False)
        if self.added_qdisc:
            run(["tc", "qdisc", "del", "dev", dev, "clsact"], ns=ns,
                check=False)


# ---------------------------------------------------------------------
# Routes: a client behind a gateway, a route's advmss
# ---------------------------------------------------------------------

class Gateway:
    """The client's second address cfg.alt_ip, outside the server's
    subnet: a /32 on the client NIC, and on the server a host route to
    it via the client's on-link address.  Replies to it leave the server
    on a gateway route (scope universe), which a lookup with link scope
    does not find.  remove() undoes what add() did."""

    def __init__(self, cfg, ifname):
        self.cfg, self.ifname = cfg, ifname
        self.added = []

    def add(self):
        cfg = self.cfg
        run(["ip", "addr", "add", cfg.alt_ip + "/32", "dev", self.ifname],
            ns=cfg.cli_ns)
        self.added.append((["ip", "addr", "del", cfg.alt_ip + "/32", "dev",
                            self.ifname], cfg.cli_ns))
        run(["ip", "route", "replace", cfg.alt_ip + "/32", "via",
             cfg.cli_ip], ns=cfg.srv_ns)
        self.added.append((["ip", "route", "del", cfg.alt_ip + "/32"],
                           cfg.srv_ns))
        p = run(["ip", "-o", "route", "get", cfg.alt_ip], ns=cfg.srv_ns)
        if ("via " + cfg.cli_ip) not in p.stdout:
            raise SetupError("server's route to %s is not via %s: %s" %
                             (cfg.alt_ip, cfg.cli_ip, p.stdout.strip()))
        return p.stdout.strip()

    def remove(self):
        while self.added:
            cmd, ns = self.added.pop()
            run(cmd, ns=ns, check=False)


def srv_dev_to_client(cfg):
    """The server's interface towards the client address."""
    p = run(["ip", "-o", "route", "get", cfg.cli_ip], ns=cfg.srv_ns)
    f = p.stdout.split()
    if "dev" not in f:
        raise SetupError("no route from %s to %s: %s" % (
            cfg.srv_ns, cfg.cli_ip, p.stdout.strip()))
    return f[f.index("dev") + 1]


def set_client_route(cfg, *attrs):
    """A host route on the server to the client address with `attrs`
    (ip route's words: "advmss", "536"); none: remove it again, the
    subnet route serves.  Returns the route as ip shows it."""
    if not attrs:
        run(["ip", "route", "del", cfg.cli_ip + "/32"], ns=cfg.srv_ns,
            check=False)
        return None
    dev = srv_dev_to_client(cfg)
    run(["ip", "route", "replace", cfg.cli_ip + "/32", "dev", dev] +
        list(attrs), ns=cfg.srv_ns)
    p = run(["ip", "-o", "route", "show", cfg.cli_ip + "/32"], ns=cfg.srv_ns)
    return p.stdout.strip()


def set_client_route_advmss(cfg, advmss):
    """set_client_route() with metric advmss `advmss` (None: remove)."""
    return set_client_route(cfg, *(() if advmss is None else
                                   ("advmss", str(advmss))))


# ---------------------------------------------------------------------
# The server-side agent (xtcp_agent.py in the server namespace)
# ---------------------------------------------------------------------

class Agent:
    def __init__(self, cfg):
        self.cfg = cfg
        self.proc = subprocess.Popen(
            ["ip", "netns", "exec", cfg.srv_ns, PYTHON, "-u",
             os.path.join(HERE, "xtcp_agent.py")],
            stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True,
            bufsize=1)
        self.lock = threading.Lock()
        self.cond = threading.Condition()
        self.replies = {}
        self.events = []
        self.next_id = 1
        self.dead = False
        self.reader = threading.Thread(target=self.read_loop, daemon=True)
        self.reader.start()
        self.wait_event(lambda e: e.get("ev") == "hello", 60,
                        what="agent start-up")

    def read_loop(self):
        for line in self.proc.stdout:
            try:
                msg = json.loads(line)
            except ValueError:
                log("agent: " + line.rstrip())
                continue
            with self.cond:
                if "ev" in msg:
                    self.events.append(msg)
                else:
                    self.replies[msg.get("id")] = msg
                self.cond.notify_all()
        with self.cond:
            self.dead = True
            self.cond.notify_all()

    def call(self, op, timeout=20, **kw):
        with self.lock:
            rid = self.next_id
            self.next_id += 1
            kw.update(op=op, id=rid)
            try:
                self.proc.stdin.write(json.dumps(kw) + "\n")
                self.proc.stdin.flush()
            except OSError as e:
                raise SetupError("agent gone: %s" % e)
        deadline = time.time() + timeout
        with self.cond:
            while rid not in self.replies:
                left = deadline - time.time()
                if self.dead or left <= 0:
                    raise SetupError("agent: no reply to %s" % op)
                self.cond.wait(left)
            return self.replies.pop(rid)

    def wait_event(self, pred, timeout, what="event", consume=True):
        deadline = time.time() + timeout
        with self.cond:
            while True:
                for ev in self.events:
                    if pred(ev):
                        if consume:
                            self.events.remove(ev)
                        return ev
                left = deadline - time.time()
                if left <= 0 or self.dead:
                    if what == "agent start-up":
                        raise SetupError("agent did not start")
                    return None
                self.cond.wait(min(left, 0.2))

    def take_events(self, pred):
        with self.cond:
            got = [e for e in self.events if pred(e)]
            self.events = [e for e in self.events if not pred(e)]
            return got

    def sysctl(self, name, value, which="both", twin_optional=False):
        """Set net.ipv4.tcp_`name` and/or net.xtcp.`name` (`which`); with
        `twin_optional` a missing net.xtcp.`name` is no error.  Returns
        the paths that did not exist (so were not written)."""
        rep = self.call("sysctl", name=name, value=value, which=which,
                        twin_optional=twin_optional)
        if not rep["ok"]:
            raise SetupError("sysctl %s=%s: %s" % (name, value, rep["error"]))
        return rep.get("missing", [])

    def quit(self):
        try:
            self.call("quit", timeout=10)
        except SetupError:
            pass
        try:
            self.proc.stdin.close()
        except OSError:
            pass
        try:
            self.proc.wait(10)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait(5)


# ---------------------------------------------------------------------
# The wire: raw sends and a capture on the client NIC
# ---------------------------------------------------------------------

SO_MARK = 36
SO_TIMESTAMPNS = 35
SO_ATTACH_FILTER = 26
ETH_P_IP = 0x0800


class Wire:
    """Send IP datagrams as built; capture the server's TCP segments with
    their kernel receive time (SO_TIMESTAMPNS), so windows are measured
    on the wire and not on a slow Python thread."""

    def __init__(self, cfg, ifname):
        self.cfg = cfg
        self.tx = socket.socket(socket.AF_INET, socket.SOCK_RAW,
                                socket.IPPROTO_RAW)
        self.tx.setsockopt(socket.SOL_SOCKET, SO_MARK, MARK)
        self.rx = socket.socket(socket.AF_PACKET, socket.SOCK_RAW,
                                socket.htons(ETH_P_IP))
        prog = bpf_check(capture_prog(cfg.srv_ip))
        buf = b"".join(struct.pack("HBBI", *ins) for ins in prog)
        cbuf = ctypes.create_string_buffer(buf)
        fprog = struct.pack("HL", len(prog), ctypes.addressof(cbuf))
        self.rx.setsockopt(socket.SOL_SOCKET, SO_ATTACH_FILTER, fprog)
        self.rx.setsockopt(socket.SOL_SOCKET, SO_TIMESTAMPNS, 1)
        self.rx.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 1 << 22)
        self.rx.bind((ifname, ETH_P_IP))
        self.rx.setblocking(False)
        self.cond = threading.Condition()
        self.frames = []        # (t, raw ethernet frame)
        self.drained_at = 0.0   # socket seen empty at this time
        self.stop = threading.Event()
        self.thread = threading.Thread(target=self.loop, daemon=True)
        self.thread.start()

    def loop(self):
        while not self.stop.is_set():
            try:
                r, _, _ = select.select([self.rx], [], [], 0.02)
            except (OSError, ValueError):
                return
            got = []
            while r:
                try:
                    data, anc, _, addr = self.rx.recvmsg(65536, 64)
                except BlockingIOError:
                    break
                except OSError:
                    return
                if addr[2] == socket.PACKET_OUTGOING:
                    continue
                t = 0.0
                for level, typ, val in anc:
                    if level == socket.SOL_SOCKET and typ == SO_TIMESTAMPNS:
                        sec, nsec = struct.unpack("qq", val[:16])
                        t = sec + nsec / 1e9
                got.append((t or time.time(), data))
            now = time.time()
            with self.cond:
                self.frames.extend(got)
                self.drained_at = now
                self.cond.notify_all()

    def send(self, *pkts):
        """Send scapy packets `pkts` (IP layer first) back to back, each
        checked and built before the first leaves; returns the time the
        first left."""
        datas = []
        for pkt in pkts:
            if pkt[IP].dst != self.cfg.srv_ip or \
                    pkt[IP].src not in (self.cfg.cli_ip, self.cfg.alt_ip):
                raise SetupError("refusing to send %s -> %s" %
                                 (pkt[IP].src, pkt[IP].dst))
            datas.append(bytes(pkt))
        t = time.time()
        for data in datas:
            self.tx.sendto(data, (self.cfg.srv_ip, 0))
        return t

    def sync(self, until, timeout=5.0):
        """Wait until every frame received up to `until` is in frames."""
        deadline = time.time() + timeout
        with self.cond:
            while self.drained_at < until + 0.005:
                left = deadline - time.time()
                if left <= 0:
                    break
                self.cond.wait(min(left, 0.05))

    def frames_since(self, idx):
        """Frames from index `idx` on, and the index after the last."""
        with self.cond:
            return self.frames[idx:], len(self.frames)

    def close(self):
        self.stop.set()
        self.thread.join(2)
        self.rx.close()
        self.tx.close()


# ---------------------------------------------------------------------
# Replies: parse, normalise, describe
# ---------------------------------------------------------------------

def csum16(data):
    if len(data) % 2:
        data += b"\0"
    s = sum(struct.unpack("!%dH" % (len(data) // 2), data))
    while s >> 16:
        s = (s & 0xffff) + (s >> 16)
    return s


OPT_NAMES = {0: "EOL", 1: "NOP", 2: "MSS", 3: "WScale", 4: "SAckOK",
             5: "SAck", 8: "TS", 34: "FastOpen"}


class Reply:
    """One captured server segment, parsed with struct (not scapy: what
    the wire carried, byte for byte, including odd option layouts)."""

    def __init__(self, t, frame):
        self.t = t
        ip = frame[14:]
        ihl = (ip[0] & 0xf) * 4
        tot = struct.unpack("!H", ip[2:4])[0]
        ip = ip[:tot]           # drop Ethernet padding
        self.ipraw = ip
        self.tos = ip[1]
        self.ip_len = tot
        self.ihl = ihl
        self.ip_id = struct.unpack("!H", ip[4:6])[0]
        fo = struct.unpack("!H", ip[6:8])[0]
        self.df, self.mf, self.frag = bool(fo & 0x4000), bool(fo & 0x2000), \
            fo & 0x1fff
        self.ttl = ip[8]
        self.ip_csum_ok = csum16(ip[:ihl]) == 0xffff
        self.ip_opts = ip[20:ihl]
        src, dst = ip[12:16], ip[16:20]
        th = ip[ihl:]
        (self.sport, self.dport, self.seq, self.ack, off, self.flagbits,
         self.window, self.csum, self.urg) = struct.unpack("!HHIIBBHHH",
                                                           th[:20])
        self.doff = off >> 4
        self.reserved = off & 0xf
        pseudo = src + dst + struct.pack("!BBH", 0, 6, len(th))
        self.tcp_csum_ok = csum16(pseudo + th) == 0xffff
        self.opts = parse_options(th[20:self.doff * 4])
        self.payload = th[self.doff * 4:]

    @property
    def flags(self):
        # same letters and order as scapy's str(TCP.flags)
        return "".join(c for i, c in enumerate("FSRPAUECN")
                       if self.flagbits & (1 << i))

    def has(self, f):
        return f in self.flags

    def option(self, name):
        for n, v in self.opts:
            if n == name:
                return v
        return None

    def summary(self):
        o = " ".join(n if v is None else "%s=%s" % (n, v)
                     for n, v in self.opts)
        return "%d>%d [%s] seq=%u ack=%u win=%u <%s> len=%d" % (
            self.sport, self.dport, self.flags, self.seq, self.ack,
            self.window, o, len(self.payload))

    def scapy(self):
        return IP(self.ipraw)


def parse_options(buf):
    """TCP options as [(name, value)], in order, tcp_parse_options()'s
    way; a malformed tail shows as ("BAD", hex)."""
    out = []
    i = 0
    while i < len(buf):
        kind = buf[i]
        name = OPT_NAMES.get(kind, "kind%d" % kind)
        if kind in (0, 1):
            out.append((name, None))
            i += 1
            continue
        if i + 1 >= len(buf) or buf[i + 1] < 2 or i + buf[i + 1] > len(buf):
            out.append(("BAD", buf[i:].hex()))
            break
        ln = buf[i + 1]
        body = buf[i + 2:i + ln]
        if kind == 2 and ln == 4:
            val = struct.unpack("!H", body)[0]
        elif kind == 3 and ln == 3:
            val = body[0]
        elif kind == 4 and ln == 2:
            val = None
        elif kind == 8 and ln == 10:
            val = struct.unpack("!II", body)
        else:
            val = body.hex()
        out.append((name, val))
        i += ln
    return out


def rel32(a, b):
    d = (a - b) & 0xffffffff
    return d - (1 << 32) if d & 0x80000000 else d


# How far below 65536 the previous IP ID may be for a 0 to be the
# socket's counter wrapping (a GSO burst advances it by its segments).
IP_ID_WRAP = 64


# A zero IP ID right after an ID near 65535: a full socket's counter
# wrapping, or a control socket's 0 after the connection's last segment.
IP_ID_EITHER = "0 (after %d: counter or control)"


def ip_id_class(ip_id, prev):
    """"0" or "nonzero": request and control sockets send 0 with DF
    (ip_select_ident_segs()), a full socket its inet_id counter, which
    starts at random (tcp_v4_syn_recv_sock()) and passes 0 once in
    65536 segments.  A 0 right after an ID near 65535 may be either, the
    counter wrapping or a control socket's reply (a RST once the
    connection is gone) after a counter that happened to stand there:
    IP_ID_EITHER, which same_reply() takes as either class.  (A child
    whose first segment draws 0 still reads as "0": one in 65536
    children.)"""
    if ip_id != 0:
        return "nonzero"
    if prev is None or prev < 65536 - IP_ID_WRAP:
        return "0"
    return IP_ID_EITHER % prev


def same_reply(na, nb):
    """Whether two normalised replies are the same: every field equal,
    but an IP_ID_EITHER ID equal to either class."""
    if na == nb:
        return True
    a, b = na.get("ip.id", ""), nb.get("ip.id", "")
    either = IP_ID_EITHER.split("%")[0]
    if not (a.startswith(either) or b.startswith(either)):
        return False
    return dict(na, **{"ip.id": None}) == dict(nb, **{"ip.id": None})


def same_step(sa, sb):
    """Whether two steps got the same replies (same_reply()) and notes."""
    return sa.notes == sb.notes and len(sa.pkts) == len(sb.pkts) and \
        all(same_reply(a[0], b[0]) for a, b in zip(sa.pkts, sb.pkts))


def normalise(r, flow):
    """The comparable form of reply `r` on `flow`: a dict of strings.

    Dropped: the ISN (any SYN's seq; other seqs are made relative to the
    SYN-ACK's ISN) and the TSval (compared as "present").  Kept: every
    other header field, option kinds in order with their values, TSecr
    relative to our TSval base, checksums as ok/bad, IP ID as zero or
    not (stock uses 0 with DF for request-socket and control-socket
    replies: ip_select_ident_segs()).
    """
    n = {}
    n["ip.tos"] = "0x%02x" % r.tos
    n["ip.ttl"] = str(r.ttl)
    n["ip.df/mf/frag"] = "%d/%d/%d" % (r.df, r.mf, r.frag)
    n["ip.id"] = ip_id_class(r.ip_id, getattr(flow, "last_ip_id", None))
    n["ip.ihl/len"] = "%d/%d" % (r.ihl, r.ip_len)
    n["ip.opts"] = r.ip_opts.hex() or "-"
    n["ip.csum"] = "ok" if r.ip_csum_ok else "BAD"
    n["tcp.sport"] = "listener" if r.sport == flow.dport else str(r.sport)
    n["tcp.dport"] = "client" if r.dport == flow.sport else str(r.dport)
    n["tcp.flags"] = r.flags
    if r.has("S"):
        n["tcp.seq"] = "ISN"
    elif r.seq == 0:
        n["tcp.seq"] = "0"
    elif flow.srv_isn is not None:
        n["tcp.seq"] = "ISN%+d" % rel32(r.seq, flow.srv_isn)
    else:
        n["tcp.seq"] = "raw:%u" % r.seq
    if r.has("A"):
        n["tcp.ack"] = "ourISN%+d" % rel32(r.ack, flow.isn)
    else:
        n["tcp.ack"] = "(no ACK) %u" % r.ack
    n["tcp.doff/res"] = "%d/%d" % (r.doff, r.reserved)
    n["tcp.window"] = str(r.window)
    n["tcp.urg"] = str(r.urg)
    n["tcp.csum"] = "ok" if r.tcp_csum_ok else "BAD"
    opts = []
    for name, val in r.opts:
        if name == "TS":
            tsval, ecr = val
            e = "0" if ecr == 0 else "ts0%+d" % rel32(ecr, flow.ts0)
            opts.append("TS(val=%s,ecr=%s)" % ("nz" if tsval else "0", e))
        elif name == "SAck" and isinstance(val, str) and len(val) % 16 == 0:
            raw = bytes.fromhex(val)
            blocks = struct.unpack("!%dI" % (len(raw) // 4), raw)
            opts.append("SAck=%s" % ",".join(
                "[%+d,%+d]" % (rel32(blocks[i], flow.isn),
                               rel32(blocks[i + 1], flow.isn))
                for i in range(0, len(blocks), 2)))
        elif val is None:
            opts.append(name)
        else:
            opts.append("%s=%s" % (name, val))
    n["tcp.options"] = ",".join(opts) or "-"
    n["payload"] = "%d bytes" % len(r.payload)
    return n


# ---------------------------------------------------------------------
# Transcripts
# ---------------------------------------------------------------------

class Step:
    def __init__(self, flow, name, t):
        self.flow = flow
        self.label = "%s:%s" % (flow.label, name) if flow else name
        self.t = t
        self.pkts = []      # (normalised, Reply)
        self.notes = []
        self.ignored = []   # timer retransmissions left out, for the log
        self.stim_syn = False   # the stimulus was a SYN
        # Replies whose window is not compared (see Flow.loose_window).
        self.loose_window = False
        # Replies whose PSH flag is not compared (see Flow.loose_psh).
        self.loose_psh = False

    def flags(self):
        return [n["tcp.flags"] for n, _ in self.pkts]


class Transcript:
    def __init__(self, side):
        self.side = side
        self.steps = []
        self.error = None

    def step(self, label):
        for s in self.steps:
            if s.label == label:
                return s
        return None

    def note(self, text, label="note"):
        """A flow-less observation (e.g. a client's exit status)."""
        st = Step(None, label, time.time())
        st.notes.append(text)
        self.steps.append(st)

    def dump(self):
        lines = ["%s side:" % self.side]
        for s in self.steps:
            lines.append("  %s" % s.label)
            for _, r in s.pkts:
                lines.append("    +%.3fs %s" % (r.t - s.t, r.summary()))
            for n in s.notes:
                lines.append("    note: %s" % n)
            for r in s.ignored:
                lines.append("    (timer rtx, not compared) +%.3fs %s" %
                             (r.t - s.t, r.summary()))
        if self.error:
            lines.append("  ERROR: %s" % self.error)
        return "\n".join(lines)

    def only(self, labels):
        """The transcript restricted to the steps named in `labels`."""
        t = Transcript(self.side)
        t.steps = [s for s in self.steps if s.label in labels]
        t.error = self.error
        t.__dict__.update({k: v for k, v in self.__dict__.items()
                           if k not in ("steps", "error", "side")})
        return t


def diff_transcripts(a, b):
    """Human-readable differences between two transcripts ([] if none),
    each side named by its transcript (stock/xtcp, or a test's phases)."""
    out = []
    if a.error or b.error:
        out.append("scenario error: %s=%s %s=%s" % (a.side, a.error,
                                                     b.side, b.error))
    la = [s.label for s in a.steps]
    lb = [s.label for s in b.steps]
    if la != lb:
        out.append("steps differ:\n  %s: %s\n  %s: %s" % (a.side, la,
                                                          b.side, lb))
        return out
    for sa, sb in zip(a.steps, b.steps):
        if same_step(sa, sb):
            continue
        out.append("step %s differs:" % sa.label)
        for i in range(max(len(sa.pkts), len(sb.pkts))):
            pa = sa.pkts[i] if i < len(sa.pkts) else None
            pb = sb.pkts[i] if i < len(sb.pkts) else None
            out.extend(diff_packets(i, pa, pb, sa.t, sb.t, a.side, b.side))
        if sa.notes != sb.notes:
            out.append("  notes: %s=%s" % (a.side, sa.notes))
            out.append("         %s=%s" % (b.side, sb.notes))
    return out


def diff_packets(i, pa, pb, ta, tb, na_="stock", nb_="xtcp"):
    out = []
    if pa is None or pb is None:
        for side, p, t in ((na_, pa, ta), (nb_, pb, tb)):
            out.append("  reply[%d] %-5s: %s" % (
                i, side, "(none)" if p is None else
                "+%.3fs %s" % (p[1].t - t, p[1].summary())))
        return out
    na, nb = pa[0], pb[0]
    if same_reply(na, nb):
        return out
    out.append("  reply[%d]:" % i)
    out.append("    %-6s +%.3fs %s" % (na_ + ":", pa[1].t - ta,
                                       pa[1].summary()))
    out.append("    %-6s +%.3fs %s" % (nb_ + ":", pb[1].t - tb,
                                       pb[1].summary()))
    out.append("    %-16s %-34s %s" % ("field", na_, nb_))
    for k in na:
        same = same_reply({k: na[k]}, {k: nb.get(k)}) if k == "ip.id" \
            else na[k] == nb.get(k)
        mark = "" if same else "   " + DIFFERS
        out.append("    %-16s %-34s %s%s" % (k, na[k], nb.get(k), mark))
    return out


def client_cmd(cfg, argv, port, lport, timeout):
    """Run a client program from the client namespace's address: `argv`
    with {srv}, {port} and {lport} filled in, stdin empty.  Returns (exit
    status or "timeout", what it wrote to stdout)."""
    cmd = [a.format(srv=cfg.srv_ip, port=port, lport=lport) for a in argv]
    try:
        p = subprocess.run(cmd, stdin=subprocess.DEVNULL,
                           stdout=subprocess.PIPE,
                           stderr=subprocess.DEVNULL, timeout=timeout)
    except subprocess.TimeoutExpired:
        return "timeout", b""
    return p.returncode, p.stdout


def client_python(cfg, port, lport, request=b""):
    """A plain kernel TCP client from the client namespace's address:
    send @request, half-close, read what the server sends until EOF.
    Returns (0 or "error <exception>", bytes read)."""
    s = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    s.settimeout(5)
    data = b""
    try:
        s.bind((cfg.cli_ip, lport))
        s.connect((cfg.srv_ip, port))
        if request:
            s.sendall(request)
        s.shutdown(socket.SHUT_WR)
        for _ in range(64):
            chunk = s.recv(4096)
            if not chunk:
                break
            data += chunk
        return 0, data
    except OSError as e:
        return "error %s" % type(e).__name__, data
    finally:
        s.close()


# ---------------------------------------------------------------------
# Sides and flows
# ---------------------------------------------------------------------

class Side:
    """One listener (stock or xtcp) and the scenario's view of it."""

    def __init__(self, ctx, name, family, port):
        self.ctx, self.name, self.family, self.port = ctx, name, family, port
        self.tr = Transcript(name)
        self.flows = []
        self.lid = None

    def listen(self, backlog=128, accept=True, greet=None, sockopts=()):
        sockopts = list(sockopts)
        if self.name == "xtcp" and self.ctx.cfg.perturb in PERTURB_SOCKOPTS:
            sockopts += PERTURB_SOCKOPTS[self.ctx.cfg.perturb]
        rep = self.ctx.agent.call(
            "listen", family=self.family, addr=self.ctx.cfg.srv_ip,
            port=self.port, backlog=backlog, accept=accept, greet=greet,
            sockopts=sockopts)
        if not rep["ok"]:
            raise SetupError("%s listener on port %d: %s" %
                             (self.name, self.port, rep["error"]))
        self.lid = rep["lid"]

    def close_listener(self):
        if self.lid is not None:
            self.ctx.agent.call("close", lid=self.lid)
            self.lid = None

    def drain(self):
        rep = self.ctx.agent.call("drain", lid=self.lid)
        return [self.peer_name(p) for p in rep["peers"]]

    def abort(self, flow, wait=0.5):
        """Close `flow`'s accepted connection with SO_LINGER {1, 0}: an
        abort, i.e. a RST (tcp_disconnect()), whose window shows the
        connection's receive window.  Returns how many were closed."""
        rep = self.ctx.agent.call("abort", lid=self.lid,
                                  peer=[flow.src, flow.sport], wait=wait)
        return rep.get("closed", 0)

    def recv(self, flow, nbytes, timeout=1.0):
        """Read up to `nbytes` from `flow`'s accepted connection, as a
        server's read loop would (until that many, EOF, an error or
        `timeout`); returns what a transcript note should say."""
        rep = self.ctx.agent.call("recv", lid=self.lid,
                                  peer=[flow.src, flow.sport],
                                  nbytes=nbytes, rtimeout=timeout,
                                  timeout=timeout + 10)
        if not rep["ok"]:
            return "recv: %s" % rep["error"]
        return "read %d bytes (sha256 %s)%s%s" % (
            rep["len"], rep["sha256"], ", EOF" if rep["eof"] else "",
            ", error %s" % rep["error"] if rep["error"] else "")

    def send(self, flow, nbytes):
        """Start writing `nbytes` on `flow`'s accepted connection (a
        pattern of "0123456789abcdef"); the write goes on in the agent
        while the scenario ACKs.  Returns a transcript note."""
        rep = self.ctx.agent.call("send", lid=self.lid,
                                  peer=[flow.src, flow.sport],
                                  nbytes=nbytes)
        return "writing %d bytes" % nbytes if rep["ok"] else \
            "send: %s" % rep["error"]

    def sent(self, flow, timeout=5.0):
        """How the write started by send() ended (a transcript note)."""
        me = [flow.src, flow.sport]
        ev = self.ctx.agent.wait_event(
            lambda e: (e.get("ev") == "sent" and e.get("lid") == self.lid
                       and e["peer"] == me), timeout)
        return ev["result"] if ev else "write not done in %gs" % timeout

    def shutdown_child(self, flow, how, wait=0.5):
        """shutdown(`how`) on `flow`'s accepted connection; a note."""
        rep = self.ctx.agent.call("shutdown_child", lid=self.lid,
                                  peer=[flow.src, flow.sport], how=how,
                                  wait=wait)
        return "shutdown(%d): %s" % (how, rep.get("error") or "0")

    def setsockopt_child(self, flow, opts, wait=0.5):
        """setsockopt() on `flow`'s accepted connection, `opts` a list
        of (level, name, value); a transcript note."""
        rep = self.ctx.agent.call("setsockopt_child", lid=self.lid,
                                  peer=[flow.src, flow.sport],
                                  opts=[list(o) for o in opts], wait=wait)
        return "setsockopt: %s" % (rep.get("error") or "0")

    def calls(self, flow, *steps, wait=0.5):
        """Non-blocking socket calls on `flow`'s accepted connection (the
        agent's calls op: "recv N", "oob", "atmark", "poll", ...); their
        results as one transcript note."""
        rep = self.ctx.agent.call("calls", lid=self.lid,
                                  peer=[flow.src, flow.sport],
                                  steps=list(steps), wait=wait)
        if not rep["ok"]:
            return "calls: %s" % rep["error"]
        return " ".join(rep["results"])

    def tcp_info(self, flow, wait=0.5):
        """getsockopt(TCP_INFO) of `flow`'s accepted connection: a dict of
        struct tcp_info's fields without their tcpi_ prefix (the agent's
        tcp_info op), or None if the call failed."""
        rep = self.ctx.agent.call("tcp_info", lid=self.lid,
                                  peer=[flow.src, flow.sport], wait=wait)
        return rep.get("info") if rep["ok"] else None

    def close_child(self, flow, wait=0.5):
        """close() `flow`'s accepted connection (no SO_LINGER)."""
        rep = self.ctx.agent.call("close_child", lid=self.lid,
                                  peer=[flow.src, flow.sport], wait=wait)
        return rep.get("closed", 0)

    def flow(self, label, **kw):
        f = Flow(self, label, **kw)
        self.flows.append(f)
        return f

    def peer_name(self, peer):
        ip, port = peer
        for f in self.flows:
            if ip == f.src and port == f.sport:
                return f.label
        return "%s:%d(unknown)" % (ip, port)

    def note(self, text, label="note"):
        self.tr.note(text, label)

    def finish(self, quiet=0.2):
        """Let late replies land, file them, record unexpected accepts."""
        t = time.time() + quiet
        while time.time() < t:
            time.sleep(0.02)
        for f in self.flows:
            f.flush()
        if self.lid is not None:
            lid = self.lid
            extra = self.ctx.agent.take_events(
                lambda e: e.get("ev") == "accept" and e.get("lid") == lid)
            for e in extra:
                self.note("unexpected accept of %s" %
                          self.peer_name(e["peer"]))


class Flow:
    """One client connection (4-tuple) of a scenario, and its steps."""

    ISN = 0x1e240000   # our ISN; the same on both sides
    TS0 = 7000000      # our TSval base; the same on both sides

    def __init__(self, side, label, isn=None, ts0=None, keep_rtx=False,
                 src=None):
        self.side, self.label = side, label
        self.ctx = side.ctx
        # the client address of this flow: cfg.cli_ip, or cfg.alt_ip
        self.src = self.ctx.cfg.cli_ip if src is None else src
        self.sport = self.ctx.next_sport()
        self.dport = side.port
        self.isn = self.ISN if isn is None else isn
        self.ts0 = self.TS0 if ts0 is None else ts0
        self.keep_rtx = keep_rtx
        self.srv_isn = None
        self.srv_ts = None      # the last SYN-ACK's TSval, to echo
        self.synack = None      # the first SYN-ACK (Reply)
        self.last_synack_t = None
        self.last_ip_id = None  # the last reply's, for ip_id_class()
        self.cur = None
        self.steps = []
        self.cursor = 0         # index into wire.frames already looked at
        # Set once a segment's memory cost (skb->truesize) may have
        # entered the windows offered from then on: the NIC's receive
        # buffers follow an average of recent packet sizes (virtio-net's
        # mergeable buffers), so the cost of the same segment differs
        # from run to run and from flow to flow.  Windows of such steps
        # are checked against stock TCP's rules, not compared.
        self.loose_window = False
        # Set where the server's data segments leave in GSO packets whose
        # sizes are not the scenario's: __tcp_transmit_skb() sets PSH on
        # every GSO packet, and how a burst is cut into packets follows
        # TSO autosizing (the pacing rate, from the RTT, when the data was
        # written) and TSQ's transmit completions, i.e. timing.  Flags of
        # data segments in such steps are compared without PSH.
        self.loose_psh = False

    # --- building -----------------------------------------------------

    def ip(self, tos=0, **kw):
        return IP(src=self.src, dst=self.ctx.cfg.srv_ip, tos=tos,
                  ttl=64, flags="DF", **kw)

    def syn_opts(self, spec="all", mss=1460, ws=7, tsval=None):
        """Option lists as a Linux client would lay them out."""
        ts = ("Timestamp", (self.ts0 if tsval is None else tsval, 0))
        table = {
            "none": [],
            "mss": [("MSS", mss)],
            "mss-sack": [("MSS", mss), ("SAckOK", b"")],
            "mss-ts": [("MSS", mss), ("NOP", None), ("NOP", None), ts],
            "mss-ws": [("MSS", mss), ("NOP", None), ("WScale", ws)],
            "ts": [("NOP", None), ("NOP", None), ts],
            "all": [("MSS", mss), ("SAckOK", b""), ts, ("NOP", None),
                    ("WScale", ws)],
            "all-nots": [("MSS", mss), ("NOP", None), ("NOP", None),
                         ("SAckOK", b""), ("NOP", None), ("WScale", ws)],
        }
        return table[spec]

    def syn(self, opts="all", flags="S", tos=0, seq=None, **kw):
        o = self.syn_opts(opts, **kw) if isinstance(opts, str) else opts
        return self.ip(tos=tos) / TCP(
            sport=self.sport, dport=self.dport,
            seq=self.isn if seq is None else seq, flags=flags,
            window=64240, options=o)

    def seg(self, flags="A", seq=None, ack=None, tsval=None, ecr=None,
            ts=None, window=502, payload=b"", tos=0, urg=0, sack=()):
        """A segment after the SYN.  Defaults: seq = ISN+1, ack = the
        server's ISN+1, a TS option iff the SYN-ACK carried one, with
        TSval = ts0+1 and TSecr = the last SYN-ACK's TSval; IP TOS 0;
        urgent pointer `urg` (set "U" in `flags` for it to count).
        `sack`: SACK blocks, (left, right) sequence numbers, laid out
        after the timestamp as Linux does (NOP, NOP, SACK)."""
        if ts is None:
            ts = self.srv_ts is not None
        opts = []
        if ts:
            opts = [("NOP", None), ("NOP", None), ("Timestamp", (
                self.ts0 + 1 if tsval is None else tsval,
                (self.srv_ts or 0) if ecr is None else ecr))]
        if sack:
            opts += [("NOP", None), ("NOP", None), ("SAck", tuple(
                e & 0xffffffff for block in sack for e in block))]
        if ack is None:
            ack = ((self.srv_isn or 0) + 1) & 0xffffffff
        if seq is None:
            seq = self.isn + 1
        pkt = self.ip(tos=tos) / TCP(sport=self.sport, dport=self.dport,
                                     seq=seq & 0xffffffff, ack=ack,
                                     flags=flags, window=window,
                                     urgptr=urg, options=opts)
        if payload:
            pkt = pkt / Raw(payload)
        return pkt

    def icmp_error(self, icmp_type, code, seq=None, mtu=0):
        """An ICMP error from the client's address about a segment the
        server sent on this flow: the quoted IP header and the first 20
        bytes of TCP, sequence number `seq` (default: the server's ISN,
        i.e. the SYN-ACK); `mtu` is a fragmentation-needed message's
        next-hop MTU (RFC 1191)."""
        if seq is None:
            seq = self.srv_isn or 0
        quoted = IP(src=self.ctx.cfg.srv_ip, dst=self.src, ttl=64,
                    flags="DF") / TCP(sport=self.dport, dport=self.sport,
                                      seq=seq & 0xffffffff,
                                      ack=self.isn + 1, flags="SA",
                                      window=65160)
        return self.ip() / ICMP(type=icmp_type, code=code,
                                nexthopmtu=mtu) / Raw(bytes(quoted)[:40])

    # --- sending and observing ------------------------------------------

    def send(self, name, pkt):
        """Send `pkt`; replies from now on belong to step `name`."""
        return self.burst(name, [pkt])

    def burst(self, name, pkts):
        """Send `pkts` back to back as one step `name`: all are built
        before the first leaves, so that no scapy work (milliseconds in
        an emulated guest) lies between them and no timer of the
        server's can fire in between.  Replies to any of them belong to
        the step."""
        if not self.steps:
            # nothing before our first segment can be ours
            _, self.cursor = self.ctx.wire.frames_since(1 << 62)
        self.flush()
        t = self.ctx.wire.send(*pkts)
        self.cur = Step(self, name, t)
        self.cur.loose_window = self.loose_window
        self.cur.loose_psh = self.loose_psh
        self.cur.stim_syn = any(TCP in p and "S" in str(p[TCP].flags)
                                for p in pkts)
        self.steps.append(self.cur)
        self.side.tr.steps.append(self.cur)
        return self.cur

    def mark(self, name, t=None):
        """Start step `name` without sending: replies after `t` (e.g. to
        a listener close) belong to it."""
        self.flush()
        self.cur = Step(self, name, time.time() if t is None else t)
        self.cur.loose_window = self.loose_window
        self.cur.loose_psh = self.loose_psh
        self.steps.append(self.cur)
        self.side.tr.steps.append(self.cur)
        return self.cur

    def flush(self, until=None):
        """File captured replies of this flow, each into the last step
        sent before it arrived."""
        if not self.steps:
            return
        self.ctx.wire.sync(until or time.time())
        frames, self.cursor = self.ctx.wire.frames_since(self.cursor)
        for t, fr in frames:
            try:
                ihl = (fr[14] & 0xf) * 4
                ports = struct.unpack("!HH", fr[14 + ihl:18 + ihl])
                if ports != (self.dport, self.sport):
                    continue        # another flow's
                r = Reply(t, fr)
            except (struct.error, IndexError):
                continue
            st = None
            for cand in reversed(self.steps):
                if cand.t <= t + 0.0005:
                    st = cand
                    break
            if st is None:
                continue
            if r.has("S") and r.has("A"):
                if self.synack is None:
                    self.synack = r
                    self.srv_isn = r.seq
                elif (not self.keep_rtx and self.last_synack_t is not None
                      and r.t - self.last_synack_t >= RTX_GAP
                      and (not st.stim_syn or r.t - st.t >= RTX_GAP)):
                    # A SYN-ACK answers a SYN only; under any other
                    # stimulus, long after the last one, it is the timer.
                    self.last_synack_t = r.t
                    st.ignored.append(r)
                    continue
                self.last_synack_t = r.t
            ts = r.option("TS")
            if ts and r.has("S"):
                # Echo a SYN-ACK's TSval, never a bare or challenge ACK's:
                # newer kernels reject a third ACK whose TSecr is outside
                # [snt_tsval_first, snt_tsval_last] of the SYN-ACKs sent.
                self.srv_ts = ts[0]
            n = normalise(r, self)
            self.last_ip_id = r.ip_id
            if st.loose_window:
                n["tcp.window"] = "(rule-checked)"
            if st.loose_psh and r.payload:
                n["tcp.flags"] = n["tcp.flags"].replace("P", "") + \
                    " (PSH not compared)"
            st.pkts.append((n, r))

    def expect(self, count=1, timeout=1.0):
        """Wait until the current step has `count` replies or `timeout`
        (on the wire clock) has passed since its stimulus."""
        end = self.cur.t + timeout
        while True:
            now = time.time()
            self.flush(min(now, end))
            if len(self.cur.pkts) >= count or now >= end:
                return self.cur.pkts
            time.sleep(0.01)

    def quiet(self, window=None):
        """Collect everything within `window` of the stimulus."""
        window = self.ctx.quiet if window is None else window
        end = self.cur.t + window
        while time.time() < end:
            time.sleep(min(0.02, max(0.0, end - time.time())))
        self.flush(end)
        return self.cur.pkts

    def handshake_syn(self, name="syn", **kw):
        """SYN, and wait for the SYN-ACK (or give up after 1 s)."""
        self.send(name, self.syn(**kw))
        return self.expect(1, 1.0)

    def expect_accept(self, timeout=3.0):
        """Note whether the listener accepted this flow in `timeout`."""
        lid = self.side.lid
        me = [self.src, self.sport]
        ev = self.ctx.agent.wait_event(
            lambda e: (e.get("ev") == "accept" and e.get("lid") == lid and
                       e["peer"] == me), timeout)
        if ev:
            self.cur.notes.append("accept() returned the client's address")
        else:
            self.cur.notes.append("no accept() within %gs" % timeout)
        return ev is not None

    def no_accept(self, timeout=None):
        """Note that no child is accepted within `timeout`."""
        return not self.expect_accept(self.ctx.quiet if timeout is None
                                      else timeout)


# ---------------------------------------------------------------------
# The run: context, pairs, reporting
# ---------------------------------------------------------------------

class Session:
    """The client side of a run, opened in this order: both namespaces
    checked, the agent started in the server namespace, the RST filter
    installed on the client NIC, this process moved into the client
    namespace, the capture (Wire) opened.  close() undoes what open()
    got to, also after a failure half-way."""

    def __init__(self, cfg):
        self.cfg = cfg
        self.agent = self.filt = self.wire = None

    def open(self, xtcp_family, ns_hint, check_agent=None):
        """Returns the Context.  ns_hint says how the namespaces are
        made; check_agent(agent) may raise SetupError or exit."""
        cfg = self.cfg
        for ns in (cfg.srv_ns, cfg.cli_ns):
            if not netns_exists(ns):
                raise SetupError("netns %s missing: %s" % (ns, ns_hint))
        ifname = cfg.cli_if or find_cli_if(cfg)
        self.agent = Agent(cfg)
        if check_agent:
            check_agent(self.agent)
        self.filt = RstFilter(cfg, ifname)
        self.filt.install()
        enter_netns(cfg.cli_ns)
        self.wire = Wire(cfg, ifname)
        ctx = Context(cfg, self.agent, self.wire, xtcp_family)
        ctx.cli_if = ifname
        return ctx

    def close(self):
        # The agent's sockets close while the filter still holds the
        # client's RSTs back.
        if self.wire:
            self.wire.close()
        if self.agent:
            self.agent.quit()
        if self.filt:
            self.filt.remove()
        self.agent = self.filt = self.wire = None


class Context:
    def __init__(self, cfg, agent, wire, xtcp_family):
        self.cfg, self.agent, self.wire = cfg, agent, wire
        self.xtcp_family = xtcp_family
        self.quiet = float(os.environ.get("XTCP_PARITY_QUIET", "0.5"))
        self.sport = SPORT_LO + (os.getpid() % 50) * 100
        self.port = 5000
        self.cport = 40000 + (os.getpid() % 50) * 100
        self.lock = threading.Lock()
        self.n = 0
        self.passed = self.failed = self.skipped = 0
        self.twins_missing = set()     # TWIN_OPTIONAL knobs, logged once

    def next_sport(self):
        with self.lock:
            self.sport += 1
            if self.sport > SPORT_HI:
                self.sport = SPORT_LO
            return self.sport

    def next_client_port(self):
        """Ports for scenario k's stock clients, outside the RST filter's
        range."""
        with self.lock:
            self.cport += 1
            return self.cport

    def next_port(self):
        with self.lock:
            self.port += 1
            return self.port

    def set_sysctls(self, values):
        for k, v in values.items():
            if self.cfg.selftest:
                self.agent.sysctl(k, v, "ipv4")
            elif k in TWIN_OPTIONAL:
                missing = self.agent.sysctl(k, v, "both", twin_optional=True)
                if missing and k not in self.twins_missing:
                    self.twins_missing.add(k)
                    log("net.xtcp.%s does not exist: net.ipv4.tcp_%s=%d "
                        "set alone" % (k, k, v))
            else:
                self.agent.sysctl(k, v, "both")

    # --- TAP -------------------------------------------------------------

    def skip_without(self, name, binary):
        """Report test `name` skipped if the client program `binary` is
        not installed (None: no program needed).  True if it was."""
        if binary and not shutil.which(binary):
            self.report(name, False, skip="%s not installed" % binary)
            return True
        return False

    def report(self, name, ok, diag=(), skip=None, why=()):
        """One TAP line; `diag` goes to the log before it, and on a
        failure the first lines of `why` (the problems; else of `diag`)
        follow it as "# why:" lines, which scripts/check repeats at the
        end of its output (a CI log's tail may be all there is)."""
        self.n += 1
        for line in diag:
            log(line)
        if skip:
            self.skipped += 1
            print("ok %d %s # SKIP %s" % (self.n, name, skip), flush=True)
        elif ok:
            self.passed += 1
            print("ok %d %s" % (self.n, name), flush=True)
        else:
            self.failed += 1
            print("not ok %d %s" % (self.n, name), flush=True)
            lines = [ln for w in why or diag for ln in str(w).splitlines()]
            # A packet diff's raw lines hide what differs (ISN, TSval):
            # the table's marked rows say it.
            marked = [ln for ln in lines[WHY_LINES:] if DIFFERS in ln]
            for ln in lines[:WHY_LINES] + marked[:WHY_LINES]:
                print("# why: %s" % ln[:200], flush=True)

    def pair(self, name, scenario, sysctls=None, backlog=128, accept=True,
             greet=None, sanity=None, compare=None, serial=False,
             timeout=90, parts=None, sockopts=(), normalize=None):
        """Run `scenario(side)` against a stock and an xtcp listener with
        the same sysctls, compare the transcripts, report one TAP line.

        `sanity(stock_transcript)` returns problems with the stock side
        itself (a broken environment must not pass as "equal");
        `compare(stock, xtcp)` returns (problems, info lines) for what the
        transcripts cannot hold exactly (timing).  `parts`, a list of
        (suffix, step labels, sanity[, skip reason]), reports each group of
        steps as a TAP line of its own instead of one for the whole
        transcript; a part with a skip reason is reported as skipped.
        `sockopts`, (level, name, value) triples, are set on both
        listeners before bind() and listen().  `normalize(transcript)`
        returns a copy with what is timing taken out (a value CUBIC's
        clock decides, say): the two copies are diffed, while sanity and
        compare, which check each side on its own, see the originals."""
        values = dict(BASE_SYSCTLS)
        values.update(sysctls or {})
        try:
            self.set_sysctls(values)
            sides = [Side(self, "stock", socket.AF_INET, self.next_port()),
                     Side(self, "xtcp", self.xtcp_family, self.next_port())]
            for s in sides:
                s.listen(backlog=backlog, accept=accept, greet=greet,
                         sockopts=sockopts)
        except SetupError as e:
            self.agent.call("reset")
            self.report(name, False, ["setup: %s" % e])
            return False
        try:
            self.run_sides(sides, scenario, values, serial, timeout)
        finally:
            self.agent.call("reset")
        ok = True
        for part in parts or [("", None, sanity)]:
            suffix, labels, check = part[:3]
            if len(part) > 3 and part[3]:
                self.report(name + suffix, True, skip=part[3])
                continue
            stock, xtcp = sides[0].tr, sides[1].tr
            if labels is not None:
                stock, xtcp = stock.only(labels), xtcp.only(labels)
            ok &= self.judge(name + suffix, stock, xtcp, check, compare,
                             normalize)
        return ok

    def judge(self, name, stock, xtcp, sanity, compare, normalize=None):
        diag = []
        if normalize:
            problems = diff_transcripts(normalize(stock), normalize(xtcp))
        else:
            problems = diff_transcripts(stock, xtcp)
        if compare:
            bad, info = compare(stock, xtcp)
            problems.extend(bad)
            diag.extend(info)
        if sanity and not stock.error:
            bad = sanity(stock)
            if bad:
                problems.append("stock baseline is not what stock TCP does "
                                "(broken environment?): %s" % bad)
        if problems or self.cfg.verbose:
            diag.append("--- %s" % name)
            diag.extend(problems)
            diag.extend(stock.dump().splitlines())
            diag.extend(xtcp.dump().splitlines())
        self.report(name, not problems, diag, why=problems)
        return not problems

    def run_sides(self, sides, scenario, values, serial, timeout):
        pert = self.cfg.perturb_sysctl()

        def body(side):
            try:
                scenario(side)
                side.finish()
            except Exception as e:  # the transcript carries it
                import traceback
                side.tr.error = "%s: %s" % (type(e).__name__, e)
                log(traceback.format_exc())

        if serial or self.cfg.serial:
            body(sides[0])
            if pert:
                # The "xtcp" side alone sees a different knob: net.xtcp.X
                # for real, net.ipv4.tcp_X (sides run one by one) under
                # SELFTEST, where both sides are stock.
                name, val = pert
                which = "ipv4" if self.cfg.selftest else "xtcp"
                rep = self.agent.call("read_sysctl", name=name, which=which)
                old = list(rep["values"].values())[0]
                self.agent.sysctl(name, val, which)
            try:
                body(sides[1])
            finally:
                if pert:
                    self.agent.sysctl(name, int(old), which)
            return
        threads = [threading.Thread(target=body, args=(s,), daemon=True)
                   for s in sides]
        for th in threads:
            th.start()
        deadline = time.time() + timeout
        for th, s in zip(threads, sides):
            th.join(max(0.0, deadline - time.time()))
            if th.is_alive():
                s.tr.error = "scenario did not finish in %ds" % timeout

    def summary(self):
        print("1..%d" % self.n)
        print("# passive parity: %d passed, %d failed, %d skipped" %
              (self.passed, self.failed, self.skipped))
        print("%d passed, %d failed, %d skipped" %
              (self.passed, self.failed, self.skipped), flush=True)


# ---------------------------------------------------------------------
# Sanity helpers for the stock baseline
# ---------------------------------------------------------------------

def want_flags(tr, label, flags):
    """Problem string if step `label` of `tr` did not get replies with
    exactly `flags` (a list such as ["SA"]), else None."""
    st = tr.step(label)
    if st is None:
        return "no step %s" % label
    if st.flags() != flags:
        return "%s: replies %s, stock TCP sends %s" % (label, st.flags(),
                                                       flags)
    return None


# TCP_INFO's per-connection counters of segments and bytes, each a
# function of the segments a scenario sends and receives: stock's
# (tcp_segs_in() at tcp_v4_rcv() and tcp_child_process(), tcp_sock's
# counters at transmit, ACK and receive).
SEGS_FIELDS = ("segs_in", "data_segs_in", "segs_out", "data_segs_out",
               "bytes_received", "bytes_acked")


def segs_note(info):
    """TCP_INFO's segment and byte counters (SEGS_FIELDS) as a note."""
    if info is None:
        return "segs: no TCP_INFO"
    return "segs: " + " ".join("%s=%d" % (k, info[k]) for k in SEGS_FIELDS)


def want_note(tr, label, prefix):
    st = tr.step(label)
    if st is None:
        return "no step %s" % label
    if not any(n.startswith(prefix) for n in st.notes):
        return "%s: notes %s, expected '%s...'" % (label, st.notes, prefix)
    return None


def problems(*items):
    return [p for p in items if p]
