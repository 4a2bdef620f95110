// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/* Spans into RED metrics, checked on the Prometheus exposition. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include "unit.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "exporters/prometheus_text.h"
#include "pipeline/metrics.h"
#include "pipeline/red.h"
#include "pipeline/semconv.h"
#include "pipeline/span.h"
#include "expo.h"

#define MS 1000000ull

/* The label sets as /metrics renders them: sorted, '.' as '_' */
#define SERVER_LABELS                                                    \
	"http_request_method=\"GET\",http_response_status_code=\"200\"," \
	"http_route=\"/users/{id}\",service_name=\"svc\",url_scheme=\"http\""
#define CLIENT_LABELS                                                     \
	"http_request_method=\"POST\",http_response_status_code=\"503\"," \
	"server_address=\"api.example\",server_port=\"8080\",service_name=\"svc\""
#define DB_LABELS                                                    \
	"db_collection_name=\"users\",db_operation_name=\"SELECT\"," \
	"db_system_name=\"postgresql\",service_name=\"svc\""
#define DB_ERR_LABELS                                                \
	"db_collection_name=\"users\",db_operation_name=\"SELECT\"," \
	"db_system_name=\"postgresql\",error_type=\"42P01\",service_name=\"svc\""
#define POOL_LABELS(state)                                                        \
	"db_client_connection_pool_name=\"127.0.0.1:5432\","                      \
	"db_client_connection_state=\"" state "\",db_system_name=\"postgresql\"," \
	"service_name=\"svc\""

static struct metrics *m;
static struct red *r;

static int setup(void **state)
{
	(void)state;
	m = metrics_new(100);
	if (!m)
		return -1;
	r = red_new(m);
	return r ? 0 : -1;
}

static int teardown(void **state)
{
	(void)state;
	red_free(r);
	metrics_free(m);
	r = NULL;
	m = NULL;
	return 0;
}

static void server_span(struct span *s, uint64_t dur_ns)
{
	span_init(s, SPAN_KIND_SERVER);
	s->pid = s->tid = 4242;
	s->start_ns = 1000 * MS;
	s->end_ns = s->start_ns + dur_ns;
	span_set_str(s, SC_HTTP_REQUEST_METHOD, "GET");
	span_set_str(s, SC_URL_SCHEME, "http");
	span_set_str(s, SC_HTTP_ROUTE, "/users/{id}");
	span_set_int(s, SC_HTTP_RESPONSE_STATUS_CODE, 200);
	/* attributes that are not metric labels */
	span_set_str(s, SC_URL_PATH, "/users/42");
	span_set_str(s, SC_CLIENT_ADDRESS, "127.0.0.1");
	span_set_int(s, SC_CLIENT_PORT, 51234);
}

static void client_span(struct span *s, uint64_t dur_ns)
{
	span_init(s, SPAN_KIND_CLIENT);
	s->start_ns = 5 * MS;
	s->end_ns = s->start_ns + dur_ns;
	span_set_str(s, SC_HTTP_REQUEST_METHOD, "POST");
	span_set_str(s, SC_SERVER_ADDRESS, "api.example");
	span_set_int(s, SC_SERVER_PORT, 8080);
	span_set_int(s, SC_HTTP_RESPONSE_STATUS_CODE, 503);
	span_set_str(s, SC_URL_FULL, "http://api.example:8080/pay");
}

static void db_span(struct span *s, uint64_t dur_ns)
{
	span_init(s, SPAN_KIND_CLIENT);
	s->start_ns = 7 * MS;
	s->end_ns = s->start_ns + dur_ns;
	span_set_str(s, SC_DB_SYSTEM_NAME, "postgresql");
	span_set_str(s, SC_DB_OPERATION_NAME, "SELECT");
	span_set_str(s, SC_DB_COLLECTION_NAME, "users");
	span_set_str(s, SC_DB_QUERY_TEXT, "SELECT * FROM users WHERE id = $1");
	span_set_str(s, SC_SERVER_ADDRESS, "127.0.0.1");
	span_set_int(s, SC_SERVER_PORT, 5432);
}

