#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# fastopen.sh: curl --tcp-fastopen against Fast Open on AF_XTCP, beside
# stock TCP (issue 10: "curl --tcp-fastopen fetches from an xtcp server
# twice; the second connection carries its request in the SYN (seen in
# the capture) and the page is intact").
#
# One nginx in xsrv under tools/libxtcp.so with XTCP_PORTS=8601: two
# listeners, both "listen ... fastopen=16" (setsockopt TCP_FASTOPEN), 8600
# on stock TCP and 8601 on AF_XTCP.  The server bit in both stacks
# (net.ipv4.tcp_fastopen and net.xtcp.fastopen 3) and the same key
# (net.ipv4.tcp_fastopen_key, net.xtcp.fastopen_key), so that both give
# the client the same cookie; the client bit in xcli (tcp_fastopen 1).
# curl fetches a 16 KiB page twice from each port, stock's pair first,
# with xcli's cookie cache (ip tcp_metrics) flushed before each pair;
# tcpdump in xsrv captures it all.  Checked, for each stack:
#
#   - each page intact (SHA-256);
#   - the 1st SYN asks for a cookie (option 34, empty) without data, the
#     SYN-ACK gives one;
#   - the 2nd SYN carries that cookie and the request ("GET ..."), and
#     its SYN-ACK acknowledges it (ack = ISN + 1 + length);
#   - the counters, stock's /proc/net/netstat and xtcp's
#     /proc/net/xtcp_stat: TCPFastOpenPassive +1, TCPFastOpenCookieReqd
#     +1, TCPFastOpenPassiveFail +0;
#
# and stock's four connections against xtcp's: each opening (SYN,
# SYN-ACK, the client's first data) segment by segment through
# tools/xtcp_report.py (ISN and TSval aside), the bytes each way and the
# close (fastopen.py's ending()); the middle of a connection depends on timing
# under TCG, stock against stock too.  fastopen.py reads the capture.
#
#   scripts/vm -- selftests/run_tests fastopen.sh
#
# TAP output; exit 0 pass, 1 fail, 4 skip (curl without --tcp-fastopen,
# nginx or tcpdump missing).
set -u

DIR=$(cd "$(dirname "$0")" && pwd)
# shellcheck source=selftests/lib.sh
. "$DIR/lib.sh"

PRELOAD=$DIR/../tools/libxtcp.so
declare -A PORT=([stock]=8600 [xtcp]=8601)
KEY=01234567-89abcdef-fedcba98-76543210
PAGE=page

require_vm
require_xtcp
require_cmd curl nginx tcpdump sha256sum
curl --help all 2>/dev/null | grep -q -- --tcp-fastopen ||
	ksft_skip "curl has no --tcp-fastopen ($(curl -V | head -n 1))"
[ -e "$PRELOAD" ] || ksft_skip "$PRELOAD not built (make -C tools)"

T0=$EPOCHREALTIME
TMP=$(mktemp -d)
PIDS=()
# shellcheck disable=SC2317 # runs from the EXIT trap
cleanup() {
	local p
	for p in "${PIDS[@]}"; do
		kill "$p" 2>/dev/null
	done
	nics_down >/dev/null 2>&1
	rm -rf "$TMP"
}
trap cleanup EXIT

nics_up || ksft_fail "nics_up"
in_srv sysctl -qw net.ipv4.tcp_fastopen=3 net.xtcp.fastopen=3 \
	net.ipv4.tcp_fastopen_key="$KEY" net.xtcp.fastopen_key="$KEY" ||
	ksft_fail "server sysctls"
in_cli sysctl -qw net.ipv4.tcp_fastopen=1 || ksft_fail "client sysctl"

mkdir -p "$TMP/www"
head -c 16384 /dev/urandom >"$TMP/www/$PAGE"
WANT=$(sha256sum <"$TMP/www/$PAGE" | cut -c1-64)
nginx_conf "$TMP" "listen $SRV_IP:${PORT[stock]} fastopen=16;
listen $SRV_IP:${PORT[xtcp]} fastopen=16; root $TMP/www;"

# The capture first: tcpdump says "listening" once it is.
ip netns exec "$XSRV" tcpdump -i "$SRV_DEV" -nn -U -s 256 -w "$TMP/fo.pcap" \
	"tcp port ${PORT[stock]} or tcp port ${PORT[xtcp]}" 2>"$TMP/tcpdump.err" &
PIDS+=($!)
ip netns exec "$XSRV" env LD_PRELOAD="$PRELOAD" XTCP_STRICT=1 \
	XTCP_PORTS="${PORT[xtcp]}" nginx -p "$TMP/nginx/" -c "$TMP/nginx.conf" \
	-e "$TMP/nginx/error.log" >"$TMP/nginx.log" 2>&1 &
PIDS+=($!)
for _ in $(seq 100); do
	[ -s "$TMP/nginx/nginx.pid" ] && grep -q listening "$TMP/tcpdump.err" &&
		break
	sleep 0.1
done
[ -s "$TMP/nginx/nginx.pid" ] ||
	ksft_fail "nginx did not start: $(cat "$TMP/nginx.log" "$TMP/nginx/error.log" 2>/dev/null)"
grep -q listening "$TMP/tcpdump.err" ||
	ksft_fail "tcpdump did not start: $(cat "$TMP/tcpdump.err")"

in_srv cat /proc/net/netstat /proc/net/xtcp_stat >"$TMP/before"
T1=$EPOCHREALTIME
for side in stock xtcp; do
	# no cookie cached for the server's address: the 1st SYN asks
	in_cli ip tcp_metrics flush "$SRV_IP" 2>/dev/null
	for n in 1 2; do
		out=$TMP/got-$side-$n
		in_cli curl -sS --noproxy '*' --fail --max-time 10 --tcp-fastopen \
			-o "$out" "http://$SRV_IP:${PORT[$side]}/$PAGE" 2>"$TMP/curl.err"
		rc=$?
		note="curl exit $rc"
		if [ "$rc" = 0 ]; then
			got=$(sha256sum <"$out" | cut -c1-64)
			[ "$got" = "$WANT" ]
			rc=$?
			note="$(stat -c %s "$out") bytes, sha256 ${got:0:16}, want ${WANT:0:16}"
		else
			note="$note: $(head -c 200 "$TMP/curl.err")"
		fi
		check "$rc" "$side: fetch $n, the page intact" "$note"
	done
done
in_srv cat /proc/net/netstat /proc/net/xtcp_stat >"$TMP/after"
T2=$EPOCHREALTIME

# fastopen.py's "RC<TAB>NAME<TAB>NOTE" lines are checks, the rest log.
while IFS= read -r line; do
	case $line in
	[01]$'\t'*)
		IFS=$'\t' read -r rc name note <<<"$line"
		check "$rc" "$name" "$note" ;;
	"#"*) echo "$line" ;;
	*) echo "# $line" ;;
	esac
done < <("$PYTHON" "$DIR/fastopen.py" "$TMP/fo.pcap" "${PORT[stock]}" \
	"${PORT[xtcp]}" "$TMP/before" "$TMP/after" 2>&1)
[ "$TESTNO" -ge 12 ] || check 1 "fastopen.py ran all its checks" "$TESTNO checks"
awk -v a="$T0" -v b="$T1" -v c="$T2" -v d="$EPOCHREALTIME" 'BEGIN {
	printf "# seconds: set-up %.1f, fetches %.1f, fastopen.py %.1f\n",
		b - a, c - b, d - c }'
tap_done
