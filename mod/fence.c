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
 * The fence is a kernel socket: it holds no reference on the namespace,
 * and is always released by its owner before the owner, which holds one.
 */
#include <linux/net.h>
#include <net/inet_sock.h>
#include <net/ip.h>
#include <net/sock.h>
#include <net/tcp_states.h>

#include "xtcp.h"

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
	might_sleep();
	if (WARN_ON_ONCE(xtcp_sk(sk)->xs_fence))
		return 0;
	return xtcp_fence_bind(sk, &xtcp_sk(sk)->xs_fence);
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
	struct socket *fence = xtcp_sk(sk)->xs_fence;
	struct sock *fsk;
	int err;

	might_sleep();
	if (!fence)
		return 0;
	fsk = fence->sk;
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
	struct socket *fence = xtcp_sk(sk)->xs_fence;

	might_sleep();
	if (!fence)
		return;
	lock_sock(fence->sk);
	inet_sk_set_state(fence->sk, TCP_CLOSE);
	release_sock(fence->sk);
}

/**
 * xtcp_fence_release - let stock TCP have @sk's port again
 * @sk: the socket; may have no fence
 *
 * Context: process context; sleeps.
 */
void xtcp_fence_release(struct sock *sk)
{
	struct socket *fence = xtcp_sk(sk)->xs_fence;

	might_sleep();
	if (!fence)
		return;
	xtcp_sk(sk)->xs_fence = NULL;
	sock_release(fence);
}
