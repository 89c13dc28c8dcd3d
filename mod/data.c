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
 * Not yet here (Documentation/design.rst, "Receive path"): the
 * out-of-order queue and the SACK blocks it produces, receive-queue
 * collapsing under memory pressure, urgent data, and receive-buffer
 * autotuning.  A segment beyond rcv_nxt is dropped, counted in
 * EstabUnhandled, and answered with an immediate duplicate ACK.
 */
#include <net/tcp.h>

#include "xtcp.h"

/* Flags a full-sized segment need not carry (tcp_input.c's TCP_REMNANT). */
#define XTCP_REMNANT	(TCP_FLAG_FIN | TCP_FLAG_URG | TCP_FLAG_SYN | \
			 TCP_FLAG_PSH)

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

/* tcp_data_ready(): wake the reader once it has enough. */
static void xtcp_data_ready(struct sock *sk)
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
 * coalescing frees or shares anyway.
 */
static unsigned int xtcp_truesize_adjust(const struct sk_buff *skb)
{
	unsigned int truesize = skb->truesize;

	if (!skb_headlen(skb)) {
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
static void xtcp_grow_window(struct sock *sk, const struct sk_buff *skb)
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
	truesize = xtcp_truesize_adjust(skb);
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

/*
 * tcp_event_data_recv(): new data arrived in order.  An ACK is due; the
 * first data starts quick-ACK mode, and the delayed-ACK timeout (ato)
 * follows the gaps between segments: half-life towards TCP_ATO_MIN for
 * back-to-back data, towards the gap otherwise, bounded by the RTO and
 * TCP_DELACK_MAX (6.1 leaves out the latter, compat.h).
 */
static void xtcp_event_data_recv(struct sock *sk, struct sk_buff *skb)
{
	struct inet_connection_sock *icsk = inet_csk(sk);
	u32 now = tcp_jiffies32;

	inet_csk_schedule_ack(sk);
	xtcp_measure_rcv_mss(sk, skb);
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
	if (skb->len >= 128)
		xtcp_grow_window(sk, skb);
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

/* tcp_queue_rcv(): returns 1 if @skb was merged into the tail. */
static int xtcp_queue_rcv(struct sock *sk, struct sk_buff *skb,
			  bool *fragstolen)
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

/*
 * tcp_prune_queue() without the collapsing of queued skbs into dense
 * ones, which is not built yet: clamp the window, and fail if the queue
 * is still over budget.
 */
static int xtcp_prune_queue(struct sock *sk)
{
	struct net *net = sock_net(sk);

	xtcp_inc_stats(net, XTCP_MIB_PRUNECALLED);
	if (atomic_read(&sk->sk_rmem_alloc) >= sk->sk_rcvbuf)
		xtcp_clamp_window(sk);
	else if (xtcp_under_memory_pressure(sk))
		xtcp_adjust_rcv_ssthresh(sk);
	if (atomic_read(&sk->sk_rmem_alloc) <= sk->sk_rcvbuf)
		return 0;
	xtcp_inc_stats(net, XTCP_MIB_RCVPRUNED);
	return -1;
}

/*
 * tcp_try_rmem_schedule(): charge @size bytes to the socket's receive
 * budget (sk_rcvbuf) and to xtcp's pool (net.xtcp.mem).
 */
static int xtcp_try_rmem_schedule(struct sock *sk, struct sk_buff *skb,
				  unsigned int size)
{
	if (atomic_read(&sk->sk_rmem_alloc) > sk->sk_rcvbuf ||
	    !sk_rmem_schedule(sk, skb, size)) {
		if (xtcp_prune_queue(sk) < 0)
			return -1;
		if (!sk_rmem_schedule(sk, skb, size))
			return -1;
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
	    !READ_ONCE(sock_net(sk)->ipv4.sysctl_tcp_dsack))
		return;
	xtcp_inc_stats(sock_net(sk), before(seq, tp->rcv_nxt) ?
		       XTCP_MIB_TCPDSACKOLDSENT : XTCP_MIB_TCPDSACKOFOSENT);
	tp->rx_opt.dsack = 1;
	tp->duplicate_sack[0].start_seq = seq;
	tp->duplicate_sack[0].end_seq = end_seq;
}

/*
 * tcp_fin(): the peer has no more to send (RFC 9293 3.10.7.4, step 8).
 * The FIN is ACKed like data; ESTABLISHED moves to CLOSE_WAIT and the
 * connection is taken for interactive, so the ACK may wait for our reply.
 * The states a closing connection passes through come with the send
 * path; until then an xtcp connection is never in them.
 */
static void xtcp_fin(struct sock *sk)
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
		/* A retransmitted FIN. */
		break;
	default:
		/* Unreachable, as in stock: a log line, not a WARN. */
		pr_err_ratelimited("xtcp: FIN in state %d\n", sk->sk_state);
		break;
	}
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
		sk->sk_data_ready(sk);
		return false;
	}
	if (!xtcp_try_rmem_schedule(sk, skb, skb->truesize))
		return true;
	icsk->icsk_ack.pending |= XTCP_ICSK_ACK_NOMEM | ICSK_ACK_NOW;
	inet_csk_schedule_ack(sk);
	sk->sk_data_ready(sk);
	if (skb_queue_len(&sk->sk_receive_queue) && skb->len)
		return false;
	xtcp_forced_mem_schedule(sk, skb->truesize);
	return true;
}

