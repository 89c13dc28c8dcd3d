// SPDX-License-Identifier: GPL-2.0
/*
 * xtcp: the SACK scoreboard (RFC 2018, RFC 2883, RFC 6675).
 *
 * Mirrors tcp_sacktag_write_queue() and its helpers in
 * net/ipv4/tcp_input.c.  Each skb of the retransmit queue carries three
 * tag bits in TCP_SKB_CB(skb)->sacked, counted in three counters:
 *
 *   SACKED_ACKED (S)  the peer has it            sacked_out
 *   LOST (L)          taken for lost             lost_out
 *   SACKED_RETRANS (R) a re-sent copy is in flight retrans_out
 *
 * with in flight = packets_out - (sacked_out + lost_out) + retrans_out
 * (tcp_packets_in_flight()).  The valid combinations and the events that
 * move between them are stock's, described above tcp_sacktag_one() in
 * tcp_input.c; the code below keeps them in stock's order so that the
 * counters agree with stock's at every ACK.
 *
 * A connection whose peer does not do SACK counts duplicate ACKs in
 * sacked_out instead (the "Reno" emulation at the end).
 *
 * One difference: stock merges newly SACKed skbs into their SACKed
 * predecessor (tcp_shift_skb_data()) to keep the queue short; xtcp
 * splits at the block edges and keeps the pieces.  The tags and the
 * counters are the same; the queue holds more skbs until they are
 * acknowledged.
 *
 * Context: the ACK path, socket locked.
 */
#include <net/tcp.h>

#include "xtcp.h"

/**
 * xtcp_count_delivered - count newly delivered packets (tcp_count_delivered())
 * @tp:        the connection
 * @delivered: packets
 * @ece_ack:   the ACK carried ECE: they arrived CE-marked
 */
void xtcp_count_delivered(struct tcp_sock *tp, u32 delivered, bool ece_ack)
{
	tp->delivered += delivered;
	if (ece_ack)
		tp->delivered_ce += delivered;
}

/*
 * tcp_dsack_seen(): a D-SACK of @start_seq..@end_seq.  Dubious if wider
 * than any window we were given, or if it reports more duplicates than
 * we ever re-sent (the peer, not our retransmissions, made them).
 * Returns the duplicate segments, 0 for a dubious one.
 */
static u32 xtcp_dsack_seen(struct tcp_sock *tp, u32 start_seq, u32 end_seq,
			   struct xtcp_sacktag_state *state)
{
	u32 seq_len, dup_segs = 1;

	if (!before(start_seq, end_seq))
		return 0;
	seq_len = end_seq - start_seq;
	if (seq_len > tp->max_window)
		return 0;
	if (seq_len > tp->mss_cache)
		dup_segs = DIV_ROUND_UP(seq_len, tp->mss_cache);
	else if (tp->tlp_high_seq && tp->tlp_high_seq == end_seq)
		state->flag |= XTCP_FLAG_DSACK_TLP;
	WRITE_ONCE(tp->dsack_dups, tp->dsack_dups + dup_segs);
	if (tp->dsack_dups > tp->total_retrans)
		return 0;
	tp->rx_opt.sack_ok |= TCP_DSACK_SEEN;
	/*
	 * RACK widens its reordering window after D-SACKs that reordering
	 * may have caused; not after those of loss probes, which a timer,
	 * not RACK, sent.
	 */
	if (tp->reord_seen && !(state->flag & XTCP_FLAG_DSACK_TLP))
		tp->rack.dsack_seen = 1;
	state->flag |= XTCP_FLAG_DSACKING_ACK;
	state->sack_delivered += dup_segs;	/* a spurious copy arrived */
	return dup_segs;
}

/**
 * xtcp_check_sack_reordering - data arrived out of order (tcp_check_sack_reordering())
 * @sk:      the connection, locked
 * @low_seq: the lowest never re-sent sequence delivered late
 * @ts:      the evidence was a timestamp (TCPTSReorder), not a SACK
 *
 * The reordering degree, in full-sized segments between @low_seq and
 * the highest SACKed sequence, at most net.xtcp.max_reordering.
 */
