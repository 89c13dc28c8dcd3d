// SPDX-License-Identifier: GPL-2.0
/*
 * xtcp: net.xtcp.* sysctls, one set per network namespace.
 *
 * Each knob is the twin of a net.ipv4.tcp_* one, with the same meaning
 * (its range is the meaningful values, where stock often takes any u8),
 * and starts at the value its twin has in the namespace when the
 * namespace (or the module) comes up.  They are separate so that an
 * experiment on xtcp never changes stock TCP beside it.
 */
#include <linux/slab.h>
#include <linux/sysctl.h>
#include <net/net_namespace.h>

#include "xtcp.h"

static int xtcp_two = 2;
static int xtcp_four = 4;
static int xtcp_u8_max = 255;
static int xtcp_synack_retries_max = 255;

#define XTCP_KNOB(name, field, min, max) {				\
	.procname	= name,						\
	.data		= (void *)offsetof(struct xtcp_sysctl, field),	\
	.maxlen		= sizeof(int),					\
	.mode		= 0644,						\
	.proc_handler	= proc_dointvec_minmax,				\
	.extra1		= min,						\
	.extra2		= max,						\
}

/* .data holds offsets into struct xtcp_sysctl until a netns copy is made. */
static struct ctl_table xtcp_sysctl_template[] = {
	XTCP_KNOB("syncookies", syncookies, SYSCTL_ZERO, &xtcp_two),
	XTCP_KNOB("max_syn_backlog", max_syn_backlog, SYSCTL_ONE, SYSCTL_INT_MAX),
	XTCP_KNOB("synack_retries", synack_retries, SYSCTL_ZERO,
		  &xtcp_synack_retries_max),
	XTCP_KNOB("abort_on_overflow", abort_on_overflow, SYSCTL_ZERO, SYSCTL_ONE),
	XTCP_KNOB("ecn", ecn, SYSCTL_ZERO, &xtcp_two),
	XTCP_KNOB("timestamps", timestamps, SYSCTL_ZERO, &xtcp_two),
	XTCP_KNOB("window_scaling", window_scaling, SYSCTL_ZERO, SYSCTL_ONE),
	XTCP_KNOB("sack", sack, SYSCTL_ZERO, SYSCTL_ONE),
	XTCP_KNOB("dsack", dsack, SYSCTL_ZERO, SYSCTL_ONE),
	/* TCP_RACK_LOSS_DETECTION | _STATIC_REO_WND | _NO_DUPTHRESH */
	XTCP_KNOB("recovery", recovery, SYSCTL_ZERO, &xtcp_u8_max),
	XTCP_KNOB("reordering", reordering, SYSCTL_ONE, SYSCTL_INT_MAX),
	XTCP_KNOB("max_reordering", max_reordering, SYSCTL_ONE,
		  SYSCTL_INT_MAX),
	XTCP_KNOB("early_retrans", early_retrans, SYSCTL_ZERO, &xtcp_four),
	XTCP_KNOB("frto", frto, SYSCTL_ZERO, &xtcp_two),
	XTCP_KNOB("migrate_req", migrate_req, SYSCTL_ZERO, SYSCTL_ONE),
	XTCP_KNOB("max_orphans", max_orphans, SYSCTL_ZERO, SYSCTL_INT_MAX),
	XTCP_KNOB("max_tw_buckets", max_tw_buckets, SYSCTL_ZERO,
		  SYSCTL_INT_MAX),
	/* TFO_* bits, any int as stock's (proc_dointvec) */
	XTCP_KNOB("fastopen", fastopen, NULL, NULL),
	/* fastopen.c's; .data becomes the struct xtcp_net. */
	{
		.procname	= "fastopen_key",
		.mode		= 0600,
		.proc_handler	= xtcp_proc_fastopen_key,
	},
	/* The registry's (cong.c); .data becomes the struct xtcp_net. */
	{
		.procname	= "congestion_control",
		.maxlen		= TCP_CA_NAME_MAX,
		.mode		= 0644,
		.proc_handler	= xtcp_proc_congestion_control,
	},
	{
		.procname	= "available_congestion_control",
		.maxlen		= TCP_CA_BUF_MAX,
		.mode		= 0444,
		.proc_handler	= xtcp_proc_available_congestion_control,
	},
	{
		.procname	= "allowed_congestion_control",
		.maxlen		= TCP_CA_BUF_MAX,
		.mode		= 0644,
		.proc_handler	= xtcp_proc_allowed_congestion_control,
	},
	{ }
};

