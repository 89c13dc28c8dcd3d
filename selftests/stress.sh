#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# stress.sh: races of the listener's lifetime (issue 6) and of the
# receive path against it (issue 7), and of TCP Fast Open children
# (issue 10).  Five phases of
# XTCP_STRESS_SECONDS (60; make check 10) each, one after the other,
# each with the guest to itself; build/xtcp_stress runs the socket loops (stock TCP clients in
# several threads, an AF_XTCP listener that keeps changing state).
#
#   1. close/re-listen: the listener in xsrv loops close(), socket(),
#      bind() with SO_REUSEADDR, listen(), a random 0-20 ms of accept()s
#      (a fifth of the cycles accept nothing); meanwhile 4 client threads
#      in xcli connect (third ACKs) and close with an exact RST (SO_LINGER
#      {1, 0}), RST the SYN-ACK (close() while in SYN-SENT), close with a
#      FIN, wait for the server's RST, or send a burst of up to 128 KiB
#      and close either way (the server reads none, some or all of it
#      before its abort: close() with unread data, delayed ACKs pending,
#      children with queued data when the listener closes); half the
#      server's closes are a FIN instead of an abort, so its side ends in
#      TIME-WAIT whose timewait socks keep the port while the listener
#      re-binds it and meet the clients' reused ports; and three
#      hping3 send segments
#      with bad checksums (SYN, ACK and RST; the last two on source ports
#      that one client thread binds too) and TTL 33, which a tc flower
#      filter at xsrv's ingress counts as they arrive.
#   2. shutdown(SHUT_RD) + listen(): one listener socket loops
#      shutdown(SHUT_RD), listen() again, a random 0-20 ms of accept()s,
#      while a second server thread sits in a blocking accept() and the
#      clients of phase 1, without window scaling, handshake and send
#      through netem reordering (out-of-order queues and SACK
#      compression timers meet resets, disconnects and closes).
#   3. SYN flood with SYN cookies while the listener closes:
#      net.xtcp.syncookies=1 (and net.ipv4.tcp_syncookies=1), backlog 8,
#      hping3 --flood -S from a silent spoofed source (198.18.0.99, a
#      permanent neighbour entry on xsrv to a MAC nobody has), pinned to
#      CPU 0 at nice 19 with both NICs' interrupts (see synflood.sh), so
#      the legitimate clients' third ACKs are cookie ACKs; the listener
#      close/re-listen loop of phase 1 with 0-300 ms holds, a third of
#      them without accept() so that cookie ACKs meet a full queue.
#   4. two namespaces with identical addressing: two fresh pairs of
#      namespaces, each a veth pair with the same names, MACs and
#      addresses (server 198.18.1.1, client 198.18.1.2) and 1 ms of netem
#      delay from the server, so that a request sock lives; a steady
#      listener on the same port in both server namespaces; in both
#      client namespaces 4 threads bind the same 32 source ports, so that
#      both namespaces carry the same 4-tuples at the same time.  A port
#      is a "victim" in one namespace and an "aggressor" in the other:
#      victims connect and wait for their own server's RST (the server
#      keeps them 50 ms and checks they were not reset); aggressors
#      connect and RST, or RST the SYN-ACK.  Every victim must be accepted
#      in its own namespace and never be reset by an aggressor's RST, and
#      no listener may accept more than its own clients completed.
#   5. TCP Fast Open children: net.xtcp.fastopen=3 in xsrv (stock's
#      net.ipv4.tcp_fastopen there stays 1, client only; the control
#      sets it to 3), net.ipv4.tcp_fastopen=1 in xcli; the listener
#      close/re-listen loop of phase 1 with 0-1000 ms holds and a Fast
#      Open queue of 64 (TCP_FASTOPEN) on every listener, a fifth of the
#      cycles without accept(), 30% of the accepted children closed at
#      once unread (their SYN data makes it a RST, maybe before the
#      third ACK), the rest kept up to 1 s; 16 client threads
#      sendto(MSG_FASTOPEN) 1-1000 bytes (after the first cookie in the
#      SYN, so the child is made at SYN time), then half close or RST
#      within 0-2 ms (the SYN-ACK meets a RST instead of the third ACK),
#      half wait for the connection and then for the server's RST, or
#      RST, or close; netem drops 25% of the server's segments and 5% of
#      the clients' (2 ms delay each way), so that the child's timer
#      re-sends SYN-ACKs while the client's SYN again or third ACK
#      arrives, and listeners close with Fast Open children in their
#      accept and Fast Open queues.
#
# Checks (TAP), per phase: the listener cycled and accepted connections;
# the client threads connected, none stalled or hung (every wait is
# bounded); listen()/bind() after a close or shutdown worked every time
# (as stock TCP); phases 1 and 2: data clients sent and the server read
# some; phase 1: the checksum errors counted in xsrv (xtcp's
# plus stock's, for segments that met no xtcp listener) are exactly the
# marked segments that arrived; phase 3: SYN cookies were sent and accepted; phase 4 as
# above, and each namespace's PassiveOpens is its own accepted count (plus
# at most the aggressors' children reset before accept()); phase 5:
# TCP_FASTOPEN, bind() and listen() always worked, TCPFastOpenPassive
# grew, the server accepted children that took their SYN's data
# (TCPI_OPT_SYN_DATA) and SYN-ACKs were sent again (TCPSynRetrans); then
# the xtcp slab caches are back to their count before the phase (a live
# timewait sock's own object and bind bucket aside), and the kernel log
# of the phase has no warning.  At the end: the xtcp slab
# caches (and request_sock_TCP) are back to the baseline taken before
# phase 1, rmmod xtcp works and leaves no cache behind, and insmod again.
#
# XTCP_STRESS_SECONDS   seconds per phase (60; make check uses 10)
# XTCP_STRESS_FAMILY    xtcp, or inet: the same against a stock listener,
#                       the control that checks the test itself
# XTCP_STRESS_PHASES    the phases to run ("1 2 3 4 5")
#
# In the scripts/vm guest only (it unloads the module).  The guest runs
# with slub_debug=FZP and fails on any warning besides.  Exit 0 pass,
# 1 fail, 4 skip.

