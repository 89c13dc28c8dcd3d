#!/usr/bin/python3
# SPDX-License-Identifier: GPL-2.0
"""Server-side agent for the passive-open parity tests.

Runs inside the server namespace (started by xtcplib.Agent through
`ip netns exec`) and holds every listener of a test run, so that one
Python start-up (slow in a TCG guest) serves the whole run.  It speaks
JSON lines: a request {"id": N, "op": ...} on stdin gets exactly one
reply {"id": N, "ok": true|false, ...} on stdout; accepted connections
are reported as they happen with {"ev": "accept", "lid": L, "peer": [ip,
port]}.

Why not tools/xtcp-serve: the scenarios need, on one listener, to start
and stop accepting (accept-queue overflow), to drain the accept queue on
demand, to close the listener while children are pending, to set socket
options on one side only (the framework's own perturbation self-test) and
to set the net.ipv4.tcp_* knobs together with their net.xtcp.* twins in
the server namespace.

Every blocking call has a timeout; the agent exits on EOF of stdin.
"""
import errno
import fcntl
import hashlib
import json
import os
import select
import socket
import struct
import sys
import threading
import time

sys.path.insert(0, os.path.dirname(os.path.dirname(
    os.path.abspath(__file__))))
from xtcp_sock import make_socket  # noqa: E402

OUT_LOCK = threading.Lock()
SINK = "\0sink"   # a listener's greet that makes it read to EOF instead
DOWNLOAD = "\0download:"  # + N: an HTTP/1.0 response of N pattern bytes
PATTERN = b"0123456789abcdef"


