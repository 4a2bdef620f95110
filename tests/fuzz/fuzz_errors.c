// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/*
 * Input, read front to back (missing bytes read as 0):
 *   go_panic_message: kind, flags (bit 0 text_ok, bit 1 type name NULL, bits 2-7 a known
 *   type name, 0: the next bytes), 32 raw bytes, [type name: length byte, bytes], text: length
 *   byte, bytes, out size byte;
 *   error tracker: max_groups - 1 (& 15), samples_per_min - 1 (& 3), then reports until the
 *   input ends: type index (its top 3 bits: the service), flags (1 fatal, 2 recovered,
 *   4 has_span, 8 a message, 16 a culprit, 32 an extra), frame count (& 15), ts advance in
 *   seconds, [message: length byte, bytes], then per frame: bits (1 in_app, 6 res, 8 known
 *   function, 16 a function filled to its last byte, 32 known module, 64 module from the input,
 *   128 invalid file), an index, [module: length byte, bytes], module_off byte, line byte + 1.
 *
 * Besides the sanitizers, it checks that every text is NUL-terminated valid UTF-8 within its
 * buffer, that a cut stack is whole lines of the full one, that every record's offsets lie in
 * its arena with the exception.* attributes it must have, and that the counts add up: every
 * report exported or sampled out, every report in one group or in stats.overflow, groups
 * bounded.
 */
#include <assert.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "pipeline/errors.h"
#include "pipeline/logline.h"
#include "process/gopanic.h"
#include "util/utf8.h"

struct in {
	const uint8_t *p;
	size_t n;
};

static uint8_t byte(struct in *in)
{
	if (!in->n)
		return 0;
	in->n--;
	return *in->p++;
}

/* Up to max bytes (as many as the next byte says) into a NUL-terminated buf. */
static size_t bytes(struct in *in, char *buf, size_t max)
{
	size_t n = byte(in);

	if (n > max)
		n = max;
	if (n > in->n)
		n = in->n;
	memcpy(buf, in->p, n);
	buf[n] = '\0';
	in->p += n;
	in->n -= n;
	return n;
}

static void check_utf8(const char *s, size_t size)
{
	size_t n, i, k;

	assert(memchr(s, '\0', size));
	n = strlen(s);
	for (i = 0; i < n; i += k) {
		k = utf8_seq_len((const unsigned char *)s + i, n - i);
		assert(k);
	}
}

static const char *const type_names[] = {
	"runtime.boundsError",
	"runtime.errorString",
	"runtime.plainError",
	"string",
	"*errors.errorString",
	"*fmt.wrapError",
	"int",
	"float64",
	"main.myErr",
	"main.Code",
	"complex64",
	"",
};

static void fuzz_panic(struct in *in)
{
	uint8_t kind = byte(in), flags = byte(in), raw[GO_PANIC_RAW];
	char name[256], text[256], out[256];
	const char *tn = name;
	size_t i, tlen, olen;

	for (i = 0; i < sizeof(raw); i++)
		raw[i] = byte(in);
	if (flags & 2)
		tn = NULL;
	else if (flags >> 2)
		tn = type_names[(flags >> 2) % (sizeof(type_names) / sizeof(type_names[0]))];
	else
		bytes(in, name, sizeof(name) - 1);
	tlen = bytes(in, text, sizeof(text) - 1);
	olen = byte(in);
	memset(out, 0x5a, sizeof(out));
	/* text holds NULs too: len says how long it is */
	go_panic_message(tn, kind, raw, text, tlen, flags & 1, out, olen);
	if (olen) {
		check_utf8(out, olen);
		assert(strlen(out) < olen);
	}
	assert(olen == sizeof(out) || out[olen] == 0x5a);
}

static const char *const err_types[] = { "SIGSEGV", "SIGABRT", "panic",	  "500",
					 "23505",   "exit",    "SIGKILL", "" };
static const char *const functions[] = { "main.main", "store_record", "abort", "runtime.gopanic",
					 "handle" };
static const char *const modules[] = { "crashme", "libc.so.6", "app", "" };
static const char *const culprits[] = { "GET /users/:id", "SELECT orders", "crashme" };

struct ctx {
	size_t records;
};

static void check_str(const struct log_record *r, uint16_t off)
{
	assert(off < r->arena_used);
	check_utf8(log_record_str(r, off), r->arena_used - off);
}

static void on_emit(void *c, const struct log_record *r)
{
	const struct log_attr *a;
	size_t i;

	((struct ctx *)c)->records++;
	assert(r->arena_used >= 1 && r->arena_used <= LOG_ARENA);
	assert(r->nattrs <= LOG_MAX_ATTRS);
	assert(r->severity == 17 || r->severity == 21);
	check_str(r, r->body_off);
	for (i = 0; i < r->nattrs; i++) {
		check_str(r, r->attrs[i].koff);
		if (r->attrs[i].type == LOG_VAL_STR)
			check_str(r, r->attrs[i].soff);
	}
	a = log_record_attr(r, "exception.type");
	assert(a && a->type == LOG_VAL_STR);
	a = log_record_attr(r, "error.fingerprint");
	assert(a && strlen(log_record_str(r, a->soff)) == 16);
	assert(!log_record_attr(r, "exception.escaped") == (r->severity == 17));
}

