/* SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause) */
/*
 * The Kubernetes pods of this node as the API server describes them: name, namespace, UID, node,
 * each container's name by its container id, and the controller that owns the pod (a ReplicaSet
 * resolved to its Deployment, a Job to its CronJob). Pure: what the API server said comes in as
 * bytes (a pod list, watch event lines) and through a fetch function the caller supplies (the
 * GETs of ReplicaSets and Jobs), so that unit tests and fuzzers drive it without a network.
 * The list and watch functions are called from one thread; lookups from any.
 */
#ifndef OBSPROBE_K8S_META_H
#define OBSPROBE_K8S_META_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define K8S_NAME_MAX 254     /* a DNS subdomain (253) and its NUL */
#define K8S_NAMESPACE_MAX 64 /* a DNS label (63) and its NUL */
#define K8S_UID_MAX 37	     /* 8-4-4-4-12 hex digits and dashes, and the NUL */
#define K8S_CONTAINER_MAX 64 /* a container name is a DNS label */
#define K8S_CONTAINER_ID_LEN 64
#define K8S_POD_CONTAINERS_MAX 64 /* containers (init ones too) kept per pod */
#define K8S_ATTRS_MAX 11

enum k8s_kind {
	K8S_KIND_NONE,
	K8S_KIND_REPLICASET,
	K8S_KIND_DEPLOYMENT,
	K8S_KIND_STATEFULSET,
	K8S_KIND_DAEMONSET,
	K8S_KIND_JOB,
	K8S_KIND_CRONJOB,
	K8S_KIND_OTHER, /* a controller of another kind (a custom resource's): not named */
};

/* What a process learns of its pod: flat, copied by value. "" for what is not known. */
struct k8s_pod_info {
	char pod_name[K8S_NAME_MAX];
	char namespace_name[K8S_NAMESPACE_MAX];
	char pod_uid[K8S_UID_MAX];
	char node_name[K8S_NAME_MAX];
	char container_name[K8S_CONTAINER_MAX]; /* "" when found by pod UID alone */
	uint8_t owner_kind;			/* enum k8s_kind: the pod's controller */
	uint8_t workload_kind; /* the owner's controller: Deployment, CronJob, else NONE */
	char owner_name[K8S_NAME_MAX];
	char workload_name[K8S_NAME_MAX];
};

/* One resource attribute: key is an OpenTelemetry k8s.* name, value never "". */
struct k8s_attr {
	const char *key;
	const char *value;
};

/* The k8s.* attributes of info that are set (k8s.pod.uid only when with_uid), into out;
 * returns how many. Values point into info. */
size_t k8s_pod_attrs(const struct k8s_pod_info *info, bool with_uid,
		     struct k8s_attr out[K8S_ATTRS_MAX]);
/* The name of the workload that runs the pod, for service.name: its Deployment, else
 * StatefulSet, DaemonSet, CronJob, Job, else the pod's own name; "" for no pod. */
const char *k8s_workload_name(const struct k8s_pod_info *info);
/* 0 when a and b say the same; an order otherwise. */
int k8s_pod_info_cmp(const struct k8s_pod_info *a, const struct k8s_pod_info *b);
const char *k8s_kind_name(enum k8s_kind k); /* "ReplicaSet", ...; "" for NONE */

struct k8s_meta;

/* max_pods: pods kept at once; more are counted (k8s_meta_over_cap) and left out. */
struct k8s_meta *k8s_meta_new(size_t max_pods);
void k8s_meta_free(struct k8s_meta *k); /* NULL ok */

/*
 * The pod a container (64 hex, as process/cgroup.c gives it) runs in, else the pod of that UID
 * (fallback: a container the API server has not reported yet). Copies into out; false (out
 * all "") when neither is known. Either argument may be NULL or "". Thread-safe.
 */
bool k8s_meta_lookup(struct k8s_meta *k, const char *container_id, const char *pod_uid,
		     struct k8s_pod_info *out);
/* Changes at every change of what lookups would return: a caller that looked up in vain under
 * one generation need not look again until it changes. */
uint64_t k8s_meta_generation(struct k8s_meta *k);
size_t k8s_meta_count(struct k8s_meta *k);
uint64_t k8s_meta_over_cap(struct k8s_meta *k);

/*
 * GET path of the API server (path and query, as "/apis/apps/v1/namespaces/NS/replicasets/N").
 * Returns the HTTP status with the body in *body (malloc'd, NUL-terminated, *len bytes; the
 * caller frees it), or a negative errno when no answer came.
 */
typedef int (*k8s_fetch_fn)(void *ctx, const char *path, char **body, size_t *len);

/*
 * A PodList (the answer to LIST /api/v1/pods): replaces every pod kept. Owners are resolved
 * through fetch (may be NULL: not resolved), cached per ReplicaSet and Job. The list's
 * resourceVersion goes to rv. Returns the pods kept, or -EINVAL (nothing changed) when body is
 * no PodList.
 */
int k8s_meta_list(struct k8s_meta *k, const char *body, size_t len, k8s_fetch_fn fetch, void *ctx,
		  char *rv, size_t rvlen);

enum k8s_watch_result {
	K8S_WATCH_INVALID, /* not a watch event: ignored */
	K8S_WATCH_ADDED,
	K8S_WATCH_MODIFIED,
	K8S_WATCH_DELETED,
	K8S_WATCH_BOOKMARK,
	K8S_WATCH_GONE,	 /* ERROR 410: the resourceVersion is too old; list again */
	K8S_WATCH_ERROR, /* another ERROR: watch again, after a pause */
};

/* One line of a watch stream ({"type":...,"object":...}): applied to what is kept. The
 * object's resourceVersion (a pod's, a bookmark's) goes to rv; rv is unchanged otherwise. */
enum k8s_watch_result k8s_meta_watch_line(struct k8s_meta *k, const char *line, size_t len,
					  k8s_fetch_fn fetch, void *ctx, char *rv, size_t rvlen);
const char *k8s_watch_result_name(enum k8s_watch_result r);

#endif /* OBSPROBE_K8S_META_H */
