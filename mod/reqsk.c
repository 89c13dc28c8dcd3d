// SPDX-License-Identifier: GPL-2.0
/*
 * xtcp: request socks, the SYN queue and the accept queue.
 *
 * A SYN for a listener becomes a request sock (tcp_conn_request() in
 * net/ipv4/tcp_input.c): options parsed, ISN chosen, route looked up,
 * hashed in the established hash as TCP_NEW_SYN_RECV, and answered with
 * a SYN-ACK.  The listener is never locked on this path: the SYN queue
 * is only a counter (icsk_accept_queue.qlen), the requests themselves
 * live in the per-bucket-locked established hash, as in Linux since 4.4.
 * Once the handshake completes, the child goes on the listener's accept
 * queue, whose short spinlock is the only lock shared per listener.
 *
 * Mirrors net/core/request_sock.c, inet_csk_reqsk_queue_hash_add(),
 * inet_csk_reqsk_queue_drop(), inet_csk_reqsk_queue_add() and
 * inet_csk_complete_hashdance() (net/ipv4/inet_connection_sock.c).
 */
#include <linux/security.h>
#include <net/inet_ecn.h>
#include <net/sock_reuseport.h>
#include <net/tcp.h>

#include "xtcp.h"

static void xtcp_v4_reqsk_destructor(struct request_sock *req)
{
	kfree(rcu_dereference_protected(inet_rsk(req)->ireq_opt, true));
}

/* A SYN-ACK timeout: counted as stock counts it (tcp_syn_ack_timeout()). */
static void xtcp_syn_ack_timeout(const struct request_sock *req)
{
	xtcp_inc_stats(read_pnet(&inet_rsk(req)->ireq_net), XTCP_MIB_TIMEOUTS);
}

static int xtcp_rtx_synack(const struct sock *sk, struct request_sock *req)
{
	int err;

	/*
	 * A new flow hash for each retransmission, so that a path that
	 * lost the SYN-ACK may be left (SO_TXREHASH, net.core.txrehash);
	 * pairs with the WRITE_ONCE() in sock_setsockopt().
	 */
	if (READ_ONCE(sk->sk_txrehash) == SOCK_TXREHASH_ENABLED)
		WRITE_ONCE(tcp_rsk(req)->txhash, net_tx_rndhash());
	err = xtcp_v4_send_synack(sk, NULL, req, NULL, TCP_SYNACK_NORMAL);

	if (!err) {
		/* A retransmitted segment as well as a SYN-ACK, for nstat. */
		xtcp_inc_stats(sock_net(sk), XTCP_MIB_RETRANSSEGS);
		xtcp_inc_stats(sock_net(sk), XTCP_MIB_SYNRETRANS);
		/*
		 * A Fast Open child's own SYN-ACK (its timer, or a
		 * retransmitted SYN): the child counts it, as stock's
		 * tcp_rtx_synack() does.  Listeners are lockless and never
		 * written here; the child is locked by its caller, and
		 * TCP_INFO reads total_retrans without the lock.
		 */
		if (unlikely(tcp_passive_fastopen(sk))) {
			struct tcp_sock *tp = tcp_sk((struct sock *)sk);

			WRITE_ONCE(tp->total_retrans, tp->total_retrans + 1);
		}
	}
	return err;
}

/* inet_rtx_syn_ack(): re-send the SYN-ACK, counting the retransmission. */
int xtcp_rtx_syn_ack(const struct sock *parent, struct request_sock *req)
{
	int err = req->rsk_ops->rtx_syn_ack(parent, req);

	if (!err)
		req->num_retrans++;
	return err;
}

struct request_sock_ops xtcp_request_sock_ops __read_mostly = {
	.family		= PF_INET,
	.obj_size	= sizeof(struct tcp_request_sock),
	.rtx_syn_ack	= xtcp_rtx_synack,
	.send_ack	= xtcp_v4_reqsk_send_ack,
	.destructor	= xtcp_v4_reqsk_destructor,
	.send_reset	= xtcp_compat_reqsk_send_reset,
	.syn_ack_timeout = xtcp_syn_ack_timeout,
};

/**
 * xtcp_reqsk_alloc - a new request sock (inet_reqsk_alloc())
 * @sk_listener:     the listener
 * @attach_listener: hold a reference on the listener; false for a SYN
 *                   cookie answer, whose request does not outlive it
 *
 * Return: the request with refcount 0, or NULL.
 */
