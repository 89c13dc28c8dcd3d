// SPDX-License-Identifier: GPL-2.0
/*
 * xtcp_dctcp: DataCenter TCP (RFC 8257) for xtcp, as a module of its own.
 *
 * Mirrors net/ipv4/tcp_dctcp.c and tcp_dctcp.h of Debian's 6.1 and 6.12
 * (the same but for 6.12's PLB, see below), and is built as stock's is:
 * a separate module, xtcp_dctcp.ko, that registers through xtcp's
 * exported registry (include/xtcp/cong.h) exactly as an out-of-tree
 * algorithm would, and that TCP_CONGESTION "dctcp" loads on demand.  Like
 * stock's it is restricted: CAP_NET_ADMIN, or
 * net.xtcp.allowed_congestion_control, chooses it.
 *
 * The sender keeps alpha, an estimate of the fraction of its bytes the
 * network marked CE (g = 1/2^dctcp_shift_g per window), and on an ECE
 * reduces cwnd by alpha/2 instead of half (dctcp_ssthresh()).  The
 * receiver's ECE mirrors CE exactly (RFC 8257 section 3.2): the CE state
 * machine below sets ECE from the last segment's mark, acknowledging at
 * once whenever the mark changes, and first the data before the change
 * if an ACK for it was being delayed.  The connection needs ECN: a
 * listener running DCTCP accepts any ECN-setup SYN
 * (xtcp_ecn_create_request()), and without ECN the connection falls back
 * to Reno (dctcp-reno).
 *
 * Not mirrored: 6.12's Protective Load Balancing (tcp_plb_*(), PLB,
 * net.ipv4.tcp_plb_enabled, off by default): it re-hashes the flow
 * label of IPv6 connections, which xtcp does not have.
 *
 * Context: every hook runs with the socket locked (struct xtcp_cong_ops).
 */
#include <linux/inet_diag.h>
#include <linux/module.h>
#include <net/tcp.h>

#include "xtcp/cong.h"

#define DCTCP_MAX_ALPHA	1024U

/**
 * struct xtcp_dctcp - DCTCP's state in inet_csk_ca() (stock's struct dctcp)
 * @old_delivered:    tp->delivered at the start of the observation window
 * @old_delivered_ce: tp->delivered_ce then
 * @prior_rcv_nxt:    rcv_nxt when the receiver's CE state last was set
 * @dctcp_alpha:      the marked fraction, in 1/1024; read by get_info
 *                    without the socket lock
 * @next_seq:         snd_nxt at the window's start: the window ends when
 *                    snd_una passes it
 * @ce_state:         1 if the last segment received was CE-marked
 * @loss_cwnd:        cwnd before the last reduction, for undo
 */
struct xtcp_dctcp {
	u32 old_delivered;
	u32 old_delivered_ce;
	u32 prior_rcv_nxt;
	u32 dctcp_alpha;
	u32 next_seq;
	u32 ce_state;
	u32 loss_cwnd;
};

static unsigned int dctcp_shift_g __read_mostly = 4; /* g = 1/2^4 */

static int dctcp_shift_g_set(const char *val, const struct kernel_param *kp)
{
	return param_set_uint_minmax(val, kp, 0, 10);
}

static const struct kernel_param_ops dctcp_shift_g_ops = {
	.set = dctcp_shift_g_set,
	.get = param_get_uint,
};

module_param_cb(dctcp_shift_g, &dctcp_shift_g_ops, &dctcp_shift_g, 0644);
MODULE_PARM_DESC(dctcp_shift_g, "parameter g for updating dctcp_alpha");

static unsigned int dctcp_alpha_on_init __read_mostly = DCTCP_MAX_ALPHA;
module_param(dctcp_alpha_on_init, uint, 0644);
MODULE_PARM_DESC(dctcp_alpha_on_init, "parameter for initial alpha value");

static struct xtcp_cong_ops xtcp_dctcp_reno;

/* dctcp_reset(): a new observation window starts at snd_nxt. */
static void xtcp_dctcp_reset(const struct tcp_sock *tp, struct xtcp_dctcp *ca)
{
	ca->next_seq = tp->snd_nxt;
	ca->old_delivered = tp->delivered;
	ca->old_delivered_ce = tp->delivered_ce;
}

/*
 * dctcp_init(): at ESTABLISHED.  Without ECN (the peer did not agree)
 * the connection runs dctcp-reno from here on, with ECT off again: the
 * listener's DCTCP had put it on for the handshake.
 */
