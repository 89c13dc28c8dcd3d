/* SPDX-License-Identifier: GPL-2.0 */
/*
 * xtcp: TCP's passive open as its own socket family.
 *
 * Internal interfaces shared by the module's files.  The shape follows
 * the kernel's: an xtcp socket is a struct inet_connection_sock with
 * xtcp's own state behind it, so the IP output path, the ip_*sockopt
 * helpers and generic socket code see an ordinary IPv4 socket, while
 * every table, queue and state transition is xtcp's own.
 * Documentation/design.rst explains the choices.
 */
#ifndef _XTCP_H
#define _XTCP_H

#include <linux/types.h>
#include <linux/spinlock.h>
#include <linux/list_nulls.h>
#include <net/sock.h>
#include <net/inet_connection_sock.h>
#include <net/netns/generic.h>

#include "uapi/linux/xtcp.h"
#include "xtcp/cong.h"
#include "compat.h"

#include <net/request_sock.h>
#include <net/tcp.h>
#include <net/timewait_sock.h>

/*
 * XTCP_SEED marks a function that Documentation/seed-map.rst maps a seed
 * step to.  It is kept out of line so that ftrace shows it where the
 * seed has its stock twin (scripts/xtcp-trace, selftests/trace.sh), even
 * where the compiler would inline it: a static helper with one caller,
 * or a call in the same file.  It costs a call.
 */
#define XTCP_SEED noinline

struct xtcp_bind_bucket;
struct xtcp_fence;

int xtcp_cubic_register(void);
void xtcp_cubic_unregister(void);

/**
 * struct xtcp_sock - an AF_XTCP socket
 * @xs_tp:        must be first: a whole struct tcp_sock.  inet_sk() and
 *                inet_csk() work on it, which is what ip_queue_xmit() and
 *                the ip_*sockopt helpers need; and generic code that takes
 *                any IPPROTO_TCP stream socket for a tcp_sock (tcp_get_info()
 *                from the sock_diag destroy broadcast, BPF helpers,
 *                timestamping's OPT_ID, SUNRPC's nonagle) reads and writes
 *                inside the object.  xtcp keeps its RFC 9293 state in the
 *                same fields stock TCP does (rcv_nxt, snd_una, rx_opt, ...),
 *                so what those readers see is the connection's; the rest of
 *                the tcp_sock stays zero.  xtcp never passes it to a stock
 *                function.  Documentation/design.rst, "Generic code that
 *                expects a tcp_sock", lists the readers.
 * @xs_fence:     a stock TCP socket bound to the same address and port, so
 *                that stock TCP in this namespace sees the port as taken
 *                (see fence.c): the one this socket's bind() made, or for
 *                a child its listener's, pinned; RCU-published
 * @ca_ops:       congestion control module (cong.c); pinned while used.
 *                A connection's from its creation; a closed or listening
 *                socket's only once TCP_CONGESTION chose it
 *                (icsk_ca_setsockopt), else NULL.
 *                Not icsk_ca_ops, which generic code calls as a
 *                tcp_congestion_ops; the module's state is in icsk_ca_priv
 *                as stock's (inet_csk_ca()).
 * @xs_wq:        where unsent data waits on kernels whose BPF could push
 *                sk_write_queue through stock's tcp_write_xmit(); empty
 *                elsewhere (compat.h; use xtcp_write_queue())
 */
struct xtcp_sock {
	struct tcp_sock			xs_tp;
	struct xtcp_fence __rcu		*xs_fence;
	const struct xtcp_cong_ops	*ca_ops;
	struct xtcp_compat_write_queue	xs_wq;
};

static_assert(offsetof(struct xtcp_sock, xs_tp) == 0);

/**
 * struct xtcp_timewait_sock - a connection in TIME-WAIT (timewait_sock.c)
 * @tw_tcp:   stock's struct tcp_timewait_sock, sock_common first, so that
 *            xtcp's established hash holds it beside full sockets and
 *            request socks, and the fields have stock's names
 *            (tw_rcv_nxt, tw_snd_nxt, tw_ts_recent, tw_substate, ...).
 *            Its tw_prot is xtcp_tw_prot: sock_gen_put() and
 *            inet_twsk_put() free it into xtcp's slab, and no module
 *            reference is taken (xtcp's netns exit kills every one).
 *            Stock's tw_dr stays NULL; its tw_tb and tw_tb2 hold
 *            xtcp's bind bucket and fence pin (below).
 */
struct xtcp_timewait_sock {
	struct tcp_timewait_sock	tw_tcp;
};

static_assert(offsetof(struct xtcp_timewait_sock, tw_tcp) == 0);

static inline struct xtcp_timewait_sock *xtcp_twsk(const struct sock *sk)
{
	return (struct xtcp_timewait_sock *)sk;
}

/*
 * Stock's own bind-bucket pointers carry xtcp's: a socket's bind bucket
 * (the one it owns its port through, or NULL) in icsk_bind_hash, a
 * timewait sock's bucket in tw_tb and the fence pin it took over from
 * its connection (fence.c; NULL if none) in tw_tb2.  Stock keeps its
 * own there, and an extra field would cost a slab slot a connection on
 * 6.1 and 7 % a timewait sock (benchmarks.rst, "Memory per
 * connection").  The kernel's readers of these fields are stock TCP's
 * own paths -- inet_csk_get_port(), inet_put_port(),
 * __inet_inherit_port(), inet_csk_destroy_sock(), tcp_set_state(),
 * tcp_disconnect(), tcp_v4_destroy_sock(), inet_twsk_kill(),
 * inet_twsk_hashdance_schedule() -- none of which an xtcp object ever
 * reaches (design.rst, "Generic code that expects a tcp_sock");
 * inet_csk_clone_lock() only clears icsk_bind_hash, as xtcp's clone does.
 */
static inline struct xtcp_bind_bucket *xtcp_sk_bind_hash(const struct sock *sk)
{
	return (struct xtcp_bind_bucket *)inet_csk(sk)->icsk_bind_hash;
}

static inline void xtcp_sk_set_bind_hash(struct sock *sk,
					 struct xtcp_bind_bucket *tb)
{
	inet_csk(sk)->icsk_bind_hash = (struct inet_bind_bucket *)tb;
}

static inline struct xtcp_bind_bucket *
xtcp_tw_bind_hash(const struct xtcp_timewait_sock *tw)
{
	return (struct xtcp_bind_bucket *)tw->tw_tcp.tw_sk.tw_tb;
}

static inline void xtcp_tw_set_bind_hash(struct xtcp_timewait_sock *tw,
					 struct xtcp_bind_bucket *tb)
{
	tw->tw_tcp.tw_sk.tw_tb = (struct inet_bind_bucket *)tb;
}

static inline struct xtcp_fence *
xtcp_tw_fence(const struct xtcp_timewait_sock *tw)
{
	return (struct xtcp_fence *)tw->tw_tcp.tw_sk.tw_tb2;
}

static inline void xtcp_tw_set_fence(struct xtcp_timewait_sock *tw,
				     struct xtcp_fence *fence)
{
	tw->tw_tcp.tw_sk.tw_tb2 = (struct inet_bind2_bucket *)fence;
}

/*
 * A request sock is stock's struct tcp_request_sock: xtcp keeps its
 * SYN-RECEIVED state (rcv_isn, snt_isn, rcv_nxt, ts_off, snt_synack in
 * microseconds, last_oow_ack_time, syn_tos) in the fields stock keeps it
 * in, so that generic readers of tcp_rsk() (BPF's
 * bpf_skc_to_tcp_request_sock(), say, on a SYN-ACK's skb->sk) stay inside
 * the object and see the request's values.  af_specific stays NULL: xtcp
 * never calls stock's request functions.
 */

/*
 * A new child comes back from sk_clone_lock() with its spinlock held;
 * sparse cannot see that acquisition, so each place that releases the
 * lock of such a child says so first.
 */
#define xtcp_child_locked(child)	__acquire(&(child)->sk_lock.slock)

static inline struct xtcp_sock *xtcp_sk(const struct sock *sk)
{
	return (struct xtcp_sock *)sk;
}

/*
 * The write queue: unsent skbs in sequence order, the first one
 * xtcp_send_head().  Stock's helpers for it (tcp_send_head(),
 * tcp_write_queue_tail(), ...) name sk_write_queue, which 6.12 leaves
 * empty (xtcp_compat_write_queue, compat.h): use these.  Changed under
 * the socket lock only.
 */
