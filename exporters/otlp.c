// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
#include "otlp.h"

#include <errno.h>
#include <stddef.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/random.h>
#include <time.h>

#include "util/bytering.h"
#include "util/clock.h"
#include "util/curl_lib.h"
#include "util/log.h"
#include "gzip.h"
#include "otlp_encode.h"

/* libcurl, loaded by the first exporter made (util/curl_lib.h) */
static const struct curl_lib *lc;

#define BACKOFF_FIRST_MS 500
#define BACKOFF_MAX_MS 5000	    /* recovery within seconds of the collector coming back */
#define TRACES_MAX_ELAPSED_MS 60000 /* a batch is given up after retrying this long */
#define LOG_EVERY_NS 10000000000ull

/*
 * A process's resource as the queued items of that process share it: one copy for all, not one
 * in each item's slot (1.4 KiB, most of it the Kubernetes block, written by the event loop and
 * read back by the encoder for every span). Counted references, atomic (the queuing thread
 * takes them, the exporter thread lets go of its items'): the cache's, and each queued item's
 * until its batch is encoded. info is not written after it is made.
 */
struct shared_proc {
	unsigned int refs;
	bool unknown; /* made for no proc_info: names all "" */
	/* the last proc_info version found to say what info says: the queuing thread's, for
	 * shared_proc_is() alone */
	uint64_t matches;
	struct proc_info info;
};

/* shared procs kept for the next items of their process: by pid, the last one seen */
#define PROC_CACHE 64
#define UPLOAD_BUFFER (1L << 20) /* curl's largest is 2 MiB; pages only as a body fills them */

/* bytes of the byte ring per item a queue holds: an HTTP span encodes to ~450 (a log record's
 * used part is ~300 bytes plus its line); a ring that fills first drops as a full queue does */
#define SPAN_RING_BYTES 1024
#define LOG_RING_BYTES 2048
#define RING_MIN (64u << 10) /* and never less: the largest item fits (a span ~14 KiB) */

/* One queued item: its bytes in the queue's byte ring, and its process. */
struct queued {
	struct shared_proc *proc;
	uint64_t at;   /* when it came, for the first item of an empty queue only (else 0) */
	uint32_t off;  /* where its bytes begin in the ring */
	uint32_t len;  /* its bytes */
	uint32_t foot; /* the ring bytes it holds: len rounded up, and the end it skipped */
};

/*
 * A signal that is queued by the event loop and sent in batches: traces (each span encoded as
 * it is queued, otlp_encode_span(): ~450 bytes that the exporter thread only frames, where a
 * copy of the span was ~1 KiB for it to read and encode) and logs (a record's used part). The
 * items' bytes go one after the other into a byte ring (util/bytering.h); a small ring of
 * struct queued says where each is, so that taking a batch reads no item.
 *
 * One thread queues, the exporter thread takes: no lock between them. Each count below is
 * written by one side only and only grows; the other side reads it with an acquire load, and
 * what a count covers was written before it was stored (release). Under the exporter's lock,
 * the queuing thread copied an item into cold lines of the ring and then unlocked, a locked
 * instruction that waits for those stores to complete: the copy and the unlock were ~150 ns a
 * span of the export's ~420 on the event loop (bench/profile.sh on nginx). A release store
 * waits for nothing.
 */
struct batch_queue {
	enum otlp_signal sig;
	size_t cap;	     /* items queued at most */
	size_t batch_max;    /* items per request */
	uint64_t delay_ns;   /* a partial batch leaves after this long */
	uint64_t elapsed_ns; /* a batch is given up after retrying this long */
	/* cap + batch_max entries: the batch being sent is read where it was queued, in the
	 * batch_max entries before `taken`, which no item reaches while the queuing thread keeps
	 * fewer than cap waiting after them; its bytes stay held until put_taken() */
	struct queued *items;
	size_t nslots;
	size_t pushed; /* items queued ever (the queuing thread) */
	size_t taken;  /* items taken for a batch ever (the exporter thread) */
	size_t lost;   /* items dropped as they came: a full queue, no memory (the queuing
			* thread; read atomically) */
	/* the items' bytes (calloc'ed: pages cost memory once items reach them), held from the
	 * batch being sent on: taken by the queuing thread, let go by the exporter thread */
	struct byte_ring ring;

