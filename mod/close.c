// SPDX-License-Identifier: GPL-2.0
/*
 * xtcp: how a connection ends on our side: close(), shutdown(SHUT_WR),
 * the FIN, and the orphans close() leaves behind.
 *
 * Mirrors tcp_close_state(), tcp_shutdown(), __tcp_close() and
 * tcp_check_oom() (net/ipv4/tcp.c), and inet_csk_destroy_sock()
 * (net/ipv4/inet_connection_sock.c), which would call stock's
 * sk_prot->destroy and count stock's orphans.
 *
 * close() of a connection queues our FIN after the data (RFC 9293
 * 3.10.4): ESTABLISHED goes to FIN-WAIT-1, CLOSE-WAIT to LAST-ACK, and
 * the socket lives on as an orphan (SOCK_DEAD, no file) until the
 * peer's ACKs and FIN end it (established.c).  It is reset instead if
 * unread data is dropped (RFC 2525 2.17) or SO_LINGER is {1, 0}.  An
 * orphan in FIN-WAIT-2 waits net.ipv4.tcp_fin_timeout (TCP_LINGER2)
 * for the peer's FIN; too many orphans, or memory past tcp_mem's high
 * mark, reset it.
 *
 * Context: process, socket lock taken here; an orphan's end
 * (xtcp_csk_destroy_sock()) runs in softirq or a timer.
 */
#include <net/inet_common.h>
#include <net/sock.h>
#include <net/tcp.h>

#include "xtcp.h"

/* Orphans of all namespaces, as stock counts tcp_orphan_count. */
static DEFINE_PER_CPU(unsigned int, xtcp_orphan_count);

static void xtcp_orphan_count_inc(void)
{
	this_cpu_inc(xtcp_orphan_count);
}

static void xtcp_orphan_count_dec(void)
{
	this_cpu_dec(xtcp_orphan_count);
}

/**
 * xtcp_orphan_count_sum - orphans of all namespaces (tcp_orphan_count_sum())
 *
 * Read where stock reads its cached copy, and by /proc/net/xtcp_sockstat.
 * Return: the sum over CPUs, at least 0.
 */
int xtcp_orphan_count_sum(void)
{
	int i, total = 0;

	for_each_possible_cpu(i)
		total += per_cpu(xtcp_orphan_count, i);
	return max(total, 0);
}

/**
 * xtcp_check_oom - should an orphan be reset to save memory? (tcp_check_oom())
 * @sk:    the orphan, locked
 * @shift: doubles the orphan count per unit (a harsher test)
 *
 * Too many orphans (net.xtcp.max_orphans) or, for an orphan with more
 * than SOCK_MIN_SNDBUF queued, xtcp's pool past its high mark.
 *
 * Return: true if it should go.
 */
bool xtcp_check_oom(const struct sock *sk, int shift)
{
	int max = READ_ONCE(xtcp_pernet(sock_net(sk))->sysctl.max_orphans);
	bool too_many_orphans = xtcp_orphan_count_sum() << shift > max;
	bool out_of_memory = sk->sk_wmem_queued > SOCK_MIN_SNDBUF &&
			     sk_memory_allocated(sk) > sk_prot_mem_limits(sk, 2);

	if (too_many_orphans)
		net_info_ratelimited("xtcp: too many orphaned sockets\n");
	if (out_of_memory)
		net_info_ratelimited("xtcp: out of memory -- consider tuning net.xtcp.mem\n");
	return too_many_orphans || out_of_memory;
}

/**
 * xtcp_csk_destroy_sock - free an orphan that reached TCP_CLOSE
 * @sk: the orphan (SOCK_DEAD), locked, unhashed, its port given back
 *
 * inet_csk_destroy_sock() with tcp_v4_destroy_sock()'s share: the
 * queues go, the orphan is no longer counted, and close()'s reference
 * is dropped, the last one unless a lookup holds the socket.
 *
 * Context: softirq, a timer, or close() itself.
 */
void xtcp_csk_destroy_sock(struct sock *sk)
{
	WARN_ON(sk->sk_state != TCP_CLOSE);
	WARN_ON(!sock_flag(sk, SOCK_DEAD));
	WARN_ON(!sk_unhashed(sk));
	/*
	 * What a disconnect() kept goes now: a port SO_BINDPORT_LOCK held,
	 * and the algorithm with its module reference.
	 */
	xtcp_put_port(sk);
	xtcp_cleanup_congestion_control(sk);
	xtcp_write_queue_purge(sk);
	xtcp_purge_ofo_queue(sk);
	sk_stream_kill_queues(sk);
	xtcp_orphan_count_dec();
	sock_put(sk);
}

