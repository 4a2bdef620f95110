// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/* obsprobe: spans and RED metrics for a process's HTTP traffic, from the kernel, no code change. */
#include <bpf/libbpf.h>
#include <errno.h>
#include <getopt.h>
#include <limits.h>
#include <signal.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "exporters/console.h"
#include "protocols/http.h"
#include "probes/kernel.h"
#include "util/log.h"
#include "pipeline/metrics.h"
#include "obsprobe/common.h"
#include "otel_config.h"
#include "exporters/otlp.h"
#include "protocols/pg.h"
#include "obsprobe/proc.h"
#include "probes/proc.h"
#include "obsprobe/mem.h"
#include "exporters/prometheus.h"
#include "pipeline/saturation.h"
#include "probes/sock.h"
#include "probes/tls.h"
#include "pipeline/targets.h"

#define OBSPROBE_VERSION "0.1.0"
#define MAX_PIDS 64
#define MAX_DESCENDANTS 4096
#define TICK_NS 1000000000ull
#define POLL_MS 10

static const char usage[] =
	"Usage: obsprobe --pid PID [--pid PID ...] [OPTIONS]\n"
	"\n"
	"Traces the HTTP/1.x requests a process serves and makes, and the PostgreSQL queries it\n"
	"makes, from the kernel, without touching it: one span per request or query on the console,\n"
	"RED metrics on a Prometheus endpoint. HTTPS too: the plaintext is read where the process\n"
	"hands it to OpenSSL or GnuTLS.\n"
	"\n"
	"  -p, --pid PID            watch PID, its threads and all its descendants (repeatable)\n"
	"      --prometheus ADDR    serve /metrics on HOST:PORT (default 127.0.0.1:9464), or 'off'\n"
	"      --console MODE       text (default), json (one object per span) or off\n"
	"      --service-name NAME  service.name of every span (default: OTEL_SERVICE_NAME, else\n"
	"                           the executable's name)\n"
	"      --capture-bytes N    bytes captured per socket read/write, 64..4096 (default 1024)\n"
	"      --max-routes N       distinct http.route values per service before 'other' (100)\n"
	"      --disable LIST       turn signal groups off: a comma-separated list of http (spans\n"
	"                           and RED metrics), tls (HTTPS through uprobes on OpenSSL and\n"
	"                           GnuTLS; off with http and pgsql), pgsql (PostgreSQL client\n"
	"                           calls: DB spans and metrics), libpq (its uprobes on libpq;\n"
	"                           the wire protocol is still read), sched (threads, run-queue\n"
	"                           latency, off-CPU time), memory (RSS, peak, page faults, OOM\n"
	"                           kills), go (goroutines); all are on by default\n"
	"      --exited-ttl SECONDS how long a process's saturation series stay on after it\n"
	"                           exited (default 60)\n"
	"      --otlp-endpoint URL  export traces and metrics over OTLP/HTTP protobuf to URL\n"
	"                           (URL/v1/traces, URL/v1/metrics); also OTEL_EXPORTER_OTLP_*\n"
	"                           and the other OTEL_* SDK variables, which this flag overrides\n"
	"  -v, --verbose            more messages (-vv: libbpf's too)\n"
	"  -V, --version            print the version and exit\n"
	"  -h, --help               this text\n"
	"\n"
	"Examples:\n"
	"  sudo obsprobe --pid $(pgrep -o nginx)        # nginx master and its workers\n"
	"  sudo obsprobe -p 1234 --console json         # one JSON object per span\n"
	"  sudo obsprobe -p 1234 --prometheus 0.0.0.0:9464 --service-name checkout\n"
	"  sudo obsprobe -p 1234 --disable http,pgsql    # saturation signals only\n"
	"  curl -s 127.0.0.1:9464/metrics               # RED metrics\n"
	"  sudo OTEL_EXPORTER_OTLP_COMPRESSION=gzip obsprobe -p 1234 \\\n"
	"       --otlp-endpoint http://127.0.0.1:4318     # to an OpenTelemetry Collector\n";

/* semconv's advice for db.client.operation.duration: 1 ms ... 10 s */
static const double db_bounds[] = { 0.001, 0.005, 0.01, 0.05, 0.1, 0.5, 1, 5, 10 };
static const double http_bounds[] = { 0.005, 0.01, 0.025, 0.05, 0.075, 0.1, 0.25,
				      0.5,   0.75, 1,	  2.5,	5,     7.5, 10 };