XTCP_SEED struct request_sock *xtcp_reqsk_alloc(struct sock *sk_listener,
						bool attach_listener)
{
	const struct request_sock_ops *ops = &xtcp_request_sock_ops;
	struct inet_request_sock *ireq;
	struct request_sock *req;

	/* reqsk_alloc() */
	req = kmem_cache_alloc(ops->slab, GFP_ATOMIC | __GFP_NOWARN);
	if (!req)
		return NULL;
	req->rsk_listener = NULL;
	if (attach_listener) {
		if (unlikely(!refcount_inc_not_zero(&sk_listener->sk_refcnt))) {
			kmem_cache_free(ops->slab, req);
			return NULL;
		}
		req->rsk_listener = sk_listener;
	}
	req->rsk_ops = ops;
	req_to_sk(req)->sk_prot = sk_listener->sk_prot;
	sk_node_init(&req_to_sk(req)->sk_node);
	sk_tx_queue_clear(req_to_sk(req));
	req->saved_syn = NULL;
	req->syncookie = 0;
	req->timeout = 0;
	req->num_timeout = 0;
	req->num_retrans = 0;
	req->sk = NULL;
	refcount_set(&req->rsk_refcnt, 0);

	/* the inet_reqsk_alloc() part */
	ireq = inet_rsk(req);
	ireq->ireq_opt = NULL;
	atomic64_set(&ireq->ir_cookie, 0);
	ireq->ireq_state = TCP_NEW_SYN_RECV;
	write_pnet(&ireq->ireq_net, sock_net(sk_listener));
	ireq->ireq_family = AF_INET;
	/*
	 * Not a Fast Open request until xtcp_fastopen_create_child() says
	 * so (stock clears it in tcp_conn_request() and
	 * cookie_tcp_reqsk_init()): the slab object may be an old Fast Open
	 * request's, and accept() and a closing listener read the flag.
	 */
	tcp_rsk(req)->tfo_listener = false;
	return req;
}

/* tcp_openreq_init(): the request as the SYN describes it. */
static XTCP_SEED void xtcp_openreq_init(struct request_sock *req,
					const struct tcp_options_received *rx_opt,
					struct sk_buff *skb, const struct sock *sk)
{
	struct inet_request_sock *ireq = inet_rsk(req);
	struct tcp_request_sock *treq = tcp_rsk(req);

	req->rsk_rcv_wnd = 0;	/* so that xtcp_make_synack() knows */
	treq->rcv_isn = TCP_SKB_CB(skb)->seq;
	treq->rcv_nxt = TCP_SKB_CB(skb)->seq + 1;
	treq->snt_synack = 0;
	treq->last_oow_ack_time = 0;
	req->mss = rx_opt->mss_clamp;
	req->ts_recent = rx_opt->saw_tstamp ? rx_opt->rcv_tsval : 0;
	ireq->tstamp_ok = rx_opt->tstamp_ok;
	ireq->sack_ok = rx_opt->sack_ok;
	ireq->snd_wscale = rx_opt->snd_wscale;
	ireq->wscale_ok = rx_opt->wscale_ok;
	ireq->acked = 0;
	ireq->ecn_ok = 0;
	ireq->ir_rmt_port = tcp_hdr(skb)->source;
	ireq->ir_num = ntohs(tcp_hdr(skb)->dest);
	ireq->ir_mark = inet_request_mark(sk, skb);
	ireq->ir_iif = inet_request_bound_dev_if(sk, skb);
	/* tcp_v4_init_req(): addresses; IP options of the SYN not kept. */
	sk_rcv_saddr_set(req_to_sk(req), ip_hdr(skb)->daddr);
	sk_daddr_set(req_to_sk(req), ip_hdr(skb)->saddr);
}

/* tcp_select_initial_window(): RFC 7323 window and scale for a SYN-ACK. */
static void xtcp_select_initial_window(const struct sock *sk, int __space,
				       u32 mss, u32 *rcv_wnd, u32 *window_clamp,
				       int wscale_ok, u8 *rcv_wscale,
				       u32 init_rcv_wnd)
{
	unsigned int space = (__space < 0 ? 0 : __space);
	const struct net *net = sock_net(sk);

	if (*window_clamp == 0)
		*window_clamp = (U16_MAX << TCP_MAX_WSCALE);
	space = min(*window_clamp, space);

	/* Quantize the offer to a multiple of the MSS. */
	if (space > mss)
		space = rounddown(space, mss);

	/*
	 * Some old stacks take the window field as signed; the admin may
	 * ask us to offer no more than 32767 until they scale.
	 */
	if (READ_ONCE(net->ipv4.sysctl_tcp_workaround_signed_windows))
		*rcv_wnd = min(space, MAX_TCP_WINDOW);
	else
		*rcv_wnd = xtcp_initial_rcv_wnd(space);

	if (init_rcv_wnd)
		*rcv_wnd = min(*rcv_wnd, init_rcv_wnd * mss);

	*rcv_wscale = 0;
	if (wscale_ok) {
		/* Scale for the largest window we may ever offer. */
		space = max_t(u32, space, READ_ONCE(net->ipv4.sysctl_tcp_rmem[2]));
		space = max_t(u32, space, READ_ONCE(sysctl_rmem_max));
		space = min_t(u32, space, *window_clamp);
		*rcv_wscale = clamp_t(int, ilog2(space) - 15, 0, TCP_MAX_WSCALE);
	}
	*window_clamp = min_t(u32, U16_MAX << (*rcv_wscale), *window_clamp);
}

