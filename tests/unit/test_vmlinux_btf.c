// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/* user/probes/vmlinux_btf.c: the kernel's BTF as obsprobe loads it is libbpf's to the byte, and
 * libbpf's own lookups take it (symbol interposition), holding one copy of the file where
 * libbpf 1.1 holds two (peak RSS, reset through /proc/self/clear_refs before each step). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include "unit.h"

#include <bpf/btf.h>
#include <bpf/libbpf.h>
#include <dlfcn.h>
#include <malloc.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "util/dl.h"

static long status_kib(const char *field)
{
	char line[256];
	long v = -1;
	size_t n = strlen(field);
	FILE *f = fopen("/proc/self/status", "r");

	assert_non_null(f);
	while (fgets(line, sizeof(line), f))
		if (!strncmp(line, field, n) && line[n] == ':')
			v = strtol(line + n + 1, NULL, 10);
	fclose(f);
	return v;
}

/* The peak RSS (KiB) of one call of fn above the RSS it started from. */
static long peak_growth(void (*fn)(void))
{
	FILE *f = fopen("/proc/self/clear_refs", "w");
	long before;

	assert_non_null(f);
	assert_true(fputs("5", f) >= 0); /* 5: the peak set to the current RSS */
	fclose(f);
	before = status_kib("VmRSS");
	fn();
	return status_kib("VmHWM") - before;
}

static long file_kib(void)
{
	struct stat st;

	assert_int_equal(stat("/sys/kernel/btf/vmlinux", &st), 0);
	return (long)(st.st_size / 1024);
}

static struct btf *(*libbpf_own(void))(void)
{
	struct btf *(*fn)(void) = NULL;

	assert_true(dl_sym(RTLD_NEXT, "btf__load_vmlinux_btf", &fn));
	assert_true(fn != btf__load_vmlinux_btf);
	return fn;
}

UNIT_TEST(test_same_btf_as_libbpf)
{
	struct btf *ours = btf__load_vmlinux_btf(), *theirs = libbpf_own()();
	uint32_t a, b;
	const void *ra, *rb;

	(void)state;
	assert_non_null(ours);
	assert_non_null(theirs);
	assert_int_equal(btf__type_cnt(ours), btf__type_cnt(theirs));
	ra = btf__raw_data(ours, &a);
	rb = btf__raw_data(theirs, &b);
	assert_int_equal(a, b);
	assert_memory_equal(ra, rb, a);
	assert_true(btf__find_by_name_kind(ours, "task_struct", BTF_KIND_STRUCT) > 0);
	btf__free(ours);
	btf__free(theirs);
}

static void load_ours(void)
{
	btf__free(btf__load_vmlinux_btf());
}

static void load_theirs(void)
{
	btf__free(libbpf_own()());
}

/* libbpf's own lookup of a kernel function's BTF id parses the kernel's BTF: through this one */
static void libbpf_lookup(void)
{
	assert_true(libbpf_find_vmlinux_btf_id("vfs_read", BPF_TRACE_FENTRY) > 0);
}

UNIT_TEST(test_one_copy_held)
{
	long size = file_kib(), ours, theirs, lookup;

	(void)state;
	load_ours(); /* the heap and the file's page cache warm for all three */
	load_theirs();
	ours = peak_growth(load_ours);
	theirs = peak_growth(load_theirs);
	lookup = peak_growth(libbpf_lookup);
	print_message("file %ld KiB; peak above the start: ours %ld, libbpf's %ld, libbpf's "
		      "lookup %ld KiB\n",
		      size, ours, theirs, lookup);
	/* libbpf's holds the file twice; ours, and libbpf's lookup through ours, a copy less
	 * (relative: under ASan every block costs more) */
	assert_true(theirs >= size * 2);
	assert_true(theirs - ours >= size * 3 / 4);
	assert_true(theirs - lookup >= size * 3 / 4);
}

int main(void)
{
	/* as obsprobe's main(): each parse's 5.4 MiB mapped and given back whole */
	mallopt(M_MMAP_THRESHOLD, 2 << 20);
	return unit_run(__FILE__, NULL, NULL);
}
