// SPDX-License-Identifier: GPL-2.0
/*
 * xtcp: /proc/net/xtcp_stat, the namespace's counters,
 * /proc/net/xtcp_sockstat, how many sockets it has, and /proc/net/xtcp,
 * the sockets themselves.
 *
 * xtcp_stat: two lines, names then values, in the layout of
 * /proc/net/netstat, so that the tools that read that file (and a
 * one-line awk) read this one.  xtcp_sockstat: the TCP line of
 * /proc/net/sockstat (sockstat_seq_show()) for xtcp.  xtcp: one line per
 * listener, request sock, connection and timewait sock, in the format of
 * /proc/net/tcp (net/ipv4/tcp_ipv4.c, tcp4_seq_show() and the seq_file
 * iterator above it), read from xtcp's own tables.
 */
#include <linux/jiffies.h>
#include <linux/proc_fs.h>
#include <linux/sched.h>
#include <linux/seq_file.h>
#include <linux/seq_file_net.h>
#include <net/inet_timewait_sock.h>
#include <net/net_namespace.h>
#include <net/request_sock.h>
#include <net/tcp.h>
#include <net/tcp_states.h>

#include "xtcp.h"

static const char * const xtcp_mib_names[XTCP_MIB_MAX] = {
	[XTCP_MIB_INSEGS]		= "InSegs",
	[XTCP_MIB_OUTSEGS]		= "OutSegs",
	[XTCP_MIB_OUTRSTS]		= "OutRsts",
	[XTCP_MIB_INERRS]		= "InErrs",
	[XTCP_MIB_INCSUMERRORS]		= "InCsumErrors",
	[XTCP_MIB_INOPTERRORS]		= "InOptErrors",
	[XTCP_MIB_INTRUNCATED]		= "InTruncated",
	[XTCP_MIB_INFILTERED]		= "InFiltered",
	[XTCP_MIB_PASSIVEOPENS]		= "PassiveOpens",
	[XTCP_MIB_ATTEMPTFAILS]		= "AttemptFails",
	[XTCP_MIB_LISTENOVERFLOWS]	= "ListenOverflows",
	[XTCP_MIB_LISTENDROPS]		= "ListenDrops",
	[XTCP_MIB_SYNCOOKIESSENT]	= "SyncookiesSent",
	[XTCP_MIB_SYNCOOKIESRECV]	= "SyncookiesRecv",
	[XTCP_MIB_SYNCOOKIESFAILED]	= "SyncookiesFailed",
	[XTCP_MIB_EMBRYONICRSTS]	= "EmbryonicRsts",
	[XTCP_MIB_PAWSESTABREJECTED]	= "PAWSEstab",
	[XTCP_MIB_REQQFULLDOCOOKIES]	= "TCPReqQFullDoCookies",
	[XTCP_MIB_REQQFULLDROP]		= "TCPReqQFullDrop",
	[XTCP_MIB_CHALLENGEACK]		= "TCPChallengeACK",
	[XTCP_MIB_ACKSKIPPEDSYNRECV]	= "TCPACKSkippedSynRecv",
	[XTCP_MIB_ACKSKIPPEDCHALLENGE]	= "TCPACKSkippedChallenge",
	[XTCP_MIB_SYNRETRANS]		= "TCPSynRetrans",
	[XTCP_MIB_TIMEOUTS]		= "TCPTimeouts",
	[XTCP_MIB_TCPTIMEOUTREHASH]	= "TcpTimeoutRehash",
	[XTCP_MIB_REQDROPPED]		= "ReqDropped",
	[XTCP_MIB_NOROUTE]		= "OutNoRoutes",
	[XTCP_MIB_OUTOFWINDOWICMPS]	= "OutOfWindowIcmps",
	[XTCP_MIB_MIGRATEREQSUCCESS]	= "TCPMigrateReqSuccess",
	[XTCP_MIB_MIGRATEREQFAILURE]	= "TCPMigrateReqFailure",
	[XTCP_MIB_MEMORYPRESSURES]	= "TCPMemoryPressures",
	[XTCP_MIB_MEMORYPRESSURESCHRONO] = "TCPMemoryPressuresChrono",
	[XTCP_MIB_DELAYEDACKS]		= "DelayedACKs",
	[XTCP_MIB_DELAYEDACKLOCKED]	= "DelayedACKLocked",
	[XTCP_MIB_DELAYEDACKLOST]	= "DelayedACKLost",
	[XTCP_MIB_TCPPUREACKS]		= "TCPPureAcks",
	[XTCP_MIB_TCPHPHITS]		= "TCPHPHits",
	[XTCP_MIB_TCPHPACKS]		= "TCPHPAcks",
	[XTCP_MIB_TCPRCVCOALESCE]	= "TCPRcvCoalesce",
	[XTCP_MIB_TCPRCVQDROP]		= "TCPRcvQDrop",
	[XTCP_MIB_TCPZEROWINDOWDROP]	= "TCPZeroWindowDrop",
	[XTCP_MIB_PRUNECALLED]		= "PruneCalled",
	[XTCP_MIB_RCVPRUNED]		= "RcvPruned",
	[XTCP_MIB_TCPDSACKOLDSENT]	= "TCPDSACKOldSent",
	[XTCP_MIB_TCPDSACKOFOSENT]	= "TCPDSACKOfoSent",
	[XTCP_MIB_TCPSYNCHALLENGE]	= "TCPSYNChallenge",
	[XTCP_MIB_TCPACKSKIPPEDSEQ]	= "TCPACKSkippedSeq",
	[XTCP_MIB_TCPACKSKIPPEDPAWS]	= "TCPACKSkippedPAWS",
	[XTCP_MIB_TCPWANTZEROWINDOWADV]	= "TCPWantZeroWindowAdv",
	[XTCP_MIB_TCPTOZEROWINDOWADV]	= "TCPToZeroWindowAdv",
	[XTCP_MIB_TCPFROMZEROWINDOWADV]	= "TCPFromZeroWindowAdv",
	[XTCP_MIB_TCPABORTONDATA]	= "TCPAbortOnData",
	[XTCP_MIB_TCPABORTONCLOSE]	= "TCPAbortOnClose",
	[XTCP_MIB_TCPBACKLOGDROP]	= "TCPBacklogDrop",
	[XTCP_MIB_TCPOFOQUEUE]		= "TCPOFOQueue",
	[XTCP_MIB_TCPOFODROP]		= "TCPOFODrop",
	[XTCP_MIB_TCPOFOMERGE]		= "TCPOFOMerge",
	[XTCP_MIB_OFOPRUNED]		= "OfoPruned",
	[XTCP_MIB_TCPACKCOMPRESSED]	= "TCPAckCompressed",
	[XTCP_MIB_TCPRCVCOLLAPSED]	= "TCPRcvCollapsed",
	[XTCP_MIB_TCPORIGDATASENT]	= "TCPOrigDataSent",
	[XTCP_MIB_RETRANSSEGS]		= "RetransSegs",
	[XTCP_MIB_TCPRETRANSFAIL]	= "TCPRetransFail",
	[XTCP_MIB_TCPSLOWSTARTRETRANS]	= "TCPSlowStartRetrans",
	[XTCP_MIB_TCPLOSSFAILURES]	= "TCPLossFailures",
	[XTCP_MIB_TCPABORTONTIMEOUT]	= "TCPAbortOnTimeout",
	[XTCP_MIB_TCPWINPROBE]		= "TCPWinProbe",
	[XTCP_MIB_TCPWQUEUETOOBIG]	= "TCPWqueueTooBig",
	[XTCP_MIB_TCPSPURIOUSRTXHOSTQUEUES] = "TCPSpuriousRtxHostQueues",
	[XTCP_MIB_TCPABORTONLINGER]	= "TCPAbortOnLinger",
	[XTCP_MIB_TCPABORTONMEMORY]	= "TCPAbortOnMemory",
	[XTCP_MIB_TCPTIMEWAITOVERFLOW]	= "TCPTimeWaitOverflow",
	[XTCP_MIB_TCPKEEPALIVE]		= "TCPKeepAlive",
	[XTCP_MIB_TIMEWAITED]		= "TW",
	[XTCP_MIB_TIMEWAITKILLED]	= "TWKilled",
	[XTCP_MIB_TCPACKSKIPPEDFINWAIT2] = "TCPACKSkippedFinWait2",
	[XTCP_MIB_TCPACKSKIPPEDTIMEWAIT] = "TCPACKSkippedTimeWait",
	[XTCP_MIB_TCPDEFERACCEPTDROP]	= "TCPDeferAcceptDrop",
	[XTCP_MIB_TCPSACKREORDER]	= "TCPSACKReorder",
	[XTCP_MIB_TCPTSREORDER]	= "TCPTSReorder",
	[XTCP_MIB_TCPRENOREORDER]	= "TCPRenoReorder",
	[XTCP_MIB_TCPDSACKRECV]	= "TCPDSACKRecv",
	[XTCP_MIB_TCPDSACKOFORECV]	= "TCPDSACKOfoRecv",
	[XTCP_MIB_TCPDSACKRECVSEGS] = "TCPDSACKRecvSegs",
	[XTCP_MIB_TCPDSACKIGNOREDDUBIOUS] = "TCPDSACKIgnoredDubious",
	[XTCP_MIB_TCPDSACKIGNOREDOLD] = "TCPDSACKIgnoredOld",
	[XTCP_MIB_TCPDSACKIGNOREDNOUNDO] = "TCPDSACKIgnoredNoUndo",
	[XTCP_MIB_TCPSACKDISCARD]	= "TCPSACKDiscard",
	[XTCP_MIB_TCPLOSTRETRANSMIT] = "TCPLostRetransmit",
	[XTCP_MIB_TCPSACKRECOVERY]	= "TCPSackRecovery",
	[XTCP_MIB_TCPRENORECOVERY]	= "TCPRenoRecovery",
	[XTCP_MIB_TCPFULLUNDO]	= "TCPFullUndo",
	[XTCP_MIB_TCPLOSSUNDO]	= "TCPLossUndo",
	[XTCP_MIB_TCPDSACKUNDO]	= "TCPDSACKUndo",
	[XTCP_MIB_TCPPARTIALUNDO]	= "TCPPartialUndo",
	[XTCP_MIB_TCPSPURIOUSRTOS]	= "TCPSpuriousRTOs",
	[XTCP_MIB_TCPSACKRENEGING]	= "TCPSACKReneging",
	[XTCP_MIB_TCPFASTRETRANS]	= "TCPFastRetrans",
	[XTCP_MIB_TCPLOSSPROBES]	= "TCPLossProbes",
	[XTCP_MIB_TCPLOSSPROBERECOVERY] = "TCPLossProbeRecovery",
	[XTCP_MIB_TCPSACKFAILURES]	= "TCPSackFailures",
	[XTCP_MIB_TCPRENOFAILURES]	= "TCPRenoFailures",
	[XTCP_MIB_TCPSACKRECOVERYFAIL] = "TCPSackRecoveryFail",
	[XTCP_MIB_TCPRENORECOVERYFAIL] = "TCPRenoRecoveryFail",
	[XTCP_MIB_TCPDELIVERED]	= "TCPDelivered",
	[XTCP_MIB_TCPDELIVEREDCE]	= "TCPDeliveredCE",
	[XTCP_MIB_TCPHYSTARTTRAINDETECT] = "TCPHystartTrainDetect",
	[XTCP_MIB_TCPHYSTARTTRAINCWND] = "TCPHystartTrainCwnd",
	[XTCP_MIB_TCPHYSTARTDELAYDETECT] = "TCPHystartDelayDetect",
	[XTCP_MIB_TCPHYSTARTDELAYCWND] = "TCPHystartDelayCwnd",
	[XTCP_MIB_TCPFASTOPENPASSIVE]	= "TCPFastOpenPassive",
	[XTCP_MIB_TCPFASTOPENPASSIVEFAIL] = "TCPFastOpenPassiveFail",
	[XTCP_MIB_TCPFASTOPENLISTENOVERFLOW] = "TCPFastOpenListenOverflow",
	[XTCP_MIB_TCPFASTOPENCOOKIEREQD] = "TCPFastOpenCookieReqd",
	[XTCP_MIB_TCPFASTOPENPASSIVEALTKEY] = "TCPFastOpenPassiveAltKey",
};

