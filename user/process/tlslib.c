// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
#include "process/tlslib.h"

#include "process/elfsyms.h"

#include <errno.h>
#include <stdio.h>
#include <string.h>

static const char *const sym_names[TLS_SYM__COUNT] = {
	[TLS_SYM_SSL_READ] = "SSL_read",
	[TLS_SYM_SSL_WRITE] = "SSL_write",
	[TLS_SYM_SSL_READ_EX] = "SSL_read_ex",
	[TLS_SYM_SSL_WRITE_EX] = "SSL_write_ex",
	[TLS_SYM_SSL_HANDSHAKE] = "SSL_do_handshake",
	[TLS_SYM_GNUTLS_RECV] = "gnutls_record_recv",
	[TLS_SYM_GNUTLS_SEND] = "gnutls_record_send",
	[TLS_SYM_GNUTLS_HANDSHAKE] = "gnutls_handshake",
	[TLS_SYM_PQ_SEND_QUERY] = "PQsendQuery",
	[TLS_SYM_PQ_SEND_QUERY_PARAMS] = "PQsendQueryParams",
	[TLS_SYM_PQ_SEND_PREPARE] = "PQsendPrepare",
	[TLS_SYM_PQ_SEND_QUERY_PREPARED] = "PQsendQueryPrepared",
	[TLS_SYM_PQ_CONNECT_START] = "PQconnectStart",
	[TLS_SYM_PQ_CONNECT_START_PARAMS] = "PQconnectStartParams",
	[TLS_SYM_PQ_FINISH] = "PQfinish",
};

const char *tls_sym_name(enum tls_sym s)
{
	return (unsigned)s < TLS_SYM__COUNT ? sym_names[s] : "?";
}

const char *tls_lib_name(enum tls_lib l)
{
	switch (l) {
	case TLS_LIB_OPENSSL:
		return "OpenSSL";
	case TLS_LIB_GNUTLS:
		return "GnuTLS";
	default:
		return "none";
	}
}

/* Names an application using a TLS library imports, or a TLS library exports. */
static bool tls_api_name(const char *n)
{
	return !strncmp(n, "SSL_", 4) || !strncmp(n, "OPENSSL_", 8) || !strncmp(n, "gnutls_", 7);
}

struct scan {
	Elf *elf;
	size_t len; /* of the image: an offset past it is a header that lies */
	struct tls_elf_info *out;
	bool mentions_tls; /* imports or exports part of a TLS API */
};

static bool scan_symbol(void *ctx, const char *name, const GElf_Sym *sym, bool dynamic)
{
	struct scan *sc = ctx;
	unsigned int type = GELF_ST_TYPE(sym->st_info);
	bool libpq = name[0] == 'P' && name[1] == 'Q'; /* looked up, but no sign of TLS */
	int k;

	(void)dynamic;
	if (!libpq && ((name[0] != 'S' && name[0] != 'g' && name[0] != 'O') || !tls_api_name(name)))
		return true;
	if (!libpq)
		sc->mentions_tls = true;
	if (sym->st_shndx == SHN_UNDEF || sym->st_value == 0 ||
	    (type != STT_FUNC && type != STT_GNU_IFUNC))
		return true;
	for (k = 0; k < TLS_SYM__COUNT; k++) {
		uint64_t off;

		if (!sc->out->offset[k] && !strcmp(name, sym_names[k]) &&
		    !elfsyms_vaddr_offset(sc->elf, sym->st_value, 1, &off) && off < sc->len)
			sc->out->offset[k] = off;
	}
	return true;
}

/* libssl's own code carries its source file names (error records): ssl/ssl_lib.c and the
 * record layer's ssl/record/ files. Programs that only call OpenSSL, and libcrypto, carry neither.
 * (The version text is not a sign: a static link leaves it out unless OpenSSL_version() is
 * called.) */
static bool carries_openssl(const void *buf, size_t len)
{
	return memmem(buf, len, "ssl_lib.c", 9) && memmem(buf, len, "ssl/record/", 11);
}

/* The libpq hooks that read at most rdi and rsi (PQsendPrepare's reads rdx too). */
static bool reads_two_args(int k)
{
	return k >= TLS_SYM_PQ_SEND_QUERY && k != TLS_SYM_PQ_SEND_PREPARE;
}

/* off, or the jump after a first `mov $imm32, %eax|%ecx|%edx|%ebx` (b8..bb, 5 bytes) that
 * leaves rdi and rsi as they were: a jmp rel32 (e9) or rel8 (eb). */
static uint64_t past_mov_stub(const uint8_t *img, size_t len, uint64_t off)
{
	const uint8_t *p = img + off;

	if (off >= len || len - off < 7)
		return off;
	if (p[0] >= 0xb8 && p[0] <= 0xbb && (p[5] == 0xe9 || p[5] == 0xeb))
		return off + 5;
	return off;
}

int tls_elf_inspect(void *buf, size_t len, struct tls_elf_info *out)
{
	struct scan sc = { .out = out, .len = len };
	GElf_Ehdr eh;
	size_t i;
	Elf *e;
	int ret = -EINVAL;

	memset(out, 0, sizeof(*out));
	if (!elfsyms_init())
		return -EINVAL;
	e = elf_memory(buf, len);
	if (!e)
		return -EINVAL;
	if (elf_kind(e) != ELF_K_ELF || !gelf_getehdr(e, &eh) ||
	    (eh.e_type != ET_EXEC && eh.e_type != ET_DYN))
		goto out;
	sc.elf = e;
	out->has_symtab = elfsyms_each(e, true, scan_symbol, &sc) > 0;
	elfsyms_build_id(e, out->build_id);
	if (out->offset[TLS_SYM_SSL_READ] || out->offset[TLS_SYM_SSL_WRITE])
		out->lib = TLS_LIB_OPENSSL;
	else if (out->offset[TLS_SYM_GNUTLS_RECV] || out->offset[TLS_SYM_GNUTLS_SEND])
		out->lib = TLS_LIB_GNUTLS;
	/* only the library's own hooks: one that carries the other's names too (a compatibility
	 * layer) is hooked as what it is, one with no read or write not at all */
	for (i = 0; i < TLS_SYM_PQ_SEND_QUERY; i++)
		if (out->lib == TLS_LIB_NONE ||
		    (out->lib == TLS_LIB_OPENSSL) != (i <= TLS_SYM_SSL_HANDSHAKE))
			out->offset[i] = 0;
	/* libpq is hooked for its queries: without PQsendQuery (PQexec calls it) nothing is */
	out->libpq = out->offset[TLS_SYM_PQ_SEND_QUERY] != 0;
	for (i = TLS_SYM_PQ_SEND_QUERY; i < TLS_SYM__COUNT; i++)
		if (!out->libpq)
			out->offset[i] = 0;
		else if (eh.e_machine == EM_X86_64 && out->offset[i] && reads_two_args((int)i))
			out->offset[i] = past_mov_stub(buf, len, out->offset[i]);
	if (out->lib == TLS_LIB_NONE && !out->has_symtab && !sc.mentions_tls)
		out->stripped_openssl = carries_openssl(buf, len);
	ret = 0;
out:
	elf_end(e);
	return ret;
}
