/* SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause) */
/* The libpq BPF object: uprobes on libpq's query and connection calls, placed on each libpq
 * file a watched process maps (the library scan of probes/tls.c finds them). Its own object,
 * so that --disable tls leaves it and --disable libpq leaves TLS. */
#ifndef OBSPROBE_LIBPQ_PROBE_H
#define OBSPROBE_LIBPQ_PROBE_H

#include <stdint.h>

struct libpq_bpf;
struct proc_bpf;
struct tls_elf_info;
struct uprobe_file;
struct uprobe_links;

/* Opens, shares the proc object's maps, loads (nothing attached yet). NULL on error (logged). */
struct libpq_bpf *libpq_probe_start(struct proc_bpf *owner);
void libpq_probe_destroy(struct libpq_bpf *skel); /* NULL ok */
/* Hooks libpq's calls in the file at path (info: what the ELF scan found), kept in links with
 * the file's record f; says which at -v, and warns when none could be. */
void libpq_probe_file(struct libpq_bpf *skel, struct uprobe_links *links, struct uprobe_file *f,
		      const char *path, const char *name, uint32_t pid,
		      const struct tls_elf_info *info);

#endif /* OBSPROBE_LIBPQ_PROBE_H */
