#!/usr/bin/python3.11
# SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
"""Writes the seed corpus of tests/fuzz/fuzz_gotrace.c into tests/fuzz/corpus/fuzz_gotrace/.

The fuzzer reads a flags byte (bit 0: the kernel emulates push) and then a whole executable,
inspected as goroutine tracking inspects a Go build (go_trace_inspect). Real Go binaries are
megabytes, so each seed is a small x86-64 ET_EXEC built here with struct, laid out as the Go
linker lays one out where go_trace_inspect looks: one PT_LOAD, .text with Go-shaped functions
(the register ABI's stack check `cmp 0x10(%r14),%rsp; jbe`, runtime.newproc1 storing the new
goid, crypto/tls.(*Conn).Read calling runtime.memmove once, `go` statements as `lea; call
runtime.newproc`, an e8 byte inside a movabs that only looks like one), .symtab with those
functions, runtime.sched and the go:itab symbols, .go.buildinfo (inline, or the pointer form
of Go 1.13-1.17), .gopclntab (Go 1.20's layout) and DWARF 4 written by hand as cmd/link
writes it: every type a top-level DIE of its package's compile unit, named as Go names it
(runtime.g, runtime.m, runtime.p, runtime.schedt, net.TCPConn, net.netFD,
net/http.persistConn, crypto/tls.Conn), references as DW_FORM_ref_addr across units,
interfaces as typedefs of runtime.iface, atomic.Uint64 as an 8-byte struct, embedded fields
marked with DW_AT_go_embedded_field. Hand-written DWARF keeps the seeds small (2-13 KiB,
130 KiB in all) and the same whatever compiler is installed.

Besides the whole build (followed at its `go` statements, all hooks placed, Go's TLS read;
again with push emulated): the goid cache missing (spawns at runtime.newproc1), a field
promoted from an embedded struct, Go 1.19's go.itab. names, no itabs, no connection types,
no runtime.g, a typedef loop, an offset past the bound, more `go` statements in a function
than are kept, more in the binary than are probed (GO_MAX_STMTS) and a few dozen (the list
grown), no DWARF, no symbols, neither (Go's TLS from .gopclntab alone), compressed DWARF
(SHF_COMPRESSED), the pointer-form build info of Go 1.16 and 1.17, a build id and no build
info, arm64, a file that is no Go build, DWARF past the end of the file or cut short inside
a unit, and a bare ELF header. The seeds of the whole build, the goid cache missing and the
bare builds come again with push emulated (suffix _push).
Run it again after changing it: /usr/bin/python3.11 tests/fuzz/corpus/fuzz_gotrace.py
"""
import os
import struct
import sys
import zlib

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from elfnames import append_section_headers, section_names  # noqa: E402

VBASE = 0x400000
TEXT = 0x100  # file offset of .text

STT_OBJECT, STT_FUNC, STB_GLOBAL = 1, 2, 1
SHT_PROGBITS, SHT_SYMTAB, SHT_STRTAB, SHT_NOTE = 1, 2, 3, 7
SHF_ALLOC, SHF_EXEC, SHF_COMPRESSED = 2, 4, 0x800
EM_X86_64, EM_AARCH64 = 62, 183


# text offsets of the functions, and their sizes
FUNCS = {
    "runtime.newproc": (0x000, 0x20),
    "runtime.newproc1": (0x020, 0x40),
    "runtime.memmove": (0x060, 0x20),
    "runtime.gopanic": (0x080, 0x20),
    "runtime.recovery": (0x0a0, 0x20),
    "runtime.fatalpanic": (0x0c0, 0x20),
    "net/http.(*persistConn).roundTrip": (0x0e0, 0x20),
    "crypto/tls.(*Conn).Write": (0x100, 0x20),
    "crypto/tls.(*Conn).Read": (0x120, 0x40),
    "main.main": (0x160, 0x60),
    "runtime.main": (0x1c0, 0x20),
    "net.(*Resolver).lookupIPAddr": (0x1e0, 0x20),
    "main.worker": (0x200, 0x20),
    "main.fanout": (0x220, 0x100),
    "runtime.morestack_noctxt.abi0": (0x320, 0x10),
}
# main.spawnN, each with as many `go` statements as a function may have, past the above
SPAWNER, SPAWNER_LEN, SPAWNER_STMTS = 0x400, 0xd0, 16
FUNCS.update({f"main.spawn{i}": (SPAWNER + i * SPAWNER_LEN, SPAWNER_LEN) for i in range(40)})
GOID = 0x98  # runtime.g.goid, where newproc1 stores the new id

