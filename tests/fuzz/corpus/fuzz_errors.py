#!/usr/bin/env python3
# SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
"""Writes the seed corpus of tests/fuzz/fuzz_errors.c into tests/fuzz/corpus/fuzz_errors/.

Each seed is a panic value (kind, flags, 32 raw bytes, type name, text, out size) and then a
tracker configuration and reports, as fuzz_errors.c says.
Run it again after changing that layout: python3 tests/fuzz/corpus/fuzz_errors.py
"""
import os
import struct

STRING, PTR, STRUCT, INT, FLOAT64 = 24, 22, 25, 2, 14
# indexes into fuzz_errors.c's type_names
BOUNDS, ERRSTR, PLAIN, STR, ERRORS, WRAP, T_INT, T_F64, MYERR, CODE = range(10)


def panic(kind, name=None, known=None, raw=b"", text=None, out=200, nil=False):
    flags = (1 if text is not None else 0) | (2 if nil else 0) | ((known or 0) << 2)
    b = bytes([kind, flags]) + raw.ljust(32, b"\0")[:32]
    if not nil and not known:
        n = (name or "").encode()
        b += bytes([len(n)]) + n
    t = (text or "").encode()
    return b + bytes([len(t)]) + t + bytes([out])


def bounds(x, y, signed, code):
    return struct.pack("<qq??", x, y, signed, code)


FATAL, RECOVERED, SPAN, MSG, CULPRIT, EXTRA = 1, 2, 4, 8, 16, 32
APP, RES_LINE, KNOWN_FN, LONG_FN, KNOWN_MOD, MOD_BYTES, BAD_FILE = 1, 4, 8, 16, 32, 64, 128


def frame(bits, index=0, module=b"", off=0, line=0):
    b = bytes([bits, index])
    if bits & MOD_BYTES and not bits & KNOWN_MOD:
        b += bytes([len(module)]) + module
    return b + bytes([off, line])


def report(ty, flags=0, frames=(), secs=1, msg=b""):
    b = bytes([ty, flags, len(frames), secs])
    if flags & MSG:
        b += bytes([len(msg)]) + msg
    return b + b"".join(frames)


CRASH = [frame(KNOWN_FN | KNOWN_MOD, 2, off=0x7a), frame(APP | RES_LINE | KNOWN_FN | KNOWN_MOD, 1,
                                                        off=0x89, line=15),
         frame(APP | KNOWN_FN | KNOWN_MOD, 0, off=0x10, line=42)]


def tracker(max_groups, per_min):
    return bytes([max_groups - 1, per_min - 1])


SEEDS = {
    "bounds_index": panic(STRUCT, known=BOUNDS, raw=bounds(5, 3, True, 0)) + tracker(4, 2) +
    report(2, FATAL | MSG, CRASH, msg=b"runtime error: index out of range [5] with length 3"),
    "bounds_neg": panic(STRUCT, known=BOUNDS, raw=bounds(-1, 3, True, 7)),
    "errstring": panic(STRING, known=ERRSTR, text="invalid memory address or nil pointer dereference"),
    "errors_new": panic(PTR, known=ERRORS, text="db is down", out=8),
    "named_string": panic(STRING, name="main.Code", text="E\xe942"),
    "float": panic(FLOAT64, known=T_F64, raw=struct.pack("<d", -1.5)),
    "nil": panic(0, nil=True) + tracker(1, 1) + report(0) + report(1) + report(2),
    "repeats": panic(INT, known=T_INT, raw=struct.pack("<q", 7)) + tracker(8, 3) +
    b"".join(report(0, FATAL, CRASH, secs=10) for _ in range(20)),
    "culprits": panic(STRUCT, name="main.myErr") + tracker(2, 1) +
    b"".join(report(3 | (i << 5), CULPRIT | SPAN | (i << 5 & 0xe0), secs=0) for i in range(8)),
    "odd_frames": panic(PTR, known=WRAP, text="a: b") + tracker(16, 4) +
    report(1, MSG | EXTRA, [frame(LONG_FN | BAD_FILE | RES_LINE, 3),
                            frame(MOD_BYTES, 0, module=b"lib\xff\nx.so", off=9),
                            frame(0, 0)] * 5, msg=b"\xc3"),
}

out = os.path.join(os.path.dirname(os.path.abspath(__file__)), "fuzz_errors")
os.makedirs(out, exist_ok=True)
for name, data in SEEDS.items():
    with open(os.path.join(out, name), "wb") as f:
        f.write(data)
