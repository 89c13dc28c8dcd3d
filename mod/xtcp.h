/* SPDX-License-Identifier: GPL-2.0 */
/*
 * xtcp: TCP's passive open as its own socket family.
 *
 * Internal interfaces shared by the module's files.  The shape follows
 * the kernel's: an xtcp socket is a struct inet_connection_sock with
 * xtcp's own state behind it, so the IP output path, the ip_*sockopt
 * helpers and generic socket code see an ordinary IPv4 socket, while
 * every table, queue and state transition is xtcp's own.
 * Documentation/design.rst explains the choices.
 */
#ifndef _XTCP_H
#define _XTCP_H

#include <linux/types.h>
#include <linux/spinlock.h>
#include <linux/list_nulls.h>
#include <net/sock.h>
#include <net/inet_connection_sock.h>

#include "uapi/linux/xtcp.h"
#include "compat.h"

struct xtcp_bind_bucket;

/**
 * struct xtcp_sock - an AF_XTCP socket
 * @xs_icsk:      must be first: inet_sk() and inet_csk() work on it, which
 *                is what ip_queue_xmit() and the ip_*sockopt helpers need
 * @xs_bind_hash: the bind bucket this socket owns a port through, or NULL;
 *                the twin of icsk_bind_hash, which has the kernel's type
 * @xs_fence:     a stock TCP socket bound to the same address and port, so
 *                that stock TCP in this namespace sees the port as taken
 *                (see fence.c); NULL for children, which share the
 *                listener's port
 */
struct xtcp_sock {
	struct inet_connection_sock	xs_icsk;
	struct xtcp_bind_bucket		*xs_bind_hash;
	struct socket			*xs_fence;
};

static inline struct xtcp_sock *xtcp_sk(const struct sock *sk)
{
	return (struct xtcp_sock *)sk;
}

/**
 * struct xtcp_bind_bucket - owners of one local port (inet_bind_bucket)
 * @port:          the port, host order
 * @l3mdev:        VRF master ifindex the port is bound in, 0 for none
 * @fastreuse:     every owner has SO_REUSEADDR and none listens: a new
 *                 SO_REUSEADDR socket may join without a conflict scan
 * @fastreuseport: FASTREUSEPORT_ANY/STRICT as in the kernel, or 0
 * @fastuid:       owner uid for the SO_REUSEPORT fast path
 * @fast_rcv_saddr: bound address for the FASTREUSEPORT_STRICT check
 * @node:          link in the bind hash chain
 * @owners:        sockets bound here, through sk_bind_node
 */
struct xtcp_bind_bucket {
	unsigned short		port;
	int			l3mdev;
	signed char		fastreuse;
	signed char		fastreuseport;
	kuid_t			fastuid;
	__be32			fast_rcv_saddr;
	struct hlist_node	node;
	struct hlist_head	owners;
};

/* One chain of the bind hash; the lock is taken with BHs off. */
struct xtcp_bind_hashbucket {
	spinlock_t		lock;	/* guards chain and its buckets */
	struct hlist_head	chain;
};

/*
 * One chain of the listening hash, keyed by local port.  Writers take
 * the lock; readers (the SYN path) walk it under RCU, which is safe
 * because listeners are SOCK_RCU_FREE (see xtcp_hash()).
 */
struct xtcp_listen_hashbucket {
	spinlock_t		lock;	/* serialises writers of nulls_head */
	struct hlist_nulls_head	nulls_head;
};

#define XTCP_BHASH_SIZE		1024	/* power of two */
#define XTCP_LHASH_SIZE		256	/* power of two */

/**
 * struct xtcp_net - xtcp's state in one network namespace
 * @net:        the namespace
 * @bhash:      bind buckets by port
 * @lhash:      listening sockets by port
 * @sysctl_hdr: registration of net.xtcp.*
 * @sysctl:     the knobs' values (see sysctl.c)
 */
struct xtcp_net {
	struct net				*net;
	struct xtcp_bind_hashbucket		*bhash;
	struct xtcp_listen_hashbucket		*lhash;
	struct ctl_table_header			*sysctl_hdr;
	struct xtcp_sysctl {
		int	syncookies;
		int	max_syn_backlog;
		int	synack_retries;
		int	abort_on_overflow;
		int	ecn;
		int	timestamps;
		int	window_scaling;
		int	sack;
	} sysctl;
};

/* netns.c */
struct xtcp_net *xtcp_pernet(const struct net *net);
int xtcp_netns_init(void);
void xtcp_netns_exit(void);

/* af_xtcp.c: the family, its proto_ops and struct proto */
extern int xtcp_family;
extern struct proto xtcp_prot;
int xtcp_family_init(void);
void xtcp_family_exit(void);

/* bind.c: bind buckets, mirroring inet_csk_get_port() */
int xtcp_bind(struct socket *sock, struct sockaddr *uaddr, int addr_len);
int xtcp_csk_get_port(struct sock *sk, unsigned short snum);
int xtcp_bind_port(struct sock *sk, unsigned short snum);
void xtcp_put_port(struct sock *sk);
int xtcp_bind_init(void);
void xtcp_bind_exit(void);

/* fence.c: holding our ports in stock TCP's table */
int xtcp_fence_acquire(struct sock *sk);
int xtcp_fence_refresh(struct sock *sk);
void xtcp_fence_release(struct sock *sk);

/* listen.c: listen(), the listening hash and accept() */
int xtcp_listen(struct socket *sock, int backlog);
int xtcp_hash(struct sock *sk);
void xtcp_unhash(struct sock *sk);
void xtcp_csk_listen_stop(struct sock *sk);
__poll_t xtcp_listen_poll(struct sock *sk);

/* sysctl.c */
int xtcp_sysctl_net_init(struct xtcp_net *xn);
void xtcp_sysctl_net_exit(struct xtcp_net *xn);

#endif /* _XTCP_H */
