#!/usr/bin/python3
# SPDX-License-Identifier: GPL-2.0
"""Flow hashes (skb->hash) of a passive connection's segments, stock vs xtcp.

  txhash.py SRV_NS CLI_NS SRV_IP SRV_DEV CLI_DEV

Stock gives each request a random flow hash (tcp_conn_request()'s
net_tx_rndhash()), which its SYN-ACKs carry and the child inherits
(sk_txhash), draws a new one for every SYN-ACK it sends again
(tcp_rtx_synack()) and after every retransmission timeout
(tcp_write_timeout()'s sk_rethink_txhash(), counted in TcpTimeoutRehash),
when SO_TXREHASH (net.core.txrehash) allows it: the next attempt may then
leave by another TX queue, ECMP path or tunnel source port.  The hash is
not on the wire, so a drr qdisc at the server NIC's egress sorts each
segment by the low 4 bits of its hash into one of 16 drr classes per
port (cls_flow's rxhash key reads skb_get_hash(): the hash the stack set,
or, if it set none, the flow dissector's, which is the same for every
segment of a connection).
Both stacks run at once, on their own ports:

  1. one SYN (hping3) whose SYN-ACKs are dropped at the client NIC: in
     7.6 s the request sends its SYN-ACK 4 times (1 s, then doubling);
     each stack's must fall in at least 2 of the 16 classes (the chance
     that 4 random hashes share one is 1 in 4096);
  2. an established connection whose segments to the client are dropped
     after the server writes 1000 bytes: in 2 s the RTO (200 ms, then
     doubling) re-sends them 3 times; the 4 copies in at least 2
     classes, and TcpTimeoutRehash grew as TCPTimeouts did (each timeout
     rehashes), on both stacks;
  3. net.core.txrehash 0 (listeners made after it): 3 SYN-ACKs of one
     request in one class, on both stacks.

Stock must show what its source says in each (else the environment is
wrong and the line fails saying so); xtcp must show the same.  Exit 0, 1,
or 4 (AF_XTCP, hping3 or tc's ematches unavailable).
"""
import os
import re
import socket
import subprocess
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from xtcp_sock import enter_netns as enter  # noqa: E402
from xtcp_sock import make_socket, proc_counter  # noqa: E402
from xtcp_sock import xtcp_family  # noqa: E402

CLASSES = 16
PORTS = {"stock": 7401, "xtcp": 7402}
CONTROL_PORTS = {"stock": 7403, "xtcp": 7404}
SYN_SPORT = 40001


def run(ns, *cmd, check=True, stdin=None):
    return subprocess.run(["ip", "netns", "exec", ns] + list(cmd),
                          input=stdin, capture_output=True, text=True,
                          check=check)


def tc_batch(ns, lines):
    run(ns, "tc", "-batch", "-", stdin="\n".join(lines) + "\n")


def class_filters(ns, dev, ports):
    """A drr qdisc at the NIC's egress with CLASSES classes per port: a
    u32 filter per source port sends its segments to a chain whose flow
    filter maps each to the port's class base + (hash & (CLASSES - 1))
    (cls_flow's rxhash key reads skb_get_hash()); everything else goes
    to one more class (drr drops what no filter classified).  Returns {classid minor:
    (port, class)}."""
    lines = ["qdisc replace dev %s root handle 1: drr" % dev]
    minors = {}
    for i, port in enumerate(ports):
        base = 1 + i * CLASSES
        for k in range(CLASSES):
            minors[base + k] = (port, k)
        # The port's segments go on to a chain of their own, whose flow
        # filter picks the class (IPv4 header without options).
        lines += [
            "filter add dev %s parent 1: protocol ip pref %d u32 match u16 "
            "0x%x 0xffff at 20 action goto chain %d"
            % (dev, 1 + i, port, 1 + i),
            "filter add dev %s parent 1: protocol ip chain %d pref 1 handle 1 flow "
            "map key rxhash and 0x%x baseclass 1:%x"
            % (dev, 1 + i, CLASSES - 1, base)]
    rest = 1 + len(ports) * CLASSES
    lines += ["class add dev %s parent 1: classid 1:%x drr" % (dev, m)
              for m in list(minors) + [rest]]
    lines.append("filter add dev %s parent 1: pref 99 matchall classid "
                 "1:%x" % (dev, rest))
    tc_batch(ns, lines)
    return minors