void xtcp_check_sack_reordering(struct sock *sk, u32 low_seq, int ts)
{
	struct tcp_sock *tp = tcp_sk(sk);
	const u32 mss = tp->mss_cache;
	u32 fack, metric;

	fack = tcp_highest_sack_seq(tp);
	if (!before(low_seq, fack))
		return;
	metric = fack - low_seq;
	if (metric > tp->reordering * mss && mss)
		tp->reordering = min_t(u32, (metric + mss - 1) / mss,
				       READ_ONCE(xtcp_pernet(sock_net(sk))->sysctl.max_reordering));
	tp->reord_seen++;
	xtcp_inc_stats(sock_net(sk), ts ? XTCP_MIB_TCPTSREORDER :
					  XTCP_MIB_TCPSACKREORDER);
}

/*
 * tcp_verify_retransmit_hint(): before lost_out grows, point the
 * retransmit walk at @skb if it is now the first to re-send.
 */
static void xtcp_verify_retransmit_hint(struct tcp_sock *tp,
					struct sk_buff *skb)
{
	if ((!tp->retransmit_skb_hint && tp->retrans_out >= tp->lost_out) ||
	    (tp->retransmit_skb_hint &&
	     before(TCP_SKB_CB(skb)->seq,
		    TCP_SKB_CB(tp->retransmit_skb_hint)->seq)))
		tp->retransmit_skb_hint = skb;
}

/**
 * xtcp_mark_skb_lost - take @skb for lost (tcp_mark_skb_lost())
 * @sk:  the connection, locked
 * @skb: an skb of the retransmit queue
 *
 * A SACKed skb is not lost.  A re-sent copy of a lost skb that is lost
 * again (RACK's verdict) is no longer counted in flight
 * (TCPLostRetransmit).  tp->lost counts each loss once.
 */
void xtcp_mark_skb_lost(struct sock *sk, struct sk_buff *skb)
{
	struct tcp_sock *tp = tcp_sk(sk);
	u8 sacked = TCP_SKB_CB(skb)->sacked;

	if (sacked & TCPCB_SACKED_ACKED)
		return;
	xtcp_verify_retransmit_hint(tp, skb);
	if (sacked & TCPCB_LOST) {
		if (sacked & TCPCB_SACKED_RETRANS) {
			TCP_SKB_CB(skb)->sacked &= ~TCPCB_SACKED_RETRANS;
			tp->retrans_out -= tcp_skb_pcount(skb);
			xtcp_add_stats(sock_net(sk),
				       XTCP_MIB_TCPLOSTRETRANSMIT,
				       tcp_skb_pcount(skb));
			tp->lost += tcp_skb_pcount(skb);
		}
	} else {
		tp->lost_out += tcp_skb_pcount(skb);
		TCP_SKB_CB(skb)->sacked |= TCPCB_LOST;
		tp->lost += tcp_skb_pcount(skb);
	}
}

/*
 * tcp_is_sackblock_valid(): a block must lie between SND.UNA and
 * SND.NXT, start before it ends, and not wrap.  A D-SACK may lie below
 * SND.UNA down to undo_marker (a little more across it, by max_window),
 * since only those can undo anything.  The comment above stock's
 * function gives the cases.
 */
static bool xtcp_is_sackblock_valid(struct tcp_sock *tp, bool is_dsack,
				    u32 start_seq, u32 end_seq)
{
	if (after(end_seq, tp->snd_nxt) || !before(start_seq, end_seq))
		return false;
	if (!before(start_seq, tp->snd_nxt))
		return false;
	if (after(start_seq, tp->snd_una))
		return true;
	if (!is_dsack || !tp->undo_marker)
		return false;
	if (after(end_seq, tp->snd_una))
		return false;
	if (!before(start_seq, tp->undo_marker))
		return true;
	if (!after(end_seq, tp->undo_marker))
		return false;
	return !before(start_seq, end_seq - tp->max_window);
}

/*
 * tcp_check_dsack(): RFC 2883 section 4: the first block is a D-SACK if
 * it lies below the ACK, or inside the second block.  A D-SACK of data
 * re-sent in this episode brings undo closer (undo_retrans).
 */
static bool xtcp_check_dsack(struct sock *sk, const struct sk_buff *ack_skb,
			     const struct tcp_sack_block_wire *sp,
			     int num_sacks, u32 prior_snd_una,
			     struct xtcp_sacktag_state *state)
{
	struct tcp_sock *tp = tcp_sk(sk);
	u32 start_seq_0 = get_unaligned_be32(&sp[0].start_seq);
	u32 end_seq_0 = get_unaligned_be32(&sp[0].end_seq);
	struct net *net = sock_net(sk);
	u32 dup_segs;

