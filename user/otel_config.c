// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
#include "otel_config.h"

#include <ctype.h>
#include <errno.h>
#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "util/hex.h"

static int fail(char *err, size_t errlen, const char *var, const char *val, const char *why)
{
	snprintf(err, errlen, "%s='%s': %s", var, val, why);
	return -EINVAL;
}

/* Percent-decodes and trims [s, s+n) into out; false when it does not fit or is malformed. */
static bool decode_part(const char *s, size_t n, char *out, size_t outlen)
{
	size_t o = 0, i;

	while (n && isspace((unsigned char)*s))
		s++, n--;
	while (n && isspace((unsigned char)s[n - 1]))
		n--;
	for (i = 0; i < n; i++) {
		char c = s[i];

		if (c == '%') {
			int hi, lo;

			hi = i + 1 < n ? hex_digit_value(s[i + 1]) : -1;
			lo = i + 2 < n ? hex_digit_value(s[i + 2]) : -1;
			if (hi < 0 || lo < 0)
				return false;
			c = (char)(hi * 16 + lo);
			i += 2;
		}
		if (o + 1 >= outlen)
			return false;
		out[o++] = c;
	}
	out[o] = '\0';
	return true;
}

/* "k1=v1,k2=v2" (W3C baggage-like, values percent-encoded), as the OTel SDKs read it. */
static int parse_kv_list(const char *var, const char *val, struct otel_kv *kv, size_t max,
			 size_t *n, char *err, size_t errlen)
{
	const char *p = val;

	*n = 0;
	while (*p) {
		size_t len = strcspn(p, ","), klen;
		const char *eq = memchr(p, '=', len);

		if (len == 0 || strspn(p, " \t") == len) {
			p += len + (p[len] == ',');
			continue;
		}
		if (!eq)
			return fail(err, errlen, var, val,
				    "expected key=value pairs separated by ','");
		if (*n == max)
			return fail(err, errlen, var, val, "too many entries");
		klen = (size_t)(eq - p);
		if (!decode_part(p, klen, kv[*n].key, sizeof(kv[*n].key)) || !kv[*n].key[0])
			return fail(err, errlen, var, val,
				    "a key is empty, too long or badly encoded");
		if (!decode_part(eq + 1, len - klen - 1, kv[*n].value, sizeof(kv[*n].value)))
			return fail(err, errlen, var, val, "a value is too long or badly encoded");
		(*n)++;
		p += len + (p[len] == ',');
	}
	return 0;
}

static int parse_ms(const char *var, const char *val, unsigned *out, char *err, size_t errlen)
{
	char *end;
	unsigned long v;

	errno = 0;
	v = strtoul(val, &end, 10);
	if (errno || end == val || *end || val[0] == '-' || v == 0 || v > 86400000ul)
		return fail(err, errlen, var, val, "expected milliseconds, 1..86400000");
	*out = (unsigned)v;
	return 0;
}

static int parse_count(const char *var, const char *val, unsigned max, unsigned *out, char *err,
		       size_t errlen)
{
	char buf[64];
	char *end;
	unsigned long v;

	errno = 0;
	v = strtoul(val, &end, 10);
	if (errno || end == val || *end || val[0] == '-' || v == 0 || v > max) {
		snprintf(buf, sizeof(buf), "expected a count, 1..%u", max);
		return fail(err, errlen, var, val, buf);
	}
	*out = (unsigned)v;
	return 0;
}

/* The value of variable prefix name (into var, its whole name), NULL when unset or empty. */
static const char *batch_var(const char *(*getenv_fn)(const char *name), const char *prefix,
			     const char *name, char *var, size_t len)
{
	const char *v;

	snprintf(var, len, "%s%s", prefix, name);
	v = getenv_fn(var);
	return v && *v ? v : NULL;
}

/* A batch processor's four variables, prefix "OTEL_BSP_" or "OTEL_BLRP_", over b's defaults. */
static int parse_batch(const char *(*getenv_fn)(const char *name), const char *prefix,
		       unsigned limit, struct otel_batch *b, char *err, size_t errlen)
{
	char var[64];
	const char *v;
	int ret;

	if ((v = batch_var(getenv_fn, prefix, "MAX_QUEUE_SIZE", var, sizeof(var))) &&
	    (ret = parse_count(var, v, limit, &b->max_queue, err, errlen)))
		return ret;
	if ((v = batch_var(getenv_fn, prefix, "MAX_EXPORT_BATCH_SIZE", var, sizeof(var))) &&
	    (ret = parse_count(var, v, limit, &b->max_batch, err, errlen)))
		return ret;
	/* the specification: a batch is never larger than the queue; a larger value is cut */
	if (b->max_batch > b->max_queue)
		b->max_batch = b->max_queue;
	if ((v = batch_var(getenv_fn, prefix, "SCHEDULE_DELAY", var, sizeof(var))) &&
	    (ret = parse_ms(var, v, &b->delay_ms, err, errlen)))
		return ret;
	if ((v = batch_var(getenv_fn, prefix, "EXPORT_TIMEOUT", var, sizeof(var))) &&
	    (ret = parse_ms(var, v, &b->timeout_ms, err, errlen)))
		return ret;
	return 0;
}

