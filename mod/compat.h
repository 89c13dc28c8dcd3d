/* SPDX-License-Identifier: GPL-2.0 */
/*
 * Differences between the kernels xtcp supports (Linux 6.1 and 6.12).
 *
 * This is the only file that tests LINUX_VERSION_CODE.  Everything else
 * calls the helpers below and reads the same on both kernels.
 */
#ifndef _XTCP_COMPAT_H
#define _XTCP_COMPAT_H

#include <linux/version.h>

/* The one comparison with LINUX_VERSION_CODE; scripts/checkpatch knows. */
#define XTCP_KERNEL_AT_LEAST(major, minor) \
	(LINUX_VERSION_CODE >= KERNEL_VERSION(major, minor, 0))
#include <linux/errqueue.h>
#include <linux/icmp.h>
#include <linux/net.h>
#include <net/inet_sock.h>
#include <net/ip.h>
#include <net/route.h>
#include <net/tcp.h>
#include <net/net_namespace.h>
#include <linux/win_minmax.h>
#if XTCP_KERNEL_AT_LEAST(6, 12)
#include <linux/unaligned.h>	/* was <asm/unaligned.h> before 6.12 */
#include <net/proto_memory.h>	/* sk_memory_allocated() left net/sock.h */
#else
#include <asm/unaligned.h>
#endif
#if XTCP_KERNEL_AT_LEAST(6, 9)
#include <net/rps.h>	/* sock_rps_record_flow() left net/sock.h in 6.9 */
#include <net/hotdata.h>	/* net_hotdata, new in 6.9 */
#include <linux/skbuff_ref.h>	/* skb_frag_unref(), 6.9 */
#endif

/*
 * 6.10 turned accept()'s flags, kern and error into struct
 * proto_accept_arg.  xtcp_accept() takes that struct on every kernel;
 * before 6.10 a shim builds it from the old arguments.
 */
#if XTCP_KERNEL_AT_LEAST(6, 10)
int xtcp_accept(struct socket *sock, struct socket *newsock,
		struct proto_accept_arg *arg);
#define xtcp_accept_op xtcp_accept
#else
struct proto_accept_arg {
	int flags;
	int err;
	bool kern;
};

int xtcp_accept(struct socket *sock, struct socket *newsock,
		struct proto_accept_arg *arg);

static inline int xtcp_accept_op(struct socket *sock, struct socket *newsock,
				 int flags, bool kern)
{
	struct proto_accept_arg arg = { .flags = flags, .kern = kern };

	return xtcp_accept(sock, newsock, &arg);
}
#endif

/*
 * 6.12's inet_csk_accept() charges the accepted socket's slab object to
 * the accepting task's memory cgroup (kmem_cache_charge(), new in 6.12);
 * 6.1 charges nothing.
 */
static inline void xtcp_kmem_cache_charge(void *objp, gfp_t gfp)
{
#if XTCP_KERNEL_AT_LEAST(6, 12)
	kmem_cache_charge(objp, gfp);
#endif
}

/* 6.6 moved the inet_sock booleans into inet->inet_flags bits. */
static inline void xtcp_compat_inet_init(struct sock *sk)
{
	struct inet_sock *inet = inet_sk(sk);

#if XTCP_KERNEL_AT_LEAST(6, 6)
	inet_set_bit(IS_ICSK, sk);
	inet_clear_bit(NODEFRAG, sk);
	inet_set_bit(MC_LOOP, sk);
	inet_set_bit(MC_ALL, sk);
#else
	inet->is_icsk = 1;
	inet->nodefrag = 0;
	inet->mc_loop = 1;
	inet->mc_all = 1;
#endif
	inet->uc_ttl = -1;
	inet->mc_ttl = 1;
	inet->mc_index = 0;
	inet->mc_list = NULL;
	inet->rcv_tos = 0;
}

static inline bool xtcp_compat_bind_address_no_port(const struct sock *sk)
{
#if XTCP_KERNEL_AT_LEAST(6, 6)
	return inet_test_bit(BIND_ADDRESS_NO_PORT, sk);
#else
	return inet_sk(sk)->bind_address_no_port;
#endif
}

