#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# trace.sh: the recorded trace of one connection holds, in the seed's
# order, the xtcp counterpart of every seed step that
# Documentation/seed-map.rst maps to an xtcp function (issue 9).
#
# scripts/xtcp-trace --guest records the xtcp module's functions with
# function_graph while an AF_XTCP listener (xtcp-serve --rr 6:6) binds,
# listens and serves one stock nc client (handshake, 6 bytes each way,
# FIN both ways).  scripts/seedmap.py then walks the mapped seed steps in
# seed order, one TAP line each: a step is found when each function its
# row names is entered at or after the place the previous step was
# found, or is still running there (the seed lists a caller's step after
# its callees', as tcp_rcv_state_process after tcp_ack); a seed line
# without an arrow (tcp_v4_rcv) needs a new call.  So a mapped function
# that is not called, or only called before an earlier step, fails.
#
# Functions that ftrace cannot see (inlined: not in
# available_filter_functions) cannot be checked; their steps are TAP
# SKIPs, and the set of such functions must be exactly UNTRACEABLE below:
# one more (or one fewer) inlined function fails the test until the list
# says so.
# Two broken copies of the recorded trace (xtcp_check_req() removed,
# xtcp_make_synack() moved first) must fail the same check.
#
# Only in the scripts/vm guest; TAP; exit 0 pass, 1 fail, 4 skip (no
# tracefs or function_graph tracer).
set -u

DIR=$(cd "$(dirname "$(readlink -f "$0")")" && pwd)
ROOT=$DIR/..
# shellcheck source=selftests/lib.sh
. "$DIR/lib.sh"

# The functions seed-map.rst names that the compiler inlines into their
# callers on both kernels (no symbol, so not in available_filter_
# functions): static helpers with one caller and the static inline
# helpers of xtcp.h.  scripts/seedmap.py's CALLSITE_INLINED lists the
# steps whose function has a symbol but is inlined where the seed's path
# calls it.
UNTRACEABLE="xtcp_ack_update_window xtcp_bind_bucket_create
xtcp_bind_conflict xtcp_bind_hash xtcp_check_req_paws
xtcp_create_openreq_child xtcp_csk_clone_lock xtcp_csk_listen_start
xtcp_csk_reqsk_queue_hash_add xtcp_csk_route_child_sock
xtcp_data_snd_check xtcp_ecn_create_request xtcp_ecn_rcv_ecn_echo
xtcp_fast_path_on xtcp_full_space xtcp_in_window xtcp_init_buffer_space
xtcp_init_transfer xtcp_openreq_init xtcp_rcv_synrecv_ack
xtcp_reqsk_queue_alloc xtcp_reqsk_record_syn xtcp_rtt_estimator
xtcp_set_rto xtcp_update_rtt_min xtcp_v4_rcv_req xtcp_v4_rcv_sk"

require_vm
require_xtcp
require_cmd nc "$PYTHON"
[ -x "$ROOT/tools/build/xtcp-serve" ] ||
	ksft_skip "tools/build/xtcp-serve not built (make -C tools)"

OUT=$(mktemp -d /tmp/xtcp-trace.XXXXXX)
trap 'rm -rf "$OUT"' EXIT

"$ROOT/scripts/xtcp-trace" --guest --out "$OUT" >"$OUT/log" 2>&1
rc=$?
if [ "$rc" = 4 ]; then
	ksft_skip "$(grep -m1 SKIP "$OUT/log" | sed 's/.*SKIP:* *//')"
fi
sed 's/^/# /' "$OUT/render.txt" 2>/dev/null
check "$rc" "xtcp-trace: bind, listen, one connection, 6 bytes each way" \
	"$(grep -m1 'xtcp-trace:.*failed' "$OUT/log")"
grep -q 'events lost' "$OUT/log"
check $((!$?)) "no trace event lost"

# scripts/seedmap.py's verdict, renumbered.
while read -r status rest; do
	case $status in
	ok) r=0 ;;
	not) r=1; rest=${rest#ok } ;;
	*) continue ;;
	esac
	rest=${rest#* }
	name=${rest%% # *}
	note=
	[ "$name" = "$rest" ] || note=${rest#* # }
	check "$r" "$name" "$note"
done < <("$PYTHON" "$ROOT/scripts/seedmap.py" tap "$OUT")

# The functions seed-map names that the trace cannot show: exactly the
# known ones.
seen=$(cd "$ROOT/scripts" && "$PYTHON" -c '
import sys, seedmap
avail = seedmap.read_names(sys.argv[1] + "/available")
print(" ".join(sorted({f for s in seedmap.mapped_steps() for f in s.funcs
                        if f not in avail})))' "$OUT")
want=$(echo "$UNTRACEABLE" | tr -s ' \n' '\n' | sort | tr '\n' ' ' | sed 's/ $//')
[ "$seen" = "$want" ]
check $? "the mapped functions ftrace cannot see are the known inlined ones" \
	"${seen:-none}"
[ "$seen" = "$want" ] || log "# expected: $want"
tap_done
