/* SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause) */
/*
 * Uprobes placed on library files for every process that maps them (pid -1), kept as links
 * and removed together, in the background at exit: each removal waits for RCU grace periods
 * in the kernel, ~70 ms apiece in this VM, which an exit need not wait for in turn.
 */
#ifndef OBSPROBE_UPROBES_H
#define OBSPROBE_UPROBES_H

#include <pthread.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "process/tlslib.h"

struct bpf_link;
struct bpf_program;

struct uprobe_links {
	struct bpf_link **links;
	size_t n, cap;
	pthread_t detacher;
	bool detaching;
	unsigned int failed; /* uprobes that could not be placed */
	char failures[512];  /* the first of them, "what: why" a line each */
};

/* A function of a library and the programs for it. */
struct uprobe_hook {
	enum tls_sym sym;
	struct bpf_program *enter;
	struct bpf_program *ret; /* the return probe, or NULL */
};

/* Hooks every function of hooks[] that the file at path defines, where info->site puts its
 * probe (a site two hooks share once), for all processes; a hook that fails is logged (name:
 * the file, in messages) and skipped. Logs (-v) where each probe sits and whether
 * the kernel emulates the instruction there. Returns how many were hooked and names them,
 * space-separated, in list. */
int uprobes_attach(struct uprobe_links *l, const char *path, const char *name,
		   const struct tls_elf_info *info, const struct uprobe_hook *hooks, size_t nhooks,
		   char *list, size_t listlen);
/* One uprobe of prog at file offset off of the file at path, for all processes, with a BPF
 * cookie: 0 or -errno. */
int uprobes_attach_at(struct uprobe_links *l, struct bpf_program *prog, const char *path,
		      uint64_t off, uint64_t cookie);
/* Where the probe of sym sits in info's file (name, for the text), in words: "uprobe for
 * SSL_read in NAME: at 0x35290 `pushq %r13` (emulated), ..."; ret: a return probe goes there
 * too. */
void uprobes_site_text(char *buf, size_t len, const char *name, const struct tls_elf_info *info,
		       enum tls_sym sym, bool ret);
/* A uprobe could not be placed (what: "SSL_read in /usr/lib/.../libssl.so.3"): counted, and
 * its line kept for readiness. */
void uprobes_failed(struct uprobe_links *l, const char *what, int err);
/* Starts removing every link in the background. */
void uprobes_detach_start(struct uprobe_links *l);
/* Removes every link (waits for a background removal) and frees l's memory. */
void uprobes_free(struct uprobe_links *l);

#endif /* OBSPROBE_UPROBES_H */
