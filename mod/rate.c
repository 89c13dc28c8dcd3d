// SPDX-License-Identifier: GPL-2.0
/*
 * xtcp: delivery rate samples (net/ipv4/tcp_rate.c).
 *
 * Each skb remembers, when it leaves, how much had been delivered and
 * when (TCP_SKB_CB(skb)->tx); each ACK that delivers skbs turns the
 * newest of them into a sample: packets delivered over the longer of
 * the send and the ACK phase.  RACK's reordering window (rack.c) asks a
 * sample whether an RTT passed since its last change, the delayed-ACK
 * guess of the RTT filter asks whether one packet was delivered, and
 * TCP_INFO reports the rate (tcpi_delivery_rate).  An application that
 * left the pipe idle marks its samples app-limited, so that the rate
 * never claims less than the path could do.
 *
 * Context: socket locked: the transmit path, the ACK path, sendmsg().
 */
#include <net/tcp.h>

#include "xtcp.h"

/**
 * xtcp_rate_skb_sent - snapshot delivery state into a leaving skb
 * @sk:  the connection, locked
 * @skb: the data skb of the retransmit or write queue, its departure
 *       time (skb_mstamp_ns) set
 *
 * tcp_rate_skb_sent().  With nothing in flight the sample's clock
 * starts now: an ACK for this skb then proves the network delivered
 * everything in between.
 */
void xtcp_rate_skb_sent(struct sock *sk, struct sk_buff *skb)
{
	struct tcp_sock *tp = tcp_sk(sk);
	struct tcp_skb_cb *scb = TCP_SKB_CB(skb);

	if (!tp->packets_out) {
		u64 tstamp_us = tcp_skb_timestamp_us(skb);

		tp->first_tx_mstamp = tstamp_us;
		tp->delivered_mstamp = tstamp_us;
	}
	scb->tx.first_tx_mstamp = tp->first_tx_mstamp;
	scb->tx.delivered_mstamp = tp->delivered_mstamp;
	scb->tx.delivered = tp->delivered;
	scb->tx.delivered_ce = tp->delivered_ce;
	scb->tx.is_app_limited = tp->app_limited ? 1 : 0;
}

/**
 * xtcp_rate_skb_delivered - an skb was ACKed or SACKed
 * @sk:  the connection, locked
 * @skb: the skb
 * @rs:  this ACK's sample
 *
 * tcp_rate_skb_delivered(): of all the skbs one ACK delivers, the most
 * recently sent (then the highest) gives the sample its start.  A
 * SACKed skb is marked used, so that its cumulative ACK later does not
 * give a second sample.
 */
void xtcp_rate_skb_delivered(struct sock *sk, struct sk_buff *skb,
			     struct rate_sample *rs)
{
	struct tcp_sock *tp = tcp_sk(sk);
	struct tcp_skb_cb *scb = TCP_SKB_CB(skb);
	u64 tx_tstamp;

	if (!scb->tx.delivered_mstamp)
		return;
	tx_tstamp = tcp_skb_timestamp_us(skb);
	if (!rs->prior_delivered ||
	    tcp_skb_sent_after(tx_tstamp, tp->first_tx_mstamp,
			       scb->end_seq, rs->last_end_seq)) {
		rs->prior_delivered_ce = scb->tx.delivered_ce;
		rs->prior_delivered = scb->tx.delivered;
		rs->prior_mstamp = scb->tx.delivered_mstamp;
		rs->is_app_limited = scb->tx.is_app_limited;
		rs->is_retrans = scb->sacked & TCPCB_RETRANS;
		rs->last_end_seq = scb->end_seq;
		/* The send phase: from this skb's window's first send. */
		tp->first_tx_mstamp = tx_tstamp;
		rs->interval_us = tcp_stamp_us_delta(tp->first_tx_mstamp,
						     scb->tx.first_tx_mstamp);
	}
	if (scb->sacked & TCPCB_SACKED_ACKED)
		scb->tx.delivered_mstamp = 0;
}

/**
 * xtcp_rate_gen - close this ACK's sample
 * @sk:            the connection, locked
 * @delivered:     packets this ACK newly ACKed or SACKed
 * @lost:          packets it newly marked lost
 * @is_sack_reneg: the peer reneged on SACKs (no trustworthy sample)
 * @rs:            the sample
 *
 * tcp_rate_gen(): rs->delivered over rs->interval_us (the longer of the
 * send and the ACK phase, never below the min RTT: that would be ACK
 * compression), and the connection's best non-app-limited rate for
 * TCP_INFO.  An invalid sample has delivered and interval_us -1.
 */
void xtcp_rate_gen(struct sock *sk, u32 delivered, u32 lost,
		   bool is_sack_reneg, struct rate_sample *rs)
{
	struct tcp_sock *tp = tcp_sk(sk);
	u32 snd_us, ack_us;

	/* The bubble an idle application left was delivered. */
	if (tp->app_limited && after(tp->delivered, tp->app_limited))
		tp->app_limited = 0;
	if (delivered)
		tp->delivered_mstamp = tp->tcp_mstamp;
	rs->acked_sacked = delivered;
	rs->losses = lost;
	if (!rs->prior_mstamp || is_sack_reneg) {
		rs->delivered = -1;
		rs->interval_us = -1;
		return;
	}
	rs->delivered = tp->delivered - rs->prior_delivered;
	rs->delivered_ce = (tp->delivered_ce - rs->prior_delivered_ce) &
			   TCPCB_DELIVERED_CE_MASK;
	snd_us = rs->interval_us;
	ack_us = tcp_stamp_us_delta(tp->tcp_mstamp, rs->prior_mstamp);
	rs->interval_us = max(snd_us, ack_us);
	rs->snd_interval_us = snd_us;
	rs->rcv_interval_us = ack_us;
	if (unlikely(rs->interval_us < tcp_min_rtt(tp))) {
		rs->interval_us = -1;
		return;
	}
	if (!rs->is_app_limited ||
	    ((u64)rs->delivered * tp->rate_interval_us >=
	     (u64)tp->rate_delivered * rs->interval_us)) {
		tp->rate_delivered = rs->delivered;
		tp->rate_interval_us = rs->interval_us;
		tp->rate_app_limited = rs->is_app_limited;
	}
}

/**
 * xtcp_rate_check_app_limited - is the application leaving a gap?
 * @sk: the connection, locked (sendmsg())
 *
 * tcp_rate_check_app_limited(): less than a segment waits, the host
 * queues are empty, cwnd has room and every loss was re-sent: the
 * samples until what is in flight now is delivered are app-limited.
 */
void xtcp_rate_check_app_limited(struct sock *sk)
{
	struct tcp_sock *tp = tcp_sk(sk);

	if (tp->write_seq - tp->snd_nxt < tp->mss_cache &&
	    sk_wmem_alloc_get(sk) < SKB_TRUESIZE(1) &&
	    tcp_packets_in_flight(tp) < tp->snd_cwnd &&
	    tp->lost_out <= tp->retrans_out)
		tp->app_limited = (tp->delivered +
				   tcp_packets_in_flight(tp)) ? : 1;
}
