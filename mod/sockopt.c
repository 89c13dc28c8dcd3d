// SPDX-License-Identifier: GPL-2.0
/*
 * xtcp: socket options at SOL_TCP (do_tcp_setsockopt() and
 * do_tcp_getsockopt(), net/ipv4/tcp.c).
 *
 * Every other level goes to the IP layer, as tcp_setsockopt() sends it,
 * so unknown levels get the IP layer's errno; SOL_SOCKET never reaches
 * the family.  Options are taken with stock's checks and errnos; those
 * of features xtcp does not have are checked in sockopt_absent.c, up to
 * where stock would act.
 *
 * Context: process context.  Fields the receive path reads are written
 * under the socket lock (sockopt_lock_sock()), as stock writes them.
 */
#include <linux/inet_diag.h>
#include <net/tcp.h>

#include "xtcp.h"

/*
 * __tcp_sock_set_quickack(): 0 makes the connection interactive (its
 * ACKs may wait for a reply), anything else ACKs what is owed now
 * (through the read path's rule, xtcp_cleanup_rbuf()); an even value
 * then goes back to interactive, so that it applies once.
 */
static void xtcp_sock_set_quickack(struct sock *sk, int val)
{
	if (!val) {
		inet_csk_enter_pingpong_mode(sk);
		return;
	}
	inet_csk_exit_pingpong_mode(sk);
	if ((1 << sk->sk_state) & (TCPF_ESTABLISHED | TCPF_CLOSE_WAIT) &&
	    inet_csk_ack_scheduled(sk)) {
		inet_csk(sk)->icsk_ack.pending |= ICSK_ACK_PUSHED;
		xtcp_cleanup_rbuf(sk, 1);
		if (!(val & 1))
			inet_csk_enter_pingpong_mode(sk);
	}
}

/*
 * tcp_sock_set_keepidle_locked(): seconds of idleness before the first
 * keepalive probe.  A running keepalive timer is moved so that the
 * first probe comes that long after the peer last showed life.
 */
static int xtcp_sock_set_keepidle_locked(struct sock *sk, int val)
{
	struct tcp_sock *tp = tcp_sk(sk);
	u32 elapsed;

	if (val < 1 || val > MAX_TCP_KEEPIDLE)
		return -EINVAL;
	WRITE_ONCE(tp->keepalive_time, val * HZ);
	if (sock_flag(sk, SOCK_KEEPOPEN) &&
	    !((1 << sk->sk_state) & (TCPF_CLOSE | TCPF_LISTEN))) {
		elapsed = xtcp_keepalive_time_elapsed(tp);
		if (tp->keepalive_time > elapsed)
			elapsed = tp->keepalive_time - elapsed;
		else
			elapsed = 0;
		inet_csk_reset_keepalive_timer(sk, elapsed);
	}
	return 0;
}

/*
 * secs_to_retrans() and retrans_to_secs() (tcp.c, static there):
 * TCP_DEFER_ACCEPT's seconds as the SYN-ACK retransmissions that cover
 * them, from @timeout doubling up to @rto_max, and back.
 */
static u8 xtcp_secs_to_retrans(int seconds, int timeout, int rto_max)
{
	u8 res = 0;

	if (seconds > 0) {
		int period = timeout;

		res = 1;
		while (seconds > period && res < 255) {
			res++;
			timeout <<= 1;
			if (timeout > rto_max)
				timeout = rto_max;
			period += timeout;
		}
	}
	return res;
}

static int xtcp_retrans_to_secs(u8 retrans, int timeout, int rto_max)
{
	int period = 0;

	if (retrans > 0) {
		period = timeout;
		while (--retrans) {
			timeout <<= 1;
			if (timeout > rto_max)
				timeout = rto_max;
			period += timeout;
		}
	}
	return period;
}

/**
 * xtcp_set_window_clamp - TCP_WINDOW_CLAMP (tcp_set_window_clamp())
 * @sk:  the socket, locked
 * @val: the largest receive window to offer, bytes; 0: no clamp of the
 *       user's, allowed only while the socket is closed
 *
 * A clamp below SOCK_MIN_RCVBUF / 2 is raised to it; a negative @val
 * compares as unsigned there, as in stock, and so clamps at 4 GiB - 1
 * (read back as -1).  Shrinking the clamp lowers rcv_ssthresh with it
 * (except what SO_RESERVE_MEM set aside); raising it lets rcv_ssthresh
 * grow to the window already offered.  A listener's clamp is its
 * children's (xtcp_req_select_window()); receive autotuning
 * (xtcp_rcv_space_adjust()) overwrites it, as stock's does.  6.1 and
 * 6.12 differ only in 6.12's WRITE_ONCE(), which xtcp uses on both
 * (TCP_INFO and the getsockopt read it without the lock).
 *
 * Return: 0, or -EINVAL for 0 on a socket that is not closed.
 */
