// SPDX-License-Identifier: GPL-2.0
/*
 * xtcp-serve: a small listener for tests, the demo and the benchmark.
 *
 * Listens on an AF_INET or AF_XTCP stream socket (both addressed with
 * struct sockaddr_in), accepts a given number of connections and closes
 * each one, by default with SO_LINGER {1, 0} so that the peer sees an RST
 * and neither side keeps a TIME_WAIT socket.
 *
 * Scripts wait on --ready-file instead of sleeping: it appears, holding
 * the bound port, only once listen() has returned.
 *
 * With --rr REQ:RESP it serves request-response connections for the
 * benchmark instead: read REQ bytes, write RESP bytes, read until the
 * client's FIN, close (so that TIME_WAIT stays with the client), in
 * --workers threads that each accept() on the one listener.
 *
 * Exit status: 0 done, 1 failure or --timeout, 2 usage.
 */
#include <errno.h>
#include <getopt.h>
#include <limits.h>
#include <pthread.h>
#include <signal.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>

#include <linux/xtcp.h>

#define PROG "xtcp-serve"
#include "cli.h"

#define XTCP_FAMILY_PARAM "/sys/module/xtcp/parameters/family"

struct opts {
	int family;
	const char *family_name;
	struct in_addr addr;
	int port;
	int backlog;
	bool reuseaddr;
	bool reuseport;
	long accept;		/* > 0: that many; 0: none; -1: forever */
	long accept_delay_ms;
	bool linger0;
	bool print;
	const char *ready_file;
	long timeout_s;		/* 0: none */
	long rr_req;		/* > 0: --rr, bytes of each request */
	long rr_resp;		/* bytes of each response */
	int workers;
};

#define MAX_WORKERS	64
#define RR_MAX		(64L << 20)
#define RR_TIMEOUT_S	10
#define RR_CHUNK	65536

static volatile sig_atomic_t stop_requested;

static void usage(FILE *f)
{
	fprintf(f,
		"usage: xtcp-serve [options]\n"
		"  --family inet|xtcp|N  socket family (default inet); xtcp reads\n"
		"                        " XTCP_FAMILY_PARAM ",\n"
		"                        else uses AF_XTCP (%d)\n"
		"  --addr A              IPv4 address to bind (default 0.0.0.0)\n"
		"  --port P              port to bind, 0 = any (default 0)\n"
		"  --backlog N           listen() backlog (default 128)\n"
		"  --reuseaddr           set SO_REUSEADDR before bind()\n"
		"  --reuseport           set SO_REUSEPORT before bind()\n"
		"  --accept N            accept N connections then exit 0;\n"
		"                        0 = listen only, -1 = accept forever\n"
		"                        (both end on SIGTERM/SIGINT, exit 0)\n"
		"                        (default 1)\n"
		"  --accept-delay-ms MS  sleep MS before each accept()\n"
		"  --linger0             close accepted sockets with SO_LINGER\n"
		"                        {1,0}, i.e. an RST (default)\n"
		"  --no-linger0          close accepted sockets normally (FIN)\n"
		"  --print               print 'accepted <peer-ip>:<port> local\n"
		"                        <ip>:<port>' per connection\n"
		"  --ready-file F        write the bound port to F once listening\n"
		"  --timeout S           exit 1 if not done within S seconds\n"
		"  --rr REQ:RESP         per connection read REQ bytes, write\n"
		"                        RESP bytes, wait for the client's FIN,\n"
		"                        close; needs --accept -1\n"
		"  --workers N           threads accepting and serving --rr\n"
		"                        connections (default 1)\n"
		"Prints 'listening <ip>:<port>' on stdout once listening.\n",
		AF_XTCP);
}



/*
 * The module may have been loaded with another family number than the
 * header's default: the module parameter is the truth when present.
 */
