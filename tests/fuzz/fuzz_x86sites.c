// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/*
 * Input: one byte saying which registers a probe reads (bit i: the i-th of needs_of[]), then
 * machine code, loaded at CODE_VADDR from file offset 1 of the input itself (libFuzzer's copy
 * ends where the input does, so ASan sees any read past the range).
 * Besides the sanitizers, checks that every site and call lies inside the code, that a site's
 * file offset is its address's, that `emulated` is x86_emulated() of the bytes there, that a
 * site past the entry is emulated and no later than the one chosen for fewer needs, and that a
 * reported e8/e9/eb call or jump goes where its displacement says. And, decoding the way there
 * here by mnemonic (not by capstone's groups, which x86sites.c reads): that a site or call
 * starts an instruction of the function's straight path, and that no branch comes before a
 * site, nor a jump, call or return before a call.
 * tests/fuzz/corpus/fuzz_x86sites.py writes the seed corpus.
 */
#include <assert.h>
#include <capstone/capstone.h>
#include <errno.h>
#include <stdbool.h>
#include <stdint.h>
#include <string.h>

#include "process/x86sites.h"

#define CODE_VADDR 0x1000

static const enum x86_gpr needs_of[8] = {
	X86_RDI, X86_RSI, X86_RDX, X86_RCX, X86_R8, X86_R9, X86_RAX, X86_RBX,
};

struct input {
	struct x86_code code;
	const uint8_t *bytes; /* the code: bytes[i] is at CODE_VADDR + i */
	size_t n;
};

static bool inside(const struct input *in, uint64_t vaddr)
{
	return vaddr >= CODE_VADDR && vaddr - CODE_VADDR < in->n;
}

/* Leave the straight path for good, or may: jumps, calls, returns, traps. */
static const char *const ends[] = { "jmp",  "ljmp", "call", "lcall", "ret", "lret",
				    "iret", "int",  "sys",  "ud",    "hlt", NULL };
/* Leave it or not, by a condition. */
static const char *const conditional[] = { "j", "loop", "xbegin", NULL };

static bool starts_with_one(const char *word, const char *const *names)
{
	for (; *names; names++)
		if (!strncmp(word, *names, strlen(*names)))
			return true;
	return false;
}

/* Whether a word of a mnemonic ("bnd jmp": "bnd", "jmp") starts with one of names. */
static bool mnemonic_has(const char *mnemonic, const char *const *names)
{
	const char *w;

	for (w = mnemonic; w; w = strchr(w, ' '), w = w ? w + 1 : NULL)
		if (starts_with_one(w, names))
			return true;
	return false;
}

/* Decodes the function at fn up to the instruction at stop: false when stop starts none of
 * the first X86_MAX_INSNS instructions or one before it meets a mnemonic of names. */
static bool straight_to(const struct input *in, uint64_t fn, uint64_t stop,
			const char *const *names, const char *const *more)
{
	static csh cs;
	static cs_insn *insn;
	const uint8_t *p = in->bytes + (fn - CODE_VADDR);
	size_t avail = in->n - (fn - CODE_VADDR);
	uint64_t addr = fn;
	int k;

	if (!cs) {
		assert(cs_open(CS_ARCH_X86, CS_MODE_64, &cs) == CS_ERR_OK);
		cs_option(cs, CS_OPT_SYNTAX, CS_OPT_SYNTAX_ATT);
		insn = cs_malloc(cs);
		assert(insn);
	}
	for (k = 0; k < X86_MAX_INSNS && addr < stop; k++) {
		if (!cs_disasm_iter(cs, &p, &avail, &addr, insn))
			return false;
		if (mnemonic_has(insn->mnemonic, names) ||
		    (more && mnemonic_has(insn->mnemonic, more)))
			return false;
	}
	return addr == stop;
}

static void check_site(const struct input *in, const struct x86_site *s)
{
	uint64_t i = s->vaddr - CODE_VADDR;

	assert(inside(in, s->vaddr));
	assert(s->offset == i + 1);
	assert(s->emulated == x86_emulated(in->bytes + i, in->n - i, in->code.emulates));
	assert(memchr(s->insn, '\0', sizeof(s->insn)) && s->insn[0]);
}

static void check_site_at(const struct input *in, uint64_t vaddr)
{
	struct x86_site s;
	int err = x86_site_at(&in->code, vaddr, &s);

	assert(err == 0 || err == -EINVAL);
	if (!inside(in, vaddr))
		assert(err == -EINVAL);
	if (err)
		return;
	assert(s.vaddr == vaddr);
	check_site(in, &s);
}

/* The site for needs at fn; fn's own instruction decodes (or -EINVAL). */
static int check_entry_site(const struct input *in, uint64_t fn, uint32_t needs, struct x86_site *s)
{
	struct x86_site first;
	int err = x86_entry_site(&in->code, fn, needs, s);

	assert(err == 0 || err == -EINVAL);
	assert(!err == !x86_site_at(&in->code, fn, &first));
	if (err)
		return err;
	check_site(in, s);
	assert(s->vaddr >= fn);
	/* past the entry only for an emulated instruction, and the entry only when it is one or
	 * there is none */
	if (s->vaddr != fn)
		assert(s->emulated && !first.emulated);
	if (first.emulated)
		assert(s->vaddr == fn);
	assert(straight_to(in, fn, s->vaddr, ends, conditional));
	return 0;
}

static void check_first_call(const struct input *in, uint64_t fn)
{
	struct x86_call call;
	struct x86_site s;
	uint64_t i;
	int err = x86_first_call(&in->code, fn, &call);

	assert(err == 0 || err == -ENOENT || err == -EINVAL);
	if (x86_site_at(&in->code, fn, &s))
		assert(err == -EINVAL);
	if (err)
		return;
	assert(inside(in, call.at) && call.at >= fn);
	assert(straight_to(in, fn, call.at, ends, NULL));
	if (call.at == fn)
		assert(call.written == 0);
	assert(x86_site_at(&in->code, call.at, &s) == 0);
	assert(strstr(s.insn, call.tail ? "jmp" : "call"));
	i = call.at - CODE_VADDR;
	if (in->bytes[i] == 0xe8 || in->bytes[i] == 0xe9) {
		int32_t rel;

		memcpy(&rel, in->bytes + i + 1, sizeof(rel));
		assert(call.tail == (in->bytes[i] == 0xe9));
		assert(call.target == call.at + 5 + (uint64_t)(int64_t)rel);
	} else if (in->bytes[i] == 0xeb) {
		assert(call.tail);
		assert(call.target == call.at + 2 + (uint64_t)(int64_t)(int8_t)in->bytes[i + 1]);
	}
}

/* x86_tail_exits() over the whole input: each exit is a jump out of the function from inside
 * it, to where its bytes say; a value followed from a register names a register. */
static void check_tail_exits(const struct input *in, uint64_t size)
{
	struct x86_exit x[4];
	int n = x86_tail_exits(&in->code, CODE_VADDR, size, x, 4), i, k;

	assert(n == -E2BIG || n == -EINVAL || (n >= 0 && n <= 4));
	for (i = 0; i < n; i++) {
		uint64_t at = x[i].at - CODE_VADDR;
		struct x86_site s;

		assert(x[i].at >= CODE_VADDR && at < size);
		assert(x[i].target < CODE_VADDR || x[i].target - CODE_VADDR >= size);
		assert(x86_site_at(&in->code, x[i].at, &s) == 0);
		for (k = 0; k < X86_GPR_COUNT; k++) {
			assert(x[i].reg[k].kind <= X86_VAL_CONST);
			assert(x[i].reg[k].kind != X86_VAL_ARG || x[i].reg[k].reg < X86_GPR_COUNT);
		}
		assert(x[i].reg[X86_RSP].kind == X86_VAL_ARG && x[i].reg[X86_RSP].reg == X86_RSP);
	}
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct input in = { .code = { .buf = data, .len = size } };
	struct x86_site s, s0;
	uint32_t needs = 0;
	unsigned int i;

	if (size < 1)
		return 0;
	in.bytes = data + 1;
	in.n = size - 1;
	for (i = 0; i < 8; i++)
		if (data[0] & (1u << i))
			needs |= X86_REG(needs_of[i]);
	assert(x86_code_add(&in.code, CODE_VADDR, in.n, 1) == 0);
	in.code.emulates = size & 1 ? X86_EMUL_PUSH : 0; /* a kernel with and one without */

	if (check_entry_site(&in, CODE_VADDR, needs, &s) == 0) {
		/* fewer needs, no later site: what disqualified nothing before still does not */
		assert(check_entry_site(&in, CODE_VADDR, 0, &s0) == 0);
		assert(s.vaddr == CODE_VADDR || s0.vaddr <= s.vaddr);
		check_site_at(&in, s.vaddr);
	}
	check_first_call(&in, CODE_VADDR);
	check_tail_exits(&in, in.n);
	if (in.n > 1) {
		check_entry_site(&in, CODE_VADDR + in.n / 2, needs, &s);
		check_first_call(&in, CODE_VADDR + in.n / 2);
	}
	check_site_at(&in, CODE_VADDR);
	check_site_at(&in, CODE_VADDR + in.n / 2);
	check_site_at(&in, CODE_VADDR + in.n - 1);
	check_site_at(&in, CODE_VADDR + in.n);
	check_site_at(&in, CODE_VADDR - 1);
	return 0;
}