static int xtcp_set_window_clamp(struct sock *sk, int val)
{
	struct tcp_sock *tp = tcp_sk(sk);
	u32 new_rcv_ssthresh, old_window_clamp, new_window_clamp;

	if (!val) {
		if (sk->sk_state != TCP_CLOSE)
			return -EINVAL;
		WRITE_ONCE(tp->window_clamp, 0);
		return 0;
	}
	old_window_clamp = tp->window_clamp;
	new_window_clamp = val < SOCK_MIN_RCVBUF / 2 ? SOCK_MIN_RCVBUF / 2 : val;
	if (new_window_clamp == old_window_clamp)
		return 0;
	WRITE_ONCE(tp->window_clamp, new_window_clamp);
	if (new_window_clamp < old_window_clamp) {
		/* Only a shrinking clamp takes the reserve into account. */
		__xtcp_adjust_rcv_ssthresh(sk, tp->window_clamp);
	} else {
		new_rcv_ssthresh = min(tp->rcv_wnd, tp->window_clamp);
		tp->rcv_ssthresh = max(new_rcv_ssthresh, tp->rcv_ssthresh);
	}
	return 0;
}

/*
 * TCP_CONGESTION, a string: do_tcp_setsockopt()'s copy (at most
 * TCP_CA_NAME_MAX - 1 bytes, NUL-terminated here, -EINVAL for an empty
 * @optlen, -EFAULT), then xtcp_set_congestion_control() with the
 * caller's CAP_NET_ADMIN over the netns.
 */
static int xtcp_setsockopt_congestion(struct sock *sk, sockptr_t optval,
				      unsigned int optlen)
{
	char name[TCP_CA_NAME_MAX];
	long val;
	int err;

	if (optlen < 1)
		return -EINVAL;
	val = strncpy_from_sockptr(name, optval,
				   min_t(long, TCP_CA_NAME_MAX - 1, optlen));
	if (val < 0)
		return -EFAULT;
	name[val] = 0;

	sockopt_lock_sock(sk);
	err = xtcp_set_congestion_control(sk, name,
					  sockopt_ns_capable(sock_net(sk)->user_ns,
							     CAP_NET_ADMIN));
	sockopt_release_sock(sk);
	return err;
}

/*
 * TCP_FASTOPEN_CONNECT: a flag for connect(), taken as stock takes it
 * (the client bit of net.xtcp.fastopen, stock's twin; a closed socket);
 * xtcp has no active open, so nothing reads it.
 */
static int xtcp_set_fastopen_connect(struct sock *sk, int val)
{
	if (val > 1 || val < 0)
		return -EINVAL;
	if (!(READ_ONCE(xtcp_pernet(sock_net(sk))->sysctl.fastopen) &
	      TFO_CLIENT_ENABLE))
		return -EOPNOTSUPP;
	if (sk->sk_state != TCP_CLOSE)
		return -EINVAL;
	tcp_sk(sk)->fastopen_connect = val;
	return 0;
}

