# SPDX-License-Identifier: GPL-2.0
"""TCP Fast Open parity, the cookie (RFC 7413 section 4.1): parity.py's fa.

Both stacks get the same key set (net.ipv4.tcp_fastopen_key and
net.xtcp.fastopen_key), the server bit (tcp_fastopen 3 and its twin) and
a listener with TCP_FASTOPEN 16, so that the same client must get the
same cookie -- SipHash of the SYN's addresses (tcp_fastopen.c's
__tcp_fastopen_cookie_gen_cipher()) -- from both: the SYN-ACK's option
bytes are compared as they are everywhere else, cookie included.  Each
SYN's counter deltas (TCPFastOpen*, read before and COUNTER_SETTLE s
after it; xtcp's from /proc/net/xtcp_stat) are a note of its step, so
compared too; the sides run one after the other, so that each side's
deltas are its own.  Then the third ACK, and accept().

fa.request kind34 / kind254 / no-ts: an empty cookie option in the RFC
7413 form (34), the experimental one (254 with magic 0xF989), and 34
after an MSS option alone: the cookie in the SYN-ACK in the form asked
for, padded as stock pads it; TCPFastOpenCookieReqd+1.
fa.request with data: the same, and the SYN's data is not acknowledged.
fa.request listener key: the listener's own TCP_FASTOPEN_KEY, not the
namespace's, makes the cookie.
fa.request retransmitted: no ACK for 1.6 s: the SYN-ACK the request's
timer sends again carries no cookie (tcp_rtx_synack() passes none) and
counts in RetransSegs and TCPSynRetrans.
fa.bad cookie with data: 8 bytes no key made: TCPFastOpenPassiveFail+1,
the data not acknowledged, the right cookie offered.
fa.short cookie: 2 bytes is no cookie at all (tcp_parse_fastopen_option()).
fa.request server off / no queue / syncookies: tcp_fastopen 1, a listener
without TCP_FASTOPEN, syncookies 2: no cookie; the request is counted in
the first two, not for a SYN cookie answer (no option parsed).

fb: the child a valid cookie makes at SYN time (tcp_try_fastopen()'s
tcp_fastopen_create_child(), tcp_conn_request()'s fastopen_sk): the
client computes the cookie both stacks make for it (SipHash-2-4 of the
SYN's addresses under the key, cookie() below), so no round trip asks
for one.  Each step's TCPFastOpen* counters, AttemptFails,
TCPAbortOnClose and OutOfWindowIcmps deltas are a note of the step.

fb.data: a valid cookie and a request in the SYN: the SYN-ACK acknowledges
the data and carries no cookie (TCPFastOpenPassive+1); accept() returns
and the data is read before the third ACK; the third ACK then.
fb.kind254 data: the same cookie in the experimental option (254, magic
0xF989; tcp_parse_options()): the same, and the SYN-ACK carries no
cookie in either form (tcp_try_fastopen() sets foc->len = -1).
fb.no cookie mode: tcp_fastopen 0x203 (0x200: no cookie required, with the
server bit 0x2) and its twin, a SYN with data and no cookie option: the
same.
fb.no cookie sockopt: the listener's TCP_FASTOPEN_NO_COOKIE 1 instead of
the 0x200 bit (tcp_fastopen_no_cookie()): the same.
fb.no cookie route: the server's host route to the client with
fastopen_no_cookie 1 (RTAX_FASTOPEN_NO_COOKIE of the request's dst),
removed after each side: the same.
fb.no data: a valid cookie alone: a child all the same, the SYN-ACK
acknowledges the SYN only.
fb.synack lost: no third ACK: the child's own retransmit timer re-sends
the SYN-ACK after 1 s (tcp_fastopen_synack_timer()), still acknowledging
the data; then the third ACK.
fb.rst and overflow: TCP_FASTOPEN 1; an accepted child reset by an exact
RST before its third ACK (AttemptFails twice, as tcp_check_req() and
tcp_done() count it; the child gone: a late ACK gets the listener's RST)
keeps its request 60 s in the Fast Open queue
(fastopenq.rskq_rst_head), so the next valid cookie finds the queue full
(TCPFastOpenListenOverflow): a normal SYN-ACK, data not acknowledged,
and the third ACK makes a child as without Fast Open.
fb.server writes: the accepted child writes 100 bytes before the third
ACK (tcp_passive_fastopen()), at SND.NXT; a segment out of the window
then gets the request's ACK with the child's SND.NXT as its sequence
number (tcp_v4_reqsk_send_ack()); the third ACK acknowledges the data.
fb.key rotation: key set "new,old", the client's cookie of the old key:
accepted by the backup key (TCPFastOpenPassiveAltKey+1), the SYN-ACK
offers the new key's cookie.
fb.key rotation kind254: the same with the old cookie in option 254: the
new cookie is offered in that form too (tcp_try_fastopen() keeps
foc->exp).
fb.rst before accept: the listener does not accept by itself; an exact
RST on the child in its handshake, still on the accept queue: tcp_reset()
(ECONNRESET), tcp_done() and tcp_check_req() count AttemptFails twice,
the request waits in the Fast Open queue's RST list; accept() still
returns the child, poll() shows IN, HUP and ERR, the first read gets
the SYN's data, the next ECONNRESET (clearing sk_err), then EOF; the
late third ACK meets the listener alone: RST.
fb.migrate: SO_REUSEPORT listeners with TCP_FASTOPEN 1 and
net.ipv4.tcp_migrate_req 1 (and its twin): a child made at SYN time on
listener A, a second listener B joins the group, A closes before the third
ACK: the child and a copy of its request move to B silently
(inet_csk_listen_stop(), TCPMigrateReqSuccess), and the copy counts in B's
Fast Open queue (inet_reqsk_clone() charges it, reqsk_fastopen_remove()
will uncharge B): the next valid cookie finds B's queue full
(TCPFastOpenListenOverflow, a normal SYN-ACK); both third ACKs, then B
accepts both children and the first one's SYN data is read from B.
fb.close unread: the child closed with the SYN's data unread: a RST
(TCPAbortOnClose), and the third ACK then gets the listener's RST.
fb.listener close: never accepted, the child in its handshake is reset
when its listener closes; the third ACK then meets no socket: RST.
fb.icmp before accept: the listener does not accept by itself.  Client a:
ICMP host unreachable quoting the child's SYN-ACK (its ISN): tcp_v4_err()
finds a TCP_SYN_RECV child whose request still points at it (not
accepted), a hard error: ip_icmp_error() queues it for MSG_ERRQUEUE
(whatever IP_RECVERR says), tcp_done_with_error(EHOSTUNREACH),
AttemptFails (tcp_done()); accept() still returns it, poll() shows ERR
and HUP, recvmsg(MSG_ERRQUEUE) the ICMP (which clears sk_err), then a
read gets the SYN's data and the next EOF; the third ACK meets the
listener alone: RST.  Client b: the same ICMP quoting ISN+1000, beyond
SND.NXT: OutOfWindowIcmps, nothing else; an empty error queue, its data
read, then EAGAIN; the third ACK draws nothing.  6.1's and 6.12's tcp_v4_err() differ only in
TCP-AO's check and how IP_RECVERR is read.
"""
import socket
import time

