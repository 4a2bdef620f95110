// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/* The command line and the OTEL_* environment into struct config. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include "unit.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"
#include "config.h"
#include "fake_env.h"

#define ARRAY_SIZE(a) (sizeof(a) / sizeof((a)[0]))
#define MAX_ARGS 160

/* cli_parse on "obsprobe" followed by args (NULL-terminated), in the environment env; what it
 * prints on its out stream lands in *printed when printed is not NULL. getopt permutes the
 * pointer array, never the strings, so literals are fine. */
static int parse_env(struct config *c, const char *const *env, char **printed,
		     const char *const *args)
{
	char *argv[MAX_ARGS + 2];
	char *buf = NULL;
	size_t len = 0;
	FILE *out;
	int argc = 0, ret;

	argv[argc++] = "obsprobe";
	while (*args) {
		assert_true(argc <= MAX_ARGS);
		argv[argc++] = (char *)*args++;
	}
	argv[argc] = NULL;
	out = open_memstream(&buf, &len);
	assert_non_null(out);
	env_now = env;
	memset(c, 0xa5, sizeof(*c)); /* cli_parse must set every field itself */
	ret = cli_parse(c, argc, argv, fake_getenv, out);
	assert_int_equal(fclose(out), 0);
	if (printed)
		*printed = buf;
	else
		free(buf);
	return ret;
}

#define PARSE(c, ...) parse_env(c, NULL, NULL, (const char *const[]){ __VA_ARGS__, NULL })
#define PARSE_ENV(c, env, ...) parse_env(c, env, NULL, (const char *const[]){ __VA_ARGS__, NULL })

UNIT_TEST(test_defaults)
{
	struct config c;

	(void)state;
	assert_int_equal(PARSE(&c, "--pid", "42"), 0);
	assert_int_equal(c.npids, 1);
	assert_int_equal(c.pids[0], 42);
	assert_string_equal(c.prometheus, "127.0.0.1:9464");
	assert_int_equal(c.console, CONSOLE_TEXT);
	assert_int_equal(c.capture_bytes, 1024);
	assert_int_equal(c.max_routes, 100);
	assert_int_equal(c.groups, GROUP_ALL);
	assert_int_equal(c.exited_ttl, 60);
	assert_int_equal(c.verbose, 0);
	assert_null(c.service_name);
	assert_null(c.otlp_endpoint);
	assert_null(c.probe_sites);
	assert_int_equal(c.keep_slower_than_ns, 0);
	assert_false(selection_node_wide(&c.sel));
	assert_int_equal(c.memory_limit, 256ull << 20);
	assert_int_equal(c.max_spans_per_s, 50000);
	/* no endpoint anywhere: OTLP export stays off */
	assert_string_equal(c.otel.traces_url, "");
	assert_string_equal(c.otel.metrics_url, "");
	assert_int_equal(c.otel.sampler, OTEL_SAMPLER_PARENTBASED_ALWAYS_ON);
}

/* --probe-sites FILE needs no --pid: it prints and exits; without a value it is a mistake. */
UNIT_TEST(test_node_wide)
{
	struct config c;

	(void)state;
	assert_int_equal(PARSE(&c, "--all", "--exclude", "comm=sshd", "--exclude", "port=22"), 0);
	assert_true(c.sel.all);
	assert_int_equal(c.npids, 0);
	assert_int_equal(c.sel.nexclude, 2);
	assert_int_equal(c.sel.exclude[1].kind, SELECT_PORT);
	assert_int_equal(c.sel.exclude[1].port, 22);
	assert_int_equal(PARSE(&c, "--exe", "*/nginx", "--comm", "postgres", "--port", "8080",
			       "--cgroup", "/system.slice", "--container", "0123456789ab"),
			 0);
	assert_false(c.sel.all);
	assert_int_equal(c.sel.ninclude, 5);
	assert_true(selection_node_wide(&c.sel));
	/* --exclude alone selects nothing to take from */
	assert_int_equal(PARSE(&c, "--exclude", "comm=sshd"), -EINVAL);
	assert_int_equal(PARSE(&c, "--all", "--exclude", "pid=1"), -EINVAL);
	assert_int_equal(PARSE(&c, "--port", "0"), -EINVAL);
	assert_int_equal(PARSE(&c, "--container", "xyz"), -EINVAL);
}