static int xtcp_stat_show(struct seq_file *seq, void *v)
{
	struct xtcp_net *xn = xtcp_pernet(seq_file_single_net(seq));
	unsigned long sum;
	int i, cpu;

	seq_puts(seq, "Xtcp:");
	for (i = 0; i < XTCP_MIB_MAX; i++)
		seq_printf(seq, " %s", xtcp_mib_names[i]);
	seq_puts(seq, "\nXtcp:");
	for (i = 0; i < XTCP_MIB_MAX; i++) {
		sum = 0;
		for_each_possible_cpu(cpu)
			sum += per_cpu_ptr(xn->mib, cpu)->mibs[i];
		seq_printf(seq, " %lu", sum);
	}
	seq_putc(seq, '\n');
	return 0;
}

/*
 * "XTCP: inuse N orphan N tw N alloc N mem N", as stock's TCP line:
 * hashed sockets of this namespace, orphans and allocated sockets of all
 * namespaces, this namespace's timewait socks, and pages charged to
 * xtcp's pool.
 */
static int xtcp_sockstat_show(struct seq_file *seq, void *v)
{
	struct net *net = seq_file_single_net(seq);

	seq_printf(seq, "XTCP: inuse %d orphan %d tw %d alloc %d mem %ld\n",
		   sock_prot_inuse_get(net, &xtcp_prot),
		   xtcp_orphan_count_sum(),
		   atomic_read(&xtcp_pernet(net)->tw_count),
		   proto_sockets_allocated_sum_positive(&xtcp_prot),
		   proto_memory_allocated(&xtcp_prot));
	return 0;
}

