// SPDX-License-Identifier: GPL-2.0
/*
 * xtcp: what a reader of a connection sees: recvmsg(), poll(), ioctl().
 *
 * Mirrors tcp_recvmsg(), tcp_recvmsg_locked(), __tcp_cleanup_rbuf(),
 * tcp_poll() and tcp_ioctl() (net/ipv4/tcp.c).  The receive queue holds
 * in-order skbs whose TCP_SKB_CB seq/end_seq place their payload in the
 * stream (data.c); copied_seq is the next byte the user reads.  Both
 * change under the socket lock; poll() reads rcv_nxt, copied_seq and the
 * state locklessly, which is why their writers use WRITE_ONCE().
 *
 * Urgent data (data.c's xtcp_urg()): a read stops at the urgent byte,
 * which it skips unless SO_OOBINLINE; recv(MSG_OOB) takes the byte that
 * xtcp_urg() copied aside (tcp_recv_urg()); poll() says EPOLLPRI while it
 * waits, and SIOCATMARK whether the reader has reached it.
 *
 * Not yet here: receive timestamps (SO_TIMESTAMP*) and busy polling.
 */
#include <asm/ioctls.h>
#include <linux/poll.h>
#include <net/inet_common.h>
#include <net/ip.h>
#include <net/tcp.h>

#include "xtcp.h"

/* tcp_recvmsg_locked()'s control messages to add (TCP_CMSG_INQ, tcp.c). */
enum {
	XTCP_CMSG_INQ = 1,
};

/**
 * xtcp_cleanup_rbuf - the user read @copied bytes: is an ACK due now?
 * @sk:     the connection, locked by its owner
 * @copied: bytes just read, or a negative error
 *
 * __tcp_cleanup_rbuf(): ACK if more than one segment was owed an ACK,
 * or if this read emptied a queue that held pushed data the peer may be
 * waiting on; and send a window update if the window we can offer now
 * is at least twice what the peer last heard (RFC 9293 3.8.6.2.2).
 */
void xtcp_cleanup_rbuf(struct sock *sk, int copied)
{
	struct inet_connection_sock *icsk = inet_csk(sk);
	struct tcp_sock *tp = tcp_sk(sk);
	bool time_to_ack = false;

	if (inet_csk_ack_scheduled(sk)) {
		if (tp->rcv_nxt - tp->rcv_wup > icsk->icsk_ack.rcv_mss ||
		    (copied > 0 &&
		     ((icsk->icsk_ack.pending & ICSK_ACK_PUSHED2) ||
		      ((icsk->icsk_ack.pending & ICSK_ACK_PUSHED) &&
		       !inet_csk_in_pingpong_mode(sk))) &&
		     !atomic_read(&sk->sk_rmem_alloc)))
			time_to_ack = true;
	}
	/* No window update where nothing more can come. */
	if (copied > 0 && !time_to_ack && !(sk->sk_shutdown & RCV_SHUTDOWN)) {
		u32 rcv_window_now = xtcp_receive_window(tp);

		if (2 * rcv_window_now <= tp->window_clamp) {
			u32 new_window = __xtcp_select_window(sk);

			if (new_window && new_window >= 2 * rcv_window_now)
				time_to_ack = true;
		}
	}
	if (time_to_ack)
		xtcp_send_ack(sk);
}

/* tcp_eat_recv_skb(): the skb is read; its memory goes back. */
static void xtcp_eat_recv_skb(struct sock *sk, struct sk_buff *skb)
{
	__skb_unlink(skb, &sk->sk_receive_queue);
	__kfree_skb(skb);
}

/*
 * Whether a reader that has @copied bytes stops waiting, and with what
 * (the loop tail of tcp_recvmsg_locked()).  Returns 0 to wait, 1 to
 * return what it has, or the negative error to return instead.
 */
