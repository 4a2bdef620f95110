// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
#include "prometheus.h"

#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <net/if.h>
#include <netinet/in.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <microhttpd.h>

#include "prometheus_text.h"

#define PROM_CONTENT_TYPE "text/plain; version=0.0.4; charset=utf-8"
#define PROM_MAX_CONNECTIONS 64
#define PROM_TIMEOUT_S 10

static const char index_page[] = "<html><head><title>obsprobe</title></head><body>\n"
				 "<h1>obsprobe</h1>\n"
				 "<p><a href=\"/metrics\">Metrics</a></p>\n"
				 "<p><a href=\"/readyz\">Ready</a> (every probe attached), "
				 "<a href=\"/healthz\">alive</a></p>\n"
				 "</body></html>\n";

struct prom_server {
	struct MHD_Daemon *daemon;
	struct metrics *m;
	struct ready *ready; /* NULL: never ready */
	int fd;		     /* the socket we bound */
	int mhd_fd;	     /* a dup of it, handed to MHD */
};

static int parse_port(const char *s, in_port_t *port)
{
	unsigned long v = 0;
	const char *p;

	if (!*s || strlen(s) > 5)
		return -EINVAL;
	for (p = s; *p; p++) {
		if (*p < '0' || *p > '9')
			return -EINVAL;
		v = v * 10 + (unsigned long)(*p - '0');
	}
	if (v < 1 || v > 65535)
		return -EINVAL;
	*port = htons((in_port_t)v);
	return 0;
}

static int parse_ipv6(char *host, struct sockaddr_in6 *sin6)
{
	char *zone = strchr(host, '%');
	char *end;

	if (zone) {
		*zone++ = '\0';
		if (!*zone)
			return -EINVAL;
		sin6->sin6_scope_id = if_nametoindex(zone);
		if (!sin6->sin6_scope_id) {
			errno = 0;
			sin6->sin6_scope_id = (uint32_t)strtoul(zone, &end, 10);
			if (*end || errno || !sin6->sin6_scope_id)
				return -EINVAL;
		}
	}
	return inet_pton(AF_INET6, host, &sin6->sin6_addr) == 1 ? 0 : -EINVAL;
}

int prom_parse_listen(const char *addr, struct sockaddr_storage *ss, socklen_t *len)
{
	struct sockaddr_in6 *sin6 = (struct sockaddr_in6 *)ss;
	struct sockaddr_in *sin = (struct sockaddr_in *)ss;
	char host[INET6_ADDRSTRLEN + IF_NAMESIZE + 1];
	const char *colon, *port;
	size_t hlen;
	bool v6;

	if (!addr || !ss || !len)
		return -EINVAL;
	memset(ss, 0, sizeof(*ss));
	v6 = addr[0] == '[';
	if (v6) {
		colon = strchr(addr, ']');
		if (!colon || colon[1] != ':')
			return -EINVAL;
		hlen = (size_t)(colon - addr - 1);
		port = colon + 2;
		addr++;
	} else {
		colon = strrchr(addr, ':');
		if (!colon)
			return -EINVAL;
		hlen = (size_t)(colon - addr);
		port = colon + 1;
	}
	if (hlen >= sizeof(host))
		return -EINVAL;
	memcpy(host, addr, hlen);
	host[hlen] = '\0';

	if (v6) {
		if (!hlen || parse_ipv6(host, sin6))
			return -EINVAL;
		sin6->sin6_family = AF_INET6;
		*len = sizeof(*sin6);
		return parse_port(port, &sin6->sin6_port);
	}
	/* An unbracketed IPv6 address cannot be told apart from its port. */
	if (strchr(host, ':'))
		return -EINVAL;
	if (!hlen)
		sin->sin_addr.s_addr = htonl(INADDR_ANY);
	else if (!strcmp(host, "localhost"))
		sin->sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	else if (inet_pton(AF_INET, host, &sin->sin_addr) != 1)
		return -EINVAL;
	sin->sin_family = AF_INET;
	*len = sizeof(*sin);
	return parse_port(port, &sin->sin_port);
}

