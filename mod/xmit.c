// SPDX-License-Identifier: GPL-2.0
/*
 * xtcp: a connection's own segments, and the window they offer.
 *
 * Mirrors net/ipv4/tcp_output.c for an established connection:
 * __tcp_transmit_skb() (header, options, window, then ip_queue_xmit()),
 * tcp_select_window() and __tcp_select_window() (RFC 9293 3.8.6.2.2
 * receiver SWS avoidance, RFC 7323 2.3 scaling), tcp_established_options(),
 * tcp_write_xmit() with its congestion-window, receive-window and Nagle
 * tests (RFC 9293 3.7.4) and TSO sizing, tcp_fragment(),
 * tcp_retransmit_skb() and tcp_xmit_retransmit_queue(), the zero-window
 * probe (tcp_write_wakeup()), __tcp_send_ack(), tcp_send_delayed_ack()
 * and tcp_send_active_reset().
 *
 * A data skb stays on the write queue (xtcp_write_queue()) until sent,
 * then lives in the retransmit queue (sk->tcp_rtx_queue, an rbtree by
 * sequence, and in send order on tp->tsorted_sent_queue) until
 * acknowledged (ack.c).
 * Each transmission sends a clone, so the data stays for a retransmit;
 * a clone of several MSS carries gso_size and is cut into segments by
 * the device or by software GSO, checksums offloaded (CHECKSUM_PARTIAL).
 *
 * Context: the socket is locked (softirq or owner).  A segment leaves by
 * ip_queue_xmit() on the connection's cached route and flow, taking its
 * IP ID from the connection, as tcp_transmit_skb() does.  Unlike stock,
 * no skb is owned through tcp_wfree(): its TSQ tasklet would take the
 * socket for a tcp_sock.  skb_set_owner_w() charges sk_wmem_alloc.
 */
#include <net/ip.h>
#include <net/tcp.h>

#include "xtcp.h"

/**
 * __xtcp_select_window - the window the buffer can offer now, bytes
 * @sk: the connection, locked
 *
 * __tcp_select_window(): the free space, no more than rcv_ssthresh,
 * rounded up to the scale unit; or rounded down to a multiple of the
 * peer's MSS without scaling.  When less than half the buffer is free
 * and that is under 1/16 of it or one segment, zero: announcing a
 * window the memory cannot honour would only get data dropped.
 * net.ipv4.tcp_shrink_window lets a scaled window shrink.
 *
 * Return: the window in bytes, unscaled.
 */
u32 __xtcp_select_window(struct sock *sk)
{
	struct inet_connection_sock *icsk = inet_csk(sk);
	struct tcp_sock *tp = tcp_sk(sk);
	struct net *net = sock_net(sk);
	int mss = icsk->icsk_ack.rcv_mss;
	int free_space = xtcp_space(sk);
	int allowed_space = xtcp_full_space(sk);
	int full_space = min_t(int, tp->window_clamp, allowed_space);
	int shift = tp->rx_opt.rcv_wscale;
	int window;

	if (unlikely(mss > full_space)) {
		mss = full_space;
		if (mss <= 0)
			return 0;
	}
	if (READ_ONCE(net->ipv4.sysctl_tcp_shrink_window) && shift) {
		free_space = round_down(free_space, 1 << shift);
		if (free_space < (full_space >> 1)) {
			icsk->icsk_ack.quick = 0;
			if (xtcp_under_memory_pressure(sk))
				xtcp_adjust_rcv_ssthresh(sk);
			if (free_space < (allowed_space >> 4) ||
			    free_space < mss || free_space < (1 << shift))
				return 0;
		}
		if (free_space > tp->rcv_ssthresh)
			free_space = ALIGN(tp->rcv_ssthresh, 1 << shift);
		return free_space;
	}
	if (free_space < (full_space >> 1)) {
		icsk->icsk_ack.quick = 0;
		if (xtcp_under_memory_pressure(sk))
			xtcp_adjust_rcv_ssthresh(sk);
		/* Never let scaling round it up past what is free. */
		free_space = round_down(free_space, 1 << shift);
		if (free_space < (allowed_space >> 4) || free_space < mss)
			return 0;
	}
	if (free_space > tp->rcv_ssthresh)
		free_space = tp->rcv_ssthresh;
	if (shift)
		/* Scaled: large enough not to be scaled away. */
		return ALIGN(free_space, 1 << shift);
	/* Unscaled: keep the current offer if within one MSS of free. */
	window = tp->rcv_wnd;
	if (window <= free_space - mss || window > free_space)
		window = rounddown(free_space, mss);
	else if (mss == full_space && free_space > window + (full_space >> 1))
		window = free_space;
	return window;
}

/*
 * tcp_select_window(): the window field of the next segment.  An offer
 * never shrinks (RFC 9293 3.8.6.2.2) unless net.ipv4.tcp_shrink_window
 * allows it with scaling; rcv_wnd and rcv_wup record what was offered.
 * 6.12 offers zero at once when the receive budget is out (compat.h).
 */
static u16 xtcp_select_window(struct sock *sk)
{
	struct tcp_sock *tp = tcp_sk(sk);
	struct net *net = sock_net(sk);
	u32 old_win = tp->rcv_wnd;
	u32 cur_win, new_win;

	if (XTCP_RCVQ_NOMEM_ACK &&
	    unlikely(inet_csk(sk)->icsk_ack.pending & XTCP_ICSK_ACK_NOMEM)) {
		tp->pred_flags = 0;
		tp->rcv_wnd = 0;
		WRITE_ONCE(tp->rcv_wup, tp->rcv_nxt);
		return 0;
	}
	cur_win = xtcp_receive_window(tp);
	new_win = __xtcp_select_window(sk);
	if (new_win < cur_win &&
	    (!READ_ONCE(net->ipv4.sysctl_tcp_shrink_window) ||
	     !tp->rx_opt.rcv_wscale)) {
		if (new_win == 0)
			xtcp_inc_stats(net, XTCP_MIB_TCPWANTZEROWINDOWADV);
		new_win = ALIGN(cur_win, 1 << tp->rx_opt.rcv_wscale);
	}
	tp->rcv_wnd = new_win;
	WRITE_ONCE(tp->rcv_wup, tp->rcv_nxt);

	/* Never more than the field can say, scaled (RFC 7323 2.3). */
	if (!tp->rx_opt.rcv_wscale &&
	    READ_ONCE(net->ipv4.sysctl_tcp_workaround_signed_windows))
		new_win = min(new_win, MAX_TCP_WINDOW);
	else
		new_win = min(new_win, (65535U << tp->rx_opt.rcv_wscale));
	new_win >>= tp->rx_opt.rcv_wscale;

	/* A zero window turns header prediction off. */
	if (new_win == 0) {
		tp->pred_flags = 0;
		if (old_win)
			xtcp_inc_stats(net, XTCP_MIB_TCPTOZEROWINDOWADV);
	} else if (old_win == 0) {
		xtcp_inc_stats(net, XTCP_MIB_TCPFROMZEROWINDOWADV);
	}
	return new_win;
}

/*
 * tcp_established_options(): the timestamp (RFC 7323 3.2), its TSval the
 * skb's departure time in ms, then as many SACK blocks as fit, a pending
 * D-SACK first.  With no @skb only the length is wanted (for the MSS).
 * Returns the options' length, bytes.
 */
static unsigned int xtcp_established_options(struct sock *sk,
					     const struct sk_buff *skb,
					     struct xtcp_out_options *opts)
{
	struct tcp_sock *tp = tcp_sk(sk);
	unsigned int size = 0, eff_sacks, remaining, i, n = 0;

	if (tp->rx_opt.tstamp_ok) {
		opts->options |= XTCP_OPT_TS;
		opts->tsval = skb ? (u32)div_u64(skb->skb_mstamp_ns,
						 NSEC_PER_MSEC) +
				    tp->tsoffset : 0;
		opts->tsecr = tp->rx_opt.ts_recent;
		size += TCPOLEN_TSTAMP_ALIGNED;
	}
	eff_sacks = tp->rx_opt.num_sacks + tp->rx_opt.dsack;
	if (likely(!eff_sacks))
		return size;
	remaining = MAX_TCP_OPTION_SPACE - size;
	if (remaining < TCPOLEN_SACK_BASE_ALIGNED + TCPOLEN_SACK_PERBLOCK)
		return size;
	opts->num_sack_blocks = min_t(unsigned int, eff_sacks,
				      (remaining - TCPOLEN_SACK_BASE_ALIGNED) /
				      TCPOLEN_SACK_PERBLOCK);
	if (tp->rx_opt.dsack)
		opts->sack[n++] = tp->duplicate_sack[0];
	for (i = 0; n < opts->num_sack_blocks; i++)
		opts->sack[n++] = tp->selective_acks[i];
	return size + TCPOLEN_SACK_BASE_ALIGNED +
	       opts->num_sack_blocks * TCPOLEN_SACK_PERBLOCK;
}

/* tcp_acceptable_seq(): snd_nxt, unless the peer's window shrank past it. */
static u32 xtcp_acceptable_seq(const struct sock *sk)
{
	const struct tcp_sock *tp = tcp_sk(sk);
	u32 wnd_end = tp->snd_una + tp->snd_wnd;

	if (!before(wnd_end, tp->snd_nxt) ||
	    (tp->rx_opt.wscale_ok &&
	     tp->snd_nxt - wnd_end < (1U << tp->rx_opt.rcv_wscale)))
		return tp->snd_nxt;
	return wnd_end;
}

/*
 * tcp_event_ack_sent(): an ACK went out, so no delayed one is owed, the
 * ones SACK compression held are answered (TCPAckCompressed), and one
 * quick ACK is used up (tcp_dec_quickack_mode()) -- unless it
 * acknowledged less than rcv_nxt: DCTCP's ACK for the data before a CE
 * change (__xtcp_send_ack()) leaves the ACK owed for the rest.
 */
static void xtcp_event_ack_sent(struct sock *sk, u32 rcv_nxt)
{
	struct inet_connection_sock *icsk = inet_csk(sk);
	struct tcp_sock *tp = tcp_sk(sk);

	if (unlikely(tp->compressed_ack)) {
		xtcp_add_stats(sock_net(sk), XTCP_MIB_TCPACKCOMPRESSED,
			       tp->compressed_ack);
		tp->compressed_ack = 0;
		if (hrtimer_try_to_cancel(&tp->compressed_ack_timer) == 1)
			__sock_put(sk);
	}

	if (unlikely(rcv_nxt != tp->rcv_nxt))
		return;
	if (icsk->icsk_ack.quick) {
		const unsigned int pkts = inet_csk_ack_scheduled(sk) ? 1 : 0;

		if (pkts >= icsk->icsk_ack.quick) {
			icsk->icsk_ack.quick = 0;
			icsk->icsk_ack.ato = TCP_ATO_MIN;
		} else {
			icsk->icsk_ack.quick -= pkts;
		}
	}
	inet_csk_clear_xmit_timer(sk, ICSK_TIME_DACK);
}

