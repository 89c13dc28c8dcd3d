#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# fuzz.sh: FUZZ_COUNT (100000) random and malformed segments (fuzz.py:
# every flag combination, sequence and ACK numbers near and far from
# the window, bad options, bad data offsets and checksums) at xtcp
# connections in ESTABLISHED, CLOSE-WAIT, FIN-WAIT-1, FIN-WAIT-2 and
# TIME-WAIT, while 2 stock clients echo random messages through another
# xtcp listener.  Issue 7: "no kernel warning, every segment counted,
# connections that were not attacked keep working".
#
#   every segment counted: at the server NIC's ingress (tc flower, GRO
#   off) every TCP segment is counted, the fuzz's by its IP TTL (77),
#   and xtcp's InSegs must have grown by exactly that many: each reached
#   xtcp's receive path and was taken as one segment, whatever became
#   of it (InErrs, InCsumErrors, InTruncated, a drop reason, a reply).
#   At least FUZZ_COUNT of the fuzz's must have arrived.
#
# Kernel warnings fail the run through the harness (scripts/vm).
#
#   scripts/vm -- selftests/run_tests fuzz.sh
#
# TAP output; exit 0 pass, 1 fail, 4 skip.
set -u

DIR=$(cd "$(dirname "$0")" && pwd)
# shellcheck source=selftests/lib.sh
. "$DIR/lib.sh"

COUNT=${FUZZ_COUNT:-100000}
FUZZ_PORT=8500
ECHO_PORT=8501
TTL=77

require_vm
require_xtcp
require_cmd tc

# shellcheck disable=SC2317 # runs from the EXIT trap
cleanup() {
	[ -n "${FUZZ_SRV:-}" ] && kill "$FUZZ_SRV" 2>/dev/null
	[ -n "${ECHO_SRV:-}" ] && kill "$ECHO_SRV" 2>/dev/null
	nics_down >/dev/null 2>&1
	rm -rf "$TMP"
}
TMP=$(mktemp -d)
trap cleanup EXIT

echo "TAP version 13"
nics_up || ksft_fail "nics_up failed"

# Not in_srv: $! must be the server itself (ip netns exec execs it).
ip netns exec "$XSRV" "$PYTHON" "$DIR/fuzz.py" server --family "$(xtcp_family)" \
	--addr "$SRV_IP" --port "$FUZZ_PORT" >"$TMP/fuzz-srv" 2>&1 &
FUZZ_SRV=$!
ip netns exec "$XSRV" "$PYTHON" "$DIR/echo.py" server --family "$(xtcp_family)" \
	--addr "$SRV_IP" --port "$ECHO_PORT" >"$TMP/echo-srv" 2>&1 &
ECHO_SRV=$!
wait_ready "$TMP/fuzz-srv" || ksft_fail "fuzz server: $(cat "$TMP/fuzz-srv")"
wait_ready "$TMP/echo-srv" || ksft_fail "echo server: $(cat "$TMP/echo-srv")"

# Every TCP segment into the server: the fuzz's (pref 10), the rest (20).
in_srv tc qdisc replace dev "$SRV_DEV" clsact || ksft_skip "no clsact qdisc"
if ! in_srv tc filter add dev "$SRV_DEV" ingress protocol ip pref 10 \
	flower ip_proto tcp ip_ttl "$TTL" action pass ||
	! in_srv tc filter add dev "$SRV_DEV" ingress protocol ip pref 20 \
		flower ip_proto tcp action pass; then
	ksft_skip "no flower classifier"
fi
segs0=$(xtcp_stat InSegs)

# The clients that are not attacked, for as long as the fuzz runs.  Not
# in_cli: $! must be echo.py itself.
ip netns exec "$XCLI" "$PYTHON" "$DIR/echo.py" client --addr "$SRV_IP" --port "$ECHO_PORT" \
	--conns 2 --secs 100000 --gap 0.5 >"$TMP/echo-cli" 2>&1 &
echo_cli=$!

t0=$SECONDS
in_cli "$PYTHON" "$DIR/fuzz.py" client --port "$FUZZ_PORT" --count "$COUNT" \
	--ttl "$TTL" >"$TMP/fuzz-cli" 2>&1
rc=$?
log "# $(grep '^fuzz ' "$TMP/fuzz-cli") after $((SECONDS - t0)) s"
[ $rc = 0 ] || sed 's/^/# /' "$TMP/fuzz-cli" | tail -n 20
check "$rc" "fuzz.py sent $COUNT segments"

# SIGTERM: each echo client finishes its message, closes, reports.
kill -TERM "$echo_cli" 2>/dev/null
wait "$echo_cli"
rc=$?
log "# $(grep '^client ' "$TMP/echo-cli")"
[ $rc = 0 ] || sed 's/^/# /' "$TMP/echo-cli" | tail -n 5
check "$rc" "2 stock clients not attacked echoed random messages intact throughout"

# Counted once nothing moves any more: the last replies, retransmissions
# of the closing connections.
prev=
for _ in $(seq 20); do
	sleep 0.5
	now="$(srv_ingress_count 10) $(srv_ingress_count 20) $(xtcp_stat InSegs)"
	[ "$now" = "$prev" ] && break
	prev=$now
done
read -r fuzz rest segs <<<"$now"
segs=$((segs - segs0))
# The NIC may drop a few in a burst (its ring is 256 buffers): those
# reached no one and are in neither count.
[ "${fuzz:-0}" -ge $((COUNT * 99 / 100)) ]
check $? "at least 99 % of the fuzz segments reached the server" \
	"$fuzz of $COUNT arrived"
[ "$segs" = $((fuzz + rest)) ]
check $? "every segment counted: InSegs +$segs, ingress $fuzz fuzz + $rest others"
log "# xtcp counters: $(for k in InErrs InCsumErrors InTruncated OutRsts \
	TCPChallengeACK PAWSEstab TCPACKSkippedSeq TCPACKSkippedPAWS \
	TCPACKSkippedChallenge TCPACKSkippedTimeWait TCPOFOQueue TCPAbortOnData; do
	printf '%s=%s ' "$k" "$(xtcp_stat "$k")"; done)"

kill -0 "$FUZZ_SRV" 2>/dev/null
check $? "the attacked server is still running" "$(tail -n 3 "$TMP/fuzz-srv")"

# The listener of the unattacked connections still takes new ones.
in_cli "$PYTHON" "$DIR/echo.py" client --addr "$SRV_IP" --port "$ECHO_PORT" \
	--conns 2 --secs 1 >"$TMP/echo-after" 2>&1
check $? "new connections echo after the fuzz" "$(grep '^client ' "$TMP/echo-after")"

tap_done