	if (before(start_seq_0, TCP_SKB_CB(ack_skb)->ack_seq)) {
		xtcp_inc_stats(net, XTCP_MIB_TCPDSACKRECV);
	} else if (num_sacks > 1) {
		u32 end_seq_1 = get_unaligned_be32(&sp[1].end_seq);
		u32 start_seq_1 = get_unaligned_be32(&sp[1].start_seq);

		if (after(end_seq_0, end_seq_1) ||
		    before(start_seq_0, start_seq_1))
			return false;
		xtcp_inc_stats(net, XTCP_MIB_TCPDSACKOFORECV);
	} else {
		return false;
	}
	dup_segs = xtcp_dsack_seen(tp, start_seq_0, end_seq_0, state);
	if (!dup_segs) {
		xtcp_inc_stats(net, XTCP_MIB_TCPDSACKIGNOREDDUBIOUS);
		return false;
	}
	xtcp_add_stats(net, XTCP_MIB_TCPDSACKRECVSEGS, dup_segs);
	/* D-SACK of data already acknowledged: count it, no skb to tag. */
	if (tp->undo_marker && tp->undo_retrans > 0 &&
	    !after(end_seq_0, prior_snd_una) &&
	    after(end_seq_0, tp->undo_marker))
		tp->undo_retrans = max_t(int, 0, tp->undo_retrans - dup_segs);
	return true;
}

/*
 * tcp_match_skb_to_sack(): is @skb inside the block?  A multi-segment
 * skb that the block covers in part is split at a segment boundary
 * (the block's edge rounded to whole MSSes), so that the tags stay per
 * segment.  Returns 1 inside, 0 outside, < 0 if the split failed.
 */
static int xtcp_match_skb_to_sack(struct sock *sk, struct sk_buff *skb,
				  u32 start_seq, u32 end_seq)
{
	unsigned int pkt_len, mss;
	bool in_sack;
	int err;

	in_sack = !after(start_seq, TCP_SKB_CB(skb)->seq) &&
		  !before(end_seq, TCP_SKB_CB(skb)->end_seq);
	if (tcp_skb_pcount(skb) > 1 && !in_sack &&
	    after(TCP_SKB_CB(skb)->end_seq, start_seq)) {
		mss = tcp_skb_mss(skb);
		in_sack = !after(start_seq, TCP_SKB_CB(skb)->seq);
		if (!in_sack) {
			pkt_len = start_seq - TCP_SKB_CB(skb)->seq;
			if (pkt_len < mss)
				pkt_len = mss;
		} else {
			pkt_len = end_seq - TCP_SKB_CB(skb)->seq;
			if (pkt_len < mss)
				return -EINVAL;
		}
		/* Only whole MSSes, and the small rest at the end, are tagged. */
		if (pkt_len > mss) {
			unsigned int new_len = (pkt_len / mss) * mss;

			if (!in_sack && new_len < pkt_len)
				new_len += mss;
			pkt_len = new_len;
		}
		if (pkt_len >= skb->len && !in_sack)
			return 0;
		err = xtcp_fragment(sk, TCP_FRAG_IN_RTX_QUEUE, skb, pkt_len,
				    mss, GFP_ATOMIC);
		if (err < 0)
			return err;
	}
	return in_sack;
}

/*
 * tcp_sacktag_one(): tag one newly SACKed (or D-SACKed) range and keep
 * the counters, RACK's clock and the reordering evidence.  Returns the
 * new tag bits.
 */
