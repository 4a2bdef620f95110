// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
#include "pipeline/red.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "pipeline/metrics.h"
#include "pipeline/semconv.h"
#include "util/log.h"
#include "util/str.h"

#define ARRAY_LEN(a) (sizeof(a) / sizeof((a)[0]))
#define MAX_POOLS 64

/* semconv's advice for db.client.operation.duration: 1 ms ... 10 s */
static const double db_bounds[] = { 0.001, 0.005, 0.01, 0.05, 0.1, 0.5, 1, 5, 10 };
/* ... and for http.{server,client}.request.duration */
static const double http_bounds[] = { 0.005, 0.01, 0.025, 0.05, 0.075, 0.1, 0.25,
				      0.5,   0.75, 1,	  2.5,	5,     7.5, 10 };

/* semconv's advice for gen_ai.client.token.usage and gen_ai.client.operation.duration */
static const double token_bounds[] = { 1,     4,     16,     64,      256,     1024,	 4096,
				       16384, 65536, 262144, 1048576, 4194304, 16777216, 67108864 };
static const double genai_bounds[] = { 0.01, 0.02, 0.04, 0.08,	0.16,  0.32,  0.64,
				       1.28, 2.56, 5.12, 10.24, 20.48, 40.96, 81.92 };

struct db_pool {
	char service[128];
	char system[32];
	char pool[96];
	double used, idle;
};

struct red {
	struct metrics *m;
	int fam_server, fam_client, fam_db, fam_db_errors, fam_db_conns, fam_rpc_server,
		fam_rpc_client, fam_genai_tokens, fam_genai_duration;
	struct db_pool pools[MAX_POOLS];
	size_t npools;
};

struct red *red_new(struct metrics *m)
{
	struct red *r = calloc(1, sizeof(*r));
	const struct metric_family_def defs[] = {
		/* One instrument, two names: the Prometheus rendering and the semconv one */
		{ "http_server_request_duration_seconds", "Duration of HTTP server requests.",
		  METRIC_HISTOGRAM, http_bounds, ARRAY_LEN(http_bounds),
		  SC_HTTP_SERVER_REQUEST_DURATION, "s" },
		{ "http_client_request_duration_seconds", "Duration of HTTP client requests.",
		  METRIC_HISTOGRAM, http_bounds, ARRAY_LEN(http_bounds),
		  SC_HTTP_CLIENT_REQUEST_DURATION, "s" },
		{ "db_client_operation_duration_seconds", "Duration of database client operations.",
		  METRIC_HISTOGRAM, db_bounds, ARRAY_LEN(db_bounds),
		  SC_DB_CLIENT_OPERATION_DURATION, "s" },
		{ "db_client_operation_errors_total", "Database client operations that failed.",
		  METRIC_COUNTER, NULL, 0, SC_DB_CLIENT_OPERATION_ERRORS, "{operation}" },
		{ "db_client_connection_count",
		  "Database client connections, by state: used (a query in flight or a transaction "
		  "open) or idle.",
		  METRIC_GAUGE, NULL, 0, SC_DB_CLIENT_CONNECTION_COUNT, "{connection}" },
		/* semconv's rpc.{server,client}.duration, in seconds as the HTTP ones (its
		 * advised bounds are these, in ms) */
		{ "rpc_server_duration_seconds", "Duration of RPCs served (gRPC).",
		  METRIC_HISTOGRAM, http_bounds, ARRAY_LEN(http_bounds), SC_RPC_SERVER_DURATION,
		  "s" },
		{ "rpc_client_duration_seconds", "Duration of RPCs made (gRPC).", METRIC_HISTOGRAM,
		  http_bounds, ARRAY_LEN(http_bounds), SC_RPC_CLIENT_DURATION, "s" },
		{ "gen_ai_client_token_usage", "Tokens used by LLM API calls, by type.",
		  METRIC_HISTOGRAM, token_bounds, ARRAY_LEN(token_bounds),
		  SC_GEN_AI_CLIENT_TOKEN_USAGE, "{token}" },
		{ "gen_ai_client_operation_duration_seconds", "Duration of LLM API calls.",
		  METRIC_HISTOGRAM, genai_bounds, ARRAY_LEN(genai_bounds),
		  SC_GEN_AI_CLIENT_OPERATION_DURATION, "s" },
	};
	int *ids[ARRAY_LEN(defs)];
	size_t i;

	if (!r)
		return NULL;
	r->m = m;
	ids[0] = &r->fam_server;
	ids[1] = &r->fam_client;
	ids[2] = &r->fam_db;
	ids[3] = &r->fam_db_errors;
	ids[4] = &r->fam_db_conns;
	ids[5] = &r->fam_rpc_server;
	ids[6] = &r->fam_rpc_client;
	ids[7] = &r->fam_genai_tokens;
	ids[8] = &r->fam_genai_duration;
	for (i = 0; i < ARRAY_LEN(defs); i++) {
		*ids[i] = metrics_register(m, &defs[i]);
		if (*ids[i] < 0) {
			log_err("cannot register the metric %s", defs[i].name);
			free(r);
			return NULL;
		}
	}
	return r;
}

