// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/*
 * Context-switch load for `make bench`: a parent and a child bounce one byte through two pipes
 * N times, each blocking in read() between bounces, so every bounce is two blocking reads and
 * two wakeups. Prints "ROUNDS NS_PER_ROUND SWITCHES", SWITCHES being the context switches of
 * both processes (voluntary and involuntary) during the bounces. With -w the parent waits for a
 * line on stdin first (so that obsprobe can attach to the pair before the timed part).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

static long switches(int who)
{
	struct rusage ru;

	getrusage(who, &ru);
	return ru.ru_nvcsw + ru.ru_nivcsw;
}

static double now_s(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

int main(int argc, char **argv)
{
	long rounds = argc > 1 ? atol(argv[argc - 1]) : 200000, i;
	int wait_go = argc > 2 && !strcmp(argv[1], "-w");
	int ping[2], pong[2];
	char c = 'x', line[16];
	double t0, t1;
	long s0, s1;
	pid_t child;

	if (rounds <= 0 || pipe(ping) || pipe(pong))
		return 1;
	child = fork();
	if (child < 0)
		return 1;
	if (child == 0) {
		close(ping[1]);
		close(pong[0]);
		for (;;) {
			if (read(ping[0], &c, 1) != 1)
				_exit(0);
			if (write(pong[1], &c, 1) != 1)
				_exit(1);
		}
	}
	close(ping[0]);
	close(pong[1]);
	if (wait_go && !fgets(line, sizeof(line), stdin))
		return 1;
	s0 = switches(RUSAGE_SELF);
	t0 = now_s();
	for (i = 0; i < rounds; i++) {
		if (write(ping[1], &c, 1) != 1 || read(pong[0], &c, 1) != 1)
			return 1;
	}
	t1 = now_s();
	s1 = switches(RUSAGE_SELF);
	close(ping[1]);
	waitpid(child, NULL, 0);
	/* the child did nothing but bounce */
	printf("%ld %.1f %ld\n", rounds, (t1 - t0) * 1e9 / (double)rounds,
	       s1 - s0 + switches(RUSAGE_CHILDREN));
	return 0;
}
