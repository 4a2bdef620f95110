// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/*
 * The kernel's BTF, read with half the memory libbpf 1.1 takes.
 *
 * Every bpf_object__load() of libbpf 1.1 (Debian bookworm's) parses /sys/kernel/btf/vmlinux
 * for CO-RE and for BTF-typed attach points, and frees it once loaded: it reads the file into
 * a buffer, then btf__new() copies that buffer, so each parse holds the file twice (2 x 5.4 MiB
 * here), the moment obsprobe's RSS peaks. Kernels from 6.16 let the file be mapped (read-only,
 * private): its pages are the kernel's own and count in no one's RSS, so mapped, only
 * btf__new()'s copy is ours. libbpf calls btf__load_vmlinux_btf() through its PLT, so this
 * definition, in the executable, is the one its loads call (symbol interposition, as any
 * executable's definition of a library function); where the file cannot be mapped (a kernel
 * before 6.16) it hands over to libbpf's own, which the dynamic linker finds next. A libbpf
 * that stops calling through its PLT just loses the saving.
 */
#include <bpf/btf.h>
#include <bpf/libbpf.h>
#include <dlfcn.h>
#include <errno.h>
#include <fcntl.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include "util/dl.h"

#define VMLINUX_BTF "/sys/kernel/btf/vmlinux"

static struct btf *mapped_vmlinux_btf(void)
{
	struct btf *btf = NULL;
	struct stat st;
	void *p;
	int fd = open(VMLINUX_BTF, O_RDONLY | O_CLOEXEC);

	if (fd < 0)
		return NULL;
	if (!fstat(fd, &st) && st.st_size > 0) {
		/* the kernel refuses shared, writable or executable mappings of it */
		p = mmap(NULL, (size_t)st.st_size, PROT_READ, MAP_PRIVATE, fd, 0);
		if (p != MAP_FAILED) {
			btf = btf__new(p, (size_t)st.st_size);
			if (libbpf_get_error(btf))
				btf = NULL;
			munmap(p, (size_t)st.st_size);
		}
	}
	close(fd);
	return btf;
}

struct btf *btf__load_vmlinux_btf(void)
{
	static struct btf *(*libbpf_own)(void);
	struct btf *btf = mapped_vmlinux_btf();

	if (btf)
		return btf;
	if (!libbpf_own && !dl_sym(RTLD_NEXT, "btf__load_vmlinux_btf", &libbpf_own)) {
		errno = ENOSYS;
		return NULL;
	}
	return libbpf_own();
}
