// SPDX-License-Identifier: GPL-2.0
/*
 * xtcp_stress: the socket loops of stress.sh (issue 6).  A listener that
 * keeps changing state, and stock TCP clients in several threads.
 *
 *   xtcp_stress server MODE [options]
 *	A listener on --addr:--port for --secs seconds (0: until SIGTERM or
 *	SIGINT), accepting connections in between.  Accepted connections
 *	are kept for a while, read from (nothing, some or all that waits,
 *	at random) and closed with SO_LINGER {1, 0}, or with --fin percent
 *	of them by a plain close(): the server's FIN goes first and, once
 *	the client closes too, the server's side ends in TIME-WAIT.
 *	--tfo QLEN gives every listener a Fast Open queue (TCP_FASTOPEN)
 *	and counts the accepted children that took their SYN's data
 *	(TCPI_OPT_SYN_DATA); --quick percent of accepted connections are
 *	closed at once, unread (a Fast Open child's SYN data makes that a
 *	RST, maybe before the third ACK is in).
 *	relisten  close(), socket(), bind() with SO_REUSEADDR, listen(),
 *		  then a random 0..--hold-ms of accept()s, again and again;
 *		  --lazy percent of the cycles accept nothing, so that the
 *		  accept queue fills up.
 *	shutrd    one socket: shutdown(SHUT_RD), listen() again, a random
 *		  0..--hold-ms of accept()s, again and again; a second thread
 *		  sits in a blocking accept() (SO_RCVTIMEO 100 ms) all along.
 *	hold      one listener; every accepted connection is kept for
 *		  --hold-ms, then checked (no pending error, no hang-up) and
 *		  closed.  With --ns the peer's source port tells its role
 *		  (see client): a "victim" found reset is reported.  After
 *		  the stop signal, whatever is still queued is accepted and
 *		  checked (--drain-ms).
 *	Prints "ready" once listening, and at exit one line
 *	"server mode=MODE name=value...".
 *
 *   xtcp_stress client [options]
 *	--threads threads of stock TCP clients connect to --addr:--port for
 *	--secs seconds; each attempt is one of the --mix patterns, chosen
 *	at random:
 *	rst     connect(), then close() with SO_LINGER {1, 0}: a RST whose
 *		sequence number is snd_nxt, exact for the server;
 *	synrst  non-blocking connect(), close() with SO_LINGER {1, 0} within
 *		0..2 ms: if the SYN-ACK is not in yet, the client's kernel
 *		answers it with a RST whose sequence number is the SYN-ACK's
 *		ACK, exact for the request sock; else as rst;
 *	fin     connect(), then a plain close();
 *	wait    connect(), then wait up to --wait-ms for the server's RST;
 *	data    connect(), send 1 B..128 KiB for up to 20 ms, then close()
 *		or close() with SO_LINGER {1, 0}, at random: the server's
 *		receive path meets the listener's own changes, its close()
 *		with unread data and its delayed-ACK timer;
 *	tfo     sendto(MSG_FASTOPEN) of 1..1000 bytes: in the SYN once the
 *		client's kernel has the server's cookie (the first attempts
 *		ask for it), then at random close() or close() with SO_LINGER
 *		{1, 0} within 0..2 ms (in SYN-SENT: the SYN-ACK is answered
 *		with a RST, the child made at SYN time meets it), or wait for
 *		the connection and go on as wait, rst or fin.
 *	With --sport BASE, the first --sport-threads threads bind source
 *	ports BASE + thread * --sport-span + (n % --sport-span) in turn and
 *	use rst or synrst only, which free the port at once.
 *	With --ns N as well (0 or 1), the roles are fixed by the port: a
 *	port whose number plus N is even is a "victim" (wait), odd an
 *	"aggressor" (rst or synrst).  Two client namespaces with N 0 and 1
 *	and identical addresses use the same 4-tuples with opposite roles
 *	at the same time, so an aggressor's RST that reached the other
 *	namespace would kill a victim there.
 *	Every wait is bounded (--connect-ms, --wait-ms).  A thread that has
 *	made no progress for --stall-ms is reported as stalled; one that has
 *	not returned 10 s after the waits' bound past the end, as hung.
 *	Prints one line "client name=value..." at exit.
 *
 * --family is inet, xtcp (the number in /sys/module/xtcp/parameters/
 * family, else AF_XTCP) or a number; clients are always AF_INET.
 * Exit status: 0 done, 1 setup error, stall or hung thread, 2 usage.
 */
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <errno.h>
#include <getopt.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <pthread.h>
#include <signal.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include <linux/xtcp.h>

#define MAX_THREADS	64
#define MAX_HELD	8192
#define JOIN_SLACK_MS	10000
#define MAX_REPORTS	10

enum { P_RST, P_SYNRST, P_FIN, P_WAIT, P_DATA, P_TFO, P_MAX };
static const char * const pattern_names[P_MAX] = {
	"rst", "synrst", "fin", "wait", "data", "tfo",
};

enum { ROLE_NONE, ROLE_VICTIM, ROLE_AGGRESSOR };

static struct {
	int family;
	struct in_addr addr;
	int port;
	long secs;
	int backlog;
	long hold_ms;
	int lazy;
	int fin;
	int tfo;
	int quick;
	long drain_ms;
	int threads;
	int mix[P_MAX];
	int nmix;
	int sport;
	int span;
	int sport_threads;
	int ns;
	long connect_ms;
	long wait_ms;
	long stall_ms;
} opt = {
	.family = AF_INET,
	.port = 0,
	.backlog = 128,
	.hold_ms = 20,
	.drain_ms = 1000,
	.threads = 4,
	.span = 64,
	.ns = -1,
	.connect_ms = 3000,
	.wait_ms = 5000,
	.stall_ms = 20000,
};

