// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
#include "process/tlslib.h"

#include "obsprobe/tls.h"
#include "process/elfsyms.h"
#include "process/x86sites.h"
#include "util/pages.h"

#include <errno.h>
#include <stdio.h>
#include <string.h>

static const char *const sym_names[TLS_SYM__COUNT] = {
	[TLS_SYM_SSL_READ] = "SSL_read",
	[TLS_SYM_SSL_WRITE] = "SSL_write",
	[TLS_SYM_SSL_READ_EX] = "SSL_read_ex",
	[TLS_SYM_SSL_WRITE_EX] = "SSL_write_ex",
	[TLS_SYM_SSL_HANDSHAKE] = "SSL_do_handshake",
	[TLS_SYM_GNUTLS_RECV] = "gnutls_record_recv",
	[TLS_SYM_GNUTLS_SEND] = "gnutls_record_send",
	[TLS_SYM_GNUTLS_HANDSHAKE] = "gnutls_handshake",
	[TLS_SYM_PQ_SEND_QUERY] = "PQsendQuery",
	[TLS_SYM_PQ_SEND_QUERY_PARAMS] = "PQsendQueryParams",
	[TLS_SYM_PQ_SEND_PREPARE] = "PQsendPrepare",
	[TLS_SYM_PQ_SEND_QUERY_PREPARED] = "PQsendQueryPrepared",
	[TLS_SYM_PQ_CONNECT_START] = "PQconnectStart",
	[TLS_SYM_PQ_CONNECT_START_PARAMS] = "PQconnectStartParams",
	[TLS_SYM_PQ_FINISH] = "PQfinish",
};

const char *tls_sym_name(enum tls_sym s)
{
	return (unsigned)s < TLS_SYM__COUNT ? sym_names[s] : "?";
}

const char *tls_lib_name(enum tls_lib l)
{
	switch (l) {
	case TLS_LIB_OPENSSL:
		return "OpenSSL";
	case TLS_LIB_GNUTLS:
		return "GnuTLS";
	default:
		return "none";
	}
}

/* Names an application using a TLS library imports, or a TLS library exports. */
static bool tls_api_name(const char *n)
{
	return !strncmp(n, "SSL_", 4) || !strncmp(n, "OPENSSL_", 8) || !strncmp(n, "gnutls_", 7);
}

struct scan {
	Elf *elf;
	size_t len; /* of the image: an offset past it is a header that lies */
	struct tls_elf_info *out;
	bool mentions_tls; /* imports or exports part of a TLS API */
	uint64_t vaddr[TLS_SYM__COUNT], size[TLS_SYM__COUNT]; /* of each hooked function */
};

static bool scan_symbol(void *ctx, const char *name, const GElf_Sym *sym, bool dynamic)
{
	struct scan *sc = ctx;
	unsigned int type = GELF_ST_TYPE(sym->st_info);
	bool libpq = name[0] == 'P' && name[1] == 'Q'; /* looked up, but no sign of TLS */
	int k;

	(void)dynamic;
	if (!libpq && ((name[0] != 'S' && name[0] != 'g' && name[0] != 'O') || !tls_api_name(name)))
		return true;
	if (!libpq)
		sc->mentions_tls = true;
	if (sym->st_shndx == SHN_UNDEF || sym->st_value == 0 ||
	    (type != STT_FUNC && type != STT_GNU_IFUNC))
		return true;
	for (k = 0; k < TLS_SYM__COUNT; k++) {
		uint64_t off;

		if (!sc->out->offset[k] && !strcmp(name, sym_names[k]) &&
		    !elfsyms_vaddr_offset(sc->elf, sym->st_value, 1, &off) && off < sc->len) {
			sc->out->offset[k] = off;
			sc->vaddr[k] = sym->st_value;
			sc->size[k] = sym->st_size;
		}
	}
	return true;
}

#define SCAN_CHUNK (256u << 10)

