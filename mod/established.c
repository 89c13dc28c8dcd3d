// SPDX-License-Identifier: GPL-2.0
/*
 * xtcp: a connection's segments, state by state.
 *
 * The third ACK moves the child from SYN-RECEIVED to ESTABLISHED
 * (tcp_rcv_state_process(), net/ipv4/tcp_input.c): the ACK must
 * acknowledge our SYN, the peer's window is taken, the RTT the SYN-ACK
 * measured sets the RTO (RFC 6298), and congestion control starts.
 *
 * Then, in ESTABLISHED, a segment header prediction expects takes the
 * fast path (xtcp_rcv_predicted()); every other passes the checks of
 * RFC 9293 3.10.7.4 as tcp_validate_incoming() applies them (PAWS,
 * sequence, RST, SYN, with the RFC 5961 challenge ACKs), the ACK field
 * (tcp_ack()), the URG bit and its text (data.c), in the closing states
 * too (xtcp_rcv_state_process()).
 */
#include <net/tcp.h>

#include "xtcp.h"

/**
 * xtcp_synack_rtt_meas - the RTT from our first SYN-ACK to the third ACK
 * @sk:  the child
 * @req: its request
 *
 * Karn's rule (RFC 6298 section 3): no sample if the SYN-ACK was re-sent.
 */
XTCP_SEED void xtcp_synack_rtt_meas(struct sock *sk, struct request_sock *req)
{
	u64 snt = tcp_rsk(req)->snt_synack;
	struct rate_sample rs;
	u64 now;

	if (!snt || req->num_retrans)
		return;
	now = div_u64(ktime_get_ns(), NSEC_PER_USEC);
	xtcp_ack_update_rtt(sk, XTCP_FLAG_SYN_ACKED, (long)(now - snt), -1L,
			    (long)(now - snt), &rs);
}

/*
 * tcp_synack_rtt_meas(sk, NULL), as the third ACK runs it when the child
 * has no RTT yet (its SYN-ACK was sent again, or it came from a SYN
 * cookie): the timestamp echo may give one (xtcp_ack_update_rtt()).
 */
static void xtcp_synack_rtt_ts(struct sock *sk)
{
	struct rate_sample rs;

	if (tcp_sk(sk)->srtt_us)
		return;
	xtcp_ack_update_rtt(sk, XTCP_FLAG_SYN_ACKED, -1L, -1L, -1L, &rs);
}

/**
 * xtcp_done - the connection is over (tcp_done())
 * @sk: the socket, locked
 *
 * It leaves the hashes and gives back its port; the socket object lives
 * on until its owner (user or listener) lets it go.  An orphan has no
 * owner left: it is destroyed here (xtcp_csk_destroy_sock()), and the
 * caller must hold its own reference, as every caller does (a lookup's,
 * a timer's, or close()'s).
 */
void xtcp_done(struct sock *sk)
{
	/*
	 * Not lockdep_sock_is_held(): a child that never lived comes here
	 * unlocked (xtcp_csk_prepare_forced_close()), as in stock.
	 */
	struct request_sock *req =
		rcu_dereference_protected(tcp_sk(sk)->fastopen_rsk, 1);

	if (sk->sk_state != TCP_CLOSE) {
		sk->sk_prot->unhash(sk);
		inet_sk_set_state(sk, TCP_CLOSE);
	}
	xtcp_clear_xmit_timers(sk);
	/* A Fast Open child that ends in its handshake. */
	if (req)
		xtcp_reqsk_fastopen_remove(sk, req, false);
	xtcp_put_port(sk);
	xtcp_cleanup_congestion_control(sk);
	WRITE_ONCE(sk->sk_shutdown, SHUTDOWN_MASK);
	if (!sock_flag(sk, SOCK_DEAD))
		sk->sk_state_change(sk);
	else
		xtcp_csk_destroy_sock(sk);
}

/**
 * xtcp_done_with_error - the connection ends in an error (tcp_done_with_error())
 * @sk:  the connection, locked
 * @err: the errno a reader will see
 *
 * Nothing of ours will be delivered now: the write queue goes, then the
 * connection (xtcp_done()), then the owner hears.  A Fast Open child
 * that ends in SYN-RECEIVED counts as a failed attempt (AttemptFails),
 * as stock's tcp_done() counts it; xtcp_done() does not, since its
 * other callers with a child in that state are ones stock does not
 * count.
 */
void xtcp_done_with_error(struct sock *sk, int err)
{
	if (sk->sk_state == TCP_SYN_RECV)
		xtcp_inc_stats(sock_net(sk), XTCP_MIB_ATTEMPTFAILS);
	WRITE_ONCE(sk->sk_err, err);
	/* The error before the state: pairs with xtcp_conn_poll()'s smp_rmb(). */
	smp_wmb();
	xtcp_write_queue_purge(sk);
	xtcp_done(sk);
	if (!sock_flag(sk, SOCK_DEAD))
		sk_error_report(sk);
}

