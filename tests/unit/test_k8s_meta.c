// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/* Kubernetes pod metadata: pod lists and watch lines as the API server sends them, owners
 * resolved through a fake API server, lookups by container id and pod UID, the cap. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include "unit.h"

#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "k8s_pods.h"
#include "pipeline/span.h"
#include "process/k8s_meta.h"

/* The API server's answers to the owner GETs; calls counted. */
struct fake_api {
	int calls;
	bool down; /* no answer at all */
	char last[512];
};

static int fake_fetch(void *ctx, const char *path, char **body, size_t *len)
{
	struct fake_api *f = ctx;
	const char *answer = NULL;
	int status = 200;

	f->calls++;
	snprintf(f->last, sizeof(f->last), "%s", path);
	*body = NULL;
	*len = 0;
	if (f->down)
		return -EIO;
	if (!strcmp(path, "/apis/apps/v1/namespaces/shop/replicasets/web-7d9f8b6c5d"))
		answer = REPLICASET_WEB;
	else if (!strcmp(path, "/apis/batch/v1/namespaces/batch/jobs/report-28571040"))
		answer = JOB_REPORT;
	if (!answer) {
		status = 404;
		answer = "{\"kind\":\"Status\",\"apiVersion\":\"v1\",\"metadata\":{},\"status\":"
			 "\"Failure\",\"reason\":\"NotFound\",\"code\":404}";
	}
	*body = strdup(answer);
	*len = strlen(answer);
	return status;
}

static int list(struct k8s_meta *k, const char *body, struct fake_api *f, char *rv)
{
	return k8s_meta_list(k, body, strlen(body), fake_fetch, f, rv, 64);
}

static enum k8s_watch_result line(struct k8s_meta *k, const char *l, struct fake_api *f, char *rv)
{
	return k8s_meta_watch_line(k, l, strlen(l), fake_fetch, f, rv, 64);
}

UNIT_TEST(test_list_deployment_statefulset_cronjob_bare)
{
	struct k8s_meta *k = k8s_meta_new(16);
	struct fake_api f = {};
	struct k8s_pod_info i;
	char rv[64] = "";

	(void)state;
	assert_int_equal(list(k,
			      POD_LIST("48600",
				       POD_WEB(STATUS_WEB "," STATUS_SIDECAR) "," POD_DB "," POD_JOB
									      "," POD_BARE
									      "," POD_PENDING),
			      &f, rv),
			 5);
	assert_string_equal(rv, "48600");
	assert_int_equal(k8s_meta_count(k), 5);

	assert_true(k8s_meta_lookup(k, ID_WEB, NULL, &i));
	assert_string_equal(i.pod_name, "web-7d9f8b6c5d-x2x4q");
	assert_string_equal(i.namespace_name, "shop");
	assert_string_equal(i.pod_uid, UID_WEB);
	assert_string_equal(i.node_name, "node-a");
	assert_string_equal(i.container_name, "web");
	assert_int_equal(i.owner_kind, K8S_KIND_REPLICASET);
	assert_string_equal(i.owner_name, "web-7d9f8b6c5d");
	assert_int_equal(i.workload_kind, K8S_KIND_DEPLOYMENT);
	assert_string_equal(i.workload_name, "web");
	assert_string_equal(k8s_workload_name(&i), "web");
	assert_true(k8s_meta_lookup(k, ID_SIDECAR, NULL, &i));
	assert_string_equal(i.container_name, "envoy");
	assert_true(k8s_meta_lookup(k, ID_INIT, NULL, &i)); /* init containers too */
	assert_string_equal(i.container_name, "migrate");

	assert_true(k8s_meta_lookup(k, ID_DB, NULL, &i)); /* cri-o:// */
	assert_string_equal(i.pod_name, "pg-0");
	assert_string_equal(i.container_name, "postgres");
	assert_int_equal(i.owner_kind, K8S_KIND_STATEFULSET);
	assert_int_equal(i.workload_kind, K8S_KIND_NONE);
	assert_string_equal(k8s_workload_name(&i), "pg");

	assert_true(k8s_meta_lookup(k, ID_JOB, NULL, &i)); /* docker:// */
	assert_int_equal(i.owner_kind, K8S_KIND_JOB);
	assert_string_equal(i.owner_name, "report-28571040");
	assert_int_equal(i.workload_kind, K8S_KIND_CRONJOB);
	assert_string_equal(i.workload_name, "report");
	assert_string_equal(k8s_workload_name(&i), "report");

	assert_true(k8s_meta_lookup(k, ID_BARE, NULL, &i));
	assert_int_equal(i.owner_kind, K8S_KIND_NONE);
	assert_string_equal(k8s_workload_name(&i), "debug");

	/* the ReplicaSet nobody has (404) leaves the pending pod with its ReplicaSet only */
	assert_false(k8s_meta_lookup(k, ID_LATE, NULL, &i));
	assert_string_equal(i.pod_name, "");
	assert_true(k8s_meta_lookup(k, ID_LATE, UID_PENDING, &i));
	assert_string_equal(i.pod_name, "api-5c6d7e8f9a-abcde");
	assert_string_equal(i.container_name, "");
	assert_int_equal(i.owner_kind, K8S_KIND_REPLICASET);
	assert_int_equal(i.workload_kind, K8S_KIND_NONE);
	assert_string_equal(k8s_workload_name(&i), "api-5c6d7e8f9a-abcde");
	assert_int_equal(f.calls, 3); /* two ReplicaSets, one Job */
	k8s_meta_free(k);
}