/* libssl's own code carries its source file names (error records): ssl/ssl_lib.c and the
 * record layer's ssl/record/ files. Programs that only call OpenSSL, and libcrypto, carry neither.
 * (The version text is not a sign: a static link leaves it out unless OpenSSL_version() is
 * called.) */
static bool carries_openssl(const void *buf, size_t len, bool file_pages)
{
	static const char *const sign[] = { "ssl_lib.c", "ssl/record/" };
	const size_t overlap = 10; /* the longest sign but a byte: one across two chunks is seen */
	bool seen[2] = { false, false };
	size_t off, i;

	/* a chunk at a time: a file's pages read are given back as the scan goes (a stripped
	 * libcrypto is 4.5 MiB, all read here) */
	for (off = 0; off < len && !(seen[0] && seen[1]); off += SCAN_CHUNK) {
		const char *p = (const char *)buf + off;
		size_t n = len - off > SCAN_CHUNK + overlap ? SCAN_CHUNK + overlap : len - off;

		for (i = 0; i < 2; i++)
			seen[i] = seen[i] || memmem(p, n, sign[i], strlen(sign[i]));
		if (file_pages)
			pages_release(p, n < SCAN_CHUNK ? n : SCAN_CHUNK);
	}
	return seen[0] && seen[1];
}

#define RDI X86_REG(X86_RDI)
#define RSI X86_REG(X86_RSI)
#define RDX X86_REG(X86_RDX)
#define RCX X86_REG(X86_RCX)

/* The registers each entry-only hook reads (its BPF program's arguments); 0: the hook also
 * takes the return value, so its probe must be where a return probe can go. */
static const uint32_t reads_only[TLS_SYM__COUNT] = {
	[TLS_SYM_PQ_SEND_QUERY] = RDI | RSI,
	[TLS_SYM_PQ_SEND_QUERY_PARAMS] = RDI | RSI,
	[TLS_SYM_PQ_SEND_PREPARE] = RDI | RSI | RDX,
	[TLS_SYM_PQ_SEND_QUERY_PREPARED] = RDI | RSI,
	[TLS_SYM_PQ_CONNECT_START] = RDI,
	[TLS_SYM_PQ_CONNECT_START_PARAMS] = RDI | RSI,
	[TLS_SYM_PQ_FINISH] = RDI,
};

/* A site of kind at file offset off, on the decoded instruction x. */
static void set_site(struct tls_site *site, enum tls_site_kind kind, uint64_t off,
		     const struct x86_site *x)
{
	site->kind = kind;
	site->offset = off;
	site->emulated = x->emulated;
	snprintf(site->insn, sizeof(site->insn), "%s", x->insn);
}

/* The site of hook k at its entry, described. */
static void entry_site(const struct x86_code *code, const struct scan *sc, int k)
{
	struct tls_site *site = &sc->out->site[k];
	struct x86_site x;

	site->kind = TLS_SITE_ENTRY;
	site->offset = sc->out->offset[k];
	if (code && !x86_site_at(code, sc->vaddr[k], &x))
		set_site(site, TLS_SITE_ENTRY, site->offset, &x);
}

/* An entry-only hook: the first emulated instruction that sees its arguments. */
static void inside_site(const struct x86_code *code, const struct scan *sc, int k)
{
	struct tls_site *site = &sc->out->site[k];
	struct x86_site x;

	if (x86_entry_site(code, sc->vaddr[k], reads_only[k], &x) || x.offset >= sc->len)
		return;
	set_site(site, x.vaddr == sc->vaddr[k] ? TLS_SITE_ENTRY : TLS_SITE_INSIDE, x.offset, &x);
}

/*
 * OpenSSL's SSL_read/SSL_read_ex (and the write pair) on one worker, when the code shows it:
 * SSL_read_ex calls X first with its four arguments as it got them and no fifth (r8, r9
 * untouched), so X is a read with its contract (ssl, buf, num, size_t *count; > 0 on
 * success) whoever calls it; SSL_read calls X first with ssl and buf as it got them (its count
 * goes to *rcx, the contract's fourth argument) and no fifth argument either; X starts with an
 * instruction the kernel emulates. Other callers of X are reads too: OpenSSL's SSL BIO
 * (BIO_f_ssl, openssl s_server -WWW) reads through it without SSL_read, which a probe on
 * SSL_read never saw.
 */