/**
 * xtcp_reset - the peer reset the connection (tcp_reset())
 * @sk: the connection, locked
 *
 * The error a reader sees is BSD's: EPIPE once the peer had closed,
 * ECONNRESET otherwise.
 */
void xtcp_reset(struct sock *sk)
{
	int err;

	switch (sk->sk_state) {
	case TCP_CLOSE_WAIT:
		err = EPIPE;
		break;
	case TCP_CLOSE:
		return;
	default:
		err = ECONNRESET;
	}
	xtcp_done_with_error(sk, err);
}

/**
 * xtcp_initialize_rcv_mss - a first guess at the peer's segment size
 * @sk: a child being created, or at the third ACK; locked
 *
 * tcp_initialize_rcv_mss(): the smallest of our MSS, the peer's, half
 * the window and TCP_MSS_DEFAULT, at least TCP_MIN_MSS, in bytes.
 * Window selection and the quick-ACK count divide by it, so a child
 * has it from creation on, as stock's has (tcp_v4_syn_recv_sock()).
 */
XTCP_SEED void xtcp_initialize_rcv_mss(struct sock *sk)
{
	const struct tcp_sock *tp = tcp_sk(sk);
	unsigned int hint = min_t(unsigned int, tp->advmss, tp->mss_cache);

	hint = min(hint, tp->rcv_wnd / 2);
	hint = min(hint, TCP_MSS_DEFAULT);
	hint = max(hint, TCP_MIN_MSS);
	inet_csk(sk)->icsk_ack.rcv_mss = hint;
}

/*
 * tcp_init_buffer_space(): the send buffer takes room for twice the
 * initial window unless the user fixed it; the window may grow to what
 * the receive buffer can hold, less net.ipv4.tcp_app_win's share for the
 * application, and never less than room for one more segment.
 */
static XTCP_SEED void xtcp_init_buffer_space(struct sock *sk)
{
	int tcp_app_win = READ_ONCE(sock_net(sk)->ipv4.sysctl_tcp_app_win);
	struct tcp_sock *tp = tcp_sk(sk);
	int maxwin;

	if (!(sk->sk_userlocks & SOCK_SNDBUF_LOCK))
		xtcp_sndbuf_expand(sk);
	xtcp_mstamp_refresh(tp);
	tp->rcvq_space.time = tp->tcp_mstamp;
	tp->rcvq_space.seq = tp->copied_seq;
	maxwin = xtcp_full_space(sk);
	if (tp->window_clamp >= maxwin) {
		WRITE_ONCE(tp->window_clamp, maxwin);
		if (tcp_app_win && maxwin > 4 * tp->advmss)
			WRITE_ONCE(tp->window_clamp,
				   max(maxwin - (maxwin >> tcp_app_win),
				       4 * tp->advmss));
	}
	/* Force reservation of one segment. */
	if (tcp_app_win && tp->window_clamp > 2 * tp->advmss &&
	    tp->window_clamp + tp->advmss > maxwin)
		WRITE_ONCE(tp->window_clamp,
			   max(2 * tp->advmss, maxwin - tp->advmss));
	tp->rcv_ssthresh = min(tp->rcv_ssthresh, tp->window_clamp);
	tp->snd_cwnd_stamp = tcp_jiffies32;
	tp->rcvq_space.space = min3(tp->rcv_ssthresh, tp->rcv_wnd,
				    (u32)TCP_INIT_CWND * tp->advmss);
}

/**
 * xtcp_init_transfer - the connection starts to transfer (tcp_init_transfer())
 * @sk: the child, locked: at the third ACK, or a Fast Open child at
 *      its SYN (xtcp_fastopen_create_child())
 *
 * With tcp_init_metrics() minus its cache (stock's takes a tcp_sock):
 * ssthresh back to infinite, a 3 s RTO if the handshake gave no RTT
 * (RFC 6298 5.7), the initial window (one segment if the SYN-ACK had to
 * be sent more than twice, RFC 5681 3.1), then the algorithm and the
 * buffers.
 */
XTCP_SEED void xtcp_init_transfer(struct sock *sk)
{
	struct tcp_sock *tp = tcp_sk(sk);

	sk_dst_confirm(sk);
	tp->snd_ssthresh = TCP_INFINITE_SSTHRESH;
	if (!tp->srtt_us) {
		tp->rttvar_us = jiffies_to_usecs(TCP_TIMEOUT_FALLBACK);
		tp->mdev_us = tp->rttvar_us;
		tp->mdev_max_us = tp->rttvar_us;
		inet_csk(sk)->icsk_rto = TCP_TIMEOUT_FALLBACK;
	}
	if (tp->total_retrans > 1 && tp->undo_marker)
		tp->snd_cwnd = 1;
	else
		tp->snd_cwnd = xtcp_init_cwnd(sk);
	tp->snd_cwnd_stamp = tcp_jiffies32;
	xtcp_init_congestion_control(sk);
	xtcp_init_buffer_space(sk);
}

