#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# synflood.sh: a SYN flood against an AF_XTCP listener (issue 3).  While
# hping3 floods the listener's port with SYNs, legitimate clients still
# connect through SYN cookies; the request socks stay bounded by the
# backlog, memory does not run away, and afterwards every request sock is
# freed and the module unloads cleanly.
#
# In the scripts/vm guest only (it unloads the module; the harness loaded
# it and exported XTCP_KO).  Over lib.sh's namespaces (xsrv 198.18.0.1,
# xcli 198.18.0.2), with net.xtcp.syncookies=1 and net.ipv4.tcp_syncookies=1
# in xsrv, two phases, one after the other so that each has the guest to
# itself:
#
#   1. stock: tools/build/xtcp-serve --family inet --accept -1 --backlog 64
#      on port 8001, the baseline;
#   2. xtcp:  the same with --family xtcp on port 8000.
#
# Each phase: hping3 --flood -S -p PORT 198.18.0.1 from xcli (its own
# address, hping3's incrementing source ports; no spoofing, nothing
# outside 198.18.0.0/24), and once the listener's SYN queue has
# overflowed, SYNFLOOD_CLIENTS (20) sequential legitimate connects from
# xcli, paced over XTCP_SYNFLOOD_SECS (20; make check 10) s, 3 s timeout
# each.  A client counts when the server logged that it accepted that
# very client port.  The flood stops when the clients are done, so every connect happens
# under flood.  Slab objects and MemAvailable are sampled every second.
#
# The flood is self-clocked: hping3 --flood runs at nice 19 on CPU 0, the
# CPU that also takes both NICs' interrupts.  An open-loop flood outruns
# the server under TCG, and the excess queues in qemu's hub (up to 10000
# packets, seconds of delay, counted by no guest counter) in front of the
# legitimate clients' SYNs too; pinned, hping3 sends only when both ends
# have drained their NICs, which still keeps the SYN queue full.
#
# xcli's kernel would answer each SYN-ACK of the flood with a RST, which
# frees the request at once and keeps draining the SYN queue.  A real
# flood's spoofed sources stay silent: a tc filter on xcli drops the RSTs
# xcli sends to the two flooded ports (legitimate clients send none), so
# the queue stays full, every legitimate client goes through a cookie and
# the xtcp listener closes with a full queue of pending requests.
#
# Checks (TAP, one line each):
#   1. xtcp accepted at least 80% of the clients and no fewer than stock
#      minus a margin (max(2, 10%));
#   2. xtcp's SyncookiesSent and SyncookiesRecv are both > 0;
#   3. request_sock_XTCP active objects stay <= 2 * backlog + 64;
#   4. MemAvailable drops by at most 64 MiB during the xtcp flood;
#   5. after the xtcp listener closed with a full SYN queue,
#      request_sock_XTCP and XTCP return to 0 active objects;
#   6. rmmod xtcp succeeds (retried for 5 s: RCU-deferred frees), and
#      leaves no xtcp slab cache behind;
#   7. insmod "$XTCP_KO" again, so that the test ends with it loaded.
#
# The guest is left as found: the tc filter and the interrupts' CPUs are
# restored for the tests that run after this one.
#
# Exit 0 pass, 1 fail, 4 skip.

set -eu

DIR=$(cd "$(dirname "$(readlink -f "$0")")" && pwd)
# shellcheck source=selftests/lib.sh
. "$DIR/lib.sh"

SERVE=$DIR/../tools/build/xtcp-serve
SECS=${XTCP_SYNFLOOD_SECS:-${SYNFLOOD_SECS:-20}}
CLIENTS=${SYNFLOOD_CLIENTS:-20}
BACKLOG=${SYNFLOOD_BACKLOG:-64}
XTCP_PORT=8000
STOCK_PORT=8001
CONNECT_TIMEOUT=3
REQ_BOUND=$((2 * BACKLOG + 64))
MEM_DROP_MAX_KB=$((64 * 1024))
MIN_OK=$(((CLIENTS * 4 + 4) / 5))	# ceil(80%)
MARGIN=$((CLIENTS / 10 > 2 ? CLIENTS / 10 : 2))
DRAIN_SECS=40	# request socks must be gone by then
COUNTER_NAMES=(SyncookiesSent SyncookiesRecv SyncookiesFailed
	TCPReqQFullDoCookies TCPReqQFullDrop ListenOverflows ListenDrops)

TMP=
PIDS=()
T0=$SECONDS
NTESTS=7
TESTNO=0
FAILS=0
OK_XTCP=0
OK_STOCK=0
PENDING=
IRQ_SAVED=()	# irq:cpulist, to restore

