// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/*
 * HTTP/2 span assembly over hostile connections: a connection table with HTTP/2 and, after
 * it, HTTP/1 (the fallback), fed the events the input describes.
 *
 * Input: byte 0 sets up (bit 0: the watched process accepted the connections, else it
 * connected them; bit 1: their bytes come from a TLS library; bits 2-3: the table holds 1 to 4
 * connections, so that eviction closes some). Then records, each an op byte:
 *  - bit 7 clear, bytes: bit 0 the direction (1: OUT), bits 1-2 the gap after the captured
 *    bytes (none, 1, 100 or 1 MiB more moved than captured), bit 3 the connection (two), bits
 *    4-6 how far time moves on; then a length byte and that many bytes (fewer at the end).
 *  - bit 7 set, an event: bits 0-1 which (close, reopen, the process exits, time goes back),
 *    bit 2 the connection.
 *
 * Besides the sanitizers, it checks every span (end >= start, a server or client span, its
 * attributes within bounds and readable, a name) and the counts: one HTTP/2 stream counted per
 * span of version 2, no connection still counted once the table is gone.
 */
#include <assert.h>
#include <stdbool.h>
#include <stdint.h>
#include <string.h>

#include "protocols/http.h"
#include "protocols/http2.h"

struct fz {
	uint64_t h2_spans;
	uint64_t spans;
};

static void on_span(void *ctx, const struct span *s)
{
	struct fz *f = ctx;
	const char *version;
	size_t i;

	assert(s->end_ns >= s->start_ns);
	assert(s->kind == SPAN_KIND_SERVER || s->kind == SPAN_KIND_CLIENT);
	assert(s->nattrs <= SPAN_MAX_ATTRS);
	assert(s->arena_used <= SPAN_ARENA);
	assert(memchr(s->name, '\0', sizeof(s->name)) && s->name[0]);
	assert(s->pid == 100);
	for (i = 0; i < s->nattrs; i++) {
		const struct span_attr *a = &s->attrs[i];

		assert(a->key && a->key[0]);
		if (!a->is_int) {
			assert(a->soff < SPAN_ARENA);
			assert(memchr(s->arena + a->soff, '\0', SPAN_ARENA - a->soff));
		}
	}
	assert(span_get_str(s, "http.request.method"));
	version = span_get_str(s, "network.protocol.version");
	assert(version);
	if (!strcmp(version, "2"))
		f->h2_spans++;
	if (s->error)
		assert(span_get_str(s, "error.type"));
	f->spans++;
}

static void open_conn(struct conn_table *t, uint64_t id, bool accepted)
{
	struct conn_meta m = { .conn_id = id,
			       .pid = 100,
			       .fd = (int)id + 3,
			       .accepted = accepted,
			       .connected = !accepted,
			       .local_port = 8080,
			       .remote_port = 40000 + (int)id };

	strcpy(m.local_addr, "10.0.0.1");
	strcpy(m.remote_addr, "192.0.2.7");
	conn_table_open(t, &m);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static const uint64_t gaps[] = { 0, 1, 100, 1 << 20 };
	struct fz f = { 0 };
	struct http_tracker_ops ops = { .span = on_span, .ctx = &f };
	struct http2_tracker_stats st;
	struct conn_table *conns;
	struct http2_tracker *h2;
	struct http_tracker *h1;
	uint64_t ts = 1000;
	bool accepted, tls;
	size_t off = 1;

	if (size < 1)
		return 0;
	accepted = data[0] & 1;
	tls = data[0] & 2;
	conns = conn_table_new(1 + ((data[0] >> 2) & 3));
	assert(conns);
	h2 = http2_tracker_new(&ops, conns);
	h1 = http_tracker_new(&ops, conns);
	assert(h2 && h1);
	open_conn(conns, 1, accepted);
	open_conn(conns, 2, accepted);

	while (off < size) {
		uint8_t op = data[off++];
		uint64_t id = 1 + ((op >> (op & 0x80 ? 2 : 3)) & 1);

		if (op & 0x80) {
			switch (op & 3) {
			case 0:
				conn_table_close(conns, id, ts);
				break;
			case 1:
				open_conn(conns, id, accepted);
				break;
			case 2:
				conn_table_proc_exit(conns, 100, ts);
				break;
			default:
				/* events of two CPUs: a later one read first */
				ts -= ts > 5000 ? 5000 : ts;
				break;
			}
		} else {
			struct conn_data d = { .tid = 7,
					       .fd = (int)id + 3,
					       .dir = op & 1 ? CONN_DIR_OUT : CONN_DIR_IN,
					       .from_tls = tls };
			size_t len = off < size ? data[off++] : 0;

			if (len > size - off)
				len = size - off;
			ts += ((op >> 4) & 7) * 1000u;
			d.ts_ns = ts;
			d.data = len ? data + off : NULL;
			d.len = len;
			d.total = len + gaps[(op >> 1) & 3];
			conn_table_data(conns, id, 100, &d);
			off += len;
		}
	}

	conn_table_free(conns);
	http2_tracker_get_stats(h2, &st);
	assert(st.conns == 0);
	assert(st.streams == f.h2_spans);
	http_tracker_free(h1);
	http2_tracker_free(h2);
	return 0;
}