/* tcp_fast_path_on(): header prediction expects the peer's next segment. */
XTCP_SEED void xtcp_fast_path_on(struct tcp_sock *tp)
{
	__xtcp_fast_path_on(tp, tp->snd_wnd >> tp->rx_opt.snd_wscale);
}

/*
 * tcp_rcv_synrecv_state_fastopen(): the ACK of a Fast Open child's
 * SYN-ACK.  An RTO of the SYN-ACK the timestamps show spurious is
 * undone; the SYN-ACK's retransmission state ends; the request goes
 * (xtcp_reqsk_fastopen_remove()); the retransmit timer, the SYN-ACK's
 * until now, is armed for the data sent meanwhile.
 */
static void xtcp_rcv_synrecv_state_fastopen(struct sock *sk)
{
	struct tcp_sock *tp = tcp_sk(sk);
	struct request_sock *req;

	if (inet_csk(sk)->icsk_ca_state == TCP_CA_Loss && !tp->packets_out)
		xtcp_try_undo_recovery(sk);
	inet_csk(sk)->icsk_retransmits = 0;
	/*
	 * The first SYN-ACK timeout set retrans_stamp without entering
	 * Loss (xtcp_fastopen_synack_timer()); compat.h.
	 */
	if (XTCP_TFO_SYNRECV_STAMP_CLEANUP)
		xtcp_retrans_stamp_cleanup(sk);
	else
		tp->retrans_stamp = 0;
	req = rcu_dereference_protected(tp->fastopen_rsk,
					lockdep_sock_is_held(sk));
	xtcp_reqsk_fastopen_remove(sk, req, false);
	xtcp_rearm_rto(sk);
}

/*
 * The third ACK, accepted by xtcp_ack(): SYN-RECEIVED to ESTABLISHED
 * (the TCP_SYN_RECV case of tcp_rcv_state_process() and
 * tcp_init_transfer()).  @req is a Fast Open child's request, whose
 * transfer started at the SYN: its data may be unread, and the RTT is
 * measured from its first SYN-ACK.
 */
static XTCP_SEED void xtcp_rcv_synrecv_ack(struct sock *sk, struct sk_buff *skb,
					   struct request_sock *req)
{
	struct tcp_sock *tp = tcp_sk(sk);

	tp->delivered++;	/* the SYN-ACK, which xtcp_ack() does not see */
	if (req && !tp->srtt_us)
		xtcp_synack_rtt_meas(sk, req);
	xtcp_synack_rtt_ts(sk);
	if (tp->rx_opt.tstamp_ok)
		tp->advmss -= TCPOLEN_TSTAMP_ALIGNED;
	if (req) {
		xtcp_rcv_synrecv_state_fastopen(sk);
	} else {
		tp->retrans_stamp = 0;
		xtcp_init_transfer(sk);
		WRITE_ONCE(tp->copied_seq, tp->rcv_nxt);
	}
	/* The connection's fields before its state, which poll() reads. */
	smp_mb();
	inet_sk_set_state(sk, TCP_ESTABLISHED);
	sk->sk_state_change(sk);
	/* A Fast Open child may have a process waiting to write. */
	if (sk->sk_socket)
		sk_wake_async(sk, SOCK_WAKE_IO, POLL_OUT);
	WRITE_ONCE(tp->snd_una, TCP_SKB_CB(skb)->ack_seq);
	tp->snd_wnd = ntohs(tcp_hdr(skb)->window) << tp->rx_opt.snd_wscale;
	tp->max_window = max(tp->max_window, tp->snd_wnd);
	tp->snd_wl1 = TCP_SKB_CB(skb)->seq;
	xtcp_update_pacing_rate(sk);
	/* No spurious cwnd restart on the first data. */
	tp->lsndtime = tcp_jiffies32;
	xtcp_initialize_rcv_mss(sk);
	xtcp_fast_path_on(tp);
	/* shutdown(SHUT_WR) of an accepted Fast Open child, before now. */
	if (sk->sk_shutdown & SEND_SHUTDOWN)
		xtcp_shutdown_send(sk, SEND_SHUTDOWN);
}

/*
 * tcp_fast_parse_options(): a segment without options has no timestamp;
 * saw_tstamp must not keep the previous segment's.  TSecr is taken back
 * to our clock (tsoffset).  Returns false for a segment without options.
 */
static bool xtcp_fast_parse_options(struct sock *sk, const struct sk_buff *skb)
{
	struct tcp_sock *tp = tcp_sk(sk);

	if (tcp_hdr(skb)->doff == sizeof(struct tcphdr) / 4) {
		tp->rx_opt.saw_tstamp = 0;
		return false;
	}
	if (!xtcp_parse_options(sock_net(sk), skb, &tp->rx_opt, 1, NULL))
		xtcp_inc_stats(sock_net(sk), XTCP_MIB_INOPTERRORS);
	if (tp->rx_opt.saw_tstamp && tp->rx_opt.rcv_tsecr)
		tp->rx_opt.rcv_tsecr -= tp->tsoffset;
	return true;
}