static volatile sig_atomic_t stop_requested;
static long deadline_ms;	/* 0: none */

static long now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec * 1000L + ts.tv_nsec / 1000000L;
}

static bool stopping(void)
{
	return stop_requested || (deadline_ms && now_ms() >= deadline_ms);
}

static void on_signal(int sig)
{
	(void)sig;
	stop_requested = 1;
}

/* SIGTERM and SIGINT stop the run; no SA_RESTART, so poll() returns. */
static void catch_signals(void)
{
	struct sigaction sa = { .sa_handler = on_signal };

	sigemptyset(&sa.sa_mask);
	sigaction(SIGTERM, &sa, NULL);
	sigaction(SIGINT, &sa, NULL);
	signal(SIGPIPE, SIG_IGN);
}

/* xorshift32: per-thread, no locks. */
static uint32_t rnd(uint32_t *s)
{
	uint32_t x = *s;

	x ^= x << 13;
	x ^= x >> 17;
	x ^= x << 5;
	return *s = x;
}

static uint32_t seed(int salt)
{
	uint32_t s = (uint32_t)now_ms() ^ ((uint32_t)getpid() << 8) ^
		     ((uint32_t)salt * 2654435761u);

	return s ? s : 1;
}

static void sleep_ms(long ms)
{
	struct timespec ts = { ms / 1000, (ms % 1000) * 1000000L };

	if (ms > 0)
		nanosleep(&ts, NULL);
}

static void close_rst(int fd)
{
	struct linger l = { .l_onoff = 1, .l_linger = 0 };

	setsockopt(fd, SOL_SOCKET, SO_LINGER, &l, sizeof(l));
	close(fd);
}

static int role_of(int port)
{
	if (opt.ns < 0)
		return ROLE_NONE;
	return ((port + opt.ns) & 1) ? ROLE_AGGRESSOR : ROLE_VICTIM;
}

/* Counters: one array per thread, summed and printed name=value. */
struct counters {
	const char * const *names;
	int n;
	unsigned long v[40];
};

static void counters_add(struct counters *to, const struct counters *from)
{
	int i;

	for (i = 0; i < to->n; i++)
		to->v[i] += from->v[i];
}

static void counters_print(const char *prefix, const struct counters *c)
{
	int i;

	printf("%s", prefix);
	for (i = 0; i < c->n; i++)
		printf(" %s=%lu", c->names[i], c->v[i]);
	printf("\n");
	fflush(stdout);
}

/* An error line on stderr, at most *@budget of them. */
static void report(int *budget, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));

static void report(int *budget, const char *fmt, ...)
{
	char line[256];
	va_list ap;

	if (*budget <= 0)
		return;
	(*budget)--;
	va_start(ap, fmt);
	vsnprintf(line, sizeof(line), fmt, ap);
	va_end(ap);
	fprintf(stderr, "%s\n", line);	/* one call: whole lines */
}

/* ---------------------------------------------------------------- server */

enum {
	S_CYCLES, S_ACCEPTED, S_SOCKET_FAIL, S_BIND_FAIL, S_LISTEN_FAIL,
	S_SHUTDOWN_FAIL, S_ACCEPT_EINVAL, S_ACCEPT_ERR, S_HELD_BAD,
	S_VICTIMS, S_VICTIMS_KILLED, S_AGGRESSORS, S_THREAD_ACCEPTED,
	S_READ_BYTES, S_FIN_CLOSED, S_TFO_FAIL, S_TFO_ACCEPTED, S_QUICK_CLOSED,
	S_MAX,
};

_Static_assert(S_MAX <= 40, "struct counters is too small");

static const char * const server_names[S_MAX] = {
	[S_CYCLES]		= "cycles",
	[S_ACCEPTED]		= "accepted",
	[S_SOCKET_FAIL]		= "socket_fail",
	[S_BIND_FAIL]		= "bind_fail",
	[S_LISTEN_FAIL]		= "listen_fail",
	[S_SHUTDOWN_FAIL]	= "shutdown_fail",
	[S_ACCEPT_EINVAL]	= "accept_einval",
	[S_ACCEPT_ERR]		= "accept_err",
	[S_HELD_BAD]		= "held_reset",
	[S_VICTIMS]		= "victims",
	[S_VICTIMS_KILLED]	= "victims_killed",
	[S_AGGRESSORS]		= "aggressors",
	[S_THREAD_ACCEPTED]	= "thread_accepted",
	[S_READ_BYTES]		= "read_bytes",
	[S_FIN_CLOSED]		= "fin_closed",
	[S_TFO_FAIL]		= "tfo_fail",
	[S_TFO_ACCEPTED]	= "tfo_accepted",
	[S_QUICK_CLOSED]	= "quick_closed",
};

struct held {
	int fd;
	int port;
	long t;
};

static struct held held[MAX_HELD];
static int nheld;
static struct counters srv = { .names = server_names, .n = S_MAX };
static uint32_t srv_seed = 2463534242u;
static int srv_budget = MAX_REPORTS;

/*
 * An accepted connection must still be up: no pending error, no
 * hang-up, nothing to read (the clients send nothing).  A victim found
 * otherwise was reset by someone else's RST.
 */
static bool healthy(int fd, int *err)
{
	struct pollfd p = { .fd = fd, .events = POLLIN | POLLRDHUP };
	socklen_t len = sizeof(*err);

	*err = 0;
	if (getsockopt(fd, SOL_SOCKET, SO_ERROR, err, &len))
		*err = errno;
	if (poll(&p, 1, 0) < 0)
		return false;
	return !*err && !(p.revents & (POLLIN | POLLERR | POLLHUP | POLLRDHUP));
}

/*
 * Read what a data client sent: nothing, one chunk or all that waits,
 * at random, so that close() finds unread data or none.
 */