UNIT_TEST(test_budget_flags)
{
	struct config c;

	(void)state;
	assert_int_equal(
		PARSE(&c, "--all", "--memory-limit", "512M", "--max-spans-per-second", "0"), 0);
	assert_int_equal(c.memory_limit, 512ull << 20);
	assert_int_equal(c.max_spans_per_s, 0);
	assert_int_equal(PARSE(&c, "--all", "--memory-limit", "off"), 0);
	assert_int_equal(c.memory_limit, 0);
	assert_int_equal(PARSE(&c, "--all", "--memory-limit", "15M"), -EINVAL);
	assert_int_equal(PARSE(&c, "--all", "--memory-limit", "2T"), -EINVAL);
	assert_int_equal(PARSE(&c, "--all", "--max-spans-per-second", "-1"), -EINVAL);
}

UNIT_TEST(test_ring_buffer_size)
{
	struct config c;

	(void)state;
	assert_int_equal(PARSE(&c, "--all"), 0);
	assert_int_equal(c.ring_bytes, 4ull << 20);
	assert_int_equal(PARSE(&c, "--all", "--ring-buffer-size", "16M"), 0);
	assert_int_equal(c.ring_bytes, 16ull << 20);
	assert_int_equal(PARSE(&c, "--all", "--ring-buffer-size", "1M"), 0);
	assert_int_equal(c.ring_bytes, 1ull << 20);
	assert_int_equal(PARSE(&c, "--all", "--ring-buffer-size", "1G"), 0);
	assert_int_equal(c.ring_bytes, 1ull << 30);
	assert_int_equal(PARSE(&c, "--all", "--ring-buffer-size", "512K"), -EINVAL);
	assert_int_equal(PARSE(&c, "--all", "--ring-buffer-size", "3M"), -EINVAL);
	assert_int_equal(PARSE(&c, "--all", "--ring-buffer-size", "2G"), -EINVAL);
	assert_int_equal(PARSE(&c, "--all", "--ring-buffer-size", "lots"), -EINVAL);
}

UNIT_TEST(test_probe_sites)
{
	struct config c;

	(void)state;
	assert_int_equal(PARSE(&c, "--probe-sites", "/lib/libssl.so.3"), 0);
	assert_string_equal(c.probe_sites, "/lib/libssl.so.3");
	assert_int_equal(c.npids, 0);
	assert_int_equal(PARSE(&c, "--probe-sites"), -EINVAL);
	assert_int_equal(PARSE(&c, "-v"), -EINVAL); /* still: nothing to watch, nothing to print */
}

/* --replay FILE needs no --pid and takes none: its processes are in the file; --record
 * goes with a live run only. */
UNIT_TEST(test_record_replay)
{
	struct config c;

	(void)state;
	assert_int_equal(PARSE(&c, "--replay", "/tmp/x.rec", "--console", "off"), 0);
	assert_string_equal(c.replay, "/tmp/x.rec");
	assert_null(c.record);
	assert_int_equal(PARSE(&c, "--pid", "1", "--record", "/tmp/x.rec"), 0);
	assert_string_equal(c.record, "/tmp/x.rec");
	assert_null(c.replay);
	assert_int_equal(PARSE(&c, "--replay", "/tmp/x.rec", "--pid", "1"), -EINVAL);
	assert_int_equal(PARSE(&c, "--replay", "/tmp/x.rec", "--all"), -EINVAL);
	assert_int_equal(PARSE(&c, "--replay", "/tmp/x.rec", "--record", "/tmp/y.rec"), -EINVAL);
	assert_int_equal(PARSE(&c, "--replay"), -EINVAL);
	assert_int_equal(PARSE(&c, "--record", "/tmp/y.rec"), -EINVAL); /* nothing to watch */
}

