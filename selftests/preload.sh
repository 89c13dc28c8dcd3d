#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# preload.sh: unmodified servers on AF_XTCP through tools/libxtcp.so
# (issue 9: "A test for each program served through libxtcp, both
# kernels").  In xsrv, under LD_PRELOAD and XTCP_STRICT=1, each serves
# stock clients in xcli, and each client's result is checked:
#
#   python3 -m http.server   curl GET of 1 MiB, SHA-256 equal
#   nginx (nginx-light)      curl GET of 1 MiB, SHA-256 equal; a config
#                            of our own in TMP, listen 198.18.0.1
#   iperf3 -s                iperf3 -c -n 4M -J: bytes received > 0,
#                            no error
#   redis-server             redis-cli SET and GET of a random value;
#                            redis-benchmark -t set,get, both rates > 0
#
# Each listener must be AF_XTCP's: no LISTEN line for its port in the
# namespace's /proc/net/tcp (xtcp's fence in stock's bind table is
# never hashed, so it shows nowhere), and the client's connections
# counted in /proc/net/xtcp_stat's PassiveOpens, none in stock's.
#
# Then libxtcp itself, with preload.py's listeners (options set before
# bind(), a second socket in each port's SO_REUSEPORT group):
#   - XTCP_PORTS=7,8420-8421: 8421 is AF_XTCP's, 8422 and a port-0
#     listener stay stock (/proc/net/tcp and both PassiveOpens agree);
#     options carried over; TCP_MD5SIG, which xtcp refuses, dropped
#     with one line on stderr;
#   - no XTCP_PORTS: a fixed port, a bind() to port 0 and a listen()
#     without bind() all AF_XTCP, getsockname() unchanged by listen();
#   - curl under the library connects out on stock TCP, also after a
#     bind() to a fixed source port put its socket on AF_XTCP first;
#   - xtcp unloaded (rmmod here, insmod $XTCP_KO again after): one line
#     on stderr and stock listeners that serve; XTCP_STRICT=1 makes
#     iperf3 -s fail instead.
#
#   scripts/vm -- selftests/run_tests preload.sh
#
# TAP output; exit 0 pass, 1 fail, 4 skip (a program missing:
# scripts/deps installs them).
set -u

DIR=$(cd "$(dirname "$0")" && pwd)
# shellcheck source=selftests/lib.sh
. "$DIR/lib.sh"
# shellcheck source=selftests/http.sh
. "$DIR/http.sh"

declare -A PORT=([http]=8410 [nginx]=8411 [iperf3]=8412 [redis]=8413)
# preload.py's: a listed and an unlisted port, one without XTCP_PORTS,
# two with xtcp unloaded; curl's fixed source port.
P_IN=8421 P_OUT=8422 P_ALL=8431 P_OFF=8441 P_STRICT=8443 P_SRC=8450

require_vm
require_xtcp
require_cmd curl sha256sum iperf3 nginx redis-server redis-cli \
	redis-benchmark insmod rmmod
[ -r "${XTCP_KO:-}" ] || ksft_skip "XTCP_KO unset: run in the guest via scripts/vm"
http_begin
trap preload_cleanup EXIT

# shellcheck disable=SC2317 # runs from the EXIT trap
preload_cleanup() {
	http_cleanup
	# Leave the module loaded for the next test.
	# shellcheck disable=SC2086 # XTCP_MODPARAMS is a word list
	[ -d /sys/module/xtcp ] || insmod "$XTCP_KO" ${XTCP_MODPARAMS:-}
}

# A process in each namespace, whose /proc/PID/net is that namespace's
# /proc/net: read there, not through ip netns exec (two processes a
# read, ~0.1 s under TCG, and the test reads ~100 times).
anchors() {
	ip netns exec "$XSRV" sleep 600 &
	SRV_NET=/proc/$!/net
	ip netns exec "$XCLI" sleep 600 &
	CLI_NET=/proc/$!/net
}

# Is anything stock listening on port $1 in xsrv?  (/proc/net/tcp: local
# address hex:PORT, st 0A.)
stock_listens() {
	# shellcheck disable=SC2016 # awk's own $
	awk -v p="$(printf '%04X' "$1")" \
		'NR > 1 && $4 == "0A" && substr($2, 10) == p { f = 1 } END { exit !f }' \
		"$SRV_NET/tcp"
}

