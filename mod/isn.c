// SPDX-License-Identifier: GPL-2.0
/*
 * xtcp: initial sequence numbers and timestamp offsets.
 *
 * RFC 6528: ISN = M + F(localip, localport, remoteip, remoteport, key),
 * with M a clock ticking every 64 ns and F a keyed hash (SipHash), so
 * that an off-path attacker cannot guess the ISN of a connection.  As
 * secure_tcp_seq() and secure_tcp_ts_off() in net/core/secure_seq.c, which
 * are not exported; the keys are xtcp's own, drawn at module load.
 * RFC 7323 section 5.4: a per-host-pair random offset hides the host's
 * clock in TSval (net.xtcp.timestamps=1; =2 sends the raw clock).
 */
#include <linux/random.h>
#include <linux/siphash.h>
#include <net/ip.h>
#include <net/tcp.h>

#include "xtcp.h"

static siphash_aligned_key_t xtcp_isn_key;
static siphash_aligned_key_t xtcp_ts_key;

void xtcp_isn_init(void)
{
	get_random_bytes(&xtcp_isn_key, sizeof(xtcp_isn_key));
	get_random_bytes(&xtcp_ts_key, sizeof(xtcp_ts_key));
}

/* The ISN for the connection a SYN in @skb asks for. */
XTCP_SEED u32 xtcp_init_sequence(const struct sk_buff *skb)
{
	const struct iphdr *iph = ip_hdr(skb);
	const struct tcphdr *th = tcp_hdr(skb);
	u32 hash;

	hash = siphash_3u32((__force u32)iph->daddr, (__force u32)iph->saddr,
			    (__force u32)th->dest << 16 | (__force u32)th->source,
			    &xtcp_isn_key);
	return hash + (u32)(ktime_get_real_ns() >> 6);
}

/* The TSval offset for a connection with the peer of @skb. */
u32 xtcp_init_ts_off(const struct net *net, const struct sk_buff *skb)
{
	const struct iphdr *iph = ip_hdr(skb);

	if (READ_ONCE(xtcp_pernet(net)->sysctl.timestamps) != 1)
		return 0;
	return siphash_2u32((__force u32)iph->daddr, (__force u32)iph->saddr,
			    &xtcp_ts_key);
}