static int xtcp_family(void)
{
	FILE *f = fopen(XTCP_FAMILY_PARAM, "r");
	int fam;

	if (!f)
		return AF_XTCP;
	if (fscanf(f, "%d", &fam) != 1 || fam <= 0 || fam >= 256)
		fam = AF_XTCP;
	fclose(f);
	return fam;
}

static void parse_family(struct opts *o, const char *s)
{
	o->family_name = s;
	if (!strcmp(s, "inet"))
		o->family = AF_INET;
	else if (!strcmp(s, "xtcp"))
		o->family = xtcp_family();
	else
		o->family = parse_long(s, 1, 255, "--family");
}


enum {
	OPT_FAMILY = 256, OPT_ADDR, OPT_PORT, OPT_BACKLOG, OPT_REUSEADDR,
	OPT_REUSEPORT, OPT_ACCEPT, OPT_DELAY, OPT_LINGER0, OPT_NO_LINGER0,
	OPT_PRINT, OPT_READY, OPT_TIMEOUT, OPT_RR, OPT_WORKERS, OPT_HELP,
};

static const struct option long_opts[] = {
	{ "family", required_argument, NULL, OPT_FAMILY },
	{ "addr", required_argument, NULL, OPT_ADDR },
	{ "port", required_argument, NULL, OPT_PORT },
	{ "backlog", required_argument, NULL, OPT_BACKLOG },
	{ "reuseaddr", no_argument, NULL, OPT_REUSEADDR },
	{ "reuseport", no_argument, NULL, OPT_REUSEPORT },
	{ "accept", required_argument, NULL, OPT_ACCEPT },
	{ "accept-delay-ms", required_argument, NULL, OPT_DELAY },
	{ "linger0", no_argument, NULL, OPT_LINGER0 },
	{ "no-linger0", no_argument, NULL, OPT_NO_LINGER0 },
	{ "print", no_argument, NULL, OPT_PRINT },
	{ "ready-file", required_argument, NULL, OPT_READY },
	{ "timeout", required_argument, NULL, OPT_TIMEOUT },
	{ "rr", required_argument, NULL, OPT_RR },
	{ "workers", required_argument, NULL, OPT_WORKERS },
	{ "help", no_argument, NULL, OPT_HELP },
	{ NULL, 0, NULL, 0 },
};

static void parse_opt(struct opts *o, int c, const char *arg)
{
	switch (c) {
	case OPT_FAMILY:
		parse_family(o, arg);
		break;
	case OPT_ADDR:
		if (inet_pton(AF_INET, arg, &o->addr) != 1)
			die_usage("bad --addr %s", arg);
		break;
	case OPT_PORT:
		o->port = parse_long(arg, 0, 65535, "--port");
		break;
	case OPT_BACKLOG:
		o->backlog = parse_long(arg, 0, INT_MAX, "--backlog");
		break;
	case OPT_REUSEADDR:
		o->reuseaddr = true;
		break;
	case OPT_REUSEPORT:
		o->reuseport = true;
		break;
	case OPT_ACCEPT:
		o->accept = parse_long(arg, -1, LONG_MAX, "--accept");
		break;
	case OPT_DELAY:
		o->accept_delay_ms = parse_long(arg, 0, 3600000, "--accept-delay-ms");
		break;
	case OPT_LINGER0:
		o->linger0 = true;
		break;
	case OPT_NO_LINGER0:
		o->linger0 = false;
		break;
	case OPT_PRINT:
		o->print = true;
		break;
	case OPT_READY:
		o->ready_file = arg;
		break;
	case OPT_TIMEOUT:
		o->timeout_s = parse_long(arg, 0, 86400 * 365, "--timeout");
		break;
	case OPT_RR:
		parse_rr(arg, RR_MAX, &o->rr_req, &o->rr_resp);
		break;
	case OPT_WORKERS:
		o->workers = parse_long(arg, 1, MAX_WORKERS, "--workers");
		break;
	case OPT_HELP:
		usage(stdout);
		exit(0);
	default:
		usage(stderr);
		exit(2);
	}
}

