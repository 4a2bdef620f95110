// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
#include "process/gotrace.h"

#include <errno.h>
#include <gelf.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "process/elfsyms.h"

static const char *const hook_syms[GO_HOOK__COUNT] = {
	[GO_HOOK_SPAWN] = "runtime.newproc1",
	[GO_HOOK_HTTP_CALL] = "net/http.(*persistConn).roundTrip",
	[GO_HOOK_TLS_WRITE] = "crypto/tls.(*Conn).Write",
	[GO_HOOK_TLS_READ] = "crypto/tls.(*Conn).Read",
	[GO_HOOK_TLS_COPY] = "crypto/tls.(*Conn).Read's copy",
	[GO_HOOK_PANIC] = "runtime.gopanic",
	[GO_HOOK_RECOVERY] = "runtime.recovery",
	[GO_HOOK_FATAL] = "runtime.fatalpanic",
};

/* The registers each entry hook reads: R14 (the running g) and its arguments. */
static const uint32_t hook_needs[GO_HOOK__COUNT] = {
	[GO_HOOK_HTTP_CALL] = X86_REG(X86_R14) | X86_REG(X86_RAX),
	/* the *Conn, the slice's pointer and length */
	[GO_HOOK_TLS_WRITE] = X86_REG(X86_R14) | X86_REG(X86_RAX) | X86_REG(X86_RBX) |
			      X86_REG(X86_RCX),
	[GO_HOOK_TLS_READ] = X86_REG(X86_R14) | X86_REG(X86_RAX),
	/* the value (type and data words), the stack as the panicking function left it */
	[GO_HOOK_PANIC] = X86_REG(X86_R14) | X86_REG(X86_RAX) | X86_REG(X86_RBX) |
			  X86_REG(X86_RSP) | X86_REG(X86_RBP),
	[GO_HOOK_RECOVERY] = X86_REG(X86_RAX),
	[GO_HOOK_FATAL] = X86_REG(X86_R14),
};

const char *go_hook_symbol(enum go_hook h)
{
	return h < GO_HOOK__COUNT ? hook_syms[h] : "?";
}

bool go_version_regabi(const char *version)
{
	unsigned int major, minor;

	if (sscanf(version, "go%u.%u", &major, &minor) != 2)
		return false;
	return major > 1 || (major == 1 && minor >= 17);
}

/*
 * `go` statements whose goroutines never work for a request of their own, by the function
 * they are in (a prefix): not probed, since they run per request or per connection in every
 * server and a uprobe hit costs microseconds. A spawn there leaves the new goroutine without a
 * spawner, which is right for all of them.
 */
static const struct {
	const char *prefix, *why;
} stmt_skips[] = {
	{ "runtime.", "the runtime's own goroutines" },
	{ "net/http.(*connReader).startBackgroundRead",
	  "a server connection's background read, per request" },
	{ "net/http.(*Server).Serve", "a server connection's goroutine: each request it reads is "
				      "a root" },
	{ "net/http.(*Transport).", "the HTTP client's connection goroutines: each call is "
				    "followed at persistConn.roundTrip" },
	{ "net/http.(*persistConn).", "the HTTP client's connection goroutines: each call is "
				      "followed at persistConn.roundTrip" },
	{ "net/http.setRequestCancel", "a cancellation watcher" },
	{ "context.", "a cancellation watcher" },
	{ "github.com/jackc/pgconn/internal/ctxwatch.", "pgx's cancellation watcher, per query" },
	{ "net.", "name resolution and dialing" },
	{ "internal/singleflight.", "name resolution" },
};

const char *go_stmt_skip(const char *fn)
{
	size_t i;

	for (i = 0; i < sizeof(stmt_skips) / sizeof(stmt_skips[0]); i++) {
		size_t n = strlen(stmt_skips[i].prefix);

		/* a package's own functions only: "net." is not "net.example.com/app.f" */
		if (!strncmp(fn, stmt_skips[i].prefix, n) && !strchr(fn + n, '/'))
			return stmt_skips[i].why;
	}
	return NULL;
}

struct sym_scan {
	uint64_t vaddr[GO_HOOK__COUNT], size[GO_HOOK__COUNT];
	uint64_t newproc, sched, tcpconn_itab, tlsconn_itab, memmove;
	/* candidate calls of runtime.newproc found in the bytes, sorted */
	uint64_t *cand;
	size_t ncand;
	const struct x86_code *code;
	struct go_trace_info *out;
	size_t cap;
	bool full;
};