/* tcp_sequence(): does [seq, end_seq) touch the receive window? */
static bool xtcp_sequence(const struct tcp_sock *tp, u32 seq, u32 end_seq)
{
	return !before(end_seq, tp->rcv_wup) &&
	       !after(seq, tp->rcv_nxt + xtcp_receive_window(tp));
}

/*
 * tcp_disordered_ack(): a pure duplicate ACK that fails PAWS only because
 * it overtook a newer segment (RFC 7323 5.5) is let through.
 */
static bool xtcp_disordered_ack(const struct sock *sk,
				const struct sk_buff *skb)
{
	const struct tcp_sock *tp = tcp_sk(sk);
	const struct tcphdr *th = tcp_hdr(skb);
	u32 seq = TCP_SKB_CB(skb)->seq;
	u32 ack = TCP_SKB_CB(skb)->ack_seq;

	return th->ack && seq == TCP_SKB_CB(skb)->end_seq &&
	       seq == tp->rcv_nxt && ack == tp->snd_una &&
	       !xtcp_may_update_window(tp, ack, seq, ntohs(th->window) <<
				       tp->rx_opt.snd_wscale) &&
	       (s32)(tp->rx_opt.ts_recent - tp->rx_opt.rcv_tsval) <=
	       (s32)xtcp_tsval_replay(sk);
}

/* tcp_paws_discard(): RFC 7323 section 5. */
static bool xtcp_paws_discard(const struct sock *sk, const struct sk_buff *skb)
{
	return !tcp_paws_check(&tcp_sk(sk)->rx_opt, TCP_PAWS_WINDOW) &&
	       !xtcp_disordered_ack(sk, skb);
}

/* tcp_store_ts_recent(): the TSval we echo from now on, and when. */
static void xtcp_store_ts_recent(struct tcp_sock *tp)
{
	tp->rx_opt.ts_recent = tp->rx_opt.rcv_tsval;
	tp->rx_opt.ts_recent_stamp = ktime_get_seconds();
}

/*
 * tcp_replace_ts_recent(): echo the newest TSval of a segment at or
 * before the left edge of the window, unless it is older than the one
 * we hold (tcp_paws_check()).
 */
void xtcp_replace_ts_recent(struct tcp_sock *tp, u32 seq)
{
	if (tp->rx_opt.saw_tstamp && !after(seq, tp->rcv_wup) &&
	    tcp_paws_check(&tp->rx_opt, 0))
		xtcp_store_ts_recent(tp);
}

/*
 * tcp_reset_check(): after the peer's FIN, a RST may carry the FIN's
 * sequence number (RFC 5961 3.2, extended).
 */
static bool xtcp_reset_check(const struct sock *sk, const struct sk_buff *skb)
{
	return unlikely(TCP_SKB_CB(skb)->seq == tcp_sk(sk)->rcv_nxt - 1 &&
			(1 << sk->sk_state) & (TCPF_CLOSE_WAIT | TCPF_LAST_ACK |
					       TCPF_CLOSING));
}

/*
 * tcp_send_dupack(): answer an unacceptable segment with our state.  A
 * duplicate of data we have is reported as D-SACK (RFC 2883), and the
 * sender, which evidently missed our ACK, gets quick ACKs for a while.
 */
static void xtcp_send_dupack(struct sock *sk, const struct sk_buff *skb)
{
	struct tcp_sock *tp = tcp_sk(sk);
	u32 end_seq = TCP_SKB_CB(skb)->end_seq;

	if (end_seq != TCP_SKB_CB(skb)->seq &&
	    before(TCP_SKB_CB(skb)->seq, tp->rcv_nxt)) {
		xtcp_inc_stats(sock_net(sk), XTCP_MIB_DELAYEDACKLOST);
		xtcp_enter_quickack_mode(sk, TCP_MAX_QUICKACKS);
		if (after(end_seq, tp->rcv_nxt))
			end_seq = tp->rcv_nxt;
		xtcp_dsack_set(sk, TCP_SKB_CB(skb)->seq, end_seq);
	}
	xtcp_send_ack(sk);
}

/*
 * tcp_send_challenge_ack(): RFC 5961 sections 3-5, limited per socket
 * (net.ipv4.tcp_invalid_ratelimit) and then per namespace
 * (net.ipv4.tcp_challenge_ack_limit).
 */
void xtcp_send_challenge_ack(struct sock *sk)
{
	if (xtcp_challenge_ack_due(sock_net(sk),
				   &tcp_sk(sk)->last_oow_ack_time))
		xtcp_send_ack(sk);
}