static void parse_args(struct opts *o, int argc, char **argv)
{
	int c;

	*o = (struct opts){
		.family = AF_INET, .family_name = "inet",
		.addr.s_addr = htonl(INADDR_ANY), .backlog = 128,
		.accept = 1, .linger0 = true, .workers = 1,
	};
	while ((c = getopt_long(argc, argv, "h", long_opts, NULL)) != -1)
		parse_opt(o, c == 'h' ? OPT_HELP : c, optarg);
	if (optind < argc)
		die_usage("unexpected argument %s", argv[optind]);
	if ((o->rr_req || o->workers > 1) && o->accept != -1)
		die_usage("--rr and --workers need --accept -1");
	if (o->workers > 1 && !o->rr_req)
		die_usage("--workers needs --rr");
}


/*
 * A signal that lands between the stop check and a blocking accept()
 * would leave us asleep until the next connection: a one-second alarm
 * bounds that window.
 */
static void on_stop(int sig)
{
	(void)sig;
	stop_requested = 1;
	alarm(1);
}

static void on_alarm(int sig)
{
	(void)sig;
}

/* No SA_RESTART: a signal must interrupt accept() and the delay sleep. */
static void setup_signals(const struct opts *o)
{
	struct sigaction sa = { .sa_handler = on_stop };

	sigemptyset(&sa.sa_mask);
	sigaction(SIGTERM, &sa, NULL);
	sigaction(SIGINT, &sa, NULL);
	sa.sa_handler = on_alarm;
	sigaction(SIGALRM, &sa, NULL);
	signal(SIGPIPE, SIG_IGN);
	if (o->timeout_s)
		alarm(o->timeout_s);
}

static const char *fmt_addr(const struct sockaddr_in *sin, char *buf,
			    size_t len)
{
	char ip[INET_ADDRSTRLEN];

	/* The family must answer with AF_INET addresses: show it if not. */
	if (sin->sin_family != AF_INET) {
		snprintf(buf, len, "family%d?", sin->sin_family);
		return buf;
	}
	inet_ntop(AF_INET, &sin->sin_addr, ip, sizeof(ip));
	snprintf(buf, len, "%s:%u", ip, ntohs(sin->sin_port));
	return buf;
}

static int set_flag(int fd, int opt, const char *name)
{
	int one = 1;

	if (setsockopt(fd, SOL_SOCKET, opt, &one, sizeof(one)) < 0) {
		fprintf(stderr, "xtcp-serve: setsockopt(%s): %s\n", name,
			strerror(errno));
		return -1;
	}
	return 0;
}

