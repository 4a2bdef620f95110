// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
#include "util/budget.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

void rate_limit_init(struct rate_limit *rl, double per_s)
{
	memset(rl, 0, sizeof(*rl));
	rl->per_s = per_s > 0 ? per_s : 0;
	rl->tokens = rl->per_s;
}

bool rate_limit_allow(struct rate_limit *rl, uint64_t now_ns)
{
	if (rl->per_s <= 0)
		return true;
	if (rl->last_ns && now_ns > rl->last_ns) {
		rl->tokens += (double)(now_ns - rl->last_ns) * rl->per_s / 1e9;
		if (rl->tokens > rl->per_s)
			rl->tokens = rl->per_s;
	}
	if (now_ns > rl->last_ns)
		rl->last_ns = now_ns;
	if (rl->tokens >= 1) {
		rl->tokens -= 1;
		return true;
	}
	rl->denied++;
	return false;
}

bool mem_limit_update(struct mem_limit *ml, uint64_t rss)
{
	if (!ml->limit)
		return false;
	if (!ml->shedding && rss >= ml->limit) {
		ml->shedding = true;
		ml->episodes++;
		return true;
	}
	if (ml->shedding && rss < ml->limit / 100 * BUDGET_RESUME_PCT) {
		ml->shedding = false;
		return true;
	}
	return false;
}

int budget_parse_size(const char *s, uint64_t min, uint64_t max, uint64_t *out)
{
	static const struct {
		const char *suffix;
		unsigned int shift;
	} units[] = { { "", 0 },    { "K", 10 }, { "Ki", 10 }, { "M", 20 },
		      { "Mi", 20 }, { "G", 30 }, { "Gi", 30 } };
	unsigned long long v;
	char *end;
	size_t i;

	if (!s || s[0] < '0' || s[0] > '9')
		return -EINVAL;
	errno = 0;
	v = strtoull(s, &end, 10);
	if (errno)
		return -ERANGE;
	for (i = 0; i < sizeof(units) / sizeof(units[0]); i++) {
		if (strcmp(end, units[i].suffix))
			continue;
		if (v > (UINT64_MAX >> units[i].shift))
			return -ERANGE;
		v <<= units[i].shift;
		if (v < min || v > max)
			return -ERANGE;
		*out = v;
		return 0;
	}
	return -EINVAL;
}
