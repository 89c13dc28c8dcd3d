// SPDX-License-Identifier: GPL-2.0
#include <linux/module.h>

static int __init xtcp_init(void)
{
	return 0;
}

static void __exit xtcp_exit(void)
{
}

module_init(xtcp_init);
module_exit(xtcp_exit);
MODULE_LICENSE("GPL");
