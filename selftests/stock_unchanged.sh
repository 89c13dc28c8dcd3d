#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# stock_unchanged.sh: stock TCP on other ports behaves exactly as without
# xtcp, before, during and after loading it (issue 3).
#
# The same scripted stock-TCP scenarios (scapy SYNs with various options,
# ECN setup, handshakes, duplicate SYN, in-window RST, bad ACK number,
# data, SYN cookies, closed port, Python and curl clients, ping) run
# against a stock AF_INET listener in xsrv from xcli, over lib.sh's two
# virtio NICs, in three phases:
#
#   1. xtcp unloaded (rmmod, retried for 5 s)
#   2. xtcp loaded (insmod $XTCP_KO $XTCP_MODPARAMS), with an AF_XTCP
#      listener on another port and xtcp traffic to it
#   3. xtcp unloaded again
#
# The normalised server replies (passive/xtcplib.py) and the deltas of
# stock's deterministic counters must be identical in all three; phase
# 1 is also checked against what stock TCP does.  The module is loaded
# again at the end if it was loaded at the start.  The scenarios are in
# passive/stock_unchanged.py.
#
#   scripts/vm -- selftests/run_tests stock_unchanged.sh
#   scripts/vm --kernel 6.1.0-56-amd64 -- selftests/stock_unchanged.sh
#   XTCP_STOCK_PERTURB=1 scripts/vm -- selftests/stock_unchanged.sh  # fails
#
# XTCP_STOCK_PERTURB=1: net.ipv4.tcp_timestamps=0 in phase 2 only; the
# test must then fail.  XTCP_STOCK_VERBOSE=1: print every transcript.
# TAP output; exit 0 pass, 1 fail, 4 skip.
set -u

DIR=$(cd "$(dirname "$0")" && pwd)
# shellcheck source=selftests/lib.sh
. "$DIR/lib.sh"

require_vm
[ -n "${XTCP_KO:-}" ] || ksft_skip "XTCP_KO unset: run in the guest via scripts/vm"
[ -r "$XTCP_KO" ] || ksft_skip "$XTCP_KO not readable"
[ "$(id -u)" = 0 ] || ksft_skip "needs root"
require_cmd ip tc ping insmod rmmod
# find_spec, not import: importing scapy takes ~13 s in a TCG guest.
"$PYTHON" -c 'import importlib.util as u, sys
sys.exit(u.find_spec("scapy") is None)' 2>/dev/null ||
	ksft_skip "$PYTHON has no scapy (Debian: python3-scapy)"

WAS_LOADED=0
[ -d /sys/module/xtcp ] && WAS_LOADED=1

# Whatever happens to the Python side, leave the module as found.
# shellcheck disable=SC2317 # run by the EXIT trap
restore() {
	nics_down >/dev/null 2>&1
	if [ "$WAS_LOADED" = 1 ] && [ ! -d /sys/module/xtcp ]; then
		# shellcheck disable=SC2086 # a word list
		insmod "$XTCP_KO" ${XTCP_MODPARAMS:-} ||
			log "stock_unchanged: insmod failed in cleanup"
	elif [ "$WAS_LOADED" = 0 ] && [ -d /sys/module/xtcp ]; then
		for _ in $(seq 50); do
			rmmod xtcp 2>/dev/null && break
			sleep 0.1
		done
	fi
}
trap restore EXIT

# tc clsact + cls_bpf (the RST filter of xtcplib): the kernel's own
# request_module() finds nothing from inside the guest's chroot.
modprobe -q sch_ingress 2>/dev/null
modprobe -q cls_bpf 2>/dev/null

export XTCP_SRV_NS=$XSRV XTCP_CLI_NS=$XCLI XTCP_SRV_IP=$SRV_IP \
	XTCP_CLI_IP=$CLI_IP XTCP_CLI_IF=$CLI_DEV

nics_up || ksft_fail "nics_up: the test namespaces could not be built"
"$PYTHON" "$DIR/passive/stock_unchanged.py"
exit $?
