// SPDX-License-Identifier: GPL-2.0
/*
 * xtcp: the SYN-ACK retransmission timer of a request sock, and the
 * socket's own timers.
 *
 * Mirrors reqsk_timer_handler() (net/ipv4/inet_connection_sock.c): the
 * SYN-ACK is re-sent with exponential backoff (1 s, 2 s, 4 s, ... from
 * TCP_TIMEOUT_INIT, RFC 6298 section 2), and after net.xtcp.synack_retries
 * re-sends the request is dropped.  When the SYN queue is more than half
 * full of requests that already timed out once, old ones get fewer
 * retries, keeping room for young ones.
 */
#include <net/sock_reuseport.h>
#include <net/tcp.h>

#include "xtcp.h"

/*
 * num_timeout is 7 bits wide.  With synack_retries of 128 and more stock
 * lets it wrap to 0, so the request never expires and its "young" count
 * is taken off the queue again at each wrap; xtcp stops counting at the
 * top instead: the request never expires either, and young stays right.
 */
#define XTCP_NUM_TIMEOUT_MAX	127

/*
 * reqsk_timeout(): the backed-off timeout of the next retry, jiffies.
 * The shift is bounded: 1 s << 31 is far past TCP_RTO_MAX, and a shift
 * by 64 or more (stock's after 64 timeouts) is undefined in C.
 */
unsigned long xtcp_reqsk_timeout(const struct request_sock *req)
{
	u64 timeout = (u64)TCP_TIMEOUT_INIT << min_t(u8, req->num_timeout, 31);

	return (unsigned long)min_t(u64, timeout, TCP_RTO_MAX);
}

/*
 * A request's SYN-ACK retries: the listener's TCP_SYNCNT, else
 * net.xtcp.synack_retries, fewer for old requests when young ones need
 * the room.
 */
static int xtcp_synack_retries(const struct sock *sk_listener)
{
	const struct request_sock_queue *queue =
		&inet_csk(sk_listener)->icsk_accept_queue;
	int max_retries, qlen, young;

	/* TCP_SYNCNT on the listener, as reqsk_timer_handler() reads it. */
	max_retries = READ_ONCE(inet_csk(sk_listener)->icsk_syn_retries) ? :
		READ_ONCE(xtcp_pernet(sock_net(sk_listener))->sysctl.synack_retries);
	qlen = reqsk_queue_len(queue);
	if ((qlen << 1) > max(8U, READ_ONCE(sk_listener->sk_max_ack_backlog))) {
		young = reqsk_queue_len_young(queue) << 1;
		while (max_retries > 2) {
			if (qlen < young)
				break;
			max_retries--;
			young <<= 1;
		}
	}
	return max_retries;
}

/*
 * The request's listener closed: move the request to another listener of
 * its reuseport group (the migration part of reqsk_timer_handler()).
 * Returns the copy, with a refcount of 2 + 1 (hash, timer, ours) and its
 * timer set up but not armed, or NULL.
 */
static struct request_sock *xtcp_reqsk_timer_migrate(struct request_sock *req)
{
	struct request_sock *nreq;
	struct sock *nsk;

	nsk = xtcp_reuseport_migrate_sock(req->rsk_listener,
					  req_to_sk(req), NULL);
	if (!nsk)
		return NULL;
	nreq = xtcp_reqsk_clone(req, nsk);
	if (!nreq)
		return NULL;
	timer_setup(&nreq->rsk_timer, xtcp_reqsk_timer_handler, TIMER_PINNED);
	smp_wmb();	/* the copy's fields before its refcount */
	refcount_set(&nreq->rsk_refcnt, 2 + 1);
	xtcp_reqsk_queue_migrated(&inet_csk(nsk)->icsk_accept_queue, req);
	return nreq;
}

/*
 * syn_ack_recalc(): whether the request has run out of time (@expire)
 * and whether its SYN-ACK is sent again (@resend).  Without
 * TCP_DEFER_ACCEPT, after max_retries timeouts, and always.  With it, a
 * request whose bare ACK came (acked) lives until the deferral is over
 * even past max_retries, and is not sent SYN-ACKs while it waits for data
 * but for the last period, a last chance for the peer's data or ACK.
 */
static void xtcp_syn_ack_recalc(const struct request_sock *req,
				int max_retries, u8 defer_accept,
				bool *expire, bool *resend)
{
	if (!defer_accept) {
		*expire = req->num_timeout >= max_retries;
		*resend = true;
		return;
	}
	*expire = req->num_timeout >= max_retries &&
		  (!inet_rsk(req)->acked || req->num_timeout >= defer_accept);
	*resend = !inet_rsk(req)->acked ||
		  req->num_timeout >= defer_accept - 1;
}

/**
 * xtcp_reqsk_timer_handler - SYN-ACK timeout of one request
 * @t: the request's rsk_timer
 *
 * Mirrors reqsk_timer_handler(): a request whose listener closed moves to
 * another listener of the reuseport group if migration is on (the copy
 * takes the original's place in the hash, or gives up if a segment
 * completed the original meanwhile), else goes.
 *
 * Context: timer softirq; the timer holds a reference on the request.
 */
