// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
#include "obsprobe/tls.h"
#include "probes/tls.h"

#include <bpf/libbpf.h>
#include <errno.h>
#include <fcntl.h>
#include <glob.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <unistd.h>

#include "probes/libpq.h"
#include "probes/kernel.h"
#include "probes/probe.h"
#include "probes/proc.h"
#include "probes/uprobes.h"
#include "process/procfs.h"
#include "process/tlslib.h"
#include "process/x86sites.h"
#include "sock.skel.h"
#include "tls.skel.h"
#include "util/log.h"

#define MAX_FILE_BYTES (1ull << 30) /* larger files are not looked into */

struct tls_probe {
	unsigned int what; /* LIBPROBE_* */
	struct tls_bpf *skel;
	struct libpq_bpf *pq; /* NULL unless LIBPROBE_LIBPQ */
	/* the files looked into, by device and inode, and the process roots whose library
	 * directories were searched: held by the watched processes that map them (or live in
	 * that root), the same file seen through /lib, /usr/lib or a container's root as one */
	struct uprobe_links links;
};

/* attaching places the mmap tracepoint only: libbpf leaves bare SEC("uprobe") programs alone,
 * and they go on libraries as they are found */
static const struct probe_load_opts tls_load = { "tls", "the mmap tracepoint", true };

/* The calls in flight, which the sock object's syscall programs complete. */
static int share_tls_calls(struct tls_bpf *skel, const struct sock_bpf *sock)
{
	int err = bpf_map__reuse_fd(skel->maps.tls_calls, bpf_map__fd(sock->maps.tls_calls))
			  ?: bpf_map__reuse_fd(skel->maps.conns, bpf_map__fd(sock->maps.conns));

	if (err)
		log_err("cannot share tls_calls and conns with the tls BPF object: %s",
			strerror(-err));
	return err;
}

struct tls_probe *tls_probe_start(struct proc_bpf *owner, struct sock_bpf *sock,
				  uint32_t capture_bytes, unsigned int what)
{
	struct tls_probe *tp = calloc(1, sizeof(*tp));

	if (!tp) {
		log_err("TLS: out of memory");
		return NULL;
	}
	tp->what = what;
	uprobes_init(&tp->links);
	if (what & LIBPROBE_LIBPQ) {
		tp->pq = libpq_probe_start(owner);
		if (!tp->pq)
			goto fail;
	}
	tp->skel = PROBE_OPEN_LOAD(tls_bpf, &tls_load, proc_probe_object(owner),
				   (skel->rodata->capture_bytes = capture_bytes,
				    skel->rodata->use_loop = probe_kernel()->has[KERNEL_BPF_LOOP],
				    share_tls_calls(skel, sock)));
	if (!tp->skel)
		goto fail;
	return tp;
fail:
	tls_probe_destroy(tp);
	return NULL;
}

const char *tls_probe_failures(const struct tls_probe *tp)
{
	return tp ? tp->links.failures : "";
}

void tls_probe_detach_start(struct tls_probe *tp)
{
	if (tp)
		uprobes_detach_start(&tp->links);
}

void tls_probe_destroy(struct tls_probe *tp)
{
	if (!tp)
		return;
	uprobes_free(&tp->links);
	tls_bpf__destroy(tp->skel);
	libpq_probe_destroy(tp->pq);
	free(tp);
}

void tls_probe_note(struct tls_probe *tp, uint32_t pid)
{
	if (tp)
		uprobes_note(&tp->links, pid);
}

/* Opens the file of mapping m as process pid sees it: through its root (containers), or, when
 * it was replaced or deleted since, through the mapping itself. */
static int open_mapped(uint32_t pid, const struct maps_entry *m)
{
	char path[PATH_MAX + 64];
	int fd = -1;

	if (!m->deleted) {
		snprintf(path, sizeof(path), "/proc/%u/root%s", pid, m->path);
		fd = open(path, O_RDONLY | O_CLOEXEC);
	}
	if (fd < 0) {
		snprintf(path, sizeof(path), "/proc/%u/map_files/%llx-%llx", pid,
			 (unsigned long long)m->start, (unsigned long long)m->end);
		fd = open(path, O_RDONLY | O_CLOEXEC);
	}
	return fd < 0 ? -errno : fd;
}

static int inspect_fd(int fd, const struct stat *st, struct tls_elf_info *info)
{
	void *img;
	int err;

	if (!S_ISREG(st->st_mode) || st->st_size < 64 || (uint64_t)st->st_size > MAX_FILE_BYTES)
		return -EINVAL;
	/* private and writable: libelf may convert in place, and no byte reaches the file */
	img = mmap(NULL, (size_t)st->st_size, PROT_READ | PROT_WRITE, MAP_PRIVATE, fd, 0);
	if (img == MAP_FAILED)
		return -errno;
	err = tls_elf_inspect_file(img, (size_t)st->st_size,
				   probe_kernel()->has[KERNEL_UPROBE_PUSH] ? X86_EMUL_PUSH : 0,
				   info);
	munmap(img, (size_t)st->st_size);
	return err;
}