static void worker_site(Elf *e, const struct x86_code *code, const struct scan *sc, int f, int f_ex)
{
	struct tls_elf_info *out = sc->out;
	const uint32_t args = RDI | RSI | RDX | RCX, more = X86_REG(X86_R8) | X86_REG(X86_R9);
	struct x86_call cf, ce;
	struct x86_site x;
	uint64_t off;

	if (!out->offset[f] || !out->offset[f_ex] ||
	    (out->site[f].emulated && out->site[f_ex].emulated))
		return; /* absent, or cheap where it is */
	if (x86_first_call(code, sc->vaddr[f], &cf) || x86_first_call(code, sc->vaddr[f_ex], &ce) ||
	    cf.tail || cf.target != ce.target || (cf.written & (RDI | RSI | more)) ||
	    (ce.written & (args | more)))
		return;
	if (x86_site_at(code, cf.target, &x) || !x.emulated ||
	    elfsyms_vaddr_offset(e, cf.target, 1, &off) || off >= sc->len)
		return;
	set_site(&out->site[f], TLS_SITE_WORKER, off, &x);
	snprintf(out->site[f].how, sizeof(out->site[f].how), "%s+%#llx and %s+%#llx call",
		 sym_names[f], (unsigned long long)(cf.at - sc->vaddr[f]), sym_names[f_ex],
		 (unsigned long long)(ce.at - sc->vaddr[f_ex]));
	/* the _ex twin's probe serves both: its entry program has the worker's contract */
	out->site[f_ex] = out->site[f];
	out->site[f].shared = true;
}

/* The function a PLT slot (GOT entry) is bound to when it is defined in this file: 0 and its
 * address and name, or -ENOENT. */
static int slot_function(Elf *e, uint64_t slot, uint64_t *addr, char *name, size_t len)
{
	Elf_Scn *scn = NULL;

	while ((scn = elf_nextscn(e, scn))) {
		Elf_Data *d, *symd;
		Elf_Scn *syms;
		GElf_Shdr sh, symsh;
		size_t k;

		if (!gelf_getshdr(scn, &sh) || sh.sh_type != SHT_RELA || !sh.sh_entsize ||
		    !(syms = elf_getscn(e, sh.sh_link)) || !gelf_getshdr(syms, &symsh) ||
		    !(d = elf_getdata(scn, NULL)) || !(symd = elf_getdata(syms, NULL)))
			continue;
		for (k = 0; k < sh.sh_size / sh.sh_entsize; k++) {
			GElf_Rela r;
			GElf_Sym sym;
			const char *n;

			if (!gelf_getrela(d, (int)k, &r) || r.r_offset != slot ||
			    (GELF_R_TYPE(r.r_info) != R_X86_64_JUMP_SLOT &&
			     GELF_R_TYPE(r.r_info) != R_X86_64_GLOB_DAT))
				continue;
			if (!gelf_getsym(symd, (int)GELF_R_SYM(r.r_info), &sym) ||
			    sym.st_shndx == SHN_UNDEF || !sym.st_value ||
			    GELF_ST_TYPE(sym.st_info) != STT_FUNC)
				return -ENOENT;
			n = elf_strptr(e, symsh.sh_link, sym.st_name);
			snprintf(name, len, "%s", n ? n : "?");
			*addr = sym.st_value;
			return 0;
		}
	}
	return -ENOENT;
}

/* The function a tail jump goes to, through its PLT entry when it is one of a function of this
 * same file (name: that function's, else ""): 0, or -ENOENT for a function of another file. */
