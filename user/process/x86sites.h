/* SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause) */
/*
 * Where a uprobe costs least on x86-64. The kernel runs the instruction under a uprobe one of
 * two ways (arch/x86/kernel/uprobes.c): it emulates relative calls and jumps, conditional
 * jumps, `nop` and, on kernels that have push_emulate_op() (2024 on), `push reg` (~0.6 us a hit
 * measured on a bare machine), and single-steps every other instruction out of line, a second
 * trap (~25 us here). Functions mostly start with an
 * instruction of the second kind (`sub $N,%rsp`, Go's stack check `cmp 0x10(%r14),%rsp`). This
 * module decodes a function's first instructions (capstone) to find an emulated one that still
 * sees the arguments a probe reads, and what the function calls first. Pure: bytes in, facts
 * out; never reads outside the ranges it is given.
 */
#ifndef OBSPROBE_X86SITES_H
#define OBSPROBE_X86SITES_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* General-purpose registers, in the hardware's numbering; masks of them (X86_REG()) say which
 * a probe reads or an instruction writes, whatever part of the register it names. */
enum x86_gpr {
	X86_RAX,
	X86_RCX,
	X86_RDX,
	X86_RBX,
	X86_RSP,
	X86_RBP,
	X86_RSI,
	X86_RDI,
	X86_R8,
	X86_R9,
	X86_R10,
	X86_R11,
	X86_R12,
	X86_R13,
	X86_R14,
	X86_R15,
	X86_GPR_COUNT,
};
#define X86_REG(r) (1u << (r))

/* What the kernel emulates beyond relative branches and the one-byte nop, which all do. */
#define X86_EMUL_PUSH 0x1 /* push of a register */

#define X86_MAX_RANGES 8
#define X86_MAX_INSNS 48 /* instructions looked at from a function's entry */

/* The executable bytes of an image, by virtual address: ranges of buf (a file image) loaded
 * at vaddr. */
struct x86_code {
	const uint8_t *buf;
	size_t len;
	struct x86_range {
		uint64_t vaddr, size, offset;
	} range[X86_MAX_RANGES];
	size_t nrange;
	unsigned int emulates; /* X86_EMUL_*: what the running kernel emulates besides branches */
};

/* One instruction a probe may sit on. */
struct x86_site {
	uint64_t vaddr;
	uint64_t offset; /* in the file image */
	bool emulated;
	/* the `jbe` of Go's stack check (after `cmp 0x10(%r14), ...`): when it jumps, to
	 * morestack, the function starts over and a probe here hits twice (x86_entry_site) */
	bool stack_check;
	char insn[64]; /* AT&T syntax, capstone's spelling ("subq $0x18, %rsp") */
};

/* The first direct call or jump on a function's straight path. */
struct x86_call {
	uint64_t at;	  /* the instruction's address */
	uint64_t target;  /* where it goes */
	uint32_t written; /* registers written on the way from the entry to it */
	bool tail;	  /* a jump: the target returns to the function's caller */
};

typedef struct Elf Elf;
/* The executable load segments of the ELF image e, read from buf (its len bytes): 0, or
 * -EINVAL when it has none. */
/* The decoder (capstone, loaded when a walk needs it) closed when no walk has run for 10 s by
 * now_ns (CLOCK_MONOTONIC): true when it was. Walks load it again as needed. */
bool x86_decoder_idle(uint64_t now_ns);

int x86_code_from_elf(Elf *e, const void *buf, size_t len, struct x86_code *code);
/* Adds [vaddr, vaddr + size) at file offset offset to c: 0, or -EINVAL when the range lies
 * outside c->buf or c is full. */
int x86_code_add(struct x86_code *c, uint64_t vaddr, uint64_t size, uint64_t offset);

/* Whether the kernel emulates the instruction starting at p (n bytes available) rather than
 * single-stepping it; emulates: X86_EMUL_* the kernel has. Conservative: a form only some
 * kernels emulate (the multi-byte nops, 6.16 on) is "no" unless emulates says otherwise. */
