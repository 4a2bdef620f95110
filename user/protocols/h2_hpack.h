/* SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause) */
/*
 * HPACK (RFC 7541), the header compression of HTTP/2: a decoder for one direction of one
 * connection. Pure code over bytes, no I/O, no globals. Input comes from captures of a
 * process's traffic, so nothing in it is trusted: every integer is checked for overflow, every
 * index against the tables, every string against the block's end.
 *
 * Memory: the dynamic table lives in one byte array of twice the table's maximum size (so that
 * evicting is moving a start offset and compacting happens at most once per maximum size of
 * inserts) plus an array of entry offsets, both allocated at the first insertion; Huffman
 * strings are decoded into one scratch buffer of HPACK_SCRATCH_MAX bytes, allocated at the
 * first Huffman string. Nothing is allocated per header.
 *
 * The file is named h2_hpack, not hpack, because tests/lint/layout.sh groups the files of
 * user/protocols/ into protocols by the name's first word: HPACK belongs to HTTP/2.
 */
#ifndef OBSPROBE_H2_HPACK_H
#define OBSPROBE_H2_HPACK_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define HPACK_TABLE_DEFAULT 4096 /* SETTINGS_HEADER_TABLE_SIZE until a peer says otherwise */
#define HPACK_TABLE_CAP 65536	 /* hard cap on any decoder's limit, whatever SETTINGS says */
#define HPACK_ENTRY_OVERHEAD 32	 /* RFC 7541 4.1: an entry's size is name + value + 32 */
#define HPACK_STATIC_COUNT 61
#define HPACK_SCRATCH_MAX 16384 /* one header's Huffman-decoded name and value, together */

/*
 * Errors are negative, as errno values are, but errno has no words for these. After any of
 * them the decoder is broken: the encoder's table and ours may differ, so every later block
 * would decode to headers that were never sent.
 */
enum hpack_error {
	HPACK_E_TRUNCATED = -1,	   /* the block ends inside a representation */
	HPACK_E_INTEGER = -2,	   /* an integer does not fit in 32 bits */
	HPACK_E_INDEX = -3,	   /* index 0, or beyond the static and dynamic tables */
	HPACK_E_HUFFMAN = -4,	   /* EOS in a string, padding over 7 bits or not all ones */
	HPACK_E_SIZE_UPDATE = -5,  /* a dynamic table size update above the limit */
	HPACK_E_UPDATE_ORDER = -6, /* a size update after the first header of a block */
	HPACK_E_TOO_LONG = -7,	   /* a header's Huffman strings do not fit HPACK_SCRATCH_MAX */
	HPACK_E_NOMEM = -8,	   /* the table or the scratch buffer could not be allocated */
	HPACK_E_BROKEN = -9,	   /* an earlier error: nothing more until hpack_decoder_reset */
};

/* Bits of an emitted header's flags. */
#define HPACK_F_NEVER_INDEXED 0x1 /* "literal never indexed": a secret, for every hop */

/*
 * One decoded header. name and value are not NUL-terminated and point into the block, the
 * table or the scratch buffer: they are valid only until the callback returns. The callback
 * cannot stop the decoding: a block must be decoded to its end or the table goes out of step
 * with the encoder's, so a caller that wants no more headers ignores them.
 */
typedef void (*hpack_emit_fn)(void *ctx, const char *name, size_t name_len, const char *value,
			      size_t value_len, unsigned flags);

struct hpack_entry {
	uint32_t off; /* of the name in the table's bytes; the value follows it */
	uint32_t name_len;
	uint32_t value_len;
};

struct hpack_decoder {
	uint32_t limit; /* what the encoder may raise the table to (SETTINGS_HEADER_TABLE_SIZE) */
	uint32_t max_size; /* the table's maximum size, as the encoder last set it */
	uint32_t size;	   /* sum of the entries' sizes */
	bool broken;	   /* see enum hpack_error */
	/* The dynamic table, oldest entry first: entries[first .. first + count) and their bytes
	 * in bytes[bytes_first .. bytes_end). */
	uint8_t *bytes;
	uint32_t bytes_cap;
	uint32_t bytes_first;
	uint32_t bytes_end;
	struct hpack_entry *entries;
	uint32_t entries_cap;
	uint32_t first;
	uint32_t count;
	uint8_t *scratch;    /* HPACK_SCRATCH_MAX bytes */
	bool scratch_shared; /* the caller's (hpack_decoder_share_scratch): not freed */
};

/* A decoder with the default limit and an empty table; allocates nothing. */
void hpack_decoder_init(struct hpack_decoder *d);
/* Decodes Huffman strings into buf (HPACK_SCRATCH_MAX bytes, the caller's) rather than a
 * buffer of its own: the decoders of one thread may share one, a string living only until its
 * emit call returns. */
void hpack_decoder_share_scratch(struct hpack_decoder *d, uint8_t *buf);
/* Releases the table and the scratch buffer; accepts NULL. hpack_decoder_init may follow. */
void hpack_decoder_free(struct hpack_decoder *d);
/* Empties the table and clears broken, keeping the limit and what is allocated. */
void hpack_decoder_reset(struct hpack_decoder *d);
/*
 * The limit for size updates, from the decoding side's SETTINGS_HEADER_TABLE_SIZE, capped at
 * HPACK_TABLE_CAP. Lowering it does not shrink the table at once: RFC 7541 4.2 has the
 * encoder send a size update at the start of its next block, and that update is then held to
 * the new limit.
 */
void hpack_set_limit(struct hpack_decoder *d, uint32_t limit);

/*
 * Decodes one complete header block (the concatenated fragments of a HEADERS or PUSH_PROMISE
 * and its CONTINUATIONs), calling emit for each header in order. Returns 0 or an hpack_error;
 * on error some headers may have been emitted already, and d->broken is set.
 */
int hpack_decode(struct hpack_decoder *d, const uint8_t *block, size_t len, hpack_emit_fn emit,
		 void *ctx);

/* Entry `index` of the dynamic table (1 is the newest), as for hpack_emit_fn; HPACK_E_INDEX
 * when there is no such entry. For tests and debugging. */
int hpack_table_get(const struct hpack_decoder *d, uint32_t index, const char **name,
		    size_t *name_len, const char **value, size_t *value_len);

/* A static string for an hpack_error ("hpack: ..."). */
const char *hpack_strerror(int err);

#endif /* OBSPROBE_H2_HPACK_H */
