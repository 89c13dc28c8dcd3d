// SPDX-License-Identifier: GPL-2.0
/*
 * xtcp: its own congestion-control registry.
 *
 * The kernel's registry (tcp_ca_find(), tcp_init_congestion_control())
 * is not exported, and a researcher wants to swap algorithms under
 * xtcp without touching stock TCP anyway.  Algorithms register here,
 * Reno is built in and is the default, and each connection pins its
 * algorithm's module for as long as it uses it.  Mirrors
 * net/ipv4/tcp_cong.c.
 */
#include <linux/module.h>
#include <linux/rculist.h>
#include <net/tcp.h>

#include "xtcp.h"

static DEFINE_SPINLOCK(xtcp_cong_list_lock);
static LIST_HEAD(xtcp_cong_list);

/* Reno (RFC 5681): halve on loss, one segment per RTT in avoidance. */
static u32 xtcp_reno_ssthresh(struct sock *sk)
{
	return max(tcp_sk(sk)->snd_cwnd >> 1U, 2U);
}

/**
 * xtcp_slow_start - grow cwnd by what was acknowledged (tcp_slow_start())
 * @tp:    the connection, locked
 * @acked: segments newly delivered
 *
 * RFC 5681 3.1 with RFC 3465's byte counting: up to ssthresh.
 * Return: the segments left over for congestion avoidance.
 */
u32 xtcp_slow_start(struct tcp_sock *tp, u32 acked)
{
	u32 cwnd = min(tp->snd_cwnd + acked, tp->snd_ssthresh);

	acked -= cwnd - tp->snd_cwnd;
	tp->snd_cwnd = min(cwnd, tp->snd_cwnd_clamp);
	return acked;
}
EXPORT_SYMBOL_GPL(xtcp_slow_start);

/**
 * xtcp_cong_avoid_ai - one segment per @w acknowledged (tcp_cong_avoid_ai())
 * @tp:    the connection, locked
 * @w:     the window to count off, segments
 * @acked: segments newly delivered
 *
 * Additive increase: snd_cwnd_cnt counts acknowledged segments; each
 * full @w of them adds one to cwnd.
 */
void xtcp_cong_avoid_ai(struct tcp_sock *tp, u32 w, u32 acked)
{
	if (tp->snd_cwnd_cnt >= w) {
		tp->snd_cwnd_cnt = 0;
		tp->snd_cwnd++;
	}
	tp->snd_cwnd_cnt += acked;
	if (tp->snd_cwnd_cnt >= w) {
		u32 delta = tp->snd_cwnd_cnt / w;

		tp->snd_cwnd_cnt -= delta * w;
		tp->snd_cwnd += delta;
	}
	tp->snd_cwnd = min(tp->snd_cwnd, tp->snd_cwnd_clamp);
}
EXPORT_SYMBOL_GPL(xtcp_cong_avoid_ai);

/*
 * tcp_reno_cong_avoid(): only a window that was used may grow (RFC 2861);
 * slow start below ssthresh, then one segment per window.
 */
static void xtcp_reno_cong_avoid(struct sock *sk, u32 ack, u32 acked)
{
	struct tcp_sock *tp = tcp_sk(sk);

	if (!xtcp_is_cwnd_limited(sk))
		return;
	if (tp->snd_cwnd < tp->snd_ssthresh) {
		acked = xtcp_slow_start(tp, acked);
		if (!acked)
			return;
	}
	xtcp_cong_avoid_ai(tp, tp->snd_cwnd, acked);
}

static struct xtcp_cong_ops xtcp_reno = {
	.name		= "reno",
	.flags		= TCP_CONG_NON_RESTRICTED,
	.owner		= THIS_MODULE,
	.ssthresh	= xtcp_reno_ssthresh,
	.cong_avoid	= xtcp_reno_cong_avoid,
};

/* tcp_ca_find(): under rcu_read_lock() or the registry's lock. */
static struct xtcp_cong_ops *xtcp_ca_find(const char *name)
{
	struct xtcp_cong_ops *ca;

	list_for_each_entry_rcu(ca, &xtcp_cong_list, list,
				lockdep_is_held(&xtcp_cong_list_lock))
		if (!strcmp(ca->name, name))
			return ca;
	return NULL;
}

