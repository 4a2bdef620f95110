// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
#include "process/k8s_meta.h"

#include <errno.h>
#include <json-c/json.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "util/hash.h"

#define POD_BUCKETS 1024
#define CTR_BUCKETS 4096
#define OWNER_CACHE_MAX 1024

struct ctr {
	struct ctr *hnext; /* hash chain */
	struct ctr *pnext; /* the pod's containers */
	struct pod *pod;
	char id[K8S_CONTAINER_ID_LEN + 1];
	char name[K8S_CONTAINER_MAX];
};

struct pod {
	struct pod *hnext;
	struct k8s_pod_info info;
	struct ctr *ctrs;
	bool seen; /* in the list being applied */
};

/* A ReplicaSet's or Job's controller, as the API server said (or could not say). */
struct owner {
	struct owner *next;
	uint8_t kind;
	char ns[K8S_NAMESPACE_MAX];
	char name[K8S_NAME_MAX];
	uint8_t top_kind;
	char top_name[K8S_NAME_MAX];
};

struct k8s_meta {
	pthread_mutex_t lock;
	size_t max_pods, npods;
	uint64_t generation, over_cap;
	struct pod *pods[POD_BUCKETS];
	struct ctr *ctrs[CTR_BUCKETS];
	/* the watcher's own: no lock */
	struct owner *owners;
	size_t nowners;
};

/* A pod as parsed, before it is kept. */
struct pod_obj {
	struct k8s_pod_info info;
	size_t nctr;
	struct {
		char id[K8S_CONTAINER_ID_LEN + 1];
		char name[K8S_CONTAINER_MAX];
	} ctr[K8S_POD_CONTAINERS_MAX];
};

static const char *const kind_names[] = {
	[K8S_KIND_NONE] = "",
	[K8S_KIND_REPLICASET] = "ReplicaSet",
	[K8S_KIND_DEPLOYMENT] = "Deployment",
	[K8S_KIND_STATEFULSET] = "StatefulSet",
	[K8S_KIND_DAEMONSET] = "DaemonSet",
	[K8S_KIND_JOB] = "Job",
	[K8S_KIND_CRONJOB] = "CronJob",
	[K8S_KIND_OTHER] = "",
};

static const char *const kind_attrs[] = {
	[K8S_KIND_REPLICASET] = "k8s.replicaset.name",
	[K8S_KIND_DEPLOYMENT] = "k8s.deployment.name",
	[K8S_KIND_STATEFULSET] = "k8s.statefulset.name",
	[K8S_KIND_DAEMONSET] = "k8s.daemonset.name",
	[K8S_KIND_JOB] = "k8s.job.name",
	[K8S_KIND_CRONJOB] = "k8s.cronjob.name",
};

const char *k8s_kind_name(enum k8s_kind k)
{
	return (unsigned int)k <= K8S_KIND_OTHER ? kind_names[k] : "";
}

static enum k8s_kind kind_of(const char *s)
{
	int k;

	if (!s || !*s)
		return K8S_KIND_NONE;
	for (k = K8S_KIND_REPLICASET; k < K8S_KIND_OTHER; k++)
		if (!strcmp(s, kind_names[k]))
			return (enum k8s_kind)k;
	return K8S_KIND_OTHER;
}

static const char *kind_attr(uint8_t k)
{
	return k >= K8S_KIND_REPLICASET && k <= K8S_KIND_CRONJOB ? kind_attrs[k] : NULL;
}

size_t k8s_pod_attrs(const struct k8s_pod_info *i, bool with_uid,
		     struct k8s_attr out[K8S_ATTRS_MAX])
{
	const struct k8s_attr all[] = {
		{ "k8s.namespace.name", i->namespace_name },
		{ "k8s.pod.name", i->pod_name },
		{ "k8s.pod.uid", with_uid ? i->pod_uid : "" },
		{ "k8s.container.name", i->container_name },
		{ "k8s.node.name", i->node_name },
		{ kind_attr(i->owner_kind), i->owner_name },
		{ kind_attr(i->workload_kind), i->workload_name },
	};
	size_t n = 0, j;