void xtcp_reqsk_timer_handler(struct timer_list *t)
{
	struct request_sock *req = from_timer(req, t, rsk_timer);
	struct request_sock *nreq = NULL, *oreq = req;
	struct sock *sk_listener = req->rsk_listener;
	struct request_sock_queue *queue;
	bool expire, resend;

	if (inet_sk_state_load(sk_listener) != TCP_LISTEN) {
		nreq = xtcp_reqsk_timer_migrate(req);
		if (!nreq)
			goto drop;
		req = nreq;
		sk_listener = nreq->rsk_listener;
	}

	queue = &inet_csk(sk_listener)->icsk_accept_queue;
	xtcp_syn_ack_recalc(req, xtcp_synack_retries(sk_listener),
			    READ_ONCE(queue->rskq_defer_accept), &expire,
			    &resend);
	req->rsk_ops->syn_ack_timeout(req);
	/*
	 * An ACKed request (full accept queue, TCP_DEFER_ACCEPT) is kept,
	 * SYN-ACK or not.
	 */
	if (!expire && (!resend || !xtcp_rtx_syn_ack(sk_listener, req) ||
			inet_rsk(req)->acked)) {
		if (req->num_timeout == 0)
			atomic_dec(&queue->young);
		if (req->num_timeout < XTCP_NUM_TIMEOUT_MAX)
			req->num_timeout++;
		mod_timer(&req->rsk_timer, jiffies + xtcp_reqsk_timeout(req));
		if (!nreq)
			return;
		if (!xtcp_ehash_insert(req_to_sk(nreq), req_to_sk(oreq))) {
			/* A segment completed or reset the original first. */
			xtcp_csk_reqsk_queue_drop(sk_listener, nreq);
			goto no_ownership;
		}
		xtcp_inc_stats(sock_net(sk_listener),
			       XTCP_MIB_MIGRATEREQSUCCESS);
		xtcp_reqsk_migrate_reset(oreq);
		reqsk_queue_removed(&inet_csk(oreq->rsk_listener)->icsk_accept_queue,
				    oreq);
		reqsk_put(oreq);	/* the old timer's reference */
		reqsk_put(nreq);	/* ours */
		return;
	}
	if (nreq) {
		xtcp_inc_stats(sock_net(sk_listener),
			       XTCP_MIB_MIGRATEREQFAILURE);
		reqsk_put(nreq);	/* the timer was never armed */
no_ownership:
		xtcp_reqsk_migrate_reset(nreq);
		reqsk_queue_removed(queue, nreq);
		reqsk_put(nreq);	/* the hash's, never taken */
		reqsk_put(nreq);	/* ours */
	}
drop:
	xtcp_reqsk_timer_drop(oreq->rsk_listener, oreq);
}

/*
 * The socket's timers, set up as tcp_init_xmit_timers() sets up stock's:
 * icsk_retransmit_timer (RTO and zero-window probes, one at a time, as
 * icsk_pending says), icsk_delack_timer, icsk_keepalive_timer, and the
 * compressed_ack_timer hrtimer.  A timer armed through sk_reset_timer()
 * or started by xtcp_sack_compress() holds a reference on the socket;
 * each handler gives it back at its end, as stock's do.  xtcp_done() and
 * disconnect stop them (xtcp_clear_xmit_timers(), as tcp_done() and
 * tcp_disconnect() do), so none outlives the connection.  A handler that
 * finds the socket owned by a process leaves its work to release_sock()
 * (xtcp_release_cb()), holding a reference for it.
 *
 * The keepalive timer has no work until keepalive lands, but generic
 * code can arm it: on 6.12 a cgroup/setsockopt BPF program's
 * bpf_setsockopt(SOL_TCP, TCP_KEEPIDLE) reaches
 * inet_csk_reset_keepalive_timer() on a connection with SO_KEEPALIVE.
 */

/*
 * tcp_model_timeout(): how long @boundary retransmissions take from an
 * RTO of @rto_base, doubling up to TCP_RTO_MAX; milliseconds.
 */
static unsigned int xtcp_model_timeout(unsigned int boundary,
				       unsigned int rto_base)
{
	unsigned int linear_backoff_thresh, timeout;

	linear_backoff_thresh = ilog2(TCP_RTO_MAX / rto_base);
	if (boundary <= linear_backoff_thresh)
		timeout = ((2 << boundary) - 1) * rto_base;
	else
		timeout = ((2 << linear_backoff_thresh) - 1) * rto_base +
			  (boundary - linear_backoff_thresh) * TCP_RTO_MAX;
	return jiffies_to_msecs(timeout);
}

/*
 * retransmits_timed_out(): has the episode that began at retrans_stamp
 * lasted as long as @boundary backed-off retransmissions would, or
 * @timeout ms (TCP_USER_TIMEOUT) if nonzero?  The time, not the count,
 * decides, so an RTO that changed meanwhile does not.
 */
static bool xtcp_retransmits_timed_out(struct sock *sk, unsigned int boundary,
				       unsigned int timeout)
{
	struct tcp_sock *tp = tcp_sk(sk);
	u32 now_ms = (u32)div_u64(tp->tcp_mstamp, USEC_PER_MSEC);

	if (!inet_csk(sk)->icsk_retransmits)
		return false;
	if (likely(timeout == 0))
		timeout = xtcp_model_timeout(boundary, TCP_RTO_MIN);
	return (s32)(now_ms - tp->retrans_stamp - timeout) >= 0;
}

/*
 * tcp_write_err(): give up, with the ICMP error that was reported, or
 * ETIMEDOUT (TCPAbortOnTimeout).
 */