UNIT_TEST_FIXTURE(test_server_span, setup, teardown)
{
	struct span s;
	char *got;

	(void)state;
	server_span(&s, 200 * MS);
	red_record(r, &s, &(const struct proc_info){ .service_name = "svc" });
	got = render(m);
	assert_line(got, "# TYPE http_server_request_duration_seconds histogram");
	assert_line(got, "http_server_request_duration_seconds_count{" SERVER_LABELS "} 1");
	assert_line(got, "http_server_request_duration_seconds_sum{" SERVER_LABELS "} 0.2");
	/* 0.2 s: above 0.1, in 0.25 and every bucket after it */
	assert_line(got,
		    "http_server_request_duration_seconds_bucket{" SERVER_LABELS ",le=\"0.1\"} 0");
	assert_line(got,
		    "http_server_request_duration_seconds_bucket{" SERVER_LABELS ",le=\"0.25\"} 1");
	assert_line(got,
		    "http_server_request_duration_seconds_bucket{" SERVER_LABELS ",le=\"10\"} 1");
	assert_line(got,
		    "http_server_request_duration_seconds_bucket{" SERVER_LABELS ",le=\"+Inf\"} 1");
	/* nothing else was recorded */
	assert_no(got, "http_client_request_duration_seconds");
	assert_no(got, "db_client_operation_duration_seconds");
	assert_no(got, "db_client_operation_errors_total");
	assert_no(got, "db_client_connection_count");
	/* span attributes that are not labels stay out of the series */
	assert_no(got, "url_path");
	assert_no(got, "client_address");
	free(got);

	/* the same label set: one series, counted twice */
	server_span(&s, 3 * MS);
	red_record(r, &s, &(const struct proc_info){ .service_name = "svc" });
	got = render(m);
	assert_line(got, "http_server_request_duration_seconds_count{" SERVER_LABELS "} 2");
	assert_line(got, "http_server_request_duration_seconds_sum{" SERVER_LABELS "} 0.203");
	assert_line(got, "http_server_request_duration_seconds_bucket{" SERVER_LABELS
			 ",le=\"0.005\"} 1");
	assert_line(got,
		    "http_server_request_duration_seconds_bucket{" SERVER_LABELS ",le=\"0.1\"} 1");
	assert_line(got,
		    "http_server_request_duration_seconds_bucket{" SERVER_LABELS ",le=\"0.25\"} 2");
	free(got);
}

UNIT_TEST_FIXTURE(test_bucket_edges, setup, teardown)
{
	struct span s;
	char *got;

	(void)state;
	/* upper bounds are inclusive (le): exactly 0.25 s is in le="0.25" */
	server_span(&s, 250 * MS);
	red_record(r, &s, &(const struct proc_info){ .service_name = "svc" });
	got = render(m);
	assert_line(got,
		    "http_server_request_duration_seconds_bucket{" SERVER_LABELS ",le=\"0.1\"} 0");
	assert_line(got,
		    "http_server_request_duration_seconds_bucket{" SERVER_LABELS ",le=\"0.25\"} 1");
	free(got);
	/* one nanosecond more is not */
	server_span(&s, 250 * MS + 1);
	red_record(r, &s, &(const struct proc_info){ .service_name = "svc" });
	/* past the last bound: only +Inf */
	server_span(&s, 12000 * MS);
	red_record(r, &s, &(const struct proc_info){ .service_name = "svc" });
	got = render(m);
	assert_line(got,
		    "http_server_request_duration_seconds_bucket{" SERVER_LABELS ",le=\"0.25\"} 1");
	assert_line(got,
		    "http_server_request_duration_seconds_bucket{" SERVER_LABELS ",le=\"0.5\"} 2");
	assert_line(got,
		    "http_server_request_duration_seconds_bucket{" SERVER_LABELS ",le=\"10\"} 2");
	assert_line(got,
		    "http_server_request_duration_seconds_bucket{" SERVER_LABELS ",le=\"+Inf\"} 3");
	assert_line(got, "http_server_request_duration_seconds_count{" SERVER_LABELS "} 3");
	free(got);
}

UNIT_TEST_FIXTURE(test_server_labels, setup, teardown)
{
	struct span s;
	char *got;

	(void)state;
	/* no response (status 0): the status label is left out, not "0" */
	span_init(&s, SPAN_KIND_SERVER);
	s.start_ns = 0;
	s.end_ns = 1 * MS;
	span_set_str(&s, SC_HTTP_REQUEST_METHOD, "PUT");
	span_set_str(&s, SC_HTTP_ROUTE, "/");
	span_set_str(&s, SC_URL_SCHEME, "https");
	red_record(r, &s, &(const struct proc_info){ .service_name = "other-svc" });
	got = render(m);
	assert_line(got, "http_server_request_duration_seconds_count{http_request_method=\"PUT\","
			 "http_route=\"/\",service_name=\"other-svc\",url_scheme=\"https\"} 1");
	assert_no(got, "http_response_status_code=\"0\"");
	free(got);
}

