// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/*
 * Input: the bytes a client sent the metrics endpoint, handed to prom_request_parse without a
 * NUL and in a buffer of their exact size; each head found is followed by the next one, as
 * the endpoint takes pipelined requests. The input's last bytes also pick the arguments of
 * one prom_answer_head call (status, body length, output size, keep-alive), and its first
 * bytes, up to a NUL, are the content type.
 *
 * Besides the sanitizers, it checks that the result is a head's length (1..min(size,
 * PROM_HEAD_MAX)), PROM_NEED_MORE (only below PROM_HEAD_MAX bytes), PROM_BAD_REQUEST or
 * PROM_TOO_LARGE (only from PROM_HEAD_MAX bytes on); that a head ends in its blank line, its
 * path is a NUL-terminated string of visible ASCII without '?' or '#' shorter than
 * PROM_PATH_MAX that occurs in the head, its method is the request line's, and keep_alive
 * only with GET or HEAD over HTTP/1.1; that a strict prefix of a head needs more; that bytes
 * after a head (any bytes: a body, binary noise) change nothing of it, nor bytes after a
 * refusal; that nothing past PROM_HEAD_MAX bytes is looked at; and that
 * prom_answer_head's length is strlen() of its output, 0 exactly when the head does not fit,
 * a cut output a prefix of the whole one, which ends as its arguments say.
 */
#include <assert.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "exporters/prom_http.h"

#define MAX_HEADS 64

static int parse(const char *buf, size_t len, struct prom_request *r)
{
	/* garbage first: whatever the parser leaves alone would show */
	memset(r, 0xa5, sizeof(*r));
	return prom_request_parse(buf, len, r);
}

/* The request line of a head: its first non-empty line, without its line ending. */
static void request_line(const char *h, size_t n, const char **line, size_t *len)
{
	const char *nl;
	size_t end;

	while (n && (*h == '\r' || *h == '\n')) {
		h++;
		n--;
	}
	nl = memchr(h, '\n', n);
	assert(nl);
	end = (size_t)(nl - h);
	if (end && h[end - 1] == '\r')
		end--;
	*line = h;
	*len = end;
}

static void check_head(const char *buf, size_t len, int rc, const struct prom_request *r)
{
	size_t n = (size_t)rc, plen, i, llen;
	const char *line;

	assert(n <= len && n <= PROM_HEAD_MAX);
	assert(r->head_len == n);
	/* it ends in its blank line */
	assert(n >= 2 && buf[n - 1] == '\n');
	assert(buf[n - 2] == '\n' || (n >= 3 && buf[n - 2] == '\r' && buf[n - 3] == '\n'));

	assert(memchr(r->path, '\0', sizeof(r->path)));
	plen = strlen(r->path);
	assert(plen < PROM_PATH_MAX);
	for (i = 0; i < plen; i++)
		assert(r->path[i] > 0x20 && r->path[i] < 0x7f && r->path[i] != '?' &&
		       r->path[i] != '#');
	/* taken from the head ("/" for an absolute-form target without a path is in "HTTP/1.") */
	assert(!plen || memmem(buf, n, r->path, plen));

	assert(r->method == PROM_GET || r->method == PROM_HEAD || r->method == PROM_OTHER);
	assert(r->keep_alive == true || r->keep_alive == false);
	request_line(buf, n, &line, &llen);
	assert(llen >= 12 && !memcmp(line + llen - 8, "HTTP/1.", 7));
	if (r->method == PROM_GET)
		assert(!memcmp(line, "GET ", 4));
	else if (r->method == PROM_HEAD)
		assert(!memcmp(line, "HEAD ", 5));
	else
		assert(memcmp(line, "GET ", 4) && memcmp(line, "HEAD ", 5));
	if (r->keep_alive)
		assert(r->method != PROM_OTHER && line[llen - 1] == '1');
}

/*
 * buf[0..len) followed by suffix gives what buf[0..len) alone gave (rc, *r), for a head or a
 * refusal: no more bytes change either, whatever they are (a gzip body, a TLS record).
 */
static void same_with_suffix(const char *buf, size_t len, const char *suffix, size_t slen, int rc,
			     const struct prom_request *r)
{
	char *ext = malloc(len + slen);
	struct prom_request r2;

	if (!ext)
		return;
	memcpy(ext, buf, len);
	memcpy(ext + len, suffix, slen);
	assert(parse(ext, len + slen, &r2) == rc);
	if (rc > 0)
		assert(!memcmp(&r2, r, sizeof(r2)));
	free(ext);
}