/**
 * struct xtcp_iter_state - a reader's place in /proc/net/xtcp
 *	(struct tcp_iter_state)
 * @p:        the namespace (seq_file_net()); must be first
 * @state:    the table being walked: TCP_SEQ_STATE_LISTENING (the
 *            listening hash), then TCP_SEQ_STATE_ESTABLISHED (the
 *            established hash: request socks, connections, timewait socks)
 * @bucket:   the chain being walked; its writers' lock is held from the
 *            start() or next() that returns its first entry shown until
 *            the next() that leaves the chain, or stop()
 * @offset:   entries of that chain already passed, to find the place again
 * @num:      the row number shown as "sl"
 * @last_pos: the position the last start() or next() reached: a read
 *            that resumes there seeks by @bucket and @offset instead of
 *            walking every row again
 */
struct xtcp_iter_state {
	struct seq_net_private	p;
	enum tcp_seq_states	state;
	int			bucket;
	int			offset;
	int			num;
	loff_t			last_pos;
};

/*
 * The tables belong to one namespace (struct xtcp_net), so unlike
 * stock's shared hash no entry needs a net_eq() test.  Every writer of a
 * chain holds its lock, so while we hold it no entry can leave, be freed
 * and be reused for another chain (the slabs are SLAB_TYPESAFE_BY_RCU).
 *
 * The listening chains' writers take their lock with BHs off, and so
 * does this reader.  Stock's listening_get_first() takes its lock
 * plainly, as no writer of stock's runs in softirq; none of xtcp's does
 * today either, but the reader stays safe if one ever does.
 */
