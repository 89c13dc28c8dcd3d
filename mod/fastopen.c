// SPDX-License-Identifier: GPL-2.0
/*
 * xtcp: TCP Fast Open on the passive side (RFC 7413), as
 * net/ipv4/tcp_fastopen.c: the keys, per namespace (net.xtcp.fastopen_key)
 * and per socket (TCP_FASTOPEN_KEY), a listener's Fast Open queue
 * (TCP_FASTOPEN, or listen() with net.xtcp.fastopen's 0x400 bit), the
 * cookie a SYN is answered with, and the child a valid cookie makes at
 * SYN time (xtcp_try_fastopen(), xtcp_fastopen_create_child()), which
 * holds its request as fastopen_rsk until the third ACK or its end
 * (xtcp_reqsk_fastopen_remove(); Documentation/design.rst, "TCP Fast
 * Open").
 *
 * A key set is stock's struct tcp_fastopen_context: a primary key, the
 * one that makes cookies, and an optional backup key that cookies are
 * also checked against (key rotation).  A namespace's set lives in
 * xtcp_net.fastopen_ctx, a socket's in the field stock keeps it in,
 * icsk_accept_queue.fastopenq.ctx; a listener uses its own set if it has
 * one, else its namespace's (xtcp_fastopen_get_ctx()).
 *
 * Concurrency, as stock's: a set is never changed in place.  A writer
 * (the sysctl, setsockopt(TCP_FASTOPEN_KEY), the first TCP_FASTOPEN or
 * listen() of a namespace) builds a new one and publishes it with
 * xchg(), with no lock held: concurrent writers each replace a whole set
 * and the last one stands, as in stock.  The set replaced is freed
 * after an RCU grace period (call_rcu()), so that readers -- the SYN
 * path in softirq, getsockopt() and the sysctl's read in process
 * context -- use a set only inside rcu_read_lock() and never see it
 * freed.  A socket's own set is freed with the socket
 * (xtcp_sock_destruct()), a namespace's with the namespace; the module's
 * exit waits for the callbacks (rcu_barrier()).
 */
#include <linux/random.h>
#include <linux/siphash.h>
#include <linux/slab.h>
#include <linux/sysctl.h>
#include <net/busy_poll.h>
#include <net/tcp.h>

#include "xtcp.h"

static void xtcp_fastopen_ctx_free(struct rcu_head *head)
{
	struct tcp_fastopen_context *ctx =
		container_of(head, struct tcp_fastopen_context, rcu);

	kfree_sensitive(ctx);
}

/**
 * xtcp_fastopen_reset_cipher - publish a new key set (tcp_fastopen_reset_cipher())
 * @xn:          the namespace, for its own set when @sk is NULL
 * @sk:          a socket, for its own set (TCP_FASTOPEN_KEY), or NULL
 * @primary_key: TCP_FASTOPEN_KEY_LENGTH bytes, little-endian words
 * @backup_key:  as many more, or NULL for a set of one key
 *
 * Context: process context, no lock needed (see the top of this file).
 * Return: 0 or -ENOMEM.
 */
int xtcp_fastopen_reset_cipher(struct xtcp_net *xn, struct sock *sk,
			       const void *primary_key, const void *backup_key)
{
	struct tcp_fastopen_context *ctx, *octx;

	ctx = kmalloc(sizeof(*ctx), GFP_KERNEL);
	if (!ctx)
		return -ENOMEM;
	ctx->key[0].key[0] = get_unaligned_le64(primary_key);
	ctx->key[0].key[1] = get_unaligned_le64(primary_key + 8);
	if (backup_key) {
		ctx->key[1].key[0] = get_unaligned_le64(backup_key);
		ctx->key[1].key[1] = get_unaligned_le64(backup_key + 8);
		ctx->num = 2;
	} else {
		ctx->num = 1;
	}
	if (sk)
		octx = unrcu_pointer(xchg(&inet_csk(sk)->icsk_accept_queue.fastopenq.ctx,
					  RCU_INITIALIZER(ctx)));
	else
		octx = unrcu_pointer(xchg(&xn->fastopen_ctx,
					  RCU_INITIALIZER(ctx)));
	if (octx)
		call_rcu(&octx->rcu, xtcp_fastopen_ctx_free);
	return 0;
}

