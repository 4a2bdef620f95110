// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
#include "probes/uprobes.h"

#include <bpf/libbpf.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "util/log.h"

/* A file's record: its links and what holds it. */
struct uprobe_file {
	uint32_t holds; /* processes holding it, and roots keeping it */
	struct bpf_link **links;
	size_t nlinks, cap;
	struct uprobe_file **deps; /* what it keeps probed while held (a root: its libraries) */
	size_t ndeps;
	void *data;
	struct uprobe_key *keys; /* its names in l->keys, linked through `also` */
	/* held by nothing since idle_since (on l->idle): removed after UPROBE_GRACE_NS */
	bool idle;
	uint64_t idle_since;
	struct uprobe_file *idle_next;
};

struct uprobe_key {
	struct uprobe_key *next, *also;
	uint64_t dev, ino;
	struct uprobe_file *file;
};

struct uprobe_hold {
	struct uprobe_file *file;
	uint32_t gen;
};

struct uprobe_holder {
	struct uprobe_holder *next;
	uint32_t pid, gen;
	struct uprobe_hold *h;
	size_t n, cap;
};

static uint64_t now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000ull + (uint64_t)ts.tv_nsec;
}

/* One hold on f more: an idle f is taken back, its links never removed. */
static void grab(struct uprobe_links *l, struct uprobe_file *f)
{
	struct uprobe_file **pp = &l->idle;

	if (f->idle) {
		while (*pp != f)
			pp = &(*pp)->idle_next;
		*pp = f->idle_next;
		f->idle = false;
	}
	f->holds++;
}

static size_t key_bucket(uint64_t dev, uint64_t ino)
{
	return ((ino ^ (dev << 24)) * 0x9e3779b97f4a7c15ull >> 40) % UPROBE_BUCKETS;
}

static size_t pid_bucket(uint32_t pid)
{
	return (pid * 0x9e3779b1u >> 16) % UPROBE_BUCKETS;
}

void uprobes_init(struct uprobe_links *l)
{
	memset(l, 0, sizeof(*l));
	pthread_mutex_init(&l->lock, NULL);
	pthread_cond_init(&l->wake, NULL);
}

struct uprobe_file *uprobes_find(struct uprobe_links *l, uint64_t dev, uint64_t ino)
{
	struct uprobe_key *k;

	for (k = l->keys[key_bucket(dev, ino)]; k; k = k->next)
		if (k->dev == dev && k->ino == ino)
			return k->file;
	return NULL;
}

void uprobes_alias(struct uprobe_links *l, struct uprobe_file *f, uint64_t dev, uint64_t ino)
{
	struct uprobe_key *k;
	size_t b = key_bucket(dev, ino);

	if (uprobes_find(l, dev, ino))
		return;
	k = calloc(1, sizeof(*k));
	if (!k)
		return; /* it is opened and looked up by fstat instead */
	*k = (struct uprobe_key){ l->keys[b], f->keys, dev, ino, f };
	l->keys[b] = k;
	f->keys = k;
}

struct uprobe_file *uprobes_file(struct uprobe_links *l, uint64_t dev, uint64_t ino, bool *fresh)
{
	struct uprobe_file *f = uprobes_find(l, dev, ino);

	*fresh = false;
	if (f)
		return f;
	f = calloc(1, sizeof(*f));
	if (!f)
		return NULL;
	uprobes_alias(l, f, dev, ino);
	if (!f->keys) {
		free(f);
		return NULL;
	}
	l->files++;
	*fresh = true;
	return f;
}

void uprobes_set_data(struct uprobe_file *f, void *data)
{
	free(f->data);
	f->data = data;
}

void *uprobes_data(const struct uprobe_file *f)
{
	return f->data;
}

void uprobes_depend(struct uprobe_links *l, struct uprobe_file *f, struct uprobe_file *dep)
{
	struct uprobe_file **n;
	size_t i;

	for (i = 0; i < f->ndeps; i++)
		if (f->deps[i] == dep)
			return;
	n = realloc(f->deps, (f->ndeps + 1) * sizeof(*n));
	if (!n)
		return;
	f->deps = n;
	f->deps[f->ndeps++] = dep;
	grab(l, dep);
}

static void *detacher(void *arg)
{
	struct uprobe_links *l = arg;

	pthread_mutex_lock(&l->lock);
	for (;;) {
		while (l->nqueue) {
			struct bpf_link *link = l->queue[--l->nqueue];

			pthread_mutex_unlock(&l->lock);
			bpf_link__destroy(link);
			pthread_mutex_lock(&l->lock);
		}
		if (l->closing)
			break;
		pthread_cond_wait(&l->wake, &l->lock);
	}
	pthread_mutex_unlock(&l->lock);
	return NULL;
}