static void xtcp_dctcp_init(struct sock *sk)
{
	const struct tcp_sock *tp = tcp_sk(sk);

	if ((tp->ecn_flags & TCP_ECN_OK) ||
	    sk->sk_state == TCP_LISTEN || sk->sk_state == TCP_CLOSE) {
		struct xtcp_dctcp *ca = inet_csk_ca(sk);

		ca->prior_rcv_nxt = tp->rcv_nxt;
		ca->dctcp_alpha = min(dctcp_alpha_on_init, DCTCP_MAX_ALPHA);
		ca->loss_cwnd = 0;
		ca->ce_state = 0;
		xtcp_dctcp_reset(tp, ca);
		return;
	}
	xtcp_ca_replace(sk, &xtcp_dctcp_reno);
	INET_ECN_dontxmit(sk);
}

/* dctcp_ssthresh(): cwnd * (1 - alpha / 2), RFC 8257 section 3.3. */
static u32 xtcp_dctcp_ssthresh(struct sock *sk)
{
	struct xtcp_dctcp *ca = inet_csk_ca(sk);
	struct tcp_sock *tp = tcp_sk(sk);

	ca->loss_cwnd = tcp_snd_cwnd(tp);
	return max(tcp_snd_cwnd(tp) -
		   ((tcp_snd_cwnd(tp) * ca->dctcp_alpha) >> 11U), 2U);
}

/*
 * dctcp_update_alpha(): once per window of data (snd_una past next_seq),
 * alpha = (1 - g) * alpha + g * F, F the fraction of the window's
 * delivered segments whose ACKs carried ECE (RFC 8257 section 3.3).
 */
static void xtcp_dctcp_update_alpha(struct sock *sk, u32 flags)
{
	const struct tcp_sock *tp = tcp_sk(sk);
	struct xtcp_dctcp *ca = inet_csk_ca(sk);

	if (!before(tp->snd_una, ca->next_seq)) {
		u32 delivered = tp->delivered - ca->old_delivered;
		u32 delivered_ce = tp->delivered_ce - ca->old_delivered_ce;
		u32 alpha = ca->dctcp_alpha;

		alpha -= min_not_zero(alpha, alpha >> dctcp_shift_g);
		if (delivered_ce) {
			/* With a shift of 1, 32 bits overflow at 8 M segments. */
			delivered_ce <<= (10 - dctcp_shift_g);
			delivered_ce /= max(1U, delivered);
			alpha = min(alpha + delivered_ce, DCTCP_MAX_ALPHA);
		}
		/* get_info() reads it unlocked: no torn or temporary value. */
		WRITE_ONCE(ca->dctcp_alpha, alpha);
		xtcp_dctcp_reset(tp, ca);
	}
}

/* dctcp_react_to_loss(): a loss halves the window, as Reno's. */
static void xtcp_dctcp_react_to_loss(struct sock *sk)
{
	struct xtcp_dctcp *ca = inet_csk_ca(sk);
	struct tcp_sock *tp = tcp_sk(sk);

	ca->loss_cwnd = tcp_snd_cwnd(tp);
	tp->snd_ssthresh = max(tcp_snd_cwnd(tp) >> 1U, 2U);
}

/*
 * dctcp_state(): entering fast recovery is a loss; an RTO is handled in
 * xtcp_dctcp_cwnd_event() (CA_EVENT_LOSS), so that one RTT sees one
 * reduction.
 */
static void xtcp_dctcp_state(struct sock *sk, u8 new_state)
{
	if (new_state == TCP_CA_Recovery &&
	    new_state != inet_csk(sk)->icsk_ca_state)
		xtcp_dctcp_react_to_loss(sk);
}

/* dctcp_ece_ack_cwr(): ECE on what we send for as long as CE came in. */
static void xtcp_dctcp_ece_ack_cwr(struct sock *sk, u32 ce_state)
{
	struct tcp_sock *tp = tcp_sk(sk);

	if (ce_state == 1)
		tp->ecn_flags |= TCP_ECN_DEMAND_CWR;
	else
		tp->ecn_flags &= ~TCP_ECN_DEMAND_CWR;
}

/*
 * dctcp_ece_ack_update(): the receiver's CE state machine (state 0: the
 * last segment was not CE-marked; 1: it was).  A change is acknowledged
 * at once so that the sender sees exactly which bytes were marked; an
 * ACK that was being delayed goes out first, for the data before the
 * change (prior_rcv_nxt), with the old ECE.
 */
