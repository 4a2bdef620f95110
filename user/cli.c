// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
#include "cli.h"

#include <errno.h>
#include <getopt.h>
#include <limits.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "obsprobe/sock.h"
#include "pipeline/saturation.h"
#include "util/budget.h"
#include "util/log.h"

static const char usage[] =
	"Usage: obsprobe --pid PID [--pid PID ...] [OPTIONS]\n"
	"       obsprobe --all | SELECTORS [--exclude KIND=VALUE ...] [OPTIONS]\n"
	"\n"
	"Traces the HTTP/1.x requests a process serves and makes, and the PostgreSQL queries it\n"
	"makes, from the kernel, without touching it: one span per request or query on the console,\n"
	"RED metrics on a Prometheus endpoint. HTTPS too: the plaintext is read where the process\n"
	"hands it to OpenSSL or GnuTLS.\n"
	"\n"
	"  -p, --pid PID            watch PID, its threads and all its descendants (repeatable)\n"
	"      --all                node-wide: watch every process on the host, present and\n"
	"                           future (picked up when it execs), but obsprobe itself\n"
	"      --exe GLOB           node-wide, the processes whose executable matches GLOB (a\n"
	"                           path, or a name when GLOB has no '/': 'nginx', '*/python3*')\n"
	"      --comm NAME          node-wide, the processes named NAME (as ps -o comm shows)\n"
	"      --port N             node-wide, the processes listening on TCP port N\n"
	"      --cgroup PATH        node-wide, the processes in cgroup PATH or below it\n"
	"      --container ID       node-wide, the processes of container ID (12+ hex digits)\n"
	"                           Selectors repeat: one kind given twice means either, two\n"
	"                           kinds mean both (--comm nginx --port 8080)\n"
	"      --exclude KIND=VALUE never watch what matches, KIND one of exe, comm, port,\n"
	"                           cgroup, container (repeatable; --exclude comm=sshd)\n"
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
	"                           kills), go (the goroutine gauge), goroutines (following\n"
	"                           goroutines to link Go spans: off, Go client spans get no\n"
	"                           parent), errors (crashes with their stacks, Go panics, and\n"
	"                           the errors spans show, as error reports); all are on by\n"
	"                           default\n"
	"      --exited-ttl SECONDS how long a process's saturation series stay on after it\n"
	"                           exited (default 60)\n"
	"      --otlp-endpoint URL  export traces and metrics over OTLP/HTTP protobuf to URL\n"
	"                           (URL/v1/traces, URL/v1/metrics); also OTEL_EXPORTER_OTLP_*\n"
	"                           and the other OTEL_* SDK variables, which this flag overrides\n"
	"                           (OTEL_TRACES_SAMPLER decides per trace; a trace with an ERROR\n"
	"                           span is exported whole whatever it says)\n"
	"      --keep-slower-than DURATION\n"
	"                           export whole every trace that lasted longer than DURATION\n"
	"                           (250us, 50ms, 1.5s, 2m), whatever OTEL_TRACES_SAMPLER says;\n"
	"                           off by default\n"
	"      --memory-limit SIZE  obsprobe's own memory: above SIZE (256M, 1G; default 256M;\n"
	"                           'off'), spans stop being exported (metrics still count them)\n"
	"                           until it is back under 90% of it\n"
	"      --ring-buffer-size SIZE\n"
	"                           the ring buffer events reach obsprobe through, a power of\n"
	"                           two from 1M to 1G (default 4M): all of it is resident; what\n"
	"                           does not fit while obsprobe lags is lost and counted\n"
	"      --max-spans-per-second N\n"
	"                           spans exported a second, console and OTLP (default 50000;\n"
	"                           0: no cap); metrics count every span\n"
	"      --logs on|off        export what watched processes write to stdout and stderr as\n"
	"                           OTLP log records, each line with the trace and span of the\n"
	"                           request its thread or goroutine served (JSON lines parsed:\n"
	"                           level, message, time, fields); default on with --pid, off\n"
	"                           node-wide\n"
	"      --log-bytes-per-second SIZE\n"
	"                           per process, bytes of stdout/stderr read a second (default\n"
	"                           1M); beyond, writes are dropped and counted\n"
	"      --log-lines-per-second N\n"
	"                           per process, log records a second (default 1000; 0: no cap)\n"
	"      --probe-sites FILE   print where obsprobe places each uprobe in FILE (a TLS library,\n"
	"                           libpq, a program with either linked in, a Go program) on this\n"
	"                           kernel, and whether the kernel emulates the instruction there;\n"
	"                           then exit\n"
	"      --record FILE        also write every event read from the kernel to FILE\n"
	"      --replay FILE        run the events --record wrote through the pipeline and the\n"
	"                           exporters, with no BPF and no process (for profiling: same\n"
	"                           build, bench/cost.sh), then exit\n"
	"  -v, --verbose            more messages: the kernel's hooks and the variant each probe\n"
	"                           got, each library probed (-vv: libbpf's too)\n"
	"  -V, --version            print the version and exit\n"
	"  -h, --help               this text\n"
	"\n"
	"Examples:\n"
	"  sudo obsprobe --pid $(pgrep -o nginx)        # nginx master and its workers\n"
	"  sudo obsprobe -p 1234 --console json         # one JSON object per span\n"
	"  sudo obsprobe -p 1234 --prometheus 0.0.0.0:9464 --service-name checkout\n"
	"  sudo obsprobe -p 1234 --disable http,pgsql    # saturation signals only\n"
	"  sudo obsprobe --all --exclude comm=sshd --console off --prometheus 0.0.0.0:9464\n"
	"                                               # node-wide, scraped by Prometheus\n"
	"  sudo obsprobe --exe '*/nginx' --exe '*/postgres' # every nginx and PostgreSQL\n"
	"  curl -s 127.0.0.1:9464/metrics               # RED metrics\n"
	"  sudo OTEL_EXPORTER_OTLP_COMPRESSION=gzip obsprobe -p 1234 \\\n"
	"       --otlp-endpoint http://127.0.0.1:4318     # to an OpenTelemetry Collector\n"
	"  sudo OTEL_TRACES_SAMPLER=traceidratio OTEL_TRACES_SAMPLER_ARG=0.1 obsprobe -p 1234 \\\n"
	"       --otlp-endpoint http://127.0.0.1:4318 --keep-slower-than 500ms\n"
	"                                               # 10% of traces, and every slow or failed one\n";

