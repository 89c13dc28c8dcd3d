// SPDX-License-Identifier: GPL-2.0
/*
 * xtcp: the timewait sock's life, mirroring net/ipv4/inet_timewait_sock.c.
 *
 * A connection that reaches TIME-WAIT (or an orphan's last part of
 * FIN-WAIT-2) hands its 4-tuple to a small struct xtcp_timewait_sock
 * that answers the peer for 2 MSL (RFC 9293 3.10.7.4; Linux's 60 s,
 * TCP_TIMEWAIT_LEN) while the full socket is freed.  What it answers is
 * tcp_minisocks.c's (minisocks.c); here: allocation, the "hashdance"
 * that puts it in the connection's place, its timer, and its death.
 *
 * References: one for being alive (in the established hash, among its
 * bind bucket's owners, its timer pending), set when it is published
 * and dropped by xtcp_twsk_kill(), which runs exactly once: from the
 * timer, or from xtcp_twsk_deschedule_put() when del_timer_sync() took
 * the pending timer away.  Lookups take theirs with
 * refcount_inc_not_zero() under RCU (the slab is TYPESAFE_BY_RCU, like
 * the sockets' own) and drop them with inet_twsk_put() or
 * sock_gen_put(), which free it into xtcp's slab through xtcp_tw_prot.
 *
 * Fields written after publication (tw_substate, tw_rcv_nxt,
 * tw_ts_recent, tw_ts_recent_stamp, tw_last_oow_ack_time) change only
 * in softirq, from the segments xtcp_v4_rcv() hands it, with
 * WRITE_ONCE()/READ_ONCE() as stock's; two CPUs may race there exactly
 * as they may for stock's timewait socks.
 *
 * No module reference is held: xtcp_twsk_purge() kills every timewait
 * sock of a namespace before it goes (also on rmmod, after the receive
 * hook is gone), so rmmod does not wait out TIME-WAIT.
 */
#include <linux/timer.h>
#include <net/inet_timewait_sock.h>
#include <net/tcp.h>

#include "xtcp.h"

/* The slab: proto_register() of xtcp_prot creates "tw_sock_XTCP". */
struct timewait_sock_ops xtcp_timewait_sock_ops = {
	.twsk_obj_size	= sizeof(struct xtcp_timewait_sock),
};

/*
 * What inet_twsk_free() reads of a timewait sock's tw_prot: the slab,
 * and an owner whose reference it drops, none here.  Never registered.
 */
static struct proto xtcp_tw_prot = {
	.name		= "XTCP",
	.twsk_prot	= &xtcp_timewait_sock_ops,
};

/*
 * inet_twsk_kill(): out of the established hash and the bind bucket,
 * the fence pin let go, and the reference for being alive dropped.
 */
static void xtcp_twsk_kill(struct xtcp_timewait_sock *tw)
{
	struct sock *sk = (struct sock *)tw;
	struct xtcp_net *xn = xtcp_pernet(sock_net(sk));

	xtcp_ehash_remove(sk);
	xtcp_twsk_bind_unhash(tw);
	xtcp_fence_drop(xtcp_tw_fence(tw));
	xtcp_tw_set_fence(tw, NULL);
	atomic_dec(&xn->tw_count);
	inet_twsk_put(&tw->tw_tcp.tw_sk);
}

/* tw_timer_handler(): TIME-WAIT is over. */
static void xtcp_twsk_timer(struct timer_list *t)
{
	struct inet_timewait_sock *itw = from_timer(itw, t, tw_timer);

	xtcp_twsk_kill(xtcp_twsk((struct sock *)itw));
}

/**
 * xtcp_twsk_alloc - a timewait sock for @sk (inet_twsk_alloc())
 * @sk:    the connection, locked
 * @state: TCP_TIME_WAIT, or TCP_FIN_WAIT2 for an orphan's last wait
 *
 * It takes the connection's identity (addresses, ports, hash, bound
 * device, SO_REUSEADDR/SO_REUSEPORT); its refcount stays 0, so lookups
 * skip it, until xtcp_twsk_hashdance_schedule() publishes it.
 *
 * Context: softirq or process, BHs may be on; GFP_ATOMIC.
 * Return: the timewait sock, or NULL when the namespace has
 * net.xtcp.max_tw_buckets of them already or memory is short.
 */
