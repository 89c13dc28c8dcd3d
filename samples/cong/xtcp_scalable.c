// SPDX-License-Identifier: GPL-2.0
/*
 * xtcp_scalable: Tom Kelly's Scalable TCP for xtcp, after stock's
 * net/ipv4/tcp_scalable.c (John Heffner), built out of tree against
 * xtcp's installed headers (Documentation/cong-example.rst).
 * TCP_CONGESTION "scalable" on an AF_XTCP socket loads it by its file
 * name, xtcp_scalable.ko.
 *
 * Above ssthresh cwnd grows by one segment per min(cwnd, 100) segments
 * acknowledged (a = 0.01), and a loss takes away an eighth of it
 * (b = 1/8) instead of Reno's half.
 */
#include <linux/module.h>
#include <net/tcp.h>
#include <xtcp/cong.h>

#define SCALABLE_AI_CNT		100U
#define SCALABLE_MD_SCALE	3

static void xtcp_scalable_cong_avoid(struct sock *sk, u32 ack, u32 acked)
{
	struct tcp_sock *tp = tcp_sk(sk);

	if (!xtcp_is_cwnd_limited(sk))
		return;
	if (tcp_in_slow_start(tp)) {
		acked = xtcp_slow_start(tp, acked);
		if (!acked)
			return;
	}
	xtcp_cong_avoid_ai(tp, min(tcp_snd_cwnd(tp), SCALABLE_AI_CNT), acked);
}

static u32 xtcp_scalable_ssthresh(struct sock *sk)
{
	u32 cwnd = tcp_snd_cwnd(tcp_sk(sk));

	return max(cwnd - (cwnd >> SCALABLE_MD_SCALE), 2U);
}

static struct xtcp_cong_ops xtcp_scalable __read_mostly = {
	.ssthresh	= xtcp_scalable_ssthresh,
	.undo_cwnd	= xtcp_reno_undo_cwnd,
	.cong_avoid	= xtcp_scalable_cong_avoid,
	.owner		= THIS_MODULE,
	.name		= "scalable",
};

static int __init xtcp_scalable_register(void)
{
	return xtcp_register_congestion_control(&xtcp_scalable);
}

static void __exit xtcp_scalable_unregister(void)
{
	xtcp_unregister_congestion_control(&xtcp_scalable);
}

module_init(xtcp_scalable_register);
module_exit(xtcp_scalable_unregister);

MODULE_LICENSE("GPL");
MODULE_DESCRIPTION("Scalable TCP for xtcp, after net/ipv4/tcp_scalable.c");
