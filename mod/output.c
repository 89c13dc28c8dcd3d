// SPDX-License-Identifier: GPL-2.0
/*
 * xtcp: building and sending SYN-ACKs, RSTs and ACKs.
 *
 * Every segment leaves through the kernel's IP output path
 * (ip_build_and_send_pkt() -> ip_local_out() -> ip_output()), so routing,
 * netfilter, qdiscs and the NIC's checksum offload apply to xtcp as to
 * stock TCP.  Mirrors tcp_make_synack() and tcp_options_write()
 * (net/ipv4/tcp_output.c), tcp_v4_send_synack(), tcp_v4_send_reset() and
 * tcp_v4_send_ack() (net/ipv4/tcp_ipv4.c).
 *
 * Segments sent on no socket's behalf (RSTs and ACKs answering a segment)
 * go out through a per-namespace control socket, as stock TCP's do; like
 * ip_send_unicast_reply() they echo the incoming TOS without its ECN bits.
 * A socket's TCP_TX_DELAY delays them as its own segments: the SYN-ACK
 * and a request's ACKs by the listener's, a timewait sock's ACKs and
 * RSTs by the connection's (xtcp_transmit_time()).
 */
#include <linux/skbuff.h>
#include <net/inet_common.h>
#include <net/ip.h>
#include <net/route.h>
#include <net/tcp.h>

#include "xtcp.h"

/* The timestamp clock: milliseconds (RFC 7323 section 5.4 allows 1 ms). */
u32 xtcp_time_stamp_ms(void)
{
	return (u32)div_u64(ktime_get_ns(), NSEC_PER_MSEC);
}

/**
 * xtcp_options_write - lay out a segment's options (tcp_options_write())
 * @ptr:  just past the TCP header
 * @opts: what to write
 *
 * The order and padding stock TCP uses, which a packet-by-packet
 * comparison sees: MSS; SACK-permitted folded into the timestamp's first
 * word when both are present, else NOP NOP TS and NOP NOP SACK-permitted;
 * NOP and window scale; NOP NOP and the SACK blocks, a D-SACK block
 * first among them (RFC 2883 section 4); a Fast Open cookie last, in
 * the option it was asked for in (34, or 254 with the magic 0xF989),
 * padded with NOP NOP to a word.
 */
void xtcp_options_write(__be32 *ptr, const struct xtcp_out_options *opts)
{
	u16 options = opts->options;
	int i;

	if (opts->mss)
		*ptr++ = htonl((TCPOPT_MSS << 24) | (TCPOLEN_MSS << 16) |
			       opts->mss);
	if (options & XTCP_OPT_TS) {
		if (options & XTCP_OPT_SACK_ADVERTISE) {
			*ptr++ = htonl((TCPOPT_SACK_PERM << 24) |
				       (TCPOLEN_SACK_PERM << 16) |
				       (TCPOPT_TIMESTAMP << 8) |
				       TCPOLEN_TIMESTAMP);
			options &= ~XTCP_OPT_SACK_ADVERTISE;
		} else {
			*ptr++ = htonl((TCPOPT_NOP << 24) | (TCPOPT_NOP << 16) |
				       (TCPOPT_TIMESTAMP << 8) |
				       TCPOLEN_TIMESTAMP);
		}
		*ptr++ = htonl(opts->tsval);
		*ptr++ = htonl(opts->tsecr);
	}
	if (options & XTCP_OPT_SACK_ADVERTISE)
		*ptr++ = htonl((TCPOPT_NOP << 24) | (TCPOPT_NOP << 16) |
			       (TCPOPT_SACK_PERM << 8) | TCPOLEN_SACK_PERM);
	if (options & XTCP_OPT_WSCALE)
		*ptr++ = htonl((TCPOPT_NOP << 24) | (TCPOPT_WINDOW << 16) |
			       (TCPOLEN_WINDOW << 8) | opts->ws);
	if (opts->num_sack_blocks) {
		*ptr++ = htonl((TCPOPT_NOP << 24) | (TCPOPT_NOP << 16) |
			       (TCPOPT_SACK << 8) |
			       (TCPOLEN_SACK_BASE +
				opts->num_sack_blocks * TCPOLEN_SACK_PERBLOCK));
		for (i = 0; i < opts->num_sack_blocks; i++) {
			*ptr++ = htonl(opts->sack[i].start_seq);
			*ptr++ = htonl(opts->sack[i].end_seq);
		}
	}
	if (unlikely(options & XTCP_OPT_FAST_OPEN_COOKIE)) {
		const struct tcp_fastopen_cookie *foc = opts->fastopen_cookie;
		u8 *p = (u8 *)ptr;
		u32 len;

		if (foc->exp) {
			len = TCPOLEN_EXP_FASTOPEN_BASE + foc->len;
			*ptr = htonl((TCPOPT_EXP << 24) | (len << 16) |
				     TCPOPT_FASTOPEN_MAGIC);
			p += TCPOLEN_EXP_FASTOPEN_BASE;
		} else {
			len = TCPOLEN_FASTOPEN_BASE + foc->len;
			*p++ = TCPOPT_FASTOPEN;
			*p++ = len;
		}
		memcpy(p, foc->val, foc->len);
		if ((len & 3) == 2) {
			p[foc->len] = TCPOPT_NOP;
			p[foc->len + 1] = TCPOPT_NOP;
		}
	}
}