static void xtcp_write_err(struct sock *sk)
{
	xtcp_done_with_error(sk, READ_ONCE(sk->sk_err_soft) ? : ETIMEDOUT);
	xtcp_inc_stats(sock_net(sk), XTCP_MIB_TCPABORTONTIMEOUT);
}

/*
 * tcp_orphan_retries(): an orphan retries net.ipv4.tcp_orphan_retries
 * times, 8 if that is 0 and the RTO is still below its maximum, none
 * once an ICMP error came and the RTO is at its maximum.
 */
static int xtcp_orphan_retries(struct sock *sk, bool alive)
{
	int retries = READ_ONCE(sock_net(sk)->ipv4.sysctl_tcp_orphan_retries);

	if (READ_ONCE(sk->sk_err_soft) && !alive)
		retries = 0;
	if (retries == 0 && alive)
		retries = 8;
	return retries;
}

/*
 * tcp_out_of_resources(): an orphan is reset when orphans or memory run
 * short, sooner if it has been silent for long or had an ICMP error
 * (TCPAbortOnMemory).  Returns 1 if it is gone.
 */
static int xtcp_out_of_resources(struct sock *sk, bool do_reset)
{
	struct tcp_sock *tp = tcp_sk(sk);
	int shift = 0;

	if ((s32)(tcp_jiffies32 - tp->lsndtime) > 2 * TCP_RTO_MAX || !do_reset)
		shift++;
	if (READ_ONCE(sk->sk_err_soft))
		shift++;
	if (xtcp_check_oom(sk, shift)) {
		/* Reset if we sent recently, or the window is closed. */
		if ((s32)(tcp_jiffies32 - tp->lsndtime) <= TCP_TIMEWAIT_LEN ||
		    (!tp->snd_wnd && !tp->packets_out))
			do_reset = true;
		if (do_reset)
			xtcp_send_active_reset(sk);
		xtcp_done(sk);
		xtcp_inc_stats(sock_net(sk), XTCP_MIB_TCPABORTONMEMORY);
		return 1;
	}
	if (!check_net(sock_net(sk))) {
		/* The namespace is going: no RST can leave. */
		xtcp_done(sk);
		return 1;
	}
	return 0;
}

/*
 * tcp_write_timeout(): after net.ipv4.tcp_retries1 retransmissions the
 * route is doubted (RFC 1122 4.2.3.5 R1), after tcp_retries2, or
 * TCP_USER_TIMEOUT, the connection is given up (R2); an orphan gives up
 * sooner (xtcp_orphan_retries()).  Returns 1 if it was.
 */
static int xtcp_write_timeout(struct sock *sk)
{
	struct inet_connection_sock *icsk = inet_csk(sk);
	struct net *net = sock_net(sk);
	int retry_until;

	/*
	 * Stock's SYN-SENT/SYN-RECV branch is for active opens and Fast Open
	 * children, whose retransmit timer goes to the SYN-ACK timer
	 * instead (xtcp_retransmit_timer()): never here.  Past retries1 the
	 * route may be stale: the dst's negative advice drops it if it is
	 * obsolete, redirected or expiring (tcp_mtu_probing()'s black hole
	 * detection is not mirrored).
	 */
	if (xtcp_retransmits_timed_out(sk, READ_ONCE(net->ipv4.sysctl_tcp_retries1), 0))
		__dst_negative_advice(sk);
	retry_until = READ_ONCE(net->ipv4.sysctl_tcp_retries2);
	if (sock_flag(sk, SOCK_DEAD)) {
		const bool alive = icsk->icsk_rto < TCP_RTO_MAX;
		bool do_reset;

		retry_until = xtcp_orphan_retries(sk, alive);
		do_reset = alive ||
			   !xtcp_retransmits_timed_out(sk, retry_until, 0);
		if (xtcp_out_of_resources(sk, do_reset))
			return 1;
	}
	if (xtcp_retransmits_timed_out(sk, retry_until,
				       READ_ONCE(icsk->icsk_user_timeout))) {
		xtcp_write_err(sk);
		return 1;
	}
	/*
	 * A new flow hash after each timeout, so that the next attempt may
	 * take another path (ECMP, a tunnel's source port, a TX queue) if
	 * SO_TXREHASH allows it.
	 */
	if (sk_rethink_txhash(sk)) {
		tcp_sk(sk)->timeout_rehash++;
		xtcp_inc_stats(net, XTCP_MIB_TCPTIMEOUTREHASH);
	}
	return 0;
}

/*
 * tcp_clamp_rto_to_user_timeout(): never wait past TCP_USER_TIMEOUT for
 * the next retransmission; jiffies.
 */
static u32 xtcp_clamp_rto_to_user_timeout(const struct sock *sk)
{
	const struct inet_connection_sock *icsk = inet_csk(sk);
	const struct tcp_sock *tp = tcp_sk(sk);
	u32 elapsed, user_timeout;
	s32 remaining;

	user_timeout = READ_ONCE(icsk->icsk_user_timeout);
	if (!user_timeout)
		return icsk->icsk_rto;
	elapsed = (u32)div_u64(tp->tcp_mstamp, USEC_PER_MSEC) -
		  tp->retrans_stamp;
	remaining = user_timeout - elapsed;
	if (remaining <= 0)
		return 1;
	return min_t(u32, icsk->icsk_rto, msecs_to_jiffies(remaining));
}

