#!/usr/bin/python3.11
# SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
"""Writes the seed corpus of tests/fuzz/fuzz_h2.c into tests/fuzz/corpus/fuzz_h2/.

Each seed is 3 bytes of fuzzer setup (feed cut, gaps, direction and limit: see fuzz_h2.c) and
one direction of an HTTP/2 conversation that Debian's python3-h2 produced: requests with
bodies, large headers (CONTINUATION; one block over H2_HEADER_BLOCK_MAX), padding, priority, a server push, RST_STREAM, PING,
GOAWAY. Run it again after changing it: /usr/bin/python3.11 tests/fuzz/corpus/fuzz_h2.py
"""
import os

import h2.config
import h2.connection
import h2.errors


def conversation(padding=0, big=0, push=False):
    c = h2.connection.H2Connection(h2.config.H2Configuration(client_side=True))
    s = h2.connection.H2Connection(h2.config.H2Configuration(client_side=False))
    c.initiate_connection()
    s.initiate_connection()
    cb, sb = bytearray(), bytearray()

    def pump():
        out = c.data_to_send()
        cb.extend(out)
        s.receive_data(out)
        out = s.data_to_send()
        sb.extend(out)
        c.receive_data(out)

    pump()
    # frames of at most 4000 bytes: a large header block goes out in CONTINUATIONs
    c.max_outbound_frame_size = 4000
    extra = [("x-big", "v" * big)] if big else []
    for i, path in enumerate(["/", "/api/users/42?x=1", "/upload", "/slow"]):
        sid = c.get_next_available_stream_id()
        hdrs = [(":method", "POST" if path == "/upload" else "GET"), (":scheme", "https"),
                (":path", path), (":authority", "example.com"), ("user-agent", "seed/1"),
                ("traceparent", "00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01")]
        if i == 0:
            hdrs += extra
        c.send_headers(sid, hdrs, end_stream=path != "/upload",
                       priority_weight=200 if i == 1 else None,
                       priority_depends_on=0 if i == 1 else None)
        if path == "/upload":
            c.send_data(sid, b"a" * 300, pad_length=padding or None)
            c.send_data(sid, b"", end_stream=True)
        pump()
        if push and i == 0:
            s.push_stream(sid, 2, [(":method", "GET"), (":scheme", "https"),
                                   (":path", "/style.css"), (":authority", "example.com")])
            s.send_headers(2, [(":status", "200"), ("content-type", "text/css")])
            s.send_data(2, b"body{}", end_stream=True)
        if path == "/slow":
            s.send_headers(sid, [(":status", "200")])
            s.send_data(sid, b"first")
            pump()
            c.reset_stream(sid, h2.errors.ErrorCodes.CANCEL)
        else:
            s.send_headers(sid, [(":status", "200"), ("content-type", "application/json"),
                                 ("server", "seed"), ("date", "Mon, 21 Oct 2013 20:13:21 GMT")])
            s.send_data(sid, b'{"ok": true}' * 10, end_stream=True, pad_length=padding or None)
        pump()
    c.ping(b"12345678")
    pump()
    s.close_connection(last_stream_id=7)
    c.close_connection()
    pump()
    return bytes(cb), bytes(sb)


here = os.path.join(os.path.dirname(os.path.abspath(__file__)), "fuzz_h2")
os.makedirs(here, exist_ok=True)
for name, kw in {"plain": {}, "padded": {"padding": 7}, "continuation": {"big": 12000},
                 "too_large": {"big": 20000},
                 "push": {"push": True}}.items():
    client, server = conversation(**kw)
    # setup byte 2: bit 0 client, bits 1-2 the limit (2: 4096), bit 3 start at the limit
    for cut, gaps, tag in ((0, 0, "whole"), (1, 0, "bytes"), (5, 0x24, "gaps")):
        with open(os.path.join(here, f"{name}_client_{tag}"), "wb") as f:
            f.write(bytes([cut, gaps, 0x05]) + client)
        with open(os.path.join(here, f"{name}_server_{tag}"), "wb") as f:
            f.write(bytes([cut, gaps, 0x04]) + server)
