/* SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause) */
/*
 * HTTP/1.0 and 1.1 parsing as pure functions over bytes: no I/O, no globals, no allocation.
 * Input comes from partial captures of a process's socket traffic, so nothing in it is trusted:
 * every length is checked, every buffer bounded.
 */
#ifndef OBSPROBE_HTTP_PARSER_H
#define OBSPROBE_HTTP_PARSER_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define HTTP_HEAD_MAX 16384 /* a head larger than this is a parse error */
#define HTTP_METHOD_MAX 16
#define HTTP_TARGET_MAX 1024
#define HTTP_HOST_MAX 256
#define HTTP_UA_MAX 256
#define HTTP_TRACEPARENT_MAX 64
#define HTTP_CONTENT_TYPE_MAX 64

enum http_kind {
	HTTP_REQUEST = 1,
	HTTP_RESPONSE = 2,
};

/* The parts of a message head that obsprobe uses. Secrets (Authorization, Cookie,
 * Set-Cookie) are never copied out of the input. Strings are NUL-terminated, truncated to fit. */
struct http_head {
	enum http_kind kind;
	int version;		      /* 10 for HTTP/1.0, 11 for HTTP/1.1 */
	char method[HTTP_METHOD_MAX]; /* requests */
	char target[HTTP_TARGET_MAX]; /* requests: request-target as sent */
	int status;		      /* responses: 100..599 */
	int64_t content_length;	      /* -1 when absent */
	bool chunked;		      /* Transfer-Encoding ends in chunked */
	bool conn_close;	      /* Connection: close (or HTTP/1.0 without keep-alive) */
	bool truncated;		      /* the head was cut short by the capture (see http_stream) */
	char host[HTTP_HOST_MAX];
	char user_agent[HTTP_UA_MAX];
	char traceparent[HTTP_TRACEPARENT_MAX];
	char content_type[HTTP_CONTENT_TYPE_MAX];
	size_t head_len; /* bytes up to and including the blank line */
};

enum http_parse_result {
	HTTP_PARSE_ERROR = -1, /* not HTTP/1.x, or malformed */
	HTTP_PARSE_NEED_MORE = 0,
	/* > 0: the head is complete and this many bytes long */
};

/* Cheap check on the first bytes of a message: could this be the start of a request or a
 * response? Needs at most 8 bytes; with fewer it answers for what it has. */
bool http_sniff(const uint8_t *buf, size_t len, enum http_kind *kind);

/* Parse one head at the start of buf. Returns its length (> 0), HTTP_PARSE_NEED_MORE when the
 * blank line has not arrived yet (and len < HTTP_HEAD_MAX), or HTTP_PARSE_ERROR. */
int http_parse_head(const uint8_t *buf, size_t len, struct http_head *out);

/* Parse what there is of a head that a capture cut short: header lines that are complete are
 * used; the start line must be complete, except that a request line cut inside its target
 * gives the method and the target's first bytes. Sets out->truncated. Returns 0 or
 * HTTP_PARSE_ERROR. */
int http_parse_partial_head(const uint8_t *buf, size_t len, struct http_head *out);

/* Whether a response to `method` with this status carries a body at all. */
bool http_response_has_body(const char *method, int status);

/*
 * A one-direction byte stream of a connection, fed event by event. It frames messages
 * (Content-Length, chunked, read-until-close, no body), handles pipelining (several messages
 * in one event) and messages split over many events, and survives capture gaps: an event may
 * report more bytes than were captured (`total` > `len`), the missing tail is skipped as body
 * when the framing allows it, and otherwise the stream resynchronises at a later event that
 * starts with a message.
 */
enum http_body_mode {
	HTTP_BODY_DEFAULT = 0, /* frame the body from the head */
	HTTP_BODY_NONE = 1,    /* the message has no body (e.g. response to HEAD) */
};

struct http_stream_ops {
	/* A head was parsed. Returns an http_body_mode. May be NULL. */
	int (*on_head)(void *ctx, const struct http_head *head);
	/* The message whose head was last reported is complete. `clean` is false when it ended by
	 * a gap, a resync or the stream's close rather than by its framing. */
	void (*on_complete)(void *ctx, bool clean);
	/* Bytes that are not HTTP: reported once per loss of sync, not per event. */
	void (*on_error)(void *ctx);
	/* A head longer than the capture: its start line was used, the rest lost. */
	void (*on_truncated)(void *ctx);
	/* Bytes of the body of the message whose head was last reported, as framed (chunked
	 * bodies without their chunk lines); data NULL: len bytes were not captured. May be
	 * NULL. */
	void (*on_body)(void *ctx, const uint8_t *data, size_t len);
};

enum http_stream_state {
	HTTP_ST_IDLE = 0,    /* between messages: the next byte starts a head */
	HTTP_ST_HEAD,	     /* collecting a head that spans events */
	HTTP_ST_BODY_LEN,    /* Content-Length body, body_left bytes to go */
	HTTP_ST_CHUNK_SIZE,  /* reading a chunk-size line */
	HTTP_ST_CHUNK_DATA,  /* chunk data, body_left bytes to go, then CRLF */
	HTTP_ST_CHUNK_CRLF,  /* the CRLF after chunk data */
	HTTP_ST_TRAILER,     /* trailer lines after the last chunk */
	HTTP_ST_UNTIL_CLOSE, /* body ends when the connection closes */
	HTTP_ST_RESYNC,	     /* lost: skip until an event starts with a message */
	HTTP_ST_NOT_HTTP,    /* gave up on this stream */
};

struct http_stream {
	enum http_stream_state state;
	uint64_t body_left;
	unsigned errors; /* consecutive resync failures; NOT_HTTP after a few */
	size_t buf_len;	 /* bytes in buf (head, chunk-size line or trailer line) */
	/* HTTP_HEAD_MAX bytes, allocated only while a head or a chunk line spans events: most
	 * heads parse in place, and thousands of idle connections should not cost 16 KiB each */
	uint8_t *buf;
};

void http_stream_init(struct http_stream *s);
/* Releases what the stream holds; it may be initialised again afterwards. */
void http_stream_free(struct http_stream *s);
/* One event's bytes: `len` captured bytes at data, out of `total` >= len the syscall moved. */
void http_stream_feed(struct http_stream *s, const uint8_t *data, size_t len, uint64_t total,
		      const struct http_stream_ops *ops, void *ctx);
/* The connection closed: completes a read-until-close body, abandons anything else. */
void http_stream_close(struct http_stream *s, const struct http_stream_ops *ops, void *ctx);

/* W3C trace context: parses "00-<32 hex>-<16 hex>-<2 hex>". Rejects all-zero ids, version ff,
 * upper-case hex and wrong lengths. Returns true and fills the ids on success. */
bool http_parse_traceparent(const char *s, uint8_t trace_id[16], uint8_t span_id[8],
			    uint8_t *flags);

#endif /* OBSPROBE_HTTP_PARSER_H */
