// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
#include "pipeline/metrics.h"

#include <errno.h>
#include <limits.h>
#include <math.h>
#include <pthread.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "util/clock.h"
#include "util/hash.h"
#include "util/strbuf.h"
#include "util/utf8.h"

/* The OpenTelemetry SDK's default cardinality limit; used when metrics_new() is given 0. */
#define METRICS_DEFAULT_MAX_SERIES 2000
#define OVERFLOW_KEY METRICS_OVERFLOW_LABEL "=\"true\""
#define OVERFLOW_OTEL_LABEL "otel.metric.overflow"
#define OTEL_NAME_MAX 255
#define OTEL_UNIT_MAX 63
#define INITIAL_SLOTS 16
/* The record path's memo: ways per family, and the longest label set it holds (longer ones
 * take the full path every time) */
#define MEMO_WAYS 8
#define MEMO_BYTES 256
/* memo_raw() keeps each string's length in a byte: no string in MEMO_BYTES is longer */
_Static_assert(MEMO_BYTES - 3 <= UINT8_MAX, "a memo string's length must fit a byte");

struct series {
	struct series *next; /* hash chain; once removed, the retired list */
	uint64_t hash;
	const char *key; /* rendered label pairs sorted by name, a="x",b="y"; "" when none */
	const struct metric_label *labels; /* as first recorded, sorted like key */
	size_t nlabels;
	uint64_t start_ns; /* CLOCK_REALTIME at creation */
	double value;	   /* counters and gauges */
	double sum;	   /* histograms */
	uint64_t count;
	uint64_t buckets[]; /* histograms: nbounds + 1, last is +Inf; not cumulative */
};

/* A recent measurement's labels as the caller passed them (each key, value and is_int, in the
 * caller's order: memo_raw()) and the series they went to. The same labels again skip
 * validating, sorting and rendering them: the series is the one the full path gave. */
struct memo {
	struct series *s; /* NULL: empty */
	size_t len;
	unsigned char raw[MEMO_BYTES];
};

struct family {
	struct metric_family_def def; /* what metrics_visit() hands out: points into this family */
	char *name;
	char *help;
	char *otel_name;
	char *unit;
	enum metric_type type;
	double *bounds;
	size_t nbounds;
	struct series **slots;
	size_t nslots;	/* power of two */
	size_t nseries; /* not counting the overflow series */
	struct series *overflow;
	uint64_t overflowed;	/* measurements diverted to the overflow series */
	struct memo *memo;	/* MEMO_WAYS, allocated at the first measurement; may be NULL */
	unsigned int memo_next; /* the way replaced next */
	unsigned int memo_hit;	/* the way found last, looked at first */
};

struct metrics {
	pthread_mutex_t lock;
	size_t max_series;
	struct family **fams;
	size_t nfams;
	size_t fams_cap;
	/* Scratch for the record path, used under the lock so that recording into an existing
	 * series does not allocate. */
	struct strbuf key;
	const struct metric_label **sorted;
	size_t nsorted;
	size_t sorted_cap;
	/* Snapshots in use share series' key and label strings without the lock, so a removed
	 * series waits on the retired list until none is left. */
	size_t snapshots;
	struct series *retired;
};

enum record_op {
	OP_ADD,
	OP_SET,
	OP_OBSERVE,
	OP_HIST_SET,
};

