// SPDX-License-Identifier: GPL-2.0
/*
 * xtcp: the congestion state machine - loss recovery, PRR and undo.
 *
 * Mirrors tcp_fastretrans_alert() and the functions around it in
 * net/ipv4/tcp_input.c ("Linux NewReno/SACK/ECN state machine"):
 *
 *   Open      nothing dubious; the fast path
 *   Disorder  SACKs or duplicate ACKs seen, no loss proven yet
 *   CWR       cwnd reduced for a congestion signal (ECE, a loss probe)
 *   Recovery  a loss proven; fast retransmit, cwnd cut by PRR
 *   Loss      the retransmission timer fired (or SACK reneging)
 *
 * tcp_time_to_recover() decides when a hole is a loss (RACK, RFC 8985,
 * or for a peer without SACK three duplicate ACKs, RFC 5681 3.2); PRR
 * (RFC 6937) spreads the reduction over the next RTT; the undo
 * functions take it back when timestamps (RFC 3522 in spirit) or
 * D-SACKs (RFC 2883) prove the retransmissions spurious; F-RTO (RFC
 * 5682) does the same for a timeout.  Each state change goes through
 * xtcp_set_ca_state(), which calls the algorithm's set_state hook.
 *
 * Context: socket locked: the ACK path, or a write timer that found the
 * socket not owned.
 */
#include <net/tcp.h>

#include "xtcp.h"

/**
 * xtcp_set_ca_state - enter a congestion state (tcp_set_ca_state())
 * @sk:       the connection, locked
 * @ca_state: TCP_CA_Open, TCP_CA_Loss, ...
 *
 * The algorithm's set_state hook hears of it first.
 */
void xtcp_set_ca_state(struct sock *sk, u8 ca_state)
{
	const struct xtcp_cong_ops *ca = xtcp_sk(sk)->ca_ops;

	if (ca && ca->set_state)
		ca->set_state(sk, ca_state);
	inet_csk(sk)->icsk_ca_state = ca_state;
}

/*
 * tcp_current_ssthresh(): outside a reduction, remember at least 3/4 of
 * the current window.
 */
u32 xtcp_current_ssthresh(const struct sock *sk)
{
	const struct tcp_sock *tp = tcp_sk(sk);

	if (tcp_in_cwnd_reduction(sk))
		return tp->snd_ssthresh;
	return max(tp->snd_ssthresh,
		   (tp->snd_cwnd >> 1) + (tp->snd_cwnd >> 2));
}

/* The algorithm's ssthresh after a loss, Reno's half without one. */
static u32 xtcp_ca_ssthresh(struct sock *sk)
{
	const struct xtcp_cong_ops *ca = xtcp_sk(sk)->ca_ops;

	return ca ? ca->ssthresh(sk) : max(tcp_sk(sk)->snd_cwnd >> 1, 2U);
}

/* What cwnd goes back to when a reduction is undone. */
static u32 xtcp_ca_undo_cwnd(struct sock *sk)
{
	const struct xtcp_cong_ops *ca = xtcp_sk(sk)->ca_ops;

	return ca ? ca->undo_cwnd(sk) : xtcp_reno_undo_cwnd(sk);
}

/**
 * xtcp_clear_retrans - forget the scoreboard (tcp_clear_retrans())
 * @tp: the connection, its queues empty
 */
void xtcp_clear_retrans(struct tcp_sock *tp)
{
	tp->retrans_out = 0;
	tp->lost_out = 0;
	tp->undo_marker = 0;
	tp->undo_retrans = -1;
	tp->sacked_out = 0;
}

/*
 * tcp_init_undo(): a reduction begins; it may be undone until every
 * retransmission in flight (and a re-sent loss probe) is D-SACKed.
 * undo_retrans 0 means "undo now", so none in flight is -1.
 */
static void xtcp_init_undo(struct tcp_sock *tp)
{
	tp->undo_marker = tp->snd_una;
	tp->undo_retrans = tp->retrans_out;
	if (tp->tlp_high_seq && tp->tlp_retrans)
		tp->undo_retrans++;
	if (!tp->undo_retrans)
		tp->undo_retrans = -1;
}

/**
 * xtcp_any_retrans_done - is a retransmission in flight? (tcp_any_retrans_done())
 * @sk: the connection, locked
 *
 * If not, the first-retransmission stamp that times the connection out
 * (retrans_stamp) may start over.  Checking the head covers a segment
 * whose second retransmission failed to leave.
 *
 * Return: true if so.
 */
bool xtcp_any_retrans_done(const struct sock *sk)
{
	const struct sk_buff *skb = tcp_rtx_queue_head(sk);

	return tcp_sk(sk)->retrans_out ||
	       (skb && (TCP_SKB_CB(skb)->sacked & TCPCB_EVER_RETRANS));
}