static const char *const drop_reason_names[OBS_DROP__COUNT] = {
	[OBS_DROP_RINGBUF_FULL] = "ringbuf_full",  [OBS_DROP_READ_FAULT] = "read_fault",
	[OBS_DROP_CONN_TABLE] = "conn_table_full", [OBS_DROP_SCRATCH] = "scratch_miss",
	[OBS_DROP_TLS_NO_CONN] = "tls_no_socket",  [OBS_DROP_TLS_CALLS] = "tls_call_table_full",
};

struct options {
	uint32_t pids[MAX_PIDS];
	size_t npids;
	const char *prometheus;
	enum console_mode console;
	const char *service_name;
	uint32_t capture_bytes;
	size_t max_routes;
	const char *otlp_endpoint;
	bool no_http;
	bool no_tls;
	bool no_pgsql;
	bool no_libpq;
	unsigned int saturation; /* SAT_* groups on */
	unsigned int exited_ttl; /* seconds an exited process's saturation series stay */
	int verbose;
};

/* db_client_connection_count series: kept once seen, so that a pool whose connections all
 * closed reads 0 rather than vanishing. */
struct db_pool {
	char service[128];
	char pool[96];
	double used, idle;
};

#define MAX_POOLS 64

struct app {
	struct options opt;
	struct targets *targets;
	struct http_tracker *tracker;
	struct pg_tracker *pg;
	struct sock_sinks sinks;
	struct metrics *metrics;
	struct prom_server *prom;
	struct otel_config otel;
	struct otlp_exporter *otlp;
	struct proc_bpf *proc;
	struct sock_bpf *sock;
	struct tls_probe *tls;
	struct saturation *sat;
	struct ring_buffer *rb;
	struct strbuf line;
	char host_name[256];
	int64_t clock_offset;
	uint64_t events, bad_events;
	int fam_server, fam_client, fam_events, fam_lost, fam_parse, fam_routes, fam_procs;
	int fam_exp_dropped, fam_exp_requests;
	int fam_db, fam_db_errors, fam_db_conns;
	struct db_pool pools[MAX_POOLS];
	size_t npools;
};

static volatile sig_atomic_t stop_requested;

static void on_signal(int sig)
{
	(void)sig;
	stop_requested = 1;
}

static uint64_t now_ns(clockid_t clk)
{
	struct timespec ts;

	clock_gettime(clk, &ts);
	return (uint64_t)ts.tv_sec * 1000000000ull + (uint64_t)ts.tv_nsec;
}

static int parse_uint(const char *s, unsigned long min, unsigned long max, unsigned long *out)
{
	char *end;
	unsigned long v;

	errno = 0;
	v = strtoul(s, &end, 10);
	if (errno || end == s || *end || s[0] == '-' || v < min || v > max)
		return -EINVAL;
	*out = v;
	return 0;
}

/* --disable http,tls,pgsql,libpq,sched,memory,go */
static int parse_disable(const char *list, struct options *o)
{
	static const struct {
		const char *name;
		unsigned int sat;
	} groups[] = { { "http", 0 },	{ "tls", 0 },		{ "pgsql", 0 },
		       { "libpq", 0 },	{ "sched", SAT_SCHED }, { "memory", SAT_MEMORY },
		       { "go", SAT_GO } };
	char buf[128], *tok, *save = NULL;
	size_t i;

	if (strlen(list) >= sizeof(buf) || !*list) {
		fprintf(stderr,
			"obsprobe: --disable: '%s' is not a list of http, tls, pgsql, libpq, sched, "
			"memory, go\n",
			list);
		return -EINVAL;
	}
	strcpy(buf, list);
	for (tok = strtok_r(buf, ",", &save); tok; tok = strtok_r(NULL, ",", &save)) {
		for (i = 0; i < sizeof(groups) / sizeof(groups[0]); i++)
			if (!strcmp(tok, groups[i].name))
				break;
		if (i == sizeof(groups) / sizeof(groups[0])) {
			fprintf(stderr,
				"obsprobe: --disable: unknown group '%s' (known: http, tls, pgsql, "
				"libpq, sched, memory, go)\n",
				tok);
			return -EINVAL;
		}
		if (groups[i].sat)
			o->saturation &= ~groups[i].sat;
		else if (!strcmp(tok, "tls"))
			o->no_tls = true;
		else if (!strcmp(tok, "pgsql"))
			o->no_pgsql = true;
		else if (!strcmp(tok, "libpq"))
			o->no_libpq = true;
		else
			o->no_http = true;
	}
	return 0;
}