	for (j = 0; j < sizeof(all) / sizeof(all[0]); j++)
		if (all[j].key && all[j].value[0])
			out[n++] = all[j];
	return n;
}

const char *k8s_workload_name(const struct k8s_pod_info *i)
{
	static const uint8_t order[] = { K8S_KIND_DEPLOYMENT, K8S_KIND_STATEFULSET,
					 K8S_KIND_DAEMONSET, K8S_KIND_CRONJOB, K8S_KIND_JOB };
	size_t j;

	for (j = 0; j < sizeof(order); j++) {
		if (i->workload_kind == order[j] && i->workload_name[0])
			return i->workload_name;
		if (i->owner_kind == order[j] && i->owner_name[0])
			return i->owner_name;
	}
	return i->pod_name;
}

int k8s_pod_info_cmp(const struct k8s_pod_info *a, const struct k8s_pod_info *b)
{
	int r;

	if ((r = strcmp(a->pod_uid, b->pod_uid)) || (r = strcmp(a->pod_name, b->pod_name)) ||
	    (r = strcmp(a->namespace_name, b->namespace_name)) ||
	    (r = strcmp(a->container_name, b->container_name)) ||
	    (r = strcmp(a->node_name, b->node_name)) ||
	    (r = strcmp(a->owner_name, b->owner_name)) ||
	    (r = strcmp(a->workload_name, b->workload_name)))
		return r;
	if (a->owner_kind != b->owner_kind)
		return a->owner_kind < b->owner_kind ? -1 : 1;
	if (a->workload_kind != b->workload_kind)
		return a->workload_kind < b->workload_kind ? -1 : 1;
	return 0;
}

struct k8s_meta *k8s_meta_new(size_t max_pods)
{
	struct k8s_meta *k = calloc(1, sizeof(*k));

	if (!k)
		return NULL;
	k->max_pods = max_pods;
	pthread_mutex_init(&k->lock, NULL);
	return k;
}

static void pod_free(struct pod *p)
{
	struct ctr *c, *cn;

	for (c = p->ctrs; c; c = cn) {
		cn = c->pnext;
		free(c);
	}
	free(p);
}

void k8s_meta_free(struct k8s_meta *k)
{
	struct owner *o, *on;
	struct pod *p, *pn;
	size_t b;

	if (!k)
		return;
	for (b = 0; b < POD_BUCKETS; b++)
		for (p = k->pods[b]; p; p = pn) {
			pn = p->hnext;
			pod_free(p);
		}
	for (o = k->owners; o; o = on) {
		on = o->next;
		free(o);
	}
	pthread_mutex_destroy(&k->lock);
	free(k);
}

static size_t pod_bucket(const char *uid)
{
	return fnv1a_str(uid) & (POD_BUCKETS - 1);
}

static size_t ctr_bucket(const char *id)
{
	return fnv1a_str(id) & (CTR_BUCKETS - 1);
}

static struct pod **pod_slot(struct k8s_meta *k, const char *uid)
{
	struct pod **pp;

	for (pp = &k->pods[pod_bucket(uid)]; *pp; pp = &(*pp)->hnext)
		if (!strcmp((*pp)->info.pod_uid, uid))
			break;
	return pp;
}

static struct ctr *ctr_find(struct k8s_meta *k, const char *id)
{
	struct ctr *c;

	for (c = k->ctrs[ctr_bucket(id)]; c; c = c->hnext)
		if (!strcmp(c->id, id))
			return c;
	return NULL;
}

bool k8s_meta_lookup(struct k8s_meta *k, const char *container_id, const char *pod_uid,
		     struct k8s_pod_info *out)
{
	struct pod *p = NULL;
	struct ctr *c = NULL;