/**
 * xtcp_retrans_stamp_cleanup - forget when re-sending began (tcp_retrans_stamp_cleanup())
 * @sk: the connection, locked
 *
 * Only when no retransmission is out any more (xtcp_any_retrans_done()).
 */
void xtcp_retrans_stamp_cleanup(struct sock *sk)
{
	if (!xtcp_any_retrans_done(sk))
		tcp_sk(sk)->retrans_stamp = 0;
}

/*
 * tcp_timeout_mark_lost(): after a timeout everything in flight is
 * lost, except, with RACK, what was sent too recently to tell.  An ACK
 * that stopped at SACKed data means the peer dropped what it SACKed
 * (reneging): the scoreboard is wiped.
 */
static void xtcp_timeout_mark_lost(struct sock *sk)
{
	struct tcp_sock *tp = tcp_sk(sk);
	struct sk_buff *skb, *head;
	bool is_reneg;

	head = tcp_rtx_queue_head(sk);
	is_reneg = head && (TCP_SKB_CB(head)->sacked & TCPCB_SACKED_ACKED);
	if (is_reneg) {
		xtcp_inc_stats(sock_net(sk), XTCP_MIB_TCPSACKRENEGING);
		tp->sacked_out = 0;
		tp->is_sack_reneg = 1;	/* until this episode ends */
	} else if (tcp_is_reno(tp)) {
		tp->sacked_out = 0;
	}
	skb = head;
	skb_rbtree_walk_from(skb) {
		if (is_reneg)
			TCP_SKB_CB(skb)->sacked &= ~TCPCB_SACKED_ACKED;
		else if (xtcp_is_rack(sk) && skb != head &&
			 xtcp_rack_skb_timeout(tp, skb, 0) > 0)
			continue;
		xtcp_mark_skb_lost(sk, skb);
	}
	tcp_verify_left_out(tp);
	tcp_clear_all_retrans_hints(tp);
}

/**
 * xtcp_enter_loss - the retransmission timer fired (tcp_enter_loss())
 * @sk: the connection, locked
 *
 * RFC 5681 3.1: ssthresh from the algorithm (once per loss episode),
 * cwnd to one segment more than what is still in flight, and go back
 * to SND.UNA: every segment up to high_seq is sent again as the window
 * opens.  F-RTO (RFC 5682 3.1 step 1) is armed unless an earlier
 * recovery is under way.
 */
void xtcp_enter_loss(struct sock *sk)
{
	const struct inet_connection_sock *icsk = inet_csk(sk);
	const struct xtcp_sysctl *s = &xtcp_pernet(sock_net(sk))->sysctl;
	struct tcp_sock *tp = tcp_sk(sk);
	bool new_recovery = icsk->icsk_ca_state < TCP_CA_Recovery;
	int reordering;

	xtcp_timeout_mark_lost(sk);
	/* Cut ssthresh once per window. */
	if (icsk->icsk_ca_state <= TCP_CA_Disorder ||
	    !after(tp->high_seq, tp->snd_una) ||
	    (icsk->icsk_ca_state == TCP_CA_Loss && !icsk->icsk_retransmits)) {
		tp->prior_ssthresh = xtcp_current_ssthresh(sk);
		tp->prior_cwnd = tp->snd_cwnd;
		tp->snd_ssthresh = xtcp_ca_ssthresh(sk);
		xtcp_ca_event(sk, CA_EVENT_LOSS);
		xtcp_init_undo(tp);
	}
	tp->snd_cwnd = tcp_packets_in_flight(tp) + 1;
	tp->snd_cwnd_cnt = 0;
	tp->snd_cwnd_stamp = tcp_jiffies32;
	/* A timeout after many duplicate ACKs: reordering was overrated. */
	reordering = READ_ONCE(s->reordering);
	if (icsk->icsk_ca_state <= TCP_CA_Disorder &&
	    tp->sacked_out >= reordering)
		tp->reordering = min_t(unsigned int, tp->reordering,
				       reordering);
	xtcp_set_ca_state(sk, TCP_CA_Loss);
	tp->high_seq = tp->snd_nxt;
	tp->tlp_high_seq = 0;
	xtcp_ecn_queue_cwr(tp);
	tp->frto = READ_ONCE(s->frto) &&
		   (new_recovery || icsk->icsk_retransmits) &&
		   !icsk->icsk_mtup.probe_size;
}

/*
 * tcp_check_sack_reneging(): SND.UNA stopped at data the peer SACKed.
 * Give it max(RTT/2, 10 ms) to send saner ACKs before the RTO wipes
 * the scoreboard.
 */