static struct xtcp_net *xtcp_seq_pernet(struct seq_file *seq)
{
	return xtcp_pernet(seq_file_net(seq));
}

/*
 * A chain's lock is taken in one callback (start() or next()) and
 * dropped in another (next() or stop()).  Sparse counts locks per
 * function, so it is told where the lock is handed to the next callback
 * and where that one takes it back.
 */
#define xtcp_seq_lock_handed_on(lock)	__release(lock)
#define xtcp_seq_lock_taken_back(lock)	__acquire(lock)

static void xtcp_seq_unlock_listening(struct seq_file *seq, int bucket)
{
	spinlock_t *lock = &xtcp_seq_pernet(seq)->lhash[bucket].lock;

	xtcp_seq_lock_taken_back(lock);
	spin_unlock_bh(lock);
}

static void xtcp_seq_unlock_established(struct seq_file *seq, int bucket)
{
	spinlock_t *lock = xtcp_ehash_lockp(xtcp_seq_pernet(seq), bucket);

	xtcp_seq_lock_taken_back(lock);
	spin_unlock_bh(lock);
}

/*
 * listening_get_first(): the first listener of the first non-empty chain
 * from st->bucket on, returned with that chain's lock held; NULL (no
 * lock) past the last chain.
 */
static struct sock *xtcp_listening_get_first(struct seq_file *seq)
{
	struct xtcp_net *xn = xtcp_seq_pernet(seq);
	struct xtcp_iter_state *st = seq->private;

	st->offset = 0;
	for (; st->bucket < XTCP_LHASH_SIZE; st->bucket++) {
		struct xtcp_listen_hashbucket *ilb = &xn->lhash[st->bucket];

		if (hlist_nulls_empty(&ilb->nulls_head))
			continue;
		spin_lock_bh(&ilb->lock);
		if (!hlist_nulls_empty(&ilb->nulls_head)) {
			xtcp_seq_lock_handed_on(&ilb->lock);
			return sk_nulls_head(&ilb->nulls_head);
		}
		spin_unlock_bh(&ilb->lock);
	}
	return NULL;
}

