// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
#include "k8s_watch.h"

#include <errno.h>
#include <limits.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "process/k8s_meta.h"
#include "util/curl_lib.h"
#include "util/log.h"

/* libcurl, loaded when the watch starts (util/curl_lib.h) */
static const struct curl_lib *lc;

#define MAX_PODS 4096
#define TOKEN_FILE "/var/run/secrets/kubernetes.io/serviceaccount/token"
#define CA_FILE "/var/run/secrets/kubernetes.io/serviceaccount/ca.crt"
#define TOKEN_MAX 16384
#define BODY_MAX (64u << 20) /* a list answer; a watch line */
#define BACKOFF_MIN_S 1
#define BACKOFF_MAX_S 30

struct body {
	char *buf;
	size_t len, cap;
};

struct k8s_watch {
	struct k8s_meta *meta;
	pthread_t thread;
	pthread_mutex_t lock;
	pthread_cond_t wake;
	bool stop;
	char node[256];
	char base[300]; /* https://HOST:PORT */
	const char *token_file, *ca_file;
	char auth[TOKEN_MAX + 32]; /* "Authorization: Bearer TOKEN" */
	CURL *get;		   /* lists and owner GETs */
	char rv[128];		   /* the resourceVersion to watch from */
	char said[512];		   /* the last trouble logged: said once */
	bool announced;
	uint64_t ok, failed, restarts;
	/* the watch being read */
	struct body line;
	enum k8s_watch_result end; /* GONE or ERROR when an event ended it */
};

static bool stopping(struct k8s_watch *w)
{
	bool s;

	pthread_mutex_lock(&w->lock);
	s = w->stop;
	pthread_mutex_unlock(&w->lock);
	return s;
}

/* Sleeps secs, or less when told to stop. */
static void pause_for(struct k8s_watch *w, int secs)
{
	struct timespec until;

	clock_gettime(CLOCK_REALTIME, &until);
	until.tv_sec += secs;
	pthread_mutex_lock(&w->lock);
	while (!w->stop && pthread_cond_timedwait(&w->wake, &w->lock, &until) != ETIMEDOUT)
		;
	pthread_mutex_unlock(&w->lock);
}

/* Why there is no metadata, logged when it is news. */
__attribute__((format(printf, 2, 3))) static void trouble(struct k8s_watch *w, const char *fmt, ...)
{
	char why[sizeof(w->said)];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(why, sizeof(why), fmt, ap);
	va_end(ap);
	if (!strcmp(why, w->said))
		return;
	snprintf(w->said, sizeof(w->said), "%s", why);
	w->announced = false;
	log_warn("kubernetes: no pod metadata: %s; trying again in the background", why);
}

static void count(struct k8s_watch *w, bool ok)
{
	pthread_mutex_lock(&w->lock);
	*(ok ? &w->ok : &w->failed) += 1;
	pthread_mutex_unlock(&w->lock);
}

/* The token (read again at every list: projected tokens rotate) and the CA. */
static int load_credentials(struct k8s_watch *w)
{
	char *tok = calloc(1, TOKEN_MAX + 1);
	size_t n = 0;
	FILE *f;

	if (!tok)
		return -ENOMEM;
	f = fopen(w->token_file, "r");
	if (!f) {
		trouble(w, "cannot read the service-account token at %s: %s", w->token_file,
			strerror(errno));
		free(tok);
		return -1;
	}
	n = fread(tok, 1, TOKEN_MAX, f);
	fclose(f);
	while (n && (tok[n - 1] == '\n' || tok[n - 1] == '\r' || tok[n - 1] == ' '))
		tok[--n] = '\0';
	if (!n) {
		trouble(w, "the service-account token at %s is empty", w->token_file);
		free(tok);
		return -1;
	}
	snprintf(w->auth, sizeof(w->auth), "Authorization: Bearer %s", tok);
	free(tok);
	if (access(w->ca_file, R_OK)) {
		trouble(w, "cannot read the API server's CA at %s: %s", w->ca_file,
			strerror(errno));
		return -1;
	}
	return 0;
}

