// SPDX-License-Identifier: GPL-2.0
/*
 * xtcp: what an ACK does for the sender.
 *
 * Mirrors the sender's half of tcp_ack() (net/ipv4/tcp_input.c):
 * tcp_clean_rtx_queue() frees what the peer has, tcp_ack_update_rtt()
 * takes an RTT sample (RFC 6298 with Karn's rule, RFC 7323 RTTM) into
 * tcp_rtt_estimator() and tcp_set_rto(), the congestion window grows
 * (tcp_cong_control()), a loss episode that began with a timeout ends
 * (tcp_process_loss()), and the writer gets room back (tcp_check_space()).
 *
 * The SACK scoreboard, fast retransmit, RACK and undo are the next step
 * (issue 8): the fields they use (sacked_out, lost_out, retrans_out, the
 * per-skb "sacked" bits, high_seq, icsk_ca_state) are kept here exactly
 * as stock keeps them, so they fit without a rewrite.  Until then a loss
 * is repaired by the retransmission timer alone.
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
static void xtcp_rtt_estimator(struct sock *sk, long mrtt_us)
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
static void xtcp_set_rto(struct sock *sk)
{
	const struct tcp_sock *tp = tcp_sk(sk);
	u32 rto = usecs_to_jiffies((tp->srtt_us >> 3) + tp->rttvar_us);

	inet_csk(sk)->icsk_rto = min_t(u32, rto, TCP_RTO_MAX);
}

/*
 * tcp_update_rtt_min(): the windowed minimum RTT (net.ipv4.
 * tcp_min_rtt_wlen seconds), which TSO sizing reads.  A sample that
 * may include a delayed ACK is not let in.
 */
static void xtcp_update_rtt_min(struct sock *sk, u32 rtt_us, int flag)
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
 * @sk:         the connection, locked
 * @flag:       XTCP_FLAG_* of this ACK
 * @seq_rtt_us: RTT of the oldest newly acknowledged segment, or -1
 * @ca_rtt_us:  RTT of the newest one, or -1 (for the min-RTT filter)
 *
 * tcp_ack_update_rtt(): the ACK's own timing is preferred; Karn's rule
 * (RFC 6298 section 3) leaves -1 when retransmitted data was acked, and
 * then the timestamp echo gives the sample (RTTM, RFC 7323 section 4),
 * but only for an ACK that advances SND.UNA.  A valid sample resets the
 * backoff (RFC 6298 5.7).
 *
 * Return: true if a sample was taken.
 */
