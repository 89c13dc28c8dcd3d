#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# cong_sysctl.sh: xtcp's congestion-control registry knobs answer as
# stock's.  Issue 8: "net.xtcp.congestion_control,
# net.xtcp.available_congestion_control, net.xtcp.allowed_congestion_control
# with stock's permission rules, getsockopt(TCP_CONGESTION)".
#
# Each step is done to stock's knob and to xtcp's twin in the same run,
# and the answers (the value read back, the errno of a write, what an
# unprivileged TCP_CONGESTION gets) must be equal.  congestion_control
# is per namespace: it is used in a namespace of its own; the two lists
# are one for all namespaces, as stock's:
#   - the defaults: congestion_control "cubic", available and allowed
#     "reno cubic" (the registries hold the same two algorithms);
#   - congestion_control set to reno, to a name nobody has (ENOENT), to
#     an empty string;
#   - a new socket's TCP_CONGESTION is the namespace's default;
#   - the allowed list is read-only outside the initial namespace
#     (EACCES); set there to "reno": an unprivileged user may choose
#     reno, not cubic (EPERM); "cubic nosuch" is refused whole (ENOENT);
#     the namespace may no longer default to cubic (EPERM), the initial
#     one may, which allows it again.
# The allowed lists and the initial namespace's default are restored.
#
#   scripts/vm -- selftests/run_tests cong_sysctl.sh
#
# TAP output; exit 0 pass, 1 fail, 4 skip.
# shellcheck disable=SC2317 # the steps are called through same()
set -u

DIR=$(cd "$(dirname "$0")" && pwd)
# shellcheck source=selftests/lib.sh
. "$DIR/lib.sh"

NS=xcong
require_vm
require_xtcp

declare -A SAVED=()
# shellcheck disable=SC2317 # runs from the EXIT trap
cleanup() {
	local f
	for f in "${!SAVED[@]}"; do
		printf '%s\n' "${SAVED[$f]}" >"$f" 2>/dev/null
	done
	ip netns del "$NS" 2>/dev/null
}
trap cleanup EXIT

# The knob's file for stack $1 (stock|xtcp), name $2 (xtcp's spelling).
knob() {
	if [ "$1" = stock ]; then
		echo "/proc/sys/net/ipv4/tcp_$2"
	else
		echo "/proc/sys/net/xtcp/$2"
	fi
}

# In the test's namespace, unless $INIT is set.
where() {
	[ -z "${INIT:-}" ] && echo "ip netns exec $NS"
}

# Read $2 of stack $1.
get() {
	$(where) cat "$(knob "$1" "$2")"
}

# Write $3 to $2 of stack $1: "ok" or the errno name.
put() {
	$(where) "$PYTHON" - "$(knob "$1" "$2")" "$3" <<'EOF'
import errno, sys
try:
    with open(sys.argv[1], "w") as f:
        f.write(sys.argv[2] + "\n")
    print("ok")
except OSError as e:
    print(errno.errorcode[e.errno])
EOF
}

# As user nobody, in the namespace: a new socket of stack $1, then
# TCP_CONGESTION set to $2: "<name before> <ok|errno>".
choose() {
	local fam=2
	[ "$1" = xtcp ] && fam=$(xtcp_family)
	ip netns exec "$NS" "$PYTHON" - "$fam" "$2" <<'EOF'
import errno, os, socket, sys
os.setgid(65534)
os.setuid(65534)
s = socket.socket(int(sys.argv[1]), socket.SOCK_STREAM)
name = s.getsockopt(socket.SOL_TCP, socket.TCP_CONGESTION, 16)
name = name.split(b"\0")[0].decode()
try:
    s.setsockopt(socket.SOL_TCP, socket.TCP_CONGESTION, sys.argv[2].encode())
    print(name, "ok")
except OSError as e:
    print(name, errno.errorcode[e.errno])
EOF
}

# Run "$@" for both stacks; equal answers pass.  $1 names the step.
same() {
	local name=$1 a b
	shift
	a=$("$@" stock)
	b=$("$@" xtcp)
	[ "$a" = "$b" ]
	check $? "$name" "stock: $a; xtcp: $b"
}

# The steps, each taking the stack last.
read_knob() { get "$2" "$1"; }
write_knob() { put "$3" "$1" "$2"; }
unpriv() { choose "$2" "$1"; }

echo "TAP version 13"
ip netns add "$NS" || ksft_fail "ip netns add"
for st in stock xtcp; do
	for k in allowed_congestion_control congestion_control; do
		f=$(knob "$st" "$k")
		SAVED[$f]=$(cat "$f")
	done
done

same "default congestion_control" read_knob congestion_control
same "available_congestion_control" read_knob available_congestion_control
same "allowed_congestion_control" read_knob allowed_congestion_control
same "a new socket's TCP_CONGESTION, and choosing reno" unpriv reno
same "congestion_control := nosuch" write_knob congestion_control nosuch
same "congestion_control := (empty)" write_knob congestion_control ""
same "congestion_control := reno" write_knob congestion_control reno
same "congestion_control reads reno" read_knob congestion_control
same "a new socket gets reno" unpriv reno
same "allowed := reno outside the initial namespace" write_knob \
	allowed_congestion_control reno
INIT=1
same "allowed := cubic nosuch (refused whole)" write_knob \
	allowed_congestion_control "cubic nosuch"
same "allowed := reno" write_knob allowed_congestion_control reno
INIT=
same "allowed reads reno" read_knob allowed_congestion_control
same "unprivileged TCP_CONGESTION cubic, not allowed" unpriv cubic
same "the namespace's default := cubic, not allowed" write_knob \
	congestion_control cubic
INIT=1
same "the initial namespace's default := cubic" write_knob \
	congestion_control cubic
same "allowed now lists the default too" read_knob allowed_congestion_control
INIT=
same "unprivileged TCP_CONGESTION cubic, allowed again" unpriv cubic
tap_done
