#!/usr/bin/python3.11
# SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
"""Writes the seed corpus of tests/fuzz/fuzz_prom_http.c into tests/fuzz/corpus/fuzz_prom_http/.

Each seed is what a client sends the metrics endpoint, as it is (no setup bytes; the fuzzer
takes the arguments of prom_answer_head from the last 8 bytes and the content type from the
first ones up to a NUL, see fuzz_prom_http.c): Prometheus scrapes (alone and three pipelined on
one connection), curl GET and HEAD, kubelet's liveness and readiness probes, Python's
http.client and urllib, wget over HTTP/1.0, a POST with a JSON body and a chunked remote-write
POST, absolute-form targets through a proxy, paths of PROM_PATH_MAX - 1, PROM_PATH_MAX and
more bytes, bare LF line endings with empty lines before the request line, Connection: close
in mixed case, heads that must be refused (two Content-Lengths, obs-fold, a space before the
colon, a bare CR, HTTP/2's preface, a TLS ClientHello, a method of 17 characters), a head cut
short, one of exactly PROM_HEAD_MAX (8192) bytes and one with no end past it (which also lets
libFuzzer try inputs that long), and two seeds shaped for prom_answer_head. Run it again after
changing it: /usr/bin/python3.11 tests/fuzz/corpus/fuzz_prom_http.py
"""
import os

HEAD_MAX = 8192
PATH_MAX = 64


def head(start, *headers, nl="\r\n"):
    return (start + nl + "".join(h + nl for h in headers) + nl).encode()


SCRAPE = head("GET /metrics HTTP/1.1", "Host: 10.0.0.5:9464", "User-Agent: Prometheus/2.53.0",
              "Accept: application/openmetrics-text;version=1.0.0;q=0.5,"
              "application/openmetrics-text;version=0.0.1;q=0.4,text/plain;version=0.0.4;q=0.3,"
              "*/*;q=0.2",
              "Accept-Encoding: gzip", "X-Prometheus-Scrape-Timeout-Seconds: 10")
CURL = ("Host: localhost:9464", "User-Agent: curl/8.5.0", "Accept: */*")


def filler(n):
    """A head of n bytes or more that never ends: the request line, then X-A headers."""
    data = b"GET /metrics HTTP/1.1\r\n"
    while len(data) < n:
        data += b"X-A: b\r\n"
    return data[:n]


def exactly_max():
    """A head of exactly HEAD_MAX bytes, followed by a pipelined one."""
    start = filler(HEAD_MAX - 200)
    start = start[:start.rfind(b"\n") + 1]
    pad = HEAD_MAX - len(start) - len(b"X-B: \r\n\r\n")
    data = start + b"X-B: " + b"v" * pad + b"\r\n\r\n"
    assert len(data) == HEAD_MAX
    return data + head("GET / HTTP/1.1")


