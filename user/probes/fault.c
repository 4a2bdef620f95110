// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
#include "probes/fault.h"

#include <errno.h>
#include <fcntl.h>
#include <gelf.h>
#include <inttypes.h>
#include <libelf.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "obsprobe/fault.h"
#include "obsprobe/go.h"
#include "pipeline/semconv.h"
#include "process/elfsyms.h"
#include "process/gopanic.h"
#include "process/unwind.h"
#include "util/log.h"

#define PROC_BUCKETS 1024
#define MAX_PENDING 64		      /* Go panics raised and not yet recovered or fatal */
#define PENDING_TTL_NS 30000000000ull /* a panic neither recovered nor fatal after this: reported */
#define MAX_EXC 256		      /* exceptions waiting for their span to end */
#define EXC_TTL_NS 60000000000ull
#define STACK_TEXT 4096
/* libdwfl sessions kept (a process's files and debug info, read at its first crash or panic:
 * megabytes each), the most recently used: a crash loop of one program's forks reuses one */
#define MAX_SESSIONS 4
#define MSG_MAX 512

/* A process's mappings, shared by a parent and its forks until either maps anew. */
struct maps_ref {
	struct unwind_maps *m;
	unsigned int refs;
};

struct proc_entry {
	struct proc_entry *next;
	uint32_t pid;
	bool oom;
	bool crashed;  /* a crash was reported: its death by that signal is no other error */
	bool panicked; /* a fatal panic was reported: its exit status 2 is no other error */
	struct maps_ref *maps;
};

struct pending_panic {
	bool used;
	uint32_t pid, tid;
	uint64_t g, goid, ts_ns;
	bool has_span;
	uint8_t trace_id[16], span_id[8];
	char message[MSG_MAX];
	size_t nframes;
	struct unwind_frame frames[GO_PANIC_FRAMES];
};

struct pending_exc {
	bool used;
	uint32_t pid;
	uint64_t ts_ns;
	uint8_t span_id[8];
	bool escaped;
	char type[32];
	char message[MSG_MAX];
	char stack[SPAN_EXC_ARENA];
};

struct fault_tracker {
	struct actors *actors;
	struct error_tracker *errors;
	const char *(*service)(void *ctx, uint32_t pid);
	void *ctx;
	struct proc_entry *procs[PROC_BUCKETS];
	struct pending_panic pending[MAX_PENDING];
	struct pending_exc exc[MAX_EXC];
	size_t nexc; /* of them in use */
	struct fault_stats stats;
	struct maps_ref *sessions[MAX_SESSIONS]; /* the maps that have one, oldest use first */
	size_t nsessions;
	/* scratch: one crash's frames and text at a time */
	struct unwind_frame frames[UNWIND_MAX_FRAMES];
	char stack_text[STACK_TEXT];
};

struct fault_tracker *fault_tracker_new(struct actors *actors, struct error_tracker *errors,
					const char *(*service)(void *ctx, uint32_t pid), void *ctx)
{
	struct fault_tracker *t = calloc(1, sizeof(*t));

	if (!t)
		return NULL;
	t->actors = actors;
	t->errors = errors;
	t->service = service;
	t->ctx = ctx;
	return t;
}

static bool session_forget(struct fault_tracker *t, struct maps_ref *r)
{
	size_t i;

	for (i = 0; i < t->nsessions; i++)
		if (t->sessions[i] == r) {
			memmove(&t->sessions[i], &t->sessions[i + 1],
				(t->nsessions - i - 1) * sizeof(t->sessions[0]));
			t->nsessions--;
			return true;
		}
	return false;
}

/* r is about to be unwound by: its session is the most recently used; beyond MAX_SESSIONS the
 * oldest one's is ended (its maps stay). */
static void session_use(struct fault_tracker *t, struct maps_ref *r)
{
	session_forget(t, r);
	if (t->nsessions == MAX_SESSIONS) {
		unwind_maps_drop_session(t->sessions[0]->m);
		session_forget(t, t->sessions[0]);
	}
	t->sessions[t->nsessions++] = r;
}

static void maps_put(struct fault_tracker *t, struct maps_ref *r)
{
	if (r && --r->refs == 0) {
		session_forget(t, r);
		unwind_maps_free(r->m);
		free(r);
	}
}

static struct proc_entry **proc_slot(struct fault_tracker *t, uint32_t pid)
{
	struct proc_entry **pp = &t->procs[pid % PROC_BUCKETS];

	while (*pp && (*pp)->pid != pid)
		pp = &(*pp)->next;
	return pp;
}

