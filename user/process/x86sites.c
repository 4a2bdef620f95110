// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
#include "process/x86sites.h"

#include <capstone/capstone.h>
#include <dlfcn.h>
#include <gelf.h>
#include <errno.h>
#include <pthread.h>
#include <stdio.h>
#include <string.h>

#include "util/clock.h"
#include "util/dl.h"
#include "util/log.h"

/*
 * capstone, opened when a walk needs it and closed by x86_decoder_idle() once no walk has run
 * for a while: linking it would load it at start and keep it, and its 75,000 relocations put
 * ~4.7 MiB in obsprobe's RSS for a decoder used only when uprobes are placed. dl_open() gives
 * back the 1.8 MiB of the relocation table once they are applied; the relocated tables (1.7
 * MiB, every architecture's) stay while it is open.
 */
#define CAPSTONE_SONAME "libcapstone.so.4"
#define DECODER_IDLE_NS 10000000000ull /* 10 s */

static struct {
	pthread_mutex_t lock;
	void *lib;
	unsigned int walks; /* open now */
	uint64_t last_ns;   /* when the last walk closed */
	cs_err (*open)(cs_arch, cs_mode, csh *);
	cs_err (*option)(csh, cs_opt_type, size_t);
	cs_insn *(*malloc)(csh);
	void (*free)(cs_insn *, size_t);
	cs_err (*close)(csh *);
	bool (*disasm_iter)(csh, const uint8_t **, size_t *, uint64_t *, cs_insn *);
	cs_err (*regs_access)(csh, const cs_insn *, cs_regs, uint8_t *, cs_regs, uint8_t *);
} cs = { .lock = PTHREAD_MUTEX_INITIALIZER };

/* One more walk: capstone loaded if it is not. Lock held. */
static bool decoder_get(void)
{
	if (!cs.lib) {
		cs.lib = dl_open(CAPSTONE_SONAME);
		if (!cs.lib) {
			log_warn("cannot load the x86 decoder: %s", dlerror());
			return false;
		}
		if (!dl_sym(cs.lib, "cs_open", &cs.open) ||
		    !dl_sym(cs.lib, "cs_option", &cs.option) ||
		    !dl_sym(cs.lib, "cs_malloc", &cs.malloc) ||
		    !dl_sym(cs.lib, "cs_free", &cs.free) ||
		    !dl_sym(cs.lib, "cs_close", &cs.close) ||
		    !dl_sym(cs.lib, "cs_disasm_iter", &cs.disasm_iter) ||
		    !dl_sym(cs.lib, "cs_regs_access", &cs.regs_access)) {
			log_warn("cannot load the x86 decoder: %s lacks a function",
				 CAPSTONE_SONAME);
			dlclose(cs.lib);
			cs.lib = NULL;
			return false;
		}
	}
	cs.walks++;
	return true;
}

bool x86_decoder_idle(uint64_t now_ns)
{
	bool closed = false;

	pthread_mutex_lock(&cs.lock);
	if (cs.lib && !cs.walks && now_ns - cs.last_ns >= DECODER_IDLE_NS) {
		dlclose(cs.lib);
		cs.lib = NULL;
		closed = true;
	}
	pthread_mutex_unlock(&cs.lock);
	return closed;
}

int x86_code_from_elf(Elf *e, const void *buf, size_t len, struct x86_code *code)
{
	size_t i, n;

	memset(code, 0, sizeof(*code));
	code->buf = buf;
	code->len = len;
	if (elf_getphdrnum(e, &n))
		return -EINVAL;
	for (i = 0; i < n; i++) {
		GElf_Phdr ph;

		if (gelf_getphdr(e, (int)i, &ph) && ph.p_type == PT_LOAD && (ph.p_flags & PF_X))
			x86_code_add(code, ph.p_vaddr, ph.p_filesz, ph.p_offset);
	}
	return code->nrange ? 0 : -EINVAL;
}