int tls_probe_print_sites(const char *path, FILE *out, bool others)
{
	struct tls_elf_info info;
	struct stat st;
	char text[512];
	int k, n = 0, err, fd = open(path, O_RDONLY | O_CLOEXEC);

	if (fd < 0) {
		err = -errno;
		log_err("--probe-sites: cannot open %s: %s", path, strerror(-err));
		return err;
	}
	err = fstat(fd, &st) ? -errno : inspect_fd(fd, &st, &info);
	close(fd);
	if (err) {
		log_err("--probe-sites: %s is no ELF file obsprobe can read: %s", path,
			strerror(-err));
		return err;
	}
	for (k = 0; k < TLS_SYM__COUNT; k++) {
		if (!info.offset[k])
			continue;
		/* the TLS hooks take a return probe; libpq's read their arguments only */
		uprobes_site_text(text, sizeof(text), path, &info, k, k < TLS_SYM_PQ_SEND_QUERY);
		fprintf(out, "%s\n", text);
		n++;
	}
	if (!n && !others)
		fprintf(out,
			"%s: no function obsprobe probes (no OpenSSL, GnuTLS or libpq in it)\n",
			path);
	return 0;
}

/* The TLS library's read, write and handshake calls. */
static int attach_tls(struct tls_probe *tp, struct uprobe_file *f, const char *path,
		      const char *name, const struct tls_elf_info *info, char *list, size_t listlen)
{
	struct tls_bpf *s = tp->skel;
	struct bpf_program *ret = s->progs.tls_return; /* the return value says what moved */
	const struct uprobe_hook hooks[] = {
		{ TLS_SYM_SSL_READ, s->progs.ssl_read_enter, ret },
		{ TLS_SYM_SSL_WRITE, s->progs.ssl_write_enter, ret },
		{ TLS_SYM_SSL_READ_EX, s->progs.ssl_read_ex_enter, ret },
		{ TLS_SYM_SSL_WRITE_EX, s->progs.ssl_write_ex_enter, ret },
		{ TLS_SYM_SSL_HANDSHAKE, s->progs.tls_handshake_enter, ret },
		{ TLS_SYM_GNUTLS_RECV,
		  info->site[TLS_SYM_GNUTLS_RECV].kind == TLS_SITE_RECV_INT
			  ? s->progs.gnutls_recv_int_enter
			  : s->progs.gnutls_recv_enter,
		  ret },
		{ TLS_SYM_GNUTLS_SEND, s->progs.gnutls_send_enter, ret },
		{ TLS_SYM_GNUTLS_HANDSHAKE, s->progs.tls_handshake_enter, ret },
	};

	return uprobes_attach(&tp->links, f, path, name, info, hooks,
			      sizeof(hooks) / sizeof(hooks[0]), list, listlen);
}

/* The record of the open file fd, named name for messages: the first time, looked into and the
 * TLS library and libpq in it probed. Probes go on the file through /proc/self/fd, which
 * stays valid when the process that mapped it has exited meanwhile. NULL when it cannot be
 * had. */
static struct uprobe_file *look_at(struct tls_probe *tp, int fd, const char *name, uint32_t pid)
{
	char path[64], hooked[256];
	struct tls_elf_info info;
	struct uprobe_file *f;
	struct stat st;
	bool fresh;
	int n;

	if (fstat(fd, &st))
		return NULL;
	f = uprobes_file(&tp->links, st.st_dev, st.st_ino, &fresh);
	if (!f || !fresh || inspect_fd(fd, &st, &info))
		return f;
	snprintf(path, sizeof(path), "/proc/self/fd/%d", fd);
	if (info.libpq && tp->pq)
		libpq_probe_file(tp->pq, &tp->links, f, path, name, pid, &info);
	if (!(tp->what & LIBPROBE_TLS))
		return f;
	if (info.stripped_openssl) {
		log_warn("TLS: cannot probe %s (pid %u): OpenSSL is linked into it but it is "
			 "stripped (no symbol table), so SSL_read/SSL_write cannot be found; its "
			 "HTTPS traffic is not seen, everything else is",
			 name, pid);
		return f;
	}
	if (info.lib == TLS_LIB_NONE)
		return f;
	n = attach_tls(tp, f, path, name, &info, hooked, sizeof(hooked));
	if (n == 0) {
		log_warn("TLS: could not probe %s in %s (pid %u): its HTTPS traffic is not seen",
			 tls_lib_name(info.lib), name, pid);
		return f;
	}
	log_info("TLS: probing %s in %s (build-id %s, for pid %u): %s", tls_lib_name(info.lib),
		 name, info.build_id[0] ? info.build_id : "none", pid, hooked);
	return f;
}

