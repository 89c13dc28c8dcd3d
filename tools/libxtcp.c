// SPDX-License-Identifier: GPL-2.0
/*
 * libxtcp-preload.so: run an unmodified server on AF_XTCP.
 *
 *	LD_PRELOAD=tools/build/libxtcp-preload.so iperf3 -s -B 198.18.0.1
 *
 * Every socket(AF_INET, SOCK_STREAM, 0 or IPPROTO_TCP) the program makes
 * becomes an AF_XTCP socket, which takes the same struct sockaddr_in, so
 * bind(), listen(), accept() and everything on the accepted connections
 * go to xtcp.  xtcp has no active open: a connect() to an IPv4 address
 * that xtcp refuses (EOPNOTSUPP) is retried on a new AF_INET socket put in
 * the same descriptor, with the descriptor flags, the local address if one
 * was bound, and the socket options listed in carried[] copied over, so
 * that a server which also connects out (a proxy, say) keeps working,
 * its outgoing connections on stock TCP.
 *
 * AF_INET6 sockets are left alone: start servers on an IPv4 address
 * (iperf3 -B 198.18.0.1, nginx "listen 198.18.0.1:80").
 *
 * If AF_XTCP sockets cannot be made (module not loaded), socket() fails
 * with the kernel's errno and a line on stderr: a benchmark must never
 * measure stock TCP while it believes it measures xtcp.
 * XTCP_PRELOAD_FALLBACK=1 makes such sockets AF_INET instead.
 */
#include <dlfcn.h>
#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <sys/socket.h>

#include <linux/xtcp.h>

#define XTCP_FAMILY_PARAM "/sys/module/xtcp/parameters/family"

typedef int (*socket_fn)(int, int, int);
typedef int (*connect_fn)(int, const struct sockaddr *, socklen_t);

/* Options a converted socket keeps: int-valued, readable and settable. */
static const struct {
	int level;
	int name;
} carried[] = {
	{ SOL_SOCKET, SO_REUSEADDR },
	{ SOL_SOCKET, SO_REUSEPORT },
	{ SOL_SOCKET, SO_KEEPALIVE },
	{ SOL_SOCKET, SO_PRIORITY },
	{ SOL_SOCKET, SO_MARK },
	{ SOL_IP, IP_TOS },
	{ SOL_TCP, TCP_NODELAY },
	{ SOL_TCP, TCP_CORK },
	{ SOL_TCP, TCP_KEEPIDLE },
	{ SOL_TCP, TCP_KEEPINTVL },
	{ SOL_TCP, TCP_KEEPCNT },
	{ SOL_TCP, TCP_USER_TIMEOUT },
};

static socket_fn real_socket;
static connect_fn real_connect;

static void say(const char *fmt, ...)
{
	va_list ap;

	fputs("libxtcp-preload: ", stderr);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputc('\n', stderr);
}

/* The module parameter when loaded, else the header's number. */
static int read_family(void)
{
	FILE *f = fopen(XTCP_FAMILY_PARAM, "re");
	int fam = AF_XTCP;

	if (f) {
		if (fscanf(f, "%d", &fam) != 1 || fam <= 0 || fam >= 256)
			fam = AF_XTCP;
		fclose(f);
	}
	return fam;
}

__attribute__((constructor)) static void preload_init(void)
{
	real_socket = (socket_fn)dlsym(RTLD_NEXT, "socket");
	real_connect = (connect_fn)dlsym(RTLD_NEXT, "connect");
}

static bool is_tcp(int domain, int type, int protocol)
{
	return domain == AF_INET &&
	       (type & ~(SOCK_NONBLOCK | SOCK_CLOEXEC)) == SOCK_STREAM &&
	       (protocol == 0 || protocol == IPPROTO_TCP);
}

int socket(int domain, int type, int protocol)
{
	const char *fallback;
	int fd, err, fam;

	if (!is_tcp(domain, type, protocol))
		return real_socket(domain, type, protocol);
	/* Read each time: the module may have been loaded since. */
	fam = read_family();
	fd = real_socket(fam, type, 0);
	if (fd >= 0)
		return fd;
	err = errno;
	fallback = getenv("XTCP_PRELOAD_FALLBACK");
	if (fallback && !strcmp(fallback, "1"))
		return real_socket(domain, type, protocol);
	say("socket(AF_XTCP = %d): %s (is xtcp.ko loaded?)", fam,
	    strerror(err));
	errno = err;
	return -1;
}

/* The descriptor's flags and status flags, the carried options. */
static int copy_socket_state(int from, int to)
{
	int fl, fdfl;

	fdfl = fcntl(from, F_GETFD);
	fl = fcntl(from, F_GETFL);
	if (fdfl < 0 || fl < 0 || fcntl(to, F_SETFD, fdfl) < 0 ||
	    fcntl(to, F_SETFL, fl) < 0)
		return -1;
	for (size_t i = 0; i < sizeof(carried) / sizeof(*carried); i++) {
		socklen_t len = sizeof(int);
		int v;

		if (getsockopt(from, carried[i].level, carried[i].name, &v,
			       &len) == 0 && v)
			setsockopt(to, carried[i].level, carried[i].name, &v,
				   sizeof(v));
	}
	return 0;
}

/*
 * Put a stock TCP socket in fd's place, keeping what the program set.
 * The xtcp socket is released by dup2(); its local port with it.
 */
static int convert_to_inet(int fd)
{
	int type, nfd, err;
	socklen_t len = sizeof(type);

	if (getsockopt(fd, SOL_SOCKET, SO_TYPE, &type, &len) < 0)
		return -1;
	nfd = real_socket(AF_INET, type | SOCK_CLOEXEC, 0);
	if (nfd < 0)
		return -1;
	if (copy_socket_state(fd, nfd) < 0)
		goto fail;
	/* Bound again after the xtcp socket gave the port back. */
	if (dup2(nfd, fd) < 0)
		goto fail;
	close(nfd);
	return 0;
fail:
	err = errno;
	close(nfd);
	errno = err;
	return -1;
}

int connect(int fd, const struct sockaddr *addr, socklen_t len)
{
	struct sockaddr_in local = { 0 };
	socklen_t llen = sizeof(local);
	int rc, bound;

	rc = real_connect(fd, addr, len);
	if (rc == 0 || errno != EOPNOTSUPP || !addr ||
	    len < sizeof(sa_family_t) || addr->sa_family != AF_INET)
		return rc;
	bound = getsockname(fd, (struct sockaddr *)&local, &llen) == 0 &&
		(local.sin_port || local.sin_addr.s_addr);
	if (convert_to_inet(fd) < 0)
		return -1;
	if (bound && bind(fd, (struct sockaddr *)&local, sizeof(local)) < 0)
		return -1;
	return real_connect(fd, addr, len);
}