static inline struct sk_buff_head *xtcp_write_queue(const struct sock *sk)
{
	return xtcp_compat_write_queue(sk, &xtcp_sk(sk)->xs_wq);
}

static inline struct sk_buff *xtcp_send_head(const struct sock *sk)
{
	return skb_peek(xtcp_write_queue(sk));
}

static inline struct sk_buff *xtcp_write_queue_tail(const struct sock *sk)
{
	return skb_peek_tail(xtcp_write_queue(sk));
}

static inline bool xtcp_skb_is_last(const struct sock *sk,
				    const struct sk_buff *skb)
{
	return skb_queue_is_last(xtcp_write_queue(sk), skb);
}

/*
 * tcp_unlink_write_queue(): off the write queue, to be freed.  The
 * tsorted anchor overlays _skb_refdst and the destructor, which
 * __kfree_skb() would otherwise take for a route and a function.
 */
static inline void xtcp_unlink_write_queue(struct sk_buff *skb,
					   struct sock *sk)
{
	tcp_skb_tsorted_anchor_cleanup(skb);
	__skb_unlink(skb, xtcp_write_queue(sk));
}

/* tcp_mss_clamp(): the route's MSS, or less if the user asked for less. */
static inline u16 xtcp_mss_clamp(const struct sock *sk, u16 mss)
{
	u16 user_mss = READ_ONCE(tcp_sk(sk)->rx_opt.user_mss);

	return (user_mss && user_mss < mss) ? user_mss : mss;
}

/*
 * tcp_need_reset(): the states in which aborting a connection tells the
 * peer with a RST (RFC 9293 section 3.10.5, ABORT call).
 */
static inline bool xtcp_need_reset(int state)
{
	return (1 << state) &
	       (TCPF_ESTABLISHED | TCPF_CLOSE_WAIT | TCPF_FIN_WAIT1 |
		TCPF_FIN_WAIT2 | TCPF_SYN_RECV);
}

/*
 * tcp_urg_mode(): urgent data sent (MSG_OOB) and not yet acknowledged;
 * every segment below snd_up then carries the urgent pointer.
 */
static inline bool xtcp_urg_mode(const struct tcp_sock *tp)
{
	return tp->snd_una != tp->snd_up;
}

/*
 * Header prediction (tcp_rcv_established()): pred_flags is the header
 * word (data offset, flags, window) of the segment the fast path
 * expects, 0 while the slow path must see every segment.
 * __tcp_fast_path_on(), tcp_fast_path_on(), tcp_fast_path_check().
 */
static inline void __xtcp_fast_path_on(struct tcp_sock *tp, u32 snd_wnd)
{
	tp->pred_flags = htonl((tp->tcp_header_len << 26) |
			       ntohl(TCP_FLAG_ACK) | snd_wnd);
}

void xtcp_fast_path_on(struct tcp_sock *tp);

/*
 * On again unless out-of-order data, a closed window, a full buffer or
 * urgent data need the slow path.
 */
static inline void xtcp_fast_path_check(struct sock *sk)
{
	struct tcp_sock *tp = tcp_sk(sk);

	if (RB_EMPTY_ROOT(&tp->out_of_order_queue) && tp->rcv_wnd &&
	    atomic_read(&sk->sk_rmem_alloc) < sk->sk_rcvbuf &&
	    !tp->urg_data)
		xtcp_fast_path_on(tp);
}

/*
 * tcp_may_update_window(): RFC 9293 3.10.7.4 step 5, SND.WL1/SND.WL2:
 * take the window only from a segment at least as new as the one it
 * last came from.
 */
static inline bool xtcp_may_update_window(const struct tcp_sock *tp, u32 ack,
					  u32 ack_seq, u32 nwin)
{
	return after(ack, tp->snd_una) || after(ack_seq, tp->snd_wl1) ||
	       (ack_seq == tp->snd_wl1 &&
		(nwin > tp->snd_wnd || (XTCP_WND_UPDATE_ZERO && !nwin)));
}

/* tcp_receive_window(): what is left of the window we offered, bytes. */
static inline u32 xtcp_receive_window(const struct tcp_sock *tp)
{
	s32 win = READ_ONCE(tp->rcv_wup) + tp->rcv_wnd - READ_ONCE(tp->rcv_nxt);

	return win < 0 ? 0 : win;
}

/* tcp_space(): the window the free part of the receive buffer can offer. */
static inline int xtcp_space(const struct sock *sk)
{
	return xtcp_win_from_space(sk, READ_ONCE(sk->sk_rcvbuf) -
				   READ_ONCE(sk->sk_backlog.len) -
				   atomic_read(&sk->sk_rmem_alloc));
}

/* tcp_full_space(): the window the whole receive buffer can offer. */
int xtcp_full_space(const struct sock *sk);

/*
 * __tcp_adjust_rcv_ssthresh(): the window grows no further than
 * @new_ssthresh bytes, or what SO_RESERVE_MEM keeps for us.
 */
static inline void __xtcp_adjust_rcv_ssthresh(struct sock *sk,
					      u32 new_ssthresh)
{
	struct tcp_sock *tp = tcp_sk(sk);
	int unused_mem = sk_unused_reserved_mem(sk);

	tp->rcv_ssthresh = min(tp->rcv_ssthresh, new_ssthresh);
	if (unused_mem)
		tp->rcv_ssthresh = max_t(u32, tp->rcv_ssthresh,
					 xtcp_win_from_space(sk, unused_mem));
}

/*
 * tcp_adjust_rcv_ssthresh(): under memory pressure the window grows no
 * further than four segments.
 */
static inline void xtcp_adjust_rcv_ssthresh(struct sock *sk)
{
	__xtcp_adjust_rcv_ssthresh(sk, 4U * tcp_sk(sk)->advmss);
}

/**
 * struct xtcp_bind_bucket - owners of one local port (inet_bind_bucket)
 * @port:          the port, host order
 * @l3mdev:        VRF master ifindex the port is bound in, 0 for none
 * @fastreuse:     every owner has SO_REUSEADDR and none listens: a new
 *                 SO_REUSEADDR socket may join without a conflict scan
 * @fastreuseport: FASTREUSEPORT_ANY/STRICT as in the kernel, or 0
 * @fastuid:       owner uid for the SO_REUSEPORT fast path
 * @fast_rcv_saddr: bound address for the FASTREUSEPORT_STRICT check
 * @node:          link in the bind hash chain
 * @owners:        sockets bound here, through sk_bind_node
 */
struct xtcp_bind_bucket {
	unsigned short		port;
	int			l3mdev;
	signed char		fastreuse;
	signed char		fastreuseport;
	kuid_t			fastuid;
	__be32			fast_rcv_saddr;
	struct hlist_node	node;
	struct hlist_head	owners;
};

/* One chain of the bind hash; the lock is taken with BHs off. */
struct xtcp_bind_hashbucket {
	spinlock_t		lock;	/* guards chain and its buckets */
	struct hlist_head	chain;
};

/*
 * One chain of the listening hash, keyed by local port.  Writers take
 * the lock; readers (the SYN path) walk it under RCU, which is safe
 * because listeners are SOCK_RCU_FREE (see xtcp_hash()).
 */
struct xtcp_listen_hashbucket {
	spinlock_t		lock;	/* serialises writers of nulls_head */
	struct hlist_nulls_head	nulls_head;
};

/*
 * The established hash holds request socks (TCP_NEW_SYN_RECV) and
 * children alike, keyed by 4-tuple.  Lookups are RCU-only; inserts and
 * removals take one of XTCP_EHASH_LOCKS spinlocks chosen by the hash.
 */
struct xtcp_ehash_bucket {
	struct hlist_nulls_head	chain;
};

#define XTCP_BHASH_SIZE		1024	/* power of two */
#define XTCP_NR_PORTS		65536	/* bits of xtcp_net.ports */
#define XTCP_LHASH_SIZE		256	/* power of two */
#define XTCP_EHASH_SIZE		16384	/* power of two */
#define XTCP_EHASH_LOCKS	1024	/* power of two */

/*
 * Counters, per namespace and per CPU, named like their nstat twins.
 * Every segment xtcp takes and drops is counted in at least one.
 */
