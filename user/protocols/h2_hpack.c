// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
#include <stdlib.h>
#include <string.h>

#include "protocols/h2_hpack.h"

struct static_entry {
	const char *name;
	const char *value;
};

/* RFC 7541 Appendix A; index 1 is [0]. */
static const struct static_entry static_table[HPACK_STATIC_COUNT] = {
	{ ":authority", "" },
	{ ":method", "GET" },
	{ ":method", "POST" },
	{ ":path", "/" },
	{ ":path", "/index.html" },
	{ ":scheme", "http" },
	{ ":scheme", "https" },
	{ ":status", "200" },
	{ ":status", "204" },
	{ ":status", "206" },
	{ ":status", "304" },
	{ ":status", "400" },
	{ ":status", "404" },
	{ ":status", "500" },
	{ "accept-charset", "" },
	{ "accept-encoding", "gzip, deflate" },
	{ "accept-language", "" },
	{ "accept-ranges", "" },
	{ "accept", "" },
	{ "access-control-allow-origin", "" },
	{ "age", "" },
	{ "allow", "" },
	{ "authorization", "" },
	{ "cache-control", "" },
	{ "content-disposition", "" },
	{ "content-encoding", "" },
	{ "content-language", "" },
	{ "content-length", "" },
	{ "content-location", "" },
	{ "content-range", "" },
	{ "content-type", "" },
	{ "cookie", "" },
	{ "date", "" },
	{ "etag", "" },
	{ "expect", "" },
	{ "expires", "" },
	{ "from", "" },
	{ "host", "" },
	{ "if-match", "" },
	{ "if-modified-since", "" },
	{ "if-none-match", "" },
	{ "if-range", "" },
	{ "if-unmodified-since", "" },
	{ "last-modified", "" },
	{ "link", "" },
	{ "location", "" },
	{ "max-forwards", "" },
	{ "proxy-authenticate", "" },
	{ "proxy-authorization", "" },
	{ "range", "" },
	{ "referer", "" },
	{ "refresh", "" },
	{ "retry-after", "" },
	{ "server", "" },
	{ "set-cookie", "" },
	{ "strict-transport-security", "" },
	{ "transfer-encoding", "" },
	{ "user-agent", "" },
	{ "vary", "" },
	{ "via", "" },
	{ "www-authenticate", "" },
};

/*
 * The Huffman code of RFC 7541 Appendix B is canonical: codes of one length are consecutive
 * and ordered by symbol, and the first code of each length follows the last of the shorter
 * ones. So the code is fully described by how many symbols each length has and the symbols
 * in code order; decoding walks one bit at a time, which is enough for header-sized strings.
 * Symbol 256 is EOS (30 ones).
 */
static const uint8_t huff_count[31] = { 0, 0, 0, 0, 0, 10, 26, 32, 6,  0, 5,  3,  2,  6, 2, 3,
					0, 0, 0, 3, 8, 13, 26, 29, 12, 4, 15, 19, 29, 0, 4 };