# shellcheck disable=SC2317 # run_phase calls phase$N, the trap cleanup
set -u

DIR=$(cd "$(dirname "$(readlink -f "$0")")" && pwd)
# shellcheck source=selftests/lib.sh
. "$DIR/lib.sh"

STRESS=$DIR/build/xtcp_stress
LOG_PATTERNS=$DIR/../scripts/kernel-log-patterns
SECS=${XTCP_STRESS_SECONDS:-60}
FAMILY=${XTCP_STRESS_FAMILY:-xtcp}
PHASES=${XTCP_STRESS_PHASES:-1 2 3 4 5}
THREADS=4
PORT_BASE=8100		# phase N listens on PORT_BASE + N
FIXED_SPORT=9000	# phase 1: thread 0's source ports, hping3's -s
SPOOF_IP=198.18.0.99	# phase 3: the flood's silent source
MARK_TTL=33		# phase 1: the TTL of hping3's segments
SPOOF_MAC=02:00:00:00:00:99
NS4_SRV_IP=198.18.1.1
NS4_CLI_IP=198.18.1.2
NS4_SPORT=20000
NS4_SPAN=8
NS4=(xstress-s0 xstress-c0 xstress-s1 xstress-c1)
SLAB_DRAIN_PHASE=30	# seconds for the caches to settle after a phase
SLAB_DRAIN_END=60
# Bound on a background program past its own end.
GRACE=$((SECS + 60))

TMP=
PIDS=()
IRQ_SAVED=()
T0=$SECONDS
TESTNO=0
FAILS=0
CACHES=()
NETEM=0
NAPFD=
declare -A BASE=() SLAB=() CNT=() KV=() SUM=()

cleanup() {
	local p
	for p in "${PIDS[@]}"; do
		kill -KILL "$p" 2>/dev/null || true
	done
	for p in "${PIDS[@]}"; do
		wait "$p" 2>/dev/null || true
	done
	nic_irqs_restore
	ns4_down
	nics_down >/dev/null 2>&1 || true
	if [ ! -d /sys/module/xtcp ] && [ -n "${XTCP_KO:-}" ] &&
	   [ "${XTCP_NOLOAD:-0}" != 1 ]; then
		# shellcheck disable=SC2086 # XTCP_MODPARAMS is a word list
		insmod "$XTCP_KO" ${XTCP_MODPARAMS:-} || true
	fi
	[ -z "$TMP" ] || rm -rf "$TMP"
}

tap() {	# tap ok|fail DESCRIPTION [DIRECTIVE]
	TESTNO=$((TESTNO + 1))
	if [ "$1" = ok ]; then
		echo "ok $TESTNO $2${3:+ # $3}"
	else
		echo "not ok $TESTNO $2${3:+ # $3}"
		FAILS=$((FAILS + 1))
	fi
}

# check STATUS DESCRIPTION DETAIL...: ok if STATUS is 0.
check() {
	local rc=$1 desc=$2
	shift 2
	if [ "$rc" = 0 ]; then tap ok "$desc" "$*"; else tap fail "$desc" "$*"; fi
}

comment() {
	printf '# [%3ds] %s\n' $((SECONDS - T0)) "$*"
}

# nap SECS: sleep without a fork (a read that times out on a FIFO that
# this shell holds open both ways).  Each fork and exec costs tens of ms
# in a TCG guest, more with another guest beside it, so the polls and
# bookkeeping between the phases use builtins.
nap() {
	read -r -t "$1" -u "$NAPFD" _ || true
}

kmsg() {
	echo "<6>xtcp-stress: $*" >/dev/kmsg
}

# ------------------------------------------------------------ processes

# spawn NAME NETNS CMD...: run CMD in NETNS in the background, bounded
# by GRACE seconds; stdout to $TMP/NAME.out, stderr to $TMP/NAME.err; the
# pid in BG.  `ip netns exec` execs, so $! is timeout's pid, which passes
# SIGTERM and SIGINT on.
spawn() {
	local name=$1 ns=$2
	shift 2
	ip netns exec "$ns" timeout -k 5 "$GRACE" "$@" \
		>"$TMP/$name.out" 2>"$TMP/$name.err" &
	BG=$!
	PIDS+=("$BG")
}

forget() {
	local p keep=()
	for p in "${PIDS[@]}"; do
		[ "$p" = "$1" ] || keep+=("$p")
	done
	PIDS=("${keep[@]}")
}

# reap PID: wait for it; its exit status in REAPED (124 or 137: timeout
# had to stop it).  Not in a $(...): only this shell can wait for it.
reap() {
	REAPED=0
	wait "$1" || REAPED=$?
	forget "$1"
}

# Wait (10 s at most) for the server NAME to print "ready".
wait_ready() {
	local i line
	for ((i = 0; i < 200; i++)); do
		line=
		read -r line 2>/dev/null <"$TMP/$1.out"
		[ "$line" = ready ] && return 0
		nap 0.05
	done
	comment "$1 did not get ready in $((i / 20)) s: $(tail -n 3 "$TMP/$1.err")"
	return 1
}

# kv_load NAME: the summary line of NAME.out (the last line starting
# "server " or "client ") into SUM[NAME], its KEY=value words into
# KV[NAME:KEY]; the checks read ${KV[NAME:KEY]:--1} (no $(...): each
# is a fork, tens of ms in a TCG guest).
kv_load() {
	local line w sum=
	while read -r line; do
		case $line in
		"server "* | "client "*) sum=$line ;;
		esac
	done <"$TMP/$1.out"
	SUM[$1]=$sum
	for w in $sum; do
		case $w in
		*=*) KV[$1:${w%%=*}]=${w#*=} ;;
		esac
	done
}