void red_free(struct red *r)
{
	free(r);
}

/* The resource a series belongs to: the process's service.name (unknown_service when the
 * process is not known) and its container. */
static const char *service_of(const struct proc_info *p)
{
	return p && p->service_name[0] ? p->service_name : "unknown_service";
}

size_t red_resource_labels(const struct proc_info *p, struct metric_label *out)
{
	struct k8s_attr k8s[K8S_ATTRS_MAX];
	size_t n = 0, i, nk;

	if (!p)
		return 0;
	out[n++] = (struct metric_label){ SC_CONTAINER_ID, p->container_id, false };
	nk = k8s_pod_attrs(&p->k8s, false, k8s);
	for (i = 0; i < nk; i++)
		out[n++] = (struct metric_label){ k8s[i].key, k8s[i].value, false };
	return n;
}

/* The integer attribute key of s as a label value in buf ("" when s lacks it). */
static const char *int_label(const struct span *s, const char *key, char *buf, size_t len)
{
	buf[0] = '\0';
	if (span_get(s, key))
		str_int(buf, len, span_get_int(s, key, 0));
	return buf;
}

static void record_db(struct red *r, const struct span *s, const struct proc_info *p, double secs)
{
	struct metric_label l[5 + RED_RESOURCE_LABELS_MAX] = {
		{ SC_DB_COLLECTION_NAME, span_get_str(s, SC_DB_COLLECTION_NAME), false },
		{ SC_DB_OPERATION_NAME, span_get_str(s, SC_DB_OPERATION_NAME), false },
		{ SC_DB_SYSTEM_NAME, span_get_str(s, SC_DB_SYSTEM_NAME), false },
		{ SC_ERROR_TYPE, span_get_str(s, SC_ERROR_TYPE), false },
		{ SC_SERVICE_NAME, service_of(p), false },
	};
	size_t n = 5 + red_resource_labels(p, l + 5);

	metrics_histogram_observe(r->m, r->fam_db, l, n, secs);
	if (s->error)
		metrics_counter_add(r->m, r->fam_db_errors, l, n, 1);
}

static void record_http(struct red *r, const struct span *s, const struct proc_info *p, double secs)
{
	char status[16] = "", port[16] = "";
	int64_t code = span_get_int(s, SC_HTTP_RESPONSE_STATUS_CODE, 0);
	const char *method = span_get_str(s, SC_HTTP_REQUEST_METHOD);

	if (code)
		str_int(status, sizeof(status), code);
	if (s->kind == SPAN_KIND_SERVER) {
		/* OpenTelemetry attribute keys: /metrics renders them with '_' for '.' */
		struct metric_label l[5 + RED_RESOURCE_LABELS_MAX] = {
			{ SC_HTTP_REQUEST_METHOD, method, false },
			{ SC_HTTP_RESPONSE_STATUS_CODE, status, true },
			{ SC_HTTP_ROUTE, span_get_str(s, SC_HTTP_ROUTE), false },
			{ SC_SERVICE_NAME, service_of(p), false },
			{ SC_URL_SCHEME, span_get_str(s, SC_URL_SCHEME), false },
		};
		size_t n = 5 + red_resource_labels(p, l + 5);

		metrics_histogram_observe(r->m, r->fam_server, l, n, secs);
	} else {
		struct metric_label l[5 + RED_RESOURCE_LABELS_MAX] = {
			{ SC_HTTP_REQUEST_METHOD, method, false },
			{ SC_HTTP_RESPONSE_STATUS_CODE, status, true },
			{ SC_SERVER_ADDRESS, span_get_str(s, SC_SERVER_ADDRESS), false },
			{ SC_SERVER_PORT, port, true },
			{ SC_SERVICE_NAME, service_of(p), false },
		};
		size_t n = 5 + red_resource_labels(p, l + 5);

		int_label(s, SC_SERVER_PORT, port, sizeof(port));
		metrics_histogram_observe(r->m, r->fam_client, l, n, secs);
	}
}

/* A gRPC call: rpc.* series only, as gRPC's own instrumentation gives (its HTTP/2 request
 * is no HTTP request of the application's). */
static void record_rpc(struct red *r, const struct span *s, const struct proc_info *p, double secs)
{
	char code[16] = "", port[16] = "";
	struct metric_label l[7 + RED_RESOURCE_LABELS_MAX] = {
		{ SC_RPC_GRPC_STATUS_CODE, code, true },
		{ SC_RPC_METHOD, span_get_str(s, SC_RPC_METHOD), false },
		{ SC_RPC_SERVICE, span_get_str(s, SC_RPC_SERVICE), false },
		{ SC_RPC_SYSTEM, span_get_str(s, SC_RPC_SYSTEM), false },
		{ SC_SERVICE_NAME, service_of(p), false },
	};
	size_t n = 5;

	int_label(s, SC_RPC_GRPC_STATUS_CODE, code, sizeof(code));
	if (s->kind != SPAN_KIND_SERVER) {
		int_label(s, SC_SERVER_PORT, port, sizeof(port));
		l[n++] = (struct metric_label){ SC_SERVER_ADDRESS,
						span_get_str(s, SC_SERVER_ADDRESS), false };
		l[n++] = (struct metric_label){ SC_SERVER_PORT, port, true };
	}
	n += red_resource_labels(p, l + n);
	metrics_histogram_observe(
		r->m, s->kind == SPAN_KIND_SERVER ? r->fam_rpc_server : r->fam_rpc_client, l, n,
		secs);
}

