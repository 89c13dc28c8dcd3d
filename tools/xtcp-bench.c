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
 * Exit status: 0 if at least one connect() succeeded, 1 if none did,
 * 2 usage.
 */
#include <errno.h>
#include <getopt.h>
#include <limits.h>
#include <pthread.h>
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

#define MAX_THREADS	256

/* Below LIN_US every microsecond has its bucket, above 64 per octave. */
#define LIN_US		1024
#define SUB_BITS	6
#define SUB		(1 << SUB_BITS)
#define NBUCKETS	(LIN_US + (32 - 10) * SUB)

enum close_mode { CLOSE_CLIENT, CLOSE_SERVER, CLOSE_FIN };

static const char *const close_names[] = { "client", "server", "fin" };

struct opts {
	struct sockaddr_in dst;
	int threads;
	double duration;
	long count;		/* > 0: total connect() attempts instead */
	enum close_mode close;
	int connect_timeout_ms;
	bool json;
};

struct hist {
	uint64_t n;
	uint64_t sum_us;
	uint32_t max_us;
	uint32_t b[NBUCKETS];
};

struct worker {
	pthread_t tid;
	struct bench *b;
	struct hist h;
	uint64_t conns;
	uint64_t resets;
	uint64_t errors;
	int first_err;
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
		"  --threads T           connecting threads (default 1)\n"
		"  --duration S          run S seconds (default 10)\n"
		"  --count N             make N connect() attempts in all instead\n"
		"  --close client|server|fin\n"
		"                        client: client closes with an RST\n"
		"                        (SO_LINGER {1,0}; default); server: wait\n"
		"                        for the server to close, then close;\n"
		"                        fin: plain close (client TIME_WAIT)\n"
		"  --connect-timeout-ms MS  give up on one connect() (default 3000)\n"
		"  --json                print JSON instead of key=value\n"
		"Prints: threads conns resets errors seconds hps p50_us p90_us\n"
		"p99_us max_us mean_us first_error close.  conns counts every\n"
		"completed handshake, resets those of them whose connect() saw\n"
		"the server's RST already (ECONNRESET).\n");
}

static void die_usage(const char *what)
{
	fprintf(stderr, "xtcp-bench: bad %s\n", what);
	usage(stderr);
	exit(2);
}

static long parse_long(const char *s, long min, long max, const char *what)
{
	char *end;
	long v;

	errno = 0;
	v = strtol(s, &end, 10);
	if (errno || end == s || *end || v < min || v > max)
		die_usage(what);
	return v;
}

static double parse_secs(const char *s)
{
	char *end;
	double v;

	errno = 0;
	v = strtod(s, &end);
	if (errno || end == s || *end || !(v > 0 && v <= 86400))
		die_usage("--duration");
	return v;
}

static enum close_mode parse_close(const char *s)
{
	for (size_t i = 0; i < sizeof(close_names) / sizeof(*close_names); i++)
		if (!strcmp(s, close_names[i]))
			return i;
	die_usage("--close");
	return CLOSE_CLIENT;
}

enum {
	OPT_ADDR = 256, OPT_PORT, OPT_THREADS, OPT_DURATION, OPT_COUNT,
	OPT_CLOSE, OPT_CTIMEOUT, OPT_JSON, OPT_HELP,
};

static const struct option long_opts[] = {
	{ "addr", required_argument, NULL, OPT_ADDR },
	{ "port", required_argument, NULL, OPT_PORT },
	{ "threads", required_argument, NULL, OPT_THREADS },
	{ "duration", required_argument, NULL, OPT_DURATION },
	{ "count", required_argument, NULL, OPT_COUNT },
	{ "close", required_argument, NULL, OPT_CLOSE },
	{ "connect-timeout-ms", required_argument, NULL, OPT_CTIMEOUT },
	{ "json", no_argument, NULL, OPT_JSON },
	{ "help", no_argument, NULL, OPT_HELP },
	{ NULL, 0, NULL, 0 },
};

static void parse_opt(struct opts *o, int c, const char *arg)
{
	switch (c) {
	case OPT_ADDR:
		if (inet_pton(AF_INET, arg, &o->dst.sin_addr) != 1)
			die_usage("--addr");
		break;
	case OPT_PORT:
		o->dst.sin_port = htons(parse_long(arg, 1, 65535, "--port"));
		break;
	case OPT_THREADS:
		o->threads = parse_long(arg, 1, MAX_THREADS, "--threads");
		break;
	case OPT_DURATION: o->duration = parse_secs(arg); break;
	case OPT_COUNT: o->count = parse_long(arg, 1, LONG_MAX, "--count"); break;
	case OPT_CLOSE: o->close = parse_close(arg); break;
	case OPT_CTIMEOUT:
		o->connect_timeout_ms = parse_long(arg, 1, 600000,
						   "--connect-timeout-ms");
		break;
	case OPT_JSON: o->json = true; break;
	case OPT_HELP: usage(stdout); exit(0);
	default: usage(stderr); exit(2);
	}
}

