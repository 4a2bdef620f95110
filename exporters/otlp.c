// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
#include "otlp.h"

#include <curl/curl.h>
#include <errno.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/random.h>
#include <time.h>
#include <zlib.h>

#include "util/clock.h"
#include "util/log.h"
#include "otlp_encode.h"

#define BACKOFF_FIRST_MS 500
#define BACKOFF_MAX_MS 5000	    /* recovery within seconds of the collector coming back */
#define TRACES_MAX_ELAPSED_MS 60000 /* a batch is given up after retrying this long */
#define LOG_EVERY_NS 10000000000ull

struct queued {
	struct span span;
	struct proc_info proc;
};

struct otlp_exporter {
	struct otel_config cfg;
	struct metrics *metrics;
	struct metric_label *extra;
	struct otlp_resource_cfg res;
	char host_name[256];
	char version[32];

	pthread_t thread;
	bool thread_started;
	pthread_mutex_t lock;
	pthread_cond_t cond; /* the queue grew, or stop was asked */
	bool stopping;
	uint64_t stop_deadline; /* monotonic: everything is over by then once stopping */

	struct queued *queue; /* ring of OTLP_QUEUE_MAX */
	size_t head, count;
	struct otlp_stats stats;

	/* exporter thread only */
	CURL *curl[2];
	struct curl_slist *headers[2];
	struct queued *batch;
	const struct span **batch_spans;
	const struct proc_info **batch_procs;
	long retry_after_ms;
	uint64_t last_log_ns;
};

static void deadline_ts(struct timespec *ts, uint64_t mono_deadline)
{
	ts->tv_sec = (time_t)(mono_deadline / 1000000000ull);
	ts->tv_nsec = (long)(mono_deadline % 1000000000ull);
}

/* Waits on the condition until the monotonic deadline, or until stop is asked. Lock held. */
static void wait_until(struct otlp_exporter *e, uint64_t mono_deadline)
{
	struct timespec ts;

	deadline_ts(&ts, mono_deadline);
	pthread_cond_timedwait(&e->cond, &e->lock, &ts);
}

static int gzip_body(const uint8_t *in, size_t inlen, uint8_t **out, size_t *outlen)
{
	z_stream zs = {};
	uLong bound;
	uint8_t *buf;

	/* level 1: most of the ratio on span batches for a fraction of the CPU of the default */
	if (deflateInit2(&zs, Z_BEST_SPEED, Z_DEFLATED, 15 + 16, 8, Z_DEFAULT_STRATEGY) != Z_OK)
		return -ENOMEM;
	bound = deflateBound(&zs, inlen) + 32;
	buf = malloc(bound);
	if (!buf) {
		deflateEnd(&zs);
		return -ENOMEM;
	}
	zs.next_in = (Bytef *)in;
	zs.avail_in = (uInt)inlen;
	zs.next_out = buf;
	zs.avail_out = (uInt)bound;
	if (deflate(&zs, Z_FINISH) != Z_STREAM_END) {
		deflateEnd(&zs);
		free(buf);
		return -EIO;
	}
	*outlen = zs.total_out;
	*out = buf;
	deflateEnd(&zs);
	return 0;
}

static size_t on_header(char *buf, size_t size, size_t n, void *ctx)
{
	struct otlp_exporter *e = ctx;
	size_t len = size * n;
	char line[128];

	if (len < sizeof(line) && !strncasecmp(buf, "Retry-After:", 12)) {
		char *end;
		long secs;

		memcpy(line, buf + 12, len - 12);
		line[len - 12] = '\0';
		secs = strtol(line, &end, 10);
		/* an HTTP-date form is left to the backoff */
		if (end != line && secs >= 0 && secs <= 3600)
			e->retry_after_ms = secs * 1000;
	}
	return len;
}

static size_t on_body(char *buf, size_t size, size_t n, void *ctx)
{
	(void)buf;
	(void)ctx;
	return size * n; /* ExportServiceResponse: partial success is not acted on */
}