static size_t on_body(char *data, size_t size, size_t nmemb, void *ctx)
{
	struct body *b = ctx;
	size_t n = size * nmemb;

	if (b->len + n + 1 > BODY_MAX)
		return 0;
	if (b->len + n + 1 > b->cap) {
		size_t cap = b->cap ? b->cap : 65536;
		char *nb;

		while (cap < b->len + n + 1)
			cap *= 2;
		nb = realloc(b->buf, cap);
		if (!nb)
			return 0;
		b->buf = nb;
		b->cap = cap;
	}
	memcpy(b->buf + b->len, data, n);
	b->len += n;
	b->buf[b->len] = '\0';
	return n;
}

static int on_progress(void *ctx, curl_off_t dt, curl_off_t dn, curl_off_t ut, curl_off_t un)
{
	(void)dt, (void)dn, (void)ut, (void)un;
	return stopping(ctx) ? 1 : 0;
}

/* h set up for GET path of the API server; headers for the caller to free. */
static struct curl_slist *setup(struct k8s_watch *w, CURL *h, const char *path, char *url,
				size_t urllen)
{
	struct curl_slist *hdr = lc->slist_append(NULL, w->auth);

	if (hdr)
		hdr = lc->slist_append(hdr, "Accept: application/json");
	snprintf(url, urllen, "%s%s", w->base, path);
	lc->easy_reset(h);
	lc->easy_setopt(h, CURLOPT_URL, url);
	lc->easy_setopt(h, CURLOPT_HTTPHEADER, hdr);
	lc->easy_setopt(h, CURLOPT_CAINFO, w->ca_file);
	lc->easy_setopt(h, CURLOPT_SSL_VERIFYPEER, 1L);
	lc->easy_setopt(h, CURLOPT_SSL_VERIFYHOST, 2L);
	lc->easy_setopt(h, CURLOPT_NOSIGNAL, 1L);
	lc->easy_setopt(h, CURLOPT_CONNECTTIMEOUT, 5L);
	lc->easy_setopt(h, CURLOPT_NOPROGRESS, 0L);
	lc->easy_setopt(h, CURLOPT_XFERINFOFUNCTION, on_progress);
	lc->easy_setopt(h, CURLOPT_XFERINFODATA, w);
	lc->easy_setopt(h, CURLOPT_USERAGENT, "obsprobe");
	return hdr;
}

/* k8s_fetch_fn: a GET, counted */
static int fetch(void *ctx, const char *path, char **out, size_t *len)
{
	struct k8s_watch *w = ctx;
	char url[sizeof(w->base) + 1024];
	struct body b = {};
	struct curl_slist *hdr = setup(w, w->get, path, url, sizeof(url));
	long status = 0;
	CURLcode rc;

	lc->easy_setopt(w->get, CURLOPT_TIMEOUT, 20L);
	lc->easy_setopt(w->get, CURLOPT_WRITEFUNCTION, on_body);
	lc->easy_setopt(w->get, CURLOPT_WRITEDATA, &b);
	rc = lc->easy_perform(w->get);
	lc->slist_free_all(hdr);
	if (rc != CURLE_OK) {
		count(w, false);
		free(b.buf);
		*out = NULL;
		*len = 0;
		if (!stopping(w))
			trouble(w, "cannot reach the API server at %s: %s", w->base,
				lc->easy_strerror(rc));
		return -EIO;
	}
	lc->easy_getinfo(w->get, CURLINFO_RESPONSE_CODE, &status);
	count(w, status >= 200 && status < 300);
	*out = b.buf;
	*len = b.len;
	return (int)status;
}

static const char *refusal(long status)
{
	return status == 401   ? " (the service-account token was refused)"
	       : status == 403 ? " (the service account may not list pods: see "
				 "deploy/kubernetes/clusterrole.yaml)"
			       : "";
}

