#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# proc_net_xtcp.sh: /proc/net/xtcp compared field by field with
# /proc/net/tcp for the same kinds of sockets in the same run (listeners,
# a request sock, connections with queued data and each timer, the
# closing states, timewait socks), and 300 listeners with a connection
# each listed exactly once over many seq_file pages (issue 9).  The
# comparison is in proc_net_xtcp.py, over lib.sh's two-NIC namespaces.
#
#   scripts/vm -- selftests/run_tests proc_net_xtcp.sh
#
# TAP output; exit 0 pass, 1 fail, 4 skip.
set -u

DIR=$(cd "$(dirname "$0")" && pwd)
# shellcheck source=selftests/lib.sh
. "$DIR/lib.sh"

require_vm
require_xtcp
require_cmd tc
nics_up || ksft_fail "nics_up: the test namespaces could not be built"
"$PYTHON" "$DIR/proc_net_xtcp.py" "$XSRV" "$XCLI" "$SRV_IP" "$CLI_DEV" \
	"$SRV_DEV"
rc=$?
nics_down >/dev/null 2>&1
exit $rc
