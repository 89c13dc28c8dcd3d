// SPDX-License-Identifier: GPL-2.0
/*
 * xtcp: from SYN-RECEIVED to a connected child socket.
 *
 * Mirrors tcp_check_req(), tcp_create_openreq_child() and
 * tcp_child_process() (net/ipv4/tcp_minisocks.c), tcp_v4_syn_recv_sock()
 * (net/ipv4/tcp_ipv4.c), inet_csk_clone_lock() and
 * inet_csk_route_child_sock() (net/ipv4/inet_connection_sock.c),
 * __inet_inherit_port() (net/ipv4/inet_hashtables.c), and the RTT sample
 * a SYN-ACK gives (tcp_synack_rtt_meas(), tcp_rtt_estimator()).
 */
#include <linux/security.h>
#include <net/inet_hashtables.h>
#include <net/tcp.h>

#include "xtcp.h"

/* tcp_in_window(): does [seq, end_seq) touch the window [s_win, e_win]? */
static XTCP_SEED bool xtcp_in_window(u32 seq, u32 end_seq, u32 s_win, u32 e_win)
{
	if (seq == s_win)
		return true;
	if (after(end_seq, s_win) && before(seq, e_win))
		return true;
	return seq == e_win && seq == end_seq;
}

/*
 * __tcp_oow_rate_limited(): at most one reply to invalid segments per
 * net.ipv4.tcp_invalid_ratelimit for this request, so that we cannot be
 * made to ACK in a loop.  The stamp is read and written locklessly: two
 * CPUs may both answer once, never more.
 */
bool __xtcp_oow_rate_limited(struct net *net, enum xtcp_mib mib,
			     u32 *last_oow_ack_time)
{
	u32 val = READ_ONCE(*last_oow_ack_time);
	u32 now = (u32)jiffies;

	if (val) {
		s32 elapsed = (s32)(now - val);

		if (elapsed >= 0 &&
		    elapsed < READ_ONCE(net->ipv4.sysctl_tcp_invalid_ratelimit)) {
			xtcp_inc_stats(net, mib);
			return true;
		}
	}
	WRITE_ONCE(*last_oow_ack_time, now);
	return false;
}

/*
 * tcp_oow_rate_limited(): segments that carry data (and no SYN) are not
 * likely part of an ACK loop and are never limited.
 */
bool xtcp_oow_rate_limited(struct net *net, const struct sk_buff *skb,
			   enum xtcp_mib mib, u32 *last_oow_ack_time)
{
	if (TCP_SKB_CB(skb)->seq != TCP_SKB_CB(skb)->end_seq &&
	    !tcp_hdr(skb)->syn)
		return false;
	return __xtcp_oow_rate_limited(net, mib, last_oow_ack_time);
}

/*
 * RFC 5961 section 7: at most net.ipv4.tcp_challenge_ack_limit challenge
 * ACKs a second per namespace, the budget randomised so that the count
 * leaks nothing to an off-path attacker.
 */
static bool xtcp_challenge_ack_allowed(struct net *net)
{
	struct xtcp_net *xn = xtcp_pernet(net);
	u32 limit = READ_ONCE(net->ipv4.sysctl_tcp_challenge_ack_limit);
	u32 now = jiffies / HZ;
	u32 count;

	if (limit == INT_MAX)	/* the admin turned the limit off */
		return true;
	if (now != READ_ONCE(xn->challenge_stamp)) {
		u32 half = (limit + 1) >> 1;

		WRITE_ONCE(xn->challenge_stamp, now);
		WRITE_ONCE(xn->challenge_count,
			   half + get_random_u32_below(limit ? : 1));
	}
	count = READ_ONCE(xn->challenge_count);
	if (!count)
		return false;
	WRITE_ONCE(xn->challenge_count, count - 1);
	return true;
}

/**
 * xtcp_challenge_ack_due - may a challenge ACK go out now?
 * @net:               the namespace
 * @last_oow_ack_time: the request's or connection's rate-limit stamp
 *
 * The two limits of tcp_send_challenge_ack() and
 * tcp_reqsk_send_challenge_ack(): first the sender's own
 * (net.ipv4.tcp_invalid_ratelimit, __xtcp_oow_rate_limited() directly,
 * so that a RST carrying payload cannot bypass it), then the
 * namespace's (RFC 5961 section 7).  A challenge ACK that may go out is
 * counted in TCPChallengeACK.
 *
 * Context: softirq or the socket's owner; the stamp and the budget are
 * read and written locklessly, so two CPUs may each send one.
 * Return: true if the caller sends the ACK.
 */
bool xtcp_challenge_ack_due(struct net *net, u32 *last_oow_ack_time)
{
	if (__xtcp_oow_rate_limited(net, XTCP_MIB_ACKSKIPPEDCHALLENGE,
				    last_oow_ack_time))
		return false;
	if (!xtcp_challenge_ack_allowed(net))
		return false;
	xtcp_inc_stats(net, XTCP_MIB_CHALLENGEACK);
	return true;
}