/*
 * listening_get_next(): the listener after @cur in its chain, else the
 * first of the next non-empty chain (the lock of @cur's chain dropped).
 */
static struct sock *xtcp_listening_get_next(struct seq_file *seq,
					    struct sock *cur)
{
	struct xtcp_iter_state *st = seq->private;
	struct sock *sk;

	++st->num;
	++st->offset;
	sk = sk_nulls_next(cur);
	if (sk)
		return sk;
	xtcp_seq_unlock_listening(seq, st->bucket);
	++st->bucket;
	return xtcp_listening_get_first(seq);
}

/* listening_get_idx(): the listener @*pos rows on; @*pos counts down. */
static struct sock *xtcp_listening_get_idx(struct seq_file *seq, loff_t *pos)
{
	struct xtcp_iter_state *st = seq->private;
	struct sock *sk;

	st->bucket = 0;
	st->offset = 0;
	sk = xtcp_listening_get_first(seq);
	while (sk && *pos) {
		sk = xtcp_listening_get_next(seq, sk);
		--*pos;
	}
	return sk;
}

/*
 * established_get_first(): the first entry (request sock, connection or
 * timewait sock) of the first non-empty established chain from
 * st->bucket on, with the chain's writers' lock held.  Empty chains are
 * skipped without the lock, as stock does: most of the 16384 are empty.
 */
static struct sock *xtcp_established_get_first(struct seq_file *seq)
{
	struct xtcp_net *xn = xtcp_seq_pernet(seq);
	struct xtcp_iter_state *st = seq->private;

	st->offset = 0;
	for (; st->bucket < XTCP_EHASH_SIZE; ++st->bucket) {
		struct hlist_nulls_head *chain = &xn->ehash[st->bucket].chain;
		spinlock_t *lock = xtcp_ehash_lockp(xn, st->bucket);

		cond_resched();
		if (hlist_nulls_empty(chain))
			continue;
		spin_lock_bh(lock);
		if (!hlist_nulls_empty(chain)) {
			xtcp_seq_lock_handed_on(lock);
			return sk_nulls_head(chain);
		}
		spin_unlock_bh(lock);
	}
	return NULL;
}

/* established_get_next() */
static struct sock *xtcp_established_get_next(struct seq_file *seq,
					      struct sock *cur)
{
	struct xtcp_iter_state *st = seq->private;
	struct sock *sk;

	++st->num;
	++st->offset;
	sk = sk_nulls_next(cur);
	if (sk)
		return sk;
	xtcp_seq_unlock_established(seq, st->bucket);
	++st->bucket;
	return xtcp_established_get_first(seq);
}

/* established_get_idx() */
static struct sock *xtcp_established_get_idx(struct seq_file *seq, loff_t pos)
{
	struct xtcp_iter_state *st = seq->private;
	struct sock *sk;

	st->bucket = 0;
	sk = xtcp_established_get_first(seq);
	while (sk && pos) {
		sk = xtcp_established_get_next(seq, sk);
		--pos;
	}
	return sk;
}

/* tcp_get_idx(): row @pos, listeners first. */
static struct sock *xtcp_get_idx(struct seq_file *seq, loff_t pos)
{
	struct xtcp_iter_state *st = seq->private;
	struct sock *sk;

	st->state = TCP_SEQ_STATE_LISTENING;
	sk = xtcp_listening_get_idx(seq, &pos);
	if (!sk) {
		st->state = TCP_SEQ_STATE_ESTABLISHED;
		sk = xtcp_established_get_idx(seq, pos);
	}
	return sk;
}

/*
 * tcp_seek_last_pos(): a read that continues where the last one stopped
 * goes straight back to that chain and skips the entries of it already
 * shown, instead of walking every row from the start.  If the chain has
 * changed meanwhile, rows may be shown twice or not at all, as with
 * stock's file; an unchanged table is shown exactly once.
 */
static struct sock *xtcp_seek_last_pos(struct seq_file *seq)
{
	struct xtcp_iter_state *st = seq->private;
	int bucket = st->bucket;
	int offset = st->offset;
	int orig_num = st->num;
	struct sock *sk = NULL;