enum xtcp_mib {
	XTCP_MIB_INSEGS,
	XTCP_MIB_OUTSEGS,
	XTCP_MIB_OUTRSTS,
	XTCP_MIB_INERRS,
	XTCP_MIB_INCSUMERRORS,
	XTCP_MIB_INOPTERRORS,
	XTCP_MIB_INTRUNCATED,
	XTCP_MIB_INFILTERED,
	XTCP_MIB_PASSIVEOPENS,
	XTCP_MIB_ATTEMPTFAILS,
	XTCP_MIB_LISTENOVERFLOWS,
	XTCP_MIB_LISTENDROPS,
	XTCP_MIB_SYNCOOKIESSENT,
	XTCP_MIB_SYNCOOKIESRECV,
	XTCP_MIB_SYNCOOKIESFAILED,
	XTCP_MIB_EMBRYONICRSTS,
	XTCP_MIB_PAWSESTABREJECTED,
	XTCP_MIB_REQQFULLDOCOOKIES,
	XTCP_MIB_REQQFULLDROP,
	XTCP_MIB_CHALLENGEACK,
	XTCP_MIB_ACKSKIPPEDSYNRECV,
	XTCP_MIB_ACKSKIPPEDCHALLENGE,
	XTCP_MIB_SYNRETRANS,
	XTCP_MIB_TIMEOUTS,
	XTCP_MIB_TCPTIMEOUTREHASH,
	XTCP_MIB_REQDROPPED,
	XTCP_MIB_NOROUTE,
	XTCP_MIB_OUTOFWINDOWICMPS,
	XTCP_MIB_MIGRATEREQSUCCESS,
	XTCP_MIB_MIGRATEREQFAILURE,
	XTCP_MIB_MEMORYPRESSURES,
	XTCP_MIB_MEMORYPRESSURESCHRONO,
	XTCP_MIB_DELAYEDACKS,
	XTCP_MIB_DELAYEDACKLOCKED,
	XTCP_MIB_DELAYEDACKLOST,
	XTCP_MIB_TCPPUREACKS,
	XTCP_MIB_TCPHPHITS,
	XTCP_MIB_TCPHPACKS,
	XTCP_MIB_TCPRCVCOALESCE,
	XTCP_MIB_TCPRCVQDROP,
	XTCP_MIB_TCPZEROWINDOWDROP,
	XTCP_MIB_PRUNECALLED,
	XTCP_MIB_RCVPRUNED,
	XTCP_MIB_TCPDSACKOLDSENT,
	XTCP_MIB_TCPDSACKOFOSENT,
	XTCP_MIB_TCPSYNCHALLENGE,
	XTCP_MIB_TCPACKSKIPPEDSEQ,
	XTCP_MIB_TCPACKSKIPPEDPAWS,
	XTCP_MIB_TCPWANTZEROWINDOWADV,
	XTCP_MIB_TCPTOZEROWINDOWADV,
	XTCP_MIB_TCPFROMZEROWINDOWADV,
	XTCP_MIB_TCPABORTONDATA,
	XTCP_MIB_TCPABORTONCLOSE,
	XTCP_MIB_TCPBACKLOGDROP,
	XTCP_MIB_TCPOFOQUEUE,
	XTCP_MIB_TCPOFODROP,
	XTCP_MIB_TCPOFOMERGE,
	XTCP_MIB_OFOPRUNED,
	XTCP_MIB_TCPACKCOMPRESSED,
	XTCP_MIB_TCPRCVCOLLAPSED,
	XTCP_MIB_TCPORIGDATASENT,
	XTCP_MIB_RETRANSSEGS,
	XTCP_MIB_TCPRETRANSFAIL,
	XTCP_MIB_TCPSLOWSTARTRETRANS,
	XTCP_MIB_TCPLOSSFAILURES,
	XTCP_MIB_TCPABORTONTIMEOUT,
	XTCP_MIB_TCPWINPROBE,
	XTCP_MIB_TCPWQUEUETOOBIG,
	XTCP_MIB_TCPSPURIOUSRTXHOSTQUEUES,
	XTCP_MIB_TCPABORTONLINGER,
	XTCP_MIB_TCPABORTONMEMORY,
	XTCP_MIB_TCPTIMEWAITOVERFLOW,
	XTCP_MIB_TCPKEEPALIVE,
	XTCP_MIB_TIMEWAITED,
	XTCP_MIB_TIMEWAITKILLED,
	XTCP_MIB_TCPACKSKIPPEDFINWAIT2,
	XTCP_MIB_TCPACKSKIPPEDTIMEWAIT,
	XTCP_MIB_TCPDEFERACCEPTDROP,
	XTCP_MIB_TCPSACKREORDER,
	XTCP_MIB_TCPTSREORDER,
	XTCP_MIB_TCPRENOREORDER,
	XTCP_MIB_TCPDSACKRECV,
	XTCP_MIB_TCPDSACKOFORECV,
	XTCP_MIB_TCPDSACKRECVSEGS,
	XTCP_MIB_TCPDSACKIGNOREDDUBIOUS,
	XTCP_MIB_TCPDSACKIGNOREDOLD,
	XTCP_MIB_TCPDSACKIGNOREDNOUNDO,
	XTCP_MIB_TCPSACKDISCARD,
	XTCP_MIB_TCPLOSTRETRANSMIT,
	XTCP_MIB_TCPSACKRECOVERY,
	XTCP_MIB_TCPRENORECOVERY,
	XTCP_MIB_TCPFULLUNDO,
	XTCP_MIB_TCPLOSSUNDO,
	XTCP_MIB_TCPDSACKUNDO,
	XTCP_MIB_TCPPARTIALUNDO,
	XTCP_MIB_TCPSPURIOUSRTOS,
	XTCP_MIB_TCPSACKRENEGING,
	XTCP_MIB_TCPFASTRETRANS,
	XTCP_MIB_TCPLOSSPROBES,
	XTCP_MIB_TCPLOSSPROBERECOVERY,
	XTCP_MIB_TCPSACKFAILURES,
	XTCP_MIB_TCPRENOFAILURES,
	XTCP_MIB_TCPSACKRECOVERYFAIL,
	XTCP_MIB_TCPRENORECOVERYFAIL,
	XTCP_MIB_TCPDELIVERED,
	XTCP_MIB_TCPDELIVEREDCE,
	XTCP_MIB_TCPHYSTARTTRAINDETECT,
	XTCP_MIB_TCPHYSTARTTRAINCWND,
	XTCP_MIB_TCPHYSTARTDELAYDETECT,
	XTCP_MIB_TCPHYSTARTDELAYCWND,
	XTCP_MIB_TCPFASTOPENPASSIVE,
	XTCP_MIB_TCPFASTOPENPASSIVEFAIL,
	XTCP_MIB_TCPFASTOPENLISTENOVERFLOW,
	XTCP_MIB_TCPFASTOPENCOOKIEREQD,
	XTCP_MIB_TCPFASTOPENPASSIVEALTKEY,
	XTCP_MIB_MAX
};

struct xtcp_mib_counters {
	unsigned long	mibs[XTCP_MIB_MAX];
};

/**
 * struct xtcp_net - xtcp's state in one network namespace
 * @net:        the namespace
 * @bhash:      bind buckets by port
 * @ports:      a bit per local port that has a bind bucket (one per
 *              port and l3mdev): the receive hook's first test, so that
 *              a segment for a port xtcp does not hold goes to stock TCP
 *              without a hash lookup.  Written under the port's @bhash
 *              lock, read locklessly in softirq (a stale bit only costs
 *              or skips the lookups at the instant a port comes or goes)
 * @lhash:      listening sockets by port
 * @ehash:      request socks and connections by 4-tuple
 * @ehash_locks: writers' locks for @ehash
 * @ctl_sk:     kernel socket that sends RSTs and ACKs on no one's behalf
 * @mib:        counters
 * @challenge_stamp: second of the current challenge-ACK budget
 * @challenge_count: challenge ACKs left in that second
 * @tw_count:   timewait socks alive, at most sysctl.max_tw_buckets
 * @sysctl_hdr: registration of net.xtcp.*
 * @ca_default: net.xtcp.congestion_control: the algorithm new
 *              connections get; its module pinned unless built in.
 *              Replaced under the registry's lock, read under RCU.
 * @fastopen_ctx: net.xtcp.fastopen_key: the Fast Open keys of the
 *              namespace's listeners without keys of their own, or NULL
 *              until the first needs one; replaced whole, read under RCU
 *              (fastopen.c)
 * @sysctl:     the knobs' values (see sysctl.c)
 */