/*
 * tcp_synack_options(): returns the options' length in bytes.  A Fast
 * Open cookie (@foc, len >= 0) goes in if it fits in what is left.
 */
static unsigned int xtcp_synack_options(struct request_sock *req,
					unsigned int mss, u64 ts_ns,
					const struct tcp_fastopen_cookie *foc,
					struct xtcp_out_options *opts)
{
	struct inet_request_sock *ireq = inet_rsk(req);
	unsigned int remaining = MAX_TCP_OPTION_SPACE;

	/* We always send an MSS option. */
	opts->mss = mss;
	remaining -= TCPOLEN_MSS_ALIGNED;
	if (likely(ireq->wscale_ok)) {
		opts->ws = ireq->rcv_wscale;
		opts->options |= XTCP_OPT_WSCALE;
		remaining -= TCPOLEN_WSCALE_ALIGNED;
	}
	if (likely(ireq->tstamp_ok)) {
		opts->options |= XTCP_OPT_TS;
		opts->tsval = (u32)div_u64(ts_ns, NSEC_PER_MSEC) +
			      tcp_rsk(req)->ts_off;
		opts->tsecr = READ_ONCE(req->ts_recent);
		remaining -= TCPOLEN_TSTAMP_ALIGNED;
	}
	if (likely(ireq->sack_ok)) {
		opts->options |= XTCP_OPT_SACK_ADVERTISE;
		if (unlikely(!ireq->tstamp_ok))
			remaining -= TCPOLEN_SACKPERM_ALIGNED;
	}
	if (foc && foc->len >= 0) {
		u32 need = foc->len;

		need += foc->exp ? TCPOLEN_EXP_FASTOPEN_BASE :
				   TCPOLEN_FASTOPEN_BASE;
		need = (need + 3) & ~3U;	/* aligned to 32 bits */
		if (remaining >= need) {
			opts->options |= XTCP_OPT_FAST_OPEN_COOKIE;
			opts->fastopen_cookie = foc;
			remaining -= need;
		}
	}
	return MAX_TCP_OPTION_SPACE - remaining;
}

/**
 * xtcp_v4_send_check - leave the TCP checksum to the device
 * @skb:   a segment whose transport header is set and whose length is
 *         the TCP header's plus payload, bytes
 * @saddr: source address of the pseudo header
 * @daddr: destination address
 *
 * __tcp_v4_send_check(): the pseudo-header sum goes in the check field
 * and CHECKSUM_PARTIAL tells the device, or skb_checksum_help(), to
 * finish it.
 */
