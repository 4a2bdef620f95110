#!/usr/bin/env python3
# SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
"""Writes the seed corpus of tests/fuzz/fuzz_unwind.c into tests/fuzz/corpus/fuzz_unwind/.

Each seed is the fuzzer's input: a flags byte, maps text behind a 2-byte length when flag MAPS
is set, 17 registers of 8 bytes (x86_64 DWARF numbering, rip last) and a stack window. Addresses
of real code cannot be written here (ASLR): the flags make the fuzzer aim rip and stack words
at its own code and libc's. Run it again after changing them:
python3 tests/fuzz/corpus/fuzz_unwind.py
"""
import os
import struct

MAPS, IP_CODE, SP_WINDOW, STACK_CODE = 0x1, 0x2, 0x4, 0x8
SP, IP = 7, 16

MAPS_TEXT = (
    "55d0c0000000-55d0c0001000 r--p 00000000 08:01 1234 /opt/app/bin/crashme\n"
    "55d0c0001000-55d0c0002000 r-xp 00001000 08:01 1234 /opt/app/bin/crashme\n"
    "55d0c0002000-55d0c0003000 rw-p 00000000 00:00 0 \n"
    "7f0000000000-7f0000001000 r-xp 00002000 08:01 99 /usr/lib/x86_64-linux-gnu/libc.so.6\n"
    "7f0000002000-7f0000003000 r-xp 00000000 08:01 97 /opt/app/gone.so (deleted)\n"
    "7fff00000000-7fff00001000 rw-p 00000000 00:00 0 [stack]\n"
    "7fff00002000-7fff00003000 r-xp 00000000 00:00 0 [vdso]\n"
).encode()


def regs(**set_):
    r = [0] * 17
    for name, val in set_.items():
        r[{"sp": SP, "ip": IP, "bp": 6, "bx": 3}[name]] = val
    return struct.pack("<17Q", *r)


def words(*ws):
    return struct.pack(f"<{len(ws)}Q", *ws)


def seed(flags, reg_bytes, stack=b"", maps=None):
    out = bytes([flags | (MAPS if maps is not None else 0)])
    if maps is not None:
        out += struct.pack("<H", len(maps)) + maps
    return out + reg_bytes + stack


# return addresses (low byte's top bit set: turned into code addresses) among saved registers
FRAMES = words(*[0x80 + i if i % 3 == 0 else 0x1000 * i for i in range(64)])

SEEDS = {
    "empty": b"\x00",
    "zero_regs": seed(0, regs()),
    "ip_code_no_stack": seed(IP_CODE, regs(ip=0x1234)),
    "ip_code_frames": seed(IP_CODE | SP_WINDOW | STACK_CODE, regs(ip=0x4321, sp=0), FRAMES),
    "ip_code_frames_max8": seed(0x20 | IP_CODE | SP_WINDOW | STACK_CODE, regs(ip=0x99, sp=8),
                                FRAMES),
    "self_loop": seed(IP_CODE | SP_WINDOW | STACK_CODE, regs(ip=0x80, sp=0), words(0x80) * 32),
    "maps_text": seed(IP_CODE | SP_WINDOW, regs(ip=0x55d0c0001234, sp=0), FRAMES, MAPS_TEXT),
    "maps_vdso_ip": seed(0, regs(ip=0x7fff00002100), b"", MAPS_TEXT),
    "maps_garbage": seed(0, regs(ip=0x7f0000000010), b"", b"1-0 r-xp zz\n\n/x\n-\n" * 4),
    "truncated_regs": seed(IP_CODE, regs(ip=0x500)[:40]),
}

if __name__ == "__main__":
    out = os.path.join(os.path.dirname(os.path.abspath(__file__)), "fuzz_unwind")
    os.makedirs(out, exist_ok=True)
    for name, data in SEEDS.items():
        with open(os.path.join(out, name), "wb") as f:
            f.write(data)