# Show a program's summary and its error lines as comments; loads its
# summary for kv.
show() {
	local name=$1
	kv_load "$name"
	comment "$name: ${SUM[$name]:-no summary line}"
	[ -s "$TMP/$name.err" ] && sed "s/^/# $name: /" "$TMP/$name.err" | head -n 12
	return 0
}

# ------------------------------------------------------------- counters

# The counters the phases look at (snap keeps only these).
COUNTERS="InCsumErrors PassiveOpens TCPOFOQueue TCPOFOMerge TCPAckCompressed
	SyncookiesSent SyncookiesRecv SyncookiesFailed TCPReqQFullDoCookies
	ListenOverflows TCPSynRetrans TCPFastOpenPassive TCPFastOpenPassiveFail
	TCPFastOpenCookieReqd TCPFastOpenListenOverflow TCPFastOpenActive"

# snap NETNS TAG: the namespace's counters in COUNTERS into
# CNT[TAG:PREFIX:NAME], from /proc/net/snmp, netstat and xtcp_stat
# (nstat-style: a names line, then a values line, both starting with
# "PREFIX:"), picked out where they are read: a loop over all of them
# in this shell takes most of a second in a TCG guest.
snap() {
	local k v
	# xtcp_stat is missing for the control without the module
	# shellcheck disable=SC2016 # an awk program
	ip netns exec "$1" awk -v want="$COUNTERS" '
		BEGIN { n = split(want, w); for (i = 1; i <= n; i++) keep[w[i]] = 1 }
		{ p = substr($1, 1, length($1) - 1) }
		!(p in names) { names[p] = 1; for (i = 2; i <= NF; i++) name[p, i] = $i; next }
		{ for (i = 2; i <= NF; i++) if (name[p, i] in keep) print p ":" name[p, i], $i }' \
		/proc/net/snmp /proc/net/netstat /proc/net/xtcp_stat \
		>"$TMP/$2.snap" 2>/dev/null
	while read -r k v; do
		CNT[$2:$k]=$v
	done <"$TMP/$2.snap"
}

# delta TAG0 TAG1 FILE PREFIX NAME: counter PREFIX NAME's growth from
# snapshot TAG0 to TAG1, an absent counter 0 (FILE: snmp, netstat or
# xtcp, where it is; all are in one snapshot).
delta() {
	case " ${COUNTERS//[[:space:]]/ } " in
	*" $5 "*) ;;
	*) echo "stress.sh: $5 is not in COUNTERS" >&2 ;;
	esac
	echo $((${CNT[$2:$4:$5]:-0} - ${CNT[$1:$4:$5]:-0}))
}

# The listener's own counter NAME between snapshots TAG0 and TAG1: xtcp's
# for an xtcp listener, stock's for the control.
ldelta() {
	if [ "$FAMILY" = xtcp ]; then
		delta "$1" "$2" xtcp Xtcp "$3"
	else
		case $3 in
		Syncookies* | TCP* | Listen*) delta "$1" "$2" netstat TcpExt "$3" ;;
		*) delta "$1" "$2" snmp Tcp "$3" ;;
		esac
	fi
}

# hping3's count of packets sent, from its statistics in $TMP/$1.out;
# nothing if it printed none (an interrupted hping3 does not always).
hping_sent() {
	local f line
	for f in "$TMP/$1.out" "$TMP/$1.err"; do
		[ -r "$f" ] || continue
		while read -r line; do
			case $line in
			[0-9]*" packets transmitted"*)
				echo "${line%% *}"
				return
				;;
			esac
		done <"$f"
	done
}

# ----------------------------------------------------------------- slabs

# /proc/slabinfo's active objects into SLAB[cache].
slab_read() {
	local name active rest
	SLAB=()
	while read -r name active rest; do
		SLAB[$name]=$active
	done </proc/slabinfo
}

slab_active() {
	slab_read
	echo "${SLAB[$1]:-none}"
}

# The caches to watch: every xtcp cache, and stock's request socks for
# the control (the clients' own TCP socks come and go with TIME_WAIT and
# orphans, so the TCP cache is not one).
pick_caches() {
	mapfile -t CACHES < <(grep -i xtcp /proc/slabinfo | awk '{ print $1 }')
	[ "$FAMILY" = inet ] && CACHES+=(request_sock_TCP)
	return 0
}

slab_state() {
	local c out=
	slab_read
	for c in "${CACHES[@]}"; do
		out+="$c ${SLAB[$c]:-none} "
	done
	echo "${out% }"
}

# Record the counts into BASE under key $1.
slab_mark() {
	local c
	slab_read
	for c in "${CACHES[@]}"; do
		BASE[$1:$c]=${SLAB[$c]:-none}
	done
}

# Timewait socks alive in all namespaces (/proc/net/xtcp_sockstat's
# "tw"): each is a tw_sock_XTCP object and may keep a bind bucket for
# the rest of its 60 s, which no phase waits out.
tw_alive() {
	local ns n=0 t f
	for f in "" /run/netns/*; do
		ns=${f##*/}
		[ -z "$f" ] || [ -e "$f" ] || continue
		# shellcheck disable=SC2016 # an awk program
		t=$(${ns:+ip netns exec "$ns"} awk '{ print $7 }' \
			/proc/net/xtcp_sockstat 2>/dev/null)
		n=$((n + ${t:-0}))
	done
	echo "$n"
}