int x86_code_add(struct x86_code *c, uint64_t vaddr, uint64_t size, uint64_t offset)
{
	if (c->nrange == X86_MAX_RANGES || offset > c->len || size > c->len - offset ||
	    vaddr + size < vaddr)
		return -EINVAL;
	c->range[c->nrange++] = (struct x86_range){ vaddr, size, offset };
	return 0;
}

/* The bytes at vaddr up to the end of its range; NULL outside every range. */
static const uint8_t *code_at(const struct x86_code *c, uint64_t vaddr, size_t *avail,
			      uint64_t *offset)
{
	size_t i;

	for (i = 0; i < c->nrange; i++) {
		const struct x86_range *r = &c->range[i];

		if (vaddr >= r->vaddr && vaddr - r->vaddr < r->size) {
			*avail = r->size - (vaddr - r->vaddr);
			*offset = r->offset + (vaddr - r->vaddr);
			return c->buf + *offset;
		}
	}
	return NULL;
}

/*
 * What the kernel's branch_setup_xol_ops() and push_setup_xol_ops() take: jmp rel8/rel32, call
 * rel32, jcc rel8/rel32, a one-byte nop, push of a register (41 as the only prefix, for
 * r8..r15). Any other prefix is "no": some kernels refuse 66-prefixed branches, and newer ones
 * alone emulate the multi-byte nops.
 */
bool x86_emulated(const uint8_t *p, size_t n, unsigned int emulates)
{
	bool push = emulates & X86_EMUL_PUSH;

	if (n == 0)
		return false;
	if (p[0] == 0xe8 || p[0] == 0xe9 || p[0] == 0xeb || p[0] == 0x90)
		return true;
	if ((p[0] >= 0x70 && p[0] <= 0x7f) || (push && p[0] >= 0x50 && p[0] <= 0x57))
		return true;
	if (n >= 2 && p[0] == 0x0f && p[1] >= 0x80 && p[1] <= 0x8f)
		return true;
	return push && n >= 2 && p[0] == 0x41 && p[1] >= 0x50 && p[1] <= 0x57;
}

/* Capstone's names for each general-purpose register and its parts (0: none). */
static const unsigned int gpr_parts[X86_GPR_COUNT][5] = {
	[X86_RAX] = { X86_REG_RAX, X86_REG_EAX, X86_REG_AX, X86_REG_AL, X86_REG_AH },
	[X86_RCX] = { X86_REG_RCX, X86_REG_ECX, X86_REG_CX, X86_REG_CL, X86_REG_CH },
	[X86_RDX] = { X86_REG_RDX, X86_REG_EDX, X86_REG_DX, X86_REG_DL, X86_REG_DH },
	[X86_RBX] = { X86_REG_RBX, X86_REG_EBX, X86_REG_BX, X86_REG_BL, X86_REG_BH },
	[X86_RSP] = { X86_REG_RSP, X86_REG_ESP, X86_REG_SP, X86_REG_SPL },
	[X86_RBP] = { X86_REG_RBP, X86_REG_EBP, X86_REG_BP, X86_REG_BPL },
	[X86_RSI] = { X86_REG_RSI, X86_REG_ESI, X86_REG_SI, X86_REG_SIL },
	[X86_RDI] = { X86_REG_RDI, X86_REG_EDI, X86_REG_DI, X86_REG_DIL },
	[X86_R8] = { X86_REG_R8, X86_REG_R8D, X86_REG_R8W, X86_REG_R8B },
	[X86_R9] = { X86_REG_R9, X86_REG_R9D, X86_REG_R9W, X86_REG_R9B },
	[X86_R10] = { X86_REG_R10, X86_REG_R10D, X86_REG_R10W, X86_REG_R10B },
	[X86_R11] = { X86_REG_R11, X86_REG_R11D, X86_REG_R11W, X86_REG_R11B },
	[X86_R12] = { X86_REG_R12, X86_REG_R12D, X86_REG_R12W, X86_REG_R12B },
	[X86_R13] = { X86_REG_R13, X86_REG_R13D, X86_REG_R13W, X86_REG_R13B },
	[X86_R14] = { X86_REG_R14, X86_REG_R14D, X86_REG_R14W, X86_REG_R14B },
	[X86_R15] = { X86_REG_R15, X86_REG_R15D, X86_REG_R15W, X86_REG_R15B },
};

