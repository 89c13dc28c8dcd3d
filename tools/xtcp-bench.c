// SPDX-License-Identifier: GPL-2.0
/*
 * xtcp-bench: how many TCP handshakes per second a listener completes.
 *
 * Each thread loops: socket(), connect() timed with CLOCK_MONOTONIC,
 * then close the connection, by default with SO_LINGER {1, 0} so that
 * an RST ends it and no TIME_WAIT socket holds the ephemeral port.  The
 * client is an ordinary AF_INET socket whatever the server's family:
 * xtcp's promise is that TCP peers cannot tell.
 *
 * Latencies go into a log-linear histogram (exact to 1 us below 1 ms,
 * within 1/64 above), so memory stays fixed however long the run.
 *
 * With --rr REQ:RESP each connection is a transaction instead, as
 * netperf's TCP_CRR: connect(), write REQ bytes, read RESP bytes, close()
 * (a FIN: TIME_WAIT stays with the client); its time is the whole of it,
 * from before connect() to the last byte of the response.
 *
 * With --alt-port the threads alternate between two listeners in short
 * slices, in the order A B B A A B B A ..., and each gets its own
 * numbers: both see the same host load, which on a shared machine moves
 * far more from one second to the next than the difference measured.
 *
 * Exit status: 0 if at least one connect() succeeded, 1 if none did,
 * 2 usage.
 */
#include <errno.h>
#include <getopt.h>
#include <limits.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>

#define PROG "xtcp-bench"
#include "cli.h"

#define MAX_THREADS	256
#define MAX_TARGETS	2

/* Below LIN_US every microsecond has its bucket, above 64 per octave. */
#define LIN_US		1024
#define SUB_BITS	6
#define SUB		(1 << SUB_BITS)
#define NBUCKETS	(LIN_US + (32 - 10) * SUB)

enum close_mode { CLOSE_CLIENT, CLOSE_SERVER, CLOSE_FIN };

static const char *const close_names[] = { "client", "server", "fin" };

struct opts {
	struct sockaddr_in dst[MAX_TARGETS];
	int ntargets;
	int slice_ms;
	int threads;
	double duration;
	long count;		/* > 0: total connect() attempts instead */
	enum close_mode close;
	int connect_timeout_ms;
	long rr_req;		/* > 0: --rr */
	long rr_resp;
	bool json;
};

#define RR_MAX		(64L << 20)
#define RR_CHUNK	65536

struct hist {
	uint64_t n;
	uint64_t sum_us;
	uint32_t max_us;
	uint32_t b[NBUCKETS];
};

/* What one thread saw of one target. */
struct stats {
	struct hist h;
	uint64_t conns;
	uint64_t resets;
	uint64_t errors;
	int first_err;
};

struct worker {
	pthread_t tid;
	struct bench *b;
	struct stats st[MAX_TARGETS];
};

struct bench {
	struct opts o;
	pthread_barrier_t go;
	double start;
	double deadline;
	atomic_long remaining;
	struct worker *w;
};

static void usage(FILE *f)
{
	fprintf(f,
		"usage: xtcp-bench --port P [options]\n"
		"  --addr A              server IPv4 address (default 127.0.0.1)\n"
		"  --port P              server port (required)\n"
		"  --alt-port P2         alternate between P and P2 (same address)\n"
		"                        in slices: one result line per port\n"
		"  --slice-ms MS         length of a slice (default 200)\n"
		"  --threads T           connecting threads (default 1)\n"
		"  --duration S          run S seconds (default 10)\n"
		"  --count N             make N connect() attempts in all instead\n"
		"  --close client|server|fin\n"
		"                        client: client closes with an RST\n"
		"                        (SO_LINGER {1,0}; default); server: wait\n"
		"                        for the server to close, then close;\n"
		"                        fin: plain close (client TIME_WAIT)\n"
		"  --connect-timeout-ms MS  give up on one connect() (default 3000)\n"
		"  --rr REQ:RESP         a transaction per connection: write REQ\n"
		"                        bytes, read RESP, close (FIN); times and\n"
		"                        hps are of whole transactions\n"
		"  --json                print JSON instead of key=value\n"
		"Prints: port threads conns resets errors seconds hps p50_us\n"
		"p90_us p99_us max_us mean_us first_error close.  seconds is the\n"
		"time given to that port, hps conns/seconds.  conns counts every\n"
		"completed handshake, resets those of them whose connect() saw\n"
		"the server's RST already (ECONNRESET).\n");
}



