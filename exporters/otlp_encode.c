// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/*
 * Traces are written directly (pb_write.h): back to front into one buffer, straight from the
 * spans, with no message tree; a batch of spans is sent far more often than anything else.
 * Logs and metrics are protobuf-c structs that point at the log records' and the registry's own
 * bytes wherever those can be sent as they are; everything else (the message structs
 * themselves, strings that needed repair) comes from one arena per call, freed at once. The
 * three share one description of a resource (struct rattr) and its attributes.
 */
#include "otlp_encode.h"

#include <errno.h>
#include <math.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdlib.h>
#include <string.h>

#include "opentelemetry/proto/collector/logs/v1/logs_service.pb-c.h"
#include "opentelemetry/proto/collector/metrics/v1/metrics_service.pb-c.h"
#include "pb_write.h"
#include "pipeline/semconv.h"
#include "util/utf8.h"

/* The generated names, shortened to the message names of the .proto files. */
typedef Opentelemetry__Proto__Common__V1__AnyValue AnyValue;
typedef Opentelemetry__Proto__Common__V1__KeyValue KeyValue;
typedef Opentelemetry__Proto__Common__V1__InstrumentationScope InstrumentationScope;
typedef Opentelemetry__Proto__Resource__V1__Resource Resource;
typedef Opentelemetry__Proto__Logs__V1__ResourceLogs ResourceLogs;
typedef Opentelemetry__Proto__Logs__V1__ScopeLogs ScopeLogs;
typedef Opentelemetry__Proto__Logs__V1__LogRecord LogRecord;
typedef Opentelemetry__Proto__Collector__Logs__V1__ExportLogsServiceRequest LogsRequest;
typedef Opentelemetry__Proto__Metrics__V1__ResourceMetrics ResourceMetrics;
typedef Opentelemetry__Proto__Metrics__V1__ScopeMetrics ScopeMetrics;
typedef Opentelemetry__Proto__Metrics__V1__Metric Metric;
typedef Opentelemetry__Proto__Metrics__V1__Sum Sum;
typedef Opentelemetry__Proto__Metrics__V1__Gauge Gauge;
typedef Opentelemetry__Proto__Metrics__V1__Histogram Histogram;
typedef Opentelemetry__Proto__Metrics__V1__NumberDataPoint NumberDataPoint;
typedef Opentelemetry__Proto__Metrics__V1__HistogramDataPoint HistogramDataPoint;
typedef Opentelemetry__Proto__Collector__Metrics__V1__ExportMetricsServiceRequest MetricsRequest;

/* And the generated constants; some do not fit in 100 columns even on a line of their own. */
#define CUMULATIVE \
	OPENTELEMETRY__PROTO__METRICS__V1__AGGREGATION_TEMPORALITY__AGGREGATION_TEMPORALITY_CUMULATIVE
#define ANY_STRING OPENTELEMETRY__PROTO__COMMON__V1__ANY_VALUE__VALUE_STRING_VALUE
#define ANY_INT OPENTELEMETRY__PROTO__COMMON__V1__ANY_VALUE__VALUE_INT_VALUE
#define ANY_BOOL OPENTELEMETRY__PROTO__COMMON__V1__ANY_VALUE__VALUE_BOOL_VALUE
#define ANY_DOUBLE OPENTELEMETRY__PROTO__COMMON__V1__ANY_VALUE__VALUE_DOUBLE_VALUE
#define AS_INT OPENTELEMETRY__PROTO__METRICS__V1__NUMBER_DATA_POINT__VALUE_AS_INT
#define AS_DOUBLE OPENTELEMETRY__PROTO__METRICS__V1__NUMBER_DATA_POINT__VALUE_AS_DOUBLE

/* The field numbers that the traces writer writes, as trace_service.proto, trace.proto,
 * resource.proto and common.proto number them. */
enum {
	F_REQUEST_RESOURCE_SPANS = 1,	  /* ExportTraceServiceRequest.resource_spans */
	F_RESOURCE_SPANS_RESOURCE = 1,	  /* ResourceSpans.resource */
	F_RESOURCE_SPANS_SCOPE_SPANS = 2, /* ResourceSpans.scope_spans */
	F_SCOPE_SPANS_SCOPE = 1,	  /* ScopeSpans.scope */
	F_SCOPE_SPANS_SPANS = 2,	  /* ScopeSpans.spans */
	F_RESOURCE_ATTRIBUTES = 1,	  /* Resource.attributes */
	F_SCOPE_NAME = 1,		  /* InstrumentationScope.name */
	F_SCOPE_VERSION = 2,		  /* InstrumentationScope.version */
	F_SPAN_TRACE_ID = 1,
	F_SPAN_SPAN_ID = 2,
	F_SPAN_PARENT_SPAN_ID = 4,
	F_SPAN_NAME = 5,
	F_SPAN_KIND = 6,
	F_SPAN_START_TIME = 7,
	F_SPAN_END_TIME = 8,
	F_SPAN_ATTRIBUTES = 9,
	F_SPAN_EVENTS = 11,
	F_SPAN_STATUS = 15,
	F_EVENT_TIME = 1, /* Span.Event.time_unix_nano */
	F_EVENT_NAME = 2,
	F_EVENT_ATTRIBUTES = 3,
	F_STATUS_CODE = 3, /* Status.code */
	F_KV_KEY = 1,	   /* KeyValue.key */
	F_KV_VALUE = 2,
	F_ANY_STRING = 1, /* AnyValue.string_value */
	F_ANY_BOOL = 2,
	F_ANY_INT = 3,
};

/* and the values of trace.proto's enums that it writes besides enum span_kind's */
enum {
	KIND_INTERNAL = 1,     /* Span.SpanKind.SPAN_KIND_INTERNAL */
	STATUS_CODE_ERROR = 2, /* Status.StatusCode.STATUS_CODE_ERROR */
};

#define ARENA_CHUNK 65536
#define SVC_LABEL "service_name" /* service.name as Prometheus reads it */
#define SPAN_BYTES 400		 /* about what an HTTP span takes, to size the traces buffer */

static const AnyValue anyvalue_init = OPENTELEMETRY__PROTO__COMMON__V1__ANY_VALUE__INIT;
static const KeyValue keyvalue_init = OPENTELEMETRY__PROTO__COMMON__V1__KEY_VALUE__INIT;
static const ResourceLogs rlogs_init = OPENTELEMETRY__PROTO__LOGS__V1__RESOURCE_LOGS__INIT;
static const ScopeLogs slogs_init = OPENTELEMETRY__PROTO__LOGS__V1__SCOPE_LOGS__INIT;
static const LogRecord logrec_init_msg = OPENTELEMETRY__PROTO__LOGS__V1__LOG_RECORD__INIT;
static const Resource resource_init = OPENTELEMETRY__PROTO__RESOURCE__V1__RESOURCE__INIT;
static const ResourceMetrics rmetrics_init =
	OPENTELEMETRY__PROTO__METRICS__V1__RESOURCE_METRICS__INIT;
static const ScopeMetrics smetrics_init = OPENTELEMETRY__PROTO__METRICS__V1__SCOPE_METRICS__INIT;
static const Metric metric_init = OPENTELEMETRY__PROTO__METRICS__V1__METRIC__INIT;
static const Sum sum_init = OPENTELEMETRY__PROTO__METRICS__V1__SUM__INIT;
static const Gauge gauge_init = OPENTELEMETRY__PROTO__METRICS__V1__GAUGE__INIT;
static const Histogram histogram_init = OPENTELEMETRY__PROTO__METRICS__V1__HISTOGRAM__INIT;
static const NumberDataPoint ndp_init = OPENTELEMETRY__PROTO__METRICS__V1__NUMBER_DATA_POINT__INIT;
static const HistogramDataPoint hdp_init =
	OPENTELEMETRY__PROTO__METRICS__V1__HISTOGRAM_DATA_POINT__INIT;

/* HistogramDataPoint.sum is "optional double" upstream, so a zero sum is sent too; protoc-c
 * 1.4 only knows proto3's implicit presence, which drops zeros. The field is handed to
 * protobuf-c as an "unknown" one, which it packs as it is: tag 5, 64-bit, eight zero bytes. */
