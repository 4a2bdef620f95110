// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
#include "tls.h"
#include "tls_probe.h"

#include <bpf/libbpf.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include "log.h"
#include "proc_probe.h"
#include "procfs.h"
#include "sock.skel.h"
#include "tls.skel.h"
#include "tlslib.h"

#define FILE_BUCKETS 1024
#define MAX_FILE_BYTES (1ull << 30) /* larger files are not looked into */

enum file_state {
	FILE_PLAIN = 0, /* no TLS library in it */
	FILE_PROBED,
	FILE_FAILED,
};

/* A file some watched process mapped executable, by the identity the kernel gives it in
 * /proc/PID/maps: the same file seen through /lib, /usr/lib or a container's root is one. */
struct tls_file {
	struct tls_file *next;
	uint32_t dev_major, dev_minor;
	uint64_t inode;
	enum file_state state;
};

struct tls_probe {
	struct tls_bpf *skel;
	struct tls_file *files[FILE_BUCKETS];
	struct bpf_link **links;
	size_t nlinks, links_cap;
	uint32_t *noted;
	size_t nnoted, noted_cap;
	struct tls_probe_stats stats;
};

struct tls_probe *tls_probe_start(struct proc_bpf *owner, struct sock_bpf *sock,
				  uint32_t capture_bytes)
{
	struct tls_probe *tp = calloc(1, sizeof(*tp));
	int err;

	if (!tp) {
		log_err("TLS: out of memory");
		return NULL;
	}
	tp->skel = tls_bpf__open();
	if (!tp->skel) {
		log_err("cannot open the tls BPF object: %s", strerror(errno));
		goto fail;
	}
	tp->skel->rodata->capture_bytes = capture_bytes;
	err = proc_probe_share_maps(owner, tp->skel->obj);
	if (!err)
		err = bpf_map__reuse_fd(tp->skel->maps.tls_calls,
					bpf_map__fd(sock->maps.tls_calls));
	if (err) {
		log_err("cannot share maps with the tls BPF object: %s", strerror(-err));
		goto fail;
	}
	err = tls_bpf__load(tp->skel);
	if (err) {
		log_err("cannot load the TLS BPF programs: %s (run with -vv for the verifier log)",
			strerror(-err));
		goto fail;
	}
	/* the tracepoint only: uprobes go on libraries as they are found */
	tp->skel->links.sys_exit_mmap = bpf_program__attach(tp->skel->progs.sys_exit_mmap);
	if (!tp->skel->links.sys_exit_mmap) {
		log_err("cannot attach the mmap tracepoint: %s", strerror(errno));
		goto fail;
	}
	return tp;
fail:
	tls_probe_destroy(tp);
	return NULL;
}

void tls_probe_destroy(struct tls_probe *tp)
{
	size_t i;

	if (!tp)
		return;
	for (i = 0; i < tp->nlinks; i++)
		bpf_link__destroy(tp->links[i]);
	free(tp->links);
	for (i = 0; i < FILE_BUCKETS; i++) {
		struct tls_file *f, *n;

		for (f = tp->files[i]; f; f = n) {
			n = f->next;
			free(f);
		}
	}
	free(tp->noted);
	tls_bpf__destroy(tp->skel);
	free(tp);
}

void tls_probe_note(struct tls_probe *tp, uint32_t pid)
{
	size_t i;

	if (!tp)
		return;
	for (i = 0; i < tp->nnoted; i++)
		if (tp->noted[i] == pid)
			return;
	if (tp->nnoted == tp->noted_cap) {
		size_t cap = tp->noted_cap ? 2 * tp->noted_cap : 16;
		uint32_t *n = realloc(tp->noted, cap * sizeof(*n));

		if (!n)
			return;
		tp->noted = n;
		tp->noted_cap = cap;
	}
	tp->noted[tp->nnoted++] = pid;
}

/* The file's entry; *fresh when it is seen for the first time (and so still to look at). */
static struct tls_file *file_get(struct tls_probe *tp, const struct maps_entry *m, bool *fresh)
{
	uint64_t h = (m->inode * 0x9e3779b97f4a7c15ull) ^ ((uint64_t)m->dev_major << 20) ^
		     m->dev_minor;
	struct tls_file **pp = &tp->files[(h >> 40) % FILE_BUCKETS], *f;

