// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
#include "pb_write.h"

#include <errno.h>
#include <stdlib.h>

#include "util/utf8.h"

#define PB_MIN_ALLOC 256

int pb_buf_init(struct pb_buf *b, size_t hint)
{
	memset(b, 0, sizeof(*b));
	return pb_buf_reset(b, hint);
}

int pb_buf_reset(struct pb_buf *b, size_t hint)
{
	b->p = b->end;
	b->err = 0;
	if (!b->base && !pb_grow(b, hint > PB_MIN_ALLOC ? hint : PB_MIN_ALLOC))
		return b->err;
	return 0;
}

bool pb_grow(struct pb_buf *b, size_t n)
{
	size_t used = pb_mark(b), size = (size_t)(b->end - b->base), nsize;
	uint8_t *nbase;

	if (b->err)
		return false;
	if (n > SIZE_MAX / 4 - used)
		goto oom;
	nsize = size <= SIZE_MAX / 4 ? size * 2 : size;
	if (nsize < used + n)
		nsize = used + n + used / 2;
	/* the message stays at the end, where it grows down from */
	nbase = malloc(nsize);
	if (!nbase)
		goto oom;
	if (used)
		memcpy(nbase + nsize - used, b->p, used);
	free(b->base);
	b->base = nbase;
	b->end = nbase + nsize;
	b->p = b->end - used;
	return true;
oom:
	b->err = -ENOMEM;
	return false;
}

int pb_buf_finish(struct pb_buf *b, uint8_t **out, size_t *outlen)
{
	size_t len = pb_mark(b);
	int err = b->err;

	if (!err) {
		/* to the front, where free() wants the body to start */
		memmove(b->base, b->p, len);
		*out = b->base;
		*outlen = len;
		memset(b, 0, sizeof(*b));
	} else {
		pb_buf_free(b);
	}
	return err;
}

void pb_buf_free(struct pb_buf *b)
{
	free(b->base);
	memset(b, 0, sizeof(*b));
}

void pb_varint_long(struct pb_buf *b, uint64_t v)
{
	uint8_t *d = pb_take(b, pb_varint_size(v));

	if (d)
		pb_put_varint(d, v);
}

void pb_close_long(struct pb_buf *b, uint32_t field, size_t len)
{
	pb_varint(b, len);
	pb_tag(b, field, PB_LEN);
}

void pb_string(struct pb_buf *b, uint32_t field, const char *s, size_t max)
{
	size_t mark = pb_mark(b), n = utf8_valid_len(s, max);
	uint8_t *d;

	if (n != SIZE_MAX) {
		pb_raw(b, s, n);
	} else {
		/* repaired in place: utf8_clean() ends its copy with a NUL, which is not sent */
		n = utf8_clean(NULL, s, max);
		d = pb_take(b, n + 1);
		if (!d)
			return;
		utf8_clean((char *)d, s, max);
		memmove(d + 1, d, n);
		b->p++;
	}
	pb_close(b, field, mark);
}
