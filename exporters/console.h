/* SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause) */
/* Console exporter: one readable line, or one JSON object, per span; errors as lines too. */
#ifndef OBSPROBE_CONSOLE_H
#define OBSPROBE_CONSOLE_H

#include <stdint.h>

#include "config.h"
#include "pipeline/logrec.h"
#include "pipeline/span.h"
#include "util/strbuf.h"

/* Appends one line (with '\n') describing s. clock_offset_ns converts the span's monotonic
 * times to Unix time. */
void console_format(struct strbuf *sb, enum console_mode mode, const struct span *s,
		    const struct proc_info *proc, const char *host_name, int64_t clock_offset_ns);

/* Appends one line describing the error report r (pipeline/errors.h) with its top frames; the
 * text console only (the JSON one is spans). */
void console_format_error(struct strbuf *sb, enum console_mode mode, const struct log_record *r,
			  const char *service, int64_t clock_offset_ns);

#endif /* OBSPROBE_CONSOLE_H */