UNIT_TEST(test_service_name)
{
	static const char *const env[] = { "OTEL_SERVICE_NAME=checkout", NULL };
	static const char *const other[] = { "OTEL_SERVICE_NAMES=wrong", NULL };
	struct config c;

	(void)state;
	assert_int_equal(PARSE_ENV(&c, env, "-p", "1"), 0);
	assert_non_null(c.service_name);
	assert_string_equal(c.service_name, "checkout");
	/* the flag wins over the environment */
	assert_int_equal(PARSE_ENV(&c, env, "-p", "1", "--service-name", "cart"), 0);
	assert_string_equal(c.service_name, "cart");
	assert_int_equal(PARSE_ENV(&c, other, "-p", "1"), 0);
	assert_null(c.service_name);
	/* each call starts from the defaults: nothing carries over from the last one */
	assert_int_equal(PARSE(&c, "-p", "1"), 0);
	assert_null(c.service_name);
}

UNIT_TEST(test_pids)
{
	struct config c;

	(void)state;
	assert_int_equal(PARSE(&c, "--pid", "10", "-p", "20", "--pid=30", "-p40", "-p", "50"), 0);
	assert_int_equal(c.npids, 5);
	assert_int_equal(c.pids[0], 10);
	assert_int_equal(c.pids[1], 20);
	assert_int_equal(c.pids[2], 30);
	assert_int_equal(c.pids[3], 40);
	assert_int_equal(c.pids[4], 50);
	assert_int_equal(PARSE(&c, "-p", "2147483647"), 0);
	assert_int_equal(c.pids[0], 2147483647u);
}

UNIT_TEST(test_bad_pids)
{
	static const char *const bad[] = {
		"0", "abc", "-1", "", "12abc", "0x10", "2147483648", "99999999999999999999", "1 ",
	};
	struct config c;
	size_t i;

	(void)state;
	for (i = 0; i < ARRAY_SIZE(bad); i++)
		if (PARSE(&c, "--pid", bad[i]) != -EINVAL)
			fail_msg("--pid '%s' was accepted", bad[i]);
	/* one bad pid among good ones fails the whole line */
	assert_int_equal(PARSE(&c, "-p", "1", "-p", "0", "-p", "2"), -EINVAL);
}

UNIT_TEST(test_too_many_pids)
{
	const char *args[2 * (CONFIG_MAX_PIDS + 1) + 1];
	char nums[CONFIG_MAX_PIDS + 1][12];
	struct config c;
	size_t i;

	(void)state;
	for (i = 0; i <= CONFIG_MAX_PIDS; i++) {
		snprintf(nums[i], sizeof(nums[i]), "%zu", i + 100);
		args[2 * i] = "-p";
		args[2 * i + 1] = nums[i];
	}
	/* exactly CONFIG_MAX_PIDS are fine */
	args[2 * CONFIG_MAX_PIDS] = NULL;
	assert_int_equal(parse_env(&c, NULL, NULL, args), 0);
	assert_int_equal(c.npids, CONFIG_MAX_PIDS);
	assert_int_equal(c.pids[0], 100);
	assert_int_equal(c.pids[CONFIG_MAX_PIDS - 1], 100 + CONFIG_MAX_PIDS - 1);
	/* one more is not */
	args[2 * CONFIG_MAX_PIDS] = "-p";
	args[2 * CONFIG_MAX_PIDS + 2] = NULL;
	assert_int_equal(parse_env(&c, NULL, NULL, args), -EINVAL);
}