static int jump_target(Elf *e, const struct x86_code *code, uint64_t *target, char *name,
		       size_t len)
{
	uint64_t slot;

	name[0] = '\0';
	if (!x86_plt_slot(code, *target, &slot) && slot_function(e, slot, target, name, len))
		return -ENOENT;
	return 0;
}

/*
 * Hook k on the function its code ends in a jump to: the jump is the first branch on its
 * straight path, nothing before it wrote the arguments (rdi, rsi) or moved the stack, so the
 * target gets them as the hook would have and returns straight to the caller. A jump to the
 * PLT entry of a function of this same file (gnutls_record_send to gnutls_record_send2) counts
 * as a jump to that function.
 */
static void tail_site(Elf *e, const struct x86_code *code, const struct scan *sc, int k)
{
	struct tls_site *site = &sc->out->site[k];
	uint64_t target, off;
	struct x86_call c;
	struct x86_site x;
	char name[64] = "";

	if (x86_first_call(code, sc->vaddr[k], &c) || !c.tail ||
	    (c.written & (RDI | RSI | X86_REG(X86_RSP))))
		return;
	target = c.target;
	if (jump_target(e, code, &target, name, sizeof(name)))
		return; /* a function of another file: not probed from here */
	if (x86_site_at(code, target, &x) || !x.emulated ||
	    elfsyms_vaddr_offset(e, target, 1, &off) || off >= sc->len)
		return;
	set_site(site, TLS_SITE_TAIL, off, &x);
	snprintf(site->how, sizeof(site->how), "%s+%#llx jumps to%s%s", sym_names[k],
		 (unsigned long long)(c.at - sc->vaddr[k]), name[0] ? " " : "", name);
}

/* Whether exit x passes gnutls_record_recv's arguments on as _gnutls_recv_int's, reading
 * application data, with the stack as the caller left it. */
static bool passes_recv(const struct x86_exit *x)
{
	const struct x86_val *r = x->reg;

	return x->sp_known && x->sp == 0 && r[X86_RDI].kind == X86_VAL_ARG &&
	       r[X86_RDI].reg == X86_RDI && r[X86_RDX].kind == X86_VAL_ARG &&
	       r[X86_RDX].reg == X86_RSI && r[X86_RCX].kind == X86_VAL_ARG &&
	       r[X86_RCX].reg == X86_RDX && r[X86_RSI].kind == X86_VAL_CONST &&
	       r[X86_RSI].imm == GNUTLS_APPLICATION_DATA;
}

/*
 * gnutls_record_recv on the internal receive it jumps to (TLS_SITE_RECV_INT): every jump out
 * of the function goes to one function, each with the arguments passes_recv() wants, and that
 * function starts with an emulated instruction.
 */
static void recv_int_site(Elf *e, const struct x86_code *code, const struct scan *sc, int k)
{
	struct tls_site *site = &sc->out->site[k];
	struct x86_exit x[8];
	struct x86_site at;
	uint64_t target = 0, off;
	char name[64] = "";
	int n, i;

	if (!sc->size[k])
		return;
	n = x86_tail_exits(code, sc->vaddr[k], sc->size[k], x, sizeof(x) / sizeof(x[0]));
	if (n <= 0)
		return;
	for (i = 0; i < n; i++) {
		uint64_t t = x[i].target;

		if (!passes_recv(&x[i]) || jump_target(e, code, &t, name, sizeof(name)) ||
		    (i && t != target))
			return;
		target = t;
	}
	if (x86_site_at(code, target, &at) || !at.emulated ||
	    elfsyms_vaddr_offset(e, target, 1, &off) || off >= sc->len)
		return;
	set_site(site, TLS_SITE_RECV_INT, off, &at);
	snprintf(site->how, sizeof(site->how), "%s+%#llx jumps to%s%s", sym_names[k],
		 (unsigned long long)(x[0].at - sc->vaddr[k]), name[0] ? " " : "", name);
}

/* Every hook's site. */
static void place(Elf *e, const GElf_Ehdr *eh, const void *buf, size_t len, unsigned int emulates,
		  struct scan *sc)
{
	struct x86_code code;
	bool x86 = eh->e_machine == EM_X86_64 && !x86_code_from_elf(e, buf, len, &code);
	int k;

