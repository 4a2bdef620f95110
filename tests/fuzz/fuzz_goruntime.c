// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/*
 * Input: the contents of a .go.buildinfo section (the executable is the target's to write).
 * Besides the sanitizers, checks that the version is NUL-terminated printable ASCII and that
 * exactly one of the two forms is reported.
 */
#include <assert.h>
#include <stdint.h>
#include <string.h>

#include "process/goruntime.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct go_buildinfo bi;
	const char *c;

	if (go_buildinfo_parse(data, size, &bi)) {
		assert(bi.version[0] == '\0' && !bi.version_addr);
		return 0;
	}
	assert(memchr(bi.version, '\0', sizeof(bi.version)));
	for (c = bi.version; *c; c++)
		assert(*c >= 0x20 && *c <= 0x7e);
	assert(!bi.version[0] != !bi.version_addr);
	assert(bi.ptr_size == 4 || bi.ptr_size == 8);
	return 0;
}
