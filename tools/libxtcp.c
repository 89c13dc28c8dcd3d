// SPDX-License-Identifier: GPL-2.0
/*
 * libxtcp.so: the TCP listeners of an unmodified program on AF_XTCP.
 *
 * usage: LD_PRELOAD=/path/to/tools/libxtcp.so [VAR=VALUE...] PROGRAM [ARG...]
 *
 *   XTCP_PORTS=LIST  only listeners on these local ports go to AF_XTCP: a
 *                    comma-separated list of ports and ranges, such as
 *                    "80,443,8000-8099" (unset or empty: every listener)
 *   XTCP_STRICT=1    never fall back to stock TCP: a listener that
 *                    cannot be put on AF_XTCP (module not loaded, an
 *                    option that does not carry over, xtcp's bind()
 *                    refusing) fails its bind() or listen() with the
 *                    error, after a line on stderr.  For benchmarks,
 *                    which must never measure stock TCP while they
 *                    believe they measure xtcp.
 *   XTCP_VERBOSE=1   a line on stderr for every listener: which stack
 *
 *   LD_PRELOAD=$PWD/tools/libxtcp.so python3 -m http.server \
 *           --bind 198.18.0.1 8080
 *   LD_PRELOAD=$PWD/tools/libxtcp.so XTCP_PORTS=5201 iperf3 -s -B 198.18.0.1
 *
 * How: socket(AF_INET, SOCK_STREAM, 0 or IPPROTO_TCP) stays a stock
 * socket, and the library remembers it and every setsockopt() made on it.
 * At bind() to a port that XTCP_PORTS selects it makes an AF_XTCP socket
 * (which takes the same struct sockaddr_in), gives it the descriptor's
 * file status flags (O_NONBLOCK) and the recorded options in the order
 * the program set them, binds it, and dup3()s it over the program's
 * descriptor (with O_CLOEXEC if the descriptor had FD_CLOEXEC).  The
 * program keeps its descriptor number; getsockname() answers as before;
 * listen(), accept() and accept4() (its flags too) and every accepted
 * connection are xtcp's.  A socket bound to port 0, or not bound at all,
 * is decided at listen(): without XTCP_PORTS it is put on AF_XTCP there,
 * on the port stock TCP chose at bind() (so a getsockname() between the
 * two stays true); with XTCP_PORTS only if that port is listed.
 * Sockets that bind() and then connect() (a client with a fixed source
 * port) find that xtcp has no active open: a connect() that an AF_XTCP
 * socket of ours refuses with EOPNOTSUPP is retried on a new stock socket
 * put in the same descriptor, with the same flags, options and local
 * address.  Outgoing connections are therefore always stock TCP's.
 *
 * An option that xtcp refuses (it answers as stock does for a feature the
 * kernel lacks: TCP_MD5SIG, TCP_ULP and the repair options
 * get ENOPROTOOPT, EPERM or ENOENT) is dropped with one line on stderr
 * per option, and the listener works without it, as on a kernel built
 * without the feature; XTCP_STRICT=1 makes it an error.
 *
 * If xtcp is not loaded the library says so once on stderr and leaves
 * every socket on stock TCP (XTCP_STRICT=1: bind() fails with
 * EAFNOSUPPORT).  The family number is read from
 * /sys/module/xtcp/parameters/family at each listener, so a module
 * loaded later with another number is found.
 *
 * What it leaves alone, or cannot do:
 *   - AF_INET6 sockets, and IPv4-mapped listeners on them: give the
 *     program an IPv4 address to bind (nginx "listen 198.18.0.1:80",
 *     iperf3 -B 198.18.0.1, redis-server --bind 198.18.0.1,
 *     python3 -m http.server --bind 198.18.0.1).
 *   - Sockets the program did not make with socket() itself: inherited
 *     ones (systemd socket activation, nginx's binary upgrade) and
 *     copies made with dup() before bind().
 *   - An epoll (or poll, select) registration made before bind() follows
 *     the stock socket, which dup3() closes: the program must register
 *     the descriptor again.  Servers register listeners after listen().
 *   - SO_REUSEPORT groups: every member must be on the same stack, so
 *     give every process of the group the same XTCP_PORTS.
 *   - Other descriptors' state: O_ASYNC owners (F_SETOWN), and options
 *     whose value names another descriptor (SO_ATTACH_BPF) are replayed
 *     with the same number, which must still be open.
 *
 * Threads: the bookkeeping is under one lock, which fork() respects.
 */