static const uint16_t huff_sym[257] = {
	48,  49,  50,  97,  99,	 101, 105, 111, 115, 116, 32,  37,  45,	 46,  47,  51,	52,  53,
	54,  55,  56,  57,  61,	 65,  95,  98,	100, 102, 103, 104, 108, 109, 110, 112, 114, 117,
	58,  66,  67,  68,  69,	 70,  71,  72,	73,  74,  75,  76,  77,	 78,  79,  80,	81,  82,
	83,  84,  85,  86,  87,	 89,  106, 107, 113, 118, 119, 120, 121, 122, 38,  42,	44,  59,
	88,  90,  33,  34,  40,	 41,  63,  39,	43,  124, 35,  62,  0,	 36,  64,  91,	93,  126,
	94,  125, 60,  96,  123, 92,  195, 208, 128, 130, 131, 162, 184, 194, 224, 226, 153, 161,
	167, 172, 176, 177, 179, 209, 216, 217, 227, 229, 230, 129, 132, 133, 134, 136, 146, 154,
	156, 160, 163, 164, 169, 170, 173, 178, 181, 185, 186, 187, 189, 190, 196, 198, 228, 232,
	233, 1,	  135, 137, 138, 139, 140, 141, 143, 147, 149, 150, 151, 152, 155, 157, 158, 165,
	166, 168, 174, 175, 180, 182, 183, 188, 191, 197, 231, 239, 9,	 142, 144, 145, 148, 159,
	171, 206, 215, 225, 236, 237, 199, 207, 234, 235, 192, 193, 200, 201, 202, 205, 210, 213,
	218, 219, 238, 240, 242, 243, 255, 203, 204, 211, 212, 214, 221, 222, 223, 241, 244, 245,
	246, 247, 248, 250, 251, 252, 253, 254, 2,   3,	  4,   5,   6,	 7,   8,   11,	12,  14,
	15,  16,  17,  18,  19,	 20,  21,  23,	24,  25,  26,  27,  28,	 29,  30,  31,	127, 220,
	249, 10,  13,  22,  256,
};

#define HUFF_SYM_EOS 256
#define HUFF_MAX_BITS 30

/* Decodes a Huffman string into out (cap bytes). Returns its length or an hpack_error. */
static long huff_decode(const uint8_t *in, size_t len, uint8_t *out, size_t cap)
{
	uint32_t code = 0, first = 0, idx = 0;
	unsigned nbits = 0, bit;
	size_t i, n = 0;

	for (i = 0; i < len; i++) {
		for (bit = 8; bit-- > 0;) {
			code = code << 1 | ((in[i] >> bit) & 1);
			first = (first + huff_count[nbits]) << 1;
			idx += huff_count[nbits];
			nbits++;
			if (code - first < huff_count[nbits]) {
				uint16_t sym = huff_sym[idx + code - first];

				if (sym == HUFF_SYM_EOS)
					return HPACK_E_HUFFMAN;
				if (n == cap)
					return HPACK_E_TOO_LONG;
				out[n++] = (uint8_t)sym;
				code = first = idx = 0;
				nbits = 0;
			} else if (nbits == HUFF_MAX_BITS) {
				return HPACK_E_HUFFMAN; /* not reached: the code is complete */
			}
		}
	}
	/* RFC 7541 5.2: padding is the most significant bits of EOS, at most 7 of them */
	if (nbits > 7 || code != (1u << nbits) - 1)
		return HPACK_E_HUFFMAN;
	return (long)n;
}

/* RFC 7541 5.1: an integer with an N-bit prefix; values above UINT32_MAX are errors, and so are
 * more than five continuation bytes, which only zero bytes could pad out. */
static int get_int(const uint8_t **p, const uint8_t *end, unsigned prefix, uint32_t *out)
{
	uint32_t max = (1u << prefix) - 1;
	uint64_t v = **p & max;
	unsigned shift = 0;
	uint8_t b;

	(*p)++;
	if (v < max) {
		*out = (uint32_t)v;
		return 0;
	}
	do {
		if (*p == end)
			return HPACK_E_TRUNCATED;
		if (shift > 28)
			return HPACK_E_INTEGER;
		b = *(*p)++;
		v += (uint64_t)(b & 0x7f) << shift;
		if (v > UINT32_MAX)
			return HPACK_E_INTEGER;
		shift += 7;
	} while (b & 0x80);
	*out = (uint32_t)v;
	return 0;
}

void hpack_decoder_init(struct hpack_decoder *d)
{
	memset(d, 0, sizeof(*d));
	d->limit = HPACK_TABLE_DEFAULT;
	d->max_size = HPACK_TABLE_DEFAULT;
}

