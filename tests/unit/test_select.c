// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/* Node-wide selection: the selectors as parsed and as matched, on facts and on real processes
 * (this test and a child listening on a TCP port). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include "unit.h"

#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include "pipeline/select.h"
#include "process/procfs.h"

#define NO_PID 1073741000u
#define CID "0f5e3b2a9c8d7e6f5a4b3c2d1e0f9a8b7c6d5e4f3a2b1c0d9e8f7a6b5c4d3e2f"

static char err[256];

static void add(struct selection *s, enum select_kind k, const char *v)
{
	assert_int_equal(selection_add(s, k, v, false, err, sizeof(err)), 0);
}

static void exclude(struct selection *s, const char *arg)
{
	assert_int_equal(selection_add_exclude(s, arg, err, sizeof(err)), 0);
}

static const struct proc_facts nginx = {
	.exe = "/usr/sbin/nginx",
	.comm = "nginx",
	.cgroup = "/system.slice/nginx.service",
	.container_id = "",
	.ports = (const uint16_t[]){ 80, 443 },
	.nports = 2,
};

static const struct proc_facts boxed = {
	.exe = "/usr/bin/python3.11",
	.comm = "python3",
	.cgroup = "/libpod_parent/libpod-" CID,
	.container_id = CID,
};

UNIT_TEST(test_nothing_selected_without_all_or_selector)
{
	struct selection s = {};

	(void)state;

	assert_false(selection_node_wide(&s));
	assert_false(selection_match(&s, &nginx));
	exclude(&s, "comm=sshd");
	assert_false(selection_node_wide(&s));
	assert_false(selection_match(&s, &nginx));
}

UNIT_TEST(test_all_takes_everything_but_excludes)
{
	struct selection s = { .all = true };

	(void)state;

	assert_true(selection_node_wide(&s));
	assert_true(selection_match(&s, &nginx));
	assert_true(selection_match(&s, &boxed));
	exclude(&s, "port=443");
	assert_false(selection_match(&s, &nginx));
	assert_true(selection_match(&s, &boxed));
	exclude(&s, "container=" CID);
	assert_false(selection_match(&s, &boxed));
}

UNIT_TEST(test_exe_glob_on_path_or_name)
{
	struct selection s = {};

	(void)state;

	add(&s, SELECT_EXE, "nginx");
	assert_true(selection_match(&s, &nginx));
	assert_false(selection_match(&s, &boxed));

	s = (struct selection){};
	add(&s, SELECT_EXE, "*/python3*");
	assert_true(selection_match(&s, &boxed));
	assert_false(selection_match(&s, &nginx));

	s = (struct selection){};
	add(&s, SELECT_EXE, "/usr/bin/*");
	assert_true(selection_match(&s, &boxed));
	assert_false(selection_match(&s, &nginx));

	/* a glob with a '/' is on the whole path only */
	s = (struct selection){};
	add(&s, SELECT_EXE, "sbin/nginx");
	assert_false(selection_match(&s, &nginx));

	/* an unknown executable matches no glob */
	s = (struct selection){};
	add(&s, SELECT_EXE, "*");
	assert_false(selection_match(&s, &(struct proc_facts){ .comm = "x" }));
}

UNIT_TEST(test_same_kind_is_either_kinds_are_both)
{
	struct selection s = {};

	(void)state;

	add(&s, SELECT_COMM, "nginx");
	add(&s, SELECT_COMM, "python3");
	assert_true(selection_match(&s, &nginx));
	assert_true(selection_match(&s, &boxed));
	add(&s, SELECT_PORT, "80");
	assert_true(selection_match(&s, &nginx));
	assert_false(selection_match(&s, &boxed)); /* listens on nothing */
	add(&s, SELECT_PORT, "8080");
	assert_true(selection_match(&s, &nginx));
}

UNIT_TEST(test_comm_is_exact)
{
	struct selection s = {};

	(void)state;

	add(&s, SELECT_COMM, "ngin");
	assert_false(selection_match(&s, &nginx));
	s = (struct selection){};
	add(&s, SELECT_COMM, "nginx");
	assert_true(selection_match(&s, &nginx));
	assert_false(selection_match(&s, &(struct proc_facts){ .exe = "/x" }));
}

UNIT_TEST(test_cgroup_and_container)
{
	struct selection s = {};

	(void)state;

	add(&s, SELECT_CGROUP, "/system.slice");
	assert_true(selection_match(&s, &nginx));
	assert_false(selection_match(&s, &boxed));

	s = (struct selection){};
	add(&s, SELECT_CGROUP, "/system.sli");
	assert_false(selection_match(&s, &nginx));

	s = (struct selection){};
	add(&s, SELECT_CONTAINER, "0f5e3b2a9c8d");
	assert_true(selection_match(&s, &boxed));
	assert_false(selection_match(&s, &nginx));

	s = (struct selection){};
	add(&s, SELECT_CONTAINER, CID);
	assert_true(selection_match(&s, &boxed));
	s = (struct selection){};
	add(&s, SELECT_CONTAINER, "0f5e3b2a9c8e");
	assert_false(selection_match(&s, &boxed));
}

