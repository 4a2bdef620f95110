// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
#include "pipeline/errors.h"

#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "pipeline/logline.h"
#include "util/utf8.h"

#define DEFAULT_MAX_GROUPS 1000
#define DEFAULT_SAMPLES_PER_MIN 10
#define NS_PER_MIN 60000000000ull
#define FP_FRAMES 3
#define MAX_BUCKETS (1u << 20)
#define SEV_ERROR 17
#define SEV_FATAL 21

struct group {
	struct group *next;
	uint64_t count;
	uint64_t minute;   /* the sampling window: ts_ns / NS_PER_MIN */
	unsigned int sent; /* exported in that minute, the first report of the group aside */
	char service[ERROR_SERVICE_MAX + 1];
	char type[ERROR_TYPE_MAX + 1];
	char fp[17];
};

struct error_tracker {
	size_t max_groups;
	unsigned int samples_per_min;
	void (*emit)(void *ctx, const struct log_record *r);
	void *ctx;
	size_t nbuckets; /* a power of two */
	struct group **buckets;
	size_t ngroups, noverflow; /* each at most max_groups */
	struct group lost;	   /* the sampling of reports no group could count */
	struct error_stats stats;
	struct log_record rec; /* large: one, reused */
	char stack[LOG_ARENA]; /* the stack text of rec */
	char body[ERROR_TYPE_MAX + 2 + ERROR_MESSAGE_MAX + 1];
};

static uint64_t fnv(uint64_t h, const void *p, size_t n)
{
	const unsigned char *s = p;
	size_t i;

	for (i = 0; i < n; i++) {
		h ^= s[i];
		h *= 0x100000001b3ull;
	}
	return h;
}

#define FNV_INIT 0xcbf29ce484222325ull

/* A string and the NUL that ends it, so that "ab"+"c" and "a"+"bc" differ. */
static uint64_t fnv_str(uint64_t h, const char *s)
{
	return fnv(h, s, strlen(s) + 1);
}

/* A frame's fixed-size field, which the unwinder may have filled to the last byte. */
static uint64_t fnv_field(uint64_t h, const char *s, size_t size)
{
	return fnv(fnv(h, s, strnlen(s, size)), "", 1);
}

/* Copies src as valid UTF-8 (invalid bytes as U+FFFD), whole characters that fit cap - 1 bytes. */
static void copy_bounded(char *dst, size_t cap, const char *src)
{
	const unsigned char *p = (const unsigned char *)(src ? src : "");
	size_t o = 0, k;

	while (*p) {
		k = utf8_seq_len(p, SIZE_MAX);
		if (o + (k ? k : 3) > cap - 1)
			break;
		memcpy(dst + o, k ? (const char *)p : "\xef\xbf\xbd", k ? k : 3);
		o += k ? k : 3;
		p += k ? k : 1;
	}
	dst[o] = '\0';
}

struct error_tracker *error_tracker_new(const struct error_opts *o,
					void (*emit)(void *ctx, const struct log_record *r),
					void *ctx)
{
	struct error_tracker *t = calloc(1, sizeof(*t));

	if (!t)
		return NULL;
	t->max_groups = o && o->max_groups ? o->max_groups : DEFAULT_MAX_GROUPS;
	t->samples_per_min = o && o->samples_per_min ? o->samples_per_min : DEFAULT_SAMPLES_PER_MIN;
	t->emit = emit;
	t->ctx = ctx;
	/* as many buckets as groups (overflow groups aside): chains of one or two */
	for (t->nbuckets = 16; t->nbuckets < t->max_groups && t->nbuckets < MAX_BUCKETS;)
		t->nbuckets *= 2;
	t->buckets = calloc(t->nbuckets, sizeof(*t->buckets));
	if (!t->buckets) {
		free(t);
		return NULL;
	}
	return t;
}

void error_tracker_free(struct error_tracker *t)
{
	struct group *g, *next;
	size_t i;

	if (!t)
		return;
	for (i = 0; i < t->nbuckets; i++) {
		for (g = t->buckets[i]; g; g = next) {
			next = g->next;
			free(g);
		}
	}
	free(t->buckets);
	free(t);
}

static bool frame_has(const char *field, size_t size)
{
	return size && field[0];
}

