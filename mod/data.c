// SPDX-License-Identifier: GPL-2.0
/*
 * xtcp: the segment text of an established connection, and when to ACK it.
 *
 * Mirrors the receive half of net/ipv4/tcp_input.c: tcp_data_queue() and
 * what it calls (tcp_queue_rcv(), tcp_try_coalesce(), tcp_event_data_recv(),
 * tcp_measure_rcv_mss(), tcp_grow_window(), tcp_fin()), and the ACK
 * policy of __tcp_ack_snd_check() (RFC 9293 3.10.7.4 steps 7 and 8,
 * RFC 1122 4.2.3.2, RFC 5681 4.2).
 *
 * Context for everything here: the socket is locked, by bh_lock_sock()
 * in softirq (xtcp_v4_rcv_sk()) or by its owner in process context while
 * __release_sock() feeds the backlog (xtcp_v4_do_rcv()).  rcv_nxt and
 * the receive queue change only under that lock; recvmsg() reads them
 * under it too.  poll() reads rcv_nxt and copied_seq locklessly, so they
 * are written with WRITE_ONCE().
 *
 * Data beyond rcv_nxt waits in the out-of-order queue, an rbtree keyed
 * by sequence (tcp_data_queue_ofo()), and the ACKs report it in SACK
 * blocks (RFC 2018), most recent first; duplicates in D-SACK blocks
 * (RFC 2883).  Once the hole is filled, tcp_ofo_queue() moves what
 * became in-order to the receive queue.  The out-of-order queue and
 * the SACK state change only under the socket lock, like rcv_nxt.
 *
 * Urgent data (RFC 9293 3.8.5, RFC 6093): the peer's urgent pointer marks
 * one byte, which a reader takes out of band (recv(MSG_OOB)) unless
 * SO_OOBINLINE leaves it in the stream (tcp_check_urg(), tcp_urg()).
 * urg_data and urg_seq change under the socket lock; poll() and
 * SIOCATMARK read them locklessly, hence WRITE_ONCE().
 *
 * Not yet here (Documentation/design.rst, "Receive path"): ECN.
 */
#include <net/tcp.h>

#include "xtcp.h"

/* Flags a full-sized segment need not carry (tcp_input.c's TCP_REMNANT). */
#define XTCP_REMNANT	(TCP_FLAG_FIN | TCP_FLAG_URG | TCP_FLAG_SYN | \
			 TCP_FLAG_PSH)

/* tcp_full_space(): the window the whole receive buffer can offer. */
XTCP_SEED int xtcp_full_space(const struct sock *sk)
{
	return xtcp_win_from_space(sk, READ_ONCE(sk->sk_rcvbuf));
}

/* tcp_rmem_pressure(): the receive queue holds most of its budget. */
static bool xtcp_rmem_pressure(const struct sock *sk)
{
	int rcvbuf, threshold;

	if (xtcp_under_memory_pressure(sk))
		return true;
	rcvbuf = READ_ONCE(sk->sk_rcvbuf);
	threshold = rcvbuf - (rcvbuf >> 3);
	return atomic_read(&sk->sk_rmem_alloc) > threshold;
}

/**
 * xtcp_epollin_ready - is there enough to read? (tcp_epollin_ready())
 * @sk:     the connection; read locklessly by poll()
 * @target: bytes the reader wants (SO_RCVLOWAT)
 *
 * Return: true if at least @target bytes wait, or fewer but the window
 * or the memory left could not bring more.
 */
bool xtcp_epollin_ready(const struct sock *sk, int target)
{
	const struct tcp_sock *tp = tcp_sk(sk);
	int avail = READ_ONCE(tp->rcv_nxt) - READ_ONCE(tp->copied_seq);

	if (avail <= 0)
		return false;
	return avail >= target || xtcp_rmem_pressure(sk) ||
	       xtcp_receive_window(tp) <= inet_csk(sk)->icsk_ack.rcv_mss;
}

/**
 * xtcp_data_ready - wake the reader once it has enough (tcp_data_ready())
 * @sk: the connection, locked
 *
 * Enough: SO_RCVLOWAT bytes (xtcp_epollin_ready()), or the end of the
 * stream.
 */
void xtcp_data_ready(struct sock *sk)
{
	if (xtcp_epollin_ready(sk, READ_ONCE(sk->sk_rcvlowat)) ||
	    sock_flag(sk, SOCK_DONE))
		sk->sk_data_ready(sk);
}

/*
 * tcp_measure_rcv_mss(): the peer's segment size, which decides when two
 * "full-sized" segments have arrived (RFC 1122 4.2.3.2).  A segment of
 * exactly rcv_mss with PSH ends an application write, so reading it all
 * is worth an ACK (ICSK_ACK_PUSHED, tcp_cleanup_rbuf()).  6.12 also
 * learns the payload/truesize ratio here (compat.h).
 */
static void xtcp_measure_rcv_mss(struct sock *sk, const struct sk_buff *skb)
{
	struct inet_connection_sock *icsk = inet_csk(sk);
	const unsigned int lss = icsk->icsk_ack.last_seg_size;
	unsigned int len;

	icsk->icsk_ack.last_seg_size = 0;
	/* skb->len may jitter because of SACKs; a GRO packet says its MSS. */
	len = skb_shinfo(skb)->gso_size ? : skb->len;
	if (len >= icsk->icsk_ack.rcv_mss) {
		if (unlikely(len != icsk->icsk_ack.rcv_mss))
			xtcp_update_scaling_ratio(sk, skb);
		icsk->icsk_ack.rcv_mss = min_t(unsigned int, len,
					       tcp_sk(sk)->advmss);
		if (TCP_SKB_CB(skb)->tcp_flags & TCPHDR_PSH)
			icsk->icsk_ack.pending |= ICSK_ACK_PUSHED;
		return;
	}
	/*
	 * A short segment: with the invariant header length added back, a
	 * segment without PSH should be full-sized unless the peer is
	 * broken, which lets tiny-MTU links be learned.
	 */
	len += skb->data - skb_transport_header(skb);
	if (len >= TCP_MSS_DEFAULT + sizeof(struct tcphdr) ||
	    (len >= TCP_MIN_MSS + sizeof(struct tcphdr) &&
	     !(tcp_flag_word(tcp_hdr(skb)) & XTCP_REMNANT))) {
		len -= tcp_sk(sk)->tcp_header_len;
		icsk->icsk_ack.last_seg_size = len;
		if (len == lss) {
			icsk->icsk_ack.rcv_mss = len;
			return;
		}
	}
	if (icsk->icsk_ack.pending & ICSK_ACK_PUSHED)
		icsk->icsk_ack.pending |= ICSK_ACK_PUSHED2;
	icsk->icsk_ack.pending |= ICSK_ACK_PUSHED;
}

/*
 * tcp_rcv_rtt_update(): the receiver's RTT estimate (us, << 3), kept
 * for receive-buffer autotuning and SACK compression.  Without
 * timestamps (@win_dep) only a minimum is kept: one window's worth of
 * data may take longer than an RTT to come if the sender is idle.
 */
static void xtcp_rcv_rtt_update(struct tcp_sock *tp, u32 sample, int win_dep)
{
	u32 new_sample, old_sample = tp->rcv_rtt_est.rtt_us;
	long m = sample << 3;

	if (old_sample == 0 || m < old_sample) {
		new_sample = m;
	} else {
		if (win_dep)
			return;
		new_sample = old_sample - (old_sample >> 3) + sample;
	}
	tp->rcv_rtt_est.rtt_us = new_sample;
}

/*
 * tcp_rcv_rtt_measure(): without timestamps, the time it took to
 * receive one window's worth of data from when it was offered.
 */
static void xtcp_rcv_rtt_measure(struct tcp_sock *tp)
{
	u32 delta_us;

	if (tp->rcv_rtt_est.time == 0)
		goto new_measure;
	if (before(tp->rcv_nxt, tp->rcv_rtt_est.seq))
		return;
	delta_us = tcp_stamp_us_delta(tp->tcp_mstamp, tp->rcv_rtt_est.time);
	if (!delta_us)
		delta_us = 1;
	xtcp_rcv_rtt_update(tp, delta_us, 1);
new_measure:
	tp->rcv_rtt_est.seq = tp->rcv_nxt + tp->rcv_wnd;
	tp->rcv_rtt_est.time = tp->tcp_mstamp;
}

/**
 * xtcp_rcv_rtt_measure_ts - a receiver RTT sample from a timestamp echo
 * @sk:  the connection, locked; tcp_mstamp refreshed for this segment
 * @skb: the segment, its options parsed (rx_opt.rcv_tsecr on our clock)
 *
 * tcp_rcv_rtt_measure_ts(): once per new echo, from a segment of at
 * least rcv_mss bytes (a full segment is sent as soon as it is
 * acknowledged, so the echo's age is an RTT; RFC 7323 4.1).  TSvals are
 * in ms; the sample is in us.
 */
