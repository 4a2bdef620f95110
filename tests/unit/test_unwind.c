// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/*
 * unwind.c on this very process: leaf_capture() <- middle_fn() <- outer_fn() capture their
 * registers and a copy of the stack, as the crash probe does in BPF, and the copy is unwound
 * from CFI (the three have no frame pointer in the gcc build: rbp is even poisoned there) and
 * symbolized from this test's DWARF and libc's symbols.
 */
#include <errno.h>
#include <link.h>
#include <pthread.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <cmocka.h>

#include "unit.h"

#include "process/unwind.h"

#ifdef __clang__
#define CHAIN_FN __attribute__((noinline))
#else
/* noclone: a clone would be named middle_fn.constprop.0 */
#define CHAIN_FN __attribute__((noinline, noclone, optimize("omit-frame-pointer")))
#endif

/* What the BPF probe hands in: registers and a window of the stack from rsp. */
static uint64_t cap_regs[UNWIND_NREGS];
static uint64_t cap_stack[16384 / 8];
static size_t cap_len;
static uint64_t stack_top; /* the end of this thread's stack: the window stops there */
static int line_leaf, line_middle, line_outer;

/* A plain loop, not memcpy (ASan would see the other frames' redzones as overflows) */
__attribute__((noinline, no_sanitize_address)) static void copy_stack(uint64_t sp)
{
	size_t n = stack_top - sp, i;

	if (n > sizeof(cap_stack))
		n = sizeof(cap_stack);
	n &= ~(size_t)7;
	for (i = 0; i < n / 8; i++)
		cap_stack[i] = ((volatile const uint64_t *)sp)[i];
	cap_len = n;
}

CHAIN_FN static int leaf_capture(int x)
{
	uint64_t *r = cap_regs;

	line_leaf = __LINE__ + 1;
	__asm__ volatile("lea 0(%%rip), %%rax\n\t"
			 "mov %%rax, 128(%0)\n\t"
			 "mov %%rsp, 56(%0)\n\t"
			 "mov %%rbp, 48(%0)\n\t"
			 "mov %%rbx, 24(%0)\n\t"
			 "mov %%r12, 96(%0)\n\t"
			 "mov %%r13, 104(%0)\n\t"
			 "mov %%r14, 112(%0)\n\t"
			 "mov %%r15, 120(%0)\n\t"
			 :
			 : "r"(r)
			 : "rax", "memory");
	copy_stack(r[UNWIND_REG_SP]);
	return x + 1;
}

CHAIN_FN static int middle_fn(int x)
{
	int y;

	line_middle = __LINE__ + 1;
	y = leaf_capture(x * 5);
	return y * 3 + x; /* x lives across the call: no tail call */
}

CHAIN_FN static int outer_fn(int x)
{
	int y;

	line_outer = __LINE__ + 1;
	y = middle_fn(x + 7);
	return y * 11 + x;
}

static volatile int seed = 2;

static void capture(void)
{
	pthread_attr_t attr;
	void *addr;
	size_t size;

	assert_int_equal(pthread_getattr_np(pthread_self(), &attr), 0);
	assert_int_equal(pthread_attr_getstack(&attr, &addr, &size), 0);
	pthread_attr_destroy(&attr);
	stack_top = (uint64_t)(uintptr_t)addr + size;
	memset(cap_regs, 0, sizeof(cap_regs));
	assert_int_equal(outer_fn(seed), (((2 + 7) * 5 + 1) * 3 + 9) * 11 + 2);
	assert_true(cap_len >= 1024);
}

static char *self_maps(size_t *len)
{
	FILE *f = fopen("/proc/self/maps", "r");
	char *text = NULL;
	size_t cap = 0;

	assert_non_null(f);
	*len = (size_t)getdelim(&text, &cap, '\0', f);
	fclose(f);
	assert_true(*len > 0 && *len < cap);
	return text;
}

static uint64_t exe_bias(void)
{
	/* the link map's first object is the executable */
	struct link_map *lm = _r_debug.r_map;

	return lm->l_addr;
}

static uint64_t fn_addr(int (*fn)(int))
{
	return (uint64_t)(uintptr_t)fn;
}