/*
 * The ISN a timewait sock chose for a SYN that reopens its connection
 * (tcp_timewait_state_process(): SND.NXT + 65537).  Debian's 6.12
 * tcp_v4_rcv() hands it to the listener; 6.1's stores it in TCP_SKB_CB()
 * and then calls tcp_v4_fill_cb() again, which clears it, so the
 * listener picks a fresh ISN, under its queue limits, as for any SYN.
 * passive sh compares with stock on each kernel.
 */
static inline u32 xtcp_compat_tw_isn(u32 isn)
{
#if XTCP_KERNEL_AT_LEAST(6, 12)
	return isn;
#else
	return 0;
#endif
}

/* IP_TRANSPARENT: an inet flag bit from 6.6 on, a bitfield before. */
static inline bool xtcp_compat_transparent(const struct sock *sk)
{
#if XTCP_KERNEL_AT_LEAST(6, 6)
	return inet_test_bit(TRANSPARENT, sk);
#else
	return inet_sk(sk)->transparent;
#endif
}

/*
 * Route lookups for a socket's flow: 6.1 still folds SOCK_LOCALROUTE into
 * the TOS (RT_CONN_FLAGS) and routes requests in universe scope; 6.12
 * passes the scope separately.
 */
static inline u8 xtcp_sk_rt_tos(const struct sock *sk)
{
#if XTCP_KERNEL_AT_LEAST(6, 12)
	return ip_sock_rt_tos(sk);
#else
	return RT_CONN_FLAGS(sk);
#endif
}

static inline u8 xtcp_sk_rt_scope(const struct sock *sk)
{
#if XTCP_KERNEL_AT_LEAST(6, 12)
	return ip_sock_rt_scope(sk);
#else
	return RT_SCOPE_UNIVERSE;
#endif
}

/*
 * The TOS a stateless reply (RST, ACK) is routed with, from the TOS of
 * the segment it answers (ip_send_unicast_reply()).  6.1 masks with
 * RT_TOS(): bit 0 of a route key's TOS is RTO_ONLINK there, so an
 * ECT(1)- or CE-marked segment must not pass it on, or the reply would
 * be routed link-scope only.  6.12 keeps the whole DSCP.
 */
static inline u8 xtcp_reply_rt_tos(u8 tos)
{
#if XTCP_KERNEL_AT_LEAST(6, 12)
	return tos & INET_DSCP_MASK;
#else
	return RT_TOS(tos);
#endif
}

/*
 * The window a receive buffer of @space bytes can offer
 * (tcp_win_from_space()).  6.7 replaced the net.ipv4.tcp_adv_win_scale
 * rule with a per-socket payload/truesize ratio, which starts at one
 * half (xtcp_scaling_ratio_init()) and is learned from the peer's
 * segments (xtcp_update_scaling_ratio()).
 */
static inline int xtcp_win_from_space(const struct sock *sk, int space)
{
#if XTCP_KERNEL_AT_LEAST(6, 7)
	return __tcp_win_from_space(tcp_sk(sk)->scaling_ratio, space);
#else
	int scale = READ_ONCE(sock_net(sk)->ipv4.sysctl_tcp_adv_win_scale);

	return scale <= 0 ? (space >> (-scale)) : space - (space >> scale);
#endif
}

static inline void xtcp_scaling_ratio_init(struct sock *sk)
{
#if XTCP_KERNEL_AT_LEAST(6, 7)
	tcp_sk(sk)->scaling_ratio = TCP_DEFAULT_SCALING_RATIO;
#endif
}

/*
 * The buffer that holds a window of @win bytes, the inverse of
 * xtcp_win_from_space() (receive autotuning, tcp_rcv_space_adjust()):
 * 6.7 divides by the learned payload/truesize ratio
 * (tcp_space_from_win()); before, the window was counted in full
 * segments, each costing the truesize of an advmss segment raised until
 * its window covers advmss.
 */
static inline u64 xtcp_space_from_win(const struct sock *sk, u64 win)
{
#if XTCP_KERNEL_AT_LEAST(6, 7)
	u64 val = win << TCP_RMEM_TO_WIN_SCALE;

	do_div(val, tcp_sk(sk)->scaling_ratio);
	return val;
#else
	const struct tcp_sock *tp = tcp_sk(sk);
	int rcvmem = SKB_TRUESIZE(tp->advmss + MAX_TCP_HEADER);

	while (xtcp_win_from_space(sk, rcvmem) < tp->advmss)
		rcvmem += 128;
	do_div(win, tp->advmss);
	return win * rcvmem;
#endif
}