void xtcp_rcv_rtt_measure_ts(struct sock *sk, const struct sk_buff *skb)
{
	struct tcp_sock *tp = tcp_sk(sk);
	u32 delta;

	if (tp->rx_opt.rcv_tsecr == tp->rcv_rtt_last_tsecr)
		return;
	tp->rcv_rtt_last_tsecr = tp->rx_opt.rcv_tsecr;
	if (TCP_SKB_CB(skb)->end_seq - TCP_SKB_CB(skb)->seq <
	    inet_csk(sk)->icsk_ack.rcv_mss)
		return;
	delta = (u32)div_u64(tp->tcp_mstamp, USEC_PER_MSEC) -
		tp->rx_opt.rcv_tsecr;
	if (unlikely(delta >= INT_MAX / USEC_PER_MSEC))
		return;
	if (!delta) {
		if (!XTCP_RCV_RTT_ZERO_TS_SAMPLE)
			return;
		delta = 1;
	}
	xtcp_rcv_rtt_update(tp, delta * USEC_PER_MSEC, 0);
}

/**
 * xtcp_rcv_space_adjust - receive-buffer autotuning (tcp_rcv_space_adjust())
 * @sk: the connection, locked by the reader; called after each copy
 *
 * Once per receiver RTT (rcv_rtt_est), if the reader took more than in
 * the RTT before, the buffer grows to hold twice that plus 16 segments,
 * and more in proportion to the growth (a sender in slow start doubles
 * each RTT, and our ACK now is for the next RTT), up to
 * net.ipv4.tcp_rmem[2], unless net.ipv4.tcp_moderate_rcvbuf is off or
 * the user set SO_RCVBUF.  The window clamp follows; the window itself
 * grows as rcv_ssthresh lets it (xtcp_grow_window()).
 */
void xtcp_rcv_space_adjust(struct sock *sk)
{
	struct tcp_sock *tp = tcp_sk(sk);
	struct net *net = sock_net(sk);
	int time, copied;

	xtcp_mstamp_refresh(tp);
	time = tcp_stamp_us_delta(tp->tcp_mstamp, tp->rcvq_space.time);
	if (time < (tp->rcv_rtt_est.rtt_us >> 3) || tp->rcv_rtt_est.rtt_us == 0)
		return;
	/* Bytes the reader took in the last RTT. */
	copied = tp->copied_seq - tp->rcvq_space.seq;
	if (XTCP_RCVQ_SPACE_MINUS_INQ)
		copied -= tp->rcv_nxt - tp->copied_seq;
	if (copied <= tp->rcvq_space.space)
		goto new_measure;

	if (READ_ONCE(net->ipv4.sysctl_tcp_moderate_rcvbuf) &&
	    !(sk->sk_userlocks & SOCK_RCVBUF_LOCK)) {
		u64 rcvwin, grow;
		int rcvbuf;

		/* Twice a steady window for losses, plus a cushion. */
		rcvwin = ((u64)copied << 1) + 16 * tp->advmss;
		/* And the sender's growth. */
		grow = rcvwin * (copied - tp->rcvq_space.space);
		do_div(grow, tp->rcvq_space.space);
		rcvwin += (grow << 1);

		rcvbuf = min_t(u64, xtcp_space_from_win(sk, rcvwin),
			       READ_ONCE(net->ipv4.sysctl_tcp_rmem[2]));
		if (rcvbuf > sk->sk_rcvbuf) {
			WRITE_ONCE(sk->sk_rcvbuf, rcvbuf);
			WRITE_ONCE(tp->window_clamp,
				   xtcp_win_from_space(sk, rcvbuf));
		}
	}
	tp->rcvq_space.space = copied;
new_measure:
	tp->rcvq_space.seq = tp->copied_seq;
	tp->rcvq_space.time = tp->tcp_mstamp;
}

/* tcp_incr_quickack(): ACK the next few segments at once. */
static void xtcp_incr_quickack(struct sock *sk, unsigned int max_quickacks)
{
	struct inet_connection_sock *icsk = inet_csk(sk);
	unsigned int quickacks;

	quickacks = tcp_sk(sk)->rcv_wnd / (2 * icsk->icsk_ack.rcv_mss);
	if (quickacks == 0)
		quickacks = 2;
	quickacks = min(quickacks, max_quickacks);
	if (quickacks > icsk->icsk_ack.quick)
		icsk->icsk_ack.quick = quickacks;
}

/**
 * xtcp_enter_quickack_mode - ACK every segment for a while
 * @sk:            the connection, locked
 * @max_quickacks: at most this many immediate ACKs (TCP_MAX_QUICKACKS)
 *
 * tcp_enter_quickack_mode(): after out-of-order or duplicate data the
 * sender needs to hear from us at once (RFC 5681 4.2), and an
 * interactive (pingpong) connection stops being treated as one.
 */
void xtcp_enter_quickack_mode(struct sock *sk, unsigned int max_quickacks)
{
	struct inet_connection_sock *icsk = inet_csk(sk);

	xtcp_incr_quickack(sk, max_quickacks);
	inet_csk_exit_pingpong_mode(sk);
	icsk->icsk_ack.ato = TCP_ATO_MIN;
}

/* tcp_in_quickack_mode(): quick ACKs left, and not interactive. */
static bool xtcp_in_quickack_mode(struct sock *sk)
{
	const struct inet_connection_sock *icsk = inet_csk(sk);

	return xtcp_dst_quick_ack(sk) ||
	       (icsk->icsk_ack.quick && !inet_csk_in_pingpong_mode(sk));
}

/*
 * __tcp_grow_window(): with a poor payload/truesize ratio, grow only
 * while the whole buffer at that ratio could still hold the window.
 */
static int __xtcp_grow_window(const struct sock *sk, const struct sk_buff *skb,
			      unsigned int skbtruesize)
{
	const struct tcp_sock *tp = tcp_sk(sk);
	int truesize = xtcp_win_from_space(sk, skbtruesize) >> 1;
	int window = xtcp_win_from_space(sk,
			READ_ONCE(sock_net(sk)->ipv4.sysctl_tcp_rmem[2])) >> 1;

	while (tp->rcv_ssthresh <= window) {
		if (truesize <= skb->len)
			return 2 * inet_csk(sk)->icsk_ack.rcv_mss;
		truesize >>= 1;
		window >>= 1;
	}
	return 0;
}

/*
 * truesize_adjust(): a driver that puts the whole frame in page frags
 * (no payload in skb->head) is not charged for the head, which
 * coalescing frees or shares anyway; an skb already condensed
 * (!@adjust) keeps its count.
 */
static unsigned int xtcp_truesize_adjust(bool adjust, const struct sk_buff *skb)
{
	unsigned int truesize = skb->truesize;

	if (adjust && !skb_headlen(skb)) {
		truesize -= SKB_TRUESIZE(skb_end_offset(skb));
		if (unlikely((int)truesize < (int)skb->len))
			truesize = skb->truesize;
	}
	return truesize;
}

/*
 * tcp_grow_window(): rcv_ssthresh, the window's slow start, grows by at
 * least two segments for each segment whose memory cost the buffer can
 * carry, so that the sender's window is never one we could not queue.
 * Under memory pressure it shrinks to what is reserved instead.
 */
static void xtcp_grow_window(struct sock *sk, const struct sk_buff *skb,
			     bool adjust)
{
	struct tcp_sock *tp = tcp_sk(sk);
	unsigned int truesize;
	int room, incr;

	room = min_t(int, tp->window_clamp, xtcp_space(sk)) - tp->rcv_ssthresh;
	if (room <= 0)
		return;
	if (xtcp_under_memory_pressure(sk)) {
		xtcp_adjust_rcv_ssthresh(sk);
		return;
	}
	truesize = xtcp_truesize_adjust(adjust, skb);
	if (xtcp_win_from_space(sk, truesize) <= skb->len)
		incr = 2 * tp->advmss;
	else
		incr = __xtcp_grow_window(sk, skb, truesize);
	if (incr) {
		incr = max_t(int, incr, 2 * skb->len);
		tp->rcv_ssthresh += min(room, incr);
		inet_csk(sk)->icsk_ack.quick |= 1;
	}
}

/**
 * xtcp_event_data_recv - new data arrived in order (tcp_event_data_recv())
 * @sk:  the connection, locked
 * @skb: the data, queued
 *
 * An ACK is due; the first data starts quick-ACK mode, and the
 * delayed-ACK timeout (ato, jiffies) follows the gaps between segments:
 * half-life towards TCP_ATO_MIN for back-to-back data, towards the gap
 * otherwise, bounded by the RTO and TCP_DELACK_MAX (6.1 leaves out the
 * latter, compat.h).  The receive window may grow.
 */
