// SPDX-License-Identifier: GPL-2.0
/*
 * xtcp: bind() and local ports.
 *
 * Mirrors __inet_bind() (net/ipv4/af_inet.c) and inet_csk_get_port(),
 * inet_csk_find_open_port() and inet_csk_bind_conflict()
 * (net/ipv4/inet_connection_sock.c) on xtcp's own, per-namespace bind
 * hash.  Each bucket of the hash has its own lock, taken with BHs off
 * because children inherit their listener's port in softirq context.
 *
 * A port that xtcp owns is also held in stock TCP's table by a fence
 * socket (fence.c), so that the two stacks never hand out the same port.
 */
#include <linux/slab.h>
#include <net/inet_hashtables.h>
#include <net/inet_sock.h>
#include <net/ip.h>
#include <net/l3mdev.h>
#include <net/route.h>
#include <net/sock_reuseport.h>
#include <net/tcp_states.h>

#include "uapi/linux/xtcp.h"
#include "xtcp.h"

static struct kmem_cache *xtcp_bind_bucket_cachep __read_mostly;

/* How many ports to try when stock TCP holds the ones our table offers. */
#define XTCP_AUTOBIND_TRIES	64

static struct xtcp_bind_hashbucket *xtcp_bhash(const struct sock *sk,
					       unsigned short port)
{
	struct xtcp_net *xn = xtcp_pernet(sock_net(sk));

	return &xn->bhash[port & (XTCP_BHASH_SIZE - 1)];
}

static struct xtcp_bind_bucket *
xtcp_bind_bucket_find(struct xtcp_bind_hashbucket *head, unsigned short port,
		      int l3mdev)
{
	struct xtcp_bind_bucket *tb;

	hlist_for_each_entry(tb, &head->chain, node)
		if (tb->port == port && tb->l3mdev == l3mdev)
			return tb;
	return NULL;
}

/*
 * inet_bind_bucket_create(); called with the head lock held.  The port
 * is xtcp's from here on: the receive hook looks it up (xtcp_net.ports).
 */
static XTCP_SEED struct xtcp_bind_bucket *
xtcp_bind_bucket_create(const struct sock *sk,
			struct xtcp_bind_hashbucket *head,
			unsigned short port, int l3mdev)
{
	struct xtcp_bind_bucket *tb;

	tb = kmem_cache_zalloc(xtcp_bind_bucket_cachep, GFP_ATOMIC);
	if (!tb)
		return NULL;
	tb->port = port;
	tb->l3mdev = l3mdev;
	INIT_HLIST_HEAD(&tb->owners);
	hlist_add_head(&tb->node, &head->chain);
	set_bit(port, xtcp_pernet(sock_net(sk))->ports);
	return tb;
}

/*
 * inet_bind_bucket_destroy(): free the bucket once its last owner left;
 * the port stops being xtcp's with the last bucket of that port (one
 * per l3mdev, all on the same chain).  Head lock held.
 */
static void xtcp_bind_bucket_destroy(const struct sock *sk,
				     struct xtcp_bind_hashbucket *head,
				     struct xtcp_bind_bucket *tb)
{
	unsigned short port = tb->port;

	if (!hlist_empty(&tb->owners))
		return;
	__hlist_del(&tb->node);
	kmem_cache_free(xtcp_bind_bucket_cachep, tb);
	hlist_for_each_entry(tb, &head->chain, node)
		if (tb->port == port)
			return;
	clear_bit(port, xtcp_pernet(sock_net(sk))->ports);
}

/* inet_bind_hash(): make @sk an owner of @tb. */
static XTCP_SEED void xtcp_bind_hash(struct sock *sk, struct xtcp_bind_bucket *tb,
				     unsigned short snum)
{
	inet_sk(sk)->inet_num = snum;
	sk_add_bind_node(sk, &tb->owners);
	xtcp_sk_set_bind_hash(sk, tb);
}

/*
 * ipv4_rcv_saddr_equal(): do two bound addresses overlap?  A wildcard
 * overlaps everything on the side where @match_wildcard* allows it.
 */
static bool xtcp_rcv_saddr_equal(__be32 a1, __be32 a2,
				 bool match_wildcard1, bool match_wildcard2)
{
	if (a1 == a2)
		return true;
	return (match_wildcard1 && !a1) || (match_wildcard2 && !a2);
}

