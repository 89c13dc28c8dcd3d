// SPDX-License-Identifier: GPL-2.0
/*
 * xtcp: listen(), the listening hash, and accept().
 *
 * Mirrors inet_listen() and inet_accept() (net/ipv4/af_inet.c),
 * inet_csk_listen_start(), inet_csk_accept() and inet_csk_listen_stop()
 * (net/ipv4/inet_connection_sock.c), __inet_hash() and inet_unhash()
 * (net/ipv4/inet_hashtables.c).
 *
 * The listening hash is keyed by local port.  Writers hold the bucket
 * lock; the SYN path reads it under RCU only, never taking a lock, which
 * is safe because listeners are freed after a grace period
 * (SOCK_RCU_FREE).  SO_REUSEPORT listeners of one user on one address
 * form a reuseport group, as in stock TCP.
 */
#include <linux/poll.h>
#include <linux/sched/signal.h>
#include <net/inet_hashtables.h>
#include <net/request_sock.h>
#include <net/sock_reuseport.h>
#include <net/tcp_states.h>

#include "xtcp.h"

static struct xtcp_listen_hashbucket *xtcp_lhash(const struct sock *sk)
{
	struct xtcp_net *xn = xtcp_pernet(sock_net(sk));

	return &xn->lhash[inet_sk(sk)->inet_num & (XTCP_LHASH_SIZE - 1)];
}

/* inet_reuseport_add_sock(): join a group of the same user and address. */
static int xtcp_reuseport_add_sock(struct sock *sk,
				   struct xtcp_listen_hashbucket *ilb)
{
	struct xtcp_bind_bucket *tb = xtcp_sk_bind_hash(sk);
	bool any = sk->sk_rcv_saddr == htonl(INADDR_ANY);
	const struct hlist_nulls_node *node;
	kuid_t uid = sock_i_uid(sk);
	struct sock *sk2;

	sk_nulls_for_each_rcu(sk2, node, &ilb->nulls_head) {
		if (sk2 != sk &&
		    sk2->sk_bound_dev_if == sk->sk_bound_dev_if &&
		    xtcp_sk_bind_hash(sk2) == tb &&
		    sk2->sk_reuseport && uid_eq(uid, sock_i_uid(sk2)) &&
		    sk2->sk_rcv_saddr == sk->sk_rcv_saddr)
			return reuseport_add_sock(sk, sk2, any);
	}
	return reuseport_alloc(sk, any);
}

/**
 * xtcp_hash - put a listener where the SYN path finds it (__inet_hash())
 * @sk: a socket in TCP_LISTEN that owns its port
 *
 * Return: 0 or -ENOMEM from the reuseport group.
 */
XTCP_SEED int xtcp_hash(struct sock *sk)
{
	struct xtcp_listen_hashbucket *ilb;
	int err = 0;

	if (WARN_ON_ONCE(sk->sk_state != TCP_LISTEN))
		return -EINVAL;

	ilb = xtcp_lhash(sk);
	spin_lock_bh(&ilb->lock);
	if (sk->sk_reuseport) {
		err = xtcp_reuseport_add_sock(sk, ilb);
		if (err)
			goto unlock;
	}
	/* Readers walk the chain locklessly: free us only after them. */
	sock_set_flag(sk, SOCK_RCU_FREE);
	__sk_nulls_add_node_rcu(sk, &ilb->nulls_head);
	sock_prot_inuse_add(sock_net(sk), sk->sk_prot, 1);
unlock:
	spin_unlock_bh(&ilb->lock);
	return err;
}

/*
 * inet_unhash(): no new segment finds @sk once this returns.  A listener
 * leaves the listening hash, a connection the established hash.
 */
void xtcp_unhash(struct sock *sk)
{
	struct xtcp_listen_hashbucket *ilb;

	if (sk_unhashed(sk))
		return;
	if (sk->sk_state != TCP_LISTEN) {
		if (xtcp_ehash_remove(sk))
			sock_prot_inuse_add(sock_net(sk), sk->sk_prot, -1);
		return;
	}
	ilb = xtcp_lhash(sk);
	spin_lock_bh(&ilb->lock);
	/*
	 * reuseport_stop_listen_sock(), as inet_unhash(): where the kernel's
	 * reuseport layer sees migration on (net.ipv4.tcp_migrate_req, or a
	 * BPF migrate program), the listener stays in its group's closed
	 * section until it is freed; else it leaves now.  Whether its
	 * requests and children move is net.xtcp.migrate_req's to say, in
	 * either case (xtcp_reuseport_migrate_sock()).
	 */
	if (rcu_access_pointer(sk->sk_reuseport_cb))
		reuseport_stop_listen_sock(sk);
	__sk_nulls_del_node_init_rcu(sk);
	sock_prot_inuse_add(sock_net(sk), sk->sk_prot, -1);
	spin_unlock_bh(&ilb->lock);
}

