/* SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause) */
/* One run of obsprobe: sets up the probes, the pipeline and the exporters the config asks
 * for, reads events until a signal or until no watched process is left, then tears it all
 * down. The only place that names the exporters. */
#ifndef OBSPROBE_APP_H
#define OBSPROBE_APP_H

#include <signal.h>

#include "config.h"

/* Returns the process's exit status: 0 after a clean stop, 1 when setup or the event loop
 * failed (said on stderr). *stop is polled: set it from a signal handler to end the run. */
int app_run(const struct config *cfg, volatile sig_atomic_t *stop);

#endif /* OBSPROBE_APP_H */