static uint8_t zero_double[8];
static ProtobufCMessageUnknownField zero_sum_field = {
	.tag = 5,
	.wire_type = PROTOBUF_C_WIRE_TYPE_64BIT,
	.len = sizeof(zero_double),
	.data = zero_double,
};

struct arena_chunk {
	struct arena_chunk *next;
	max_align_t data[];
};

struct arena {
	struct arena_chunk *head;
	char *p;
	size_t left;
	size_t next; /* size of the next chunk */
};

static void arena_init(struct arena *a, size_t hint)
{
	memset(a, 0, sizeof(*a));
	a->next = hint > ARENA_CHUNK ? hint : ARENA_CHUNK;
}

static void arena_free(struct arena *a)
{
	struct arena_chunk *c, *next;

	for (c = a->head; c; c = next) {
		next = c->next;
		free(c);
	}
}

static void *arena_alloc(struct arena *a, size_t n)
{
	const size_t align = sizeof(max_align_t);
	struct arena_chunk *c;
	size_t size;
	void *r;

	if (n > SIZE_MAX / 2)
		return NULL;
	n = (n + align - 1) & ~(align - 1);
	if (n > a->left) {
		size = a->next > n ? a->next : n;
		c = malloc(sizeof(*c) + size);
		if (!c)
			return NULL;
		c->next = a->head;
		a->head = c;
		a->p = (char *)c->data;
		a->left = size;
		if (a->next < SIZE_MAX / 4)
			a->next *= 2;
	}
	r = a->p;
	a->p += n;
	a->left -= n;
	return r;
}

static void *arena_array(struct arena *a, size_t count, size_t size)
{
	if (size && count > SIZE_MAX / 2 / size)
		return NULL;
	return arena_alloc(a, count * size);
}

/*
 * s as a protobuf string: itself when it is valid UTF-8 ending in a NUL within max bytes, else
 * a copy ending there with every stray byte replaced by U+FFFD. Protobuf strings must be UTF-8
 * (decoders such as protobuf-go refuse the whole request otherwise), and what we send comes
 * from observed traffic and process names. max bounds what is readable at s (utf8_valid_len()).
 * NULL only when out of memory.
 */
static char *pb_str(struct arena *a, const char *s, size_t max)
{
	char *out;

	if (utf8_valid_len(s, max) != SIZE_MAX)
		return (char *)s;
	out = arena_alloc(a, utf8_clean(NULL, s, max) + 1);
	if (!out)
		return NULL;
	utf8_clean(out, s, max);
	return out;
}

/* A copy in the arena, repaired as pb_str() does: for strings that do not outlive the call. */
static char *pb_strdup(struct arena *a, const char *s)
{
	size_t n = strlen(s) + 1;
	char *r = pb_str(a, s, n);

	if (r != s)
		return r;
	r = arena_alloc(a, n);
	return r ? memcpy(r, s, n) : NULL;
}

/* A KeyValue with its AnyValue, in one allocation. */
struct kv_pair {
	KeyValue kv;
	AnyValue v;
};

static KeyValue *kv_new(struct arena *a, const char *key)
{
	struct kv_pair *p = arena_alloc(a, sizeof(*p));

	if (!p || !key)
		return NULL;
	p->kv = keyvalue_init;
	p->v = anyvalue_init;
	p->kv.key = (char *)key;
	p->kv.value = &p->v;
	return &p->kv;
}

static KeyValue *kv_str(struct arena *a, const char *key, const char *val)
{
	KeyValue *kv = kv_new(a, key);

	if (!kv || !val)
		return NULL;
	kv->value->value_case = ANY_STRING;
	kv->value->string_value = (char *)val;
	return kv;
}

static KeyValue *kv_int(struct arena *a, const char *key, int64_t val)
{
	KeyValue *kv = kv_new(a, key);

	if (!kv)
		return NULL;
	kv->value->value_case = ANY_INT;
	kv->value->int_value = val;
	return kv;
}

static KeyValue *kv_bool(struct arena *a, const char *key, bool val)
{
	KeyValue *kv = kv_new(a, key);

	if (!kv)
		return NULL;
	kv->value->value_case = ANY_BOOL;
	kv->value->bool_value = val;
	return kv;
}

/* A decimal integer, all of s: "-12", "443". */
static bool parse_int(const char *s, int64_t *out)
{
	const char *p = s;
	uint64_t v = 0, limit;
	bool neg = *p == '-';

	if (neg)
		p++;
	if (!*p)
		return false;
	limit = neg ? (uint64_t)INT64_MAX + 1 : (uint64_t)INT64_MAX;
	for (; *p; p++) {
		if (*p < '0' || *p > '9')
			return false;
		if (v > (limit - (uint64_t)(*p - '0')) / 10)
			return false;
		v = v * 10 + (uint64_t)(*p - '0');
	}
	*out = neg ? (int64_t)(0 - v) : (int64_t)v;
	return true;
}

/* A resource attribute, or a label that becomes an attribute, before it is encoded: traces
 * write it as it is, logs and metrics make it a KeyValue (kv_of()). Strings are valid UTF-8. */
struct rattr {
	const char *key;
	const char *str; /* when !is_int */
	int64_t ival;
	bool is_int;
};

static struct rattr rattr_str(const char *key, const char *val)
{
	return (struct rattr){ .key = key, .str = val };
}

static struct rattr rattr_int(const char *key, int64_t val)
{
	return (struct rattr){ .key = key, .ival = val, .is_int = true };
}

/* Whether the strings r needed were allocated. */
static bool rattr_ok(const struct rattr *r)
{
	return r->key && (r->is_int || r->str);
}

static KeyValue *kv_of(struct arena *a, const struct rattr *r)
{
	return r->is_int ? kv_int(a, r->key, r->ival) : kv_str(a, r->key, r->str);
}

/* Strings are copied: a label lives only as long as the callback that hands it over. */
static struct rattr rattr_label(struct arena *a, const struct metric_label *l)
{
	char *key = pb_strdup(a, l->key);
	int64_t iv;

	if (l->is_int && parse_int(l->value, &iv))
		return rattr_int(key, iv);
	return rattr_str(key, pb_strdup(a, l->value));
}

static KeyValue *kv_label(struct arena *a, const struct metric_label *l)
{
	struct rattr r = rattr_label(a, l);

	return rattr_ok(&r) ? kv_of(a, &r) : NULL;
}

static bool own_key(const char *key)
{
	return !strcmp(key, SC_SERVICE_NAME) || !strcmp(key, SC_PROCESS_PID) ||
	       !strcmp(key, SC_PROCESS_EXECUTABLE_NAME);
}

/* Attributes every resource shares: host.name, telemetry.sdk.*, then cfg->extra, which
 * replaces any of those of the same key (as the SDKs let OTEL_RESOURCE_ATTRIBUTES do); and the
 * version, which the scope shares too. */
struct common_attrs {
	struct rattr *v;
	size_t n;
	const char *version; /* telemetry.sdk.version, NULL for none */
};

static int common_attrs_build(struct arena *a, const struct otlp_resource_cfg *cfg,
			      struct common_attrs *c)
{
	size_t i, j, nextra = cfg && cfg->extra ? cfg->nextra : 0;
	struct rattr r;

	c->n = 0;
	c->version = NULL;
	c->v = arena_array(a, 3 + nextra, sizeof(*c->v));
	if (!c->v)
		return -ENOMEM;
	if (cfg && cfg->host_name && *cfg->host_name)
		c->v[c->n++] = rattr_str(SC_HOST_NAME, pb_strdup(a, cfg->host_name));
	c->v[c->n++] = rattr_str(SC_TELEMETRY_SDK_NAME, OTLP_SDK_NAME);
	if (cfg && cfg->sdk_version && *cfg->sdk_version) {
		c->version = pb_strdup(a, cfg->sdk_version);
		if (!c->version)
			return -ENOMEM;
		c->v[c->n++] = rattr_str(SC_TELEMETRY_SDK_VERSION, c->version);
	}
	if (!rattr_ok(&c->v[0]))
		return -ENOMEM;
	for (i = 0; i < nextra; i++) {
		const struct metric_label *l = &cfg->extra[i];

		if (!l->key || !*l->key || !l->value || own_key(l->key))
			continue;
		r = rattr_label(a, l);
		if (!rattr_ok(&r))
			return -ENOMEM;
		for (j = 0; j < c->n; j++) {
			if (!strcmp(c->v[j].key, r.key))
				break;
		}
		c->v[j] = r;
		if (j == c->n)
			c->n++;
	}
	return 0;
}