/* In sequence and in window: queue it, or at least its FIN. */
static void xtcp_data_queue_in_order(struct sock *sk, struct sk_buff *skb)
{
	bool fragstolen;
	int eaten;

	if (!xtcp_rcvq_charge(sk, skb)) {
		xtcp_inc_stats(sock_net(sk), XTCP_MIB_TCPRCVQDROP);
		kfree_skb(skb);
		return;
	}
	eaten = xtcp_queue_rcv(sk, skb, &fragstolen);
	if (skb->len)
		xtcp_event_data_recv(sk, skb);
	if (TCP_SKB_CB(skb)->tcp_flags & TCPHDR_FIN)
		xtcp_fin(sk);
	if (eaten > 0)
		kfree_skb_partial(skb, fragstolen);
	if (!sock_flag(sk, SOCK_DEAD))
		xtcp_data_ready(sk);
}

/* Duplicate or unacceptable data: drop it and ACK at once. */
static void xtcp_data_out_of_window(struct sock *sk, struct sk_buff *skb)
{
	xtcp_enter_quickack_mode(sk, TCP_MAX_QUICKACKS);
	inet_csk_schedule_ack(sk);
	kfree_skb(skb);
}

/**
 * xtcp_data_queue - the segment's text (tcp_data_queue())
 * @sk:  the connection, locked
 * @skb: the segment, validated and ACK-processed; consumed
 *
 * RFC 9293 3.10.7.4 step 7: data at rcv_nxt goes to the receive queue;
 * data wholly before it is a retransmission, answered at once with a
 * D-SACK for it (RFC 2883); data that overlaps rcv_nxt is trimmed to
 * the new part; data beyond the window is dropped and answered.
 */
void xtcp_data_queue(struct sock *sk, struct sk_buff *skb)
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
			xtcp_data_out_of_window(sk, skb);
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
		xtcp_data_out_of_window(sk, skb);
		return;
	}
	/* Out of window, a zero-window probe for instance. */
	if (!before(TCP_SKB_CB(skb)->seq,
		    tp->rcv_nxt + xtcp_receive_window(tp))) {
		xtcp_data_out_of_window(sk, skb);
		return;
	}
	if (before(TCP_SKB_CB(skb)->seq, tp->rcv_nxt)) {
		/* Partly old: D-SACK the head, queue the rest. */
		xtcp_dsack_set(sk, TCP_SKB_CB(skb)->seq, tp->rcv_nxt);
		if (!xtcp_receive_window(tp)) {
			xtcp_inc_stats(net, XTCP_MIB_TCPZEROWINDOWDROP);
			xtcp_data_out_of_window(sk, skb);
			return;
		}
		xtcp_data_queue_in_order(sk, skb);
		return;
	}
	/*
	 * Beyond rcv_nxt: stock keeps it in the out-of-order queue and
	 * SACKs it.  Until xtcp has that queue, the segment is dropped and
	 * the sender hears at once where the hole is.
	 */
	xtcp_inc_stats(net, XTCP_MIB_ESTABUNHANDLED);
	xtcp_data_out_of_window(sk, skb);
}

/**
 * xtcp_ack_snd_check - ACK now, later, or not at all (tcp_ack_snd_check())
 * @sk: the connection, locked
 *
 * RFC 1122 4.2.3.2 and RFC 5681 4.2: at once when more than one full
 * segment is unacknowledged and the window would move, in quick-ACK
 * mode, or when the state asks for it; otherwise within ato.
 */
void xtcp_ack_snd_check(struct sock *sk)
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
	xtcp_send_delayed_ack(sk);
}