static bool name_char(char c, bool first, bool colon)
{
	if ((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || c == '_')
		return true;
	if (colon && c == ':')
		return true;
	return !first && c >= '0' && c <= '9';
}

static bool valid_name(const char *s, bool colon)
{
	const char *p;

	if (!s || !*s)
		return false;
	for (p = s; *p; p++) {
		if (!name_char(*p, p == s, colon))
			return false;
	}
	return true;
}

/* Label keys may hold dots, OpenTelemetry style; Prometheus sees each as '_'. */
static char prom_char(char c)
{
	return c == '.' ? '_' : c;
}

static bool valid_label_key(const char *s)
{
	const char *p;

	if (!s || !*s)
		return false;
	for (p = s; *p; p++) {
		if (!name_char(*p, p == s, false) && (p == s || *p != '.'))
			return false;
	}
	return true;
}

/* strcmp of the keys as Prometheus reads them. */
static int prom_key_cmp(const char *a, const char *b)
{
	while (*a && prom_char(*a) == prom_char(*b)) {
		a++;
		b++;
	}
	return (unsigned char)prom_char(*a) - (unsigned char)prom_char(*b);
}

static bool ends_with(const char *s, const char *suffix)
{
	size_t n = strlen(s), k = strlen(suffix);

	return n >= k && !strcmp(s + n - k, suffix);
}

static void free_chain(struct series *s)
{
	struct series *next;

	for (; s; s = next) {
		next = s->next;
		free(s);
	}
}

static void family_free(struct family *f)
{
	size_t i;

	if (!f)
		return;
	for (i = 0; i < f->nslots; i++)
		free_chain(f->slots[i]);
	free(f->slots);
	free(f->memo);
	free(f->overflow);
	free(f->bounds);
	free(f->unit);
	free(f->otel_name);
	free(f->help);
	free(f->name);
	free(f);
}

struct metrics *metrics_new(size_t max_series)
{
	struct metrics *m;

	m = calloc(1, sizeof(*m));
	if (!m)
		return NULL;
	if (pthread_mutex_init(&m->lock, NULL)) {
		free(m);
		errno = ENOMEM;
		return NULL;
	}
	m->max_series = max_series ? max_series : METRICS_DEFAULT_MAX_SERIES;
	strbuf_init(&m->key);
	return m;
}

void metrics_free(struct metrics *m)
{
	size_t i;

	if (!m)
		return;
	for (i = 0; i < m->nfams; i++)
		family_free(m->fams[i]);
	free_chain(m->retired);
	free(m->fams);
	free(m->sorted);
	strbuf_free(&m->key);
	pthread_mutex_destroy(&m->lock);
	free(m);
}

/* What the OpenTelemetry API accepts as an instrument name, and as a unit. */
static bool valid_otel_name(const char *s)
{
	size_t i;

	if (!((s[0] >= 'a' && s[0] <= 'z') || (s[0] >= 'A' && s[0] <= 'Z')))
		return false;
	for (i = 1; s[i]; i++) {
		if (i >= OTEL_NAME_MAX ||
		    !(name_char(s[i], false, false) || s[i] == '.' || s[i] == '-' || s[i] == '/'))
			return false;
	}
	return true;
}

static bool valid_unit(const char *s)
{
	size_t i;

	for (i = 0; s[i]; i++) {
		if (i >= OTEL_UNIT_MAX || s[i] < 0x20 || s[i] > 0x7e)
			return false;
	}
	return true;
}

static int check_def(const struct metric_family_def *def)
{
	size_t i;

	if (!def || !valid_name(def->name, true) || !def->help || !*def->help)
		return -EINVAL;
	if ((def->otel_name && !valid_otel_name(def->otel_name)) ||
	    (def->unit && !valid_unit(def->unit)))
		return -EINVAL;
	if (!strcmp(def->name, METRICS_OVERFLOW_FAMILY))
		return -EINVAL;
	/* What `promtool check metrics` insists on, and what keeps a family's series names
	 * (name_bucket, name_sum, name_count) from colliding with another family. A gauge may
	 * end in _count: semconv's `*.count` instruments (process.thread.count) render so in the
	 * OpenTelemetry Prometheus exporter; metrics_register() refuses it next to the histogram
	 * whose _count it would shadow. */
	if ((def->type == METRIC_COUNTER) != ends_with(def->name, "_total"))
		return -EINVAL;
	if (ends_with(def->name, "_bucket") || ends_with(def->name, "_sum") ||
	    (def->type != METRIC_GAUGE && ends_with(def->name, "_count")))
		return -EINVAL;
	switch (def->type) {
	case METRIC_COUNTER:
	case METRIC_GAUGE:
		return def->nbounds ? -EINVAL : 0;
	case METRIC_HISTOGRAM:
		break;
	default:
		return -EINVAL;
	}
	if (def->nbounds && !def->bounds)
		return -EINVAL;
	for (i = 0; i < def->nbounds; i++) {
		if (!isfinite(def->bounds[i]))
			return -EINVAL;
		if (i && def->bounds[i] <= def->bounds[i - 1])
			return -EINVAL;
	}
	return 0;
}

static struct family *family_new(const struct metric_family_def *def)
{
	struct family *f;

	f = calloc(1, sizeof(*f));
	if (!f)
		return NULL;
	f->type = def->type;
	f->nbounds = def->nbounds;
	f->name = strdup(def->name);
	f->help = strdup(def->help);
	f->otel_name = def->otel_name ? strdup(def->otel_name) : NULL;
	f->unit = def->unit ? strdup(def->unit) : NULL;
	f->nslots = INITIAL_SLOTS;
	f->slots = calloc(f->nslots, sizeof(*f->slots));
	if (!f->name || !f->help || !f->slots || (def->otel_name && !f->otel_name) ||
	    (def->unit && !f->unit))
		goto err;
	if (f->nbounds) {
		f->bounds = malloc(f->nbounds * sizeof(*f->bounds));
		if (!f->bounds)
			goto err;
		memcpy(f->bounds, def->bounds, f->nbounds * sizeof(*f->bounds));
	}
	f->def = (struct metric_family_def){
		.name = f->name,
		.help = f->help,
		.type = f->type,
		.bounds = f->bounds,
		.nbounds = f->nbounds,
		.otel_name = f->otel_name,
		.unit = f->unit,
	};
	return f;
err:
	family_free(f);
	return NULL;
}

static bool same_str(const char *a, const char *b)
{
	return a == b || (a && b && !strcmp(a, b));
}

static bool same_def(const struct family *f, const struct metric_family_def *def)
{
	if (f->type != def->type || f->nbounds != def->nbounds)
		return false;
	if (!same_str(f->otel_name, def->otel_name) || !same_str(f->unit, def->unit))
		return false;
	return !f->nbounds || !memcmp(f->bounds, def->bounds, f->nbounds * sizeof(*f->bounds));
}

/* A gauge NAME_count next to a histogram NAME: both would render NAME_count. */
static bool shadows(const struct metric_family_def *gauge, const char *hist, enum metric_type t)
{
	size_t n = strlen(hist);

	return gauge->type == METRIC_GAUGE && t == METRIC_HISTOGRAM &&
	       !strncmp(gauge->name, hist, n) && !strcmp(gauge->name + n, "_count");
}

int metrics_register(struct metrics *m, const struct metric_family_def *def)
{
	struct family *f, **fams;
	size_t i, cap;
	int err;

	if (!m)
		return -EINVAL;
	err = check_def(def);
	if (err)
		return err;

	pthread_mutex_lock(&m->lock);
	for (i = 0; i < m->nfams; i++) {
		if (strcmp(m->fams[i]->name, def->name))
			continue;
		/* Same name, different shape: two callers disagree, and rendering either shape
		 * would mislead the other. */
		err = same_def(m->fams[i], def) ? (int)i : -EINVAL;
		goto out;
	}
	for (i = 0; i < m->nfams; i++) {
		if (shadows(def, m->fams[i]->name, m->fams[i]->type) ||
		    shadows(&m->fams[i]->def, def->name, def->type)) {
			err = -EINVAL;
			goto out;
		}
	}
	/* Two families under one OTLP name would be one metric with two shapes. */
	for (i = 0; def->otel_name && i < m->nfams; i++) {
		if (m->fams[i]->otel_name && !strcmp(m->fams[i]->otel_name, def->otel_name)) {
			err = -EINVAL;
			goto out;
		}
	}
	if (m->nfams >= INT_MAX) {
		err = -ENOSPC;
		goto out;
	}
	if (m->nfams == m->fams_cap) {
		cap = m->fams_cap ? m->fams_cap * 2 : 16;
		fams = realloc(m->fams, cap * sizeof(*fams));
		if (!fams) {
			err = -ENOMEM;
			goto out;
		}
		m->fams = fams;
		m->fams_cap = cap;
	}
	f = family_new(def);
	if (!f) {
		err = -ENOMEM;
		goto out;
	}
	m->fams[m->nfams] = f;
	err = (int)m->nfams++;
out:
	pthread_mutex_unlock(&m->lock);
	return err;
}

static int cmp_label(const void *a, const void *b)
{
	const struct metric_label *x = *(const struct metric_label *const *)a;
	const struct metric_label *y = *(const struct metric_label *const *)b;

	return prom_key_cmp(x->key, y->key);
}

static bool reserved_label(const char *key)
{
	/* le and quantile belong to histograms and summaries, __* to Prometheus itself, and
	 * otel_metric_overflow to the overflow series, which must stay unique. Checked as
	 * Prometheus reads the key, so that "otel.metric.overflow" is refused too. */
	return (key[0] == '_' && prom_char(key[1]) == '_') || !prom_key_cmp(key, "le") ||
	       !prom_key_cmp(key, "quantile") || !prom_key_cmp(key, METRICS_OVERFLOW_LABEL);
}

static void put_prom_key(struct strbuf *sb, const char *key)
{
	const char *p, *run = key;

	for (p = key; *p; p++) {
		if (*p != '.')
			continue;
		strbuf_append(sb, run, (size_t)(p - run));
		strbuf_append(sb, "_", 1);
		run = p + 1;
	}
	strbuf_append(sb, run, (size_t)(p - run));
}

/* Renders the canonical label string into m->key. Called with the lock held. */
static int build_key(struct metrics *m, const struct metric_label *labels, size_t nlabels)
{
	const struct metric_label **sorted;
	size_t i, n = 0;

	if (nlabels && !labels)
		return -EINVAL;
	for (i = 0; i < nlabels; i++) {
		if (!valid_label_key(labels[i].key) || reserved_label(labels[i].key))
			return -EINVAL;
	}
	if (nlabels > m->sorted_cap) {
		sorted = realloc(m->sorted, nlabels * sizeof(*sorted));
		if (!sorted)
			return -ENOMEM;
		m->sorted = sorted;
		m->sorted_cap = nlabels;
	}
	for (i = 0; i < nlabels; i++) {
		if (labels[i].value && *labels[i].value)
			m->sorted[n++] = &labels[i];
	}
	if (n > 1)
		qsort(m->sorted, n, sizeof(*m->sorted), cmp_label);
	m->nsorted = n;

	strbuf_reset(&m->key);
	strbuf_append(&m->key, "", 0); /* "" rather than NULL for the empty label set */
	for (i = 0; i < n; i++) {
		if (i && !prom_key_cmp(m->sorted[i]->key, m->sorted[i - 1]->key))
			return -EINVAL;
		if (i)
			strbuf_puts(&m->key, ",");
		put_prom_key(&m->key, m->sorted[i]->key);
		strbuf_puts(&m->key, "=\"");
		strbuf_prom_escape(&m->key, m->sorted[i]->value, true);
		strbuf_puts(&m->key, "\"");
	}
	return m->key.oom ? -ENOMEM : 0;
}

/* One allocation: the series, its buckets, its labels, then the strings (key, then each
 * label's key and value). */
static struct series *series_alloc(const struct family *f, const char *key, size_t keylen,
				   uint64_t hash, const struct metric_label *const *labels,
				   size_t nlabels)
{
	size_t nb = f->type == METRIC_HISTOGRAM ? f->nbounds + 1 : 0;
	size_t i, size = keylen + 1;
	struct metric_label *l;
	struct series *s;
	char *p;

	for (i = 0; i < nlabels; i++) {
		size += strlen(labels[i]->key) + 1;
		size += utf8_clean(NULL, labels[i]->value, SIZE_MAX) + 1;
	}
	s = calloc(1, sizeof(*s) + nb * sizeof(s->buckets[0]) + nlabels * sizeof(*l) + size);
	if (!s)
		return NULL;
	l = (struct metric_label *)&s->buckets[nb];
	p = (char *)&l[nlabels];
	memcpy(p, key, keylen);
	p[keylen] = '\0';
	s->key = p;
	p += keylen + 1;
	for (i = 0; i < nlabels; i++) {
		size = strlen(labels[i]->key) + 1;
		l[i].key = memcpy(p, labels[i]->key, size);
		p += size;
		l[i].value = p;
		p += utf8_clean(p, labels[i]->value, SIZE_MAX) + 1;
		l[i].is_int = labels[i]->is_int;
	}
	s->labels = l;
	s->nlabels = nlabels;
	s->hash = hash;
	s->start_ns = clock_realtime_ns();
	return s;
}

static void family_grow(struct family *f)
{
	size_t i, n = f->nslots * 2;
	struct series **slots, *s, *next;

	slots = calloc(n, sizeof(*slots));
	if (!slots)
		return; /* longer chains, still correct */
	for (i = 0; i < f->nslots; i++) {
		for (s = f->slots[i]; s; s = next) {
			next = s->next;
			s->next = slots[s->hash & (n - 1)];
			slots[s->hash & (n - 1)] = s;
		}
	}
	free(f->slots);
	f->slots = slots;
	f->nslots = n;
}

/* The series for m->key, created if there is room, else the overflow series. Lock held. */
static struct series *series_get(struct metrics *m, struct family *f)
{
	const char *key = m->key.buf;
	size_t len = m->key.len;
	uint64_t h = fnv1a(key, len);
	struct series *s;

	for (s = f->slots[h & (f->nslots - 1)]; s; s = s->next) {
		if (s->hash == h && !strcmp(s->key, key))
			return s;
	}
	if (f->nseries >= m->max_series) {
		static const struct metric_label over = { OVERFLOW_OTEL_LABEL, "true", false };
		static const struct metric_label *const over_labels[] = { &over };

		if (!f->overflow)
			f->overflow = series_alloc(f, OVERFLOW_KEY, strlen(OVERFLOW_KEY), 0,
						   over_labels, 1);
		if (f->overflow)
			f->overflowed++;
		return f->overflow;
	}
	s = series_alloc(f, key, len, h, m->sorted, m->nsorted);
	if (!s)
		return NULL;
	if (f->nseries >= f->nslots)
		family_grow(f);
	s->next = f->slots[h & (f->nslots - 1)];
	f->slots[h & (f->nslots - 1)] = s;
	f->nseries++;
	return s;
}

static void histogram_observe(const struct family *f, struct series *s, double v)
{
	size_t lo = 0, hi = f->nbounds;

	/* First bound >= v: le is inclusive, so a value on a boundary counts in that bucket. */
	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;

		if (f->bounds[mid] < v)
			lo = mid + 1;
		else
			hi = mid;
	}
	s->buckets[lo]++;
	s->sum += v;
	s->count++;
}