static bool hook_symbol(void *ctx, const char *name, const GElf_Sym *sym, bool dynamic)
{
	struct sym_scan *sc = ctx;
	int h;

	(void)dynamic;
	if (!strcmp(name, "runtime.sched") && GELF_ST_TYPE(sym->st_info) == STT_OBJECT)
		sc->sched = sym->st_value;
	/* "go:itab." from Go 1.20 on */
	if (!strncmp(name, "go.itab.", 8) || !strncmp(name, "go:itab.", 8)) {
		if (!strcmp(name + 8, "*net.TCPConn,net.Conn"))
			sc->tcpconn_itab = sym->st_value;
		else if (!strcmp(name + 8, "*crypto/tls.Conn,net.Conn"))
			sc->tlsconn_itab = sym->st_value;
	}
	if (GELF_ST_TYPE(sym->st_info) != STT_FUNC || !sym->st_value)
		return true;
	if (!strcmp(name, "runtime.newproc"))
		sc->newproc = sym->st_value;
	if (!strcmp(name, "runtime.memmove"))
		sc->memmove = sym->st_value;
	for (h = 0; h < GO_HOOK__COUNT; h++)
		if (!strcmp(name, hook_syms[h])) {
			sc->vaddr[h] = sym->st_value;
			sc->size[h] = sym->st_size;
		}
	return true;
}

static int cmp_u64(const void *a, const void *b)
{
	uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;

	return x < y ? -1 : x > y;
}

/* Every e8 rel32 in the code whose target is runtime.newproc: a superset of its calls (the
 * byte may sit inside another instruction), cheap to find; decoding confirms them. */
static int find_candidates(struct sym_scan *sc)
{
	const struct x86_code *c = sc->code;
	size_t r, i, cap = 0;

	for (r = 0; r < c->nrange; r++) {
		const uint8_t *b = c->buf + c->range[r].offset;
		uint64_t v = c->range[r].vaddr;

		for (i = 0; i + 5 <= c->range[r].size; i++) {
			int32_t rel;

			if (b[i] != 0xe8)
				continue;
			memcpy(&rel, b + i + 1, sizeof(rel));
			if (v + i + 5 + (uint64_t)(int64_t)rel != sc->newproc)
				continue;
			if (sc->ncand == cap) {
				uint64_t *n;

				cap = cap ? 2 * cap : 64;
				n = realloc(sc->cand, cap * sizeof(*n));
				if (!n)
					return -ENOMEM;
				sc->cand = n;
			}
			sc->cand[sc->ncand++] = v + i;
		}
	}
	if (sc->ncand)
		qsort(sc->cand, sc->ncand, sizeof(*sc->cand), cmp_u64);
	return 0;
}

/* Whether a candidate lies in [lo, hi). */
static bool has_candidate(const struct sym_scan *sc, uint64_t lo, uint64_t hi)
{
	size_t a = 0, b = sc->ncand;

	while (a < b) {
		size_t m = a + (b - a) / 2;

		if (sc->cand[m] < lo)
			a = m + 1;
		else
			b = m;
	}
	return a < sc->ncand && sc->cand[a] < hi;
}

/* The `go` statements of one function that has candidates: decoded from its entry. */
static bool stmt_symbol(void *ctx, const char *name, const GElf_Sym *sym, bool dynamic)
{
	struct sym_scan *sc = ctx;
	struct go_trace_info *out = sc->out;
	struct x86_site sites[16];
	int n, i;

	(void)dynamic;
	if (GELF_ST_TYPE(sym->st_info) != STT_FUNC || !sym->st_value || !sym->st_size ||
	    !has_candidate(sc, sym->st_value, sym->st_value + sym->st_size))
		return true;
	n = x86_calls_to(sc->code, sym->st_value, sym->st_size, sc->newproc, sites,
			 sizeof(sites) / sizeof(sites[0]));
	if (n > (int)(sizeof(sites) / sizeof(sites[0]))) {
		sc->full = true; /* more than a function should have: not this way */
		return false;
	}
	for (i = 0; i < n; i++) {
		struct go_stmt *st;

		if (out->nstmt == sc->cap) {
			size_t cap = sc->cap ? 2 * sc->cap : 32;

			st = realloc(out->stmt, cap * sizeof(*st));
			if (!st) {
				sc->full = true;
				return false;
			}
			out->stmt = st;
			sc->cap = cap;
		}
		st = &out->stmt[out->nstmt++];
		st->site = sites[i];
		snprintf(st->fn, sizeof(st->fn), "%s", name);
		st->skip = go_stmt_skip(name);
		if (!st->skip && ++out->nprobed > GO_MAX_STMTS) {
			sc->full = true;
			return false;
		}
	}
	return true;
}

