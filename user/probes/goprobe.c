// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
#include "probes/goprobe.h"

#include <bpf/bpf.h>
#include <bpf/libbpf.h>
#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include "go.skel.h"
#include "sock.skel.h"
#include "obsprobe/go.h"
#include "probes/kernel.h"
#include "probes/probe.h"
#include "probes/proc.h"
#include "probes/uprobes.h"
#include "process/gotrace.h"
#include "util/log.h"

#define MAX_EXE_BYTES (1ull << 31)

/* What one executable is, looked at once (the data of its record in links). */
struct go_file {
	bool is_go;
	struct go_proc_cfg cfg;
};

struct go_probe {
	struct go_bpf *skel;
	bool follow; /* follow goroutines (else: only tell Go programs apart) */
	bool tls;    /* read Go's own TLS plaintext */
	bool panics; /* report panics */
	/* the executables looked at, held by the watched processes that run them: a Go
	 * executable's uprobes go when the last of them does */
	struct uprobe_links links;
};

static const struct probe_load_opts go_load = { "go", "no hook (uprobes go on Go executables)",
						false };

/* The sock object's connections (Go's TLS probes look their socket up there) and TLS calls
 * in flight (declared by every object that sends data, used by none of ours). */
static int share_sock_maps(struct go_bpf *skel, const struct sock_bpf *sock)
{
	if (bpf_map__reuse_fd(skel->maps.conns, bpf_map__fd(sock->maps.conns)) ||
	    bpf_map__reuse_fd(skel->maps.tls_calls, bpf_map__fd(sock->maps.tls_calls))) {
		log_err("cannot share the connection maps with the go BPF object");
		return -ENOENT;
	}
	return 0;
}

struct go_probe *go_probe_start(struct proc_bpf *owner, struct sock_bpf *sock,
				uint32_t capture_bytes, bool follow, bool tls, bool panics)
{
	struct go_probe *gp = calloc(1, sizeof(*gp));

	if (!gp) {
		log_err("goroutines: out of memory");
		return NULL;
	}
	gp->skel = PROBE_OPEN_LOAD(go_bpf, &go_load, proc_probe_object(owner),
				   (skel->rodata->capture_bytes = capture_bytes,
				    skel->rodata->use_loop = probe_kernel()->has[KERNEL_BPF_LOOP],
				    share_sock_maps(skel, sock)));
	if (!gp->skel) {
		free(gp);
		return NULL;
	}
	gp->follow = follow;
	gp->tls = tls;
	gp->panics = panics;
	uprobes_init(&gp->links);
	return gp;
}

void go_probe_note(struct go_probe *gp, uint32_t pid)
{
	if (gp)
		uprobes_note(&gp->links, pid);
}

static int inspect_fd(int fd, const struct stat *st, struct go_trace_info *info)
{
	unsigned int emulates = probe_kernel()->has[KERNEL_UPROBE_PUSH] ? X86_EMUL_PUSH : 0;
	void *img;
	int err;

	if (!S_ISREG(st->st_mode) || st->st_size < 64 || (uint64_t)st->st_size > MAX_EXE_BYTES)
		return -EINVAL;
	/* private and writable: libelf may convert in place, and no byte reaches the file */
	img = mmap(NULL, (size_t)st->st_size, PROT_READ | PROT_WRITE, MAP_PRIVATE, fd, 0);
	if (img == MAP_FAILED)
		return -errno;
	err = go_trace_inspect(img, (size_t)st->st_size, emulates, info);
	munmap(img, (size_t)st->st_size);
	return err;
}

static void site_text(char *buf, size_t len, const char *name, const struct go_trace_info *info,
		      enum go_hook h)
{
	const struct go_hook_site *hs = &info->hook[h];

