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
#include <net/route.h>
#include <net/tcp.h>
#include <net/net_namespace.h>
#if XTCP_KERNEL_AT_LEAST(6, 12)
#include <linux/unaligned.h>	/* was <asm/unaligned.h> before 6.12 */
#else
#include <asm/unaligned.h>
#endif
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

/*
 * 6.12's inet_csk_accept() charges the accepted socket's slab object to
 * the accepting task's memory cgroup (kmem_cache_charge(), new in 6.12);
 * 6.1 charges nothing.
 */
static inline void xtcp_kmem_cache_charge(void *objp, gfp_t gfp)
{
#if XTCP_KERNEL_AT_LEAST(6, 12)
	kmem_cache_charge(objp, gfp);
#endif
}

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

static inline bool xtcp_compat_bind_address_no_port(const struct sock *sk)
{
#if XTCP_KERNEL_AT_LEAST(6, 6)
	return inet_test_bit(BIND_ADDRESS_NO_PORT, sk);
#else
	return inet_sk(sk)->bind_address_no_port;
#endif
}

/*
 * Route lookups for a socket's flow: 6.1 still folds SOCK_LOCALROUTE into
 * the TOS (RT_CONN_FLAGS) and routes requests in universe scope; 6.12
 * passes the scope separately.
 */
static inline u8 xtcp_sk_rt_tos(const struct sock *sk)
{
#if XTCP_KERNEL_AT_LEAST(6, 12)
	return ip_sock_rt_tos(sk);
#else
	return RT_CONN_FLAGS(sk);
#endif
}

static inline u8 xtcp_sk_rt_scope(const struct sock *sk)
{
#if XTCP_KERNEL_AT_LEAST(6, 12)
	return ip_sock_rt_scope(sk);
#else
	return RT_SCOPE_UNIVERSE;
#endif
}

/*
 * The TOS a stateless reply (RST, ACK) is routed with, from the TOS of
 * the segment it answers (ip_send_unicast_reply()).  6.1 masks with
 * RT_TOS(): bit 0 of a route key's TOS is RTO_ONLINK there, so an
 * ECT(1)- or CE-marked segment must not pass it on, or the reply would
 * be routed link-scope only.  6.12 keeps the whole DSCP.
 */
static inline u8 xtcp_reply_rt_tos(u8 tos)
{
#if XTCP_KERNEL_AT_LEAST(6, 12)
	return tos & INET_DSCP_MASK;
#else
	return RT_TOS(tos);
#endif
}

/*
 * The window a receive buffer of @space bytes can offer.  6.7 replaced
 * the net.ipv4.tcp_adv_win_scale rule with a per-socket scaling ratio,
 * which a listener keeps at its default.
 */
static inline int xtcp_win_from_space(const struct sock *sk, int space)
{
#if XTCP_KERNEL_AT_LEAST(6, 7)
	return __tcp_win_from_space(TCP_DEFAULT_SCALING_RATIO, space);
#else
	return tcp_win_from_space(sk, space);
#endif
}

/*
 * tcp_select_initial_window(): the window a request may grow to, in
 * bytes.  6.1 caps it at 65535 (what the SYN-ACK's unscaled field can
 * say); 6.12 lets it be the whole space, so the child's first scaled
 * windows can offer more at once (the SYN-ACK still says at most 65535).
 */
static inline u32 xtcp_initial_rcv_wnd(u32 space)
{
#if XTCP_KERNEL_AT_LEAST(6, 12)
	return space;
#else
	return min_t(u32, space, U16_MAX);
#endif
}

/*
 * The receive window of a request that tcp_check_req() tests segments
 * against and tcp_v4_reqsk_send_ack() offers: 6.12 clamps it to what the
 * SYN-ACK could announce (tcp_synack_window()), 6.1 takes it as it is,
 * which xtcp_initial_rcv_wnd() capped already.
 */
static inline u32 xtcp_synack_window(const struct request_sock *req)
{
#if XTCP_KERNEL_AT_LEAST(6, 12)
	return min(req->rsk_rcv_wnd, 65535U);
#else
	return req->rsk_rcv_wnd;
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

/*
 * 6.10 added a reason to request_sock_ops.send_reset(); xtcp's RST does
 * not depend on it.
 */
void xtcp_v4_send_reset(const struct sock *sk, struct sk_buff *skb);

#if XTCP_KERNEL_AT_LEAST(6, 10)
static inline void xtcp_compat_reqsk_send_reset(const struct sock *sk,
						struct sk_buff *skb,
						enum sk_rst_reason reason)
{
	xtcp_v4_send_reset(sk, skb);
}
#else
static inline void xtcp_compat_reqsk_send_reset(const struct sock *sk,
						struct sk_buff *skb)
{
	xtcp_v4_send_reset(sk, skb);
}
#endif

#endif /* _XTCP_COMPAT_H */
