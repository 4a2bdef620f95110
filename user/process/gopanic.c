// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
#include "process/gopanic.h"

#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <string.h>

#include "process/elfsyms.h"
#include "util/utf8.h"

#define NAME_READ_MAX 1024 /* bytes of a type name read; Go's are far shorter */
#define TFLAG_EXTRA_STAR 2

struct types_sym {
	uint64_t addr;
	bool found;
};

static bool types_symbol(void *ctx, const char *name, const GElf_Sym *sym, bool dynamic)
{
	struct types_sym *ts = ctx;

	(void)dynamic;
	if (strcmp(name, "runtime.types"))
		return true;
	ts->addr = sym->st_value;
	ts->found = true;
	return false;
}

static uint64_t load(const uint8_t *p, unsigned int n, bool be)
{
	uint64_t v = 0;
	unsigned int i;

	for (i = 0; i < n; i++)
		v |= (uint64_t)p[be ? n - 1 - i : i] << (8 * i);
	return v;
}

/* Writes whole characters of valid UTF-8 (invalid bytes and NULs as U+FFFD) while they fit. */
struct out {
	char *p;
	size_t len, n; /* n < len: the NUL's place is kept */
};

static void put(struct out *o, const char *s, size_t n)
{
	const unsigned char *u = (const unsigned char *)s;
	size_t i, k;

	for (i = 0; i < n; i += k ? k : 1) {
		k = u[i] ? utf8_seq_len(u + i, n - i) : 0;
		if (o->n + (k ? k : 3) >= o->len)
			return;
		memcpy(o->p + o->n, k ? s + i : "\xef\xbf\xbd", k ? k : 3);
		o->n += k ? k : 3;
		o->p[o->n] = '\0';
	}
}

static void puts_(struct out *o, const char *s)
{
	put(o, s, strlen(s));
}

int go_type_name(Elf *e, uint64_t type_vaddr, char *name, size_t len, uint8_t *kind)
{
	struct types_sym ts = { 0 };
	uint8_t hdr[4 * 8 + 12], b, buf[NAME_READ_MAX];
	uint64_t name_addr, n = 0;
	unsigned int ps, i;
	struct out o = { name, len, 0 };
	GElf_Ehdr eh;
	int32_t off;
	bool be;
	int err;

	if (len)
		name[0] = '\0';
	if (!gelf_getehdr(e, &eh))
		return -EINVAL;
	ps = eh.e_ident[EI_CLASS] == ELFCLASS64 ? 8 : 4;
	be = eh.e_ident[EI_DATA] == ELFDATA2MSB;
	if (elfsyms_each(e, false, types_symbol, &ts) <= 0 || !ts.found)
		return -ENOENT;
	/* size, ptrdata uintptr; hash uint32; tflag, align, fieldAlign, kind uint8; equal, gcdata
	 * pointers; str nameOff int32 */
	err = elfsyms_read_vaddr(e, type_vaddr, hdr, 4 * ps + 12);
	if (err)
		return err;
	off = (int32_t)(uint32_t)load(hdr + 4 * ps + 8, 4, be);
	if (kind)
		*kind = hdr[2 * ps + 7] & 0x1f;
	if (off < 0 || ts.addr > UINT64_MAX - (uint64_t)off - 1)
		return -EINVAL;
	/* the name: a flags byte, the length as a uvarint, the bytes */
	name_addr = ts.addr + (uint64_t)off + 1;
	for (i = 0; i < 10; i++) {
		err = elfsyms_read_vaddr(e, name_addr++, &b, 1);
		if (err)
			return err;
		n |= (uint64_t)(b & 0x7f) << (7 * i);
		if (!(b & 0x80))
			break;
	}
	if (i == 10)
		return -EINVAL;
	if (n > sizeof(buf))
		n = sizeof(buf);
	err = elfsyms_read_vaddr(e, name_addr, buf, n);
	if (err)
		return err;
	/* TFlagExtraStar: the name is stored as the pointer type's, "*T" */
	i = (hdr[2 * ps + 4] & TFLAG_EXTRA_STAR) && n && buf[0] == '*';
	if (len)
		put(&o, (const char *)buf + i, n - i);
	return 0;
}