XTCP_SEED void xtcp_v4_send_check(struct sk_buff *skb, __be32 saddr, __be32 daddr)
{
	struct tcphdr *th = tcp_hdr(skb);

	th->check = ~tcp_v4_check(skb->len, saddr, daddr, 0);
	skb->csum_start = skb_transport_header(skb) - skb->head;
	skb->csum_offset = offsetof(struct tcphdr, check);
	skb->ip_summed = CHECKSUM_PARTIAL;
}

/**
 * xtcp_make_synack - build the SYN-ACK for @req (tcp_make_synack())
 * @sk:     the listener, or the Fast Open child sending it
 * @dst:    the route to the peer; consumed
 * @req:    the request
 * @foc:    a Fast Open cookie to offer (len >= 0), or NULL
 * @synack_type: TCP_SYNACK_NORMAL, the skb owned by the request;
 *          TCP_SYNACK_COOKIE, a SYN cookie answer: no request sock stays
 *          behind, so the skb is owned by nobody and TSval carries the
 *          options; TCP_SYNACK_FASTOPEN, @sk is the Fast Open child,
 *          which owns the skb
 *
 * Return: the segment, or NULL.
 */
static XTCP_SEED struct sk_buff *xtcp_make_synack(const struct sock *sk,
						  struct dst_entry *dst,
						  struct request_sock *req,
						  const struct tcp_fastopen_cookie *foc,
						  enum tcp_synack_type synack_type)
{
	bool cookie = synack_type == TCP_SYNACK_COOKIE;
	struct inet_request_sock *ireq = inet_rsk(req);
	struct xtcp_out_options opts = {};
	struct sk_buff *skb;
	int tcp_header_size;
	struct tcphdr *th;
	u64 now, ts_ns;
	int mss;

	skb = alloc_skb(MAX_TCP_HEADER, GFP_ATOMIC);
	if (unlikely(!skb)) {
		dst_release(dst);
		return NULL;
	}
	skb_reserve(skb, MAX_TCP_HEADER);
	switch (synack_type) {
	case TCP_SYNACK_NORMAL:
		skb_set_owner_w(skb, req_to_sk(req));
		break;
	case TCP_SYNACK_COOKIE:
		/* Under a SYN flood, no socket is charged for cookie answers. */
		break;
	case TCP_SYNACK_FASTOPEN:
		/*
		 * The child, bh-locked by the caller: its sk_wmem_alloc is
		 * atomic, so the const may go (as stock's).
		 */
		skb_set_owner_w(skb, (struct sock *)sk);
		break;
	}
	skb_dst_set(skb, dst);
	/* A request sock has no sk_txhash: skb_set_owner_w() set none. */
	skb_set_hash(skb, READ_ONCE(tcp_rsk(req)->txhash), PKT_HASH_TYPE_L4);

	mss = xtcp_mss_clamp(sk, tcp_dst_advmss(dst));
	now = ktime_get_ns();
	ts_ns = now;
	if (cookie && ireq->tstamp_ok)
		ts_ns = xtcp_cookie_init_timestamp(req, now);
	else if (!tcp_rsk(req)->snt_synack)	/* first SYN-ACK: RTT start */
		tcp_rsk(req)->snt_synack = div_u64(now, NSEC_PER_USEC);

	tcp_header_size = xtcp_synack_options(req, mss, ts_ns, foc, &opts) +
			  sizeof(*th);
	skb_push(skb, tcp_header_size);
	skb_reset_transport_header(skb);