bool x86_emulated(const uint8_t *p, size_t n, unsigned int emulates);

/* The instruction at vaddr: 0, or -EINVAL outside c or for bytes that decode to none. */
int x86_site_at(const struct x86_code *c, uint64_t vaddr, struct x86_site *out);

/* For a probe that reads only registers of needs and no return value: the first emulated
 * instruction that every call of the function at fn executes (its entry up to and including
 * the first branch, call or return) and that no instruction before it has written a register
 * of needs by; the entry itself, emulated or not, when there is none. 0 or -EINVAL. */
int x86_entry_site(const struct x86_code *c, uint64_t fn, uint32_t needs, struct x86_site *out);

/* The first direct call or jump on the path from fn that conditional branches do not take
 * (a guard's error exit aside): 0, -ENOENT when a return, an indirect branch or
 * X86_MAX_INSNS instructions come first, -EINVAL for bytes outside c or undecodable. */
int x86_first_call(const struct x86_code *c, uint64_t fn, struct x86_call *out);

/* After the first 8-byte store of a register to disp(%base) in the function [fn, fn + size)
 * (Go's newproc1 storing the new goroutine's id, `mov %rcx, 0x98(%rax)`): the first emulated
 * instruction that follows it on the straight path before anything writes base, and base
 * (enum x86_gpr). 0, -ENOENT when there is no such store or site, -EINVAL outside c. */
int x86_store_site(const struct x86_code *c, uint64_t fn, uint64_t size, int64_t disp,
		   struct x86_site *out, int *base);
/* The direct calls (`call rel32`) to target in the function [fn, fn + size), decoded from its
 * entry to its end: the first max of them into out, and how many there are (Go's `go`
 * statements are calls of runtime.newproc). -EINVAL outside c. */
int x86_calls_to(const struct x86_code *c, uint64_t fn, uint64_t size, uint64_t target,
		 struct x86_site *out, size_t max);
/* What a register holds at a point of a function, in terms of the function's entry. */
enum x86_val_kind {
	X86_VAL_UNKNOWN = 0,
	X86_VAL_ARG,   /* the whole 64-bit value register reg held at the entry */
	X86_VAL_CONST, /* imm */
};
struct x86_val {
	uint8_t kind; /* enum x86_val_kind */
	uint8_t reg;  /* X86_VAL_ARG: enum x86_gpr */
	uint64_t imm; /* X86_VAL_CONST */
};

/* A jump out of a function (a tail call), with the registers as one path to it leaves them. */
struct x86_exit {
	uint64_t at, target;
	bool sp_known;
	int64_t sp;			   /* rsp minus rsp at the entry, when sp_known */
	struct x86_val reg[X86_GPR_COUNT]; /* [X86_RSP] always ARG: rsp is sp above */
};

#define X86_MAX_EXIT_INSNS 1024 /* instructions decoded over all paths of one function */

/* Every path through the function [fn, fn + size) from its entry, both ways at each
 * conditional branch, followed until it returns, calls out, branches indirectly, or jumps out
 * of the function: each jump out (once per path that reaches it, with that path's registers)
 * into out, up to max. Registers are followed through register and immediate moves (`mov`,
 * 32-bit forms zero-extending, `xor r,r`), and rsp through push, pop and add/sub of an
 * immediate; any other write makes a register unknown. A path that comes back to an
 * instruction it ran is cut there. Returns how many exits there are, -E2BIG when more than max
 * or X86_MAX_EXIT_INSNS instructions in all, -EINVAL outside c or for undecodable bytes. */
int x86_tail_exits(const struct x86_code *c, uint64_t fn, uint64_t size, struct x86_exit *out,
		   size_t max);

/* The memory slot a PLT entry at vaddr jumps through (`jmp *disp(%rip)`, after an endbr64 and
 * with or without a bnd prefix): 0, or -ENOENT when the code there is no such jump. */
int x86_plt_slot(const struct x86_code *c, uint64_t vaddr, uint64_t *slot);

#endif /* OBSPROBE_X86SITES_H */
