#!/usr/bin/env python3
# SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
"""Writes the seed corpus of tests/fuzz/fuzz_otlp_traces.c into tests/fuzz/corpus/fuzz_otlp_traces/.

Each seed is a flags byte, processes and spans, as fuzz_otlp_traces.c says.
Run it again after changing that layout: python3 tests/fuzz/corpus/fuzz_otlp_traces.py
"""
import os
import struct

CFG, HOST, VERSION, EXTRA, ZERO_OFFSET = 1, 2, 4, 8, 16
SERVER, CLIENT, INTERNAL = 2, 3, 0
PARENT, ERROR, EXCEPTION, ESCAPED = 8, 16, 32, 64
# indexes into fuzz_otlp_traces.c's keys[]
METHOD, PATH, EMPTY_KEY, PORT, K, LONG_KEY = range(6)
INT, PAD = 0x80, 0x40


def s(b):
    b = b.encode() if isinstance(b, str) else b
    return bytes([len(b)]) + b


def header(flags, nprocs):
    return bytes([flags | nprocs << 5])


def proc(pid, svc, exe, container=False, pod=None):
    what = (1 if container else 0) | (2 if pod is not None else 0) | (1 << 2 if pod else 0)
    out = bytes([pid]) + s(svc) + s(exe) + bytes([what])
    return out + (s(pod) if pod is not None else b"")


def span(kind, flags, start, dur, name, attrs=(), exc=None):
    out = bytes([kind, flags]) + struct.pack(">HH", start, dur) + s(name) + bytes([len(attrs)])
    for key, val in attrs:
        if isinstance(val, int):
            out += bytes([key | INT]) + struct.pack(">q", val)
        else:
            out += bytes([key]) + s(val)
    if flags & EXCEPTION:
        out += b"".join(s(x) for x in exc)
    return out


HTTP = ((METHOD, "GET"), (PATH, "/users/42"), (PORT, 8080))

SEEDS = {
    "one_http_span": header(CFG | HOST | VERSION | EXTRA, 1) + proc(1, "shop", "nginx") +
    span(SERVER, 0 | PARENT, 1000, 250, "GET /users/{id}", HTTP),
    "processes_and_errors": header(CFG | HOST, 3) + proc(1, "a", "x") + proc(1, "b", "x") +
    proc(3, "", "worker") + b"".join(
        span(SERVER if i % 2 else CLIENT, (i % 4) | (ERROR if i % 3 == 0 else 0), i, 7,
             "span %d" % i, HTTP[: i % 4]) for i in range(12)) +
    span(SERVER, 1 | ERROR | EXCEPTION | ESCAPED, 5, 5, "crash", (),
         ("ValueError", "bad value", "frame 1\nframe 2\n")),
    "utf8_and_limits": header(0, 1) + proc(2, b"caf\xc3\xa9\xff", b"\xe2\x82") +
    span(INTERNAL, 0, 0, 0, b"n" * 170) +
    span(SERVER, 0, 1, 1, b"bad \xff\xfe \xed\xa0\x80", (
        (PATH | PAD, b"\xf0\x9f\x98\x80"), (LONG_KEY, "v"), (EMPTY_KEY, ""), (K, -1),
        (METHOD | PAD, b"\xc3"))) +
    span(SERVER, EXCEPTION, 2, 2, "exc", (), (b"T\xff", "", "")),
    "k8s_zero_times": header(ZERO_OFFSET, 2) + proc(4, "web", "goserver", True, "web-7d9f") +
    proc(4, "web", "goserver") +
    span(SERVER, 0, 0, 0, "a", HTTP) + span(SERVER, 1, 0, 3, "b") + span(CLIENT, 2, 9, 0, "c"),
}

if __name__ == "__main__":
    out = os.path.join(os.path.dirname(os.path.abspath(__file__)), "fuzz_otlp_traces")
    os.makedirs(out, exist_ok=True)
    for name, data in SEEDS.items():
        with open(os.path.join(out, name), "wb") as f:
            f.write(data)