/**
 * xtcp_validate_incoming - RFC 9293 3.10.7.4 steps 1 to 4
 * @sk:        the connection, locked
 * @skb:       the segment
 * @syn_inerr: count a SYN here in InErrs (tcp_rcv_established() does)
 *
 * Mirrors tcp_validate_incoming(): PAWS, then the sequence number (an
 * unacceptable segment is answered with a duplicate ACK, rate-limited),
 * then RST (exact: reset; in window: challenge ACK), then SYN (challenge
 * ACK).  Consumes @skb when it returns false.
 *
 * Return: true if the segment goes on to the ACK and text steps.
 */
static XTCP_SEED bool xtcp_validate_incoming(struct sock *sk, struct sk_buff *skb,
					     int syn_inerr)
{
	const struct tcphdr *th = tcp_hdr(skb);
	struct tcp_sock *tp = tcp_sk(sk);
	struct net *net = sock_net(sk);
	enum skb_drop_reason reason;

	if (xtcp_fast_parse_options(sk, skb) && tp->rx_opt.saw_tstamp &&
	    xtcp_paws_discard(sk, skb)) {
		if (!th->rst) {
			if (XTCP_PAWS_SYN_CHALLENGE && unlikely(th->syn))
				goto syn_challenge;
			xtcp_inc_stats(net, XTCP_MIB_PAWSESTABREJECTED);
			if (!xtcp_oow_rate_limited(net, skb,
						   XTCP_MIB_TCPACKSKIPPEDPAWS,
						   &tp->last_oow_ack_time))
				xtcp_send_dupack(sk, skb);
			reason = SKB_DROP_REASON_TCP_RFC7323_PAWS;
			goto discard;
		}
		/* A RST is taken even if it fails PAWS. */
	}
	if (!xtcp_sequence(tp, TCP_SKB_CB(skb)->seq,
			   TCP_SKB_CB(skb)->end_seq)) {
		/* RFC 9293 3.10.7.4: ACK it, unless it is a RST. */
		if (!th->rst) {
			if (th->syn)
				goto syn_challenge;
			if (!xtcp_oow_rate_limited(net, skb,
						   XTCP_MIB_TCPACKSKIPPEDSEQ,
						   &tp->last_oow_ack_time))
				xtcp_send_dupack(sk, skb);
		} else if (xtcp_reset_check(sk, skb)) {
			goto reset;
		}
		reason = SKB_DROP_REASON_TCP_INVALID_SEQUENCE;
		goto discard;
	}
	if (th->rst) {
		/* RFC 5961 3.2: only the exact sequence number resets. */
		if (TCP_SKB_CB(skb)->seq == tp->rcv_nxt ||
		    xtcp_reset_check(sk, skb))
			goto reset;
		xtcp_send_challenge_ack(sk);
		reason = SKB_DROP_REASON_TCP_RESET;
		goto discard;
	}
	/* RFC 5961 4.2: a SYN in the window gets a challenge ACK. */
	if (th->syn) {
syn_challenge:
		if (syn_inerr)
			xtcp_inc_stats(net, XTCP_MIB_INERRS);
		xtcp_inc_stats(net, XTCP_MIB_TCPSYNCHALLENGE);
		xtcp_send_challenge_ack(sk);
		reason = SKB_DROP_REASON_TCP_INVALID_SYN;
		goto discard;
	}
	return true;

discard:
	xtcp_drop_reason(sk, skb, reason);
	return false;
reset:
	xtcp_reset(sk);
	__kfree_skb(skb);
	return false;
}

/*
 * tcp_data_snd_check(): the ACK may have opened cwnd or the window, and
 * freed send-buffer space a writer waits for.
 */
static XTCP_SEED void xtcp_data_snd_check(struct sock *sk)
{
	xtcp_push_pending_frames(sk);
	xtcp_check_space(sk);
}

/* tcp_input.c's TCP_HP_BITS: the header bits prediction compares. */
#define XTCP_HP_BITS	(~(TCP_RESERVED_BITS | TCP_FLAG_PSH))

/* What header prediction leaves to the slow path. */
enum xtcp_hp {
	XTCP_HP_DONE,		/* the segment is consumed */
	XTCP_HP_SLOW,		/* validate it as any other */
	XTCP_HP_STEP5,		/* valid, but no room: take the ACK, then queue */
};

/*
 * tcp_parse_aligned_timestamp(): NOP, NOP, TS, the one option layout the
 * fast path reads; TSecr back on our clock.
 */
static bool xtcp_parse_aligned_timestamp(struct tcp_sock *tp,
					 const struct tcphdr *th)
{
	const __be32 *ptr = (const __be32 *)(th + 1);

	if (*ptr != htonl((TCPOPT_NOP << 24) | (TCPOPT_NOP << 16) |
			  (TCPOPT_TIMESTAMP << 8) | TCPOLEN_TIMESTAMP))
		return false;
	tp->rx_opt.saw_tstamp = 1;
	tp->rx_opt.rcv_tsval = ntohl(ptr[1]);
	tp->rx_opt.rcv_tsecr = ptr[2] ? ntohl(ptr[2]) - tp->tsoffset : 0;
	return true;
}