# The Tcp counter $2 of /proc/net/snmp in $1 (a /proc/PID/net).
snmp_tcp() {
	# shellcheck disable=SC2016 # awk's own $
	awk -v k="$2" '$1 == "Tcp:" && !c { for (i = 2; i <= NF; i++) if ($i == k) c = i; next }
		$1 == "Tcp:" && c { print $c; exit }' "$1/snmp"
}

tcp_passive() {
	snmp_tcp "$SRV_NET" PassiveOpens
}

# PassiveOpens of xtcp and of stock TCP in xsrv, "X S".
passive() {
	# shellcheck disable=SC2016 # awk's own $
	awk 'FILENAME ~ /xtcp_stat$/ && FNR == 1 { for (i = 2; i <= NF; i++) if ($i == "PassiveOpens") c = i }
		FILENAME ~ /xtcp_stat$/ && FNR == 2 { x = $c }
		FILENAME ~ /snmp$/ && $1 == "Tcp:" && !d { for (i = 2; i <= NF; i++) if ($i == "PassiveOpens") d = i; next }
		FILENAME ~ /snmp$/ && $1 == "Tcp:" && d { s = $d }
		END { print x, s }' "$SRV_NET/xtcp_stat" "$SRV_NET/snmp"
}

# Counters before a client runs: mark; after: opened ("xtcp +X stock +S"
# in OPENED, the numbers in XO and SO).
mark() {
	read -r X0 S0 < <(passive)
}

opened() {
	local x s
	read -r x s < <(passive)
	XO=$((x - X0)) SO=$((s - S0))
	OPENED="PassiveOpens xtcp +$XO stock +$SO"
}

# Check that program $1's listener on port $2 was AF_XTCP's and took
# the client's connections, at least $3 of them.
on_xtcp() {
	local rc=0 none=yes
	stock_listens "$2" && rc=1 none=no
	[ "$XO" -ge "$3" ] && [ "$SO" = 0 ] || rc=1
	check $rc "$1 listened on AF_XTCP" \
		"no stock listener on $2: $none; $OPENED, want xtcp +$3 or more, stock +0"
}

