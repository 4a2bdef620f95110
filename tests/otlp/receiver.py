#!/usr/bin/python3.11
# SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
"""OTLP/HTTP test receiver for tests/integration/otlp_*.sh (Python standard library only).

    receiver.py --port PORT --dir DIR [--lifetime SECONDS] [--mode MODE]

Listens on 127.0.0.1:PORT (HTTP/1.1, keep-alive) and records every request in DIR:

    DIR/NNNNNN.bin   the body (gunzipped when Content-Encoding: gzip)
    DIR/NNNNNN.json  path, method, headers, times, raw and decoded sizes, the mode it met and
                     the status it answered ("status": null while a request is still hanging)

Numbers go on from the highest already in DIR, so a receiver killed and started again on the
same port and DIR ("collector down") keeps one sequence. DIR/ready holds the port once it
listens.

The answer is chosen per request from DIR/mode (re-read every time; --mode writes it at start):

    ok          200, an empty body (an empty Export*ServiceResponse)
    NNN [S]     status NNN (400, 429, 503, ...) and, with S, "Retry-After: S"
    hang        answer nothing until the mode changes (then answer as the new mode says) or
                120 s pass (then close); when the client gives up first, the sidecar gets
                "status": "client_closed" and "client_closed_after" (seconds after the body)
    reset       read the request, then close the connection with a TCP RST, no answer
    close       read the request, then close the connection (FIN), no answer

It exits by itself after --lifetime seconds (default 600), whatever happens.
"""

import argparse
import gzip
import json
import os
import re
import select
import socket
import struct
import sys
import threading
import time
import zlib
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

HANG_MAX = 120.0
SEQ_RE = re.compile(r"^(\d{6})\.json$")


class Recorder:
    def __init__(self, directory):
        self.dir = directory
        self.lock = threading.Lock()
        os.makedirs(directory, exist_ok=True)
        last = 0
        for name in os.listdir(directory):
            m = SEQ_RE.match(name)
            if m:
                last = max(last, int(m.group(1)))
        self.seq = last

    def next_seq(self):
        with self.lock:
            self.seq += 1
            return self.seq

    def write(self, name, data, binary=False):
        path = os.path.join(self.dir, name)
        tmp = path + ".tmp"
        with open(tmp, "wb" if binary else "w") as fh:
            fh.write(data)
        os.rename(tmp, path)

    def mode(self):
        try:
            with open(os.path.join(self.dir, "mode")) as fh:
                text = fh.read().strip()
        except OSError:
            text = ""
        return text or "ok"


def parse_mode(text):
    """(kind, status, retry_after): kind is ok, status, hang, reset or close."""
    words = text.split()
    head = words[0].lower() if words else "ok"
    if head == "ok":
        return "ok", 200, None
    if head in ("hang", "reset", "close"):
        return head, None, None
    if re.fullmatch(r"[1-5]\d\d", head):
        retry = words[1] if len(words) > 1 else None
        return "status", int(head), retry
    return "ok", 200, None


class Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    server_version = "otlp-test-receiver/1"
    sys_version = ""

    def log_message(self, fmt, *args):
        pass

    def _read_body(self):
        te = (self.headers.get("Transfer-Encoding") or "").lower()
        if "chunked" in te:
            chunks = []
            while True:
                line = self.rfile.readline(65537)
                if not line:
                    raise ConnectionError("eof in chunk size")
                size = int(line.split(b";")[0].strip() or b"0", 16)
                if size == 0:
                    while self.rfile.readline(65537) not in (b"\r\n", b"\n", b""):
                        pass
                    break
                chunks.append(self.rfile.read(size))
                self.rfile.readline(65537)
            return b"".join(chunks)
        n = int(self.headers.get("Content-Length") or 0)
        return self.rfile.read(n) if n > 0 else b""

    def _client_gone(self):
        """True when the peer closed (or reset) its end of the connection."""
        try:
            r, _, _ = select.select([self.connection], [], [], 0)
            if not r:
                return False
            return self.connection.recv(1, socket.MSG_PEEK) == b""
        except OSError:
            return True

    def do_POST(self):
        self._handle()

    def do_PUT(self):
        self._handle()

    def do_GET(self):
        self._handle()

    def _handle(self):
        rec = self.server.recorder
        t0 = time.time()
        seq = rec.next_seq()
        meta = {
            "seq": seq,
            "method": self.command,
            "path": self.path,
            "version": self.request_version,
            "headers": [[k.lower(), v] for k, v in self.headers.items()],
            "time": t0,
            "peer_port": self.client_address[1],
            "status": None,
        }
        try:
            raw = self._read_body()
        except (OSError, ValueError, ConnectionError) as e:
            meta["error"] = "reading body: %s" % e
            meta["time_body"] = time.time()
            rec.write("%06d.json" % seq, json.dumps(meta))
            self.close_connection = True
            return
        meta["time_body"] = time.time()
        meta["raw_len"] = len(raw)
        body = raw
        enc = (self.headers.get("Content-Encoding") or "").lower().strip()
        if enc == "gzip":
            try:
                body = gzip.decompress(raw)
            except (OSError, EOFError, zlib.error) as e:
                meta["error"] = "gunzip: %s" % e
        elif enc and enc != "identity":
            meta["error"] = "unknown Content-Encoding %r" % enc
        meta["body_len"] = len(body)
        rec.write("%06d.bin" % seq, body, binary=True)

        mode_text = rec.mode()
        meta["mode"] = mode_text
        kind, status, retry = parse_mode(mode_text)
        if kind == "hang":
            rec.write("%06d.json" % seq, json.dumps(meta))
            deadline = time.monotonic() + HANG_MAX
            while time.monotonic() < deadline:
                if self._client_gone():
                    meta["client_closed_after"] = round(time.time() - meta["time_body"], 3)
                    kind = "client_closed"
                    break
                mode_text = rec.mode()
                kind, status, retry = parse_mode(mode_text)
                if kind != "hang":
                    meta["mode_after_hang"] = mode_text
                    break
                time.sleep(0.02)
            meta["hung_for"] = round(time.time() - meta["time_body"], 3)
            if kind == "hang":
                kind = "close"
        if kind in ("reset", "close", "client_closed"):
            meta["status"] = kind
            meta["time_answer"] = time.time()
            rec.write("%06d.json" % seq, json.dumps(meta))
            if kind == "reset":
                try:
                    self.connection.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER,
                                               struct.pack("ii", 1, 0))
                except OSError:
                    pass
            self.close_connection = True
            try:
                # rfile holds a reference: the fd closes (with the RST) only once both go
                self.rfile.close()
                self.connection.close()
            except OSError:
                pass
            return
        meta["status"] = status
        meta["time_answer"] = time.time()
        if retry is not None:
            meta["retry_after"] = retry
        # the sidecar first: once a client has its answer, the record is on disk
        rec.write("%06d.json" % seq, json.dumps(meta))
        try:
            self.send_response(status)
            self.send_header("Content-Type", "application/x-protobuf")
            self.send_header("Content-Length", "0")
            if retry is not None:
                self.send_header("Retry-After", retry)
            self.end_headers()
            self.wfile.flush()
        except OSError:
            self.close_connection = True


class Server(ThreadingHTTPServer):
    daemon_threads = True
    allow_reuse_address = True
    request_queue_size = 64


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--port", type=int, required=True)
    ap.add_argument("--dir", required=True)
    ap.add_argument("--lifetime", type=float, default=600.0)
    ap.add_argument("--mode", default=None)
    args = ap.parse_args()

    rec = Recorder(args.dir)
    if args.mode is not None:
        rec.write("mode", args.mode + "\n")
    srv = Server(("127.0.0.1", args.port), Handler)
    srv.recorder = rec

    def die():
        sys.stderr.write("receiver: lifetime of %g s is over, exiting\n" % args.lifetime)
        sys.stderr.flush()
        os._exit(0)

    timer = threading.Timer(args.lifetime, die)
    timer.daemon = True
    timer.start()
    rec.write("ready", "%d\n" % srv.server_address[1])
    try:
        srv.serve_forever(poll_interval=0.1)
    except KeyboardInterrupt:
        pass
    os._exit(0)


if __name__ == "__main__":
    main()
