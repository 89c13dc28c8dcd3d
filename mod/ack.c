// SPDX-License-Identifier: GPL-2.0
/*
 * xtcp: what an ACK does for the sender.
 *
 * Mirrors the sender's half of tcp_ack() (net/ipv4/tcp_input.c):
 * tcp_clean_rtx_queue() frees what the peer has, tcp_ack_update_rtt()
 * takes an RTT sample (RFC 6298 with Karn's rule, RFC 7323 RTTM) into
 * tcp_rtt_estimator() and tcp_set_rto(), the congestion window grows
 * (tcp_cong_control(), PRR in a reduction), and the writer gets room
 * (tcp_cong_control(), PRR in a reduction), and the writer gets room
 * back (tcp_check_space()).
 *
 * The SACK scoreboard is sack.c's, the congestion state machine (fast
 * retransmit, PRR, undo, F-RTO) recovery.c's, RACK rack.c's; tcp_ack()
 * here calls them in stock's order, so that every counter moves at the
 * same point of an ACK as in stock.
 *
 * Context: every function here runs with the socket locked, from the
 * receive path (softirq, or the owner draining its backlog) or from a
 * timer that found the socket not owned.
 */
#include <linux/win_minmax.h>
#include <net/tcp.h>

#include "xtcp.h"

/**
 * xtcp_rtt_estimator - fold one RTT sample into SRTT and RTTVAR
 * @sk:      the connection, locked
 * @mrtt_us: the sample, microseconds, > 0
 *
 * tcp_rtt_estimator(): Jacobson's estimator (RFC 6298 section 2), with
 * Linux's changes: the variance falls slowly when the RTT falls, and
 * RTTVAR is the largest deviation seen in the last RTT, never below
 * the minimum RTO, so that RTO = SRTT + RTTVAR >= SRTT + rto_min.
 * srtt_us is scaled by 8, mdev_us and rttvar_us by 4.
 */
static XTCP_SEED void xtcp_rtt_estimator(struct sock *sk, long mrtt_us)
{
	struct tcp_sock *tp = tcp_sk(sk);
	long m = mrtt_us;
	u32 srtt = tp->srtt_us;

	if (srtt != 0) {
		m -= (srtt >> 3);	/* the error of the estimate */
		srtt += m;		/* SRTT = 7/8 SRTT + 1/8 sample */
		if (m < 0) {
			m = -m;
			m -= (tp->mdev_us >> 2);
			/* A falling RTT moves mdev by 1/32 only (Eifel). */
			if (m > 0)
				m >>= 3;
		} else {
			m -= (tp->mdev_us >> 2);
		}
		tp->mdev_us += m;	/* mdev = 3/4 mdev + 1/4 |error| */
		if (tp->mdev_us > tp->mdev_max_us) {
			tp->mdev_max_us = tp->mdev_us;
			if (tp->mdev_max_us > tp->rttvar_us)
				tp->rttvar_us = tp->mdev_max_us;
		}
		/* Once per RTT, let RTTVAR decay toward this RTT's maximum. */
		if (after(tp->snd_una, tp->rtt_seq)) {
			if (tp->mdev_max_us < tp->rttvar_us)
				tp->rttvar_us -= (tp->rttvar_us -
						  tp->mdev_max_us) >> 2;
			tp->rtt_seq = tp->snd_nxt;
			tp->mdev_max_us = tcp_rto_min_us(sk);
		}
	} else {
		/* The first sample: SRTT = R, RTTVAR = R / 2, RTO = 3 R. */
		srtt = m << 3;
		tp->mdev_us = m << 1;
		tp->rttvar_us = max(tp->mdev_us, tcp_rto_min_us(sk));
		tp->mdev_max_us = tp->rttvar_us;
		tp->rtt_seq = tp->snd_nxt;
	}
	tp->srtt_us = max(1U, srtt);
}

/*
 * tcp_set_rto() and tcp_bound_rto(): RTO = SRTT + RTTVAR (RTTVAR holds
 * 4 * the deviation already), at most TCP_RTO_MAX, jiffies.
 */
static XTCP_SEED void xtcp_set_rto(struct sock *sk)
{
	inet_csk(sk)->icsk_rto = min_t(u32, __xtcp_set_rto(tcp_sk(sk)),
				       TCP_RTO_MAX);
}

/*
 * tcp_update_rtt_min(): the windowed minimum RTT (net.ipv4.
 * tcp_min_rtt_wlen seconds), which TSO sizing reads.  A sample that
 * may include a delayed ACK is not let in.
 */
static XTCP_SEED void xtcp_update_rtt_min(struct sock *sk, u32 rtt_us, int flag)
{
	u32 wlen = READ_ONCE(sock_net(sk)->ipv4.sysctl_tcp_min_rtt_wlen) * HZ;
	struct tcp_sock *tp = tcp_sk(sk);

	if ((flag & XTCP_FLAG_ACK_MAYBE_DELAYED) &&
	    rtt_us > minmax_get(&tp->rtt_min))
		return;
	xtcp_minmax_running_min(&tp->rtt_min, wlen, tcp_jiffies32,
				rtt_us ? : jiffies_to_usecs(1));
}

/*
 * tcp_rtt_tsopt_us(): the age of the echoed timestamp, microseconds,
 * at least @min_delta ms; -1 if implausible.
 */
