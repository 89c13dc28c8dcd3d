// SPDX-License-Identifier: GPL-2.0
/*
 * xtcp: the connected socket, as far as the passive open takes it.
 *
 * The third ACK moves the child from SYN-RECEIVED to ESTABLISHED
 * (tcp_rcv_state_process(), net/ipv4/tcp_input.c): the ACK must
 * acknowledge our SYN, the peer's window is taken, the RTT the SYN-ACK
 * measured sets the RTO (RFC 6298), and congestion control starts.
 *
 * The established data path (sending, receiving, retransmission, FIN)
 * is the next step of the project; until it lands, an established xtcp
 * connection acknowledges nothing, honours an exact RST, and is closed
 * by close() with a RST.
 */
#include <net/tcp.h>

#include "xtcp.h"

/*
 * tcp_rtt_estimator() and tcp_set_rto(), for the first sample (RFC 6298
 * section 2.2): SRTT = R, RTTVAR = R/2, RTO = SRTT + max(G, 4 * RTTVAR),
 * with Linux's floor of TCP_RTO_MIN for the variance term.
 */
static void xtcp_rtt_first_sample(struct sock *sk, long mrtt_us)
{
	struct tcp_sock *tp = tcp_sk(sk);
	u32 rto_min_us = jiffies_to_usecs(TCP_RTO_MIN);
	u32 rto;

	if (mrtt_us <= 0)
		mrtt_us = 1;
	tp->srtt_us = mrtt_us << 3;
	tp->mdev_us = mrtt_us << 1;	/* so that RTO = 3 * RTT */
	tp->rttvar_us = max(tp->mdev_us, rto_min_us);
	rto = usecs_to_jiffies((tp->srtt_us >> 3) + tp->rttvar_us);
	inet_csk(sk)->icsk_rto = min_t(u32, rto, TCP_RTO_MAX);
}

/**
 * xtcp_synack_rtt_meas - the RTT from our first SYN-ACK to the third ACK
 * @sk:  the child
 * @req: its request
 *
 * Karn's rule (RFC 6298 section 3): no sample if the SYN-ACK was re-sent.
 */
void xtcp_synack_rtt_meas(struct sock *sk, struct request_sock *req)
{
	u64 snt = tcp_rsk(req)->snt_synack;
	u64 now;

	if (!snt || req->num_retrans)
		return;
	now = div_u64(ktime_get_ns(), NSEC_PER_USEC);
	xtcp_rtt_first_sample(sk, (long)(now - snt));
}

/**
 * xtcp_done - the connection is over (tcp_done())
 * @sk: the socket, locked
 *
 * It leaves the hashes and gives back its port; the socket object lives
 * on until its owner (user or listener) lets it go.
 */
void xtcp_done(struct sock *sk)
{
	if (sk->sk_state != TCP_CLOSE) {
		sk->sk_prot->unhash(sk);
		inet_sk_set_state(sk, TCP_CLOSE);
	}
	inet_csk_clear_xmit_timers(sk);
	xtcp_put_port(sk);
	xtcp_cleanup_congestion_control(sk);
	WRITE_ONCE(sk->sk_shutdown, SHUTDOWN_MASK);
	if (!sock_flag(sk, SOCK_DEAD))
		sk->sk_state_change(sk);
}

/* tcp_reset(): the peer reset the connection. */
static void xtcp_reset(struct sock *sk)
{
	WRITE_ONCE(sk->sk_err, sk->sk_state == TCP_CLOSE_WAIT ? EPIPE :
						   ECONNRESET);
	sk_error_report(sk);
	xtcp_done(sk);
}

/* The third ACK: SYN-RECEIVED to ESTABLISHED. */
static int xtcp_rcv_synrecv_ack(struct sock *sk, struct sk_buff *skb)
{
	struct tcp_sock *tp = tcp_sk(sk);
	u32 ack = TCP_SKB_CB(skb)->ack_seq;

	/* tcp_ack(): an ACK must lie in [SND.UNA, SND.NXT]. */
	if (before(ack, tp->snd_una) || after(ack, tp->snd_nxt))
		return 1;

	tp->snd_una = ack;
	tp->snd_wnd = ntohs(tcp_hdr(skb)->window) << tp->rx_opt.snd_wscale;
	tp->max_window = max(tp->max_window, tp->snd_wnd);
	tp->snd_wl1 = TCP_SKB_CB(skb)->seq;
	if (tp->rx_opt.tstamp_ok)
		tp->advmss -= TCPOLEN_TSTAMP_ALIGNED;
	xtcp_init_congestion_control(sk);
	inet_sk_set_state(sk, TCP_ESTABLISHED);
	sk->sk_state_change(sk);
	return 0;
}

