# SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
"""The section name table and the section header table of the small ELF files the seed
generators build (fuzz_tlslib.py, fuzz_gotrace.py)."""
import struct


def section_names(sections):
    """(.shstrtab's bytes, each section's name offset and then .shstrtab's own): sections are
    tuples whose first item is the name (b"" for the null section)."""
    shstr = bytearray(b"\0")
    name_off = []
    for s in sections:
        name_off.append(len(shstr) if s[0] else 0)
        if s[0]:
            shstr += s[0] + b"\0"
    name_off.append(len(shstr))
    shstr += b".shstrtab\0"
    return bytes(shstr), name_off


def append_section_headers(out, sections, name_off):
    """Pads out (a bytearray) to 8 bytes and appends the section header table: its offset.
    sections' items after the name are sh_type, sh_flags, sh_addr, sh_offset, sh_size, sh_link,
    sh_info, sh_addralign and sh_entsize; name_off is section_names()'s."""
    while len(out) % 8:
        out.append(0)
    shoff = len(out)
    for i, s in enumerate(sections):
        out += struct.pack("<IIQQQQIIQQ", name_off[i], *s[1:])
    return shoff
