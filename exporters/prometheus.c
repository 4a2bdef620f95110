// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
#include "prometheus.h"

#include <arpa/inet.h>
#include <errno.h>
#include <net/if.h>
#include <netinet/in.h>
#include <poll.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/eventfd.h>
#include <sys/socket.h>
#include <sys/uio.h>
#include <unistd.h>

#include "util/clock.h"
#include "prom_http.h"
#include "prometheus_text.h"

#define PROM_CONTENT_TYPE "text/plain; version=0.0.4; charset=utf-8"
#define TEXT_TYPE "text/plain; charset=utf-8"
#define PROM_MAX_CONNECTIONS 64
/* a connection that moves no byte either way for this long is closed */
#define PROM_TIMEOUT_NS (10 * 1000000000ull)
/* after an answer that closes the connection, what the client still sends (a body we never
 * read) is read and dropped for at most this long before the close: closed with those bytes
 * unread, the socket would send a reset, which can destroy the answer before the client has
 * read it */
#define PROM_LINGER_NS (2 * 1000000000ull)
#define PROM_LINGER_BYTES (64 * 1024)
/* how long accepting pauses when the process is out of descriptors or memory */
#define PROM_ACCEPT_PAUSE_NS (100 * 1000000ull)

static const char index_page[] = "<html><head><title>obsprobe</title></head><body>\n"
				 "<h1>obsprobe</h1>\n"
				 "<p><a href=\"/metrics\">Metrics</a></p>\n"
				 "<p><a href=\"/readyz\">Ready</a> (every probe attached), "
				 "<a href=\"/healthz\">alive</a></p>\n"
				 "</body></html>\n";

/* One client connection: the request head being read, then the answer being sent. */
struct prom_conn {
	int fd;
	uint64_t active_ns; /* the accept, or the last read or write that moved bytes */
	bool sending;	    /* an answer is under way: no request is read meanwhile */
	bool close_after;   /* the connection ends once the answer is sent */
	bool lingering;	    /* sent, write side shut: reading what is left until EOF */
	size_t lingered;    /* bytes dropped while lingering */
	char head[256];	    /* the answer's head */
	size_t head_len;
	char *body; /* the answer's body: owned when body_owned */
	size_t body_len;
	bool body_owned;
	size_t sent; /* of head_len + body_len */
	size_t in_len;
	char in[PROM_HEAD_MAX];
};