/* An LLM API call (its HTTP request is counted as one too): its duration, and its tokens
 * by type. */
static void record_genai(struct red *r, const struct span *s, const struct proc_info *p,
			 double secs)
{
	char port[16] = "";
	struct metric_label l[9 + RED_RESOURCE_LABELS_MAX] = {
		{ SC_ERROR_TYPE, span_get_str(s, SC_ERROR_TYPE), false },
		{ SC_GEN_AI_OPERATION_NAME, span_get_str(s, SC_GEN_AI_OPERATION_NAME), false },
		{ SC_GEN_AI_REQUEST_MODEL, span_get_str(s, SC_GEN_AI_REQUEST_MODEL), false },
		{ SC_GEN_AI_RESPONSE_MODEL, span_get_str(s, SC_GEN_AI_RESPONSE_MODEL), false },
		{ SC_GEN_AI_SYSTEM, span_get_str(s, SC_GEN_AI_SYSTEM), false },
		{ SC_SERVER_ADDRESS, span_get_str(s, SC_SERVER_ADDRESS), false },
		{ SC_SERVER_PORT, port, true },
		{ SC_SERVICE_NAME, service_of(p), false },
	};
	size_t n = 8, nr;

	int_label(s, SC_SERVER_PORT, port, sizeof(port));
	nr = red_resource_labels(p, l + n);
	metrics_histogram_observe(r->m, r->fam_genai_duration, l, n + nr, secs);
	/* the token counts: no error.type, a gen_ai.token.type instead */
	l[0] = (struct metric_label){ SC_GEN_AI_TOKEN_TYPE, "input", false };
	metrics_histogram_observe(r->m, r->fam_genai_tokens, l, n + nr,
				  (double)span_get_int(s, SC_GEN_AI_USAGE_INPUT_TOKENS, 0));
	l[0].value = "output";
	metrics_histogram_observe(r->m, r->fam_genai_tokens, l, n + nr,
				  (double)span_get_int(s, SC_GEN_AI_USAGE_OUTPUT_TOKENS, 0));
}

void red_record(struct red *r, const struct span *s, const struct proc_info *p)
{
	double secs = (double)(s->end_ns - s->start_ns) / 1e9;

	if (!r)
		return;
	if (span_get(s, SC_DB_SYSTEM_NAME))
		record_db(r, s, p, secs);
	else if (span_get(s, SC_RPC_SYSTEM))
		record_rpc(r, s, p, secs);
	else
		record_http(r, s, p, secs);
	if (s->kind == SPAN_KIND_CLIENT && span_get(s, SC_GEN_AI_SYSTEM))
		record_genai(r, s, p, secs);
}

void red_pools_begin(struct red *r)
{
	size_t i;

	for (i = 0; r && i < r->npools; i++)
		r->pools[i].used = r->pools[i].idle = 0;
}

void red_pool_count(struct red *r, const char *service, const char *system, const char *pool,
		    bool used)
{
	struct db_pool *dp = NULL;
	size_t i;

	if (!r)
		return;
	for (i = 0; i < r->npools && !dp; i++)
		if (!strcmp(r->pools[i].service, service) && !strcmp(r->pools[i].system, system) &&
		    !strcmp(r->pools[i].pool, pool))
			dp = &r->pools[i];
	if (!dp && r->npools < MAX_POOLS) {
		dp = &r->pools[r->npools++];
		snprintf(dp->service, sizeof(dp->service), "%s", service);
		snprintf(dp->system, sizeof(dp->system), "%s", system);
		snprintf(dp->pool, sizeof(dp->pool), "%s", pool);
	}
	if (dp)
		*(used ? &dp->used : &dp->idle) += 1;
}

void red_pools_end(struct red *r)
{
	size_t i;

	for (i = 0; r && i < r->npools; i++) {
		struct metric_label l[] = {
			{ SC_DB_CLIENT_CONNECTION_POOL_NAME, r->pools[i].pool, false },
			{ SC_DB_CLIENT_CONNECTION_STATE, "used", false },
			{ SC_DB_SYSTEM_NAME, r->pools[i].system, false },
			{ SC_SERVICE_NAME, r->pools[i].service, false },
		};

		metrics_gauge_set(r->m, r->fam_db_conns, l, ARRAY_LEN(l), r->pools[i].used);
		l[1].value = "idle";
		metrics_gauge_set(r->m, r->fam_db_conns, l, ARRAY_LEN(l), r->pools[i].idle);
	}
}
