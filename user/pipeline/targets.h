/* SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause) */
/* The processes obsprobe watches: who they are (resource), and whether they still live. */
#ifndef OBSPROBE_TARGETS_H
#define OBSPROBE_TARGETS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "pipeline/span.h"

struct targets;

/* service_name: NULL names each process by its executable. route_cap: distinct routes kept per
 * service before the overflow route. */
struct targets *targets_new(const char *service_name, size_t route_cap);
void targets_free(struct targets *t);
/* Pod metadata for processes in Kubernetes pods (by container id, else pod UID), looked up
 * when a process is named and again at targets_get() until its container is known; the
 * workload's name becomes the service.name of a process that does not name itself. */
void targets_set_k8s(struct targets *t, struct k8s_meta *k);

/* The process (thread group) a thread id belongs to; the id itself when unknown. */
uint32_t targets_tgid_of(uint32_t tid);
/* Start watching pid (reads /proc). 0, -ESRCH when there is no such process. */
int targets_add(struct targets *t, uint32_t pid);
/* A process the kernel reported (fork, exec): watched from now on, names re-read from /proc.
 * A process that has already exited is kept under comm, so that its last spans have a name. */
int targets_note(struct targets *t, uint32_t pid, const char *comm);
void targets_remove(struct targets *t, uint32_t pid);
/* Whether pid is watched (targets_get() would learn a pid it does not know). */
bool targets_watched(const struct targets *t, uint32_t pid);
const struct proc_info *targets_get(struct targets *t, uint32_t pid);
size_t targets_count(const struct targets *t);
/* Calls fn for every watched pid that has died (or whose pid now belongs to another process)
 * and was found so by the call before: read the ring buffer between calls. */
void targets_reap(struct targets *t, void (*fn)(void *ctx, uint32_t pid), void *ctx);
/* Every live descendant of pid, for the caller to watch too. Returns how many were found. */
size_t targets_descendants(uint32_t pid, uint32_t *out, size_t max);
/* route_set_intern() on the service of pid. */
const char *targets_route(struct targets *t, uint32_t pid, const char *folded);
unsigned long long targets_route_overflows(const struct targets *t);
/* Iterate watched pids. */
size_t targets_pids(const struct targets *t, uint32_t *out, size_t max);

#endif /* OBSPROBE_TARGETS_H */
