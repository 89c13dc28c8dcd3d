// SPDX-License-Identifier: GPL-2.0
/*
 * xtcp: the AF_XTCP family, its proto_ops and its struct proto.
 *
 * This is the only file that touches socket-layer registration.  A socket
 * created here is, inside the kernel, an IPv4 socket (sk_family AF_INET,
 * sk_protocol IPPROTO_TCP) whose operations and protocol are xtcp's own:
 * the IP layer, routing, netfilter and the ip_*sockopt helpers treat it
 * as what it is on the wire, while every TCP step is done by this module.
 * Mirrors inet_create(), inet_release() and inet_shutdown() in
 * net/ipv4/af_inet.c.
 */
#include <linux/module.h>
#include <linux/net.h>
#include <linux/poll.h>
#include <net/inet_common.h>
#include <net/ip.h>
#include <net/sock.h>
#include <net/tcp.h>

#include "uapi/linux/xtcp.h"
#include "xtcp.h"

int xtcp_family = AF_XTCP;
module_param_named(family, xtcp_family, int, 0444);
MODULE_PARM_DESC(family, "address family number to register (default "
		 __stringify(AF_XTCP) ")");

/* Initial per-socket state; the TCP-level fields come with the handshake. */
static int xtcp_init_sock(struct sock *sk)
{
	struct tcp_sock *tp = tcp_sk(sk);
	struct net *net = sock_net(sk);

	/* Counted until xtcp_sock_destruct(); a child by sk_clone_lock(). */
	sk_sockets_allocated_inc(sk);
	inet_csk(sk)->icsk_rto = TCP_TIMEOUT_INIT;
	inet_csk(sk)->icsk_rto_min = xtcp_rto_min_init(net);
	inet_csk(sk)->icsk_delack_max = TCP_DELACK_MAX;
	/* ip_setsockopt(IP_OPTIONS) calls it on every is_icsk socket. */
	inet_csk(sk)->icsk_sync_mss = xtcp_sync_mss;
	/*
	 * xtcp's congestion control is its own (cong.c); icsk_ca_ops stays
	 * NULL.  Locked as a route's RTAX_CC_ALGO locks it, so that generic
	 * code cannot install a stock algorithm either: on 6.12 a BPF
	 * program's bpf_setsockopt(TCP_CONGESTION) gets EPERM from
	 * tcp_set_congestion_control() instead of calling through NULL.
	 */
	inet_csk(sk)->icsk_ca_dst_locked = 1;
	xtcp_init_xmit_timers(sk);
	xtcp_compat_write_queue_init(xtcp_write_queue(sk));
	sk->tcp_rtx_queue = RB_ROOT;
	INIT_LIST_HEAD(&tp->tsorted_sent_queue);
	tp->mdev_us = jiffies_to_usecs(TCP_TIMEOUT_INIT);
	minmax_reset(&tp->rtt_min, tcp_jiffies32, ~0U);
	tp->snd_cwnd = TCP_INIT_CWND;
	tp->snd_ssthresh = TCP_INFINITE_SSTHRESH;
	tp->snd_cwnd_clamp = ~0;
	xtcp_assign_congestion_control(sk);
	tp->reordering = READ_ONCE(xtcp_pernet(net)->sysctl.reordering);
	tp->rack.reo_wnd_steps = 1;
	tp->app_limited = ~0U;
	tp->rate_app_limited = 1;
	tp->rx_opt.mss_clamp = TCP_MSS_DEFAULT;
	tp->mss_cache = TCP_MSS_DEFAULT;
	tp->tcp_header_len = sizeof(struct tcphdr);
	sk->sk_state = TCP_CLOSE;
	sk->sk_write_space = xtcp_stream_write_space;
	sock_set_flag(sk, SOCK_USE_WRITE_QUEUE);
	WRITE_ONCE(sk->sk_sndbuf, READ_ONCE(net->ipv4.sysctl_tcp_wmem[1]));
	WRITE_ONCE(sk->sk_rcvbuf, READ_ONCE(net->ipv4.sysctl_tcp_rmem[1]));
	xtcp_scaling_ratio_init(sk);
	return 0;
}

/*
 * The one (type, protocol) pair xtcp answers, looked up as inet_create()
 * walks inetsw[]: a type with no entry gets ESOCKTNOSUPPORT, a known type
 * with a protocol it does not carry gets EPROTONOSUPPORT, exactly what
 * AF_INET answers for SOCK_SEQPACKET without SCTP or SOCK_STREAM+UDP.
 */
