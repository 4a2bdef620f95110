// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
#include "pipeline/targets.h"

#include <ctype.h>
#include <dirent.h>
#include <errno.h>
#include <limits.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "otel_config.h"
#include "pipeline/route.h"
#include "process/cgroup.h"
#include "process/k8s_meta.h"
#include "process/procfs.h"

/* an OTEL_RESOURCE_ATTRIBUTES value longer than this is not read for service.name */
#define OTEL_ENV_VALUE_MAX 8192

struct service {
	struct service *next;
	char name[128];
	struct route_set *routes;
};

struct target {
	struct target *next;
	struct proc_info info;
	unsigned long long start_time; /* /proc/PID/stat field 22: tells PID reuse apart */
	struct service *svc;
	char pod_uid[K8S_UID_MAX]; /* from its cgroup: a kubepods path's */
	bool named_itself;	   /* service.name from its own OTEL_* environment */
	uint64_t k8s_gen;	   /* k8s_meta_generation() of its last lookup */
	bool gone;		   /* targets_reap() found it dead: the next one lets it go */
};

#define GRAVEYARD_MAX 64

struct targets {
	char *service_override;
	size_t route_cap;
	struct target *list;
	/* Processes that just exited: their last events may still be in the ring buffer (a
	 * timer can notice the exit before they are read), and their spans still need a name. */
	struct target *graveyard;
	size_t ngraves;
	struct service *services;
	size_t count;
	struct k8s_meta *k8s; /* NULL: no pod metadata */
};

struct targets *targets_new(const char *service_name, size_t route_cap)
{
	struct targets *t = calloc(1, sizeof(*t));

	if (!t)
		return NULL;
	t->route_cap = route_cap;
	if (service_name && service_name[0]) {
		t->service_override = strdup(service_name);
		if (!t->service_override) {
			free(t);
			return NULL;
		}
	}
	return t;
}

void targets_set_k8s(struct targets *t, struct k8s_meta *k)
{
	t->k8s = k;
}

void targets_free(struct targets *t)
{
	struct target *p, *pn;
	struct service *s, *sn;

	if (!t)
		return;
	for (p = t->list; p; p = pn) {
		pn = p->next;
		free(p);
	}
	for (p = t->graveyard; p; p = pn) {
		pn = p->next;
		free(p);
	}
	for (s = t->services; s; s = sn) {
		sn = s->next;
		route_set_free(s->routes);
		free(s);
	}
	free(t->service_override);
	free(t);
}

static struct service *service_get(struct targets *t, const char *name)
{
	struct service *s;

	for (s = t->services; s; s = s->next)
		if (!strcmp(s->name, name))
			return s;
	s = calloc(1, sizeof(*s));
	if (!s)
		return NULL;
	snprintf(s->name, sizeof(s->name), "%s", name);
	s->routes = route_set_new(t->route_cap);
	if (!s->routes) {
		free(s);
		return NULL;
	}
	s->next = t->services;
	t->services = s;
	return s;
}

/* The service.name a process gives itself, as its OpenTelemetry SDK would: OTEL_SERVICE_NAME,
 * else service.name in OTEL_RESOURCE_ATTRIBUTES, from the environment it started with. */
static bool own_service_name(uint32_t pid, char *out, size_t len)
{
	char *v = malloc(OTEL_ENV_VALUE_MAX);
	bool ok = false;

	if (!v)
		return false;
	if (procfs_read_environ(pid, "OTEL_SERVICE_NAME", out, len) == 0 && out[0])
		ok = true;
	else if (procfs_read_environ(pid, "OTEL_RESOURCE_ATTRIBUTES", v, OTEL_ENV_VALUE_MAX) == 0)
		ok = otel_resource_value(v, "service.name", out, len);
	free(v);
	return ok;
}

/* A new number for p's names, which have just been written (struct proc_info.version). */
static void renumber(struct target *p)
{
	static uint64_t last;

	p->info.version = __atomic_add_fetch(&last, 1, __ATOMIC_RELAXED);
}

/* Its pod's metadata, once the API server has told it: looked up again while its container is
 * unknown there, when what is known has changed since the last look. A process that names
 * nothing itself takes its workload's name as service.name. */
