// SPDX-License-Identifier: GPL-2.0
/*
 * bind_listen: the passive-open socket API of AF_XTCP against stock TCP.
 *
 * Every TEST() runs one scenario twice in the same process: once with
 * socket(AF_INET, ...) (stock TCP, the reference) and once with
 * socket(AF_XTCP, ...).  Nothing else differs.  A scenario records the
 * return value or -errno of each step, plus derived facts such as "the
 * port bind(0) chose lies in ip_local_port_range", into a struct run;
 * the test then asserts that both records are identical and prints both
 * side by side when they are not.
 *
 * Each run gets a fresh network namespace (so sysctls changed by a
 * scenario, and xtcp's per-netns tables, start clean every time) and its
 * own port block, so the two runs could not collide through the port
 * space xtcp shares with stock TCP even if they shared a namespace.  The
 * cross_* tests are the exception: they mix both stacks in one namespace
 * on purpose and compare against the pure-stock version of the scenario.
 *
 * Key steps also carry the result stock TCP must give (want()), read from
 * net/ipv4/af_inet.c and inet_connection_sock.c of 6.1/6.12.  If stock
 * TCP disagrees the scenario itself is wrong and the test fails saying so,
 * whatever xtcp did: a scenario that errs the same way on both stacks
 * would otherwise pass without testing anything.
 *
 * Without the xtcp module (socket() gives EAFNOSUPPORT) the whole program
 * exits 4 (skip).  BIND_LISTEN_FAMILY=2 replaces AF_XTCP with AF_INET, to
 * check the scenarios themselves on a kernel without xtcp.
 * BIND_LISTEN_ONLY=GLOB runs only the cases whose name matches.  In the
 * scripts/vm guest each case is named in the kernel log as it starts
 * ("bind_listen: case NAME").
 */
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <fnmatch.h>
#include <limits.h>
#include <net/if.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <sched.h>
#include <signal.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <sys/types.h>
#include <unistd.h>

#include <linux/sockios.h>
#include <linux/xtcp.h>

/* The 6.1 harness has an unused signal-handler parameter. */
#pragma GCC diagnostic push
#pragma GCC diagnostic ignored "-Wunused-parameter"
#include "kselftest_harness.h"
#pragma GCC diagnostic pop

#ifndef IP_FREEBIND
#define IP_FREEBIND		15
#endif
#ifndef IP_BIND_ADDRESS_NO_PORT
#define IP_BIND_ADDRESS_NO_PORT	24
#endif
#ifndef IPPROTO_SCTP
#define IPPROTO_SCTP		132
#endif
#ifndef IPPROTO_UDPLITE
#define IPPROTO_UDPLITE		136
#endif

#define MAX_STEPS	64
#define MAX_FDS		32
#define MAX_SAVED	6
#define PORT_SPAN	100	/* ports per run in the unprivileged block */
#define PPORT_SPAN	50	/* ports per run in the privileged block */
#define NOBODY		65534

/* Host-order IPv4 addresses used by the scenarios. */
#define LOOPBACK	0x7f000001u	/* 127.0.0.1 */
#define LOOPBACK2	0x7f000002u	/* 127.0.0.2, also local via lo */
#define ANY		0x00000000u
#define NONLOCAL	0xc6336407u	/* 198.51.100.7, TEST-NET-2 */
#define MCAST		0xe0000001u	/* 224.0.0.1 */
#define BCAST		0xffffffffu	/* 255.255.255.255 */

static int xtcp_family = AF_XTCP;

struct step {
	const char *what;
	long val;		/* >= 0: result or value; < 0: -errno */
};

struct saved_sysctl {
	char path[96];
	char old[64];
};

struct run {
	const char *label;
	int fam[2];		/* family of the first / second socket kind */
	unsigned short base;	/* unprivileged port block of this run */
	unsigned short pbase;	/* privileged (< 1024) port block */
	int nsteps;
	struct step s[MAX_STEPS];
	int fds[MAX_FDS];
	int nfds;
	struct saved_sysctl saved[MAX_SAVED];
	int nsaved;
	int orig_ns;		/* netns to return to; -1 when not entered */
	char bad[512];		/* stock results that contradict want() */
	char skip[160];		/* reason the scenario cannot be compared */
};

#define P(r, n)		((unsigned short)((r)->base + (n)))
#define PP(r, n)	((unsigned short)((r)->pbase + (n)))

static bool is_ref(const struct run *r)
{
	return r->fam[0] == AF_INET && r->fam[1] == AF_INET;
}

/* ---- recording ---------------------------------------------------- */

static long rec(struct run *r, const char *what, long val)
{
	if (r->nsteps < MAX_STEPS) {
		r->s[r->nsteps].what = what;
		r->s[r->nsteps].val = val;
	}
	r->nsteps++;
	return val;
}

/* Record a syscall's outcome: its return value, or -errno on failure. */
static long sys(struct run *r, const char *what, long ret)
{
	return rec(r, what, ret == -1 ? -errno : ret);
}

static const char *fmt_val(long v, char *buf, size_t len)
{
	const char *name;

	if (v >= 0) {
		snprintf(buf, len, "%ld", v);
		return buf;
	}
	name = strerrorname_np(-v);
	if (name)
		snprintf(buf, len, "-%s", name);
	else
		snprintf(buf, len, "%ld", v);
	return buf;
}

/* Like fmt_val(), but addresses (host order) as dotted quads. */
static const char *fmt_step(const struct step *s, char *buf, size_t len)
{
	struct in_addr a = { .s_addr = htonl(s->val) };

	if (strcmp(s->what, "name.addr") || s->val < 0)
		return fmt_val(s->val, buf, len);
	return inet_ntop(AF_INET, &a, buf, len);
}

/*
 * The stock result of the step just recorded must be @want; see the top
 * comment.  Only checked on the pure AF_INET reference run.
 */
static void want(struct run *r, long want)
{
	struct step *s;
	char a[32], b[32];
	size_t n;

	if (!is_ref(r) || !r->nsteps || r->nsteps > MAX_STEPS)
		return;
	s = &r->s[r->nsteps - 1];
	if (s->val == want)
		return;
	n = strlen(r->bad);
	snprintf(r->bad + n, sizeof(r->bad) - n, " [step %d %s: %s, want %s]",
		 r->nsteps - 1, s->what, fmt_val(s->val, a, sizeof(a)),
		 fmt_val(want, b, sizeof(b)));
}

static int track(struct run *r, int fd)
{
	if (fd >= 0 && r->nfds < MAX_FDS)
		r->fds[r->nfds++] = fd;
	return fd;
}

/* Close one of the run's fds now (the port it holds is released). */
static void drop(struct run *r, int fd)
{
	int i;

	for (i = 0; i < r->nfds; i++) {
		if (r->fds[i] != fd)
			continue;
		r->fds[i] = r->fds[--r->nfds];
		break;
	}
	close(fd);
}

/* ---- namespace, sysctl and credential plumbing ------------------------ */

static int lo_up(void)
{
	struct ifreq ifr = {};
	int fd, ret;

	fd = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
	if (fd < 0)
		return -1;
	strcpy(ifr.ifr_name, "lo");
	ret = ioctl(fd, SIOCGIFFLAGS, &ifr);
	if (!ret) {
		ifr.ifr_flags |= IFF_UP;
		ret = ioctl(fd, SIOCSIFFLAGS, &ifr);
	}
	close(fd);
	return ret;
}

static int read_file(const char *path, char *buf, size_t len)
{
	ssize_t n;
	int fd;

	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return -1;
	n = read(fd, buf, len - 1);
	close(fd);
	if (n < 0)
		return -1;
	buf[n] = '\0';
	while (n > 0 && (buf[n - 1] == '\n' || buf[n - 1] == ' '))
		buf[--n] = '\0';
	return 0;
}

static int write_file(const char *path, const char *val)
{
	ssize_t n;
	int fd;

	fd = open(path, O_WRONLY | O_CLOEXEC);
	if (fd < 0)
		return -1;
	n = write(fd, val, strlen(val));
	close(fd);
	return n < 0 ? -1 : 0;
}

/* Set a sysctl for this run; run_end() puts the old value back. */
static long sysctl_set(struct run *r, const char *name, const char *val)
{
	struct saved_sysctl *sv = &r->saved[r->nsaved];
	char path[96];
	long ret;

	snprintf(path, sizeof(path), "/proc/sys/%s", name);
	if (r->nsaved >= MAX_SAVED || read_file(path, sv->old, sizeof(sv->old))) {
		ret = rec(r, "sysctl", -(errno ?: ENOSPC));
	} else {
		ret = sys(r, "sysctl", write_file(path, val));
		if (!ret) {
			strcpy(sv->path, path);
			r->nsaved++;
		}
	}
	want(r, 0);
	return ret;
}

static void local_range(int *lo, int *hi)
{
	char buf[64];

	*lo = *hi = -1;
	if (!read_file("/proc/sys/net/ipv4/ip_local_port_range", buf, sizeof(buf)))
		sscanf(buf, "%d %d", lo, hi);
}

static void set_range(struct run *r, int lo, int hi)
{
	char buf[32];

	snprintf(buf, sizeof(buf), "%d %d", lo, hi);
	sysctl_set(r, "net/ipv4/ip_local_port_range", buf);
}

/*
 * Run the following socket calls with effective uid @uid.  seteuid()
 * also sets the fsuid, which becomes the socket inode's owner that
 * SO_REUSEPORT compares (sock_i_uid()), and a non-zero euid drops the
 * effective capabilities (CAP_NET_BIND_SERVICE) until seteuid(0).
 */
static void as_uid(struct run *r, uid_t uid)
{
	sys(r, "seteuid", seteuid(uid));
	want(r, 0);
}

static void run_begin(struct run *r, int idx)
{
	r->base = 20000 + 1000 * idx;
	r->pbase = 400 + PPORT_SPAN * idx;
	r->orig_ns = open("/proc/self/ns/net", O_RDONLY | O_CLOEXEC);
	if (r->orig_ns < 0) {
		snprintf(r->bad, sizeof(r->bad), "open netns: %m");
		return;
	}
	if (unshare(CLONE_NEWNET) || lo_up())
		snprintf(r->bad, sizeof(r->bad), "new netns with lo up: %m");
}

static void run_end(struct run *r)
{
	if (geteuid() != 0 && seteuid(0))
		abort();
	while (r->nfds > 0)
		close(r->fds[--r->nfds]);
	while (r->nsaved > 0) {
		struct saved_sysctl *sv = &r->saved[--r->nsaved];

		write_file(sv->path, sv->old);
	}
	if (r->orig_ns >= 0) {
		if (setns(r->orig_ns, CLONE_NEWNET))
			abort();
		close(r->orig_ns);
		r->orig_ns = -1;
	}
}

/* ---- socket helpers: each records exactly the steps it names ---------- */

static struct sockaddr_in sin4(uint32_t addr, unsigned short port)
{
	struct sockaddr_in sin = {
		.sin_family = AF_INET,
		.sin_port = htons(port),
		.sin_addr.s_addr = htonl(addr),
	};

	return sin;
}

static int sock_full(struct run *r, int which, int type, int proto)
{
	int fd = socket(r->fam[which], type, proto);

	sys(r, "socket", fd < 0 ? -1 : 0);
	return track(r, fd);
}

/* A stream socket of the first (which 0) or second (1) kind of the run. */
static int sock_of(struct run *r, int which)
{
	int fd = sock_full(r, which, SOCK_STREAM, 0);

	want(r, 0);
	return fd;
}

static int tsock(struct run *r)
{
	return sock_of(r, 0);
}

static long bind_at(struct run *r, int fd, uint32_t addr, unsigned short port)
{
	struct sockaddr_in sin = sin4(addr, port);

	return sys(r, "bind", bind(fd, (struct sockaddr *)&sin, sizeof(sin)));
}

static long listen_on(struct run *r, int fd, int backlog)
{
	return sys(r, "listen", listen(fd, backlog));
}

static long set_int(struct run *r, int fd, int level, int opt, int val)
{
	return sys(r, "setsockopt", setsockopt(fd, level, opt, &val, sizeof(val)));
}

static long get_int(struct run *r, int fd, int level, int opt)
{
	socklen_t len = sizeof(int);
	int val = -1;

	if (getsockopt(fd, level, opt, &val, &len))
		return rec(r, "getsockopt", -errno);
	return rec(r, "getsockopt", val);
}

/* Port as seen by the run: relative to the run's own port blocks. */
static long rel_port(struct run *r, unsigned short port)
{
	if (port == 0)
		return 0;
	if (port >= r->base && port < r->base + PORT_SPAN)
		return 1 + port - r->base;
	if (port >= r->pbase && port < r->pbase + PPORT_SPAN)
		return 1001 + port - r->pbase;
	return 100000 + port;	/* outside the run's blocks: never equal */
}

static int sockname(int fd, struct sockaddr_in *sin)
{
	socklen_t len = sizeof(*sin);

	memset(sin, 0xa5, sizeof(*sin));
	return getsockname(fd, (struct sockaddr *)sin, &len);
}

/* getsockname(): records the call, the family, the address and the port. */
static void name_of(struct run *r, int fd)
{
	struct sockaddr_in sin;

	if (sys(r, "getsockname", sockname(fd, &sin)))
		return;
	rec(r, "name.family", sin.sin_family);
	want(r, AF_INET);
	rec(r, "name.addr", ntohl(sin.sin_addr.s_addr));
	rec(r, "name.port", rel_port(r, ntohs(sin.sin_port)));
}

/*
 * Classify a port the kernel chose.  inet_csk_find_open_port() scans
 * ip_local_port_range starting at an odd offset from its low end
 * ("offset |= 1U": connect() gets the even ones), and with SO_REUSEADDR
 * set tries the lower half of the range first (attempt_half).
 */
static void chosen_port(struct run *r, int fd, bool half)
{
	struct sockaddr_in sin;
	int lo, hi, port;

	if (sys(r, "getsockname", sockname(fd, &sin)))
		return;
	port = ntohs(sin.sin_port);
	local_range(&lo, &hi);
	rec(r, "port.in_range", port >= lo && port <= hi);
	want(r, 1);
	rec(r, "port.odd_offset", (port - lo) & 1);
	if (half) {
		rec(r, "port.lower_half", port < lo + (((hi + 1 - lo) >> 2) << 1));
		want(r, 1);
	}
}

/*
 * A stock AF_INET client connects to 127.0.0.1:@port.  Returns 1 once
 * established, 0 if the handshake did not finish within @ms (e.g. the
 * SYN was dropped because the accept queue is full), or -errno.
 */
static int client(struct run *r, unsigned short port, int ms)
{
	struct sockaddr_in sin = sin4(LOOPBACK, port);
	struct pollfd pfd = { .events = POLLOUT };
	socklen_t len = sizeof(int);
	int fd, err = 0;

	fd = track(r, socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK, 0));
	if (fd < 0)
		return -errno;
	if (!connect(fd, (struct sockaddr *)&sin, sizeof(sin)))
		return 1;
	if (errno != EINPROGRESS)
		return -errno;
	pfd.fd = fd;
	if (poll(&pfd, 1, ms) != 1)
		return 0;
	if (getsockopt(fd, SOL_SOCKET, SO_ERROR, &err, &len))
		return -errno;
	return err ? -err : 1;
}

/*
 * How many connections to @port complete their handshake, one after the
 * other.  A listener with backlog B holds B + 1 of them in its accept
 * queue: tcp_conn_request() drops a SYN once sk_acceptq_is_full(), i.e.
 * sk_ack_backlog > sk_max_ack_backlog.  The pause lets the final ACK of
 * one handshake reach the listener before the next SYN does.
 */
static long queue_room(struct run *r, unsigned short port, int max)
{
	int n = 0, c;

	while (n < max) {
		c = client(r, port, 300);
		if (c < 0)
			return rec(r, "established", c);
		if (c == 0)
			break;
		n++;
		usleep(30 * 1000);
	}
	return rec(r, "established", n);
}