/*
 * tcp_rtx_probe0_timed_out(): re-sending into a zero window goes on as
 * long as the peer answers, but not past twice TCP_RTO_MAX without an
 * answer, nor past TCP_USER_TIMEOUT without progress.  6.12's version,
 * whose units are right (6.1 compares jiffies with milliseconds).
 */
static bool xtcp_rtx_probe0_timed_out(const struct sock *sk,
				      const struct sk_buff *skb)
{
	const struct inet_connection_sock *icsk = inet_csk(sk);
	u32 user_timeout = READ_ONCE(icsk->icsk_user_timeout);
	const struct tcp_sock *tp = tcp_sk(sk);
	int timeout = TCP_RTO_MAX * 2;
	u32 rtx_delta;
	s32 rcv_delta;

	rtx_delta = (u32)div_u64(tp->tcp_mstamp, USEC_PER_MSEC) -
		    (tp->retrans_stamp ?:
		     (u32)div_u64(skb->skb_mstamp_ns, NSEC_PER_MSEC));
	if (user_timeout) {
		if (rtx_delta > user_timeout)
			return true;
		timeout = min_t(u32, timeout, msecs_to_jiffies(user_timeout));
	}
	/* The timer may fire late, and rcv_tstamp be newer than its expiry. */
	rcv_delta = icsk->icsk_timeout - tp->rcv_tstamp;
	if (rcv_delta <= timeout)
		return false;
	return msecs_to_jiffies(rtx_delta) > timeout;
}

/*
 * The first timeout of an episode ends what recovery was doing: count
 * which recovery failed (tcp_retransmit_timer()'s mib_idx).
 */
static void xtcp_count_recovery_failure(struct sock *sk)
{
	const struct tcp_sock *tp = tcp_sk(sk);
	int mib;

	switch (inet_csk(sk)->icsk_ca_state) {
	case TCP_CA_Recovery:
		mib = tcp_is_sack(tp) ? XTCP_MIB_TCPSACKRECOVERYFAIL :
					XTCP_MIB_TCPRENORECOVERYFAIL;
		break;
	case TCP_CA_Loss:
		mib = XTCP_MIB_TCPLOSSFAILURES;
		break;
	default:
		if (inet_csk(sk)->icsk_ca_state != TCP_CA_Disorder &&
		    !tp->sacked_out)
			return;
		mib = tcp_is_sack(tp) ? XTCP_MIB_TCPSACKFAILURES :
					XTCP_MIB_TCPRENOFAILURES;
	}
	xtcp_inc_stats(sock_net(sk), mib);
}

/* tcp_stream_is_thin(): under four segments in flight, out of slow start. */
static bool xtcp_stream_is_thin(const struct tcp_sock *tp)
{
	return tp->packets_out < 4 &&
	       tp->snd_ssthresh < TCP_INFINITE_SSTHRESH;
}

/*
 * tcp_fastopen_synack_timer(): a Fast Open child re-sends its SYN-ACK
 * from its own retransmit timer, with the request's backoff (1 s, 2 s,
 * ... from req->timeout), one retry more than a request gets
 * (net.xtcp.synack_retries + 1, or the listener's TCP_SYNCNT the child
 * inherited) since the child may have been accepted already; then it
 * gives up (ETIMEDOUT).  The second timeout enters Loss, lowering cwnd
 * as a SYN-ACK re-sent twice does for a normal child.  A failed send is
 * not a reason to give up sooner.
 */
static void xtcp_fastopen_synack_timer(struct sock *sk,
				       struct request_sock *req)
{
	struct inet_connection_sock *icsk = inet_csk(sk);
	struct tcp_sock *tp = tcp_sk(sk);
	int max_retries;

	req->rsk_ops->syn_ack_timeout(req);
	max_retries = READ_ONCE(icsk->icsk_syn_retries) ? :
		READ_ONCE(xtcp_pernet(sock_net(sk))->sysctl.synack_retries) + 1;
	if (req->num_timeout >= max_retries) {
		xtcp_write_err(sk);
		return;
	}
	if (icsk->icsk_retransmits == 1)
		xtcp_enter_loss(sk);
	xtcp_rtx_syn_ack(sk, req);
	req->num_timeout++;
	/*
	 * 6.12 also counts the timeout in TCP_INFO's total_rto fields
	 * (tcp_update_rto_stats()), which xtcp's RTO does not keep.
	 */
	icsk->icsk_retransmits++;
	if (!tp->retrans_stamp)
		tp->retrans_stamp = (u32)div_u64(tp->tcp_mstamp, USEC_PER_MSEC);
	inet_csk_reset_xmit_timer(sk, ICSK_TIME_RETRANS,
				  req->timeout << req->num_timeout, TCP_RTO_MAX);
}

/*
 * tcp_retransmit_timer(): RFC 6298 5.4-5.6.  Send the oldest unacked
 * segment again, double the RTO (up to TCP_RTO_MAX), restart the timer;
 * the loss state (xtcp_enter_loss()) re-sends the rest as ACKs come.
 * A peer whose window is zero is probed this way without ever timing
 * out, as long as it answers.  A Fast Open child's timer re-sends its
 * SYN-ACK instead, and nothing else, until the third ACK.
 */
