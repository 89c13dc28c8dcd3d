// SPDX-License-Identifier: GPL-2.0
/*
 * xtcp: parsing TCP options (tcp_parse_options(), net/ipv4/tcp_input.c).
 *
 * Parsed exactly as stock TCP parses them, so that a peer sees the same
 * answer from both: an option with a bad length ends the parse and the
 * options before it stand.  xtcp counts such segments (InOptErrors) but,
 * as stock, still answers them; nothing after the bad option is trusted.
 * The knobs are xtcp's own net.xtcp.{window_scaling,timestamps,sack}.
 */
#include <net/tcp.h>

#include "xtcp.h"

/*
 * tcp_parse_fastopen_option(): a Fast Open cookie of @len bytes at
 * @cookie, valid only in a SYN and of even length; an empty one asks for
 * a cookie (len 0), one of 4..16 bytes is kept, any other length is
 * taken as no option (len -1).  @exp_opt: it came in the experimental
 * option (254 with magic 0xF989), to be answered in the same.
 */
static void xtcp_parse_fastopen_option(int len, const unsigned char *cookie,
				       bool syn, struct tcp_fastopen_cookie *foc,
				       bool exp_opt)
{
	if (!foc || !syn || len < 0 || (len & 1))
		return;
	if (len >= TCP_FASTOPEN_COOKIE_MIN && len <= TCP_FASTOPEN_COOKIE_MAX)
		memcpy(foc->val, cookie, len);
	else if (len != 0)
		len = -1;
	foc->len = len;
	foc->exp = exp_opt;
}

/* One option of kind @opcode and total size @opsize at @ptr (its data). */
static void xtcp_parse_one(const struct xtcp_sysctl *s, const struct tcphdr *th,
			   struct tcp_options_received *opt_rx, int estab,
			   struct tcp_fastopen_cookie *foc,
			   int opcode, int opsize, const unsigned char *ptr)
{
	switch (opcode) {
	case TCPOPT_MSS:
		if (opsize == TCPOLEN_MSS && th->syn && !estab) {
			u16 in_mss = get_unaligned_be16(ptr);

			if (in_mss) {
				if (opt_rx->user_mss && opt_rx->user_mss < in_mss)
					in_mss = opt_rx->user_mss;
				opt_rx->mss_clamp = in_mss;
			}
		}
		break;
	case TCPOPT_WINDOW:
		if (opsize == TCPOLEN_WINDOW && th->syn && !estab &&
		    READ_ONCE(s->window_scaling)) {
			/* RFC 7323 section 2.3: clamp, do not refuse. */
			opt_rx->wscale_ok = 1;
			opt_rx->snd_wscale = min_t(u8, *ptr, TCP_MAX_WSCALE);
		}
		break;
	case TCPOPT_TIMESTAMP:
		if (opsize == TCPOLEN_TIMESTAMP &&
		    ((estab && opt_rx->tstamp_ok) ||
		     (!estab && READ_ONCE(s->timestamps)))) {
			opt_rx->saw_tstamp = 1;
			opt_rx->rcv_tsval = get_unaligned_be32(ptr);
			opt_rx->rcv_tsecr = get_unaligned_be32(ptr + 4);
		}
		break;
	case TCPOPT_SACK_PERM:
		if (opsize == TCPOLEN_SACK_PERM && th->syn && !estab &&
		    READ_ONCE(s->sack)) {
			opt_rx->sack_ok = TCP_SACK_SEEN;
			tcp_sack_reset(opt_rx);
		}
		break;
	case TCPOPT_FASTOPEN:
		xtcp_parse_fastopen_option(opsize - TCPOLEN_FASTOPEN_BASE, ptr,
					   th->syn, foc, false);
		break;
	case TCPOPT_EXP:
		/* Fast Open's experimental form: kind 254, 16-bit magic. */
		if (opsize >= TCPOLEN_EXP_FASTOPEN_BASE &&
		    get_unaligned_be16(ptr) == TCPOPT_FASTOPEN_MAGIC)
			xtcp_parse_fastopen_option(opsize -
						   TCPOLEN_EXP_FASTOPEN_BASE,
						   ptr + 2, th->syn, foc, true);
		break;
	}
}

/**
 * xtcp_parse_options - parse the options of the segment in @skb
 * @net:    its namespace, for the knobs
 * @skb:    the segment; its header was pulled and validated.  The
 *          offset of a SACK option goes to TCP_SKB_CB(skb)->sacked.
 * @opt_rx: what was seen; mss_clamp and user_mss are inputs too
 * @estab:  nonzero on a synchronized connection (only TS then counts)
 * @foc:    where a SYN's Fast Open cookie goes (len -1 stays if none),
 *          or NULL to ignore it
 *
 * Return: false if an option was malformed (what precedes it stands).
 */
XTCP_SEED bool xtcp_parse_options(const struct net *net, const struct sk_buff *skb,
				  struct tcp_options_received *opt_rx, int estab,
				  struct tcp_fastopen_cookie *foc)
{
	const struct xtcp_sysctl *s = &xtcp_pernet(net)->sysctl;
	const struct tcphdr *th = tcp_hdr(skb);
	int length = (th->doff * 4) - sizeof(struct tcphdr);
	const unsigned char *ptr = (const unsigned char *)(th + 1);
	int opcode, opsize;

	opt_rx->saw_tstamp = 0;
	opt_rx->saw_unknown = 0;

	while (length > 0) {
		opcode = *ptr++;
		if (opcode == TCPOPT_EOL)
			return true;
		if (opcode == TCPOPT_NOP) {	/* RFC 9293 section 3.1 */
			length--;
			continue;
		}
		if (length < 2)
			return false;
		opsize = *ptr++;
		/* "silly options", or one that runs past the header */
		if (opsize < 2 || opsize > length)
			return false;
		xtcp_parse_one(s, th, opt_rx, estab, foc, opcode, opsize, ptr);
		/*
		 * SACK blocks (RFC 2018): where they are, for the
		 * scoreboard (xtcp_sacktag_write_queue()).
		 */
		if (opcode == TCPOPT_SACK &&
		    opsize >= TCPOLEN_SACK_BASE + TCPOLEN_SACK_PERBLOCK &&
		    !((opsize - TCPOLEN_SACK_BASE) % TCPOLEN_SACK_PERBLOCK) &&
		    opt_rx->sack_ok)
			TCP_SKB_CB(skb)->sacked = (ptr - 2) -
						  (const unsigned char *)th;
		ptr += opsize - 2;
		length -= opsize;
	}
	return true;
}
