// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
#include "process/cgroup.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

/* How much of /proc/PID/cgroup is read: a line per hierarchy, each path up to PATH_MAX */
#define CGROUP_READ_MAX (256 * 1024)

static bool is_lower_hex(char c)
{
	return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'f');
}

static bool is_id(const char *s, size_t n)
{
	size_t i;

	if (n != CGROUP_ID_LEN)
		return false;
	for (i = 0; i < n; i++)
		if (!is_lower_hex(s[i]))
			return false;
	return true;
}

/* 8-4-4-4-12 lower-case hex digits, the groups joined by sep */
static bool is_uid(const char *s, size_t n, char sep)
{
	size_t i;

	if (n != CGROUP_UID_LEN)
		return false;
	for (i = 0; i < n; i++) {
		bool dash = i == 8 || i == 13 || i == 18 || i == 23;

		if (dash ? s[i] != sep : !is_lower_hex(s[i]))
			return false;
	}
	return true;
}

static bool has_prefix(const char *s, size_t n, const char *prefix, size_t *plen)
{
	*plen = strlen(prefix);
	return n >= *plen && !memcmp(s, prefix, *plen);
}

static bool has_suffix(const char *s, size_t n, const char *suffix)
{
	size_t sl = strlen(suffix);

	return n >= sl && !memcmp(s + n - sl, suffix, sl);
}

static bool contains(const char *s, size_t n, const char *needle)
{
	return memmem(s, n, needle, strlen(needle)) != NULL;
}

/* The last component of path[0..*start), its start in *start; false when none is left. */
static bool prev_component(const char *path, size_t *start, size_t *len)
{
	size_t end = *start;

	while (end && path[end - 1] == '/')
		end--;
	if (!end)
		return false;
	*start = end;
	while (*start && path[*start - 1] != '/')
		(*start)--;
	*len = end - *start;
	return true;
}

/* Who put a bare id at path[at]: the nearest ancestor tells. docker's cgroupfs driver nests its
 * containers in /docker, the kubelet's in /kubepods, where a bare id is containerd's (CRI-O
 * writes crio-ID, and dockershim left Kubernetes in 1.24). */
static const char *bare_runtime(const char *path, size_t at)
{
	size_t len;

	while (prev_component(path, &at, &len)) {
		if (len == 6 && !memcmp(path + at, "docker", 6))
			return "docker";
		if (contains(path + at, len, "kubepods"))
			return "containerd";
	}
	return "";
}

/* The container a component c[0..n) names, if any; at is where c starts in path. */
static bool container_in(const char *path, size_t at, size_t n, char *id, char *runtime)
{
	static const struct {
		const char *prefix, *runtime;
	} forms[] = {
		{ "docker-", "docker" },
		{ "cri-containerd-", "containerd" },
		{ "crio-", "cri-o" },
		{ "libpod-", "podman" },
	};
	const char *c = path + at, *rt = NULL;
	size_t i, pl;

	if (is_id(c, n)) {
		rt = bare_runtime(path, at);
	} else {
		if (has_suffix(c, n, ".scope"))
			n -= strlen(".scope");
		/* crio-conmon-ID and libpod-conmon-ID are the monitor's: not hex after the prefix */
		for (i = 0; i < sizeof(forms) / sizeof(forms[0]) && !rt; i++) {
			if (has_prefix(c, n, forms[i].prefix, &pl) && is_id(c + pl, n - pl)) {
				rt = forms[i].runtime;
				c += pl;
			}
		}
		if (!rt)
			return false;
	}
	memcpy(id, c, CGROUP_ID_LEN);
	id[CGROUP_ID_LEN] = '\0';
	snprintf(runtime, 16, "%s", rt);
	return true;
}

bool cgroup_container_of_path(const char *path, char id[CGROUP_ID_LEN + 1], char runtime[16])
{
	size_t at, len;

	id[0] = '\0';
	runtime[0] = '\0';
	if (!path)
		return false;
	/* the last one: a runtime nested in a container (docker in docker, kind) runs the inner */
	at = strlen(path);
	while (prev_component(path, &at, &len))
		if (container_in(path, at, len, id, runtime))
			return true;
	return false;
}

static bool under_kubepods(const char *path, size_t at)
{
	size_t len;

	while (prev_component(path, &at, &len))
		if (contains(path + at, len, "kubepods"))
			return true;
	return false;
}

