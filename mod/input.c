// SPDX-License-Identifier: GPL-2.0
/*
 * xtcp: segment receive, demultiplexing and validation.
 *
 * xtcp puts its own handler in inet_protos[IPPROTO_TCP], in front of
 * stock TCP's, with one atomic exchange.  For each segment it looks for
 * an xtcp socket: a connection or request sock by 4-tuple in the
 * established hash, else a listener by local port.  Segments that belong
 * to no xtcp socket go to stock TCP's handler as they came, so stock TCP
 * sees exactly what it would see without xtcp.  ICMP errors are sorted
 * the same way: those quoting a segment of an xtcp socket are xtcp's.
 *
 * Mirrors tcp_v4_rcv() and tcp_v4_do_rcv() (net/ipv4/tcp_ipv4.c),
 * __inet_lookup_established(), __inet_lookup_listener() and
 * inet_ehash_insert() (net/ipv4/inet_hashtables.c).  Lookups take no
 * lock: RCU and SLAB_TYPESAFE_BY_RCU with the nulls-list restart, as in
 * the kernel.  Only inserts and removals lock, one bucket lock each.
 */
#include <linux/delay.h>
#include <linux/icmp.h>
#include <linux/jhash.h>
#include <linux/random.h>
#include <linux/static_call.h>
#include <net/inet_hashtables.h>
#include <net/icmp.h>
#include <net/ip.h>
#include <net/protocol.h>
#include <net/sock_reuseport.h>
#include <net/tcp.h>
#include <net/xfrm.h>

#include "xtcp.h"

/* Stock TCP's handler, and ours: a copy of it with our receive function. */
static const struct net_protocol *xtcp_stock_protocol;
static struct net_protocol xtcp_protocol;

static XTCP_SEED int xtcp_v4_rcv(struct sk_buff *skb);
/*
 * Stock's receive function (tcp_v4_rcv(), not exported), called from
 * xtcp_v4_rcv() for every segment that is not ours: a static call, which
 * xtcp_input_init() patches into a direct call, so that stock's traffic
 * pays no second indirect call (a retpoline where the CPU needs one) on
 * top of the one ip_protocol_deliver_rcu() now makes to us.
 */
DEFINE_STATIC_CALL_NULL(xtcp_stock_rcv, xtcp_v4_rcv);

static u32 xtcp_ehash_secret __read_mostly;

u32 xtcp_ehashfn(__be32 laddr, u16 lport, __be32 faddr, __be16 fport)
{
	return jhash_3words((__force u32)laddr, (__force u32)faddr,
			    ((u32)lport) << 16 | (__force u32)fport,
			    xtcp_ehash_secret);
}

/*
 * inet_match(): the namespace is part of the key.  The socket and request
 * slabs are SLAB_TYPESAFE_BY_RCU and shared by every namespace, so an
 * object a lockless reader holds may have been freed and reused for the
 * same 4-tuple in another namespace (containers with identical
 * addressing); only net_eq() tells them apart.
 */
static bool xtcp_match(const struct sock *sk, const struct net *net,
		       __be32 saddr, __be16 sport, __be32 daddr, u16 hnum,
		       int dif, int sdif)
{
	return sk->sk_daddr == saddr && sk->sk_rcv_saddr == daddr &&
	       sk->sk_dport == sport && sk->sk_num == hnum &&
	       net_eq(sock_net(sk), net) &&
	       inet_sk_bound_dev_eq(sock_net(sk), sk->sk_bound_dev_if, dif,
				    sdif);
}

/**
 * xtcp_lookup_established - find a connection or request sock by 4-tuple
 * @xn:    the namespace's tables
 * @saddr: remote address
 * @sport: remote port
 * @daddr: local address
 * @hnum:  local port, host order
 * @dif:   incoming interface
 * @sdif:  incoming L3 slave interface
 *
 * Context: rcu_read_lock() held.
 * Return: the socket with a reference held, or NULL.
 */
XTCP_SEED struct sock *xtcp_lookup_established(struct xtcp_net *xn, __be32 saddr,
					       __be16 sport, __be32 daddr, u16 hnum,
					       int dif, int sdif)
{
	u32 hash = xtcp_ehashfn(daddr, hnum, saddr, sport);
	u32 slot = hash & (XTCP_EHASH_SIZE - 1);
	struct xtcp_ehash_bucket *head = &xn->ehash[slot];
	const struct hlist_nulls_node *node;
	struct sock *sk;

begin:
	sk_nulls_for_each_rcu(sk, node, &head->chain) {
		if (sk->sk_hash != hash ||
		    !xtcp_match(sk, xn->net, saddr, sport, daddr, hnum, dif,
				sdif))
			continue;
		if (unlikely(!refcount_inc_not_zero(&sk->sk_refcnt)))
			goto out;
		/* The slab is TYPESAFE_BY_RCU: the socket may be reused. */
		if (unlikely(!xtcp_match(sk, xn->net, saddr, sport, daddr,
					 hnum, dif, sdif))) {
			sock_gen_put(sk);
			goto begin;
		}
		return sk;
	}
	/* Moved to another chain while we walked: walk again. */
	if (get_nulls_value(node) != slot)
		goto begin;
out:
	return NULL;
}