static void xtcp_retransmit_timer(struct sock *sk)
{
	struct inet_connection_sock *icsk = inet_csk(sk);
	struct tcp_sock *tp = tcp_sk(sk);
	struct net *net = sock_net(sk);
	struct request_sock *req;
	struct sk_buff *skb;

	req = rcu_dereference_protected(tp->fastopen_rsk,
					lockdep_sock_is_held(sk));
	if (req) {
		WARN_ON_ONCE(sk->sk_state != TCP_SYN_RECV &&
			     sk->sk_state != TCP_FIN_WAIT1);
		xtcp_fastopen_synack_timer(sk, req);
		return;
	}
	if (!tp->packets_out)
		return;
	skb = tcp_rtx_queue_head(sk);
	if (WARN_ON_ONCE(!skb))
		return;
	if (!tp->snd_wnd && !sock_flag(sk, SOCK_DEAD)) {
		/* The peer shrank its window to nothing: keep probing. */
		if (xtcp_rtx_probe0_timed_out(sk, skb)) {
			xtcp_write_err(sk);
			return;
		}
		xtcp_enter_loss(sk);
		xtcp_retransmit_skb(sk, skb, 1);
		__sk_dst_reset(sk);
		goto out_reset_timer;
	}
	xtcp_inc_stats(net, XTCP_MIB_TIMEOUTS);
	if (xtcp_write_timeout(sk))
		return;
	if (icsk->icsk_retransmits == 0)
		xtcp_count_recovery_failure(sk);
	xtcp_enter_loss(sk);
	icsk->icsk_retransmits++;
	if (xtcp_retransmit_skb(sk, tcp_rtx_queue_head(sk), 1) > 0) {
		/* Local congestion: try again soon, without backing off. */
		inet_csk_reset_xmit_timer(sk, ICSK_TIME_RETRANS,
					  TCP_RESOURCE_PROBE_INTERVAL,
					  TCP_RTO_MAX);
		return;
	}
out_reset_timer:
	/*
	 * A thin stream (fewer than four segments in flight, past the
	 * initial slow start) that asked for it (TCP_THIN_LINEAR_TIMEOUTS or
	 * net.ipv4.tcp_thin_linear_timeouts) retries at its RTO unbacked
	 * for TCP_THIN_LINEAR_RETRIES (6) timeouts, then backs off: a
	 * stream that sends little would otherwise wait out doublings a
	 * fast retransmit would spare a bulk one (RFC 6298 leaves the
	 * backoff to the implementer).
	 */
	if (sk->sk_state == TCP_ESTABLISHED &&
	    (tp->thin_lto ||
	     READ_ONCE(net->ipv4.sysctl_tcp_thin_linear_timeouts)) &&
	    xtcp_stream_is_thin(tp) &&
	    icsk->icsk_retransmits <= TCP_THIN_LINEAR_RETRIES) {
		icsk->icsk_backoff = 0;
		icsk->icsk_rto = clamp(__xtcp_set_rto(tp), tcp_rto_min(sk),
				       TCP_RTO_MAX);
	} else {
		icsk->icsk_backoff++;
		icsk->icsk_rto = min(icsk->icsk_rto << 1, TCP_RTO_MAX);
	}
	inet_csk_reset_xmit_timer(sk, ICSK_TIME_RETRANS,
				  xtcp_clamp_rto_to_user_timeout(sk),
				  TCP_RTO_MAX);
	if (xtcp_retransmits_timed_out(sk, READ_ONCE(net->ipv4.sysctl_tcp_retries1) + 1, 0))
		__sk_dst_reset(sk);
}

/**
 * xtcp_ld_RTO_revert - take back one RTO doubling for an unreachable path
 * @sk:  the connection, bh-locked (xtcp_v4_err_conn())
 * @seq: the sequence number the ICMP error quotes
 *
 * tcp_ld_RTO_revert(), RFC 6069: an ICMP net or host unreachable that
 * quotes SND.UNA while the RTO is backed off says the segment was lost
 * on a broken path, not to congestion, so one doubling is undone: the
 * RTO is recomputed from SRTT (TCP_TIMEOUT_INIT without a sample, and
 * as stock without the tcp_rto_min() clamp), backed off one step less,
 * and the timer re-armed for what is left of it since the segment was
 * sent, or the segment re-sent now if nothing is.  Not while a process
 * owns the socket (its timers may be deferred).
 *
 * Context: softirq, the socket spinlock held, no owner.
 */
void xtcp_ld_RTO_revert(struct sock *sk, u32 seq)
{
	struct inet_connection_sock *icsk = inet_csk(sk);
	struct tcp_sock *tp = tcp_sk(sk);
	struct sk_buff *skb;
	s32 remaining;
	u32 delta_us;

	if (sock_owned_by_user(sk))
		return;
	if (seq != tp->snd_una || !icsk->icsk_retransmits ||
	    !icsk->icsk_backoff)
		return;
	skb = tcp_rtx_queue_head(sk);
	if (WARN_ON_ONCE(!skb))
		return;

	icsk->icsk_backoff--;
	icsk->icsk_rto = tp->srtt_us ? __xtcp_set_rto(tp) : TCP_TIMEOUT_INIT;
	icsk->icsk_rto = inet_csk_rto_backoff(icsk, TCP_RTO_MAX);

	xtcp_mstamp_refresh(tp);
	delta_us = (u32)(tp->tcp_mstamp - tcp_skb_timestamp_us(skb));
	remaining = icsk->icsk_rto - usecs_to_jiffies(delta_us);
	if (remaining > 0)
		inet_csk_reset_xmit_timer(sk, ICSK_TIME_RETRANS, remaining,
					  TCP_RTO_MAX);
	else
		xtcp_retransmit_timer(sk);	/* the revert clocked it out */
}

