/* SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause) */
/*
 * Uprobes on the libraries of watched processes: the tls BPF object on their TLS libraries, the
 * libpq object on libpq. Libraries are found in /proc/PID/maps (at watch time, and again
 * whenever a watched process maps a file executable) and each library file is probed once, for
 * every process that maps it, until no watched process maps it any more.
 */
#ifndef OBSPROBE_TLS_PROBE_H
#define OBSPROBE_TLS_PROBE_H

#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>

struct proc_bpf;
struct sock_bpf;
struct tls_probe;

/* What is probed. */
#define LIBPROBE_TLS 0x1   /* OpenSSL and GnuTLS */
#define LIBPROBE_LIBPQ 0x2 /* libpq */

/* Opens, configures (capture_bytes), shares the proc object's maps and the sock object's
 * tls_calls, loads, attaches the mmap tracepoint; the same for the libpq object when `what`
 * has LIBPROBE_LIBPQ. NULL on error (logged). */
struct tls_probe *tls_probe_start(struct proc_bpf *owner, struct sock_bpf *sock,
				  uint32_t capture_bytes, unsigned int what);
void tls_probe_destroy(struct tls_probe *tp); /* NULL ok */
/* Starts removing the uprobes in the background (NULL ok): each removal waits for RCU grace
 * periods in the kernel, ~70 ms apiece in this VM, which an exit need not wait for in turn with
 * its last OTLP export. tls_probe_destroy() waits for it to end. */
/* What could not be placed (TLS and libpq uprobes), "what: why" a line each; "" for nothing. */
const char *tls_probe_failures(const struct tls_probe *tp);
void tls_probe_detach_start(struct tls_probe *tp);

/* pid's mappings may hold a TLS library not probed yet: look at them on the next flush. */
void tls_probe_note(struct tls_probe *tp, uint32_t pid);
/* Looks at the mappings of the noted processes and probes the TLS libraries found. */
void tls_probe_flush(struct tls_probe *tp);
/* child, a fork of parent, maps what parent maps. */
void tls_probe_fork(struct tls_probe *tp, uint32_t parent, uint32_t child);
/* pid is watched no more: the library files no watched process maps now lose their probes. */
void tls_probe_forget(struct tls_probe *tp, uint32_t pid);
/* Adds the files with uprobes on them now, their links, and the files whose uprobes were
 * removed so far, none of their processes watched any more (NULL tp: nothing). */
void tls_probe_counts(const struct tls_probe *tp, size_t *files, size_t *links, uint64_t *released);
/* --probe-sites: writes to out where each hook of the file at path would go on this kernel,
 * one line each (others: lines about the file came before; else a file with no hook says so).
 * 0, or -errno (logged) when the file cannot be read or is no ELF file. */
int tls_probe_print_sites(const char *path, FILE *out, bool others);

#endif /* OBSPROBE_TLS_PROBE_H */
