/* SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause) */
/*
 * Goroutine tracking in watched Go programs: each process's offsets go into the go_procs map
 * (the socket programs then stamp every event with the goroutine that made it), and each Go
 * executable gets its uprobes once (process/gotrace.h says where), for all processes of it.
 */
#ifndef OBSPROBE_GOPROBE_H
#define OBSPROBE_GOPROBE_H

#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>

struct go_probe;
struct proc_bpf;
struct sock_bpf;

/* Opens, shares the proc object's maps and the sock object's connections, loads (nothing
 * attached yet). follow: follow goroutines (else Go programs are only told apart, so that none
 * of their spans links by thread); tls: read the plaintext of Go's own TLS (crypto/tls),
 * capture_bytes of each read or write. NULL on error (logged). */
struct go_probe *go_probe_start(struct proc_bpf *owner, struct sock_bpf *sock,
				uint32_t capture_bytes, bool follow, bool tls, bool panics);
/* pid is watched now (or exec'd another program): looked at on the next flush. */
void go_probe_note(struct go_probe *gp, uint32_t pid);
void go_probe_flush(struct go_probe *gp);
/* What could not be placed, "what: why" a line each; "" for nothing. */
const char *go_probe_failures(const struct go_probe *gp);
/* pid is watched no more: its entry leaves go_procs, and its executable its uprobes when no
 * watched process runs it now. */
void go_probe_forget(struct go_probe *gp, uint32_t pid);
/* child, a fork of parent, runs what parent runs (until its exec). */
void go_probe_fork(struct go_probe *gp, uint32_t parent, uint32_t child);
/* As tls_probe_counts(), for the executables. */
void go_probe_counts(const struct go_probe *gp, size_t *files, size_t *links, uint64_t *released);
void go_probe_detach_start(struct go_probe *gp);
void go_probe_destroy(struct go_probe *gp); /* NULL ok */
/* --probe-sites for a Go executable: where each goroutine probe would go. Returns how many
 * lines it printed (0: not a Go executable). */
int go_probe_print_sites(const char *path, FILE *out);

#endif /* OBSPROBE_GOPROBE_H */