static int parse_args(int argc, char **argv, struct options *o)
{
	enum {
		OPT_PROM = 256,
		OPT_CONSOLE,
		OPT_SERVICE,
		OPT_CAPTURE,
		OPT_ROUTES,
		OPT_OTLP,
		OPT_DISABLE,
		OPT_EXITED_TTL,
	};
	static const struct option longopts[] = {
		{ "pid", required_argument, NULL, 'p' },
		{ "prometheus", required_argument, NULL, OPT_PROM },
		{ "console", required_argument, NULL, OPT_CONSOLE },
		{ "service-name", required_argument, NULL, OPT_SERVICE },
		{ "capture-bytes", required_argument, NULL, OPT_CAPTURE },
		{ "max-routes", required_argument, NULL, OPT_ROUTES },
		{ "otlp-endpoint", required_argument, NULL, OPT_OTLP },
		{ "disable", required_argument, NULL, OPT_DISABLE },
		{ "exited-ttl", required_argument, NULL, OPT_EXITED_TTL },
		{ "verbose", no_argument, NULL, 'v' },
		{ "version", no_argument, NULL, 'V' },
		{ "help", no_argument, NULL, 'h' },
		{},
	};
	unsigned long v;
	int c;

	o->prometheus = "127.0.0.1:9464";
	o->console = CONSOLE_TEXT;
	o->capture_bytes = 1024;
	o->max_routes = 100;
	o->saturation = SAT_SCHED | SAT_MEMORY | SAT_GO;
	o->exited_ttl = SAT_RETAIN_DEFAULT_S;
	o->service_name = getenv("OTEL_SERVICE_NAME");
	opterr = 0; /* one message of ours, not getopt's and then ours */
	while ((c = getopt_long(argc, argv, ":p:vVh", longopts, NULL)) != -1) {
		switch (c) {
		case 'p':
			if (parse_uint(optarg, 1, INT_MAX, &v)) {
				fprintf(stderr, "obsprobe: --pid: '%s' is not a process id\n",
					optarg);
				return -EINVAL;
			}
			if (o->npids == MAX_PIDS) {
				fprintf(stderr, "obsprobe: at most %d --pid\n", MAX_PIDS);
				return -EINVAL;
			}
			o->pids[o->npids++] = (uint32_t)v;
			break;
		case OPT_PROM:
			o->prometheus = optarg;
			break;
		case OPT_CONSOLE:
			if (console_parse_mode(optarg, &o->console)) {
				fprintf(stderr,
					"obsprobe: --console: '%s' is not text, json or off\n",
					optarg);
				return -EINVAL;
			}
			break;
		case OPT_SERVICE:
			o->service_name = optarg;
			break;
		case OPT_CAPTURE:
			if (parse_uint(optarg, 64, SOCK_CAPTURE_MAX, &v)) {
				fprintf(stderr,
					"obsprobe: --capture-bytes: '%s' is not in 64..%d\n",
					optarg, SOCK_CAPTURE_MAX);
				return -EINVAL;
			}
			o->capture_bytes = (uint32_t)v;
			break;
		case OPT_ROUTES:
			if (parse_uint(optarg, 1, 100000, &v)) {
				fprintf(stderr,
					"obsprobe: --max-routes: '%s' is not in 1..100000\n",
					optarg);
				return -EINVAL;
			}
			o->max_routes = v;
			break;
		case OPT_OTLP:
			o->otlp_endpoint = optarg;
			break;
		case OPT_DISABLE:
			if (parse_disable(optarg, o))
				return -EINVAL;
			break;
		case OPT_EXITED_TTL:
			if (parse_uint(optarg, 0, 86400, &v)) {
				fprintf(stderr,
					"obsprobe: --exited-ttl: '%s' is not in 0..86400 seconds\n",
					optarg);
				return -EINVAL;
			}
			o->exited_ttl = (unsigned int)v;
			break;
		case 'v':
			o->verbose++;
			break;
		case 'V':
			printf("obsprobe %s\n", OBSPROBE_VERSION);
			exit(0);
		case 'h':
			fputs(usage, stdout);
			exit(0);
		case ':':
			fprintf(stderr, "obsprobe: %s needs a value; try 'obsprobe --help'\n",
				argv[optind - 1]);
			return -EINVAL;
		default:
			fprintf(stderr, "obsprobe: unknown option '%s'; try 'obsprobe --help'\n",
				argv[optind - 1]);
			return -EINVAL;
		}
	}
	if (optind < argc) {
		fprintf(stderr, "obsprobe: unexpected argument '%s'; try 'obsprobe --help'\n",
			argv[optind]);
		return -EINVAL;
	}
	if (!o->npids) {
		fprintf(stderr, "obsprobe: no process to watch: give --pid PID (see --help)\n");
		return -EINVAL;
	}
	return 0;
}