static const struct {
	const char *name;
	enum signal_group group;
} groups[] = {
	{ "http", GROUP_HTTP },	    { "tls", GROUP_TLS },
	{ "pgsql", GROUP_PGSQL },   { "libpq", GROUP_LIBPQ },
	{ "sched", GROUP_SCHED },   { "memory", GROUP_MEMORY },
	{ "go", GROUP_GO },	    { "goroutines", GROUP_GOTRACE },
	{ "errors", GROUP_ERRORS },
};

#define GROUP_NAMES "http, tls, pgsql, libpq, sched, memory, go, goroutines, errors"

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

/* A number flag: its value in min..max, else a message naming the flag and the range. */
static int parse_flag_uint(const char *flag, const char *s, unsigned long min, unsigned long max,
			   const char *unit, unsigned long *out)
{
	if (parse_uint(s, min, max, out) == 0)
		return 0;
	log_err("%s: '%s' is not in %lu..%lu%s", flag, s, min, max, unit);
	return -EINVAL;
}

/* A duration: a decimal number and its unit, us, ms, s or m ("250us", "1.5s"), from 1 us to
 * 1 hour, in ns; "off" is 0. */
static int parse_duration(const char *s, uint64_t *ns)
{
	static const struct {
		const char *unit;
		double ns;
	} units[] = { { "us", 1e3 }, { "ms", 1e6 }, { "s", 1e9 }, { "m", 60e9 } };
	char *end;
	double v;
	size_t i;

	if (!strcmp(s, "off")) {
		*ns = 0;
		return 0;
	}
	errno = 0;
	v = strtod(s, &end);
	/* digits and a point only: no sign, exponent, hex, inf or nan */
	if (errno || end == s || strspn(s, "0123456789.") != (size_t)(end - s) || !isfinite(v))
		return -EINVAL;
	for (i = 0; i < sizeof(units) / sizeof(units[0]); i++) {
		if (strcmp(end, units[i].unit))
			continue;
		v *= units[i].ns;
		if (v < 1e3 || v > 3600e9)
			return -ERANGE;
		*ns = (uint64_t)(v + 0.5);
		return 0;
	}
	return -EINVAL;
}