static void read_some(int fd)
{
	static char buf[16384];
	int chunks = rnd(&srv_seed) % 3 ? 1 : 64;
	ssize_t n;

	if (rnd(&srv_seed) % 3 == 0)
		return;
	while (chunks-- > 0) {
		n = recv(fd, buf, sizeof(buf), MSG_DONTWAIT);
		if (n <= 0)
			return;
		srv.v[S_READ_BYTES] += n;
	}
}

static void held_close(int i)
{
	struct held *h = &held[i];
	int err;

	if (opt.ns >= 0 && !healthy(h->fd, &err)) {
		srv.v[S_HELD_BAD]++;
		if (role_of(h->port) == ROLE_VICTIM) {
			srv.v[S_VICTIMS_KILLED]++;
			report(&srv_budget,
			       "server: victim from port %d reset %ld ms after accept (%s)",
			       h->port, now_ms() - h->t,
			       err ? strerror(err) : "hang-up");
		}
	}
	read_some(h->fd);
	if ((int)(rnd(&srv_seed) % 100) < opt.fin) {
		srv.v[S_FIN_CLOSED]++;
		close(h->fd);
	} else {
		close_rst(h->fd);
	}
	held[i] = held[--nheld];
}

/* Close the held connections older than @age_ms (all if < 0). */
static void held_expire(long age_ms)
{
	long now = now_ms();
	int i;

	for (i = 0; i < nheld;) {
		if (age_ms < 0 || now - held[i].t >= age_ms)
			held_close(i);
		else
			i++;
	}
}

/* The child was made at SYN time and took the SYN's data (Fast Open). */
static bool syn_data_acked(int fd)
{
	struct tcp_info ti;
	socklen_t len = sizeof(ti);

	return !getsockopt(fd, IPPROTO_TCP, TCP_INFO, &ti, &len) &&
	       (ti.tcpi_options & TCPI_OPT_SYN_DATA);
}

/*
 * Take a connection: keep it, making room by closing the oldest.  With
 * --quick, that percent are closed at once, unread: a Fast Open child
 * whose third ACK is not in yet, its SYN's data unread, is reset.
 */
static void held_add(int fd, const struct sockaddr_in *peer)
{
	int i, oldest = 0;

	if (opt.tfo && syn_data_acked(fd))
		srv.v[S_TFO_ACCEPTED]++;
	if (opt.quick && (int)(rnd(&srv_seed) % 100) < opt.quick) {
		srv.v[S_QUICK_CLOSED]++;
		close(fd);
		return;
	}

	if (nheld == MAX_HELD) {
		for (i = 1; i < nheld; i++)
			if (held[i].t < held[oldest].t)
				oldest = i;
		held_close(oldest);
	}
	held[nheld].fd = fd;
	held[nheld].port = ntohs(peer->sin_port);
	held[nheld].t = now_ms();
	switch (role_of(held[nheld].port)) {
	case ROLE_VICTIM:
		srv.v[S_VICTIMS]++;
		break;
	case ROLE_AGGRESSOR:
		srv.v[S_AGGRESSORS]++;
		break;
	}
	nheld++;
}

/*
 * accept() whatever is queued on @lfd without waiting.  The listener
 * itself stays blocking (shutrd's second thread sleeps in accept()), so
 * each accept() follows a poll() that found the queue non-empty.
 */
static void accept_all(int lfd)
{
	struct pollfd p = { .fd = lfd, .events = POLLIN };
	struct sockaddr_in peer;
	socklen_t len;
	int fd;

	for (;;) {
		/* POLLHUP: not listening, accept() says EINVAL at once. */
		if (poll(&p, 1, 0) <= 0 || !(p.revents & (POLLIN | POLLHUP)))
			return;
		len = sizeof(peer);
		fd = accept4(lfd, (struct sockaddr *)&peer, &len,
			     SOCK_NONBLOCK | SOCK_CLOEXEC);
		if (fd >= 0) {
			srv.v[S_ACCEPTED]++;
			held_add(fd, &peer);
			continue;
		}
		if (errno == EAGAIN || errno == EINTR)
			return;
		if (errno == EINVAL) {	/* not listening (shutrd) */
			srv.v[S_ACCEPT_EINVAL]++;
			return;
		}
		if (errno == EMFILE || errno == ENFILE) {
			held_expire(-1);
			return;
		}
		srv.v[S_ACCEPT_ERR]++;
		report(&srv_budget, "server: accept: %s", strerror(errno));
		return;
	}
}

/*
 * Stay listening for @ms: accept as connections come (or, @lazy, leave
 * them queued), closing held connections older than --hold-ms.
 */
static void serve_for(int lfd, long ms, bool lazy)
{
	struct pollfd p = { .fd = lfd, .events = POLLIN };
	long end = now_ms() + ms, left;

	while (!stopping() && (left = end - now_ms()) > 0) {
		if (lazy) {
			sleep_ms(left);
			return;
		}
		if (left > 10)
			left = 10;
		if (poll(&p, 1, (int)left) > 0 && (p.revents & POLLIN))
			accept_all(lfd);
		held_expire(opt.hold_ms);
	}
}

static struct sockaddr_in server_sin(void)
{
	struct sockaddr_in sin = {
		.sin_family = AF_INET,
		.sin_port = htons(opt.port),
		.sin_addr = opt.addr,
	};

	return sin;
}