static void k8s_refresh(struct targets *t, struct target *p)
{
	uint64_t gen;

	if (!t->k8s || (!p->info.container_id[0] && !p->pod_uid[0]) ||
	    p->info.k8s.container_name[0])
		return;
	gen = k8s_meta_generation(t->k8s);
	if (gen == p->k8s_gen)
		return;
	p->k8s_gen = gen;
	if (!k8s_meta_lookup(t->k8s, p->info.container_id, p->pod_uid, &p->info.k8s))
		return;
	if (!t->service_override && !p->named_itself) {
		snprintf(p->info.service_name, sizeof(p->info.service_name), "%s",
			 k8s_workload_name(&p->info.k8s));
		p->svc = service_get(t, p->info.service_name);
	}
	renumber(p);
}

/* Names from /proc; a process already gone is named by fallback_comm (what the kernel said
 * at fork or exec), when there is one. */
static void fill_info(struct targets *t, struct target *p, const char *fallback_comm)
{
	char exe[PATH_MAX], comm[64] = "";
	struct cgroup_identity *cg;
	struct procfs_stat ps;
	const char *base;

	if (procfs_read_stat(p->info.pid, 0, &ps) == 0) {
		snprintf(comm, sizeof(comm), "%s", ps.comm);
		p->start_time = ps.start_time;
	} else if (fallback_comm) {
		snprintf(comm, sizeof(comm), "%s", fallback_comm);
	}
	if (procfs_exe(p->info.pid, exe, sizeof(exe)) > 0) {
		base = strrchr(exe, '/');
		base = base ? base + 1 : exe;
	} else {
		base = comm;
	}
	/* a process that is gone keeps the container it was last seen in */
	cg = malloc(sizeof(*cg));
	if (cg && cgroup_read(p->info.pid, cg) == 0) {
		snprintf(p->info.container_id, sizeof(p->info.container_id), "%s",
			 cg->container_id);
		snprintf(p->pod_uid, sizeof(p->pod_uid), "%s", cg->pod_uid);
	}
	free(cg);
	snprintf(p->info.exe_name, sizeof(p->info.exe_name), "%s", base);
	p->named_itself = false;
	if (t->service_override)
		snprintf(p->info.service_name, sizeof(p->info.service_name), "%s",
			 t->service_override);
	else if (own_service_name(p->info.pid, p->info.service_name, sizeof(p->info.service_name)))
		p->named_itself = true;
	else
		snprintf(p->info.service_name, sizeof(p->info.service_name), "%s", base);
	p->k8s_gen = 0;
	p->gone = false; /* (re)learnt: a pid reused since a reap found it dead gets its own look */
	memset(&p->info.k8s, 0, sizeof(p->info.k8s));
	renumber(p);
	k8s_refresh(t, p);
	p->svc = service_get(t, p->info.service_name);
}

static struct target *find_in(struct target *list, uint32_t pid)
{
	struct target *p;

	for (p = list; p; p = p->next)
		if (p->info.pid == pid)
			return p;
	return NULL;
}

static struct target *find(const struct targets *t, uint32_t pid)
{
	return find_in(t->list, pid);
}

static void bury(struct targets *t, struct target *p)
{
	struct target **pp;

	p->next = t->graveyard;
	t->graveyard = p;
	if (++t->ngraves <= GRAVEYARD_MAX)
		return;
	/* the oldest grave goes */
	for (pp = &t->graveyard; (*pp)->next; pp = &(*pp)->next)
		;
	free(*pp);
	*pp = NULL;
	t->ngraves--;
}

uint32_t targets_tgid_of(uint32_t tid)
{
	static const char *const key[] = { "Tgid" };
	unsigned long long tgid = 0;

	procfs_read_status(tid, key, &tgid, 1);
	return tgid && tgid <= UINT32_MAX ? (uint32_t)tgid : tid;
}

static int add_or_refresh(struct targets *t, uint32_t pid, const char *comm)
{
	struct target *p = find(t, pid);

	/* kill() reads 0 as our process group and negative pids as other groups: no such target */
	if (pid == 0 || pid > INT_MAX)
		return -ESRCH;
	if (!comm && kill((pid_t)pid, 0) && errno == ESRCH)
		return -ESRCH;
	if (p) {
		fill_info(t, p, comm);
		return 0;
	}
	p = calloc(1, sizeof(*p));
	if (!p)
		return -ENOMEM;
	p->info.pid = pid;
	fill_info(t, p, comm);
	p->next = t->list;
	t->list = p;
	t->count++;
	return 0;
}

