/* SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause) */
/*
 * HTTP/2 (RFC 9113) framing for ONE direction of ONE connection, fed with captured bytes that
 * may be partial: a syscall moved `total` bytes of which only the first `captured` were copied,
 * so every feed may end in a gap of known length. Pure code, no I/O, no globals; the caller
 * counts whatever it wants counted.
 *
 * Frames are followed by their length, so a gap that lies inside a DATA (or PING, PRIORITY,
 * WINDOW_UPDATE, unknown-type) payload costs nothing. A gap over a frame header, over any part of
 * a header block (HEADERS, CONTINUATION, PUSH_PROMISE) or over a SETTINGS payload loses frame
 * sync or makes the HPACK state unreliable: the parser then reports it once through on_lost,
 * sets `broken` and ignores all later bytes; it never guesses headers. Protocol errors that
 * show the bytes are not what we think (a CONTINUATION out of place, lengths that cannot be,
 * an HPACK error) do the same.
 *
 * Limits (a frame beyond them is lost, as above):
 *  - DATA and frame types this parser does not know: up to 2^24-1 bytes, skipped by length.
 *  - SETTINGS, PING, RST_STREAM, PRIORITY, WINDOW_UPDATE, GOAWAY: at most H2_CTRL_FRAME_MAX
 *    bytes (16384, the default SETTINGS_MAX_FRAME_SIZE: none needs more, a GOAWAY's debug data
 *    aside), and the exact lengths RFC 9113 gives them.
 *  - A header block (HEADERS or PUSH_PROMISE fragment plus its CONTINUATIONs, without padding
 *    and priority): at most H2_HEADER_BLOCK_MAX bytes, else lost "header block too large".
 *  - Decoded headers of one block: at most H2_MAX_HEADERS headers and H2_HEADER_BYTES bytes of
 *    names and values; the rest are dropped and on_headers is told (the HPACK state stays good,
 *    the block is decoded to its end).
 *
 * Memory: the header block buffer grows to what a block needs (released after a block over
 * 1 KiB), the decoded headers and the HPACK table are allocated at the first HEADERS or
 * SETTINGS frame, not per frame, unless shared (h2_parser_share), and released by
 * h2_parser_free.
 */
#ifndef OBSPROBE_H2_PARSER_H
#define OBSPROBE_H2_PARSER_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "protocols/h2_hpack.h"

#define H2_PREFACE "PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n"
#define H2_PREFACE_LEN 24
#define H2_FRAME_HEADER_LEN 9
#define H2_CTRL_FRAME_MAX 16384
#define H2_HEADER_BLOCK_MAX 16384
#define H2_MAX_HEADERS 128
#define H2_HEADER_BYTES 16384

enum h2_frame_type {
	H2_DATA = 0x0,
	H2_HEADERS = 0x1,
	H2_PRIORITY = 0x2,
	H2_RST_STREAM = 0x3,
	H2_SETTINGS = 0x4,
	H2_PUSH_PROMISE = 0x5,
	H2_PING = 0x6,
	H2_GOAWAY = 0x7,
	H2_WINDOW_UPDATE = 0x8,
	H2_CONTINUATION = 0x9,
};

#define H2_FLAG_END_STREAM 0x01
#define H2_FLAG_ACK 0x01
#define H2_FLAG_END_HEADERS 0x04
#define H2_FLAG_PADDED 0x08
#define H2_FLAG_PRIORITY 0x20

#define H2_SETTINGS_HEADER_TABLE_SIZE 0x1

/* A decoded header; name and value are not NUL-terminated. */
struct h2_header {
	const char *name;
	size_t name_len;
	const char *value;
	size_t value_len;
	unsigned flags; /* HPACK_F_NEVER_INDEXED */
};

/* What the parser reports; any member may be NULL. Arrays and pointers handed to a callback
 * are valid only until it returns. */
struct h2_callbacks {
	/*
	 * A complete header block of a HEADERS frame (and its CONTINUATIONs). end_stream is the
	 * HEADERS frame's END_STREAM flag. truncated: headers beyond H2_MAX_HEADERS or
	 * H2_HEADER_BYTES were decoded but not put in hdrs.
	 */
	void (*on_headers)(void *ctx, uint32_t stream_id, const struct h2_header *hdrs, size_t n,
			   bool end_stream, bool truncated);
	/* The same for a PUSH_PROMISE: promised_id is the stream the server reserves. */
	void (*on_push_promise)(void *ctx, uint32_t stream_id, uint32_t promised_id,
				const struct h2_header *hdrs, size_t n, bool truncated);
	/*
	 * A piece of a DATA frame's data (padding excluded). A frame split over several feeds, or
	 * ending in a gap, comes in several pieces: each piece covers the next payload_len bytes
	 * of the frame's data, of which the first captured_len (<= payload_len) are at data and
	 * the rest fell in a gap. The pieces of a frame add up to its data length; end_stream is
	 * set only on the last piece of a frame that has END_STREAM. A frame with no data comes as
	 * one piece of 0 bytes. When the Pad Length byte itself fell in a gap, the padding is not
	 * known: the rest of the frame is reported uncaptured, padding included.
	 */
	void (*on_data)(void *ctx, uint32_t stream_id, const uint8_t *data, size_t captured_len,
			size_t payload_len, bool end_stream);
	void (*on_rst)(void *ctx, uint32_t stream_id, uint32_t error_code);
	void (*on_goaway)(void *ctx, uint32_t last_stream_id, uint32_t error_code);
	/* One setting of a SETTINGS frame (not an ACK), in the frame's order. */
	void (*on_settings)(void *ctx, uint16_t id, uint32_t value);
	/* The direction lost sync or its HPACK state: called once, then nothing more. reason is
	 * a static string. */
	void (*on_lost)(void *ctx, const char *reason);
};