	th = (struct tcphdr *)skb->data;
	memset(th, 0, sizeof(*th));
	th->syn = 1;
	th->ack = 1;
	/* RFC 3168 section 6.1.1: ECE alone answers an ECN-setup SYN. */
	th->ece = ireq->ecn_ok;
	th->source = htons(ireq->ir_num);
	th->dest = ireq->ir_rmt_port;
	skb->mark = ireq->ir_mark;
	th->seq = htonl(tcp_rsk(req)->snt_isn);
	th->ack_seq = htonl(tcp_rsk(req)->rcv_nxt);
	/* RFC 7323 section 2.2: the window of a SYN is never scaled. */
	th->window = htons(min(req->rsk_rcv_wnd, 65535U));
	xtcp_options_write((__be32 *)(th + 1), &opts);
	th->doff = tcp_header_size >> 2;
	xtcp_inc_stats(sock_net(sk), XTCP_MIB_OUTSEGS);
	/* Leaves now, or later by the listener's TCP_TX_DELAY. */
	xtcp_skb_set_delivery_time(skb, now);
	xtcp_add_tx_delay(skb, tcp_sk(sk));
	return skb;
}

/**
 * xtcp_csk_route_req - the route for a request's replies (inet_csk_route_req())
 * @sk:  the listener
 * @fl4: flow to fill
 * @req: the request
 *
 * Return: the route, with a reference, or NULL.
 */
XTCP_SEED struct dst_entry *xtcp_csk_route_req(const struct sock *sk,
					       struct flowi4 *fl4,
					       const struct request_sock *req)
{
	const struct inet_request_sock *ireq = inet_rsk(req);
	struct net *net = read_pnet(&ireq->ireq_net);
	struct rtable *rt;

	flowi4_init_output(fl4, ireq->ir_iif, ireq->ir_mark,
			   xtcp_sk_rt_tos(sk), xtcp_sk_rt_scope(sk),
			   sk->sk_protocol, inet_sk_flowi_flags(sk),
			   ireq->ir_rmt_addr, ireq->ir_loc_addr,
			   ireq->ir_rmt_port, htons(ireq->ir_num), sk->sk_uid);
	security_req_classify_flow(req, flowi4_to_flowi_common(fl4));
	rt = ip_route_output_flow(net, fl4, sk);
	if (IS_ERR(rt)) {
		xtcp_inc_stats(net, XTCP_MIB_NOROUTE);
		return NULL;
	}
	return &rt->dst;
}

/**
 * xtcp_v4_send_synack - send (or re-send) the SYN-ACK for @req
 * @sk:     the listener, or a Fast Open child (its first SYN-ACK, and
 *          the retransmissions of its timer)
 * @dst:    a route, or NULL to look one up; consumed
 * @req:    the request
 * @foc:    a Fast Open cookie to offer, or NULL (retransmissions)
 * @synack_type: see xtcp_make_synack()
 *
 * Mirrors tcp_v4_send_synack().
 *
 * Return: 0 or a negative errno.
 */
XTCP_SEED int xtcp_v4_send_synack(const struct sock *sk, struct dst_entry *dst,
				  struct request_sock *req,
				  const struct tcp_fastopen_cookie *foc,
				  enum tcp_synack_type synack_type)
{
	const struct inet_request_sock *ireq = inet_rsk(req);
	struct sk_buff *skb;
	struct flowi4 fl4;
	u8 tos;
	int err;

	if (!dst) {
		dst = xtcp_csk_route_req(sk, &fl4, req);
		if (!dst)
			return -EHOSTUNREACH;
	}
	skb = xtcp_make_synack(sk, dst, req, foc, synack_type);
	if (!skb)
		return -ENOMEM;
	xtcp_v4_send_check(skb, ireq->ir_loc_addr, ireq->ir_rmt_addr);

	tos = READ_ONCE(sock_net(sk)->ipv4.sysctl_tcp_reflect_tos) ?
		(tcp_rsk(req)->syn_tos & ~INET_ECN_MASK) |
		(inet_sk(sk)->tos & INET_ECN_MASK) :
		inet_sk(sk)->tos;

