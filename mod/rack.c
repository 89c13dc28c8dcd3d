// SPDX-License-Identifier: GPL-2.0
/*
 * xtcp: RACK loss detection (RFC 8985) and NewReno (RFC 6582).
 *
 * Mirrors net/ipv4/tcp_recovery.c.  RACK takes a segment for lost when a
 * segment sent after it was delivered more than an RTT plus a
 * reordering window ago: time, not duplicate-ACK counts, so that a lost
 * retransmission or a lost tail is detected as well as a lost head.
 * The reordering window is min_rtt / 4 (0 before any reordering was
 * seen, while recovering or once the duplicate-ACK threshold is met),
 * and grows in min_rtt / 4 steps after D-SACKs say recovery was
 * spurious, up to SRTT.
 *
 * A peer without SACK gets NewReno: the head segment is lost after
 * tp->reordering duplicate ACKs, and again after each partial ACK.
 *
 * Context: socket locked: the ACK path, or the REO_TIMEOUT timer.
 */
#include <net/tcp.h>

#include "xtcp.h"

/* tcp_rack_reo_wnd(): how long to wait for a reordered segment, us. */
static u32 xtcp_rack_reo_wnd(const struct sock *sk)
{
	const struct tcp_sock *tp = tcp_sk(sk);

	if (!tp->reord_seen) {
		/*
		 * No reordering seen yet: be aggressive in recovery, and
		 * once the duplicate-ACK threshold is met.
		 */
		if (inet_csk(sk)->icsk_ca_state >= TCP_CA_Recovery)
			return 0;
		if (tp->sacked_out >= tp->reordering &&
		    !(READ_ONCE(xtcp_pernet(sock_net(sk))->sysctl.recovery) &
		      TCP_RACK_NO_DUPTHRESH))
			return 0;
	}
	/* Reordering is a path property: min_rtt, not SRTT, scales it. */
	return min((tcp_min_rtt(tp) >> 2) * tp->rack.reo_wnd_steps,
		   tp->srtt_us >> 3);
}

/**
 * xtcp_rack_skb_timeout - time left before @skb counts as lost
 * @tp:      the connection
 * @skb:     an skb of the retransmit queue
 * @reo_wnd: the reordering window, us
 *
 * tcp_rack_skb_timeout().
 *
 * Return: us; <= 0 if it is lost already.
 */
s32 xtcp_rack_skb_timeout(struct tcp_sock *tp, struct sk_buff *skb,
			  u32 reo_wnd)
{
	return tp->rack.rtt_us + reo_wnd -
	       tcp_stamp_us_delta(tp->tcp_mstamp, tcp_skb_timestamp_us(skb));
}

/*
 * tcp_rack_detect_loss(): walk the skbs in send order up to the newest
 * delivered one; each whose time is up is lost.  *@reo_timeout is the
 * longest wait left among the others, us (0: none waits).
 */
static void xtcp_rack_detect_loss(struct sock *sk, u32 *reo_timeout)
{
	struct tcp_sock *tp = tcp_sk(sk);
	struct sk_buff *skb, *n;
	u32 reo_wnd;

	*reo_timeout = 0;
	reo_wnd = xtcp_rack_reo_wnd(sk);
	list_for_each_entry_safe(skb, n, &tp->tsorted_sent_queue,
				 tcp_tsorted_anchor) {
		struct tcp_skb_cb *scb = TCP_SKB_CB(skb);
		s32 remaining;

		/* Lost and not yet re-sent: nothing new to learn. */
		if ((scb->sacked & TCPCB_LOST) &&
		    !(scb->sacked & TCPCB_SACKED_RETRANS))
			continue;
		if (!tcp_skb_sent_after(tp->rack.mstamp,
					tcp_skb_timestamp_us(skb),
					tp->rack.end_seq, scb->end_seq))
			break;
		remaining = xtcp_rack_skb_timeout(tp, skb, reo_wnd);
		if (remaining <= 0) {
			xtcp_mark_skb_lost(sk, skb);
			list_del_init(&skb->tcp_tsorted_anchor);
		} else {
			*reo_timeout = max_t(u32, *reo_timeout, remaining);
		}
	}
}

/**
 * xtcp_rack_mark_lost - RACK's step on an ACK (tcp_rack_mark_lost())
 * @sk: the connection, locked
 *
 * Only if the ACK delivered something newer (rack.advanced).  Segments
 * that may still be merely reordered arm the REO_TIMEOUT timer for the
 * longest of their waits.
 *
 * Return: true if that timer was armed (the caller must not restart
 * the RTO over it).
 */
bool xtcp_rack_mark_lost(struct sock *sk)
{
	struct tcp_sock *tp = tcp_sk(sk);
	u32 timeout;

	if (!tp->rack.advanced)
		return false;
	tp->rack.advanced = 0;
	xtcp_rack_detect_loss(sk, &timeout);
	if (timeout) {
		timeout = usecs_to_jiffies(timeout + TCP_TIMEOUT_MIN_US);
		inet_csk_reset_xmit_timer(sk, ICSK_TIME_REO_TIMEOUT, timeout,
					  inet_csk(sk)->icsk_rto);
	}
	return !!timeout;
}

