#!/usr/bin/env python3
# SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
"""Writes the seed corpus of tests/fuzz/fuzz_events.c into tests/fuzz/corpus/fuzz_events/.

Each seed is a sequence of ring-buffer records, each a 2-byte little-endian length and the
record, laid out as include/obsprobe/{common,sock,libpq}.h say (little-endian hosts, as the
fuzzer runs on). Run it again after changing a wire struct: python3 tests/fuzz/corpus/fuzz_events.py
"""
import os
import struct

OBS_EV_PROC_EXIT, OBS_EV_SOCK_OPEN, OBS_EV_SOCK_DATA, OBS_EV_SOCK_CLOSE = 2, 3, 4, 5
OBS_EV_LIBPQ = 9
OBS_EV_LOG = 12
ROLE_UNKNOWN, ROLE_ACCEPTED, ROLE_CONNECTED = 0, 1, 2
INGRESS, EGRESS = 0, 1
SC_READ, SC_WRITE, SC_SENDFILE, SC_TLS_READ, SC_TLS_WRITE = 1, 5, 9, 13, 14
AF_UNIX, AF_INET, AF_INET6 = 1, 2, 10
LIBPQ_SEND_QUERY, LIBPQ_CONNECT_START = 1, 5


def hdr(typ, pid, tid, ts):
    return struct.pack("<IIIIQ", typ, pid, tid, 0, ts)


def v4(ip, port):
    return struct.pack("<HH", AF_INET, port) + bytes(map(int, ip.split("."))) + bytes(12)


def v6(packed, port):
    return struct.pack("<HH", AF_INET6, port) + packed


def unix():
    return struct.pack("<HH", AF_UNIX, 0) + bytes(16)


def sock_open(pid, ts, conn, role, local, remote, fd=5):
    rec = hdr(OBS_EV_SOCK_OPEN, pid, pid, ts) + struct.pack("<QiHH", conn, fd, role, 0)
    rec += local + remote
    assert len(rec) == 80
    return rec


def sock_data(pid, tid, ts, conn, direction, payload, sc=None, total=None, fd=5):
    if sc is None:
        sc = SC_READ if direction == INGRESS else SC_WRITE
    total = len(payload) if total is None else total
    rec = hdr(OBS_EV_SOCK_DATA, pid, tid, ts)
    rec += struct.pack("<QQIiBBHI", conn, total, len(payload), fd, direction, sc, 0, 0)
    assert len(rec) == 56
    return rec + payload


def log_write(pid, tid, ts, fd, payload, total=None, goid=0):
    total = len(payload) if total is None else total
    rec = hdr(OBS_EV_LOG, pid, tid, ts)
    rec += struct.pack("<QQIiBBBBIQ", 0, total, len(payload), fd, EGRESS, SC_WRITE, goid != 0, 0,
                       0, goid)
    assert len(rec) == 64
    return rec + payload


def sock_close(pid, ts, conn, fd=5):
    rec = hdr(OBS_EV_SOCK_CLOSE, pid, pid, ts) + struct.pack("<QiI", conn, fd, 0)
    assert len(rec) == 40
    return rec


def proc_exit(pid, ts):
    return hdr(OBS_EV_PROC_EXIT, pid, pid, ts)


def libpq(pid, tid, ts, call, text=b"", name=b""):
    rec = hdr(OBS_EV_LIBPQ, pid, tid, ts) + struct.pack("<QBBHI", 0x5555, call, 0, 0, 0)
    rec += name.ljust(64, b"\0")[:64] + text.ljust(1024, b"\0")[:1024]
    assert len(rec) == 40 + 64 + 1024
    return rec


# PostgreSQL v3 messages


def pg_msg(typ, body):
    return typ + struct.pack(">I", len(body) + 4) + body


def pg_startup(user, db):
    body = struct.pack(">I", 196608) + b"user\0" + user + b"\0database\0" + db + b"\0\0"
    return struct.pack(">I", len(body) + 4) + body


PG_SSL_REQUEST = struct.pack(">II", 8, 80877103)
PG_SERVER_HELLO = (pg_msg(b"R", struct.pack(">I", 0)) +
                   pg_msg(b"S", b"server_version\x0016.2\0") +
                   pg_msg(b"K", struct.pack(">II", 4242, 0xdeadbeef)) + pg_msg(b"Z", b"I"))
PG_ROW_DESC = pg_msg(b"T", struct.pack(">H", 1) + b"n\0" + struct.pack(">IHIhiH", 0, 0, 23, 4, -1, 0))
PG_ONE_ROW = pg_msg(b"D", struct.pack(">HI", 1, 1) + b"1")


def pg_query_answer(tag):
    return PG_ROW_DESC + PG_ONE_ROW + pg_msg(b"C", tag + b"\0") + pg_msg(b"Z", b"I")


