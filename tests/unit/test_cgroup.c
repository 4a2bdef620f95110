// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/* A process's container and pod from /proc/PID/cgroup, in the shapes each runtime writes. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cmocka.h>

#include "unit.h"

#include "process/cgroup.h"

#define ID_A "1249645f5381312b77f426684ee47f71907f9d469678aa59ded56270ee4d80f5"
#define ID_B "30f71ee8e156439b7e41591add802f04704692e14f9b2622b43fd5be98a2458b"
#define ID_C "1b0feca549c030fe473f36fddcdbf10bba00750a340af847ca138bbe829db270"
#define UID "0fb97865-1c5c-4eb2-9539-06155b59927d"
#define UID_US "0fb97865_1c5c_4eb2_9539_06155b59927d" /* as systemd slice names write it */

enum layout { V2, V1, HYBRID };
static const char *const layout_name[] = { "v2", "v1", "hybrid" };

/*
 * The file a process in cgroup path shows: v2 alone; v1 as docker and the kubelet leave it
 * (every hierarchy at path but rdma, which they do not manage); hybrid, the same v1 lines and the
 * unified hierarchy's last, as the kernel orders them.
 */
static size_t file_of(enum layout l, const char *path, char *buf, size_t len)
{
	int n = 0;

	if (l != V2)
		n = snprintf(buf, len,
			     "12:rdma:/\n11:pids:%s\n10:memory:%s\n9:cpu,cpuacct:%s\n8:devices:%s\n"
			     "7:freezer:%s\n6:blkio:%s\n5:net_cls,net_prio:%s\n4:perf_event:%s\n"
			     "3:hugetlb:%s\n2:cpuset:%s\n1:name=systemd:%s\n",
			     path, path, path, path, path, path, path, path, path, path, path);
	if (l != V1)
		n += snprintf(buf + n, len - (size_t)n, "0::%s\n", path);
	assert_true(n > 0 && (size_t)n < len);
	return (size_t)n;
}

/* path, as a process's cgroup in each layout, gives exactly this identity */
static void check_shape(const char *path, const char *id, const char *runtime, const char *pod)
{
	struct cgroup_identity ci;
	char buf[8192], got_id[65], got_rt[16], got_pod[37];
	enum layout l;
	size_t n;

	for (l = V2; l <= HYBRID; l++) {
		n = file_of(l, path, buf, sizeof(buf));
		if (cgroup_parse(buf, n, &ci) != 0)
			fail_msg("%s: %s does not parse", layout_name[l], path);
		assert_string_equal(ci.path, path);
		assert_string_equal(ci.container_id, id);
		assert_string_equal(ci.runtime, runtime);
		assert_string_equal(ci.pod_uid, pod);
	}
	assert_int_equal(cgroup_container_of_path(path, got_id, got_rt), id[0] != '\0');
	assert_string_equal(got_id, id);
	assert_string_equal(got_rt, runtime);
	assert_int_equal(cgroup_pod_of_path(path, got_pod), pod[0] != '\0');
	assert_string_equal(got_pod, pod);
}

static int parse_str(const char *text, struct cgroup_identity *ci)
{
	return cgroup_parse(text, strlen(text), ci);
}

UNIT_TEST(test_docker)
{
	(void)state;
	/* cgroupfs driver */
	check_shape("/docker/" ID_A, ID_A, "docker", "");
	/* systemd driver */
	check_shape("/system.slice/docker-" ID_A ".scope", ID_A, "docker", "");
}

UNIT_TEST(test_containerd_kubepods_cgroupfs)
{
	(void)state;
	check_shape("/kubepods/besteffort/pod" UID "/" ID_A, ID_A, "containerd", UID);
	check_shape("/kubepods/burstable/pod" UID "/" ID_A, ID_A, "containerd", UID);
	/* guaranteed pods have no QoS level of their own */
	check_shape("/kubepods/pod" UID "/" ID_A, ID_A, "containerd", UID);
	/* the pause container's sibling: the pod itself is no container */
	check_shape("/kubepods/burstable/pod" UID, "", "", UID);
}