/*
 * tcp_event_data_sent(): data leaves with nothing in flight: the
 * algorithm hears CA_EVENT_TX_START (CUBIC restarts its epoch).  A
 * reply within ato of the last segment received makes the connection
 * look interactive (pingpong, compat.h), which shortens the delayed ACK.
 */
static void xtcp_event_data_sent(struct sock *sk)
{
	struct inet_connection_sock *icsk = inet_csk(sk);
	const u32 now = tcp_jiffies32;

	if (tcp_packets_in_flight(tcp_sk(sk)) == 0)
		xtcp_ca_event(sk, CA_EVENT_TX_START);
	tcp_sk(sk)->lsndtime = now;
	if ((u32)(now - icsk->icsk_ack.lrcvtime) < icsk->icsk_ack.ato)
		xtcp_inc_pingpong_cnt(sk);
}

/*
 * tcp_update_skb_after_send(): the skb joins the send-ordered list that
 * RACK walks (rack.c).  With pacing asked for (sk_pacing_status: the
 * algorithm, SO_MAX_PACING_RATE, or the fq qdisc that saw the socket),
 * the next departure time (tcp_wstamp_ns, the EDT fq and
 * xtcp_pacing_check() honour) moves on by the skb's length at the
 * pacing rate, less up to half of it for time this send already lost to
 * jitter (@prior_wstamp: the departure time before this skb).  The
 * first ten segments go unpaced, as sch_fq's.
 */
static void xtcp_update_skb_after_send(struct sock *sk, struct sk_buff *skb,
				       u64 prior_wstamp)
{
	struct tcp_sock *tp = tcp_sk(sk);

	if (sk->sk_pacing_status != SK_PACING_NONE) {
		unsigned long rate = READ_ONCE(sk->sk_pacing_rate);

		if (rate != ~0UL && rate && tp->data_segs_out >= 10) {
			u64 len_ns = div64_ul((u64)skb->len * NSEC_PER_SEC, rate);
			u64 credit = tp->tcp_wstamp_ns - prior_wstamp;

			len_ns -= min_t(u64, len_ns / 2, credit);
			tp->tcp_wstamp_ns += len_ns;
		}
	}
	list_move_tail(&skb->tcp_tsorted_anchor, &tp->tsorted_sent_queue);
}

/*
 * tcp_ecn_send(): with ECN agreed (RFC 3168 6.1), new data leaves ECT(0)
 * and carries the CWR a reduction queued; ACKs and retransmissions leave
 * Not-ECT (6.1.5), unless the algorithm wants ECT on all (DCTCP); every
 * segment echoes ECE while the peer's CE waits for its CWR.
 */
static void xtcp_ecn_send(struct sock *sk, struct sk_buff *skb,
			  struct tcphdr *th, int tcp_header_len)
{
	struct tcp_sock *tp = tcp_sk(sk);

	if (!(tp->ecn_flags & TCP_ECN_OK))
		return;
	if (skb->len != tcp_header_len &&
	    !before(TCP_SKB_CB(skb)->seq, tp->snd_nxt)) {
		INET_ECN_xmit(sk);
		if (tp->ecn_flags & TCP_ECN_QUEUE_CWR) {
			tp->ecn_flags &= ~TCP_ECN_QUEUE_CWR;
			th->cwr = 1;
			skb_shinfo(skb)->gso_type |= SKB_GSO_TCP_ECN;
		}
	} else if (!xtcp_ca_needs_ecn(sk)) {
		INET_ECN_dontxmit(sk);
	}
	if (tp->ecn_flags & TCP_ECN_DEMAND_CWR)
		th->ece = 1;
}

/*
 * __tcp_transmit_skb(): build the TCP header of @skb (or of a clone, if
 * @clone_it: the original stays queued for retransmission) and hand it
 * to ip_queue_xmit().  @rcv_nxt is the ACK number.  Returns 0, -ENOBUFS
 * if no clone could be made, or what the IP layer said (a qdisc's
 * congestion verdict counts as sent: net_xmit_eval()).
 */
static int __xtcp_transmit_skb(struct sock *sk, struct sk_buff *skb,
			       int clone_it, gfp_t gfp_mask, u32 rcv_nxt)
{
	struct inet_sock *inet = inet_sk(sk);
	struct tcp_sock *tp = tcp_sk(sk);
	struct xtcp_out_options opts = {};
	unsigned int tcp_header_size;
	struct sk_buff *oskb = NULL;
	struct tcp_skb_cb *tcb;
	struct tcphdr *th;
	u64 prior_wstamp;
	int err;

	prior_wstamp = tp->tcp_wstamp_ns;
	tp->tcp_wstamp_ns = max(tp->tcp_wstamp_ns, tp->tcp_clock_cache);
	xtcp_skb_set_delivery_time(skb, tp->tcp_wstamp_ns);
	if (clone_it) {
		oskb = skb;
		/* The anchor shares its bytes with the dst: not copied. */
		tcp_skb_tsorted_save(oskb) {
			if (unlikely(skb_cloned(oskb)))
				skb = pskb_copy(oskb, gfp_mask);
			else
				skb = skb_clone(oskb, gfp_mask);
		} tcp_skb_tsorted_restore(oskb);
		if (unlikely(!skb))
			return -ENOBUFS;
		/* skb->dev shares its bytes with the rbtree node. */
		skb->dev = NULL;
	}

	tcb = TCP_SKB_CB(skb);
	tcp_header_size = sizeof(struct tcphdr) +
			  xtcp_established_options(sk, skb, &opts);
	/* PSH on every GSO packet helps the receiver's GRO flush. */
	if (tcp_skb_pcount(skb) > 1)
		tcb->tcp_flags |= TCPHDR_PSH;
	/*
	 * May use another TX queue: nothing of ours waits in a qdisc or
	 * device, or (6.12) nothing is unacknowledged (compat.h).
	 */
	skb->ooo_okay = sk_wmem_alloc_get(sk) < SKB_TRUESIZE(1) ||
			(XTCP_OOO_OKAY_RTX_EMPTY && tcp_rtx_queue_empty(sk));
	skb->pfmemalloc = 0;
	skb_push(skb, tcp_header_size);
	skb_reset_transport_header(skb);
	skb_set_owner_w(skb, sk);
	skb_set_dst_pending_confirm(skb, READ_ONCE(sk->sk_dst_pending_confirm));

	th = (struct tcphdr *)skb->data;
	memset(th, 0, sizeof(*th));
	th->source = inet->inet_sport;
	th->dest = inet->inet_dport;
	th->seq = htonl(tcb->seq);
	th->ack_seq = htonl(rcv_nxt);
	tcp_flag_byte(th) = tcb->tcp_flags;
	th->doff = tcp_header_size >> 2;
	skb_shinfo(skb)->gso_type = sk->sk_gso_type;
	th->window = htons(xtcp_select_window(sk));
	/*
	 * Urgent mode: every segment below snd_up points to it, or as far
	 * as 16 bits reach while more of the stream lies in between (also
	 * a window probe below snd_una, hence the mode check).
	 */
	if (unlikely(xtcp_urg_mode(tp) && before(tcb->seq, tp->snd_up))) {
		if (before(tp->snd_up, tcb->seq + 0x10000)) {
			th->urg_ptr = htons(tp->snd_up - tcb->seq);
			th->urg = 1;
		} else if (after(tcb->seq + 0xFFFF, tp->snd_nxt)) {
			th->urg_ptr = htons(0xFFFF);
			th->urg = 1;
		}
	}
	xtcp_ecn_send(sk, skb, th, tcp_header_size);
	xtcp_options_write((__be32 *)(th + 1), &opts);
	/* A D-SACK is reported once (tcp_options_write()). */
	if (opts.num_sack_blocks)
		tp->rx_opt.dsack = 0;
	xtcp_v4_send_check(skb, inet->inet_saddr, inet->inet_daddr);

	if (likely(tcb->tcp_flags & TCPHDR_ACK))
		xtcp_event_ack_sent(sk, rcv_nxt);
	if (skb->len != tcp_header_size) {
		xtcp_event_data_sent(sk);
		WRITE_ONCE(tp->data_segs_out,
			   tp->data_segs_out + tcp_skb_pcount(skb));
		WRITE_ONCE(tp->bytes_sent,
			   tp->bytes_sent + skb->len - tcp_header_size);
	}
	/* OutSegs counts new segments; a retransmit counts in RetransSegs. */
	if (after(tcb->end_seq, tp->snd_nxt) || tcb->seq == tcb->end_seq)
		xtcp_add_stats(sock_net(sk), XTCP_MIB_OUTSEGS,
			       tcp_skb_pcount(skb));
	tp->segs_out += tcp_skb_pcount(skb);
	skb_shinfo(skb)->gso_segs = tcp_skb_pcount(skb);
	skb_shinfo(skb)->gso_size = tcp_skb_mss(skb);
	/* The IP layer's control block, where ours was. */
	memset(skb->cb, 0, max(sizeof(struct inet_skb_parm),
			       sizeof(struct inet6_skb_parm)));
	/* TCP_TX_DELAY: the clone leaves later; oskb keeps its send time. */
	xtcp_add_tx_delay(skb, tp);

	err = ip_queue_xmit(sk, skb, &inet->cork.fl);
	if (unlikely(err > 0)) {
		/* Our own qdisc is congested: that is congestion too. */
		xtcp_enter_cwr(sk);
		err = net_xmit_eval(err);
	}
	if (!err && oskb) {
		xtcp_update_skb_after_send(sk, oskb, prior_wstamp);
		xtcp_rate_skb_sent(sk, oskb);
	}
	return err;
}

/**
 * xtcp_transmit_skb - send @skb (or a clone) acknowledging rcv_nxt
 * @sk:       the connection, locked
 * @skb:      a segment with its TCP_SKB_CB filled
 * @clone_it: keep @skb (data for the retransmit queue)
 * @gfp_mask: for the clone
 *
 * tcp_transmit_skb().  Return: 0 or a negative errno.
 */
int xtcp_transmit_skb(struct sock *sk, struct sk_buff *skb, int clone_it,
		      gfp_t gfp_mask)
{
	return __xtcp_transmit_skb(sk, skb, clone_it, gfp_mask,
				   tcp_sk(sk)->rcv_nxt);
}

