// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
#include "probes/uprobes.h"

#include <bpf/libbpf.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "util/log.h"

static int keep_link(struct uprobe_links *l, struct bpf_link *link)
{
	if (l->n == l->cap) {
		size_t cap = l->cap ? 2 * l->cap : 32;
		struct bpf_link **n = realloc(l->links, cap * sizeof(*n));

		if (!n) {
			bpf_link__destroy(link);
			return -ENOMEM;
		}
		l->links = n;
		l->cap = cap;
	}
	l->links[l->n++] = link;
	return 0;
}

/* One uprobe (or return probe) of prog on the file at path: 0 or -errno. */
static int attach_one(struct uprobe_links *l, struct bpf_program *prog, const char *path,
		      uint64_t off, bool retprobe, uint64_t cookie)
{
	LIBBPF_OPTS(bpf_uprobe_opts, opts, .retprobe = retprobe, .bpf_cookie = cookie);
	struct bpf_link *link = bpf_program__attach_uprobe_opts(prog, -1, path, off, &opts);

	if (!link)
		return -errno;
	return keep_link(l, link);
}

int uprobes_attach_at(struct uprobe_links *l, struct bpf_program *prog, const char *path,
		      uint64_t off, uint64_t cookie)
{
	return attach_one(l, prog, path, off, false, cookie);
}

void uprobes_site_text(char *buf, size_t len, const char *name, const struct tls_elf_info *info,
		       enum tls_sym sym, bool ret)
{
	const struct tls_site *s = &info->site[sym];
	const char *rp = ret ? "; return probe there" : "";
	unsigned long long off = s->offset;
	char where[160];

	if (!s->insn[0]) {
		snprintf(buf, len,
			 "uprobe for %s in %s: at %#llx, the entry (not decoded on this "
			 "architecture)%s",
			 tls_sym_name(sym), name, off, rp);
		return;
	}
	if (s->kind == TLS_SITE_WORKER)
		snprintf(where, sizeof(where), "the start of the function %s with their arguments",
			 s->how);
	else if (s->kind == TLS_SITE_TAIL)
		snprintf(where, sizeof(where), "the start of the function %s with its arguments",
			 s->how);
	else if (s->kind == TLS_SITE_INSIDE)
		snprintf(where, sizeof(where),
			 "entry +%#llx, the arguments still in their registers",
			 off - (unsigned long long)info->offset[sym]);
	else
		snprintf(where, sizeof(where), "the entry%s",
			 s->emulated ? "" : ": no emulated instruction serves");
	snprintf(buf, len, "uprobe for %s in %s: %sat %#llx `%s` (%s), %s%s", tls_sym_name(sym),
		 name, s->shared ? "shared, " : "", off, s->insn,
		 s->emulated ? "emulated" : "single-stepped", where, rp);
}

void uprobes_failed(struct uprobe_links *l, const char *what, int err)
{
	size_t len = strlen(l->failures);

	l->failed++;
	if (len < sizeof(l->failures))
		snprintf(l->failures + len, sizeof(l->failures) - len, "%s: %s\n", what,
			 strerror(-err));
}

int uprobes_attach(struct uprobe_links *l, const char *path, const char *name,
		   const struct tls_elf_info *info, const struct uprobe_hook *hooks, size_t nhooks,
		   char *list, size_t listlen)
{
	size_t i, len = 0;
	int hooked = 0;

	list[0] = '\0';
	for (i = 0; i < nhooks; i++) {
		const struct tls_site *site = &info->site[hooks[i].sym];
		int err = 0;

		if (site->kind == TLS_SITE_NONE)
			continue;
		if (!site->shared) {
			err = attach_one(l, hooks[i].enter, path, site->offset, false, 0);
			if (!err && hooks[i].ret)
				err = attach_one(l, hooks[i].ret, path, site->offset, true, 0);
		}
		if (err) {
			char what[320];

			snprintf(what, sizeof(what), "%s in %s", tls_sym_name(hooks[i].sym), name);
			log_warn("cannot hook %s: %s", what, strerror(-err));
			uprobes_failed(l, what, err);
			continue;
		}
		if (log_get_level() >= LOG_INFO) {
			char text[512];

			uprobes_site_text(text, sizeof(text), name, info, hooks[i].sym,
					  hooks[i].ret != NULL);
			log_info("%s", text);
		}
		hooked++;
		len += (size_t)snprintf(list + len, listlen > len ? listlen - len : 0, "%s%s",
					len ? " " : "", tls_sym_name(hooks[i].sym));
	}
	return hooked;
}

static void *detach_all(void *arg)
{
	struct uprobe_links *l = arg;
	size_t i;

	for (i = 0; i < l->n; i++)
		bpf_link__destroy(l->links[i]);
	l->n = 0;
	return NULL;
}

void uprobes_detach_start(struct uprobe_links *l)
{
	if (l->detaching)
		return;
	l->detaching = pthread_create(&l->detacher, NULL, detach_all, l) == 0;
}

void uprobes_free(struct uprobe_links *l)
{
	if (l->detaching)
		pthread_join(l->detacher, NULL);
	else
		detach_all(l);
	l->detaching = false;
	free(l->links);
	l->links = NULL;
	l->cap = 0;
}
