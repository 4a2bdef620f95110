/* SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause) */
/*
 * Node-wide mode: which processes of the host obsprobe watches. --all, or selectors (--exe
 * GLOB, --comm NAME, --port N, --cgroup PATH, --container ID): selectors of one kind are
 * alternatives, kinds combine (--comm nginx --cgroup /system.slice: an nginx in that slice);
 * --exclude KIND=VALUE takes away whatever matches, whatever else said yes.
 */
#ifndef OBSPROBE_SELECT_H
#define OBSPROBE_SELECT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

enum select_kind {
	SELECT_EXE = 0,	  /* glob on the executable's path (or its name, for a glob with no '/') */
	SELECT_COMM,	  /* the process's comm, exactly (the kernel keeps 15 characters) */
	SELECT_PORT,	  /* listens on this TCP port */
	SELECT_CGROUP,	  /* its cgroup is this one or below it */
	SELECT_CONTAINER, /* its container id, or a prefix of 12 hex digits or more */
	SELECT__COUNT,
};

#define SELECT_MAX 32

struct selector {
	enum select_kind kind;
	const char *value;
	uint16_t port; /* SELECT_PORT */
};

struct selection {
	bool all;
	struct selector include[SELECT_MAX];
	size_t ninclude;
	struct selector exclude[SELECT_MAX];
	size_t nexclude;
};

/* What is known of one process when it is judged; NULL or "" for what is not known. */
struct proc_facts {
	const char *exe; /* full path */
	const char *comm;
	const char *cgroup;	  /* cgroup path (v2, else the systemd hierarchy's) */
	const char *container_id; /* "" when not in a container */
	const uint16_t *ports;	  /* TCP ports it listens on */
	size_t nports;
};

const char *select_kind_name(enum select_kind k);
/* Adds an include (--exe, --comm, ...) or an exclude selector; value is kept, not copied.
 * 0, or -EINVAL with why in err. */
int selection_add(struct selection *s, enum select_kind kind, const char *value, bool exclude,
		  char *err, size_t errlen);
/* --exclude KIND=VALUE (exe=, comm=, port=, cgroup=, container=). */
int selection_add_exclude(struct selection *s, const char *arg, char *err, size_t errlen);
/* Node-wide mode: --all or any include selector. */
bool selection_node_wide(const struct selection *s);
/* Whether any selector (include or exclude) looks at kind: facts of that kind are worth
 * reading. */
bool selection_uses(const struct selection *s, enum select_kind kind);
bool selection_match(const struct selection *s, const struct proc_facts *f);
/* selection_match() on what /proc says of pid now (only the facts the selectors look at are
 * read): 1 selected, 0 not (a kernel thread never is), -ESRCH when the process is gone, another
 * negative errno when its /proc entry cannot be read now (-EMFILE: obsprobe is out of
 * descriptors): not judged. The name it was judged under goes to comm (len bytes, "" when not
 * judged) unless comm is NULL. */
int selection_match_pid(const struct selection *s, uint32_t pid, char *comm, size_t len);

#endif /* OBSPROBE_SELECT_H */