/* socket(), SO_REUSEADDR, bind(): the fd, or -1 counted. */
static int bound_socket(void)
{
	struct sockaddr_in sin = server_sin();
	int fd, one = 1;

	fd = socket(opt.family, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (fd < 0) {
		srv.v[S_SOCKET_FAIL]++;
		report(&srv_budget, "server: socket(%d): %s", opt.family,
		       strerror(errno));
		return -1;
	}
	if (setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one)))
		report(&srv_budget, "server: SO_REUSEADDR: %s", strerror(errno));
	if (opt.tfo && setsockopt(fd, IPPROTO_TCP, TCP_FASTOPEN, &opt.tfo,
				  sizeof(opt.tfo))) {
		srv.v[S_TFO_FAIL]++;
		report(&srv_budget, "server: TCP_FASTOPEN: %s", strerror(errno));
	}
	if (bind(fd, (struct sockaddr *)&sin, sizeof(sin))) {
		srv.v[S_BIND_FAIL]++;
		report(&srv_budget, "server: bind: %s", strerror(errno));
		close(fd);
		return -1;
	}
	return fd;
}

static void say_ready(void)
{
	static bool said;

	if (!said) {
		printf("ready\n");
		fflush(stdout);
		said = true;
	}
}

static int serve_relisten(void)
{
	uint32_t s = seed(1);
	int lfd;

	while (!stopping()) {
		lfd = bound_socket();
		if (lfd < 0) {
			if (srv.v[S_SOCKET_FAIL] > 100)
				return 1;
			sleep_ms(1);
			continue;
		}
		if (listen(lfd, opt.backlog)) {
			srv.v[S_LISTEN_FAIL]++;
			report(&srv_budget, "server: listen: %s", strerror(errno));
			close(lfd);
			sleep_ms(1);
			continue;
		}
		srv.v[S_CYCLES]++;
		say_ready();
		serve_for(lfd, rnd(&s) % (opt.hold_ms + 1),
			  (int)(rnd(&s) % 100) < opt.lazy);
		/* Children go before or after their listener, half and half. */
		if (rnd(&s) & 1)
			held_expire(-1);
		close(lfd);
	}
	held_expire(-1);
	return 0;
}

struct acceptor {
	int lfd;
	int budget;
	struct counters c;
};

/* shutrd's second thread: a blocking accept() that shutdown() wakes. */
static void *acceptor(void *arg)
{
	struct acceptor *a = arg;
	int fd;

	while (!stopping()) {
		fd = accept4(a->lfd, NULL, NULL, SOCK_CLOEXEC);
		if (fd >= 0) {
			a->c.v[S_THREAD_ACCEPTED]++;
			close_rst(fd);
		} else if (errno == EINVAL) {
			a->c.v[S_ACCEPT_EINVAL]++;
			usleep(200);
		} else if (errno != EAGAIN && errno != EINTR) {
			a->c.v[S_ACCEPT_ERR]++;
			report(&a->budget, "server: blocking accept: %s",
			       strerror(errno));
			usleep(1000);
		}
	}
	return NULL;
}

static int serve_shutrd(void)
{
	struct acceptor a = {
		.budget = MAX_REPORTS,
		.c = { .names = server_names, .n = S_MAX },
	};
	struct timeval tv = { .tv_usec = 100 * 1000 };
	uint32_t s = seed(2);
	pthread_t th;
	int lfd, i;

	for (i = 0; (lfd = bound_socket()) < 0; i++) {
		if (i >= 5000 || stopping())
			return 1;
		sleep_ms(1);
	}
	if (setsockopt(lfd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv)) ||
	    listen(lfd, opt.backlog)) {
		perror("server: SO_RCVTIMEO/listen");
		return 1;
	}
	srv.v[S_CYCLES]++;
	say_ready();
	a.lfd = lfd;
	if (pthread_create(&th, NULL, acceptor, &a)) {
		perror("server: pthread_create");
		return 1;
	}
	while (!stopping()) {
		serve_for(lfd, rnd(&s) % (opt.hold_ms + 1),
			  (int)(rnd(&s) % 100) < opt.lazy);
		if (shutdown(lfd, SHUT_RD)) {
			srv.v[S_SHUTDOWN_FAIL]++;
			report(&srv_budget, "server: shutdown(SHUT_RD): %s",
			       strerror(errno));
		}
		if (rnd(&s) & 1)
			held_expire(-1);
		if ((rnd(&s) & 3) == 0)
			accept_all(lfd);	/* EINVAL: not listening */
		usleep(rnd(&s) % 1000);	/* SYNs meet the closed port */
		while (listen(lfd, opt.backlog)) {
			srv.v[S_LISTEN_FAIL]++;
			report(&srv_budget, "server: listen after shutdown: %s",
			       strerror(errno));
			if (stopping())
				break;
			sleep_ms(1);
		}
		srv.v[S_CYCLES]++;
	}
	stop_requested = 1;
	pthread_join(th, NULL);
	counters_add(&srv, &a.c);
	srv.v[S_ACCEPTED] += a.c.v[S_THREAD_ACCEPTED];
	held_expire(-1);
	close(lfd);
	return 0;
}

static int serve_hold(void)
{
	long end;
	int lfd, i;

	for (i = 0; (lfd = bound_socket()) < 0; i++) {
		if (i >= 5000 || stopping())
			return 1;
		sleep_ms(1);
	}
	if (listen(lfd, opt.backlog)) {
		perror("server: listen");
		return 1;
	}
	srv.v[S_CYCLES]++;
	say_ready();
	while (!stopping())
		serve_for(lfd, 1000, false);
	/* What completed meanwhile is still ours: take it, check it. */
	end = now_ms() + opt.drain_ms;
	while (now_ms() < end) {
		accept_all(lfd);
		sleep_ms(10);
	}
	accept_all(lfd);
	held_expire(-1);
	close(lfd);
	return 0;
}

static int server_main(const char *mode)
{
	int rc;

	if (!strcmp(mode, "relisten"))
		rc = serve_relisten();
	else if (!strcmp(mode, "shutrd"))
		rc = serve_shutrd();
	else if (!strcmp(mode, "hold"))
		rc = serve_hold();
	else
		return 2;
	printf("server mode=%s", mode);
	counters_print("", &srv);
	return rc;
}

