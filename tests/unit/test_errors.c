// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/* Error reports: fingerprints, stack text, groups, sampling and the records exported. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "unit.h"

#include "pipeline/errors.h"
#include "pipeline/logline.h"

#define MIN_NS 60000000000ull

static struct unwind_frame frame(uint64_t pc, bool in_app, const char *module, uint64_t off,
				 const char *function, const char *file, int line)
{
	struct unwind_frame f;

	memset(&f, 0, sizeof(f));
	f.pc = pc;
	f.in_app = in_app;
	f.res = file ? UNWIND_LINE : function ? UNWIND_SYMBOL : UNWIND_ADDR;
	snprintf(f.module, sizeof(f.module), "%s", module ? module : "");
	f.module_off = off;
	snprintf(f.function, sizeof(f.function), "%s", function ? function : "");
	snprintf(f.file, sizeof(f.file), "%s", file ? file : "");
	f.line = line;
	return f;
}

/* A crash in crashme: libc's abort frames above main's, pcs shifted by bias (ASLR). */
static void crash_stack(struct unwind_frame f[6], uint64_t bias)
{
	f[0] = frame(0x7f0000001000 + bias, false, "libc.so.6", 0x8eabc, "__pthread_kill", NULL, 0);
	f[0].fn_off = 0x11c;
	f[1] = frame(0x7f0000002000 + bias, false, "libc.so.6", 0x2672a, "abort", NULL, 0);
	f[1].fn_off = 0x7a;
	f[2] = frame(0x555500001000 + bias, true, "crashme", 0x1189, "store_record", "crashme.c",
		     14);
	f[3] = frame(0x555500001100 + bias, true, "crashme", 0x11c0, "handle", "crashme.c", 30);
	f[4] = frame(0x555500001200 + bias, true, "crashme", 0x1200, "main", "crashme.c", 41);
	f[5] = frame(0x555500000800 + bias, true, "crashme", 0x800, "_start", NULL, 0);
}

static struct error_report report(const char *type, const struct unwind_frame *f, size_t n)
{
	struct error_report r;

	memset(&r, 0, sizeof(r));
	r.ts_ns = 5 * MIN_NS;
	r.pid = 42;
	r.tid = 43;
	r.service = "shop";
	r.type = type;
	r.frames = f;
	r.nframes = n;
	return r;
}

UNIT_TEST(test_fingerprint_stable_across_aslr)
{
	struct unwind_frame a[6], b[6];
	struct error_report ra, rb;
	char fa[17], fb[17];
	size_t i;

	(void)state;
	crash_stack(a, 0);
	crash_stack(b, 0x3a5000);
	ra = report("SIGABRT", a, 6);
	rb = report("SIGABRT", b, 6);
	rb.pid = 999;
	rb.message = "another message";
	error_fingerprint(&ra, fa);
	error_fingerprint(&rb, fb);
	assert_int_equal(strlen(fa), 16);
	for (i = 0; i < 16; i++)
		assert_non_null(strchr("0123456789abcdef", fa[i]));
	assert_string_equal(fa, fb);
	/* the same again: no state, no randomness */
	error_fingerprint(&ra, fb);
	assert_string_equal(fa, fb);

	/* without symbols the module offsets group, not the pcs */
	for (i = 0; i < 6; i++) {
		a[i].function[0] = b[i].function[0] = '\0';
		a[i].file[0] = b[i].file[0] = '\0';
	}
	error_fingerprint(&ra, fa);
	error_fingerprint(&rb, fb);
	assert_string_equal(fa, fb);
	b[3].module_off += 4; /* another place in the program */
	error_fingerprint(&rb, fb);
	assert_string_not_equal(fa, fb);
}

