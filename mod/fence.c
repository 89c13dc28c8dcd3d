// SPDX-License-Identifier: GPL-2.0
/*
 * xtcp: holding xtcp's ports in stock TCP's bind table.
 *
 * xtcp and stock TCP share one port space per namespace: a port either
 * stack owns must look taken to the other.  For every socket that owns a
 * port through bind() or autobind, xtcp binds a kernel TCP socket, the
 * fence, to the same address and port, with the same SO_REUSEADDR,
 * SO_REUSEPORT, owner uid (of the socket's inode, as sock_i_uid() reads
 * it) and bound device.  Stock TCP's own bind()
 * then refuses the port when it would have refused an xtcp socket, its
 * ephemeral connect() skips it (a bucket created by bind() is never used
 * for connect()), and an xtcp bind() to a port stock TCP holds fails here
 * with stock's EADDRINUSE.
 *
 * Stock TCP lets a SO_REUSEADDR socket join a port whose SO_REUSEADDR
 * owners do not listen, and a listener conflicts with more later binds
 * than a bound socket does.  So when its xtcp socket listens, the fence
 * enters TCP_LISTEN too, exactly as inet_csk_listen_start() does it:
 * state first, then get_port() to re-check the port and clear the
 * bucket's fast-reuse flag.  The fence is never hashed, so no segment
 * ever reaches it.
 *
 * An accepted connection keeps its listener's port busy in stock TCP,
 * after the listener is gone too: each child pins its listener's fence
 * (a reference), and the fence stays bound, no longer listening, until
 * the last of them lets go.  Only the socket whose bind() made the fence
 * (its owner) changes its state.
 *
 * Lifetime: the owner's xs_fence is published with RCU, because a child
 * is cloned in softirq without the listener's lock while the owner may
 * be closing: the child takes its pin with refcount_inc_not_zero() under
 * rcu_read_lock(), and the struct is freed after a grace period.  The
 * last reference releases the kernel socket at once in process context
 * (close(), so a port is free when close() returns, as in stock), else
 * from xtcp_fence_wq (a destructor running in softirq or RCU callback).
 * The fence is a kernel socket and holds no reference on the namespace:
 * its owner or a child holds one until the fence is released or queued,
 * and xtcp's pernet exit flushes the queue before the namespace goes.
 */
#include <linux/net.h>
#include <net/inet_sock.h>
#include <net/ip.h>
#include <net/sock.h>
#include <net/tcp_states.h>

#include "xtcp.h"

/**
 * struct xtcp_fence - a stock TCP socket holding an xtcp port
 * @sock:  the kernel socket, bound to the owner's address and port
 * @owner: the xtcp socket whose bind() made it, until that socket lets
 *         go; only compared, never dereferenced
 * @ref:   the owner's reference and one pin per child
 * @work:  sock_release() in process context, for the last put from a
 *         context that cannot sleep
 * @rcu:   the struct outlives readers that found it through an owner
 */
struct xtcp_fence {
	struct socket		*sock;
	const struct sock	*owner;
	refcount_t		ref;
	struct work_struct	work;
	struct rcu_head		rcu;
};

static struct workqueue_struct *xtcp_fence_wq;

static void xtcp_fence_free(struct xtcp_fence *f)
{
	sock_release(f->sock);
	kfree_rcu(f, rcu);
}

static void xtcp_fence_work(struct work_struct *work)
{
	xtcp_fence_free(container_of(work, struct xtcp_fence, work));
}

/* Drop a reference; the last one releases the port in stock TCP. */
static void xtcp_fence_put(struct xtcp_fence *f, bool can_sleep)
{
	if (!refcount_dec_and_test(&f->ref))
		return;
	if (can_sleep)
		xtcp_fence_free(f);
	else
		queue_work(xtcp_fence_wq, &f->work);
}

/*
 * Only @sk itself changes its xs_fence: under its socket lock, bh-locked
 * in softirq, or in its destructor; a child's first value comes from its
 * listener under RCU (xtcp_fence_pin()).
 */
static struct xtcp_fence *xtcp_fence_of(const struct sock *sk)
{
	return rcu_dereference_protected(xtcp_sk(sk)->xs_fence, true);
}

/* Is @sk the socket whose bind() made its fence? */
static struct xtcp_fence *xtcp_fence_owned(const struct sock *sk)
{
	struct xtcp_fence *f = xtcp_fence_of(sk);

	return f && READ_ONCE(f->owner) == sk ? f : NULL;
}

