// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
#include "protocols/http_genai.h"

#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "pipeline/semconv.h"

enum key {
	K_MODEL,
	K_OBJECT, /* OpenAI: "chat.completion", "chat.completion.chunk", "response" */
	K_TYPE,	  /* Anthropic: "message", "message_start" */
	K_PROMPT_TOKENS,
	K_COMPLETION_TOKENS,
	K_INPUT_TOKENS,
	K_OUTPUT_TOKENS,
	K__COUNT,
};

static const struct {
	const char *name;
	size_t len;
} keys[K__COUNT] = {
#define KEY(k, s) [k] = { s, sizeof(s) - 1 }
	KEY(K_MODEL, "model"),
	KEY(K_OBJECT, "object"),
	KEY(K_TYPE, "type"),
	KEY(K_PROMPT_TOKENS, "prompt_tokens"),
	KEY(K_COMPLETION_TOKENS, "completion_tokens"),
	KEY(K_INPUT_TOKENS, "input_tokens"),
	KEY(K_OUTPUT_TOKENS, "output_tokens"),
#undef KEY
};

void genai_body_init(struct genai_body *b)
{
	memset(b, 0, sizeof(*b));
	b->in_tokens = b->out_tokens = -1;
}

bool genai_request_candidate(const char *method, const char *content_type)
{
	return !strcmp(method, "POST") && !strncasecmp(content_type, "application/json", 16);
}

static size_t skip_ws(const uint8_t *p, size_t i, size_t n)
{
	while (i < n && (p[i] == ' ' || p[i] == '\t' || p[i] == '\r' || p[i] == '\n'))
		i++;
	return i;
}

/* The JSON string at p[i] (its opening quote): its bytes in [*vs, *ve), true when it closes
 * before n. Escapes are kept as they are (model names have none). */
static bool string_at(const uint8_t *p, size_t i, size_t n, size_t *vs, size_t *ve)
{
	size_t j;

	if (i >= n || p[i] != '"')
		return false;
	for (j = i + 1; j < n; j++) {
		if (p[j] == '\\') {
			j++;
			continue;
		}
		if (p[j] == '"') {
			*vs = i + 1;
			*ve = j;
			return true;
		}
	}
	return false;
}

/* A non-negative JSON integer at p[i], ended before n (a number cut by the window's end is not
 * taken: the next window sees it whole). */
static bool int_at(const uint8_t *p, size_t i, size_t n, int64_t *out)
{
	int64_t v = 0;
	size_t j = i;

	while (j < n && p[j] >= '0' && p[j] <= '9' && j - i < 15)
		v = v * 10 + (p[j++] - '0');
	if (j == i || j >= n || (p[j] >= '0' && p[j] <= '9') || p[j] == '.' || p[j] == 'e' ||
	    p[j] == 'E')
		return false;
	*out = v;
	return true;
}

static bool str_is(const uint8_t *p, size_t vs, size_t ve, const char *s)
{
	size_t n = strlen(s);

	return ve - vs == n && !memcmp(p + vs, s, n);
}

static bool str_starts(const uint8_t *p, size_t vs, size_t ve, const char *s)
{
	size_t n = strlen(s);

	return ve - vs >= n && !memcmp(p + vs, s, n);
}

/* One key's value, at p[i] just past the key's closing quote. */
static void take(struct genai_body *b, enum key k, const uint8_t *p, size_t i, size_t n)
{
	size_t vs, ve;
	int64_t v;

	i = skip_ws(p, i, n);
	if (i >= n || p[i] != ':')
		return;
	i = skip_ws(p, i + 1, n);
	switch (k) {
	case K_MODEL:
		if (!b->model[0] && string_at(p, i, n, &vs, &ve) && ve > vs) {
			size_t len = ve - vs < sizeof(b->model) ? ve - vs : sizeof(b->model) - 1;

			memcpy(b->model, p + vs, len);
			b->model[len] = '\0';
		}
		return;
	case K_OBJECT:
		if (string_at(p, i, n, &vs, &ve) &&
		    (str_starts(p, vs, ve, "chat.completion") || str_is(p, vs, ve, "response") ||
		     str_is(p, vs, ve, "text_completion")))
			b->shape = GENAI_OPENAI;
		return;
	case K_TYPE:
		if (string_at(p, i, n, &vs, &ve) &&
		    (str_is(p, vs, ve, "message") || str_is(p, vs, ve, "message_start")))
			b->shape = GENAI_ANTHROPIC;
		return;
	case K_PROMPT_TOKENS:
	case K_INPUT_TOKENS:
		if (int_at(p, i, n, &v)) {
			b->in_tokens = v;
			b->tokens_shape = k == K_PROMPT_TOKENS ? GENAI_OPENAI : GENAI_ANTHROPIC;
		}
		return;
	case K_COMPLETION_TOKENS:
	case K_OUTPUT_TOKENS:
		if (int_at(p, i, n, &v)) {
			b->out_tokens = v;
			b->tokens_shape = k == K_COMPLETION_TOKENS ? GENAI_OPENAI : GENAI_ANTHROPIC;
		}
		return;
	case K__COUNT:
		return;
	}
}