/* tcp_reqsk_send_challenge_ack(): a challenge ACK in SYN-RECEIVED. */
static void xtcp_reqsk_send_challenge_ack(struct sock *sk, struct sk_buff *skb,
					  struct request_sock *req)
{
	if (xtcp_challenge_ack_due(sock_net(sk),
				   &tcp_rsk(req)->last_oow_ack_time))
		req->rsk_ops->send_ack(sk, skb, req);
}

/*
 * The timestamp checks of tcp_check_req(): parse the ACK's options and
 * apply PAWS (RFC 7323 section 5) against the SYN's TSval.
 */
static XTCP_SEED bool xtcp_check_req_paws(struct sock *sk, struct sk_buff *skb,
					  struct request_sock *req,
					  struct tcp_options_received *tmp_opt)
{
	const struct tcphdr *th = tcp_hdr(skb);

	tmp_opt->saw_tstamp = 0;
	if (th->doff <= sizeof(struct tcphdr) >> 2)
		return false;
	if (!xtcp_parse_options(sock_net(sk), skb, tmp_opt, 0, NULL))
		xtcp_inc_stats(sock_net(sk), XTCP_MIB_INOPTERRORS);
	if (!tmp_opt->saw_tstamp)
		return false;
	tmp_opt->ts_recent = req->ts_recent;
	if (tmp_opt->rcv_tsecr)
		tmp_opt->rcv_tsecr -= tcp_rsk(req)->ts_off;
	/*
	 * We do not store when ts_recent was seen; it was no earlier than
	 * the longest the request could have lived.
	 */
	tmp_opt->ts_recent_stamp = ktime_get_seconds() -
				   xtcp_reqsk_timeout(req) / HZ;
	return tcp_paws_reject(tmp_opt, th->rst);
}

/**
 * xtcp_check_req - a segment for a request sock (tcp_check_req())
 * @sk:         the listener, referenced by the caller; with @fastopen,
 *              the Fast Open child, locked
 * @skb:        the segment
 * @req:        the request, referenced by the caller (or the child's
 *              fastopen_rsk)
 * @fastopen:   @sk is a Fast Open child in its handshake
 * @req_stolen: set when another CPU completed the request first
 *
 * RFC 9293 section 3.10.7.4, SYN-RECEIVED: a retransmitted SYN is
 * answered with the SYN-ACK again; an ACK must acknowledge our SYN
 * exactly, else the listener resets; out-of-window segments get an ACK;
 * an in-window RST that is not exactly at RCV.NXT gets a challenge ACK
 * (RFC 5961 section 3.2); an exact RST or a SYN kills the request.
 *
 * A Fast Open child (xtcp_rcv_state_process()) has sent since its
 * SYN-ACK, so its ACK field is for xtcp_ack() to judge, not checked
 * here; a segment that passes comes back as @sk to go on through the
 * child's state machine; an exact RST ends the child's hold on the
 * request (kept on the listener's RST list) and resets it, and a SYN
 * in the window is answered with a RST but leaves the child alone.
 *
 * Context: softirq; with @fastopen also the child's owner.
 * Return: the new child (locked), @sk when the listener must answer the
 * segment (with a RST) or a Fast Open child goes on, or NULL when it
 * was consumed.
 */