/* ---------------------------------------------------------------- client */

enum {
	C_ATTEMPTS, C_CONNECTED, C_REFUSED, C_TIMEOUT, C_RESET, C_OTHER,
	C_SOCKET_FAIL, C_BIND_FAIL, C_RST, C_FIN, C_SYNRST, C_SYNRST_EST,
	C_WAIT, C_WAIT_RESET, C_WAIT_EOF, C_WAIT_TIMEOUT, C_WAIT_OTHER,
	C_DATA, C_DATA_BYTES,
	C_VICTIMS, C_VICTIMS_CONNECTED, C_VICTIMS_RESET, C_VICTIMS_BAD,
	C_VICTIMS_RESET_IN_CONNECT, C_AGGRESSORS, C_AGGRESSORS_CONNECTED, C_AGGRESSORS_SYNRST,
	C_TFO, C_TFO_SYN_DATA, C_TFO_COOKIE_REQ, C_TFO_EARLY,
	C_MAX_GAP_MS, C_MAX,
};

_Static_assert(C_MAX <= 40, "struct counters is too small");

static const char * const client_names[C_MAX] = {
	[C_ATTEMPTS]		= "attempts",
	[C_CONNECTED]		= "connected",
	[C_REFUSED]		= "refused",
	[C_TIMEOUT]		= "timeout",
	[C_RESET]		= "reset_in_connect",
	[C_OTHER]		= "connect_other",
	[C_SOCKET_FAIL]		= "socket_fail",
	[C_BIND_FAIL]		= "bind_fail",
	[C_RST]			= "rst",
	[C_FIN]			= "fin",
	[C_SYNRST]		= "synrst",
	[C_SYNRST_EST]		= "synrst_established",
	[C_WAIT]		= "wait",
	[C_WAIT_RESET]		= "wait_reset",
	[C_WAIT_EOF]		= "wait_eof",
	[C_WAIT_TIMEOUT]	= "wait_timeout",
	[C_WAIT_OTHER]		= "wait_other",
	[C_DATA]		= "data",
	[C_DATA_BYTES]		= "data_bytes",
	[C_VICTIMS]		= "victims",
	[C_VICTIMS_CONNECTED]	= "victims_connected",
	[C_VICTIMS_RESET]	= "victims_reset",
	[C_VICTIMS_BAD]		= "victims_bad",
	[C_VICTIMS_RESET_IN_CONNECT] = "victims_reset_in_connect",
	[C_AGGRESSORS]		= "aggressors",
	[C_AGGRESSORS_CONNECTED] = "aggressors_connected",
	[C_AGGRESSORS_SYNRST]	= "aggressors_synrst",
	[C_TFO]			= "tfo",
	[C_TFO_SYN_DATA]	= "tfo_syn_data",
	[C_TFO_COOKIE_REQ]	= "tfo_cookie_req",
	[C_TFO_EARLY]		= "tfo_early_close",
	[C_MAX_GAP_MS]		= "max_gap_ms",
};

struct cthread {
	pthread_t th;
	int idx;
	uint32_t seed;
	long last;	/* monotonic ms of the last attempt's end (atomic) */
	bool stalled;
	int budget;
	struct counters c;
};

static struct cthread cts[MAX_THREADS];

/* A connect() in progress, waited for up to @ms: 0 or an errno. */
static int connect_poll(int fd, long ms)
{
	struct pollfd p = { .fd = fd, .events = POLLOUT };
	socklen_t len = sizeof(int);
	int err, n;

	do {
		n = poll(&p, 1, (int)ms);
	} while (n < 0 && errno == EINTR);
	if (n == 0)
		return ETIMEDOUT;
	if (n < 0)
		return errno;
	if (getsockopt(fd, SOL_SOCKET, SO_ERROR, &err, &len))
		return errno;
	return err;
}

/* Non-blocking connect() with a bounded wait: 0 or an errno. */
static int connect_wait(int fd, const struct sockaddr_in *sin, long ms)
{
	if (!connect(fd, (const struct sockaddr *)sin, sizeof(*sin)))
		return 0;
	if (errno != EINPROGRESS)
		return errno;
	return connect_poll(fd, ms);
}

/*
 * A Fast Open connect: sendto(MSG_FASTOPEN) of 1..1000 bytes sends them
 * in the SYN if the client's kernel has a cookie for the server (the
 * call returns what it took), else a SYN with a cookie request and the
 * data after the handshake (EINPROGRESS).  0 or an errno.
 */
static int tfo_sendto(struct cthread *ct, int fd, const struct sockaddr_in *sin)
{
	static const char buf[1000];
	size_t len = 1 + rnd(&ct->seed) % sizeof(buf);
	ssize_t n;

	n = sendto(fd, buf, len, MSG_FASTOPEN | MSG_NOSIGNAL,
		   (const struct sockaddr *)sin, sizeof(*sin));
	if (n > 0) {
		ct->c.v[C_TFO_SYN_DATA]++;
		ct->c.v[C_DATA_BYTES] += n;
		return 0;
	}
	if (n < 0 && errno == EINPROGRESS) {
		ct->c.v[C_TFO_COOKIE_REQ]++;
		return 0;
	}
	return n < 0 ? errno : EIO;
}

static int tcp_state(int fd)
{
	struct tcp_info ti;
	socklen_t len = sizeof(ti);

	if (getsockopt(fd, IPPROTO_TCP, TCP_INFO, &ti, &len))
		return -1;
	return ti.tcpi_state;
}