/* tcp_init_nondata_skb(): a segment with no data, one packet. */
static void xtcp_init_nondata_skb(struct sk_buff *skb, u32 seq, u8 flags)
{
	skb->ip_summed = CHECKSUM_PARTIAL;
	TCP_SKB_CB(skb)->tcp_flags = flags;
	tcp_skb_pcount_set(skb, 1);
	TCP_SKB_CB(skb)->seq = seq;
	if (flags & (TCPHDR_SYN | TCPHDR_FIN))
		seq++;
	TCP_SKB_CB(skb)->end_seq = seq;
}

/**
 * __xtcp_send_ack - acknowledge @rcv_nxt now (__tcp_send_ack())
 * @sk:      the connection, locked
 * @rcv_nxt: the ACK number: tp->rcv_nxt, or less for an algorithm that
 *           must acknowledge the data before a change of CE marks apart
 *           (DCTCP, RFC 8257 section 3.2); such an ACK leaves the delayed
 *           ACK owed for the rest
 *
 * If no memory is left for the ACK, it is owed again after
 * TCP_DELACK_MAX, doubled at each further failure up to TCP_RTO_MAX,
 * with the shortest ato, as stock does.  A failure further down (the IP
 * layer's) is the network's to recover, as for stock.
 *
 * Context: softirq or process context, socket locked.
 */
void __xtcp_send_ack(struct sock *sk, u32 rcv_nxt)
{
	struct inet_connection_sock *icsk = inet_csk(sk);
	unsigned long delay;
	struct sk_buff *buff;

	if (sk->sk_state == TCP_CLOSE)
		return;
	buff = alloc_skb(MAX_TCP_HEADER, GFP_ATOMIC | __GFP_NOWARN);
	if (likely(buff)) {
		skb_reserve(buff, MAX_TCP_HEADER);
		xtcp_init_nondata_skb(buff, xtcp_acceptable_seq(sk),
				      TCPHDR_ACK);
		__xtcp_transmit_skb(sk, buff, 0, 0, rcv_nxt);
		return;
	}
	delay = TCP_DELACK_MAX << icsk->icsk_ack.retry;
	if (delay < TCP_RTO_MAX)
		icsk->icsk_ack.retry++;
	inet_csk_schedule_ack(sk);
	icsk->icsk_ack.ato = TCP_ATO_MIN;
	inet_csk_reset_xmit_timer(sk, ICSK_TIME_DACK, delay, TCP_RTO_MAX);
}
EXPORT_SYMBOL_GPL(__xtcp_send_ack);

/**
 * xtcp_send_ack - acknowledge now (tcp_send_ack())
 * @sk: the connection, locked
 *
 * __xtcp_send_ack() of everything received.
 */
void xtcp_send_ack(struct sock *sk)
{
	__xtcp_send_ack(sk, tcp_sk(sk)->rcv_nxt);
}

/**
 * xtcp_send_delayed_ack - acknowledge within ato (tcp_send_delayed_ack())
 * @sk: the connection, locked
 *
 * The timeout is the adaptive ato (jiffies), bounded by half a second,
 * or by TCP_DELACK_MAX for an interactive connection or pushed data, and
 * by the smoothed RTT if one is known (RFC 1122 4.2.3.2 allows 500 ms).
 * An earlier pending timeout is kept; one about to fire sends now.
 */
void xtcp_send_delayed_ack(struct sock *sk)
{
	struct inet_connection_sock *icsk = inet_csk(sk);
	int ato = icsk->icsk_ack.ato;
	unsigned long timeout;

	if (ato > TCP_DELACK_MIN) {
		const struct tcp_sock *tp = tcp_sk(sk);
		int max_ato = HZ / 2;

		if (inet_csk_in_pingpong_mode(sk) ||
		    (icsk->icsk_ack.pending & ICSK_ACK_PUSHED))
			max_ato = TCP_DELACK_MAX;
		if (tp->srtt_us) {
			int rtt = max_t(int, usecs_to_jiffies(tp->srtt_us >> 3),
					TCP_DELACK_MIN);

			if (rtt < max_ato)
				max_ato = rtt;
		}
		ato = min(ato, max_ato);
	}
	ato = min_t(u32, ato, xtcp_delack_max(sk));
	timeout = jiffies + ato;
	if (icsk->icsk_ack.pending & ICSK_ACK_TIMER) {
		if (time_before_eq(icsk->icsk_ack.timeout,
				   jiffies + (ato >> 2))) {
			xtcp_send_ack(sk);
			return;
		}
		if (!time_before(timeout, icsk->icsk_ack.timeout))
			timeout = icsk->icsk_ack.timeout;
	}
	icsk->icsk_ack.pending |= ICSK_ACK_SCHED | ICSK_ACK_TIMER;
	icsk->icsk_ack.timeout = timeout;
	sk_reset_timer(sk, &icsk->icsk_delack_timer, timeout);
}

/**
 * xtcp_send_active_reset - abort a connection (tcp_send_active_reset())
 * @sk: a synchronized connection, locked
 *
 * RFC 9293 3.10.5 (ABORT): a RST carrying our current state, its window
 * chosen as for any segment.
 */
void xtcp_send_active_reset(struct sock *sk)
{
	struct sk_buff *skb;

	xtcp_inc_stats(sock_net(sk), XTCP_MIB_OUTRSTS);
	skb = alloc_skb(MAX_TCP_HEADER, GFP_ATOMIC | __GFP_NOWARN);
	if (!skb)
		return;
	skb_reserve(skb, MAX_TCP_HEADER);
	xtcp_init_nondata_skb(skb, xtcp_acceptable_seq(sk),
			      TCPHDR_ACK | TCPHDR_RST);
	xtcp_mstamp_refresh(tcp_sk(sk));
	xtcp_transmit_skb(sk, skb, 0, 0);
}

/**
 * xtcp_current_mss - the MSS of the next data segment (tcp_current_mss())
 * @sk: the connection, locked
 *
 * mss_cache follows the route's MTU (xtcp_sync_mss()) and assumes the
 * options every segment carries (tcp_header_len); SACK blocks pending
 * now take their room from the payload.
 *
 * Return: bytes of payload.
 */
unsigned int xtcp_current_mss(struct sock *sk)
{
	const struct tcp_sock *tp = tcp_sk(sk);
	const struct dst_entry *dst = __sk_dst_get(sk);
	struct xtcp_out_options opts = {};
	unsigned int header_len;
	u32 mss_now = tp->mss_cache;

	if (dst) {
		u32 mtu = dst_mtu(dst);

		if (mtu != inet_csk(sk)->icsk_pmtu_cookie)
			mss_now = xtcp_sync_mss(sk, mtu);
	}
	header_len = xtcp_established_options(sk, NULL, &opts) +
		     sizeof(struct tcphdr);
	if (header_len != tp->tcp_header_len)
		mss_now -= (int)header_len - tp->tcp_header_len;
	return mss_now;
}

/* tcp_set_skb_tso_segs(): how many segments of @mss_now @skb makes. */
static int xtcp_set_skb_tso_segs(struct sk_buff *skb, unsigned int mss_now)
{
	int tso_segs;

	if (skb->len <= mss_now) {
		TCP_SKB_CB(skb)->tcp_gso_size = 0;
		tcp_skb_pcount_set(skb, 1);
		return 1;
	}
	TCP_SKB_CB(skb)->tcp_gso_size = mss_now;
	tso_segs = DIV_ROUND_UP(skb->len, mss_now);
	tcp_skb_pcount_set(skb, tso_segs);
	return tso_segs;
}

/*
 * tcp_init_tso_segs() (6.1's tcp_write_xmit()): the count @skb has, made
 * afresh only if it has none yet (sendmsg() clears it when it adds
 * bytes) or was made for another MSS.
 */
static int xtcp_init_tso_segs(struct sk_buff *skb, unsigned int mss_now)
{
	int tso_segs = tcp_skb_pcount(skb);

	if (!tso_segs || (tso_segs > 1 && tcp_skb_mss(skb) != mss_now))
		return xtcp_set_skb_tso_segs(skb, mss_now);
	return tso_segs;
}

/*
 * tcp_cwnd_test(): segments the congestion window lets out now, at most
 * half of it at once so that two GSO packets are in flight.  6.1 lets a
 * lone FIN past a full window (compat.h).
 */
static u32 xtcp_cwnd_test(const struct tcp_sock *tp, const struct sk_buff *skb)
{
	u32 in_flight, cwnd, halfcwnd;

	if (XTCP_CWND_TEST_FIN &&
	    (TCP_SKB_CB(skb)->tcp_flags & TCPHDR_FIN) &&
	    tcp_skb_pcount(skb) == 1)
		return 1;
	in_flight = tcp_packets_in_flight(tp);
	cwnd = tp->snd_cwnd;
	if (in_flight >= cwnd)
		return 0;
	halfcwnd = max(cwnd >> 1, 1U);
	return min(halfcwnd, cwnd - in_flight);
}

/* tcp_snd_wnd_test(): does the first segment of @skb fit the peer's window? */
static bool xtcp_snd_wnd_test(const struct tcp_sock *tp,
			      const struct sk_buff *skb, unsigned int cur_mss)
{
	u32 end_seq = TCP_SKB_CB(skb)->end_seq;

	if (skb->len > cur_mss)
		end_seq = TCP_SKB_CB(skb)->seq + cur_mss;
	return !after(end_seq, tcp_wnd_end(tp));
}

/*
 * tcp_minshall_check(): a partial segment is still unacknowledged
 * (Minshall's variant of Nagle's algorithm, RFC 896).
 */
static bool xtcp_minshall_check(const struct tcp_sock *tp)
{
	return after(tp->snd_sml, tp->snd_una) &&
	       !after(tp->snd_sml, tp->snd_nxt);
}

/*
 * tcp_nagle_check(): hold back a partial segment when corked, or (Nagle
 * on) while another partial one is unacknowledged.
 */
static bool xtcp_nagle_check(bool partial, const struct tcp_sock *tp,
			     int nonagle)
{
	return partial &&
	       ((nonagle & TCP_NAGLE_CORK) ||
		(!nonagle && tp->packets_out && xtcp_minshall_check(tp)));
}

/* tcp_nagle_test(): may @skb leave now?  Urgent data and a FIN always may. */
static bool xtcp_nagle_test(const struct tcp_sock *tp,
			    const struct sk_buff *skb, unsigned int cur_mss,
			    int nonagle)
{
	if (nonagle & TCP_NAGLE_PUSH)
		return true;
	if (xtcp_urg_mode(tp) || (TCP_SKB_CB(skb)->tcp_flags & TCPHDR_FIN))
		return true;
	return !xtcp_nagle_check(skb->len < cur_mss, tp, nonagle);
}

/* tcp_minshall_update(): remember the end of the last partial segment. */
static void xtcp_minshall_update(struct tcp_sock *tp, unsigned int mss_now,
				 const struct sk_buff *skb)
{
	if (skb->len < tcp_skb_pcount(skb) * mss_now)
		tp->snd_sml = TCP_SKB_CB(skb)->end_seq;
}