static int xtcp_fence_bind(struct sock *sk, struct socket **fencep)
{
	struct inet_sock *inet = inet_sk(sk);
	struct sockaddr_in sin = {
		.sin_family	 = AF_INET,
		.sin_port	 = htons(inet->inet_num),
		.sin_addr.s_addr = inet->inet_rcv_saddr,
	};
	struct socket *fence;
	struct sock *fsk;
	int err;

	err = sock_create_kern(sock_net(sk), AF_INET, SOCK_STREAM,
			       IPPROTO_TCP, &fence);
	if (err)
		return err;
	fsk = fence->sk;
	if (sk->sk_reuse)
		sock_set_reuseaddr(fsk);
	if (sk->sk_reuseport)
		sock_set_reuseport(fsk);
	/*
	 * The owner stock's conflict checks compare is sock_i_uid(), the
	 * uid of the socket's inode: the one who created the socket, not
	 * the one binding it now (who may have setuid() in between) and
	 * not sk_uid.  The fence belongs to the xtcp socket's owner, as an
	 * MPTCP subflow belongs to its MPTCP socket's.
	 */
	SOCK_INODE(fence)->i_uid = SOCK_INODE(sk->sk_socket)->i_uid;
	SOCK_INODE(fence)->i_gid = SOCK_INODE(sk->sk_socket)->i_gid;
	fsk->sk_uid = sk->sk_uid;
	if (sk->sk_bound_dev_if) {
		err = sock_bindtoindex(fsk, sk->sk_bound_dev_if, true);
		if (err)
			goto out_release;
	}
	/* xtcp_bind() has judged the address already, as stock would. */
	ip_sock_set_freebind(fsk);

	err = kernel_bind(fence, (struct sockaddr *)&sin, sizeof(sin));
	if (err)
		goto out_release;
	*fencep = fence;
	return 0;

out_release:
	sock_release(fence);
	return err;
}

/**
 * xtcp_fence_acquire - hold @sk's address and port in stock TCP's table
 * @sk: a socket that owns a port in xtcp's table, locked by the caller
 *
 * Context: process context; sleeps.
 * Return: 0, or -EADDRINUSE when stock TCP holds the port.
 */
int xtcp_fence_acquire(struct sock *sk)
{
	struct xtcp_fence *f;
	int err;

	might_sleep();
	/* A pin went with the port; only an owned fence can be left. */
	xtcp_fence_unpin(sk, true);
	if (WARN_ON_ONCE(xtcp_fence_of(sk)))
		return 0;
	f = kzalloc(sizeof(*f), GFP_KERNEL);
	if (!f)
		return -ENOMEM;
	err = xtcp_fence_bind(sk, &f->sock);
	if (err) {
		kfree(f);
		return err;
	}
	WRITE_ONCE(f->owner, sk);
	refcount_set(&f->ref, 1);
	INIT_WORK(&f->work, xtcp_fence_work);
	rcu_assign_pointer(xtcp_sk(sk)->xs_fence, f);
	return 0;
}

/**
 * xtcp_fence_steal - take a connection's pin for its timewait sock
 * @sk: a connection entering TIME-WAIT, locked
 *
 * The pin moves: @sk no longer holds it, the caller does, until
 * xtcp_fence_drop().  A socket whose own bind() made its fence keeps it
 * (a connection never is one).
 *
 * Return: the fence, or NULL if @sk pins none.
 */
struct xtcp_fence *xtcp_fence_steal(struct sock *sk)
{
	struct xtcp_fence *f = xtcp_fence_of(sk);

	if (!f || READ_ONCE(f->owner) == sk)
		return NULL;
	RCU_INIT_POINTER(xtcp_sk(sk)->xs_fence, NULL);
	return f;
}

/**
 * xtcp_fence_unpin - a child gives its port back: its pin goes
 * @sk:        the socket; nothing happens unless it holds a pin
 * @can_sleep: the caller may sleep (the last pin is released at once)
 *
 * As a stock child leaves its bind bucket when it gives the port up
 * (inet_put_port() from tcp_set_state(TCP_CLOSE) or its destruction).
 *
 * Context: any; process context if @can_sleep.
 */
void xtcp_fence_unpin(struct sock *sk, bool can_sleep)
{
	struct xtcp_fence *f = xtcp_fence_steal(sk);

	if (f)
		xtcp_fence_put(f, can_sleep);
}

