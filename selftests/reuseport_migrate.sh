#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# reuseport_migrate.sh: a closing SO_REUSEPORT listener's queued
# connections move to the rest of its group as stock's do
# (net.ipv4.tcp_migrate_req; issue 6 item 18).  The comparison is in
# reuseport_migrate.py, over lib.sh's two-NIC namespaces.
#
#   scripts/vm -- selftests/run_tests reuseport_migrate.sh
#
# TAP output; exit 0 pass, 1 fail, 4 skip.
set -u

DIR=$(cd "$(dirname "$0")" && pwd)
# shellcheck source=selftests/lib.sh
. "$DIR/lib.sh"

require_vm
require_xtcp
nics_up || ksft_fail "nics_up: the test namespaces could not be built"
"$PYTHON" "$DIR/reuseport_migrate.py" "$XSRV" "$XCLI" "$SRV_IP"
rc=$?
nics_down >/dev/null 2>&1
exit $rc
