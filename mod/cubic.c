// SPDX-License-Identifier: GPL-2.0
/*
 * xtcp: CUBIC congestion control with HyStart (RFC 9438).
 *
 * Mirrors net/ipv4/tcp_cubic.c (the same in Debian's 6.1 and 6.12), as
 * xtcp's registry's default algorithm, as CUBIC is stock's: after a
 * loss the window falls to beta = 717/1024 of itself and then grows
 * along a cubic curve in the time since the loss, flat around the
 * window where the loss happened (W_max), so that it probes that
 * region carefully and beyond it fast.  It never grows slower than Reno
 * would ("TCP friendliness").  HyStart leaves slow start early when
 * ACKs of one round stop coming back-to-back (ACK train) or the RTT of
 * a round rises above the minimum by an eighth (delay), counted in
 * TCPHystart*.
 *
 * Time: jiffies for the epoch, us for delays (tcp_mstamp).  The tunables
 * are module parameters named as stock's with a cubic_ prefix
 * (/sys/module/xtcp/parameters/cubic_beta, ...); beta and bic_scale are
 * read once, at load, as stock's are.
 *
 * Context: every hook runs with the socket locked (xtcp_cong_ops).
 */
#include <linux/math64.h>
#include <linux/module.h>
#include <net/tcp.h>

#include "xtcp.h"

#define CUBIC_BETA_SCALE	1024	/* beta is in 1/1024 */
#define CUBIC_HZ		10	/* the curve's time unit: 2^-10 s */

#define HYSTART_ACK_TRAIN	0x1
#define HYSTART_DELAY		0x2
#define HYSTART_MIN_SAMPLES	8	/* RTT samples a round needs */
#define HYSTART_DELAY_MIN	4000U	/* us */
#define HYSTART_DELAY_MAX	16000U	/* us */

static int cubic_fast_convergence __read_mostly = 1;
static int cubic_beta __read_mostly = 717;
static int cubic_initial_ssthresh __read_mostly;
static int cubic_bic_scale __read_mostly = 41;
static int cubic_tcp_friendliness __read_mostly = 1;
static int cubic_hystart __read_mostly = 1;
static int cubic_hystart_detect __read_mostly = HYSTART_ACK_TRAIN |
						HYSTART_DELAY;
static int cubic_hystart_low_window __read_mostly = 16;
static int cubic_hystart_ack_delta_us __read_mostly = 2000;

module_param(cubic_fast_convergence, int, 0644);
MODULE_PARM_DESC(cubic_fast_convergence, "CUBIC: release bandwidth early to newer flows");
module_param(cubic_beta, int, 0444);
MODULE_PARM_DESC(cubic_beta, "CUBIC: multiplicative decrease, in 1/1024");
module_param(cubic_initial_ssthresh, int, 0644);
MODULE_PARM_DESC(cubic_initial_ssthresh, "CUBIC: initial ssthresh without HyStart");
module_param(cubic_bic_scale, int, 0444);
MODULE_PARM_DESC(cubic_bic_scale, "CUBIC: the curve's C, in 1/1024");
module_param(cubic_tcp_friendliness, int, 0644);
MODULE_PARM_DESC(cubic_tcp_friendliness, "CUBIC: never slower than Reno");
module_param(cubic_hystart, int, 0644);
MODULE_PARM_DESC(cubic_hystart, "CUBIC: hybrid slow start");
module_param(cubic_hystart_detect, int, 0644);
MODULE_PARM_DESC(cubic_hystart_detect, "HyStart: 1 ACK train, 2 delay, 3 both");
module_param(cubic_hystart_low_window, int, 0644);
MODULE_PARM_DESC(cubic_hystart_low_window, "HyStart: smallest cwnd it acts on");
module_param(cubic_hystart_ack_delta_us, int, 0644);
MODULE_PARM_DESC(cubic_hystart_ack_delta_us, "HyStart: ACK spacing of a train, us");

