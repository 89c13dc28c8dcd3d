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
# td's TCP_TX_DELAY needs a qdisc that honours departure times: fq.
modprobe -q sch_fq 2>/dev/null

# dc runs DCTCP on both stacks: stock's tcp_dctcp, and xtcp's
# xtcp_dctcp.ko, built next to $XTCP_KO but not installed in the guest,
# so that no request_module() finds it.  Loaded here, removed at the end
# (the harness removes xtcp after the tests).
# Stock's too is removed again if loaded here: cong_sysctl.sh compares
# the two stacks' lists of algorithms.
DCTCP_KO=$(dirname "${XTCP_KO:-/nonexistent/x}")/xtcp_dctcp.ko
DCTCP_LOADED=
STOCK_DCTCP_LOADED=
if [ ! -d /sys/module/tcp_dctcp ] && modprobe -q tcp_dctcp 2>/dev/null; then
	STOCK_DCTCP_LOADED=1
fi
if [ -d /sys/module/xtcp ] && [ ! -d /sys/module/xtcp_dctcp ] &&
	[ -f "$DCTCP_KO" ] && insmod "$DCTCP_KO"; then
	DCTCP_LOADED=1
fi

nics_up || ksft_fail "nics_up: the test namespaces could not be built"
"$PYTHON" "$DIR/parity.py" "$@"
rc=$?
nics_down >/dev/null 2>&1
if [ -n "$DCTCP_LOADED" ]; then
	for _ in $(seq 20); do
		rmmod xtcp_dctcp 2>/dev/null && break
		sleep 0.25
	done
	if [ -d /sys/module/xtcp_dctcp ]; then
		echo "# rmmod xtcp_dctcp failed: refcnt $(cat /sys/module/xtcp_dctcp/refcnt)"
		rc=1
	fi
fi
if [ -n "$STOCK_DCTCP_LOADED" ]; then
	for _ in $(seq 20); do
		rmmod tcp_dctcp 2>/dev/null && break
		sleep 0.25
	done
fi
exit $rc
