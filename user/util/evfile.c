// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
#include "util/evfile.h"

#include <errno.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

static const char magic[] = "obsprobe events 1\n";

int evfile_write_header(FILE *f)
{
	return fwrite(magic, 1, sizeof(magic) - 1, f) == sizeof(magic) - 1 ? 0 : -EIO;
}

int evfile_write(FILE *f, const void *data, size_t size)
{
	uint8_t len[4];

	if (size > EVFILE_MAX_RECORD)
		return -E2BIG;
	len[0] = (uint8_t)size;
	len[1] = (uint8_t)(size >> 8);
	len[2] = (uint8_t)(size >> 16);
	len[3] = (uint8_t)(size >> 24);
	if (fwrite(len, 1, sizeof(len), f) != sizeof(len) || fwrite(data, 1, size, f) != size)
		return -EIO;
	return 0;
}

int evfile_read_header(FILE *f)
{
	char got[sizeof(magic) - 1];

	if (fread(got, 1, sizeof(got), f) != sizeof(got) || memcmp(got, magic, sizeof(got)))
		return -EINVAL;
	return 0;
}

int evfile_read(FILE *f, void **buf, size_t *cap, size_t *size)
{
	uint8_t len[4];
	size_t n, got = fread(len, 1, sizeof(len), f);

	if (got == 0 && feof(f))
		return 0;
	if (got != sizeof(len))
		return -EINVAL;
	n = (size_t)len[0] | (size_t)len[1] << 8 | (size_t)len[2] << 16 | (size_t)len[3] << 24;
	if (n > EVFILE_MAX_RECORD)
		return -EINVAL;
	if (n > *cap || !*buf) {
		void *nb = realloc(*buf, n ? n : 1);

		if (!nb)
			return -ENOMEM;
		*buf = nb;
		*cap = n ? n : 1;
	}
	if (fread(*buf, 1, n, f) != n)
		return -EINVAL;
	*size = n;
	return 1;
}
