#!/usr/bin/python3.11
# SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
"""Writes the seed corpus of tests/fuzz/fuzz_hpack.c into tests/fuzz/corpus/fuzz_hpack/.

Each seed is a limit byte and length-prefixed header blocks (see fuzz_hpack.c): RFC 7541
Appendix C's sequences, and blocks Debian's python3-hpack encoded (plain, Huffman, sensitive
headers, table size changes). Run it again after changing it:
/usr/bin/python3.11 tests/fuzz/corpus/fuzz_hpack.py
"""
import os

import hpack

RFC = {
    "rfc_c3": (3, ["828684410f7777772e6578616d706c652e636f6d", "828684be58086e6f2d6361636865",
                   "828785bf400a637573746f6d2d6b65790c637573746f6d2d76616c7565"]),
    "rfc_c4": (3, ["828684418cf1e3c2e5f23a6ba0ab90f4ff", "828684be5886a8eb10649cbf",
                   "828785bf408825a849e95ba97d7f8925a849e95bb8e8b4bf"]),
    "rfc_c6": (2 | 8, ["488264025885aec3771a4b6196d07abe941054d444a8200595040b8166e082a62d1bff6e"
                       "919d29ad171863c78f0b97c8e9ae82ae43d3", "4883640effc1c0bf",
                       "88c16196d07abe941054d444a8200595040b8166e084a62d1bffc05a839bd9ab77ad94e7"
                       "821dd7f2e6c7b335dfdfcd5b3960d5af27087f3672c1ab270fb5291f9587316065c003ed"
                       "4ee5b1063d5007"]),
}


def seed(limit, blocks):
    out = bytearray([limit])
    for b in blocks:
        assert len(b) < 256
        out.append(len(b))
        out.extend(b)
    return bytes(out)


here = os.path.join(os.path.dirname(os.path.abspath(__file__)), "fuzz_hpack")
os.makedirs(here, exist_ok=True)
for name, (limit, hexes) in RFC.items():
    with open(os.path.join(here, name), "wb") as f:
        f.write(seed(limit, [bytes.fromhex(h) for h in hexes]))

REQ = [(":method", "GET"), (":scheme", "https"), (":path", "/api/v1/items?page=2"),
       (":authority", "example.com"), ("user-agent", "curl/7.88.1"), ("accept", "*/*"),
       hpack.NeverIndexedHeaderTuple("authorization", "Bearer abc.def.ghi"),
       ("traceparent", "00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01")]
for huffman in (False, True):
    enc = hpack.Encoder()
    blocks = [enc.encode(REQ, huffman=huffman), enc.encode(REQ, huffman=huffman)]
    enc.header_table_size = 256
    blocks.append(enc.encode(REQ[:5] + [("x-n", "1")], huffman=huffman))
    enc.header_table_size = 0
    blocks.append(enc.encode(REQ[:3], huffman=huffman))
    with open(os.path.join(here, f"python_{'huffman' if huffman else 'plain'}"), "wb") as f:
        f.write(seed(3, blocks))
