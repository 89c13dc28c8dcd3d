// SPDX-License-Identifier: GPL-2.0
/*
 * xtcp: what a writer of a connection does: sendmsg(), and the wake-up
 * when room comes back.
 *
 * Mirrors tcp_sendmsg(), tcp_sendmsg_locked(), tcp_push(),
 * tcp_stream_alloc_skb(), tcp_skb_entail(), tcp_xmit_size_goal() and
 * tcp_write_queue_purge() (net/ipv4/tcp.c), and sk_stream_write_space()
 * (net/core/stream.c), which the kernel does not export.
 *
 * Data is copied into page fragments of skbs on the write queue
 * (xtcp_write_queue(): not sk_write_queue on 6.12, see compat.h), each skb
 * up to a "size goal" of several MSS (GSO), charged to the socket
 * (sk_wmem_queued, sk_forward_alloc) and so to xtcp's pool (mem.c); a
 * writer waits when SO_SNDBUF is full (sk_stream_wait_memory()).  The
 * segments leave through xtcp_write_xmit() (xmit.c), which moves each
 * sent skb to the retransmit queue, an rbtree as stock's tcp_rtx_queue.
 *
 * A writer has room while SO_SNDBUF is not full and, with
 * TCP_NOTSENT_LOWAT (or net.ipv4.tcp_notsent_lowat), while the bytes
 * not yet sent stay below it (xtcp_stream_memory_free()).
 *
 * MSG_OOB makes the call's last byte urgent (snd_up, tcp_mark_urg()): the
 * segments below it carry the urgent pointer (xmit.c) until it is
 * acknowledged, and the call fills skbs of one MSS.
 *
 * Not yet here: MSG_ZEROCOPY (data is copied, no completion is queued),
 * TX timestamps (SO_TIMESTAMPING's OPT_TX_*), autocorking and TCP small
 * queues.
 * sendfile() and splice() work: they reach sendmsg() with a bvec
 * iterator (6.12) or through sock_no_sendpage() (6.1), and are copied.
 */
#include <linux/uio.h>
#include <net/sock.h>
#include <net/tcp.h>

#include "xtcp.h"

/*
 * tcp_stream_alloc_skb(): an empty skb with room for the headers, the
 * data to come in page fragments; charged to the socket, by force for
 * the one skb that must always be possible.
 */
struct sk_buff *xtcp_stream_alloc_skb(struct sock *sk, gfp_t gfp,
				      bool force_schedule)
{
	struct sk_buff *skb;

	skb = alloc_skb_fclone(MAX_TCP_HEADER, gfp);
	if (likely(skb)) {
		bool mem_scheduled;

		skb->truesize = SKB_TRUESIZE(skb_end_offset(skb));
		if (force_schedule) {
			mem_scheduled = true;
			xtcp_forced_mem_schedule(sk, skb->truesize);
		} else {
			mem_scheduled = sk_wmem_schedule(sk, skb->truesize);
		}
		if (likely(mem_scheduled)) {
			skb_reserve(skb, MAX_TCP_HEADER);
			skb->ip_summed = CHECKSUM_PARTIAL;
			INIT_LIST_HEAD(&skb->tcp_tsorted_anchor);
			return skb;
		}
		__kfree_skb(skb);
	} else {
		sk->sk_prot->enter_memory_pressure(sk);
		sk_stream_moderate_sndbuf(sk);
	}
	return NULL;
}

/* tcp_skb_entail(): queue a new skb at the tail of the write queue. */
static void xtcp_skb_entail(struct sock *sk, struct sk_buff *skb)
{
	struct tcp_sock *tp = tcp_sk(sk);
	struct tcp_skb_cb *tcb = TCP_SKB_CB(skb);

	tcb->seq = tp->write_seq;
	tcb->end_seq = tp->write_seq;
	tcb->tcp_flags = TCPHDR_ACK;
	__skb_header_release(skb);
	__skb_queue_tail(xtcp_write_queue(sk), skb);
	sk_wmem_queued_add(sk, skb->truesize);
	sk_mem_charge(sk, skb->truesize);
	if (tp->nonagle & TCP_NAGLE_PUSH)
		tp->nonagle &= ~TCP_NAGLE_PUSH;
	xtcp_slow_start_after_idle_check(sk);
}

/* tcp_remove_empty_skb(): a writer that copied nothing leaves no skb. */
static void xtcp_remove_empty_skb(struct sock *sk)
{
	struct sk_buff *skb = xtcp_write_queue_tail(sk);

	if (skb && TCP_SKB_CB(skb)->seq == TCP_SKB_CB(skb)->end_seq) {
		xtcp_unlink_write_queue(skb, sk);
		tcp_wmem_free_skb(sk, skb);
	}
}

