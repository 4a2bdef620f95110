// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/*
 * Rendered from metrics_visit_families(), that is from a snapshot taken under the registry's
 * lock and formatted without it, so a scrape does not hold up the event loop. Every scrape
 * renders every series, so the per-line path avoids printf where it can: integers are formatted
 * by hand, label pairs once per series, bounds once per family.
 */
#include "prometheus_text.h"

#include <errno.h>
#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define NUM_BUF 32
#define LE_BUF (NUM_BUF + 8) /* le="<bound>"} */
#define OVERFLOW_HELP                                                                         \
	"Measurements recorded into the overflow series of a metric that reached its series " \
	"limit."

struct overflowed {
	const char *family; /* def->name: lives as long as the registry */
	uint64_t n;
};

struct writer {
	struct strbuf *out;
	struct strbuf labels; /* the series' label pairs, a="x",b="y" */
	struct strbuf bucket; /* the series' name_bucket{a="x",b="y", */
	char (*le)[LE_BUF];   /* the family's bounds as le="..."} */
	size_t le_cap;
	struct overflowed *over;
	size_t nover, over_cap;
	int err;
};

/* Decimal digits of v, NUL-terminated, ending at the end of buf. */
static char *fmt_u64(uint64_t v, char buf[NUM_BUF])
{
	char *p = buf + NUM_BUF - 1;

	*p = '\0';
	do {
		*--p = (char)('0' + v % 10);
		v /= 10;
	} while (v);
	return p;
}

/* Integral values print as integers; others as the shortest %g that reads back exactly. */
static const char *fmt_value(double v, char buf[NUM_BUF])
{
	char *p;
	int prec;

	if (isnan(v))
		return "NaN";
	if (isinf(v))
		return v > 0 ? "+Inf" : "-Inf";
	if (v == 0)
		return "0"; /* also -0 */
	if (v == floor(v) && fabs(v) < 9007199254740992.0) {
		/* What "%.0f" prints: below 2^53 the integer is exact. */
		p = fmt_u64((uint64_t)fabs(v), buf);
		if (v < 0)
			*--p = '-';
		return p;
	}
	for (prec = 15; prec < 17; prec++) {
		snprintf(buf, NUM_BUF, "%.*g", prec, v);
		if (strtod(buf, NULL) == v)
			return buf;
	}
	snprintf(buf, NUM_BUF, "%.17g", v);
	return buf;
}

static void put_header(struct strbuf *out, const char *name, const char *help,
		       enum metric_type type)
{
	static const char *const types[] = {
		[METRIC_COUNTER] = "counter",
		[METRIC_GAUGE] = "gauge",
		[METRIC_HISTOGRAM] = "histogram",
	};

	strbuf_puts(out, "# HELP ");
	strbuf_puts(out, name);
	strbuf_puts(out, " ");
	strbuf_prom_escape(out, help, false);
	strbuf_puts(out, "\n# TYPE ");
	strbuf_puts(out, name);
	strbuf_puts(out, " ");
	strbuf_puts(out, types[type]);
	strbuf_puts(out, "\n");
}

/*
 * a="x",b="y", keys with each '.' as '_' (OpenTelemetry keys hold dots, Prometheus reads them as
 * '_'). A key goes through a small buffer together with the quotes and comma around it: one
 * append for the key, one for the value, and no strlen or memchr calls, which cost more than
 * the copy on keys this short.
 */
static void put_labels(struct strbuf *sb, const struct metric_label *labels, size_t n)
{
	char buf[64];
	const char *k;
	size_t i, len;

	for (i = 0; i < n; i++) {
		len = 0;
		if (i) {
			buf[len++] = '"';
			buf[len++] = ',';
		}
		for (k = labels[i].key; *k; k++) {
			if (len == sizeof(buf) - 2) { /* room for =" */
				strbuf_append(sb, buf, len);
				len = 0;
			}
			buf[len++] = *k == '.' ? '_' : *k;
		}
		buf[len++] = '=';
		buf[len++] = '"';
		strbuf_append(sb, buf, len);
		strbuf_prom_escape(sb, labels[i].value, true);
	}
	if (n)
		strbuf_append(sb, "\"", 1);
}

/* name_suffix{labels} value, or name_suffix value without labels */
static void put_sample(struct strbuf *out, const char *name, const char *suffix,
		       const struct strbuf *labels, const char *value)
{
	strbuf_puts(out, name);
	strbuf_puts(out, suffix);
	if (labels->len) {
		strbuf_append(out, "{", 1);
		strbuf_append(out, labels->buf, labels->len);
		strbuf_append(out, "} ", 2);
	} else {
		strbuf_append(out, " ", 1);
	}
	strbuf_puts(out, value);
	strbuf_append(out, "\n", 1);
}