	switch (st->state) {
	case TCP_SEQ_STATE_LISTENING:
		if (st->bucket >= XTCP_LHASH_SIZE)
			break;
		sk = xtcp_listening_get_first(seq);
		while (offset-- && sk && bucket == st->bucket)
			sk = xtcp_listening_get_next(seq, sk);
		if (sk)
			break;
		st->bucket = 0;
		st->state = TCP_SEQ_STATE_ESTABLISHED;
		fallthrough;
	case TCP_SEQ_STATE_ESTABLISHED:
		if (st->bucket >= XTCP_EHASH_SIZE)
			break;
		sk = xtcp_established_get_first(seq);
		while (offset-- && sk && bucket == st->bucket)
			sk = xtcp_established_get_next(seq, sk);
	}
	st->num = orig_num;
	return sk;
}

/**
 * xtcp_seq_start - seq_file start() of /proc/net/xtcp (tcp_seq_start())
 * @seq: the file
 * @pos: the row wanted; 0 is the header
 *
 * Context: process.  Returns with the lock of the chain the returned
 * entry is on held (a listening chain's or an established chain's
 * writers' lock, BHs off); xtcp_seq_stop() drops it.
 *
 * Return: SEQ_START_TOKEN for the header, the entry, or NULL at the end.
 */
static void *xtcp_seq_start(struct seq_file *seq, loff_t *pos)
{
	struct xtcp_iter_state *st = seq->private;
	void *rc;

	if (*pos && *pos == st->last_pos) {
		rc = xtcp_seek_last_pos(seq);
		if (rc)
			goto out;
	}
	st->state = TCP_SEQ_STATE_LISTENING;
	st->num = 0;
	st->bucket = 0;
	st->offset = 0;
	rc = *pos ? xtcp_get_idx(seq, *pos - 1) : SEQ_START_TOKEN;
out:
	st->last_pos = *pos;
	return rc;
}

/**
 * xtcp_seq_next - seq_file next() of /proc/net/xtcp (tcp_seq_next())
 * @seq: the file
 * @v:   the entry just shown, or SEQ_START_TOKEN
 * @pos: its position, advanced
 *
 * Context: process, the lock of @v's chain held; on return that of the
 * next entry's (the same lock if the chain is the same).
 *
 * Return: the next entry, or NULL at the end (no lock held).
 */
static void *xtcp_seq_next(struct seq_file *seq, void *v, loff_t *pos)
{
	struct xtcp_iter_state *st = seq->private;
	struct sock *sk = NULL;

	if (v == SEQ_START_TOKEN) {
		sk = xtcp_get_idx(seq, 0);
		goto out;
	}
	switch (st->state) {
	case TCP_SEQ_STATE_LISTENING:
		sk = xtcp_listening_get_next(seq, v);
		if (!sk) {
			st->state = TCP_SEQ_STATE_ESTABLISHED;
			st->bucket = 0;
			st->offset = 0;
			sk = xtcp_established_get_first(seq);
		}
		break;
	case TCP_SEQ_STATE_ESTABLISHED:
		sk = xtcp_established_get_next(seq, v);
		break;
	}
out:
	++*pos;
	st->last_pos = *pos;
	return sk;
}

/**
 * xtcp_seq_stop - seq_file stop() of /proc/net/xtcp (tcp_seq_stop())
 * @seq: the file
 * @v:   the entry start() or next() returned last, or NULL
 *
 * Context: process; drops the chain lock that comes with @v.
 */
static void xtcp_seq_stop(struct seq_file *seq, void *v)
{
	struct xtcp_iter_state *st = seq->private;

	if (!v || v == SEQ_START_TOKEN)
		return;
	if (st->state == TCP_SEQ_STATE_LISTENING)
		xtcp_seq_unlock_listening(seq, st->bucket);
	else
		xtcp_seq_unlock_established(seq, st->bucket);
}

/*
 * get_openreq4(): a request sock, shown in SYN_RECV with its SYN-ACK
 * timer (kind 1), the SYN-ACKs its timer re-sent, and its listener's
 * owner; it has no queues, no inode and shows no refcount.
 */
static void xtcp_get_openreq4(const struct request_sock *req,
			      struct seq_file *f, int i)
{
	const struct inet_request_sock *ireq = inet_rsk(req);
	long delta = req->rsk_timer.expires - jiffies;