/**
 * xtcp_req_select_window - a request's receive window and scale
 * @req:         the request
 * @sk_listener: its listener
 * @dst:         the route to the peer
 * @mss:         the MSS the window is quantized to
 *
 * The part of tcp_openreq_init_rwin() that cookie_v4_check() redoes for
 * a cookie ACK with the MSS the cookie carried: the clamp (the
 * listener's, else the route's), a receive buffer the user made smaller,
 * then tcp_select_initial_window().
 */
void xtcp_req_select_window(struct request_sock *req,
			    const struct sock *sk_listener,
			    const struct dst_entry *dst, u32 mss)
{
	struct inet_request_sock *ireq = inet_rsk(req);
	int full_space = xtcp_full_space(sk_listener);
	u8 rcv_wscale;

	req->rsk_window_clamp = READ_ONCE(tcp_sk(sk_listener)->window_clamp) ? :
				dst_metric(dst, RTAX_WINDOW);
	/* A smaller receive buffer set by the user limits the window. */
	if (sk_listener->sk_userlocks & SOCK_RCVBUF_LOCK &&
	    (req->rsk_window_clamp > full_space || req->rsk_window_clamp == 0))
		req->rsk_window_clamp = full_space;

	xtcp_select_initial_window(sk_listener, full_space, mss,
				   &req->rsk_rcv_wnd, &req->rsk_window_clamp,
				   ireq->wscale_ok, &rcv_wscale,
				   dst_metric(dst, RTAX_INITRWND));
	ireq->rcv_wscale = rcv_wscale;
}

/*
 * tcp_reqsk_record_syn(): TCP_SAVE_SYN on the listener keeps the SYN's
 * IP and TCP headers (with 2, from the MAC header) for the child, which
 * reads them with TCP_SAVED_SYN.  Best effort: no memory, no copy.
 */
static XTCP_SEED void xtcp_reqsk_record_syn(const struct sock *sk,
					    struct request_sock *req,
					    const struct sk_buff *skb)
{
	u32 len = skb_network_header_len(skb) + tcp_hdrlen(skb);
	struct saved_syn *saved_syn;
	u32 mac_hdrlen = 0;
	void *base;

	if (!tcp_sk(sk)->save_syn)
		return;
	base = skb_network_header(skb);
	if (tcp_sk(sk)->save_syn == 2) {
		base = skb_mac_header(skb);
		mac_hdrlen = skb_mac_header_len(skb);
		len += mac_hdrlen;
	}
	saved_syn = kmalloc(struct_size(saved_syn, data, len), GFP_ATOMIC);
	if (!saved_syn)
		return;
	saved_syn->mac_hdrlen = mac_hdrlen;
	saved_syn->network_hdrlen = skb_network_header_len(skb);
	saved_syn->tcp_hdrlen = tcp_hdrlen(skb);
	memcpy(saved_syn->data, base, len);
	req->saved_syn = saved_syn;
}

/* tcp_openreq_init_rwin(): the window a request offers in its SYN-ACK. */
static void xtcp_openreq_init_rwin(struct request_sock *req,
				   const struct sock *sk_listener,
				   const struct dst_entry *dst)
{
	int mss = xtcp_mss_clamp(sk_listener, tcp_dst_advmss(dst));

	if (inet_rsk(req)->tstamp_ok)
		mss -= TCPOLEN_TSTAMP_ALIGNED;
	xtcp_req_select_window(req, sk_listener, dst, mss);
}

/*
 * tcp_ecn_create_request(): RFC 3168 section 6.1.1.  An ECN-setup SYN
 * (ECE and CWR) that is not itself ECT-marked, when ECN is wanted here
 * (net.xtcp.ecn or the route's feature), makes an ECN-capable request;
 * so does any ECN-setup SYN to a listener whose algorithm needs ECN
 * (DCTCP), or over a route that names such an algorithm.
 */
static XTCP_SEED void xtcp_ecn_create_request(struct request_sock *req,
					      const struct sk_buff *skb,
					      const struct sock *listen_sk,
					      const struct dst_entry *dst)
{
	const struct tcphdr *th = tcp_hdr(skb);
	const struct net *net = sock_net(listen_sk);
	u32 ecn_ok_dst;
	bool ect, ecn_ok;

	if (!(th->ece && th->cwr))
		return;
	ect = !INET_ECN_is_not_ect(TCP_SKB_CB(skb)->ip_dsfield);
	ecn_ok_dst = dst_feature(dst, DST_FEATURE_ECN_MASK);
	ecn_ok = READ_ONCE(xtcp_pernet(net)->sysctl.ecn) || ecn_ok_dst;
	if (((!ect || th->res1) && ecn_ok) || xtcp_ca_needs_ecn(listen_sk) ||
	    (ecn_ok_dst & DST_FEATURE_ECN_CA))
		inet_rsk(req)->ecn_ok = 1;
}