UNIT_TEST(test_owner_cached_and_retried_when_down)
{
	struct k8s_meta *k = k8s_meta_new(16);
	struct fake_api f = { .down = true };
	struct k8s_pod_info i;
	char rv[64] = "";

	(void)state;
	assert_int_equal(line(k, EVENT("ADDED", POD_WEB(STATUS_WEB)), &f, rv), K8S_WATCH_ADDED);
	assert_int_equal(f.calls, 1);
	assert_true(k8s_meta_lookup(k, ID_WEB, NULL, &i));
	assert_string_equal(i.workload_name, ""); /* the API server did not answer */
	assert_string_equal(k8s_workload_name(&i), "web-7d9f8b6c5d-x2x4q");
	f.down = false;
	assert_int_equal(line(k, EVENT("MODIFIED", POD_WEB(STATUS_WEB)), &f, rv),
			 K8S_WATCH_MODIFIED);
	assert_int_equal(f.calls, 2);
	assert_string_equal(f.last, "/apis/apps/v1/namespaces/shop/replicasets/web-7d9f8b6c5d");
	assert_true(k8s_meta_lookup(k, ID_WEB, NULL, &i));
	assert_string_equal(i.workload_name, "web");
	/* asked once per ReplicaSet */
	assert_int_equal(line(k, EVENT("MODIFIED", POD_WEB(STATUS_WEB)), &f, rv),
			 K8S_WATCH_MODIFIED);
	assert_int_equal(f.calls, 2);
	assert_string_equal(rv, "48211");
	k8s_meta_free(k);
}