/* A protobuf-c Resource: own attributes followed by the common ones. */
static Resource *resource_new(struct arena *a, const struct rattr *own, size_t nown,
			      const struct common_attrs *c)
{
	Resource *r = arena_alloc(a, sizeof(*r));
	size_t i;

	if (!r)
		return NULL;
	*r = resource_init;
	r->attributes = arena_array(a, nown + c->n, sizeof(*r->attributes));
	if (!r->attributes)
		return NULL;
	for (i = 0; i < nown + c->n; i++) {
		r->attributes[i] = kv_of(a, i < nown ? &own[i] : &c->v[i - nown]);
		if (!r->attributes[i])
			return NULL;
	}
	r->n_attributes = nown + c->n;
	return r;
}

static InstrumentationScope *scope_new(struct arena *a, const struct common_attrs *c)
{
	InstrumentationScope *s = arena_alloc(a, sizeof(*s));

	if (!s)
		return NULL;
	opentelemetry__proto__common__v1__instrumentation_scope__init(s);
	s->name = OTLP_SDK_NAME;
	if (c->version)
		s->version = (char *)c->version;
	return s;
}

static int pack(const ProtobufCMessage *msg, uint8_t **out, size_t *outlen)
{
	size_t len = protobuf_c_message_get_packed_size(msg);
	uint8_t *buf = malloc(len ? len : 1);

	if (!buf)
		return -ENOMEM;
	if (protobuf_c_message_pack(msg, buf) != len) {
		free(buf);
		return -EINVAL;
	}
	*out = buf;
	*outlen = len;
	return 0;
}

/* Spans and log records are grouped by process: pid, then the names, then their order in the
 * batch. */
struct proc_ref {
	uint32_t pid;
	size_t idx;
	const struct proc_info *proc;
};

/* Whether x and y describe the same process, as far as its resource says; pids aside. Copies
 * of one process (the exporter's queue keeps one with each span) are alike to the byte: one
 * memcmp() costs less than the ten string compares it saves. */
static bool proc_same_names(const struct proc_info *x, const struct proc_info *y)
{
	return x == y || !memcmp(x, y, sizeof(*x)) ||
	       (!strncmp(x->service_name, y->service_name, sizeof(x->service_name)) &&
		!strncmp(x->exe_name, y->exe_name, sizeof(x->exe_name)) &&
		!strncmp(x->container_id, y->container_id, sizeof(x->container_id)) &&
		!k8s_pod_info_cmp(&x->k8s, &y->k8s));
}

static int cmp_proc_ref(const void *a, const void *b)
{
	const struct proc_ref *x = a, *y = b;
	int r;

	if (x->pid != y->pid)
		return x->pid < y->pid ? -1 : 1;
	if (x->proc != y->proc) {
		if (!x->proc || !y->proc)
			return x->proc ? 1 : -1;
		r = strncmp(x->proc->service_name, y->proc->service_name,
			    sizeof(x->proc->service_name));
		if (r)
			return r;
		r = strncmp(x->proc->exe_name, y->proc->exe_name, sizeof(x->proc->exe_name));
		if (r)
			return r;
		r = strncmp(x->proc->container_id, y->proc->container_id,
			    sizeof(x->proc->container_id));
		if (r)
			return r;
		r = k8s_pod_info_cmp(&x->proc->k8s, &y->proc->k8s);
		if (r)
			return r;
	}
	return x->idx < y->idx ? -1 : x->idx > y->idx;
}

static bool same_proc(const struct proc_ref *x, const struct proc_ref *y)
{
	if (x->pid != y->pid || !x->proc != !y->proc)
		return false;
	return !x->proc || proc_same_names(x->proc, y->proc);
}

#define FEW_GROUPS 8

/*
 * What qsort() by cmp_proc_ref() makes of refs, by counting, when they name at most FEW_GROUPS
 * (pid, proc pointer) pairs, no two of them the same process: batch_ref() gave one process's
 * refs one pointer, so a batch of a few processes (nginx's workers) is placed in one pass
 * rather than sorted. Returns false, refs untouched, when it does not apply.
 */
static bool group_few(struct proc_ref *refs, size_t n)
{
	struct proc_ref key[FEW_GROUPS];
	size_t count[FEW_GROUPS] = { 0 }, at[FEW_GROUPS], order[FEW_GROUPS], ng = 0, i, g, k;
	struct proc_ref *tmp = NULL;
	unsigned char *gid = malloc(n); /* each ref's group */
	bool ok = false;

	if (!gid)
		return false;
	for (i = 0; i < n; i++) {
		for (g = 0; g < ng && (key[g].pid != refs[i].pid || key[g].proc != refs[i].proc);
		     g++)
			;
		if (g == ng) {
			if (ng == FEW_GROUPS)
				goto out;
			key[ng++] = refs[i];
		}
		gid[i] = (unsigned char)g;
		count[g]++;
	}
	/* the groups in cmp_proc_ref()'s order, insertion-sorted; two of one process (pointers
	 * that differ for the same names) are left to qsort(), which merges them */
	for (g = 0; g < ng; g++) {
		for (k = g; k && cmp_proc_ref(&key[order[k - 1]], &key[g]) > 0; k--)
			order[k] = order[k - 1];
		order[k] = g;
	}
	for (g = 1; g < ng; g++)
		if (same_proc(&key[order[g - 1]], &key[order[g]]))
			goto out;
	tmp = malloc(n * sizeof(*tmp));
	if (!tmp)
		goto out;
	for (k = 0, i = 0; k < ng; k++) {
		at[order[k]] = i;
		i += count[order[k]];
	}
	for (i = 0; i < n; i++)
		tmp[at[gid[i]]++] = refs[i];
	memcpy(refs, tmp, n * sizeof(*tmp));
	ok = true;
out:
	free(tmp);
	free(gid);
	return ok;
}

/* Sorts refs into process groups; returns how many groups there are. A batch of one process
 * (refs of one proc pointer: batch_ref()) is in order already. */
static size_t sort_by_proc(struct proc_ref *refs, size_t n)
{
	size_t i, ngroups = 0;

	for (i = 1; i < n && cmp_proc_ref(&refs[i - 1], &refs[i]) < 0; i++)
		;
	if (i < n && !group_few(refs, n))
		qsort(refs, n, sizeof(*refs), cmp_proc_ref);
	for (i = 0; i < n; i++) {
		if (!i || !same_proc(&refs[i - 1], &refs[i]))
			ngroups++;
	}
	return ngroups;
}

/* The end of the group that starts at refs[first]. */
static size_t group_end(const struct proc_ref *refs, size_t n, size_t first)
{
	size_t i = first + 1;

	while (i < n && same_proc(&refs[i - 1], &refs[i]))
		i++;
	return i;
}

/* The start of the group that ends at refs[end - 1]. */
static size_t group_start(const struct proc_ref *refs, size_t end)
{
	size_t i = end - 1;

	while (i && same_proc(&refs[i - 1], &refs[i]))
		i--;
	return i;
}

/* A CLOCK_MONOTONIC time as Unix ns: unsigned, so that a negative offset wraps to the right
 * sum. */
static uint64_t mono_to_unix(uint64_t mono_ns, int64_t clock_offset_ns)
{
	return mono_ns + (uint64_t)clock_offset_ns;
}

#define PROC_ATTRS_MAX (4 + K8S_ATTRS_MAX)

/* The attributes of a process's resource before the common ones: service.name (the SDKs'
 * default when it has none), process.pid, and its executable, container and pod when known.
 * How many; 0 when out of memory. */
static size_t proc_attrs(struct arena *a, const struct proc_ref *r,
			 struct rattr own[PROC_ATTRS_MAX])
{
	const struct proc_info *p = r->proc;
	const char *exe = p ? pb_str(a, p->exe_name, sizeof(p->exe_name)) : "";
	const char *svc = p ? pb_str(a, p->service_name, sizeof(p->service_name)) : "";
	const char *cid = p ? pb_str(a, p->container_id, sizeof(p->container_id)) : "";
	struct k8s_attr k8s[K8S_ATTRS_MAX];
	size_t n = 0, i, nk = p ? k8s_pod_attrs(&p->k8s, true, k8s) : 0;
	char *def;