struct prom_server {
	struct metrics *m;
	struct ready *ready; /* NULL: never ready */
	int fd;		     /* the listening socket */
	int wake_fd;	     /* an eventfd: the thread stops when it is written */
	pthread_t thread;
	bool started;
	struct prom_conn *conns[PROM_MAX_CONNECTIONS]; /* NULL: a free slot */
	size_t nconns;
	uint64_t accept_at_ns; /* no accept before (a lack of descriptors or memory) */
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

/* The answer conn is to send: head then body (owned: freed once sent), without the body for
 * HEAD, whose head still gives the body's length. */
static void answer(struct prom_conn *c, int status, const char *type, char *body, size_t len,
		   bool owned, bool keep_alive, bool head_only)
{
	c->head_len = prom_answer_head(c->head, sizeof(c->head), status, type, len, keep_alive);
	c->body = body;
	c->body_len = head_only ? 0 : len;
	c->body_owned = owned;
	c->sent = 0;
	c->sending = true;
	c->close_after = !keep_alive;
}

static void answer_text(struct prom_conn *c, int status, const char *type, const char *text,
			const struct prom_request *r)
{
	/* not owned, never written to */
	answer(c, status, type, (char *)text, strlen(text), false, r->keep_alive,
	       r->method == PROM_HEAD);
}

static void answer_metrics(struct prom_server *s, struct prom_conn *c, const struct prom_request *r)
{
	struct strbuf sb;
	size_t len;
	char *body;

	strbuf_init(&sb);
	if (prometheus_text_write(s->m, &sb)) {
		strbuf_free(&sb);
		answer_text(c, 500, TEXT_TYPE, "Out of memory\n", r);
		return;
	}
	body = strbuf_detach(&sb, &len);
	if (!body) {
		answer_text(c, 500, TEXT_TYPE, "Out of memory\n", r);
		return;
	}
	answer(c, 200, PROM_CONTENT_TYPE, body, len, true, r->keep_alive, r->method == PROM_HEAD);
}

static void answer_ready(struct prom_server *s, struct prom_conn *c, const struct prom_request *r)
{
	char text[READY_TEXT_MAX], *body;
	bool ok = ready_get(s->ready, text, sizeof(text));

	body = strdup(text);
	if (!body) {
		answer_text(c, 500, TEXT_TYPE, "Out of memory\n", r);
		return;
	}
	answer(c, ok ? 200 : 503, TEXT_TYPE, body, strlen(body), true, r->keep_alive,
	       r->method == PROM_HEAD);
}

static void route(struct prom_server *s, struct prom_conn *c, const struct prom_request *r)
{
	if (r->method == PROM_OTHER)
		answer_text(c, 405, TEXT_TYPE, "Method Not Allowed\n", r);
	else if (!strcmp(r->path, "/metrics"))
		answer_metrics(s, c, r);
	else if (!strcmp(r->path, "/healthz"))
		answer_text(c, 200, TEXT_TYPE, "ok\n", r);
	else if (!strcmp(r->path, "/readyz"))
		answer_ready(s, c, r);
	else if (!strcmp(r->path, "/"))
		answer_text(c, 200, "text/html; charset=utf-8", index_page, r);
	else
		answer_text(c, 404, TEXT_TYPE, "Not Found\n", r);
}

static void conn_close(struct prom_server *s, size_t i)
{
	struct prom_conn *c = s->conns[i];

	if (c->body_owned)
		free(c->body);
	close(c->fd);
	free(c);
	s->conns[i] = NULL;
	s->nconns--;
}

/* The next request head in c->in, when it is all there, answered (not sent yet). */
static void take_request(struct prom_server *s, struct prom_conn *c)
{
	struct prom_request r;
	int n = prom_request_parse(c->in, c->in_len, &r);

	if (n == PROM_NEED_MORE)
		return;
	if (n < 0) {
		/* the rest of the connection's bytes cannot be told apart: it ends */
		r.keep_alive = false;
		r.method = PROM_GET;
		answer_text(c, -n, TEXT_TYPE,
			    n == PROM_TOO_LARGE ? "Request Header Fields Too Large\n"
						: "Bad Request\n",
			    &r);
		c->in_len = 0;
		return;
	}
	route(s, c, &r);
	/* what follows is the next request, pipelined */
	memmove(c->in, c->in + n, c->in_len - (size_t)n);
	c->in_len -= (size_t)n;
}

/* Sends what c's answer has left; false when the connection is to be closed now. */
static bool conn_send(struct prom_server *s, struct prom_conn *c, uint64_t now)
{
	while (c->sent < c->head_len + c->body_len) {
		struct iovec iov[2];
		struct msghdr msg = { .msg_iov = iov };
		ssize_t n;

		if (c->sent < c->head_len) {
			iov[msg.msg_iovlen].iov_base = c->head + c->sent;
			iov[msg.msg_iovlen++].iov_len = c->head_len - c->sent;
		}
		if (c->body_len) {
			size_t off = c->sent > c->head_len ? c->sent - c->head_len : 0;

			iov[msg.msg_iovlen].iov_base = c->body + off;
			iov[msg.msg_iovlen++].iov_len = c->body_len - off;
		}
		/* MSG_NOSIGNAL: a client gone is an error here, not a SIGPIPE for the process */
		n = sendmsg(c->fd, &msg, MSG_NOSIGNAL);
		if (n < 0) {
			if (errno == EINTR)
				continue;
			return errno == EAGAIN || errno == EWOULDBLOCK;
		}
		c->sent += (size_t)n;
		c->active_ns = now;
	}
	if (c->body_owned)
		free(c->body);
	c->body = NULL;
	c->body_owned = false;
	c->sending = false;
	if (c->close_after) {
		if (shutdown(c->fd, SHUT_WR))
			return false;
		c->lingering = true;
		c->active_ns = now;
		return true;
	}
	/* a request that came pipelined behind this one */
	take_request(s, c);
	return !c->sending || conn_send(s, c, now);
}

/* Reads what the client sent; false when the connection is to be closed now. */
static bool conn_recv(struct prom_server *s, struct prom_conn *c, uint64_t now)
{
	char drop[4096];
	ssize_t n;

	if (c->lingering) {
		n = recv(c->fd, drop, sizeof(drop), 0);
		if (n < 0)
			return errno == EAGAIN || errno == EWOULDBLOCK || errno == EINTR;
		c->lingered += (size_t)n;
		return n > 0 && c->lingered < PROM_LINGER_BYTES;
	}
	n = recv(c->fd, c->in + c->in_len, sizeof(c->in) - c->in_len, 0);
	if (n < 0)
		return errno == EAGAIN || errno == EWOULDBLOCK || errno == EINTR;
	if (n == 0)
		return false; /* the client is done */
	c->in_len += (size_t)n;
	c->active_ns = now;
	take_request(s, c);
	return !c->sending || conn_send(s, c, now);
}

static void accept_all(struct prom_server *s, uint64_t now)
{
	size_t i = 0;

	while (s->nconns < PROM_MAX_CONNECTIONS) {
		struct prom_conn *c;
		int fd = accept4(s->fd, NULL, NULL, SOCK_NONBLOCK | SOCK_CLOEXEC);

		if (fd < 0) {
			/* out of descriptors or memory: the connection stays queued, and the
			 * listening socket readable; not polled for a while, it does not spin
			 * the thread. EAGAIN, or a connection that failed before we took it, is
			 * no reason to wait. */
			if (errno == EMFILE || errno == ENFILE || errno == ENOBUFS ||
			    errno == ENOMEM)
				s->accept_at_ns = now + PROM_ACCEPT_PAUSE_NS;
			return;
		}
		/* not calloc: most of the request buffer is never written */
		c = malloc(sizeof(*c));
		if (!c) {
			close(fd);
			s->accept_at_ns = now + PROM_ACCEPT_PAUSE_NS;
			return;
		}
		memset(c, 0, offsetof(struct prom_conn, in));
		c->fd = fd;
		c->active_ns = now;
		while (s->conns[i])
			i++;
		s->conns[i] = c;
		s->nconns++;
	}
}

/* When c is closed if no byte moves before */
static uint64_t until(const struct prom_conn *c)
{
	return c->active_ns + (c->lingering ? PROM_LINGER_NS : PROM_TIMEOUT_NS);
}

/* The server's thread: every connection on one poll(), the listening socket in it while there
 * is a free slot (the kernel's accept queue holds the others), each connection closed after
 * PROM_TIMEOUT_NS without a byte moving either way, PROM_LINGER_NS once lingering. */
static void *serve(void *arg)
{
	struct prom_server *s = arg;
	struct pollfd pfd[2 + PROM_MAX_CONNECTIONS];
	size_t slot[2 + PROM_MAX_CONNECTIONS];

	for (;;) {
		uint64_t now = clock_mono_ns(), next = UINT64_MAX;
		nfds_t nfds = 0, k;
		size_t i;
		int timeout, n;

		/* the time-outs first: the slots they free take connections in this round */
		for (i = 0; i < PROM_MAX_CONNECTIONS; i++)
			if (s->conns[i] && now >= until(s->conns[i]))
				conn_close(s, i);
		pfd[nfds++] = (struct pollfd){ .fd = s->wake_fd, .events = POLLIN };
		if (s->nconns < PROM_MAX_CONNECTIONS && now >= s->accept_at_ns)
			pfd[nfds++] = (struct pollfd){ .fd = s->fd, .events = POLLIN };
		else if (now < s->accept_at_ns)
			next = s->accept_at_ns;
		for (i = 0; i < PROM_MAX_CONNECTIONS; i++) {
			struct prom_conn *c = s->conns[i];

			if (!c)
				continue;
			if (until(c) < next)
				next = until(c);
			slot[nfds] = i;
			pfd[nfds++] = (struct pollfd){ .fd = c->fd,
						       .events = c->sending ? POLLOUT : POLLIN };
		}
		timeout = next == UINT64_MAX ? -1 : (int)((next - now) / 1000000 + 1);
		n = poll(pfd, nfds, timeout);
		if (n < 0 && errno == ENOMEM)
			usleep(100000); /* the kernel's memory is short: the endpoint waits, lives */
		if (n <= 0)
			continue;
		if (pfd[0].revents)
			break;
		now = clock_mono_ns();
		for (k = 1; k < nfds; k++) {
			struct prom_conn *c;
			bool keep;

			if (!pfd[k].revents)
				continue;
			if (pfd[k].fd == s->fd) {
				accept_all(s, now);
				continue;
			}
			c = s->conns[slot[k]];
			if (c->sending)
				keep = conn_send(s, c, now);
			else
				keep = conn_recv(s, c, now);
			if (!keep)
				conn_close(s, slot[k]);
		}
	}
	return NULL;
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

void prom_server_stop(struct prom_server *s)
{
	size_t i;

	if (!s)
		return;
	if (s->started) {
		uint64_t one = 1;
		/* an eventfd's counter this far below its limit takes the write */
		ssize_t w = write(s->wake_fd, &one, sizeof(one));

		(void)w;
		pthread_join(s->thread, NULL);
	}
	for (i = 0; i < PROM_MAX_CONNECTIONS; i++)
		if (s->conns[i])
			conn_close(s, i);
	if (s->wake_fd >= 0)
		close(s->wake_fd);
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
	s->wake_fd = -1;
	s->fd = socket(ss.ss_family, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	if (s->fd < 0 || setsockopt(s->fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one)) ||
	    bind(s->fd, (struct sockaddr *)&ss, len) || listen(s->fd, PROM_MAX_CONNECTIONS)) {
		set_err(err, errlen, "cannot listen on %s: %s", listen_addr, strerror(errno));
		goto fail;
	}
	s->wake_fd = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
	if (s->wake_fd < 0) {
		set_err(err, errlen, "cannot start the HTTP server on %s: %s", listen_addr,
			strerror(errno));
		goto fail;
	}
	if ((errno = pthread_create(&s->thread, NULL, serve, s))) {
		set_err(err, errlen, "cannot start the HTTP server on %s: %s", listen_addr,
			strerror(errno));
		goto fail;
	}
	pthread_setname_np(s->thread, "prom-http");
	s->started = true;
	return s;
fail:
	prom_server_stop(s);
	return NULL;
}