static void assert_frame(const struct unwind_frame *f, const char *fn, int (*addr)(int), int line)
{
	assert_string_equal(f->function, fn);
	assert_int_equal(f->res, UNWIND_LINE);
	assert_string_equal(f->file, "test_unwind.c");
	/* the call's line, or the next one where the compiler put the return-value store */
	assert_in_range(f->line, line, line + 1);
	assert_true(f->in_app);
	assert_string_equal(f->module, "test_unwind");
	assert_int_equal(f->module_off, f->pc - exe_bias());
	assert_int_equal(f->fn_off, f->pc - fn_addr(addr));
}

/* The frames of a whole capture: the chain, this file's test, cmocka's runner (main calls it
 * last: a tail call, no frame of main's), then libc's. */
static void assert_stack(const struct unwind_frame *f, int n, const char *test_fn)
{
	int i, libc = -1, cmocka = -1;

	assert_true(n >= 6);
	assert_int_equal(f[0].pc, cap_regs[UNWIND_REG_IP]);
	assert_frame(&f[0], "leaf_capture", leaf_capture, line_leaf);
	assert_frame(&f[1], "middle_fn", middle_fn, line_middle);
	assert_frame(&f[2], "outer_fn", outer_fn, line_outer);
	/* capture() may be inlined into the test: either comes next */
	assert_true(!strcmp(f[3].function, "capture") || !strcmp(f[3].function, test_fn));
	for (i = 3; i < n; i++) {
		if (!strcmp(f[i].function, "_cmocka_run_group_tests") && cmocka < 0)
			cmocka = i;
		if (!strcmp(f[i].module, "libc.so.6") && libc < 0)
			libc = i;
	}
	assert_true(cmocka > 3);
	assert_int_equal(f[cmocka].res, UNWIND_SYMBOL); /* a library without DWARF */
	assert_false(f[cmocka].in_app);
	assert_true(libc > cmocka);
	/* __libc_start_call_main: DWARF only if libc6-dbg is installed */
	assert_true(!strncmp(f[libc].function, "__libc_start", 12));
	assert_true(f[libc].res >= UNWIND_SYMBOL);
	assert_false(f[libc].in_app);
	assert_true(f[libc].fn_off > 0 && f[libc].fn_off < 4096);
	for (i = 0; i < n; i++) {
		assert_non_null(memchr(f[i].function, '\0', sizeof(f[i].function)));
		assert_non_null(memchr(f[i].module, '\0', sizeof(f[i].module)));
		assert_non_null(memchr(f[i].file, '\0', sizeof(f[i].file)));
		assert_true(f[i].pc != 0);
	}
}

static double now_us(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec * 1e6 + ts.tv_nsec / 1e3;
}

UNIT_TEST(test_unwind_read_self)
{
	static struct unwind_frame f[UNWIND_MAX_FRAMES];
	struct unwind_maps *m;
	double t0, t1, t2;
	size_t before;
	int n, n2;

	(void)state;
	capture();
	m = unwind_maps_read((uint32_t)getpid());
	assert_non_null(m);
	before = unwind_maps_bytes(m);
	assert_true(before > 0);
	t0 = now_us();
	n = unwind_stack(m, cap_regs, cap_regs[UNWIND_REG_SP], cap_stack, cap_len, f,
			 UNWIND_MAX_FRAMES);
	t1 = now_us();
	assert_stack(f, n, "test_unwind_read_self");
	assert_true(unwind_maps_bytes(m) >= before);
	/* again, on the session the first call built: the same frames */
	n2 = unwind_stack(m, cap_regs, cap_regs[UNWIND_REG_SP], cap_stack, cap_len, f,
			  UNWIND_MAX_FRAMES);
	t2 = now_us();
	assert_int_equal(n2, n);
	assert_stack(f, n2, "test_unwind_read_self");
	print_message("unwind_stack: %d frames, first call %.0f us, second %.0f us, maps %zu B "
		      "-> %zu B\n",
		      n, t1 - t0, t2 - t1, before, unwind_maps_bytes(m));
	unwind_maps_free(m);
}