UNIT_TEST_FIXTURE(test_client_span, setup, teardown)
{
	struct span s;
	char *got;

	(void)state;
	client_span(&s, 5 * MS);
	red_record(r, &s, &(const struct proc_info){ .service_name = "svc" });
	got = render(m);
	assert_line(got, "# TYPE http_client_request_duration_seconds histogram");
	assert_line(got, "http_client_request_duration_seconds_count{" CLIENT_LABELS "} 1");
	assert_line(got, "http_client_request_duration_seconds_sum{" CLIENT_LABELS "} 0.005");
	assert_line(got, "http_client_request_duration_seconds_bucket{" CLIENT_LABELS
			 ",le=\"0.005\"} 1");
	assert_no(got, "http_server_request_duration_seconds");
	assert_no(got, "url_full");
	free(got);

	/* without server.port the label is left out (not "0") */
	span_init(&s, SPAN_KIND_CLIENT);
	s.start_ns = 0;
	s.end_ns = 40 * MS;
	span_set_str(&s, SC_HTTP_REQUEST_METHOD, "GET");
	span_set_str(&s, SC_SERVER_ADDRESS, "unix");
	span_set_int(&s, SC_HTTP_RESPONSE_STATUS_CODE, 204);
	red_record(r, &s, &(const struct proc_info){ .service_name = "svc" });
	got = render(m);
	assert_line(got, "http_client_request_duration_seconds_count{http_request_method=\"GET\","
			 "http_response_status_code=\"204\",server_address=\"unix\","
			 "service_name=\"svc\"} 1");
	assert_line(got, "http_client_request_duration_seconds_bucket{http_request_method=\"GET\","
			 "http_response_status_code=\"204\",server_address=\"unix\","
			 "service_name=\"svc\",le=\"0.025\"} 0");
	assert_line(got, "http_client_request_duration_seconds_bucket{http_request_method=\"GET\","
			 "http_response_status_code=\"204\",server_address=\"unix\","
			 "service_name=\"svc\",le=\"0.05\"} 1");
	free(got);
}

/* A gRPC call as the HTTP/2 tracker makes it: rpc.* series only, the client's with the
 * server's address; a status is a label even when 0 (OK). */
UNIT_TEST_FIXTURE(test_rpc_spans, setup, teardown)
{
	struct span s;
	char *got;

	(void)state;
	span_init(&s, SPAN_KIND_SERVER);
	s.start_ns = 0;
	s.end_ns = 7 * MS;
	span_set_str(&s, SC_HTTP_REQUEST_METHOD, "POST");
	span_set_int(&s, SC_HTTP_RESPONSE_STATUS_CODE, 200);
	span_set_str(&s, SC_RPC_SYSTEM, "grpc");
	span_set_str(&s, SC_RPC_SERVICE, "pkg.Echo");
	span_set_str(&s, SC_RPC_METHOD, "Say");
	span_set_int(&s, SC_RPC_GRPC_STATUS_CODE, 0);
	red_record(r, &s, &(const struct proc_info){ .service_name = "svc" });
	s.kind = SPAN_KIND_CLIENT;
	span_set_str(&s, SC_SERVER_ADDRESS, "127.0.0.1");
	span_set_int(&s, SC_SERVER_PORT, 50051);
	span_set_int(&s, SC_RPC_GRPC_STATUS_CODE, 5);
	red_record(r, &s, &(const struct proc_info){ .service_name = "svc" });
	got = render(m);
	assert_line(got, "# TYPE rpc_server_duration_seconds histogram");
	assert_line(got, "rpc_server_duration_seconds_count{rpc_grpc_status_code=\"0\","
			 "rpc_method=\"Say\",rpc_service=\"pkg.Echo\",rpc_system=\"grpc\","
			 "service_name=\"svc\"} 1");
	assert_line(got, "rpc_server_duration_seconds_bucket{rpc_grpc_status_code=\"0\","
			 "rpc_method=\"Say\",rpc_service=\"pkg.Echo\",rpc_system=\"grpc\","
			 "service_name=\"svc\",le=\"0.005\"} 0");
	assert_line(got, "rpc_client_duration_seconds_count{rpc_grpc_status_code=\"5\","
			 "rpc_method=\"Say\",rpc_service=\"pkg.Echo\",rpc_system=\"grpc\","
			 "server_address=\"127.0.0.1\",server_port=\"50051\","
			 "service_name=\"svc\"} 1");
	assert_no(got, "http_server_request_duration_seconds_count");
	assert_no(got, "http_client_request_duration_seconds_count");
	free(got);
}

