#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# transfer.sh: real clients move real files to and from servers on
# AF_XTCP, over the virtio NICs with their offloads on (GRO, GSO, TSO),
# intact, and the same through netem and a path MTU drop.  Issue 7:
# "curl downloads files of 1 B, 1 MB and 64 MB from a small HTTP server
# on AF_XTCP, SHA-256 equal; the same server receives a 64 MB upload and
# echoes it intact; nc and Python clients exchange data both ways", and
# "the same transfers complete intact under tc netem loss 3 %, reordering
# 25 %, duplication 2 %, 50 ms delay, and a path MTU drop in the middle
# of a transfer (ICMP fragmentation needed from a router namespace)".
#
# Servers, in xsrv, once per family: httpd.py (stock: as it is; xtcp:
# under tools/libxtcp.so, which makes its listener AF_XTCP)
# and echo.py (--family).  Every transfer runs against stock too, in the
# same run: a transfer stock cannot complete says the setup is broken,
# not xtcp.  The 64 MiB ones are xtcp's alone: stock's add a minute a
# kernel to make check and prove nothing its 1 MiB ones do not.  Times
# are printed, never asserted (TCG; see testing.rst).
#
# Under netem the files are 1 MiB, for make check's time: 64 MiB at 3 %
# loss takes minutes for either stack under TCG (loss.sh compares the
# senders' recovery).  The path MTU case puts a router between:
# the client moves to xcli2 behind xcli (198.19.0.0/24 over a veth), and
# 2 MiB into a 16 MiB download (paced at 50 Mbit/s) xcli lowers that
# veth's MTU to 1280, so the server's full-sized segments draw ICMP
# fragmentation needed.
#
#   scripts/vm -- selftests/run_tests transfer.sh
#
# TRANSFER_BIG (64 MiB: bytes of the big file), TRANSFER_CASES ("clean
# netem pmtu": which to run), XTCP_TRANSFER_FULL=1 (the netem and path
# MTU transfers move the big file, both stacks: the issue's text at full
# size, ~10 minutes a kernel; testing.rst has the numbers).  TAP output;
# exit 0 pass, 1 fail, 4 skip.
set -u

DIR=$(cd "$(dirname "$0")" && pwd)
# shellcheck source=selftests/lib.sh
. "$DIR/lib.sh"
# shellcheck source=selftests/http.sh
. "$DIR/http.sh"

BIG=${TRANSFER_BIG:-$((64 << 20))}
CASES=${TRANSFER_CASES:-clean netem pmtu}
# The files of the netem and path MTU cases.
IMPAIRED=1MiB PMTU_FILE=16MiB
[ "${XTCP_TRANSFER_FULL:-0}" = 1 ] && IMPAIRED=big PMTU_FILE=big

require_vm
require_xtcp
require_cmd curl nc tc sha256sum
http_begin

# Upload file $2 to family $1's /echo, compare what came back.
echo_http() {
	local fam=$1 name=$2 out=$TMP/back-$1
	rm -f "$out"
	URL="echo" curl_to "$fam" --data-binary "@$TMP/www/$name" \
		-H 'Content-Type: application/octet-stream' -o "$out" \
		2>"$TMP/curl.err" && same "$TMP/www/$name" "$out"
	RC=$?
	curl_note
}

# nc sends file $2 to family $1's echo server, half-closes, reads the
# echo until the server's EOF.
echo_nc() {
	local fam=$1 name=$2 out=$TMP/nc-$1
	rm -f "$out"
	client timeout 120 nc -N "$SRV_IP" "${ECHO_PORT[$fam]}" \
		<"$TMP/www/$name" >"$out" 2>"$TMP/nc.err" && same "$TMP/www/$name" "$out"
	RC=$?
	NOTE="${SECS}s"
	[ $RC = 0 ] || NOTE="$NOTE; got $(stat -c %s "$out" 2>/dev/null || echo 0) bytes $(head -c 200 "$TMP/nc.err")"
}

