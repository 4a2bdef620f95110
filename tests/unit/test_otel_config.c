// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/* OpenTelemetry environment variables and sampling. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <math.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "unit.h"

#include "otel_config.h"
#include "pipeline/span.h"
#include "fake_env.h"

static int load(struct otel_config *c, const char *flag, char *err, const char *const *env)
{
	env_now = env;
	err[0] = '\0';
	return otel_config_load(c, fake_getenv, flag, err, 256);
}

UNIT_TEST(test_defaults_export_off)
{
	static const char *const env[] = { NULL };
	struct otel_config c;
	char err[256];

	(void)state;
	assert_int_equal(load(&c, NULL, err, env), 0);
	assert_string_equal(c.traces_url, "");
	assert_string_equal(c.metrics_url, "");
	assert_string_equal(c.logs_url, "");
	assert_int_equal(c.blrp.max_queue, 2048);
	assert_int_equal(c.blrp.max_batch, 512);
	assert_int_equal(c.blrp.delay_ms, 1000);
	assert_int_equal(c.blrp.timeout_ms, 30000);
	assert_int_equal(c.bsp.max_queue, 2048);
	assert_int_equal(c.bsp.max_batch, 512);
	assert_int_equal(c.bsp.delay_ms, 1000);
	assert_int_equal(c.bsp.timeout_ms, 60000);
	assert_int_equal(c.timeout_ms, 10000);
	assert_int_equal(c.metric_interval_ms, 60000);
	assert_false(c.gzip);
	assert_int_equal(c.sampler, OTEL_SAMPLER_PARENTBASED_ALWAYS_ON);
}

UNIT_TEST(test_endpoints)
{
	static const char *const base[] = { "OTEL_EXPORTER_OTLP_ENDPOINT=http://col:4318/", NULL };
	static const char *const sig[] = {
		"OTEL_EXPORTER_OTLP_ENDPOINT=http://col:4318",
		"OTEL_EXPORTER_OTLP_TRACES_ENDPOINT=https://t.example/custom/path",
		NULL,
	};
	struct otel_config c;
	char err[256];

	(void)state;
	assert_int_equal(load(&c, NULL, err, base), 0);
	assert_string_equal(c.traces_url, "http://col:4318/v1/traces");
	assert_string_equal(c.metrics_url, "http://col:4318/v1/metrics");
	assert_int_equal(load(&c, NULL, err, sig), 0);
	assert_string_equal(c.traces_url, "https://t.example/custom/path");
	assert_string_equal(c.metrics_url, "http://col:4318/v1/metrics");
	/* the flag overrides every variable */
	assert_int_equal(load(&c, "http://127.0.0.1:9999", err, sig), 0);
	assert_string_equal(c.traces_url, "http://127.0.0.1:9999/v1/traces");
	assert_string_equal(c.metrics_url, "http://127.0.0.1:9999/v1/metrics");
	assert_string_equal(c.logs_url, "http://127.0.0.1:9999/v1/logs");
}