/* compute_score() in net/ipv4/inet_hashtables.c, for one address. */
static int xtcp_listener_score(struct sock *sk, const struct net *net,
			       __be32 daddr, u16 hnum, int dif, int sdif)
{
	int score;

	if (!net_eq(sock_net(sk), net) || sk->sk_num != hnum ||
	    sk->sk_rcv_saddr != daddr)
		return -1;
	if (!inet_sk_bound_dev_eq(sock_net(sk), sk->sk_bound_dev_if, dif, sdif))
		return -1;
	score = sk->sk_bound_dev_if ? 2 : 1;
	if (READ_ONCE(sk->sk_incoming_cpu) == raw_smp_processor_id())
		score++;
	return score;
}

static XTCP_SEED struct sock *xtcp_lookup_listener_addr(const struct net *net,
							struct xtcp_listen_hashbucket *ilb,
							struct sk_buff *skb, int doff,
							__be32 saddr, __be16 sport,
							__be32 daddr, u16 hnum,
							int dif, int sdif)
{
	struct sock *sk, *result = NULL, *rsk;
	const struct hlist_nulls_node *node;
	int score, hiscore = 0;

	sk_nulls_for_each_rcu(sk, node, &ilb->nulls_head) {
		score = xtcp_listener_score(sk, net, daddr, hnum, dif, sdif);
		if (score <= hiscore)
			continue;
		if (sk->sk_reuseport) {
			u32 phash = xtcp_ehashfn(daddr, hnum, saddr, sport);

			rsk = reuseport_select_sock(sk, phash, skb, doff);
			if (rsk)
				return rsk;
		}
		result = sk;
		hiscore = score;
	}
	return result;
}

/**
 * xtcp_lookup_listener - the listener a segment is for (__inet_lookup_listener)
 * @xn:    the namespace's tables
 * @skb:   the segment, for reuseport selection
 * @doff:  offset of the TCP header in @skb's data
 * @saddr: remote address
 * @sport: remote port
 * @daddr: local address
 * @hnum:  local port, host order
 * @dif:   incoming interface
 * @sdif:  incoming L3 slave interface
 *
 * A listener bound to the exact address wins over a wildcard one.
 *
 * Context: rcu_read_lock() held; listeners are SOCK_RCU_FREE, so the
 * result stays valid until rcu_read_unlock() without a reference.
 * Return: the listener or NULL.
 */
XTCP_SEED struct sock *xtcp_lookup_listener(struct xtcp_net *xn, struct sk_buff *skb,
					    int doff, __be32 saddr, __be16 sport,
					    __be32 daddr, u16 hnum, int dif, int sdif)
{
	struct xtcp_listen_hashbucket *ilb;
	struct sock *sk;

	ilb = &xn->lhash[hnum & (XTCP_LHASH_SIZE - 1)];
	sk = xtcp_lookup_listener_addr(xn->net, ilb, skb, doff, saddr, sport,
				       daddr, hnum, dif, sdif);
	if (sk)
		return sk;
	return xtcp_lookup_listener_addr(xn->net, ilb, skb, doff, saddr, sport,
					 htonl(INADDR_ANY), hnum, dif, sdif);
}

/**
 * xtcp_ehash_insert - hash @sk by 4-tuple, in place of @osk if given
 * @sk:  a request sock or a new child
 * @osk: the request sock a child replaces, or NULL
 *
 * Mirrors inet_ehash_insert(): a child takes its request's place only if
 * the request is still hashed (else another CPU won the race for it); a
 * new request is not hashed if the 4-tuple is already taken.
 *
 * Return: true if @sk is now hashed.
 */
XTCP_SEED bool xtcp_ehash_insert(struct sock *sk, struct sock *osk)
{
	struct xtcp_net *xn = xtcp_pernet(sock_net(sk));
	const struct hlist_nulls_node *node;
	struct xtcp_ehash_bucket *head;
	struct sock *esk;
	spinlock_t *lock;	/* the chain's writers' lock */
	bool ret = true;
	u32 hash;

	hash = xtcp_ehashfn(sk->sk_rcv_saddr, sk->sk_num, sk->sk_daddr,
			    sk->sk_dport);
	sk->sk_hash = hash;
	head = &xn->ehash[hash & (XTCP_EHASH_SIZE - 1)];
	lock = xtcp_ehash_lockp(xn, hash);

	spin_lock_bh(lock);
	if (osk) {
		WARN_ON_ONCE(sk->sk_hash != osk->sk_hash);
		/* Drops the reference the hash held on the request. */
		ret = sk_nulls_del_node_init_rcu(osk);
	} else {
		sk_nulls_for_each(esk, node, &head->chain) {
			if (esk->sk_hash == hash &&
			    xtcp_match(esk, sock_net(sk), sk->sk_daddr,
				       sk->sk_dport, sk->sk_rcv_saddr,
				       sk->sk_num, sk->sk_bound_dev_if, 0)) {
				ret = false;
				break;
			}
		}
	}
	if (ret)
		__sk_nulls_add_node_rcu(sk, &head->chain);
	spin_unlock_bh(lock);
	return ret;
}

