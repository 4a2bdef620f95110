// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/* Go panic values: the type's name from a real Go executable, the message Go would print. */
#include <errno.h>
#include <fcntl.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>
#include <dwarf.h>
#include <elfutils/libdw.h>

#include "unit.h"

#include "process/elfsyms.h"
#include "process/gopanic.h"
#include "util/utf8.h"

static char *msg(const char *type, uint8_t kind, const uint8_t *raw, const char *text, bool text_ok)
{
	static char out[512];

	memset(out, 'Z', sizeof(out));
	go_panic_message(type, kind, raw, text, text ? strlen(text) : 0, text_ok, out, sizeof(out));
	return out;
}

/* A runtime.boundsError as the runtime lays it out */
static const uint8_t *bounds(int64_t x, int64_t y, bool is_signed, uint8_t code)
{
	static uint8_t raw[GO_PANIC_RAW];

	memset(raw, 0xee, sizeof(raw));
	memcpy(raw, &x, 8);
	memcpy(raw + 8, &y, 8);
	raw[16] = is_signed;
	raw[17] = code;
	return raw;
}

#define BOUNDS(x, y, s, code) \
	msg("runtime.boundsError", GO_KIND_STRUCT, bounds(x, y, s, code), NULL, false)

UNIT_TEST(test_bounds_error)
{
	static const struct {
		int64_t x, y;
		bool is_signed;
		uint8_t code;
		const char *want;
	} cases[] = {
		{ 5, 3, true, 0, "index out of range [5] with length 3" },
		{ -1, 3, true, 0, "index out of range [-1]" },
		{ 7, 4, true, 1, "slice bounds out of range [:7] with length 4" },
		{ -2, 4, true, 1, "slice bounds out of range [:-2]" },
		{ 9, 8, true, 2, "slice bounds out of range [:9] with capacity 8" },
		{ -3, 8, true, 2, "slice bounds out of range [:-3]" },
		{ 3, 2, true, 3, "slice bounds out of range [3:2]" },
		{ -4, 2, true, 3, "slice bounds out of range [-4:]" },
		{ 10, 6, true, 4, "slice bounds out of range [::10] with length 6" },
		{ -5, 6, true, 4, "slice bounds out of range [::-5]" },
		{ 11, 6, true, 5, "slice bounds out of range [::11] with capacity 6" },
		{ -6, 6, true, 5, "slice bounds out of range [::-6]" },
		{ 5, 1, true, 6, "slice bounds out of range [:5:1]" },
		{ -7, 1, true, 6, "slice bounds out of range [:-7:]" },
		{ 4, 2, true, 7, "slice bounds out of range [4:2:]" },
		{ -8, 2, true, 7, "slice bounds out of range [-8::]" },
		{ 8, 3, true, 8,
		  "cannot convert slice with length 3 to pointer to array with length 8" },
		/* unsigned x: the bits as uint64, never the negative form */
		{ -1, 3, false, 0, "index out of range [18446744073709551615] with length 3" },
		{ INT64_MIN, 0, true, 0, "index out of range [-9223372036854775808]" },
		{ INT64_MAX, 0, true, 0, "index out of range [9223372036854775807] with length 0" },
	};
	char want[160];
	size_t i;

	(void)state;
	for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		snprintf(want, sizeof(want), "runtime error: %s", cases[i].want);
		assert_string_equal(
			BOUNDS(cases[i].x, cases[i].y, cases[i].is_signed, cases[i].code), want);
	}
	/* a code this runtime does not know: no made-up text */
	assert_string_equal(BOUNDS(1, 2, true, 9), "runtime.boundsError{...}");
	assert_string_equal(BOUNDS(1, 2, true, 255), "runtime.boundsError{...}");
}