/*
 * tcp_fastopen_get_cipher(): the keys of @icsk's own set, or with @icsk
 * NULL of the namespace's, into @key as little-endian words; how many.
 */
static int xtcp_fastopen_get_cipher(struct xtcp_net *xn,
				    struct inet_connection_sock *icsk, u64 *key)
{
	struct tcp_fastopen_context *ctx;
	int n_keys = 0, i;

	rcu_read_lock();
	if (icsk)
		ctx = rcu_dereference(icsk->icsk_accept_queue.fastopenq.ctx);
	else
		ctx = rcu_dereference(xn->fastopen_ctx);
	if (ctx) {
		n_keys = ctx->num;
		for (i = 0; i < n_keys; i++) {
			put_unaligned_le64(ctx->key[i].key[0], key + (i * 2));
			put_unaligned_le64(ctx->key[i].key[1], key + (i * 2) + 1);
		}
	}
	rcu_read_unlock();
	return n_keys;
}

/*
 * tcp_fastopen_init_key_once(): a random key for the namespace, unless
 * it has one.  Two first callers may both publish one; the last stands,
 * as in stock (no cookie was made with the other yet).
 */
static void xtcp_fastopen_init_key_once(struct xtcp_net *xn)
{
	u8 key[TCP_FASTOPEN_KEY_LENGTH];

	if (rcu_access_pointer(xn->fastopen_ctx))
		return;
	get_random_bytes(key, sizeof(key));
	xtcp_fastopen_reset_cipher(xn, NULL, key, NULL);
	memzero_explicit(key, sizeof(key));
}

/**
 * xtcp_fastopen_destroy_cipher - free a socket's own key set
 * @sk: the socket, unreachable (tcp_fastopen_destroy_cipher())
 */
void xtcp_fastopen_destroy_cipher(struct sock *sk)
{
	struct tcp_fastopen_context *ctx;

	ctx = rcu_dereference_protected(inet_csk(sk)->icsk_accept_queue.fastopenq.ctx,
					1);
	if (ctx)
		call_rcu(&ctx->rcu, xtcp_fastopen_ctx_free);
}

/**
 * xtcp_fastopen_ctx_destroy - free a namespace's key set
 * @xn: the namespace, going away (tcp_fastopen_ctx_destroy())
 */
void xtcp_fastopen_ctx_destroy(struct xtcp_net *xn)
{
	struct tcp_fastopen_context *ctx;

	ctx = unrcu_pointer(xchg(&xn->fastopen_ctx, NULL));
	if (ctx)
		call_rcu(&ctx->rcu, xtcp_fastopen_ctx_free);
}

/**
 * xtcp_fastopen_listen - Fast Open for a socket that starts listening
 * @sk:      the socket, locked, not yet listening
 * @backlog: listen()'s backlog
 *
 * inet_listen(): with net.xtcp.fastopen's TFO_SERVER_WO_SOCKOPT1 and
 * TFO_SERVER_ENABLE bits, a listener whose Fast Open queue TCP_FASTOPEN
 * did not size (or a shutdown() left sized) gets one of the backlog's
 * length, and the namespace a key.
 */
void xtcp_fastopen_listen(struct sock *sk, int backlog)
{
	struct xtcp_net *xn = xtcp_pernet(sock_net(sk));
	int tfo = READ_ONCE(xn->sysctl.fastopen);

	if ((tfo & TFO_SERVER_WO_SOCKOPT1) && (tfo & TFO_SERVER_ENABLE) &&
	    !inet_csk(sk)->icsk_accept_queue.fastopenq.max_qlen) {
		fastopen_queue_tune(sk, backlog);
		xtcp_fastopen_init_key_once(xn);
	}
}