import xtcplib as X
from xtcplib import problems, want_flags, want_note

TCP_FASTOPEN = 23       # include/uapi/linux/tcp.h
TCP_FASTOPEN_KEY = 33
TCP_FASTOPEN_NO_COOKIE = 34
LISTENER_KEY = "xtcp-listenerkey"   # 16 bytes, set as its bytes
KEY = "01234567-89abcdef-fedcba98-76543210"
OPT_FASTOPEN = 34
OPT_EXP = 254
FASTOPEN_MAGIC = b"\xf9\x89"
COUNTERS = ("TCPFastOpenCookieReqd", "TCPFastOpenPassive",
            "TCPFastOpenPassiveFail", "TCPFastOpenListenOverflow",
            "TCPFastOpenPassiveAltKey")
FB_COUNTERS = COUNTERS + ("AttemptFails", "TCPAbortOnClose",
                          "OutOfWindowIcmps", "TCPMigrateReqSuccess",
                          "TCPMigrateReqFailure")
COUNTER_SETTLE = 0.2
ACCEPTED = "accept() returned the client's address"
REQUEST = b"GET / HTTP/1.0\r\n\r\n"


def counters(side, names=COUNTERS):
    """This side's counters `names` (TCPFastOpen*), {name: value}."""
    rep = side.ctx.agent.call("stats")
    table = rep["stock" if side.name == "stock" or side.ctx.cfg.selftest
                else "xtcp"] or {}
    return {c: sum(v for k, v in table.items() if k.endswith(c))
            for c in names}


