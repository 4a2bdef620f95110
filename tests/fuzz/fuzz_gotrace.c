// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/*
 * Input: one byte whose bit 0 says the kernel emulates `push` (X86_EMUL_PUSH, the only flag
 * there is; the other bits are ignored), then a whole executable (the target's to write),
 * copied into a buffer of exactly its size, so ASan sees any read past its end, and inspected
 * as goroutine tracking inspects a Go executable (go_trace_inspect: symbols, .gopclntab,
 * .go.buildinfo, the DWARF of runtime.g/m/p/schedt and of net's, net/http's and crypto/tls's
 * connections, then the code for each hook's site).
 * Besides the sanitizers (LeakSanitizer sees the `go` statements go_trace_info_release() does
 * not free), checks that:
 *   - the result is 0 or -EINVAL, and a non-Go file or no ELF image leaves *out all zero;
 *   - every string of *out is NUL-terminated inside its array, the version printable ASCII;
 *   - a Go file's err is 0, -ENOENT or -ENOTSUP, with why in words when it is not 0; err 0 only
 *     for a register-ABI version; every offset no larger than goruntime.c's bound;
 *   - a hook found is placed (not no_socket) on an emulated instruction (fatalpanic aside),
 *     inside an executable PT_LOAD at the file offset of its address, and no earlier than
 *     the entry of the function the code chose for it (the last symbol of that name, or the
 *     .gopclntab's); the two walks bounded by the function's size (newproc1's store and
 *     Read's copy) end inside [entry, entry + size), an entry site within X86_MAX_INSNS
 *     instructions of the entry (x86_entry_site() is given no size); a copy site is a call of
 *     runtime.memmove and a spawn site names a register other than rsp;
 *   - each `go` statement is a `call rel32` to runtime.newproc inside a function of its name,
 *     its skip is go_stmt_skip()'s, nprobed counts those not skipped and stays within
 *     GO_MAX_STMTS; none are kept when spawns are not followed by statement;
 *   - tls means its three sites were found and tls_why is empty; Go's TLS without DWARF or
 *     symbols has the fixed layout; a found HTTP call has its connection's offsets and itab.
 * tests/fuzz/corpus/fuzz_gotrace.py writes the seed corpus.
 */
#include <assert.h>
#include <errno.h>
#include <gelf.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "process/elfsyms.h"
#include "process/goruntime.h"
#include "process/gotrace.h"
#include "process/x86sites.h"

/* goruntime.c's GO_MAX_OFFSET: no member offset beyond it is taken for the runtime's */
#define MAX_OFFSET (1u << 20)
/* how far from its entry x86_entry_site() may go: X86_MAX_INSNS of at most 15 bytes */
#define MAX_ENTRY_WALK (X86_MAX_INSNS * 15)

/* What the code under test saw, read again from a copy of the image of our own. */
struct ref {
	Elf *e;
	const uint8_t *img; /* the image go_trace_inspect read (libelf may convert it in place) */
	size_t len;
	/* per hook's function: the last STT_FUNC symbol of its name, as gotrace.c takes it */
	uint64_t vaddr[GO_HOOK__COUNT], size[GO_HOOK__COUNT];
	uint64_t newproc, memmove;
	/* one `go` statement to look for among the symbols */
	const struct go_stmt *st;
	bool st_inside;
};

static bool ref_symbol(void *ctx, const char *name, const GElf_Sym *sym, bool dynamic)
{
	struct ref *r = ctx;
	int h;

	(void)dynamic;
	if (GELF_ST_TYPE(sym->st_info) != STT_FUNC || !sym->st_value)
		return true;
	if (!strcmp(name, "runtime.newproc"))
		r->newproc = sym->st_value;
	if (!strcmp(name, "runtime.memmove"))
		r->memmove = sym->st_value;
	for (h = 0; h < GO_HOOK__COUNT; h++)
		if (!strcmp(name, go_hook_symbol(h))) {
			r->vaddr[h] = sym->st_value;
			r->size[h] = sym->st_size;
		}
	return true;
}

static bool stmt_fn_symbol(void *ctx, const char *name, const GElf_Sym *sym, bool dynamic)
{
	struct ref *r = ctx;
	uint64_t at = r->st->site.vaddr;

	(void)dynamic;
	if (GELF_ST_TYPE(sym->st_info) == STT_FUNC && !strcmp(name, r->st->fn) &&
	    at >= sym->st_value && at - sym->st_value < sym->st_size)
		r->st_inside = true;
	return !r->st_inside;
}

static bool nul_terminated(const char *s, size_t n)
{
	return memchr(s, '\0', n) != NULL;
}

/* Whether the site lies in an executable PT_LOAD of the image, at its address's offset. */
static bool in_code(const struct ref *r, const struct x86_site *s)
{
	size_t nph, i;

	if (s->offset >= r->len || elf_getphdrnum(r->e, &nph))
		return false;
	for (i = 0; i < nph; i++) {
		GElf_Phdr ph;

		if (gelf_getphdr(r->e, (int)i, &ph) && ph.p_type == PT_LOAD &&
		    (ph.p_flags & PF_X) && s->vaddr >= ph.p_vaddr &&
		    s->vaddr - ph.p_vaddr < ph.p_filesz && s->offset >= ph.p_offset &&
		    s->vaddr - ph.p_vaddr == s->offset - ph.p_offset)
			return true;
	}
	return false;
}

/* Whether the 5 bytes at the site are a `call rel32` to target. */
static bool calls(const struct ref *r, const struct x86_site *s, uint64_t target)
{
	int32_t rel;

	if (s->offset > r->len || r->len - s->offset < 5 || r->img[s->offset] != 0xe8)
		return false;
	memcpy(&rel, r->img + s->offset + 1, sizeof(rel));
	return s->vaddr + 5 + (uint64_t)(int64_t)rel == target;
}

static void check_offsets(const struct go_g_offsets *o)
{
	const uint32_t all[] = { o->goid,	o->m,	       o->curg,		o->gopc,
				 o->p,		o->goidcache,  o->goidcacheend, o->goidgen,
				 o->pconn_conn, o->tcpconn_fd, o->netfd_sysfd,	o->tlsconn_conn };
	size_t i;

	for (i = 0; i < sizeof(all) / sizeof(all[0]); i++)
		assert(all[i] <= MAX_OFFSET);
}

static void check_hooks(struct ref *r, const struct go_trace_info *out)
{
	static const char *const bare[] = { "crypto/tls.(*Conn).Write", "crypto/tls.(*Conn).Read",
					    "runtime.memmove" };
	int h;

	if (out->tls_bare) {
		uint64_t va[3], sz[3];

		/* the functions came from the function table, not the symbols */
		memset(r->vaddr, 0, sizeof(r->vaddr));
		memset(r->size, 0, sizeof(r->size));
		assert(!go_pclntab_funcs(r->e, bare, 3, va, sz));
		r->vaddr[GO_HOOK_TLS_WRITE] = va[0];
		r->size[GO_HOOK_TLS_WRITE] = sz[0];
		r->vaddr[GO_HOOK_TLS_READ] = va[1];
		r->size[GO_HOOK_TLS_READ] = sz[1];
		r->memmove = va[2];
	}
	for (h = 0; h < GO_HOOK__COUNT; h++) {
		const struct go_hook_site *hs = &out->hook[h];
		int fn = h == GO_HOOK_TLS_COPY ? GO_HOOK_TLS_READ : h;
		uint64_t at = hs->site.vaddr, entry = r->vaddr[fn];

		assert(nul_terminated(hs->site.insn, sizeof(hs->site.insn)));
		if (!hs->found)
			continue;
		/* without DWARF or symbols, only Go's TLS is looked for */
		assert(!out->err || (out->tls_bare && go_hook_tls(h)));
		assert(!hs->no_socket && hs->site.insn[0]);
		assert(hs->site.emulated || h == GO_HOOK_FATAL);
		assert(in_code(r, &hs->site));
		assert(entry && at >= entry);
		switch (h) {
		case GO_HOOK_SPAWN:
			assert(at - entry < r->size[fn]);
			assert(hs->reg >= 0 && hs->reg < X86_GPR_COUNT && hs->reg != X86_RSP);
			assert(!out->by_stmt);
			break;
		case GO_HOOK_TLS_COPY:
			assert(at - entry < r->size[fn]);
			assert(r->memmove && calls(r, &hs->site, r->memmove));
			break;
		default:
			assert(at - entry < MAX_ENTRY_WALK);
		}
		if (h == GO_HOOK_HTTP_CALL)
			assert(out->off.http_conn && out->tcpconn_itab);
		if (go_hook_tls(h))
			assert(out->off.tls_conn);
	}
	if (out->tls) {
		assert(out->hook[GO_HOOK_TLS_WRITE].found && out->hook[GO_HOOK_TLS_READ].found &&
		       out->hook[GO_HOOK_TLS_COPY].found);
		assert(!out->tls_why[0]);
	}
	if (out->tls_bare)
		assert(out->err && out->off.tls_conn && out->off.netfd_sysfd == 16 &&
		       !out->off.tcpconn_fd && !out->off.tlsconn_conn);
	assert(!out->tlsconn_itab || out->off.tls_conn);
}

static void check_stmts(struct ref *r, const struct go_trace_info *out)
{
	size_t i, probed = 0;

	if (!out->by_stmt) {
		assert(!out->stmt && !out->nstmt && !out->nprobed);
		return;
	}
	assert(!out->err && out->off.gopc && out->stmt_why[0] == '\0');
	assert(out->nprobed <= out->nstmt && out->nprobed <= GO_MAX_STMTS);
	assert(!out->nstmt || out->stmt);
	for (i = 0; i < out->nstmt; i++) {
		const struct go_stmt *st = &out->stmt[i];

		assert(nul_terminated(st->fn, sizeof(st->fn)));
		assert(nul_terminated(st->site.insn, sizeof(st->site.insn)));
		assert(st->site.emulated && in_code(r, &st->site));
		assert(r->newproc && calls(r, &st->site, r->newproc));
		probed += !st->skip;
		/* a name cut to fit fn[] is not the symbol's any more */
		if (strlen(st->fn) + 1 < sizeof(st->fn)) {
			assert(st->skip == go_stmt_skip(st->fn));
			r->st = st;
			r->st_inside = false;
			elfsyms_each(r->e, false, stmt_fn_symbol, r);
			assert(r->st_inside);
		}
	}
	assert(probed == out->nprobed);
}

static void check(struct ref *r, int err, const struct go_trace_info *out)
{
	static const struct go_trace_info zero;
	const char *c;
	GElf_Ehdr eh;
	bool regabi;

	assert(err == 0 || err == -EINVAL);
	if (err || !out->is_go) {
		/* nothing is written for a file that is not a Go executable */
		assert(!memcmp(out, &zero, sizeof(zero)));
		return;
	}
	assert(nul_terminated(out->version, sizeof(out->version)));
	assert(nul_terminated(out->why, sizeof(out->why)));
	assert(nul_terminated(out->stmt_why, sizeof(out->stmt_why)));
	assert(nul_terminated(out->tls_why, sizeof(out->tls_why)));
	for (c = out->version; *c; c++)
		assert(*c >= 0x20 && *c <= 0x7e);
	assert(out->err == 0 || out->err == -ENOENT || out->err == -ENOTSUP);
	assert(gelf_getehdr(r->e, &eh));
	regabi = eh.e_machine == EM_X86_64 && go_version_regabi(out->version);
	if (out->err)
		assert(out->why[0]);
	else
		assert(regabi);
	/* an amd64 Go 1.17+ build without DWARF or symbols still has Go's TLS looked for */
	if (out->err && regabi)
		assert(out->tls || out->tls_why[0]);
	check_offsets(&out->off);
	elfsyms_each(r->e, false, ref_symbol, r);
	check_hooks(r, out);
	check_stmts(r, out);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct go_trace_info out;
	struct ref r = { .e = NULL };
	uint8_t *img, *mine;
	size_t len;
	int err;

	if (size < 1)
		return 0;
	len = size - 1;
	/* exactly len bytes each (malloc(0) too), so ASan sees a read past the end */
	img = malloc(len);
	mine = malloc(len);
	if (!img || !mine)
		goto out;
	memcpy(img, data + 1, len);
	memcpy(mine, data + 1, len);
	err = go_trace_inspect(img, len, data[0] & X86_EMUL_PUSH, &out);
	r.img = img;
	r.len = len;
	if (!err && out.is_go) {
		r.e = elf_memory((char *)mine, len);
		/* go_trace_inspect read this very image as an ELF file */
		assert(r.e);
	}
	check(&r, err, &out);
	go_trace_info_release(&out);
	elf_end(r.e);
out:
	free(img);
	free(mine);
	return 0;
}
