// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/*
 * x86sites.c: which instructions the kernel emulates under a uprobe, and where in a function a
 * probe can sit on one. Every function here is a hand-written byte array, its assembly in the
 * comment beside it as objdump prints it (AT&T), loaded into a heap buffer that ends where the
 * code does, behind a few bytes of padding so that file offsets and addresses differ and ASan
 * sees any read past the range. The system's libraries are checked in test_tlslib.c.
 */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "unit.h"

#include "process/x86sites.h"

#define BASE 0x1000
#define PAD 0x40 /* file bytes before the code: its offset is vaddr - BASE + PAD */

#define RAX X86_REG(X86_RAX)
#define RCX X86_REG(X86_RCX)
#define RDX X86_REG(X86_RDX)
#define RBX X86_REG(X86_RBX)
#define RSP X86_REG(X86_RSP)
#define RSI X86_REG(X86_RSI)
#define RDI X86_REG(X86_RDI)

/* A file image holding one function's bytes at vaddr. */
struct image {
	uint8_t *buf;
	struct x86_code code;
	uint64_t vaddr;
};

static void load_at(struct image *im, uint64_t vaddr, const uint8_t *bytes, size_t n)
{
	im->buf = malloc(PAD + n);
	assert_non_null(im->buf);
	memset(im->buf, 0xcc, PAD); /* int3: what a walk that strays before the range would see */
	memcpy(im->buf + PAD, bytes, n);
	memset(&im->code, 0, sizeof(im->code));
	im->code.buf = im->buf;
	im->code.len = PAD + n;
	im->code.emulates = X86_EMUL_PUSH; /* as this kernel does */
	im->vaddr = vaddr;
	assert_int_equal(x86_code_add(&im->code, vaddr, n, PAD), 0);
}

#define LOAD(im, bytes) load_at(im, BASE, bytes, sizeof(bytes))

static void unload(struct image *im)
{
	free(im->buf);
	im->buf = NULL;
}

/* x86_entry_site() on a function at im's start: the site lies delta bytes in. */
static void assert_entry_site(const struct image *im, uint32_t needs, uint64_t delta, bool emulated,
			      const char *insn)
{
	struct x86_site s;

	memset(&s, 0xa5, sizeof(s));
	assert_int_equal(x86_entry_site(&im->code, im->vaddr, needs, &s), 0);
	if (s.vaddr != im->vaddr + delta)
		fail_msg("needs %#x: site at +%#llx (%s), want +%#llx", needs,
			 (unsigned long long)(s.vaddr - im->vaddr), s.insn,
			 (unsigned long long)delta);
	assert_true(s.offset == PAD + delta);
	assert_int_equal(s.emulated, emulated);
	if (insn) /* NULL: capstone's spelling is not the point */
		assert_string_equal(s.insn, insn);
}

/* Whether x86_entry_site() finds its site on im to be Go's stack check jbe. */
static bool entry_stack_check(const struct image *im, uint32_t needs)
{
	struct x86_site s;

	memset(&s, 0xa5, sizeof(s));
	assert_int_equal(x86_entry_site(&im->code, im->vaddr, needs, &s), 0);
	return s.stack_check;
}

/* ---- x86_emulated ---- */

UNIT_TEST(test_emulated_forms)
{
	static const struct {
		uint8_t bytes[8];
		size_t n;
		bool emulated;
	} cases[] = {
		{ { 0xe8, 0xfb, 0x0f, 0x00, 0x00 }, 5, true },	     /* call   0x2000 */
		{ { 0xe9, 0xfb, 0x0f, 0x00, 0x00 }, 5, true },	     /* jmp    0x2000 */
		{ { 0xeb, 0x10 }, 2, true },			     /* jmp    0x1012 */
		{ { 0x70, 0x10 }, 2, true },			     /* jo     0x1012 */
		{ { 0x74, 0x23 }, 2, true },			     /* je     0x1025 */
		{ { 0x7f, 0x10 }, 2, true },			     /* jg     0x1012 */
		{ { 0x0f, 0x80, 0x00, 0x01, 0x00, 0x00 }, 6, true }, /* jo     0x1106 */
		{ { 0x0f, 0x85, 0x00, 0x01, 0x00, 0x00 }, 6, true }, /* jne    0x1106 */
		{ { 0x0f, 0x8f, 0x00, 0x01, 0x00, 0x00 }, 6, true }, /* jg     0x1106 */
		{ { 0x90 }, 1, true },				     /* nop */
		{ { 0x50 }, 1, true },				     /* push   %rax */
		{ { 0x55 }, 1, true },				     /* push   %rbp */
		{ { 0x57 }, 1, true },				     /* push   %rdi */
		{ { 0x41, 0x50 }, 2, true },			     /* push   %r8 */
		{ { 0x41, 0x55 }, 2, true },			     /* push   %r13 */
		{ { 0x41, 0x57 }, 2, true },			     /* push   %r15 */

		{ { 0x48, 0x83, 0xec, 0x18 }, 4, false },	      /* sub    $0x18,%rsp */
		{ { 0x48, 0x89, 0xf8 }, 3, false },		      /* mov    %rdi,%rax */
		{ { 0xba, 0x01, 0x00, 0x00, 0x00 }, 5, false },	      /* mov    $0x1,%edx */
		{ { 0x49, 0x3b, 0x66, 0x10 }, 4, false },	      /* cmp    0x10(%r14),%rsp */
		{ { 0xf3, 0x0f, 0x1e, 0xfa }, 4, false },	      /* endbr64 */
		{ { 0x66, 0x90 }, 2, false },			      /* xchg   %ax,%ax */
		{ { 0x0f, 0x1f, 0x44, 0x00, 0x00 }, 5, false },	      /* nopl   0x0(%rax,%rax,1) */
		{ { 0x66, 0x74, 0x02 }, 3, false },		      /* data16 je 0x1005 */
		{ { 0x66, 0x0f, 0x84, 0x00, 0x00 }, 5, false },	      /* je     0x1005 (66) */
		{ { 0x66, 0xe8, 0x00, 0x00 }, 4, false },	      /* callw  0x1004 */
		{ { 0xf2, 0xe8, 0x00, 0x00, 0x00, 0x00 }, 6, false }, /* bnd call 0x1006 */
		{ { 0xc3 }, 1, false },				      /* ret */
		{ { 0x48, 0x50 }, 2, false },			      /* rex.W push %rax */
		{ { 0x40, 0x50 }, 2, false },			      /* rex push %rax */
		{ { 0x41, 0x90 }, 2, false },			      /* xchg   %eax,%r8d */
		{ { 0xff, 0xd0 }, 2, false },			      /* call   *%rax */
		{ { 0xe3, 0x10 }, 2, false },			      /* jrcxz  0x1012 */
		{ { 0xe2, 0x10 }, 2, false },			      /* loop   0x1012 */
		{ { 0xcc }, 1, false },				      /* int3 */
	};
	size_t i;

	(void)state;
	for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		uint8_t *p = malloc(cases[i].n);

		assert_non_null(p);
		memcpy(p, cases[i].bytes, cases[i].n);
		if (x86_emulated(p, cases[i].n, X86_EMUL_PUSH) != cases[i].emulated)
			fail_msg("case %zu (%02x %02x ...): emulated should be %d", i, p[0],
				 cases[i].n > 1 ? p[1] : 0, cases[i].emulated);
		free(p);
	}
}

