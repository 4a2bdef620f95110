/* SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause) */
/*
 * Uprobes placed on files (libraries, executables) for every process that maps them (pid -1),
 * kept per file and held by the watched processes that map it: when the last of them is gone
 * (exit, exec of another program, no longer watched) and none comes back within a grace
 * period, the file's links are removed and its record forgotten, so a node that runs a stream of different binaries keeps links only for
 * what runs now. Removal happens on a thread of its own: each waits for RCU grace periods in
 * the kernel, ~70 ms apiece in this VM, which the event loop and an exit need not wait for.
 */
#ifndef OBSPROBE_UPROBES_H
#define OBSPROBE_UPROBES_H

#include <pthread.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "process/tlslib.h"

struct bpf_link;
struct bpf_program;
struct uprobe_file;
struct uprobe_holder;

#define UPROBE_BUCKETS 1024
/* How long a file no watched process holds keeps its links: a program run again and again
 * (a client every few seconds, a cron job) is not probed and unprobed each time. */
#define UPROBE_GRACE_NS (5ull * 1000000000ull)

struct uprobe_links {
	struct uprobe_key *keys[UPROBE_BUCKETS];       /* (dev, inode) -> file */
	struct uprobe_holder *holders[UPROBE_BUCKETS]; /* pid -> the files it holds */
	struct uprobe_file *idle;		       /* held by none: to remove */
	size_t files, probed, links;		       /* records, files with links, links: now */
	uint64_t released;			       /* files whose links were removed, ever */
	/* the removal thread and what it is to remove */
	pthread_t detacher;
	bool detacher_up, closing;
	pthread_mutex_t lock;
	pthread_cond_t wake;
	struct bpf_link **queue;
	size_t nqueue, queue_cap;
	/* processes whose files are to be looked at (uprobes_note), in order */
	uint32_t *noted;
	size_t nnoted, noted_cap;
	unsigned int failed; /* uprobes that could not be placed */
	char failures[512];  /* the first of them, "what: why" a line each */
};

void uprobes_init(struct uprobe_links *l);

/* The record of the file with st_dev dev and inode ino; a new one (*fresh: look into it and
 * attach to it) has no holder yet: hold it, or it stays until uprobes_free. NULL when memory
 * is short. */
struct uprobe_file *uprobes_file(struct uprobe_links *l, uint64_t dev, uint64_t ino, bool *fresh);
/* The file known by (dev, ino), NULL if none. */
struct uprobe_file *uprobes_find(struct uprobe_links *l, uint64_t dev, uint64_t ino);
/* f is also known as (dev, ino): /proc/PID/maps may number a file other than fstat does
 * (overlayfs). */
void uprobes_alias(struct uprobe_links *l, struct uprobe_file *f, uint64_t dev, uint64_t ino);
/* Data of the caller's kept with f, freed (free()) with it. */
void uprobes_set_data(struct uprobe_file *f, void *data);
void *uprobes_data(const struct uprobe_file *f);
/* f (a directory: a process root) keeps dep probed as long as f is held. */
void uprobes_depend(struct uprobe_links *l, struct uprobe_file *f, struct uprobe_file *dep);

/* Holding: a scan of pid's files is uprobes_scan_begin, uprobes_hold for each file it maps
 * now, uprobes_scan_end, which lets go of the files it held before and not now. */
void uprobes_scan_begin(struct uprobe_links *l, uint32_t pid);
void uprobes_hold(struct uprobe_links *l, uint32_t pid, struct uprobe_file *f);
void uprobes_scan_end(struct uprobe_links *l, uint32_t pid);
/* child (a fork of parent) holds what parent holds. */
void uprobes_fork(struct uprobe_links *l, uint32_t parent, uint32_t child);
/* pid holds nothing any more (it exited, or is no longer watched), and is no longer noted. */
void uprobes_release(struct uprobe_links *l, uint32_t pid);
/* pid's files are to be looked at (once however often noted, until l->nnoted is set to 0 by
 * the caller that went through l->noted). */
void uprobes_note(struct uprobe_links *l, uint32_t pid);
/* Adds the files with uprobes on them now, their links, and the files whose uprobes were
 * removed so far. */
void uprobes_counts(const struct uprobe_links *l, size_t *files, size_t *links, uint64_t *released);
/* Removes the links of files held by nothing for UPROBE_GRACE_NS, and forgets them (cheap when
 * none is idle: call it often). */
void uprobes_reap(struct uprobe_links *l);

/* A function of a library and the programs for it. */
struct uprobe_hook {
	enum tls_sym sym;
	struct bpf_program *enter;
	struct bpf_program *ret; /* the return probe, or NULL */
};

/* Hooks every function of hooks[] that the file at path (f's) defines, where info->site puts its
 * probe (a site two hooks share once), for all processes; a hook that fails is logged (name:
 * the file, in messages) and skipped. Logs (-v) where each probe sits and whether
 * the kernel emulates the instruction there. Returns how many were hooked and names them,
 * space-separated, in list. */
int uprobes_attach(struct uprobe_links *l, struct uprobe_file *f, const char *path,
		   const char *name, const struct tls_elf_info *info,
		   const struct uprobe_hook *hooks, size_t nhooks, char *list, size_t listlen);
/* One uprobe of prog at file offset off of the file at path (f's), for all processes, with a
 * BPF cookie: 0 or -errno. */
int uprobes_attach_at(struct uprobe_links *l, struct uprobe_file *f, struct bpf_program *prog,
		      const char *path, uint64_t off, uint64_t cookie);
/* Where the probe of sym sits in info's file (name, for the text), in words: "uprobe for
 * SSL_read in NAME: at 0x35290 `pushq %r13` (emulated), ..."; ret: a return probe goes there
 * too. */
void uprobes_site_text(char *buf, size_t len, const char *name, const struct tls_elf_info *info,
		       enum tls_sym sym, bool ret);
/* A uprobe could not be placed (what: "SSL_read in /usr/lib/.../libssl.so.3"): counted, and
 * its line kept for readiness. */
void uprobes_failed(struct uprobe_links *l, const char *what, int err);
/* Starts removing every link in the background (at exit). */
void uprobes_detach_start(struct uprobe_links *l);
/* Removes every link (waits for a background removal) and frees l's memory. */
void uprobes_free(struct uprobe_links *l);

#endif /* OBSPROBE_UPROBES_H */