UNIT_TEST(test_capture_bytes)
{
	struct config c;

	(void)state;
	assert_int_equal(PARSE(&c, "-p", "1", "--capture-bytes", "64"), 0);
	assert_int_equal(c.capture_bytes, 64);
	assert_int_equal(PARSE(&c, "-p", "1", "--capture-bytes", "4096"), 0);
	assert_int_equal(c.capture_bytes, 4096);
	assert_int_equal(PARSE(&c, "-p", "1", "--capture-bytes=2000"), 0);
	assert_int_equal(c.capture_bytes, 2000);
	assert_int_equal(PARSE(&c, "-p", "1", "--capture-bytes", "63"), -EINVAL);
	assert_int_equal(PARSE(&c, "-p", "1", "--capture-bytes", "4097"), -EINVAL);
	assert_int_equal(PARSE(&c, "-p", "1", "--capture-bytes", "0"), -EINVAL);
	assert_int_equal(PARSE(&c, "-p", "1", "--capture-bytes", "-100"), -EINVAL);
	assert_int_equal(PARSE(&c, "-p", "1", "--capture-bytes", "1k"), -EINVAL);
}

UNIT_TEST(test_max_routes)
{
	struct config c;

	(void)state;
	assert_int_equal(PARSE(&c, "-p", "1", "--max-routes", "1"), 0);
	assert_int_equal(c.max_routes, 1);
	assert_int_equal(PARSE(&c, "-p", "1", "--max-routes", "100000"), 0);
	assert_int_equal(c.max_routes, 100000);
	assert_int_equal(PARSE(&c, "-p", "1", "--max-routes", "0"), -EINVAL);
	assert_int_equal(PARSE(&c, "-p", "1", "--max-routes", "100001"), -EINVAL);
	assert_int_equal(PARSE(&c, "-p", "1", "--max-routes", "many"), -EINVAL);
}

UNIT_TEST(test_exited_ttl)
{
	struct config c;

	(void)state;
	assert_int_equal(PARSE(&c, "-p", "1", "--exited-ttl", "0"), 0);
	assert_int_equal(c.exited_ttl, 0);
	assert_int_equal(PARSE(&c, "-p", "1", "--exited-ttl", "86400"), 0);
	assert_int_equal(c.exited_ttl, 86400);
	assert_int_equal(PARSE(&c, "-p", "1", "--exited-ttl", "86401"), -EINVAL);
	assert_int_equal(PARSE(&c, "-p", "1", "--exited-ttl", "-1"), -EINVAL);
	assert_int_equal(PARSE(&c, "-p", "1", "--exited-ttl", "1.5"), -EINVAL);
}

UNIT_TEST(test_keep_slower_than)
{
	static const struct {
		const char *arg;
		uint64_t ns;
	} ok[] = {
		{ "250us", 250000ull },
		{ "50ms", 50000000ull },
		{ "1.5s", 1500000000ull },
		{ "2m", 120000000000ull },
		{ "1us", 1000ull },
		{ "60m", 3600000000000ull },
		{ "0.5ms", 500000ull },
		{ ".25s", 250000000ull },
		{ "007ms", 7000000ull },
		{ "3600s", 3600000000000ull },
		{ "off", 0 },
	};
	static const char *const bad[] = {
		"",	 "50",	"ms",	   "-5ms", "+5ms",  "5 ms",   "5msx",  "5MS", "5h",
		"0ms",	 "0",	"0.1us",   "61m",  "1e3ms", "0x10ms", "inf",   "nan", "infms",
		"nanms", ".ms", "1.5.5ms", " 5ms", "5ns",   "OFF",    "3601s",
	};
	struct config c;
	size_t i;

	(void)state;
	for (i = 0; i < ARRAY_SIZE(ok); i++) {
		assert_int_equal(PARSE(&c, "-p", "1", "--keep-slower-than", ok[i].arg), 0);
		if (c.keep_slower_than_ns != ok[i].ns)
			fail_msg("--keep-slower-than %s: %llu ns, want %llu", ok[i].arg,
				 (unsigned long long)c.keep_slower_than_ns,
				 (unsigned long long)ok[i].ns);
	}
	assert_int_equal(PARSE(&c, "-p", "1", "--keep-slower-than=1.5s"), 0);
	assert_int_equal(c.keep_slower_than_ns, 1500000000ull);
	for (i = 0; i < ARRAY_SIZE(bad); i++)
		if (PARSE(&c, "-p", "1", "--keep-slower-than", bad[i]) != -EINVAL)
			fail_msg("--keep-slower-than '%s' was accepted", bad[i]);
	assert_int_equal(PARSE(&c, "-p", "1", "--keep-slower-than"), -EINVAL);
	/* the last one given wins */
	assert_int_equal(
		PARSE(&c, "-p", "1", "--keep-slower-than", "1s", "--keep-slower-than", "2s"), 0);
	assert_int_equal(c.keep_slower_than_ns, 2000000000ull);
}