# shellcheck disable=SC2317 # the EXIT trap calls it
cleanup() {
	local p
	for p in "${PIDS[@]}"; do
		kill -KILL "$p" 2>/dev/null || true
	done
	for p in "${PIDS[@]}"; do
		wait "$p" 2>/dev/null || true
	done
	nic_irqs_restore
	# The NIC keeps its qdiscs when its namespace goes.
	in_cli tc qdisc del dev "$CLI_DEV" clsact 2>/dev/null || true
	nics_down >/dev/null 2>&1 || true
	if [ ! -d /sys/module/xtcp ] && [ -n "${XTCP_KO:-}" ]; then
		# shellcheck disable=SC2086 # XTCP_MODPARAMS is a word list
		insmod "$XTCP_KO" ${XTCP_MODPARAMS:-} || true
	fi
	[ -z "$TMP" ] || rm -rf "$TMP"
}

# Stop tracking pid $1 (reaped): cleanup must not signal a reused pid.
forget() {
	local p keep=()
	for p in "${PIDS[@]}"; do
		[ "$p" = "$1" ] || keep+=("$p")
	done
	PIDS=("${keep[@]}")
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

comment() {
	printf '# [%3ds] %s\n' $((SECONDS - T0)) "$*"
}

# Active objects of slab cache $1 (/proc/slabinfo), or "none".
slab_active() {
	awk -v c="$1" '$1 == c { print $2; f = 1 } END { if (!f) print "none" }' \
		/proc/slabinfo
}

mem_available_kb() {
	awk '$1 == "MemAvailable:" { print $2 }' /proc/meminfo
}

# Counter $3 of nstat-style file $1 (a names line, then a values line,
# both starting with "$2:"); 0 if absent.
counter() {
	awk -v p="$2:" -v n="$3" '
		$1 == p && !h { for (i = 2; i <= NF; i++) if ($i == n) c = i; h = 1; next }
		$1 == p && h { v = c ? $c : 0; exit }
		END { print v + 0 }' "$1"
}

# The file and line prefix of kind $1's counters (xtcp|stock), under
# /proc/net of the namespace.
stat_file() {
	if [ "$1" = xtcp ]; then echo "xtcp_stat Xtcp"; else echo "netstat TcpExt"; fi
}

# name=value for counters $3... of the nstat-style file $1, prefix $2.
counters() {
	local f=$1 prefix=$2
	shift 2
	awk -v p="$prefix:" -v want="$*" '
		$1 == p && !h { for (i = 2; i <= NF; i++) name[i] = $i; h = 1; next }
		$1 == p && h { for (i = 2; i <= NF; i++) val[name[i]] = $i; exit }
		END {
			n = split(want, w, " ")
			for (i = 1; i <= n; i++)
				printf "%s%s=%d", (i > 1 ? " " : ""), w[i], val[w[i]]
			print ""
		}' "$f"
}

# Every second until killed: seconds, request_sock_XTCP, XTCP,
# request_sock_TCP active objects, MemAvailable (kB).
sampler() {
	local t=0
	while :; do
		echo "$t $(slab_active request_sock_XTCP) $(slab_active XTCP)" \
			"$(slab_active request_sock_TCP) $(mem_available_kb)"
		sleep 1
		t=$((t + 1))
	done
}

# Highest (column_max) or lowest value of column $2 of $1, or "none".
column_max() {
	awk -v c="$2" '$c ~ /^[0-9]+$/ && (!f || $c > m) { m = $c; f = 1 }
		END { print f ? m : "none" }' "$1"
}

column_min() {
	awk -v c="$2" '$c ~ /^[0-9]+$/ && (!f || $c < m) { m = $c; f = 1 }
		END { print f ? m : "none" }' "$1"
}

# xcli stays silent like a spoofed source: drop the RSTs it sends to the
# flooded ports.  Without the tc modules the test runs with the RSTs.
silence_flood_rsts() {
	local port
	if ! modprobe -q sch_ingress 2>/dev/null ||
	   ! modprobe -q cls_flower 2>/dev/null ||
	   ! modprobe -q act_gact 2>/dev/null ||
	   ! in_cli tc qdisc add dev "$CLI_DEV" clsact 2>/dev/null; then
		comment "no tc clsact/flower: xcli's RSTs reach the server" \
			"and drain its SYN queue"
		return 0
	fi
	for port in "$XTCP_PORT" "$STOCK_PORT"; do
		in_cli tc filter add dev "$CLI_DEV" egress protocol ip flower \
			ip_proto tcp dst_port "$port" tcp_flags 0x4/0x4 \
			action drop ||
			ksft_fail "tc filter for port $port failed"
	done
}

# The flood and both NICs' interrupts on CPU 0 (see the top); without
# that the test runs with an open-loop flood and says so.
pin_nic_irqs() {
	nic_irqs_pin
	if [ "$IRQS_PINNED" -gt 0 ]; then
		comment "flood and $IRQS_PINNED NIC interrupts on CPU 0"
	else
		comment "could not pin the NIC interrupts: open-loop flood"
	fi
}

# Background processes are started with `ip netns exec` itself, which
# execs the command: $! is then the command's pid.  `in_srv CMD &` would
# background a subshell running the function, and signals sent to $!
# would kill that subshell and leave CMD running.

# Start a listener ($1: xtcp|inet, $2: port), its output in $TMP/serve.$1;
# sets SERVE_PID once it listens.
serve_start() {
	local fam=$1 port=$2 out=$TMP/serve.$1
	ip netns exec "$XSRV" "$SERVE" --family "$fam" --addr "$SRV_IP" \
		--port "$port" --accept -1 --backlog "$BACKLOG" --print \
		>"$out" 2>&1 &
	SERVE_PID=$!
	PIDS+=("$SERVE_PID")
	for _ in $(seq 100); do
		grep -q '^listening' "$out" && return 0
		kill -0 "$SERVE_PID" 2>/dev/null || break
		sleep 0.1
	done
	ksft_fail "xtcp-serve --family $fam did not listen: $(cat "$out")"
}

serve_stop() {
	kill -TERM "$1" 2>/dev/null || true
	wait "$1" || comment "xtcp-serve exited $?"
	forget "$1"
}

# The legitimate clients: $1 port, $2 count, $3 seconds to spread them
# over.  One line each: "RESULT LOCALPORT MS [ERROR]", RESULT being ok
# (connect() succeeded), rst (connect() saw the server's accept-and-RST
# before it returned: ECONNRESET) or fail.  Whether the server accepted
# the connection is its own log's say: the port is bound before connect()
# so that it is known in every case.
legit_clients() {
	in_cli "$PYTHON" - "$SRV_IP" "$@" "$CONNECT_TIMEOUT" <<'EOF'
import socket, sys, time
ip, port, n, secs, tmo = sys.argv[1], int(sys.argv[2]), int(sys.argv[3]), \
	float(sys.argv[4]), float(sys.argv[5])
start = time.monotonic()
for i in range(n):
	delay = start + i * secs / n - time.monotonic()
	if delay > 0:
		time.sleep(delay)
	s = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
	s.settimeout(tmo)
	s.bind(("0.0.0.0", 0))
	lport = s.getsockname()[1]
	t = time.monotonic()
	try:
		s.connect((ip, port))
		res, err = "ok", ""
		# The server accepts and closes (RST): wait for that, briefly.
		try:
			s.recv(1)
		except OSError:
			pass
	except ConnectionResetError as e:
		res, err = "rst", e
	except OSError as e:
		res, err = "fail", e
	ms = (time.monotonic() - t) * 1000
	print("%s %d %.0f %s" % (res, lport, ms, err), flush=True)
	s.close()
EOF
}

# One phase: $1 xtcp|inet, $2 port.  Sets OK_XTCP or OK_STOCK, and
# PENDING: the request socks just before the listener closed; leaves the
# samples in $TMP/samples.$1, the counters in $TMP/stat.$1.
phase() {
	local fam=$1 port=$2 kind=stock serve_pid flood_pid sampler_pid
	local file prefix base now t ok connected maxms
	[ "$fam" = xtcp ] && kind=xtcp
	read -r file prefix < <(stat_file "$kind")

	serve_start "$fam" "$port"
	serve_pid=$SERVE_PID
	sampler >"$TMP/samples.$fam" &
	sampler_pid=$!
	PIDS+=("$sampler_pid")

	# The server's /proc/PID/net is xsrv's: cheaper than ip netns exec.
	base=$(counter "/proc/$serve_pid/net/$file" "$prefix" TCPReqQFullDoCookies)
	# SIGINT makes hping3 print its statistics; the timeout only bounds
	# it if this script dies: the flood is stopped below.
	ip netns exec "$XCLI" taskset -c 0 nice -n 19 \
		timeout -s INT -k 5 $((SECS + 60)) \
		hping3 --flood -S -p "$port" "$SRV_IP" >"$TMP/hping.$fam" 2>&1 &
	flood_pid=$!
	PIDS+=("$flood_pid")

	# Legitimate clients only once the SYN queue has overflowed.
	t=0
	while :; do
		now=$(counter "/proc/$serve_pid/net/$file" "$prefix" \
			TCPReqQFullDoCookies)
		[ "$now" -gt "$base" ] && break
		if [ $t -ge 100 ]; then
			comment "$fam: the flood did not fill the SYN queue in 10 s"
			break
		fi
		sleep 0.1
		t=$((t + 1))
	done
	comment "$fam: SYN queue full after $((t / 10)).$((t % 10)) s of flood;" \
		"$CLIENTS clients over ${SECS} s"

	legit_clients "$port" "$CLIENTS" "$SECS" >"$TMP/clients.$fam" 2>&1 || true

	kill -INT "$flood_pid" 2>/dev/null || true
	wait "$flood_pid" || true
	forget "$flood_pid"
	sleep 0.5	# the last accepts' output
	if [ "$fam" = xtcp ]; then
		PENDING=$(slab_active request_sock_XTCP)
	else
		PENDING=$(slab_active request_sock_TCP)
	fi
	serve_stop "$serve_pid"
	kill "$sampler_pid" 2>/dev/null || true
	wait "$sampler_pid" || true
	forget "$sampler_pid"
	in_srv cat "/proc/net/$file" >"$TMP/stat.$fam"

	# One awk, not a grep per client: every process costs under TCG.
	# Prints the clients the server did not log, then "ok connected max".
	awk -v cli="$CLI_IP" '
		FNR == NR { if ($1 == "accepted") { split($2, a, ":")
				if (a[1] == cli) acc[a[2]] = 1 }; next }
		$1 !~ /^(ok|rst|fail)$/ || $2 !~ /^[0-9]+$/ {
			print "unexpected client output: " $0; next }
		{ if ($1 == "ok") conn++; if ($3 > max) max = $3
		  if ($2 in acc) ok++
		  else print "client port " $2 " not accepted: " $0 }
		END { print "ok", ok + 0, conn + 0, max + 0 }' \
		"$TMP/serve.$fam" "$TMP/clients.$fam" >"$TMP/result.$fam"
	grep -v '^ok ' "$TMP/result.$fam" | sed "s/^/# $fam: /" || true
	read -r _ ok connected maxms < <(grep '^ok ' "$TMP/result.$fam")
	if [ "$kind" = xtcp ]; then OK_XTCP=$ok; else OK_STOCK=$ok; fi
	comment "$fam: legitimate clients accepted $ok/$CLIENTS" \
		"(connect() returned 0 for $connected, slowest ${maxms} ms)"
	comment "$fam: hping3: $(grep -m1 'packets transmitted' "$TMP/hping.$fam" ||
		echo "no statistics: $(tail -n 2 "$TMP/hping.$fam" | tr '\n' ' ')")"
	comment "$fam: $(counters "$TMP/stat.$fam" "$prefix" "${COUNTER_NAMES[@]}")"
	comment "$fam: peak active objects: $(awk '
		{ for (i = 2; i <= 4; i++) if ($i + 0 > m[i]) m[i] = $i + 0 }
		END { printf "request_sock_XTCP %d, XTCP %d, request_sock_TCP %d\n",
			m[2], m[3], m[4] }' "$TMP/samples.$fam")"
}