UNIT_TEST(test_containerd_kubepods_systemd)
{
	(void)state;
	check_shape("/kubepods.slice/kubepods-burstable.slice/kubepods-burstable-pod" UID_US
		    ".slice/cri-containerd-" ID_A ".scope",
		    ID_A, "containerd", UID);
	check_shape("/kubepods.slice/kubepods-besteffort.slice/kubepods-besteffort-pod" UID_US
		    ".slice/cri-containerd-" ID_B ".scope",
		    ID_B, "containerd", UID);
	check_shape("/kubepods.slice/kubepods-pod" UID_US ".slice/cri-containerd-" ID_C ".scope",
		    ID_C, "containerd", UID);
	check_shape("/kubepods.slice/kubepods-pod" UID_US ".slice", "", "", UID);
}

UNIT_TEST(test_crio)
{
	(void)state;
	check_shape("/kubepods.slice/kubepods-burstable.slice/kubepods-burstable-pod" UID_US
		    ".slice/crio-" ID_A ".scope",
		    ID_A, "cri-o", UID);
	/* conmon, the monitor CRI-O starts beside each container, is not the container */
	check_shape("/kubepods.slice/kubepods-burstable.slice/kubepods-burstable-pod" UID_US
		    ".slice/crio-conmon-" ID_A ".scope",
		    "", "", UID);
	check_shape("/kubepods/besteffort/pod" UID "/crio-" ID_B, ID_B, "cri-o", UID);
	check_shape("/kubepods/besteffort/pod" UID "/crio-conmon-" ID_B, "", "", UID);
}

UNIT_TEST(test_podman)
{
	(void)state;
	/* cgroupfs manager, on every hierarchy */
	check_shape("/libpod_parent/libpod-" ID_A, ID_A, "podman", "");
	check_shape("/machine.slice/libpod-" ID_A ".scope", ID_A, "podman", "");
	/* rootless, in the user's systemd instance */
	check_shape("/user.slice/user-1000.slice/user@1000.service/user.slice/libpod-" ID_B
		    ".scope",
		    ID_B, "podman", "");
	/* the container's processes, moved to a child cgroup so that the scope can delegate */
	check_shape("/machine.slice/libpod-" ID_C ".scope/container", ID_C, "podman", "");
	check_shape("/machine.slice/libpod-conmon-" ID_C ".scope", "", "", "");
	check_shape("/libpod_parent/libpod-conmon-" ID_C, "", "", "");
}

UNIT_TEST(test_no_container)
{
	(void)state;
	check_shape("/system.slice/nginx.service", "", "", "");
	check_shape("/user.slice/user-0.slice/session-3.scope", "", "", "");
	check_shape("/init.scope", "", "", "");
	check_shape("/", "", "", "");
}

UNIT_TEST(test_this_machine)
{
	/* /proc/self/cgroup where these tests were written: hybrid, a job's memory limit in v1 */
	static const char self[] = "9:name=systemd:/\n"
				   "8:pids:/\n"
				   "7:blkio:/\n"
				   "6:freezer:/\n"
				   "5:devices:/\n"
				   "4:memory:/process_api/aba52a17427e39b670852187927d6124\n"
				   "3:cpuset:/\n"
				   "2:cpuacct:/\n"
				   "1:cpu:/\n"
				   "0::/\n";
	struct cgroup_identity ci;

	(void)state;
	assert_int_equal(parse_str(self, &ci), 0);
	assert_string_equal(ci.path, "/");
	/* 32 hex digits are no container id */
	assert_string_equal(ci.container_id, "");
	assert_string_equal(ci.runtime, "");
	assert_string_equal(ci.pod_uid, "");
	/* without the v2 line, name=systemd's path, though it is first */
	assert_int_equal(cgroup_parse(self, sizeof(self) - 1 - strlen("0::/\n"), &ci), 0);
	assert_string_equal(ci.path, "/");
}

UNIT_TEST(test_last_container)
{
	(void)state;
	/* docker in docker: the inner one runs the process */
	check_shape("/docker/" ID_A "/docker/" ID_B, ID_B, "docker", "");
	/* kind: a Kubernetes node in a docker container */
	check_shape("/system.slice/docker-" ID_A ".scope/kubelet.slice/kubelet-kubepods.slice/"
		    "kubelet-kubepods-besteffort.slice/kubelet-kubepods-besteffort-pod" UID_US
		    ".slice/cri-containerd-" ID_C ".scope",
		    ID_C, "containerd", UID);
	/* a process of the outer container, beside the nested ones */
	check_shape("/system.slice/docker-" ID_A ".scope/system.slice/containerd.service", ID_A,
		    "docker", "");
	/* the nearest ancestor tells who made a bare id */
	check_shape("/kubepods/pod" UID "/docker/" ID_B, ID_B, "docker", UID);
	/* a bare id under neither: a container, of a runtime we cannot name */
	check_shape("/ecs/task/" ID_A, ID_A, "", "");
}