# Python clients: echo.py's random-sized messages both ways, 8
# connections for 1 s.
echo_py() {
	local fam=$1 line
	line=$(client "$PYTHON" "$DIR/echo.py" client --addr "$SRV_IP" \
		--port "${ECHO_PORT[$fam]}" --conns 8 --secs 1 2>&1)
	RC=$?
	NOTE="$(printf '%s\n' "$line" | grep '^client ' | head -n1)"
	[ $RC = 0 ] || NOTE="$NOTE $(printf '%s\n' "$line" | tail -n2 | tr '\n' ' ')"
}

# The transfers of one impaired case; $1 names it, $2 is the file size
# name: curl both ways.  (nc and Python's echo clients run on the clean
# path only, for make check's time.)
transfers() {
	local case=$1 name=$2 fam
	for fam in stock xtcp; do
		get "$fam" "$name"
		check "$RC" "$case: curl downloads $name from $fam" "$NOTE"
		echo_http "$fam" "$name"
		check "$RC" "$case: curl uploads $name to $fam, which echoes it" "$NOTE"
	done
}

netem() {
	local dev ns
	for ns in "$XSRV" "$XCLI"; do
		dev=$([ "$ns" = "$XSRV" ] && echo "$SRV_DEV" || echo "$CLI_DEV")
		if [ "$1" = off ]; then
			ip netns exec "$ns" tc qdisc del dev "$dev" root 2>/dev/null
			continue
		fi
		# shellcheck disable=SC2068 # netem's words
		ip netns exec "$ns" tc qdisc replace dev "$dev" root netem $@ ||
			return 1
	done
}

# ICMP destination unreachables xcli has sent.
icmp_unreach_out() {
	# shellcheck disable=SC2016 # awk's own $
	ip netns exec "$XCLI" awk '/^Icmp:/ { if (!h) { for (i = 1; i <= NF; i++) n[$i] = i; h = 1 } else print $n["OutDestUnreachs"] }' /proc/net/snmp
}

# A 16 MiB ($PMTU_FILE) download by family $1 from xcli2, address $2 (fresh per run:
# the server's route cache keeps a path MTU per destination), paced to
# 50 Mbit/s by netem on the server's NIC; once 2 MiB have arrived, the
# router's veth drops to MTU 1280.
pmtu_get() {
	local fam=$1 ip=$2 pid icmp0 out=$TMP/got-$1
	ip -n "$XCLI2" addr add "$ip/24" dev cli2
	ip -n "$XCLI" link set rtr0 mtu 1500
	icmp0=$(icmp_unreach_out)
	rm -f "$out"
	CLIENT_NS=$XCLI2 CLIENT_IP=$ip URL=$PMTU_FILE curl_to "$fam" -o "$out" \
		2>"$TMP/curl.err" &
	pid=$!
	for _ in $(seq 400); do
		[ "$(stat -c %s "$out" 2>/dev/null || echo 0)" -ge $((2 << 20)) ] &&
			break
		sleep 0.05
	done
	ip -n "$XCLI" link set rtr0 mtu 1280
	wait "$pid" && same "$TMP/www/$PMTU_FILE" "$out"
	RC=$?
	NOTE="ICMP unreachables from the router: $(($(icmp_unreach_out) - icmp0))"
	[ $RC = 0 ] || NOTE="$NOTE; got $(stat -c %s "$out" 2>/dev/null || echo 0) bytes $(head -c 200 "$TMP/curl.err")"
	# No ICMP: the drop came too late to matter.
	[ "$(($(icmp_unreach_out) - icmp0))" -gt 0 ] ||
		{ RC=1; NOTE="$NOTE (none: the MTU dropped after the transfer?)"; }
}

has_case() {
	case " $CASES " in *" $1 "*) return 0 ;; esac
	return 1
}

