// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
#include "pipeline/select.h"

#include <errno.h>
#include <limits.h>
#include <fnmatch.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "process/cgroup.h"
#include "process/procfs.h"

/* the kernel keeps a comm of TASK_COMM_LEN - 1 characters */
#define COMM_MAX 15

static const char *const kind_names[SELECT__COUNT] = {
	[SELECT_EXE] = "exe",	    [SELECT_COMM] = "comm",	      [SELECT_PORT] = "port",
	[SELECT_CGROUP] = "cgroup", [SELECT_CONTAINER] = "container",
};

const char *select_kind_name(enum select_kind k)
{
	return k < SELECT__COUNT ? kind_names[k] : "?";
}

static bool all_hex(const char *s)
{
	return *s && strspn(s, "0123456789abcdef") == strlen(s);
}

/* A value that can never match is refused at the command line, not silently kept. */
static int check_value(struct selector *sel, char *err, size_t errlen)
{
	const char *v = sel->value, *name = kind_names[sel->kind];
	char *end;
	unsigned long port;

	if (!v || !*v) {
		snprintf(err, errlen, "%s: an empty value matches nothing", name);
		return -EINVAL;
	}
	switch (sel->kind) {
	case SELECT_COMM:
		if (strlen(v) > COMM_MAX) {
			snprintf(err, errlen,
				 "comm: '%s' is longer than the %d characters the kernel keeps", v,
				 COMM_MAX);
			return -EINVAL;
		}
		return 0;
	case SELECT_PORT:
		errno = 0;
		port = strtoul(v, &end, 10);
		if (errno || *end || v[0] == '-' || v[0] == '+' || port < 1 || port > 65535) {
			snprintf(err, errlen, "port: '%s' is not a TCP port (1..65535)", v);
			return -EINVAL;
		}
		sel->port = (uint16_t)port;
		return 0;
	case SELECT_CGROUP:
		if (v[0] != '/') {
			snprintf(err, errlen, "cgroup: '%s' is not a path (it starts with '/')", v);
			return -EINVAL;
		}
		return 0;
	case SELECT_CONTAINER:
		if (!all_hex(v) || strlen(v) < 12 || strlen(v) > 64) {
			snprintf(err, errlen,
				 "container: '%s' is not a container id (12 to 64 lower-case hex "
				 "digits)",
				 v);
			return -EINVAL;
		}
		return 0;
	default:
		return 0;
	}
}

int selection_add(struct selection *s, enum select_kind kind, const char *value, bool exclude,
		  char *err, size_t errlen)
{
	struct selector *list = exclude ? s->exclude : s->include;
	size_t *n = exclude ? &s->nexclude : &s->ninclude;
	struct selector sel = { .kind = kind, .value = value };
	int ret;

	if (kind >= SELECT__COUNT) {
		snprintf(err, errlen, "unknown selector");
		return -EINVAL;
	}
	ret = check_value(&sel, err, errlen);
	if (ret)
		return ret;
	if (*n == SELECT_MAX) {
		snprintf(err, errlen, "at most %d %s", SELECT_MAX,
			 exclude ? "--exclude" : "selectors");
		return -EINVAL;
	}
	list[(*n)++] = sel;
	return 0;
}

int selection_add_exclude(struct selection *s, const char *arg, char *err, size_t errlen)
{
	const char *eq = strchr(arg, '=');
	int k;

	for (k = 0; eq && k < SELECT__COUNT; k++)
		if (strlen(kind_names[k]) == (size_t)(eq - arg) &&
		    !strncmp(arg, kind_names[k], (size_t)(eq - arg)))
			return selection_add(s, k, eq + 1, true, err, errlen);
	snprintf(err, errlen,
		 "'%s' is not KIND=VALUE with KIND exe, comm, port, cgroup or container", arg);
	return -EINVAL;
}

bool selection_node_wide(const struct selection *s)
{
	return s->all || s->ninclude > 0;
}

bool selection_uses(const struct selection *s, enum select_kind kind)
{
	size_t i;

	for (i = 0; i < s->ninclude; i++)
		if (s->include[i].kind == kind)
			return true;
	for (i = 0; i < s->nexclude; i++)
		if (s->exclude[i].kind == kind)
			return true;
	return false;
}

static bool exe_matches(const char *glob, const char *exe)
{
	const char *base;

	if (!exe || !*exe)
		return false;
	if (fnmatch(glob, exe, 0) == 0)
		return true;
	/* "nginx" or "python3*" name the program, wherever it lives */
	base = strrchr(exe, '/');
	return !strchr(glob, '/') && base && fnmatch(glob, base + 1, 0) == 0;
}

static bool one_matches(const struct selector *sel, const struct proc_facts *f)
{
	size_t i;

	switch (sel->kind) {
	case SELECT_EXE:
		return exe_matches(sel->value, f->exe);
	case SELECT_COMM:
		return f->comm && !strncmp(sel->value, f->comm, COMM_MAX + 1);
	case SELECT_PORT:
		for (i = 0; i < f->nports; i++)
			if (f->ports[i] == sel->port)
				return true;
		return false;
	case SELECT_CGROUP:
		return f->cgroup && *f->cgroup && cgroup_path_under(f->cgroup, sel->value);
	case SELECT_CONTAINER:
		return f->container_id && *f->container_id &&
		       cgroup_container_matches(f->container_id, sel->value);
	default:
		return false;
	}
}

bool selection_match(const struct selection *s, const struct proc_facts *f)
{
	size_t i;
	int k;

	for (i = 0; i < s->nexclude; i++)
		if (one_matches(&s->exclude[i], f))
			return false;
	if (!selection_node_wide(s))
		return false;
	/* every kind named must match, by any of its selectors */
	for (k = 0; k < SELECT__COUNT; k++) {
		bool named = false, hit = false;

		for (i = 0; i < s->ninclude && !hit; i++) {
			if (s->include[i].kind != (enum select_kind)k)
				continue;
			named = true;
			hit = one_matches(&s->include[i], f);
		}
		if (named && !hit)
			return false;
	}
	return true;
}

#define PORTS_MAX 64

int selection_match_pid(const struct selection *s, uint32_t pid, char *comm, size_t len)
{
	struct proc_facts f = {};
	struct cgroup_identity cg;
	uint16_t ports[PORTS_MAX];
	struct procfs_stat ps;
	char exe[PATH_MAX];
	int n;

	/* an exiting process (a zombie) has lost its executable too: it is gone */
	if (comm && len)
		comm[0] = '\0';
	n = procfs_read_stat(pid, 0, &ps);
	if (n)
		return n; /* gone (-ESRCH), or /proc unreadable now (out of descriptors) */
	if (ps.state == 'Z' || ps.state == 'X')
		return -ESRCH;
	if (comm && len)
		snprintf(comm, len, "%s", ps.comm);
	n = procfs_exe(pid, exe, sizeof(exe));
	/* a kernel thread has no executable, and nothing obsprobe could watch */
	if (n <= 0)
		return n == -ESRCH ? -ESRCH : 0;
	f.exe = exe;
	f.comm = ps.comm;
	if ((selection_uses(s, SELECT_CGROUP) || selection_uses(s, SELECT_CONTAINER)) &&
	    cgroup_read(pid, &cg) == 0) {
		f.cgroup = cg.path;
		f.container_id = cg.container_id;
	}
	if (selection_uses(s, SELECT_PORT)) {
		n = procfs_listen_ports(pid, ports, PORTS_MAX);
		if (n > 0) {
			f.ports = ports;
			f.nports = (size_t)n;
		}
	}
	return selection_match(s, &f);
}