/*
 * inet_bind_conflict(): may @sk share a port with @sk2, ignoring
 * addresses?  Two SO_REUSEADDR sockets may, unless @sk2 listens; two
 * SO_REUSEPORT sockets of the same user may; anything else may not.
 * @relax is false only for autobind, which must not reuse a port that
 * merely allows SO_REUSEADDR sharing.
 */
static XTCP_SEED bool xtcp_bind_conflict(const struct sock *sk, struct sock *sk2,
					 kuid_t uid, bool relax, bool reuseport_cb_ok,
					 bool reuseport_ok)
{
	int bound_dev_if2;

	if (sk == sk2)
		return false;

	bound_dev_if2 = READ_ONCE(sk2->sk_bound_dev_if);
	if (sk->sk_bound_dev_if && bound_dev_if2 &&
	    sk->sk_bound_dev_if != bound_dev_if2)
		return false;

	if (sk->sk_reuse && sk2->sk_reuse && sk2->sk_state != TCP_LISTEN)
		return !relax || (!reuseport_ok && sk->sk_reuseport &&
				  sk2->sk_reuseport && reuseport_cb_ok &&
				  (sk2->sk_state == TCP_TIME_WAIT ||
				   uid_eq(uid, sock_i_uid(sk2))));

	return !reuseport_ok || !sk->sk_reuseport || !sk2->sk_reuseport ||
	       !reuseport_cb_ok ||
	       (sk2->sk_state != TCP_TIME_WAIT &&
		!uid_eq(uid, sock_i_uid(sk2)));
}

/* inet_csk_bind_conflict(): does any owner of @tb conflict with @sk? */
static XTCP_SEED bool xtcp_csk_bind_conflict(const struct sock *sk,
					     const struct xtcp_bind_bucket *tb,
					     bool relax, bool reuseport_ok)
{
	kuid_t uid = sock_i_uid((struct sock *)sk);
	struct sock_reuseport *reuseport_cb;
	bool reuseport_cb_ok;
	struct sock *sk2;

	rcu_read_lock();
	reuseport_cb = rcu_dereference(sk->sk_reuseport_cb);
	reuseport_cb_ok = !reuseport_cb ||
			  READ_ONCE(reuseport_cb->num_closed_socks);
	rcu_read_unlock();

	sk_for_each_bound(sk2, &tb->owners) {
		if (!xtcp_bind_conflict(sk, sk2, uid, relax, reuseport_cb_ok,
					reuseport_ok))
			continue;
		if (xtcp_rcv_saddr_equal(sk->sk_rcv_saddr, sk2->sk_rcv_saddr,
					 true, true))
			return true;
	}
	return false;
}

/* sk_reuseport_match(): may @sk join @tb on the SO_REUSEPORT fast path? */
static bool xtcp_reuseport_match(const struct xtcp_bind_bucket *tb,
				 struct sock *sk)
{
	if (tb->fastreuseport <= 0 || !sk->sk_reuseport)
		return false;
	if (rcu_access_pointer(sk->sk_reuseport_cb))
		return false;
	if (!uid_eq(tb->fastuid, sock_i_uid(sk)))
		return false;
	/*
	 * Only a bucket once marked without fastreuseport and then reset
	 * needs the address check: only then can its owners' addresses
	 * differ from fast_rcv_saddr.
	 */
	if (tb->fastreuseport == FASTREUSEPORT_ANY)
		return true;
	return xtcp_rcv_saddr_equal(tb->fast_rcv_saddr, sk->sk_rcv_saddr,
				    true, false);
}

/* inet_csk_update_fastreuse(): keep the fast paths true for all owners. */
static void xtcp_csk_update_fastreuse(struct xtcp_bind_bucket *tb,
				      struct sock *sk)
{
	bool reuse = sk->sk_reuse && sk->sk_state != TCP_LISTEN;
	bool first = hlist_empty(&tb->owners);

	if (first)
		tb->fastreuse = reuse;
	else if (!reuse)
		tb->fastreuse = 0;

	if (!sk->sk_reuseport) {
		tb->fastreuseport = 0;
		return;
	}
	/*
	 * No conflict with the owners, so sockets that match this one can
	 * take the fast path; after a reset only with the strict check.
	 */
	if (first || !xtcp_reuseport_match(tb, sk)) {
		tb->fastreuseport = first ? FASTREUSEPORT_ANY :
					    FASTREUSEPORT_STRICT;
		tb->fastuid = sock_i_uid(sk);
		tb->fast_rcv_saddr = sk->sk_rcv_saddr;
	}
}

