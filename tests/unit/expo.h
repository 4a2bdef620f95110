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

#endif /* OBSPROBE_TEST_EXPO_H */
