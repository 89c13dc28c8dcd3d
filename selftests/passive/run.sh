#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# passive/run.sh [TEST...]: the passive-open parity tests (parity.py:
# stock TCP and AF_XTCP side by side, scapy-driven) in the scripts/vm
# guest, over lib.sh's two-NIC namespaces.  TEST is a..z or sa..se
# (default: all); `parity.py --list` names them.
#
#   scripts/vm -- selftests/run_tests passive/run.sh
#   scripts/vm -- selftests/passive/run.sh a f
#   XTCP_PARITY_SELFTEST=1 scripts/vm --noload -- selftests/passive/run.sh
#
# Exit 0 pass, 1 fail, 4 skip (AF_XTCP unavailable, scapy missing).
set -u

DIR=$(cd "$(dirname "$0")" && pwd)
# shellcheck source=selftests/lib.sh
. "$DIR/../lib.sh"

require_vm
require_cmd ip tc
# find_spec, not import: importing scapy takes ~13 s in a TCG guest.
"$PYTHON" -c 'import importlib.util as u, sys
sys.exit(u.find_spec("scapy") is None)' 2>/dev/null ||
	ksft_skip "$PYTHON has no scapy (Debian: python3-scapy)"

# parity.py takes the topology from these; lib.sh's names are the truth.
export XTCP_SRV_NS=${XTCP_SRV_NS:-$XSRV} XTCP_CLI_NS=${XTCP_CLI_NS:-$XCLI}
export XTCP_SRV_IP=${XTCP_SRV_IP:-$SRV_IP} XTCP_CLI_IP=${XTCP_CLI_IP:-$CLI_IP}
export XTCP_CLI_IF=${XTCP_CLI_IF:-$CLI_DEV}

# The RST filter is tc clsact + cls_bpf, and y's impaired upload uses
# netem.  Load them from here: the kernel's own request_module() runs
# modprobe outside the guest's chroot and finds nothing.
modprobe -q sch_ingress 2>/dev/null
modprobe -q cls_bpf 2>/dev/null
modprobe -q sch_netem 2>/dev/null

nics_up || ksft_fail "nics_up: the test namespaces could not be built"
"$PYTHON" "$DIR/parity.py" "$@"
rc=$?
nics_down >/dev/null 2>&1
exit $rc