enum h2_state {
	H2_ST_PREFACE = 0, /* client direction: the connection preface */
	H2_ST_HEADER,	   /* a frame header, hdr_got bytes of it so far */
	H2_ST_PAYLOAD,	   /* inside a frame's payload */
	H2_ST_BROKEN,
};

struct h2_stream_parser {
	enum h2_state state;
	bool broken; /* on_lost was called; all further bytes are ignored */
	uint8_t preface_got;
	uint8_t hdr[H2_FRAME_HEADER_LEN];
	uint8_t hdr_got;

	/* The current frame. */
	uint32_t len;
	uint8_t type;
	uint8_t flags;
	uint32_t stream_id;
	uint8_t phase;	     /* pad length byte, prefix, body, padding */
	uint32_t phase_left; /* bytes left in the phase */
	uint32_t body_len;
	uint32_t pad_len;
	bool pad_unknown; /* DATA: the Pad Length byte fell in a gap */
	bool damaged;	  /* RST_STREAM, GOAWAY: part of the fixed fields fell in a gap */
	uint8_t pre[8];	  /* priority fields, promised stream, RST/GOAWAY fixed fields */
	uint8_t pre_len;
	uint8_t pre_got;

	/* The header block being assembled; also holds a SETTINGS payload (none can come while
	 * a block is open). */
	bool in_block;
	uint8_t block_type; /* H2_HEADERS or H2_PUSH_PROMISE */
	bool block_end_stream;
	uint32_t block_stream;
	uint32_t promised_id;
	uint8_t *block; /* block_cap bytes, at most H2_HEADER_BLOCK_MAX */
	size_t block_len, block_cap;

	/* Decoded headers of one block. */
	struct h2_header *hdrs; /* H2_MAX_HEADERS */
	char *hdr_bytes;	/* H2_HEADER_BYTES */
	size_t nhdrs;
	size_t hdr_bytes_len;
	bool hdrs_truncated;
	bool shared; /* hdrs, hdr_bytes and the decoder's scratch are an h2_work's */

	struct hpack_decoder hpack;
	/* The other direction's decoder, whose limit this direction's SETTINGS_HEADER_TABLE_SIZE
	 * sets (see h2_parser_pair); NULL for none. */
	struct hpack_decoder *peer_hpack;
};

/* client: this direction carries the client's bytes, which start with the preface. */
void h2_parser_init(struct h2_stream_parser *p, bool client);

/* What the parsers of one thread can share: decoded headers live only during on_headers, and
 * Huffman strings only during a decode. Without it, each parser allocates its own (~37 KiB). */
struct h2_work {
	struct h2_header hdrs[H2_MAX_HEADERS];
	char hdr_bytes[H2_HEADER_BYTES];
	uint8_t scratch[HPACK_SCRATCH_MAX];
};
/* p (just initialised) works in work, which outlives it. */
void h2_parser_share(struct h2_stream_parser *p, struct h2_work *work);
/* Releases what the parser holds; accepts NULL. h2_parser_init may follow. */
void h2_parser_free(struct h2_stream_parser *p);
/*
 * Wires the two directions of one connection: a SETTINGS_HEADER_TABLE_SIZE sent in one
 * direction becomes the limit of the other direction's decoder (the sender's decoder is the
 * one whose table the receiver's encoder fills). It takes effect when the SETTINGS frame is
 * parsed, not when it is acknowledged; a caller that feeds the directions out of order may
 * see a size update rejected.
 */
void h2_parser_pair(struct h2_stream_parser *client, struct h2_stream_parser *server);
/* One syscall's bytes: captured (<= total) bytes at data, then total - captured not seen. */
void h2_feed(struct h2_stream_parser *p, const uint8_t *data, size_t captured, size_t total,
	     const struct h2_callbacks *cb, void *ctx);
/* Whether the bytes begin with the connection preface (or, when fewer than 24, with the
 * start of it). */
bool h2_sniff(const uint8_t *buf, size_t len);

#endif /* OBSPROBE_H2_PARSER_H */