/* Fewer bytes than the form needs: only what is there is looked at. */
UNIT_TEST(test_emulated_short)
{
	static const uint8_t jcc32[] = { 0x0f, 0x84 }, push_r8[] = { 0x41, 0x50 };
	uint8_t *p = malloc(1);

	(void)state;
	assert_non_null(p);
	assert_false(x86_emulated(p, 0, X86_EMUL_PUSH));
	p[0] = jcc32[0];
	assert_false(x86_emulated(p, 1, X86_EMUL_PUSH));
	p[0] = push_r8[0];
	assert_false(x86_emulated(p, 1, X86_EMUL_PUSH));
	p[0] = 0x55;
	assert_true(x86_emulated(p, 1, X86_EMUL_PUSH));
	free(p);
	assert_true(x86_emulated(jcc32, 2, X86_EMUL_PUSH));
	assert_true(x86_emulated(push_r8, 2, X86_EMUL_PUSH));
}

/* ---- x86_code_add ---- */

UNIT_TEST(test_code_add_bounds)
{
	static const uint8_t buf[64];
	struct x86_code c = { .buf = buf, .len = sizeof(buf), .emulates = X86_EMUL_PUSH };

	(void)state;
	assert_int_equal(x86_code_add(&c, 0x1000, 64, 0), 0);
	assert_int_equal(x86_code_add(&c, 0x2000, 16, 48), 0); /* ends exactly at the end */
	assert_int_equal(x86_code_add(&c, 0x3000, 0, 64), 0);  /* empty, at the end */
	assert_int_equal(c.nrange, 3);
	assert_int_equal(x86_code_add(&c, 0x4000, 65, 0), -EINVAL);
	assert_int_equal(x86_code_add(&c, 0x4000, 17, 48), -EINVAL);
	assert_int_equal(x86_code_add(&c, 0x4000, 1, 64), -EINVAL);
	assert_int_equal(x86_code_add(&c, 0x4000, 0, 65), -EINVAL);
	/* sizes that wrap offset + size around */
	assert_int_equal(x86_code_add(&c, 0x4000, UINT64_MAX, 1), -EINVAL);
	assert_int_equal(x86_code_add(&c, 0x4000, 1, UINT64_MAX), -EINVAL);
	/* addresses that wrap vaddr + size around */
	assert_int_equal(x86_code_add(&c, UINT64_MAX - 7, 16, 0), -EINVAL);
	assert_int_equal(c.nrange, 3);
	assert_true(c.range[1].vaddr == 0x2000 && c.range[1].size == 16 && c.range[1].offset == 48);
}

UNIT_TEST(test_code_add_full)
{
	static const uint8_t buf[64];
	struct x86_code c = { .buf = buf, .len = sizeof(buf), .emulates = X86_EMUL_PUSH };
	int i;

	(void)state;
	for (i = 0; i < X86_MAX_RANGES; i++)
		assert_int_equal(x86_code_add(&c, 0x1000 * (uint64_t)(i + 1), 8, 8 * (uint64_t)i),
				 0);
	assert_int_equal(x86_code_add(&c, 0x100000, 8, 0), -EINVAL);
	assert_int_equal(c.nrange, X86_MAX_RANGES);
}

/* ---- x86_site_at ---- */

UNIT_TEST(test_site_at)
{
	static const uint8_t fn[] = {
		0x41, 0x55,		/* push   %r13 */
		0x48, 0x83, 0xec, 0x18, /* sub    $0x18,%rsp */
		0x90,			/* nop */
		0x06,			/* (bad) */
		0xe8, 0x00, 0x00,	/* call, cut short by the end of the range */
	};
	struct image im;
	struct x86_site s;

	(void)state;
	LOAD(&im, fn);
	assert_int_equal(x86_site_at(&im.code, BASE, &s), 0);
	assert_true(s.vaddr == BASE && s.offset == PAD);
	assert_true(s.emulated);
	assert_string_equal(s.insn, "pushq %r13");

	assert_int_equal(x86_site_at(&im.code, BASE + 2, &s), 0);
	assert_true(s.vaddr == BASE + 2 && s.offset == PAD + 2);
	assert_false(s.emulated);
	assert_string_equal(s.insn, "subq $0x18, %rsp");

	assert_int_equal(x86_site_at(&im.code, BASE + 6, &s), 0);
	assert_true(s.emulated);
	assert_string_equal(s.insn, "nop");

	/* mid-instruction: whatever the bytes there decode to, at that address */
	assert_int_equal(x86_site_at(&im.code, BASE + 1, &s), 0);
	assert_true(s.vaddr == BASE + 1 && s.offset == PAD + 1);
	assert_true(s.emulated); /* 55: push %rbp */

	assert_int_equal(x86_site_at(&im.code, BASE + 7, &s), -EINVAL);
	assert_int_equal(x86_site_at(&im.code, BASE + 8, &s), -EINVAL);
	assert_int_equal(x86_site_at(&im.code, BASE - 1, &s), -EINVAL);
	assert_int_equal(x86_site_at(&im.code, BASE + sizeof(fn), &s), -EINVAL);
	unload(&im);
}