static bool xtcp_check_sack_reneging(struct sock *sk, int *ack_flag)
{
	if ((*ack_flag & XTCP_FLAG_SACK_RENEGING) &&
	    (*ack_flag & XTCP_FLAG_SND_UNA_ADVANCED)) {
		struct tcp_sock *tp = tcp_sk(sk);
		unsigned long delay = max(usecs_to_jiffies(tp->srtt_us >> 4),
					  msecs_to_jiffies(10));

		inet_csk_reset_xmit_timer(sk, ICSK_TIME_RETRANS, delay,
					  TCP_RTO_MAX);
		*ack_flag &= ~XTCP_FLAG_SET_XMIT_TIMER;
		return true;
	}
	return false;
}

/*
 * tcp_time_to_recover(): is the hole a loss?  Proven if something is
 * marked lost; without RACK, also after more duplicate ACKs (SACKed
 * segments + 1) than the reordering degree.
 */
static bool xtcp_time_to_recover(struct sock *sk)
{
	struct tcp_sock *tp = tcp_sk(sk);

	if (tp->lost_out)
		return true;
	return !xtcp_is_rack(sk) && tp->sacked_out + 1 > tp->reordering;
}

/*
 * tcp_mark_head_lost(): RFC 6675's rule without RACK: a segment is lost
 * once @packets SACKed segments lie above it; @mark_head marks the head
 * alone.
 */
static void xtcp_mark_head_lost(struct sock *sk, int packets, int mark_head)
{
	struct tcp_sock *tp = tcp_sk(sk);
	const u32 loss_high = tp->snd_nxt;
	struct sk_buff *skb;
	int cnt;

	skb = tp->lost_skb_hint;
	if (skb) {
		if (mark_head && after(TCP_SKB_CB(skb)->seq, tp->snd_una))
			return;
		cnt = tp->lost_cnt_hint;
	} else {
		skb = tcp_rtx_queue_head(sk);
		cnt = 0;
	}
	skb_rbtree_walk_from(skb) {
		tp->lost_skb_hint = skb;
		tp->lost_cnt_hint = cnt;
		if (after(TCP_SKB_CB(skb)->end_seq, loss_high))
			break;
		if (TCP_SKB_CB(skb)->sacked & TCPCB_SACKED_ACKED)
			cnt += tcp_skb_pcount(skb);
		if (cnt > packets)
			break;
		if (!(TCP_SKB_CB(skb)->sacked & TCPCB_LOST))
			xtcp_mark_skb_lost(sk, skb);
		if (mark_head)
			break;
	}
	tcp_verify_left_out(tp);
}

/* tcp_update_scoreboard(): RFC 6675 marking when RACK is off. */
static void xtcp_update_scoreboard(struct sock *sk, int fast_rexmit)
{
	struct tcp_sock *tp = tcp_sk(sk);

	if (tcp_is_sack(tp)) {
		int sacked_upto = tp->sacked_out - tp->reordering;

		if (sacked_upto >= 0)
			xtcp_mark_head_lost(sk, sacked_upto, 0);
		else if (fast_rexmit)
			xtcp_mark_head_lost(sk, 1, 1);
	}
}

/*
 * tcp_packet_delayed(): the echoed timestamp predates the first
 * retransmission, or nothing was re-sent: the "loss" was a delay.
 */
static bool xtcp_packet_delayed(const struct tcp_sock *tp)
{
	if (tp->retrans_stamp)
		return xtcp_tsopt_ecr_before(tp, tp->retrans_stamp);
	/* Reno clears retrans_stamp at high_seq though it re-sent. */
	if (!tcp_is_sack(tp) && !before(tp->snd_una, tp->high_seq))
		return false;
	return true;
}

/*
 * tcp_undo_cwnd_reduction(): the reduction was a mistake: cwnd and
 * ssthresh back to before it; with @unmark_loss, nothing is lost.
 */
static void xtcp_undo_cwnd_reduction(struct sock *sk, bool unmark_loss)
{
	struct tcp_sock *tp = tcp_sk(sk);

	if (unmark_loss) {
		struct sk_buff *skb;

		skb_rbtree_walk(skb, &sk->tcp_rtx_queue)
			TCP_SKB_CB(skb)->sacked &= ~TCPCB_LOST;
		tp->lost_out = 0;
		tcp_clear_all_retrans_hints(tp);
	}
	if (tp->prior_ssthresh) {
		tp->snd_cwnd = xtcp_ca_undo_cwnd(sk);
		if (tp->prior_ssthresh > tp->snd_ssthresh) {
			tp->snd_ssthresh = tp->prior_ssthresh;
			xtcp_ecn_withdraw_cwr(tp);
		}
	}
	tp->snd_cwnd_stamp = tcp_jiffies32;
	tp->undo_marker = 0;
	tp->rack.advanced = 1;	/* RACK looks at the losses again */
}