static CURL *make_handle(struct otlp_exporter *e, enum otlp_signal sig)
{
	CURL *c = curl_easy_init();
	struct curl_slist *h = NULL;
	char line[600];
	size_t i;

	if (!c)
		return NULL;
	h = curl_slist_append(h, "Content-Type: application/x-protobuf");
	if (e->cfg.gzip)
		h = curl_slist_append(h, "Content-Encoding: gzip");
	h = curl_slist_append(h, "Expect:"); /* no 100-continue round trip per batch */
	for (i = 0; i < e->cfg.nheaders; i++) {
		snprintf(line, sizeof(line), "%s: %s", e->cfg.headers[i].key,
			 e->cfg.headers[i].value);
		h = curl_slist_append(h, line);
	}
	snprintf(line, sizeof(line), "User-Agent: obsprobe/%s", e->version);
	h = curl_slist_append(h, line);
	e->headers[sig] = h;
	curl_easy_setopt(c, CURLOPT_URL,
			 sig == OTLP_TRACES ? e->cfg.traces_url : e->cfg.metrics_url);
	curl_easy_setopt(c, CURLOPT_HTTPHEADER, h);
	curl_easy_setopt(c, CURLOPT_TIMEOUT_MS, (long)e->cfg.timeout_ms);
	curl_easy_setopt(c, CURLOPT_CONNECTTIMEOUT_MS, (long)e->cfg.timeout_ms);
	curl_easy_setopt(c, CURLOPT_NOSIGNAL, 1L);
	curl_easy_setopt(c, CURLOPT_HEADERFUNCTION, on_header);
	curl_easy_setopt(c, CURLOPT_HEADERDATA, e);
	curl_easy_setopt(c, CURLOPT_WRITEFUNCTION, on_body);
	curl_easy_setopt(c, CURLOPT_WRITEDATA, e);
	curl_easy_setopt(c, CURLOPT_PROTOCOLS_STR, "http,https");
	return c;
}

enum attempt {
	ATTEMPT_OK,
	ATTEMPT_RETRY,
	ATTEMPT_REJECTED,
};

static enum attempt post(struct otlp_exporter *e, enum otlp_signal sig, const uint8_t *body,
			 size_t len, char *why, size_t whylen)
{
	CURL *c = e->curl[sig];
	long code = 0;
	CURLcode rc;

	e->retry_after_ms = -1;
	curl_easy_setopt(c, CURLOPT_POSTFIELDS, body);
	curl_easy_setopt(c, CURLOPT_POSTFIELDSIZE_LARGE, (curl_off_t)len);
	rc = curl_easy_perform(c);
	if (rc != CURLE_OK) {
		snprintf(why, whylen, "%s", curl_easy_strerror(rc));
		return ATTEMPT_RETRY;
	}
	curl_easy_getinfo(c, CURLINFO_RESPONSE_CODE, &code);
	if (code >= 200 && code < 300)
		return ATTEMPT_OK;
	snprintf(why, whylen, "HTTP %ld", code);
	if (code == 429 || code == 502 || code == 503 || code == 504)
		return ATTEMPT_RETRY;
	return ATTEMPT_REJECTED;
}

static uint64_t jitter(uint64_t ms)
{
	uint32_t r = 0;

	if (getrandom(&r, sizeof(r), GRND_NONBLOCK) != sizeof(r))
		r = (uint32_t)clock_mono_ns();
	/* 50%..150% of the nominal backoff, so that many agents do not retry in step */
	return ms / 2 + (ms ? r % ms : 0);
}

static void note_failure(struct otlp_exporter *e, enum otlp_signal sig, const char *why)
{
	uint64_t now = clock_mono_ns();
	uint64_t dropped;

	pthread_mutex_lock(&e->lock);
	dropped = e->stats.dropped[OTLP_TRACES];
	pthread_mutex_unlock(&e->lock);
	if (now - e->last_log_ns < LOG_EVERY_NS && e->last_log_ns)
		return;
	e->last_log_ns = now;
	log_warn("OTLP %s export to %s failing (%s); %llu spans dropped so far",
		 sig == OTLP_TRACES ? "trace" : "metric",
		 sig == OTLP_TRACES ? e->cfg.traces_url : e->cfg.metrics_url, why,
		 (unsigned long long)dropped);
}

/* Sends body until it is accepted, rejected, or the monotonic deadline passes. Returns true
 * when the collector took it. */