void error_fingerprint(const struct error_report *r, char out[17])
{
	const struct unwind_frame *pick[FP_FRAMES];
	size_t i, n = 0;
	uint64_t h = FNV_INIT;
	uint8_t off[8];

	h = fnv_str(h, r->type ? r->type : "");
	for (i = 0; r->frames && i < r->nframes && n < FP_FRAMES; i++) {
		if (r->frames[i].in_app)
			pick[n++] = &r->frames[i];
	}
	/* no frame of the program's own (a stripped binary, a crash in a library thread) */
	if (!n) {
		for (i = 0; r->frames && i < r->nframes && n < FP_FRAMES; i++)
			pick[n++] = &r->frames[i];
	}
	for (i = 0; i < n; i++) {
		const struct unwind_frame *f = pick[i];
		int b;

		if (frame_has(f->function, sizeof(f->function))) {
			h = fnv(h, "f", 1);
			h = fnv_field(h, f->function, sizeof(f->function));
		} else if (frame_has(f->module, sizeof(f->module))) {
			/* the link-time address, the same in every process of the module */
			for (b = 0; b < 8; b++)
				off[b] = (uint8_t)(f->module_off >> (8 * b));
			h = fnv(h, "m", 1);
			h = fnv_field(h, f->module, sizeof(f->module));
			h = fnv(h, off, sizeof(off));
		} else {
			h = fnv(h, "?", 1); /* nothing stable is known of it */
		}
	}
	if (!n) {
		h = fnv(h, "c", 1);
		h = fnv_str(h, r->culprit ? r->culprit : "");
	}
	snprintf(out, 17, "%016" PRIx64, h);
}

size_t error_stack_text(const struct unwind_frame *f, size_t n, char *buf, size_t len)
{
	char line[3 * (sizeof(f->function) + sizeof(f->module) + sizeof(f->file)) + 64];
	size_t used = 0, i, k;
	int w;

	if (!len)
		return 0;
	buf[0] = '\0';
	for (i = 0; f && i < n; i++) {
		w = unwind_frame_text(&f[i], line, sizeof(line));
		if (w < 0)
			break;
		k = (size_t)w < sizeof(line) ? (size_t)w : sizeof(line) - 1;
		/* the newline before it, and the NUL after */
		if (used + (used ? 1 : 0) + k + 1 > len)
			break;
		if (used)
			buf[used++] = '\n';
		memcpy(buf + used, line, k);
		used += k;
		buf[used] = '\0';
	}
	return used;
}

static struct group **find(struct error_tracker *t, const char *service, const char *type,
			   const char *fp)
{
	uint64_t h = FNV_INIT;
	struct group **pp;

	h = fnv_str(h, service);
	h = fnv_str(h, type);
	h = fnv_str(h, fp);
	pp = &t->buckets[h & (t->nbuckets - 1)];
	while (*pp && (strcmp((*pp)->fp, fp) || strcmp((*pp)->type, type) ||
		       strcmp((*pp)->service, service)))
		pp = &(*pp)->next;
	return pp;
}

/* The group that counts the report: its own, else its (service, type)'s overflow group, else
 * NULL (both kinds full, or no memory). */
static struct group *group_of(struct error_tracker *t, const char *service, const char *type,
			      const char *fp)
{
	struct group **pp = find(t, service, type, fp), *g;
	bool over = false;

	if (*pp)
		return *pp;
	if (t->ngroups >= t->max_groups) {
		over = true;
		pp = find(t, service, type, ERROR_FP_OVERFLOW);
		if (*pp)
			return *pp;
		if (t->noverflow >= t->max_groups)
			return NULL;
	}
	g = calloc(1, sizeof(*g));
	if (!g)
		return NULL;
	/* the service and type are bounded already */
	strcpy(g->service, service);
	strcpy(g->type, type);
	strcpy(g->fp, over ? ERROR_FP_OVERFLOW : fp);
	*pp = g;
	if (over)
		t->noverflow++;
	else
		t->ngroups++;
	t->stats.groups++;
	return g;
}

/* Counts one report in g; true when it is to be exported. */
static bool sample(struct error_tracker *t, struct group *g, uint64_t ts_ns)
{
	uint64_t minute = ts_ns / NS_PER_MIN;

	if (g->count++ == 0) {
		g->minute = minute;
		g->sent = 0;
		return true;
	}
	/* a clock read on another CPU a little behind stays in the current window */
	if (minute > g->minute) {
		g->minute = minute;
		g->sent = 0;
	}
	if (g->sent >= t->samples_per_min)
		return false;
	g->sent++;
	return true;
}

/* Up to ERROR_MESSAGE_MAX bytes of s, cut where a character starts. */
static size_t message_len(const char *s)
{
	size_t n = strnlen(s, ERROR_MESSAGE_MAX + 1);

	if (n <= ERROR_MESSAGE_MAX)
		return n;
	n = ERROR_MESSAGE_MAX;
	while (n && ((unsigned char)s[n] & 0xc0) == 0x80)
		n--;
	return n;
}

/* An extra attribute's value: up to ERROR_EXTRA_VAL_MAX bytes, cut where a character starts. */
static size_t extra_len(const char *s)
{
	size_t n = strnlen(s, ERROR_EXTRA_VAL_MAX + 1);

	if (n <= ERROR_EXTRA_VAL_MAX)
		return n;
	n = ERROR_EXTRA_VAL_MAX;
	while (n && ((unsigned char)s[n] & 0xc0) == 0x80)
		n--;
	return n;
}

