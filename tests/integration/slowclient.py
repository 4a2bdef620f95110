# SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
"""Slow and many clients of obsprobe's /metrics (tests/integration/scrapers.sh); stdlib only,
run with /usr/bin/python3.11.

    slowclient.py --port P [--loris N [--idle]] [--readers N] [--scrapers N] --duration S
                  [--out DIR]

- loris: N connections that send a request head one byte a second and never finish it (with
  --idle: the first line at once, then nothing);
- readers: N connections that send `GET /metrics` whole and read the answer 100 bytes a second
  (a small receive buffer, so that the server's writes block);
- scrapers: N clients scraping /metrics in a loop (a new connection each, 0.2 s apart), each
  answer checked: status, Content-Length against the body, a last line that ends. With --out,
  every body is written to DIR/scrape-C-I.txt for promtool.

All for S seconds, then every socket is closed. One JSON object on stdout: per kind, what each
connection got (how many bytes went either way, whether and when the server closed it) and,
for scrapes, each one's status, latency and check.
"""
import argparse
import http.client
import json
import os
import select
import socket
import sys
import threading
import time

HEAD = (b"GET /metrics HTTP/1.1\r\nHost: 127.0.0.1\r\nUser-Agent: slowloris\r\n"
        + b"".join(b"X-Pad-%d: %s\r\n" % (i, b"a" * 40) for i in range(50)) + b"\r\n")


def connect(host, port, rcvbuf=None):
    s = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    if rcvbuf:
        s.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, rcvbuf)
    s.settimeout(5)
    s.connect((host, port))
    s.setblocking(False)
    return s


def server_closed(s, c):
    """'eof' or 'reset' when the server has closed s, None while it is open; what it sent before
    is counted in c["got"] (its first line in c["answer"])."""
    while True:
        try:
            data = s.recv(65536)
        except BlockingIOError:
            return None
        except ConnectionResetError:
            return "reset"
        except OSError as e:
            return "error %s" % e.errno
        if not data:
            return "eof"
        if not c["got"]:
            c["answer"] = data.split(b"\r\n", 1)[0].decode("latin-1")
        c["got"] += len(data)


def connected(s):
    """Whether a non-blocking connect of s is done (None while it is not, else its errno)."""
    if not select.select([], [s], [], 0)[1]:
        return None
    return s.getsockopt(socket.SOL_SOCKET, socket.SO_ERROR)


def loris(args, t0, out):
    conns = []
    # non-blocking connects: beyond the server's accept queue a SYN goes unanswered for seconds
    for _ in range(args.loris):
        s = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        s.setblocking(False)
        s.connect_ex((args.host, args.port))
        conns.append({"sock": s, "connected_at": None, "sent": 0, "got": 0, "answer": "",
                      "closed": None, "closed_at": None, "next": 0})
    while True:
        now = round(time.monotonic() - t0, 2)
        if now >= args.duration:
            break
        for c in conns:
            s = c["sock"]
            if c["closed"]:
                continue
            if c["connected_at"] is None:
                err = connected(s)
                if err is None:
                    continue
                if err:
                    c["closed"], c["closed_at"] = "connect errno %d" % err, now
                    continue
                c["connected_at"] = now
                if args.idle:
                    c["sent"] = s.send(b"GET /metrics HTTP/1.1\r\n")
            why = server_closed(s, c)
            if why:
                c["closed"], c["closed_at"] = why, now
                continue
            if not args.idle and c["sent"] < len(HEAD) and now >= c["next"]:
                c["next"] = now + 1
                try:
                    c["sent"] += s.send(HEAD[c["sent"]:c["sent"] + 1])
                except OSError as e:
                    c["closed"], c["closed_at"] = "send errno %s" % e.errno, now
        # a tenth of a second: connects and closes are seen soon; a byte a second is sent
        time.sleep(0.1)
    for c in conns:
        s = c.pop("sock", None)
        if s:
            s.close()
    out["loris"] = conns


def reader(args, t0, i, out):
    c = {"got": 0, "closed": None, "closed_at": None, "head": ""}
    out[i] = c
    try:
        s = connect(args.host, args.port, rcvbuf=4096)
        s.setblocking(True)
        s.sendall(b"GET /metrics HTTP/1.1\r\nHost: 127.0.0.1\r\nUser-Agent: slowreader\r\n\r\n")
        s.settimeout(0.5)
    except OSError as e:
        c["closed"], c["closed_at"] = "connect %s" % e, 0
        return
    while time.monotonic() - t0 < args.duration:
        try:
            data = s.recv(100)
        except socket.timeout:
            data = None
        except OSError as e:
            c["closed"], c["closed_at"] = "recv %s" % e, round(time.monotonic() - t0, 2)
            break
        if data == b"":
            c["closed"], c["closed_at"] = "eof", round(time.monotonic() - t0, 2)
            break
        if data:
            if c["got"] < 64:
                c["head"] += data.decode("latin-1")[:64 - c["got"]]
            c["got"] += len(data)
        time.sleep(1)
    s.close()


def check_body(resp, body):
    """'' when the answer is a whole /metrics text, else what is wrong with it."""
    if resp.status != 200:
        return "status %d" % resp.status
    length = resp.getheader("Content-Length")
    if length is not None and int(length) != len(body):
        return "Content-Length %s, body %d" % (length, len(body))
    if not body.endswith(b"\n"):
        return "body does not end with a newline"
    if not body.startswith(b"# HELP "):
        return "body does not start with a # HELP line"
    return ""


def scraper(args, t0, i, out):
    res = []
    out[i] = res
    n = 0
    while time.monotonic() - t0 < args.duration:
        start = time.monotonic()
        r = {"t": round(start - t0, 3), "status": None, "bad": "", "len": 0}
        conn = http.client.HTTPConnection(args.host, args.port, timeout=args.timeout)
        try:
            conn.request("GET", "/metrics")
            resp = conn.getresponse()
            body = resp.read()
            r["status"], r["len"] = resp.status, len(body)
            r["bad"] = check_body(resp, body)
            if args.out:
                n += 1
                with open(os.path.join(args.out, "scrape-%d-%d.txt" % (i, n)), "wb") as f:
                    f.write(body)
        except (OSError, http.client.HTTPException) as e:
            r["bad"] = "%s: %s" % (type(e).__name__, e)
        finally:
            conn.close()
        r["latency"] = round(time.monotonic() - start, 4)
        res.append(r)
        time.sleep(0.2)


def main():
    p = argparse.ArgumentParser()
    p.add_argument("--host", default="127.0.0.1")
    p.add_argument("--port", type=int, required=True)
    p.add_argument("--loris", type=int, default=0)
    p.add_argument("--idle", action="store_true")
    p.add_argument("--readers", type=int, default=0)
    p.add_argument("--scrapers", type=int, default=0)
    p.add_argument("--duration", type=float, required=True)
    p.add_argument("--timeout", type=float, default=10)
    p.add_argument("--out")
    args = p.parse_args()
    t0 = time.monotonic()
    out = {}
    readers = [None] * args.readers
    scrapers = [None] * args.scrapers
    threads = [threading.Thread(target=loris, args=(args, t0, out))] if args.loris else []
    threads += [threading.Thread(target=reader, args=(args, t0, i, readers))
                for i in range(args.readers)]
    threads += [threading.Thread(target=scraper, args=(args, t0, i, scrapers))
                for i in range(args.scrapers)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    out["readers"] = readers
    out["scrapes"] = [r for rs in scrapers for r in rs]
    json.dump(out, sys.stdout)
    print()


if __name__ == "__main__":
    main()