UNIT_TEST(test_id_is_64_lower_hex)
{
	static const char *const bad[] = {
		/* 63, 65 */
		"/docker/1249645f5381312b77f426684ee47f71907f9d469678aa59ded56270ee4d80f",
		"/docker/" ID_A "0",
		"/system.slice/docker-1249645f5381312b77f426684ee47f71907f9d469678aa59ded56270ee4d80f"
		".scope",
		"/system.slice/docker-" ID_A "0.scope",
		/* upper case, not hex */
		"/docker/1249645F5381312B77F426684EE47F71907F9D469678AA59DED56270EE4D80F5",
		"/system.slice/docker-1249645f5381312b77f426684ee47f71907f9d469678aa59ded56270ee4d80fg"
		".scope",
		"/libpod_parent/libpod-" ID_A "x",
		/* an id with a suffix or form no runtime writes */
		"/docker/" ID_A ".scope",
		"/system.slice/docker-" ID_A ".service",
		"/system.slice/podman-" ID_A ".scope",
		"/docker/x" ID_A,
	};
	char id[65] = "x", rt[16] = "x";
	size_t i;

	(void)state;
	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		if (cgroup_container_of_path(bad[i], id, rt))
			fail_msg("%s gave %s", bad[i], id);
		assert_string_equal(id, "");
		assert_string_equal(rt, "");
	}
	assert_false(cgroup_container_of_path(NULL, id, rt));
	assert_false(cgroup_container_of_path("", id, rt));
	/* relative, or with slashes doubled or trailing: the components are what count */
	assert_true(cgroup_container_of_path("docker-" ID_A ".scope", id, rt));
	assert_string_equal(id, ID_A);
	assert_string_equal(rt, "docker");
	assert_true(cgroup_container_of_path("//docker//" ID_B "/", id, rt));
	assert_string_equal(id, ID_B);
	assert_string_equal(rt, "docker");
}

UNIT_TEST(test_v2_first_then_v1)
{
	/* docker's cgroupfs driver on a hybrid host: its containers in v1 only */
	static const char hybrid_v1_only[] = "3:memory:/docker/" ID_A "\n"
					     "2:cpu,cpuacct:/docker/" ID_A "\n"
					     "1:name=systemd:/docker/" ID_A "\n"
					     "0::/system.slice/containerd.service\n";
	/* disagreeing lines: the v2 line's id, else the first v1 line's that has one */
	static const char disagree[] = "4:rdma:/\n"
				       "3:memory:/docker/" ID_A "\n"
				       "2:pids:/docker/" ID_B "\n"
				       "1:name=systemd:/kubepods/pod" UID "/" ID_C "\n"
				       "0::/system.slice/docker-" ID_C ".scope\n";
	struct cgroup_identity ci;
	size_t n;

	(void)state;
	assert_int_equal(parse_str(hybrid_v1_only, &ci), 0);
	assert_string_equal(ci.path, "/system.slice/containerd.service");
	assert_string_equal(ci.container_id, ID_A);
	assert_string_equal(ci.runtime, "docker");

	assert_int_equal(parse_str(disagree, &ci), 0);
	assert_string_equal(ci.path, "/system.slice/docker-" ID_C ".scope");
	assert_string_equal(ci.container_id, ID_C);
	assert_string_equal(ci.runtime, "docker");
	/* v2 has no pod: the first v1 line's */
	assert_string_equal(ci.pod_uid, UID);

	/* without the v2 line: name=systemd's path, but the first v1 line's id */
	n = strlen(disagree) - strlen("0::/system.slice/docker-" ID_C ".scope\n");
	assert_int_equal(cgroup_parse(disagree, n, &ci), 0);
	assert_string_equal(ci.path, "/kubepods/pod" UID "/" ID_C);
	assert_string_equal(ci.container_id, ID_A);
	assert_string_equal(ci.runtime, "docker");
	assert_string_equal(ci.pod_uid, UID);
}

