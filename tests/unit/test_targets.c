// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/* The watched processes, on real ones: this test, its threads and the children it forks. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include "unit.h"

#include <errno.h>
#include <limits.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <sys/types.h>
#include <sys/wait.h>
#include <unistd.h>

#include "pipeline/route.h"
#include "pipeline/targets.h"
#include "process/procfs.h"

/* Above any pid_max Linux allows (2^22): never a process. */
#define NO_PID 1073741000u

static char exe_name[64]; /* the basename of /proc/self/exe */

/* A child that waits until its pipe closes (or it is killed), then exits. *wfd: the write end;
 * closing it lets the child go. */
static pid_t spawn_waiter(int *wfd)
{
	int fds[2];
	pid_t pid;

	assert_int_equal(pipe(fds), 0);
	pid = fork();
	assert_true(pid >= 0);
	if (pid == 0) {
		char c;

		prctl(PR_SET_PDEATHSIG, SIGKILL);
		/* only our read end stays open: another child's write end would keep it alive */
		close_range(3, (unsigned int)fds[0] - 1, 0);
		close_range((unsigned int)fds[0] + 1, ~0u, 0);
		while (read(fds[0], &c, 1) < 0 && errno == EINTR)
			;
		_exit(0);
	}
	close(fds[0]);
	*wfd = fds[1];
	return pid;
}

/* A child that sleeps until killed. */
static pid_t spawn_sleeper(void)
{
	pid_t pid = fork();

	assert_true(pid >= 0);
	if (pid == 0) {
		prctl(PR_SET_PDEATHSIG, SIGKILL);
		close_range(3, ~0u, 0);
		for (;;)
			pause();
	}
	return pid;
}

static void kill_and_wait(pid_t pid)
{
	int st;

	assert_int_equal(kill(pid, SIGKILL), 0);
	assert_int_equal(waitpid(pid, &st, 0), pid);
}

/* A pid that was a process a moment ago and is no longer one (reaped). */
static uint32_t dead_pid(void)
{
	pid_t pid = fork();
	int st;

	assert_true(pid >= 0);
	if (pid == 0)
		_exit(0);
	assert_int_equal(waitpid(pid, &st, 0), pid);
	return (uint32_t)pid;
}

static int group_setup(void **state)
{
	char path[PATH_MAX];
	const char *base;
	ssize_t n;

	(void)state;
	n = readlink("/proc/self/exe", path, sizeof(path) - 1);
	if (n <= 0)
		return -1;
	path[n] = '\0';
	base = strrchr(path, '/');
	snprintf(exe_name, sizeof(exe_name), "%s", base ? base + 1 : path);
	/* the grandchildren of test_descendants come back to us when their parent dies */
	return prctl(PR_SET_CHILD_SUBREAPER, 1) ? -1 : 0;
}

UNIT_TEST(test_exe_name)
{
	(void)state;
	/* what the Makefile names both builds of this test */
	assert_string_equal(exe_name, "test_targets");
}

UNIT_TEST(test_add_get)
{
	uint32_t me = (uint32_t)getpid();
	struct targets *t = targets_new(NULL, 10);
	const struct proc_info *p;

	(void)state;
	assert_non_null(t);
	assert_int_equal(targets_count(t), 0);
	assert_int_equal(targets_add(t, me), 0);
	assert_int_equal(targets_count(t), 1);
	p = targets_get(t, me);
	assert_non_null(p);
	assert_int_equal(p->pid, me);
	/* no override: named by the executable, not by comm */
	assert_string_equal(p->exe_name, exe_name);
	assert_string_equal(p->service_name, exe_name);
	/* adding again refreshes, it does not count twice */
	assert_int_equal(targets_add(t, me), 0);
	assert_int_equal(targets_count(t), 1);
	assert_ptr_equal(targets_get(t, me), p);
	/* no such process */
	assert_int_equal(targets_add(t, NO_PID), -ESRCH);
	assert_int_equal(targets_add(t, dead_pid()), -ESRCH);
	assert_int_equal(targets_count(t), 1);
	assert_null(targets_get(t, NO_PID));
	assert_int_equal(targets_count(t), 1);
	targets_free(t);
	targets_free(NULL);
}

/* kill(0, 0) means "my process group", which always exists, and a pid above INT_MAX turns
 * negative (a process group; -1 is every process): neither is a process to watch (-ESRCH). */