struct xtcp_timewait_sock *xtcp_twsk_alloc(const struct sock *sk, int state)
{
	struct xtcp_net *xn = xtcp_pernet(sock_net(sk));
	const struct inet_sock *inet = inet_sk(sk);
	struct inet_timewait_sock *itw;
	struct xtcp_timewait_sock *tw;

	if (atomic_read(&xn->tw_count) >=
	    READ_ONCE(xn->sysctl.max_tw_buckets))
		return NULL;
	tw = kmem_cache_alloc(xtcp_timewait_sock_ops.twsk_slab, GFP_ATOMIC);
	if (!tw)
		return NULL;
	atomic_inc(&xn->tw_count);
	itw = &tw->tw_tcp.tw_sk;
	itw->tw_dr = NULL;
	itw->tw_daddr = inet->inet_daddr;
	itw->tw_rcv_saddr = inet->inet_rcv_saddr;
	itw->tw_bound_dev_if = sk->sk_bound_dev_if;
	itw->tw_tos = READ_ONCE(inet->tos);
	itw->tw_num = inet->inet_num;
	itw->tw_state = TCP_TIME_WAIT;
	itw->tw_substate = state;
	itw->tw_sport = inet->inet_sport;
	itw->tw_dport = inet->inet_dport;
	itw->tw_family = sk->sk_family;
	itw->tw_reuse = sk->sk_reuse;
	itw->tw_reuseport = sk->sk_reuseport;
	itw->tw_hash = sk->sk_hash;
	itw->tw_ipv6only = 0;
	itw->tw_transparent = xtcp_compat_transparent(sk);
	itw->tw_prot = &xtcp_tw_prot;
	atomic64_set(&itw->tw_cookie, atomic64_read(&sk->sk_cookie));
	twsk_net_set(itw, sock_net(sk));
	timer_setup(&itw->tw_timer, xtcp_twsk_timer, 0);
	xtcp_tw_set_bind_hash(tw, NULL);
	xtcp_tw_set_fence(tw, NULL);
	/* Lookups must not take it before it is whole. */
	refcount_set(&itw->tw_refcnt, 0);
	return tw;
}

/**
 * xtcp_twsk_hashdance_schedule - put @tw in @sk's place (inet_twsk_hashdance_schedule())
 * @tw:    from xtcp_twsk_alloc(), filled in
 * @sk:    the connection, locked, still hashed and bound
 * @timeo: jiffies until it dies
 *
 * First the bind bucket gains @tw as an owner and @tw takes the
 * connection's fence pin, so the port stays taken in both tables; then,
 * under the established chain's lock, @tw, referenced and its timer
 * pending, is added before @sk leaves, so a lookup finds one or the
 * other.  The caller's xtcp_done() then frees the connection's own port
 * and pin as for any closed socket.  TW (TWKilled for a wait of 4 s or
 * less, an orphan's short FIN-WAIT-2) counts it.
 *
 * Context: softirq, or process with the socket locked; @tw must not be
 * touched afterwards without a reference of one's own.
 */
void xtcp_twsk_hashdance_schedule(struct xtcp_timewait_sock *tw,
				  struct sock *sk, int timeo)
{
	struct inet_timewait_sock *itw = &tw->tw_tcp.tw_sk;
	struct xtcp_net *xn = xtcp_pernet(sock_net(sk));
	spinlock_t *lock = xtcp_ehash_lockp(xn, sk->sk_hash);	/* writers */

	local_bh_disable();
	xtcp_twsk_bind_hash(tw, sk);
	xtcp_tw_set_fence(tw, xtcp_fence_steal(sk));