static long xtcp_rtt_tsopt_us(const struct tcp_sock *tp, u32 min_delta)
{
	u32 delta = (u32)div_u64(tp->tcp_mstamp, USEC_PER_MSEC) -
		    tp->rx_opt.rcv_tsecr;

	if (likely(delta < INT_MAX / USEC_PER_MSEC)) {
		if (!delta)
			delta = min_delta;
		return (long)delta * USEC_PER_MSEC;
	}
	return -1;
}

/**
 * xtcp_ack_update_rtt - take an RTT sample, if there is a valid one
 * @sk:          the connection, locked
 * @flag:        XTCP_FLAG_* of this ACK
 * @seq_rtt_us:  RTT of the oldest newly acknowledged segment, or -1
 * @sack_rtt_us: RTT of the oldest newly SACKed one, or -1
 * @ca_rtt_us:   RTT of the newest one, or -1 (for the min-RTT filter)
 * @rs:          the ACK's rate sample; its rtt_us is set
 *
 * tcp_ack_update_rtt(): the ACK's own timing is preferred, a SACK's
 * next; Karn's rule (RFC 6298 section 3) leaves -1 when retransmitted
 * data was acked, and then the timestamp echo gives the sample (RTTM,
 * RFC 7323 section 4), but only for an ACK that advances SND.UNA.  A
 * valid sample resets the backoff (RFC 6298 5.7).
 *
 * Return: true if a sample was taken.
 */
XTCP_SEED bool xtcp_ack_update_rtt(struct sock *sk, int flag, long seq_rtt_us,
				   long sack_rtt_us, long ca_rtt_us,
				   struct rate_sample *rs)
{
	const struct tcp_sock *tp = tcp_sk(sk);

	if (seq_rtt_us < 0)
		seq_rtt_us = sack_rtt_us;
	if (seq_rtt_us < 0 && tp->rx_opt.saw_tstamp &&
	    tp->rx_opt.rcv_tsecr && (flag & XTCP_FLAG_ACKED)) {
		seq_rtt_us = xtcp_rtt_tsopt_us(tp, 1);
		ca_rtt_us = seq_rtt_us;
	}
	rs->rtt_us = ca_rtt_us;
	if (seq_rtt_us < 0)
		return false;
	xtcp_update_rtt_min(sk, ca_rtt_us, flag);
	xtcp_rtt_estimator(sk, seq_rtt_us);
	xtcp_set_rto(sk);
	inet_csk(sk)->icsk_backoff = 0;
	return true;
}

/**
 * xtcp_rearm_rto - restart the retransmission timer (tcp_rearm_rto())
 * @sk: the connection, locked
 *
 * RFC 6298 5.3: when an ACK acknowledges new data, restart the timer
 * with the current RTO; with nothing in flight, stop it.  If the timer
 * was running as a loss probe or a reordering wait, the RTO counts from
 * the head's last transmission instead, so that those do not delay it.
 */
void xtcp_rearm_rto(struct sock *sk)
{
	const struct inet_connection_sock *icsk = inet_csk(sk);
	u32 rto = icsk->icsk_rto;

	/* A Fast Open child's timer is its SYN-ACK's until the third ACK. */
	if (rcu_access_pointer(tcp_sk(sk)->fastopen_rsk))
		return;
	if (!tcp_sk(sk)->packets_out) {
		inet_csk_clear_xmit_timer(sk, ICSK_TIME_RETRANS);
		return;
	}
	if (icsk->icsk_pending == ICSK_TIME_REO_TIMEOUT ||
	    icsk->icsk_pending == ICSK_TIME_LOSS_PROBE) {
		s64 delta_us = tcp_rto_delta_us(sk);

		/* Not positive if the timer fired while the socket was owned. */
		rto = usecs_to_jiffies(max_t(int, delta_us, 1));
	}
	inet_csk_reset_xmit_timer(sk, ICSK_TIME_RETRANS, rto, TCP_RTO_MAX);
}

/**
 * xtcp_set_xmit_timer - a loss probe if one may go, else the RTO (tcp_set_xmit_timer())
 * @sk: the connection, locked
 */
void xtcp_set_xmit_timer(struct sock *sk)
{
	if (!xtcp_schedule_loss_probe(sk, true))
		xtcp_rearm_rto(sk);
}

/*
 * tcp_tso_acked(): the peer acknowledged the front of a multi-segment
 * skb; cut that part off.  Returns the segments it held.
 */
static u32 xtcp_tso_acked(struct sock *sk, struct sk_buff *skb)
{
	struct tcp_sock *tp = tcp_sk(sk);
	u32 packets_acked = tcp_skb_pcount(skb);

	if (xtcp_trim_head(sk, skb, tp->snd_una - TCP_SKB_CB(skb)->seq))
		return 0;
	return packets_acked - tcp_skb_pcount(skb);
}

/* The RTT samples xtcp_clean_rtx_queue() collects on its walk. */
struct xtcp_acked {
	u64	first_ackt;	/* oldest newly acked never re-sent, us */
	u64	last_ackt;	/* newest one */
	u32	reord;		/* lowest such sequence */
	u32	pkts_acked;
};

/*
 * One skb of the walk, all of it or (@fully_acked false) its front:
 * its counters leave the scoreboard.  Returns XTCP_FLAG_* for it.
 */