static struct proc_entry *proc_get(struct fault_tracker *t, uint32_t pid, bool create)
{
	struct proc_entry **pp = proc_slot(t, pid);

	if (!*pp && create) {
		*pp = calloc(1, sizeof(**pp));
		if (*pp)
			(*pp)->pid = pid;
	}
	return *pp;
}

void fault_tracker_free(struct fault_tracker *t)
{
	size_t i;

	if (!t)
		return;
	for (i = 0; i < PROC_BUCKETS; i++)
		while (t->procs[i]) {
			struct proc_entry *p = t->procs[i];

			t->procs[i] = p->next;
			maps_put(t, p->maps);
			free(p);
		}
	free(t);
}

static void set_maps(struct fault_tracker *t, struct proc_entry *p, struct maps_ref *r)
{
	if (r)
		r->refs++;
	maps_put(t, p->maps);
	p->maps = r;
}

void fault_note(struct fault_tracker *t, uint32_t pid)
{
	struct unwind_maps *m = unwind_maps_read(pid);
	struct maps_ref *r;
	struct proc_entry *p;

	if (!m)
		return; /* gone already: what it had is kept */
	r = calloc(1, sizeof(*r));
	p = r ? proc_get(t, pid, true) : NULL;
	if (!p) {
		free(r);
		unwind_maps_free(m);
		return;
	}
	r->m = m;
	set_maps(t, p, r);
}

void fault_fork(struct fault_tracker *t, uint32_t parent, uint32_t child)
{
	struct proc_entry *pp = proc_get(t, parent, false), *c;

	if (!pp || !pp->maps)
		return;
	c = proc_get(t, child, true);
	if (c)
		set_maps(t, c, pp->maps);
}

void fault_oom(struct fault_tracker *t, uint32_t pid)
{
	struct proc_entry *p = proc_get(t, pid, true);

	if (p)
		p->oom = true;
}

/* The maps to unwind pid by: the kept ones (kept fresh by fault_note(); their files' debug
 * info, once read, serves every crash of the process and of its forks), else read now if it is
 * still there. NULL when neither; *fresh says whether the caller must free it. */
static struct unwind_maps *maps_of(struct fault_tracker *t, uint32_t pid, bool *fresh)
{
	struct proc_entry *p = proc_get(t, pid, false);
	struct unwind_maps *m;

	*fresh = false;
	if (p && p->maps) {
		session_use(t, p->maps);
		return p->maps->m;
	}
	m = unwind_maps_read(pid);
	*fresh = m != NULL;
	return m;
}

static void report_init(struct fault_tracker *t, struct error_report *r, uint32_t pid, uint32_t tid,
			uint64_t ts_ns)
{
	memset(r, 0, sizeof(*r));
	r->ts_ns = ts_ns;
	r->pid = pid;
	r->tid = tid;
	r->service = t->service(t->ctx, pid);
	r->message = "";
	r->culprit = "";
	r->trace_flags = 1;
}

/* The request actor key of pid served when it failed: true with its ids. */
static bool serving(struct fault_tracker *t, uint32_t pid, uint64_t key, uint8_t trace_id[16],
		    uint8_t span_id[8])
{
	return key && actors_serving(t->actors, pid, key, trace_id, span_id);
}

/* A crash or panic inside a request: its span gets the exception when it ends. */
static void keep_exception(struct fault_tracker *t, const struct error_report *r)
{
	struct pending_exc *e = NULL;
	size_t i;

	if (!r->has_span)
		return;
	for (i = 0; i < MAX_EXC && !e; i++)
		if (!t->exc[i].used || r->ts_ns - t->exc[i].ts_ns > EXC_TTL_NS) {
			if (t->exc[i].used)
				t->stats.exceptions_lost++;
			else
				t->nexc++;
			e = &t->exc[i];
		}
	if (!e) {
		t->stats.exceptions_lost++;
		return;
	}
	e->used = true;
	e->pid = r->pid;
	e->ts_ns = r->ts_ns;
	e->escaped = r->fatal;
	memcpy(e->span_id, r->span_id, sizeof(e->span_id));
	snprintf(e->type, sizeof(e->type), "%s", r->type);
	snprintf(e->message, sizeof(e->message), "%s", r->message);
	error_stack_text(r->frames, r->nframes, e->stack, sizeof(e->stack));
}

