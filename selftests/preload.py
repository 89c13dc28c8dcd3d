# SPDX-License-Identifier: GPL-2.0
"""preload.py: listeners made as a server makes them, for preload.sh to
run under tools/libxtcp.so.

  preload.py [--go FILE] ADDR SPEC...

SPEC is a port to bind(), 0 to bind() port 0, or "-" to listen() without
bind() (the kernel picks the port then).  Before bind() each socket gets
SO_REUSEADDR, SO_REUSEPORT, SO_KEEPALIVE, TCP_KEEPIDLE 77 and
a TCP_MD5SIG key for a peer that never connects (192.0.2.1; which xtcp
refuses, having no RFC 2385 signatures: libxtcp drops it with a line on
stderr); a fixed port gets a second socket, the same way, in the same
SO_REUSEPORT group.  After listen() each listener's port (getsockname(),
the same after listen() as after bind()) and the options it has are
printed:

  listen SPEC PORT keepidle=77 keepalive=1 reuseport=1 group=2

then "ready".  Every connection gets a small HTTP/1.0 response whose
body is the listener's port, and is closed.  Exits 1 (a traceback) if a
bind() or listen() fails, as it does under XTCP_STRICT=1 without xtcp.
--go FILE: make the listeners only once FILE exists (started early, the
interpreter's start-up overlaps other work).
"""
import os
import socket
import struct
import sys
import threading
import time

TCP_MD5SIG = getattr(socket, "TCP_MD5SIG", 14)
# struct tcp_md5sig: a sockaddr_storage (AF_INET, port 0, 192.0.2.1),
# flags, prefix length, key length, ifindex, an 80-byte key.
MD5SIG = (struct.pack("=H2s4s120s", socket.AF_INET, b"",
                      socket.inet_aton("192.0.2.1"), b"") +
          struct.pack("=BBHi80s", 0, 0, 4, 0, b"key!"))


def make(addr, spec, port):
    s = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEPORT, 1)
    s.setsockopt(socket.SOL_SOCKET, socket.SO_KEEPALIVE, 1)
    s.setsockopt(socket.IPPROTO_TCP, socket.TCP_KEEPIDLE, 77)
    s.setsockopt(socket.IPPROTO_TCP, TCP_MD5SIG, MD5SIG)
    if spec != "-":
        s.bind((addr, port))
    bound = s.getsockname()[1]
    s.listen(16)
    got = s.getsockname()[1]
    if spec != "-" and got != bound:
        sys.exit("port %d after bind(), %d after listen()" % (bound, got))
    return s


def serve(s):
    port = s.getsockname()[1]
    body = b"%d\n" % port
    while True:
        c, _ = s.accept()
        try:
            c.settimeout(5)
            c.recv(4096)
            c.sendall(b"HTTP/1.0 200 OK\r\nContent-Length: %d\r\n\r\n%s" %
                      (len(body), body))
        except OSError:
            pass
        c.close()


def main():
    args = sys.argv[1:]
    if args[0] == "--go":
        while not os.path.exists(args[1]):
            time.sleep(0.05)
        args = args[2:]
    addr = args[0]
    for spec in args[1:]:
        port = 0 if spec == "-" else int(spec)
        group = [make(addr, spec, port)]
        port = group[0].getsockname()[1]
        if spec not in ("0", "-"):
            group.append(make(addr, spec, port))
        s = group[0]
        print("listen %s %d keepidle=%d keepalive=%d reuseport=%d group=%d" % (
            spec, port,
            s.getsockopt(socket.IPPROTO_TCP, socket.TCP_KEEPIDLE),
            s.getsockopt(socket.SOL_SOCKET, socket.SO_KEEPALIVE),
            s.getsockopt(socket.SOL_SOCKET, socket.SO_REUSEPORT),
            len(group)))
        for g in group:
            threading.Thread(target=serve, args=(g,), daemon=True).start()
    print("ready", flush=True)
    while True:
        time.sleep(3600)


if __name__ == "__main__":
    main()
