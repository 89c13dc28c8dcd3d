#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# lib.sh: helpers shared by the xtcp selftests and run_tests.  Source it;
# it runs inside the scripts/vm guest only (never on the host: tests load,
# unload and poke the module).
#
# Topology: the guest's two virtio NICs hang off one private qemu hub, so
# traffic between the namespaces goes through real NIC drivers and never
# leaves the guest.  Addresses are from the RFC 2544 benchmarking range.
#
#     netns xsrv                             netns xcli
#   +------------------------+             +------------------------+
#   | srv0 198.18.0.1/24     |--- hub 0 ---| cli0 198.18.0.2/24     |
#   | mac 52:54:00:00:00:01  |             | mac 52:54:00:00:00:02  |
#   +------------------------+             +------------------------+
#
#   nics_up / nics_down      build / remove that (idempotent)
#   router_up                the client behind a router: xcli forwards
#                            between its NIC and a veth (rtr0) to netns
#                            xcli2 (cli2 198.19.0.2/24); netns_del xcli2
#   in_srv CMD / in_cli CMD  run CMD in a namespace
#   ksft_skip / ksft_fail    exit like a kselftest (4 / 1) with a reason
#   xtcp_unload              rmmod xtcp, retried; xtcp_leftover_slabs

# shellcheck disable=SC2034 # for the scripts that source this
KSFT_PASS=0
KSFT_FAIL=1
KSFT_SKIP=4

XSRV=xsrv
XCLI=xcli
SRV_IP=198.18.0.1
CLI_IP=198.18.0.2
NET_PLEN=24
SRV_DEV=srv0
CLI_DEV=cli0
SRV_MAC=52:54:00:00:00:01
CLI_MAC=52:54:00:00:00:02
XCLI2=xcli2
RTR_IP=198.19.0.1

# Debian's python3 has scapy; the `python3` of a developer's PATH may not.
# shellcheck disable=SC2034
PYTHON=/usr/bin/python3

log() {
	printf '%s\n' "$*"
}

ksft_skip() {
	log "SKIP: $*"
	exit "$KSFT_SKIP"
}

ksft_fail() {
	log "FAIL: $*"
	exit "$KSFT_FAIL"
}

# TAP lines for scripts that make several checks: check RC NAME [NOTE]
# prints "ok N NAME # NOTE" or "not ok ..." and counts; tap_done prints
# the plan and exits with the verdict.  (stress.sh and synflood.sh have
# their own.)
TESTNO=0
FAILS=0

check() {
	local rc=$1
	shift
	TESTNO=$((TESTNO + 1))
	if [ "$rc" = 0 ]; then
		echo "ok $TESTNO $1${2:+ # $2}"
	else
		echo "not ok $TESTNO $1${2:+ # $2}"
		FAILS=$((FAILS + 1))
	fi
}

tap_done() {
	echo "1..$TESTNO"
	[ "$FAILS" = 0 ] || exit "$KSFT_FAIL"
	exit "$KSFT_PASS"
}

# Counter $1 of /proc/net/xtcp_stat in the server namespace.
xtcp_stat() {
	# shellcheck disable=SC2016 # awk's own $
	in_srv awk -v k="$1" 'NR == 1 { for (i = 2; i <= NF; i++) if ($i == k) c = i }
		NR == 2 && c { print $c }' /proc/net/xtcp_stat
}

# Counter $3 of the "$2:" lines (names, then values) of file $1 (/proc/net/
# snmp or netstat), in the server namespace.
proc_net_stat() {
	# shellcheck disable=SC2016 # awk's own $
	in_srv awk -v p="$2:" -v k="$3" '$1 == p && !c { for (i = 2; i <= NF; i++) if ($i == k) c = i; next }
		$1 == p && c { print $c; exit }' "$1"
}

# Stock TCP's counter $1 of /proc/net/netstat's TcpExt, in the server
# namespace.
tcpext_stat() {
	proc_net_stat /proc/net/netstat TcpExt "$1"
}

# Wait up to $2 (100) tenths of a second for a line "ready" in file $1
# (a server's output).
wait_ready() {
	for _ in $(seq "${2:-100}"); do
		grep -q '^ready' "$1" && return 0
		sleep 0.1
	done
	return 1
}

in_srv() {
	ip netns exec "$XSRV" "$@"
}

in_cli() {
	ip netns exec "$XCLI" "$@"
}

# Tests change the kernel under them: refuse to run anywhere else.
require_vm() {
	if [ -z "${XTCP_KVER:-}" ] || [ "$(uname -r)" != "$XTCP_KVER" ]; then
		ksft_skip "not in the xtcp test VM: run it with scripts/vm"
	fi
}

require_cmd() {
	local c
	for c in "$@"; do
		command -v "$c" >/dev/null || ksft_skip "$c not installed"
	done
}

require_xtcp() {
	[ -d /sys/module/xtcp ] || ksft_skip "xtcp module not loaded"
}