/* tcp_may_undo(): every retransmission D-SACKed, or none was needed. */
static bool xtcp_may_undo(const struct tcp_sock *tp)
{
	return tp->undo_marker &&
	       (!tp->undo_retrans || xtcp_packet_delayed(tp));
}

/*
 * tcp_is_non_sack_preventing_reopen(): without SACK, stay in the state
 * until something above high_seq is acknowledged, or a duplicate ACK
 * of high_seq would start a false fast retransmit (RFC 6582 section 3.2).
 */
static bool xtcp_is_non_sack_preventing_reopen(struct sock *sk)
{
	struct tcp_sock *tp = tcp_sk(sk);

	if (tp->snd_una == tp->high_seq && tcp_is_reno(tp)) {
		xtcp_retrans_stamp_cleanup(sk);
		return true;
	}
	return false;
}

/**
 * xtcp_try_undo_recovery - end a recovery episode (tcp_try_undo_recovery())
 * @sk: the connection, locked
 *
 * The episode is over (high_seq acked); undo it if it was spurious
 * (TCPFullUndo, or TCPLossUndo for a timeout), and go back to Open.
 *
 * Return: true if the state must hold a little longer.
 */
bool xtcp_try_undo_recovery(struct sock *sk)
{
	struct tcp_sock *tp = tcp_sk(sk);

	if (xtcp_may_undo(tp)) {
		xtcp_undo_cwnd_reduction(sk, false);
		xtcp_inc_stats(sock_net(sk),
			       inet_csk(sk)->icsk_ca_state == TCP_CA_Loss ?
			       XTCP_MIB_TCPLOSSUNDO : XTCP_MIB_TCPFULLUNDO);
	} else if (tp->rack.reo_wnd_persist) {
		tp->rack.reo_wnd_persist--;
	}
	if (xtcp_is_non_sack_preventing_reopen(sk))
		return true;
	xtcp_set_ca_state(sk, TCP_CA_Open);
	tp->is_sack_reneg = 0;
	return false;
}

/* tcp_try_undo_dsack(): D-SACKs covered every retransmission. */
static bool xtcp_try_undo_dsack(struct sock *sk)
{
	struct tcp_sock *tp = tcp_sk(sk);

	if (tp->undo_marker && !tp->undo_retrans) {
		tp->rack.reo_wnd_persist = min(TCP_RACK_RECOVERY_THRESH,
					       tp->rack.reo_wnd_persist + 1);
		xtcp_undo_cwnd_reduction(sk, false);
		xtcp_inc_stats(sock_net(sk), XTCP_MIB_TCPDSACKUNDO);
		return true;
	}
	return false;
}

/*
 * tcp_try_undo_loss(): a timeout proven spurious, by timestamps or
 * D-SACKs, or by F-RTO (@frto_undo: TCPSpuriousRTOs).
 */
static bool xtcp_try_undo_loss(struct sock *sk, bool frto_undo)
{
	struct tcp_sock *tp = tcp_sk(sk);

	if (!frto_undo && !xtcp_may_undo(tp))
		return false;
	xtcp_undo_cwnd_reduction(sk, true);
	xtcp_inc_stats(sock_net(sk), XTCP_MIB_TCPLOSSUNDO);
	if (frto_undo)
		xtcp_inc_stats(sock_net(sk), XTCP_MIB_TCPSPURIOUSRTOS);
	inet_csk(sk)->icsk_retransmits = 0;
	if (xtcp_is_non_sack_preventing_reopen(sk))
		return true;
	if (frto_undo || tcp_is_sack(tp)) {
		xtcp_set_ca_state(sk, TCP_CA_Open);
		tp->is_sack_reneg = 0;
	}
	return true;
}

/*
 * tcp_init_cwnd_reduction(): PRR (RFC 6937) starts: ssthresh from the
 * algorithm, counting what is delivered and sent from here.
 */
static void xtcp_init_cwnd_reduction(struct sock *sk)
{
	struct tcp_sock *tp = tcp_sk(sk);

	tp->high_seq = tp->snd_nxt;
	tp->tlp_high_seq = 0;
	tp->snd_cwnd_cnt = 0;
	tp->prior_cwnd = tp->snd_cwnd;
	tp->prr_delivered = 0;
	tp->prr_out = 0;
	tp->snd_ssthresh = xtcp_ca_ssthresh(sk);
	xtcp_ecn_queue_cwr(tp);
}

