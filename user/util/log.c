// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
#include "util/log.h"

#include <stdarg.h>
#include <stdio.h>

static int cur_level = LOG_WARN;

void log_set_level(int level)
{
	cur_level = level;
}

int log_get_level(void)
{
	return cur_level;
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