/**
 * xtcp_ehash_remove - unhash a request sock or connection
 * @sk: the socket
 *
 * Takes no reference away: the caller owns what the hash held.
 * Return: true if @sk was hashed.
 */
bool xtcp_ehash_remove(struct sock *sk)
{
	struct xtcp_net *xn = xtcp_pernet(sock_net(sk));
	spinlock_t *lock = xtcp_ehash_lockp(xn, sk->sk_hash);	/* writers */
	bool ret;

	spin_lock_bh(lock);
	ret = __sk_nulls_del_node_init_rcu(sk);
	spin_unlock_bh(lock);
	return ret;
}

/*
 * Everything about the segment that does not depend on a socket: header
 * length, data offset and checksum (tcp_v4_rcv()).  The checksum is
 * settled here, before any state changes: a NIC's CHECKSUM_UNNECESSARY
 * is trusted as the kernel trusts it, a CHECKSUM_COMPLETE sum is checked
 * against the pseudo header, and anything else is summed in full.
 */
static bool xtcp_v4_validate(struct net *net, struct sk_buff *skb)
{
	const struct tcphdr *th = tcp_hdr(skb);

	if (unlikely(th->doff < sizeof(struct tcphdr) / 4))
		goto bad;
	/* Options past the end of the packet: stock drops, not an InErr. */
	if (!pskb_may_pull(skb, th->doff * 4)) {
		xtcp_inc_stats(net, XTCP_MIB_INTRUNCATED);
		return false;
	}
	if (skb_checksum_init(skb, IPPROTO_TCP, inet_compute_pseudo) ||
	    skb_checksum_complete(skb)) {
		xtcp_inc_stats(net, XTCP_MIB_INCSUMERRORS);
		goto bad;
	}
	return true;
bad:
	xtcp_inc_stats(net, XTCP_MIB_INERRS);
	return false;
}

/*
 * A stock socket may share a port with an xtcp listener (SO_REUSEPORT of
 * one user, or SO_REUSEADDR beside a socket that connected out).  Stock
 * TCP looks up connections before listeners, so a segment of a stock
 * connection, or of a stock request or TIME_WAIT sock, stays stock's.
 */
static bool xtcp_stock_owns(struct net *net, const struct sk_buff *skb)
{
	const struct iphdr *iph = ip_hdr(skb);
	const struct tcphdr *th = (const struct tcphdr *)skb->data;
	struct sock *sk;

	sk = __inet_lookup_established(net, net->ipv4.tcp_death_row.hashinfo,
				       iph->saddr, th->source, iph->daddr,
				       ntohs(th->dest), inet_iif(skb),
				       inet_sdif(skb));
	if (!sk)
		return false;
	sock_gen_put(sk);
	return true;
}

/*
 * What tcp_v4_rcv() checks of a full socket before it takes a segment:
 * IPsec input policy (our net_protocol, like stock's, is no_policy, so
 * the IP layer left it to us), IP_MINTTL (RFC 5082), the socket's filter.
 */
static bool xtcp_v4_admit(struct sock *sk, struct sk_buff *skb)
{
	const struct sock *fsk = sk;

	if (sk->sk_state == TCP_NEW_SYN_RECV)
		fsk = inet_reqsk(sk)->rsk_listener;
	if (!xfrm4_policy_check((struct sock *)fsk, XFRM_POLICY_IN, skb))
		goto drop;
	if (unlikely(ip_hdr(skb)->ttl < READ_ONCE(inet_sk(fsk)->min_ttl)))
		goto drop;
	if (sk_filter_trim_cap((struct sock *)fsk, skb, tcp_hdrlen(skb)))
		goto drop;
	return true;
drop:
	xtcp_inc_stats(sock_net(fsk), XTCP_MIB_INFILTERED);
	return false;
}

/* tcp_v4_fill_cb(): sequence space of the segment, in TCP_SKB_CB. */
static void xtcp_v4_fill_cb(struct sk_buff *skb)
{
	const struct iphdr *iph = ip_hdr(skb);
	const struct tcphdr *th = tcp_hdr(skb);

	/* The IP control block is kept, as tcp_v4_fill_cb() keeps it. */
	memmove(&TCP_SKB_CB(skb)->header.h4, IPCB(skb),
		sizeof(struct inet_skb_parm));
	barrier();
	TCP_SKB_CB(skb)->seq = ntohl(th->seq);
	TCP_SKB_CB(skb)->end_seq = TCP_SKB_CB(skb)->seq + th->syn + th->fin +
				   skb->len - th->doff * 4;
	TCP_SKB_CB(skb)->ack_seq = ntohl(th->ack_seq);
	TCP_SKB_CB(skb)->tcp_flags = tcp_flag_byte(th);
	TCP_SKB_CB(skb)->ip_dsfield = ipv4_get_dsfield(iph);
	TCP_SKB_CB(skb)->sacked = 0;
	TCP_SKB_CB(skb)->has_rxtstamp = skb->tstamp || skb_hwtstamps(skb)->hwtstamp;
}