# Start "$@" in xsrv under the library (XTCP_STRICT=1, and the
# XTCP_* words at the front of "$@", which may undo it); output in $TMP/$NAME.log,
# stderr in $TMP/$NAME.err, pid in SRV_PIDS[$NAME].
preloaded() {
	local name=$1 env=(LD_PRELOAD="$PRELOAD" XTCP_STRICT=1)
	shift
	while [ $# -gt 0 ] && [[ $1 == XTCP_*=* ]]; do
		env+=("$1")
		shift
	done
	ip netns exec "$XSRV" env "${env[@]}" "$@" >"$TMP/$name.log" \
		2>"$TMP/$name.err" &
	SRV_PIDS[$name]=$!
}

# Wait up to 30 s for ERE $2 in file $1; false if process $3 ended.
wait_for() {
	for _ in $(seq 300); do
		grep -Eq "$2" "$1" 2>/dev/null && return 0
		kill -0 "$3" 2>/dev/null || return 1
		sleep 0.1
	done
	return 1
}

# The four programs, at once (their start-ups overlap); each is ready
# when it says so (nginx: when it has written its pid file, after its
# listeners).  Then preload.py's, whose start-ups overlap the clients.
start_programs() {
	preloaded http "$PYTHON" -u -m http.server --bind "$SRV_IP" \
		--directory "$TMP/www" "${PORT[http]}"
	nginx_conf "$TMP" "listen $SRV_IP:${PORT[nginx]}; root $TMP/www;"
	preloaded nginx nginx -p "$TMP/nginx/" -c "$TMP/nginx.conf" \
		-e "$TMP/nginx/error.log"
	preloaded iperf3 iperf3 -s --forceflush -B "$SRV_IP" -p "${PORT[iperf3]}"
	preloaded redis redis-server --port "${PORT[redis]}" --bind "$SRV_IP" \
		--save '' --appendonly no --daemonize no --protected-mode no \
		--dir "$TMP" --logfile ''
	READY=()
	wait_for "$TMP/http.log" '^Serving HTTP' "${SRV_PIDS[http]}" && READY+=(http)
	for _ in $(seq 300); do
		[ -s "$TMP/nginx/nginx.pid" ] && break
		kill -0 "${SRV_PIDS[nginx]}" 2>/dev/null || break
		sleep 0.1
	done
	[ -s "$TMP/nginx/nginx.pid" ] && READY+=(nginx)
	wait_for "$TMP/iperf3.log" 'Server listening' "${SRV_PIDS[iperf3]}" && READY+=(iperf3)
	wait_for "$TMP/redis.log" 'Ready to accept' "${SRV_PIDS[redis]}" && READY+=(redis)
	# Not strict: preload.py sets TCP_MD5SIG, which xtcp refuses.
	preloaded ports XTCP_STRICT=0 XTCP_PORTS=7,8420-8421 "$PYTHON" -u "$DIR/preload.py" \
		"$SRV_IP" "$P_IN" "$P_OUT" 0
	preloaded all XTCP_STRICT=0 "$PYTHON" -u "$DIR/preload.py" "$SRV_IP" \
		"$P_ALL" 0 -
	# unloaded_case's, waiting for $TMP/go: its start-up overlaps the
	# clients.  Not strict: it shows the fallback.
	ip netns exec "$XSRV" env LD_PRELOAD="$PRELOAD" "$PYTHON" -u \
		"$DIR/preload.py" --go "$TMP/go" "$SRV_IP" "$P_OFF" 0 \
		>"$TMP/off.log" 2>"$TMP/off.err" &
	OFF_PID=$!
}

# Did program $1 start?  If not, a failed check with its output.
started() {
	[[ " ${READY[*]} " == *" $1 "* ]] && return 0
	check 1 "$1 starts under libxtcp" \
		"$(tail -n 3 "$TMP/$1.log" "$TMP/$1.err" "$TMP/nginx/error.log" 2>/dev/null | tr '\n' ' ' | head -c 400)"
	return 1
}

# curl $2 (a path) from port $1 on the server, into $TMP/got.
curl_get() {
	client curl -sS --noproxy '*' --fail --max-time 30 -o "$TMP/got" \
		"http://$SRV_IP:$1/${2:-}" 2>"$TMP/curl.err"
}

# A 1 MiB download from program $1, SHA-256 equal, on AF_XTCP.
http_program() {
	local rc
	started "$1" || return
	mark
	curl_get "${PORT[$1]}" 1MiB && same "$TMP/www/1MiB" "$TMP/got"
	rc=$?
	opened
	check $rc "$1: curl GET of 1 MiB, SHA-256 equal" \
		"${SECS}s $(head -c 200 "$TMP/curl.err")"
	on_xtcp "$1" "${PORT[$1]}" 1
}

iperf3_program() {
	local line rc
	started iperf3 || return
	mark
	client iperf3 -c "$SRV_IP" -p "${PORT[iperf3]}" -n 4M -J \
		>"$TMP/iperf3.json" 2>&1
	opened
	line=$("$PYTHON" - "$TMP/iperf3.json" <<-'PY'
	import json, sys
	try:
	    d = json.load(open(sys.argv[1]))
	except ValueError as e:
	    sys.exit("no JSON: %s" % e)
	if "error" in d:
	    sys.exit("error: %s" % d["error"])
	b = d["end"]["sum_received"]["bytes"]
	print("received %d bytes, %.0f Mbit/s" %
	      (b, d["end"]["sum_received"]["bits_per_second"] / 1e6))
	sys.exit(b <= 0)
	PY
	)
	rc=$?
	check $rc "iperf3: iperf3 -c -n 4M -J, bytes received > 0, no error" \
		"$line"
	# The control connection and the data stream.
	on_xtcp iperf3 "${PORT[iperf3]}" 2
}

redis_program() {
	local val got out set get rc=1
	started redis || return
	val=v$RANDOM$RANDOM
	mark
	out=$(client redis-cli -h "$SRV_IP" -p "${PORT[redis]}" SET preload "$val" 2>&1)
	got=$(client redis-cli -h "$SRV_IP" -p "${PORT[redis]}" GET preload 2>&1)
	[ "$out" = OK ] && [ "$got" = "$val" ]
	check $? "redis: redis-cli SET then GET gives the value back" \
		"SET: $out; GET: $got"
	out=$(client redis-benchmark -h "$SRV_IP" -p "${PORT[redis]}" -q \
		-n 1000 -c 4 -t set,get 2>&1 | tr '\r' '\n')
	set=$(printf '%s\n' "$out" | sed -n 's/^SET: \([0-9.]*\) requests per second.*/\1/p' | tail -n1)
	get=$(printf '%s\n' "$out" | sed -n 's/^GET: \([0-9.]*\) requests per second.*/\1/p' | tail -n1)
	opened
	awk -v s="${set:-0}" -v g="${get:-0}" 'BEGIN { exit !(s > 0 && g > 0) }' &&
		rc=0
	check $rc "redis: redis-benchmark -n 1000 -t set,get" \
		"SET ${set:-none} GET ${get:-none} requests/s$([ $rc = 0 ] || printf '; %s' "$(printf '%s' "$out" | tail -n 3 | tr '\n' ' ')")"
	# 2 redis-cli, redis-benchmark's 4 clients and its CONFIG GET.
	on_xtcp redis "${PORT[redis]}" 6
}

# preload.py's line for SPEC $2 in log $1: "PORT keepidle=..."
listener() {
	sed -n "s/^listen $2 //p" "$TMP/$1.log"
}

# curl preload.py's port $1: its body must be the port.
hello() {
	curl_get "$1" && [ "$(cat "$TMP/got")" = "$1" ]
}

ports_case() {
	local zero rc err
	wait_for "$TMP/ports.log" '^ready' "${SRV_PIDS[ports]}" && READY+=(ports)
	started ports || return
	zero=$(listener ports 0)
	zero=${zero%% *}
	# XTCP_PORTS' port: AF_XTCP's, options and group intact.
	mark
	hello "$P_IN"
	rc=$?
	opened
	[ "$(listener ports "$P_IN")" = "$P_IN keepidle=77 keepalive=1 reuseport=1 group=2" ] || rc=1
	stock_listens "$P_IN" && rc=1
	[ "$XO" = 1 ] && [ "$SO" = 0 ] || rc=1
	check $rc "XTCP_PORTS=7,8420-8421: port $P_IN is AF_XTCP's, its options and SO_REUSEPORT group carried over" \
		"$OPENED; $(listener ports "$P_IN")"
	# The others: stock TCP's.
	mark
	hello "$P_OUT" && hello "$zero"
	rc=$?
	opened
	stock_listens "$P_OUT" && stock_listens "$zero" || rc=1
	[ "$XO" = 0 ] && [ "$SO" = 2 ] || rc=1
	check $rc "XTCP_PORTS=7,8420-8421: port $P_OUT and port 0 ($zero) stay stock" \
		"$OPENED, want xtcp +0 stock +2; stock listeners: $(stock_listens "$P_OUT" && echo "$P_OUT") $(stock_listens "$zero" && echo "$zero")"
	# TCP_MD5SIG: stock took it, xtcp refuses it; told once.
	err=$(cat "$TMP/ports.err")
	[ "$(printf '%s\n' "$err" | grep -c .)" = 1 ] &&
		[[ $err == *"setsockopt(TCP_MD5SIG) dropped: AF_XTCP refuses it"* ]]
	check $? "an option xtcp refuses (TCP_MD5SIG) is dropped, said once on stderr" \
		"stderr: $(printf '%s' "$err" | head -c 300 | tr '\n' '|')"
}

all_case() {
	local zero none rc p
	wait_for "$TMP/all.log" '^ready' "${SRV_PIDS[all]}" && READY+=(all)
	started all || return
	zero=$(listener all 0) none=$(listener all -)
	zero=${zero%% *} none=${none%% *}
	mark
	hello "$P_ALL" && hello "$zero" && hello "$none"
	rc=$?
	opened
	for p in "$P_ALL" "$zero" "$none"; do
		stock_listens "$p" && rc=1
	done
	[ "$XO" = 3 ] && [ "$SO" = 0 ] || rc=1
	check $rc "no XTCP_PORTS: port $P_ALL, bind() to port 0 ($zero) and listen() without bind() ($none) all AF_XTCP's" \
		"$OPENED, want xtcp +3 stock +0"
}

# Stock TCP's ActiveOpens in xcli.
cli_active() {
	snmp_tcp "$CLI_NET" ActiveOpens
}

# curl under the library, from xcli: plain, and with a bind() to a
# fixed source port first (which puts it on AF_XTCP until connect()
# gives it back to stock).  xcli's stock ActiveOpens count both.
outgoing_case() {
	local a0 a rc err
	a0=$(cli_active)
	ip netns exec "$XCLI" env LD_PRELOAD="$PRELOAD" XTCP_VERBOSE=1 \
		curl -sS --max-time 30 "http://$SRV_IP:$P_IN/" >"$TMP/got" 2>"$TMP/out.err" &&
		[ "$(cat "$TMP/got")" = "$P_IN" ] &&
		ip netns exec "$XCLI" env LD_PRELOAD="$PRELOAD" XTCP_VERBOSE=1 \
			curl -sS --max-time 30 --local-port "$P_SRC" \
			"http://$SRV_IP:$P_IN/" >"$TMP/got" 2>>"$TMP/out.err" &&
		[ "$(cat "$TMP/got")" = "$P_IN" ]
	rc=$?
	a=$(($(cli_active) - a0))
	err=$(cat "$TMP/out.err")
	[ "$a" = 2 ] || rc=1
	[[ $err == *":$P_SRC: AF_XTCP"*":$P_SRC: connects out: stock TCP"* ]] ||
		rc=1
	check $rc "connect() under libxtcp is stock TCP's, after a bind() to a fixed port too" \
		"ActiveOpens in xcli +$a, want +2; stderr: $(printf '%s' "$err" | tr '\n' '|' | head -c 300)"
}

# rmmod xtcp: the library says so once and serves on stock TCP; with
# XTCP_STRICT=1 the program fails.  insmod again.
unloaded_case() {
	local why rc err p s0
	http_servers_stop
	for p in "${SRV_PIDS[@]}"; do
		wait "$p" 2>/dev/null
	done
	SRV_PIDS=([off]=$OFF_PID)
	if ! why=$(xtcp_unload); then
		check 1 "rmmod xtcp for the fallback case" "$why"
		return
	fi
	: >"$TMP/go"
	# iperf3 starts faster than Python; -1: one try, then exit.
	preloaded strict iperf3 -s -1 -B "$SRV_IP" -p "$P_STRICT"
	rc=0
	wait_for "$TMP/off.log" '^ready' "${SRV_PIDS[off]}" || rc=1
	s0=$(tcp_passive)
	[ $rc = 0 ] && hello "$P_OFF" || rc=1
	stock_listens "$P_OFF" || rc=1
	err=$(cat "$TMP/off.err")
	[ "$(printf '%s\n' "$err" | grep -c .)" = 1 ] &&
		[[ $err == "libxtcp: xtcp is not loaded"*"stay on stock TCP" ]] || rc=1
	check $rc "xtcp not loaded: one line on stderr, the listeners serve on stock TCP" \
		"stock PassiveOpens +$(($(tcp_passive) - s0)); stderr: $(printf '%s' "$err" | tr '\n' '|' | head -c 200)"
	wait "${SRV_PIDS[strict]}"
	rc=$?
	unset 'SRV_PIDS[strict]'
	err=$(cat "$TMP/strict.err" "$TMP/strict.log")
	[ $rc != 0 ] && [[ $err == *"xtcp is not loaded"*"XTCP_STRICT=1"*"Address family not supported"* ]] &&
		! stock_listens "$P_STRICT"
	check $? "xtcp not loaded, XTCP_STRICT=1: iperf3's bind() fails, nothing listens" \
		"exit $rc; output: $(printf '%s' "$err" | tr '\n' '|' | head -c 300)"
	http_servers_stop
	# shellcheck disable=SC2086 # XTCP_MODPARAMS is a word list
	err=$(insmod "$XTCP_KO" ${XTCP_MODPARAMS:-} 2>&1)
	check $? "insmod xtcp again" "$err"
}

since() {
	awk -v a="$1" -v b="$EPOCHREALTIME" 'BEGIN { printf "%.1f", b - a }'
}

echo "TAP version 13"
T0=$EPOCHREALTIME
nics_up || ksft_fail "nics_up failed"
nic_offloads on
anchors
mkdir -p "$TMP/www"
head -c $((1 << 20)) /dev/urandom >"$TMP/www/1MiB"
start_programs
log "# programs ready after $(since "$T0") s"
T1=$EPOCHREALTIME

http_program http
http_program nginx
iperf3_program
redis_program
log "# programs' clients $(since "$T1") s"
T1=$EPOCHREALTIME
ports_case
all_case
outgoing_case
log "# preload.py's cases $(since "$T1") s"
T1=$EPOCHREALTIME
unloaded_case
log "# unloaded case $(since "$T1") s, all $(since "$T0") s"
tap_done