static const char *route_cb(void *ctx, uint32_t pid, const char *folded)
{
	struct app *a = ctx;

	targets_get(a->targets, pid);
	return targets_route(a->targets, pid, folded);
}

static void record_db_metrics(struct app *a, const struct span *s, const char *service)
{
	double secs = (double)(s->end_ns - s->start_ns) / 1e9;
	const struct metric_label l[] = {
		{ "db.collection.name", span_get_str(s, "db.collection.name"), true },
		{ "db.operation.name", span_get_str(s, "db.operation.name"), true },
		{ "db.system.name", span_get_str(s, "db.system.name"), false },
		{ "error.type", span_get_str(s, "error.type"), true },
		{ "service.name", service, false },
	};

	metrics_histogram_observe(a->metrics, a->fam_db, l, 5, secs);
	if (s->error)
		metrics_counter_add(a->metrics, a->fam_db_errors, l, 5, 1);
}

static void record_metrics(struct app *a, const struct span *s, const char *service)
{
	char status[16] = "", port[16] = "";
	int64_t code = span_get_int(s, "http.response.status_code", 0);
	double secs = (double)(s->end_ns - s->start_ns) / 1e9;
	const char *method = span_get_str(s, "http.request.method");

	if (span_get(s, "db.system.name")) {
		record_db_metrics(a, s, service);
		return;
	}
	if (code)
		snprintf(status, sizeof(status), "%lld", (long long)code);
	if (s->kind == SPAN_KIND_SERVER) {
		/* OpenTelemetry attribute keys: /metrics renders them with '_' for '.' */
		const struct metric_label l[] = {
			{ "http.request.method", method, false },
			{ "http.response.status_code", status, true },
			{ "http.route", span_get_str(s, "http.route"), false },
			{ "service.name", service, false },
			{ "url.scheme", span_get_str(s, "url.scheme"), false },
		};

		metrics_histogram_observe(a->metrics, a->fam_server, l, 5, secs);
	} else {
		const struct metric_label l[] = {
			{ "http.request.method", method, false },
			{ "http.response.status_code", status, true },
			{ "server.address", span_get_str(s, "server.address"), false },
			{ "server.port", port, true },
			{ "service.name", service, false },
		};

		if (span_get(s, "server.port"))
			snprintf(port, sizeof(port), "%lld",
				 (long long)span_get_int(s, "server.port", 0));
		metrics_histogram_observe(a->metrics, a->fam_client, l, 5, secs);
	}
}

static void span_cb(void *ctx, const struct span *s)
{
	struct app *a = ctx;
	const struct proc_info *p = targets_get(a->targets, s->pid);
	const char *service = p ? p->service_name : "unknown_service";

	if (a->opt.console != CONSOLE_OFF) {
		strbuf_reset(&a->line);
		console_format(&a->line, a->opt.console, s, p, a->host_name, a->clock_offset);
		if (a->line.len)
			fwrite(a->line.buf, 1, a->line.len, stdout);
	}
	if (a->metrics)
		record_metrics(a, s, service);
	if (otlp_exporter_wants_traces(a->otlp) && otel_should_sample(&a->otel, s))
		otlp_exporter_add_span(a->otlp, s, p);
}

static bool thread_parent_cb(void *ctx, uint32_t tid, uint8_t trace_id[16], uint8_t span_id[8])
{
	struct app *a = ctx;

	return http_tracker_thread_parent(a->tracker, tid, trace_id, span_id);
}

static void forget_pid(void *ctx, uint32_t pid)
{
	struct app *a = ctx;

	log_info("process %u exited", pid);
	http_tracker_proc_exit(a->tracker, pid, now_ns(CLOCK_MONOTONIC));
	if (a->pg)
		pg_tracker_proc_exit(a->pg, pid, now_ns(CLOCK_MONOTONIC));
	targets_remove(a->targets, pid);
	proc_probe_unwatch(a->proc, pid);
}