/**
 * xtcp_cwnd_reduction - PRR's cwnd for this ACK (tcp_cwnd_reduction())
 * @sk:                 the connection, locked, in CWR or Recovery
 * @newly_acked_sacked: packets this ACK delivered
 * @newly_lost:         packets it marked lost
 * @flag:               XTCP_FLAG_*
 *
 * RFC 6937: above ssthresh, send ssthresh/prior_cwnd of what is
 * delivered (the reduction spread over an RTT); below it, as much as
 * delivered (packet conservation), one more on a clean cumulative ACK
 * (slow start back to ssthresh).  The first ACK always lets the fast
 * retransmission out.
 */
void xtcp_cwnd_reduction(struct sock *sk, int newly_acked_sacked,
			 int newly_lost, int flag)
{
	struct tcp_sock *tp = tcp_sk(sk);
	int delta = tp->snd_ssthresh - tcp_packets_in_flight(tp);
	int sndcnt = 0;

	if (newly_acked_sacked <= 0 || WARN_ON_ONCE(!tp->prior_cwnd))
		return;
	tp->prr_delivered += newly_acked_sacked;
	if (delta < 0) {
		u64 dividend = (u64)tp->snd_ssthresh * tp->prr_delivered +
			       tp->prior_cwnd - 1;

		sndcnt = div_u64(dividend, tp->prior_cwnd) - tp->prr_out;
	} else {
		sndcnt = max_t(int, tp->prr_delivered - tp->prr_out,
			       newly_acked_sacked);
		if ((flag & XTCP_FLAG_SND_UNA_ADVANCED) && !newly_lost)
			sndcnt++;
		sndcnt = min(delta, sndcnt);
	}
	sndcnt = max(sndcnt, tp->prr_out ? 0 : 1);
	tp->snd_cwnd = tcp_packets_in_flight(tp) + sndcnt;
}

/**
 * xtcp_end_cwnd_reduction - the reduction is over (tcp_end_cwnd_reduction())
 * @sk: the connection, locked
 *
 * cwnd settles at ssthresh, unless the reduction was undone or the
 * algorithm sets cwnd itself; it hears CA_EVENT_COMPLETE_CWR.
 */
void xtcp_end_cwnd_reduction(struct sock *sk)
{
	struct tcp_sock *tp = tcp_sk(sk);

	if (xtcp_ca_cong_control(sk))
		return;
	if (tp->snd_ssthresh < TCP_INFINITE_SSTHRESH &&
	    (inet_csk(sk)->icsk_ca_state == TCP_CA_CWR || tp->undo_marker)) {
		tp->snd_cwnd = tp->snd_ssthresh;
		tp->snd_cwnd_stamp = tcp_jiffies32;
	}
	xtcp_ca_event(sk, CA_EVENT_COMPLETE_CWR);
}

/**
 * xtcp_enter_cwr - reduce cwnd for a congestion signal (tcp_enter_cwr())
 * @sk: the connection, locked
 *
 * Congestion is proven (ECE), so the reduction cannot be undone.
 */
void xtcp_enter_cwr(struct sock *sk)
{
	struct tcp_sock *tp = tcp_sk(sk);

	tp->prior_ssthresh = 0;
	if (inet_csk(sk)->icsk_ca_state < TCP_CA_CWR) {
		tp->undo_marker = 0;
		xtcp_init_cwnd_reduction(sk);
		xtcp_set_ca_state(sk, TCP_CA_CWR);
	}
}

/* tcp_try_keep_open(): Open, or Disorder while anything is amiss. */
static void xtcp_try_keep_open(struct sock *sk)
{
	struct tcp_sock *tp = tcp_sk(sk);
	int state = TCP_CA_Open;

	if (tcp_left_out(tp) || xtcp_any_retrans_done(sk))
		state = TCP_CA_Disorder;
	if (inet_csk(sk)->icsk_ca_state != state) {
		xtcp_set_ca_state(sk, state);
		tp->high_seq = tp->snd_nxt;
	}
}

/* tcp_try_to_open(): no loss proven; ECE still reduces. */
static void xtcp_try_to_open(struct sock *sk, int flag)
{
	tcp_verify_left_out(tcp_sk(sk));
	xtcp_retrans_stamp_cleanup(sk);
	if (flag & XTCP_FLAG_ECE)
		xtcp_enter_cwr(sk);
	if (inet_csk(sk)->icsk_ca_state != TCP_CA_CWR)
		xtcp_try_keep_open(sk);
}

/*
 * tcp_non_congestion_loss_retransmit(): re-send what is lost without
 * reducing cwnd; the Loss state tracks when the re-sent data is acked.
 */
