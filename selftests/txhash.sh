#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# txhash.sh: the flow hash (skb->hash) of a passive connection's segments
# as stock's: a random one per request, a new one for each SYN-ACK sent
# again and after each retransmission timeout (TcpTimeoutRehash), none
# new with net.core.txrehash 0.  The comparison is in txhash.py, over
# lib.sh's two-NIC namespaces.
#
#   scripts/vm -- selftests/run_tests txhash.sh
#
# TAP output; exit 0 pass, 1 fail, 4 skip.
set -u

DIR=$(cd "$(dirname "$0")" && pwd)
# shellcheck source=selftests/lib.sh
. "$DIR/lib.sh"

require_vm
require_xtcp
require_cmd tc hping3
nics_up || ksft_fail "nics_up: the test namespaces could not be built"
"$PYTHON" "$DIR/txhash.py" "$XSRV" "$XCLI" "$SRV_IP" "$SRV_DEV" "$CLI_DEV"
rc=$?
nics_down >/dev/null 2>&1
exit $rc
