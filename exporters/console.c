// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
#include "console.h"

#include <errno.h>
#include <inttypes.h>
#include <string.h>
#include <time.h>

#include "pipeline/semconv.h"

static void format_time(struct strbuf *sb, uint64_t unix_ns)
{
	time_t secs = (time_t)(unix_ns / 1000000000ull);
	struct tm tm;
	char buf[32];

	gmtime_r(&secs, &tm);
	strftime(buf, sizeof(buf), "%Y-%m-%dT%H:%M:%S", &tm);
	strbuf_printf(sb, "%s.%06uZ", buf, (unsigned)(unix_ns % 1000000000ull / 1000));
}

static void format_text(struct strbuf *sb, const struct span *s, const struct proc_info *proc,
			uint64_t start)
{
	char tid[33];
	const char *peer_key = s->kind == SPAN_KIND_SERVER ? SC_CLIENT_ADDRESS : SC_SERVER_ADDRESS;
	const char *port_key = s->kind == SPAN_KIND_SERVER ? SC_CLIENT_PORT : SC_SERVER_PORT;
	const char *peer = span_get_str(s, peer_key);
	int64_t status = span_get_int(s, SC_HTTP_RESPONSE_STATUS_CODE, 0);

	format_time(sb, start);
	span_hex(s->trace_id, 16, tid);
	strbuf_printf(sb, " %s %-6s %s[%u] %s %" PRId64 " %.3fms", tid, span_kind_name(s->kind),
		      proc ? proc->service_name : "?", s->pid, s->name, status,
		      (double)(s->end_ns - s->start_ns) / 1e6);
	if (peer)
		strbuf_printf(sb, " %s=%s:%" PRId64,
			      s->kind == SPAN_KIND_SERVER ? "client" : "server", peer,
			      span_get_int(s, port_key, 0));
	if (s->error)
		strbuf_puts(sb, " ERROR");
	strbuf_puts(sb, "\n");
}

static void json_str(struct strbuf *sb, const char *key, const char *val)
{
	strbuf_puts(sb, "\"");
	strbuf_json_escape(sb, key);
	strbuf_puts(sb, "\":\"");
	strbuf_json_escape(sb, val);
	strbuf_puts(sb, "\"");
}

static void format_json(struct strbuf *sb, const struct span *s, const struct proc_info *proc,
			const char *host_name, uint64_t start, uint64_t end)
{
	char hex[33];
	size_t i;

	strbuf_puts(sb, "{");
	span_hex(s->trace_id, 16, hex);
	json_str(sb, "trace_id", hex);
	span_hex(s->span_id, 8, hex);
	strbuf_puts(sb, ",");
	json_str(sb, "span_id", hex);
	if (s->has_parent) {
		span_hex(s->parent_id, 8, hex);
		strbuf_puts(sb, ",");
		json_str(sb, "parent_span_id", hex);
	}
	strbuf_puts(sb, ",");
	json_str(sb, "kind", span_kind_name(s->kind));
	strbuf_puts(sb, ",");
	json_str(sb, "name", s->name);
	strbuf_printf(sb,
		      ",\"start_time_unix_nano\":%" PRIu64 ",\"end_time_unix_nano\":%" PRIu64
		      ",\"duration_ms\":%.3f,",
		      start, end, (double)(end - start) / 1e6);
	json_str(sb, "status", s->error ? "ERROR" : "UNSET");
	strbuf_printf(sb, ",\"thread_id\":%u,\"resource\":{", s->tid);
	json_str(sb, SC_SERVICE_NAME, proc ? proc->service_name : "");
	strbuf_printf(sb, ",\"process.pid\":%u,", s->pid);
	json_str(sb, SC_PROCESS_EXECUTABLE_NAME, proc ? proc->exe_name : "");
	strbuf_puts(sb, ",");
	if (proc && proc->container_id[0]) {
		json_str(sb, SC_CONTAINER_ID, proc->container_id);
		strbuf_puts(sb, ",");
	}
	if (proc) {
		struct k8s_attr k8s[K8S_ATTRS_MAX];
		size_t i, n = k8s_pod_attrs(&proc->k8s, true, k8s);

		for (i = 0; i < n; i++) {
			json_str(sb, k8s[i].key, k8s[i].value);
			strbuf_puts(sb, ",");
		}
	}
	json_str(sb, SC_HOST_NAME, host_name ? host_name : "");
	strbuf_puts(sb, "},\"attributes\":{");
	for (i = 0; i < s->nattrs; i++) {
		const struct span_attr *a = &s->attrs[i];

		if (i)
			strbuf_puts(sb, ",");
		if (a->is_int) {
			strbuf_puts(sb, "\"");
			strbuf_json_escape(sb, a->key);
			strbuf_printf(sb, "\":%" PRId64, a->ival);
		} else {
			json_str(sb, a->key, span_attr_str(s, a));
		}
	}
	strbuf_puts(sb, "}}\n");
}

void console_format(struct strbuf *sb, enum console_mode mode, const struct span *s,
		    const struct proc_info *proc, const char *host_name, int64_t clock_offset_ns)
{
	uint64_t start = s->start_ns + (uint64_t)clock_offset_ns;
	uint64_t end = s->end_ns + (uint64_t)clock_offset_ns;

	if (mode == CONSOLE_TEXT)
		format_text(sb, s, proc, start);
	else if (mode == CONSOLE_JSON)
		format_json(sb, s, proc, host_name, start, end);
}

/* Up to n lines of a stack trace, joined by " < " (innermost first). */
static void top_frames(struct strbuf *sb, const char *stack, int n)
{
	const char *nl;

	while (*stack && n-- > 0) {
		nl = strchr(stack, '\n');
		strbuf_printf(sb, " %s %.*s", n == 2 ? "at" : "<",
			      (int)(nl ? (size_t)(nl - stack) : strlen(stack)), stack);
		if (!nl)
			break;
		stack = nl + 1;
	}
}

void console_format_error(struct strbuf *sb, enum console_mode mode, const struct log_record *r,
			  const char *service, int64_t clock_offset_ns)
{
	const struct log_attr *st = log_record_attr(r, SC_EXCEPTION_STACKTRACE);
	const struct log_attr *fp = log_record_attr(r, "error.fingerprint");
	char tid[33] = "-";

	/* the JSON console is one span a line: errors go to OTLP's logs there */
	if (mode != CONSOLE_TEXT)
		return;
	format_time(sb, r->ts_ns + (uint64_t)clock_offset_ns);
	if (r->has_span)
		span_hex(r->trace_id, 16, tid);
	strbuf_printf(sb, " %s %-6s %s[%u] %s", tid, r->severity >= 21 ? "FATAL" : "ERROR", service,
		      r->pid, log_record_body(r));
	if (fp && fp->type == LOG_VAL_STR)
		strbuf_printf(sb, " [%s]", log_record_str(r, fp->soff));
	if (st && st->type == LOG_VAL_STR)
		top_frames(sb, log_record_str(r, st->soff), 3);
	strbuf_puts(sb, "\n");
}
