// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/*
 * Input: a flags byte, then (flag MAPS) a 2-byte little-endian length and that much maps text,
 * then UNWIND_NREGS registers of 8 bytes (zeros where the input ends), then the stack window.
 * The registers and stack are unwound against this process's own maps (parsed once, so libdwfl
 * reads real CFI and DWARF) and, with MAPS, against the text's maps too; those are parsed under
 * a root that does not exist, so that no path the fuzzer writes is ever opened. Flags aim the
 * registers and stack words at real code, where the unwinder has CFI to follow.
 * Besides the sanitizers, checks that the frame count is within bounds, that frame 0 is the
 * ip, that no pc is 0, that every string is terminated, and that unwind_frame_text agrees with
 * snprintf's contract. tests/fuzz/corpus/fuzz_unwind.py writes the seed corpus.
 */
#include <assert.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "process/unwind.h"

#define F_MAPS 0x1	 /* maps text follows the flags */
#define F_IP_CODE 0x2	 /* rip in real code */
#define F_SP_WINDOW 0x4	 /* rsp inside the window */
#define F_STACK_CODE 0x8 /* stack words whose low byte has its top bit set: code addresses */
#define STACK_ADDR 0x7ffd12340000ull

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static uint64_t code_addr(uint64_t word)
{
	static const void *const anchors[] = { (const void *)LLVMFuzzerTestOneInput,
					       (const void *)unwind_stack, (const void *)abort,
					       (const void *)strtol };

	return (uint64_t)(uintptr_t)anchors[word % 4] + (word >> 8) % 65536;
}

static void check_frames(const struct unwind_frame *f, int n, size_t max)
{
	char buf[512], small[8];
	int i, len;

	assert(n >= 0 && (size_t)n <= max && n <= UNWIND_MAX_FRAMES);
	for (i = 0; i < n; i++) {
		assert(memchr(f[i].module, '\0', sizeof(f[i].module)));
		assert(memchr(f[i].function, '\0', sizeof(f[i].function)));
		assert(memchr(f[i].file, '\0', sizeof(f[i].file)));
		assert(f[i].res <= UNWIND_LINE);
		assert(f[i].res != UNWIND_LINE || (f[i].file[0] && f[i].line > 0));
		len = unwind_frame_text(&f[i], buf, sizeof(buf));
		assert(len > 0 && (size_t)len < sizeof(buf) && strlen(buf) == (size_t)len);
		assert(unwind_frame_text(&f[i], small, sizeof(small)) == len);
		assert(strlen(small) == (len < 8 ? (size_t)len : 7));
	}
}

static void unwind_one(struct unwind_maps *m, const uint64_t *regs, const uint8_t *stack,
		       size_t len, size_t max)
{
	struct unwind_frame f[UNWIND_MAX_FRAMES];
	int n = unwind_stack(m, regs, STACK_ADDR, stack, len, f, max);

	check_frames(f, n, max);
	if (n > 0)
		assert(f[0].pc == regs[UNWIND_REG_IP]);
	for (int i = 0; i < n; i++)
		assert(f[i].pc != 0);
	if (!regs[UNWIND_REG_IP])
		assert(n == 0);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static struct unwind_maps *self;
	struct unwind_frame f[UNWIND_MAX_FRAMES];
	struct unwind_maps *m = NULL;
	uint64_t regs[UNWIND_NREGS] = { 0 };
	uint8_t flags;
	uint8_t *stack;
	size_t len, max, i;
	int n;

	if (!self) {
		self = unwind_maps_read((uint32_t)getpid());
		assert(self);
	}
	if (size < 1)
		return 0;
	flags = data[0];
	data++;
	size--;
	if ((flags & F_MAPS) && size >= 2) {
		len = data[0] | (size_t)data[1] << 8;
		data += 2;
		size -= 2;
		if (len > size)
			len = size;
		m = unwind_maps_parse((const char *)data, len, "/nonexistent-fuzz-root");
		assert(m && unwind_maps_bytes(m) > 0);
		data += len;
		size -= len;
	}
	len = size < sizeof(regs) ? size : sizeof(regs);
	memcpy(regs, data, len);
	data += len;
	size -= len;
	/* a heap copy that ends where the window does: ASan sees any read past it */
	stack = malloc(size ? size : 1);
	assert(stack);
	memcpy(stack, data, size);
	if (flags & F_IP_CODE)
		regs[UNWIND_REG_IP] = code_addr(regs[UNWIND_REG_IP]);
	if (flags & F_SP_WINDOW)
		regs[UNWIND_REG_SP] = STACK_ADDR + regs[UNWIND_REG_SP] % (size + 16);
	if (flags & F_STACK_CODE)
		for (i = 0; i + 8 <= size; i += 8) {
			uint64_t w;

			memcpy(&w, stack + i, 8);
			if (w & 0x80) {
				w = code_addr(w);
				memcpy(stack + i, &w, 8);
			}
		}
	max = flags >> 4 ? (size_t)(flags >> 4) * 4 : UNWIND_MAX_FRAMES;

	unwind_one(self, regs, stack, size, max);
	if (m) {
		unwind_one(m, regs, stack, size, max);
		/* the same words as pcs a Go stack walk would hand in */
		n = unwind_symbolize(m, regs, UNWIND_NREGS, flags & 0x10, f, max);
		assert((size_t)n == (max < UNWIND_NREGS ? max : UNWIND_NREGS));
		check_frames(f, n, max);
		unwind_maps_free(m);
	}
	n = unwind_symbolize(self, regs, UNWIND_NREGS, flags & 0x20, f, max);
	check_frames(f, n, max);
	free(stack);
	return 0;
}
