// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/*
 * Input: NUL-separated strings. The first NENV are the values of the variables cli_parse reads
 * through getenv_fn, in env_names[] order, an empty one unset (the SDKs treat an empty variable
 * as unset); the rest are the arguments after argv[0], at most MAX_ARGS.
 *
 * Besides the sanitizers (messages go to a /dev/null stream, formatted all the same), it checks
 * that cli_parse answers 0, CLI_DONE or -EINVAL; that an accepted config is within what
 * --help promises (ranges, one mode of running, URLs, counts) and that every string in it is
 * the default or points into the caller's argv or environment (cli_parse keeps, never
 * copies); and that the same argv and environment parse to the same answer and config again.
 */
#include <assert.h>
#include <errno.h>
#include <limits.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"
#include "obsprobe/sock.h"

#define MAX_ARGS 256

static const char *const env_names[] = {
	"OTEL_SERVICE_NAME",
	"OBSPROBE_HIDE_KERNEL_FEATURES",
	"OTEL_EXPORTER_OTLP_ENDPOINT",
	"OTEL_EXPORTER_OTLP_TRACES_ENDPOINT",
	"OTEL_EXPORTER_OTLP_METRICS_ENDPOINT",
	"OTEL_EXPORTER_OTLP_LOGS_ENDPOINT",
	"OTEL_LOGS_EXPORTER",
	"OTEL_EXPORTER_OTLP_HEADERS",
	"OTEL_EXPORTER_OTLP_COMPRESSION",
	"OTEL_EXPORTER_OTLP_TIMEOUT",
	"OTEL_METRIC_EXPORT_INTERVAL",
	"OTEL_BLRP_MAX_QUEUE_SIZE",
	"OTEL_BLRP_MAX_EXPORT_BATCH_SIZE",
	"OTEL_BLRP_SCHEDULE_DELAY",
	"OTEL_BLRP_EXPORT_TIMEOUT",
	"OTEL_BSP_MAX_QUEUE_SIZE",
	"OTEL_BSP_MAX_EXPORT_BATCH_SIZE",
	"OTEL_BSP_SCHEDULE_DELAY",
	"OTEL_BSP_EXPORT_TIMEOUT",
	"OTEL_RESOURCE_ATTRIBUTES",
	"OTEL_TRACES_SAMPLER",
	"OTEL_TRACES_SAMPLER_ARG",
};

#define NENV (sizeof(env_names) / sizeof(env_names[0]))

static const char *env_vals[NENV];
/* the input, NUL-terminated, where every string cli_parse keeps must point */
static const char *in_start, *in_end;

static const char *fake_getenv(const char *name)
{
	size_t i;

	for (i = 0; i < NENV; i++)
		if (!strcmp(name, env_names[i]))
			return env_vals[i];
	/* a variable cli.c reads that this fuzzer does not know of: add it to env_names */
	assert(!"getenv of an unknown variable");
	return NULL;
}

/* NULL, the default def (when given), or a string inside the input */
static void check_str(const char *s, const char *def)
{
	if (!s || (def && !strcmp(s, def)))
		return;
	assert(s >= in_start && s < in_end);
	assert(s + strlen(s) < in_end);
}

static void check_kv(const struct otel_kv *kv, size_t n, size_t max)
{
	size_t i;

	assert(n <= max);
	for (i = 0; i < n; i++) {
		assert(memchr(kv[i].key, '\0', sizeof(kv[i].key)));
		assert(memchr(kv[i].value, '\0', sizeof(kv[i].value)));
	}
}

static void check_url(const char *u)
{
	assert(memchr(u, '\0', OTEL_URL_MAX));
	assert(!u[0] || !strncmp(u, "http://", 7) || !strncmp(u, "https://", 8));
}