/*
 * tcp_syn_flood_action(): the SYN queue is full (or cookies are forced):
 * answer with a cookie if allowed, else drop.
 */
static bool xtcp_syn_flood_action(struct sock *sk)
{
	struct request_sock_queue *queue = &inet_csk(sk)->icsk_accept_queue;
	struct net *net = sock_net(sk);
	int syncookies = READ_ONCE(xtcp_pernet(net)->sysctl.syncookies);

	xtcp_inc_stats(net, syncookies ? XTCP_MIB_REQQFULLDOCOOKIES :
					 XTCP_MIB_REQQFULLDROP);
	if (!queue->synflood_warned && syncookies != 2 &&
	    xchg(&queue->synflood_warned, 1) == 0)
		net_info_ratelimited("xtcp: Possible SYN flooding on port %d. %s.  Check /proc/net/xtcp_stat.\n",
				     sk->sk_num, syncookies ?
				     "Sending cookies" : "Dropping request");
	return syncookies;
}

/*
 * inet_csk_reqsk_queue_is_full(): the SYN queue is past the backlog.  As
 * sk_acceptq_is_full(), it allows one more than the backlog.
 */
static bool xtcp_csk_reqsk_queue_is_full(const struct sock *sk)
{
	return inet_csk_reqsk_queue_len(sk) >
	       READ_ONCE(sk->sk_max_ack_backlog);
}

/*
 * inet_csk_reqsk_queue_hash_add(): hash the request, arm its SYN-ACK
 * timer, count it.  The refcount is set last, after a barrier: until
 * then lookups that find it fail refcount_inc_not_zero() and skip it.
 */
static XTCP_SEED bool xtcp_csk_reqsk_queue_hash_add(struct sock *sk,
						    struct request_sock *req,
						    unsigned long timeout)
{
	if (!xtcp_ehash_insert(req_to_sk(req), NULL))
		return false;
	timer_setup(&req->rsk_timer, xtcp_reqsk_timer_handler, TIMER_PINNED);
	mod_timer(&req->rsk_timer, jiffies + timeout);
	/* Commit every field before lookups may take a reference. */
	smp_wmb();
	refcount_set(&req->rsk_refcnt, 2 + 1);	/* hash, timer, caller */
	inet_csk_reqsk_queue_added(sk);
	return true;
}

/**
 * xtcp_conn_request - answer a SYN to a listener (tcp_conn_request())
 * @sk:  the listener; not locked
 * @skb: the SYN, validated; TCP_SKB_CB(skb)->tcp_tw_isn is the ISN a
 *       timewait sock chose for it (xtcp_timewait_state_process()), or 0
 *
 * Return: 0; the SYN is consumed or dropped and counted.
 */
