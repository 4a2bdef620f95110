// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/* util/dl.h: a library opened with dl_open() holds the same bytes in its read-only segments as
 * one opened with dlopen(), and works, but those segments' pages (capstone's relocation table,
 * read once by the dynamic linker) are out of the process's RSS. Measured on capstone, the
 * library obsprobe opens that way, through /proc/self/smaps. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include "unit.h"

#include <link.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "smaps.h"
#include "util/dl.h"

#define LIB "libcapstone.so.4"
#define MAX_SEGS 8

struct segs {
	size_t n;
	uintptr_t lo[MAX_SEGS], hi[MAX_SEGS];
};

static int find_lib(struct dl_phdr_info *info, size_t size, void *data)
{
	struct segs *s = data;
	int i;

	(void)size;
	if (!strstr(info->dlpi_name, LIB))
		return 0;
	for (i = 0; i < info->dlpi_phnum && s->n < MAX_SEGS; i++) {
		const ElfW(Phdr) *ph = &info->dlpi_phdr[i];

		if (ph->p_type == PT_LOAD && ph->p_flags == PF_R) {
			s->lo[s->n] = info->dlpi_addr + ph->p_vaddr;
			s->hi[s->n++] = info->dlpi_addr + ph->p_vaddr + ph->p_filesz;
		}
	}
	return 1;
}

static struct segs segments(void)
{
	struct segs s = { 0 };

	dl_iterate_phdr(find_lib, &s);
	return s;
}

/* The bytes of the library's read-only segments, hashed (FNV-1a): reading touches every page. */
static uint64_t hash_bytes(void)
{
	struct segs s = segments();
	uint64_t h = 1469598103934665603ull;
	size_t i;

	assert_true(s.n > 0);
	for (i = 0; i < s.n; i++)
		for (const unsigned char *p = (const void *)s.lo[i];
		     p < (const unsigned char *)s.hi[i]; p++)
			h = (h ^ *p) * 1099511628211ull;
	return h;
}

/* The resident KiB of the library's read-only segments (0 when it is not loaded). */
static unsigned long resident(void)
{
	struct segs s = segments();
	unsigned long sum = 0;
	size_t i;

	for (i = 0; i < s.n; i++)
		sum += smaps_rss_kib(s.lo[i], s.hi[i]);
	return sum;
}

static const char *version(void *h)
{
	static char text[32];
	unsigned int (*cs_version)(int *, int *);
	int major = 0, minor = 0;

	assert_true(dl_sym(h, "cs_version", &cs_version));
	cs_version(&major, &minor);
	snprintf(text, sizeof(text), "%d.%d", major, minor);
	return text;
}

UNIT_TEST(test_dl_open_drops_readonly_pages)
{
	unsigned long plain_kib, lean_kib;
	uint64_t plain_hash, lean_hash;
	char plain_version[32];
	void *h;

	(void)state;
	/* dlopen(): the relocation table (1.8 MiB) stays resident */
	h = dlopen(LIB, RTLD_NOW | RTLD_LOCAL);
	if (!h)
		fail_msg("%s is not installed (scripts/install-deps.sh): %s", LIB, dlerror());
	plain_kib = resident();
	assert_true(plain_kib >= 1024);
	snprintf(plain_version, sizeof(plain_version), "%s", version(h));
	plain_hash = hash_bytes();
	assert_int_equal(dlclose(h), 0);
	assert_true(resident() == 0); /* unmapped: the next open maps and relocates anew */

	h = dl_open(LIB);
	assert_non_null(h);
	lean_kib = resident();
	assert_true(lean_kib < 256);
	/* the same bytes read back, from the page cache; the library works */
	lean_hash = hash_bytes();
	assert_true(lean_hash == plain_hash);
	assert_true(resident() >= 1024);
	assert_string_equal(version(h), plain_version);
	assert_int_equal(dlclose(h), 0);
}

UNIT_TEST(test_drop_from_past_the_end)
{
	(void)state;
	assert_int_equal(dl_drop_readonly(dl_count()), 0);
	assert_true(dl_count() >= 2); /* the test itself and libc at least */
}

UNIT_MAIN(NULL, NULL)
