#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# pacing.sh: SO_MAX_PACING_RATE paces an xtcp sender as it paces stock's
# (issue 8: "pacing when the congestion module or SO_MAX_PACING_RATE
# asks for it, stock's internal pacing with an hrtimer, or through the
# fq qdisc when present").
#
# The server in xsrv (pacing.py serve) sets SO_MAX_PACING_RATE on the
# accepted connection and writes PACING_BYTES (2 MB); the client in xcli times
# the download from its first byte to its last.  Per family (stock,
# then xtcp):
#   - unpaced, the control: the path must carry at least three times the
#     rate, or pacing could not be told from the path (skip);
#   - paced with the default qdisc: no fq, so the stack paces itself
#     (sk_pacing_status SK_PACING_NEEDED, the pacing hrtimer);
#   - paced with fq as srv0's root qdisc: fq takes pacing over
#     (SK_PACING_FQ) and holds each packet to the departure time the
#     stack stamped on it.
# Paced downloads run twice per family, A B B A.  Checks: stock's paced
# rate is within 25 % of the rate (the method works); xtcp's is within
# 15 % of stock's in the same mode;
# TCP_INFO's max_pacing_rate is the rate and pacing_rate not above it,
# for both.
#
#   scripts/vm -- selftests/run_tests pacing.sh
#
# TAP output; exit 0 pass, 1 fail, 4 skip.
set -u

DIR=$(cd "$(dirname "$0")" && pwd)
# shellcheck source=selftests/lib.sh
. "$DIR/lib.sh"

RATE=${PACING_RATE:-1500000}		# bytes/s: 12 Mbit/s
BYTES=${PACING_BYTES:-2000000}		# 1.3 seconds of it
PORT=5301
TMP=$(mktemp -d)

require_vm
require_xtcp
require_cmd ip tc

# shellcheck disable=SC2317 # runs from the EXIT trap
cleanup() {
	in_srv tc qdisc del dev "$SRV_DEV" root 2>/dev/null
	nics_down >/dev/null 2>&1
	rm -rf "$TMP"
}
trap cleanup EXIT

nics_up || ksft_fail "nics_up: the test namespaces could not be built"

# One download: family $1, rate $2 (0: unpaced); prints "bytes seconds
# pacing_rate max_pacing_rate total_retrans sndbuf" (TCP_INFO's,
# bytes/s; the sender's SO_SNDBUF at the end) or returns 1.
download() {
	local fam=$1 rate=$2 out="$TMP/srv-$PORT" cli="$TMP/cli-$PORT"
	in_srv "$PYTHON" "$DIR/pacing.py" serve "$fam" "$PORT" "$rate" \
		"$BYTES" >"$out" 2>&1 &
	local pid=$!
	if ! wait_ready "$out"; then
		kill "$pid" 2>/dev/null
		echo "server: $(tail -n1 "$out")" >&2
		return 1
	fi
	in_cli timeout 60 "$PYTHON" "$DIR/pacing.py" fetch "$SRV_IP" "$PORT" \
		>"$cli" 2>&1
	wait "$pid"
	PORT=$((PORT + 1))
	"$PYTHON" - "$cli" "$out" "$BYTES" <<-'EOF'
	import json, sys
	c = json.loads(open(sys.argv[1]).read().splitlines()[-1])
	s = json.loads(open(sys.argv[2]).read().splitlines()[-1])
	if c["bytes"] != int(sys.argv[3]) or c["seconds"] <= 0:
	    sys.exit("got %d bytes in %.3f s" % (c["bytes"], c["seconds"]))
	print("%d %.6f %d %d %d %d" % (c["bytes"], c["seconds"], s["pacing_rate"],
	                               s["max_pacing_rate"], s["total_retrans"],
	                               s["sndbuf"]))
	EOF
}

# rate "bytes seconds ...": bytes per second
rate_of() {
	awk '{ printf "%d", $1 / $2 }' <<<"$1"
}

declare -A GOT=() RUNS=()
for fam in inet xtcp; do
	GOT[$fam,free]=$(download "$fam" 0) ||
		ksft_fail "unpaced $fam download failed"
done
for fam in inet xtcp; do
	free=$(rate_of "${GOT[$fam,free]}")
	[ "$free" -ge $((3 * RATE)) ] ||
		ksft_skip "the path carries $free B/s unpaced ($fam), not three times the rate $RATE"
done

# Paced: two downloads per family, A B B A, so that both see the same
# moments of the guest's load (make check runs two guests on two CPUs);
# a family's rate is its bytes over its seconds.
modprobe -q sch_fq 2>/dev/null
for mode in internal fq; do
	if [ "$mode" = fq ]; then
		in_srv tc qdisc replace dev "$SRV_DEV" root fq ||
			ksft_skip "no fq qdisc (sch_fq)"
	fi
	for fam in inet xtcp xtcp inet; do
		got=$(download "$fam" "$RATE") ||
			ksft_fail "paced $fam download ($mode) failed"
		read -r b secs pr max rtx sndbuf <<<"$got"
		read -r tb tsecs _ <<<"${GOT[$fam,$mode]:-0 0}"
		GOT[$fam,$mode]="$((tb + b)) $(awk -v a="$tsecs" -v b="$secs" 'BEGIN { print a + b }') $pr $max"
		RUNS[$fam,$mode]+="$(rate_of "$got") B/s ($rtx retrans, sndbuf $sndbuf) "
	done
done

# ratio A B: A / B, two decimals
ratio() {
	awk -v a="$1" -v b="$2" 'BEGIN { printf "%.2f", a / b }'
}

# within X LO HI: LO <= X <= HI (decimals)
within() {
	awk -v x="$1" -v lo="$2" -v hi="$3" 'BEGIN { exit !(x >= lo && x <= hi) }'
}

for mode in internal fq; do
	read -r _ _ s_pr s_max <<<"${GOT[inet,$mode]}"
	read -r _ _ x_pr x_max <<<"${GOT[xtcp,$mode]}"
	s_rate=$(rate_of "${GOT[inet,$mode]}")
	x_rate=$(rate_of "${GOT[xtcp,$mode]}")
	sr=$(ratio "$s_rate" "$RATE")
	within "$sr" 0.75 1.25
	check $? "$mode: stock paces at SO_MAX_PACING_RATE" \
		"$s_rate B/s for $RATE: ${RUNS[inet,$mode]}; unpaced $(rate_of "${GOT[inet,free]}")"
	xr=$(ratio "$x_rate" "$s_rate")
	within "$xr" 0.85 1.15
	check $? "$mode: xtcp paces as stock does" \
		"xtcp $x_rate B/s: ${RUNS[xtcp,$mode]}; stock $s_rate, xtcp/stock $xr; unpaced $(rate_of "${GOT[xtcp,free]}")"
	[ "$s_max" = "$RATE" ] && [ "$x_max" = "$RATE" ] &&
		[ "$s_pr" -le "$RATE" ] && [ "$x_pr" -le "$RATE" ]
	check $? "$mode: TCP_INFO pacing rates" \
		"max_pacing_rate stock $s_max xtcp $x_max, pacing_rate stock $s_pr xtcp $x_pr"
done
tap_done