/*
 * tcp_xmit_size_goal(): how much one skb of the write queue holds, a
 * whole number of MSS up to the GSO limit (and half the peer's largest
 * window); xtcp_write_xmit() cuts it to what may leave.  One MSS unless
 * @large_allowed (not for urgent data).
 */
static u32 xtcp_xmit_size_goal(struct sock *sk, u32 mss_now,
			       bool large_allowed)
{
	struct tcp_sock *tp = tcp_sk(sk);
	u32 new_size_goal, size_goal;

	if (!large_allowed)
		return mss_now;
	new_size_goal = xtcp_bound_to_half_wnd(tp, sk->sk_gso_max_size);
	size_goal = tp->gso_segs * mss_now;
	if (unlikely(new_size_goal < size_goal ||
		     new_size_goal >= size_goal + mss_now)) {
		tp->gso_segs = min_t(u16, new_size_goal / mss_now,
				     sk->sk_gso_max_segs);
		size_goal = tp->gso_segs * mss_now;
	}
	return max(size_goal, mss_now);
}

/* tcp_send_mss(): the MSS now, and the size goal with it. */
static int xtcp_send_mss(struct sock *sk, u32 *size_goal, int flags)
{
	int mss_now = xtcp_current_mss(sk);

	*size_goal = xtcp_xmit_size_goal(sk, mss_now, !(flags & MSG_OOB));
	return mss_now;
}

/* tcp_mark_push(): PSH on the last skb the writer filled. */
static void xtcp_mark_push(struct tcp_sock *tp, struct sk_buff *skb)
{
	TCP_SKB_CB(skb)->tcp_flags |= TCPHDR_PSH;
	tp->pushed_seq = tp->write_seq;
}

/* forced_push(): more than half the largest window went unpushed. */
static bool xtcp_forced_push(const struct tcp_sock *tp)
{
	return after(tp->write_seq, tp->pushed_seq + (tp->max_window >> 1));
}

/*
 * tcp_push(): the writer is done for now.  PSH unless MSG_MORE promises
 * more; MSG_OOB puts the urgent pointer after the last byte written
 * (tcp_mark_urg(): BSD's convention, RFC 6093); MSG_MORE corks like
 * TCP_CORK for this call (Nagle's test then holds back a partial
 * segment).
 */
static void xtcp_push(struct sock *sk, int flags, int mss_now, int nonagle)
{
	struct tcp_sock *tp = tcp_sk(sk);
	struct sk_buff *skb = xtcp_write_queue_tail(sk);

	if (!skb)
		return;
	if (!(flags & MSG_MORE) || xtcp_forced_push(tp))
		xtcp_mark_push(tp, skb);
	if (flags & MSG_OOB)
		tp->snd_up = tp->write_seq;
	if (flags & MSG_MORE)
		nonagle = TCP_NAGLE_CORK;
	__xtcp_push_pending_frames(sk, mss_now, nonagle);
}

/*
 * tcp_wmem_schedule(): charge @copy bytes; with nothing queued, take
 * what tcp_wmem[0] guarantees even past the pool's limit, so that a
 * connection always makes progress.  Returns the bytes charged.
 */
static int xtcp_wmem_schedule(struct sock *sk, int copy)
{
	int left;

	if (likely(sk_wmem_schedule(sk, copy)))
		return copy;
	left = READ_ONCE(sock_net(sk)->ipv4.sysctl_tcp_wmem[0]) -
	       sk->sk_wmem_queued;
	if (left > 0)
		xtcp_forced_mem_schedule(sk, min(left, copy));
	return min(copy, sk->sk_forward_alloc);
}

/*
 * Copy what fits of @msg into @skb's last page fragment or a new one.
 * Returns the bytes copied, 0 to wait for memory, -EAGAIN when the skb
 * has no fragment slot left (start a new skb), or an error.
 */
static int xtcp_sendmsg_copy(struct sock *sk, struct msghdr *msg,
			     struct sk_buff *skb, int copy)
{
	struct page_frag *pfrag = sk_page_frag(sk);
	int i = skb_shinfo(skb)->nr_frags;
	bool merge = true;
	int err;

	if (!sk_page_frag_refill(sk, pfrag))
		return 0;
	if (!skb_can_coalesce(skb, i, pfrag->page, pfrag->offset)) {
		if (i >= xtcp_max_skb_frags())
			return -EAGAIN;
		merge = false;
	}
	copy = min_t(int, copy, pfrag->size - pfrag->offset);
	copy = xtcp_wmem_schedule(sk, copy);
	if (!copy)
		return 0;
	err = skb_copy_to_page_nocache(sk, &msg->msg_iter, skb, pfrag->page,
				       pfrag->offset, copy);
	if (err)
		return err;
	if (merge) {
		skb_frag_size_add(&skb_shinfo(skb)->frags[i - 1], copy);
	} else {
		skb_fill_page_desc(skb, i, pfrag->page, pfrag->offset, copy);
		page_ref_inc(pfrag->page);
	}
	pfrag->offset += copy;
	return copy;
}