	if (!hs->found)
		snprintf(buf, len, "uprobe for %s in %s: none (%s)", go_hook_symbol(h), name,
			 hs->no_socket	    ? "where its connection keeps the socket is not in the "
					      "binary's DWARF and symbols"
			 : hs->site.insn[0] ? "no emulated instruction serves"
					    : "not in the binary");
	else
		snprintf(buf, len, "uprobe for %s in %s: at %#llx `%s` (%s)%s", go_hook_symbol(h),
			 name, (unsigned long long)hs->site.offset, hs->site.insn,
			 hs->site.emulated ? "emulated" : "single-stepped",
			 hs->site.stack_check ? ", the stack check: a hit that jumps to morestack "
						"is not counted (the function starts over)"
					      : "");
}

/* How spawns are followed in a binary: one line. */
static void stmts_text(char *buf, size_t len, const char *name, const struct go_trace_info *info)
{
	if (info->by_stmt)
		snprintf(buf, len,
			 "uprobes for `go` statements in %s: %zu, on their `call runtime.newproc` "
			 "(emulated); %zu more not followed (the runtime's, and ones that start no "
			 "request's work)",
			 name, info->nprobed, info->nstmt - info->nprobed);
	else
		snprintf(buf, len, "`go` statements in %s are followed at runtime.newproc1: %s",
			 name, info->stmt_why);
}

static void stmt_text(char *buf, size_t len, const char *name, const struct go_stmt *st)
{
	if (st->skip)
		snprintf(buf, len, "go statement in %s in %s: at %#llx, not followed (%s)", st->fn,
			 name, (unsigned long long)st->site.offset, st->skip);
	else
		snprintf(buf, len, "uprobe for the go statement in %s in %s: at %#llx `%s` (%s)",
			 st->fn, name, (unsigned long long)st->site.offset, st->site.insn,
			 st->site.emulated ? "emulated" : "single-stepped");
}

/* The uprobes of one Go executable, for every process of it. */
static void attach_file(struct go_probe *gp, struct uprobe_file *uf, int fd, const char *name,
			uint32_t pid, const struct go_trace_info *info)
{
	struct bpf_program *progs[GO_HOOK__COUNT] = {
		[GO_HOOK_SPAWN] = gp->skel->progs.go_spawn,
		[GO_HOOK_HTTP_CALL] = gp->skel->progs.go_http_call,
		[GO_HOOK_TLS_WRITE] = gp->skel->progs.go_tls_write,
		[GO_HOOK_TLS_READ] = gp->skel->progs.go_tls_read,
		[GO_HOOK_TLS_COPY] = gp->skel->progs.go_tls_copy,
		[GO_HOOK_PANIC] = gp->skel->progs.go_panic,
		[GO_HOOK_RECOVERY] = gp->skel->progs.go_panic_recovered,
		[GO_HOOK_FATAL] = gp->skel->progs.go_panic_fatal,
	};
	bool tls = gp->tls && info->tls, follow = gp->follow && !info->err;
	bool panics = gp->panics && !info->err;
	char path[64], text[320];
	int h, err;

	size_t i;

	snprintf(path, sizeof(path), "/proc/self/fd/%d", fd);
	for (i = 0; follow && i < info->nstmt; i++) {
		const struct go_stmt *st = &info->stmt[i];

		if (st->skip)
			continue;
		err = uprobes_attach_at(&gp->links, uf, gp->skel->progs.go_stmt, path,
					st->site.offset, st->site.vaddr);
		if (err) {
			snprintf(text, sizeof(text), "the go statement in %s in %s", st->fn, name);
			log_warn("goroutines: cannot place the uprobe for %s (pid %u): %s", text,
				 pid, strerror(-err));
			uprobes_failed(&gp->links, text, err);
		}
	}
	if (follow) {
		stmts_text(text, sizeof(text), name, info);
		log_info("goroutines: %s", text);
	}
	for (h = 0; h < GO_HOOK__COUNT; h++) {
		const struct go_hook_site *hs = &info->hook[h];

		if ((h == GO_HOOK_SPAWN && info->by_stmt) || (go_hook_tls(h)	 ? !tls
							      : go_hook_panic(h) ? !panics
										 : !follow))
			continue;
		site_text(text, sizeof(text), name, info, h);
		if (!hs->found) {
			log_info("goroutines: %s", text);
			continue;
		}
		err = uprobes_attach_at(&gp->links, uf, progs[h], path, hs->site.offset,
					h == GO_HOOK_SPAWN ? (uint64_t)hs->reg
					: hs->site.stack_check
						? hs->site.vaddr | GO_COOKIE_STACK_CHECK
						: hs->site.vaddr);
		if (err) {
			snprintf(text, sizeof(text), "%s in %s", go_hook_symbol(h), name);
			log_warn("goroutines: cannot place the uprobe for %s (pid %u): %s", text,
				 pid, strerror(-err));
			uprobes_failed(&gp->links, text, err);
		} else {
			log_info("goroutines: %s", text);
		}
	}
}

