#!/usr/bin/python3.11
# SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
"""Writes the seed corpus of tests/fuzz/fuzz_http2.c into tests/fuzz/corpus/fuzz_http2/.

Each seed is a setup byte and records of events (see fuzz_http2.c) carrying HTTP/2
conversations that Debian's python3-h2 produced, as the watched server or client would see
them: plain requests, several streams answered out of order, 1xx, gRPC with trailers and
trailers-only, RST_STREAM, GOAWAY, a server that speaks first, gaps, closes; and one HTTP/1.1
exchange. Run it again after changing it: /usr/bin/python3.11 tests/fuzz/corpus/fuzz_http2.py
"""
import os

import h2.config
import h2.connection
import h2.errors


class Conv:
    """A client and a server, and the events the watched end sees, in order."""

    def __init__(self, server_first=False):
        self.c = h2.connection.H2Connection(h2.config.H2Configuration(client_side=True))
        self.s = h2.connection.H2Connection(
            h2.config.H2Configuration(client_side=False, validate_outbound_headers=False))
        self.events = []  # (from_client, bytes) or ("ctl", op)
        if server_first:
            self.s.initiate_connection()
            out = self.s.data_to_send()
            self.events.append((False, out))
            self.c.initiate_connection()
            self.c.receive_data(out)
        else:
            self.c.initiate_connection()
            self.s.initiate_connection()
        self.pump()

    def pump(self):
        for _ in range(4):
            out = self.c.data_to_send()
            if out:
                self.events.append((True, out))
                self.s.receive_data(out)
            out = self.s.data_to_send()
            if out:
                self.events.append((False, out))
                self.c.receive_data(out)

    def request(self, path, method="GET", body=None, grpc=False, extra=()):
        sid = self.c.get_next_available_stream_id()
        hdrs = [(":method", method), (":scheme", "http"), (":path", path),
                (":authority", "example.com:8080"), ("user-agent", "seed/1")]
        if grpc:
            hdrs += [("content-type", "application/grpc"), ("te", "trailers")]
        hdrs += list(extra)
        self.c.send_headers(sid, hdrs, end_stream=body is None)
        if body is not None:
            self.c.send_data(sid, body, end_stream=True)
        self.pump()
        return sid

    def respond(self, sid, status="200", body=None, trailers=None, end=True):
        self.s.send_headers(sid, [(":status", status), ("server", "seed")],
                            end_stream=end and body is None and trailers is None)
        if body is not None:
            self.s.send_data(sid, body, end_stream=end and trailers is None)
        if trailers is not None:
            self.s.send_headers(sid, trailers, end_stream=True)
        self.pump()

    def ctl(self, op):
        self.events.append(("ctl", op))


def records(conv, server, gap_at=None, dt=1):
    """The events as records: IN is what the watched process read. gap_at: the index of a
    data event whose last bytes fall in a gap."""
    out = bytearray()
    for i, (who, b) in enumerate(conv.events):
        if who == "ctl":
            out.append(0x80 | conv_ctl[b])
            continue
        direction = 0 if who == server else 1  # a server reads the client's bytes
        chunks = [b[j:j + 255] for j in range(0, len(b), 255)]
        for k, chunk in enumerate(chunks):
            gap = 0
            if gap_at == i and k == len(chunks) - 1 and len(chunk) > 12:
                chunk, gap = chunk[:12], 2  # 100 bytes more moved than captured
            out += bytes([direction | gap << 1 | (dt & 7) << 4, len(chunk)]) + chunk
    return bytes(out)


conv_ctl = {"close": 0, "reopen": 1, "exit": 2, "back": 3}


def plain():
    v = Conv()
    sid = v.request("/users/42?x=1")
    v.respond(sid, body=b"hello")
    return v


def multiplexed():
    v = Conv()
    a = v.request("/a")
    b = v.request("/b", method="POST", body=b"x" * 300)
    c = v.request("/c")
    v.respond(c, "404")
    v.s.send_headers(a, [(":status", "100")])
    v.respond(a, "200", body=b"a" * 600)
    v.respond(b, "503", body=b"down")
    return v


def grpc():
    v = Conv()
    a = v.request("/pkg.Svc/Method", method="POST", body=b"\0\0\0\0\3abc", grpc=True)
    v.respond(a, body=b"\0\0\0\0\2ok", trailers=[("grpc-status", "0")])
    b = v.request("/pkg.Svc/Find", method="POST", body=b"\0\0\0\0\0", grpc=True)
    v.respond(b, body=b"", trailers=[("grpc-status", "5"), ("grpc-message", "nope")])
    c = v.request("/pkg.Svc/Fail", method="POST", body=b"\0\0\0\0\0", grpc=True)
    v.s.send_headers(c, [(":status", "200"), ("content-type", "application/grpc"),
                         ("grpc-status", "13")], end_stream=True)
    v.pump()
    return v


def resets():
    v = Conv()
    a = v.request("/stream")
    v.s.send_headers(a, [(":status", "200")])
    v.s.send_data(a, b"chunk")
    v.pump()
    v.c.reset_stream(a, h2.errors.ErrorCodes.CANCEL)
    v.pump()
    b = v.request("/x")
    v.s.reset_stream(b, h2.errors.ErrorCodes.INTERNAL_ERROR)
    v.pump()
    c = v.request("/y")
    v.request("/z")
    # a GOAWAY past which the server still answers c (the library would close at once)
    v.events.append((False, bytes([0, 0, 8, 7, 0, 0, 0, 0, 0]) + c.to_bytes(4, "big") +
                     bytes(4)))
    v.respond(c)
    return v


def traced():
    v = Conv(server_first=True)
    sid = v.request("/", extra=[("traceparent",
                                 "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01")])
    v.respond(sid, "204")
    sid = v.request("/open")
    v.ctl("close")
    return v


def lifecycle():
    v = Conv()
    a = v.request("/a")
    v.ctl("back")
    v.respond(a)
    v.request("/b")
    v.ctl("exit")
    return v


here = os.path.join(os.path.dirname(os.path.abspath(__file__)), "fuzz_http2")
os.makedirs(here, exist_ok=True)
for name, make in {"plain": plain, "multiplexed": multiplexed, "grpc": grpc,
                   "resets": resets, "traced": traced, "lifecycle": lifecycle}.items():
    v = make()
    # setup byte: bit 0 accepted (the server end is watched), bits 2-3 table size
    for server, tag in ((True, "server"), (False, "client")):
        with open(os.path.join(here, f"{name}_{tag}"), "wb") as f:
            f.write(bytes([0x0c | (1 if server else 0)]) + records(v, server))
    with open(os.path.join(here, f"{name}_server_tls"), "wb") as f:
        f.write(bytes([0x0f]) + records(v, True))
    # a gap in the first request after the prefaces, and in the first answer after it
    big = [i for i, (who, b) in enumerate(v.events) if i >= 2 and who != "ctl" and len(b) > 12]
    req = next(i for i in big if v.events[i][0] is True)
    resp = next(i for i in big if i > req and v.events[i][0] is False)
    for i, tag in ((req, "request"), (resp, "response")):
        with open(os.path.join(here, f"{name}_server_gap_{tag}"), "wb") as f:
            f.write(bytes([0x0d]) + records(v, True, gap_at=i))

http1 = (b"GET /old HTTP/1.1\r\nHost: h\r\n\r\n", b"HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok")
with open(os.path.join(here, "http1_server"), "wb") as f:
    f.write(bytes([0x0d, 0x10, len(http1[0])]) + http1[0] + bytes([0x11, len(http1[1])]) +
            http1[1])