# rmmod xtcp, retried for 5 s (freeing the last sockets may wait for an
# RCU grace period); on failure print why and return 1.
xtcp_unload() {
	local err
	for _ in $(seq 20); do
		err=$(rmmod xtcp 2>&1) && return 0
		sleep 0.25
	done
	echo "$err (refcnt $(cat /sys/module/xtcp/refcnt 2>/dev/null))"
	return 1
}

# The slab caches named after the module that exist, space-separated:
# /sys/kernel/slab lists merged aliases too, /proc/slabinfo only the
# caches that were not merged.  After rmmod a SLAB_TYPESAFE_BY_RCU cache
# (sockets, timewait socks) goes only after a grace period, from a work
# item, so what is left is looked at for up to 5 s.
xtcp_leftover_slabs() {
	local left
	for _ in $(seq 50); do
		left=$({
			grep -i xtcp /proc/slabinfo | awk '{ print $1 }'
			find /sys/kernel/slab -maxdepth 1 -iname '*xtcp*' -printf '%f\n'
		} | sort -u | tr '\n' ' ')
		[ -z "$left" ] && break
		sleep 0.1
	done
	echo "$left"
}

# The family number the loaded module registered (module parameter
# "family", 25 by default).
xtcp_family() {
	cat /sys/module/xtcp/parameters/family 2>/dev/null || echo 25
}

# Interface name of the NIC with MAC $1 in namespace $2 (default: init).
nic_by_mac() {
	local mac=$1 ns=${2:-} f a
	if [ -n "$ns" ]; then
		ip netns exec "$ns" bash -c "$(declare -f nic_by_mac); nic_by_mac $mac"
		return
	fi
	# read, not cat: a fork per NIC costs under TCG, and wait_nics_home
	# asks every 0.1 s
	for f in /sys/class/net/*/address; do
		read -r a <"$f" && [ "$a" = "$mac" ] &&
			{ f=${f%/address}; echo "${f##*/}"; return 0; }
	done
	return 1
}

# After a namespace is deleted the kernel moves its NICs back to the
# initial namespace asynchronously: wait for them.
wait_nics_home() {
	local i
	for i in $(seq 100); do
		nic_by_mac "$SRV_MAC" >/dev/null && nic_by_mac "$CLI_MAC" >/dev/null &&
			return 0
		sleep 0.1
	done
	log "lib.sh: NICs did not come back after ${i}0 ms" >&2
	return 1
}

# Kill every process still in namespace $1, then delete it.
netns_del() {
	local ns=$1 pids
	[ -e "/run/netns/$ns" ] || return 0
	pids=$(ip netns pids "$ns" 2>/dev/null)
	# shellcheck disable=SC2086 # a list of pids
	[ -z "$pids" ] || kill -KILL $pids 2>/dev/null
	ip netns del "$ns"
}

# Move NIC $1 into namespace $2 as $3 with address $4; wire-exact packets
# (no GRO/GSO/TSO), so that captures show what went over the wire.
nic_setup() {
	local mac=$1 ns=$2 dev=$3 addr=$4 cur
	cur=$(nic_by_mac "$mac") || { log "lib.sh: no NIC with MAC $mac" >&2; return 1; }
	# one ip process per namespace (-batch stops at the first error)
	printf '%s\n' "link set dev $cur down" "link set dev $cur netns $ns" |
		ip -batch - || return 1
	ip netns exec "$ns" ethtool -K "$cur" gro off gso off tso off \
		>/dev/null 2>&1 || true
	printf '%s\n' "link set dev $cur name $dev" \
		"addr add $addr/$NET_PLEN dev $dev" "link set dev $dev up" \
		"link set dev lo up" | ip -n "$ns" -batch -
}

# No IPv6 chatter (DAD, router solicitations) in captures; a client that
# does not run out of ports or sit in TIME_WAIT (ANCHORS.md).
netns_sysctls() {
	local ns
	for ns in "$XSRV" "$XCLI"; do
		ip netns exec "$ns" sysctl -qw net.ipv6.conf.all.disable_ipv6=1 \
			net.ipv6.conf.default.disable_ipv6=1
	done
	ip netns exec "$XCLI" sysctl -qw net.ipv4.ip_local_port_range="10000 65000" \
		net.ipv4.tcp_tw_reuse=1
}

# GRO, GSO and TSO on both NICs $1 (on|off): on for transfers measured
# or run as a real host runs them, off (nic_setup's) for wire-exact
# captures.  What a NIC cannot change stays as it is.
nic_offloads() {
	in_srv ethtool -K "$SRV_DEV" gro "$1" gso "$1" tso "$1" >/dev/null 2>&1
	in_cli ethtool -K "$CLI_DEV" gro "$1" gso "$1" tso "$1" >/dev/null 2>&1
	return 0
}