XTCP_SEED int xtcp_conn_request(struct sock *sk, struct sk_buff *skb)
{
	struct xtcp_net *xn = xtcp_pernet(sock_net(sk));
	int syncookies = READ_ONCE(xn->sysctl.syncookies);
	struct tcp_fastopen_cookie foc = { .len = -1 };
	struct tcp_options_received tmp_opt = {};
	struct sock *fastopen_sk = NULL;
	struct request_sock *req;
	bool want_cookie = false;
	struct dst_entry *dst;
	struct flowi4 fl4;
	/* Nonzero: the SYN reopens a connection in TIME-WAIT. */
	u32 isn = TCP_SKB_CB(skb)->tcp_tw_isn;

	/* tcp_v4_conn_request(): never open to a broadcast or multicast. */
	if (skb_rtable(skb)->rt_flags & (RTCF_BROADCAST | RTCF_MULTICAST))
		goto drop;
	/*
	 * A timewait sock's SYN is taken without the queue limits and
	 * without a cookie, as stock takes it.
	 */
	if (!isn && (syncookies == 2 || xtcp_csk_reqsk_queue_is_full(sk))) {
		want_cookie = xtcp_syn_flood_action(sk);
		if (!want_cookie)
			goto drop;
	}
	if (sk_acceptq_is_full(sk)) {
		xtcp_inc_stats(xn->net, XTCP_MIB_LISTENOVERFLOWS);
		goto drop;
	}

	req = xtcp_reqsk_alloc(sk, !want_cookie);
	if (!req)
		goto drop;
	req->syncookie = want_cookie;
	tcp_rsk(req)->ts_off = 0;

	tcp_clear_options(&tmp_opt);
	tmp_opt.mss_clamp = TCP_MSS_DEFAULT;
	tmp_opt.user_mss = tcp_sk(sk)->rx_opt.user_mss;
	/* A cookie answer keeps no state: no Fast Open either. */
	if (!xtcp_parse_options(xn->net, skb, &tmp_opt, 0,
				want_cookie ? NULL : &foc))
		xtcp_inc_stats(xn->net, XTCP_MIB_INOPTERRORS);
	/* A cookie without timestamps has no room for options. */
	if (want_cookie && !tmp_opt.saw_tstamp)
		tcp_clear_options(&tmp_opt);
	tmp_opt.tstamp_ok = tmp_opt.saw_tstamp;
	xtcp_openreq_init(req, &tmp_opt, skb, sk);

	if (security_inet_conn_request(sk, skb, req))
		goto drop_and_free;
	dst = xtcp_csk_route_req(sk, &fl4, req);
	if (!dst)
		goto drop_and_free;

	if (tmp_opt.tstamp_ok)
		tcp_rsk(req)->ts_off = xtcp_init_ts_off(xn->net, skb);

	if (!want_cookie && !isn) {
		int max_syn_backlog = READ_ONCE(xn->sysctl.max_syn_backlog);

		/*
		 * Without cookies, keep the last quarter of the SYN queue
		 * for peers proven alive; xtcp keeps no peer metrics, so
		 * no peer is proven.
		 */
		if (!syncookies &&
		    (max_syn_backlog - inet_csk_reqsk_queue_len(sk) <
		     (max_syn_backlog >> 2)))
			goto drop_and_release;
		isn = xtcp_init_sequence(skb);
	}

	xtcp_ecn_create_request(req, skb, sk, dst);
	if (want_cookie) {
		isn = xtcp_cookie_v4_init_sequence(sk, skb, &req->mss);
		if (!tmp_opt.tstamp_ok)
			inet_rsk(req)->ecn_ok = 0;
	}
	tcp_rsk(req)->snt_isn = isn;
	/* A random flow hash for the request's segments (skb->hash). */
	tcp_rsk(req)->txhash = net_tx_rndhash();
	tcp_rsk(req)->syn_tos = TCP_SKB_CB(skb)->ip_dsfield;
	xtcp_openreq_init_rwin(req, sk, dst);

	if (!want_cookie) {
		xtcp_reqsk_record_syn(sk, req, skb);
		/*
		 * tcp_try_fastopen(): where stock's Fast Open branch leaves
		 * this path (design.rst, "TCP Fast Open").  @foc becomes the
		 * cookie the SYN-ACK offers, if any; a valid cookie (or none
		 * needed) makes the child now.
		 */
		fastopen_sk = xtcp_try_fastopen(sk, skb, req, &foc, dst);
	}
	if (fastopen_sk) {
		xtcp_child_locked(fastopen_sk);
		/*
		 * The SYN-ACK leaves from the child, acknowledging the SYN's
		 * data; the child goes on the accept queue at once, where
		 * accept() may take it before the third ACK.
		 */
		xtcp_v4_send_synack(fastopen_sk, dst, req, &foc,
				    TCP_SYNACK_FASTOPEN);
		if (!xtcp_csk_reqsk_queue_add(sk, req, fastopen_sk)) {
			/*
			 * The listener closed: the child was reset and
			 * destroyed, and its xtcp_reqsk_fastopen_remove()
			 * dropped one reference of the request's two.
			 */
			bh_unlock_sock(fastopen_sk);
			sock_put(fastopen_sk);
			reqsk_put(req);
			goto drop;
		}
		sk->sk_data_ready(sk);
		bh_unlock_sock(fastopen_sk);
		sock_put(fastopen_sk);
	} else {
		tcp_rsk(req)->tfo_listener = false;
		if (!want_cookie) {
			req->timeout = TCP_TIMEOUT_INIT;
			if (unlikely(!xtcp_csk_reqsk_queue_hash_add(sk, req,
								    req->timeout))) {
				/* Another SYN of this 4-tuple won the race. */
				reqsk_free(req);
				dst_release(dst);
				return 0;
			}
		}
		xtcp_v4_send_synack(sk, dst, req, &foc,
				    want_cookie ? TCP_SYNACK_COOKIE :
						  TCP_SYNACK_NORMAL);
		if (want_cookie) {
			xtcp_inc_stats(xn->net, XTCP_MIB_SYNCOOKIESSENT);
			reqsk_free(req);
			return 0;
		}
	}
	reqsk_put(req);
	return 0;

drop_and_release:
	dst_release(dst);
drop_and_free:
	reqsk_free(req);
drop:
	xtcp_inc_stats(xn->net, XTCP_MIB_LISTENDROPS);
	return 0;
}

/*
 * __inet_csk_reqsk_queue_drop(): out of the hash, timer stopped, each
 * dropping its reference.  Whether to stop the timer is decided by who
 * calls, never by timer_pending(): while the handler runs on another CPU
 * the timer is not pending, yet the handler may re-arm it, so anyone but
 * the handler itself must timer_delete_sync(), which waits for it
 * (CVE-2024-50154).  The handler (@from_timer) drops its own reference.
 * Returns true if this call unlinked the request.
 */
