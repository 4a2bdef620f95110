// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/*
 * Goroutines of watched Go programs, for span links (obsprobe/go.h): uprobes on the Go runtime
 * and net/http, placed per executable on an instruction the kernel emulates (a `jbe` after the
 * stack check, a `je` after newproc1 stores the new goroutine's id), never on a return: Go moves
 * goroutine stacks, so no uretprobe. Processes that are not targets are not in go_procs.
 */
#include "vmlinux.h"
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_core_read.h>
#include <bpf/bpf_tracing.h>

#include "maps.bpf.h"

char LICENSE[] SEC("license") = "Dual BSD/GPL";

/* The register numbered r in the hardware's order (the cookie of go_spawn). Read through the
 * helper: compilers turn a switch of context loads into one load at a computed offset, which
 * the verifier refuses. */
static __always_inline __u64 reg_of(const struct pt_regs *ctx, __u64 r)
{
	__u32 off;
	__u64 v = 0;

	switch (r) {
	case 0:
		off = offsetof(struct pt_regs, ax);
		break;
	case 1:
		off = offsetof(struct pt_regs, cx);
		break;
	case 2:
		off = offsetof(struct pt_regs, dx);
		break;
	case 3:
		off = offsetof(struct pt_regs, bx);
		break;
	case 5:
		off = offsetof(struct pt_regs, bp);
		break;
	case 6:
		off = offsetof(struct pt_regs, si);
		break;
	case 7:
		off = offsetof(struct pt_regs, di);
		break;
	case 8:
		off = offsetof(struct pt_regs, r8);
		break;
	case 9:
		off = offsetof(struct pt_regs, r9);
		break;
	case 10:
		off = offsetof(struct pt_regs, r10);
		break;
	case 11:
		off = offsetof(struct pt_regs, r11);
		break;
	case 12:
		off = offsetof(struct pt_regs, r12);
		break;
	case 13:
		off = offsetof(struct pt_regs, r13);
		break;
	case 15:
		off = offsetof(struct pt_regs, r15);
		break;
	default:
		return 0; /* rsp and r14 never hold the new g */
	}
	bpf_probe_read_kernel(&v, sizeof(v), (const char *)ctx + off);
	return v;
}

static __always_inline void send(__u64 pid_tgid, __u32 kind, __u64 goid, __u64 arg)
{
	struct go_event e = {};

	e.hdr.type = OBS_EV_GO;
	e.hdr.pid = pid_tgid >> 32;
	e.hdr.tid = (__u32)pid_tgid;
	e.hdr.ts_ns = bpf_ktime_get_ns();
	e.kind = kind;
	e.goid = goid;
	e.arg = arg;
	emit(&e, sizeof(e));
}

/*
 * runtime.newproc1, just after it stored the new goroutine's id; the register holding the new g
 * is the cookie. newproc1 runs on the system stack (R14 is the thread's g0), called by the
 * goroutine that ran the `go` statement: that one is its thread's m.curg.
 */
SEC("uprobe")
int go_spawn(struct pt_regs *ctx)
{
	__u64 pid_tgid = bpf_get_current_pid_tgid();
	__u32 tgid = pid_tgid >> 32;
	struct go_proc_cfg *cfg = bpf_map_lookup_elem(&go_procs, &tgid);
	__u64 newg, m = 0, curg = 0, child = 0, parent = 0;

	if (!cfg)
		return 0;
	newg = reg_of(ctx, bpf_get_attach_cookie(ctx));
	if (!newg || bpf_probe_read_user(&child, sizeof(child), (void *)(newg + cfg->goid_off)) ||
	    !child)
		return 0;
	if (bpf_probe_read_user(&m, sizeof(m), (void *)(ctx->r14 + cfg->m_off)) || !m ||
	    bpf_probe_read_user(&curg, sizeof(curg), (void *)(m + cfg->curg_off)) || !curg ||
	    bpf_probe_read_user(&parent, sizeof(parent), (void *)(curg + cfg->goid_off)) || !parent)
		return 0; /* spawned by the runtime itself */
	send(pid_tgid, GO_EV_SPAWN, parent, child);
	return 0;
}

/* The goroutine running now, or 0 with nothing sent. */
static __always_inline __u64 running(const struct pt_regs *ctx, __u64 *pid_tgid)
{
	__u32 tgid;
	struct go_proc_cfg *cfg;

	*pid_tgid = bpf_get_current_pid_tgid();
	tgid = *pid_tgid >> 32;
	cfg = bpf_map_lookup_elem(&go_procs, &tgid);
	return cfg ? go_goid_of(cfg, ctx->r14, ctx->sp) : 0;
}

/* net/http.(*persistConn).roundTrip(pc, req *transportRequest) at its stack check's jbe: the
 * caller's goroutine hands the request (transportRequest embeds *Request first) to the
 * connection's writer and waits. */
SEC("uprobe")
int go_http_call(struct pt_regs *ctx)
{
	__u64 pid_tgid, req = 0, goid = running(ctx, &pid_tgid);

	if (goid && !bpf_probe_read_user(&req, sizeof(req), (void *)ctx->bx) && req)
		send(pid_tgid, GO_EV_CALL, goid, req);
	return 0;
}

/* net/http.(*Request).write(r, ...) at its stack check's jbe: the goroutine that writes r. */
SEC("uprobe")
int go_http_write(struct pt_regs *ctx)
{
	__u64 pid_tgid, goid = running(ctx, &pid_tgid);

	if (goid && ctx->ax)
		send(pid_tgid, GO_EV_WRITE, goid, ctx->ax);
	return 0;
}