/* Two ranges of one file: each address maps through its own range's offset. */
UNIT_TEST(test_site_at_ranges)
{
	static const uint8_t buf[] = {
		0xc3,	    /* ret          (file offset 0, at 0x5000) */
		0x90, 0x90, /* nop; nop     (file offset 1, not loaded) */
		0x41, 0x57, /* push %r15    (file offset 3, at 0x9000) */
	};
	struct x86_code c = { .buf = buf, .len = sizeof(buf), .emulates = X86_EMUL_PUSH };
	struct x86_site s;

	(void)state;
	assert_int_equal(x86_code_add(&c, 0x5000, 1, 0), 0);
	assert_int_equal(x86_code_add(&c, 0x9000, 2, 3), 0);
	assert_int_equal(x86_site_at(&c, 0x9000, &s), 0);
	assert_true(s.vaddr == 0x9000 && s.offset == 3);
	assert_string_equal(s.insn, "pushq %r15");
	assert_int_equal(x86_site_at(&c, 0x5000, &s), 0);
	assert_true(s.offset == 0);
	assert_false(s.emulated);
	assert_string_equal(s.insn, "retq");
	assert_int_equal(x86_site_at(&c, 0x5001, &s), -EINVAL);
	assert_int_equal(x86_site_at(&c, 0x9002, &s), -EINVAL);

	/* a range's end is the next one's start, not part of it */
	assert_int_equal(x86_code_add(&c, 0x5001, 2, 3), 0);
	assert_int_equal(x86_site_at(&c, 0x5001, &s), 0);
	assert_true(s.vaddr == 0x5001 && s.offset == 3);
	assert_string_equal(s.insn, "pushq %r15");
}

/* ---- x86_entry_site ---- */

UNIT_TEST(test_entry_push)
{
	static const uint8_t fn[] = {
		0x55,		  /* push   %rbp */
		0x48, 0x89, 0xe5, /* mov    %rsp,%rbp */
		0x53,		  /* push   %rbx */
		0x48, 0x89, 0xfb, /* mov    %rdi,%rbx */
		0xc3,		  /* ret */
	};
	struct image im;

	(void)state;
	LOAD(&im, fn);
	assert_entry_site(&im, RDI | RSI, 0, true, "pushq %rbp");
	assert_entry_site(&im, ~0u, 0, true, "pushq %rbp");
	assert_entry_site(&im, 0, 0, true, "pushq %rbp");
	unload(&im);
}

/* Debian's PQsendQuery: the constant it adds is the only write before the tail jump. */
UNIT_TEST(test_entry_mov_jmp)
{
	static const uint8_t fn[] = {
		0xba, 0x01, 0x00, 0x00, 0x00, /* mov    $0x1,%edx */
		0xe9, 0xf6, 0x0f, 0x00, 0x00, /* jmp    0x2000 */
		0x55,			      /* push   %rbp (past the jump: never chosen) */
	};
	struct image im;

	(void)state;
	LOAD(&im, fn);
	assert_entry_site(&im, RDI | RSI, 5, true, "jmp 0x2000");
	assert_entry_site(&im, RDX, 0, false, "movl $1, %edx");
	assert_entry_site(&im, RDI | RDX, 0, false, "movl $1, %edx");
	unload(&im);
}

/* Go's stack check writes only the flags: its jbe sees every argument register. */
UNIT_TEST(test_entry_go_prologue)
{
	static const uint8_t fn[] = {
		0x49, 0x3b, 0x66, 0x10,	      /* cmp    0x10(%r14),%rsp */
		0x76, 0x05,		      /* jbe    0x100b */
		0x55,			      /* push   %rbp */
		0x48, 0x89, 0xe5,	      /* mov    %rsp,%rbp */
		0xc3,			      /* ret */
		0xe8, 0xf0, 0xff, 0xff, 0xff, /* call   0x1000 (morestack, then again) */
	};
	struct image im;

	(void)state;
	LOAD(&im, fn);
	assert_entry_site(&im, RAX | RBX, 4, true, "jbe 0x100b");
	assert_entry_site(&im, ~0u, 4, true, "jbe 0x100b");
	assert_true(entry_stack_check(&im, RAX | RBX));
	unload(&im);
}

/* A frame too big for the short form compares SP less the frame; a jbe after any other compare
 * is no stack check. */
UNIT_TEST(test_entry_stack_check_forms)
{
	static const uint8_t big[] = {
		0x4c, 0x8d, 0xa4, 0x24, 0x78, 0xfe, 0xff, 0xff, /* lea -0x188(%rsp),%r12 */
		0x4d, 0x3b, 0x66, 0x10,				/* cmp 0x10(%r14),%r12 */
		0x0f, 0x86, 0x10, 0x00, 0x00, 0x00,		/* jbe +0x10 */
		0x55,						/* push %rbp */
	};
	static const uint8_t other[] = {
		0x49, 0x3b, 0x66, 0x18, /* cmp 0x18(%r14),%rsp */
		0x76, 0x05,		/* jbe */
		0x55,			/* push %rbp */
	};
	static const uint8_t je[] = {
		0x49, 0x3b, 0x66, 0x10, /* cmp 0x10(%r14),%rsp */
		0x74, 0x05,		/* je */
		0x55,			/* push %rbp */
	};
	struct image im;

	(void)state;
	LOAD(&im, big);
	assert_entry_site(&im, RAX, 12, true, NULL);
	assert_true(entry_stack_check(&im, RAX));
	unload(&im);
	LOAD(&im, other);
	assert_entry_site(&im, RAX, 4, true, NULL);
	assert_false(entry_stack_check(&im, RAX));
	unload(&im);
	LOAD(&im, je);
	assert_entry_site(&im, RAX, 4, true, NULL);
	assert_false(entry_stack_check(&im, RAX));
	unload(&im);
}

/* libpq's PQfinish: a NULL check, then the body. */
UNIT_TEST(test_entry_test_je)
{
	static const uint8_t fn[] = {
		0x48, 0x85, 0xff, /* test   %rdi,%rdi */
		0x74, 0x23,	  /* je     0x1028 */
		0x55,		  /* push   %rbp */
		0x48, 0x89, 0xe5, /* mov    %rsp,%rbp */
	};
	struct image im;

	(void)state;
	LOAD(&im, fn);
	assert_entry_site(&im, RDI, 3, true, "je 0x1028");
	assert_false(entry_stack_check(&im, RDI));
	unload(&im);
}

/* Common with CET: endbr64 is single-stepped, the push after it is not. */
UNIT_TEST(test_entry_endbr64)
{
	static const uint8_t fn[] = {
		0xf3, 0x0f, 0x1e, 0xfa, /* endbr64 */
		0x41, 0x54,		/* push   %r12 */
		0x55,			/* push   %rbp */
		0xc3,			/* ret */
	};
	struct image im;

	(void)state;
	LOAD(&im, fn);
	assert_entry_site(&im, RDI | RSI | RDX, 4, true, "pushq %r12");
	unload(&im);
}