/*
 * The body of inet_csk_get_port() for one port, under that port's head
 * lock: find or create the bucket (goto tb_found / tb_not_found), check
 * for conflicts, and make @sk an owner.  An explicit port may take the
 * SO_REUSEADDR and SO_REUSEPORT fast paths; autobind scans the owners
 * with @relax as inet_csk_find_open_port() does.
 */
static XTCP_SEED int xtcp_csk_take_port(struct sock *sk, unsigned short port,
					bool autobind, bool relax)
{
	bool reuse = sk->sk_reuse && sk->sk_state != TCP_LISTEN;
	int l3mdev = inet_sk_bound_l3mdev(sk);
	struct xtcp_bind_hashbucket *head;
	struct xtcp_bind_bucket *tb;
	int ret = -EADDRINUSE;

	head = xtcp_bhash(sk, port);
	spin_lock_bh(&head->lock);
	tb = xtcp_bind_bucket_find(head, port, l3mdev);
	if (!tb) {
		/* No memory: EADDRINUSE, as __inet_bind() reports it. */
		tb = xtcp_bind_bucket_create(sk, head, port, l3mdev);
		if (!tb)
			goto unlock;
	} else if (autobind) {
		if (xtcp_csk_bind_conflict(sk, tb, relax, false))
			goto unlock;
	} else if (!hlist_empty(&tb->owners) &&
		   sk->sk_reuse != SK_FORCE_REUSE &&
		   !(tb->fastreuse > 0 && reuse) &&
		   !xtcp_reuseport_match(tb, sk) &&
		   xtcp_csk_bind_conflict(sk, tb, true, true)) {
		goto unlock;
	}

	xtcp_csk_update_fastreuse(tb, sk);
	if (!xtcp_sk_bind_hash(sk))
		xtcp_bind_hash(sk, tb, port);
	WARN_ON(xtcp_sk_bind_hash(sk) != tb);
	ret = 0;
unlock:
	spin_unlock_bh(&head->lock);
	return ret;
}

/*
 * inet_csk_find_open_port(): take a port from ip_local_port_range for
 * bind(port 0) or listen() on an unbound socket.  Start at a random odd
 * offset (connect() favours even ports; leave those to it), scan one
 * parity then the other; SO_REUSEADDR sockets try the lower half of the
 * range first.
 */
static int xtcp_csk_find_open_port(struct sock *sk)
{
	int i, low, high, attempt_half, port;
	struct net *net = sock_net(sk);
	u32 remaining, offset;
	bool relax = false;

ports_exhausted:
	attempt_half = (sk->sk_reuse == SK_CAN_REUSE) ? 1 : 0;
other_half_scan:
	inet_sk_get_local_port_range(sk, &low, &high);
	high++; /* [32768, 60999] -> [32768, 61000[ */
	if (high - low < 4)
		attempt_half = 0;
	if (attempt_half) {
		int half = low + (((high - low) >> 2) << 1);

		if (attempt_half == 1)
			high = half;
		else
			low = half;
	}
	remaining = high - low;
	if (likely(remaining > 1))
		remaining &= ~1U;

	offset = get_random_u32_below(remaining);
	offset |= 1U;

other_parity_scan:
	port = low + offset;
	for (i = 0; i < remaining; i += 2, port += 2) {
		if (unlikely(port >= high))
			port -= remaining;
		if (inet_is_local_reserved_port(net, port))
			continue;
		if (!xtcp_csk_take_port(sk, port, true, relax))
			return 0;
		cond_resched();
	}

	offset--;
	if (!(offset & 1))
		goto other_parity_scan;

	if (attempt_half == 1) {
		/* Now the upper half of the range. */
		attempt_half = 2;
		goto other_half_scan;
	}

	if (READ_ONCE(net->ipv4.sysctl_ip_autobind_reuse) && !relax) {
		/* Sharing may still work for different destinations. */
		relax = true;
		goto ports_exhausted;
	}
	return -EADDRINUSE;
}

/**
 * xtcp_csk_get_port - take local port @snum for @sk, or any if 0
 * @sk:   the socket, locked by the caller
 * @snum: the port in host order, 0 to choose one
 *
 * Mirrors inet_csk_get_port().  Called again by listen() with the port
 * the socket already owns: the listening state changes what conflicts.
 *
 * Return: 0 with @sk an owner of the port's bucket, or -EADDRINUSE.
 */