/* merge: the overflow series stands for many histograms and must not move backwards, so it
 * keeps the larger of each bucket and of the sum; count stays the sum of the buckets. */
static void histogram_set(const struct family *f, struct series *s, const uint64_t *buckets,
			  double sum, bool merge)
{
	size_t i;

	s->count = 0;
	for (i = 0; i <= f->nbounds; i++) {
		if (!merge || buckets[i] > s->buckets[i])
			s->buckets[i] = buckets[i];
		s->count += s->buckets[i];
	}
	if (!merge || sum > s->sum)
		s->sum = sum;
}

/* The labels as the memo keeps them into raw (MEMO_BYTES): per label its key's length (a byte),
 * its key, its value's length and its value ("" for NULL, as the full path reads it), is_int.
 * Their length, or 0 when they do not fit or a key is NULL (the full path refuses that). */
static size_t memo_raw(const struct metric_label *labels, size_t nlabels, unsigned char *raw)
{
	size_t i, len = 0;

	for (i = 0; i < nlabels; i++) {
		const char *v = labels[i].value ? labels[i].value : "";
		size_t kn, vn;

		if (!labels[i].key)
			return 0;
		kn = strlen(labels[i].key);
		vn = strlen(v);
		if (len + kn + vn + 3 > MEMO_BYTES) /* and so each length fits its byte */
			return 0;
		raw[len++] = (unsigned char)kn;
		memcpy(raw + len, labels[i].key, kn);
		len += kn;
		raw[len++] = (unsigned char)vn;
		memcpy(raw + len, v, vn);
		len += vn;
		raw[len++] = labels[i].is_int;
	}
	if (!len)
		raw[len++] = '\0'; /* no label: one byte, so that 0 stays "does not fit" */
	return len;
}

