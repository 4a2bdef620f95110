/* SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause) */
/* The metrics registry in the Prometheus text exposition format 0.0.4. */
#ifndef OBSPROBE_PROMETHEUS_TEXT_H
#define OBSPROBE_PROMETHEUS_TEXT_H

#include "pipeline/metrics.h"
#include "util/strbuf.h"

/*
 * Appends every family with at least one series to out: HELP and TYPE, then its series in
 * metrics_visit() order, label keys with each '.' as '_'; histograms as cumulative _bucket
 * series up to le="+Inf", _sum and _count. Then METRICS_OVERFLOW_FAMILY, one series per family
 * that overflowed, by family name. Clean under `promtool check metrics`. Renders a snapshot, so
 * other threads may record and remove series meanwhile. Returns 0, -EINVAL or -ENOMEM.
 */
int prometheus_text_write(struct metrics *m, struct strbuf *out);

#endif /* OBSPROBE_PROMETHEUS_TEXT_H */