/* The general-purpose register reg is part of, or -1 (rip, flags, vector registers). */
static int gpr_of(unsigned int reg)
{
	int r, i;

	for (r = 0; r < X86_GPR_COUNT; r++)
		for (i = 0; i < 5 && gpr_parts[r][i]; i++)
			if (gpr_parts[r][i] == reg)
				return r;
	return -1;
}

/* A decoder walking one function's first instructions. */
struct walk {
	bool held; /* counted in cs.walks */
	csh cs;
	cs_insn *insn;
	const uint8_t *p;
	size_t avail;
	uint64_t vaddr, offset;
};

static void walk_close(struct walk *w);

static int walk_open(struct walk *w, const struct x86_code *c, uint64_t vaddr, bool detail)
{
	bool ok;

	memset(w, 0, sizeof(*w));
	w->p = code_at(c, vaddr, &w->avail, &w->offset);
	if (!w->p)
		return -EINVAL;
	pthread_mutex_lock(&cs.lock);
	ok = decoder_get();
	pthread_mutex_unlock(&cs.lock);
	if (!ok)
		return -ENOSYS;
	w->held = true;
	if (cs.open(CS_ARCH_X86, CS_MODE_64, &w->cs) != CS_ERR_OK) {
		walk_close(w);
		return -EINVAL;
	}
	cs.option(w->cs, CS_OPT_SYNTAX, CS_OPT_SYNTAX_ATT);
	if (detail)
		cs.option(w->cs, CS_OPT_DETAIL, CS_OPT_ON);
	w->insn = cs.malloc(w->cs);
	if (!w->insn) {
		walk_close(w);
		return -EINVAL;
	}
	w->vaddr = vaddr;
	return 0;
}

static void walk_close(struct walk *w)
{
	if (w->insn)
		cs.free(w->insn, 1);
	if (w->cs)
		cs.close(&w->cs);
	if (!w->held)
		return;
	w->held = false;
	pthread_mutex_lock(&cs.lock);
	cs.walks--;
	cs.last_ns = clock_mono_ns();
	pthread_mutex_unlock(&cs.lock);
}

/* Decodes the next instruction: false at the end of the range or on bytes that decode to none. */
static bool walk_next(struct walk *w, uint64_t *at, uint64_t *offset)
{
	const uint8_t *p = w->p;
	uint64_t addr = w->vaddr;

	*at = w->vaddr;
	*offset = w->offset;
	if (!cs.disasm_iter(w->cs, &p, &w->avail, &addr, w->insn))
		return false;
	w->offset += (uint64_t)(p - w->p);
	w->p = p;
	w->vaddr = addr;
	return true;
}

static void describe(const struct x86_code *c, const cs_insn *in, struct x86_site *out, uint64_t at,
		     uint64_t offset, const uint8_t *bytes)
{
	out->vaddr = at;
	out->offset = offset;
	out->emulated = x86_emulated(bytes, in->size, c->emulates);
	out->stack_check = false;
	snprintf(out->insn, sizeof(out->insn), "%s%s%s", in->mnemonic, in->op_str[0] ? " " : "",
		 in->op_str);
}

int x86_site_at(const struct x86_code *c, uint64_t vaddr, struct x86_site *out)
{
	struct walk w;
	uint64_t at, off;
	const uint8_t *bytes;
	int err = walk_open(&w, c, vaddr, false);

	if (err)
		return err;
	bytes = w.p;
	if (walk_next(&w, &at, &off))
		describe(c, w.insn, out, at, off, bytes);
	else
		err = -EINVAL;
	walk_close(&w);
	return err;
}

