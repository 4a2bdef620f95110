/* SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause) */
/*
 * Who a process is, as its cgroup tells: the cgroup path, and the container and Kubernetes pod
 * it runs in (container.id, container.runtime, k8s.pod.uid), from /proc/PID/cgroup in cgroup v2,
 * v1 and hybrid layouts. Pure, but for cgroup_read().
 */
#ifndef OBSPROBE_CGROUP_H
#define OBSPROBE_CGROUP_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define CGROUP_PATH_MAX 512
#define CGROUP_ID_LEN 64   /* a container id: 64 lower-case hex characters */
#define CGROUP_UID_LEN 36  /* a pod UID: 8-4-4-4-12 hex digits and dashes */
#define CGROUP_ID_SHORT 12 /* docker's short id: the fewest characters --container takes */

struct cgroup_identity {
	char path[CGROUP_PATH_MAX]; /* the cgroup v2 path (the "0::" line); without one, the
				       name=systemd hierarchy's path, else the first v1 line's */
	char container_id[CGROUP_ID_LEN + 1]; /* lower-case hex container id, "" when none */
	char runtime[16]; /* "docker", "containerd", "cri-o", "podman", "" (unknown or none) */
	char pod_uid[CGROUP_UID_LEN + 1]; /* Kubernetes pod UID (with dashes) of a kubepods path */
};

/*
 * Parses the text of /proc/PID/cgroup (len bytes, NUL-terminated or not). Lines are
 * "ID:CONTROLLERS:PATH\n"; one that is not (a line without its newline too: a cut read), or
 * whose path does not fit in CGROUP_PATH_MAX, is skipped. The container id and pod UID come
 * from the v2 line when it has them, else from the first v1 line that does. 0, or -EINVAL when
 * no line parses (out is then all ""). Never reads past len.
 */
int cgroup_parse(const char *text, size_t len, struct cgroup_identity *out);

/* Reads /proc/PID/cgroup and parses it. 0, -ENOENT or -ESRCH for a process that is gone,
 * -EINVAL when nothing parses, another -errno when it cannot be read. */
int cgroup_read(uint32_t pid, struct cgroup_identity *out);

/*
 * The container id in one cgroup path: its last component that names a container
 * (docker-ID.scope, cri-containerd-ID.scope, crio-ID[.scope], libpod-ID[.scope], or a bare ID
 * as docker's and the kubelet's cgroupfs drivers name them) with an ID of exactly 64 lower-case
 * hex characters. conmon's cgroups (crio-conmon-, libpod-conmon-) are no container. runtime is
 * "" for a bare ID under neither /docker nor kubepods. False (id and runtime "") when none.
 */
bool cgroup_container_of_path(const char *path, char id[CGROUP_ID_LEN + 1], char runtime[16]);

/* The pod UID (with dashes) in a kubepods path: a cgroupfs "podUID" component or a systemd
 * "kubepods-...-podUID.slice" one (with '_' for '-'). False (uid "") when none. */
bool cgroup_pod_of_path(const char *path, char uid[CGROUP_UID_LEN + 1]);

/*
 * True when path is prefix itself or lies below it ("/a/b" is under "/a", "/ab" is not).
 * prefix may end with '/', and may start with the mount point of a hierarchy, which is cut
 * off: /sys/fs/cgroup (v2), /sys/fs/cgroup/unified (hybrid) or /sys/fs/cgroup/CONTROLLER (v1,
 * for the controllers the kernel has and name=systemd's "systemd"). False for a NULL, empty or
 * relative argument.
 */
bool cgroup_path_under(const char *path, const char *prefix);

/* For --container: id (hex, either case) is full_id, or a prefix of it at least
 * CGROUP_ID_SHORT characters long. False when full_id is no container id. */
bool cgroup_container_matches(const char *full_id, const char *id);

#endif /* OBSPROBE_CGROUP_H */