/*
 * tcp_mss_split_point(): how much of @skb to send as one GSO packet:
 * what cwnd and the peer's window allow, without a partial last
 * segment that Nagle would hold back.
 */
static unsigned int xtcp_mss_split_point(const struct sock *sk,
					 const struct sk_buff *skb,
					 unsigned int mss_now,
					 unsigned int max_segs, int nonagle)
{
	const struct tcp_sock *tp = tcp_sk(sk);
	u32 partial, needed, window, max_len;

	window = tcp_wnd_end(tp) - TCP_SKB_CB(skb)->seq;
	max_len = mss_now * max_segs;
	if (likely(max_len <= window && skb != xtcp_write_queue_tail(sk)))
		return max_len;
	needed = min(skb->len, window);
	if (max_len <= needed)
		return max_len;
	partial = needed % mss_now;
	if (xtcp_nagle_check(partial != 0, tp, nonagle))
		return needed - partial;
	return needed;
}

/*
 * tcp_tso_autosize() and tcp_tso_segs(): a GSO packet carries about 1 ms
 * of the pacing rate, more on short paths (net.ipv4.tcp_tso_rtt_log),
 * at least net.ipv4.tcp_min_tso_segs, at most the device's limits.
 */
static u32 xtcp_tso_segs(struct sock *sk, unsigned int mss_now)
{
	const struct xtcp_cong_ops *ca = xtcp_sk(sk)->ca_ops;
	unsigned long bytes;
	u32 min_tso, r;

	min_tso = ca && ca->min_tso_segs ? ca->min_tso_segs(sk) :
		  READ_ONCE(sock_net(sk)->ipv4.sysctl_tcp_min_tso_segs);

	bytes = READ_ONCE(sk->sk_pacing_rate) >>
		READ_ONCE(sk->sk_pacing_shift);
	r = minmax_get(&tcp_sk(sk)->rtt_min) >>
	    READ_ONCE(sock_net(sk)->ipv4.sysctl_tcp_tso_rtt_log);
	if (r < BITS_PER_TYPE(sk->sk_gso_max_size))
		bytes += sk->sk_gso_max_size >> r;
	bytes = min_t(unsigned long, bytes, sk->sk_gso_max_size);
	return min_t(u32, max_t(u32, bytes / mss_now, min_tso),
		     sk->sk_gso_max_segs);
}

/*
 * tcp_tso_should_defer(): wait for the ACK that is about to come rather
 * than send a small GSO packet now, unless the last send was over 1 ms
 * ago, a full packet or a good share of the window fits
 * (net.ipv4.tcp_tso_win_divisor), or the ACK is not expected soon.
 */
static bool xtcp_tso_should_defer(struct sock *sk, struct sk_buff *skb,
				  bool *is_cwnd_limited,
				  bool *is_rwnd_limited, u32 max_segs)
{
	u32 send_win, cong_win, limit, in_flight, threshold;
	u64 srtt_in_ns, expected_ack, how_far_is_the_ack;
	struct tcp_sock *tp = tcp_sk(sk);
	struct sk_buff *head;
	int win_divisor;
	s64 delta;

	if (inet_csk(sk)->icsk_ca_state >= TCP_CA_Recovery)
		return false;
	delta = tp->tcp_clock_cache - tp->tcp_wstamp_ns - NSEC_PER_MSEC;
	if (delta > 0)
		return false;
	in_flight = tcp_packets_in_flight(tp);
	send_win = tcp_wnd_end(tp) - TCP_SKB_CB(skb)->seq;
	cong_win = (tp->snd_cwnd - in_flight) * tp->mss_cache;
	limit = min(send_win, cong_win);
	if (limit >= max_segs * tp->mss_cache)
		return false;
	if (skb != xtcp_write_queue_tail(sk) && limit >= skb->len)
		return false;
	win_divisor = READ_ONCE(sock_net(sk)->ipv4.sysctl_tcp_tso_win_divisor);
	if (win_divisor) {
		u32 chunk = min(tp->snd_wnd, tp->snd_cwnd * tp->mss_cache);

		if (limit >= chunk / win_divisor)
			return false;
	} else if (limit > 3 * tp->mss_cache) {
		return false;
	}
	head = tcp_rtx_queue_head(sk);
	if (!head)
		return false;
	srtt_in_ns = (u64)(NSEC_PER_USEC >> 3) * tp->srtt_us;
	expected_ack = head->tstamp + srtt_in_ns;
	how_far_is_the_ack = expected_ack - tp->tcp_clock_cache;
	threshold = min(srtt_in_ns >> 1, NSEC_PER_MSEC);
	if ((s64)(how_far_is_the_ack - threshold) > 0)
		return false;
	if (cong_win < send_win) {
		if (cong_win <= skb->len) {
			*is_cwnd_limited = true;
			return true;
		}
	} else if (send_win <= skb->len) {
		*is_rwnd_limited = true;
		return true;
	}
	if ((TCP_SKB_CB(skb)->tcp_flags & TCPHDR_FIN) ||
	    TCP_SKB_CB(skb)->eor)
		return false;
	return true;
}

/*
 * skb_unclone_keeptruesize(), whose slow path the kernel does not
 * export: an skb whose clone is still in a queue below us gets a head
 * of its own before we change it, and stays charged as it was.
 */
static int xtcp_skb_unclone_keeptruesize(struct sk_buff *skb, gfp_t gfp)
{
	unsigned int truesize = skb->truesize;
	int err;

	if (!skb_cloned(skb))
		return 0;
	err = pskb_expand_head(skb, 0, 0, gfp);
	if (!err)
		skb->truesize = truesize;
	return err;
}

/*
 * tcp_adjust_pcount(): an skb in flight now counts @decr segments fewer;
 * the scoreboard's counters and RFC 6675's lost-marking hint follow.
 */
static void xtcp_adjust_pcount(struct sock *sk, const struct sk_buff *skb,
			       int decr)
{
	struct tcp_sock *tp = tcp_sk(sk);
	u8 sacked = TCP_SKB_CB(skb)->sacked;

	tp->packets_out -= decr;
	if (sacked & TCPCB_SACKED_ACKED)
		tp->sacked_out -= decr;
	if (sacked & TCPCB_SACKED_RETRANS)
		tp->retrans_out -= decr;
	if (sacked & TCPCB_LOST)
		tp->lost_out -= decr;
	/* Without SACK, sacked_out counts duplicate ACKs: keep it plausible. */
	if (tcp_is_reno(tp) && decr > 0)
		tp->sacked_out -= min_t(u32, tp->sacked_out, decr);
	if (tp->lost_skb_hint &&
	    before(TCP_SKB_CB(skb)->seq, TCP_SKB_CB(tp->lost_skb_hint)->seq) &&
	    (sacked & TCPCB_SACKED_ACKED))
		tp->lost_cnt_hint -= decr;
	tcp_verify_left_out(tp);
}

/**
 * xtcp_fragment - split an skb of the write or retransmit queue
 * @sk:      the connection, locked
 * @queue:   TCP_FRAG_IN_WRITE_QUEUE or TCP_FRAG_IN_RTX_QUEUE
 * @skb:     paged, @len < its length
 * @len:     bytes the first part keeps
 * @mss_now: the MSS both parts are counted in
 * @gfp:     for the new skb
 *
 * tcp_fragment() and tso_fragment(): the tail goes to a new skb queued
 * right after; PSH and FIN stay with it.  A retransmit queue that grew
 * past twice SO_SNDBUF is not split further except at its ends
 * (TCPWqueueTooBig), so that a peer cannot make us split forever.
 *
 * Return: 0 or -ENOMEM.
 */
int xtcp_fragment(struct sock *sk, enum tcp_queue queue, struct sk_buff *skb,
		  u32 len, unsigned int mss_now, gfp_t gfp)
{
	struct tcp_sock *tp = tcp_sk(sk);
	struct sk_buff *buff;
	int old_factor, nlen;
	long limit;
	u8 flags;

	if (WARN_ON(len > skb->len))
		return -EINVAL;
	limit = sk->sk_sndbuf + 2 * SKB_TRUESIZE(GSO_LEGACY_MAX_SIZE);
	if (unlikely((sk->sk_wmem_queued >> 1) > limit &&
		     queue != TCP_FRAG_IN_WRITE_QUEUE &&
		     skb != tcp_rtx_queue_head(sk) &&
		     skb != tcp_rtx_queue_tail(sk))) {
		xtcp_inc_stats(sock_net(sk), XTCP_MIB_TCPWQUEUETOOBIG);
		return -ENOMEM;
	}
	if (xtcp_skb_unclone_keeptruesize(skb, gfp))
		return -ENOMEM;
	buff = xtcp_stream_alloc_skb(sk, gfp, true);
	if (!buff)
		return -ENOMEM;
	sk_wmem_queued_add(sk, buff->truesize);
	sk_mem_charge(sk, buff->truesize);
	nlen = skb->len - len;
	buff->truesize += nlen;
	skb->truesize -= nlen;

	TCP_SKB_CB(buff)->seq = TCP_SKB_CB(skb)->seq + len;
	TCP_SKB_CB(buff)->end_seq = TCP_SKB_CB(skb)->end_seq;
	TCP_SKB_CB(skb)->end_seq = TCP_SKB_CB(buff)->seq;
	flags = TCP_SKB_CB(skb)->tcp_flags;
	TCP_SKB_CB(skb)->tcp_flags = flags & ~(TCPHDR_FIN | TCPHDR_PSH);
	TCP_SKB_CB(buff)->tcp_flags = flags;
	TCP_SKB_CB(buff)->sacked = TCP_SKB_CB(skb)->sacked;
	/* The rate sample's snapshot of when it left (rate.c). */
	TCP_SKB_CB(buff)->tx = TCP_SKB_CB(skb)->tx;
	TCP_SKB_CB(buff)->eor = TCP_SKB_CB(skb)->eor;
	TCP_SKB_CB(skb)->eor = 0;
	skb_split(skb, buff, len);
	xtcp_skb_set_delivery_time(buff, skb->tstamp);

	old_factor = tcp_skb_pcount(skb);
	xtcp_set_skb_tso_segs(skb, mss_now);
	xtcp_set_skb_tso_segs(buff, mss_now);
	/* Already sent: the counters of what is in flight change. */
	if (!before(tp->snd_nxt, TCP_SKB_CB(buff)->end_seq)) {
		int diff = old_factor - tcp_skb_pcount(skb) -
			   tcp_skb_pcount(buff);

		if (diff)
			xtcp_adjust_pcount(sk, skb, diff);
	}
	__skb_header_release(buff);
	if (queue == TCP_FRAG_IN_WRITE_QUEUE) {
		__skb_queue_after(xtcp_write_queue(sk), skb, buff);
	} else {
		xtcp_rbtree_insert(&sk->tcp_rtx_queue, buff);
		list_add(&buff->tcp_tsorted_anchor, &skb->tcp_tsorted_anchor);
	}
	return 0;
}

