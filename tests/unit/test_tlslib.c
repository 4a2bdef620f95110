// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/*
 * tlslib.c (which file holds OpenSSL or GnuTLS, and where its hooks are) and the
 * /proc/PID/maps line parser that leads tls.c to those files.
 *
 * tls_elf_inspect() is checked three ways: on ELF images built here byte by byte, where every
 * answer is known; on the system's own libraries, against offsets worked out here from the
 * raw ELF structures without libelf; and on truncated or garbage images, where it must fail
 * cleanly. Every image is a heap copy of exactly its length, so ASan sees reads past it.
 */
#include <elf.h>
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "unit.h"

#include <sys/mman.h>
#include <unistd.h>

#include "smaps.h"

#include "process/procfs.h"
#include "process/tlslib.h"
#include "process/x86sites.h"

#define LIBDIR "/usr/lib/x86_64-linux-gnu/"

/* ---- /proc/PID/maps lines ---- */

UNIT_TEST(test_maps_exec_line)
{
	char line[] = "7f3a1c022000-7f3a1c1b7000 r-xp 00022000 fe:01 1835045"
		      "                    /usr/lib/x86_64-linux-gnu/libc.so.6\n";
	struct maps_entry e;

	(void)state;
	assert_int_equal(maps_parse_line(line, &e), 0);
	assert_true(e.start == 0x7f3a1c022000ULL);
	assert_true(e.end == 0x7f3a1c1b7000ULL);
	assert_true(e.offset == 0x22000);
	assert_int_equal(e.dev_major, 0xfe);
	assert_int_equal(e.dev_minor, 1);
	assert_true(e.inode == 1835045);
	assert_true(e.exec);
	assert_false(e.deleted);
	assert_string_equal(e.path, "/usr/lib/x86_64-linux-gnu/libc.so.6");
	/* the path is the line's own memory, not a copy */
	assert_true(e.path > line && e.path < line + sizeof(line));

	/* NVMe disks have major 259, which the kernel prints as hex 103 */
	{
		char nvme[] = "55d0c8a00000-55d0c8a45000 r-xp 00012000 103:02 4456789 "
			      "/usr/sbin/nginx";

		assert_int_equal(maps_parse_line(nvme, &e), 0);
		assert_int_equal(e.dev_major, 259);
		assert_int_equal(e.dev_minor, 2);
		assert_true(e.offset == 0x12000);
		assert_true(e.inode == 4456789);
		assert_string_equal(e.path, "/usr/sbin/nginx");
	}
}

/* Only the x bit decides what gets probed: code is never in a mapping without it. */
UNIT_TEST(test_maps_permissions)
{
	static const struct {
		const char *perms;
		bool exec;
	} cases[] = {
		{ "r--p", false }, { "rw-p", false }, { "---p", false },
		{ "r-xp", true },  { "rwxp", true },  { "r-xs", true },
	};
	struct maps_entry e;
	size_t i;

	(void)state;
	for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		char line[128];

		snprintf(line, sizeof(line), "400000-401000 %s 00000000 08:01 42 /bin/x\n",
			 cases[i].perms);
		assert_int_equal(maps_parse_line(line, &e), 0);
		assert_int_equal(e.exec, cases[i].exec);
		assert_string_equal(e.path, "/bin/x");
	}
}

UNIT_TEST(test_maps_anonymous_and_special)
{
	/* the kernel pads anonymous lines with spaces to where a path would start */
	char anon[] = "7ffd2c3a1000-7ffd2c3c2000 rw-p 00000000 00:00 0                          \n";
	char bare[] = "7ffd2c3a1000-7ffd2c3c2000 rw-p 00000000 00:00 0";
	char vdso[] = "7ffc8a1f4000-7ffc8a1f6000 r-xp 00000000 00:00 0                  [vdso]\n";
	struct maps_entry e;

	(void)state;
	assert_int_equal(maps_parse_line(anon, &e), 0);
	assert_string_equal(e.path, "");
	assert_true(e.inode == 0);
	assert_int_equal(e.dev_major, 0);
	assert_false(e.exec);
	assert_false(e.deleted);

	assert_int_equal(maps_parse_line(bare, &e), 0);
	assert_string_equal(e.path, "");

	assert_int_equal(maps_parse_line(vdso, &e), 0);
	assert_string_equal(e.path, "[vdso]");
	assert_true(e.exec);
	assert_true(e.start == 0x7ffc8a1f4000ULL && e.end == 0x7ffc8a1f6000ULL);
}

/* Paths run to the end of the line and may hold spaces; the kernel marks files unlinked
 * since they were mapped (an upgrade replaced the library) with " (deleted)". */
UNIT_TEST(test_maps_paths)
{
	char spaces[] = "7f0000000000-7f0000001000 r-xp 00001000 08:01 77 /opt/my app/lib ssl.so\n";
	char deleted[] = "7f0000000000-7f0000001000 r-xp 00001000 08:01 77 "
			 "/usr/lib/x86_64-linux-gnu/libssl.so.3 (deleted)\n";
	char both[] = "7f0000000000-7f0000001000 r-xp 0 08:01 77 /opt/a b/x.so (deleted)";
	/* only the kernel's exact suffix counts: these are names someone chose */
	char lookalike[] = "7f0000000000-7f0000001000 r-xp 0 08:01 77 /tmp/x(deleted)\n";
	char only[] = "7f0000000000-7f0000001000 r-xp 0 08:01 77 /tmp/ (deleted) x\n";
	char tab[] = "7f0000000000-7f0000001000\tr-xp\t0\t08:01\t77\t/tmp/tab.so\n";
	struct maps_entry e;

	(void)state;
	assert_int_equal(maps_parse_line(spaces, &e), 0);
	assert_string_equal(e.path, "/opt/my app/lib ssl.so");
	assert_false(e.deleted);

	assert_int_equal(maps_parse_line(deleted, &e), 0);
	assert_true(e.deleted);
	assert_string_equal(e.path, "/usr/lib/x86_64-linux-gnu/libssl.so.3");

	assert_int_equal(maps_parse_line(both, &e), 0);
	assert_true(e.deleted);
	assert_string_equal(e.path, "/opt/a b/x.so");

	assert_int_equal(maps_parse_line(lookalike, &e), 0);
	assert_false(e.deleted);
	assert_string_equal(e.path, "/tmp/x(deleted)");

	assert_int_equal(maps_parse_line(only, &e), 0);
	assert_false(e.deleted);
	assert_string_equal(e.path, "/tmp/ (deleted) x");

	assert_int_equal(maps_parse_line(tab, &e), 0);
	assert_string_equal(e.path, "/tmp/tab.so");
}

/* The newline fgets() leaves is not part of the path (or open() fails on every file). */
UNIT_TEST(test_maps_newline)
{
	char line[] = "400000-452000 r-xp 00000000 08:01 1234 /usr/bin/true\n";
	struct maps_entry e;

	(void)state;
	assert_int_equal(maps_parse_line(line, &e), 0);
	assert_null(strchr(e.path, '\n'));
	assert_int_equal(strlen(e.path), strlen("/usr/bin/true"));
	assert_true(e.start == 0x400000 && e.end == 0x452000);
}

UNIT_TEST(test_maps_malformed)
{
	static const char *const bad[] = {
		"",
		"\n",
		"7f00",
		"7f00-",
		"7f00-7f01",
		"7f00-7f01\n",
		"7f00-7f01 r-xp",
		"7f00-7f01 r-xp 00000000",
		"7f00-7f01 r-xp 00000000 08:01", /* no inode */
		"7f00-7f01 r-xp 00000000 08:01\n",
		"7f00-7f01 r-xp 00000000 0801 5 /x",		  /* no colon in the device */
		"7f00-7f01 r-xp 00000000 08: 5 /x",		  /* no minor */
		"7f00 7f01 r-xp 00000000 08:01 5 /x",		  /* no dash */
		"7f00-7f01r-xp 00000000 08:01 5 /x",		  /* no space after the range */
		"zz00-7f01 r-xp 00000000 08:01 5 /x",		  /* non-hex start */
		"7f00-zz01 r-xp 00000000 08:01 5 /x",		  /* non-hex end */
		"7f00-7f01 r-xp 000zz000 08:01 5 /x",		  /* non-hex offset */
		"7f00-7f01 r-xp 00000000 g8:01 5 /x",		  /* non-hex major */
		"7f00-7f01 r-xp 00000000 08:01 x5 /x",		  /* non-decimal inode */
		"7f00-7f01 wxyz 00000000 08:01 5 /x",		  /* not a permission field */
		"7f00-7f01 r-x",				  /* permissions cut short */
		"10000000000000000-7f01 r-xp 0 08:01 5 /x",	  /* start beyond 64 bits */
		"7f00-7f01 r-xp 0 08:01 99999999999999999999 /x", /* inode beyond 64 bits */
		"not a maps line at all",
	};
	struct maps_entry e;
	size_t i;

	(void)state;
	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		char line[128];

		snprintf(line, sizeof(line), "%s", bad[i]);
		if (maps_parse_line(line, &e) != -EINVAL)
			fail_msg("accepted malformed line \"%s\"", bad[i]);
	}
}

/* ---- ELF images read by hand, to check libelf's answers against ---- */

/* The whole file in a heap buffer of exactly its size; NULL when it cannot be read. */
static uint8_t *slurp(const char *path, size_t *len)
{
	uint8_t *buf = NULL;
	long size;
	FILE *f;

	f = fopen(path, "rb");
	if (!f)
		return NULL;
	if (fseek(f, 0, SEEK_END) || (size = ftell(f)) <= 0 || fseek(f, 0, SEEK_SET))
		goto out;
	buf = malloc((size_t)size);
	if (buf && fread(buf, 1, (size_t)size, f) != (size_t)size) {
		free(buf);
		buf = NULL;
	}
	*len = (size_t)size;
out:
	fclose(f);
	return buf;
}

/* The file, or a skip of the test when this system does not have it. */
#define SLURP_OR_SKIP(path, len)                                                            \
	({                                                                                  \
		uint8_t *img_ = slurp(path, len);                                           \
		if (!img_) {                                                                \
			print_message("[   SKIP   ] %s: cannot read %s\n", __func__, path); \
			skip();                                                             \
		}                                                                           \
		img_;                                                                       \
	})