XTCP_SEED int xtcp_csk_get_port(struct sock *sk, unsigned short snum)
{
	if (!snum)
		return xtcp_csk_find_open_port(sk);
	return xtcp_csk_take_port(sk, snum, false, true);
}

/**
 * xtcp_put_port - give up @sk's local port (inet_put_port())
 * @sk: the socket
 *
 * An owned stock-TCP fence is not touched here (that takes a sleeping
 * lock; xtcp_fence_release() does it in process context), but a child's
 * pin on its listener's fence goes with the port, released later from a
 * workqueue if it was the last: this may run in softirq.
 */
void xtcp_put_port(struct sock *sk)
{
	struct xtcp_bind_bucket *tb = xtcp_sk_bind_hash(sk);
	struct xtcp_bind_hashbucket *head;

	xtcp_fence_unpin(sk, false);
	if (!tb)
		return;
	head = xtcp_bhash(sk, tb->port);
	spin_lock_bh(&head->lock);
	__sk_del_bind_node(sk);
	xtcp_sk_set_bind_hash(sk, NULL);
	inet_sk(sk)->inet_num = 0;
	xtcp_bind_bucket_destroy(sk, head, tb);
	spin_unlock_bh(&head->lock);
}

/**
 * xtcp_twsk_bind_hash - a timewait sock joins its connection's bucket
 * @tw: the new timewait sock, not yet hashed
 * @sk: the connection it replaces, which still owns @tw's port
 *
 * The hashdance's first step (inet_twsk_hashdance_schedule()): the
 * bucket gains an owner before the connection leaves it, so it is never
 * freed in between and xtcp_csk_bind_conflict() sees the port taken
 * throughout, with the connection's SO_REUSEADDR and SO_REUSEPORT.
 *
 * Context: softirq or BHs off; @sk locked.
 */
void xtcp_twsk_bind_hash(struct xtcp_timewait_sock *tw, struct sock *sk)
{
	struct xtcp_bind_bucket *tb = xtcp_sk_bind_hash(sk);
	struct xtcp_bind_hashbucket *head;

	if (WARN_ON_ONCE(!tb))
		return;
	head = xtcp_bhash(sk, tb->port);
	spin_lock(&head->lock);
	xtcp_tw_set_bind_hash(tw, tb);
	sk_add_bind_node((struct sock *)tw, &tb->owners);
	spin_unlock(&head->lock);
}

/**
 * xtcp_twsk_bind_unhash - the timewait sock's port is free (inet_twsk_bind_unhash())
 * @tw: the timewait sock, being killed
 *
 * The bucket goes with its last owner.
 *
 * Context: any; takes the bucket's lock with BHs off.
 */
void xtcp_twsk_bind_unhash(struct xtcp_timewait_sock *tw)
{
	struct xtcp_bind_bucket *tb = xtcp_tw_bind_hash(tw);
	struct xtcp_bind_hashbucket *head;

	if (!tb)
		return;
	head = xtcp_bhash((struct sock *)tw, tb->port);
	spin_lock_bh(&head->lock);
	__sk_del_bind_node((struct sock *)tw);
	xtcp_tw_set_bind_hash(tw, NULL);
	xtcp_bind_bucket_destroy((struct sock *)tw, head, tb);
	spin_unlock_bh(&head->lock);
}

/**
 * xtcp_bind_port - own a port in xtcp's table and fence it in stock TCP's
 * @sk:   the socket, locked by the caller
 * @snum: the port, or 0 to choose one
 *
 * A chosen port that stock TCP already holds is given back and another
 * one is chosen, a bounded number of times.
 *
 * Return: 0, or -EADDRINUSE/-ENOMEM with @sk owning no port.
 */
XTCP_SEED int xtcp_bind_port(struct sock *sk, unsigned short snum)
{
	int tries = snum ? 1 : XTCP_AUTOBIND_TRIES;
	int err;

	while (tries--) {
		err = sk->sk_prot->get_port(sk, snum);
		if (err)
			return err;
		err = xtcp_fence_acquire(sk);
		if (!err)
			return 0;
		xtcp_put_port(sk);
		if (err != -EADDRINUSE)
			return err;
	}
	return -EADDRINUSE;
}