def delta_note(before, after):
    moved = ["%s%+d" % (c, after[c] - before[c]) for c in before
             if after[c] != before[c]]
    return "fastopen: %s" % (" ".join(moved) or "no change")


def syn_opts(f, cookie, exp=False, base="all"):
    """`base`'s options, then the cookie option (None: none)."""
    opts = list(f.syn_opts(base))
    if cookie is not None:
        opts.append((OPT_EXP, FASTOPEN_MAGIC + cookie) if exp
                    else (OPT_FASTOPEN, cookie))
    return opts


def scenario(cookie, exp=False, base="all", data=b"", rtx=False):
    def scen(side):
        f = side.flow("c", keep_rtx=rtx)
        before = counters(side)
        pkt = f.syn(opts=syn_opts(f, cookie, exp, base))
        if data:
            pkt = pkt / X.Raw(data)
        f.send("syn", pkt)
        f.expect(1, 1.0)
        time.sleep(COUNTER_SETTLE)
        f.cur.notes.append(delta_note(before, counters(side)))
        if f.synack is None:
            return
        if rtx:
            before = counters(side, RTX_COUNTERS)
            f.mark("rtx")
            f.expect(1, 1.6)    # TCP_TIMEOUT_INIT after the first
            time.sleep(COUNTER_SETTLE)
            f.cur.notes.append(delta_note(before,
                                          counters(side, RTX_COUNTERS)))
        f.send("ack", f.seg("A"))
        f.expect_accept(3.0)
    return scen


def want_cookie(tr, label, kind):
    """Problem if step `label`'s SYN-ACK does not carry a cookie option
    of `kind` ("FastOpen", "kind254"), or with None carries one."""
    st = tr.step(label)
    if st is None or not st.pkts:
        return "%s: no reply" % label
    r = st.pkts[0][1]
    have = [n for n, _ in r.opts if n in ("FastOpen", "kind254")]
    if kind is None:
        return "%s: cookie option %s, stock sends none" % (label, have) \
            if have else None
    val = r.option(kind)
    if val is None:
        return "%s: options %s, no %s" % (label, r.opts, kind)
    want_len = 8 + (2 if kind == "kind254" else 0)
    if len(bytes.fromhex(val)) != want_len:
        return "%s: %s=%s, not an 8-byte cookie" % (label, kind, val)
    return None


def want_acked(tr, label, offset):
    """Problem if the SYN-ACK of `label` does not ACK our ISN+`offset`."""
    st = tr.step(label)
    if st is None or not st.pkts:
        return "%s: no reply" % label
    got = st.pkts[0][0]["tcp.ack"]
    if got != "ourISN%+d" % offset:
        return "%s: SYN-ACK acks %s, stock TCP acks ourISN%+d" % (
            label, got, offset)
    return None


def sanity(kind, note, acked=1, rtx=False):
    return lambda tr: problems(
        want_flags(tr, "c:syn", ["SA"]), want_cookie(tr, "c:syn", kind),
        want_acked(tr, "c:syn", acked), want_note(tr, "c:syn", note),
        want_flags(tr, "c:rtx", ["SA"]) if rtx else None,
        want_cookie(tr, "c:rtx", None) if rtx else None,
        want_note(tr, "c:rtx", RTX_NOTE) if rtx else None,
        want_note(tr, "c:ack", ACCEPTED))


# A SYN-ACK sent again counts as a retransmitted segment too
# (tcp_rtx_synack()).
RTX_COUNTERS = ("RetransSegs", "TCPSynRetrans")
RTX_NOTE = "fastopen: RetransSegs+1 TCPSynRetrans+1"
REQD = "fastopen: TCPFastOpenCookieReqd+1"
FAIL = "fastopen: TCPFastOpenPassiveFail+1"
NONE = "fastopen: no change"