UNIT_TEST(test_unwind_parsed_self)
{
	static struct unwind_frame f[UNWIND_MAX_FRAMES], g[UNWIND_MAX_FRAMES];
	struct unwind_maps *m;
	size_t len;
	char *text;
	int n, i;

	(void)state;
	capture();
	text = self_maps(&len);
	m = unwind_maps_parse(text, len, NULL);
	free(text);
	assert_non_null(m);
	n = unwind_stack(m, cap_regs, cap_regs[UNWIND_REG_SP], cap_stack, cap_len, f,
			 UNWIND_MAX_FRAMES);
	assert_stack(f, n, "test_unwind_parsed_self");

	/* max caps what is written */
	assert_int_equal(
		unwind_stack(m, cap_regs, cap_regs[UNWIND_REG_SP], cap_stack, cap_len, g, 2), 2);
	assert_string_equal(g[1].function, "middle_fn");

#ifndef __clang__
	/* no frame pointer in the chain: a garbage rbp changes none of its frames */
	cap_regs[6] = 0xdeadbeefdeadbeefull;
	assert_true(unwind_stack(m, cap_regs, cap_regs[UNWIND_REG_SP], cap_stack, cap_len, g,
				 UNWIND_MAX_FRAMES) >= 4);
	for (i = 0; i < 4; i++)
		assert_int_equal(g[i].pc, f[i].pc);
#endif

	/* the window cut to 64 bytes: a prefix of the frames, fewer */
	i = unwind_stack(m, cap_regs, cap_regs[UNWIND_REG_SP], cap_stack, 64, g, UNWIND_MAX_FRAMES);
	assert_true(i >= 1 && i < n);
	for (n = 0; n < i; n++)
		assert_int_equal(g[n].pc, f[n].pc);
	/* no stack at all: frame 0, from the registers */
	assert_int_equal(unwind_stack(m, cap_regs, cap_regs[UNWIND_REG_SP], NULL, 0, g, 8), 1);
	assert_string_equal(g[0].function, "leaf_capture");
	/* the window at the wrong address: nothing read from it, only frame 0 */
	assert_int_equal(unwind_stack(m, cap_regs, cap_regs[UNWIND_REG_SP] + 65536, cap_stack,
				      cap_len, g, 8),
			 1);
	/* rip 0: nothing to say */
	cap_regs[UNWIND_REG_IP] = 0;
	assert_int_equal(
		unwind_stack(m, cap_regs, cap_regs[UNWIND_REG_SP], cap_stack, cap_len, g, 8), 0);
	unwind_maps_free(m);
}

static void read_all(int fd, void *buf, size_t len)
{
	ssize_t n;

	for (; len; len -= (size_t)n, buf = (char *)buf + n) {
		n = read(fd, buf, len);
		assert_true(n > 0);
	}
}

/* As obsprobe meets a crash: maps read while the process lives, the unwind after it is gone. */
UNIT_TEST(test_unwind_dead_child)
{
	static struct unwind_frame f[UNWIND_MAX_FRAMES];
	int data[2], hold[2], status, n;
	struct unwind_maps *m;
	char path[64];
	pid_t pid;

	(void)state;
	assert_int_equal(pipe(data), 0);
	assert_int_equal(pipe(hold), 0);
	pid = fork();
	assert_true(pid >= 0);
	if (pid == 0) {
		char c;

		close(data[0]);
		close(hold[1]);
		capture();
		if (write(data[1], cap_regs, sizeof(cap_regs)) != sizeof(cap_regs) ||
		    write(data[1], &cap_len, sizeof(cap_len)) != sizeof(cap_len) ||
		    write(data[1], cap_stack, cap_len) != (ssize_t)cap_len)
			_exit(1);
		/* until the parent has read the maps */
		_exit(read(hold[0], &c, 1) == 0 ? 0 : 2);
	}
	close(data[1]);
	close(hold[0]);
	memset(cap_regs, 0, sizeof(cap_regs));
	read_all(data[0], cap_regs, sizeof(cap_regs));
	read_all(data[0], &cap_len, sizeof(cap_len));
	assert_true(cap_len <= sizeof(cap_stack));
	read_all(data[0], cap_stack, cap_len);
	close(data[0]);
	m = unwind_maps_read((uint32_t)pid);
	assert_non_null(m);
	close(hold[1]);
	assert_int_equal(waitpid(pid, &status, 0), pid);
	assert_true(WIFEXITED(status) && WEXITSTATUS(status) == 0);
	snprintf(path, sizeof(path), "/proc/%d", (int)pid);
	assert_int_not_equal(access(path, F_OK), 0);

	n = unwind_stack(m, cap_regs, cap_regs[UNWIND_REG_SP], cap_stack, cap_len, f,
			 UNWIND_MAX_FRAMES);
	assert_stack(f, n, "test_unwind_dead_child");
	unwind_maps_free(m);
}

