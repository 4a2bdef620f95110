// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
#include "pipeline/route.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "util/hash.h"
#include "util/hex.h"

#define REDACTED "REDACTED"

/* Appends to a bounded, always NUL-terminated output; what does not fit is dropped. */
struct out {
	char *buf;
	size_t size;
	size_t len;
};

static void out_init(struct out *o, char *buf, size_t size)
{
	o->buf = buf;
	o->size = buf ? size : 0;
	o->len = 0;
	if (o->size)
		o->buf[0] = '\0';
}

static void out_put(struct out *o, const char *s, size_t n)
{
	if (!o->size || o->len >= o->size - 1)
		return;
	if (n > o->size - 1 - o->len)
		n = o->size - 1 - o->len;
	memcpy(o->buf + o->len, s, n);
	o->len += n;
	o->buf[o->len] = '\0';
}

static bool is_alpha(char c)
{
	return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z');
}

static bool is_digit(char c)
{
	return c >= '0' && c <= '9';
}

/* Length of "scheme://authority" at the start of an absolute-form target, else 0. */
static size_t authority_end(const char *t)
{
	size_t i = 0;

	if (!is_alpha(t[0]))
		return 0;
	while (is_alpha(t[i]) || is_digit(t[i]) || t[i] == '+' || t[i] == '-' || t[i] == '.')
		i++;
	if (strncmp(t + i, "://", 3))
		return 0;
	return i + 3 + strcspn(t + i + 3, "/?#");
}

void route_split_target(const char *target, char *path_out, size_t path_size, char *query_out,
			size_t query_size)
{
	struct out path, query;
	const char *p, *q;
	size_t plen, qlen, i;

	out_init(&path, path_out, path_size);
	out_init(&query, query_out, query_size);
	if (!target)
		target = "";

	p = target + authority_end(target);
	plen = strcspn(p, "?#");
	if (plen)
		out_put(&path, p, plen);
	else
		out_put(&path, "/", 1);
	if (p[plen] != '?')
		return;

	q = p + plen + 1;
	qlen = strcspn(q, "#");
	for (i = 0; i < qlen;) {
		size_t elen = strcspn(q + i, "&#"), klen = strcspn(q + i, "=&#");

		if (i)
			out_put(&query, "&", 1);
		/* a bare element ("?s3cr3t") is a value too: only keys of key=value survive */
		if (klen < elen) {
			out_put(&query, q + i, klen);
			out_put(&query, "=" REDACTED, strlen("=" REDACTED));
		} else if (elen) {
			out_put(&query, REDACTED, strlen(REDACTED));
		}
		i += elen;
		if (q[i] == '&')
			i++;
	}
	/* Keep a trailing '&' so that empty elements stay visible as sent. */
	if (qlen && q[qlen - 1] == '&')
		out_put(&query, "&", 1);
}

static bool is_uuid(const char *s, size_t n)
{
	size_t i;

	if (n != 36)
		return false;
	for (i = 0; i < n; i++) {
		bool dash = i == 8 || i == 13 || i == 18 || i == 23;

		if (dash ? s[i] != '-' : hex_digit_value(s[i]) < 0)
			return false;
	}
	return true;
}

/*
 * Whether a path segment is an identifier rather than a name. Letters alone are never one,
 * even when they happen to be hex ("deadbeefdeadbeef"): a word in a route is worth keeping.
 */
static bool is_id(const char *s, size_t n)
{
	size_t i, letters = 0, digits = 0, hex = 0, other = 0;

	if (!n)
		return false;
	if (n < 16) {
		/* what the rules below make of a short segment: an id when all digits; said
		 * directly, since most segments are short words ("index.html", "api") */
		for (i = 0; i < n; i++)
			if (!is_digit(s[i]))
				return false;
		return true;
	}
	if (is_uuid(s, n))
		return true;
	for (i = 0; i < n; i++) {
		if (is_digit(s[i]))
			digits++;
		else if (is_alpha(s[i]))
			letters++;
		else if (s[i] != '-' && s[i] != '_')
			other++;
		if (hex_digit_value(s[i]) >= 0)
			hex++;
	}
	if (digits == n)
		return true;
	if (n < 16 || !digits || !letters)
		return false;
	/* Hex ids, and tokens such as base64url keys or slugs with numbers in them. */
	return hex == n || !other;
}

void route_fold(const char *path, char *out_buf, size_t out_size)
{
	struct out o;
	const char *s;

	out_init(&o, out_buf, out_size);
	if (!path || !*path) {
		out_put(&o, "/", 1);
		return;
	}
	for (s = path;;) {
		size_t n = strcspn(s, "/");

		if (is_id(s, n))
			out_put(&o, "{id}", 4);
		else
			out_put(&o, s, n);
		if (!s[n])
			break;
		out_put(&o, "/", 1);
		s += n + 1;
	}
}

struct route_set {
	char **slots; /* open addressing, linear probing; NULL is empty */
	size_t mask;
	size_t count;
	size_t cap;
	unsigned long long overflows;
};

struct route_set *route_set_new(size_t cap)
{
	struct route_set *rs;
	size_t n = 8;

	/* At most half full, so probes stay short and always find an empty slot. */
	while (n / 2 < cap) {
		if (n > SIZE_MAX / 2 / sizeof(char *))
			return NULL;
		n *= 2;
	}
	rs = calloc(1, sizeof(*rs));
	if (!rs)
		return NULL;
	rs->slots = calloc(n, sizeof(*rs->slots));
	if (!rs->slots) {
		free(rs);
		return NULL;
	}
	rs->mask = n - 1;
	rs->cap = cap;
	return rs;
}

void route_set_free(struct route_set *rs)
{
	size_t i;

	if (!rs)
		return;
	for (i = 0; i <= rs->mask; i++)
		free(rs->slots[i]);
	free(rs->slots);
	free(rs);
}

const char *route_set_intern(struct route_set *rs, const char *route)
{
	size_t i;

	if (!rs)
		return ROUTE_OVERFLOW;
	if (!route)
		route = "";
	for (i = fnv1a_str(route) & rs->mask; rs->slots[i]; i = (i + 1) & rs->mask)
		if (!strcmp(rs->slots[i], route))
			return rs->slots[i];
	if (rs->count >= rs->cap)
		goto overflow;
	rs->slots[i] = strdup(route);
	if (!rs->slots[i])
		goto overflow;
	rs->count++;
	return rs->slots[i];
overflow:
	rs->overflows++;
	return ROUTE_OVERFLOW;
}

unsigned long long route_set_overflows(const struct route_set *rs)
{
	return rs ? rs->overflows : 0;
}