/**
 * xtcp_fence_drop - let go of a pin xtcp_fence_steal() took
 * @f: the fence, or NULL
 *
 * Context: any; the port goes back to stock TCP from xtcp_fence_wq if
 * this was the last reference.
 */
void xtcp_fence_drop(struct xtcp_fence *f)
{
	if (f)
		xtcp_fence_put(f, false);
}

/**
 * xtcp_fence_pin - a new child keeps its listener's port busy in stock TCP
 * @child:    the child, just cloned from @listener (its xs_fence copied)
 * @listener: the listener, not locked; it may be closing meanwhile
 *
 * Context: softirq.
 */
void xtcp_fence_pin(struct sock *child, const struct sock *listener)
{
	struct xtcp_fence *f;

	rcu_read_lock();
	f = rcu_dereference(xtcp_sk(listener)->xs_fence);
	if (f && !refcount_inc_not_zero(&f->ref))
		f = NULL;
	rcu_read_unlock();
	RCU_INIT_POINTER(xtcp_sk(child)->xs_fence, f);
}

/**
 * xtcp_fence_listen - the fence conflicts as a listener from now on
 * @sk: the xtcp socket, which has just entered TCP_LISTEN
 *
 * Context: process context; sleeps.
 * Return: 0, or -EADDRINUSE when a stock socket bound meanwhile conflicts
 * with a listener, as stock TCP's listen() would fail.
 */
int xtcp_fence_listen(struct sock *sk)
{
	struct xtcp_fence *f = xtcp_fence_owned(sk);
	struct sock *fsk;
	int err;

	might_sleep();
	if (!f)
		return 0;
	fsk = f->sock->sk;
	lock_sock(fsk);
	inet_sk_set_state(fsk, TCP_LISTEN);
	err = fsk->sk_prot->get_port(fsk, inet_sk(fsk)->inet_num);
	if (err)
		inet_sk_set_state(fsk, TCP_CLOSE);
	release_sock(fsk);
	return err;
}

/**
 * xtcp_fence_unlisten - the xtcp socket stopped listening but keeps its port
 * @sk: the xtcp socket
 *
 * Context: process context; sleeps.
 */
void xtcp_fence_unlisten(struct sock *sk)
{
	struct xtcp_fence *f = xtcp_fence_owned(sk);

	might_sleep();
	if (!f)
		return;
	lock_sock(f->sock->sk);
	inet_sk_set_state(f->sock->sk, TCP_CLOSE);
	release_sock(f->sock->sk);
}

/**
 * xtcp_fence_release - @sk no longer holds its port in stock TCP
 * @sk: the socket; may have no fence
 *
 * The owner's fence stops listening and loses the owner's reference, a
 * child's loses its pin; the port is stock TCP's again when no child
 * pins it any more.
 *
 * Context: process context; sleeps.
 */
void xtcp_fence_release(struct sock *sk)
{
	struct xtcp_fence *f = xtcp_fence_of(sk);

	might_sleep();
	if (!f)
		return;
	if (xtcp_fence_owned(sk)) {
		xtcp_fence_unlisten(sk);
		WRITE_ONCE(f->owner, NULL);
	}
	RCU_INIT_POINTER(xtcp_sk(sk)->xs_fence, NULL);
	xtcp_fence_put(f, true);
}

/**
 * xtcp_fence_destruct - the last of @sk: a pin it still holds goes
 * @sk: the socket, about to be freed
 *
 * A child reset by its peer, or forgotten by its closing listener, never
 * went through close(); it may end in softirq.
 *
 * Context: any (__sk_destruct()).
 */
void xtcp_fence_destruct(struct sock *sk)
{
	struct xtcp_fence *f = xtcp_fence_of(sk);

	if (!f)
		return;
	RCU_INIT_POINTER(xtcp_sk(sk)->xs_fence, NULL);
	if (READ_ONCE(f->owner) == sk)
		WRITE_ONCE(f->owner, NULL);
	xtcp_fence_put(f, false);
}

int __init xtcp_fence_init(void)
{
	xtcp_fence_wq = alloc_workqueue("xtcp_fence", WQ_UNBOUND, 0);
	return xtcp_fence_wq ? 0 : -ENOMEM;
}

/* Every queued release done: before a namespace goes, and at rmmod. */
void xtcp_fence_flush(void)
{
	flush_workqueue(xtcp_fence_wq);
}

void xtcp_fence_exit(void)
{
	destroy_workqueue(xtcp_fence_wq);
}