/* tls_elf_inspect() on a heap copy of img[0..len): libelf may rewrite its input, and the
 * copy's exact size makes ASan catch any read past the end. */
static int inspect_on(const uint8_t *img, size_t len, unsigned int emulates,
		      struct tls_elf_info *info)
{
	uint8_t *copy = malloc(len ? len : 1);
	int err;

	assert_non_null(copy);
	memcpy(copy, img, len);
	err = tls_elf_inspect(copy, len, emulates, info);
	free(copy);
	return err;
}

/* ... on a kernel that emulates push, as this one does */
static int inspect(const uint8_t *img, size_t len, struct tls_elf_info *info)
{
	return inspect_on(img, len, X86_EMUL_PUSH, info);
}

/* A native 64-bit ELF whose tables lie inside len; the test parser trusts nothing else. */
static const Elf64_Ehdr *hand_ehdr(const uint8_t *img, size_t len)
{
	const Elf64_Ehdr *eh = (const Elf64_Ehdr *)img;

	assert_true(len >= sizeof(*eh));
	assert_memory_equal(eh->e_ident, ELFMAG, SELFMAG);
	assert_int_equal(eh->e_ident[EI_CLASS], ELFCLASS64);
	assert_int_equal(eh->e_ident[EI_DATA], ELFDATA2LSB);
	assert_true(eh->e_shoff <= len && eh->e_shnum <= (len - eh->e_shoff) / sizeof(Elf64_Shdr));
	assert_true(eh->e_phoff <= len && eh->e_phnum <= (len - eh->e_phoff) / sizeof(Elf64_Phdr));
	return eh;
}

/* Where the code at vaddr lies in the file: the PT_LOAD segment whose file part holds it. */
static uint64_t hand_vaddr_to_offset(const uint8_t *img, size_t len, uint64_t vaddr)
{
	const Elf64_Ehdr *eh = hand_ehdr(img, len);
	const Elf64_Phdr *ph = (const Elf64_Phdr *)(img + eh->e_phoff);
	int i;

	for (i = 0; i < eh->e_phnum; i++)
		if (ph[i].p_type == PT_LOAD && vaddr >= ph[i].p_vaddr &&
		    vaddr - ph[i].p_vaddr < ph[i].p_filesz)
			return ph[i].p_offset + (vaddr - ph[i].p_vaddr);
	return 0;
}

/* Where the file byte at offset is loaded: by the PT_LOAD segment whose file part holds it. */
static uint64_t hand_offset_to_vaddr(const uint8_t *img, size_t len, uint64_t offset)
{
	const Elf64_Ehdr *eh = hand_ehdr(img, len);
	const Elf64_Phdr *ph = (const Elf64_Phdr *)(img + eh->e_phoff);
	int i;

	for (i = 0; i < eh->e_phnum; i++)
		if (ph[i].p_type == PT_LOAD && offset >= ph[i].p_offset &&
		    offset - ph[i].p_offset < ph[i].p_filesz)
			return ph[i].p_vaddr + (offset - ph[i].p_offset);
	fail_msg("file offset %#llx is in no load segment", (unsigned long long)offset);
	return 0;
}

/* Whether the bytes at offset are `push %reg` (50+r, or 41 50+r for r8..r15). */
static bool hand_push(const uint8_t *img, size_t len, uint64_t offset)
{
	return (offset < len && img[offset] >= 0x50 && img[offset] <= 0x57) ||
	       (offset + 1 < len && img[offset] == 0x41 && img[offset + 1] >= 0x50 &&
		img[offset + 1] <= 0x57);
}

/* Whether the first span bytes of the function at file offset fn hold a `call rel32` (op e8)
 * or a `jmp rel32` (op e9) to the code at file offset target, addresses worked out from the
 * program headers. */
static bool hand_branches(const uint8_t *img, size_t len, uint64_t fn, uint64_t span, uint8_t op,
			  uint64_t target)
{
	uint64_t i;

	for (i = 0; i < span && fn + i + 5 <= len; i++) {
		uint64_t at, dest;
		int32_t rel;

		if (img[fn + i] != op)
			continue;
		memcpy(&rel, img + fn + i + 1, sizeof(rel));
		at = hand_offset_to_vaddr(img, len, fn + i);
		dest = at + 5 + (uint64_t)(int64_t)rel;
		if (hand_vaddr_to_offset(img, len, dest) == target)
			return true;
	}
	return false;
}

static bool hand_calls(const uint8_t *img, size_t len, uint64_t fn, uint64_t target)
{
	return hand_branches(img, len, fn, 64, 0xe8, target);
}

/* The file offset of the function name defines (in .dynsym or .symtab), 0 when none does. */
static uint64_t hand_sym_offset(const uint8_t *img, size_t len, const char *name)
{
	const Elf64_Ehdr *eh = hand_ehdr(img, len);
	const Elf64_Shdr *sh = (const Elf64_Shdr *)(img + eh->e_shoff);
	int s;

	for (s = 0; s < eh->e_shnum; s++) {
		const Elf64_Shdr *str;
		const Elf64_Sym *sym;
		size_t i, n;

		if ((sh[s].sh_type != SHT_DYNSYM && sh[s].sh_type != SHT_SYMTAB) ||
		    sh[s].sh_link >= eh->e_shnum)
			continue;
		str = &sh[sh[s].sh_link];
		assert_true(sh[s].sh_offset <= len && sh[s].sh_size <= len - sh[s].sh_offset);
		assert_true(str->sh_offset <= len && str->sh_size <= len - str->sh_offset);
		sym = (const Elf64_Sym *)(img + sh[s].sh_offset);
		n = sh[s].sh_size / sizeof(*sym);
		for (i = 0; i < n; i++) {
			unsigned int type = ELF64_ST_TYPE(sym[i].st_info);
			const char *nm;
			size_t room;

			if (sym[i].st_name >= str->sh_size || sym[i].st_shndx == SHN_UNDEF ||
			    !sym[i].st_value || (type != STT_FUNC && type != STT_GNU_IFUNC))
				continue;
			nm = (const char *)img + str->sh_offset + sym[i].st_name;
			room = str->sh_size - sym[i].st_name;
			if (strnlen(nm, room) < room && !strcmp(nm, name))
				return hand_vaddr_to_offset(img, len, sym[i].st_value);
		}
	}
	return 0;
}

/* The GNU build-id note as lower-case hex (at most 20 bytes of it), "" when there is none. */
static void hand_build_id(const uint8_t *img, size_t len, char out[41])
{
	const Elf64_Ehdr *eh = hand_ehdr(img, len);
	const Elf64_Shdr *sh = (const Elf64_Shdr *)(img + eh->e_shoff);
	int s;

	out[0] = '\0';
	for (s = 0; s < eh->e_shnum; s++) {
		size_t off = 0;

		if (sh[s].sh_type != SHT_NOTE)
			continue;
		assert_true(sh[s].sh_offset <= len && sh[s].sh_size <= len - sh[s].sh_offset);
		while (off + sizeof(Elf64_Nhdr) <= sh[s].sh_size) {
			const Elf64_Nhdr *nh = (const Elf64_Nhdr *)(img + sh[s].sh_offset + off);
			const uint8_t *name = (const uint8_t *)(nh + 1);
			const uint8_t *desc = name + ((nh->n_namesz + 3) & ~3u);
			size_t i, size = sizeof(*nh) + ((nh->n_namesz + 3) & ~3u) +
					 ((nh->n_descsz + 3) & ~3u);

			assert_true(size <= sh[s].sh_size - off);
			if (nh->n_type == NT_GNU_BUILD_ID && nh->n_namesz == 4 &&
			    !memcmp(name, "GNU", 4)) {
				for (i = 0; i < nh->n_descsz && i < 20; i++)
					sprintf(out + 2 * i, "%02x", desc[i]);
				return;
			}
			off += size;
		}
	}
}

static void assert_hex(const char *s, size_t len)
{
	assert_int_equal(strlen(s), len);
	assert_int_equal(strspn(s, "0123456789abcdef"), len);
}

static void assert_offsets_zero(const struct tls_elf_info *info, int from, int to)
{
	int k;

	for (k = from; k < to; k++)
		if (info->offset[k])
			fail_msg("%s has offset %#llx", tls_sym_name(k),
				 (unsigned long long)info->offset[k]);
}

/* Every hook of lib[from..to) is found, exactly where the ELF structures put it. */
static void assert_offsets_match(const uint8_t *img, size_t len, const struct tls_elf_info *info,
				 int from, int to)
{
	int k;

	for (k = from; k < to; k++) {
		uint64_t want = hand_sym_offset(img, len, tls_sym_name(k));

		assert_true(want != 0);
		if (info->offset[k] != want)
			fail_msg("%s: offset %#llx, the file says %#llx", tls_sym_name(k),
				 (unsigned long long)info->offset[k], (unsigned long long)want);
	}
}

/* ---- ELF images built here ---- */

/* Loaded at SYN_VBASE from file offset 0: an offset that was not translated from the
 * symbol's address is off by SYN_VBASE. */
#define SYN_VBASE 0x200000
#define SYN_TEXT 0x100 /* file offset of the code */
#define SYN_TEXT_LEN 0x100

struct syn_sym {
	const char *name;
	uint32_t at; /* offset in the code */
	bool undef;  /* imported, not defined */
	bool object; /* data, not a function */
};

struct syn_opts {
	const struct syn_sym *syms;
	size_t nsyms;
	bool symtab;	     /* a .symtab besides the .dynsym: not stripped */
	size_t build_id_len; /* bytes of GNU build-id, 0 for none */
	const char *blob;    /* extra bytes (read-only data), NUL included */
	size_t blob_len;
	uint64_t load_extra; /* the PT_LOAD claims this much more file than there is */
	uint16_t e_type;     /* 0: ET_DYN */
};

static size_t align(size_t off, size_t a)
{
	return (off + a - 1) & ~(a - 1);
}

static uint8_t syn_build_id_byte(size_t i)
{
	return (uint8_t)(0xa0 + i * 7);
}

/* Writes a small ELF64 shared object to buf: one PT_LOAD holding everything, and sections
 * .text, .dynstr, .dynsym, [.symtab], [.note.gnu.build-id], .shstrtab. Returns its size. */