/* Wait for the server's RST: one of C_WAIT_*. */
static int wait_reset(struct cthread *ct, int fd)
{
	struct pollfd p = { .fd = fd, .events = POLLIN | POLLRDHUP };
	char c;
	ssize_t r;
	int n;

	do {
		n = poll(&p, 1, (int)opt.wait_ms);
	} while (n < 0 && errno == EINTR);
	if (n == 0)
		return C_WAIT_TIMEOUT;
	r = recv(fd, &c, 1, MSG_DONTWAIT);
	if (r < 0 && errno == ECONNRESET)
		return C_WAIT_RESET;
	if (r == 0)
		return C_WAIT_EOF;
	report(&ct->budget, "client: after connect: recv %zd: %s", r,
	       r < 0 ? strerror(errno) : "data");
	return C_WAIT_OTHER;
}

/* The data pattern: a burst of 1 B..128 KiB within 20 ms, then a close. */
static void send_burst(struct cthread *ct, int fd)
{
	static const char buf[16384];
	long left = 1 + rnd(&ct->seed) % (128 * 1024);
	long deadline = now_ms() + 20;
	struct pollfd p = { .fd = fd, .events = POLLOUT };
	ssize_t n;

	ct->c.v[C_DATA]++;
	while (left > 0 && now_ms() < deadline) {
		size_t len = left < (long)sizeof(buf) ? (size_t)left :
							sizeof(buf);

		n = send(fd, buf, len, MSG_DONTWAIT | MSG_NOSIGNAL);
		if (n > 0) {
			left -= n;
			ct->c.v[C_DATA_BYTES] += n;
		} else if (n < 0 && errno == EAGAIN) {
			poll(&p, 1, 5);
		} else {
			break;
		}
	}
	if (rnd(&ct->seed) & 1)
		close(fd);
	else
		close_rst(fd);
}

static void attempt(struct cthread *ct, int pattern, int port, int role)
{
	unsigned long *v = ct->c.v;
	struct sockaddr_in sin = server_sin();
	int fd, err, one = 1, w;

	v[C_ATTEMPTS]++;
	fd = socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	if (fd < 0) {
		v[C_SOCKET_FAIL]++;
		report(&ct->budget, "client: socket: %s", strerror(errno));
		sleep_ms(10);
		return;
	}
	if (port) {
		struct sockaddr_in me = {
			.sin_family = AF_INET,
			.sin_port = htons(port),
		};

		setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
		if (bind(fd, (struct sockaddr *)&me, sizeof(me))) {
			v[C_BIND_FAIL]++;
			close(fd);
			return;
		}
	}
	if (role == ROLE_VICTIM)
		v[C_VICTIMS]++;
	else if (role == ROLE_AGGRESSOR)
		v[C_AGGRESSORS]++;

	if (pattern == P_SYNRST) {
		v[C_SYNRST]++;
		if (role == ROLE_AGGRESSOR)
			v[C_AGGRESSORS_SYNRST]++;
		if (connect(fd, (struct sockaddr *)&sin, sizeof(sin)) &&
		    errno != EINPROGRESS) {
			err = errno;
			v[err == ECONNREFUSED ? C_REFUSED : C_OTHER]++;
		} else {
			usleep(rnd(&ct->seed) % 2000);
			if (tcp_state(fd) == TCP_ESTABLISHED)
				v[C_SYNRST_EST]++;
		}
		close_rst(fd);
		return;
	}

	if (pattern == P_TFO) {
		/*
		 * Half close at once, in SYN-SENT (no RST: the SYN-ACK
		 * then meets no socket and the client's kernel answers it
		 * with a RST, before or instead of the third ACK) or just
		 * after it (a RST or FIN from ESTABLISHED); half wait for
		 * the connection, then as wait, rst or fin.
		 */
		w = rnd(&ct->seed) % 4;
		v[C_TFO]++;
		err = tfo_sendto(ct, fd, &sin);
		if (!err && w < 2) {
			v[C_TFO_EARLY]++;
			usleep(rnd(&ct->seed) % 2000);
			if (tcp_state(fd) == TCP_ESTABLISHED)
				v[C_SYNRST_EST]++;
			if (w == 0)
				close_rst(fd);
			else
				close(fd);
			return;
		}
		if (!err)
			err = connect_poll(fd, opt.connect_ms);
		pattern = w == 2 ? P_WAIT : rnd(&ct->seed) & 1 ? P_RST : P_FIN;
	} else {
		err = connect_wait(fd, &sin, opt.connect_ms);
	}
	switch (err) {
	case 0:
		v[C_CONNECTED]++;
		break;
	case ECONNREFUSED:
		v[C_REFUSED]++;
		break;
	case ETIMEDOUT:
		v[C_TIMEOUT]++;
		break;
	case ECONNRESET:
		v[C_RESET]++;
		/*
		 * Under emulation the thread may see the connection only
		 * after its server's RST (50 ms after accept()): the server
		 * counts such a victim, so it is counted here too.
		 */
		if (role == ROLE_VICTIM)
			v[C_VICTIMS_RESET_IN_CONNECT]++;
		break;
	default:
		v[C_OTHER]++;
		report(&ct->budget, "client: connect: %s", strerror(err));
	}
	if (err) {
		close_rst(fd);
		return;
	}
	if (role == ROLE_VICTIM)
		v[C_VICTIMS_CONNECTED]++;
	else if (role == ROLE_AGGRESSOR)
		v[C_AGGRESSORS_CONNECTED]++;

	switch (pattern) {
	case P_RST:
		v[C_RST]++;
		close_rst(fd);
		break;
	case P_FIN:
		v[C_FIN]++;
		close(fd);
		break;
	case P_DATA:
		send_burst(ct, fd);
		break;
	case P_WAIT:
		v[C_WAIT]++;
		w = wait_reset(ct, fd);
		v[w]++;
		if (role == ROLE_VICTIM) {
			if (w == C_WAIT_RESET) {
				v[C_VICTIMS_RESET]++;
			} else {
				v[C_VICTIMS_BAD]++;
				report(&ct->budget,
				       "client: victim port %d: %s", port,
				       w == C_WAIT_TIMEOUT ?
				       "no RST from its server" :
				       "not ended by a RST");
			}
		}
		close_rst(fd);
		break;
	}
}