/**
 * xtcp_csk_prepare_for_destroy_sock - an orphan from now on
 * @sk: a socket that will be destroyed without ever being close()d
 *
 * inet_csk_prepare_for_destroy_sock(): SOCK_DEAD, counted as an orphan,
 * so that xtcp_done() destroys it through xtcp_csk_destroy_sock() and
 * the count comes back.  A child cloned from a listener that close() is
 * ending may have copied the listener's SOCK_DEAD already (sk_clone_lock()
 * copies the flags): setting it here, before xtcp_done(), makes the
 * reference count the same either way.
 *
 * Context: @sk locked or not yet visible.
 */
void xtcp_csk_prepare_for_destroy_sock(struct sock *sk)
{
	sock_set_flag(sk, SOCK_DEAD);
	xtcp_orphan_count_inc();
}

/**
 * xtcp_csk_prepare_forced_close - give up a child that never lived
 * @sk: the child, as xtcp_csk_clone_lock() returned it: bh-locked, two
 *      references
 *
 * inet_csk_prepare_forced_close(): unlock, drop the clone's extra
 * reference, make it an orphan; the caller's xtcp_done() destroys it
 * and drops the last.  The child owns no port (inet_num only copied).
 *
 * Context: softirq.
 */
void xtcp_csk_prepare_forced_close(struct sock *sk)
	__releases(&sk->sk_lock.slock)
{
	bh_unlock_sock(sk);
	sock_put(sk);
	xtcp_csk_prepare_for_destroy_sock(sk);
	inet_sk(sk)->inet_num = 0;
}

/*
 * tcp_close_state()'s table: where closing leads from each state, and
 * whether a FIN must go out (RFC 9293 3.10.4).  Linux moves to the next
 * state when the FIN is queued, not when it is sent.
 */
#define XTCP_ACTION_FIN	BIT(7)

static const u8 xtcp_new_state[TCP_MAX_STATES] = {
	[0]			= TCP_CLOSE,
	[TCP_ESTABLISHED]	= TCP_FIN_WAIT1 | XTCP_ACTION_FIN,
	[TCP_SYN_SENT]		= TCP_CLOSE,
	[TCP_SYN_RECV]		= TCP_FIN_WAIT1 | XTCP_ACTION_FIN,
	[TCP_FIN_WAIT1]		= TCP_FIN_WAIT1,
	[TCP_FIN_WAIT2]		= TCP_FIN_WAIT2,
	[TCP_TIME_WAIT]		= TCP_CLOSE,
	[TCP_CLOSE]		= TCP_CLOSE,
	[TCP_CLOSE_WAIT]	= TCP_LAST_ACK | XTCP_ACTION_FIN,
	[TCP_LAST_ACK]		= TCP_LAST_ACK,
	[TCP_LISTEN]		= TCP_CLOSE,
	[TCP_CLOSING]		= TCP_CLOSING,
	[TCP_NEW_SYN_RECV]	= TCP_CLOSE,
};

/* tcp_close_state(): take the next state; true if a FIN is due. */
static bool xtcp_close_state(struct sock *sk)
{
	u8 next = xtcp_new_state[sk->sk_state];

	inet_sk_set_state(sk, next & ~XTCP_ACTION_FIN);
	return next & XTCP_ACTION_FIN;
}

/**
 * xtcp_shutdown_send - shutdown(SHUT_WR) of a connection (tcp_shutdown())
 * @sk:  the connection, locked
 * @how: the shutdown mask being added
 *
 * Our FIN goes after what is queued; a connection that sent it already
 * or is not synchronized has nothing to do.
 */
void xtcp_shutdown_send(struct sock *sk, int how)
{
	if (!(how & SEND_SHUTDOWN))
		return;
	if ((1 << sk->sk_state) &
	    (TCPF_ESTABLISHED | TCPF_SYN_SENT | TCPF_CLOSE_WAIT) &&
	    xtcp_close_state(sk))
		xtcp_send_fin(sk);
}

/*
 * tcp_close()'s first step: drop what the user never read.  True if some
 * of it was data (a FIN is not).
 */
static bool xtcp_purge_unread(struct sock *sk)
{
	bool data_was_unread = false;
	struct sk_buff *skb;

	while ((skb = __skb_dequeue(&sk->sk_receive_queue)) != NULL) {
		u32 end_seq = TCP_SKB_CB(skb)->end_seq;

		if (TCP_SKB_CB(skb)->tcp_flags & TCPHDR_FIN)
			end_seq--;
		if (after(end_seq, tcp_sk(sk)->copied_seq))
			data_was_unread = true;
		__kfree_skb(skb);
	}
	return data_was_unread;
}

/*
 * Abort a connection from close(): the state first, so that the RST is
 * its last segment, then the RST itself (tcp_set_state(TCP_CLOSE) and
 * tcp_send_active_reset()).
 */