#include <dlfcn.h>
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <arpa/inet.h>
#include <linux/filter.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <sys/socket.h>
#include <sys/stat.h>

#include <linux/xtcp.h>

#define XTCP_FAMILY_PARAM "/sys/module/xtcp/parameters/family"

/* Descriptors 0 .. CHUNKS * CHUNK_FDS - 1 are followed. */
#define CHUNK_FDS	1024
#define CHUNKS		1024
#define MAX_RANGES	64

typedef int (*socket_fn)(int, int, int);
typedef int (*bind_fn)(int, const struct sockaddr *, socklen_t);
typedef int (*listen_fn)(int, int);
typedef int (*setsockopt_fn)(int, int, int, const void *, socklen_t);

enum sock_state {
	UNDECIDED,	/* stock, until bind() to a port or listen() */
	STOCK,		/* decided: stays stock TCP */
	XTCP,		/* an AF_XTCP socket of ours */
};

/* One successful setsockopt(), its value copied. */
struct opt {
	int level;
	int name;
	socklen_t len;
	void *val;
};

/* A socket(AF_INET, SOCK_STREAM) of the program. */
struct rec {
	dev_t dev;
	ino_t ino;	/* which socket holds the descriptor now */
	enum sock_state state;
	size_t nopts;
	struct opt *opts;
};

/* Atomics: the slots are read without the lock (maybe_tracked()). */
static struct rec **chunks[CHUNKS];
static pthread_mutex_t lock = PTHREAD_MUTEX_INITIALIZER;
static pthread_once_t once = PTHREAD_ONCE_INIT;

static socket_fn real_socket;
static bind_fn real_bind;
static listen_fn real_listen;
static int (*real_connect)(int, const struct sockaddr *, socklen_t);
static setsockopt_fn real_setsockopt;

static bool strict, verbose, ports_all = true, ports_bad;
static struct {
	unsigned int lo, hi;
} ranges[MAX_RANGES];
static int nranges;
static const char *ports_env;
static bool said_unloaded;

static void say(const char *fmt, ...)
{
	char buf[512];
	va_list ap;
	int n;

	n = snprintf(buf, sizeof(buf), "libxtcp: ");
	va_start(ap, fmt);
	vsnprintf(buf + n, sizeof(buf) - n - 1, fmt, ap);
	va_end(ap);
	strcat(buf, "\n");
	/* One write(): lines of concurrent processes do not mix. */
	if (write(STDERR_FILENO, buf, strlen(buf)) < 0)
		return;
}

static bool env_on(const char *name)
{
	const char *v = getenv(name);

	return v && v[0] && strcmp(v, "0");
}

/* "80,443,8000-8099" into ranges[]; false if it is not such a list. */
static bool parse_ports(const char *s)
{
	while (*s) {
		unsigned long lo, hi;
		char *end;

		while (*s == ' ')
			s++;
		if (*s < '0' || *s > '9')
			return false;
		lo = strtoul(s, &end, 10);
		hi = lo;
		if (*end == '-') {
			s = end + 1;
			if (*s < '0' || *s > '9')
				return false;
			hi = strtoul(s, &end, 10);
		}
		while (*end == ' ')
			end++;
		if (lo > hi || hi > 65535 || nranges == MAX_RANGES ||
		    (*end && *end != ','))
			return false;
		ranges[nranges].lo = lo;
		ranges[nranges].hi = hi;
		nranges++;
		s = *end ? end + 1 : end;
	}
	return nranges > 0;
}

static void lock_fork(void)
{
	pthread_mutex_lock(&lock);
}

static void unlock_fork(void)
{
	pthread_mutex_unlock(&lock);
}

