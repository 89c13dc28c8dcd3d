/* SPDX-License-Identifier: GPL-2.0 */
/*
 * Differences between the kernels xtcp supports (Linux 6.1 and 6.12).
 *
 * This is the only file that tests LINUX_VERSION_CODE.  Everything else
 * calls the helpers below and reads the same on both kernels.
 */
#ifndef _XTCP_COMPAT_H
#define _XTCP_COMPAT_H

#include <linux/version.h>
#include <linux/net.h>
#include <net/inet_sock.h>
#include <net/ip.h>
#include <net/net_namespace.h>
#if LINUX_VERSION_CODE >= KERNEL_VERSION(6, 9, 0)
#include <net/rps.h>	/* sock_rps_record_flow() left net/sock.h in 6.9 */
#endif

#if LINUX_VERSION_CODE >= KERNEL_VERSION(6, 10, 0)
/* 6.10 turned accept()'s flags/kern/err into struct proto_accept_arg. */
#define XTCP_ACCEPT_ARGS	struct socket *sock, struct socket *newsock, \
				struct proto_accept_arg *arg
#define XTCP_ACCEPT_FLAGS	(arg->flags)
#define XTCP_ACCEPT_KERN	(arg->kern)
#else
#define XTCP_ACCEPT_ARGS	struct socket *sock, struct socket *newsock, \
				int flags, bool kern
#define XTCP_ACCEPT_FLAGS	(flags)
#define XTCP_ACCEPT_KERN	(kern)
#endif

/* 6.6 moved the inet_sock booleans into inet->inet_flags bits. */
static inline void xtcp_compat_inet_init(struct sock *sk)
{
	struct inet_sock *inet = inet_sk(sk);

#if LINUX_VERSION_CODE >= KERNEL_VERSION(6, 6, 0)
	inet_set_bit(IS_ICSK, sk);
	inet_clear_bit(NODEFRAG, sk);
	inet_set_bit(MC_LOOP, sk);
	inet_set_bit(MC_ALL, sk);
#else
	inet->is_icsk = 1;
	inet->nodefrag = 0;
	inet->mc_loop = 1;
	inet->mc_all = 1;
#endif
	inet->uc_ttl = -1;
	inet->mc_ttl = 1;
	inet->mc_index = 0;
	inet->mc_list = NULL;
	inet->rcv_tos = 0;
}

static inline bool xtcp_compat_freebind(const struct sock *sk)
{
#if LINUX_VERSION_CODE >= KERNEL_VERSION(6, 6, 0)
	return inet_test_bit(FREEBIND, sk);
#else
	return inet_sk(sk)->freebind;
#endif
}

/*
 * 6.5 made per-netns sysctl registration take the table size, and 6.11
 * dropped the empty sentinel entry.  Our tables keep the sentinel (6.1
 * needs it); @n counts the entries before it.
 */
static inline struct ctl_table_header *
xtcp_register_net_sysctl(struct net *net, const char *path,
			 struct ctl_table *table, size_t n)
{
#if LINUX_VERSION_CODE >= KERNEL_VERSION(6, 5, 0)
	return register_net_sysctl_sz(net, path, table, n);
#else
	return register_net_sysctl(net, path, table);
#endif
}

#endif /* _XTCP_COMPAT_H */