UNIT_TEST(test_strings_and_errors)
{
	static const uint8_t raw[GO_PANIC_RAW];
	const char *deref = "invalid memory address or nil pointer dereference";

	(void)state;
	assert_string_equal(msg("runtime.errorString", GO_KIND_STRING, raw, deref, true),
			    "runtime error: invalid memory address or nil pointer dereference");
	assert_string_equal(msg("runtime.plainError", GO_KIND_STRING, raw,
				"close of closed channel", true),
			    "close of closed channel");
	assert_string_equal(msg("string", GO_KIND_STRING, raw, "boom", true), "boom");
	assert_string_equal(msg("string", GO_KIND_STRING, raw, "", true), "");
	assert_string_equal(msg("main.Code", GO_KIND_STRING, raw, "E42", true),
			    "main.Code(\"E42\")");
	assert_string_equal(msg("*errors.errorString", GO_KIND_PTR, raw, "db is down", true),
			    "db is down");
	assert_string_equal(msg("*fmt.wrapError", GO_KIND_PTR, raw, "load: db is down", true),
			    "load: db is down");

	/* the text could not be read: no text from elsewhere */
	assert_string_equal(msg("string", GO_KIND_STRING, raw, "stale", false), "(string) ?");
	assert_string_equal(msg("runtime.errorString", GO_KIND_STRING, raw, NULL, true),
			    "(runtime.errorString) ?");
	assert_string_equal(msg("*errors.errorString", GO_KIND_PTR, raw, "stale", false),
			    "(*errors.errorString) ?");
	assert_string_equal(msg("main.myErr", GO_KIND_STRUCT, raw, NULL, false), "main.myErr{...}");
	assert_string_equal(msg(NULL, 0, raw, NULL, false), "nil");
	assert_string_equal(msg("", GO_KIND_PTR, raw, NULL, false), "(?) ?");

	/* invalid UTF-8 and NULs become U+FFFD */
	{
		char out[64];

		go_panic_message("string", GO_KIND_STRING, raw,
				 "a\xff"
				 "b\0c",
				 5, true, out, sizeof(out));
		assert_string_equal(out, "a\xef\xbf\xbd"
					 "b\xef\xbf\xbd"
					 "c");
	}
}

UNIT_TEST(test_basic_values)
{
	uint8_t raw[GO_PANIC_RAW] = { 0 };
	int64_t i = -42;
	double d = 1.5;
	float f = -0.25f;
	double c[2] = { 1, -2 };

	(void)state;
	memcpy(raw, &i, 8);
	assert_string_equal(msg("int", GO_KIND_INT, raw, NULL, false), "-42");
	assert_string_equal(msg("main.Code", GO_KIND_INT, raw, NULL, false), "main.Code(-42)");
	assert_string_equal(msg("int8", GO_KIND_INT8, raw, NULL, false), "-42");
	assert_string_equal(msg("uint8", GO_KIND_UINT8, raw, NULL, false), "214");
	assert_string_equal(msg("uint64", GO_KIND_UINT64, raw, NULL, false),
			    "18446744073709551574");
	raw[0] = 1;
	assert_string_equal(msg("bool", GO_KIND_BOOL, raw, NULL, false), "true");
	assert_string_equal(msg("main.Flag", GO_KIND_BOOL, raw, NULL, false), "main.Flag(true)");
	memcpy(raw, &d, 8);
	assert_string_equal(msg("float64", GO_KIND_FLOAT64, raw, NULL, false), "+1.500000e+000");
	d = 123456789.0;
	memcpy(raw, &d, 8);
	assert_string_equal(msg("float64", GO_KIND_FLOAT64, raw, NULL, false), "+1.234568e+008");
	memcpy(raw, &f, 4);
	assert_string_equal(msg("main.F", GO_KIND_FLOAT32, raw, NULL, false),
			    "main.F(-2.500000e-001)");
	memcpy(raw, c, 16);
	assert_string_equal(msg("complex128", GO_KIND_COMPLEX128, raw, NULL, false),
			    "(+1.000000e+000-2.000000e+000i)");
	assert_string_equal(msg("main.Chan", GO_KIND_CHAN, raw, NULL, false), "(main.Chan) ?");
}