UNIT_TEST(test_fingerprint_what_counts)
{
	struct unwind_frame a[6], b[6];
	struct error_report ra, rb;
	char fa[17], fb[17];

	(void)state;
	crash_stack(a, 0);
	ra = report("SIGABRT", a, 6);
	error_fingerprint(&ra, fa);

	/* another top in-app function: another group */
	crash_stack(b, 0);
	strcpy(b[2].function, "load_record");
	rb = report("SIGABRT", b, 6);
	error_fingerprint(&rb, fb);
	assert_string_not_equal(fa, fb);

	/* library frames above the program's do not count: raise() instead of __pthread_kill */
	crash_stack(b, 0);
	strcpy(b[0].function, "raise");
	b[0].module_off = 0x3c000;
	strcpy(b[1].module, "libc.so.7");
	error_fingerprint(&rb, fb);
	assert_string_equal(fa, fb);
	/* nor the fourth in-app frame, lines nor offsets within functions */
	crash_stack(b, 0);
	b[3].line = 31;
	b[3].fn_off = 0x40;
	strcpy(b[5].function, "_start2");
	error_fingerprint(&rb, fb);
	assert_string_equal(fa, fb);
	/* the third in-app frame does */
	strcpy(b[3].function, "handle2");
	error_fingerprint(&rb, fb);
	assert_string_not_equal(fa, fb);

	/* the type does */
	crash_stack(b, 0);
	rb.type = "SIGSEGV";
	error_fingerprint(&rb, fb);
	assert_string_not_equal(fa, fb);

	/* no in-app frame at all: the top three frames, whatever they are */
	crash_stack(a, 0);
	crash_stack(b, 0);
	for (int i = 0; i < 6; i++)
		a[i].in_app = b[i].in_app = false;
	ra = report("SIGSEGV", a, 6);
	rb = report("SIGSEGV", b, 6);
	strcpy(b[3].function, "other"); /* fourth: ignored */
	error_fingerprint(&ra, fa);
	error_fingerprint(&rb, fb);
	assert_string_equal(fa, fb);
	strcpy(b[0].function, "other"); /* first: counts now */
	error_fingerprint(&rb, fb);
	assert_string_not_equal(fa, fb);
}

UNIT_TEST(test_fingerprint_culprit)
{
	struct error_report a = report("500", NULL, 0), b = report("500", NULL, 0);
	char fa[17], fb[17];

	(void)state;
	a.culprit = "GET /users/:id";
	b.culprit = "GET /users/:id";
	b.message = "upstream timed out";
	error_fingerprint(&a, fa);
	error_fingerprint(&b, fb);
	assert_string_equal(fa, fb);
	b.culprit = "GET /orders/:id";
	error_fingerprint(&b, fb);
	assert_string_not_equal(fa, fb);
	b.culprit = "GET /users/:id";
	b.type = "503";
	error_fingerprint(&b, fb);
	assert_string_not_equal(fa, fb);
	/* NULL culprit and type are "" */
	a.culprit = NULL;
	a.type = NULL;
	b.culprit = "";
	b.type = "";
	error_fingerprint(&a, fa);
	error_fingerprint(&b, fb);
	assert_string_equal(fa, fb);
}

UNIT_TEST(test_stack_text)
{
	struct unwind_frame f[6];
	char buf[512];
	size_t n, full;

	(void)state;
	crash_stack(f, 0);
	f[3] = frame(0x7f0000003000, false, "libfoo.so", 0x1234, NULL, NULL, 0);
	f[4] = frame(0x7f12, false, NULL, 0, NULL, NULL, 0);
	full = error_stack_text(f, 5, buf, sizeof(buf));
	assert_string_equal(buf, "__pthread_kill+0x11c (libc.so.6)\n"
				 "abort+0x7a (libc.so.6)\n"
				 "store_record (crashme.c:14)\n"
				 "0x7f0000003000 (libfoo.so+0x1234)\n"
				 "0x7f12 (?)");
	assert_int_equal(full, strlen(buf));

	/* cut at whole lines: room for two lines and a half keeps two */
	n = error_stack_text(f, 5, buf, strlen("__pthread_kill+0x11c (libc.so.6)\nabort+0x7a") + 1);
	assert_string_equal(buf, "__pthread_kill+0x11c (libc.so.6)");
	assert_int_equal(n, strlen(buf));
	n = error_stack_text(f, 5, buf,
			     strlen("__pthread_kill+0x11c (libc.so.6)\n"
				    "abort+0x7a (libc.so.6)") +
				     1);
	assert_string_equal(buf, "__pthread_kill+0x11c (libc.so.6)\nabort+0x7a (libc.so.6)");
	/* too small for one line: empty; no room at all: nothing written */
	n = error_stack_text(f, 5, buf, 5);
	assert_int_equal(n, 0);
	assert_string_equal(buf, "");
	buf[0] = 'x';
	assert_int_equal(error_stack_text(f, 5, buf, 0), 0);
	assert_int_equal(buf[0], 'x');
	assert_int_equal(error_stack_text(NULL, 0, buf, sizeof(buf)), 0);

	/* fields filled to the last byte, invalid UTF-8 and newlines stay one valid line */
	memset(&f[0], 0, sizeof(f[0]));
	memset(f[0].function, 'a', sizeof(f[0].function));
	f[0].res = UNWIND_SYMBOL;
	strcpy(f[0].module, "bad\xff\nmod");
	n = error_stack_text(f, 1, buf, sizeof(buf));
	assert_int_equal(n, sizeof(f[0].function) + strlen(" (bad\xef\xbf\xbd?mod)"));
	assert_string_equal(buf + sizeof(f[0].function), " (bad\xef\xbf\xbd?mod)");
	assert_null(strchr(buf, '\n'));
}