# Wait until request_sock_XTCP and XTCP have no active object; prints the
# seconds it took, or what is left after $DRAIN_SECS and returns 1.
drain() {
	local t=0 r x
	while :; do
		r=$(slab_active request_sock_XTCP)
		x=$(slab_active XTCP)
		if [ "$r" = 0 ] && [ "$x" = 0 ]; then
			echo "$((t / 4)).$((t % 4 * 25))"
			return 0
		fi
		if [ $t -ge $((DRAIN_SECS * 4)) ]; then
			echo "request_sock_XTCP $r, XTCP $x active after ${DRAIN_SECS} s"
			return 1
		fi
		sleep 0.25
		t=$((t + 1))
	done
}

main() {
	local mem0 peak_req peak_sock peak_stock_req min_mem drop_kb waited
	local left sent recv err msg

	require_vm
	[ "$(id -u)" = 0 ] || ksft_skip "needs root"
	require_xtcp
	require_cmd hping3 tc taskset nice timeout awk "$PYTHON"
	[ -r "${XTCP_KO:-/nonexistent}" ] ||
		ksft_skip "XTCP_KO (${XTCP_KO:-unset}) not readable: run it with scripts/vm"
	[ -x "$SERVE" ] || make -s -C "$DIR/../tools" >/dev/null 2>&1 || true
	[ -x "$SERVE" ] || ksft_skip "$SERVE missing: make -C tools"
	[ "$(slab_active request_sock_XTCP)" != none ] ||
		ksft_skip "request_sock_XTCP not in /proc/slabinfo" \
			"(merged: boot with slub_debug or slab_nomerge)"

	TMP=$(mktemp -d)
	trap cleanup EXIT

	echo "TAP version 13"
	echo "1..$NTESTS"
	nics_up || ksft_fail "nics_up failed"
	in_srv sysctl -qw net.xtcp.syncookies=1 net.ipv4.tcp_syncookies=1 ||
		ksft_fail "cannot set the syncookies sysctls in $XSRV"
	silence_flood_rsts
	pin_nic_irqs
	comment "kernel $(uname -r), backlog $BACKLOG, ports $XTCP_PORT (xtcp)" \
		"and $STOCK_PORT (stock), request sock bound $REQ_BOUND"

	phase inet "$STOCK_PORT"
	mem0=$(mem_available_kb)
	phase xtcp "$XTCP_PORT"
	left=$PENDING
	waited=
	drain >"$TMP/drain" && waited=$(cat "$TMP/drain")
	comment "xtcp listener closed with $left request socks pending;" \
		"$(if [ -n "$waited" ]; then echo "none left after $waited s of polling"; else
			cat "$TMP/drain"; fi)"

	msg="xtcp $OK_XTCP/$CLIENTS, stock $OK_STOCK/$CLIENTS"
	msg+=" (need >= $MIN_OK and >= stock - $MARGIN)"
	if [ "$OK_XTCP" -ge "$MIN_OK" ] &&
	   [ "$OK_XTCP" -ge $((OK_STOCK - MARGIN)) ]; then
		tap ok "legitimate clients connect during the flood" "$msg"
	else
		tap fail "legitimate clients connect during the flood" "$msg"
	fi

	sent=$(counter "$TMP/stat.xtcp" Xtcp SyncookiesSent)
	recv=$(counter "$TMP/stat.xtcp" Xtcp SyncookiesRecv)
	msg="SyncookiesSent $sent SyncookiesRecv $recv"
	if [ "$sent" -gt 0 ] && [ "$recv" -gt 0 ]; then
		tap ok "xtcp sent SYN cookies and accepted cookie ACKs" "$msg"
	else
		tap fail "xtcp sent SYN cookies and accepted cookie ACKs" "$msg"
	fi

	peak_req=$(column_max "$TMP/samples.xtcp" 2)
	peak_sock=$(column_max "$TMP/samples.xtcp" 3)
	peak_stock_req=$(column_max "$TMP/samples.inet" 4)
	msg="peak request_sock_XTCP $peak_req (bound $REQ_BOUND), XTCP"
	msg+=" $peak_sock; stock's request_sock_TCP $peak_stock_req"
	if [ "$peak_req" != none ] && [ "$peak_req" -le "$REQ_BOUND" ]; then
		tap ok "request socks bounded by the backlog" "$msg"
	else
		tap fail "request socks bounded by the backlog" "$msg"
	fi

	min_mem=$(column_min "$TMP/samples.xtcp" 5)
	[ "$min_mem" != none ] || min_mem=$(mem_available_kb)
	drop_kb=$((mem0 - min_mem))
	msg="MemAvailable $((mem0 / 1024)) MiB before, lowest"
	msg+=" $((min_mem / 1024)) MiB during the xtcp flood (drop"
	msg+=" $((drop_kb / 1024)) MiB, max $((MEM_DROP_MAX_KB / 1024)))"
	if [ "$drop_kb" -le "$MEM_DROP_MAX_KB" ]; then
		tap ok "memory bounded during the flood" "$msg"
	else
		tap fail "memory bounded during the flood" "$msg"
	fi

	if [ -n "$waited" ]; then
		tap ok "request_sock_XTCP and XTCP back to 0 active objects" \
			"$left pending at close, none left after ${waited} s of polling"
	else
		tap fail "request_sock_XTCP and XTCP back to 0 active objects" \
			"$(cat "$TMP/drain")"
	fi

	if err=$(xtcp_unload); then
		err=$(xtcp_leftover_slabs)
		if [ -z "$err" ]; then
			tap ok "rmmod xtcp after the flood"
		else
			tap fail "rmmod xtcp after the flood" "slab caches left: $err"
		fi
	else
		tap fail "rmmod xtcp after the flood" "$err"
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

	comment "$((TESTNO - FAILS)) passed, $FAILS failed"
	[ "$FAILS" = 0 ] || exit "$KSFT_FAIL"
	exit "$KSFT_PASS"
}

main "$@"