UNIT_TEST(test_console)
{
	static const struct {
		const char *arg;
		enum console_mode mode;
	} ok[] = {
		{ "text", CONSOLE_TEXT },
		{ "on", CONSOLE_TEXT },
		{ "json", CONSOLE_JSON },
		{ "off", CONSOLE_OFF },
	};
	struct config c;
	size_t i;

	(void)state;
	for (i = 0; i < ARRAY_SIZE(ok); i++) {
		assert_int_equal(PARSE(&c, "-p", "1", "--console", ok[i].arg), 0);
		assert_int_equal(c.console, ok[i].mode);
	}
	assert_int_equal(PARSE(&c, "-p", "1", "--console", "yaml"), -EINVAL);
	assert_int_equal(PARSE(&c, "-p", "1", "--console", "JSON"), -EINVAL);
	assert_int_equal(PARSE(&c, "-p", "1", "--console", ""), -EINVAL);
}

UNIT_TEST(test_prometheus)
{
	struct config c;

	(void)state;
	assert_int_equal(PARSE(&c, "-p", "1", "--prometheus", "0.0.0.0:9100"), 0);
	assert_string_equal(c.prometheus, "0.0.0.0:9100");
	assert_int_equal(PARSE(&c, "-p", "1", "--prometheus", "off"), 0);
	assert_string_equal(c.prometheus, "off");
}

UNIT_TEST(test_disable_each)
{
	static const struct {
		const char *name;
		unsigned int bit;
	} groups[] = {
		{ "http", GROUP_HTTP },	    { "tls", GROUP_TLS },
		{ "pgsql", GROUP_PGSQL },   { "libpq", GROUP_LIBPQ },
		{ "sched", GROUP_SCHED },   { "memory", GROUP_MEMORY },
		{ "go", GROUP_GO },	    { "goroutines", GROUP_GOTRACE },
		{ "errors", GROUP_ERRORS },
	};
	struct config c;
	size_t i;

	(void)state;
	for (i = 0; i < ARRAY_SIZE(groups); i++) {
		assert_int_equal(PARSE(&c, "-p", "1", "--disable", groups[i].name), 0);
		if (c.groups != (GROUP_ALL & ~groups[i].bit))
			fail_msg("--disable %s: groups 0x%x, want 0x%x", groups[i].name, c.groups,
				 GROUP_ALL & ~groups[i].bit);
		assert_false(config_has(&c, groups[i].bit));
	}
}

