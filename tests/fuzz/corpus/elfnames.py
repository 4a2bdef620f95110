# SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
"""The section name table of the small ELF files the seed generators build (fuzz_tlslib.py,
fuzz_gotrace.py)."""


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