int targets_add(struct targets *t, uint32_t pid)
{
	return add_or_refresh(t, pid, NULL);
}

int targets_note(struct targets *t, uint32_t pid, const char *comm)
{
	return add_or_refresh(t, pid, comm);
}

void targets_remove(struct targets *t, uint32_t pid)
{
	struct target **pp;

	for (pp = &t->list; *pp; pp = &(*pp)->next) {
		if ((*pp)->info.pid == pid) {
			struct target *p = *pp;

			*pp = p->next;
			bury(t, p);
			t->count--;
			return;
		}
	}
}

bool targets_watched(const struct targets *t, uint32_t pid)
{
	return find(t, pid) != NULL;
}

const struct proc_info *targets_get(struct targets *t, uint32_t pid)
{
	struct target *p = find(t, pid);

	if (!p)
		p = find_in(t->graveyard, pid);
	/* a fork event can be lost when the ring is full: learn the process on first sight */
	if (!p && targets_add(t, pid) == 0)
		p = find(t, pid);
	if (p)
		k8s_refresh(t, p);
	return p ? &p->info : NULL;
}

size_t targets_count(const struct targets *t)
{
	return t->count;
}

void targets_reap(struct targets *t, void (*fn)(void *ctx, uint32_t pid), void *ctx)
{
	struct procfs_stat ps;
	struct target *p, *n;

	for (p = t->list; p; p = n) {
		int err = procfs_read_stat(p->info.pid, 0, &ps);

		n = p->next;
		/* a zombie has exited, its parent just has not reaped it yet */
		if (!err && ps.start_time == p->start_time && ps.state != 'Z' && ps.state != 'X')
			continue;
		/* /proc could not be read (obsprobe out of descriptors or memory): no news, and
		 * letting every target go for it would end obsprobe */
		if (err && err != -ESRCH && err != -EINVAL)
			continue;
		/* The events it made before it died, its exit's among them, can still be in the
		 * ring buffer behind a reader that lags (a busy node): let it go now and they
		 * would find its connections closed and its requests lost. They are read before
		 * the next call. */
		if (!p->gone) {
			p->gone = true;
			continue;
		}
		fn(ctx, p->info.pid);
	}
}

size_t targets_descendants(uint32_t root, uint32_t *out, size_t max)
{
	struct {
		uint32_t pid, ppid;
	} *all = NULL;
	size_t nall = 0, cap = 0, nout = 0, i, scan;
	struct dirent *de;
	DIR *d = opendir("/proc");

	if (!d)
		return 0;
	while ((de = readdir(d))) {
		struct procfs_stat ps;
		char *end;
		unsigned long pid = strtoul(de->d_name, &end, 10);

		if (!isdigit((unsigned char)de->d_name[0]) || *end)
			continue;
		if (procfs_read_stat((uint32_t)pid, 0, &ps))
			continue;
		if (nall == cap) {
			void *n = realloc(all, (cap ? cap * 2 : 256) * sizeof(*all));

			if (!n)
				break;
			all = n;
			cap = cap ? cap * 2 : 256;
		}
		all[nall].pid = (uint32_t)pid;
		all[nall].ppid = ps.ppid;
		nall++;
	}
	closedir(d);
	/* breadth-first over the parent links: out[] doubles as the queue */
	for (scan = 0;; scan++) {
		uint32_t parent = scan == 0 ? root : (scan - 1 < nout ? out[scan - 1] : 0);

		if (scan > nout)
			break;
		for (i = 0; i < nall && nout < max; i++)
			if (all[i].ppid == parent && all[i].pid != root)
				out[nout++] = all[i].pid;
	}
	free(all);
	return nout;
}

const char *targets_route(struct targets *t, uint32_t pid, const char *folded)
{
	struct target *p = find(t, pid);

	if (!p)
		p = find_in(t->graveyard, pid);
	if (!p || !p->svc)
		return NULL;
	return route_set_intern(p->svc->routes, folded);
}

unsigned long long targets_route_overflows(const struct targets *t)
{
	unsigned long long n = 0;
	struct service *s;

	for (s = t->services; s; s = s->next)
		n += route_set_overflows(s->routes);
	return n;
}

size_t targets_pids(const struct targets *t, uint32_t *out, size_t max)
{
	struct target *p;
	size_t n = 0;

	for (p = t->list; p && n < max; p = p->next)
		out[n++] = p->info.pid;
	return n;
}