/* Registers the instruction writes, explicitly or not. */
static uint32_t writes(csh h, const cs_insn *in)
{
	cs_regs rd, wr;
	uint8_t nrd = 0, nwr = 0, i;
	uint32_t mask = 0;

	if (cs.regs_access(h, in, rd, &nrd, wr, &nwr) != CS_ERR_OK)
		return ~0u; /* unknown: as if it wrote everything */
	for (i = 0; i < nwr; i++) {
		int r = gpr_of(wr[i]);

		if (r >= 0)
			mask |= X86_REG((unsigned)r);
	}
	return mask;
}

enum flow { FLOW_NONE, FLOW_JCC, FLOW_JMP, FLOW_CALL, FLOW_END };

/* How the instruction changes the flow; *target for a direct jump or call. */
static enum flow flow_of(const cs_insn *in, uint64_t *target)
{
	const cs_detail *d = in->detail;
	bool jump = false, call = false, end = false, relative = false;
	uint8_t i;

	for (i = 0; i < d->groups_count; i++) {
		switch (d->groups[i]) {
		case X86_GRP_JUMP:
			jump = true;
			break;
		case X86_GRP_CALL:
			call = true;
			break;
		case X86_GRP_RET:
		case X86_GRP_IRET:
		case X86_GRP_INT:
		case X86_GRP_PRIVILEGE: /* faults in user space */
			end = true;
			break;
		case X86_GRP_BRANCH_RELATIVE:
			relative = true;
			break;
		}
	}
	/* ud0 (0f ff) and ud1 (capstone 4 calls it ud2b) fault as ud2 does */
	if (in->id == X86_INS_UD2 || in->id == X86_INS_UD2B || in->id == X86_INS_UD0 ||
	    in->id == X86_INS_HLT)
		end = true;
	if (end)
		return FLOW_END;
	/* loop, loope, loopne: capstone 4 files them as relative branches only; they jump or
	 * fall through as a jcc does */
	if (relative && !jump && !call)
		jump = true;
	if (!jump && !call)
		return FLOW_NONE;
	if (!relative || d->x86.op_count != 1 || d->x86.operands[0].type != X86_OP_IMM)
		return FLOW_END; /* indirect: where it goes is not in the code */
	*target = (uint64_t)d->x86.operands[0].imm;
	if (call)
		return FLOW_CALL;
	return in->id == X86_INS_JMP ? FLOW_JMP : FLOW_JCC;
}

/* Go's stack check: a compare with the running g's stackguard0, 0x10(%r14) */
static bool stack_guard_cmp(const cs_insn *in)
{
	const cs_x86 *x = &in->detail->x86;
	uint8_t i;

	if (in->id != X86_INS_CMP)
		return false;
	for (i = 0; i < x->op_count; i++)
		if (x->operands[i].type == X86_OP_MEM && x->operands[i].mem.base == X86_REG_R14 &&
		    x->operands[i].mem.index == X86_REG_INVALID && x->operands[i].mem.disp == 0x10)
			return true;
	return false;
}

int x86_entry_site(const struct x86_code *c, uint64_t fn, uint32_t needs, struct x86_site *out)
{
	struct walk w;
	uint32_t written = 0;
	uint64_t at, off, target;
	bool found = false, first = true, guard = false;
	int n, err = walk_open(&w, c, fn, true);

	if (err)
		return err;
	for (n = 0; n < X86_MAX_INSNS; n++) {
		const uint8_t *bytes = w.p;
		enum flow f;

		if (!walk_next(&w, &at, &off)) {
			err = first ? -EINVAL : 0;
			break;
		}
		if (first || (!found && x86_emulated(bytes, w.insn->size, c->emulates) &&
			      !(written & needs))) {
			describe(c, w.insn, out, at, off, bytes);
			out->stack_check = guard && w.insn->id == X86_INS_JBE;
			found = !first || out->emulated;
			first = false;
		}
		if (found)
			break;
		guard = stack_guard_cmp(w.insn);
		written |= writes(w.cs, w.insn);
		f = flow_of(w.insn, &target);
		if (f != FLOW_NONE)
			break;
	}
	walk_close(&w);
	return err;
}