	memset(out, 0, sizeof(*out));
	if (!k)
		return false;
	pthread_mutex_lock(&k->lock);
	if (container_id && *container_id && (c = ctr_find(k, container_id)))
		p = c->pod;
	if (!p && pod_uid && *pod_uid)
		p = *pod_slot(k, pod_uid);
	if (p) {
		*out = p->info;
		if (c)
			snprintf(out->container_name, sizeof(out->container_name), "%s", c->name);
	}
	pthread_mutex_unlock(&k->lock);
	return p != NULL;
}

uint64_t k8s_meta_generation(struct k8s_meta *k)
{
	uint64_t g;

	if (!k)
		return 0;
	pthread_mutex_lock(&k->lock);
	g = k->generation;
	pthread_mutex_unlock(&k->lock);
	return g;
}

size_t k8s_meta_count(struct k8s_meta *k)
{
	size_t n;

	if (!k)
		return 0;
	pthread_mutex_lock(&k->lock);
	n = k->npods;
	pthread_mutex_unlock(&k->lock);
	return n;
}

uint64_t k8s_meta_over_cap(struct k8s_meta *k)
{
	uint64_t n;

	if (!k)
		return 0;
	pthread_mutex_lock(&k->lock);
	n = k->over_cap;
	pthread_mutex_unlock(&k->lock);
	return n;
}

/* Under the lock: p's containers leave the index. */
static void unindex(struct k8s_meta *k, struct pod *p)
{
	struct ctr *c, **cc;

	for (c = p->ctrs; c; c = c->pnext)
		for (cc = &k->ctrs[ctr_bucket(c->id)]; *cc; cc = &(*cc)->hnext)
			if (*cc == c) {
				*cc = c->hnext;
				break;
			}
}

/* Under the lock: the pod of that UID goes. */
static void pod_delete(struct k8s_meta *k, const char *uid)
{
	struct pod **pp = pod_slot(k, uid), *p = *pp;

	if (!p)
		return;
	*pp = p->hnext;
	unindex(k, p);
	pod_free(p);
	k->npods--;
	k->generation++;
}

/* Under the lock: o is kept, replacing the pod of its UID. */
static int pod_put(struct k8s_meta *k, const struct pod_obj *o)
{
	struct pod **pp = pod_slot(k, o->info.pod_uid), *p = *pp;
	size_t i;

	if (p) {
		*pp = p->hnext;
		unindex(k, p);
		pod_free(p);
		k->npods--;
	}
	k->generation++;
	if (k->npods >= k->max_pods) {
		k->over_cap++;
		return -ENOSPC;
	}
	p = calloc(1, sizeof(*p));
	if (!p)
		return -ENOMEM;
	p->info = o->info;
	p->seen = true;
	for (i = 0; i < o->nctr; i++) {
		struct ctr *c;

		/* one id in two pods: the newer report wins */
		if (ctr_find(k, o->ctr[i].id))
			continue;
		c = calloc(1, sizeof(*c));
		if (!c)
			break;
		memcpy(c->id, o->ctr[i].id, sizeof(c->id));
		memcpy(c->name, o->ctr[i].name, sizeof(c->name));
		c->pod = p;
		c->pnext = p->ctrs;
		p->ctrs = c;
		c->hnext = k->ctrs[ctr_bucket(c->id)];
		k->ctrs[ctr_bucket(c->id)] = c;
	}
	p->hnext = k->pods[pod_bucket(p->info.pod_uid)];
	k->pods[pod_bucket(p->info.pod_uid)] = p;
	k->npods++;
	return 0;
}

static const char *jstr(struct json_object *o, const char *key)
{
	struct json_object *v;

	if (!json_object_is_type(o, json_type_object) || !json_object_object_get_ex(o, key, &v) ||
	    !json_object_is_type(v, json_type_string))
		return NULL;
	return json_object_get_string(v);
}

static struct json_object *jobj(struct json_object *o, const char *key, enum json_type type)
{
	struct json_object *v;

	if (!json_object_is_type(o, json_type_object) || !json_object_object_get_ex(o, key, &v) ||
	    !json_object_is_type(v, type))
		return NULL;
	return v;
}

static void copy(char *dst, size_t n, const char *src)
{
	snprintf(dst, n, "%s", src ? src : "");
}