def greeting(greet):
    """The bytes a serving listener sends for its `greet`."""
    if not greet.startswith(DOWNLOAD):
        return greet.encode()
    n = int(greet[len(DOWNLOAD):])
    head = ("HTTP/1.0 200 OK\r\nContent-Length: %d\r\nConnection: close"
            "\r\n\r\n" % n).encode()
    return head + (PATTERN * (n // len(PATTERN) + 1))[:n]


def emit(obj):
    with OUT_LOCK:
        sys.stdout.write(json.dumps(obj) + "\n")
        sys.stdout.flush()


def errname(e):
    return errno.errorcode.get(e.errno, str(e.errno)) if e.errno else str(e)


class Listener:
    def __init__(self, lid, req):
        self.lid = lid
        self.children = []
        self.lock = threading.Lock()
        self.stop = threading.Event()
        self.thread = None
        self.greet = req.get("greet")
        self.sock = make_socket(int(req["family"]))
        try:
            self.sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
            for level, name, value in req.get("sockopts", []):
                # a string (TCP_CONGESTION's name) goes as its bytes
                self.sock.setsockopt(level, name, value.encode()
                                     if isinstance(value, str) else value)
            self.sock.bind((req["addr"], int(req["port"])))
            self.sock.listen(int(req["backlog"]))
        except OSError:
            self.sock.close()
            raise
        if req.get("accept"):
            self.thread = threading.Thread(target=self.accept_loop,
                                           daemon=True)
            self.thread.start()

    def report(self, child, peer):
        local = child.getsockname()
        emit({"ev": "accept", "lid": self.lid, "peer": list(peer),
              "local": list(local), "t": time.time()})

    def accept_loop(self):
        while not self.stop.is_set():
            try:
                r, _, _ = select.select([self.sock], [], [], 0.1)
            except (OSError, ValueError):
                return
            if not r:
                continue
            try:
                child, peer = self.sock.accept()
            except OSError as e:
                emit({"ev": "accept_error", "lid": self.lid,
                      "error": errname(e)})
                continue
            if self.greet is not None:
                self.report(child, peer)
                serve = self.sink if self.greet == SINK else self.serve
                threading.Thread(target=serve, args=(child,),
                                 daemon=True).start()
            else:
                # kept before it is reported: abort() may follow at once
                with self.lock:
                    self.children.append((child, peer))
                self.report(child, peer)

    def serve(self, child):
        """Stock clients (curl, nc): send the greeting, wait for the
        client to close first (so no TIME_WAIT is left here), close."""
        peer = None
        data = greeting(self.greet)
        result = "sent %d bytes, client closed" % len(data)
        try:
            peer = list(child.getpeername())
            child.settimeout(90)
            child.sendall(data)
            child.settimeout(5)
            deadline = time.time() + 5
            while time.time() < deadline:
                if not child.recv(4096):
                    break
        except OSError as e:
            result = "%s: %s" % (errname(e) if isinstance(e.errno, int)
                                 else type(e).__name__, e.strerror or e)
        finally:
            child.close()
            emit({"ev": "served", "lid": self.lid, "peer": peer,
                  "result": result})

    def drain(self):
        """accept() whatever is queued now, without waiting."""
        peers = []
        self.sock.setblocking(False)
        try:
            for _ in range(1024):
                try:
                    child, peer = self.sock.accept()
                except BlockingIOError:
                    break
                with self.lock:
                    self.children.append((child, peer))
                peers.append(list(peer))
        finally:
            self.sock.setblocking(True)
        return peers

    def abort(self, peer, timeout):
        """Close the accepted connections from `peer` ([ip, port]; None:
        all) with SO_LINGER {1, 0}, i.e. abort them with a RST, waiting
        up to `timeout` s for one to be accepted.  Returns how many."""
        deadline = time.time() + timeout
        while True:
            with self.lock:
                mine = [c for c in self.children
                        if peer is None or list(c[1]) == list(peer)]
                self.children = [c for c in self.children if c not in mine]
            if mine or time.time() >= deadline:
                break
            time.sleep(0.01)
        for c in mine:
            abort_close(c[0])
        return len(mine)

    def child(self, peer, timeout):
        """The accepted connection from `peer`, waiting up to `timeout`
        s for accept(); None if there is none."""
        deadline = time.time() + timeout
        while True:
            with self.lock:
                for c in self.children:
                    if list(c[1]) == list(peer):
                        return c[0]
            if time.time() >= deadline:
                return None
            time.sleep(0.01)

    def recv(self, peer, nbytes, timeout):
        """Read from `peer`'s connection until `nbytes` bytes, EOF, an
        error or `timeout` s: what a server's read loop sees."""
        child = self.child(peer, timeout)
        if child is None:
            return {"ok": False, "error": "no connection from %s" % peer}
        data, eof, err = b"", False, None
        child.settimeout(timeout)
        try:
            while len(data) < nbytes:
                chunk = child.recv(nbytes - len(data))
                if not chunk:
                    eof = True
                    break
                data += chunk
        except OSError as e:
            err = errname(e) if isinstance(e.errno, int) else "timeout"
        return {"ok": True, "len": len(data), "eof": eof, "error": err,
                "sha256": hashlib.sha256(data).hexdigest()[:16]}

    def send(self, peer, nbytes, timeout):
        """Write `nbytes` (a fixed pattern) on `peer`'s connection from a
        thread, so that a write that waits for the peer's ACKs does not
        hold the agent; an event reports how it ended."""
        child = self.child(peer, timeout)
        if child is None:
            return {"ok": False, "error": "no connection from %s" % peer}
        data = (PATTERN * (nbytes // len(PATTERN) + 1))[:nbytes]

        def write():
            result = "sent %d bytes" % nbytes
            try:
                child.settimeout(30)
                child.sendall(data)
            except OSError as e:
                result = errname(e) if isinstance(e.errno, int) \
                    else "timeout"
            emit({"ev": "sent", "lid": self.lid, "peer": list(peer),
                  "result": result})
        threading.Thread(target=write, daemon=True).start()
        return {"ok": True}

    def shutdown_child(self, peer, how, timeout):
        """shutdown(`how`) on `peer`'s connection; the errno name or None."""
        child = self.child(peer, timeout)
        if child is None:
            return "no connection"
        try:
            child.shutdown(how)
        except OSError as e:
            return errname(e)
        return None

    def setsockopt_child(self, peer, opts, timeout):
        """setsockopt() on `peer`'s connection, each of `opts` a
        [level, name, int value]; the first errno name, or None."""
        child = self.child(peer, timeout)
        if child is None:
            return "no connection"
        try:
            for level, name, value in opts:
                child.setsockopt(int(level), int(name), int(value))
        except OSError as e:
            return errname(e)
        return None

    def calls(self, peer, steps, timeout):
        """Socket calls on `peer`'s connection, none of them blocking,
        each answered by one word: what a server using urgent data (and
        poll(), sockatmark(), MSG_PEEK) sees, step by step.  A step is
        "recv N", "peek N", "oob", "oob_peek", "atmark", "poll",
        "errqueue" (recvmsg(MSG_ERRQUEUE): the queued ICMP error),
        "inline 0|1", "send N" or "send_oob N" (N pattern bytes)."""
        child = self.child(peer, timeout)
        if child is None:
            return ["no connection"]
        out = []
        for step in steps:
            out.append(one_call(child, *step.split()))
        return out

    def getsockopt(self, peer, level, name, timeout):
        """An int option of `peer`'s connection (None: the listener's):
        {"ok": True, "value": V}, or the errno name in "error"."""
        sock = self.sock if peer is None else self.child(peer, timeout)
        if sock is None:
            return {"ok": False, "error": "no connection from %s" % peer}
        try:
            return {"ok": True, "value": sock.getsockopt(level, name)}
        except OSError as e:
            return {"ok": False, "error": errname(e)}

    def tcp_info(self, peer, timeout):
        """getsockopt(TCP_INFO) on `peer`'s connection, as a dict."""
        child = self.child(peer, timeout)
        if child is None:
            return {"ok": False, "error": "no connection from %s" % peer}
        try:
            raw = child.getsockopt(socket.IPPROTO_TCP, TCP_INFO,
                                   struct.calcsize(TCP_INFO_FMT))
        except OSError as e:
            return {"ok": False, "error": errname(e)}
        if len(raw) < struct.calcsize(TCP_INFO_FMT):
            return {"ok": False, "error": "TCP_INFO of %d bytes" % len(raw)}
        info = dict(zip(TCP_INFO_FIELDS, struct.unpack(TCP_INFO_FMT, raw)))
        info.update(cc_info(child))
        return {"ok": True, "info": info}

    def close_child(self, peer, timeout):
        """close() `peer`'s connection without SO_LINGER."""
        child = self.child(peer, timeout)
        if child is None:
            return 0
        with self.lock:
            self.children = [c for c in self.children if c[0] is not child]
        child.close()
        return 1

    def sink(self, child):
        """Stock clients that upload: read until EOF, report the size,
        the digest and SO_RCVBUF before and after (autotuning), close."""
        peer, h, n, result = None, hashlib.sha256(), 0, "eof"
        rcvbuf = [None, None]
        try:
            peer = list(child.getpeername())
            rcvbuf[0] = child.getsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF)
            child.settimeout(20)
            while True:
                chunk = child.recv(65536)
                if not chunk:
                    break
                h.update(chunk)
                n += len(chunk)
            rcvbuf[1] = child.getsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF)
        except OSError as e:
            result = errname(e) if isinstance(e.errno, int) else "timeout"
        finally:
            child.close()
            emit({"ev": "sunk", "lid": self.lid, "peer": peer, "len": n,
                  "sha256": h.hexdigest(), "result": result,
                  "rcvbuf": rcvbuf})

    def close(self):
        self.stop.set()
        if self.thread:
            self.thread.join(2)
        self.sock.close()
        with self.lock:
            children, self.children = self.children, []
        for c in children:
            # RST, not FIN: no FIN_WAIT/TIME_WAIT left behind to
            # retransmit into a later scenario's capture.
            abort_close(c[0])


# struct tcp_info (include/uapi/linux/tcp.h) up to tcpi_snd_wnd, which
# 6.1 and 6.12 both have; names without the tcpi_ prefix.  "wscale" is
# snd_wscale:4 and rcv_wscale:4, "flags" the bit fields after them.
TCP_INFO = getattr(socket, "TCP_INFO", 11)
TCP_INFO_FMT = "=8B24I4Q6IQ3Q2I2Q4I"
TCP_INFO_FIELDS = (
    "state", "ca_state", "retransmits", "probes", "backoff", "options",
    "wscale", "flags",
    "rto", "ato", "snd_mss", "rcv_mss", "unacked", "sacked", "lost",
    "retrans", "fackets", "last_data_sent", "last_ack_sent",
    "last_data_recv", "last_ack_recv", "pmtu", "rcv_ssthresh", "rtt",
    "rttvar", "snd_ssthresh", "snd_cwnd", "advmss", "reordering",
    "rcv_rtt", "rcv_space", "total_retrans",
    "pacing_rate", "max_pacing_rate", "bytes_acked", "bytes_received",
    "segs_out", "segs_in", "notsent_bytes", "min_rtt", "data_segs_in",
    "data_segs_out",
    "delivery_rate",
    "busy_time", "rwnd_limited", "sndbuf_limited",
    "delivered", "delivered_ce",
    "bytes_sent", "bytes_retrans",
    "dsack_dups", "reord_seen", "rcv_ooopack", "snd_wnd")

# TCP_CC_INFO: struct tcp_dctcp_info (include/uapi/linux/inet_diag.h)
# when the algorithm is DCTCP (or its Reno fallback).
TCP_CC_INFO = 26
DCTCP_INFO_FMT = "=HHIII"
DCTCP_INFO_FIELDS = ("dctcp_enabled", "dctcp_ce_state", "dctcp_alpha",
                     "dctcp_ab_ecn", "dctcp_ab_tot")


def cc_info(sock):
    """The connection's algorithm (TCP_CONGESTION) as "ca_name", and for
    DCTCP its TCP_CC_INFO fields; what fails is left out."""
    out = {}
    try:
        name = sock.getsockopt(socket.IPPROTO_TCP, socket.TCP_CONGESTION, 16)
        out["ca_name"] = name.split(b"\0", 1)[0].decode()
        if out["ca_name"].startswith("dctcp"):
            raw = sock.getsockopt(socket.IPPROTO_TCP, TCP_CC_INFO, 64)
            if len(raw) >= struct.calcsize(DCTCP_INFO_FMT):
                out.update(zip(DCTCP_INFO_FIELDS, struct.unpack_from(
                    DCTCP_INFO_FMT, raw)))
    except OSError:
        pass
    return out


POLL_BITS = (("IN", select.POLLIN), ("PRI", select.POLLPRI),
             ("OUT", select.POLLOUT), ("RDHUP", 0x2000),
             ("ERR", select.POLLERR), ("HUP", select.POLLHUP))
SIOCATMARK = 0x8905
IP_RECVERR = 11


def errqueue_word(sock):
    """recvmsg(MSG_ERRQUEUE): the first queued error's struct
    sock_extended_err (errno, origin, ICMP type and code) and how many
    bytes of the quoted segment came with it."""
    data, anc, _, _ = sock.recvmsg(64, 512, socket.MSG_ERRQUEUE |
                                   socket.MSG_DONTWAIT)
    for level, typ, cdata in anc:
        if level == socket.IPPROTO_IP and typ == IP_RECVERR:
            err, origin, itype, code = struct.unpack_from("=IBBB", cdata)
            return "errqueue=%s origin=%d type=%d code=%d len=%d" % (
                errno.errorcode.get(err, str(err)), origin, itype, code,
                len(data))
    return "errqueue=no IP_RECVERR message (%d bytes)" % len(data)


def one_call(sock, what, arg=None):
    """One step of Listener.calls(): its result as a word."""
    dontwait = socket.MSG_DONTWAIT
    try:
        if what in ("recv", "peek", "oob", "oob_peek"):
            flags = dontwait | {"recv": 0, "peek": socket.MSG_PEEK,
                                "oob": socket.MSG_OOB,
                                "oob_peek": socket.MSG_OOB |
                                socket.MSG_PEEK}[what]
            data = sock.recv(int(arg or 1), flags)
            return "%s=%r" % (what, data.decode("latin-1"))
        if what == "errqueue":
            return errqueue_word(sock)
        if what == "atmark":
            buf = fcntl.ioctl(sock.fileno(), SIOCATMARK, b"\0" * 4)
            return "atmark=%d" % struct.unpack("i", buf)[0]
        if what == "poll":
            p = select.poll()
            p.register(sock, sum(b for _, b in POLL_BITS))
            ev = p.poll(0)
            mask = ev[0][1] if ev else 0
            return "poll=" + "|".join(n for n, b in POLL_BITS if mask & b)
        if what == "inline":
            sock.setsockopt(socket.SOL_SOCKET, socket.SO_OOBINLINE,
                            int(arg))
            return "inline=%s" % arg
        if what in ("send", "send_oob"):
            n = int(arg)
            data = (PATTERN * (n // len(PATTERN) + 1))[:n]
            flags = dontwait | (socket.MSG_OOB if what == "send_oob" else 0)
            return "%s=%d" % (what, sock.send(data, flags))
    except OSError as e:
        return "%s:%s" % (what, errname(e))
    return "%s: unknown step" % what


def unprivileged_sockopt(family, level, name, value):
    """setsockopt(`value`) and getsockopt() of int option `name` on a new
    socket of `family`, made and set in a forked child that first drops
    to uid/gid 65534 (so its capabilities, CAP_NET_ADMIN among them, are
    gone).  Returns {"ok": True, "capeff": the child's CapEff, "set": 0 or
    the errno name, "get": the value or the errno name}."""
    rfd, wfd = os.pipe()
    pid = os.fork()
    if pid == 0:
        out = {}
        try:
            os.close(rfd)
            os.setgroups([])
            os.setgid(65534)
            os.setuid(65534)
            with open("/proc/self/status") as f:
                out["capeff"] = [ln.split()[1] for ln in f
                                 if ln.startswith("CapEff:")][0]
            sock = make_socket(family)
            try:
                sock.setsockopt(level, name, value)
                out["set"] = 0
            except OSError as e:
                out["set"] = errname(e)
            try:
                out["get"] = sock.getsockopt(level, name)
            except OSError as e:
                out["get"] = errname(e)
            sock.close()
        except Exception as e:  # all of it goes back to the agent
            out["error"] = "%s: %s" % (type(e).__name__, e)
        os.write(wfd, json.dumps(out).encode())
        os._exit(0)
    os.close(wfd)
    with os.fdopen(rfd, "rb") as f:
        raw = f.read()
    os.waitpid(pid, 0)
    try:
        out = json.loads(raw)
    except ValueError:
        return {"ok": False, "error": "child said %r" % raw}
    if "error" in out:
        return {"ok": False, "error": out["error"]}
    out["ok"] = True
    return out


def abort_close(sock):
    """close() with SO_LINGER {1, 0}: tcp_close() -> tcp_disconnect(),
    an abort with a RST instead of an orderly FIN."""
    try:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER,
                        struct.pack("ii", 1, 0))
    except OSError:
        pass
    sock.close()


XTCP_SYSCTL = "/proc/sys/net/xtcp/"


# net.ipv4.tcp_<name> and its twin net.xtcp.<name>
def sysctl_paths(name, which):
    paths = []
    if which in ("both", "ipv4"):
        paths.append("/proc/sys/net/ipv4/tcp_" + name)
    if which in ("both", "xtcp"):
        paths.append(XTCP_SYSCTL + name)
    return paths


def read_stock_tcp():
    """Stock TCP's counters: /proc/net/snmp's Tcp and /proc/net/netstat's
    TcpExt lines (their names do not overlap), as {name: value}."""
    out = {}
    for path, prefix in (("/proc/net/snmp", "Tcp:"),
                         ("/proc/net/netstat", "TcpExt:")):
        with open(path) as f:
            lines = [ln.split() for ln in f if ln.startswith(prefix)]
        out.update(zip(lines[0][1:], (int(v) for v in lines[1][1:])))
    return out


def read_xtcp_stat():
    """/proc/net/xtcp_stat as {name: value}, or None if it is missing.

    Accepts both layouts the kernel uses for counters: /proc/net/snmp's
    "Prefix: names" / "Prefix: values" line pairs, and one "Name value"
    per line.
    """
    try:
        with open("/proc/net/xtcp_stat") as f:
            lines = [ln.split() for ln in f if ln.strip()]
    except FileNotFoundError:
        return None
    out = {}
    i = 0
    while i < len(lines):
        ln = lines[i]
        nxt = lines[i + 1] if i + 1 < len(lines) else None
        if (ln[0].endswith(":") and nxt and nxt[0] == ln[0] and
                all(v.lstrip("-").isdigit() for v in nxt[1:])):
            for k, v in zip(ln[1:], nxt[1:]):
                out[k] = int(v)
            i += 2
            continue
        if len(ln) >= 2 and ln[1].lstrip("-").isdigit():
            out[ln[0].rstrip(":")] = int(ln[1])
        i += 1
    return out


class Agent:
    def __init__(self):
        self.listeners = {}
        self.next_lid = 1

    def op_probe(self, req):
        try:
            make_socket(int(req["family"])).close()
        except OSError as e:
            return {"ok": False, "error": errname(e)}
        return {"ok": True}

    def op_listen(self, req):
        lid = self.next_lid
        self.next_lid += 1
        try:
            self.listeners[lid] = Listener(lid, req)
        except OSError as e:
            return {"ok": False, "error": errname(e)}
        return {"ok": True, "lid": lid}

    def op_drain(self, req):
        return {"ok": True, "peers": self.listeners[req["lid"]].drain()}

    def op_abort(self, req):
        lst = self.listeners.get(req["lid"])
        if lst is None:
            return {"ok": False, "error": "no listener %s" % req["lid"]}
        return {"ok": True, "closed": lst.abort(req.get("peer"),
                                                float(req.get("wait", 0.5)))}

    def op_recv(self, req):
        lst = self.listeners.get(req["lid"])
        if lst is None:
            return {"ok": False, "error": "no listener %s" % req["lid"]}
        return lst.recv(req["peer"], int(req.get("nbytes", 65536)),
                        float(req.get("rtimeout", 1.0)))

    def op_send(self, req):
        lst = self.listeners.get(req["lid"])
        if lst is None:
            return {"ok": False, "error": "no listener %s" % req["lid"]}
        return lst.send(req["peer"], int(req["nbytes"]),
                        float(req.get("wait", 1.0)))

    def op_shutdown_child(self, req):
        lst = self.listeners.get(req["lid"])
        if lst is None:
            return {"ok": False, "error": "no listener %s" % req["lid"]}
        return {"ok": True, "error": lst.shutdown_child(
            req["peer"], int(req["how"]), float(req.get("wait", 0.5)))}

    def op_setsockopt_child(self, req):
        lst = self.listeners.get(req["lid"])
        if lst is None:
            return {"ok": False, "error": "no listener %s" % req["lid"]}
        return {"ok": True, "error": lst.setsockopt_child(
            req["peer"], req["opts"], float(req.get("wait", 0.5)))}

    def op_calls(self, req):
        lst = self.listeners.get(req["lid"])
        if lst is None:
            return {"ok": False, "error": "no listener %s" % req["lid"]}
        return {"ok": True, "results": lst.calls(
            req["peer"], req["steps"], float(req.get("wait", 0.5)))}

    def op_getsockopt(self, req):
        lst = self.listeners.get(req["lid"])
        if lst is None:
            return {"ok": False, "error": "no listener %s" % req["lid"]}
        return lst.getsockopt(req.get("peer"), int(req["level"]),
                              int(req["name"]), float(req.get("wait", 0.5)))

    def op_unpriv_sockopt(self, req):
        return unprivileged_sockopt(int(req["family"]), int(req["level"]),
                                    int(req["name"]), int(req["value"]))

    def op_tcp_info(self, req):
        lst = self.listeners.get(req["lid"])
        if lst is None:
            return {"ok": False, "error": "no listener %s" % req["lid"]}
        return lst.tcp_info(req["peer"], float(req.get("wait", 0.5)))

    def op_close_child(self, req):
        lst = self.listeners.get(req["lid"])
        if lst is None:
            return {"ok": False, "error": "no listener %s" % req["lid"]}
        return {"ok": True, "closed": lst.close_child(
            req["peer"], float(req.get("wait", 0.5)))}

    def op_close(self, req):
        lst = self.listeners.pop(req["lid"], None)
        if lst:
            lst.close()
        return {"ok": True}

    def op_reset(self, req):
        for lst in self.listeners.values():
            lst.close()
        self.listeners = {}
        return {"ok": True}

    def op_sysctl(self, req):
        """Write the value to each path of `which`; with `twin_optional`
        a net.xtcp path that does not exist is skipped and reported in
        "missing" (a knob the module does not have yet)."""
        done, missing = [], []
        for path in sysctl_paths(req["name"], req.get("which", "both")):
            if (req.get("twin_optional") and path.startswith(XTCP_SYSCTL)
                    and not os.path.exists(path)):
                missing.append(path)
                continue
            try:
                with open(path, "w") as f:
                    v = req["value"]
                    # text knobs (tcp_fastopen_key) as given
                    f.write("%s\n" % v if isinstance(v, str)
                            else "%d\n" % int(v))
                done.append(path)
            except OSError as e:
                return {"ok": False, "error": "%s: %s" % (path, errname(e))}
        return {"ok": True, "paths": done, "missing": missing}

    def op_read_sysctl(self, req):
        vals = {}
        for path in sysctl_paths(req["name"], req.get("which", "both")):
            try:
                with open(path) as f:
                    vals[path] = f.read().strip()
            except OSError as e:
                vals[path] = errname(e)
        return {"ok": True, "values": vals}

    def op_stats(self, req):
        return {"ok": True, "stock": read_stock_tcp(),
                "xtcp": read_xtcp_stat()}

    def run(self):
        for line in sys.stdin:
            line = line.strip()
            if not line:
                continue
            req = json.loads(line)
            op = req.get("op")
            if op == "quit":
                emit({"id": req.get("id"), "ok": True})
                break
            fn = getattr(self, "op_" + str(op), None)
            if fn is None:
                rep = {"ok": False, "error": "unknown op %r" % op}
            else:
                try:
                    rep = fn(req)
                except Exception as e:  # report, never die mid-run
                    rep = {"ok": False, "error": "%s: %s" %
                           (type(e).__name__, e)}
            rep["id"] = req.get("id")
            emit(rep)
        self.op_reset({})


if __name__ == "__main__":
    # The runner reads our stdout line by line.
    sys.stdout.reconfigure(line_buffering=True)
    emit({"ev": "hello", "pid": os.getpid()})
    Agent().run()
