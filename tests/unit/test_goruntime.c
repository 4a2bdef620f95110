// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>

#include "unit.h"

#include "process/goruntime.h"

#define MAGIC "\xff Go buildinf:"

/* A Go 1.18+ header: magic, pointer size, flags (2: inline strings), padding to 32 bytes. */
static size_t header(uint8_t *buf, uint8_t ptr_size, uint8_t flags)
{
	memset(buf, 0, 32);
	memcpy(buf, MAGIC, 14);
	buf[14] = ptr_size;
	buf[15] = flags;
	return 32;
}

/* What go1.19.8 writes: the version, then the module info, each uvarint-length-prefixed. */
static size_t inline_info(uint8_t *buf, const char *version)
{
	static const char mod[] = "path\t_/work/main/tests/fixtures/goapp\n";
	size_t n = header(buf, 8, 2), vlen = strlen(version);

	/* two-byte uvarint for 128..16383 */
	if (vlen >= 128) {
		buf[n++] = 0x80 | (vlen & 0x7f);
		buf[n++] = vlen >> 7;
	} else {
		buf[n++] = vlen;
	}
	memcpy(buf + n, version, vlen);
	n += vlen;
	buf[n++] = sizeof(mod) - 1;
	memcpy(buf + n, mod, sizeof(mod) - 1);
	return n + sizeof(mod) - 1;
}

/* Parses a heap copy of exactly len bytes, so ASan sees any read past the end. */
static int parse_exact(const uint8_t *buf, size_t len, struct go_buildinfo *bi)
{
	uint8_t *copy = malloc(len ? len : 1);
	int err;

	assert_non_null(copy);
	memcpy(copy, buf, len);
	err = go_buildinfo_parse(copy, len, bi);
	free(copy);
	return err;
}

UNIT_TEST(test_inline_form)
{
	struct go_buildinfo bi;
	uint8_t buf[256];
	size_t n = inline_info(buf, "go1.19.8");

	(void)state;
	assert_int_equal(parse_exact(buf, n, &bi), 0);
	assert_string_equal(bi.version, "go1.19.8");
	assert_int_equal(bi.ptr_size, 8);
	assert_false(bi.big_endian);
	assert_int_equal(bi.version_addr, 0);

	/* the module info is not needed: the section may end right after the version */
	assert_int_equal(parse_exact(buf, 32 + 1 + 8, &bi), 0);
	assert_string_equal(bi.version, "go1.19.8");
}

UNIT_TEST(test_pointer_form)
{
	struct go_buildinfo bi;
	uint8_t buf[32];

	(void)state;
	header(buf, 8, 0);
	memcpy(buf + 16, "\x40\x1c\x54\x00\x00\x00\x00\x00", 8); /* little-endian 0x541c40 */
	assert_int_equal(parse_exact(buf, 32, &bi), 0);
	assert_int_equal(bi.version_addr, 0x541c40);
	assert_string_equal(bi.version, "");

	header(buf, 4, 0);
	memcpy(buf + 16, "\x10\x32\x54\x00", 4);
	assert_int_equal(parse_exact(buf, 32, &bi), 0);
	assert_int_equal(bi.version_addr, 0x543210);
	assert_int_equal(bi.ptr_size, 4);

	header(buf, 8, 1); /* big-endian */
	memcpy(buf + 16, "\x00\x00\x00\x00\x00\x54\x1c\x40", 8);
	assert_int_equal(parse_exact(buf, 32, &bi), 0);
	assert_true(bi.big_endian);
	assert_int_equal(bi.version_addr, 0x541c40);

	header(buf, 8, 0); /* a null pointer is no build info */
	assert_int_equal(parse_exact(buf, 32, &bi), -EINVAL);
}