static void init(void)
{
	real_socket = (socket_fn)dlsym(RTLD_NEXT, "socket");
	real_bind = (bind_fn)dlsym(RTLD_NEXT, "bind");
	real_listen = (listen_fn)dlsym(RTLD_NEXT, "listen");
	real_connect = (bind_fn)dlsym(RTLD_NEXT, "connect");
	real_setsockopt = (setsockopt_fn)dlsym(RTLD_NEXT, "setsockopt");
	strict = env_on("XTCP_STRICT");
	verbose = env_on("XTCP_VERBOSE");
	ports_env = getenv("XTCP_PORTS");
	if (ports_env && ports_env[0]) {
		ports_all = false;
		if (!parse_ports(ports_env)) {
			ports_bad = true;
			nranges = 0;
		}
	}
	pthread_atfork(lock_fork, unlock_fork, unlock_fork);
}

__attribute__((constructor)) static void libxtcp_init(void)
{
	pthread_once(&once, init);
}

/* Under the lock.  A bad XTCP_PORTS is told at the first listener. */
static bool port_wanted(unsigned int port)
{
	static bool said;

	if (ports_all)
		return true;
	if (ports_bad && !said) {
		say("XTCP_PORTS=\"%s\" is not a list of ports and ranges (80,8000-8099): %s",
		    ports_env, strict ? "listeners fail (XTCP_STRICT=1)" :
		    "no listener goes to AF_XTCP");
		said = true;
	}
	for (int i = 0; i < nranges; i++)
		if (port >= ranges[i].lo && port <= ranges[i].hi)
			return true;
	return false;
}

/* The slot of descriptor @fd, or NULL; @make: allocate its chunk. */
static struct rec **slot(int fd, bool make)
{
	struct rec **c;

	if (fd < 0 || fd >= CHUNKS * CHUNK_FDS)
		return NULL;
	c = __atomic_load_n(&chunks[fd / CHUNK_FDS], __ATOMIC_ACQUIRE);
	if (!c && make) {
		/* Under the lock: one maker.  Never freed. */
		c = calloc(CHUNK_FDS, sizeof(*c));
		if (!c)
			return NULL;
		__atomic_store_n(&chunks[fd / CHUNK_FDS], c, __ATOMIC_RELEASE);
	}
	return c ? &c[fd % CHUNK_FDS] : NULL;
}

/* Without the lock: might @fd have a record?  (Only a hint.) */
static bool maybe_tracked(int fd)
{
	struct rec **s = slot(fd, false);

	return s && __atomic_load_n(s, __ATOMIC_RELAXED);
}

static void rec_free(struct rec *r)
{
	for (size_t i = 0; i < r->nopts; i++)
		free(r->opts[i].val);
	free(r->opts);
	free(r);
}

/* Which socket @fd holds: false if it is none. */
static bool sock_id(int fd, dev_t *dev, ino_t *ino)
{
	struct stat st;

	if (fstat(fd, &st) < 0 || !S_ISSOCK(st.st_mode))
		return false;
	*dev = st.st_dev;
	*ino = st.st_ino;
	return true;
}

/*
 * The record of @fd, under the lock, if @fd still holds the socket it was
 * made for (the program may have closed it and the number been reused:
 * close() is not followed, so a stale record goes when it is found).
 */
static struct rec *rec_get(int fd)
{
	struct rec **s = slot(fd, false);
	struct rec *r;
	dev_t dev;
	ino_t ino;

	r = s ? __atomic_load_n(s, __ATOMIC_RELAXED) : NULL;
	if (!r)
		return NULL;
	if (sock_id(fd, &dev, &ino) && dev == r->dev && ino == r->ino)
		return r;
	__atomic_store_n(s, NULL, __ATOMIC_RELAXED);
	rec_free(r);
	return NULL;
}

/* A new record for @fd, under the lock. */
static void rec_new(int fd)
{
	struct rec **s = slot(fd, true);
	struct rec *r, *old;

	if (!s)
		return;
	r = calloc(1, sizeof(*r));
	if (r && !sock_id(fd, &r->dev, &r->ino)) {
		free(r);
		r = NULL;
	}
	old = __atomic_exchange_n(s, r, __ATOMIC_RELAXED);
	if (old)
		rec_free(old);
}

static void rec_set_sock(struct rec *r, int fd)
{
	sock_id(fd, &r->dev, &r->ino);
}

/*
 * Remember a setsockopt() that succeeded.  A classic BPF program is
 * copied with its instructions: its struct holds a pointer.  A later
 * setting of the same option replaces the earlier one.
 */
