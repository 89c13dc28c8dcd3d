// SPDX-License-Identifier: GPL-2.0
/*
 * xtcp: the SOL_TCP options of features xtcp does not have.
 *
 * TCP repair (CRIU), RFC 2385 signatures, TCP-AO, upper layer protocols
 * (kTLS) and zero-copy receive.  A
 * program must learn that they are absent, and everything else must get
 * stock's answer: each option is checked here as do_tcp_setsockopt() and
 * do_tcp_getsockopt() (net/ipv4/tcp.c, tcp_ipv4.c) check it, in stock's
 * order, up to the point where stock would act.  There xtcp answers as a
 * kernel built without the feature answers (ENOPROTOOPT), or as stock
 * answers a socket it may not act on (EPERM for repair, ENOENT for a ULP
 * nobody registered, EINVAL for a zero-copy address that no mmap() of
 * the socket made).  Documentation/design.rst ("The family and its
 * operations") lists these answers; bind_listen's sockopt sweep holds
 * each one.
 *
 * Context: process context, the socket locked by the caller where stock
 * locks it.
 */
#include <linux/netdevice.h>
#include <net/tcp.h>

#include "xtcp.h"

/* tcp.c's TCP_VALID_ZC_MSG_FLAGS: TCP_CMSG_TS. */
#define XTCP_VALID_ZC_MSG_FLAGS	2

/*
 * TCP_AO_REPAIR (6.7; before, an unknown name): as stock without TCP-AO, after
 * tcp_can_repair_sock() (CAP_NET_ADMIN over the netns, not a listener).
 */
static int xtcp_ao_repair(const struct sock *sk)
{
	if (!XTCP_HAS_TCP_AO_REPAIR)
		return -ENOPROTOOPT;
	if (!sockopt_ns_capable(sock_net(sk)->user_ns, CAP_NET_ADMIN) ||
	    sk->sk_state == TCP_LISTEN)
		return -EPERM;
	return -ENOPROTOOPT;
}

/**
 * xtcp_setsockopt_repair - TCP_REPAIR and the options of repair mode
 * @sk:      the socket, locked
 * @optname: TCP_REPAIR, TCP_REPAIR_QUEUE, TCP_QUEUE_SEQ,
 *           TCP_REPAIR_OPTIONS, TCP_REPAIR_WINDOW, TCP_TIMESTAMP or
 *           TCP_AO_REPAIR
 *
 * A socket is never in repair mode, so each answers as stock answers
 * outside it; TCP_REPAIR itself as stock answers a socket it cannot
 * repair.
 *
 * Return: -EPERM or -EINVAL as stock; -ENOPROTOOPT for TCP_AO_REPAIR on
 * a socket stock could repair (Debian's kernels have no TCP-AO).
 */
int xtcp_setsockopt_repair(struct sock *sk, int optname)
{
	switch (optname) {
	case TCP_QUEUE_SEQ:
		/* Only a closed socket's, and only of a chosen queue. */
		return sk->sk_state != TCP_CLOSE ? -EPERM : -EINVAL;
	case TCP_REPAIR_OPTIONS:
		return -EINVAL;
	case XTCP_TCP_AO_REPAIR:
		return xtcp_ao_repair(sk);
	default:
		/*
		 * TCP_REPAIR, TCP_REPAIR_QUEUE, TCP_TIMESTAMP, and
		 * TCP_REPAIR_WINDOW (tcp_repair_set_window() asks for the
		 * mode before the length).
		 */
		return -EPERM;
	}
}

/**
 * xtcp_parse_md5_keys - TCP_MD5SIG, TCP_MD5SIG_EXT (RFC 2385)
 * @sk:      the socket, locked
 * @optname: TCP_MD5SIG or TCP_MD5SIG_EXT
 * @optval:  struct tcp_md5sig
 * @optlen:  its length
 *
 * tcp_v4_parse_md5_keys()'s checks of the request.  No key is ever
 * added, so deleting one finds none.
 *
 * Return: -EINVAL for a short request, another family, a prefix over 32
 * bits, an interface that is not an L3 master, a key over 80 bytes;
 * -EFAULT; -ENOENT to delete; -ENOPROTOOPT to add a key.
 */