static const char *signal_name(int sig)
{
	switch (sig) {
	case SIGILL:
		return "SIGILL";
	case SIGTRAP:
		return "SIGTRAP";
	case SIGABRT:
		return "SIGABRT";
	case SIGBUS:
		return "SIGBUS";
	case SIGFPE:
		return "SIGFPE";
	case SIGSEGV:
		return "SIGSEGV";
	case SIGSYS:
		return "SIGSYS";
	case SIGKILL:
		return "SIGKILL";
	default:
		return "signal";
	}
}

/* What si_code says, as the kernel's names go (siginfo.h). */
static const char *signal_code(int sig, int code)
{
	if (code == SI_USER)
		return "SI_USER";
	if (code == SI_TKILL)
		return "SI_TKILL";
	if (code == SI_KERNEL)
		return "SI_KERNEL";
	switch (sig) {
	case SIGSEGV:
		return code == SEGV_MAPERR   ? "SEGV_MAPERR"
		       : code == SEGV_ACCERR ? "SEGV_ACCERR"
					     : "";
	case SIGBUS:
		return code == BUS_ADRALN   ? "BUS_ADRALN"
		       : code == BUS_ADRERR ? "BUS_ADRERR"
		       : code == BUS_OBJERR ? "BUS_OBJERR"
					    : "";
	case SIGFPE:
		return code == FPE_INTDIV   ? "FPE_INTDIV"
		       : code == FPE_INTOVF ? "FPE_INTOVF"
		       : code == FPE_FLTDIV ? "FPE_FLTDIV"
					    : "";
	case SIGILL:
		return code == ILL_ILLOPC ? "ILL_ILLOPC" : code == ILL_ILLOPN ? "ILL_ILLOPN" : "";
	default:
		return "";
	}
}

/* A fault's words, as a crash reporter says them. */
static void fault_message(const struct fault_event *e, char *buf, size_t len)
{
	const char *code = signal_code(e->sig, e->code);
	bool at = e->sig == SIGSEGV || e->sig == SIGBUS || e->sig == SIGFPE || e->sig == SIGILL;

	if (at && e->code > 0)
		snprintf(buf, len, "%s%s%s at address 0x%" PRIx64, strsignal(e->sig),
			 *code ? ", " : "", code, (uint64_t)e->addr);
	else
		snprintf(buf, len, "%s%s%s", strsignal(e->sig), *code ? ", " : "", code);
}

static int on_fault(struct fault_tracker *t, const struct fault_event *e, size_t size)
{
	struct proc_entry *p = proc_get(t, e->hdr.pid, true);
	char msg[160], addr[24], comm[sizeof(e->comm) + 1] = "";
	struct unwind_maps *m;
	struct error_report r;
	bool fresh;
	int n = 0;

	if (size < sizeof(*e) || e->stack_len > FAULT_STACK_BYTES)
		return -EINVAL;
	t->stats.crashes++;
	if (p)
		p->crashed = true;
	m = maps_of(t, e->hdr.pid, &fresh);
	if (m)
		n = unwind_stack(m, (const uint64_t *)e->regs, e->stack_addr, e->stack,
				 e->stack_len, t->frames, UNWIND_MAX_FRAMES);
	else
		t->stats.maps_missing++;
	if (n <= 0) { /* nothing to unwind by: the faulting address alone */
		memset(&t->frames[0], 0, sizeof(t->frames[0]));
		t->frames[0].pc = e->regs[16];
		n = 1;
	}
	if (n > 1)
		t->stats.unwound++;
	memcpy(comm, e->comm, sizeof(e->comm));
	fault_message(e, msg, sizeof(msg));
	report_init(t, &r, e->hdr.pid, e->hdr.tid, e->hdr.ts_ns);
	r.type = signal_name(e->sig);
	r.message = msg;
	r.fatal = true;
	r.frames = t->frames;
	r.nframes = (size_t)n;
	r.culprit = comm;
	snprintf(addr, sizeof(addr), "0x%" PRIx64, (uint64_t)e->addr);
	r.extra[r.nextra].key = "signal.code";
	r.extra[r.nextra++].val = signal_code(e->sig, e->code);
	if (e->sig == SIGSEGV || e->sig == SIGBUS) {
		r.extra[r.nextra].key = "signal.fault_address";
		r.extra[r.nextra++].val = addr;
	}
	r.has_span = serving(t, r.pid, actor_key(e->hdr.tid, false, 0), r.trace_id, r.span_id);
	error_tracker_report(t->errors, &r);
	keep_exception(t, &r);
	if (fresh)
		unwind_maps_free(m);
	return 0;
}

static struct pending_panic *pending_find(struct fault_tracker *t, uint32_t pid, uint64_t g)
{
	size_t i;