UNIT_TEST(test_add_pid_zero)
{
	struct targets *t = targets_new(NULL, 10);
	int zero, max;
	bool got;
	size_t n;

	(void)state;
	assert_non_null(t);
	/* freed before asserting, so that a failure leaks nothing under ASan */
	zero = targets_add(t, 0);
	max = targets_add(t, UINT32_MAX);
	n = targets_count(t);
	targets_free(t);
	t = targets_new(NULL, 10);
	assert_non_null(t);
	got = targets_get(t, 0) != NULL;
	targets_free(t);
	assert_int_equal(zero, -ESRCH);
	assert_int_equal(max, -ESRCH);
	assert_int_equal(n, 0);
	assert_false(got);
}

UNIT_TEST(test_service_override)
{
	uint32_t me = (uint32_t)getpid();
	struct targets *t = targets_new("checkout", 10);
	const struct proc_info *p;

	(void)state;
	assert_non_null(t);
	assert_int_equal(targets_add(t, me), 0);
	p = targets_get(t, me);
	assert_non_null(p);
	assert_string_equal(p->service_name, "checkout");
	assert_string_equal(p->exe_name, exe_name);
	targets_free(t);

	/* an empty override is no override */
	t = targets_new("", 10);
	assert_non_null(t);
	assert_int_equal(targets_add(t, me), 0);
	assert_string_equal(targets_get(t, me)->service_name, exe_name);
	targets_free(t);
}

/* A child running sleep with environment env, until killed. */
static pid_t spawn_with_env(char *const env[])
{
	pid_t pid = fork();

	assert_true(pid >= 0);
	if (pid == 0) {
		char *const argv[] = { "sleep", "30", NULL };

		prctl(PR_SET_PDEATHSIG, SIGKILL);
		execve("/bin/sleep", argv, env);
		_exit(127);
	}
	return pid;
}

/* service.name as the process's own OpenTelemetry SDK would name it, from the environment it
 * started with; obsprobe's own --service-name still overrides it. */
UNIT_TEST(test_service_name_from_environ)
{
	char *const named[] = { "PATH=/bin", "OTEL_SERVICE_NAME=payments", NULL };
	char *const attrs[] = { "OTEL_RESOURCE_ATTRIBUTES=deployment.environment=prod,"
				"service.name=billing%20api",
				NULL };
	char *const both[] = { "OTEL_RESOURCE_ATTRIBUTES=service.name=b", "OTEL_SERVICE_NAME=a",
			       NULL };
	char *const neither[] = { "OTEL_SERVICE_NAME=", "OTEL_RESOURCE_ATTRIBUTES=bad", NULL };
	char *const *envs[] = { named, attrs, both, neither };
	const char *want[] = { "payments", "billing api", "a", "sleep" };
	pid_t pids[4];
	struct targets *t = targets_new(NULL, 10);
	size_t i;

	(void)state;
	assert_non_null(t);
	for (i = 0; i < 4; i++) {
		char exe[64] = "";
		char link[64];
		int tries;

		pids[i] = spawn_with_env(envs[i]);
		/* wait for the exec to be over: the exe link changes before the new environment is
		 * in place, so wait for sleep to sleep */
		snprintf(link, sizeof(link), "/proc/%d/exe", pids[i]);
		for (tries = 0; tries < 500; tries++) {
			ssize_t n = readlink(link, exe, sizeof(exe) - 1);
			struct procfs_stat ps;

			exe[n > 0 ? n : 0] = '\0';
			if (strstr(exe, "sleep") &&
			    procfs_read_stat((uint32_t)pids[i], 0, &ps) == 0 && ps.state == 'S')
				break;
			usleep(2000);
		}
		assert_non_null(strstr(exe, "sleep"));
		assert_int_equal(targets_add(t, (uint32_t)pids[i]), 0);
		assert_string_equal(targets_get(t, (uint32_t)pids[i])->service_name, want[i]);
	}
	targets_free(t);
	/* the override wins */
	t = targets_new("checkout", 10);
	assert_non_null(t);
	assert_int_equal(targets_add(t, (uint32_t)pids[0]), 0);
	assert_string_equal(targets_get(t, (uint32_t)pids[0])->service_name, "checkout");
	targets_free(t);
	for (i = 0; i < 4; i++)
		kill_and_wait(pids[i]);
}