static double parse_secs(const char *s)
{
	char *end;
	double v;

	errno = 0;
	v = strtod(s, &end);
	if (errno || end == s || *end || !(v > 0 && v <= 86400))
		die_usage("bad %s", "--duration");
	return v;
}

static enum close_mode parse_close(const char *s)
{
	for (size_t i = 0; i < sizeof(close_names) / sizeof(*close_names); i++)
		if (!strcmp(s, close_names[i]))
			return i;
	die_usage("bad %s", "--close");
	return CLOSE_CLIENT;
}

enum {
	OPT_ADDR = 256, OPT_PORT, OPT_ALT_PORT, OPT_SLICE, OPT_THREADS, OPT_DURATION, OPT_COUNT,
	OPT_CLOSE, OPT_CTIMEOUT, OPT_RR, OPT_JSON, OPT_HELP,
};

static const struct option long_opts[] = {
	{ "addr", required_argument, NULL, OPT_ADDR },
	{ "port", required_argument, NULL, OPT_PORT },
	{ "alt-port", required_argument, NULL, OPT_ALT_PORT },
	{ "slice-ms", required_argument, NULL, OPT_SLICE },
	{ "threads", required_argument, NULL, OPT_THREADS },
	{ "duration", required_argument, NULL, OPT_DURATION },
	{ "count", required_argument, NULL, OPT_COUNT },
	{ "close", required_argument, NULL, OPT_CLOSE },
	{ "connect-timeout-ms", required_argument, NULL, OPT_CTIMEOUT },
	{ "rr", required_argument, NULL, OPT_RR },
	{ "json", no_argument, NULL, OPT_JSON },
	{ "help", no_argument, NULL, OPT_HELP },
	{ NULL, 0, NULL, 0 },
};

static void parse_opt(struct opts *o, int c, const char *arg)
{
	switch (c) {
	case OPT_ADDR:
		if (inet_pton(AF_INET, arg, &o->dst[0].sin_addr) != 1)
			die_usage("bad %s", "--addr");
		break;
	case OPT_PORT:
		o->dst[0].sin_port = htons(parse_long(arg, 1, 65535, "--port"));
		break;
	case OPT_ALT_PORT:
		o->dst[1].sin_port = htons(parse_long(arg, 1, 65535, "--alt-port"));
		o->ntargets = 2;
		break;
	case OPT_SLICE:
		o->slice_ms = parse_long(arg, 1, 3600000, "--slice-ms");
		break;
	case OPT_THREADS:
		o->threads = parse_long(arg, 1, MAX_THREADS, "--threads");
		break;
	case OPT_DURATION:
		o->duration = parse_secs(arg);
		break;
	case OPT_COUNT:
		o->count = parse_long(arg, 1, LONG_MAX, "--count");
		break;
	case OPT_CLOSE:
		o->close = parse_close(arg);
		break;
	case OPT_CTIMEOUT:
		o->connect_timeout_ms = parse_long(arg, 1, 600000,
						   "--connect-timeout-ms");
		break;
	case OPT_RR:
		parse_rr(arg, RR_MAX, &o->rr_req, &o->rr_resp);
		o->close = CLOSE_FIN;
		break;
	case OPT_JSON:
		o->json = true;
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
		.dst[0].sin_family = AF_INET,
		.dst[0].sin_addr.s_addr = htonl(INADDR_LOOPBACK),
		.ntargets = 1, .slice_ms = 200,
		.threads = 1, .duration = 10, .close = CLOSE_CLIENT,
		.connect_timeout_ms = 3000,
	};
	while ((c = getopt_long(argc, argv, "h", long_opts, NULL)) != -1)
		parse_opt(o, c == 'h' ? OPT_HELP : c, optarg);
	if (optind < argc)
		die_usage("bad %s", "argument");
	if (!o->dst[0].sin_port)
		die_usage("bad %s", "--port (missing)");
	o->dst[1].sin_family = AF_INET;
	o->dst[1].sin_addr = o->dst[0].sin_addr;
}