STACK_CHECK = b"\x49\x3b\x66\x10"  # cmp 0x10(%r14),%rsp
PUSH_FRAME = b"\x55\x48\x89\xe5"    # push %rbp; mov %rsp,%rbp
POP_RET = b"\x5d\xc3"


def addr(name):
    return VBASE + TEXT + FUNCS[name][0]


def call(at, name):
    """call rel32 at text offset at to the function name."""
    return b"\xe8" + struct.pack("<i", addr(name) - (VBASE + TEXT + at + 5))


def text_len(spawners):
    return SPAWNER + spawners * SPAWNER_LEN


def functions(spawners):
    return [f for f in FUNCS if not f.startswith("main.spawn") or
            int(f[len("main.spawn"):]) < spawners]


def go_prologue(fn, body):
    """Go's register ABI entry: the stack check, a jbe to the morestack call at the end."""
    start, size = FUNCS[fn]
    code = STACK_CHECK + b"\x76" + bytes([size - 6 - 5]) + body
    assert len(code) <= size - 5
    code += b"\xcc" * (size - 5 - len(code))
    return code + call(start + size - 5, "runtime.morestack_noctxt.abi0")


def go_stmts(fn, n):
    """n `go` statements: lea funcval(%rip),%rax; call runtime.newproc."""
    start, size = FUNCS[fn]
    code = bytearray(STACK_CHECK + b"\x76\x00" + PUSH_FRAME)
    for _ in range(n):
        code += b"\x48\x8d\x05\x00\x10\x00\x00"
        code += call(start + len(code), "runtime.newproc")
    code += POP_RET
    assert len(code) <= size
    return bytes(code)


def text(stmts_in_fanout=2, spawners=0):
    code = {
        "runtime.newproc": PUSH_FRAME + b"\x31\xc0" + POP_RET,
        "runtime.morestack_noctxt.abi0": b"\x0f\x0b",  # ud2
        "runtime.memmove": b"\x48\x89\xf8\xc3",  # mov %rdi,%rax; ret
        "runtime.gopanic": go_prologue("runtime.gopanic", PUSH_FRAME),
        # push %rbp first: the site only when the kernel emulates push, else the call after
        "runtime.recovery": PUSH_FRAME + call(FUNCS["runtime.recovery"][0] + 4,
                                              "runtime.memmove") + POP_RET,
        # sub $0x18,%rsp; mov %rax,(%rsp); add; ret: nothing emulated, the entry serves
        "runtime.fatalpanic": b"\x48\x83\xec\x18\x48\x89\x04\x24\x48\x83\xc4\x18\xc3",
        "net/http.(*persistConn).roundTrip": go_prologue("net/http.(*persistConn).roundTrip",
                                                         PUSH_FRAME),
        "crypto/tls.(*Conn).Write": go_prologue("crypto/tls.(*Conn).Write", PUSH_FRAME),
        "runtime.main": go_stmts("runtime.main", 1),
        "net.(*Resolver).lookupIPAddr": go_stmts("net.(*Resolver).lookupIPAddr", 1),
        "main.main": go_stmts("main.main", 2),
        "main.fanout": go_stmts("main.fanout", stmts_in_fanout),
    }
    # newproc1: mov %rcx,GOID(%rax); mov %rax,%rbx; call (emulated: the site after the store)
    at = FUNCS["runtime.newproc1"][0] + 6 + 7 + 3
    code["runtime.newproc1"] = go_prologue(
        "runtime.newproc1",
        b"\x48\x89\x88" + struct.pack("<i", GOID) + b"\x48\x89\xc3" + call(at, "runtime.memmove"))
    # Read: the one copy of the plaintext out
    at = FUNCS["crypto/tls.(*Conn).Read"][0] + 6 + 4 + 6
    code["crypto/tls.(*Conn).Read"] = go_prologue(
        "crypto/tls.(*Conn).Read",
        PUSH_FRAME + b"\x48\x89\xc7" + b"\x48\x89\xde" + call(at, "runtime.memmove") + b"\x5d")
    # movabs $imm,%rax whose immediate holds an e8 rel32 to runtime.newproc: a candidate
    # the decoder must turn down
    at = FUNCS["main.worker"][0] + 2
    code["main.worker"] = b"\x48\xb8" + call(at, "runtime.newproc") + b"\x00\x00\x00" + b"\xc3"

    for i in range(spawners):
        code[f"main.spawn{i}"] = go_stmts(f"main.spawn{i}", SPAWNER_STMTS)
    out = bytearray(b"\xcc" * text_len(spawners))
    for fn, insns in code.items():
        start, size = FUNCS[fn]
        assert len(insns) <= size, fn
        out[start:start + len(insns)] = insns
    return bytes(out)



