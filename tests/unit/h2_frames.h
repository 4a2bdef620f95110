/* SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause) */
/*
 * HTTP/2 frames for the tests, built byte by byte as RFC 9113 lays them out. Include after
 * cmocka.h.
 */
#ifndef OBSPROBE_TEST_H2_FRAMES_H
#define OBSPROBE_TEST_H2_FRAMES_H

#include <stdint.h>
#include <string.h>

/* Bytes on the wire: a frame stream, or the bytes of one event. */
struct wire {
	uint8_t b[65536];
	size_t len;
};

static inline void put(struct wire *w, const void *data, size_t len)
{
	assert_true(len <= sizeof(w->b) - w->len);
	if (len)
		memcpy(w->b + w->len, data, len);
	w->len += len;
}

static inline void put_u8(struct wire *w, uint8_t v)
{
	put(w, &v, 1);
}

static inline void frame_header(struct wire *w, uint32_t len, uint8_t type, uint8_t flags,
				uint32_t stream)
{
	uint8_t h[9] = { (uint8_t)(len >> 16),
			 (uint8_t)(len >> 8),
			 (uint8_t)len,
			 type,
			 flags,
			 (uint8_t)(stream >> 24),
			 (uint8_t)(stream >> 16),
			 (uint8_t)(stream >> 8),
			 (uint8_t)stream };

	put(w, h, sizeof(h));
}

static inline void frame(struct wire *w, uint8_t type, uint8_t flags, uint32_t stream,
			 const void *payload, size_t len)
{
	frame_header(w, (uint32_t)len, type, flags, stream);
	put(w, payload, len);
}

#endif /* OBSPROBE_TEST_H2_FRAMES_H */