/*
 * A segment for a listener (tcp_v4_do_rcv() and the TCP_LISTEN case of
 * tcp_rcv_state_process()): a SYN makes a request, an ACK may be a SYN
 * cookie's third ACK; any other ACK is answered with a RST.  Consumes
 * @skb.
 */
static XTCP_SEED void xtcp_v4_rcv_listen(struct sock *sk, struct sk_buff *skb)
{
	const struct tcphdr *th = tcp_hdr(skb);
	struct sock *nsk, *rsk = sk;

	if (th->ack && !th->rst && !th->syn) {
		nsk = xtcp_cookie_v4_check(sk, skb);
		if (!nsk)
			goto discard;
		if (nsk != sk) {
			if (!xtcp_child_process(sk, nsk, skb))
				return;
			rsk = nsk;
			goto reset;
		}
	}
	if (th->ack)
		goto reset;
	if (th->syn && !th->rst && !th->fin)
		xtcp_conn_request(sk, skb);
	goto discard;
reset:
	xtcp_v4_send_reset(rsk, skb);
discard:
	consume_skb(skb);
}

/* tcp_v4_restore_cb(): give the IP layer's control block back. */
static void xtcp_v4_restore_cb(struct sk_buff *skb)
{
	memmove(IPCB(skb), &TCP_SKB_CB(skb)->header.h4,
		sizeof(struct inet_skb_parm));
}

/*
 * A segment for a request sock: the third ACK, a retransmitted SYN, a
 * RST...  Mirrors the TCP_NEW_SYN_RECV branch of tcp_v4_rcv(), which
 * hands the request of a closed listener to the rest of its reuseport
 * group (reuseport_migrate_sock()).  The
 * caller's reference on the request is ours to drop.  Returns -EAGAIN
 * when the segment must be looked up again: its request went with a
 * closing listener, or another CPU turned it into a child first
 * (req_stolen), which is then the one that should have it.
 */
static XTCP_SEED int xtcp_v4_rcv_req(struct sk_buff *skb, struct sock *sk)
{
	struct request_sock *req = inet_reqsk(sk);
	struct sock *listener = req->rsk_listener;
	bool req_stolen = false;
	struct sock *nsk;

	if (unlikely(listener->sk_state != TCP_LISTEN)) {
		/*
		 * The listener is closing: another listener of its reuseport
		 * group takes the request over if migration is on (it comes
		 * referenced), else the request goes with it.
		 */
		nsk = xtcp_reuseport_migrate_sock(listener, sk, skb);
		if (!nsk) {
			xtcp_csk_reqsk_queue_drop_and_put(listener, req);
			xtcp_inc_stats(sock_net(listener), XTCP_MIB_REQDROPPED);
			xtcp_v4_restore_cb(skb);
			return -EAGAIN;
		}
		listener = nsk;
	} else {
		/* The request holds the listener; it may go before we end. */
		sock_hold(listener);
	}
	nsk = xtcp_check_req(listener, skb, req, false, &req_stolen);
	if (!nsk) {
		reqsk_put(req);
		if (req_stolen) {
			xtcp_v4_restore_cb(skb);
			sock_put(listener);
			return -EAGAIN;
		}
		goto out;
	}
	if (nsk == listener) {
		reqsk_put(req);
		xtcp_v4_rcv_listen(listener, skb);
		sock_put(listener);
		return 0;
	}
	/* The accept queue now owns our reference on the request. */
	if (!xtcp_child_process(listener, nsk, skb)) {
		sock_put(listener);
		return 0;
	}
	xtcp_v4_send_reset(nsk, skb);
out:
	sock_put(listener);
	consume_skb(skb);
	return 0;
}

/**
 * xtcp_v4_do_rcv - a segment for a full socket we may process now
 * @sk:  the socket, locked: bh_lock_sock() with no owner, or owned by
 *       the process that is releasing it (sk_backlog_rcv)
 * @skb: the segment; consumed
 *
 * Mirrors tcp_v4_do_rcv(): an ESTABLISHED connection takes its own path,
 * anything else the state machine, whose nonzero answer means a RST.
 *
 * Return: 0.
 */
int xtcp_v4_do_rcv(struct sock *sk, struct sk_buff *skb)
{
	if (sk->sk_state == TCP_ESTABLISHED) {
		xtcp_rcv_established(sk, skb);
		return 0;
	}
	/*
	 * A socket that listens now, though it did not when queued: from
	 * __release_sock() we are in process context, and the listener path
	 * expects softirq's (BHs off, RCU), as tcp_rcv_state_process()
	 * provides around conn_request.
	 */
	if (sk->sk_state == TCP_LISTEN) {
		rcu_read_lock();
		local_bh_disable();
		xtcp_v4_rcv_listen(sk, skb);
		local_bh_enable();
		rcu_read_unlock();
		return 0;
	}
	if (xtcp_rcv_state_process(sk, skb)) {
		xtcp_v4_send_reset(sk, skb);
		kfree_skb(skb);
	}
	return 0;
}

