// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
#include "otlp_sink.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/socket.h>
#include <unistd.h>

static uint64_t nreq, nbytes;
static int listen_fd = -1;
static pthread_t accept_thread;
static otlp_sink_body_fn hook;
static pthread_mutex_t hook_lock = PTHREAD_MUTEX_INITIALIZER;

static void *serve(void *arg)
{
	static const char ok[] = "HTTP/1.1 200 OK\r\nContent-Type: application/x-protobuf\r\n"
				 "Content-Length: 0\r\n\r\n";
	int fd = (int)(intptr_t)arg;
	size_t cap = 1 << 20, len = 0;
	char *buf = malloc(cap);

	while (buf) {
		char *end = memmem(buf, len, "\r\n\r\n", 4);
		size_t head, body = 0;
		ssize_t n;
		char *cl;

		if (!end) {
			if (len == cap)
				break;
			n = read(fd, buf + len, cap - len);
			if (n <= 0)
				break;
			len += (size_t)n;
			continue;
		}
		head = (size_t)(end - buf) + 4;
		*end = '\0';
		cl = strcasestr(buf, "\r\nContent-Length:");
		if (cl)
			body = strtoul(cl + 17, NULL, 10);
		if (head + body > cap) {
			char *nb = realloc(buf, head + body);

			if (!nb)
				break;
			buf = nb;
			cap = head + body;
		}
		while (len < head + body) {
			n = read(fd, buf + len, cap - len);
			if (n <= 0)
				goto out;
			len += (size_t)n;
		}
		if (hook) {
			pthread_mutex_lock(&hook_lock);
			hook((const uint8_t *)buf + head, body);
			pthread_mutex_unlock(&hook_lock);
		}
		__atomic_add_fetch(&nreq, 1, __ATOMIC_RELAXED);
		__atomic_add_fetch(&nbytes, body, __ATOMIC_RELAXED);
		if (write(fd, ok, sizeof(ok) - 1) < 0)
			break;
		memmove(buf, buf + head + body, len - head - body);
		len -= head + body;
	}
out:
	free(buf);
	close(fd);
	return NULL;
}

static void *accept_loop(void *arg)
{
	(void)arg;
	for (;;) {
		int fd = accept(listen_fd, NULL, NULL);
		pthread_t t;

		if (fd < 0) /* otlp_sink_stop() shut the socket down */
			return NULL;
		if (pthread_create(&t, NULL, serve, (void *)(intptr_t)fd) == 0)
			pthread_detach(t);
		else
			close(fd);
	}
}

int otlp_sink_start(int port, otlp_sink_body_fn on_body)
{
	struct sockaddr_in sa = { .sin_family = AF_INET, .sin_port = htons((uint16_t)port) };
	socklen_t sl = sizeof(sa);
	int one = 1;

	sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	hook = on_body;
	listen_fd = socket(AF_INET, SOCK_STREAM, 0);
	if (listen_fd < 0)
		return -1;
	setsockopt(listen_fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
	if (bind(listen_fd, (struct sockaddr *)&sa, sizeof(sa)) || listen(listen_fd, 64) ||
	    getsockname(listen_fd, (struct sockaddr *)&sa, &sl) ||
	    pthread_create(&accept_thread, NULL, accept_loop, NULL)) {
		close(listen_fd);
		listen_fd = -1;
		return -1;
	}
	return ntohs(sa.sin_port);
}

void otlp_sink_stop(void)
{
	if (listen_fd < 0)
		return;
	shutdown(listen_fd, SHUT_RDWR);
	pthread_join(accept_thread, NULL);
	close(listen_fd);
	listen_fd = -1;
	/* the hook's last call unlocked this before its body was answered */
	pthread_mutex_lock(&hook_lock);
	pthread_mutex_unlock(&hook_lock);
}

uint64_t otlp_sink_requests(void)
{
	return __atomic_load_n(&nreq, __ATOMIC_RELAXED);
}

uint64_t otlp_sink_bytes(void)
{
	return __atomic_load_n(&nbytes, __ATOMIC_RELAXED);
}
