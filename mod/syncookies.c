// SPDX-License-Identifier: GPL-2.0
/*
 * xtcp: SYN cookies (RFC 4987 section 3.6).
 *
 * When the SYN queue is full (or net.xtcp.syncookies=2) the SYN-ACK's ISN
 * encodes what the request would have remembered, and no state is kept;
 * a valid cookie in the third ACK creates the connection directly.
 * Mirrors net/ipv4/syncookies.c: ISN = H1 + peer ISN + (minute << 24) +
 * (H2(minute) + MSS index) mod 2^24, with SipHash and xtcp's own keys.
 * With timestamps, the low 6 bits of TSval carry window scale, SACK and
 * ECN, which the peer echoes in TSecr.
 */
#include <linux/random.h>
#include <linux/siphash.h>
#include <net/inet_ecn.h>
#include <net/route.h>
#include <net/sock_reuseport.h>
#include <net/tcp.h>

#include "xtcp.h"

static siphash_aligned_key_t xtcp_syncookie_secret[2];

#define COOKIEBITS	24	/* upper bits store the minute */
#define COOKIEMASK	(((u32)1 << COOKIEBITS) - 1)

/* In TSval's low 6 bits: wscale (0xf: none), SACK, ECN. */
#define TS_OPT_WSCALE_MASK	0xf
#define TS_OPT_SACK		BIT(4)
#define TS_OPT_ECN		BIT(5)
#define TSBITS			6

/* The MSS values a cookie can encode: 2 bits (syncookies.c's msstab). */
static const u16 xtcp_msstab[] = { 536, 1300, 1440, 1460 };

/**
 * xtcp_syncookie_init() - draw the SYN cookie secrets
 *
 * Context: module init, process context, before the receive handler is
 * registered.
 *
 * Stock's cookie_hash() draws syncookie_secret with net_get_random_once()
 * on the first cookie, because a built-in TCP may run before the RNG is
 * seeded.  A module loads after boot, and a DO_ONCE's static key would be
 * turned off by text_poke_bp() on xtcp's own text under the SYN flood that
 * made the first cookie (one per module load); as xtcp_isn_init(), draw
 * the secrets here instead.
 */
void xtcp_syncookie_init(void)
{
	get_random_bytes(xtcp_syncookie_secret, sizeof(xtcp_syncookie_secret));
}

static u32 xtcp_cookie_hash(__be32 saddr, __be32 daddr, __be16 sport,
			    __be16 dport, u32 count, int c)
{
	return siphash_4u32((__force u32)saddr, (__force u32)daddr,
			    (__force u32)sport << 16 | (__force u32)dport,
			    count, &xtcp_syncookie_secret[c]);
}

/* The minute counter cookies are stamped with (tcp_cookie_time()). */
static u32 xtcp_cookie_time(void)
{
	u64 val = get_jiffies_64();

	do_div(val, TCP_SYNCOOKIE_PERIOD);
	return val;
}

static u32 xtcp_secure_syn_cookie(__be32 saddr, __be32 daddr, __be16 sport,
				  __be16 dport, u32 sseq, u32 data)
{
	u32 count = xtcp_cookie_time();

	return xtcp_cookie_hash(saddr, daddr, sport, dport, 0, 0) + sseq +
	       (count << COOKIEBITS) +
	       ((xtcp_cookie_hash(saddr, daddr, sport, dport, count, 1) + data)
		& COOKIEMASK);
}

/* The MSS index a cookie carries, or (u32)-1 if stale or forged. */
static u32 xtcp_check_syn_cookie(u32 cookie, __be32 saddr, __be32 daddr,
				 __be16 sport, __be16 dport, u32 sseq)
{
	u32 diff, count = xtcp_cookie_time();

	cookie -= xtcp_cookie_hash(saddr, daddr, sport, dport, 0, 0) + sseq;
	diff = (count - (cookie >> COOKIEBITS)) & ((u32)-1 >> COOKIEBITS);
	if (diff >= MAX_SYNCOOKIE_AGE)
		return (u32)-1;
	return (cookie -
		xtcp_cookie_hash(saddr, daddr, sport, dport, count - diff, 1)) &
	       COOKIEMASK;
}