def test_fa(ctx):
    on = {"fastopen": 3, "fastopen_key": KEY}
    queue = [(socket.IPPROTO_TCP, TCP_FASTOPEN, 16)]
    cases = [
        ("request kind34", scenario(b""), on, queue,
         sanity("FastOpen", REQD)),
        ("request kind254", scenario(b"", exp=True), on, queue,
         sanity("kind254", REQD)),
        ("request no-ts", scenario(b"", base="mss"), on, queue,
         sanity("FastOpen", REQD)),
        ("request with data", scenario(b"", data=REQUEST), on, queue,
         sanity("FastOpen", REQD)),
        ("request retransmitted", scenario(b"", rtx=True), on, queue,
         sanity("FastOpen", REQD, rtx=True)),
        ("request listener key", scenario(b""), on,
         queue + [(socket.IPPROTO_TCP, TCP_FASTOPEN_KEY, LISTENER_KEY)],
         sanity("FastOpen", REQD)),
        ("bad cookie with data", scenario(b"\0" * 8, data=REQUEST), on,
         queue, sanity("FastOpen", FAIL)),
        ("bad cookie kind254", scenario(b"\xa5" * 8, exp=True), on,
         queue, sanity("kind254", FAIL)),
        ("short cookie", scenario(b"\1\2"), on, queue,
         sanity(None, NONE)),
        ("request server off", scenario(b""),
         {"fastopen": 1, "fastopen_key": KEY}, queue, sanity(None, REQD)),
        ("request no queue", scenario(b""), on, (), sanity(None, REQD)),
        ("request syncookies=2", scenario(b""),
         dict(on, syncookies=2), queue, sanity(None, NONE)),
    ]
    for name, scen, sysctls, sockopts, check in cases:
        ctx.pair("fa.%s" % name, scen, sysctls=sysctls, sockopts=sockopts,
                 serial=True, sanity=check)


# ---------------------------------------------------------------------
# fb: the child at SYN time
# ---------------------------------------------------------------------

NEW_KEY = "0badc0de-1badc0de-2badc0de-3badc0de"
M64 = (1 << 64) - 1


def _rotl(x, b):
    return ((x << b) | (x >> (64 - b))) & M64


def siphash24(key, data):
    """SipHash-2-4 of `data` under the 16-byte `key` (lib/siphash.c)."""
    k0 = int.from_bytes(key[:8], "little")
    k1 = int.from_bytes(key[8:], "little")
    v = [k0 ^ 0x736f6d6570736575, k1 ^ 0x646f72616e646f6d,
         k0 ^ 0x6c7967656e657261, k1 ^ 0x7465646279746573]

    def rounds(n):
        for _ in range(n):
            v[0] = (v[0] + v[1]) & M64
            v[1] = _rotl(v[1], 13) ^ v[0]
            v[0] = _rotl(v[0], 32)
            v[2] = (v[2] + v[3]) & M64
            v[3] = _rotl(v[3], 16) ^ v[2]
            v[0] = (v[0] + v[3]) & M64
            v[3] = _rotl(v[3], 21) ^ v[0]
            v[2] = (v[2] + v[1]) & M64
            v[1] = _rotl(v[1], 17) ^ v[2]
            v[2] = _rotl(v[2], 32)

    tail = len(data) & 7
    for i in range(0, len(data) - tail, 8):
        m = int.from_bytes(data[i:i + 8], "little")
        v[3] ^= m
        rounds(2)
        v[0] ^= m
    b = (len(data) & 0xff) << 56
    b |= int.from_bytes(data[len(data) - tail:], "little")
    v[3] ^= b
    rounds(2)
    v[0] ^= b
    v[2] ^= 0xff
    rounds(4)
    return v[0] ^ v[1] ^ v[2] ^ v[3]


# The reference implementation's first test vector: a wrong SipHash must
# not be taken for a stack that rejects good cookies.
assert siphash24(bytes(range(16)), bytes(range(15))) == 0xa129ca6149be45e5