int x86_first_call(const struct x86_code *c, uint64_t fn, struct x86_call *out)
{
	struct walk w;
	uint32_t written = 0;
	uint64_t at, off, target = 0;
	int n, err = walk_open(&w, c, fn, true);

	if (err)
		return err;
	err = -ENOENT;
	for (n = 0; n < X86_MAX_INSNS; n++) {
		enum flow f;

		if (!walk_next(&w, &at, &off)) {
			err = -EINVAL;
			break;
		}
		f = flow_of(w.insn, &target);
		if (f == FLOW_CALL || f == FLOW_JMP) {
			*out = (struct x86_call){ at, target, written, f == FLOW_JMP };
			err = 0;
			break;
		}
		if (f == FLOW_END)
			break;
		written |= writes(w.cs, w.insn); /* a jcc writes nothing: walk on past it */
	}
	walk_close(&w);
	return err;
}

/* An 8-byte store of a register to disp(%base), no index: the base register, else -1. */
static int store_base(const cs_insn *in, int64_t disp)
{
	const cs_x86 *x = &in->detail->x86;
	const cs_x86_op *dst;
	int base;

	if (in->id != X86_INS_MOV || x->op_count != 2)
		return -1;
	/* AT&T and Intel orders differ; the memory operand is the destination either way */
	dst = x->operands[0].type == X86_OP_MEM ? &x->operands[0] : &x->operands[1];
	if (dst->type != X86_OP_MEM || dst->size != 8 || dst->mem.disp != disp ||
	    dst->mem.index != X86_REG_INVALID || dst->mem.segment != X86_REG_INVALID ||
	    (x->operands[0].type != X86_OP_REG && x->operands[1].type != X86_OP_REG))
		return -1;
	base = gpr_of(dst->mem.base);
	return base == X86_RSP ? -1 : base;
}

int x86_store_site(const struct x86_code *c, uint64_t fn, uint64_t size, int64_t disp,
		   struct x86_site *out, int *base)
{
	struct walk w;
	uint64_t at, off, target;
	int b = -1, n = 0, err = walk_open(&w, c, fn, true);

	if (err)
		return err;
	err = -ENOENT;
	while (w.vaddr < fn + size && walk_next(&w, &at, &off)) {
		const uint8_t *bytes = w.p - w.insn->size;

		if (b < 0) {
			b = store_base(w.insn, disp);
			continue;
		}
		if (x86_emulated(bytes, w.insn->size, c->emulates)) {
			describe(c, w.insn, out, at, off, bytes);
			*base = b;
			err = 0;
			break;
		}
		/* the store's base must still hold the object, on the straight path */
		if ((writes(w.cs, w.insn) & X86_REG((unsigned)b)) ||
		    flow_of(w.insn, &target) != FLOW_NONE || ++n >= X86_MAX_INSNS)
			break;
	}
	walk_close(&w);
	return err;
}

int x86_plt_slot(const struct x86_code *c, uint64_t vaddr, uint64_t *slot)
{
	struct walk w;
	uint64_t at, off;
	int n, err = walk_open(&w, c, vaddr, true);

	if (err)
		return err;
	err = -ENOENT;
	for (n = 0; n < 2 && walk_next(&w, &at, &off); n++) {
		const cs_x86 *x = &w.insn->detail->x86;

		if (w.insn->id == X86_INS_ENDBR64)
			continue;
		if (w.insn->id == X86_INS_JMP && x->op_count == 1 &&
		    x->operands[0].type == X86_OP_MEM && x->operands[0].mem.base == X86_REG_RIP &&
		    x->operands[0].mem.index == X86_REG_INVALID) {
			*slot = w.insn->address + w.insn->size + (uint64_t)x->operands[0].mem.disp;
			err = 0;
		}
		break;
	}
	walk_close(&w);
	return err;
}

