#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# tcp_sock_paths.sh: socket options whose generic code takes an
# IPPROTO_TCP socket for a struct tcp_sock, on stock and AF_XTCP sockets
# (issue 6 item 5; Documentation/design.rst).  Runs tcp_sock_paths.py in
# a fresh network namespace, inside a child memory cgroup.
#
#   scripts/vm -- selftests/run_tests tcp_sock_paths.sh
#
# TAP output; exit 0 pass, 1 fail, 4 skip.
set -u

DIR=$(cd "$(dirname "$0")" && pwd)
# shellcheck source=selftests/lib.sh
. "$DIR/lib.sh"

require_vm
require_xtcp
# The destroy broadcast needs inet_diag's TCP handler.
modprobe -q tcp_diag 2>/dev/null ||
	ksft_skip "no tcp_diag module: the destroy broadcast has no handler"
exec unshare -n "$PYTHON" "$DIR/tcp_sock_paths.py"