static bool send_until(struct otlp_exporter *e, enum otlp_signal sig, const uint8_t *body,
		       size_t len, uint64_t deadline)
{
	uint64_t backoff = BACKOFF_FIRST_MS;
	char why[128] = "";

	for (;;) {
		enum attempt a;
		uint64_t wait_ms, now;

		pthread_mutex_lock(&e->lock);
		/* a stop shortens every deadline to its own */
		if (e->stopping && e->stop_deadline < deadline)
			deadline = e->stop_deadline;
		pthread_mutex_unlock(&e->lock);
		if (clock_mono_ns() >= deadline) {
			pthread_mutex_lock(&e->lock);
			e->stats.failed[sig]++;
			pthread_mutex_unlock(&e->lock);
			return false;
		}
		/* the request itself may not outlive the deadline either */
		now = clock_mono_ns();
		curl_easy_setopt(e->curl[sig], CURLOPT_TIMEOUT_MS,
				 (long)((deadline - now) / 1000000ull < e->cfg.timeout_ms
						? (deadline - now) / 1000000ull + 1
						: e->cfg.timeout_ms));
		a = post(e, sig, body, len, why, sizeof(why));

		pthread_mutex_lock(&e->lock);
		if (a == ATTEMPT_OK) {
			e->stats.ok[sig]++;
			pthread_mutex_unlock(&e->lock);
			return true;
		}
		if (a == ATTEMPT_REJECTED) {
			e->stats.failed[sig]++;
			pthread_mutex_unlock(&e->lock);
			note_failure(e, sig, why);
			return false;
		}
		e->stats.retried[sig]++;
		pthread_mutex_unlock(&e->lock);
		note_failure(e, sig, why);

		wait_ms = jitter(backoff);
		if (e->retry_after_ms >= 0 && (uint64_t)e->retry_after_ms > wait_ms)
			wait_ms = (uint64_t)e->retry_after_ms;
		backoff = backoff * 2 > BACKOFF_MAX_MS ? BACKOFF_MAX_MS : backoff * 2;
		now = clock_mono_ns();
		if (now + wait_ms * 1000000ull >= deadline) {
			pthread_mutex_lock(&e->lock);
			e->stats.failed[sig]++;
			pthread_mutex_unlock(&e->lock);
			return false;
		}
		pthread_mutex_lock(&e->lock);
		/* new spans wake the condition too; a stop request that moves the deadline before
		 * the next attempt ends the retries (the loop's first check) */
		while (clock_mono_ns() < now + wait_ms * 1000000ull &&
		       !(e->stopping && e->stop_deadline <= now + wait_ms * 1000000ull))
			wait_until(e, now + wait_ms * 1000000ull);
		pthread_mutex_unlock(&e->lock);
	}
}

static bool send_body(struct otlp_exporter *e, enum otlp_signal sig, uint8_t *body, size_t len,
		      uint64_t deadline)
{
	uint8_t *gz = NULL;
	size_t gzlen = 0;
	bool ok;

	if (e->cfg.gzip && gzip_body(body, len, &gz, &gzlen) == 0) {
		ok = send_until(e, sig, gz, gzlen, deadline);
		free(gz);
		return ok;
	}
	return send_until(e, sig, body, len, deadline);
}

/* Moves up to OTLP_BATCH_MAX queued spans into the batch. Lock held. */
static size_t take_batch(struct otlp_exporter *e)
{
	size_t n = e->count < OTLP_BATCH_MAX ? e->count : OTLP_BATCH_MAX, i;

	for (i = 0; i < n; i++) {
		e->batch[i] = e->queue[e->head];
		e->head = (e->head + 1) % OTLP_QUEUE_MAX;
	}
	e->count -= n;
	return n;
}

static void export_batch(struct otlp_exporter *e, size_t n, uint64_t deadline)
{
	int64_t offset = clock_realtime_offset_ns();
	uint8_t *body = NULL;
	size_t len = 0, i;
	int err;

	for (i = 0; i < n; i++) {
		e->batch_spans[i] = &e->batch[i].span;
		e->batch_procs[i] = &e->batch[i].proc;
	}
	err = otlp_encode_traces(e->batch_spans, e->batch_procs, n, &e->res, offset, &body, &len);
	if (err || !send_body(e, OTLP_TRACES, body, len, deadline)) {
		pthread_mutex_lock(&e->lock);
		e->stats.dropped[OTLP_TRACES] += n;
		pthread_mutex_unlock(&e->lock);
	}
	free(body);
}

