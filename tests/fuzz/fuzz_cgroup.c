// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/*
 * Input: the text of a /proc/PID/cgroup file, handed over as is (libFuzzer's buffer has the
 * input's exact size and no NUL after it, so ASan sees any read past len). Its first line, cut
 * to CGROUP_PATH_MAX - 1 bytes, is also tried as a cgroup prefix, a path and a container id.
 *
 * Besides the sanitizers, checks that every field is NUL-terminated in its array; that a failed
 * parse leaves them all empty and a good one has an absolute path of one line, taken from the
 * input; that a container id is 64 lower-case hex characters found in the input, with a known
 * runtime (and no runtime without an id); that a pod UID is 8-4-4-4-12 hex with dashes; that a
 * container in the path shows in the result; and the laws of cgroup_path_under (a path is under
 * itself, its parents and the root, unless it starts like a mount point) and of
 * cgroup_container_matches (the full id and its first 12 characters match, 11 do not).
 */
#include <assert.h>
#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "process/cgroup.h"

static void check_fields(const struct cgroup_identity *ci, const uint8_t *data, size_t size)
{
	static const char *const runtimes[] = { "", "docker", "containerd", "cri-o", "podman" };
	size_t i, n;
	bool known = false;

	assert(memchr(ci->path, '\0', sizeof(ci->path)));
	assert(memchr(ci->container_id, '\0', sizeof(ci->container_id)));
	assert(memchr(ci->runtime, '\0', sizeof(ci->runtime)));
	assert(memchr(ci->pod_uid, '\0', sizeof(ci->pod_uid)));

	n = strlen(ci->container_id);
	assert(n == 0 || n == 64);
	assert(strspn(ci->container_id, "0123456789abcdef") == n);
	assert(!n || memmem(data, size, ci->container_id, n));
	for (i = 0; i < sizeof(runtimes) / sizeof(runtimes[0]); i++)
		known |= !strcmp(ci->runtime, runtimes[i]);
	assert(known);
	assert(n || !ci->runtime[0]);

	n = strlen(ci->pod_uid);
	assert(n == 0 || n == 36);
	for (i = 0; i < n; i++) {
		if (i == 8 || i == 13 || i == 18 || i == 23)
			assert(ci->pod_uid[i] == '-');
		else
			assert(strchr("0123456789abcdef", ci->pod_uid[i]));
	}
}

static void check_path_laws(const char *path)
{
	char parent[CGROUP_PATH_MAX], *slash;

	/* a prefix that starts with a mount point loses it: no law for a path that does */
	if (!strncmp(path, "/sys/fs/cgroup", 14))
		return;
	assert(cgroup_path_under(path, path));
	assert(cgroup_path_under(path, "/"));
	assert(cgroup_path_under(path, "/sys/fs/cgroup"));
	snprintf(parent, sizeof(parent), "%s", path);
	while ((slash = strrchr(parent, '/')) && slash != parent) {
		*slash = '\0';
		assert(cgroup_path_under(path, parent));
	}
}

static void check_id_laws(const char *id)
{
	char part[CGROUP_ID_LEN + 1];

	assert(cgroup_container_matches(id, id));
	memcpy(part, id, CGROUP_ID_SHORT);
	part[CGROUP_ID_SHORT] = '\0';
	assert(cgroup_container_matches(id, part));
	part[CGROUP_ID_SHORT - 1] = '\0';
	assert(!cgroup_container_matches(id, part));
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char first[CGROUP_PATH_MAX], id[CGROUP_ID_LEN + 1], rt[16];
	struct cgroup_identity ci;
	const uint8_t *nl;
	size_t n;
	int err;

	err = cgroup_parse((const char *)data, size, &ci);
	assert(err == 0 || err == -EINVAL);
	check_fields(&ci, data, size);
	if (err) {
		assert(!ci.path[0] && !ci.container_id[0] && !ci.runtime[0] && !ci.pod_uid[0]);
	} else {
		assert(ci.path[0] == '/' && !strchr(ci.path, '\n'));
		assert(memmem(data, size, ci.path, strlen(ci.path)));
		check_path_laws(ci.path);
		/* the line the path came from has its say: the id is its own or another line's */
		if (cgroup_container_of_path(ci.path, id, rt))
			assert(ci.container_id[0]);
	}
	if (ci.container_id[0])
		check_id_laws(ci.container_id);

	nl = memchr(data, '\n', size);
	n = nl ? (size_t)(nl - data) : size;
	if (n >= sizeof(first))
		n = sizeof(first) - 1;
	memcpy(first, data, n);
	first[n] = '\0';
	if (!err)
		(void)cgroup_path_under(ci.path, first);
	(void)cgroup_path_under(first, first);
	(void)cgroup_container_matches(ci.container_id, first);
	(void)cgroup_container_of_path(first, id, rt);
	(void)cgroup_pod_of_path(first, ci.pod_uid);
	return 0;
}