void xtcp_event_data_recv(struct sock *sk, struct sk_buff *skb)
{
	struct inet_connection_sock *icsk = inet_csk(sk);
	u32 now = tcp_jiffies32;

	inet_csk_schedule_ack(sk);
	xtcp_measure_rcv_mss(sk, skb);
	xtcp_rcv_rtt_measure(tcp_sk(sk));
	if (!icsk->icsk_ack.ato) {
		/* The first data segment: start the delayed-ACK engine. */
		xtcp_incr_quickack(sk, TCP_MAX_QUICKACKS);
		icsk->icsk_ack.ato = TCP_ATO_MIN;
	} else {
		int m = now - icsk->icsk_ack.lrcvtime;

		if (m <= TCP_ATO_MIN / 2)
			icsk->icsk_ack.ato = (icsk->icsk_ack.ato >> 1) +
					     TCP_ATO_MIN / 2;
		else if (m < icsk->icsk_ack.ato)
			icsk->icsk_ack.ato =
				xtcp_ato_bound(sk, (icsk->icsk_ack.ato >> 1) +
						   (u32)m);
		else if (m > icsk->icsk_rto)
			/* The sender idled past an RTO: ACK quickly again. */
			xtcp_incr_quickack(sk, TCP_MAX_QUICKACKS);
	}
	icsk->icsk_ack.lrcvtime = now;
	xtcp_ecn_check_ce(sk, skb);
	if (skb->len >= 128)
		xtcp_grow_window(sk, skb, true);
}

/**
 * xtcp_ecn_check_ce - the IP ECN field of received data (tcp_ecn_check_ce())
 * @sk:  the connection, locked; nothing happens unless ECN was agreed
 * @skb: a data segment (TCP_SKB_CB(skb)->ip_dsfield)
 *
 * RFC 3168 6.1.3: CE asks us to echo ECE on every ACK until the peer's
 * CWR (TCP_ECN_DEMAND_CWR), and to ACK at once, since the sender's cwnd
 * may be tiny.  Not-ECT after ECT was seen is likely a retransmission:
 * quick ACKs too.  An algorithm that wants each mark (DCTCP) hears of it.
 */
void xtcp_ecn_check_ce(struct sock *sk, const struct sk_buff *skb)
{
	struct tcp_sock *tp = tcp_sk(sk);

	if (!(tp->ecn_flags & TCP_ECN_OK))
		return;
	switch (TCP_SKB_CB(skb)->ip_dsfield & INET_ECN_MASK) {
	case INET_ECN_NOT_ECT:
		if (tp->ecn_flags & TCP_ECN_SEEN)
			xtcp_enter_quickack_mode(sk, 2);
		break;
	case INET_ECN_CE:
		if (xtcp_ca_needs_ecn(sk))
			xtcp_ca_event(sk, CA_EVENT_ECN_IS_CE);
		if (!(tp->ecn_flags & TCP_ECN_DEMAND_CWR)) {
			xtcp_enter_quickack_mode(sk, 2);
			tp->ecn_flags |= TCP_ECN_DEMAND_CWR;
		}
		tp->ecn_flags |= TCP_ECN_SEEN;
		break;
	default:
		if (xtcp_ca_needs_ecn(sk))
			xtcp_ca_event(sk, CA_EVENT_ECN_NO_CE);
		tp->ecn_flags |= TCP_ECN_SEEN;
		break;
	}
}

/*
 * tcp_try_coalesce(): append @from's payload to the queue's tail @to, so
 * that a stream of small segments costs one skb's overhead.
 */
static bool xtcp_try_coalesce(struct sock *sk, struct sk_buff *to,
			      struct sk_buff *from, bool *fragstolen)
{
	int delta;

	*fragstolen = false;
	if (TCP_SKB_CB(from)->seq != TCP_SKB_CB(to)->end_seq)
		return false;
	if (!xtcp_skb_can_collapse_rx(to, from))
		return false;
	if (!skb_try_coalesce(to, from, fragstolen, &delta))
		return false;
	atomic_add(delta, &sk->sk_rmem_alloc);
	sk_mem_charge(sk, delta);
	xtcp_inc_stats(sock_net(sk), XTCP_MIB_TCPRCVCOALESCE);
	TCP_SKB_CB(to)->end_seq = TCP_SKB_CB(from)->end_seq;
	TCP_SKB_CB(to)->ack_seq = TCP_SKB_CB(from)->ack_seq;
	TCP_SKB_CB(to)->tcp_flags |= TCP_SKB_CB(from)->tcp_flags;
	if (TCP_SKB_CB(from)->has_rxtstamp) {
		TCP_SKB_CB(to)->has_rxtstamp = true;
		to->tstamp = from->tstamp;
		skb_hwtstamps(to)->hwtstamp = skb_hwtstamps(from)->hwtstamp;
	}
	return true;
}

/* tcp_rcv_nxt_update(): bytes_received is what TCP_INFO reports. */
static void xtcp_rcv_nxt_update(struct tcp_sock *tp, u32 seq)
{
	u32 delta = seq - tp->rcv_nxt;

	sock_owned_by_me((struct sock *)tp);
	tp->bytes_received += delta;
	WRITE_ONCE(tp->rcv_nxt, seq);
}

/**
 * xtcp_queue_rcv - in-order data to the receive queue (tcp_queue_rcv())
 * @sk:         the connection, locked
 * @skb:        the data, its header pulled, starting at rcv_nxt
 * @fragstolen: set when @skb's head was taken too (kfree_skb_partial())
 *
 * Merged into the tail skb when it can be, else queued and charged to
 * the socket; rcv_nxt moves past it.
 *
 * Return: 1 if @skb was merged (the caller frees it), else 0.
 */
int xtcp_queue_rcv(struct sock *sk, struct sk_buff *skb, bool *fragstolen)
{
	struct sk_buff *tail = skb_peek_tail(&sk->sk_receive_queue);
	int eaten;

	eaten = (tail && xtcp_try_coalesce(sk, tail, skb, fragstolen)) ? 1 : 0;
	xtcp_rcv_nxt_update(tcp_sk(sk), TCP_SKB_CB(skb)->end_seq);
	if (!eaten) {
		__skb_queue_tail(&sk->sk_receive_queue, skb);
		skb_set_owner_r(skb, sk);
	}
	return eaten;
}

/*
 * tcp_clamp_window(): the queue outgrew the buffer.  Take more buffer if
 * the user did not fix its size and memory allows, else stop growing
 * the window.
 */
static void xtcp_clamp_window(struct sock *sk)
{
	struct inet_connection_sock *icsk = inet_csk(sk);
	struct tcp_sock *tp = tcp_sk(sk);
	int rmem2 = READ_ONCE(sock_net(sk)->ipv4.sysctl_tcp_rmem[2]);

	icsk->icsk_ack.quick = 0;
	if (sk->sk_rcvbuf < rmem2 &&
	    !(sk->sk_userlocks & SOCK_RCVBUF_LOCK) &&
	    !xtcp_under_memory_pressure(sk) &&
	    atomic_long_read(&xtcp_memory_allocated) <
	    READ_ONCE(sysctl_xtcp_mem[0]))
		WRITE_ONCE(sk->sk_rcvbuf,
			   min(atomic_read(&sk->sk_rmem_alloc), rmem2));
	if (atomic_read(&sk->sk_rmem_alloc) > sk->sk_rcvbuf)
		tp->rcv_ssthresh = min(tp->window_clamp, 2U * tp->advmss);
}

/* tcp_skb_next(): the next skb of the receive queue or of the rbtree. */
static struct sk_buff *xtcp_skb_next(struct sk_buff *skb,
				     struct sk_buff_head *list)
{
	if (list)
		return !skb_queue_is_last(list, skb) ? skb->next : NULL;
	return skb_rb_next(skb);
}

/* tcp_collapse_one(): @skb's bytes are all copied; free it. */
static struct sk_buff *xtcp_collapse_one(struct sock *sk, struct sk_buff *skb,
					 struct sk_buff_head *list,
					 struct rb_root *root)
{
	struct sk_buff *next = xtcp_skb_next(skb, list);

	if (list)
		__skb_unlink(skb, list);
	else
		rb_erase(&skb->rbnode, root);
	__kfree_skb(skb);
	xtcp_inc_stats(sock_net(sk), XTCP_MIB_TCPRCVCOLLAPSED);
	return next;
}

/*
 * tcp_rbtree_insert(): link @skb by seq into the out-of-order queue or
 * the retransmit queue.  Socket locked.
 */
void xtcp_rbtree_insert(struct rb_root *root, struct sk_buff *skb)
{
	struct rb_node **p = &root->rb_node;
	struct rb_node *parent = NULL;

	while (*p) {
		parent = *p;
		if (before(TCP_SKB_CB(skb)->seq, TCP_SKB_CB(rb_to_skb(parent))->seq))
			p = &parent->rb_left;
		else
			p = &parent->rb_right;
	}
	rb_link_node(&skb->rbnode, parent, p);
	rb_insert_color(&skb->rbnode, root);
}

/*
 * tcp_collapse()'s first half: from @skb on, skip what is dense already
 * (its window is worth its memory, no overlap with the next) and drop
 * what holds nothing new; return where copying pays off, or NULL.
 * @start moves past what was skipped.
 */