static void xtcp_non_congestion_loss_retransmit(struct sock *sk)
{
	struct tcp_sock *tp = tcp_sk(sk);

	if (inet_csk(sk)->icsk_ca_state != TCP_CA_Loss) {
		tp->high_seq = tp->snd_nxt;
		tp->snd_ssthresh = xtcp_current_ssthresh(sk);
		tp->prior_ssthresh = 0;
		tp->undo_marker = 0;
		xtcp_set_ca_state(sk, TCP_CA_Loss);
	}
	xtcp_xmit_retransmit_queue(sk);
}

/**
 * xtcp_simple_retransmit - the path MTU dropped (tcp_simple_retransmit())
 * @sk: the connection, locked, its MSS already lowered
 *
 * Every segment in flight that no longer fits is lost and goes again
 * now, cut to the new MSS.  cwnd is not reduced: nothing says the path
 * is congested; its unit shrank.
 */
void xtcp_simple_retransmit(struct sock *sk)
{
	struct tcp_sock *tp = tcp_sk(sk);
	int mss = xtcp_current_mss(sk);
	struct sk_buff *skb;

	skb_rbtree_walk(skb, &sk->tcp_rtx_queue) {
		u32 seglen = tcp_skb_pcount(skb) == 1 ? skb->len :
			     tcp_skb_mss(skb);

		if (seglen > mss)
			xtcp_mark_skb_lost(sk, skb);
	}
	tcp_clear_retrans_hints_partial(tp);
	if (!tp->lost_out)
		return;
	if (tcp_is_reno(tp))
		xtcp_limit_reno_sacked(tp);
	tcp_verify_left_out(tp);
	xtcp_non_congestion_loss_retransmit(sk);
}

/**
 * xtcp_enter_recovery - a loss is proven (tcp_enter_recovery())
 * @sk:      the connection, locked
 * @ece_ack: the ACK also carried ECE (no undo then)
 *
 * Fast recovery: the clock for undo and ETIMEDOUT starts with the fast
 * retransmission, and PRR begins unless a reduction already runs.
 */
void xtcp_enter_recovery(struct sock *sk, bool ece_ack)
{
	struct tcp_sock *tp = tcp_sk(sk);

	xtcp_retrans_stamp_cleanup(sk);
	xtcp_inc_stats(sock_net(sk), tcp_is_reno(tp) ?
		       XTCP_MIB_TCPRENORECOVERY : XTCP_MIB_TCPSACKRECOVERY);
	tp->prior_ssthresh = 0;
	xtcp_init_undo(tp);
	if (!tcp_in_cwnd_reduction(sk)) {
		if (!ece_ack)
			tp->prior_ssthresh = xtcp_current_ssthresh(sk);
		xtcp_init_cwnd_reduction(sk);
	}
	xtcp_set_ca_state(sk, TCP_CA_Recovery);
}

/*
 * tcp_process_loss(): an ACK in the Loss state.  Undo if the timeout
 * was spurious; F-RTO (RFC 5682 3.1, the SACK-enhanced version) sends
 * new data after the first ACK and calls the timeout spurious if never
 * re-sent data is then acknowledged; else re-send the lost ones.
 */
static void xtcp_process_loss(struct sock *sk, int flag, int num_dupack,
			      int *rexmit)
{
	struct tcp_sock *tp = tcp_sk(sk);
	bool recovered = !before(tp->snd_una, tp->high_seq);

	/* A Fast Open child's ACK of its SYN-ACK may undo too. */
	if ((flag & XTCP_FLAG_SND_UNA_ADVANCED ||
	     rcu_access_pointer(tp->fastopen_rsk)) &&
	    xtcp_try_undo_loss(sk, false))
		return;
	if (tp->frto) {
		/* Step 3.b: never re-sent data (s)acked: spurious. */
		if ((flag & XTCP_FLAG_ORIG_SACK_ACKED) &&
		    xtcp_try_undo_loss(sk, true))
			return;
		if (after(tp->snd_nxt, tp->high_seq)) {
			/* Step 3.a: the loss was real. */
			if ((flag & XTCP_FLAG_DATA_SACKED) || num_dupack)
				tp->frto = 0;
		} else if ((flag & XTCP_FLAG_SND_UNA_ADVANCED) && !recovered) {
			tp->high_seq = tp->snd_nxt;
			/* Step 2.b: new data, after tcp_ack() grows cwnd. */
			if (!tcp_write_queue_empty(sk) &&
			    after(tcp_wnd_end(tp), tp->snd_nxt)) {
				*rexmit = XTCP_REXMIT_NEW;
				return;
			}
			tp->frto = 0;
		}
	}
	if (recovered) {
		/* Step 2.a and the first part of 3.a. */
		xtcp_try_undo_recovery(sk);
		return;
	}
	if (tcp_is_reno(tp)) {
		/* F-RTO's new data was delivered: fewer in flight. */
		if (after(tp->snd_nxt, tp->high_seq) && num_dupack)
			xtcp_add_reno_sack(sk, num_dupack,
					   flag & XTCP_FLAG_ECE);
		else if (flag & XTCP_FLAG_SND_UNA_ADVANCED)
			tp->sacked_out = 0;
	}
	*rexmit = XTCP_REXMIT_LOST;
}