static int xtcp_check_type(const struct socket *sock, int protocol)
{
	if (sock->type != SOCK_STREAM)
		return -ESOCKTNOSUPPORT;
	if (protocol != IPPROTO_IP && protocol != IPPROTO_TCP)
		return -EPROTONOSUPPORT;
	return 0;
}

static const struct proto_ops xtcp_stream_ops;

static int xtcp_create(struct net *net, struct socket *sock, int protocol,
		       int kern)
{
	struct sock *sk;
	int err;

	if (protocol < 0 || protocol >= IPPROTO_MAX)
		return -EINVAL;
	err = xtcp_check_type(sock, protocol);
	if (err)
		return err;

	sock->state = SS_UNCONNECTED;
	sock->ops = &xtcp_stream_ops;

	sk = sk_alloc(net, PF_INET, GFP_KERNEL, &xtcp_prot, kern);
	if (!sk)
		return -ENOMEM;

	inet_init_csk_locks(sk);
	xtcp_compat_inet_init(sk);
	inet_sk(sk)->pmtudisc = READ_ONCE(net->ipv4.sysctl_ip_no_pmtu_disc) ?
				IP_PMTUDISC_DONT : IP_PMTUDISC_WANT;
	atomic_set(&inet_sk(sk)->inet_id, 0);

	sock_init_data(sock, sk);
	sk->sk_destruct = xtcp_sock_destruct;
	sk->sk_protocol = IPPROTO_TCP;
	sk->sk_backlog_rcv = sk->sk_prot->backlog_rcv;
	sk->sk_txrehash = READ_ONCE(net->core.sysctl_txrehash);

	err = sk->sk_prot->init(sk);
	if (err) {
		sk_common_release(sk);
		return err;
	}
	return 0;
}

/*
 * disconnect(): what shutdown(SHUT_RD) and connect(AF_UNSPEC) do, and
 * how a listener that closes forgets its unaccepted children.  As
 * tcp_disconnect(): the state goes to TCP_CLOSE first; a listener stops
 * listening, a synchronized connection is aborted with a RST and reports
 * ECONNRESET (tcp_need_reset()), anything else reports no error.  A
 * socket leaving another state keeps its port only if bind() chose it
 * explicitly, a socket that was closed keeps it anyway, and getsockname()
 * keeps reporting it even when it is gone (inet_sport stays, as in
 * stock).
 *
 * Context: process context with the socket locked.
 */
static int xtcp_disconnect(struct sock *sk, int flags)
{
	struct inet_sock *inet = inet_sk(sk);
	struct request_sock *req;
	int old_state = sk->sk_state;

	if (old_state == TCP_LISTEN) {
		xtcp_csk_listen_stop(sk);
	} else if (xtcp_need_reset(old_state) ||
		   (tcp_sk(sk)->snd_nxt != tcp_sk(sk)->write_seq &&
		    (1 << old_state) & (TCPF_CLOSING | TCPF_LAST_ACK))) {
		/* Also a FIN still unsent: the peer never heard we closed. */
		xtcp_send_active_reset(sk);
		WRITE_ONCE(sk->sk_err, ECONNRESET);
	}
	xtcp_clear_xmit_timers(sk);
	if (sk->sk_state != TCP_CLOSE) {
		sk->sk_prot->unhash(sk);
		inet_sk_set_state(sk, TCP_CLOSE);
	}
	__skb_queue_purge(&sk->sk_receive_queue);
	WRITE_ONCE(tcp_sk(sk)->urg_data, 0);
	tcp_saved_syn_free(tcp_sk(sk));
	xtcp_disconnect_rx(sk);
	xtcp_disconnect_tx(sk);
	WRITE_ONCE(tcp_sk(sk)->copied_seq, tcp_sk(sk)->rcv_nxt);
	sock_reset_flag(sk, SOCK_DONE);
	inet_csk_delack_init(sk);
	/* Never zero: window selection divides by it. */
	inet_csk(sk)->icsk_ack.rcv_mss = TCP_MIN_MSS;
	if (!(sk->sk_userlocks & SOCK_BINDADDR_LOCK)) {
		inet->inet_saddr = 0;
		inet->inet_rcv_saddr = 0;
	}
	/*
	 * tcp_set_state(TCP_CLOSE) gives the port back (inet_put_port()), so
	 * a socket that was closed already keeps it, port 0 or not.
	 */
	if (old_state != TCP_CLOSE &&
	    !(sk->sk_userlocks & SOCK_BINDPORT_LOCK)) {
		xtcp_fence_unpin(sk, true);
		xtcp_put_port(sk);
		xtcp_fence_release(sk);
	} else {
		xtcp_fence_unlisten(sk);
	}
	/* A Fast Open child aborted before the third ACK (tcp_disconnect()). */
	req = rcu_dereference_protected(tcp_sk(sk)->fastopen_rsk,
					lockdep_sock_is_held(sk));
	if (req)
		xtcp_reqsk_fastopen_remove(sk, req, false);
	inet->inet_dport = 0;
	WRITE_ONCE(sk->sk_shutdown, 0);
	sk_error_report(sk);
	return 0;
}