/*
 * reqsk_queue_alloc(): an empty accept queue.  Its locks are not touched:
 * a softirq may hold rskq_lock right now (a child being queued while the
 * listener was shut down and listens again), and re-initialising a held
 * lock corrupts it (CVE-2024-26614).  They are initialised once, when the
 * socket is created (xtcp_create()) or accepted (xtcp_csk_accept()), as
 * inet_init_csk_locks() is called in stock.
 */
static XTCP_SEED void xtcp_reqsk_queue_alloc(struct request_sock_queue *queue)
{
	queue->fastopenq.rskq_rst_head = NULL;
	queue->fastopenq.rskq_rst_tail = NULL;
	queue->fastopenq.qlen = 0;
	queue->rskq_accept_head = NULL;
}

/*
 * inet_csk_listen_start(): announce the socket as listening, then have
 * get_port() confirm that the port may still be ours in that state (a
 * listener conflicts with more sockets than a bound one), then hash it.
 */
static XTCP_SEED int xtcp_csk_listen_start(struct sock *sk)
{
	struct inet_connection_sock *icsk = inet_csk(sk);
	struct inet_sock *inet = inet_sk(sk);
	bool autobind = !inet->inet_num;
	int err;

	xtcp_reqsk_queue_alloc(&icsk->icsk_accept_queue);
	WRITE_ONCE(sk->sk_ack_backlog, 0);
	inet_csk_delack_init(sk);

	inet_sk_set_state(sk, TCP_LISTEN);
	if (autobind)
		err = xtcp_bind_port(sk, 0);
	else
		err = sk->sk_prot->get_port(sk, inet->inet_num);
	if (!err)
		err = xtcp_fence_listen(sk);
	if (!err) {
		inet->inet_sport = htons(inet->inet_num);
		sk_dst_reset(sk);
		err = sk->sk_prot->hash(sk);
		if (likely(!err))
			return 0;
		xtcp_fence_unlisten(sk);
	}

	inet_sk_set_state(sk, TCP_CLOSE);
	if (autobind) {
		xtcp_put_port(sk);
		xtcp_fence_release(sk);
	}
	return err;
}

/**
 * xtcp_listen - listen() for AF_XTCP sockets (inet_listen())
 * @sock:    the socket
 * @backlog: accept queue limit, already clamped to net.core.somaxconn
 *
 * On a listening socket only the backlog changes.
 *
 * Return: 0, -EINVAL for a connected or connecting socket, -EADDRINUSE.
 */
XTCP_SEED int xtcp_listen(struct socket *sock, int backlog)
{
	struct sock *sk = sock->sk;
	int err = -EINVAL;

	lock_sock(sk);
	if (sock->state != SS_UNCONNECTED || sock->type != SOCK_STREAM)
		goto out;
	if (!((1 << sk->sk_state) & (TCPF_CLOSE | TCPF_LISTEN)))
		goto out;

	WRITE_ONCE(sk->sk_max_ack_backlog, backlog);
	err = 0;
	if (sk->sk_state != TCP_LISTEN) {
		xtcp_fastopen_listen(sk, backlog);
		err = xtcp_csk_listen_start(sk);
	}
out:
	release_sock(sk);
	return err;
}

/**
 * xtcp_csk_listen_stop - stop listening (inet_csk_listen_stop())
 * @sk: the listener, locked by the caller
 *
 * Unhashed first, so no new SYN finds it, then out of TCP_LISTEN, so
 * that a handshake completing on another CPU resets its child instead
 * of queueing it; then the queues are emptied.
 */
void xtcp_csk_listen_stop(struct sock *sk)
{
	xtcp_unhash(sk);
	inet_sk_set_state(sk, TCP_CLOSE);
	xtcp_reqsk_queue_drain(sk);
	WARN_ON_ONCE(sk->sk_ack_backlog);
}

/* inet_csk_listen_poll(): readable when a connection waits in the queue. */
__poll_t xtcp_listen_poll(struct sock *sk)
{
	return !reqsk_queue_empty(&inet_csk(sk)->icsk_accept_queue) ?
		(EPOLLIN | EPOLLRDNORM) : 0;
}

/*
 * inet_csk_wait_for_connect(): sleep, woken one at a time (exclusive
 * wait), until the queue has a connection, the socket stops listening,
 * a signal arrives or the timeout runs out.
 */
static int xtcp_csk_wait_for_connect(struct sock *sk, long timeo)
{
	struct request_sock_queue *queue = &inet_csk(sk)->icsk_accept_queue;
	DEFINE_WAIT(wait);
	int err;

	for (;;) {
		prepare_to_wait_exclusive(sk_sleep(sk), &wait,
					  TASK_INTERRUPTIBLE);
		release_sock(sk);
		if (reqsk_queue_empty(queue))
			timeo = schedule_timeout(timeo);
		sched_annotate_sleep();
		lock_sock(sk);
		err = 0;
		if (!reqsk_queue_empty(queue))
			break;
		err = -EINVAL;
		if (sk->sk_state != TCP_LISTEN)
			break;
		err = sock_intr_errno(timeo);
		if (signal_pending(current))
			break;
		err = -EAGAIN;
		if (!timeo)
			break;
	}
	finish_wait(sk_sleep(sk), &wait);
	return err;
}

