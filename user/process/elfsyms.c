// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
#include "process/elfsyms.h"

#include <errno.h>
#include <string.h>

#include "util/hex.h"

#define NT_GNU_BUILD_ID_TYPE 3

bool elfsyms_init(void)
{
	static bool ready;

	if (!ready)
		ready = elf_version(EV_CURRENT) != EV_NONE;
	return ready;
}

int elfsyms_each(Elf *elf, bool dynamic_too, elfsyms_fn fn, void *ctx)
{
	Elf_Scn *scn = NULL;
	int symtabs = 0;
	bool go_on = true;

	while (go_on && (scn = elf_nextscn(elf, scn))) {
		Elf_Data *d;
		GElf_Shdr sh;
		size_t i, n;

		if (!gelf_getshdr(scn, &sh) ||
		    (sh.sh_type != SHT_SYMTAB && (!dynamic_too || sh.sh_type != SHT_DYNSYM)))
			continue;
		symtabs += sh.sh_type == SHT_SYMTAB;
		d = elf_getdata(scn, NULL);
		n = d && sh.sh_entsize ? d->d_size / sh.sh_entsize : 0;
		for (i = 0; go_on && i < n; i++) {
			const char *name;
			GElf_Sym sym;

			if (!gelf_getsym(d, (int)i, &sym))
				break;
			name = elf_strptr(elf, sh.sh_link, sym.st_name);
			if (name && name[0])
				go_on = fn(ctx, name, &sym, sh.sh_type == SHT_DYNSYM);
		}
	}
	/* a walk stopped early has not counted every .symtab, but it has seen one */
	return symtabs;
}

int elfsyms_vaddr_offset(Elf *elf, uint64_t vaddr, uint64_t len, uint64_t *off)
{
	size_t nph, i;

	if (elf_getphdrnum(elf, &nph))
		return -EINVAL;
	for (i = 0; i < nph; i++) {
		GElf_Phdr ph;

		if (!gelf_getphdr(elf, (int)i, &ph) || ph.p_type != PT_LOAD || vaddr < ph.p_vaddr ||
		    vaddr - ph.p_vaddr >= ph.p_filesz)
			continue;
		/* lying headers: a segment past the end of the address space or of the offsets */
		if (len > ph.p_filesz - (vaddr - ph.p_vaddr) ||
		    vaddr - ph.p_vaddr > UINT64_MAX - ph.p_offset)
			return -EINVAL;
		*off = ph.p_offset + (vaddr - ph.p_vaddr);
		return 0;
	}
	return -EINVAL;
}

int elfsyms_read_vaddr(Elf *elf, uint64_t vaddr, void *buf, size_t len)
{
	const char *img;
	uint64_t off;
	size_t fsize;

	img = elf_rawfile(elf, &fsize);
	if (!img || elfsyms_vaddr_offset(elf, vaddr, len, &off))
		return -EINVAL;
	if (off > fsize || len > fsize - off)
		return -EINVAL;
	memcpy(buf, img + off, len);
	return 0;
}

void elfsyms_build_id(Elf *elf, char out[41])
{
	Elf_Scn *scn = NULL;

	out[0] = '\0';
	while ((scn = elf_nextscn(elf, scn))) {
		size_t off = 0, next, name_off, desc_off;
		Elf_Data *d;
		GElf_Shdr sh;
		GElf_Nhdr nh;

		if (!gelf_getshdr(scn, &sh) || sh.sh_type != SHT_NOTE)
			continue;
		d = elf_getdata(scn, NULL);
		if (!d || !d->d_buf)
			continue;
		while ((next = gelf_getnote(d, off, &nh, &name_off, &desc_off)) > 0) {
			const unsigned char *desc = (const unsigned char *)d->d_buf + desc_off;

			if (nh.n_type == NT_GNU_BUILD_ID_TYPE && nh.n_namesz == 4 &&
			    !memcmp((const char *)d->d_buf + name_off, "GNU", 4) && nh.n_descsz) {
				hex_encode(desc, nh.n_descsz < 20 ? nh.n_descsz : 20, out);
				return;
			}
			off = next;
		}
	}
}