/* Whether the string s is the n bytes at *p, which then moves past them: compared where the
 * memo keeps them, s read no further than its NUL. */
static bool memo_str(const unsigned char **p, size_t n, const char *s)
{
	if (strncmp(s, (const char *)*p, n) || s[n])
		return false;
	*p += n;
	return true;
}

/* Whether way w holds these labels, as memo_raw() would lay them out: read in place, rather
 * than laid out again (two strlen() and two copies a label) to be hashed and compared. */
static bool memo_same(const struct memo *w, const struct metric_label *labels, size_t nlabels)
{
	const unsigned char *p = w->raw, *end = w->raw + w->len;
	size_t i;

	if (!nlabels)
		return w->len == 1;
	for (i = 0; i < nlabels; i++) {
		const char *v = labels[i].value ? labels[i].value : "";
		size_t kn, vn;

		/* each label: 3 bytes and its strings, within the raw */
		if (!labels[i].key || end - p < 3)
			return false;
		kn = *p++;
		if ((size_t)(end - p) < kn + 2 || !memo_str(&p, kn, labels[i].key))
			return false;
		vn = *p++;
		if ((size_t)(end - p) < vn + 1 || !memo_str(&p, vn, v) ||
		    *p++ != (unsigned char)labels[i].is_int)
			return false;
	}
	return p == end;
}