XTCP_SEED struct sock *xtcp_check_req(struct sock *sk, struct sk_buff *skb,
				      struct request_sock *req, bool fastopen,
				      bool *req_stolen)
{
	struct tcp_request_sock *treq = tcp_rsk(req);
	const struct tcphdr *th = tcp_hdr(skb);
	__be32 flg = tcp_flag_word(th) &
		     (TCP_FLAG_RST | TCP_FLAG_SYN | TCP_FLAG_ACK);
	struct tcp_options_received tmp_opt = {};
	struct net *net = sock_net(sk);
	bool paws_reject, own_req;
	struct sock *child;

	paws_reject = xtcp_check_req_paws(sk, skb, req, &tmp_opt);

	/* A pure retransmitted SYN: our SYN-ACK was lost, send it again. */
	if (TCP_SKB_CB(skb)->seq == treq->rcv_isn && flg == TCP_FLAG_SYN &&
	    !paws_reject) {
		if (!xtcp_oow_rate_limited(net, skb, XTCP_MIB_ACKSKIPPEDSYNRECV,
					   &treq->last_oow_ack_time) &&
		    !xtcp_rtx_syn_ack(sk, req)) {
			unsigned long expires = jiffies +
						xtcp_reqsk_timeout(req);

			/* A Fast Open request has no timer of its own. */
			if (!fastopen)
				mod_timer_pending(&req->rsk_timer, expires);
			else
				req->rsk_timer.expires = expires;
		}
		return NULL;
	}

	/*
	 * RFC 9293: an ACK of something not yet sent is answered by a RST.
	 * A Fast Open child's ACK is checked against the child, which may
	 * have sent data since (xtcp_ack()).
	 */
	if ((flg & TCP_FLAG_ACK) && !(flg & TCP_FLAG_RST) && !fastopen &&
	    TCP_SKB_CB(skb)->ack_seq != treq->snt_isn + 1)
		return sk;

	/* First check the sequence number. */
	if (paws_reject ||
	    !xtcp_in_window(TCP_SKB_CB(skb)->seq, TCP_SKB_CB(skb)->end_seq,
			    treq->rcv_nxt,
			    treq->rcv_nxt + xtcp_synack_window(req))) {
		/* Out of window: send ACK and drop. */
		if (!(flg & TCP_FLAG_RST) &&
		    !xtcp_oow_rate_limited(net, skb, XTCP_MIB_ACKSKIPPEDSYNRECV,
					   &treq->last_oow_ack_time))
			req->rsk_ops->send_ack(sk, skb, req);
		if (paws_reject)
			xtcp_inc_stats(net, XTCP_MIB_PAWSESTABREJECTED);
		return NULL;
	}

	/* In sequence, PAWS is OK. */
	if (TCP_SKB_CB(skb)->seq == treq->rcv_isn)
		flg &= ~TCP_FLAG_SYN;	/* truncate the SYN: out of window */

	if ((flg & TCP_FLAG_RST) && TCP_SKB_CB(skb)->seq != treq->rcv_nxt) {
		xtcp_reqsk_send_challenge_ack(sk, skb, req);
		return NULL;
	}
	if (flg & (TCP_FLAG_RST | TCP_FLAG_SYN)) {
		xtcp_inc_stats(net, XTCP_MIB_ATTEMPTFAILS);
		goto embryonic_reset;
	}
	/* No ACK: silently dropped. */
	if (!(flg & TCP_FLAG_ACK))
		return NULL;
	/* A Fast Open child takes the segment itself. */
	if (fastopen)
		return sk;

	/*
	 * While TCP_DEFER_ACCEPT is active, a bare ACK makes no child: the
	 * request waits for data (or for the deferral to run out, see
	 * xtcp_syn_ack_recalc()), marked acked so that it is not dropped.
	 */
	if (req->num_timeout <
	    READ_ONCE(inet_csk(sk)->icsk_accept_queue.rskq_defer_accept) &&
	    TCP_SKB_CB(skb)->end_seq == treq->rcv_isn + 1) {
		inet_rsk(req)->acked = 1;
		xtcp_inc_stats(net, XTCP_MIB_TCPDEFERACCEPTDROP);
		return NULL;
	}

	/* The ACK is valid: create the child and feed it this segment. */
	child = xtcp_syn_recv_sock(sk, skb, req, NULL, req, &own_req);
	if (!child)
		goto listen_overflow;
	sock_rps_save_rxhash(child, skb);
	*req_stolen = !own_req;
	return xtcp_csk_complete_hashdance(sk, child, req, own_req);

listen_overflow:
	if (!READ_ONCE(xtcp_pernet(net)->sysctl.abort_on_overflow)) {
		/* Keep the request; the peer's next ACK may find room. */
		inet_rsk(req)->acked = 1;
		return NULL;
	}
embryonic_reset:
	if (!(flg & TCP_FLAG_RST)) {
		/*
		 * A bad SYN.  A Fast Open child is not reset for it: an
		 * attacker must not be able to kill a live connection so.
		 */
		xtcp_v4_send_reset(sk, skb);
	} else if (fastopen) {
		/* The peer's exact RST. */
		xtcp_reqsk_fastopen_remove(sk, req, true);
		xtcp_reset(sk);
	}
	if (fastopen)
		return NULL;
	/* The queue it counts in is its own listener's, migrated or not. */
	if (xtcp_csk_reqsk_queue_drop(req->rsk_listener, req))
		xtcp_inc_stats(net, XTCP_MIB_EMBRYONICRSTS);
	else
		*req_stolen = true;
	return NULL;
}

/*
 * inet_csk_clone_lock(): the child starts as a copy of its listener.  The
 * kernel's own does the inet_connection_sock part (state, ports, the LSM's
 * clone hook); what xtcp_sock adds that belongs to the listener is reset.
 */
static XTCP_SEED struct sock *xtcp_csk_clone_lock(const struct sock *sk,
						  const struct request_sock *req)
{
	struct sock *newsk;

	newsk = inet_csk_clone_lock(sk, req, GFP_ATOMIC);
	if (!newsk)
		return NULL;
	xtcp_sk_set_bind_hash(newsk, NULL);
	xtcp_fence_pin(newsk, sk);
	xtcp_sk(newsk)->ca_ops = NULL;
	/* The copy points at the listener's (empty) queue. */
	xtcp_compat_write_queue_init(xtcp_write_queue(newsk));
	xtcp_init_xmit_timers(newsk);
	return newsk;
}