static void export_metrics(struct otlp_exporter *e, uint64_t deadline)
{
	uint8_t *body = NULL;
	size_t len = 0;

	if (otlp_encode_metrics(e->metrics, &e->res, clock_realtime_ns(), &body, &len) ||
	    !send_body(e, OTLP_METRICS, body, len, deadline)) {
		pthread_mutex_lock(&e->lock);
		e->stats.dropped[OTLP_METRICS]++;
		pthread_mutex_unlock(&e->lock);
	}
	free(body);
}

static void *exporter_main(void *arg)
{
	struct otlp_exporter *e = arg;
	uint64_t interval = (uint64_t)e->cfg.metric_interval_ms * 1000000ull;
	uint64_t next_metrics = clock_mono_ns() + interval, oldest = 0, stop_deadline;
	bool traces = e->cfg.traces_url[0], metrics = e->cfg.metrics_url[0] && e->metrics;

	pthread_mutex_lock(&e->lock);
	while (!e->stopping) {
		uint64_t now = clock_mono_ns();
		uint64_t wake = metrics ? next_metrics : now + 3600000000000ull;

		if (traces && e->count && !oldest)
			oldest = now;
		if (traces && e->count &&
		    (e->count >= OTLP_BATCH_MAX || now - oldest >= OTLP_BATCH_MS * 1000000ull)) {
			size_t n = take_batch(e);

			oldest = 0;
			pthread_mutex_unlock(&e->lock);
			export_batch(e, n, now + TRACES_MAX_ELAPSED_MS * 1000000ull);
			pthread_mutex_lock(&e->lock);
			continue;
		}
		if (metrics && now >= next_metrics) {
			pthread_mutex_unlock(&e->lock);
			/* the next export supersedes this one: retry no longer than an interval */
			export_metrics(e, now + interval);
			next_metrics = clock_mono_ns() + interval;
			pthread_mutex_lock(&e->lock);
			continue;
		}
		if (traces && e->count && oldest + OTLP_BATCH_MS * 1000000ull < wake)
			wake = oldest + OTLP_BATCH_MS * 1000000ull;
		wait_until(e, wake);
	}
	/* stop: what is queued leaves now, all of it within one timeout */
	stop_deadline = e->stop_deadline;
	while (traces && e->count && clock_mono_ns() < stop_deadline) {
		size_t n = take_batch(e);

		pthread_mutex_unlock(&e->lock);
		export_batch(e, n, stop_deadline);
		pthread_mutex_lock(&e->lock);
	}
	e->stats.dropped[OTLP_TRACES] += e->count;
	e->count = 0;
	pthread_mutex_unlock(&e->lock);
	if (metrics && clock_mono_ns() < stop_deadline)
		export_metrics(e, stop_deadline);
	return NULL;
}

static void exporter_free(struct otlp_exporter *e)
{
	int i;

	for (i = 0; i < 2; i++) {
		if (e->curl[i])
			curl_easy_cleanup(e->curl[i]);
		curl_slist_free_all(e->headers[i]);
	}
	pthread_mutex_destroy(&e->lock);
	pthread_cond_destroy(&e->cond);
	free(e->queue);
	free(e->batch);
	free(e->batch_spans);
	free(e->batch_procs);
	free(e->extra);
	free(e);
}