	if (!exe || !svc || !cid)
		return 0;
	if (!*svc) {
		/* The SDKs' default: unknown_service, with the executable when known. */
		def = arena_alloc(a, sizeof("unknown_service:") + strlen(exe));
		if (!def)
			return 0;
		strcpy(def, *exe ? "unknown_service:" : "unknown_service");
		svc = strcat(def, exe);
	}
	own[n++] = rattr_str(SC_SERVICE_NAME, svc);
	own[n++] = rattr_int(SC_PROCESS_PID, r->pid);
	if (*exe)
		own[n++] = rattr_str(SC_PROCESS_EXECUTABLE_NAME, exe);
	if (*cid)
		own[n++] = rattr_str(SC_CONTAINER_ID, cid);
	/* repaired as the others: the API server's strings reach protobuf as UTF-8 */
	for (i = 0; i < nk; i++) {
		own[n] = rattr_str(k8s[i].key, pb_str(a, k8s[i].value, K8S_NAME_MAX));
		if (!rattr_ok(&own[n++]))
			return 0;
	}
	return n;
}

/*
 * The traces writer. Each encode_*() writes one message as field `field` of the message around
 * it, back to front (pb_write.h): its fields from the last to the first, in the order and with
 * the omissions of protobuf-c (a proto3 field that is zero or "" is not sent, a oneof member or a
 * message that is there always is), so that the bytes are the very ones protobuf-c packed from
 * the message tree this replaces.
 */

/*
 * KeyValues: a key, then an AnyValue of one member. A span's are most of its bytes, and nearly
 * all of them are short: their tags and lengths are one byte each, and the KeyValue is taken at
 * once and filled front to back (kv_begin()). Longer ones are written field by field.
 */
#define KV_SHORT 120 /* key and value bytes under which every length of a KeyValue is one byte */

/* Span attribute keys are semantic-convention literals, sent as they are. Inline, so that a
 * literal's length is the compiler's; a span's attributes carry theirs (span_attr_key_len()). */
static inline size_t key_len(const char *key)
{
	return key ? __builtin_strlen(key) : 0;
}

/* A short KeyValue's tag, length and key, taken for an AnyValue of any_len bytes after them:
 * where the AnyValue goes, or NULL after a failed allocation. */
PB_INLINE uint8_t *kv_begin(struct pb_buf *w, uint32_t field, const char *key, size_t klen,
			    size_t any_len)
{
	size_t kv_len = (klen ? 2 + klen : 0) + 2 + any_len;
	uint8_t *d = pb_take(w, 2 + kv_len);

	if (!d)
		return NULL;
	*d++ = PB_TAG1(field, PB_LEN);
	*d++ = (uint8_t)kv_len;
	if (klen) {
		*d++ = PB_TAG1(F_KV_KEY, PB_LEN);
		*d++ = (uint8_t)klen;
		pb_copy(d, key, klen);
		d += klen;
	}
	*d++ = PB_TAG1(F_KV_VALUE, PB_LEN);
	*d++ = (uint8_t)any_len;
	return d;
}

/* The KeyValue whose AnyValue was written since mark, field by field. */
static void kv_end(struct pb_buf *w, uint32_t field, const char *key, size_t klen, size_t mark)
{
	pb_close(w, F_KV_VALUE, mark);
	if (klen)
		pb_bytes(w, F_KV_KEY, key, klen);
	pb_close(w, field, mark);
}

/* A string-valued KeyValue whose value is the vlen bytes at val, valid UTF-8. */
static void encode_kv_valid(struct pb_buf *w, uint32_t field, const char *key, size_t klen,
			    const char *val, size_t vlen)
{
	size_t mark;
	uint8_t *d;

	if (vlen < KV_SHORT && klen < KV_SHORT - vlen) {
		d = kv_begin(w, field, key, klen, 2 + vlen);
		if (d) {
			d[0] = PB_TAG1(F_ANY_STRING, PB_LEN);
			d[1] = (uint8_t)vlen;
			pb_copy(d + 2, val, vlen);
		}
		return;
	}
	mark = pb_mark(w);
	pb_bytes(w, F_ANY_STRING, val, vlen);
	kv_end(w, field, key, klen, mark);
}

/* A string-valued KeyValue; val as pb_string() takes it. */
static void encode_kv_str(struct pb_buf *w, uint32_t field, const char *key, size_t klen,
			  const char *val, size_t max)
{
	size_t vlen = utf8_valid_len(val, max), mark;

	if (vlen != SIZE_MAX) {
		encode_kv_valid(w, field, key, klen, val, vlen);
		return;
	}
	mark = pb_mark(w);
	pb_string(w, F_ANY_STRING, val, max); /* repaired */
	kv_end(w, field, key, klen, mark);
}

/* An int- or bool-valued KeyValue: AnyValue member any_field, a varint. */
static void encode_kv_varint(struct pb_buf *w, uint32_t field, const char *key, size_t klen,
			     uint32_t any_field, uint64_t val)
{
	size_t mark;
	uint8_t *d;

	if (klen < KV_SHORT - 11) { /* 11: the AnyValue's tag and a varint of up to ten bytes */
		d = kv_begin(w, field, key, klen, 1 + pb_varint_size(val));
		if (d) {
			d[0] = PB_TAG1(any_field, PB_VARINT);
			pb_put_varint(d + 1, val);
		}
		return;
	}
	mark = pb_mark(w);
	pb_uint64(w, any_field, val);
	kv_end(w, field, key, klen, mark);
}

static void encode_kv_int(struct pb_buf *w, uint32_t field, const char *key, size_t klen,
			  int64_t val)
{
	encode_kv_varint(w, field, key, klen, F_ANY_INT, (uint64_t)val);
}

static void encode_kv_bool(struct pb_buf *w, uint32_t field, const char *key, size_t klen, bool val)
{
	encode_kv_varint(w, field, key, klen, F_ANY_BOOL, val);
}

static void encode_rattr(struct pb_buf *w, uint32_t field, const struct rattr *r)
{
	if (r->is_int)
		encode_kv_int(w, field, r->key, key_len(r->key), r->ival);
	else
		encode_kv_str(w, field, r->key, key_len(r->key), r->str, strlen(r->str) + 1);
}

/* A Resource: own attributes followed by the common ones, as resource_new() has them. */
static void encode_resource(struct pb_buf *w, uint32_t field, const struct rattr *own, size_t nown,
			    const struct common_attrs *c)
{
	size_t mark = pb_mark(w), i;

	for (i = c->n; i-- > 0;)
		encode_rattr(w, F_RESOURCE_ATTRIBUTES, &c->v[i]);
	for (i = nown; i-- > 0;)
		encode_rattr(w, F_RESOURCE_ATTRIBUTES, &own[i]);
	pb_close(w, field, mark);
}

/* The InstrumentationScope, as scope_new() has it. */
static void encode_scope(struct pb_buf *w, uint32_t field, const struct common_attrs *c)
{
	size_t mark = pb_mark(w);

	if (c->version)
		pb_bytes(w, F_SCOPE_VERSION, c->version, strlen(c->version));
	pb_bytes(w, F_SCOPE_NAME, OTLP_SDK_NAME, sizeof(OTLP_SDK_NAME) - 1);
	pb_close(w, field, mark);
}

/* One of the NUL-separated strings of s->exc: "" for an offset past it. */
static const char *exc_str(const struct span *s, uint16_t off, size_t *max)
{
	if (off >= SPAN_EXC_ARENA) {
		*max = 1;
		return "";
	}
	*max = SPAN_EXC_ARENA - off;
	return s->exc + off;
}