/* tcp_create_openreq_child(): the TCP state the handshake agreed on. */
static XTCP_SEED struct sock *xtcp_create_openreq_child(const struct sock *sk,
							struct request_sock *req,
							struct sk_buff *skb)
{
	struct inet_request_sock *ireq = inet_rsk(req);
	struct tcp_request_sock *treq = tcp_rsk(req);
	struct tcp_sock *newtp;
	struct sock *newsk;

	newsk = xtcp_csk_clone_lock(sk, req);
	if (!newsk)
		return NULL;
	newtp = tcp_sk(newsk);

	/*
	 * The sequence space as stock sets it: generic readers of the
	 * tcp_sock (tcp_diag_get_info()'s rqueue/wqueue, tcp_get_info(),
	 * OPT_ID) take their values from these fields.
	 */
	newtp->pred_flags = 0;
	newtp->rcv_nxt = treq->rcv_isn + 1;
	newtp->rcv_wup = newtp->rcv_nxt;
	WRITE_ONCE(newtp->copied_seq, newtp->rcv_nxt);
	newtp->segs_in = 1;
	newtp->snd_una = treq->snt_isn + 1;
	newtp->snd_sml = newtp->snd_una;
	newtp->snd_nxt = newtp->snd_una;
	newtp->snd_up = newtp->snd_una;
	newtp->snd_wl1 = treq->rcv_isn;
	inet_csk(newsk)->icsk_ack.lrcvtime = tcp_jiffies32;
	newtp->lsndtime = tcp_jiffies32;
	/* The request's flow hash goes on (skb_set_owner_w() uses it). */
	newsk->sk_txhash = READ_ONCE(treq->txhash);
	newtp->total_retrans = req->num_retrans;
	WRITE_ONCE(newtp->write_seq, newtp->snd_una);
	newtp->pushed_seq = newtp->snd_una;

	newtp->srtt_us = 0;
	newtp->mdev_us = jiffies_to_usecs(TCP_TIMEOUT_INIT);
	minmax_reset(&newtp->rtt_min, tcp_jiffies32, ~0U);
	inet_csk(newsk)->icsk_rto = TCP_TIMEOUT_INIT;
	newtp->snd_cwnd = TCP_INIT_CWND;
	newtp->snd_ssthresh = TCP_INFINITE_SSTHRESH;
	newtp->snd_cwnd_cnt = 0;
	/* The copied list head points at the listener's. */
	INIT_LIST_HEAD(&newtp->tsorted_sent_queue);
	newsk->tcp_rtx_queue = RB_ROOT;
	/* A SYN-ACK that timed out: more than one re-sent gives cwnd 1. */
	if (req->num_timeout) {
		newtp->undo_marker = treq->snt_isn;
		newtp->retrans_stamp = (u32)div_u64(treq->snt_synack,
						    USEC_PER_MSEC);
	}

	/*
	 * The rest of rx_opt is the listener's, as in stock: user_mss
	 * (TCP_MAXSEG) carries over to the child's advmss.
	 */
	newtp->rx_opt.tstamp_ok = ireq->tstamp_ok;
	newtp->rx_opt.sack_ok = ireq->sack_ok;
	newtp->window_clamp = req->rsk_window_clamp;
	newtp->rcv_ssthresh = req->rsk_rcv_wnd;
	newtp->rcv_wnd = req->rsk_rcv_wnd;
	newtp->rx_opt.wscale_ok = ireq->wscale_ok;
	if (newtp->rx_opt.wscale_ok) {
		newtp->rx_opt.snd_wscale = ireq->snd_wscale;
		newtp->rx_opt.rcv_wscale = ireq->rcv_wscale;
	} else {
		newtp->rx_opt.snd_wscale = 0;
		newtp->rx_opt.rcv_wscale = 0;
		newtp->window_clamp = min(newtp->window_clamp, 65535U);
	}
	newtp->snd_wnd = ntohs(tcp_hdr(skb)->window) << newtp->rx_opt.snd_wscale;
	newtp->max_window = newtp->snd_wnd;
	if (newtp->rx_opt.tstamp_ok) {
		newtp->rx_opt.ts_recent = req->ts_recent;
		newtp->rx_opt.ts_recent_stamp = ktime_get_seconds();
	} else {
		newtp->rx_opt.ts_recent_stamp = 0;
	}
	newtp->tsoffset = treq->ts_off;
	newtp->tcp_header_len = sizeof(struct tcphdr) +
				(newtp->rx_opt.tstamp_ok ?
				 TCPOLEN_TSTAMP_ALIGNED : 0);
	/*
	 * A segment of at least TCP_MSS_DEFAULT bytes of data -- a Fast
	 * Open SYN's, or a third ACK's -- is the first guess of the peer's
	 * segment size (xtcp_measure_rcv_mss()).
	 */
	if (skb->len >= TCP_MSS_DEFAULT + newtp->tcp_header_len)
		inet_csk(newsk)->icsk_ack.last_seg_size =
			skb->len - newtp->tcp_header_len;
	newtp->rx_opt.mss_clamp = req->mss;
	newtp->ecn_flags = ireq->ecn_ok ? TCP_ECN_OK : 0;
	/* Until xtcp_fastopen_create_child() makes it a Fast Open child. */
	RCU_INIT_POINTER(newtp->fastopen_rsk, NULL);
	/* SO_KEEPALIVE on the listener: the timer runs from the start. */
	if (sock_flag(newsk, SOCK_KEEPOPEN))
		inet_csk_reset_keepalive_timer(newsk,
					       xtcp_keepalive_time_when(newtp));
	xtcp_inc_stats(sock_net(sk), XTCP_MIB_PASSIVEOPENS);
	return newsk;
}