/**
 * xtcp_rack_advance - a segment was delivered (tcp_rack_advance())
 * @tp:        the connection
 * @sacked:    its tag bits
 * @end_seq:   its end
 * @xmit_time: when it was last sent, us
 *
 * RFC 8985 6.2 step 2: RACK's clock moves to the most recently sent
 * delivered segment, and its RTT is that segment's.  A re-sent segment
 * delivered sooner than min_rtt after its retransmission was the
 * original arriving late: ambiguous, not taken.
 */
void xtcp_rack_advance(struct tcp_sock *tp, u8 sacked, u32 end_seq,
		       u64 xmit_time)
{
	u32 rtt_us;

	rtt_us = tcp_stamp_us_delta(tp->tcp_mstamp, xmit_time);
	if (rtt_us < tcp_min_rtt(tp) && (sacked & TCPCB_RETRANS))
		return;
	tp->rack.advanced = 1;
	tp->rack.rtt_us = rtt_us;
	if (tcp_skb_sent_after(xmit_time, tp->rack.mstamp, end_seq,
			       tp->rack.end_seq)) {
		tp->rack.mstamp = xmit_time;
		tp->rack.end_seq = end_seq;
	}
}

/**
 * xtcp_rack_reo_timeout - the reordering wait is over (tcp_rack_reo_timeout())
 * @sk: the connection, locked, not owned (the write timer)
 *
 * What is still undelivered is lost: enter recovery if that is new,
 * re-send, and go back to the RTO (or loss probe) timer.
 */
void xtcp_rack_reo_timeout(struct sock *sk)
{
	struct tcp_sock *tp = tcp_sk(sk);
	u32 timeout, prior_inflight;
	u32 lost = tp->lost;

	prior_inflight = tcp_packets_in_flight(tp);
	xtcp_rack_detect_loss(sk, &timeout);
	if (prior_inflight != tcp_packets_in_flight(tp)) {
		if (inet_csk(sk)->icsk_ca_state != TCP_CA_Recovery) {
			xtcp_enter_recovery(sk, false);
			if (!xtcp_ca_cong_control(sk))
				xtcp_cwnd_reduction(sk, 1, tp->lost - lost, 0);
		}
		xtcp_xmit_retransmit_queue(sk);
	}
	if (inet_csk(sk)->icsk_pending != ICSK_TIME_RETRANS)
		xtcp_rearm_rto(sk);
}

/**
 * xtcp_rack_update_reo_wnd - adapt the reordering window (tcp_rack_update_reo_wnd())
 * @sk: the connection, locked
 * @rs: this ACK's rate sample
 *
 * A D-SACK after reordering widens the window one min_rtt / 4 step, at
 * most once per RTT (rack.last_delivered), and the width persists for
 * 16 recoveries (TCP_RACK_RECOVERY_THRESH); then it falls back to one
 * step.  net.xtcp.recovery bit TCP_RACK_STATIC_REO_WND keeps it fixed.
 */
void xtcp_rack_update_reo_wnd(struct sock *sk, struct rate_sample *rs)
{
	struct tcp_sock *tp = tcp_sk(sk);

	if ((READ_ONCE(xtcp_pernet(sock_net(sk))->sysctl.recovery) &
	     TCP_RACK_STATIC_REO_WND) || !rs->prior_delivered)
		return;
	/* Not a whole RTT since the last change: that D-SACK is old news. */
	if (before(rs->prior_delivered, tp->rack.last_delivered))
		tp->rack.dsack_seen = 0;
	if (tp->rack.dsack_seen) {
		tp->rack.reo_wnd_steps = min_t(u32, 0xFF,
					       tp->rack.reo_wnd_steps + 1);
		tp->rack.dsack_seen = 0;
		tp->rack.last_delivered = tp->delivered;
		tp->rack.reo_wnd_persist = TCP_RACK_RECOVERY_THRESH;
	} else if (!tp->rack.reo_wnd_persist) {
		tp->rack.reo_wnd_steps = 1;
	}
}

/**
 * xtcp_newreno_mark_lost - NewReno's loss guess (tcp_newreno_mark_lost())
 * @sk:               the connection, locked; its peer does not SACK
 * @snd_una_advanced: this ACK moved SND.UNA
 *
 * RFC 6582: the head segment is lost after the duplicate-ACK threshold
 * (tp->reordering), and during recovery after each partial ACK.  Only
 * its first MSS: a GSO skb is split.
 */
void xtcp_newreno_mark_lost(struct sock *sk, bool snd_una_advanced)
{
	const u8 state = inet_csk(sk)->icsk_ca_state;
	struct tcp_sock *tp = tcp_sk(sk);
	struct sk_buff *skb;
	u32 mss;

	if (!((state < TCP_CA_Recovery && tp->sacked_out >= tp->reordering) ||
	      (state == TCP_CA_Recovery && snd_una_advanced)))
		return;
	skb = tcp_rtx_queue_head(sk);
	if (TCP_SKB_CB(skb)->sacked & TCPCB_LOST)
		return;
	mss = tcp_skb_mss(skb);
	if (tcp_skb_pcount(skb) > 1 && skb->len > mss)
		xtcp_fragment(sk, TCP_FRAG_IN_RTX_QUEUE, skb, mss, mss,
			      GFP_ATOMIC);
	xtcp_mark_skb_lost(sk, skb);
}
