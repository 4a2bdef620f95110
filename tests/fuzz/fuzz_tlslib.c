// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/*
 * Input: a file tls.c maps from a traced process (any bytes: processes map what they like),
 * and, up to its first newline, a /proc/PID/maps line.
 * Besides the sanitizers, checks that a failed inspection reports no library, that reported
 * offsets and probe sites lie inside the file, that an absent hook has no site, that the
 * build-id is NUL-terminated lower-case hex of whole bytes, and that a parsed maps path lies
 * inside the line it came from.
 */
#include <assert.h>
#include <errno.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "process/procfs.h"
#include "process/tlslib.h"
#include "process/x86sites.h"

static void check_elf(const uint8_t *data, size_t size)
{
	struct tls_elf_info info;
	size_t n;
	uint8_t *img;
	int err, k;

	/* libelf may rewrite its input in place; libFuzzer's input must stay as it was */
	img = malloc(size ? size : 1);
	if (!img)
		return;
	memcpy(img, data, size);
	err = tls_elf_inspect(img, size, size & 1 ? X86_EMUL_PUSH : 0, &info);
	free(img);
	assert(err == 0 || err == -EINVAL);
	if (err)
		assert(info.lib == TLS_LIB_NONE);
	for (k = 0; k < TLS_SYM__COUNT; k++) {
		const struct tls_site *site = &info.site[k];

		assert(!info.offset[k] || info.offset[k] < size);
		/* tls.c hands the site's offset to the kernel as a place in this file */
		if (info.offset[k])
			assert(site->kind != TLS_SITE_NONE && site->offset < size);
		else
			assert(site->kind == TLS_SITE_NONE);
		if (site->kind == TLS_SITE_NONE)
			assert(site->offset == 0 && !site->emulated && !site->shared);
		assert(memchr(site->insn, '\0', sizeof(site->insn)));
		assert(memchr(site->how, '\0', sizeof(site->how)));
	}
	assert(memchr(info.build_id, '\0', sizeof(info.build_id)));
	n = strlen(info.build_id);
	assert(n % 2 == 0 && n <= 40);
	assert(strspn(info.build_id, "0123456789abcdef") == n);
}

static void check_maps_line(const uint8_t *data, size_t size)
{
	const uint8_t *nl = memchr(data, '\n', size);
	size_t n = nl ? (size_t)(nl - data) : size;
	struct maps_entry e;
	char *line;

	line = malloc(n + 1);
	if (!line)
		return;
	memcpy(line, data, n);
	line[n] = '\0';
	if (maps_parse_line(line, &e) == 0) {
		/* tls.c opens this path: it must be the line's own text, terminated inside it */
		assert(e.path >= line && e.path <= line + n);
		assert(e.path + strlen(e.path) <= line + n);
		assert(!e.deleted || strlen(e.path) < n);
	}
	free(line);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	check_elf(data, size);
	check_maps_line(data, size);
	return 0;
}
