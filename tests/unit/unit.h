/* SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause) */
/*
 * Every unit test file's runner: a test is declared where it is written, and UNIT_MAIN()
 * runs them all in source order, so that no list can forget one.
 *
 *	UNIT_TEST(test_name) { ... }			 no fixture
 *	UNIT_TEST_FIXTURE(test_name, setup, teardown) { ... } cmocka's per-test fixture
 *	UNIT_MAIN(group_setup, group_teardown)		 once, at the end (NULLs for none)
 *
 * Include after cmocka.h.
 */
#ifndef OBSPROBE_TEST_UNIT_H
#define OBSPROBE_TEST_UNIT_H

#include <stdio.h>
#include <stdlib.h>

#define UNIT_MAX_TESTS 256

struct unit_case {
	struct CMUnitTest t;
	int line;
};

static struct unit_case unit_cases[UNIT_MAX_TESTS];
static size_t unit_ncases;

static inline void unit_add(const char *name, CMUnitTestFunction fn, CMFixtureFunction setup,
			    CMFixtureFunction teardown, int line)
{
	struct unit_case *c;

	if (unit_ncases == UNIT_MAX_TESTS) {
		fprintf(stderr, "unit.h: more than %d tests in one file\n", UNIT_MAX_TESTS);
		abort();
	}
	c = &unit_cases[unit_ncases++];
	c->t.name = name;
	c->t.test_func = fn;
	c->t.setup_func = setup;
	c->t.teardown_func = teardown;
	c->line = line;
}

#define UNIT_TEST_FIXTURE(fn, setup, teardown)                       \
	static void fn(void **state);                                \
	__attribute__((constructor)) static void fn##_register(void) \
	{                                                            \
		unit_add(#fn, fn, setup, teardown, __LINE__);        \
	}                                                            \
	static void fn(void **state)

#define UNIT_TEST(fn) UNIT_TEST_FIXTURE(fn, NULL, NULL)

static inline int unit_by_line(const void *a, const void *b)
{
	return ((const struct unit_case *)a)->line - ((const struct unit_case *)b)->line;
}

/* Runs every registered test in the order of the source (constructors run in no set order). */
static inline int unit_run(const char *file, CMFixtureFunction group_setup,
			   CMFixtureFunction group_teardown)
{
	static struct CMUnitTest tests[UNIT_MAX_TESTS];
	size_t i;

	qsort(unit_cases, unit_ncases, sizeof(unit_cases[0]), unit_by_line);
	for (i = 0; i < unit_ncases; i++)
		tests[i] = unit_cases[i].t;
	return _cmocka_run_group_tests(file, tests, unit_ncases, group_setup, group_teardown);
}

#define UNIT_MAIN(group_setup, group_teardown)                          \
	int main(void)                                                  \
	{                                                               \
		return unit_run(__FILE__, group_setup, group_teardown); \
	}

#endif /* OBSPROBE_TEST_UNIT_H */