struct sink {
	unsigned n;
	struct log_record last, first;
};

static void on_emit(void *ctx, const struct log_record *r)
{
	struct sink *s = ctx;

	if (!s->n)
		s->first = *r;
	s->last = *r;
	s->n++;
}

static const char *attr_str(const struct log_record *r, const char *key)
{
	const struct log_attr *a = log_record_attr(r, key);

	if (!a)
		return NULL;
	assert_int_equal(a->type, LOG_VAL_STR);
	return log_record_str(r, a->soff);
}

struct seen {
	unsigned n;
	char service[256], type[64], fp[32];
	uint64_t count, total;
};

static void on_group(void *ctx, const char *service, const char *type, const char *fp,
		     uint64_t count)
{
	struct seen *s = ctx;

	s->n++;
	s->total += count;
	snprintf(s->service, sizeof(s->service), "%s", service);
	snprintf(s->type, sizeof(s->type), "%s", type);
	snprintf(s->fp, sizeof(s->fp), "%s", fp);
	s->count = count;
}

UNIT_TEST(test_repeats_sampled)
{
	struct error_opts o = { .max_groups = 10, .samples_per_min = 4 };
	struct sink *s = calloc(1, sizeof(*s));
	struct error_tracker *t = error_tracker_new(&o, on_emit, s);
	struct unwind_frame f[6];
	struct error_report r;
	struct error_stats st;
	struct seen seen = { 0 };
	unsigned i, emitted = 0;
	char fp[17];

	(void)state;
	assert_non_null(t);
	crash_stack(f, 0);
	r = report("SIGSEGV", f, 6);
	r.fatal = true;
	error_fingerprint(&r, fp);
	/* 100 reports in the same minute (5:00 .. 5:59.4) */
	for (i = 0; i < 100; i++) {
		r.ts_ns = 5 * MIN_NS + i * 600000000ull;
		emitted += error_tracker_report(t, &r);
	}
	/* the first, then samples_per_min more */
	assert_int_equal(emitted, 1 + 4);
	assert_int_equal(s->n, 5);
	error_tracker_each(t, on_group, &seen);
	assert_int_equal(seen.n, 1);
	assert_int_equal(seen.count, 100);
	assert_string_equal(seen.service, "shop");
	assert_string_equal(seen.type, "SIGSEGV");
	assert_string_equal(seen.fp, fp);
	error_tracker_get_stats(t, &st);
	assert_int_equal(st.reports, 100);
	assert_int_equal(st.exported, 5);
	assert_int_equal(st.sampled_out, 95);
	assert_int_equal(st.groups, 1);
	assert_int_equal(st.overflow, 0);
	/* the first carried the stack */
	assert_string_equal(attr_str(&s->first, "exception.stacktrace"),
			    "__pthread_kill+0x11c (libc.so.6)\n"
			    "abort+0x7a (libc.so.6)\n"
			    "store_record (crashme.c:14)\n"
			    "handle (crashme.c:30)\n"
			    "main (crashme.c:41)\n"
			    "_start (crashme)");
	assert_false(s->first.truncated);
	assert_int_equal(s->first.ts_ns, 5 * MIN_NS);

	/* a new minute refills: 4 more of 10 */
	for (i = 0; i < 10; i++) {
		r.ts_ns = 6 * MIN_NS + i;
		emitted += error_tracker_report(t, &r);
	}
	assert_int_equal(emitted, 5 + 4);
	/* a clock a little behind stays in minute 6: nothing more */
	r.ts_ns = 6 * MIN_NS - 1;
	assert_false(error_tracker_report(t, &r));
	error_tracker_get_stats(t, &st);
	assert_int_equal(st.reports, 111);
	assert_int_equal(st.exported, 9);
	assert_int_equal(st.sampled_out, 102);

	/* another fingerprint is a first again, at once */
	strcpy(f[2].function, "other");
	r.ts_ns = 6 * MIN_NS + 100;
	assert_true(error_tracker_report(t, &r));
	/* and the same stack in another service is another group */
	strcpy(f[2].function, "store_record");
	r.service = "billing";
	assert_true(error_tracker_report(t, &r));
	memset(&seen, 0, sizeof(seen));
	error_tracker_each(t, on_group, &seen);
	assert_int_equal(seen.n, 3);
	assert_int_equal(seen.total, 113);
	error_tracker_free(t);
	error_tracker_free(NULL);
	free(s);
}

