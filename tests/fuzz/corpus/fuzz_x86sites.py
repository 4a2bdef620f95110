#!/usr/bin/env python3
# SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
"""Writes the seed corpus of tests/fuzz/fuzz_x86sites.c into tests/fuzz/corpus/fuzz_x86sites/.

Each seed is one byte of registers a probe reads (bit i: the i-th of NEEDS, as the fuzzer's
needs_of[] has them), then the first bytes of a function, the shapes tests/unit/test_x86sites.c
checks by hand. Run it again after changing them: python3 tests/fuzz/corpus/fuzz_x86sites.py
"""
import os

NEEDS = ["rdi", "rsi", "rdx", "rcx", "r8", "r9", "rax", "rbx"]


def needs(*regs):
    return bytes([sum(1 << NEEDS.index(r) for r in regs)])


# OpenSSL 3's SSL_read: a guard on num, then the worker it shares with SSL_read_ex
SSL_READ = bytes.fromhex(
    "4883ec18"  # sub    $0x18,%rsp
    "64488b042528000000"  # mov    %fs:0x28,%rax
    "4889442408"  # mov    %rax,0x8(%rsp)
    "31c0"  # xor    %eax,%eax
    "85d2"  # test   %edx,%edx
    "782f"  # js     +0x2f
    "4889e1"  # mov    %rsp,%rcx
    "4863d2"  # movslq %edx,%rdx
    "e83dfeffff"  # call   worker
    "85c0"  # test   %eax,%eax
    "7e03"  # jle    +3
    "8b0424"  # mov    (%rsp),%eax
)
SSL_READ_EX = bytes.fromhex("4883ec08" "e8c7fdffff" "31d2")  # sub $0x8,%rsp; call; xor
WORKER = bytes.fromhex("4155" "4154" "55" "53" "4883ec38")  # push r13, r12, rbp, rbx; sub
PQ_SEND_QUERY = bytes.fromhex("ba01000000" "e9a6ebffff" "660f1f440000")  # mov $1,%edx; jmp
PQ_FINISH = bytes.fromhex("4885ff" "7423" "55" "4889e5" "53")  # test %rdi,%rdi; je; push
GO_PROLOGUE = bytes.fromhex("493b6610" "7605" "55" "4889e5" "c3" "e8f0ffffff")  # cmp; jbe
ENDBR64_PUSH = bytes.fromhex("f30f1efa" "4157" "4156" "c3")
SUB_REGS = bytes.fromhex("4088f7" "4863d2" "88e6" "31f6" "e900000000")  # dil, rdx, dh, esi
RET_FIRST = bytes.fromhex("4889f8" "c3" "55" "e8f60f0000")  # mov %rdi,%rax; ret; push; call
INDIRECT = bytes.fromhex("4889f8" "ffd0" "ff2500000000" "e800000000")  # call *%rax; jmp *
NOT_EMULATED = bytes.fromhex(
    "6690"  # xchg   %ax,%ax
    "0f1f440000"  # nopl   0x0(%rax,%rax,1)
    "4850"  # rex.W push %rax
    "667402"  # data16 je +2
    "660f840000"  # je     (66, rel16)
    "f2e800000000"  # bnd call
    "e200"  # loop   +0
    "e300"  # jrcxz  +0
    "90"  # nop
)
EMULATED = bytes.fromhex("90" "50" "4150" "eb00" "7000" "0f8000000000" "e900000000")
CUT_CALL = bytes.fromhex("4883ec08" "e80000")  # sub; a call cut short


def seeds():
    return {
        "ssl_read": needs("rdi", "rsi", "rdx", "rcx") + SSL_READ,
        "ssl_read_ex": needs("rdi", "rsi", "rdx", "rcx") + SSL_READ_EX,
        "worker": needs("rdi") + WORKER,
        "pqsendquery": needs("rdi", "rsi") + PQ_SEND_QUERY,
        "pqsendquery_rdx": needs("rdx") + PQ_SEND_QUERY,
        "pqfinish": needs("rdi") + PQ_FINISH,
        "go_prologue": needs("rax", "rbx", "rcx") + GO_PROLOGUE,
        "endbr64_push": needs("rdi", "rsi", "rdx") + ENDBR64_PUSH,
        "sub_registers": needs("rdi", "rdx") + SUB_REGS,
        "ret_first": needs("rdi") + RET_FIRST,
        "indirect": needs("rsi") + INDIRECT,
        "not_emulated": needs() + NOT_EMULATED,
        "emulated": needs("r8", "r9") + EMULATED,
        "cut_call": needs("rdi") + CUT_CALL,
        "empty": needs("rdi"),
    }


def main():
    out = os.path.join(os.path.dirname(os.path.abspath(__file__)), "fuzz_x86sites")
    os.makedirs(out, exist_ok=True)
    for name, blob in seeds().items():
        with open(os.path.join(out, name), "wb") as f:
            f.write(blob)


if __name__ == "__main__":
    main()
