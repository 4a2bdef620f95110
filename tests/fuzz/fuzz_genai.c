// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/*
 * Input: byte 0 is the size of the pieces the rest is fed in (1..256; a piece whose first
 * byte is 0xff stands for a gap of that many uncaptured bytes instead), the rest a response
 * body, fed to one genai_body; the first half is also fed whole to another as the request.
 *
 * Besides the sanitizers, it checks that the model is NUL-terminated within its buffer, token
 * counts are -1 or non-negative, the carry never outgrows its buffer, and genai_span sets
 * every gen_ai attribute or none.
 */
#include <assert.h>
#include <stdint.h>
#include <string.h>

#include "pipeline/semconv.h"
#include "protocols/http_genai.h"

static void check(const struct genai_body *b)
{
	assert(memchr(b->model, '\0', sizeof(b->model)));
	assert(b->in_tokens >= -1 && b->out_tokens >= -1);
	assert(b->ncarry <= GENAI_CARRY);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct genai_body req, resp;
	struct span s;
	size_t piece, i;
	bool set;

	if (size < 1)
		return 0;
	piece = (size_t)data[0] + 1;
	data++;
	size--;
	genai_body_init(&req);
	genai_body_init(&resp);
	genai_body_feed(&req, data, size / 2);
	check(&req);
	for (i = 0; i < size; i += piece) {
		size_t n = size - i < piece ? size - i : piece;

		if (data[i] == 0xff)
			genai_body_feed(&resp, NULL, n);
		else
			genai_body_feed(&resp, data + i, n);
		check(&resp);
	}
	span_init(&s, SPAN_KIND_CLIENT);
	set = genai_span(&s, &req, &resp);
	assert(set == (span_get(&s, SC_GEN_AI_SYSTEM) != NULL));
	assert(set == (span_get(&s, SC_GEN_AI_USAGE_OUTPUT_TOKENS) != NULL));
	return 0;
}