	seq_printf(f, "%4d: %08X:%04X %08X:%04X %02X %08X:%08X %02X:%08lX %08X %5u %8d %u %d %pK",
		   i, ireq->ir_loc_addr, ireq->ir_num, ireq->ir_rmt_addr,
		   ntohs(ireq->ir_rmt_port), TCP_SYN_RECV,
		   0, 0,	/* no queues */
		   1,		/* the SYN-ACK timer */
		   jiffies_delta_to_clock_t(delta),
		   req->num_timeout,
		   from_kuid_munged(seq_user_ns(f),
				    sock_i_uid(req->rsk_listener)),
		   0,		/* no probes */
		   0,		/* no inode */
		   0,		/* stock shows no refcount either */
		   req);
}

/*
 * get_tcp4_sock(): a listener or connection.  The timer is the write
 * timer's event (1 retransmission, reordering or loss probe; 4 window
 * probe), else the keepalive timer (2: keepalive, a SYN-RECEIVED or
 * FIN-WAIT-2 timeout), else none; a listener's receive queue is its
 * accept queue, and its last column the TCP_FASTOPEN queue's length
 * where a connection shows ssthresh (-1 in the initial slow start).
 * Read without the socket's lock, as stock does: values may be torn
 * between each other, never out of the object.
 */
static void xtcp_get_tcp4_sock(struct sock *sk, struct seq_file *f, int i)
{
	const struct inet_connection_sock *icsk = inet_csk(sk);
	const struct fastopen_queue *fastopenq =
		&icsk->icsk_accept_queue.fastopenq;
	const struct inet_sock *inet = inet_sk(sk);
	const struct tcp_sock *tp = tcp_sk(sk);
	unsigned long timer_expires;
	int timer_active;
	int rx_queue;
	int state;

	if (icsk->icsk_pending == ICSK_TIME_RETRANS ||
	    icsk->icsk_pending == ICSK_TIME_REO_TIMEOUT ||
	    icsk->icsk_pending == ICSK_TIME_LOSS_PROBE) {
		timer_active = 1;
		timer_expires = icsk->icsk_timeout;
	} else if (icsk->icsk_pending == ICSK_TIME_PROBE0) {
		timer_active = 4;
		timer_expires = icsk->icsk_timeout;
	} else if (timer_pending(&icsk->icsk_keepalive_timer)) {
		timer_active = 2;
		timer_expires = icsk->icsk_keepalive_timer.expires;
	} else {
		timer_active = 0;
		timer_expires = jiffies;
	}

	state = inet_sk_state_load(sk);
	if (state == TCP_LISTEN)
		rx_queue = READ_ONCE(sk->sk_ack_backlog);
	else	/* unlocked: may be transiently negative */
		rx_queue = max_t(int, READ_ONCE(tp->rcv_nxt) -
				 READ_ONCE(tp->copied_seq), 0);

	seq_printf(f, "%4d: %08X:%04X %08X:%04X %02X %08X:%08X %02X:%08lX %08X %5u %8d %lu %d %pK %lu %lu %u %u %d",
		   i, inet->inet_rcv_saddr, ntohs(inet->inet_sport),
		   inet->inet_daddr, ntohs(inet->inet_dport), state,
		   READ_ONCE(tp->write_seq) - tp->snd_una, rx_queue,
		   timer_active,
		   jiffies_delta_to_clock_t(timer_expires - jiffies),
		   icsk->icsk_retransmits,
		   from_kuid_munged(seq_user_ns(f), sock_i_uid(sk)),
		   icsk->icsk_probes_out,
		   sock_i_ino(sk),
		   refcount_read(&sk->sk_refcnt), sk,
		   jiffies_to_clock_t(icsk->icsk_rto),
		   jiffies_to_clock_t(icsk->icsk_ack.ato),
		   (icsk->icsk_ack.quick << 1) | inet_csk_in_pingpong_mode(sk),
		   tcp_snd_cwnd(tp),
		   state == TCP_LISTEN ? fastopenq->max_qlen :
		   (tcp_in_initial_slowstart(tp) ? -1 : tp->snd_ssthresh));
}

/*
 * get_timewait4_sock(): a timewait sock, in its substate (TIME_WAIT, or
 * FIN_WAIT2 for an orphan's last part of it), with its timer as kind 3;
 * no queues, owner or inode.
 */
static void xtcp_get_timewait4_sock(const struct inet_timewait_sock *tw,
				    struct seq_file *f, int i)
{
	long delta = tw->tw_timer.expires - jiffies;