/*
 * tcp_probe_timer(): probe a zero window for as long as the peer
 * answers (RFC 1122 4.2.2.17); only TCP_USER_TIMEOUT, or tcp_retries2
 * unanswered probes (an orphan's xtcp_orphan_retries()), end the
 * connection.
 */
static void xtcp_probe_timer(struct sock *sk)
{
	struct inet_connection_sock *icsk = inet_csk(sk);
	struct sk_buff *skb = xtcp_send_head(sk);
	struct tcp_sock *tp = tcp_sk(sk);
	int max_probes;

	if (tp->packets_out || !skb) {
		icsk->icsk_probes_out = 0;
		icsk->icsk_probes_tstamp = 0;
		return;
	}
	if (!icsk->icsk_probes_tstamp) {
		icsk->icsk_probes_tstamp = tcp_jiffies32;
	} else {
		u32 user_timeout = READ_ONCE(icsk->icsk_user_timeout);

		if (user_timeout &&
		    (s32)(tcp_jiffies32 - icsk->icsk_probes_tstamp) >=
		    msecs_to_jiffies(user_timeout))
			goto abort;
	}
	max_probes = READ_ONCE(sock_net(sk)->ipv4.sysctl_tcp_retries2);
	if (sock_flag(sk, SOCK_DEAD)) {
		/* An orphan is not probed forever. */
		const bool alive = xtcp_probe0_when(sk, TCP_RTO_MAX) <
				   TCP_RTO_MAX;

		max_probes = xtcp_orphan_retries(sk, alive);
		if (!alive && icsk->icsk_backoff >= max_probes)
			goto abort;
		if (xtcp_out_of_resources(sk, true))
			return;
	}
	if (icsk->icsk_probes_out >= max_probes) {
abort:
		xtcp_write_err(sk);
	} else {
		xtcp_send_probe0(sk);
	}
}

/*
 * tcp_write_timer_handler(): which of the four jobs of the retransmit
 * timer is due: RACK's reordering wait, the tail loss probe, the RTO or
 * the zero-window probe.  A timer that fired early (re-armed later meanwhile)
 * is set again.
 */
static void xtcp_write_timer_handler(struct sock *sk)
{
	struct inet_connection_sock *icsk = inet_csk(sk);
	int event;

	if (((1 << sk->sk_state) & (TCPF_CLOSE | TCPF_LISTEN)) ||
	    !icsk->icsk_pending)
		return;
	if (time_after(icsk->icsk_timeout, jiffies)) {
		sk_reset_timer(sk, &icsk->icsk_retransmit_timer,
			       icsk->icsk_timeout);
		return;
	}
	xtcp_mstamp_refresh(tcp_sk(sk));
	event = icsk->icsk_pending;
	switch (event) {
	case ICSK_TIME_REO_TIMEOUT:
		xtcp_rack_reo_timeout(sk);
		break;
	case ICSK_TIME_LOSS_PROBE:
		xtcp_send_loss_probe(sk);
		break;
	case ICSK_TIME_RETRANS:
		icsk->icsk_pending = 0;
		xtcp_retransmit_timer(sk);
		break;
	case ICSK_TIME_PROBE0:
		icsk->icsk_pending = 0;
		xtcp_probe_timer(sk);
		break;
	}
}

/* tcp_write_timer(): the owner, if any, runs it from release_sock(). */
static void xtcp_write_timer(struct timer_list *t)
{
	struct inet_connection_sock *icsk =
			from_timer(icsk, t, icsk_retransmit_timer);
	struct sock *sk = &icsk->icsk_inet.sk;

	bh_lock_sock(sk);
	if (!sock_owned_by_user(sk)) {
		xtcp_write_timer_handler(sk);
	} else if (!test_and_set_bit(TCP_WRITE_TIMER_DEFERRED,
				     &sk->sk_tsq_flags)) {
		sock_hold(sk);
	}
	bh_unlock_sock(sk);
	sock_put(sk);
}

/*
 * tcp_delack_timer_handler(): the delayed ACK is due.  If it was still
 * owed, the ACK clock was too slow: grow ato (bounded, compat.h), or for
 * an interactive connection, whose reply did not come to carry the ACK,
 * stop treating it as interactive.
 */
static void xtcp_delack_timer_handler(struct sock *sk)
{
	struct inet_connection_sock *icsk = inet_csk(sk);

	if ((1 << sk->sk_state) & (TCPF_CLOSE | TCPF_LISTEN))
		return;
	/* SACK compression's timer, deferred by xtcp_compressed_ack_kick(). */
	if (tcp_sk(sk)->compressed_ack) {
		xtcp_mstamp_refresh(tcp_sk(sk));
		xtcp_sack_compress_send_ack(sk);
		return;
	}
	if (!(icsk->icsk_ack.pending & ICSK_ACK_TIMER))
		return;
	if (time_after(icsk->icsk_ack.timeout, jiffies)) {
		sk_reset_timer(sk, &icsk->icsk_delack_timer,
			       icsk->icsk_ack.timeout);
		return;
	}
	icsk->icsk_ack.pending &= ~ICSK_ACK_TIMER;
	if (!inet_csk_ack_scheduled(sk))
		return;
	if (!inet_csk_in_pingpong_mode(sk)) {
		icsk->icsk_ack.ato = xtcp_ato_bound(sk,
						    (u32)icsk->icsk_ack.ato << 1);
	} else {
		inet_csk_exit_pingpong_mode(sk);
		icsk->icsk_ack.ato = TCP_ATO_MIN;
	}
	xtcp_mstamp_refresh(tcp_sk(sk));
	xtcp_send_ack(sk);
	xtcp_inc_stats(sock_net(sk), XTCP_MIB_DELAYEDACKS);
}