/* Precomputed at load from beta and bic_scale (xtcp_cubic_init_consts()). */
static u32 cubic_beta_reno;	/* Reno's growth matching beta, x8/3 */
static u32 cubic_rtt_scale;	/* 1024 * C / RTT for a 100 ms RTT */
static u64 cubic_k_factor;	/* 2^40 / (C * 10): for K's cube root */

/*
 * Per connection, in inet_csk_ca(sk) (struct bictcp's fields): the
 * curve's epoch and the HyStart round.  Everything before @unused is
 * cleared when an epoch restarts.
 */
struct xtcp_cubic {
	u32	cnt;		/* ACKed segments per cwnd increment */
	u32	last_max_cwnd;	/* W_max: cwnd at the last reduction */
	u32	last_cwnd;	/* cwnd when cnt was last computed */
	u32	last_time;	/* and when, jiffies */
	u32	origin_point;	/* the curve's plateau, segments */
	u32	k;		/* time to reach it from the epoch, 2^-10 s */
	u32	delay_min;	/* smallest RTT seen, us */
	u32	epoch_start;	/* start of this growth epoch, jiffies; 0: none */
	u32	ack_cnt;	/* segments ACKed in this epoch */
	u32	tcp_cwnd;	/* what Reno's cwnd would be */
	u16	unused;
	u8	sample_cnt;	/* RTT samples in this HyStart round */
	u8	found;		/* HyStart left slow start */
	u32	round_start;	/* this round's start, us */
	u32	end_seq;	/* the round ends when this is ACKed */
	u32	last_ack;	/* last ACK of the current train, us */
	u32	curr_rtt;	/* smallest RTT of this round, us */
};

static void xtcp_cubic_reset(struct xtcp_cubic *ca)
{
	memset(ca, 0, offsetof(struct xtcp_cubic, unused));
	ca->found = 0;
}

static u32 xtcp_cubic_clock_us(const struct sock *sk)
{
	return tcp_sk(sk)->tcp_mstamp;
}

/* A new HyStart round: until what is in flight now is ACKed. */
static void xtcp_hystart_reset(struct sock *sk)
{
	struct xtcp_cubic *ca = inet_csk_ca(sk);

	ca->round_start = xtcp_cubic_clock_us(sk);
	ca->last_ack = ca->round_start;
	ca->end_seq = tcp_sk(sk)->snd_nxt;
	ca->curr_rtt = ~0U;
	ca->sample_cnt = 0;
}

static void xtcp_cubic_init(struct sock *sk)
{
	xtcp_cubic_reset(inet_csk_ca(sk));
	if (cubic_hystart)
		xtcp_hystart_reset(sk);
	if (!cubic_hystart && cubic_initial_ssthresh)
		tcp_sk(sk)->snd_ssthresh = cubic_initial_ssthresh;
}

/*
 * An idle application: shift the epoch by the idle time, so that the
 * curve resumes where it was rather than jump ahead.
 */
static void xtcp_cubic_cwnd_event(struct sock *sk, enum tcp_ca_event event)
{
	struct xtcp_cubic *ca = inet_csk_ca(sk);
	u32 now = tcp_jiffies32;
	s32 delta;

	if (event != CA_EVENT_TX_START)
		return;
	delta = now - tcp_sk(sk)->lsndtime;
	if (ca->epoch_start && delta > 0) {
		ca->epoch_start += delta;
		if (after(ca->epoch_start, now))
			ca->epoch_start = now;
	}
}

/*
 * The cube root of @a: a table of the 6 most significant bits, then
 * one Newton-Raphson step (stock's cubic_root(); ~0.2 % error).
 */