UNIT_TEST(test_cut)
{
	static const uint8_t raw[GO_PANIC_RAW];
	char out[8];

	(void)state;
	/* "é" does not fit the last 2 bytes with its NUL: cut before it */
	memset(out, 'Z', sizeof(out));
	go_panic_message("string", GO_KIND_STRING, raw, "abcdef\xc3\xa9", 8, true, out, 8);
	assert_string_equal(out, "abcdef");
	go_panic_message("runtime.boundsError", GO_KIND_STRUCT, bounds(5, 3, true, 0), NULL, 0,
			 false, out, sizeof(out));
	assert_string_equal(out, "runtime");
	out[0] = 'Z';
	go_panic_message("string", GO_KIND_STRING, raw, "x", 1, true, out, 0);
	assert_int_equal(out[0], 'Z');
}

/* A Go executable with symbols, built for this test; "" (the test skipped) without Go. */
static char dir[] = "/tmp/test_gopanic.XXXXXX";
static char exe[64];

static int build_go(void **state)
{
	static const char src[] = "package main\n\n"
				  "import (\n\t\"errors\"\n\t\"fmt\"\n\t\"os\"\n)\n\n"
				  "func main() {\n\tfmt.Println(errors.New(os.Args[0]))\n"
				  "\tpanic(\"x\")\n}\n";
	char cmd[512], path[128];
	FILE *f;

	(void)state;
	if (!mkdtemp(dir))
		return 0;
	snprintf(path, sizeof(path), "%s/main.go", dir);
	f = fopen(path, "w");
	if (!f)
		return 0;
	fputs(src, f);
	fclose(f);
	/* go needs a build cache: its default is under $HOME, which a test runner may not set */
	snprintf(cmd, sizeof(cmd),
		 "cd %s && { [ -n \"$GOCACHE$HOME\" ] || export GOCACHE=%s/cache; } && "
		 "PATH=$PATH:/usr/lib/go-1.19/bin GO111MODULE=off go build -o prog main.go "
		 ">/dev/null 2>&1",
		 dir, dir);
	if (system(cmd) == 0)
		snprintf(exe, sizeof(exe), "%s/prog", dir);
	return 0;
}

struct sym_find {
	const char *name;
	uint64_t addr;
};

static bool find_sym(void *ctx, const char *name, const GElf_Sym *sym, bool dynamic)
{
	struct sym_find *s = ctx;

	(void)dynamic;
	if (strcmp(name, s->name))
		return true;
	s->addr = sym->st_value;
	return false;
}

static Elf *open_elf(const char *path, int *fd)
{
	Elf *e;

	*fd = open(path, O_RDONLY | O_CLOEXEC);
	if (*fd < 0)
		return NULL;
	e = elf_begin(*fd, ELF_C_READ_MMAP, NULL);
	if (!e)
		close(*fd);
	return e;
}

/*
 * Go 1.19 keeps type.X symbols out of .symtab (cmd/link groups them under runtime.types), so the
 * address of a type comes from its DWARF entry: DW_AT_go_runtime_type, in Go 1.19 an offset
 * from runtime.types (though its form is DW_FORM_addr).
 */
#define DW_AT_GO_RUNTIME_TYPE 0x2904

static uint64_t dwarf_type_addr(Elf *e, uint64_t types, const char *name)
{
	Dwarf *dw = dwarf_begin_elf(e, DWARF_C_READ, NULL);
	Dwarf_Off off = 0, next;
	uint64_t found = 0;
	size_t hsize;

	if (!dw)
		return 0;
	while (!found && dwarf_nextcu(dw, off, &next, &hsize, NULL, NULL, NULL) == 0) {
		Dwarf_Die cu, die;

		if (dwarf_offdie(dw, off + hsize, &cu) && dwarf_child(&cu, &die) == 0) {
			do {
				const char *n = dwarf_diename(&die);
				Dwarf_Attribute a;
				Dwarf_Addr addr;
				Dwarf_Word w;

				if (!n || strcmp(n, name) ||
				    !dwarf_attr(&die, DW_AT_GO_RUNTIME_TYPE, &a))
					continue;
				if (dwarf_whatform(&a) == DW_FORM_addr &&
				    !dwarf_formaddr(&a, &addr))
					w = addr;
				else if (dwarf_formudata(&a, &w))
					break;
				found = w < types ? types + w : w;
				break;
			} while (dwarf_siblingof(&die, &die) == 0);
		}
		off = next;
	}
	dwarf_end(dw);
	return found;
}