/*
 * tcp_delack_timer(): a process that owns the socket gets the work in
 * release_sock() (xtcp_release_cb()), which the deferred flag's own
 * reference keeps the socket alive for.
 */
static void xtcp_delack_timer(struct timer_list *t)
{
	struct inet_connection_sock *icsk =
			from_timer(icsk, t, icsk_delack_timer);
	struct sock *sk = &icsk->icsk_inet.sk;

	bh_lock_sock(sk);
	if (!sock_owned_by_user(sk)) {
		xtcp_delack_timer_handler(sk);
	} else {
		xtcp_inc_stats(sock_net(sk), XTCP_MIB_DELAYEDACKLOCKED);
		if (!test_and_set_bit(TCP_DELACK_TIMER_DEFERRED,
				      &sk->sk_tsq_flags))
			sock_hold(sk);
	}
	bh_unlock_sock(sk);
	sock_put(sk);
}

/**
 * xtcp_release_cb - work deferred while the owner held the socket
 * @sk: the socket, still owned; called by release_sock() with the
 *      spinlock held and softirqs off
 *
 * tcp_release_cb() for the pacing timer (first, as stock: what it held
 * back is due), the retransmit and delayed-ACK timers and a
 * path-MTU drop (ICMP fragmentation needed), whose deferred flags hold
 * a reference given back here after the work, and for the ACK that
 * xtcp_ack_snd_check() left to us (compat.h).
 */
void xtcp_release_cb(struct sock *sk)
{
	if (test_and_clear_bit(TCP_TSQ_DEFERRED, &sk->sk_tsq_flags)) {
		xtcp_tsq_write(sk);
		__sock_put(sk);
	}
	if (test_and_clear_bit(TCP_WRITE_TIMER_DEFERRED, &sk->sk_tsq_flags)) {
		xtcp_write_timer_handler(sk);
		__sock_put(sk);
	}
	if (test_and_clear_bit(TCP_MTU_REDUCED_DEFERRED, &sk->sk_tsq_flags)) {
		xtcp_v4_mtu_reduced(sk);
		__sock_put(sk);
	}
	if (test_and_clear_bit(TCP_DELACK_TIMER_DEFERRED, &sk->sk_tsq_flags)) {
		xtcp_delack_timer_handler(sk);
		__sock_put(sk);
	}
	if (xtcp_take_deferred_ack(sk) && inet_csk_ack_scheduled(sk))
		xtcp_send_ack(sk);
}

/*
 * tcp_compressed_ack_kick(): the ACKs SACK compression held are due
 * (data.c, xtcp_sack_compress()).  A soft hrtimer, so this runs in
 * softirq context; the reference taken when it was started is given
 * back here.  One of the held ACKs is the one sent.  If a process owns
 * the socket, the delayed-ACK handler does it from release_sock().
 */
static enum hrtimer_restart xtcp_compressed_ack_kick(struct hrtimer *timer)
{
	struct tcp_sock *tp = container_of(timer, struct tcp_sock,
					   compressed_ack_timer);
	struct sock *sk = (struct sock *)tp;

	bh_lock_sock(sk);
	if (!sock_owned_by_user(sk)) {
		if (tp->compressed_ack) {
			tp->compressed_ack--;
			xtcp_send_ack(sk);
		}
	} else if (!test_and_set_bit(TCP_DELACK_TIMER_DEFERRED,
				     &sk->sk_tsq_flags)) {
		sock_hold(sk);
	}
	bh_unlock_sock(sk);
	sock_put(sk);
	return HRTIMER_NORESTART;
}

/**
 * xtcp_set_keepalive - proto.keepalive: SO_KEEPALIVE changed (tcp_set_keepalive())
 * @sk:  the socket, locked by sock_setsockopt()
 * @val: the new value; sock_setsockopt() sets SOCK_KEEPOPEN after this
 *
 * A connection starts its keepalive timer, the full idle time
 * (TCP_KEEPIDLE) from now, or stops it.  Listeners and closed sockets
 * have none; a listener's children inherit the flag and start theirs
 * when they are created.
 */
void xtcp_set_keepalive(struct sock *sk, int val)
{
	if ((1 << sk->sk_state) & (TCPF_CLOSE | TCPF_LISTEN))
		return;
	if (val && !sock_flag(sk, SOCK_KEEPOPEN))
		inet_csk_reset_keepalive_timer(sk,
					       xtcp_keepalive_time_when(tcp_sk(sk)));
	else if (!val)
		inet_csk_delete_keepalive_timer(sk);
}

/*
 * The keepalive part of tcp_keepalive_timer(): after TCP_KEEPIDLE
 * without a segment or ACK from the peer and nothing in flight, a probe
 * (RFC 1122 4.2.3.6: a bare ACK one below SND.UNA, which the peer must
 * answer), then one each TCP_KEEPINTVL; TCP_KEEPCNT unanswered probes,
 * or TCP_USER_TIMEOUT once one was sent, abort with ETIMEDOUT and a RST.
 * Any ACK resets icsk_probes_out (xtcp_ack()).  Jiffies throughout.
 */