struct totals {
	uint64_t count;
	size_t groups;
};

static void on_group(void *c, const char *service, const char *type, const char *fp, uint64_t count)
{
	struct totals *t = c;

	check_utf8(service, ERROR_SERVICE_MAX + 1);
	check_utf8(type, ERROR_TYPE_MAX + 1);
	assert(strlen(service) <= ERROR_SERVICE_MAX && strlen(type) <= ERROR_TYPE_MAX);
	assert(strlen(fp) == 16 || !strcmp(fp, ERROR_FP_OVERFLOW));
	assert(count);
	t->count += count;
	t->groups++;
}

/* A cut stack is whole lines of the full one. */
static void check_stack(const struct unwind_frame *f, size_t n, size_t cut)
{
	static char full[UNWIND_MAX_FRAMES * 1500], part[LOG_ARENA];
	size_t fl = error_stack_text(f, n, full, sizeof(full));
	size_t pl;

	if (cut > sizeof(part))
		cut = sizeof(part);
	pl = error_stack_text(f, n, part, cut);
	assert(fl == strlen(full));
	check_utf8(full, sizeof(full));
	if (!cut)
		return;
	assert(pl < cut && pl == strlen(part) && pl <= fl);
	assert(!memcmp(full, part, pl));
	if (pl < fl) {
		/* stopped at a line end, and only because the next line did not fit */
		const char *next = full + pl + (pl ? 1 : 0), *end = strchr(next, '\n');
		size_t nl = end ? (size_t)(end - next) : strlen(next);

		assert(!pl || full[pl] == '\n');
		assert(pl + (pl ? 1 : 0) + nl + 1 > cut);
	}
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static struct unwind_frame frames[16];
	struct in in = { data, size };
	struct error_opts o;
	struct error_tracker *t;
	struct error_stats st;
	struct totals tot = { 0 };
	struct ctx c = { 0 };
	char msg[256], service[8];
	uint64_t ts = 0;
	size_t reports = 0, i, maxg;

	fuzz_panic(&in);
	o.max_groups = maxg = (byte(&in) & 15) + 1;
	o.samples_per_min = (byte(&in) & 3) + 1;
	t = error_tracker_new(&o, on_emit, &c);
	if (!t)
		return 0;
	while (in.n) {
		struct error_report r;
		uint8_t ty = byte(&in), fl = byte(&in);
		size_t nf = byte(&in) & 15;

		memset(&r, 0, sizeof(r));
		msg[0] = '\0';
		ts += (uint64_t)byte(&in) * 1000000000ull;
		r.ts_ns = ts;
		r.type = err_types[ty % (sizeof(err_types) / sizeof(err_types[0]))];
		service[0] = (char)('a' + (ty >> 5));
		service[1] = '\0';
		r.service = service;
		r.fatal = fl & 1;
		r.recovered = fl & 2;
		r.has_span = fl & 4;
		r.trace_id[0] = fl;
		if (fl & 8) {
			bytes(&in, msg, sizeof(msg) - 1);
			r.message = msg;
		}
		if (fl & 16)
			r.culprit = culprits[(fl >> 5) % 3];
		if (fl & 32) {
			r.nextra = 1;
			r.extra[0].key = "k";
			r.extra[0].val = msg;
		}
		memset(frames, 0, sizeof(frames));
		for (i = 0; i < nf; i++) {
			struct unwind_frame *f = &frames[i];
			uint8_t b = byte(&in), k = byte(&in);

			f->in_app = b & 1;
			f->res = (b >> 1) & 3;
			f->pc = 0x7f0000000000ull + k * 0x1000u;
			if (b & 8)
				strcpy(f->function, functions[k % 5]);
			else if (b & 16)
				/* a field filled to its last byte, no NUL */
				memset(f->function, 'a' + (k & 7), sizeof(f->function));
			if (b & 32)
				strcpy(f->module, modules[k % 4]);
			else if (b & 64)
				bytes(&in, f->module, sizeof(f->module) - 1);
			if (b & 128)
				memset(f->file, 0xff, sizeof(f->file)); /* invalid UTF-8 */
			f->module_off = byte(&in);
			f->line = byte(&in) - 1;
		}
		r.frames = nf ? frames : NULL;
		r.nframes = nf;
		check_stack(frames, nf, (size_t)fl * 13);
		error_tracker_report(t, &r);
		reports++;
	}
	error_tracker_get_stats(t, &st);
	error_tracker_each(t, on_group, &tot);
	assert(st.reports == reports);
	assert(st.exported + st.sampled_out == reports);
	assert(st.exported == c.records);
	assert(tot.count + st.overflow == reports);
	assert(tot.groups == st.groups && st.groups <= 2 * maxg);
	error_tracker_free(t);
	return 0;
}