UNIT_TEST(test_bad_values_refused)
{
	struct selection s = {};

	(void)state;

	assert_int_equal(selection_add(&s, SELECT_PORT, "0", false, err, sizeof(err)), -EINVAL);
	assert_non_null(strstr(err, "port"));
	assert_int_equal(selection_add(&s, SELECT_PORT, "65536", false, err, sizeof(err)), -EINVAL);
	assert_int_equal(selection_add(&s, SELECT_PORT, "-1", false, err, sizeof(err)), -EINVAL);
	assert_int_equal(selection_add(&s, SELECT_PORT, "80x", false, err, sizeof(err)), -EINVAL);
	assert_int_equal(selection_add(&s, SELECT_COMM, "0123456789abcdef", false, err,
				       sizeof(err)),
			 -EINVAL);
	assert_int_equal(selection_add(&s, SELECT_COMM, "", false, err, sizeof(err)), -EINVAL);
	assert_int_equal(selection_add(&s, SELECT_CGROUP, "system.slice", false, err, sizeof(err)),
			 -EINVAL);
	assert_int_equal(selection_add(&s, SELECT_CONTAINER, "0f5e3b2a9c8", false, err,
				       sizeof(err)),
			 -EINVAL);
	assert_int_equal(selection_add(&s, SELECT_CONTAINER, "0F5E3B2A9C8D", false, err,
				       sizeof(err)),
			 -EINVAL);
	assert_int_equal(selection_add_exclude(&s, "comm", err, sizeof(err)), -EINVAL);
	assert_int_equal(selection_add_exclude(&s, "com=x", err, sizeof(err)), -EINVAL);
	assert_int_equal(selection_add_exclude(&s, "commx=x", err, sizeof(err)), -EINVAL);
	assert_int_equal(selection_add_exclude(&s, "=x", err, sizeof(err)), -EINVAL);
	assert_int_equal(selection_add_exclude(&s, "port=abc", err, sizeof(err)), -EINVAL);
	assert_int_equal(s.ninclude + s.nexclude, 0);
}

UNIT_TEST(test_selector_cap)
{
	struct selection s = {};
	int i;

	(void)state;

	for (i = 0; i < SELECT_MAX; i++)
		add(&s, SELECT_COMM, "x");
	assert_int_equal(selection_add(&s, SELECT_COMM, "x", false, err, sizeof(err)), -EINVAL);
	assert_int_equal(s.ninclude, SELECT_MAX);
}

UNIT_TEST(test_uses)
{
	struct selection s = { .all = true };

	(void)state;

	assert_false(selection_uses(&s, SELECT_PORT));
	exclude(&s, "port=22");
	assert_true(selection_uses(&s, SELECT_PORT));
	assert_false(selection_uses(&s, SELECT_CGROUP));
	add(&s, SELECT_CGROUP, "/");
	assert_true(selection_uses(&s, SELECT_CGROUP));
	assert_string_equal(select_kind_name(SELECT_CONTAINER), "container");
}

UNIT_TEST(test_parse_tcp_listen)
{
	static const char tcp[] =
		"  sl  local_address rem_address   st tx_queue rx_queue tr tm->when retrnsmt   uid  "
		"timeout inode\n"
		"   0: 0100007F:1F90 00000000:0000 0A 00000000:00000000 00:00000000 00000000     0   "
		"     0 4242 1 0000000000000000 100 0 0 10 0\n"
		"   1: 0100007F:1F90 0100007F:D2F0 01 00000000:00000000 00:00000000 00000000     0   "
		"     0 4343 1 0000000000000000 20 4 30 10 -1\n"
		"   2: 00000000:0016 00000000:0000 0A 00000000:00000000 00:00000000 00000000     0   "
		"     0 99 1\n"
		"   3: garbage\n"
		"   4: 00000000:0050 00000000:0000 0A 00000000:00000000 00:00000000 00000000     0   "
		"     0 0 1\n";
	static const char tcp6[] =
		"   0: 00000000000000000000000001000000:01BB 00000000000000000000000000000000:0000 0A "
		"00000000:00000000 00:00000000 00000000     0        0 777 1";
	uint16_t ports[4];
	uint64_t inodes[4];

	(void)state;

	assert_int_equal(procfs_parse_tcp_listen(tcp, sizeof(tcp) - 1, ports, inodes, 4), 2);
	assert_int_equal(ports[0], 8080);
	assert_int_equal(inodes[0], 4242);
	assert_int_equal(ports[1], 22);
	assert_int_equal(inodes[1], 99);
	assert_int_equal(procfs_parse_tcp_listen(tcp, sizeof(tcp) - 1, ports, inodes, 1), 1);
	/* no trailing newline */
	assert_int_equal(procfs_parse_tcp_listen(tcp6, sizeof(tcp6) - 1, ports, inodes, 4), 1);
	assert_int_equal(ports[0], 443);
	assert_int_equal(inodes[0], 777);
	assert_int_equal(procfs_parse_tcp_listen("", 0, ports, inodes, 4), 0);
	/* cut mid-line: the part does not parse as a listener */
	assert_int_equal(procfs_parse_tcp_listen(tcp6, 60, ports, inodes, 4), 0);
}

