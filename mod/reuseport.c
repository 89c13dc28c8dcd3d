// SPDX-License-Identifier: GPL-2.0
/*
 * xtcp: moving a closed listener's requests and children to the rest of
 * its SO_REUSEPORT group, under net.xtcp.migrate_req.
 *
 * xtcp's groups are the kernel's own (net/core/sock_reuseport.c), so
 * that SO_ATTACH_REUSEPORT_[CE]BPF programs and SO_INCOMING_CPU work on
 * xtcp listeners as on stock ones.  But the kernel's helpers read stock's
 * knob, net.ipv4.tcp_migrate_req: reuseport_stop_listen_sock() keeps a
 * closing listener in its group's closed section only if that knob (or
 * a BPF_SK_REUSEPORT_SELECT_OR_MIGRATE program) says so, and
 * reuseport_migrate_sock() chooses by hash only under that knob.  Here
 * is reuseport_migrate_sock() reading xtcp's twin instead:
 *
 * - a migrate program decides as in stock (the kernel runs it; only it
 *   can, bpf_run_sk_reuseport() is the kernel's own);
 * - else net.xtcp.migrate_req alone decides, and the listener is chosen
 *   by hash as reuseport_select_sock_by_hash() does, in the group the
 *   closed listener still belongs to (net.ipv4.tcp_migrate_req was on
 *   when it closed) or, if the kernel detached it (that knob was off),
 *   in the group of the live listeners that share its port, address,
 *   device and owner: the group it was in, as xtcp_reuseport_add_sock()
 *   formed it.  Without a live member there is nothing to choose, as in
 *   stock when every member has closed.
 *
 * Two corners differ from stock: a listener whose SO_REUSEPORT was
 * cleared after listen() is taken for one that never had a group (stock
 * goes by its group membership, which xtcp cannot see once the kernel
 * detached it), and a migrate program attached after the listener left
 * its group is not run for it: xtcp chooses by hash where stock would
 * not migrate at all.
 *
 * The group is read under RCU (the kernel frees it with call_rcu()), the
 * listening hash is walked under RCU (listeners are SOCK_RCU_FREE), and
 * the chosen listener is returned only if a reference could be taken;
 * it may stop listening right after, which the callers handle as stock's
 * do (inet_csk_reqsk_queue_add() fails on a listener not listening).
 */
#include <linux/filter.h>
#include <linux/reciprocal_div.h>
#include <net/sock_reuseport.h>

#include "xtcp.h"

/* reuseport_select_sock_by_hash(), for a group read under RCU. */
static struct sock *xtcp_reuseport_select_by_hash(struct sock_reuseport *reuse,
						  u32 hash, u16 num_socks)
{
	struct sock *first_valid_sk = NULL;
	int i, j;

	j = reciprocal_scale(hash, num_socks);
	i = j;
	do {
		struct sock *sk = reuse->socks[i];

		if (sk->sk_state != TCP_ESTABLISHED) {
			/* WRITE_ONCE()d under the kernel's reuseport_lock. */
			if (!READ_ONCE(reuse->incoming_cpu))
				return sk;
			if (READ_ONCE(sk->sk_incoming_cpu) ==
			    raw_smp_processor_id())
				return sk;
			if (!first_valid_sk)
				first_valid_sk = sk;
		}
		if (++i >= num_socks)
			i = 0;
	} while (i != j);
	return first_valid_sk;
}

/*
 * The group a closed listener was in, found through a live member: the
 * kernel's reuseport_detach_sock() took it out when it closed.
 */
static struct sock_reuseport *xtcp_reuseport_group_of(const struct sock *sk)
{
	struct xtcp_net *xn = xtcp_pernet(sock_net(sk));
	u16 port = ntohs(inet_sk(sk)->inet_sport);
	const struct hlist_nulls_node *node;
	struct sock_reuseport *reuse;
	struct sock *sk2;

	sk_nulls_for_each_rcu(sk2, node,
			      &xn->lhash[port & (XTCP_LHASH_SIZE - 1)].nulls_head) {
		if (sk2 == sk || sk2->sk_num != port || !sk2->sk_reuseport ||
		    sk2->sk_rcv_saddr != sk->sk_rcv_saddr ||
		    sk2->sk_bound_dev_if != sk->sk_bound_dev_if ||
		    !uid_eq(sk2->sk_uid, sk->sk_uid))
			continue;
		reuse = rcu_dereference(sk2->sk_reuseport_cb);
		if (reuse)
			return reuse;
	}
	return NULL;
}

