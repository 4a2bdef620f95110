/* SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause) */
/* Route templating and URL redaction: pure string functions plus a bounded route set. */
#ifndef OBSPROBE_ROUTE_H
#define OBSPROBE_ROUTE_H

#include <stdbool.h>
#include <stddef.h>

#define ROUTE_MAX 256
#define ROUTE_OVERFLOW "other"

/* Split a request-target into its path (query and fragment removed; an absolute-form target
 * "http://host/p" gives "/p") and its query with every value replaced by "REDACTED"; an
 * element without '=' counts as a value ("a=1&b" -> "a=REDACTED&REDACTED"). Outputs are NUL-terminated and truncated to their sizes;
 * query_out gets "" when there is no query. */
void route_split_target(const char *target, char *path_out, size_t path_size, char *query_out,
			size_t query_size);

/* Fold identifiers in a path: a segment that is all digits, a UUID, or hex of 16+ characters
 * (or 16+ characters mixing letters and digits) becomes "{id}". "/users/42/orders/7" ->
 * "/users/{id}/orders/{id}". */
void route_fold(const char *path, char *out, size_t out_size);

/* A set of distinct routes with a hard cap: beyond `cap` routes, new ones map to
 * ROUTE_OVERFLOW and are counted. */
struct route_set;
struct route_set *route_set_new(size_t cap);
void route_set_free(struct route_set *rs);
/* Returns the route to export for `route`: itself if known or if there is room, else
 * ROUTE_OVERFLOW. The pointer stays valid for the life of the set. */
const char *route_set_intern(struct route_set *rs, const char *route);
unsigned long long route_set_overflows(const struct route_set *rs);

#endif /* OBSPROBE_ROUTE_H */