static u8 xtcp_sacktag_one(struct sock *sk, struct xtcp_sacktag_state *state,
			   u8 sacked, u32 start_seq, u32 end_seq,
			   int dup_sack, int pcount, u64 xmit_time)
{
	struct tcp_sock *tp = tcp_sk(sk);

	/* A D-SACK of a re-sent segment: one less to wait for undo. */
	if (dup_sack && (sacked & TCPCB_RETRANS)) {
		if (tp->undo_marker && tp->undo_retrans > 0 &&
		    after(end_seq, tp->undo_marker))
			tp->undo_retrans = max_t(int, 0,
						 tp->undo_retrans - pcount);
		if ((sacked & TCPCB_SACKED_ACKED) &&
		    before(start_seq, state->reord))
			state->reord = start_seq;
	}
	/* Already acknowledged: about to be freed. */
	if (!after(end_seq, tp->snd_una))
		return sacked;

	if (!(sacked & TCPCB_SACKED_ACKED)) {
		xtcp_rack_advance(tp, sacked, end_seq, xmit_time);
		if (sacked & TCPCB_SACKED_RETRANS) {
			/*
			 * Lost and re-sent: the copy arrived.  Not lost: the
			 * re-sent copy may still be in flight.
			 */
			if (sacked & TCPCB_LOST) {
				sacked &= ~(TCPCB_LOST | TCPCB_SACKED_RETRANS);
				tp->lost_out -= pcount;
				tp->retrans_out -= pcount;
			}
		} else {
			if (!(sacked & TCPCB_RETRANS)) {
				/* A hole filled by its original: reordering. */
				if (before(start_seq, tcp_highest_sack_seq(tp)) &&
				    before(start_seq, state->reord))
					state->reord = start_seq;
				if (!after(end_seq, tp->high_seq))
					state->flag |= XTCP_FLAG_ORIG_SACK_ACKED;
				if (!state->first_sackt)
					state->first_sackt = xmit_time;
				state->last_sackt = xmit_time;
			}
			if (sacked & TCPCB_LOST) {
				sacked &= ~TCPCB_LOST;
				tp->lost_out -= pcount;
			}
		}
		sacked |= TCPCB_SACKED_ACKED;
		state->flag |= XTCP_FLAG_DATA_SACKED;
		tp->sacked_out += pcount;
		state->sack_delivered += pcount;
		/* SACKed below the lost-marking hint: its count moves. */
		if (tp->lost_skb_hint &&
		    before(start_seq, TCP_SKB_CB(tp->lost_skb_hint)->seq))
			tp->lost_cnt_hint += pcount;
	}
	/*
	 * D-SACK: the re-sent copy of an S|R or R segment was not needed;
	 * it is not in flight either.
	 */
	if (dup_sack && (sacked & TCPCB_SACKED_RETRANS)) {
		sacked &= ~TCPCB_SACKED_RETRANS;
		tp->retrans_out -= pcount;
	}
	return sacked;
}

/*
 * tcp_sacktag_walk(): tag every skb from @skb that lies in
 * @start_seq..@end_seq (or in the D-SACK block @next_dup, which may
 * overlap it).  Returns where the walk stopped.
 */
static struct sk_buff *xtcp_sacktag_walk(struct sk_buff *skb, struct sock *sk,
					 struct tcp_sack_block *next_dup,
					 struct xtcp_sacktag_state *state,
					 u32 start_seq, u32 end_seq,
					 bool dup_sack_in)
{
	struct tcp_sock *tp = tcp_sk(sk);

	skb_rbtree_walk_from(skb) {
		struct tcp_skb_cb *scb = TCP_SKB_CB(skb);
		bool dup_sack = dup_sack_in;
		int in_sack = 0;

		/* The queue is in sequence order. */
		if (!before(scb->seq, end_seq))
			break;
		if (next_dup && before(scb->seq, next_dup->end_seq)) {
			in_sack = xtcp_match_skb_to_sack(sk, skb,
							 next_dup->start_seq,
							 next_dup->end_seq);
			if (in_sack > 0)
				dup_sack = true;
		}
		if (in_sack <= 0)
			in_sack = xtcp_match_skb_to_sack(sk, skb, start_seq,
							 end_seq);
		if (unlikely(in_sack < 0))
			break;
		if (!in_sack)
			continue;
		scb->sacked = xtcp_sacktag_one(sk, state, scb->sacked,
					       scb->seq, scb->end_seq,
					       dup_sack, tcp_skb_pcount(skb),
					       tcp_skb_timestamp_us(skb));
		xtcp_rate_skb_delivered(sk, skb, state->rate);
		/* RACK walks only what may still be lost. */
		if (scb->sacked & TCPCB_SACKED_ACKED)
			list_del_init(&skb->tcp_tsorted_anchor);
		if (!before(scb->seq, tcp_highest_sack_seq(tp)))
			tcp_advance_highest_sack(sk, skb);
	}
	return skb;
}

/* tcp_sacktag_bsearch(): the skb holding @seq, by the rbtree. */
static struct sk_buff *xtcp_sacktag_bsearch(struct sock *sk, u32 seq)
{
	struct rb_node *parent, **p = &sk->tcp_rtx_queue.rb_node;
	struct sk_buff *skb;