/* The id of "containerd://ID", "cri-o://ID", "docker://ID": 64 lower-case hex, else false. */
static bool container_id_of(const char *s, char id[K8S_CONTAINER_ID_LEN + 1])
{
	const char *p = s ? strstr(s, "://") : NULL;
	size_t i;

	if (!p)
		return false;
	p += 3;
	for (i = 0; i < K8S_CONTAINER_ID_LEN; i++)
		if (!((p[i] >= '0' && p[i] <= '9') || (p[i] >= 'a' && p[i] <= 'f')))
			return false;
	if (p[i])
		return false;
	memcpy(id, p, K8S_CONTAINER_ID_LEN);
	id[K8S_CONTAINER_ID_LEN] = '\0';
	return true;
}

static void add_statuses(struct pod_obj *o, struct json_object *status, const char *key)
{
	struct json_object *arr = jobj(status, key, json_type_array);
	size_t i, n = arr ? json_object_array_length(arr) : 0;

	for (i = 0; i < n && o->nctr < K8S_POD_CONTAINERS_MAX; i++) {
		struct json_object *cs = json_object_array_get_idx(arr, i);
		const char *name = jstr(cs, "name");

		if (!name || !container_id_of(jstr(cs, "containerID"), o->ctr[o->nctr].id))
			continue; /* not started yet: no id */
		copy(o->ctr[o->nctr].name, sizeof(o->ctr[0].name), name);
		o->nctr++;
	}
}

/* The controller among refs ([{kind, name, controller: true}, ...]). */
static bool controller_of(struct json_object *meta, uint8_t *kind, const char **name)
{
	struct json_object *refs = jobj(meta, "ownerReferences", json_type_array);
	size_t i, n = refs ? json_object_array_length(refs) : 0;

	for (i = 0; i < n; i++) {
		struct json_object *r = json_object_array_get_idx(refs, i);
		struct json_object *c = jobj(r, "controller", json_type_boolean);
		const char *nm = jstr(r, "name");

		if (c && json_object_get_boolean(c) && nm && *nm) {
			*kind = (uint8_t)kind_of(jstr(r, "kind"));
			*name = nm;
			return true;
		}
	}
	return false;
}

/* A pod object into o; false when it is none (no metadata.uid and name). */
static bool pod_parse(struct json_object *pod, struct pod_obj *o, const char **rv)
{
	struct json_object *meta = jobj(pod, "metadata", json_type_object);
	struct json_object *spec = jobj(pod, "spec", json_type_object);
	struct json_object *status = jobj(pod, "status", json_type_object);
	const char *uid = jstr(meta, "uid"), *name = jstr(meta, "name"), *owner = NULL;
	uint8_t kind = K8S_KIND_NONE;

	memset(o, 0, sizeof(*o));
	if (!uid || !*uid || strlen(uid) >= K8S_UID_MAX || !name)
		return false;
	copy(o->info.pod_uid, sizeof(o->info.pod_uid), uid);
	copy(o->info.pod_name, sizeof(o->info.pod_name), name);
	copy(o->info.namespace_name, sizeof(o->info.namespace_name), jstr(meta, "namespace"));
	copy(o->info.node_name, sizeof(o->info.node_name), jstr(spec, "nodeName"));
	if (controller_of(meta, &kind, &owner) && kind != K8S_KIND_OTHER) {
		o->info.owner_kind = kind;
		copy(o->info.owner_name, sizeof(o->info.owner_name), owner);
	}
	add_statuses(o, status, "initContainerStatuses");
	add_statuses(o, status, "containerStatuses");
	add_statuses(o, status, "ephemeralContainerStatuses");
	if (rv)
		*rv = jstr(meta, "resourceVersion");
	return true;
}

static struct owner *owner_cached(struct k8s_meta *k, uint8_t kind, const char *ns,
				  const char *name)
{
	struct owner *o;

	for (o = k->owners; o; o = o->next)
		if (o->kind == kind && !strcmp(o->ns, ns) && !strcmp(o->name, name))
			return o;
	return NULL;
}

