#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# http.sh: the servers and clients of the tests that move files between
# the namespaces (transfer.sh, loss.sh).  Source it after lib.sh, with
# DIR set; then http_begin.
#
#   http_begin                          skip without tools/libxtcp.so;
#                                       TMP a new directory (servers
#                                       serve $TMP/www); on exit servers,
#                                       xcli2, namespaces and TMP go
#
#   start_servers KIND:FAM...          servers in xsrv (http|echo,
#                                       stock|xtcp), once ready
#   get FAM NAME                        curl downloads $TMP/www/NAME:
#                                       RC 0 if intact, NOTE says more
#   client CMD...                       CMD in the client namespace,
#                                       its time in SECS

# shellcheck disable=SC2034 # for the scripts that source this
PRELOAD=$DIR/../tools/libxtcp.so
declare -A HTTP_PORT=([stock]=8400 [xtcp]=8401)
# shellcheck disable=SC2034
declare -A ECHO_PORT=([stock]=8402 [xtcp]=8403)
declare -A SRV_PIDS=()
# shellcheck disable=SC2153 # XCLI is lib.sh's
CLIENT_NS=$XCLI
CLIENT_IP=

# Start servers in xsrv, each KIND:FAM (http|echo, stock|xtcp), all at
# once (a Python start-up under TCG takes seconds); wait until each says
# "ready".
start_servers() {
	local key kind fam env cmd
	for key in "$@"; do
		kind=${key%%:*} fam=${key#*:} env=()
		if [ "$kind" = http ]; then
			# Strict: its listener on AF_XTCP, or no server.
			[ "$fam" = xtcp ] && env=(LD_PRELOAD="$PRELOAD" XTCP_STRICT=1)
			cmd=("$PYTHON" "$DIR/httpd.py" --addr "$SRV_IP"
				--port "${HTTP_PORT[$fam]}" --root "$TMP/www")
		else
			cmd=("$PYTHON" "$DIR/echo.py" server --addr "$SRV_IP"
				--port "${ECHO_PORT[$fam]}"
				--family "$([ "$fam" = xtcp ] && xtcp_family || echo 2)")
		fi
		# Not in_srv: $! must be the server itself (ip netns exec
		# execs it).
		ip netns exec "$XSRV" env "${env[@]}" "${cmd[@]}" \
			>"$TMP/$kind-$fam.log" 2>&1 &
		SRV_PIDS[$kind-$fam]=$!
	done
	for key in "$@"; do
		key=${key/:/-}
		wait_ready "$TMP/$key.log" 300 ||
			ksft_fail "$key server: $(cat "$TMP/$key.log")"
	done
}

# Run a client command in the client namespace, its time in $SECS.
client() {
	local t0=$EPOCHREALTIME rc
	ip netns exec "$CLIENT_NS" "$@"
	rc=$?
	SECS=$(awk -v a="$t0" -v b="$EPOCHREALTIME" 'BEGIN { printf "%.1f", b - a }')
	return $rc
}

# curl with the client's source address (the PMTU case gives each run
# its own); $1 family, then curl's arguments.
curl_to() {
	local fam=$1
	shift
	client curl -sS --noproxy '*' --fail --max-time 200 \
		${CLIENT_IP:+--interface "$CLIENT_IP"} "$@" \
		"http://$SRV_IP:${HTTP_PORT[$fam]}/$URL"
}

# NOTE for a curl transfer into $out: its time, and on failure what
# curl said and how much arrived.
curl_note() {
	NOTE="${SECS}s"
	[ "$RC" = 0 ] || NOTE="$NOTE; got $(stat -c %s "$out" 2>/dev/null || echo 0) bytes; curl: $(head -c 200 "$TMP/curl.err")"
}

same() {
	[ "$(sha256sum <"$1" | cut -c1-64)" = "$(sha256sum <"$2" | cut -c1-64)" ]
}

# Download file $2 from family $1's HTTP server, compare.
get() {
	local fam=$1 name=$2 out=$TMP/got-$1
	rm -f "$out"
	URL=$name curl_to "$fam" -o "$out" 2>"$TMP/curl.err" &&
		same "$TMP/www/$name" "$out"
	RC=$?
	curl_note
}

http_begin() {
	[ -e "$PRELOAD" ] || ksft_skip "$PRELOAD not built (make -C tools)"
	TMP=$(mktemp -d)
	trap http_cleanup EXIT
}

# shellcheck disable=SC2317 # runs from the EXIT trap
http_cleanup() {
	http_servers_stop
	netns_del "$XCLI2"
	nics_down >/dev/null 2>&1
	rm -rf "$TMP"
}

http_servers_stop() {
	local p
	for p in "${SRV_PIDS[@]}"; do
		kill "$p" 2>/dev/null
	done
}