static const char *const bounds_fmt[] = {
	"index out of range [%x] with length %y",
	"slice bounds out of range [:%x] with length %y",
	"slice bounds out of range [:%x] with capacity %y",
	"slice bounds out of range [%x:%y]",
	"slice bounds out of range [::%x] with length %y",
	"slice bounds out of range [::%x] with capacity %y",
	"slice bounds out of range [:%x:%y]",
	"slice bounds out of range [%x:%y:]",
	"cannot convert slice with length %y to pointer to array with length %x",
};

/* when x is negative there is no need to report y; boundsConvert's x never is */
static const char *const bounds_neg_fmt[] = {
	"index out of range [%x]",	    "slice bounds out of range [:%x]",
	"slice bounds out of range [:%x]",  "slice bounds out of range [%x:]",
	"slice bounds out of range [::%x]", "slice bounds out of range [::%x]",
	"slice bounds out of range [:%x:]", "slice bounds out of range [%x::]",
};

/* appendIntStr */
static void put_int(struct out *o, int64_t v, bool is_signed)
{
	char num[24];

	if (is_signed && v < 0)
		snprintf(num, sizeof(num), "-%" PRIu64, -(uint64_t)v);
	else
		snprintf(num, sizeof(num), "%" PRIu64, (uint64_t)v);
	puts_(o, num);
}

static bool bounds_error(struct out *o, const uint8_t raw[GO_PANIC_RAW])
{
	int64_t x, y;
	bool is_signed = raw[16] != 0;
	uint8_t code = raw[17];
	const char *f;

	if (code >= sizeof(bounds_fmt) / sizeof(bounds_fmt[0]))
		return false;
	memcpy(&x, raw, 8);
	memcpy(&y, raw + 8, 8);
	f = bounds_fmt[code];
	if (is_signed && x < 0 && code < sizeof(bounds_neg_fmt) / sizeof(bounds_neg_fmt[0]))
		f = bounds_neg_fmt[code];
	puts_(o, "runtime error: ");
	for (; *f; f++) {
		if (*f != '%') {
			put(o, f, 1);
			continue;
		}
		f++;
		if (*f == 'x')
			put_int(o, x, is_signed);
		else
			put_int(o, y, true);
	}
	return true;
}

/* The runtime's printfloat: "+1.500000e+000", "NaN", "+Inf" */
static void put_float(struct out *o, double v)
{
	char buf[14];
	int e = 0, i, s;
	double h = 5.0;

	if (v != v) {
		puts_(o, "NaN");
		return;
	}
	if (v + v == v && v > 0) {
		puts_(o, "+Inf");
		return;
	}
	if (v + v == v && v < 0) {
		puts_(o, "-Inf");
		return;
	}
	buf[0] = '+';
	if (v == 0) {
		if (1 / v < 0)
			buf[0] = '-';
	} else {
		if (v < 0) {
			v = -v;
			buf[0] = '-';
		}
		while (v >= 10) {
			e++;
			v /= 10;
		}
		while (v < 1) {
			e--;
			v *= 10;
		}
		for (i = 0; i < 7; i++)
			h /= 10;
		v += h;
		if (v >= 10) {
			e++;
			v /= 10;
		}
	}
	for (i = 0; i < 7; i++) {
		s = (int)v;
		buf[i + 2] = (char)(s + '0');
		v -= s;
		v *= 10;
	}
	buf[1] = buf[2];
	buf[2] = '.';
	buf[9] = 'e';
	buf[10] = '+';
	if (e < 0) {
		e = -e;
		buf[10] = '-';
	}
	buf[11] = (char)(e / 100 % 10 + '0');
	buf[12] = (char)(e / 10 % 10 + '0');
	buf[13] = (char)(e % 10 + '0');
	put(o, buf, sizeof(buf));
}

static const char *const basic_names[] = {
	[GO_KIND_BOOL] = "bool",	   [GO_KIND_INT] = "int",
	[GO_KIND_INT8] = "int8",	   [GO_KIND_INT16] = "int16",
	[GO_KIND_INT32] = "int32",	   [GO_KIND_INT64] = "int64",
	[GO_KIND_UINT] = "uint",	   [GO_KIND_UINT8] = "uint8",
	[GO_KIND_UINT16] = "uint16",	   [GO_KIND_UINT32] = "uint32",
	[GO_KIND_UINT64] = "uint64",	   [GO_KIND_UINTPTR] = "uintptr",
	[GO_KIND_FLOAT32] = "float32",	   [GO_KIND_FLOAT64] = "float64",
	[GO_KIND_COMPLEX64] = "complex64", [GO_KIND_COMPLEX128] = "complex128",
};

