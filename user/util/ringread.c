// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
#include "util/ringread.h"

#include <errno.h>
#include <linux/bpf.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/mman.h>
#include <sys/syscall.h>
#include <unistd.h>

/* The record at pos, whole: in place, or copied into the bounce buffer when it wraps. */
static void *record_at(struct ringread_view *v, uint64_t pos, size_t len)
{
	size_t off = (size_t)(pos & (v->size - 1)), first = v->size - off;

	if (len <= first)
		return (void *)(v->data + off);
	if (len > v->bounce_cap) {
		uint8_t *b = realloc(v->bounce, len);

		if (!b)
			return NULL;
		v->bounce = b;
		v->bounce_cap = len;
	}
	memcpy(v->bounce, v->data + off, first);
	memcpy(v->bounce + first, v->data, len - first);
	return v->bounce;
}

int ringread_consume(struct ringread_view *v, ringread_fn fn, void *ctx)
{
	uint64_t cons = __atomic_load_n(v->consumer_pos, __ATOMIC_ACQUIRE);
	int n = 0;

	for (;;) {
		uint64_t prod = __atomic_load_n(v->producer_pos, __ATOMIC_ACQUIRE);

		if (cons >= prod)
			break;
		while (cons < prod) {
			/* a header never wraps: records are 8-byte aligned, the size a multiple */
			const uint32_t *hdr = (const uint32_t *)(v->data + (cons & (v->size - 1)));
			uint32_t len = __atomic_load_n(hdr, __ATOMIC_ACQUIRE);
			uint64_t next;

			if (len & RINGREAD_BUSY_BIT)
				return n;
			next = cons +
			       ((RINGREAD_HDR_SZ + (len & ~RINGREAD_DISCARD_BIT) + 7) & ~7ull);
			if (!(len & RINGREAD_DISCARD_BIT)) {
				void *rec = record_at(v, cons + RINGREAD_HDR_SZ, len);

				if (!rec)
					return -ENOMEM;
				fn(ctx, rec, len);
				n++;
			}
			cons = next;
			__atomic_store_n(v->consumer_pos, cons, __ATOMIC_RELEASE);
		}
	}
	return n;
}

struct ringread {
	struct ringread_view v;
	ringread_fn fn;
	void *ctx;
	int epfd;
	void *cons_map, *prod_map; /* the consumer page; the producer page and the data */
	size_t page;
};

void ringread_free(struct ringread *r)
{
	if (!r)
		return;
	if (r->cons_map && r->cons_map != MAP_FAILED)
		munmap(r->cons_map, r->page);
	if (r->prod_map && r->prod_map != MAP_FAILED)
		munmap(r->prod_map, r->page + r->v.size);
	if (r->epfd >= 0)
		close(r->epfd);
	free(r->v.bounce);
	free(r);
}

/* The map's max_entries: the size of its data (without libbpf, which unit tests do not link). */
static int map_data_size(int fd, size_t *size)
{
	struct bpf_map_info info;
	union bpf_attr attr;

	memset(&info, 0, sizeof(info));
	memset(&attr, 0, sizeof(attr));
	attr.info.bpf_fd = (uint32_t)fd;
	attr.info.info_len = sizeof(info);
	attr.info.info = (uint64_t)(uintptr_t)&info;
	if (syscall(SYS_bpf, BPF_OBJ_GET_INFO_BY_FD, &attr, sizeof(attr)) < 0)
		return -errno;
	if (info.type != BPF_MAP_TYPE_RINGBUF)
		return -EINVAL;
	*size = info.max_entries;
	return 0;
}

struct ringread *ringread_open(int map_fd, ringread_fn fn, void *ctx)
{
	struct epoll_event ev = { .events = EPOLLIN };
	struct ringread *r = calloc(1, sizeof(*r));
	int err;

	if (!r)
		return NULL;
	r->epfd = -1;
	r->fn = fn;
	r->ctx = ctx;
	r->page = (size_t)sysconf(_SC_PAGESIZE);
	err = map_data_size(map_fd, &r->v.size);
	if (err || !r->v.size || (r->v.size & (r->v.size - 1))) {
		ringread_free(r);
		errno = err ? -err : EINVAL;
		return NULL;
	}
	r->cons_map = mmap(NULL, r->page, PROT_READ | PROT_WRITE, MAP_SHARED, map_fd, 0);
	r->prod_map =
		mmap(NULL, r->page + r->v.size, PROT_READ, MAP_SHARED, map_fd, (off_t)r->page);
	r->epfd = epoll_create1(EPOLL_CLOEXEC);
	if (r->cons_map == MAP_FAILED || r->prod_map == MAP_FAILED || r->epfd < 0 ||
	    epoll_ctl(r->epfd, EPOLL_CTL_ADD, map_fd, &ev)) {
		err = errno;
		ringread_free(r);
		errno = err;
		return NULL;
	}
	r->v.consumer_pos = r->cons_map;
	r->v.producer_pos = r->prod_map;
	r->v.data = (const uint8_t *)r->prod_map + r->page;
	return r;
}

_Static_assert(RINGREAD_BUSY_BIT == BPF_RINGBUF_BUSY_BIT &&
		       RINGREAD_DISCARD_BIT == BPF_RINGBUF_DISCARD_BIT &&
		       RINGREAD_HDR_SZ == BPF_RINGBUF_HDR_SZ,
	       "the kernel's ring buffer header");

int ringread_drain(struct ringread *r)
{
	return ringread_consume(&r->v, r->fn, r->ctx);
}

bool ringread_view_pending(const struct ringread_view *v)
{
	return __atomic_load_n(v->producer_pos, __ATOMIC_ACQUIRE) !=
	       __atomic_load_n(v->consumer_pos, __ATOMIC_RELAXED);
}

bool ringread_pending(const struct ringread *r)
{
	return ringread_view_pending(&r->v);
}

int ringread_poll(struct ringread *r, int timeout_ms)
{
	struct epoll_event ev;

	if (epoll_wait(r->epfd, &ev, 1, timeout_ms) < 0)
		return -errno;
	return ringread_drain(r);
}