static size_t syn_elf(uint8_t *buf, size_t cap, const struct syn_opts *o)
{
	static const char shstr[] = "\0.text\0.dynstr\0.dynsym\0.symtab\0.note.gnu.build-id"
				    "\0.shstrtab";
	enum { S_NULL, S_TEXT, S_DYNSTR, S_DYNSYM, S_SYMTAB, S_NOTE, S_SHSTRTAB, S_MAX };
	Elf64_Shdr sh[S_MAX];
	Elf64_Ehdr *eh = (Elf64_Ehdr *)buf;
	Elf64_Phdr *ph = (Elf64_Phdr *)(buf + sizeof(*eh));
	Elf64_Sym *sym;
	size_t off, i, nsec = 0, idx[S_MAX];
	size_t str_off, sym_off;

	memset(buf, 0, cap);
	memset(sh, 0, sizeof(sh));
	memset(buf + SYN_TEXT, 0xcc, SYN_TEXT_LEN);

	/* .dynstr: "", then the names */
	str_off = off = SYN_TEXT + SYN_TEXT_LEN;
	buf[off++] = '\0';
	for (i = 0; i < o->nsyms; i++) {
		size_t n = strlen(o->syms[i].name) + 1;

		assert_true(off + n < cap);
		memcpy(buf + off, o->syms[i].name, n);
		off += n;
	}
	sh[S_DYNSTR] = (Elf64_Shdr){ .sh_type = SHT_STRTAB,
				     .sh_flags = SHF_ALLOC,
				     .sh_offset = str_off,
				     .sh_size = off - str_off,
				     .sh_addralign = 1 };

	/* .dynsym: the null symbol, then one per name */
	sym_off = off = align(off, 8);
	sym = (Elf64_Sym *)(buf + off);
	off += (o->nsyms + 1) * sizeof(*sym);
	assert_true(off < cap);
	{
		size_t name = 1;

		for (i = 0; i < o->nsyms; i++) {
			const struct syn_sym *s = &o->syms[i];

			sym[i + 1].st_name = (uint32_t)name;
			sym[i + 1].st_info =
				ELF64_ST_INFO(STB_GLOBAL, s->object ? STT_OBJECT : STT_FUNC);
			if (!s->undef) {
				sym[i + 1].st_shndx = 1; /* .text is section 1 */
				sym[i + 1].st_value = SYN_VBASE + SYN_TEXT + s->at;
				sym[i + 1].st_size = 8;
			}
			name += strlen(s->name) + 1;
		}
	}
	sh[S_DYNSYM] = (Elf64_Shdr){ .sh_type = SHT_DYNSYM,
				     .sh_flags = SHF_ALLOC,
				     .sh_offset = sym_off,
				     .sh_size = off - sym_off,
				     .sh_info = 1,
				     .sh_addralign = 8,
				     .sh_entsize = sizeof(*sym) };
	/* a .symtab with the same symbols and names: all an unstripped file adds that counts */
	sh[S_SYMTAB] = sh[S_DYNSYM];
	sh[S_SYMTAB].sh_type = SHT_SYMTAB;
	sh[S_SYMTAB].sh_flags = 0;

	if (o->build_id_len) {
		Elf64_Nhdr *nh;

		off = align(off, 4);
		assert_true(off + sizeof(*nh) + 4 + align(o->build_id_len, 4) < cap);
		nh = (Elf64_Nhdr *)(buf + off);
		*nh = (Elf64_Nhdr){ .n_namesz = 4,
				    .n_descsz = (uint32_t)o->build_id_len,
				    .n_type = NT_GNU_BUILD_ID };
		memcpy(nh + 1, "GNU", 4);
		for (i = 0; i < o->build_id_len; i++)
			((uint8_t *)(nh + 1))[4 + i] = syn_build_id_byte(i);
		sh[S_NOTE] = (Elf64_Shdr){ .sh_type = SHT_NOTE,
					   .sh_flags = SHF_ALLOC,
					   .sh_offset = off,
					   .sh_addralign = 4,
					   .sh_size = sizeof(*nh) + 4 + align(o->build_id_len, 4) };
		off += sh[S_NOTE].sh_size;
	}

	if (o->blob_len) {
		assert_true(off + o->blob_len < cap);
		memcpy(buf + off, o->blob, o->blob_len);
		off += o->blob_len;
	}

	off = align(off, 8);
	assert_true(off + sizeof(shstr) < cap);
	memcpy(buf + off, shstr, sizeof(shstr));
	sh[S_SHSTRTAB] = (Elf64_Shdr){
		.sh_type = SHT_STRTAB, .sh_offset = off, .sh_size = sizeof(shstr), .sh_addralign = 1
	};
	off += sizeof(shstr);

	sh[S_TEXT] = (Elf64_Shdr){ .sh_type = SHT_PROGBITS,
				   .sh_flags = SHF_ALLOC | SHF_EXECINSTR,
				   .sh_addr = SYN_VBASE + SYN_TEXT,
				   .sh_offset = SYN_TEXT,
				   .sh_size = SYN_TEXT_LEN,
				   .sh_addralign = 16 };

	/* section names, by their place in shstr */
	sh[S_TEXT].sh_name = 1;
	sh[S_DYNSTR].sh_name = 7;
	sh[S_DYNSYM].sh_name = 15;
	sh[S_SYMTAB].sh_name = 23;
	sh[S_NOTE].sh_name = 31;
	sh[S_SHSTRTAB].sh_name = 50;

	/* the section header table, leaving out what this image does not have */
	off = align(off, 8);
	for (i = 0; i < S_MAX; i++) {
		if ((i == S_SYMTAB && !o->symtab) || (i == S_NOTE && !o->build_id_len))
			continue;
		idx[i] = nsec++;
	}
	sh[S_DYNSYM].sh_link = (uint32_t)idx[S_DYNSTR];
	sh[S_SYMTAB].sh_link = (uint32_t)idx[S_DYNSTR];
	assert_true(off + nsec * sizeof(Elf64_Shdr) <= cap);
	for (i = 0; i < S_MAX; i++) {
		if ((i == S_SYMTAB && !o->symtab) || (i == S_NOTE && !o->build_id_len))
			continue;
		memcpy(buf + off + idx[i] * sizeof(Elf64_Shdr), &sh[i], sizeof(Elf64_Shdr));
	}

	memcpy(eh->e_ident, ELFMAG, SELFMAG);
	eh->e_ident[EI_CLASS] = ELFCLASS64;
	eh->e_ident[EI_DATA] = ELFDATA2LSB;
	eh->e_ident[EI_VERSION] = EV_CURRENT;
	eh->e_type = o->e_type ? o->e_type : ET_DYN;
	eh->e_machine = EM_X86_64;
	eh->e_version = EV_CURRENT;
	eh->e_phoff = sizeof(*eh);
	eh->e_shoff = off;
	eh->e_ehsize = sizeof(*eh);
	eh->e_phentsize = sizeof(*ph);
	eh->e_phnum = 1;
	eh->e_shentsize = sizeof(Elf64_Shdr);
	eh->e_shnum = (uint16_t)nsec;
	eh->e_shstrndx = (uint16_t)idx[S_SHSTRTAB];
	off += nsec * sizeof(Elf64_Shdr);

	*ph = (Elf64_Phdr){ .p_type = PT_LOAD,
			    .p_flags = PF_R | PF_X,
			    .p_offset = 0,
			    .p_vaddr = SYN_VBASE,
			    .p_paddr = SYN_VBASE,
			    .p_filesz = off + o->load_extra,
			    .p_memsz = off + o->load_extra,
			    .p_align = 0x1000 };
	return off;
}

#define SYN(...) ((const struct syn_sym[]){ __VA_ARGS__ })

static const struct syn_sym openssl_syms[] = {
	{ "SSL_read", 0x10 },	     { "SSL_write", 0x20 }, { "SSL_read_ex", 0x30 },
	{ "SSL_write_ex", 0x40 },    { "SSL_free", 0x50 },  { "SSL_do_handshake", 0x60 },
	{ "malloc", .undef = true },
};

UNIT_TEST(test_synth_openssl)
{
	struct syn_opts o = { openssl_syms, sizeof(openssl_syms) / sizeof(openssl_syms[0]),
			      .build_id_len = 20 };
	struct tls_elf_info info;
	uint8_t img[4096];
	size_t len = syn_elf(img, sizeof(img), &o), i;
	char want_id[41];

	(void)state;
	assert_int_equal(inspect(img, len, &info), 0);
	assert_int_equal(info.lib, TLS_LIB_OPENSSL);
	assert_string_equal(tls_lib_name(info.lib), "OpenSSL");
	/* file offsets, not the addresses the symbols hold */
	assert_true(info.offset[TLS_SYM_SSL_READ] == SYN_TEXT + 0x10);
	assert_true(info.offset[TLS_SYM_SSL_WRITE] == SYN_TEXT + 0x20);
	assert_true(info.offset[TLS_SYM_SSL_READ_EX] == SYN_TEXT + 0x30);
	assert_true(info.offset[TLS_SYM_SSL_WRITE_EX] == SYN_TEXT + 0x40);
	assert_true(info.offset[TLS_SYM_SSL_HANDSHAKE] == SYN_TEXT + 0x60);
	assert_offsets_zero(&info, TLS_SYM_GNUTLS_RECV, TLS_SYM__COUNT);
	assert_false(info.has_symtab);
	assert_false(info.stripped_openssl);
	for (i = 0; i < 20; i++)
		sprintf(want_id + 2 * i, "%02x", syn_build_id_byte(i));
	assert_string_equal(info.build_id, want_id);
	/* and the hand parser used on the real libraries agrees on what it was given */
	assert_offsets_match(img, len, &info, TLS_SYM_SSL_READ, TLS_SYM_GNUTLS_RECV);
	hand_build_id(img, len, want_id);
	assert_string_equal(info.build_id, want_id);

	o.symtab = true;
	len = syn_elf(img, sizeof(img), &o);
	assert_int_equal(inspect(img, len, &info), 0);
	assert_int_equal(info.lib, TLS_LIB_OPENSSL);
	assert_true(info.has_symtab);
	assert_true(info.offset[TLS_SYM_SSL_READ] == SYN_TEXT + 0x10);
}