static int handle_event(void *ctx, void *data, size_t size)
{
	struct app *a = ctx;
	const struct obs_event_hdr *h = data;
	const struct obs_proc_event *pe = data;

	a->events++;
	if (size < sizeof(*h)) {
		a->bad_events++;
		return 0;
	}
	switch (h->type) {
	case OBS_EV_PROC_FORK:
	case OBS_EV_PROC_EXEC: {
		char comm[OBS_COMM_LEN + 1] = "";

		if (size < sizeof(*pe)) {
			a->bad_events++;
			break;
		}
		memcpy(comm, pe->comm, OBS_COMM_LEN);
		if (targets_note(a->targets, h->pid, comm) == 0 && h->type == OBS_EV_PROC_FORK)
			log_info("following pid %u (child of %u)", h->pid, pe->ppid);
		/* a new program: its own executable may hold a TLS library */
		if (h->type == OBS_EV_PROC_EXEC)
			tls_probe_note(a->tls, h->pid);
		break;
	}
	case OBS_EV_PROC_MMAP:
		tls_probe_note(a->tls, h->pid);
		break;
	case OBS_EV_PROC_EXIT:
		forget_pid(a, h->pid);
		break;
	case OBS_EV_MEM_OOM:
		saturation_oom(a->sat, a->targets, data, size);
		break;
	case OBS_EV_LIBPQ:
		if (size < sizeof(struct libpq_event) || !a->pg)
			a->bad_events++;
		else
			pg_tracker_libpq(a->pg, data);
		break;
	default:
		if (sock_handle_event(&a->sinks, data, size))
			a->bad_events++;
	}
	return 0;
}

static int register_families(struct app *a)
{
	const struct metric_family_def defs[] = {
		/* One instrument, two names: the Prometheus rendering and the semconv one */
		{ "http_server_request_duration_seconds", "Duration of HTTP server requests.",
		  METRIC_HISTOGRAM, http_bounds, sizeof(http_bounds) / sizeof(http_bounds[0]),
		  "http.server.request.duration", "s" },
		{ "http_client_request_duration_seconds", "Duration of HTTP client requests.",
		  METRIC_HISTOGRAM, http_bounds, sizeof(http_bounds) / sizeof(http_bounds[0]),
		  "http.client.request.duration", "s" },
		{ "obsprobe_events_total", "Events obsprobe read from its ring buffer.",
		  METRIC_COUNTER, NULL, 0, "obsprobe.events", "{event}" },
		{ "obsprobe_events_lost_total",
		  "Events lost before they reached obsprobe, by reason.", METRIC_COUNTER, NULL, 0,
		  "obsprobe.events.lost", "{event}" },
		{ "obsprobe_parse_errors_total", "Streams that did not parse as their protocol.",
		  METRIC_COUNTER, NULL, 0, "obsprobe.parse.errors", "{error}" },
		{ "obsprobe_route_overflow_total",
		  "Requests whose route was folded into 'other' by the per-service route cap.",
		  METRIC_COUNTER, NULL, 0, "obsprobe.route.overflow", "{request}" },
		{ "obsprobe_watched_processes", "Processes obsprobe watches now.", METRIC_GAUGE,
		  NULL, 0, "obsprobe.watched.processes", "{process}" },
		{ "obsprobe_export_dropped_total",
		  "Spans (signal=traces) or metric exports (signal=metrics) the OTLP exporter gave "
		  "up on.",
		  METRIC_COUNTER, NULL, 0, "obsprobe.export.dropped", "{item}" },
		{ "obsprobe_export_requests_total", "OTLP export attempts, by signal and outcome.",
		  METRIC_COUNTER, NULL, 0, "obsprobe.export.requests", "{request}" },
		{ "db_client_operation_duration_seconds", "Duration of database client operations.",
		  METRIC_HISTOGRAM, db_bounds, sizeof(db_bounds) / sizeof(db_bounds[0]),
		  "db.client.operation.duration", "s" },
		{ "db_client_operation_errors_total", "Database client operations that failed.",
		  METRIC_COUNTER, NULL, 0, "db.client.operation.errors", "{operation}" },
		{ "db_client_connection_count",
		  "Database client connections, by state: used (a query in flight or a transaction "
		  "open) or idle.",
		  METRIC_GAUGE, NULL, 0, "db.client.connection.count", "{connection}" },
	};
	int *ids[] = { &a->fam_server,	     &a->fam_client, &a->fam_events,	&a->fam_lost,
		       &a->fam_parse,	     &a->fam_routes, &a->fam_procs,	&a->fam_exp_dropped,
		       &a->fam_exp_requests, &a->fam_db,     &a->fam_db_errors, &a->fam_db_conns };
	size_t i;

	for (i = 0; i < sizeof(defs) / sizeof(defs[0]); i++) {
		*ids[i] = metrics_register(a->metrics, &defs[i]);
		if (*ids[i] < 0)
			return *ids[i];
	}
	return 0;
}