/*
 * The predicted segment starts at rcv_nxt, so it is the one whose TSval
 * RFC 7323 4.3 keeps when rcv_nxt == rcv_wup (tcp_rcv_established()).
 */
static void xtcp_hp_store_ts_recent(struct tcp_sock *tp)
{
	if (tp->tcp_header_len == sizeof(struct tcphdr) + TCPOLEN_TSTAMP_ALIGNED &&
	    tp->rcv_nxt == tp->rcv_wup)
		xtcp_store_ts_recent(tp);
}

/*
 * The predicted segment with data: queued at once, ACKed as the slow
 * path would (tcp_rcv_established()'s "bulk data transfer: receiver").
 */
static enum xtcp_hp xtcp_rcv_predicted_data(struct sock *sk,
					    struct sk_buff *skb)
{
	struct tcp_sock *tp = tcp_sk(sk);
	bool fragstolen = false;
	int eaten;

	if ((int)skb->truesize > sk->sk_forward_alloc)
		return XTCP_HP_STEP5;
	xtcp_hp_store_ts_recent(tp);
	xtcp_rcv_rtt_measure_ts(sk, skb);
	xtcp_inc_stats(sock_net(sk), XTCP_MIB_TCPHPHITS);
	/* tcp_cleanup_skb(): nothing of the route or IPsec stays queued. */
	skb_dst_drop(skb);
	secpath_reset(skb);
	__skb_pull(skb, tp->tcp_header_len);
	eaten = xtcp_queue_rcv(sk, skb, &fragstolen);
	xtcp_event_data_recv(sk, skb);
	if (TCP_SKB_CB(skb)->ack_seq != tp->snd_una) {
		xtcp_ack(sk, skb, 0);
		xtcp_data_snd_check(sk);
	} else {
		tp->snd_wl1 = TCP_SKB_CB(skb)->seq;
	}
	/* Out-of-order data would have turned prediction off. */
	xtcp_ack_snd_check(sk);
	if (eaten)
		kfree_skb_partial(skb, fragstolen);
	xtcp_data_ready(sk);
	return XTCP_HP_DONE;
}

/*
 * Header prediction (tcp_rcv_established(), after Van Jacobson's "30
 * instruction TCP receive"): a segment whose header word is pred_flags
 * (the expected data offset, ACK alone but for PSH, the window
 * unchanged), starting at rcv_nxt and acknowledging nothing unsent,
 * with a newer timestamp if any, is in the window by construction.  A
 * pure ACK only moves SND.UNA; data goes straight to the receive queue.
 * The wire sees what the slow path would send.
 */
static enum xtcp_hp xtcp_rcv_predicted(struct sock *sk, struct sk_buff *skb)
{
	const struct tcphdr *th = tcp_hdr(skb);
	struct tcp_sock *tp = tcp_sk(sk);
	unsigned int len = skb->len;

	if ((tcp_flag_word(th) & XTCP_HP_BITS) != tp->pred_flags ||
	    TCP_SKB_CB(skb)->seq != tp->rcv_nxt ||
	    !between(TCP_SKB_CB(skb)->ack_seq, tp->snd_una, tp->snd_nxt))
		return XTCP_HP_SLOW;
	if (tp->tcp_header_len == sizeof(struct tcphdr) + TCPOLEN_TSTAMP_ALIGNED) {
		if (!xtcp_parse_aligned_timestamp(tp, th))
			return XTCP_HP_SLOW;
		/* PAWS would fail: the slow path looks closer. */
		if ((s32)(tp->rx_opt.rcv_tsval - tp->rx_opt.ts_recent) < 0)
			return XTCP_HP_SLOW;
	}
	if (len > tp->tcp_header_len)
		return xtcp_rcv_predicted_data(sk, skb);
	if (len < tp->tcp_header_len) {
		xtcp_inc_stats(sock_net(sk), XTCP_MIB_INERRS);
		xtcp_drop_reason(sk, skb, SKB_DROP_REASON_PKT_TOO_SMALL);
		return XTCP_HP_DONE;
	}
	/* A pure ACK: the sender's fast path. */
	xtcp_hp_store_ts_recent(tp);
	xtcp_ack(sk, skb, 0);
	__kfree_skb(skb);
	xtcp_data_snd_check(sk);
	/* In place of xtcp_rcv_rtt_measure_ts(): no data to measure. */
	tp->rcv_rtt_last_tsecr = tp->rx_opt.rcv_tsecr;
	return XTCP_HP_DONE;
}

