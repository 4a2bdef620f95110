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
	[GO_HOOK_HTTP_WRITE] = "net/http.(*Request).write",
};

/* The registers each entry hook reads: R14 (the running g) and its arguments. */
static const uint32_t hook_needs[GO_HOOK__COUNT] = {
	[GO_HOOK_HTTP_CALL] = X86_REG(X86_R14) | X86_REG(X86_RBX),
	[GO_HOOK_HTTP_WRITE] = X86_REG(X86_R14) | X86_REG(X86_RAX),
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

struct sym_scan {
	uint64_t vaddr[GO_HOOK__COUNT], size[GO_HOOK__COUNT];
};

static bool hook_symbol(void *ctx, const char *name, const GElf_Sym *sym, bool dynamic)
{
	struct sym_scan *sc = ctx;
	int h;

	(void)dynamic;
	if (GELF_ST_TYPE(sym->st_info) != STT_FUNC || !sym->st_value)
		return true;
	for (h = 0; h < GO_HOOK__COUNT; h++)
		if (!strcmp(name, hook_syms[h])) {
			sc->vaddr[h] = sym->st_value;
			sc->size[h] = sym->st_size;
		}
	return true;
}

/* The sites: on an emulated instruction only, never where a probe would cost a single step
 * per call. */
static void find_sites(Elf *e, void *buf, size_t len, unsigned int emulates,
		       struct go_trace_info *out)
{
	struct sym_scan sc = { { 0 } };
	struct x86_code code;
	int h;

	if (elfsyms_each(e, false, hook_symbol, &sc) <= 0) {
		out->err = -ENOENT;
		snprintf(out->why, sizeof(out->why), "%s: the binary is stripped (no symbol table)",
			 out->version);
		return;
	}
	if (x86_code_from_elf(e, buf, len, &code))
		return;
	code.emulates = emulates;
	for (h = 0; h < GO_HOOK__COUNT; h++) {
		struct go_hook_site *hs = &out->hook[h];

		if (!sc.vaddr[h])
			continue;
		if (h == GO_HOOK_SPAWN)
			hs->found = !x86_store_site(&code, sc.vaddr[h], sc.size[h], out->off.goid,
						    &hs->site, &hs->reg);
		else
			hs->found = !x86_entry_site(&code, sc.vaddr[h], hook_needs[h], &hs->site) &&
				    hs->site.emulated;
	}
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
	elf_end(e);
	return 0;
}
