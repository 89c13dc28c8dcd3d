// SPDX-License-Identifier: GPL-2.0
/*
 * xtcp: module init and exit, and nothing else.
 *
 * Each step depends on the ones before it; exit undoes them in exactly
 * the reverse order.  The family is registered last, so no socket can
 * exist before every table it needs is in place, and unregistered first.
 */
#include <linux/module.h>

#include "xtcp.h"

static int __init xtcp_init(void)
{
	int ret;

	xtcp_isn_init();
	xtcp_syncookie_init();
	ret = xtcp_bind_init();
	if (ret)
		goto err_bind;
	ret = xtcp_mem_init();
	if (ret)
		goto err_mem;
	ret = xtcp_fence_init();
	if (ret)
		goto err_fence;
	ret = proto_register(&xtcp_prot, 1);
	if (ret)
		goto err_proto;
	ret = xtcp_cong_init();
	if (ret)
		goto err_cong;
	ret = xtcp_netns_init();
	if (ret)
		goto err_netns;
	ret = xtcp_input_init();
	if (ret)
		goto err_input;
	ret = xtcp_family_init();
	if (ret)
		goto err_family;

	pr_info("xtcp: AF_XTCP (%d) registered\n", xtcp_family);
	return 0;

err_family:
	xtcp_input_exit();
err_input:
	xtcp_netns_exit();
err_netns:
	xtcp_cong_exit();
err_cong:
	proto_unregister(&xtcp_prot);
err_proto:
	xtcp_fence_exit();
err_fence:
	xtcp_mem_exit();
err_mem:
	xtcp_bind_exit();
err_bind:
	return ret;
}

/*
 * No socket exists (each holds the module); the receive hook goes before
 * the tables it reads, with a grace period (synchronize_net()) between.
 */
static void __exit xtcp_exit(void)
{
	xtcp_family_exit();
	xtcp_input_exit();
	xtcp_netns_exit();
	/* Fast Open key sets freed by call_rcu() (fastopen.c). */
	rcu_barrier();
	xtcp_cong_exit();
	proto_unregister(&xtcp_prot);
	xtcp_fence_exit();
	xtcp_mem_exit();
	xtcp_bind_exit();
}

module_init(xtcp_init);
module_exit(xtcp_exit);
MODULE_LICENSE("GPL");
MODULE_DESCRIPTION("TCP's passive open as its own socket family, AF_XTCP");
MODULE_AUTHOR("The xtcp authors");