static bool __xtcp_csk_reqsk_queue_drop(struct sock *sk,
					struct request_sock *req,
					bool from_timer)
{
	bool unlinked = xtcp_ehash_remove(req_to_sk(req));

	if (!from_timer && timer_delete_sync(&req->rsk_timer))
		reqsk_put(req);
	if (unlinked) {
		reqsk_queue_removed(&inet_csk(sk)->icsk_accept_queue, req);
		reqsk_put(req);
	}
	return unlinked;
}

/**
 * xtcp_csk_reqsk_queue_drop - forget a request (inet_csk_reqsk_queue_drop())
 * @sk:  its listener
 * @req: the request, hashed once (its timer set up)
 *
 * Context: any but the request's own timer; may wait for that timer.
 * Return: true if this call unlinked it (and dropped the hash's reference).
 */
XTCP_SEED bool xtcp_csk_reqsk_queue_drop(struct sock *sk, struct request_sock *req)
{
	return __xtcp_csk_reqsk_queue_drop(sk, req, false);
}

/**
 * xtcp_reqsk_timer_drop - the timer gives up on its request
 * @sk:  the listener
 * @req: the request; the timer's reference goes too
 *
 * Context: the request's timer handler.
 */
void xtcp_reqsk_timer_drop(struct sock *sk, struct request_sock *req)
{
	__xtcp_csk_reqsk_queue_drop(sk, req, true);
	reqsk_put(req);
}

void xtcp_csk_reqsk_queue_drop_and_put(struct sock *sk,
				       struct request_sock *req)
{
	xtcp_csk_reqsk_queue_drop(sk, req);
	reqsk_put(req);
}

/**
 * xtcp_reqsk_clone - a copy of @req for another listener (inet_reqsk_clone())
 * @req: the request or queued child's request of a closing listener
 * @sk:  the listener of the same reuseport group it moves to, referenced
 *       by reuseport_migrate_sock(); the copy takes that reference over
 *
 * The sock_common part outside the don't-copy range and everything after
 * it are copied; hash node, refcount and queue mapping are the copy's
 * own.  The caller sets the refcount (and the timer) before anyone can
 * see the copy.
 *
 * Context: softirq or BHs off.
 * Return: the copy, or NULL (the reference on @sk is dropped then).
 */
struct request_sock *xtcp_reqsk_clone(struct request_sock *req,
				      struct sock *sk)
{
	struct sock *req_sk = req_to_sk(req), *nreq_sk;
	struct request_sock *nreq;

	nreq = kmem_cache_alloc(req->rsk_ops->slab, GFP_ATOMIC | __GFP_NOWARN);
	if (!nreq) {
		xtcp_inc_stats(sock_net(sk), XTCP_MIB_MIGRATEREQFAILURE);
		sock_put(sk);
		return NULL;
	}
	nreq_sk = req_to_sk(nreq);
	memcpy(nreq_sk, req_sk, offsetof(struct sock, sk_dontcopy_begin));
	/* The object is larger than the field named: a request sock. */
	unsafe_memcpy(&nreq_sk->sk_dontcopy_end, &req_sk->sk_dontcopy_end,
		      req->rsk_ops->obj_size -
		      offsetof(struct sock, sk_dontcopy_end),
		      /* spans the request sock, see inet_reqsk_clone() */);
	sk_node_init(&nreq_sk->sk_node);
	nreq_sk->sk_tx_queue_mapping = req_sk->sk_tx_queue_mapping;
#ifdef CONFIG_SOCK_RX_QUEUE_MAPPING
	nreq_sk->sk_rx_queue_mapping = req_sk->sk_rx_queue_mapping;
#endif
	nreq_sk->sk_incoming_cpu = req_sk->sk_incoming_cpu;
	nreq->rsk_listener = sk;
	/*
	 * A queued Fast Open child still in its handshake: its request now
	 * counts in the new listener's Fast Open queue, whose
	 * xtcp_reqsk_fastopen_remove() will take it off, and the child
	 * points at the copy.  The child is locked by the caller
	 * (xtcp_reqsk_queue_drain()), so fastopenq.lock is not needed for
	 * fastopen_rsk.
	 */
	if (tcp_rsk(nreq)->tfo_listener) {
		struct fastopen_queue *fastopenq =
			&inet_csk(sk)->icsk_accept_queue.fastopenq;

		spin_lock_bh(&fastopenq->lock);
		fastopenq->qlen++;
		spin_unlock_bh(&fastopenq->lock);
		rcu_assign_pointer(tcp_sk(nreq->sk)->fastopen_rsk, nreq);
	}
	return nreq;
}

/*
 * reqsk_migrate_reset(): what the old request owned now belongs to its
 * copy, so freeing the old one must not free it.  xtcp keeps no saved
 * SYN and no IP options yet; the pointers are cleared all the same.
 */
