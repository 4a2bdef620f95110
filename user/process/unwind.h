/* SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause) */
/*
 * Stacks of crash reports, unwound and symbolized after the process is gone. BPF hands in the
 * faulting thread's registers and a copy of its user stack; C binaries here have no frame
 * pointers, so the stack is unwound from .eh_frame/.debug_frame CFI with libdwfl, reading
 * memory from that copy only. Frames are named from DWARF (function, file, line), else from
 * the ELF symbol tables (function + offset), else by module + offset. Go stacks, which BPF
 * walks by frame pointers, are only symbolized.
 *
 * Files are opened by the paths the maps name, when the first unwind needs them (~0.1 s with
 * libc's debug file installed; later unwinds ~0.3 ms). A file already deleted when the maps
 * were read is not opened (its frames are module + offset); one replaced at its path since (an
 * upgrade) is read as it is now: nothing checks its build ID. The vdso is named but not
 * unwound through (its image is in the process only). With DEBUGINFOD_URLS set, libdwfl may
 * ask a debuginfod server for missing debug files. Not thread-safe: one caller at a time per
 * unwind_maps.
 */
#ifndef OBSPROBE_UNWIND_H
#define OBSPROBE_UNWIND_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define UNWIND_MAX_FRAMES 64
/* x86_64 DWARF numbering: rax rdx rcx rbx rsi rdi rbp rsp r8..r15, then rip (16) */
#define UNWIND_NREGS 17
#define UNWIND_REG_SP 7
#define UNWIND_REG_IP 16
#define UNWIND_MAPS_MAX (4u << 20) /* bytes of maps text kept at most: the rest is dropped */

enum unwind_res {
	UNWIND_ADDR = 0,   /* only the address (module + offset when its module is known) */
	UNWIND_SYMBOL = 1, /* function + offset, from the ELF symbol tables */
	UNWIND_LINE = 2,   /* function, source file and line, from DWARF */
};

struct unwind_frame {
	uint64_t pc;	     /* as unwound: frame 0 the faulting ip, others return addresses */
	uint8_t res;	     /* enum unwind_res */
	bool in_app;	     /* its module is the program's own code, not a system library (not
				under /lib, /lib64, /usr/lib, /usr/lib64, /usr/libexec, not [vdso]);
				in a Go executable: see unwind_symbolize */
	char module[96];     /* the module's file basename ("" unknown) */
	uint64_t module_off; /* link-time address within the module (pc less its load bias) */
	char function[128];  /* "" unknown */
	uint64_t fn_off;     /* pc - the function's start */
	char file[160];	     /* source file's basename as DWARF names it, "" unknown */
	int line;	     /* 0 unknown */
};

/* A process's file mappings as /proc/PID/maps lists them: kept by obsprobe while the process
 * lives so that it can still be unwound after it is gone. Immutable once made; the libdwfl
 * session (ELF files opened, CFI read) is built lazily at the first unwind and kept with it. */
struct unwind_maps;

/* /proc/PID/maps; when the process lives in another mount namespace (its root is not ours),
 * paths are read through /proc/PID/root, which works only while it lives. NULL when it is gone
 * (errno set). */
struct unwind_maps *unwind_maps_read(uint32_t pid);
/* text: maps in /proc/PID/maps format; root: a prefix for file paths (a container's
 * "/proc/PID/root"), NULL or "" for none. Lines without a file path are dropped but [vdso]'s,
 * and so are malformed lines and lines that do not follow the previous one in address order.
 * NULL only when out of memory (errno ENOMEM). */
struct unwind_maps *unwind_maps_parse(const char *text, size_t len, const char *root);
void unwind_maps_free(struct unwind_maps *m); /* NULL ok */
/* Ends m's libdwfl session (the files and debug info it read: megabytes), keeping the maps:
 * the next unwind builds it again. True when there was one. */
bool unwind_maps_drop_session(struct unwind_maps *m);
/* Memory it holds, for obsprobe's accounting: the kept maps, and once a session is built an
 * estimate of it: what malloc's counters grew by during its calls (other threads' allocations
 * meanwhile included; nothing under ASan); files libdwfl maps rather than reads are not
 * counted. */
size_t unwind_maps_bytes(const struct unwind_maps *m);

/* Unwinds from regs (UNWIND_NREGS values) and a copy of the thread's stack memory
 * [stack_addr, stack_addr + len): memory reads outside that window fail (the live process is
 * never read: it may be gone or reused). Returns the number of frames written to out (<= max,
 * <= UNWIND_MAX_FRAMES), frame 0 being regs[16]; 0 when nothing can be said. Stops at a pc of 0
 * or at a (pc, sp) already seen. Never crashes on garbage input. */
int unwind_stack(struct unwind_maps *m, const uint64_t regs[UNWIND_NREGS], uint64_t stack_addr,
		 const void *stack, size_t len, struct unwind_frame *out, size_t max);

/* Symbolizes n pcs already unwound (Go: frame pointers walked in BPF); pcs[0] is an ip when
 * first_is_ip, every other one a return address (pc - 1 is looked up so that a call at a
 * function's end resolves to the caller). Returns n (capped to max and UNWIND_MAX_FRAMES).
 * In a Go executable (here and in unwind_stack) a frame with a function name is judged in_app
 * by it, as Go names functions: in package main, or in a package whose path's first element
 * has a dot (github.com/...), i.e. not the standard library (runtime.* never is). */
int unwind_symbolize(struct unwind_maps *m, const uint64_t *pcs, size_t n, bool first_is_ip,
		     struct unwind_frame *out, size_t max);

/* One frame as a line of text: "store_record (crashme.c:14)", "abort+0x7a (libc.so.6)",
 * "0x1234 (libfoo.so+0x1234)", "0x7f0012345678 (?)". Returns what snprintf would. */
int unwind_frame_text(const struct unwind_frame *f, char *buf, size_t len);

#endif /* OBSPROBE_UNWIND_H */