SEEDS = {
    "prometheus_scrape": SCRAPE,
    "prometheus_scrape_pipelined": SCRAPE * 3,
    "curl_get": head("GET /metrics HTTP/1.1", *CURL),
    "curl_head": head("HEAD /metrics HTTP/1.1", *CURL),
    "kubelet_probes": head("GET /healthz HTTP/1.1", "Host: 10.244.1.7:9464",
                           "User-Agent: kube-probe/1.30", "Accept: */*", "Connection: close")
    + head("GET /readyz HTTP/1.1", "Host: 10.244.1.7:9464", "User-Agent: kube-probe/1.30",
           "Accept: */*", "Connection: close"),
    "python_http_client": head("GET /metrics HTTP/1.1", "Host: localhost:9464",
                               "Accept-Encoding: identity"),
    "python_urllib": head("GET /metrics?name[]=obsprobe_http_requests_total HTTP/1.1",
                          "Accept-Encoding: identity", "Host: localhost:9464",
                          "User-Agent: Python-urllib/3.11", "Connection: close"),
    "wget_http10": head("GET /metrics HTTP/1.0", "User-Agent: Wget/1.21.3", "Accept: */*",
                        "Accept-Encoding: identity", "Host: localhost:9464",
                        "Connection: Keep-Alive"),
    "post_json_body": head("POST /metrics HTTP/1.1", *CURL, "Content-Type: application/json",
                           "Content-Length: 13") + b'{"a":[1,2,3]}' + head("GET / HTTP/1.1"),
    "post_chunked_remote_write": head("POST /api/v1/write HTTP/1.1", "Host: 10.0.0.5:9464",
                                      "Content-Encoding: snappy",
                                      "Content-Type: application/x-protobuf",
                                      "Transfer-Encoding: chunked",
                                      "X-Prometheus-Remote-Write-Version: 0.1.0")
    + b"5\r\nhello\r\n0\r\n\r\n",
    "absolute_form_proxy": head("GET http://10.0.0.5:9464/metrics?format=prometheus#x HTTP/1.1",
                                "Host: 10.0.0.5:9464", "Proxy-Connection: Keep-Alive")
    + head("GET HTTP://10.0.0.5 HTTP/1.1", "Host: 10.0.0.5"),
    "long_paths": head("GET /" + "a" * (PATH_MAX - 2) + " HTTP/1.1", "Host: x")
    + head("GET /" + "b" * (PATH_MAX - 1) + "?q HTTP/1.1", "Host: x")
    + head("GET /" + "c/" * 400 + " HTTP/1.1", "Host: x"),
    "options_lowercase_get": head("OPTIONS * HTTP/1.1", "Host: x")
    + head("get /metrics HTTP/1.1", "Host: x") + head("ABCDEFGHIJKLMNOP /metrics HTTP/1.1"),
    "bare_lf_leading_empty_lines": b"\r\n\n" + head("GET /metrics HTTP/1.1", "Host: x", nl="\n")
    + b"\n" + head("HEAD /metrics HTTP/1.1", "Host: x"),
    "connection_close_content_length": head("GET /metrics HTTP/1.1", "Host: x",
                                            "Connection: keep-alive, Close")
    + head("GET /metrics HTTP/1.1", "Content-Length: 0", "content-length:\t0 ")
    + head("GET /metrics HTTP/1.1", "Transfer-Encoding: chunked"),
    "bad_two_content_lengths": head("GET /metrics HTTP/1.1", "Host: x", "Content-Length: 5",
                                    "Content-Length: 6"),
    "bad_obs_fold": head("GET /metrics HTTP/1.1", "Host: x", "X-Long: first", "\tcontinued"),
    "bad_space_before_colon_bare_cr": head("GET /metrics HTTP/1.1", "Host : x")
    + head("GET /metrics HTTP/1.1", "Host: a\rb"),
    "bad_http2_preface": b"PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n\x00\x00\x12\x04\x00\x00\x00\x00\x00",
    "bad_tls_client_hello": b"\x16\x03\x01\x02\x00\x01\x00\x01\xfc\x03\x03" + bytes(range(32)),
    "bad_long_method": head("ABCDEFGHIJKLMNOPQ /metrics HTTP/1.1", "Host: x"),
    "bad_version_double_space": head("GET /metrics HTTP/1.2") + head("GET  /metrics HTTP/1.1"),
    "truncated_scrape": SCRAPE[:150],
    "head_exactly_max": exactly_max(),
    "too_large": filler(HEAD_MAX + 800),
    # for prom_answer_head: a content type, its NUL, then the other bytes of the input, and
    # last status 405 (from the table) or -1 (raw), keep-alive, output size, body length
    "answer_405": b"text/plain; charset=utf-8\x00\x00\x03\xf4\x00\x00\x00\x00\x13",
    "answer_raw_status_short": b"text/plain; version=0.0.4; charset=utf-8\x00\xff\xff\x28"
                               b"\x00\x00\x00\x12\x34",
}

here = os.path.join(os.path.dirname(os.path.abspath(__file__)), "fuzz_prom_http")
os.makedirs(here, exist_ok=True)
for name, data in SEEDS.items():
    with open(os.path.join(here, name), "wb") as f:
        f.write(data)
