# SPDX-License-Identifier: GPL-2.0
"""AF_XTCP sockets from Python, for the selftests, and the cgroup the
tests that need one run in.

The family number is a module parameter, and an AF_XTCP socket is
addressed with a struct sockaddr_in (sin_family AF_INET); Python builds a
sockaddr only for families it knows.
"""
import ctypes
import os
import socket
import subprocess

FAMILY_PARAM = "/sys/module/xtcp/parameters/family"
CGROOT = "/sys/fs/cgroup"
CLONE_NEWNET = 0x40000000
LIBC = ctypes.CDLL(None, use_errno=True)


def xtcp_family():
    """The loaded module's family number, or None."""
    try:
        with open(FAMILY_PARAM) as f:
            return int(f.read())
    except OSError:
        return None


def enter_netns(ns):
    """Move the calling thread into network namespace `ns` (a name under
    /run/netns); in a single-threaded process, the whole process."""
    fd = os.open("/run/netns/" + ns, os.O_RDONLY)
    try:
        if LIBC.setns(fd, CLONE_NEWNET) != 0:
            raise OSError(ctypes.get_errno(), "setns " + ns)
    finally:
        os.close(fd)


def make_socket(family, type=socket.SOCK_STREAM):
    """A socket of `family`, wrapped as an AF_INET Python socket: created
    with the real family, its descriptor handed to a socket object that
    believes it is AF_INET, so that bind()/accept() use sockaddr_in."""
    raw = socket.socket(family, type, 0)
    if family == socket.AF_INET:
        return raw
    return socket.socket(socket.AF_INET, type, 0, fileno=raw.detach())


def proc_counter(path, table, name):
    """Counter `name` of `table` in a /proc/net file of header and value
    line pairs ("TcpExt:" in /proc/net/netstat, "Xtcp:" in
    /proc/net/xtcp_stat), read in the caller's namespace; 0 if absent."""
    with open(path) as f:
        rows = [line.split() for line in f if line.startswith(table + ":")]
    for head, vals in zip(rows[0::2], rows[1::2]):
        if name in head:
            return int(vals[head.index(name)])
    return 0


def enter_cgroup(name, controller=None):
    """Move this process into the child cgroup v2 `name` (mounting
    cgroup2 if needed, and first enabling `controller` for the children
    of the root if one is given); the cgroup's path, or None."""
    if not os.path.exists(CGROOT + "/cgroup.controllers"):
        subprocess.run(["mount", "-t", "cgroup2", "none", CGROOT],
                       check=False)
    path = CGROOT + "/" + name
    try:
        if controller:
            with open(CGROOT + "/cgroup.controllers") as f:
                if controller not in f.read().split():
                    return None
            with open(CGROOT + "/cgroup.subtree_control", "w") as f:
                f.write("+" + controller)
        os.makedirs(path, exist_ok=True)
        with open(path + "/cgroup.procs", "w") as f:
            f.write(str(os.getpid()))
        return path
    except OSError:
        return None


def leave_cgroup(path):
    """Back to the root cgroup, and remove `path`."""
    try:
        with open(CGROOT + "/cgroup.procs", "w") as f:
            f.write(str(os.getpid()))
        os.rmdir(path)
    except OSError:
        pass