/*
 * __pskb_trim_head(): drop @len bytes from the front of a paged skb.
 * Returns the truesize given back.
 */
static int xtcp_pskb_trim_head(struct sk_buff *skb, int len)
{
	struct skb_shared_info *shinfo = skb_shinfo(skb);
	int i, k = 0, eat = len;

	for (i = 0; i < shinfo->nr_frags; i++) {
		int size = skb_frag_size(&shinfo->frags[i]);

		if (size <= eat) {
			skb_frag_unref(skb, i);
			eat -= size;
		} else {
			shinfo->frags[k] = shinfo->frags[i];
			if (eat) {
				skb_frag_off_add(&shinfo->frags[k], eat);
				skb_frag_size_sub(&shinfo->frags[k], eat);
				eat = 0;
			}
			k++;
		}
	}
	shinfo->nr_frags = k;
	skb->data_len -= len;
	skb->len = skb->data_len;
	return len;
}

/**
 * xtcp_trim_head - drop acknowledged bytes from the front of an skb
 * @sk:  the connection, locked
 * @skb: an skb of the retransmit queue, paged
 * @len: bytes, less than its length
 *
 * tcp_trim_head(), for a partly acknowledged GSO skb.
 * Return: 0 or -ENOMEM.
 */
int xtcp_trim_head(struct sock *sk, struct sk_buff *skb, u32 len)
{
	u32 delta_truesize;

	if (xtcp_skb_unclone_keeptruesize(skb, GFP_ATOMIC))
		return -ENOMEM;
	delta_truesize = xtcp_pskb_trim_head(skb, len);
	TCP_SKB_CB(skb)->seq += len;
	skb->truesize -= delta_truesize;
	sk_wmem_queued_add(sk, -delta_truesize);
	sk_mem_uncharge(sk, delta_truesize);
	if (tcp_skb_pcount(skb) > 1)
		xtcp_set_skb_tso_segs(skb, tcp_skb_mss(skb));
	return 0;
}

/*
 * tcp_event_new_data_sent(): @skb left for the first time; it moves to
 * the retransmit queue, and the timer starts if nothing was in flight
 * (RFC 6298 5.1).
 */
static void xtcp_event_new_data_sent(struct sock *sk, struct sk_buff *skb)
{
	struct tcp_sock *tp = tcp_sk(sk);
	unsigned int prior_packets = tp->packets_out;

	WRITE_ONCE(tp->snd_nxt, TCP_SKB_CB(skb)->end_seq);
	__skb_unlink(skb, xtcp_write_queue(sk));
	xtcp_rbtree_insert(&sk->tcp_rtx_queue, skb);
	if (!tp->highest_sack)
		tp->highest_sack = skb;
	tp->packets_out += tcp_skb_pcount(skb);
	/* A pending loss probe is re-planned from the new tail. */
	if (!prior_packets ||
	    inet_csk(sk)->icsk_pending == ICSK_TIME_LOSS_PROBE)
		xtcp_rearm_rto(sk);
	xtcp_add_stats(sock_net(sk), XTCP_MIB_TCPORIGDATASENT,
		       tcp_skb_pcount(skb));
	xtcp_check_space(sk);
}

/*
 * tcp_cwnd_application_limited(): an application that did not use the
 * window for an RTO lets it decay to what it used (RFC 2861).
 */
static void xtcp_cwnd_application_limited(struct sock *sk)
{
	struct tcp_sock *tp = tcp_sk(sk);

	if (inet_csk(sk)->icsk_ca_state == TCP_CA_Open &&
	    sk->sk_socket && !test_bit(SOCK_NOSPACE, &sk->sk_socket->flags)) {
		u32 init_win = xtcp_init_cwnd(sk);
		u32 win_used = max(tp->snd_cwnd_used, init_win);

		if (win_used < tp->snd_cwnd) {
			tp->snd_ssthresh = max(tp->snd_ssthresh,
					       (tp->snd_cwnd >> 1) +
					       (tp->snd_cwnd >> 2));
			tp->snd_cwnd = (tp->snd_cwnd + win_used) >> 1;
		}
		tp->snd_cwnd_used = 0;
	}
	tp->snd_cwnd_stamp = tcp_jiffies32;
}

/*
 * tcp_cwnd_validate(): remember whether this window was used, which
 * decides whether an ACK may grow it (xtcp_is_cwnd_limited()).
 */
static void xtcp_cwnd_validate(struct sock *sk, bool is_cwnd_limited)
{
	struct tcp_sock *tp = tcp_sk(sk);

	if (!before(tp->snd_una, tp->cwnd_usage_seq) || is_cwnd_limited ||
	    (!tp->is_cwnd_limited && tp->packets_out > tp->max_packets_out)) {
		tp->is_cwnd_limited = is_cwnd_limited;
		tp->max_packets_out = tp->packets_out;
		tp->cwnd_usage_seq = tp->snd_nxt;
	}
	if (xtcp_is_cwnd_limited(sk)) {
		tp->snd_cwnd_used = 0;
		tp->snd_cwnd_stamp = tcp_jiffies32;
	} else {
		if (tp->packets_out > tp->snd_cwnd_used)
			tp->snd_cwnd_used = tp->packets_out;
		if (READ_ONCE(sock_net(sk)->ipv4.sysctl_tcp_slow_start_after_idle) &&
		    (s32)(tcp_jiffies32 - tp->snd_cwnd_stamp) >=
		    inet_csk(sk)->icsk_rto)
			xtcp_cwnd_application_limited(sk);
	}
}

/*
 * tcp_pacing_check(): with internal pacing (SK_PACING_NEEDED: pacing
 * was asked for and no fq qdisc does it), nothing leaves before
 * tcp_wstamp_ns; the pacing timer sends it then (xtcp_pace_kick()),
 * holding a socket reference while armed.
 */
static bool xtcp_pacing_check(struct sock *sk)
{
	struct tcp_sock *tp = tcp_sk(sk);

	if (!xtcp_needs_internal_pacing(sk))
		return false;
	if (tp->tcp_wstamp_ns <= tp->tcp_clock_cache)
		return false;
	if (!hrtimer_is_queued(&tp->pacing_timer)) {
		hrtimer_start(&tp->pacing_timer, ns_to_ktime(tp->tcp_wstamp_ns),
			      HRTIMER_MODE_ABS_PINNED_SOFT);
		sock_hold(sk);
	}
	return true;
}

/*
 * skb_shift(), which the kernel does not export: move up to @shiftlen
 * bytes of @skb's page fragments to the end of @tgt, the first joining
 * @tgt's last fragment where they touch in the page.  All or nothing:
 * if @tgt runs out of fragment slots, or @skb has linear data or
 * zerocopy pages, nothing moves.  Returns the bytes moved; the caller
 * frees @skb if that was all of it.
 */
static int xtcp_skb_shift(struct sk_buff *tgt, struct sk_buff *skb,
			  int shiftlen)
{
	skb_frag_t *fragfrom, *fragto;
	int from, to, merge, todo;

	if (WARN_ON_ONCE(shiftlen > skb->len))
		return 0;
	if (skb_headlen(skb))
		return 0;
	if (skb_zcopy(tgt) || skb_zcopy(skb))
		return 0;
	todo = shiftlen;
	from = 0;
	to = skb_shinfo(tgt)->nr_frags;
	fragfrom = &skb_shinfo(skb)->frags[from];
	/* The merge waits until the whole shift is known to succeed. */
	if (!skb_can_coalesce(tgt, to, skb_frag_page(fragfrom),
			      skb_frag_off(fragfrom))) {
		merge = -1;
	} else {
		merge = to - 1;
		todo -= skb_frag_size(fragfrom);
		if (todo < 0) {
			if (xtcp_skb_unclone_keeptruesize(skb, GFP_ATOMIC) ||
			    xtcp_skb_unclone_keeptruesize(tgt, GFP_ATOMIC))
				return 0;
			/* An unclone may have moved the fragments. */
			fragfrom = &skb_shinfo(skb)->frags[from];
			fragto = &skb_shinfo(tgt)->frags[merge];
			skb_frag_size_add(fragto, shiftlen);
			skb_frag_size_sub(fragfrom, shiftlen);
			skb_frag_off_add(fragfrom, shiftlen);
			goto onlymerged;
		}
		from++;
	}
	/* All of @skb, and its fragments cannot fit: not worth trying. */
	if (shiftlen == skb->len &&
	    skb_shinfo(skb)->nr_frags - from > MAX_SKB_FRAGS - to)
		return 0;
	if (xtcp_skb_unclone_keeptruesize(skb, GFP_ATOMIC) ||
	    xtcp_skb_unclone_keeptruesize(tgt, GFP_ATOMIC))
		return 0;
	while (todo > 0 && from < skb_shinfo(skb)->nr_frags) {
		if (to == MAX_SKB_FRAGS)
			return 0;
		fragfrom = &skb_shinfo(skb)->frags[from];
		fragto = &skb_shinfo(tgt)->frags[to];
		if (todo >= skb_frag_size(fragfrom)) {
			*fragto = *fragfrom;
			todo -= skb_frag_size(fragfrom);
			from++;
			to++;
		} else {
			/* Both keep part of this page: one more reference. */
			__skb_frag_ref(fragfrom);
			skb_frag_page_copy(fragto, fragfrom);
			skb_frag_off_copy(fragto, fragfrom);
			skb_frag_size_set(fragto, todo);
			skb_frag_off_add(fragfrom, todo);
			skb_frag_size_sub(fragfrom, todo);
			todo = 0;
			to++;
			break;
		}
	}
	skb_shinfo(tgt)->nr_frags = to;
	if (merge >= 0) {
		fragfrom = &skb_shinfo(skb)->frags[0];
		fragto = &skb_shinfo(tgt)->frags[merge];
		skb_frag_size_add(fragto, skb_frag_size(fragfrom));
		__skb_frag_unref(fragfrom, skb->pp_recycle);
	}
	/* What is left of @skb moves to the front of its fragments. */
	to = 0;
	while (from < skb_shinfo(skb)->nr_frags)
		skb_shinfo(skb)->frags[to++] = skb_shinfo(skb)->frags[from++];
	skb_shinfo(skb)->nr_frags = to;
	WARN_ON_ONCE(todo > 0 && !skb_shinfo(skb)->nr_frags);
onlymerged:
	tgt->ip_summed = CHECKSUM_PARTIAL;
	skb->ip_summed = CHECKSUM_PARTIAL;
	skb_shinfo(tgt)->flags |= skb_shinfo(skb)->flags & SKBFL_SHARED_FRAG;
	skb_len_add(skb, -shiftlen);
	skb_len_add(tgt, shiftlen);
	return shiftlen;
}