def cookie(ctx, key=KEY):
    """The cookie a stack with key set `key` (net.*.fastopen_key's text:
    four 32-bit words, stored little-endian, sscanf_key()) gives this
    client: SipHash of the SYN's source and destination addresses as the
    IP header holds them, little-endian (tcp_fastopen.c's
    __tcp_fastopen_cookie_gen_cipher())."""
    raw = b"".join(int(w, 16).to_bytes(4, "little") for w in key.split("-"))
    addrs = socket.inet_aton(ctx.cfg.cli_ip) + socket.inet_aton(
        ctx.cfg.srv_ip)
    return siphash24(raw, addrs).to_bytes(8, "little")


def fb_syn(side, f, label, data=REQUEST, with_cookie=True, key=KEY,
           exp=False):
    """A SYN with the cookie of `key` (or none; in option 254 with
    `exp`) and `data`; the counter deltas of the step as its note."""
    before = counters(side, FB_COUNTERS)
    c = cookie(side.ctx, key) if with_cookie else None
    pkt = f.syn(opts=syn_opts(f, c, exp))
    if data:
        pkt = pkt / X.Raw(data)
    f.send(label, pkt)
    f.expect(1, 1.0)
    # Both stacks count before the SYN-ACK leaves: no settling needed.
    f.cur.notes.append(delta_note(before, counters(side, FB_COUNTERS)))
    return f.synack is not None


FB_QUIET = 0.3


def fb_step(side, f, label, pkt, replies=0, window=FB_QUIET):
    """Send `pkt` as step `label`, wait for `replies` (or `window` s of
    quiet), note the counter deltas."""
    before = counters(side, FB_COUNTERS)
    f.send(label, pkt)
    if replies:
        f.expect(replies, 1.0)
    else:
        f.quiet(window)
    f.cur.notes.append(delta_note(before, counters(side, FB_COUNTERS)))


def fb_child(data=REQUEST, with_cookie=True, key=KEY, lost=False,
             exp=False):
    """The child at SYN time: accepted at once, its data read, then (after
    a lost SYN-ACK's retransmission, with `lost`) the third ACK."""
    def scen(side):
        f = side.flow("c", keep_rtx=lost)
        if not fb_syn(side, f, "syn", data, with_cookie, key, exp):
            return
        f.expect_accept(2.0)
        if data:
            f.cur.notes.append(side.recv(f, len(data), timeout=0.3))
        if lost:
            f.mark("rtx")
            f.expect(1, 1.6)    # TCP_TIMEOUT_INIT after the first
        fb_step(side, f, "ack", f.seg("A", seq=f.isn + 1 + len(data)))
    return scen


def fb_rst_overflow(side):
    a = side.flow("a")
    if not fb_syn(side, a, "syn"):
        return
    a.expect_accept(2.0)
    end = a.isn + 1 + len(REQUEST)
    fb_step(side, a, "rst", a.seg("R", seq=end, ack=0, ts=False))
    b = side.flow("b")
    if not fb_syn(side, b, "syn"):
        return
    fb_step(side, b, "ack", b.seg("A"))
    b.expect_accept(2.0)
    fb_step(side, a, "late ack", a.seg("A", seq=end), replies=1)


def fb_server_writes(side):
    f = side.flow("c")
    if not fb_syn(side, f, "syn"):
        return
    f.expect_accept(2.0)
    f.mark("write")
    f.cur.notes.append(side.send(f, 100))
    f.expect(1, 1.0)
    end = f.isn + 1 + len(REQUEST)
    fb_step(side, f, "oow", f.seg("A", seq=end + 1000000), replies=1)
    fb_step(side, f, "ack", f.seg("A", seq=end, ack=f.srv_isn + 1 + 100))
    f.cur.notes.append(side.sent(f, 2.0))


def fb_close_unread(side):
    f = side.flow("c")
    if not fb_syn(side, f, "syn"):
        return
    f.expect_accept(2.0)
    before = counters(side, FB_COUNTERS)
    f.mark("close")
    side.close_child(f, wait=0.2)
    f.expect(1, 1.0)
    f.cur.notes.append(delta_note(before, counters(side, FB_COUNTERS)))
    fb_step(side, f, "ack", f.seg("A", seq=f.isn + 1 + len(REQUEST)),
            replies=1)


