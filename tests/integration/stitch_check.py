#!/usr/bin/python3.11
# SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
"""Whether obsprobe stitched both ends of the local TLS connections of stitch_tls.sh.

    stitch_check.py SPANS --front PID,PID.. --upstream PID,PID.. --summary FILE

SPANS is obsprobe's --console json output. Every span gets a role, the path prefix of its
request and the request id (/r/<id>, /p/<id>, /q/<id>), by kind, process and url.path:

    r.client  CLIENT  curl               https://upstream/r/<id>   (a root)
    r.server  SERVER  the upstream nginx (TLS)
    X.curl    CLIENT  curl               http://front/X/<id>       (a root; X is p or q)
    X.front   SERVER  the front nginx    (plain HTTP)
    X.call    CLIENT  the front nginx    https://upstream/X/<id>   (OpenSSL in nginx)
    X.up      SERVER  the upstream nginx (TLS)

(/p/ goes over upstream connections kept alive, /q/ over a new one per request.) Anything else
is "other". Each role but the roots has one expected parent role, an edge named by the child:

    r.server <- r.client        X.front <- X.curl    X.call <- X.front    X.up <- X.call

and every child span of an edge is exactly one of:

    right     its parent is the span of the expected role, for the same prefix and id, in the
              same trace
    wrong     its parent is a span of another role, prefix or id, or of another trace
    unlinked  no parent_span_id
    dangling  a parent_span_id no span has

A root with a parent counts as wrong. A request is whole when it has exactly one span of each
role of its prefix, every edge right and a root without a parent.

Log lines go to stdout; FILE gets the summary, one "KEY VALUE" a line:

    spans N / other N / dup_span_ids N / invalid_lines N
    count.ROLE N / dup.ROLE N / scheme_bad.ROLE N   spans of ROLE, ids with more than one, and
                                                    spans whose url.scheme is not the role's
    edge.ROLE.right|wrong|unlinked|dangling N
    edge.ROLE.outside N                 right ones whose time is not inside their parent's
                                        (across a plain connection: within PLAIN_SKEW_NS)
    whole.r N / whole.p N / whole.q N
"""

import argparse
import collections
import re
import sys

from spanfile import group_roles, load_spans, write_summary

ROLES = ["r.client", "r.server"] + ["%s.%s" % (x, r) for x in "pq"
                                    for r in ("curl", "front", "call", "up")]
PARENT = {"r.server": "r.client"}
for _x in "pq":
    PARENT.update({_x + ".front": _x + ".curl", _x + ".call": _x + ".front",
                   _x + ".up": _x + ".call"})
ROOTS = ["r.client", "p.curl", "q.curl"]
SCHEME = {"r.client": "https", "r.server": "https"}
for _x in "pq":
    SCHEME.update({_x + ".curl": "http", _x + ".front": "http", _x + ".call": "https",
                   _x + ".up": "https"})
VERDICTS = ["right", "wrong", "unlinked", "dangling"]
# A plain socket write is stamped when its syscall returns (the socket hooks are exit-only):
# the reader on the other end may read the bytes first, on another CPU or by preempting the
# writer it woke, so across a plain connection a child may start, or end, this much outside its
# parent. TLS writes are stamped when the call began: no allowance there.
PLAIN_SKEW_NS = 5_000_000
PATH_RE = re.compile(r"^/([rpq])/(\d+)$")


def role_of(span, front, upstream):
    """(role, id) of a span, or ("other", None)."""
    attrs = span.get("attributes", {})
    res = span.get("resource", {})
    pid = res.get("process.pid")
    kind = span.get("kind")
    path = attrs.get("url.path", "")
    m = PATH_RE.match(path) if isinstance(path, str) else None
    if not m:
        return "other", None
    x, rid = m.group(1), int(m.group(2))
    if pid in upstream and kind == "SERVER":
        return x + (".server" if x == "r" else ".up"), rid
    if pid in front and x != "r":
        if kind == "SERVER":
            return x + ".front", rid
        if kind == "CLIENT":
            return x + ".call", rid
    if pid not in front and pid not in upstream and kind == "CLIENT" and \
            res.get("process.executable.name") == "curl":
        return x + (".client" if x == "r" else ".curl"), rid
    return "other", None


