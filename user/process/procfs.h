/* SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause) */
/* What obsprobe reads of /proc/PID/stat, /status, /environ, /maps, /exe and /net/tcp, parsed in
 * one place. */
#ifndef OBSPROBE_PROCFS_H
#define OBSPROBE_PROCFS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct procfs_stat {
	char comm[64];
	char state; /* R, S, D, Z, ... */
	uint32_t ppid;
	unsigned long long utime, stime; /* clock ticks; a process's include its exited threads */
	unsigned long long start_time;	 /* clock ticks after boot: tells PID reuse apart */
};

/* /proc/PID/stat, or /proc/PID/task/TID/stat when tid is not 0. 0, -ESRCH (no such task),
 * -EINVAL (unparsable), or another -errno when it could not be opened (-EMFILE: obsprobe is out
 * of descriptors; the task may well be there). */
int procfs_read_stat(uint32_t pid, uint32_t tid, struct procfs_stat *out);

/* The numbers of the "KEY:" lines of /proc/PID/status (kB ones in kB) into vals[i] for
 * keys[i]; vals of keys not found are left alone. Returns how many keys were found, or
 * -ESRCH. */
int procfs_read_status(uint32_t pid, const char *const *keys, unsigned long long *vals, size_t n);

/* The value of variable name in the environment pid started with (/proc/PID/environ, read up to
 * PROCFS_ENVIRON_MAX bytes) into out (cut to len - 1 bytes): 0, -ENOENT when it is not set,
 * -ESRCH or another -errno when it cannot be read. */
#define PROCFS_ENVIRON_MAX (256 * 1024)
int procfs_read_environ(uint32_t pid, const char *name, char *out, size_t len);
/* The same, in an environment block buf of len bytes ("A=1\0B=2\0"). */
int procfs_environ_find(const char *buf, size_t buflen, const char *name, char *out, size_t len);

/* The path of pid's executable (a replaced binary's without its " (deleted)") into out: its
 * length, or -errno (-ENOENT: a kernel thread, which has none; -ESRCH: no such process). */
int procfs_exe(uint32_t pid, char *out, size_t len);

/* The TCP ports pid listens on, IPv4 and IPv6, as its network namespace shows them (each port
 * once; at most max): how many, or -errno. */
int procfs_listen_ports(uint32_t pid, uint16_t *ports, size_t max);
/* The listening sockets of one /proc/net/tcp or tcp6 table (text, len bytes): for each, its
 * local port and socket inode; how many (at most max). */
size_t procfs_parse_tcp_listen(const char *text, size_t len, uint16_t *ports, uint64_t *inodes,
			       size_t max);

/* One line of /proc/PID/maps. */
struct maps_entry {
	uint64_t start, end, offset;
	uint32_t dev_major, dev_minor;
	uint64_t inode;
	bool exec;
	const char *path; /* points into the line; "" for anonymous mappings */
	bool deleted;	  /* path ends with " (deleted)", which is cut off */
};

/* Parses one line (modified in place: the path is cut at its end); 0 or -EINVAL. */
int maps_parse_line(char *line, struct maps_entry *e);

#endif /* OBSPROBE_PROCFS_H */