/*
 * tcp_rcv_space_adjust() on 6.12 counts only what the reader took in the
 * last RTT, not what still waits in the receive queue; 6.1 counts both.
 */
#define XTCP_RCVQ_SPACE_MINUS_INQ	XTCP_KERNEL_AT_LEAST(6, 12)

/*
 * tcp_measure_rcv_mss() since 6.7: a segment of a new size teaches the
 * payload/truesize ratio, and the window clamp follows it.
 */
static inline void xtcp_update_scaling_ratio(struct sock *sk,
					     const struct sk_buff *skb)
{
#if XTCP_KERNEL_AT_LEAST(6, 7)
	struct tcp_sock *tp = tcp_sk(sk);
	u64 val = (u64)skb->len << TCP_RMEM_TO_WIN_SCALE;
	u8 old_ratio = tp->scaling_ratio;

	do_div(val, skb->truesize);
	tp->scaling_ratio = val ? val : 1;
	if (old_ratio != tp->scaling_ratio) {
		val = xtcp_win_from_space(sk, sk->sk_rcvbuf);
		WRITE_ONCE(tp->window_clamp, val);
		if (tp->window_clamp < tp->rcvq_space.space)
			tp->rcvq_space.space = tp->window_clamp;
	}
#endif
}

/*
 * Receive-path rules 6.12 has and 6.1 does not (upstream changed them
 * in between):
 * - XTCP_RCVQ_NOMEM_ACK: when the receive budget is out, ACK at once
 *   with a zero window (ICSK_ACK_NOMEM) rather than drop silently;
 * - XTCP_ZERO_WINDOW_TAKES_FIN: a bare FIN is taken into a zero window;
 * - XTCP_WND_UPDATE_ZERO: tcp_may_update_window() takes a zero window
 *   from an ACK that repeats snd_wl1.
 */
#define XTCP_RCVQ_NOMEM_ACK		XTCP_KERNEL_AT_LEAST(6, 12)
#if XTCP_RCVQ_NOMEM_ACK
#define XTCP_ICSK_ACK_NOMEM		ICSK_ACK_NOMEM
#else
#define XTCP_ICSK_ACK_NOMEM		0
#endif
#define XTCP_ZERO_WINDOW_TAKES_FIN	XTCP_KERNEL_AT_LEAST(6, 12)
#define XTCP_WND_UPDATE_ZERO		XTCP_KERNEL_AT_LEAST(6, 12)

/*
 * A SYN that fails PAWS on a connection: 6.12 answers with a challenge
 * ACK (RFC 5961 4.2), 6.1 as any PAWS failure, with a rate-limited
 * duplicate ACK.
 */
#define XTCP_PAWS_SYN_CHALLENGE		XTCP_KERNEL_AT_LEAST(6, 12)

/*
 * A new socket's minimum RTO, jiffies: 6.12 takes it from
 * net.ipv4.tcp_rto_min_us, 6.1 has TCP_RTO_MIN.
 */
static inline u32 xtcp_rto_min_init(const struct net *net)
{
#if XTCP_KERNEL_AT_LEAST(6, 12)
	return usecs_to_jiffies(READ_ONCE(net->ipv4.sysctl_tcp_rto_min_us));
#else
	return TCP_RTO_MIN;
#endif
}

/*
 * The route's quickack metric (ip route ... quickack 1): 6.12 caches it
 * in icsk_ack.dst_quick_ack when the route is set (sk_setup_caps()),
 * 6.1 reads it from the route each time.
 */
static inline bool xtcp_dst_quick_ack(struct sock *sk)
{
#if XTCP_KERNEL_AT_LEAST(6, 12)
	return inet_csk(sk)->icsk_ack.dst_quick_ack;
#else
	const struct dst_entry *dst = __sk_dst_get(sk);

	return dst && dst_metric(dst, RTAX_QUICKACK);
#endif
}

/*
 * The delayed-ACK timeout (ato, jiffies) after a change: bounded by the
 * RTO, and since 6.12 also by TCP_DELACK_MAX.
 */