UNIT_TEST(test_not_buildinfo)
{
	struct go_buildinfo bi;
	uint8_t buf[256];

	(void)state;
	assert_int_equal(go_buildinfo_parse(NULL, 0, &bi), -ENOEXEC);
	assert_int_equal(parse_exact((const uint8_t *)"", 0, &bi), -ENOEXEC);
	assert_int_equal(parse_exact((const uint8_t *)MAGIC, 13, &bi), -ENOEXEC);
	memset(buf, 0, sizeof(buf));
	assert_int_equal(parse_exact(buf, sizeof(buf), &bi), -ENOEXEC);
	inline_info(buf, "go1.19.8");
	buf[3] = 'X';
	assert_int_equal(parse_exact(buf, sizeof(buf), &bi), -ENOEXEC);
	assert_string_equal(bi.version, "");
}

/* Every prefix of a valid section parses or fails cleanly, never reading past its end. */
UNIT_TEST(test_truncated)
{
	struct go_buildinfo bi;
	uint8_t buf[256];
	size_t n = inline_info(buf, "go1.19.8"), len;

	(void)state;
	for (len = 0; len <= n; len++) {
		int err = parse_exact(buf, len, &bi);

		if (len < 14)
			assert_int_equal(err, -ENOEXEC);
		else if (len < 32 + 1 + 8)
			assert_int_equal(err, -EINVAL);
		else
			assert_int_equal(err, 0);
		assert_non_null(memchr(bi.version, '\0', sizeof(bi.version)));
	}
}

UNIT_TEST(test_garbage)
{
	struct go_buildinfo bi;
	uint8_t buf[256];
	size_t n;
	int i;

	(void)state;
	/* pointer sizes other than 4 and 8 */
	n = inline_info(buf, "go1.19.8");
	buf[14] = 2;
	assert_int_equal(parse_exact(buf, n, &bi), -EINVAL);
	buf[14] = 0;
	assert_int_equal(parse_exact(buf, n, &bi), -EINVAL);

	/* empty and non-printable versions */
	n = inline_info(buf, "");
	assert_int_equal(parse_exact(buf, n, &bi), -EINVAL);
	n = inline_info(buf, "go1.19\n");
	assert_int_equal(parse_exact(buf, n, &bi), -EINVAL);
	assert_string_equal(bi.version, "");

	/* a length beyond the section, the largest uvarint, an overlong uvarint */
	n = header(buf, 8, 2);
	buf[n++] = 0x7f;
	memset(buf + n, 'a', 100);
	assert_int_equal(parse_exact(buf, n + 100, &bi), -EINVAL);
	n = header(buf, 8, 2);
	for (i = 0; i < 9; i++)
		buf[n++] = 0xff;
	buf[n++] = 0x01;
	memset(buf + n, 'a', 16);
	assert_int_equal(parse_exact(buf, n + 16, &bi), -EINVAL);
	n = header(buf, 8, 2);
	for (i = 0; i < 11; i++)
		buf[n++] = 0x80;
	buf[n++] = 0x01;
	assert_int_equal(parse_exact(buf, n, &bi), -EINVAL);
}

UNIT_TEST(test_long_version_cut)
{
	struct go_buildinfo bi;
	char version[201];
	uint8_t buf[512];
	size_t n;

	(void)state;
	memset(version, 'v', 200);
	version[200] = '\0';
	n = inline_info(buf, version);
	assert_int_equal(parse_exact(buf, n, &bi), 0);
	assert_int_equal(strlen(bi.version), GO_VERSION_MAX - 1);
	assert_int_equal(strspn(bi.version, "v"), GO_VERSION_MAX - 1);
}

/* Processes that are not Go: this C test itself, and one that does not exist. */
UNIT_TEST(test_open_not_go)
{
	struct go_cache *cache = go_cache_new();
	struct go_proc *g = (struct go_proc *)&g;
	char msg[256];

	(void)state;
	assert_non_null(cache);
	memset(msg, 'x', sizeof(msg));
	assert_int_equal(go_proc_open(cache, getpid(), &g, msg, sizeof(msg)), -ENOEXEC);
	assert_null(g);
	assert_string_equal(msg, "");
	/* a second time from the cache, and once without a cache */
	assert_int_equal(go_proc_open(cache, getpid(), &g, msg, sizeof(msg)), -ENOEXEC);
	assert_int_equal(go_proc_open(NULL, getpid(), &g, msg, sizeof(msg)), -ENOEXEC);
	assert_int_equal(go_proc_open(NULL, getpid(), &g, NULL, 0), -ENOEXEC);

	/* above the kernel's PID_MAX_LIMIT (4M): never a process */
	assert_int_equal(go_proc_open(cache, 0x7fffffff, &g, msg, sizeof(msg)), -ESRCH);
	assert_null(g);
	assert_non_null(strstr(msg, "pid 2147483647"));
	assert_int_equal(go_proc_open(cache, 0x7fffffff, &g, msg, 8), -ESRCH);
	assert_int_equal(strlen(msg), 7);
	go_cache_free(cache);
}

