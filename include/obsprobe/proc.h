/* SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause) */
/* Process lifecycle of watched processes: fork of a child, exit of the whole thread group; in
 * node-wide mode also the exec and listen() of every other process, for user space to judge. */
#ifndef OBSPROBE_PROC_H
#define OBSPROBE_PROC_H

#include "obsprobe/common.h"

#define OBS_COMM_LEN 16

struct obs_proc_event {
	struct obs_event_hdr hdr; /* hdr.pid: the new child (fork) or the exited process */
	__u32 ppid;
	__s32 exit_code;
	char comm[OBS_COMM_LEN];
	__u32 target_flags; /* the process's OBS_TARGET_* flags when it happened; 0: not watched */
	__u16 port;	    /* OBS_EV_PROC_LISTEN: the local port now listening */
	__u16 pad;
};
_Static_assert(sizeof(struct obs_proc_event) == 56, "obs_proc_event layout");

#endif /* OBSPROBE_PROC_H */