def pg_extended(sql, param):
    return (pg_msg(b"P", b"\0" + sql + b"\0" + struct.pack(">H", 0)) +
            pg_msg(b"B", b"\0\0" + struct.pack(">HHI", 0, 1, len(param)) + param +
                   struct.pack(">H", 0)) +
            pg_msg(b"D", b"P\0") + pg_msg(b"E", b"\0" + struct.pack(">I", 0)) + pg_msg(b"S", b""))


HTTP_REQ = (b"GET /users/42?token=abc HTTP/1.1\r\nHost: shop.example:8080\r\n"
            b"User-Agent: curl/8.5\r\n\r\n")
HTTP_RESP = b"HTTP/1.1 200 OK\r\nContent-Length: 5\r\n\r\nhello"
LOOPBACK6 = bytes(15) + b"\x01"
DB8 = bytes.fromhex("20010db8000000000000000000000001")
DB8_PEER = bytes.fromhex("20010db800000000000000000000abcd")


def seeds():
    s = {}
    s["http_ipv4"] = [
        sock_open(100, 1000, 1, ROLE_ACCEPTED, v4("10.0.0.1", 8080), v4("10.0.0.2", 50000)),
        sock_data(100, 101, 2000, 1, INGRESS, HTTP_REQ),
        sock_data(100, 101, 3000, 1, EGRESS, HTTP_RESP),
        sock_close(100, 4000, 1),
    ]
    # both ends watched over loopback: the server span joins the client's trace
    s["http_loopback_both_ends"] = [
        sock_open(200, 1000, 10, ROLE_CONNECTED, v4("127.0.0.1", 40000), v4("127.0.0.1", 8080)),
        sock_open(100, 1100, 11, ROLE_ACCEPTED, v4("127.0.0.1", 8080), v4("127.0.0.1", 40000)),
        sock_data(200, 201, 1200, 10, EGRESS, HTTP_REQ),
        sock_data(100, 101, 1300, 11, INGRESS, HTTP_REQ),
        sock_data(100, 101, 1400, 11, EGRESS, HTTP_RESP),
        sock_data(200, 201, 1500, 10, INGRESS, HTTP_RESP),
        sock_close(100, 1600, 11),
        sock_close(200, 1700, 10),
    ]
    s["http_ipv6_chunked_traceparent"] = [
        sock_open(100, 10, 20, ROLE_ACCEPTED, v6(DB8, 443), v6(DB8_PEER, 51000)),
        sock_data(100, 102, 20, 20, INGRESS,
                  b"POST /api/orders HTTP/1.1\r\nHost: [2001:db8::1]:443\r\n"
                  b"traceparent: 00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01\r\n"
                  b"Transfer-Encoding: chunked\r\n\r\n5\r\nhello\r\n0\r\n\r\n"),
        sock_data(100, 102, 30, 20, EGRESS, b"HTTP/1.1 100 Continue\r\n\r\n"),
        sock_data(100, 102, 40, 20, EGRESS,
                  b"HTTP/1.1 503 Service Unavailable\r\nContent-Length: 0\r\n\r\n"),
        sock_open(100, 50, 21, ROLE_CONNECTED, v6(LOOPBACK6, 40000), v6(LOOPBACK6, 9000)),
        sock_data(100, 102, 60, 21, EGRESS, b"HEAD /health HTTP/1.0\r\n\r\n"),
        sock_data(100, 102, 70, 21, INGRESS, b"HTTP/1.0 200 OK\r\nContent-Length: 9\r\n\r\n"),
        sock_close(100, 80, 20),
    ]
    s["http_tls_sendfile"] = [
        sock_data(100, 103, 5, 30, INGRESS, HTTP_REQ, sc=SC_TLS_READ),
        sock_data(100, 103, 6, 30, EGRESS, b"HTTP/1.1 200 OK\r\nContent-Length: 100000\r\n\r\n",
                  sc=SC_TLS_WRITE),
        sock_data(100, 103, 7, 30, EGRESS, b"", sc=SC_SENDFILE, total=100000),
        proc_exit(100, 8),
    ]
    s["pg_startup_query"] = [
        libpq(300, 301, 900, LIBPQ_CONNECT_START, b"host=127.0.0.1 port=5432 dbname=shop"),
        sock_open(300, 1000, 40, ROLE_CONNECTED, v4("127.0.0.1", 41000), v4("127.0.0.1", 5432)),
        sock_data(300, 301, 1100, 40, EGRESS, pg_startup(b"app", b"shop")),
        sock_data(300, 301, 1200, 40, INGRESS, PG_SERVER_HELLO),
        libpq(300, 301, 1250, LIBPQ_SEND_QUERY, b"SELECT id FROM orders WHERE id = 7"),
        sock_data(300, 301, 1300, 40, EGRESS, pg_msg(b"Q", b"SELECT id FROM orders WHERE id = 7\0")),
        sock_data(300, 301, 1400, 40, INGRESS, pg_query_answer(b"SELECT 1")),
        sock_data(300, 301, 1500, 40, EGRESS, pg_msg(b"X", b"")),
        sock_close(300, 1600, 40),
        proc_exit(300, 1700),
    ]
    s["pg_unix_ssl_extended"] = [
        sock_open(300, 1000, 50, ROLE_CONNECTED, unix(), unix()),
        sock_data(300, 302, 1100, 50, EGRESS, PG_SSL_REQUEST),
        sock_data(300, 302, 1150, 50, INGRESS, b"N"),
        sock_data(300, 302, 1200, 50, EGRESS, pg_startup(b"app", b"shop")),
        sock_data(300, 302, 1300, 50, INGRESS, PG_SERVER_HELLO),
        sock_data(300, 302, 1400, 50, EGRESS, pg_extended(b"SELECT $1::int", b"7")),
        sock_data(300, 302, 1500, 50, INGRESS,
                  pg_msg(b"1", b"") + pg_msg(b"2", b"") + pg_query_answer(b"SELECT 1")),
        sock_close(300, 1600, 50),
    ]
    # more connections than the fuzzer's table holds: the oldest are evicted mid-request
    evict = []
    for i in range(6):
        evict.append(sock_open(100, 10 * i, 60 + i, ROLE_ACCEPTED, v4("127.0.0.1", 8080),
                               v4("127.0.0.1", 42000 + i)))
        evict.append(sock_data(100, 110 + i, 10 * i + 1, 60 + i, INGRESS, HTTP_REQ))
    evict.append(sock_data(100, 110, 100, 65, EGRESS, HTTP_RESP))
    s["evictions"] = evict
    # a head longer than the capture (SOCK_CAPTURE_MAX of 10000 bytes), then the rest: a seed
    # this long also lets libFuzzer make records of the largest size
    big = b"GET /big HTTP/1.1\r\nHost: h\r\nX-Pad: " + b"a" * 9950 + b"\r\n\r\n"
    s["full_capture"] = [
        sock_open(100, 1, 80, ROLE_ACCEPTED, v4("192.0.2.1", 80), v4("192.0.2.2", 3333)),
        sock_data(100, 101, 2, 80, INGRESS, big[:4096], total=len(big)),
        sock_data(100, 101, 3, 80, EGRESS, HTTP_RESP),
        sock_data(100, 101, 4, 80, INGRESS, HTTP_REQ),
        sock_data(100, 101, 5, 80, EGRESS, HTTP_RESP),
    ]
    # what the decoder refuses, between valid records
    bad_dir = bytearray(sock_data(100, 101, 3, 70, INGRESS, b"GET"))
    bad_dir[48] = 2
    lying = bytearray(sock_data(100, 101, 4, 70, INGRESS, b"GET / HTTP/1.1\r\n"))
    struct.pack_into("<I", lying, 40, 4096)
    s["logs"] = [
        sock_open(100, 1, 70, ROLE_ACCEPTED, v4("10.0.0.1", 80), v4("10.0.0.2", 1)),
        sock_data(100, 101, 2, 70, INGRESS, HTTP_REQ),
        log_write(100, 101, 3, 2, b'{"time":"2024-05-01T10:00:00Z","level":"INFO","msg":"hi","n":1}\n'),
        log_write(100, 101, 4, 1, b"WARNING:root:two\nlines\n"),
        log_write(100, 101, 5, 2, b"cut in the mid", total=9000),
        log_write(100, 102, 6, 2, b"dle\n[error] plain\n"),
        log_write(100, 101, 7, 1, b"no end"),
        proc_exit(100, 8),
    ]
    s["refused"] = [
        b"",
        hdr(OBS_EV_SOCK_OPEN, 100, 100, 1)[:23],
        sock_open(100, 1, 70, ROLE_ACCEPTED, v4("10.0.0.1", 80), v4("10.0.0.2", 1))[:79],
        sock_data(100, 101, 2, 70, INGRESS, b"GET")[:55],
        bytes(bad_dir),
        bytes(lying),
        hdr(42, 100, 100, 5) + bytes(56),
        sock_close(100, 6, 70)[:39],
        sock_open(100, 7, 70, ROLE_ACCEPTED, v4("10.0.0.1", 80), v4("10.0.0.2", 1)),
        sock_data(100, 101, 8, 70, INGRESS, HTTP_REQ),
        sock_close(100, 9, 70),
    ]
    return s


def main():
    out = os.path.join(os.path.dirname(os.path.abspath(__file__)), "fuzz_events")
    os.makedirs(out, exist_ok=True)
    for name, records in seeds().items():
        blob = b"".join(struct.pack("<H", len(r)) + r for r in records)
        with open(os.path.join(out, name), "wb") as f:
            f.write(blob)


if __name__ == "__main__":
    main()