static void xtcp_dctcp_ece_ack_update(struct sock *sk, enum tcp_ca_event evt,
				      u32 *prior_rcv_nxt, u32 *ce_state)
{
	u32 new_ce_state = (evt == CA_EVENT_ECN_IS_CE) ? 1 : 0;

	if (*ce_state != new_ce_state) {
		if (inet_csk(sk)->icsk_ack.pending & ICSK_ACK_TIMER) {
			xtcp_dctcp_ece_ack_cwr(sk, *ce_state);
			__xtcp_send_ack(sk, *prior_rcv_nxt);
		}
		inet_csk(sk)->icsk_ack.pending |= ICSK_ACK_NOW;
	}
	*prior_rcv_nxt = tcp_sk(sk)->rcv_nxt;
	*ce_state = new_ce_state;
	xtcp_dctcp_ece_ack_cwr(sk, new_ce_state);
}

/* dctcp_cwnd_event() */
static void xtcp_dctcp_cwnd_event(struct sock *sk, enum tcp_ca_event ev)
{
	struct xtcp_dctcp *ca = inet_csk_ca(sk);

	switch (ev) {
	case CA_EVENT_ECN_IS_CE:
	case CA_EVENT_ECN_NO_CE:
		xtcp_dctcp_ece_ack_update(sk, ev, &ca->prior_rcv_nxt,
					  &ca->ce_state);
		break;
	case CA_EVENT_LOSS:
		xtcp_dctcp_react_to_loss(sk);
		break;
	default:
		break;
	}
}

/*
 * dctcp_get_info(): struct tcp_dctcp_info for TCP_CC_INFO (and for a
 * request for Vegas's, as stock answers it); zero but for its type on a
 * connection that fell back to Reno.
 */
static size_t xtcp_dctcp_get_info(struct sock *sk, u32 ext, int *attr,
				  union tcp_cc_info *info)
{
	const struct xtcp_dctcp *ca = inet_csk_ca(sk);
	const struct tcp_sock *tp = tcp_sk(sk);

	if (ext & (1 << (INET_DIAG_DCTCPINFO - 1)) ||
	    ext & (1 << (INET_DIAG_VEGASINFO - 1))) {
		memset(&info->dctcp, 0, sizeof(info->dctcp));
		if (xtcp_ca_ops(sk) != &xtcp_dctcp_reno) {
			info->dctcp.dctcp_enabled = 1;
			info->dctcp.dctcp_ce_state = (u16)ca->ce_state;
			info->dctcp.dctcp_alpha = ca->dctcp_alpha;
			info->dctcp.dctcp_ab_ecn = tp->mss_cache *
				(tp->delivered_ce - ca->old_delivered_ce);
			info->dctcp.dctcp_ab_tot = tp->mss_cache *
				(tp->delivered - ca->old_delivered);
		}
		*attr = INET_DIAG_DCTCPINFO;
		return sizeof(info->dctcp);
	}
	return 0;
}

/* dctcp_cwnd_undo(): the window before the last reduction. */
static u32 xtcp_dctcp_cwnd_undo(struct sock *sk)
{
	const struct xtcp_dctcp *ca = inet_csk_ca(sk);

	return max(tcp_snd_cwnd(tcp_sk(sk)), ca->loss_cwnd);
}

static struct xtcp_cong_ops xtcp_dctcp __read_mostly = {
	.init		= xtcp_dctcp_init,
	.in_ack_event	= xtcp_dctcp_update_alpha,
	.cwnd_event	= xtcp_dctcp_cwnd_event,
	.ssthresh	= xtcp_dctcp_ssthresh,
	.cong_avoid	= xtcp_reno_cong_avoid,
	.undo_cwnd	= xtcp_dctcp_cwnd_undo,
	.set_state	= xtcp_dctcp_state,
	.get_info	= xtcp_dctcp_get_info,
	.flags		= TCP_CONG_NEEDS_ECN,
	.owner		= THIS_MODULE,
	.name		= "dctcp",
};

/* Not registered: only xtcp_dctcp_init() hands a connection to it. */
static struct xtcp_cong_ops xtcp_dctcp_reno __read_mostly = {
	.ssthresh	= xtcp_reno_ssthresh,
	.cong_avoid	= xtcp_reno_cong_avoid,
	.undo_cwnd	= xtcp_reno_undo_cwnd,
	.get_info	= xtcp_dctcp_get_info,
	.owner		= THIS_MODULE,
	.name		= "dctcp-reno",
};

static int __init xtcp_dctcp_register(void)
{
	BUILD_BUG_ON(sizeof(struct xtcp_dctcp) > ICSK_CA_PRIV_SIZE);
	return xtcp_register_congestion_control(&xtcp_dctcp);
}

static void __exit xtcp_dctcp_unregister(void)
{
	xtcp_unregister_congestion_control(&xtcp_dctcp);
}

module_init(xtcp_dctcp_register);
module_exit(xtcp_dctcp_unregister);

MODULE_LICENSE("GPL");
MODULE_DESCRIPTION("DataCenter TCP (DCTCP) for xtcp, after net/ipv4/tcp_dctcp.c");