static int xtcp_release(struct socket *sock)
{
	struct sock *sk = sock->sk;
	long timeout = 0;

	if (!sk)
		return 0;
	/* No ip_mc_drop_socket(): is_icsk sockets cannot join groups. */
	if (sock_flag(sk, SOCK_LINGER) && !(current->flags & PF_EXITING))
		timeout = sk->sk_lingertime;
	sk->sk_prot->close(sk, timeout);
	sock->sk = NULL;
	return 0;
}

/* Active open is a later step; the errors before it are stock's. */
static int xtcp_stream_connect(struct socket *sock, struct sockaddr *uaddr,
			       int addr_len, int flags)
{
	struct sock *sk = sock->sk;
	int err;

	if (addr_len < (int)sizeof(uaddr->sa_family))
		return -EINVAL;

	lock_sock(sk);
	if (uaddr->sa_family == AF_UNSPEC) {
		/* Wakes a reader in sk_wait_data() with EPIPE. */
		sk->sk_disconnects++;
		err = sk->sk_prot->disconnect(sk, flags);
		sock->state = err ? SS_DISCONNECTING : SS_UNCONNECTED;
	} else if (sk->sk_state != TCP_CLOSE) {
		err = -EISCONN;
	} else {
		err = -EOPNOTSUPP;
	}
	release_sock(sk);
	return err;
}

static int xtcp_shutdown(struct socket *sock, int how)
{
	struct sock *sk = sock->sk;
	int err = 0;

	how++;	/* 0->1 (RCV_SHUTDOWN), 1->2 (SEND_SHUTDOWN), 2->3 (both) */
	if ((how & ~SHUTDOWN_MASK) || !how)
		return -EINVAL;

	lock_sock(sk);
	switch (sk->sk_state) {
	case TCP_CLOSE:
		err = -ENOTCONN;
		fallthrough;
	default:
		WRITE_ONCE(sk->sk_shutdown, sk->sk_shutdown | how);
		xtcp_shutdown_send(sk, how);
		break;
	case TCP_LISTEN:
		if (!(how & RCV_SHUTDOWN))
			break;
		err = sk->sk_prot->disconnect(sk, O_NONBLOCK);
		sock->state = err ? SS_DISCONNECTING : SS_UNCONNECTED;
		break;
	}
	/* Wake up anyone sleeping in poll or accept. */
	sk->sk_state_change(sk);
	release_sock(sk);
	return err;
}

static __poll_t xtcp_poll(struct file *file, struct socket *sock,
			  poll_table *wait)
{
	struct sock *sk = sock->sk;

	sock_poll_wait(file, sock, wait);
	if (inet_sk_state_load(sk) == TCP_LISTEN)
		return xtcp_listen_poll(sk);
	return xtcp_conn_poll(sk);
}

/*
 * inet_getname() without its cgroup BPF hook: a program there may call
 * bpf_setsockopt(SOL_TCP), which takes any IPPROTO_TCP socket for a
 * tcp_sock, and an xtcp_sock is not one.
 */
