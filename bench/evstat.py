#!/usr/bin/python3.11
# SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
"""Events and bytes in an obsprobe recording (--record FILE), by type, per unit of work.

Usage: evstat.py FILE UNITS [UNIT_NAME]
Prints one line per event kind: events per UNIT, bytes per UNIT. Socket data events are split
by direction (read/write) and by where they came from (syscall, TLS library, Go), as the
pipeline handles them differently. The layouts are include/obsprobe/common.h and sock.h's.
"""
import struct
import sys

SYSCALLS = ["?", "read", "readv", "recvfrom", "recvmsg", "write", "writev", "sendto", "sendmsg",
            "sendfile", "accept", "connect", "close", "tls_read", "tls_write"]
TYPES = {1: "proc_fork", 2: "proc_exit", 3: "sock_open", 4: "sock_data", 5: "sock_close",
         6: "proc_exec", 7: "mem_oom", 8: "proc_mmap", 9: "libpq", 10: "go", 11: "proc_listen",
         12: "log", 13: "fault", 14: "go_panic"}
MAGIC = b"obsprobe events 1\n"


def main():
    path, units = sys.argv[1], int(sys.argv[2])
    unit = sys.argv[3] if len(sys.argv) > 3 else "request"
    counts, sizes = {}, {}
    with open(path, "rb") as f:
        if f.read(len(MAGIC)) != MAGIC:
            sys.exit(f"{path}: not an obsprobe recording")
        while True:
            n = f.read(4)
            if len(n) < 4:
                break
            (size,) = struct.unpack("<I", n)
            rec = f.read(size)
            if len(rec) < 24:
                key = "short"
            else:
                t = struct.unpack_from("<I", rec, 0)[0]
                key = TYPES.get(t, f"type{t}")
                if t == 4 and len(rec) >= 50:
                    d, sc = rec[48], rec[49]
                    key += " " + ("in" if d == 0 else "out") + " " + \
                        (SYSCALLS[sc] if sc < len(SYSCALLS) else f"syscall{sc}")
            counts[key] = counts.get(key, 0) + 1
            sizes[key] = sizes.get(key, 0) + size
    total = sum(counts.values())
    print(f"  {'event':34} {'per ' + unit:>12} {'bytes per ' + unit:>16}")
    for k in sorted(counts, key=lambda k: -counts[k]):
        print(f"  {k:34} {counts[k] / max(units, 1):12.3f} {sizes[k] / max(units, 1):16.1f}")
    print(f"  {'all':34} {total / max(units, 1):12.3f} {sum(sizes.values()) / max(units, 1):16.1f}")


main()
