// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
#include "util/dl.h"

#include <elf.h>
#include <link.h>

#include "util/pages.h"

struct walk {
	size_t from, i;
	size_t dropped; /* bytes */
};

/* A segment ld.so relocated in place (DT_TEXTREL) holds the relocated bytes in private pages:
 * dropping them would bring the file's back. */
static bool has_textrel(const struct dl_phdr_info *info)
{
	int i;

	for (i = 0; i < info->dlpi_phnum; i++) {
		const ElfW(Phdr) *ph = &info->dlpi_phdr[i];
		const ElfW(Dyn) * d;

		if (ph->p_type != PT_DYNAMIC)
			continue;
		for (d = (const ElfW(Dyn) *)(info->dlpi_addr + ph->p_vaddr); d->d_tag != DT_NULL;
		     d++)
			if (d->d_tag == DT_TEXTREL ||
			    (d->d_tag == DT_FLAGS && (d->d_un.d_val & DF_TEXTREL)))
				return true;
	}
	return false;
}

static int drop_object(struct dl_phdr_info *info, size_t size, void *data)
{
	struct walk *w = data;
	int i;

	(void)size;
	if (w->i++ < w->from || has_textrel(info))
		return 0;
	for (i = 0; i < info->dlpi_phnum; i++) {
		const ElfW(Phdr) *ph = &info->dlpi_phdr[i];

		/* read-only and never written: not the RW segment, whose RELRO part is read-only
		 * now but holds relocated pointers */
		if (ph->p_type == PT_LOAD && ph->p_flags == PF_R)
			w->dropped += pages_release((const void *)(info->dlpi_addr + ph->p_vaddr),
						    ph->p_filesz);
	}
	return 0;
}

size_t dl_drop_readonly(size_t from)
{
	struct walk w = { .from = from };

	dl_iterate_phdr(drop_object, &w);
	return w.dropped;
}

static int count_object(struct dl_phdr_info *info, size_t size, void *data)
{
	(void)info;
	(void)size;
	++*(size_t *)data;
	return 0;
}

size_t dl_count(void)
{
	size_t n = 0;

	dl_iterate_phdr(count_object, &n);
	return n;
}

void *dl_open(const char *soname)
{
	size_t before = dl_count();
	void *h = dlopen(soname, RTLD_NOW | RTLD_LOCAL);

	if (h)
		dl_drop_readonly(before);
	return h;
}