static void rec_add(struct rec *r, int level, int name, const void *val,
		    socklen_t len)
{
	bool prog = level == SOL_SOCKET && (name == SO_ATTACH_FILTER ||
					    name == SO_ATTACH_REUSEPORT_CBPF);
	const struct sock_fprog *fp = val;
	size_t size = len, i;
	struct opt *o;
	void *copy;

	if (prog) {
		if (!val || len < sizeof(*fp))
			return;
		size = sizeof(*fp) + fp->len * sizeof(*fp->filter);
	}
	copy = malloc(size ? size : 1);
	if (!copy)
		return;
	if (prog) {
		struct sock_fprog *cp = copy;

		cp->len = fp->len;
		cp->filter = (struct sock_filter *)(cp + 1);
		memcpy(cp->filter, fp->filter, fp->len * sizeof(*fp->filter));
		len = sizeof(*cp);
	} else if (len) {
		memcpy(copy, val, len);
	}
	for (i = 0; i < r->nopts; i++)
		if (r->opts[i].level == level && r->opts[i].name == name)
			break;
	if (i < r->nopts) {
		free(r->opts[i].val);
		memmove(&r->opts[i], &r->opts[i + 1],
			(r->nopts - i - 1) * sizeof(*r->opts));
		r->nopts--;
	}
	o = realloc(r->opts, (r->nopts + 1) * sizeof(*o));
	if (!o) {
		free(copy);
		return;
	}
	r->opts = o;
	o[r->nopts].level = level;
	o[r->nopts].name = name;
	o[r->nopts].len = len;
	o[r->nopts].val = copy;
	r->nopts++;
}

static const char *opt_name(int level, int name, char *buf, size_t size)
{
	static const struct {
		int level, name;
		const char *s;
	} names[] = {
		{ SOL_SOCKET, SO_REUSEADDR, "SO_REUSEADDR" },
		{ SOL_SOCKET, SO_REUSEPORT, "SO_REUSEPORT" },
		{ SOL_SOCKET, SO_KEEPALIVE, "SO_KEEPALIVE" },
		{ SOL_SOCKET, SO_RCVBUF, "SO_RCVBUF" },
		{ SOL_SOCKET, SO_SNDBUF, "SO_SNDBUF" },
		{ SOL_SOCKET, SO_BINDTODEVICE, "SO_BINDTODEVICE" },
		{ SOL_SOCKET, SO_ATTACH_FILTER, "SO_ATTACH_FILTER" },
		{ SOL_SOCKET, SO_ATTACH_REUSEPORT_CBPF,
		  "SO_ATTACH_REUSEPORT_CBPF" },
		{ SOL_SOCKET, SO_ATTACH_REUSEPORT_EBPF,
		  "SO_ATTACH_REUSEPORT_EBPF" },
		{ SOL_IP, IP_FREEBIND, "IP_FREEBIND" },
		{ SOL_IP, IP_TRANSPARENT, "IP_TRANSPARENT" },
		{ SOL_TCP, TCP_FASTOPEN, "TCP_FASTOPEN" },
		{ SOL_TCP, TCP_DEFER_ACCEPT, "TCP_DEFER_ACCEPT" },
		{ SOL_TCP, TCP_MD5SIG, "TCP_MD5SIG" },
		{ SOL_TCP, TCP_ULP, "TCP_ULP" },
		{ SOL_TCP, TCP_CONGESTION, "TCP_CONGESTION" },
	};

	for (size_t i = 0; i < sizeof(names) / sizeof(*names); i++)
		if (names[i].level == level && names[i].name == name)
			return names[i].s;
	snprintf(buf, size, "level %d option %d", level, name);
	return buf;
}

/* Each option dropped is told once. */
static bool first_drop(int level, int name)
{
	static struct {
		int level, name;
	} told[32];
	static int ntold;

	for (int i = 0; i < ntold; i++)
		if (told[i].level == level && told[i].name == name)
			return false;
	if (ntold < (int)(sizeof(told) / sizeof(*told))) {
		told[ntold].level = level;
		told[ntold].name = name;
		ntold++;
	}
	return true;
}

