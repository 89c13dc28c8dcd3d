#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# reload.sh: load, exercise, unload and reload xtcp 6 times with
# sockets open in between.  Each cycle:
#
#   1. insmod $XTCP_KO if it is not loaded (with $XTCP_MODPARAMS, as the
#      harness did) and check socket(AF_XTCP) works;
#   2. build/xtcp_hold opens three xtcp listeners, a bound and an unbound
#      xtcp socket (odd cycles in the initial netns, even ones in a fresh
#      netns, so that the per-netns init/exit paths run with sockets too);
#   3. rmmod xtcp must fail while they are open, and leave the module
#      loaded and working;
#   4. the holder closes everything and exits; rmmod must then succeed
#      (retried for a few seconds: socket freeing may wait for RCU);
#   5. no xtcp slab cache may survive, and socket(AF_XTCP) must fail
#      with EAFNOSUPPORT again;
#   6. insmod again.
#
# Then RELOAD_CONN_CYCLES (2) more cycles where the holder also keeps an
# accepted xtcp connection from a stock client open: they need xtcp's
# passive open, so they are reported apart from the plain ones
# (RELOAD_CYCLES, 4).  The xtcp side closes that connection first, so
# an xtcp timewait sock is left: in the initial netns rmmod must kill
# it at once (it holds no module reference), in a fresh netns the
# namespace's exit does.
#
# Only in the scripts/vm guest (it unloads the module under test), which
# loads the module and exports XTCP_KO; ends with the module loaded.
# TAP output, one line per cycle; exit 0 pass, 1 fail, 4 skip.

set -u

DIR=$(cd "$(dirname "$(readlink -f "$0")")" && pwd)
# 4 plain cycles (2 per netns kind) and 2 with a connection (one per
# kind): stress.sh ends with an rmmod after minutes of load, which covers
# what more identical cycles here would.
CYCLES=${RELOAD_CYCLES:-4}
CONN_CYCLES=${RELOAD_CONN_CYCLES:-2}
HOLD=$DIR/build/xtcp_hold
MOD=xtcp

skip() {
	echo "1..0 # SKIP $*"
	exit 4
}

bail() {
	echo "Bail out! $*"
	exit 1
}

# Never on the host: this insmods and rmmods.
[ -n "${XTCP_KO:-}" ] || skip "XTCP_KO unset: run in the guest via scripts/vm"
[ "$(uname -r)" = "${XTCP_KVER:-none}" ] ||
	skip "not in the xtcp test VM (XTCP_KVER=${XTCP_KVER:-} uname -r=$(uname -r))"
[ "$(id -u)" = 0 ] || skip "needs root"
[ -r "$XTCP_KO" ] || skip "$XTCP_KO not readable"
if [ ! -x "$HOLD" ]; then
	make -s -C "$DIR" "$HOLD" >/dev/null 2>&1 || true
	[ -x "$HOLD" ] || bail "$HOLD missing: run make -C selftests first"
fi

TMP=$(mktemp -d)
HOLDER=
trap 'cleanup' EXIT

# Reload the very module the harness loaded, not whatever a concurrent
# rebuild leaves at $XTCP_KO meanwhile.
cp "$XTCP_KO" "$TMP/xtcp.ko" || bail "cannot copy $XTCP_KO"
KO=$TMP/xtcp.ko
if [ -r /sys/module/$MOD/srcversion ]; then
	[ "$(cat /sys/module/$MOD/srcversion)" = "$(modinfo -F srcversion "$KO" 2>/dev/null)" ] ||
		bail "$XTCP_KO is not the loaded module any more (rebuilt meanwhile?)"
fi

cleanup() {
	if [ -n "$HOLDER" ]; then
		kill "$HOLDER" 2>/dev/null
		wait "$HOLDER" 2>/dev/null
	fi
	rm -rf "$TMP"
}

loaded() {
	[ -d /sys/module/$MOD ]
}

load() {
	local err
	loaded && return 0
	# shellcheck disable=SC2086 # XTCP_MODPARAMS is a word list
	err=$(insmod "$KO" ${XTCP_MODPARAMS:-} 2>&1) || {
		echo "insmod: $err"
		return 1
	}
}

# The family number of the module that is (or was last) loaded.
FAMILY=$(cat /sys/module/$MOD/parameters/family 2>/dev/null || echo 25)

# Exit status of xtcp_hold -p: 0 socket() works, 2 EAFNOSUPPORT, 1 other.
probe() {
	"$HOLD" -f "$FAMILY" -p
}

