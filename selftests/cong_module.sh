#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# cong_module.sh: an algorithm module built out of tree, installed,
# loaded on demand and pinned by its connections, as stock's tcp_<name>
# modules are.  Issue 8's worked example: "the example congestion module
# builds out of tree against the installed headers, loads in the guest,
# is selected by TCP_CONGESTION, and unloading it is refused while a
# connection uses it".
#
# The example, samples/cong/xtcp_scalable.ko, is built on the host by
# make samples-<release> (make check does it before the guests boot),
# against an install staged in build/<release>/stage.  Here:
#   - xtcp.ko (the loaded one), xtcp_dctcp.ko and xtcp_scalable.ko go
#     into the guest's /lib/modules/<release>/updates/xtcp/, indexed as
#     depmod -a would: the stage's index, computed on the host, is
#     bind-mounted over the guest's when its stock part is the guest's
#     (depmod -a takes 45 s under TCG);
#   - each step is done on stock TCP (tcp_scalable.ko, tcp_dctcp.ko) and
#     on xtcp in the same run, and the answers must be equal, stock's
#     also what tcp_cong.c says:
#       TCP_CONGESTION "scalable" without CAP_NET_ADMIN, module not
#       loaded: ENOENT, nothing loaded; as root: loads tcp_scalable /
#       xtcp_scalable, reads back "scalable"; without CAP_NET_ADMIN
#       again: EPERM (a restricted algorithm);
#       a listener that chose it accepts a stock client from xcli and
#       closes; the connection runs "scalable", 384 KiB go each way
#       intact; rmmod of the module fails while it is open and the
#       module stays; once the client and then the server closed,
#       rmmod succeeds;
#       net.*.congestion_control "scalable" in the initial namespace
#       loads it again, and it unloads once the default is back;
#       TCP_CONGESTION "dctcp" loads tcp_dctcp / xtcp_dctcp;
#   - everything is unloaded, the files removed and the index restored,
#     so that the harness can unload xtcp.
# One step is xtcp's alone: net.xtcp.congestion_control "scalable" in
# a namespace is EPERM (a restricted algorithm) and keeps no reference
# on the module it loaded, as 6.12's tcp_cong.c; 6.1's stock keeps one
# (it takes it before the EPERM check), so stock cannot be run there.
#
#   scripts/vm -- selftests/run_tests cong_module.sh
#
# TAP output; exit 0 pass, 1 fail, 4 skip.
set -u

DIR=$(cd "$(dirname "$0")" && pwd)
# shellcheck source=selftests/lib.sh
. "$DIR/lib.sh"

REL=$(uname -r)
MODS=/lib/modules/$REL
DEST=$MODS/updates/xtcp
STAGE=${XTCP_ROOT:-$DIR/..}/build/$REL/stage/lib/modules/$REL
HELPER=$DIR/cong_module.py
BYTES=$((384 * 1024))
PORT=8400
# Without CAP_NET_ADMIN, as root otherwise.
UNPRIV=(setpriv --inh-caps=-net_admin --bounding-set=-net_admin)
ALGO_MODS="tcp_scalable xtcp_scalable tcp_dctcp xtcp_dctcp"

require_vm
require_xtcp
require_cmd setpriv modinfo rmmod depmod "$PYTHON"
[ "$(id -u)" = 0 ] || ksft_skip "needs root"
[ -r "$STAGE/updates/xtcp/xtcp_scalable.ko" ] ||
	ksft_skip "no staged example in $STAGE: run make samples-$REL" \
		"(make check builds it)"
[ -e "$MODS/kernel/net/ipv4/tcp_scalable.ko" ] ||
	[ -e "$MODS/kernel/net/ipv4/tcp_scalable.ko.xz" ] ||
	ksft_skip "the kernel has no tcp_scalable module to compare with"
XFAM=$(xtcp_family)

STOCK_CC=/proc/sys/net/ipv4/tcp_congestion_control
XTCP_CC=/proc/sys/net/xtcp/congestion_control

TMP=$(mktemp -d)
COPIED=()
MADE_DIRS=()
MOUNTED=()
declare -A SYSCTL_SAVED=()

loaded() {
	[ -d "/sys/module/$1" ]
}

# rmmod $1 if loaded, retried for 4 s (a closing socket may still hold
# it); prints rmmod's error on failure.
unload() {
	local err=
	for _ in $(seq 40); do
		loaded "$1" || return 0
		err=$(rmmod "$1" 2>&1) && return 0
		sleep 0.1
	done
	echo "$err"
	return 1
}

