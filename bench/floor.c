// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/*
 * Usage: floor FILE.bpf.o
 * Loads every program of FILE.bpf.o and attaches each where its section says, prints "ready",
 * then waits for SIGINT or SIGTERM and detaches. bench/saturation.sh runs it with
 * build/bench/floor.bpf.o: empty programs on the hooks obsprobe's scheduler programs use.
 */
#include <bpf/libbpf.h>
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

static volatile sig_atomic_t stop;

static void on_signal(int sig)
{
	(void)sig;
	stop = 1;
}

int main(int argc, char **argv)
{
	struct bpf_link *links[16];
	struct bpf_program *p;
	struct bpf_object *obj;
	size_t n = 0, i;

	if (argc != 2) {
		fprintf(stderr, "usage: %s FILE.bpf.o\n", argv[0]);
		return 2;
	}
	obj = bpf_object__open_file(argv[1], NULL);
	if (!obj || bpf_object__load(obj)) {
		fprintf(stderr, "floor: cannot load %s: %s\n", argv[1], strerror(errno));
		return 1;
	}
	bpf_object__for_each_program(p, obj) {
		if (n == sizeof(links) / sizeof(links[0]))
			break;
		links[n] = bpf_program__attach(p);
		if (!links[n]) {
			fprintf(stderr, "floor: cannot attach %s: %s\n", bpf_program__name(p),
				strerror(errno));
			return 1;
		}
		n++;
	}
	signal(SIGINT, on_signal);
	signal(SIGTERM, on_signal);
	printf("ready: %zu programs\n", n);
	fflush(stdout);
	while (!stop)
		pause();
	for (i = 0; i < n; i++)
		bpf_link__destroy(links[i]);
	bpf_object__close(obj);
	return 0;
}
