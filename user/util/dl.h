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

#endif