static u32 xtcp_cubic_root(u64 a)
{
	/* v[x] = cbrt(x << 18) - 1 for x in [0, 63], hand-refined. */
	static const u8 v[] = {
		0,   54,  54,  54,  118, 118, 118, 118,
		123, 129, 134, 138, 143, 147, 151, 156,
		157, 161, 164, 168, 170, 173, 176, 179,
		181, 185, 187, 190, 192, 194, 197, 199,
		200, 202, 204, 206, 209, 211, 213, 215,
		217, 219, 221, 222, 224, 225, 227, 229,
		231, 232, 234, 236, 237, 239, 240, 242,
		244, 245, 246, 248, 250, 251, 252, 254,
	};
	u32 x, b, shift;

	b = fls64(a);
	if (b < 7)
		return ((u32)v[(u32)a] + 35) >> 6;
	b = ((b * 84) >> 8) - 1;
	shift = a >> (b * 3);
	x = ((u32)(((u32)v[shift] + 10) << b)) >> 6;
	/* x' = (2x + a / x^2) / 3, the division by 3 as * 341 / 1024 */
	x = 2 * x + (u32)div64_u64(a, (u64)x * (u64)(x - 1));
	return (x * 341) >> 10;
}

/* Start a growth epoch: the curve's origin and K (bictcp_update()). */
static void xtcp_cubic_epoch(struct xtcp_cubic *ca, u32 cwnd, u32 acked)
{
	ca->epoch_start = tcp_jiffies32;
	ca->ack_cnt = acked;
	ca->tcp_cwnd = cwnd;
	if (ca->last_max_cwnd <= cwnd) {
		ca->k = 0;
		ca->origin_point = cwnd;
	} else {
		/* K = cbrt((W_max - cwnd) / C), in 2^-10 s */
		ca->k = xtcp_cubic_root(cubic_k_factor *
					(ca->last_max_cwnd - cwnd));
		ca->origin_point = ca->last_max_cwnd;
	}
}

/*
 * Reno's window over the same epoch (RFC 9438 4.3): if it would be
 * larger, grow at least as fast as it.
 */
static void xtcp_cubic_friendliness(struct xtcp_cubic *ca, u32 cwnd)
{
	u32 delta, max_cnt;

	delta = (cwnd * cubic_beta_reno) >> 3;
	while (ca->ack_cnt > delta) {
		ca->ack_cnt -= delta;
		ca->tcp_cwnd++;
	}
	if (ca->tcp_cwnd > cwnd) {
		delta = ca->tcp_cwnd - cwnd;
		max_cnt = cwnd / delta;
		if (ca->cnt > max_cnt)
			ca->cnt = max_cnt;
	}
}

/*
 * bictcp_update(): how many ACKed segments per cwnd increment
 * (ca->cnt) puts cwnd on the curve W(t) = C (t - K)^3 + W_max one RTT
 * ahead.  Recomputed at most once a jiffy, and not while cwnd stays put
 * for 1/32 s.
 */
static void xtcp_cubic_update(struct xtcp_cubic *ca, u32 cwnd, u32 acked)
{
	u32 delta, target;
	u64 offs, t;

	ca->ack_cnt += acked;
	if (ca->last_cwnd == cwnd &&
	    (s32)(tcp_jiffies32 - ca->last_time) <= HZ / 32)
		return;
	if (ca->epoch_start && tcp_jiffies32 == ca->last_time)
		goto friendliness;
	ca->last_cwnd = cwnd;
	ca->last_time = tcp_jiffies32;
	if (!ca->epoch_start)
		xtcp_cubic_epoch(ca, cwnd, acked);

	/* t: time since the epoch plus one minimum RTT, 2^-10 s */
	t = (s32)(tcp_jiffies32 - ca->epoch_start);
	t += usecs_to_jiffies(ca->delay_min);
	t <<= CUBIC_HZ;
	do_div(t, HZ);
	offs = t < ca->k ? ca->k - t : t - ca->k;
	/* C / RTT * |t - K|^3; exact for cwnd below a million segments */
	delta = (cubic_rtt_scale * offs * offs * offs) >> (10 + 3 * CUBIC_HZ);
	target = t < ca->k ? ca->origin_point - delta :
			     ca->origin_point + delta;
	if (target > cwnd)
		ca->cnt = cwnd / (target - cwnd);
	else
		ca->cnt = 100 * cwnd;	/* on the plateau: barely grow */
	/* No loss yet: at most 5 % a round until one tells the capacity. */
	if (ca->last_max_cwnd == 0 && ca->cnt > 20)
		ca->cnt = 20;
friendliness:
	if (cubic_tcp_friendliness)
		xtcp_cubic_friendliness(ca, cwnd);
	/* At most one segment per two ACKed: 1.5x a round. */
	ca->cnt = max(ca->cnt, 2U);
}