struct otlp_exporter *otlp_exporter_start(const struct otel_config *cfg, struct metrics *m,
					  const char *host_name, const char *version, char *err,
					  size_t errlen)
{
	struct otlp_exporter *e = calloc(1, sizeof(*e));
	pthread_condattr_t ca;
	size_t i;

	if (!e)
		goto oom;
	e->cfg = *cfg;
	e->metrics = m;
	snprintf(e->host_name, sizeof(e->host_name), "%s", host_name);
	snprintf(e->version, sizeof(e->version), "%s", version);
	pthread_mutex_init(&e->lock, NULL);
	pthread_condattr_init(&ca);
	pthread_condattr_setclock(&ca, CLOCK_MONOTONIC);
	pthread_cond_init(&e->cond, &ca);
	pthread_condattr_destroy(&ca);

	e->extra = calloc(cfg->nresource ? cfg->nresource : 1, sizeof(*e->extra));
	if (!e->extra)
		goto oom;
	for (i = 0; i < cfg->nresource; i++) {
		e->extra[i].key = e->cfg.resource[i].key;
		e->extra[i].value = e->cfg.resource[i].value;
	}
	e->res.host_name = e->host_name;
	e->res.sdk_version = e->version;
	e->res.extra = e->extra;
	e->res.nextra = cfg->nresource;

	if (cfg->traces_url[0]) {
		/* calloc: pages of the queue cost memory only once spans fill them */
		e->queue = calloc(OTLP_QUEUE_MAX, sizeof(*e->queue));
		e->batch = calloc(OTLP_BATCH_MAX, sizeof(*e->batch));
		e->batch_spans = calloc(OTLP_BATCH_MAX, sizeof(*e->batch_spans));
		e->batch_procs = calloc(OTLP_BATCH_MAX, sizeof(*e->batch_procs));
		if (!e->queue || !e->batch || !e->batch_spans || !e->batch_procs)
			goto oom;
	}
	if (curl_global_init(CURL_GLOBAL_DEFAULT)) {
		snprintf(err, errlen, "cannot initialise libcurl");
		exporter_free(e);
		return NULL;
	}
	for (i = 0; i < 2; i++) {
		const char *url = i == OTLP_TRACES ? cfg->traces_url : cfg->metrics_url;

		if (!url[0])
			continue;
		e->curl[i] = make_handle(e, (enum otlp_signal)i);
		if (!e->curl[i])
			goto oom;
	}
	if (pthread_create(&e->thread, NULL, exporter_main, e)) {
		snprintf(err, errlen, "cannot start the OTLP exporter thread");
		exporter_free(e);
		return NULL;
	}
	e->thread_started = true;
	return e;
oom:
	snprintf(err, errlen, "out of memory setting up the OTLP exporter");
	if (e)
		exporter_free(e);
	return NULL;
}

void otlp_exporter_stop(struct otlp_exporter *e)
{
	if (!e)
		return;
	if (e->thread_started) {
		pthread_mutex_lock(&e->lock);
		e->stopping = true;
		e->stop_deadline = clock_mono_ns() + (uint64_t)e->cfg.timeout_ms * 1000000ull;
		pthread_cond_broadcast(&e->cond);
		pthread_mutex_unlock(&e->lock);
		pthread_join(e->thread, NULL);
	}
	exporter_free(e);
}

bool otlp_exporter_wants_traces(const struct otlp_exporter *e)
{
	return e && e->cfg.traces_url[0];
}

void otlp_exporter_add_span(struct otlp_exporter *e, const struct span *s,
			    const struct proc_info *proc)
{
	struct queued *q;

	if (!otlp_exporter_wants_traces(e))
		return;
	pthread_mutex_lock(&e->lock);
	if (e->count == OTLP_QUEUE_MAX) {
		e->stats.dropped[OTLP_TRACES]++;
		pthread_mutex_unlock(&e->lock);
		return;
	}
	q = &e->queue[(e->head + e->count) % OTLP_QUEUE_MAX];
	q->span = *s;
	if (proc)
		q->proc = *proc;
	else
		memset(&q->proc, 0, sizeof(q->proc));
	q->proc.pid = s->pid;
	e->count++;
	/* the first span starts the batch timer, a full batch leaves at once */
	if (e->count == 1 || e->count == OTLP_BATCH_MAX)
		pthread_cond_signal(&e->cond);
	pthread_mutex_unlock(&e->lock);
}

void otlp_exporter_get_stats(struct otlp_exporter *e, struct otlp_stats *out)
{
	if (!e) {
		memset(out, 0, sizeof(*out));
		return;
	}
	pthread_mutex_lock(&e->lock);
	*out = e->stats;
	pthread_mutex_unlock(&e->lock);
}

size_t otlp_exporter_queued(struct otlp_exporter *e)
{
	size_t n;

	if (!e)
		return 0;
	pthread_mutex_lock(&e->lock);
	n = e->count;
	pthread_mutex_unlock(&e->lock);
	return n;
}

uint64_t otlp_exporter_cpu_ns(struct otlp_exporter *e)
{
	clockid_t cid;

	if (!e || !e->thread_started || pthread_getcpuclockid(e->thread, &cid))
		return 0;
	return clock_ns(cid);
}