static struct series *memo_find(struct family *f, const struct metric_label *labels, size_t nlabels)
{
	size_t i, k;

	for (i = 0; f->memo && i < MEMO_WAYS; i++) {
		k = (f->memo_hit + i) % MEMO_WAYS;
		if (f->memo[k].s && memo_same(&f->memo[k], labels, nlabels)) {
			f->memo_hit = (unsigned int)k;
			return f->memo[k].s;
		}
	}
	return NULL;
}

static void memo_put(struct family *f, const struct metric_label *labels, size_t nlabels,
		     struct series *s)
{
	unsigned char raw[MEMO_BYTES];
	size_t len = memo_raw(labels, nlabels, raw);
	struct memo *w;

	if (!len)
		return; /* the full path every time */
	if (!f->memo)
		f->memo = calloc(MEMO_WAYS, sizeof(*f->memo));
	if (!f->memo)
		return;
	w = &f->memo[f->memo_next++ % MEMO_WAYS];
	w->s = s;
	w->len = len;
	memcpy(w->raw, raw, len);
}

static int record(struct metrics *m, int id, enum metric_type type, enum record_op op,
		  const struct metric_label *labels, size_t nlabels, double v,
		  const uint64_t *buckets)
{
	struct family *f;
	struct series *s;
	int err = 0;

	if (!m || id < 0 || (nlabels && !labels))
		return -EINVAL;
	/* Counters and histogram sums only go up; NaN or infinity would stick forever. */
	if (type != METRIC_GAUGE && (!isfinite(v) || (type == METRIC_COUNTER && v < 0)))
		return -EINVAL;
	if (op == OP_HIST_SET && (!buckets || v < 0))
		return -EINVAL;

	pthread_mutex_lock(&m->lock);
	if ((size_t)id >= m->nfams || m->fams[id]->type != type) {
		err = -EINVAL;
		goto out;
	}
	f = m->fams[id];
	s = memo_find(f, labels, nlabels);
	if (s && s == f->overflow) {
		f->overflowed++; /* as series_get counts it */
	} else if (!s) {
		err = build_key(m, labels, nlabels);
		if (err)
			goto out;
		s = series_get(m, f);
		if (!s) {
			err = -ENOMEM;
			goto out;
		}
		memo_put(f, labels, nlabels, s);
	}
	switch (op) {
	case OP_ADD:
		s->value += v;
		break;
	case OP_SET:
		/* The overflow series merges many counters; a set must not move it backwards. */
		if (type != METRIC_COUNTER || s != f->overflow || v > s->value)
			s->value = v;
		break;
	case OP_OBSERVE:
		histogram_observe(f, s, v);
		break;
	case OP_HIST_SET:
		histogram_set(f, s, buckets, v, s == f->overflow);
		break;
	}
out:
	pthread_mutex_unlock(&m->lock);
	return err;
}