UNIT_TEST(test_logs_config)
{
	static const char *const base[] = { "OTEL_EXPORTER_OTLP_ENDPOINT=http://col:4318/", NULL };
	static const char *const sig[] = {
		"OTEL_EXPORTER_OTLP_ENDPOINT=http://col:4318",
		"OTEL_EXPORTER_OTLP_LOGS_ENDPOINT=https://l.example/custom",
		"OTEL_LOGS_EXPORTER=otlp",
		"OTEL_BLRP_MAX_QUEUE_SIZE=100",
		"OTEL_BLRP_MAX_EXPORT_BATCH_SIZE=20",
		"OTEL_BLRP_SCHEDULE_DELAY=250",
		"OTEL_BLRP_EXPORT_TIMEOUT=5000",
		NULL,
	};
	static const char *const none[] = {
		"OTEL_EXPORTER_OTLP_LOGS_ENDPOINT=http://l:4318/v1/logs",
		"OTEL_LOGS_EXPORTER=none",
		NULL,
	};
	static const char *const only_logs[] = {
		"OTEL_EXPORTER_OTLP_LOGS_ENDPOINT=http://l:4318/v1/logs",
		NULL,
	};
	static const char *const big_batch[] = {
		"OTEL_BLRP_MAX_QUEUE_SIZE=64",
		NULL,
	};
	struct otel_config c;
	char err[256];

	(void)state;
	/* the base endpoint gets /v1/logs; the signal's own is used as it is */
	assert_int_equal(load(&c, NULL, err, base), 0);
	assert_string_equal(c.logs_url, "http://col:4318/v1/logs");
	assert_int_equal(load(&c, NULL, err, sig), 0);
	assert_string_equal(c.logs_url, "https://l.example/custom");
	assert_string_equal(c.traces_url, "http://col:4318/v1/traces");
	assert_int_equal(c.blrp.max_queue, 100);
	assert_int_equal(c.blrp.max_batch, 20);
	assert_int_equal(c.blrp.delay_ms, 250);
	assert_int_equal(c.blrp.timeout_ms, 5000);
	/* none turns logs off whatever the endpoints say, the flag's too; only logs */
	assert_int_equal(load(&c, NULL, err, none), 0);
	assert_string_equal(c.logs_url, "");
	assert_int_equal(load(&c, "http://127.0.0.1:9999", err, none), 0);
	assert_string_equal(c.logs_url, "");
	assert_string_equal(c.traces_url, "http://127.0.0.1:9999/v1/traces");
	assert_int_equal(load(&c, NULL, err, only_logs), 0);
	assert_string_equal(c.logs_url, "http://l:4318/v1/logs");
	assert_string_equal(c.traces_url, "");
	assert_string_equal(c.metrics_url, "");
	/* a batch never outgrows the queue */
	assert_int_equal(load(&c, NULL, err, big_batch), 0);
	assert_int_equal(c.blrp.max_queue, 64);
	assert_int_equal(c.blrp.max_batch, 64);
}

UNIT_TEST(test_span_batch_config)
{
	static const char *const env[] = {
		"OTEL_EXPORTER_OTLP_ENDPOINT=http://col:4318",
		"OTEL_BSP_MAX_QUEUE_SIZE=65536",
		"OTEL_BSP_MAX_EXPORT_BATCH_SIZE=4096",
		"OTEL_BSP_SCHEDULE_DELAY=200",
		"OTEL_BSP_EXPORT_TIMEOUT=7000",
		NULL,
	};
	static const char *const big_batch[] = {
		"OTEL_BSP_MAX_QUEUE_SIZE=100",
		"OTEL_BSP_MAX_EXPORT_BATCH_SIZE=1000",
		NULL,
	};
	struct otel_config c;
	char err[256];

	(void)state;
	assert_int_equal(load(&c, NULL, err, env), 0);
	assert_int_equal(c.bsp.max_queue, 65536);
	assert_int_equal(c.bsp.max_batch, 4096);
	assert_int_equal(c.bsp.delay_ms, 200);
	assert_int_equal(c.bsp.timeout_ms, 7000);
	/* the span processor's variables leave the log record processor's alone */
	assert_int_equal(c.blrp.max_queue, 2048);
	assert_int_equal(c.blrp.max_batch, 512);
	assert_int_equal(c.blrp.delay_ms, 1000);
	assert_int_equal(c.blrp.timeout_ms, 30000);
	/* a batch never outgrows the queue */
	assert_int_equal(load(&c, NULL, err, big_batch), 0);
	assert_int_equal(c.bsp.max_queue, 100);
	assert_int_equal(c.bsp.max_batch, 100);
}

UNIT_TEST(test_headers_resource_and_numbers)
{
	static const char *const env[] = {
		"OTEL_EXPORTER_OTLP_HEADERS=api-key=s3cr%3Dt, x-team = core ",
		"OTEL_RESOURCE_ATTRIBUTES=deployment.environment=prod,k8s.pod.name=web%2C1",
		"OTEL_EXPORTER_OTLP_COMPRESSION=gzip",
		"OTEL_EXPORTER_OTLP_TIMEOUT=2500",
		"OTEL_METRIC_EXPORT_INTERVAL=1000",
		"OTEL_TRACES_SAMPLER=parentbased_traceidratio",
		"OTEL_TRACES_SAMPLER_ARG=0.25",
		NULL,
	};
	struct otel_config c;
	char err[256];

	(void)state;
	assert_int_equal(load(&c, NULL, err, env), 0);
	assert_int_equal(c.nheaders, 2);
	assert_string_equal(c.headers[0].key, "api-key");
	assert_string_equal(c.headers[0].value, "s3cr=t");
	assert_string_equal(c.headers[1].key, "x-team");
	assert_string_equal(c.headers[1].value, "core");
	assert_int_equal(c.nresource, 2);
	assert_string_equal(c.resource[1].key, "k8s.pod.name");
	assert_string_equal(c.resource[1].value, "web,1");
	assert_true(c.gzip);
	assert_int_equal(c.timeout_ms, 2500);
	assert_int_equal(c.metric_interval_ms, 1000);
	assert_int_equal(c.sampler, OTEL_SAMPLER_PARENTBASED_TRACEIDRATIO);
	assert_true(c.ratio == 0.25);
}

