// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/* obsprobe: spans and RED metrics for a process's HTTP traffic, from the kernel, no code change.
 * Flags into a config (cli.c), then one run (app.c). */
#include <malloc.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>

#include "app.h"
#include "cli.h"
#include "util/log.h"

static volatile sig_atomic_t stop_requested;

static void on_signal(int sig)
{
	(void)sig;
	stop_requested = 1;
}

static const char *getenv_const(const char *name)
{
	return getenv(name);
}

int main(int argc, char **argv)
{
	static struct config cfg;
	struct sigaction sa = { .sa_handler = on_signal };
	int ret = cli_parse(&cfg, argc, argv, getenv_const, stdout);

	if (ret)
		return ret == CLI_DONE ? 0 : 2;
	/* crash stacks are symbolized from the files on this host only: libdwfl would otherwise
	 * fetch debug info from the network (Debian's profile sets DEBUGINFOD_URLS) */
	unsetenv("DEBUGINFOD_URLS");
	/* Before any setup: loading and probing take seconds (each uprobe ~70 ms), and a SIGINT
	 * that came meanwhile must stop the run, not vanish (a shell's background job starts with
	 * SIGINT ignored). The event loop sees the flag and goes straight to the cleanup. */
	sigaction(SIGINT, &sa, NULL);
	sigaction(SIGTERM, &sa, NULL);
	signal(SIGPIPE, SIG_IGN);
	/* glibc raises its mmap threshold to the largest block freed (up to 32 MiB), and the
	 * heap's trim threshold to twice that: after the first parse of the kernel's BTF, the next
	 * parses' 3-6 MiB would come from the heap, where a freed block stays resident while
	 * anything sits above it (obsprobe's RSS held 10 MiB more after loading). Fixed at 2 MiB,
	 * blocks that large are mapped and given back whole; smaller ones stay on the heap, which
	 * keeps up to 4 MiB free at its top, as glibc would: libcurl's 1 MiB upload buffer,
	 * allocated for every OTLP request, mapped anew or trimmed away each time would fault its
	 * pages in every time (the export's CPU doubled). */
	mallopt(M_MMAP_THRESHOLD, 2 << 20);
	mallopt(M_TRIM_THRESHOLD, 4 << 20);
	log_set_level(LOG_WARN + cfg.verbose);
	return app_run(&cfg, &stop_requested);
}