static uint64_t xorshift(uint64_t *s)
{
	*s ^= *s << 13;
	*s ^= *s >> 7;
	*s ^= *s << 17;
	return *s;
}

UNIT_TEST(test_unwind_garbage)
{
	static uint64_t stack[512];
	static struct unwind_frame f[UNWIND_MAX_FRAMES];
	uint64_t regs[UNWIND_NREGS], rnd = 0x9e3779b97f4a7c15ull;
	struct unwind_maps *m;
	int i, j, n;

	(void)state;
	capture();
	m = unwind_maps_read((uint32_t)getpid());
	assert_non_null(m);
	for (i = 0; i < 300; i++) {
		for (j = 0; j < UNWIND_NREGS; j++)
			regs[j] = xorshift(&rnd);
		for (j = 0; j < 512; j++)
			stack[j] = xorshift(&rnd);
		/* some start in real code, some with return addresses of real code */
		if (i % 3 == 1)
			regs[UNWIND_REG_IP] = fn_addr(middle_fn) + i % 4;
		if (i % 3 == 2) {
			memcpy(regs, cap_regs, sizeof(regs));
			for (j = 0; j < 512; j += 1 + i % 7)
				stack[j] = fn_addr(outer_fn) + j % 50;
		}
		regs[UNWIND_REG_SP] = 0x7ff000000000ull + (i % 64) * 8;
		n = unwind_stack(m, regs, 0x7ff000000000ull, stack, sizeof(stack), f,
				 UNWIND_MAX_FRAMES);
		assert_in_range(n, 0, UNWIND_MAX_FRAMES);
		for (j = 0; j < n; j++) {
			assert_non_null(memchr(f[j].function, '\0', sizeof(f[j].function)));
			assert_non_null(memchr(f[j].file, '\0', sizeof(f[j].file)));
			assert_true(f[j].pc != 0);
		}
		if (i % 3 == 1)
			assert_true(n >= 1 && !strcmp(f[0].function, "middle_fn"));
	}
	/* the real stack copy with a return address pointing at its own slot: no endless loop */
	unwind_maps_free(m);
}

UNIT_TEST(test_symbolize)
{
	struct unwind_frame f[4];
	struct unwind_maps *m;
	uint64_t pcs[4];

	(void)state;
	m = unwind_maps_read((uint32_t)getpid());
	assert_non_null(m);

	pcs[0] = fn_addr(outer_fn);
	pcs[1] = fn_addr(middle_fn) + 3;
	pcs[2] = fn_addr(middle_fn); /* a return address: the call before it, not middle_fn */
	pcs[3] = (uint64_t)(uintptr_t)&abort + 1;
	assert_int_equal(unwind_symbolize(m, pcs, 4, true, f, 4), 4);
	assert_string_equal(f[0].function, "outer_fn");
	assert_int_equal(f[0].fn_off, 0);
	assert_int_equal(f[0].res, UNWIND_LINE);
	assert_in_range(f[0].line, line_outer - 6, line_outer);
	assert_true(f[0].in_app);
	assert_string_equal(f[1].function, "middle_fn");
	assert_int_equal(f[1].fn_off, 3);
	assert_string_not_equal(f[2].function, "middle_fn");
	assert_string_equal(f[3].function, "abort");
	assert_int_equal(f[3].fn_off, 1);
	assert_string_equal(f[3].module, "libc.so.6");
	assert_false(f[3].in_app);

	/* the first is a return address too: outer_fn's first byte belongs to what precedes */
	assert_int_equal(unwind_symbolize(m, pcs, 2, false, f, 4), 2);
	assert_string_not_equal(f[0].function, "outer_fn");
	assert_string_equal(f[1].function, "middle_fn");
	/* capped to max; nothing mapped at 8 */
	pcs[0] = 8;
	assert_int_equal(unwind_symbolize(m, pcs, 4, true, f, 1), 1);
	assert_int_equal(f[0].res, UNWIND_ADDR);
	assert_string_equal(f[0].module, "");
	assert_false(f[0].in_app);
	unwind_maps_free(m);
}

static const char go_main[] = "package main\n"
			      "\n"
			      "import \"os\"\n"
			      "\n"
			      "//go:noinline\n"
			      "func work(n int) int {\n" /* line 6 */
			      "\treturn n * 3\n"
			      "}\n"
			      "\n"
			      "func main() {\n"
			      "\tos.Exit(work(len(os.Args)))\n"
			      "}\n";