static int xtcp_skb_acked(struct sock *sk, struct sk_buff *skb,
			  u32 acked_pcount, bool ece_ack,
			  struct xtcp_sacktag_state *sack,
			  struct xtcp_acked *a)
{
	struct tcp_sock *tp = tcp_sk(sk);
	struct tcp_skb_cb *scb = TCP_SKB_CB(skb);
	u8 sacked = scb->sacked;
	int flag = 0;

	if (unlikely(sacked & TCPCB_RETRANS)) {
		if (sacked & TCPCB_SACKED_RETRANS)
			tp->retrans_out -= acked_pcount;
		flag |= XTCP_FLAG_RETRANS_DATA_ACKED;
	} else if (!(sacked & TCPCB_SACKED_ACKED)) {
		a->last_ackt = tcp_skb_timestamp_us(skb);
		if (!a->first_ackt)
			a->first_ackt = a->last_ackt;
		if (before(scb->seq, a->reord))
			a->reord = scb->seq;
		if (!after(scb->end_seq, tp->high_seq))
			flag |= XTCP_FLAG_ORIG_SACK_ACKED;
	}
	if (sacked & TCPCB_SACKED_ACKED) {
		tp->sacked_out -= acked_pcount;
	} else if (tcp_is_sack(tp)) {
		xtcp_count_delivered(tp, acked_pcount, ece_ack);
		if (!xtcp_skb_spurious_retrans(tp, skb))
			xtcp_rack_advance(tp, sacked, scb->end_seq,
					  tcp_skb_timestamp_us(skb));
	}
	if (sacked & TCPCB_LOST)
		tp->lost_out -= acked_pcount;
	tp->packets_out -= acked_pcount;
	a->pkts_acked += acked_pcount;
	xtcp_rate_skb_delivered(sk, skb, sack->rate);
	return flag | XTCP_FLAG_DATA_ACKED;
}

/*
 * The algorithm's pkts_acked hook: packets acknowledged, the ACK's RTT
 * (us, -1 if none) and the bytes in flight when the newest was sent.
 */
static void xtcp_pkts_acked(struct sock *sk, u32 pkts_acked,
			    const struct rate_sample *rs)
{
	const struct xtcp_cong_ops *ca = xtcp_sk(sk)->ca_ops;
	struct ack_sample sample = { .pkts_acked = pkts_acked,
				     .rtt_us = rs->rtt_us };

	if (!ca || !ca->pkts_acked)
		return;
	sample.in_flight = tcp_sk(sk)->mss_cache *
			   (tcp_sk(sk)->delivered - rs->prior_delivered);
	ca->pkts_acked(sk, &sample);
}

/*
 * tcp_clean_rtx_queue(): free every skb the ACK covers, count what was
 * delivered, take the RTT from the oldest one never retransmitted (or
 * SACKed), and find reordering: a hole filled by its original.
 */
static int xtcp_clean_rtx_queue(struct sock *sk, u32 prior_fack,
				u32 prior_snd_una,
				struct xtcp_sacktag_state *sack, bool ece_ack)
{
	struct tcp_sock *tp = tcp_sk(sk);
	struct xtcp_acked a = { .reord = tp->snd_nxt };
	long seq_rtt_us = -1L, sack_rtt_us = -1L, ca_rtt_us = -1L;
	u32 prior_sacked = tp->sacked_out;
	struct sk_buff *skb, *next;
	bool fully_acked = true;
	bool rtt_update;
	int flag = 0;

	for (skb = skb_rb_first(&sk->tcp_rtx_queue); skb; skb = next) {
		struct tcp_skb_cb *scb = TCP_SKB_CB(skb);
		u32 acked_pcount;

		if (after(scb->end_seq, tp->snd_una)) {
			if (tcp_skb_pcount(skb) == 1 ||
			    !after(tp->snd_una, scb->seq))
				break;
			acked_pcount = xtcp_tso_acked(sk, skb);
			if (!acked_pcount)
				break;
			fully_acked = false;
		} else {
			acked_pcount = tcp_skb_pcount(skb);
		}
		flag |= xtcp_skb_acked(sk, skb, acked_pcount, ece_ack, sack,
				       &a);
		if (!fully_acked)
			break;

		next = skb_rb_next(skb);
		if (unlikely(skb == tp->retransmit_skb_hint))
			tp->retransmit_skb_hint = NULL;
		if (unlikely(skb == tp->lost_skb_hint))
			tp->lost_skb_hint = NULL;
		tcp_highest_sack_replace(sk, skb, next);
		tcp_rtx_queue_unlink_and_free(skb, sk);
	}

	if (likely(between(tp->snd_up, prior_snd_una, tp->snd_una)))
		tp->snd_up = tp->snd_una;
	/* SND.UNA stopped at data the peer had SACKed. */
	if (skb && (TCP_SKB_CB(skb)->sacked & TCPCB_SACKED_ACKED))
		flag |= XTCP_FLAG_SACK_RENEGING;