	while (*p) {
		parent = *p;
		skb = rb_to_skb(parent);
		if (before(seq, TCP_SKB_CB(skb)->seq)) {
			p = &parent->rb_left;
			continue;
		}
		if (!before(seq, TCP_SKB_CB(skb)->end_seq)) {
			p = &parent->rb_right;
			continue;
		}
		return skb;
	}
	return NULL;
}

/* tcp_sacktag_skip(): move the walk forward to @skip_to_seq. */
static struct sk_buff *xtcp_sacktag_skip(struct sk_buff *skb, struct sock *sk,
					 u32 skip_to_seq)
{
	if (skb && after(TCP_SKB_CB(skb)->seq, skip_to_seq))
		return skb;
	return xtcp_sacktag_bsearch(sk, skip_to_seq);
}

/*
 * tcp_maybe_skipping_dsack(): a D-SACK block below where the walk is
 * going would be skipped with the cached part; tag it first.
 */
static struct sk_buff *
xtcp_maybe_skipping_dsack(struct sk_buff *skb, struct sock *sk,
			  struct tcp_sack_block *next_dup,
			  struct xtcp_sacktag_state *state, u32 skip_to_seq)
{
	if (!next_dup)
		return skb;
	if (before(next_dup->start_seq, skip_to_seq)) {
		skb = xtcp_sacktag_skip(skb, sk, next_dup->start_seq);
		skb = xtcp_sacktag_walk(skb, sk, NULL, state,
					next_dup->start_seq,
					next_dup->end_seq, 1);
	}
	return skb;
}

static bool xtcp_sack_cache_ok(const struct tcp_sock *tp,
			       const struct tcp_sack_block *cache)
{
	return cache < tp->recv_sack_cache + ARRAY_SIZE(tp->recv_sack_cache);
}

/*
 * The blocks of @ack_skb's SACK option that are valid and new enough,
 * sorted by sequence for one in-order walk.  *@first_sack_index is where
 * the first block (the D-SACK, if any) went, -1 if it was dropped.
 */
static int xtcp_sack_blocks(struct sock *sk, const struct sk_buff *ack_skb,
			    const struct tcp_sack_block_wire *sp_wire,
			    int num_sacks, bool found_dup_sack,
			    u32 prior_snd_una, struct tcp_sack_block *sp,
			    int *first_sack_index)
{
	struct tcp_sock *tp = tcp_sk(sk);
	int used_sacks = 0, i, j;

	*first_sack_index = 0;
	for (i = 0; i < num_sacks; i++) {
		bool dup_sack = !i && found_dup_sack;
		int mib;

		sp[used_sacks].start_seq =
			get_unaligned_be32(&sp_wire[i].start_seq);
		sp[used_sacks].end_seq = get_unaligned_be32(&sp_wire[i].end_seq);
		if (!xtcp_is_sackblock_valid(tp, dup_sack,
					     sp[used_sacks].start_seq,
					     sp[used_sacks].end_seq)) {
			if (dup_sack) {
				mib = tp->undo_marker ?
				      XTCP_MIB_TCPDSACKIGNOREDOLD :
				      XTCP_MIB_TCPDSACKIGNOREDNOUNDO;
			} else {
				/* Old blocks of a reordered ACK: not counted. */
				if (TCP_SKB_CB(ack_skb)->ack_seq != tp->snd_una &&
				    !after(sp[used_sacks].end_seq, tp->snd_una))
					continue;
				mib = XTCP_MIB_TCPSACKDISCARD;
			}
			xtcp_inc_stats(sock_net(sk), mib);
			if (i == 0)
				*first_sack_index = -1;
			continue;
		}
		/* Very old: ignored early. */
		if (!after(sp[used_sacks].end_seq, prior_snd_una)) {
			if (i == 0)
				*first_sack_index = -1;
			continue;
		}
		used_sacks++;
	}
	for (i = used_sacks - 1; i > 0; i--) {
		for (j = 0; j < i; j++) {
			if (after(sp[j].start_seq, sp[j + 1].start_seq)) {
				swap(sp[j], sp[j + 1]);
				if (j == *first_sack_index)
					*first_sack_index = j + 1;
			}
		}
	}
	return used_sacks;
}

