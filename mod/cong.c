// SPDX-License-Identifier: GPL-2.0
/*
 * xtcp: its own congestion-control registry.
 *
 * The kernel's registry (tcp_ca_find(), tcp_init_congestion_control())
 * is not exported, and a researcher wants to swap algorithms under
 * xtcp without touching stock TCP anyway.  Algorithms register here,
 * Reno and CUBIC (cubic.c, the default, as stock's) are built in, and
 * the most recently registered is the default; each connection pins its
 * algorithm's module for as long as it uses it.  Mirrors
 * net/ipv4/tcp_cong.c.
 */
#include <linux/module.h>
#include <linux/rculist.h>
#include <net/tcp.h>

#include "xtcp.h"

static DEFINE_SPINLOCK(xtcp_cong_list_lock);
static LIST_HEAD(xtcp_cong_list);

/**
 * xtcp_reno_ssthresh - Reno's ssthresh after a loss (tcp_reno_ssthresh())
 * @sk: the connection, locked
 *
 * RFC 5681 3.1: half the window, at least two segments.
 * Return: segments.
 */
u32 xtcp_reno_ssthresh(struct sock *sk)
{
	return max(tcp_sk(sk)->snd_cwnd >> 1U, 2U);
}
EXPORT_SYMBOL_GPL(xtcp_reno_ssthresh);

/**
 * xtcp_reno_undo_cwnd - cwnd after an undone reduction (tcp_reno_undo_cwnd())
 * @sk: the connection, locked
 *
 * Return: the window before the reduction, or the current one if larger,
 * segments.
 */
u32 xtcp_reno_undo_cwnd(struct sock *sk)
{
	const struct tcp_sock *tp = tcp_sk(sk);

	return max(tp->snd_cwnd, tp->prior_cwnd);
}
EXPORT_SYMBOL_GPL(xtcp_reno_undo_cwnd);

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

/**
 * xtcp_reno_cong_avoid - Reno's growth (tcp_reno_cong_avoid())
 * @sk:    the connection, locked
 * @ack:   the ACK number
 * @acked: segments newly delivered
 *
 * Only a window that was used may grow (RFC 2861); slow start below
 * ssthresh, then one segment per window (RFC 5681 3.1).
 */
void xtcp_reno_cong_avoid(struct sock *sk, u32 ack, u32 acked)
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
EXPORT_SYMBOL_GPL(xtcp_reno_cong_avoid);