static int xtcp_recv_should_stop(struct sock *sk, int copied, long timeo)
{
	if (copied)
		return !timeo || sk->sk_err || sk->sk_state == TCP_CLOSE ||
		       (sk->sk_shutdown & RCV_SHUTDOWN) ||
		       signal_pending(current);
	if (sock_flag(sk, SOCK_DONE))
		return 1;
	if (sk->sk_err)
		return sock_error(sk) ? : 1;
	if (sk->sk_shutdown & RCV_SHUTDOWN)
		return 1;
	/* Never connected. */
	if (sk->sk_state == TCP_CLOSE)
		return -ENOTCONN;
	if (!timeo)
		return -EAGAIN;
	if (signal_pending(current))
		return sock_intr_errno(timeo);
	return 0;
}

/*
 * tcp_recv_urg(): recv(MSG_OOB), which never blocks (BSD).  EINVAL with
 * SO_OOBINLINE, without urgent data, or once its byte was read; EAGAIN
 * while the byte has not arrived; 0 after the end of the stream.
 */
static int xtcp_recv_urg(struct sock *sk, struct msghdr *msg, int len,
			 int flags)
{
	struct tcp_sock *tp = tcp_sk(sk);
	int err = 0;
	char c;

	if (sock_flag(sk, SOCK_URGINLINE) || !tp->urg_data ||
	    tp->urg_data == TCP_URG_READ)
		return -EINVAL;	/* "Yes this is right !" (tcp.c) */
	if (sk->sk_state == TCP_CLOSE && !sock_flag(sk, SOCK_DONE))
		return -ENOTCONN;
	if (tp->urg_data & TCP_URG_VALID) {
		c = tp->urg_data;
		if (!(flags & MSG_PEEK))
			WRITE_ONCE(tp->urg_data, TCP_URG_READ);
		msg->msg_flags |= MSG_OOB;
		if (len > 0) {
			if (!(flags & MSG_TRUNC))
				err = memcpy_to_msg(msg, &c, 1);
			len = 1;
		} else {
			msg->msg_flags |= MSG_TRUNC;
		}
		return err ? -EFAULT : len;
	}
	if (sk->sk_state == TCP_CLOSE || (sk->sk_shutdown & RCV_SHUTDOWN))
		return 0;
	return -EAGAIN;
}

/*
 * tcp_recvmsg_locked(): copy from the receive queue from copied_seq (or
 * a peek position), waiting for at least the SO_RCVLOWAT/MSG_WAITALL
 * target, processing the backlog as it goes.  A read stops before the
 * urgent byte if it has copied anything, and steps over it unless
 * SO_OOBINLINE (urg_hole counts the bytes a peek stepped over).  With
 * TCP_INQ set, *@cmsg_flags asks the caller for a TCP_CM_INQ.
 */