UNIT_TEST(test_synth_gnutls)
{
	const struct syn_sym *syms = SYN({ "gnutls_record_recv", 0x10 },
					 { "gnutls_record_send", 0x20 }, { "gnutls_deinit", 0x30 },
					 { "gnutls_handshake", 0x40 });
	struct syn_opts o = { syms, 4 };
	struct tls_elf_info info;
	uint8_t img[4096];
	size_t len = syn_elf(img, sizeof(img), &o);

	(void)state;
	assert_int_equal(inspect(img, len, &info), 0);
	assert_int_equal(info.lib, TLS_LIB_GNUTLS);
	assert_string_equal(tls_lib_name(info.lib), "GnuTLS");
	assert_true(info.offset[TLS_SYM_GNUTLS_RECV] == SYN_TEXT + 0x10);
	assert_true(info.offset[TLS_SYM_GNUTLS_SEND] == SYN_TEXT + 0x20);
	assert_true(info.offset[TLS_SYM_GNUTLS_HANDSHAKE] == SYN_TEXT + 0x40);
	assert_offsets_zero(&info, TLS_SYM_SSL_READ, TLS_SYM_GNUTLS_RECV);
	/* no note: no build-id */
	assert_string_equal(info.build_id, "");
}

/* A libpq function that starts with a mov to a register its hook does not read, then a jump,
 * is probed on the jump (emulated) rather than the mov (single-stepped); a mov to rdi or rsi,
 * a mov not followed by a jump, and PQsendPrepare (its hook reads rdx) keep their start. */
UNIT_TEST(test_synth_libpq_stub)
{
	const struct syn_sym *syms = SYN({ "PQsendQuery", 0x10 }, { "PQsendQueryParams", 0x20 },
					 { "PQsendPrepare", 0x30 }, { "PQsendQueryPrepared", 0x40 },
					 { "PQfinish", 0x50 });
	static const uint8_t mov_edx_jmp[] = { 0xba, 1, 0, 0, 0, 0xe9, 0, 0, 0, 0 };
	static const uint8_t mov_ecx_jmp8[] = { 0xb9, 1, 0, 0, 0, 0xeb, 0 };
	static const uint8_t mov_esi_jmp[] = { 0xbe, 1, 0, 0, 0, 0xe9, 0, 0, 0, 0 };
	static const uint8_t mov_edx_ret[] = { 0xba, 1, 0, 0, 0, 0xc3 };
	struct syn_opts o = { syms, 5 };
	struct tls_elf_info info;
	uint8_t img[4096];
	size_t len = syn_elf(img, sizeof(img), &o);

	(void)state;
	memcpy(img + SYN_TEXT + 0x10, mov_edx_jmp, sizeof(mov_edx_jmp));
	memcpy(img + SYN_TEXT + 0x20, mov_esi_jmp, sizeof(mov_esi_jmp));
	memcpy(img + SYN_TEXT + 0x30, mov_edx_jmp, sizeof(mov_edx_jmp));
	memcpy(img + SYN_TEXT + 0x40, mov_ecx_jmp8, sizeof(mov_ecx_jmp8));
	memcpy(img + SYN_TEXT + 0x50, mov_edx_ret, sizeof(mov_edx_ret));
	assert_int_equal(inspect(img, len, &info), 0);
	assert_true(info.libpq);
	assert_int_equal(info.lib, TLS_LIB_NONE);
	assert_true(info.site[TLS_SYM_PQ_SEND_QUERY].offset == SYN_TEXT + 0x15);
	assert_int_equal(info.site[TLS_SYM_PQ_SEND_QUERY].kind, TLS_SITE_INSIDE);
	assert_true(info.site[TLS_SYM_PQ_SEND_QUERY].emulated);
	assert_true(info.site[TLS_SYM_PQ_SEND_QUERY_PARAMS].offset == SYN_TEXT + 0x20);
	assert_true(info.site[TLS_SYM_PQ_SEND_PREPARE].offset == SYN_TEXT + 0x30);
	assert_true(info.site[TLS_SYM_PQ_SEND_QUERY_PREPARED].offset == SYN_TEXT + 0x45);
	assert_true(info.site[TLS_SYM_PQ_FINISH].offset == SYN_TEXT + 0x50);
	assert_int_equal(info.site[TLS_SYM_PQ_FINISH].kind, TLS_SITE_ENTRY);
	assert_false(info.site[TLS_SYM_PQ_FINISH].emulated);
	/* the functions themselves start where they start */
	assert_true(info.offset[TLS_SYM_PQ_SEND_QUERY] == SYN_TEXT + 0x10);
	assert_true(info.offset[TLS_SYM_PQ_SEND_QUERY_PREPARED] == SYN_TEXT + 0x40);
	assert_offsets_zero(&info, TLS_SYM_SSL_READ, TLS_SYM_PQ_SEND_QUERY);

	/* no PQsendQuery: not libpq, nothing hooked */
	memcpy(img + SYN_TEXT + 0x10, mov_edx_jmp, sizeof(mov_edx_jmp));
	o.syms = SYN({ "PQsendQueryParams", 0x20 }, { "PQfinish", 0x50 });
	o.nsyms = 2;
	len = syn_elf(img, sizeof(img), &o);
	assert_int_equal(inspect(img, len, &info), 0);
	assert_false(info.libpq);
	assert_offsets_zero(&info, 0, TLS_SYM__COUNT);
}

/* One of read/write makes the library; a compatibility layer carrying the other library's
 * names (GnuTLS's OpenSSL emulation, say) is hooked as what it really is. */
UNIT_TEST(test_synth_which_library)
{
	struct tls_elf_info info;
	uint8_t img[4096];
	size_t len;

	(void)state;
	len = syn_elf(img, sizeof(img), &(struct syn_opts){ SYN({ "SSL_write", 0x20 }), 1 });
	assert_int_equal(inspect(img, len, &info), 0);
	assert_int_equal(info.lib, TLS_LIB_OPENSSL);
	assert_true(info.offset[TLS_SYM_SSL_WRITE] == SYN_TEXT + 0x20);
	assert_true(info.offset[TLS_SYM_SSL_READ] == 0);

	len = syn_elf(img, sizeof(img),
		      &(struct syn_opts){ SYN({ "gnutls_record_send", 0x20 }), 1 });
	assert_int_equal(inspect(img, len, &info), 0);
	assert_int_equal(info.lib, TLS_LIB_GNUTLS);
	assert_true(info.offset[TLS_SYM_GNUTLS_SEND] == SYN_TEXT + 0x20);

	/* OpenSSL wins over GnuTLS, and the other's offsets are dropped */
	len = syn_elf(img, sizeof(img),
		      &(struct syn_opts){ SYN({ "gnutls_record_recv", 0x10 }, { "SSL_read", 0x20 },
					      { "gnutls_deinit", 0x30 }),
					  3 });
	assert_int_equal(inspect(img, len, &info), 0);
	assert_int_equal(info.lib, TLS_LIB_OPENSSL);
	assert_true(info.offset[TLS_SYM_SSL_READ] == SYN_TEXT + 0x20);
	assert_offsets_zero(&info, TLS_SYM_GNUTLS_RECV, TLS_SYM__COUNT);

	/* GnuTLS with an OpenSSL name that is not a read or write: still GnuTLS */
	len = syn_elf(img, sizeof(img),
		      &(struct syn_opts){ SYN({ "gnutls_record_recv", 0x10 }, { "SSL_free", 0x20 }),
					  2 });
	assert_int_equal(inspect(img, len, &info), 0);
	assert_int_equal(info.lib, TLS_LIB_GNUTLS);
	assert_offsets_zero(&info, TLS_SYM_SSL_READ, TLS_SYM_GNUTLS_RECV);
}

/* Imports (nginx calling libssl) and data symbols are not code to hook. */
UNIT_TEST(test_synth_not_defined_functions)
{
	static const char blob[] = "ssl/record/rec_layer_s3.c\0OpenSSL 3.0.11 19 Sep 2023";
	const struct syn_sym *syms = SYN({ "SSL_read", .undef = true },
					 { "SSL_write", 0x20, .object = true },
					 { "gnutls_record_recv", .undef = true });
	struct tls_elf_info info;
	uint8_t img[4096];
	size_t len;

	(void)state;
	len = syn_elf(img, sizeof(img),
		      &(struct syn_opts){ syms, 3, .blob = blob, .blob_len = sizeof(blob) });
	assert_int_equal(inspect(img, len, &info), 0);
	assert_int_equal(info.lib, TLS_LIB_NONE);
	assert_offsets_zero(&info, 0, TLS_SYM__COUNT);
	/* it names the API, so it is a user of a TLS library, not a stripped copy of one */
	assert_false(info.stripped_openssl);
}

/* TLS_LIB_NONE means nothing to hook: no offsets left over from half a library. */
UNIT_TEST(test_synth_none_has_no_offsets)
{
	const struct syn_sym *syms = SYN({ "SSL_free", 0x10 }, { "SSL_do_handshake", 0x18 },
					 { "gnutls_deinit", 0x20 }, { "gnutls_handshake", 0x30 });
	struct tls_elf_info info;
	uint8_t img[4096];
	size_t len;

	(void)state;
	len = syn_elf(img, sizeof(img), &(struct syn_opts){ syms, 4 });
	assert_int_equal(inspect(img, len, &info), 0);
	assert_int_equal(info.lib, TLS_LIB_NONE);
	assert_offsets_zero(&info, 0, TLS_SYM__COUNT);
}

/* OpenSSL linked in and stripped: no names at all, but libssl's source file names (from its
 * error records): ssl_lib.c and the record layer's. One alone is not enough, nor is the version
 * text (which a static link leaves out anyway). */