static struct sk_buff *xtcp_collapse_start(struct sock *sk,
					   struct sk_buff_head *list,
					   struct rb_root *root,
					   struct sk_buff *skb,
					   struct sk_buff *tail, u32 *start)
{
	struct sk_buff *n;

restart:
	for (; skb && skb != tail; skb = n) {
		n = xtcp_skb_next(skb, list);
		if (!xtcp_skb_frags_readable(skb))
			goto skip_this;
		/* No new bits: possible in the out-of-order queue. */
		if (!before(*start, TCP_SKB_CB(skb)->end_seq)) {
			skb = xtcp_collapse_one(sk, skb, list, root);
			if (!skb)
				return NULL;
			goto restart;
		}
		/* Bloated, or holding bytes before start: collapse from here. */
		if (!(TCP_SKB_CB(skb)->tcp_flags & (TCPHDR_SYN | TCPHDR_FIN)) &&
		    (xtcp_win_from_space(sk, skb->truesize) > skb->len ||
		     before(TCP_SKB_CB(skb)->seq, *start)))
			goto found;
		/* Overlapping a mergeable next one: collapse from here. */
		if (n && n != tail && xtcp_skb_frags_readable(n) &&
		    xtcp_skb_can_collapse_rx(skb, n) &&
		    TCP_SKB_CB(skb)->end_seq != TCP_SKB_CB(n)->seq)
			goto found;
skip_this:
		*start = TCP_SKB_CB(skb)->end_seq;
	}
	return NULL;
found:
	if ((TCP_SKB_CB(skb)->tcp_flags & (TCPHDR_SYN | TCPHDR_FIN)) ||
	    !xtcp_skb_frags_readable(skb))
		return NULL;
	return skb;
}

/*
 * tcp_collapse(): copy the bytes [@start, @end) of @head up to @tail
 * (exclusive) of the receive queue (@list) or the out-of-order queue
 * (@root) into new skbs with no slack, freeing the originals
 * (TCPRcvCollapsed), so that the same data costs less of the budget.
 * A SYN or FIN skb, unreadable frags or an allocation failure end it.
 * New out-of-order skbs go into the rbtree only at the end, not to
 * disturb the walk.
 */
static void xtcp_collapse(struct sock *sk, struct sk_buff_head *list,
			  struct rb_root *root, struct sk_buff *head,
			  struct sk_buff *tail, u32 start, u32 end)
{
	struct sk_buff *skb, *n;
	struct sk_buff_head tmp;

	skb = xtcp_collapse_start(sk, list, root, head, tail, &start);
	if (!skb)
		return;
	__skb_queue_head_init(&tmp);
	while (before(start, end)) {
		int copy = min_t(int, SKB_MAX_ORDER(0, 0), end - start);
		struct sk_buff *nskb;

		nskb = alloc_skb(copy, GFP_ATOMIC);
		if (!nskb)
			break;
		memcpy(nskb->cb, skb->cb, sizeof(skb->cb));
		skb_copy_decrypted(nskb, skb);
		TCP_SKB_CB(nskb)->seq = TCP_SKB_CB(nskb)->end_seq = start;
		if (list)
			__skb_queue_before(list, skb, nskb);
		else
			__skb_queue_tail(&tmp, nskb);
		skb_set_owner_r(nskb, sk);

		while (copy > 0) {
			int offset = start - TCP_SKB_CB(skb)->seq;
			int size = TCP_SKB_CB(skb)->end_seq - start;

			/* The walk keeps start within skb: a bug otherwise. */
			if (WARN_ON_ONCE(offset < 0))
				goto end;
			if (size > 0) {
				size = min(copy, size);
				if (WARN_ON_ONCE(skb_copy_bits(skb, offset,
							       skb_put(nskb, size),
							       size)))
					goto end;
				TCP_SKB_CB(nskb)->end_seq += size;
				copy -= size;
				start += size;
			}
			if (!before(start, TCP_SKB_CB(skb)->end_seq)) {
				skb = xtcp_collapse_one(sk, skb, list, root);
				if (!skb || skb == tail ||
				    !xtcp_skb_can_collapse_rx(nskb, skb) ||
				    (TCP_SKB_CB(skb)->tcp_flags &
				     (TCPHDR_SYN | TCPHDR_FIN)) ||
				    !xtcp_skb_frags_readable(skb))
					goto end;
			}
		}
	}
end:
	skb_queue_walk_safe(&tmp, skb, n)
		xtcp_rbtree_insert(root, skb);
}

/*
 * tcp_collapse_ofo_queue(): collapse each run of touching skbs in the
 * out-of-order queue, except runs of one small skb, which would not
 * get smaller; stop once the tiny ones skipped reach an eighth of the
 * buffer, as there is nothing to win.
 */
static void xtcp_collapse_ofo_queue(struct sock *sk)
{
	struct tcp_sock *tp = tcp_sk(sk);
	u32 range_truesize, sum_tiny = 0;
	struct sk_buff *skb, *head;
	u32 start, end;

	skb = skb_rb_first(&tp->out_of_order_queue);
new_range:
	if (!skb) {
		tp->ooo_last_skb = skb_rb_last(&tp->out_of_order_queue);
		return;
	}
	start = TCP_SKB_CB(skb)->seq;
	end = TCP_SKB_CB(skb)->end_seq;
	range_truesize = skb->truesize;
	for (head = skb;;) {
		skb = skb_rb_next(skb);
		/* A gap, or the end of the queue, ends the range. */
		if (!skb || after(TCP_SKB_CB(skb)->seq, end) ||
		    before(TCP_SKB_CB(skb)->end_seq, start)) {
			if (range_truesize != head->truesize ||
			    end - start >= SKB_WITH_OVERHEAD(PAGE_SIZE)) {
				xtcp_collapse(sk, NULL, &tp->out_of_order_queue,
					      head, skb, start, end);
			} else {
				sum_tiny += range_truesize;
				if (sum_tiny > sk->sk_rcvbuf >> 3)
					return;
			}
			goto new_range;
		}
		range_truesize += skb->truesize;
		if (unlikely(before(TCP_SKB_CB(skb)->seq, start)))
			start = TCP_SKB_CB(skb)->seq;
		if (after(TCP_SKB_CB(skb)->end_seq, end))
			end = TCP_SKB_CB(skb)->end_seq;
	}
}

/*
 * tcp_prune_ofo_queue(): the out-of-order queue is what the sender
 * must retransmit anyway, so under memory pressure it goes first, from
 * its highest sequence down, at least an eighth of the buffer at a time
 * so that a peer cannot make each segment cost a prune.  6.12 keeps the
 * segments below @in_skb, which would otherwise be dropped only to
 * queue one above them (compat.h).  Since the data we SACKed is gone,
 * the SACK state is reset (RFC 2018 section 8 lets the receiver renege).
 * Returns true if anything was dropped.
 */
static bool xtcp_prune_ofo_queue(struct sock *sk, const struct sk_buff *in_skb)
{
	struct tcp_sock *tp = tcp_sk(sk);
	struct rb_node *node, *prev;
	bool pruned = false;
	int goal;

	if (RB_EMPTY_ROOT(&tp->out_of_order_queue))
		return false;
	goal = sk->sk_rcvbuf >> 3;
	node = &tp->ooo_last_skb->rbnode;
	do {
		struct sk_buff *skb = rb_to_skb(node);

		if (XTCP_OFO_PRUNE_SPARES_LOWER &&
		    after(TCP_SKB_CB(in_skb)->seq, TCP_SKB_CB(skb)->seq))
			break;
		pruned = true;
		prev = rb_prev(node);
		rb_erase(node, &tp->out_of_order_queue);
		goal -= skb->truesize;
		xtcp_drop_reason(sk, skb, SKB_DROP_REASON_TCP_OFO_QUEUE_PRUNE);
		tp->ooo_last_skb = rb_to_skb(prev);
		if (!prev || goal <= 0) {
			if (atomic_read(&sk->sk_rmem_alloc) <= sk->sk_rcvbuf &&
			    !xtcp_under_memory_pressure(sk))
				break;
			goal = sk->sk_rcvbuf >> 3;
		}
		node = prev;
	} while (node);

	if (pruned) {
		xtcp_inc_stats(sock_net(sk), XTCP_MIB_OFOPRUNED);
		if (tp->rx_opt.sack_ok)
			tcp_sack_reset(&tp->rx_opt);
	}
	return pruned;
}

/*
 * tcp_prune_queue(): the socket is over its budget.  Clamp the window;
 * then pack both queues densely (collapse), which loses nothing; only
 * if that is not enough, give up the out-of-order queue (reneging on
 * its SACKs); fail if the socket is still over budget.
 */