UNIT_TEST(test_disable_lists)
{
	struct config c;

	(void)state;
	assert_int_equal(PARSE(&c, "-p", "1", "--disable", "http,pgsql"), 0);
	assert_int_equal(c.groups, GROUP_ALL & ~(GROUP_HTTP | GROUP_PGSQL));
	assert_true(config_has(&c, GROUP_TLS));
	assert_int_equal(PARSE(&c, "-p", "1", "--disable",
			       "http,tls,pgsql,libpq,sched,memory,go,goroutines,errors"),
			 0);
	assert_int_equal(c.groups, 0);
	/* repeated flags add up */
	assert_int_equal(PARSE(&c, "-p", "1", "--disable", "sched", "--disable", "go"), 0);
	assert_int_equal(c.groups, GROUP_ALL & ~(GROUP_SCHED | GROUP_GO));
	/* a group named twice is still one group */
	assert_int_equal(PARSE(&c, "-p", "1", "--disable", "memory,memory"), 0);
	assert_int_equal(c.groups, GROUP_ALL & ~GROUP_MEMORY);

	assert_int_equal(PARSE(&c, "-p", "1", "--disable", "http,bogus"), -EINVAL);
	assert_int_equal(PARSE(&c, "-p", "1", "--disable", "HTTP"), -EINVAL);
	assert_int_equal(PARSE(&c, "-p", "1", "--disable", "http "), -EINVAL);
	assert_int_equal(PARSE(&c, "-p", "1", "--disable", ""), -EINVAL);
	/* separators alone name no group */
	assert_int_equal(PARSE(&c, "-p", "1", "--disable", ","), -EINVAL);
	assert_int_equal(PARSE(&c, "-p", "1", "--disable", ",,"), -EINVAL);
}

UNIT_TEST(test_help_version)
{
	struct config c;
	char *out;

	(void)state;
	/* neither needs a --pid */
	assert_int_equal(parse_env(&c, NULL, &out, (const char *const[]){ "--help", NULL }),
			 CLI_DONE);
	if (strncmp(out, "Usage: obsprobe", 15))
		fail_msg("--help printed:\n%s", out);
	assert_non_null(strstr(out, "--pid PID"));
	assert_non_null(strstr(out, "--keep-slower-than DURATION"));
	assert_non_null(strstr(out, "\nExamples:\n"));
	assert_int_equal(out[strlen(out) - 1], '\n');
	free(out);

	assert_int_equal(parse_env(&c, NULL, &out, (const char *const[]){ "-h", NULL }), CLI_DONE);
	assert_int_equal(strncmp(out, "Usage: obsprobe", 15), 0);
	free(out);

	assert_int_equal(parse_env(&c, NULL, &out, (const char *const[]){ "--version", NULL }),
			 CLI_DONE);
	assert_string_equal(out, "obsprobe 0.1.0\n");
	free(out);

	assert_int_equal(parse_env(&c, NULL, &out, (const char *const[]){ "-p", "1", "-V", NULL }),
			 CLI_DONE);
	assert_string_equal(out, "obsprobe " OBSPROBE_VERSION "\n");
	free(out);

	/* a mistake before --help is reported, and nothing is printed on out */
	assert_int_equal(parse_env(&c, NULL, &out,
				   (const char *const[]){ "--pid", "x", "--help", NULL }),
			 -EINVAL);
	assert_string_equal(out, "");
	free(out);
}

UNIT_TEST(test_verbose)
{
	struct config c;

	(void)state;
	assert_int_equal(PARSE(&c, "-p", "1", "-v"), 0);
	assert_int_equal(c.verbose, 1);
	assert_int_equal(PARSE(&c, "-p", "1", "-vv", "--verbose"), 0);
	assert_int_equal(c.verbose, 3);
}

UNIT_TEST(test_mistakes)
{
	struct config c;
	char *out;

	(void)state;
	assert_int_equal(PARSE(&c, "-p", "1", "--no-such-option"), -EINVAL);
	assert_int_equal(PARSE(&c, "-p", "1", "-x"), -EINVAL);
	/* a flag without its value */
	assert_int_equal(PARSE(&c, "--pid"), -EINVAL);
	assert_int_equal(PARSE(&c, "-p", "1", "-p"), -EINVAL);
	assert_int_equal(PARSE(&c, "-p", "1", "--console"), -EINVAL);
	/* a flag that takes none, given one */
	assert_int_equal(PARSE(&c, "-p", "1", "--help=yes"), -EINVAL);
	/* positional arguments, wherever they stand */
	assert_int_equal(PARSE(&c, "-p", "1", "nginx"), -EINVAL);
	assert_int_equal(PARSE(&c, "nginx", "-p", "1"), -EINVAL);
	assert_int_equal(PARSE(&c, "-p", "1", "--", "-p"), -EINVAL);
	/* nothing to watch */
	assert_int_equal(parse_env(&c, NULL, &out, (const char *const[]){ NULL }), -EINVAL);
	assert_string_equal(out, "");
	free(out);
	assert_int_equal(PARSE(&c, "--console", "json"), -EINVAL);
	/* and a good line still parses after all of these: getopt starts afresh */
	assert_int_equal(PARSE(&c, "-p", "7", "--console", "json"), 0);
	assert_int_equal(c.npids, 1);
	assert_int_equal(c.pids[0], 7);
	assert_int_equal(c.console, CONSOLE_JSON);
}