UNIT_TEST(test_watch_lines)
{
	struct k8s_meta *k = k8s_meta_new(16);
	struct fake_api f = {};
	struct k8s_pod_info i;
	char rv[64] = "1";
	uint64_t g;

	(void)state;
	assert_int_equal(list(k, POD_LIST("100", POD_BARE), &f, rv), 1);
	g = k8s_meta_generation(k);
	/* the sidecar not started yet: only the web container is known */
	assert_int_equal(line(k, EVENT("ADDED", POD_WEB(STATUS_WEB "," STATUS_SIDECAR_WAITING)), &f,
			      rv),
			 K8S_WATCH_ADDED);
	assert_int_not_equal(k8s_meta_generation(k), g);
	assert_true(k8s_meta_lookup(k, ID_WEB, NULL, &i));
	assert_false(k8s_meta_lookup(k, ID_SIDECAR, NULL, &i));
	assert_true(k8s_meta_lookup(k, ID_SIDECAR, UID_WEB, &i)); /* by its pod's UID */
	assert_string_equal(i.container_name, "");
	/* MODIFIED: the sidecar has its id now */
	g = k8s_meta_generation(k);
	assert_int_equal(line(k, EVENT("MODIFIED", POD_WEB(STATUS_WEB "," STATUS_SIDECAR)), &f, rv),
			 K8S_WATCH_MODIFIED);
	assert_int_not_equal(k8s_meta_generation(k), g);
	assert_true(k8s_meta_lookup(k, ID_SIDECAR, NULL, &i));
	assert_string_equal(i.container_name, "envoy");
	assert_int_equal(k8s_meta_count(k), 2);

	/* BOOKMARK: only the resourceVersion */
	g = k8s_meta_generation(k);
	assert_int_equal(
		line(k,
		     "{\"type\":\"BOOKMARK\",\"object\":{\"kind\":\"Pod\",\"apiVersion\":"
		     "\"v1\",\"metadata\":{\"resourceVersion\":\"49000\",\"creationTimestamp"
		     "\":null,\"annotations\":{\"k8s.io/initial-events-end\":\"true\"}},"
		     "\"spec\":{\"containers\":null},\"status\":{}}}",
		     &f, rv),
		K8S_WATCH_BOOKMARK);
	assert_string_equal(rv, "49000");
	assert_int_equal(k8s_meta_generation(k), g);

	/* DELETED: the pod and its containers go */
	assert_int_equal(line(k, EVENT("DELETED", POD_WEB(STATUS_WEB "," STATUS_SIDECAR)), &f, rv),
			 K8S_WATCH_DELETED);
	assert_false(k8s_meta_lookup(k, ID_WEB, UID_WEB, &i));
	assert_false(k8s_meta_lookup(k, ID_SIDECAR, NULL, &i));
	assert_int_equal(k8s_meta_count(k), 1);
	assert_string_equal(rv, "48211");

	/* ERROR 410: list again; another ERROR: watch again */
	assert_int_equal(
		line(k,
		     "{\"type\":\"ERROR\",\"object\":{\"kind\":\"Status\",\"apiVersion\":"
		     "\"v1\",\"metadata\":{},\"status\":\"Failure\",\"message\":\"too old "
		     "resource version: 48211 (49100)\",\"reason\":\"Expired\",\"code\":410}}",
		     &f, rv),
		K8S_WATCH_GONE);
	assert_int_equal(
		line(k,
		     "{\"type\":\"ERROR\",\"object\":{\"kind\":\"Status\",\"apiVersion\":"
		     "\"v1\",\"metadata\":{},\"status\":\"Failure\",\"message\":\"internal "
		     "error\",\"reason\":\"InternalError\",\"code\":500}}",
		     &f, rv),
		K8S_WATCH_ERROR);
	/* not events */
	assert_int_equal(line(k, "", &f, rv), K8S_WATCH_INVALID);
	assert_int_equal(line(k, "{\"type\":\"ADDED\"}", &f, rv), K8S_WATCH_INVALID);
	assert_int_equal(line(k, "{\"type\":\"ADDED\",\"object\":{\"metadata\":{}}}", &f, rv),
			 K8S_WATCH_INVALID);
	assert_int_equal(line(k, "{\"type\":\"RENAMED\",\"object\":{}}", &f, rv),
			 K8S_WATCH_INVALID);
	assert_int_equal(line(k, "[1,2]", &f, rv), K8S_WATCH_INVALID);
	assert_int_equal(line(k, "{\"type\":\"ADDED\",\"object\":" POD_BARE, &f, rv),
			 K8S_WATCH_INVALID); /* cut short */
	assert_int_equal(k8s_meta_count(k), 1);
	assert_string_equal(k8s_watch_result_name(K8S_WATCH_GONE), "gone");
	k8s_meta_free(k);
}

UNIT_TEST(test_relist_replaces)
{
	struct k8s_meta *k = k8s_meta_new(16);
	struct fake_api f = {};
	struct k8s_pod_info i;
	char rv[64] = "";

	(void)state;
	assert_int_equal(list(k, POD_LIST("1", POD_BARE "," POD_DB), &f, rv), 2);
	assert_int_equal(list(k, POD_LIST("2", POD_DB "," POD_JOB), &f, rv), 2);
	assert_false(k8s_meta_lookup(k, ID_BARE, UID_BARE, &i));
	assert_true(k8s_meta_lookup(k, ID_DB, NULL, &i));
	assert_true(k8s_meta_lookup(k, ID_JOB, NULL, &i));
	assert_string_equal(rv, "2");
	/* no PodList: nothing changes */
	assert_int_equal(list(k, "{\"kind\":\"Status\",\"code\":403}", &f, rv), -EINVAL);
	assert_int_equal(list(k, "not json", &f, rv), -EINVAL);
	assert_int_equal(k8s_meta_count(k), 2);
	assert_string_equal(rv, "2");
	k8s_meta_free(k);
}