static int parse_console(const char *s, enum console_mode *out)
{
	if (!strcmp(s, "text") || !strcmp(s, "on"))
		*out = CONSOLE_TEXT;
	else if (!strcmp(s, "json"))
		*out = CONSOLE_JSON;
	else if (!strcmp(s, "off"))
		*out = CONSOLE_OFF;
	else
		return -EINVAL;
	return 0;
}

/* --disable http,tls,pgsql,libpq,sched,memory,go,goroutines,errors */
static int parse_disable(const char *list, unsigned int *on)
{
	char buf[128], *tok, *save = NULL;
	size_t i, n = 0;

	if (strlen(list) >= sizeof(buf) || !*list) {
		log_err("--disable: '%s' is not a list of " GROUP_NAMES, list);
		return -EINVAL;
	}
	strcpy(buf, list);
	for (tok = strtok_r(buf, ",", &save); tok; tok = strtok_r(NULL, ",", &save)) {
		for (i = 0; i < sizeof(groups) / sizeof(groups[0]); i++)
			if (!strcmp(tok, groups[i].name))
				break;
		if (i == sizeof(groups) / sizeof(groups[0])) {
			log_err("--disable: unknown group '%s' (known: " GROUP_NAMES ")", tok);
			return -EINVAL;
		}
		*on &= ~(unsigned int)groups[i].group;
		n++;
	}
	if (!n) {
		log_err("--disable: '%s' names no group (known: " GROUP_NAMES ")", list);
		return -EINVAL;
	}
	return 0;
}

static int add_pid(struct config *c, const char *s)
{
	unsigned long v;

	if (parse_uint(s, 1, INT_MAX, &v)) {
		log_err("--pid: '%s' is not a process id", s);
		return -EINVAL;
	}
	if (c->npids == CONFIG_MAX_PIDS) {
		log_err("at most %d --pid", CONFIG_MAX_PIDS);
		return -EINVAL;
	}
	c->pids[c->npids++] = (uint32_t)v;
	return 0;
}

static void set_defaults(struct config *c, const char *(*getenv_fn)(const char *name))
{
	memset(c, 0, sizeof(*c));
	c->prometheus = "127.0.0.1:9464";
	c->console = CONSOLE_TEXT;
	c->capture_bytes = SOCK_CAPTURE_DEFAULT;
	c->logs = -1;
	c->log_bytes_per_s = SOCK_LOG_BYTES_DEFAULT;
	c->log_lines_per_s = 1000;
	c->max_routes = 100;
	c->groups = GROUP_ALL;
	c->exited_ttl = SAT_RETAIN_DEFAULT_S;
	c->service_name = getenv_fn("OTEL_SERVICE_NAME");
	c->hide_kernel = getenv_fn("OBSPROBE_HIDE_KERNEL_FEATURES");
	c->memory_limit = CONFIG_MEMORY_LIMIT_DEFAULT;
	c->ring_bytes = CONFIG_RING_BYTES_DEFAULT;
	c->max_spans_per_s = CONFIG_MAX_SPANS_PER_S_DEFAULT;
}