# The clean path: every size, then uploads and echoes.  The xtcp servers
# must really be xtcp: each connection a passive open.
clean_case() {
	local name fam opens0 opens hits0 acks0 shits0 hits acks shits
	opens0=$(xtcp_stat PassiveOpens)
	hits0=$(xtcp_stat TCPHPHits)
	acks0=$(xtcp_stat TCPHPAcks)
	shits0=$(tcpext_stat TCPHPHits)
	for name in 1B 1MiB big; do
		for fam in stock xtcp; do
			[ "$fam/$name" != stock/big ] || continue
			get "$fam" "$name"
			check "$RC" "clean: curl downloads $name ($(stat -c %s "$TMP/www/$name") bytes) from $fam" "$NOTE"
		done
	done
	for fam in stock xtcp; do
		name=big
		[ "$fam" = xtcp ] || name=1MiB
		echo_http "$fam" "$name"
		check "$RC" "clean: curl uploads $name to $fam, which echoes it" "$NOTE"
		echo_nc "$fam" 1MiB
		check "$RC" "clean: nc sends 1MiB to $fam's echo, reads it back" "$NOTE"
		echo_py "$fam"
		check "$RC" "clean: Python clients echo random messages with $fam" "$NOTE"
	done
	opens=$(($(xtcp_stat PassiveOpens) - opens0))
	# 3 downloads, 1 upload, 1 nc, 8 Python connections
	[ "$opens" -ge 13 ]
	check $? "the xtcp servers' connections were xtcp's passive opens" \
		"PassiveOpens +$opens, want at least 13"
	# Bulk data both ways: header prediction takes in-order data (the
	# uploads) and pure ACKs (the downloads), as stock's does.
	hits=$(($(xtcp_stat TCPHPHits) - hits0))
	acks=$(($(xtcp_stat TCPHPAcks) - acks0))
	shits=$(($(tcpext_stat TCPHPHits) - shits0))
	[ "$hits" -gt 0 ] && [ "$acks" -gt 0 ] && [ "$shits" -gt 0 ]
	check $? "header prediction took data and ACKs, as stock's" \
		"xtcp TCPHPHits +$hits TCPHPAcks +$acks; stock TCPHPHits +$shits"
}

netem_cases() {
	local impair t0 s0 r0 q0
	for impair in "loss 3%" "delay 50ms" "delay 10ms reorder 25% 50%" \
		"duplicate 2%"; do
		# shellcheck disable=SC2086 # netem's words
		if ! netem $impair; then
			check 0 "netem $impair" "SKIP no netem qdisc"
			continue
		fi
		t0=$(xtcp_stat TCPTimeouts) s0=$(tcpext_stat TCPTimeouts)
		r0=$(xtcp_stat RetransSegs) q0=$(proc_net_stat /proc/net/snmp Tcp RetransSegs)
		transfers "netem $impair" "$IMPAIRED"
		log "# netem $impair: TCPTimeouts stock +$(($(tcpext_stat TCPTimeouts) - s0)) xtcp +$(($(xtcp_stat TCPTimeouts) - t0)), RetransSegs stock +$(($(proc_net_stat /proc/net/snmp Tcp RetransSegs) - q0)) xtcp +$(($(xtcp_stat RetransSegs) - r0))"
		netem off
	done
}

pmtu_case() {
	if ! router_up; then
		check 0 "path MTU drop" "SKIP no veth for the router"
		return
	fi
	if ! in_srv tc qdisc replace dev "$SRV_DEV" root netem rate 50mbit; then
		check 0 "path MTU drop" "SKIP no netem qdisc"
		return
	fi
	pmtu_get stock 198.19.0.10
	check "$RC" "path MTU 1500 -> 1280 mid-download of $PMTU_FILE (router ICMP): stock" "$NOTE"
	pmtu_get xtcp 198.19.0.11
	check "$RC" "path MTU 1500 -> 1280 mid-download of $PMTU_FILE (router ICMP): xtcp" "$NOTE"
	in_srv tc qdisc del dev "$SRV_DEV" root
}

echo "TAP version 13"
nics_up || ksft_fail "nics_up failed"
nic_offloads on
mkdir -p "$TMP/www"
head -c 1 /dev/urandom >"$TMP/www/1B"
head -c $((1 << 20)) /dev/urandom >"$TMP/www/1MiB"
head -c $((16 << 20)) /dev/urandom >"$TMP/www/16MiB"
head -c "$BIG" /dev/urandom >"$TMP/www/big"
start_servers http:stock echo:stock http:xtcp echo:xtcp

has_case clean && clean_case
has_case netem && netem_cases
has_case pmtu && pmtu_case
tap_done
