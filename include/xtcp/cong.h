/* SPDX-License-Identifier: GPL-2.0 */
/*
 * xtcp/cong.h: xtcp's congestion-control registry, for algorithms in
 * other modules.
 *
 * An xtcp connection is a struct tcp_sock to its algorithm, as a stock
 * connection is to a tcp_congestion_ops: the hooks read and write the
 * same fields (snd_cwnd, snd_ssthresh, delivered, ...), keep their
 * state in inet_csk_ca(sk) (ICSK_CA_PRIV_SIZE bytes) and may use
 * include/net/tcp.h's inline helpers that only read those fields
 * (tcp_snd_cwnd(), tcp_in_slow_start(), tcp_packets_in_flight()).  They
 * must not call stock TCP's exported functions (tcp_reno_cong_avoid(),
 * tcp_slow_start(), __tcp_send_ack(), ...) on an xtcp socket: the xtcp_
 * functions below are their counterparts.
 *
 * Installed by "make install" under /usr/src/xtcp/include, with the
 * Module.symvers of each kernel's build under /usr/src/xtcp/<release>/;
 * Documentation/cong-example.rst builds an algorithm against them.  A
 * module named xtcp_<name> is loaded on demand when TCP_CONGESTION or
 * net.xtcp.congestion_control names <name> (request_module(), as stock
 * loads tcp_<name>).
 */
#ifndef _XTCP_CONG_H
#define _XTCP_CONG_H

#include <linux/types.h>
#include <linux/list.h>
#include <net/tcp.h>

/**
 * struct xtcp_cong_ops - a congestion-control algorithm (tcp_congestion_ops)
 * @ssthresh:      required: the slow-start threshold after a loss,
 *                 segments
 * @cong_avoid:    grow cwnd for @acked newly delivered segments; required
 *                 unless @cong_control is given
 * @set_state:     optional: the TCP_CA_* state is about to change
 * @cwnd_event:    optional: CA_EVENT_TX_START, CA_EVENT_CWND_RESTART,
 *                 CA_EVENT_COMPLETE_CWR, CA_EVENT_LOSS
 * @in_ack_event:  optional: an ACK arrived; CA_ACK_WIN_UPDATE,
 *                 CA_ACK_SLOWPATH, CA_ACK_ECE
 * @pkts_acked:    optional: packets acknowledged, with the ACK's RTT (us)
 * @min_tso_segs:  optional: overrides net.ipv4.tcp_min_tso_segs
 * @cong_control:  optional: sets cwnd and pacing itself at the end of each
 *                 ACK, instead of PRR and @cong_avoid (as 6.12's)
 * @undo_cwnd:     required: cwnd when a reduction is undone
 * @sndbuf_expand: optional: the multiple of cwnd the send buffer holds
 * @get_info:      optional: TCP_CC_INFO / inet_diag's INET_DIAG_*INFO
 * @name:          unique name
 * @owner:         module pinned by each connection using the algorithm
 * @list:          link in xtcp's registry
 * @flags:         TCP_CONG_NON_RESTRICTED if any user may choose it with
 *                 TCP_CONGESTION; without it, CAP_NET_ADMIN is needed
 * @init:          optional: set up inet_csk_ca(sk) at ESTABLISHED
 * @release:       optional: tear it down
 *
 * The members, their order and their signatures are stock's (6.12's
 * cong_control), so that an algorithm of net/ipv4/tcp_*.c is ported by
 * renaming.  Every hook runs with the socket locked, in softirq (an ACK
 * or a timer) or process context (sendmsg(), setsockopt()).
 */
struct xtcp_cong_ops {
	u32			(*ssthresh)(struct sock *sk);
	void			(*cong_avoid)(struct sock *sk, u32 ack,
					      u32 acked);
	void			(*set_state)(struct sock *sk, u8 new_state);
	void			(*cwnd_event)(struct sock *sk,
					      enum tcp_ca_event ev);
	void			(*in_ack_event)(struct sock *sk, u32 flags);
	void			(*pkts_acked)(struct sock *sk,
					      const struct ack_sample *sample);
	u32			(*min_tso_segs)(struct sock *sk);
	void			(*cong_control)(struct sock *sk, u32 ack,
						int flag,
						const struct rate_sample *rs);
	u32			(*undo_cwnd)(struct sock *sk);
	u32			(*sndbuf_expand)(struct sock *sk);
	size_t			(*get_info)(struct sock *sk, u32 ext,
					    int *attr,
					    union tcp_cc_info *info);
	char			name[TCP_CA_NAME_MAX];
	struct module		*owner;
	struct list_head	list;
	u32			flags;
	void			(*init)(struct sock *sk);
	void			(*release)(struct sock *sk);
};

int xtcp_register_congestion_control(struct xtcp_cong_ops *ca);
u32 xtcp_slow_start(struct tcp_sock *tp, u32 acked);
void xtcp_cong_avoid_ai(struct tcp_sock *tp, u32 w, u32 acked);
void xtcp_unregister_congestion_control(struct xtcp_cong_ops *ca);
u32 xtcp_reno_ssthresh(struct sock *sk);
void xtcp_reno_cong_avoid(struct sock *sk, u32 ack, u32 acked);
u32 xtcp_reno_undo_cwnd(struct sock *sk);
void __xtcp_send_ack(struct sock *sk, u32 rcv_nxt);
const struct xtcp_cong_ops *xtcp_ca_ops(const struct sock *sk);
void xtcp_ca_replace(struct sock *sk, const struct xtcp_cong_ops *ca);

/*
 * tcp_is_cwnd_limited(): did the sender use the window it has?  In slow
 * start, half of it is enough to let it double (RFC 2861 in spirit).
 * Congestion-control modules ask this before growing cwnd.
 */
static inline bool xtcp_is_cwnd_limited(const struct sock *sk)
{
	const struct tcp_sock *tp = tcp_sk(sk);

	if (tp->is_cwnd_limited)
		return true;
	if (tp->snd_cwnd < tp->snd_ssthresh)
		return tp->snd_cwnd < 2 * tp->max_packets_out;
	return false;
}

#endif /* _XTCP_CONG_H */