static inline u32 xtcp_ato_bound(const struct sock *sk, u32 ato)
{
	u32 bound = inet_csk(sk)->icsk_rto;

#if XTCP_KERNEL_AT_LEAST(6, 12)
	bound = min_t(u32, bound, TCP_DELACK_MAX);
#endif
	return min(ato, bound);
}

/*
 * tcp_delack_max(), jiffies: the socket's TCP_DELACK_MAX, which 6.12
 * also keeps below the minimum RTO (a route's rto_min).
 */
static inline u32 xtcp_delack_max(const struct sock *sk)
{
#if XTCP_KERNEL_AT_LEAST(6, 12)
	return min(inet_csk(sk)->icsk_delack_max,
		   max(tcp_rto_min(sk), 2U) - 1);
#else
	return inet_csk(sk)->icsk_delack_max;
#endif
}

/*
 * tcp_disordered_ack()'s replay window for a TSval (jiffies of RTO in
 * TSval units): 6.1 assumes a peer clock of at most 1024 Hz, 6.12 of
 * 1200 Hz.
 */
static inline u32 xtcp_tsval_replay(const struct sock *sk)
{
#if XTCP_KERNEL_AT_LEAST(6, 12)
	return inet_csk(sk)->icsk_rto * 1200 / HZ;
#else
	return inet_csk(sk)->icsk_rto * 1024 / HZ;
#endif
}

/* May @from's payload join @to's (TLS offload state, MPTCP mapping)? */
static inline bool xtcp_skb_can_collapse_rx(const struct sk_buff *to,
					    const struct sk_buff *from)
{
#if XTCP_KERNEL_AT_LEAST(6, 12)
	return tcp_skb_can_collapse_rx(to, from);
#elif IS_ENABLED(CONFIG_TLS_DEVICE)
	return mptcp_skb_can_collapse(to, from) &&
	       from->decrypted == to->decrypted;
#else
	return mptcp_skb_can_collapse(to, from);
#endif
}

/*
 * 6.12 (since upstream 6.8, net.ipv4.tcp_backlog_ack_defer): an
 * immediate ACK owed while __release_sock() feeds the backlog waits for
 * the release callback, so that one ACK answers the whole backlog.
 * xtcp_defer_backlog_ack() says whether it was deferred;
 * xtcp_take_deferred_ack() claims it in the release callback.
 */
static inline bool xtcp_defer_backlog_ack(struct sock *sk)
{
#if XTCP_KERNEL_AT_LEAST(6, 12)
	if (sock_owned_by_user_nocheck(sk) &&
	    READ_ONCE(sock_net(sk)->ipv4.sysctl_tcp_backlog_ack_defer)) {
		set_bit(TCP_ACK_DEFERRED, &sk->sk_tsq_flags);
		return true;
	}
#endif
	return false;
}

static inline bool xtcp_take_deferred_ack(struct sock *sk)
{
#if XTCP_KERNEL_AT_LEAST(6, 12)
	return test_and_clear_bit(TCP_ACK_DEFERRED, &sk->sk_tsq_flags);
#else
	return false;
#endif
}

/*
 * skb_condense(): a fully pulled skb sheds the truesize of its frags
 * before it is charged (tcp_add_backlog(), tcp_data_queue_ofo()).
 * 6.12 exports it; 6.1 does not, so 6.1 gets a copy of its own version,
 * which differs from 6.12's only by the devmem test 6.1 has no use for.
 */
static inline void xtcp_skb_condense(struct sk_buff *skb)
{
#if XTCP_KERNEL_AT_LEAST(6, 12)
	skb_condense(skb);
#else
	if (skb->data_len) {
		if (skb->data_len > skb->end - skb->tail || skb_cloned(skb))
			return;
		/* The page frags can go now. */
		__pskb_pull_tail(skb, skb->data_len);
	}
	/* A frag does not say its truesize: count what is left. */
	skb->truesize = SKB_TRUESIZE(skb_end_offset(skb));
#endif
}

/*
 * skb_frags_readable(): 6.12's devmem TCP can hand the stack skbs whose
 * frags the CPU cannot read, which collapsing must leave alone.
 */