struct xtcp_net {
	struct net				*net;
	struct xtcp_bind_hashbucket		*bhash;
	unsigned long				*ports;
	struct xtcp_listen_hashbucket		*lhash;
	struct xtcp_ehash_bucket		*ehash;
	spinlock_t				*ehash_locks;	/* writers */
	struct sock				*ctl_sk;
	struct xtcp_mib_counters __percpu	*mib;
	u32					challenge_stamp;
	u32					challenge_count;
	atomic_t				tw_count;
	struct ctl_table_header			*sysctl_hdr;
	const struct xtcp_cong_ops __rcu	*ca_default;
	struct tcp_fastopen_context __rcu	*fastopen_ctx;
	struct xtcp_sysctl {
		int	syncookies;
		int	max_syn_backlog;
		int	synack_retries;
		int	abort_on_overflow;
		int	ecn;
		int	timestamps;
		int	window_scaling;
		int	sack;
		int	dsack;
		int	recovery;
		int	reordering;
		int	max_reordering;
		int	early_retrans;
		int	frto;
		int	migrate_req;
		int	max_orphans;
		int	max_tw_buckets;
		int	fastopen;
	} sysctl;
};

/* netns.c */
extern unsigned int xtcp_net_id;

/*
 * The namespace's xtcp state.  Inline: the receive hook asks it for
 * every TCP segment of the host, stock's included.
 */
static inline struct xtcp_net *xtcp_pernet(const struct net *net)
{
	return net_generic(net, xtcp_net_id);
}

/*
 * The same inside an RCU read section (softirq receive): net_generic()
 * without its own rcu_read_lock()/unlock(), two calls under
 * CONFIG_PREEMPT_RCU.  net->gen is replaced, and the old array freed
 * after a grace period, when another pernet id is registered.
 */
static inline struct xtcp_net *xtcp_pernet_rcu(const struct net *net)
{
	return rcu_dereference(net->gen)->ptr[xtcp_net_id];
}

/* inet_ehash_lockp(): the writers' lock of the chain @hash is on. */
static inline spinlock_t *xtcp_ehash_lockp(struct xtcp_net *xn, u32 hash)
{
	return &xn->ehash_locks[hash & (XTCP_EHASH_LOCKS - 1)];
}

static inline void xtcp_inc_stats(const struct net *net, enum xtcp_mib field)
{
	this_cpu_inc(xtcp_pernet(net)->mib->mibs[field]);
}

static inline void xtcp_add_stats(const struct net *net, enum xtcp_mib field,
				  unsigned long val)
{
	this_cpu_add(xtcp_pernet(net)->mib->mibs[field], val);
}

int xtcp_netns_init(void);
void xtcp_netns_exit(void);

/* af_xtcp.c: the family, its proto_ops and struct proto */
extern int xtcp_family;
extern struct proto xtcp_prot;
int xtcp_family_init(void);
void xtcp_family_exit(void);

/* bind.c: bind buckets, mirroring inet_csk_get_port() */
int xtcp_bind(struct socket *sock, struct sockaddr *uaddr, int addr_len);
int xtcp_csk_get_port(struct sock *sk, unsigned short snum);
int xtcp_bind_port(struct sock *sk, unsigned short snum);
void xtcp_put_port(struct sock *sk);
void xtcp_twsk_bind_hash(struct xtcp_timewait_sock *tw, struct sock *sk);
void xtcp_twsk_bind_unhash(struct xtcp_timewait_sock *tw);
int xtcp_bind_init(void);
void xtcp_bind_exit(void);

/* fence.c: holding our ports in stock TCP's table */
int xtcp_fence_acquire(struct sock *sk);
int xtcp_fence_listen(struct sock *sk);
void xtcp_fence_unlisten(struct sock *sk);
void xtcp_fence_release(struct sock *sk);
void xtcp_fence_pin(struct sock *child, const struct sock *listener);
void xtcp_fence_unpin(struct sock *sk, bool can_sleep);
struct xtcp_fence *xtcp_fence_steal(struct sock *sk);
void xtcp_fence_drop(struct xtcp_fence *f);
void xtcp_fence_destruct(struct sock *sk);
int xtcp_fence_init(void);
void xtcp_fence_flush(void);
void xtcp_fence_exit(void);

/* listen.c: listen(), the listening hash and accept() */
int xtcp_listen(struct socket *sock, int backlog);
int xtcp_hash(struct sock *sk);
void xtcp_unhash(struct sock *sk);
void xtcp_csk_listen_stop(struct sock *sk);
__poll_t xtcp_listen_poll(struct sock *sk);

/* input.c: receive, demux, validation */
int xtcp_input_init(void);
void xtcp_input_exit(void);
struct sock *xtcp_lookup_listener(struct xtcp_net *xn, struct sk_buff *skb,
				  int doff, __be32 saddr, __be16 sport,
				  __be32 daddr, u16 hnum, int dif, int sdif);
struct sock *xtcp_lookup_established(struct xtcp_net *xn, __be32 saddr,
				     __be16 sport, __be32 daddr, u16 hnum,
				     int dif, int sdif);
u32 xtcp_ehashfn(__be32 laddr, u16 lport, __be32 faddr, __be16 fport);
int xtcp_v4_do_rcv(struct sock *sk, struct sk_buff *skb);
bool xtcp_ehash_insert(struct sock *sk, struct sock *osk);
bool xtcp_ehash_remove(struct sock *sk);
void xtcp_v4_mtu_reduced(struct sock *sk);

/* options.c: TCP option parsing (tcp_parse_options) */
bool xtcp_parse_options(const struct net *net, const struct sk_buff *skb,
			struct tcp_options_received *opt_rx, int estab,
			struct tcp_fastopen_cookie *foc);

/* isn.c: initial sequence numbers and timestamp offsets (RFC 6528) */
u32 xtcp_init_sequence(const struct sk_buff *skb);
u32 xtcp_init_ts_off(const struct net *net, const struct sk_buff *skb);
void xtcp_isn_init(void);

/* reqsk.c: request socks, the SYN and accept queues, SYN-ACK timer */
extern struct request_sock_ops xtcp_request_sock_ops;
int xtcp_conn_request(struct sock *sk, struct sk_buff *skb);
int xtcp_rtx_syn_ack(const struct sock *parent, struct request_sock *req);
struct request_sock *xtcp_reqsk_alloc(struct sock *sk_listener,
				      bool attach_listener);
bool xtcp_csk_reqsk_queue_drop(struct sock *sk, struct request_sock *req);
void xtcp_csk_reqsk_queue_drop_and_put(struct sock *sk,
				       struct request_sock *req);
void xtcp_reqsk_timer_drop(struct sock *sk, struct request_sock *req);
struct request_sock *xtcp_reqsk_clone(struct request_sock *req,
				      struct sock *sk);
void xtcp_reqsk_migrate_reset(struct request_sock *req);
void xtcp_reqsk_queue_migrated(struct request_sock_queue *queue,
			       const struct request_sock *req);
struct sock *xtcp_csk_complete_hashdance(struct sock *sk, struct sock *child,
					 struct request_sock *req,
					 bool own_req);
struct sock *xtcp_csk_reqsk_queue_add(struct sock *sk,
				      struct request_sock *req,
				      struct sock *child);
void xtcp_reqsk_queue_drain(struct sock *sk);
void xtcp_req_select_window(struct request_sock *req,
			    const struct sock *sk_listener,
			    const struct dst_entry *dst, u32 mss);

/* minisocks.c: SYN-RECEIVED to a child socket */
struct sock *xtcp_check_req(struct sock *sk, struct sk_buff *skb,
			    struct request_sock *req, bool fastopen,
			    bool *req_stolen);
struct sock *xtcp_syn_recv_sock(const struct sock *sk, struct sk_buff *skb,
				struct request_sock *req,
				struct dst_entry *dst,
				struct request_sock *req_unhash, bool *own_req);
int xtcp_child_process(struct sock *parent, struct sock *child,
		       struct sk_buff *skb);
bool __xtcp_oow_rate_limited(struct net *net, enum xtcp_mib mib,
			     u32 *last_oow_ack_time);
bool xtcp_oow_rate_limited(struct net *net, const struct sk_buff *skb,
			   enum xtcp_mib mib, u32 *last_oow_ack_time);
bool xtcp_challenge_ack_due(struct net *net, u32 *last_oow_ack_time);
void xtcp_time_wait(struct sock *sk, int state, int timeo);
enum tcp_tw_status
xtcp_timewait_state_process(struct xtcp_timewait_sock *tw,
			    struct sk_buff *skb, u32 *tw_isn);