UNIT_TEST(test_defaults)
{
	struct sink *s = calloc(1, sizeof(*s));
	struct error_tracker *t = error_tracker_new(NULL, on_emit, s);
	struct error_report r = report("500", NULL, 0);
	struct error_stats st;
	unsigned i;

	(void)state;
	r.culprit = "GET /";
	for (i = 0; i < 50; i++)
		error_tracker_report(t, &r);
	assert_int_equal(s->n, 1 + 10);
	/* 1000 groups, then overflow */
	for (i = 0; i < 1100; i++) {
		char c[32];

		snprintf(c, sizeof(c), "GET /%u", i);
		r.culprit = c;
		error_tracker_report(t, &r);
	}
	error_tracker_get_stats(t, &st);
	assert_int_equal(st.groups, 1001); /* 1000, and the overflow group of (shop, 500) */
	error_tracker_free(t);
	free(s);
}

UNIT_TEST(test_max_groups)
{
	struct error_opts o = { .max_groups = 3, .samples_per_min = 1 };
	struct sink *s = calloc(1, sizeof(*s));
	struct error_tracker *t = error_tracker_new(&o, on_emit, s);
	struct error_report r = report("500", NULL, 0);
	struct error_stats st;
	struct seen seen = { 0 };
	char c[32], svc[32];
	unsigned i;

	(void)state;
	for (i = 0; i < 10; i++) {
		snprintf(c, sizeof(c), "GET /%u", i);
		r.culprit = c;
		error_tracker_report(t, &r);
	}
	error_tracker_each(t, on_group, &seen);
	assert_int_equal(seen.n, 4);	  /* 3 own groups, 1 overflow */
	assert_int_equal(seen.total, 10); /* nothing lost */
	error_tracker_get_stats(t, &st);
	assert_int_equal(st.groups, 4);
	assert_int_equal(st.overflow, 0);
	/* overflow: the first of its group exported, then 1 a minute: 3 + 1 + 1 */
	assert_int_equal(st.exported, 5);
	assert_int_equal(s->n, 5);
	/* an overflowed report keeps its own fingerprint on the record */
	r.culprit = "GET /9";
	r.ts_ns += MIN_NS;
	assert_true(error_tracker_report(t, &r));
	{
		char fp[17];

		error_fingerprint(&r, fp);
		assert_string_equal(attr_str(&s->last, "error.fingerprint"), fp);
	}

	/* overflow groups are bounded too: 3 more (service, type) pairs, then counted nowhere */
	for (i = 0; i < 5; i++) {
		snprintf(svc, sizeof(svc), "svc%u", i);
		r.service = svc;
		error_tracker_report(t, &r);
	}
	memset(&seen, 0, sizeof(seen));
	error_tracker_each(t, on_group, &seen);
	assert_int_equal(seen.n, 3 + 3); /* overflow groups of shop, svc0 and svc1 */
	error_tracker_get_stats(t, &st);
	assert_int_equal(st.groups, 6);
	assert_int_equal(st.overflow, 3); /* svc2..svc4 */
	assert_int_equal(st.reports, 16);
	assert_int_equal(seen.total + st.overflow, 16);
	error_tracker_free(t);
	free(s);
}