/* Remember this ACK's blocks, so that the next ACK walks only what is new. */
static void xtcp_sack_cache_update(struct tcp_sock *tp,
				   const struct tcp_sack_block *sp,
				   int used_sacks)
{
	int i, j;

	for (i = 0; i < ARRAY_SIZE(tp->recv_sack_cache) - used_sacks; i++) {
		tp->recv_sack_cache[i].start_seq = 0;
		tp->recv_sack_cache[i].end_seq = 0;
	}
	for (j = 0; j < used_sacks; j++)
		tp->recv_sack_cache[i++] = sp[j];
}

/**
 * xtcp_sacktag_write_queue - take an ACK's SACK blocks (tcp_sacktag_write_queue())
 * @sk:            the connection, locked
 * @ack_skb:       the ACK; TCP_SKB_CB(ack_skb)->sacked is the offset of
 *                 its SACK option in the TCP header (xtcp_parse_options())
 * @prior_snd_una: SND.UNA before this ACK
 * @state:         filled in
 *
 * Validate the blocks (a D-SACK first, RFC 2883), sort them, and tag the
 * retransmit queue in one walk, skipping what the previous ACK's blocks
 * (recv_sack_cache) already tagged.  Then take the reordering evidence,
 * unless this is a loss episode that cannot be undone.
 *
 * Return: the XTCP_FLAG_* raised (also in @state->flag).
 */
int xtcp_sacktag_write_queue(struct sock *sk, const struct sk_buff *ack_skb,
			     u32 prior_snd_una,
			     struct xtcp_sacktag_state *state)
{
	struct tcp_sock *tp = tcp_sk(sk);
	const unsigned char *ptr = skb_transport_header(ack_skb) +
				   TCP_SKB_CB(ack_skb)->sacked;
	const struct tcp_sack_block_wire *sp_wire = (const void *)(ptr + 2);
	int num_sacks = min(TCP_NUM_SACKS, (ptr[1] - TCPOLEN_SACK_BASE) >> 3);
	struct tcp_sack_block sp[TCP_NUM_SACKS];
	int used_sacks, first_sack_index, i;
	struct tcp_sack_block *cache;
	struct sk_buff *skb = NULL;
	bool found_dup_sack;

	state->flag = 0;
	state->reord = tp->snd_nxt;
	if (!tp->sacked_out)
		tcp_highest_sack_reset(sk);
	found_dup_sack = xtcp_check_dsack(sk, ack_skb, sp_wire, num_sacks,
					  prior_snd_una, state);
	/* Too old to mean anything; a fresher old ACK may still. */
	if (before(TCP_SKB_CB(ack_skb)->ack_seq,
		   prior_snd_una - tp->max_window))
		return 0;
	if (!tp->packets_out)
		goto out;

	used_sacks = xtcp_sack_blocks(sk, ack_skb, sp_wire, num_sacks,
				      found_dup_sack, prior_snd_una, sp,
				      &first_sack_index);
	state->mss_now = xtcp_current_mss(sk);
	if (!tp->sacked_out) {
		/* Nothing SACKed: the cache is stale. */
		cache = tp->recv_sack_cache + ARRAY_SIZE(tp->recv_sack_cache);
	} else {
		cache = tp->recv_sack_cache;
		while (xtcp_sack_cache_ok(tp, cache) && !cache->start_seq &&
		       !cache->end_seq)
			cache++;
	}

	i = 0;
	while (i < used_sacks) {
		u32 start_seq = sp[i].start_seq;
		u32 end_seq = sp[i].end_seq;
		bool dup_sack = found_dup_sack && i == first_sack_index;
		struct tcp_sack_block *next_dup = NULL;

		if (found_dup_sack && i + 1 == first_sack_index)
			next_dup = &sp[i + 1];
		while (xtcp_sack_cache_ok(tp, cache) &&
		       !before(start_seq, cache->end_seq))
			cache++;
		if (xtcp_sack_cache_ok(tp, cache) && !dup_sack &&
		    after(end_seq, cache->start_seq)) {
			/* The part before the cached block is new. */
			if (before(start_seq, cache->start_seq)) {
				skb = xtcp_sacktag_skip(skb, sk, start_seq);
				skb = xtcp_sacktag_walk(skb, sk, next_dup, state,
							start_seq,
							cache->start_seq,
							dup_sack);
			}
			if (!after(end_seq, cache->end_seq))
				goto advance_sp;
			skb = xtcp_maybe_skipping_dsack(skb, sk, next_dup,
							state, cache->end_seq);
			/* The tail is new; the highest SACK may be its start. */
			if (tcp_highest_sack_seq(tp) == cache->end_seq) {
				skb = tcp_highest_sack(sk);
				if (!skb)
					break;
				cache++;
				goto walk;
			}
			skb = xtcp_sacktag_skip(skb, sk, cache->end_seq);
			/* The same block again, against the next cached one. */
			cache++;
			continue;
		}
		if (!before(start_seq, tcp_highest_sack_seq(tp))) {
			skb = tcp_highest_sack(sk);
			if (!skb)
				break;
		}
		skb = xtcp_sacktag_skip(skb, sk, start_seq);
walk:
		skb = xtcp_sacktag_walk(skb, sk, next_dup, state, start_seq,
					end_seq, dup_sack);
advance_sp:
		i++;
	}