def fb_rst_before_accept(side):
    """An exact RST on the child no one accepted yet (tcp_reset() with
    fastopen_rsk set; the child stays on the accept queue), then
    accept(), poll() and reads that do not wait, the late third ACK."""
    f = side.flow("c")
    if not fb_syn(side, f, "syn"):
        return
    end = f.isn + 1 + len(REQUEST)
    fb_step(side, f, "rst", f.seg("R", seq=end, ack=0, ts=False))
    f.cur.notes.append("accept: %s" % " ".join(side.drain()))
    f.cur.notes.append(side.calls(f, "poll", "recv 64", "recv 1",
                                  "recv 1"))
    fb_step(side, f, "late ack", f.seg("A", seq=end), replies=1)


# A reuseport group whose listeners take one Fast Open child each.
MIGRATE_SOCKOPTS = [(socket.SOL_SOCKET, socket.SO_REUSEPORT, 1),
                    (socket.IPPROTO_TCP, TCP_FASTOPEN, 1)]


def fb_migrate(side):
    """A Fast Open child in its handshake moves from a closing listener
    to the other one of its reuseport group, and counts in that one's
    Fast Open queue; then both third ACKs and accept() on the survivor."""
    a = side.flow("a")
    if not fb_syn(side, a, "syn"):
        return
    lid_a = side.lid
    side.listen(accept=False, sockopts=MIGRATE_SOCKOPTS)     # B, side.lid
    before = counters(side, FB_COUNTERS)
    a.mark("close")
    side.ctx.agent.call("close", lid=lid_a)
    a.quiet(FB_QUIET)
    a.cur.notes.append(delta_note(before, counters(side, FB_COUNTERS)))
    b = side.flow("b")
    if not fb_syn(side, b, "syn"):
        return
    end = a.isn + 1 + len(REQUEST)
    fb_step(side, a, "ack", a.seg("A", seq=end))
    fb_step(side, b, "ack", b.seg("A"))
    b.cur.notes.append("accept: %s" % " ".join(sorted(side.drain())))
    b.cur.notes.append(side.recv(a, len(REQUEST), timeout=0.3))


def migrate_sanity(tr):
    return problems(
        want_acked(tr, "a:syn", len(REQUEST) + 1),
        want_note(tr, "a:syn", PASSIVE),
        want_flags(tr, "a:close", []),
        want_note(tr, "a:close", "fastopen: TCPMigrateReqSuccess+1"),
        want_acked(tr, "b:syn", 1), want_cookie(tr, "b:syn", None),
        want_note(tr, "b:syn", "fastopen: TCPFastOpenListenOverflow+1"),
        want_flags(tr, "a:ack", []), want_flags(tr, "b:ack", []),
        want_note(tr, "b:ack", "accept: a b"),
        want_note(tr, "b:ack", "read %d bytes" % len(REQUEST)))


def fb_listener_close(side):
    """No accept(): the listener closes with the child still in its
    handshake on the accept queue (inet_csk_listen_stop(),
    inet_child_forget())."""
    f = side.flow("c")
    if not fb_syn(side, f, "syn"):
        return
    before = counters(side, FB_COUNTERS)
    f.mark("close")
    side.close_listener()
    f.expect(1, 1.0)
    f.cur.notes.append(delta_note(before, counters(side, FB_COUNTERS)))
    fb_step(side, f, "ack", f.seg("A", seq=f.isn + 1 + len(REQUEST)),
            replies=1)


def fb_no_cookie_route(side):
    """fb_child() without a cookie, the server's route to the client
    with fastopen_no_cookie 1 (RTAX_FASTOPEN_NO_COOKIE, the dst
    tcp_conn_request() hands tcp_try_fastopen()) for the while."""
    X.set_client_route(side.ctx.cfg, "fastopen_no_cookie", "1")
    try:
        fb_child(with_cookie=False)(side)
    finally:
        X.set_client_route(side.ctx.cfg)


