// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include <cmocka.h>

#include "unit.h"

#include "pipeline/route.h"

static void check_split(const char *target, const char *want_path, const char *want_query)
{
	char path[256], query[256];

	memset(path, 0x55, sizeof(path));
	memset(query, 0x55, sizeof(query));
	route_split_target(target, path, sizeof(path), query, sizeof(query));
	if (strcmp(path, want_path) || strcmp(query, want_query))
		fail_msg("\"%s\": got \"%s\" \"%s\", want \"%s\" \"%s\"",
			 target ? target : "(null)", path, query, want_path, want_query);
}

static void check_fold(const char *path, const char *want)
{
	char out[256];

	memset(out, 0x55, sizeof(out));
	route_fold(path, out, sizeof(out));
	if (strcmp(out, want))
		fail_msg("\"%s\": got \"%s\", want \"%s\"", path ? path : "(null)", out, want);
}

UNIT_TEST(test_split_query_redacted)
{
	(void)state;
	check_split("/users/42?token=abc&x=1#frag", "/users/42", "token=REDACTED&x=REDACTED");
	check_split("/a?x=1&flag", "/a", "x=REDACTED&REDACTED");
	check_split("/a?s3cr3t", "/a", "REDACTED");
	check_split("/a?x==1&y=", "/a", "x=REDACTED&y=REDACTED");
	check_split("/a?x=1&&y=2&", "/a", "x=REDACTED&&y=REDACTED&");
	check_split("/a?&x=1", "/a", "&x=REDACTED");
	check_split("/a?=v", "/a", "=REDACTED");
	check_split("/search?q=a%20b+c&page=2", "/search", "q=REDACTED&page=REDACTED");
	check_split("/a?", "/a", "");
	check_split("/a", "/a", "");
	check_split("/a#x?y=1", "/a", "");
	check_split("/p?a=1#frag=2", "/p", "a=REDACTED");
	check_split("/a/b/", "/a/b/", "");
}

UNIT_TEST(test_split_forms)
{
	(void)state;
	check_split("", "/", "");
	check_split(NULL, "/", "");
	check_split("?x=1", "/", "x=REDACTED");
	check_split("http://example.com:8080/p/q?s=1", "/p/q", "s=REDACTED");
	check_split("https://user@example.com/p", "/p", "");
	check_split("HTTP://EXAMPLE.COM/Up", "/Up", "");
	check_split("https://example.com", "/", "");
	check_split("http://example.com?x=1", "/", "x=REDACTED");
	check_split("http://example.com#top", "/", "");
	check_split("*", "*", "");
	check_split("example.com:443", "example.com:443", "");
	/* Not absolute-form: these are paths that merely contain "://". */
	check_split("/redirect?to=http://evil/", "/redirect", "to=REDACTED");
	check_split("//double/slash", "//double/slash", "");
}

UNIT_TEST(test_split_truncation)
{
	char path[4], query[8], one[1];

	(void)state;
	route_split_target("/abcdef?x=secretvalue&y=2", path, sizeof(path), query, sizeof(query));
	assert_string_equal(path, "/ab");
	assert_string_equal(query, "x=REDAC");
	assert_null(strstr(query, "secret"));
	route_split_target("/abc?x=1", one, sizeof(one), one, sizeof(one));
	assert_string_equal(one, "");
	route_split_target("/abc?x=1", NULL, 0, NULL, 0);
	route_split_target("/abc?x=1", path, 0, query, sizeof(query));
	assert_string_equal(query, "x=REDAC");
}

UNIT_TEST(test_fold_ids)
{
	(void)state;
	check_fold("/users/42/orders/7", "/users/{id}/orders/{id}");
	check_fold("/users/0", "/users/{id}");
	check_fold("/users/550e8400-e29b-41d4-a716-446655440000", "/users/{id}");
	check_fold("/users/550E8400-E29B-41D4-A716-446655440000/x", "/users/{id}/x");
	check_fold("/blobs/0123456789abcdef0123", "/blobs/{id}");
	check_fold("/blobs/0123456789ABCDEF", "/blobs/{id}");
	check_fold("/t/a1b2c3d4e5f6g7h8", "/t/{id}");
	check_fold("/k/AbC123_-xyz7890qrs", "/k/{id}");
	check_fold("/42", "/{id}");
	check_fold("42", "{id}");
}