	xtcp_sack_cache_update(tp, sp, used_sacks);
	if (inet_csk(sk)->icsk_ca_state != TCP_CA_Loss || tp->undo_marker)
		xtcp_check_sack_reordering(sk, state->reord, 0);
	tcp_verify_left_out(tp);
out:
	return state->flag;
}

/*
 * A peer without SACK: each duplicate ACK says one more segment left
 * the network, and sacked_out counts them (RFC 5681 3.2, RFC 6582).
 */

/**
 * xtcp_limit_reno_sacked - keep the dupack count plausible (tcp_limit_reno_sacked())
 * @tp: the connection
 *
 * sacked_out + the holes (at least one) never exceeds packets_out.
 *
 * Return: true if sacked_out had to be cut.
 */
bool xtcp_limit_reno_sacked(struct tcp_sock *tp)
{
	u32 holes;

	holes = max(tp->lost_out, 1U);
	holes = min(holes, tp->packets_out);
	if (tp->sacked_out + holes > tp->packets_out) {
		tp->sacked_out = tp->packets_out - holes;
		return true;
	}
	return false;
}

/*
 * tcp_check_reno_reordering(): more duplicate ACKs than segments could
 * cause: reordering (or a broken peer).
 */
static void xtcp_check_reno_reordering(struct sock *sk, const int addend)
{
	struct tcp_sock *tp = tcp_sk(sk);

	if (!xtcp_limit_reno_sacked(tp))
		return;
	tp->reordering = min_t(u32, tp->packets_out + addend,
			       READ_ONCE(xtcp_pernet(sock_net(sk))->sysctl.max_reordering));
	tp->reord_seen++;
	xtcp_inc_stats(sock_net(sk), XTCP_MIB_TCPRENOREORDER);
}

/**
 * xtcp_add_reno_sack - count duplicate ACKs (tcp_add_reno_sack())
 * @sk:         the connection, locked
 * @num_dupack: how many (a GRO-merged pure ACK counts each segment)
 * @ece_ack:    with ECE
 */
void xtcp_add_reno_sack(struct sock *sk, int num_dupack, bool ece_ack)
{
	struct tcp_sock *tp = tcp_sk(sk);
	u32 prior_sacked = tp->sacked_out;
	s32 delivered;

	if (!num_dupack)
		return;
	tp->sacked_out += num_dupack;
	xtcp_check_reno_reordering(sk, 0);
	delivered = tp->sacked_out - prior_sacked;
	if (delivered > 0)
		xtcp_count_delivered(tp, delivered, ece_ack);
	tcp_verify_left_out(tp);
}

/**
 * xtcp_remove_reno_sacks - a cumulative ACK in Reno recovery (tcp_remove_reno_sacks())
 * @sk:      the connection, locked
 * @acked:   packets it acknowledged
 * @ece_ack: with ECE
 *
 * One of them filled the hole; the rest had been counted as duplicate
 * ACKs already.
 */
void xtcp_remove_reno_sacks(struct sock *sk, int acked, bool ece_ack)
{
	struct tcp_sock *tp = tcp_sk(sk);

	if (acked > 0) {
		xtcp_count_delivered(tp, max_t(int, acked - tp->sacked_out, 1),
				     ece_ack);
		if (acked - 1 >= tp->sacked_out)
			tp->sacked_out = 0;
		else
			tp->sacked_out -= acked - 1;
	}
	xtcp_check_reno_reordering(sk, acked);
	tcp_verify_left_out(tp);
}