int xtcp_inherit_port(const struct sock *sk, struct sock *child);
unsigned int xtcp_sync_mss(struct sock *sk, u32 pmtu);

#define XTCP_OPT_SACK_ADVERTISE	BIT(0)
#define XTCP_OPT_TS		BIT(1)
#define XTCP_OPT_WSCALE		BIT(3)
#define XTCP_OPT_FAST_OPEN_COOKIE	BIT(8)

/**
 * struct xtcp_out_options - the options one segment carries (tcp_out_options)
 * @options:         XTCP_OPT_* flags
 * @mss:             MSS option value, 0 for none
 * @ws:              window scale shift, with XTCP_OPT_WSCALE
 * @num_sack_blocks: SACK blocks to write from @sack
 * @tsval:           timestamp value, with XTCP_OPT_TS
 * @tsecr:           timestamp echo reply, with XTCP_OPT_TS
 * @sack:            the blocks, D-SACK first
 * @fastopen_cookie: with XTCP_OPT_FAST_OPEN_COOKIE, the cookie to write,
 *                   in the option it came in (->exp)
 */
struct xtcp_out_options {
	u16 options;
	u16 mss;
	u8 ws;
	u8 num_sack_blocks;
	u32 tsval;
	u32 tsecr;
	struct tcp_sack_block sack[TCP_NUM_SACKS];
	const struct tcp_fastopen_cookie *fastopen_cookie;
};

/* output.c: SYN-ACK, RST and ACK segments on no connection's behalf */
void xtcp_options_write(__be32 *ptr, const struct xtcp_out_options *opts);
void xtcp_v4_send_check(struct sk_buff *skb, __be32 saddr, __be32 daddr);
struct dst_entry *xtcp_csk_route_req(const struct sock *sk,
				     struct flowi4 *fl4,
				     const struct request_sock *req);
int xtcp_v4_send_synack(const struct sock *sk, struct dst_entry *dst,
			struct request_sock *req,
			const struct tcp_fastopen_cookie *foc,
			enum tcp_synack_type synack_type);
void xtcp_v4_timewait_ack(struct xtcp_timewait_sock *tw, struct sk_buff *skb);
void xtcp_v4_send_reset(const struct sock *sk, struct sk_buff *skb);
void xtcp_v4_reqsk_send_ack(const struct sock *sk, struct sk_buff *skb,
			    struct request_sock *req);
u32 xtcp_time_stamp_ms(void);
int xtcp_ctl_sock_init(struct xtcp_net *xn);
void xtcp_ctl_sock_exit(struct xtcp_net *xn);

/* xmit.c: a connection's own segments */
u32 __xtcp_select_window(struct sock *sk);
void xtcp_send_ack(struct sock *sk);
void xtcp_send_delayed_ack(struct sock *sk);
void xtcp_send_active_reset(struct sock *sk);
int xtcp_transmit_skb(struct sock *sk, struct sk_buff *skb, int clone_it,
		      gfp_t gfp_mask);
unsigned int xtcp_current_mss(struct sock *sk);
int xtcp_fragment(struct sock *sk, enum tcp_queue queue, struct sk_buff *skb,
		  u32 len, unsigned int mss_now, gfp_t gfp);
int xtcp_trim_head(struct sock *sk, struct sk_buff *skb, u32 len);
void __xtcp_push_pending_frames(struct sock *sk, unsigned int cur_mss,
				int nonagle);
void xtcp_push_pending_frames(struct sock *sk);
void xtcp_push_one(struct sock *sk, unsigned int mss_now);
int xtcp_retransmit_skb(struct sock *sk, struct sk_buff *skb, int segs);
void xtcp_xmit_retransmit_queue(struct sock *sk);
void xtcp_tsq_write(struct sock *sk);
enum hrtimer_restart xtcp_pace_kick(struct hrtimer *timer);
bool xtcp_schedule_loss_probe(struct sock *sk, bool advancing_rto);
void xtcp_send_loss_probe(struct sock *sk);
int xtcp_write_wakeup(struct sock *sk, int mib);
void xtcp_send_probe0(struct sock *sk);
void xtcp_cwnd_restart(struct sock *sk, s32 delta);
void xtcp_slow_start_after_idle_check(struct sock *sk);
void xtcp_send_fin(struct sock *sk);

/* sendmsg.c: what a writer does */
int xtcp_sendmsg(struct socket *sock, struct msghdr *msg, size_t len);
struct sk_buff *xtcp_stream_alloc_skb(struct sock *sk, gfp_t gfp,
				      bool force_schedule);
bool xtcp_stream_memory_free(const struct sock *sk, int wake);
void xtcp_stream_write_space(struct sock *sk);
void xtcp_write_queue_purge(struct sock *sk);

/*
 * What one ACK did, for the sender's bookkeeping (tcp_input.c's FLAG_*;
 * the values are xtcp's own).
 */
#define XTCP_FLAG_UPDATE_TS_RECENT	BIT(0)	/* segment is in window */
#define XTCP_FLAG_NO_CHALLENGE_ACK	BIT(1)	/* no RFC 5961 5.2 ACK */
#define XTCP_FLAG_DATA_ACKED		BIT(2)	/* new data acknowledged */
#define XTCP_FLAG_SYN_ACKED		BIT(3)	/* our SYN acknowledged */
#define XTCP_FLAG_RETRANS_DATA_ACKED	BIT(4)	/* some of it was re-sent */
#define XTCP_FLAG_ACK_MAYBE_DELAYED	BIT(5)	/* the peer may have waited */
#define XTCP_FLAG_SET_XMIT_TIMER	BIT(6)	/* restart the TLP/RTO timer */
#define XTCP_FLAG_SLOWPATH		BIT(7)	/* not header prediction's */
#define XTCP_FLAG_DATA			BIT(8)	/* the segment carried data */
#define XTCP_FLAG_WIN_UPDATE		BIT(9)	/* the window was taken */
#define XTCP_FLAG_DATA_SACKED		BIT(10)	/* new SACKed data */
#define XTCP_FLAG_ECE			BIT(11)	/* ECE set */
#define XTCP_FLAG_LOST_RETRANS		BIT(12)	/* a retransmission was lost */
#define XTCP_FLAG_ORIG_SACK_ACKED	BIT(13)	/* never re-sent data (s)acked */
#define XTCP_FLAG_SND_UNA_ADVANCED	BIT(14)	/* SND.UNA moved */
#define XTCP_FLAG_DSACKING_ACK		BIT(15)	/* it carried a D-SACK */
#define XTCP_FLAG_SACK_RENEGING	BIT(16)	/* SND.UNA stopped at SACKed data */
#define XTCP_FLAG_DSACK_TLP		BIT(17)	/* D-SACK of a loss probe */
#define XTCP_FLAG_ACKED		(XTCP_FLAG_DATA_ACKED | XTCP_FLAG_SYN_ACKED)
#define XTCP_FLAG_NOT_DUP	(XTCP_FLAG_DATA | XTCP_FLAG_WIN_UPDATE | \
				 XTCP_FLAG_ACKED)
#define XTCP_FLAG_CA_ALERT	(XTCP_FLAG_DATA_SACKED | XTCP_FLAG_ECE | \
				 XTCP_FLAG_DSACKING_ACK)
#define XTCP_FLAG_FORWARD_PROGRESS (XTCP_FLAG_ACKED | XTCP_FLAG_DATA_SACKED)

/*
 * struct xtcp_sacktag_state - what one ACK's SACK blocks did
 * (tcp_input.c's struct tcp_sacktag_state)
 * @first_sackt:    send time, us, of the earliest newly SACKed skb never
 *                  re-sent (an RTT sample), 0 if none
 * @last_sackt:     that of the latest one
 * @reord:          lowest sequence SACKed or ACKed out of order
 * @sack_delivered: packets newly SACKed (D-SACKed ones included)
 * @flag:           XTCP_FLAG_* it raised
 * @mss_now:        xtcp_current_mss() for this ACK
 * @rate:           the ACK's delivery-rate sample
 */
struct xtcp_sacktag_state {
	u64			first_sackt;
	u64			last_sackt;
	u32			reord;
	u32			sack_delivered;
	int			flag;
	unsigned int		mss_now;
	struct rate_sample	*rate;
};

/* tcp_input.c's REXMIT_*: what an ACK leaves xtcp_xmit_recovery() to do. */
enum {
	XTCP_REXMIT_NONE,	/* nothing */
	XTCP_REXMIT_LOST,	/* re-send segments marked lost */
	XTCP_REXMIT_NEW,	/* F-RTO: send new data first */
};

