// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/* Event recordings (--record, --replay): written and read back; what a damaged file gives. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include "unit.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "util/evfile.h"

/* A memory file holding a header and records of sizes 0, 5 and 3000, filled with their size. */
static FILE *recording(char *mem, size_t cap, size_t *len)
{
	static const size_t sizes[] = { 0, 5, 3000 };
	uint8_t data[3000];
	FILE *f = fmemopen(mem, cap, "w");
	size_t i;

	assert_non_null(f);
	assert_int_equal(evfile_write_header(f), 0);
	for (i = 0; i < 3; i++) {
		memset(data, (int)sizes[i], sizes[i]);
		assert_int_equal(evfile_write(f, data, sizes[i]), 0);
	}
	*len = (size_t)ftell(f);
	fclose(f);
	return fmemopen(mem, *len, "r");
}

UNIT_TEST(test_round_trip)
{
	static char mem[8192];
	size_t len, cap = 0, size = 99, i;
	void *buf = NULL;
	FILE *f = recording(mem, sizeof(mem), &len);

	(void)state;
	assert_int_equal(len, 18 + 3 * 4 + 0 + 5 + 3000);
	assert_int_equal(evfile_read_header(f), 0);
	assert_int_equal(evfile_read(f, &buf, &cap, &size), 1);
	assert_int_equal(size, 0);
	assert_int_equal(evfile_read(f, &buf, &cap, &size), 1);
	assert_int_equal(size, 5);
	assert_memory_equal(buf, "\5\5\5\5\5", 5);
	assert_int_equal(evfile_read(f, &buf, &cap, &size), 1);
	assert_int_equal(size, 3000);
	assert_true(cap >= 3000);
	for (i = 0; i < 3000; i++)
		assert_int_equal(((uint8_t *)buf)[i], 3000 & 0xff);
	/* the end, and it stays the end */
	assert_int_equal(evfile_read(f, &buf, &cap, &size), 0);
	assert_int_equal(evfile_read(f, &buf, &cap, &size), 0);
	fclose(f);
	free(buf);
}

/* A file cut anywhere inside a record reads as truncated; cut between records, as its end. */
UNIT_TEST(test_truncated)
{
	static char mem[8192];
	size_t len, cut, cap = 0, size;
	void *buf = NULL;
	FILE *f = recording(mem, sizeof(mem), &len);

	(void)state;
	fclose(f);
	for (cut = 18; cut < len; cut++) {
		int ret, records = 0;

		f = fmemopen(mem, cut, "r");
		assert_non_null(f);
		assert_int_equal(evfile_read_header(f), 0);
		while ((ret = evfile_read(f, &buf, &cap, &size)) == 1)
			records++;
		/* the header ends at 18, records at 22, 31 and len */
		if (cut == 18 || cut == 22 || cut == 31)
			assert_int_equal(ret, 0);
		else
			assert_int_equal(ret, -EINVAL);
		assert_int_equal(records, cut < 22 ? 0 : cut < 31 ? 1 : 2);
		fclose(f);
	}
	free(buf);
}

UNIT_TEST(test_bad_input)
{
	static char mem[64];
	static const char big[] = "obsprobe events 1\n\x01\x00\x10\x00";
	static const char other[] = "obsprobe events 2\n";
	size_t cap = 0, size;
	void *buf = NULL;
	FILE *f;

	(void)state;
	/* another version, another file, an empty one */
	f = fmemopen((void *)other, sizeof(other) - 1, "r");
	assert_int_equal(evfile_read_header(f), -EINVAL);
	fclose(f);
	f = fmemopen((void *)"GIF89a", 6, "r");
	assert_int_equal(evfile_read_header(f), -EINVAL);
	fclose(f);
	/* a length over EVFILE_MAX_RECORD is refused before anything is allocated */
	f = fmemopen((void *)big, sizeof(big) - 1, "r");
	assert_int_equal(evfile_read_header(f), 0);
	assert_int_equal(evfile_read(f, &buf, &cap, &size), -EINVAL);
	assert_null(buf);
	fclose(f);
	/* and never written */
	f = fmemopen(mem, sizeof(mem), "w");
	assert_int_equal(evfile_write(f, mem, EVFILE_MAX_RECORD + 1), -E2BIG);
	fclose(f);
}

UNIT_MAIN(NULL, NULL)