static inline bool xtcp_skb_frags_readable(const struct sk_buff *skb)
{
#if XTCP_KERNEL_AT_LEAST(6, 12)
	return skb_frags_readable(skb);
#else
	return true;
#endif
}

/*
 * tcp_drop_reason(): a dropped segment counts in sk_drops (what ss -m
 * shows as "d" and SO_RXQ_OVFL reports) and is freed with its reason
 * for the skb:kfree_skb tracepoint, which 6.12 also gives the socket.
 */
static inline void xtcp_drop_reason(struct sock *sk, struct sk_buff *skb,
				    enum skb_drop_reason reason)
{
	sk_drops_add(sk, skb);
#if XTCP_KERNEL_AT_LEAST(6, 12)
	sk_skb_reason_drop(sk, skb, reason);
#else
	kfree_skb_reason(skb, reason);
#endif
}

/*
 * The out-of-order queue (data.c):
 * - XTCP_OFO_MEASURES_RCV_MSS: 6.12 learns the peer's segment size
 *   from out-of-order segments too (tcp_measure_rcv_mss());
 * - XTCP_OFO_PRUNE_SPARES_LOWER: 6.12's tcp_prune_ofo_queue() stops at
 *   the segments below the one being charged, which would only be
 *   dropped in its place; 6.1 prunes from the top whatever arrives.
 * - XTCP_RCV_RTT_ZERO_TS_SAMPLE: a timestamp echo 0 ms old is a 1 ms
 *   receiver RTT sample on 6.1 (tcp_rcv_rtt_measure_ts()), no sample
 *   on 6.12 (tcp_rtt_tsopt_us(tp, 0)).
 */
#define XTCP_OFO_MEASURES_RCV_MSS	XTCP_KERNEL_AT_LEAST(6, 12)
#define XTCP_OFO_PRUNE_SPARES_LOWER	XTCP_KERNEL_AT_LEAST(6, 12)
#define XTCP_RCV_RTT_ZERO_TS_SAMPLE	(!XTCP_KERNEL_AT_LEAST(6, 12))

/*
 * 6.5 made struct proto's ioctl return its answer through a kernel
 * pointer (sk_ioctl()); before, it wrote to the user's.  xtcp_ioctl()
 * answers in an int on every kernel; xtcp_proto_ioctl() is the hook.
 */
int xtcp_ioctl(struct sock *sk, int cmd, int *answ);

#if XTCP_KERNEL_AT_LEAST(6, 5)
static inline int xtcp_proto_ioctl(struct sock *sk, int cmd, int *karg)
{
	return xtcp_ioctl(sk, cmd, karg);
}
#else
static inline int xtcp_proto_ioctl(struct sock *sk, int cmd, unsigned long arg)
{
	int answ, err = xtcp_ioctl(sk, cmd, &answ);

	return err ? err : put_user(answ, (int __user *)arg);
}
#endif

/*
 * tcp_select_initial_window(): the window a request may grow to, in
 * bytes.  6.1 caps it at 65535 (what the SYN-ACK's unscaled field can
 * say); 6.12 lets it be the whole space, so the child's first scaled
 * windows can offer more at once (the SYN-ACK still says at most 65535).
 */
static inline u32 xtcp_initial_rcv_wnd(u32 space)
{
#if XTCP_KERNEL_AT_LEAST(6, 12)
	return space;
#else
	return min_t(u32, space, U16_MAX);
#endif
}

/*
 * The receive window of a request that tcp_check_req() tests segments
 * against and tcp_v4_reqsk_send_ack() offers: 6.12 clamps it to what the
 * SYN-ACK could announce (tcp_synack_window()), 6.1 takes it as it is,
 * which xtcp_initial_rcv_wnd() capped already.
 */
static inline u32 xtcp_synack_window(const struct request_sock *req)
{
#if XTCP_KERNEL_AT_LEAST(6, 12)
	return min(req->rsk_rcv_wnd, 65535U);
#else
	return req->rsk_rcv_wnd;
#endif
}

/*
 * 6.11 made a proc_handler's table const (xtcp's string handlers,
 * cong.c).
 */
#if XTCP_KERNEL_AT_LEAST(6, 11)
#define xtcp_ctl_table			const struct ctl_table
#else
#define xtcp_ctl_table			struct ctl_table
#endif