UNIT_TEST_FIXTURE(test_db_span, setup, teardown)
{
	struct span s;
	char *got;

	(void)state;
	db_span(&s, 3 * MS);
	red_record(r, &s, &(const struct proc_info){ .service_name = "svc" });
	got = render(m);
	assert_line(got, "# TYPE db_client_operation_duration_seconds histogram");
	assert_line(got, "db_client_operation_duration_seconds_count{" DB_LABELS "} 1");
	assert_line(got, "db_client_operation_duration_seconds_sum{" DB_LABELS "} 0.003");
	/* db buckets are not the http ones: 1 ms, 5 ms, ... */
	assert_line(got,
		    "db_client_operation_duration_seconds_bucket{" DB_LABELS ",le=\"0.001\"} 0");
	assert_line(got,
		    "db_client_operation_duration_seconds_bucket{" DB_LABELS ",le=\"0.005\"} 1");
	assert_line(got, "db_client_operation_duration_seconds_bucket{" DB_LABELS ",le=\"10\"} 1");
	/* a db span is not also an HTTP client request, and a success is no error */
	assert_no(got, "http_client_request_duration_seconds");
	assert_no(got, "db_client_operation_errors_total");
	assert_no(got, "db_query_text");
	assert_no(got, "server_address");
	free(got);
}

UNIT_TEST_FIXTURE(test_db_error, setup, teardown)
{
	struct span s;
	char *got;

	(void)state;
	db_span(&s, 60 * MS);
	s.error = true;
	span_set_str(&s, SC_ERROR_TYPE, "42P01");
	red_record(r, &s, &(const struct proc_info){ .service_name = "svc" });
	red_record(r, &s, &(const struct proc_info){ .service_name = "svc" });
	db_span(&s, 1 * MS);
	red_record(r, &s, &(const struct proc_info){ .service_name = "svc" });
	got = render(m);
	assert_line(got, "# TYPE db_client_operation_errors_total counter");
	assert_line(got, "db_client_operation_errors_total{" DB_ERR_LABELS "} 2");
	assert_line(got, "db_client_operation_duration_seconds_count{" DB_ERR_LABELS "} 2");
	assert_line(got,
		    "db_client_operation_duration_seconds_bucket{" DB_ERR_LABELS ",le=\"0.05\"} 0");
	assert_line(got,
		    "db_client_operation_duration_seconds_bucket{" DB_ERR_LABELS ",le=\"0.1\"} 2");
	/* the success is its own series, with no error count */
	assert_line(got, "db_client_operation_duration_seconds_count{" DB_LABELS "} 1");
	assert_line(got,
		    "db_client_operation_duration_seconds_bucket{" DB_LABELS ",le=\"0.001\"} 1");
	assert_no(got, "db_client_operation_errors_total{" DB_LABELS "}");
	free(got);
}

/* The labels of the db series, as metrics_visit() gives them (the OTLP exporter's view). */
static struct {
	char key[8][64];
	bool is_int[8];
	size_t n;
} db_seen;

static void db_visit(void *ctx, const struct metric_family_def *def,
		     const struct metric_label *labels, size_t nlabels,
		     const struct metric_point *pt)
{
	size_t i;

	(void)ctx;
	(void)pt;
	if (strcmp(def->name, "db_client_operation_duration_seconds"))
		return;
	for (i = 0; i < nlabels && db_seen.n < 8; i++, db_seen.n++) {
		snprintf(db_seen.key[db_seen.n], sizeof(db_seen.key[0]), "%s", labels[i].key);
		db_seen.is_int[db_seen.n] = labels[i].is_int;
	}
}

/* error.type (a SQLSTATE, an HTTP status, a gRPC code) and the collection and operation are
 * strings over OTLP, however numeric they look: only ports and status codes are ints. */
