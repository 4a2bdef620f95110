#!/usr/bin/python3.11
# SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
"""Writes the seed corpus of tests/fuzz/fuzz_goruntime.c into tests/fuzz/corpus/fuzz_goruntime/.

Each seed is the contents of a .go.buildinfo section, built here with struct as the Go linker
lays it out (cmd/link, debug/buildinfo): the 14-byte magic, pointer size, flags, then either
(flags & 2, Go 1.18 on) the version and the module info inline as uvarint-length-prefixed
strings after the 32-byte header, as in Debian's /usr/bin/go (go1.19.8), or (Go 1.13-1.17) the
addresses of runtime.buildVersion and runtime.modinfo at offset 16, 4 or 8 bytes each, little
or big endian. Besides those: a version longer than the parser keeps, multi-byte and overlong
uvarints, lengths past the end, non-printable versions, a zero pointer, and sections cut
short. Run it again after changing it: /usr/bin/python3.11 tests/fuzz/corpus/fuzz_goruntime.py
"""
import os
import struct

MAGIC = b"\xff Go buildinf:"
assert len(MAGIC) == 14
# cmd/go wraps the module info in these 16-byte sentinels (runtime/debug.modinfoStart/End)
INFO_START = bytes.fromhex("3077af0c9274080241e1c107e6d618e6")
INFO_END = bytes.fromhex("f932433186182072008242104116d8f2")
MODINFO = (INFO_START + b"path\tcmd/go\nmod\tcmd\t(devel)\t\nbuild\t-compiler=gc\n"
           b"build\tCGO_ENABLED=1\nbuild\tGOARCH=amd64\nbuild\tGOOS=linux\nbuild\tGOAMD64=v1\n"
           + INFO_END)


def uvarint(n):
    out = bytearray()
    while n >= 0x80:
        out.append(n & 0x7f | 0x80)
        n >>= 7
    out.append(n)
    return bytes(out)


def inline(version, modinfo=MODINFO, ptr_size=8, flags=2):
    hdr = MAGIC + bytes([ptr_size, flags]) + bytes(16)
    return hdr + uvarint(len(version)) + version + uvarint(len(modinfo)) + modinfo


def pointers(version_addr, modinfo_addr, ptr_size=8, big_endian=False):
    fmt = (">" if big_endian else "<") + ("Q" if ptr_size == 8 else "I") * 2
    body = struct.pack(fmt, version_addr, modinfo_addr)
    return (MAGIC + bytes([ptr_size, 1 if big_endian else 0]) + body).ljust(32, b"\0")


SEEDS = {
    "go1_19_inline": inline(b"go1.19.8"),
    "go1_23_inline": inline(b"go1.23.8", MODINFO.replace(b"cmd/go", b"k8s.io/kubectl")),
    "go1_22_devel": inline(b"devel go1.22-3f8f929d60 Wed Feb 7 2024 +0000"),
    "inline_no_modinfo": inline(b"go1.21.0", b""),
    "inline_32bit_be": inline(b"go1.20.14", ptr_size=4, flags=3),
    "inline_long_version": inline(b"go1.24.0-X:" + b"nocoverageredesign," * 12),
    "inline_2byte_uvarint": MAGIC + b"\x08\x02" + bytes(16) + b"\x80\x01" + b"g" * 128,
    "go1_16_pointers_le64": pointers(0x9a6ef0, 0x9a6f00),
    "go1_13_pointers_le32": pointers(0x81c2a40, 0x81c2a48, ptr_size=4),
    "go1_17_pointers_be64": pointers(0x1004c8f10, 0x1004c8f20, big_endian=True),
    "pointers_be32": pointers(0x10c8f10, 0x10c8f18, ptr_size=4, big_endian=True),
    # what the parser must refuse
    "zero_pointer": pointers(0, 0x9a6f00),
    "bad_ptr_size": inline(b"go1.19.8", ptr_size=2),
    "version_unprintable": inline(b"go1.19\n\x7f"),
    "version_empty": inline(b""),
    "length_past_end": MAGIC + b"\x08\x02" + bytes(16) + b"\x7fgo1.19",
    "uvarint_unterminated": MAGIC + b"\x08\x02" + bytes(16) + b"\xff" * 9,
    "uvarint_overlong": MAGIC + b"\x08\x02" + bytes(16) + b"\xff" * 9 + b"\x02",
    "header_cut": inline(b"go1.19.8")[:20],
    "version_cut": inline(b"go1.19.8")[:36],
    "magic_only": MAGIC,
    "not_buildinfo": b"\x7fELF\x02\x01\x01" + bytes(25) + b"\x08go1.19.8",
}

here = os.path.join(os.path.dirname(os.path.abspath(__file__)), "fuzz_goruntime")
os.makedirs(here, exist_ok=True)
for name, data in SEEDS.items():
    with open(os.path.join(here, name), "wb") as f:
        f.write(data)