	*fresh = false;
	for (f = *pp; f; f = f->next)
		if (f->inode == m->inode && f->dev_major == m->dev_major &&
		    f->dev_minor == m->dev_minor)
			return f;
	f = calloc(1, sizeof(*f));
	if (!f)
		return NULL;
	f->inode = m->inode;
	f->dev_major = m->dev_major;
	f->dev_minor = m->dev_minor;
	f->next = *pp;
	*pp = f;
	*fresh = true;
	return f;
}

static int keep_link(struct tls_probe *tp, struct bpf_link *l)
{
	if (tp->nlinks == tp->links_cap) {
		size_t cap = tp->links_cap ? 2 * tp->links_cap : 32;
		struct bpf_link **n = realloc(tp->links, cap * sizeof(*n));

		if (!n) {
			bpf_link__destroy(l);
			return -ENOMEM;
		}
		tp->links = n;
		tp->links_cap = cap;
	}
	tp->links[tp->nlinks++] = l;
	return 0;
}

struct hook {
	enum tls_sym sym;
	struct bpf_program *enter;
	bool ret; /* the return value says what moved: a return probe too */
};

/* Hooks every function of info's library that path defines, for all processes (pid -1): the
 * kernel places uprobes on the file, so later processes mapping it are covered too. Returns
 * the number of functions hooked; names them in list. */
static int attach_hooks(struct tls_probe *tp, const char *path, const struct tls_elf_info *info,
			char *list, size_t listlen)
{
	struct tls_bpf *s = tp->skel;
	const struct hook hooks[] = {
		{ TLS_SYM_SSL_READ, s->progs.ssl_read_enter, true },
		{ TLS_SYM_SSL_WRITE, s->progs.ssl_write_enter, true },
		{ TLS_SYM_SSL_READ_EX, s->progs.ssl_read_ex_enter, true },
		{ TLS_SYM_SSL_WRITE_EX, s->progs.ssl_write_ex_enter, true },
		{ TLS_SYM_SSL_FREE, s->progs.tls_session_free, false },
		{ TLS_SYM_GNUTLS_RECV, s->progs.gnutls_recv_enter, true },
		{ TLS_SYM_GNUTLS_SEND, s->progs.gnutls_send_enter, true },
		{ TLS_SYM_GNUTLS_DEINIT, s->progs.tls_session_free, false },
	};
	size_t i, len = 0;
	int hooked = 0;

	list[0] = '\0';
	for (i = 0; i < sizeof(hooks) / sizeof(hooks[0]); i++) {
		uint64_t off = info->offset[hooks[i].sym];
		LIBBPF_OPTS(bpf_uprobe_opts, ropts, .retprobe = true);
		struct bpf_link *l;
		int err = 0;

		if (!off)
			continue;
		l = bpf_program__attach_uprobe_opts(hooks[i].enter, -1, path, off, NULL);
		if (!l || keep_link(tp, l))
			err = l ? -ENOMEM : -errno;
		if (!err && hooks[i].ret) {
			l = bpf_program__attach_uprobe_opts(s->progs.tls_return, -1, path, off,
							    &ropts);
			if (!l || keep_link(tp, l))
				err = l ? -ENOMEM : -errno;
		}
		if (err) {
			log_warn("TLS: cannot hook %s in %s: %s", tls_sym_name(hooks[i].sym), path,
				 strerror(-err));
			continue;
		}
		hooked++;
		len += (size_t)snprintf(list + len, listlen > len ? listlen - len : 0, "%s%s",
					len ? " " : "", tls_sym_name(hooks[i].sym));
	}
	return hooked;
}

/* Opens the file of mapping m as process pid sees it: through its root (containers), or, when
 * it was replaced or deleted since, through the mapping itself. */