bool cgroup_pod_of_path(const char *path, char uid[CGROUP_UID_LEN + 1])
{
	static const char slice[] = ".slice";
	size_t at, n, i;
	const char *c, *u;

	uid[0] = '\0';
	if (!path)
		return false;
	at = strlen(path);
	while (prev_component(path, &at, &n)) {
		c = path + at;
		/* cgroupfs driver: /kubepods[/QOS]/podUID */
		if (n == 3 + CGROUP_UID_LEN && !memcmp(c, "pod", 3) &&
		    is_uid(c + 3, CGROUP_UID_LEN, '-') && under_kubepods(path, at)) {
			memcpy(uid, c + 3, CGROUP_UID_LEN);
			uid[CGROUP_UID_LEN] = '\0';
			return true;
		}
		/* systemd driver: kubepods[-QOS]-podUID.slice, the UID's '-' as '_' ('-' nests slices) */
		if (n < 4 + CGROUP_UID_LEN + sizeof(slice) - 1 || !has_suffix(c, n, slice) ||
		    !contains(c, n, "kubepods"))
			continue;
		u = c + n - (sizeof(slice) - 1) - CGROUP_UID_LEN;
		if (!memcmp(u - 4, "-pod", 4) && is_uid(u, CGROUP_UID_LEN, '_')) {
			for (i = 0; i < CGROUP_UID_LEN; i++)
				uid[i] = u[i] == '_' ? '-' : u[i];
			uid[CGROUP_UID_LEN] = '\0';
			return true;
		}
	}
	return false;
}

/* ranked: the path comes from the highest kind of line */
enum line_kind { LINE_NONE, LINE_V1, LINE_SYSTEMD, LINE_V2 };

/* One "ID:CONTROLLERS:PATH" line (no newline): its kind, and its path into path. */
static enum line_kind parse_line(const char *line, size_t n, char path[CGROUP_PATH_MAX])
{
	const char *c1, *c2, *ctl, *p;
	size_t i, ctl_len, plen;

	if (!n || memchr(line, '\0', n))
		return LINE_NONE;
	c1 = memchr(line, ':', n);
	if (!c1 || c1 == line)
		return LINE_NONE;
	for (p = line; p < c1; p++)
		if (*p < '0' || *p > '9')
			return LINE_NONE;
	ctl = c1 + 1;
	c2 = memchr(ctl, ':', (size_t)(line + n - ctl));
	if (!c2)
		return LINE_NONE;
	ctl_len = (size_t)(c2 - ctl);
	p = c2 + 1;
	plen = (size_t)(line + n - p);
	if (!plen || p[0] != '/' || plen >= CGROUP_PATH_MAX)
		return LINE_NONE;
	memcpy(path, p, plen);
	path[plen] = '\0';
	if (c1 - line == 1 && line[0] == '0' && !ctl_len)
		return LINE_V2;
	/* a named hierarchy may share its line with controllers: "1:cpu,name=systemd:/" */
	for (i = 0; i < ctl_len;) {
		const char *tok = ctl + i, *comma = memchr(tok, ',', ctl_len - i);
		size_t tl = comma ? (size_t)(comma - tok) : ctl_len - i;

		if (tl == 12 && !memcmp(tok, "name=systemd", 12))
			return LINE_SYSTEMD;
		i += tl + 1;
	}
	return LINE_V1;
}

int cgroup_parse(const char *text, size_t len, struct cgroup_identity *out)
{
	int path_rank = 0, id_rank = 0, pod_rank = 0;
	char path[CGROUP_PATH_MAX], id[CGROUP_ID_LEN + 1], rt[16], uid[CGROUP_UID_LEN + 1];
	const char *p = text, *end;

	memset(out, 0, sizeof(*out));
	if (!text)
		return -EINVAL;
	end = text + len;
	while (p < end) {
		const char *nl = memchr(p, '\n', (size_t)(end - p));
		enum line_kind kind;
		int rank;

		/* the kernel ends every line: one without its newline was cut short */
		if (!nl)
			break;
		kind = parse_line(p, (size_t)(nl - p), path);
		p = nl + 1;
		if (kind == LINE_NONE)
			continue;
		if ((int)kind > path_rank) {
			memcpy(out->path, path, strlen(path) + 1);
			path_rank = kind;
		}
		/* the ids of v1 hierarchies agree in practice: the first that has one, unless v2 does */
		rank = kind == LINE_V2 ? 2 : 1;
		if (rank > id_rank && cgroup_container_of_path(path, id, rt)) {
			memcpy(out->container_id, id, sizeof(id));
			memcpy(out->runtime, rt, sizeof(rt));
			id_rank = rank;
		}
		if (rank > pod_rank && cgroup_pod_of_path(path, uid)) {
			memcpy(out->pod_uid, uid, sizeof(uid));
			pod_rank = rank;
		}
	}
	return path_rank ? 0 : -EINVAL;
}

