#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# echo.sh: 200 stock TCP clients in xcli, each echoing random-sized
# messages (1 B to 64 KiB) through an AF_XTCP echo server in xsrv over
# the virtio NICs for ECHO_SECS (30) seconds; every byte must come back
# intact (echo.py).  The clients close first; then the xtcp slab caches
# must be back to their count before the run, and the module must unload
# (no cache left) and load again.  Issue 7: "200 concurrent connections
# each echoing random-sized messages for 30 s, all intact; then all
# closed, slab counts back to their baseline, and the module unloads
# cleanly."  Every fourth connection is paced (SO_MAX_PACING_RATE 2 MB/s,
# xtcp's pacing hrtimer: no fq here), so that pacing timers are armed
# while connections echo, close and the module unloads.
#
#   scripts/vm -- selftests/run_tests echo.sh
#
# ECHO_CONNS (200), ECHO_SECS (30).  TAP output; exit 0 pass, 1 fail,
# 4 skip.
set -u

DIR=$(cd "$(dirname "$0")" && pwd)
# shellcheck source=selftests/lib.sh
. "$DIR/lib.sh"

CONNS=${ECHO_CONNS:-200}
SECS=${ECHO_SECS:-30}
PORT=8300

require_vm
require_xtcp
[ -n "${XTCP_KO:-}" ] || ksft_skip "XTCP_KO unset: run in the guest via scripts/vm"

# name count, for the xtcp caches that exist now
slabs() {
	grep -i xtcp /proc/slabinfo | awk '{ printf "%s %s ", $1, $2 }'
}

# Wait up to $2 s until every xtcp cache is at most its count in $1.
slabs_back() {
	local base=$1 secs=$2 now
	for _ in $(seq $((secs * 4))); do
		now=$(slabs)
		awk -v b="$base" -v n="$now" 'BEGIN {
			split(b, bb, " "); split(n, nn, " ")
			for (i = 1; i < length(bb); i += 2) want[bb[i]] = bb[i + 1]
			for (i = 1; i < length(nn); i += 2)
				if (nn[i + 1] > want[nn[i]] + 0) exit 1
		}' && return 0
		sleep 0.25
	done
	return 1
}

# shellcheck disable=SC2317 # runs from the EXIT trap
cleanup() {
	[ -n "${SRV:-}" ] && kill "$SRV" 2>/dev/null
	nics_down >/dev/null 2>&1
	rm -rf "$TMP"
}
TMP=$(mktemp -d)
trap cleanup EXIT

echo "TAP version 13"
nics_up || ksft_fail "nics_up failed"
base=$(slabs)
log "# slab baseline: $base"

# Not in_srv: $! must be the server itself (ip netns exec execs it).
ip netns exec "$XSRV" "$PYTHON" "$DIR/echo.py" server \
	--family "$(xtcp_family)" --addr "$SRV_IP" --port "$PORT" \
	--pace-every 4 \
	>"$TMP/srv" 2>&1 &
SRV=$!
wait_ready "$TMP/srv" || ksft_fail "echo server: $(cat "$TMP/srv")"

t0=$SECONDS
in_cli "$PYTHON" "$DIR/echo.py" client --addr "$SRV_IP" --port "$PORT" \
	--conns "$CONNS" --secs "$SECS" >"$TMP/cli" 2>&1
rc=$?
kill -TERM "$SRV"
wait "$SRV"
SRV=
log "# $(grep '^client ' "$TMP/cli") after $((SECONDS - t0)) s"
grep -v '^ready' "$TMP/srv" | head -n 5 | sed 's/^/# /'
grep -v '^client ' "$TMP/cli" | head -n 5 | sed 's/^/# /'
check "$rc" "$CONNS connections echoed random-sized messages for $SECS s, all intact" \
	"$(grep '^client ' "$TMP/cli")"

slabs_back "$base" 10
check $? "xtcp slab caches back to the baseline" "$(slabs)"

nics_down >/dev/null 2>&1
if err=$(xtcp_unload); then
	err=$(xtcp_leftover_slabs)
	[ -z "$err" ]
	check $? "rmmod xtcp after the echo run" "${err:+slab caches left: $err}"
else
	check 1 "rmmod xtcp after the echo run" "$err"
fi
# shellcheck disable=SC2086 # XTCP_MODPARAMS is a word list
insmod "$XTCP_KO" ${XTCP_MODPARAMS:-} && [ -d /sys/module/xtcp ]
check $? "insmod xtcp again"

tap_done