UNIT_TEST(test_path_choice)
{
	struct cgroup_identity ci;

	(void)state;
	/* no v2 and no name=systemd: the first v1 line */
	assert_int_equal(parse_str("3:cpu:/a\n2:memory:/b\n", &ci), 0);
	assert_string_equal(ci.path, "/a");
	/* name=systemd wherever it is, even sharing a hierarchy with a controller */
	assert_int_equal(parse_str("3:cpu:/a\n2:memory,name=systemd:/b\n1:pids:/c\n", &ci), 0);
	assert_string_equal(ci.path, "/b");
	/* another named hierarchy is a v1 one like the rest */
	assert_int_equal(parse_str("3:name=elogind:/e\n2:name=systemdx:/x\n", &ci), 0);
	assert_string_equal(ci.path, "/e");
	/* v2 over both, first or last */
	assert_int_equal(parse_str("0::/v2\n1:name=systemd:/s\n", &ci), 0);
	assert_string_equal(ci.path, "/v2");
	assert_int_equal(parse_str("1:name=systemd:/s\n0::/v2\n", &ci), 0);
	assert_string_equal(ci.path, "/v2");
	/* "0:" with controllers is not the v2 line, and the first v2 line counts */
	assert_int_equal(parse_str("0:cpu:/c\n0::/first\n0::/second\n", &ci), 0);
	assert_string_equal(ci.path, "/first");
	/* paths may hold colons: the third field is the rest of the line */
	assert_int_equal(parse_str("0::/a:b:c\n", &ci), 0);
	assert_string_equal(ci.path, "/a:b:c");
}

UNIT_TEST(test_pod_uid)
{
	static const char *const none[] = {
		/* a podUID component outside of kubepods */
		"/system.slice/pod" UID,
		"/pod" UID "/" ID_A,
		/* upper case, wrong separators, short */
		"/kubepods/pod0FB97865-1C5C-4EB2-9539-06155B59927D",
		"/kubepods/pod" UID_US,
		"/kubepods.slice/kubepods-pod" UID ".slice",
		"/kubepods/pod0fb97865-1c5c-4eb2-9539-06155b59927",
		"/kubepods.slice/kubepods-pod0fb97865_1c5c_4eb2_9539_06155b59927.slice",
		/* no '-pod', no .slice */
		"/kubepods.slice/kubepodspod" UID_US ".slice",
		"/kubepods.slice/kubepods-pod" UID_US ".scope",
		"/kubepods",
		"/kubepods.slice",
	};
	char uid[37];
	size_t i;

	(void)state;
	for (i = 0; i < sizeof(none) / sizeof(none[0]); i++) {
		if (cgroup_pod_of_path(none[i], uid))
			fail_msg("%s gave %s", none[i], uid);
		assert_string_equal(uid, "");
	}
	assert_false(cgroup_pod_of_path(NULL, uid));
	assert_true(cgroup_pod_of_path("/kubepods/besteffort/pod" UID "/crio-" ID_A, uid));
	assert_string_equal(uid, UID);
	assert_true(cgroup_pod_of_path("/kubepods.slice/kubepods-besteffort.slice/"
				       "kubepods-besteffort-pod" UID_US ".slice/",
				       uid));
	assert_string_equal(uid, UID);
}