# shellcheck disable=SC2317 # runs from the EXIT trap
cleanup() {
	local m f d
	jobs -p | xargs -r kill 2>/dev/null
	wait 2>/dev/null
	nics_down >/dev/null 2>&1	# and whatever still runs there
	for f in "${!SYSCTL_SAVED[@]}"; do
		echo "${SYSCTL_SAVED[$f]}" >"$f"
	done
	for m in $ALGO_MODS; do
		unload "$m" >/dev/null
	done
	for f in "${MOUNTED[@]}"; do
		umount "$f"
	done
	[ -d "$TMP/index" ] && cp -p "$TMP"/index/modules.* "$MODS/"
	for f in "${COPIED[@]}"; do
		rm -f "$f"
	done
	for d in "${MADE_DIRS[@]}"; do
		rmdir "$d"
	done
	rm -rf "$TMP"
}
trap cleanup EXIT

# same NAME STOCK XTCP [WANT]: one TAP line; the two stacks' answers
# must be equal, and stock's WANT (what the kernel source says) if
# given: otherwise the scenario is wrong, whatever xtcp did.
same() {
	local name=$1 a=$2 b=$3 want=${4:-}
	if [ -n "$want" ] && [ "$a" != "$want" ]; then
		check 1 "$name" "stock: $a, want $want: the scenario is wrong"
		return
	fi
	[ "$a" = "$b" ]
	check $? "$name" "stock: $a; xtcp: $b"
}

# The stock part of the staged index is the guest's own, and the staged
# xtcp.ko the loaded one: then it is what depmod -a would write here.
staged_index_fits() {
	cmp -s "$XTCP_KO" "$STAGE/updates/xtcp/xtcp.ko" &&
		grep -v '^updates/xtcp/' "$STAGE/modules.dep" |
		cmp -s - "$MODS/modules.dep"
}

# What make install and the example's installation do on a machine:
# the modules into updates/xtcp/, then depmod.  The stage's index is
# bind-mounted over the guest's index files (cleanup unmounts it); else
# those are saved, depmod -a rewrites them and cleanup restores them.
# Not in a subshell (cleanup needs the arrays): says how in HOW.
install_modules() {
	local d f t0
	for d in "$MODS/updates" "$DEST"; do
		[ -d "$d" ] && continue
		mkdir "$d" || return 1
		MADE_DIRS=("$d" "${MADE_DIRS[@]}")
	done
	for f in xtcp.ko xtcp_dctcp.ko xtcp_scalable.ko; do
		COPIED+=("$DEST/$f")
	done
	cp "$XTCP_KO" "$DEST/xtcp.ko" &&
		cp "$STAGE/updates/xtcp/xtcp_dctcp.ko" \
			"$STAGE/updates/xtcp/xtcp_scalable.ko" "$DEST/" || return 1
	if staged_index_fits; then
		for f in "$STAGE"/modules.*; do
			[ -L "$f" ] && continue	# depmod's inputs
			mount --bind "$f" "$MODS/${f##*/}" || return 1
			MOUNTED+=("$MODS/${f##*/}")
		done
		HOW="the stage's index, from depmod -b on the host"
	else
		mkdir -p "$TMP/index"
		cp -p "$MODS"/modules.* "$TMP/index/" || return 1
		t0=$SECONDS
		depmod -a || return 1
		HOW="depmod -a here: $((SECONDS - t0)) s"
	fi
}

# TCP_CONGESTION $1 on a new socket of each stack in xsrv, stock's
# first, as root or, with $2 = unpriv, without CAP_NET_ADMIN: A and B
# are stock's and xtcp's answer, "ok <name read back>" or the errno.
choose() {
	local pre=() r
	[ "${2:-}" = unpriv ] && pre=("${UNPRIV[@]}")
	mapfile -t r < <(in_srv "${pre[@]}" "$PYTHON" "$HELPER" set "$1" 2 "$XFAM")
	A=${r[0]:-none}
	B=${r[1]:-none}
}

# Wait up to $3 s for a line matching $2 in file $1.
wait_line() {
	for _ in $(seq $(($3 * 10))); do
		grep -q "$2" "$1" && return 0
		sleep 0.1
	done
	return 1
}

# A connection of stack $1 (family) whose listener chose "scalable",
# module $2: a summary line that is the same for both stacks when they
# behave alike.
connection() {
	local fam=$1 mod=$2 port=$3 srv=$TMP/srv-$1 cli=$TMP/cli-$1 rel=$TMP/release-$1
	local spid cpid child up down refused=no stayed=no closed unloaded=no
	in_srv "$PYTHON" "$HELPER" serve "$fam" scalable "$port" "$BYTES" \
		>"$srv" 2>&1 &
	spid=$!
	wait_ready "$srv" || { echo "server not ready: $(cat "$srv")"; return; }
	in_cli "$PYTHON" "$HELPER" client "$port" "$BYTES" "$rel" >"$cli" 2>&1 &
	cpid=$!
	if ! wait_line "$srv" '^held' 30 || ! wait_line "$cli" '^\(ok\|corrupt\)' 30; then
		echo "stuck: server: $(cat "$srv"); client: $(cat "$cli")"
		return
	fi
	child=$(sed -n 's/^child //p' "$srv")
	up=$(sed -n 's/^received //p' "$srv")
	down=$(grep -m 1 '^\(ok\|corrupt\)' "$cli")
	# The listener is closed: the connection alone holds the module.
	rmmod "$mod" >"$TMP/rmmod-$fam" 2>&1 || refused="yes ($(cat "$TMP/rmmod-$fam"))"
	refused=${refused/$mod/MOD}
	loaded "$mod" && stayed="yes, refcnt $(cat "/sys/module/$mod/refcnt")"
	touch "$rel"
	wait "$cpid" "$spid"
	closed=$(sed -n 's/^closed //p' "$srv")
	unload "$mod" >"$TMP/unload-$fam" && unloaded=yes
	echo "child $child; up $up; down $down; rmmod refused: $refused;" \
		"module stayed: $stayed; server closed: $closed;" \
		"rmmod after close: $unloaded"
}