/* reqsk_queue_remove(): take the oldest established connection. */
static struct request_sock *xtcp_reqsk_queue_remove(struct sock *parent)
{
	struct request_sock_queue *queue = &inet_csk(parent)->icsk_accept_queue;
	struct request_sock *req;

	spin_lock_bh(&queue->rskq_lock);
	req = queue->rskq_accept_head;
	if (req) {
		sk_acceptq_removed(parent);
		WRITE_ONCE(queue->rskq_accept_head, req->dl_next);
		if (!queue->rskq_accept_head)
			queue->rskq_accept_tail = NULL;
	}
	spin_unlock_bh(&queue->rskq_lock);
	return req;
}

/*
 * The memory cgroup part of inet_csk_accept().  On 6.12 the accepted
 * socket's slab object is charged to the accepting task's cgroup, as
 * stock's is.  Stock also gives the socket that cgroup for its buffers
 * (sk_memcg), but mem_cgroup_sk_alloc() and mem_cgroup_charge_skmem()
 * are not exported to modules: an accepted xtcp socket has no sk_memcg,
 * its buffers count in xtcp's pool alone (mem.c), and SO_RESERVE_MEM on
 * it fails with EOPNOTSUPP, as for any socket outside a memory cgroup.
 */
static void xtcp_csk_accept_memcg(struct sock *newsk)
{
	if (mem_cgroup_sockets_enabled)
		xtcp_kmem_cache_charge(newsk, GFP_KERNEL | __GFP_NOFAIL);
}

/* inet_csk_accept(): the next connection's socket, or NULL and *err. */
static struct sock *xtcp_csk_accept(struct sock *sk, int flags, int *err)
{
	struct request_sock_queue *queue = &inet_csk(sk)->icsk_accept_queue;
	struct request_sock *req;
	struct sock *newsk;
	int error;

	lock_sock(sk);
	error = -EINVAL;
	if (sk->sk_state != TCP_LISTEN)
		goto out_err;

	if (reqsk_queue_empty(queue)) {
		long timeo = sock_rcvtimeo(sk, flags & O_NONBLOCK);

		error = -EAGAIN;
		if (!timeo)
			goto out_err;
		error = xtcp_csk_wait_for_connect(sk, timeo);
		if (error)
			goto out_err;
	}
	req = xtcp_reqsk_queue_remove(sk);
	newsk = req->sk;
	/*
	 * A Fast Open child still waiting for its third ACK needs its
	 * request: req->sk cleared says the child was taken, and its
	 * xtcp_reqsk_fastopen_remove() frees the request when the
	 * handshake ends.  tfo_listener is read again under the lock
	 * that function clears it with.
	 */
	if (tcp_rsk(req)->tfo_listener) {
		spin_lock_bh(&queue->fastopenq.lock);
		if (tcp_rsk(req)->tfo_listener) {
			req->sk = NULL;
			req = NULL;
		}
		spin_unlock_bh(&queue->fastopenq.lock);
	}
	release_sock(sk);
	xtcp_csk_accept_memcg(newsk);
	if (req)
		reqsk_put(req);
	/*
	 * The child's queue is a copy of the listener's, locks included,
	 * taken while they may have been held: it may listen one day.
	 */
	inet_init_csk_locks(newsk);
	return newsk;

out_err:
	release_sock(sk);
	*err = error;
	return NULL;
}

/*
 * xtcp_accept - accept() for AF_XTCP sockets (inet_accept()); before
 * 6.10 it is reached through xtcp_accept_op() in compat.h.
 *
 * Return: 0 with @newsock grafted to the connection, or the errno stock
 * TCP gives: -EINVAL (not listening), -EAGAIN, -EINTR/-ERESTARTSYS.
 */
int xtcp_accept(struct socket *sock, struct socket *newsock,
		struct proto_accept_arg *arg)
{
	struct sock *sk1 = sock->sk, *sk2;

	arg->err = -EINVAL;
	sk2 = xtcp_csk_accept(sk1, arg->flags, &arg->err);
	if (!sk2)
		return arg->err;

	lock_sock(sk2);
	sock_rps_record_flow(sk2);
	WARN_ON(!((1 << sk2->sk_state) &
		  (TCPF_ESTABLISHED | TCPF_SYN_RECV | TCPF_CLOSE_WAIT |
		   TCPF_CLOSE)));
	sock_graft(sk2, newsock);
	newsock->state = SS_CONNECTED;
	release_sock(sk2);
	return 0;
}