	if (likely(a.first_ackt) && !(flag & XTCP_FLAG_RETRANS_DATA_ACKED)) {
		seq_rtt_us = tcp_stamp_us_delta(tp->tcp_mstamp, a.first_ackt);
		ca_rtt_us = tcp_stamp_us_delta(tp->tcp_mstamp, a.last_ackt);
		/* A lone runt segment's ACK was likely delayed. */
		if (a.pkts_acked == 1 && fully_acked && !prior_sacked &&
		    tp->snd_una - prior_snd_una < tp->mss_cache &&
		    sack->rate->prior_delivered + 1 == tp->delivered &&
		    !(flag & (XTCP_FLAG_CA_ALERT | XTCP_FLAG_SYN_ACKED)))
			flag |= XTCP_FLAG_ACK_MAYBE_DELAYED;
	}
	if (sack->first_sackt) {
		sack_rtt_us = tcp_stamp_us_delta(tp->tcp_mstamp,
						 sack->first_sackt);
		ca_rtt_us = tcp_stamp_us_delta(tp->tcp_mstamp,
					       sack->last_sackt);
	}
	rtt_update = xtcp_ack_update_rtt(sk, flag, seq_rtt_us, sack_rtt_us,
					 ca_rtt_us, sack->rate);

	if (flag & XTCP_FLAG_ACKED) {
		flag |= XTCP_FLAG_SET_XMIT_TIMER;
		if (tcp_is_reno(tp)) {
			xtcp_remove_reno_sacks(sk, a.pkts_acked, ece_ack);
			/* Without SACK bits nothing proves an original arrived. */
			if (flag & XTCP_FLAG_RETRANS_DATA_ACKED)
				flag &= ~XTCP_FLAG_ORIG_SACK_ACKED;
		} else {
			int delta;

			if (before(a.reord, prior_fack))
				xtcp_check_sack_reordering(sk, a.reord, 0);
			delta = prior_sacked - tp->sacked_out;
			tp->lost_cnt_hint -= min(tp->lost_cnt_hint, delta);
		}
	} else if (skb && rtt_update && sack_rtt_us >= 0 &&
		   sack_rtt_us > tcp_stamp_us_delta(tp->tcp_mstamp,
						    tcp_skb_timestamp_us(skb))) {
		/*
		 * The SACK sample is of data sent before the head was last
		 * (re)sent: restart the timer, or it would keep stretching.
		 */
		flag |= XTCP_FLAG_SET_XMIT_TIMER;
	}
	xtcp_pkts_acked(sk, a.pkts_acked, sack->rate);
	return flag;
}

/*
 * tcp_may_raise_cwnd(): grow cwnd on in-order delivery (RFC 5681); on
 * any delivery once reordering is known to be above the default.
 */
static bool xtcp_may_raise_cwnd(const struct sock *sk, int flag)
{
	if (tcp_sk(sk)->reordering >
	    READ_ONCE(xtcp_pernet(sock_net(sk))->sysctl.reordering))
		return flag & XTCP_FLAG_FORWARD_PROGRESS;
	return flag & XTCP_FLAG_DATA_ACKED;
}

/*
 * tcp_cong_control(): an algorithm with cong_control sets cwnd and the
 * pacing rate itself.  Otherwise in CWR or Recovery PRR sets cwnd, or
 * the algorithm grows it by what was delivered; then the pacing rate
 * follows.
 */
static void xtcp_cong_control(struct sock *sk, u32 ack, u32 acked_sacked,
			      int flag, const struct rate_sample *rs)
{
	const struct xtcp_cong_ops *ca = xtcp_sk(sk)->ca_ops;

	if (ca && ca->cong_control) {
		ca->cong_control(sk, ack, flag, rs);
		return;
	}
	if (tcp_in_cwnd_reduction(sk)) {
		xtcp_cwnd_reduction(sk, acked_sacked, rs->losses, flag);
	} else if (ca && xtcp_may_raise_cwnd(sk, flag)) {
		ca->cong_avoid(sk, ack, acked_sacked);
		tcp_sk(sk)->snd_cwnd_stamp = tcp_jiffies32;
	}
	xtcp_update_pacing_rate(sk);
}

/**
 * xtcp_update_pacing_rate - the rate fq would pace at (tcp_update_pacing_rate())
 * @sk: the connection, locked
 *
 * 200 % of cwnd * mss / srtt in slow start (below half of ssthresh),
 * 120 % after (net.ipv4.tcp_pacing_ss_ratio / _ca_ratio), bytes per
 * second, capped by SO_MAX_PACING_RATE.  It sizes xtcp's GSO packets
 * (xtcp_tso_segs()).  xtcp does not pace yet: its skbs leave with a
 * departure time of "now" (tcp_wstamp_ns is never advanced by the rate,
 * as tcp_update_skb_after_send() does), so neither it nor the fq qdisc,
 * which honours such timestamps, spaces them (issue 8).
 */
XTCP_SEED void xtcp_update_pacing_rate(struct sock *sk)
{
	const struct tcp_sock *tp = tcp_sk(sk);
	struct net *net = sock_net(sk);
	u64 rate = (u64)tp->mss_cache * ((USEC_PER_SEC / 100) << 3);

	if (tp->snd_cwnd < tp->snd_ssthresh / 2)
		rate *= READ_ONCE(net->ipv4.sysctl_tcp_pacing_ss_ratio);
	else
		rate *= READ_ONCE(net->ipv4.sysctl_tcp_pacing_ca_ratio);
	rate *= max(tp->snd_cwnd, tp->packets_out);
	if (likely(tp->srtt_us))
		do_div(rate, tp->srtt_us);
	WRITE_ONCE(sk->sk_pacing_rate,
		   min_t(u64, rate, READ_ONCE(sk->sk_max_pacing_rate)));
}

/*
 * tcp_ack_probe(): the ACK of a zero-window probe.  If the window now
 * takes the next segment, stop probing (the caller sends it); if not,
 * probe again later, backed off, within TCP_USER_TIMEOUT.
 */