static void xtcp_cubic_cong_avoid(struct sock *sk, u32 ack, u32 acked)
{
	struct xtcp_cubic *ca = inet_csk_ca(sk);
	struct tcp_sock *tp = tcp_sk(sk);

	if (!xtcp_is_cwnd_limited(sk))
		return;
	if (tcp_in_slow_start(tp)) {
		acked = xtcp_slow_start(tp, acked);
		if (!acked)
			return;
	}
	xtcp_cubic_update(ca, tp->snd_cwnd, acked);
	xtcp_cong_avoid_ai(tp, ca->cnt, acked);
}

/*
 * After a loss: remember W_max (less, with fast convergence, if the
 * window is shrinking: another flow needs room) and cut to beta.
 */
static u32 xtcp_cubic_ssthresh(struct sock *sk)
{
	struct xtcp_cubic *ca = inet_csk_ca(sk);
	const struct tcp_sock *tp = tcp_sk(sk);
	u32 cwnd = tp->snd_cwnd;

	ca->epoch_start = 0;
	if (cwnd < ca->last_max_cwnd && cubic_fast_convergence)
		ca->last_max_cwnd = (cwnd * (CUBIC_BETA_SCALE + cubic_beta)) /
				    (2 * CUBIC_BETA_SCALE);
	else
		ca->last_max_cwnd = cwnd;
	return max((cwnd * cubic_beta) / CUBIC_BETA_SCALE, 2U);
}

/* A timeout forgets the curve and HyStart's round. */
static XTCP_SEED void xtcp_cubic_state(struct sock *sk, u8 new_state)
{
	if (new_state == TCP_CA_Loss) {
		xtcp_cubic_reset(inet_csk_ca(sk));
		xtcp_hystart_reset(sk);
	}
}

/*
 * hystart_ack_delay(): room for GSO and GRO batching in the ACK train,
 * us: the time four full GSO packets take at the pacing rate, at most
 * 1 ms.
 */
static u32 xtcp_hystart_ack_delay(const struct sock *sk)
{
	unsigned long rate = READ_ONCE(sk->sk_pacing_rate);

	if (!rate)
		return 0;
	return min_t(u64, USEC_PER_MSEC,
		     div64_ul((u64)sk->sk_gso_max_size * 4 * USEC_PER_SEC,
			      rate));
}

/* slow start ends here: ssthresh to cwnd, counted in @detect, @cwnd_mib. */
static void xtcp_hystart_found(struct sock *sk, int detect, int cwnd_mib)
{
	struct tcp_sock *tp = tcp_sk(sk);

	((struct xtcp_cubic *)inet_csk_ca(sk))->found = 1;
	xtcp_inc_stats(sock_net(sk), detect);
	xtcp_add_stats(sock_net(sk), cwnd_mib, tp->snd_cwnd);
	tp->snd_ssthresh = tp->snd_cwnd;
}

/*
 * hystart_update(): in slow start, above hystart_low_window segments:
 * an ACK train that lasts longer than half the minimum RTT (plus the
 * batching allowance; the whole of it when paced) means the pipe is
 * full; so does a round whose smallest RTT exceeds the minimum by an
 * eighth (4 to 16 ms).
 */