static struct xtcp_cong_ops xtcp_reno = {
	.name		= "reno",
	.flags		= TCP_CONG_NON_RESTRICTED,
	.owner		= THIS_MODULE,
	.ssthresh	= xtcp_reno_ssthresh,
	.cong_avoid	= xtcp_reno_cong_avoid,
	.undo_cwnd	= xtcp_reno_undo_cwnd,
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

/*
 * tcp_ca_find_autoload(): an algorithm not registered may be in module
 * xtcp_<name>, as stock's are in tcp_<name>; loading one needs
 * CAP_NET_ADMIN in the initial namespace, as stock's capable() check.
 * Process context, no lock held: modprobe runs meanwhile.
 */
static void xtcp_ca_autoload(const char *name)
{
	bool found;

	if (!IS_ENABLED(CONFIG_MODULES))
		return;
	rcu_read_lock();
	found = xtcp_ca_find(name);
	rcu_read_unlock();
	if (!found && capable(CAP_NET_ADMIN))
		request_module("xtcp_%s", name);
}

/*
 * The algorithm a new connection of @net gets (net.xtcp.congestion_control),
 * under rcu_read_lock().
 */
static const struct xtcp_cong_ops *xtcp_ca_default(const struct net *net)
{
	const struct xtcp_cong_ops *ca;

	ca = rcu_dereference(xtcp_pernet(net)->ca_default);
	return ca ? : &xtcp_reno;
}

/*
 * A namespace's default pins its algorithm's module, as stock's does;
 * xtcp's own algorithms need no pin (a namespace's xtcp state goes
 * before the module does).
 */
static bool xtcp_ca_pin(const struct xtcp_cong_ops *ca)
{
	return ca->owner == THIS_MODULE || try_module_get(ca->owner);
}

static void xtcp_ca_unpin(const struct xtcp_cong_ops *ca)
{
	if (ca->owner != THIS_MODULE)
		module_put(ca->owner);
}

/**
 * xtcp_register_congestion_control - offer an algorithm to xtcp
 * @ca: the algorithm; needs a name, ssthresh, undo_cwnd, and cong_avoid
 *      or cong_control (tcp_validate_congestion_control())
 *
 * Context: process context; takes the registry's spinlock.
 * Return: 0, -EINVAL, or -EEXIST if the name is taken.
 */
int xtcp_register_congestion_control(struct xtcp_cong_ops *ca)
{
	int ret = 0;

	if (!ca->ssthresh || !ca->undo_cwnd ||
	    !(ca->cong_avoid || ca->cong_control) || !ca->name[0])
		return -EINVAL;
	spin_lock(&xtcp_cong_list_lock);
	if (xtcp_ca_find(ca->name))
		ret = -EEXIST;
	else
		list_add_tail_rcu(&ca->list, &xtcp_cong_list);
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
 * xtcp_assign_congestion_control - the namespace's default algorithm
 * @sk: a new socket, or a child its listener's choice did not reach
 *
 * tcp_assign_congestion_control(): net.xtcp.congestion_control, or Reno
 * if that module is going away, with a reference on its module until
 * xtcp_cleanup_congestion_control().  Every socket has one from its
 * creation on, as stock's: a listener's decides whether an ECN-setup SYN
 * gets ECN (TCP_CONG_NEEDS_ECN, xtcp_ecn_create_request()) and whether
 * its SYN-ACKs carry ECT.  Not initialised: that is for a connection
 * (xtcp_init_congestion_control()).
 *
 * Context: process context (socket creation) or softirq (a child),
 * the socket not visible to anyone else yet.
 */
XTCP_SEED void xtcp_assign_congestion_control(struct sock *sk)
{
	const struct xtcp_cong_ops *ca;

	rcu_read_lock();
	ca = xtcp_ca_default(sock_net(sk));
	if (!try_module_get(ca->owner)) {
		/* Built in: our module is pinned by the socket itself. */
		ca = &xtcp_reno;
		__module_get(ca->owner);
	}
	rcu_read_unlock();
	WRITE_ONCE(xtcp_sk(sk)->ca_ops, ca);
	memset(inet_csk_ca(sk), 0, ICSK_CA_PRIV_SIZE);
	if (ca->flags & TCP_CONG_NEEDS_ECN)
		INET_ECN_xmit(sk);
	else
		INET_ECN_dontxmit(sk);
}

/**
 * xtcp_ca_openreq_child - a new child's algorithm (tcp_ca_openreq_child())
 * @sk:       the child, not yet hashed
 * @listener: its listener, not necessarily locked
 *
 * Without route metrics (RTAX_CC_ALGO): the algorithm the listener chose
 * with TCP_CONGESTION (icsk_ca_setsockopt, which the child copied), if
 * its module stays, else xtcp_assign_congestion_control().  The
 * listener's algorithm is read under RCU: a setsockopt() may replace it
 * meanwhile, and the registry unpublishes an algorithm only after a grace
 * period.
 *
 * Context: softirq, under the listener's RCU lookup.
 */
XTCP_SEED void xtcp_ca_openreq_child(struct sock *sk, const struct sock *listener)
{
	const struct xtcp_cong_ops *ca = NULL;

	rcu_read_lock();
	if (inet_csk(sk)->icsk_ca_setsockopt) {
		ca = READ_ONCE(xtcp_sk(listener)->ca_ops);
		if (ca && !try_module_get(ca->owner))
			ca = NULL;
	}
	rcu_read_unlock();
	if (!ca) {
		xtcp_assign_congestion_control(sk);
		return;
	}
	WRITE_ONCE(xtcp_sk(sk)->ca_ops, ca);
	memset(inet_csk_ca(sk), 0, ICSK_CA_PRIV_SIZE);
}

/**
 * xtcp_ca_ops - the connection's algorithm (inet_csk(sk)->icsk_ca_ops)
 * @sk: the socket; locked, or the result only compared, as get_info does
 *
 * Return: the algorithm, or NULL for a socket that gave its up (closed).
 */
const struct xtcp_cong_ops *xtcp_ca_ops(const struct sock *sk)
{
	return READ_ONCE(xtcp_sk(sk)->ca_ops);
}
EXPORT_SYMBOL_GPL(xtcp_ca_ops);

/**
 * xtcp_ca_replace - hand the connection to another algorithm of the module
 * @sk: the connection, locked, in its algorithm's init hook
 * @ca: an algorithm of the same module, registered or not
 *
 * What stock's DCTCP does with WRITE_ONCE(icsk_ca_ops, &dctcp_reno) when
 * the peer did not agree on ECN.  The module reference the connection
 * holds stays good for @ca; another module's algorithm is refused
 * (WARN), as it would not be pinned.
 */
void xtcp_ca_replace(struct sock *sk, const struct xtcp_cong_ops *ca)
{
	const struct xtcp_cong_ops *cur = xtcp_sk(sk)->ca_ops;

	if (WARN_ON_ONCE(!cur || cur->owner != ca->owner))
		return;
	WRITE_ONCE(xtcp_sk(sk)->ca_ops, ca);
}
EXPORT_SYMBOL_GPL(xtcp_ca_replace);

/* tcp_init_congestion_control(): at ESTABLISHED, with TCP_CA_Open. */
XTCP_SEED void xtcp_init_congestion_control(struct sock *sk)
{
	const struct xtcp_cong_ops *ca = xtcp_sk(sk)->ca_ops;

	if (!ca)
		return;
	tcp_sk(sk)->prior_ssthresh = 0;
	if (ca->init)
		ca->init(sk);
	/* ECT on every packet only for an algorithm that asks for it. */
	if (xtcp_ca_needs_ecn(sk))
		INET_ECN_xmit(sk);
	else
		INET_ECN_dontxmit(sk);
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
	if (ca->flags & TCP_CONG_NEEDS_ECN)
		INET_ECN_xmit(sk);
	else
		INET_ECN_dontxmit(sk);
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
 * net.ipv4.tcp_allowed_congestion_control cannot mark it.  An unknown
 * name loads module xtcp_<name> first (xtcp_ca_autoload()).
 * icsk_ca_dst_locked (which
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

	xtcp_ca_autoload(name);
	rcu_read_lock();
	ca = xtcp_ca_find(name);
	cur = xtcp_sk(sk)->ca_ops;
	/* No change asking for the algorithm in use (or about to be). */
	if (ca && ca == (cur ? : xtcp_ca_default(sock_net(sk)))) {
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
	ca = READ_ONCE(xtcp_sk(sk)->ca_ops) ? : xtcp_ca_default(sock_net(sk));
	memcpy(name, ca->name, TCP_CA_NAME_MAX);
	rcu_read_unlock();
}

/**
 * xtcp_ca_net_init - a namespace's default algorithm (tcp_sk_init())
 * @xn: the namespace's xtcp state, being set up
 *
 * The initial namespace starts with CUBIC, as stock's
 * CONFIG_DEFAULT_TCP_CONG; another starts with the initial namespace's
 * choice (pinned), or Reno if that is going away.
 */
void xtcp_ca_net_init(struct xtcp_net *xn)
{
	const struct xtcp_cong_ops *ca;

	rcu_read_lock();
	if (net_eq(xn->net, &init_net))
		ca = xtcp_ca_find("cubic");
	else
		ca = xtcp_ca_default(&init_net);
	if (!ca || !xtcp_ca_pin(ca))
		ca = &xtcp_reno;
	rcu_read_unlock();
	RCU_INIT_POINTER(xn->ca_default, ca);
}

/* xtcp_ca_net_exit - the namespace goes: unpin its default. */
void xtcp_ca_net_exit(struct xtcp_net *xn)
{
	xtcp_ca_unpin(rcu_dereference_protected(xn->ca_default, true));
}

/*
 * tcp_set_default_congestion_control(): @name becomes the namespace's
 * default, and any user may then choose it (TCP_CONG_NON_RESTRICTED).
 * A namespace other than the initial one may only pick an algorithm
 * any user may choose (EPERM).  An unknown name loads module
 * xtcp_<name> first.
 */
static int xtcp_set_default_congestion_control(struct xtcp_net *xn,
					       const char *name)
{
	const struct xtcp_cong_ops *prev;
	struct xtcp_cong_ops *ca;
	int ret = 0;

	xtcp_ca_autoload(name);
	spin_lock(&xtcp_cong_list_lock);
	ca = xtcp_ca_find(name);
	if (!ca) {
		ret = -ENOENT;
	} else if (!xtcp_ca_pin(ca)) {
		ret = -EBUSY;
	} else if (!net_eq(xn->net, &init_net) &&
		   !(ca->flags & TCP_CONG_NON_RESTRICTED)) {
		xtcp_ca_unpin(ca);
		ret = -EPERM;
	} else {
		prev = rcu_dereference_protected(xn->ca_default,
						 lockdep_is_held(&xtcp_cong_list_lock));
		rcu_assign_pointer(xn->ca_default, ca);
		xtcp_ca_unpin(prev);
		ca->flags |= TCP_CONG_NON_RESTRICTED;
	}
	spin_unlock(&xtcp_cong_list_lock);
	return ret;
}

/**
 * xtcp_proc_congestion_control - net.xtcp.congestion_control
 * @ctl:    its table entry; data is the namespace's struct xtcp_net
 * @write:  a write
 * @buffer: user text
 * @lenp:   its length
 * @ppos:   file position
 *
 * proc_tcp_congestion_control(): read the namespace's default, or set
 * it by name.
 *
 * Context: process context.
 * Return: 0, or -ENOENT for a name not registered, -EBUSY for a module
 * going away, -EPERM outside the initial namespace for an algorithm not
 * in net.xtcp.allowed_congestion_control, or proc_dostring()'s error.
 */
int xtcp_proc_congestion_control(xtcp_ctl_table *ctl, int write,
				 void *buffer, size_t *lenp, loff_t *ppos)
{
	struct xtcp_net *xn = ctl->data;
	char val[TCP_CA_NAME_MAX];
	struct ctl_table tbl = {
		.data = val,
		.maxlen = TCP_CA_NAME_MAX,
	};
	int ret;

	rcu_read_lock();
	strscpy(val, xtcp_ca_default(xn->net)->name, sizeof(val));
	rcu_read_unlock();
	ret = proc_dostring(&tbl, write, buffer, lenp, ppos);
	if (write && ret == 0)
		ret = xtcp_set_default_congestion_control(xn, val);
	return ret;
}

/*
 * The registered names, in registration order, space separated; with
 * @allowed only those any user may choose.
 */
static void xtcp_ca_list(char *buf, size_t maxlen, bool allowed)
{
	const struct xtcp_cong_ops *ca;
	size_t offs = 0;

	*buf = '\0';
	rcu_read_lock();
	list_for_each_entry_rcu(ca, &xtcp_cong_list, list) {
		if (allowed && !(READ_ONCE(ca->flags) & TCP_CONG_NON_RESTRICTED))
			continue;
		offs += snprintf(buf + offs, maxlen - offs, "%s%s",
				 offs == 0 ? "" : " ", ca->name);
		if (WARN_ON_ONCE(offs >= maxlen))
			break;
	}
	rcu_read_unlock();
}

/* A string sysctl over a TCP_CA_BUF_MAX buffer (stock's proc_tcp_*). */
static int xtcp_proc_ca_list(xtcp_ctl_table *ctl, int write, void *buffer,
			     size_t *lenp, loff_t *ppos, bool allowed,
			     char **written)
{
	struct ctl_table tbl = { .maxlen = TCP_CA_BUF_MAX };
	int ret;

	tbl.data = kmalloc(tbl.maxlen, GFP_USER);
	if (!tbl.data)
		return -ENOMEM;
	xtcp_ca_list(tbl.data, tbl.maxlen, allowed);
	ret = proc_dostring(&tbl, write, buffer, lenp, ppos);
	if (write && ret == 0 && written) {
		*written = tbl.data;
		return 0;
	}
	kfree(tbl.data);
	return ret;
}

/**
 * xtcp_proc_available_congestion_control - net.xtcp.available_congestion_control
 * @ctl:    its table entry
 * @write:  a write (the entry is read-only)
 * @buffer: user text
 * @lenp:   its length
 * @ppos:   file position
 *
 * Every algorithm of xtcp's registry (proc_tcp_available_congestion_control()).
 *
 * Return: 0, -ENOMEM, or proc_dostring()'s error.
 */
int xtcp_proc_available_congestion_control(xtcp_ctl_table *ctl, int write,
					   void *buffer, size_t *lenp,
					   loff_t *ppos)
{
	return xtcp_proc_ca_list(ctl, write, buffer, lenp, ppos, false, NULL);
}

/*
 * tcp_set_allowed_congestion_control(): every name must be registered;
 * then exactly those are TCP_CONG_NON_RESTRICTED.
 */
static int xtcp_set_allowed_congestion_control(char *val)
{
	struct xtcp_cong_ops *ca;
	char *saved_clone, *clone, *name;
	int ret = 0;

	saved_clone = kstrdup(val, GFP_USER);
	if (!saved_clone)
		return -ENOMEM;
	clone = saved_clone;
	spin_lock(&xtcp_cong_list_lock);
	while ((name = strsep(&clone, " ")) && *name) {
		if (!xtcp_ca_find(name)) {
			ret = -ENOENT;
			goto out;
		}
	}
	list_for_each_entry_rcu(ca, &xtcp_cong_list, list)
		ca->flags &= ~TCP_CONG_NON_RESTRICTED;
	while ((name = strsep(&val, " ")) && *name) {
		ca = xtcp_ca_find(name);
		if (!WARN_ON(!ca))
			ca->flags |= TCP_CONG_NON_RESTRICTED;
	}
out:
	spin_unlock(&xtcp_cong_list_lock);
	kfree(saved_clone);
	return ret;
}

/**
 * xtcp_proc_allowed_congestion_control - net.xtcp.allowed_congestion_control
 * @ctl:    its table entry
 * @write:  a write: the names any user may choose with TCP_CONGESTION
 * @buffer: user text
 * @lenp:   its length
 * @ppos:   file position
 *
 * proc_allowed_congestion_control(): one list for the whole registry,
 * as stock's: every namespace shows it, the initial one sets it
 * (sysctl.c).
 *
 * Context: process context.
 * Return: 0; -ENOENT if a name is not registered; -ENOMEM;
 * proc_dostring()'s error.
 */
int xtcp_proc_allowed_congestion_control(xtcp_ctl_table *ctl, int write,
					 void *buffer, size_t *lenp,
					 loff_t *ppos)
{
	char *val = NULL;
	int ret;

	ret = xtcp_proc_ca_list(ctl, write, buffer, lenp, ppos, true, &val);
	if (ret || !val)
		return ret;
	ret = xtcp_set_allowed_congestion_control(val);
	kfree(val);
	return ret;
}

/*
 * Reno, then CUBIC: the available list reads "reno cubic", as stock's.
 */
int xtcp_cong_init(void)
{
	int err;

	err = xtcp_register_congestion_control(&xtcp_reno);
	if (err)
		return err;
	err = xtcp_cubic_register();
	if (err)
		xtcp_unregister_congestion_control(&xtcp_reno);
	return err;
}

void xtcp_cong_exit(void)
{
	xtcp_cubic_unregister();
	xtcp_unregister_congestion_control(&xtcp_reno);
}