/**
 * xtcp_setsockopt_fastopen - TCP_FASTOPEN
 * @sk:  the socket, locked
 * @val: the Fast Open queue's length (capped at net.core.somaxconn)
 *
 * Also gives the namespace a key if it has none.
 *
 * Return: 0, or -EINVAL for a negative length or a socket neither closed
 * nor listening.
 */
int xtcp_setsockopt_fastopen(struct sock *sk, int val)
{
	if (val < 0 || !((1 << sk->sk_state) & (TCPF_CLOSE | TCPF_LISTEN)))
		return -EINVAL;
	xtcp_fastopen_init_key_once(xtcp_pernet(sock_net(sk)));
	fastopen_queue_tune(sk, val);
	return 0;
}

/**
 * xtcp_setsockopt_fastopen_key - TCP_FASTOPEN_KEY
 * @sk:     the socket, in any state; not locked (as stock)
 * @optval: a key of 16 bytes, or the primary and the backup key
 * @optlen: 16 or 32
 *
 * The socket's own key set, which a listener uses instead of its
 * namespace's.
 *
 * Return: 0, -EINVAL for another length, -EFAULT, -ENOMEM.
 */
int xtcp_setsockopt_fastopen_key(struct sock *sk, sockptr_t optval,
				 unsigned int optlen)
{
	u8 key[TCP_FASTOPEN_KEY_BUF_LENGTH];
	u8 *backup_key = NULL;
	int err;

	if (optlen != TCP_FASTOPEN_KEY_LENGTH &&
	    optlen != TCP_FASTOPEN_KEY_BUF_LENGTH)
		return -EINVAL;
	if (copy_from_sockptr(key, optval, optlen))
		return -EFAULT;
	if (optlen == TCP_FASTOPEN_KEY_BUF_LENGTH)
		backup_key = key + TCP_FASTOPEN_KEY_LENGTH;
	err = xtcp_fastopen_reset_cipher(xtcp_pernet(sock_net(sk)), sk, key,
					 backup_key);
	memzero_explicit(key, sizeof(key));
	return err;
}

/**
 * xtcp_getsockopt_fastopen_key - TCP_FASTOPEN_KEY read back
 * @sk:     the socket
 * @optval: where the keys go
 * @optlen: the caller's length, in; what was written, out
 *
 * The socket's own keys only (none: a length of 0), as stock.
 *
 * Return: 0 or -EFAULT.
 */
int xtcp_getsockopt_fastopen_key(struct sock *sk, char __user *optval,
				 int __user *optlen)
{
	u64 key[TCP_FASTOPEN_KEY_BUF_LENGTH / sizeof(u64)];
	unsigned int key_len;
	int len, err = 0;

	if (get_user(len, optlen))
		return -EFAULT;
	key_len = xtcp_fastopen_get_cipher(xtcp_pernet(sock_net(sk)),
					   inet_csk(sk), key) *
		  TCP_FASTOPEN_KEY_LENGTH;
	len = min_t(unsigned int, len, key_len);
	if (put_user(len, optlen) || copy_to_user(optval, key, len))
		err = -EFAULT;
	memzero_explicit(key, sizeof(key));
	return err;
}

/* sysctl_net_ipv4.c's sscanf_key(): "%x-%x-%x-%x", little-endian words. */
static int xtcp_sscanf_key(char *buf, __le32 *key)
{
	u32 user_key[4];
	int i;

	if (sscanf(buf, "%x-%x-%x-%x", user_key, user_key + 1,
		   user_key + 2, user_key + 3) != 4)
		return -EINVAL;
	for (i = 0; i < ARRAY_SIZE(user_key); i++)
		key[i] = cpu_to_le32(user_key[i]);
	return 0;
}

