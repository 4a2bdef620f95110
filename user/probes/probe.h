/* SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause) */
/* What every BPF object's loader shares: libbpf's messages through our log. */
#ifndef OBSPROBE_PROBE_H
#define OBSPROBE_PROBE_H

#include <stdbool.h>

/* libbpf's messages go through log_msg() at the user's verbosity (-v: warnings, -vv: all). */
void probe_log_install(void);
/* While silenced, libbpf's messages are dropped: around kernel feature probes. */
void probe_log_silence(bool on);

#endif /* OBSPROBE_PROBE_H */
