/* SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause) */
/* What obsprobe reads of ELF files through libelf: symbols, load segments, the build-id. */
#ifndef OBSPROBE_ELFSYMS_H
#define OBSPROBE_ELFSYMS_H

#include <gelf.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* libelf's version handshake, once; false when libelf refuses. */
bool elfsyms_init(void);

/* One symbol: return false to stop the walk. dynamic: it comes from .dynsym. */
typedef bool (*elfsyms_fn)(void *ctx, const char *name, const GElf_Sym *sym, bool dynamic);

/* Walks the .symtab symbols (and the .dynsym ones too when dynamic_too) with a name. Returns
 * how many .symtab sections the file has: 0 means it is stripped. */
int elfsyms_each(Elf *elf, bool dynamic_too, elfsyms_fn fn, void *ctx);

/* The file offset of [vaddr, vaddr + len), which must lie in the file part of one PT_LOAD
 * segment: 0 or -EINVAL. uprobes and reads of the file image both need it. */
int elfsyms_vaddr_offset(Elf *elf, uint64_t vaddr, uint64_t len, uint64_t *off);

/* Copies len bytes at link-time address vaddr out of the file image (one PT_LOAD): 0 or
 * -EINVAL. */
int elfsyms_read_vaddr(Elf *elf, uint64_t vaddr, void *buf, size_t len);

/* The GNU build-id as lower-case hex into out (41 bytes); "" when there is none. */
void elfsyms_build_id(Elf *elf, char out[41]);

#endif /* OBSPROBE_ELFSYMS_H */