static uint64_t now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000 + ts.tv_nsec;
}

static unsigned int hist_index(uint32_t us)
{
	int msb;

	if (us < LIN_US)
		return us;
	msb = 31 - __builtin_clz(us);
	return LIN_US + (msb - 10) * SUB + ((us >> (msb - SUB_BITS)) & (SUB - 1));
}

/* A bucket's representative value: exact below LIN_US, its middle above. */
static uint32_t hist_value(unsigned int i)
{
	unsigned int msb, sub, shift;

	if (i < LIN_US)
		return i;
	msb = (i - LIN_US) / SUB + 10;
	sub = (i - LIN_US) % SUB;
	shift = msb - SUB_BITS;
	return ((SUB + sub) << shift) + (1u << shift) / 2;
}

static void hist_add(struct hist *h, uint64_t ns)
{
	uint32_t us = ns / 1000 > UINT32_MAX ? UINT32_MAX : ns / 1000;

	h->b[hist_index(us)]++;
	h->n++;
	h->sum_us += us;
	if (us > h->max_us)
		h->max_us = us;
}

static void hist_merge(struct hist *into, const struct hist *h)
{
	for (int i = 0; i < NBUCKETS; i++)
		into->b[i] += h->b[i];
	into->n += h->n;
	into->sum_us += h->sum_us;
	if (h->max_us > into->max_us)
		into->max_us = h->max_us;
}

/* The smallest value that at least pct percent of samples do not exceed. */
static uint32_t hist_pct(const struct hist *h, double pct)
{
	uint64_t want = (uint64_t)(h->n * pct / 100.0 + 0.999999), seen = 0;

	if (!h->n)
		return 0;
	for (int i = 0; i < NBUCKETS; i++) {
		seen += h->b[i];
		if (seen >= want)
			return hist_value(i) < h->max_us ? hist_value(i) : h->max_us;
	}
	return h->max_us;
}

static void set_timeout(int fd, int opt, int ms)
{
	struct timeval tv = { .tv_sec = ms / 1000, .tv_usec = ms % 1000 * 1000 };

	setsockopt(fd, SOL_SOCKET, opt, &tv, sizeof(tv));
}

static void close_rst(int fd)
{
	struct linger lg = { .l_onoff = 1, .l_linger = 0 };

	setsockopt(fd, SOL_SOCKET, SO_LINGER, &lg, sizeof(lg));
	close(fd);
}

/*
 * --close server: the server's close (RST or FIN) must arrive before we
 * close, or it would not be the server that ended the connection.  Still
 * an RST from us then, so that a FIN from the server leaves no TIME_WAIT.
 */
static int wait_server_close(int fd, int ms)
{
	char buf[64];
	ssize_t n;

	set_timeout(fd, SO_RCVTIMEO, ms);
	do
		n = read(fd, buf, sizeof(buf));
	while (n > 0);
	if (n < 0 && errno != ECONNRESET)
		return -1;
	return 0;
}

static void finish(const struct opts *o, struct stats *st, int fd)
{
	switch (o->close) {
	case CLOSE_CLIENT:
		close_rst(fd);
		break;
	case CLOSE_SERVER:
		if (wait_server_close(fd, o->connect_timeout_ms) < 0) {
			st->errors++;
			if (!st->first_err)
				st->first_err = errno;
		}
		close_rst(fd);
		break;
	case CLOSE_FIN:
		close(fd);
		break;
	}
}

static void note_error(struct stats *st, int err)
{
	/* Some pause, or a refused port turns the run into a busy loop. */
	static const struct timespec backoff = { .tv_nsec = 1000000 };

	st->errors++;
	if (!st->first_err)
		st->first_err = err;
	nanosleep(&backoff, NULL);
}

/*
 * Which target slice s belongs to: 0 1 1 0 0 1 1 0 ..., so that neither
 * target is always first after the other and a steady drift in load
 * cancels out.
 */
static int slice_target(long s)
{
	return (s ^ (s >> 1)) & 1;
}

