// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
#include "probes/probe.h"

#include <bpf/btf.h>
#include <bpf/libbpf.h>
#include <errno.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "util/log.h"
#include "util/pages.h"

static bool libbpf_silenced;

static int libbpf_print(enum libbpf_print_level level, const char *fmt, va_list ap)
{
	int ours = level == LIBBPF_WARN	  ? LOG_INFO
		   : level == LIBBPF_INFO ? LOG_DEBUG
					  : LOG_DEBUG + 1;

	/* libbpf warns about every failure we handle ourselves; show it from -v on */
	if (libbpf_silenced || ours > log_get_level())
		return 0;
	fputs("obsprobe: ", stderr); /* libbpf prefixes its own "libbpf: " */
	return vfprintf(stderr, fmt, ap);
}

void probe_log_install(void)
{
	libbpf_set_print(libbpf_print);
}

void probe_log_silence(bool on)
{
	libbpf_silenced = on;
}

static struct kernel_features kernel;
static bool kernel_known;
/* OBSPROBE_HIDE_KERNEL_FEATURES' hook:NAME entries, as ",NAME,NAME," */
static char hidden_hooks[512] = ",";
/* The last failure to load or attach, for the readiness line */
static char last_error[256];

/* Logs a failure to load or attach, and keeps it for probe_last_error(). */
__attribute__((format(printf, 1, 2))) static void failed(const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(last_error, sizeof(last_error), fmt, ap);
	va_end(ap);
	log_err("%s", last_error);
}

const char *probe_last_error(void)
{
	return last_error;
}

/* Why this kernel does not offer feature k, for messages: "hidden", or the failed step's error. */
static const char *why_not(enum kernel_feature k)
{
	if (kernel.hidden[k])
		return "hidden";
	if (k == KERNEL_TP && kernel.err[k] == -ENOENT)
		return "no tracefs";
	return strerror(-kernel.err[k]);
}

/* Whether the hook named by name's first len bytes is hidden (hook:NAME). */
static bool hook_hidden(const char *name, size_t len)
{
	const char *p = hidden_hooks;

	while ((p = strstr(p, ",")) && p[1]) {
		if (!strncmp(p + 1, name, len) && p[1 + len] == ',')
			return true;
		p++;
	}
	return false;
}

int probe_require_ringbuf(void)
{
	const struct kernel_features *kf = probe_kernel();

	if (kf->has[KERNEL_RINGBUF])
		return 0;
	failed("this kernel offers no BPF ring buffer (%s): obsprobe receives every event through "
	       "one, which needs Linux 5.8 or later",
	       why_not(KERNEL_RINGBUF));
	return -EOPNOTSUPP;
}

int probe_kernel_init(const char *hide)
{
	char line[256];
	unsigned int mask;
	size_t i, len = 0;

	if (kernel_hide_parse(hide, &mask, hidden_hooks, sizeof(hidden_hooks), line,
			      sizeof(line))) {
		log_err("OBSPROBE_HIDE_KERNEL_FEATURES: %s", line);
		return -EINVAL;
	}
	probe_log_silence(true);
	kernel_probe_features(&kernel, mask);
	probe_log_silence(false);
	kernel_known = true;
	for (i = 0; i < KERNEL_FEATURE__COUNT; i++) {
		const char *name = kernel_feature_name(i);
		size_t room = len < sizeof(line) ? sizeof(line) - len : 0;
		const char *sep = i ? ", " : "";

		if (kernel.has[i])
			len += (size_t)snprintf(line + len, room, "%s%s yes", sep, name);
		else
			len += (size_t)snprintf(line + len, room, "%s%s no (%s)", sep, name,
						why_not(i));
	}
	log_info("kernel hooks: %s", line);
	if (hidden_hooks[1])
		log_info("hooks hidden: %s", hidden_hooks + 1);
	return 0;
}

const struct kernel_features *probe_kernel(void)
{
	if (!kernel_known)
		probe_kernel_init(NULL);
	return &kernel;
}

/* The kind of hook prog sits on; KERNEL_FEATURE__COUNT for one the loader does not know. */
static enum kernel_feature prog_kind(const struct bpf_program *prog)
{
	const char *sec = bpf_program__section_name(prog);

	switch (bpf_program__type(prog)) {
	case BPF_PROG_TYPE_TRACING:
		if (bpf_program__expected_attach_type(prog) == BPF_TRACE_RAW_TP)
			return KERNEL_TP_BTF;
		return KERNEL_FENTRY;
	case BPF_PROG_TYPE_RAW_TRACEPOINT:
		return KERNEL_RAW_TP;
	case BPF_PROG_TYPE_TRACEPOINT:
		return KERNEL_TP;
	case BPF_PROG_TYPE_KPROBE:
		return strncmp(sec, "kprobe", 6) && strncmp(sec, "kretprobe", 9) ? KERNEL_UPROBE
										 : KERNEL_KPROBE;
	default:
		return KERNEL_FEATURE__COUNT;
	}
}