/* f's links go to the removal thread (removed here when it cannot run). */
static void detach_links(struct uprobe_links *l, struct uprobe_file *f)
{
	size_t i;

	if (!f->nlinks)
		return;
	pthread_mutex_lock(&l->lock);
	if (!l->detacher_up && !l->closing) {
		l->detacher_up = pthread_create(&l->detacher, NULL, detacher, l) == 0;
		if (l->detacher_up)
			pthread_setname_np(l->detacher, "uprobe-detach");
	}
	if (l->detacher_up && l->nqueue + f->nlinks > l->queue_cap) {
		size_t cap = 2 * (l->nqueue + f->nlinks);
		struct bpf_link **n = realloc(l->queue, cap * sizeof(*n));

		if (n) {
			l->queue = n;
			l->queue_cap = cap;
		}
	}
	if (l->detacher_up && l->nqueue + f->nlinks <= l->queue_cap) {
		memcpy(l->queue + l->nqueue, f->links, f->nlinks * sizeof(*f->links));
		l->nqueue += f->nlinks;
		pthread_cond_signal(&l->wake);
		pthread_mutex_unlock(&l->lock);
	} else {
		pthread_mutex_unlock(&l->lock);
		for (i = 0; i < f->nlinks; i++)
			bpf_link__destroy(f->links[i]);
	}
	l->links -= f->nlinks;
	l->probed--;
	f->nlinks = 0;
}

static void file_free(struct uprobe_links *l, struct uprobe_file *f)
{
	struct uprobe_key *k, *next;

	for (k = f->keys; k; k = next) {
		struct uprobe_key **pp = &l->keys[key_bucket(k->dev, k->ino)];

		next = k->also;
		while (*pp != k)
			pp = &(*pp)->next;
		*pp = k->next;
		free(k);
	}
	detach_links(l, f);
	free(f->links);
	free(f->deps);
	free(f->data);
	free(f);
	l->files--;
}

/* One hold on f less: with none left, f is idle, and goes with what it keeps when nothing takes
 * it back within UPROBE_GRACE_NS (uprobes_reap). */
static void put(struct uprobe_links *l, struct uprobe_file *f)
{
	if (--f->holds)
		return;
	f->idle = true;
	f->idle_since = now_ns();
	f->idle_next = l->idle;
	l->idle = f;
}

void uprobes_reap(struct uprobe_links *l)
{
	struct uprobe_file **pp = &l->idle, *f;
	uint64_t now;
	size_t i;

	if (!l->idle)
		return;
	now = now_ns();
	while ((f = *pp)) {
		if (now - f->idle_since < UPROBE_GRACE_NS) {
			pp = &f->idle_next;
			continue;
		}
		*pp = f->idle_next;
		f->idle = false;
		/* what it kept becomes idle now (pushed before pp: not looked at again) */
		for (i = 0; i < f->ndeps; i++)
			put(l, f->deps[i]);
		l->released += f->nlinks > 0;
		file_free(l, f);
	}
}

static struct uprobe_holder **holder_slot(struct uprobe_links *l, uint32_t pid)
{
	struct uprobe_holder **pp = &l->holders[pid_bucket(pid)];

	while (*pp && (*pp)->pid != pid)
		pp = &(*pp)->next;
	return pp;
}

static struct uprobe_holder *holder(struct uprobe_links *l, uint32_t pid)
{
	struct uprobe_holder **pp = holder_slot(l, pid);

	if (!*pp) {
		*pp = calloc(1, sizeof(**pp));
		if (*pp)
			(*pp)->pid = pid;
	}
	return *pp;
}

/* The holder at *pp lets go of what it holds and goes. */
static void drop_holder(struct uprobe_links *l, struct uprobe_holder **pp)
{
	struct uprobe_holder *h = *pp;
	size_t i;

	*pp = h->next;
	for (i = 0; i < h->n; i++)
		put(l, h->h[i].file);
	free(h->h);
	free(h);
}

void uprobes_scan_begin(struct uprobe_links *l, uint32_t pid)
{
	struct uprobe_holder *h = holder(l, pid);

	if (h)
		h->gen++;
}

void uprobes_hold(struct uprobe_links *l, uint32_t pid, struct uprobe_file *f)
{
	struct uprobe_holder *h = holder(l, pid);
	size_t i;

	if (!h)
		return;
	for (i = 0; i < h->n; i++)
		if (h->h[i].file == f) {
			h->h[i].gen = h->gen;
			return;
		}
	if (h->n == h->cap) {
		size_t cap = h->cap ? 2 * h->cap : 4;
		struct uprobe_hold *n = realloc(h->h, cap * sizeof(*n));

		if (!n)
			return;
		h->h = n;
		h->cap = cap;
	}
	h->h[h->n++] = (struct uprobe_hold){ f, h->gen };
	grab(l, f);
}

void uprobes_scan_end(struct uprobe_links *l, uint32_t pid)
{
	struct uprobe_holder *h = *holder_slot(l, pid);
	size_t i = 0;

	if (!h)
		return;
	while (i < h->n) {
		if (h->h[i].gen == h->gen) {
			i++;
			continue;
		}
		put(l, h->h[i].file);
		h->h[i] = h->h[--h->n];
	}
	if (!h->n) /* not uprobes_release: pid may be the noted one a flush is going through */
		drop_holder(l, holder_slot(l, pid));
}