static void *client_thread(void *arg)
{
	struct cthread *ct = arg;
	unsigned long n = 0;
	int port, pattern, role;
	long now, gap;

	__atomic_store_n(&ct->last, now_ms(), __ATOMIC_RELAXED);
	while (!stopping()) {
		port = 0;
		role = ROLE_NONE;
		pattern = opt.mix[rnd(&ct->seed) % opt.nmix];
		if (opt.sport && ct->idx < opt.sport_threads) {
			port = opt.sport + ct->idx * opt.span + n % opt.span;
			role = role_of(port);
			/* A port is busy until its connection is reset. */
			if (role == ROLE_VICTIM)
				pattern = P_WAIT;
			else
				pattern = rnd(&ct->seed) & 1 ? P_RST : P_SYNRST;
		}
		n++;
		attempt(ct, pattern, port, role);
		now = now_ms();
		gap = now - __atomic_load_n(&ct->last, __ATOMIC_RELAXED);
		if ((unsigned long)gap > ct->c.v[C_MAX_GAP_MS])
			ct->c.v[C_MAX_GAP_MS] = gap;
		__atomic_store_n(&ct->last, now, __ATOMIC_RELAXED);
	}
	return NULL;
}

static int client_main(void)
{
	struct counters sum = { .names = client_names, .n = C_MAX };
	int i, hung = 0, stalls = 0, started = 0;
	long join_by, now;

	for (i = 0; i < opt.threads; i++) {
		cts[i].idx = i;
		cts[i].seed = seed(100 + i);
		cts[i].budget = MAX_REPORTS / 2;
		cts[i].c.names = client_names;
		cts[i].c.n = C_MAX;
		cts[i].last = now_ms();
		if (pthread_create(&cts[i].th, NULL, client_thread, &cts[i])) {
			perror("client: pthread_create");
			break;
		}
		started++;
	}
	/* Watch for threads that stop making progress. */
	while (!stopping()) {
		sleep_ms(200);
		now = now_ms();
		for (i = 0; i < started; i++) {
			long last = __atomic_load_n(&cts[i].last, __ATOMIC_RELAXED);

			if (!cts[i].stalled && now - last > opt.stall_ms) {
				cts[i].stalled = true;
				stalls++;
				fprintf(stderr,
					"client: thread %d: no progress for %ld ms\n",
					i, now - last);
			}
		}
	}
	stop_requested = 1;
	join_by = now_ms() + opt.connect_ms + opt.wait_ms + JOIN_SLACK_MS;
	for (i = 0; i < started; i++) {
		struct timespec ts;
		long left = join_by - now_ms();

		clock_gettime(CLOCK_REALTIME, &ts);
		if (left < 0)
			left = 0;
		ts.tv_sec += left / 1000;
		ts.tv_nsec += (left % 1000) * 1000000L;
		if (ts.tv_nsec >= 1000000000L) {
			ts.tv_sec++;
			ts.tv_nsec -= 1000000000L;
		}
		if (pthread_timedjoin_np(cts[i].th, NULL, &ts)) {
			hung++;
			fprintf(stderr, "client: thread %d hung: last progress %ld ms ago\n",
				i, now_ms() -
				__atomic_load_n(&cts[i].last, __ATOMIC_RELAXED));
			continue;
		}
		if (cts[i].c.v[C_MAX_GAP_MS] > sum.v[C_MAX_GAP_MS])
			sum.v[C_MAX_GAP_MS] = cts[i].c.v[C_MAX_GAP_MS];
		cts[i].c.v[C_MAX_GAP_MS] = 0;
		counters_add(&sum, &cts[i].c);
	}
	printf("client threads=%d hung=%d stalls=%d", started, hung, stalls);
	counters_print("", &sum);
	if (hung) {
		fflush(NULL);
		_exit(1);	/* the hung threads cannot be joined */
	}
	return started == opt.threads && !stalls ? 0 : 1;
}

/* ------------------------------------------------------------------ main */

static void usage(FILE *f)
{
	fprintf(f,
		"usage: xtcp_stress server relisten|shutrd|hold [options]\n"
		"       xtcp_stress client [options]\n"
		"  --family inet|xtcp|N  listener family (server; default inet)\n"
		"  --addr A --port P     the listener's address and port\n"
		"  --secs S              run time, 0 = until SIGTERM (default 0)\n"
		"  --backlog N           listen() backlog (default 128)\n"
		"  --hold-ms MS          server: listen/keep time (default 20)\n"
		"  --lazy PCT            server: cycles without accept() (0)\n"
		"  --fin PCT             server: connections closed with a FIN (0)\n"
		"  --tfo QLEN            server: TCP_FASTOPEN queue length (0: none)\n"
		"  --quick PCT           server: connections closed unread at accept (0)\n"
		"  --drain-ms MS         hold: accept after the stop (1000)\n"
		"  --threads N           client threads (default 4)\n"
		"  --mix P,P...          rst,synrst,fin,wait,data,tfo (default rst)\n"
		"  --sport B             client source ports from B\n"
		"  --sport-span N        ports per thread (default 64)\n"
		"  --sport-threads N     threads with fixed ports (default all)\n"
		"  --ns N                roles by port parity plus N (0 or 1)\n"
		"  --connect-ms MS       connect() bound (default 3000)\n"
		"  --wait-ms MS          wait bound (default 5000)\n"
		"  --stall-ms MS         no progress that long: stalled (20000)\n");
}