UNIT_TEST(test_malformed)
{
	static const char *const bad[] = {
		"",
		"\n",
		"\n\n\n",
		"no colons at all\n",
		"0:/only-one-colon\n",
		"0::\n",
		"0::relative\n",
		":cpu:/no-id\n",
		"x:cpu:/not-a-number\n",
		"-1::/negative\n",
		/* a line without its newline is a cut read */
		("0::/docker/" ID_A),
	};
	static const char nul[] = "1:name=systemd:/docker/\0" ID_A "\n0::/docker/" ID_B "\n";
	static const char mixed[] = "garbage\n\n12:pids:/docker/" ID_A "\n:::\n0::/docker/" ID_B;
	static const char two[] = "0::/a\n0::/b\n";
	struct cgroup_identity ci;
	char buf[2048];
	size_t i, n;

	(void)state;
	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		memset(&ci, 0x5a, sizeof(ci));
		if (parse_str(bad[i], &ci) != -EINVAL)
			fail_msg("'%s' parsed", bad[i]);
		assert_string_equal(ci.path, "");
		assert_string_equal(ci.container_id, "");
		assert_string_equal(ci.runtime, "");
		assert_string_equal(ci.pod_uid, "");
	}
	assert_int_equal(cgroup_parse(NULL, 10, &ci), -EINVAL);

	/* a NUL in a line spoils that line only */
	assert_int_equal(cgroup_parse(nul, sizeof(nul) - 1, &ci), 0);
	assert_string_equal(ci.path, "/docker/" ID_B);
	assert_string_equal(ci.container_id, ID_B);
	assert_int_equal(cgroup_parse(nul, strlen(nul) + 1 + strlen(ID_A) + 1, &ci), -EINVAL);

	/* the longest path that fits, and one byte more */
	n = (size_t)snprintf(buf, sizeof(buf), "0::/%0*d\n", CGROUP_PATH_MAX - 2, 0);
	assert_int_equal(cgroup_parse(buf, n, &ci), 0);
	assert_int_equal(strlen(ci.path), CGROUP_PATH_MAX - 1);
	n = (size_t)snprintf(buf, sizeof(buf), "1:cpu:/short\n0::/%0*d\n", CGROUP_PATH_MAX - 1, 0);
	assert_int_equal(cgroup_parse(buf, n, &ci), 0);
	assert_string_equal(ci.path, "/short");

	/* junk around good lines; the cut last line is not read */
	assert_int_equal(parse_str(mixed, &ci), 0);
	assert_string_equal(ci.path, "/docker/" ID_A);
	assert_string_equal(ci.container_id, ID_A);

	/* nothing past len is read, NUL or not */
	assert_int_equal(cgroup_parse(two + 6, 6, &ci), 0);
	assert_string_equal(ci.path, "/b");
	assert_int_equal(cgroup_parse(two, 5, &ci), -EINVAL);
	assert_int_equal(cgroup_parse(two, 0, &ci), -EINVAL);
}

UNIT_TEST(test_path_under)
{
	(void)state;
	assert_true(cgroup_path_under("/a", "/a"));
	assert_true(cgroup_path_under("/a/b", "/a"));
	assert_true(cgroup_path_under("/a/b/c", "/a/b/"));
	assert_true(cgroup_path_under("/a/b", "/a//"));
	assert_true(cgroup_path_under("/a/", "/a"));
	assert_false(cgroup_path_under("/ab", "/a"));
	assert_false(cgroup_path_under("/ab/c", "/a/"));
	assert_false(cgroup_path_under("/a", "/a/b"));
	assert_false(cgroup_path_under("/b", "/a"));
	assert_true(cgroup_path_under("/", "/"));
	assert_true(cgroup_path_under("/anything/at/all", "/"));
	assert_true(cgroup_path_under("/system.slice/docker-" ID_A ".scope", "/system.slice"));
	assert_false(
		cgroup_path_under("/system.slice/docker-" ID_A ".scope", "/system.slice/docker"));

	/* the mount points, v2, hybrid, v1 */
	assert_true(cgroup_path_under("/system.slice/nginx.service",
				      "/sys/fs/cgroup/system.slice/nginx.service"));
	assert_true(
		cgroup_path_under("/system.slice/nginx.service", "/sys/fs/cgroup/system.slice/"));
	assert_true(cgroup_path_under("/system.slice/nginx.service", "/sys/fs/cgroup"));
	assert_true(cgroup_path_under("/system.slice/nginx.service", "/sys/fs/cgroup/"));
	assert_true(cgroup_path_under("/docker/" ID_A, "/sys/fs/cgroup/unified/docker"));
	assert_true(cgroup_path_under("/docker/" ID_A, "/sys/fs/cgroup/unified"));
	assert_true(cgroup_path_under("/docker/" ID_A, "/sys/fs/cgroup/memory/docker/"));
	assert_true(cgroup_path_under("/docker/" ID_A, "/sys/fs/cgroup/cpu,cpuacct/docker"));
	assert_true(cgroup_path_under("/docker/" ID_A, "/sys/fs/cgroup/systemd/docker"));
	assert_false(cgroup_path_under("/docker/" ID_A, "/sys/fs/cgroup/memory/kubepods"));
	assert_false(cgroup_path_under("/dockerd", "/sys/fs/cgroup/pids/docker"));
	/* not a mount point: the whole prefix is the cgroup path */
	assert_false(cgroup_path_under("/docker/" ID_A, "/sys/fs/cgroupx/docker"));
	assert_true(cgroup_path_under("/sys/fs/cgroupx/docker", "/sys/fs/cgroupx"));
	/* a v1 mount point is its hierarchy's root; a v2 cgroup that only starts like a
	 * controller's name keeps its place */
	assert_true(cgroup_path_under("/memoryhog", "/sys/fs/cgroup/memory"));
	assert_true(cgroup_path_under("/memoryhog/x", "/sys/fs/cgroup/memoryhog"));
	assert_false(cgroup_path_under("/memory/x", "/sys/fs/cgroup/memoryhog"));
	assert_false(cgroup_path_under("/memoryhog", "/sys/fs/cgroup/memoryhog/x"));

	assert_false(cgroup_path_under(NULL, "/"));
	assert_false(cgroup_path_under("/a", NULL));
	assert_false(cgroup_path_under("/a", ""));
	assert_false(cgroup_path_under("/a", "a"));
	assert_false(cgroup_path_under("a", "/"));
	assert_false(cgroup_path_under("", "/"));
}

