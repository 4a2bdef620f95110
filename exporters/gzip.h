/* SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause) */
/*
 * Request bodies as gzip members (Content-Encoding: gzip), whole buffers at once with
 * libdeflate. One compressor and one output buffer serve every body: a compressor is a few
 * hundred KiB of tables, and making it afresh for each body (pages the allocator had given
 * back, faulted in again) would cost more than the compression itself.
 *
 *	struct gzip gz = { 0 };		       made with the first body
 *	gzip_body(&gz, body, len, &gzlen);     the member is gz.out[0..gzlen), until the next call
 *	gzip_free(&gz);
 */
#ifndef OBSPROBE_GZIP_H
#define OBSPROBE_GZIP_H

#include <stddef.h>
#include <stdint.h>

struct libdeflate_compressor;

struct gzip {
	struct libdeflate_compressor *c;
	uint8_t *out;
	size_t cap;
};

/* in as one gzip member in g->out: 0, or -ENOMEM (the compressor or the buffer), or -EIO */
int gzip_body(struct gzip *g, const uint8_t *in, size_t inlen, size_t *outlen);
/* g's compressor and buffer; g is left empty, ready for another body. NULL accepted. */
void gzip_free(struct gzip *g);

#endif
