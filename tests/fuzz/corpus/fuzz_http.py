#!/usr/bin/python3.11
# SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
"""Writes the seed corpus of tests/fuzz/fuzz_http.c into tests/fuzz/corpus/fuzz_http/.

Each seed is 2 bytes of fuzzer setup (byte 0: how the payload is cut into events, low nibble for
the first stream and high nibble for the second; byte 1: which events claim bytes that were not
captured and which heads get no body: see fuzz_http.c) and one direction of an HTTP/1.x
conversation as curl, nginx and browsers send it: GET with a query and traceparent, POST with
Content-Length, chunked requests and responses with extensions and trailers, pipelined
keep-alive requests, Authorization and Cookie headers, 1xx responses, HEAD, read-until-close
HTTP/1.0 responses, heads cut short, and a few that are not HTTP. Every payload is written with
three setups: one event, one byte per event, and random cuts with gaps. Run it again after
changing it: /usr/bin/python3.11 tests/fuzz/corpus/fuzz_http.py
"""
import os


def head(start, *headers):
    return (start + "\r\n" + "".join(h + "\r\n" for h in headers) + "\r\n").encode()


TP = "traceparent: 00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01"
CURL = ("Host: 127.0.0.1:8080", "User-Agent: curl/7.88.1", "Accept: */*")

GET = head("GET /api/v1/users/42/orders?page=2&token=s3cr3t HTTP/1.1", *CURL, TP)
POST = head("POST /checkout HTTP/1.1", *CURL, "Content-Type: application/json",
            "Authorization: Bearer eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiIxIn0.c2ln",
            "Cookie: session=abc123; theme=dark", "Content-Length: 27") + b'{"cart":[1,2,3],"pay":true}'
CHUNKED_REQ = (head("PUT /upload/file.bin HTTP/1.1", *CURL, "Transfer-Encoding: chunked",
                    "Expect: 100-continue")
               + b"5\r\nhello\r\n1a;name=value\r\nabcdefghijklmnopqrstuvwxyz\r\n0\r\n"
               b"X-Checksum: 1234\r\n\r\n")
PIPELINED = (head("GET / HTTP/1.1", "Host: example.com", "Connection: keep-alive")
             + head("GET /favicon.ico HTTP/1.1", "Host: example.com")
             + head("HEAD /index.html HTTP/1.1", "Host: example.com")
             + head("DELETE /items/7 HTTP/1.1", "Host: example.com", "Content-Length: 0")
             + head("OPTIONS * HTTP/1.1", "Host: example.com", "Connection: close"))
BROWSER = head("GET /search?q=%E2%9C%93+caf%C3%A9&lang=fr HTTP/1.1", "Host: www.example.org",
               "User-Agent: Mozilla/5.0 (X11; Linux x86_64; rv:115.0) Gecko/20100101 Firefox/115.0",
               "Accept: text/html,application/xhtml+xml;q=0.9,*/*;q=0.8",
               "Accept-Language: fr-FR,fr;q=0.8,en;q=0.5", "Accept-Encoding: gzip, deflate, br",
               "Cookie: _ga=GA1.2.3; sid=9f8e7d", "Upgrade-Insecure-Requests: 1",
               "Proxy-Authorization: Basic dXNlcjpwYXNz")
ABSOLUTE = head("GET http://upstream:8080/v2/items/123e4567-e89b-12d3-a456-426614174000 HTTP/1.0",
                "Host: upstream:8080", "Connection: keep-alive")
FOLDED = (b"POST /legacy HTTP/1.1\r\nHost: a\r\nX-Long: first\r\n  continued\r\n"
          b"content-length:   3  \r\nTRANSFER-ENCODING: gzip, chunked\r\n\r\n"
          b"3\r\nabc\r\n0\r\n\r\n")

RESP_LEN = head("HTTP/1.1 200 OK", "Server: nginx/1.22.1", "Date: Tue, 28 Apr 2025 10:00:00 GMT",
                "Content-Type: text/html", "Content-Length: 12", "Connection: keep-alive",
                "Set-Cookie: sid=9f8e7d; HttpOnly") + b"hello world\n"
RESP_CHUNKED = (head("HTTP/1.1 201 Created", "Content-Type: application/json",
                     "Transfer-Encoding: chunked", "Trailer: Server-Timing")
                + b"7\r\n{\"id\":7\r\nA\r\n,\"ok\":true\r\n1\r\n}\r\n0\r\n"
                b"Server-Timing: db;dur=53\r\n\r\n")