static int open_listener(const struct opts *o, struct sockaddr_in *bound)
{
	struct sockaddr_in sin = {
		.sin_family = AF_INET, .sin_addr = o->addr,
		.sin_port = htons(o->port),
	};
	socklen_t len = sizeof(*bound);
	int fd;

	fd = socket(o->family, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (fd < 0) {
		fprintf(stderr, "xtcp-serve: socket(%s = %d): %s\n",
			o->family_name, o->family, strerror(errno));
		return -1;
	}
	if ((o->reuseaddr && set_flag(fd, SO_REUSEADDR, "SO_REUSEADDR")) ||
	    (o->reuseport && set_flag(fd, SO_REUSEPORT, "SO_REUSEPORT")))
		goto fail;
	if (bind(fd, (struct sockaddr *)&sin, sizeof(sin)) < 0) {
		fprintf(stderr, "xtcp-serve: bind: %s\n", strerror(errno));
		goto fail;
	}
	if (listen(fd, o->backlog) < 0) {
		fprintf(stderr, "xtcp-serve: listen: %s\n", strerror(errno));
		goto fail;
	}
	if (getsockname(fd, (struct sockaddr *)bound, &len) < 0) {
		fprintf(stderr, "xtcp-serve: getsockname: %s\n", strerror(errno));
		goto fail;
	}
	return fd;
fail:
	close(fd);
	return -1;
}

/* Written aside and renamed: a waiter never reads a half-written file. */
static int write_ready_file(const char *path, unsigned int port)
{
	char tmp[PATH_MAX];
	FILE *f;

	if (snprintf(tmp, sizeof(tmp), "%s.tmp%d", path, (int)getpid()) >=
	    (int)sizeof(tmp))
		return -1;
	f = fopen(tmp, "w");
	if (!f)
		goto fail;
	fprintf(f, "%u\n", port);
	if (fclose(f) || rename(tmp, path))
		goto fail;
	return 0;
fail:
	fprintf(stderr, "xtcp-serve: ready file %s: %s\n", path,
		strerror(errno));
	unlink(tmp);
	return -1;
}

/*
 * The alarm that ends a blocking accept() must find us timed out, or we
 * would block again: allow it to fire a little early.
 */
static bool timed_out(const struct opts *o, double start)
{
	return o->timeout_s && now_s() - start >= o->timeout_s - 0.05;
}

/* Sleeps the accept delay, cut short by a stop request. */
static void accept_delay(const struct opts *o)
{
	struct timespec ts = {
		.tv_sec = o->accept_delay_ms / 1000,
		.tv_nsec = (o->accept_delay_ms % 1000) * 1000000,
	};

	while (!stop_requested && nanosleep(&ts, &ts) < 0 && errno == EINTR)
		;
}

static void close_conn(const struct opts *o, int fd)
{
	struct linger lg = { .l_onoff = 1, .l_linger = 0 };

	if (o->linger0 &&
	    setsockopt(fd, SOL_SOCKET, SO_LINGER, &lg, sizeof(lg)) < 0)
		fprintf(stderr, "xtcp-serve: setsockopt(SO_LINGER): %s\n",
			strerror(errno));
	close(fd);
}

static void print_conn(int fd, const struct sockaddr_in *peer)
{
	struct sockaddr_in local = { 0 };
	socklen_t len = sizeof(local);
	char a[64], b[64];

	if (getsockname(fd, (struct sockaddr *)&local, &len) < 0)
		local.sin_family = AF_UNSPEC;
	printf("accepted %s local %s\n", fmt_addr(peer, a, sizeof(a)),
	       fmt_addr(&local, b, sizeof(b)));
}

/*
 * Errors that concern one connection, not the listener: accept(2) says
 * to retry on them, as on EINTR.
 */
static bool accept_retryable(int err)
{
	switch (err) {
	case EINTR:
	case EAGAIN:
	case ECONNABORTED:
	case EPROTO:
	case ENETDOWN:
	case ENOPROTOOPT:
	case EHOSTDOWN:
	case ENONET:
	case EHOSTUNREACH:
	case EOPNOTSUPP:
	case ENETUNREACH:
	case EMFILE:
	case ENFILE:
	case ENOBUFS:
	case ENOMEM:
		return true;
	}
	return false;
}

/* 0 once all wanted connections came, 1 on failure or timeout. */
static int accept_loop(const struct opts *o, int lfd, double start)
{
	long done = 0;

	while (o->accept < 0 || done < o->accept) {
		struct sockaddr_in peer = { 0 };
		socklen_t len = sizeof(peer);
		int fd;

		if (o->accept_delay_ms)
			accept_delay(o);
		if (stop_requested && o->accept < 0)
			return 0;
		if (stop_requested) {
			fprintf(stderr, "xtcp-serve: stopped: accepted %ld of %ld\n",
				done, o->accept);
			return 1;
		}
		if (timed_out(o, start))
			goto timeout;
		fd = accept4(lfd, (struct sockaddr *)&peer, &len, SOCK_CLOEXEC);
		if (fd < 0) {
			if (accept_retryable(errno))
				continue;
			fprintf(stderr, "xtcp-serve: accept: %s\n", strerror(errno));
			return 1;
		}
		if (o->print)
			print_conn(fd, &peer);
		close_conn(o, fd);
		done++;
	}
	return 0;
timeout:
	fprintf(stderr, "xtcp-serve: timeout after %ld s: accepted %ld of %ld\n",
		o->timeout_s, done, o->accept);
	return 1;
}

static int full_io(int fd, char *buf, long n, bool wr)
{
	while (n > 0) {
		ssize_t k = wr ? write(fd, buf, n > RR_CHUNK ? RR_CHUNK : n) :
				 read(fd, buf, n > RR_CHUNK ? RR_CHUNK : n);

		if (k <= 0)
			return -1;
		n -= k;
	}
	return 0;
}

/* One --rr connection; errors end it quietly (the client counts them). */
static void serve_rr(const struct opts *o, int fd, char *buf)
{
	struct timeval tv = { .tv_sec = RR_TIMEOUT_S };

	setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
	setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof(tv));
	if (full_io(fd, buf, o->rr_req, false) == 0 &&
	    full_io(fd, buf, o->rr_resp, true) == 0)
		while (read(fd, buf, RR_CHUNK) > 0)
			;
	close(fd);
}

