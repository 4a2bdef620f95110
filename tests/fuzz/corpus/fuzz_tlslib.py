#!/usr/bin/python3.11
# SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
"""Writes the seed corpus of tests/fuzz/fuzz_tlslib.c into tests/fuzz/corpus/fuzz_tlslib/.

The fuzzer reads each input as a whole file mapped by a traced process (tls_elf_inspect) and,
up to its first newline, as a /proc/PID/maps line. The real libraries are too large to commit
(libssl.so.3 ~700 KiB, libgnutls ~2 MiB), so the ELF seeds are small x86-64 shared objects
built here with struct, as tests/unit/test_tlslib.c's syn_elf() builds them: one PT_LOAD,
.text, .dynstr, .dynsym, optionally .symtab, a GNU build-id note, .rela.plt and read-only data,
with code shaped like the libraries': OpenSSL's SSL_read/SSL_read_ex calling one shared worker
(TLS_SITE_WORKER), GnuTLS's gnutls_record_send jumping through a PLT entry to
gnutls_record_send2 (TLS_SITE_TAIL) and gnutls_record_recv jumping to _gnutls_recv_int with
(session, 23, data, size) (TLS_SITE_RECV_INT), libpq's PQsendQuery as `mov $1,%edx; jmp`
(TLS_SITE_INSIDE), a stripped static OpenSSL known by its source file names, and files cut
short. An odd-sized input tells the fuzzer the kernel emulates push (X86_EMUL_PUSH), so each
ELF seed comes in an even and an odd size. The other seeds are maps lines as the kernel writes
them. Run it again after changing it: /usr/bin/python3.11 tests/fuzz/corpus/fuzz_tlslib.py
"""
import os
import struct
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from elfnames import append_section_headers, section_names  # noqa: E402

VBASE = 0x200000
TEXT = 0x100         # file offset of .text
TEXT_LEN = 0x200
PLT = TEXT + 0x1e0    # a PLT entry inside .text: jmp *slot(%rip)
SLOT = VBASE + 0x1000  # the GOT slot the PLT entry reads (only named by .rela.plt)

STT_FUNC, STT_OBJECT, STB_GLOBAL = 2, 1, 1
SHT_PROGBITS, SHT_SYMTAB, SHT_STRTAB, SHT_RELA, SHT_NOTE, SHT_DYNSYM = 1, 2, 3, 4, 7, 11
R_X86_64_JUMP_SLOT = 7


def rel32(frm, to):
    """The rel32 of a 5-byte call/jmp at text offset frm to text offset to."""
    return struct.pack("<i", to - (frm + 5))


def call(frm, to):
    return b"\xe8" + rel32(frm, to)


def jmp(frm, to):
    return b"\xe9" + rel32(frm, to)


SUB8, ADD8, RET = b"\x48\x83\xec\x08", b"\x48\x83\xc4\x08", b"\xc3"
PUSH_RBP_FRAME = b"\x55\x48\x89\xe5"   # push %rbp; mov %rsp,%rbp
ENDBR64 = b"\xf3\x0f\x1e\xfa"


def openssl_code():
    """SSL_read 0x00, SSL_read_ex 0x20, SSL_write 0x40, SSL_write_ex 0x60,
    SSL_do_handshake 0x80, read worker 0xa0, write worker 0xc0."""
    code = {}
    for f, fex, worker in ((0x00, 0x20, 0xa0), (0x40, 0x60, 0xc0)):
        # SSL_read: sub $0x18,%rsp; lea 0x8(%rsp),%rcx; call worker; add; ret
        pre = b"\x48\x83\xec\x18\x48\x8d\x4c\x24\x08"
        code[f] = pre + call(f + len(pre), worker) + b"\x48\x83\xc4\x18" + RET
        # SSL_read_ex: sub $8,%rsp; call worker; add $8,%rsp; ret
        code[fex] = SUB8 + call(fex + 4, worker) + ADD8 + RET
        # the worker: push %rbp; mov %rsp,%rbp; xor %eax,%eax; pop %rbp; ret
        code[worker] = PUSH_RBP_FRAME + b"\x31\xc0\x5d" + RET
    code[0x80] = ENDBR64 + b"\x31\xc0" + RET
    return code


def gnutls_code():
    """gnutls_record_recv 0x00, gnutls_record_send 0x20, gnutls_handshake 0x40,
    _gnutls_recv_int 0xa0, gnutls_record_send2 0xc0, its PLT entry at PLT."""
    code = {}
    # sub $8,%rsp; mov %rdx,%rcx; mov %rsi,%rdx; mov $23,%esi; add $8,%rsp; jmp _gnutls_recv_int
    body = SUB8 + b"\x48\x89\xd1\x48\x89\xf2\xbe\x17\x00\x00\x00" + ADD8
    code[0x00] = body + jmp(len(body), 0xa0)
    # xor %ecx,%ecx; jmp gnutls_record_send2@plt
    code[0x20] = b"\x31\xc9" + jmp(0x22, PLT - TEXT)
    code[0x40] = b"\x41\x54" + b"\x31\xc0\x41\x5c" + RET  # push %r12 ... pop %r12; ret
    code[0xa0] = PUSH_RBP_FRAME + b"\x31\xc0\x5d" + RET
    code[0xc0] = b"\x41\x57" + b"\x31\xc0\x41\x5f" + RET  # push %r15 ... pop %r15; ret
    return code