static void expect_error(const char *var_eq_val, const char *var)
{
	const char *env[] = { var_eq_val, NULL };
	struct otel_config c;
	char err[256];

	assert_int_equal(load(&c, NULL, err, env), -22);
	/* one sentence that names the variable */
	assert_non_null(strstr(err, var));
	assert_null(strchr(err, '\n'));
}

UNIT_TEST(test_bad_values)
{
	(void)state;
	expect_error("OTEL_TRACES_SAMPLER=bogus", "OTEL_TRACES_SAMPLER");
	expect_error("OTEL_EXPORTER_OTLP_TIMEOUT=abc", "OTEL_EXPORTER_OTLP_TIMEOUT");
	expect_error("OTEL_EXPORTER_OTLP_TIMEOUT=-5", "OTEL_EXPORTER_OTLP_TIMEOUT");
	expect_error("OTEL_EXPORTER_OTLP_TIMEOUT=0", "OTEL_EXPORTER_OTLP_TIMEOUT");
	expect_error("OTEL_METRIC_EXPORT_INTERVAL=10s", "OTEL_METRIC_EXPORT_INTERVAL");
	expect_error("OTEL_EXPORTER_OTLP_COMPRESSION=zstd", "OTEL_EXPORTER_OTLP_COMPRESSION");
	expect_error("OTEL_EXPORTER_OTLP_ENDPOINT=localhost:4318", "OTEL_EXPORTER_OTLP_ENDPOINT");
	expect_error("OTEL_EXPORTER_OTLP_ENDPOINT=http://////", "OTEL_EXPORTER_OTLP_ENDPOINT");
	expect_error("OTEL_EXPORTER_OTLP_ENDPOINT=https:///v1", "OTEL_EXPORTER_OTLP_ENDPOINT");
	expect_error("OTEL_EXPORTER_OTLP_TRACES_ENDPOINT=http://",
		     "OTEL_EXPORTER_OTLP_TRACES_ENDPOINT");
	expect_error("OTEL_EXPORTER_OTLP_HEADERS=novalue", "OTEL_EXPORTER_OTLP_HEADERS");
	expect_error("OTEL_EXPORTER_OTLP_HEADERS=k=%zz", "OTEL_EXPORTER_OTLP_HEADERS");
	expect_error("OTEL_RESOURCE_ATTRIBUTES==v", "OTEL_RESOURCE_ATTRIBUTES");
	expect_error("OTEL_LOGS_EXPORTER=console", "OTEL_LOGS_EXPORTER");
	expect_error("OTEL_EXPORTER_OTLP_LOGS_ENDPOINT=col:4318",
		     "OTEL_EXPORTER_OTLP_LOGS_ENDPOINT");
	expect_error("OTEL_BSP_MAX_QUEUE_SIZE=0", "OTEL_BSP_MAX_QUEUE_SIZE");
	expect_error("OTEL_BSP_MAX_QUEUE_SIZE=65537", "OTEL_BSP_MAX_QUEUE_SIZE");
	expect_error("OTEL_BSP_MAX_EXPORT_BATCH_SIZE=lots", "OTEL_BSP_MAX_EXPORT_BATCH_SIZE");
	expect_error("OTEL_BSP_SCHEDULE_DELAY=-5", "OTEL_BSP_SCHEDULE_DELAY");
	expect_error("OTEL_BSP_EXPORT_TIMEOUT=1s", "OTEL_BSP_EXPORT_TIMEOUT");
	expect_error("OTEL_BLRP_MAX_QUEUE_SIZE=0", "OTEL_BLRP_MAX_QUEUE_SIZE");
	expect_error("OTEL_BLRP_MAX_QUEUE_SIZE=1000000", "OTEL_BLRP_MAX_QUEUE_SIZE");
	expect_error("OTEL_BLRP_MAX_EXPORT_BATCH_SIZE=-1", "OTEL_BLRP_MAX_EXPORT_BATCH_SIZE");
	expect_error("OTEL_BLRP_SCHEDULE_DELAY=1s", "OTEL_BLRP_SCHEDULE_DELAY");
	expect_error("OTEL_BLRP_EXPORT_TIMEOUT=0", "OTEL_BLRP_EXPORT_TIMEOUT");
	{
		const char *env[] = { "OTEL_TRACES_SAMPLER=traceidratio",
				      "OTEL_TRACES_SAMPLER_ARG=1.5", NULL };
		struct otel_config c;
		char err[256];

		assert_int_equal(load(&c, NULL, err, env), -22);
		assert_non_null(strstr(err, "OTEL_TRACES_SAMPLER_ARG"));
	}
}