# net.*.congestion_control := $1 in the initial namespace (cleanup
# restores them), stock's first: A and B as choose's.
set_defaults() {
	local r
	mapfile -t r < <("$PYTHON" "$HELPER" sysctl "$1" "$STOCK_CC" "$XTCP_CC")
	A=${r[0]:-none}
	B=${r[1]:-none}
}

echo "TAP version 13"
for m in $ALGO_MODS; do
	unload "$m" >/dev/null ||
		ksft_fail "$m is loaded and cannot be unloaded: the test needs it gone"
done
XTCP_REFS=$(cat /sys/module/xtcp/refcnt)
for f in "$STOCK_CC" "$XTCP_CC"; do
	SYSCTL_SAVED[$f]=$(cat "$f")
done
nics_up || ksft_fail "nics_up"

HOW=
install_modules
check $? "install: updates/xtcp/ and depmod's index" "$HOW"
[ "$(modinfo -F filename xtcp_scalable 2>&1)" = "$DEST/xtcp_scalable.ko" ]
check $? "modinfo xtcp_scalable finds the installed module" \
	"$(modinfo -F filename xtcp_scalable 2>&1)"

choose scalable unpriv
same "TCP_CONGESTION scalable without CAP_NET_ADMIN, not loaded" "$A" "$B" ENOENT
! loaded tcp_scalable && ! loaded xtcp_scalable
check $? "no module loaded without CAP_NET_ADMIN"

choose scalable
loaded tcp_scalable && A+=", loaded"
loaded xtcp_scalable && B+=", loaded"
same "TCP_CONGESTION scalable as root loads the module" "$A" "$B" \
	"ok scalable, loaded"

choose scalable unpriv
same "TCP_CONGESTION scalable without CAP_NET_ADMIN, loaded (restricted)" \
	"$A" "$B" EPERM

A=$(connection 2 tcp_scalable "$PORT")
B=$(connection "$XFAM" xtcp_scalable $((PORT + 1)))
same "a connection runs scalable, pins its module until closed" "$A" "$B" \
	"child scalable; up intact; down ok; rmmod refused: yes (rmmod: ERROR: Module MOD is in use); module stayed: yes, refcnt 1; server closed: eof; rmmod after close: yes"

set_defaults scalable
loaded tcp_scalable && A+=", loaded"
loaded xtcp_scalable && B+=", loaded"
same "congestion_control scalable loads the module" "$A" "$B" \
	"ok scalable, loaded"
for f in "${!SYSCTL_SAVED[@]}"; do
	echo "${SYSCTL_SAVED[$f]}" >"$f"
done
A=$(unload tcp_scalable && echo unloaded)
B=$(unload xtcp_scalable && echo unloaded)
same "unloaded once no longer the default" "$A" "$B" unloaded

# Stock is no reference here: 6.1's tcp_set_default_congestion_control()
# takes the module before its EPERM check and keeps it (6.12 checks
# first), so tcp_scalable could not be unloaded any more.  6.12's source
# is: EPERM, loaded, and no reference kept.
B=$(in_srv "$PYTHON" "$HELPER" sysctl scalable "$XTCP_CC")
loaded xtcp_scalable && B+=", loaded"
B+=", $(unload xtcp_scalable && echo unloaded)"
[ "$B" = "EPERM, loaded, unloaded" ]
check $? "congestion_control scalable in a namespace: restricted, no reference kept" \
	"xtcp: $B"

choose dctcp
loaded tcp_dctcp && A+=", loaded"
loaded xtcp_dctcp && B+=", loaded"
same "TCP_CONGESTION dctcp as root loads the module" "$A" "$B" "ok dctcp, loaded"
A=$(unload tcp_dctcp && echo unloaded)
B=$(unload xtcp_dctcp && echo unloaded)
same "dctcp's module unloads" "$A" "$B" unloaded

[ "$(cat /sys/module/xtcp/refcnt)" = "$XTCP_REFS" ]
check $? "xtcp's reference count back to $XTCP_REFS" \
	"$(cat /sys/module/xtcp/refcnt)"
tap_done