/* A bool or number at raw as print() writes it; false for other kinds. */
static bool put_basic(struct out *o, uint8_t kind, const uint8_t *raw)
{
	static const uint8_t int_size[] = {
		[GO_KIND_INT] = 8,    [GO_KIND_INT8] = 1,   [GO_KIND_INT16] = 2,
		[GO_KIND_INT32] = 4,  [GO_KIND_INT64] = 8,  [GO_KIND_UINT] = 8,
		[GO_KIND_UINT8] = 1,  [GO_KIND_UINT16] = 2, [GO_KIND_UINT32] = 4,
		[GO_KIND_UINT64] = 8, [GO_KIND_UINTPTR] = 8
	};
	char num[24];
	uint64_t u;
	int64_t s;
	float f[2];
	double d[2];

	switch (kind) {
	case GO_KIND_BOOL:
		puts_(o, raw[0] ? "true" : "false");
		return true;
	case GO_KIND_INT ... GO_KIND_INT64:
		u = load(raw, int_size[kind], false);
		/* sign-extend from the type's width */
		s = int_size[kind] == 8 ? (int64_t)u
					: (int64_t)(u << (64 - 8 * int_size[kind])) >>
						  (64 - 8 * int_size[kind]);
		snprintf(num, sizeof(num), "%" PRId64, s);
		puts_(o, num);
		return true;
	case GO_KIND_UINT ... GO_KIND_UINTPTR:
		snprintf(num, sizeof(num), "%" PRIu64, load(raw, int_size[kind], false));
		puts_(o, num);
		return true;
	case GO_KIND_FLOAT32:
		memcpy(f, raw, 4);
		put_float(o, f[0]);
		return true;
	case GO_KIND_FLOAT64:
		memcpy(d, raw, 8);
		put_float(o, d[0]);
		return true;
	case GO_KIND_COMPLEX64:
		memcpy(f, raw, 8);
		d[0] = f[0];
		d[1] = f[1];
		goto complex;
	case GO_KIND_COMPLEX128:
		memcpy(d, raw, 16);
complex:
		puts_(o, "(");
		put_float(o, d[0]);
		put_float(o, d[1]);
		puts_(o, "i)");
		return true;
	default:
		return false;
	}
}

void go_panic_message(const char *type_name, uint8_t kind, const uint8_t raw[GO_PANIC_RAW],
		      const char *text, size_t text_len, bool text_ok, char *out, size_t len)
{
	struct out o = { out, len, 0 };
	const char *tn = type_name && type_name[0] ? type_name : "?";
	bool named;

	if (!len)
		return;
	out[0] = '\0';
	if (!text)
		text_ok = false;
	if (!type_name) {
		puts_(&o, "nil");
		return;
	}
	if (!strcmp(tn, "runtime.boundsError") && raw && bounds_error(&o, raw))
		return;
	if (text_ok && !strcmp(tn, "runtime.errorString")) {
		puts_(&o, "runtime error: ");
		put(&o, text, text_len);
		return;
	}
	if (text_ok && (!strcmp(tn, "string") || !strcmp(tn, "runtime.plainError"))) {
		put(&o, text, text_len);
		return;
	}
	if (text_ok && kind == GO_KIND_STRING) {
		/* printanycustomtype: a string type that is no error */
		puts_(&o, tn);
		puts_(&o, "(\"");
		put(&o, text, text_len);
		puts_(&o, "\")");
		return;
	}
	if (text_ok) {
		/* an error whose Error() is its first string field: *errors.errorString,
		 * *fmt.wrapError, ... */
		put(&o, text, text_len);
		return;
	}
	named = kind >= GO_KIND_BOOL && kind <= GO_KIND_COMPLEX128 && strcmp(tn, basic_names[kind]);
	if (raw && kind >= GO_KIND_BOOL && kind <= GO_KIND_COMPLEX128) {
		if (named) {
			puts_(&o, tn);
			if (kind < GO_KIND_COMPLEX64)
				puts_(&o, "(");
		}
		put_basic(&o, kind, raw);
		if (named && kind < GO_KIND_COMPLEX64)
			puts_(&o, ")");
		return;
	}
	if (kind == GO_KIND_STRUCT) {
		puts_(&o, tn);
		puts_(&o, "{...}");
		return;
	}
	/* Go prints the value's address here, which says nothing off the machine */
	puts_(&o, "(");
	puts_(&o, tn);
	puts_(&o, ") ?");
}