/* Every key of ours in p[0, n): a quote not escaped, a name, a quote. Values cut by the end
 * are left for the next window (the carry holds them again). */
static void scan(struct genai_body *b, const uint8_t *p, size_t n)
{
	const uint8_t *q = p, *end = p + n;

	while ((q = memchr(q, '"', (size_t)(end - q)))) {
		size_t i = (size_t)(q - p);
		int k;

		q++;
		if (i && p[i - 1] == '\\')
			continue;
		for (k = 0; k < K__COUNT; k++)
			if (i + 1 + keys[k].len < n && p[i + 1 + keys[k].len] == '"' &&
			    !memcmp(p + i + 1, keys[k].name, keys[k].len)) {
				take(b, (enum key)k, p, i + 2 + keys[k].len, n);
				break;
			}
	}
}

void genai_body_feed(struct genai_body *b, const uint8_t *p, size_t n)
{
	uint8_t joint[2 * GENAI_CARRY];
	size_t head;

	if (b->scanned >= GENAI_SCAN_BUDGET)
		return;
	if (!p) {
		b->ncarry = 0; /* bytes missing: nothing joins across them */
		b->scanned += n;
		return;
	}
	if (n > GENAI_SCAN_BUDGET - b->scanned)
		n = (size_t)(GENAI_SCAN_BUDGET - b->scanned);
	b->scanned += n;
	/* a key or value split between the last chunk and this one: the carry and this
	 * chunk's start, scanned together (what lies wholly in either is found again there,
	 * and taking a value twice changes nothing) */
	head = n < GENAI_CARRY ? n : GENAI_CARRY;
	if (b->ncarry) {
		memcpy(joint, b->carry, b->ncarry);
		memcpy(joint + b->ncarry, p, head);
		scan(b, joint, b->ncarry + head);
	}
	scan(b, p, n);
	if (n >= GENAI_CARRY) {
		memcpy(b->carry, p + n - GENAI_CARRY, GENAI_CARRY);
		b->ncarry = GENAI_CARRY;
	} else {
		size_t keep = b->ncarry + n > GENAI_CARRY ? GENAI_CARRY - n : b->ncarry;

		memmove(b->carry, b->carry + b->ncarry - keep, keep);
		memcpy(b->carry + keep, p, n);
		b->ncarry = keep + n;
	}
}

bool genai_span(struct span *s, const struct genai_body *req, const struct genai_body *resp)
{
	enum genai_system sys = resp->shape ? resp->shape : resp->tokens_shape;

	if (!sys || !resp->model[0] || resp->in_tokens < 0 || resp->out_tokens < 0)
		return false;
	span_set_str(s, SC_GEN_AI_SYSTEM, sys == GENAI_OPENAI ? "openai" : "anthropic");
	span_set_str(s, SC_GEN_AI_OPERATION_NAME, "chat");
	if (req->model[0])
		span_set_str(s, SC_GEN_AI_REQUEST_MODEL, req->model);
	span_set_str(s, SC_GEN_AI_RESPONSE_MODEL, resp->model);
	span_set_int(s, SC_GEN_AI_USAGE_INPUT_TOKENS, resp->in_tokens);
	span_set_int(s, SC_GEN_AI_USAGE_OUTPUT_TOKENS, resp->out_tokens);
	return true;
}

struct genai_call *genai_call_start(const struct span *s, const char *method,
				    const char *content_type)
{
	struct genai_call *c;

	if (s->kind != SPAN_KIND_CLIENT || !genai_request_candidate(method, content_type) ||
	    !(c = malloc(sizeof(*c))))
		return NULL;
	genai_body_init(&c->req);
	genai_body_init(&c->resp);
	return c;
}

void genai_call_end(struct genai_call *c, struct span *s)
{
	if (!c)
		return;
	genai_span(s, &c->req, &c->resp);
	free(c);
}