/**
 * xtcp_setsockopt - proto_ops.setsockopt (tcp_setsockopt())
 * @sock:    the socket
 * @level:   SOL_TCP, else the IP layer's
 * @optname: any option at SOL_TCP, as below
 * @optval:  an int; for TCP_CONGESTION and TCP_ULP a name, not
 *           necessarily NUL-terminated; for TCP_MD5SIG* a struct
 *           tcp_md5sig, for TCP_FASTOPEN_KEY one or two keys
 * @optlen:  at least sizeof(int); for TCP_CONGESTION at least 1 (longer
 *           names are cut at TCP_CA_NAME_MAX - 1 bytes)
 *
 * TCP_MAXSEG caps the MSS the handshake offers and uses (the SYN-ACK's
 * MSS option, tcp_mss_clamp()): 0, or 88 (TCP_MIN_MSS) to 32767
 * (MAX_TCP_WINDOW) bytes.  TCP_NODELAY turns Nagle off and sends what
 * it held; TCP_CORK holds partial segments until uncorked.
 * TCP_LINGER2 is the FIN-WAIT-2 time of an orphan, seconds (capped at
 * TCP_FIN_TIMEOUT_MAX); TCP_USER_TIMEOUT how long, ms, data may stay
 * unacknowledged (the retransmission, probe and keepalive timers).
 * TCP_KEEPIDLE (1..32767 s), TCP_KEEPINTVL (1..32767 s) and TCP_KEEPCNT
 * (1..127) shape SO_KEEPALIVE's probes (xtcp_keepalive_timer()).
 * TCP_WINDOW_CLAMP bounds the receive window, bytes
 * (xtcp_set_window_clamp()).  TCP_INQ (0 or 1) makes recvmsg() add a
 * TCP_CM_INQ control message (xtcp_recvmsg()).  TCP_NOTSENT_LOWAT is the
 * most unsent data, bytes (any value: it is a u32, 0 means
 * net.ipv4.tcp_notsent_lowat), a writer may queue
 * (xtcp_stream_memory_free()); setting it calls sk_write_space.
 * TCP_CONGESTION chooses an algorithm of xtcp's registry (mod/cong.c,
 * xtcp_set_congestion_control()); a listener's choice is its children's.
 * TCP_SYNCNT (1..127) is a listener's SYN-ACK retries (else
 * net.xtcp.synack_retries).  TCP_DEFER_ACCEPT (seconds, kept as SYN-ACK
 * retransmissions as stock keeps them) makes a listener's requests wait
 * for data after the third ACK (xtcp_check_req(), xtcp_syn_ack_recalc()).
 * TCP_THIN_LINEAR_TIMEOUTS (0 or 1) keeps a thin stream's RTO from
 * backing off for six timeouts (xtcp_retransmit_timer()).  TCP_SAVE_SYN
 * (0..2) keeps the SYN's headers for each child (TCP_SAVED_SYN).
 * TCP_TX_DELAY (any value, microseconds) delays every segment the socket
 * sends, its children inherit it (xtcp_add_tx_delay(),
 * xtcp_transmit_time()).  TCP_FASTOPEN sizes a listener's Fast Open
 * queue, TCP_FASTOPEN_KEY sets the socket's own Fast Open keys (16 or 32
 * bytes), TCP_FASTOPEN_NO_COOKIE (0 or 1) lets a listener take SYN data
 * without a cookie (fastopen.c).  TCP_THIN_DUPACK and
 * TCP_FASTOPEN_CONNECT are checked and stored as stock's, read by
 * nothing in xtcp.  The options of absent features (TCP_REPAIR*,
 * TCP_MD5SIG*, TCP_ULP, TCP_AO_REPAIR) are sockopt_absent.c's.
 *
 * Return: 0; -EINVAL for a short @optlen or a value out of range (also
 * TCP_WINDOW_CLAMP 0 on a socket that is not closed); -ENOENT for an
 * algorithm xtcp does not have, -EPERM for a restricted one without
 * CAP_NET_ADMIN, -EBUSY if its module is going away (TCP_CONGESTION);
 * -EFAULT; the answers of sockopt_absent.c; -EOPNOTSUPP for
 * TCP_FASTOPEN_CONNECT without net.xtcp.fastopen's client bit; -ENOMEM
 * (TCP_FASTOPEN_KEY); -ENOPROTOOPT for a name stock does not know.
 */