	for (i = 0; i < MAX_PENDING; i++)
		if (t->pending[i].used && t->pending[i].pid == pid && t->pending[i].g == g)
			return &t->pending[i];
	return NULL;
}

/* The panic value's words as Go prints them, its type read from the executable. */
static void panic_message(const struct go_panic_event *e, const char *exe, char *out, size_t len)
{
	char type[128] = "";
	uint8_t kind = 0;
	Elf *elf = NULL;
	int fd = exe ? open(exe, O_RDONLY | O_CLOEXEC) : -1;

	if (fd >= 0 && elfsyms_init())
		elf = elf_begin(fd, ELF_C_READ_MMAP, NULL);
	if (!elf || !e->type_addr ||
	    go_type_name(elf, e->type_addr - e->bias, type, sizeof(type), &kind))
		type[0] = '\0';
	go_panic_message(type, kind, e->raw, e->text, e->text_len, e->text_len > 0, out, len);
	if (elf)
		elf_end(elf);
	if (fd >= 0)
		close(fd);
}

static void report_panic(struct fault_tracker *t, struct pending_panic *pp, bool recovered,
			 bool fatal, uint64_t ts_ns)
{
	/* a fatal one makes the entry: the exit status 2 that follows must find it said */
	struct proc_entry *p = proc_get(t, pp->pid, fatal);
	struct error_report r;

	if (recovered)
		t->stats.recovered++;
	else if (!fatal)
		t->stats.unresolved++;
	if (fatal) {
		t->stats.fatal++;
		if (p)
			p->panicked = true;
	}
	report_init(t, &r, pp->pid, pp->tid, ts_ns ? ts_ns : pp->ts_ns);
	r.type = "panic";
	r.message = pp->message;
	r.fatal = fatal;
	r.recovered = recovered;
	r.frames = pp->frames;
	r.nframes = pp->nframes;
	r.has_span = pp->has_span;
	r.trace_flags = 1;
	memcpy(r.trace_id, pp->trace_id, sizeof(r.trace_id));
	memcpy(r.span_id, pp->span_id, sizeof(r.span_id));
	error_tracker_report(t->errors, &r);
	keep_exception(t, &r);
	pp->used = false;
}

/* A panic raised: kept until it is recovered or kills the process, read now while the
 * process and its executable are there. */
static void on_panic_raised(struct fault_tracker *t, const struct go_panic_event *e)
{
	struct pending_panic *pp = pending_find(t, e->hdr.pid, e->g);
	char exe[64];
	struct unwind_maps *m;
	size_t i, npcs = e->npcs < GO_PANIC_FRAMES ? e->npcs : GO_PANIC_FRAMES;
	bool fresh;
	int n = 0;

	t->stats.panics++;
	if (pp) /* a panic while its deferred calls ran for the last: the new one is reported */
		report_panic(t, pp, false, false, e->hdr.ts_ns);
	for (i = 0; i < MAX_PENDING && !pp; i++) {
		struct pending_panic *q = &t->pending[i];

		if (q->used && e->hdr.ts_ns - q->ts_ns > PENDING_TTL_NS)
			report_panic(t, q, false, false, e->hdr.ts_ns);
		if (!q->used)
			pp = q;
	}
	if (!pp) {
		t->stats.pending_full++;
		return;
	}
	memset(pp, 0, offsetof(struct pending_panic, frames));
	pp->used = true;
	pp->pid = e->hdr.pid;
	pp->tid = e->hdr.tid;
	pp->g = e->g;
	pp->goid = e->goid;
	pp->ts_ns = e->hdr.ts_ns;
	snprintf(exe, sizeof(exe), "/proc/%u/exe", e->hdr.pid);
	panic_message(e, exe, pp->message, sizeof(pp->message));
	m = maps_of(t, e->hdr.pid, &fresh);
	/* pcs[0] is gopanic's own site: the panicking function's frame comes next */
	if (m && npcs > 1)
		n = unwind_symbolize(m, (const uint64_t *)e->pcs + 1, npcs - 1, false, pp->frames,
				     GO_PANIC_FRAMES);
	pp->nframes = n > 0 ? (size_t)n : 0;
	if (fresh)
		unwind_maps_free(m);
	pp->has_span = serving(t, pp->pid, actor_key(e->hdr.tid, true, e->goid), pp->trace_id,
			       pp->span_id);
}