static void xtcp_ack_probe(struct sock *sk)
{
	struct inet_connection_sock *icsk = inet_csk(sk);
	struct sk_buff *head = xtcp_send_head(sk);
	const struct tcp_sock *tp = tcp_sk(sk);

	if (!head)
		return;
	if (!after(TCP_SKB_CB(head)->end_seq, tcp_wnd_end(tp))) {
		icsk->icsk_backoff = 0;
		icsk->icsk_probes_tstamp = 0;
		inet_csk_clear_xmit_timer(sk, ICSK_TIME_PROBE0);
	} else {
		unsigned long when = xtcp_probe0_when(sk, TCP_RTO_MAX);

		when = xtcp_clamp_probe0_to_user_timeout(sk, when);
		inet_csk_reset_xmit_timer(sk, ICSK_TIME_PROBE0, when,
					  TCP_RTO_MAX);
	}
}

/* tcp_snd_una_update(): bytes_acked is what TCP_INFO reports. */
static void xtcp_snd_una_update(struct tcp_sock *tp, u32 ack)
{
	u32 delta = ack - tp->snd_una;

	sock_owned_by_me((struct sock *)tp);
	tp->bytes_acked += delta;
	WRITE_ONCE(tp->snd_una, ack);
}

/* tcp_ack_update_window(): the peer's window, scaled (RFC 7323 2.3). */
static XTCP_SEED int xtcp_ack_update_window(struct sock *sk, const struct sk_buff *skb,
					    u32 ack, u32 ack_seq)
{
	struct tcp_sock *tp = tcp_sk(sk);
	u32 nwin = ntohs(tcp_hdr(skb)->window);
	int flag = 0;

	if (likely(!tcp_hdr(skb)->syn))
		nwin <<= tp->rx_opt.snd_wscale;
	if (xtcp_may_update_window(tp, ack, ack_seq, nwin)) {
		flag |= XTCP_FLAG_WIN_UPDATE;
		tp->snd_wl1 = ack_seq;
		if (tp->snd_wnd != nwin) {
			tp->snd_wnd = nwin;
			/* The one place a sender's fast path comes back. */
			tp->pred_flags = 0;
			xtcp_fast_path_check(sk);
			/* A window reopened after a long zero: restart cwnd. */
			if (!tcp_write_queue_empty(sk))
				xtcp_slow_start_after_idle_check(sk);
			if (nwin > tp->max_window) {
				tp->max_window = nwin;
				xtcp_sync_mss(sk, inet_csk(sk)->icsk_pmtu_cookie);
			}
		}
	}
	xtcp_snd_una_update(tp, ack);
	return flag;
}

/*
 * tcp_xmit_recovery(): after cwnd was set, send what recovery asks:
 * F-RTO's new data first, then (or else) the segments marked lost.
 */
static void xtcp_xmit_recovery(struct sock *sk, int rexmit)
{
	struct tcp_sock *tp = tcp_sk(sk);

	if (rexmit == XTCP_REXMIT_NONE)
		return;
	if (unlikely(rexmit == XTCP_REXMIT_NEW)) {
		__xtcp_push_pending_frames(sk, xtcp_current_mss(sk),
					   TCP_NAGLE_OFF);
		if (after(tp->snd_nxt, tp->high_seq))
			return;
		tp->frto = 0;
	}
	xtcp_xmit_retransmit_queue(sk);
}

/* tcp_newly_delivered(): packets this ACK delivered (TCPDelivered). */
static u32 xtcp_newly_delivered(struct sock *sk, u32 prior_delivered,
				int flag)
{
	u32 delivered = tcp_sk(sk)->delivered - prior_delivered;

	xtcp_add_stats(sock_net(sk), XTCP_MIB_TCPDELIVERED, delivered);
	if (flag & XTCP_FLAG_ECE)
		xtcp_add_stats(sock_net(sk), XTCP_MIB_TCPDELIVEREDCE,
			       delivered);
	return delivered;
}

/*
 * tcp_ecn_accept_cwr(): the peer's CWR ends our ECE echo (RFC 3168
 * 6.1.3); taken on pure ACKs too, as stock does for robustness.  Data
 * with CWR is ACKed at once: the sender's cwnd may be one segment.
 */
static void xtcp_ecn_accept_cwr(struct sock *sk, const struct sk_buff *skb)
{
	if (!tcp_hdr(skb)->cwr)
		return;
	tcp_sk(sk)->ecn_flags &= ~TCP_ECN_DEMAND_CWR;
	if (TCP_SKB_CB(skb)->seq != TCP_SKB_CB(skb)->end_seq)
		inet_csk(sk)->icsk_ack.pending |= ICSK_ACK_NOW;
}

/*
 * tcp_in_ack_event(): the algorithm hears of every ACK that reaches the
 * sender, with what kind it was.
 */
static XTCP_SEED void xtcp_in_ack_event(struct sock *sk, int flag)
{
	const struct xtcp_cong_ops *ca = xtcp_sk(sk)->ca_ops;
	u32 ack_ev_flags = 0;

	if (!ca || !ca->in_ack_event)
		return;
	if (flag & XTCP_FLAG_WIN_UPDATE)
		ack_ev_flags |= CA_ACK_WIN_UPDATE;
	if (flag & XTCP_FLAG_SLOWPATH) {
		ack_ev_flags |= CA_ACK_SLOWPATH;
		if (flag & XTCP_FLAG_ECE)
			ack_ev_flags |= CA_ACK_ECE;
	}
	ca->in_ack_event(sk, ack_ev_flags);
}