/**
 * xtcp_proc_fastopen_key - net.xtcp.fastopen_key (proc_tcp_fastopen_key())
 * @table:  its table entry; data is the namespace's struct xtcp_net
 * @write:  a write
 * @buffer: user text
 * @lenp:   its length
 * @ppos:   file position
 *
 * Read: the namespace's keys as four 32-bit hex words joined by dashes,
 * the backup key after a comma; zeros while there is no key.  Write: a
 * key, or "primary,backup", in that form; the set replaces the
 * namespace's whole (see the top of this file).
 *
 * Return: 0, -EINVAL for a key not in that form, -ENOMEM.
 */
int xtcp_proc_fastopen_key(xtcp_ctl_table *table, int write, void *buffer,
			   size_t *lenp, loff_t *ppos)
{
	struct xtcp_net *xn = table->data;
	struct ctl_table tbl = { .maxlen = ((TCP_FASTOPEN_KEY_LENGTH *
					    2 * TCP_FASTOPEN_KEY_MAX) +
					    (TCP_FASTOPEN_KEY_MAX * 5)) };
	u32 user_key[TCP_FASTOPEN_KEY_BUF_LENGTH / sizeof(u32)];
	__le32 key[TCP_FASTOPEN_KEY_BUF_LENGTH / sizeof(__le32)];
	char *backup_data;
	int ret, i = 0, off = 0, n_keys;

	tbl.data = kmalloc(tbl.maxlen, GFP_KERNEL);
	if (!tbl.data)
		return -ENOMEM;

	n_keys = xtcp_fastopen_get_cipher(xn, NULL, (u64 *)key);
	if (!n_keys) {
		memset(&key[0], 0, TCP_FASTOPEN_KEY_LENGTH);
		n_keys = 1;
	}
	for (i = 0; i < n_keys * 4; i++)
		user_key[i] = le32_to_cpu(key[i]);
	for (i = 0; i < n_keys; i++) {
		off += snprintf(tbl.data + off, tbl.maxlen - off,
				"%08x-%08x-%08x-%08x", user_key[i * 4],
				user_key[i * 4 + 1], user_key[i * 4 + 2],
				user_key[i * 4 + 3]);
		if (WARN_ON_ONCE(off >= tbl.maxlen - 1))
			break;
		if (i + 1 < n_keys)
			off += snprintf(tbl.data + off, tbl.maxlen - off, ",");
	}

	ret = proc_dostring(&tbl, write, buffer, lenp, ppos);
	if (write && ret == 0) {
		backup_data = strchr(tbl.data, ',');
		if (backup_data) {
			*backup_data = '\0';
			backup_data++;
		}
		if (xtcp_sscanf_key(tbl.data, key) ||
		    (backup_data && xtcp_sscanf_key(backup_data, key + 4))) {
			ret = -EINVAL;
			goto out;
		}
		xtcp_fastopen_reset_cipher(xn, NULL, key,
					   backup_data ? key + 4 : NULL);
	}
out:
	memzero_explicit(user_key, sizeof(user_key));
	memzero_explicit(key, sizeof(key));
	kfree_sensitive(tbl.data);
	return ret;
}

/*
 * tcp_fastopen_get_ctx(): the listener's own key set, else its
 * namespace's.  Under rcu_read_lock().
 */
static struct tcp_fastopen_context *xtcp_fastopen_get_ctx(const struct sock *sk)
{
	struct tcp_fastopen_context *ctx;

	ctx = rcu_dereference(inet_csk(sk)->icsk_accept_queue.fastopenq.ctx);
	if (!ctx)
		ctx = rcu_dereference(xtcp_pernet(sock_net(sk))->fastopen_ctx);
	return ctx;
}

/*
 * __tcp_fastopen_cookie_gen_cipher(): the cookie is SipHash of the SYN's
 * source and destination addresses, as they lie in the IP header, under
 * @key; little-endian, 8 bytes.
 */
static void xtcp_fastopen_cookie_gen_cipher(const struct sk_buff *syn,
					    const siphash_key_t *key,
					    struct tcp_fastopen_cookie *foc)
{
	const struct iphdr *iph = ip_hdr(syn);