/*
 * tcp_add_backlog() without its coalescing of queued segments: the
 * owner's release_sock() feeds the backlog to xtcp_v4_do_rcv().  The
 * bound is stock's: twice the receive buffer (the backlog's length and
 * the receive queue's memory both reach sk_rcvbuf in normal
 * conditions), half the send buffer, and 64 KiB of headroom, since only
 * the owner can prune.  Returns true if the segment was dropped (the
 * caller frees it; TCPBacklogDrop).
 */
static bool xtcp_add_backlog(struct sock *sk, struct sk_buff *skb)
{
	u64 limit;

	/* Not charged yet: a fully pulled skb may shed its frags' cost. */
	xtcp_skb_condense(skb);
	limit = ((u64)READ_ONCE(sk->sk_rcvbuf)) << 1;
	limit += ((u32)READ_ONCE(sk->sk_sndbuf)) >> 1;
	limit += 64 * 1024;
	limit = min_t(u64, limit, UINT_MAX);
	if (likely(!sk_add_backlog(sk, skb, limit)))
		return false;
	xtcp_inc_stats(sock_net(sk), XTCP_MIB_TCPBACKLOGDROP);
	return true;
}

/*
 * A segment for a full socket: a listener in any state (a close() may be
 * taking it out of TCP_LISTEN right now), or a connection.  @refcounted
 * says whether the lookup took a reference, which is ours to drop; it is
 * decided at lookup time, never from sk_state, which another CPU may
 * change under us (tcp_v4_rcv()'s refcounted).  A connection whose owner
 * holds it gets the segment through its backlog.
 */
static XTCP_SEED void xtcp_v4_rcv_sk(struct sock *sk, struct sk_buff *skb,
				     bool refcounted)
{
	if (sk->sk_state == TCP_LISTEN) {
		xtcp_v4_rcv_listen(sk, skb);
		goto put;
	}
	/*
	 * tcp_v4_rcv(): a segment that may sit in a queue lets go of its
	 * conntrack entry and its device now.
	 */
	nf_reset_ct(skb);
	skb->dev = NULL;
	bh_lock_sock_nested(sk);
	/* TCP_INFO's segs_in/data_segs_in, the header still in skb->len. */
	tcp_segs_in(tcp_sk(sk), skb);
	if (!sock_owned_by_user(sk))
		xtcp_v4_do_rcv(sk, skb);
	else if (xtcp_add_backlog(sk, skb))
		kfree_skb(skb);
	bh_unlock_sock(sk);
put:
	if (refcounted)
		sock_put(sk);
}

/*
 * do_time_wait in tcp_v4_rcv(): a segment for a timewait sock, whose
 * reference the lookup took and which is dropped here.  A SYN that may
 * reopen the connection goes to the listener, if there is one, with the
 * ISN chosen for it in *@isn; else it is answered as in TIME-WAIT.
 *
 * @sdif is the L3 slave interface, read before TCP_SKB_CB() took the
 * IP control block's place.
 *
 * Return: the listener (not referenced: RCU) for the SYN, or NULL when
 * the segment was consumed.
 */
static struct sock *xtcp_v4_rcv_tw(struct xtcp_net *xn, struct sock *sk,
				   struct sk_buff *skb, int sdif, u32 *isn)
{
	struct xtcp_timewait_sock *tw = xtcp_twsk(sk);
	const struct tcphdr *th = tcp_hdr(skb);
	const struct iphdr *iph = ip_hdr(skb);
	struct sock *listener;

	switch (xtcp_timewait_state_process(tw, skb, isn)) {
	case TCP_TW_SYN:
		listener = xtcp_lookup_listener(xn, skb, __tcp_hdrlen(th),
						iph->saddr, th->source,
						iph->daddr, ntohs(th->dest),
						inet_iif(skb), sdif);
		if (listener) {
			xtcp_twsk_deschedule_put(tw);
			return listener;
		}
		/* No listener any more: answer as TIME-WAIT does. */
		fallthrough;
	case TCP_TW_ACK:
		xtcp_v4_timewait_ack(tw, skb);
		break;
	case TCP_TW_RST:
		xtcp_v4_send_reset(sk, skb);
		xtcp_twsk_deschedule_put(tw);
		consume_skb(skb);
		return NULL;
	case TCP_TW_SUCCESS:
		break;
	}
	inet_twsk_put(&tw->tw_tcp.tw_sk);
	consume_skb(skb);
	return NULL;
}

/*
 * The rest of tcp_v4_rcv() for a segment to a port with an xtcp bind
 * bucket: a connection or request sock comes from the established hash
 * with a reference; a listener from the listening hash without one (it
 * is SOCK_RCU_FREE and we are in an RCU read section).  What no xtcp
 * socket owns still goes to stock TCP.  Out of line, so that stock's
 * segments pay neither its stack frame nor its stack protector.
 */