/* tcp_force_fast_retransmit(): SACKed more than reordering MSS ahead. */
static bool xtcp_force_fast_retransmit(struct sock *sk)
{
	struct tcp_sock *tp = tcp_sk(sk);

	return after(tcp_highest_sack_seq(tp),
		     tp->snd_una + tp->reordering * tp->mss_cache);
}

/*
 * tcp_try_undo_partial(): a partial ACK in recovery.  If the hole was
 * filled by the delayed original, it was reordering: undo once no
 * retransmission is out.  Else force the next fast retransmission.
 */
static bool xtcp_try_undo_partial(struct sock *sk, u32 prior_snd_una,
				  bool *do_lost)
{
	struct tcp_sock *tp = tcp_sk(sk);

	if (tp->undo_marker && xtcp_packet_delayed(tp)) {
		xtcp_check_sack_reordering(sk, prior_snd_una, 1);
		/* Retransmissions out: clock new data, mark nothing more. */
		if (tp->retrans_out)
			return true;
		xtcp_retrans_stamp_cleanup(sk);
		xtcp_undo_cwnd_reduction(sk, true);
		xtcp_inc_stats(sock_net(sk), XTCP_MIB_TCPPARTIALUNDO);
		xtcp_try_keep_open(sk);
	} else {
		*do_lost = xtcp_force_fast_retransmit(sk);
	}
	return false;
}

/* tcp_identify_packet_loss(): NewReno without SACK, RACK with it. */
static void xtcp_identify_packet_loss(struct sock *sk, int *ack_flag)
{
	struct tcp_sock *tp = tcp_sk(sk);

	if (tcp_rtx_queue_empty(sk))
		return;
	if (unlikely(tcp_is_reno(tp))) {
		xtcp_newreno_mark_lost(sk, *ack_flag &
					   XTCP_FLAG_SND_UNA_ADVANCED);
	} else if (xtcp_is_rack(sk)) {
		u32 prior_retrans = tp->retrans_out;

		if (xtcp_rack_mark_lost(sk))
			*ack_flag &= ~XTCP_FLAG_SET_XMIT_TIMER;
		if (prior_retrans > tp->retrans_out)
			*ack_flag |= XTCP_FLAG_LOST_RETRANS;
	}
}

/* tcp_fastretrans_alert()'s D: leave a state whose high_seq is acked. */
static bool xtcp_fastretrans_exit(struct sock *sk)
{
	struct tcp_sock *tp = tcp_sk(sk);

	switch (inet_csk(sk)->icsk_ca_state) {
	case TCP_CA_CWR:
		/* Held until above high_seq, for CWR to reach the peer. */
		if (tp->snd_una != tp->high_seq) {
			xtcp_end_cwnd_reduction(sk);
			xtcp_set_ca_state(sk, TCP_CA_Open);
		}
		break;
	case TCP_CA_Recovery:
		if (tcp_is_reno(tp))
			tp->sacked_out = 0;
		if (xtcp_try_undo_recovery(sk))
			return true;
		xtcp_end_cwnd_reduction(sk);
		break;
	}
	return false;
}

/**
 * xtcp_fastretrans_alert - run the state machine for a dubious ACK
 * @sk:            the connection, locked
 * @prior_snd_una: SND.UNA before the ACK
 * @num_dupack:    duplicate ACKs it stands for (0 if not one)
 * @ack_flag:      XTCP_FLAG_*, updated
 * @rexmit:        set to XTCP_REXMIT_* for xtcp_xmit_recovery()
 *
 * tcp_fastretrans_alert(), called for every ACK outside Open and for
 * duplicate, SACK or ECE ACKs in it: (A) ECE forbids undo; (B) reneging;
 * (D) leave a finished state; (E) per state, undo, detect losses, and
 * enter Recovery when a loss is proven.  It decides what is lost, not
 * what to send (xtcp_xmit_retransmit_queue()) nor cwnd
 * (xtcp_cwnd_reduction()).
 */