/*
 * The TLS libraries in the library directories of pid's root, probed before any process maps
 * them: a short-lived client (curl, wget) is done with its first request before a probe placed
 * after its mmap could catch it. Once per root (a container has its own), kept probed while a
 * watched process lives in that root (pid holds it). Not libpq: the wire
 * protocol has every query without it, and its 7 probes would cost every run ~0.5 s more to
 * place and to remove (removal delays the exit); it is probed once a watched process maps it.
 */
static void look_at_root(struct tls_probe *tp, uint32_t pid)
{
	static const char *const patterns[] = {
		"{lib,usr/lib,lib64,usr/lib64,usr/local/lib}/libssl.so.*",
		"{lib,usr/lib}/*-linux-gnu*/libssl.so.*",
		"{lib,usr/lib,lib64,usr/lib64,usr/local/lib}/libgnutls.so.*",
		"{lib,usr/lib}/*-linux-gnu*/libgnutls.so.*",
	};
	char root[32], pat[128];
	struct uprobe_file *r;
	struct stat st;
	size_t i, j;
	bool fresh;

	snprintf(root, sizeof(root), "/proc/%u/root", pid);
	if (stat(root, &st))
		return;
	r = uprobes_file(&tp->links, st.st_dev, st.st_ino, &fresh);
	if (!r)
		return;
	uprobes_hold(&tp->links, pid, r);
	if (!fresh)
		return;
	for (i = 0; i < sizeof(patterns) / sizeof(patterns[0]); i++) {
		glob_t g;

		snprintf(pat, sizeof(pat), "%s/%s", root, patterns[i]);
		if (glob(pat, GLOB_BRACE | GLOB_NOSORT, NULL, &g))
			continue;
		for (j = 0; j < g.gl_pathc; j++) {
			int fd = open(g.gl_pathv[j], O_RDONLY | O_CLOEXEC);
			struct uprobe_file *f;

			if (fd < 0)
				continue;
			f = look_at(tp, fd, g.gl_pathv[j] + strlen(root), pid);
			if (f)
				uprobes_depend(&tp->links, r, f);
			close(fd);
		}
		globfree(&g);
	}
}

/* pid holds the files it maps now (and its root), each looked into the first time. */
static void scan_pid(struct tls_probe *tp, uint32_t pid)
{
	char path[32], *line = NULL;
	size_t cap = 0;
	FILE *fp;

	snprintf(path, sizeof(path), "/proc/%u/maps", pid);
	fp = fopen(path, "re");
	if (!fp)
		return; /* gone already: its exit lets go of what it held */
	uprobes_scan_begin(&tp->links, pid);
	look_at_root(tp, pid);
	while (getline(&line, &cap, fp) > 0) {
		struct uprobe_file *f;
		struct maps_entry m;
		dev_t dev;
		int fd;

		if (maps_parse_line(line, &m) || !m.exec || !m.inode || m.path[0] != '/')
			continue;
		dev = makedev(m.dev_major, m.dev_minor);
		f = uprobes_find(&tp->links, dev, m.inode);
		if (!f) {
			fd = open_mapped(pid, &m);
			if (fd < 0) {
				log_debug("TLS: cannot open %s of pid %u: %s", m.path, pid,
					  strerror(-fd));
				continue;
			}
			f = look_at(tp, fd, m.path, pid);
			if (f)
				uprobes_alias(&tp->links, f, dev, m.inode);
			close(fd);
		}
		if (f)
			uprobes_hold(&tp->links, pid, f);
	}
	uprobes_scan_end(&tp->links, pid);
	free(line);
	fclose(fp);
}

void tls_probe_flush(struct tls_probe *tp)
{
	size_t i;

	if (!tp)
		return;
	for (i = 0; i < tp->links.nnoted; i++)
		scan_pid(tp, tp->links.noted[i]);
	tp->links.nnoted = 0;
	uprobes_reap(&tp->links);
}

void tls_probe_fork(struct tls_probe *tp, uint32_t parent, uint32_t child)
{
	if (tp)
		uprobes_fork(&tp->links, parent, child);
}

void tls_probe_forget(struct tls_probe *tp, uint32_t pid)
{
	if (tp)
		uprobes_release(&tp->links, pid);
}

void tls_probe_counts(const struct tls_probe *tp, size_t *files, size_t *links, uint64_t *released)
{
	if (tp)
		uprobes_counts(&tp->links, files, links, released);
}