/* inet_csk_route_child_sock(): the route the child transmits on. */
static XTCP_SEED struct dst_entry *xtcp_csk_route_child_sock(const struct sock *sk,
							     struct sock *newsk,
							     const struct request_sock *req)
{
	struct flowi4 *fl4 = &inet_sk(newsk)->cork.fl.u.ip4;

	return xtcp_csk_route_req(sk, fl4, req);
}

/**
 * xtcp_time_wait - the connection enters TIME-WAIT (tcp_time_wait())
 * @sk:    the connection, locked
 * @state: TCP_TIME_WAIT, or TCP_FIN_WAIT2 for an orphan's remaining wait
 * @timeo: the wait, jiffies; TIME-WAIT itself always waits
 *         TCP_TIMEWAIT_LEN, FIN-WAIT-2 at least 3.5 RTO
 *
 * A small timewait sock takes the connection's place in the hash and
 * the port (timewait_sock.c) and answers the peer for the wait
 * (xtcp_timewait_state_process()); the full socket is done.  With
 * net.xtcp.max_tw_buckets timewait socks already, or no memory, the
 * connection just closes (TCPTimeWaitOverflow), as stock's does.
 */
void xtcp_time_wait(struct sock *sk, int state, int timeo)
{
	const struct inet_connection_sock *icsk = inet_csk(sk);
	const int rto = (icsk->icsk_rto << 2) - (icsk->icsk_rto >> 1);
	const struct tcp_sock *tp = tcp_sk(sk);
	struct tcp_timewait_sock *tcptw;
	struct xtcp_timewait_sock *tw;

	tw = xtcp_twsk_alloc(sk, state);
	if (!tw) {
		xtcp_inc_stats(sock_net(sk), XTCP_MIB_TCPTIMEWAITOVERFLOW);
		xtcp_done(sk);
		return;
	}
	tcptw = &tw->tw_tcp;
	tcptw->tw_sk.tw_mark = READ_ONCE(sk->sk_mark);
	tcptw->tw_sk.tw_priority = READ_ONCE(sk->sk_priority);
	tcptw->tw_sk.tw_rcv_wscale = tp->rx_opt.rcv_wscale;
	tcptw->tw_rcv_nxt = tp->rcv_nxt;
	tcptw->tw_snd_nxt = tp->snd_nxt;
	tcptw->tw_rcv_wnd = xtcp_receive_window(tp);
	tcptw->tw_ts_recent = tp->rx_opt.ts_recent;
	tcptw->tw_ts_recent_stamp = tp->rx_opt.ts_recent_stamp;
	tcptw->tw_ts_offset = tp->tsoffset;
	tcptw->tw_last_oow_ack_time = 0;
	tcptw->tw_tx_delay = tp->tcp_tx_delay;
	tcptw->tw_sk.tw_txhash = sk->sk_txhash;

	if (timeo < rto)
		timeo = rto;
	if (state == TCP_TIME_WAIT)
		timeo = TCP_TIMEWAIT_LEN;
	xtcp_twsk_hashdance_schedule(tw, sk, timeo);
	xtcp_done(sk);
}

/*
 * tcp_timewait_check_oow_rate_limit(): an out-of-window segment gets an
 * ACK, at most one per net.ipv4.tcp_invalid_ratelimit.
 */
static enum tcp_tw_status
xtcp_timewait_check_oow_rate_limit(struct xtcp_timewait_sock *tw,
				   const struct sk_buff *skb, int mib)
{
	struct tcp_timewait_sock *tcptw = &tw->tw_tcp;

	if (!xtcp_oow_rate_limited(twsk_net(&tcptw->tw_sk), skb, mib,
				   &tcptw->tw_last_oow_ack_time))
		return TCP_TW_ACK;
	return TCP_TW_SUCCESS;
}

/*
 * The timestamp of a segment for a timewait sock, and PAWS (RFC 7323
 * section 5) against the last one the connection accepted.
 */
static bool xtcp_timewait_paws(struct xtcp_timewait_sock *tw,
			       struct sk_buff *skb,
			       struct tcp_options_received *tmp_opt)
{
	struct tcp_timewait_sock *tcptw = &tw->tw_tcp;
	const struct tcphdr *th = tcp_hdr(skb);
	int ts_recent_stamp = READ_ONCE(tcptw->tw_ts_recent_stamp);