# slab_settle KEY SECS: wait until every cache is at most its count in
# BASE[KEY:cache], the objects of live timewait socks aside (counted
# only when a timewait cache is above its count); prints how long it
# took or what is left.
slab_settle() {
	local key=$1 secs=$2 t=0 c left tw allow cur
	while :; do
		left=
		tw=
		slab_read
		for c in "${CACHES[@]}"; do
			allow=${BASE[$key:$c]}
			cur=${SLAB[$c]:-none}
			[ "$cur" -le "$allow" ] 2>/dev/null && continue
			case $c in
			tw_sock_XTCP|xtcp_bind_bucket)
				[ -n "$tw" ] || tw=$(tw_alive)
				[ "$cur" -le $((allow + tw)) ] 2>/dev/null && continue
				;;
			esac
			left+="$c $cur (was ${BASE[$key:$c]}, ${tw:-?} in TIME-WAIT), "
		done
		if [ -z "$left" ]; then
			echo "after $((t / 4)).$((t % 4 * 25)) s${tw:+, $tw in TIME-WAIT}"
			return 0
		fi
		if [ $t -ge $((secs * 4)) ]; then
			echo "after $secs s: ${left%, }"
			return 1
		fi
		nap 0.25
		t=$((t + 1))
	done
}

# -------------------------------------------------------- kernel log

# Lines of the kernel log since marker $1 that match a failure pattern.
klog_problems() {
	dmesg | awk -v m="xtcp-stress: $1" 'index($0, m) { on = 1; next } on' |
		grep -E -f "$TMP/patterns" | head -n 20
}

# ------------------------------------------------------------------ NICs

# The flood and both NICs' interrupts on CPU 0 (synflood.sh says why).
irqs_pin() {
	nic_irqs_pin
	comment "flood and $IRQS_PINNED NIC interrupts on CPU 0"
}

# Kill what is left in phase 4's namespaces and delete them.
ns4_down() {
	local ns pids='' del=()
	for ns in "${NS4[@]}"; do
		[ -e "/run/netns/$ns" ] || continue
		pids+=" $(ip netns pids "$ns" 2>/dev/null)"
		del+=("netns del $ns")
	done
	[ "${#del[@]}" -gt 0 ] || return 0
	# shellcheck disable=SC2086 # a list of pids
	[ -z "${pids// /}" ] || kill -KILL $pids 2>/dev/null
	printf '%s\n' "${del[@]}" | ip -force -batch - 2>/dev/null
	return 0
}

# Two pairs of namespaces, identical down to the MACs, each with a veth.
ns4_up() {
	local i s c
	ns4_down
	NETEM=0
	modprobe -q sch_netem 2>/dev/null && NETEM=1
	# one ip process per namespace (-batch stops at the first error)
	printf 'netns add %s\n' "${NS4[@]}" | ip -batch - || return 1
	for i in 0 1; do
		s=${NS4[$((2 * i))]}
		c=${NS4[$((2 * i + 1))]}
		printf '%s\n' "link add vs address 02:00:00:00:01:01 type veth peer name vc address 02:00:00:00:01:02 netns $c" \
			"addr add $NS4_SRV_IP/24 dev vs" "link set lo up" \
			"link set vs up" | ip -n "$s" -batch - || return 1
		printf '%s\n' "addr add $NS4_CLI_IP/24 dev vc" "link set lo up" \
			"link set vc up" | ip -n "$c" -batch - || return 1
		ip netns exec "$s" sysctl -qw net.ipv6.conf.all.disable_ipv6=1 \
			net.ipv6.conf.default.disable_ipv6=1
		ip netns exec "$c" sysctl -qw net.ipv6.conf.all.disable_ipv6=1 \
			net.ipv6.conf.default.disable_ipv6=1 \
			net.ipv4.ip_local_port_range="30000 60000" \
			net.ipv4.tcp_tw_reuse=1
		ip netns exec "$c" ping -q -c 1 -W 5 "$NS4_SRV_IP" >/dev/null ||
			{ comment "$c cannot reach $NS4_SRV_IP"; return 1; }
		# Over a bare veth the SYN-ACK is in before connect() returns;
		# 1 ms on the way back lets the clients RST it in SYN-SENT.
		if [ "$NETEM" = 1 ]; then
			ip netns exec "$s" tc qdisc add dev vs root netem delay 1ms ||
				NETEM=0
		fi
	done
	[ "$NETEM" = 1 ] || comment "no netem: SYN-ACKs are never RST'd in SYN-SENT"
}

# -------------------------------------------------------------- phases

# The checks every phase ends with: server $1 and client $2 exit codes
# and summaries.  Prints nothing; sets ACC, CONN, CYCLES.
phase_common_checks() {
	local n=$1 srv=$2 cli=$3 src=$4 crc=$5 hung stalls
	# KV, not kv: each $(...) is a fork
	ACC=${KV[$srv:accepted]:--1}
	CYCLES=${KV[$srv:cycles]:--1}
	CONN=${KV[$cli:connected]:--1}
	hung=${KV[$cli:hung]:--1}
	stalls=${KV[$cli:stalls]:--1}
	[ "$src" = 0 ] && [ "$CYCLES" -gt 10 ] && [ "$ACC" -gt 0 ]
	check $? "phase $n: the listener cycled and accepted" \
		"exit $src, $CYCLES listen cycles, $ACC accepted"
	[ "$crc" = 0 ] && [ "$CONN" -gt 0 ] && [ "$hung" = 0 ] && [ "$stalls" = 0 ]
	check $? "phase $n: clients connected, no thread stalled or hung" \
		"exit $crc, $CONN connected of ${KV[$cli:attempts]:--1} attempts," \
		"hung $hung, stalled $stalls, longest attempt ${KV[$cli:max_gap_ms]:--1} ms"
}