	err = ip_build_and_send_pkt(skb, sk, ireq->ir_loc_addr,
				    ireq->ir_rmt_addr, NULL, tos);
	return net_xmit_eval(err);
}

/* Addresses, sequence space and options of one stateless reply. */
struct xtcp_reply {
	__be32	saddr, daddr;
	__be16	sport, dport;
	u32	seq, ack_seq;
	u16	window;
	u8	flags;		/* TCPHDR_* */
	u8	tos;
	bool	ts;
	u32	tsval, tsecr;
	int	oif;
	u32	mark;
	u64	transmit_time;	/* departure, or 0: xtcp_transmit_time() */
	u32	txhash;		/* the socket's flow hash, or 0: none */
};

/* A bare TCP header with @rep's fields (and TS option), no route yet. */
static struct sk_buff *xtcp_build_reply(const struct xtcp_reply *rep)
{
	int len = sizeof(struct tcphdr) + (rep->ts ? TCPOLEN_TSTAMP_ALIGNED : 0);
	struct xtcp_out_options opts = {};
	struct sk_buff *skb;
	struct tcphdr *th;

	skb = alloc_skb(MAX_TCP_HEADER, GFP_ATOMIC);
	if (!skb)
		return NULL;
	skb_reserve(skb, MAX_TCP_HEADER);
	skb_push(skb, len);
	skb_reset_transport_header(skb);
	th = tcp_hdr(skb);
	memset(th, 0, sizeof(*th));
	th->source = rep->sport;
	th->dest = rep->dport;
	th->seq = htonl(rep->seq);
	th->ack_seq = htonl(rep->ack_seq);
	tcp_flag_byte(th) = rep->flags;
	th->window = htons(rep->window);
	th->doff = len >> 2;
	if (rep->ts) {
		opts.options = XTCP_OPT_TS;
		opts.tsval = rep->tsval;
		opts.tsecr = rep->tsecr;
		xtcp_options_write((__be32 *)(th + 1), &opts);
	}
	xtcp_v4_send_check(skb, rep->saddr, rep->daddr);
	skb->mark = rep->mark;
	/* ip_send_unicast_reply(): the flow hash of the socket it speaks for. */
	if (rep->txhash)
		skb_set_hash(skb, rep->txhash, PKT_HASH_TYPE_L4);
	/* ip_send_unicast_reply()'s transmit_time: TCP_TX_DELAY. */
	if (rep->transmit_time)
		xtcp_skb_set_delivery_time(skb, rep->transmit_time);
	return skb;
}

static void xtcp_count_reply(struct net *net, const struct xtcp_reply *rep)
{
	xtcp_inc_stats(net, XTCP_MIB_OUTSEGS);
	if (rep->flags & TCPHDR_RST)
		xtcp_inc_stats(net, XTCP_MIB_OUTRSTS);
}

/*
 * Send @rep on no socket's behalf, through the namespace's control socket
 * and a route looked up for it, as ip_send_unicast_reply() does.
 */
static void xtcp_v4_send_reply(struct net *net, const struct xtcp_reply *rep)
{
	struct sk_buff *skb;
	struct flowi4 fl4;
	struct rtable *rt;

	flowi4_init_output(&fl4, rep->oif, rep->mark,
			   xtcp_reply_rt_tos(rep->tos), RT_SCOPE_UNIVERSE,
			   IPPROTO_TCP, 0, rep->daddr, rep->saddr, rep->dport,
			   rep->sport, sock_net_uid(net, NULL));
	rt = ip_route_output_key(net, &fl4);
	if (IS_ERR(rt)) {
		xtcp_inc_stats(net, XTCP_MIB_NOROUTE);
		return;
	}
	skb = xtcp_build_reply(rep);
	if (!skb) {
		ip_rt_put(rt);
		return;
	}
	skb_dst_set(skb, &rt->dst);
	xtcp_count_reply(net, rep);
	ip_build_and_send_pkt(skb, xtcp_pernet(net)->ctl_sk, rep->saddr,
			      rep->daddr, NULL, rep->tos & ~INET_ECN_MASK);
}