/* The `go` statements, when the build lets a spawn be followed there: else by_stmt stays
 * false, stmt_why says why, and runtime.newproc1 serves. */
static void find_stmts(Elf *e, struct sym_scan *sc, const struct x86_code *code,
		       struct go_trace_info *out)
{
	sc->code = code;
	sc->out = out;
	if (!out->off.gopc)
		snprintf(out->stmt_why, sizeof(out->stmt_why),
			 "its runtime keeps no goid cache in runtime.p");
	else if (!sc->newproc || !sc->sched)
		snprintf(out->stmt_why, sizeof(out->stmt_why),
			 "no runtime.newproc or runtime.sched in its symbol table");
	else if (find_candidates(sc) || elfsyms_each(e, false, stmt_symbol, sc) <= 0 || sc->full)
		snprintf(out->stmt_why, sizeof(out->stmt_why),
			 out->nprobed > GO_MAX_STMTS ? "more than %d `go` statements to probe"
						     : "its `go` statements could not be listed",
			 GO_MAX_STMTS);
	else
		out->by_stmt = true;
	if (out->by_stmt) {
		out->goidgen = sc->sched + out->off.goidgen;
	} else {
		free(out->stmt);
		out->stmt = NULL;
		out->nstmt = out->nprobed = 0;
	}
	free(sc->cand);
	sc->cand = NULL;
}

void go_trace_info_release(struct go_trace_info *info)
{
	free(info->stmt);
	info->stmt = NULL;
	info->nstmt = info->nprobed = 0;
}

/* Whether Go's own TLS is read in this binary: all of its sites, or why not. */
static void tls_verdict(struct go_trace_info *out, const struct sym_scan *sc)
{
	const char *why = NULL;
	int h;

	if (!sc->vaddr[GO_HOOK_TLS_WRITE] || !sc->vaddr[GO_HOOK_TLS_READ])
		why = "it does not use crypto/tls";
	else if (out->hook[GO_HOOK_TLS_WRITE].no_socket)
		why = "where crypto/tls.Conn keeps its socket is not in its DWARF and symbols";
	else
		for (h = GO_HOOK_TLS_WRITE; h <= GO_HOOK_TLS_COPY && !why; h++)
			if (!out->hook[h].found)
				why = h == GO_HOOK_TLS_COPY
					      ? "crypto/tls.(*Conn).Read has not one emulated call of "
						"runtime.memmove"
					      : "no emulated instruction serves at an entry";
	out->tls = !why;
	if (why)
		snprintf(out->tls_why, sizeof(out->tls_why), "%s", why);
}

/* Each hook's site (only Go's TLS hooks when tls_only): on an emulated instruction only, never
 * where a probe would cost a single step per call. */
static void place_hooks(struct sym_scan *sc, const struct x86_code *code, bool tls_only,
			struct go_trace_info *out)
{
	int h;

	for (h = 0; h < GO_HOOK__COUNT; h++) {
		struct go_hook_site *hs = &out->hook[h];
		bool tls = go_hook_tls(h);
		enum go_hook fn = h == GO_HOOK_TLS_COPY ? GO_HOOK_TLS_READ : (enum go_hook)h;

		if (!sc->vaddr[fn] || (h == GO_HOOK_SPAWN && out->by_stmt) || (tls_only && !tls))
			continue;
		/* a bare build has no itab to check a connection's type by: the socket under it
		 * must then be one obsprobe follows in that process */
		if ((h == GO_HOOK_HTTP_CALL && (!out->off.http_conn || !sc->tcpconn_itab)) ||
		    (tls && (!out->off.tls_conn || (!sc->tcpconn_itab && !tls_only)))) {
			hs->no_socket = true;
			continue;
		}
		if (h == GO_HOOK_SPAWN)
			hs->found = !x86_store_site(code, sc->vaddr[h], sc->size[h], out->off.goid,
						    &hs->site, &hs->reg);
		else if (h == GO_HOOK_TLS_COPY)
			/* the one copy of the plaintext into the caller's buffer: two would be
			 * a Read this code does not know */
			hs->found = sc->memmove &&
				    x86_calls_to(code, sc->vaddr[fn], sc->size[fn], sc->memmove,
						 &hs->site, 1) == 1 &&
				    hs->site.emulated;
		else
			/* fatalpanic runs once in a process's life: any instruction serves */
			hs->found = !x86_entry_site(code, sc->vaddr[h], hook_needs[h], &hs->site) &&
				    (hs->site.emulated || h == GO_HOOK_FATAL);
	}
	tls_verdict(out, sc);
}