int xtcp_parse_md5_keys(struct sock *sk, int optname, sockptr_t optval,
			unsigned int optlen)
{
	struct tcp_md5sig cmd;
	struct sockaddr_in *sin = (struct sockaddr_in *)&cmd.tcpm_addr;
	struct net_device *dev;
	bool l3;

	if (optlen < sizeof(cmd))
		return -EINVAL;
	if (copy_from_sockptr(&cmd, optval, sizeof(cmd)))
		return -EFAULT;
	if (sin->sin_family != AF_INET)
		return -EINVAL;
	if (optname == TCP_MD5SIG_EXT &&
	    (cmd.tcpm_flags & TCP_MD5SIG_FLAG_PREFIX) && cmd.tcpm_prefixlen > 32)
		return -EINVAL;
	if (optname == TCP_MD5SIG_EXT && cmd.tcpm_ifindex &&
	    (cmd.tcpm_flags & TCP_MD5SIG_FLAG_IFINDEX)) {
		rcu_read_lock();
		dev = dev_get_by_index_rcu(sock_net(sk), cmd.tcpm_ifindex);
		l3 = dev && netif_is_l3_master(dev);
		rcu_read_unlock();
		if (!l3)
			return -EINVAL;
	}
	if (!cmd.tcpm_keylen)
		return -ENOENT;
	if (cmd.tcpm_keylen > TCP_MD5SIG_MAXKEYLEN)
		return -EINVAL;
	return -ENOPROTOOPT;
}

/**
 * xtcp_setsockopt_ulp - TCP_ULP
 * @sk:     the socket
 * @optval: the name, not necessarily NUL-terminated
 * @optlen: its length
 *
 * No upper layer protocol runs over xtcp: kTLS and espintcp replace a
 * TCP socket's proto and callbacks with wrappers of stock TCP's
 * (Documentation/design.rst).  Every name is answered as stock answers
 * one that no module registered.
 *
 * Return: -EINVAL for an empty name, -EFAULT, else -ENOENT.
 */
int xtcp_setsockopt_ulp(struct sock *sk, sockptr_t optval,
			unsigned int optlen)
{
	char name[TCP_ULP_NAME_MAX];

	if (optlen < 1)
		return -EINVAL;
	if (strncpy_from_sockptr(name, optval,
				 min_t(long, TCP_ULP_NAME_MAX - 1, optlen)) < 0)
		return -EFAULT;
	return -ENOENT;
}

/**
 * xtcp_getsockopt_zerocopy - TCP_ZEROCOPY_RECEIVE
 * @sk:     the socket
 * @optval: struct tcp_zerocopy_receive
 * @optlen: its length, in and out
 *
 * do_tcp_getsockopt()'s checks of the request (length, trailing bytes
 * zero, reserved and flags), then tcp_zerocopy_receive()'s of the
 * address and the state.  The address must lie in an mmap() of the
 * socket, and an xtcp socket cannot be mapped (sock_no_mmap()).
 *
 * Return: -EINVAL, -EFAULT, -ENOTCONN on a listener; never 0.
 */
int xtcp_getsockopt_zerocopy(struct sock *sk, char __user *optval,
			     int __user *optlen)
{
	struct tcp_zerocopy_receive zc = {};
	int len, err;

	if (get_user(len, optlen))
		return -EFAULT;
	if (len < 0 || len < offsetofend(struct tcp_zerocopy_receive, length))
		return -EINVAL;
	if (unlikely(len > sizeof(zc))) {
		err = check_zeroed_user(optval + sizeof(zc), len - sizeof(zc));
		if (err < 1)
			return err == 0 ? -EINVAL : err;
		len = sizeof(zc);
		if (put_user(len, optlen))
			return -EFAULT;
	}
	if (copy_from_user(&zc, optval, len))
		return -EFAULT;
	if (zc.reserved)
		return -EINVAL;
	if (zc.msg_flags & ~XTCP_VALID_ZC_MSG_FLAGS)
		return -EINVAL;
	if ((zc.address & (PAGE_SIZE - 1)) ||
	    (unsigned long)zc.address != zc.address)
		return -EINVAL;
	if (sk->sk_state == TCP_LISTEN)
		return -ENOTCONN;
	return -EINVAL;
}

/**
 * xtcp_getsockopt_repair - the repair options read outside repair mode
 * @sk:      the socket
 * @optname: TCP_REPAIR_QUEUE, TCP_QUEUE_SEQ, TCP_REPAIR_WINDOW or
 *           TCP_AO_REPAIR
 * @optlen:  the caller's length, in
 *
 * Return: -EINVAL or -EPERM as stock; -ENOPROTOOPT for TCP_AO_REPAIR on
 * a socket stock could repair; -EFAULT.
 */
int xtcp_getsockopt_repair(struct sock *sk, int optname, int __user *optlen)
{
	int len;

	switch (optname) {
	case TCP_REPAIR_WINDOW:
		/* Reading asks for the length before the mode. */
		if (get_user(len, optlen))
			return -EFAULT;
		return len != sizeof(struct tcp_repair_window) ? -EINVAL :
								  -EPERM;
	case XTCP_TCP_AO_REPAIR:
		return xtcp_ao_repair(sk);
	default:
		/* TCP_REPAIR_QUEUE, TCP_QUEUE_SEQ: no queue chosen. */
		return -EINVAL;
	}
}