/* The reply to @skb comes from where it went and goes where it came from. */
static void xtcp_reply_init(struct xtcp_reply *rep, struct sk_buff *skb,
			    struct net *net)
{
	const struct iphdr *iph = ip_hdr(skb);
	const struct tcphdr *th = tcp_hdr(skb);

	memset(rep, 0, sizeof(*rep));
	rep->saddr = iph->daddr;
	rep->daddr = iph->saddr;
	rep->sport = th->dest;
	rep->dport = th->source;
	rep->tos = iph->tos;
	/*
	 * tcp_v4_sdif(), not inet_sdif(): the IP control block has moved
	 * into TCP_SKB_CB by now (xtcp_v4_fill_cb()).
	 */
	rep->oif = tcp_v4_sdif(skb) ? inet_iif(skb) : 0;
	/* ip_send_unicast_reply(): net.ipv4.fwmark_reflect. */
	rep->mark = IP4_REPLY_MARK(net, skb->mark);
}

/**
 * xtcp_v4_send_reset - answer @skb with a RST (tcp_v4_send_reset())
 * @sk:  the socket it was for, or NULL
 * @skb: the offending segment
 *
 * RFC 9293 section 3.10.7.1: a RST takes its sequence number from the
 * segment's ACK field if it has one; otherwise it has sequence number
 * zero and acknowledges everything the segment occupied.  Never answer
 * a RST with a RST.  It leaves delayed by @sk's TCP_TX_DELAY.
 */
void xtcp_v4_send_reset(const struct sock *sk, struct sk_buff *skb)
{
	const struct tcphdr *th = tcp_hdr(skb);
	struct xtcp_reply rep;
	struct net *net;

	if (th->rst)
		return;
	if (!sk && skb_rtable(skb)->rt_type != RTN_LOCAL)
		return;
	/*
	 * From the backlog the segment may have no route left
	 * (skb_dst_force() in __sk_add_backlog()); a socket knows its net.
	 */
	net = sk ? sock_net(sk) : dev_net(skb_dst(skb)->dev);
	xtcp_reply_init(&rep, skb, net);
	rep.flags = TCPHDR_RST;
	if (th->ack) {
		rep.seq = ntohl(th->ack_seq);
	} else {
		rep.flags |= TCPHDR_ACK;
		rep.ack_seq = ntohl(th->seq) + th->syn + th->fin +
			      skb->len - (th->doff << 2);
	}
	if (!rep.mark && sk && sk->sk_state == TCP_TIME_WAIT)
		rep.mark = inet_twsk(sk)->tw_mark;
	else if (!rep.mark && sk && sk_fullsock(sk))
		rep.mark = sk->sk_mark;
	if (sk)
		rep.transmit_time = xtcp_transmit_time(sk);
	if (sk && sk->sk_state == TCP_TIME_WAIT)
		rep.txhash = inet_twsk(sk)->tw_txhash;
	else if (sk && sk_fullsock(sk))
		rep.txhash = READ_ONCE(sk->sk_txhash);
	xtcp_v4_send_reply(net, &rep);
}

/**
 * xtcp_v4_timewait_ack - an ACK from a timewait sock (tcp_v4_timewait_ack())
 * @tw:  the timewait sock, referenced by the caller
 * @skb: the segment that needs it: the peer's retransmitted FIN, or one
 *       out of window
 *
 * What the connection would have sent: SND.NXT, RCV.NXT, its last
 * window (scaled) and timestamps with its offset; the socket's TOS,
 * bound device and mark.
 *
 * Context: softirq.
 */