void uprobes_fork(struct uprobe_links *l, uint32_t parent, uint32_t child)
{
	struct uprobe_holder *p = *holder_slot(l, parent);
	size_t i;

	if (!p || parent == child)
		return;
	for (i = 0; i < p->n; i++)
		uprobes_hold(l, child, p->h[i].file);
}

void uprobes_note(struct uprobe_links *l, uint32_t pid)
{
	size_t i;

	for (i = 0; i < l->nnoted; i++)
		if (l->noted[i] == pid)
			return;
	if (l->nnoted == l->noted_cap) {
		size_t cap = l->noted_cap ? 2 * l->noted_cap : 16;
		uint32_t *n = realloc(l->noted, cap * sizeof(*n));

		if (!n)
			return;
		l->noted = n;
		l->noted_cap = cap;
	}
	l->noted[l->nnoted++] = pid;
}

void uprobes_counts(const struct uprobe_links *l, size_t *files, size_t *links, uint64_t *released)
{
	*files += l->probed;
	*links += l->links;
	*released += l->released;
}

void uprobes_release(struct uprobe_links *l, uint32_t pid)
{
	struct uprobe_holder **pp = holder_slot(l, pid);
	size_t i;

	/* a pid gone before its files were looked at: another process may take the number */
	for (i = 0; i < l->nnoted; i++)
		if (l->noted[i] == pid)
			l->noted[i--] = l->noted[--l->nnoted];
	if (*pp)
		drop_holder(l, pp);
}

static int keep_link(struct uprobe_links *l, struct uprobe_file *f, struct bpf_link *link)
{
	if (f->nlinks == f->cap) {
		size_t cap = f->cap ? 2 * f->cap : 8;
		struct bpf_link **n = realloc(f->links, cap * sizeof(*n));

		if (!n) {
			bpf_link__destroy(link);
			return -ENOMEM;
		}
		f->links = n;
		f->cap = cap;
	}
	if (!f->nlinks)
		l->probed++;
	f->links[f->nlinks++] = link;
	l->links++;
	return 0;
}

/* One uprobe (or return probe) of prog on the file at path: 0 or -errno. */
static int attach_one(struct uprobe_links *l, struct uprobe_file *f, struct bpf_program *prog,
		      const char *path, uint64_t off, bool retprobe, uint64_t cookie)
{
	LIBBPF_OPTS(bpf_uprobe_opts, opts, .retprobe = retprobe, .bpf_cookie = cookie);
	struct bpf_link *link = bpf_program__attach_uprobe_opts(prog, -1, path, off, &opts);

	if (!link)
		return -errno;
	return keep_link(l, f, link);
}

int uprobes_attach_at(struct uprobe_links *l, struct uprobe_file *f, struct bpf_program *prog,
		      const char *path, uint64_t off, uint64_t cookie)
{
	return attach_one(l, f, prog, path, off, false, cookie);
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
	else if (s->kind == TLS_SITE_RECV_INT)
		snprintf(where, sizeof(where),
			 "the start of the internal receive %s with (session, application data, "
			 "data, size); its kTLS branch is not probed",
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

int uprobes_attach(struct uprobe_links *l, struct uprobe_file *f, const char *path,
		   const char *name, const struct tls_elf_info *info,
		   const struct uprobe_hook *hooks, size_t nhooks, char *list, size_t listlen)
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
			err = attach_one(l, f, hooks[i].enter, path, site->offset, false, 0);
			if (!err && hooks[i].ret)
				err = attach_one(l, f, hooks[i].ret, path, site->offset, true, 0);
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

void uprobes_detach_start(struct uprobe_links *l)
{
	size_t b;

	for (b = 0; b < UPROBE_BUCKETS; b++) {
		struct uprobe_key *k;

		for (k = l->keys[b]; k; k = k->next)
			detach_links(l, k->file);
	}
}

void uprobes_free(struct uprobe_links *l)
{
	size_t b;

	uprobes_detach_start(l);
	pthread_mutex_lock(&l->lock);
	l->closing = true;
	pthread_cond_signal(&l->wake);
	pthread_mutex_unlock(&l->lock);
	if (l->detacher_up)
		pthread_join(l->detacher, NULL);
	l->detacher_up = false;
	for (b = 0; b < UPROBE_BUCKETS; b++)
		while (l->holders[b])
			uprobes_release(l, l->holders[b]->pid);
	/* files nobody held, and roots' libraries */
	for (b = 0; b < UPROBE_BUCKETS; b++)
		while (l->keys[b]) {
			struct uprobe_file *f = l->keys[b]->file;

			free(f->deps); /* what they keep goes here too */
			f->deps = NULL;
			f->ndeps = 0;
			file_free(l, f);
		}
	free(l->noted);
	l->noted = NULL;
	l->nnoted = l->noted_cap = 0;
	free(l->queue);
	l->queue = NULL;
	l->nqueue = l->queue_cap = 0;
	pthread_mutex_destroy(&l->lock);
	pthread_cond_destroy(&l->wake);
}