	BUILD_BUG_ON(sizeof(u64) != TCP_FASTOPEN_COOKIE_SIZE);
	foc->val[0] = cpu_to_le64(siphash(&iph->saddr,
					  sizeof(iph->saddr) + sizeof(iph->daddr),
					  key));
	foc->len = TCP_FASTOPEN_COOKIE_SIZE;
}

/* tcp_fastopen_cookie_gen(): the cookie of the primary key, if any. */
static void xtcp_fastopen_cookie_gen(const struct sock *sk,
				     const struct sk_buff *syn,
				     struct tcp_fastopen_cookie *foc)
{
	struct tcp_fastopen_context *ctx;

	rcu_read_lock();
	ctx = xtcp_fastopen_get_ctx(sk);
	if (ctx)
		xtcp_fastopen_cookie_gen_cipher(syn, &ctx->key[0], foc);
	rcu_read_unlock();
}

/*
 * tcp_fastopen_cookie_gen_check(): @orig checked against the cookie of
 * each key; @valid_foc gets the primary key's.  Returns 0 if none
 * matched, 1 for the primary key, 2 for the backup.
 */
static int xtcp_fastopen_cookie_gen_check(const struct sock *sk,
					  const struct sk_buff *syn,
					  const struct tcp_fastopen_cookie *orig,
					  struct tcp_fastopen_cookie *valid_foc)
{
	struct tcp_fastopen_cookie search_foc = { .len = -1 };
	struct tcp_fastopen_cookie *foc = valid_foc;
	struct tcp_fastopen_context *ctx;
	int i, ret = 0;

	rcu_read_lock();
	ctx = xtcp_fastopen_get_ctx(sk);
	if (!ctx)
		goto out;
	for (i = 0; i < ctx->num; i++) {
		xtcp_fastopen_cookie_gen_cipher(syn, &ctx->key[i], foc);
		if (tcp_fastopen_cookie_match(foc, orig)) {
			ret = i + 1;
			goto out;
		}
		foc = &search_foc;
	}
out:
	rcu_read_unlock();
	return ret;
}

/*
 * tcp_fastopen_queue_check(): the listener has a Fast Open queue with
 * room.  A full queue first frees the oldest request a RST ended whose
 * 60 s are over (fastopenq.rskq_rst_head, xtcp_reqsk_fastopen_remove()).
 */
static bool xtcp_fastopen_queue_check(struct sock *sk)
{
	struct fastopen_queue *fastopenq =
		&inet_csk(sk)->icsk_accept_queue.fastopenq;
	int max_qlen = READ_ONCE(fastopenq->max_qlen);
	struct request_sock *req1;

	if (max_qlen == 0)
		return false;
	if (fastopenq->qlen >= max_qlen) {
		spin_lock(&fastopenq->lock);
		req1 = fastopenq->rskq_rst_head;
		if (!req1 || time_after(req1->rsk_timer.expires, jiffies)) {
			xtcp_inc_stats(sock_net(sk),
				       XTCP_MIB_TCPFASTOPENLISTENOVERFLOW);
			spin_unlock(&fastopenq->lock);
			return false;
		}
		fastopenq->rskq_rst_head = req1->dl_next;
		fastopenq->qlen--;
		spin_unlock(&fastopenq->lock);
		reqsk_put(req1);
	}
	return true;
}

/*
 * tcp_fastopen_no_cookie(): SYN data is taken without a cookie, by
 * net.xtcp.fastopen's @flag, the listener's TCP_FASTOPEN_NO_COOKIE or
 * the route's fastopen_no_cookie.
 */
static bool xtcp_fastopen_no_cookie(const struct sock *sk,
				    const struct dst_entry *dst, int flag)
{
	return (READ_ONCE(xtcp_pernet(sock_net(sk))->sysctl.fastopen) & flag) ||
	       tcp_sk(sk)->fastopen_no_cookie ||
	       (dst && dst_metric(dst, RTAX_FASTOPEN_NO_COOKIE));
}