void xtcp_v4_timewait_ack(struct xtcp_timewait_sock *tw, struct sk_buff *skb)
{
	struct tcp_timewait_sock *tcptw = &tw->tw_tcp;
	struct inet_timewait_sock *itw = &tcptw->tw_sk;
	struct net *net = twsk_net(itw);
	struct xtcp_reply rep;

	xtcp_reply_init(&rep, skb, net);
	rep.flags = TCPHDR_ACK;
	rep.seq = tcptw->tw_snd_nxt;
	rep.ack_seq = READ_ONCE(tcptw->tw_rcv_nxt);
	rep.window = tcptw->tw_rcv_wnd >> itw->tw_rcv_wscale;
	rep.tsecr = READ_ONCE(tcptw->tw_ts_recent);
	rep.ts = rep.tsecr != 0;
	rep.tsval = xtcp_time_stamp_ms() + tcptw->tw_ts_offset;
	if (itw->tw_bound_dev_if)
		rep.oif = itw->tw_bound_dev_if;
	rep.tos = itw->tw_tos;
	if (!rep.mark)
		rep.mark = itw->tw_mark;
	rep.transmit_time = xtcp_transmit_time((const struct sock *)itw);
	rep.txhash = itw->tw_txhash;
	xtcp_v4_send_reply(net, &rep);
}

/**
 * xtcp_v4_reqsk_send_ack - ACK in SYN-RECEIVED (tcp_v4_reqsk_send_ack())
 * @sk:  the listener, or a Fast Open child in SYN-RECEIVED (or
 *       FIN-WAIT-1) whose request it is (xtcp_check_req() with fastopen)
 * @skb: the segment that needs the ACK (out of window, or a challenge)
 * @req: the request
 *
 * The sequence number is the one after our SYN for a request; a Fast
 * Open child may have sent data (or its FIN) since, so its SND.NXT.
 * RFC 7323 section 2.3: every segment but a SYN carries its window
 * right-shifted by the scale we offered.
 *
 * Context: softirq, or the child's owner.
 */
void xtcp_v4_reqsk_send_ack(const struct sock *sk, struct sk_buff *skb,
			    struct request_sock *req)
{
	struct xtcp_reply rep;

	xtcp_reply_init(&rep, skb, sock_net(sk));
	rep.flags = TCPHDR_ACK;
	rep.seq = sk->sk_state == TCP_LISTEN ? tcp_rsk(req)->snt_isn + 1 :
					       tcp_sk(sk)->snd_nxt;
	rep.ack_seq = tcp_rsk(req)->rcv_nxt;
	rep.window = xtcp_synack_window(req) >> inet_rsk(req)->rcv_wscale;
	rep.tsecr = READ_ONCE(req->ts_recent);
	rep.ts = rep.tsecr != 0;
	rep.tsval = xtcp_time_stamp_ms() + tcp_rsk(req)->ts_off;
	if (!rep.mark)
		rep.mark = inet_rsk(req)->ir_mark;
	/* The listener's delay, as stock's (tcp_v4_send_ack() of sk). */
	rep.transmit_time = xtcp_transmit_time(sk);
	rep.txhash = READ_ONCE(tcp_rsk(req)->txhash);
	xtcp_v4_send_reply(sock_net(sk), &rep);
}

/*
 * The control socket: a raw IPPROTO_TCP kernel socket that is never
 * hashed, so it receives nothing; stock TCP sets its own up the same way
 * (tcp_sk_init()).  Path MTU discovery on: replies carry DF.
 */
int xtcp_ctl_sock_init(struct xtcp_net *xn)
{
	int err;

	err = inet_ctl_sock_create(&xn->ctl_sk, PF_INET, SOCK_RAW,
				   IPPROTO_TCP, xn->net);
	if (err)
		return err;
	inet_sk(xn->ctl_sk)->pmtudisc = IP_PMTUDISC_DO;
	return 0;
}

void xtcp_ctl_sock_exit(struct xtcp_net *xn)
{
	inet_ctl_sock_destroy(xn->ctl_sk);
}
