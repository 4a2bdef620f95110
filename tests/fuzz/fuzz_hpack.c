// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/*
 * HPACK decoding of hostile blocks. Input: one byte choosing the decoder's limit, then blocks,
 * each a length byte and that many bytes (the last block takes what is left). All blocks go
 * through one decoder, as the blocks of one connection do; after an error it is reset.
 *
 * Besides the sanitizers, it checks that the table stays within its maximum size and its limit,
 * that the entries' sizes add up to the size, that every emitted string is readable, and that
 * a broken decoder decodes nothing more.
 */
#include <assert.h>
#include <stdint.h>
#include <string.h>

#include "protocols/h2_hpack.h"

static size_t emitted;

static void emit(void *ctx, const char *name, size_t name_len, const char *value, size_t value_len,
		 unsigned flags)
{
	static char sink[2 * HPACK_TABLE_CAP];

	(void)ctx;
	assert(flags <= HPACK_F_NEVER_INDEXED);
	assert(name_len <= sizeof(sink) / 2 && value_len <= sizeof(sink) / 2);
	/* reads every byte, so that ASan sees a string that points where it should not */
	memcpy(sink, name, name_len);
	memcpy(sink + name_len, value, value_len);
	emitted++;
}

static void check_table(const struct hpack_decoder *d)
{
	const char *n, *v;
	size_t nl, vl;
	uint64_t sum = 0;
	uint32_t i;

	assert(d->size <= d->max_size);
	for (i = 1; hpack_table_get(d, i, &n, &nl, &v, &vl) == 0; i++) {
		sum += nl + vl + HPACK_ENTRY_OVERHEAD;
		emit(NULL, n, nl, v, vl, 0); /* readable */
	}
	assert(i - 1 == d->count);
	assert(sum == d->size);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static const uint32_t limits[] = { 0, 64, 256, 4096, 4096, 65536, 100000, 4096 };
	struct hpack_decoder d;
	size_t off = 1, n;
	int err;

	if (size < 1)
		return 0;
	hpack_decoder_init(&d);
	hpack_set_limit(&d, limits[data[0] & 7]);
	if (data[0] & 8)
		hpack_decoder_reset(&d); /* start at the limit rather than 4096 */
	assert(d.limit <= HPACK_TABLE_CAP);
	while (off < size) {
		n = data[off++];
		if (n > size - off || (data[0] & 0x10))
			n = size - off;
		err = hpack_decode(&d, data + off, n, emit, NULL);
		assert(err <= 0 && err >= HPACK_E_BROKEN && err != HPACK_E_BROKEN);
		assert(hpack_strerror(err)[0] == 'h');
		assert(d.broken == (err != 0));
		check_table(&d);
		if (err) {
			size_t before = emitted;

			assert(hpack_decode(&d, data + off, n, emit, NULL) == HPACK_E_BROKEN);
			assert(emitted == before);
			hpack_decoder_reset(&d);
			assert(!d.broken && d.count == 0 && d.size == 0);
		}
		off += n;
	}
	hpack_decoder_free(&d);
	return 0;
}