/* The arena bytes the extras will take, kept from the stack so that it cannot crowd them out. */
static size_t extras_size(const struct error_report *r)
{
	size_t i, sum = 0;

	for (i = 0; i < r->nextra && i < ERROR_EXTRA_MAX; i++) {
		const char *k = r->extra[i].key, *v = r->extra[i].val ? r->extra[i].val : "";

		if (k && k[0])
			sum += utf8_clean(NULL, k, SIZE_MAX) + 1 +
			       utf8_clean(NULL, v, extra_len(v)) + 1;
	}
	return sum;
}

/* The stack, in whole frames from the top, in what the arena has left but reserve. */
static void add_stack(struct error_tracker *t, const struct error_report *r, size_t reserve)
{
	static const char key[] = "exception.stacktrace";
	struct log_record *rec = &t->rec;
	size_t room = log_record_room(rec), n, i, lines;

	if (!r->frames || !r->nframes || room <= sizeof(key) + reserve)
		return;
	room -= sizeof(key) + reserve;
	n = error_stack_text(r->frames, r->nframes, t->stack,
			     room + 1 < sizeof(t->stack) ? room + 1 : sizeof(t->stack));
	if (!n)
		return;
	log_record_add_str(rec, key, t->stack, n);
	/* frames left out: the record says so, as a cut log line does */
	for (i = 0, lines = 1; i < n; i++)
		lines += t->stack[i] == '\n';
	rec->truncated = lines < r->nframes;
}

static void fill_record(struct error_tracker *t, const struct error_report *r, const char *type,
			const char *fp)
{
	struct log_record *rec = &t->rec;
	const char *msg = r->message ? r->message : "";
	size_t mlen = message_len(msg), n, i;

	log_record_init(rec);
	rec->ts_ns = r->ts_ns;
	rec->pid = r->pid;
	rec->tid = r->tid;
	rec->severity = r->fatal ? SEV_FATAL : SEV_ERROR;
	strcpy(rec->severity_text, r->fatal ? "FATAL" : "ERROR");
	if (r->has_span) {
		rec->has_span = true;
		rec->trace_flags = r->trace_flags;
		memcpy(rec->trace_id, r->trace_id, sizeof(rec->trace_id));
		memcpy(rec->span_id, r->span_id, sizeof(rec->span_id));
	}
	n = strlen(type);
	memcpy(t->body, type, n);
	if (mlen) {
		memcpy(t->body + n, ": ", 2);
		memcpy(t->body + n + 2, msg, mlen);
		n += 2 + mlen;
	}
	log_record_set_body(rec, t->body, n);
	log_record_add_str(rec, "exception.type", type, strlen(type));
	if (mlen)
		log_record_add_str(rec, "exception.message", msg, mlen);
	if (r->fatal)
		log_record_add_bool(rec, "exception.escaped", true);
	log_record_add_str(rec, "error.fingerprint", fp, strlen(fp));
	if (!strcmp(type, "panic"))
		log_record_add_bool(rec, "go.panic.recovered", r->recovered);
	add_stack(t, r, extras_size(r));
	for (i = 0; i < r->nextra && i < ERROR_EXTRA_MAX; i++) {
		const char *k = r->extra[i].key, *v = r->extra[i].val ? r->extra[i].val : "";

		if (k && k[0])
			log_record_add_str(rec, k, v, extra_len(v));
	}
}

bool error_tracker_report(struct error_tracker *t, const struct error_report *r)
{
	char service[ERROR_SERVICE_MAX + 1], type[ERROR_TYPE_MAX + 1], fp[17];
	struct group *g;

	t->stats.reports++;
	error_fingerprint(r, fp);
	copy_bounded(service, sizeof(service), r->service);
	copy_bounded(type, sizeof(type), r->type);
	g = group_of(t, service, type, fp);
	if (!g) {
		t->stats.overflow++;
		g = &t->lost;
	}
	if (!sample(t, g, r->ts_ns)) {
		t->stats.sampled_out++;
		return false;
	}
	fill_record(t, r, type, fp);
	t->stats.exported++;
	if (t->emit)
		t->emit(t->ctx, &t->rec);
	return true;
}

void error_tracker_each(const struct error_tracker *t,
			void (*fn)(void *ctx, const char *service, const char *type,
				   const char *fingerprint, uint64_t count),
			void *ctx)
{
	const struct group *g;
	size_t i;

	for (i = 0; i < t->nbuckets; i++) {
		for (g = t->buckets[i]; g; g = g->next)
			fn(ctx, g->service, g->type, g->fp, g->count);
	}
}

void error_tracker_get_stats(const struct error_tracker *t, struct error_stats *out)
{
	*out = t->stats;
}