static enum MHD_Result reply(struct MHD_Connection *conn, unsigned int status,
			     struct MHD_Response *resp, const char *type)
{
	enum MHD_Result ret = MHD_NO;

	if (!resp)
		return MHD_NO;
	if (MHD_add_response_header(resp, MHD_HTTP_HEADER_CONTENT_TYPE, type) == MHD_YES &&
	    (status != MHD_HTTP_METHOD_NOT_ALLOWED ||
	     MHD_add_response_header(resp, MHD_HTTP_HEADER_ALLOW, "GET, HEAD") == MHD_YES))
		ret = MHD_queue_response(conn, status, resp);
	MHD_destroy_response(resp);
	return ret;
}

static enum MHD_Result reply_static(struct MHD_Connection *conn, unsigned int status,
				    const char *type, const char *body)
{
	/* PERSISTENT: MHD neither copies nor frees the string, and never writes to it. */
	return reply(conn, status,
		     MHD_create_response_from_buffer(strlen(body), (void *)body,
						     MHD_RESPMEM_PERSISTENT),
		     type);
}

static enum MHD_Result reply_metrics(struct prom_server *s, struct MHD_Connection *conn)
{
	struct MHD_Response *resp;
	struct strbuf sb;
	size_t len;
	char *body;

	strbuf_init(&sb);
	if (prometheus_text_write(s->m, &sb)) {
		strbuf_free(&sb);
		return reply_static(conn, MHD_HTTP_INTERNAL_SERVER_ERROR,
				    "text/plain; charset=utf-8", "Out of memory\n");
	}
	body = strbuf_detach(&sb, &len);
	if (!body)
		return reply_static(conn, MHD_HTTP_INTERNAL_SERVER_ERROR,
				    "text/plain; charset=utf-8", "Out of memory\n");
	if (!len) {
		free(body);
		return reply_static(conn, MHD_HTTP_OK, PROM_CONTENT_TYPE, "");
	}
	resp = MHD_create_response_from_buffer(len, body, MHD_RESPMEM_MUST_FREE);
	if (!resp)
		free(body);
	return reply(conn, MHD_HTTP_OK, resp, PROM_CONTENT_TYPE);
}

static enum MHD_Result reply_ready(struct prom_server *s, struct MHD_Connection *conn)
{
	struct MHD_Response *resp;
	char text[READY_TEXT_MAX];
	bool ok = ready_get(s->ready, text, sizeof(text));

	resp = MHD_create_response_from_buffer(strlen(text), text, MHD_RESPMEM_MUST_COPY);
	return reply(conn, ok ? MHD_HTTP_OK : MHD_HTTP_SERVICE_UNAVAILABLE, resp,
		     "text/plain; charset=utf-8");
}

static enum MHD_Result handle(void *cls, struct MHD_Connection *conn, const char *url,
			      const char *method, const char *version, const char *upload_data,
			      size_t *upload_data_size, void **con_cls)
{
	static int seen;
	struct prom_server *s = cls;

	(void)version;
	(void)upload_data;

	/* Refused at once: MHD then closes the connection rather than read a body we ignore. */
	if (strcmp(method, MHD_HTTP_METHOD_GET) && strcmp(method, MHD_HTTP_METHOD_HEAD))
		return reply_static(conn, MHD_HTTP_METHOD_NOT_ALLOWED, "text/plain; charset=utf-8",
				    "Method Not Allowed\n");
	/* Answering on the first call, before MHD has seen the end of the request, makes it
	 * close the connection; waiting one call keeps scrapes on a kept-alive connection. */
	if (!*con_cls) {
		*con_cls = &seen;
		return MHD_YES;
	}
	if (*upload_data_size) {
		*upload_data_size = 0;
		return MHD_YES;
	}
	/* MHD leaves out the body of a HEAD reply itself. */
	if (!strcmp(url, "/metrics"))
		return reply_metrics(s, conn);
	if (!strcmp(url, "/healthz"))
		return reply_static(conn, MHD_HTTP_OK, "text/plain; charset=utf-8", "ok\n");
	if (!strcmp(url, "/readyz"))
		return reply_ready(s, conn);
	if (!strcmp(url, "/"))
		return reply_static(conn, MHD_HTTP_OK, "text/html; charset=utf-8", index_page);
	return reply_static(conn, MHD_HTTP_NOT_FOUND, "text/plain; charset=utf-8", "Not Found\n");
}

