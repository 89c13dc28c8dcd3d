// SPDX-License-Identifier: GPL-2.0
/*
 * xtcp: a connection's own segments, and the window they offer.
 *
 * Mirrors the part of net/ipv4/tcp_output.c that a receiver needs:
 * __tcp_transmit_skb() for segments without data, tcp_select_window()
 * and __tcp_select_window() (RFC 9293 3.8.6.2.2 receiver SWS avoidance,
 * RFC 7323 2.3 scaling), tcp_established_options(), __tcp_send_ack(),
 * tcp_send_delayed_ack() and tcp_send_active_reset().  Data segments
 * come with the send path.
 *
 * Context: the socket is locked (softirq or owner).  A segment leaves by
 * ip_queue_xmit() on the connection's cached route and flow, taking its
 * IP ID from the connection, as tcp_transmit_skb() does.
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

	if (new_win == 0) {
		if (old_win)
			xtcp_inc_stats(net, XTCP_MIB_TCPTOZEROWINDOWADV);
	} else if (old_win == 0) {
		xtcp_inc_stats(net, XTCP_MIB_TCPFROMZEROWINDOWADV);
	}
	return new_win;
}

/*
 * tcp_established_options() for a segment without data: the timestamp
 * (RFC 7323 3.2), then as many SACK blocks as fit, a pending D-SACK
 * first.  Returns the options' length, bytes.
 */
static unsigned int xtcp_established_options(struct sock *sk,
					     struct xtcp_out_options *opts)
{
	struct tcp_sock *tp = tcp_sk(sk);
	unsigned int size = 0, eff_sacks, remaining, i, n = 0;

	if (tp->rx_opt.tstamp_ok) {
		opts->options |= XTCP_OPT_TS;
		opts->tsval = xtcp_time_stamp_ms() + tp->tsoffset;
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
 * quick ACK is used up (tcp_dec_quickack_mode()).
 */
static void xtcp_event_ack_sent(struct sock *sk)
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
 * __tcp_transmit_skb() for a segment without data: header, options and
 * window, then ip_queue_xmit().  Returns -ENOMEM if no skb could be
 * allocated, else what the IP layer said.
 */
static int xtcp_transmit_ctl(struct sock *sk, gfp_t gfp, u8 flags)
{
	struct inet_sock *inet = inet_sk(sk);
	struct tcp_sock *tp = tcp_sk(sk);
	struct xtcp_out_options opts = {};
	unsigned int size;
	struct sk_buff *skb;
	struct tcphdr *th;

	skb = alloc_skb(MAX_TCP_HEADER, gfp);
	if (unlikely(!skb))
		return -ENOMEM;
	skb_reserve(skb, MAX_TCP_HEADER);
	size = sizeof(struct tcphdr) + xtcp_established_options(sk, &opts);
	skb_push(skb, size);
	skb_reset_transport_header(skb);
	skb_set_owner_w(skb, sk);

	th = tcp_hdr(skb);
	memset(th, 0, sizeof(*th));
	th->source = inet->inet_sport;
	th->dest = inet->inet_dport;
	th->seq = htonl(xtcp_acceptable_seq(sk));
	th->ack_seq = htonl(tp->rcv_nxt);
	tcp_flag_byte(th) = flags;
	th->doff = size >> 2;
	th->window = htons(xtcp_select_window(sk));
	xtcp_options_write((__be32 *)(th + 1), &opts);
	/* A D-SACK is reported once (tcp_options_write()). */
	if (opts.num_sack_blocks)
		tp->rx_opt.dsack = 0;
	xtcp_v4_send_check(skb, inet->inet_saddr, inet->inet_daddr);

	if (flags & TCPHDR_ACK)
		xtcp_event_ack_sent(sk);
	tp->segs_out++;
	xtcp_inc_stats(sock_net(sk), XTCP_MIB_OUTSEGS);
	return ip_queue_xmit(sk, skb, &inet->cork.fl);
}

/**
 * xtcp_send_ack - acknowledge now (tcp_send_ack())
 * @sk: the connection, locked
 *
 * If no memory is left for the ACK, it is owed again after
 * TCP_DELACK_MAX, doubled at each further failure up to TCP_RTO_MAX,
 * with the shortest ato, as __tcp_send_ack() does.  A failure further
 * down (the IP layer's) is the network's to recover, as for stock.
 */
void xtcp_send_ack(struct sock *sk)
{
	struct inet_connection_sock *icsk = inet_csk(sk);
	unsigned long delay;

	if (sk->sk_state == TCP_CLOSE)
		return;
	if (xtcp_transmit_ctl(sk, GFP_ATOMIC | __GFP_NOWARN, TCPHDR_ACK) !=
	    -ENOMEM)
		return;
	delay = TCP_DELACK_MAX << icsk->icsk_ack.retry;
	if (delay < TCP_RTO_MAX)
		icsk->icsk_ack.retry++;
	inet_csk_schedule_ack(sk);
	icsk->icsk_ack.ato = TCP_ATO_MIN;
	inet_csk_reset_xmit_timer(sk, ICSK_TIME_DACK, delay, TCP_RTO_MAX);
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
	xtcp_inc_stats(sock_net(sk), XTCP_MIB_OUTRSTS);
	xtcp_transmit_ctl(sk, GFP_ATOMIC, TCPHDR_ACK | TCPHDR_RST);
}