/* ack.c: what an ACK does for the sender */
bool xtcp_ack_update_rtt(struct sock *sk, int flag, long seq_rtt_us,
			 long sack_rtt_us, long ca_rtt_us,
			 struct rate_sample *rs);
void xtcp_rearm_rto(struct sock *sk);
void xtcp_set_xmit_timer(struct sock *sk);
void xtcp_set_ca_state(struct sock *sk, u8 ca_state);
u32 xtcp_current_ssthresh(const struct sock *sk);
void xtcp_update_pacing_rate(struct sock *sk);
int xtcp_ack(struct sock *sk, const struct sk_buff *skb, int flag);
void xtcp_check_space(struct sock *sk);
void xtcp_sndbuf_expand(struct sock *sk);
void xtcp_disconnect_tx(struct sock *sk);

/* sack.c: the SACK scoreboard */
int xtcp_sacktag_write_queue(struct sock *sk, const struct sk_buff *ack_skb,
			     u32 prior_snd_una,
			     struct xtcp_sacktag_state *state);
void xtcp_check_sack_reordering(struct sock *sk, u32 low_seq, int ts);
void xtcp_mark_skb_lost(struct sock *sk, struct sk_buff *skb);
bool xtcp_limit_reno_sacked(struct tcp_sock *tp);
void xtcp_add_reno_sack(struct sock *sk, int num_dupack, bool ece_ack);
void xtcp_remove_reno_sacks(struct sock *sk, int acked, bool ece_ack);
void xtcp_count_delivered(struct tcp_sock *tp, u32 delivered, bool ece_ack);

/* recovery.c: the congestion state machine, undo, PRR */
void xtcp_fastretrans_alert(struct sock *sk, u32 prior_snd_una,
			    int num_dupack, int *ack_flag, int *rexmit);
void xtcp_enter_loss(struct sock *sk);
void xtcp_retrans_stamp_cleanup(struct sock *sk);
bool xtcp_try_undo_recovery(struct sock *sk);
void xtcp_enter_recovery(struct sock *sk, bool ece_ack);
void xtcp_enter_cwr(struct sock *sk);
void xtcp_cwnd_reduction(struct sock *sk, int newly_acked_sacked,
			 int newly_lost, int flag);
void xtcp_end_cwnd_reduction(struct sock *sk);
void xtcp_process_tlp_ack(struct sock *sk, u32 ack, int flag);
void xtcp_simple_retransmit(struct sock *sk);
bool xtcp_any_retrans_done(const struct sock *sk);
void xtcp_clear_retrans(struct tcp_sock *tp);

/* rack.c: RACK loss detection, NewReno (tcp_recovery.c) */
s32 xtcp_rack_skb_timeout(struct tcp_sock *tp, struct sk_buff *skb,
			  u32 reo_wnd);
bool xtcp_rack_mark_lost(struct sock *sk);
void xtcp_rack_advance(struct tcp_sock *tp, u8 sacked, u32 end_seq,
		       u64 xmit_time);
void xtcp_rack_reo_timeout(struct sock *sk);
void xtcp_rack_update_reo_wnd(struct sock *sk, struct rate_sample *rs);
void xtcp_newreno_mark_lost(struct sock *sk, bool snd_una_advanced);

/* rate.c: delivery rate samples */
void xtcp_rate_skb_sent(struct sock *sk, struct sk_buff *skb);
void xtcp_rate_skb_delivered(struct sock *sk, struct sk_buff *skb,
			     struct rate_sample *rs);
void xtcp_rate_gen(struct sock *sk, u32 delivered, u32 lost,
		   bool is_sack_reneg, struct rate_sample *rs);
void xtcp_rate_check_app_limited(struct sock *sk);

/* tcp_tsopt_ecr_before(): the peer echoed a TSval older than @when, ms. */
static inline bool xtcp_tsopt_ecr_before(const struct tcp_sock *tp, u32 when)
{
	return tp->rx_opt.saw_tstamp && tp->rx_opt.rcv_tsecr &&
	       before(tp->rx_opt.rcv_tsecr, when);
}

/**
 * xtcp_skb_spurious_retrans - was @skb's retransmission needless?
 * @tp:  the connection
 * @skb: an acknowledged skb
 *
 * tcp_skb_spurious_retrans(): it was re-sent, and the ACK echoes a
 * timestamp older than the last sending: the original arrived.
 *
 * Return: true if so.
 */
static inline bool xtcp_skb_spurious_retrans(const struct tcp_sock *tp,
					     const struct sk_buff *skb)
{
	return (TCP_SKB_CB(skb)->sacked & TCPCB_RETRANS) &&
	       xtcp_tsopt_ecr_before(tp, (u32)div_u64(skb->skb_mstamp_ns,
						      NSEC_PER_MSEC));
}

/* tcp_ca_event(): tell the algorithm (its cwnd_event hook). */
static inline void xtcp_ca_event(struct sock *sk, const enum tcp_ca_event event)
{
	const struct xtcp_cong_ops *ca = xtcp_sk(sk)->ca_ops;

	if (ca && ca->cwnd_event)
		ca->cwnd_event(sk, event);
}

/* The algorithm sets cwnd itself (cong_control): no PRR, no cong_avoid. */
static inline bool xtcp_ca_cong_control(const struct sock *sk)
{
	const struct xtcp_cong_ops *ca = xtcp_sk(sk)->ca_ops;

	return ca && ca->cong_control;
}

/* tcp_ca_needs_ecn(): the algorithm wants ECT on every packet (DCTCP). */
static inline bool xtcp_ca_needs_ecn(const struct sock *sk)
{
	/* A listener's, read without its lock (xtcp_ecn_create_request()). */
	const struct xtcp_cong_ops *ca = READ_ONCE(xtcp_sk(sk)->ca_ops);

	return ca && (ca->flags & TCP_CONG_NEEDS_ECN);
}

/*
 * ECN (RFC 3168), when the handshake agreed on it (TCP_ECN_OK): a cwnd
 * reduction sends CWR on the next new data (tcp_ecn_queue_cwr()); an
 * undone one does not (tcp_ecn_withdraw_cwr()); an ACK with ECE (not a
 * SYN) is a congestion signal (tcp_ecn_rcv_ecn_echo(), ack.c).  ecn_flags
 * change under the socket lock.
 */
static inline void xtcp_ecn_queue_cwr(struct tcp_sock *tp)
{
	if (tp->ecn_flags & TCP_ECN_OK)
		tp->ecn_flags |= TCP_ECN_QUEUE_CWR;
}

static inline void xtcp_ecn_withdraw_cwr(struct tcp_sock *tp)
{
	tp->ecn_flags &= ~TCP_ECN_QUEUE_CWR;
}

/* __tcp_set_rto(): SRTT + RTTVAR (which holds 4 x the deviation), jiffies. */
static inline u32 __xtcp_set_rto(const struct tcp_sock *tp)
{
	return usecs_to_jiffies((tp->srtt_us >> 3) + tp->rttvar_us);
}

/*
 * tcp_needs_internal_pacing(): pacing was asked for (SO_MAX_PACING_RATE,
 * or an algorithm that paces) and no fq qdisc has taken it over
 * (SK_PACING_FQ).
 */
static inline bool xtcp_needs_internal_pacing(const struct sock *sk)
{
	/* Pairs with sch_fq's smp_store_release() of SK_PACING_FQ. */
	return smp_load_acquire(&sk->sk_pacing_status) == SK_PACING_NEEDED;
}

/*
 * TCP_TX_DELAY.  Stock adds the delay only behind its static key
 * tcp_tx_delay_enabled, which TCP_TX_DELAY turns on for good; Debian's
 * 6.12 does not export that key (EXPORT_IPV6_MOD() with IPv6 built in)
 * and xtcp must not flip stock's branches anyway, so these test the
 * socket's own value: with no delay set, the answer is the same as
 * stock's with its key off or its delay 0.
 */

/**
 * xtcp_add_tx_delay - delay @skb's departure by the socket's TX delay
 * @skb: the segment about to leave, its departure time already set
 * @tp:  the socket it leaves for (the listener for a SYN-ACK)
 *
 * tcp_add_tx_delay(): the earliest departure time (skb->skb_mstamp_ns,
 * which an fq qdisc honours) moves on by tcp_tx_delay microseconds.  Only
 * the copy that leaves is delayed; a queued skb keeps its send time for
 * RTT samples, RACK and TSval.
 */
