// SPDX-License-Identifier: GPL-2.0
/*
 * xtcp: memory accounting, as tcp_mem accounts stock TCP's.
 *
 * The kernel's generic socket memory machinery (sk_mem_schedule(),
 * sk_mem_charge(), sk_mem_reclaim(), SO_RESERVE_MEM, memory cgroups)
 * works for any protocol that gives it a pool: a page count
 * (memory_allocated, with a per-CPU cache in front of it), a count of
 * sockets, a pressure flag and three limits.  These are xtcp's, apart
 * from stock TCP's, so that /proc/net/protocols shows what each stack
 * holds and one cannot push the other into pressure.
 *
 * net.xtcp.mem is the twin of net.ipv4.tcp_mem, global as it is (memory
 * is the machine's, not a namespace's), so it exists only in the initial
 * namespace's /proc/sys/net/xtcp/.  It starts where stock's started:
 * tcp_init_mem()'s shares of the machine's buffer pages, computed at load
 * (6.12 does not export sysctl_tcp_mem to read them from).
 *
 * The per-namespace buffer sizes (net.ipv4.tcp_rmem and tcp_wmem) are
 * stock's, read through xtcp_prot's sysctl_[rw]mem_offset.
 */
#include <linux/percpu_counter.h>
#include <linux/sysctl.h>
#include <net/inet_common.h>
#include <net/tcp.h>

#include "xtcp.h"

long sysctl_xtcp_mem[3] __read_mostly;
atomic_long_t xtcp_memory_allocated ____cacheline_aligned_in_smp;
DEFINE_PER_CPU(int, xtcp_memory_per_cpu_fw_alloc);
struct percpu_counter xtcp_sockets_allocated ____cacheline_aligned_in_smp;
unsigned long xtcp_memory_pressure __read_mostly;

static struct ctl_table_header *xtcp_mem_sysctl_hdr;

static struct ctl_table xtcp_mem_table[] = {
	{
		.procname	= "mem",
		.data		= &sysctl_xtcp_mem,
		.maxlen		= sizeof(sysctl_xtcp_mem),
		.mode		= 0644,
		.proc_handler	= proc_doulongvec_minmax,
	},
	{ }
};

/**
 * xtcp_enter_memory_pressure - the pool passed net.xtcp.mem[1]
 * @sk: the socket that found it so (for its namespace's counter)
 *
 * Mirrors tcp_enter_memory_pressure(): the flag holds the jiffies it was
 * raised at (never 0), raised once however many CPUs race to it, and
 * counted as TCPMemoryPressures in /proc/net/xtcp_stat.
 *
 * Context: any; called by the kernel's __sk_mem_raise_allocated().
 */
void xtcp_enter_memory_pressure(struct sock *sk)
{
	unsigned long val;

	if (READ_ONCE(xtcp_memory_pressure))
		return;
	val = jiffies;
	if (!val)
		val--;
	if (!cmpxchg(&xtcp_memory_pressure, 0, val))
		xtcp_inc_stats(sock_net(sk), XTCP_MIB_MEMORYPRESSURES);
}

/**
 * xtcp_leave_memory_pressure - the pool fell back below net.xtcp.mem[0]
 * @sk: the socket that found it so
 *
 * Mirrors tcp_leave_memory_pressure(): adds how long the pressure lasted
 * (ms) to TCPMemoryPressuresChrono.
 *
 * Context: any; called by the kernel's sk_leave_memory_pressure().
 */
void xtcp_leave_memory_pressure(struct sock *sk)
{
	unsigned long val;

	if (!READ_ONCE(xtcp_memory_pressure))
		return;
	val = xchg(&xtcp_memory_pressure, 0);
	if (val)
		xtcp_add_stats(sock_net(sk), XTCP_MIB_MEMORYPRESSURESCHRONO,
			       jiffies_to_msecs(jiffies - val));
}

/**
 * xtcp_forced_mem_schedule - charge @size bytes whatever the limits say
 * @sk:   a connection, locked
 * @size: bytes about to be queued
 *
 * sk_forced_mem_schedule(), which the kernel keeps for stock TCP: the
 * pages go to the socket's forward allocation and to xtcp's pool even
 * past net.xtcp.mem, for the one skb a connection must always be able
 * to take (the first of an empty receive queue, a FIN).  A connection
 * has no memory cgroup to charge (see xtcp_csk_accept_memcg()).
 */
void xtcp_forced_mem_schedule(struct sock *sk, int size)
{
	int delta = size - sk->sk_forward_alloc;
	int amt;

	if (delta <= 0)
		return;
	amt = sk_mem_pages(delta);
	sk_forward_alloc_add(sk, amt << PAGE_SHIFT);
	/*
	 * Straight to the shared count: the per-CPU cache in front of it
	 * (sk_memory_allocated_add()) needs a knob 6.1 does not export,
	 * and the pages come back through that cache as any others.
	 */
	atomic_long_add(amt, &xtcp_memory_allocated);
}

/**
 * xtcp_sock_destruct - the last reference to an xtcp socket went
 * @sk: the socket
 *
 * The socket leaves the pool's count (tcp_v4_destroy_sock() does it for
 * stock; every xtcp socket, created or cloned, ends here), the
 * out-of-order queue of a child that no close() or disconnect reached
 * (a listener's unaccepted child reset by its peer) is freed, and a
 * saved SYN nobody read (TCP_SAVED_SYN), then
 * inet_sock_destruct() gives back its reserved and forward-allocated
 * memory and checks that nothing is left charged.
 *
 * Context: any, from __sk_destruct() (an RCU callback for listeners).
 */
void xtcp_sock_destruct(struct sock *sk)
{
	xtcp_fence_destruct(sk);
	sk_sockets_allocated_dec(sk);
	xtcp_write_queue_purge(sk);
	xtcp_purge_ofo_queue(sk);
	tcp_saved_syn_free(tcp_sk(sk));
	xtcp_fastopen_destroy_cipher(sk);
	inet_sock_destruct(sk);
}

/* tcp_init_mem(): 4.68 %, 6.25 % and 9.37 % of the buffer pages. */
static void __init xtcp_init_mem(void)
{
	unsigned long limit = max(nr_free_buffer_pages() / 16, 128UL);

	sysctl_xtcp_mem[0] = limit / 4 * 3;
	sysctl_xtcp_mem[1] = limit;
	sysctl_xtcp_mem[2] = sysctl_xtcp_mem[0] * 2;
}

int __init xtcp_mem_init(void)
{
	int err;

	xtcp_init_mem();
	err = percpu_counter_init(&xtcp_sockets_allocated, 0, GFP_KERNEL);
	if (err)
		return err;
	xtcp_mem_sysctl_hdr = xtcp_register_net_sysctl(&init_net,
						       XTCP_SYSCTL_DIR,
						       xtcp_mem_table,
						       ARRAY_SIZE(xtcp_mem_table) - 1);
	if (!xtcp_mem_sysctl_hdr) {
		percpu_counter_destroy(&xtcp_sockets_allocated);
		return -ENOMEM;
	}
	return 0;
}

void xtcp_mem_exit(void)
{
	unregister_net_sysctl_table(xtcp_mem_sysctl_hdr);
	percpu_counter_destroy(&xtcp_sockets_allocated);
}