/* tcp_ack_is_dubious(): the state machine must see this ACK. */
static bool xtcp_ack_is_dubious(const struct sock *sk, int flag)
{
	return !(flag & XTCP_FLAG_NOT_DUP) || (flag & XTCP_FLAG_CA_ALERT) ||
	       inet_csk(sk)->icsk_ca_state != TCP_CA_Open;
}

/* tcp_ecn_rcv_ecn_echo(): an ACK with ECE, not a SYN, on an ECN connection. */
static XTCP_SEED bool xtcp_ecn_rcv_ecn_echo(const struct tcp_sock *tp,
					    const struct tcphdr *th)
{
	return th->ece && !th->syn && (tp->ecn_flags & TCP_ECN_OK);
}

/*
 * The slow path's window and SACK processing (tcp_ack()'s else branch):
 * the window, the SACK blocks, ECE (RFC 3168 6.1.2).
 */
static int xtcp_ack_slow(struct sock *sk, const struct sk_buff *skb,
			 u32 prior_snd_una, int flag,
			 struct xtcp_sacktag_state *sack_state)
{
	struct tcp_sock *tp = tcp_sk(sk);
	u32 ack_seq = TCP_SKB_CB(skb)->seq;
	u32 ack = TCP_SKB_CB(skb)->ack_seq;

	if (ack_seq != TCP_SKB_CB(skb)->end_seq)
		flag |= XTCP_FLAG_DATA;
	else
		xtcp_inc_stats(sock_net(sk), XTCP_MIB_TCPPUREACKS);
	flag |= xtcp_ack_update_window(sk, skb, ack, ack_seq);
	if (TCP_SKB_CB(skb)->sacked)
		flag |= xtcp_sacktag_write_queue(sk, skb, prior_snd_una,
						 sack_state);
	if (xtcp_ecn_rcv_ecn_echo(tp, tcp_hdr(skb)))
		flag |= XTCP_FLAG_ECE;
	if (sack_state->sack_delivered)
		xtcp_count_delivered(tp, sack_state->sack_delivered,
				     flag & XTCP_FLAG_ECE);
	return flag;
}

/*
 * tcp_ack()'s old_ack: an ACK below SND.UNA may still carry SACK blocks
 * that tell of losses, or D-SACKs that undo.
 */
static void xtcp_ack_old(struct sock *sk, const struct sk_buff *skb,
			 u32 prior_snd_una, int flag,
			 struct xtcp_sacktag_state *sack_state)
{
	struct tcp_sock *tp = tcp_sk(sk);
	u32 delivered = tp->delivered;
	int rexmit = XTCP_REXMIT_NONE;

	if (flag & XTCP_FLAG_UPDATE_TS_RECENT)
		xtcp_replace_ts_recent(tp, TCP_SKB_CB(skb)->seq);
	if (!TCP_SKB_CB(skb)->sacked)
		return;
	flag |= xtcp_sacktag_write_queue(sk, skb, prior_snd_una, sack_state);
	xtcp_fastretrans_alert(sk, prior_snd_una, 0, &flag, &rexmit);
	xtcp_newly_delivered(sk, delivered, flag);
	xtcp_xmit_recovery(sk, rexmit);
}

/*
 * tcp_ack()'s no_queue: nothing was in flight; only a D-SACK (undo) or
 * a zero-window probe's answer matters.
 */
static void xtcp_ack_no_queue(struct sock *sk, u32 ack, u32 prior_snd_una,
			      u32 delivered, int flag)
{
	int rexmit = XTCP_REXMIT_NONE;

	xtcp_in_ack_event(sk, flag);
	if (flag & XTCP_FLAG_DSACKING_ACK) {
		xtcp_fastretrans_alert(sk, prior_snd_una, 0, &flag, &rexmit);
		xtcp_newly_delivered(sk, delivered, flag);
	}
	xtcp_ack_probe(sk);
	if (tcp_sk(sk)->tlp_high_seq)
		xtcp_process_tlp_ack(sk, ack, flag);
}

/**
 * xtcp_ack - the ACK field (tcp_ack(), RFC 9293 3.10.7.4 step 5)
 * @sk:   the connection, locked
 * @skb:  the segment
 * @flag: XTCP_FLAG_*
 *
 * An ACK older than SND.UNA by more than the window we could have sent
 * is a blind injection attempt (RFC 5961 5.2): challenge ACK; an older
 * one within it only tells of SACKs.  An ACK of data never sent is
 * dropped.  Otherwise: the window, the SACK scoreboard, the
 * retransmit queue, the loss probe, the congestion state machine for a
 * dubious ACK, the timer, cwnd, and what recovery re-sends, in stock's
 * order.
 *
 * Return: 1 for a new ACK, 0 for an old one (the segment's text still
 * counts), or if the segment must be dropped, the negated drop reason.
 */