static void xtcp_close_reset(struct sock *sk, enum xtcp_mib mib)
{
	/* From close(): stock TCP gets the port back before close() returns. */
	if (!sock_flag(sk, SOCK_DEAD))
		xtcp_fence_unpin(sk, true);
	xtcp_inc_stats(sock_net(sk), mib);
	xtcp_send_active_reset(sk);
	xtcp_done(sk);
}

/*
 * The orphan's fate, once close() let go (__tcp_close()'s
 * adjudge_to_death, with the socket spinlock held and BHs off): a
 * FIN-WAIT-2 orphan gets net.ipv4.tcp_fin_timeout (or TCP_LINGER2) to
 * hear the peer's FIN, or a RST at once if TCP_LINGER2 is negative;
 * memory pressure resets any orphan; one already closed is freed.
 */
static void xtcp_adjudge_orphan(struct sock *sk, int state)
{
	int tmo;

	/* Destroyed meanwhile by a segment from the backlog? */
	if (state != TCP_CLOSE && sk->sk_state == TCP_CLOSE)
		return;
	if (sk->sk_state == TCP_FIN_WAIT2) {
		if (READ_ONCE(tcp_sk(sk)->linger2) < 0) {
			xtcp_close_reset(sk, XTCP_MIB_TCPABORTONLINGER);
			return;
		}
		/*
		 * What exceeds TIME-WAIT's 60 s the full socket waits
		 * (xtcp_keepalive_timer()), the rest a timewait sock in
		 * FIN-WAIT-2, which no orphan limit touches.
		 */
		tmo = xtcp_fin_time(sk);
		if (tmo <= TCP_TIMEWAIT_LEN) {
			xtcp_time_wait(sk, TCP_FIN_WAIT2, tmo);
			return;
		}
		inet_csk_reset_keepalive_timer(sk, tmo - TCP_TIMEWAIT_LEN);
	}
	if (sk->sk_state != TCP_CLOSE && xtcp_check_oom(sk, 0)) {
		xtcp_close_reset(sk, XTCP_MIB_TCPABORTONMEMORY);
		return;
	}
	if (sk->sk_state == TCP_CLOSE) {
		struct request_sock *req =
			rcu_dereference_protected(tcp_sk(sk)->fastopen_rsk,
						  lockdep_sock_is_held(sk));

		/* A Fast Open child aborted before its third ACK. */
		if (req)
			xtcp_reqsk_fastopen_remove(sk, req, false);
		xtcp_csk_destroy_sock(sk);
	}
}

/**
 * xtcp_close - proto.close: the last file reference went (tcp_close())
 * @sk:      the socket
 * @timeout: SO_LINGER time to wait for our data to be acknowledged,
 *           jiffies, or 0
 *
 * A listener's port goes back at once (it leaves no TIME_WAIT), in our
 * table first and then in stock TCP's, before close() returns; its
 * queues are reset and freed.  A connection: see the top of this file.
 *
 * Context: process; takes the socket lock.  Sleeps up to @timeout.
 */
void xtcp_close(struct sock *sk, long timeout)
{
	bool data_was_unread;
	int state;

	lock_sock(sk);
	WRITE_ONCE(sk->sk_shutdown, SHUTDOWN_MASK);
	if (sk->sk_state == TCP_LISTEN) {
		xtcp_csk_listen_stop(sk);
		xtcp_done(sk);
		goto adjudge_to_death;
	}
	data_was_unread = xtcp_purge_unread(sk);
	if (sk->sk_state == TCP_CLOSE)
		goto adjudge_to_death;
	if (data_was_unread) {
		/* RFC 2525 2.17: data was lost, say so. */
		xtcp_close_reset(sk, XTCP_MIB_TCPABORTONCLOSE);
	} else if (sock_flag(sk, SOCK_LINGER) && !sk->sk_lingertime) {
		/* SO_LINGER {1, 0}: an abort, after the unread-data test. */
		sk->sk_prot->disconnect(sk, 0);
		xtcp_inc_stats(sock_net(sk), XTCP_MIB_TCPABORTONDATA);
	} else if (xtcp_close_state(sk)) {
		xtcp_send_fin(sk);
	}
	sk_stream_wait_close(sk, timeout);

adjudge_to_death:
	state = sk->sk_state;
	if (state == TCP_CLOSE) {
		/* Process context: the pin and the owned fence go now. */
		xtcp_fence_unpin(sk, true);
		xtcp_fence_release(sk);
	}
	sock_hold(sk);
	sock_orphan(sk);
	/*
	 * What the backlog holds, without giving up ownership (stock calls
	 * __release_sock() under the spinlock; the kernel exports only this
	 * wrapper).  Later arrivals wait for release_sock().
	 */
	sk_flush_backlog(sk);
	local_bh_disable();
	bh_lock_sock(sk);
	xtcp_orphan_count_inc();
	xtcp_adjudge_orphan(sk, state);
	bh_unlock_sock(sk);
	local_bh_enable();
	release_sock(sk);
	sock_put(sk);
}