/*
 * An xtcp socket's addresses are AF_INET's, as getsockname() reports
 * them; AF_UNSPEC means "any" only.  The xtcp family number is not an
 * address family: inet_bind() refuses it, and so does xtcp.  Accepting it
 * let a bind() pass Landlock's LANDLOCK_ACCESS_NET_BIND_TCP rules, which
 * check AF_INET and AF_UNSPEC addresses of TCP sockets and let other
 * families through (hook_socket_bind(), 6.7 and later).
 */
static int xtcp_bind_check_family(const struct sockaddr_in *addr)
{
	if (addr->sin_family == AF_INET)
		return 0;
	/* Compatibility games, as inet_bind(): AF_UNSPEC means AF_INET. */
	if (addr->sin_family == AF_UNSPEC &&
	    addr->sin_addr.s_addr == htonl(INADDR_ANY))
		return 0;
	return -EAFNOSUPPORT;
}

/**
 * xtcp_bind - bind() for AF_XTCP sockets, as inet_bind()/__inet_bind()
 * @sock:     the socket
 * @uaddr:    a struct sockaddr_in
 * @addr_len: its length as userspace gave it
 *
 * Return: 0 or the errno stock TCP gives for the same call.
 */
XTCP_SEED int xtcp_bind(struct socket *sock, struct sockaddr *uaddr, int addr_len)
{
	struct sockaddr_in *addr = (struct sockaddr_in *)uaddr;
	struct sock *sk = sock->sk;
	struct inet_sock *inet = inet_sk(sk);
	struct net *net = sock_net(sk);
	u32 tb_id = RT_TABLE_LOCAL;
	unsigned short snum;
	int chk_addr_ret;
	int err;

	if (addr_len < (int)sizeof(struct sockaddr_in))
		return -EINVAL;
	err = xtcp_bind_check_family(addr);
	if (err)
		return err;

	tb_id = l3mdev_fib_table_by_index(net, sk->sk_bound_dev_if) ? : tb_id;
	chk_addr_ret = inet_addr_type_table(net, addr->sin_addr.s_addr, tb_id);

	/*
	 * Not a standard, but applications break without it: binding to an
	 * address the host does not have is allowed with IP_FREEBIND,
	 * IP_TRANSPARENT or net.ipv4.ip_nonlocal_bind.
	 */
	if (!inet_addr_valid_or_nonlocal(net, inet, addr->sin_addr.s_addr,
					 chk_addr_ret))
		return -EADDRNOTAVAIL;

	snum = ntohs(addr->sin_port);
	if (snum && inet_port_requires_bind_service(net, snum) &&
	    !ns_capable(net->user_ns, CAP_NET_BIND_SERVICE))
		return -EACCES;

	lock_sock(sk);
	/* An active socket, or a second bind(). */
	err = -EINVAL;
	if (sk->sk_state != TCP_CLOSE || inet->inet_num)
		goto out_release_sock;

	/*
	 * rcv_saddr is what lookups match; saddr is the source on transmit,
	 * which for a multicast or broadcast bind is the device's address.
	 */
	inet->inet_rcv_saddr = addr->sin_addr.s_addr;
	inet->inet_saddr = addr->sin_addr.s_addr;
	if (chk_addr_ret == RTN_MULTICAST || chk_addr_ret == RTN_BROADCAST)
		inet->inet_saddr = 0;

	/* IP_BIND_ADDRESS_NO_PORT: the port waits for listen(). */
	if (snum || !xtcp_compat_bind_address_no_port(sk)) {
		err = xtcp_bind_port(sk, snum);
		if (err) {
			inet->inet_saddr = 0;
			inet->inet_rcv_saddr = 0;
			goto out_release_sock;
		}
	}

	if (inet->inet_rcv_saddr)
		sk->sk_userlocks |= SOCK_BINDADDR_LOCK;
	if (snum)
		sk->sk_userlocks |= SOCK_BINDPORT_LOCK;
	inet->inet_sport = htons(inet->inet_num);
	inet->inet_daddr = 0;
	inet->inet_dport = 0;
	sk_dst_reset(sk);
	err = 0;
out_release_sock:
	release_sock(sk);
	return err;
}

int xtcp_bind_init(void)
{
	xtcp_bind_bucket_cachep = KMEM_CACHE(xtcp_bind_bucket, 0);
	return xtcp_bind_bucket_cachep ? 0 : -ENOMEM;
}

void xtcp_bind_exit(void)
{
	kmem_cache_destroy(xtcp_bind_bucket_cachep);
}
