// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/*
 * Input: byte 0 picks the output size of sql_redact (1..128, or a multiple of 32 up to 4096),
 * the rest is the SQL text, handed over without a NUL and in a buffer of its exact size.
 *
 * Besides the sanitizers, it checks that the output is NUL-terminated within its size, the
 * returned length is strlen(), and it never ends in a multibyte character cut short; that a
 * cut output is a prefix of the uncut one; that outside quoted identifiers the output holds no
 * quote or comment opener (which would mean a literal or comment leaked); that redaction is
 * idempotent; and that sql_summarize gives an upper-case keyword, terminated strings, and the
 * same summary for the redacted text as for the raw one.
 */
#include <assert.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "protocols/sql.h"

/* Whether s[0..n) ends between characters: no lead byte is missing continuation bytes. */
static bool ends_clean(const char *s, size_t n)
{
	size_t j = n, cont = 0;
	unsigned char c;

	while (j && cont < 3 && ((unsigned char)s[j - 1] & 0xc0) == 0x80) {
		j--;
		cont++;
	}
	if (!j)
		return true;
	c = (unsigned char)s[j - 1];
	if (c < 0xc0 || c >= 0xf8)
		return true;
	return cont >= (size_t)(c >= 0xf0 ? 3 : c >= 0xe0 ? 2 : 1);
}

/*
 * Every '"' in the output delimits a quoted identifier (one inside a literal or comment is
 * gone with it), so a quote, "--" or the start of a block comment seen outside of them is a
 * literal or comment that survived. complete: the output was not cut, so every quoted
 * identifier is closed.
 */
static void check_no_leak(const char *s, bool complete)
{
	bool quoted = false;

	for (; *s; s++) {
		if (*s == '"') {
			quoted = !quoted;
			continue;
		}
		if (quoted)
			continue;
		assert(*s != '\'');
		assert(!(s[0] == '-' && s[1] == '-'));
		assert(!(s[0] == '/' && s[1] == '*'));
	}
	assert(!complete || !quoted);
}

static void check_summary(const struct sql_summary *s)
{
	size_t i;

	assert(memchr(s->op, '\0', sizeof(s->op)));
	assert(memchr(s->collection, '\0', sizeof(s->collection)));
	for (i = 0; s->op[i]; i++)
		assert(s->op[i] >= 'A' && s->op[i] <= 'Z');
	assert(ends_clean(s->collection, strlen(s->collection)));
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char *sql, *out, *full, *again;
	struct sql_summary sum, sum_red;
	size_t len, outsz, n, fn, an;

	if (size < 1)
		return 0;
	outsz = data[0] < 128 ? (size_t)data[0] + 1 : (size_t)(data[0] - 127) * 32;
	len = size - 1;
	sql = malloc(len ? len : 1);
	out = malloc(outsz);
	/* Redaction never lengthens: '?' or ' ' stand for at least one byte each. */
	full = malloc(len + 1);
	again = malloc(len + 1);
	if (!sql || !out || !full || !again)
		goto cleanup;
	memcpy(sql, data + 1, len);

	n = sql_redact(sql, len, out, outsz);
	assert(n < outsz && memchr(out, '\0', outsz) && n == strlen(out));
	assert(ends_clean(out, n));
	check_no_leak(out, false);

	fn = sql_redact(sql, len, full, len + 1);
	assert(fn <= len && fn == strlen(full));
	assert(ends_clean(full, fn));
	check_no_leak(full, true);
	/* Cutting the output changes nothing of what it keeps. */
	assert(n <= fn && !memcmp(out, full, n));
	if (fn < outsz)
		assert(n == fn);

	an = sql_redact(full, fn, again, len + 1);
	assert(an == fn && !memcmp(again, full, fn + 1));

	sql_summarize(sql, len, &sum);
	check_summary(&sum);
	sql_summarize(full, fn, &sum_red);
	check_summary(&sum_red);
	assert(!strcmp(sum.op, sum_red.op) && !strcmp(sum.collection, sum_red.collection));
cleanup:
	free(again);
	free(full);
	free(out);
	free(sql);
	return 0;
}
