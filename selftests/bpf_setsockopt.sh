#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# bpf_setsockopt.sh: a cgroup/setsockopt BPF program's bpf_setsockopt()
# with SOL_TCP options (TCP_CONGESTION, TCP_KEEPIDLE, ...) on stock and
# AF_XTCP sockets (issue 6 item 5; Documentation/design.rst).  Runs
# bpf_setsockopt.py in a fresh network namespace; it loads the program
# with the raw bpf(2) syscall and attaches it to a child cgroup.
#
#   scripts/vm -- selftests/run_tests bpf_setsockopt.sh
#
# TAP output; exit 0 pass, 1 fail, 4 skip.
set -u

DIR=$(cd "$(dirname "$0")" && pwd)
# shellcheck source=selftests/lib.sh
. "$DIR/lib.sh"

require_vm
require_xtcp
exec unshare -n "$PYTHON" "$DIR/bpf_setsockopt.py"