void hpack_decoder_free(struct hpack_decoder *d)
{
	if (!d)
		return;
	free(d->bytes);
	free(d->entries);
	if (!d->scratch_shared)
		free(d->scratch);
	d->scratch_shared = false;
	d->bytes = NULL;
	d->entries = NULL;
	d->scratch = NULL;
	d->bytes_cap = d->entries_cap = 0;
	hpack_decoder_reset(d);
}

void hpack_decoder_share_scratch(struct hpack_decoder *d, uint8_t *buf)
{
	if (!d->scratch_shared)
		free(d->scratch);
	d->scratch = buf;
	d->scratch_shared = true;
}

void hpack_decoder_reset(struct hpack_decoder *d)
{
	d->size = 0;
	d->count = d->first = 0;
	d->bytes_first = d->bytes_end = 0;
	d->max_size = d->limit;
	d->broken = false;
}

void hpack_set_limit(struct hpack_decoder *d, uint32_t limit)
{
	d->limit = limit > HPACK_TABLE_CAP ? HPACK_TABLE_CAP : limit;
}

static uint32_t entry_size(const struct hpack_entry *e)
{
	return e->name_len + e->value_len + HPACK_ENTRY_OVERHEAD;
}

/* Evicts the oldest entries until the table's size is at most `size`. Their bytes stay where
 * they are until the next compaction. */
static void evict_to(struct hpack_decoder *d, uint32_t size)
{
	while (d->size > size && d->count) {
		const struct hpack_entry *e = &d->entries[d->first];

		d->size -= entry_size(e);
		d->first++;
		d->count--;
		d->bytes_first = d->count ? d->entries[d->first].off : d->bytes_end;
	}
	if (!d->count) {
		d->first = 0;
		d->bytes_first = d->bytes_end = 0;
	}
}

/* Moves the bytes from `from` (the oldest live entry, or an evicted name still to be copied)
 * and the live entries to the front of their arrays. */
static void compact(struct hpack_decoder *d, uint32_t from)
{
	uint32_t i;

	memmove(d->bytes, d->bytes + from, d->bytes_end - from);
	memmove(d->entries, d->entries + d->first, d->count * sizeof(d->entries[0]));
	for (i = 0; i < d->count; i++)
		d->entries[i].off -= from;
	d->first = 0;
	d->bytes_first -= from;
	d->bytes_end -= from;
}

/* Twice the maximum size of bytes (see the header), and room for twice the entries that fit. */
static int reserve(struct hpack_decoder *d)
{
	uint32_t bytes_cap = 2 * d->max_size;
	uint32_t entries_cap = 2 * (d->max_size / HPACK_ENTRY_OVERHEAD) + 2;
	void *p;

	if (d->bytes_cap < bytes_cap) {
		p = realloc(d->bytes, bytes_cap);
		if (!p)
			return HPACK_E_NOMEM;
		d->bytes = p;
		d->bytes_cap = bytes_cap;
	}
	if (d->entries_cap < entries_cap) {
		p = realloc(d->entries, entries_cap * sizeof(d->entries[0]));
		if (!p)
			return HPACK_E_NOMEM;
		d->entries = p;
		d->entries_cap = entries_cap;
	}
	return 0;
}

/*
 * RFC 7541 4.4: adds an entry, evicting first. The name may be that of a table entry
 * (name_off < UINT32_MAX, name NULL), which the eviction may have just removed: its bytes are
 * still in place and compaction keeps them.
 */