# (flow, ICMP type, code, offset from the server's ISN, the child dies)
FB_ICMP = (("a", 3, 1, 0, True),        # host unreachable: EHOSTUNREACH
           ("b", 3, 1, 1000, False))    # beyond SND.NXT: OutOfWindowIcmps


def fb_icmp(side):
    """tcp_v4_err() on a child at SYN time that no one accepted yet
    (fastopen_rsk->sk still set): an error quoting its SYN-ACK is a
    hard one (tcp_done_with_error()), one beyond SND.NXT is counted and
    dropped.  Then accept() (the listener does not accept by itself),
    poll() and two reads that do not wait, the third ACK."""
    for label, itype, code, off, dies in FB_ICMP:
        f = side.flow(label)
        if not fb_syn(side, f, "syn"):
            return
        fb_step(side, f, "icmp", f.icmp_error(itype, code, f.srv_isn + off))
        f.cur.notes.append("accept: %s" % " ".join(side.drain()))
        f.cur.notes.append(side.calls(f, "poll", "errqueue", "poll",
                                      "recv 64", "recv 1"))
        fb_step(side, f, "ack", f.seg("A", seq=f.isn + 1 + len(REQUEST)),
                replies=1 if dies else 0)


def want_note_end(tr, label, suffix):
    st = tr.step(label)
    if st is None or not any(n.endswith(suffix) for n in st.notes):
        return "%s: no note ends in '%s'" % (label, suffix)
    return None


def icmp_sanity(tr):
    read = "recv=%r" % REQUEST.decode()
    return problems(
        want_acked(tr, "a:syn", len(REQUEST) + 1),
        want_flags(tr, "a:icmp", []),
        want_note(tr, "a:icmp", "fastopen: AttemptFails+1"),
        want_note(tr, "a:icmp", "accept: a"),
        # ip_icmp_error() queued it; reading it clears sk_err
        # (sock_dequeue_err_skb()), so the read after the data is EOF.
        want_note_end(tr, "a:icmp", "poll=IN|OUT|RDHUP|ERR|HUP "
                      "errqueue=EHOSTUNREACH origin=2 type=3 code=1 len=20 "
                      "poll=IN|OUT|RDHUP|HUP " + read + " recv=''"),
        want_flags(tr, "a:ack", ["R"]),
        want_acked(tr, "b:syn", len(REQUEST) + 1),
        want_note(tr, "b:icmp", "fastopen: OutOfWindowIcmps+1"),
        want_note(tr, "b:icmp", "accept: b"),
        want_note_end(tr, "b:icmp", "errqueue:EAGAIN poll=IN|OUT " +
                      read + " recv:EAGAIN"),
        want_flags(tr, "b:ack", []))


PASSIVE = "fastopen: TCPFastOpenPassive+1"


def fb_sanity(acked=len(REQUEST) + 1, note=PASSIVE, kind=None, read=True):
    return lambda tr: problems(
        want_flags(tr, "c:syn", ["SA"]), want_cookie(tr, "c:syn", kind),
        want_acked(tr, "c:syn", acked), want_note(tr, "c:syn", note),
        want_note(tr, "c:syn", ACCEPTED),
        want_note(tr, "c:syn", "read %d bytes" % len(REQUEST))
        if read else None)


def rst_overflow_sanity(tr):
    return problems(
        want_acked(tr, "a:syn", len(REQUEST) + 1),
        want_note(tr, "a:rst", "fastopen: AttemptFails+2"),
        want_acked(tr, "b:syn", 1), want_cookie(tr, "b:syn", None),
        want_note(tr, "b:syn", "fastopen: TCPFastOpenListenOverflow+1"),
        want_flags(tr, "a:late ack", ["R"]))


def server_writes_sanity(tr):
    st = tr.step("c:oow")
    seq = st.pkts[0][0].get("tcp.seq") if st and st.pkts else None
    return problems(
        fb_sanity(read=False)(tr), want_flags(tr, "c:write", ["PA"]),
        want_flags(tr, "c:oow", ["A"]),
        None if seq == "ISN+101" else
        "c:oow: ACK's seq %s, stock sends ISN+101 (SND.NXT)" % seq)