	tmp_opt->saw_tstamp = 0;
	if (th->doff <= (sizeof(*th) >> 2) || !ts_recent_stamp)
		return false;
	xtcp_parse_options(twsk_net(&tcptw->tw_sk), skb, tmp_opt, 0, NULL);
	if (!tmp_opt->saw_tstamp)
		return false;
	if (tmp_opt->rcv_tsecr)
		tmp_opt->rcv_tsecr -= tcptw->tw_ts_offset;
	tmp_opt->ts_recent = READ_ONCE(tcptw->tw_ts_recent);
	tmp_opt->ts_recent_stamp = ts_recent_stamp;
	return tcp_paws_reject(tmp_opt, th->rst);
}

/**
 * xtcp_timewait_state_process - a segment for a timewait sock
 * @tw:     the timewait sock, referenced by the caller
 * @skb:    the segment, its TCP_SKB_CB filled
 * @tw_isn: where an acceptable new SYN's ISN goes
 *
 * tcp_timewait_state_process(), after RFC 9293 3.10.7.4 and RFC 1122
 * 4.2.2.13.  In FIN-WAIT-2 (an orphan's last wait) the checks of the
 * full socket: out of window gets an ACK, a RST ends it, new data or a
 * SYN a RST, the peer's FIN TIME-WAIT with an ACK.  In TIME-WAIT: an
 * in-window RST kills it (TIME-WAIT assassination, RFC 1337, unless
 * net.ipv4.tcp_rfc1337), a bare in-window ACK restarts the wait; a new
 * SYN with a higher sequence number or a newer timestamp may reopen the
 * connection (RFC 1122: its ISN above anything we sent, tw_snd_nxt +
 * 65537); anything else gets an ACK (the retransmitted FIN's answer),
 * rate-limited, and restarts the wait.
 *
 * The caller's reference is never dropped here, unlike stock's.
 *
 * Context: softirq.
 * Return: what the caller does: nothing (TCP_TW_SUCCESS), ACK, RST and
 * kill, or hand the SYN to a listener (TCP_TW_SYN).
 */
enum tcp_tw_status
xtcp_timewait_state_process(struct xtcp_timewait_sock *tw,
			    struct sk_buff *skb, u32 *tw_isn)
{
	struct tcp_timewait_sock *tcptw = &tw->tw_tcp;
	struct inet_timewait_sock *itw = &tcptw->tw_sk;
	u32 rcv_nxt = READ_ONCE(tcptw->tw_rcv_nxt);
	const struct tcphdr *th = tcp_hdr(skb);
	struct tcp_options_received tmp_opt = {};
	struct net *net = twsk_net(itw);
	bool paws_reject;

	paws_reject = xtcp_timewait_paws(tw, skb, &tmp_opt);

	if (READ_ONCE(itw->tw_substate) == TCP_FIN_WAIT2) {
		if (paws_reject ||
		    !xtcp_in_window(TCP_SKB_CB(skb)->seq,
				    TCP_SKB_CB(skb)->end_seq, rcv_nxt,
				    rcv_nxt + tcptw->tw_rcv_wnd))
			return xtcp_timewait_check_oow_rate_limit(tw, skb,
					XTCP_MIB_TCPACKSKIPPEDFINWAIT2);
		if (th->rst)
			goto kill;
		if (th->syn && !before(TCP_SKB_CB(skb)->seq, rcv_nxt))
			return TCP_TW_RST;
		/* A duplicate ACK. */
		if (!th->ack || !after(TCP_SKB_CB(skb)->end_seq, rcv_nxt) ||
		    TCP_SKB_CB(skb)->end_seq == TCP_SKB_CB(skb)->seq)
			return TCP_TW_SUCCESS;
		/* New data after our half-duplex close: reset. */
		if (!th->fin || TCP_SKB_CB(skb)->end_seq != rcv_nxt + 1)
			return TCP_TW_RST;
		/* The peer's FIN: TIME-WAIT proper. */
		WRITE_ONCE(itw->tw_substate, TCP_TIME_WAIT);
		WRITE_ONCE(tcptw->tw_rcv_nxt, TCP_SKB_CB(skb)->end_seq);
		if (tmp_opt.saw_tstamp) {
			WRITE_ONCE(tcptw->tw_ts_recent_stamp,
				   ktime_get_seconds());
			WRITE_ONCE(tcptw->tw_ts_recent, tmp_opt.rcv_tsval);
		}
		xtcp_twsk_reschedule(tw, TCP_TIMEWAIT_LEN);
		return TCP_TW_ACK;
	}