/* Where the socket under a net.Conn is (go_http_call's and Go's TLS's): the same offsets for
 * both (0 and no itab for what the binary lacks: gotrace.h). */
static void socket_offsets(struct go_proc_cfg *cfg, const struct go_trace_info *info)
{
	cfg->tcpconn_fd_off = info->off.tcpconn_fd;
	cfg->netfd_sysfd_off = info->off.netfd_sysfd;
	cfg->tcpconn_itab = info->tcpconn_itab;
	cfg->tlsconn_conn_off = info->off.tlsconn_conn;
	cfg->tlsconn_itab = info->tlsconn_itab;
}

/* What pid's executable is, looked into (and its uprobes placed) the first time; pid holds
 * it. NULL when pid is gone, or memory short. */
static struct go_file *file_of(struct go_probe *gp, uint32_t pid)
{
	char link[32], exe[256] = "";
	struct go_trace_info info = { .is_go = false };
	struct uprobe_file *uf;
	struct go_file *f;
	struct stat st;
	bool fresh;
	ssize_t n;
	int fd;

	snprintf(link, sizeof(link), "/proc/%u/exe", pid);
	fd = open(link, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return NULL; /* gone, or a kernel thread */
	uf = fstat(fd, &st) ? NULL : uprobes_file(&gp->links, st.st_dev, st.st_ino, &fresh);
	if (!uf) {
		close(fd);
		return NULL;
	}
	uprobes_scan_begin(&gp->links, pid);
	uprobes_hold(&gp->links, pid, uf);
	uprobes_scan_end(&gp->links, pid); /* the program it ran before goes */
	if (!fresh) {
		close(fd);
		return uprobes_data(uf);
	}
	f = calloc(1, sizeof(*f));
	if (!f) {
		close(fd);
		return NULL;
	}
	uprobes_set_data(uf, f);
	n = readlink(link, exe, sizeof(exe) - 1);
	exe[n > 0 ? n : 0] = '\0';
	if (inspect_fd(fd, &st, &info) == 0 && info.is_go) {
		/* a Go program's threads are no requests: its spans link by goroutine or not at
		 * all */
		f->is_go = true;
		if (gp->tls && !info.tls)
			log_info("Go TLS: not probed in %s (pid %u): %s", exe, pid,
				 info.tls_why[0] ? info.tls_why : info.why);
		else if (gp->tls && info.tls_bare)
			log_info("Go TLS: %s (pid %u) has no DWARF or symbols: its functions from "
				 ".gopclntab, crypto/tls.Conn's layout Go's own since 1.9",
				 exe, pid);
		if (gp->tls && info.tls) {
			f->cfg.tls = 1;
			socket_offsets(&f->cfg, &info);
		}
		if (!gp->follow) {
			log_info("goroutines: not followed in pid %u (%s): its client spans get no "
				 "parent",
				 pid, exe);
		} else if (info.err) {
			log_warn(
				"goroutines: spans of pid %u (%s) are not linked across goroutines: %s",
				pid, exe, info.why);
		} else {
			f->cfg.goid_off = info.off.goid;
			f->cfg.m_off = info.off.m;
			f->cfg.curg_off = info.off.curg;
			if (info.by_stmt) {
				f->cfg.gopc_off = info.off.gopc;
				f->cfg.p_off = info.off.p;
				f->cfg.goidcache_off = info.off.goidcache;
				f->cfg.goidcacheend_off = info.off.goidcacheend;
				f->cfg.goidgen = info.goidgen;
			}
			/* an HTTPS call's socket is under its crypto/tls.Conn */
			if (info.off.http_conn && info.tcpconn_itab) {
				f->cfg.pconn_conn_off = info.off.pconn_conn;
				socket_offsets(&f->cfg, &info);
			}
		}
		if ((gp->follow && !info.err) || (gp->tls && info.tls) || (gp->panics && !info.err))
			attach_file(gp, uf, fd, exe, pid, &info);
	}
	go_trace_info_release(&info);
	close(fd);
	return f;
}

static void watch_pid(struct go_probe *gp, uint32_t pid)
{
	struct go_file *f = file_of(gp, pid);
	int fd = bpf_map__fd(gp->skel->maps.go_procs);

	if (!f || !f->is_go) {
		/* an exec into a program that is not Go */
		bpf_map_delete_elem(fd, &pid);
		return;
	}
	if (bpf_map_update_elem(fd, &pid, &f->cfg, BPF_ANY))
		log_warn("goroutines: cannot follow the goroutines of pid %u: %s", pid,
			 strerror(errno));
}

void go_probe_flush(struct go_probe *gp)
{
	size_t i;

	if (!gp)
		return;
	for (i = 0; i < gp->links.nnoted; i++)
		watch_pid(gp, gp->links.noted[i]);
	gp->links.nnoted = 0;
	uprobes_reap(&gp->links);
}

void go_probe_forget(struct go_probe *gp, uint32_t pid)
{
	if (!gp)
		return;
	bpf_map_delete_elem(bpf_map__fd(gp->skel->maps.go_procs), &pid);
	uprobes_release(&gp->links, pid);
}

void go_probe_fork(struct go_probe *gp, uint32_t parent, uint32_t child)
{
	if (gp)
		uprobes_fork(&gp->links, parent, child);
}

void go_probe_counts(const struct go_probe *gp, size_t *files, size_t *links, uint64_t *released)
{
	if (gp)
		uprobes_counts(&gp->links, files, links, released);
}

const char *go_probe_failures(const struct go_probe *gp)
{
	return gp ? gp->links.failures : "";
}

void go_probe_detach_start(struct go_probe *gp)
{
	if (gp)
		uprobes_detach_start(&gp->links);
}

void go_probe_destroy(struct go_probe *gp)
{
	if (!gp)
		return;
	uprobes_free(&gp->links);
	go_bpf__destroy(gp->skel);
	free(gp);
}

int go_probe_print_sites(const char *path, FILE *out)
{
	struct go_trace_info info = { .is_go = false };
	struct stat st;
	char text[320];
	size_t i;
	int h, fd = open(path, O_RDONLY | O_CLOEXEC);

	if (fd < 0)
		return 0;
	if (fstat(fd, &st) || inspect_fd(fd, &st, &info) || !info.is_go) {
		close(fd);
		return 0;
	}
	close(fd);
	if (info.err) {
		fprintf(out, "%s: goroutines are not followed: %s\n", path, info.why);
	} else {
		stmts_text(text, sizeof(text), path, &info);
		fprintf(out, "%s\n", text);
		for (i = 0; i < info.nstmt; i++) {
			stmt_text(text, sizeof(text), path, &info.stmt[i]);
			fprintf(out, "%s\n", text);
		}
	}
	for (h = 0; h < GO_HOOK__COUNT; h++) {
		if ((h == GO_HOOK_SPAWN && info.by_stmt) || (info.err && !go_hook_tls(h)))
			continue;
		site_text(text, sizeof(text), path, &info, h);
		fprintf(out, "%s\n", text);
	}
	if (!info.tls)
		fprintf(out, "Go TLS: not probed in %s: %s\n", path,
			info.tls_why[0] ? info.tls_why : info.why);
	go_trace_info_release(&info);
	return GO_HOOK__COUNT;
}