int x86_calls_to(const struct x86_code *c, uint64_t fn, uint64_t size, uint64_t target,
		 struct x86_site *out, size_t max)
{
	struct walk w;
	uint64_t at, off;
	int n = 0, err = walk_open(&w, c, fn, false);

	if (err)
		return err;
	while (w.vaddr < fn + size && walk_next(&w, &at, &off)) {
		const uint8_t *bytes = w.p - w.insn->size;
		int32_t rel;

		if (w.insn->size != 5 || bytes[0] != 0xe8)
			continue;
		memcpy(&rel, bytes + 1, sizeof(rel));
		if (at + 5 + (uint64_t)(int64_t)rel != target)
			continue;
		if ((size_t)n < max)
			describe(c, w.insn, &out[n], at, off, bytes);
		n++;
	}
	walk_close(&w);
	return n;
}

/* One path of x86_tail_exits still to follow: where it goes on, its registers, and the jump
 * targets it took (to cut it when it comes round again). */
#define TAIL_PATHS 32
#define TAIL_TAKEN 16
struct tail_path {
	uint64_t at;
	struct x86_exit regs;
	uint64_t taken[TAIL_TAKEN];
	unsigned int ntaken;
};

/* The operand of in that it writes (dst) and the other (src), for a two-operand instruction:
 * false when it has not exactly one of each. */
static bool two_ops(const cs_insn *in, const cs_x86_op **dst, const cs_x86_op **src)
{
	const cs_x86 *x = &in->detail->x86;

	if (x->op_count != 2)
		return false;
	if ((x->operands[0].access & CS_AC_WRITE) && !(x->operands[1].access & CS_AC_WRITE)) {
		*dst = &x->operands[0];
		*src = &x->operands[1];
	} else if ((x->operands[1].access & CS_AC_WRITE) &&
		   !(x->operands[0].access & CS_AC_WRITE)) {
		*dst = &x->operands[1];
		*src = &x->operands[0];
	} else {
		return false;
	}
	return true;
}

/* Follows one instruction's effect on the registers. */
static void tail_step(csh h, const cs_insn *in, struct x86_exit *r)
{
	const cs_x86_op *dst, *src;
	struct x86_val v = { X86_VAL_UNKNOWN, 0, 0 };
	uint32_t w = writes(h, in);
	int d = -1, s;
	unsigned int k;

	if (in->id == X86_INS_PUSH || in->id == X86_INS_POP) {
		const cs_x86 *x = &in->detail->x86;

		r->sp += in->id == X86_INS_PUSH ? -8 : 8;
		/* 8 bytes moved, and no pop into rsp itself */
		if (x->op_count == 1 && x->operands[0].size == 8 &&
		    !(in->id == X86_INS_POP && x->operands[0].type == X86_OP_REG &&
		      gpr_of(x->operands[0].reg) == X86_RSP))
			w &= ~X86_REG(X86_RSP);
	} else if ((in->id == X86_INS_SUB || in->id == X86_INS_ADD) && two_ops(in, &dst, &src) &&
		   dst->type == X86_OP_REG && gpr_of(dst->reg) == X86_RSP && dst->size == 8 &&
		   src->type == X86_OP_IMM) {
		r->sp += in->id == X86_INS_SUB ? -src->imm : src->imm;
		return;
	} else if (in->id == X86_INS_MOV && two_ops(in, &dst, &src) && dst->type == X86_OP_REG &&
		   (d = gpr_of(dst->reg)) >= 0 && d != X86_RSP &&
		   (dst->size == 8 || dst->size == 4)) {
		if (src->type == X86_OP_IMM) {
			v = (struct x86_val){ X86_VAL_CONST, 0, (uint64_t)src->imm };
		} else if (src->type == X86_OP_REG && (s = gpr_of(src->reg)) >= 0 &&
			   src->size == dst->size) {
			v = r->reg[s];
			if (dst->size == 4 && v.kind == X86_VAL_ARG)
				v.kind = X86_VAL_UNKNOWN; /* a 64-bit value cut to 32 bits */
		}
		if (dst->size == 4 && v.kind == X86_VAL_CONST)
			v.imm &= 0xffffffffu;
	} else if (in->id == X86_INS_XOR && two_ops(in, &dst, &src) && dst->type == X86_OP_REG &&
		   src->type == X86_OP_REG && dst->reg == src->reg &&
		   (dst->size == 8 || dst->size == 4) && (d = gpr_of(dst->reg)) >= 0 &&
		   d != X86_RSP) {
		v = (struct x86_val){ X86_VAL_CONST, 0, 0 };
	} else {
		d = -1;
	}
	if (w & X86_REG(X86_RSP))
		r->sp_known = false;
	for (k = 0; k < X86_GPR_COUNT; k++) /* rsp is followed as sp, not as a value */
		if ((w & X86_REG(k)) && k != X86_RSP)
			r->reg[k] = (struct x86_val){ X86_VAL_UNKNOWN, 0, 0 };
	if (d >= 0)
		r->reg[d] = v;
}