def class_counts(ns, dev, minors):
    """{port: [segments in class k]} from the classes' statistics: each
    class's "Sent ... pkt" line after its "class drr 1:N" line."""
    out = run(ns, "tc", "-s", "class", "show", "dev", dev).stdout
    sent, minor = {}, None
    for line in out.splitlines():
        m = re.search(r"class drr 1:([0-9a-f]+)", line)
        if m:
            minor = int(m.group(1), 16)
            continue
        m = re.search(r"Sent \d+ bytes (\d+) pkt", line)
        if m and minor is not None and minor not in sent:
            sent[minor] = int(m.group(1))
    counts = {port: [0] * CLASSES for port, _ in minors.values()}
    for minor, (port, k) in minors.items():
        counts[port][k] = sent.get(minor, 0)
    return counts


def spread(before, after):
    """(segments, classes they fell in) between two class_counts()."""
    diff = [a - b for a, b in zip(after, before)]
    return sum(diff), sum(1 for d in diff if d)


def counters(srv_ns):
    """TCPTimeouts and TcpTimeoutRehash of stock and of xtcp in srv_ns."""
    enter(srv_ns)
    return {(stack, name): proc_counter(path, table, name)
            for stack, path, table in (
                ("stock", "/proc/net/netstat", "TcpExt"),
                ("xtcp", "/proc/net/xtcp_stat", "Xtcp"))
            for name in ("TCPTimeouts", "TcpTimeoutRehash")}


def listeners(srv_ns, fams, ip, ports, rehash):
    """net.core.txrehash `rehash` in srv_ns, then a listener per stack on
    its port (a socket copies the knob into sk_txrehash when made)."""
    run(srv_ns, "sysctl", "-qw", "net.core.txrehash=%d" % rehash)
    enter(srv_ns)
    socks = {}
    for stack, fam in fams.items():
        s = make_socket(fam)
        s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        s.bind((ip, ports[stack]))
        s.listen(8)
        socks[stack] = s
    return socks


def client_drop(cli_ns, dev, match):
    tc_batch(cli_ns, ["qdisc replace dev %s clsact" % dev,
                      "filter add dev %s ingress protocol ip pref 1 flower "
                      "ip_proto tcp %s action drop" % (dev, match)])


def client_pass(cli_ns, dev):
    run(cli_ns, "tc", "qdisc", "del", "dev", dev, "clsact", check=False)


def synack_spread(cli_ns, ip, cli_dev, srv_ns, srv_dev, classes, ports,
                  wait):
    """One SYN per stack, its SYN-ACKs dropped at the client: {stack:
    (SYN-ACKs, classes)} after `wait` s."""
    client_drop(cli_ns, cli_dev, "tcp_flags 0x12/0x12")
    before = class_counts(srv_ns, srv_dev, classes)
    for stack, port in ports.items():
        run(cli_ns, "hping3", "-q", "-S", "-c", "1",
            "-s", str(SYN_SPORT), "-k", "-p", str(port), ip, check=False)
    time.sleep(wait)
    after = class_counts(srv_ns, srv_dev, classes)
    client_pass(cli_ns, cli_dev)
    return {stack: spread(before[port], after[port])
            for stack, port in ports.items()}