static int open_mapped(uint32_t pid, const struct maps_entry *m, char *path, size_t pathlen)
{
	int fd = -1;

	if (!m->deleted) {
		snprintf(path, pathlen, "/proc/%u/root%s", pid, m->path);
		fd = open(path, O_RDONLY | O_CLOEXEC);
	}
	if (fd < 0) {
		snprintf(path, pathlen, "/proc/%u/map_files/%llx-%llx", pid,
			 (unsigned long long)m->start, (unsigned long long)m->end);
		fd = open(path, O_RDONLY | O_CLOEXEC);
	}
	return fd < 0 ? -errno : fd;
}

static int inspect_fd(int fd, struct tls_elf_info *info)
{
	struct stat st;
	void *img;
	int err;

	if (fstat(fd, &st))
		return -errno;
	if (!S_ISREG(st.st_mode) || st.st_size < 64 || (uint64_t)st.st_size > MAX_FILE_BYTES)
		return -EINVAL;
	/* private and writable: libelf may convert in place, and no byte reaches the file */
	img = mmap(NULL, (size_t)st.st_size, PROT_READ | PROT_WRITE, MAP_PRIVATE, fd, 0);
	if (img == MAP_FAILED)
		return -errno;
	err = tls_elf_inspect(img, (size_t)st.st_size, info);
	munmap(img, (size_t)st.st_size);
	return err;
}

static void look_at(struct tls_probe *tp, uint32_t pid, const struct maps_entry *m,
		    struct tls_file *f)
{
	char path[PATH_MAX + 64], hooked[256];
	struct tls_elf_info info;
	int fd, n;

	fd = open_mapped(pid, m, path, sizeof(path));
	if (fd < 0) {
		log_debug("TLS: cannot open %s of pid %u: %s", m->path, pid, strerror(-fd));
		return;
	}
	n = inspect_fd(fd, &info);
	close(fd);
	if (n)
		return;
	if (info.stripped_openssl) {
		f->state = FILE_FAILED;
		tp->stats.files_failed++;
		log_warn("TLS: cannot probe %s (pid %u): OpenSSL is linked into it but it is "
			 "stripped (no symbol table), so SSL_read/SSL_write cannot be found; its "
			 "HTTPS traffic is not seen, everything else is",
			 m->path, pid);
		return;
	}
	if (info.lib == TLS_LIB_NONE)
		return;
	n = attach_hooks(tp, path, &info, hooked, sizeof(hooked));
	if (n == 0) {
		f->state = FILE_FAILED;
		tp->stats.files_failed++;
		log_warn("TLS: could not probe %s in %s (pid %u): its HTTPS traffic is not seen",
			 tls_lib_name(info.lib), m->path, pid);
		return;
	}
	f->state = FILE_PROBED;
	tp->stats.files_probed++;
	log_info("TLS: probing %s in %s (build-id %s, first seen in pid %u): %s",
		 tls_lib_name(info.lib), m->path, info.build_id[0] ? info.build_id : "none", pid,
		 hooked);
}

static void scan_pid(struct tls_probe *tp, uint32_t pid)
{
	char path[32], *line = NULL;
	size_t cap = 0;
	FILE *fp;

	snprintf(path, sizeof(path), "/proc/%u/maps", pid);
	fp = fopen(path, "re");
	if (!fp)
		return; /* gone already */
	while (getline(&line, &cap, fp) > 0) {
		struct maps_entry m;
		struct tls_file *f;
		bool fresh;

		if (maps_parse_line(line, &m) || !m.exec || !m.inode || m.path[0] != '/')
			continue;
		f = file_get(tp, &m, &fresh);
		if (f && fresh)
			look_at(tp, pid, &m, f);
	}
	free(line);
	fclose(fp);
}

void tls_probe_flush(struct tls_probe *tp)
{
	size_t i;

	if (!tp)
		return;
	for (i = 0; i < tp->nnoted; i++)
		scan_pid(tp, tp->noted[i]);
	tp->nnoted = 0;
}

void tls_probe_get_stats(const struct tls_probe *tp, struct tls_probe_stats *out)
{
	memset(out, 0, sizeof(*out));
	if (tp)
		*out = tp->stats;
}