static inline void xtcp_add_tx_delay(struct sk_buff *skb,
				     const struct tcp_sock *tp)
{
	skb->skb_mstamp_ns += (u64)READ_ONCE(tp->tcp_tx_delay) * NSEC_PER_USEC;
}

/**
 * xtcp_transmit_time - departure time of a control segment
 * @sk: the socket the RST or ACK answers for: a full socket (a listener
 *      for its requests) or a timewait sock
 *
 * tcp_transmit_time(): now plus the socket's TX delay (tw_tx_delay for a
 * timewait sock), for the ACKs and RSTs that leave through the control
 * socket.
 *
 * Return: the earliest departure time, ns on the monotonic clock, or 0
 * (none: leave at once) when no delay is set or @sk is a request.
 */
static inline u64 xtcp_transmit_time(const struct sock *sk)
{
	u32 delay = 0;

	if (sk->sk_state == TCP_TIME_WAIT)
		delay = tcp_twsk(sk)->tw_tx_delay;
	else if (sk_fullsock(sk))
		delay = READ_ONCE(tcp_sk(sk)->tcp_tx_delay);
	if (!delay)
		return 0;
	return ktime_get_ns() + (u64)delay * NSEC_PER_USEC;
}

/* tcp_is_rack(): RACK detects losses (net.xtcp.recovery bit 0). */
static inline bool xtcp_is_rack(const struct sock *sk)
{
	return READ_ONCE(xtcp_pernet(sock_net(sk))->sysctl.recovery) &
	       TCP_RACK_LOSS_DETECTION;
}

/* tcp_init_cwnd(): the route's initcwnd, else RFC 6928's ten segments. */
static inline u32 xtcp_init_cwnd(struct sock *sk)
{
	const struct dst_entry *dst = __sk_dst_get(sk);
	u32 cwnd = dst ? dst_metric(dst, RTAX_INITCWND) : 0;

	if (!cwnd)
		cwnd = TCP_INIT_CWND;
	return min_t(u32, cwnd, tcp_sk(sk)->snd_cwnd_clamp);
}

/*
 * tcp_probe0_base() and tcp_probe0_when(): a zero-window probe waits at
 * least TCP_RTO_MIN, backed off, at most @max_when (jiffies).
 */
static inline unsigned long xtcp_probe0_base(const struct sock *sk)
{
	return max_t(unsigned long, inet_csk(sk)->icsk_rto, TCP_RTO_MIN);
}

static inline unsigned long xtcp_probe0_when(const struct sock *sk,
					     unsigned long max_when)
{
	u8 backoff = min_t(u8, ilog2(TCP_RTO_MAX / TCP_RTO_MIN) + 1,
			   inet_csk(sk)->icsk_backoff);
	u64 when = (u64)xtcp_probe0_base(sk) << backoff;

	return (unsigned long)min_t(u64, when, max_when);
}

/*
 * tcp_clamp_probe0_to_user_timeout(): the next zero-window probe
 * (@when, jiffies) comes no later than TCP_USER_TIMEOUT after the
 * first (icsk_probes_tstamp), so that the probe timer gives up in time
 * (xtcp_probe_timer()).
 */
static inline u32 xtcp_clamp_probe0_to_user_timeout(const struct sock *sk,
						    u32 when)
{
	const struct inet_connection_sock *icsk = inet_csk(sk);
	u32 user_timeout = READ_ONCE(icsk->icsk_user_timeout);
	s32 elapsed, remaining;

	if (!user_timeout || !icsk->icsk_probes_tstamp)
		return when;
	elapsed = tcp_jiffies32 - icsk->icsk_probes_tstamp;
	if (unlikely(elapsed < 0))
		elapsed = 0;
	remaining = msecs_to_jiffies(user_timeout) - elapsed;
	return min_t(u32, xtcp_probe0_user_timeout_left(remaining), when);
}

/*
 * tcp_bound_to_half_wnd(): a peer that offers tiny windows is sent
 * segments of half its largest window, never below 68 bytes of IP
 * datagram (RFC 791's minimum) less our TCP header.
 */
static inline int xtcp_bound_to_half_wnd(const struct tcp_sock *tp,
					 int pktsize)
{
	u32 cutoff = tp->max_window;

	if (cutoff > TCP_MSS_DEFAULT)
		cutoff >>= 1;
	if (cutoff && pktsize > cutoff)
		return max_t(int, cutoff, 68U - tp->tcp_header_len);
	return pktsize;
}

/* mem.c: the memory pool (tcp_mem) */
extern long sysctl_xtcp_mem[3];
extern atomic_long_t xtcp_memory_allocated;
DECLARE_PER_CPU(int, xtcp_memory_per_cpu_fw_alloc);
extern struct percpu_counter xtcp_sockets_allocated;
extern unsigned long xtcp_memory_pressure;
void xtcp_enter_memory_pressure(struct sock *sk);
void xtcp_leave_memory_pressure(struct sock *sk);
void xtcp_forced_mem_schedule(struct sock *sk, int size);
void xtcp_sock_destruct(struct sock *sk);
int xtcp_mem_init(void);
void xtcp_mem_exit(void);

/*
 * tcp_under_memory_pressure(): xtcp's pool only.  Stock also asks the
 * socket's memory cgroup; an xtcp socket has none (listen.c,
 * xtcp_csk_accept_memcg()).
 */
static inline bool xtcp_under_memory_pressure(const struct sock *sk)
{
	return READ_ONCE(xtcp_memory_pressure);
}

/* reuseport.c: migration within SO_REUSEPORT groups */
bool xtcp_reuseport_may_migrate(struct sock *sk);
struct sock *xtcp_reuseport_migrate_sock(struct sock *sk,
					 struct sock *migrating_sk,
					 struct sk_buff *skb);

/* syncookies.c (RFC 4987) */
void xtcp_syncookie_init(void);
u32 xtcp_cookie_v4_init_sequence(struct sock *sk, const struct sk_buff *skb,
				 u16 *mssp);
u64 xtcp_cookie_init_timestamp(struct request_sock *req, u64 now_ns);
struct sock *xtcp_cookie_v4_check(struct sock *sk, struct sk_buff *skb);

/* timewait_sock.c: the timewait sock's life (inet_timewait_sock.c) */
extern struct timewait_sock_ops xtcp_timewait_sock_ops;
struct xtcp_timewait_sock *xtcp_twsk_alloc(const struct sock *sk, int state);
void xtcp_twsk_hashdance_schedule(struct xtcp_timewait_sock *tw,
				  struct sock *sk, int timeo);
void xtcp_twsk_reschedule(struct xtcp_timewait_sock *tw, int timeo);
void xtcp_twsk_deschedule(struct xtcp_timewait_sock *tw);
void xtcp_twsk_deschedule_put(struct xtcp_timewait_sock *tw);
void xtcp_twsk_purge(struct xtcp_net *xn);

/* timer.c */
void xtcp_reqsk_timer_handler(struct timer_list *t);
void xtcp_init_xmit_timers(struct sock *sk);
void xtcp_clear_xmit_timers(struct sock *sk);
void xtcp_set_keepalive(struct sock *sk, int val);
void xtcp_release_cb(struct sock *sk);
unsigned long xtcp_reqsk_timeout(const struct request_sock *req);
void xtcp_ld_RTO_revert(struct sock *sk, u32 seq);

/* cong.c: xtcp's own congestion-control registry */
void xtcp_assign_congestion_control(struct sock *sk);
void xtcp_ca_openreq_child(struct sock *sk, const struct sock *listener);
int xtcp_set_congestion_control(struct sock *sk, const char *name,
				bool cap_net_admin);
void xtcp_get_congestion_control(struct sock *sk, char *name);
void xtcp_init_congestion_control(struct sock *sk);
void xtcp_cleanup_congestion_control(struct sock *sk);
int xtcp_cong_init(void);
void xtcp_cong_exit(void);
void xtcp_ca_net_init(struct xtcp_net *xn);
void xtcp_ca_net_exit(struct xtcp_net *xn);
int xtcp_proc_congestion_control(xtcp_ctl_table *ctl, int write,
				 void *buffer, size_t *lenp, loff_t *ppos);
int xtcp_proc_available_congestion_control(xtcp_ctl_table *ctl, int write,
					   void *buffer, size_t *lenp,
					   loff_t *ppos);