int metrics_counter_add(struct metrics *m, int family, const struct metric_label *labels,
			size_t nlabels, double v)
{
	return record(m, family, METRIC_COUNTER, OP_ADD, labels, nlabels, v, NULL);
}

int metrics_counter_set(struct metrics *m, int family, const struct metric_label *labels,
			size_t nlabels, double v)
{
	return record(m, family, METRIC_COUNTER, OP_SET, labels, nlabels, v, NULL);
}

int metrics_gauge_set(struct metrics *m, int family, const struct metric_label *labels,
		      size_t nlabels, double v)
{
	return record(m, family, METRIC_GAUGE, OP_SET, labels, nlabels, v, NULL);
}

int metrics_histogram_observe(struct metrics *m, int family, const struct metric_label *labels,
			      size_t nlabels, double v)
{
	return record(m, family, METRIC_HISTOGRAM, OP_OBSERVE, labels, nlabels, v, NULL);
}

int metrics_histogram_set(struct metrics *m, int family, const struct metric_label *labels,
			  size_t nlabels, const uint64_t *bucket_counts, double sum)
{
	return record(m, family, METRIC_HISTOGRAM, OP_HIST_SET, labels, nlabels, sum,
		      bucket_counts);
}

/* Whether clean is what utf8_clean() makes of raw, without making the copy. */
static bool clean_equal(const char *clean, const char *raw)
{
	const unsigned char *p = (const unsigned char *)raw;
	size_t n;

	while (*p) {
		n = utf8_seq_len(p, SIZE_MAX);
		if (strncmp(clean, n ? (const char *)p : "\xef\xbf\xbd", n ? n : 3))
			return false;
		clean += n ? n : 3;
		p += n ? n : 1;
	}
	return !*clean;
}