/*
 * tcp_eat_one_skb(): @src gave all its bytes to @dst, which takes its
 * flags (PSH, FIN) and its MSG_EOR mark; @src leaves the write queue
 * and is freed.  tcp_skb_collapse_tstamp() would move a TX timestamp
 * request: xtcp takes none (sendmsg.c).
 */
static void xtcp_eat_one_skb(struct sock *sk, struct sk_buff *dst,
			     struct sk_buff *src)
{
	TCP_SKB_CB(dst)->tcp_flags |= TCP_SKB_CB(src)->tcp_flags;
	TCP_SKB_CB(dst)->eor = TCP_SKB_CB(src)->eor;
	xtcp_unlink_write_queue(src, sk);
	tcp_wmem_free_skb(sk, src);
}

/*
 * tcp_grow_skb() (6.12, compat.h): @skb, the head of the write queue,
 * is @amount bytes short of what cwnd lets out at once: it takes up to
 * that many from the front of the next skb, unless MSG_EOR or a
 * different mapping keeps them apart (tcp_skb_can_collapse()).  An skb
 * left empty is eaten, its end (and FIN) passing to @skb.  One skb a
 * call: the loop of xtcp_write_xmit() comes back for the next.
 */
static void xtcp_grow_skb(struct sock *sk, struct sk_buff *skb, int amount)
{
	struct sk_buff *next_skb = skb->next;
	unsigned int nlen;

	if (xtcp_skb_is_last(sk, skb))
		return;
	if (!tcp_skb_can_collapse(skb, next_skb))
		return;
	nlen = min_t(u32, amount, next_skb->len);
	if (!nlen || !xtcp_skb_shift(skb, next_skb, nlen))
		return;
	TCP_SKB_CB(skb)->end_seq += nlen;
	TCP_SKB_CB(next_skb)->seq += nlen;
	if (!next_skb->len) {
		/* Its FIN, if it has one, takes the last sequence number. */
		TCP_SKB_CB(skb)->end_seq = TCP_SKB_CB(next_skb)->end_seq;
		xtcp_eat_one_skb(sk, skb, next_skb);
	}
}

/*
 * tcp_write_xmit(): send what the write queue holds, as far as cwnd,
 * the peer's window and Nagle let it, each GSO packet sized by
 * xtcp_tso_segs().  6.1 counts the head's segments as it is; 6.12 first
 * grows it to what cwnd lets out (xtcp_grow_skb(), compat.h).
 * @push_one: only the head (2: for a loss probe, which must not plan
 * another).  Returns true when nothing is in flight and data waits:
 * only a zero-window probe can move it (the caller arms the timer).
 */
static bool xtcp_write_xmit(struct sock *sk, unsigned int mss_now,
			    int nonagle, int push_one, gfp_t gfp)
{
	bool is_cwnd_limited = false, is_rwnd_limited = false;
	struct tcp_sock *tp = tcp_sk(sk);
	unsigned int tso_segs, sent_pkts = 0;
	u32 cwnd_quota, max_segs;
	struct sk_buff *skb;

	xtcp_mstamp_refresh(tp);
	max_segs = xtcp_tso_segs(sk, mss_now);
	while ((skb = xtcp_send_head(sk))) {
		unsigned int limit;
		int missing_bytes;

		if (xtcp_pacing_check(sk))
			break;
		/* 6.1 counts first: its cwnd test lets a lone FIN segment by. */
		if (!XTCP_WRITE_XMIT_GROWS_SKB)
			tso_segs = xtcp_init_tso_segs(skb, mss_now);
		cwnd_quota = xtcp_cwnd_test(tp, skb);
		if (!cwnd_quota) {
			/* A loss probe goes even with cwnd full (RFC 8985 7.3). */
			if (push_one != 2)
				break;
			cwnd_quota = 1;
		}
		cwnd_quota = min(cwnd_quota, max_segs);
		/* 6.12: as many bytes as cwnd lets out, from the skbs behind. */
		if (XTCP_WRITE_XMIT_GROWS_SKB) {
			missing_bytes = cwnd_quota * mss_now - skb->len;
			if (missing_bytes > 0)
				xtcp_grow_skb(sk, skb, missing_bytes);
			tso_segs = xtcp_set_skb_tso_segs(skb, mss_now);
		}
		if (unlikely(!xtcp_snd_wnd_test(tp, skb, mss_now))) {
			is_rwnd_limited = true;
			break;
		}
		if (tso_segs == 1) {
			if (unlikely(!xtcp_nagle_test(tp, skb, mss_now,
						      xtcp_skb_is_last(sk, skb) ?
						      nonagle : TCP_NAGLE_PUSH)))
				break;
		} else if (!push_one &&
			   xtcp_tso_should_defer(sk, skb, &is_cwnd_limited,
						 &is_rwnd_limited, max_segs)) {
			break;
		}
		/* In urgent mode one MSS a segment: each carries the pointer. */
		limit = mss_now;
		if (tso_segs > 1 && !xtcp_urg_mode(tp))
			limit = xtcp_mss_split_point(sk, skb, mss_now,
						     cwnd_quota, nonagle);
		if (skb->len > limit &&
		    unlikely(xtcp_fragment(sk, TCP_FRAG_IN_WRITE_QUEUE, skb,
					   limit, mss_now, gfp)))
			break;
		/* An empty skb: a writer sleeps in sendmsg() to fill it. */
		if (TCP_SKB_CB(skb)->end_seq == TCP_SKB_CB(skb)->seq)
			break;
		if (unlikely(xtcp_transmit_skb(sk, skb, 1, gfp)))
			break;
		xtcp_event_new_data_sent(sk, skb);
		xtcp_minshall_update(tp, mss_now, skb);
		sent_pkts += tcp_skb_pcount(skb);
		if (push_one)
			break;
	}
	is_cwnd_limited |= (tcp_packets_in_flight(tp) >= tp->snd_cwnd);
	if (likely(sent_pkts || is_cwnd_limited))
		xtcp_cwnd_validate(sk, is_cwnd_limited);
	if (likely(sent_pkts)) {
		if (tcp_in_cwnd_reduction(sk))
			tp->prr_out += sent_pkts;
		/* One loss probe per tail loss episode: not from the probe. */
		if (push_one != 2)
			xtcp_schedule_loss_probe(sk, false);
		return false;
	}
	return !tp->packets_out && !tcp_write_queue_empty(sk);
}

/*
 * tcp_check_probe_timer(): nothing in flight will bring an ACK, so a
 * zero-window probe must.
 */
static void xtcp_check_probe_timer(struct sock *sk)
{
	if (!tcp_sk(sk)->packets_out && !inet_csk(sk)->icsk_pending)
		inet_csk_reset_xmit_timer(sk, ICSK_TIME_PROBE0,
					  xtcp_probe0_base(sk), TCP_RTO_MAX);
}

/**
 * __xtcp_push_pending_frames - send what may be sent (__tcp_push_pending_frames())
 * @sk:      the connection, locked
 * @cur_mss: xtcp_current_mss()
 * @nonagle: TCP_NAGLE_* for the last, partial segment
 */
void __xtcp_push_pending_frames(struct sock *sk, unsigned int cur_mss,
				int nonagle)
{
	if (unlikely(sk->sk_state == TCP_CLOSE))
		return;
	if (xtcp_write_xmit(sk, cur_mss, nonagle, 0, GFP_ATOMIC))
		xtcp_check_probe_timer(sk);
}

/**
 * xtcp_push_pending_frames - the same with the connection's own Nagle mode
 * @sk: the connection, locked
 *
 * tcp_push_pending_frames(), as an ACK that opened room calls it.
 */
void xtcp_push_pending_frames(struct sock *sk)
{
	if (xtcp_send_head(sk))
		__xtcp_push_pending_frames(sk, xtcp_current_mss(sk),
					   tcp_sk(sk)->nonagle);
}

/**
 * xtcp_push_one - send the head of the write queue, full-sized (tcp_push_one())
 * @sk:      the connection, locked
 * @mss_now: xtcp_current_mss()
 */
void xtcp_push_one(struct sock *sk, unsigned int mss_now)
{
	xtcp_write_xmit(sk, mss_now, TCP_NAGLE_PUSH, 1, sk->sk_allocation);
}

/*
 * __tcp_retransmit_skb(): send @skb again, at most @segs segments of it
 * and no more than the peer's window; the part already acknowledged is
 * trimmed first.  Returns 0, -EBUSY if the previous copy is still in
 * our own qdisc or device (TCPSpuriousRtxHostQueues), -EAGAIN if the
 * window shrank past it, or another error.
 */
static int __xtcp_retransmit_skb(struct sock *sk, struct sk_buff *skb,
				 int segs)
{
	struct tcp_sock *tp = tcp_sk(sk);
	unsigned int cur_mss;
	int diff, len, err, avail_wnd;

	/* The clone still waits in a queue below us: sending is pointless. */
	if (skb_fclone_busy(sk, skb)) {
		xtcp_inc_stats(sock_net(sk), XTCP_MIB_TCPSPURIOUSRTXHOSTQUEUES);
		return -EBUSY;
	}
	if (before(TCP_SKB_CB(skb)->seq, tp->snd_una)) {
		if (unlikely(before(TCP_SKB_CB(skb)->end_seq, tp->snd_una))) {
			WARN_ON_ONCE(1);
			return -EINVAL;
		}
		if (xtcp_trim_head(sk, skb, tp->snd_una - TCP_SKB_CB(skb)->seq))
			return -ENOMEM;
	}
	if (inet_sk_rebuild_header(sk))
		return -EHOSTUNREACH;
	cur_mss = xtcp_current_mss(sk);
	avail_wnd = tcp_wnd_end(tp) - TCP_SKB_CB(skb)->seq;
	/* Out of a shrunk window: only the head, as a zero-window probe. */
	if (avail_wnd <= 0) {
		if (TCP_SKB_CB(skb)->seq != tp->snd_una)
			return -EAGAIN;
		avail_wnd = cur_mss;
	}
	len = cur_mss * (xtcp_urg_mode(tp) ? 1 : segs);
	if (len > avail_wnd) {
		len = rounddown(avail_wnd, cur_mss);
		if (!len)
			len = avail_wnd;
	}
	if (skb->len > len) {
		if (xtcp_fragment(sk, TCP_FRAG_IN_RTX_QUEUE, skb, len, cur_mss,
				  GFP_ATOMIC))
			return -ENOMEM;
	} else {
		if (xtcp_skb_unclone_keeptruesize(skb, GFP_ATOMIC))
			return -ENOMEM;
		diff = tcp_skb_pcount(skb);
		xtcp_set_skb_tso_segs(skb, cur_mss);
		diff -= tcp_skb_pcount(skb);
		if (diff)
			xtcp_adjust_pcount(sk, skb, diff);
	}
	segs = tcp_skb_pcount(skb);
	xtcp_add_stats(sock_net(sk), XTCP_MIB_RETRANSSEGS, segs);
	WRITE_ONCE(tp->total_retrans, tp->total_retrans + segs);
	WRITE_ONCE(tp->bytes_retrans, tp->bytes_retrans + skb->len);
	err = xtcp_transmit_skb(sk, skb, 1, GFP_ATOMIC);
	if (err && err != -EBUSY)
		xtcp_add_stats(sock_net(sk), XTCP_MIB_TCPRETRANSFAIL, segs);
	/* Never an RTT sample from it, sent or not. */
	TCP_SKB_CB(skb)->sacked |= TCPCB_EVER_RETRANS;
	return err;
}