	seq_printf(f, "%4d: %08X:%04X %08X:%04X %02X %08X:%08X %02X:%08lX %08X %5d %8d %d %d %pK",
		   i, tw->tw_rcv_saddr, ntohs(tw->tw_sport), tw->tw_daddr,
		   ntohs(tw->tw_dport), READ_ONCE(tw->tw_substate), 0, 0,
		   3, jiffies_delta_to_clock_t(delta), 0, 0, 0, 0,
		   refcount_read(&tw->tw_refcnt), tw);
}

/* Every line is padded to this width less one, then '\n', as stock's. */
#define XTCP_SEQ_LINE	150

/**
 * xtcp4_seq_show - one line of /proc/net/xtcp (tcp4_seq_show())
 * @seq: the file
 * @v:   SEQ_START_TOKEN for the header, else an entry of either table
 *
 * Context: process, the lock of @v's chain held (xtcp_seq_start()), so
 * that @v stays hashed and alive while it is read.
 *
 * Return: 0.
 */
static int xtcp4_seq_show(struct seq_file *seq, void *v)
{
	struct xtcp_iter_state *st = seq->private;
	struct sock *sk = v;

	seq_setwidth(seq, XTCP_SEQ_LINE - 1);
	if (v == SEQ_START_TOKEN)
		seq_puts(seq, "  sl  local_address rem_address   st tx_queue rx_queue tr tm->when retrnsmt   uid  timeout inode");
	else if (sk->sk_state == TCP_TIME_WAIT)
		xtcp_get_timewait4_sock(inet_twsk(sk), seq, st->num);
	else if (sk->sk_state == TCP_NEW_SYN_RECV)
		xtcp_get_openreq4(inet_reqsk(sk), seq, st->num);
	else
		xtcp_get_tcp4_sock(sk, seq, st->num);
	seq_pad(seq, '\n');
	return 0;
}

static const struct seq_operations xtcp4_seq_ops = {
	.start	= xtcp_seq_start,
	.next	= xtcp_seq_next,
	.stop	= xtcp_seq_stop,
	.show	= xtcp4_seq_show,
};

/**
 * xtcp_proc_net_init - create the namespace's files under /proc/net
 * @xn: the namespace's xtcp state
 *
 * xtcp_stat, xtcp_sockstat and xtcp (tcp4_proc_init_net()).
 *
 * Context: process (the namespace's init).
 * Return: 0, or -ENOMEM with none of them left.
 */
int xtcp_proc_net_init(struct xtcp_net *xn)
{
	struct proc_dir_entry *dir = xn->net->proc_net;

	BUILD_BUG_ON(ARRAY_SIZE(xtcp_mib_names) != XTCP_MIB_MAX);
	/* A chain's lock is found from the chain's index (xtcp_seq_*). */
	BUILD_BUG_ON(XTCP_EHASH_LOCKS > XTCP_EHASH_SIZE);
	if (!proc_create_net_single(XTCP_PROC_STAT, 0444, dir, xtcp_stat_show,
				    NULL))
		goto err_stat;
	if (!proc_create_net_single(XTCP_PROC_SOCKSTAT, 0444, dir,
				    xtcp_sockstat_show, NULL))
		goto err_sockstat;
	if (!proc_create_net(XTCP_PROC_TCP, 0444, dir, &xtcp4_seq_ops,
			     sizeof(struct xtcp_iter_state)))
		goto err_tcp;
	return 0;

err_tcp:
	remove_proc_entry(XTCP_PROC_SOCKSTAT, dir);
err_sockstat:
	remove_proc_entry(XTCP_PROC_STAT, dir);
err_stat:
	return -ENOMEM;
}

/**
 * xtcp_proc_net_exit - remove what xtcp_proc_net_init() created
 * @xn: the namespace's xtcp state
 *
 * In reverse order.  remove_proc_entry() waits for readers that are
 * inside the files, so none is left walking the tables, which are freed
 * after this.
 *
 * Context: process (the namespace's exit).
 */
void xtcp_proc_net_exit(struct xtcp_net *xn)
{
	remove_proc_entry(XTCP_PROC_TCP, xn->net->proc_net);
	remove_proc_entry(XTCP_PROC_SOCKSTAT, xn->net->proc_net);
	remove_proc_entry(XTCP_PROC_STAT, xn->net->proc_net);
}