static void check_type(Elf *e, const char *go_name, const char *want, uint8_t want_kind)
{
	struct sym_find types = { "runtime.types", 0 };
	uint64_t addr;
	char name[64];
	uint8_t kind = 0xff;

	elfsyms_each(e, false, find_sym, &types);
	addr = dwarf_type_addr(e, types.addr, go_name);
	if (!types.addr || !addr)
		fail_msg("%s: no DWARF type with DW_AT_go_runtime_type in %s", go_name, exe);
	assert_int_equal(go_type_name(e, addr, name, sizeof(name), &kind), 0);
	assert_string_equal(name, want);
	assert_int_equal(kind, want_kind);
	/* a short buffer: cut, still a string */
	assert_int_equal(go_type_name(e, addr, name, 4, &kind), 0);
	assert_int_equal(strlen(name), strlen(want) < 3 ? strlen(want) : 3);
	assert_memory_equal(name, want, strlen(name));
}

UNIT_TEST(test_go_type_name)
{
	struct sym_find types = { "runtime.types", 0 };
	struct sym_find itab = { "go.itab.*errors.errorString,error", 0 };
	uint64_t type_ptr = 0;
	char name[64];
	uint8_t kind;
	Elf *e;
	int fd;

	(void)state;
	assert_true(elfsyms_init());
	if (!exe[0]) {
		print_message("[   SKIP   ] %s: cannot build a Go program\n", __func__);
		skip();
	}
	e = open_elf(exe, &fd);
	assert_non_null(e);
	check_type(e, "*errors.errorString", "*errors.errorString", GO_KIND_PTR);
	check_type(e, "string", "string", GO_KIND_STRING);
	check_type(e, "runtime.boundsError", "runtime.boundsError", GO_KIND_STRUCT);
	check_type(e, "runtime.errorString", "runtime.errorString", GO_KIND_STRING);
	check_type(e, "int", "int", GO_KIND_INT);

	/* the address BPF would see: an itab's _type (offset 8), what the runtime itself uses */
	elfsyms_each(e, false, find_sym, &itab);
	assert_true(itab.addr != 0);
	assert_int_equal(elfsyms_read_vaddr(e, itab.addr + 8, &type_ptr, 8), 0);
	assert_int_equal(go_type_name(e, type_ptr, name, sizeof(name), &kind), 0);
	assert_string_equal(name, "*errors.errorString");
	assert_int_equal(kind, GO_KIND_PTR);

	/* outside the file */
	strcpy(name, "stale");
	assert_int_equal(go_type_name(e, 0x10, name, sizeof(name), &kind), -EINVAL);
	assert_string_equal(name, "");
	assert_int_equal(go_type_name(e, UINT64_MAX - 8, name, sizeof(name), &kind), -EINVAL);
	/* no type there: garbage, never a crash, still a string */
	elfsyms_each(e, false, find_sym, &types);
	assert_true(types.addr != 0);
	go_type_name(e, types.addr, name, sizeof(name), &kind);
	assert_true(utf8_clean(NULL, name, sizeof(name)) == strlen(name));
	elf_end(e);
	close(fd);
}

UNIT_TEST(test_go_type_name_stripped)
{
	char name[64];
	uint8_t kind;
	Elf *e;
	int fd;

	(void)state;
	assert_true(elfsyms_init());
	/* Debian's go command is a stripped Go executable */
	e = open_elf("/usr/lib/go-1.19/bin/go", &fd);
	if (!e) {
		print_message("[   SKIP   ] %s: no /usr/lib/go-1.19/bin/go\n", __func__);
		skip();
	}
	assert_int_equal(go_type_name(e, 0x401000, name, sizeof(name), &kind), -ENOENT);
	elf_end(e);
	close(fd);
}

static int remove_go(void **state)
{
	char path[128];

	(void)state;
	snprintf(path, sizeof(path), "%s/main.go", dir);
	unlink(path);
	snprintf(path, sizeof(path), "%s/prog", dir);
	unlink(path);
	/* the build cache of its own, when go had no other */
	snprintf(path, sizeof(path), "rm -rf %s/cache", dir);
	if (system(path) == 0)
		rmdir(dir);
	return 0;
}

UNIT_MAIN(build_go, remove_go)