/* The span's `exception` event, named and keyed as the semantic conventions say. */
static void encode_exception(struct pb_buf *w, uint32_t field, const struct span *s,
			     int64_t clock_offset_ns)
{
	size_t mark = pb_mark(w), msg_max, stack_max;
	const char *msg = exc_str(s, s->exc_msg_off, &msg_max);
	const char *stack = exc_str(s, s->exc_stack_off, &stack_max);
	uint64_t t = mono_to_unix(s->exc_ns, clock_offset_ns);

	encode_kv_bool(w, F_EVENT_ATTRIBUTES, SC_EXCEPTION_ESCAPED, key_len(SC_EXCEPTION_ESCAPED),
		       s->exc_escaped);
	if (*stack)
		encode_kv_str(w, F_EVENT_ATTRIBUTES, SC_EXCEPTION_STACKTRACE,
			      key_len(SC_EXCEPTION_STACKTRACE), stack, stack_max);
	if (*msg)
		encode_kv_str(w, F_EVENT_ATTRIBUTES, SC_EXCEPTION_MESSAGE,
			      key_len(SC_EXCEPTION_MESSAGE), msg, msg_max);
	encode_kv_str(w, F_EVENT_ATTRIBUTES, SC_EXCEPTION_TYPE, key_len(SC_EXCEPTION_TYPE), s->exc,
		      SPAN_EXC_ARENA);
	pb_bytes(w, F_EVENT_NAME, "exception", sizeof("exception") - 1);
	if (t)
		pb_fixed64(w, F_EVENT_TIME, t);
	pb_close(w, field, mark);
}

/*
 * A Span. Span.flags (field 16) is left unset: it is newer than the OTLP 1.0 protos that many
 * receivers still decode with (the test decoder among them), which would see it as an unknown
 * field. The W3C sampled bit is implied by the span being exported at all. Values are read
 * within the arena's used part, where span_set_str() puts them: copies of a span may stop there
 * (the exporter's queue, tracesample.c).
 */
static void encode_span(struct pb_buf *w, uint32_t field, const struct span *s,
			int64_t clock_offset_ns)
{
	size_t i, n = s->nattrs < SPAN_MAX_ATTRS ? s->nattrs : SPAN_MAX_ATTRS;
	size_t used = s->arena_used < SPAN_ARENA ? s->arena_used : SPAN_ARENA;
	uint64_t start = mono_to_unix(s->start_ns, clock_offset_ns);
	uint64_t end = mono_to_unix(s->end_ns, clock_offset_ns);
	size_t mark = pb_mark(w), status = mark;
	uint8_t *d;

	/* always there: a Status with no code is UNSET */
	if (s->error)
		pb_uint64(w, F_STATUS_CODE, STATUS_CODE_ERROR);
	pb_close(w, F_SPAN_STATUS, status);
	if (s->exc_ns)
		encode_exception(w, F_SPAN_EVENTS, s, clock_offset_ns);
	for (i = n; i-- > 0;) {
		const struct span_attr *attr = &s->attrs[i];
		size_t klen = span_attr_key_len(attr);

		if (attr->is_int)
			encode_kv_int(w, F_SPAN_ATTRIBUTES, attr->key, klen, attr->ival);
		else if (attr->soff < used && attr->slen < used - attr->soff &&
			 utf8_is_ascii(s->arena + attr->soff, attr->slen))
			/* span_set_str() measured it: ASCII goes as it is (a value cut inside a
			 * character, or any other UTF-8, is checked and repaired below) */
			encode_kv_valid(w, F_SPAN_ATTRIBUTES, attr->key, klen,
					s->arena + attr->soff, attr->slen);
		else if (attr->soff < used)
			encode_kv_str(w, F_SPAN_ATTRIBUTES, attr->key, klen, s->arena + attr->soff,
				      used - attr->soff);
		else /* span_set_str() puts a value that did not fit at the arena's last byte, "" */
			encode_kv_str(w, F_SPAN_ATTRIBUTES, attr->key, klen, "", 1);
	}
	/* kind, start and end: fixed sizes, taken at once (a zero time is not sent) */
	d = pb_take(w, 2 + (start ? 9 : 0) + (end ? 9 : 0));
	if (d) {
		/* enum span_kind has SpanKind's numbers */
		*d++ = PB_TAG1(F_SPAN_KIND, PB_VARINT);
		*d++ = s->kind == SPAN_KIND_SERVER || s->kind == SPAN_KIND_CLIENT ? s->kind
										  : KIND_INTERNAL;
		if (start) {
			*d++ = PB_TAG1(F_SPAN_START_TIME, PB_FIXED64);
			pb_put_fixed64(d, start);
			d += 8;
		}
		if (end) {
			*d++ = PB_TAG1(F_SPAN_END_TIME, PB_FIXED64);
			pb_put_fixed64(d, end);
		}
	}
	if (s->name[0])
		pb_string(w, F_SPAN_NAME, s->name, sizeof(s->name));
	/* the ids, likewise */
	d = pb_take(w, 2 + sizeof(s->trace_id) + 2 + sizeof(s->span_id) +
			       (s->has_parent ? 2 + sizeof(s->parent_id) : 0));
	if (d) {
		*d++ = PB_TAG1(F_SPAN_TRACE_ID, PB_LEN);
		*d++ = sizeof(s->trace_id);
		memcpy(d, s->trace_id, sizeof(s->trace_id));
		d += sizeof(s->trace_id);
		*d++ = PB_TAG1(F_SPAN_SPAN_ID, PB_LEN);
		*d++ = sizeof(s->span_id);
		memcpy(d, s->span_id, sizeof(s->span_id));
		d += sizeof(s->span_id);
		if (s->has_parent) {
			*d++ = PB_TAG1(F_SPAN_PARENT_SPAN_ID, PB_LEN);
			*d++ = sizeof(s->parent_id);
			memcpy(d, s->parent_id, sizeof(s->parent_id));
		}
	}
	pb_close(w, field, mark);
}

/* What a traces or logs request is built from: an arena, the resource attributes every process
 * shares, and the items sorted into groups by process (refs[i].idx: the item). */
struct batch {
	struct arena a;
	struct common_attrs common;
	struct proc_ref *refs;
	size_t ngroups;
	/* the processes met so far, for batch_ref() */
	const struct proc_info *seen[8];
	size_t nseen;
};

/* For n items that take about item_bytes of arena each. 0 or -ENOMEM; batch_free() frees it
 * either way. */
static int batch_begin(struct batch *b, size_t n, size_t item_bytes,
		       const struct otlp_resource_cfg *cfg)
{
	bool too_many = n > SIZE_MAX / 2 / sizeof(*b->refs) ||
			(item_bytes && n > SIZE_MAX / 2 / item_bytes);

	memset(b, 0, sizeof(*b));
	arena_init(&b->a, (too_many ? 0 : n * item_bytes) + 4096);
	if (too_many || common_attrs_build(&b->a, cfg, &b->common))
		return -ENOMEM;
	if (n && !(b->refs = malloc(n * sizeof(*b->refs))))
		return -ENOMEM;
	return 0;
}

/*
 * Item i is of process proc, or only known by its pid (proc NULL). Items of one process are
 * given one proc pointer, the first met (the exporter's queue keeps a copy of the process with
 * each span), so that sorting them compares pointers, not names.
 */
static void batch_ref(struct batch *b, size_t i, const struct proc_info *proc, uint32_t pid)
{
	size_t k;

	for (k = 0; proc && k < b->nseen; k++) {
		if (b->seen[k]->pid == proc->pid && proc_same_names(b->seen[k], proc)) {
			proc = b->seen[k];
			break;
		}
	}
	if (proc && k == b->nseen && b->nseen < sizeof(b->seen) / sizeof(b->seen[0]))
		b->seen[b->nseen++] = proc;
	b->refs[i].proc = proc;
	b->refs[i].pid = proc ? proc->pid : pid;
	b->refs[i].idx = i;
}

static void batch_free(struct batch *b)
{
	free(b->refs);
	arena_free(&b->a);
}

/* The spans of a request: structs to encode, or spans otlp_encode_span() encoded before. */
struct span_source {
	const struct span *const *spans;
	const struct otlp_span_bytes *encoded;
	int64_t clock_offset_ns; /* spans only */
};