void xtcp_fastretrans_alert(struct sock *sk, u32 prior_snd_una,
			    int num_dupack, int *ack_flag, int *rexmit)
{
	struct inet_connection_sock *icsk = inet_csk(sk);
	struct tcp_sock *tp = tcp_sk(sk);
	int fast_rexmit = 0, flag = *ack_flag;
	bool ece_ack = flag & XTCP_FLAG_ECE;
	bool do_lost = num_dupack || ((flag & XTCP_FLAG_DATA_SACKED) &&
				      xtcp_force_fast_retransmit(sk));

	if (!tp->packets_out && tp->sacked_out)
		tp->sacked_out = 0;
	if (ece_ack)
		tp->prior_ssthresh = 0;
	if (xtcp_check_sack_reneging(sk, ack_flag))
		return;
	tcp_verify_left_out(tp);

	if (icsk->icsk_ca_state == TCP_CA_Open) {
		WARN_ON(tp->retrans_out != 0);
		tp->retrans_stamp = 0;
	} else if (!before(tp->snd_una, tp->high_seq)) {
		if (xtcp_fastretrans_exit(sk))
			return;
	}

	switch (icsk->icsk_ca_state) {
	case TCP_CA_Recovery:
		if (!(flag & XTCP_FLAG_SND_UNA_ADVANCED)) {
			if (tcp_is_reno(tp))
				xtcp_add_reno_sack(sk, num_dupack, ece_ack);
		} else if (xtcp_try_undo_partial(sk, prior_snd_una, &do_lost)) {
			return;
		}
		if (xtcp_try_undo_dsack(sk))
			xtcp_try_to_open(sk, flag);
		xtcp_identify_packet_loss(sk, ack_flag);
		if (icsk->icsk_ca_state != TCP_CA_Recovery) {
			if (!xtcp_time_to_recover(sk))
				return;
			/* Undone, but a loss is evident: recover anew. */
			xtcp_enter_recovery(sk, ece_ack);
		}
		break;
	case TCP_CA_Loss:
		xtcp_process_loss(sk, flag, num_dupack, rexmit);
		xtcp_identify_packet_loss(sk, ack_flag);
		if (!(icsk->icsk_ca_state == TCP_CA_Open ||
		      (*ack_flag & XTCP_FLAG_LOST_RETRANS)))
			return;
		/* Undone, or a retransmission was lost: on as below. */
		fallthrough;
	default:
		if (tcp_is_reno(tp)) {
			if (flag & XTCP_FLAG_SND_UNA_ADVANCED)
				tp->sacked_out = 0;
			xtcp_add_reno_sack(sk, num_dupack, ece_ack);
		}
		if (icsk->icsk_ca_state <= TCP_CA_Disorder)
			xtcp_try_undo_dsack(sk);
		xtcp_identify_packet_loss(sk, ack_flag);
		if (!xtcp_time_to_recover(sk)) {
			xtcp_try_to_open(sk, flag);
			return;
		}
		xtcp_enter_recovery(sk, ece_ack);
		fast_rexmit = 1;
	}

	if (!xtcp_is_rack(sk) && do_lost)
		xtcp_update_scoreboard(sk, fast_rexmit);
	*rexmit = XTCP_REXMIT_LOST;
}

/**
 * xtcp_process_tlp_ack - an ACK during a loss probe episode (tcp_process_tlp_ack())
 * @sk:   the connection, locked
 * @ack:  its ACK number
 * @flag: XTCP_FLAG_*
 *
 * RFC 8985 7.4: the episode ends when the probe is acknowledged.  If
 * the probe re-sent data and the ACK goes beyond it without a D-SACK,
 * the original was lost: a one-time reduction (CWR), counted as
 * TCPLossProbeRecovery.  A D-SACK of the probe or a pure duplicate ACK
 * says both arrived: no loss.
 */
void xtcp_process_tlp_ack(struct sock *sk, u32 ack, int flag)
{
	struct tcp_sock *tp = tcp_sk(sk);

	if (before(ack, tp->tlp_high_seq))
		return;
	if (!tp->tlp_retrans) {
		tp->tlp_high_seq = 0;
	} else if (flag & XTCP_FLAG_DSACK_TLP) {
		tp->tlp_high_seq = 0;
	} else if (after(ack, tp->tlp_high_seq)) {
		xtcp_init_cwnd_reduction(sk);
		xtcp_set_ca_state(sk, TCP_CA_CWR);
		xtcp_end_cwnd_reduction(sk);
		xtcp_try_keep_open(sk);
		xtcp_inc_stats(sock_net(sk), XTCP_MIB_TCPLOSSPROBERECOVERY);
	} else if (!(flag & (XTCP_FLAG_SND_UNA_ADVANCED |
			     XTCP_FLAG_NOT_DUP | XTCP_FLAG_DATA_SACKED))) {
		tp->tlp_high_seq = 0;
	}
}