static void parse_args(struct opts *o, int argc, char **argv)
{
	int c;

	*o = (struct opts){
		.dst.sin_family = AF_INET,
		.dst.sin_addr.s_addr = htonl(INADDR_LOOPBACK),
		.threads = 1, .duration = 10, .close = CLOSE_CLIENT,
		.connect_timeout_ms = 3000,
	};
	while ((c = getopt_long(argc, argv, "h", long_opts, NULL)) != -1)
		parse_opt(o, c == 'h' ? OPT_HELP : c, optarg);
	if (optind < argc)
		die_usage("argument");
	if (!o->dst.sin_port)
		die_usage("--port (missing)");
}

static double now_s(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec + ts.tv_nsec / 1e9;
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

static void finish(struct worker *w, int fd)
{
	const struct opts *o = &w->b->o;

	switch (o->close) {
	case CLOSE_CLIENT:
		close_rst(fd);
		break;
	case CLOSE_SERVER:
		if (wait_server_close(fd, o->connect_timeout_ms) < 0) {
			w->errors++;
			if (!w->first_err)
				w->first_err = errno;
		}
		close_rst(fd);
		break;
	case CLOSE_FIN:
		close(fd);
		break;
	}
}

static void note_error(struct worker *w, int err)
{
	/* Some pause, or a refused port turns the run into a busy loop. */
	static const struct timespec backoff = { .tv_nsec = 1000000 };

	w->errors++;
	if (!w->first_err)
		w->first_err = err;
	nanosleep(&backoff, NULL);
}

static bool more(struct bench *b)
{
	if (b->o.count)
		return atomic_fetch_sub(&b->remaining, 1) > 0;
	return now_s() < b->deadline;
}

/* One attempt: socket, timed connect, close as configured. */
static void one_connect(struct worker *w)
{
	const struct opts *o = &w->b->o;
	uint64_t t0, t1;
	int fd, rc;

	fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (fd < 0) {
		note_error(w, errno);
		return;
	}
	/* connect() honours SO_SNDTIMEO: a lost SYN cannot stall the run. */
	set_timeout(fd, SO_SNDTIMEO, o->connect_timeout_ms);
	t0 = now_ns();
	rc = connect(fd, (const struct sockaddr *)&o->dst, sizeof(o->dst));
	t1 = now_ns();
	/*
	 * ECONNRESET, unlike ECONNREFUSED, means the handshake completed:
	 * the server's close overtook our return from connect().
	 */
	if (rc < 0 && errno == ECONNRESET) {
		hist_add(&w->h, t1 - t0);
		w->conns++;
		w->resets++;
		close(fd);
		return;
	}
	if (rc < 0) {
		note_error(w, errno == EINPROGRESS ? ETIMEDOUT : errno);
		close(fd);
		return;
	}
	hist_add(&w->h, t1 - t0);
	w->conns++;
	finish(w, fd);
}

static void *worker_main(void *arg)
{
	struct worker *w = arg;

	pthread_barrier_wait(&w->b->go);
	while (more(w->b))
		one_connect(w);
	return NULL;
}

static const char *err_name(int err)
{
	const char *s = err ? strerrorname_np(err) : "none";

	return s ? s : "unknown";
}

struct result {
	int threads;
	uint64_t conns, resets, errors;
	double seconds;
	struct hist h;
	int first_err;
};

static void print_result(const struct opts *o, const struct result *r)
{
	const char *fmt = o->json ?
		"{\"threads\": %d, \"conns\": %llu, \"resets\": %llu, "
		"\"errors\": %llu, "
		"\"seconds\": %.3f, \"hps\": %.1f, \"p50_us\": %u, "
		"\"p90_us\": %u, \"p99_us\": %u, \"max_us\": %u, "
		"\"mean_us\": %.1f, \"first_error\": \"%s\", \"close\": \"%s\"}\n" :
		"threads=%d conns=%llu resets=%llu errors=%llu seconds=%.3f "
		"hps=%.1f "
		"p50_us=%u p90_us=%u p99_us=%u max_us=%u mean_us=%.1f "
		"first_error=%s close=%s\n";

	printf(fmt, r->threads, (unsigned long long)r->conns,
	       (unsigned long long)r->resets, (unsigned long long)r->errors, r->seconds,
	       r->seconds > 0 ? r->conns / r->seconds : 0.0,
	       hist_pct(&r->h, 50), hist_pct(&r->h, 90), hist_pct(&r->h, 99),
	       r->h.max_us, r->h.n ? (double)r->h.sum_us / r->h.n : 0.0,
	       err_name(r->first_err), close_names[o->close]);
}

static void collect(struct bench *b, struct result *r, double end)
{
	memset(r, 0, sizeof(*r));
	r->threads = b->o.threads;
	r->seconds = end - b->start;
	for (int i = 0; i < b->o.threads; i++) {
		struct worker *w = &b->w[i];

		hist_merge(&r->h, &w->h);
		r->conns += w->conns;
		r->resets += w->resets;
		r->errors += w->errors;
		if (!r->first_err)
			r->first_err = w->first_err;
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
	struct result r;

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
	collect(&b, &r, now_s());
	print_result(&b.o, &r);
	return r.conns ? 0 : 1;
}