/* Cheapest first: a trampoline, then typed raw tracepoints, then the rest. */
static int preference(enum kernel_feature k)
{
	static const int rank[KERNEL_FEATURE__COUNT] = {
		[KERNEL_FENTRY] = 0, [KERNEL_TP_BTF] = 1, [KERNEL_RAW_TP] = 2,
		[KERNEL_TP] = 3,     [KERNEL_KPROBE] = 4, [KERNEL_UPROBE] = 5,
	};

	return k < KERNEL_FEATURE__COUNT ? rank[k] : KERNEL_FEATURE__COUNT;
}

/* The length of prog's hook name: its name up to "__". */
static size_t base_len(const char *name)
{
	const char *sep = strstr(name, "__");

	return sep ? (size_t)(sep - name) : strlen(name);
}

static bool same_hook(const char *a, const char *b)
{
	size_t n = base_len(a);

	return n == base_len(b) && !strncmp(a, b, n);
}

/* Whether prog's kind is one the kernel types by BTF (tp_btf, fentry). */
static bool btf_typed(const struct bpf_program *prog)
{
	enum kernel_feature k = prog_kind(prog);

	return k == KERNEL_TP_BTF || k == KERNEL_FENTRY;
}

/*
 * For each hook of obj, keeps the variant of the most preferred kind this kernel offers and
 * turns the others off; a hook with no variant the kernel offers fails the load, named. Hooks
 * whose variants were all turned off before stay off. plain: no BTF-typed variant, though the
 * kernel has them (probe_load's second try).
 */
static int choose_variants(struct bpf_object *obj, const struct probe_load_opts *o, bool plain)
{
	const struct kernel_features *kf = probe_kernel();
	struct bpf_program *p, *q, *best;
	char line[1024];
	size_t len = 0;

	bpf_object__for_each_program(p, obj) {
		const char *name = bpf_program__name(p);
		bool first = true, hidden = hook_hidden(name, base_len(name));
		enum kernel_feature k;

		/* each hook once: at its first variant */
		bpf_object__for_each_program(q, obj) {
			if (q == p)
				break;
			if (same_hook(bpf_program__name(q), name))
				first = false;
		}
		if (!first)
			continue;
		/* a hook the object's configure step turned off (every variant) stays off */
		first = false;
		bpf_object__for_each_program(q, obj)
			first |= same_hook(bpf_program__name(q), name) && bpf_program__autoload(q);
		if (!first)
			continue;
		best = NULL;
		bpf_object__for_each_program(q, obj) {
			k = prog_kind(q);
			if (hidden || !same_hook(bpf_program__name(q), name) ||
			    k == KERNEL_FEATURE__COUNT || !kf->has[k] ||
			    !bpf_program__autoload(q) || (plain && btf_typed(q)))
				continue;
			if (!best || preference(k) < preference(prog_kind(best)))
				best = q;
		}
		if (!best) {
			char why[256];
			size_t wl = 0;

			bpf_object__for_each_program(q, obj) {
				if (!same_hook(bpf_program__name(q), name))
					continue;
				k = prog_kind(q);
				wl += (size_t)snprintf(
					why + wl, wl < sizeof(why) ? sizeof(why) - wl : 0,
					"%s%s: %s", wl ? ", " : "",
					k < KERNEL_FEATURE__COUNT ? kernel_feature_name(k)
								  : "unknown",
					hidden			    ? "hidden"
					: k < KERNEL_FEATURE__COUNT ? why_not(k)
								    : "not a kind obsprobe knows");
			}
			failed("%s: this kernel offers no hook for %.*s (%s)", o->name,
			       (int)base_len(name), name, why);
			return -EOPNOTSUPP;
		}
		bpf_object__for_each_program(q, obj) {
			if (same_hook(bpf_program__name(q), name))
				bpf_program__set_autoload(q, q == best);
		}
		len += (size_t)snprintf(line + len, len < sizeof(line) ? sizeof(line) - len : 0,
					"%s%.*s %s", len ? ", " : "", (int)base_len(name), name,
					kernel_feature_name(prog_kind(best)));
	}
	log_info("%s hooks: %s", o->name, len ? line : "none");
	return 0;
}

/* The maps every object declares (bpf/maps.bpf.h), created by the proc object. */
static int share_maps(const struct bpf_object *owner, struct bpf_object *obj)
{
	static const char *const names[] = { "targets",	 "watched_bits", "events",	 "drops",
					     "go_procs", "go_born",	 "reader_sleeps" };
	size_t i;

	for (i = 0; i < sizeof(names) / sizeof(names[0]); i++) {
		struct bpf_map *ours = bpf_object__find_map_by_name(obj, names[i]);
		const struct bpf_map *from = bpf_object__find_map_by_name(owner, names[i]);
		int err;

		if (!ours || !from)
			return -ENOENT;
		err = bpf_map__reuse_fd(ours, bpf_map__fd(from));
		if (err)
			return err;
	}
	return 0;
}