enum {
	OPT_PROM = 256,
	OPT_CONSOLE,
	OPT_SERVICE,
	OPT_CAPTURE,
	OPT_ROUTES,
	OPT_OTLP,
	OPT_DISABLE,
	OPT_EXITED_TTL,
	OPT_PROBE_SITES,
	OPT_KEEP_SLOWER,
	OPT_ALL,
	OPT_EXCLUDE,
	OPT_MEMORY_LIMIT,
	OPT_MAX_SPANS,
	OPT_LOGS,
	OPT_LOG_BYTES,
	OPT_RING_BYTES,
	OPT_LOG_LINES,
	OPT_RECORD,
	OPT_REPLAY,
	/* the selectors, in enum select_kind order */
	OPT_SELECT,
	OPT_SELECT_END = OPT_SELECT + SELECT__COUNT,
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
	{ "probe-sites", required_argument, NULL, OPT_PROBE_SITES },
	{ "keep-slower-than", required_argument, NULL, OPT_KEEP_SLOWER },
	{ "all", no_argument, NULL, OPT_ALL },
	{ "memory-limit", required_argument, NULL, OPT_MEMORY_LIMIT },
	{ "max-spans-per-second", required_argument, NULL, OPT_MAX_SPANS },
	{ "logs", required_argument, NULL, OPT_LOGS },
	{ "log-bytes-per-second", required_argument, NULL, OPT_LOG_BYTES },
	{ "ring-buffer-size", required_argument, NULL, OPT_RING_BYTES },
	{ "log-lines-per-second", required_argument, NULL, OPT_LOG_LINES },
	{ "record", required_argument, NULL, OPT_RECORD },
	{ "replay", required_argument, NULL, OPT_REPLAY },
	{ "exclude", required_argument, NULL, OPT_EXCLUDE },
	{ "exe", required_argument, NULL, OPT_SELECT + SELECT_EXE },
	{ "comm", required_argument, NULL, OPT_SELECT + SELECT_COMM },
	{ "port", required_argument, NULL, OPT_SELECT + SELECT_PORT },
	{ "cgroup", required_argument, NULL, OPT_SELECT + SELECT_CGROUP },
	{ "container", required_argument, NULL, OPT_SELECT + SELECT_CONTAINER },
	{ "verbose", no_argument, NULL, 'v' },
	{ "version", no_argument, NULL, 'V' },
	{ "help", no_argument, NULL, 'h' },
	{},
};

