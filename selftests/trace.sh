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
# without an arrow (tcp_v4_rcv) needs a new call, and the steps after it
# up to the next such line are looked for inside that call.  So a mapped
# function that is not called, or only called before an earlier step,
# fails.
#
# Every function seed-map.rst names is XTCP_SEED (noinline, mod/xtcp.h),
# so every mapped step is checked.  A mapped function that ftrace cannot
# see (not in available_filter_functions: inlined after all) fails its
# step and the last check, unless scripts/seedmap.py's UNTRACEABLE (no
# symbol) or CALLSITE_INLINED (inlined where the seed's path calls it)
# names it; the step is then a TAP SKIP.  Both lists are empty.
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
grep -m1 '^xtcp-trace: times' "$OUT/log" | sed 's/^/# /'
check "$rc" "xtcp-trace: bind, listen, one connection, 6 bytes each way" \
	"$(grep -m1 'xtcp-trace:.*failed' "$OUT/log")"
grep -q 'events lost' "$OUT/log"
check $((!$?)) "no trace event lost"

# scripts/seedmap.py's verdict (xtcp-trace wrote it), renumbered.
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
done <"$OUT/tap.txt"
[ -s "$OUT/tap.txt" ]
check $? "seedmap.py's verdict written"
tap_done
