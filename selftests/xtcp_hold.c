// SPDX-License-Identifier: GPL-2.0
/*
 * xtcp_hold: keep AF_XTCP sockets open until told to let go, for
 * reload.sh, which checks that the module cannot be unloaded meanwhile.
 *
 *   xtcp_hold [-f FAMILY] [-n N] [-c [-w]]
 *	Open N (default 3) AF_XTCP listeners: one on 127.0.0.1 and one on
 *	0.0.0.0 with ports chosen by bind(0), the rest autobound by
 *	listen(); plus one bound and one unbound socket that never listen.
 *	With -c a stock TCP client also connects to the first listener and
 *	the accepted xtcp socket is held as well.  Then print "ready
 *	PORT..." on stdout and wait for SIGTERM, SIGINT or SIGHUP; exit 0
 *	after closing everything: the client first, or with -w the accepted
 *	xtcp socket first, which leaves an xtcp timewait sock behind.
 *
 *   xtcp_hold [-f FAMILY] -p
 *	Probe: exit 0 if socket(FAMILY, SOCK_STREAM, 0) works, 2 if it fails
 *	with EAFNOSUPPORT (family not registered), 1 on any other error.
 *
 * FAMILY defaults to /sys/module/xtcp/parameters/family, else AF_XTCP.
 * Errors go to stderr and exit 1.
 */
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include <linux/xtcp.h>

#define MAX_HOLD 64

static int family = -1;
static int fds[MAX_HOLD + 4];
static int nfds;
static int client_fd = -1;
static int accepted_fd = -1;

static void die(const char *what)
{
	fprintf(stderr, "xtcp_hold: %s: %s\n", what, strerror(errno));
	exit(1);
}

static int default_family(void)
{
	char buf[32] = "";
	FILE *f = fopen("/sys/module/xtcp/parameters/family", "r");

	if (!f)
		return AF_XTCP;
	if (!fgets(buf, sizeof(buf), f))
		buf[0] = '\0';
	fclose(f);
	return buf[0] ? atoi(buf) : AF_XTCP;
}

static int hold(int fd, const char *what)
{
	if (fd < 0)
		die(what);
	fds[nfds++] = fd;
	return fd;
}

static int xsock(void)
{
	return hold(socket(family, SOCK_STREAM, 0), "socket(AF_XTCP)");
}

static void xbind(int fd, uint32_t addr, unsigned short port)
{
	struct sockaddr_in sin = {
		.sin_family = AF_INET,
		.sin_port = htons(port),
		.sin_addr.s_addr = htonl(addr),
	};

	if (bind(fd, (struct sockaddr *)&sin, sizeof(sin)))
		die("bind");
}

static unsigned short port_of(int fd)
{
	struct sockaddr_in sin;
	socklen_t len = sizeof(sin);

	if (getsockname(fd, (struct sockaddr *)&sin, &len))
		die("getsockname");
	return ntohs(sin.sin_port);
}

/*
 * Stock client -> first listener, accept; hold both.  No data yet: the
 * established data path is xtcp's next step.
 */
static void connect_one(int lfd)
{
	struct sockaddr_in sin = {
		.sin_family = AF_INET,
		.sin_port = htons(port_of(lfd)),
		.sin_addr.s_addr = htonl(INADDR_LOOPBACK),
	};
	struct pollfd pfd = { .fd = lfd, .events = POLLIN };
	int c;

	c = hold(socket(AF_INET, SOCK_STREAM, 0), "socket(AF_INET)");
	client_fd = c;
	if (connect(c, (struct sockaddr *)&sin, sizeof(sin)))
		die("connect to the xtcp listener");
	if (poll(&pfd, 1, 5000) != 1) {
		errno = ETIMEDOUT;
		die("waiting for the connection on the xtcp listener");
	}
	accepted_fd = hold(accept(lfd, NULL, NULL), "accept");
}

int main(int argc, char **argv)
{
	int n = 3, probe = 0, conn = 0, tw = 0, opt, i, fd, sig;
	sigset_t set;

	while ((opt = getopt(argc, argv, "f:n:cwp")) != -1) {
		switch (opt) {
		case 'f': family = atoi(optarg); break;
		case 'n': n = atoi(optarg); break;
		case 'c': conn = 1; break;
		case 'w': tw = 1; break;
		case 'p': probe = 1; break;
		default:
			fprintf(stderr, "usage: xtcp_hold [-f FAMILY] [-n N] [-c [-w]] | -p\n");
			return 1;
		}
	}
	if (family < 0)
		family = default_family();
	if (n < 1 || n > MAX_HOLD)
		n = 3;

	if (probe) {
		fd = socket(family, SOCK_STREAM, 0);
		if (fd >= 0)
			return 0;
		return errno == EAFNOSUPPORT ? 2 : 1;
	}

	/* Block the signals first so that none is lost before sigwait(). */
	sigemptyset(&set);
	sigaddset(&set, SIGTERM);
	sigaddset(&set, SIGINT);
	sigaddset(&set, SIGHUP);
	sigprocmask(SIG_BLOCK, &set, NULL);

	for (i = 0; i < n; i++) {
		fd = xsock();
		if (i == 0)
			xbind(fd, INADDR_LOOPBACK, 0);
		else if (i == 1)
			xbind(fd, INADDR_ANY, 0);
		if (listen(fd, 16))
			die("listen");
	}
	xbind(xsock(), INADDR_LOOPBACK, 0);	/* bound, never listens */
	xsock();				/* never bound */
	if (conn)
		connect_one(fds[0]);

	printf("ready");
	for (i = 0; i < n; i++)
		printf(" %u", port_of(fds[i]));
	printf("\n");
	fflush(stdout);

	if (sigwait(&set, &sig))
		die("sigwait");
	/*
	 * Without -w the stock client closes first, so that TIME_WAIT lands
	 * on the stock side and the accepted xtcp socket is gone after
	 * LAST_ACK.  With -w the xtcp side closes first and ends in an xtcp
	 * timewait sock, which must not keep rmmod waiting.
	 */
	if (tw && accepted_fd >= 0) {
		close(accepted_fd);
		usleep(100 * 1000);
	}
	if (client_fd >= 0) {
		close(client_fd);
		usleep(100 * 1000);
	}
	while (nfds > 0)
		if (fds[--nfds] != client_fd &&
		    !(tw && fds[nfds] == accepted_fd))
			close(fds[nfds]);
	return 0;
}