static noinline int xtcp_v4_rcv_own(struct sk_buff *skb,
				    struct xtcp_net *xn)
{
	struct net *net = dev_net(skb->dev);
	const struct tcphdr *th;
	const struct iphdr *iph;
	bool refcounted, counted = false;
	struct sock *sk;
	u32 isn = 0;
	int sdif;

lookup:
	th = (const struct tcphdr *)skb->data;
	iph = ip_hdr(skb);
	sdif = inet_sdif(skb);

	refcounted = true;
	sk = xtcp_lookup_established(xn, iph->saddr, th->source, iph->daddr,
				     ntohs(th->dest), inet_iif(skb), sdif);
	if (!sk) {
		refcounted = false;
		sk = xtcp_lookup_listener(xn, skb, __tcp_hdrlen(th),
					  iph->saddr, th->source, iph->daddr,
					  ntohs(th->dest), inet_iif(skb), sdif);
		if (!sk || xtcp_stock_owns(net, skb))
			return static_call(xtcp_stock_rcv)(skb);
	}

	/* From here on the segment is ours: validate before any state. */
	if (!counted) {
		xtcp_inc_stats(net, XTCP_MIB_INSEGS);
		counted = true;
	}
	if (!xtcp_v4_validate(net, skb))
		goto discard_and_relse;
	if (sk->sk_state == TCP_TIME_WAIT) {
		/* do_time_wait: IPsec input policy without a socket. */
		if (!xfrm4_policy_check(NULL, XFRM_POLICY_IN, skb)) {
			xtcp_inc_stats(net, XTCP_MIB_INFILTERED);
			goto discard_and_relse;
		}
		xtcp_v4_fill_cb(skb);
		sk = xtcp_v4_rcv_tw(xn, sk, skb, sdif, &isn);
		if (!sk)
			return 0;
		/* A new SYN for the listener: process it as one. */
		xtcp_v4_restore_cb(skb);
		refcounted = false;
	}
	if (!xtcp_v4_admit(sk, skb))
		goto discard_and_relse;
	xtcp_v4_fill_cb(skb);
	TCP_SKB_CB(skb)->tcp_tw_isn = xtcp_compat_tw_isn(isn);

	if (sk->sk_state == TCP_NEW_SYN_RECV) {
		if (xtcp_v4_rcv_req(skb, sk) == -EAGAIN)
			goto lookup;
		return 0;
	}
	xtcp_v4_rcv_sk(sk, skb, refcounted);
	return 0;

discard_and_relse:
	/* sock_gen_put(): a connection, request or timewait sock. */
	if (refcounted)
		sock_gen_put(sk);
	kfree_skb(skb);
	return 0;
}

/**
 * xtcp_v4_rcv - the IPPROTO_TCP handler while xtcp is loaded
 * @skb: a TCP segment for this host
 *
 * A segment for a local port without an xtcp bind bucket goes to stock
 * TCP after one bit test (xtcp_net.ports) and a direct call (the static
 * call xtcp_stock_rcv): what stock's own traffic pays for the hook.  The
 * others go on in xtcp_v4_rcv_own().
 *
 * Context: softirq, rcu_read_lock() held by the IP layer.
 * Return: 0, or what stock TCP returns for segments that are not ours.
 */
static XTCP_SEED int xtcp_v4_rcv(struct sk_buff *skb)
{
	struct xtcp_net *xn = xtcp_pernet_rcu(dev_net(skb->dev));

	if (skb->pkt_type == PACKET_HOST &&
	    pskb_may_pull(skb, sizeof(struct tcphdr)) &&
	    test_bit(ntohs(((const struct tcphdr *)skb->data)->dest),
		     xn->ports))
		return xtcp_v4_rcv_own(skb, xn);
	return static_call(xtcp_stock_rcv)(skb);
}

/*
 * tcp_req_err(): an ICMP error quoting a SYN-ACK of a request.  It must
 * quote our ISN exactly (else it is forged or stale: OutOfWindowIcmps);
 * a hard error (net or host unreachable, parameter problem, time
 * exceeded) then removes the request silently, so that a later third
 * ACK finds nothing and is answered with a RST, as stock answers it.
 * Consumes the caller's reference.
 */
static void xtcp_req_err(struct sock *sk, u32 seq, bool abort)
{
	struct request_sock *req = inet_reqsk(sk);
	struct net *net = sock_net(sk);

	if (seq != tcp_rsk(req)->snt_isn) {
		xtcp_inc_stats(net, XTCP_MIB_OUTOFWINDOWICMPS);
	} else if (abort) {
		xtcp_csk_reqsk_queue_drop(req->rsk_listener, req);
		xtcp_inc_stats(net, XTCP_MIB_LISTENDROPS);
	}
	reqsk_put(req);
}

