/* SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause) */
/*
 * LLM API calls seen in HTTP client traffic: the request's JSON body names the model, the
 * response's (one JSON document, or server-sent events when streaming) the model that answered
 * and the token usage, in the shape of the OpenAI API (prompt_tokens / completion_tokens, object
 * chat.completion) or Anthropic's (input_tokens / output_tokens, type message). Bodies are
 * scanned chunk by chunk, as they are captured, for a few keys only, up to GENAI_SCAN_BUDGET
 * bytes each; nothing of them is kept but those values, and nothing else is exported. Pure: no
 * I/O; the one allocation is genai_call_start's.
 */
#ifndef OBSPROBE_HTTP_GENAI_H
#define OBSPROBE_HTTP_GENAI_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "pipeline/span.h"

#define GENAI_MODEL_MAX 96
#define GENAI_SCAN_BUDGET (256 * 1024) /* bytes of one body scanned at most */
#define GENAI_CARRY 128		       /* bytes kept across chunks: a key and value split there */

enum genai_system {
	GENAI_NONE = 0,
	GENAI_OPENAI,
	GENAI_ANTHROPIC,
};

/* What one body said so far. */
struct genai_body {
	uint64_t scanned;
	size_t ncarry;
	uint8_t carry[GENAI_CARRY];
	char model[GENAI_MODEL_MAX];   /* the first "model" */
	int64_t in_tokens, out_tokens; /* the last ones seen; -1: none */
	enum genai_system shape;       /* from "object"/"type", else from the token keys */
	enum genai_system tokens_shape;
};

/* A client request that may be an LLM API call, and its answer. */
struct genai_call {
	struct genai_body req, resp;
};

void genai_body_init(struct genai_body *b);
/* n more bytes of the body at p; p NULL: n bytes were not captured (nothing joins across). */
void genai_body_feed(struct genai_body *b, const uint8_t *p, size_t n);

/* Whether a request is worth scanning: a POST with a JSON body (content_type its
 * Content-Type, "" when absent). */
bool genai_request_candidate(const char *method, const char *content_type);

/* What the HTTP trackers hold per request (the one allocation here): a call to follow when s
 * is a client span whose request is a candidate, else (or without memory) NULL. */
struct genai_call *genai_call_start(const struct span *s, const char *method,
				    const char *content_type);
/* The call is over: s gets what its bodies said (genai_span), c is freed; NULL ok. */
void genai_call_end(struct genai_call *c, struct span *s);

/* The gen_ai.* attributes of the client span s, from its request and response bodies: true
 * when the response is an LLM API answer (a model and token usage in a known shape), else
 * false and s untouched. */
bool genai_span(struct span *s, const struct genai_body *req, const struct genai_body *resp);

#endif /* OBSPROBE_HTTP_GENAI_H */