/* The first emulated instruction, not the branch: and only while no needed register changed. */
UNIT_TEST(test_entry_first_emulated)
{
	static const uint8_t fn[] = {
		0x48, 0x83, 0xec, 0x08,	      /* sub    $0x8,%rsp */
		0x48, 0x89, 0xfb,	      /* mov    %rdi,%rbx */
		0x53,			      /* push   %rbx */
		0xe8, 0xf3, 0x0f, 0x00, 0x00, /* call   0x2000 */
	};
	struct image im;

	(void)state;
	LOAD(&im, fn);
	assert_entry_site(&im, RDI, 7, true, "pushq %rbx");
	assert_entry_site(&im, RSP, 0, false, "subq $8, %rsp");
	/* the push comes after rbx was written, and so does the call */
	assert_entry_site(&im, RBX, 0, false, "subq $8, %rsp");
	unload(&im);
}

/* A branch ends the walk even when the kernel would single-step it. */
UNIT_TEST(test_entry_stops_at_branch)
{
	static const uint8_t jrcxz[] = {
		0x48, 0x83, 0xec, 0x08, /* sub    $0x8,%rsp */
		0xe3, 0x10,		/* jrcxz  0x1016 */
		0x55,			/* push   %rbp */
	};
	static const uint8_t bnd_jmp[] = {
		0x48, 0x89, 0xf8,		    /* mov    %rdi,%rax */
		0xf2, 0xe9, 0xf7, 0x0f, 0x00, 0x00, /* bnd jmp 0x2000 */
		0x55,				    /* push   %rbp */
	};
	struct image im;

	(void)state;
	LOAD(&im, jrcxz);
	assert_entry_site(&im, RDI, 0, false, "subq $8, %rsp");
	unload(&im);
	LOAD(&im, bnd_jmp);
	assert_entry_site(&im, RDI, 0, false, "movq %rdi, %rax");
	unload(&im);
}

/* loop, loope, loopne branch as a jcc does, and ud0 and ud1 trap as ud2 does (capstone 4 files
 * the first in no jump group and calls ud1 "ud2b"): the walk stops there. */
UNIT_TEST(test_entry_stops_at_loop_and_ud)
{
	static const uint8_t loop[] = {
		0xe2, 0x10, /* loop   0x1012 */
		0x55,	    /* push   %rbp */
		0xc3,	    /* ret */
	};
	static const uint8_t loopne[] = {
		0x48, 0x83, 0xec, 0x08, /* sub    $0x8,%rsp */
		0xe0, 0x10,		/* loopne 0x1016 */
		0x55,			/* push   %rbp */
	};
	static const uint8_t ud0[] = {
		0x0f, 0xff, 0x55, 0xc3, /* ud0    0xc3(%rbp),%edx */
		0x55,			/* push   %rbp */
	};
	static const uint8_t ud1[] = {
		0x0f, 0xb9, /* ud2b (ud1) */
		0x55,	    /* push   %rbp */
	};
	struct image im;

	(void)state;
	LOAD(&im, loop);
	assert_entry_site(&im, RDI, 0, false, "loop 0x1012");
	unload(&im);
	LOAD(&im, loopne);
	assert_entry_site(&im, RDI, 0, false, "subq $8, %rsp");
	unload(&im);
	LOAD(&im, ud0);
	assert_entry_site(&im, RDI, 0, false, NULL);
	unload(&im);
	LOAD(&im, ud1);
	assert_entry_site(&im, RDI, 0, false, NULL);
	unload(&im);
}

/* A kernel without push_emulate_op() single-steps a push: the walk goes on to the branch. */
UNIT_TEST(test_entry_push_not_emulated)
{
	static const uint8_t fn[] = {
		0x55,		  /* push   %rbp */
		0x48, 0x89, 0xe5, /* mov    %rsp,%rbp */
		0x74, 0x02,	  /* je     0x1008 */
		0xc3,		  /* ret */
	};
	struct image im;

	(void)state;
	LOAD(&im, fn);
	im.code.emulates = 0;
	assert_false(x86_emulated(fn, 1, 0));
	assert_false(x86_emulated((const uint8_t[]){ 0x41, 0x55 }, 2, 0));
	assert_entry_site(&im, RDI, 4, true, "je 0x1008");
	unload(&im);
}

/* The probe fires before its instruction runs: what that instruction writes does not count. */
UNIT_TEST(test_entry_own_writes)
{
	static const uint8_t fn[] = {
		0x48, 0x89, 0xfb,	      /* mov    %rdi,%rbx */
		0x53,			      /* push   %rbx (writes rsp) */
		0xe8, 0xf7, 0x0f, 0x00, 0x00, /* call   0x2000 */
	};
	struct image im;

	(void)state;
	LOAD(&im, fn);
	assert_entry_site(&im, RSP | RDI, 3, true, "pushq %rbx");
	unload(&im);
}

/* A write to part of a register is a write to the register. */
UNIT_TEST(test_entry_sub_registers)
{
	static const uint8_t xor_esi[] = {
		0x31, 0xf6,		      /* xor    %esi,%esi */
		0xe9, 0xf9, 0x0f, 0x00, 0x00, /* jmp    0x2000 */
	};
	static const uint8_t mov_dil[] = {
		0x40, 0x88, 0xf7,	      /* mov    %sil,%dil */
		0xe9, 0xf8, 0x0f, 0x00, 0x00, /* jmp    0x2000 */
	};
	static const uint8_t movslq[] = {
		0x48, 0x63, 0xd2, /* movslq %edx,%rdx */
		0xeb, 0x10,	  /* jmp    0x1015 */
	};
	static const uint8_t mov_dh[] = {
		0x88, 0xe6, /* mov    %ah,%dh */
		0x74, 0x10, /* je     0x1014 */
	};
	struct image im;

	(void)state;
	LOAD(&im, xor_esi);
	assert_entry_site(&im, RSI, 0, false, "xorl %esi, %esi");
	assert_entry_site(&im, RDI, 2, true, "jmp 0x2000");
	unload(&im);

	LOAD(&im, mov_dil);
	assert_entry_site(&im, RDI, 0, false, "movb %sil, %dil");
	assert_entry_site(&im, RSI, 3, true, "jmp 0x2000");
	unload(&im);

	LOAD(&im, movslq);
	assert_entry_site(&im, RDX, 0, false, "movslq %edx, %rdx");
	assert_entry_site(&im, RDI | RSI | RCX, 3, true, "jmp 0x1015");
	unload(&im);

	LOAD(&im, mov_dh);
	assert_entry_site(&im, RDX, 0, false, "movb %ah, %dh");
	assert_entry_site(&im, RAX, 2, true, "je 0x1014");
	unload(&im);
}