UNIT_TEST(test_synth_stripped_openssl)
{
	static const char both3[] = "../ssl/record/rec_layer_s3.c\0../ssl/ssl_lib.c";
	static const char both11[] = "ssl/ssl_lib.c\0ssl/record/ssl3_record.c\0OpenSSL 1.1.1w";
	static const char name_only[] = "../ssl/ssl_lib.c\0OpenSSL 3.0.11 19 Sep 2023";
	static const char version_only[] = "OpenSSL 3.0.11 19 Sep 2023";
	const struct syn_sym *libc = SYN({ "malloc", .undef = true }, { "main", 0x10 });
	const struct syn_sym *api =
		SYN({ "malloc", .undef = true }, { "OPENSSL_init_ssl", .undef = true });
	struct tls_elf_info info;
	uint8_t img[4096];
	size_t len;

	(void)state;
	len = syn_elf(img, sizeof(img),
		      &(struct syn_opts){ libc, 2, .blob = both3, .blob_len = sizeof(both3) });
	assert_int_equal(inspect(img, len, &info), 0);
	assert_int_equal(info.lib, TLS_LIB_NONE);
	assert_false(info.has_symtab);
	assert_true(info.stripped_openssl);

	len = syn_elf(img, sizeof(img),
		      &(struct syn_opts){ libc, 2, .blob = both11, .blob_len = sizeof(both11) });
	assert_int_equal(inspect(img, len, &info), 0);
	assert_true(info.stripped_openssl);

	len = syn_elf(img, sizeof(img),
		      &(struct syn_opts){ libc, 2, .blob = name_only,
					  .blob_len = sizeof(name_only) });
	assert_int_equal(inspect(img, len, &info), 0);
	assert_false(info.stripped_openssl);

	len = syn_elf(img, sizeof(img),
		      &(struct syn_opts){ libc, 2, .blob = version_only,
					  .blob_len = sizeof(version_only) });
	assert_int_equal(inspect(img, len, &info), 0);
	assert_false(info.stripped_openssl);

	/* a symbol table means not stripped: no SSL_read in it means no OpenSSL code to hook */
	len = syn_elf(img, sizeof(img),
		      &(struct syn_opts){ libc, 2, .symtab = true, .blob = both3,
					  .blob_len = sizeof(both3) });
	assert_int_equal(inspect(img, len, &info), 0);
	assert_true(info.has_symtab);
	assert_false(info.stripped_openssl);

	/* importing the API (linked against libssl.so, like libcrypto carries its own text) */
	len = syn_elf(img, sizeof(img),
		      &(struct syn_opts){ api, 2, .blob = both3, .blob_len = sizeof(both3) });
	assert_int_equal(inspect(img, len, &info), 0);
	assert_false(info.stripped_openssl);
}

#define SCAN_CHUNK (256u << 10) /* tlslib.c's */

/* A stripped ELF file of size len: syn_elf's, then filler up to len, with what the caller puts
 * there. */
static uint8_t *syn_big(size_t len)
{
	const struct syn_sym *libc = SYN({ "malloc", .undef = true }, { "main", 0x10 });
	uint8_t *img = malloc(len);
	size_t n;

	assert_non_null(img);
	memset(img, 'x', len);
	n = syn_elf(img, 4096, &(struct syn_opts){ libc, 2 });
	assert_true(n > 0 && n < 4096);
	return img;
}

/* The source names are looked for a chunk at a time: one across the edge of two is found, the
 * longest (11 bytes) starting a byte before it. */
UNIT_TEST(test_stripped_openssl_across_chunks)
{
	size_t len = 3 * SCAN_CHUNK;
	uint8_t *img = syn_big(len);
	struct tls_elf_info info;

	(void)state;
	memcpy(img + SCAN_CHUNK - 1, "ssl_lib.c", 9);
	memcpy(img + 2 * SCAN_CHUNK - 1, "ssl/record/", 11);
	assert_int_equal(inspect(img, len, &info), 0);
	assert_true(info.stripped_openssl);
	/* the last bytes of the file count too; a name cut short by its end does not */
	memset(img + 2 * SCAN_CHUNK - 1, 'x', 11);
	memcpy(img + len - 11, "ssl/record/", 11);
	assert_int_equal(inspect(img, len, &info), 0);
	assert_true(info.stripped_openssl);
	memcpy(img + len - 10, "ssl/record", 10);
	assert_int_equal(inspect(img, len, &info), 0);
	assert_false(info.stripped_openssl);
	free(img);
}

/* tls_elf_inspect_file() on a private mapping of a 4 MiB file read through to its end: the same
 * finding, and the pages it read given back (a chunk or two resident, not 4 MiB). */
UNIT_TEST(test_inspect_file_gives_pages_back)
{
	size_t len = 16 * SCAN_CHUNK;
	uint8_t *img = syn_big(len);
	char path[] = "/tmp/obsprobe-tlslib-XXXXXX";
	struct tls_elf_info info;
	int fd = mkstemp(path);
	void *map;

	(void)state;
	assert_true(fd >= 0);
	unlink(path);
	memcpy(img + len - 20, "ssl_lib.c", 9);
	assert_int_equal(write(fd, img, len), (ssize_t)len);
	map = mmap(NULL, len, PROT_READ | PROT_WRITE, MAP_PRIVATE, fd, 0);
	assert_true(map != MAP_FAILED);
	assert_int_equal(tls_elf_inspect_file(map, len, X86_EMUL_PUSH, &info), 0);
	assert_false(info.stripped_openssl); /* one name alone: read to the end */
	assert_true(smaps_rss_kib((uintptr_t)map, (uintptr_t)map + len) <= 2 * SCAN_CHUNK / 1024);
	assert_memory_equal(map, img, len); /* what was given back reads back the same */
	assert_int_equal(tls_elf_inspect(map, len, X86_EMUL_PUSH, &info), 0);
	assert_true(smaps_rss_kib((uintptr_t)map, (uintptr_t)map + len) >= len / 1024);
	memcpy(img + len - 11, "ssl/record/", 11);
	assert_int_equal(pwrite(fd, img + len - 11, 11, (off_t)(len - 11)), 11);
	munmap(map, len);
	map = mmap(NULL, len, PROT_READ | PROT_WRITE, MAP_PRIVATE, fd, 0);
	assert_true(map != MAP_FAILED);
	assert_int_equal(tls_elf_inspect_file(map, len, X86_EMUL_PUSH, &info), 0);
	assert_true(info.stripped_openssl);
	munmap(map, len);
	close(fd);
	free(img);
}

/* Linkers write build-ids of other sizes too (--build-id=md5 or uuid: 16 bytes, 0xHEX: any). */
UNIT_TEST(test_synth_build_id_sizes)
{
	struct tls_elf_info info;
	uint8_t img[4096];
	char want[41];
	size_t len, i;

	(void)state;
	len = syn_elf(img, sizeof(img), &(struct syn_opts){ openssl_syms, 1, .build_id_len = 16 });
	assert_int_equal(inspect(img, len, &info), 0);
	for (i = 0; i < 16; i++)
		sprintf(want + 2 * i, "%02x", syn_build_id_byte(i));
	assert_string_equal(info.build_id, want);

	/* longer ones are cut to what the field holds */
	len = syn_elf(img, sizeof(img), &(struct syn_opts){ openssl_syms, 1, .build_id_len = 32 });
	assert_int_equal(inspect(img, len, &info), 0);
	assert_hex(info.build_id, 40);
	for (i = 0; i < 20; i++)
		sprintf(want + 2 * i, "%02x", syn_build_id_byte(i));
	assert_string_equal(info.build_id, want);
}

/* Relocatable objects and core dumps hold no code at a file offset the kernel can probe. */
UNIT_TEST(test_synth_not_loadable)
{
	struct tls_elf_info info;
	uint8_t img[4096];
	size_t len;

	(void)state;
	len = syn_elf(img, sizeof(img), &(struct syn_opts){ openssl_syms, 1, .e_type = ET_REL });
	assert_int_equal(inspect(img, len, &info), -EINVAL);
	assert_int_equal(info.lib, TLS_LIB_NONE);
	len = syn_elf(img, sizeof(img), &(struct syn_opts){ openssl_syms, 1, .e_type = ET_CORE });
	assert_int_equal(inspect(img, len, &info), -EINVAL);
	len = syn_elf(img, sizeof(img), &(struct syn_opts){ openssl_syms, 1, .e_type = ET_EXEC });
	assert_int_equal(inspect(img, len, &info), 0);
	assert_int_equal(info.lib, TLS_LIB_OPENSSL);
}

/* A segment that claims more file than there is (a truncated or forged file): an offset
 * beyond the end names no code in this file and must not be handed to the kernel. */
UNIT_TEST(test_synth_offset_past_end)
{
	struct tls_elf_info info;
	uint8_t img[4096];
	size_t len;
	int k;

	(void)state;
	/* SSL_write 8 KiB on, past the end of this image of less than 4 KiB */
	len = syn_elf(img, sizeof(img),
		      &(struct syn_opts){ SYN({ "SSL_read", 0x10 }, { "SSL_write", 0x2000 }), 2,
					  .load_extra = 0x10000 });
	if (inspect(img, len, &info) == 0) {
		for (k = 0; k < TLS_SYM__COUNT; k++)
			if (info.offset[k] >= len)
				fail_msg("%s at offset %#llx of a %zu-byte file", tls_sym_name(k),
					 (unsigned long long)info.offset[k], len);
		assert_true(info.offset[TLS_SYM_SSL_READ] == SYN_TEXT + 0x10);
	}
}

/* Every offset a successful inspection of len bytes reports lies inside them, and an absent
 * hook has no site. */
static void assert_inside(const struct tls_elf_info *info, size_t len)
{
	int k;

	assert_non_null(memchr(info->build_id, '\0', sizeof(info->build_id)));
	for (k = 0; k < TLS_SYM__COUNT; k++) {
		const struct tls_site *site = &info->site[k];

		assert_non_null(memchr(site->insn, '\0', sizeof(site->insn)));
		assert_non_null(memchr(site->how, '\0', sizeof(site->how)));
		if (!info->offset[k] && (site->kind != TLS_SITE_NONE || site->offset))
			fail_msg("%s is absent, yet has a site at %#llx", tls_sym_name(k),
				 (unsigned long long)site->offset);
		if (info->offset[k] && (site->kind == TLS_SITE_NONE || site->offset >= len))
			fail_msg("%s: site (kind %d) at offset %#llx of %zu bytes", tls_sym_name(k),
				 site->kind, (unsigned long long)site->offset, len);
	}
	if (info->lib == TLS_LIB_NONE)
		return;
	for (k = 0; k < TLS_SYM__COUNT; k++)
		if (info->offset[k] >= len)
			fail_msg("%s at offset %#llx of %zu bytes", tls_sym_name(k),
				 (unsigned long long)info->offset[k], len);
}

/* Every prefix of a small image: fails or answers within the bytes it was given. */
UNIT_TEST(test_synth_every_prefix)
{
	struct tls_elf_info info;
	uint8_t img[4096];
	size_t len, n;

	(void)state;
	len = syn_elf(img, sizeof(img),
		      &(struct syn_opts){ openssl_syms, 7, .symtab = true, .build_id_len = 20 });
	for (n = 0; n <= len; n++) {
		int err = inspect(img, n, &info);

		if (err) {
			assert_int_equal(err, -EINVAL);
			assert_int_equal(info.lib, TLS_LIB_NONE);
		} else {
			assert_inside(&info, n);
		}
	}
	/* the whole image is the only one with every table in it */
	assert_int_equal(inspect(img, len, &info), 0);
	assert_int_equal(info.lib, TLS_LIB_OPENSSL);
}

