/* SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause) */
/* What one run of obsprobe is asked to do: filled by cli.c from flags and OTEL_* variables,
 * read by app.c. Public: exporters may include it for their own settings. */
#ifndef OBSPROBE_CONFIG_H
#define OBSPROBE_CONFIG_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "otel_config.h"
#include "pipeline/select.h"

#define OBSPROBE_VERSION "0.1.0"
#define CONFIG_MAX_PIDS 64
#define CONFIG_MEMORY_LIMIT_DEFAULT (256ull << 20)
/* The ring buffer every event crosses: its pages are all resident from the start (the kernel
 * maps them at once), and 4 MiB hold ~0.2 s of nginx's events at full speed on two cores */
#define CONFIG_RING_BYTES_DEFAULT (4ull << 20)
#define CONFIG_MAX_SPANS_PER_S_DEFAULT 50000

enum console_mode {
	CONSOLE_OFF = 0,
	CONSOLE_TEXT,
	CONSOLE_JSON,
};

/* Signal groups --disable turns off; all on by default. */
enum signal_group {
	GROUP_HTTP = 0x01,    /* HTTP spans and RED metrics */
	GROUP_TLS = 0x02,     /* HTTPS through uprobes on OpenSSL and GnuTLS */
	GROUP_PGSQL = 0x04,   /* PostgreSQL client calls */
	GROUP_LIBPQ = 0x08,   /* the uprobes on libpq */
	GROUP_SCHED = 0x10,   /* threads, run-queue latency, off-CPU time */
	GROUP_MEMORY = 0x20,  /* RSS, peak, page faults, OOM kills */
	GROUP_GO = 0x40,      /* goroutines */
	GROUP_GOTRACE = 0x80, /* goroutine tracking: span links in Go programs */
	GROUP_ERRORS = 0x100, /* crashes, Go panics, and errors on spans as error reports */
	GROUP_ALL = 0x1ff,
};

struct config {
	uint32_t pids[CONFIG_MAX_PIDS];
	size_t npids;
	struct selection sel; /* node-wide: --all, --exe, --comm, --port, --cgroup, --container */
	const char *probe_sites; /* --probe-sites FILE: print where the uprobes go, and exit */
	const char *record;	 /* --record FILE: every ring-buffer event also written there */
	const char *replay;	 /* --replay FILE: those events through the pipeline, no BPF */
	const char *prometheus;	 /* HOST:PORT, or "off" */
	enum console_mode console;
	const char *service_name; /* NULL: the executable's name */
	uint32_t capture_bytes;
	size_t max_routes;
	const char *otlp_endpoint;
	unsigned int groups;	 /* GROUP_* on */
	unsigned int exited_ttl; /* seconds an exited process's saturation series stay */
	int verbose;
	struct otel_config otel;
	/* --keep-slower-than: traces that lasted longer are exported whatever the sampler says;
	 * 0: off */
	uint64_t keep_slower_than_ns;
	/* the budget: obsprobe's own RSS above memory_limit bytes (0: none) stops span export
	 * until it is back under 90% of it; spans exported (console, OTLP) per second (0: no cap) */
	uint64_t memory_limit;
	unsigned long max_spans_per_s;
	/* --ring-buffer-size: the events ring buffer's bytes (a power of two) */
	uint64_t ring_bytes;
	/* --logs: what watched processes write to stdout and stderr, as log records (OTLP);
	 * -1: the default, on with --pid, off node-wide. Budgets per process and second: bytes
	 * (kept in BPF) and lines */
	int logs;
	uint64_t log_bytes_per_s;
	unsigned long log_lines_per_s;
	/* OBSPROBE_HIDE_KERNEL_FEATURES: kernel features to treat as missing (tp_btf, raw_tp, tp,
	 * fentry, kprobe, uprobe; comma-separated), so that tests run the fallbacks; NULL: none */
	const char *hide_kernel;
};

static inline bool config_has(const struct config *c, enum signal_group g)
{
	return (c->groups & g) != 0;
}

/* Whether stdout and stderr are read as logs: --logs, else on unless node-wide. */
static inline bool config_logs(const struct config *c)
{
	return c->logs >= 0 ? c->logs : !selection_node_wide(&c->sel);
}

#endif /* OBSPROBE_CONFIG_H */