int xtcp_setsockopt(struct socket *sock, int level, int optname,
		    sockptr_t optval, unsigned int optlen)
{
	struct sock *sk = sock->sk;
	struct tcp_sock *tp = tcp_sk(sk);
	void (*write_space)(struct sock *sk);
	int val, err = 0;

	if (level != SOL_TCP)
		return ip_setsockopt(sk, level, optname, optval, optlen);
	/* Strings and keys; all the others are ints. */
	switch (optname) {
	case TCP_CONGESTION:
		return xtcp_setsockopt_congestion(sk, optval, optlen);
	case TCP_ULP:
		return xtcp_setsockopt_ulp(sk, optval, optlen);
	case TCP_FASTOPEN_KEY:
		return xtcp_setsockopt_fastopen_key(sk, optval, optlen);
	}
	/* Stock's order: the length, then the name (int options). */
	if (optlen < sizeof(int))
		return -EINVAL;
	if (copy_from_sockptr(&val, optval, sizeof(val)))
		return -EFAULT;

	sockopt_lock_sock(sk);
	switch (optname) {
	case TCP_MAXSEG:
		/* An interface's MTU may lower it later; none is known yet. */
		if (val && (val < TCP_MIN_MSS || val > MAX_TCP_WINDOW)) {
			err = -EINVAL;
			break;
		}
		tp->rx_opt.user_mss = val;
		break;
	case TCP_NODELAY:
		/* __tcp_sock_set_nodelay(): what Nagle held goes now. */
		if (val) {
			tp->nonagle |= TCP_NAGLE_OFF | TCP_NAGLE_PUSH;
			xtcp_push_pending_frames(sk);
		} else {
			tp->nonagle &= ~TCP_NAGLE_OFF;
		}
		break;
	case TCP_CORK:
		/* __tcp_sock_set_cork(): uncorking sends the partial segment. */
		if (val) {
			tp->nonagle |= TCP_NAGLE_CORK;
		} else {
			tp->nonagle &= ~TCP_NAGLE_CORK;
			if (tp->nonagle & TCP_NAGLE_OFF)
				tp->nonagle |= TCP_NAGLE_PUSH;
			xtcp_push_pending_frames(sk);
		}
		break;
	case TCP_QUICKACK:
		xtcp_sock_set_quickack(sk, val);
		break;
	case TCP_LINGER2:
		/* Seconds; negative: reset an orphan in FIN-WAIT-2 at once. */
		if (val < 0)
			WRITE_ONCE(tp->linger2, -1);
		else if (val > TCP_FIN_TIMEOUT_MAX / HZ)
			WRITE_ONCE(tp->linger2, TCP_FIN_TIMEOUT_MAX);
		else
			WRITE_ONCE(tp->linger2, val * HZ);
		break;
	case TCP_USER_TIMEOUT:
		/* Milliseconds without an ACK before giving up; 0: the default. */
		if (val < 0)
			err = -EINVAL;
		else
			WRITE_ONCE(inet_csk(sk)->icsk_user_timeout, val);
		break;
	case TCP_KEEPIDLE:
		err = xtcp_sock_set_keepidle_locked(sk, val);
		break;
	case TCP_KEEPINTVL:
		/* Seconds between unanswered probes. */
		if (val < 1 || val > MAX_TCP_KEEPINTVL)
			err = -EINVAL;
		else
			WRITE_ONCE(tp->keepalive_intvl, val * HZ);
		break;
	case TCP_KEEPCNT:
		/* Unanswered probes before the connection is given up. */
		if (val < 1 || val > MAX_TCP_KEEPCNT)
			err = -EINVAL;
		else
			WRITE_ONCE(tp->keepalive_probes, val);
		break;
	case TCP_WINDOW_CLAMP:
		err = xtcp_set_window_clamp(sk, val);
		break;
	case TCP_SYNCNT:
		/* A listener's SYN-ACK retries (xtcp_synack_retries()). */
		if (val < 1 || val > MAX_TCP_SYNCNT)
			err = -EINVAL;
		else
			WRITE_ONCE(inet_csk(sk)->icsk_syn_retries, val);
		break;
	case TCP_THIN_LINEAR_TIMEOUTS:
		/* Kept for getsockopt(): xtcp's RTO always backs off. */
		if (val < 0 || val > 1)
			err = -EINVAL;
		else
			tp->thin_lto = val;
		break;
	case TCP_DEFER_ACCEPT:
		/* As retransmissions: the request timer counts in those. */
		WRITE_ONCE(inet_csk(sk)->icsk_accept_queue.rskq_defer_accept,
			   xtcp_secs_to_retrans(val, TCP_TIMEOUT_INIT / HZ,
						TCP_RTO_MAX / HZ));
		break;
	case TCP_NOTSENT_LOWAT:
		/* Writers may find room now, or have lost it. */
		WRITE_ONCE(tp->notsent_lowat, val);
		write_space = READ_ONCE(sk->sk_write_space);
		write_space(sk);
		break;
	case TCP_INQ:
		/* recvmsg() reports what is left to read (TCP_CM_INQ). */
		if (val > 1 || val < 0)
			err = -EINVAL;
		else
			tp->recvmsg_inq = val;
		break;
	case TCP_SAVE_SYN:
		/* A listener keeps each SYN's headers (2: from the MAC's). */
		if (val < 0 || val > 2)
			err = -EINVAL;
		else
			tp->save_syn = val;
		break;
	case TCP_THIN_DUPACK:
		/* A no-op in stock since Linux 4.11; the range still holds. */
		if (val < 0 || val > 1)
			err = -EINVAL;
		break;
	case TCP_FASTOPEN_CONNECT:
		err = xtcp_set_fastopen_connect(sk, val);
		break;
	case TCP_FASTOPEN_NO_COOKIE:
		/* A listener's: SYN data is taken without a cookie. */
		if (val > 1 || val < 0 ||
		    !((1 << sk->sk_state) & (TCPF_CLOSE | TCPF_LISTEN)))
			err = -EINVAL;
		else
			tp->fastopen_no_cookie = val;
		break;
	case TCP_FASTOPEN:
		err = xtcp_setsockopt_fastopen(sk, val);
		break;
	case TCP_MD5SIG:
	case TCP_MD5SIG_EXT:
		err = xtcp_parse_md5_keys(sk, optname, optval, optlen);
		break;
	case TCP_TX_DELAY:
		/*
		 * Any value, in microseconds, as a u32 (stock checks nothing
		 * and needs no capability).  Stock enables its static key
		 * here; xtcp tests the value instead (xtcp_add_tx_delay()).
		 */
		WRITE_ONCE(tp->tcp_tx_delay, val);
		break;
	case TCP_REPAIR:
	case TCP_REPAIR_QUEUE:
	case TCP_QUEUE_SEQ:
	case TCP_REPAIR_OPTIONS:
	case TCP_REPAIR_WINDOW:
	case TCP_TIMESTAMP:
	case XTCP_TCP_AO_REPAIR:
		err = xtcp_setsockopt_repair(sk, optname);
		break;
	default:
		/*
		 * Also, without CONFIG_TCP_AO as in Debian's kernels,
		 * TCP_AO_ADD_KEY/DEL_KEY/INFO.
		 */
		err = -ENOPROTOOPT;
		break;
	}
	sockopt_release_sock(sk);
	return err;
}