static const char *where(const struct sockaddr_in *sin, char *buf,
			 size_t size)
{
	char a[INET_ADDRSTRLEN];

	inet_ntop(AF_INET, &sin->sin_addr, a, sizeof(a));
	snprintf(buf, size, "%s:%u", a, ntohs(sin->sin_port));
	return buf;
}

/* The family xtcp registered, or -1 (errno EAFNOSUPPORT): not loaded. */
static int xtcp_family(void)
{
	FILE *f = fopen(XTCP_FAMILY_PARAM, "re");
	int fam = AF_XTCP;

	if (!f) {
		errno = EAFNOSUPPORT;
		return -1;
	}
	if (fscanf(f, "%d", &fam) != 1 || fam <= 0 || fam >= 256)
		fam = AF_XTCP;
	fclose(f);
	return fam;
}

/*
 * A socket of family @fam (AF_XTCP, or AF_INET for the way back) with the
 * file status flags of @fd and @r's options; -1 with errno on failure,
 * *@told if that was said on stderr.  @what names the listener in
 * messages.
 */
static int twin(int fd, struct rec *r, int fam, const char *what,
		bool *told)
{
	int fl, nfd, err;
	char buf[48];

	fl = fcntl(fd, F_GETFL);
	if (fl < 0)
		return -1;
	nfd = real_socket(fam, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (nfd < 0)
		return -1;
	if (fcntl(nfd, F_SETFL, fl) < 0)
		goto fail;
	for (size_t i = 0; i < r->nopts; i++) {
		struct opt *o = &r->opts[i];

		if (!real_setsockopt(nfd, o->level, o->name, o->val, o->len))
			continue;
		err = errno;
		if (fam != AF_INET && strict) {
			say("%s: AF_XTCP refuses setsockopt(%s): %s (XTCP_STRICT=1)",
			    what, opt_name(o->level, o->name, buf, sizeof(buf)),
			    strerror(err));
			*told = true;
			errno = err;
			goto fail;
		}
		if (first_drop(o->level, o->name))
			say("%s: setsockopt(%s) dropped: %s refuses it: %s",
			    what, opt_name(o->level, o->name, buf, sizeof(buf)),
			    fam == AF_INET ? "stock TCP" : "AF_XTCP",
			    strerror(err));
	}
	return nfd;
fail:
	err = errno;
	close(nfd);
	errno = err;
	return -1;
}

/* An AF_XTCP twin of @fd, or -1: told on stderr as the mode wants. */
static int xtcp_twin(int fd, struct rec *r, const char *what)
{
	int fam = xtcp_family(), nfd = -1, err;
	bool told = false;

	if (fam >= 0)
		nfd = twin(fd, r, fam, what, &told);
	if (nfd >= 0)
		return nfd;
	err = errno;
	if (err == EAFNOSUPPORT) {
		if (!said_unloaded)
			say("xtcp is not loaded (no AF_XTCP sockets): %s",
			    strict ? "listeners fail (XTCP_STRICT=1)" :
			    "listeners stay on stock TCP");
		said_unloaded = true;
	} else if (!told) {
		say("%s: no AF_XTCP socket: %s: %s", what, strerror(err),
		    strict ? "fails (XTCP_STRICT=1)" : "stays on stock TCP");
	}
	errno = err;
	return -1;
}

/* Put @nfd in @fd's place, keeping FD_CLOEXEC; close @nfd. */
static int swap_in(int nfd, int fd)
{
	int fdfl = fcntl(fd, F_GETFD), rc, err;

	rc = fdfl < 0 ? -1 : dup3(nfd, fd, fdfl & FD_CLOEXEC ? O_CLOEXEC : 0);
	err = errno;
	close(nfd);
	errno = err;
	return rc < 0 ? -1 : 0;
}

/* Has @fd a local port already (a bind() to port 0)? */
static bool bound(int fd)
{
	struct sockaddr_in sin;
	socklen_t len = sizeof(sin);

	return !getsockname(fd, (struct sockaddr *)&sin, &len) &&
	       sin.sin_family == AF_INET && sin.sin_port;
}

static void tell(const char *what, const char *stack)
{
	if (verbose)
		say("%s: %s", what, stack);
}

static void resolve(void)
{
	pthread_once(&once, init);
}

int socket(int domain, int type, int protocol)
{
	int fd, err;

	resolve();
	fd = real_socket(domain, type, protocol);
	if (fd < 0 || domain != AF_INET ||
	    (type & ~(SOCK_NONBLOCK | SOCK_CLOEXEC)) != SOCK_STREAM ||
	    (protocol != 0 && protocol != IPPROTO_TCP))
		return fd;
	err = errno;
	pthread_mutex_lock(&lock);
	rec_new(fd);
	pthread_mutex_unlock(&lock);
	errno = err;
	return fd;
}

int setsockopt(int fd, int level, int name, const void *val, socklen_t len)
{
	struct rec *r;
	int rc, err;

	resolve();
	rc = real_setsockopt(fd, level, name, val, len);
	if (rc < 0 || !maybe_tracked(fd))
		return rc;
	err = errno;
	pthread_mutex_lock(&lock);
	r = rec_get(fd);
	if (r)
		rec_add(r, level, name, val, len);
	pthread_mutex_unlock(&lock);
	errno = err;
	return rc;
}

/*
 * bind() to a port: the decision.  The AF_XTCP socket is bound before it
 * takes the descriptor, so a refused bind() leaves the program's socket
 * as it was.
 */
int bind(int fd, const struct sockaddr *addr, socklen_t len)
{
	const struct sockaddr_in *sin = (const struct sockaddr_in *)addr;
	char what[48];
	struct rec *r;
	int nfd, rc, err;

	resolve();
	if (!addr || len < sizeof(*sin) || addr->sa_family != AF_INET ||
	    !sin->sin_port || !maybe_tracked(fd))
		return real_bind(fd, addr, len);
	pthread_mutex_lock(&lock);
	r = rec_get(fd);
	if (!r || r->state != UNDECIDED || bound(fd)) {
		/* Stock's answer to a second bind() too (EINVAL). */
		pthread_mutex_unlock(&lock);
		return real_bind(fd, addr, len);
	}
	where(sin, what, sizeof(what));
	if (!port_wanted(ntohs(sin->sin_port))) {
		if (ports_bad && strict) {
			pthread_mutex_unlock(&lock);
			errno = EINVAL;
			return -1;
		}
		r->state = STOCK;
		pthread_mutex_unlock(&lock);
		tell(what, "stock TCP (not in XTCP_PORTS)");
		return real_bind(fd, addr, len);
	}
	nfd = xtcp_twin(fd, r, what);
	if (nfd < 0) {
		err = errno;
		r->state = STOCK;
		pthread_mutex_unlock(&lock);
		if (strict) {
			errno = err;
			return -1;
		}
		return real_bind(fd, addr, len);
	}
	if (real_bind(nfd, addr, len) < 0) {
		err = errno;
		close(nfd);
		if (strict) {
			pthread_mutex_unlock(&lock);
			say("%s: AF_XTCP refuses the address: %s (XTCP_STRICT=1)",
			    what, strerror(err));
			errno = err;
			return -1;
		}
		/* Stock's answer, and its socket if it has one. */
		r->state = STOCK;
		pthread_mutex_unlock(&lock);
		rc = real_bind(fd, addr, len);
		if (!rc)
			say("%s: AF_XTCP refuses the address (%s): stays on stock TCP",
			    what, strerror(err));
		return rc;
	}
	rc = swap_in(nfd, fd);
	err = errno;
	if (!rc) {
		r->state = XTCP;
		rec_set_sock(r, fd);
	}
	pthread_mutex_unlock(&lock);
	if (rc)
		say("%s: dup3: %s", what, strerror(err));
	else
		tell(what, "AF_XTCP");
	errno = err;
	return rc;
}

/*
 * listen() on a socket bound to port 0 or not bound: the AF_XTCP socket
 * takes the descriptor first, which releases stock's port, then binds
 * that port.  On failure (another copy of the descriptor holds the port)
 * a stock socket takes its place again, unless XTCP_STRICT=1.
 */
static int listen_convert(int fd, struct rec *r, int backlog)
{
	struct sockaddr_in sin = { .sin_family = AF_INET };
	socklen_t slen = sizeof(sin), tlen;
	struct tcp_info ti;
	bool told = false;
	char what[48];
	int nfd, err;

	/* Only a closed socket: stock's EINVAL for one that connects. */
	tlen = sizeof(ti);
	if (getsockname(fd, (struct sockaddr *)&sin, &slen) < 0 ||
	    sin.sin_family != AF_INET ||
	    getsockopt(fd, SOL_TCP, TCP_INFO, &ti, &tlen) < 0 ||
	    ti.tcpi_state != TCP_CLOSE)
		return real_listen(fd, backlog);
	where(&sin, what, sizeof(what));
	if (!sin.sin_port)
		snprintf(what, sizeof(what), "fd %d (no port yet)", fd);
	if (!ports_all && !(sin.sin_port && port_wanted(ntohs(sin.sin_port)))) {
		if (ports_bad && strict) {
			errno = EINVAL;
			return -1;
		}
		r->state = STOCK;
		tell(what, "stock TCP (not in XTCP_PORTS)");
		return real_listen(fd, backlog);
	}
	nfd = xtcp_twin(fd, r, what);
	if (nfd < 0) {
		r->state = STOCK;
		return strict ? -1 : real_listen(fd, backlog);
	}
	if (swap_in(nfd, fd) < 0)
		return -1;
	r->state = XTCP;
	rec_set_sock(r, fd);
	if (sin.sin_port && real_bind(fd, (struct sockaddr *)&sin,
				      sizeof(sin)) < 0) {
		err = errno;
		say("%s: AF_XTCP refuses the address: %s%s", what, strerror(err),
		    strict ? " (XTCP_STRICT=1)" : ": back to stock TCP");
		if (strict)
			goto fail;
		nfd = twin(fd, r, AF_INET, what, &told);
		if (nfd < 0 || swap_in(nfd, fd) < 0)
			goto fail;
		r->state = STOCK;
		rec_set_sock(r, fd);
		if (real_bind(fd, (struct sockaddr *)&sin, sizeof(sin)) < 0)
			return -1;
		return real_listen(fd, backlog);
	}
	tell(what, "AF_XTCP");
	return real_listen(fd, backlog);
fail:
	errno = err;
	return -1;
}

int listen(int fd, int backlog)
{
	struct rec *r;
	int rc;

	resolve();
	if (!maybe_tracked(fd))
		return real_listen(fd, backlog);
	pthread_mutex_lock(&lock);
	r = rec_get(fd);
	if (r && r->state == UNDECIDED)
		rc = listen_convert(fd, r, backlog);
	else
		rc = real_listen(fd, backlog);
	pthread_mutex_unlock(&lock);
	return rc;
}

/*
 * xtcp has no active open: a socket of ours that bind() put on AF_XTCP
 * and that now connects goes back to stock TCP, its local address with
 * it.
 */
int connect(int fd, const struct sockaddr *addr, socklen_t len)
{
	struct sockaddr_in local = { .sin_family = AF_INET };
	socklen_t llen = sizeof(local);
	bool told = false;
	char what[48];
	struct rec *r;
	int rc, nfd, err;

	resolve();
	rc = real_connect(fd, addr, len);
	if (rc == 0 || errno != EOPNOTSUPP || !addr ||
	    len < sizeof(sa_family_t) || addr->sa_family != AF_INET ||
	    !maybe_tracked(fd))
		return rc;
	pthread_mutex_lock(&lock);
	r = rec_get(fd);
	if (!r || r->state != XTCP) {
		pthread_mutex_unlock(&lock);
		errno = EOPNOTSUPP;
		return -1;
	}
	if (getsockname(fd, (struct sockaddr *)&local, &llen) < 0)
		goto fail;
	where(&local, what, sizeof(what));
	nfd = twin(fd, r, AF_INET, what, &told);
	if (nfd < 0 || swap_in(nfd, fd) < 0)
		goto fail;
	r->state = STOCK;
	rec_set_sock(r, fd);
	/* The port is free again now that the AF_XTCP socket is gone. */
	if ((local.sin_port || local.sin_addr.s_addr) &&
	    real_bind(fd, (struct sockaddr *)&local, sizeof(local)) < 0)
		goto fail;
	pthread_mutex_unlock(&lock);
	tell(what, "connects out: stock TCP");
	return real_connect(fd, addr, len);
fail:
	err = errno;
	pthread_mutex_unlock(&lock);
	errno = err;
	return -1;
}