def rto_spread(a, srv_ns, cli_ns, ip, srv_dev, cli_dev, classes):
    """A connection per stack; the server writes 1000 bytes that never
    reach the client for 2 s: {stack: (segments, classes)}, and the
    counter deltas."""
    enter(cli_ns)
    clients = {stack: socket.create_connection((ip, port), timeout=5)
               for stack, port in PORTS.items()}
    enter(srv_ns)
    children = {stack: a[stack].accept()[0] for stack in PORTS}
    time.sleep(0.3)     # the client's handshake ACK is counted, not ours
    client_drop(cli_ns, cli_dev, "src_ip %s" % ip)
    c0 = counters(srv_ns)
    before = class_counts(srv_ns, srv_dev, classes)
    for s in children.values():
        s.send(b"x" * 1000)
    time.sleep(2.0)
    after = class_counts(srv_ns, srv_dev, classes)
    c1 = counters(srv_ns)
    client_pass(cli_ns, cli_dev)
    for s in list(children.values()) + list(clients.values()):
        s.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER,
                     b"\1\0\0\0\0\0\0\0")
        s.close()
    res = {}
    for stack, port in PORTS.items():
        res[stack] = spread(before[port], after[port]) + tuple(
            c1[stack, n] - c0[stack, n]
            for n in ("TCPTimeouts", "TcpTimeoutRehash"))
    return res


def verdict(num, what, res, ok_of):
    """One TAP line: `ok_of(value)` must hold for stock (else the
    environment is wrong) and for xtcp."""
    bad = [s for s in ("stock", "xtcp") if not ok_of(res[s])]
    print("# %s: stock %s, xtcp %s" % (what, res["stock"], res["xtcp"]))
    why = ""
    if "stock" in bad:
        why = " # stock itself does not: the test is wrong here"
    print("%sok %d %s%s" % ("not " if bad else "", num, what, why))
    return 1 if bad else 0


def main():
    srv_ns, cli_ns, ip, srv_dev, cli_dev = sys.argv[1:6]
    xfam = xtcp_family()
    if xfam is None:
        print("1..0 # SKIP xtcp not loaded")
        return 4
    fams = {"stock": socket.AF_INET, "xtcp": xfam}
    all_ports = list(PORTS.values()) + list(CONTROL_PORTS.values())
    try:
        classes = class_filters(srv_ns, srv_dev, all_ports)
    except subprocess.CalledProcessError as e:
        print("1..0 # SKIP tc drr, u32, flow or matchall: %s"
              % e.stderr.strip())
        return 4
    print("TAP version 13")
    print("1..3")
    fails = 0
    try:
        a = listeners(srv_ns, fams, ip, PORTS, 1)
        res = synack_spread(cli_ns, ip, cli_dev, srv_ns, srv_dev, classes,
                            PORTS, 7.6)
        fails += verdict(1, "a request's 4 SYN-ACKs (SYN-ACKs, hash "
                         "classes): a new hash for each one sent again",
                         res, lambda r: r[0] >= 4 and r[1] >= 2)
        res = rto_spread(a, srv_ns, cli_ns, ip, srv_dev, cli_dev, classes)
        fails += verdict(2, "3 RTOs of an established connection "
                         "(segments, hash classes, TCPTimeouts, "
                         "TcpTimeoutRehash): each timeout rehashes",
                         res, lambda r: r[0] >= 4 and r[1] >= 2 and
                         r[2] >= 2 and r[3] == r[2])
        for s in a.values():
            s.close()
        c = listeners(srv_ns, fams, ip, CONTROL_PORTS, 0)
        res = synack_spread(cli_ns, ip, cli_dev, srv_ns, srv_dev, classes,
                            CONTROL_PORTS, 3.6)
        fails += verdict(3, "net.core.txrehash 0: a request's 3 SYN-ACKs "
                         "(SYN-ACKs, hash classes) keep its hash",
                         res, lambda r: r[0] >= 3 and r[1] == 1)
        for s in c.values():
            s.close()
    finally:
        run(srv_ns, "sysctl", "-qw", "net.core.txrehash=1", check=False)
        run(srv_ns, "tc", "qdisc", "del", "dev", srv_dev, "root",
            check=False)
        client_pass(cli_ns, cli_dev)
    return 1 if fails else 0


if __name__ == "__main__":
    sys.exit(main())