/* One option: 0, CLI_DONE or -EINVAL. */
static int take_option(struct config *c, int opt, char **argv, FILE *out)
{
	unsigned long v;
	char err[160];

	if (opt >= OPT_SELECT && opt < OPT_SELECT_END) {
		if (selection_add(&c->sel, opt - OPT_SELECT, optarg, false, err, sizeof(err)) == 0)
			return 0;
		log_err("--%s", err);
		return -EINVAL;
	}
	switch (opt) {
	case 'p':
		return add_pid(c, optarg);
	case OPT_ALL:
		c->sel.all = true;
		return 0;
	case OPT_MEMORY_LIMIT:
		if (!strcmp(optarg, "off")) {
			c->memory_limit = 0;
			return 0;
		}
		if (budget_parse_size(optarg, 16ull << 20, 1ull << 40, &c->memory_limit) == 0)
			return 0;
		log_err("--memory-limit: '%s' is not a size from 16M to 1024G (256M, 1G, 512Mi) or "
			"'off'",
			optarg);
		return -EINVAL;
	case OPT_MAX_SPANS:
		return parse_flag_uint("--max-spans-per-second", optarg, 0, 10000000, "",
				       &c->max_spans_per_s);
	case OPT_LOGS:
		if (!strcmp(optarg, "on") || !strcmp(optarg, "off")) {
			c->logs = !strcmp(optarg, "on");
			return 0;
		}
		log_err("--logs: '%s' is not on or off", optarg);
		return -EINVAL;
	case OPT_LOG_BYTES:
		if (budget_parse_size(optarg, 1024, 1ull << 32, &c->log_bytes_per_s) == 0)
			return 0;
		log_err("--log-bytes-per-second: '%s' is not a size from 1K to 4G (64K, 1M)",
			optarg);
		return -EINVAL;
	case OPT_RING_BYTES:
		if (budget_parse_size(optarg, 1ull << 20, 1ull << 30, &c->ring_bytes) == 0 &&
		    !(c->ring_bytes & (c->ring_bytes - 1)))
			return 0;
		log_err("--ring-buffer-size: '%s' is not a power of two from 1M to 1G (4M, 16M)",
			optarg);
		return -EINVAL;
	case OPT_LOG_LINES:
		return parse_flag_uint("--log-lines-per-second", optarg, 0, 10000000, "",
				       &c->log_lines_per_s);
	case OPT_EXCLUDE:
		if (selection_add_exclude(&c->sel, optarg, err, sizeof(err)) == 0)
			return 0;
		log_err("--exclude: %s", err);
		return -EINVAL;
	case OPT_PROM:
		c->prometheus = optarg;
		return 0;
	case OPT_CONSOLE:
		if (parse_console(optarg, &c->console) == 0)
			return 0;
		log_err("--console: '%s' is not text, json or off", optarg);
		return -EINVAL;
	case OPT_SERVICE:
		c->service_name = optarg;
		return 0;
	case OPT_CAPTURE:
		if (parse_flag_uint("--capture-bytes", optarg, 64, SOCK_CAPTURE_MAX, "", &v))
			return -EINVAL;
		c->capture_bytes = (uint32_t)v;
		return 0;
	case OPT_ROUTES:
		if (parse_flag_uint("--max-routes", optarg, 1, 100000, "", &v))
			return -EINVAL;
		c->max_routes = v;
		return 0;
	case OPT_OTLP:
		c->otlp_endpoint = optarg;
		return 0;
	case OPT_DISABLE:
		return parse_disable(optarg, &c->groups);
	case OPT_EXITED_TTL:
		if (parse_flag_uint("--exited-ttl", optarg, 0, 86400, " seconds", &v))
			return -EINVAL;
		c->exited_ttl = (unsigned int)v;
		return 0;
	case OPT_PROBE_SITES:
		c->probe_sites = optarg;
		return 0;
	case OPT_RECORD:
		c->record = optarg;
		return 0;
	case OPT_REPLAY:
		c->replay = optarg;
		return 0;
	case OPT_KEEP_SLOWER:
		switch (parse_duration(optarg, &c->keep_slower_than_ns)) {
		case 0:
			return 0;
		case -ERANGE:
			log_err("--keep-slower-than: '%s' is not between 1us and 1 hour", optarg);
			return -EINVAL;
		default:
			log_err("--keep-slower-than: '%s' is not a duration: a number and its unit, "
				"us, ms, s or m (e.g. 500ms)",
				optarg);
			return -EINVAL;
		}
	case 'v':
		c->verbose++;
		return 0;
	case 'V':
		fprintf(out, "obsprobe %s\n", OBSPROBE_VERSION);
		return CLI_DONE;
	case 'h':
		fputs(usage, out);
		return CLI_DONE;
	case ':':
		log_err("%s needs a value; try 'obsprobe --help'", argv[optind - 1]);
		return -EINVAL;
	default:
		/* optopt names an unknown short option, also inside a bundle such as -vx */
		if (optopt > 0 && optopt < 256)
			log_err("unknown option '-%c'; try 'obsprobe --help'", optopt);
		else
			log_err("unknown option '%s'; try 'obsprobe --help'", argv[optind - 1]);
		return -EINVAL;
	}
}

int cli_parse(struct config *c, int argc, char **argv, const char *(*getenv_fn)(const char *name),
	      FILE *out)
{
	char err[256];
	int opt, ret;

	set_defaults(c, getenv_fn);
	optind = 0; /* glibc: start afresh, so that the parser can run more than once */
	opterr = 0; /* one message of ours, not getopt's and then ours */
	while ((opt = getopt_long(argc, argv, ":p:vVh", longopts, NULL)) != -1) {
		ret = take_option(c, opt, argv, out);
		if (ret)
			return ret;
	}
	if (optind < argc) {
		log_err("unexpected argument '%s'; try 'obsprobe --help'", argv[optind]);
		return -EINVAL;
	}
	if (c->replay && (c->npids || selection_node_wide(&c->sel) || c->record)) {
		log_err("--replay reads its events from a file: no --pid, selector or --record with "
			"it");
		return -EINVAL;
	}
	if (!c->npids && !c->probe_sites && !c->replay && !selection_node_wide(&c->sel)) {
		log_err(c->sel.nexclude
				? "--exclude takes away from --all or the selectors: give one "
				  "(see --help)"
				: "no process to watch: give --pid PID, --all or a selector "
				  "(see --help)");
		return -EINVAL;
	}
	if (otel_config_load(&c->otel, getenv_fn, c->otlp_endpoint, err, sizeof(err))) {
		log_err("%s", err);
		return -EINVAL;
	}
	return 0;
}