/* ---- the system's libraries ---- */

UNIT_TEST(test_libssl)
{
	struct tls_elf_info info;
	size_t len;
	uint8_t *img = SLURP_OR_SKIP(LIBDIR "libssl.so.3", &len);
	char want_id[41];

	(void)state;
	assert_int_equal(inspect(img, len, &info), 0);
	assert_int_equal(info.lib, TLS_LIB_OPENSSL);
	assert_offsets_match(img, len, &info, TLS_SYM_SSL_READ, TLS_SYM_GNUTLS_RECV);
	assert_offsets_zero(&info, TLS_SYM_GNUTLS_RECV, TLS_SYM__COUNT);
	assert_false(info.stripped_openssl);
	assert_hex(info.build_id, 40);
	hand_build_id(img, len, want_id);
	assert_string_equal(info.build_id, want_id);
	free(img);
}

UNIT_TEST(test_libgnutls)
{
	struct tls_elf_info info;
	size_t len;
	uint8_t *img = SLURP_OR_SKIP(LIBDIR "libgnutls.so.30", &len);

	(void)state;
	assert_int_equal(inspect(img, len, &info), 0);
	assert_int_equal(info.lib, TLS_LIB_GNUTLS);
	assert_offsets_match(img, len, &info, TLS_SYM_GNUTLS_RECV, TLS_SYM_PQ_SEND_QUERY);
	assert_offsets_zero(&info, TLS_SYM_SSL_READ, TLS_SYM_GNUTLS_RECV);
	assert_offsets_zero(&info, TLS_SYM_PQ_SEND_QUERY, TLS_SYM__COUNT);
	assert_false(info.libpq);
	assert_false(info.stripped_openssl);
	assert_hex(info.build_id, 40);
	free(img);
}

/* libpq: its query, connect and finish calls found, and it is no TLS library (it imports
 * OpenSSL's names, it does not define them). */
UNIT_TEST(test_libpq)
{
	struct tls_elf_info info;
	size_t len;
	uint8_t *img = SLURP_OR_SKIP(LIBDIR "libpq.so.5", &len);
	uint64_t want;

	(void)state;
	assert_int_equal(inspect(img, len, &info), 0);
	assert_int_equal(info.lib, TLS_LIB_NONE);
	assert_true(info.libpq);
	/* Debian's PQsendQuery is `mov $1,%edx; jmp PQsendQueryInternal`: hooked on the jmp */
	want = hand_sym_offset(img, len, "PQsendQuery");
	assert_true(want != 0);
	assert_true(info.offset[TLS_SYM_PQ_SEND_QUERY] == want);
	if (img[want] == 0xba && img[want + 5] == 0xe9)
		want += 5;
	assert_true(info.site[TLS_SYM_PQ_SEND_QUERY].offset == want);
	assert_offsets_match(img, len, &info, TLS_SYM_PQ_SEND_QUERY_PARAMS, TLS_SYM__COUNT);
	assert_offsets_zero(&info, TLS_SYM_SSL_READ, TLS_SYM_PQ_SEND_QUERY);
	assert_false(info.stripped_openssl);
	assert_hex(info.build_id, 40);
	free(img);
}

/* A file that is no TLS library: no hook, no stripped-OpenSSL guess, its build-id read. */
static void assert_not_tls(const char *path)
{
	struct tls_elf_info info;
	size_t len;
	uint8_t *img = SLURP_OR_SKIP(path, &len);

	assert_int_equal(inspect(img, len, &info), 0);
	assert_int_equal(info.lib, TLS_LIB_NONE);
	assert_offsets_zero(&info, 0, TLS_SYM__COUNT);
	assert_false(info.stripped_openssl);
	assert_hex(info.build_id, 40);
	free(img);
}

UNIT_TEST(test_libc)
{
	(void)state;
	assert_not_tls(LIBDIR "libc.so.6");
}

/* libcrypto carries OpenSSL's version text and (3.0) "ssl/record/" paths, yet no SSL_read:
 * the stripped-OpenSSL guess must not fire on it, which its OPENSSL_ exports prevent. */
UNIT_TEST(test_libcrypto)
{
	(void)state;
	assert_not_tls(LIBDIR "libcrypto.so.3");
}

/* nginx imports SSL_read from libssl: a user of OpenSSL, not a copy of it. */
UNIT_TEST(test_nginx)
{
	(void)state;
	assert_not_tls("/usr/sbin/nginx");
}

/* ---- where each probe sits (x86-64) ---- */

/* Writes code at offset at of a synthetic image's text. */
static void syn_code(uint8_t *img, uint32_t at, const uint8_t *code, size_t n)
{
	assert_true(at + n <= SYN_TEXT_LEN);
	memcpy(img + SYN_TEXT + at, code, n);
}

/* Points the call or jmp rel32 at text offset at to text offset target. */
static void syn_branch(uint8_t *img, uint32_t at, uint32_t target)
{
	int32_t rel = (int32_t)target - (int32_t)(at + 5);

	assert_true(img[SYN_TEXT + at] == 0xe8 || img[SYN_TEXT + at] == 0xe9);
	memcpy(img + SYN_TEXT + at + 1, &rel, sizeof(rel));
}

static void assert_site(const struct tls_elf_info *info, int k, enum tls_site_kind kind,
			uint64_t offset, bool emulated)
{
	const struct tls_site *s = &info->site[k];

	if (s->kind != kind || s->offset != offset || s->emulated != emulated)
		fail_msg("%s: site kind %d at %#llx, emulated %d (%s); want kind %d at %#llx, "
			 "emulated %d",
			 tls_sym_name(k), s->kind, (unsigned long long)s->offset, s->emulated,
			 s->insn, kind, (unsigned long long)offset, emulated);
}

/* Where a synthetic OpenSSL's functions lie in its text: SSL_read and SSL_write as OpenSSL 3.0
 * has them (Debian 12), their _ex twins, and the worker each pair calls first (syn_branch()
 * aims the calls). */
enum {
	SYN_SSL_READ = 0x00,
	SYN_SSL_READ_EX = 0x30,
	SYN_SSL_WRITE = 0x40,
	SYN_SSL_WRITE_EX = 0x70,
	SYN_HANDSHAKE = 0x80,
	SYN_READ_WORKER = 0xc0,
	SYN_WRITE_WORKER = 0xd0,
	SYN_CALL = 0x1e,    /* where SSL_read's call is */
	SYN_CALL_EX = 0x04, /* SSL_read_ex's */
};

static const uint8_t ssl_read_shape[] = {
	0x48, 0x83, 0xec, 0x18,				      /* sub    $0x18,%rsp */
	0x64, 0x48, 0x8b, 0x04, 0x25, 0x28, 0x00, 0x00, 0x00, /* mov    %fs:0x28,%rax */
	0x48, 0x89, 0x44, 0x24, 0x08,			      /* mov    %rax,0x8(%rsp) */
	0x31, 0xc0,					      /* xor    %eax,%eax */
	0x85, 0xd2,					      /* test   %edx,%edx */
	0x78, 0x2f,					      /* js     +0x2f */
	0x48, 0x89, 0xe1,				      /* mov    %rsp,%rcx */
	0x48, 0x63, 0xd2,				      /* movslq %edx,%rdx */
	0xe8, 0x00, 0x00, 0x00, 0x00,			      /* call   worker */
	0x85, 0xc0,					      /* test   %eax,%eax */
};

static const uint8_t ssl_read_ex_shape[] = {
	0x48, 0x83, 0xec, 0x08,	      /* sub    $0x8,%rsp */
	0xe8, 0x00, 0x00, 0x00, 0x00, /* call   worker */
	0x31, 0xd2,		      /* xor    %edx,%edx */
};

static const struct syn_sym openssl_x86_syms[] = {
	{ "SSL_read", SYN_SSL_READ },	       { "SSL_read_ex", SYN_SSL_READ_EX },
	{ "SSL_write", SYN_SSL_WRITE },	       { "SSL_write_ex", SYN_SSL_WRITE_EX },
	{ "SSL_do_handshake", SYN_HANDSHAKE },
};

/* An OpenSSL image whose reads and writes each share a worker that starts with a push. */
static size_t syn_openssl_x86(uint8_t *img, size_t cap)
{
	static const uint8_t push_r13[] = { 0x41, 0x55 }, push_r14[] = { 0x41, 0x56 };
	static const uint8_t push_rbp[] = { 0x55 };
	size_t len = syn_elf(img, cap, &(struct syn_opts){ openssl_x86_syms, 5 });

	syn_code(img, SYN_SSL_READ, ssl_read_shape, sizeof(ssl_read_shape));
	syn_code(img, SYN_SSL_READ_EX, ssl_read_ex_shape, sizeof(ssl_read_ex_shape));
	syn_code(img, SYN_SSL_WRITE, ssl_read_shape, sizeof(ssl_read_shape));
	syn_code(img, SYN_SSL_WRITE_EX, ssl_read_ex_shape, sizeof(ssl_read_ex_shape));
	syn_code(img, SYN_HANDSHAKE, push_rbp, sizeof(push_rbp));
	syn_code(img, SYN_READ_WORKER, push_r13, sizeof(push_r13));
	syn_code(img, SYN_WRITE_WORKER, push_r14, sizeof(push_r14));
	syn_branch(img, SYN_SSL_READ + SYN_CALL, SYN_READ_WORKER);
	syn_branch(img, SYN_SSL_READ_EX + SYN_CALL_EX, SYN_READ_WORKER);
	syn_branch(img, SYN_SSL_WRITE + SYN_CALL, SYN_WRITE_WORKER);
	syn_branch(img, SYN_SSL_WRITE_EX + SYN_CALL_EX, SYN_WRITE_WORKER);
	return len;
}

static void assert_worker(const struct tls_elf_info *info, int f, int f_ex, uint32_t worker)
{
	assert_site(info, f, TLS_SITE_WORKER, SYN_TEXT + worker, true);
	assert_site(info, f_ex, TLS_SITE_WORKER, SYN_TEXT + worker, true);
	assert_true(info->site[f].shared);
	assert_false(info->site[f_ex].shared);
}