	code.emulates = emulates;

	for (k = 0; k < TLS_SYM__COUNT; k++) {
		if (!sc->out->offset[k])
			continue;
		entry_site(x86 ? &code : NULL, sc, k);
		if (x86 && reads_only[k] && !sc->out->site[k].emulated)
			inside_site(&code, sc, k);
	}
	if (!x86)
		return;
	if (sc->out->lib == TLS_LIB_OPENSSL) {
		worker_site(e, &code, sc, TLS_SYM_SSL_READ, TLS_SYM_SSL_READ_EX);
		worker_site(e, &code, sc, TLS_SYM_SSL_WRITE, TLS_SYM_SSL_WRITE_EX);
	}
	for (k = 0; k < TLS_SYM_PQ_SEND_QUERY; k++)
		if (sc->out->offset[k] && sc->out->site[k].kind == TLS_SITE_ENTRY &&
		    !sc->out->site[k].emulated) {
			tail_site(e, &code, sc, k);
			if (k == TLS_SYM_GNUTLS_RECV && sc->out->site[k].kind == TLS_SITE_ENTRY)
				recv_int_site(e, &code, sc, k);
		}
}

static int inspect(void *buf, size_t len, unsigned int emulates, bool file_pages,
		   struct tls_elf_info *out)
{
	struct scan sc = { .out = out, .len = len };
	GElf_Ehdr eh;
	size_t i;
	Elf *e;
	int ret = -EINVAL;

	memset(out, 0, sizeof(*out));
	if (!elfsyms_init())
		return -EINVAL;
	e = elf_memory(buf, len);
	if (!e)
		return -EINVAL;
	if (elf_kind(e) != ELF_K_ELF || !gelf_getehdr(e, &eh) ||
	    (eh.e_type != ET_EXEC && eh.e_type != ET_DYN))
		goto out;
	sc.elf = e;
	out->has_symtab = elfsyms_each(e, true, scan_symbol, &sc) > 0;
	elfsyms_build_id(e, out->build_id);
	if (out->offset[TLS_SYM_SSL_READ] || out->offset[TLS_SYM_SSL_WRITE])
		out->lib = TLS_LIB_OPENSSL;
	else if (out->offset[TLS_SYM_GNUTLS_RECV] || out->offset[TLS_SYM_GNUTLS_SEND])
		out->lib = TLS_LIB_GNUTLS;
	/* only the library's own hooks: one that carries the other's names too (a compatibility
	 * layer) is hooked as what it is, one with no read or write not at all */
	for (i = 0; i < TLS_SYM_PQ_SEND_QUERY; i++)
		if (out->lib == TLS_LIB_NONE ||
		    (out->lib == TLS_LIB_OPENSSL) != (i <= TLS_SYM_SSL_HANDSHAKE))
			out->offset[i] = 0;
	/* libpq is hooked for its queries: without PQsendQuery (PQexec calls it) nothing is */
	out->libpq = out->offset[TLS_SYM_PQ_SEND_QUERY] != 0;
	for (i = TLS_SYM_PQ_SEND_QUERY; i < TLS_SYM__COUNT; i++)
		if (!out->libpq)
			out->offset[i] = 0;
	place(e, &eh, buf, len, emulates, &sc);
	if (out->lib == TLS_LIB_NONE && !out->has_symtab && !sc.mentions_tls)
		out->stripped_openssl = carries_openssl(buf, len, file_pages);
	ret = 0;
out:
	elf_end(e);
	return ret;
}

int tls_elf_inspect(void *buf, size_t len, unsigned int emulates, struct tls_elf_info *out)
{
	return inspect(buf, len, emulates, false, out);
}

int tls_elf_inspect_file(void *buf, size_t len, unsigned int emulates, struct tls_elf_info *out)
{
	return inspect(buf, len, emulates, true, out);
}
