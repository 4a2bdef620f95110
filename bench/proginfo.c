// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/*
 * Usage: proginfo [MIN_ID]
 * One line per BPF program loaded in the kernel whose id is above MIN_ID (default 0): its id,
 * the instructions the verifier processed to accept it (bpf_prog_info.verified_insns, 5.16+;
 * 0 when the kernel does not say) and its name. bench/startup.sh takes the programs an
 * obsprobe start loaded: those above the highest id before it. bpftool 7.1 does not print
 * verified_insns.
 */
#include <bpf/bpf.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

int main(int argc, char **argv)
{
	__u32 id = argc > 1 ? (__u32)strtoul(argv[1], NULL, 10) : 0;

	if (argc > 2) {
		fprintf(stderr, "usage: proginfo [MIN_ID]\n");
		return 2;
	}
	while (!bpf_prog_get_next_id(id, &id)) {
		struct bpf_prog_info info;
		__u32 len = sizeof(info);
		int fd = bpf_prog_get_fd_by_id(id);

		if (fd < 0)
			continue; /* unloaded meanwhile */
		memset(&info, 0, sizeof(info));
		if (!bpf_obj_get_info_by_fd(fd, &info, &len))
			printf("%u %u %s\n", id, info.verified_insns, info.name);
		close(fd);
	}
	if (errno != ENOENT) {
		perror("proginfo: BPF_PROG_GET_NEXT_ID");
		return 1;
	}
	return 0;
}
