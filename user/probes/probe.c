// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
#include "probes/probe.h"

#include <bpf/libbpf.h>
#include <stdarg.h>
#include <stdio.h>

#include "util/log.h"

static bool libbpf_silenced;

static int libbpf_print(enum libbpf_print_level level, const char *fmt, va_list ap)
{
	int ours = level == LIBBPF_WARN	  ? LOG_INFO
		   : level == LIBBPF_INFO ? LOG_DEBUG
					  : LOG_DEBUG + 1;

	/* libbpf warns about every failure we handle ourselves; show it from -v on */
	if (libbpf_silenced || ours > log_get_level())
		return 0;
	fputs("obsprobe: ", stderr); /* libbpf prefixes its own "libbpf: " */
	return vfprintf(stderr, fmt, ap);
}

void probe_log_install(void)
{
	libbpf_set_print(libbpf_print);
}

void probe_log_silence(bool on)
{
	libbpf_silenced = on;
}