/**
 * xtcp_retransmit_skb - send @skb again and count it (tcp_retransmit_skb())
 * @sk:   the connection, locked
 * @skb:  an skb of the retransmit queue
 * @segs: at most this many segments of it
 *
 * retrans_stamp records the first retransmission of the episode: the
 * timeouts of tcp_retries1/2 and TCP_USER_TIMEOUT count from it.
 * undo_retrans counts what D-SACKs must cover before undo.
 *
 * Return: 0 or a negative errno (see __xtcp_retransmit_skb()).
 */
int xtcp_retransmit_skb(struct sock *sk, struct sk_buff *skb, int segs)
{
	struct tcp_sock *tp = tcp_sk(sk);
	int err = __xtcp_retransmit_skb(sk, skb, segs);

	if (!err) {
		TCP_SKB_CB(skb)->sacked |= TCPCB_RETRANS;
		tp->retrans_out += tcp_skb_pcount(skb);
	}
	if (!tp->retrans_stamp)
		tp->retrans_stamp = (u32)div_u64(skb->skb_mstamp_ns,
						 NSEC_PER_MSEC);
	/* One more to be D-SACKed before the episode may be undone. */
	if (tp->undo_retrans < 0)
		tp->undo_retrans = 0;
	tp->undo_retrans += tcp_skb_pcount(skb);
	return err;
}

/**
 * xtcp_xmit_retransmit_queue - send the lost segments again
 * @sk: the connection, locked
 *
 * tcp_xmit_retransmit_queue(): from the oldest (or the hint), each
 * segment marked lost and neither SACKed nor re-sent yet, as long as
 * cwnd has room: TCPFastRetrans in recovery, TCPSlowStartRetrans after
 * a timeout.  In a PRR reduction each counts in prr_out.  The timer
 * restarts if the head went out, unless RACK's reordering wait runs.
 */
void xtcp_xmit_retransmit_queue(struct sock *sk)
{
	const struct inet_connection_sock *icsk = inet_csk(sk);
	struct sk_buff *skb, *rtx_head, *hole = NULL;
	struct tcp_sock *tp = tcp_sk(sk);
	bool rearm_timer = false;
	u32 max_segs;
	int mib;

	if (!tp->packets_out)
		return;
	rtx_head = tcp_rtx_queue_head(sk);
	skb = tp->retransmit_skb_hint ?: rtx_head;
	max_segs = xtcp_tso_segs(sk, xtcp_current_mss(sk));
	skb_rbtree_walk_from(skb) {
		u8 sacked;
		int segs;

		if (xtcp_pacing_check(sk))
			break;
		if (!hole)
			tp->retransmit_skb_hint = skb;
		segs = tp->snd_cwnd - tcp_packets_in_flight(tp);
		if (segs <= 0)
			break;
		sacked = TCP_SKB_CB(skb)->sacked;
		segs = min_t(int, segs, max_segs);
		if (tp->retrans_out >= tp->lost_out) {
			break;
		} else if (!(sacked & TCPCB_LOST)) {
			if (!hole && !(sacked & (TCPCB_SACKED_RETRANS |
						 TCPCB_SACKED_ACKED)))
				hole = skb;
			continue;
		}
		mib = icsk->icsk_ca_state != TCP_CA_Loss ?
		      XTCP_MIB_TCPFASTRETRANS : XTCP_MIB_TCPSLOWSTARTRETRANS;
		if (sacked & (TCPCB_SACKED_ACKED | TCPCB_SACKED_RETRANS))
			continue;
		if (xtcp_retransmit_skb(sk, skb, segs))
			break;
		xtcp_add_stats(sock_net(sk), mib, tcp_skb_pcount(skb));
		if (tcp_in_cwnd_reduction(sk))
			tp->prr_out += tcp_skb_pcount(skb);
		if (skb == rtx_head &&
		    icsk->icsk_pending != ICSK_TIME_REO_TIMEOUT)
			rearm_timer = true;
	}
	if (rearm_timer)
		inet_csk_reset_xmit_timer(sk, ICSK_TIME_RETRANS,
					  inet_csk(sk)->icsk_rto, TCP_RTO_MAX);
}

/**
 * xtcp_tsq_write - send what pacing held back (tcp_tsq_write())
 * @sk: the connection, locked (bh_lock_sock() and not owned, or from
 *      release_sock())
 *
 * Lost segments first when cwnd has room for them, then new data.  Only
 * in states that still send.
 */
void xtcp_tsq_write(struct sock *sk)
{
	struct tcp_sock *tp = tcp_sk(sk);

	if (!((1 << sk->sk_state) &
	      (TCPF_ESTABLISHED | TCPF_FIN_WAIT1 | TCPF_CLOSING |
	       TCPF_CLOSE_WAIT | TCPF_LAST_ACK)))
		return;
	if (tp->lost_out > tp->retrans_out &&
	    tp->snd_cwnd > tcp_packets_in_flight(tp)) {
		xtcp_mstamp_refresh(tp);
		xtcp_xmit_retransmit_queue(sk);
	}
	xtcp_write_xmit(sk, xtcp_current_mss(sk), tp->nonagle, 0, GFP_ATOMIC);
}

/**
 * xtcp_pace_kick - the pacing timer (tcp_pace_kick())
 * @timer: tp->pacing_timer, a soft hrtimer: softirq context
 *
 * The departure time xtcp_pacing_check() waited for has come: send,
 * or if a process owns the socket leave it to xtcp_release_cb()
 * (TCP_TSQ_DEFERRED, with a reference of its own), as
 * tcp_tsq_handler().  The reference taken when the timer was armed is
 * given back here.
 *
 * Return: HRTIMER_NORESTART.
 */
enum hrtimer_restart xtcp_pace_kick(struct hrtimer *timer)
{
	struct tcp_sock *tp = container_of(timer, struct tcp_sock, pacing_timer);
	struct sock *sk = (struct sock *)tp;

	bh_lock_sock(sk);
	if (!sock_owned_by_user(sk))
		xtcp_tsq_write(sk);
	else if (!test_and_set_bit(TCP_TSQ_DEFERRED, &sk->sk_tsq_flags))
		sock_hold(sk);
	bh_unlock_sock(sk);
	sock_put(sk);
	return HRTIMER_NORESTART;
}

/**
 * xtcp_schedule_loss_probe - arm the tail loss probe (tcp_schedule_loss_probe())
 * @sk:            the connection, locked
 * @advancing_rto: the RTO is being restarted now (an ACK), not running
 *
 * RFC 8985 7.2: with SACK, in Open or CWR, net.xtcp.early_retrans 3 or
 * 4, probe after PTO = 2 SRTT, plus the delayed-ACK allowance
 * (tcp_rto_min) when a single segment is out, else plus 2 ms; before
 * any RTT sample, after TCP_TIMEOUT_INIT; never later than the RTO.
 *
 * Return: true if armed (else the caller arms the RTO).
 */
bool xtcp_schedule_loss_probe(struct sock *sk, bool advancing_rto)
{
	struct inet_connection_sock *icsk = inet_csk(sk);
	struct tcp_sock *tp = tcp_sk(sk);
	u32 timeout, timeout_us, rto_delta_us;
	int early_retrans;

	/* No loss probe before a Fast Open child's handshake completes. */
	if (rcu_access_pointer(tp->fastopen_rsk))
		return false;
	early_retrans = READ_ONCE(xtcp_pernet(sock_net(sk))->sysctl.early_retrans);
	if ((early_retrans != 3 && early_retrans != 4) ||
	    !tp->packets_out || !tcp_is_sack(tp) ||
	    (icsk->icsk_ca_state != TCP_CA_Open &&
	     icsk->icsk_ca_state != TCP_CA_CWR))
		return false;
	if (tp->srtt_us) {
		timeout_us = tp->srtt_us >> 2;
		if (tp->packets_out == 1)
			timeout_us += tcp_rto_min_us(sk);
		else
			timeout_us += TCP_TIMEOUT_MIN_US;
		timeout = usecs_to_jiffies(timeout_us);
	} else {
		timeout = TCP_TIMEOUT_INIT;
	}
	rto_delta_us = advancing_rto ? jiffies_to_usecs(icsk->icsk_rto) :
				       tcp_rto_delta_us(sk);
	if (rto_delta_us > 0)
		timeout = min_t(u32, timeout, usecs_to_jiffies(rto_delta_us));
	inet_csk_reset_xmit_timer(sk, ICSK_TIME_LOSS_PROBE, timeout,
				  TCP_RTO_MAX);
	return true;
}

/**
 * xtcp_send_loss_probe - the probe timeout fired (tcp_send_loss_probe())
 * @sk: the connection, locked, not owned (the write timer)
 *
 * RFC 8985 7.3: new data if the window allows, else the last segment
 * again (its last MSS); its ACK, or its absence, tells a tail loss
 * (xtcp_process_tlp_ack()).  One probe at a time (tlp_high_seq).  The
 * RTO then runs from now.
 */