# Phases 1-3: xtcp_stress server MODE in xsrv, the clients in xcli, both
# for SECS; then the common checks.  $1 phase, $2 mode, then server
# options up to "--", then client options.
run_server_and_clients() {
	local n=$1 mode=$2 sopts=() copts=() spid cpid
	shift 2
	while [ $# -gt 0 ] && [ "$1" != -- ]; do sopts+=("$1"); shift; done
	[ $# -gt 0 ] && shift
	copts=("$@")
	spawn "p$n.server" "$XSRV" "$STRESS" server "$mode" --family "$FAMILY" \
		--addr "$SRV_IP" --port "$PORT" --secs "$SECS" "${sopts[@]}"
	spid=$BG
	wait_ready "p$n.server" || { kill "$spid" 2>/dev/null; }
	spawn "p$n.client" "$XCLI" "$STRESS" client --addr "$SRV_IP" \
		--port "$PORT" --secs "$SECS" --threads "$THREADS" "${copts[@]}"
	cpid=$BG
	reap "$spid"
	SRC=$REAPED
	reap "$cpid"
	CRC=$REAPED
	show "p$n.server"
	show "p$n.client"
}

# The data clients of phase $1 sent, and the server read part of it
# while the listener changed under its connections.
data_checks() {
	local n=$1 sent read

	sent=${KV[p$n.client:data_bytes]:--1}
	read=${KV[p$n.server:read_bytes]:--1}
	[ "${sent:-0}" -gt 0 ] && [ "${read:-0}" -gt 0 ]
	check $? "phase $n: data clients sent and the server read" \
		"${KV[p$n.client:data]:--1} bursts, ${sent:-?} bytes sent," \
		"${read:-?} read"
}

phase1() {
	local sent=0 h n nostats='' pids=() got xg sg seen i
	PORT=$((PORT_BASE + 1))
	# hping3's statistics miss packets around its SIGINT, or are not
	# printed at all: count the marked segments where they arrive.
	srv_ingress_count_start "$MARK_TTL" ||
		comment "phase 1: no tc flower counter at $SRV_DEV's ingress"
	snap "$XSRV" p1.0
	# Bad checksums, ~100 segments/s each, until stopped.
	spawn p1.hping-syn "$XCLI" hping3 -q --badcksum -t "$MARK_TTL" -S \
		-p "$PORT" -i u10000 "$SRV_IP"
	pids+=("$BG")
	spawn p1.hping-ack "$XCLI" hping3 -q --badcksum -t "$MARK_TTL" -A \
		-s "$FIXED_SPORT" -k -p "$PORT" -i u10000 "$SRV_IP"
	pids+=("$BG")
	spawn p1.hping-rst "$XCLI" hping3 -q --badcksum -t "$MARK_TTL" -R \
		-s $((FIXED_SPORT + 1)) -k -p "$PORT" -i u10000 "$SRV_IP"
	pids+=("$BG")
	run_server_and_clients 1 relisten --backlog 16 --hold-ms 20 --lazy 20 \
		--fin 50 -- \
		--mix rst,synrst,fin,wait,data --wait-ms 2000 \
		--sport "$FIXED_SPORT" --sport-span 4 --sport-threads 1
	for h in "${pids[@]}"; do
		kill -INT "$h" 2>/dev/null
	done
	for h in "${pids[@]}"; do
		reap "$h"
	done
	for h in syn ack rst; do
		n=$(hping_sent "p1.hping-$h")
		if [ -n "$n" ]; then
			sent=$((sent + n))
		else
			nostats+="$h "
		fi
	done
	# hping3 is gone, its last segments may still be on their way: the
	# counts are taken again until they agree, 2 s at most.
	for ((i = 0; i < 8; i++)); do
		snap "$XSRV" p1.1
		seen=$(srv_ingress_count 10)
		got=$(($(delta p1.0 p1.1 xtcp Xtcp InCsumErrors) +
			$(delta p1.0 p1.1 snmp Tcp InCsumErrors)))
		[ "${seen:-0}" -gt 0 ] && [ "$got" = "$seen" ] && break
		nap 0.25
	done
	srv_ingress_count_stop
	phase_common_checks 1 p1.server p1.client "$SRC" "$CRC"
	data_checks 1

	[ "${KV[p1.server:bind_fail]:--1}" = 0 ] && [ "${KV[p1.server:listen_fail]:--1}" = 0 ]
	check $? "phase 1: bind() and listen() right after close() always work" \
		"bind_fail ${KV[p1.server:bind_fail]:--1}, listen_fail ${KV[p1.server:listen_fail]:--1}"

	xg=$(delta p1.0 p1.1 xtcp Xtcp InCsumErrors)
	sg=$(delta p1.0 p1.1 snmp Tcp InCsumErrors)
	got=$((xg + sg))
	# Every bad segment that reached the NIC is counted once, by xtcp or
	# (no xtcp listener at that moment) by stock, and none is taken.
	[ "${seen:-0}" -gt 0 ] && [ "$got" = "$seen" ] &&
		{ [ "$FAMILY" != xtcp ] || [ "$xg" -gt 0 ]; }
	check $? "phase 1: bad checksums counted, none taken" \
		"arrived ${seen:-?}, InCsumErrors xtcp +$xg stock +$sg;" \
		"hping3 said $sent${nostats:+ (no statistics from: ${nostats% })}"
}

phase2() {
	PORT=$((PORT_BASE + 2))
	# Clients without window scaling: a child reset before its third
	# ACK is processed (its listener stopped listening) then takes the
	# unscaled window path, which divides by rcv_mss.
	ip netns exec "$XCLI" sysctl -qw net.ipv4.tcp_window_scaling=0
	# The clients' segments are reordered, so that connections reset,
	# disconnected by shutdown(SHUT_RD) or closed hold out-of-order data
	# and SACK compression timers.
	ofo=0
	modprobe -q sch_netem 2>/dev/null &&
		ip netns exec "$XCLI" tc qdisc add dev "$CLI_DEV" root netem \
			delay 1ms reorder 30% 50% && ofo=1
	snap "$XSRV" p2.0
	run_server_and_clients 2 shutrd --backlog 16 --hold-ms 20 --lazy 20 -- \
		--mix rst,synrst,fin,wait,data --wait-ms 2000
	snap "$XSRV" p2.1
	[ "$ofo" = 1 ] && ip netns exec "$XCLI" tc qdisc del dev "$CLI_DEV" root
	ip netns exec "$XCLI" sysctl -qw net.ipv4.tcp_window_scaling=1
	phase_common_checks 2 p2.server p2.client "$SRC" "$CRC"
	data_checks 2
	if [ "$ofo" = 1 ]; then
		[ "$(ldelta p2.0 p2.1 TCPOFOQueue)" -gt 0 ]
		check $? "phase 2: reordered data went through the out-of-order queue" \
			"TCPOFOQueue +$(ldelta p2.0 p2.1 TCPOFOQueue)," \
			"TCPOFOMerge +$(ldelta p2.0 p2.1 TCPOFOMerge)," \
			"TCPAckCompressed +$(ldelta p2.0 p2.1 TCPAckCompressed)"
	else
		tap ok "phase 2: reordered data" "SKIP no sch_netem"
	fi
	[ "${KV[p2.server:shutdown_fail]:--1}" = 0 ] &&
		[ "${KV[p2.server:listen_fail]:--1}" = 0 ] &&
		[ "${KV[p2.server:accept_err]:--1}" = 0 ]
	check $? "phase 2: shutdown(SHUT_RD) and listen() again always work" \
		"shutdown_fail ${KV[p2.server:shutdown_fail]:--1}, listen_fail" \
		"${KV[p2.server:listen_fail]:--1}, accept_err ${KV[p2.server:accept_err]:--1}," \
		"accept() woken or refused by shutdown ${KV[p2.server:accept_einval]:--1}," \
		"accepted by the blocked thread ${KV[p2.server:thread_accepted]:--1}"
}

phase3() {
	local flood sent cs cr
	PORT=$((PORT_BASE + 3))
	if [ "$FAMILY" = xtcp ]; then
		in_srv sysctl -qw net.xtcp.syncookies=1 ||
			{ tap fail "phase 3: net.xtcp.syncookies=1 in $XSRV"; return; }
	fi
	in_srv sysctl -qw net.ipv4.tcp_syncookies=1
	in_srv ip neigh replace "$SPOOF_IP" lladdr "$SPOOF_MAC" dev "$SRV_DEV" \
		nud permanent
	irqs_pin
	snap "$XSRV" p3.0
	ip netns exec "$XCLI" taskset -c 0 nice -n 19 \
		timeout -s INT -k 5 "$GRACE" hping3 --flood -q -S -a "$SPOOF_IP" \
		-p "$PORT" "$SRV_IP" >"$TMP/p3.flood.out" 2>&1 &
	flood=$!
	PIDS+=("$flood")
	run_server_and_clients 3 relisten --backlog 8 --hold-ms 300 --lazy 33 -- \
		--mix rst,synrst,fin,wait --wait-ms 2000
	kill -INT "$flood" 2>/dev/null
	reap "$flood"
	nic_irqs_restore
	snap "$XSRV" p3.1
	sent=$(hping_sent p3.flood)
	comment "p3.flood: ${sent:-?} SYNs from $SPOOF_IP ($((${sent:-0} / SECS))/s)"
	phase_common_checks 3 p3.server p3.client "$SRC" "$CRC"
	cs=$(ldelta p3.0 p3.1 SyncookiesSent)
	cr=$(ldelta p3.0 p3.1 SyncookiesRecv)
	# Not hping3's count: an interrupted hping3 does not always print
	# it.  Cookies sent are the flood's mark.
	[ "$cs" -gt 0 ] && [ "$cr" -gt 0 ]
	check $? "phase 3: SYN cookies sent and accepted under the flood" \
		"SyncookiesSent +$cs, SyncookiesRecv +$cr," \
		"SyncookiesFailed +$(ldelta p3.0 p3.1 SyncookiesFailed)," \
		"TCPReqQFullDoCookies +$(ldelta p3.0 p3.1 TCPReqQFullDoCookies)," \
		"ListenOverflows +$(ldelta p3.0 p3.1 ListenOverflows)"
}

phase4() {
	local i s c spid=() cpid=() rc ok src4=() crc4=()
	local cv sv svk cvb cvr ca cas sa acc po
	PORT=$((PORT_BASE + 4))
	if ! ns4_up; then
		tap fail "phase 4: two namespace pairs with identical addressing"
		ns4_down
		return
	fi
	comment "xstress-s0/c0 and xstress-s1/c1: veth vs/vc, $NS4_SRV_IP <->" \
		"$NS4_CLI_IP, source ports $NS4_SPORT-$((NS4_SPORT + THREADS * NS4_SPAN - 1)) in both"
	for i in 0 1; do
		s=${NS4[$((2 * i))]}
		snap "$s" "p4.$i.0"
		spawn "p4.$i.server" "$s" "$STRESS" server hold --family "$FAMILY" \
			--addr "$NS4_SRV_IP" --port "$PORT" --backlog 1024 \
			--hold-ms 50 --ns "$i" --drain-ms 300
		spid+=("$BG")
	done
	for i in 0 1; do
		wait_ready "p4.$i.server" || true
	done
	for i in 0 1; do
		c=${NS4[$((2 * i + 1))]}
		spawn "p4.$i.client" "$c" "$STRESS" client --addr "$NS4_SRV_IP" \
			--port "$PORT" --secs "$SECS" --threads "$THREADS" \
			--sport "$NS4_SPORT" --sport-span "$NS4_SPAN" --ns "$i" \
			--connect-ms 5000 --wait-ms 5000
		cpid+=("$BG")
	done
	for i in 0 1; do
		reap "${cpid[$i]}"
		crc4[i]=$REAPED
	done
	# A victim's client waits for its server's RST, so every victim the
	# clients counted is accepted by now; the servers take what is still
	# queued (--drain-ms) after the signal.
	for i in 0 1; do
		kill -TERM "${spid[$i]}" 2>/dev/null
	done
	for i in 0 1; do
		reap "${spid[$i]}"
		src4[i]=$REAPED
		snap "${NS4[$((2 * i))]}" "p4.$i.1"
		show "p4.$i.server"
		show "p4.$i.client"
	done
	for i in 0 1; do
		cv=${KV[p4.$i.client:victims_connected]:--1}
		cvr=${KV[p4.$i.client:victims_reset]:--1}
		cvb=${KV[p4.$i.client:victims_bad]:--1}
		cvrc=${KV[p4.$i.client:victims_reset_in_connect]:--1}
		ca=${KV[p4.$i.client:aggressors_connected]:--1}
		cas=${KV[p4.$i.client:aggressors_synrst]:--1}
		sv=${KV[p4.$i.server:victims]:--1}
		svk=${KV[p4.$i.server:victims_killed]:--1}
		sa=${KV[p4.$i.server:aggressors]:--1}
		acc=${KV[p4.$i.server:accepted]:--1}
		po=$(ldelta "p4.$i.0" "p4.$i.1" PassiveOpens)
		rc=1
		[ "${src4[$i]}" = 0 ] && [ "${crc4[$i]}" = 0 ] &&
			[ "${KV[p4.$i.client:hung]:--1}" = 0 ] &&
			[ "${KV[p4.$i.client:stalls]:--1}" = 0 ] && [ "$cv" -gt 0 ] &&
			[ "$ca" -gt 0 ] && rc=0
		check "$rc" "phase 4: namespace $i: clients and listener ran, nothing hung" \
			"server exit ${src4[$i]}, client exit ${crc4[$i]}," \
			"victims connected $cv, aggressors connected $ca"
		ok=1
		# A victim the server accepted and reset (after 50 ms) before
		# the client thread saw connect() complete counts on both
		# sides: its connect() returned ECONNRESET.
		[ "$sv" = "$((cv + cvrc))" ] && [ "$svk" = 0 ] && [ "$cvb" = 0 ] &&
			[ "$cvr" = "$cv" ] && ok=0
		check "$ok" "phase 4: namespace $i: every victim accepted there, none reset from the other namespace" \
			"clients: $cv connected, $cvr ended by their server's RST," \
			"$cvb not; server: $sv accepted, $svk found reset"
		# An aggressor's RST can race its own third ACK (close() on
		# another CPU than the one that sent the ACK): the child may
		# then die before it is queued, in stock TCP too.  So only an
		# upper bound: nothing accepted that no client here completed.
		ok=1
		[ "$sa" -le $((ca + cas)) ] && ok=0
		check "$ok" "phase 4: namespace $i: no more aggressors accepted than connected there" \
			"server accepted $sa; clients connected $ca by connect() and" \
			"${KV[p4.$i.client:synrst_established]:--1} of $cas RST'd after a non-blocking connect()"
		ok=1
		[ "$acc" -gt 0 ] && [ "$po" -ge "$acc" ] &&
			[ "$po" -le $((acc + ca + cas)) ] && ok=0
		check "$ok" "phase 4: namespace $i: PassiveOpens counts this namespace's children" \
			"PassiveOpens +$po, accepted $acc (and up to $((ca + cas)) children of aggressors reset before accept)"
	done
	ns4_down
}

phase5() {
	local pass fail req ovf rtx act loss=0
	PORT=$((PORT_BASE + 5))
	# xtcp's own server bit, stock's left client-only: only
	# net.xtcp.fastopen can make xtcp take SYN data.
	if [ "$FAMILY" = xtcp ]; then
		in_srv sysctl -qw net.xtcp.fastopen=3 net.ipv4.tcp_fastopen=1 ||
			{ tap fail "phase 5: net.xtcp.fastopen=3 in $XSRV"; return; }
	else
		in_srv sysctl -qw net.ipv4.tcp_fastopen=3
	fi
	in_cli sysctl -qw net.ipv4.tcp_fastopen=1
	# SYN-ACKs lost (the child's timer sends them again while the
	# client's SYN or third ACK comes in), third ACKs and SYNs lost too.
	if modprobe -q sch_netem 2>/dev/null &&
	   in_srv tc qdisc add dev "$SRV_DEV" root netem delay 2ms loss 25% &&
	   in_cli tc qdisc add dev "$CLI_DEV" root netem delay 2ms loss 5%; then
		loss=1
	else
		comment "phase 5: no netem: no SYN-ACK is lost"
	fi
	snap "$XSRV" p5.0
	snap "$XCLI" p5.c0
	run_server_and_clients 5 relisten --backlog 16 --hold-ms 1000 --lazy 20 \
		--fin 30 --tfo 64 --quick 30 -- --mix tfo --wait-ms 2000 --threads 16
	snap "$XSRV" p5.1
	snap "$XCLI" p5.c1
	if [ "$loss" = 1 ]; then
		in_srv tc qdisc del dev "$SRV_DEV" root
		in_cli tc qdisc del dev "$CLI_DEV" root
	fi
	phase_common_checks 5 p5.server p5.client "$SRC" "$CRC"
	[ "${KV[p5.server:bind_fail]:--1}" = 0 ] && [ "${KV[p5.server:listen_fail]:--1}" = 0 ] &&
		[ "${KV[p5.server:tfo_fail]:--1}" = 0 ]
	check $? "phase 5: TCP_FASTOPEN, bind() and listen() after close() always work" \
		"tfo_fail ${KV[p5.server:tfo_fail]:--1}, bind_fail ${KV[p5.server:bind_fail]:--1}," \
		"listen_fail ${KV[p5.server:listen_fail]:--1}"
	pass=$(ldelta p5.0 p5.1 TCPFastOpenPassive)
	fail=$(ldelta p5.0 p5.1 TCPFastOpenPassiveFail)
	req=$(ldelta p5.0 p5.1 TCPFastOpenCookieReqd)
	ovf=$(ldelta p5.0 p5.1 TCPFastOpenListenOverflow)
	rtx=$(ldelta p5.0 p5.1 TCPSynRetrans)
	act=$(delta p5.c0 p5.c1 netstat TcpExt TCPFastOpenActive)
	# Children made at SYN time, and some of them accepted with their
	# SYN's data (the rest reset, closed or left queued meanwhile).
	[ "$pass" -gt 0 ] && [ "${KV[p5.server:tfo_accepted]:--1}" -gt 0 ] &&
		[ "${KV[p5.client:tfo_syn_data]:--1}" -gt 0 ]
	check $? "phase 5: Fast Open children made at SYN time and accepted" \
		"TCPFastOpenPassive +$pass, accepted with SYN data" \
		"${KV[p5.server:tfo_accepted]:--1} of ${KV[p5.server:accepted]:--1}" \
		"(${KV[p5.server:quick_closed]:--1} closed at once);" \
		"clients: ${KV[p5.client:tfo_syn_data]:--1} SYNs with data," \
		"${KV[p5.client:tfo_cookie_req]:--1} cookie requests, TCPFastOpenActive +$act," \
		"${KV[p5.client:tfo_early_close]:--1} closed in 0-2 ms;" \
		"CookieReqd +$req, PassiveFail +$fail, ListenOverflow +$ovf"
	if [ "$loss" = 1 ]; then
		[ "$rtx" -gt 0 ]
		check $? "phase 5: lost SYN-ACKs were sent again" "TCPSynRetrans +$rtx"
	else
		tap ok "phase 5: lost SYN-ACKs were sent again" "SKIP no sch_netem"
	fi
}

run_phase() {
	local n=$1 t0=$SECONDS what bad left
	case $n in
	1) what="listener close/re-listen under SYNs, third ACKs, bad checksums and exact RSTs" ;;
	2) what="shutdown(SHUT_RD) + listen() loops under handshakes" ;;
	3) what="SYN flood with SYN cookies while the listener closes" ;;
	4) what="two namespaces with identical addressing and 4-tuples" ;;
	5) what="TCP Fast Open children under loss, RSTs and listener closes" ;;
	*) tap fail "phase $n: no such phase"; return ;;
	esac
	comment "phase $n: $what, ${SECS} s"
	slab_mark "p$n"
	kmsg "phase $n begin"
	"phase$n"
	left=$(slab_settle "p$n" "$SLAB_DRAIN_PHASE")
	check $? "phase $n: xtcp slab caches back to their count before it" \
		"$left; $(slab_state)"
	bad=$(klog_problems "phase $n begin")
	kmsg "phase $n end"
	[ -n "$bad" ] && printf '%s\n' "$bad" | sed "s/^/# kernel: /"
	[ -z "$bad" ]
	check $? "phase $n: no warning in the kernel log"
	comment "phase $n took $((SECONDS - t0)) s"
}