int xtcp_proc_allowed_congestion_control(xtcp_ctl_table *ctl, int write,
					 void *buffer, size_t *lenp,
					 loff_t *ppos);

/* established.c: the connected socket's state machine */
void xtcp_initialize_rcv_mss(struct sock *sk);
void xtcp_rcv_established(struct sock *sk, struct sk_buff *skb);
int xtcp_rcv_state_process(struct sock *sk, struct sk_buff *skb);
void xtcp_synack_rtt_meas(struct sock *sk, struct request_sock *req);
void xtcp_done(struct sock *sk);
void xtcp_reset(struct sock *sk);
void xtcp_done_with_error(struct sock *sk, int err);
void xtcp_init_transfer(struct sock *sk);
void xtcp_replace_ts_recent(struct tcp_sock *tp, u32 seq);
void xtcp_send_challenge_ack(struct sock *sk);

/* close.c: close(), shutdown(SHUT_WR), orphans */
void xtcp_close(struct sock *sk, long timeout);
void xtcp_shutdown_send(struct sock *sk, int how);
bool xtcp_check_oom(const struct sock *sk, int shift);
int xtcp_orphan_count_sum(void);
void xtcp_csk_destroy_sock(struct sock *sk);
void xtcp_csk_prepare_for_destroy_sock(struct sock *sk);
void xtcp_csk_prepare_forced_close(struct sock *sk)
	__releases(&sk->sk_lock.slock);

/*
 * tcp_fin_time(): how long an orphan waits in FIN-WAIT-2, jiffies:
 * TCP_LINGER2 or net.ipv4.tcp_fin_timeout, at least 3.5 RTO.
 */
static inline int xtcp_fin_time(const struct sock *sk)
{
	int fin_timeout = READ_ONCE(tcp_sk(sk)->linger2) ? :
		READ_ONCE(sock_net(sk)->ipv4.sysctl_tcp_fin_timeout);
	const int rto = inet_csk(sk)->icsk_rto;

	if (fin_timeout < (rto << 2) - (rto >> 1))
		fin_timeout = (rto << 2) - (rto >> 1);
	return fin_timeout;
}

/*
 * keepalive_time_when(), keepalive_intvl_when(), keepalive_probes():
 * TCP_KEEPIDLE and TCP_KEEPINTVL (jiffies) and TCP_KEEPCNT, or the
 * namespace's net.ipv4.tcp_keepalive_* where the socket set none.
 */
static inline int xtcp_keepalive_time_when(const struct tcp_sock *tp)
{
	const struct net *net = sock_net((const struct sock *)tp);

	return READ_ONCE(tp->keepalive_time) ? :
		READ_ONCE(net->ipv4.sysctl_tcp_keepalive_time);
}

static inline int xtcp_keepalive_intvl_when(const struct tcp_sock *tp)
{
	const struct net *net = sock_net((const struct sock *)tp);

	return READ_ONCE(tp->keepalive_intvl) ? :
		READ_ONCE(net->ipv4.sysctl_tcp_keepalive_intvl);
}

static inline int xtcp_keepalive_probes(const struct tcp_sock *tp)
{
	const struct net *net = sock_net((const struct sock *)tp);

	return READ_ONCE(tp->keepalive_probes) ? :
		READ_ONCE(net->ipv4.sysctl_tcp_keepalive_probes);
}

/*
 * keepalive_time_elapsed(): jiffies since the peer last showed life,
 * by a segment (lrcvtime) or an ACK (rcv_tstamp).
 */
static inline u32 xtcp_keepalive_time_elapsed(const struct tcp_sock *tp)
{
	const struct inet_connection_sock *icsk = &tp->inet_conn;

	return min_t(u32, tcp_jiffies32 - icsk->icsk_ack.lrcvtime,
		     tcp_jiffies32 - tp->rcv_tstamp);
}

/* sockopt.c: SOL_TCP options */
int xtcp_setsockopt(struct socket *sock, int level, int optname,
		    sockptr_t optval, unsigned int optlen);
int xtcp_getsockopt(struct socket *sock, int level, int optname,
		    char __user *optval, int __user *optlen);

/* sockopt_absent.c: options of features xtcp does not have */
int xtcp_setsockopt_repair(struct sock *sk, int optname);
int xtcp_parse_md5_keys(struct sock *sk, int optname, sockptr_t optval,
			unsigned int optlen);
int xtcp_setsockopt_ulp(struct sock *sk, sockptr_t optval,
			unsigned int optlen);
int xtcp_getsockopt_zerocopy(struct sock *sk, char __user *optval,
			     int __user *optlen);
int xtcp_getsockopt_repair(struct sock *sk, int optname, int __user *optlen);

/* fastopen.c: TCP Fast Open, passive side (RFC 7413) */
int xtcp_fastopen_reset_cipher(struct xtcp_net *xn, struct sock *sk,
			       const void *primary_key, const void *backup_key);
void xtcp_fastopen_destroy_cipher(struct sock *sk);
void xtcp_fastopen_ctx_destroy(struct xtcp_net *xn);
void xtcp_fastopen_listen(struct sock *sk, int backlog);
int xtcp_setsockopt_fastopen(struct sock *sk, int val);
int xtcp_setsockopt_fastopen_key(struct sock *sk, sockptr_t optval,
				 unsigned int optlen);
int xtcp_getsockopt_fastopen_key(struct sock *sk, char __user *optval,
				 int __user *optlen);
int xtcp_proc_fastopen_key(xtcp_ctl_table *table, int write, void *buffer,
			   size_t *lenp, loff_t *ppos);
struct sock *xtcp_try_fastopen(struct sock *sk, struct sk_buff *skb,
			       struct request_sock *req,
			       struct tcp_fastopen_cookie *foc,
			       const struct dst_entry *dst);
void xtcp_fastopen_add_skb(struct sock *sk, struct sk_buff *skb);
void xtcp_reqsk_fastopen_remove(struct sock *sk, struct request_sock *req,
				bool reset);
void xtcp_fastopen_rst_list_free(struct sock *sk);

/* data.c: segment text, FIN, and the ACK policy */
bool xtcp_epollin_ready(const struct sock *sk, int target);
void xtcp_enter_quickack_mode(struct sock *sk, unsigned int max_quickacks);
void xtcp_ecn_check_ce(struct sock *sk, const struct sk_buff *skb);
void xtcp_dsack_set(struct sock *sk, u32 seq, u32 end_seq);
void xtcp_sack_compress_send_ack(struct sock *sk);
void xtcp_rcv_rtt_measure_ts(struct sock *sk, const struct sk_buff *skb);
void xtcp_rcv_space_adjust(struct sock *sk);
void xtcp_data_queue(struct sock *sk, struct sk_buff *skb);
void xtcp_fin(struct sock *sk);
void xtcp_data_ready(struct sock *sk);
void xtcp_event_data_recv(struct sock *sk, struct sk_buff *skb);
int xtcp_queue_rcv(struct sock *sk, struct sk_buff *skb, bool *fragstolen);
void xtcp_urg(struct sock *sk, struct sk_buff *skb, const struct tcphdr *th);
void xtcp_purge_ofo_queue(struct sock *sk);
void xtcp_rbtree_insert(struct rb_root *root, struct sk_buff *skb);
void xtcp_disconnect_rx(struct sock *sk);
void xtcp_ack_snd_check(struct sock *sk);

/*
 * tcp_mstamp_refresh(): tcp_mstamp is the connection's clock for this
 * segment (us), read by the receiver's RTT estimate; tcp_clock_cache the
 * same instant in ns.  Written under the socket lock.
 */
static inline void xtcp_mstamp_refresh(struct tcp_sock *tp)
{
	u64 val = ktime_get_ns();

	tp->tcp_clock_cache = val;
	tp->tcp_mstamp = div_u64(val, NSEC_PER_USEC);
}

/* recvmsg.c: what a reader of the connection sees */
int xtcp_recvmsg(struct socket *sock, struct msghdr *msg, size_t len,
		 int flags);
void xtcp_cleanup_rbuf(struct sock *sk, int copied);
__poll_t xtcp_conn_poll(struct sock *sk);

/* proc.c */
int xtcp_proc_net_init(struct xtcp_net *xn);
void xtcp_proc_net_exit(struct xtcp_net *xn);

/* sysctl.c */
int xtcp_sysctl_net_init(struct xtcp_net *xn);
void xtcp_sysctl_net_exit(struct xtcp_net *xn);

#endif /* _XTCP_H */