def describe(span):
    """A short description of a span, for the log."""
    a = span.get("attributes", {})
    return "%s pid %s tid %s %s %s client %s:%s server %s:%s scheme %s parent %s" % (
        span.get("kind"), span.get("resource", {}).get("process.pid"), span.get("thread_id"),
        span.get("resource", {}).get("process.executable.name"), a.get("url.path"),
        a.get("client.address"), a.get("client.port"), a.get("server.address"),
        a.get("server.port"), a.get("url.scheme"), span.get("parent_span_id"))


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("spans")
    ap.add_argument("--front", required=True, help="comma-separated pids")
    ap.add_argument("--upstream", required=True, help="comma-separated pids")
    ap.add_argument("--summary", required=True)
    args = ap.parse_args()
    front = {int(p) for p in args.front.split(",") if p}
    upstream = {int(p) for p in args.upstream.split(",") if p}

    spans, bad, by_id, dup_span_ids = load_spans(args.spans)
    roles, per_role, others = group_roles(spans, lambda s: role_of(s, front, upstream), ROLES, describe)

    out = {"spans": len(spans), "invalid_lines": bad, "dup_span_ids": dup_span_ids,
           "other": sum(others.values())}
    for r in ROLES:
        out["count." + r] = sum(len(v) for v in per_role[r].values())
        out["dup." + r] = sum(1 for v in per_role[r].values() if len(v) > 1)
        out["scheme_bad." + r] = sum(1 for v in per_role[r].values() for s in v
                                     if s.get("attributes", {}).get("url.scheme") != SCHEME[r])

    verdict_of = {}  # span_id -> verdict
    wrong_how = collections.Counter()
    examples = collections.defaultdict(list)  # role.verdict -> a few spans, described
    for child in ROLES:
        parent_role = PARENT.get(child)
        tally = collections.Counter()
        for rid, group in per_role[child].items():
            for s in group:
                pid = s.get("parent_span_id")
                if not pid:
                    v = "right" if parent_role is None else "unlinked"
                elif pid not in by_id:
                    v = "dangling"
                else:
                    p = by_id[pid]
                    prole, pidn = roles[pid]
                    v = "wrong"
                    if parent_role is None:
                        wrong_how["%s (a root) under %s" % (child, prole)] += 1
                    elif prole != parent_role:
                        wrong_how["%s under %s" % (child, prole)] += 1
                    elif pidn != rid:
                        wrong_how["%s under %s of another id" % (child, prole)] += 1
                    elif p["trace_id"] != s["trace_id"]:
                        wrong_how["%s under its %s, another trace id" % (child, prole)] += 1
                    else:
                        v = "right"
                        skew = PLAIN_SKEW_NS if SCHEME[child] == SCHEME[parent_role] == "http" \
                            else 0
                        if parent_role and not (
                                p["start_time_unix_nano"] - skew <= s["start_time_unix_nano"] and
                                s["end_time_unix_nano"] <= p["end_time_unix_nano"] + skew):
                            tally["outside"] += 1
                tally[v] += 1
                verdict_of[s["span_id"]] = v
                if v != "right" and len(examples[child + "." + v]) < 5:
                    examples[child + "." + v].append("%d: %s" % (rid, describe(s)))
        for v in VERDICTS + ["outside"]:
            out["edge.%s.%s" % (child, v)] = tally[v]

    for x in "rpq":
        mine = [r for r in ROLES if r.startswith(x + ".")]
        ids = set()
        for r in mine:
            ids.update(per_role[r])
        out["whole." + x] = sum(
            1 for rid in ids
            if all(len(per_role[r].get(rid, [])) == 1 and
                   verdict_of[per_role[r][rid][0]["span_id"]] == "right" for r in mine))

    write_summary(args.summary, out, ROLES, spans, bad, dup_span_ids)
    for child in ROLES:
        n = out["count." + child]
        right = out["edge.%s.right" % child]
        print("%-10s <- %-10s right %4d  wrong %4d  unlinked %4d  dangling %4d  linked %.3f  "
              "(right but outside the parent's time: %d; url.scheme not %s: %d)"
              % (child, PARENT.get(child, "(root)"), right, out["edge.%s.wrong" % child],
                 out["edge.%s.unlinked" % child], out["edge.%s.dangling" % child],
                 right / n if n else 0.0, out["edge.%s.outside" % child], SCHEME[child],
                 out["scheme_bad." + child]))
    print("whole requests: r %d, p %d, q %d" % (out["whole.r"], out["whole.p"], out["whole.q"]))
    for how, n in wrong_how.most_common():
        print("wrong: %d %s" % (n, how))
    for key, lines in sorted(examples.items()):
        for line in lines:
            print("%s: %s" % (key, line))
    for what, n in others.most_common(10):
        print("no role: %d %s" % (n, what))
    return 0


if __name__ == "__main__":
    sys.exit(main())