/*
 * tcp_sendmsg_locked() for copied data.  Returns the bytes queued, or
 * if none, the error: EPIPE (and SIGPIPE unless MSG_NOSIGNAL) once the
 * connection cannot send, EAGAIN when non-blocking or SO_SNDTIMEO ran
 * out, the signal's error when interrupted (sk_stream_error()).
 */
static int xtcp_sendmsg_locked(struct sock *sk, struct msghdr *msg)
{
	struct tcp_sock *tp = tcp_sk(sk);
	int flags = msg->msg_flags;
	int copied = 0, process_backlog = 0;
	u32 size_goal;
	int mss_now, err;
	long timeo;

	timeo = sock_sndtimeo(sk, flags & MSG_DONTWAIT);
	xtcp_rate_check_app_limited(sk);	/* an idle gap before this write? */
	/*
	 * A passive open has nothing to wait for: not yet, or no longer.
	 * A Fast Open child may send before the third ACK.
	 */
	if (((1 << sk->sk_state) & ~(TCPF_ESTABLISHED | TCPF_CLOSE_WAIT)) &&
	    !tcp_passive_fastopen(sk)) {
		err = sk_stream_wait_connect(sk, &timeo);
		if (err)
			goto do_error;
	}
	sk_clear_bit(SOCKWQ_ASYNC_NOSPACE, sk);

restart:
	mss_now = xtcp_send_mss(sk, &size_goal, flags);
	err = -EPIPE;
	if (sk->sk_err || (sk->sk_shutdown & SEND_SHUTDOWN))
		goto do_error;

	while (msg_data_left(msg)) {
		struct sk_buff *skb = xtcp_write_queue_tail(sk);
		int copy = 0;

		if (skb)
			copy = size_goal - skb->len;
		if (copy <= 0 || !tcp_skb_can_collapse_to(skb)) {
new_segment:
			if (!sk_stream_memory_free(sk))
				goto wait_for_space;
			if (unlikely(process_backlog >= 16)) {
				process_backlog = 0;
				if (sk_flush_backlog(sk))
					goto restart;
			}
			skb = xtcp_stream_alloc_skb(sk, sk->sk_allocation,
						    tcp_rtx_and_write_queues_empty(sk));
			if (!skb)
				goto wait_for_space;
			process_backlog++;
			xtcp_skb_entail(sk, skb);
			copy = size_goal;
		}
		if (copy > msg_data_left(msg))
			copy = msg_data_left(msg);
		copy = xtcp_sendmsg_copy(sk, msg, skb, copy);
		if (copy == -EAGAIN) {
			xtcp_mark_push(tp, skb);
			goto new_segment;
		}
		if (copy < 0) {
			err = copy;
			goto do_error;
		}
		if (!copy)
			goto wait_for_space;
		if (!copied)
			TCP_SKB_CB(skb)->tcp_flags &= ~TCPHDR_PSH;
		WRITE_ONCE(tp->write_seq, tp->write_seq + copy);
		TCP_SKB_CB(skb)->end_seq += copy;
		tcp_skb_pcount_set(skb, 0);
		copied += copy;
		if (!msg_data_left(msg)) {
			if (unlikely(flags & MSG_EOR))
				TCP_SKB_CB(skb)->eor = 1;
			goto out;
		}
		if (skb->len < size_goal || (flags & MSG_OOB))
			continue;
		if (xtcp_forced_push(tp)) {
			xtcp_mark_push(tp, skb);
			__xtcp_push_pending_frames(sk, mss_now, TCP_NAGLE_PUSH);
		} else if (skb == xtcp_send_head(sk)) {
			xtcp_push_one(sk, mss_now);
		}
		continue;

wait_for_space:
		set_bit(SOCK_NOSPACE, &sk->sk_socket->flags);
		xtcp_remove_empty_skb(sk);
		if (copied)
			xtcp_push(sk, flags & ~MSG_MORE, mss_now,
				  TCP_NAGLE_PUSH);
		err = sk_stream_wait_memory(sk, &timeo);
		if (err)
			goto do_error;
		mss_now = xtcp_send_mss(sk, &size_goal, flags);
	}

out:
	if (copied)
		xtcp_push(sk, flags, mss_now, tp->nonagle);
	return copied;

do_error:
	xtcp_remove_empty_skb(sk);
	if (copied)
		goto out;
	err = sk_stream_error(sk, flags, err);
	/* An edge-triggered epoll waiter must hear of the room. */
	if (unlikely(tcp_rtx_and_write_queues_empty(sk) && err == -EAGAIN)) {
		void (*write_space)(struct sock *sk) =
			READ_ONCE(sk->sk_write_space);

		write_space(sk);
	}
	return err;
}