/*
 * TCP_INFO: stock's own report, tcp_get_info(), which reads the fields
 * of struct tcp_sock that xtcp keeps under stock's names (it is also
 * what sock_diag's destroy broadcast sends for an xtcp socket).  It
 * takes the socket lock itself, and reports the scoreboard (sacked,
 * lost, retrans), the congestion state, reordering and the delivery
 * rate (rate.c) as they are.
 */
static int xtcp_get_info(struct sock *sk, char __user *optval,
			 int __user *optlen)
{
	struct tcp_info info;
	int len;

	if (get_user(len, optlen))
		return -EFAULT;
	tcp_get_info(sk, &info);
	len = min_t(unsigned int, len, sizeof(info));
	if (put_user(len, optlen))
		return -EFAULT;
	if (copy_to_user(optval, &info, len))
		return -EFAULT;
	return 0;
}

/*
 * TCP_CONGESTION: the algorithm's name, NUL-padded, cut to the caller's
 * length and at most TCP_CA_NAME_MAX bytes, which is also the length
 * reported back (do_tcp_getsockopt() reads the length again here).
 */
static int xtcp_getsockopt_congestion(struct sock *sk, char __user *optval,
				      int __user *optlen)
{
	char ca_name[TCP_CA_NAME_MAX] = {};
	int len;

	if (get_user(len, optlen))
		return -EFAULT;
	len = min_t(unsigned int, len, TCP_CA_NAME_MAX);
	if (put_user(len, optlen))
		return -EFAULT;
	xtcp_get_congestion_control(sk, ca_name);
	if (copy_to_user(optval, ca_name, len))
		return -EFAULT;
	return 0;
}

/*
 * TCP_CC_INFO: what the algorithm's get_info reports (DCTCP's, BBR's
 * kind of struct), cut to the caller's length; nothing (a length of 0)
 * for an algorithm without one, as Reno and CUBIC.  Read without the
 * socket lock, as stock's: the algorithm stays registered for an RCU
 * grace period after a setsockopt() moved the socket off it.
 */
static int xtcp_getsockopt_cc_info(struct sock *sk, char __user *optval,
				   int __user *optlen)
{
	const struct xtcp_cong_ops *ca;
	union tcp_cc_info info;
	size_t sz = 0;
	int attr, len;

	if (get_user(len, optlen))
		return -EFAULT;
	rcu_read_lock();
	ca = READ_ONCE(xtcp_sk(sk)->ca_ops);
	if (ca && ca->get_info)
		sz = ca->get_info(sk, ~0U, &attr, &info);
	rcu_read_unlock();
	len = min_t(unsigned int, len, sz);
	if (put_user(len, optlen))
		return -EFAULT;
	if (copy_to_user(optval, &info, len))
		return -EFAULT;
	return 0;
}