static void xtcp_hystart_update(struct sock *sk, u32 delay)
{
	struct xtcp_cubic *ca = inet_csk_ca(sk);
	struct tcp_sock *tp = tcp_sk(sk);
	u32 threshold;

	if (after(tp->snd_una, ca->end_seq))
		xtcp_hystart_reset(sk);
	if (tp->snd_cwnd < cubic_hystart_low_window)
		return;
	if (cubic_hystart_detect & HYSTART_ACK_TRAIN) {
		u32 now = xtcp_cubic_clock_us(sk);

		if ((s32)(now - ca->last_ack) <= cubic_hystart_ack_delta_us) {
			ca->last_ack = now;
			threshold = ca->delay_min + xtcp_hystart_ack_delay(sk);
			if (sk->sk_pacing_status == SK_PACING_NONE)
				threshold >>= 1;
			if ((s32)(now - ca->round_start) > threshold)
				xtcp_hystart_found(sk, XTCP_MIB_TCPHYSTARTTRAINDETECT,
						   XTCP_MIB_TCPHYSTARTTRAINCWND);
		}
	}
	if (cubic_hystart_detect & HYSTART_DELAY) {
		if (ca->curr_rtt > delay)
			ca->curr_rtt = delay;
		if (ca->sample_cnt < HYSTART_MIN_SAMPLES) {
			ca->sample_cnt++;
		} else if (ca->curr_rtt > ca->delay_min +
			   clamp(ca->delay_min >> 3, HYSTART_DELAY_MIN,
				 HYSTART_DELAY_MAX)) {
			xtcp_hystart_found(sk, XTCP_MIB_TCPHYSTARTDELAYDETECT,
					   XTCP_MIB_TCPHYSTARTDELAYCWND);
		}
	}
}

/*
 * Each ACK's RTT: the minimum delay for the curve's time and HyStart;
 * not in the second after a reduction, when queues drain.
 */
static void xtcp_cubic_acked(struct sock *sk, const struct ack_sample *sample)
{
	struct xtcp_cubic *ca = inet_csk_ca(sk);
	u32 delay;

	if (sample->rtt_us < 0)
		return;
	if (ca->epoch_start && (s32)(tcp_jiffies32 - ca->epoch_start) < HZ)
		return;
	delay = sample->rtt_us ? : 1;
	if (!ca->delay_min || ca->delay_min > delay)
		ca->delay_min = delay;
	if (!ca->found && tcp_in_slow_start(tcp_sk(sk)) && cubic_hystart)
		xtcp_hystart_update(sk, delay);
}

static struct xtcp_cong_ops xtcp_cubic __read_mostly = {
	.init		= xtcp_cubic_init,
	.ssthresh	= xtcp_cubic_ssthresh,
	.cong_avoid	= xtcp_cubic_cong_avoid,
	.set_state	= xtcp_cubic_state,
	.undo_cwnd	= xtcp_reno_undo_cwnd,
	.cwnd_event	= xtcp_cubic_cwnd_event,
	.pkts_acked	= xtcp_cubic_acked,
	.flags		= TCP_CONG_NON_RESTRICTED,
	.owner		= THIS_MODULE,
	.name		= "cubic",
};

/**
 * xtcp_cubic_register - precompute the constants, register CUBIC
 *
 * The constants assume a 100 ms RTT for C (stock's choice); registered
 * after Reno, CUBIC is the default, as stock's.
 *
 * Context: module init.
 * Return: 0 or xtcp_register_congestion_control()'s error.
 */
int xtcp_cubic_register(void)
{
	BUILD_BUG_ON(sizeof(struct xtcp_cubic) > ICSK_CA_PRIV_SIZE);
	cubic_beta_reno = 8 * (CUBIC_BETA_SCALE + cubic_beta) / 3 /
			  (CUBIC_BETA_SCALE - cubic_beta);
	cubic_rtt_scale = cubic_bic_scale * 10;
	cubic_k_factor = 1ULL << (10 + 3 * CUBIC_HZ);
	do_div(cubic_k_factor, cubic_bic_scale * 10);
	return xtcp_register_congestion_control(&xtcp_cubic);
}

/* xtcp_cubic_unregister - withdraw CUBIC (module exit). */
void xtcp_cubic_unregister(void)
{
	xtcp_unregister_congestion_control(&xtcp_cubic);
}
