/* SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause) */
/*
 * Spans into RED metrics: each finished span is one sample of the semantic-convention
 * histogram of its kind (HTTP server, HTTP client, database client), labelled as the
 * OpenTelemetry Prometheus exporter labels it; failed database operations are also counted.
 * Also the database connection pool gauge, from the connections the protocol trackers hold.
 */
#ifndef OBSPROBE_RED_H
#define OBSPROBE_RED_H

#include <stdbool.h>
#include <stdint.h>

#include "pipeline/span.h"

struct metrics;
struct metric_label;
struct red;

/* container.id and the k8s.* attributes but the pod UID: what labels a process's series */
#define RED_RESOURCE_LABELS_MAX (1 + K8S_ATTRS_MAX)

/* Registers the families in m. NULL on error (logged). */
struct red *red_new(struct metrics *m);
void red_free(struct red *r); /* NULL ok */

/* The labels of p's resource (RED_RESOURCE_LABELS_MAX at most) into out; values point into p,
 * "" ones are dropped by the registry. Returns how many. */
size_t red_resource_labels(const struct proc_info *p, struct metric_label *out);

/* One finished span of the service named service. */
/* p: the process the span is from (NULL: unknown_service); its service.name, container.id and
 * pod (red_resource_labels) label the series. */
void red_record(struct red *r, const struct span *s, const struct proc_info *p);

/* db_client_connection_count: red_pools_begin(), then red_pool_count() for every connection,
 * then red_pools_end(), which sets every pool seen so far (a pool whose connections all closed
 * reads 0 rather than vanishing). */
void red_pools_begin(struct red *r);
void red_pool_count(struct red *r, const char *service, const char *system, const char *pool,
		    bool used);
void red_pools_end(struct red *r);

#endif /* OBSPROBE_RED_H */