/*
 * Where a listener remembers its last cookie: the reuseport group's
 * stamp, shared by the group as in stock (the ACK may be steered to
 * another member), else the socket's own.  Jiffies, truncated to 32 bits
 * like stock's rx_opt.ts_recent_stamp.
 */
static unsigned int *xtcp_synq_overflow_ts(const struct sock *sk)
{
	struct sock_reuseport *reuse;

	if (sk->sk_reuseport) {
		reuse = rcu_dereference(sk->sk_reuseport_cb);
		if (likely(reuse))
			return &reuse->synq_overflow_ts;
	}
	/* Stock's place too: a listener has no use for the field. */
	return (unsigned int *)&tcp_sk(sk)->rx_opt.ts_recent_stamp;
}

/* tcp_synq_overflow(): remember when the listener last sent cookies. */
static void xtcp_synq_overflow(struct sock *sk)
{
	unsigned int *ts = xtcp_synq_overflow_ts(sk);
	unsigned int last = READ_ONCE(*ts);
	unsigned int now = jiffies;

	if (!time_between32(now, last, last + HZ))
		WRITE_ONCE(*ts, now);
}

/*
 * tcp_synq_no_recent_overflow(): no cookie sent for two minutes.  The
 * lower bound is last - HZ because a concurrent xtcp_synq_overflow() may
 * store a newer stamp after we read jiffies.  As in stock, a listener
 * that never sent a cookie has stamp 0, so while the 32-bit jiffies are
 * within [-HZ, TCP_SYNCOOKIE_VALID] (from 299 s to 420 s of uptime, as
 * jiffies start at -300 s) every listener counts as flooded and a stray
 * ACK is checked as a cookie (SyncookiesFailed); parity keeps the quirk.
 */
static bool xtcp_synq_no_recent_overflow(const struct sock *sk)
{
	unsigned int last = READ_ONCE(*xtcp_synq_overflow_ts(sk));
	unsigned int now = jiffies;

	return !time_between32(now, last - HZ, last + TCP_SYNCOOKIE_VALID);
}

/**
 * xtcp_cookie_v4_init_sequence - the ISN that encodes @skb's request
 * @sk:   the listener
 * @skb:  the SYN
 * @mssp: in: the peer's MSS; out: the MSS the cookie can carry
 *
 * Return: the cookie ISN.
 */
u32 xtcp_cookie_v4_init_sequence(struct sock *sk, const struct sk_buff *skb,
				 u16 *mssp)
{
	const struct iphdr *iph = ip_hdr(skb);
	const struct tcphdr *th = tcp_hdr(skb);
	int mssind;

	xtcp_synq_overflow(sk);
	for (mssind = ARRAY_SIZE(xtcp_msstab) - 1; mssind; mssind--)
		if (*mssp >= xtcp_msstab[mssind])
			break;
	*mssp = xtcp_msstab[mssind];
	return xtcp_secure_syn_cookie(iph->saddr, iph->daddr, th->source,
				      th->dest, ntohl(th->seq), mssind);
}

/**
 * xtcp_cookie_init_timestamp - TSval (in ns) that carries the options
 * @req:    the request being answered with a cookie
 * @now_ns: the clock now
 *
 * Return: a time no later than @now_ns whose millisecond count ends in
 * the 6 option bits.
 */
u64 xtcp_cookie_init_timestamp(struct request_sock *req, u64 now_ns)
{
	const struct inet_request_sock *ireq = inet_rsk(req);
	u64 ts, ts_now = div_u64(now_ns, NSEC_PER_MSEC);
	u32 options;

	options = ireq->wscale_ok ? ireq->snd_wscale : TS_OPT_WSCALE_MASK;
	if (ireq->sack_ok)
		options |= TS_OPT_SACK;
	if (ireq->ecn_ok)
		options |= TS_OPT_ECN;

	ts = (ts_now >> TSBITS) << TSBITS;
	ts |= options;
	if (ts > ts_now)
		ts -= (1UL << TSBITS);
	return ts * NSEC_PER_MSEC;
}