static bool path_took(const struct tail_path *p, uint64_t target)
{
	unsigned int i;

	for (i = 0; i < p->ntaken; i++)
		if (p->taken[i] == target)
			return true;
	return false;
}

/* p goes on at target, inside the function: false when it came round to where it was before,
 * or took too many jumps, so it is cut. */
static bool path_jump(struct tail_path *p, uint64_t target)
{
	if (path_took(p, target) || p->ntaken == TAIL_TAKEN)
		return false;
	p->taken[p->ntaken++] = target;
	p->at = target;
	return true;
}

int x86_tail_exits(const struct x86_code *c, uint64_t fn, uint64_t size, struct x86_exit *out,
		   size_t max)
{
	struct tail_path paths[TAIL_PATHS], p;
	struct walk w;
	size_t npaths = 1, nexit = 0, budget = X86_MAX_EXIT_INSNS;
	unsigned int k;
	int err = walk_open(&w, c, fn, true);

	if (err)
		return err;
	memset(&paths[0], 0, sizeof(paths[0]));
	paths[0].at = fn;
	paths[0].regs.sp_known = true;
	for (k = 0; k < X86_GPR_COUNT; k++)
		paths[0].regs.reg[k] = (struct x86_val){ X86_VAL_ARG, (uint8_t)k, 0 };
	while (npaths && !err) {
		bool on = true;

		p = paths[--npaths];
		w.p = code_at(c, p.at, &w.avail, &w.offset);
		w.vaddr = p.at;
		while (on && !err) {
			uint64_t at, off, target = 0;
			enum flow f;

			if (p.at < fn || p.at - fn >= size)
				break; /* ran off the function's end */
			if (!w.p || !walk_next(&w, &at, &off)) {
				err = -EINVAL;
				break;
			}
			if (!budget--) {
				err = -E2BIG;
				break;
			}
			p.at = w.vaddr;
			f = flow_of(w.insn, &target);
			if (f == FLOW_NONE) {
				tail_step(w.cs, w.insn, &p.regs);
			} else if (f == FLOW_CALL || f == FLOW_END) {
				on = false;
			} else if (target < fn || target - fn >= size) { /* out: a tail call */
				if (nexit == max) {
					err = -E2BIG;
					break;
				}
				out[nexit] = p.regs;
				out[nexit].at = at;
				out[nexit].target = target;
				nexit++;
				on = f == FLOW_JCC; /* a jcc out also falls through */
			} else if (f == FLOW_JCC) { /* taken, a path of its own; p falls through */
				struct tail_path q = p;

				if (!path_jump(&q, target))
					continue;
				if (npaths == TAIL_PATHS) {
					err = -E2BIG;
					break;
				}
				paths[npaths++] = q;
			} else { /* a jump inside: p goes on there */
				on = path_jump(&p, target);
				w.p = code_at(c, target, &w.avail, &w.offset);
				w.vaddr = target;
			}
		}
	}
	walk_close(&w);
	return err ? err : (int)nexit;
}