static int insert(struct hpack_decoder *d, const uint8_t *name, uint32_t name_off,
		  uint32_t name_len, const uint8_t *value, uint32_t value_len)
{
	uint64_t size = (uint64_t)name_len + value_len + HPACK_ENTRY_OVERHEAD;
	uint32_t len = name_len + value_len, from;
	struct hpack_entry *e;
	int err;

	if (size > d->max_size) {
		evict_to(d, 0); /* not an error: the table is left empty */
		return 0;
	}
	evict_to(d, d->max_size - (uint32_t)size);
	err = reserve(d);
	if (err)
		return err;
	if (d->bytes_end + len > d->bytes_cap || d->first + d->count == d->entries_cap) {
		from = d->count ? d->bytes_first : d->bytes_end;
		if (!name && name_off < from)
			from = name_off;
		compact(d, from);
		if (!name)
			name_off -= from;
	}
	if (name)
		memcpy(d->bytes + d->bytes_end, name, name_len);
	else
		memmove(d->bytes + d->bytes_end, d->bytes + name_off, name_len);
	memcpy(d->bytes + d->bytes_end + name_len, value, value_len);
	e = &d->entries[d->first + d->count];
	e->off = d->bytes_end;
	e->name_len = name_len;
	e->value_len = value_len;
	if (!d->count)
		d->bytes_first = d->bytes_end;
	d->bytes_end += len;
	d->count++;
	d->size += (uint32_t)size;
	return 0;
}

/* A header from the tables by its index (1-based, static first). table_off is the offset of a
 * dynamic entry's name in d->bytes, UINT32_MAX for a static one. */
static int lookup(const struct hpack_decoder *d, uint32_t index, const uint8_t **name,
		  uint32_t *name_len, const uint8_t **value, uint32_t *value_len,
		  uint32_t *table_off)
{
	const struct hpack_entry *e;

	if (index == 0)
		return HPACK_E_INDEX;
	if (index <= HPACK_STATIC_COUNT) {
		const struct static_entry *s = &static_table[index - 1];

		*name = (const uint8_t *)s->name;
		*name_len = (uint32_t)strlen(s->name);
		*value = (const uint8_t *)s->value;
		*value_len = (uint32_t)strlen(s->value);
		*table_off = UINT32_MAX;
		return 0;
	}
	index -= HPACK_STATIC_COUNT;
	if (index > d->count)
		return HPACK_E_INDEX;
	e = &d->entries[d->first + d->count - index];
	*name = d->bytes + e->off;
	*name_len = e->name_len;
	*value = d->bytes + e->off + e->name_len;
	*value_len = e->value_len;
	*table_off = e->off;
	return 0;
}

int hpack_table_get(const struct hpack_decoder *d, uint32_t index, const char **name,
		    size_t *name_len, const char **value, size_t *value_len)
{
	const uint8_t *n, *v;
	uint32_t nl, vl, off;

	if (index == 0 || index > d->count ||
	    lookup(d, index + HPACK_STATIC_COUNT, &n, &nl, &v, &vl, &off))
		return HPACK_E_INDEX;
	*name = (const char *)n;
	*name_len = nl;
	*value = (const char *)v;
	*value_len = vl;
	return 0;
}

/* RFC 7541 5.2: a string literal, plain (pointing into the block) or Huffman (decoded into the
 * scratch buffer after the *used bytes already taken there by this header). */
static int get_string(struct hpack_decoder *d, const uint8_t **p, const uint8_t *end,
		      const uint8_t **s, uint32_t *len, size_t *used)
{
	bool huffman;
	uint32_t n;
	long r;
	int err;

	if (*p == end)
		return HPACK_E_TRUNCATED;
	huffman = **p & 0x80;
	err = get_int(p, end, 7, &n);
	if (err)
		return err;
	if (n > (size_t)(end - *p))
		return HPACK_E_TRUNCATED;
	if (!huffman) {
		*s = *p;
		*len = n;
		*p += n;
		return 0;
	}
	if (!d->scratch) {
		d->scratch = malloc(HPACK_SCRATCH_MAX);
		if (!d->scratch)
			return HPACK_E_NOMEM;
	}
	r = huff_decode(*p, n, d->scratch + *used, HPACK_SCRATCH_MAX - *used);
	if (r < 0)
		return (int)r;
	*s = d->scratch + *used;
	*len = (uint32_t)r;
	*used += (size_t)r;
	*p += n;
	return 0;
}