UNIT_TEST(test_free_null)
{
	(void)state;
	go_proc_free(NULL);
	go_cache_free(NULL);
	assert_string_equal(go_proc_version(NULL), "");
}

/* A Go 1.18+ function table: header, funcnametab, then the pclntab's {entry, funcoff} pairs
 * and each function's _func {entryOff, nameOff}. */
static size_t pclntab(uint8_t *b, uint32_t magic, uint64_t text)
{
	static const char names[] = "main.main\0crypto/tls.(*Conn).Write\0runtime.memmove";
	const uint32_t name_off[3] = { 0, 10, 35 }, entry[4] = { 0x100, 0x180, 0x400, 0x440 };
	size_t names_at = 72, pcln_at = 72 + sizeof(names), i;
	uint64_t hdr[8] = { 3, 0, text, names_at, 0, 0, 0, pcln_at };

	memset(b, 0, 512);
	memcpy(b, &magic, 4);
	b[6] = 1; /* minLC */
	b[7] = 8; /* ptrSize */
	memcpy(b + 8, hdr, sizeof(hdr));
	memcpy(b + names_at, names, sizeof(names));
	for (i = 0; i < 4; i++) {
		uint32_t pair[2] = { entry[i], (uint32_t)(32 + 8 * i) };

		memcpy(b + pcln_at + 8 * i, pair, sizeof(pair));
		if (i < 3) {
			uint32_t fn[2] = { entry[i], name_off[i] };

			memcpy(b + pcln_at + 32 + 8 * i, fn, sizeof(fn));
		}
	}
	return pcln_at + 64;
}

UNIT_TEST(test_pclntab)
{
	static const char *const want[] = { "runtime.memmove", "crypto/tls.(*Conn).Write",
					    "net.Dial" };
	uint8_t b[512];
	uint64_t va[3], sz[3];
	size_t len = pclntab(b, 0xfffffff0, 0x401000);

	(void)state;
	assert_int_equal(go_pclntab_parse(b, len, want, 3, va, sz), 0);
	assert_int_equal(va[0], 0x401000 + 0x400);
	assert_int_equal(sz[0], 0x40);
	assert_int_equal(va[1], 0x401000 + 0x180);
	assert_int_equal(sz[1], 0x280);
	assert_int_equal(va[2], 0); /* not in the table */
	/* Go 1.20's magic reads the same */
	len = pclntab(b, 0xfffffff1, 0x401000);
	assert_int_equal(go_pclntab_parse(b, len, want, 1, va, sz), 0);
	assert_int_equal(va[0], 0x401400);
	/* before Go 1.18, a 32-bit table, cut short, nfunc past the end: none */
	len = pclntab(b, 0xfffffffa, 0x401000);
	assert_int_equal(go_pclntab_parse(b, len, want, 1, va, sz), -ENOENT);
	len = pclntab(b, 0xfffffff0, 0x401000);
	b[7] = 4;
	assert_int_equal(go_pclntab_parse(b, len, want, 1, va, sz), -ENOENT);
	b[7] = 8;
	assert_int_equal(go_pclntab_parse(b, 71, want, 1, va, sz), -ENOENT);
	b[8] = 200;
	assert_int_equal(go_pclntab_parse(b, len, want, 1, va, sz), -ENOENT);
	/* cut before its function table */
	b[8] = 3;
	assert_int_equal(go_pclntab_parse(b, 72 + 20, want, 1, va, sz), -ENOENT);
}

UNIT_MAIN(NULL, NULL)