static int xtcp_prune_queue(struct sock *sk, const struct sk_buff *in_skb)
{
	struct net *net = sock_net(sk);

	xtcp_inc_stats(net, XTCP_MIB_PRUNECALLED);
	if (atomic_read(&sk->sk_rmem_alloc) >= sk->sk_rcvbuf)
		xtcp_clamp_window(sk);
	else if (xtcp_under_memory_pressure(sk))
		xtcp_adjust_rcv_ssthresh(sk);
	if (atomic_read(&sk->sk_rmem_alloc) <= sk->sk_rcvbuf)
		return 0;
	xtcp_collapse_ofo_queue(sk);
	if (!skb_queue_empty(&sk->sk_receive_queue))
		xtcp_collapse(sk, &sk->sk_receive_queue, NULL,
			      skb_peek(&sk->sk_receive_queue), NULL,
			      tcp_sk(sk)->copied_seq, tcp_sk(sk)->rcv_nxt);
	if (atomic_read(&sk->sk_rmem_alloc) <= sk->sk_rcvbuf)
		return 0;
	xtcp_prune_ofo_queue(sk, in_skb);
	if (atomic_read(&sk->sk_rmem_alloc) <= sk->sk_rcvbuf)
		return 0;
	xtcp_inc_stats(net, XTCP_MIB_RCVPRUNED);
	/* Massive overcommit: every segment takes the slow path. */
	tcp_sk(sk)->pred_flags = 0;
	return -1;
}

/*
 * tcp_try_rmem_schedule(): charge @size bytes to the socket's receive
 * budget (sk_rcvbuf) and to xtcp's pool (net.xtcp.mem), pruning if
 * either is out.
 */
static int xtcp_try_rmem_schedule(struct sock *sk, struct sk_buff *skb,
				  unsigned int size)
{
	if (atomic_read(&sk->sk_rmem_alloc) > sk->sk_rcvbuf ||
	    !sk_rmem_schedule(sk, skb, size)) {
		if (xtcp_prune_queue(sk, skb) < 0)
			return -1;
		while (!sk_rmem_schedule(sk, skb, size)) {
			if (!xtcp_prune_ofo_queue(sk, skb))
				return -1;
		}
	}
	return 0;
}

/**
 * xtcp_dsack_set - report duplicate data in the next ACK (tcp_dsack_set())
 * @sk:      the connection, locked
 * @seq:     first duplicate byte
 * @end_seq: one past the last
 *
 * RFC 2883: the first SACK block of the next ACK names the duplicate,
 * if SACK was agreed and net.ipv4.tcp_dsack allows it.
 */
void xtcp_dsack_set(struct sock *sk, u32 seq, u32 end_seq)
{
	struct tcp_sock *tp = tcp_sk(sk);

	if (!tp->rx_opt.sack_ok ||
	    !READ_ONCE(xtcp_pernet(sock_net(sk))->sysctl.dsack))
		return;
	xtcp_inc_stats(sock_net(sk), before(seq, tp->rcv_nxt) ?
		       XTCP_MIB_TCPDSACKOLDSENT : XTCP_MIB_TCPDSACKOFOSENT);
	tp->rx_opt.dsack = 1;
	tp->duplicate_sack[0].start_seq = seq;
	tp->duplicate_sack[0].end_seq = end_seq;
}

/* tcp_sack_extend(): grow @sp by [@seq, @end_seq) if they touch. */
static bool xtcp_sack_extend(struct tcp_sack_block *sp, u32 seq, u32 end_seq)
{
	if (!after(seq, sp->end_seq) && !after(sp->start_seq, end_seq)) {
		if (before(seq, sp->start_seq))
			sp->start_seq = seq;
		if (after(end_seq, sp->end_seq))
			sp->end_seq = end_seq;
		return true;
	}
	return false;
}

/* tcp_dsack_extend(): one D-SACK block covers all duplicates seen. */
static void xtcp_dsack_extend(struct sock *sk, u32 seq, u32 end_seq)
{
	struct tcp_sock *tp = tcp_sk(sk);

	if (!tp->rx_opt.dsack)
		xtcp_dsack_set(sk, seq, end_seq);
	else
		xtcp_sack_extend(tp->duplicate_sack, seq, end_seq);
}

/* tcp_sack_maybe_coalesce(): the first block grew into others: merge. */
static void xtcp_sack_maybe_coalesce(struct tcp_sock *tp)
{
	struct tcp_sack_block *sp = &tp->selective_acks[0];
	struct tcp_sack_block *swalk = sp + 1;
	int this_sack, i;

	for (this_sack = 1; this_sack < tp->rx_opt.num_sacks;) {
		if (xtcp_sack_extend(sp, swalk->start_seq, swalk->end_seq)) {
			tp->rx_opt.num_sacks--;
			for (i = this_sack; i < tp->rx_opt.num_sacks; i++)
				sp[i] = sp[i + 1];
			continue;
		}
		this_sack++;
		swalk++;
	}
}

/**
 * xtcp_sack_compress_send_ack - send the ACK that SACK compression held
 * @sk: the connection, locked
 *
 * tcp_sack_compress_send_ack(): the compression timer's reference goes
 * with the timer if it was still pending; one of the held ACKs is the
 * one sent now, the others count in TCPAckCompressed.
 */
void xtcp_sack_compress_send_ack(struct sock *sk)
{
	struct tcp_sock *tp = tcp_sk(sk);

	if (!tp->compressed_ack)
		return;
	if (hrtimer_try_to_cancel(&tp->compressed_ack_timer) == 1)
		__sock_put(sk);
	xtcp_add_stats(sock_net(sk), XTCP_MIB_TCPACKCOMPRESSED,
		       tp->compressed_ack - 1);
	tp->compressed_ack = 0;
	xtcp_send_ack(sk);
}

/*
 * Of the TCP_NUM_SACKS blocks we remember, two are what a sender can
 * expect to see (three fit beside a timestamp, and ACKs get lost).  A
 * change beyond them must not wait for compression (tcp_input.c's
 * TCP_SACK_BLOCKS_EXPECTED).
 */
#define XTCP_SACK_BLOCKS_EXPECTED	2

/*
 * tcp_sack_new_ofo_skb(): [@seq, @end_seq) was queued out of order.  The
 * block it extends, or a new one, moves to the front: RFC 2018 section 4
 * wants the most recently changed block first.  The oldest block falls
 * off a full list.
 */
static void xtcp_sack_new_ofo_skb(struct sock *sk, u32 seq, u32 end_seq)
{
	struct tcp_sock *tp = tcp_sk(sk);
	struct tcp_sack_block *sp = &tp->selective_acks[0];
	int cur_sacks = tp->rx_opt.num_sacks;
	int this_sack;

	if (!cur_sacks)
		goto new_sack;
	for (this_sack = 0; this_sack < cur_sacks; this_sack++, sp++) {
		if (xtcp_sack_extend(sp, seq, end_seq)) {
			if (this_sack >= XTCP_SACK_BLOCKS_EXPECTED)
				xtcp_sack_compress_send_ack(sk);
			for (; this_sack > 0; this_sack--, sp--)
				swap(*sp, *(sp - 1));
			if (cur_sacks > 1)
				xtcp_sack_maybe_coalesce(tp);
			return;
		}
	}
	if (this_sack >= XTCP_SACK_BLOCKS_EXPECTED)
		xtcp_sack_compress_send_ack(sk);
	if (this_sack >= TCP_NUM_SACKS) {
		this_sack--;
		tp->rx_opt.num_sacks--;
		sp--;
	}
	for (; this_sack > 0; this_sack--, sp--)
		*sp = *(sp - 1);
new_sack:
	sp->start_seq = seq;
	sp->end_seq = end_seq;
	tp->rx_opt.num_sacks++;
}

/* tcp_sack_remove(): rcv_nxt advanced; blocks it covers are done. */
static void xtcp_sack_remove(struct tcp_sock *tp)
{
	struct tcp_sack_block *sp = &tp->selective_acks[0];
	int num_sacks = tp->rx_opt.num_sacks;
	int this_sack, i;

	if (RB_EMPTY_ROOT(&tp->out_of_order_queue)) {
		tp->rx_opt.num_sacks = 0;
		return;
	}
	for (this_sack = 0; this_sack < num_sacks;) {
		if (!before(tp->rcv_nxt, sp->start_seq)) {
			/* A block is in the queue whole or not at all. */
			WARN_ON_ONCE(before(tp->rcv_nxt, sp->end_seq));
			for (i = this_sack + 1; i < num_sacks; i++)
				tp->selective_acks[i - 1] = tp->selective_acks[i];
			num_sacks--;
			continue;
		}
		this_sack++;
		sp++;
	}
	tp->rx_opt.num_sacks = num_sacks;
}

/* skb_rbtree_purge(), which the kernel does not export. */
static void xtcp_rbtree_purge(struct rb_root *root)
{
	struct rb_node *p = rb_first(root);

	while (p) {
		struct sk_buff *skb = rb_entry(p, struct sk_buff, rbnode);

		p = rb_next(p);
		rb_erase(&skb->rbnode, root);
		kfree_skb(skb);
	}
}

/**
 * xtcp_fin - the peer has no more to send (tcp_fin())
 * @sk: the connection, locked (or a Fast Open child at its SYN, whose
 *      SYN carried the FIN: xtcp_fastopen_add_skb())
 *
 * RFC 9293 3.10.7.4, step 8.  The FIN is ACKed like data; ESTABLISHED
 * (or SYN-RECEIVED) moves to CLOSE_WAIT and the connection is taken for
 * interactive, so the ACK may wait for our reply.  After our own FIN:
 * FIN-WAIT-1 to CLOSING (simultaneous close), FIN-WAIT-2 to TIME-WAIT,
 * each with an ACK at once.
 */
