// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/* util/str.h gives what snprintf gives: the same bytes and NUL, truncated alike. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include "unit.h"

#include <stdio.h>
#include <string.h>

#include "util/str.h"

UNIT_TEST(test_str_copy)
{
	static const char *const srcs[] = { "", "a", "GET", "exactly7", "a longer string here" };
	size_t i, size;

	(void)state;
	for (i = 0; i < sizeof(srcs) / sizeof(srcs[0]); i++) {
		for (size = 1; size <= 24; size++) {
			char want[32], got[32];
			size_t n;

			memset(want, 'x', sizeof(want));
			memset(got, 'x', sizeof(got));
			snprintf(want, size, "%s", srcs[i]);
			n = str_copy(got, size, srcs[i]);
			assert_memory_equal(got, want,
					    sizeof(got)); /* nothing past the NUL either */
			assert_int_equal(n, strlen(want));
		}
	}
}

UNIT_TEST(test_str_words)
{
	static const char *const words[] = { "", "GET", "SELECT pgbench_accounts", "/a/b/c/d" };
	size_t i, j, size;

	(void)state;
	for (i = 0; i < sizeof(words) / sizeof(words[0]); i++) {
		for (j = 0; j < sizeof(words) / sizeof(words[0]); j++) {
			for (size = 1; size <= 40; size++) {
				char want[48], got[48];
				size_t n;

				memset(want, 'x', sizeof(want));
				memset(got, 'x', sizeof(got));
				snprintf(want, size, "%s %s", words[i], words[j]);
				n = str_words(got, size, words[i], words[j]);
				assert_memory_equal(got, want, sizeof(got));
				assert_int_equal(n, strlen(want));
			}
		}
	}
}

/* A source that need not end in a NUL within max bytes (a fixed field of a ring-buffer record). */
UNIT_TEST(test_str_ncopy)
{
	static const char field[8] = { 'a', 'b', 'c', 'd', 'e', 'f', 'g', 'h' }; /* no NUL */
	static const char short_field[8] = "abc";
	size_t size, max;

	(void)state;
	for (size = 1; size <= 12; size++) {
		for (max = 0; max <= 8; max++) {
			char want[16], got[16];
			size_t n;

			memset(want, 'x', sizeof(want));
			memset(got, 'x', sizeof(got));
			snprintf(want, size, "%.*s", (int)max, field);
			n = str_ncopy(got, size, field, max);
			assert_memory_equal(got, want, sizeof(got));
			assert_int_equal(n, strlen(want));
			memset(want, 'x', sizeof(want));
			memset(got, 'x', sizeof(got));
			snprintf(want, size, "%.*s", (int)max, short_field);
			n = str_ncopy(got, size, short_field, max);
			assert_memory_equal(got, want, sizeof(got));
			assert_int_equal(n, strlen(want));
		}
	}
}

UNIT_TEST(test_str_int)
{
	static const int64_t vals[] = { 0,	   1,	      -1,	    9,
					10,	   99,	      100,	    200,
					404,	   65535,     -42,	    1234567890123,
					INT64_MAX, INT64_MIN, INT64_MIN + 1 };
	size_t i, size;

	(void)state;
	for (i = 0; i < sizeof(vals) / sizeof(vals[0]); i++) {
		for (size = 1; size <= 24; size++) {
			char want[32], got[32];
			size_t n;

			memset(want, 'x', sizeof(want));
			memset(got, 'x', sizeof(got));
			snprintf(want, size, "%lld", (long long)vals[i]);
			n = str_int(got, size, vals[i]);
			assert_memory_equal(got, want, sizeof(got));
			assert_int_equal(n, strlen(want));
		}
	}
}

UNIT_MAIN(NULL, NULL)
