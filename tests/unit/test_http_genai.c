// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/* LLM API calls read from HTTP bodies: the OpenAI and Anthropic shapes, plain and streamed,
 * however the bytes are split, with gaps, escapes and the scan budget. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "unit.h"

#include "pipeline/semconv.h"
#include "protocols/http_genai.h"

static const char openai_req[] =
	"{\"model\":\"gpt-4o\",\"messages\":[{\"role\":\"user\",\"content\":\"say \\\"model\\\": "
	"\\\"evil\\\" and \\\"prompt_tokens\\\": 99\"}],\"max_tokens\":64}";
static const char openai_resp[] =
	"{\"id\":\"chatcmpl-1\",\"object\":\"chat.completion\",\"created\":1,"
	"\"model\":\"gpt-4o-2024-08-06\",\"choices\":[{\"index\":0,\"message\":{\"role\":"
	"\"assistant\",\"content\":\"hello\"},\"finish_reason\":\"stop\"}],"
	"\"usage\": {\"prompt_tokens\": 17, \"completion_tokens\": 9, \"total_tokens\": 26}}";
static const char anthropic_sse[] =
	"event: message_start\ndata: {\"type\":\"message_start\",\"message\":{\"id\":\"msg_1\","
	"\"type\":\"message\",\"role\":\"assistant\",\"model\":\"claude-3-haiku-20240307\","
	"\"content\":[],\"usage\":{\"input_tokens\":25,\"output_tokens\":1}}}\n\n"
	"event: content_block_delta\ndata: {\"type\":\"content_block_delta\",\"index\":0,"
	"\"delta\":{\"type\":\"text_delta\",\"text\":\"Hi\"}}\n\n"
	"event: message_delta\ndata: {\"type\":\"message_delta\",\"delta\":{\"stop_reason\":"
	"\"end_turn\"},\"usage\":{\"output_tokens\":15}}\n\n"
	"event: message_stop\ndata: {\"type\":\"message_stop\"}\n\n";
static const char openai_sse[] =
	"data: {\"id\":\"c\",\"object\":\"chat.completion.chunk\",\"model\":\"gpt-4o-mini-2024\","
	"\"choices\":[{\"index\":0,\"delta\":{\"content\":\"x\"}}],\"usage\":null}\n\n"
	"data: {\"id\":\"c\",\"object\":\"chat.completion.chunk\",\"model\":\"gpt-4o-mini-2024\","
	"\"choices\":[],\"usage\":{\"prompt_tokens\":8,\"completion_tokens\":120,"
	"\"total_tokens\":128}}\n\ndata: [DONE]\n\n";

static void feed_str(struct genai_body *b, const char *s)
{
	genai_body_init(b);
	genai_body_feed(b, (const uint8_t *)s, strlen(s));
}

/* The span's gen_ai attributes from request and response texts. */
static bool span_of(const char *req, const char *resp, struct span *s)
{
	struct genai_body q, r;

	feed_str(&q, req);
	feed_str(&r, resp);
	span_init(s, SPAN_KIND_CLIENT);
	return genai_span(s, &q, &r);
}

UNIT_TEST(test_openai_plain)
{
	(void)state;
	struct span s;

	assert_true(span_of(openai_req, openai_resp, &s));
	assert_string_equal(span_get_str(&s, SC_GEN_AI_SYSTEM), "openai");
	assert_string_equal(span_get_str(&s, SC_GEN_AI_OPERATION_NAME), "chat");
	/* the escaped "model" in the prompt is not the request's */
	assert_string_equal(span_get_str(&s, SC_GEN_AI_REQUEST_MODEL), "gpt-4o");
	assert_string_equal(span_get_str(&s, SC_GEN_AI_RESPONSE_MODEL), "gpt-4o-2024-08-06");
	assert_int_equal(span_get_int(&s, SC_GEN_AI_USAGE_INPUT_TOKENS, -1), 17);
	assert_int_equal(span_get_int(&s, SC_GEN_AI_USAGE_OUTPUT_TOKENS, -1), 9);
}

UNIT_TEST(test_streams)
{
	(void)state;
	struct span s;

	assert_true(span_of("{\"model\":\"claude-3-haiku\",\"stream\":true}", anthropic_sse, &s));
	assert_string_equal(span_get_str(&s, SC_GEN_AI_SYSTEM), "anthropic");
	assert_string_equal(span_get_str(&s, SC_GEN_AI_REQUEST_MODEL), "claude-3-haiku");
	assert_string_equal(span_get_str(&s, SC_GEN_AI_RESPONSE_MODEL), "claude-3-haiku-20240307");
	/* input from message_start, output from the last message_delta */
	assert_int_equal(span_get_int(&s, SC_GEN_AI_USAGE_INPUT_TOKENS, -1), 25);
	assert_int_equal(span_get_int(&s, SC_GEN_AI_USAGE_OUTPUT_TOKENS, -1), 15);

	assert_true(span_of("{\"stream\":true,\"model\":\"gpt-4o-mini\"}", openai_sse, &s));
	assert_string_equal(span_get_str(&s, SC_GEN_AI_SYSTEM), "openai");
	assert_string_equal(span_get_str(&s, SC_GEN_AI_RESPONSE_MODEL), "gpt-4o-mini-2024");
	assert_int_equal(span_get_int(&s, SC_GEN_AI_USAGE_INPUT_TOKENS, -1), 8);
	assert_int_equal(span_get_int(&s, SC_GEN_AI_USAGE_OUTPUT_TOKENS, -1), 120);
}

