/* SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause) */
/*
 * The text Go prints after "panic: ", rebuilt from what BPF reads at runtime.gopanic(e any): the
 * eface's type (named through the executable's runtime.types) and the first bytes of its value,
 * with the string they point at when they look like a string header.
 */
#ifndef OBSPROBE_GOPANIC_H
#define OBSPROBE_GOPANIC_H

#include <gelf.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* abi.Kind, the type's kind byte & 0x1f */
enum go_kind {
	GO_KIND_BOOL = 1,
	GO_KIND_INT = 2,
	GO_KIND_INT8 = 3,
	GO_KIND_INT16 = 4,
	GO_KIND_INT32 = 5,
	GO_KIND_INT64 = 6,
	GO_KIND_UINT = 7,
	GO_KIND_UINT8 = 8,
	GO_KIND_UINT16 = 9,
	GO_KIND_UINT32 = 10,
	GO_KIND_UINT64 = 11,
	GO_KIND_UINTPTR = 12,
	GO_KIND_FLOAT32 = 13,
	GO_KIND_FLOAT64 = 14,
	GO_KIND_COMPLEX64 = 15,
	GO_KIND_COMPLEX128 = 16,
	GO_KIND_ARRAY = 17,
	GO_KIND_CHAN = 18,
	GO_KIND_FUNC = 19,
	GO_KIND_INTERFACE = 20,
	GO_KIND_MAP = 21,
	GO_KIND_PTR = 22,
	GO_KIND_SLICE = 23,
	GO_KIND_STRING = 24,
	GO_KIND_STRUCT = 25,
	GO_KIND_UNSAFE_POINTER = 26,
};

#define GO_PANIC_RAW 32	      /* bytes BPF reads at the value */
#define GO_PANIC_TEXT_MAX 256 /* bytes of the string it points at */

/*
 * The name and kind of the Go type whose runtime._type is at link-time address type_vaddr of
 * the Go executable e (the runtime address less the load bias). Name as Go prints it: "string",
 * "*errors.errorString", "runtime.boundsError", "main.myErr", cut (whole characters) to fit len;
 * kind: the type's kind byte & 0x1f (enum go_kind). Go 1.17+ name encoding (uvarint length).
 * Returns 0; -ENOENT when e has no symbol runtime.types (stripped, not Go); -EINVAL when the
 * type or its name lies outside the file. Walks the symbol table once per call: for panics, not
 * for hot paths.
 */
int go_type_name(Elf *e, uint64_t type_vaddr, char *name, size_t len, uint8_t *kind);

/*
 * The message Go prints for a panic value, as Go 1.19's runtime does (printpanicval):
 *   runtime.boundsError (raw: x int64 at 0, y int at 8, signed bool at 16, code uint8 at 17):
 *	"runtime error: index out of range [5] with length 3", and the other codes' texts;
 *   runtime.errorString: "runtime error: " + text; runtime.plainError: text;
 *   string: the text; another string type: TYPE("text");
 *   *errors.errorString, *fmt.wrapError and other values whose text was read: the text;
 *   bool, numbers: the value, "TYPE(value)" for named types (floats as Go prints them:
 *	"+1.500000e+000");
 *   otherwise "TYPE{...}" for a struct, "(TYPE) ?" for the rest: nothing better is known.
 * type_name NULL: the eface's type was nil: "nil". text_ok: BPF read a string header at the
 * value and text_len bytes of its string. out is always NUL-terminated valid UTF-8 (invalid
 * bytes and NULs as U+FFFD), cut at a character to fit len.
 */
void go_panic_message(const char *type_name, uint8_t kind, const uint8_t raw[GO_PANIC_RAW],
		      const char *text, size_t text_len, bool text_ok, char *out, size_t len);

#endif /* OBSPROBE_GOPANIC_H */