/* LIST: every pod of the node, and the resourceVersion to watch from. */
static int list(struct k8s_watch *w)
{
	char path[512], *body = NULL;
	size_t len = 0;
	int status, n;

	snprintf(path, sizeof(path), "/api/v1/pods?fieldSelector=spec.nodeName%%3D%s", w->node);
	status = fetch(w, path, &body, &len);
	if (status < 0) {
		free(body);
		return -1;
	}
	if (status != 200) {
		trouble(w, "the API server at %s answered HTTP %d to the list of pods%s", w->base,
			status, refusal(status));
		free(body);
		return -1;
	}
	w->rv[0] = '\0';
	n = k8s_meta_list(w->meta, body, len, fetch, w, w->rv, sizeof(w->rv));
	free(body);
	if (n < 0) {
		trouble(w, "the API server's list of pods is no PodList");
		return -1;
	}
	if (!w->announced) {
		log_notice("kubernetes: pod metadata of node %s from %s: %d pods", w->node, w->base,
			   n);
		w->announced = true;
		w->said[0] = '\0';
	}
	return 0;
}

/* Watch events as they come: one JSON object a line. */
static size_t on_watch(char *data, size_t size, size_t nmemb, void *ctx)
{
	struct k8s_watch *w = ctx;
	size_t n = size * nmemb, i, start = 0;
	enum k8s_watch_result r;

	for (i = 0; i < n; i++) {
		if (data[i] != '\n')
			continue;
		if (on_body(data + start, 1, i - start, &w->line) != i - start)
			return 0;
		r = k8s_meta_watch_line(w->meta, w->line.buf, w->line.len, fetch, w, w->rv,
					sizeof(w->rv));
		w->line.len = 0;
		start = i + 1;
		if (r == K8S_WATCH_GONE || r == K8S_WATCH_ERROR) {
			w->end = r;
			return 0; /* ends the transfer */
		}
	}
	if (start < n && on_body(data + start, 1, n - start, &w->line) != n - start)
		return 0;
	return n;
}

/* One WATCH from w->rv, until it ends: 0 when the server closed it, 1 for a 410 (list
 * again), -1 on an error. */
static int watch(struct k8s_watch *w, CURL *h)
{
	char path[768], url[sizeof(w->base) + sizeof(path)];
	struct curl_slist *hdr;
	long status = 0;
	CURLcode rc;

	snprintf(path, sizeof(path),
		 "/api/v1/pods?fieldSelector=spec.nodeName%%3D%s&watch=1&resourceVersion=%s"
		 "&allowWatchBookmarks=true",
		 w->node, w->rv);
	hdr = setup(w, h, path, url, sizeof(url));
	lc->easy_setopt(h, CURLOPT_WRITEFUNCTION, on_watch);
	lc->easy_setopt(h, CURLOPT_WRITEDATA, w);
	w->line.len = 0;
	w->end = K8S_WATCH_INVALID;
	rc = lc->easy_perform(h);
	lc->slist_free_all(hdr);
	lc->easy_getinfo(h, CURLINFO_RESPONSE_CODE, &status);
	/* answered: ended by the server, by an event (a 410 too) or by our stop */
	count(w, status == 200 && (rc == CURLE_OK || w->end != K8S_WATCH_INVALID || stopping(w)));
	if (w->end == K8S_WATCH_GONE)
		return 1;
	if (w->end == K8S_WATCH_ERROR) {
		trouble(w, "the watch of pods ended with an error event");
		return -1;
	}
	if (stopping(w))
		return 0;
	if (rc != CURLE_OK) {
		trouble(w, "the watch of pods at %s failed: %s", w->base, lc->easy_strerror(rc));
		return -1;
	}
	if (status != 200) {
		trouble(w, "the API server at %s answered HTTP %ld to the watch of pods%s", w->base,
			status, refusal(status));
		return -1;
	}
	return 0;
}