static int xtcp_recvmsg_locked(struct sock *sk, struct msghdr *msg,
			       size_t len, int flags, int *cmsg_flags)
{
	struct tcp_sock *tp = tcp_sk(sk);
	u32 peek_seq, peek_offset = 0, offset, urg_hole = 0, *seq;
	struct sk_buff *skb, *last;
	int copied = 0, target, err;
	unsigned long used;
	long timeo;

	if (sk->sk_state == TCP_LISTEN)
		return -ENOTCONN;
	if (tp->recvmsg_inq) {
		*cmsg_flags = XTCP_CMSG_INQ;
		msg->msg_get_inq = 1;
	}
	timeo = sock_rcvtimeo(sk, flags & MSG_DONTWAIT);
	if (flags & MSG_OOB)
		return xtcp_recv_urg(sk, msg, len, flags);

	seq = &tp->copied_seq;
	if (flags & MSG_PEEK) {
		peek_offset = max(sk_peek_offset(sk, flags), 0);
		peek_seq = tp->copied_seq + peek_offset;
		seq = &peek_seq;
	}
	target = sock_rcvlowat(sk, flags & MSG_WAITALL, len);

	do {
		/* At the urgent byte: stop after data, or for a signal. */
		if (unlikely(tp->urg_data) && tp->urg_seq == *seq) {
			if (copied)
				break;
			if (signal_pending(current)) {
				copied = timeo ? sock_intr_errno(timeo) : -EAGAIN;
				break;
			}
		}
		last = skb_peek_tail(&sk->sk_receive_queue);
		skb_queue_walk(&sk->sk_receive_queue, skb) {
			last = skb;
			if (WARN(before(*seq, TCP_SKB_CB(skb)->seq),
				 "xtcp recvmsg seq # bug: copied %X, seq %X, rcvnxt %X, fl %X\n",
				 *seq, TCP_SKB_CB(skb)->seq, tp->rcv_nxt,
				 flags))
				break;
			offset = *seq - TCP_SKB_CB(skb)->seq;
			if (offset < skb->len)
				goto found_ok_skb;
			if (TCP_SKB_CB(skb)->tcp_flags & TCPHDR_FIN)
				goto found_fin_ok;
			WARN(!(flags & MSG_PEEK),
			     "xtcp recvmsg seq # bug 2: copied %X, seq %X, rcvnxt %X, fl %X\n",
			     *seq, TCP_SKB_CB(skb)->seq, tp->rcv_nxt, flags);
		}

		/* Enough, unless the backlog holds more right now. */
		if (copied >= target && !READ_ONCE(sk->sk_backlog.tail))
			break;
		err = xtcp_recv_should_stop(sk, copied, timeo);
		if (err) {
			if (err < 0)
				copied = err;
			break;
		}
		if (copied >= target) {
			__sk_flush_backlog(sk);
		} else {
			xtcp_cleanup_rbuf(sk, copied);
			err = sk_wait_data(sk, &timeo, last);
			if (err < 0)
				return copied ? : err;
		}
		if ((flags & MSG_PEEK) &&
		    peek_seq - peek_offset - copied - urg_hole !=
		    tp->copied_seq) {
			net_dbg_ratelimited("xtcp(%s:%d): application bug, race in MSG_PEEK\n",
					    current->comm,
					    task_pid_nr(current));
			peek_seq = tp->copied_seq + peek_offset;
		}
		continue;

found_ok_skb:
		used = min_t(unsigned long, skb->len - offset, len);
		if (unlikely(tp->urg_data)) {
			u32 urg_offset = tp->urg_seq - *seq;

			if (urg_offset < used) {
				if (urg_offset) {
					used = urg_offset;
				} else if (!sock_flag(sk, SOCK_URGINLINE)) {
					/* The urgent byte is read out of band. */
					WRITE_ONCE(*seq, *seq + 1);
					urg_hole++;
					offset++;
					used--;
					if (!used)
						goto skip_copy;
				}
			}
		}
		/* MSG_TRUNC: TCP discards instead of copying. */
		if (!(flags & MSG_TRUNC)) {
			err = skb_copy_datagram_msg(skb, offset, msg, used);
			if (err) {
				if (!copied)
					copied = -EFAULT;
				break;
			}
		}
		WRITE_ONCE(*seq, *seq + used);
		copied += used;
		len -= used;
		if (flags & MSG_PEEK)
			sk_peek_offset_fwd(sk, used);
		else
			sk_peek_offset_bwd(sk, used);
		xtcp_rcv_space_adjust(sk);
skip_copy:
		/* The reader is past the urgent byte: forget it. */
		if (unlikely(tp->urg_data) &&
		    after(tp->copied_seq, tp->urg_seq)) {
			WRITE_ONCE(tp->urg_data, 0);
			xtcp_fast_path_check(sk);
		}
		if (used + offset < skb->len)
			continue;
		if (TCP_SKB_CB(skb)->tcp_flags & TCPHDR_FIN)
			goto found_fin_ok;
		if (!(flags & MSG_PEEK))
			xtcp_eat_recv_skb(sk, skb);
		continue;

found_fin_ok:
		/* The FIN takes a sequence number: step over it. */
		WRITE_ONCE(*seq, *seq + 1);
		if (!(flags & MSG_PEEK))
			xtcp_eat_recv_skb(sk, skb);
		break;
	} while (len > 0);

	xtcp_cleanup_rbuf(sk, copied);
	return copied;
}

/*
 * tcp_inq_hint(): bytes left to read after a recvmsg(), without the lock
 * unless a reader moved copied_seq meanwhile; 1 rather than 0 after the
 * peer's FIN, so that the user reads on to the end of the stream.
 */
