// SPDX-License-Identifier: GPL-2.0
/*
 * xtcp: per network namespace state.
 *
 * Every table lives in struct xtcp_net, so namespaces never see each
 * other's ports or sockets, and a namespace's tables go away with it.
 * A user's xtcp socket holds a reference on its namespace, so by the
 * time xtcp_net_exit() runs every such socket is gone.  A kernel socket
 * (kern = 1) does not, as with stock TCP: its owner must release it
 * first (Documentation/design.rst, "Namespace references").
 */
#include <linux/bitmap.h>
#include <linux/mm.h>
#include <linux/slab.h>
#include <net/inet_hashtables.h>
#include <net/netns/generic.h>

#include "xtcp.h"

unsigned int xtcp_net_id __read_mostly;

/* Every socket of the namespace is gone: the tables must be empty. */
static void xtcp_tables_free(struct xtcp_net *xn)
{
	unsigned int i;

	for (i = 0; xn->bhash && i < XTCP_BHASH_SIZE; i++)
		WARN_ON_ONCE(!hlist_empty(&xn->bhash[i].chain));
	for (i = 0; xn->lhash && i < XTCP_LHASH_SIZE; i++)
		WARN_ON_ONCE(!hlist_nulls_empty(&xn->lhash[i].nulls_head));
	for (i = 0; xn->ehash && i < XTCP_EHASH_SIZE; i++)
		WARN_ON_ONCE(!hlist_nulls_empty(&xn->ehash[i].chain));
	WARN_ON_ONCE(xn->ports && !bitmap_empty(xn->ports, XTCP_NR_PORTS));
	kvfree(xn->ehash_locks);
	kvfree(xn->ehash);
	kvfree(xn->lhash);
	bitmap_free(xn->ports);
	kvfree(xn->bhash);
}

static int xtcp_tables_alloc(struct xtcp_net *xn)
{
	unsigned int i;

	xn->bhash = kvmalloc_array(XTCP_BHASH_SIZE, sizeof(*xn->bhash),
				   GFP_KERNEL);
	xn->ports = bitmap_zalloc(XTCP_NR_PORTS, GFP_KERNEL);
	xn->lhash = kvmalloc_array(XTCP_LHASH_SIZE, sizeof(*xn->lhash),
				   GFP_KERNEL);
	xn->ehash = kvmalloc_array(XTCP_EHASH_SIZE, sizeof(*xn->ehash),
				   GFP_KERNEL);
	xn->ehash_locks = kvmalloc_array(XTCP_EHASH_LOCKS,
					 sizeof(*xn->ehash_locks), GFP_KERNEL);
	if (!xn->bhash || !xn->ports || !xn->lhash || !xn->ehash ||
	    !xn->ehash_locks) {
		xtcp_tables_free(xn);
		return -ENOMEM;
	}
	for (i = 0; i < XTCP_BHASH_SIZE; i++) {
		spin_lock_init(&xn->bhash[i].lock);
		INIT_HLIST_HEAD(&xn->bhash[i].chain);
	}
	/*
	 * The nulls value of a chain is its index, so that a lockless
	 * reader whose socket moved to another chain under it notices and
	 * walks again.  Listening chains count from LISTENING_NULLS_BASE,
	 * as stock's do: a reader of an established chain must never take
	 * the end of a listening chain for the end of its own.
	 */
	for (i = 0; i < XTCP_LHASH_SIZE; i++) {
		spin_lock_init(&xn->lhash[i].lock);
		INIT_HLIST_NULLS_HEAD(&xn->lhash[i].nulls_head,
				      i + LISTENING_NULLS_BASE);
	}
	for (i = 0; i < XTCP_EHASH_SIZE; i++)
		INIT_HLIST_NULLS_HEAD(&xn->ehash[i].chain, i);
	for (i = 0; i < XTCP_EHASH_LOCKS; i++)
		spin_lock_init(&xn->ehash_locks[i]);
	return 0;
}

static int __net_init xtcp_net_init(struct net *net)
{
	struct xtcp_net *xn = xtcp_pernet(net);
	int ret;

	xn->net = net;
	ret = xtcp_tables_alloc(xn);
	if (ret)
		goto err_tables;
	ret = -ENOMEM;
	xn->mib = alloc_percpu(struct xtcp_mib_counters);
	if (!xn->mib)
		goto err_mib;
	ret = xtcp_ctl_sock_init(xn);
	if (ret)
		goto err_ctl;
	xtcp_ca_net_init(xn);
	ret = xtcp_sysctl_net_init(xn);
	if (ret)
		goto err_sysctl;
	ret = xtcp_proc_net_init(xn);
	if (ret)
		goto err_proc;
	return 0;

err_proc:
	xtcp_sysctl_net_exit(xn);
err_sysctl:
	xtcp_ca_net_exit(xn);
	xtcp_ctl_sock_exit(xn);
err_ctl:
	free_percpu(xn->mib);
err_mib:
	xtcp_tables_free(xn);
err_tables:
	return ret;
}

static void __net_exit xtcp_net_exit(struct net *net)
{
	struct xtcp_net *xn = xtcp_pernet(net);

	/*
	 * Timewait socks hold no reference on the namespace (nor on the
	 * module): they die now, and the fence pins they held are queued.
	 * A fence's kernel socket must go before its namespace does.
	 */
	xtcp_twsk_purge(xn);
	xtcp_fence_flush();
	xtcp_proc_net_exit(xn);
	xtcp_sysctl_net_exit(xn);
	xtcp_fastopen_ctx_destroy(xn);
	xtcp_ca_net_exit(xn);
	xtcp_ctl_sock_exit(xn);
	free_percpu(xn->mib);
	xtcp_tables_free(xn);
}

static struct pernet_operations xtcp_net_ops = {
	.init = xtcp_net_init,
	.exit = xtcp_net_exit,
	.id   = &xtcp_net_id,
	.size = sizeof(struct xtcp_net),
};

int xtcp_netns_init(void)
{
	return register_pernet_subsys(&xtcp_net_ops);
}

void xtcp_netns_exit(void)
{
	unregister_pernet_subsys(&xtcp_net_ops);
}
