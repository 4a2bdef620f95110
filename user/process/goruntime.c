// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/*
 * runtime.NumGoroutine() is gcount() (runtime/proc.go):
 *
 *	n := int32(allglen) - sched.gFree.n - int32(sched.ngsys)   // Go 1.19
 *	for _, pp := range allp { n -= pp.gFree.n }
 *	if n < 1 { n = 1 }
 *
 * Later releases made ngsys an atomic.Int32 (its int32 is the member "value") and, by Go 1.26,
 * dropped the counters n for sizes kept in the free lists: sched.gFree.stack.size +
 * sched.gFree.noStack.size, pp.gFree.size (p.gFree is a plain gList there). Both layouts are
 * found by DWARF member name. gcount reads these without a lock and so do we: a reading is as
 * consistent as the runtime's own.
 */
#include "process/goruntime.h"

#include <dwarf.h>
#include <elfutils/libdw.h>
#include <errno.h>
#include <fcntl.h>
#include <gelf.h>
#include <limits.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <sys/uio.h>
#include <unistd.h>

#include "process/elfsyms.h"
#include "process/procfs.h"

/* Go's own DWARF attribute (cmd/internal/dwarf): set on embedded struct fields */
#define DW_AT_go_embedded_field 0x2903

#define GO_CACHE_SIZE 128
/* schedt is ~6 KiB and p ~9 KiB in Go 1.19: an offset beyond this is not the runtime's */
#define GO_MAX_OFFSET (1u << 20)
/* Ps whose counters are read per pair of process_vm_readv calls (IOV_MAX is 1024) */
#define GO_BATCH 256
#define GO_WHY_MAX 160

static const char go_magic[14] = "\xff Go buildinf:";

/* What one executable tells: where the counters are, or why they cannot be read. */
struct go_layout {
	int err; /* 0, or what go_proc_open returns for this executable */
	char why[GO_WHY_MAX];
	char version[GO_VERSION_MAX];
	uint8_t ptr_size;
	bool pie;
	uint64_t load_vaddr, load_off; /* the first PT_LOAD */
	uint64_t allglen, allp, sched; /* link-time addresses */
	uint32_t sched_free[2];	       /* offsets in schedt of int32 free-G counts */
	int nsched_free;
	uint32_t ngsys;	 /* offset in schedt */
	uint32_t p_free; /* offset in p of its int32 free-G count */
};

struct go_cache_entry {
	bool used;
	dev_t dev;
	ino_t ino;
	off_t size;
	struct timespec mtime;
	struct go_layout l;
};

struct go_cache {
	struct go_cache_entry e[GO_CACHE_SIZE];
	unsigned int next; /* replaced next when full: oldest first */
};

struct go_proc {
	uint32_t pid;
	uint64_t bias; /* run-time address - link-time address */
	struct go_layout l;
};

static uint64_t load_uint(const uint8_t *p, unsigned int size, bool big_endian)
{
	uint64_t v = 0;
	unsigned int i;

	for (i = 0; i < size; i++)
		v = v << 8 | p[big_endian ? i : size - 1 - i];
	return v;
}

/* encoding/binary.Uvarint: bytes used, 0 when truncated or overlong */
static size_t uvarint(const uint8_t *p, size_t len, uint64_t *v)
{
	uint64_t x = 0;
	size_t i;

	for (i = 0; i < len && i < 10; i++) {
		if (p[i] < 0x80) {
			if (i == 9 && p[i] > 1)
				return 0;
			*v = x | (uint64_t)p[i] << (7 * i);
			return i + 1;
		}
		x |= (uint64_t)(p[i] & 0x7f) << (7 * i);
	}
	return 0;
}

/* The version goes into log lines and labels: printable ASCII only. */
static int copy_version(char *dst, const uint8_t *src, uint64_t len)
{
	uint64_t i;

	dst[0] = '\0';
	if (!len)
		return -EINVAL;
	for (i = 0; i < len; i++)
		if (src[i] < 0x20 || src[i] > 0x7e)
			return -EINVAL;
	if (len > GO_VERSION_MAX - 1)
		len = GO_VERSION_MAX - 1;
	memcpy(dst, src, len);
	dst[len] = '\0';
	return 0;
}

