// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
#include "util/log.h"

#include <bpf/libbpf.h>
#include <stdarg.h>
#include <stdio.h>

static int cur_level = LOG_WARN;
static int libbpf_silenced;

void log_set_level(int level)
{
	cur_level = level;
}

int log_get_level(void)
{
	return cur_level;
}

void log_silence_libbpf(int on)
{
	libbpf_silenced = on;
}

void log_msg(int level, const char *fmt, ...)
{
	va_list ap;

	if (level > cur_level)
		return;
	fputs("obsprobe: ", stderr);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputc('\n', stderr);
}

static int libbpf_print(enum libbpf_print_level level, const char *fmt, va_list ap)
{
	int ours = level == LIBBPF_WARN	  ? LOG_INFO
		   : level == LIBBPF_INFO ? LOG_DEBUG
					  : LOG_DEBUG + 1;

	/* libbpf warns about every failure we handle ourselves; show it from -v on */
	if (libbpf_silenced || ours > cur_level)
		return 0;
	fputs("obsprobe: ", stderr); /* libbpf prefixes its own "libbpf: " */
	return vfprintf(stderr, fmt, ap);
}

void log_install_libbpf(void)
{
	libbpf_set_print(libbpf_print);
}