UNIT_TEST(test_record)
{
	struct sink *s = calloc(1, sizeof(*s));
	struct error_tracker *t = error_tracker_new(NULL, on_emit, s);
	struct unwind_frame f[6];
	struct error_report r;
	const struct log_attr *a;
	struct log_record *rec = &s->last;
	char fp[17], longsvc[300];
	static const uint8_t tid[16] = { 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15, 16 };
	static const uint8_t sid[8] = { 0xa, 0xb, 0xc, 0xd, 0xe, 0xf, 1, 2 };
	static const uint8_t zero[16];

	(void)state;
	crash_stack(f, 0);
	r = report("panic", f, 6);
	r.message = "runtime error: index out of range [5] with length 3";
	r.recovered = true;
	r.has_span = false;
	memcpy(r.trace_id, tid, 16); /* not to be used: has_span is false */
	memcpy(r.span_id, sid, 8);
	r.nextra = 2;
	r.extra[0].key = "thread.id";
	r.extra[0].val = "43";
	r.extra[1].key = "process.executable.name";
	r.extra[1].val = "shop";
	error_fingerprint(&r, fp);
	assert_true(error_tracker_report(t, &r));
	assert_int_equal(rec->severity, 17);
	assert_string_equal(rec->severity_text, "ERROR");
	assert_int_equal(rec->pid, 42);
	assert_int_equal(rec->tid, 43);
	assert_string_equal(log_record_body(rec),
			    "panic: runtime error: index out of range [5] with length 3");
	assert_string_equal(attr_str(rec, "exception.type"), "panic");
	assert_string_equal(attr_str(rec, "exception.message"),
			    "runtime error: index out of range [5] with length 3");
	assert_string_equal(attr_str(rec, "error.fingerprint"), fp);
	assert_non_null(attr_str(rec, "exception.stacktrace"));
	a = log_record_attr(rec, "go.panic.recovered");
	assert_non_null(a);
	assert_int_equal(a->type, LOG_VAL_BOOL);
	assert_int_equal(a->i, 1);
	assert_null(log_record_attr(rec, "exception.escaped"));
	assert_string_equal(attr_str(rec, "thread.id"), "43");
	assert_string_equal(attr_str(rec, "process.executable.name"), "shop");
	assert_false(rec->has_span);
	assert_memory_equal(rec->trace_id, zero, 16);
	assert_memory_equal(rec->span_id, zero, 8);

	/* fatal, in a span, no message, no frames */
	r = report("SIGKILL", NULL, 0);
	r.fatal = true;
	r.culprit = "shop";
	r.has_span = true;
	r.trace_flags = 1;
	memcpy(r.trace_id, tid, 16);
	memcpy(r.span_id, sid, 8);
	assert_true(error_tracker_report(t, &r));
	assert_int_equal(rec->severity, 21);
	assert_string_equal(rec->severity_text, "FATAL");
	assert_string_equal(log_record_body(rec), "SIGKILL");
	assert_null(log_record_attr(rec, "exception.message"));
	assert_null(log_record_attr(rec, "exception.stacktrace"));
	assert_null(log_record_attr(rec, "go.panic.recovered"));
	a = log_record_attr(rec, "exception.escaped");
	assert_non_null(a);
	assert_int_equal(a->type, LOG_VAL_BOOL);
	assert_int_equal(a->i, 1);
	assert_true(rec->has_span);
	assert_int_equal(rec->trace_flags, 1);
	assert_memory_equal(rec->trace_id, tid, 16);
	assert_memory_equal(rec->span_id, sid, 8);

	/* long service and type are bounded in the group, whole characters */
	memset(longsvc, 'x', sizeof(longsvc));
	longsvc[sizeof(longsvc) - 1] = '\0';
	longsvc[126] = '\xc3'; /* "é" across the 128-byte bound */
	longsvc[127] = '\xa9';
	r.service = longsvc;
	r.type = "ERROR_TYPE_THAT_IS_LONGER_THAN_32_BYTES";
	assert_true(error_tracker_report(t, &r));
	assert_string_equal(attr_str(rec, "exception.type"), "ERROR_TYPE_THAT_IS_LONGER_THAN_3");
	{
		struct seen seen = { 0 };

		error_tracker_each(t, on_group, &seen);
		assert_int_equal(seen.n, 3);
	}
	error_tracker_free(t);
	free(s);
}