static void check_config(const struct config *c)
{
	const struct otel_config *o = &c->otel;
	size_t i;

	assert(c->npids <= CONFIG_MAX_PIDS);
	for (i = 0; i < c->npids; i++)
		assert(c->pids[i] >= 1 && c->pids[i] <= INT_MAX);
	/* one thing to do: processes to watch, sites to print, or events to replay */
	assert(c->npids || c->probe_sites || c->replay || selection_node_wide(&c->sel));
	assert(!c->replay || (!c->npids && !selection_node_wide(&c->sel) && !c->record));
	assert(c->sel.ninclude <= SELECT_MAX && c->sel.nexclude <= SELECT_MAX);
	for (i = 0; i < c->sel.ninclude; i++) {
		assert(c->sel.include[i].kind < SELECT__COUNT);
		check_str(c->sel.include[i].value, NULL);
	}
	for (i = 0; i < c->sel.nexclude; i++) {
		assert(c->sel.exclude[i].kind < SELECT__COUNT);
		check_str(c->sel.exclude[i].value, NULL);
	}
	check_str(c->probe_sites, NULL);
	check_str(c->record, NULL);
	check_str(c->replay, NULL);
	check_str(c->prometheus, "127.0.0.1:9464");
	assert(c->prometheus);
	check_str(c->service_name, NULL);
	check_str(c->otlp_endpoint, NULL);
	check_str(c->hide_kernel, NULL);
	assert(c->console == CONSOLE_OFF || c->console == CONSOLE_TEXT ||
	       c->console == CONSOLE_JSON);
	assert(c->capture_bytes >= 64 && c->capture_bytes <= SOCK_CAPTURE_MAX);
	assert(c->max_routes >= 1 && c->max_routes <= 100000);
	assert(!(c->groups & ~(unsigned int)GROUP_ALL));
	assert(c->exited_ttl <= 86400);
	assert(c->verbose >= 0);
	assert(!c->keep_slower_than_ns ||
	       (c->keep_slower_than_ns >= 1000 && c->keep_slower_than_ns <= 3600000000000ull));
	assert(!c->memory_limit ||
	       (c->memory_limit >= 16ull << 20 && c->memory_limit <= 1ull << 40));
	assert(c->max_spans_per_s <= 10000000 && c->log_lines_per_s <= 10000000);
	assert(c->log_bytes_per_s >= 1024 && c->log_bytes_per_s <= 1ull << 32);
	assert(c->logs >= -1 && c->logs <= 1);

	check_url(o->traces_url);
	check_url(o->metrics_url);
	check_url(o->logs_url);
	/* --otlp-endpoint wins over every variable */
	if (c->otlp_endpoint)
		assert(o->traces_url[0] && o->metrics_url[0]);
	check_kv(o->headers, o->nheaders, OTEL_MAX_HEADERS);
	check_kv(o->resource, o->nresource, OTEL_MAX_RESOURCE_ATTRS);
	assert(o->ratio >= 0 && o->ratio <= 1);
	assert(o->sampler <= OTEL_SAMPLER_PARENTBASED_TRACEIDRATIO);
	assert(o->blrp.max_batch >= 1 && o->blrp.max_batch <= o->blrp.max_queue);
	assert(o->blrp.max_queue <= OTEL_BLRP_QUEUE_LIMIT);
	assert(o->bsp.max_batch >= 1 && o->bsp.max_batch <= o->bsp.max_queue);
	assert(o->bsp.max_queue <= OTEL_BSP_QUEUE_LIMIT);
}

/* Selectors are copied in as whole structs, padding and all: compare them field by field and
 * the rest of the config byte by byte (set_defaults and otel_config_load memset it first). */
static void same_config(struct config *a, struct config *b)
{
	size_t i;

	assert(a->sel.ninclude == b->sel.ninclude && a->sel.nexclude == b->sel.nexclude);
	for (i = 0; i < a->sel.ninclude; i++) {
		assert(a->sel.include[i].kind == b->sel.include[i].kind);
		assert(a->sel.include[i].value == b->sel.include[i].value);
		assert(a->sel.include[i].port == b->sel.include[i].port);
	}
	for (i = 0; i < a->sel.nexclude; i++) {
		assert(a->sel.exclude[i].kind == b->sel.exclude[i].kind);
		assert(a->sel.exclude[i].value == b->sel.exclude[i].value);
		assert(a->sel.exclude[i].port == b->sel.exclude[i].port);
	}
	memset(&a->sel, 0, sizeof(a->sel));
	memset(&b->sel, 0, sizeof(b->sel));
	assert(!memcmp(a, b, sizeof(*a)));
}

/* cli_parse on a fresh copy of the argument vector (getopt_long permutes it), its messages
 * formatted into a stream that goes nowhere. */
static int parse(struct config *cfg, char **args, int argc, FILE *sink)
{
	char *argv[MAX_ARGS + 2];
	FILE *saved = stderr;
	int ret;

	memcpy(argv, args, (size_t)(argc + 1) * sizeof(argv[0]));
	stderr = sink; /* glibc: stderr is an ordinary variable; sanitizers write to fd 2 */
	ret = cli_parse(cfg, argc, argv, fake_getenv, sink);
	stderr = saved;
	return ret;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static struct config a, b;
	static FILE *sink;
	char *buf, *p, *end, *args[MAX_ARGS + 2];
	int argc = 1, r1, r2;
	size_t i;

	if (!sink)
		sink = fopen("/dev/null", "w");
	assert(sink);
	buf = malloc(size + 1);
	if (!buf)
		return 0;
	memcpy(buf, data, size);
	buf[size] = '\0';
	in_start = buf;
	in_end = buf + size + 1;

	p = buf;
	end = buf + size;
	for (i = 0; i < NENV; i++) {
		env_vals[i] = p < end && *p ? p : NULL;
		p = p < end ? p + strlen(p) + 1 : p;
	}
	args[0] = "obsprobe";
	while (p < end && argc <= MAX_ARGS) {
		args[argc++] = p;
		p += strlen(p) + 1;
	}
	args[argc] = NULL;

	r1 = parse(&a, args, argc, sink);
	assert(r1 == 0 || r1 == CLI_DONE || r1 == -EINVAL);
	if (r1 == 0)
		check_config(&a);

	r2 = parse(&b, args, argc, sink);
	assert(r2 == r1);
	if (r1 == 0)
		same_config(&a, &b);
	free(buf);
	return 0;
}