# The module can go and come back: no socket or cache left behind.
reload_check() {
	local err
	if err=$(xtcp_unload); then
		err=$(xtcp_leftover_slabs)
		[ -z "$err" ]
		check $? "rmmod xtcp after the stress" "${err:+slab caches left: $err}"
	else
		tap fail "rmmod xtcp after the stress" "$err"
	fi
	# shellcheck disable=SC2086 # XTCP_MODPARAMS is a word list
	if [ -d /sys/module/xtcp ]; then
		tap ok "insmod xtcp again" "SKIP still loaded: rmmod failed"
	elif err=$(insmod "$XTCP_KO" ${XTCP_MODPARAMS:-} 2>&1) &&
	     [ -d /sys/module/xtcp ]; then
		tap ok "insmod xtcp again"
	else
		tap fail "insmod xtcp again" "$err"
	fi
}

prerequisites() {
	require_vm
	[ "$(id -u)" = 0 ] || ksft_skip "needs root"
	case $FAMILY in
	xtcp)
		require_xtcp
		[ -r "${XTCP_KO:-/nonexistent}" ] ||
			ksft_skip "XTCP_KO (${XTCP_KO:-unset}) not readable: run it with scripts/vm"
		[ "$(slab_active request_sock_XTCP)" != none ] ||
			ksft_skip "request_sock_XTCP not in /proc/slabinfo" \
				"(merged: boot with slub_debug or slab_nomerge)"
		;;
	inet) ;;
	*) ksft_skip "XTCP_STRESS_FAMILY=$FAMILY: want xtcp or inet" ;;
	esac
	require_cmd hping3 taskset nice timeout awk dmesg
	modprobe -q veth 2>/dev/null ||
		ksft_skip "no veth module (modprobe veth failed): phase 4 needs it"
	[ -x "$STRESS" ] || make -s -C "$DIR" build/xtcp_stress >/dev/null 2>&1
	[ -x "$STRESS" ] || ksft_skip "$STRESS missing: make -C selftests"
	[ "$SECS" -ge 1 ] 2>/dev/null ||
		ksft_skip "XTCP_STRESS_SECONDS=$SECS: want a number of seconds"
}