/*
 * tcp_fast_parse_options(): a segment without options has no timestamp;
 * saw_tstamp must not keep the previous segment's.  TSecr is taken back
 * to our clock (tsoffset).
 */
static void xtcp_fast_parse_options(struct sock *sk, const struct sk_buff *skb)
{
	struct tcp_sock *tp = tcp_sk(sk);

	if (tcp_hdr(skb)->doff == sizeof(struct tcphdr) / 4) {
		tp->rx_opt.saw_tstamp = 0;
		return;
	}
	if (!xtcp_parse_options(sock_net(sk), skb, &tp->rx_opt, 1))
		xtcp_inc_stats(sock_net(sk), XTCP_MIB_INOPTERRORS);
	if (tp->rx_opt.saw_tstamp && tp->rx_opt.rcv_tsecr)
		tp->rx_opt.rcv_tsecr -= tp->tsoffset;
}

/* tcp_receive_window(): what is left of the window we offered. */
static u32 xtcp_receive_window(const struct tcp_sock *tp)
{
	s32 win = tp->rcv_wup + tp->rcv_wnd - tp->rcv_nxt;

	return win < 0 ? 0 : win;
}

/* tcp_sequence(): does [seq, end_seq) touch the receive window? */
static bool xtcp_sequence(const struct tcp_sock *tp, u32 seq, u32 end_seq)
{
	return !before(end_seq, tp->rcv_wup) &&
	       !after(seq, tp->rcv_nxt + xtcp_receive_window(tp));
}

/*
 * tcp_replace_ts_recent(): echo the newest TSval of a segment at or
 * before the left edge of the window, unless it is older than the one
 * we hold (tcp_paws_check()).
 */
static void xtcp_replace_ts_recent(struct tcp_sock *tp, u32 seq)
{
	if (tp->rx_opt.saw_tstamp && !after(seq, tp->rcv_wup) &&
	    tcp_paws_check(&tp->rx_opt, 0)) {
		tp->rx_opt.ts_recent = tp->rx_opt.rcv_tsval;
		tp->rx_opt.ts_recent_stamp = ktime_get_seconds();
	}
}

/**
 * xtcp_rcv_state_process - a segment for a connection
 * @sk:  the connection, locked (bh)
 * @skb: the segment, validated
 *
 * Return: nonzero if the caller must answer with a RST.
 */
int xtcp_rcv_state_process(struct sock *sk, struct sk_buff *skb)
{
	const struct tcphdr *th = tcp_hdr(skb);
	struct tcp_sock *tp = tcp_sk(sk);

	xtcp_fast_parse_options(sk, skb);
	/*
	 * RFC 7323 section 5 (tcp_paws_discard()), then RFC 9293 3.10.7.4
	 * (tcp_sequence()): a segment that fails either changes nothing.
	 * The replies stock sends to them come with the data path.
	 */
	if (tp->rx_opt.saw_tstamp && !th->rst &&
	    !tcp_paws_check(&tp->rx_opt, TCP_PAWS_WINDOW)) {
		xtcp_inc_stats(sock_net(sk), XTCP_MIB_PAWSESTABREJECTED);
		return 0;
	}
	if (!xtcp_sequence(tp, TCP_SKB_CB(skb)->seq,
			   TCP_SKB_CB(skb)->end_seq)) {
		xtcp_inc_stats(sock_net(sk), XTCP_MIB_ESTABUNHANDLED);
		return 0;
	}
	xtcp_replace_ts_recent(tp, TCP_SKB_CB(skb)->seq);

	if (th->rst) {
		/* RFC 5961 section 3.2: only an exact RST resets. */
		if (TCP_SKB_CB(skb)->seq == tp->rcv_nxt)
			xtcp_reset(sk);
		return 0;
	}
	if (!th->ack) {
		xtcp_inc_stats(sock_net(sk), XTCP_MIB_ESTABUNHANDLED);
		return 0;
	}
	if (sk->sk_state == TCP_SYN_RECV)
		return xtcp_rcv_synrecv_ack(sk, skb);
	/* Data and FIN wait for the data path: dropped, and counted. */
	if (TCP_SKB_CB(skb)->seq != TCP_SKB_CB(skb)->end_seq)
		xtcp_inc_stats(sock_net(sk), XTCP_MIB_ESTABUNHANDLED);
	return 0;
}

/* sk_backlog_rcv: segments queued while the user held the socket. */
int xtcp_backlog_rcv(struct sock *sk, struct sk_buff *skb)
{
	if (xtcp_rcv_state_process(sk, skb))
		xtcp_v4_send_reset(sk, skb);
	consume_skb(skb);
	return 0;
}