void xtcp_fin(struct sock *sk)
{
	inet_csk_schedule_ack(sk);
	WRITE_ONCE(sk->sk_shutdown, sk->sk_shutdown | RCV_SHUTDOWN);
	sock_set_flag(sk, SOCK_DONE);

	switch (sk->sk_state) {
	case TCP_SYN_RECV:
	case TCP_ESTABLISHED:
		inet_sk_set_state(sk, TCP_CLOSE_WAIT);
		inet_csk_enter_pingpong_mode(sk);
		break;
	case TCP_CLOSE_WAIT:
	case TCP_CLOSING:
		/* A retransmitted FIN. */
		break;
	case TCP_LAST_ACK:
		/* RFC 9293: remain in LAST-ACK. */
		break;
	case TCP_FIN_WAIT1:
		/* Simultaneous close: ACK the FIN, wait for ours' ACK. */
		xtcp_send_ack(sk);
		inet_sk_set_state(sk, TCP_CLOSING);
		break;
	case TCP_FIN_WAIT2:
		/* Both FINs are acknowledged now: TIME-WAIT. */
		xtcp_send_ack(sk);
		xtcp_time_wait(sk, TCP_TIME_WAIT, 0);
		break;
	default:
		/* Unreachable, as in stock: a log line, not a WARN. */
		pr_err_ratelimited("xtcp: FIN in state %d\n", sk->sk_state);
		break;
	}
	/* Out-of-order data beyond the FIN can never be read: drop it. */
	xtcp_purge_ofo_queue(sk);
	if (!sock_flag(sk, SOCK_DEAD)) {
		sk->sk_state_change(sk);
		/* No POLL_HUP for a half-duplex close. */
		if (sk->sk_shutdown == SHUTDOWN_MASK ||
		    sk->sk_state == TCP_CLOSE)
			sk_wake_async(sk, SOCK_WAKE_WAITD, POLL_HUP);
		else
			sk_wake_async(sk, SOCK_WAKE_WAITD, POLL_IN);
	}
}

/*
 * Charge an in-order skb to the receive budget.  6.1 charges the first
 * skb of an empty queue whatever the budget says and drops the others
 * that do not fit; 6.12 tries first, and when the budget is out it asks
 * for an immediate ACK announcing a zero window (ICSK_ACK_NOMEM), then
 * drops only data that finds the queue non-empty.  Returns false if the
 * skb must be dropped.
 */
static bool xtcp_rcvq_charge(struct sock *sk, struct sk_buff *skb)
{
	struct inet_connection_sock *icsk = inet_csk(sk);

	if (!XTCP_RCVQ_NOMEM_ACK) {
		if (skb_queue_len(&sk->sk_receive_queue) == 0) {
			xtcp_forced_mem_schedule(sk, skb->truesize);
			return true;
		}
		if (!xtcp_try_rmem_schedule(sk, skb, skb->truesize))
			return true;
		xtcp_inc_stats(sock_net(sk), XTCP_MIB_TCPRCVQDROP);
		sk->sk_data_ready(sk);
		return false;
	}
	if (!xtcp_try_rmem_schedule(sk, skb, skb->truesize))
		return true;
	icsk->icsk_ack.pending |= XTCP_ICSK_ACK_NOMEM | ICSK_ACK_NOW;
	inet_csk_schedule_ack(sk);
	sk->sk_data_ready(sk);
	if (skb_queue_len(&sk->sk_receive_queue) && skb->len) {
		xtcp_inc_stats(sock_net(sk), XTCP_MIB_TCPRCVQDROP);
		return false;
	}
	xtcp_forced_mem_schedule(sk, skb->truesize);
	return true;
}

/*
 * tcp_ooo_try_coalesce(): as xtcp_try_coalesce(), and the merged skb
 * keeps counting its segments, so that a drop counts them all.
 */
static bool xtcp_ooo_try_coalesce(struct sock *sk, struct sk_buff *to,
				  struct sk_buff *from, bool *fragstolen)
{
	bool res = xtcp_try_coalesce(sk, to, from, fragstolen);

	if (res) {
		u32 gso_segs = max_t(u16, 1, skb_shinfo(to)->gso_segs) +
			       max_t(u16, 1, skb_shinfo(from)->gso_segs);

		skb_shinfo(to)->gso_segs = min_t(u32, gso_segs, 0xFFFF);
	}
	return res;
}

/*
 * tcp_ofo_queue(): rcv_nxt moved; what the out-of-order queue holds
 * from there on is in order now.  Parts already received are reported
 * in one D-SACK block (RFC 2883), wholly old skbs are dropped, and a FIN
 * ends the walk: xtcp_fin() empties the queue.
 */
static void xtcp_ofo_queue(struct sock *sk)
{
	struct tcp_sock *tp = tcp_sk(sk);
	u32 dsack_high = tp->rcv_nxt;
	bool fin, fragstolen, eaten;
	struct sk_buff *skb, *tail;
	struct rb_node *p;

	p = rb_first(&tp->out_of_order_queue);
	while (p) {
		skb = rb_to_skb(p);
		if (after(TCP_SKB_CB(skb)->seq, tp->rcv_nxt))
			break;
		if (before(TCP_SKB_CB(skb)->seq, dsack_high)) {
			u32 dsack = dsack_high;

			if (before(TCP_SKB_CB(skb)->end_seq, dsack_high))
				dsack = TCP_SKB_CB(skb)->end_seq;
			xtcp_dsack_extend(sk, TCP_SKB_CB(skb)->seq, dsack);
		}
		p = rb_next(p);
		rb_erase(&skb->rbnode, &tp->out_of_order_queue);

		if (unlikely(!after(TCP_SKB_CB(skb)->end_seq, tp->rcv_nxt))) {
			xtcp_drop_reason(sk, skb, SKB_DROP_REASON_TCP_OFO_DROP);
			continue;
		}
		tail = skb_peek_tail(&sk->sk_receive_queue);
		eaten = tail && xtcp_try_coalesce(sk, tail, skb, &fragstolen);
		xtcp_rcv_nxt_update(tp, TCP_SKB_CB(skb)->end_seq);
		fin = TCP_SKB_CB(skb)->tcp_flags & TCPHDR_FIN;
		if (!eaten)
			__skb_queue_tail(&sk->sk_receive_queue, skb);
		else
			kfree_skb_partial(skb, fragstolen);
		if (unlikely(fin)) {
			xtcp_fin(sk);
			break;
		}
	}
}

/*
 * Link @skb into the out-of-order queue, trimming what it overlaps
 * (tcp_data_queue_ofo()'s search).  Returns false if @skb was consumed:
 * merged into a neighbour, or all of it already queued.
 */
static bool xtcp_ofo_insert(struct sock *sk, struct sk_buff *skb)
{
	struct tcp_sock *tp = tcp_sk(sk);
	u32 seq = TCP_SKB_CB(skb)->seq, end_seq = TCP_SKB_CB(skb)->end_seq;
	struct rb_node **p = &tp->out_of_order_queue.rb_node;
	struct rb_node *parent = NULL;
	struct sk_buff *skb1;
	bool fragstolen;

	/* The usual case: it goes at the end, after ooo_last_skb. */
	if (xtcp_ooo_try_coalesce(sk, tp->ooo_last_skb, skb, &fragstolen))
		goto coalesce_done;
	if (!before(seq, TCP_SKB_CB(tp->ooo_last_skb)->end_seq)) {
		parent = &tp->ooo_last_skb->rbnode;
		p = &parent->rb_right;
		goto insert;
	}
	while (*p) {
		parent = *p;
		skb1 = rb_to_skb(parent);
		if (before(seq, TCP_SKB_CB(skb1)->seq)) {
			p = &parent->rb_left;
			continue;
		}
		if (before(seq, TCP_SKB_CB(skb1)->end_seq)) {
			if (!after(end_seq, TCP_SKB_CB(skb1)->end_seq)) {
				/* All of it is here already. */
				xtcp_inc_stats(sock_net(sk),
					       XTCP_MIB_TCPOFOMERGE);
				xtcp_drop_reason(sk, skb,
						 SKB_DROP_REASON_TCP_OFOMERGE);
				xtcp_dsack_set(sk, seq, end_seq);
				return false;
			}
			if (after(seq, TCP_SKB_CB(skb1)->seq)) {
				/* Its head is here already. */
				xtcp_dsack_set(sk, seq,
					       TCP_SKB_CB(skb1)->end_seq);
			} else {
				/* Same start, and it covers skb1: replace. */
				rb_replace_node(&skb1->rbnode, &skb->rbnode,
						&tp->out_of_order_queue);
				xtcp_dsack_extend(sk, TCP_SKB_CB(skb1)->seq,
						  TCP_SKB_CB(skb1)->end_seq);
				xtcp_inc_stats(sock_net(sk),
					       XTCP_MIB_TCPOFOMERGE);
				xtcp_drop_reason(sk, skb1,
						 SKB_DROP_REASON_TCP_OFOMERGE);
				goto merge_right;
			}
		} else if (xtcp_ooo_try_coalesce(sk, skb1, skb, &fragstolen)) {
			goto coalesce_done;
		}
		p = &parent->rb_right;
	}
insert:
	rb_link_node(&skb->rbnode, parent, p);
	rb_insert_color(&skb->rbnode, &tp->out_of_order_queue);
merge_right:
	/* Drop the skbs it covers; D-SACK what it overlaps. */
	while ((skb1 = skb_rb_next(skb)) != NULL) {
		if (!after(end_seq, TCP_SKB_CB(skb1)->seq))
			break;
		if (before(end_seq, TCP_SKB_CB(skb1)->end_seq)) {
			xtcp_dsack_extend(sk, TCP_SKB_CB(skb1)->seq, end_seq);
			break;
		}
		rb_erase(&skb1->rbnode, &tp->out_of_order_queue);
		xtcp_dsack_extend(sk, TCP_SKB_CB(skb1)->seq,
				  TCP_SKB_CB(skb1)->end_seq);
		xtcp_inc_stats(sock_net(sk), XTCP_MIB_TCPOFOMERGE);
		xtcp_drop_reason(sk, skb1, SKB_DROP_REASON_TCP_OFOMERGE);
	}
	if (!skb1)
		tp->ooo_last_skb = skb;
	return true;

coalesce_done:
	/*
	 * Without SACK the window stays put, so that the sender sees
	 * duplicate ACKs and retransmits fast (RFC 5681 3.2).
	 */
	if (tp->rx_opt.sack_ok)
		xtcp_grow_window(sk, skb, true);
	kfree_skb_partial(skb, fragstolen);
	return false;
}