XTCP_SEED int xtcp_ack(struct sock *sk, const struct sk_buff *skb, int flag)
{
	struct inet_connection_sock *icsk = inet_csk(sk);
	struct tcp_sock *tp = tcp_sk(sk);
	struct rate_sample rs = { .prior_delivered = 0 };
	struct xtcp_sacktag_state sack_state = { .rate = &rs };
	u32 prior_snd_una = tp->snd_una;
	bool is_sack_reneg = tp->is_sack_reneg;
	u32 ack_seq = TCP_SKB_CB(skb)->seq;
	u32 ack = TCP_SKB_CB(skb)->ack_seq;
	u32 prior_packets = tp->packets_out;
	u32 delivered = tp->delivered;
	int rexmit = XTCP_REXMIT_NONE;
	u32 lost = tp->lost;
	int num_dupack = 0;
	u32 prior_fack;

	if (before(ack, prior_snd_una)) {
		u32 max_window = min_t(u64, tp->max_window, tp->bytes_acked);

		if (before(ack, prior_snd_una - max_window)) {
			if (!(flag & XTCP_FLAG_NO_CHALLENGE_ACK))
				xtcp_send_challenge_ack(sk);
			return -SKB_DROP_REASON_TCP_TOO_OLD_ACK;
		}
		xtcp_ack_old(sk, skb, prior_snd_una, flag, &sack_state);
		return 0;
	}
	if (after(ack, tp->snd_nxt))
		return -SKB_DROP_REASON_TCP_ACK_UNSENT_DATA;
	if (after(ack, prior_snd_una)) {
		flag |= XTCP_FLAG_SND_UNA_ADVANCED;
		icsk->icsk_retransmits = 0;
	}
	prior_fack = tcp_is_sack(tp) ? tcp_highest_sack_seq(tp) : tp->snd_una;
	rs.prior_in_flight = tcp_packets_in_flight(tp);
	/* Only now is the segment known to be in the window. */
	if (flag & XTCP_FLAG_UPDATE_TS_RECENT)
		xtcp_replace_ts_recent(tp, ack_seq);
	if ((flag & (XTCP_FLAG_SLOWPATH | XTCP_FLAG_SND_UNA_ADVANCED)) ==
	    XTCP_FLAG_SND_UNA_ADVANCED) {
		/*
		 * Header prediction's: the window is the one predicted, SND.UNA
		 * only advances (and SND.UNA >= SND.WL2).
		 */
		tp->snd_wl1 = ack_seq;
		xtcp_snd_una_update(tp, ack);
		flag |= XTCP_FLAG_WIN_UPDATE;
		xtcp_inc_stats(sock_net(sk), XTCP_MIB_TCPHPACKS);
	} else {
		flag = xtcp_ack_slow(sk, skb, prior_snd_una, flag, &sack_state);
	}
	xtcp_ecn_accept_cwr(sk, skb);
	WRITE_ONCE(sk->sk_err_soft, 0);
	icsk->icsk_probes_out = 0;
	tp->rcv_tstamp = tcp_jiffies32;
	if (!prior_packets) {
		xtcp_ack_no_queue(sk, ack, prior_snd_una, delivered, flag);
		return 1;
	}

	flag |= xtcp_clean_rtx_queue(sk, prior_fack, prior_snd_una,
				     &sack_state, flag & XTCP_FLAG_ECE);
	xtcp_rack_update_reo_wnd(sk, &rs);
	xtcp_in_ack_event(sk, flag);
	if (tp->tlp_high_seq)
		xtcp_process_tlp_ack(sk, ack, flag);
	if (xtcp_ack_is_dubious(sk, flag)) {
		if (!(flag & (XTCP_FLAG_SND_UNA_ADVANCED | XTCP_FLAG_NOT_DUP |
			      XTCP_FLAG_DSACKING_ACK))) {
			num_dupack = 1;
			/* Pure ACKs that GRO merged count one each. */
			if (!(flag & XTCP_FLAG_DATA))
				num_dupack = max_t(u16, 1,
						   skb_shinfo(skb)->gso_segs);
		}
		xtcp_fastretrans_alert(sk, prior_snd_una, num_dupack, &flag,
				       &rexmit);
	}
	if (flag & XTCP_FLAG_SET_XMIT_TIMER)
		xtcp_set_xmit_timer(sk);
	if ((flag & XTCP_FLAG_FORWARD_PROGRESS) ||
	    !(flag & XTCP_FLAG_NOT_DUP))
		sk_dst_confirm(sk);
	delivered = xtcp_newly_delivered(sk, delivered, flag);
	lost = tp->lost - lost;
	rs.is_ack_delayed = !!(flag & XTCP_FLAG_ACK_MAYBE_DELAYED);
	xtcp_rate_gen(sk, delivered, lost, is_sack_reneg, &rs);
	xtcp_cong_control(sk, ack, delivered, flag, &rs);
	xtcp_xmit_recovery(sk, rexmit);
	return 1;
}

/**
 * xtcp_sndbuf_expand - send-buffer autotuning (tcp_sndbuf_expand())
 * @sk: the connection, locked
 *
 * Room for twice the congestion window (Reno's and CUBIC's recovery
 * need up to 1.7 of it), or the algorithm's sndbuf_expand multiple of
 * it, each segment taken at its worst-case truesize,
 * bytes, up to net.ipv4.tcp_wmem[2].  Never shrinks SO_SNDBUF.
 */