static void longest(void *ctx, const char *service, const char *type, const char *fp,
		    uint64_t count)
{
	size_t *m = ctx;

	(void)type, (void)fp, (void)count;
	if (strlen(service) > *m)
		*m = strlen(service);
}

UNIT_TEST(test_bounds)
{
	struct sink *s = calloc(1, sizeof(*s));
	struct error_tracker *t = error_tracker_new(NULL, on_emit, s);
	static struct unwind_frame f[UNWIND_MAX_FRAMES];
	struct error_report r;
	char *msg = malloc(5000), svc[200];
	const char *st;
	size_t i, lines = 1, m = 0;

	(void)state;
	/* frames of ~400 bytes each: more than the arena holds */
	for (i = 0; i < UNWIND_MAX_FRAMES; i++) {
		f[i] = frame(0x1000 + i, true, "m", i, NULL, NULL, 0);
		memset(f[i].function, 'f', sizeof(f[i].function) - 1);
		memset(f[i].file, 'a', sizeof(f[i].file) - 1);
		f[i].res = UNWIND_LINE;
		f[i].line = (int)i + 1;
	}
	memset(msg, 'm', 4999);
	msg[4999] = '\0';
	r = report("SIGSEGV", f, UNWIND_MAX_FRAMES);
	r.message = msg;
	assert_true(error_tracker_report(t, &r));
	assert_int_equal(strlen(attr_str(&s->last, "exception.message")), ERROR_MESSAGE_MAX);
	st = attr_str(&s->last, "exception.stacktrace");
	assert_non_null(st);
	for (i = 0; st[i]; i++)
		lines += st[i] == '\n';
	assert_true(lines > 5 && lines < UNWIND_MAX_FRAMES);
	/* the top frames, whole */
	assert_true(strstr(st, ":1)\n") != NULL);
	assert_true(s->last.truncated);
	assert_int_equal(s->last.arena[s->last.arena_used - 1], '\0');
	/* the last line kept is whole: it ends with its line number */
	{
		char want[16];

		snprintf(want, sizeof(want), ":%zu)", lines);
		assert_string_equal(st + strlen(st) - strlen(want), want);
	}

	/* the stack does not crowd out the extras, even with a message of invalid bytes that grows
	 * threefold as U+FFFD */
	{
		static const char *const keys[] = { "k0", "k1", "k2", "k3" };
		char val[300];

		memset(val, 'v', sizeof(val) - 1);
		val[sizeof(val) - 1] = '\0';
		memset(msg, 0xff, 4999);
		r.nextra = 4;
		for (i = 0; i < 4; i++) {
			r.extra[i].key = keys[i];
			r.extra[i].val = val;
		}
		r.type = "SIGBUS";
		assert_true(error_tracker_report(t, &r));
		for (i = 0; i < 4; i++)
			assert_int_equal(strlen(attr_str(&s->last, keys[i])), ERROR_EXTRA_VAL_MAX);
		assert_int_equal(strlen(attr_str(&s->last, "exception.message")),
				 3 * ERROR_MESSAGE_MAX);
		st = attr_str(&s->last, "exception.stacktrace");
		assert_non_null(st);
		assert_true(strstr(st, ":1)") != NULL);
		r.nextra = 0;
	}

	/* group strings bounded */
	memset(svc, 's', sizeof(svc) - 1);
	svc[sizeof(svc) - 1] = '\0';
	r.service = svc;
	error_tracker_report(t, &r);
	error_tracker_each(t, longest, &m);
	assert_int_equal(m, ERROR_SERVICE_MAX);
	error_tracker_free(t);
	free(msg);
	free(s);
}

UNIT_MAIN(NULL, NULL)
