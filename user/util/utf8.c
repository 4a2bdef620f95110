// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
#include "util/utf8.h"

#include <string.h>

size_t utf8_clean(char *dst, const char *s, size_t max)
{
	const unsigned char *p = (const unsigned char *)s;
	size_t i, n, len = 0;

	for (i = 0; i < max && p[i]; i += n ? n : 1) {
		n = utf8_seq_len(p + i, max - i);
		if (dst)
			memcpy(dst + len, n ? (const char *)p + i : "\xef\xbf\xbd", n ? n : 3);
		len += n ? n : 3;
	}
	if (dst)
		dst[len] = '\0';
	return len;
}
