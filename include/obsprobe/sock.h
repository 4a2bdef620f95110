/* SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause) */
/* Socket I/O of watched processes, captured at syscall exit. */
#ifndef OBSPROBE_SOCK_H
#define OBSPROBE_SOCK_H

#include "obsprobe/common.h"

/* Hard upper bound of captured bytes per event; the run-time limit is `capture_bytes`. */
#define SOCK_CAPTURE_MAX 4096
#define SOCK_CAPTURE_DEFAULT 1024
#define SOCK_MAX_IOV 8	     /* iovecs read of a readv/writev/recvmsg/sendmsg, unrolled */
#define SOCK_MAX_IOV_LOOP 64 /* ... with bpf_loop */
#define SOCK_MAX_CONNS 65536
/* HTTP/2 frame walk (sock.bpf.h): connection directions followed at once, and steps (a frame
 * header or a piece of payload) one read or write may take before the walk gives up */
#define SOCK_H2_WALKS 16384
/* Writes to stdout and stderr (OBS_EV_LOG): events of up to SOCK_CAPTURE_MAX bytes each, this
 * many per write at most (the rest is a gap); processes whose byte budgets are kept at once. */
#define SOCK_LOG_CHUNKS 4
#define SOCK_LOG_PROCS 4096
#define SOCK_LOG_BYTES_DEFAULT (1u << 20) /* per process and second */
#define SOCK_H2_STEPS 1024

enum sock_dir {
	SOCK_DIR_INGRESS = 0, /* the process read these bytes */
	SOCK_DIR_EGRESS = 1,  /* the process wrote these bytes */
};

enum sock_role {
	SOCK_ROLE_UNKNOWN = 0, /* existed before obsprobe attached */
	SOCK_ROLE_ACCEPTED = 1,
	SOCK_ROLE_CONNECTED = 2,
};

enum sock_syscall {
	SOCK_SC_READ = 1,
	SOCK_SC_READV,
	SOCK_SC_RECVFROM,
	SOCK_SC_RECVMSG,
	SOCK_SC_WRITE,
	SOCK_SC_WRITEV,
	SOCK_SC_SENDTO,
	SOCK_SC_SENDMSG,
	SOCK_SC_SENDFILE,
	SOCK_SC_ACCEPT,
	SOCK_SC_CONNECT,
	SOCK_SC_CLOSE,
	SOCK_SC_TLS_READ,  /* plaintext the application read from its TLS library */
	SOCK_SC_TLS_WRITE, /* plaintext the application handed its TLS library */
};

/* Key of the per-process fd table in BPF. */
struct sock_fd_key {
	__u32 pid;
	__s32 fd;
};

struct sock_addr {
	__u16 family;  /* AF_INET, AF_INET6, AF_UNIX */
	__u16 port;    /* host byte order */
	__u8 addr[16]; /* IPv4 in the first 4 bytes, network order */
};

/* OBS_EV_SOCK_OPEN: a stream socket of a watched process became known. */
struct sock_open_event {
	struct obs_event_hdr hdr;
	__u64 conn_id; /* unique for the life of the obsprobe run, survives fd reuse */
	__s32 fd;
	__u16 role;
	__u16 pad;
	struct sock_addr local;
	struct sock_addr remote;
};
_Static_assert(sizeof(struct sock_open_event) == 80, "sock_open_event layout");

/*
 * OBS_EV_SOCK_DATA: bytes read or written. An event covers `bytes` of the connection's stream in
 * that direction: `lead` bytes not captured, then the `captured` bytes in data[], then
 * bytes - lead - captured not captured. One read or write is one event, or several in order
 * (sock.bpf.h: the head and tail of a long one, or an HTTP/2 stream's frames without the middle
 * of long DATA payloads); a stream's events add up to what went through it.
 */
struct sock_data_event {
	struct obs_event_hdr hdr;
	__u64 conn_id;
	__u64 bytes; /* what the syscall transferred */
	__u32 captured;
	__s32 fd;
	__u8 dir;
	__u8 syscall;
	__u8 go; /* the process is a Go program obsprobe follows goroutines of */
	__u8 pad;
	__u32 lead; /* bytes before data[] that were not captured */
	__u64 goid; /* go: the goroutine that made the call; 0 when none (the runtime's own) */
	__u8 data[SOCK_CAPTURE_MAX];
};
_Static_assert(sizeof(struct sock_data_event) == 64 + SOCK_CAPTURE_MAX, "sock_data_event layout");
#define SOCK_DATA_HDR_SIZE 64

/* OBS_EV_SOCK_CLOSE */
struct sock_close_event {
	struct obs_event_hdr hdr;
	__u64 conn_id;
	__s32 fd;
	__u32 pad;
};
_Static_assert(sizeof(struct sock_close_event) == 40, "sock_close_event layout");

#endif /* OBSPROBE_SOCK_H */