int fault_event(struct fault_tracker *t, const void *data, size_t size)
{
	const struct obs_event_hdr *h = data;
	const struct go_panic_event *e = data;
	struct pending_panic *pp;

	if (size < sizeof(*h))
		return -EINVAL;
	if (h->type == OBS_EV_FAULT)
		return on_fault(t, data, size);
	if (h->type != OBS_EV_GO_PANIC || size < offsetof(struct go_panic_event, bias))
		return -EINVAL;
	if (e->kind == GO_PANIC_RAISED) {
		if (size < sizeof(*e))
			return -EINVAL;
		on_panic_raised(t, e);
		return 0;
	}
	if (e->kind != GO_PANIC_RECOVERED && e->kind != GO_PANIC_FATAL)
		return -EINVAL;
	pp = pending_find(t, h->pid, e->g);
	if (pp)
		report_panic(t, pp, e->kind == GO_PANIC_RECOVERED, e->kind == GO_PANIC_FATAL,
			     h->ts_ns);
	return 0;
}

void fault_forget(struct fault_tracker *t, uint32_t pid)
{
	struct proc_entry **pp = proc_slot(t, pid), *p = *pp;
	size_t i;

	for (i = 0; i < MAX_EXC; i++)
		if (t->exc[i].used && t->exc[i].pid == pid) {
			t->exc[i].used = false;
			t->nexc--;
			t->stats.exceptions_lost++;
		}
	if (!p)
		return;
	*pp = p->next;
	maps_put(t, p->maps);
	free(p);
}

void fault_proc_exit(struct fault_tracker *t, uint32_t pid, int32_t status)
{
	int sig = status & 0x7f, code = (status >> 8) & 0xff;
	struct proc_entry *p;
	struct error_report r;
	char msg[96];
	size_t i;

	/* a panic still pending: the process died of it (Go exits with 2) */
	for (i = 0; i < MAX_PENDING; i++)
		if (t->pending[i].used && t->pending[i].pid == pid)
			report_panic(t, &t->pending[i], false, true, 0);
	/* after the panics: reporting a fatal one marks the entry, making it if need be (before,
	 * a process with no entry yet had its fatal panic reported and an "exit" error too) */
	p = proc_get(t, pid, false);
	/* A death by a signal is an error when the OOM killer sent it, or when it is a crash not
	 * reported yet (its fault event lost); SIGTERM, SIGINT, SIGKILL are someone's request.
	 * Exit status 2 after a fatal panic is the panic. */
	if (sig ? (p && p->oom && sig == SIGKILL) || (fault_crash_signal(sig) && !(p && p->crashed))
		: code && !(p && p->panicked && code == 2)) {
		report_init(t, &r, pid, pid, 0);
		if (sig) {
			r.type = signal_name(sig);
			snprintf(msg, sizeof(msg), "%s",
				 sig == SIGKILL ? "killed by the OOM killer" : strsignal(sig));
			r.fatal = true;
		} else {
			r.type = "exit";
			snprintf(msg, sizeof(msg), "exited with status %d", code);
		}
		r.message = msg;
		r.culprit = msg; /* one group per status or signal */
		error_tracker_report(t->errors, &r);
	}
}

const struct span *fault_span_end(struct fault_tracker *t, const struct span *s, struct span *copy)
{
	struct error_report r;
	char msg[SPAN_NAME_MAX + 48];
	size_t i;

	for (i = 0; i < MAX_EXC && t->nexc; i++) {
		struct pending_exc *e = &t->exc[i];

		if (!e->used || e->pid != s->pid || memcmp(e->span_id, s->span_id, 8))
			continue;
		*copy = *s;
		span_set_exception(copy, e->ts_ns, e->type, e->message, e->stack, e->escaped);
		e->used = false;
		t->nexc--;
		t->stats.exceptions++;
		return copy;
	}
	if (!s->error)
		return s;
	/* a failed span is an error of its own: 5xx, SQLSTATE, a reset */
	report_init(t, &r, s->pid, s->tid, s->end_ns);
	r.type = span_get_str(s, SC_ERROR_TYPE);
	if (!*r.type)
		r.type = "error";
	snprintf(msg, sizeof(msg), "%s %s failed: %s",
		 s->kind == SPAN_KIND_SERVER ? "serving" : "calling", s->name, r.type);
	r.message = msg;
	r.culprit = s->name;
	r.has_span = true;
	r.trace_flags = s->trace_flags;
	memcpy(r.trace_id, s->trace_id, sizeof(r.trace_id));
	memcpy(r.span_id, s->span_id, sizeof(r.span_id));
	error_tracker_report(t->errors, &r);
	return s;
}

void fault_get_stats(const struct fault_tracker *t, struct fault_stats *out)
{
	*out = t->stats;
}