/* The Deployment of a ReplicaSet, the CronJob of a Job: asked once per owner (an answer that
 * is not 200 too: a 403 stays a 403), kept until OWNER_CACHE_MAX owners, then asked again. */
static void resolve_owner(struct k8s_meta *k, struct k8s_pod_info *i, k8s_fetch_fn fetch, void *ctx)
{
	const char *group = i->owner_kind == K8S_KIND_REPLICASET
				    ? "apps/v1/namespaces/%s/replicasets"
				    : "batch/v1/namespaces/%s/jobs";
	uint8_t want = i->owner_kind == K8S_KIND_REPLICASET ? K8S_KIND_DEPLOYMENT
							    : K8S_KIND_CRONJOB;
	struct json_object *obj;
	char path[64 + K8S_NAMESPACE_MAX + K8S_NAME_MAX], *body = NULL;
	struct owner *o, *on;
	size_t len = 0;
	int status, n;

	if (i->owner_kind != K8S_KIND_REPLICASET && i->owner_kind != K8S_KIND_JOB)
		return;
	o = owner_cached(k, i->owner_kind, i->namespace_name, i->owner_name);
	if (!o && fetch) {
		n = snprintf(path, sizeof(path), "/apis/");
		n += snprintf(path + n, sizeof(path) - (size_t)n, group, i->namespace_name);
		snprintf(path + n, sizeof(path) - (size_t)n, "/%s", i->owner_name);
		status = fetch(ctx, path, &body, &len);
		if (status < 0) {
			free(body);
			return; /* no answer: asked again at the pod's next event */
		}
		if (k->nowners >= OWNER_CACHE_MAX) {
			for (o = k->owners; o; o = on) {
				on = o->next;
				free(o);
			}
			k->owners = NULL;
			k->nowners = 0;
		}
		o = calloc(1, sizeof(*o));
		if (!o) {
			free(body);
			return;
		}
		o->kind = i->owner_kind;
		copy(o->ns, sizeof(o->ns), i->namespace_name);
		copy(o->name, sizeof(o->name), i->owner_name);
		obj = status == 200 && body ? json_tokener_parse(body) : NULL;
		if (obj) {
			const char *top = NULL;
			uint8_t kind = K8S_KIND_NONE;

			if (controller_of(jobj(obj, "metadata", json_type_object), &kind, &top) &&
			    kind == want) {
				o->top_kind = kind;
				copy(o->top_name, sizeof(o->top_name), top);
			}
			json_object_put(obj);
		}
		free(body);
		o->next = k->owners;
		k->owners = o;
		k->nowners++;
	}
	if (o && o->top_kind) {
		i->workload_kind = o->top_kind;
		copy(i->workload_name, sizeof(i->workload_name), o->top_name);
	}
}

static struct json_object *parse(const char *buf, size_t len)
{
	struct json_tokener *tok;
	struct json_object *o;

	if (!buf || len > INT32_MAX)
		return NULL;
	tok = json_tokener_new();
	if (!tok)
		return NULL;
	o = json_tokener_parse_ex(tok, buf, (int)len);
	if (o && json_tokener_get_error(tok) != json_tokener_success) {
		json_object_put(o);
		o = NULL;
	}
	json_tokener_free(tok);
	return o;
}

static void set_rv(char *rv, size_t rvlen, const char *v)
{
	if (rv && rvlen && v && *v)
		snprintf(rv, rvlen, "%s", v);
}