static long num(const char *s, long min, long max, const char *what)
{
	char *end;
	long v;

	errno = 0;
	v = strtol(s, &end, 10);
	if (errno || end == s || *end || v < min || v > max) {
		fprintf(stderr, "xtcp_stress: bad %s: %s\n", what, s);
		usage(stderr);
		exit(2);
	}
	return v;
}

static int xtcp_family(void)
{
	FILE *f = fopen("/sys/module/xtcp/parameters/family", "r");
	int fam = AF_XTCP;

	if (f) {
		if (fscanf(f, "%d", &fam) != 1)
			fam = AF_XTCP;
		fclose(f);
	}
	return fam;
}

static void parse_mix(char *s)
{
	char *tok, *save = NULL;
	int i;

	opt.nmix = 0;
	for (tok = strtok_r(s, ",", &save); tok;
	     tok = strtok_r(NULL, ",", &save)) {
		for (i = 0; i < P_MAX; i++)
			if (!strcmp(tok, pattern_names[i]))
				break;
		if (i == P_MAX || opt.nmix == P_MAX) {
			fprintf(stderr, "xtcp_stress: bad --mix: %s\n", tok);
			exit(2);
		}
		opt.mix[opt.nmix++] = i;
	}
}

int main(int argc, char **argv)
{
	static const struct option lopts[] = {
		{ "family", 1, NULL, 'f' }, { "addr", 1, NULL, 'a' },
		{ "port", 1, NULL, 'p' }, { "secs", 1, NULL, 't' },
		{ "backlog", 1, NULL, 'b' }, { "hold-ms", 1, NULL, 'H' },
		{ "lazy", 1, NULL, 'L' }, { "drain-ms", 1, NULL, 'D' },
		{ "fin", 1, NULL, 'F' }, { "tfo", 1, NULL, 'O' },
		{ "quick", 1, NULL, 'Q' },
		{ "threads", 1, NULL, 'n' }, { "mix", 1, NULL, 'm' },
		{ "sport", 1, NULL, 's' }, { "sport-span", 1, NULL, 'S' },
		{ "sport-threads", 1, NULL, 'T' }, { "ns", 1, NULL, 'N' },
		{ "connect-ms", 1, NULL, 'c' }, { "wait-ms", 1, NULL, 'w' },
		{ "stall-ms", 1, NULL, 'z' }, { "help", 0, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	const char *role, *mode = NULL;
	int o;

	if (argc < 2) {
		usage(stderr);
		return 2;
	}
	role = argv[1];
	if (!strcmp(role, "server")) {
		if (argc < 3) {
			usage(stderr);
			return 2;
		}
		mode = argv[2];
		optind = 3;
	} else if (!strcmp(role, "client")) {
		optind = 2;
	} else {
		usage(stderr);
		return 2;
	}
	opt.mix[0] = P_RST;
	opt.nmix = 1;
	opt.sport_threads = MAX_THREADS;
	while ((o = getopt_long(argc, argv, "", lopts, NULL)) != -1) {
		switch (o) {
		case 'f':
			if (!strcmp(optarg, "inet"))
				opt.family = AF_INET;
			else if (!strcmp(optarg, "xtcp"))
				opt.family = xtcp_family();
			else
				opt.family = (int)num(optarg, 1, 255, "family");
			break;
		case 'a':
			if (inet_pton(AF_INET, optarg, &opt.addr) != 1)
				num("x", 0, 0, "address");
			break;
		case 'p':
			opt.port = (int)num(optarg, 1, 65535, "port");
			break;
		case 't':
			opt.secs = num(optarg, 0, 86400, "secs");
			break;
		case 'b':
			opt.backlog = (int)num(optarg, 1, 65535, "backlog");
			break;
		case 'H':
			opt.hold_ms = num(optarg, 0, 60000, "hold-ms");
			break;
		case 'L':
			opt.lazy = (int)num(optarg, 0, 100, "lazy");
			break;
		case 'F':
			opt.fin = (int)num(optarg, 0, 100, "fin");
			break;
		case 'O':
			opt.tfo = (int)num(optarg, 0, 65535, "tfo");
			break;
		case 'Q':
			opt.quick = (int)num(optarg, 0, 100, "quick");
			break;
		case 'D':
			opt.drain_ms = num(optarg, 0, 60000, "drain-ms");
			break;
		case 'n':
			opt.threads = (int)num(optarg, 1, MAX_THREADS, "threads");
			break;
		case 'm':
			parse_mix(optarg);
			break;
		case 's':
			opt.sport = (int)num(optarg, 1, 65535, "sport");
			break;
		case 'S':
			opt.span = (int)num(optarg, 1, 4096, "sport-span");
			break;
		case 'T':
			opt.sport_threads = (int)num(optarg, 0, MAX_THREADS,
						     "sport-threads");
			break;
		case 'N':
			opt.ns = (int)num(optarg, 0, 1, "ns");
			break;
		case 'c':
			opt.connect_ms = num(optarg, 1, 600000, "connect-ms");
			break;
		case 'w':
			opt.wait_ms = num(optarg, 1, 600000, "wait-ms");
			break;
		case 'z':
			opt.stall_ms = num(optarg, 1, 600000, "stall-ms");
			break;
		case 'h':
			usage(stdout);
			return 0;
		default:
			usage(stderr);
			return 2;
		}
	}
	if (optind != argc || !opt.port || !opt.addr.s_addr ||
	    (opt.sport && opt.sport + opt.threads * opt.span > 65536)) {
		usage(stderr);
		return 2;
	}
	catch_signals();
	if (opt.secs)
		deadline_ms = now_ms() + opt.secs * 1000;
	if (mode) {
		o = server_main(mode);
		if (o == 2)
			usage(stderr);
		return o;
	}
	return client_main();
}