UNIT_TEST(test_environ_find)
{
	static const char env[] = "OTEL_SERVICE_NAME_X=no\0OTEL_SERVICE_NAME=yes\0E=\0T=tail";
	char v[8];

	(void)state;
	assert_int_equal(
		procfs_environ_find(env, sizeof(env) - 1, "OTEL_SERVICE_NAME", v, sizeof(v)), 0);
	assert_string_equal(v, "yes");
	assert_int_equal(procfs_environ_find(env, sizeof(env) - 1, "E", v, sizeof(v)), 0);
	assert_string_equal(v, "");
	/* the last entry without its NUL (a read cut short) */
	assert_int_equal(procfs_environ_find(env, sizeof(env) - 1, "T", v, sizeof(v)), 0);
	assert_string_equal(v, "tail");
	assert_int_equal(procfs_environ_find(env, sizeof(env) - 1, "T", v, 3), 0);
	assert_string_equal(v, "ta");
	assert_int_equal(procfs_environ_find(env, sizeof(env) - 1, "OTEL", v, sizeof(v)), -ENOENT);
	assert_int_equal(procfs_environ_find(env, 0, "E", v, sizeof(v)), -ENOENT);
	assert_int_equal(procfs_read_environ(NO_PID, "PATH", v, sizeof(v)), -ESRCH);
}

struct thread_arg {
	pthread_mutex_t lock;
	pthread_cond_t cond;
	pid_t tid;
	bool done;
};

static void *thread_main(void *arg)
{
	struct thread_arg *a = arg;

	pthread_mutex_lock(&a->lock);
	a->tid = gettid();
	pthread_cond_broadcast(&a->cond);
	while (!a->done)
		pthread_cond_wait(&a->cond, &a->lock);
	pthread_mutex_unlock(&a->lock);
	return NULL;
}

UNIT_TEST(test_tgid_of)
{
	struct thread_arg a = { PTHREAD_MUTEX_INITIALIZER, PTHREAD_COND_INITIALIZER, 0, false };
	pthread_t th;
	pid_t tid;

	(void)state;
	assert_int_equal(targets_tgid_of((uint32_t)gettid()), (uint32_t)getpid());
	assert_int_equal(pthread_create(&th, NULL, thread_main, &a), 0);
	pthread_mutex_lock(&a.lock);
	while (!a.tid)
		pthread_cond_wait(&a.cond, &a.lock);
	tid = a.tid;
	pthread_mutex_unlock(&a.lock);
	/* another thread: its own id, our process */
	assert_int_not_equal(tid, getpid());
	assert_int_equal(targets_tgid_of((uint32_t)tid), (uint32_t)getpid());
	pthread_mutex_lock(&a.lock);
	a.done = true;
	pthread_cond_broadcast(&a.cond);
	pthread_mutex_unlock(&a.lock);
	assert_int_equal(pthread_join(th, NULL), 0);
	/* unknown ids come back as they are */
	assert_int_equal(targets_tgid_of(NO_PID), NO_PID);
}

UNIT_TEST(test_descendants)
{
	uint32_t out[16];
	int fds[2];
	pid_t child, grandchild = 0;
	size_t n;

	(void)state;
	assert_int_equal(pipe(fds), 0);
	child = fork();
	assert_true(child >= 0);
	if (child == 0) {
		pid_t g;

		prctl(PR_SET_PDEATHSIG, SIGKILL);
		close(fds[0]);
		g = spawn_sleeper();
		if (write(fds[1], &g, sizeof(g)) != sizeof(g))
			_exit(1);
		for (;;)
			pause();
	}
	close(fds[1]);
	assert_int_equal(read(fds[0], &grandchild, sizeof(grandchild)), sizeof(grandchild));
	close(fds[0]);
	assert_true(grandchild > 0);

	/* breadth first: the child, then its child */
	n = targets_descendants((uint32_t)getpid(), out, 16);
	assert_int_equal(n, 2);
	assert_int_equal(out[0], (uint32_t)child);
	assert_int_equal(out[1], (uint32_t)grandchild);
	/* max bounds what is written */
	out[1] = 0;
	assert_int_equal(targets_descendants((uint32_t)getpid(), out, 1), 1);
	assert_int_equal(out[0], (uint32_t)child);
	assert_int_equal(out[1], 0);
	assert_int_equal(targets_descendants((uint32_t)child, out, 16), 1);
	assert_int_equal(out[0], (uint32_t)grandchild);
	assert_int_equal(targets_descendants((uint32_t)grandchild, out, 16), 0);
	assert_int_equal(targets_descendants(NO_PID, out, 16), 0);

	/* the grandchild comes back to us (a subreaper) when the child dies */
	kill_and_wait(child);
	kill_and_wait(grandchild);
	assert_int_equal(targets_descendants((uint32_t)getpid(), out, 16), 0);
}