/* A return ends the walk: what follows it is another function, or unreachable. */
UNIT_TEST(test_entry_ret_first)
{
	static const uint8_t fn[] = {
		0x48, 0x89, 0xf8,	      /* mov    %rdi,%rax */
		0xc3,			      /* ret */
		0x55,			      /* push   %rbp */
		0xe8, 0xf6, 0x0f, 0x00, 0x00, /* call   0x2000 */
	};
	struct image im;

	(void)state;
	LOAD(&im, fn);
	assert_entry_site(&im, RDI, 0, false, "movq %rdi, %rax");
	assert_entry_site(&im, 0, 0, false, "movq %rdi, %rax");
	unload(&im);
}

/* So does an indirect call. */
UNIT_TEST(test_entry_indirect_first)
{
	static const uint8_t fn[] = {
		0x48, 0x89, 0xf8, /* mov    %rdi,%rax */
		0xff, 0xd0,	  /* call   *%rax */
		0x90,		  /* nop */
	};
	struct image im;

	(void)state;
	LOAD(&im, fn);
	assert_entry_site(&im, RSI, 0, false, "movq %rdi, %rax");
	unload(&im);
}

/* The entry must decode; what follows it need not (the entry is then the answer). */
UNIT_TEST(test_entry_bounds)
{
	static const uint8_t bad[] = { 0x06 };	     /* (bad) */
	static const uint8_t cut[] = { 0xe8, 0x00 }; /* call, cut short */
	static const uint8_t tail[] = {
		0x48, 0x83, 0xec, 0x08, /* sub    $0x8,%rsp */
		0xe8, 0x00, 0x00,	/* call, cut short by the end of the range */
	};
	struct image im;
	struct x86_site s;

	(void)state;
	LOAD(&im, bad);
	assert_int_equal(x86_entry_site(&im.code, BASE, RDI, &s), -EINVAL);
	unload(&im);
	LOAD(&im, cut);
	assert_int_equal(x86_entry_site(&im.code, BASE, RDI, &s), -EINVAL);
	unload(&im);
	LOAD(&im, tail);
	assert_entry_site(&im, RDI, 0, false, "subq $8, %rsp");
	assert_int_equal(x86_entry_site(&im.code, BASE - 1, RDI, &s), -EINVAL);
	assert_int_equal(x86_entry_site(&im.code, BASE + sizeof(tail), RDI, &s), -EINVAL);
	unload(&im);
}

/* ---- x86_first_call ---- */

/* OpenSSL 3's SSL_read (Debian 12, at its own address): a guard on num, then the worker. */
UNIT_TEST(test_first_call_ssl_read)
{
	static const uint8_t fn[] = {
		0x48, 0x83, 0xec, 0x18,				      /* sub    $0x18,%rsp */
		0x64, 0x48, 0x8b, 0x04, 0x25, 0x28, 0x00, 0x00, 0x00, /* mov    %fs:0x28,%rax */
		0x48, 0x89, 0x44, 0x24, 0x08,			      /* mov    %rax,0x8(%rsp) */
		0x31, 0xc0,					      /* xor    %eax,%eax */
		0x85, 0xd2,					      /* test   %edx,%edx */
		0x78, 0x2f,					      /* js     0x35477 */
		0x48, 0x89, 0xe1,				      /* mov    %rsp,%rcx */
		0x48, 0x63, 0xd2,				      /* movslq %edx,%rdx */
		0xe8, 0x3d, 0xfe, 0xff, 0xff,			      /* call   0x35290 */
		0x85, 0xc0,					      /* test   %eax,%eax */
	};
	struct image im;
	struct x86_call call;

	(void)state;
	load_at(&im, 0x35430, fn, sizeof(fn));
	memset(&call, 0xa5, sizeof(call));
	assert_int_equal(x86_first_call(&im.code, 0x35430, &call), 0);
	assert_true(call.at == 0x3544e);
	assert_true(call.target == 0x35290);
	assert_false(call.tail);
	assert_int_equal(call.written & (RCX | RDX | RAX | RSP), RCX | RDX | RAX | RSP);
	assert_int_equal(call.written & (RDI | RSI), 0);
	/* nothing else: the store to 0x8(%rsp) writes memory, not rsp */
	assert_int_equal(call.written, RCX | RDX | RAX | RSP);
	unload(&im);
}

/* SSL_read_ex: the worker with the caller's arguments as they came. */
UNIT_TEST(test_first_call_ssl_read_ex)
{
	static const uint8_t fn[] = {
		0x48, 0x83, 0xec, 0x08,	      /* sub    $0x8,%rsp */
		0xe8, 0xc7, 0xfd, 0xff, 0xff, /* call   0x35290 */
		0x31, 0xd2,		      /* xor    %edx,%edx */
	};
	struct image im;
	struct x86_call call;

	(void)state;
	load_at(&im, 0x354c0, fn, sizeof(fn));
	assert_int_equal(x86_first_call(&im.code, 0x354c0, &call), 0);
	assert_true(call.at == 0x354c4);
	assert_true(call.target == 0x35290);
	assert_false(call.tail);
	assert_int_equal(call.written, RSP);
	unload(&im);
}

UNIT_TEST(test_first_call_tail_jmp)
{
	static const uint8_t jmp32[] = {
		0xba, 0x01, 0x00, 0x00, 0x00, /* mov    $0x1,%edx */
		0xe9, 0xf6, 0x0f, 0x00, 0x00, /* jmp    0x2000 */
	};
	static const uint8_t jmp8[] = {
		0xeb, 0xfe, /* jmp    0x1000 (itself) */
	};
	static const uint8_t call_first[] = {
		0xe8, 0xfb, 0x0f, 0x00, 0x00, /* call   0x2000 */
	};
	struct image im;
	struct x86_call call;

	(void)state;
	LOAD(&im, jmp32);
	assert_int_equal(x86_first_call(&im.code, BASE, &call), 0);
	assert_true(call.at == BASE + 5 && call.target == 0x2000);
	assert_true(call.tail);
	assert_int_equal(call.written, RDX);
	unload(&im);

	LOAD(&im, jmp8);
	assert_int_equal(x86_first_call(&im.code, BASE, &call), 0);
	assert_true(call.at == BASE && call.target == BASE);
	assert_true(call.tail);
	assert_int_equal(call.written, 0);
	unload(&im);

	LOAD(&im, call_first);
	assert_int_equal(x86_first_call(&im.code, BASE, &call), 0);
	assert_true(call.at == BASE && call.target == 0x2000);
	assert_false(call.tail);
	assert_int_equal(call.written, 0);
	unload(&im);
}