/**
 * xtcp_fastopen_add_skb - the SYN's data to a Fast Open child (tcp_fastopen_add_skb())
 * @sk:  the child, bh-locked, not yet visible (or its own process's)
 * @skb: the SYN; a clone of it is queued, the SYN itself stays the caller's
 *
 * The data (and a FIN with it) go to the receive queue as the segment
 * after the SYN: rcv_nxt moves past them, the SYN-ACK acknowledges them
 * (syn_data_acked).  A clone that cannot be had leaves the data
 * unacknowledged; the client sends it again.
 */
void xtcp_fastopen_add_skb(struct sock *sk, struct sk_buff *skb)
{
	struct tcp_sock *tp = tcp_sk(sk);

	if (TCP_SKB_CB(skb)->end_seq == tp->rcv_nxt)
		return;
	skb = skb_clone(skb, GFP_ATOMIC);
	if (!skb)
		return;
	/* tcp_cleanup_skb(): nothing of the route or IPsec stays queued. */
	skb_dst_drop(skb);
	secpath_reset(skb);
	/*
	 * xtcp_create_openreq_child() counted the SYN in segs_in; count it
	 * again with its data (tcp_segs_in() wants the header in skb->len).
	 */
	tp->segs_in = 0;
	tcp_segs_in(tp, skb);
	__skb_pull(skb, tcp_hdrlen(skb));
	xtcp_forced_mem_schedule(sk, skb->truesize);
	skb_set_owner_r(skb, sk);

	TCP_SKB_CB(skb)->seq++;
	TCP_SKB_CB(skb)->tcp_flags &= ~TCPHDR_SYN;
	tp->rcv_nxt = TCP_SKB_CB(skb)->end_seq;
	__skb_queue_tail(&sk->sk_receive_queue, skb);
	tp->syn_data_acked = 1;
	tp->bytes_received = skb->len;
	if (TCP_SKB_CB(skb)->tcp_flags & TCPHDR_FIN)
		xtcp_fin(sk);
}

/*
 * tcp_fastopen_create_child(): the child of a valid Fast Open SYN, made
 * now rather than at the third ACK.  It takes the request as its
 * fastopen_rsk and counts in the listener's Fast Open queue; the window
 * is the SYN's, unscaled (RFC 7323 2.2); its retransmit timer runs for
 * the SYN-ACK (xtcp_fastopen_synack_timer()); the transfer starts (the
 * algorithm, the buffers) and the SYN's data is queued.  The request's
 * refcount becomes 2: the child's fastopen_rsk and the accept queue's
 * entry, which xtcp_conn_request()'s reference, dropped at its end,
 * stood for until then.  Returns the child, bh-locked with a reference
 * for the caller, or NULL.
 */
static struct sock *xtcp_fastopen_create_child(struct sock *sk,
					       struct sk_buff *skb,
					       struct request_sock *req)
{
	struct request_sock_queue *queue = &inet_csk(sk)->icsk_accept_queue;
	struct tcp_sock *tp;
	struct sock *child;
	bool own_req;

	child = xtcp_syn_recv_sock(sk, skb, req, NULL, NULL, &own_req);
	if (!child)
		return NULL;

	spin_lock(&queue->fastopenq.lock);
	queue->fastopenq.qlen++;
	spin_unlock(&queue->fastopenq.lock);

	tp = tcp_sk(child);
	rcu_assign_pointer(tp->fastopen_rsk, req);
	tcp_rsk(req)->tfo_listener = true;

	/* RFC 7323 2.2: a SYN's window is never scaled. */
	tp->snd_wnd = ntohs(tcp_hdr(skb)->window);
	tp->max_window = tp->snd_wnd;