/* One ResourceSpans: the spans of refs[first..end), one process's. */
static int encode_resource_spans(struct pb_buf *w, uint32_t field, struct batch *b,
				 const struct span_source *src, size_t first, size_t end)
{
	size_t mark = pb_mark(w), k, nown;
	struct rattr own[PROC_ATTRS_MAX];

	nown = proc_attrs(&b->a, &b->refs[first], own);
	if (!nown)
		return -ENOMEM;
	/* ScopeSpans, the last field, ends where ResourceSpans does; the spans still to come are
	 * fetched ahead (span_prefetch_head()) */
	for (k = end; k-- > first;) {
		const struct otlp_span_bytes *e, *next;

		if (src->encoded) {
			if (k >= first + 1) {
				next = &src->encoded[b->refs[k - 1].idx];
				prefetch_range(next->data, next->data + next->len, false);
			}
			e = &src->encoded[b->refs[k].idx];
			pb_raw(w, e->data, e->len);
			continue;
		}
		if (k >= first + 2)
			span_prefetch_head(src->spans[b->refs[k - 2].idx]);
		if (k >= first + 1)
			span_prefetch_used(src->spans[b->refs[k - 1].idx]);
		encode_span(w, F_SCOPE_SPANS_SPANS, src->spans[b->refs[k].idx],
			    src->clock_offset_ns);
	}
	encode_scope(w, F_SCOPE_SPANS_SCOPE, &b->common);
	pb_close(w, F_RESOURCE_SPANS_SCOPE_SPANS, mark);
	encode_resource(w, F_RESOURCE_SPANS_RESOURCE, own, nown, &b->common);
	pb_close(w, field, mark);
	return w->err;
}

/* otlp_encode_traces_to() and otlp_encode_encoded_traces_to(): n spans of src. */
static int encode_traces(struct pb_buf *w, const struct span_source *src,
			 const struct proc_info *const *procs, size_t n,
			 const struct otlp_resource_cfg *cfg, const uint8_t **body, size_t *len)
{
	size_t i, first, end, bytes = 0;
	struct batch b;
	int err;

	if (!w || !body || !len || (n && !src->spans && !src->encoded))
		return -EINVAL;
	for (i = 0; i < n; i++) {
		if (src->spans ? !src->spans[i] : !src->encoded[i].data && src->encoded[i].len)
			return -EINVAL;
		bytes += src->spans ? SPAN_BYTES : src->encoded[i].len;
	}
	err = batch_begin(&b, n, 0, cfg);
	if (!err)
		err = pb_buf_reset(w, n < SIZE_MAX / SPAN_BYTES ? bytes : 0);
	if (err)
		goto done;
	for (i = 0; i < n; i++)
		batch_ref(&b, i, procs ? procs[i] : NULL,
			  src->spans ? src->spans[i]->pid : src->encoded[i].pid);
	sort_by_proc(b.refs, n);
	/* back to front: the last process first, and its last span first */
	for (end = n; end && !err; end = first) {
		first = group_start(b.refs, end);
		err = encode_resource_spans(w, F_REQUEST_RESOURCE_SPANS, &b, src, first, end);
	}
	if (!err) {
		*body = w->p;
		*len = pb_mark(w);
	}
done:
	batch_free(&b);
	return err;
}

int otlp_encode_traces_to(struct pb_buf *w, const struct span *const *spans,
			  const struct proc_info *const *procs, size_t n,
			  const struct otlp_resource_cfg *cfg, int64_t clock_offset_ns,
			  const uint8_t **body, size_t *len)
{
	const struct span_source src = { .spans = spans, .clock_offset_ns = clock_offset_ns };

	if (n && !spans)
		return -EINVAL;
	return encode_traces(w, &src, procs, n, cfg, body, len);
}

int otlp_encode_span(struct pb_buf *w, const struct span *s, int64_t clock_offset_ns)
{
	int err;

	if (!w || !s)
		return -EINVAL;
	err = pb_buf_reset(w, SPAN_BYTES);
	if (err)
		return err;
	encode_span(w, F_SCOPE_SPANS_SPANS, s, clock_offset_ns);
	return w->err;
}

int otlp_encode_encoded_traces_to(struct pb_buf *w, const struct otlp_span_bytes *spans,
				  const struct proc_info *const *procs, size_t n,
				  const struct otlp_resource_cfg *cfg, const uint8_t **body,
				  size_t *len)
{
	const struct span_source src = { .encoded = spans };

	if (n && !spans)
		return -EINVAL;
	return encode_traces(w, &src, procs, n, cfg, body, len);
}

int otlp_encode_traces(const struct span *const *spans, const struct proc_info *const *procs,
		       size_t n, const struct otlp_resource_cfg *cfg, int64_t clock_offset_ns,
		       uint8_t **out, size_t *outlen)
{
	struct pb_buf w = { 0 };
	const uint8_t *body;
	size_t len;
	int err;

	if (!out || !outlen)
		return -EINVAL;
	err = otlp_encode_traces_to(&w, spans, procs, n, cfg, clock_offset_ns, &body, &len);
	if (err) {
		pb_buf_free(&w);
		return err;
	}
	return pb_buf_finish(&w, out, outlen);
}

/* A string of r's arena, cut where the arena's used part ends: queues copy only that part. An
 * offset past it (never made by the log pipeline) reads as "". */
static char *log_str(struct arena *a, const struct log_record *r, uint16_t off)
{
	size_t used = r->arena_used < LOG_ARENA ? r->arena_used : LOG_ARENA;

	if (off >= used)
		return "";
	return pb_str(a, r->arena + off, used - (size_t)off);
}

/* log.iostream's values */
static const char *log_iostream(uint8_t stream)
{
	switch (stream) {
	case LOG_STREAM_STDOUT:
		return "stdout";
	case LOG_STREAM_STDERR:
		return "stderr";
	default:
		return NULL;
	}
}

static int log_fill(struct arena *a, LogRecord *out, const struct log_record *r,
		    int64_t clock_offset_ns)
{
	size_t i, n = r->nattrs < LOG_MAX_ATTRS ? r->nattrs : LOG_MAX_ATTRS;
	const char *stream = log_iostream(r->stream);
	struct kv_pair *kvs;
	AnyValue *body;

	*out = logrec_init_msg;
	out->observed_time_unix_nano = mono_to_unix(r->ts_ns, clock_offset_ns);
	out->time_unix_nano = r->time_unix_ns ? r->time_unix_ns : out->observed_time_unix_nano;
	/* 1..24 are the only numbers SeverityNumber defines */
	out->severity_number = r->severity <= 24 ? r->severity : 0;
	if (r->severity_text[0]) {
		out->severity_text = pb_str(a, r->severity_text, sizeof(r->severity_text));
		if (!out->severity_text)
			return -ENOMEM;
	}
	if (r->has_span) {
		out->trace_id.len = sizeof(r->trace_id);
		out->trace_id.data = (uint8_t *)r->trace_id;
		out->span_id.len = sizeof(r->span_id);
		out->span_id.data = (uint8_t *)r->span_id;
		out->flags = r->trace_flags;
	}
	body = arena_alloc(a, sizeof(*body));
	if (!body)
		return -ENOMEM;
	*body = anyvalue_init;
	body->value_case = ANY_STRING;
	body->string_value = log_str(a, r, r->body_off);
	if (!body->string_value)
		return -ENOMEM;
	out->body = body;

	out->attributes = arena_array(a, n + 1, sizeof(*out->attributes) + sizeof(*kvs));
	if (!out->attributes)
		return -ENOMEM;
	kvs = (struct kv_pair *)(out->attributes + n + 1);
	for (i = 0; i < n; i++) {
		const struct log_attr *attr = &r->attrs[i];
		struct kv_pair *p = &kvs[i];

		p->kv = keyvalue_init;
		p->v = anyvalue_init;
		p->kv.key = log_str(a, r, attr->koff);
		p->kv.value = &p->v;
		switch (attr->type) {
		case LOG_VAL_INT:
			p->v.value_case = ANY_INT;
			p->v.int_value = attr->i;
			break;
		case LOG_VAL_DOUBLE:
			p->v.value_case = ANY_DOUBLE;
			p->v.double_value = attr->d;
			break;
		case LOG_VAL_BOOL:
			p->v.value_case = ANY_BOOL;
			p->v.bool_value = attr->i != 0;
			break;
		default:
			p->v.value_case = ANY_STRING;
			p->v.string_value = log_str(a, r, attr->soff);
			if (!p->v.string_value)
				return -ENOMEM;
		}
		if (!p->kv.key)
			return -ENOMEM;
		out->attributes[out->n_attributes++] = &p->kv;
	}
	if (stream) {
		kvs[n].kv = keyvalue_init;
		kvs[n].v = anyvalue_init;
		kvs[n].kv.key = SC_LOG_IOSTREAM;
		kvs[n].kv.value = &kvs[n].v;
		kvs[n].v.value_case = ANY_STRING;
		kvs[n].v.string_value = (char *)stream;
		out->attributes[out->n_attributes++] = &kvs[n].kv;
	}
	return 0;
}

