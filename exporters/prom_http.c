// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
#include "prom_http.h"

#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>

#include "util/http_token.h"

/* p[0..n) equals the lower-case s, letters compared without case; p's bytes are a head's */
static bool ieq(const char *p, size_t n, const char *s)
{
	return http_ieq((const uint8_t *)p, n, s);
}

static bool is_ows(char c)
{
	return http_is_ows((uint8_t)c);
}

/* "close" among a Connection header's options */
static void conn_option(const uint8_t *p, size_t n, void *arg)
{
	if (http_ieq(p, n, "close"))
		*(bool *)arg = true;
}

/* "METHOD SP target SP HTTP/1.x": the method, the target's path, the version's x */
static int parse_request_line(const char *p, size_t n, struct prom_request *r, bool *http11)
{
	const char *path, *end;
	size_t m = 0, t, e, plen = 0;

	while (m < n && m <= 16 && http_is_tchar((uint8_t)p[m]))
		m++;
	if (!m || m > 16 || m >= n || p[m] != ' ')
		return PROM_BAD_REQUEST;
	/* methods are case-sensitive (RFC 9110 9.1) */
	r->method = m == 3 && !memcmp(p, "GET", 3)    ? PROM_GET
		    : m == 4 && !memcmp(p, "HEAD", 4) ? PROM_HEAD
						      : PROM_OTHER;
	t = m + 1;
	for (e = t; e < n && p[e] > 0x20 && p[e] < 0x7f; e++)
		;
	if (e == t || e >= n || p[e] != ' ' || n - e - 1 != 8 || memcmp(p + e + 1, "HTTP/1.", 7) ||
	    (p[n - 1] != '0' && p[n - 1] != '1'))
		return PROM_BAD_REQUEST;
	*http11 = p[n - 1] == '1';
	path = p + t;
	end = p + e;
	/* absolute-form (through a proxy): the path after the authority, "/" when empty */
	if (end - path > 7 &&
	    (!strncasecmp(path, "http://", 7) || !strncasecmp(path, "https://", 8))) {
		path += path[4] == ':' ? 7 : 8;
		while (path < end && *path != '/' && *path != '?' && *path != '#')
			path++;
		if (path == end || *path != '/') {
			path = "/";
			end = path + 1;
		}
	}
	while (path + plen < end && path[plen] != '?' && path[plen] != '#')
		plen++;
	if (plen >= PROM_PATH_MAX)
		plen = 0;
	memcpy(r->path, path, plen);
	r->path[plen] = '\0';
	return 0;
}

struct fields {
	bool close, body, cl_seen;
	unsigned long long cl;
};

/* One header line "name: value" (no line ending): what the answer depends on. */
static int parse_field(const char *p, size_t n, struct fields *f)
{
	size_t name = 0, v, e, i;

	while (name < n && http_is_tchar((uint8_t)p[name]))
		name++;
	if (!name || name == n || p[name] != ':')
		return PROM_BAD_REQUEST;
	for (v = name + 1; v < n && is_ows(p[v]); v++)
		;
	for (e = n; e > v && is_ows(p[e - 1]); e--)
		;
	if (ieq(p, name, "connection")) {
		http_list_each((const uint8_t *)p + v, e - v, conn_option, &f->close);
	} else if (ieq(p, name, "content-length")) {
		unsigned long long cl = 0;

		if (v == e || e - v > 18)
			return PROM_BAD_REQUEST;
		for (i = v; i < e; i++) {
			if (p[i] < '0' || p[i] > '9')
				return PROM_BAD_REQUEST;
			cl = cl * 10 + (unsigned)(p[i] - '0');
		}
		/* two lengths that differ: which one frames the body is the client's secret */
		if (f->cl_seen && f->cl != cl)
			return PROM_BAD_REQUEST;
		f->cl_seen = true;
		f->cl = cl;
		f->body |= cl > 0;
	} else if (ieq(p, name, "transfer-encoding")) {
		f->body = true;
	}
	return 0;
}

int prom_request_parse(const char *buf, size_t len, struct prom_request *r)
{
	size_t lim = len < PROM_HEAD_MAX ? len : PROM_HEAD_MAX, pos = 0;
	struct fields f = { 0 };
	bool started = false, http11 = false;
	int err;

	memset(r, 0, sizeof(*r));
	while (pos < lim) {
		const char *nl = memchr(buf + pos, '\n', lim - pos);
		size_t eol, end;

		if (!nl)
			break;
		eol = (size_t)(nl - buf);
		end = eol > pos && buf[eol - 1] == '\r' ? eol - 1 : eol;
		if (!http_vchars_ok((const uint8_t *)buf + pos, end - pos))
			return PROM_BAD_REQUEST;
		if (!started) {
			/* empty lines before the request line are ignored (RFC 9112 2.2) */
			if (end > pos) {
				err = parse_request_line(buf + pos, end - pos, r, &http11);
				if (err)
					return err;
				started = true;
			}
		} else if (end == pos) {
			r->keep_alive = http11 && !f.close && !f.body && r->method != PROM_OTHER;
			r->head_len = eol + 1;
			return (int)r->head_len;
		} else if (is_ows(buf[pos])) {
			return PROM_BAD_REQUEST; /* obs-fold: RFC 9112 5.2 lets a server refuse it */
		} else if ((err = parse_field(buf + pos, end - pos, &f))) {
			return err;
		}
		pos = eol + 1;
	}
	/* a line begun with a byte no head holds is refused at once (a TLS handshake, binary
	 * noise), not after PROM_HEAD_MAX bytes of it; a CR may still be its ending's */
	if (pos < lim && !http_vchars_ok((const uint8_t *)buf + pos,
					 buf[lim - 1] == '\r' ? lim - 1 - pos : lim - pos))
		return PROM_BAD_REQUEST;
	return len >= PROM_HEAD_MAX ? PROM_TOO_LARGE : PROM_NEED_MORE;
}

static const char *reason(int status)
{
	switch (status) {
	case 200:
		return "OK";
	case 400:
		return "Bad Request";
	case 404:
		return "Not Found";
	case 405:
		return "Method Not Allowed";
	case 431:
		return "Request Header Fields Too Large";
	case 500:
		return "Internal Server Error";
	case 503:
		return "Service Unavailable";
	default:
		return "Unknown";
	}
}

size_t prom_answer_head(char *out, size_t outlen, int status, const char *type, size_t body_len,
			bool keep_alive)
{
	int n = snprintf(out, outlen,
			 "HTTP/1.1 %d %s\r\nContent-Type: %s\r\nContent-Length: %zu\r\n%s%s\r\n",
			 status, reason(status), type, body_len,
			 status == 405 ? "Allow: GET, HEAD\r\n" : "",
			 keep_alive ? "" : "Connection: close\r\n");

	return n > 0 && (size_t)n < outlen ? (size_t)n : 0;
}