void xtcp_reqsk_migrate_reset(struct request_sock *req)
{
	req->saved_syn = NULL;
	inet_rsk(req)->ireq_opt = NULL;
}

/* reqsk_queue_migrated(): the copy counts in its new listener's queue. */
void xtcp_reqsk_queue_migrated(struct request_sock_queue *queue,
			       const struct request_sock *req)
{
	if (req->num_timeout == 0)
		atomic_inc(&queue->young);
	atomic_inc(&queue->qlen);
}

/*
 * inet_child_forget(): a child whose listener went away is aborted, as
 * tcp_disconnect() aborts it: a RST only if it is still synchronized (a
 * child the peer has reset already is in TCP_CLOSE and gets none), its
 * received data forgotten, then destroyed.  Called with the child
 * locked, in softirq or with BHs off.
 */
static void xtcp_child_forget(struct sock *sk, struct request_sock *req,
			      struct sock *child)
{
	struct request_sock *fastopen_req;

	if (xtcp_need_reset(child->sk_state))
		xtcp_send_active_reset(child);
	/*
	 * A Fast Open child still in its handshake lets go of its request
	 * (tcp_disconnect()); the accept queue's entry, still set (req->sk),
	 * keeps it for the caller to drop.
	 */
	fastopen_req = rcu_dereference_protected(tcp_sk(child)->fastopen_rsk,
						 lockdep_sock_is_held(child));
	if (fastopen_req)
		xtcp_reqsk_fastopen_remove(child, fastopen_req, false);
	xtcp_disconnect_rx(child);
	xtcp_disconnect_tx(child);
	/* An orphan before xtcp_done(), which destroys it then. */
	sock_orphan(child);
	xtcp_csk_prepare_for_destroy_sock(child);
	xtcp_done(child);
}

/**
 * xtcp_csk_reqsk_queue_add - put a child on the accept queue
 * @sk:    the listener
 * @req:   the request the child came from; the queue keeps it
 * @child: the new connection, locked
 *
 * Mirrors inet_csk_reqsk_queue_add().
 * Return: @child, or NULL if the listener stopped listening (the child
 * was then reset and destroyed).
 */
XTCP_SEED struct sock *xtcp_csk_reqsk_queue_add(struct sock *sk,
						struct request_sock *req,
						struct sock *child)
{
	struct request_sock_queue *queue = &inet_csk(sk)->icsk_accept_queue;

	spin_lock(&queue->rskq_lock);
	if (unlikely(sk->sk_state != TCP_LISTEN)) {
		xtcp_child_forget(sk, req, child);
		child = NULL;
	} else {
		req->sk = child;
		req->dl_next = NULL;
		if (!queue->rskq_accept_head)
			WRITE_ONCE(queue->rskq_accept_head, req);
		else
			queue->rskq_accept_tail->dl_next = req;
		queue->rskq_accept_tail = req;
		sk_acceptq_added(sk);
	}
	spin_unlock(&queue->rskq_lock);
	return child;
}

/**
 * xtcp_csk_complete_hashdance - the child replaces its request
 * @sk:      the listener
 * @child:   the new connection, locked
 * @req:     its request
 * @own_req: whether the child took the request's place in the hash
 *
 * Mirrors inet_csk_complete_hashdance().
 * Return: @child, or NULL when another CPU completed this request first
 * or the listener closed; @child is then released.
 */
XTCP_SEED struct sock *xtcp_csk_complete_hashdance(struct sock *sk, struct sock *child,
						   struct request_sock *req,
						   bool own_req)
{
	struct request_sock *nreq;

	if (!own_req)
		goto child_put;
	xtcp_csk_reqsk_queue_drop(req->rsk_listener, req);
	reqsk_queue_removed(&inet_csk(req->rsk_listener)->icsk_accept_queue,
			    req);
	if (sk == req->rsk_listener) {
		if (xtcp_csk_reqsk_queue_add(sk, req, child))
			return child;
		goto child_put;
	}
	/*
	 * The request's listener closed and the segment was steered to
	 * another listener of its reuseport group (xtcp_v4_rcv_req()): the
	 * child is queued there, with a copy of the request that holds
	 * that listener.
	 */
	sock_hold(sk);
	nreq = xtcp_reqsk_clone(req, sk);
	if (!nreq) {
		xtcp_child_forget(sk, req, child);
		goto child_put;
	}
	smp_wmb();	/* the copy's fields before its refcount */
	refcount_set(&nreq->rsk_refcnt, 1);
	if (xtcp_csk_reqsk_queue_add(sk, nreq, child)) {
		xtcp_inc_stats(sock_net(sk), XTCP_MIB_MIGRATEREQSUCCESS);
		xtcp_reqsk_migrate_reset(req);
		reqsk_put(req);
		return child;
	}
	xtcp_inc_stats(sock_net(sk), XTCP_MIB_MIGRATEREQFAILURE);
	xtcp_reqsk_migrate_reset(nreq);
	reqsk_put(nreq);
child_put:
	/* Too bad, another child took ownership of the request, undo. */
	xtcp_child_locked(child);
	bh_unlock_sock(child);
	sock_put(child);
	return NULL;
}