/*
 * 6.5 made per-netns sysctl registration take the table size, and 6.11
 * dropped the empty sentinel entry.  Our tables keep the sentinel (6.1
 * needs it); @n counts the entries before it.
 */
static inline struct ctl_table_header *
xtcp_register_net_sysctl(struct net *net, const char *path,
			 struct ctl_table *table, size_t n)
{
#if XTCP_KERNEL_AT_LEAST(6, 5)
	return register_net_sysctl_sz(net, path, table, n);
#else
	return register_net_sysctl(net, path, table);
#endif
}

/*
 * 6.10 added a reason to request_sock_ops.send_reset(); xtcp's RST does
 * not depend on it.
 */
void xtcp_v4_send_reset(const struct sock *sk, struct sk_buff *skb);

#if XTCP_KERNEL_AT_LEAST(6, 10)
static inline void xtcp_compat_reqsk_send_reset(const struct sock *sk,
						struct sk_buff *skb,
						enum sk_rst_reason reason)
{
	xtcp_v4_send_reset(sk, skb);
}
#else
static inline void xtcp_compat_reqsk_send_reset(const struct sock *sk,
						struct sk_buff *skb)
{
	xtcp_v4_send_reset(sk, skb);
}
#endif

/*
 * 6.1's tcp_cwnd_test() lets a lone FIN past a full congestion window;
 * 6.12's does not (the FIN waits like data).
 */
#define XTCP_CWND_TEST_FIN		(!XTCP_KERNEL_AT_LEAST(6, 12))

/*
 * 6.12's tcp_write_xmit() grows the skb at the head of the write queue
 * with the bytes of the next one, up to what cwnd lets out at once
 * (tcp_grow_skb()), then counts its segments afresh
 * (tcp_set_skb_tso_segs()).  6.1's sends the skbs as sendmsg() and
 * earlier splits cut them, keeping a count already made
 * (tcp_init_tso_segs()): under a small window the two put their
 * segment boundaries, and so a partial tail, in other places.
 */
#define XTCP_WRITE_XMIT_GROWS_SKB	XTCP_KERNEL_AT_LEAST(6, 12)

/*
 * What TCP_USER_TIMEOUT leaves the next zero-window probe
 * (tcp_clamp_probe0_to_user_timeout()): @remaining jiffies, negative
 * once the timeout has passed, and at least TCP_TIMEOUT_MIN.  6.12
 * compares signed; 6.1 unsigned, so a timeout already past wraps to a
 * long wait that the probe interval bounds instead.
 */
static inline u32 xtcp_probe0_user_timeout_left(s32 remaining)
{
#if XTCP_KERNEL_AT_LEAST(6, 12)
	return max_t(int, remaining, TCP_TIMEOUT_MIN);
#else
	return max_t(u32, remaining, TCP_TIMEOUT_MIN);
#endif
}

/*
 * __tcp_transmit_skb() lets a segment take another TX queue (ooo_okay,
 * XPS) when none of the socket's packets waits in a qdisc or device;
 * 6.12 also when the retransmit queue is empty, which TX completions
 * that lag behind the ACKs would otherwise hide.
 */
#define XTCP_OOO_OKAY_RTX_EMPTY		XTCP_KERNEL_AT_LEAST(6, 12)

/* skb->tstamp as an EDT departure time: 6.11 named the clock. */
static inline void xtcp_skb_set_delivery_time(struct sk_buff *skb, u64 ns)
{
#if XTCP_KERNEL_AT_LEAST(6, 11)
	skb_set_delivery_time(skb, ns, SKB_CLOCK_MONOTONIC);
#else
	skb_set_delivery_time(skb, ns, true);
#endif
}

/* net.core.max_skb_frags moved into net_hotdata in 6.9. */
static inline int xtcp_max_skb_frags(void)
{
#if XTCP_KERNEL_AT_LEAST(6, 9)
	return READ_ONCE(net_hotdata.sysctl_max_skb_frags);
#else
	return READ_ONCE(sysctl_max_skb_frags);
#endif
}

/*
 * A reply within ato makes a connection interactive: 6.1 enters
 * pingpong mode at once, 6.12 counts towards net.ipv4.tcp_pingpong_thresh.
 */