	/* exporter thread only */
	size_t batch_at; /* where the batch take_batch() gave last begins */
	uint64_t oldest; /* when the oldest item not taken came (or was first seen), 0: not known */
	struct otlp_span_bytes *enc;	/* traces: the encoder's view of the batch */
	const struct log_record **logs; /* logs: the same */
	const struct proc_info **procs;
	struct shared_proc **shared; /* the batch's procs, let go by put_taken() */
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

	struct batch_queue traces, logs;
	struct otlp_stats stats;
	struct shared_proc *procs[PROC_CACHE];

	/* the thread that queues spans only: each is encoded here first */
	struct pb_buf span_body;

	/* exporter thread only */
	struct gzip gz;		   /* one compressor, made with the first body */
	struct pb_buf traces_body; /* kept from batch to batch (otlp_encode_traces_to()) */
	CURL *curl[OTLP_SIGNALS];
	struct curl_slist *headers[OTLP_SIGNALS];
	long retry_after_ms;
	uint64_t last_log_ns[OTLP_SIGNALS];
};

static const char *signal_url(const struct otlp_exporter *e, enum otlp_signal sig)
{
	switch (sig) {
	case OTLP_TRACES:
		return e->cfg.traces_url;
	case OTLP_METRICS:
		return e->cfg.metrics_url;
	default:
		return e->cfg.logs_url;
	}
}

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
	CURL *c = lc->easy_init();
	struct curl_slist *h = NULL;
	char line[600];
	size_t i;

	if (!c)
		return NULL;
	h = lc->slist_append(h, "Content-Type: application/x-protobuf");
	if (e->cfg.gzip)
		h = lc->slist_append(h, "Content-Encoding: gzip");
	h = lc->slist_append(h, "Expect:"); /* no 100-continue round trip per batch */
	for (i = 0; i < e->cfg.nheaders; i++) {
		snprintf(line, sizeof(line), "%s: %s", e->cfg.headers[i].key,
			 e->cfg.headers[i].value);
		h = lc->slist_append(h, line);
	}
	snprintf(line, sizeof(line), "User-Agent: obsprobe/%s", e->version);
	h = lc->slist_append(h, line);
	e->headers[sig] = h;
	lc->easy_setopt(c, CURLOPT_URL, signal_url(e, sig));
	lc->easy_setopt(c, CURLOPT_HTTPHEADER, h);
	lc->easy_setopt(c, CURLOPT_TIMEOUT_MS, (long)e->cfg.timeout_ms);
	lc->easy_setopt(c, CURLOPT_CONNECTTIMEOUT_MS, (long)e->cfg.timeout_ms);
	lc->easy_setopt(c, CURLOPT_NOSIGNAL, 1L);
	lc->easy_setopt(c, CURLOPT_HEADERFUNCTION, on_header);
	lc->easy_setopt(c, CURLOPT_HEADERDATA, e);
	lc->easy_setopt(c, CURLOPT_WRITEFUNCTION, on_body);
	lc->easy_setopt(c, CURLOPT_WRITEDATA, e);
	lc->easy_setopt(c, CURLOPT_PROTOCOLS_STR, "http,https");
	/* a body in one piece: from 64 KiB a body (the default), curl sent a 512-span batch of
	 * 200 KB in four, each a send and polls of its own */
	lc->easy_setopt(c, CURLOPT_UPLOAD_BUFFERSIZE, UPLOAD_BUFFER);
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
	lc->easy_setopt(c, CURLOPT_POSTFIELDS, body);
	lc->easy_setopt(c, CURLOPT_POSTFIELDSIZE_LARGE, (curl_off_t)len);
	rc = lc->easy_perform(c);
	if (rc != CURLE_OK) {
		snprintf(why, whylen, "%s", lc->easy_strerror(rc));
		return ATTEMPT_RETRY;
	}
	lc->easy_getinfo(c, CURLINFO_RESPONSE_CODE, &code);
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