# Start the holder in the background (in a fresh netns if $1 = netns;
# holding an accepted connection too if $2 = conn) and wait for its
# "ready" line.
hold_start() {
	local args=(-f "$FAMILY" -n 3)
	[ "$2" = conn ] && args+=(-c -w)
	: >"$TMP/ready"
	if [ "$1" = netns ]; then
		# shellcheck disable=SC2016 # expanded by that sh
		unshare -n sh -c 'ip link set lo up && exec "$0" "$@"' \
			"$HOLD" "${args[@]}" >"$TMP/ready" 2>"$TMP/err" &
	else
		"$HOLD" "${args[@]}" >"$TMP/ready" 2>"$TMP/err" &
	fi
	HOLDER=$!
	for _ in $(seq 100); do
		grep -q '^ready' "$TMP/ready" && return 0
		kill -0 "$HOLDER" 2>/dev/null || break
		sleep 0.1
	done
	echo "xtcp_hold did not get ready: $(cat "$TMP/err")"
	hold_stop >/dev/null
	return 1
}

hold_stop() {
	local rc
	kill -TERM "$HOLDER" 2>/dev/null
	wait "$HOLDER"
	rc=$?
	HOLDER=
	[ "$rc" = 0 ] || echo "xtcp_hold exited $rc: $(cat "$TMP/err")"
	return "$rc"
}

unload() {
	local err
	for _ in $(seq 20); do
		err=$(rmmod $MOD 2>&1) && return 0
		sleep 0.25
	done
	echo "rmmod after the sockets closed: $err (refcnt $(cat /sys/module/$MOD/refcnt 2>/dev/null))"
	return 1
}

# Slab caches named after the module: /sys/kernel/slab lists merged
# aliases too, /proc/slabinfo only the caches that were not merged.
leftover_slabs() {
	local c
	{
		grep -i xtcp /proc/slabinfo 2>/dev/null | awk '{print $1}'
		for c in /sys/kernel/slab/*; do
			case ${c##*/} in *[xX][tT][cC][pP]*) echo "${c##*/}" ;; esac
		done
	} | sort -u | tr '\n' ' '
}

# One cycle ($2: plain or conn); prints the reason and returns 1 on the
# first failure.
cycle() {
	local n=$1 what=$2 where=init refcnt slabs rc tw=
	[ $((n % 2)) = 0 ] && where=fresh

	load || return 1
	probe || { echo "socket(AF_XTCP) fails after insmod (probe $?)"; return 1; }

	hold_start "${where/fresh/netns}" "$what" || return 1
	refcnt=$(cat /sys/module/$MOD/refcnt 2>/dev/null)
	if rmmod $MOD 2>/dev/null; then
		hold_stop >/dev/null
		echo "rmmod succeeded with xtcp sockets open (refcnt was $refcnt)"
		return 1
	fi
	loaded || { hold_stop >/dev/null; echo "module gone after the failed rmmod"; return 1; }
	probe || { hold_stop >/dev/null; echo "socket(AF_XTCP) fails after the refused rmmod"; return 1; }
	hold_stop || return 1
	if [ "$what" = conn ] && [ "$where" = init ]; then
		tw=$(awk '{ print $7 }' /proc/net/xtcp_sockstat 2>/dev/null)
		[ "${tw:-0}" -ge 1 ] ||
			{ echo "no xtcp timewait sock left to purge (tw ${tw:-none})"; return 1; }
	fi

	unload || return 1
	# SLAB_TYPESAFE_BY_RCU caches leave after a grace period.
	for _ in $(seq 50); do
		slabs=$(leftover_slabs)
		[ -z "$slabs" ] && break
		sleep 0.1
	done
	[ -z "$slabs" ] || { echo "slab caches left after rmmod: $slabs"; return 1; }
	probe
	rc=$?
	[ "$rc" = 2 ] || { echo "socket(AF_XTCP) after rmmod: probe $rc, want 2 (EAFNOSUPPORT)"; return 1; }

	load || return 1
	probe || { echo "socket(AF_XTCP) fails after re-insmod (probe $?)"; return 1; }
	echo "$where netns, refcnt with sockets open $refcnt${tw:+, $tw in TIME-WAIT at rmmod}"
}

echo "TAP version 13"
echo "1..$((CYCLES + CONN_CYCLES))"
fails=0
t=0
for what in plain conn; do
	count=$CYCLES
	[ "$what" = conn ] && count=$CONN_CYCLES
	for n in $(seq "$count"); do
		t=$((t + 1))
		name="reload cycle $n"
		[ "$what" = conn ] && name="reload with a connection, cycle $n"
		msg=$(cycle "$n" "$what" 2>&1)
		rc=$?
		if [ "$rc" = 0 ]; then
			echo "ok $t $name # $msg"
		else
			echo "not ok $t $name # $msg"
			fails=$((fails + 1))
		fi
		# Every cycle starts, and the test ends, with the module loaded.
		loaded || load >/dev/null || bail "cannot insmod $KO again"
	done
done

echo "# $((t - fails)) passed, $fails failed"
[ "$fails" = 0 ]