/* No call on the straight path: a return, an indirect branch, or too far to look. */
UNIT_TEST(test_first_call_none)
{
	static const uint8_t ret[] = {
		0x31, 0xc0,		      /* xor    %eax,%eax */
		0xc3,			      /* ret */
		0xe8, 0xf8, 0x0f, 0x00, 0x00, /* call   0x2000 */
	};
	static const uint8_t indirect[] = {
		0x48, 0x89, 0xf8,	      /* mov    %rdi,%rax */
		0xff, 0xd0,		      /* call   *%rax */
		0xe8, 0xf6, 0x0f, 0x00, 0x00, /* call   0x2000 */
	};
	static const uint8_t plt[] = {
		0xff, 0x25, 0x00, 0x00, 0x00, 0x00, /* jmp    *0x0(%rip) */
		0xe8, 0xf5, 0x0f, 0x00, 0x00,	    /* call   0x2000 */
	};
	struct image im;
	struct x86_call call;

	(void)state;
	LOAD(&im, ret);
	assert_int_equal(x86_first_call(&im.code, BASE, &call), -ENOENT);
	unload(&im);
	LOAD(&im, indirect);
	assert_int_equal(x86_first_call(&im.code, BASE, &call), -ENOENT);
	unload(&im);
	LOAD(&im, plt);
	assert_int_equal(x86_first_call(&im.code, BASE, &call), -ENOENT);
	unload(&im);
}

/* X86_MAX_INSNS instructions are looked at, the call among them or not. */
UNIT_TEST(test_first_call_limit)
{
	uint8_t fn[X86_MAX_INSNS + 5];
	struct image im;
	struct x86_call call;
	uint32_t rel = 0x2000 - (BASE + X86_MAX_INSNS + 4); /* from the call's end */

	(void)state;
	/* X86_MAX_INSNS - 1 nops, then call 0x2000 */
	memset(fn, 0x90, sizeof(fn));
	fn[X86_MAX_INSNS - 1] = 0xe8;
	memcpy(&fn[X86_MAX_INSNS], &rel, sizeof(rel));
	load_at(&im, BASE, fn, X86_MAX_INSNS + 4);
	assert_int_equal(x86_first_call(&im.code, BASE, &call), 0);
	assert_true(call.at == BASE + X86_MAX_INSNS - 1 && call.target == 0x2000);
	unload(&im);

	/* one nop more: the call is the (X86_MAX_INSNS + 1)th */
	memset(fn, 0x90, sizeof(fn));
	fn[X86_MAX_INSNS] = 0xe8;
	memset(&fn[X86_MAX_INSNS + 1], 0, 4);
	load_at(&im, BASE, fn, sizeof(fn));
	assert_int_equal(x86_first_call(&im.code, BASE, &call), -ENOENT);
	unload(&im);
}

UNIT_TEST(test_first_call_bounds)
{
	static const uint8_t off_end[] = {
		0x48, 0x83, 0xec, 0x08, /* sub    $0x8,%rsp */
		0xe8, 0x00, 0x00,	/* call, cut short by the end of the range */
	};
	static const uint8_t no_call[] = {
		0x31, 0xc0, /* xor    %eax,%eax */
		0x74, 0x00, /* je     0x1004 */
	};
	static const uint8_t bad[] = { 0x06 }; /* (bad) */
	struct image im;
	struct x86_call call;

	(void)state;
	LOAD(&im, off_end);
	assert_int_equal(x86_first_call(&im.code, BASE, &call), -EINVAL);
	assert_int_equal(x86_first_call(&im.code, BASE - 1, &call), -EINVAL);
	assert_int_equal(x86_first_call(&im.code, BASE + sizeof(off_end), &call), -EINVAL);
	assert_int_equal(x86_first_call(&im.code, 0, &call), -EINVAL);
	unload(&im);
	LOAD(&im, no_call);
	assert_int_equal(x86_first_call(&im.code, BASE, &call), -EINVAL);
	unload(&im);
	LOAD(&im, bad);
	assert_int_equal(x86_first_call(&im.code, BASE, &call), -EINVAL);
	unload(&im);
}

/* Go's newproc1 storing the new goroutine's id (Go 1.19, as built here): the probe goes on the
 * je after it, where rax still holds the new g. */
UNIT_TEST(test_store_site_newproc1)
{
	static const uint8_t code[] = {
		0x48, 0x8b, 0x8e, 0x80, 0x01, 0x00, 0x00, /* +0  mov 0x180(%rsi),%rcx */
		0x48, 0x89, 0x88, 0x98, 0x00, 0x00, 0x00, /* +7  mov %rcx,0x98(%rax) */
		0x48, 0xff, 0x86, 0x80, 0x01, 0x00, 0x00, /* +14 incq 0x180(%rsi) */
		0x80, 0x3d, 0x10, 0x00, 0x00, 0x00, 0x00, /* +21 cmpb $0,0x10(%rip) */
		0x74, 0x11,				  /* +28 je +0x11 */
		0xc3,					  /* +30 ret */
	};
	struct image im;
	struct x86_site s;
	int base = -1;

	(void)state;
	load_at(&im, 0x441800, code, sizeof(code));
	assert_int_equal(x86_store_site(&im.code, im.vaddr, sizeof(code), 0x98, &s, &base), 0);
	assert_int_equal(base, X86_RAX);
	assert_true(s.vaddr == im.vaddr + 28);
	assert_true(s.offset == PAD + 28);
	assert_true(s.emulated);
	/* another displacement: no such store */
	assert_int_equal(x86_store_site(&im.code, im.vaddr, sizeof(code), 0xa0, &s, &base),
			 -ENOENT);
	/* the function ends before the je: not found in it */
	assert_int_equal(x86_store_site(&im.code, im.vaddr, 21, 0x98, &s, &base), -ENOENT);
	unload(&im);
}

/* `go` statements: the calls of runtime.newproc in a function, found by decoding it, and not
 * the e8 byte that only looks like one inside another instruction. */