	/*
	 * The SYN-ACK is re-sent by the child's retransmit timer: the
	 * request is on the accept queue, not in the established hash, and
	 * its own timer is never armed.
	 */
	req->timeout = TCP_TIMEOUT_INIT;
	inet_csk_reset_xmit_timer(child, ICSK_TIME_RETRANS, req->timeout,
				  TCP_RTO_MAX);
	xtcp_compat_refcount_set_release(&req->rsk_refcnt, 2);
	sk_mark_napi_id_set(child, skb);

	xtcp_init_transfer(child);
	tp->rcv_nxt = TCP_SKB_CB(skb)->seq + 1;
	xtcp_fastopen_add_skb(child, skb);
	tcp_rsk(req)->rcv_nxt = tp->rcv_nxt;
	tp->rcv_wup = tp->rcv_nxt;
	/* xtcp_conn_request() sends the SYN-ACK and queues the child. */
	return child;
}

/**
 * xtcp_try_fastopen - Fast Open's answer to a SYN (tcp_try_fastopen())
 * @sk:  the listener, not locked
 * @skb: the SYN
 * @req: its request, not yet hashed
 * @foc: in, the SYN's cookie option (len -1: none, 0: a cookie request);
 *       out, the cookie the SYN-ACK offers (len -1: none)
 * @dst: the route to the client
 *
 * With the server bit of net.xtcp.fastopen and a listener whose Fast
 * Open queue has room: a cookie request gets the primary key's cookie
 * (TCPFastOpenCookieReqd counts every request, answered or not); a
 * cookie that matches neither key gets it too (TCPFastOpenPassiveFail).
 * A valid cookie -- or any SYN where no cookie is required (the 0x200
 * bit, TCP_FASTOPEN_NO_COOKIE, the route's fastopen_no_cookie) -- makes
 * the child now (xtcp_fastopen_create_child(), TCPFastOpenPassive): the
 * SYN-ACK then carries no cookie, or the primary key's when the backup
 * key matched (TCPFastOpenPassiveAltKey).  A child that cannot be made
 * leaves the data unacknowledged (TCPFastOpenPassiveFail) and the
 * handshake as without Fast Open.
 *
 * Context: softirq, under rcu_read_lock().
 * Return: the child, bh-locked and referenced for the caller, which
 * sends the SYN-ACK from it and queues it; or NULL.
 */
struct sock *xtcp_try_fastopen(struct sock *sk, struct sk_buff *skb,
			       struct request_sock *req,
			       struct tcp_fastopen_cookie *foc,
			       const struct dst_entry *dst)
{
	bool syn_data = TCP_SKB_CB(skb)->end_seq != TCP_SKB_CB(skb)->seq + 1;
	struct net *net = sock_net(sk);
	int tcp_fastopen = READ_ONCE(xtcp_pernet(net)->sysctl.fastopen);
	struct tcp_fastopen_cookie valid_foc = { .len = -1 };
	struct sock *child;
	int ret = 0;

	if (foc->len == 0)	/* the client asks for a cookie */
		xtcp_inc_stats(net, XTCP_MIB_TCPFASTOPENCOOKIEREQD);

	if (!((tcp_fastopen & TFO_SERVER_ENABLE) &&
	      (syn_data || foc->len >= 0) &&
	      xtcp_fastopen_queue_check(sk))) {
		foc->len = -1;
		return NULL;
	}

	if (xtcp_fastopen_no_cookie(sk, dst, TFO_SERVER_COOKIE_NOT_REQD))
		goto fastopen;

	if (foc->len == 0) {
		xtcp_fastopen_cookie_gen(sk, skb, &valid_foc);
	} else if (foc->len > 0) {
		ret = xtcp_fastopen_cookie_gen_check(sk, skb, foc, &valid_foc);
		if (!ret) {
			xtcp_inc_stats(net, XTCP_MIB_TCPFASTOPENPASSIVEFAIL);
		} else {
			/*
			 * A valid cookie: the child takes the SYN's data and
			 * the SYN-ACK acknowledges it.  A data-less SYN with
			 * a valid cookie makes one too, which may send in
			 * SYN-RECEIVED.
			 */
fastopen:
			child = xtcp_fastopen_create_child(sk, skb, req);
			if (child) {
				if (ret == 2) {
					valid_foc.exp = foc->exp;
					*foc = valid_foc;
					xtcp_inc_stats(net,
						       XTCP_MIB_TCPFASTOPENPASSIVEALTKEY);
				} else {
					foc->len = -1;
				}
				xtcp_inc_stats(net, XTCP_MIB_TCPFASTOPENPASSIVE);
				return child;
			}
			xtcp_inc_stats(net, XTCP_MIB_TCPFASTOPENPASSIVEFAIL);
		}
	}
	valid_foc.exp = foc->exp;
	*foc = valid_foc;
	return NULL;
}