DW_TAG_compile_unit, DW_TAG_structure_type, DW_TAG_member = 0x11, 0x13, 0x0d
DW_TAG_base_type, DW_TAG_pointer_type, DW_TAG_typedef = 0x24, 0x0f, 0x16
DW_AT_name, DW_AT_byte_size, DW_AT_type, DW_AT_encoding = 0x03, 0x0b, 0x49, 0x3e
DW_AT_language, DW_AT_data_member_location = 0x13, 0x38
DW_AT_go_embedded_field = 0x2903
DW_FORM_string, DW_FORM_udata, DW_FORM_data1, DW_FORM_ref_addr, DW_FORM_flag = (
    0x08, 0x0f, 0x0b, 0x10, 0x0c)
DW_LANG_Go = 0x16


def uleb(n):
    out = bytearray()
    while True:
        b = n & 0x7f
        n >>= 7
        out.append(b | (0x80 if n else 0))
        if not n:
            return bytes(out)


# abbrev code: (tag, children, [(attribute, form)])
NAME, SIZE = (DW_AT_name, DW_FORM_string), (DW_AT_byte_size, DW_FORM_udata)
LOCATION, TYPE = (DW_AT_data_member_location, DW_FORM_udata), (DW_AT_type, DW_FORM_ref_addr)
ABBREVS = {
    1: (DW_TAG_compile_unit, 1, [NAME, (DW_AT_language, DW_FORM_data1)]),
    2: (DW_TAG_structure_type, 1, [NAME, SIZE]),
    3: (DW_TAG_structure_type, 0, [NAME, SIZE]),
    4: (DW_TAG_member, 0, [NAME, LOCATION, TYPE]),
    5: (DW_TAG_member, 0, [NAME, LOCATION, TYPE, (DW_AT_go_embedded_field, DW_FORM_flag)]),
    6: (DW_TAG_base_type, 0, [NAME, (DW_AT_byte_size, DW_FORM_data1),
                              (DW_AT_encoding, DW_FORM_data1)]),
    7: (DW_TAG_pointer_type, 0, [NAME, TYPE]),
    8: (DW_TAG_typedef, 0, [NAME, TYPE]),
}


def debug_abbrev():
    out = bytearray()
    for code, (tag, children, attrs) in ABBREVS.items():
        out += uleb(code) + uleb(tag) + bytes([children])
        for at, form in attrs:
            out += uleb(at) + uleb(form)
        out += b"\0\0"
    return bytes(out + b"\0")