UNIT_TEST(test_otlp_endpoint)
{
	static const char *const env[] = {
		"OTEL_EXPORTER_OTLP_ENDPOINT=http://from-env:4318",
		"OTEL_EXPORTER_OTLP_TRACES_ENDPOINT=http://from-env:4318/custom",
		NULL,
	};
	struct config c;

	(void)state;
	assert_int_equal(PARSE(&c, "-p", "1", "--otlp-endpoint", "http://collector:4318"), 0);
	assert_string_equal(c.otlp_endpoint, "http://collector:4318");
	assert_string_equal(c.otel.traces_url, "http://collector:4318/v1/traces");
	assert_string_equal(c.otel.metrics_url, "http://collector:4318/v1/metrics");
	/* trailing slashes go before the path is appended */
	assert_int_equal(PARSE(&c, "-p", "1", "--otlp-endpoint", "https://c.example/otlp//"), 0);
	assert_string_equal(c.otel.traces_url, "https://c.example/otlp/v1/traces");
	/* the flag overrides every endpoint variable */
	assert_int_equal(PARSE_ENV(&c, env, "-p", "1", "--otlp-endpoint", "http://flag:1"), 0);
	assert_string_equal(c.otel.traces_url, "http://flag:1/v1/traces");
	assert_string_equal(c.otel.metrics_url, "http://flag:1/v1/metrics");
	/* without it, the variables are read */
	assert_int_equal(PARSE_ENV(&c, env, "-p", "1"), 0);
	assert_null(c.otlp_endpoint);
	assert_string_equal(c.otel.traces_url, "http://from-env:4318/custom");
	assert_string_equal(c.otel.metrics_url, "http://from-env:4318/v1/metrics");

	assert_int_equal(PARSE(&c, "-p", "1", "--otlp-endpoint", "collector:4318"), -EINVAL);
	assert_int_equal(PARSE(&c, "-p", "1", "--otlp-endpoint", "http://"), -EINVAL);
}

UNIT_TEST(test_otel_env)
{
	static const char *const bad_sampler[] = { "OTEL_TRACES_SAMPLER=sometimes", NULL };
	static const char *const good_sampler[] = {
		"OTEL_TRACES_SAMPLER=traceidratio",
		"OTEL_TRACES_SAMPLER_ARG=0.25",
		"OTEL_EXPORTER_OTLP_COMPRESSION=gzip",
		NULL,
	};
	static const char *const bad_ratio[] = {
		"OTEL_TRACES_SAMPLER=traceidratio",
		"OTEL_TRACES_SAMPLER_ARG=2",
		NULL,
	};
	struct config c;

	(void)state;
	assert_int_equal(PARSE_ENV(&c, bad_sampler, "-p", "1"), -EINVAL);
	assert_int_equal(PARSE_ENV(&c, bad_ratio, "-p", "1"), -EINVAL);
	assert_int_equal(PARSE_ENV(&c, good_sampler, "-p", "1"), 0);
	assert_int_equal(c.otel.sampler, OTEL_SAMPLER_TRACEIDRATIO);
	assert_true(c.otel.ratio == 0.25);
	assert_true(c.otel.gzip);
}

UNIT_MAIN(NULL, NULL)