UNIT_TEST_FIXTURE(test_db_labels_are_strings, setup, teardown)
{
	struct span s;
	size_t i;

	(void)state;
	db_span(&s, 60 * MS);
	s.error = true;
	span_set_str(&s, SC_ERROR_TYPE, "23505");
	span_set_str(&s, SC_DB_COLLECTION_NAME, "2024");
	span_set_str(&s, SC_DB_OPERATION_NAME, "42");
	red_record(r, &s, &(const struct proc_info){ .service_name = "svc" });
	memset(&db_seen, 0, sizeof(db_seen));
	assert_int_equal(metrics_visit(m, db_visit, NULL), 0);
	assert_int_equal(db_seen.n, 5);
	for (i = 0; i < db_seen.n; i++)
		assert_false(db_seen.is_int[i]);
}

UNIT_TEST_FIXTURE(test_pools, setup, teardown)
{
	char *got;

	(void)state;
	red_pools_begin(r);
	red_pool_count(r, "svc", "postgresql", "127.0.0.1:5432", true);
	red_pool_count(r, "svc", "postgresql", "127.0.0.1:5432", false);
	red_pool_count(r, "svc", "postgresql", "127.0.0.1:5432", true);
	red_pool_count(r, "svc", "postgresql", "unix", false);
	red_pools_end(r);
	got = render(m);
	assert_line(got, "# TYPE db_client_connection_count gauge");
	assert_line(got, "db_client_connection_count{" POOL_LABELS("used") "} 2");
	assert_line(got, "db_client_connection_count{" POOL_LABELS("idle") "} 1");
	assert_line(got, "db_client_connection_count{db_client_connection_pool_name=\"unix\","
			 "db_client_connection_state=\"idle\",db_system_name=\"postgresql\","
			 "service_name=\"svc\"} 1");
	assert_line(got, "db_client_connection_count{db_client_connection_pool_name=\"unix\","
			 "db_client_connection_state=\"used\",db_system_name=\"postgresql\","
			 "service_name=\"svc\"} 0");
	free(got);

	/* the next round counts afresh, it does not add to the last one */
	red_pools_begin(r);
	red_pool_count(r, "svc", "postgresql", "127.0.0.1:5432", false);
	red_pools_end(r);
	got = render(m);
	assert_line(got, "db_client_connection_count{" POOL_LABELS("used") "} 0");
	assert_line(got, "db_client_connection_count{" POOL_LABELS("idle") "} 1");
	free(got);

	/* every connection closed: the pools read 0 rather than vanish */
	red_pools_begin(r);
	red_pools_end(r);
	got = render(m);
	assert_line(got, "db_client_connection_count{" POOL_LABELS("used") "} 0");
	assert_line(got, "db_client_connection_count{" POOL_LABELS("idle") "} 0");
	assert_line(got, "db_client_connection_count{db_client_connection_pool_name=\"unix\","
			 "db_client_connection_state=\"idle\",db_system_name=\"postgresql\","
			 "service_name=\"svc\"} 0");
	free(got);
}

UNIT_TEST_FIXTURE(test_pools_by_service, setup, teardown)
{
	char *got;

	(void)state;
	/* the same pool seen by two services is two series */
	red_pools_begin(r);
	red_pool_count(r, "svc", "postgresql", "127.0.0.1:5432", true);
	red_pool_count(r, "billing", "postgresql", "127.0.0.1:5432", true);
	red_pool_count(r, "billing", "postgresql", "127.0.0.1:5432", true);
	red_pools_end(r);
	got = render(m);
	assert_line(got, "db_client_connection_count{" POOL_LABELS("used") "} 1");
	assert_line(got, "db_client_connection_count{db_client_connection_pool_name="
			 "\"127.0.0.1:5432\",db_client_connection_state=\"used\","
			 "db_system_name=\"postgresql\",service_name=\"billing\"} 2");
	free(got);
}

UNIT_TEST_FIXTURE(test_null_and_reuse, setup, teardown)
{
	struct metrics *m2;
	struct red *r2;
	struct span s;
	char *got;

	(void)state;
	/* a NULL red is a no-op everywhere */
	server_span(&s, 1 * MS);
	red_record(NULL, &s, NULL);
	red_pools_begin(NULL);
	red_pool_count(NULL, "svc", "postgresql", "p", true);
	red_pools_end(NULL);
	red_free(NULL);
	got = render(m);
	assert_no(got, "_count{");
	free(got);

	/* a second red on the same registry shares its families */
	r2 = red_new(m);
	assert_non_null(r2);
	red_record(r2, &s, &(const struct proc_info){ .service_name = "svc" });
	red_record(r, &s, &(const struct proc_info){ .service_name = "svc" });
	got = render(m);
	assert_line(got, "http_server_request_duration_seconds_count{" SERVER_LABELS "} 2");
	free(got);
	red_free(r2);

	/* a registry that already holds one of its names with another type: no red */
	m2 = metrics_new(10);
	assert_non_null(m2);
	assert_true(metrics_register(m2, &(struct metric_family_def){
						 .name = "http_server_request_duration_seconds",
						 .help = "Not a histogram.",
						 .type = METRIC_GAUGE,
					 }) >= 0);
	assert_null(red_new(m2));
	metrics_free(m2);
}