	/* TIME-WAIT: in window, only a RST or a bare ACK is possible. */
	if (!paws_reject && TCP_SKB_CB(skb)->seq == rcv_nxt &&
	    (TCP_SKB_CB(skb)->seq == TCP_SKB_CB(skb)->end_seq || th->rst)) {
		if (th->rst) {
			if (!READ_ONCE(net->ipv4.sysctl_tcp_rfc1337))
				goto kill;
		} else {
			xtcp_twsk_reschedule(tw, TCP_TIMEWAIT_LEN);
		}
		if (tmp_opt.saw_tstamp) {
			WRITE_ONCE(tcptw->tw_ts_recent, tmp_opt.rcv_tsval);
			WRITE_ONCE(tcptw->tw_ts_recent_stamp,
				   ktime_get_seconds());
		}
		return TCP_TW_SUCCESS;
	}

	/*
	 * Out of window.  A new SYN may reopen the connection if it cannot
	 * be an old duplicate: a higher sequence number, or, with PAWS, a
	 * newer timestamp.
	 */
	if (th->syn && !th->rst && !th->ack && !paws_reject &&
	    (after(TCP_SKB_CB(skb)->seq, rcv_nxt) ||
	     (tmp_opt.saw_tstamp &&
	      (s32)(READ_ONCE(tcptw->tw_ts_recent) - tmp_opt.rcv_tsval) < 0))) {
		u32 isn = tcptw->tw_snd_nxt + 65535 + 2;

		*tw_isn = isn ? : 1;
		return TCP_TW_SYN;
	}
	if (paws_reject)
		xtcp_inc_stats(net, XTCP_MIB_PAWSESTABREJECTED);
	if (!th->rst) {
		/*
		 * Restart the wait, unless this is an ACK-less SYN with a
		 * lower sequence number: it may be a new connection's.
		 */
		if (paws_reject || th->ack)
			xtcp_twsk_reschedule(tw, TCP_TIMEWAIT_LEN);
		return xtcp_timewait_check_oow_rate_limit(tw, skb,
				XTCP_MIB_TCPACKSKIPPEDTIMEWAIT);
	}
	return TCP_TW_SUCCESS;
kill:
	xtcp_twsk_deschedule(tw);
	return TCP_TW_SUCCESS;
}

/**
 * xtcp_sync_mss - the sending MSS for a path MTU (tcp_sync_mss())
 * @sk:   the socket
 * @pmtu: the path MTU, bytes
 *
 * __tcp_mtu_to_mss(): IPv4 and TCP headers off, clamped by the peer's
 * MSS, IP options off, then never below net.ipv4.tcp_min_snd_mss (room
 * for a full set of options and 8 bytes of data: the floor that keeps a
 * peer's MSS of 0..47 from making segments of nothing, CVE-2019-11479);
 * then the timestamp option off, and bound to half the peer's window.
 * Also icsk_sync_mss, which IP_OPTIONS calls when the header length
 * changes.
 *
 * Context: socket locked, or a new child not yet visible.
 * Return: the new MSS, bytes.
 */
XTCP_SEED unsigned int xtcp_sync_mss(struct sock *sk, u32 pmtu)
{
	struct tcp_sock *tp = tcp_sk(sk);
	int mss = pmtu - sizeof(struct iphdr) - sizeof(struct tcphdr);

	if (mss > tp->rx_opt.mss_clamp)
		mss = tp->rx_opt.mss_clamp;
	mss -= inet_csk(sk)->icsk_ext_hdr_len;
	mss = max(mss, READ_ONCE(sock_net(sk)->ipv4.sysctl_tcp_min_snd_mss));
	mss -= tp->tcp_header_len - sizeof(struct tcphdr);
	mss = xtcp_bound_to_half_wnd(tp, mss);
	inet_csk(sk)->icsk_pmtu_cookie = pmtu;
	tp->mss_cache = mss;
	return mss;
}

/**
 * xtcp_inherit_port - the child shares its listener's port (__inet_inherit_port)
 * @sk:    the listener
 * @child: the new connection; its inet_num is the listener's port
 *
 * The listener's bucket is read under the bucket's lock: a close() on
 * another CPU may be giving the port back.
 *
 * Return: 0, or -ENOENT when the listener no longer owns the port.
 */
XTCP_SEED int xtcp_inherit_port(const struct sock *sk, struct sock *child)
{
	u16 port = inet_sk(child)->inet_num;
	struct xtcp_bind_hashbucket *head;
	struct xtcp_bind_bucket *tb;

	head = &xtcp_pernet(sock_net(sk))->bhash[port & (XTCP_BHASH_SIZE - 1)];
	spin_lock(&head->lock);
	tb = xtcp_sk_bind_hash(sk);
	if (unlikely(!tb)) {
		spin_unlock(&head->lock);
		return -ENOENT;
	}
	sk_add_bind_node(child, &tb->owners);
	xtcp_sk_set_bind_hash(child, tb);
	spin_unlock(&head->lock);
	return 0;
}

/**
 * xtcp_syn_recv_sock - create the child of a completed handshake
 * @sk:      the listener
 * @skb:     the third ACK (or the cookie ACK)
 * @req:     the request
 * @dst:     a route, or NULL to look one up; consumed
 * @req_unhash: the hashed request the child replaces; NULL for a SYN
 *           cookie, whose request was never hashed
 * @own_req: set when the child is hashed (in the request's place)
 *
 * Mirrors tcp_v4_syn_recv_sock().
 * Return: the child, locked, or NULL when the accept queue is full or
 * memory or a route is missing.
 */