	spin_lock(lock);
	/*
	 * Whole before it is visible: a lookup that finds it can take a
	 * reference, and a RST or SYN that kills it at once finds its
	 * timer pending.  An early expiry waits for this lock in
	 * xtcp_twsk_kill().  The add publishes (rcu_assign_pointer()).
	 */
	refcount_set(&itw->tw_refcnt, 1);
	mod_timer(&itw->tw_timer, jiffies + timeo);
	hlist_nulls_add_head_rcu(&itw->tw_node,
				 &xn->ehash[sk->sk_hash & (XTCP_EHASH_SIZE - 1)].chain);
	if (__sk_nulls_del_node_init_rcu(sk))
		sock_prot_inuse_add(sock_net(sk), sk->sk_prot, -1);
	xtcp_inc_stats(sock_net(sk), timeo <= 4 * HZ ?
		       XTCP_MIB_TIMEWAITKILLED : XTCP_MIB_TIMEWAITED);
	spin_unlock(lock);
	local_bh_enable();
}

/**
 * xtcp_twsk_reschedule - TIME-WAIT starts over (inet_twsk_reschedule())
 * @tw:    the timewait sock, referenced by the caller
 * @timeo: jiffies from now
 *
 * A timer that already fired (the sock is being killed) is not revived.
 */
void xtcp_twsk_reschedule(struct xtcp_timewait_sock *tw, int timeo)
{
	mod_timer_pending(&tw->tw_tcp.tw_sk.tw_timer, jiffies + timeo);
}

/**
 * xtcp_twsk_deschedule - kill @tw now
 * @tw: the timewait sock, referenced by the caller, who keeps that
 *      reference
 *
 * If the timer was still pending, this call kills it; else the timer's
 * handler is killing it on some CPU, and del_timer_sync() waited for
 * that.  Either way it is out of the hash and the port when this
 * returns.
 *
 * Context: softirq, or process with BHs off; not the timer's handler.
 */
void xtcp_twsk_deschedule(struct xtcp_timewait_sock *tw)
{
	if (del_timer_sync(&tw->tw_tcp.tw_sk.tw_timer))
		xtcp_twsk_kill(tw);
}

/**
 * xtcp_twsk_deschedule_put - kill @tw now (inet_twsk_deschedule_put())
 * @tw: the timewait sock; the caller's reference is dropped
 *
 * Context: as xtcp_twsk_deschedule().
 */
void xtcp_twsk_deschedule_put(struct xtcp_timewait_sock *tw)
{
	xtcp_twsk_deschedule(tw);
	inet_twsk_put(&tw->tw_tcp.tw_sk);
}

/**
 * xtcp_twsk_purge - kill every timewait sock of a namespace that goes
 * @xn: the namespace's tables, no longer reachable by new segments' lookups
 *      of full sockets (none is left) but maybe of the receive hook
 *
 * inet_twsk_purge(), for xtcp's own hash: each chain is walked under
 * RCU and walked again after each kill, which changes it.  The slab is
 * TYPESAFE_BY_RCU and shared by all namespaces, so an entry freed and
 * reused meanwhile can lead the walk into another namespace's chain: a
 * sock taken is checked again for namespace and state, and a walk that
 * ends on another chain's nulls marker starts over.
 *
 * Context: process (the namespace's exit); sleeps between chains.
 */
void xtcp_twsk_purge(struct xtcp_net *xn)
{
	struct hlist_nulls_node *node;
	unsigned int slot;
	struct sock *sk;

	for (slot = 0; slot < XTCP_EHASH_SIZE; slot++) {
		if (hlist_nulls_empty(&xn->ehash[slot].chain))
			continue;
restart_rcu:
		cond_resched();
		rcu_read_lock();
restart:
		sk_nulls_for_each_rcu(sk, node, &xn->ehash[slot].chain) {
			if (READ_ONCE(sk->sk_state) != TCP_TIME_WAIT ||
			    !net_eq(sock_net(sk), xn->net) ||
			    !refcount_inc_not_zero(&sk->sk_refcnt))
				continue;
			if (unlikely(READ_ONCE(sk->sk_state) != TCP_TIME_WAIT ||
				     !net_eq(sock_net(sk), xn->net))) {
				sock_gen_put(sk);
				goto restart;
			}
			rcu_read_unlock();
			local_bh_disable();
			xtcp_twsk_deschedule_put(xtcp_twsk(sk));
			local_bh_enable();
			goto restart_rcu;
		}
		if (get_nulls_value(node) != slot)
			goto restart;
		rcu_read_unlock();
	}
}