void xtcp_send_loss_probe(struct sock *sk)
{
	struct tcp_sock *tp = tcp_sk(sk);
	int mss = xtcp_current_mss(sk);
	struct sk_buff *skb;
	int pcount;

	if (tp->tlp_high_seq)
		goto rearm_timer;
	tp->tlp_retrans = 0;
	skb = xtcp_send_head(sk);
	if (skb && xtcp_snd_wnd_test(tp, skb, mss)) {
		pcount = tp->packets_out;
		xtcp_write_xmit(sk, mss, TCP_NAGLE_OFF, 2, GFP_ATOMIC);
		if (tp->packets_out > pcount)
			goto probe_sent;
		goto rearm_timer;
	}
	skb = skb_rb_last(&sk->tcp_rtx_queue);
	if (unlikely(!skb)) {
		WARN_ONCE(tp->packets_out, "xtcp: %u in flight, none queued\n",
			  tp->packets_out);
		inet_csk(sk)->icsk_pending = 0;
		return;
	}
	pcount = tcp_skb_pcount(skb);
	if (WARN_ON(!pcount))
		goto rearm_timer;
	if (pcount > 1 && skb->len > (pcount - 1) * mss) {
		if (unlikely(xtcp_fragment(sk, TCP_FRAG_IN_RTX_QUEUE, skb,
					   (pcount - 1) * mss, mss,
					   GFP_ATOMIC)))
			goto rearm_timer;
		skb = skb_rb_next(skb);
	}
	if (WARN_ON(!skb || !tcp_skb_pcount(skb)))
		goto rearm_timer;
	if (__xtcp_retransmit_skb(sk, skb, 1))
		goto rearm_timer;
	tp->tlp_retrans = 1;
probe_sent:
	/* Loss is judged against what was sent up to here. */
	tp->tlp_high_seq = tp->snd_nxt;
	xtcp_inc_stats(sock_net(sk), XTCP_MIB_TCPLOSSPROBES);
	/* So that the RTO below counts from now. */
	inet_csk(sk)->icsk_pending = 0;
rearm_timer:
	xtcp_rearm_rto(sk);
}

/*
 * tcp_xmit_probe_skb(): a segment the peer must answer with an ACK, one
 * below SND.UNA so that it carries no new data (RFC 9293 3.8.6.1), or at
 * SND.UNA if @urgent, to carry the urgent pointer; counted in @mib
 * (TCPWinProbe, TCPKeepAlive).
 */
static int xtcp_xmit_probe_skb(struct sock *sk, int urgent, int mib)
{
	struct tcp_sock *tp = tcp_sk(sk);
	struct sk_buff *skb;

	skb = alloc_skb(MAX_TCP_HEADER, GFP_ATOMIC | __GFP_NOWARN);
	if (!skb)
		return -1;
	skb_reserve(skb, MAX_TCP_HEADER);
	xtcp_init_nondata_skb(skb, tp->snd_una - !urgent, TCPHDR_ACK);
	xtcp_inc_stats(sock_net(sk), mib);
	return xtcp_transmit_skb(sk, skb, 0, 0);
}

/**
 * xtcp_write_wakeup - make the peer answer (tcp_write_wakeup())
 * @sk:  the connection, locked
 * @mib: the counter of a bare probe: TCPWinProbe or TCPKeepAlive
 *
 * A zero-window or keepalive probe.  If some of the peer's window is
 * open (the sender's SWS avoidance held data back), send what fits;
 * else a bare ACK below SND.UNA.
 *
 * Context: softirq (a timer), socket not owned by a user.
 * Return: 0 if sent, > 0 on local congestion, < 0 on failure.
 */
int xtcp_write_wakeup(struct sock *sk, int mib)
{
	struct tcp_sock *tp = tcp_sk(sk);
	struct sk_buff *skb;

	if (sk->sk_state == TCP_CLOSE)
		return -1;
	skb = xtcp_send_head(sk);
	if (skb && before(TCP_SKB_CB(skb)->seq, tcp_wnd_end(tp))) {
		unsigned int mss = xtcp_current_mss(sk);
		unsigned int seg_size = tcp_wnd_end(tp) - TCP_SKB_CB(skb)->seq;
		int err;

		if (before(tp->pushed_seq, TCP_SKB_CB(skb)->end_seq))
			tp->pushed_seq = TCP_SKB_CB(skb)->end_seq;
		if (seg_size < TCP_SKB_CB(skb)->end_seq - TCP_SKB_CB(skb)->seq ||
		    skb->len > mss) {
			seg_size = min(seg_size, mss);
			TCP_SKB_CB(skb)->tcp_flags |= TCPHDR_PSH;
			if (xtcp_fragment(sk, TCP_FRAG_IN_WRITE_QUEUE, skb,
					  seg_size, mss, GFP_ATOMIC))
				return -1;
		} else if (!tcp_skb_pcount(skb)) {
			xtcp_set_skb_tso_segs(skb, mss);
		}
		TCP_SKB_CB(skb)->tcp_flags |= TCPHDR_PSH;
		err = xtcp_transmit_skb(sk, skb, 1, GFP_ATOMIC);
		if (!err)
			xtcp_event_new_data_sent(sk, skb);
		return err;
	}
	/*
	 * In urgent mode two probes: one at snd_una to carry the urgent
	 * pointer, the usual one below it for the ACK.
	 */
	if (between(tp->snd_up, tp->snd_una + 1, tp->snd_una + 0xFFFF))
		xtcp_xmit_probe_skb(sk, 1, mib);
	return xtcp_xmit_probe_skb(sk, 0, mib);
}

/**
 * xtcp_send_probe0 - a zero-window probe is due (tcp_send_probe0())
 * @sk: the connection, locked
 *
 * RFC 9293 3.8.6.1: probe, then again after a backed-off interval, as
 * long as the peer answers, but never past TCP_USER_TIMEOUT from the
 * first probe (xtcp_clamp_probe0_to_user_timeout()).  Nothing to probe
 * for any more: stop.
 */
void xtcp_send_probe0(struct sock *sk)
{
	struct inet_connection_sock *icsk = inet_csk(sk);
	struct tcp_sock *tp = tcp_sk(sk);
	struct net *net = sock_net(sk);
	unsigned long timeout;
	int err;

	err = xtcp_write_wakeup(sk, XTCP_MIB_TCPWINPROBE);
	if (tp->packets_out || tcp_write_queue_empty(sk)) {
		icsk->icsk_probes_out = 0;
		icsk->icsk_backoff = 0;
		icsk->icsk_probes_tstamp = 0;
		return;
	}
	icsk->icsk_probes_out++;
	if (err <= 0) {
		if (icsk->icsk_backoff < READ_ONCE(net->ipv4.sysctl_tcp_retries2))
			icsk->icsk_backoff++;
		timeout = xtcp_probe0_when(sk, TCP_RTO_MAX);
	} else {
		timeout = TCP_RESOURCE_PROBE_INTERVAL;
	}
	timeout = xtcp_clamp_probe0_to_user_timeout(sk, timeout);
	inet_csk_reset_xmit_timer(sk, ICSK_TIME_PROBE0, timeout, TCP_RTO_MAX);
}

/**
 * xtcp_slow_start_after_idle_check - restart cwnd after idleness
 * @sk: the connection, locked
 *
 * tcp_slow_start_after_idle_check(): with nothing in flight, a
 * connection that sent nothing for more than an RTO restarts from a
 * smaller window (RFC 5681 4.1), net.ipv4.tcp_slow_start_after_idle.
 * Called when new data is queued and when the peer's window changes.
 */
void xtcp_slow_start_after_idle_check(struct sock *sk)
{
	struct tcp_sock *tp = tcp_sk(sk);
	s32 delta;

	if (!READ_ONCE(sock_net(sk)->ipv4.sysctl_tcp_slow_start_after_idle) ||
	    tp->packets_out)
		return;
	delta = tcp_jiffies32 - tp->lsndtime;
	if (delta > inet_csk(sk)->icsk_rto)
		xtcp_cwnd_restart(sk, delta);
}

/**
 * xtcp_cwnd_restart - cwnd after an idle period (tcp_cwnd_restart())
 * @sk:    the connection, locked
 * @delta: jiffies since the last send
 *
 * RFC 5681 4.1: halve per RTO idle, down to the initial window.
 */
void xtcp_cwnd_restart(struct sock *sk, s32 delta)
{
	struct tcp_sock *tp = tcp_sk(sk);
	u32 restart_cwnd = xtcp_init_cwnd(sk);
	u32 cwnd = tp->snd_cwnd;

	xtcp_ca_event(sk, CA_EVENT_CWND_RESTART);
	tp->snd_ssthresh = max(tp->snd_ssthresh,
			       (cwnd >> 1) + (cwnd >> 2));
	restart_cwnd = min(restart_cwnd, cwnd);
	while ((delta -= inet_csk(sk)->icsk_rto) > 0 && cwnd > restart_cwnd)
		cwnd >>= 1;
	tp->snd_cwnd = max(cwnd, restart_cwnd);
	tp->snd_cwnd_stamp = tcp_jiffies32;
	tp->snd_cwnd_used = 0;
}

/**
 * xtcp_send_fin - queue our FIN after the data (tcp_send_fin())
 * @sk: the connection, locked, just moved to FIN-WAIT-1 or LAST-ACK
 *
 * The FIN rides on the last unsent skb if there is one; under memory
 * pressure even on the last one sent, which the retransmission timer
 * then re-sends with it.  Otherwise a new skb, charged by force: a
 * connection must always be able to close.  Then everything that may
 * leave does, Nagle off.
 */
void xtcp_send_fin(struct sock *sk)
{
	struct sk_buff *skb, *tskb, *tail = xtcp_write_queue_tail(sk);
	struct tcp_sock *tp = tcp_sk(sk);

	tskb = tail;
	if (!tskb && xtcp_under_memory_pressure(sk))
		tskb = skb_rb_last(&sk->tcp_rtx_queue);
	if (tskb) {
		TCP_SKB_CB(tskb)->tcp_flags |= TCPHDR_FIN;
		TCP_SKB_CB(tskb)->end_seq++;
		WRITE_ONCE(tp->write_seq, tp->write_seq + 1);
		if (!tail) {
			/* As if the FIN had gone with it: only a retransmit will send it. */
			WRITE_ONCE(tp->snd_nxt, tp->snd_nxt + 1);
			return;
		}
	} else {
		skb = alloc_skb_fclone(MAX_TCP_HEADER,
				       GFP_ATOMIC | __GFP_NOWARN);
		if (unlikely(!skb))
			return;
		INIT_LIST_HEAD(&skb->tcp_tsorted_anchor);
		skb_reserve(skb, MAX_TCP_HEADER);
		xtcp_forced_mem_schedule(sk, skb->truesize);
		xtcp_init_nondata_skb(skb, tp->write_seq,
				      TCPHDR_ACK | TCPHDR_FIN);
		/* tcp_queue_skb(): the FIN takes a sequence number. */
		WRITE_ONCE(tp->write_seq, TCP_SKB_CB(skb)->end_seq);
		__skb_header_release(skb);
		__skb_queue_tail(xtcp_write_queue(sk), skb);
		sk_wmem_queued_add(sk, skb->truesize);
		sk_mem_charge(sk, skb->truesize);
	}
	__xtcp_push_pending_frames(sk, xtcp_current_mss(sk), TCP_NAGLE_OFF);
}