main() {
	local n left
	prerequisites
	TMP=$(mktemp -d)
	trap cleanup EXIT
	mkfifo "$TMP/nap" || ksft_fail "no FIFO in $TMP"
	exec {NAPFD}<>"$TMP/nap"
	grep -v -e '^#' -e '^$' "$LOG_PATTERNS" >"$TMP/patterns"

	echo "TAP version 13"
	pick_caches
	slab_mark base
	comment "kernel $(uname -r), family $FAMILY ($([ "$FAMILY" = xtcp ] &&
		xtcp_family || echo 2)), $SECS s per phase, phases $PHASES"
	comment "slab baseline: $(slab_state)"
	nics_up || ksft_fail "nics_up failed"
	for n in $PHASES; do
		run_phase "$n"
	done
	nics_down >/dev/null 2>&1

	left=$(slab_settle base "$SLAB_DRAIN_END")
	check $? "xtcp slab caches back to the baseline" "$left; $(slab_state)"
	if [ "$FAMILY" = xtcp ] || [ -d /sys/module/xtcp ]; then
		[ -n "${XTCP_KO:-}" ] && reload_check
	fi

	echo "1..$TESTNO"
	comment "$((TESTNO - FAILS)) passed, $FAILS failed, $((SECONDS - T0)) s"
	[ "$FAILS" = 0 ] || exit "$KSFT_FAIL"
	exit "$KSFT_PASS"
}

main "$@"
