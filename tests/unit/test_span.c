// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "unit.h"

#include "pipeline/span.h"

/* Keys that share prefixes, lengths and last bytes, as semconv keys do: attr_find compares a
 * signature (length, last and middle byte) before the strings, and a mask before either. */
static const char *const keys[] = {
	"http.request.method",
	"http.response.status_code",
	"http.route",
	"url.path",
	"url.scheme",
	"server.address",
	"server.port",
	"client.address",
	"client.port",
	"network.peer.address",
	"network.peer.port",
	"user_agent.original",
	"a",
	"b",
	"ab",
	"ba",
	"aXb",
	"aYb",
	"",
};
#define NKEYS (sizeof(keys) / sizeof(keys[0]))

/* Every key set once reads back its own value, through its own pointer and through a copy of
 * its text at another address (keys built at run time are not the literal). */
UNIT_TEST(test_attrs_by_text)
{
	static struct span s;
	char copy[64];
	size_t i;

	(void)state;
	span_init(&s, SPAN_KIND_SERVER);
	for (i = 0; i < NKEYS; i++) {
		if (i % 2)
			span_set_int(&s, keys[i], (int64_t)i);
		else
			span_set_str(&s, keys[i], keys[i][0] ? keys[i] : "empty");
	}
	assert_int_equal(s.nattrs, NKEYS);
	for (i = 0; i < NKEYS; i++) {
		const struct span_attr *a;

		strcpy(copy, keys[i]);
		a = span_get(&s, copy);
		assert_non_null(a);
		assert_ptr_equal(a, span_get(&s, keys[i]));
		assert_ptr_equal(a, &s.attrs[i]);
		if (i % 2)
			assert_int_equal(span_get_int(&s, copy, -1), (int64_t)i);
		else
			assert_string_equal(span_get_str(&s, copy), keys[i][0] ? keys[i] : "empty");
	}
	assert_null(span_get(&s, "http.request.methoD"));
	assert_null(span_get(&s, "url.pat"));
	assert_null(span_get(&s, "c"));
}

/* Setting a key again, by another pointer to the same text, replaces its value in place. */
UNIT_TEST(test_attrs_replaced)
{
	static struct span s;
	char copy[64];
	size_t i;

	(void)state;
	span_init(&s, SPAN_KIND_CLIENT);
	for (i = 0; i < NKEYS; i++)
		span_set_int(&s, keys[i], 1);
	for (i = 0; i < NKEYS; i++) {
		strcpy(copy, keys[i]);
		span_set_int(&s, copy, (int64_t)(100 + i));
	}
	assert_int_equal(s.nattrs, NKEYS);
	for (i = 0; i < NKEYS; i++) {
		assert_ptr_equal(s.attrs[i].key, keys[i]);
		assert_int_equal(span_get_int(&s, keys[i], -1), (int64_t)(100 + i));
	}
}

/* Beyond SPAN_MAX_ATTRS keys a new key is dropped, an existing one still set; span_init
 * forgets every key (a span is reused). */
UNIT_TEST(test_attrs_full_and_reset)
{
	static struct span s;
	char name[SPAN_MAX_ATTRS + 2][16];
	size_t i;

	(void)state;
	span_init(&s, SPAN_KIND_SERVER);
	for (i = 0; i < SPAN_MAX_ATTRS + 2; i++) {
		snprintf(name[i], sizeof(name[i]), "k%zu", i);
		span_set_int(&s, name[i], (int64_t)i);
	}
	assert_int_equal(s.nattrs, SPAN_MAX_ATTRS);
	assert_null(span_get(&s, name[SPAN_MAX_ATTRS]));
	span_set_int(&s, name[3], 33);
	assert_int_equal(span_get_int(&s, "k3", -1), 33);
	span_init(&s, SPAN_KIND_SERVER);
	for (i = 0; i < SPAN_MAX_ATTRS + 2; i++)
		assert_null(span_get(&s, name[i]));
	span_set_str(&s, "k3", "v");
	assert_int_equal(s.nattrs, 1);
	assert_string_equal(span_get_str(&s, "k3"), "v");
}

/* A string attribute keeps its length in the arena (the OTLP encoder's): for a value cut short
 * at the arena's end too, and for the "" of a full one. */
UNIT_TEST(test_attr_str_len)
{
	static struct span s;
	const struct span_attr *a;
	char big[SPAN_ARENA + 16];
	size_t used;

	(void)state;
	span_init(&s, SPAN_KIND_SERVER);
	span_set_str(&s, "ascii", "GET");
	span_set_str(&s, "utf8", "caf\xc3\xa9");
	span_set_str(&s, "empty", "");
	assert_int_equal(span_get(&s, "ascii")->slen, 3);
	assert_int_equal(span_get(&s, "utf8")->slen, 5);
	assert_int_equal(span_get(&s, "empty")->slen, 0);
	/* a value longer than what is left: its first bytes, which is all the arena holds */
	memset(big, 'x', sizeof(big) - 1);
	big[sizeof(big) - 1] = '\0';
	used = s.arena_used;
	span_set_str(&s, "long", big);
	a = span_get(&s, "long");
	assert_int_equal(a->slen, SPAN_ARENA - used - 2);
	assert_int_equal(strlen(s.arena + a->soff), a->slen);
	/* the arena full: "" */
	span_set_str(&s, "more", "more");
	a = span_get(&s, "more");
	assert_int_equal(a->slen, 0);
	assert_string_equal(span_get_str(&s, "more"), "");
}

/* A copy has what is read of a span, in span_used_size() bytes: its attributes, its used arena,
 * and an exception's strings past the arena; garbage left in the copy's unused attributes is
 * never read. */
UNIT_TEST(test_copy)
{
	static struct span s, copy, again;
	size_t i;

	(void)state;
	span_init(&s, SPAN_KIND_CLIENT);
	snprintf(s.name, sizeof(s.name), "GET /x");
	s.end_ns = 42;
	for (i = 0; i < 5; i++)
		span_set_str(&s, keys[i], keys[i + 1]);
	span_set_int(&s, keys[5], 8080);
	assert_int_equal(span_used_size(&s), offsetof(struct span, arena) + s.arena_used);
	memset(&copy, 0xa5, sizeof(copy));
	span_copy(&copy, &s);
	assert_int_equal(copy.nattrs, 6);
	assert_int_equal(copy.end_ns, 42);
	assert_string_equal(copy.name, "GET /x");
	for (i = 0; i < 5; i++)
		assert_string_equal(span_get_str(&copy, keys[i]), keys[i + 1]);
	assert_int_equal(span_get_int(&copy, keys[5], -1), 8080);
	assert_null(span_get(&copy, keys[6]));
	/* past nattrs: left as it was */
	assert_int_equal(((unsigned char *)&copy.attrs[6])[0], 0xa5);

	span_set_exception(&s, 7, "panic", "boom", "main.f\n", false);
	assert_int_equal(span_used_size(&s), sizeof(s));
	memset(&again, 0xa5, sizeof(again));
	span_copy(&again, &s);
	assert_int_equal(again.exc_ns, 7);
	assert_string_equal(again.exc, "panic");
	assert_string_equal(again.exc + again.exc_msg_off, "boom");
	assert_string_equal(span_get_str(&again, keys[0]), keys[1]);
}

UNIT_MAIN(NULL, NULL)
