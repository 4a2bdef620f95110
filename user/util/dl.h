/* SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause) */
#ifndef OBSPROBE_UTIL_DL_H
#define OBSPROBE_UTIL_DL_H

#include <dlfcn.h>
#include <stdbool.h>
#include <string.h>

/* name's address in lib (a dlopen() handle) into *fn, a function pointer's storage (ISO C has
 * no conversion from void * to a function pointer: the bytes are copied); false when lib has no
 * such symbol. For the libraries obsprobe opens itself: capstone, libcurl. */
static inline bool dl_sym(void *lib, const char *name, void *fn)
{
	void *p = dlsym(lib, name);

	memcpy(fn, &p, sizeof(p));
	return p != NULL;
}

/*
 * dlopen(soname, RTLD_NOW | RTLD_LOCAL), then the pages of the read-only segments of every
 * object it loaded taken out of obsprobe's RSS: the dynamic linker reads a library's relocation
 * table there once (capstone's is 1.8 MiB, 75,000 entries) and nothing reads it again; what is
 * read later (.rodata, a symbol) faults back in from the page cache, unchanged. NULL as dlopen().
 */
void *dl_open(const char *soname);

/* Pages of objects' read-only segments given back; the objects from index `from` of the dynamic
 * linker's list (dl_iterate_phdr's order, the newest last) on. For tests and dl_open. */
size_t dl_drop_readonly(size_t from);

/* How many objects the dynamic linker has loaded now. */
size_t dl_count(void);

#endif