/**
 * xtcp_v4_mtu_reduced - act on a lower path MTU (tcp_v4_mtu_reduced())
 * @sk: the connection, locked and not owned (or from release_cb)
 *
 * The route learns the MTU the ICMP message gave (tp->mtu_info); if the
 * connection's segments no longer fit, the MSS shrinks and what is in
 * flight is cut and sent again at once (RFC 1191's "fast" discovery),
 * unless IP_MTU_DISCOVER says not to care.
 */
void xtcp_v4_mtu_reduced(struct sock *sk)
{
	struct inet_sock *inet = inet_sk(sk);
	struct dst_entry *dst;
	u32 mtu;

	if ((1 << sk->sk_state) & (TCPF_LISTEN | TCPF_CLOSE))
		return;
	mtu = READ_ONCE(tcp_sk(sk)->mtu_info);
	dst = inet_csk_update_pmtu(sk, mtu);
	if (!dst)
		return;
	/* Remembered in case the connection cannot recover. */
	if (mtu < dst_mtu(dst) && ip_dont_fragment(sk, dst))
		WRITE_ONCE(sk->sk_err_soft, EMSGSIZE);
	mtu = dst_mtu(dst);
	if (inet->pmtudisc != IP_PMTUDISC_DONT && ip_sk_accept_pmtu(sk) &&
	    inet_csk(sk)->icsk_pmtu_cookie > mtu) {
		xtcp_sync_mss(sk, mtu);
		xtcp_simple_retransmit(sk);
	}
}

/*
 * tcp_v4_err() for a connection (RFC 1122 4.2.3.9, RFC 5927): an error
 * quoting a sequence number outside SND.UNA..SND.NXT is ignored
 * (OutOfWindowIcmps); fragmentation needed lowers the path MTU, from
 * release_sock() if a process owns the socket; a redirect updates the
 * route; other unreachables, time exceeded and parameter problems are
 * soft errors: reported at once only with IP_RECVERR, else only if the
 * connection then times out (sk_err_soft).
 */
static void xtcp_v4_err_conn(struct sock *sk, struct sk_buff *skb, u32 info,
			     int type, int code, u32 seq)
{
	const struct iphdr *iph = (const struct iphdr *)skb->data;
	struct tcp_sock *tp = tcp_sk(sk);
	struct net *net = sock_net(sk);
	struct request_sock *fastopen;
	struct dst_entry *dst;
	u32 snd_una;
	int err;

	bh_lock_sock(sk);
	if (sk->sk_state == TCP_CLOSE)
		goto out;
	/* IP_MINTTL (RFC 5082): the ICMP quotes what we sent; its TTL. */
	if (unlikely(iph->ttl < READ_ONCE(inet_sk(sk)->min_ttl)))
		goto out;
	/* A Fast Open child's window starts at its SYN-ACK. */
	fastopen = rcu_dereference(tp->fastopen_rsk);
	snd_una = fastopen ? tcp_rsk(fastopen)->snt_isn : tp->snd_una;
	if (!between(seq, snd_una, tp->snd_nxt)) {
		xtcp_inc_stats(net, XTCP_MIB_OUTOFWINDOWICMPS);
		goto out;
	}
	switch (type) {
	case ICMP_REDIRECT:
		/* do_redirect() */
		dst = __sk_dst_check(sk, 0);
		if (!sock_owned_by_user(sk) && dst)
			dst->ops->redirect(dst, sk, skb);
		goto out;
	case ICMP_SOURCE_QUENCH:
		goto out;
	case ICMP_PARAMETERPROB:
		err = EPROTO;
		break;
	case ICMP_DEST_UNREACH:
		if (code > NR_ICMP_UNREACH)
			goto out;
		if (code == ICMP_FRAG_NEEDED) {
			WRITE_ONCE(tp->mtu_info, info);
			if (!sock_owned_by_user(sk))
				xtcp_v4_mtu_reduced(sk);
			else if (!test_and_set_bit(TCP_MTU_REDUCED_DEFERRED,
						   &sk->sk_tsq_flags))
				sock_hold(sk);
			goto out;
		}
		err = icmp_err_convert[code].errno;
		/* RFC 6069: the path, not congestion, lost SND.UNA. */
		if (!fastopen &&
		    (code == ICMP_NET_UNREACH || code == ICMP_HOST_UNREACH))
			xtcp_ld_RTO_revert(sk, seq);
		break;
	case ICMP_TIME_EXCEEDED:
		err = EHOSTUNREACH;
		break;
	default:
		goto out;
	}
	/*
	 * A Fast Open child in its handshake that no one accepted yet dies
	 * of a hard error; once accepted it is treated as a connection.
	 */
	if (sk->sk_state == TCP_SYN_RECV && !(fastopen && !fastopen->sk)) {
		struct tcphdr *th = (struct tcphdr *)(skb->data +
						      (iph->ihl << 2));

		/* Queued for MSG_ERRQUEUE whatever IP_RECVERR says. */
		xtcp_ip_icmp_error(sk, skb, err, th->dest, info, (u8 *)th);
		if (!sock_owned_by_user(sk))
			xtcp_done_with_error(sk, err);
		else
			WRITE_ONCE(sk->sk_err_soft, err);
		goto out;
	}
	if (!sock_owned_by_user(sk) && xtcp_inet_recverr(sk)) {
		WRITE_ONCE(sk->sk_err, err);
		sk_error_report(sk);
	} else {
		WRITE_ONCE(sk->sk_err_soft, err);
	}
out:
	bh_unlock_sock(sk);
}