/**
 * xtcp_sendmsg - proto_ops.sendmsg (tcp_sendmsg())
 * @sock: the socket
 * @msg:  the data; MSG_DONTWAIT, MSG_NOSIGNAL, MSG_MORE, MSG_EOR honoured
 * @len:  its length, bytes
 *
 * Context: process; takes the socket lock.  Blocks for memory unless
 * non-blocking, at most SO_SNDTIMEO.
 * Return: bytes queued, or a negative errno (EPIPE, EAGAIN, EINTR, ...).
 */
int xtcp_sendmsg(struct socket *sock, struct msghdr *msg, size_t len)
{
	struct sock *sk = sock->sk;
	int ret;

	lock_sock(sk);
	ret = xtcp_sendmsg_locked(sk, msg);
	release_sock(sk);
	return ret;
}

/**
 * xtcp_stream_memory_free - proto.stream_memory_free (tcp_stream_memory_free())
 * @sk:   the connection; read without the lock
 * @wake: 1 for poll() and the write-space callback, 0 for sendmsg()
 *
 * sk_stream_memory_free() asks this once SO_SNDBUF has room: the bytes
 * queued but not yet sent (write_seq - snd_nxt) must be below
 * tcp_notsent_lowat(), TCP_NOTSENT_LOWAT or else
 * net.ipv4.tcp_notsent_lowat (UINT_MAX by default: no limit).  With
 * @wake they must be below half of it, so that a woken writer finds room
 * for more than a few bytes (as sock_def_write_space()).
 *
 * Return: true if a writer may queue more.
 */
bool xtcp_stream_memory_free(const struct sock *sk, int wake)
{
	const struct tcp_sock *tp = tcp_sk(sk);
	u32 notsent_bytes = READ_ONCE(tp->write_seq) - READ_ONCE(tp->snd_nxt);

	return (notsent_bytes << wake) < tcp_notsent_lowat(tp);
}

/**
 * xtcp_stream_write_space - sk_write_space of a connection
 * @sk: the connection
 *
 * sk_stream_write_space(): wake writers (EPOLLOUT) once a third of the
 * send buffer is free and the unsent bytes are below half of
 * TCP_NOTSENT_LOWAT (__sk_stream_is_writeable(sk, 1)), not for every
 * freed byte.
 *
 * Context: socket locked, softirq or process.
 */
void xtcp_stream_write_space(struct sock *sk)
{
	struct socket *sock = sk->sk_socket;
	struct socket_wq *wq;

	if (!__sk_stream_is_writeable(sk, 1) || !sock)
		return;
	clear_bit(SOCK_NOSPACE, &sock->flags);
	rcu_read_lock();
	wq = rcu_dereference(sk->sk_wq);
	if (skwq_has_sleeper(wq))
		wake_up_interruptible_poll(&wq->wait, EPOLLOUT |
					   EPOLLWRNORM | EPOLLWRBAND);
	if (wq && wq->fasync_list && !(sk->sk_shutdown & SEND_SHUTDOWN))
		sock_wake_async(wq, SOCK_WAKE_SPACE, POLL_OUT);
	rcu_read_unlock();
}

/**
 * xtcp_write_queue_purge - drop everything not yet acknowledged
 * @sk: the connection, locked, or its last user
 *
 * tcp_write_queue_purge(): the unsent skbs, the retransmit queue, and
 * the counters that describe them.
 */
void xtcp_write_queue_purge(struct sock *sk)
{
	struct tcp_sock *tp = tcp_sk(sk);
	struct sk_buff *skb;
	struct rb_node *p;

	while ((skb = __skb_dequeue(xtcp_write_queue(sk))) != NULL) {
		tcp_skb_tsorted_anchor_cleanup(skb);
		tcp_wmem_free_skb(sk, skb);
	}
	p = rb_first(&sk->tcp_rtx_queue);
	while (p) {
		skb = rb_to_skb(p);
		p = rb_next(p);
		/* The whole queue goes: no list_del of the anchors. */
		tcp_rtx_queue_unlink(skb, sk);
		tcp_wmem_free_skb(sk, skb);
	}
	INIT_LIST_HEAD(&tp->tsorted_sent_queue);
	tp->highest_sack = NULL;
	tcp_clear_all_retrans_hints(tp);
	tp->packets_out = 0;
	tp->lost_out = 0;
	tp->retrans_out = 0;
	tp->sacked_out = 0;
	inet_csk(sk)->icsk_backoff = 0;
}