UNIT_TEST(test_note)
{
	struct targets *t = targets_new(NULL, 10);
	const struct proc_info *p;
	uint32_t gone = dead_pid();
	pid_t child = spawn_sleeper();
	uint64_t version;

	(void)state;
	assert_non_null(t);
	/* a live process not added yet: watched, named from /proc rather than by comm */
	assert_int_equal(targets_note(t, (uint32_t)child, "from-kernel"), 0);
	assert_int_equal(targets_count(t), 1);
	p = targets_get(t, (uint32_t)child);
	assert_non_null(p);
	assert_int_equal(p->pid, (uint32_t)child);
	assert_string_equal(p->exe_name, exe_name);
	assert_string_equal(p->service_name, exe_name);
	/* its names are numbered (struct proc_info.version) */
	version = p->version;
	assert_true(version != 0);
	/* noted again: refreshed, not counted twice, its names numbered anew (the exporter
	 * compares its resources by that number) */
	assert_int_equal(targets_note(t, (uint32_t)child, "from-kernel"), 0);
	assert_int_equal(targets_count(t), 1);
	p = targets_get(t, (uint32_t)child);
	assert_true(p->version > version);
	version = p->version;
	/* already gone: kept under the comm the kernel gave */
	assert_int_equal(targets_note(t, gone, "short-lived"), 0);
	assert_int_equal(targets_count(t), 2);
	p = targets_get(t, gone);
	assert_non_null(p);
	assert_string_equal(p->exe_name, "short-lived");
	assert_string_equal(p->service_name, "short-lived");
	/* another process's names: a number of their own */
	assert_true(p->version > version);
	targets_free(t);

	t = targets_new("svc", 10);
	assert_non_null(t);
	assert_int_equal(targets_note(t, NO_PID, "x"), 0);
	p = targets_get(t, NO_PID);
	assert_non_null(p);
	assert_string_equal(p->exe_name, "x");
	assert_string_equal(p->service_name, "svc");
	targets_free(t);
	kill_and_wait(child);
}

UNIT_TEST(test_get_learns)
{
	struct targets *t = targets_new(NULL, 10);
	pid_t child = spawn_sleeper();
	const struct proc_info *p;

	(void)state;
	assert_non_null(t);
	/* a process seen before its fork event: learnt on first sight */
	p = targets_get(t, (uint32_t)child);
	assert_non_null(p);
	assert_int_equal(p->pid, (uint32_t)child);
	assert_string_equal(p->exe_name, exe_name);
	assert_int_equal(targets_count(t), 1);
	targets_free(t);
	kill_and_wait(child);
}

UNIT_TEST(test_remove)
{
	uint32_t me = (uint32_t)getpid(), pids[4];
	struct targets *t = targets_new(NULL, 10);
	pid_t child = spawn_sleeper();
	const struct proc_info *p;

	(void)state;
	assert_non_null(t);
	assert_int_equal(targets_add(t, me), 0);
	assert_int_equal(targets_add(t, (uint32_t)child), 0);
	assert_int_equal(targets_count(t), 2);
	assert_int_equal(targets_pids(t, pids, 4), 2);
	assert_true((pids[0] == me && pids[1] == (uint32_t)child) ||
		    (pids[1] == me && pids[0] == (uint32_t)child));
	assert_int_equal(targets_pids(t, pids, 1), 1);

	targets_remove(t, (uint32_t)child);
	assert_int_equal(targets_count(t), 1);
	assert_int_equal(targets_pids(t, pids, 4), 1);
	assert_int_equal(pids[0], me);
	/* its last spans still find a name, without it being watched again */
	p = targets_get(t, (uint32_t)child);
	assert_non_null(p);
	assert_int_equal(p->pid, (uint32_t)child);
	assert_string_equal(p->service_name, exe_name);
	assert_int_equal(targets_count(t), 1);
	/* removing what is not watched changes nothing */
	targets_remove(t, (uint32_t)child);
	targets_remove(t, NO_PID);
	assert_int_equal(targets_count(t), 1);
	targets_remove(t, me);
	assert_int_equal(targets_count(t), 0);
	assert_int_equal(targets_pids(t, pids, 4), 0);
	targets_free(t);
	kill_and_wait(child);
}