/*
 * TCP_SAVED_SYN: the headers of the SYN that made this connection, once
 * (the read frees them); too short a buffer gets -EINVAL and the length
 * it needs, no SYN (not saved, or read already) a length of 0.
 */
static int xtcp_getsockopt_saved_syn(struct sock *sk, char __user *optval,
				     int __user *optlen)
{
	struct tcp_sock *tp = tcp_sk(sk);
	int len, need, err = 0;

	if (get_user(len, optlen))
		return -EFAULT;
	sockopt_lock_sock(sk);
	need = tp->saved_syn ? tcp_saved_syn_len(tp->saved_syn) : 0;
	if (put_user(need, optlen)) {
		err = -EFAULT;
	} else if (need) {
		if (len < need)
			err = -EINVAL;
		else if (copy_to_user(optval, tp->saved_syn->data, need))
			err = -EFAULT;
		else
			tcp_saved_syn_free(tp);
	}
	sockopt_release_sock(sk);
	return err;
}

/**
 * xtcp_getsockopt - proto_ops.getsockopt (tcp_getsockopt())
 * @sock:    the socket
 * @level:   SOL_TCP, else the IP layer's
 * @optname: any option at SOL_TCP, as below
 * @optval:  where the int (struct tcp_info, the algorithm's name, the
 *           saved SYN) goes
 * @optlen:  in: room at @optval; out: bytes written (at most an int,
 *           struct tcp_info, or TCP_CA_NAME_MAX for TCP_CONGESTION)
 *
 * TCP_MAXSEG is the MSS in use, or what TCP_MAXSEG set while the socket
 * is closed or listening.  TCP_QUICKACK is 1 unless the connection is
 * interactive.  TCP_LINGER2 reads net.ipv4.tcp_fin_timeout until set.
 * TCP_WINDOW_CLAMP is the clamp in force: 0 until set on a socket that
 * never connected, the window's bound (set by the handshake, receive
 * autotuning or the user) on a connection.  TCP_CONGESTION is the name
 * of the socket's algorithm, or of the one a child would get now
 * (xtcp_get_congestion_control()).  TCP_SYNCNT reads
 * net.ipv4.tcp_syn_retries until set (as stock, though a listener's
 * default is net.xtcp.synack_retries); TCP_DEFER_ACCEPT reads back the
 * seconds its retransmissions cover, which may exceed what was set.
 *
 * TCP_SAVE_SYN, TCP_FASTOPEN_CONNECT and TCP_FASTOPEN_NO_COOKIE read back
 * what was set; TCP_FASTOPEN the Fast Open queue's length;
 * TCP_FASTOPEN_KEY the socket's own keys (none: a length of 0);
 * TCP_TIMESTAMP the TS clock plus the connection's offset;
 * TCP_TX_DELAY the delay set (the listener's, on a child);
 * TCP_THIN_DUPACK, TCP_REPAIR (and
 * TCP_IS_MPTCP where stock knows it) 0; TCP_CC_INFO the algorithm's
 * get_info; TCP_ULP nothing (a length of 0);
 * TCP_SAVED_SYN the SYN's
 * headers, once.
 *
 * Return: 0; -EINVAL for a negative length (TCP_SAVED_SYN: a buffer too
 * short, its length written back); -EFAULT; the answers of
 * sockopt_absent.c (TCP_ZEROCOPY_RECEIVE, the repair options);
 * -ENOPROTOOPT for a name stock does not answer.
 */