def libpq_code():
    """PQsendQuery 0x00, PQsendQueryParams 0x20, PQsendPrepare 0x40, PQsendQueryPrepared 0x60,
    PQconnectStart 0x80, PQconnectStartParams 0x90, PQfinish 0xa0, PQsendQueryInternal 0xc0."""
    code = {0x00: b"\xba\x01\x00\x00\x00" + jmp(0x05, 0xc0),     # mov $1,%edx; jmp
            0x20: PUSH_RBP_FRAME + b"\x31\xc0\x5d" + RET,
            0x40: b"\xba\x01\x00\x00\x00" + RET,                 # mov $1,%edx; ret
            0x60: b"\xb9\x01\x00\x00\x00\xeb\x00" + RET,         # mov $1,%ecx; jmp .+0
            0x80: b"\x48\x85\xff\x74\x01" + RET + RET,           # test %rdi,%rdi; je
            0x90: ENDBR64 + RET,
            0xa0: b"\x53\x48\x89\xfb\x5b" + RET,                 # push %rbx; mov; pop; ret
            0xc0: PUSH_RBP_FRAME + b"\x5d" + RET}
    return code


def elf(syms, code, symtab=True, build_id=20, blob=b"", rela=(), e_type=3, load_extra=0,
        machine=62):
    """syms: (name, text offset or None for undefined, is_object). rela: names of .dynsym
    symbols whose JUMP_SLOT is SLOT."""
    text = bytearray(b"\xcc" * TEXT_LEN)
    for at, insns in code.items():
        text[at:at + len(insns)] = insns
    # jmp *(SLOT)(%rip) at PLT
    text[PLT - TEXT:PLT - TEXT + 6] = b"\xff\x25" + struct.pack("<i", SLOT - (VBASE + PLT + 6))

    out = bytearray(TEXT)
    out += text
    sections = [(b"", 0, 0, 0, 0, 0, 0, 0, 0, 0)]  # name, type, flags, addr, off, size, link, info, align, entsize

    def add(name, typ, flags, data, align=1, link=0, info=0, entsize=0, addr=None):
        while len(out) % align:
            out.append(0)
        off = len(out)
        out.extend(data)
        sections.append((name, typ, flags, VBASE + off if addr is None else addr, off,
                         len(data), link, info, align, entsize))
        return len(sections) - 1

    sections.append((b".text", SHT_PROGBITS, 6, VBASE + TEXT, TEXT, TEXT_LEN, 0, 0, 16, 0))
    names = bytearray(b"\0")
    entries = [bytes(24)]
    for name, at, obj in syms:
        st_name = len(names)
        names += name.encode() + b"\0"
        info = STB_GLOBAL << 4 | (STT_OBJECT if obj else STT_FUNC)
        if at is None:
            entries.append(struct.pack("<IBBHQQ", st_name, info, 0, 0, 0, 0))
        else:
            entries.append(struct.pack("<IBBHQQ", st_name, info, 0, 1, VBASE + TEXT + at, 0x20))
    dynstr = add(b".dynstr", SHT_STRTAB, 2, bytes(names))
    dynsym = add(b".dynsym", SHT_DYNSYM, 2, b"".join(entries), 8, dynstr, 1, 24)
    if symtab:
        add(b".symtab", SHT_SYMTAB, 0, b"".join(entries), 8, dynstr, 1, 24)
    if build_id:
        desc = bytes((0xa0 + i * 7) & 0xff for i in range(build_id))
        desc += bytes(-len(desc) % 4)
        add(b".note.gnu.build-id", SHT_NOTE, 2,
            struct.pack("<III", 4, build_id, 3) + b"GNU\0" + desc, 4)
    if rela:
        index = {name: i + 1 for i, (name, _, _) in enumerate(syms)}
        add(b".rela.plt", SHT_RELA, 2, b"".join(
            struct.pack("<QQq", SLOT, index[n] << 32 | R_X86_64_JUMP_SLOT, 0) for n in rela),
            8, dynsym, 0, 24)
    if blob:
        add(b".rodata", SHT_PROGBITS, 2, blob, 16)
    shstr, name_off = section_names(sections)
    shstrndx = add(b".shstrtab", SHT_STRTAB, 0, shstr, addr=0)
    shoff = append_section_headers(out, sections, name_off)
    ehdr = (b"\x7fELF\x02\x01\x01" + bytes(9)
            + struct.pack("<HHIQQQIHHHHHH", e_type, machine, 1, 0, 64, shoff, 0, 64, 56, 1, 64,
                          len(sections), shstrndx))
    size = len(out) + load_extra
    phdr = struct.pack("<IIQQQQQQ", 1, 5, 0, VBASE, VBASE, size, size, 0x1000)
    out[0:64 + 56] = ehdr + phdr
    return bytes(out)