/* accept4() after waiting up to @ms for a connection; -ETIMEDOUT if none. */
static int accept_wait(struct run *r, int lfd, int flags, int ms)
{
	struct pollfd pfd = { .fd = lfd, .events = POLLIN };
	int fd;

	if (poll(&pfd, 1, ms) != 1) {
		rec(r, "accept", -ETIMEDOUT);
		return -1;
	}
	fd = accept4(lfd, NULL, NULL, flags);
	sys(r, "accept", fd < 0 ? -1 : 0);
	return track(r, fd);
}

/*
 * A stock client connects to @port and listener @l accepts it.  Returns
 * the accepted fd (-1 if none came) and the client's in *@c; both steps
 * are recorded.
 */
static int accepted_client(struct run *r, int l, unsigned short port, int *c)
{
	int a;

	rec(r, "client", client(r, port, 2000));
	want(r, 1);
	*c = r->fds[r->nfds - 1];
	a = accept_wait(r, l, 0, 2000);
	want(r, 0);
	return a;
}

/* close() with SO_LINGER {1, 0}: an abort (RST), no FIN_WAIT or TIME_WAIT. */
static void abort_fd(struct run *r, int fd)
{
	struct linger lg = { .l_onoff = 1, .l_linger = 0 };

	sys(r, "setsockopt", setsockopt(fd, SOL_SOCKET, SO_LINGER, &lg,
					sizeof(lg)));
	want(r, 0);
	drop(r, fd);
}

/* A listener on 127.0.0.1:@port of the run's first kind. */
static int listener(struct run *r, unsigned short port, int backlog)
{
	int fd = tsock(r);

	bind_at(r, fd, LOOPBACK, port);
	want(r, 0);
	listen_on(r, fd, backlog);
	want(r, 0);
	return fd;
}

/* ---- the test driver ----------------------------------------------- */

typedef void (*scenario_fn)(struct run *r);

FIXTURE(bl) {
	struct run *cur;	/* run in progress, for the teardown */
};

FIXTURE_SETUP(bl)
{
	self->cur = NULL;
}

FIXTURE_TEARDOWN(bl)
{
	/* Only reached mid-run if the test died half way. */
	if (self->cur)
		run_end(self->cur);
}

static void do_run(FIXTURE_DATA(bl) *self, struct run *r, int idx,
		   scenario_fn fn)
{
	r->orig_ns = -1;
	self->cur = r;
	run_begin(r, idx);
	if (!r->bad[0])
		fn(r);
	run_end(r);
	self->cur = NULL;
}

static bool same_steps(const struct run *a, const struct run *b)
{
	int i;

	if (a->nsteps != b->nsteps)
		return false;
	for (i = 0; i < a->nsteps && i < MAX_STEPS; i++)
		if (a->s[i].val != b->s[i].val || strcmp(a->s[i].what, b->s[i].what))
			return false;
	return true;
}

static void log_steps(struct __test_metadata *_metadata,
		      const struct run *a, const struct run *b)
{
	char x[32], y[32];
	int i, n = a->nsteps > b->nsteps ? a->nsteps : b->nsteps;

	TH_LOG("step %-18s %-16s %-16s", "", a->label, b->label);
	for (i = 0; i < n && i < MAX_STEPS; i++) {
		bool ina = i < a->nsteps, inb = i < b->nsteps;
		bool diff = !ina || !inb || a->s[i].val != b->s[i].val;

		TH_LOG("%c%3d %-18s %-16s %-16s", diff ? '!' : ' ', i,
		       ina ? a->s[i].what : b->s[i].what,
		       ina ? fmt_step(&a->s[i], x, sizeof(x)) : "-",
		       inb ? fmt_step(&b->s[i], y, sizeof(y)) : "-");
	}
}

/*
 * Name the case in the kernel log, so that a warning can be placed; only
 * in the scripts/vm guest (which exports XTCP_KVER), not on a host.
 */
static void kmsg_mark(const char *name)
{
	int fd;

	if (!getenv("XTCP_KVER"))
		return;
	fd = open("/dev/kmsg", O_WRONLY | O_CLOEXEC);
	if (fd < 0)
		return;
	dprintf(fd, "<6>bind_listen: case %s\n", name);
	close(fd);
}

/*
 * Run @fn once per entry of @runs (the first is the pure-stock
 * reference) and assert that every run recorded what the reference did.
 */
static void compare_runs(struct __test_metadata *_metadata,
			 FIXTURE_DATA(bl) *self, struct run *runs, int n,
			 scenario_fn fn)
{
	const char *only = getenv("BIND_LISTEN_ONLY");
	bool ok = true;
	int i;

	if (only && *only && fnmatch(only, _metadata->name, 0))
		SKIP(return, "not selected by BIND_LISTEN_ONLY=%s", only);
	kmsg_mark(_metadata->name);
	for (i = 0; i < n; i++)
		do_run(self, &runs[i], i, fn);

	for (i = 0; i < n; i++)
		if (runs[i].bad[0] && !is_ref(&runs[i]))
			TH_LOG("%s run failed to start:%s", runs[i].label,
			       runs[i].bad);
	if (runs[0].bad[0])
		TH_LOG("stock %s does not do what the scenario assumes:%s",
		       runs[0].label, runs[0].bad);
	for (i = 0; i < n; i++)
		ASSERT_EQ(runs[i].bad[0], '\0');
	if (runs[0].skip[0])
		SKIP(return, "%s", runs[0].skip);

	for (i = 1; i < n; i++) {
		if (same_steps(&runs[0], &runs[i]))
			continue;
		TH_LOG("%s differs from the %s reference:", runs[i].label,
		       runs[0].label);
		log_steps(_metadata, &runs[0], &runs[i]);
		ok = false;
	}
	ASSERT_TRUE(ok);
}

static void run_pair(struct __test_metadata *_metadata,
		     FIXTURE_DATA(bl) *self, scenario_fn fn)
{
	struct run runs[2] = {
		{ .label = "AF_INET", .fam = { AF_INET, AF_INET } },
		{ .label = "AF_XTCP", .fam = { xtcp_family, xtcp_family } },
	};

	compare_runs(_metadata, self, runs, 2, fn);
}

/* Both mixes of the two stacks against stock-then-stock. */
static void run_cross(struct __test_metadata *_metadata,
		      FIXTURE_DATA(bl) *self, scenario_fn fn)
{
	struct run runs[3] = {
		{ .label = "INET,INET", .fam = { AF_INET, AF_INET } },
		{ .label = "INET,XTCP", .fam = { AF_INET, xtcp_family } },
		{ .label = "XTCP,INET", .fam = { xtcp_family, AF_INET } },
	};

	compare_runs(_metadata, self, runs, 3, fn);
}