UNIT_TEST(test_cap)
{
	struct k8s_meta *k = k8s_meta_new(2);
	struct fake_api f = {};
	struct k8s_pod_info i;
	char rv[64] = "";

	(void)state;
	assert_int_equal(list(k, POD_LIST("1", POD_BARE "," POD_DB "," POD_JOB), &f, rv), 2);
	assert_int_equal(k8s_meta_over_cap(k), 1);
	assert_false(k8s_meta_lookup(k, ID_JOB, NULL, &i));
	assert_int_equal(line(k, EVENT("ADDED", POD_WEB(STATUS_WEB)), &f, rv), K8S_WATCH_ADDED);
	assert_int_equal(k8s_meta_over_cap(k), 2);
	assert_int_equal(k8s_meta_count(k), 2);
	/* room again after a deletion */
	assert_int_equal(line(k, EVENT("DELETED", POD_BARE), &f, rv), K8S_WATCH_DELETED);
	assert_int_equal(line(k, EVENT("ADDED", POD_WEB(STATUS_WEB)), &f, rv), K8S_WATCH_ADDED);
	assert_true(k8s_meta_lookup(k, ID_WEB, NULL, &i));
	/* a pod kept can always be modified */
	assert_int_equal(line(k, EVENT("MODIFIED", POD_WEB(STATUS_WEB "," STATUS_SIDECAR)), &f, rv),
			 K8S_WATCH_MODIFIED);
	assert_true(k8s_meta_lookup(k, ID_SIDECAR, NULL, &i));
	assert_int_equal(k8s_meta_over_cap(k), 2);
	k8s_meta_free(k);
	k8s_meta_free(NULL);
	assert_false(k8s_meta_lookup(NULL, ID_WEB, UID_WEB, &i));
}

UNIT_TEST(test_attrs)
{
	struct k8s_meta *k = k8s_meta_new(16);
	struct k8s_attr a[K8S_ATTRS_MAX];
	struct k8s_pod_info i, j;
	struct fake_api f = {};
	char rv[64] = "";
	size_t n;

	(void)state;
	list(k, POD_LIST("1", POD_WEB(STATUS_WEB) "," POD_JOB), &f, rv);
	assert_true(k8s_meta_lookup(k, ID_WEB, NULL, &i));
	n = k8s_pod_attrs(&i, true, a);
	assert_int_equal(n, 7);
	assert_string_equal(a[0].key, "k8s.namespace.name");
	assert_string_equal(a[0].value, "shop");
	assert_string_equal(a[1].key, "k8s.pod.name");
	assert_string_equal(a[2].key, "k8s.pod.uid");
	assert_string_equal(a[3].key, "k8s.container.name");
	assert_string_equal(a[3].value, "web");
	assert_string_equal(a[4].key, "k8s.node.name");
	assert_string_equal(a[5].key, "k8s.replicaset.name");
	assert_string_equal(a[6].key, "k8s.deployment.name");
	assert_string_equal(a[6].value, "web");
	assert_int_equal(k8s_pod_attrs(&i, false, a), 6);
	assert_true(k8s_meta_lookup(k, ID_JOB, NULL, &j));
	n = k8s_pod_attrs(&j, false, a);
	assert_string_equal(a[n - 2].key, "k8s.job.name");
	assert_string_equal(a[n - 1].key, "k8s.cronjob.name");
	assert_int_not_equal(k8s_pod_info_cmp(&i, &j), 0);
	assert_int_equal(k8s_pod_info_cmp(&i, &i), 0);
	memset(&j, 0, sizeof(j));
	assert_int_equal(k8s_pod_attrs(&j, true, a), 0);
	assert_string_equal(k8s_workload_name(&j), "");
	k8s_meta_free(k);
}

UNIT_MAIN(NULL, NULL)