OPENSSL = [("SSL_read", 0x00, False), ("SSL_read_ex", 0x20, False), ("SSL_write", 0x40, False),
           ("SSL_write_ex", 0x60, False), ("SSL_do_handshake", 0x80, False),
           ("SSL_free", 0xe0, False), ("malloc", None, False)]
GNUTLS = [("gnutls_record_recv", 0x00, False), ("gnutls_record_send", 0x20, False),
          ("gnutls_handshake", 0x40, False), ("gnutls_record_send2", 0xc0, False),
          ("gnutls_deinit", 0xe0, False), ("free", None, False)]
LIBPQ = [("PQsendQuery", 0x00, False), ("PQsendQueryParams", 0x20, False),
         ("PQsendPrepare", 0x40, False), ("PQsendQueryPrepared", 0x60, False),
         ("PQconnectStart", 0x80, False), ("PQconnectStartParams", 0x90, False),
         ("PQfinish", 0xa0, False), ("SSL_read", None, False)]
STRIPPED_BLOB = b"../ssl/record/rec_layer_s3.c\0../ssl/ssl_lib.c\0OpenSSL 3.0.11 19 Sep 2023\0"

ELF_SEEDS = {
    "openssl3_worker": elf(OPENSSL, openssl_code()),
    "openssl_dynsym_only": elf(OPENSSL, openssl_code(), symtab=False, build_id=0),
    "openssl_exec_no_ex": elf(OPENSSL[:1] + OPENSSL[2:3], openssl_code(), e_type=2),
    "gnutls_tail_recv_int": elf(GNUTLS, gnutls_code(), rela=("gnutls_record_send2",)),
    "gnutls_plt_elsewhere": elf(GNUTLS[:3] + [("gnutls_record_send2", None, False)],
                                gnutls_code(), rela=("gnutls_record_send2",)),
    "libpq_inside": elf(LIBPQ, libpq_code(), build_id=8),
    "libpq_and_openssl": elf(OPENSSL[:5] + LIBPQ[:1], {**openssl_code(), 0xe0: b"\xba\x01\0\0\0\xc3"}),
    "both_libraries": elf(GNUTLS[:2] + OPENSSL[:2], {**gnutls_code(), **openssl_code()}),
    "openssl_object_and_undef": elf([("SSL_read", None, False), ("SSL_write", 0x40, True),
                                     ("gnutls_record_recv", None, False)], openssl_code()),
    "stripped_static_openssl": elf([("malloc", None, False), ("OPENSSL_init_ssl", None, False)],
                                   {}, symtab=False, blob=STRIPPED_BLOB),
    "load_past_end": elf(OPENSSL, openssl_code(), load_extra=0x10000),
    "aarch64": elf(OPENSSL, openssl_code(), machine=183),
    "relocatable": elf(OPENSSL, openssl_code(), e_type=1),
}
ELF_SEEDS["cut_in_sections"] = ELF_SEEDS["openssl3_worker"][:0x300]
ELF_SEEDS["header_only"] = ELF_SEEDS["openssl3_worker"][:64]

MAPS = [
    "7f2a1c000000-7f2a1c021000 r-xp 00022000 08:01 1310734                    "
    "/usr/lib/x86_64-linux-gnu/libssl.so.3",
    "7f2a1c021000-7f2a1c022000 r--p 00000000 00:00 0 ",
    "7f2a1d000000-7f2a1d100000 r-xp 00000000 fd:00 42 /opt/my app/lib/libgnutls.so.30 (deleted)",
    "55d0c0001000-55d0c0002000 r-xp 00001000 08:01 1234 /usr/sbin/nginx\x00trailing",
    "7fff00000000-7fff00021000 rw-p 00000000 00:00 0                          [stack]",
    "7f0000000000-7f0000001000 r-xp 00000000 00:2f 99 /memfd:libpq (deleted)",
    "ffffffffff600000-ffffffffff601000 --xp 00000000 00:00 0 [vsyscall]",
    "7f00-7f01 r-xp zz 08:01 1 /bad/offset",
    "7f2a1c000000 r-xp 00000000 08:01 1 /no/range",
]

here = os.path.join(os.path.dirname(os.path.abspath(__file__)), "fuzz_tlslib")
os.makedirs(here, exist_ok=True)
for name, data in ELF_SEEDS.items():
    assert len(data) < 64 * 1024
    even = data if len(data) % 2 == 0 else data + b"\0"
    for suffix, img in (("", even), ("_push", even + b"\0")):
        with open(os.path.join(here, name + suffix), "wb") as f:
            f.write(img)
for i, line in enumerate(MAPS):
    with open(os.path.join(here, f"maps_{i}"), "wb") as f:
        f.write(line.encode() + b"\n" + (b"\x7fELF" if i == 0 else b""))