UNIT_TEST(test_graveyard_cap)
{
	struct targets *t = targets_new(NULL, 10);
	uint32_t i;

	(void)state;
	assert_non_null(t);
	/* 65 processes that are gone, named by comm, then removed: 64 graves are kept */
	for (i = 0; i < 65; i++)
		assert_int_equal(targets_note(t, NO_PID + i, "gone"), 0);
	assert_int_equal(targets_count(t), 65);
	for (i = 0; i < 65; i++)
		targets_remove(t, NO_PID + i);
	assert_int_equal(targets_count(t), 0);
	/* the oldest grave went; being no process, it is not learnt again either */
	assert_null(targets_get(t, NO_PID));
	for (i = 1; i < 65; i++)
		if (!targets_get(t, NO_PID + i))
			fail_msg("grave %u is gone", i);
	assert_int_equal(targets_count(t), 0);
	targets_free(t);
}

UNIT_TEST(test_route_cap)
{
	uint32_t me = (uint32_t)getpid();
	struct targets *t = targets_new(NULL, 2);
	pid_t child = spawn_sleeper();
	const char *a;

	(void)state;
	assert_non_null(t);
	assert_int_equal(targets_add(t, me), 0);
	assert_int_equal(targets_route_overflows(t), 0);
	a = targets_route(t, me, "/a");
	assert_string_equal(a, "/a");
	assert_string_equal(targets_route(t, me, "/b"), "/b");
	/* a route already known stays itself, the same interned string */
	assert_ptr_equal(targets_route(t, me, "/a"), a);
	assert_int_equal(targets_route_overflows(t), 0);
	/* the third distinct route is over the cap */
	assert_string_equal(targets_route(t, me, "/c"), ROUTE_OVERFLOW);
	assert_string_equal(ROUTE_OVERFLOW, "other");
	assert_int_equal(targets_route_overflows(t), 1);
	assert_string_equal(targets_route(t, me, "/d"), "other");
	assert_string_equal(targets_route(t, me, "/c"), "other");
	assert_int_equal(targets_route_overflows(t), 3);
	assert_string_equal(targets_route(t, me, "/b"), "/b");
	assert_int_equal(targets_route_overflows(t), 3);

	/* the cap is per service: another process of the same service shares it */
	assert_int_equal(targets_add(t, (uint32_t)child), 0);
	assert_ptr_equal(targets_route(t, (uint32_t)child, "/a"), a);
	assert_string_equal(targets_route(t, (uint32_t)child, "/e"), "other");
	assert_int_equal(targets_route_overflows(t), 4);
	/* ... another service has its own */
	assert_int_equal(targets_note(t, NO_PID, "worker"), 0);
	assert_string_equal(targets_route(t, NO_PID, "/x"), "/x");
	assert_string_equal(targets_route(t, NO_PID, "/y"), "/y");
	assert_string_equal(targets_route(t, NO_PID, "/z"), "other");
	assert_int_equal(targets_route_overflows(t), 5);
	/* a removed process's routes still resolve; an unknown one has none */
	targets_remove(t, NO_PID);
	assert_string_equal(targets_route(t, NO_PID, "/x"), "/x");
	assert_null(targets_route(t, NO_PID + 1, "/x"));
	targets_free(t);
	kill_and_wait(child);
}

struct reaped {
	struct targets *t;
	uint32_t pids[8];
	size_t n;
};

/* As the app does: a dead pid is removed from inside the callback. */
static void on_reap(void *ctx, uint32_t pid)
{
	struct reaped *r = ctx;

	assert_true(r->n < 8);
	r->pids[r->n++] = pid;
	targets_remove(r->t, pid);
}

static bool reaped_has(const struct reaped *r, uint32_t pid)
{
	size_t i;

	for (i = 0; i < r->n; i++)
		if (r->pids[i] == pid)
			return true;
	return false;
}

