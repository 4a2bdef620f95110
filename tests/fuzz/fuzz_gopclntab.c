// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/*
 * Input: the contents of a .gopclntab section (a stripped Go executable's function table; the
 * executable is the target's to write). Besides the sanitizers, checks that a function is
 * reported with a size when it is found, and at an address past the table's textStart.
 */
#include <assert.h>
#include <stdint.h>
#include <string.h>

#include "process/goruntime.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static const char *const names[] = { "crypto/tls.(*Conn).Write",
					     "crypto/tls.(*Conn).Read", "runtime.memmove", "" };
	uint64_t va[4], sz[4], text = 0;
	size_t i;

	if (go_pclntab_parse(data, size, names, 4, va, sz)) {
		for (i = 0; i < 4; i++)
			assert(!va[i] && !sz[i]);
		return 0;
	}
	memcpy(&text, data + 24, sizeof(text));
	for (i = 0; i < 4; i++) {
		assert(!va[i] == !sz[i]);
		assert(!va[i] || va[i] - text <= UINT32_MAX);
	}
	return 0;
}