# Types by package (compile unit). A struct: (size, [(member, offset, type, embedded)]); a
# base type: ("base", size, encoding); a pointer or typedef: ("ptr"/"typedef", target).
def go_types(goidcache=True, conn_types=True, runtime_g=True, promoted=False, loop=False,
             far=False):
    g = [("stack", 0x00, "runtime.stack", False), ("stackguard0", 0x10, "uintptr", False),
         ("m", 0x30, "*runtime.m", False),
         ("goid", GOID if not far else (1 << 20) + 8, "uint64", False),
         ("gopc", 0x118, "uintptr", False)]
    m = [("g0", 0x00, "*runtime.g", False),
         ("curg", 0xb8, "*runtime.g" if not loop else "runtime.loop", False),
         ("p", 0xd0, "runtime.puintptr", False)]
    p = [("id", 0x00, "int32", False), ("status", 0x04, "uint32", False)]
    if goidcache:
        p += [("goidcache", 0x198, "uint64", False), ("goidcacheend", 0x1a0, "uint64", False)]
    runtime = {
        "uint64": ("base", 8, 7), "uintptr": ("base", 8, 7), "int32": ("base", 4, 5),
        "uint32": ("base", 4, 7), "int": ("base", 8, 5), "bool": ("base", 1, 2),
        "unsafe.Pointer": ("ptr", "uint64"),
        "runtime.stack": (16, [("lo", 0, "uintptr", False), ("hi", 8, "uintptr", False)]),
        "runtime.itab": (32, [("hash", 16, "uint32", False)]),
        "*runtime.itab": ("ptr", "runtime.itab"),
        "runtime.iface": (16, [("tab", 0, "*runtime.itab", False),
                               ("data", 8, "unsafe.Pointer", False)]),
        "runtime.puintptr": ("typedef", "uintptr"),
        "runtime.loop": ("typedef", "runtime.loop"),
        "*runtime.g": ("ptr", "runtime.g"), "*runtime.m": ("ptr", "runtime.m"),
        "runtime/internal/atomic.Uint64": (8, [("noCopy", 0, "runtime/internal/atomic.noCopy",
                                                False),
                                               ("value", 0, "uint64", False)]),
        "runtime/internal/atomic.noCopy": (0, []),
        "runtime.m": (0x180, m),
        "runtime.p": (0x2a0, p),
        "runtime.schedt": (0x1a0, [("goidgen", 0x08, "runtime/internal/atomic.Uint64", False),
                                   ("lock", 0x10, "uintptr", False)]),
    }
    # a runtime whose g is called otherwise
    gname = "runtime.g" if runtime_g else "runtime.gobj"
    runtime[gname] = (0x1a0, g)
    runtime["*runtime.g"] = ("ptr", gname)
    units = {"runtime": runtime}
    if not conn_types:
        return units
    units["internal/poll"] = {
        "internal/poll.fdMutex": (16, [("state", 0, "uint64", False),
                                       ("rsema", 8, "uint32", False),
                                       ("wsema", 12, "uint32", False)]),
        "internal/poll.FD": (0x50, [("fdmu", 0, "internal/poll.fdMutex", False),
                                    ("Sysfd", 0x10, "int", False)]),
    }
    conn = [("conn", 0, "net.conn", True)]
    if promoted:
        conn = [("connWrap", 0, "net.connWrap", True)]
    units["net"] = {
        "net.Conn": ("typedef", "runtime.iface"),
        "*net.netFD": ("ptr", "net.netFD"),
        "net.netFD": (0x80, [("pfd", 0, "internal/poll.FD", False),
                             ("family", 0x50, "int", False)]),
        "net.conn": (8, [("fd", 0, "*net.netFD", False)]),
        "net.connWrap": (8, [("conn", 0, "net.conn", True)]),
        "net.TCPConn": (8, conn),
    }
    units["net/http"] = {
        "net/http.persistConn": (0x100, [("alt", 0x00, "runtime.iface", False),
                                         ("conn", 0x48, "net.Conn", False)]),
    }
    units["crypto/tls"] = {
        "crypto/tls.Conn": (0x400, [("conn", 0x00, "net.Conn", False),
                                    ("isClient", 0x10, "bool", False)]),
    }
    return units


def debug_info(units):
    """DWARF 4, 32-bit: one unit per package, every type a child of its unit."""
    out = bytearray()
    where, fixups = {}, []

    def string(s):
        return s.encode() + b"\0"

    def ref(name):
        fixups.append((len(out), name))
        return b"\0\0\0\0"

    for unit, types in units.items():
        start = len(out)
        out += struct.pack("<IHIB", 0, 4, 0, 8)
        out += uleb(1) + string(unit) + bytes([DW_LANG_Go])
        for name, t in types.items():
            where[name] = len(out)
            if t[0] == "base":
                out += uleb(6) + string(name) + bytes([t[1], t[2]])
            elif t[0] in ("ptr", "typedef"):
                out += uleb(7 if t[0] == "ptr" else 8) + string(name)
                out += ref(t[1])
            else:
                size, members = t
                out += uleb(2 if members else 3) + string(name) + uleb(size)
                if not members:
                    continue
                for mname, off, mtype, embedded in members:
                    out += uleb(5 if embedded else 4) + string(mname) + uleb(off)
                    out += ref(mtype)
                    if embedded:
                        out += b"\x01"
                out += b"\0"
        out += b"\0"
        out[start:start + 4] = struct.pack("<I", len(out) - start - 4)
    for at, name in fixups:
        out[at:at + 4] = struct.pack("<I", where[name])
    return bytes(out)


def compressed(data):
    """An SHF_COMPRESSED section's contents: Elf64_Chdr (ELFCOMPRESS_ZLIB), then zlib."""
    return struct.pack("<IIQQ", 1, 0, len(data), 1) + zlib.compress(data, 9)