int xtcp_getsockopt(struct socket *sock, int level, int optname,
		    char __user *optval, int __user *optlen)
{
	struct sock *sk = sock->sk;
	struct tcp_sock *tp = tcp_sk(sk);
	int val, len;

	if (level != SOL_TCP)
		return ip_getsockopt(sk, level, optname, optval, optlen);
	if (get_user(len, optlen))
		return -EFAULT;
	if (len < 0)
		return -EINVAL;
	len = min_t(unsigned int, len, sizeof(int));

	switch (optname) {
	case TCP_MAXSEG:
		val = tp->mss_cache;
		if (tp->rx_opt.user_mss &&
		    ((1 << sk->sk_state) & (TCPF_CLOSE | TCPF_LISTEN)))
			val = tp->rx_opt.user_mss;
		break;
	case TCP_NODELAY:
		val = !!(tp->nonagle & TCP_NAGLE_OFF);
		break;
	case TCP_CORK:
		val = !!(tp->nonagle & TCP_NAGLE_CORK);
		break;
	case TCP_QUICKACK:
		val = !inet_csk_in_pingpong_mode(sk);
		break;
	case TCP_LINGER2:
		val = READ_ONCE(tp->linger2);
		if (val >= 0)
			val = (val ? : READ_ONCE(sock_net(sk)->ipv4.sysctl_tcp_fin_timeout)) / HZ;
		break;
	case TCP_USER_TIMEOUT:
		val = READ_ONCE(inet_csk(sk)->icsk_user_timeout);
		break;
	case TCP_KEEPIDLE:
		val = xtcp_keepalive_time_when(tp) / HZ;
		break;
	case TCP_KEEPINTVL:
		val = xtcp_keepalive_intvl_when(tp) / HZ;
		break;
	case TCP_KEEPCNT:
		val = xtcp_keepalive_probes(tp);
		break;
	case TCP_WINDOW_CLAMP:
		val = READ_ONCE(tp->window_clamp);
		break;
	case TCP_SYNCNT:
		val = READ_ONCE(inet_csk(sk)->icsk_syn_retries) ? :
			READ_ONCE(sock_net(sk)->ipv4.sysctl_tcp_syn_retries);
		break;
	case TCP_THIN_LINEAR_TIMEOUTS:
		val = tp->thin_lto;
		break;
	case TCP_DEFER_ACCEPT:
		val = READ_ONCE(inet_csk(sk)->icsk_accept_queue.rskq_defer_accept);
		val = xtcp_retrans_to_secs(val, TCP_TIMEOUT_INIT / HZ,
					   TCP_RTO_MAX / HZ);
		break;
	case TCP_NOTSENT_LOWAT:
		val = READ_ONCE(tp->notsent_lowat);
		break;
	case TCP_INQ:
		val = tp->recvmsg_inq;
		break;
	case TCP_SAVE_SYN:
		val = tp->save_syn;
		break;
	case TCP_FASTOPEN_CONNECT:
		val = tp->fastopen_connect;
		break;
	case TCP_FASTOPEN_NO_COOKIE:
		val = tp->fastopen_no_cookie;
		break;
	case TCP_TIMESTAMP:
		val = xtcp_sockopt_timestamp(tp);
		break;
	case TCP_TX_DELAY:
		val = READ_ONCE(tp->tcp_tx_delay);
		break;
	case TCP_FASTOPEN:
		val = READ_ONCE(inet_csk(sk)->icsk_accept_queue.fastopenq.max_qlen);
		break;
	case TCP_THIN_DUPACK:
	case TCP_REPAIR:
#if XTCP_TCP_IS_MPTCP
	case TCP_IS_MPTCP:
#endif
		/* Never in repair mode. */
		val = 0;
		break;
	case TCP_INFO:
		return xtcp_get_info(sk, optval, optlen);
	case TCP_CONGESTION:
		return xtcp_getsockopt_congestion(sk, optval, optlen);
	case TCP_SAVED_SYN:
		return xtcp_getsockopt_saved_syn(sk, optval, optlen);
	case TCP_CC_INFO:
		return xtcp_getsockopt_cc_info(sk, optval, optlen);
	case TCP_ULP:
		/* Nothing to report: no ULP. */
		return put_user(0, optlen) ? -EFAULT : 0;
	case TCP_FASTOPEN_KEY:
		return xtcp_getsockopt_fastopen_key(sk, optval, optlen);
	case TCP_ZEROCOPY_RECEIVE:
		return xtcp_getsockopt_zerocopy(sk, optval, optlen);
	case TCP_REPAIR_QUEUE:
	case TCP_QUEUE_SEQ:
	case TCP_REPAIR_WINDOW:
	case XTCP_TCP_AO_REPAIR:
		return xtcp_getsockopt_repair(sk, optname, optlen);
	default:
		return -ENOPROTOOPT;
	}
	if (put_user(len, optlen))
		return -EFAULT;
	if (copy_to_user(optval, &val, len))
		return -EFAULT;
	return 0;
}