/* The algorithm a new connection gets: the newest registered. */
static const struct xtcp_cong_ops *xtcp_ca_default(void)
{
	const struct xtcp_cong_ops *ca;

	ca = list_first_or_null_rcu(&xtcp_cong_list, struct xtcp_cong_ops,
				    list);
	return ca ? : &xtcp_reno;
}

/**
 * xtcp_register_congestion_control - offer an algorithm to xtcp
 * @ca: the algorithm; needs a name, ssthresh and cong_avoid
 *
 * Return: 0, -EINVAL, or -EEXIST if the name is taken.
 */
int xtcp_register_congestion_control(struct xtcp_cong_ops *ca)
{
	int ret = 0;

	if (!ca->ssthresh || !ca->cong_avoid || !ca->name[0])
		return -EINVAL;
	spin_lock(&xtcp_cong_list_lock);
	if (xtcp_ca_find(ca->name))
		ret = -EEXIST;
	else	/* the newest is the default, so a loaded module takes over */
		list_add_rcu(&ca->list, &xtcp_cong_list);
	spin_unlock(&xtcp_cong_list_lock);
	return ret;
}
EXPORT_SYMBOL_GPL(xtcp_register_congestion_control);

/**
 * xtcp_unregister_congestion_control - withdraw an algorithm
 * @ca: the algorithm; connections using it hold its module
 */
void xtcp_unregister_congestion_control(struct xtcp_cong_ops *ca)
{
	spin_lock(&xtcp_cong_list_lock);
	list_del_rcu(&ca->list);
	spin_unlock(&xtcp_cong_list_lock);
	synchronize_rcu();
}
EXPORT_SYMBOL_GPL(xtcp_unregister_congestion_control);

/**
 * xtcp_assign_congestion_control - choose a new child's algorithm
 * @sk:       the child
 * @listener: its listener, not necessarily locked
 *
 * tcp_ca_openreq_child() without route metrics: the algorithm the
 * listener chose with TCP_CONGESTION (icsk_ca_setsockopt, which the
 * child copied), else, as tcp_assign_congestion_control(), the default:
 * the most recently registered algorithm.  If that module is going away,
 * Reno.  Either way the connection holds a reference on the algorithm's
 * module until xtcp_cleanup_congestion_control().
 */
void xtcp_assign_congestion_control(struct sock *sk,
				    const struct sock *listener)
{
	const struct xtcp_cong_ops *ca = NULL;

	rcu_read_lock();
	if (inet_csk(sk)->icsk_ca_setsockopt) {
		ca = READ_ONCE(xtcp_sk(listener)->ca_ops);
		if (ca && !try_module_get(ca->owner))
			ca = NULL;
	}
	if (!ca) {
		ca = xtcp_ca_default();
		if (!try_module_get(ca->owner)) {
			/* Built in: our module is pinned by the socket itself. */
			ca = &xtcp_reno;
			__module_get(ca->owner);
		}
	}
	rcu_read_unlock();
	WRITE_ONCE(xtcp_sk(sk)->ca_ops, ca);
	memset(inet_csk_ca(sk), 0, ICSK_CA_PRIV_SIZE);
}

/* tcp_init_congestion_control(): at ESTABLISHED, with TCP_CA_Open. */
void xtcp_init_congestion_control(struct sock *sk)
{
	const struct xtcp_cong_ops *ca = xtcp_sk(sk)->ca_ops;

	if (!ca)
		return;
	if (ca->init)
		ca->init(sk);
	if (ca->set_state)
		ca->set_state(sk, TCP_CA_Open);
}

void xtcp_cleanup_congestion_control(struct sock *sk)
{
	const struct xtcp_cong_ops *ca = xtcp_sk(sk)->ca_ops;

	if (!ca)
		return;
	if (ca->release)
		ca->release(sk);
	module_put(ca->owner);
	WRITE_ONCE(xtcp_sk(sk)->ca_ops, NULL);
}

/*
 * tcp_reinit_congestion_control(): @ca, pinned by the caller, replaces
 * the socket's algorithm; a connection starts it at once.  Stock's
 * tcp_init_congestion_control() runs only init, leaving icsk_ca_state.
 */