UNIT_TEST(test_calls_to_newproc)
{
	/* at 0x45a000; runtime.newproc at 0x442040 */
	static const uint8_t code[] = {
		0x49, 0x3b, 0x66, 0x10,			  /* +0  cmp 0x10(%r14),%rsp */
		0x76, 0x30,				  /* +4  jbe */
		0x48, 0x8d, 0x05, 0x00, 0x00, 0x00, 0x00, /* +6  lea 0(%rip),%rax */
		0xe8, 0x2e, 0x80, 0xfe, 0xff,		  /* +13 call 0x442040 */
		/* +18 movabs $imm,%rax: its immediate holds e8 and a rel32 aimed at newproc */
		0x48, 0xb8, 0xe8, 0x27, 0x80, 0xfe, 0xff, 0x00, 0x00, 0x00, 0xe8, 0x00, 0x00, 0x00,
		0x00,			      /* +28 call +0: elsewhere */
		0xe8, 0x1a, 0x80, 0xfe, 0xff, /* +33 call 0x442040 */
		0xc3,			      /* +38 ret */
	};
	struct image im;
	struct x86_site s[4];

	(void)state;
	load_at(&im, 0x45a000, code, sizeof(code));
	assert_int_equal(x86_calls_to(&im.code, im.vaddr, sizeof(code), 0x442040, s, 4), 2);
	assert_true(s[0].vaddr == im.vaddr + 13);
	assert_true(s[0].offset == PAD + 13);
	assert_true(s[0].emulated);
	assert_true(s[1].vaddr == im.vaddr + 33);
	/* fewer slots than calls: the count still says how many */
	assert_int_equal(x86_calls_to(&im.code, im.vaddr, sizeof(code), 0x442040, s, 1), 2);
	/* the function ends before the second */
	assert_int_equal(x86_calls_to(&im.code, im.vaddr, 33, 0x442040, s, 4), 1);
	assert_int_equal(x86_calls_to(&im.code, im.vaddr, sizeof(code), 0x442000, s, 4), 0);
	assert_int_equal(x86_calls_to(&im.code, 0x1000, 16, 0x442040, s, 4), -EINVAL);
	unload(&im);
}

UNIT_TEST(test_store_site_base_overwritten)
{
	static const uint8_t code[] = {
		0x48, 0x89, 0x88, 0x98, 0x00, 0x00, 0x00, /* mov %rcx,0x98(%rax) */
		0xb8, 0x01, 0x00, 0x00, 0x00,		  /* mov $1,%eax: the g is gone */
		0x74, 0x11,				  /* je */
	};
	static const uint8_t ret_first[] = {
		0x48, 0x89, 0x88, 0x98, 0x00, 0x00, 0x00, /* mov %rcx,0x98(%rax) */
		0xc3,					  /* ret: not emulated, ends the path */
		0x74, 0x11,
	};
	static const uint8_t stack_store[] = {
		0x48, 0x89, 0x8c, 0x24, 0x98, 0x00, 0x00, 0x00, /* mov %rcx,0x98(%rsp): a local */
		0x74, 0x11,
	};
	struct image im;
	struct x86_site s;
	int base = -1;

	(void)state;
	load_at(&im, 0x1000, code, sizeof(code));
	assert_int_equal(x86_store_site(&im.code, im.vaddr, sizeof(code), 0x98, &s, &base),
			 -ENOENT);
	unload(&im);
	load_at(&im, 0x1000, ret_first, sizeof(ret_first));
	assert_int_equal(x86_store_site(&im.code, im.vaddr, sizeof(ret_first), 0x98, &s, &base),
			 -ENOENT);
	unload(&im);
	load_at(&im, 0x1000, stack_store, sizeof(stack_store));
	assert_int_equal(x86_store_site(&im.code, im.vaddr, sizeof(stack_store), 0x98, &s, &base),
			 -ENOENT);
	/* outside the code */
	assert_int_equal(x86_store_site(&im.code, 0x9000, 16, 0x98, &s, &base), -EINVAL);
	unload(&im);
}

/* ---- x86_tail_exits ---- */

static void assert_val(const struct x86_val *v, enum x86_val_kind kind, int reg, uint64_t imm)
{
	assert_int_equal(v->kind, kind);
	if (kind == X86_VAL_ARG)
		assert_int_equal(v->reg, reg);
	if (kind == X86_VAL_CONST)
		assert_true(v->imm == imm);
}

/* gnutls_record_recv's shape: one path calls out (its kTLS branch), the other moves the
 * arguments and jumps to the internal receive with the stack as it came. */
UNIT_TEST(test_tail_exits_gnutls_shape)
{
	static const uint8_t code[] = {
		0x48, 0x83, 0xec, 0x08,	      /* 00 sub $8,%rsp */
		0x48, 0x89, 0xd1,	      /* 04 mov %rdx,%rcx */
		0x85, 0xc0,		      /* 07 test %eax,%eax */
		0x74, 0x0f,		      /* 09 je 1a */
		0x48, 0x89, 0xf2,	      /* 0b mov %rsi,%rdx */
		0xbe, 0x17, 0x00, 0x00, 0x00, /* 0e mov $0x17,%esi */
		0xe8, 0x00, 0x01, 0x00, 0x00, /* 13 call: the path ends */
		0x90, 0x90,		      /* 18 */
		0x48, 0x89, 0xf2,	      /* 1a mov %rsi,%rdx */
		0x45, 0x31, 0xc0,	      /* 1d xor %r8d,%r8d */
		0xbe, 0x17, 0x00, 0x00, 0x00, /* 20 mov $0x17,%esi */
		0x48, 0x83, 0xc4, 0x08,	      /* 25 add $8,%rsp */
		0xe9, 0xd2, 0x0f, 0x00, 0x00, /* 29 jmp 0x2000 */
	};
	struct x86_exit x[4];
	struct image im;

	(void)state;
	LOAD(&im, code);
	assert_int_equal(x86_tail_exits(&im.code, BASE, sizeof(code), x, 4), 1);
	assert_true(x[0].at == BASE + 0x29);
	assert_true(x[0].target == 0x2000);
	assert_true(x[0].sp_known);
	assert_true(x[0].sp == 0);
	assert_val(&x[0].reg[X86_RDI], X86_VAL_ARG, X86_RDI, 0);
	assert_val(&x[0].reg[X86_RDX], X86_VAL_ARG, X86_RSI, 0);
	assert_val(&x[0].reg[X86_RCX], X86_VAL_ARG, X86_RDX, 0);
	assert_val(&x[0].reg[X86_RSI], X86_VAL_CONST, 0, 0x17);
	assert_val(&x[0].reg[X86_R8], X86_VAL_CONST, 0, 0);
	assert_val(&x[0].reg[X86_RAX], X86_VAL_ARG, X86_RAX, 0); /* test writes flags only */
	/* no room for the exit; outside the code */
	assert_int_equal(x86_tail_exits(&im.code, BASE, sizeof(code), x, 0), -E2BIG);
	assert_int_equal(x86_tail_exits(&im.code, 0x9000, 16, x, 4), -EINVAL);
	unload(&im);
}

