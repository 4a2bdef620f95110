// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/*
 * Input: what the Kubernetes API server might send: its first byte picks how the rest is read
 * (even: a pod list answer, then each line of what follows it as a watch event; odd: watch
 * lines only), and the owner GETs are answered with the input itself (a ReplicaSet or Job that
 * may be anything). libFuzzer's buffer has the input's exact size and no NUL after it, so ASan
 * sees any read past len.
 *
 * Besides the sanitizers, checks that every field of a lookup's answer is NUL-terminated in its
 * array; that a lookup with no key finds nothing; that the pods kept never pass the cap; that
 * the attributes have k8s.* keys and non-empty values; and that the resourceVersion stays a
 * string.
 */
#include <assert.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "process/k8s_meta.h"

#define CAP 8

struct input {
	const uint8_t *data;
	size_t size;
};

static int fetch(void *ctx, const char *path, char **body, size_t *len)
{
	const struct input *in = ctx;

	assert(path[0] == '/');
	*body = malloc(in->size + 1);
	if (!*body)
		return -12;
	memcpy(*body, in->data, in->size);
	(*body)[in->size] = '\0';
	*len = in->size;
	return in->size & 1 ? 200 : 404;
}

static void check_info(const struct k8s_pod_info *i)
{
	struct k8s_attr a[K8S_ATTRS_MAX];
	size_t n, j;

	assert(memchr(i->pod_name, '\0', sizeof(i->pod_name)));
	assert(memchr(i->namespace_name, '\0', sizeof(i->namespace_name)));
	assert(memchr(i->pod_uid, '\0', sizeof(i->pod_uid)));
	assert(memchr(i->node_name, '\0', sizeof(i->node_name)));
	assert(memchr(i->container_name, '\0', sizeof(i->container_name)));
	assert(memchr(i->owner_name, '\0', sizeof(i->owner_name)));
	assert(memchr(i->workload_name, '\0', sizeof(i->workload_name)));
	assert(i->owner_kind <= K8S_KIND_OTHER && i->workload_kind <= K8S_KIND_OTHER);
	n = k8s_pod_attrs(i, true, a);
	assert(n <= K8S_ATTRS_MAX);
	for (j = 0; j < n; j++)
		assert(!strncmp(a[j].key, "k8s.", 4) && a[j].value[0]);
	assert(k8s_workload_name(i));
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct input in = { data, size };
	struct k8s_meta *k = k8s_meta_new(CAP);
	const char *p, *end, *nl;
	struct k8s_pod_info info;
	char rv[32] = "";

	if (!k || !size) {
		k8s_meta_free(k);
		return 0;
	}
	p = (const char *)data + 1;
	end = (const char *)data + size;
	if (!(data[0] & 1)) {
		nl = memchr(p, '\n', (size_t)(end - p));
		k8s_meta_list(k, p, (size_t)((nl ? nl : end) - p), fetch, &in, rv, sizeof(rv));
		p = nl ? nl + 1 : end;
	}
	while (p < end) {
		nl = memchr(p, '\n', (size_t)(end - p));
		k8s_meta_watch_line(k, p, (size_t)((nl ? nl : end) - p), fetch, &in, rv,
				    sizeof(rv));
		assert(memchr(rv, '\0', sizeof(rv)));
		assert(k8s_meta_count(k) <= CAP);
		p = nl ? nl + 1 : end;
	}
	assert(!k8s_meta_lookup(k, NULL, NULL, &info));
	assert(!k8s_meta_lookup(k, "", "", &info));
	check_info(&info);
	/* every 64-hex run and UID-shaped run of the input, looked up */
	for (p = (const char *)data; p + 64 <= end; p++) {
		char id[65], uid[37];

		memcpy(id, p, 64);
		id[64] = '\0';
		if (k8s_meta_lookup(k, id, NULL, &info))
			check_info(&info);
		if (p + 36 <= end) {
			memcpy(uid, p, 36);
			uid[36] = '\0';
			if (k8s_meta_lookup(k, NULL, uid, &info))
				check_info(&info);
		}
	}
	k8s_meta_free(k);
	return 0;
}