__attribute__((format(printf, 3, 4))) static void set_err(char *err, size_t errlen, const char *fmt,
							  ...)
{
	va_list ap;

	if (!err || !errlen)
		return;
	va_start(ap, fmt);
	vsnprintf(err, errlen, fmt, ap);
	va_end(ap);
}

/* Closes fd if it is still the socket ref refers to. Whether MHD closes a listen socket it was
 * given differs between its stop and failure paths and is not documented, so it gets a dup
 * and we close whatever it left. A recycled fd number would be another file, so the inode
 * check keeps us from closing someone else's descriptor. */
static void close_if_same(int fd, int ref)
{
	struct stat a, b;

	if (fd < 0 || ref < 0)
		return;
	if (!fstat(fd, &a) && !fstat(ref, &b) && a.st_dev == b.st_dev && a.st_ino == b.st_ino)
		close(fd);
}

void prom_server_stop(struct prom_server *s)
{
	if (!s)
		return;
	if (s->daemon)
		MHD_stop_daemon(s->daemon);
	close_if_same(s->mhd_fd, s->fd);
	if (s->fd >= 0)
		close(s->fd);
	free(s);
}

struct prom_server *prom_server_start(const char *listen_addr, struct metrics *m,
				      struct ready *ready, char *err, size_t errlen)
{
	struct sockaddr_storage ss;
	struct prom_server *s;
	socklen_t len;
	int one = 1;

	set_err(err, errlen, "%s", "");
	if (!m) {
		set_err(err, errlen, "cannot start the Prometheus endpoint: no metrics registry");
		return NULL;
	}
	if (prom_parse_listen(listen_addr, &ss, &len)) {
		set_err(err, errlen,
			"invalid listen address \"%s\": expected HOST:PORT with a port in "
			"1..65535, e.g. 127.0.0.1:9464 or [::1]:9464",
			listen_addr ? listen_addr : "");
		return NULL;
	}
	s = calloc(1, sizeof(*s));
	if (!s) {
		set_err(err, errlen, "cannot listen on %s: %s", listen_addr, strerror(ENOMEM));
		return NULL;
	}
	s->m = m;
	s->ready = ready;
	s->mhd_fd = -1;
	s->fd = socket(ss.ss_family, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	if (s->fd < 0 || setsockopt(s->fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one)) ||
	    bind(s->fd, (struct sockaddr *)&ss, len) || listen(s->fd, PROM_MAX_CONNECTIONS)) {
		set_err(err, errlen, "cannot listen on %s: %s", listen_addr, strerror(errno));
		goto fail;
	}
	s->mhd_fd = fcntl(s->fd, F_DUPFD_CLOEXEC, 0);
	if (s->mhd_fd < 0) {
		set_err(err, errlen, "cannot listen on %s: %s", listen_addr, strerror(errno));
		goto fail;
	}
	/* Internal polling thread (epoll on Linux): one thread, and no select() limit on fd
	 * numbers, which an agent holding many BPF fds would hit. */
	s->daemon = MHD_start_daemon(MHD_USE_AUTO_INTERNAL_THREAD, 0, NULL, NULL, handle, s,
				     MHD_OPTION_LISTEN_SOCKET, (MHD_socket)s->mhd_fd,
				     MHD_OPTION_CONNECTION_LIMIT,
				     (unsigned int)PROM_MAX_CONNECTIONS,
				     MHD_OPTION_CONNECTION_TIMEOUT, (unsigned int)PROM_TIMEOUT_S,
				     MHD_OPTION_END);
	if (!s->daemon) {
		set_err(err, errlen, "cannot start the HTTP server on %s", listen_addr);
		goto fail;
	}
	return s;
fail:
	prom_server_stop(s);
	return NULL;
}