XTCP_SEED struct sock *xtcp_syn_recv_sock(const struct sock *sk, struct sk_buff *skb,
					  struct request_sock *req,
					  struct dst_entry *dst,
					  struct request_sock *req_unhash, bool *own_req)
{
	struct inet_request_sock *ireq = inet_rsk(req);
	struct net *net = sock_net(sk);
	struct inet_sock *newinet;
	struct tcp_sock *newtp;
	struct sock *newsk;

	if (sk_acceptq_is_full(sk))
		goto exit_overflow;
	newsk = xtcp_create_openreq_child(sk, req, skb);
	if (!newsk)
		goto exit_nonewsk;

	newsk->sk_gso_type = SKB_GSO_TCPV4;
	newtp = tcp_sk(newsk);
	newinet = inet_sk(newsk);
	sk_daddr_set(newsk, ireq->ir_rmt_addr);
	sk_rcv_saddr_set(newsk, ireq->ir_loc_addr);
	newsk->sk_bound_dev_if = ireq->ir_iif;
	newinet->inet_saddr = ireq->ir_loc_addr;
	newinet->inet_opt = NULL;
	newinet->mc_index = inet_iif(skb);
	newinet->mc_ttl = ip_hdr(skb)->ttl;
	newinet->rcv_tos = ip_hdr(skb)->tos;
	inet_csk(newsk)->icsk_ext_hdr_len = 0;
	atomic_set(&newinet->inet_id, get_random_u16());

	if (!dst) {
		dst = xtcp_csk_route_child_sock(sk, newsk, req);
		if (!dst)
			goto put_and_exit;
	}
	sk_setup_caps(newsk, dst);

	xtcp_ca_openreq_child(newsk, sk);
	xtcp_sync_mss(newsk, dst_mtu(dst));
	newtp->advmss = xtcp_mss_clamp(newsk, tcp_dst_advmss(dst));
	/* Before any segment: a reset child's window divides by it. */
	xtcp_initialize_rcv_mss(newsk);

	if (xtcp_inherit_port(sk, newsk))
		goto put_and_exit;
	*own_req = xtcp_ehash_insert(newsk, req_unhash ?
					      req_to_sk(req_unhash) : NULL);
	if (likely(*own_req)) {
		/* The saved SYN (TCP_SAVE_SYN) is the child's now. */
		tcp_move_syn(tcp_sk(newsk), req);
		sock_prot_inuse_add(net, newsk->sk_prot, 1);
		xtcp_synack_rtt_meas(newsk, req);
		return newsk;
	}
	/*
	 * Another CPU completed this request: ours never lived, and is
	 * destroyed as inet_ehash_nolisten() destroys it, which drops one
	 * reference; the caller drops the other with its lock.
	 */
	xtcp_csk_prepare_for_destroy_sock(newsk);
	xtcp_done(newsk);
	if (!req_unhash) {
		/* A duplicate cookie ACK: there is no request to hand back. */
		xtcp_child_locked(newsk);
		bh_unlock_sock(newsk);
		sock_put(newsk);
		return NULL;
	}
	return newsk;

exit_overflow:
	xtcp_inc_stats(net, XTCP_MIB_LISTENOVERFLOWS);
exit_nonewsk:
	dst_release(dst);
	xtcp_inc_stats(net, XTCP_MIB_LISTENDROPS);
	return NULL;
put_and_exit:
	xtcp_child_locked(newsk);
	xtcp_csk_prepare_forced_close(newsk);
	xtcp_done(newsk);
	xtcp_inc_stats(net, XTCP_MIB_LISTENDROPS);
	return NULL;
}

/**
 * xtcp_child_process - feed the third ACK to the new child (tcp_child_process())
 * @parent: the listener
 * @child:  the child, locked and referenced; both released here
 * @skb:    the segment; consumed unless the return is nonzero
 *
 * Return: nonzero if the caller must answer @skb with a RST and free it.
 */
XTCP_SEED int xtcp_child_process(struct sock *parent, struct sock *child,
				 struct sk_buff *skb)
{
	int state = child->sk_state;
	int ret = 0;

	/* The third ACK is the child's second segment in (the SYN first). */
	tcp_segs_in(tcp_sk(child), skb);
	if (!sock_owned_by_user(child)) {
		ret = xtcp_rcv_state_process(child, skb);
		/* Wake the accept()er: its connection is ready. */
		if (state == TCP_SYN_RECV && child->sk_state != state)
			parent->sk_data_ready(parent);
	} else {
		/*
		 * A lookup found the child first and a user owns it: the
		 * owner's release_sock() processes the segment.
		 */
		__sk_add_backlog(child, skb);
	}
	xtcp_child_locked(child);
	bh_unlock_sock(child);
	sock_put(child);
	return ret;
}