/**
 * xtcp_rcv_established - a segment for an ESTABLISHED connection
 * @sk:  the connection, locked (bh, or by its owner from the backlog)
 * @skb: the segment, checksummed; consumed
 *
 * tcp_rcv_established(): header prediction first (xtcp_rcv_predicted()),
 * then the slow path, RFC 9293 3.10.7.4's steps: the segment's
 * acceptability, RST and SYN (xtcp_validate_incoming()), the ACK
 * (xtcp_ack()), the URG bit (xtcp_urg()), the text (xtcp_data_queue()),
 * then what may be sent and whether to ACK.
 */
void xtcp_rcv_established(struct sock *sk, struct sk_buff *skb)
{
	const struct tcphdr *th = tcp_hdr(skb);
	struct tcp_sock *tp = tcp_sk(sk);
	enum xtcp_hp hp;
	int ret;

	xtcp_mstamp_refresh(tp);
	tp->rx_opt.saw_tstamp = 0;
	hp = xtcp_rcv_predicted(sk, skb);
	if (hp == XTCP_HP_DONE)
		return;
	if (hp == XTCP_HP_SLOW) {
		if (!th->ack && !th->rst && !th->syn) {
			xtcp_drop_reason(sk, skb, SKB_DROP_REASON_TCP_FLAGS);
			return;
		}
		if (!xtcp_validate_incoming(sk, skb, 1))
			return;
	}
	ret = xtcp_ack(sk, skb, XTCP_FLAG_SLOWPATH | XTCP_FLAG_UPDATE_TS_RECENT);
	if (ret < 0) {
		xtcp_drop_reason(sk, skb, -ret);
		return;
	}
	xtcp_rcv_rtt_measure_ts(sk, skb);
	xtcp_urg(sk, skb, th);
	xtcp_data_queue(sk, skb);
	xtcp_data_snd_check(sk);
	xtcp_ack_snd_check(sk);
}

/*
 * FIN-WAIT-1 and the ACK of our FIN (tcp_rcv_state_process()): on to
 * FIN-WAIT-2.  A lingering close() is woken; an orphan gets
 * tcp_fin_timeout to hear the peer's FIN, or is reset at once if
 * TCP_LINGER2 is negative or the segment carries data it can never
 * deliver.  Returns > 0 if the caller must answer with a RST, < 0 if
 * the orphan became a timewait sock (the segment is consumed).
 */
static int xtcp_rcv_fin_wait1_ack(struct sock *sk, struct sk_buff *skb)
{
	struct tcp_sock *tp = tcp_sk(sk);
	int tmo;

	if (tp->snd_una != tp->write_seq)
		return 0;
	inet_sk_set_state(sk, TCP_FIN_WAIT2);
	WRITE_ONCE(sk->sk_shutdown, sk->sk_shutdown | SEND_SHUTDOWN);
	sk_dst_confirm(sk);
	if (!sock_flag(sk, SOCK_DEAD)) {
		sk->sk_state_change(sk);
		return 0;
	}
	if (READ_ONCE(tp->linger2) < 0 ||
	    (TCP_SKB_CB(skb)->end_seq != TCP_SKB_CB(skb)->seq &&
	     after(TCP_SKB_CB(skb)->end_seq - tcp_hdr(skb)->fin,
		   tp->rcv_nxt))) {
		xtcp_inc_stats(sock_net(sk), XTCP_MIB_TCPABORTONDATA);
		xtcp_done(sk);
		return 1;
	}
	/*
	 * What exceeds TIME-WAIT's 60 s the full socket waits (then the
	 * keepalive timer hands it to a timewait sock), the rest a
	 * timewait sock in FIN-WAIT-2.  Not if this segment carries the
	 * FIN, or a user holds the socket: the FIN could be lost.
	 */
	tmo = xtcp_fin_time(sk);
	if (tmo > TCP_TIMEWAIT_LEN) {
		inet_csk_reset_keepalive_timer(sk, tmo - TCP_TIMEWAIT_LEN);
	} else if (tcp_hdr(skb)->fin || sock_owned_by_user(sk)) {
		inet_csk_reset_keepalive_timer(sk, tmo);
	} else {
		xtcp_time_wait(sk, TCP_FIN_WAIT2, tmo);
		return -1;
	}
	return 0;
}

/**
 * xtcp_rcv_state_process - a segment for a connection in any other state
 * @sk:  the connection, locked (bh, or by its owner from the backlog)
 * @skb: the segment, checksummed
 *
 * Mirrors tcp_rcv_state_process() for the states of a passive
 * connection other than ESTABLISHED: SYN-RECEIVED (the third ACK), the
 * closing states (RFC 9293 3.10.7.4: FIN-WAIT-1, FIN-WAIT-2, CLOSING,
 * LAST-ACK, CLOSE-WAIT) and CLOSED.  A Fast Open child still holding
 * its request (fastopen_rsk, in SYN-RECEIVED or, closed before the
 * third ACK, FIN-WAIT-1) first passes the request's checks
 * (xtcp_check_req()).  Consumes @skb unless it returns nonzero.
 *
 * Return: nonzero if the caller must answer @skb with a RST and free it.
 */