int go_buildinfo_parse(const void *buf, size_t len, struct go_buildinfo *bi)
{
	const uint8_t *p = buf;
	uint64_t n;
	size_t used;

	memset(bi, 0, sizeof(*bi));
	if (!p || len < sizeof(go_magic) || memcmp(p, go_magic, sizeof(go_magic)))
		return -ENOEXEC;
	/* both forms have a 32-byte header (debug/buildinfo's buildInfoHeaderSize) */
	if (len < 32)
		return -EINVAL;
	bi->ptr_size = p[14];
	bi->big_endian = p[15] & 1;
	if (bi->ptr_size != 4 && bi->ptr_size != 8)
		return -EINVAL;
	if (!(p[15] & 2)) {
		bi->version_addr = load_uint(p + 16, bi->ptr_size, bi->big_endian);
		return bi->version_addr ? 0 : -EINVAL;
	}
	used = uvarint(p + 32, len - 32, &n);
	if (!used || n > len - 32 - used)
		return -EINVAL;
	return copy_version(bi->version, p + 32 + used, n);
}

/* Before Go 1.18 the build info points at runtime.buildVersion, a string header. */
static void version_from_pointer(Elf *elf, const struct go_buildinfo *bi, char *version)
{
	unsigned int ps = bi->ptr_size;
	uint8_t hdr[16], s[GO_VERSION_MAX - 1];
	uint64_t len;

	if (elfsyms_read_vaddr(elf, bi->version_addr, hdr, 2 * ps))
		return;
	len = load_uint(hdr + ps, ps, bi->big_endian);
	if (len > sizeof(s))
		len = sizeof(s);
	if (!elfsyms_read_vaddr(elf, load_uint(hdr, ps, bi->big_endian), s, len))
		copy_version(version, s, len);
}

static Elf_Scn *find_section(Elf *elf, const char *name)
{
	Elf_Scn *scn = NULL;
	size_t shstrndx;

	if (elf_getshdrstrndx(elf, &shstrndx))
		return NULL;
	while ((scn = elf_nextscn(elf, scn))) {
		GElf_Shdr sh;
		const char *n;

		if (gelf_getshdr(scn, &sh) && (n = elf_strptr(elf, shstrndx, sh.sh_name)) &&
		    !strcmp(n, name))
			return scn;
	}
	return NULL;
}

