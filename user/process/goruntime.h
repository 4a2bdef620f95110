/* SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause) */
/*
 * The goroutine count of a running Go program, as its own runtime.NumGoroutine() computes it
 * (gcount()), read from the runtime's counters in process memory: no uprobe, a few
 * process_vm_readv calls per reading. Symbol addresses come from the executable's .symtab,
 * struct member offsets from its DWARF (libelf + libdw), so stripped binaries are refused.
 */
#ifndef OBSPROBE_GORUNTIME_H
#define OBSPROBE_GORUNTIME_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define GO_VERSION_MAX 64
/* allp (one P per GOMAXPROCS) longer than this is taken for garbage */
#define GO_MAX_PROCS 4096

/* What the .go.buildinfo section says. */
struct go_buildinfo {
	char version[GO_VERSION_MAX]; /* "go1.19.8"; "" in the pointer form */
	/* Pointer form (Go 1.13-1.17): link-time address of the runtime.buildVersion string
	 * header (ptr, len), to be resolved in the executable. 0 in the inline form. */
	uint64_t version_addr;
	uint8_t ptr_size; /* 4 or 8 */
	bool big_endian;
};

/*
 * Parses the contents of a .go.buildinfo section: 14-byte magic "\xff Go buildinf:", pointer
 * size, flags; with flags & 2 (Go 1.18+) the version follows the 32-byte header inline as a
 * uvarint-length-prefixed string, otherwise two pointers follow at offset 16. Reads nothing
 * beyond buf[len - 1]. Returns 0; -ENOEXEC when the magic is missing; -EINVAL when the header
 * or the version string is truncated, oversized or not printable. A version longer than
 * GO_VERSION_MAX - 1 is cut.
 */
int go_buildinfo_parse(const void *buf, size_t len, struct go_buildinfo *bi);

/*
 * Parsed layouts per executable (device, inode, size, mtime), so many processes of one binary
 * read its DWARF once; non-Go and stripped executables are remembered too. Not thread-safe:
 * one collector thread owns a cache. Bounded: the oldest entries are dropped.
 */
struct go_cache;
struct go_cache *go_cache_new(void);
void go_cache_free(struct go_cache *c);

struct go_proc;

/*
 * Prepares to read pid's goroutine count. The executable is opened through /proc/PID/exe,
 * so binaries inside containers work. cache may be NULL (parse every time). Returns 0 and
 * *out, or:
 *   -ENOEXEC  not a Go executable; msg is "" (not worth telling anyone);
 *   -ENOENT   a Go executable without a symbol table or DWARF (-ldflags='-s -w' or '-w');
 *   -ENOTSUP  a runtime whose structures this code does not know;
 *   other     -errno of /proc or of the process (-ESRCH: gone).
 * On errors other than -ENOEXEC, msg holds one line naming pid, executable, Go version and
 * cause: "go_goroutine_count unavailable for pid 123 (/usr/bin/x, go1.19.8): the binary is
 * stripped (no symbol table)".
 */
int go_proc_open(struct go_cache *cache, uint32_t pid, struct go_proc **out, char *msg,
		 size_t msglen);

/*
 * Reads the counters now and computes what runtime.NumGoroutine() would return (at least 1).
 * Returns 0, -ESRCH when the process is gone, -EFAULT/-EIO when memory does not read back as
 * the runtime's (an exited process whose PID was reused: callers free a go_proc when its
 * process exits). 3 process_vm_readv calls for up to 256 Ps.
 */
int go_proc_goroutines(struct go_proc *g, int64_t *out);

/* "go1.19.8" from the build info, or "". */
const char *go_proc_version(const struct go_proc *g);

void go_proc_free(struct go_proc *g);

/* Where a Go build keeps what goroutine tracking reads, from its DWARF. */
struct go_g_offsets {
	uint32_t goid; /* runtime.g.goid */
	uint32_t m;    /* runtime.g.m */
	uint32_t curg; /* runtime.m.curg */
	/* What tells a `go` statement's new goroutine before it exists; all 0 when the build
	 * lacks one: */
	uint32_t gopc;	       /* runtime.g.gopc: where its `go` statement is */
	uint32_t p;	       /* runtime.m.p */
	uint32_t goidcache;    /* runtime.p.goidcache: the next goid the P hands out */
	uint32_t goidcacheend; /* runtime.p.goidcacheend: past its batch */
	uint32_t goidgen;      /* runtime.schedt.goidgen: the last goid of any batch */
	/* The socket of net/http's client connection (http_conn: all found) */
	bool http_conn;
	uint32_t pconn_conn;  /* net/http.persistConn.conn (a net.Conn) */
	uint32_t tcpconn_fd;  /* net.TCPConn.conn.fd (a *net.netFD) */
	uint32_t netfd_sysfd; /* net.netFD.pfd.Sysfd */
	/* Go's own TLS (tls_conn: found, with http_conn's tcpconn_fd and netfd_sysfd) */
	bool tls_conn;
	uint32_t tlsconn_conn; /* crypto/tls.Conn.conn (a net.Conn) */
};

typedef struct Elf Elf;
/* 0 and *out; -ENOEXEC for an ELF file that is no Go executable; -ENOENT without DWARF,
 * -ENOTSUP without those members: why says so in words. version: the build's Go version
 * ("" when the build info does not say). */
int go_elf_g_offsets(Elf *elf, struct go_g_offsets *out, char *version, size_t versionlen,
		     char *why, size_t whylen);

/* The functions named names[0..n) in a Go 1.18+ executable's own function table
 * (.gopclntab, which a stripped build keeps): their link-time addresses and sizes, 0 for
 * those not there. 0, or -ENOENT without such a table. */
int go_pclntab_funcs(Elf *elf, const char *const names[], size_t n, uint64_t vaddr[],
		     uint64_t size[]);
/* The same over the section's len bytes at b (untrusted: every offset is checked). */
int go_pclntab_parse(const uint8_t *b, size_t len, const char *const names[], size_t n,
		     uint64_t vaddr[], uint64_t size[]);

#endif /* OBSPROBE_GORUNTIME_H */