UNIT_TEST(test_fold_keeps_names)
{
	(void)state;
	check_fold("/api/v2/users", "/api/v2/users");
	check_fold("/users", "/users");
	check_fold("/internationalization/localization", "/internationalization/localization");
	/* Letters only are never an id, even when they are all hex. */
	check_fold("/x/deadbeefdeadbeef", "/x/deadbeefdeadbeef");
	/* Too short to tell from a name. */
	check_fold("/b/0123456789abcde", "/b/0123456789abcde");
	check_fold("/v1/h2o/mp3", "/v1/h2o/mp3");
	check_fold("/files/annual-report-2023-final.pdf", "/files/annual-report-2023-final.pdf");
	check_fold("/a%20b/42", "/a%20b/{id}");
}

UNIT_TEST(test_fold_slashes)
{
	(void)state;
	check_fold("/users/42/", "/users/{id}/");
	check_fold("users/42", "users/{id}");
	check_fold("//42//x", "//{id}//x");
	check_fold("/", "/");
	check_fold("", "/");
	check_fold(NULL, "/");
	check_fold("*", "*");
}

UNIT_TEST(test_fold_truncation)
{
	char out[8], one[1];

	(void)state;
	route_fold("/users/42", out, sizeof(out));
	assert_string_equal(out, "/users/");
	route_fold("/a/42", out, 6);
	assert_string_equal(out, "/a/{i");
	route_fold("/a", one, sizeof(one));
	assert_string_equal(one, "");
	route_fold("/a", NULL, 0);
}

UNIT_TEST(test_route_set_cap)
{
	struct route_set *rs = route_set_new(2);
	const char *a, *b;

	(void)state;
	assert_non_null(rs);
	a = route_set_intern(rs, "/a");
	b = route_set_intern(rs, "/b");
	assert_string_equal(a, "/a");
	assert_string_equal(b, "/b");
	assert_ptr_equal(route_set_intern(rs, "/a"), a);
	assert_int_equal(route_set_overflows(rs), 0);

	assert_string_equal(route_set_intern(rs, "/c"), ROUTE_OVERFLOW);
	assert_string_equal(route_set_intern(rs, "/d"), ROUTE_OVERFLOW);
	assert_string_equal(route_set_intern(rs, "/c"), ROUTE_OVERFLOW);
	assert_int_equal(route_set_overflows(rs), 3);
	/* Known routes are still themselves once the set is full. */
	assert_ptr_equal(route_set_intern(rs, "/b"), b);
	assert_int_equal(route_set_overflows(rs), 3);
	route_set_free(rs);
}

UNIT_TEST(test_route_set_copies)
{
	struct route_set *rs = route_set_new(4);
	char buf[32];
	const char *r;

	(void)state;
	strcpy(buf, "/orders/{id}");
	r = route_set_intern(rs, buf);
	assert_ptr_not_equal(r, buf);
	strcpy(buf, "/changed");
	assert_string_equal(r, "/orders/{id}");
	assert_ptr_equal(route_set_intern(rs, "/orders/{id}"), r);
	assert_string_equal(route_set_intern(rs, ""), "");
	assert_string_equal(route_set_intern(rs, NULL), "");
	route_set_free(rs);
}

UNIT_TEST(test_route_set_many)
{
	static const char *ptrs[1000];
	struct route_set *rs = route_set_new(1000);
	char buf[32];
	int i;

	(void)state;
	assert_non_null(rs);
	for (i = 0; i < 1000; i++) {
		snprintf(buf, sizeof(buf), "/r/%d", i);
		ptrs[i] = route_set_intern(rs, buf);
		assert_string_equal(ptrs[i], buf);
	}
	for (i = 0; i < 1000; i++) {
		snprintf(buf, sizeof(buf), "/r/%d", i);
		assert_ptr_equal(route_set_intern(rs, buf), ptrs[i]);
	}
	assert_int_equal(route_set_overflows(rs), 0);
	assert_string_equal(route_set_intern(rs, "/one/more"), ROUTE_OVERFLOW);
	assert_int_equal(route_set_overflows(rs), 1);
	route_set_free(rs);
}

UNIT_TEST(test_route_set_edges)
{
	struct route_set *rs = route_set_new(0);

	(void)state;
	assert_non_null(rs);
	assert_string_equal(route_set_intern(rs, "/a"), ROUTE_OVERFLOW);
	assert_int_equal(route_set_overflows(rs), 1);
	route_set_free(rs);
	route_set_free(NULL);
	assert_int_equal(route_set_overflows(NULL), 0);
	assert_string_equal(route_set_intern(NULL, "/a"), ROUTE_OVERFLOW);
	assert_null(route_set_new(SIZE_MAX));
}

UNIT_MAIN(NULL, NULL)