int k8s_meta_list(struct k8s_meta *k, const char *body, size_t len, k8s_fetch_fn fetch, void *ctx,
		  char *rv, size_t rvlen)
{
	struct json_object *root = parse(body, len), *items;
	struct pod_obj *o = malloc(sizeof(*o));
	struct pod *p, **pp;
	size_t i, n, b;
	int kept;

	items = jobj(root, "items", json_type_array);
	if (!items || !o) {
		json_object_put(root);
		free(o);
		return -EINVAL;
	}
	set_rv(rv, rvlen, jstr(jobj(root, "metadata", json_type_object), "resourceVersion"));
	pthread_mutex_lock(&k->lock);
	for (b = 0; b < POD_BUCKETS; b++)
		for (p = k->pods[b]; p; p = p->hnext)
			p->seen = false;
	pthread_mutex_unlock(&k->lock);
	n = json_object_array_length(items);
	for (i = 0; i < n; i++) {
		if (!pod_parse(json_object_array_get_idx(items, i), o, NULL))
			continue;
		resolve_owner(k, &o->info, fetch, ctx);
		pthread_mutex_lock(&k->lock);
		pod_put(k, o);
		pthread_mutex_unlock(&k->lock);
	}
	/* the pods the list no longer has */
	pthread_mutex_lock(&k->lock);
	for (b = 0; b < POD_BUCKETS; b++)
		for (pp = &k->pods[b]; *pp;) {
			p = *pp;
			if (p->seen) {
				pp = &p->hnext;
				continue;
			}
			*pp = p->hnext;
			unindex(k, p);
			pod_free(p);
			k->npods--;
			k->generation++;
		}
	kept = (int)k->npods;
	pthread_mutex_unlock(&k->lock);
	json_object_put(root);
	free(o);
	return kept;
}

enum k8s_watch_result k8s_meta_watch_line(struct k8s_meta *k, const char *line, size_t len,
					  k8s_fetch_fn fetch, void *ctx, char *rv, size_t rvlen)
{
	static const char *const types[] = {
		[K8S_WATCH_ADDED] = "ADDED",	 [K8S_WATCH_MODIFIED] = "MODIFIED",
		[K8S_WATCH_DELETED] = "DELETED", [K8S_WATCH_BOOKMARK] = "BOOKMARK",
		[K8S_WATCH_ERROR] = "ERROR",
	};
	enum k8s_watch_result r = K8S_WATCH_INVALID;
	struct json_object *root = parse(line, len), *obj, *code;
	const char *type = jstr(root, "type"), *v = NULL;
	struct pod_obj *o;
	size_t t;

	obj = jobj(root, "object", json_type_object);
	for (t = 0; type && obj && t < sizeof(types) / sizeof(types[0]); t++)
		if (types[t] && !strcmp(type, types[t]))
			r = (enum k8s_watch_result)t;
	switch (r) {
	case K8S_WATCH_ADDED:
	case K8S_WATCH_MODIFIED:
	case K8S_WATCH_DELETED:
		o = malloc(sizeof(*o));
		if (!o || !pod_parse(obj, o, &v)) {
			free(o);
			r = K8S_WATCH_INVALID;
			break;
		}
		set_rv(rv, rvlen, v);
		if (r != K8S_WATCH_DELETED)
			resolve_owner(k, &o->info, fetch, ctx);
		pthread_mutex_lock(&k->lock);
		if (r == K8S_WATCH_DELETED)
			pod_delete(k, o->info.pod_uid);
		else
			pod_put(k, o);
		pthread_mutex_unlock(&k->lock);
		free(o);
		break;
	case K8S_WATCH_BOOKMARK:
		set_rv(rv, rvlen, jstr(jobj(obj, "metadata", json_type_object), "resourceVersion"));
		break;
	case K8S_WATCH_ERROR:
		code = jobj(obj, "code", json_type_int);
		if (code && json_object_get_int(code) == 410)
			r = K8S_WATCH_GONE;
		break;
	default:
		break;
	}
	json_object_put(root);
	return r;
}

const char *k8s_watch_result_name(enum k8s_watch_result r)
{
	static const char *const names[] = {
		[K8S_WATCH_INVALID] = "invalid",   [K8S_WATCH_ADDED] = "added",
		[K8S_WATCH_MODIFIED] = "modified", [K8S_WATCH_DELETED] = "deleted",
		[K8S_WATCH_BOOKMARK] = "bookmark", [K8S_WATCH_GONE] = "gone",
		[K8S_WATCH_ERROR] = "error",
	};

	return (unsigned int)r <= K8S_WATCH_ERROR ? names[r] : "?";
}