static int xtcp_inq_hint(struct sock *sk)
{
	const struct tcp_sock *tp = tcp_sk(sk);
	u32 copied_seq = READ_ONCE(tp->copied_seq);
	u32 rcv_nxt = READ_ONCE(tp->rcv_nxt);
	int inq;

	inq = rcv_nxt - copied_seq;
	if (unlikely(inq < 0 || copied_seq != READ_ONCE(tp->copied_seq))) {
		lock_sock(sk);
		inq = tp->rcv_nxt - tp->copied_seq;
		release_sock(sk);
	}
	if (inq == 0 && sock_flag(sk, SOCK_DONE))
		inq = 1;
	return inq;
}

/**
 * xtcp_recvmsg - proto_ops.recvmsg of an xtcp socket (tcp_recvmsg())
 * @sock:  the socket
 * @msg:   where to copy
 * @len:   at most this many bytes
 * @flags: MSG_PEEK, MSG_WAITALL, MSG_DONTWAIT, MSG_TRUNC, MSG_OOB,
 *         MSG_ERRQUEUE
 *
 * With TCP_INQ set (or msg_get_inq set by the caller, io_uring), a read
 * that did not fail reports in msg_inq the bytes left to read
 * (xtcp_inq_hint()), and with TCP_INQ also as a TCP_CM_INQ control
 * message (an int, SOL_TCP), as tcp_recvmsg() does.
 *
 * Context: process context; takes the socket lock.  May sleep for up to
 * SO_RCVTIMEO.
 * Return: bytes read (0 at end of stream), or -ENOTCONN (listener or
 * never connected), -EAGAIN, -EINTR/-ERESTARTSYS, the pending socket
 * error (ECONNRESET after a RST, EPIPE after a RST in CLOSE-WAIT),
 * -EFAULT; with MSG_OOB (one urgent byte, never blocking): -EINVAL with
 * SO_OOBINLINE, without urgent data or once it was read, -EAGAIN before
 * it arrived.
 */
int xtcp_recvmsg(struct socket *sock, struct msghdr *msg, size_t len,
		 int flags)
{
	struct sock *sk = sock->sk;
	int addr_len = 0, cmsg_flags = 0, ret;

	if (unlikely(flags & MSG_ERRQUEUE))
		return inet_recv_error(sk, msg, len, &addr_len);
	/* inet_recvmsg(): steer the flow to this CPU (RFS). */
	sock_rps_record_flow(sk);
	lock_sock(sk);
	ret = xtcp_recvmsg_locked(sk, msg, len, flags, &cmsg_flags);
	release_sock(sk);
	/* Stock's other flag, TCP_CMSG_TS, waits for receive timestamps. */
	if (msg->msg_get_inq && ret >= 0) {
		msg->msg_inq = xtcp_inq_hint(sk);
		if (cmsg_flags & XTCP_CMSG_INQ)
			put_cmsg(msg, SOL_TCP, TCP_CM_INQ,
				 sizeof(msg->msg_inq), &msg->msg_inq);
	}
	return ret;
}

/**
 * xtcp_conn_poll - poll() of a socket that is not listening (tcp_poll())
 * @sk: the socket; read without the lock
 *
 * EPOLLIN once SO_RCVLOWAT bytes wait (or fewer that nothing more can
 * follow), EPOLLRDHUP after the peer's FIN, EPOLLHUP when both
 * directions are shut or the connection is closed, EPOLLOUT while the
 * send buffer has a third free and the unsent bytes are below half of
 * TCP_NOTSENT_LOWAT (xtcp_stream_memory_free()), EPOLLERR on a pending
 * error, EPOLLPRI while an urgent byte waits to be read out of band.
 *
 * Return: the mask.
 */
