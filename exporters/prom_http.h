/* SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause) */
/*
 * The request heads the metrics endpoint (prometheus.c) answers: what it needs of one, read
 * from the bytes a client sent, and the head of its answer. Pure: no I/O.
 *
 * Strict where leniency would let a client make the server guess (a bad request line, a
 * header line without a colon, a folded line, two Content-Lengths, a head over PROM_HEAD_MAX
 * bytes: 400 or 431, and the connection closes), and the connection also closes after any
 * request that carries a body, which the endpoint never reads.
 */
#ifndef OBSPROBE_PROM_HTTP_H
#define OBSPROBE_PROM_HTTP_H

#include <stdbool.h>
#include <stddef.h>

#define PROM_HEAD_MAX 8192 /* a request head, request line and headers */
#define PROM_PATH_MAX 64   /* longer paths are none of ours: 404 */

enum prom_method {
	PROM_GET,
	PROM_HEAD,
	PROM_OTHER, /* answered 405 */
};

struct prom_request {
	enum prom_method method;
	char path[PROM_PATH_MAX]; /* the target's path, without its query; "" when too long */
	bool keep_alive;	  /* the connection may carry another request after the answer */
	size_t head_len;	  /* bytes of the head, its blank line included */
};

/* The result of prom_request_parse(), beside a head's length (> 0). */
#define PROM_NEED_MORE 0
#define PROM_BAD_REQUEST (-400)
#define PROM_TOO_LARGE (-431)

/*
 * The request head at the start of buf[0..len): its length (> 0) with *r filled in,
 * PROM_NEED_MORE when it may still be completed by more bytes, PROM_BAD_REQUEST or
 * PROM_TOO_LARGE (no more bytes can make it one) when the client is to get that status.
 */
int prom_request_parse(const char *buf, size_t len, struct prom_request *r);

/*
 * The head of an answer into out (at most outlen bytes, NUL-terminated): status line,
 * Content-Type, Content-Length (body_len, also for HEAD, whose body is not sent), Allow for
 * 405, Connection: close when !keep_alive. Its length, or 0 when it does not fit.
 */
size_t prom_answer_head(char *out, size_t outlen, int status, const char *type, size_t body_len,
			bool keep_alive);

#endif /* OBSPROBE_PROM_HTTP_H */