/* One parse of buf[0..len), which ends where the input does; its result. */
static int check_one(const char *buf, size_t len, const char *tail, size_t tail_len)
{
	struct prom_request r, r2;
	int rc = parse(buf, len, &r), rc2;

	assert(rc == PROM_NEED_MORE || rc == PROM_BAD_REQUEST || rc == PROM_TOO_LARGE ||
	       (rc > 0 && (size_t)rc <= len && rc <= PROM_HEAD_MAX));
	if (rc == PROM_TOO_LARGE)
		assert(len >= PROM_HEAD_MAX);
	if (rc == PROM_NEED_MORE)
		assert(len < PROM_HEAD_MAX);

	/* the same again */
	rc2 = parse(buf, len, &r2);
	assert(rc2 == rc);
	if (rc > 0)
		assert(!memcmp(&r, &r2, sizeof(r)));

	/* nothing past PROM_HEAD_MAX counts */
	if (len > PROM_HEAD_MAX) {
		rc2 = parse(buf, PROM_HEAD_MAX, &r2);
		assert(rc2 == rc);
		if (rc > 0)
			assert(!memcmp(&r, &r2, sizeof(r)));
	}

	if (rc > 0) {
		check_head(buf, len, rc, &r);
		/* a strict prefix of a head is not yet one: its blank line is missing */
		assert(parse(buf, (size_t)rc - 1, &r2) == PROM_NEED_MORE);
		assert(parse(buf, (size_t)rc / 2, &r2) == PROM_NEED_MORE);
	}
	if (rc != PROM_NEED_MORE) {
		static const char more[] =
			"\x1f\x8b\x00GET /x HTTP/1.1\r\n\r\n\t\x80\xff~\r\r\n\x16";

		same_with_suffix(buf, rc > 0 ? (size_t)rc : len, more, sizeof(more) - 1, rc, &r);
		if (tail_len)
			same_with_suffix(buf, rc > 0 ? (size_t)rc : len, tail, tail_len, rc, &r);
	}
	return rc;
}

static void check_answer(const uint8_t *data, size_t size)
{
	static const int statuses[] = { 200, 400, 404, 405, 431, 500, 503, 0 };
	char type[64], full[256], *out;
	const uint8_t *t = data + size - 8;
	size_t body_len = 0, outlen, n, fn, i;
	char tail[128];
	bool keep_alive;
	int status;

	if (size < 8)
		return;
	for (i = 0; i < sizeof(type) - 1 && i < size - 8 && data[i]; i++)
		type[i] = (char)data[i];
	type[i] = '\0';
	status = t[0] & 0x80 ? (int16_t)(t[0] << 8 | t[1]) : statuses[t[1] % 8];
	keep_alive = t[0] & 0x40;
	outlen = t[2] == 0xff ? 0 : t[2] < 0xf0 ? t[2] : (size_t)(t[2] - 0xef) * 32;
	for (i = 3; i < 8; i++)
		body_len = body_len << 8 | t[i];
	if (t[0] & 0x20)
		body_len = SIZE_MAX - body_len;

	out = malloc(outlen ? outlen : 1);
	if (!out)
		return;
	n = prom_answer_head(out, outlen, status, type, body_len, keep_alive);
	fn = prom_answer_head(full, sizeof(full), status, type, body_len, keep_alive);
	/* type under 64 bytes, the rest under 150: it always fits full */
	assert(fn > 0 && fn < sizeof(full) && fn == strlen(full));
	assert(!memcmp(full, "HTTP/1.1 ", 9));
	snprintf(tail, sizeof(tail), "\r\nContent-Length: %zu\r\n%s%s\r\n", body_len,
		 status == 405 ? "Allow: GET, HEAD\r\n" : "",
		 keep_alive ? "" : "Connection: close\r\n");
	assert(fn > strlen(tail) && !strcmp(full + fn - strlen(tail), tail));
	if (outlen) {
		/* a string, cut from the whole one */
		assert(memchr(out, '\0', outlen));
		assert(!strncmp(out, full, strlen(out)));
		if (n)
			assert(n == fn && n < outlen && n == strlen(out) && !strcmp(out, full));
		else
			assert(fn >= outlen && strlen(out) == outlen - 1);
	} else {
		assert(n == 0);
	}
	free(out);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char *buf, *tail;
	size_t off = 0, tail_len;
	unsigned heads = 0;
	int rc;

	buf = malloc(size ? size : 1);
	/* more bytes of the input's own, whatever they are, to follow a head */
	tail_len = size < 256 ? size : 256;
	tail = malloc(tail_len ? tail_len : 1);
	if (!buf || !tail)
		goto out;
	memcpy(buf, data, size);
	memcpy(tail, data + size - tail_len, tail_len);

	/* each head, then the next one after it: the pipelined requests of one connection */
	do {
		/* buf + off .. buf + size: ASan sees a read past the end of what was given */
		rc = check_one(buf + off, size - off, tail, tail_len);
		if (rc > 0)
			off += (size_t)rc;
	} while (rc > 0 && off < size && ++heads < MAX_HEADS);

	check_answer(data, size);
out:
	free(tail);
	free(buf);
	return 0;
}