static void xtcp_keepalive_probe(struct sock *sk)
{
	struct inet_connection_sock *icsk = inet_csk(sk);
	struct tcp_sock *tp = tcp_sk(sk);
	u32 elapsed, user_timeout;

	/* Data in flight or queued: the retransmit timer watches the peer. */
	if (tp->packets_out || !tcp_write_queue_empty(sk)) {
		elapsed = xtcp_keepalive_time_when(tp);
		goto resched;
	}
	elapsed = xtcp_keepalive_time_elapsed(tp);
	if (elapsed < xtcp_keepalive_time_when(tp)) {
		/* rcv_tstamp + TCP_KEEPIDLE is still ahead. */
		elapsed = xtcp_keepalive_time_when(tp) - elapsed;
		goto resched;
	}
	user_timeout = READ_ONCE(icsk->icsk_user_timeout);
	if ((user_timeout && elapsed >= msecs_to_jiffies(user_timeout) &&
	     icsk->icsk_probes_out > 0) ||
	    (!user_timeout &&
	     icsk->icsk_probes_out >= xtcp_keepalive_probes(tp))) {
		xtcp_send_active_reset(sk);
		xtcp_write_err(sk);
		return;
	}
	if (xtcp_write_wakeup(sk, XTCP_MIB_TCPKEEPALIVE) <= 0) {
		icsk->icsk_probes_out++;
		elapsed = xtcp_keepalive_intvl_when(tp);
	} else {
		/* The probe was lost to local congestion: try harder. */
		elapsed = TCP_RESOURCE_PROBE_INTERVAL;
	}
resched:
	inet_csk_reset_keepalive_timer(sk, elapsed);
}

/*
 * tcp_keepalive_timer(): the socket's sk_timer serves two purposes.  An
 * orphan in FIN-WAIT-2 that waited net.ipv4.tcp_fin_timeout for the
 * peer's FIN goes, silently as stock's timewait sock would (a negative
 * TCP_LINGER2 resets it); a connection with SO_KEEPALIVE probes an idle
 * peer.  An owner holding the socket makes it try again soon.  The
 * timer's reference is given back here.
 */
static void xtcp_keepalive_timer(struct timer_list *t)
{
	struct inet_connection_sock *icsk =
			from_timer(icsk, t, icsk_keepalive_timer);
	struct sock *sk = &icsk->icsk_inet.sk;

	bh_lock_sock(sk);
	if (sock_owned_by_user(sk)) {
		inet_csk_reset_keepalive_timer(sk, HZ / 20);
		goto out;
	}
	if (sk->sk_state == TCP_LISTEN)
		goto out;
	xtcp_mstamp_refresh(tcp_sk(sk));
	if (sk->sk_state == TCP_FIN_WAIT2 && sock_flag(sk, SOCK_DEAD)) {
		/* The rest of the wait, 60 s at most, as a timewait sock. */
		if (READ_ONCE(tcp_sk(sk)->linger2) >= 0) {
			const int tmo = xtcp_fin_time(sk) - TCP_TIMEWAIT_LEN;

			if (tmo > 0) {
				xtcp_time_wait(sk, TCP_FIN_WAIT2, tmo);
				goto out;
			}
		}
		xtcp_send_active_reset(sk);
		xtcp_done(sk);
		goto out;
	}
	if (sock_flag(sk, SOCK_KEEPOPEN) &&
	    !((1 << sk->sk_state) & (TCPF_CLOSE | TCPF_SYN_SENT)))
		xtcp_keepalive_probe(sk);
out:
	bh_unlock_sock(sk);
	sock_put(sk);
}

/**
 * xtcp_init_xmit_timers - set up a socket's timers (tcp_init_xmit_timers())
 * @sk: a new socket (xtcp_init_sock()) or child (xtcp_csk_clone_lock()),
 *      not yet visible to any other CPU
 *
 * A child's timer_list structs are copies of its listener's and must be
 * set up again, as tcp_create_openreq_child() does.
 */
XTCP_SEED void xtcp_init_xmit_timers(struct sock *sk)
{
	struct tcp_sock *tp = tcp_sk(sk);

	inet_csk_init_xmit_timers(sk, &xtcp_write_timer, &xtcp_delack_timer,
				  &xtcp_keepalive_timer);
	hrtimer_init(&tp->compressed_ack_timer, CLOCK_MONOTONIC,
		     HRTIMER_MODE_REL_PINNED_SOFT);
	tp->compressed_ack_timer.function = xtcp_compressed_ack_kick;
	hrtimer_init(&tp->pacing_timer, CLOCK_MONOTONIC,
		     HRTIMER_MODE_ABS_PINNED_SOFT);
	tp->pacing_timer.function = xtcp_pace_kick;
}

/**
 * xtcp_clear_xmit_timers - stop a socket's timers (tcp_clear_xmit_timers())
 * @sk: the socket, locked, or its last user
 *
 * A pending timer's reference is dropped with it.  A handler already
 * running on another CPU keeps its own and gives it back itself; it
 * finds the socket closed (xtcp_send_ack() does nothing then).
 */
void xtcp_clear_xmit_timers(struct sock *sk)
{
	if (hrtimer_try_to_cancel(&tcp_sk(sk)->pacing_timer) == 1)
		__sock_put(sk);
	if (hrtimer_try_to_cancel(&tcp_sk(sk)->compressed_ack_timer) == 1)
		__sock_put(sk);
	inet_csk_clear_xmit_timers(sk);
}