/* cookie_timestamp_decode(): the options the echoed TSval carries. */
static bool xtcp_cookie_timestamp_decode(const struct xtcp_sysctl *s,
					 struct tcp_options_received *opt)
{
	u32 options = opt->rcv_tsecr;

	if (!opt->saw_tstamp) {
		tcp_clear_options(opt);
		return true;
	}
	if (!READ_ONCE(s->timestamps))
		return false;
	opt->sack_ok = (options & TS_OPT_SACK) ? TCP_SACK_SEEN : 0;
	if (opt->sack_ok && !READ_ONCE(s->sack))
		return false;
	if ((options & TS_OPT_WSCALE_MASK) == TS_OPT_WSCALE_MASK)
		return true;	/* no window scaling */
	opt->wscale_ok = 1;
	opt->snd_wscale = options & TS_OPT_WSCALE_MASK;
	return READ_ONCE(s->window_scaling) != 0;
}

static bool xtcp_cookie_ecn_ok(const struct tcp_options_received *opt,
			       const struct xtcp_sysctl *s,
			       const struct dst_entry *dst)
{
	if (!(opt->rcv_tsecr & TS_OPT_ECN))
		return false;
	return READ_ONCE(s->ecn) || dst_feature(dst, RTAX_FEATURE_ECN);
}

/* The request a valid cookie ACK stands for, rebuilt from the ACK. */
static struct request_sock *xtcp_cookie_reqsk(struct sock *sk,
					      struct sk_buff *skb, u32 cookie,
					      int mss,
					      const struct tcp_options_received *opt)
{
	const struct tcphdr *th = tcp_hdr(skb);
	struct inet_request_sock *ireq;
	struct tcp_request_sock *treq;
	struct request_sock *req;

	req = xtcp_reqsk_alloc(sk, true);
	if (!req)
		return NULL;
	ireq = inet_rsk(req);
	treq = tcp_rsk(req);
	treq->rcv_isn = ntohl(th->seq) - 1;
	treq->rcv_nxt = treq->rcv_isn + 1;
	treq->snt_isn = cookie;
	treq->txhash = net_tx_rndhash();
	treq->ts_off = 0;
	treq->snt_synack = 0;
	treq->last_oow_ack_time = 0;
	req->mss = mss;
	req->syncookie = 1;
	req->num_retrans = 0;
	ireq->ir_num = ntohs(th->dest);
	ireq->ir_rmt_port = th->source;
	sk_rcv_saddr_set(req_to_sk(req), ip_hdr(skb)->daddr);
	sk_daddr_set(req_to_sk(req), ip_hdr(skb)->saddr);
	ireq->ir_mark = inet_request_mark(sk, skb);
	ireq->snd_wscale = opt->snd_wscale;
	ireq->sack_ok = opt->sack_ok;
	ireq->wscale_ok = opt->wscale_ok;
	ireq->tstamp_ok = opt->saw_tstamp;
	ireq->acked = 0;
	req->ts_recent = opt->saw_tstamp ? opt->rcv_tsval : 0;
	ireq->ir_iif = inet_request_bound_dev_if(sk, skb);
	return req;
}

/*
 * tcp_get_cookie_sock(): the child, straight onto the accept queue.  A
 * listener that stopped listening meanwhile resets the child, and the
 * request, never hashed, is freed here whatever its refcount.
 */
static struct sock *xtcp_get_cookie_sock(struct sock *sk, struct sk_buff *skb,
					 struct request_sock *req,
					 struct dst_entry *dst, u32 tsoff)
{
	struct sock *child;
	bool own_req;