UNIT_TEST(test_reap)
{
	struct reaped r = { 0 };
	uint32_t me = (uint32_t)getpid();
	siginfo_t si;
	pid_t exited, zombie, alive;
	int wfd_exited, wfd_zombie;

	(void)state;
	r.t = targets_new(NULL, 10);
	assert_non_null(r.t);
	exited = spawn_waiter(&wfd_exited);
	zombie = spawn_waiter(&wfd_zombie);
	alive = spawn_sleeper();
	assert_int_equal(targets_add(r.t, me), 0);
	assert_int_equal(targets_add(r.t, (uint32_t)exited), 0);
	assert_int_equal(targets_add(r.t, (uint32_t)zombie), 0);
	assert_int_equal(targets_add(r.t, (uint32_t)alive), 0);
	assert_int_equal(targets_note(r.t, NO_PID, "gone"), 0);
	assert_int_equal(targets_count(r.t), 5);

	/* everyone alive but the one noted after its death: let go at the second look (its
	 * last events may still be on their way) */
	targets_reap(r.t, on_reap, &r);
	assert_int_equal(r.n, 0);
	assert_int_equal(targets_count(r.t), 5);
	targets_reap(r.t, on_reap, &r);
	assert_int_equal(r.n, 1);
	assert_int_equal(r.pids[0], NO_PID);
	assert_int_equal(targets_count(r.t), 4);

	/* one exits and is waited for: its /proc entry is gone */
	close(wfd_exited);
	assert_int_equal(waitpid(exited, NULL, 0), exited);
	/* one exits and is not waited for: a zombie */
	close(wfd_zombie);
	memset(&si, 0, sizeof(si));
	assert_int_equal(waitid(P_PID, (id_t)zombie, &si, WEXITED | WNOWAIT), 0);
	assert_int_equal(si.si_pid, zombie);

	r.n = 0;
	targets_reap(r.t, on_reap, &r);
	assert_int_equal(r.n, 0);
	assert_int_equal(targets_count(r.t), 4);
	targets_reap(r.t, on_reap, &r);
	assert_int_equal(r.n, 2);
	assert_true(reaped_has(&r, (uint32_t)exited));
	assert_true(reaped_has(&r, (uint32_t)zombie));
	assert_int_equal(targets_count(r.t), 2);

	/* nothing more to reap */
	r.n = 0;
	targets_reap(r.t, on_reap, &r);
	assert_int_equal(r.n, 0);
	assert_int_equal(targets_count(r.t), 2);

	/* learnt again between the two looks (its pid reused): the next look is a first one */
	assert_int_equal(targets_note(r.t, NO_PID, "gone"), 0);
	targets_reap(r.t, on_reap, &r);
	assert_int_equal(targets_note(r.t, NO_PID, "again"), 0);
	targets_reap(r.t, on_reap, &r);
	assert_int_equal(r.n, 0);
	targets_reap(r.t, on_reap, &r);
	assert_int_equal(r.n, 1);
	assert_int_equal(r.pids[0], NO_PID);
	assert_int_equal(targets_count(r.t), 2);
	assert_non_null(targets_get(r.t, me));
	assert_non_null(targets_get(r.t, (uint32_t)alive));

	targets_free(r.t);
	assert_int_equal(waitpid(zombie, NULL, 0), zombie);
	kill_and_wait(alive);
}

/* The lowest free descriptor: with the soft limit there, no file can be opened. */
static int lowest_free_fd(void)
{
	int fd = dup(0);

	assert_true(fd >= 0);
	close(fd);
	return fd;
}

/* Out of descriptors, /proc cannot be read: that is no news of the targets, and reaping them
 * all for it would end obsprobe (it did: "no watched process left, exiting"). */
UNIT_TEST(test_reap_out_of_descriptors)
{
	struct reaped r = { 0 };
	struct procfs_stat ps;
	struct rlimit old, tight;
	pid_t alive;

	(void)state;
	r.t = targets_new(NULL, 10);
	assert_non_null(r.t);
	alive = spawn_sleeper();
	assert_int_equal(targets_add(r.t, (uint32_t)getpid()), 0);
	assert_int_equal(targets_add(r.t, (uint32_t)alive), 0);

	assert_int_equal(getrlimit(RLIMIT_NOFILE, &old), 0);
	tight = old;
	tight.rlim_cur = (rlim_t)lowest_free_fd();
	assert_int_equal(setrlimit(RLIMIT_NOFILE, &tight), 0);
	assert_int_equal(procfs_read_stat((uint32_t)alive, 0, &ps), -EMFILE);
	targets_reap(r.t, on_reap, &r);
	targets_reap(r.t, on_reap, &r);
	assert_int_equal(setrlimit(RLIMIT_NOFILE, &old), 0);
	assert_int_equal(r.n, 0);
	assert_int_equal(targets_count(r.t), 2);

	/* and once /proc can be read again, the dead still go */
	kill_and_wait(alive);
	targets_reap(r.t, on_reap, &r);
	targets_reap(r.t, on_reap, &r);
	assert_int_equal(r.n, 1);
	assert_int_equal(r.pids[0], (uint32_t)alive);
	assert_int_equal(targets_count(r.t), 1);
	targets_free(r.t);
}

UNIT_MAIN(group_setup, NULL)