static void update_export_health(struct app *a)
{
	static const char *const signals[] = { "traces", "metrics" };
	struct otlp_stats st;
	int sig;

	otlp_exporter_get_stats(a->otlp, &st);
	for (sig = OTLP_TRACES; sig <= OTLP_METRICS; sig++) {
		struct metric_label l[2] = { { "signal", signals[sig] }, { "outcome", "ok" } };

		metrics_counter_set(a->metrics, a->fam_exp_dropped, l, 1, (double)st.dropped[sig]);
		metrics_counter_set(a->metrics, a->fam_exp_requests, l, 2, (double)st.ok[sig]);
		l[1].value = "retry";
		metrics_counter_set(a->metrics, a->fam_exp_requests, l, 2, (double)st.retried[sig]);
		l[1].value = "failed";
		metrics_counter_set(a->metrics, a->fam_exp_requests, l, 2, (double)st.failed[sig]);
	}
}

/* One series of obsprobe's own counters, by its one label (reason, protocol). */
static void set_one_label(struct app *a, int family, const char *key, const char *value, uint64_t n)
{
	struct metric_label l = { key, value };

	metrics_counter_set(a->metrics, family, &l, 1, (double)n);
}

static void count_pool(void *ctx, uint32_t pid, const char *pool, bool used)
{
	struct app *a = ctx;
	const struct proc_info *p = targets_get(a->targets, pid);
	const char *service = p ? p->service_name : "unknown_service";
	struct db_pool *dp = NULL;
	size_t i;

	for (i = 0; i < a->npools && !dp; i++)
		if (!strcmp(a->pools[i].service, service) && !strcmp(a->pools[i].pool, pool))
			dp = &a->pools[i];
	if (!dp && a->npools < MAX_POOLS) {
		dp = &a->pools[a->npools++];
		snprintf(dp->service, sizeof(dp->service), "%s", service);
		snprintf(dp->pool, sizeof(dp->pool), "%s", pool);
	}
	if (dp)
		*(used ? &dp->used : &dp->idle) += 1;
}

/* db_client_connection_count, and the PostgreSQL tracker's losses. */
static void update_db_health(struct app *a)
{
	struct pg_tracker_stats st;
	size_t i;

	for (i = 0; i < a->npools; i++)
		a->pools[i].used = a->pools[i].idle = 0;
	pg_tracker_visit_conns(a->pg, count_pool, a);
	for (i = 0; i < a->npools; i++) {
		struct metric_label l[] = {
			{ "db.client.connection.pool.name", a->pools[i].pool, false },
			{ "db.client.connection.state", "used", false },
			{ "db.system.name", "postgresql", false },
			{ "service.name", a->pools[i].service, false },
		};

		metrics_gauge_set(a->metrics, a->fam_db_conns, l, 4, a->pools[i].used);
		l[1].value = "idle";
		metrics_gauge_set(a->metrics, a->fam_db_conns, l, 4, a->pools[i].idle);
	}
	pg_tracker_get_stats(a->pg, &st);
	set_one_label(a, a->fam_parse, "protocol", "postgresql", st.lost);
	set_one_label(a, a->fam_lost, "reason", "pg_libpq_unjoined", st.libpq_unjoined);
	set_one_label(a, a->fam_lost, "reason", "pg_tls_not_decrypted", st.encrypted);
}

static void update_health(struct app *a)
{
	uint64_t drops[OBS_DROP__COUNT] = {};
	struct http_tracker_stats st;
	size_t i;

	if (!a->metrics)
		return;
	http_tracker_get_stats(a->tracker, &st);
	proc_probe_read_drops(a->proc, drops, OBS_DROP__COUNT);
	metrics_counter_set(a->metrics, a->fam_events, NULL, 0, (double)a->events);
	for (i = 0; i < OBS_DROP__COUNT; i++)
		set_one_label(a, a->fam_lost, "reason", drop_reason_names[i], drops[i]);
	set_one_label(a, a->fam_lost, "reason", "capture_truncated", st.truncated);
	if (a->sat)
		set_one_label(a, a->fam_lost, "reason", "thread_table_full",
			      saturation_lost_threads(a->sat));
	set_one_label(a, a->fam_parse, "protocol", "http", st.parse_errors);
	metrics_counter_set(a->metrics, a->fam_routes, NULL, 0,
			    (double)targets_route_overflows(a->targets));
	metrics_gauge_set(a->metrics, a->fam_procs, NULL, 0, (double)targets_count(a->targets));
	if (a->pg)
		update_db_health(a);
	if (a->otlp)
		update_export_health(a);
}