/* The ratio is decided on the trace id's last 8 bytes alone: its share over many random ids, and
 * the ids at both ends of the range. */
UNIT_TEST(test_ratio_sample)
{
	static const double ratios[] = { 0.0, 0.1, 0.5, 0.9, 1.0 };
	uint8_t id[16];
	size_t r;
	unsigned i;

	(void)state;
	for (r = 0; r < sizeof(ratios) / sizeof(ratios[0]); r++) {
		double p = ratios[r], n = 20000, sd = sqrt(n * p * (1 - p));
		unsigned kept = 0;

		for (i = 0; i < n; i++) {
			span_new_trace_id(id);
			kept += otel_ratio_sample(id, p);
			/* the same id, the same answer */
			assert_true(otel_ratio_sample(id, p) == otel_ratio_sample(id, p));
		}
		/* binomial: within 6 standard deviations, exact at 0 and 1 */
		if (kept < n * p - 6 * sd || kept > n * p + 6 * sd)
			fail_msg("ratio %.1f kept %u of %.0f", p, kept, n);
	}
	memset(id, 0xff, sizeof(id));
	memset(id + 8, 0, 8); /* the lowest value of the compared bytes: kept by any ratio > 0 */
	assert_true(otel_ratio_sample(id, 1e-9));
	assert_false(otel_ratio_sample(id, 0));
	memset(id, 0, 8);
	memset(id + 8, 0xff, 8); /* the highest: only by 1 */
	assert_false(otel_ratio_sample(id, 0.999999));
	assert_true(otel_ratio_sample(id, 1));
	/* the first 8 bytes play no part */
	id[0] = 0x42;
	assert_false(otel_ratio_sample(id, 0.999999));
}

UNIT_TEST(test_resource_value)
{
	char v[64];

	(void)state;
	assert_true(otel_resource_value("service.name=checkout", "service.name", v, sizeof(v)));
	assert_string_equal(v, "checkout");
	assert_true(otel_resource_value(" a=1 , service.name = pay%2Fments ,b=2", "service.name", v,
					sizeof(v)));
	assert_string_equal(v, "pay/ments");
	/* the last of a key repeated */
	assert_true(
		otel_resource_value("service.name=a,service.name=b", "service.name", v, sizeof(v)));
	assert_string_equal(v, "b");
	/* cut to the buffer */
	assert_true(otel_resource_value("service.name=abcdef", "service.name", v, 4));
	assert_string_equal(v, "abc");
	assert_false(otel_resource_value("service.name=", "service.name", v, sizeof(v)));
	assert_false(otel_resource_value("a=1", "service.name", v, sizeof(v)));
	assert_false(otel_resource_value("service.name", "service.name", v, sizeof(v)));
	assert_false(otel_resource_value("service.name=%zz", "service.name", v, sizeof(v)));
	assert_false(otel_resource_value("", "service.name", v, sizeof(v)));
	assert_false(otel_resource_value(NULL, "service.name", v, sizeof(v)));
}

UNIT_MAIN(NULL, NULL)