/* Each at its own entry, single-stepped. */
static void assert_no_worker(const struct tls_elf_info *info, int f, int f_ex)
{
	assert_site(info, f, TLS_SITE_ENTRY, info->offset[f], false);
	assert_site(info, f_ex, TLS_SITE_ENTRY, info->offset[f_ex], false);
}

UNIT_TEST(test_sites_openssl_worker)
{
	struct tls_elf_info info;
	uint8_t img[4096];
	size_t len = syn_openssl_x86(img, sizeof(img));

	(void)state;
	assert_int_equal(inspect(img, len, &info), 0);
	assert_int_equal(info.lib, TLS_LIB_OPENSSL);
	assert_inside(&info, len);
	assert_worker(&info, TLS_SYM_SSL_READ, TLS_SYM_SSL_READ_EX, SYN_READ_WORKER);
	assert_string_equal(info.site[TLS_SYM_SSL_READ].insn, "pushq %r13");
	assert_string_equal(info.site[TLS_SYM_SSL_READ].how,
			    "SSL_read+0x1e and SSL_read_ex+0x4 call");
	assert_string_equal(info.site[TLS_SYM_SSL_READ_EX].how, info.site[TLS_SYM_SSL_READ].how);
	assert_worker(&info, TLS_SYM_SSL_WRITE, TLS_SYM_SSL_WRITE_EX, SYN_WRITE_WORKER);
	assert_string_equal(info.site[TLS_SYM_SSL_WRITE].insn, "pushq %r14");
	assert_string_equal(info.site[TLS_SYM_SSL_WRITE].how,
			    "SSL_write+0x1e and SSL_write_ex+0x4 call");
	/* not a twin: at its entry, a push */
	assert_site(&info, TLS_SYM_SSL_HANDSHAKE, TLS_SITE_ENTRY, SYN_TEXT + SYN_HANDSHAKE, true);
	assert_string_equal(info.site[TLS_SYM_SSL_HANDSHAKE].insn, "pushq %rbp");
	assert_string_equal(info.site[TLS_SYM_SSL_HANDSHAKE].how, "");
}

/* Any doubt that the worker gets the caller's arguments, or is called first, or is cheaper
 * keeps the probes where they were; the write pair, left as it was, shows that each change is
 * the one that counts. */
UNIT_TEST(test_sites_openssl_no_worker)
{
	static const struct {
		const char *why;
		uint32_t at;	  /* text offset of the change */
		uint8_t bytes[4]; /* written there */
		size_t n;
	} cases[] = {
		/* mov %rsp,%rsi for mov %rsp,%rcx */
		{ "SSL_read changes the buffer", SYN_SSL_READ + 0x18, { 0x48, 0x89, 0xe6 }, 3 },
		/* xor %r8d,%r8d for mov %rsp,%rcx */
		{ "SSL_read passes a fifth argument", SYN_SSL_READ + 0x18, { 0x45, 0x31, 0xc0 }, 3 },
		/* xor %ecx,%ecx; nop; nop for sub $0x8,%rsp */
		{ "SSL_read_ex sets the count", SYN_SSL_READ_EX, { 0x31, 0xc9, 0x90, 0x90 }, 4 },
		/* jmp for call */
		{ "SSL_read tail-jumps", SYN_SSL_READ + SYN_CALL, { 0xe9 }, 1 },
		/* ret for test %edx,%edx */
		{ "SSL_read returns first", SYN_SSL_READ + 0x14, { 0xc3 }, 1 },
		/* sub $0x8,%rsp for push %r13 */
		{ "the worker is single-stepped", SYN_READ_WORKER, { 0x48, 0x83, 0xec, 0x08 }, 4 },
	};
	struct tls_elf_info info;
	uint8_t img[4096];
	size_t i, len;

	(void)state;
	for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		len = syn_openssl_x86(img, sizeof(img));
		memcpy(img + SYN_TEXT + cases[i].at, cases[i].bytes, cases[i].n);
		assert_int_equal(inspect(img, len, &info), 0);
		assert_inside(&info, len);
		if (info.site[TLS_SYM_SSL_READ].kind != TLS_SITE_ENTRY)
			fail_msg("%s, yet SSL_read is probed on a worker", cases[i].why);
		assert_no_worker(&info, TLS_SYM_SSL_READ, TLS_SYM_SSL_READ_EX);
		assert_worker(&info, TLS_SYM_SSL_WRITE, TLS_SYM_SSL_WRITE_EX, SYN_WRITE_WORKER);
	}

	/* the twins call different functions */
	len = syn_openssl_x86(img, sizeof(img));
	syn_branch(img, SYN_SSL_READ_EX + SYN_CALL_EX, SYN_WRITE_WORKER);
	assert_int_equal(inspect(img, len, &info), 0);
	assert_no_worker(&info, TLS_SYM_SSL_READ, TLS_SYM_SSL_READ_EX);

	/* both entries emulated already (push %rbx; nop; nop; nop): nothing to gain */
	len = syn_openssl_x86(img, sizeof(img));
	memcpy(img + SYN_TEXT + SYN_SSL_READ, (const uint8_t[]){ 0x53, 0x90, 0x90, 0x90 }, 4);
	memcpy(img + SYN_TEXT + SYN_SSL_READ_EX, (const uint8_t[]){ 0x53, 0x90, 0x90, 0x90 }, 4);
	assert_int_equal(inspect(img, len, &info), 0);
	assert_site(&info, TLS_SYM_SSL_READ, TLS_SITE_ENTRY, SYN_TEXT + SYN_SSL_READ, true);
	assert_site(&info, TLS_SYM_SSL_READ_EX, TLS_SITE_ENTRY, SYN_TEXT + SYN_SSL_READ_EX, true);
	assert_worker(&info, TLS_SYM_SSL_WRITE, TLS_SYM_SSL_WRITE_EX, SYN_WRITE_WORKER);
}

/* libpq's hooks read their arguments only: each probe goes on the first emulated instruction
 * that still sees the ones it reads. */
UNIT_TEST(test_sites_libpq)
{
	enum { QUERY = 0x00, PREPARE = 0x10, FINISH = 0x20, CONNECT = 0x30, PARAMS = 0x40 };
	static const uint8_t query[] = {
		0xba, 0x01, 0x00, 0x00, 0x00, /* mov    $0x1,%edx */
		0xe9, 0x00, 0x00, 0x00, 0x00, /* jmp    internal */
	};
	static const uint8_t finish[] = {
		0x48, 0x85, 0xff, /* test   %rdi,%rdi */
		0x74, 0x23,	  /* je     +0x23 */
		0x55,		  /* push   %rbp */
	};
	static const uint8_t connect[] = {
		0x55,		  /* push   %rbp */
		0x48, 0x89, 0xe5, /* mov    %rsp,%rbp */
	};
	static const uint8_t params[] = {
		0xf3, 0x0f, 0x1e, 0xfa, /* endbr64 */
		0x41, 0x57,		/* push   %r15 */
	};
	const struct syn_sym *syms = SYN({ "PQsendQuery", QUERY }, { "PQsendPrepare", PREPARE },
					 { "PQfinish", FINISH }, { "PQconnectStart", CONNECT },
					 { "PQsendQueryParams", PARAMS });
	struct tls_elf_info info;
	uint8_t img[4096];
	size_t len;

	(void)state;
	len = syn_elf(img, sizeof(img), &(struct syn_opts){ syms, 5 });
	syn_code(img, QUERY, query, sizeof(query));
	syn_branch(img, QUERY + 5, 0xf0);
	/* PQsendPrepare reads rdx, its third argument: the same shape leaves it at its entry */
	syn_code(img, PREPARE, query, sizeof(query));
	syn_branch(img, PREPARE + 5, 0xf0);
	syn_code(img, FINISH, finish, sizeof(finish));
	syn_code(img, CONNECT, connect, sizeof(connect));
	syn_code(img, PARAMS, params, sizeof(params));
	assert_int_equal(inspect(img, len, &info), 0);
	assert_true(info.libpq);
	assert_inside(&info, len);
	assert_site(&info, TLS_SYM_PQ_SEND_QUERY, TLS_SITE_INSIDE, SYN_TEXT + QUERY + 5, true);
	assert_string_equal(info.site[TLS_SYM_PQ_SEND_QUERY].insn, "jmp 0x2001f0");
	assert_site(&info, TLS_SYM_PQ_SEND_PREPARE, TLS_SITE_ENTRY, SYN_TEXT + PREPARE, false);
	assert_string_equal(info.site[TLS_SYM_PQ_SEND_PREPARE].insn, "movl $1, %edx");
	assert_site(&info, TLS_SYM_PQ_FINISH, TLS_SITE_INSIDE, SYN_TEXT + FINISH + 3, true);
	assert_site(&info, TLS_SYM_PQ_CONNECT_START, TLS_SITE_ENTRY, SYN_TEXT + CONNECT, true);
	assert_site(&info, TLS_SYM_PQ_SEND_QUERY_PARAMS, TLS_SITE_INSIDE, SYN_TEXT + PARAMS + 4,
		    true);
	assert_site(&info, TLS_SYM_PQ_SEND_QUERY_PREPARED, TLS_SITE_NONE, 0, false);
}

/* A pair's worker, checked on the bytes without x86sites.c: a push, and what both twins call
 * within their first 64 bytes. */
static void assert_real_worker(const uint8_t *img, size_t len, const struct tls_elf_info *info,
			       int f, int f_ex)
{
	const struct tls_site *s = &info->site[f], *s_ex = &info->site[f_ex];

	assert_int_equal(s->kind, TLS_SITE_WORKER);
	assert_int_equal(s_ex->kind, TLS_SITE_WORKER);
	assert_true(s->offset == s_ex->offset);
	assert_true(s->shared != s_ex->shared);
	assert_true(s->emulated && s_ex->emulated);
	assert_true(s->offset != info->offset[f] && s->offset != info->offset[f_ex]);
	if (!hand_push(img, len, s->offset))
		fail_msg("%s: the worker at %#llx starts with %02x, no push", tls_sym_name(f),
			 (unsigned long long)s->offset, img[s->offset]);
	if (!hand_calls(img, len, info->offset[f], s->offset))
		fail_msg("%s does not call %#llx", tls_sym_name(f), (unsigned long long)s->offset);
	if (!hand_calls(img, len, info->offset[f_ex], s->offset))
		fail_msg("%s does not call %#llx", tls_sym_name(f_ex),
			 (unsigned long long)s->offset);
	assert_true(!strncmp(s->insn, "push", 4));
	assert_non_null(strstr(s->how, tls_sym_name(f)));
	assert_non_null(strstr(s->how, tls_sym_name(f_ex)));
}