/* Every request of @sk still in the established hash goes. */
static void xtcp_reqsk_purge(struct sock *sk)
{
	struct xtcp_net *xn = xtcp_pernet(sock_net(sk));
	const struct hlist_nulls_node *node;
	struct request_sock *req;
	struct sock *rsk;
	unsigned int i;

	for (i = 0; i < XTCP_EHASH_SIZE; i++) {
		if (hlist_nulls_empty(&xn->ehash[i].chain))
			continue;
restart:
		rcu_read_lock();
		sk_nulls_for_each_rcu(rsk, node, &xn->ehash[i].chain) {
			if (rsk->sk_state != TCP_NEW_SYN_RECV ||
			    inet_reqsk(rsk)->rsk_listener != sk ||
			    !refcount_inc_not_zero(&rsk->sk_refcnt))
				continue;
			rcu_read_unlock();
			req = inet_reqsk(rsk);
			if (req->rsk_listener == sk)
				xtcp_csk_reqsk_queue_drop(sk, req);
			reqsk_put(req);
			goto restart;
		}
		rcu_read_unlock();
		cond_resched();
	}
}

/*
 * The migration part of inet_csk_listen_stop(): a child waiting in the
 * accept queue of a closing listener moves to another listener of its
 * reuseport group, with a copy of its request.  Returns false if no
 * listener takes it (the caller then forgets the child).  A listener
 * that was chosen but stopped listening meanwhile has forgotten the
 * child already, as inet_csk_reqsk_queue_add() does: true then too.
 * Called with the child bh-locked and BHs off.
 */
static bool xtcp_migrate_child(struct sock *sk, struct request_sock *req,
			       struct sock *child)
{
	struct request_sock *nreq;
	struct sock *nsk;

	nsk = xtcp_reuseport_migrate_sock(sk, child, NULL);
	if (!nsk)
		return false;
	nreq = xtcp_reqsk_clone(req, nsk);
	if (!nreq)
		return false;
	smp_wmb();	/* the copy's fields before its refcount */
	refcount_set(&nreq->rsk_refcnt, 1);
	rcu_read_lock();
	if (xtcp_csk_reqsk_queue_add(nsk, nreq, child)) {
		xtcp_inc_stats(sock_net(nsk), XTCP_MIB_MIGRATEREQSUCCESS);
		xtcp_reqsk_migrate_reset(req);
		nsk->sk_data_ready(nsk);
	} else {
		xtcp_inc_stats(sock_net(nsk), XTCP_MIB_MIGRATEREQFAILURE);
		xtcp_reqsk_migrate_reset(nreq);
		reqsk_put(nreq);
	}
	rcu_read_unlock();
	return true;
}

/**
 * xtcp_reqsk_queue_drain - a listener's last rites (inet_csk_listen_stop())
 * @sk: the listener, no longer hashed, locked by the caller
 *
 * Children waiting in the accept queue move to another listener of the
 * reuseport group where migration is on, else are reset and destroyed.
 * Requests still in SYN-RECEIVED are left to migrate at their next
 * segment or timeout where migration is on; otherwise they are dropped at
 * once rather than left for their timers.  A request hashed by another
 * CPU during the walk finds the listener closed at its first segment or
 * timeout and goes (or moves) then.
 */
void xtcp_reqsk_queue_drain(struct sock *sk)
{
	struct request_sock_queue *queue = &inet_csk(sk)->icsk_accept_queue;
	struct request_sock *next, *req;
	struct sock *child;

	spin_lock_bh(&queue->rskq_lock);
	req = queue->rskq_accept_head;
	queue->rskq_accept_head = NULL;
	queue->rskq_accept_tail = NULL;
	spin_unlock_bh(&queue->rskq_lock);

	while (req) {
		next = req->dl_next;
		child = req->sk;
		local_bh_disable();
		bh_lock_sock(child);
		sock_hold(child);
		if (!xtcp_migrate_child(sk, req, child))
			xtcp_child_forget(sk, req, child);
		bh_unlock_sock(child);
		local_bh_enable();
		sock_put(child);
		sk_acceptq_removed(sk);
		reqsk_put(req);
		cond_resched();
		req = next;
	}
	/*
	 * Where the requests may move to the rest of the reuseport group
	 * (net.xtcp.migrate_req, or a BPF program of type
	 * BPF_SK_REUSEPORT_SELECT_OR_MIGRATE), they move at their next
	 * segment or timeout, as in stock.  Otherwise they go now.
	 */
	if (!xtcp_reuseport_may_migrate(sk))
		xtcp_reqsk_purge(sk);
	/* Requests a RST ended, kept 60 s in the Fast Open queue. */
	xtcp_fastopen_rst_list_free(sk);
}