/*
 * tcp_data_queue_ofo(): data beyond rcv_nxt, within the window.  It is
 * charged, queued (or merged) in the rbtree, and reported in the SACK
 * blocks; an ACK is due at once (xtcp_ack_snd_check() decides how
 * soon).  With no budget left it is dropped (TCPOFODrop).
 */
static void xtcp_data_queue_ofo(struct sock *sk, struct sk_buff *skb)
{
	struct tcp_sock *tp = tcp_sk(sk);
	u32 seq = TCP_SKB_CB(skb)->seq, end_seq = TCP_SKB_CB(skb)->end_seq;

	xtcp_ecn_check_ce(sk, skb);
	if (unlikely(xtcp_try_rmem_schedule(sk, skb, skb->truesize))) {
		xtcp_inc_stats(sock_net(sk), XTCP_MIB_TCPOFODROP);
		sk->sk_data_ready(sk);
		xtcp_drop_reason(sk, skb, SKB_DROP_REASON_PROTO_MEM);
		return;
	}
	if (XTCP_OFO_MEASURES_RCV_MSS)
		xtcp_measure_rcv_mss(sk, skb);
	/* No header prediction while a hole is open. */
	tp->pred_flags = 0;
	inet_csk_schedule_ack(sk);
	tp->rcv_ooopack += max_t(u16, 1, skb_shinfo(skb)->gso_segs);
	xtcp_inc_stats(sock_net(sk), XTCP_MIB_TCPOFOQUEUE);

	if (RB_EMPTY_ROOT(&tp->out_of_order_queue)) {
		/* The first hole: one SACK block. */
		if (tp->rx_opt.sack_ok) {
			tp->rx_opt.num_sacks = 1;
			tp->selective_acks[0].start_seq = seq;
			tp->selective_acks[0].end_seq = end_seq;
		}
		rb_link_node(&skb->rbnode, NULL,
			     &tp->out_of_order_queue.rb_node);
		rb_insert_color(&skb->rbnode, &tp->out_of_order_queue);
		tp->ooo_last_skb = skb;
	} else {
		if (!xtcp_ofo_insert(sk, skb))
			skb = NULL;
		if (tp->rx_opt.sack_ok)
			xtcp_sack_new_ofo_skb(sk, seq, end_seq);
	}
	if (skb) {
		if (tp->rx_opt.sack_ok)
			xtcp_grow_window(sk, skb, false);
		xtcp_skb_condense(skb);
		skb_set_owner_r(skb, sk);
	}
}

/**
 * xtcp_purge_ofo_queue - forget the out-of-order queue and its SACKs
 * @sk: the connection, locked, or unreachable (its last reference)
 *
 * What tcp_disconnect() and tcp_v4_destroy_sock() do with it.
 */
void xtcp_purge_ofo_queue(struct sock *sk)
{
	struct tcp_sock *tp = tcp_sk(sk);

	xtcp_rbtree_purge(&tp->out_of_order_queue);
	tp->rx_opt.dsack = 0;
	tp->rx_opt.num_sacks = 0;
}

/**
 * xtcp_disconnect_rx - what tcp_disconnect() resets of the receiver
 * @sk: the connection, locked, its timers stopped
 *
 * The out-of-order queue and the SACK, D-SACK, compression and receiver
 * RTT state, so that a socket reused after disconnect, or a child
 * reported to sock_diag as its listener forgets it, starts clean.
 */
void xtcp_disconnect_rx(struct sock *sk)
{
	struct tcp_sock *tp = tcp_sk(sk);

	xtcp_purge_ofo_queue(sk);
	tp->compressed_ack = 0;
	tp->rcv_rtt_last_tsecr = 0;
	tp->rcv_ooopack = 0;
	tp->duplicate_sack[0].start_seq = 0;
	tp->duplicate_sack[0].end_seq = 0;
}

/*
 * In sequence and in window: queue it, or at least its FIN, then what
 * it makes in-order from the out-of-order queue.  Filling the last hole
 * is worth an ACK at once (RFC 5681 4.2).
 */
static void xtcp_data_queue_in_order(struct sock *sk, struct sk_buff *skb)
{
	struct tcp_sock *tp = tcp_sk(sk);
	bool fragstolen;
	int eaten;

	if (!xtcp_rcvq_charge(sk, skb)) {
		xtcp_drop_reason(sk, skb, SKB_DROP_REASON_PROTO_MEM);
		return;
	}
	eaten = xtcp_queue_rcv(sk, skb, &fragstolen);
	if (skb->len)
		xtcp_event_data_recv(sk, skb);
	if (TCP_SKB_CB(skb)->tcp_flags & TCPHDR_FIN)
		xtcp_fin(sk);
	if (!RB_EMPTY_ROOT(&tp->out_of_order_queue)) {
		xtcp_ofo_queue(sk);
		if (RB_EMPTY_ROOT(&tp->out_of_order_queue))
			inet_csk(sk)->icsk_ack.pending |= ICSK_ACK_NOW;
	}
	if (tp->rx_opt.num_sacks)
		xtcp_sack_remove(tp);
	xtcp_fast_path_check(sk);
	if (eaten > 0)
		kfree_skb_partial(skb, fragstolen);
	if (!sock_flag(sk, SOCK_DEAD))
		xtcp_data_ready(sk);
}

/* Duplicate or unacceptable data: drop it and ACK at once. */
static void xtcp_data_out_of_window(struct sock *sk, struct sk_buff *skb,
				    enum skb_drop_reason reason)
{
	xtcp_enter_quickack_mode(sk, TCP_MAX_QUICKACKS);
	inet_csk_schedule_ack(sk);
	xtcp_drop_reason(sk, skb, reason);
}

/*
 * tcp_check_urg(): a segment with URG set.  BSD's pointer (the default,
 * net.ipv4.tcp_stdurg 0) points one past the urgent byte, RFC 1122's at
 * it.  An urgent pointer is news only if it lies ahead of what was read
 * and of rcv_nxt (a pointer into the out-of-order queue would never be
 * fetched), and beyond the one we know: then SIGURG, and the byte is
 * awaited.
 */
static void xtcp_check_urg(struct sock *sk, const struct tcphdr *th)
{
	struct tcp_sock *tp = tcp_sk(sk);
	u32 ptr = ntohs(th->urg_ptr);

	if (ptr && !READ_ONCE(sock_net(sk)->ipv4.sysctl_tcp_stdurg))
		ptr--;
	ptr += ntohl(th->seq);

	/* Urgent data already seen and read. */
	if (after(tp->copied_seq, ptr))
		return;
	/* Not replayed: the byte is behind rcv_nxt, or out of order. */
	if (before(ptr, tp->rcv_nxt))
		return;
	/* A newer (or the same) pointer is known already. */
	if (tp->urg_data && !after(ptr, tp->urg_seq))
		return;

	sk_send_sigurg(sk);
	/*
	 * The last urgent byte, not read inline, sits where the reader is:
	 * step over it now, or it would be read as data once the new
	 * pointer replaces it (stock's "Double Dutch" comment).
	 */
	if (tp->urg_seq == tp->copied_seq && tp->urg_data &&
	    !sock_flag(sk, SOCK_URGINLINE) && tp->copied_seq != tp->rcv_nxt) {
		struct sk_buff *skb = skb_peek(&sk->sk_receive_queue);

		WRITE_ONCE(tp->copied_seq, tp->copied_seq + 1);
		if (skb && !before(tp->copied_seq, TCP_SKB_CB(skb)->end_seq)) {
			__skb_unlink(skb, &sk->sk_receive_queue);
			__kfree_skb(skb);
		}
	}
	WRITE_ONCE(tp->urg_data, TCP_URG_NOTYET);
	WRITE_ONCE(tp->urg_seq, ptr);
	/* Urgent data takes the slow path until it is read. */
	tp->pred_flags = 0;
}

