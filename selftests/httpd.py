# SPDX-License-Identifier: GPL-2.0
"""httpd.py: a small HTTP/1.1 server for transfer.sh.

  httpd.py --addr A --port P --root DIR

  GET /NAME   the file DIR/NAME (Content-Length, then its bytes)
  POST /echo  the request body, stored whole in DIR, then sent back (so
              the client's upload and its download never depend on each
              other's progress)

Python's http.server, one thread per connection.  The listening socket
is whatever socket(AF_INET, SOCK_STREAM) and bind() give: an AF_XTCP
one when run under tools/libxtcp.so, which is how transfer.sh puts it on
xtcp.  Prints "ready" once listening.
"""
import argparse
import http.server
import os
import sys
import tempfile

CHUNK = 1 << 20


class Handler(http.server.BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"

    def log_message(self, fmt, *args):
        pass

    def send_file(self, f, size):
        """The headers, then the body with sendfile(2): the kernel copies,
        not Python, and xtcp's sendfile path is what carries it."""
        self.send_response(200)
        self.send_header("Content-Type", "application/octet-stream")
        self.send_header("Content-Length", str(size))
        self.end_headers()
        self.wfile.flush()
        self.connection.sendfile(f)

    def do_GET(self):
        name = os.path.basename(self.path)
        path = os.path.join(self.server.root, name)
        if not name or not os.path.isfile(path):
            self.send_error(404)
            return
        with open(path, "rb") as f:
            self.send_file(f, os.fstat(f.fileno()).st_size)

    def do_POST(self):
        if self.path != "/echo":
            self.send_error(404)
            return
        left = int(self.headers.get("Content-Length", "0"))
        buf = memoryview(bytearray(CHUNK))
        with tempfile.TemporaryFile(dir=self.server.root) as f:
            while left > 0:
                n = self.rfile.readinto(buf[:min(left, CHUNK)])
                if not n:
                    return
                f.write(buf[:n])
                left -= n
            size = f.tell()
            f.seek(0)
            self.send_file(f, size)


def main():
    p = argparse.ArgumentParser()
    p.add_argument("--addr", required=True)
    p.add_argument("--port", type=int, required=True)
    p.add_argument("--root", required=True)
    args = p.parse_args()
    http.server.ThreadingHTTPServer.allow_reuse_address = True
    srv = http.server.ThreadingHTTPServer((args.addr, args.port), Handler)
    srv.daemon_threads = True
    srv.root = args.root
    print("ready", flush=True)
    try:
        srv.serve_forever()
    except KeyboardInterrupt:
        pass
    return 0


if __name__ == "__main__":
    sys.exit(main())