def uvarint(n):
    return uleb(n)


def buildinfo_inline(version):
    hdr = b"\xff Go buildinf:" + b"\x08\x02"
    return hdr + bytes(32 - len(hdr)) + uvarint(len(version)) + version.encode() + b"\0"


def buildinfo_pointer(version, vaddr):
    """Go 1.13-1.17: pointers to runtime.buildVersion (a string header) and modinfo; the
    header and the string follow here, at vaddr + 32 and + 48."""
    hdr = b"\xff Go buildinf:" + b"\x08\x00"
    out = hdr + struct.pack("<QQ", vaddr + 32, 0)
    return out + struct.pack("<QQ", vaddr + 48, len(version)) + version.encode()


def pclntab(funcs):
    """Go 1.20's table: header, funcnametab, then at pclnOffset the (entry, funcoff) pairs,
    one past the last function, and each _func {entryOff, nameOff}."""
    funcs = sorted(funcs, key=lambda f: FUNCS[f][0])
    names = bytearray()
    name_off = []
    for f in funcs:
        name_off.append(len(names))
        names += f.encode() + b"\0"
    names_at = 72
    pcln_at = names_at + len(names)
    pcln_at += -pcln_at % 8
    n = len(funcs)
    pairs = bytearray()
    funcs_at = 8 * (n + 1)
    recs = bytearray()
    for i, f in enumerate(funcs):
        entry = FUNCS[f][0]
        pairs += struct.pack("<II", entry, funcs_at + len(recs))
        recs += struct.pack("<II", entry, name_off[i])
    last = funcs[-1]
    pairs += struct.pack("<II", FUNCS[last][0] + FUNCS[last][1], 0)
    hdr = struct.pack("<IBBBBQQQQQQQQ", 0xfffffff1, 0, 0, 1, 8, n, 0, VBASE + TEXT, names_at,
                      0, 0, 0, pcln_at)
    out = bytearray(hdr + names)
    out += bytes(pcln_at - len(out))
    return bytes(out + pairs + recs)


def note_go_buildid():
    bid = b"abcdefghijklmnopqrst/uvwxyz"
    desc = bid + bytes(-len(bid) % 4)
    return struct.pack("<III", 4, len(bid), 4) + b"Go\0\0" + desc



def elf(version="go1.21.5", pointer_form=False, buildid=False, dwarf=True, symtab=True,
        pcln=True, itab="go:itab.", compress=False, machine=EM_X86_64, stmts_in_fanout=2,
        spawners=0, dwarf_cut=0, dwarf_past_end=False, **types):
    out = bytearray(TEXT)
    out += text(stmts_in_fanout, spawners)
    # name, type, flags, addr, offset, size, link, info, align, entsize
    sections = [(b"", 0, 0, 0, 0, 0, 0, 0, 0, 0),
                (b".text", SHT_PROGBITS, SHF_ALLOC | SHF_EXEC, VBASE + TEXT, TEXT,
                 text_len(spawners), 0, 0, 16, 0)]

    def add(name, typ, flags, data, align=1, link=0, info=0, entsize=0):
        while len(out) % align:
            out.append(0)
        off = len(out)
        if callable(data):
            data = data(VBASE + off)
        out.extend(data)
        sections.append((name, typ, flags, VBASE + off if flags & SHF_ALLOC else 0, off,
                         len(data), link, info, align, entsize))
        return len(sections) - 1

    sched = add(b".noptrbss", SHT_PROGBITS, SHF_ALLOC, bytes(0x40), 32)
    if version is not None:
        add(b".go.buildinfo", SHT_PROGBITS, SHF_ALLOC,
            (lambda va: buildinfo_pointer(version, va)) if pointer_form
            else buildinfo_inline(version), 16)
    if buildid:
        add(b".note.go.buildid", SHT_NOTE, SHF_ALLOC, note_go_buildid(), 4)
    if pcln:
        add(b".gopclntab", SHT_PROGBITS, SHF_ALLOC, pclntab(functions(0)), 32)
    if symtab:
        names = bytearray(b"\0")
        entries = [bytes(24)]

        def sym(name, value, size, kind):
            entries.append(struct.pack("<IBBHQQ", len(names), STB_GLOBAL << 4 | kind, 0, 1,
                                       value, size))
            names.extend(name.encode() + b"\0")

        for fn in functions(spawners):
            start, size = FUNCS[fn]
            sym(fn, VBASE + TEXT + start, size, STT_FUNC)
        sym("runtime.sched", sections[sched][3], 0x40, STT_OBJECT)
        if itab:
            sym(itab + "*net.TCPConn,net.Conn", sections[sched][3] + 0x20, 0x20, STT_OBJECT)
            sym(itab + "*crypto/tls.Conn,net.Conn", sections[sched][3], 0x20, STT_OBJECT)
        strtab = len(sections) + 1
        add(b".symtab", SHT_SYMTAB, 0, b"".join(entries), 8, strtab, 1, 24)
        add(b".strtab", SHT_STRTAB, 0, bytes(names))
    if dwarf:
        abbrev, info = debug_abbrev(), debug_info(go_types(**types))
        flags = SHF_COMPRESSED if compress else 0
        if compress:
            abbrev, info = compressed(abbrev), compressed(info)
        add(b".debug_abbrev", SHT_PROGBITS, flags, abbrev, 8 if compress else 1)
        # a unit cut short: its length says more than the section holds
        add(b".debug_info", SHT_PROGBITS, flags, info[:len(info) - dwarf_cut],
            8 if compress else 1)
        if dwarf_past_end:
            s = sections[-1]
            sections[-1] = s[:5] + (s[5] + 0x10000,) + s[6:]
    shstr, name_off = section_names(sections)
    shstrndx = add(b".shstrtab", SHT_STRTAB, 0, shstr)
    shoff = append_section_headers(out, sections, name_off)
    ehdr = (b"\x7fELF\x02\x01\x01" + bytes(9)
            + struct.pack("<HHIQQQIHHHHHH", 2, machine, 1, addr("main.main"), 64, shoff, 0, 64,
                          56, 1, 64, len(sections), shstrndx))
    phdr = struct.pack("<IIQQQQQQ", 1, 5, 0, VBASE, VBASE, len(out), len(out), 0x1000)
    out[0:64 + 56] = ehdr + phdr
    return bytes(out)


