// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/* obsprobe's own budget: the span rate limit, the memory limit's hysteresis, sizes. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include "unit.h"

#include <errno.h>

#include "util/budget.h"

#define S 1000000000ull

UNIT_TEST(test_rate_limit_burst_then_rate)
{
	struct rate_limit rl;
	int i, n = 0;

	(void)state;
	rate_limit_init(&rl, 5);
	/* a burst of one second's worth at once */
	for (i = 0; i < 50; i++)
		n += rate_limit_allow(&rl, 10 * S);
	assert_int_equal(n, 5);
	assert_int_equal(rl.denied, 45);
	/* 0.4 s later: 2 more */
	n = 0;
	for (i = 0; i < 10; i++)
		n += rate_limit_allow(&rl, 10 * S + 4 * S / 10);
	assert_int_equal(n, 2);
	/* an hour later: the bucket holds one second's worth, not an hour's */
	n = 0;
	for (i = 0; i < 100; i++)
		n += rate_limit_allow(&rl, 3610 * S);
	assert_int_equal(n, 5);
	/* a clock that goes backwards gives nothing back */
	assert_false(rate_limit_allow(&rl, 5 * S));
}

UNIT_TEST(test_rate_limit_off)
{
	struct rate_limit rl;
	int i;

	(void)state;
	rate_limit_init(&rl, 0);
	for (i = 0; i < 100000; i++)
		assert_true(rate_limit_allow(&rl, 1));
	assert_int_equal(rl.denied, 0);
}

UNIT_TEST(test_mem_limit_hysteresis)
{
	struct mem_limit ml = { .limit = 100 << 20 };

	(void)state;
	assert_false(mem_limit_update(&ml, 50 << 20));
	assert_false(ml.shedding);
	assert_true(mem_limit_update(&ml, 100 << 20));
	assert_true(ml.shedding);
	/* between 90% and the limit: still shedding */
	assert_false(mem_limit_update(&ml, 95 << 20));
	assert_true(ml.shedding);
	assert_true(mem_limit_update(&ml, 89 << 20));
	assert_false(ml.shedding);
	assert_false(mem_limit_update(&ml, 95 << 20));
	assert_true(mem_limit_update(&ml, 101 << 20));
	assert_int_equal(ml.episodes, 2);
	/* no limit: never */
	ml = (struct mem_limit){ 0 };
	assert_false(mem_limit_update(&ml, UINT64_MAX));
	assert_false(ml.shedding);
}

UNIT_TEST(test_parse_size)
{
	uint64_t v;

	(void)state;
	assert_int_equal(budget_parse_size("256M", 0, UINT64_MAX, &v), 0);
	assert_int_equal(v, 256ull << 20);
	assert_int_equal(budget_parse_size("512Mi", 0, UINT64_MAX, &v), 0);
	assert_int_equal(v, 512ull << 20);
	assert_int_equal(budget_parse_size("1G", 0, UINT64_MAX, &v), 0);
	assert_int_equal(v, 1ull << 30);
	assert_int_equal(budget_parse_size("64K", 0, UINT64_MAX, &v), 0);
	assert_int_equal(v, 65536);
	assert_int_equal(budget_parse_size("65536", 0, UINT64_MAX, &v), 0);
	assert_int_equal(v, 65536);
	assert_int_equal(budget_parse_size("1M", 16 << 20, UINT64_MAX, &v), -ERANGE);
	assert_int_equal(budget_parse_size("99999999999G", 0, UINT64_MAX, &v), -ERANGE);
	assert_int_equal(budget_parse_size("256MB", 0, UINT64_MAX, &v), -EINVAL);
	assert_int_equal(budget_parse_size("-1M", 0, UINT64_MAX, &v), -EINVAL);
	assert_int_equal(budget_parse_size("M", 0, UINT64_MAX, &v), -EINVAL);
	assert_int_equal(budget_parse_size("", 0, UINT64_MAX, &v), -EINVAL);
	assert_int_equal(budget_parse_size("1.5G", 0, UINT64_MAX, &v), -EINVAL);
}

UNIT_MAIN(NULL, NULL)
