# SPDX-License-Identifier: GPL-2.0
"""Settle the packet path's static keys at guest boot (scripts/vm-guest).

Under QEMU's TCG a vCPU in the middle of a static-key site while another
patches it with text_poke_bp() can run the int3 after the patch is done:
the guest dies with "Oops: int3" in the patched function.  Seen in
kmem_cache_free() (memcg_kmem_online_key, vm-guest's memcg_online_once)
and, reproduced in 75 s by adding and removing a clsact qdisc under an
iperf3 stream, in __netif_receive_skb_core() (ingress_needed_key) from
stress.sh.  So before any test runs, this turns on once, while nothing
else runs, the keys that tests would otherwise flip under load, and holds
them on until killed:

  - DO_ONCE keys of the first TCP connection and SYN cookie of the boot
    (inet_ehash_secret, net_secret, ts_secret, syncookie_secret): one
    connection over lo with net.ipv4.tcp_syncookies 2, closed by a RST;
  - netstamp_needed_key (packet sniffers, SO_TIMESTAMP*): a UDP socket
    with SO_TIMESTAMP, kept open;
  - the ingress/egress keys of clsact qdiscs are held by vm-guest itself
    (a clsact qdisc on lo).

Prints "ready" once done, then sleeps until killed.
"""
import signal
import socket
import struct
import sys

SYNCOOKIES = "/proc/sys/net/ipv4/tcp_syncookies"
SO_TIMESTAMP = 29   # asm-generic/socket.h; Python's socket lacks it


def first_cookie():
    """One connection over lo answered with a SYN cookie (tcp_syncookies
    2: always), closed by an abort so that no TIME-WAIT is left."""
    with open(SYNCOOKIES) as f:
        old = f.read().strip()
    with open(SYNCOOKIES, "w") as f:
        f.write("2")
    try:
        lsn = socket.socket()
        lsn.bind(("127.0.0.1", 0))
        lsn.listen(1)
        cli = socket.create_connection(lsn.getsockname(), timeout=5)
        srv, _ = lsn.accept()
        cli.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER,
                       struct.pack("ii", 1, 0))
        cli.close()
        srv.close()
        lsn.close()
    finally:
        with open(SYNCOOKIES, "w") as f:
            f.write(old)


def main():
    first_cookie()
    stamp = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    stamp.setsockopt(socket.SOL_SOCKET, SO_TIMESTAMP, 1)
    print("ready", flush=True)
    sys.stdout.close()
    signal.pause()


if __name__ == "__main__":
    main()
