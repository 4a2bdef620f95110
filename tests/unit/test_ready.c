// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/* Readiness: not ready while starting, ready once attached, and not ready when some probe could
 * not be attached, saying which. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include <cmocka.h>

#include "unit.h"

#include "util/ready.h"

UNIT_TEST(test_ready_states)
{
	struct ready *r = ready_new();
	char text[READY_TEXT_MAX];

	(void)state;
	assert_non_null(r);
	assert_false(ready_get(r, text, sizeof(text)));
	assert_string_equal(text, "not ready: starting\n");
	ready_wait(r, "loading the BPF programs");
	assert_false(ready_get(r, text, sizeof(text)));
	assert_string_equal(text, "not ready: loading the BPF programs\n");
	assert_true(ready_done(r, ""));
	assert_true(ready_get(r, text, sizeof(text)));
	assert_string_equal(text, "ready\n");
	/* some uprobe could not be placed: not ready, and which */
	assert_false(ready_done(r, "SSL_read in /lib/libssl.so.3: Permission denied\n"));
	assert_false(ready_get(r, text, sizeof(text)));
	assert_string_equal(text, "not ready: could not attach\n"
				  "SSL_read in /lib/libssl.so.3: Permission denied\n");
	assert_false(ready_done(r, "x: y"));
	assert_false(ready_get(r, text, sizeof(text)));
	assert_string_equal(text, "not ready: could not attach\nx: y\n");
	/* a short buffer: cut, still a string */
	assert_false(ready_get(r, text, 10));
	assert_string_equal(text, "not ready");
	ready_free(r);
	/* none at all: never ready */
	assert_false(ready_get(NULL, text, sizeof(text)));
	assert_true(ready_done(NULL, NULL));
	ready_wait(NULL, "x");
	ready_free(NULL);
}

UNIT_MAIN(NULL, NULL)