static int watch_all(struct app *a)
{
	static uint32_t desc[MAX_DESCENDANTS];
	size_t i, j, n;
	int err;

	for (i = 0; i < a->opt.npids; i++) {
		uint32_t pid = targets_tgid_of(a->opt.pids[i]);
		const struct proc_info *p;

		/* the BPF side keys processes by thread group: a thread id means its process */
		if (pid != a->opt.pids[i])
			fprintf(stderr,
				"obsprobe: %u is a thread of process %u: watching the process\n",
				a->opt.pids[i], pid);

		/* into the map before the scan: a fork in between is caught by the BPF side */
		err = proc_probe_watch(a->proc, pid, 1);
		if (!err)
			err = targets_add(a->targets, pid);
		if (err) {
			fprintf(stderr, "obsprobe: cannot watch pid %u: %s\n", pid,
				err == -ESRCH ? "no such process" : strerror(-err));
			return err;
		}
		n = targets_descendants(pid, desc, MAX_DESCENDANTS);
		tls_probe_note(a->tls, pid);
		for (j = 0; j < n; j++) {
			if (proc_probe_watch(a->proc, desc[j], 1) == 0)
				targets_add(a->targets, desc[j]);
			tls_probe_note(a->tls, desc[j]);
		}
		p = targets_get(a->targets, pid);
		fprintf(stderr, "obsprobe: watching pid %u (%s) and %zu descendant%s\n", pid,
			p ? p->service_name : "?", n, n == 1 ? "" : "s");
	}
	return 0;
}

static void cleanup(struct app *a)
{
	tls_probe_detach_start(a->tls);
	ring_buffer__free(a->rb);
	/* before the registry goes: its last metrics export reads it */
	otlp_exporter_stop(a->otlp);
	saturation_free(a->sat);
	tls_probe_destroy(a->tls);
	sock_probe_destroy(a->sock);
	proc_probe_destroy(a->proc);
	prom_server_stop(a->prom);
	http_tracker_free(a->tracker);
	pg_tracker_free(a->pg);
	targets_free(a->targets);
	metrics_free(a->metrics);
	strbuf_free(&a->line);
}

static const char *getenv_const(const char *name)
{
	return getenv(name);
}