/**
 * xtcp_urg - step 6 of RFC 9293 3.10.7.4: the URG bit (tcp_urg())
 * @sk:  the connection, locked
 * @skb: the segment, its TCP header still at skb->data
 * @th:  its TCP header
 *
 * A new urgent pointer is taken (xtcp_check_urg()); once the awaited
 * urgent byte is in @skb it is copied aside (TCP_URG_VALID | byte),
 * where recv(MSG_OOB) finds it, and the reader is woken.
 */
XTCP_SEED void xtcp_urg(struct sock *sk, struct sk_buff *skb, const struct tcphdr *th)
{
	struct tcp_sock *tp = tcp_sk(sk);
	u32 ptr;
	u8 byte;

	if (unlikely(th->urg))
		xtcp_check_urg(sk, th);
	if (likely(tp->urg_data != TCP_URG_NOTYET))
		return;
	ptr = tp->urg_seq - ntohl(th->seq) + th->doff * 4 - th->syn;
	if (ptr >= skb->len)
		return;
	/* Within the skb's length, so the copy cannot fail. */
	if (WARN_ON_ONCE(skb_copy_bits(skb, ptr, &byte, 1)))
		return;
	WRITE_ONCE(tp->urg_data, TCP_URG_VALID | byte);
	if (!sock_flag(sk, SOCK_DEAD)) {
		void (*data_ready)(struct sock *sk) =
			READ_ONCE(sk->sk_data_ready);

		data_ready(sk);
	}
}

/**
 * xtcp_data_queue - the segment's text (tcp_data_queue())
 * @sk:  the connection, locked
 * @skb: the segment, validated and ACK-processed; consumed
 *
 * RFC 9293 3.10.7.4 step 7: data at rcv_nxt goes to the receive queue;
 * data wholly before it is a retransmission, answered at once with a
 * D-SACK for it (RFC 2883); data that overlaps rcv_nxt is trimmed to
 * the new part; data beyond the window is dropped and answered; data
 * in the window beyond rcv_nxt waits in the out-of-order queue.
 */
XTCP_SEED void xtcp_data_queue(struct sock *sk, struct sk_buff *skb)
{
	struct tcp_sock *tp = tcp_sk(sk);
	struct net *net = sock_net(sk);

	if (TCP_SKB_CB(skb)->seq == TCP_SKB_CB(skb)->end_seq) {
		__kfree_skb(skb);
		return;
	}
	/* tcp_cleanup_skb(): nothing of the route or IPsec stays queued. */
	skb_dst_drop(skb);
	secpath_reset(skb);
	__skb_pull(skb, tcp_hdr(skb)->doff * 4);
	tp->rx_opt.dsack = 0;

	if (TCP_SKB_CB(skb)->seq == tp->rcv_nxt) {
		/*
		 * Zero window.  6.12 still takes a bare FIN, which some
		 * stacks send in a loop into a closed window.
		 */
		if (xtcp_receive_window(tp) == 0 &&
		    !(XTCP_ZERO_WINDOW_TAKES_FIN && !skb->len &&
		      (TCP_SKB_CB(skb)->tcp_flags & TCPHDR_FIN))) {
			xtcp_inc_stats(net, XTCP_MIB_TCPZEROWINDOWDROP);
			xtcp_data_out_of_window(sk, skb,
						SKB_DROP_REASON_TCP_ZEROWINDOW);
			return;
		}
		xtcp_data_queue_in_order(sk, skb);
		return;
	}
	if (!after(TCP_SKB_CB(skb)->end_seq, tp->rcv_nxt)) {
		/* A retransmission, the second most common case. */
		xtcp_inc_stats(net, XTCP_MIB_DELAYEDACKLOST);
		xtcp_dsack_set(sk, TCP_SKB_CB(skb)->seq,
			       TCP_SKB_CB(skb)->end_seq);
		xtcp_data_out_of_window(sk, skb, SKB_DROP_REASON_TCP_OLD_DATA);
		return;
	}
	/* Out of window, a zero-window probe for instance. */
	if (!before(TCP_SKB_CB(skb)->seq,
		    tp->rcv_nxt + xtcp_receive_window(tp))) {
		xtcp_data_out_of_window(sk, skb,
					SKB_DROP_REASON_TCP_OVERWINDOW);
		return;
	}
	if (before(TCP_SKB_CB(skb)->seq, tp->rcv_nxt)) {
		/* Partly old: D-SACK the head, queue the rest. */
		xtcp_dsack_set(sk, TCP_SKB_CB(skb)->seq, tp->rcv_nxt);
		if (!xtcp_receive_window(tp)) {
			xtcp_inc_stats(net, XTCP_MIB_TCPZEROWINDOWDROP);
			xtcp_data_out_of_window(sk, skb,
						SKB_DROP_REASON_TCP_ZEROWINDOW);
			return;
		}
		xtcp_data_queue_in_order(sk, skb);
		return;
	}
	xtcp_data_queue_ofo(sk, skb);
}

/*
 * SACK compression (__tcp_ack_snd_check()'s tail): while out-of-order
 * data keeps arriving for the same hole, the first TCP_FASTRETRANS_THRESH
 * duplicate ACKs go at once, which is what a sender needs for fast
 * retransmit; later ones wait up to 5 % of the RTT, at most
 * net.ipv4.tcp_comp_sack_delay_ns, and at most tcp_comp_sack_nr of
 * them are held.  The hrtimer holds a socket reference while queued.
 * Returns true if the ACK must go now.
 */
static bool xtcp_sack_compress(struct sock *sk)
{
	struct tcp_sock *tp = tcp_sk(sk);
	struct net *net = sock_net(sk);
	unsigned long rtt, delay;

	if (!tp->rx_opt.sack_ok ||
	    tp->compressed_ack >= READ_ONCE(net->ipv4.sysctl_tcp_comp_sack_nr))
		return true;
	if (tp->compressed_ack_rcv_nxt != tp->rcv_nxt) {
		tp->compressed_ack_rcv_nxt = tp->rcv_nxt;
		tp->dup_ack_counter = 0;
	}
	if (tp->dup_ack_counter < TCP_FASTRETRANS_THRESH) {
		tp->dup_ack_counter++;
		return true;
	}
	tp->compressed_ack++;
	if (hrtimer_is_queued(&tp->compressed_ack_timer))
		return false;
	/* Both estimates are in us << 3; the receiver's may be all we have. */
	rtt = tp->rcv_rtt_est.rtt_us;
	if (tp->srtt_us && tp->srtt_us < rtt)
		rtt = tp->srtt_us;
	delay = min_t(unsigned long,
		      READ_ONCE(net->ipv4.sysctl_tcp_comp_sack_delay_ns),
		      rtt * (NSEC_PER_USEC >> 3) / 20);
	sock_hold(sk);
	hrtimer_start_range_ns(&tp->compressed_ack_timer, ns_to_ktime(delay),
			       READ_ONCE(net->ipv4.sysctl_tcp_comp_sack_slack_ns),
			       HRTIMER_MODE_REL_PINNED_SOFT);
	return false;
}

/**
 * xtcp_ack_snd_check - ACK now, later, or not at all (tcp_ack_snd_check())
 * @sk: the connection, locked
 *
 * RFC 1122 4.2.3.2 and RFC 5681 4.2: at once when more than one full
 * segment is unacknowledged and the window would move, in quick-ACK
 * mode, or when the state asks for it; otherwise within ato.  With
 * out-of-order data queued, at once or compressed (xtcp_sack_compress()).
 * An ACK that SACK compression sends at once is never left to
 * release_sock() on 6.12 either (stock's "goto send_now").
 */
XTCP_SEED void xtcp_ack_snd_check(struct sock *sk)
{
	struct inet_connection_sock *icsk = inet_csk(sk);
	struct tcp_sock *tp = tcp_sk(sk);

	if (!inet_csk_ack_scheduled(sk))
		return;
	if (((tp->rcv_nxt - tp->rcv_wup) > icsk->icsk_ack.rcv_mss &&
	     (tp->rcv_nxt - tp->copied_seq < sk->sk_rcvlowat ||
	      __xtcp_select_window(sk) >= tp->rcv_wnd)) ||
	    xtcp_in_quickack_mode(sk) ||
	    (icsk->icsk_ack.pending & ICSK_ACK_NOW)) {
		if (!xtcp_defer_backlog_ack(sk))
			xtcp_send_ack(sk);
		return;
	}
	if (RB_EMPTY_ROOT(&tp->out_of_order_queue)) {
		xtcp_send_delayed_ack(sk);
		return;
	}
	if (xtcp_sack_compress(sk))
		xtcp_send_ack(sk);
}
