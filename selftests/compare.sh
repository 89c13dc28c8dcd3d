#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# compare.sh: scripts/xtcp-compare can fail (issue 9).  Stock against
# stock, the same nc client (5 bytes to xtcp-serve --rr 5:5, the client
# closing first) against each, the second run with
# net.ipv4.tcp_timestamps=0: exit 1, verdict "DIFFERENT", the SYN-ACK's
# options among the differences, and the report the one its run's pcaps
# give.  That stock and xtcp come out "same" through the same pipeline
# is demo.sh's first check (curl GETs and an upload through
# selftests/httpd.py under tools/libxtcp.so, and nc exchanges closed by
# either side); make check runs that once rather than twice.
#
#   scripts/vm -- selftests/run_tests compare.sh
#
# TAP output; exit 0 pass, 1 fail, 4 skip.
set -u

DIR=$(cd "$(dirname "$0")" && pwd)
# shellcheck source=selftests/lib.sh
. "$DIR/lib.sh"

TOOL=$DIR/../scripts/xtcp-compare
REPORT=$DIR/../tools/xtcp_report.py
PORT=8500
SERVE=$DIR/../tools/build/xtcp-serve
# 5 bytes in, 5 out, close after the client's FIN: a server that starts
# at once (the Python ones take seconds under TCG)
RR="$SERVE --family {FAMILY} --addr {ADDR} --port {PORT} --reuseaddr --accept -1 --rr 5:5"

require_vm
require_xtcp
require_cmd tcpdump nc
[ -x "$SERVE" ] || ksft_skip "$SERVE not built (make -C tools)"
TMP=$(mktemp -d)
# shellcheck disable=SC2317 # runs from the EXIT trap
cleanup() {
	nics_down >/dev/null 2>&1
	rm -rf "$TMP"
}
trap cleanup EXIT

# What each report says, checked with Python against the pcaps: for
# each run directory $@ one line "NAME conns=N first_fin=in|out|-
# diff_fields=FIELD@ROW,...", or "NAME summary failed: WHY" if the
# report is missing or not what a fresh reading of its pcaps gives.
summarise() {
	"$PYTHON" - "$REPORT" "$@" <<'EOF'
import json, os, sys
sys.path.insert(0, os.path.dirname(sys.argv[1]))
import xtcp_report as xr


def summary(d):
    rep = json.load(open(os.path.join(d, "report.json")))
    na, nb = rep["names"]
    pa, pb = (int(p) for p in rep["meta"]["ports"].split(","))
    ca = xr.connections(xr.load_pcap(os.path.join(d, na + ".pcap")), pa)
    cb = xr.connections(xr.load_pcap(os.path.join(d, nb + ".pcap")), pb)
    fresh = xr.compare(ca, cb, (na, nb), rep["meta"], rep["clients"])
    if json.loads(json.dumps(fresh)) != rep:
        return "summary failed: report.json is not what the pcaps give"
    fins = set()
    for c in rep["connections"]:
        for side in ("a", "b"):
            first = next((r[side] for r in c["rows"]
                          if r[side] and "F" in r[side]["flags"]), None)
            fins.add(first["dir"] if first else "-")
    return "conns=%d first_fin=%s diff_fields=%s" % (
        len(rep["connections"]), ",".join(sorted(fins)),
        ",".join(sorted({"%s@%s" % (x["field"], x["row"])
                         for x in rep["differences"]})))


for d in sys.argv[2:]:
    try:
        line = summary(d)
    except Exception as e:
        line = "summary failed: %s" % e
    print(os.path.basename(d), line)
EOF
}

# compare NAME TOOL-ARGS...: run the tool into $TMP/NAME; its exit status
# in RC[NAME].
declare -A RC=()
compare() {
	local name=$1
	shift
	RC[$name]=0
	"$TOOL" --in-guest --port "$PORT" --out "$TMP/$name" "$@" \
		>"$TMP/$name.log" 2>&1 || RC[$name]=$?
}

# verdict NAME WANT_RC GLOB: RC[NAME] is WANT_RC and the summary line
# matches GLOB, else the run's log and summary are shown.  NOTE: the
# exit status and the verdict.
verdict() {
	local name=$1 want=$2 glob=$3 sum
	sum=$(grep "^$name " "$TMP/summary" | cut -d' ' -f2-)
	NOTE="exit ${RC[$name]}; $(grep '^verdict' "$TMP/$name.log" | cut -c1-150)"
	# shellcheck disable=SC2053 # a glob
	[ "${RC[$name]}" = "$want" ] && [[ $sum == $glob ]] && return 0
	sed 's/^/# /' "$TMP/$name.log"
	tail -n 3 "$TMP/$name"/tcpdump-*.log | sed 's/^/# /'
	echo "# summary: $sum"
	return 1
}

t0=$SECONDS
nics_up || ksft_fail "could not set up the namespaces"
compare neg --server "$RR" --sides stock,stock \
	--sysctl-b net.ipv4.tcp_timestamps=0 \
	-- sh -c 'printf hello | nc -N {ADDR} {PORT}'
summarise "$TMP/neg" >"$TMP/summary" 2>&1

verdict neg 1 "conns=1 first_fin=in *opts@2*" &&
	grep -q '^verdict: DIFFERENT' "$TMP/neg.log"
check $? "stock against stock without timestamps: a difference, exit 1" "$NOTE"
echo "# $((SECONDS - t0)) s"
tap_done