__poll_t xtcp_conn_poll(struct sock *sk)
{
	int state = inet_sk_state_load(sk);
	u8 shutdown = READ_ONCE(sk->sk_shutdown);
	__poll_t mask = 0;

	if (shutdown == SHUTDOWN_MASK || state == TCP_CLOSE)
		mask |= EPOLLHUP;
	if (shutdown & RCV_SHUTDOWN)
		mask |= EPOLLIN | EPOLLRDNORM | EPOLLRDHUP;
	/*
	 * A passive open is readable once it is a connection, or from its
	 * SYN on as a Fast Open child.
	 */
	if (state != TCP_SYN_SENT &&
	    (state != TCP_SYN_RECV ||
	     rcu_access_pointer(tcp_sk(sk)->fastopen_rsk))) {
		const struct tcp_sock *tp = tcp_sk(sk);
		int target = sock_rcvlowat(sk, 0, INT_MAX);
		u16 urg_data = READ_ONCE(tp->urg_data);

		/* An urgent byte read out of band is no data to read. */
		if (unlikely(urg_data) &&
		    READ_ONCE(tp->urg_seq) == READ_ONCE(tp->copied_seq) &&
		    !sock_flag(sk, SOCK_URGINLINE))
			target++;
		if (xtcp_epollin_ready(sk, target))
			mask |= EPOLLIN | EPOLLRDNORM;
		if (urg_data & TCP_URG_VALID)
			mask |= EPOLLPRI;
		if (shutdown & SEND_SHUTDOWN) {
			mask |= EPOLLOUT | EPOLLWRNORM;
		} else if (__sk_stream_is_writeable(sk, 1)) {
			mask |= EPOLLOUT | EPOLLWRNORM;
		} else {
			/* Ask the write-space callback for a wake-up. */
			sk_set_bit(SOCKWQ_ASYNC_NOSPACE, sk);
			set_bit(SOCK_NOSPACE, &sk->sk_socket->flags);
			/*
			 * The flag before the second look, as the callback
			 * frees space before it tests the flag: one of the
			 * two sees the other (tcp_poll()).
			 */
			smp_mb__after_atomic();
			if (__sk_stream_is_writeable(sk, 1))
				mask |= EPOLLOUT | EPOLLWRNORM;
		}
	}
	/* Pairs with the smp_wmb() after sk_err in xtcp_reset(). */
	smp_rmb();
	if (READ_ONCE(sk->sk_err) ||
	    !skb_queue_empty_lockless(&sk->sk_error_queue))
		mask |= EPOLLERR;
	return mask;
}

/* tcp_inq(): bytes a read would return now, the FIN not counted. */
static int xtcp_inq(struct sock *sk)
{
	struct tcp_sock *tp = tcp_sk(sk);
	int answ;

	if ((1 << sk->sk_state) & (TCPF_SYN_SENT | TCPF_SYN_RECV))
		return 0;
	answ = tp->rcv_nxt - tp->copied_seq;
	if (answ && sock_flag(sk, SOCK_DONE))
		answ--;
	return answ;
}

/**
 * xtcp_ioctl - SIOCINQ, SIOCATMARK, SIOCOUTQ, SIOCOUTQNSD (tcp_ioctl())
 * @sk:   the socket
 * @cmd:  the request
 * @answ: where the answer goes
 *
 * Context: process context; SIOCINQ takes the socket lock.
 * Return: 0, -EINVAL on a listener, -ENOIOCTLCMD for other requests.
 */
int xtcp_ioctl(struct sock *sk, int cmd, int *answ)
{
	struct tcp_sock *tp = tcp_sk(sk);
	bool slow;

	switch (cmd) {
	case SIOCINQ:
		if (sk->sk_state == TCP_LISTEN)
			return -EINVAL;
		slow = lock_sock_fast(sk);
		*answ = xtcp_inq(sk);
		unlock_sock_fast(sk, slow);
		return 0;
	case SIOCATMARK:
		/* sockatmark(): the next byte to read is the urgent one. */
		*answ = READ_ONCE(tp->urg_data) &&
			READ_ONCE(tp->urg_seq) == READ_ONCE(tp->copied_seq);
		return 0;
	case SIOCOUTQ:
	case SIOCOUTQNSD:
		if (sk->sk_state == TCP_LISTEN)
			return -EINVAL;
		if ((1 << sk->sk_state) & (TCPF_SYN_SENT | TCPF_SYN_RECV))
			*answ = 0;
		else if (cmd == SIOCOUTQ)
			*answ = READ_ONCE(tp->write_seq) - tp->snd_una;
		else
			*answ = READ_ONCE(tp->write_seq) -
				READ_ONCE(tp->snd_nxt);
		return 0;
	default:
		return -ENOIOCTLCMD;
	}
}