int cgroup_read(uint32_t pid, struct cgroup_identity *out)
{
	size_t n = 0, cap = 4096;
	char path[64], *buf, *bigger;
	ssize_t r;
	int fd, err;

	memset(out, 0, sizeof(*out));
	snprintf(path, sizeof(path), "/proc/%u/cgroup", pid);
	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return -errno;
	buf = malloc(cap);
	if (!buf) {
		err = -ENOMEM;
		goto cleanup;
	}
	for (;;) {
		if (n == cap) {
			/* the line cut at the cap is skipped, as any without its newline */
			if (cap >= CGROUP_READ_MAX)
				break;
			bigger = realloc(buf, cap * 2);
			if (!bigger) {
				err = -ENOMEM;
				goto cleanup;
			}
			buf = bigger;
			cap *= 2;
		}
		r = read(fd, buf + n, cap - n);
		if (r < 0 && errno == EINTR)
			continue;
		if (r < 0) {
			/* a process that exits after the open: -ESRCH */
			err = -errno;
			goto cleanup;
		}
		if (!r)
			break;
		n += (size_t)r;
	}
	err = cgroup_parse(buf, n, out);
cleanup:
	free(buf);
	close(fd);
	return err;
}

/* The mount points of the hierarchies under /sys/fs/cgroup whose name is not a v2 cgroup's:
 * hybrid's v2 at "unified", name=systemd's at "systemd", and every v1 controller's. */
static const char *const v1_mounts[] = {
	"unified", "systemd",  "cpu,cpuacct",	   "cpuacct,cpu",      "cpu",	     "cpuacct",
	"cpuset",  "memory",   "devices",	   "freezer",	       "blkio",	     "pids",
	"net_cls", "net_prio", "net_cls,net_prio", "net_prio,net_cls", "perf_event", "hugetlb",
	"rdma",	   "misc",
};

static const char *strip_mount(const char *p)
{
	static const char mnt[] = "/sys/fs/cgroup";
	size_t i, ml = sizeof(mnt) - 1, nl;

	if (strncmp(p, mnt, ml) || (p[ml] != '/' && p[ml] != '\0'))
		return p;
	p += ml;
	if (!*p)
		return p;
	for (i = 0; i < sizeof(v1_mounts) / sizeof(v1_mounts[0]); i++) {
		nl = strlen(v1_mounts[i]);
		if (!strncmp(p + 1, v1_mounts[i], nl) && (p[1 + nl] == '/' || p[1 + nl] == '\0'))
			return p + 1 + nl;
	}
	return p;
}

/* s's length without trailing slashes */
static size_t trimmed_len(const char *s)
{
	size_t n = strlen(s);

	while (n && s[n - 1] == '/')
		n--;
	return n;
}

bool cgroup_path_under(const char *path, const char *prefix)
{
	size_t pl, n;

	if (!path || !prefix || path[0] != '/' || prefix[0] != '/')
		return false;
	prefix = strip_mount(prefix);
	pl = trimmed_len(prefix);
	n = trimmed_len(path);
	/* the root, "/" or the bare mount point, holds every cgroup */
	if (!pl)
		return true;
	return n >= pl && !memcmp(path, prefix, pl) && (n == pl || path[pl] == '/');
}

bool cgroup_container_matches(const char *full_id, const char *id)
{
	size_t n, i;

	if (!full_id || !id || !is_id(full_id, strnlen(full_id, CGROUP_ID_LEN + 1)))
		return false;
	n = strlen(id);
	if (n < CGROUP_ID_SHORT || n > CGROUP_ID_LEN)
		return false;
	for (i = 0; i < n; i++) {
		char c = id[i] >= 'A' && id[i] <= 'F' ? (char)(id[i] - 'A' + 'a') : id[i];

		if (!is_lower_hex(c) || c != full_id[i])
			return false;
	}
	return true;
}
