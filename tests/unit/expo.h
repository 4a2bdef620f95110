/* SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause) */
/* The Prometheus exposition of a registry, and what the tests assert on it. Include after
 * cmocka.h. */
#ifndef OBSPROBE_TEST_EXPO_H
#define OBSPROBE_TEST_EXPO_H

#include <stdlib.h>
#include <string.h>

#include "exporters/prometheus_text.h"
#include "pipeline/metrics.h"
#include "util/strbuf.h"

/* The whole exposition of m; the caller frees it. */
static inline char *render(struct metrics *m)
{
	struct strbuf sb;
	char *s;

	strbuf_init(&sb);
	assert_int_equal(prometheus_text_write(m, &sb), 0);
	s = strbuf_detach(&sb, NULL);
	assert_non_null(s);
	return s;
}

static inline void assert_render(struct metrics *m, const char *want)
{
	char *got = render(m);

	assert_string_equal(got, want);
	free(got);
}

static inline void assert_render_has(struct metrics *m, const char *line)
{
	char *got = render(m);

	if (!strstr(got, line))
		fail_msg("missing \"%s\" in:\n%s", line, got);
	free(got);
}

/* line is a whole sample line of got: preceded and followed by a newline (every exposition
 * starts with "# HELP"), so that a value of 1 does not match 10. */
static inline void assert_line(const char *got, const char *line)
{
	size_t n = strlen(line);
	const char *p;

	for (p = got; (p = strstr(p, line)); p++)
		if (p > got && p[-1] == '\n' && p[n] == '\n')
			return;
	fail_msg("missing line \"%s\" in:\n%s", line, got);
}

static inline void assert_no(const char *got, const char *what)
{
	if (strstr(got, what))
		fail_msg("unexpected \"%s\" in:\n%s", what, got);
}

#define ARRAY_SIZE(a) (sizeof(a) / sizeof((a)[0]))

/* The semantic conventions' duration buckets, in seconds. */
static const double semconv_bounds[]
	__attribute__((unused)) = { 0.005, 0.01, 0.025, 0.05, 0.075, 0.1, 0.25,
				    0.5,   0.75, 1,	2.5,  5,     7.5, 10 };

/* Registers a family name of type with help "Help.": its index, or the registry's error. */
static inline int reg(struct metrics *m, const char *name, enum metric_type type,
		      const double *bounds, size_t nbounds)
{
	struct metric_family_def def = {
		.name = name,
		.help = "Help.",
		.type = type,
		.bounds = bounds,
		.nbounds = nbounds,
	};

	return metrics_register(m, &def);
}

#endif /* OBSPROBE_TEST_EXPO_H */
