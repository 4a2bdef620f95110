/* SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause) */
/*
 * What obsprobe lets itself spend at node scale: spans exported per second (a token bucket) and
 * memory (a limit on its own RSS, with hysteresis: shedding starts at the limit and stops below
 * BUDGET_RESUME_PCT of it). While shedding, spans are not exported; metrics still count them.
 */
#ifndef OBSPROBE_BUDGET_H
#define OBSPROBE_BUDGET_H

#include <stdbool.h>
#include <stdint.h>

#define BUDGET_RESUME_PCT 90

struct rate_limit {
	double per_s; /* 0: no limit */
	double tokens;
	uint64_t last_ns;
	uint64_t denied;
};

/* per_s spans a second, with a burst of one second's worth. */
void rate_limit_init(struct rate_limit *rl, double per_s);
/* One span at now_ns: true when it may go. */
bool rate_limit_allow(struct rate_limit *rl, uint64_t now_ns);

struct mem_limit {
	uint64_t limit; /* bytes; 0: no limit */
	bool shedding;
	uint64_t episodes; /* times shedding started */
};

/* Feeds the current RSS; returns true when shedding started or stopped with this reading. */
bool mem_limit_update(struct mem_limit *ml, uint64_t rss);

/* "256M", "1G", "512Mi", "65536" (bytes; K, M, G are powers of 1024, as Ki, Mi, Gi): 0, or
 * -EINVAL / -ERANGE (outside min..max). */
int budget_parse_size(const char *s, uint64_t min, uint64_t max, uint64_t *out);

#endif /* OBSPROBE_BUDGET_H */
