// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
#include "probes/libpq.h"

#include <bpf/libbpf.h>
#include <errno.h>
#include <string.h>

#include "libpq.skel.h"
#include "probes/probe.h"
#include "probes/proc.h"
#include "probes/uprobes.h"
#include "util/log.h"

static const struct probe_load_opts libpq_load = { "libpq", "the libpq uprobes", false };

struct libpq_bpf *libpq_probe_start(struct proc_bpf *owner)
{
	return PROBE_OPEN_LOAD(libpq_bpf, &libpq_load, proc_probe_object(owner), 0);
}

void libpq_probe_destroy(struct libpq_bpf *skel)
{
	libpq_bpf__destroy(skel);
}

void libpq_probe_file(struct libpq_bpf *s, struct uprobe_links *links, struct uprobe_file *f,
		      const char *path, const char *name, uint32_t pid,
		      const struct tls_elf_info *info)
{
	const struct uprobe_hook hooks[] = {
		{ TLS_SYM_PQ_SEND_QUERY, s->progs.pq_send_query, NULL },
		{ TLS_SYM_PQ_SEND_QUERY_PARAMS, s->progs.pq_send_query_params, NULL },
		{ TLS_SYM_PQ_SEND_PREPARE, s->progs.pq_send_prepare, NULL },
		{ TLS_SYM_PQ_SEND_QUERY_PREPARED, s->progs.pq_send_query_prepared, NULL },
		{ TLS_SYM_PQ_CONNECT_START, s->progs.pq_connect_start, NULL },
		{ TLS_SYM_PQ_CONNECT_START_PARAMS, s->progs.pq_connect_start_params, NULL },
		{ TLS_SYM_PQ_FINISH, s->progs.pq_finish, NULL },
	};
	char hooked[256];

	if (!uprobes_attach(links, f, path, name, info, hooks, sizeof(hooks) / sizeof(hooks[0]),
			    hooked, sizeof(hooked)))
		log_warn("libpq: could not probe %s (pid %u): its queries are seen on the wire "
			 "only",
			 name, pid);
	else
		log_info("libpq: probing %s (build-id %s, for pid %u): %s", name,
			 info->build_id[0] ? info->build_id : "none", pid, hooked);
}