/* http:// or https:// and then a host: "http:///x" has none, and as a base it would lose its
 * "//" when its trailing slashes go (fuzz_cli found "http://////" giving "http:/v1/traces"). */
static bool valid_url(const char *u)
{
	const char *host = !strncmp(u, "http://", 7)	? u + 7
			   : !strncmp(u, "https://", 8) ? u + 8
							: NULL;

	return host && *host && *host != '/';
}

/* OTEL_EXPORTER_OTLP_ENDPOINT is a base: the signal's path is appended to it. */
static int signal_url(char *out, const char *base, const char *path)
{
	size_t n = strlen(base);

	while (n && base[n - 1] == '/')
		n--;
	if (n + strlen(path) + 1 > OTEL_URL_MAX)
		return -EINVAL;
	snprintf(out, OTEL_URL_MAX, "%.*s%s", (int)n, base, path);
	return 0;
}

static int endpoint(const char *var, const char *val, char *err, size_t errlen)
{
	if (!valid_url(val))
		return fail(err, errlen, var, val,
			    "expected an http:// or https:// URL with a host");
	if (strlen(val) >= OTEL_URL_MAX - 16)
		return fail(err, errlen, var, val, "URL too long");
	return 0;
}

int otel_config_load(struct otel_config *c, const char *(*getenv_fn)(const char *name),
		     const char *endpoint_flag, char *err, size_t errlen)
{
	const char *base = getenv_fn("OTEL_EXPORTER_OTLP_ENDPOINT");
	const char *tr = getenv_fn("OTEL_EXPORTER_OTLP_TRACES_ENDPOINT");
	const char *mr = getenv_fn("OTEL_EXPORTER_OTLP_METRICS_ENDPOINT");
	const char *lr = getenv_fn("OTEL_EXPORTER_OTLP_LOGS_ENDPOINT");
	const char *v;
	int ret;

	memset(c, 0, sizeof(*c));
	c->timeout_ms = 10000;
	c->metric_interval_ms = 60000;
	/* the specification's defaults, but a partial batch leaves after 1 s rather than 5 s, and a
	 * span batch is retried for 60 s rather than 30 */
	c->bsp = (struct otel_batch){
		.max_queue = 2048, .max_batch = 512, .delay_ms = 1000, .timeout_ms = 60000
	};
	c->blrp = (struct otel_batch){
		.max_queue = 2048, .max_batch = 512, .delay_ms = 1000, .timeout_ms = 30000
	};
	c->sampler = OTEL_SAMPLER_PARENTBASED_ALWAYS_ON;
	c->ratio = 1.0;

	if (endpoint_flag) {
		if ((ret = endpoint("--otlp-endpoint", endpoint_flag, err, errlen)))
			return ret;
		signal_url(c->traces_url, endpoint_flag, "/v1/traces");
		signal_url(c->metrics_url, endpoint_flag, "/v1/metrics");
		signal_url(c->logs_url, endpoint_flag, "/v1/logs");
	} else {
		if (base && *base) {
			if ((ret = endpoint("OTEL_EXPORTER_OTLP_ENDPOINT", base, err, errlen)))
				return ret;
			signal_url(c->traces_url, base, "/v1/traces");
			signal_url(c->metrics_url, base, "/v1/metrics");
			signal_url(c->logs_url, base, "/v1/logs");
		}
		/* signal-specific endpoints are used as they are */
		if (tr && *tr) {
			if ((ret = endpoint("OTEL_EXPORTER_OTLP_TRACES_ENDPOINT", tr, err, errlen)))
				return ret;
			snprintf(c->traces_url, OTEL_URL_MAX, "%s", tr);
		}
		if (mr && *mr) {
			if ((ret = endpoint("OTEL_EXPORTER_OTLP_METRICS_ENDPOINT", mr, err,
					    errlen)))
				return ret;
			snprintf(c->metrics_url, OTEL_URL_MAX, "%s", mr);
		}
		if (lr && *lr) {
			if ((ret = endpoint("OTEL_EXPORTER_OTLP_LOGS_ENDPOINT", lr, err, errlen)))
				return ret;
			snprintf(c->logs_url, OTEL_URL_MAX, "%s", lr);
		}
	}
	/* the SDKs' OTEL_LOGS_EXPORTER: otlp (the default) or none; none wins over any endpoint */
	v = getenv_fn("OTEL_LOGS_EXPORTER");
	if (v && *v) {
		if (!strcmp(v, "none"))
			c->logs_url[0] = '\0';
		else if (strcmp(v, "otlp"))
			return fail(err, errlen, "OTEL_LOGS_EXPORTER", v, "expected otlp or none");
	}

	v = getenv_fn("OTEL_EXPORTER_OTLP_HEADERS");
	if (v && (ret = parse_kv_list("OTEL_EXPORTER_OTLP_HEADERS", v, c->headers, OTEL_MAX_HEADERS,
				      &c->nheaders, err, errlen)))
		return ret;
	v = getenv_fn("OTEL_EXPORTER_OTLP_COMPRESSION");
	if (v && *v) {
		if (!strcmp(v, "gzip"))
			c->gzip = true;
		else if (strcmp(v, "none"))
			return fail(err, errlen, "OTEL_EXPORTER_OTLP_COMPRESSION", v,
				    "expected gzip or none");
	}
	v = getenv_fn("OTEL_EXPORTER_OTLP_TIMEOUT");
	if (v && *v &&
	    (ret = parse_ms("OTEL_EXPORTER_OTLP_TIMEOUT", v, &c->timeout_ms, err, errlen)))
		return ret;
	v = getenv_fn("OTEL_METRIC_EXPORT_INTERVAL");
	if (v && *v &&
	    (ret = parse_ms("OTEL_METRIC_EXPORT_INTERVAL", v, &c->metric_interval_ms, err, errlen)))
		return ret;
	if ((ret = parse_batch(getenv_fn, "OTEL_BSP_", OTEL_BSP_QUEUE_LIMIT, &c->bsp, err,
			       errlen)) ||
	    (ret = parse_batch(getenv_fn, "OTEL_BLRP_", OTEL_BLRP_QUEUE_LIMIT, &c->blrp, err,
			       errlen)))
		return ret;
	v = getenv_fn("OTEL_RESOURCE_ATTRIBUTES");
	if (v && (ret = parse_kv_list("OTEL_RESOURCE_ATTRIBUTES", v, c->resource,
				      OTEL_MAX_RESOURCE_ATTRS, &c->nresource, err, errlen)))
		return ret;

	v = getenv_fn("OTEL_TRACES_SAMPLER");
	if (v && *v) {
		static const struct {
			const char *name;
			enum otel_sampler s;
		} names[] = {
			{ "always_on", OTEL_SAMPLER_ALWAYS_ON },
			{ "always_off", OTEL_SAMPLER_ALWAYS_OFF },
			{ "traceidratio", OTEL_SAMPLER_TRACEIDRATIO },
			{ "parentbased_always_on", OTEL_SAMPLER_PARENTBASED_ALWAYS_ON },
			{ "parentbased_always_off", OTEL_SAMPLER_PARENTBASED_ALWAYS_OFF },
			{ "parentbased_traceidratio", OTEL_SAMPLER_PARENTBASED_TRACEIDRATIO },
		};
		size_t i;

		for (i = 0; i < sizeof(names) / sizeof(names[0]); i++)
			if (!strcmp(v, names[i].name))
				break;
		if (i == sizeof(names) / sizeof(names[0]))
			return fail(err, errlen, "OTEL_TRACES_SAMPLER", v,
				    "expected always_on, always_off, traceidratio, "
				    "parentbased_always_on, parentbased_always_off or "
				    "parentbased_traceidratio");
		c->sampler = names[i].s;
	}
	v = getenv_fn("OTEL_TRACES_SAMPLER_ARG");
	if (v && *v &&
	    (c->sampler == OTEL_SAMPLER_TRACEIDRATIO ||
	     c->sampler == OTEL_SAMPLER_PARENTBASED_TRACEIDRATIO)) {
		char *end;
		double r;

		errno = 0;
		r = strtod(v, &end);
		if (errno || end == v || *end || !isfinite(r) || r < 0 || r > 1)
			return fail(err, errlen, "OTEL_TRACES_SAMPLER_ARG", v,
				    "expected a ratio from 0 to 1");
		c->ratio = r;
	}
	return 0;
}

bool otel_resource_value(const char *list, const char *key, char *out, size_t len)
{
	struct otel_kv kv[OTEL_MAX_RESOURCE_ATTRS];
	size_t n = 0, i;

	if (!list || parse_kv_list("OTEL_RESOURCE_ATTRIBUTES", list, kv, OTEL_MAX_RESOURCE_ATTRS,
				   &n, NULL, 0))
		return false;
	for (i = n; i-- > 0;) /* the last of a key repeated wins, as in the SDKs */
		if (!strcmp(kv[i].key, key) && kv[i].value[0]) {
			snprintf(out, len, "%s", kv[i].value);
			return true;
		}
	return false;
}

bool otel_ratio_sample(const uint8_t trace_id[16], double ratio)
{
	uint64_t x = 0;
	int i;

	if (ratio >= 1.0)
		return true;
	if (ratio <= 0.0)
		return false;
	for (i = 8; i < 16; i++)
		x = (x << 8) | trace_id[i];
	x >>= 1; /* 63 bits, so that the bound below fits */
	return (double)x < ratio * 9223372036854775808.0;
}