/**
 * xtcp_v4_err - the IPPROTO_TCP ICMP error handler while xtcp is loaded
 * @skb:  the ICMP message, its data the quoted IP header and at least 8
 *        bytes of the TCP header (icmp_socket_deliver() pulled them)
 * @info: ICMP's extra (the MTU of a fragmentation-needed message)
 *
 * Mirrors the lookup of tcp_v4_err(): the quoted segment is one we sent,
 * so its source is our side.  Errors for xtcp's request socks are
 * handled as tcp_req_err() handles them, errors for its connections by
 * xtcp_v4_err_conn(); everything else is stock's, untouched.
 *
 * Context: softirq, rcu_read_lock() held by the ICMP layer.
 * Return: 0, or what stock's handler returns.
 */
static int xtcp_v4_err(struct sk_buff *skb, u32 info)
{
	const struct iphdr *iph = (const struct iphdr *)skb->data;
	const struct tcphdr *th = (const struct tcphdr *)(skb->data +
							  (iph->ihl << 2));
	struct net *net = dev_net(skb->dev);
	struct xtcp_net *xn = xtcp_pernet(net);
	const int type = icmp_hdr(skb)->type;
	const int code = icmp_hdr(skb)->code;
	struct sock *sk = NULL;

	/* The quoted segment left from one of our ports, or it is not ours. */
	if (test_bit(ntohs(th->source), xn->ports))
		sk = xtcp_lookup_established(xn, iph->daddr, th->dest,
					     iph->saddr, ntohs(th->source),
					     inet_iif(skb), 0);
	if (!sk)
		return xtcp_stock_protocol->err_handler(skb, info);
	/* A timewait sock has nothing left to tell or to resend. */
	if (sk->sk_state == TCP_TIME_WAIT) {
		inet_twsk_put(inet_twsk(sk));
		return 0;
	}
	if (sk->sk_state == TCP_NEW_SYN_RECV) {
		xtcp_req_err(sk, ntohl(th->seq),
			     type == ICMP_PARAMETERPROB ||
			     type == ICMP_TIME_EXCEEDED ||
			     (type == ICMP_DEST_UNREACH &&
			      (code == ICMP_NET_UNREACH ||
			       code == ICMP_HOST_UNREACH)));
		return 0;
	}
	xtcp_v4_err_conn(sk, skb, info, type, code, ntohl(th->seq));
	sock_put(sk);
	return 0;
}

/*
 * Put our handler in front of stock TCP's with one cmpxchg, so that no
 * segment ever finds IPPROTO_TCP without a handler.
 */
/* inet_protos[] is __rcu; cmpxchg() wants the plain pointer, as in
 * inet_add_protocol().
 */
static const struct net_protocol **xtcp_tcp_slot(void)
{
	return (const struct net_protocol __force **)&inet_protos[IPPROTO_TCP];
}

int xtcp_input_init(void)
{
	const struct net_protocol **slot = xtcp_tcp_slot();

	xtcp_ehash_secret = get_random_u32();
	xtcp_stock_protocol = rcu_dereference_protected(inet_protos[IPPROTO_TCP],
							true);
	if (!xtcp_stock_protocol)
		return -EPROTONOSUPPORT;
	static_call_update(xtcp_stock_rcv, xtcp_stock_protocol->handler);
	xtcp_protocol = *xtcp_stock_protocol;
	xtcp_protocol.handler = xtcp_v4_rcv;
	xtcp_protocol.err_handler = xtcp_v4_err;
	if (cmpxchg(slot, xtcp_stock_protocol, &xtcp_protocol) !=
	    xtcp_stock_protocol) {
		pr_err("xtcp: IPPROTO_TCP handler changed under us\n");
		return -EBUSY;
	}
	return 0;
}

/*
 * Give stock TCP its handler back and wait out every reader of ours.  If
 * someone else has put a handler in front of ours meanwhile, it may call
 * ours: freeing our code and tables now would leave it calling freed
 * memory.  Module exit cannot fail, so it waits, loudly, until that
 * handler is gone and the slot is ours again.
 */
void xtcp_input_exit(void)
{
	const struct net_protocol **slot = xtcp_tcp_slot();

	while (cmpxchg(slot, &xtcp_protocol, xtcp_stock_protocol) !=
	       &xtcp_protocol) {
		pr_err_ratelimited("xtcp: IPPROTO_TCP handler changed under us (%ps); waiting for it to be restored before unloading\n",
				   READ_ONCE(*slot));
		msleep(1000);
	}
	synchronize_net();
}