/**
 * xtcp_reqsk_fastopen_remove - a Fast Open child lets go of its request
 * @sk:    the child, locked (or not yet visible, or being destroyed)
 * @req:   its fastopen_rsk
 * @reset: the handshake ended in the peer's RST
 *
 * reqsk_fastopen_remove(): the handshake completed or was aborted, so
 * the child no longer needs the request (fastopen_rsk cleared) and it
 * stops counting in the listener's Fast Open queue.  Who holds the
 * request then: while the child waits on the accept queue (req->sk set)
 * the queue's entry does, and accept() frees it; once accepted
 * (xtcp_csk_accept() cleared req->sk) its last reference is the child's,
 * dropped here -- unless a RST ended it on a listening listener: then it
 * counts in the queue 60 s more on fastopenq.rskq_rst_head (a defence
 * against spoofed Fast Open SYNs, the CoNEXT'11 paper), freed by
 * xtcp_fastopen_queue_check() or when the listener closes.
 * tfo_listener and that list are the listener's fastopenq.lock's.
 *
 * Context: any; takes fastopenq.lock with BHs off.
 */
void xtcp_reqsk_fastopen_remove(struct sock *sk, struct request_sock *req,
				bool reset)
{
	struct sock *lsk = req->rsk_listener;
	struct fastopen_queue *fastopenq =
		&inet_csk(lsk)->icsk_accept_queue.fastopenq;

	RCU_INIT_POINTER(tcp_sk(sk)->fastopen_rsk, NULL);
	spin_lock_bh(&fastopenq->lock);
	fastopenq->qlen--;
	tcp_rsk(req)->tfo_listener = false;
	if (req->sk)	/* not accepted yet */
		goto out;
	if (!reset || lsk->sk_state != TCP_LISTEN) {
		spin_unlock_bh(&fastopenq->lock);
		reqsk_put(req);
		return;
	}
	req->rsk_timer.expires = jiffies + 60 * HZ;
	if (!fastopenq->rskq_rst_head)
		fastopenq->rskq_rst_head = req;
	else
		fastopenq->rskq_rst_tail->dl_next = req;
	req->dl_next = NULL;
	fastopenq->rskq_rst_tail = req;
	fastopenq->qlen++;
out:
	spin_unlock_bh(&fastopenq->lock);
}

/**
 * xtcp_fastopen_rst_list_free - free a closing listener's RST list
 * @sk: the listener, no longer listening
 *
 * The part of inet_csk_listen_stop() that frees the requests
 * xtcp_reqsk_fastopen_remove() kept on fastopenq.rskq_rst_head.
 *
 * Context: process, the listener locked.
 */
void xtcp_fastopen_rst_list_free(struct sock *sk)
{
	struct fastopen_queue *fastopenq =
		&inet_csk(sk)->icsk_accept_queue.fastopenq;
	struct request_sock *req, *next;

	if (!fastopenq->rskq_rst_head)
		return;
	spin_lock_bh(&fastopenq->lock);
	req = fastopenq->rskq_rst_head;
	fastopenq->rskq_rst_head = NULL;
	spin_unlock_bh(&fastopenq->lock);
	while (req) {
		next = req->dl_next;
		reqsk_put(req);
		req = next;
	}
}
