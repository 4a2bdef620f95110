#!/usr/bin/env python3
# SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
"""Writes the seed corpus of tests/fuzz/fuzz_tracesample.c into tests/fuzz/corpus/fuzz_tracesample/.

Each seed is 10 bytes of configuration and 4-byte operations, as fuzz_tracesample.c says.
Run it again after changing that layout: python3 tests/fuzz/corpus/fuzz_tracesample.py
"""
import os

ALWAYS_ON, ALWAYS_OFF, RATIO, PB_ON, PB_OFF, PB_RATIO = range(6)
ROOT, CHILD, REMOTE_NOT_SAMPLED, REMOTE_SAMPLED = range(4)
ERROR, BIG = 0x40, 0x80


def config(sampler, ratio=0.5, slow_ms=0, traces=8, spans=32, decided=32, grace=20, hold=100,
           remember=255, bytes_512=255):
    return bytes([sampler, round(ratio * 255), slow_ms, traces - 1, spans - 1, decided - 1,
                  grace - 1, hold - 1, remember - 1, bytes_512 - 1])


def span(trace, form, dur=5, advance=1, flags=0):
    return bytes([0, trace | form << 4 | flags, dur, advance])


def tick(advance):
    return bytes([3 | 0x10, 0, 0, advance])


def back(trace, form, ms):
    return bytes([0x80, trace | form << 4, 1, ms * 4])


FLUSH = bytes([3, 0, 0, 0])


def trace3(trace, flags_child=0, flags_root=0, root=ROOT, dur=5):
    """two children, then their root, as a proxied request finishes"""
    return (span(trace, CHILD, 1, flags=flags_child) + span(trace, CHILD, 2) +
            span(trace, root, dur, flags=flags_root))


SEEDS = {
    "ratio_whole_traces": config(RATIO, 0.3) + b"".join(trace3(i) for i in range(12)) + tick(30),
    "error_rescues": config(RATIO, 0) + trace3(9, flags_child=ERROR) + trace3(10) +
    span(10, CHILD, 1, flags=ERROR) + tick(25) + trace3(11, flags_root=ERROR),
    "slow_root": config(RATIO, 0, slow_ms=50) + trace3(9, dur=60) + trace3(10, dur=40) + tick(30),
    "parentbased_remote": config(PB_RATIO, 0.5) + trace3(1, root=REMOTE_SAMPLED) +
    trace3(2, root=REMOTE_NOT_SAMPLED) + trace3(9) + span(1, CHILD) + tick(25) + span(2, CHILD),
    "parentbased_on_orphans": config(PB_ON) + span(3, CHILD) + span(4, CHILD) + tick(101) +
    span(3, ROOT),
    "caps": config(RATIO, 0, traces=2, spans=5, bytes_512=8) +
    b"".join(span(i, CHILD, flags=BIG if i % 3 == 0 else 0) for i in range(4, 16)) + FLUSH,
    "remembered": config(PB_OFF, decided=2, remember=10) + trace3(1, root=REMOTE_SAMPLED) +
    trace3(2) + trace3(3) + tick(11) + span(1, CHILD),
    "clock_back": config(ALWAYS_OFF) + span(5, ROOT) + back(5, CHILD, 30) + tick(19) + tick(2) +
    span(5, CHILD),
    "always_on": config(ALWAYS_ON) + trace3(1) + trace3(7, flags_root=ERROR) + FLUSH,
}

out = os.path.join(os.path.dirname(os.path.abspath(__file__)), "fuzz_tracesample")
os.makedirs(out, exist_ok=True)
for name, data in SEEDS.items():
    with open(os.path.join(out, name), "wb") as f:
        f.write(data)