UNIT_TEST(test_container_matches)
{
	(void)state;
	assert_true(cgroup_container_matches(ID_A, ID_A));
	assert_true(cgroup_container_matches(ID_A, "1249645f5381"));
	assert_true(cgroup_container_matches(ID_A, "1249645F5381312B"));
	assert_false(cgroup_container_matches(ID_A, "1249645f538"));
	assert_false(cgroup_container_matches(ID_A, ""));
	assert_false(cgroup_container_matches(ID_A, "30f71ee8e156"));
	assert_false(cgroup_container_matches(ID_A, "1249645f538g"));
	assert_false(cgroup_container_matches(ID_A, "1249645f5381 "));
	assert_false(cgroup_container_matches(ID_A, " 1249645f5381"));
	assert_false(cgroup_container_matches(ID_A, ID_A "0"));
	assert_false(cgroup_container_matches("", "1249645f5381"));
	assert_false(cgroup_container_matches("1249645f5381", "1249645f5381"));
	assert_false(cgroup_container_matches(NULL, ID_A));
	assert_false(cgroup_container_matches(ID_A, NULL));
}

/* The path of /proc/self/cgroup's v2 line (else name=systemd's), read without cgroup.c. */
static void own_path(char *out, size_t len)
{
	char line[4096];
	FILE *f = fopen("/proc/self/cgroup", "re");

	assert_non_null(f);
	out[0] = '\0';
	while (fgets(line, sizeof(line), f)) {
		line[strcspn(line, "\n")] = '\0';
		if (!strncmp(line, "0::", 3)) {
			snprintf(out, len, "%s", line + 3);
			break;
		}
		if (strstr(line, ":name=systemd:"))
			snprintf(out, len, "%s", strstr(line, ":name=systemd:") + 14);
	}
	fclose(f);
}

UNIT_TEST(test_read)
{
	struct cgroup_identity ci;
	char want[CGROUP_PATH_MAX], got_id[65], got_rt[16];
	pid_t child;

	(void)state;
	own_path(want, sizeof(want));
	assert_int_equal(cgroup_read((uint32_t)getpid(), &ci), 0);
	assert_true(ci.path[0] == '/');
	assert_string_equal(ci.path, want);
	cgroup_container_of_path(want, got_id, got_rt);
	assert_string_equal(ci.container_id, got_id);

	/* no such pid: above PID_MAX_LIMIT */
	assert_int_equal(cgroup_read(0x7fffffff, &ci), -ENOENT);
	assert_string_equal(ci.path, "");
	/* a process that has come and gone */
	child = fork();
	assert_true(child >= 0);
	if (!child)
		_exit(0);
	assert_int_equal(waitpid(child, NULL, 0), child);
	assert_int_equal(cgroup_read((uint32_t)child, &ci), -ENOENT);
}

UNIT_MAIN(NULL, NULL)