/* A process in a container: its series carry container_id; one outside carries none, and the
 * two are separate series. */
UNIT_TEST_FIXTURE(test_container_label, setup, teardown)
{
	struct proc_info boxed = { .service_name = "svc" };
	struct span s;
	char *got;

	(void)state;
	snprintf(boxed.container_id, sizeof(boxed.container_id), "%s",
		 "5c9e848d755e70540ff7beb4cb28a387aecc38a1d8c33b89ab9b74f7040fe825");
	server_span(&s, 2 * MS);
	red_record(r, &s, &boxed);
	red_record(r, &s, &boxed);
	red_record(r, &s, &(const struct proc_info){ .service_name = "svc" });
	got = render(m);
	assert_line(
		got,
		"http_server_request_duration_seconds_count{"
		"container_id=\"5c9e848d755e70540ff7beb4cb28a387aecc38a1d8c33b89ab9b74f7040fe825\"," SERVER_LABELS
		"} 2");
	assert_line(got, "http_server_request_duration_seconds_count{" SERVER_LABELS "} 1");
	free(got);
	/* no process known: unknown_service, no container */
	red_record(r, &s, NULL);
	got = render(m);
	assert_non_null(strstr(got, "service_name=\"unknown_service\""));
	free(got);
}

/* A process in a Kubernetes pod: its pod, namespace, container, node and owners label its
 * series (not its pod UID); its saturation series take the same (red_resource_labels). */
UNIT_TEST_FIXTURE(test_k8s_labels, setup, teardown)
{
	struct proc_info p = { .service_name = "svc" };
	struct metric_label l[RED_RESOURCE_LABELS_MAX];
	struct span s;
	char *got;

	(void)state;
	snprintf(p.container_id, sizeof(p.container_id), "%064d", 7);
	snprintf(p.k8s.pod_name, sizeof(p.k8s.pod_name), "web-7d9f8b6c5d-x2x4q");
	snprintf(p.k8s.namespace_name, sizeof(p.k8s.namespace_name), "shop");
	snprintf(p.k8s.pod_uid, sizeof(p.k8s.pod_uid), "6a3f2b8e-1c4d-4e5f-9a0b-7c8d9e0f1a2b");
	snprintf(p.k8s.container_name, sizeof(p.k8s.container_name), "web");
	snprintf(p.k8s.node_name, sizeof(p.k8s.node_name), "node-a");
	p.k8s.owner_kind = K8S_KIND_REPLICASET;
	snprintf(p.k8s.owner_name, sizeof(p.k8s.owner_name), "web-7d9f8b6c5d");
	p.k8s.workload_kind = K8S_KIND_DEPLOYMENT;
	snprintf(p.k8s.workload_name, sizeof(p.k8s.workload_name), "web");
	assert_int_equal(red_resource_labels(&p, l), 7);
	assert_int_equal(red_resource_labels(NULL, l), 0);
	server_span(&s, 2 * MS);
	red_record(r, &s, &p);
	got = render(m);
	assert_line(got, "http_server_request_duration_seconds_count{container_id=\""
			 "0000000000"
			 "000000000000000000000000000000000000000000000000000007\","
			 "http_request_method=\"GET\",http_response_status_code=\"200\","
			 "http_route=\"/users/{id}\",k8s_container_name=\"web\","
			 "k8s_deployment_name=\"web\",k8s_namespace_name=\"shop\","
			 "k8s_node_name=\"node-a\",k8s_pod_name=\"web-7d9f8b6c5d-x2x4q\","
			 "k8s_replicaset_name=\"web-7d9f8b6c5d\",service_name=\"svc\","
			 "url_scheme=\"http\"} 1");
	assert_null(strstr(got, "k8s_pod_uid"));
	free(got);
}

UNIT_MAIN(NULL, NULL)