static void write_file(const char *dir, const char *name, const char *text)
{
	char path[256];
	FILE *f;

	snprintf(path, sizeof(path), "%s/%s", dir, name);
	f = fopen(path, "w");
	assert_non_null(f);
	assert_int_equal(fputs(text, f) >= 0, 1);
	assert_int_equal(fclose(f), 0);
}

/* The address of a function of a Go executable, from `go tool nm`. */
static uint64_t go_sym(const char *app, const char *fn)
{
	char cmd[512], line[512], name[256], type;
	unsigned long long addr = 0, a;
	FILE *p;

	snprintf(cmd, sizeof(cmd), "go tool nm %s", app);
	p = popen(cmd, "r");
	assert_non_null(p);
	while (fgets(line, sizeof(line), p))
		if (sscanf(line, "%llx %c %255s", &a, &type, name) == 3 && !strcmp(name, fn))
			addr = a;
	pclose(p);
	assert_true(addr != 0);
	return addr;
}

/* A Go executable as Debian's go builds it: DWARF, .symtab, no PIE. Symbolized from maps text
 * alone: it need not run. */
UNIT_TEST(test_symbolize_go)
{
	char dir[] = "/tmp/test_unwind_go.XXXXXX", cmd[1024], app[128], maps[256];
	struct unwind_frame f[4];
	struct unwind_maps *m;
	uint64_t pcs[4];
	int n;

	(void)state;
	assert_non_null(mkdtemp(dir));
	write_file(dir, "main.go", go_main);
	write_file(dir, "go.mod", "module example.com/crashme\n\ngo 1.19\n");
	/* go needs a cache: under HOME, else here */
	snprintf(cmd, sizeof(cmd), "cd %s && %s go build -o app . >/dev/null 2>&1", dir,
		 getenv("HOME") || getenv("GOCACHE") ? ""
						     : "GOCACHE=$PWD/cache GOPATH=$PWD/gopath");
	assert_int_equal(system(cmd), 0);
	snprintf(app, sizeof(app), "%s/app", dir);
	snprintf(maps, sizeof(maps), "00400000-00800000 r-xp 00000000 08:01 1234 %s\n", app);
	m = unwind_maps_parse(maps, strlen(maps), NULL);
	assert_non_null(m);

	pcs[0] = go_sym(app, "main.work") + 1;
	pcs[1] = go_sym(app, "main.main") + 0x10;
	pcs[2] = go_sym(app, "runtime.main") + 0x100;
	pcs[3] = go_sym(app, "os.Exit") + 1;
	n = unwind_symbolize(m, pcs, 4, true, f, 4);
	unwind_maps_free(m);
	snprintf(cmd, sizeof(cmd), "rm -rf %s", dir);
	assert_int_equal(system(cmd), 0);

	assert_int_equal(n, 4);
	assert_string_equal(f[0].function, "main.work");
	assert_int_equal(f[0].fn_off, 1);
	assert_int_equal(f[0].res, UNWIND_LINE);
	assert_string_equal(f[0].file, "main.go");
	assert_in_range(f[0].line, 6, 7); /* the func line, or its body's */
	assert_true(f[0].in_app);
	assert_string_equal(f[0].module, "app");
	assert_int_equal(f[0].module_off, pcs[0]); /* not PIE: no bias */
	assert_string_equal(f[1].function, "main.main");
	assert_int_equal(f[1].res, UNWIND_LINE);
	assert_in_range(f[1].line, 10, 12);
	assert_true(f[1].in_app);
	/* the standard library's, in the same executable */
	assert_string_equal(f[2].function, "runtime.main");
	assert_string_equal(f[2].file, "proc.go");
	assert_false(f[2].in_app);
	assert_string_equal(f[3].function, "os.Exit");
	assert_false(f[3].in_app);
}