/* Two paths to one jump, one of which loses the argument: each is its own exit. */
UNIT_TEST(test_tail_exits_each_path)
{
	static const uint8_t code[] = {
		0x85, 0xc0,		      /* 00 test %eax,%eax */
		0x74, 0x05,		      /* 02 je 09 */
		0x48, 0x89, 0xf2,	      /* 04 mov %rsi,%rdx */
		0xeb, 0x04,		      /* 07 jmp 0d */
		0x48, 0x8d, 0x57, 0x08,	      /* 09 lea 0x8(%rdi),%rdx */
		0xe9, 0xee, 0x0f, 0x00, 0x00, /* 0d jmp 0x2000 */
	};
	struct x86_exit x[4];
	struct image im;
	int moved;

	(void)state;
	LOAD(&im, code);
	assert_int_equal(x86_tail_exits(&im.code, BASE, sizeof(code), x, 4), 2);
	assert_true(x[0].at == BASE + 0xd && x[1].at == BASE + 0xd);
	moved = x[0].reg[X86_RDX].kind == X86_VAL_ARG ? 0 : 1;
	assert_val(&x[moved].reg[X86_RDX], X86_VAL_ARG, X86_RSI, 0);
	assert_val(&x[1 - moved].reg[X86_RDX], X86_VAL_UNKNOWN, 0, 0);
	unload(&im);
}

/* A loop is run round once more and cut; push and pop move rsp; 32-bit moves zero-extend
 * constants and lose arguments; a write to rsp other than push, pop, add or sub loses it. */
UNIT_TEST(test_tail_exits_moves)
{
	static const uint8_t loop[] = {
		0xff, 0xc9,		      /* 00 dec %ecx */
		0x75, 0xfc,		      /* 02 jne 00 */
		0x53,			      /* 04 push %rbx */
		0x5b,			      /* 05 pop %rbx */
		0x50,			      /* 06 push %rax */
		0xe9, 0xf4, 0x0f, 0x00, 0x00, /* 07 jmp 0x2000 */
	};
	static const uint8_t moves[] = {
		0x89, 0xf2,				  /* 00 mov %esi,%edx */
		0xbf, 0x05, 0x00, 0x00, 0x00,		  /* 02 mov $5,%edi */
		0x48, 0xc7, 0xc1, 0xff, 0xff, 0xff, 0xff, /* 07 mov $-1,%rcx */
		0xb8, 0xff, 0xff, 0xff, 0xff,		  /* 0e mov $0xffffffff,%eax */
		0x48, 0x89, 0xfe,			  /* 13 mov %rdi,%rsi: now 5 */
		0x48, 0x8d, 0x64, 0x24, 0x08,		  /* 16 lea 0x8(%rsp),%rsp */
		0xe9, 0xe0, 0x0f, 0x00, 0x00,		  /* 1b jmp 0x2000 */
	};
	static const uint8_t jcc_out[] = {
		0x0f, 0x84, 0xfa, 0x0f, 0x00, 0x00, /* 00 je 0x2000 */
		0x31, 0xd2,			    /* 06 xor %edx,%edx */
		0xe9, 0xf3, 0x0f, 0x00, 0x00,	    /* 08 jmp 0x2000 */
	};
	struct x86_exit x[4];
	struct image im;
	int i;

	(void)state;
	LOAD(&im, loop);
	assert_int_equal(x86_tail_exits(&im.code, BASE, sizeof(loop), x, 4), 2);
	for (i = 0; i < 2; i++) {
		assert_true(x[i].sp_known && x[i].sp == -8);
		assert_val(&x[i].reg[X86_RBX], X86_VAL_UNKNOWN, 0, 0);
		assert_val(&x[i].reg[X86_RCX], X86_VAL_UNKNOWN, 0, 0);
		assert_val(&x[i].reg[X86_RAX], X86_VAL_ARG, X86_RAX, 0);
	}
	unload(&im);
	LOAD(&im, moves);
	assert_int_equal(x86_tail_exits(&im.code, BASE, sizeof(moves), x, 4), 1);
	assert_val(&x[0].reg[X86_RDX], X86_VAL_UNKNOWN, 0, 0);
	assert_val(&x[0].reg[X86_RDI], X86_VAL_CONST, 0, 5);
	assert_val(&x[0].reg[X86_RCX], X86_VAL_CONST, 0, ~0ull);
	assert_val(&x[0].reg[X86_RAX], X86_VAL_CONST, 0, 0xffffffffull);
	assert_val(&x[0].reg[X86_RSI], X86_VAL_CONST, 0, 5);
	assert_false(x[0].sp_known);
	unload(&im);
	/* a jcc out of the function is an exit, and its path goes on */
	LOAD(&im, jcc_out);
	assert_int_equal(x86_tail_exits(&im.code, BASE, sizeof(jcc_out), x, 4), 2);
	assert_true(x[0].at == BASE && x[1].at == BASE + 8);
	assert_val(&x[0].reg[X86_RDX], X86_VAL_ARG, X86_RDX, 0);
	assert_val(&x[1].reg[X86_RDX], X86_VAL_CONST, 0, 0);
	unload(&im);
}

/* Branches that double the paths at each step are bounded, not followed for ever. */
UNIT_TEST(test_tail_exits_bounded)
{
	uint8_t code[129];
	struct x86_exit x[4];
	struct image im;
	int i;

	(void)state;
	for (i = 0; i < 64; i++) { /* je +0: both ways lead to the next one */
		code[2 * i] = 0x74;
		code[2 * i + 1] = 0x00;
	}
	code[128] = 0xc3;
	LOAD(&im, code);
	assert_int_equal(x86_tail_exits(&im.code, BASE, sizeof(code), x, 4), -E2BIG);
	unload(&im);
	/* a function that returns at once leaves by no jump */
	code[0] = 0xc3;
	load_at(&im, BASE, code, 1);
	assert_int_equal(x86_tail_exits(&im.code, BASE, 1, x, 4), 0);
	unload(&im);
}

UNIT_MAIN(NULL, NULL)