#define PAIR_TEST(name)						\
	static void sc_##name(struct run *r);			\
	TEST_F(bl, name)					\
	{							\
		run_pair(_metadata, self, sc_##name);		\
	}							\
	static void sc_##name(struct run *r)

#define CROSS_TEST(name)					\
	static void sc_##name(struct run *r);			\
	TEST_F(bl, name)					\
	{							\
		run_cross(_metadata, self, sc_##name);		\
	}							\
	static void sc_##name(struct run *r)

/* ==== socket() ======================================================= */

static void socket_case(struct run *r, int type, int proto, long stock)
{
	sock_full(r, 0, type, proto);
	want(r, stock);
}

PAIR_TEST(socket_stream_default)
{
	int fd = tsock(r);

	get_int(r, fd, SOL_SOCKET, SO_TYPE);
	want(r, SOCK_STREAM);
	get_int(r, fd, SOL_SOCKET, SO_PROTOCOL);
	want(r, IPPROTO_TCP);
}

PAIR_TEST(socket_stream_tcp)
{
	int fd = sock_full(r, 0, SOCK_STREAM, IPPROTO_TCP);

	want(r, 0);
	get_int(r, fd, SOL_SOCKET, SO_PROTOCOL);
	want(r, IPPROTO_TCP);
}

/*
 * inet_create(): a protocol that no entry of inetsw[SOCK_STREAM] claims
 * ends the lookup loop with -EPROTONOSUPPORT (after request_module()).
 */
PAIR_TEST(socket_stream_udp)
{
	socket_case(r, SOCK_STREAM, IPPROTO_UDP, -EPROTONOSUPPORT);
}

PAIR_TEST(socket_stream_udplite)
{
	socket_case(r, SOCK_STREAM, IPPROTO_UDPLITE, -EPROTONOSUPPORT);
}

PAIR_TEST(socket_stream_icmp)
{
	socket_case(r, SOCK_STREAM, IPPROTO_ICMP, -EPROTONOSUPPORT);
}

PAIR_TEST(socket_stream_raw_proto)
{
	socket_case(r, SOCK_STREAM, IPPROTO_RAW, -EPROTONOSUPPORT);
}

/*
 * IPPROTO_SCTP: a TCP-only family refuses it as any protocol it does not
 * carry.  Stock AF_INET is no reference here: where sctp.ko can be
 * loaded (Debian ships it; the guest autoloads modules),
 * request_module() brings in a SOCK_STREAM/IPPROTO_SCTP protosw and the
 * socket is SCTP's.  The reference is stock's answer for a protocol no
 * module serves on SOCK_STREAM (IPPROTO_UDP, as socket_stream_udp).
 */
PAIR_TEST(socket_stream_sctp)
{
	socket_case(r, SOCK_STREAM,
		    r->fam[0] == AF_INET ? IPPROTO_UDP : IPPROTO_SCTP,
		    -EPROTONOSUPPORT);
}

/* inet_create() rejects protocol < 0 or >= IPPROTO_MAX before lookup. */
PAIR_TEST(socket_proto_negative)
{
	socket_case(r, SOCK_STREAM, -1, -EINVAL);
}

PAIR_TEST(socket_proto_out_of_range)
{
	socket_case(r, SOCK_STREAM, 1000, -EINVAL);
}

/*
 * AF_INET serves SOCK_DGRAM (UDP) and SOCK_RAW through other inetsw
 * entries, and SOCK_SEQPACKET once sctp.ko is loaded (request_module()
 * loads it for the SCTP protocol number); a TCP-only family has none for
 * them.  The stock answer for a type with an empty inetsw[] list is
 * -ESOCKTNOSUPPORT (err is preset before the list walk), and SOCK_RDM is
 * the type no module of Debian's kernels fills, so that is the reference.
 */
static int unserved_type(struct run *r, int type)
{
	return r->fam[0] == AF_INET ? SOCK_RDM : type;
}

PAIR_TEST(socket_dgram)
{
	socket_case(r, unserved_type(r, SOCK_DGRAM), 0, -ESOCKTNOSUPPORT);
}

PAIR_TEST(socket_raw)
{
	socket_case(r, unserved_type(r, SOCK_RAW), IPPROTO_TCP, -ESOCKTNOSUPPORT);
}

PAIR_TEST(socket_seqpacket)
{
	socket_case(r, unserved_type(r, SOCK_SEQPACKET), 0, -ESOCKTNOSUPPORT);
}

PAIR_TEST(socket_rdm)
{
	socket_case(r, SOCK_RDM, 0, -ESOCKTNOSUPPORT);
}

/* __sock_create(): type >= SOCK_MAX is -EINVAL before any family code. */
PAIR_TEST(socket_bad_type)
{
	socket_case(r, 42, 0, -EINVAL);
}

/* __sys_socket(): flag bits other than SOCK_CLOEXEC|SOCK_NONBLOCK. */
PAIR_TEST(socket_bad_flags)
{
	socket_case(r, SOCK_STREAM | 0x10000, 0, -EINVAL);
}

PAIR_TEST(socket_nonblock_cloexec)
{
	int fd = sock_full(r, 0, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);

	want(r, 0);
	rec(r, "O_NONBLOCK", !!(fcntl(fd, F_GETFL) & O_NONBLOCK));
	want(r, 1);
	rec(r, "FD_CLOEXEC", !!(fcntl(fd, F_GETFD) & FD_CLOEXEC));
	want(r, 1);
	get_int(r, fd, SOL_SOCKET, SO_TYPE);
	want(r, SOCK_STREAM);
}

/* ==== bind() ========================================================= */

PAIR_TEST(bind_loopback)
{
	int fd = tsock(r);

	bind_at(r, fd, LOOPBACK, P(r, 1));
	want(r, 0);
	name_of(r, fd);
}

PAIR_TEST(bind_any)
{
	int fd = tsock(r);

	bind_at(r, fd, ANY, P(r, 1));
	want(r, 0);
	name_of(r, fd);
}

PAIR_TEST(bind_second_loopback_addr)
{
	int fd = tsock(r);

	bind_at(r, fd, LOOPBACK2, P(r, 1));
	want(r, 0);
	name_of(r, fd);
}

/* Port 0: inet_csk_get_port() -> inet_csk_find_open_port(). */
PAIR_TEST(bind_port0)
{
	int fd = tsock(r);

	bind_at(r, fd, LOOPBACK, 0);
	want(r, 0);
	chosen_port(r, fd, false);
}

PAIR_TEST(bind_port0_any)
{
	int fd = tsock(r);

	bind_at(r, fd, ANY, 0);
	want(r, 0);
	chosen_port(r, fd, false);
}

PAIR_TEST(bind_port0_narrow_range)
{
	int fd = tsock(r);

	/* four ports: P+10 + (random | 1), i.e. P+11 or P+13 */
	set_range(r, P(r, 10), P(r, 13));
	bind_at(r, fd, LOOPBACK, 0);
	want(r, 0);
	chosen_port(r, fd, false);
	want(r, 1);
}

/* A one-port range: the second bind(0) finds nothing, -EADDRINUSE. */
PAIR_TEST(bind_port0_exhausted)
{
	int a = tsock(r), b = tsock(r);

	set_range(r, P(r, 10), P(r, 10));
	bind_at(r, a, LOOPBACK, 0);
	want(r, 0);
	name_of(r, a);
	bind_at(r, b, LOOPBACK, 0);
	want(r, -EADDRINUSE);
	/* another specific address does not conflict: it gets the port */
	bind_at(r, b, LOOPBACK2, 0);
	want(r, 0);
	name_of(r, b);
}

PAIR_TEST(bind_port0_reuseaddr)
{
	int fd = tsock(r);

	set_int(r, fd, SOL_SOCKET, SO_REUSEADDR, 1);
	bind_at(r, fd, LOOPBACK, 0);
	want(r, 0);
	chosen_port(r, fd, true);
}

/* IP_BIND_ADDRESS_NO_PORT: bind(0) defers the port; listen() picks it. */
PAIR_TEST(bind_address_no_port)
{
	int fd = tsock(r);

	set_int(r, fd, IPPROTO_IP, IP_BIND_ADDRESS_NO_PORT, 1);
	want(r, 0);
	bind_at(r, fd, LOOPBACK, 0);
	want(r, 0);
	name_of(r, fd);
	listen_on(r, fd, 8);
	want(r, 0);
	chosen_port(r, fd, false);
}

static long bind_len(struct run *r, int fd, const void *addr, socklen_t len)
{
	return sys(r, "bind", bind(fd, addr, len));
}

/* inet_bind(): addr_len < sizeof(struct sockaddr_in) is -EINVAL. */
PAIR_TEST(bind_addrlen_short)
{
	struct sockaddr_in sin = sin4(LOOPBACK, P(r, 1));
	int fd = tsock(r);

	bind_len(r, fd, &sin, sizeof(sin) - 1);
	want(r, -EINVAL);
	bind_len(r, fd, &sin, offsetof(struct sockaddr_in, sin_zero));
	want(r, -EINVAL);
	name_of(r, fd);
}

PAIR_TEST(bind_addrlen_zero)
{
	struct sockaddr_in sin = sin4(LOOPBACK, P(r, 1));
	int fd = tsock(r);

	bind_len(r, fd, &sin, 0);
	want(r, -EINVAL);
}

/* Longer is fine up to sockaddr_storage; beyond, move_addr_to_kernel(). */
PAIR_TEST(bind_addrlen_long)
{
	struct sockaddr_storage ss = {};
	struct sockaddr_in sin = sin4(LOOPBACK, P(r, 1));
	int fd = tsock(r);

	memcpy(&ss, &sin, sizeof(sin));
	bind_len(r, fd, &ss, sizeof(ss) + 1);
	want(r, -EINVAL);
	bind_len(r, fd, &ss, sizeof(ss));
	want(r, 0);
	name_of(r, fd);
}

/* __inet_bind(): AF_UNSPEC is mapped to AF_INET only for INADDR_ANY. */
PAIR_TEST(bind_unspec_any)
{
	struct sockaddr_in sin = sin4(ANY, P(r, 1));
	int fd = tsock(r);

	sin.sin_family = AF_UNSPEC;
	bind_len(r, fd, &sin, sizeof(sin));
	want(r, 0);
	name_of(r, fd);
}

PAIR_TEST(bind_unspec_loopback)
{
	struct sockaddr_in sin = sin4(LOOPBACK, P(r, 1));
	int fd = tsock(r);

	sin.sin_family = AF_UNSPEC;
	bind_len(r, fd, &sin, sizeof(sin));
	want(r, -EAFNOSUPPORT);
	name_of(r, fd);
}

PAIR_TEST(bind_inet6_family)
{
	struct sockaddr_in sin = sin4(ANY, P(r, 1));
	int fd = tsock(r);

	sin.sin_family = AF_INET6;
	bind_len(r, fd, &sin, sizeof(sin));
	want(r, -EAFNOSUPPORT);
}

/*
 * The xtcp family number in sin_family is not an IPv4 address: stock
 * refuses it, and xtcp must too (Landlock's TCP bind rules check only
 * AF_INET and AF_UNSPEC addresses and let other families through).
 */
PAIR_TEST(bind_xtcp_family)
{
	struct sockaddr_in sin = sin4(LOOPBACK, P(r, 1));
	int fd = tsock(r);

	sin.sin_family = xtcp_family;
	bind_len(r, fd, &sin, sizeof(sin));
	want(r, -EAFNOSUPPORT);
	name_of(r, fd);
}

/* move_addr_to_kernel() faults before the family sees the call. */
PAIR_TEST(bind_null_addr)
{
	int fd = tsock(r);

	bind_len(r, fd, NULL, sizeof(struct sockaddr_in));
	want(r, -EFAULT);
}

/* __inet_bind(): inet_num already set -> -EINVAL, even for a new port. */
PAIR_TEST(bind_twice)
{
	int fd = tsock(r);

	bind_at(r, fd, LOOPBACK, P(r, 1));
	want(r, 0);
	bind_at(r, fd, LOOPBACK, P(r, 1));
	want(r, -EINVAL);
	bind_at(r, fd, LOOPBACK, P(r, 2));
	want(r, -EINVAL);
	name_of(r, fd);
}

PAIR_TEST(bind_same_port)
{
	int a = tsock(r), b = tsock(r);

	bind_at(r, a, LOOPBACK, P(r, 1));
	want(r, 0);
	bind_at(r, b, LOOPBACK, P(r, 1));
	want(r, -EADDRINUSE);
	name_of(r, b);
}

/* The wildcard conflicts with every specific address, in either order. */
PAIR_TEST(bind_any_then_loopback)
{
	int a = tsock(r), b = tsock(r);

	bind_at(r, a, ANY, P(r, 1));
	want(r, 0);
	bind_at(r, b, LOOPBACK, P(r, 1));
	want(r, -EADDRINUSE);
}

PAIR_TEST(bind_loopback_then_any)
{
	int a = tsock(r), b = tsock(r);

	bind_at(r, a, LOOPBACK, P(r, 1));
	want(r, 0);
	bind_at(r, b, ANY, P(r, 1));
	want(r, -EADDRINUSE);
}

/* Two distinct specific addresses do not conflict. */
PAIR_TEST(bind_two_addrs_same_port)
{
	int a = tsock(r), b = tsock(r);

	bind_at(r, a, LOOPBACK, P(r, 1));
	want(r, 0);
	bind_at(r, b, LOOPBACK2, P(r, 1));
	want(r, 0);
	listen_on(r, a, 8);
	want(r, 0);
	listen_on(r, b, 8);
	want(r, 0);
}

/* A failed bind leaves the socket unbound: a later bind can succeed. */
PAIR_TEST(bind_after_failed_bind)
{
	int a = tsock(r), b = tsock(r);

	bind_at(r, a, LOOPBACK, P(r, 1));
	bind_at(r, b, LOOPBACK, P(r, 1));
	want(r, -EADDRINUSE);
	bind_at(r, b, LOOPBACK, P(r, 2));
	want(r, 0);
	name_of(r, b);
}

/* ==== SO_REUSEADDR / SO_REUSEPORT ===================================== */

/*
 * inet_csk_bind_conflict(): two sk_reuse sockets share a port as long as
 * neither is listening; "reuse" is computed with sk_state != TCP_LISTEN.
 */
PAIR_TEST(reuseaddr_both)
{
	int a = tsock(r), b = tsock(r);

	set_int(r, a, SOL_SOCKET, SO_REUSEADDR, 1);
	set_int(r, b, SOL_SOCKET, SO_REUSEADDR, 1);
	bind_at(r, a, LOOPBACK, P(r, 1));
	want(r, 0);
	bind_at(r, b, LOOPBACK, P(r, 1));
	want(r, 0);
	listen_on(r, a, 8);
	want(r, 0);
	/* inet_csk_listen_start() re-runs get_port(): now a conflict. */
	listen_on(r, b, 8);
	want(r, -EADDRINUSE);
}

PAIR_TEST(reuseaddr_first_listening)
{
	int a = tsock(r), b = tsock(r);

	set_int(r, a, SOL_SOCKET, SO_REUSEADDR, 1);
	set_int(r, b, SOL_SOCKET, SO_REUSEADDR, 1);
	bind_at(r, a, LOOPBACK, P(r, 1));
	listen_on(r, a, 8);
	want(r, 0);
	bind_at(r, b, LOOPBACK, P(r, 1));
	want(r, -EADDRINUSE);
}

PAIR_TEST(reuseaddr_first_only)
{
	int a = tsock(r), b = tsock(r);

	set_int(r, a, SOL_SOCKET, SO_REUSEADDR, 1);
	bind_at(r, a, LOOPBACK, P(r, 1));
	want(r, 0);
	bind_at(r, b, LOOPBACK, P(r, 1));
	want(r, -EADDRINUSE);
}

PAIR_TEST(reuseaddr_second_only)
{
	int a = tsock(r), b = tsock(r);

	set_int(r, b, SOL_SOCKET, SO_REUSEADDR, 1);
	bind_at(r, a, LOOPBACK, P(r, 1));
	want(r, 0);
	bind_at(r, b, LOOPBACK, P(r, 1));
	want(r, -EADDRINUSE);
}

/* Wildcard and specific with SO_REUSEADDR on both: fine until listen. */
PAIR_TEST(reuseaddr_any_and_loopback)
{
	int a = tsock(r), b = tsock(r);

	set_int(r, a, SOL_SOCKET, SO_REUSEADDR, 1);
	set_int(r, b, SOL_SOCKET, SO_REUSEADDR, 1);
	bind_at(r, a, ANY, P(r, 1));
	want(r, 0);
	bind_at(r, b, LOOPBACK, P(r, 1));
	want(r, 0);
	listen_on(r, b, 8);
	want(r, 0);
	listen_on(r, a, 8);
	want(r, -EADDRINUSE);
}

PAIR_TEST(reuseport_both)
{
	int a = tsock(r), b = tsock(r);

	set_int(r, a, SOL_SOCKET, SO_REUSEPORT, 1);
	set_int(r, b, SOL_SOCKET, SO_REUSEPORT, 1);
	bind_at(r, a, LOOPBACK, P(r, 1));
	want(r, 0);
	bind_at(r, b, LOOPBACK, P(r, 1));
	want(r, 0);
	listen_on(r, a, 8);
	want(r, 0);
	listen_on(r, b, 8);
	want(r, 0);
	get_int(r, b, SOL_SOCKET, SO_ACCEPTCONN);
	want(r, 1);
}

/* Unlike SO_REUSEADDR, SO_REUSEPORT lets a socket join a listening group. */
PAIR_TEST(reuseport_join_listener)
{
	int a = tsock(r), b = tsock(r);

	set_int(r, a, SOL_SOCKET, SO_REUSEPORT, 1);
	set_int(r, b, SOL_SOCKET, SO_REUSEPORT, 1);
	bind_at(r, a, LOOPBACK, P(r, 1));
	listen_on(r, a, 8);
	want(r, 0);
	bind_at(r, b, LOOPBACK, P(r, 1));
	want(r, 0);
	listen_on(r, b, 8);
	want(r, 0);
}

PAIR_TEST(reuseport_first_only)
{
	int a = tsock(r), b = tsock(r);

	set_int(r, a, SOL_SOCKET, SO_REUSEPORT, 1);
	bind_at(r, a, LOOPBACK, P(r, 1));
	want(r, 0);
	bind_at(r, b, LOOPBACK, P(r, 1));
	want(r, -EADDRINUSE);
}

/* The group needs the same owner: sk_reuseport_match() / uid_eq(). */
PAIR_TEST(reuseport_other_uid)
{
	int a = tsock(r), b;

	set_int(r, a, SOL_SOCKET, SO_REUSEPORT, 1);
	bind_at(r, a, LOOPBACK, P(r, 1));
	want(r, 0);
	as_uid(r, NOBODY);
	b = tsock(r);
	set_int(r, b, SOL_SOCKET, SO_REUSEPORT, 1);
	bind_at(r, b, LOOPBACK, P(r, 1));
	want(r, -EADDRINUSE);
	as_uid(r, 0);
}

/* ==== privileged ports, non-local and special addresses =============== */

/*
 * __inet_bind(): snum < ip_unprivileged_port_start needs
 * CAP_NET_BIND_SERVICE, checked before the socket lock and the port table.
 */
PAIR_TEST(priv_port_unprivileged)
{
	int fd;

	as_uid(r, NOBODY);
	fd = tsock(r);
	bind_at(r, fd, LOOPBACK, PP(r, 1));
	want(r, -EACCES);
	bind_at(r, fd, LOOPBACK, P(r, 1));
	want(r, 0);
	as_uid(r, 0);
}

PAIR_TEST(priv_port_start_lowered)
{
	int fd;

	sysctl_set(r, "net/ipv4/ip_unprivileged_port_start", "300");
	as_uid(r, NOBODY);
	fd = tsock(r);
	bind_at(r, fd, LOOPBACK, PP(r, 1));
	want(r, 0);
	listen_on(r, fd, 8);
	want(r, 0);
	as_uid(r, 0);
	name_of(r, fd);
}

PAIR_TEST(priv_port_root)
{
	int fd = tsock(r);

	bind_at(r, fd, LOOPBACK, PP(r, 1));
	want(r, 0);
	name_of(r, fd);
}

/* inet_addr_valid_or_nonlocal(): not local, no freebind -> EADDRNOTAVAIL. */
PAIR_TEST(bind_nonlocal)
{
	int fd = tsock(r);

	bind_at(r, fd, NONLOCAL, P(r, 1));
	want(r, -EADDRNOTAVAIL);
	name_of(r, fd);
}

PAIR_TEST(bind_nonlocal_freebind)
{
	int fd = tsock(r);

	set_int(r, fd, IPPROTO_IP, IP_FREEBIND, 1);
	want(r, 0);
	get_int(r, fd, IPPROTO_IP, IP_FREEBIND);
	want(r, 1);
	bind_at(r, fd, NONLOCAL, P(r, 1));
	want(r, 0);
	name_of(r, fd);
	listen_on(r, fd, 8);
	want(r, 0);
}

PAIR_TEST(bind_nonlocal_transparent)
{
	int fd = tsock(r);

	set_int(r, fd, IPPROTO_IP, IP_TRANSPARENT, 1);
	want(r, 0);
	bind_at(r, fd, NONLOCAL, P(r, 1));
	want(r, 0);
}

PAIR_TEST(bind_nonlocal_sysctl)
{
	int fd = tsock(r);

	sysctl_set(r, "net/ipv4/ip_nonlocal_bind", "1");
	bind_at(r, fd, NONLOCAL, P(r, 1));
	want(r, 0);
	name_of(r, fd);
}

/*
 * Multicast and broadcast destinations are accepted as bind addresses by
 * inet_addr_valid_or_nonlocal() (RTN_MULTICAST / RTN_BROADCAST) and TCP
 * does not refuse them later either: bind and listen succeed.
 */
PAIR_TEST(bind_multicast)
{
	int fd = tsock(r);

	bind_at(r, fd, MCAST, P(r, 1));
	want(r, 0);
	name_of(r, fd);
	listen_on(r, fd, 8);
	want(r, 0);
}

PAIR_TEST(bind_broadcast)
{
	int fd = tsock(r);

	bind_at(r, fd, BCAST, P(r, 1));
	want(r, 0);
	name_of(r, fd);
}

/* ==== getsockname() / getpeername() =================================== */

PAIR_TEST(getsockname_unbound)
{
	name_of(r, tsock(r));
	/* inet_getname() fills in AF_INET, 0.0.0.0 and port 0. */
	want(r, 0);
}

PAIR_TEST(getsockname_short_len)
{
	struct sockaddr_in sin;
	socklen_t len = 4;
	int fd = tsock(r);

	bind_at(r, fd, LOOPBACK, P(r, 1));
	memset(&sin, 0, sizeof(sin));
	sys(r, "getsockname", getsockname(fd, (struct sockaddr *)&sin, &len));
	want(r, 0);
	rec(r, "addrlen", len);		/* full length, truncated copy */
	want(r, sizeof(sin));
	rec(r, "name.family", sin.sin_family);
	rec(r, "name.port", rel_port(r, ntohs(sin.sin_port)));
	rec(r, "name.addr", ntohl(sin.sin_addr.s_addr));
	want(r, 0);
}

PAIR_TEST(getpeername_listener)
{
	struct sockaddr_in sin;
	socklen_t len = sizeof(sin);
	int fd = listener(r, P(r, 1), 8);

	sys(r, "getpeername", getpeername(fd, (struct sockaddr *)&sin, &len));
	want(r, -ENOTCONN);
}

/* ==== listen() ======================================================= */

/* inet_csk_listen_start() -> get_port(sk, 0) picks a port like bind(0). */
PAIR_TEST(listen_autobind)
{
	int fd = tsock(r);

	listen_on(r, fd, 8);
	want(r, 0);
	chosen_port(r, fd, false);
	get_int(r, fd, SOL_SOCKET, SO_ACCEPTCONN);
	want(r, 1);
}

PAIR_TEST(listen_autobind_narrow)
{
	int fd = tsock(r);

	set_range(r, P(r, 20), P(r, 20));
	listen_on(r, fd, 8);
	want(r, 0);
	name_of(r, fd);
}

PAIR_TEST(listen_autobind_exhausted)
{
	int a = tsock(r), b = tsock(r);

	set_range(r, P(r, 20), P(r, 20));
	listen_on(r, a, 8);
	want(r, 0);
	listen_on(r, b, 8);
	want(r, -EADDRINUSE);
	name_of(r, b);
	get_int(r, b, SOL_SOCKET, SO_ACCEPTCONN);
	want(r, 0);
}

PAIR_TEST(listen_backlog_zero)
{
	int fd = listener(r, P(r, 1), 0);

	queue_room(r, P(r, 1), 4);
	want(r, 1);
	(void)fd;
}

/* __sys_listen() clamps (unsigned)backlog to net.core.somaxconn. */
PAIR_TEST(listen_backlog_over_somaxconn)
{
	sysctl_set(r, "net/core/somaxconn", "2");
	listener(r, P(r, 1), 1000);
	queue_room(r, P(r, 1), 6);
	want(r, 3);
}

PAIR_TEST(listen_backlog_negative)
{
	sysctl_set(r, "net/core/somaxconn", "1");
	listener(r, P(r, 1), -1);
	queue_room(r, P(r, 1), 6);
	want(r, 2);
}

PAIR_TEST(listen_twice)
{
	int fd = listener(r, P(r, 1), 8);

	listen_on(r, fd, 8);
	want(r, 0);
	name_of(r, fd);
	get_int(r, fd, SOL_SOCKET, SO_ACCEPTCONN);
	want(r, 1);
}

/* inet_listen() on a listener only updates sk_max_ack_backlog. */
PAIR_TEST(listen_backlog_change)
{
	int fd = listener(r, P(r, 1), 0);

	queue_room(r, P(r, 1), 4);
	want(r, 1);
	listen_on(r, fd, 2);
	want(r, 0);
	queue_room(r, P(r, 1), 4);
	want(r, 2);
}

PAIR_TEST(listen_then_bind)
{
	int fd = tsock(r);

	listen_on(r, fd, 8);
	bind_at(r, fd, LOOPBACK, P(r, 1));
	want(r, -EINVAL);
}

PAIR_TEST(bind_listen_then_bind)
{
	int fd = listener(r, P(r, 1), 8);

	bind_at(r, fd, LOOPBACK, P(r, 2));
	want(r, -EINVAL);
	name_of(r, fd);
}

/* A listener leaves no TIME_WAIT behind: the port is free at once. */
PAIR_TEST(listen_close_rebind)
{
	int a = listener(r, P(r, 1), 8), b;

	drop(r, a);
	b = tsock(r);
	bind_at(r, b, LOOPBACK, P(r, 1));
	want(r, 0);
	listen_on(r, b, 8);
	want(r, 0);
}

PAIR_TEST(bind_close_rebind)
{
	int a = tsock(r), b;

	bind_at(r, a, ANY, P(r, 1));
	want(r, 0);
	drop(r, a);
	b = tsock(r);
	bind_at(r, b, LOOPBACK, P(r, 1));
	want(r, 0);
}

/*
 * The listener's accepted child closes first, so it goes through
 * TIME_WAIT, which keeps the port bound after the listener is gone:
 * only a SO_REUSEADDR socket may bind it (the timewait sock inherited
 * sk_reuse from the listener).
 */
PAIR_TEST(listen_timewait_rebind)
{
	int l = tsock(r), c, a, b;

	set_int(r, l, SOL_SOCKET, SO_REUSEADDR, 1);
	bind_at(r, l, LOOPBACK, P(r, 1));
	listen_on(r, l, 8);
	want(r, 0);
	a = accepted_client(r, l, P(r, 1), &c);
	drop(r, a);		/* server closes first: it gets TIME_WAIT */
	usleep(50 * 1000);
	drop(r, c);
	usleep(50 * 1000);
	drop(r, l);
	b = tsock(r);
	bind_at(r, b, LOOPBACK, P(r, 1));
	want(r, -EADDRINUSE);
	set_int(r, b, SOL_SOCKET, SO_REUSEADDR, 1);
	bind_at(r, b, LOOPBACK, P(r, 1));
	want(r, 0);
}

/* ==== accept(), connect(), shutdown(), poll() on a listener ============ */

/* inet_csk_accept(): not TCP_LISTEN -> -EINVAL. */
PAIR_TEST(accept_not_listening)
{
	int fd = tsock(r);

	sys(r, "accept", accept(fd, NULL, NULL));
	want(r, -EINVAL);
	bind_at(r, fd, LOOPBACK, P(r, 1));
	sys(r, "accept", accept(fd, NULL, NULL));
	want(r, -EINVAL);
}

/* inet_csk_accept(): SO_RCVTIMEO bounds the wait; then -EAGAIN. */
PAIR_TEST(accept_rcvtimeo)
{
	struct timeval tv = { .tv_usec = 100 * 1000 };
	int fd = listener(r, P(r, 1), 8);

	sys(r, "SO_RCVTIMEO", setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv,
					 sizeof(tv)));
	want(r, 0);
	sys(r, "accept", accept(fd, NULL, NULL));
	want(r, -EAGAIN);
}

static void on_alarm(int sig)
{
	(void)sig;
}

/*
 * A signal ends a blocking accept(): -EINTR when the handler was set
 * without SA_RESTART (sock_intr_errno() gave -ERESTARTSYS; without
 * SA_RESTART the syscall does not restart).
 */
PAIR_TEST(accept_eintr)
{
	struct sigaction sa = { .sa_handler = on_alarm }, old;
	struct itimerval it = { .it_value.tv_usec = 100 * 1000 };
	int fd = listener(r, P(r, 1), 8);

	sigaction(SIGALRM, &sa, &old);
	setitimer(ITIMER_REAL, &it, NULL);
	sys(r, "accept", accept(fd, NULL, NULL));
	want(r, -EINTR);
	sigaction(SIGALRM, &old, NULL);
}

PAIR_TEST(accept_nonblock_empty)
{
	int fd = listener(r, P(r, 1), 8);

	sys(r, "fcntl", fcntl(fd, F_SETFL, O_NONBLOCK));
	want(r, 0);
	sys(r, "accept", accept(fd, NULL, NULL));
	want(r, -EAGAIN);
	sys(r, "accept4", accept4(fd, NULL, NULL, SOCK_NONBLOCK | SOCK_CLOEXEC));
	want(r, -EAGAIN);
}

PAIR_TEST(accept_connection)
{
	struct sockaddr_in cli, peer;
	socklen_t len = sizeof(peer);
	int l = listener(r, P(r, 1), 8), c, a;

	a = accepted_client(r, l, P(r, 1), &c);
	if (a < 0)
		return;
	name_of(r, a);
	sys(r, "getpeername", getpeername(a, (struct sockaddr *)&peer, &len));
	want(r, 0);
	sockname(c, &cli);
	rec(r, "peer.family", peer.sin_family);
	want(r, AF_INET);
	rec(r, "peer==client", peer.sin_port == cli.sin_port &&
				peer.sin_addr.s_addr == cli.sin_addr.s_addr);
	want(r, 1);
	get_int(r, a, SOL_SOCKET, SO_ACCEPTCONN);
	want(r, 0);
}

/* The first bytes on an accepted connection. */
PAIR_TEST(accept_data)
{
	int l = listener(r, P(r, 1), 8), c, a;
	char buf[8] = "";

	a = accepted_client(r, l, P(r, 1), &c);
	if (a < 0)
		return;
	sys(r, "send", send(c, "ping", 4, 0));
	want(r, 4);
	sys(r, "recv", recv(a, buf, sizeof(buf), 0));
	want(r, 4);
	rec(r, "data", !memcmp(buf, "ping", 4));
	want(r, 1);
}

static void poll_now(struct run *r, int fd);

/* Wait up to @ms for @n bytes to be readable on @fd (SIOCINQ). */
static void inq_wait(int fd, int n, int ms)
{
	int q = 0;

	for (; ms > 0; ms--) {
		if (!ioctl(fd, SIOCINQ, &q) && q >= n)
			return;
		usleep(1000);
	}
}

/* Record the bytes SIOCINQ says are readable on @fd. */
static void inq(struct run *r, int fd)
{
	int q = -1;

	sys(r, "SIOCINQ", ioctl(fd, SIOCINQ, &q));
	want(r, 0);
	rec(r, "inq", q);
}

/* Record a recv() of up to @len bytes with @flags. */
static long recv_rec(struct run *r, int fd, size_t len, int flags)
{
	char buf[64];

	return sys(r, "recv", recv(fd, buf, len < sizeof(buf) ? len :
				   sizeof(buf), flags));
}

/* MSG_PEEK leaves the data, MSG_WAITALL gets both writes, then nothing. */
PAIR_TEST(recv_peek_waitall)
{
	int l = listener(r, P(r, 1), 8), c, a;
	char buf[16] = "";

	a = accepted_client(r, l, P(r, 1), &c);
	if (a < 0)
		return;
	sys(r, "send", send(c, "hello", 5, 0));
	want(r, 5);
	sys(r, "send", send(c, " world", 6, 0));
	want(r, 6);
	inq_wait(a, 11, 2000);
	inq(r, a);
	want(r, 11);
	sys(r, "recv", recv(a, buf, 5, MSG_PEEK));
	want(r, 5);
	rec(r, "peeked", !memcmp(buf, "hello", 5));
	want(r, 1);
	sys(r, "recv", recv(a, buf, 11, MSG_WAITALL));
	want(r, 11);
	rec(r, "data", !memcmp(buf, "hello world", 11));
	want(r, 1);
	recv_rec(r, a, 8, MSG_DONTWAIT);
	want(r, -EAGAIN);
}

/* TCP's MSG_TRUNC discards what it would have copied. */
PAIR_TEST(recv_trunc)
{
	int l = listener(r, P(r, 1), 8), c, a;

	a = accepted_client(r, l, P(r, 1), &c);
	if (a < 0)
		return;
	sys(r, "send", send(c, "0123456789", 10, 0));
	want(r, 10);
	inq_wait(a, 10, 2000);
	sys(r, "recv", recv(a, NULL, 4, MSG_TRUNC));
	want(r, 4);
	inq(r, a);
	want(r, 6);
	recv_rec(r, a, 64, 0);
	want(r, 6);
}

/*
 * A send() from a buffer that faults: EFAULT, and the skb it queued for
 * the bytes leaves the write queue empty (tcp_remove_empty_skb()); the
 * next send() goes out as if nothing had happened.
 */
PAIR_TEST(send_efault)
{
	int l = listener(r, P(r, 1), 8), c, a;

	a = accepted_client(r, l, P(r, 1), &c);
	if (a < 0)
		return;
	sys(r, "send", send(a, (const void *)8, 100, 0));
	want(r, -EFAULT);
	sys(r, "send", send(a, "abc", 3, 0));
	want(r, 3);
	inq_wait(c, 3, 2000);
	recv_rec(r, c, 64, MSG_DONTWAIT);
	want(r, 3);
}

/*
 * The peer's FIN: poll() says POLLIN and POLLRDHUP, SIOCINQ does not
 * count the FIN, the data comes first and then EOF, again and again.
 */
PAIR_TEST(recv_eof)
{
	int l = listener(r, P(r, 1), 8), c, a;

	a = accepted_client(r, l, P(r, 1), &c);
	if (a < 0)
		return;
	sys(r, "send", send(c, "abc", 3, 0));
	want(r, 3);
	sys(r, "shutdown", shutdown(c, SHUT_WR));
	want(r, 0);
	usleep(100 * 1000);
	poll_now(r, a);
	want(r, POLLIN | POLLOUT | POLLRDHUP);
	inq(r, a);
	want(r, 3);
	recv_rec(r, a, 64, 0);
	want(r, 3);
	recv_rec(r, a, 64, 0);
	want(r, 0);
	recv_rec(r, a, 64, MSG_DONTWAIT);
	want(r, 0);
}

/* The peer's RST: the error once, then EOF. */
PAIR_TEST(recv_reset)
{
	int l = listener(r, P(r, 1), 8), c, a;

	a = accepted_client(r, l, P(r, 1), &c);
	if (a < 0)
		return;
	abort_fd(r, c);
	usleep(100 * 1000);
	poll_now(r, a);
	want(r, POLLIN | POLLOUT | POLLERR | POLLHUP | POLLRDHUP);
	get_int(r, a, SOL_SOCKET, SO_ERROR);
	want(r, ECONNRESET);
	recv_rec(r, a, 64, 0);
	want(r, 0);
}

/* Errors a reader gets without data: OOB, timeout, listener. */
PAIR_TEST(recv_errors)
{
	struct timeval tv = { .tv_usec = 50 * 1000 };
	int l = listener(r, P(r, 1), 8), c, a;

	recv_rec(r, l, 8, MSG_DONTWAIT);
	want(r, -ENOTCONN);
	a = accepted_client(r, l, P(r, 1), &c);
	if (a < 0)
		return;
	recv_rec(r, a, 8, MSG_OOB | MSG_DONTWAIT);
	want(r, -EINVAL);
	sys(r, "setsockopt", setsockopt(a, SOL_SOCKET, SO_RCVTIMEO, &tv,
					sizeof(tv)));
	want(r, 0);
	recv_rec(r, a, 8, 0);
	want(r, -EAGAIN);
}

/*
 * A SOL_TCP int option of range 1..@max: its value @dflt before any set,
 * EINVAL for 0 and @max + 1, then @val set and read back.
 */
static void tcp_int_range(struct run *r, int fd, int name, int dflt, int max,
			  int val)
{
	get_int(r, fd, SOL_TCP, name);
	want(r, dflt);
	set_int(r, fd, SOL_TCP, name, 0);
	want(r, -EINVAL);
	set_int(r, fd, SOL_TCP, name, max + 1);
	want(r, -EINVAL);
	set_int(r, fd, SOL_TCP, name, val);
	want(r, 0);
	get_int(r, fd, SOL_TCP, name);
	want(r, val);
}

/*
 * SOL_TCP options of do_tcp_setsockopt()/do_tcp_getsockopt(): their
 * ranges and errnos, TCP_MAXSEG on the listener shaping the connection's
 * MSS, TCP_NODELAY, TCP_CORK, TCP_QUICKACK, TCP_LINGER2 (seconds, capped,
 * negative), TCP_USER_TIMEOUT and TCP_KEEPIDLE/KEEPINTVL/KEEPCNT (ranges,
 * defaults from net.ipv4.tcp_keepalive_*) read back, SO_KEEPALIVE and
 * TCP_KEEPIDLE inherited from the listener, and TCP_INFO of an accepted
 * connection (state, options, MSS, scales, cwnd).
 */
PAIR_TEST(tcp_sockopts)
{
	int s = tsock(r), l, c, a, v = 1;
	struct tcp_info ti;
	socklen_t len;

	get_int(r, s, SOL_TCP, TCP_MAXSEG);
	want(r, 536);		/* TCP_MSS_DEFAULT until connected */
	set_int(r, s, SOL_TCP, TCP_MAXSEG, 87);
	want(r, -EINVAL);
	set_int(r, s, SOL_TCP, TCP_MAXSEG, 32768);
	want(r, -EINVAL);
	set_int(r, s, SOL_TCP, TCP_MAXSEG, 88);
	want(r, 0);
	get_int(r, s, SOL_TCP, TCP_MAXSEG);
	want(r, 88);		/* user_mss, the socket being closed */
	sys(r, "setsockopt short",
	    setsockopt(s, SOL_TCP, TCP_MAXSEG, &v, 2));
	want(r, -EINVAL);
	set_int(r, s, SOL_TCP, 9999, 1);
	want(r, -ENOPROTOOPT);
	len = (socklen_t)-1;
	sys(r, "getsockopt len -1",
	    getsockopt(s, SOL_TCP, TCP_NODELAY, &v, &len));
	want(r, -EINVAL);
	get_int(r, s, SOL_TCP, TCP_NODELAY);
	set_int(r, s, SOL_TCP, TCP_NODELAY, 5);
	get_int(r, s, SOL_TCP, TCP_NODELAY);
	want(r, 1);
	get_int(r, s, SOL_TCP, TCP_QUICKACK);
	want(r, 1);
	set_int(r, s, SOL_TCP, TCP_QUICKACK, 0);
	get_int(r, s, SOL_TCP, TCP_QUICKACK);
	want(r, 0);
	get_int(r, s, SOL_TCP, TCP_CORK);
	want(r, 0);
	set_int(r, s, SOL_TCP, TCP_CORK, 7);
	get_int(r, s, SOL_TCP, TCP_CORK);
	want(r, 1);
	get_int(r, s, SOL_TCP, TCP_LINGER2);
	want(r, 60);		/* net.ipv4.tcp_fin_timeout */
	set_int(r, s, SOL_TCP, TCP_LINGER2, -5);
	get_int(r, s, SOL_TCP, TCP_LINGER2);
	want(r, -1);
	set_int(r, s, SOL_TCP, TCP_LINGER2, 1000);
	get_int(r, s, SOL_TCP, TCP_LINGER2);
	set_int(r, s, SOL_TCP, TCP_LINGER2, 7);
	get_int(r, s, SOL_TCP, TCP_LINGER2);
	want(r, 7);
	set_int(r, s, SOL_TCP, TCP_USER_TIMEOUT, -1);
	want(r, -EINVAL);
	set_int(r, s, SOL_TCP, TCP_USER_TIMEOUT, 1500);
	want(r, 0);
	get_int(r, s, SOL_TCP, TCP_USER_TIMEOUT);
	want(r, 1500);
	/* Defaults: net.ipv4.tcp_keepalive_time, _intvl, _probes. */
	tcp_int_range(r, s, TCP_KEEPIDLE, 7200, 32767, 32767);
	tcp_int_range(r, s, TCP_KEEPINTVL, 75, 32767, 3);
	tcp_int_range(r, s, TCP_KEEPCNT, 9, 127, 4);

	l = tsock(r);
	set_int(r, l, SOL_TCP, TCP_MAXSEG, 1000);
	want(r, 0);
	/* Keepalive settings of the listener are its children's. */
	set_int(r, l, SOL_SOCKET, SO_KEEPALIVE, 1);
	want(r, 0);
	set_int(r, l, SOL_TCP, TCP_KEEPIDLE, 11);
	want(r, 0);
	bind_at(r, l, LOOPBACK, P(r, 1));
	listen_on(r, l, 8);
	get_int(r, l, SOL_TCP, TCP_MAXSEG);
	want(r, 1000);
	a = accepted_client(r, l, P(r, 1), &c);
	if (a < 0)
		return;
	get_int(r, a, SOL_TCP, TCP_MAXSEG);
	want(r, 1000 - 12);	/* the listener's cap, less the timestamp */
	get_int(r, c, SOL_TCP, TCP_MAXSEG);
	get_int(r, a, SOL_TCP, TCP_QUICKACK);
	get_int(r, a, SOL_SOCKET, SO_KEEPALIVE);
	want(r, 1);
	get_int(r, a, SOL_TCP, TCP_KEEPIDLE);
	want(r, 11);
	set_int(r, a, SOL_SOCKET, SO_KEEPALIVE, 0);
	set_int(r, a, SOL_TCP, TCP_KEEPIDLE, 2);
	get_int(r, a, SOL_SOCKET, SO_KEEPALIVE);
	want(r, 0);
	memset(&ti, 0xa5, sizeof(ti));
	len = sizeof(ti);
	sys(r, "TCP_INFO", getsockopt(a, SOL_TCP, TCP_INFO, &ti, &len));
	want(r, 0);
	rec(r, "info len", len);
	rec(r, "tcpi_state", ti.tcpi_state);
	want(r, TCP_ESTABLISHED);
	rec(r, "tcpi_options", ti.tcpi_options);
	rec(r, "tcpi_snd_wscale", ti.tcpi_snd_wscale);
	rec(r, "tcpi_rcv_wscale", ti.tcpi_rcv_wscale);
	rec(r, "tcpi_snd_mss", ti.tcpi_snd_mss);
	rec(r, "tcpi_rcv_mss", ti.tcpi_rcv_mss);
	rec(r, "tcpi_advmss", ti.tcpi_advmss);
	rec(r, "tcpi_unacked", ti.tcpi_unacked);
	rec(r, "tcpi_snd_cwnd", ti.tcpi_snd_cwnd);
	len = 8;
	sys(r, "TCP_INFO short", getsockopt(a, SOL_TCP, TCP_INFO, &ti, &len));
	rec(r, "info len", len);
}

/* TCP_INFO's tcpi_rcv_ssthresh of @fd. */
static void rcv_ssthresh(struct run *r, int fd)
{
	struct tcp_info ti;
	socklen_t len = sizeof(ti);

	memset(&ti, 0, sizeof(ti));
	sys(r, "TCP_INFO", getsockopt(fd, SOL_TCP, TCP_INFO, &ti, &len));
	want(r, 0);
	rec(r, "tcpi_rcv_ssthresh", ti.tcpi_rcv_ssthresh);
}

/*
 * TCP_WINDOW_CLAMP (tcp_set_window_clamp()): 0 until set, 0 allowed only
 * while closed, raised to SOCK_MIN_RCVBUF / 2, a negative value taken as
 * unsigned.  The listener's clamp is its child's; on the connection,
 * shrinking it lowers rcv_ssthresh and raising it lets rcv_ssthresh back
 * up to the window offered; a peer that writes more than the clamp while
 * nobody reads gets through what stock lets through.
 */
PAIR_TEST(tcp_window_clamp)
{
	static char out[100000];
	int s = tsock(r), l, c, a, v = 30000, q = -1;

	get_int(r, s, SOL_TCP, TCP_WINDOW_CLAMP);
	want(r, 0);
	set_int(r, s, SOL_TCP, TCP_WINDOW_CLAMP, 0);
	want(r, 0);
	set_int(r, s, SOL_TCP, TCP_WINDOW_CLAMP, 1);
	want(r, 0);
	get_int(r, s, SOL_TCP, TCP_WINDOW_CLAMP);	/* SOCK_MIN_RCVBUF / 2 */
	set_int(r, s, SOL_TCP, TCP_WINDOW_CLAMP, -1);
	want(r, 0);
	get_int(r, s, SOL_TCP, TCP_WINDOW_CLAMP);
	want(r, -1);
	sys(r, "setsockopt short",
	    setsockopt(s, SOL_TCP, TCP_WINDOW_CLAMP, &v, 2));
	want(r, -EINVAL);
	set_int(r, s, SOL_TCP, TCP_WINDOW_CLAMP, 0);
	want(r, 0);
	get_int(r, s, SOL_TCP, TCP_WINDOW_CLAMP);
	want(r, 0);

	l = tsock(r);
	set_int(r, l, SOL_TCP, TCP_WINDOW_CLAMP, 20000);
	want(r, 0);
	bind_at(r, l, LOOPBACK, P(r, 1));
	listen_on(r, l, 8);
	set_int(r, l, SOL_TCP, TCP_WINDOW_CLAMP, 0);
	want(r, -EINVAL);
	a = accepted_client(r, l, P(r, 1), &c);
	if (a < 0)
		return;
	get_int(r, a, SOL_TCP, TCP_WINDOW_CLAMP);
	want(r, 20000);
	set_int(r, a, SOL_TCP, TCP_WINDOW_CLAMP, 0);
	want(r, -EINVAL);
	set_int(r, a, SOL_TCP, TCP_WINDOW_CLAMP, 5000);
	want(r, 0);
	rcv_ssthresh(r, a);
	set_int(r, a, SOL_TCP, TCP_WINDOW_CLAMP, 30000);
	want(r, 0);
	rcv_ssthresh(r, a);
	fcntl(c, F_SETFL, O_NONBLOCK);
	rec(r, "sent", send(c, out, sizeof(out), 0) > 0);
	want(r, 1);
	inq_wait(a, 1, 2000);
	usleep(100 * 1000);
	ioctl(a, SIOCINQ, &q);
	rec(r, "inq>0", q > 0);
	want(r, 1);
	/*
	 * 6.1 holds the peer to the clamp; from 6.7 on, the first segment
	 * that teaches a new payload/truesize ratio resets window_clamp from
	 * SO_RCVBUF (tcp_measure_rcv_mss()), and everything gets through.
	 */
	rec(r, "inq<=clamp", q <= 30000);
}

/*
 * recvmsg() of up to @len bytes: records what it returned and the
 * TCP_CM_INQ control message, its value or -1 if there was none.
 */
static void recv_inq(struct run *r, int fd, size_t len)
{
	char buf[64], cbuf[CMSG_SPACE(sizeof(int))];
	struct iovec iov = { .iov_base = buf, .iov_len = len };
	struct msghdr msg = {
		.msg_iov = &iov, .msg_iovlen = 1,
		.msg_control = cbuf, .msg_controllen = sizeof(cbuf),
	};
	struct cmsghdr *cm;
	int v = -1;

	memset(cbuf, 0, sizeof(cbuf));
	/* A failed call leaves msg_controllen as it was: nothing to parse. */
	if (sys(r, "recvmsg", recvmsg(fd, &msg, MSG_DONTWAIT)) < 0)
		msg.msg_controllen = 0;
	for (cm = CMSG_FIRSTHDR(&msg); cm; cm = CMSG_NXTHDR(&msg, cm))
		if (cm->cmsg_level == SOL_TCP && cm->cmsg_type == TCP_CM_INQ &&
		    cm->cmsg_len == CMSG_LEN(sizeof(int)))
			memcpy(&v, CMSG_DATA(cm), sizeof(v));
	rec(r, "cm_inq", v);
}

/*
 * TCP_INQ: 0 and 1 only, inherited from the listener; each successful
 * recvmsg() then carries TCP_CM_INQ, the bytes still queued (1 once the
 * FIN is in and everything read), a failed one or one without TCP_INQ
 * carries none.
 */
PAIR_TEST(tcp_inq)
{
	int s = tsock(r), l, c, a;

	get_int(r, s, SOL_TCP, TCP_INQ);
	want(r, 0);
	set_int(r, s, SOL_TCP, TCP_INQ, 2);
	want(r, -EINVAL);
	set_int(r, s, SOL_TCP, TCP_INQ, -1);
	want(r, -EINVAL);
	set_int(r, s, SOL_TCP, TCP_INQ, 1);
	want(r, 0);
	get_int(r, s, SOL_TCP, TCP_INQ);
	want(r, 1);

	l = tsock(r);
	set_int(r, l, SOL_TCP, TCP_INQ, 1);
	want(r, 0);
	bind_at(r, l, LOOPBACK, P(r, 1));
	listen_on(r, l, 8);
	recv_inq(r, l, 8);
	want(r, -1);	/* ENOTCONN, and no control message */
	a = accepted_client(r, l, P(r, 1), &c);
	if (a < 0)
		return;
	get_int(r, a, SOL_TCP, TCP_INQ);
	want(r, 1);
	recv_inq(r, a, 8);
	want(r, -1);	/* EAGAIN: none */
	sys(r, "send", send(c, "0123456789", 10, 0));
	want(r, 10);
	inq_wait(a, 10, 2000);
	recv_inq(r, a, 4);
	want(r, 6);
	recv_inq(r, a, 64);
	want(r, 0);
	sys(r, "send", send(c, "abc", 3, 0));
	want(r, 3);
	sys(r, "shutdown", shutdown(c, SHUT_WR));
	want(r, 0);
	inq_wait(a, 3, 2000);
	usleep(50 * 1000);
	recv_inq(r, a, 64);
	want(r, 1);	/* the FIN: read on */
	recv_inq(r, a, 64);
	want(r, 1);
	set_int(r, a, SOL_TCP, TCP_INQ, 0);
	want(r, 0);
	recv_inq(r, a, 64);
	want(r, -1);
}

/*
 * TCP_NOTSENT_LOWAT (tcp_stream_memory_free()): any int, read back as
 * set, inherited from the listener.  On the accepted connection, data
 * held by TCP_CORK is unsent: poll() says POLLOUT only while the unsent
 * bytes are below half the limit, raising the limit makes the socket
 * writable at once, and uncorking sends the data and gives POLLOUT back.
 * Without the option, net.ipv4.tcp_notsent_lowat applies.
 */
PAIR_TEST(tcp_notsent_lowat)
{
	int s = tsock(r), l, c, a;
	char buf[64] = "";

	get_int(r, s, SOL_TCP, TCP_NOTSENT_LOWAT);
	want(r, 0);
	set_int(r, s, SOL_TCP, TCP_NOTSENT_LOWAT, -1);
	want(r, 0);
	get_int(r, s, SOL_TCP, TCP_NOTSENT_LOWAT);
	want(r, -1);

	l = tsock(r);
	set_int(r, l, SOL_TCP, TCP_NOTSENT_LOWAT, 4096);
	want(r, 0);
	bind_at(r, l, LOOPBACK, P(r, 1));
	listen_on(r, l, 8);
	a = accepted_client(r, l, P(r, 1), &c);
	if (a < 0)
		return;
	get_int(r, a, SOL_TCP, TCP_NOTSENT_LOWAT);
	want(r, 4096);
	set_int(r, a, SOL_TCP, TCP_NOTSENT_LOWAT, 100);
	want(r, 0);
	set_int(r, a, SOL_TCP, TCP_CORK, 1);
	want(r, 0);
	poll_now(r, a);
	want(r, POLLOUT);
	sys(r, "send", send(a, buf, 60, MSG_DONTWAIT));
	want(r, 60);
	poll_now(r, a);
	want(r, 0);		/* 2 * 60 unsent >= 100 */
	set_int(r, a, SOL_TCP, TCP_NOTSENT_LOWAT, 121);
	want(r, 0);
	poll_now(r, a);
	want(r, POLLOUT);
	set_int(r, a, SOL_TCP, TCP_CORK, 0);
	want(r, 0);
	sys(r, "send", send(a, buf, 60, MSG_DONTWAIT));
	want(r, 60);
	inq_wait(c, 120, 2000);
	poll_now(r, a);
	want(r, POLLOUT);
	recv_rec(r, c, 64, MSG_DONTWAIT);
	want(r, 64);

	/* The sysctl, for a socket that did not set the option. */
	sysctl_set(r, "net/ipv4/tcp_notsent_lowat", "100");
	set_int(r, a, SOL_TCP, TCP_NOTSENT_LOWAT, 0);
	want(r, 0);
	set_int(r, a, SOL_TCP, TCP_CORK, 1);
	want(r, 0);
	sys(r, "send", send(a, buf, 50, MSG_DONTWAIT));
	want(r, 50);
	poll_now(r, a);
	want(r, 0);
	set_int(r, a, SOL_TCP, TCP_CORK, 0);
	want(r, 0);
}

/*
 * getsockopt(TCP_CONGESTION) with room for @len bytes: records the call,
 * the length it reports (stock's must be @want_len) and whether the
 * bytes are @name's (padded with NULs up to the length).
 */
static void get_cong(struct run *r, int fd, socklen_t len, const char *name,
		     long want_len)
{
	char buf[32], exp[32] = "";
	socklen_t n = len;

	memset(buf, 0x5a, sizeof(buf));
	strncpy(exp, name, sizeof(exp) - 1);
	if (sys(r, "get TCP_CONGESTION",
		getsockopt(fd, SOL_TCP, TCP_CONGESTION, buf, &n)) < 0)
		return;
	rec(r, "len", n);
	want(r, want_len);
	rec(r, "name", n <= sizeof(buf) && !memcmp(buf, exp, n));
	want(r, 1);
}

/* setsockopt(TCP_CONGESTION) with the first @len bytes of @name. */
static long set_cong(struct run *r, int fd, const char *name, socklen_t len)
{
	return sys(r, "set TCP_CONGESTION",
		   setsockopt(fd, SOL_TCP, TCP_CONGESTION, name, len));
}

/*
 * TCP_CONGESTION, with net.ipv4.tcp_congestion_control and its twin
 * net.xtcp.congestion_control (where xtcp is loaded) set to reno, so
 * that both defaults are the name the calls use: the name read back at
 * any length, "reno" taken (also cut from a longer buffer, and from an
 * unprivileged user), unknown names ENOENT (also a name cut by the length, or to
 * TCP_CA_NAME_MAX - 1 bytes), an empty one EINVAL; a listener's choice
 * is its child's, and a connection may choose again.
 */
PAIR_TEST(tcp_congestion)
{
	int s, l, c, a;

	sysctl_set(r, "net/ipv4/tcp_congestion_control", "reno");
	if (!access("/proc/sys/net/xtcp/congestion_control", F_OK))
		sysctl_set(r, "net/xtcp/congestion_control", "reno");
	s = tsock(r);
	get_cong(r, s, 16, "reno", 16);
	get_cong(r, s, 2, "re", 2);
	get_cong(r, s, 30, "reno", 16);	/* TCP_CA_NAME_MAX */
	get_cong(r, s, 0, "", 0);
	set_cong(r, s, "reno", 4);
	want(r, 0);
	set_cong(r, s, "reno", 0);
	want(r, -EINVAL);
	set_cong(r, s, "nonexistent", 11);
	want(r, -ENOENT);
	set_cong(r, s, "reno", 2);
	want(r, -ENOENT);	/* "re" */
	set_cong(r, s, "renoreno", 4);
	want(r, 0);
	set_cong(r, s, "reno\0junk", 9);
	want(r, 0);
	set_cong(r, s, "renorenorenorenoreno", 20);
	want(r, -ENOENT);	/* cut to 15 bytes */
	as_uid(r, NOBODY);
	set_cong(r, s, "reno", 5);
	want(r, 0);
	set_cong(r, s, "nonexistent", 12);
	want(r, -ENOENT);
	as_uid(r, 0);
	get_cong(r, s, 16, "reno", 16);

	l = tsock(r);
	set_cong(r, l, "reno", 5);
	want(r, 0);
	bind_at(r, l, LOOPBACK, P(r, 1));
	listen_on(r, l, 8);
	a = accepted_client(r, l, P(r, 1), &c);
	if (a < 0)
		return;
	get_cong(r, a, 16, "reno", 16);
	set_cong(r, a, "nonexistent", 12);
	want(r, -ENOENT);
	set_cong(r, a, "reno", 5);
	want(r, 0);
	get_cong(r, a, 16, "reno", 16);
}

/*
 * TCP_SYNCNT (1..127, default net.ipv4.tcp_syn_retries) and
 * TCP_THIN_LINEAR_TIMEOUTS (0 or 1): ranges, errnos, values inherited by
 * an accepted child.  TCP_DEFER_ACCEPT: seconds in, the seconds its
 * SYN-ACK retransmissions cover out (on a socket that does not listen:
 * xtcp does not defer the accept yet).
 */
PAIR_TEST(tcp_syncnt_thin_defer)
{
	int s = tsock(r), l, c, a;

	tcp_int_range(r, s, TCP_SYNCNT, 6, 127, 3);
	get_int(r, s, SOL_TCP, TCP_THIN_LINEAR_TIMEOUTS);
	want(r, 0);
	set_int(r, s, SOL_TCP, TCP_THIN_LINEAR_TIMEOUTS, 2);
	want(r, -EINVAL);
	set_int(r, s, SOL_TCP, TCP_THIN_LINEAR_TIMEOUTS, -1);
	want(r, -EINVAL);
	set_int(r, s, SOL_TCP, TCP_THIN_LINEAR_TIMEOUTS, 1);
	want(r, 0);
	get_int(r, s, SOL_TCP, TCP_THIN_LINEAR_TIMEOUTS);
	want(r, 1);
	get_int(r, s, SOL_TCP, TCP_DEFER_ACCEPT);
	want(r, 0);
	set_int(r, s, SOL_TCP, TCP_DEFER_ACCEPT, 1);
	want(r, 0);
	get_int(r, s, SOL_TCP, TCP_DEFER_ACCEPT);
	want(r, 1);
	set_int(r, s, SOL_TCP, TCP_DEFER_ACCEPT, 5);
	get_int(r, s, SOL_TCP, TCP_DEFER_ACCEPT);
	want(r, 7);		/* 1 + 2 + 4 */
	set_int(r, s, SOL_TCP, TCP_DEFER_ACCEPT, 1000000);
	get_int(r, s, SOL_TCP, TCP_DEFER_ACCEPT);
	set_int(r, s, SOL_TCP, TCP_DEFER_ACCEPT, -3);
	want(r, 0);
	get_int(r, s, SOL_TCP, TCP_DEFER_ACCEPT);
	want(r, 0);

	l = tsock(r);
	set_int(r, l, SOL_TCP, TCP_SYNCNT, 4);
	want(r, 0);
	set_int(r, l, SOL_TCP, TCP_THIN_LINEAR_TIMEOUTS, 1);
	want(r, 0);
	bind_at(r, l, LOOPBACK, P(r, 1));
	listen_on(r, l, 8);
	a = accepted_client(r, l, P(r, 1), &c);
	if (a < 0)
		return;
	get_int(r, a, SOL_TCP, TCP_SYNCNT);
	want(r, 4);
	get_int(r, a, SOL_TCP, TCP_THIN_LINEAR_TIMEOUTS);
	want(r, 1);
	get_int(r, a, SOL_TCP, TCP_DEFER_ACCEPT);
	want(r, 0);
}

/* ==== every SOL_TCP option, in every state ============================ */

enum sw_state { SW_CLOSED, SW_LISTEN, SW_CONN, SW_NSTATES };

#define SW_LAST_OPT	45	/* past 6.12's last, TCP_IS_MPTCP (43) */
#define SW_GET_AFTER	INT_MIN	/* the read after the sets */
#define SW_BIG_GET	(-2)	/* the 64-byte read */

/*
 * Where stock acts and xtcp, lacking the feature, answers as a kernel
 * without it (Documentation/design.rst, "Socket options"): the answer
 * xtcp gives to option @name, set to @val (SW_GET_AFTER: read back after
 * the sets; SW_BIG_GET: the 64-byte read) in @st, or 0 where both must
 * answer alike.  A repair-mode set that stock takes
 * changes what it reads back, hence the reads after.
 */
static long sw_gap(int name, int val, enum sw_state st)
{
	bool after = val == SW_GET_AFTER, big = val == SW_BIG_GET;

	switch (name) {
	case TCP_REPAIR:
		/* Root may repair any socket but a listener; xtcp none. */
		if (st == SW_LISTEN || big)
			return 0;
		return after ? 1 : -EPERM;
	case TCP_ZEROCOPY_RECEIVE:
		/* No mmap() of an xtcp socket: no address is valid. */
		return big && st != SW_LISTEN ? -EINVAL : 0;
	}
	return 0;
}

/*
 * Record one answer of the sweep.  For a @gap the record says only
 * "gap" on both sides: stock must act (not answer @xtcp_ans, as xtcp
 * does) and xtcp must answer exactly @xtcp_ans.
 */
static void sw_rec(struct run *r, const char *what, long got, bool gap,
		   long xtcp_ans)
{
	size_t n = strlen(r->bad);
	char a[32], b[32];

	if (!gap) {
		rec(r, what, got);
		return;
	}
	rec(r, "gap", 0);
	if (is_ref(r) && got == xtcp_ans)
		snprintf(r->bad + n, sizeof(r->bad) - n,
			 " [%s: stock answers %s as xtcp does: the gap is gone]",
			 what, fmt_val(got, a, sizeof(a)));
	else if (!is_ref(r) && got != xtcp_ans)
		snprintf(r->bad + n, sizeof(r->bad) - n,
			 " [%s: xtcp answers %s, documented %s]", what,
			 fmt_val(got, a, sizeof(a)),
			 fmt_val(xtcp_ans, b, sizeof(b)));
}

/* Values that change on their own (clocks) or by design (the algorithm). */
static bool sw_value_varies(int name)
{
	return name == TCP_TIMESTAMP || name == TCP_CONGESTION;
}

static void sw_get(struct run *r, int fd, int name, bool gap)
{
	socklen_t len = sizeof(int);
	long ret;
	int val = 0;

	ret = getsockopt(fd, SOL_TCP, name, &val, &len) ? -errno : 0;
	if (gap) {
		/* Read back after a gap: stock has its value, xtcp 0. */
		sw_rec(r, "get", ret ?: val, true, 0);
		return;
	}
	rec(r, "get", ret);
	if (ret)
		return;
	rec(r, "get len", len);
	if (!sw_value_varies(name))
		rec(r, "get val", val);
}

/* The whole sweep of option @name on @fd, in state @st. */
static void sw_one(struct run *r, int fd, int name, enum sw_state st)
{
	static const int vals[] = { -1, 0, 2, 1 };
	unsigned char big[64] = {};
	socklen_t len;
	long ret, gap;
	unsigned int i;

	sw_get(r, fd, name, false);
	len = sizeof(big);
	ret = getsockopt(fd, SOL_TCP, name, big, &len) ? -errno : 0;
	gap = sw_gap(name, SW_BIG_GET, st);
	sw_rec(r, "get64", ret, gap, gap);
	if (!ret && !gap && !sw_value_varies(name))
		rec(r, "get64 len", len);
	len = (socklen_t)-1;
	sys(r, "get len -1", getsockopt(fd, SOL_TCP, name, big, &len));
	sys(r, "set NULL", setsockopt(fd, SOL_TCP, name, NULL, sizeof(int)));
	sys(r, "set len 0", setsockopt(fd, SOL_TCP, name, big, 0));
	for (i = 0; i < ARRAY_SIZE(vals); i++) {
		ret = setsockopt(fd, SOL_TCP, name, &vals[i],
				 sizeof(int)) ? -errno : 0;
		gap = sw_gap(name, vals[i], st);
		sw_rec(r, "set", ret, gap, gap);
	}
	sw_get(r, fd, name, sw_gap(name, SW_GET_AFTER, st));
}

/*
 * Option @name at SOL_TCP on a closed socket, a listener and an accepted
 * connection: an int read, a 64-byte read, a length of -1, a NULL value,
 * a length of 0, the values -1, 0, 2 and 1, and a read after.  Every
 * answer (errno, length, value) as stock's, but for sw_gap()'s.
 */
static void sweep_option(struct run *r, int name)
{
	int s = tsock(r), l, l2, c, a;

	sw_one(r, s, name, SW_CLOSED);
	l = listener(r, P(r, 1), 8);
	sw_one(r, l, name, SW_LISTEN);
	l2 = listener(r, P(r, 2), 8);
	a = accepted_client(r, l2, P(r, 2), &c);
	if (a < 0)
		return;
	sw_one(r, a, name, SW_CONN);
}

#define SWEEP_TEST(n)					\
	PAIR_TEST(tcp_sockopt_sweep_##n)		\
	{						\
		sweep_option(r, n);			\
	}

SWEEP_TEST(1) SWEEP_TEST(2) SWEEP_TEST(3) SWEEP_TEST(4) SWEEP_TEST(5)
SWEEP_TEST(6) SWEEP_TEST(7) SWEEP_TEST(8) SWEEP_TEST(9) SWEEP_TEST(10)
SWEEP_TEST(11) SWEEP_TEST(12) SWEEP_TEST(13) SWEEP_TEST(14) SWEEP_TEST(15)
SWEEP_TEST(16) SWEEP_TEST(17) SWEEP_TEST(18) SWEEP_TEST(19) SWEEP_TEST(20)
SWEEP_TEST(21) SWEEP_TEST(22) SWEEP_TEST(23) SWEEP_TEST(24) SWEEP_TEST(25)
SWEEP_TEST(26) SWEEP_TEST(27) SWEEP_TEST(28) SWEEP_TEST(29) SWEEP_TEST(30)
SWEEP_TEST(31) SWEEP_TEST(32) SWEEP_TEST(33) SWEEP_TEST(34) SWEEP_TEST(35)
SWEEP_TEST(36) SWEEP_TEST(37) SWEEP_TEST(38) SWEEP_TEST(39) SWEEP_TEST(40)
SWEEP_TEST(41) SWEEP_TEST(42) SWEEP_TEST(43) SWEEP_TEST(44) SWEEP_TEST(45)

/*
 * TCP_MD5SIG and TCP_MD5SIG_EXT with a whole struct tcp_md5sig:
 * another family, a prefix over 32 bits, a key over 80 bytes (EINVAL),
 * deleting a key nobody added (ENOENT); adding one, last, is xtcp's gap
 * (ENOPROTOOPT: no RFC 2385 signatures).
 */
static void md5sig_set(struct run *r, int fd, int name, struct tcp_md5sig *m,
		       const char *what, long stock)
{
	sys(r, what, setsockopt(fd, SOL_TCP, name, m, sizeof(*m)));
	want(r, stock);
}

PAIR_TEST(tcp_md5sig_checks)
{
	static const int names[] = { TCP_MD5SIG, TCP_MD5SIG_EXT };
	int l = listener(r, P(r, 1), 8);
	struct tcp_md5sig m = {};
	struct sockaddr_in *sin = (struct sockaddr_in *)&m.tcpm_addr;
	unsigned int i;
	long ret;

	for (i = 0; i < ARRAY_SIZE(names); i++) {
		memset(&m, 0, sizeof(m));
		sys(r, "md5 short", setsockopt(l, SOL_TCP, names[i], &m,
					       sizeof(m) - 1));
		want(r, -EINVAL);
		md5sig_set(r, l, names[i], &m, "md5 family 0", -EINVAL);
		sin->sin_family = AF_INET;
		sin->sin_addr.s_addr = htonl(LOOPBACK);
		md5sig_set(r, l, names[i], &m, "md5 delete", -ENOENT);
		m.tcpm_keylen = TCP_MD5SIG_MAXKEYLEN + 1;
		md5sig_set(r, l, names[i], &m, "md5 key 81", -EINVAL);
	}
	m.tcpm_flags = TCP_MD5SIG_FLAG_PREFIX;
	m.tcpm_prefixlen = 33;
	m.tcpm_keylen = 4;
	md5sig_set(r, l, TCP_MD5SIG_EXT, &m, "md5 prefix 33", -EINVAL);
	m.tcpm_prefixlen = 32;
	for (i = 0; i < ARRAY_SIZE(names); i++) {
		ret = setsockopt(l, SOL_TCP, names[i], &m, sizeof(m)) ?
		      -errno : 0;
		sw_rec(r, "md5 add", ret, true, -ENOPROTOOPT);
	}
}

/* ---- TCP Fast Open: the listener's options and the keys (issue 10) ---- */

/*
 * Set net.ipv4.tcp_@name, and its twin net.xtcp.@name where the module
 * is loaded, for this run.
 */
static void fo_sysctl(struct run *r, const char *name, const char *val)
{
	char path[64];

	snprintf(path, sizeof(path), "net/ipv4/tcp_%s", name);
	sysctl_set(r, path, val);
	snprintf(path, sizeof(path), "net/xtcp/%s", name);
	if (!access("/proc/sys/net/xtcp", F_OK))
		sysctl_set(r, path, val);
}

/*
 * TCP_FASTOPEN sizes a socket's Fast Open queue (capped at
 * net.core.somaxconn), closed or listening, never on a connection, never
 * negative; a child starts without one.  listen() with
 * net.ipv4.tcp_fastopen (xtcp: net.xtcp.fastopen) 0x400|0x2 gives a
 * listener without one the backlog's, keeps one TCP_FASTOPEN set; 0x400
 * alone nothing.  TCP_FASTOPEN_NO_COOKIE: 0 or 1, closed or listening.
 */
PAIR_TEST(tcp_fastopen_sockopt)
{
	int s, l, l2, l3, c, a;

	sysctl_set(r, "net/core/somaxconn", "100");
	s = tsock(r);
	get_int(r, s, SOL_TCP, TCP_FASTOPEN);
	want(r, 0);
	set_int(r, s, SOL_TCP, TCP_FASTOPEN, 5);
	want(r, 0);
	get_int(r, s, SOL_TCP, TCP_FASTOPEN);
	want(r, 5);
	set_int(r, s, SOL_TCP, TCP_FASTOPEN, -1);
	want(r, -EINVAL);
	set_int(r, s, SOL_TCP, TCP_FASTOPEN, 1000);
	want(r, 0);
	get_int(r, s, SOL_TCP, TCP_FASTOPEN);
	want(r, 100);
	bind_at(r, s, LOOPBACK, P(r, 1));
	listen_on(r, s, 8);
	want(r, 0);
	get_int(r, s, SOL_TCP, TCP_FASTOPEN);
	want(r, 100);
	set_int(r, s, SOL_TCP, TCP_FASTOPEN, 7);
	want(r, 0);
	get_int(r, s, SOL_TCP, TCP_FASTOPEN);
	want(r, 7);
	set_int(r, s, SOL_TCP, TCP_FASTOPEN_NO_COOKIE, 1);
	want(r, 0);
	get_int(r, s, SOL_TCP, TCP_FASTOPEN_NO_COOKIE);
	want(r, 1);
	set_int(r, s, SOL_TCP, TCP_FASTOPEN_NO_COOKIE, 2);
	want(r, -EINVAL);

	fo_sysctl(r, "fastopen", "1026");	/* 0x400 | TFO_SERVER_ENABLE */
	l = listener(r, P(r, 2), 16);
	get_int(r, l, SOL_TCP, TCP_FASTOPEN);
	want(r, 16);
	l2 = tsock(r);
	set_int(r, l2, SOL_TCP, TCP_FASTOPEN, 3);
	bind_at(r, l2, LOOPBACK, P(r, 3));
	listen_on(r, l2, 16);
	get_int(r, l2, SOL_TCP, TCP_FASTOPEN);
	want(r, 3);
	a = accepted_client(r, l, P(r, 2), &c);
	if (a < 0)
		return;
	get_int(r, a, SOL_TCP, TCP_FASTOPEN);
	want(r, 0);
	set_int(r, a, SOL_TCP, TCP_FASTOPEN, 1);
	want(r, -EINVAL);
	set_int(r, a, SOL_TCP, TCP_FASTOPEN_NO_COOKIE, 1);
	want(r, -EINVAL);
	fo_sysctl(r, "fastopen", "1024");	/* 0x400 alone */
	l3 = listener(r, P(r, 4), 16);
	get_int(r, l3, SOL_TCP, TCP_FASTOPEN);
	want(r, 0);
}

#define FO_ZERO_KEY	"00000000-00000000-00000000-00000000"

/* The namespace's Fast Open keys as the run's stack shows them. */
static const char *fo_key_path(struct run *r)
{
	return r->fam[0] == AF_INET ? "/proc/sys/net/ipv4/tcp_fastopen_key" :
				      "/proc/sys/net/xtcp/fastopen_key";
}

/* Whether the namespace's keys read back as @want (NULL: not as zeros). */
static void fo_key_is(struct run *r, const char *what, const char *want_str)
{
	char buf[128];

	if (read_file(fo_key_path(r), buf, sizeof(buf))) {
		rec(r, what, -errno);
		return;
	}
	rec(r, what, want_str ? !strcmp(buf, want_str) :
				!!strcmp(buf, FO_ZERO_KEY));
	want(r, 1);
}

/* getsockopt(TCP_FASTOPEN_KEY) at length @len: the length, the bytes. */
static void fo_get_key(struct run *r, int fd, socklen_t len,
		       const unsigned char *want_key)
{
	unsigned char buf[40];

	memset(buf, 0xa5, sizeof(buf));
	sys(r, "get key", getsockopt(fd, SOL_TCP, TCP_FASTOPEN_KEY, buf, &len));
	want(r, 0);
	rec(r, "key len", len);
	rec(r, "key bytes", !memcmp(buf, want_key, len));
	want(r, 1);
}

/*
 * TCP_FASTOPEN_KEY: 16 or 32 bytes (EINVAL else), on any socket; read
 * back only the socket's own (none: a length of 0), cut to the caller's
 * length.  net.ipv4.tcp_fastopen_key (xtcp: net.xtcp.fastopen_key):
 * zeros in a new namespace, a random key once a TCP_FASTOPEN needed
 * one; written as "%x-%x-%x-%x[,%x-%x-%x-%x]", read back zero-padded,
 * anything else EINVAL.
 */
PAIR_TEST(tcp_fastopen_key)
{
	static const unsigned char k[32] = "0123456789abcdefFEDCBA9876543210";
	const char *path = fo_key_path(r);
	int s, l, c, a;

	fo_key_is(r, "netns key zero", FO_ZERO_KEY);
	s = tsock(r);
	fo_get_key(r, s, 32, k);
	sys(r, "set key 20", setsockopt(s, SOL_TCP, TCP_FASTOPEN_KEY, k, 20));
	want(r, -EINVAL);
	sys(r, "set key 16", setsockopt(s, SOL_TCP, TCP_FASTOPEN_KEY, k, 16));
	want(r, 0);
	fo_get_key(r, s, 32, k);
	fo_get_key(r, s, 8, k);
	sys(r, "set key 32", setsockopt(s, SOL_TCP, TCP_FASTOPEN_KEY, k, 32));
	want(r, 0);
	fo_get_key(r, s, 40, k);
	fo_key_is(r, "netns key still zero", FO_ZERO_KEY);
	l = listener(r, P(r, 1), 8);
	set_int(r, l, SOL_TCP, TCP_FASTOPEN, 4);
	want(r, 0);
	fo_key_is(r, "netns key random", NULL);
	fo_get_key(r, l, 32, k);
	sys(r, "set key 32 listener",
	    setsockopt(l, SOL_TCP, TCP_FASTOPEN_KEY, k, 32));
	want(r, 0);
	a = accepted_client(r, l, P(r, 1), &c);
	if (a < 0)
		return;
	fo_get_key(r, a, 32, k);
	sys(r, "set key conn", setsockopt(a, SOL_TCP, TCP_FASTOPEN_KEY, k, 16));
	want(r, 0);
	fo_get_key(r, a, 32, k);

	sys(r, "write key", write_file(path, "1-2-3-4"));
	want(r, 0);
	fo_key_is(r, "key read back",
		  "00000001-00000002-00000003-00000004");
	sys(r, "write keys", write_file(path, "a-b-c-d,deadbeef-0-1-ffffffff"));
	want(r, 0);
	fo_key_is(r, "keys read back", "0000000a-0000000b-0000000c-0000000d,"
		  "deadbeef-00000000-00000001-ffffffff");
	sys(r, "write bad key", write_file(path, "1-2-3"));
	want(r, -EINVAL);
	sys(r, "write bad backup", write_file(path, "1-2-3-4,xyz"));
	want(r, -EINVAL);
	fo_key_is(r, "keys kept", "0000000a-0000000b-0000000c-0000000d,"
		  "deadbeef-00000000-00000001-ffffffff");
}

/*
 * TCP_SAVE_SYN on the listener: the child reads the SYN's IP and TCP
 * headers once with TCP_SAVED_SYN (too short a buffer: EINVAL and the
 * length it needs), then nothing; with 2, the MAC header comes first
 * (14 zero bytes on lo).  Without it, nothing to read.
 */
PAIR_TEST(tcp_save_syn)
{
	unsigned char buf[256];
	int l, c, a, mode;
	socklen_t len;

	for (mode = 0; mode <= 2; mode++) {
		l = tsock(r);
		set_int(r, l, SOL_TCP, TCP_SAVE_SYN, mode);
		want(r, 0);
		bind_at(r, l, LOOPBACK, P(r, 1 + mode));
		listen_on(r, l, 8);
		a = accepted_client(r, l, P(r, 1 + mode), &c);
		if (a < 0)
			return;
		get_int(r, a, SOL_TCP, TCP_SAVE_SYN);
		want(r, mode);
		len = 8;
		sys(r, "saved short", getsockopt(a, SOL_TCP, TCP_SAVED_SYN,
						 buf, &len));
		want(r, mode ? -EINVAL : 0);
		rec(r, "needed", len);
		len = sizeof(buf);
		memset(buf, 0xa5, sizeof(buf));
		sys(r, "saved", getsockopt(a, SOL_TCP, TCP_SAVED_SYN, buf,
					   &len));
		want(r, 0);
		rec(r, "len", len);
		if (len >= (mode == 2 ? 14u : 0u) + 40) {
			unsigned char *ip = buf + (mode == 2 ? 14 : 0);

			rec(r, "mac zero", mode == 2 &&
			    !memcmp(buf, "\0\0\0\0\0\0\0\0\0\0\0\0", 12));
			rec(r, "ip vhl", ip[0]);
			rec(r, "ip proto", ip[9]);
			rec(r, "tcp dport", rel_port(r, ip[22] << 8 | ip[23]));
			rec(r, "tcp flags", ip[33]);
		}
		len = sizeof(buf);
		sys(r, "saved again", getsockopt(a, SOL_TCP, TCP_SAVED_SYN,
						 buf, &len));
		rec(r, "len again", len);
		want(r, 0);
		drop(r, a);
		drop(r, c);
		drop(r, l);
	}
}

/*
 * 4 MiB through the receive window: the reader drains, the window
 * reopens (the ACKs of tcp_cleanup_rbuf()), everything arrives in order.
 */
PAIR_TEST(recv_bulk)
{
	static unsigned char out[1 << 16], in[1 << 16];
	int l = listener(r, P(r, 1), 8), c, a;
	long sent = 0, got = 0, bad = 0, total = 4L << 20;
	struct pollfd pfd[2];
	int i, n;

	a = accepted_client(r, l, P(r, 1), &c);
	if (a < 0)
		return;
	for (i = 0; i < (int)sizeof(out); i++)
		out[i] = (unsigned char)(i * 7 + i / 251);
	fcntl(c, F_SETFL, O_NONBLOCK);
	pfd[0] = (struct pollfd){ .fd = c, .events = POLLOUT };
	pfd[1] = (struct pollfd){ .fd = a, .events = POLLIN };
	while (got < total && poll(pfd, 2, 5000) > 0) {
		if (sent < total && (pfd[0].revents & POLLOUT)) {
			n = send(c, out + sent % sizeof(out),
				 sizeof(out) - sent % sizeof(out), 0);
			if (n > 0)
				sent += n;
		}
		if (sent >= total)
			pfd[0].events = 0;
		if (!(pfd[1].revents & POLLIN))
			continue;
		n = recv(a, in, sizeof(in), MSG_DONTWAIT);
		if (n <= 0)
			break;
		for (i = 0; i < n; i++)
			bad += in[i] != out[(got + i) % sizeof(out)];
		got += n;
	}
	rec(r, "received", got);
	want(r, total);
	rec(r, "corrupt", bad);
	want(r, 0);
}

PAIR_TEST(accept4_flags)
{
	int l = listener(r, P(r, 1), 8), a;

	rec(r, "client", client(r, P(r, 1), 2000));
	want(r, 1);
	a = accept_wait(r, l, SOCK_NONBLOCK | SOCK_CLOEXEC, 2000);
	want(r, 0);
	rec(r, "O_NONBLOCK", a >= 0 && (fcntl(a, F_GETFL) & O_NONBLOCK));
	want(r, 1);
	rec(r, "FD_CLOEXEC", a >= 0 && (fcntl(a, F_GETFD) & FD_CLOEXEC));
	want(r, 1);
	sys(r, "accept4", accept4(l, NULL, NULL, 0x4000000));
	want(r, -EINVAL);
}

PAIR_TEST(poll_listener)
{
	struct pollfd pfd = { .events = POLLIN | POLLOUT };
	int l = listener(r, P(r, 1), 8);

	pfd.fd = l;
	sys(r, "poll", poll(&pfd, 1, 0));
	want(r, 0);
	rec(r, "client", client(r, P(r, 1), 2000));
	want(r, 1);
	sys(r, "poll", poll(&pfd, 1, 2000));
	want(r, 1);
	rec(r, "revents", pfd.revents);
	want(r, POLLIN);
}

/* __inet_stream_connect(): SS_UNCONNECTED but not TCP_CLOSE -> -EISCONN. */
PAIR_TEST(connect_on_listener)
{
	struct sockaddr_in sin = sin4(LOOPBACK, P(r, 2));
	int l = listener(r, P(r, 1), 8);

	sys(r, "connect", connect(l, (struct sockaddr *)&sin, sizeof(sin)));
	want(r, -EISCONN);
	get_int(r, l, SOL_SOCKET, SO_ACCEPTCONN);
	want(r, 1);
}

/* connect(AF_UNSPEC) disconnects: tcp_disconnect() stops the listener. */
PAIR_TEST(connect_unspec_on_listener)
{
	struct sockaddr_in sin = sin4(ANY, 0);
	int l = listener(r, P(r, 1), 8);

	sin.sin_family = AF_UNSPEC;
	sys(r, "connect", connect(l, (struct sockaddr *)&sin, sizeof(sin)));
	want(r, 0);
	get_int(r, l, SOL_SOCKET, SO_ACCEPTCONN);
	want(r, 0);
	sys(r, "accept", accept(l, NULL, NULL));
	want(r, -EINVAL);
	name_of(r, l);
	listen_on(r, l, 8);
	want(r, 0);
}

/* inet_shutdown() on TCP_CLOSE: -ENOTCONN. */
PAIR_TEST(shutdown_unconnected)
{
	int fd = tsock(r);

	sys(r, "shutdown", shutdown(fd, SHUT_RDWR));
	want(r, -ENOTCONN);
	bind_at(r, fd, LOOPBACK, P(r, 1));
	sys(r, "shutdown", shutdown(fd, SHUT_RD));
	want(r, -ENOTCONN);
}

/* On TCP_LISTEN, a shutdown with RCV_SHUTDOWN disconnects the listener. */
PAIR_TEST(shutdown_rd_listener)
{
	int l = listener(r, P(r, 1), 8);

	sys(r, "shutdown", shutdown(l, SHUT_RD));
	want(r, 0);
	get_int(r, l, SOL_SOCKET, SO_ACCEPTCONN);
	want(r, 0);
	sys(r, "accept", accept(l, NULL, NULL));
	want(r, -EINVAL);
}

/* ... and SHUT_WR alone leaves it listening. */
PAIR_TEST(shutdown_wr_listener)
{
	int l = listener(r, P(r, 1), 8);

	sys(r, "shutdown", shutdown(l, SHUT_WR));
	want(r, 0);
	get_int(r, l, SOL_SOCKET, SO_ACCEPTCONN);
	want(r, 1);
	rec(r, "client", client(r, P(r, 1), 2000));
	want(r, 1);
}

PAIR_TEST(shutdown_bad_how)
{
	int l = listener(r, P(r, 1), 8);

	sys(r, "shutdown", shutdown(l, 3));
	want(r, -EINVAL);
	sys(r, "shutdown", shutdown(l, -1));
	want(r, -EINVAL);
}

/* ==== disconnect(): SO_ERROR, poll() and the name after it ============ */

/*
 * shutdown(SHUT_RD) on a listener and connect(AF_UNSPEC) on any socket
 * call tcp_disconnect() (inet_shutdown(), __inet_stream_connect()).  It
 * sets sk_err only for a state that had a peer to reset (tcp_need_reset())
 * or TCP_SYN_SENT: a listener, a fresh or a bound socket gets none, so
 * SO_ERROR stays 0 and poll() shows no POLLERR, though sk_error_report()
 * runs.  What poll() shows is tcp_poll() on TCP_CLOSE with sk_shutdown
 * cleared: POLLHUP (closed) and POLLOUT (the stream is writeable).
 */
#define CLOSED_REVENTS	(POLLOUT | POLLHUP)

/* poll() without waiting; records the call and revents. */
static void poll_now(struct run *r, int fd)
{
	struct pollfd pfd = {
		.fd = fd,
		.events = POLLIN | POLLOUT | POLLPRI | POLLRDHUP,
	};

	sys(r, "poll", poll(&pfd, 1, 0));
	rec(r, "revents", pfd.revents);
}

static long connect_unspec(struct run *r, int fd)
{
	struct sockaddr_in sin = sin4(ANY, 0);

	sin.sin_family = AF_UNSPEC;
	return sys(r, "connect(UNSPEC)",
		   connect(fd, (struct sockaddr *)&sin, sizeof(sin)));
}

/* After a disconnect that had no peer: no error, before and after reading it. */
static void no_error_after_disconnect(struct run *r, int fd)
{
	poll_now(r, fd);
	want(r, CLOSED_REVENTS);
	get_int(r, fd, SOL_SOCKET, SO_ERROR);
	want(r, 0);
	poll_now(r, fd);
	want(r, CLOSED_REVENTS);
	get_int(r, fd, SOL_SOCKET, SO_ERROR);
	want(r, 0);
}

PAIR_TEST(disconnect_shutdown_rd_listener_error)
{
	int l = listener(r, P(r, 1), 8);

	sys(r, "shutdown", shutdown(l, SHUT_RD));
	want(r, 0);
	no_error_after_disconnect(r, l);
	/* and it can listen again, still without an error */
	listen_on(r, l, 8);
	want(r, 0);
	get_int(r, l, SOL_SOCKET, SO_ERROR);
	want(r, 0);
}

PAIR_TEST(disconnect_unspec_listener_error)
{
	int l = listener(r, P(r, 1), 8);

	connect_unspec(r, l);
	want(r, 0);
	no_error_after_disconnect(r, l);
	listen_on(r, l, 8);
	want(r, 0);
	get_int(r, l, SOL_SOCKET, SO_ERROR);
	want(r, 0);
}

/* A listener with a connection in its accept queue: the child is reset,
 * the listener itself still gets no error. */
PAIR_TEST(disconnect_shutdown_rd_listener_queued_error)
{
	int l = listener(r, P(r, 1), 8);

	rec(r, "client", client(r, P(r, 1), 2000));
	want(r, 1);
	sys(r, "shutdown", shutdown(l, SHUT_RD));
	want(r, 0);
	no_error_after_disconnect(r, l);
}

PAIR_TEST(disconnect_unspec_fresh_error)
{
	int fd = tsock(r);

	poll_now(r, fd);
	want(r, CLOSED_REVENTS);
	connect_unspec(r, fd);
	want(r, 0);
	no_error_after_disconnect(r, fd);
	name_of(r, fd);
}

PAIR_TEST(disconnect_unspec_bound_error)
{
	int fd = tsock(r), b;

	bind_at(r, fd, LOOPBACK, P(r, 1));
	want(r, 0);
	connect_unspec(r, fd);
	want(r, 0);
	no_error_after_disconnect(r, fd);
	/* bind() chose the port explicitly: it stays bound */
	name_of(r, fd);
	b = tsock(r);
	bind_at(r, b, LOOPBACK, P(r, 1));
	want(r, -EADDRINUSE);
}

/*
 * Bound to port 0 but not listening: the socket is already TCP_CLOSE, so
 * tcp_disconnect() does not call tcp_set_state(), which is what gives an
 * unlocked port back (inet_put_port()): the port stays bound and named.
 */
PAIR_TEST(disconnect_unspec_bound_port0_name)
{
	int fd = tsock(r), b;

	set_range(r, P(r, 20), P(r, 20));
	bind_at(r, fd, LOOPBACK, 0);
	want(r, 0);
	name_of(r, fd);
	connect_unspec(r, fd);
	want(r, 0);
	no_error_after_disconnect(r, fd);
	name_of(r, fd);
	b = tsock(r);
	bind_at(r, b, LOOPBACK, P(r, 20));
	want(r, -EADDRINUSE);
	listen_on(r, fd, 8);
	want(r, 0);
	name_of(r, fd);
}

/*
 * A listener whose port bind() did not choose explicitly (autobound by
 * listen(), or bind() to port 0) gives the port back on disconnect
 * (tcp_set_state(TCP_CLOSE) -> inet_put_port(), which clears inet_num
 * only): getsockname(), which reads inet_sport, still names the old port.
 * The port itself is free: another socket may bind it, and this one
 * takes a port again with listen() (the one-port range: the same one, or
 * -EADDRINUSE while the other socket holds it, the old name staying).
 */
static void disconnected_port_free(struct run *r, int l, bool by_shutdown)
{
	int b;

	if (by_shutdown)
		sys(r, "shutdown", shutdown(l, SHUT_RD));
	else
		connect_unspec(r, l);
	want(r, 0);
	name_of(r, l);
	get_int(r, l, SOL_SOCKET, SO_ACCEPTCONN);
	want(r, 0);
	b = tsock(r);
	bind_at(r, b, LOOPBACK, P(r, 20));
	want(r, 0);
	listen_on(r, l, 8);
	want(r, -EADDRINUSE);
	name_of(r, l);
	drop(r, b);
	listen_on(r, l, 8);
	want(r, 0);
	name_of(r, l);
	get_int(r, l, SOL_SOCKET, SO_ACCEPTCONN);
	want(r, 1);
	/* the client needs an ephemeral port of its own */
	set_range(r, P(r, 40), P(r, 60));
	rec(r, "client", client(r, P(r, 20), 2000));
	want(r, 1);
}

PAIR_TEST(disconnect_shutdown_rd_autobind_name)
{
	int l = tsock(r);

	set_range(r, P(r, 20), P(r, 20));
	listen_on(r, l, 8);
	want(r, 0);
	name_of(r, l);
	disconnected_port_free(r, l, true);
}

PAIR_TEST(disconnect_shutdown_rd_bind_port0_name)
{
	int l = tsock(r);

	set_range(r, P(r, 20), P(r, 20));
	bind_at(r, l, LOOPBACK, 0);
	want(r, 0);
	listen_on(r, l, 8);
	want(r, 0);
	name_of(r, l);
	disconnected_port_free(r, l, true);
}

PAIR_TEST(disconnect_unspec_autobind_name)
{
	int l = tsock(r);

	set_range(r, P(r, 20), P(r, 20));
	listen_on(r, l, 8);
	want(r, 0);
	name_of(r, l);
	disconnected_port_free(r, l, false);
}

PAIR_TEST(disconnect_unspec_bind_any_port0_name)
{
	int l = tsock(r);

	set_range(r, P(r, 20), P(r, 20));
	bind_at(r, l, ANY, 0);
	want(r, 0);
	listen_on(r, l, 8);
	want(r, 0);
	name_of(r, l);
	disconnected_port_free(r, l, false);
}

/* After the disconnect the port is gone (inet_num 0): bind() is allowed. */
PAIR_TEST(disconnect_shutdown_rd_autobind_rebind)
{
	int l = tsock(r);

	set_range(r, P(r, 20), P(r, 20));
	listen_on(r, l, 8);
	want(r, 0);
	sys(r, "shutdown", shutdown(l, SHUT_RD));
	want(r, 0);
	name_of(r, l);
	bind_at(r, l, LOOPBACK, P(r, 5));
	want(r, 0);
	name_of(r, l);
	listen_on(r, l, 8);
	want(r, 0);
	name_of(r, l);
	set_range(r, P(r, 40), P(r, 60));
	rec(r, "client", client(r, P(r, 5), 2000));
	want(r, 1);
}

/* Control: an explicitly bound port stays, name and all (SOCK_BINDPORT_LOCK). */
PAIR_TEST(disconnect_shutdown_rd_bound_name)
{
	int l = listener(r, P(r, 1), 8), b;

	sys(r, "shutdown", shutdown(l, SHUT_RD));
	want(r, 0);
	name_of(r, l);
	b = tsock(r);
	bind_at(r, b, LOOPBACK, P(r, 1));
	want(r, -EADDRINUSE);
	listen_on(r, l, 8);
	want(r, 0);
	name_of(r, l);
	rec(r, "client", client(r, P(r, 1), 2000));
	want(r, 1);
}

/* ==== socket options ================================================= */

PAIR_TEST(sockopt_reuseaddr)
{
	int fd = tsock(r);

	/* tcp's inetsw entry has no INET_PROTOSW_REUSE: 0 by default. */
	get_int(r, fd, SOL_SOCKET, SO_REUSEADDR);
	want(r, 0);
	set_int(r, fd, SOL_SOCKET, SO_REUSEADDR, 1);
	get_int(r, fd, SOL_SOCKET, SO_REUSEADDR);
	want(r, 1);
	set_int(r, fd, SOL_SOCKET, SO_REUSEADDR, 0);
	get_int(r, fd, SOL_SOCKET, SO_REUSEADDR);
	want(r, 0);
}

/*
 * SOL_IP options reach ip_setsockopt(), which on a connection-oriented
 * socket calls back into the protocol (IP_OPTIONS -> icsk_sync_mss);
 * SOL_TCP options are the protocol's own.
 */
PAIR_TEST(sockopt_ip_levels)
{
	static const unsigned char nops[4] = { 1, 1, 1, 0 };	/* NOP NOP NOP EOL */
	unsigned char got[40];
	socklen_t len = sizeof(got);
	int fd = listener(r, P(r, 1), 8);

	sys(r, "IP_OPTIONS", setsockopt(fd, SOL_IP, IP_OPTIONS, nops,
					sizeof(nops)));
	want(r, 0);
	sys(r, "get IP_OPTIONS", getsockopt(fd, SOL_IP, IP_OPTIONS, got, &len));
	want(r, 0);
	rec(r, "IP_OPTIONS len", len);
	want(r, sizeof(nops));
	set_int(r, fd, SOL_IP, IP_TOS, 0x10);
	want(r, 0);
	get_int(r, fd, SOL_IP, IP_TOS);
	want(r, 0x10);
	set_int(r, fd, SOL_IP, 9999, 1);	/* unknown SOL_IP option */
	want(r, -ENOPROTOOPT);
	set_int(r, fd, SOL_SOCKET + 1000, 1, 1);	/* unknown level */
	want(r, -ENOPROTOOPT);
}

PAIR_TEST(sockopt_reuseport)
{
	int fd = tsock(r);

	get_int(r, fd, SOL_SOCKET, SO_REUSEPORT);
	want(r, 0);
	set_int(r, fd, SOL_SOCKET, SO_REUSEPORT, 1);
	want(r, 0);
	get_int(r, fd, SOL_SOCKET, SO_REUSEPORT);
	want(r, 1);
}

PAIR_TEST(sockopt_acceptconn)
{
	int fd = tsock(r);

	get_int(r, fd, SOL_SOCKET, SO_ACCEPTCONN);
	want(r, 0);
	bind_at(r, fd, LOOPBACK, P(r, 1));
	get_int(r, fd, SOL_SOCKET, SO_ACCEPTCONN);
	want(r, 0);
	listen_on(r, fd, 8);
	get_int(r, fd, SOL_SOCKET, SO_ACCEPTCONN);
	want(r, 1);
	get_int(r, fd, SOL_SOCKET, SO_TYPE);
	want(r, SOCK_STREAM);
	get_int(r, fd, SOL_SOCKET, SO_PROTOCOL);
	want(r, IPPROTO_TCP);
	get_int(r, fd, SOL_SOCKET, SO_ERROR);
	want(r, 0);
}

/* ==== cross-stack: both stacks share one port space per netns ========== */

CROSS_TEST(cross_bind_same_port)
{
	int a = sock_of(r, 0), b = sock_of(r, 1);

	bind_at(r, a, LOOPBACK, P(r, 1));
	want(r, 0);
	bind_at(r, b, LOOPBACK, P(r, 1));
	want(r, -EADDRINUSE);
	bind_at(r, b, LOOPBACK, P(r, 2));
	want(r, 0);
}

CROSS_TEST(cross_any_then_loopback)
{
	int a = sock_of(r, 0), b = sock_of(r, 1);

	bind_at(r, a, ANY, P(r, 1));
	want(r, 0);
	bind_at(r, b, LOOPBACK, P(r, 1));
	want(r, -EADDRINUSE);
}

CROSS_TEST(cross_loopback_then_any)
{
	int a = sock_of(r, 0), b = sock_of(r, 1);

	bind_at(r, a, LOOPBACK, P(r, 1));
	want(r, 0);
	bind_at(r, b, ANY, P(r, 1));
	want(r, -EADDRINUSE);
}

CROSS_TEST(cross_listener_then_bind)
{
	int a = sock_of(r, 0), b = sock_of(r, 1);

	bind_at(r, a, LOOPBACK, P(r, 1));
	listen_on(r, a, 8);
	want(r, 0);
	bind_at(r, b, LOOPBACK, P(r, 1));
	want(r, -EADDRINUSE);
}

/*
 * SO_REUSEPORT owners are compared by sock_i_uid(), the uid of whoever
 * created the socket, not of whoever binds it: a socket created by root
 * and bound after seteuid(NOBODY) is root's, and a NOBODY socket of
 * either stack may not join it.  For an xtcp socket that is its fence's
 * owner in stock's table too.
 */
CROSS_TEST(cross_reuseport_bind_after_setuid)
{
	int a = sock_of(r, 0), b;

	set_int(r, a, SOL_SOCKET, SO_REUSEPORT, 1);
	as_uid(r, NOBODY);
	bind_at(r, a, LOOPBACK, P(r, 1));
	want(r, 0);
	b = sock_of(r, 1);
	set_int(r, b, SOL_SOCKET, SO_REUSEPORT, 1);
	bind_at(r, b, LOOPBACK, P(r, 1));
	want(r, -EADDRINUSE);
	as_uid(r, 0);
}

/* Closing the holder releases the port for the other stack too. */
CROSS_TEST(cross_close_then_bind)
{
	int a = sock_of(r, 0), b;

	bind_at(r, a, LOOPBACK, P(r, 1));
	listen_on(r, a, 8);
	want(r, 0);
	drop(r, a);
	b = sock_of(r, 1);
	bind_at(r, b, LOOPBACK, P(r, 1));
	want(r, 0);
	listen_on(r, b, 8);
	want(r, 0);
}

/*
 * An accepted connection keeps its port busy after its listener closed:
 * it stays in the port's bind bucket (__inet_inherit_port()) until it is
 * destroyed, so a bind() without SO_REUSEADDR fails; aborted with
 * SO_LINGER {1, 0} (no FIN_WAIT, no TIME_WAIT), it frees the port.
 */
CROSS_TEST(cross_child_keeps_port)
{
	int l = sock_of(r, 0), c, a, b;

	bind_at(r, l, LOOPBACK, P(r, 1));
	listen_on(r, l, 8);
	want(r, 0);
	a = accepted_client(r, l, P(r, 1), &c);
	if (a < 0)
		return;
	drop(r, l);
	b = sock_of(r, 1);
	bind_at(r, b, LOOPBACK, P(r, 1));
	want(r, -EADDRINUSE);
	abort_fd(r, a);
	bind_at(r, b, LOOPBACK, P(r, 1));
	want(r, 0);
}

/*
 * A child of an autobound listener that its peer resets gives its port
 * back (tcp_done() -> tcp_set_state(TCP_CLOSE) -> inet_put_port(): no
 * SOCK_BINDPORT_LOCK), so it may bind() again, and then holds the new
 * port against the other stack.  (xtcp WARNed here once: the child still
 * pinned its listener's fence when bind() made it a fence of its own.)
 */
CROSS_TEST(cross_reset_child_binds_again)
{
	struct sockaddr_in sin;
	int l = sock_of(r, 0), c, a, b;

	listen_on(r, l, 8);
	want(r, 0);
	sys(r, "getsockname", sockname(l, &sin));
	want(r, 0);
	a = accepted_client(r, l, ntohs(sin.sin_port), &c);
	if (a < 0)
		return;
	abort_fd(r, c);
	usleep(100 * 1000);
	bind_at(r, a, LOOPBACK, P(r, 2));
	want(r, 0);
	b = sock_of(r, 1);
	bind_at(r, b, LOOPBACK, P(r, 2));
	want(r, -EADDRINUSE);
}

/* bind(0) in a one-port range whose port the other stack holds. */
CROSS_TEST(cross_port0_exhausted)
{
	int a = sock_of(r, 0), b = sock_of(r, 1);

	set_range(r, P(r, 10), P(r, 10));
	bind_at(r, a, LOOPBACK, P(r, 10));
	want(r, 0);
	bind_at(r, b, LOOPBACK, 0);
	want(r, -EADDRINUSE);
	listen_on(r, b, 8);
	want(r, -EADDRINUSE);
}

/*
 * An ephemeral connect() must not pick a port the other stack holds:
 * __inet_hash_connect() skips bind()-owned buckets, so with the only
 * port of the range held it fails with -EADDRNOTAVAIL.  The connecting
 * socket is always stock TCP (xtcp has no active open); the holder is
 * the run's first kind, and the target a stock listener outside the range.
 */
PAIR_TEST(cross_connect_skips_port)
{
	struct sockaddr_in dst = sin4(LOOPBACK, P(r, 30));
	int t, h, c;

	t = socket(AF_INET, SOCK_STREAM, 0);
	track(r, t);
	bind_at(r, t, LOOPBACK, P(r, 30));
	listen_on(r, t, 8);
	want(r, 0);
	h = tsock(r);
	bind_at(r, h, LOOPBACK, P(r, 10));
	listen_on(r, h, 8);
	want(r, 0);
	set_range(r, P(r, 10), P(r, 10));
	c = track(r, socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK, 0));
	sys(r, "connect", connect(c, (struct sockaddr *)&dst, sizeof(dst)));
	want(r, -EADDRNOTAVAIL);
	/* and with the holder gone the same connect gets that port */
	drop(r, h);
	c = track(r, socket(AF_INET, SOCK_STREAM, 0));
	sys(r, "connect", connect(c, (struct sockaddr *)&dst, sizeof(dst)));
	want(r, 0);
	chosen_port(r, c, false);
}

/* ==== main =========================================================== */

static int read_family(void)
{
	const char *env = getenv("BIND_LISTEN_FAMILY");
	char buf[32];

	if (env && *env)
		return atoi(env);
	if (!read_file("/sys/module/xtcp/parameters/family", buf, sizeof(buf)))
		return atoi(buf);
	return AF_XTCP;
}

int main(int argc, char **argv)
{
	int fd;

	if (geteuid() != 0)
		ksft_exit_skip("needs root: every case runs in its own network namespace\n");
	xtcp_family = read_family();
	fd = socket(xtcp_family, SOCK_STREAM, 0);
	if (fd < 0 && errno == EAFNOSUPPORT)
		ksft_exit_skip("AF_XTCP (family %d) is not available: socket(): %s; is xtcp.ko loaded?\n",
			       xtcp_family, strerror(errno));
	if (fd >= 0)
		close(fd);
	return test_harness_run(argc, argv);
}