static inline void xtcp_inc_pingpong_cnt(struct sock *sk)
{
#if XTCP_KERNEL_AT_LEAST(6, 12)
	inet_csk_inc_pingpong_cnt(sk);
#else
	inet_csk_enter_pingpong_mode(sk);
#endif
}

/*
 * lib/win_minmax.c exports minmax_running_min() on 6.12 only; 6.1 gets
 * a copy (the windowed minimum of RTT samples, Kathleen Nichols').
 */
#if XTCP_KERNEL_AT_LEAST(6, 12)
#define xtcp_minmax_running_min	minmax_running_min
#else
static inline u32 xtcp_minmax_subwin_update(struct minmax *m, u32 win,
					    const struct minmax_sample *val)
{
	u32 dt = val->t - m->s[0].t;

	if (unlikely(dt > win)) {
		/* The window passed: the 2nd and 3rd choices move up. */
		m->s[0] = m->s[1];
		m->s[1] = m->s[2];
		m->s[2] = *val;
		if (unlikely(val->t - m->s[0].t > win)) {
			m->s[0] = m->s[1];
			m->s[1] = m->s[2];
			m->s[2] = *val;
		}
	} else if (unlikely(m->s[1].t == m->s[0].t) && dt > win / 4) {
		m->s[1] = *val;
		m->s[2] = *val;
	} else if (unlikely(m->s[2].t == m->s[1].t) && dt > win / 2) {
		m->s[2] = *val;
	}
	return m->s[0].v;
}

static inline u32 xtcp_minmax_running_min(struct minmax *m, u32 win, u32 t,
					  u32 meas)
{
	struct minmax_sample val = { .t = t, .v = meas };

	if (unlikely(val.v <= m->s[0].v) || unlikely(val.t - m->s[2].t > win))
		return minmax_reset(m, t, meas);
	if (unlikely(val.v <= m->s[1].v)) {
		m->s[1] = val;
		m->s[2] = val;
	} else if (unlikely(val.v <= m->s[2].v)) {
		m->s[2] = val;
	}
	return xtcp_minmax_subwin_update(m, win, &val);
}
#endif

/* IP_RECVERR became a bit of inet_sock's flags in 6.6. */
static inline bool xtcp_inet_recverr(const struct sock *sk)
{
#if XTCP_KERNEL_AT_LEAST(6, 6)
	return inet_test_bit(RECVERR, sk);
#else
	return inet_sk(sk)->recverr;
#endif
}

/*
 * Where a connection's unsent data waits.  From 6.2 on (6.12 here),
 * bpf_setsockopt(SOL_TCP) lets a cgroup program set TCP_NODELAY or clear
 * TCP_CORK on any IPPROTO_TCP socket, and stock's
 * tcp_push_pending_frames() would take skbs on sk_write_queue to
 * tcp_write_xmit(), through the NULL icsk_af_ops and icsk_ca_ops of an
 * xtcp socket.  There xtcp keeps them on a queue of its own in struct
 * xtcp_sock, so that stock's tcp_send_head() is always NULL.  6.1's
 * sol_tcp_sockopt() refuses an xtcp socket (its proto's setsockopt is
 * not tcp_setsockopt()), so sk_write_queue serves, and the socket stays
 * the size of stock's (2304 bytes).
 */
#if XTCP_KERNEL_AT_LEAST(6, 2)
struct xtcp_compat_write_queue {
	struct sk_buff_head	q;
};

#define xtcp_compat_write_queue(sk, wq)	(&(wq)->q)

static inline void xtcp_compat_write_queue_init(struct sk_buff_head *q)
{
	__skb_queue_head_init(q);
}
#else
struct xtcp_compat_write_queue {
};

#define xtcp_compat_write_queue(sk, wq)	\
	((struct sk_buff_head *)&(sk)->sk_write_queue)

/* sock_init_data() and sk_clone_lock() made sk_write_queue. */
static inline void xtcp_compat_write_queue_init(struct sk_buff_head *q)
{
}
#endif

/*
 * getsockopt(TCP_TIMESTAMP): the TS clock now, ms, plus the connection's
 * offset.  Since 6.7 bit 0 says whether the clock counts in us
 * (tcp_usec_ts), which xtcp's never does.
 */