XTCP_SEED void xtcp_sndbuf_expand(struct sock *sk)
{
	const struct xtcp_cong_ops *ca = xtcp_sk(sk)->ca_ops;
	const struct tcp_sock *tp = tcp_sk(sk);
	int sndmem, per_mss;
	u32 nr_segs;

	per_mss = max_t(u32, tp->rx_opt.mss_clamp, tp->mss_cache) +
		  MAX_TCP_HEADER +
		  SKB_DATA_ALIGN(sizeof(struct skb_shared_info));
	per_mss = roundup_pow_of_two(per_mss) +
		  SKB_DATA_ALIGN(sizeof(struct sk_buff));
	nr_segs = max_t(u32, TCP_INIT_CWND, tp->snd_cwnd);
	nr_segs = max_t(u32, nr_segs, tp->reordering + 1);
	sndmem = ca && ca->sndbuf_expand ? ca->sndbuf_expand(sk) : 2;
	sndmem *= nr_segs * per_mss;
	if (sk->sk_sndbuf < sndmem)
		WRITE_ONCE(sk->sk_sndbuf,
			   min(sndmem, READ_ONCE(sock_net(sk)->ipv4.sysctl_tcp_wmem[2])));
}

/*
 * tcp_should_expand_sndbuf(): not when the user fixed SO_SNDBUF, not
 * under memory pressure (then the buffer shrinks to what SO_RESERVE_MEM
 * holds), not above the pool's low mark, not when cwnd is full.
 */
static bool xtcp_should_expand_sndbuf(struct sock *sk)
{
	const struct tcp_sock *tp = tcp_sk(sk);

	if (sk->sk_userlocks & SOCK_SNDBUF_LOCK)
		return false;
	if (xtcp_under_memory_pressure(sk)) {
		int unused_mem = sk_unused_reserved_mem(sk);

		if (unused_mem > SOCK_MIN_SNDBUF)
			WRITE_ONCE(sk->sk_sndbuf, unused_mem);
		return false;
	}
	if (sk_memory_allocated(sk) >= sk_prot_mem_limits(sk, 0))
		return false;
	if (tcp_packets_in_flight(tp) >= tp->snd_cwnd)
		return false;
	return true;
}

/**
 * xtcp_check_space - wake a writer that waits for room (tcp_check_space())
 * @sk: the connection, locked
 *
 * Only if a writer said it waits (SOCK_NOSPACE, set by sendmsg() and
 * poll()): grow the send buffer if the window allows (send-buffer
 * autotuning), then sk_write_space().  The barrier pairs with the one
 * in xtcp_conn_poll() between setting SOCK_NOSPACE and looking again.
 */
void xtcp_check_space(struct sock *sk)
{
	void (*write_space)(struct sock *sk);

	/* Freed space before SOCK_NOSPACE: pairs with xtcp_conn_poll(). */
	smp_mb();
	if (sk->sk_socket && test_bit(SOCK_NOSPACE, &sk->sk_socket->flags)) {
		if (xtcp_should_expand_sndbuf(sk)) {
			xtcp_sndbuf_expand(sk);
			tcp_sk(sk)->snd_cwnd_stamp = tcp_jiffies32;
		}
		write_space = READ_ONCE(sk->sk_write_space);
		write_space(sk);
	}
}

/**
 * xtcp_disconnect_tx - what tcp_disconnect() resets of the sender
 * @sk: the connection, locked, its timers stopped
 *
 * The send and retransmit queues, the RTT estimate, the congestion
 * state, the scoreboard, RACK and the counters TCP_INFO reports; the
 * next write_seq lies past anything the old peer could still
 * acknowledge.
 */
void xtcp_disconnect_tx(struct sock *sk)
{
	struct inet_connection_sock *icsk = inet_csk(sk);
	struct tcp_sock *tp = tcp_sk(sk);
	u32 seq;

	xtcp_write_queue_purge(sk);
	tp->srtt_us = 0;
	tp->mdev_us = jiffies_to_usecs(TCP_TIMEOUT_INIT);
	seq = tp->write_seq + tp->max_window + 2;
	WRITE_ONCE(tp->write_seq, seq ? : 1);
	icsk->icsk_backoff = 0;
	icsk->icsk_probes_out = 0;
	icsk->icsk_probes_tstamp = 0;
	icsk->icsk_rto = TCP_TIMEOUT_INIT;
	icsk->icsk_retransmits = 0;
	tp->snd_ssthresh = TCP_INFINITE_SSTHRESH;
	tp->snd_cwnd = TCP_INIT_CWND;
	tp->snd_cwnd_cnt = 0;
	tp->is_cwnd_limited = 0;
	tp->max_packets_out = 0;
	tp->delivered = 0;
	tp->delivered_ce = 0;
	xtcp_set_ca_state(sk, TCP_CA_Open);
	tp->is_sack_reneg = 0;
	xtcp_clear_retrans(tp);
	tp->dsack_dups = 0;
	tp->reord_seen = 0;
	tp->tlp_high_seq = 0;
	/* A bubble in the pipe until the first ACK. */
	tp->app_limited = ~0U;
	tp->rate_app_limited = 1;
	tp->rack.mstamp = 0;
	tp->rack.advanced = 0;
	tp->rack.reo_wnd_steps = 1;
	tp->rack.last_delivered = 0;
	tp->rack.reo_wnd_persist = 0;
	tp->rack.dsack_seen = 0;
	tp->lost = 0;
	tp->retrans_stamp = 0;
	tp->total_retrans = 0;
	tp->segs_out = 0;
	tp->bytes_sent = 0;
	tp->bytes_acked = 0;
	tp->bytes_retrans = 0;
	tp->data_segs_out = 0;
}