struct rr_worker {
	pthread_t tid;
	const struct opts *o;
	int lfd;
};

static void *rr_worker_main(void *arg)
{
	struct rr_worker *w = arg;
	static __thread char buf[RR_CHUNK];

	for (;;) {
		int fd = accept4(w->lfd, NULL, NULL, SOCK_CLOEXEC);

		if (fd < 0) {
			if (accept_retryable(errno))
				continue;
			fprintf(stderr, "xtcp-serve: accept: %s\n",
				strerror(errno));
			exit(1);
		}
		serve_rr(w->o, fd, buf);
	}
	return NULL;
}

/*
 * The workers never see a signal (blocked before they start); this
 * thread waits for the stop or the timeout, and exit() ends them.
 */
static int start_rr_workers(const struct opts *o, int lfd)
{
	static struct rr_worker w[MAX_WORKERS];
	sigset_t all, old;
	int i, err;

	sigfillset(&all);
	pthread_sigmask(SIG_BLOCK, &all, &old);
	for (i = 0; i < o->workers; i++) {
		w[i] = (struct rr_worker){ .o = o, .lfd = lfd };
		err = pthread_create(&w[i].tid, NULL, rr_worker_main, &w[i]);
		if (err) {
			fprintf(stderr, "xtcp-serve: pthread_create: %s\n",
				strerror(err));
			return -1;
		}
	}
	pthread_sigmask(SIG_SETMASK, &old, NULL);
	return 0;
}

static int listen_only(const struct opts *o, double start)
{
	sigset_t none;

	sigemptyset(&none);
	while (!stop_requested) {
		if (timed_out(o, start)) {
			fprintf(stderr, "xtcp-serve: timeout after %ld s\n",
				o->timeout_s);
			return 1;
		}
		sigsuspend(&none);
	}
	return 0;
}

int main(int argc, char **argv)
{
	struct sockaddr_in bound;
	struct opts o;
	double start;
	char buf[64];
	int lfd, rc;

	parse_args(&o, argc, argv);
	/* Line-buffered even into a pipe: scripts read lines as they come. */
	setvbuf(stdout, NULL, _IOLBF, 0);
	start = now_s();
	setup_signals(&o);
	lfd = open_listener(&o, &bound);
	if (lfd < 0)
		return 1;
	printf("listening %s\n", fmt_addr(&bound, buf, sizeof(buf)));
	if (o.ready_file && write_ready_file(o.ready_file, ntohs(bound.sin_port)))
		return 1;
	if (o.rr_req)
		rc = start_rr_workers(&o, lfd) ? 1 : listen_only(&o, start);
	else if (o.accept == 0)
		rc = listen_only(&o, start);
	else
		rc = accept_loop(&o, lfd, start);
	close(lfd);
	return rc;
}