static int pick_target(const struct bench *b)
{
	if (b->o.ntargets == 1)
		return 0;
	return slice_target((long)((now_s() - b->start) * 1000 / b->o.slice_ms));
}

/* How much of the elapsed time went to target t. */
static double target_seconds(const struct opts *o, double elapsed, int t)
{
	double slice = o->slice_ms / 1000.0, secs = 0;
	long s, n = (long)(elapsed / slice);

	if (o->ntargets == 1)
		return elapsed;
	for (s = 0; s < n; s++)
		if (slice_target(s) == t)
			secs += slice;
	if (slice_target(n) == t)
		secs += elapsed - n * slice;
	return secs;
}

static bool more(struct bench *b)
{
	if (b->o.count)
		return atomic_fetch_sub(&b->remaining, 1) > 0;
	return now_s() < b->deadline;
}

/* All of n bytes written (wr) or read, in RR_CHUNK pieces; -1 if not. */
static int full_io(int fd, char *buf, long n, bool wr)
{
	while (n > 0) {
		long len = n > RR_CHUNK ? RR_CHUNK : n;
		ssize_t k = wr ? write(fd, buf, len) : read(fd, buf, len);

		if (k == 0)
			errno = EPIPE;
		if (k <= 0)
			return -1;
		n -= k;
	}
	return 0;
}

/*
 * --rr: the request, the response, then our close (a FIN); the
 * transaction's time runs from before connect() (t0) to the response's
 * last byte.
 */
static void transact(const struct opts *o, struct stats *st, int fd,
		     uint64_t t0)
{
	static __thread char buf[RR_CHUNK];

	set_timeout(fd, SO_RCVTIMEO, o->connect_timeout_ms);
	if (full_io(fd, buf, o->rr_req, true) < 0 ||
	    full_io(fd, buf, o->rr_resp, false) < 0) {
		note_error(st, errno == EAGAIN ? ETIMEDOUT : errno);
		close_rst(fd);
		return;
	}
	hist_add(&st->h, now_ns() - t0);
	st->conns++;
	close(fd);
}

/* One attempt: socket, timed connect, close as configured. */
static void one_connect(const struct opts *o, const struct sockaddr_in *dst,
			struct stats *st)
{
	uint64_t t0, t1;
	int fd, rc;

	fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (fd < 0) {
		note_error(st, errno);
		return;
	}
	/* connect() honours SO_SNDTIMEO: a lost SYN cannot stall the run. */
	set_timeout(fd, SO_SNDTIMEO, o->connect_timeout_ms);
	t0 = now_ns();
	rc = connect(fd, (const struct sockaddr *)dst, sizeof(*dst));
	t1 = now_ns();
	/*
	 * ECONNRESET, unlike ECONNREFUSED, means the handshake completed:
	 * the server's close overtook our return from connect().
	 */
	if (rc < 0 && errno == ECONNRESET && !o->rr_req) {
		hist_add(&st->h, t1 - t0);
		st->conns++;
		st->resets++;
		close(fd);
		return;
	}
	if (rc < 0) {
		note_error(st, errno == EINPROGRESS ? ETIMEDOUT : errno);
		close(fd);
		return;
	}
	if (o->rr_req) {
		transact(o, st, fd, t0);
		return;
	}
	hist_add(&st->h, t1 - t0);
	st->conns++;
	finish(o, st, fd);
}

static void *worker_main(void *arg)
{
	struct worker *w = arg;
	struct bench *b = w->b;
	int t;

	pthread_barrier_wait(&b->go);
	while (more(b)) {
		t = pick_target(b);
		one_connect(&b->o, &b->o.dst[t], &w->st[t]);
	}
	return NULL;
}

static const char *err_name(int err)
{
	const char *s = err ? strerrorname_np(err) : "none";

	return s ? s : "unknown";
}

struct result {
	unsigned int port;
	int threads;
	uint64_t conns, resets, errors;
	double seconds;
	struct hist h;
	int first_err;
};

/*
 * One field of a result line: "key=value" or, with --json, "key": value
 * (strings quoted).  Field by field, so both forms stay one list.
 */