/* Split in two at every offset, and byte by byte: the same answer as whole. */
UNIT_TEST(test_any_split)
{
	(void)state;
	const char *bodies[] = { openai_resp, anthropic_sse, openai_sse };
	size_t k, cut, i;

	for (k = 0; k < 3; k++) {
		const char *b = bodies[k];
		size_t n = strlen(b);
		struct genai_body whole;

		feed_str(&whole, b);
		for (cut = 0; cut <= n; cut++) {
			struct genai_body two;

			genai_body_init(&two);
			genai_body_feed(&two, (const uint8_t *)b, cut);
			genai_body_feed(&two, (const uint8_t *)b + cut, n - cut);
			assert_string_equal(two.model, whole.model);
			assert_int_equal(two.in_tokens, whole.in_tokens);
			assert_int_equal(two.out_tokens, whole.out_tokens);
			assert_int_equal(two.shape, whole.shape);
		}
		{
			struct genai_body one;

			genai_body_init(&one);
			for (i = 0; i < n; i++)
				genai_body_feed(&one, (const uint8_t *)b + i, 1);
			assert_string_equal(one.model, whole.model);
			assert_int_equal(one.in_tokens, whole.in_tokens);
			assert_int_equal(one.out_tokens, whole.out_tokens);
		}
	}
}

/* Bytes not captured: nothing is joined across them, and what follows still counts. */
UNIT_TEST(test_gap)
{
	(void)state;
	static const char a[] = "{\"model\":\"m1\",\"usage\":{\"prompt_to";
	static const char b[] = "kens\":5,\"completion_tokens\":7}}";
	struct genai_body r;

	genai_body_init(&r);
	genai_body_feed(&r, (const uint8_t *)a, strlen(a));
	genai_body_feed(&r, NULL, 100);
	genai_body_feed(&r, (const uint8_t *)b, strlen(b));
	assert_string_equal(r.model, "m1");
	assert_int_equal(r.in_tokens, -1); /* its key was cut by the gap */
	assert_int_equal(r.out_tokens, 7);
}

/* A JSON answer that is no LLM API answer leaves the span alone. */
UNIT_TEST(test_not_llm)
{
	(void)state;
	struct span s;

	assert_false(span_of("{\"model\":\"x\"}", "{\"model\":\"x\",\"items\":[1,2]}", &s));
	assert_null(span_get(&s, SC_GEN_AI_SYSTEM));
	assert_false(span_of("{}", "{\"usage\":{\"input_tokens\":1,\"output_tokens\":2}}", &s));
	/* a number cut at the end of the body, a float, a negative: not token counts */
	assert_false(span_of(
		"{}", "{\"model\":\"m\",\"prompt_tokens\":1.5,\"completion_tokens\":-2}", &s));
	assert_null(span_get(&s, SC_GEN_AI_USAGE_INPUT_TOKENS));
}

/* Past GENAI_SCAN_BUDGET bytes nothing is read. */
UNIT_TEST(test_budget)
{
	(void)state;
	static const char usage[] = "{\"model\":\"m\",\"prompt_tokens\":1,\"completion_tokens\":2}";
	size_t n = GENAI_SCAN_BUDGET;
	uint8_t *pad = malloc(n);
	struct genai_body r;

	assert_non_null(pad);
	memset(pad, ' ', n);
	genai_body_init(&r);
	genai_body_feed(&r, pad, n - 10);
	genai_body_feed(&r, (const uint8_t *)usage, strlen(usage));
	assert_string_equal(r.model, ""); /* only its first 10 bytes were scanned */
	genai_body_feed(&r, (const uint8_t *)usage, strlen(usage));
	assert_int_equal(r.in_tokens, -1);
	free(pad);
}

UNIT_TEST(test_candidate)
{
	(void)state;
	assert_true(genai_request_candidate("POST", "application/json"));
	assert_true(genai_request_candidate("POST", "application/json; charset=utf-8"));
	assert_true(genai_request_candidate("POST", "Application/JSON"));
	assert_false(genai_request_candidate("GET", "application/json"));
	assert_false(genai_request_candidate("POST", "text/plain"));
	assert_false(genai_request_candidate("POST", ""));
}

UNIT_MAIN(NULL, NULL)