bool xtcp_ack_update_rtt(struct sock *sk, int flag, long seq_rtt_us,
			 long ca_rtt_us)
{
	const struct tcp_sock *tp = tcp_sk(sk);

	if (seq_rtt_us < 0 && tp->rx_opt.saw_tstamp &&
	    tp->rx_opt.rcv_tsecr && (flag & XTCP_FLAG_ACKED)) {
		seq_rtt_us = xtcp_rtt_tsopt_us(tp, 1);
		ca_rtt_us = seq_rtt_us;
	}
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
 * with the current RTO; with nothing in flight, stop it.
 */
void xtcp_rearm_rto(struct sock *sk)
{
	if (!tcp_sk(sk)->packets_out)
		inet_csk_clear_xmit_timer(sk, ICSK_TIME_RETRANS);
	else
		inet_csk_reset_xmit_timer(sk, ICSK_TIME_RETRANS,
					  inet_csk(sk)->icsk_rto, TCP_RTO_MAX);
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

/*
 * tcp_clean_rtx_queue(): free every skb the ACK covers, count what was
 * delivered, and take the RTT from the oldest one never retransmitted.
 */
static int xtcp_clean_rtx_queue(struct sock *sk, u32 prior_snd_una)
{
	struct tcp_sock *tp = tcp_sk(sk);
	u64 first_ackt = 0, last_ackt = 0;
	long seq_rtt_us = -1L, ca_rtt_us = -1L;
	struct sk_buff *skb, *next;
	bool fully_acked = true;
	u32 pkts_acked = 0;
	int flag = 0;

	for (skb = skb_rb_first(&sk->tcp_rtx_queue); skb; skb = next) {
		struct tcp_skb_cb *scb = TCP_SKB_CB(skb);
		u8 sacked = scb->sacked;
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

		if (unlikely(sacked & TCPCB_RETRANS)) {
			if (sacked & TCPCB_SACKED_RETRANS)
				tp->retrans_out -= acked_pcount;
			flag |= XTCP_FLAG_RETRANS_DATA_ACKED;
		} else if (!(sacked & TCPCB_SACKED_ACKED)) {
			last_ackt = tcp_skb_timestamp_us(skb);
			if (!first_ackt)
				first_ackt = last_ackt;
		}
		if (sacked & TCPCB_LOST)
			tp->lost_out -= acked_pcount;
		tp->packets_out -= acked_pcount;
		tp->delivered += acked_pcount;
		pkts_acked += acked_pcount;
		flag |= XTCP_FLAG_DATA_ACKED;
		if (!fully_acked)
			break;

		next = skb_rb_next(skb);
		if (unlikely(skb == tp->retransmit_skb_hint))
			tp->retransmit_skb_hint = NULL;
		if (unlikely(skb == tp->highest_sack))
			tp->highest_sack = next;
		tcp_rtx_queue_unlink_and_free(skb, sk);
	}

	if (likely(between(tp->snd_up, prior_snd_una, tp->snd_una)))
		tp->snd_up = tp->snd_una;

	if (likely(first_ackt) && !(flag & XTCP_FLAG_RETRANS_DATA_ACKED)) {
		seq_rtt_us = tcp_stamp_us_delta(tp->tcp_mstamp, first_ackt);
		ca_rtt_us = tcp_stamp_us_delta(tp->tcp_mstamp, last_ackt);
		/* A lone runt segment's ACK was likely delayed. */
		if (pkts_acked == 1 && fully_acked &&
		    tp->snd_una - prior_snd_una < tp->mss_cache)
			flag |= XTCP_FLAG_ACK_MAYBE_DELAYED;
	}
	xtcp_ack_update_rtt(sk, flag, seq_rtt_us, ca_rtt_us);
	if (flag & XTCP_FLAG_ACKED)
		flag |= XTCP_FLAG_SET_XMIT_TIMER;
	return flag;
}

/**
 * xtcp_set_ca_state - enter a congestion state (tcp_set_ca_state())
 * @sk:       the connection, locked
 * @ca_state: TCP_CA_Open, TCP_CA_Loss, ...
 *
 * The algorithm's set_state hook hears of it first.
 */
void xtcp_set_ca_state(struct sock *sk, u8 ca_state)
{
	const struct xtcp_cong_ops *ca = xtcp_sk(sk)->ca_ops;

	if (ca && ca->set_state)
		ca->set_state(sk, ca_state);
	inet_csk(sk)->icsk_ca_state = ca_state;
}

/*
 * tcp_current_ssthresh(): outside a reduction, remember at least 3/4 of
 * the current window.
 */
u32 xtcp_current_ssthresh(const struct sock *sk)
{
	const struct tcp_sock *tp = tcp_sk(sk);

	if ((TCPF_CA_CWR | TCPF_CA_Recovery) &
	    (1 << inet_csk(sk)->icsk_ca_state))
		return tp->snd_ssthresh;
	return max(tp->snd_ssthresh,
		   (tp->snd_cwnd >> 1) + (tp->snd_cwnd >> 2));
}

/*
 * tcp_mark_skb_lost(): the segment is taken for lost; one that had been
 * re-sent is no longer counted as re-sent.  tp->lost counts each loss
 * once.
 */
static void xtcp_mark_skb_lost(struct sock *sk, struct sk_buff *skb)
{
	struct tcp_sock *tp = tcp_sk(sk);
	u8 *sacked = &TCP_SKB_CB(skb)->sacked;

	if (*sacked & TCPCB_SACKED_ACKED)
		return;
	if (*sacked & TCPCB_LOST) {
		if (*sacked & TCPCB_SACKED_RETRANS) {
			*sacked &= ~TCPCB_SACKED_RETRANS;
			tp->retrans_out -= tcp_skb_pcount(skb);
			tp->lost += tcp_skb_pcount(skb);
		}
	} else {
		tp->lost_out += tcp_skb_pcount(skb);
		*sacked |= TCPCB_LOST;
		tp->lost += tcp_skb_pcount(skb);
	}
}

/*
 * tcp_timeout_mark_lost() without a scoreboard: every segment in flight
 * is taken for lost (what stock does when RACK is off).
 */
static void xtcp_timeout_mark_lost(struct sock *sk)
{
	struct sk_buff *skb;

	skb_rbtree_walk(skb, &sk->tcp_rtx_queue)
		xtcp_mark_skb_lost(sk, skb);
	tcp_sk(sk)->retransmit_skb_hint = NULL;
}

/**
 * xtcp_simple_retransmit - the path MTU dropped (tcp_simple_retransmit())
 * @sk: the connection, locked, its MSS already lowered
 *
 * Every segment in flight that no longer fits is lost and goes again
 * now, cut to the new MSS.  cwnd is not reduced (nothing says the path
 * is congested; its unit shrank), but the Loss state keeps the new
 * segments from counting as acknowledgements of the old ones.
 */
void xtcp_simple_retransmit(struct sock *sk)
{
	const struct inet_connection_sock *icsk = inet_csk(sk);
	struct tcp_sock *tp = tcp_sk(sk);
	int mss = xtcp_current_mss(sk);
	struct sk_buff *skb;

	skb_rbtree_walk(skb, &sk->tcp_rtx_queue) {
		u32 seglen = tcp_skb_pcount(skb) == 1 ? skb->len :
			     tcp_skb_mss(skb);

		if (seglen > mss)
			xtcp_mark_skb_lost(sk, skb);
	}
	tp->retransmit_skb_hint = NULL;
	if (!tp->lost_out)
		return;
	if (icsk->icsk_ca_state != TCP_CA_Loss) {
		tp->high_seq = tp->snd_nxt;
		tp->snd_ssthresh = xtcp_current_ssthresh(sk);
		tp->prior_ssthresh = 0;
		tp->undo_marker = 0;
		xtcp_set_ca_state(sk, TCP_CA_Loss);
	}
	xtcp_xmit_retransmit_queue(sk);
}

/**
 * xtcp_enter_loss - the retransmission timer fired (tcp_enter_loss())
 * @sk: the connection, locked
 *
 * RFC 5681 section 3.1: ssthresh from the algorithm (once per loss
 * episode), cwnd to one segment more than what is still in flight
 * (nothing, once all is marked lost), and go back to SND.UNA: every
 * segment up to high_seq is sent again as the window opens.
 */
void xtcp_enter_loss(struct sock *sk)
{
	const struct inet_connection_sock *icsk = inet_csk(sk);
	const struct xtcp_cong_ops *ca = xtcp_sk(sk)->ca_ops;
	struct tcp_sock *tp = tcp_sk(sk);

	xtcp_timeout_mark_lost(sk);
	if (icsk->icsk_ca_state <= TCP_CA_Disorder ||
	    !after(tp->high_seq, tp->snd_una) ||
	    (icsk->icsk_ca_state == TCP_CA_Loss && !icsk->icsk_retransmits)) {
		tp->prior_ssthresh = xtcp_current_ssthresh(sk);
		tp->prior_cwnd = tp->snd_cwnd;
		if (ca)
			tp->snd_ssthresh = ca->ssthresh(sk);
	}
	tp->snd_cwnd = tcp_packets_in_flight(tp) + 1;
	tp->snd_cwnd_cnt = 0;
	tp->snd_cwnd_stamp = tcp_jiffies32;
	xtcp_set_ca_state(sk, TCP_CA_Loss);
	tp->high_seq = tp->snd_nxt;
}

/*
 * tcp_any_retrans_done(): is anything in flight a retransmission?  If
 * not, the first-retransmission stamp that times the connection out
 * (retrans_stamp) starts over.
 */
static bool xtcp_any_retrans_done(const struct sock *sk)
{
	const struct sk_buff *skb = tcp_rtx_queue_head(sk);

	return tcp_sk(sk)->retrans_out ||
	       (skb && (TCP_SKB_CB(skb)->sacked & TCPCB_EVER_RETRANS));
}

/*
 * tcp_process_loss() without F-RTO and undo: the episode ends when
 * everything sent before the timeout is acknowledged; until then each
 * ACK lets the lost segments out again (tcp_xmit_recovery()).
 */
static bool xtcp_process_loss(struct sock *sk)
{
	struct tcp_sock *tp = tcp_sk(sk);

	if (before(tp->snd_una, tp->high_seq))
		return true;
	xtcp_set_ca_state(sk, TCP_CA_Open);
	if (!xtcp_any_retrans_done(sk))
		tp->retrans_stamp = 0;
	return false;
}

/*
 * tcp_cong_control() for an algorithm without cong_control: outside a
 * reduction, grow the window by what was delivered in order (RFC 5681),
 * then recompute the pacing rate.
 */
static void xtcp_cong_control(struct sock *sk, u32 ack, u32 acked, int flag)
{
	const struct xtcp_cong_ops *ca = xtcp_sk(sk)->ca_ops;

	if (ca && (flag & XTCP_FLAG_DATA_ACKED) &&
	    !((TCPF_CA_CWR | TCPF_CA_Recovery) &
	      (1 << inet_csk(sk)->icsk_ca_state))) {
		ca->cong_avoid(sk, ack, acked);
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
void xtcp_update_pacing_rate(struct sock *sk)
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
 * probe again later, backed off.
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
		inet_csk_reset_xmit_timer(sk, ICSK_TIME_PROBE0,
					  xtcp_probe0_when(sk, TCP_RTO_MAX),
					  TCP_RTO_MAX);
	}
}

/**
 * xtcp_ack_snd - the sender's share of an acceptable ACK
 * @sk:            the connection, locked
 * @prior_snd_una: SND.UNA before this ACK
 * @prior_packets: packets_out before this ACK
 * @flag:          XTCP_FLAG_* so far
 *
 * The part of tcp_ack() after the window update: free what is acked,
 * time it, restart the timer, end a loss episode or send the lost
 * segments again, and grow cwnd.  With nothing in flight before the
 * ACK, only a zero-window probe can be answered.
 */
void xtcp_ack_snd(struct sock *sk, u32 prior_snd_una, u32 prior_packets,
		  int flag)
{
	struct tcp_sock *tp = tcp_sk(sk);
	u32 prior_delivered = tp->delivered;
	bool rexmit = false;

	if (!prior_packets) {
		xtcp_ack_probe(sk);
		return;
	}
	flag |= xtcp_clean_rtx_queue(sk, prior_snd_una);
	if (inet_csk(sk)->icsk_ca_state == TCP_CA_Loss)
		rexmit = xtcp_process_loss(sk);
	if (flag & XTCP_FLAG_SET_XMIT_TIMER)
		xtcp_rearm_rto(sk);
	xtcp_cong_control(sk, tp->snd_una, tp->delivered - prior_delivered,
			  flag);
	if (rexmit)
		xtcp_xmit_retransmit_queue(sk);
}

/**
 * xtcp_sndbuf_expand - send-buffer autotuning (tcp_sndbuf_expand())
 * @sk: the connection, locked
 *
 * Room for twice the congestion window (Reno's and CUBIC's recovery
 * need up to 1.7 of it), each segment taken at its worst-case truesize,
 * bytes, up to net.ipv4.tcp_wmem[2].  Never shrinks SO_SNDBUF.
 */
void xtcp_sndbuf_expand(struct sock *sk)
{
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
	sndmem = 2 * nr_segs * per_mss;
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
 * state and the counters TCP_INFO reports; the next write_seq lies past
 * anything the old peer could still acknowledge.
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
	xtcp_set_ca_state(sk, TCP_CA_Open);
	tp->lost = 0;
	tp->retrans_stamp = 0;
	tp->total_retrans = 0;
	tp->segs_out = 0;
	tp->bytes_sent = 0;
	tp->bytes_acked = 0;
	tp->bytes_retrans = 0;
	tp->data_segs_out = 0;
}
