#!/usr/bin/env python3
# SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
"""Writes the seed corpus of tests/fuzz/fuzz_logline.c into tests/fuzz/corpus/fuzz_logline/.

Each seed is the piece-size byte, then a stream of the lines tests/unit/test_logline.c checks
by hand: the JSON loggers' shapes, plain and logfmt lines, CRLF, a long line, and one with a gap
piece (0xff, gap size). Run it again after changing them: python3 tests/fuzz/corpus/fuzz_logline.py
"""
import os

JSON = [
    b'{"time":"2024-05-01T10:00:00.123456789+02:00","level":"INFO","msg":"hello","user":42}',
    b'{"level":"info","ts":1714550400.123456,"caller":"app/main.go:12","msg":"hello"}',
    b'{"level":"warn","service":"api","latency":0.25,"ok":false,"time":"2024-05-01T08:00:00Z",'
    b'"message":"slow request"}',
    b'{"level":"warning","msg":"disk low","time":"2024-05-01T10:00:00+02:00","free":12}',
    b'{"event": "user logged in", "user_id": 7, "level": "info", '
    b'"timestamp": "2024-05-01T08:00:00.250000Z"}',
    b'{"level":30,"time":1714550400123,"pid":12,"hostname":"h","msg":"request completed"}',
    b'{"@timestamp":1714550400123456789,"log.level":"ERROR","message":"m","a":{"b":[1,{"c":null}]}}',
    b'{"level":"INFO+2","msg":"m","Authorization":"Bearer x","api_key":1,"k\\u0000":"a\\u0000b"}',
]
PLAIN = [
    b"2024-01-02 03:04:05,123 ERROR [main] db down",
    b"[2024-01-02T03:04:05Z INFO  app] started",
    b"WARNING:root:disk almost full",
    b"2024/01/02 03:04:05 [warn] 12#12: slow",
    b'time=2024-01-02T03:04:05Z level=WARN msg="slow request" ms=900',
    b"no error here",
    b"caf\xc3\xa9 \xff\xfe \x00 nul",
]

SEEDS = {
    "json_whole": bytes([255]) + b"\n".join(JSON) + b"\n",
    "json_bytes": bytes([0]) + b"\n".join(JSON) + b"\n",
    "plain_crlf": bytes([6]) + b"\r\n".join(PLAIN) + b"\r\n\r\n  \n",
    "long_line": bytes([200]) + b"x" * 9000 + b"\nafter\n",
    # 16-byte pieces: the second is a gap of 40 bytes, then 14 captured ones
    "gap": bytes([15]) + b"first line\nparti" + bytes([0xff, 40]) + b"lost rest\nnext"
           + b"\nthe line after\n",
}

here = os.path.join(os.path.dirname(os.path.abspath(__file__)), "fuzz_logline")
os.makedirs(here, exist_ok=True)
for name, data in SEEDS.items():
    with open(os.path.join(here, name), "wb") as f:
        f.write(data)