int otlp_encode_logs(const struct log_record *const *recs, const struct proc_info *const *procs,
		     size_t n, const struct otlp_resource_cfg *cfg, int64_t clock_offset_ns,
		     uint8_t **out, size_t *outlen)
{
	LogsRequest req =
		OPENTELEMETRY__PROTO__COLLECTOR__LOGS__V1__EXPORT_LOGS_SERVICE_REQUEST__INIT;
	InstrumentationScope *scope;
	size_t i, k, g;
	struct batch b;
	LogRecord *msgs;
	int err;

	if (!out || !outlen || (n && !recs))
		return -EINVAL;
	for (i = 0; i < n; i++) {
		if (!recs[i])
			return -EINVAL;
	}
	err = batch_begin(&b, n, sizeof(LogRecord) + 4 * sizeof(struct kv_pair), cfg);
	if (err || !n)
		goto done;
	for (i = 0; i < n; i++)
		batch_ref(&b, i, procs ? procs[i] : NULL, recs[i]->pid);
	b.ngroups = sort_by_proc(b.refs, n);
	err = -ENOMEM;
	scope = scope_new(&b.a, &b.common);
	msgs = arena_array(&b.a, n, sizeof(*msgs));
	req.resource_logs = arena_array(&b.a, b.ngroups, sizeof(*req.resource_logs));
	if (!scope || !msgs || !req.resource_logs)
		goto done;

	for (i = 0, g = 0; g < b.ngroups; g++) {
		ResourceLogs *rl = arena_alloc(&b.a, sizeof(*rl));
		ScopeLogs *sl = arena_alloc(&b.a, sizeof(*sl));
		ScopeLogs **slp = arena_alloc(&b.a, sizeof(*slp));
		struct rattr own[PROC_ATTRS_MAX];
		size_t first = i, nown;

		if (!rl || !sl || !slp)
			goto done;
		*rl = rlogs_init;
		*sl = slogs_init;
		nown = proc_attrs(&b.a, &b.refs[first], own);
		rl->resource = nown ? resource_new(&b.a, own, nown, &b.common) : NULL;
		if (!rl->resource)
			goto done;
		rl->n_scope_logs = 1;
		rl->scope_logs = slp;
		slp[0] = sl;
		sl->scope = scope;
		i = group_end(b.refs, n, first);
		sl->n_log_records = i - first;
		sl->log_records = arena_array(&b.a, sl->n_log_records, sizeof(*sl->log_records));
		if (!sl->log_records)
			goto done;
		for (k = first; k < i; k++) {
			int ferr = log_fill(&b.a, &msgs[k], recs[b.refs[k].idx], clock_offset_ns);

			if (ferr) {
				err = ferr;
				goto done;
			}
			sl->log_records[k - first] = &msgs[k];
		}
		req.resource_logs[req.n_resource_logs++] = rl;
	}
	err = 0;
done:
	if (!err)
		err = pack(&req.base, out, outlen);
	batch_free(&b);
	return err;
}

/* Metrics: the registry is visited once; each series becomes a row, then rows are grouped by
 * service, keeping the registry's family order inside each service. */
struct mfamily {
	const struct metric_family_def *src; /* identity only: compared, never read after */
	enum metric_type type;
	char *name, *help, *unit;
	double *bounds;
	size_t nbounds;
};

struct mrow {
	const struct mfamily *fam;
	size_t svc;
	KeyValue **attrs;
	size_t nattrs;
	double value;
	double sum;
	uint64_t count;
	uint64_t *buckets;
	uint64_t start;
};

struct mctx {
	struct arena *a;
	struct mrow *rows;
	size_t nrows, rows_cap;
	char **svcs;
	size_t nsvcs, svcs_cap, last_svc;
	struct mfamily *fam;
	int err;
};

/* Keys compared as Prometheus reads them, '.' as '_': the registry treats them alike. */
static bool key_is(const char *key, const char *prom)
{
	for (; *key && *prom; key++, prom++) {
		if ((*key == '.' ? '_' : *key) != *prom)
			return false;
	}
	return !*key && !*prom;
}

static int grow(void **arr, size_t *cap, size_t need, size_t elem)
{
	size_t ncap = *cap ? *cap * 2 : 64;
	void *p;

	if (need <= *cap)
		return 0;
	if (ncap > SIZE_MAX / elem)
		return -ENOMEM;
	p = realloc(*arr, ncap * elem);
	if (!p)
		return -ENOMEM;
	*arr = p;
	*cap = ncap;
	return 0;
}

static struct mfamily *mfamily_new(struct arena *a, const struct metric_family_def *def)
{
	struct mfamily *f = arena_alloc(a, sizeof(*f));

	if (!f)
		return NULL;
	f->src = def;
	f->type = def->type;
	f->name = pb_strdup(a, def->otel_name);
	f->help = pb_strdup(a, def->help ? def->help : "");
	f->unit = pb_strdup(a, def->unit ? def->unit : "");
	f->nbounds = def->type == METRIC_HISTOGRAM ? def->nbounds : 0;
	f->bounds = arena_array(a, f->nbounds + 1, sizeof(*f->bounds));
	if (!f->name || !f->help || !f->unit || !f->bounds)
		return NULL;
	if (f->nbounds)
		memcpy(f->bounds, def->bounds, f->nbounds * sizeof(*f->bounds));
	return f;
}

static int find_service(struct mctx *c, const char *name)
{
	size_t i;

	if (c->nsvcs && !strcmp(c->svcs[c->last_svc], name))
		return 0;
	for (i = 0; i < c->nsvcs; i++) {
		if (!strcmp(c->svcs[i], name)) {
			c->last_svc = i;
			return 0;
		}
	}
	if (grow((void **)&c->svcs, &c->svcs_cap, c->nsvcs + 1, sizeof(*c->svcs)))
		return -ENOMEM;
	c->svcs[c->nsvcs] = pb_strdup(c->a, name);
	if (!c->svcs[c->nsvcs])
		return -ENOMEM;
	c->last_svc = c->nsvcs++;
	return 0;
}

static void collect_series(void *ctx, const struct metric_family_def *def,
			   const struct metric_label *labels, size_t nlabels,
			   const struct metric_point *pt)
{
	struct mctx *c = ctx;
	const char *svc = OTLP_SDK_NAME;
	struct mrow *row;
	size_t i, nb;

	if (c->err || !def->otel_name)
		return;
	c->err = -ENOMEM;
	if (!c->fam || c->fam->src != def) {
		c->fam = mfamily_new(c->a, def);
		if (!c->fam)
			return;
	}
	for (i = 0; i < nlabels; i++) {
		if (key_is(labels[i].key, SVC_LABEL))
			svc = labels[i].value;
	}
	if (find_service(c, svc) ||
	    grow((void **)&c->rows, &c->rows_cap, c->nrows + 1, sizeof(*c->rows)))
		return;
	row = &c->rows[c->nrows];
	*row = (struct mrow){
		.fam = c->fam,
		.svc = c->last_svc,
		.value = pt->value,
		.sum = pt->sum,
		.count = pt->count,
		.start = pt->start_unix_ns,
	};
	row->attrs = arena_array(c->a, nlabels, sizeof(*row->attrs));
	if (!row->attrs)
		return;
	for (i = 0; i < nlabels; i++) {
		const struct metric_label *l = &labels[i];
		KeyValue *kv;

		if (key_is(l->key, SVC_LABEL))
			continue;
		/* The SDKs' overflow attribute is the boolean otel.metric.overflow. */
		if (key_is(l->key, METRICS_OVERFLOW_LABEL))
			kv = kv_bool(c->a, "otel.metric.overflow", true);
		else
			kv = kv_label(c->a, l);
		if (!kv)
			return;
		row->attrs[row->nattrs++] = kv;
	}
	if (def->type == METRIC_HISTOGRAM) {
		nb = c->fam->nbounds + 1;
		row->buckets = arena_array(c->a, nb, sizeof(*row->buckets));
		if (!row->buckets)
			return;
		if (pt->bucket_counts)
			memcpy(row->buckets, pt->bucket_counts, nb * sizeof(*row->buckets));
		else
			memset(row->buckets, 0, nb * sizeof(*row->buckets));
	}
	c->nrows++;
	c->err = 0;
}