static int decode(struct hpack_decoder *d, const uint8_t *p, const uint8_t *end, hpack_emit_fn emit,
		  void *ctx)
{
	bool headers_seen = false;

	while (p < end) {
		const uint8_t *name = NULL, *value = NULL;
		uint32_t n, name_len = 0, value_len = 0, name_off = UINT32_MAX;
		unsigned flags = 0, prefix;
		bool indexing = false;
		size_t used = 0;
		uint8_t b = *p;
		int err;

		if (b & 0x80) { /* 6.1 indexed header field */
			err = get_int(&p, end, 7, &n);
			if (!err)
				err = lookup(d, n, &name, &name_len, &value, &value_len, &name_off);
			if (err)
				return err;
			if (emit)
				emit(ctx, (const char *)name, name_len, (const char *)value,
				     value_len, 0);
			headers_seen = true;
			continue;
		}
		if ((b & 0xe0) == 0x20) { /* 6.3 dynamic table size update */
			if (headers_seen)
				return HPACK_E_UPDATE_ORDER;
			err = get_int(&p, end, 5, &n);
			if (err)
				return err;
			if (n > d->limit)
				return HPACK_E_SIZE_UPDATE;
			d->max_size = n;
			evict_to(d, n);
			continue;
		}
		if ((b & 0xc0) == 0x40) { /* 6.2.1 with incremental indexing */
			indexing = true;
			prefix = 6;
		} else { /* 6.2.2 without indexing (0000), 6.2.3 never indexed (0001) */
			if (b & 0x10)
				flags |= HPACK_F_NEVER_INDEXED;
			prefix = 4;
		}
		err = get_int(&p, end, prefix, &n);
		if (err)
			return err;
		if (n) {
			const uint8_t *unused;
			uint32_t unused_len;

			err = lookup(d, n, &name, &name_len, &unused, &unused_len, &name_off);
		} else {
			err = get_string(d, &p, end, &name, &name_len, &used);
		}
		if (!err)
			err = get_string(d, &p, end, &value, &value_len, &used);
		if (err)
			return err;
		headers_seen = true;
		/* emitted before the insertion, which may evict a table entry the name is in */
		if (emit)
			emit(ctx, (const char *)name, name_len, (const char *)value, value_len,
			     flags);
		if (indexing) {
			/* a name of the table is copied by offset: the eviction may move it */
			err = insert(d, name_off == UINT32_MAX ? name : NULL, name_off, name_len,
				     value, value_len);
			if (err)
				return err;
		}
	}
	return 0;
}

int hpack_decode(struct hpack_decoder *d, const uint8_t *block, size_t len, hpack_emit_fn emit,
		 void *ctx)
{
	int err;

	if (d->broken)
		return HPACK_E_BROKEN;
	err = decode(d, block, block + len, emit, ctx);
	if (err)
		d->broken = true;
	return err;
}

const char *hpack_strerror(int err)
{
	switch (err) {
	case 0:
		return "hpack: success";
	case HPACK_E_TRUNCATED:
		return "hpack: block ends inside a header";
	case HPACK_E_INTEGER:
		return "hpack: integer overflow";
	case HPACK_E_INDEX:
		return "hpack: index 0 or beyond the tables";
	case HPACK_E_HUFFMAN:
		return "hpack: bad Huffman string (EOS or bad padding)";
	case HPACK_E_SIZE_UPDATE:
		return "hpack: table size update above the limit";
	case HPACK_E_UPDATE_ORDER:
		return "hpack: table size update after a header";
	case HPACK_E_TOO_LONG:
		return "hpack: header longer than the scratch buffer";
	case HPACK_E_NOMEM:
		return "hpack: out of memory";
	case HPACK_E_BROKEN:
		return "hpack: decoder broken by an earlier error";
	default:
		return "hpack: unknown error";
	}
}