static int format_bounds(struct writer *w, const struct metric_family_def *def)
{
	char num[NUM_BUF];
	size_t i;

	if (def->nbounds > w->le_cap) {
		free(w->le);
		w->le = calloc(def->nbounds, sizeof(*w->le));
		w->le_cap = w->le ? def->nbounds : 0;
		if (!w->le)
			return -ENOMEM;
	}
	for (i = 0; i < def->nbounds; i++)
		snprintf(w->le[i], LE_BUF, "le=\"%s\"} ", fmt_value(def->bounds[i], num));
	return 0;
}

static int add_overflowed(struct writer *w, const char *family, uint64_t n)
{
	struct overflowed *over;
	size_t cap;

	if (w->nover == w->over_cap) {
		cap = w->over_cap ? w->over_cap * 2 : 8;
		over = realloc(w->over, cap * sizeof(*over));
		if (!over)
			return -ENOMEM;
		w->over = over;
		w->over_cap = cap;
	}
	w->over[w->nover++] = (struct overflowed){ family, n };
	return 0;
}

static void on_family(void *ctx, const struct metric_family_def *def,
		      const struct metric_family_info *info)
{
	struct writer *w = ctx;

	if (w->err)
		return;
	if (info->overflowed)
		w->err = add_overflowed(w, def->name, info->overflowed);
	if (w->err || !info->nseries)
		return;
	put_header(w->out, def->name, def->help, def->type);
	if (def->type == METRIC_HISTOGRAM)
		w->err = format_bounds(w, def);
}

static void on_series(void *ctx, const struct metric_family_def *def,
		      const struct metric_label *labels, size_t nlabels,
		      const struct metric_point *pt)
{
	struct writer *w = ctx;
	char num[NUM_BUF];
	uint64_t cum = 0;
	size_t i;

	if (w->err)
		return;
	/* A counter or gauge is one line: its labels go straight to out. */
	if (def->type != METRIC_HISTOGRAM) {
		strbuf_puts(w->out, def->name);
		if (nlabels) {
			strbuf_append(w->out, "{", 1);
			put_labels(w->out, labels, nlabels);
			strbuf_append(w->out, "} ", 2);
		} else {
			strbuf_append(w->out, " ", 1);
		}
		strbuf_puts(w->out, fmt_value(pt->value, num));
		strbuf_append(w->out, "\n", 1);
		return;
	}
	/* A histogram's labels are on each of its lines: rendered once. */
	strbuf_reset(&w->labels);
	put_labels(&w->labels, labels, nlabels);
	if (w->labels.oom) {
		w->err = -ENOMEM;
		return;
	}
	/* name_bucket{labels, once; then le="..."} value for each bucket */
	strbuf_reset(&w->bucket);
	strbuf_puts(&w->bucket, def->name);
	strbuf_append(&w->bucket, "_bucket{", 8);
	if (w->labels.len) {
		strbuf_append(&w->bucket, w->labels.buf, w->labels.len);
		strbuf_append(&w->bucket, ",", 1);
	}
	if (w->bucket.oom) {
		w->err = -ENOMEM;
		return;
	}
	for (i = 0; i <= def->nbounds; i++) {
		cum += pt->bucket_counts[i];
		strbuf_append(w->out, w->bucket.buf, w->bucket.len);
		strbuf_puts(w->out, i < def->nbounds ? w->le[i] : "le=\"+Inf\"} ");
		strbuf_puts(w->out, fmt_u64(cum, num));
		strbuf_append(w->out, "\n", 1);
	}
	put_sample(w->out, def->name, "_sum", &w->labels, fmt_value(pt->sum, num));
	put_sample(w->out, def->name, "_count", &w->labels, fmt_u64(pt->count, num));
}

static int cmp_overflowed(const void *a, const void *b)
{
	return strcmp(((const struct overflowed *)a)->family,
		      ((const struct overflowed *)b)->family);
}

static void put_overflowed(struct writer *w)
{
	char num[NUM_BUF];
	size_t i;

	if (!w->nover)
		return;
	qsort(w->over, w->nover, sizeof(*w->over), cmp_overflowed);
	put_header(w->out, METRICS_OVERFLOW_FAMILY, OVERFLOW_HELP, METRIC_COUNTER);
	for (i = 0; i < w->nover; i++) {
		strbuf_puts(w->out, METRICS_OVERFLOW_FAMILY "{metric=\"");
		strbuf_puts(w->out, w->over[i].family);
		strbuf_puts(w->out, "\"} ");
		strbuf_puts(w->out, fmt_u64(w->over[i].n, num));
		strbuf_append(w->out, "\n", 1);
	}
}

int prometheus_text_write(struct metrics *m, struct strbuf *out)
{
	struct writer w = { .out = out };
	int err;

	if (!m || !out)
		return -EINVAL;
	strbuf_init(&w.labels);
	strbuf_init(&w.bucket);
	err = metrics_visit_families(m, on_family, on_series, &w);
	if (!err)
		err = w.err;
	if (!err)
		put_overflowed(&w);
	strbuf_free(&w.labels);
	strbuf_free(&w.bucket);
	free(w.le);
	free(w.over);
	if (err)
		return err;
	return out->oom ? -ENOMEM : 0;
}
