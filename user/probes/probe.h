/* SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause) */
/*
 * The one loader of every BPF object: open (the skeleton's own __open) -> configure (the
 * caller sets rodata, reuses maps) -> probe_load(): share the proc object's maps, choose each
 * hook's variant for this kernel, load, attach. Variants of one hook are programs named
 * BASE and BASE__SUFFIX (sched_switch: tp_btf; sched_switch__raw: raw_tp); the loader keeps
 * the cheapest kind the kernel offers (fentry, tp_btf, raw_tp, tp, kprobe, in that order) and
 * turns the others' autoload off, as libbpf-tools do.
 */
#ifndef OBSPROBE_PROBE_H
#define OBSPROBE_PROBE_H

#include <errno.h>
#include <stdbool.h>
#include <string.h>

#include "probes/kernel.h"
#include "util/log.h"

struct bpf_object;
struct bpf_object_skeleton;

/* libbpf's messages go through log_msg() at the user's verbosity (-v: warnings, -vv: all). */
void probe_log_install(void);
/* While silenced, libbpf's messages are dropped: around kernel feature probes. */
void probe_log_silence(bool on);

/* Asks the kernel what it offers (kernel_probe_features(), libbpf silenced) and says so at -v;
 * hide: features to treat as missing (NULL: none). Before the first probe_load(). 0, or
 * -EINVAL (logged) when hide names something that is not a feature. */
int probe_kernel_init(const char *hide);
const struct kernel_features *probe_kernel(void);
/* 0 when the kernel has BPF ring buffers; else -EOPNOTSUPP, said why. */
int probe_require_ringbuf(void);
/* The last failure to load or attach a BPF object, as logged ("" before any). */
const char *probe_last_error(void);

struct probe_load_opts {
	const char *name;  /* the object, in messages: "sched" */
	const char *hooks; /* what attaching places, in messages: "the scheduler tracepoints" */
	bool attach;	   /* attach every loaded program now (else probe_attach()) */
};

#define PROBE_LOAD_RETRY_PLAIN 1

/* Loads the opened skeleton s (and attaches it with o->attach). owner: the object whose maps
 * targets, events and drops s shares (NULL: s creates them). plain: each hook's best variant
 * that the kernel does not type by BTF (raw_tp rather than tp_btf). 0, or -errno with a log
 * line, or PROBE_LOAD_RETRY_PLAIN (logged) when the verifier refused BTF-typed variants and
 * a fresh skeleton should be loaded plain; the caller destroys s when it fails. */
int probe_load(struct bpf_object_skeleton *s, const struct probe_load_opts *o,
	       const struct bpf_object *owner, bool plain);

/*
 * The whole sequence for skeleton type T (sched_bpf, ...): T##__open(), then the int
 * expression configure (0 or -errno, logged; it may name the skeleton as skel: rodata, maps
 * to reuse), then probe_load(); once more, plain, when probe_load() asks (libbpf loads an
 * object once, failed or not). The skeleton, or NULL with the failure logged and the
 * skeleton destroyed.
 */
#define PROBE_OPEN_LOAD(T, opts, owner, configure)                                             \
	({                                                                                     \
		struct T *skel = NULL;                                                         \
		int _try, _err = PROBE_LOAD_RETRY_PLAIN;                                       \
                                                                                               \
		for (_try = 0; _try < 2 && _err == PROBE_LOAD_RETRY_PLAIN; _try++) {           \
			skel = T##__open();                                                    \
			if (!skel) {                                                           \
				log_err("cannot open the %s BPF object: %s", (opts)->name,     \
					strerror(errno));                                      \
				break;                                                         \
			}                                                                      \
			_err = (configure);                                                    \
			if (!_err)                                                             \
				_err = probe_load(skel->skeleton, (opts), (owner), _try == 1); \
			if (_err) {                                                            \
				T##__destroy(skel);                                            \
				skel = NULL;                                                   \
			}                                                                      \
		}                                                                              \
		skel;                                                                          \
	})
/* Attaches every loaded program of s that libbpf can place by its section. 0 or -errno, logged. */
int probe_attach(struct bpf_object_skeleton *s, const struct probe_load_opts *o);

#endif /* OBSPROBE_PROBE_H */