/* Keys as Prometheus reads them, as series are told apart; values as they were stored. */
static bool has_label(const struct series *s, const char *key, const char *value)
{
	size_t i;

	for (i = 0; i < s->nlabels; i++) {
		if (!prom_key_cmp(s->labels[i].key, key))
			return clean_equal(s->labels[i].value, value);
	}
	return false;
}

int metrics_remove(struct metrics *m, const char *key, const char *value)
{
	struct series *s, **pp, *dead = NULL;
	struct family *f;
	size_t i, j;
	int n = 0;

	/* The overflow series is not in the slots, and its key is reserved anyway. */
	if (!m || !valid_label_key(key) || reserved_label(key) || !value || !*value)
		return -EINVAL;

	pthread_mutex_lock(&m->lock);
	for (i = 0; i < m->nfams; i++) {
		f = m->fams[i];
		for (j = 0; j < f->nslots; j++) {
			for (pp = &f->slots[j]; (s = *pp);) {
				if (!has_label(s, key, value)) {
					pp = &s->next;
					continue;
				}
				*pp = s->next;
				s->next = m->retired;
				m->retired = s;
				f->nseries--; /* frees a place under the cap */
				n++;
			}
		}
		/* a memo may name a removed series, or the overflow series where there is room now */
		if (f->memo)
			memset(f->memo, 0, MEMO_WAYS * sizeof(*f->memo));
	}
	if (!m->snapshots) {
		dead = m->retired;
		m->retired = NULL;
	}
	pthread_mutex_unlock(&m->lock);
	free_chain(dead);
	return n;
}

/* A copy taken under the lock, so that formatting (the slow part) runs without it and the
 * event loop is not held up by a scrape. Family, key and label strings are immutable and live
 * as long as the registry, or, for removed series, until no snapshot is left (m->snapshots):
 * they are shared, not copied. */
struct snap_series {
	const char *key;
	const struct metric_label *labels;
	size_t nlabels;
	uint64_t start_ns;
	double value;
	double sum;
	uint64_t count;
	const uint64_t *buckets;
};

struct snap_family {
	const struct family *f;
	struct snap_series *series;
	size_t n;
	uint64_t *store;
	uint64_t overflowed;
};

static void snap_one(const struct family *f, const struct series *s, struct snap_series *out,
		     uint64_t *store)
{
	size_t nb = f->nbounds + 1;

	out->key = s->key;
	out->labels = s->labels;
	out->nlabels = s->nlabels;
	out->start_ns = s->start_ns;
	out->value = s->value;
	out->sum = s->sum;
	out->count = s->count;
	if (f->type == METRIC_HISTOGRAM) {
		memcpy(store, s->buckets, nb * sizeof(*store));
		out->buckets = store;
	}
}