static void put(const struct opts *o, int *n, const char *key, bool str,
		const char *fmt, ...)
{
	const char *sep = *n ? (o->json ? ", " : " ") : (o->json ? "{" : "");
	va_list ap;

	printf(o->json ? "%s\"%s\": " : "%s%s=", sep, key);
	if (o->json && str)
		putchar('"');
	va_start(ap, fmt);
	vprintf(fmt, ap);
	va_end(ap);
	if (o->json && str)
		putchar('"');
	(*n)++;
}

static void print_result(const struct opts *o, const struct result *r)
{
	double hps = r->seconds > 0 ? r->conns / r->seconds : 0.0;
	double mean = r->h.n ? (double)r->h.sum_us / r->h.n : 0.0;
	int n = 0;

	put(o, &n, "port", false, "%u", r->port);
	put(o, &n, "threads", false, "%d", r->threads);
	put(o, &n, "conns", false, "%llu", (unsigned long long)r->conns);
	put(o, &n, "resets", false, "%llu", (unsigned long long)r->resets);
	put(o, &n, "errors", false, "%llu", (unsigned long long)r->errors);
	put(o, &n, "seconds", false, "%.3f", r->seconds);
	put(o, &n, "hps", false, "%.1f", hps);
	put(o, &n, "p50_us", false, "%u", hist_pct(&r->h, 50));
	put(o, &n, "p90_us", false, "%u", hist_pct(&r->h, 90));
	put(o, &n, "p99_us", false, "%u", hist_pct(&r->h, 99));
	put(o, &n, "max_us", false, "%u", r->h.max_us);
	put(o, &n, "mean_us", false, "%.1f", mean);
	put(o, &n, "first_error", true, "%s", err_name(r->first_err));
	put(o, &n, "close", true, "%s", close_names[o->close]);
	if (o->rr_req)
		put(o, &n, "rr", true, "%ld:%ld", o->rr_req, o->rr_resp);
	printf(o->json ? "}\n" : "\n");
}

static void collect(struct bench *b, int t, struct result *r, double end)
{
	memset(r, 0, sizeof(*r));
	r->port = ntohs(b->o.dst[t].sin_port);
	r->threads = b->o.threads;
	r->seconds = target_seconds(&b->o, end - b->start, t);
	for (int i = 0; i < b->o.threads; i++) {
		struct stats *st = &b->w[i].st[t];

		hist_merge(&r->h, &st->h);
		r->conns += st->conns;
		r->resets += st->resets;
		r->errors += st->errors;
		if (!r->first_err)
			r->first_err = st->first_err;
	}
}

static void start_workers(struct bench *b)
{
	int i, err;

	for (i = 0; i < b->o.threads; i++) {
		b->w[i].b = b;
		err = pthread_create(&b->w[i].tid, NULL, worker_main, &b->w[i]);
		if (err) {
			fprintf(stderr, "xtcp-bench: pthread_create: %s\n",
				strerror(err));
			exit(1);
		}
	}
}

int main(int argc, char **argv)
{
	static struct bench b;
	static struct result r;
	uint64_t conns = 0;
	double end;

	parse_args(&b.o, argc, argv);
	b.w = calloc(b.o.threads, sizeof(*b.w));
	if (!b.w) {
		perror("xtcp-bench: calloc");
		return 1;
	}
	atomic_init(&b.remaining, b.o.count);
	pthread_barrier_init(&b.go, NULL, b.o.threads + 1);
	start_workers(&b);
	/* The barrier publishes start and deadline to every worker. */
	b.start = now_s();
	b.deadline = b.start + b.o.duration;
	pthread_barrier_wait(&b.go);
	for (int i = 0; i < b.o.threads; i++)
		pthread_join(b.w[i].tid, NULL);
	/*
	 * Connections are started until the deadline only: time after it,
	 * spent on the last ones in flight, belongs to no slice.
	 */
	end = now_s();
	if (!b.o.count && end > b.deadline)
		end = b.deadline;
	for (int t = 0; t < b.o.ntargets; t++) {
		collect(&b, t, &r, end);
		print_result(&b.o, &r);
		conns += r.conns;
	}
	return conns ? 0 : 1;
}
