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

/* The retries left to old requests when young ones need the room. */
static int xtcp_synack_retries(const struct sock *sk_listener)
{
	const struct request_sock_queue *queue =
		&inet_csk(sk_listener)->icsk_accept_queue;
	int max_retries, qlen, young;

	max_retries = READ_ONCE(xtcp_pernet(sock_net(sk_listener))->sysctl.synack_retries);
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

	if (inet_sk_state_load(sk_listener) != TCP_LISTEN) {
		nreq = xtcp_reqsk_timer_migrate(req);
		if (!nreq)
			goto drop;
		req = nreq;
		sk_listener = nreq->rsk_listener;
	}

	queue = &inet_csk(sk_listener)->icsk_accept_queue;
	req->rsk_ops->syn_ack_timeout(req);
	/* An ACKed request (full accept queue) is kept, SYN-ACK or not. */
	if (req->num_timeout < xtcp_synack_retries(sk_listener) &&
	    (!xtcp_rtx_syn_ack(sk_listener, req) || inet_rsk(req)->acked)) {
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
 * icsk_retransmit_timer, icsk_delack_timer and icsk_keepalive_timer,
 * and the compressed_ack_timer hrtimer.  A timer armed through
 * sk_reset_timer() or started by xtcp_sack_compress() holds a reference
 * on the socket; each handler gives it back at its end, as stock's do.
 * xtcp_done() and disconnect stop them (xtcp_clear_xmit_timers(), as
 * tcp_done() and tcp_disconnect() do), so none outlives the connection.
 *
 * The retransmit and keepalive timers have no work until the send path
 * and keepalive land, but generic code can arm the latter: on 6.12 a
 * cgroup/setsockopt BPF program's bpf_setsockopt(SOL_TCP, TCP_KEEPIDLE)
 * reaches inet_csk_reset_keepalive_timer() on a connection with
 * SO_KEEPALIVE.
 */
static void xtcp_write_timer(struct timer_list *t)
{
	struct inet_connection_sock *icsk =
			from_timer(icsk, t, icsk_retransmit_timer);

	sock_put(&icsk->icsk_inet.sk);
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
 * tcp_release_cb() for the delayed-ACK timer, whose deferred flag holds
 * a reference given back here after the work, and for the ACK that
 * xtcp_ack_snd_check() left to us (compat.h).
 */
void xtcp_release_cb(struct sock *sk)
{
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

static void xtcp_keepalive_timer(struct timer_list *t)
{
	struct inet_connection_sock *icsk =
			from_timer(icsk, t, icsk_keepalive_timer);

	sock_put(&icsk->icsk_inet.sk);
}

/**
 * xtcp_init_xmit_timers - set up a socket's timers (tcp_init_xmit_timers())
 * @sk: a new socket (xtcp_init_sock()) or child (xtcp_csk_clone_lock()),
 *      not yet visible to any other CPU
 *
 * A child's timer_list structs are copies of its listener's and must be
 * set up again, as tcp_create_openreq_child() does.
 */
void xtcp_init_xmit_timers(struct sock *sk)
{
	struct tcp_sock *tp = tcp_sk(sk);

	inet_csk_init_xmit_timers(sk, &xtcp_write_timer, &xtcp_delack_timer,
				  &xtcp_keepalive_timer);
	hrtimer_init(&tp->compressed_ack_timer, CLOCK_MONOTONIC,
		     HRTIMER_MODE_REL_PINNED_SOFT);
	tp->compressed_ack_timer.function = xtcp_compressed_ack_kick;
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
	if (hrtimer_try_to_cancel(&tcp_sk(sk)->compressed_ack_timer) == 1)
		__sock_put(sk);
	inet_csk_clear_xmit_timers(sk);
}