UNIT_TEST(test_maps_parse)
{
	static const char text[] =
		"55d0c0000000-55d0c0001000 r--p 00000000 08:01 1234 /opt/app/bin/crashme\n"
		"55d0c0001000-55d0c0002000 r-xp 00001000 08:01 1234 /opt/app/bin/crashme\n"
		"55d0c0002000-55d0c0003000 rw-p 00000000 00:00 0 \n"
		"garbage line\n"
		"7f0000000000-7f0000001000 r-xp 00002000 08:01 99 /usr/lib/x86_64-linux-gnu/libz.so.1\n"
		"7e0000000000-7e0000001000 r-xp 00000000 08:01 98 /opt/app/backwards.so\n"
		"7f0000002000-7f0000003000 r-xp 00000000 08:01 97 /opt/app/gone.so (deleted)\n"
		"7fff00000000-7fff00001000 rw-p 00000000 00:00 0 [stack]\n"
		"7fff00002000-7fff00003000 r-xp 00000000 00:00 0 [vdso]";
	struct unwind_frame f[6];
	struct unwind_maps *m;
	uint64_t pcs[6] = { 0x55d0c0001234, 0x7f0000000010, 0x7f0000002010,
			    0x7fff00002100, 0x7e0000000010, 0x7fff00000100 };
	size_t bytes;

	(void)state;
	/* none of these files exists: modules and offsets only, from the maps */
	m = unwind_maps_parse(text, sizeof(text) - 1, "/nonexistent-root");
	assert_non_null(m);
	bytes = unwind_maps_bytes(m);
	assert_int_equal(unwind_symbolize(m, pcs, 6, true, f, 6), 6);
	assert_string_equal(f[0].module, "crashme");
	assert_int_equal(f[0].module_off, 0x1234);
	assert_true(f[0].in_app);
	assert_int_equal(f[0].res, UNWIND_ADDR);
	assert_string_equal(f[1].module, "libz.so.1");
	assert_false(f[1].in_app);
	assert_string_equal(f[2].module, "gone.so");
	assert_int_equal(f[2].module_off, 0x10);
	assert_string_equal(f[3].module, "[vdso]");
	assert_int_equal(f[3].module_off, 0x100);
	assert_false(f[3].in_app);
	assert_string_equal(f[4].module, ""); /* out of order: dropped */
	assert_string_equal(f[5].module, ""); /* [stack] is no module */
	assert_true(unwind_maps_bytes(m) >= bytes);
	unwind_maps_free(m);

	/* empty, and NULL */
	m = unwind_maps_parse("", 0, NULL);
	assert_non_null(m);
	assert_int_equal(unwind_symbolize(m, pcs, 1, true, f, 6), 1);
	assert_string_equal(f[0].module, "");
	assert_int_equal(unwind_stack(m, cap_regs, 0, NULL, 0, f, 6), cap_regs[16] ? 1 : 0);
	unwind_maps_free(m);
	unwind_maps_free(NULL);
	assert_int_equal(unwind_maps_bytes(NULL), 0);

	/* a pid that is not there */
	errno = 0;
	assert_null(unwind_maps_read(0x7ffffff0));
	assert_int_equal(errno, ENOENT);
}

UNIT_TEST(test_frame_text)
{
	struct unwind_frame f = { .pc = 0x55d0c0001234,
				  .res = UNWIND_LINE,
				  .module = "crashme",
				  .module_off = 0x1234,
				  .function = "store_record",
				  .fn_off = 0x10,
				  .file = "crashme.c",
				  .line = 14 };
	char buf[256];

	(void)state;
	assert_int_equal(unwind_frame_text(&f, buf, sizeof(buf)), 27);
	assert_string_equal(buf, "store_record (crashme.c:14)");
	f.res = UNWIND_SYMBOL;
	strcpy(f.function, "abort");
	f.fn_off = 0x7a;
	strcpy(f.module, "libc.so.6");
	unwind_frame_text(&f, buf, sizeof(buf));
	assert_string_equal(buf, "abort+0x7a (libc.so.6)");
	f.res = UNWIND_ADDR;
	f.pc = 0x1234;
	strcpy(f.module, "libfoo.so");
	unwind_frame_text(&f, buf, sizeof(buf));
	assert_string_equal(buf, "0x1234 (libfoo.so+0x1234)");
	f.module[0] = '\0';
	f.pc = 0x7f0012345678;
	unwind_frame_text(&f, buf, sizeof(buf));
	assert_string_equal(buf, "0x7f0012345678 (?)");
	/* snprintf's semantics: cut, NUL-terminated, the full length returned */
	assert_int_equal(unwind_frame_text(&f, buf, 5), 18);
	assert_string_equal(buf, "0x7f");
	assert_int_equal(unwind_frame_text(&f, NULL, 0), 18);
}

UNIT_MAIN(NULL, NULL)