RESP_KEEPALIVE = (head("HTTP/1.1 100 Continue")
                  + head("HTTP/1.1 204 No Content", "Server: nginx")
                  + head("HTTP/1.1 304 Not Modified", "ETag: \"abc\"", "Content-Length: 99")
                  + head("HTTP/1.1 404 Not Found", "Content-Length: 9") + b"not found"
                  + head("HTTP/1.1 503 Service Unavailable", "Retry-After: 5",
                         "Content-Length: 0"))
RESP_CLOSE = head("HTTP/1.0 500 Internal Server Error", "Content-Type: text/plain") + (
    b"traceback:\n  line 1\n" * 20)
RESP_HEAD = head("HTTP/1.1 200 OK", "Content-Length: 5000", "Content-Type: text/html")
RESP_SWITCH = head("HTTP/1.1 101 Switching Protocols", "Upgrade: websocket",
                   "Connection: Upgrade", "Sec-WebSocket-Accept: s3pPLMBiTxaQ9kYGzzhZRbK+xOo=") + (
    b"\x81\x05hello")

LONG_TARGET = head("GET /" + "a/" * 700 + "?x=" + "y" * 300 + " HTTP/1.1", "Host: h")
BIG_HEAD = head("GET /big HTTP/1.1", "Host: h", *(f"X-Filler-{i}: {'v' * 200}" for i in range(90)))

SEEDS = {
    "get_query_traceparent": GET,
    "post_auth_cookie": POST,
    "put_chunked_trailer": CHUNKED_REQ,
    "pipelined_keepalive": PIPELINED,
    "browser_utf8_query": BROWSER,
    "absolute_target_http10": ABSOLUTE,
    "folded_chunked_mixed_case": FOLDED,
    "resp_content_length": RESP_LEN,
    "resp_chunked_trailer": RESP_CHUNKED,
    "resp_1xx_204_304_keepalive": RESP_KEEPALIVE,
    "resp_http10_until_close": RESP_CLOSE,
    "resp_to_head": RESP_HEAD + RESP_LEN,
    "resp_switching_protocols": RESP_SWITCH,
    "long_target": LONG_TARGET,
    "head_over_16k": BIG_HEAD,
    "truncated_request_line": b"GET /api/v1/users/42/ord",
    "truncated_headers": GET[:60],
    "truncated_body": POST[:-10],
    "truncated_chunk": RESP_CHUNKED[:120],
    "bad_content_length": head("POST /x HTTP/1.1", "Content-Length: -1", "Content-Length: 5"),
    "bad_chunk_size": head("HTTP/1.1 200 OK", "Transfer-Encoding: chunked") + b"zz\r\n",
    "request_then_garbage": GET + b"\x16\x03\x01\x02\x00\x01\x00\x01\xfc\x03\x03",
    "tls_client_hello": b"\x16\x03\x01\x00\xa5\x01\x00\x00\xa1\x03\x03" + bytes(range(32)),
    "pg_startup": b"\x00\x00\x00\x08\x04\xd2\x16\x2f",
    "http09_lf_only": b"GET /\nHost: a\n\nHTTP/1.1 200 OK\nContent-Length: 2\n\nok",
    "traceparent_bad": head("GET /tp HTTP/1.1", "traceparent: 00-00000000000000000000000000000000-"
                            "b7ad6b7169203331-01", "Traceparent: ff-0AF7651916CD43DD8448EB211C80319C"
                            "-b7ad6b7169203331-01"),
}

# (name suffix, byte 0, byte 1): one event; one byte per event; random cuts of up to 64*3
# bytes with every other event claiming more than it captured
SETUPS = [("whole", 0x00, 0x00), ("bytes", 0x11, 0x00), ("gaps", 0x23, 0x5a)]

here = os.path.join(os.path.dirname(os.path.abspath(__file__)), "fuzz_http")
os.makedirs(here, exist_ok=True)
for name, payload in SEEDS.items():
    assert len(payload) < 64 * 1024
    for suffix, b0, b1 in SETUPS:
        if suffix != "whole" and len(payload) > 4096:
            continue
        with open(os.path.join(here, f"{name}_{suffix}"), "wb") as f:
            f.write(bytes([b0, b1]) + payload)
