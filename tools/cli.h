/* SPDX-License-Identifier: GPL-2.0 */
/*
 * What the xtcp tools share: option parsing errors and the clock.
 * Each tool defines usage(FILE *) and PROG before including this.
 */
#ifndef XTCP_TOOLS_CLI_H
#define XTCP_TOOLS_CLI_H

#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

static void usage(FILE *f);

/* A usage error: say what, show the usage, exit 2. */
static inline void __attribute__((noreturn, format(printf, 1, 2)))
die_usage(const char *fmt, ...)
{
	va_list ap;

	fprintf(stderr, PROG ": ");
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputc('\n', stderr);
	usage(stderr);
	exit(2);
}

/* A whole-string decimal number within [min, max], or a usage error. */
static inline long parse_long(const char *s, long min, long max,
			      const char *what)
{
	char *end;
	long v;

	errno = 0;
	v = strtol(s, &end, 10);
	if (errno || end == s || *end || v < min || v > max)
		die_usage("bad %s", what);
	return v;
}

/* --rr REQ:RESP: two byte counts up to max, REQ at least 1. */
static inline void parse_rr(const char *s, long max, long *req, long *resp)
{
	const char *colon = strchr(s, ':');
	char buf[32];

	if (!colon || colon - s >= (long)sizeof(buf))
		die_usage("bad %s", "--rr");
	memcpy(buf, s, colon - s);
	buf[colon - s] = 0;
	*req = parse_long(buf, 1, max, "--rr");
	*resp = parse_long(colon + 1, 0, max, "--rr");
}

/* Monotonic seconds, for timeouts and rates. */
static inline double now_s(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec + ts.tv_nsec / 1e9;
}

#endif /* XTCP_TOOLS_CLI_H */
