#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# harness_selftest.sh: the test VM itself works, so that a failing xtcp
# test means xtcp.  Checks the kernel and module the harness promised, a
# writable repository, Debian's python3 with scapy, and stock TCP between
# the namespaces over the two virtio NICs, and module autoloading.
# kselftest exit codes.
set -eu

DIR=$(cd "$(dirname "$0")" && pwd)
# shellcheck source=selftests/lib.sh
. "$DIR/lib.sh"

check_kernel() {
	[ "$(uname -r)" = "$XTCP_KVER" ] || ksft_fail "uname -r is not $XTCP_KVER"
	if [ "${XTCP_NOLOAD:-0}" != 1 ]; then
		[ -f "$XTCP_KO" ] || ksft_fail "XTCP_KO=$XTCP_KO missing"
		require_xtcp
	fi
	log "kernel $XTCP_KVER, module ${XTCP_KO:-none}"
}

check_repo_writable() {
	local f
	f=$(mktemp "$XTCP_ROOT/build/.harness-selftest.XXXXXX") ||
		ksft_fail "cannot create a file in $XTCP_ROOT/build"
	echo ok >"$f"
	[ "$(cat "$f")" = ok ] || ksft_fail "read back from $f failed"
	rm -f "$f"
	log "repository $XTCP_ROOT writable"
}

# Not scapy.all: under TCG it takes 5 s to import, the layers 3 s.
check_python() {
	"$PYTHON" -c 'from scapy.layers.inet import IP, TCP' ||
		ksft_fail "$PYTHON cannot import scapy"
	log "$PYTHON has scapy"
}

# Stock TCP over the NICs: the baseline every xtcp test compares with.
check_nics() {
	local got
	nics_up || ksft_fail "nics_up failed"
	in_srv ping -q -c 2 -W 2 "$CLI_IP" >/dev/null ||
		ksft_fail "ping $CLI_IP from $XSRV failed"
	in_cli ping -q -c 2 -W 2 "$SRV_IP" >/dev/null ||
		ksft_fail "ping $SRV_IP from $XCLI failed"
	in_srv timeout 10 nc -l -N "$SRV_IP" 8080 >/tmp/harness-nc.out &
	# Listening before the client connects, however slow the guest.
	for _ in $(seq 50); do
		in_srv ss -Hltn "src $SRV_IP:8080" | grep -q . && break
		sleep 0.1
	done
	echo hello | in_cli timeout 10 nc -N "$SRV_IP" 8080 ||
		ksft_fail "TCP connect $CLI_IP -> $SRV_IP:8080 failed"
	wait
	got=$(cat /tmp/harness-nc.out)
	[ "$got" = hello ] || ksft_fail "TCP payload: got '$got'"
	nics_down || ksft_fail "nics_down failed"
	log "ping and TCP between $XSRV and $XCLI over virtio NICs"
}

# The kernel loads modules by itself, as on a real host: a device type
# whose module is not loaded yet, in a namespace of its own.
check_autoload() {
	local mod=dummy
	[ -d "/sys/module/$mod" ] && rmmod "$mod" 2>/dev/null
	[ -d "/sys/module/$mod" ] && ksft_fail "$mod is loaded and stays loaded"
	modinfo "$mod" >/dev/null 2>&1 ||
		ksft_skip "no $mod module in /lib/modules/$(uname -r)"
	unshare -n ip link add xtcp-autoload type "$mod" ||
		ksft_fail "ip link add type $mod: no module autoloading" \
			"(kernel.modprobe $(cat /proc/sys/kernel/modprobe))"
	[ -d "/sys/module/$mod" ] || ksft_fail "$mod not loaded after ip link add"
	rmmod "$mod" 2>/dev/null || true
	log "module autoloading: ip link add type $mod loaded $mod"
}

main() {
	require_vm
	check_kernel
	check_repo_writable
	check_python
	check_autoload
	check_nics
	exit "$KSFT_PASS"
}

main "$@"