static void find_sites(Elf *e, void *buf, size_t len, unsigned int emulates,
		       struct go_trace_info *out)
{
	struct sym_scan sc = { .cand = NULL };
	struct x86_code code;

	if (elfsyms_each(e, false, hook_symbol, &sc) <= 0) {
		out->err = -ENOENT;
		snprintf(out->why, sizeof(out->why), "%s: the binary is stripped (no symbol table)",
			 out->version);
		return;
	}
	if (x86_code_from_elf(e, buf, len, &code))
		return;
	code.emulates = emulates;
	out->tcpconn_itab = sc.tcpconn_itab;
	out->tlsconn_itab = out->off.tls_conn ? sc.tlsconn_itab : 0;
	find_stmts(e, &sc, &code, out);
	place_hooks(&sc, &code, false, out);
}

/*
 * Go's TLS in a build without DWARF or symbols (-ldflags='-s -w'): the functions from the
 * runtime's own table (.gopclntab), and the three offsets from the layout every Go release
 * since 1.9 has had, which no DWARF is left to read: crypto/tls.Conn begins with its net.Conn,
 * net.TCPConn (and UnixConn) with conn{fd *netFD}, and netFD with poll.FD, whose Sysfd follows
 * its 16-byte fdMutex. Goroutines are not followed there (runtime.g's offsets change).
 */
static void find_bare_tls(Elf *e, void *buf, size_t len, unsigned int emulates,
			  struct go_trace_info *out)
{
	static const char *const names[] = { "crypto/tls.(*Conn).Write", "crypto/tls.(*Conn).Read",
					     "runtime.memmove" };
	uint64_t vaddr[3], size[3];
	struct sym_scan sc = { .cand = NULL };
	struct x86_code code;

	if (go_pclntab_funcs(e, names, 3, vaddr, size)) {
		snprintf(out->tls_why, sizeof(out->tls_why), "%s (and no Go 1.18+ function table)",
			 out->why);
		return;
	}
	if (x86_code_from_elf(e, buf, len, &code)) {
		snprintf(out->tls_why, sizeof(out->tls_why), "its code could not be read");
		return;
	}
	code.emulates = emulates;
	sc.vaddr[GO_HOOK_TLS_WRITE] = vaddr[0];
	sc.size[GO_HOOK_TLS_WRITE] = size[0];
	sc.vaddr[GO_HOOK_TLS_READ] = vaddr[1];
	sc.size[GO_HOOK_TLS_READ] = size[1];
	sc.memmove = vaddr[2];
	out->off.tls_conn = true;
	out->off.tlsconn_conn = 0;
	out->off.tcpconn_fd = 0;
	out->off.netfd_sysfd = 16;
	out->tls_bare = true;
	place_hooks(&sc, &code, true, out);
}

int go_trace_inspect(void *buf, size_t len, unsigned int emulates, struct go_trace_info *out)
{
	GElf_Ehdr eh;
	Elf *e;
	int err;

	memset(out, 0, sizeof(*out));
	if (!elfsyms_init())
		return -EINVAL;
	e = elf_memory(buf, len);
	if (!e)
		return -EINVAL;
	if (elf_kind(e) != ELF_K_ELF || !gelf_getehdr(e, &eh)) {
		elf_end(e);
		return -EINVAL;
	}
	err = go_elf_g_offsets(e, &out->off, out->version, sizeof(out->version), out->why,
			       sizeof(out->why));
	out->is_go = err != -ENOEXEC;
	out->err = err == -ENOEXEC ? 0 : err;
	if (out->is_go && !out->err &&
	    (eh.e_machine != EM_X86_64 || !go_version_regabi(out->version))) {
		out->err = -ENOTSUP;
		snprintf(out->why, sizeof(out->why),
			 "%s: goroutines are followed on amd64 builds of Go 1.17 and later only",
			 out->version[0] ? out->version : "unknown Go version");
	}
	if (out->is_go && !out->err)
		find_sites(e, buf, len, emulates, out);
	/* stripped of DWARF or symbols: Go's TLS can still be read */
	if (out->is_go && out->err && eh.e_machine == EM_X86_64 && go_version_regabi(out->version))
		find_bare_tls(e, buf, len, emulates, out);
	elf_end(e);
	return 0;
}