int main(int argc, char **argv)
{
	static struct app app;
	struct app *a = &app;
	struct http_tracker_ops ops = { .route = route_cb, .span = span_cb, .ctx = a };
	struct pg_tracker_ops pg_ops = { .span = span_cb,
					 .thread_parent = thread_parent_cb,
					 .ctx = a };
	struct sigaction sa = { .sa_handler = on_signal };
	char err[256];
	uint64_t next_tick;
	size_t i;
	int ret = 1;

	if (parse_args(argc, argv, &a->opt))
		return 2;
	if (otel_config_load(&a->otel, getenv_const, a->opt.otlp_endpoint, err, sizeof(err))) {
		fprintf(stderr, "obsprobe: %s\n", err);
		return 2;
	}
	/* Before any setup: loading and probing take seconds (each uprobe ~70 ms), and a SIGINT
	 * that came meanwhile must stop the run, not vanish (a shell's background job starts with
	 * SIGINT ignored). The loop below sees the flag and goes straight to the cleanup. */
	sigaction(SIGINT, &sa, NULL);
	sigaction(SIGTERM, &sa, NULL);
	signal(SIGPIPE, SIG_IGN);
	log_set_level(LOG_WARN + a->opt.verbose);
	log_install_libbpf();
	strbuf_init(&a->line);
	gethostname(a->host_name, sizeof(a->host_name) - 1);

	for (i = 0; i < a->opt.npids; i++) {
		if (kill((pid_t)a->opt.pids[i], 0) && errno == ESRCH) {
			fprintf(stderr, "obsprobe: no process with pid %u\n", a->opt.pids[i]);
			return 1;
		}
	}
	if (kernel_check_privileges(err, sizeof(err)) || kernel_check_btf(err, sizeof(err))) {
		fprintf(stderr, "obsprobe: %s\n", err);
		return 1;
	}

	a->targets = targets_new(a->opt.service_name, a->opt.max_routes);
	a->tracker = http_tracker_new(&ops, 16384);
	if (!a->opt.no_pgsql)
		a->pg = pg_tracker_new(&pg_ops, 16384);
	a->sinks = (struct sock_sinks){ a->tracker, a->pg, !a->opt.no_http };
	if (!a->targets || !a->tracker || (!a->opt.no_pgsql && !a->pg)) {
		fprintf(stderr, "obsprobe: out of memory\n");
		goto out;
	}
	if (strcmp(a->opt.prometheus, "off") != 0 || a->otel.metrics_url[0]) {
		a->metrics = metrics_new(2000);
		if (!a->metrics || register_families(a)) {
			fprintf(stderr, "obsprobe: cannot set up the metrics registry\n");
			goto out;
		}
	}
	if (a->otel.traces_url[0] || a->otel.metrics_url[0]) {
		a->otlp = otlp_exporter_start(&a->otel, a->metrics, a->host_name, OBSPROBE_VERSION,
					      err, sizeof(err));
		if (!a->otlp) {
			fprintf(stderr, "obsprobe: OTLP: %s\n", err);
			goto out;
		}
	}
	if (strcmp(a->opt.prometheus, "off") != 0) {
		a->prom = prom_server_start(a->opt.prometheus, a->metrics, err, sizeof(err));
		if (!a->prom) {
			fprintf(stderr, "obsprobe: --prometheus: %s\n", err);
			goto out;
		}
	}
	if (kernel_ensure_tracefs(err, sizeof(err))) {
		fprintf(stderr, "obsprobe: %s\n", err);
		goto out;
	}

	a->proc = proc_probe_open_load();
	if (!a->proc)
		goto out;
	if (!a->opt.no_http || a->pg) {
		unsigned int libs = (a->opt.no_tls ? 0 : LIBPROBE_TLS) |
				    (a->pg && !a->opt.no_libpq ? LIBPROBE_LIBPQ : 0);

		a->sock = sock_probe_start(a->proc, a->opt.capture_bytes);
		if (!a->sock)
			goto out;
		if (libs) {
			a->tls = tls_probe_start(a->proc, a->sock, a->opt.capture_bytes, libs);
			if (!a->tls)
				goto out;
		}
	}
	/* saturation is metrics only: nothing to do without a metrics exporter */
	if (a->metrics && a->opt.saturation) {
		a->sat =
			saturation_start(a->proc, a->metrics, a->opt.saturation, a->opt.exited_ttl);
		if (!a->sat)
			goto out;
	}
	if (proc_probe_attach(a->proc))
		goto out;
	a->rb = ring_buffer__new(proc_probe_events_fd(a->proc), handle_event, a, NULL);
	if (!a->rb) {
		fprintf(stderr, "obsprobe: cannot open the ring buffer: %s\n", strerror(errno));
		goto out;
	}
	if (watch_all(a))
		goto out;
	tls_probe_flush(a->tls);
	saturation_collect(a->sat, a->targets, now_ns(CLOCK_MONOTONIC));
	if (a->prom)
		fprintf(stderr, "obsprobe: metrics on http://%s/metrics\n", a->opt.prometheus);

	a->clock_offset = (int64_t)(now_ns(CLOCK_REALTIME) - now_ns(CLOCK_MONOTONIC));
	next_tick = now_ns(CLOCK_MONOTONIC) + TICK_NS;
	ret = 0;
	while (!stop_requested) {
		int n = ring_buffer__poll(a->rb, POLL_MS);
		uint64_t now;

		if (n < 0 && n != -EINTR) {
			log_err("reading the ring buffer failed: %s", strerror(-n));
			ret = 1;
			break;
		}
		/* producers skip wakeups below a fill threshold: drain what the timer found */
		ring_buffer__consume(a->rb);
		tls_probe_flush(a->tls);
		now = now_ns(CLOCK_MONOTONIC);
		http_tracker_flush_held(a->tracker, now);
		fflush(stdout);
		if (now < next_tick)
			continue;
		next_tick = now + TICK_NS;
		a->clock_offset = (int64_t)(now_ns(CLOCK_REALTIME) - now_ns(CLOCK_MONOTONIC));
		targets_reap(a->targets, forget_pid, a);
		saturation_collect(a->sat, a->targets, now);
		update_health(a);
		if (targets_count(a->targets) == 0) {
			fprintf(stderr, "obsprobe: no watched process left, exiting\n");
			break;
		}
	}
	ring_buffer__consume(a->rb);
	http_tracker_flush_held(a->tracker, UINT64_MAX);
	update_health(a);
	fflush(stdout);
	fprintf(stderr, "obsprobe: detached\n");
out:
	cleanup(a);
	return ret;
}