/* Debian 12's libssl: SSL_read and SSL_read_ex start `sub $N,%rsp` and call one worker first,
 * which starts with a push; so do the writes. */
UNIT_TEST(test_libssl_sites)
{
	struct tls_elf_info info;
	size_t len;
	uint8_t *img = SLURP_OR_SKIP(LIBDIR "libssl.so.3", &len);

	(void)state;
	assert_int_equal(inspect(img, len, &info), 0);
	assert_inside(&info, len);
	assert_real_worker(img, len, &info, TLS_SYM_SSL_READ, TLS_SYM_SSL_READ_EX);
	assert_real_worker(img, len, &info, TLS_SYM_SSL_WRITE, TLS_SYM_SSL_WRITE_EX);
	assert_true(info.site[TLS_SYM_SSL_READ].offset != info.site[TLS_SYM_SSL_WRITE].offset);
	assert_int_equal(info.site[TLS_SYM_SSL_HANDSHAKE].kind, TLS_SITE_ENTRY);
	assert_true(info.site[TLS_SYM_SSL_HANDSHAKE].offset == info.offset[TLS_SYM_SSL_HANDSHAKE]);
	free(img);
}

/* A kernel that single-steps a push: the worker gains nothing over SSL_read's own start, so
 * every OpenSSL hook stays where its function starts, and says it is single-stepped. */
UNIT_TEST(test_libssl_sites_push_stepped)
{
	struct tls_elf_info info;
	size_t len;
	uint8_t *img = SLURP_OR_SKIP(LIBDIR "libssl.so.3", &len);
	int k;

	(void)state;
	assert_int_equal(inspect_on(img, len, 0, &info), 0);
	assert_inside(&info, len);
	for (k = TLS_SYM_SSL_READ; k <= TLS_SYM_SSL_HANDSHAKE; k++) {
		assert_int_equal(info.site[k].kind, TLS_SITE_ENTRY);
		assert_true(info.site[k].offset == info.offset[k]);
		assert_false(info.site[k].emulated);
		assert_false(info.site[k].shared);
	}
	free(img);
}

/* GnuTLS: gnutls_record_recv starts with no emulated instruction here (`sub $0x8,%rsp`); every
 * path of it that reads records ends in `mov %rsi,%rdx; mov $0x17,%esi; ...; jmp
 * _gnutls_recv_int`, which starts with a push: probed there. gnutls_record_send (`xor
 * %r8d,%r8d; xor %ecx,%ecx; jmp gnutls_record_send2@plt`) on gnutls_record_send2, which it
 * jumps to through its PLT entry and which starts with a push; the handshake starts with a
 * push. */
UNIT_TEST(test_libgnutls_sites)
{
	static const uint8_t rsi_to_rdx[] = { 0x48, 0x89, 0xf2 },
			     type_23[] = { 0xbe, 0x17, 0, 0, 0 };
	const struct tls_site *recv;
	struct tls_elf_info info;
	size_t len;
	uint8_t *img = SLURP_OR_SKIP(LIBDIR "libgnutls.so.30", &len);
	uint64_t send2, fn;

	(void)state;
	assert_int_equal(inspect(img, len, &info), 0);
	assert_inside(&info, len);
	recv = &info.site[TLS_SYM_GNUTLS_RECV];
	fn = info.offset[TLS_SYM_GNUTLS_RECV];
	assert_int_equal(img[fn], 0x48); /* sub $0x8,%rsp: 48 83 ec 08 */
	assert_int_equal(img[fn + 2], 0xec);
	assert_int_equal(recv->kind, TLS_SITE_RECV_INT);
	assert_true(recv->emulated);
	assert_true(hand_push(img, len, recv->offset));
	assert_true(hand_branches(img, len, fn, 0x50, 0xe9, recv->offset));
	assert_non_null(memmem(img + fn, 0x50, rsi_to_rdx, sizeof(rsi_to_rdx)));
	assert_non_null(memmem(img + fn, 0x50, type_23, sizeof(type_23)));
	assert_non_null(strstr(recv->how, "gnutls_record_recv+0x46 jumps to"));
	assert_false(recv->shared);
	assert_int_equal(info.site[TLS_SYM_GNUTLS_HANDSHAKE].kind, TLS_SITE_ENTRY);
	assert_true(info.site[TLS_SYM_GNUTLS_HANDSHAKE].offset ==
		    info.offset[TLS_SYM_GNUTLS_HANDSHAKE]);
	assert_string_equal(info.site[TLS_SYM_GNUTLS_HANDSHAKE].how, "");
	send2 = hand_sym_offset(img, len, "gnutls_record_send2");
	assert_true(send2 != 0);
	assert_int_equal(info.site[TLS_SYM_GNUTLS_SEND].kind, TLS_SITE_TAIL);
	assert_true(info.site[TLS_SYM_GNUTLS_SEND].offset == send2);
	assert_true(info.site[TLS_SYM_GNUTLS_SEND].emulated);
	assert_false(info.site[TLS_SYM_GNUTLS_SEND].shared);
	assert_true(hand_push(img, len, send2));
	assert_non_null(strstr(info.site[TLS_SYM_GNUTLS_SEND].how, "jumps to gnutls_record_send2"));
	assert_true(info.site[TLS_SYM_GNUTLS_HANDSHAKE].emulated);
	assert_true(hand_push(img, len, info.offset[TLS_SYM_GNUTLS_HANDSHAKE]));
	free(img);
}

/* Debian's libpq: PQfinish starts `test %rdi,%rdi; je`, PQsendQuery `mov $1,%edx; jmp`; both
 * are probed on the branch, which sees their arguments. The rest start with a push. */
UNIT_TEST(test_libpq_sites)
{
	static const uint8_t test_je[] = { 0x48, 0x85, 0xff, 0x74 };
	static const uint8_t mov_jmp[] = { 0xba, 0x01, 0x00, 0x00, 0x00, 0xe9 };
	struct tls_elf_info info;
	size_t len;
	uint8_t *img = SLURP_OR_SKIP(LIBDIR "libpq.so.5", &len);
	uint64_t finish, query;
	int k;

	(void)state;
	assert_int_equal(inspect(img, len, &info), 0);
	assert_inside(&info, len);
	finish = info.offset[TLS_SYM_PQ_FINISH];
	query = info.offset[TLS_SYM_PQ_SEND_QUERY];
	assert_memory_equal(img + finish, test_je, sizeof(test_je));
	assert_memory_equal(img + query, mov_jmp, sizeof(mov_jmp));
	assert_site(&info, TLS_SYM_PQ_FINISH, TLS_SITE_INSIDE, finish + 3, true);
	assert_site(&info, TLS_SYM_PQ_SEND_QUERY, TLS_SITE_INSIDE, query + 5, true);
	for (k = TLS_SYM_PQ_SEND_QUERY_PARAMS; k < TLS_SYM_PQ_FINISH; k++) {
		assert_true(hand_push(img, len, info.offset[k]));
		assert_site(&info, k, TLS_SITE_ENTRY, info.offset[k], true);
	}
	free(img);
}

/* ---- what is not an ELF file, or only part of one ---- */

UNIT_TEST(test_garbage)
{
	static const char text[] = "not an elf";
	struct tls_elf_info info;
	uint8_t img[4096], junk[8192];
	uint32_t x = 12345;
	size_t i;
	int err;

	(void)state;
	assert_int_equal(inspect((const uint8_t *)text, sizeof(text) - 1, &info), -EINVAL);
	assert_int_equal(info.lib, TLS_LIB_NONE);
	assert_int_equal(inspect((const uint8_t *)"", 0, &info), -EINVAL);

	/* the same random bytes every run: a failure here can be replayed */
	for (i = 0; i < sizeof(junk); i++) {
		x = x * 1103515245 + 12345;
		junk[i] = (uint8_t)(x >> 16);
	}
	assert_int_equal(inspect(junk, sizeof(junk), &info), -EINVAL);

	/* ELF's magic in front of random bytes, and a good header in front of random tables */
	memcpy(junk, ELFMAG "\x02\x01\x01", 7);
	err = inspect(junk, sizeof(junk), &info);
	assert_true(err == 0 || err == -EINVAL);
	assert_inside(&info, sizeof(junk));
	syn_elf(img, sizeof(img), &(struct syn_opts){ openssl_syms, 7 });
	memcpy(junk, img, sizeof(Elf64_Ehdr));
	err = inspect(junk, sizeof(junk), &info);
	assert_true(err == 0 || err == -EINVAL);
	assert_inside(&info, sizeof(junk));

	/* an ELF header cut short: in the identification, mid-way, just complete */
	assert_int_equal(inspect(img, 10, &info), -EINVAL);
	assert_int_equal(inspect(img, 52, &info), -EINVAL);
	err = inspect(img, 64, &info);
	assert_true(err == 0 || err == -EINVAL);
	assert_inside(&info, 64);
	assert_int_equal(info.lib, TLS_LIB_NONE);
}

/* What a file being written (or cut by a full disk) looks like. */
UNIT_TEST(test_libssl_truncated)
{
	static const size_t heads[] = { 10, 52, 64, 4096 };
	struct tls_elf_info info;
	size_t len, i;
	uint8_t *img = SLURP_OR_SKIP(LIBDIR "libssl.so.3", &len);
	int err;

	(void)state;
	for (i = 0; i < sizeof(heads) / sizeof(heads[0]); i++) {
		err = inspect(img, heads[i], &info);
		assert_true(err == 0 || err == -EINVAL);
		assert_inside(&info, heads[i]);
	}
	err = inspect(img, len / 2, &info);
	assert_true(err == 0 || err == -EINVAL);
	assert_inside(&info, len / 2);
	/* all but the last byte: the section headers at the end are cut */
	err = inspect(img, len - 1, &info);
	assert_true(err == 0 || err == -EINVAL);
	assert_inside(&info, len - 1);
	free(img);
}

UNIT_MAIN(NULL, NULL)