XTCP_SEED int xtcp_rcv_state_process(struct sock *sk, struct sk_buff *skb)
{
	const struct tcphdr *th = tcp_hdr(skb);
	struct tcp_sock *tp = tcp_sk(sk);
	enum skb_drop_reason reason;
	struct request_sock *req;
	bool queued = false;
	int ret;

	if (sk->sk_state == TCP_CLOSE) {
		reason = SKB_DROP_REASON_TCP_CLOSE;
		goto discard;
	}
	xtcp_mstamp_refresh(tp);
	req = rcu_dereference_protected(tp->fastopen_rsk,
					lockdep_sock_is_held(sk));
	if (req) {
		bool req_stolen;

		WARN_ON_ONCE(sk->sk_state != TCP_SYN_RECV &&
			     sk->sk_state != TCP_FIN_WAIT1);
		if (!xtcp_check_req(sk, skb, req, true, &req_stolen)) {
			reason = SKB_DROP_REASON_TCP_FASTOPEN;
			goto discard;
		}
	}
	if (!th->ack && !th->rst && !th->syn) {
		reason = SKB_DROP_REASON_TCP_FLAGS;
		goto discard;
	}
	if (!xtcp_validate_incoming(sk, skb, 0))
		return 0;
	ret = xtcp_ack(sk, skb, XTCP_FLAG_SLOWPATH | XTCP_FLAG_UPDATE_TS_RECENT |
				XTCP_FLAG_NO_CHALLENGE_ACK);
	if (ret <= 0) {
		/* An unacceptable third ACK gets one RST. */
		if (sk->sk_state == TCP_SYN_RECV)
			return 1;
		/* Accept an old ACK while closing. */
		if (ret < 0) {
			xtcp_send_challenge_ack(sk);
			reason = -ret;
			goto discard;
		}
	}
	/* Step 5 continued: what the ACK means in this state. */
	switch (sk->sk_state) {
	case TCP_SYN_RECV:
		xtcp_rcv_synrecv_ack(sk, skb, req);
		break;
	case TCP_FIN_WAIT1:
		/* A Fast Open child closed before the third ACK. */
		if (req)
			xtcp_rcv_synrecv_state_fastopen(sk);
		ret = xtcp_rcv_fin_wait1_ack(sk, skb);
		if (ret > 0)
			return 1;
		if (ret < 0)
			goto consume;
		break;
	case TCP_CLOSING:
		/* Our FIN is acknowledged: TIME-WAIT (RFC 9293 3.10.7.4). */
		if (tp->snd_una == tp->write_seq) {
			xtcp_time_wait(sk, TCP_TIME_WAIT, 0);
			goto consume;
		}
		break;
	case TCP_LAST_ACK:
		/* Our FIN is acknowledged: the connection is over. */
		if (tp->snd_una == tp->write_seq) {
			xtcp_done(sk);
			goto consume;
		}
		break;
	}

	/* Step 6: the URG bit. */
	xtcp_urg(sk, skb, th);

	/* Step 7: the text, if the peer has not closed before it. */
	switch (sk->sk_state) {
	case TCP_CLOSE_WAIT:
	case TCP_CLOSING:
	case TCP_LAST_ACK:
		if (!before(TCP_SKB_CB(skb)->seq, tp->rcv_nxt))
			break;
		fallthrough;
	case TCP_FIN_WAIT1:
	case TCP_FIN_WAIT2:
		/*
		 * RFC 1122 4.2.2.13: data the user can no longer read (after
		 * the peer's FIN, or after close()) is an error; reset, as
		 * BSD does.
		 */
		if ((sk->sk_shutdown & RCV_SHUTDOWN) &&
		    TCP_SKB_CB(skb)->end_seq != TCP_SKB_CB(skb)->seq &&
		    after(TCP_SKB_CB(skb)->end_seq - th->fin, tp->rcv_nxt)) {
			xtcp_inc_stats(sock_net(sk), XTCP_MIB_TCPABORTONDATA);
			xtcp_reset(sk);
			return 1;
		}
		fallthrough;
	case TCP_ESTABLISHED:
		xtcp_data_queue(sk, skb);
		queued = true;
		break;
	}
	if (sk->sk_state != TCP_CLOSE) {
		xtcp_data_snd_check(sk);
		xtcp_ack_snd_check(sk);
	}
	if (queued)
		return 0;
	/* As stock, a segment that brought nothing counts as dropped. */
	reason = SKB_DROP_REASON_NOT_SPECIFIED;
discard:
	xtcp_drop_reason(sk, skb, reason);
	return 0;
consume:
	__kfree_skb(skb);
	return 0;
}
