/* SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause) */
/*
 * A watched process killed by a fatal signal it does not handle (SIGSEGV, SIGBUS, SIGFPE,
 * SIGILL, SIGABRT, SIGSYS, SIGTRAP): the faulting thread's user registers and a window of its
 * user stack, copied where the signal is delivered, for user space to unwind from the files'
 * CFI (C programs keep no frame pointers) after the process is gone.
 */
#ifndef OBSPROBE_FAULT_H
#define OBSPROBE_FAULT_H

#include "obsprobe/common.h"

#define FAULT_STACK_BYTES 16384 /* of the stack from rsp up: deep enough for 50-odd C frames */
#define FAULT_STACK_CHUNK 1024	/* read by chunks: the window may run past the stack's top */
#define FAULT_NREGS \
	17 /* DWARF's x86-64 numbering: rax rdx rcx rbx rsi rdi rbp rsp
				   r8..r15, then the return address column (rip) */

/* The signals whose default action dumps core: a crash (SIGILL, SIGTRAP, SIGABRT, SIGBUS,
 * SIGFPE, SIGSEGV, SIGSYS), as both sides judge a signal. */
#define FAULT_CRASH_SIGNALS \
	((1u << 4) | (1u << 5) | (1u << 6) | (1u << 7) | (1u << 8) | (1u << 11) | (1u << 31))

static inline int fault_crash_signal(int sig)
{
	return sig > 0 && sig < 32 && (FAULT_CRASH_SIGNALS >> sig) & 1;
}

/* OBS_EV_FAULT */
struct fault_event {
	struct obs_event_hdr hdr;
	__s32 sig;
	__s32 code; /* si_code: SEGV_MAPERR, FPE_INTDIV, SI_TKILL (abort()), ... */
	__u64 addr; /* si_addr: the faulting address (SIGSEGV, SIGBUS, SIGFPE, SIGILL) */
	__u64 regs[FAULT_NREGS];
	__u64 stack_addr; /* the window's first byte: rsp */
	__u32 stack_len;  /* bytes of stack[] read */
	__u32 target_flags;
	char comm[16];
	__u8 stack[FAULT_STACK_BYTES];
};
_Static_assert(sizeof(struct fault_event) == 16384 + 208, "fault_event layout");

#endif /* OBSPROBE_FAULT_H */
