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

/* The one comparison with LINUX_VERSION_CODE; scripts/checkpatch knows. */
#define XTCP_KERNEL_AT_LEAST(major, minor) \
	(LINUX_VERSION_CODE >= KERNEL_VERSION(major, minor, 0))
#include <linux/net.h>
#include <net/inet_sock.h>
#include <net/ip.h>
#include <net/net_namespace.h>
#if XTCP_KERNEL_AT_LEAST(6, 9)
#include <net/rps.h>	/* sock_rps_record_flow() left net/sock.h in 6.9 */
#endif

/*
 * 6.10 turned accept()'s flags, kern and error into struct
 * proto_accept_arg.  xtcp_accept() takes that struct on every kernel;
 * before 6.10 a shim builds it from the old arguments.
 */
#if XTCP_KERNEL_AT_LEAST(6, 10)
int xtcp_accept(struct socket *sock, struct socket *newsock,
		struct proto_accept_arg *arg);
#define xtcp_accept_op xtcp_accept
#else
struct proto_accept_arg {
	int flags;
	int err;
	bool kern;
};

int xtcp_accept(struct socket *sock, struct socket *newsock,
		struct proto_accept_arg *arg);

static inline int xtcp_accept_op(struct socket *sock, struct socket *newsock,
				 int flags, bool kern)
{
	struct proto_accept_arg arg = { .flags = flags, .kern = kern };

	return xtcp_accept(sock, newsock, &arg);
}
#endif

/* 6.6 moved the inet_sock booleans into inet->inet_flags bits. */
static inline void xtcp_compat_inet_init(struct sock *sk)
{
	struct inet_sock *inet = inet_sk(sk);

#if XTCP_KERNEL_AT_LEAST(6, 6)
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
#if XTCP_KERNEL_AT_LEAST(6, 6)
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
#if XTCP_KERNEL_AT_LEAST(6, 5)
	return register_net_sysctl_sz(net, path, table, n);
#else
	return register_net_sysctl(net, path, table);
#endif
}

#endif /* _XTCP_COMPAT_H */