/* A BPF_SK_REUSEPORT_SELECT_OR_MIGRATE program decides for @reuse. */
static bool xtcp_reuseport_has_migrate_prog(struct sock_reuseport *reuse)
{
	struct bpf_prog *prog = reuse ? rcu_dereference(reuse->prog) : NULL;

	return prog &&
	       prog->expected_attach_type == BPF_SK_REUSEPORT_SELECT_OR_MIGRATE;
}

/**
 * xtcp_reuseport_may_migrate - may a closed listener's requests move?
 * @sk: the listener, just closed
 *
 * True where xtcp_reuseport_migrate_sock() may find them another
 * listener: a migrate program decides for the group, or @sk is a
 * SO_REUSEPORT listener and net.xtcp.migrate_req is on.  Stock never
 * drops requests at close; xtcp drops the others at once
 * (xtcp_reqsk_queue_drain()), which nobody on the wire can tell apart.
 *
 * Context: process, the listener's lock held.
 */
bool xtcp_reuseport_may_migrate(struct sock *sk)
{
	const struct xtcp_net *xn = xtcp_pernet(sock_net(sk));
	bool ret;

	rcu_read_lock();
	ret = xtcp_reuseport_has_migrate_prog(rcu_dereference(sk->sk_reuseport_cb));
	rcu_read_unlock();
	return ret || (sk->sk_reuseport && READ_ONCE(xn->sysctl.migrate_req));
}

/**
 * xtcp_reuseport_migrate_sock - who takes over a closed listener's request
 * @sk:           the closed listener (not TCP_LISTEN any more)
 * @migrating_sk: its request sock or queued child
 * @skb:          the segment that asks (a third ACK), or NULL
 *
 * Mirrors reuseport_migrate_sock() with net.xtcp.migrate_req in place of
 * net.ipv4.tcp_migrate_req (see the top of this file).  A failed choice
 * counts TCPMigrateReqFailure in /proc/net/xtcp_stat, where stock's would
 * count in TcpExt; when a migrate program decides, the kernel counts it
 * in TcpExt as well.
 *
 * Context: any context with BHs off or softirq; takes rcu_read_lock().
 * Return: a listener of the group with a reference the caller owns, or
 *         NULL.
 */
struct sock *xtcp_reuseport_migrate_sock(struct sock *sk,
					 struct sock *migrating_sk,
					 struct sk_buff *skb)
{
	const struct xtcp_net *xn = xtcp_pernet(sock_net(sk));
	struct sock_reuseport *reuse;
	struct sock *nsk = NULL;
	u16 socks;

	rcu_read_lock();
	reuse = rcu_dereference(sk->sk_reuseport_cb);
	if (xtcp_reuseport_has_migrate_prog(reuse)) {
		rcu_read_unlock();
		nsk = reuseport_migrate_sock(sk, migrating_sk, skb);
		/*
		 * The kernel counted a failure in TcpExt, unless it found no
		 * group any more (reuseport_grow() dropped the closed
		 * listener meanwhile): count ours alike.
		 */
		if (!nsk && rcu_access_pointer(sk->sk_reuseport_cb))
			xtcp_inc_stats(sock_net(sk), XTCP_MIB_MIGRATEREQFAILURE);
		return nsk;
	}
	/*
	 * Stock, with its knob off, has taken the listener out of its group
	 * at close, and reuseport_migrate_sock() finds nothing to count: the
	 * same here, even where stock's knob kept it in the group for us.
	 */
	if (!READ_ONCE(xn->sysctl.migrate_req))
		goto out;
	if (!reuse) {
		/* Never in a group: nothing to migrate to, nothing to count. */
		if (!sk->sk_reuseport)
			goto out;
		reuse = xtcp_reuseport_group_of(sk);
		if (!reuse)
			goto failure;
	}
	socks = READ_ONCE(reuse->num_socks);
	if (unlikely(!socks))
		goto failure;
	/* Paired with smp_wmb() in the kernel's __reuseport_add_sock(). */
	smp_rmb();
	nsk = xtcp_reuseport_select_by_hash(reuse, migrating_sk->sk_hash, socks);
	if (!nsk || unlikely(!refcount_inc_not_zero(&nsk->sk_refcnt))) {
		nsk = NULL;
		goto failure;
	}
out:
	rcu_read_unlock();
	return nsk;
failure:
	xtcp_inc_stats(sock_net(sk), XTCP_MIB_MIGRATEREQFAILURE);
	goto out;
}