static void xtcp_reinit_congestion_control(struct sock *sk,
					   const struct xtcp_cong_ops *ca)
{
	xtcp_cleanup_congestion_control(sk);
	WRITE_ONCE(xtcp_sk(sk)->ca_ops, ca);
	inet_csk(sk)->icsk_ca_setsockopt = 1;
	memset(inet_csk_ca(sk), 0, ICSK_CA_PRIV_SIZE);
	if (!((1 << sk->sk_state) & (TCPF_CLOSE | TCPF_LISTEN))) {
		tcp_sk(sk)->prior_ssthresh = 0;
		if (ca->init)
			ca->init(sk);
	}
}

/**
 * xtcp_set_congestion_control - TCP_CONGESTION (tcp_set_congestion_control())
 * @sk:            the socket, locked
 * @name:          the algorithm's name, NUL-terminated
 * @cap_net_admin: the caller has CAP_NET_ADMIN over the socket's netns
 *
 * The named algorithm of xtcp's registry becomes the socket's, and a
 * listener's children's.  Naming the algorithm the socket has (or, for
 * a socket that has none yet, the default it would get) only marks it
 * chosen.  Another algorithm needs TCP_CONG_NON_RESTRICTED in its flags
 * (Reno has it) or @cap_net_admin: xtcp's registry is not stock's, so
 * net.ipv4.tcp_allowed_congestion_control cannot mark it.  Unlike
 * stock, an unknown name loads no module, and icsk_ca_dst_locked (which
 * xtcp sets to keep BPF's tcp_set_congestion_control() out) is not
 * tested: no route locks xtcp's algorithm.
 *
 * Context: process context, under sockopt_lock_sock().
 * Return: 0; -ENOENT for a name not registered; -EPERM for a restricted
 * algorithm without @cap_net_admin; -EBUSY if its module is going away.
 */
int xtcp_set_congestion_control(struct sock *sk, const char *name,
				bool cap_net_admin)
{
	const struct xtcp_cong_ops *ca, *cur;
	int err = 0;

	rcu_read_lock();
	ca = xtcp_ca_find(name);
	cur = xtcp_sk(sk)->ca_ops;
	/* No change asking for the algorithm in use (or about to be). */
	if (ca && ca == (cur ? : xtcp_ca_default())) {
		if (!cur && !try_module_get(ca->owner)) {
			err = -EBUSY;
			goto out;
		}
		WRITE_ONCE(xtcp_sk(sk)->ca_ops, ca);
		inet_csk(sk)->icsk_ca_setsockopt = 1;
		goto out;
	}
	if (!ca)
		err = -ENOENT;
	else if (!((ca->flags & TCP_CONG_NON_RESTRICTED) || cap_net_admin))
		err = -EPERM;
	else if (!try_module_get(ca->owner))
		err = -EBUSY;
	else
		xtcp_reinit_congestion_control(sk, ca);
out:
	rcu_read_unlock();
	return err;
}

/**
 * xtcp_get_congestion_control - the name TCP_CONGESTION reads
 * @sk:   the socket; not locked
 * @name: TCP_CA_NAME_MAX bytes
 *
 * The socket's algorithm; for a socket that has none yet (stock assigns
 * one when the socket is created, xtcp when a child is), the default it
 * would get.  The registry unpublishes an algorithm only after an RCU
 * grace period (xtcp_unregister_congestion_control()), so its name is
 * safe to read under rcu_read_lock() even if a setsockopt() moves the
 * socket away from it meanwhile.
 */
void xtcp_get_congestion_control(struct sock *sk, char *name)
{
	const struct xtcp_cong_ops *ca;

	rcu_read_lock();
	ca = READ_ONCE(xtcp_sk(sk)->ca_ops) ? : xtcp_ca_default();
	memcpy(name, ca->name, TCP_CA_NAME_MAX);
	rcu_read_unlock();
}

int xtcp_cong_init(void)
{
	return xtcp_register_congestion_control(&xtcp_reno);
}

void xtcp_cong_exit(void)
{
	xtcp_unregister_congestion_control(&xtcp_reno);
}
