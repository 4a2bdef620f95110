/* SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause) */
/* The command line and the OTEL_* environment, into a struct config. No I/O beyond the
 * messages it prints (usage and version on out, mistakes through log_err). */
#ifndef OBSPROBE_CLI_H
#define OBSPROBE_CLI_H

#include <stdio.h>

#include "config.h"

/* cli_parse's answers besides 0 (run with *cfg) and -EINVAL (a mistake, already said). */
#define CLI_DONE 1 /* --help or --version was printed: exit 0 */

int cli_parse(struct config *cfg, int argc, char **argv, const char *(*getenv_fn)(const char *name),
	      FILE *out);

#endif /* OBSPROBE_CLI_H */