static void *run(void *arg)
{
	struct k8s_watch *w = arg;
	CURL *h = lc->easy_init();
	int backoff = BACKOFF_MIN_S, r = 0;
	bool first;

	w->get = lc->easy_init();
	if (!h || !w->get) {
		log_err("kubernetes: no pod metadata: out of memory");
		goto out;
	}
	while (!stopping(w)) {
		if (load_credentials(w) || list(w)) {
			pause_for(w, backoff);
			backoff = backoff * 2 > BACKOFF_MAX_S ? BACKOFF_MAX_S : backoff * 2;
			continue;
		}
		backoff = BACKOFF_MIN_S;
		for (first = true; !stopping(w); first = false) {
			time_t began = time(NULL);

			if (!first) {
				pthread_mutex_lock(&w->lock);
				w->restarts++;
				pthread_mutex_unlock(&w->lock);
			}
			r = watch(w, h);
			if (r)
				break;
			/* closed at once, again and again: not in a tight loop */
			if (time(NULL) - began < 1)
				pause_for(w, 1);
		}
		if (r < 0) {
			pause_for(w, backoff);
			backoff = backoff * 2 > BACKOFF_MAX_S ? BACKOFF_MAX_S : backoff * 2;
		}
	}
out:
	lc->easy_cleanup(h);
	lc->easy_cleanup(w->get);
	return NULL;
}

struct k8s_watch *k8s_watch_start(void)
{
	const char *node = getenv("K8S_NODE_NAME"), *host = getenv("KUBERNETES_SERVICE_HOST");
	const char *port = getenv("KUBERNETES_SERVICE_PORT");
	struct k8s_watch *w;
	char why[256];
	int err;

	if (!node || !*node)
		return NULL;
	w = calloc(1, sizeof(*w));
	if (!w)
		return NULL;
	w->meta = k8s_meta_new(MAX_PODS);
	if (!w->meta) {
		free(w);
		return NULL;
	}
	pthread_mutex_init(&w->lock, NULL);
	pthread_cond_init(&w->wake, NULL);
	snprintf(w->node, sizeof(w->node), "%s", node);
	w->token_file = getenv("OBSPROBE_K8S_TOKEN_FILE");
	if (!w->token_file || !*w->token_file)
		w->token_file = TOKEN_FILE;
	w->ca_file = getenv("OBSPROBE_K8S_CA_FILE");
	if (!w->ca_file || !*w->ca_file)
		w->ca_file = CA_FILE;
	if (!host || !*host) {
		/* said once, and nothing else is tried: there is no API server to ask */
		log_warn("kubernetes: no pod metadata: KUBERNETES_SERVICE_HOST is not set (not "
			 "running in a pod?); container.id only");
		return w;
	}
	snprintf(w->base, sizeof(w->base), strchr(host, ':') ? "https://[%s]:%s" : "https://%s:%s",
		 host, port && *port ? port : "443");
	lc = curl_lib(why, sizeof(why));
	if (!lc) {
		log_err("kubernetes: no pod metadata: %s", why);
		w->base[0] = '\0';
		return w;
	}
	err = pthread_create(&w->thread, NULL, run, w);
	if (err) {
		log_err("kubernetes: no pod metadata: cannot start a thread: %s", strerror(err));
		w->base[0] = '\0';
	} else {
		pthread_setname_np(w->thread, "k8s-watch"); /* top -H, perf: whose CPU it is */
	}
	return w;
}

void k8s_watch_stop(struct k8s_watch *w)
{
	if (!w)
		return;
	if (w->base[0]) {
		pthread_mutex_lock(&w->lock);
		w->stop = true;
		pthread_cond_broadcast(&w->wake);
		pthread_mutex_unlock(&w->lock);
		pthread_join(w->thread, NULL);
	}
	k8s_meta_free(w->meta);
	free(w->line.buf);
	pthread_cond_destroy(&w->wake);
	pthread_mutex_destroy(&w->lock);
	free(w);
}

struct k8s_meta *k8s_watch_meta(struct k8s_watch *w)
{
	return w ? w->meta : NULL;
}

void k8s_watch_get_stats(struct k8s_watch *w, struct k8s_watch_stats *st)
{
	memset(st, 0, sizeof(*st));
	if (!w)
		return;
	pthread_mutex_lock(&w->lock);
	st->requests_ok = w->ok;
	st->requests_failed = w->failed;
	st->watch_restarts = w->restarts;
	pthread_mutex_unlock(&w->lock);
}