static int xtcp_getname(struct socket *sock, struct sockaddr *uaddr, int peer)
{
	DECLARE_SOCKADDR(struct sockaddr_in *, sin, uaddr);
	struct sock *sk = sock->sk;
	struct inet_sock *inet = inet_sk(sk);
	int ret = sizeof(*sin);

	sin->sin_family = AF_INET;
	lock_sock(sk);
	if (peer) {
		if (!inet->inet_dport ||
		    (((1 << sk->sk_state) & (TCPF_CLOSE | TCPF_SYN_SENT)) &&
		     peer == 1)) {
			ret = -ENOTCONN;
			goto out;
		}
		sin->sin_port = inet->inet_dport;
		sin->sin_addr.s_addr = inet->inet_daddr;
	} else {
		sin->sin_port = inet->inet_sport;
		sin->sin_addr.s_addr = inet->inet_rcv_saddr ? :
				       inet->inet_saddr;
	}
	memset(sin->sin_zero, 0, sizeof(sin->sin_zero));
out:
	release_sock(sk);
	return ret;
}

/*
 * .family is PF_INET, not the AF_XTCP number: it describes the sockets'
 * addressing, and the number we register under is a module parameter.
 */
static const struct proto_ops xtcp_stream_ops = {
	.family		= PF_INET,
	.owner		= THIS_MODULE,
	.release	= xtcp_release,
	.bind		= xtcp_bind,
	.connect	= xtcp_stream_connect,
	.socketpair	= sock_no_socketpair,
	.accept		= xtcp_accept_op,
	.getname	= xtcp_getname,
	.poll		= xtcp_poll,
	.ioctl		= inet_ioctl,
	.listen		= xtcp_listen,
	.shutdown	= xtcp_shutdown,
	.setsockopt	= xtcp_setsockopt,
	.getsockopt	= xtcp_getsockopt,
	.sendmsg	= xtcp_sendmsg,
	.recvmsg	= xtcp_recvmsg,
	.mmap		= sock_no_mmap,
};

struct proto xtcp_prot = {
	.name		= "XTCP",
	.owner		= THIS_MODULE,
	.init		= xtcp_init_sock,
	.close		= xtcp_close,
	.disconnect	= xtcp_disconnect,
	.ioctl		= xtcp_proto_ioctl,
	.keepalive	= xtcp_set_keepalive,
	.stream_memory_free	= xtcp_stream_memory_free,
	.backlog_rcv	= xtcp_v4_do_rcv,
	.release_cb	= xtcp_release_cb,
	.hash		= xtcp_hash,
	.unhash		= xtcp_unhash,
	.get_port	= xtcp_csk_get_port,
	/* mem.c: xtcp's own pool, limited by net.xtcp.mem */
	.enter_memory_pressure	= xtcp_enter_memory_pressure,
	.leave_memory_pressure	= xtcp_leave_memory_pressure,
	.sockets_allocated	= &xtcp_sockets_allocated,
	.memory_allocated	= &xtcp_memory_allocated,
	.per_cpu_fw_alloc	= &xtcp_memory_per_cpu_fw_alloc,
	.memory_pressure	= &xtcp_memory_pressure,
	.sysctl_mem		= sysctl_xtcp_mem,
	.sysctl_wmem_offset	= offsetof(struct net, ipv4.sysctl_tcp_wmem),
	.sysctl_rmem_offset	= offsetof(struct net, ipv4.sysctl_tcp_rmem),
	.max_header		= MAX_TCP_HEADER,
	.obj_size	= sizeof(struct xtcp_sock),
	.rsk_prot	= &xtcp_request_sock_ops,
	.twsk_prot	= &xtcp_timewait_sock_ops,
	/* Lookups are lockless: a socket may be reused under a reader. */
	.slab_flags	= SLAB_TYPESAFE_BY_RCU,
};

static const struct net_proto_family xtcp_family_ops = {
	.family	= AF_XTCP,	/* overwritten by the module parameter */
	.create	= xtcp_create,
	.owner	= THIS_MODULE,
};

static struct net_proto_family xtcp_family_reg;

int xtcp_family_init(void)
{
	int err;

	if (xtcp_family <= 0 || xtcp_family >= NPROTO) {
		pr_err("xtcp: family=%d is out of range (1..%d)\n",
		       xtcp_family, NPROTO - 1);
		return -EINVAL;
	}
	xtcp_family_reg = xtcp_family_ops;
	xtcp_family_reg.family = xtcp_family;
	err = sock_register(&xtcp_family_reg);
	if (err == -EEXIST)
		pr_err("xtcp: address family %d is taken by another protocol; load with family=<free number>\n",
		       xtcp_family);
	else if (err)
		pr_err("xtcp: sock_register(%d) failed: %d\n", xtcp_family, err);
	return err;
}

void xtcp_family_exit(void)
{
	sock_unregister(xtcp_family);
}