UNIT_TEST(test_exe_of_real_processes)
{
	char exe[4096];

	(void)state;

	assert_true(procfs_exe((uint32_t)getpid(), exe, sizeof(exe)) > 0);
	assert_non_null(strstr(exe, "test_select"));
	assert_int_equal(procfs_exe(NO_PID, exe, sizeof(exe)), -ESRCH);
	/* kthreadd, pid 2 in the root namespace, has no executable: not an error of ours */
	if (procfs_exe(2, exe, sizeof(exe)) < 0 && access("/proc/2/stat", F_OK) == 0)
		assert_int_equal(procfs_exe(2, exe, sizeof(exe)), -ENOENT);
}

/* A child listening on a free TCP port on 127.0.0.1: its pid, and the port in *port. */
static pid_t listening_child(uint16_t *port)
{
	struct sockaddr_in a = { .sin_family = AF_INET };
	socklen_t len = sizeof(a);
	int fds[2], s;
	pid_t pid;

	assert_int_equal(pipe(fds), 0);
	pid = fork();
	assert_true(pid >= 0);
	if (pid == 0) {
		s = socket(AF_INET, SOCK_STREAM, 0);
		a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
		if (s < 0 || bind(s, (struct sockaddr *)&a, sizeof(a)) || listen(s, 1) ||
		    getsockname(s, (struct sockaddr *)&a, &len))
			_exit(1);
		if (write(fds[1], &a.sin_port, sizeof(a.sin_port)) != sizeof(a.sin_port))
			_exit(1);
		pause();
		_exit(0);
	}
	close(fds[1]);
	assert_int_equal(read(fds[0], port, sizeof(*port)), sizeof(*port));
	close(fds[0]);
	*port = ntohs(*port);
	return pid;
}

UNIT_TEST(test_port_of_real_process)
{
	struct selection s = {};
	uint16_t port, ports[8];
	char num[8], ex[16], comm[64], self[64];
	pid_t pid = listening_child(&port);
	struct rlimit old, tight;
	FILE *f;
	int n, fd;

	(void)state;

	n = procfs_listen_ports((uint32_t)pid, ports, 8);
	assert_int_equal(n, 1);
	assert_int_equal(ports[0], port);
	assert_int_equal(procfs_listen_ports((uint32_t)getpid(), ports, 8), 0);

	snprintf(num, sizeof(num), "%u", port);
	add(&s, SELECT_PORT, num);
	assert_int_equal(selection_match_pid(&s, (uint32_t)pid, NULL, 0), 1);
	assert_int_equal(selection_match_pid(&s, (uint32_t)getpid(), NULL, 0), 0);
	assert_int_equal(selection_match_pid(&s, NO_PID, NULL, 0), -ESRCH);

	s = (struct selection){ .all = true };
	exclude(&s, "port=1");
	assert_int_equal(selection_match_pid(&s, (uint32_t)pid, NULL, 0), 1);
	snprintf(ex, sizeof(ex), "port=%u", port);
	exclude(&s, ex);
	assert_int_equal(selection_match_pid(&s, (uint32_t)pid, NULL, 0), 0);
	/* the name it was judged under: the child's, which a fork shares with this process */
	f = fopen("/proc/self/comm", "r");
	assert_non_null(f);
	assert_non_null(fgets(self, sizeof(self), f));
	fclose(f);
	self[strcspn(self, "\n")] = '\0';
	assert_int_equal(selection_match_pid(&s, (uint32_t)pid, comm, sizeof(comm)), 0);
	assert_string_equal(comm, self);

	/* out of descriptors, /proc cannot be read: not judged, and not said to be gone */
	fd = dup(0);
	assert_true(fd >= 0);
	close(fd);
	assert_int_equal(getrlimit(RLIMIT_NOFILE, &old), 0);
	tight = old;
	tight.rlim_cur = (rlim_t)fd;
	assert_int_equal(setrlimit(RLIMIT_NOFILE, &tight), 0);
	n = selection_match_pid(&s, (uint32_t)pid, comm, sizeof(comm));
	assert_int_equal(setrlimit(RLIMIT_NOFILE, &old), 0);
	assert_int_equal(n, -EMFILE);
	assert_string_equal(comm, "");

	kill(pid, SIGKILL);
	waitpid(pid, NULL, 0);
	assert_int_equal(selection_match_pid(&s, (uint32_t)pid, NULL, 0), -ESRCH);
	assert_int_equal(selection_match_pid(&s, (uint32_t)pid, comm, sizeof(comm)), -ESRCH);
	assert_string_equal(comm, "");
}

UNIT_MAIN(NULL, NULL)
