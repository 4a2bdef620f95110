/* SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause) */
/*
 * The pods of this node from the Kubernetes API server, kept up to date in a background thread:
 * one LIST of the node's pods, then a WATCH from its resourceVersion (bookmarks on; a 410 lists
 * again; a dropped connection watches again, after a growing pause on errors). In-cluster
 * credentials: the service account's token and CA (OBSPROBE_K8S_TOKEN_FILE and
 * OBSPROBE_K8S_CA_FILE override their paths), the API server at KUBERNETES_SERVICE_HOST and
 * KUBERNETES_SERVICE_PORT, TLS always verified against that CA. The event loop only looks up.
 */
#ifndef OBSPROBE_K8S_WATCH_H
#define OBSPROBE_K8S_WATCH_H

#include <stdint.h>

struct k8s_meta;
struct k8s_watch;

struct k8s_watch_stats {
	uint64_t requests_ok, requests_failed; /* every GET: lists, watches, owners */
	uint64_t watch_restarts;	       /* watches begun again, after the first */
};

/* NULL when K8S_NODE_NAME is not set (nothing is asked of anyone) or on no memory. Never fails
 * for want of credentials or of an API server: it says why once and keeps trying. */
struct k8s_watch *k8s_watch_start(void);
void k8s_watch_stop(struct k8s_watch *w); /* NULL ok: stops the thread, frees everything */
struct k8s_meta *k8s_watch_meta(struct k8s_watch *w);
void k8s_watch_get_stats(struct k8s_watch *w, struct k8s_watch_stats *st);

#endif /* OBSPROBE_K8S_WATCH_H */
