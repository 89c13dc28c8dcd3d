// SPDX-License-Identifier: GPL-2.0
/*
 * xtcp: /proc/net/xtcp_stat, the namespace's counters, and
 * /proc/net/xtcp_sockstat, its sockets.
 *
 * xtcp_stat: two lines, names then values, in the layout of
 * /proc/net/netstat, so that the tools that read that file (and a
 * one-line awk) read this one.  xtcp_sockstat: the TCP line of
 * /proc/net/sockstat (sockstat_seq_show()) for xtcp.
 */
#include <linux/proc_fs.h>
#include <linux/seq_file.h>
#include <net/net_namespace.h>

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

int xtcp_proc_net_init(struct xtcp_net *xn)
{
	BUILD_BUG_ON(ARRAY_SIZE(xtcp_mib_names) != XTCP_MIB_MAX);
	if (!proc_create_net_single(XTCP_PROC_STAT, 0444, xn->net->proc_net,
				    xtcp_stat_show, NULL))
		return -ENOMEM;
	if (!proc_create_net_single(XTCP_PROC_SOCKSTAT, 0444,
				    xn->net->proc_net, xtcp_sockstat_show,
				    NULL)) {
		remove_proc_entry(XTCP_PROC_STAT, xn->net->proc_net);
		return -ENOMEM;
	}
	return 0;
}

void xtcp_proc_net_exit(struct xtcp_net *xn)
{
	remove_proc_entry(XTCP_PROC_SOCKSTAT, xn->net->proc_net);
	remove_proc_entry(XTCP_PROC_STAT, xn->net->proc_net);
}