/* What the queuing thread dropped of sig (a full queue, no memory): either thread. */
static uint64_t queue_lost(const struct otlp_exporter *e, enum otlp_signal sig)
{
	const struct batch_queue *q = sig == OTLP_TRACES ? &e->traces
				      : sig == OTLP_LOGS ? &e->logs
							 : NULL;

	return q ? __atomic_load_n(&q->lost, __ATOMIC_RELAXED) : 0;
}

static void note_failure(struct otlp_exporter *e, enum otlp_signal sig, const char *why)
{
	static const char *const what[OTLP_SIGNALS][2] = {
		[OTLP_TRACES] = { "trace", "spans" },
		[OTLP_METRICS] = { "metric", "metric exports" },
		[OTLP_LOGS] = { "log", "log records" },
	};
	uint64_t now = clock_mono_ns();
	uint64_t dropped;

	pthread_mutex_lock(&e->lock);
	dropped = e->stats.dropped[sig] + queue_lost(e, sig);
	pthread_mutex_unlock(&e->lock);
	if (now - e->last_log_ns[sig] < LOG_EVERY_NS && e->last_log_ns[sig])
		return;
	e->last_log_ns[sig] = now;
	log_warn("OTLP %s export to %s failing (%s); %llu %s dropped so far", what[sig][0],
		 signal_url(e, sig), why, (unsigned long long)dropped, what[sig][1]);
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
		lc->easy_setopt(e->curl[sig], CURLOPT_TIMEOUT_MS,
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

static bool send_body(struct otlp_exporter *e, enum otlp_signal sig, const uint8_t *body,
		      size_t len, uint64_t deadline)
{
	size_t gzlen = 0;

	if (!e->cfg.gzip)
		return send_until(e, sig, body, len, deadline);
	/* the requests say gzip (make_handle): a body that could not be compressed is dropped
	 * and counted, never sent as plain protobuf under that label */
	if (gzip_body(&e->gz, body, len, &gzlen))
		return false;
	return send_until(e, sig, e->gz.out, gzlen, deadline);
}

static struct queued *item_at(const struct batch_queue *q, size_t i)
{
	return &q->items[i % q->nslots];
}

static void shared_proc_put(struct shared_proc *p)
{
	if (p && __atomic_sub_fetch(&p->refs, 1, __ATOMIC_ACQ_REL) == 0)
		free(p);
}

/* Items queued and not taken: either thread. */
static size_t queue_waiting(const struct batch_queue *q)
{
	return __atomic_load_n(&q->pushed, __ATOMIC_ACQUIRE) -
	       __atomic_load_n(&q->taken, __ATOMIC_ACQUIRE);
}

/* The n items of q from position `from` on let go of their procs. */
static void put_procs(struct batch_queue *q, size_t from, size_t n)
{
	size_t i;

	for (i = 0; i < n; i++) {
		struct queued *it = item_at(q, from + i);

		shared_proc_put(it->proc);
		it->proc = NULL;
	}
}

/* Takes up to batch_max queued items off the queue for export_batch(), which reads them where
 * they are: their entries and bytes are not written until put_taken() releases them. Exporter
 * thread. */
static size_t take_batch(struct batch_queue *q)
{
	size_t waiting = queue_waiting(q), n = waiting < q->batch_max ? waiting : q->batch_max;

	q->batch_at = q->taken;
	/* the queuing thread may fill what the batch leaves of the queue's cap */
	__atomic_store_n(&q->taken, q->taken + n, __ATOMIC_RELEASE);
	q->oldest = 0;
	return n;
}

/* The encoder's view of the n items take_batch() gave. */
static void batch_procs(struct batch_queue *q, size_t n)
{
	size_t i;

	for (i = 0; i < n; i++) {
		const struct queued *it = item_at(q, q->batch_at + i);

		q->shared[i] = it->proc;
		q->procs[i] = &it->proc->info;
		if (q->sig == OTLP_TRACES)
			q->enc[i] = (struct otlp_span_bytes){ q->ring.buf + it->off, it->len,
							      it->proc->info.pid };
		else
			q->logs[i] = (const struct log_record *)(q->ring.buf + it->off);
	}
}

/* The n items of the batch export_batch() sent let go of their procs and their bytes. Exporter
 * thread. */
static void put_taken(struct batch_queue *q, size_t n)
{
	size_t i, bytes = 0;

	for (i = 0; i < n; i++) {
		shared_proc_put(q->shared[i]);
		bytes += item_at(q, q->batch_at + i)->foot;
	}
	byte_ring_put(&q->ring, bytes);
}

static void export_batch(struct otlp_exporter *e, struct batch_queue *q, size_t n,
			 uint64_t deadline)
{
	int64_t offset = clock_realtime_offset_ns();
	const uint8_t *body = NULL;
	uint8_t *logs = NULL;
	size_t len = 0;
	int err;

	batch_procs(q, n);
	if (q->sig == OTLP_TRACES) {
		err = otlp_encode_encoded_traces_to(&e->traces_body, q->enc, q->procs, n, &e->res,
						    &body, &len);
	} else {
		err = otlp_encode_logs(q->logs, q->procs, n, &e->res, offset, &logs, &len);
		body = logs;
	}
	if (err || !send_body(e, q->sig, body, len, deadline)) {
		pthread_mutex_lock(&e->lock);
		e->stats.dropped[q->sig] += n;
		pthread_mutex_unlock(&e->lock);
	}
	free(logs);
}

/* Whether q's batch should leave now: full, or its oldest item has waited long enough. Starts
 * the batch timer: when the first item of an empty queue came (enqueue_end()), or now for the
 * items a batch left behind. Exporter thread. */
static bool batch_due(struct batch_queue *q, uint64_t now)
{
	size_t waiting;

	if (!q->items || !(waiting = queue_waiting(q)))
		return false;
	if (!q->oldest) {
		uint64_t at = item_at(q, q->taken)->at;

		q->oldest = at && at < now ? at : now;
	}
	return waiting >= q->batch_max || now - q->oldest >= q->delay_ns;
}

/* Sends what q holds now, batch by batch, until it is empty or the stop deadline passes; counts
 * what is left dropped. Lock held, released while sending; the queuing thread has stopped. */
static void drain(struct otlp_exporter *e, struct batch_queue *q, uint64_t stop_deadline)
{
	size_t left;

	while (q->items && queue_waiting(q) && clock_mono_ns() < stop_deadline) {
		size_t n = take_batch(q);

		pthread_mutex_unlock(&e->lock);
		export_batch(e, q, n, stop_deadline);
		put_taken(q, n);
		pthread_mutex_lock(&e->lock);
	}
	left = queue_waiting(q);
	e->stats.dropped[q->sig] += left;
	put_procs(q, q->taken, left);
	q->taken = q->pushed;
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
	struct batch_queue *queues[] = { &e->traces, &e->logs };
	uint64_t interval = (uint64_t)e->cfg.metric_interval_ms * 1000000ull;
	uint64_t next_metrics = clock_mono_ns() + interval, stop_deadline;
	bool metrics = e->cfg.metrics_url[0] && e->metrics;
	size_t i;

	pthread_mutex_lock(&e->lock);
	while (!e->stopping) {
		uint64_t now = clock_mono_ns();
		uint64_t wake = metrics ? next_metrics : now + 3600000000000ull;
		bool sent = false;

		/* every signal whose batch is due gets its turn before any goes again */
		for (i = 0; i < sizeof(queues) / sizeof(queues[0]); i++) {
			struct batch_queue *q = queues[i];
			size_t n;

			/* the clock again: the signal before may have been sending a while */
			if (!batch_due(q, clock_mono_ns()))
				continue;
			n = take_batch(q);
			pthread_mutex_unlock(&e->lock);
			export_batch(e, q, n, clock_mono_ns() + q->elapsed_ns);
			put_taken(q, n);
			pthread_mutex_lock(&e->lock);
			sent = true;
		}
		if (sent)
			continue;
		if (metrics && now >= next_metrics) {
			pthread_mutex_unlock(&e->lock);
			/* the next export supersedes this one: retry no longer than an interval */
			export_metrics(e, now + interval);
			next_metrics = clock_mono_ns() + interval;
			pthread_mutex_lock(&e->lock);
			continue;
		}
		for (i = 0; i < sizeof(queues) / sizeof(queues[0]); i++) {
			struct batch_queue *q = queues[i];
			/* an empty queue is looked at again within its delay: the item that comes
			 * first leaves no later than that (enqueue_end() does not wake us for it) */
			uint64_t due = q->oldest ? q->oldest + q->delay_ns : now + q->delay_ns;

			if (q->items && due < wake)
				wake = due;
		}
		wait_until(e, wake);
	}
	/* stop: what is queued leaves now, all of it within one timeout */
	stop_deadline = e->stop_deadline;
	for (i = 0; i < sizeof(queues) / sizeof(queues[0]); i++)
		drain(e, queues[i], stop_deadline);
	pthread_mutex_unlock(&e->lock);
	if (metrics && clock_mono_ns() < stop_deadline)
		export_metrics(e, stop_deadline);
	return NULL;
}

static void queue_free(struct batch_queue *q)
{
	if (q->items) /* what a thread never started left queued */
		put_procs(q, q->taken, q->pushed - q->taken);
	free(q->items);
	free(q->ring.buf);
	free(q->enc);
	free(q->logs);
	free(q->procs);
	free(q->shared);
}

/* calloc: pages of the byte ring cost memory only once items reach them */
static int queue_init(struct batch_queue *q, enum otlp_signal sig, size_t item_bytes, size_t cap,
		      size_t batch_max, uint64_t delay_ms, uint64_t elapsed_ms)
{
	q->sig = sig;
	q->cap = cap;
	q->batch_max = batch_max < cap ? batch_max : cap;
	q->delay_ns = delay_ms * 1000000ull;
	q->elapsed_ns = elapsed_ms * 1000000ull;
	q->nslots = cap + q->batch_max;
	/* offsets are 32-bit: a queue of more than ~4 GiB of bytes is cut to that */
	q->ring.size = q->nslots < (UINT32_MAX >> 1) / item_bytes ? q->nslots * item_bytes
								  : (UINT32_MAX >> 1) & ~7ul;
	if (q->ring.size < RING_MIN)
		q->ring.size = RING_MIN;
	q->items = calloc(q->nslots, sizeof(*q->items));
	q->ring.buf = calloc(1, q->ring.size);
	if (sig == OTLP_TRACES)
		q->enc = calloc(q->batch_max, sizeof(*q->enc));
	else
		q->logs = calloc(q->batch_max, sizeof(*q->logs));
	q->procs = calloc(q->batch_max, sizeof(*q->procs));
	q->shared = calloc(q->batch_max, sizeof(*q->shared));
	if (!q->items || !q->ring.buf || !(q->enc || q->logs) || !q->procs || !q->shared)
		return -ENOMEM;
	return 0;
}

static void exporter_free(struct otlp_exporter *e)
{
	int i;

	for (i = 0; i < OTLP_SIGNALS; i++) {
		if (e->curl[i])
			lc->easy_cleanup(e->curl[i]);
		if (e->headers[i])
			lc->slist_free_all(e->headers[i]);
	}
	gzip_free(&e->gz);
	pb_buf_free(&e->traces_body);
	pb_buf_free(&e->span_body);
	pthread_mutex_destroy(&e->lock);
	pthread_cond_destroy(&e->cond);
	queue_free(&e->traces);
	queue_free(&e->logs);
	for (i = 0; i < PROC_CACHE; i++)
		shared_proc_put(e->procs[i]);
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

	/* set even for a signal not exported: its stats stay its own */
	e->traces.sig = OTLP_TRACES;
	e->logs.sig = OTLP_LOGS;
	/* a configuration not from otel_config_load() may leave the limits 0: the defaults */
	if (cfg->traces_url[0] &&
	    queue_init(&e->traces, OTLP_TRACES, SPAN_RING_BYTES,
		       cfg->bsp.max_queue ? cfg->bsp.max_queue : OTLP_QUEUE_MAX,
		       cfg->bsp.max_batch ? cfg->bsp.max_batch : OTLP_BATCH_MAX,
		       cfg->bsp.delay_ms ? cfg->bsp.delay_ms : OTLP_BATCH_MS,
		       cfg->bsp.timeout_ms ? cfg->bsp.timeout_ms : TRACES_MAX_ELAPSED_MS))
		goto oom;
	if (cfg->logs_url[0] &&
	    queue_init(&e->logs, OTLP_LOGS, LOG_RING_BYTES,
		       cfg->blrp.max_queue ? cfg->blrp.max_queue : OTLP_LOGS_QUEUE_MAX,
		       cfg->blrp.max_batch ? cfg->blrp.max_batch : OTLP_BATCH_MAX,
		       cfg->blrp.delay_ms ? cfg->blrp.delay_ms : OTLP_BATCH_MS,
		       cfg->blrp.timeout_ms ? cfg->blrp.timeout_ms : OTLP_LOGS_TIMEOUT_MS))
		goto oom;
	if (!(lc = curl_lib(err, errlen))) {
		exporter_free(e);
		return NULL;
	}
	for (i = 0; i < OTLP_SIGNALS; i++) {
		if (!signal_url(e, (enum otlp_signal)i)[0])
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
	/* the thread's own name: top -H, perf and bench/profile.sh tell its CPU from the loop's */
	pthread_setname_np(e->thread, "otlp-export");
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

static void count_lost(struct batch_queue *q)
{
	__atomic_store_n(&q->lost, q->lost + 1, __ATOMIC_RELAXED);
}

/* The entry of an item of len bytes, its bytes at *data, or NULL (counted dropped) when q is
 * full; nothing is taken until enqueue_end(). *waiting: the items queued before it. Queuing
 * thread. */
static struct queued *enqueue_begin(struct batch_queue *q, size_t len, uint8_t **data,
				    size_t *waiting)
{
	size_t off = SIZE_MAX, foot = 0;
	struct queued *it;

	*waiting = queue_waiting(q);
	if (*waiting < q->cap && len <= UINT32_MAX)
		off = byte_ring_place(&q->ring, len, &foot);
	if (off == SIZE_MAX) {
		count_lost(q);
		return NULL;
	}
	it = item_at(q, q->pushed);
	it->off = (uint32_t)off;
	it->len = (uint32_t)len;
	it->foot = (uint32_t)foot;
	*data = q->ring.buf + off;
	return it;
}

/* The entry enqueue_begin() gave is filled: it joins the queue, behind `waiting` others.
 * Queuing thread. */
static void enqueue_end(struct otlp_exporter *e, struct batch_queue *q, struct queued *it,
			size_t waiting)
{
	byte_ring_take(&q->ring, it->off, it->len, it->foot);
	/* The first item starts the batch timer without waking the exporter, which never sleeps
	 * longer than a delay while its queue is empty (exporter_main): a wakeup is a context
	 * switch, and a busy exporter took two a batch. */
	it->at = waiting ? 0 : clock_mono_ns();
	__atomic_store_n(&q->pushed, q->pushed + 1, __ATOMIC_RELEASE);
	/* A full batch leaves at once. The lock orders the signal after the exporter's last look
	 * at the queue (it looks and waits under the lock): no wakeup is lost. */
	if (waiting + 1 == q->batch_max) {
		pthread_mutex_lock(&e->lock);
		pthread_cond_signal(&e->cond);
		pthread_mutex_unlock(&e->lock);
	}
}

/* Whether sp is proc (none: NULL) as pid's: by version when proc has one, else by the names
 * (1.4 KiB), after which sp remembers proc's version, for the next ones. */
static bool shared_proc_is(struct shared_proc *sp, const struct proc_info *proc, uint32_t pid)
{
	const size_t from = offsetof(struct proc_info, service_name);

	if (sp->info.pid != pid || !proc != sp->unknown)
		return false;
	if (!proc || (proc->version && proc->version == sp->matches))
		return true;
	if (memcmp((const char *)&sp->info + from, (const char *)proc + from, sizeof(*proc) - from))
		return false;
	sp->matches = proc->version;
	return true;
}

/* A reference to the shared copy of proc as pid's (the cached one, or a new one that the
 * cache keeps in its place), NULL when out of memory. Queuing thread. */
static struct shared_proc *shared_proc_get(struct otlp_exporter *e, const struct proc_info *proc,
					   uint32_t pid)
{
	struct shared_proc **c = &e->procs[pid % PROC_CACHE], *sp = *c;

	if (!sp || !shared_proc_is(sp, proc, pid)) {
		sp = malloc(sizeof(*sp));
		if (!sp)
			return NULL;
		if (proc)
			sp->info = *proc;
		else
			memset(&sp->info, 0, sizeof(sp->info));
		sp->info.pid = pid;
		sp->unknown = !proc;
		sp->matches = proc ? proc->version : 0;
		sp->refs = 1;
		shared_proc_put(*c);
		*c = sp;
	}
	__atomic_add_fetch(&sp->refs, 1, __ATOMIC_RELAXED);
	return sp;
}

/* An item of len bytes from data, of process proc (pid's), into q, or counted dropped. */
static void enqueue(struct otlp_exporter *e, struct batch_queue *q, const void *data, size_t len,
		    const struct proc_info *proc, uint32_t pid)
{
	struct queued *it;
	size_t waiting;
	uint8_t *d;

	it = enqueue_begin(q, len, &d, &waiting);
	if (it && (it->proc = shared_proc_get(e, proc, pid))) {
		memcpy(d, data, len);
		enqueue_end(e, q, it, waiting);
	} else if (it) {
		count_lost(q);
	}
}

void otlp_exporter_add_span(struct otlp_exporter *e, const struct span *s,
			    const struct proc_info *proc, int64_t clock_offset_ns)
{
	if (!otlp_exporter_wants_traces(e))
		return;
	/* encoded here, where s is in this thread's cache, outside the lock */
	if (otlp_encode_span(&e->span_body, s, clock_offset_ns)) {
		count_lost(&e->traces);
		return;
	}
	enqueue(e, &e->traces, e->span_body.p, pb_mark(&e->span_body), proc, s->pid);
}

bool otlp_exporter_wants_logs(const struct otlp_exporter *e)
{
	return e && e->cfg.logs_url[0];
}

void otlp_exporter_add_log(struct otlp_exporter *e, const struct log_record *r,
			   const struct proc_info *proc)
{
	if (!otlp_exporter_wants_logs(e))
		return;
	/* the arena as far as it is used: the encoder reads no further */
	enqueue(e, &e->logs, r,
		offsetof(struct log_record, arena) +
			(r->arena_used < LOG_ARENA ? r->arena_used : LOG_ARENA),
		proc, r->pid);
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
	out->dropped[OTLP_TRACES] += queue_lost(e, OTLP_TRACES);
	out->dropped[OTLP_LOGS] += queue_lost(e, OTLP_LOGS);
}

size_t otlp_exporter_queued(struct otlp_exporter *e)
{
	return e ? queue_waiting(&e->traces) : 0;
}

uint64_t otlp_exporter_cpu_ns(struct otlp_exporter *e)
{
	clockid_t cid;

	if (!e || !e->thread_started || pthread_getcpuclockid(e->thread, &cid))
		return 0;
	return clock_ns(cid);
}
