// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/*
 * Input: a recording (util/evfile.h), read as --replay reads it. Checks that the header is
 * accepted only when the input starts with it, that reading ends (at the end, or at a damaged
 * record) within the input, that no record is larger than EVFILE_MAX_RECORD, and that writing the
 * records read back gives the input's bytes up to where reading stopped.
 */
#include <assert.h>
#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "util/evfile.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static const char magic[] = "obsprobe events 1\n";
	size_t cap = 0, rec, records = 0, outlen = 0;
	char *out = NULL;
	void *buf = NULL;
	FILE *in, *w;
	int ret;

	if (!size)
		return 0;
	in = fmemopen((void *)data, size, "r");
	assert(in);
	ret = evfile_read_header(in);
	assert(ret == 0 || ret == -EINVAL);
	assert((ret == 0) ==
	       (size >= sizeof(magic) - 1 && !memcmp(data, magic, sizeof(magic) - 1)));
	if (ret) {
		fclose(in);
		return 0;
	}
	w = open_memstream(&out, &outlen);
	assert(w && evfile_write_header(w) == 0);
	while ((ret = evfile_read(in, &buf, &cap, &rec)) == 1) {
		assert(rec <= EVFILE_MAX_RECORD && rec <= cap);
		assert(evfile_write(w, buf, rec) == 0);
		records++;
	}
	assert(ret == 0 || ret == -EINVAL);
	fclose(w);
	/* what was read is the input's start; a clean end is all of it */
	assert(outlen <= size && !memcmp(out, data, outlen));
	if (ret == 0)
		assert(outlen == size);
	(void)records;
	free(out);
	free(buf);
	fclose(in);
	return 0;
}