static uint32_t le32(const uint8_t *p)
{
	return (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 | (uint32_t)p[3] << 24;
}

static uint64_t le64(const uint8_t *p)
{
	return (uint64_t)le32(p) | (uint64_t)le32(p + 4) << 32;
}

/*
 * The runtime's own function table (.gopclntab, which stripping keeps: the runtime needs it
 * for stack traces), Go 1.18 on, 64-bit little endian: a header (magic, pad, pad, minLC,
 * ptrSize, then nfunc, nfiles, textStart, and the offsets of funcnametab, cutab, filetab,
 * pctab and pclntab), then at pclntab nfunc + 1 pairs {entry offset from textStart, offset of
 * the function's _func}, each _func beginning {entryOff, nameOff into funcnametab}.
 */
int go_pclntab_parse(const uint8_t *b, size_t len, const char *const names[], size_t n,
		     uint64_t vaddr[], uint64_t size[])
{
	uint64_t nfunc, text, names_off, pcln_off, i;
	uint32_t magic;
	size_t k, found = 0;

	memset(vaddr, 0, n * sizeof(*vaddr));
	memset(size, 0, n * sizeof(*size));
	if (!b || len < 72)
		return -ENOENT;
	magic = le32(b);
	if ((magic != 0xfffffff0 && magic != 0xfffffff1) || b[4] || b[5] || b[7] != 8)
		return -ENOENT; /* before Go 1.18, or 32-bit, or not a table */
	nfunc = le64(b + 8);
	text = le64(b + 24);
	names_off = le64(b + 32);
	pcln_off = le64(b + 64);
	if (names_off >= len || pcln_off >= len || nfunc >= len || (len - pcln_off) / 8 < nfunc + 1)
		return -ENOENT;
	for (i = 0; i < nfunc && found < n; i++) {
		const uint8_t *ft = b + pcln_off + 8 * i;
		uint64_t entry = le32(ft), next = le32(ft + 8), fo = le32(ft + 4), name;
		const char *nm;

		if (fo > len - pcln_off || len - pcln_off - fo < 8)
			continue;
		name = names_off + le32(b + pcln_off + fo + 4);
		if (name >= len || !memchr(b + name, '\0', len - name))
			continue;
		nm = (const char *)b + name;
		for (k = 0; k < n; k++)
			/* (0 marks "not found": no function is at address 0) */
			if (!vaddr[k] && !strcmp(nm, names[k]) && next > entry && text + entry) {
				vaddr[k] = text + entry;
				size[k] = next - entry;
				found++;
			}
	}
	return 0;
}

int go_pclntab_funcs(Elf *elf, const char *const names[], size_t n, uint64_t vaddr[],
		     uint64_t size[])
{
	Elf_Scn *scn = find_section(elf, ".gopclntab");
	Elf_Data *d = scn ? elf_getdata(scn, NULL) : NULL;

	return go_pclntab_parse(d ? d->d_buf : NULL, d ? d->d_size : 0, names, n, vaddr, size);
}

/* Fills version and the first PT_LOAD; -ENOEXEC unless this is a Go executable. */
static int read_elf_header(Elf *elf, struct go_layout *l)
{
	Elf_Scn *scn;
	GElf_Ehdr eh;
	size_t nph, i;
	bool have_load = false;

	if (elf_kind(elf) != ELF_K_ELF || !gelf_getehdr(elf, &eh) ||
	    (eh.e_type != ET_EXEC && eh.e_type != ET_DYN))
		return -ENOEXEC;
	l->ptr_size = eh.e_ident[EI_CLASS] == ELFCLASS64 ? 8 : 4;
	l->pie = eh.e_type == ET_DYN;

	scn = find_section(elf, ".go.buildinfo");
	if (scn) {
		Elf_Data *d = elf_getdata(scn, NULL);
		struct go_buildinfo bi;

		if (d && d->d_buf && !go_buildinfo_parse(d->d_buf, d->d_size, &bi)) {
			memcpy(l->version, bi.version, sizeof(l->version));
			if (bi.version_addr)
				version_from_pointer(elf, &bi, l->version);
		}
	} else if (!find_section(elf, ".note.go.buildid")) {
		return -ENOEXEC;
	}

	if (elf_getphdrnum(elf, &nph))
		return -ENOEXEC;
	for (i = 0; i < nph; i++) {
		GElf_Phdr ph;

		if (!gelf_getphdr(elf, i, &ph) || ph.p_type != PT_LOAD)
			continue;
		if (!have_load || ph.p_vaddr < l->load_vaddr) {
			l->load_vaddr = ph.p_vaddr;
			l->load_off = ph.p_offset;
			have_load = true;
		}
	}
	return have_load ? 0 : -ENOEXEC;
}

struct go_syms {
	struct go_layout *l;
	uint64_t sched_size;
};

static bool go_symbol(void *ctx, const char *name, const GElf_Sym *sym, bool dynamic)
{
	struct go_syms *gs = ctx;
	struct go_layout *l = gs->l;
	uint64_t ps = l->ptr_size;

	(void)dynamic;
	if (strncmp(name, "runtime.", 8))
		return true;
	name += 8;
	/* the sizes tell these are the variables gcount reads */
	if (!strcmp(name, "allglen") && sym->st_size == ps)
		l->allglen = sym->st_value;
	else if (!strcmp(name, "allp") && sym->st_size == 3 * ps)
		l->allp = sym->st_value;
	else if (!strcmp(name, "sched") && sym->st_size) {
		l->sched = sym->st_value;
		gs->sched_size = sym->st_size;
	}
	return true;
}

static int find_symbols(Elf *elf, struct go_layout *l, uint64_t *sched_size)
{
	struct go_syms gs = { .l = l };

	if (elfsyms_each(elf, false, go_symbol, &gs) == 0) {
		snprintf(l->why, sizeof(l->why), "the binary is stripped (no symbol table)");
		return -ENOENT;
	}
	if (!l->allglen || !l->allp || !l->sched) {
		snprintf(l->why, sizeof(l->why),
			 "no runtime.allglen, runtime.allp or runtime.sched in its symbol "
			 "table (unsupported Go runtime)");
		return -ENOTSUP;
	}
	*sched_size = gs.sched_size;
	return 0;
}

/* The type of a DIE, typedefs peeled ("runtime.p" is a typedef of the struct "runtime.p"). */
static bool die_type(Dwarf_Die *die, Dwarf_Die *type)
{
	Dwarf_Attribute a;
	int i;

	if (!dwarf_attr(die, DW_AT_type, &a) || !dwarf_formref_die(&a, type))
		return false;
	for (i = 0; i < 8 && dwarf_tag(type) == DW_TAG_typedef; i++)
		if (!dwarf_attr(type, DW_AT_type, &a) || !dwarf_formref_die(&a, type))
			return false;
	return dwarf_tag(type) != DW_TAG_typedef;
}

static bool member_at(Dwarf_Die *m, uint64_t *off, Dwarf_Die *type)
{
	Dwarf_Attribute a;
	Dwarf_Word w;

	if (!dwarf_attr(m, DW_AT_data_member_location, &a) || dwarf_formudata(&a, &w) ||
	    w > GO_MAX_OFFSET)
		return false;
	*off += w;
	return die_type(m, type);
}

static bool is_embedded(Dwarf_Die *m)
{
	Dwarf_Attribute a;
	Dwarf_Word w;
	bool flag;

	if (!dwarf_attr(m, DW_AT_go_embedded_field, &a))
		return false;
	if (!dwarf_formflag(&a, &flag))
		return flag;
	return !dwarf_formudata(&a, &w) && w;
}

/*
 * Finds field name[0..len) of struct st as a Go selector does: a member of its own, else one
 * promoted from an embedded field (p.gFree is struct { gList; n int32 }, and where gList
 * carries the size, p.gFree.size is p.gFree.gList.size). Adds the field's offset to *off and
 * returns its type in *type.
 */
static bool struct_field(Dwarf_Die *st, const char *name, size_t len, int depth, uint64_t *off,
			 Dwarf_Die *type)
{
	Dwarf_Die m;

	if (depth > 4 || dwarf_tag(st) != DW_TAG_structure_type || dwarf_child(st, &m))
		return false;
	do {
		const char *n = dwarf_diename(&m);

		if (dwarf_tag(&m) == DW_TAG_member && n && strlen(n) == len &&
		    !memcmp(n, name, len))
			return member_at(&m, off, type);
	} while (dwarf_siblingof(&m, &m) == 0);

	if (dwarf_child(st, &m))
		return false;
	do {
		uint64_t eoff = 0;
		Dwarf_Die et;

		if (dwarf_tag(&m) == DW_TAG_member && is_embedded(&m) &&
		    member_at(&m, &eoff, &et) &&
		    struct_field(&et, name, len, depth + 1, &eoff, type)) {
			*off += eoff;
			return true;
		}
	} while (dwarf_siblingof(&m, &m) == 0);
	return false;
}

/* The field at path ("gFree.n": a selector per struct on the way) of struct st: its offset
 * added to *off, its type in *type. */
static bool path_at(Dwarf_Die *st, const char *path, uint64_t *off, Dwarf_Die *type)
{
	Dwarf_Die cur = *st, t;
	const char *p = path;

	while (*p) {
		const char *dot = strchrnul(p, '.');

		if (!struct_field(&cur, p, dot - p, 0, off, &t))
			return false;
		cur = t;
		p = *dot ? dot + 1 : dot;
	}
	*type = cur;
	return p != path;
}

/* Offset of the int32 at path ("gFree.n") in struct st. An atomic.Int32/Uint32 (newer Go)
 * stands for its member "value". */
static bool int32_at(Dwarf_Die *st, const char *path, uint32_t *out)
{
	Dwarf_Die cur, t;
	uint64_t off = 0;
	Dwarf_Word size;

	if (!path_at(st, path, &off, &cur))
		return false;
	if (dwarf_tag(&cur) == DW_TAG_structure_type) {
		if (!struct_field(&cur, "value", 5, 0, &off, &t))
			return false;
		cur = t;
	}
	if (dwarf_tag(&cur) != DW_TAG_base_type || dwarf_aggregate_size(&cur, &size) || size != 4 ||
	    off > GO_MAX_OFFSET)
		return false;
	*out = off;
	return true;
}

/* Go puts type DIEs at the top level of its compile units (all in "runtime" for 1.19): the
 * structs named names[0..n) into dies[]; true when all were found. */
/* Which of the structs names[0..n) the DWARF has (bit i: names[i], its DIE in dies[i]). */
static unsigned int find_some_types(Dwarf *dw, const char *const names[], Dwarf_Die dies[],
				    size_t n)
{
	size_t found = 0, i;
	bool have[4] = { false };
	unsigned int mask = 0;
	Dwarf_CU *cu = NULL;
	Dwarf_Die cudie, d;

	if (n > sizeof(have) / sizeof(have[0]))
		return 0;
	while (found < n && dwarf_get_units(dw, cu, &cu, NULL, NULL, &cudie, NULL) == 0) {
		if (dwarf_child(&cudie, &d))
			continue;
		do {
			const char *nm;

			if (dwarf_tag(&d) != DW_TAG_structure_type || !(nm = dwarf_diename(&d)))
				continue;
			for (i = 0; i < n; i++)
				if (!have[i] && !strcmp(nm, names[i])) {
					dies[i] = d;
					have[i] = true;
					found++;
				}
		} while (found < n && dwarf_siblingof(&d, &d) == 0);
	}
	for (i = 0; i < n; i++)
		mask |= have[i] ? 1u << i : 0;
	return mask;
}

static bool find_types(Dwarf *dw, const char *const names[], Dwarf_Die dies[], size_t n)
{
	return find_some_types(dw, names, dies, n) == (1u << n) - 1;
}

static int find_offsets(Elf *elf, struct go_layout *l, uint64_t sched_size)
{
	static const char *const names[] = { "runtime.schedt", "runtime.p" };
	Dwarf_Die types[2], schedt, p;
	Dwarf *dw;
	int err = -ENOTSUP;
	unsigned int i;

	/* libdw inflates both kinds of compressed DWARF Go writes: SHF_COMPRESSED .debug_*
	 * sections (Go 1.19) and the older .zdebug_* */
	dw = dwarf_begin_elf(elf, DWARF_C_READ, NULL);
	if (!dw) {
		if (!find_section(elf, ".debug_info") && !find_section(elf, ".zdebug_info"))
			snprintf(l->why, sizeof(l->why),
				 "the binary has no DWARF debug info (linked with -ldflags=-w)");
		else
			snprintf(l->why, sizeof(l->why), "cannot read its DWARF: %s",
				 dwarf_errmsg(-1));
		return -ENOENT;
	}
	if (!find_types(dw, names, types, 2)) {
		snprintf(l->why, sizeof(l->why),
			 "no runtime.schedt or runtime.p type in its DWARF (unsupported Go "
			 "runtime)");
		goto out;
	}
	schedt = types[0];
	p = types[1];
	if (int32_at(&schedt, "gFree.n", &l->sched_free[0])) {
		l->nsched_free = 1;
	} else if (int32_at(&schedt, "gFree.stack.size", &l->sched_free[0]) &&
		   int32_at(&schedt, "gFree.noStack.size", &l->sched_free[1])) {
		l->nsched_free = 2;
	} else {
		snprintf(l->why, sizeof(l->why),
			 "runtime.schedt has no int32 gFree.n or gFree.stack.size (unsupported Go "
			 "runtime)");
		goto out;
	}
	if (!int32_at(&schedt, "ngsys", &l->ngsys)) {
		snprintf(l->why, sizeof(l->why),
			 "runtime.schedt has no int32 ngsys (unsupported Go runtime)");
		goto out;
	}
	if (!int32_at(&p, "gFree.n", &l->p_free) && !int32_at(&p, "gFree.size", &l->p_free)) {
		snprintf(l->why, sizeof(l->why),
			 "runtime.p has no int32 gFree.n or gFree.size (unsupported Go runtime)");
		goto out;
	}
	for (i = 0; i < (unsigned int)l->nsched_free; i++)
		if (l->sched_free[i] + 4 > sched_size)
			break;
	if (i < (unsigned int)l->nsched_free || l->ngsys + 4 > sched_size) {
		snprintf(l->why, sizeof(l->why),
			 "runtime.schedt offsets beyond the runtime.sched symbol (%llu bytes)",
			 (unsigned long long)sched_size);
		goto out;
	}
	err = 0;
out:
	dwarf_end(dw);
	return err;
}

/* Offset of the 8-byte member at path of struct st: an int64, a pointer, or an atomic.Uint64
 * (Go 1.20 on: a struct whose only 8 bytes are the value). */
static bool word_at(Dwarf_Die *st, const char *path, uint32_t *out)
{
	uint64_t off = 0;
	Dwarf_Word size;
	Dwarf_Die t;
	int tag;

	if (!path_at(st, path, &off, &t))
		return false;
	tag = dwarf_tag(&t);
	if ((tag != DW_TAG_pointer_type &&
	     ((tag != DW_TAG_base_type && tag != DW_TAG_structure_type) ||
	      dwarf_aggregate_size(&t, &size) || size != 8)) ||
	    off > GO_MAX_OFFSET)
		return false;
	*out = off;
	return true;
}

/* Offset of the interface value at path of struct st (two words: type, data). */
static bool iface_at(Dwarf_Die *st, const char *path, uint32_t *out)
{
	uint64_t off = 0;
	Dwarf_Word size;
	Dwarf_Die t;

	if (!path_at(st, path, &off, &t) || dwarf_tag(&t) != DW_TAG_structure_type ||
	    dwarf_aggregate_size(&t, &size) || size != 16 || off > GO_MAX_OFFSET)
		return false;
	*out = off;
	return true;
}

/*
 * Where the sockets under connections are: a client call's, persistConn.conn, is a net.Conn
 * (type word, data word) whose data, for TCP, is a *net.TCPConn: conn.fd -> netFD.pfd.Sysfd;
 * Go's own TLS's, crypto/tls.Conn.conn, the net.Conn it encrypts for. One walk of the DWARF
 * finds all four structs.
 */
static void conn_offsets(Dwarf *dw, struct go_g_offsets *out)
{
	static const char *const names[] = { "net.TCPConn", "net.netFD", "net/http.persistConn",
					     "crypto/tls.Conn" };
	Dwarf_Die types[4];
	unsigned int have = find_some_types(dw, names, types, 4);
	bool sock = (have & 3) == 3 && word_at(&types[0], "conn.fd", &out->tcpconn_fd) &&
		    word_at(&types[1], "pfd.Sysfd", &out->netfd_sysfd);

	out->http_conn = sock && (have & 4) && iface_at(&types[2], "conn", &out->pconn_conn);
	out->tls_conn = sock && (have & 8) && iface_at(&types[3], "conn", &out->tlsconn_conn);
}

int go_elf_g_offsets(Elf *elf, struct go_g_offsets *out, char *version, size_t versionlen,
		     char *why, size_t whylen)
{
	static const char *const names[] = { "runtime.g", "runtime.m", "runtime.p",
					     "runtime.schedt" };
	struct go_layout l = { 0 };
	Dwarf_Die types[4];
	Dwarf *dw;
	int err;

	err = read_elf_header(elf, &l);
	if (err)
		return err;
	snprintf(version, versionlen, "%s", l.version);
	dw = dwarf_begin_elf(elf, DWARF_C_READ, NULL);
	if (!dw) {
		snprintf(why, whylen, "%s has no DWARF debug info (linked with -ldflags=-w)",
			 l.version[0] ? l.version : "the Go binary");
		return -ENOENT;
	}
	err = -ENOTSUP;
	memset(out, 0, sizeof(*out));
	if (!find_types(dw, names, types, 4) || !word_at(&types[0], "goid", &out->goid) ||
	    !word_at(&types[0], "m", &out->m) || !word_at(&types[1], "curg", &out->curg)) {
		snprintf(why, whylen, "%s: no runtime.g goid and m or runtime.m curg in its DWARF",
			 l.version[0] ? l.version : "unknown Go version");
	} else {
		err = 0;
		if (!word_at(&types[0], "gopc", &out->gopc) || !word_at(&types[1], "p", &out->p) ||
		    !word_at(&types[2], "goidcache", &out->goidcache) ||
		    !word_at(&types[2], "goidcacheend", &out->goidcacheend) ||
		    !word_at(&types[3], "goidgen", &out->goidgen))
			out->gopc = 0; /* followed at runtime.newproc1 */
		conn_offsets(dw, out);
	}
	dwarf_end(dw);
	return err;
}

static void parse_layout(int fd, struct go_layout *l)
{
	uint64_t sched_size = 0;
	Elf *elf;

	memset(l, 0, sizeof(*l));
	l->err = -ENOEXEC;
	if (!elfsyms_init())
		return;
	elf = elf_begin(fd, ELF_C_READ_MMAP, NULL);
	if (!elf)
		return;
	l->err = read_elf_header(elf, l);
	if (!l->err)
		l->err = find_symbols(elf, l, &sched_size);
	if (!l->err)
		l->err = find_offsets(elf, l, sched_size);
	elf_end(elf);
}

struct go_cache *go_cache_new(void)
{
	return calloc(1, sizeof(struct go_cache));
}

void go_cache_free(struct go_cache *c)
{
	free(c);
}

static bool entry_is(const struct go_cache_entry *e, const struct stat *st)
{
	return e->used && e->dev == st->st_dev && e->ino == st->st_ino && e->size == st->st_size &&
	       e->mtime.tv_sec == st->st_mtim.tv_sec && e->mtime.tv_nsec == st->st_mtim.tv_nsec;
}

static const struct go_layout *layout_get(struct go_cache *c, int fd, const struct stat *st,
					  struct go_layout *scratch)
{
	struct go_cache_entry *e;
	unsigned int i;

	if (!c) {
		parse_layout(fd, scratch);
		return scratch;
	}
	for (i = 0; i < GO_CACHE_SIZE; i++)
		if (entry_is(&c->e[i], st))
			return &c->e[i].l;
	e = &c->e[c->next];
	c->next = (c->next + 1) % GO_CACHE_SIZE;
	parse_layout(fd, &e->l);
	e->used = true;
	e->dev = st->st_dev;
	e->ino = st->st_ino;
	e->size = st->st_size;
	e->mtime = st->st_mtim;
	return &e->l;
}

__attribute__((format(printf, 6, 7))) static void set_msg(char *msg, size_t msglen, uint32_t pid,
							  const char *exe, const char *version,
							  const char *fmt, ...)
{
	va_list ap;
	int n;

	if (!msg || !msglen)
		return;
	n = snprintf(msg, msglen, "go_goroutine_count unavailable for pid %u (%s%s%s): ", pid,
		     exe[0] ? exe : "?", version[0] ? ", " : "", version);
	if (n < 0 || (size_t)n >= msglen)
		return;
	va_start(ap, fmt);
	vsnprintf(msg + n, msglen - n, fmt, ap);
	va_end(ap);
}

/*
 * A PIE is mapped at a random base: find the mapping of the executable's first PT_LOAD in
 * /proc/PID/maps, by device and inode or else by path (overlayfs and btrfs may show another
 * device or inode there than stat() does).
 */
static int find_bias(struct go_proc *g, const char *exe, const struct stat *st)
{
	uint64_t page = (uint64_t)sysconf(_SC_PAGESIZE);
	uint64_t want_off = g->l.load_off & ~(page - 1);
	char path[32], *line = NULL;
	size_t cap = 0;
	int err = -ENOENT;
	FILE *f;

	if (!g->l.pie) {
		g->bias = 0;
		return 0;
	}
	snprintf(path, sizeof(path), "/proc/%u/maps", g->pid);
	f = fopen(path, "re");
	if (!f)
		return errno == ENOENT ? -ESRCH : -errno;
	while (getline(&line, &cap, f) > 0) {
		struct maps_entry m;

		if (maps_parse_line(line, &m) || m.offset != want_off || !m.path[0])
			continue;
		if ((m.inode == st->st_ino && m.dev_major == major(st->st_dev) &&
		     m.dev_minor == minor(st->st_dev)) ||
		    (exe[0] && !strcmp(m.path, exe))) {
			g->bias = m.start - (g->l.load_vaddr & ~(page - 1));
			err = 0;
			break;
		}
	}
	free(line);
	fclose(f);
	return err;
}

int go_proc_open(struct go_cache *cache, uint32_t pid, struct go_proc **out, char *msg,
		 size_t msglen)
{
	char link[32], exe[PATH_MAX] = "";
	const struct go_layout *l;
	struct go_layout *scratch;
	struct go_proc *g = NULL;
	struct stat st;
	ssize_t n;
	int fd, err;

	*out = NULL;
	if (msg && msglen)
		msg[0] = '\0';
	snprintf(link, sizeof(link), "/proc/%u/exe", pid);
	n = readlink(link, exe, sizeof(exe) - 1);
	exe[n > 0 ? n : 0] = '\0';
	fd = open(link, O_RDONLY | O_CLOEXEC);
	if (fd < 0) {
		err = -errno;
		if (err == -ENOENT) {
			/* a kernel thread has no executable; an exited process no /proc entry */
			snprintf(link, sizeof(link), "/proc/%u", pid);
			err = access(link, F_OK) ? -ESRCH : -ENOEXEC;
		}
		if (err != -ENOEXEC)
			set_msg(msg, msglen, pid, exe, "", "cannot open its executable: %s",
				strerror(-err));
		return err;
	}
	/* without a cache, the layout is parsed into memory of our own */
	scratch = cache ? NULL : malloc(sizeof(*scratch));
	err = fstat(fd, &st) ? -errno : !cache && !scratch ? -ENOMEM : 0;
	if (err) {
		close(fd);
		set_msg(msg, msglen, pid, exe, "", "%s", strerror(-err));
		goto out;
	}
	l = layout_get(cache, fd, &st, scratch);
	close(fd);
	err = l->err;
	if (err) {
		if (err != -ENOEXEC)
			set_msg(msg, msglen, pid, exe, l->version, "%s", l->why);
		goto out;
	}
	g = calloc(1, sizeof(*g));
	if (!g) {
		err = -ENOMEM;
		set_msg(msg, msglen, pid, exe, l->version, "out of memory");
		goto out;
	}
	g->pid = pid;
	g->l = *l;
	err = find_bias(g, exe, &st);
	if (err) {
		set_msg(msg, msglen, pid, exe, l->version,
			"its executable's mapping is not in /proc/%u/maps", pid);
		free(g);
		goto out;
	}
	*out = g;
out:
	free(scratch);
	return err;
}

static uint64_t load_ptr(const uint8_t *p, unsigned int size)
{
	uint32_t v32;
	uint64_t v64;

	if (size == 4) {
		memcpy(&v32, p, 4);
		return v32;
	}
	memcpy(&v64, p, 8);
	return v64;
}

static void *remote(uint64_t addr)
{
	return (void *)(uintptr_t)addr;
}

/* One process_vm_readv that must read everything asked for. */
static int read_all(uint32_t pid, const struct iovec *loc, unsigned long nloc,
		    const struct iovec *rem, unsigned long nrem, size_t want)
{
	ssize_t n = process_vm_readv((pid_t)pid, loc, nloc, rem, nrem, 0);

	if (n < 0)
		return -errno;
	return (size_t)n == want ? 0 : -EFAULT;
}

int go_proc_goroutines(struct go_proc *g, int64_t *out)
{
	const struct go_layout *l = &g->l;
	unsigned int ps = l->ptr_size;
	uint64_t sched = l->sched + g->bias;
	uint8_t glen[8], slice[16], ptrs[GO_BATCH * 8];
	int32_t sfree[2], ngsys, pfree[GO_BATCH];
	struct iovec loc[5], rem[GO_BATCH];
	uint64_t allglen, allp, np, i, j, nb;
	size_t want;
	int64_t n;
	int k, err;

	loc[0] = (struct iovec){ glen, ps };
	rem[0] = (struct iovec){ remote(l->allglen + g->bias), ps };
	loc[1] = (struct iovec){ slice, 2 * ps }; /* ptr, len of the slice */
	rem[1] = (struct iovec){ remote(l->allp + g->bias), 2 * ps };
	loc[2] = (struct iovec){ &ngsys, 4 };
	rem[2] = (struct iovec){ remote(sched + l->ngsys), 4 };
	want = 3 * ps + 4;
	for (k = 0; k < l->nsched_free; k++) {
		loc[3 + k] = (struct iovec){ &sfree[k], 4 };
		rem[3 + k] = (struct iovec){ remote(sched + l->sched_free[k]), 4 };
		want += 4;
	}
	err = read_all(g->pid, loc, 3 + k, rem, 3 + k, want);
	if (err)
		return err;
	allglen = load_ptr(glen, ps);
	allp = load_ptr(slice, ps);
	np = load_ptr(slice + ps, ps);
	if (allglen > INT32_MAX || np > GO_MAX_PROCS || (np && !allp) || ngsys < 0 ||
	    ngsys > (int64_t)allglen)
		return -EIO;
	n = (int64_t)allglen - ngsys;
	for (k = 0; k < l->nsched_free; k++) {
		if (sfree[k] < 0 || sfree[k] > (int64_t)allglen)
			return -EIO;
		n -= sfree[k];
	}

	for (i = 0; i < np; i += nb) {
		nb = np - i < GO_BATCH ? np - i : GO_BATCH;
		loc[0] = (struct iovec){ ptrs, nb * ps };
		rem[0] = (struct iovec){ remote(allp + i * ps), nb * ps };
		err = read_all(g->pid, loc, 1, rem, 1, nb * ps);
		if (err)
			return err;
		for (j = 0; j < nb; j++) {
			uint64_t p = load_ptr(ptrs + j * ps, ps);

			if (!p || p + l->p_free < p)
				return -EIO;
			rem[j] = (struct iovec){ remote(p + l->p_free), 4 };
		}
		loc[0] = (struct iovec){ pfree, nb * 4 };
		err = read_all(g->pid, loc, 1, rem, nb, nb * 4);
		if (err)
			return err;
		for (j = 0; j < nb; j++) {
			if (pfree[j] < 0 || pfree[j] > (int64_t)allglen)
				return -EIO;
			n -= pfree[j];
		}
	}
	/* gcount's floor: the caller of NumGoroutine is running */
	*out = n < 1 ? 1 : n;
	return 0;
}

const char *go_proc_version(const struct go_proc *g)
{
	return g ? g->l.version : "";
}

void go_proc_free(struct go_proc *g)
{
	free(g);
}