static int snap_family(const struct family *f, struct snap_family *sf)
{
	size_t nb = f->type == METRIC_HISTOGRAM ? f->nbounds + 1 : 0;
	size_t i, n = 0, total = f->nseries + (f->overflow ? 1 : 0);
	const struct series *s;

	sf->f = f;
	sf->overflowed = f->overflowed;
	if (!total)
		return 0;
	sf->series = calloc(total, sizeof(*sf->series));
	if (nb)
		sf->store = calloc(total, nb * sizeof(*sf->store));
	if (!sf->series || (nb && !sf->store))
		return -ENOMEM;
	for (i = 0; i < f->nslots; i++) {
		for (s = f->slots[i]; s; s = s->next, n++)
			snap_one(f, s, &sf->series[n], nb ? sf->store + n * nb : NULL);
	}
	if (f->overflow) {
		snap_one(f, f->overflow, &sf->series[n], nb ? sf->store + n * nb : NULL);
		n++;
	}
	sf->n = n;
	return 0;
}

static int cmp_snap_series(const void *a, const void *b)
{
	return strcmp(((const struct snap_series *)a)->key, ((const struct snap_series *)b)->key);
}

static void snapshot_free(struct snap_family *snaps, size_t nfams)
{
	size_t i;

	for (i = 0; snaps && i < nfams; i++) {
		free(snaps[i].series);
		free(snaps[i].store);
	}
	free(snaps);
}

/* Ends a snapshot_take() that succeeded; the last one out frees the series removed meanwhile. */
static void snapshot_end(struct metrics *m, struct snap_family *snaps, size_t nfams)
{
	struct series *dead = NULL;

	snapshot_free(snaps, nfams);
	pthread_mutex_lock(&m->lock);
	if (!--m->snapshots) {
		dead = m->retired;
		m->retired = NULL;
	}
	pthread_mutex_unlock(&m->lock);
	free_chain(dead);
}

/* Every family in registration order, each one's series sorted by label string. Ends with
 * snapshot_end(). */
static int snapshot_take(struct metrics *m, struct snap_family **out, size_t *nout)
{
	struct snap_family *snaps = NULL;
	size_t i, nfams = 0;
	int err = 0;

	pthread_mutex_lock(&m->lock);
	if (m->nfams) {
		snaps = calloc(m->nfams, sizeof(*snaps));
		if (!snaps)
			err = -ENOMEM;
	}
	for (i = 0; !err && i < m->nfams; i++) {
		nfams = i + 1;
		err = snap_family(m->fams[i], &snaps[i]);
	}
	if (!err)
		m->snapshots++;
	pthread_mutex_unlock(&m->lock);
	if (err) {
		snapshot_free(snaps, nfams);
		return err;
	}
	for (i = 0; i < nfams; i++) {
		if (snaps[i].n > 1)
			qsort(snaps[i].series, snaps[i].n, sizeof(*snaps[i].series),
			      cmp_snap_series);
	}
	*out = snaps;
	*nout = nfams;
	return 0;
}

int metrics_visit_families(struct metrics *m, metrics_family_fn family_fn, metrics_visit_fn fn,
			   void *ctx)
{
	struct metric_family_info info;
	struct snap_family *snaps;
	struct metric_point pt;
	size_t i, j, nfams;
	int err;

	if (!m || (!family_fn && !fn))
		return -EINVAL;
	err = snapshot_take(m, &snaps, &nfams);
	if (err)
		return err;
	for (i = 0; i < nfams; i++) {
		if (family_fn) {
			info = (struct metric_family_info){
				.nseries = snaps[i].n,
				.overflowed = snaps[i].overflowed,
			};
			family_fn(ctx, &snaps[i].f->def, &info);
		}
		for (j = 0; fn && j < snaps[i].n; j++) {
			const struct snap_series *s = &snaps[i].series[j];

			pt = (struct metric_point){
				.value = s->value,
				.count = s->count,
				.sum = s->sum,
				.bucket_counts = s->buckets,
				.start_unix_ns = s->start_ns,
			};
			fn(ctx, &snaps[i].f->def, s->labels, s->nlabels, &pt);
		}
	}
	snapshot_end(m, snaps, nfams);
	return 0;
}

int metrics_visit(struct metrics *m, metrics_visit_fn fn, void *ctx)
{
	return fn ? metrics_visit_families(m, NULL, fn, ctx) : -EINVAL;
}