# The client behind a router: xcli forwards between its NIC and a veth
# to xcli2 (198.19.0.0/24), the server routes 198.19.0.0/24 through it.
router_up() {
	ip netns add "$XCLI2"
	ip link add rtr0 netns "$XCLI" type veth peer name cli2 netns "$XCLI2" ||
		return 1
	ip -n "$XCLI" addr add "$RTR_IP/24" dev rtr0
	ip -n "$XCLI" link set rtr0 up
	ip -n "$XCLI2" link set lo up
	ip -n "$XCLI2" addr add 198.19.0.2/24 dev cli2
	ip -n "$XCLI2" link set cli2 up
	ip -n "$XCLI2" route add default via "$RTR_IP" || return 1
	ip netns exec "$XCLI" sysctl -qw net.ipv4.ip_forward=1
	ip netns exec "$XCLI2" sysctl -qw net.ipv6.conf.all.disable_ipv6=1
	ip -n "$XSRV" route add 198.19.0.0/24 via "$CLI_IP"
}

nics_down() {
	netns_del "$XSRV"
	netns_del "$XCLI"
	wait_nics_home
}

nics_up() {
	nics_down || return 1
	ip netns add "$XSRV"
	ip netns add "$XCLI"
	netns_sysctls
	nic_setup "$SRV_MAC" "$XSRV" "$SRV_DEV" "$SRV_IP" &&
		nic_setup "$CLI_MAC" "$XCLI" "$CLI_DEV" "$CLI_IP" || return 1
	# virtio-net has carrier at once, but ARP must not race the first SYN.
	in_srv ping -q -c 1 -W 5 "$CLI_IP" >/dev/null ||
		{ log "lib.sh: $SRV_IP cannot reach $CLI_IP" >&2; return 1; }
}

# Both NICs' interrupts on CPU 0, for a flood pinned there: the flood
# then cannot outrun the server's softirq (synflood.sh says why).  Each
# IRQ's old CPU list goes into IRQ_SAVED ("irq:cpulist"), the number
# pinned into IRQS_PINNED; nic_irqs_restore puts them back.
nic_irqs_pin() {
	local ns dev virtio irq aff
	IRQS_PINNED=0
	for ns in "$XSRV" "$XCLI"; do
		dev=$CLI_DEV
		[ "$ns" = "$XSRV" ] && dev=$SRV_DEV
		virtio=$(ip netns exec "$ns" readlink -f "/sys/class/net/$dev/device")
		virtio=${virtio##*/}
		while read -r irq; do
			read -r aff <"/proc/irq/$irq/smp_affinity_list"
			IRQ_SAVED+=("$irq:$aff")
			echo 0 2>/dev/null >"/proc/irq/$irq/smp_affinity_list" &&
				IRQS_PINNED=$((IRQS_PINNED + 1))
		done < <(awk -F: -v v="$virtio-" 'index($0, v) {
				gsub(/ /, "", $1); print $1 }' /proc/interrupts)
	done
}

nic_irqs_restore() {
	local p
	for p in "${IRQ_SAVED[@]}"; do
		echo "${p#*:}" 2>/dev/null >"/proc/irq/${p%%:*}/smp_affinity_list" ||
			true
	done
	IRQ_SAVED=()
}

# An exact count of what arrives at the server NIC, independent of the
# sender's own statistics: a tc flower filter at $SRV_DEV's ingress in
# $XSRV that matches IPv4 packets with TTL $1 and passes them on.
# srv_ingress_count 10 prints the packets it matched so far.
srv_ingress_count_start() {
	ip netns exec "$XSRV" tc qdisc replace dev "$SRV_DEV" clsact &&
		ip netns exec "$XSRV" tc filter add dev "$SRV_DEV" ingress \
			protocol ip pref 10 flower ip_ttl "$1" action pass
}

# With $1, the packets the ingress filter of that preference matched.
srv_ingress_count() {
	ip netns exec "$XSRV" tc -s filter show dev "$SRV_DEV" ingress \
		${1:+pref "$1"} |
		sed -n 's/^[[:space:]]*Sent [0-9]* bytes \([0-9]*\) pkt.*/\1/p' | head -n 1
}

srv_ingress_count_stop() {
	ip netns exec "$XSRV" tc qdisc del dev "$SRV_DEV" clsact 2>/dev/null
	return 0
}

# nginx_conf DIR SERVER: DIR/nginx.conf for an nginx run in the
# foreground as root (nginx -p DIR/nginx/ -c DIR/nginx.conf -e
# DIR/nginx/error.log), one worker, its pid, logs and temporary files
# under DIR/nginx, and one http server block whose lines are SERVER
# (listen, root, ...).
nginx_conf() {
	mkdir -p "$1/nginx"
	cat >"$1/nginx.conf" <<-EOF
	daemon off;
	user root;
	worker_processes 1;
	pid $1/nginx/nginx.pid;
	error_log $1/nginx/error.log;
	events { worker_connections 64; }
	http {
		access_log off;
		sendfile on;
		default_type application/octet-stream;
		client_body_temp_path $1/nginx/body;
		proxy_temp_path $1/nginx/proxy;
		fastcgi_temp_path $1/nginx/fastcgi;
		uwsgi_temp_path $1/nginx/uwsgi;
		scgi_temp_path $1/nginx/scgi;
		server {
	$2
		}
	}
	EOF
}