def test_fb(ctx):
    on = {"fastopen": 3, "fastopen_key": KEY}
    queue = [(socket.IPPROTO_TCP, TCP_FASTOPEN, 16)]
    cases = [
        ("data", fb_child(), on, queue, fb_sanity()),
        ("kind254 data", fb_child(exp=True), on, queue, fb_sanity()),
        ("no cookie mode", fb_child(with_cookie=False),
         dict(on, fastopen=0x203), queue, fb_sanity()),
        ("no cookie sockopt", fb_child(with_cookie=False), on,
         queue + [(socket.IPPROTO_TCP, TCP_FASTOPEN_NO_COOKIE, 1)],
         fb_sanity()),
        ("no cookie route", fb_no_cookie_route, on, queue, fb_sanity()),
        ("no data", fb_child(data=b""), on, queue,
         fb_sanity(acked=1, read=False)),
        ("synack lost", fb_child(lost=True), on, queue,
         lambda tr: problems(fb_sanity()(tr),
                             want_flags(tr, "c:rtx", ["SA"]),
                             want_acked(tr, "c:rtx", len(REQUEST) + 1))),
        ("rst and overflow", fb_rst_overflow, on,
         [(socket.IPPROTO_TCP, TCP_FASTOPEN, 1)], rst_overflow_sanity),
        ("server writes", fb_server_writes, on, queue,
         server_writes_sanity),
        ("key rotation", fb_child(), dict(on, fastopen_key="%s,%s" % (
            NEW_KEY, KEY)), queue,
         fb_sanity(kind="FastOpen",
                   note="fastopen: TCPFastOpenPassive+1 "
                        "TCPFastOpenPassiveAltKey+1")),
        ("key rotation kind254", fb_child(exp=True), dict(
            on, fastopen_key="%s,%s" % (NEW_KEY, KEY)), queue,
         fb_sanity(kind="kind254",
                   note="fastopen: TCPFastOpenPassive+1 "
                        "TCPFastOpenPassiveAltKey+1")),
        ("close unread", fb_close_unread, on, queue,
         lambda tr: problems(
             want_acked(tr, "c:syn", len(REQUEST) + 1),
             want_flags(tr, "c:close", ["RA"]),
             want_note(tr, "c:close", "fastopen: TCPAbortOnClose+1"),
             want_flags(tr, "c:ack", ["R"]))),
        ("rst before accept", fb_rst_before_accept, on, queue,
         lambda tr: problems(
             want_acked(tr, "c:syn", len(REQUEST) + 1),
             want_flags(tr, "c:rst", []),
             want_note(tr, "c:rst", "fastopen: AttemptFails+2"),
             want_note(tr, "c:rst", "accept: c"),
             want_note_end(tr, "c:rst", "recv=%r recv:ECONNRESET "
                           "recv=''" % REQUEST.decode()),
             want_flags(tr, "c:late ack", ["R"])), False),
        ("migrate", fb_migrate, dict(on, migrate_req=1),
         MIGRATE_SOCKOPTS, migrate_sanity, False),
        ("listener close", fb_listener_close, on, queue,
         lambda tr: problems(
             want_acked(tr, "c:syn", len(REQUEST) + 1),
             want_flags(tr, "c:close", ["RA"]),
             want_flags(tr, "c:ack", ["R"])), False),
        ("icmp before accept", fb_icmp, on, queue, icmp_sanity, False),
    ]
    for name, scen, sysctls, sockopts, check, *accept in cases:
        ctx.pair("fb.%s" % name, scen, sysctls=sysctls, sockopts=sockopts,
                 serial=True, sanity=check, accept=accept[0] if accept
                 else True)


TESTS = {
    "fa": ("TCP Fast Open cookies: requests (34, 254), bad and short "
           "cookies, server off, no queue, syncookies", test_fa),
    "fb": ("TCP Fast Open child at SYN time: data, cookie in 254, "
           "no-cookie mode, sockopt and route, no data, SYN-ACK lost, RST "
           "and queue overflow, server writes, key rotation, RST before "
           "accept(), migration to another reuseport listener, close with "
           "unread data, listener close, ICMP before accept()", test_fb),
}