static void number_value(NumberDataPoint *dp, double v)
{
	/* Whole numbers (request counts, thread counts) go as ints, as an SDK's Int64 instrument
	 * would send them; 0x1p63 itself does not fit. */
	if (isfinite(v) && v == trunc(v) && fabs(v) < 0x1p63) {
		dp->value_case = AS_INT;
		dp->as_int = (int64_t)v;
	} else {
		dp->value_case = AS_DOUBLE;
		dp->as_double = v;
	}
}

/* The Metric for rows[0..n), all of one family. */
static Metric *metric_new(struct arena *a, const struct mrow *const *rows, size_t n, uint64_t now)
{
	const struct mfamily *f = rows[0]->fam;
	Metric *m = arena_alloc(a, sizeof(*m));
	NumberDataPoint **ndps = NULL, *ndp;
	HistogramDataPoint **hdps, *hdp;
	Histogram *h;
	Gauge *g;
	Sum *s;
	size_t i;

	if (!m)
		return NULL;
	*m = metric_init;
	m->name = f->name;
	m->description = f->help;
	m->unit = f->unit;
	if (f->type == METRIC_HISTOGRAM) {
		h = arena_alloc(a, sizeof(*h));
		hdps = arena_array(a, n, sizeof(*hdps));
		hdp = arena_array(a, n, sizeof(*hdp));
		if (!h || !hdps || !hdp)
			return NULL;
		*h = histogram_init;
		h->aggregation_temporality = CUMULATIVE;
		h->n_data_points = n;
		h->data_points = hdps;
		for (i = 0; i < n; i++) {
			hdp[i] = hdp_init;
			hdp[i].n_attributes = rows[i]->nattrs;
			hdp[i].attributes = rows[i]->attrs;
			hdp[i].start_time_unix_nano = rows[i]->start;
			hdp[i].time_unix_nano = now;
			hdp[i].count = rows[i]->count;
			hdp[i].sum = rows[i]->sum;
			if (rows[i]->sum == 0) {
				hdp[i].base.n_unknown_fields = 1;
				hdp[i].base.unknown_fields = &zero_sum_field;
			}
			hdp[i].n_bucket_counts = f->nbounds + 1;
			hdp[i].bucket_counts = rows[i]->buckets;
			hdp[i].n_explicit_bounds = f->nbounds;
			hdp[i].explicit_bounds = f->bounds;
			hdps[i] = &hdp[i];
		}
		m->data_case = OPENTELEMETRY__PROTO__METRICS__V1__METRIC__DATA_HISTOGRAM;
		m->histogram = h;
		return m;
	}

	ndps = arena_array(a, n, sizeof(*ndps));
	ndp = arena_array(a, n, sizeof(*ndp));
	if (!ndps || !ndp)
		return NULL;
	for (i = 0; i < n; i++) {
		ndp[i] = ndp_init;
		ndp[i].n_attributes = rows[i]->nattrs;
		ndp[i].attributes = rows[i]->attrs;
		ndp[i].start_time_unix_nano = rows[i]->start;
		ndp[i].time_unix_nano = now;
		number_value(&ndp[i], rows[i]->value);
		ndps[i] = &ndp[i];
	}
	if (f->type == METRIC_COUNTER) {
		s = arena_alloc(a, sizeof(*s));
		if (!s)
			return NULL;
		*s = sum_init;
		s->aggregation_temporality = CUMULATIVE;
		s->is_monotonic = 1;
		s->n_data_points = n;
		s->data_points = ndps;
		m->data_case = OPENTELEMETRY__PROTO__METRICS__V1__METRIC__DATA_SUM;
		m->sum = s;
	} else {
		g = arena_alloc(a, sizeof(*g));
		if (!g)
			return NULL;
		*g = gauge_init;
		g->n_data_points = n;
		g->data_points = ndps;
		m->data_case = OPENTELEMETRY__PROTO__METRICS__V1__METRIC__DATA_GAUGE;
		m->gauge = g;
	}
	return m;
}

static ResourceMetrics *service_metrics(struct arena *a, const char *svc,
					const struct mrow *const *rows, size_t n,
					const struct common_attrs *c, InstrumentationScope *scope,
					uint64_t now)
{
	ResourceMetrics *rm = arena_alloc(a, sizeof(*rm));
	ScopeMetrics *sm = arena_alloc(a, sizeof(*sm));
	ScopeMetrics **smp = arena_alloc(a, sizeof(*smp));
	const struct rattr own = rattr_str(SC_SERVICE_NAME, svc);
	size_t i, first, nmetrics = 0;

	if (!rm || !sm || !smp)
		return NULL;
	*rm = rmetrics_init;
	*sm = smetrics_init;
	rm->resource = resource_new(a, &own, 1, c);
	if (!rm->resource)
		return NULL;
	rm->n_scope_metrics = 1;
	rm->scope_metrics = smp;
	smp[0] = sm;
	sm->scope = scope;
	for (i = 0; i < n; i++) {
		if (!i || rows[i]->fam != rows[i - 1]->fam)
			nmetrics++;
	}
	sm->metrics = arena_array(a, nmetrics, sizeof(*sm->metrics));
	if (!sm->metrics)
		return NULL;
	for (i = 0; i < n;) {
		first = i;
		while (i < n && rows[i]->fam == rows[first]->fam)
			i++;
		sm->metrics[sm->n_metrics] = metric_new(a, rows + first, i - first, now);
		if (!sm->metrics[sm->n_metrics++])
			return NULL;
	}
	return rm;
}

int otlp_encode_metrics(struct metrics *m, const struct otlp_resource_cfg *cfg,
			uint64_t now_unix_ns, uint8_t **out, size_t *outlen)
{
	MetricsRequest req =
		OPENTELEMETRY__PROTO__COLLECTOR__METRICS__V1__EXPORT_METRICS_SERVICE_REQUEST__INIT;
	const struct mrow **order = NULL;
	InstrumentationScope *scope;
	struct common_attrs common;
	size_t i, *start = NULL;
	struct mctx c;
	struct arena a;
	int err;

	if (!m || !out || !outlen)
		return -EINVAL;
	arena_init(&a, 0);
	memset(&c, 0, sizeof(c));
	c.a = &a;
	err = -ENOMEM;
	if (common_attrs_build(&a, cfg, &common) || !(scope = scope_new(&a, &common)))
		goto cleanup;
	err = metrics_visit(m, collect_series, &c);
	if (!err)
		err = c.err;
	if (err)
		goto cleanup;
	err = -ENOMEM;
	if (!c.nrows)
		goto done;

	/* Rows by service, in visit order within each: a counting sort. */
	order = malloc(c.nrows * sizeof(*order));
	start = calloc(c.nsvcs + 1, sizeof(*start));
	req.resource_metrics = arena_array(&a, c.nsvcs, sizeof(*req.resource_metrics));
	if (!order || !start || !req.resource_metrics)
		goto cleanup;
	for (i = 0; i < c.nrows; i++)
		start[c.rows[i].svc + 1]++;
	for (i = 0; i < c.nsvcs; i++)
		start[i + 1] += start[i];
	for (i = 0; i < c.nrows; i++)
		order[start[c.rows[i].svc]++] = &c.rows[i];
	/* start[s] is now where service s ends, and service s begins where s - 1 ends. */
	for (i = 0; i < c.nsvcs; i++) {
		size_t from = i ? start[i - 1] : 0;

		req.resource_metrics[i] = service_metrics(
			&a, c.svcs[i], order + from, start[i] - from, &common, scope, now_unix_ns);
		if (!req.resource_metrics[i])
			goto cleanup;
	}
	req.n_resource_metrics = c.nsvcs;
done:
	err = pack(&req.base, out, outlen);
cleanup:
	free(order);
	free(start);
	free(c.rows);
	free(c.svcs);
	arena_free(&a);
	return err;
}