static inline u32 xtcp_sockopt_timestamp(const struct tcp_sock *tp)
{
	u32 val = (u32)div_u64(tcp_clock_ns(), NSEC_PER_MSEC) +
		  READ_ONCE(tp->tsoffset);

	return XTCP_KERNEL_AT_LEAST(6, 7) ? val & ~1U : val;
}

/*
 * TCP_AO_REPAIR (6.7).  Before, a name no option has stands in its
 * case label, and xtcp_ao_repair() answers it as stock's default does.
 */
#ifdef TCP_AO_REPAIR
#define XTCP_TCP_AO_REPAIR		TCP_AO_REPAIR
#define XTCP_HAS_TCP_AO_REPAIR		1
#else
#define XTCP_TCP_AO_REPAIR		INT_MIN
#define XTCP_HAS_TCP_AO_REPAIR		0
#endif

/* TCP_IS_MPTCP at SOL_TCP: 0 for plain TCP in 6.12, unknown to 6.1's. */
#define XTCP_TCP_IS_MPTCP		XTCP_KERNEL_AT_LEAST(6, 8)

/*
 * A Fast Open child's request gets its refcount before the child is
 * visible (tcp_fastopen_create_child()): 6.12 with release ordering
 * (refcount_set_release(), new there), 6.1 plainly.
 */
#if XTCP_KERNEL_AT_LEAST(6, 12)
#define xtcp_compat_refcount_set_release(r, n)	refcount_set_release(r, n)
#else
#define xtcp_compat_refcount_set_release(r, n)	refcount_set(r, n)
#endif

/*
 * tcp_rcv_synrecv_state_fastopen(), the ACK of a Fast Open child's
 * SYN-ACK: 6.1 zeroes retrans_stamp; 6.12 keeps it while a
 * retransmission is still out (tcp_retrans_stamp_cleanup()), so that
 * recovery the ACK started keeps its start for undo and timeouts.
 */
#define XTCP_TFO_SYNRECV_STAMP_CLEANUP	XTCP_KERNEL_AT_LEAST(6, 12)

/*
 * ip_icmp_error(): the ICMP error, a clone of its skb, on the socket's
 * error queue for recvmsg(MSG_ERRQUEUE), as tcp_v4_err() queues it for a
 * handshaking child.  Exported (GPL) by 6.12; 6.1 keeps it to itself,
 * so xtcp carries the same steps on the exported pieces.
 */
#if XTCP_KERNEL_AT_LEAST(6, 12)
#define xtcp_ip_icmp_error	ip_icmp_error
#else
static inline void xtcp_ip_icmp_error(struct sock *sk, struct sk_buff *skb,
				      int err, __be16 port, u32 info,
				      u8 *payload)
{
	struct sock_exterr_skb *serr;
	const struct icmphdr *icmph;

	skb = skb_clone(skb, GFP_ATOMIC);
	if (!skb)
		return;
	icmph = icmp_hdr(skb);
	serr = SKB_EXT_ERR(skb);
	serr->ee.ee_errno = err;
	serr->ee.ee_origin = SO_EE_ORIGIN_ICMP;
	serr->ee.ee_type = icmph->type;
	serr->ee.ee_code = icmph->code;
	serr->ee.ee_pad = 0;
	serr->ee.ee_info = info;
	serr->ee.ee_data = 0;
	/* The offender: the quoted IP header's destination. */
	serr->addr_offset = (u8 *)&((struct iphdr *)(icmph + 1))->daddr -
			    skb_network_header(skb);
	serr->port = port;
	if (!skb_pull(skb, payload - skb->data))
		goto drop;
	/* RFC 4884 extensions, for the types that may carry them. */
	if (inet_sk(sk)->recverr_rfc4884 &&
	    (icmph->type == ICMP_DEST_UNREACH ||
	     icmph->type == ICMP_TIME_EXCEEDED ||
	     icmph->type == ICMP_PARAMETERPROB))
		ip_icmp_error_rfc4884(skb, &serr->ee.ee_rfc4884,
				      sizeof(struct icmphdr),
				      icmph->un.reserved[1] * 4);
	skb_reset_transport_header(skb);
	if (!sock_queue_err_skb(sk, skb))
		return;
drop:
	kfree_skb(skb);
}
#endif

#endif /* _XTCP_COMPAT_H */
