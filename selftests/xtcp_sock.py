# SPDX-License-Identifier: GPL-2.0
"""AF_XTCP sockets from Python, for the selftests.

The family number is a module parameter, and an AF_XTCP socket is
addressed with a struct sockaddr_in (sin_family AF_INET); Python builds a
sockaddr only for families it knows.
"""
import socket

FAMILY_PARAM = "/sys/module/xtcp/parameters/family"


def xtcp_family():
    """The loaded module's family number, or None."""
    try:
        with open(FAMILY_PARAM) as f:
            return int(f.read())
    except OSError:
        return None


def make_socket(family, type=socket.SOCK_STREAM):
    """A socket of `family`, wrapped as an AF_INET Python socket: created
    with the real family, its descriptor handed to a socket object that
    believes it is AF_INET, so that bind()/accept() use sockaddr_in."""
    raw = socket.socket(family, type, 0)
    if family == socket.AF_INET:
        return raw
    return socket.socket(socket.AF_INET, type, 0, fileno=raw.detach())