int probe_attach(struct bpf_object_skeleton *s, const struct probe_load_opts *o)
{
	int err = bpf_object__attach_skeleton(s);

	if (err)
		failed("cannot attach %s: %s", o->hooks, strerror(-err));
	return err;
}

/*
 * The object file a skeleton embeds (a string literal of obsprobe's read-only data, ~800 KiB
 * for all of them) is read once, when libbpf opens it: libbpf copies what it keeps (the BTF,
 * the instructions, the data sections). Its whole pages are given back then (pages_release),
 * before the load parses the kernel's BTF, which is when obsprobe's RSS peaks.
 */
/* The read-only global name of obj (a __u64 in .rodata) set to v before the load: 0, -ENOENT
 * when obj has none, or -errno. */
static int set_rodata_u64(struct bpf_object *obj, const char *name, uint64_t v)
{
	const struct btf *btf = bpf_object__btf(obj);
	const struct btf_var_secinfo *vs;
	const struct btf_type *sec;
	struct bpf_map *m, *rodata = NULL;
	const void *cur;
	size_t size = 0;
	uint8_t *buf;
	int id, i, err;

	bpf_object__for_each_map(m, obj) {
		const char *n = bpf_map__name(m);
		size_t len = strlen(n);

		if (len >= 7 && !strcmp(n + len - 7, ".rodata"))
			rodata = m;
	}
	id = btf ? btf__find_by_name_kind(btf, ".rodata", BTF_KIND_DATASEC) : -ENOENT;
	if (!rodata || id < 0 || !(cur = bpf_map__initial_value(rodata, &size)))
		return -ENOENT;
	sec = btf__type_by_id(btf, id);
	vs = btf_var_secinfos(sec);
	for (i = 0; i < btf_vlen(sec); i++, vs++) {
		const struct btf_type *var = btf__type_by_id(btf, vs->type);

		if (!var || strcmp(btf__name_by_offset(btf, var->name_off), name))
			continue;
		if (vs->size != sizeof(v) || vs->offset + sizeof(v) > size)
			return -EINVAL;
		buf = malloc(size);
		if (!buf)
			return -ENOMEM;
		memcpy(buf, cur, size);
		memcpy(buf + vs->offset, &v, sizeof(v));
		err = bpf_map__set_initial_value(rodata, buf, size);
		free(buf);
		return err;
	}
	return -ENOENT;
}

/*
 * The fill of the event ring from which obj's producers wake the reader (wakeup_bytes,
 * bpf/maps.bpf.h): an eighth of the ring, half of the quarter from which every event wakes it.
 * Each wakeup of the sleeping reader cost ~50 us of its CPU on these VMs: at 256 KiB (a
 * sixteenth of the default ring) they were a sixth of obsprobe's CPU on nginx (bench/ab.sh:
 * 0.997 against 0.830 ms per 1,000 requests at an eighth, lower in 6 rounds of 6).
 */
static int set_wakeup(struct bpf_object *obj)
{
	const struct bpf_map *events = bpf_object__find_map_by_name(obj, "events");
	int err;

	if (!events)
		return 0;
	err = set_rodata_u64(obj, "wakeup_bytes", bpf_map__max_entries(events) / 8);
	return err == -ENOENT ? 0 : err;
}

int probe_load(struct bpf_object_skeleton *s, const struct probe_load_opts *o,
	       const struct bpf_object *owner, bool plain)
{
	struct bpf_object *obj = *s->obj;
	struct bpf_program *p;
	bool typed = false;
	int err;

	pages_release(s->data, s->data_sz);
	if (owner) {
		err = share_maps(owner, obj);
		if (err) {
			failed("cannot share maps with the %s BPF object: %s", o->name,
			       strerror(-err));
			return err;
		}
	}
	err = choose_variants(obj, o, plain);
	if (err)
		return err;
	err = set_wakeup(obj);
	if (err) {
		failed("cannot set the %s BPF object's wakeup threshold: %s", o->name,
		       strerror(-err));
		return err;
	}
	err = bpf_object__load_skeleton(s);
	if (!err)
		return o->attach ? probe_attach(s, o) : 0;
	bpf_object__for_each_program(p, obj)
		typed |= bpf_program__autoload(p) && btf_typed(p);
	if (!plain && typed && (err == -EACCES || err == -EINVAL)) {
		/* the kernel has the hooks but its verifier refuses a program (an older one
		 * checks bounds less precisely): the untyped twins may pass */
		log_warn("the %s BPF programs' BTF-typed variants do not verify on this kernel "
			 "(%s; -vv shows the verifier log): trying their untyped twins",
			 o->name, strerror(-err));
		return PROBE_LOAD_RETRY_PLAIN;
	}
	failed("cannot load the %s BPF programs: %s (run with -vv for the verifier log)", o->name,
	       strerror(-err));
	return err;
}