SEEDS = {
    "go121_full": elf(),
    "go121_no_goidcache": elf(goidcache=False),
    "go121_promoted_conn": elf(promoted=True),
    "go119_go_itab_dot": elf(version="go1.19.13", itab="go.itab."),
    "go121_no_itab": elf(itab=None),
    "go121_no_conn_types": elf(conn_types=False),
    "go121_no_runtime_g": elf(runtime_g=False),
    "go121_typedef_loop": elf(loop=True),
    "go121_offset_too_far": elf(far=True),
    "go121_many_stmts": elf(stmts_in_fanout=20),
    "go121_no_dwarf": elf(dwarf=False),
    "go121_no_symtab": elf(symtab=False),
    "go121_bare": elf(dwarf=False, symtab=False),
    "go121_bare_no_pclntab": elf(dwarf=False, symtab=False, pcln=False),
    "go121_compressed_dwarf": elf(compress=True),
    "go116_pointer_form": elf(version="go1.16.15", pointer_form=True),
    "go117_pointer_form": elf(version="go1.17.13", pointer_form=True),
    "buildid_only": elf(version=None, buildid=True),
    "go121_arm64": elf(machine=EM_AARCH64),
    "not_go": elf(version=None, pcln=False, dwarf=False),
    "go121_dwarf_past_end": elf(dwarf_past_end=True),
}
SEEDS["go121_dwarf_cut_short"] = elf(dwarf_cut=0x180)
SEEDS["go121_dwarf_cut_in_struct"] = elf(dwarf_cut=0x3a0)
# more `go` statements to probe than GO_MAX_STMTS (33 functions of 16)
SEEDS["go121_over_max_stmts"] = elf(spawners=33)
SEEDS["go121_spawners"] = elf(spawners=3)
SEEDS["header_only"] = SEEDS["go121_full"][:64]

here = os.path.join(os.path.dirname(os.path.abspath(__file__)), "fuzz_gotrace")
os.makedirs(here, exist_ok=True)
total = 0
for name, img in SEEDS.items():
    for suffix, flags in (("", 0), ("_push", 1)):
        if suffix and not name.startswith(("go121_full", "go121_no_goidcache", "go121_bare")):
            continue
        data = bytes([flags]) + img
        assert len(data) < 64 * 1024
        total += len(data)
        with open(os.path.join(here, name + suffix), "wb") as f:
            f.write(data)
assert total < 1024 * 1024