	child = xtcp_syn_recv_sock(sk, skb, req, dst, NULL, &own_req);
	if (child) {
		refcount_set(&req->rsk_refcnt, 1);
		tcp_sk(child)->tsoffset = tsoff;
		sock_rps_save_rxhash(child, skb);
		if (xtcp_csk_reqsk_queue_add(sk, req, child))
			return child;
		xtcp_child_locked(child);
		bh_unlock_sock(child);
		sock_put(child);
	}
	/*
	 * __reqsk_free(), as tcp_get_cookie_sock(): the request may hold
	 * the refcount of 1 set above, which reqsk_free() would WARN about.
	 */
	__reqsk_free(req);
	return NULL;
}

/**
 * xtcp_cookie_v4_check - a third ACK that may carry a SYN cookie
 * @sk:  the listener
 * @skb: an ACK without SYN or RST, validated
 *
 * Mirrors cookie_v4_check().
 * Return: @sk when the ACK is not a cookie ACK (the listener answers it),
 * NULL when it was a cookie but no connection came of it, or the new
 * child, locked and referenced.
 */
struct sock *xtcp_cookie_v4_check(struct sock *sk, struct sk_buff *skb)
{
	const struct xtcp_sysctl *s = &xtcp_pernet(sock_net(sk))->sysctl;
	const struct tcphdr *th = tcp_hdr(skb);
	u32 cookie = ntohl(th->ack_seq) - 1;
	struct tcp_options_received opt = {};
	struct inet_request_sock *ireq;
	struct net *net = sock_net(sk);
	struct request_sock *req;
	struct sock *child;
	int mss;
	u32 tsoff = 0, mssind;
	struct rtable *rt;
	struct flowi4 fl4;

	if (!READ_ONCE(s->syncookies) || !th->ack || th->rst)
		return sk;
	if (xtcp_synq_no_recent_overflow(sk))
		return sk;

	mssind = xtcp_check_syn_cookie(cookie, ip_hdr(skb)->saddr,
				       ip_hdr(skb)->daddr, th->source,
				       th->dest, ntohl(th->seq) - 1);
	if (mssind >= ARRAY_SIZE(xtcp_msstab)) {
		xtcp_inc_stats(net, XTCP_MIB_SYNCOOKIESFAILED);
		return sk;
	}
	mss = xtcp_msstab[mssind];
	xtcp_inc_stats(net, XTCP_MIB_SYNCOOKIESRECV);

	if (!xtcp_parse_options(net, skb, &opt, 0, NULL))
		xtcp_inc_stats(net, XTCP_MIB_INOPTERRORS);
	if (opt.saw_tstamp && opt.rcv_tsecr) {
		tsoff = xtcp_init_ts_off(net, skb);
		opt.rcv_tsecr -= tsoff;
	}
	if (!xtcp_cookie_timestamp_decode(s, &opt))
		return sk;

	req = xtcp_cookie_reqsk(sk, skb, cookie, mss, &opt);
	if (!req)
		return NULL;
	ireq = inet_rsk(req);
	if (security_inet_conn_request(sk, skb, req))
		goto free;

	/* The SYN's route, looked up again to choose the same window. */
	flowi4_init_output(&fl4, ireq->ir_iif, ireq->ir_mark,
			   xtcp_sk_rt_tos(sk), xtcp_sk_rt_scope(sk),
			   IPPROTO_TCP, inet_sk_flowi_flags(sk),
			   ireq->ir_rmt_addr, ireq->ir_loc_addr, th->source,
			   th->dest, sk->sk_uid);
	security_req_classify_flow(req, flowi4_to_flowi_common(&fl4));
	rt = ip_route_output_key(net, &fl4);
	if (IS_ERR(rt))
		goto free;

	xtcp_req_select_window(req, sk, &rt->dst, req->mss);
	ireq->ecn_ok = xtcp_cookie_ecn_ok(&opt, s, &rt->dst);

	child = xtcp_get_cookie_sock(sk, skb, req, &rt->dst, tsoff);
	/* A later ip_queue_xmit() needs the flow the route came from. */
	if (child)
		inet_sk(child)->cork.fl.u.ip4 = fl4;
	return child;
free:
	reqsk_free(req);
	return NULL;
}