/* Start from stock TCP's values in this namespace. */
static void xtcp_sysctl_defaults(struct xtcp_sysctl *s, const struct net *net)
{
	s->syncookies = READ_ONCE(net->ipv4.sysctl_tcp_syncookies);
	s->max_syn_backlog = READ_ONCE(net->ipv4.sysctl_max_syn_backlog);
	s->synack_retries = READ_ONCE(net->ipv4.sysctl_tcp_synack_retries);
	s->abort_on_overflow = READ_ONCE(net->ipv4.sysctl_tcp_abort_on_overflow);
	s->ecn = READ_ONCE(net->ipv4.sysctl_tcp_ecn);
	s->timestamps = READ_ONCE(net->ipv4.sysctl_tcp_timestamps);
	s->window_scaling = READ_ONCE(net->ipv4.sysctl_tcp_window_scaling);
	s->sack = READ_ONCE(net->ipv4.sysctl_tcp_sack);
	s->dsack = READ_ONCE(net->ipv4.sysctl_tcp_dsack);
	s->recovery = READ_ONCE(net->ipv4.sysctl_tcp_recovery);
	s->reordering = READ_ONCE(net->ipv4.sysctl_tcp_reordering);
	s->max_reordering = READ_ONCE(net->ipv4.sysctl_tcp_max_reordering);
	s->early_retrans = READ_ONCE(net->ipv4.sysctl_tcp_early_retrans);
	s->frto = READ_ONCE(net->ipv4.sysctl_tcp_frto);
	s->migrate_req = READ_ONCE(net->ipv4.sysctl_tcp_migrate_req);
	/*
	 * Stock's tcp_max_orphans is not exported; tcp_init() sets it to
	 * half the established hash's buckets, and so does xtcp with its own.
	 */
	s->max_orphans = XTCP_EHASH_SIZE / 2;
	/* tcp_sk_init(): half the established hash's buckets, as stock. */
	s->max_tw_buckets = XTCP_EHASH_SIZE / 2;
	s->fastopen = READ_ONCE(net->ipv4.sysctl_tcp_fastopen);
}

int xtcp_sysctl_net_init(struct xtcp_net *xn)
{
	struct ctl_table *table;
	size_t i, n = ARRAY_SIZE(xtcp_sysctl_template) - 1;

	xtcp_sysctl_defaults(&xn->sysctl, xn->net);

	table = kmemdup(xtcp_sysctl_template, sizeof(xtcp_sysctl_template),
			GFP_KERNEL);
	if (!table)
		return -ENOMEM;
	for (i = 0; i < n; i++) {
		if (table[i].proc_handler != proc_dointvec_minmax) {
			table[i].data = xn;
			/*
			 * One allowed list for all namespaces: as stock's, the
			 * others show it read-only.
			 */
			if (table[i].proc_handler ==
			    xtcp_proc_allowed_congestion_control &&
			    !net_eq(xn->net, &init_net))
				table[i].mode = 0444;
		} else {
			table[i].data = (char *)&xn->sysctl +
					(uintptr_t)table[i].data;
		}
	}

	xn->sysctl_hdr = xtcp_register_net_sysctl(xn->net, XTCP_SYSCTL_DIR,
						  table, n);
	if (!xn->sysctl_hdr) {
		kfree(table);
		return -ENOMEM;
	}
	return 0;
}

void xtcp_sysctl_net_exit(struct xtcp_net *xn)
{
	const struct ctl_table *table = xn->sysctl_hdr->ctl_table_arg;

	unregister_net_sysctl_table(xn->sysctl_hdr);
	kfree(table);
}
