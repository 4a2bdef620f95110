#!/usr/bin/python3.11
# SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
"""How well obsprobe's spans of tests/integration/trace_go.sh make one trace per request.

    trace_check.py SPANS --nginx PID,PID.. --app PID --leaf PID --summary FILE

SPANS is obsprobe's --console json output. Every span gets a role and the request id it
belongs to (roles by kind, process and what the span names):

    nginx_server  SERVER  an nginx pid  url.path /req/<id>
    nginx_client  CLIENT  an nginx pid  url.path /req/<id>
    gin_server    SERVER  the app       url.path /req/<id>
    db_h          CLIENT  the app       db.query.text ... AS h_<id>  (the handler's query)
    db_g          CLIENT  the app       db.query.text ... AS g_<id>  (a goroutine's query)
    gin_client    CLIENT  the app       url.path /leaf/<id>
    leaf_server   SERVER  the leaf      url.path /leaf/<id>

anything else is "other". Each role but nginx_server has one expected parent role, an edge
named by the child:

    nginx_client <- nginx_server     gin_server <- nginx_client
    db_h, db_g, gin_client <- gin_server     leaf_server <- gin_client

and every child span of an edge is exactly one of:

    right     its parent is a span of the expected role, for the same id, in the same trace
    wrong     its parent is a span of another role or another id, or of another trace
    unlinked  no parent_span_id
    dangling  a parent_span_id no span has

nginx_server spans are roots (curl is not watched and sends no traceparent): one with a parent
counts as wrong on the edge "nginx_server". A request is one whole trace when it has exactly
one span of each of the 7 roles, every edge right and a root without a parent.

Log lines go to stdout; FILE gets the summary, one "KEY VALUE" a line:

    spans N / other N / dup_span_ids N / whole N
    count.ROLE N / dup.ROLE N           spans of ROLE, and ids with more than one
    edge.CHILD.right|wrong|unlinked|dangling N
    edge.CHILD.outside N                 right ones whose time is not inside their parent's
"""

import argparse
import collections
import re
import sys

from spanfile import group_roles, load_spans, write_summary

ROLES = ["nginx_server", "nginx_client", "gin_server", "db_h", "db_g", "gin_client",
         "leaf_server"]
EDGES = [("nginx_client", "nginx_server"), ("gin_server", "nginx_client"),
         ("db_h", "gin_server"), ("db_g", "gin_server"), ("gin_client", "gin_server"),
         ("leaf_server", "gin_client")]
VERDICTS = ["right", "wrong", "unlinked", "dangling"]
REQ_RE = re.compile(r"^/req/(\d+)$")
LEAF_RE = re.compile(r"^/leaf/(\d+)$")
DB_RE = re.compile(r"\bAS ([hg])_(\d+)\b")


def role_of(span, nginx, app, leaf):
    """(role, id) of a span, or ("other", None)."""
    attrs = span.get("attributes", {})
    pid = span.get("resource", {}).get("process.pid")
    kind = span.get("kind")
    path = attrs.get("url.path", "")
    m = REQ_RE.match(path) if isinstance(path, str) else None
    if pid in nginx and m and kind in ("SERVER", "CLIENT"):
        return "nginx_" + kind.lower(), int(m.group(1))
    if pid == app:
        if kind == "SERVER" and m:
            return "gin_server", int(m.group(1))
        if kind == "CLIENT" and attrs.get("db.system.name") == "postgresql":
            d = DB_RE.search(attrs.get("db.query.text", ""))
            if d:
                return "db_" + d.group(1), int(d.group(2))
        leaf_m = LEAF_RE.match(path) if isinstance(path, str) else None
        if kind == "CLIENT" and leaf_m:
            return "gin_client", int(leaf_m.group(1))
    if pid == leaf and kind == "SERVER":
        leaf_m = LEAF_RE.match(path) if isinstance(path, str) else None
        if leaf_m:
            return "leaf_server", int(leaf_m.group(1))
    return "other", None


def describe(span):
    """A short description of a span of no role, for the log."""
    a = span.get("attributes", {})
    what = a.get("db.query.text") or a.get("url.path") or span.get("name")
    return "%s pid %s %s" % (span.get("kind"), span.get("resource", {}).get("process.pid"),
                             what)


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("spans")
    ap.add_argument("--nginx", required=True, help="comma-separated pids")
    ap.add_argument("--app", required=True, type=int)
    ap.add_argument("--leaf", required=True, type=int)
    ap.add_argument("--summary", required=True)
    args = ap.parse_args()
    nginx = {int(p) for p in args.nginx.split(",") if p}

    spans, bad, by_id, dup_span_ids = load_spans(args.spans)
    roles, per_role, others = group_roles(spans, lambda s: role_of(s, nginx, args.app, args.leaf), ROLES, describe)

    out = {"spans": len(spans), "invalid_lines": bad, "dup_span_ids": dup_span_ids,
           "other": sum(others.values())}
    for r in ROLES:
        out["count." + r] = sum(len(v) for v in per_role[r].values())
        out["dup." + r] = sum(1 for v in per_role[r].values() if len(v) > 1)

    # verdict per child span, and how the wrong ones were wrong
    verdict_of = {}  # span_id -> verdict
    wrong_how = collections.Counter()
    dangling = []
    for child, parent_role in EDGES + [("nginx_server", None)]:
        tally = collections.Counter()
        for rid, group in per_role[child].items():
            for s in group:
                pid = s.get("parent_span_id")
                if not pid:
                    v = "unlinked"
                elif pid not in by_id:
                    v = "dangling"
                    dangling.append("%s %d (span %s) has parent %s, which no span has"
                                    % (child, rid, s["span_id"], pid))
                else:
                    p = by_id[pid]
                    prole, pidn = roles[pid]
                    if parent_role is None:
                        v = "wrong"
                        wrong_how["%s under %s" % (child, prole)] += 1
                    elif prole != parent_role:
                        v = "wrong"
                        wrong_how["%s under %s" % (child, prole)] += 1
                    elif pidn != rid:
                        v = "wrong"
                        wrong_how["%s under %s of another id" % (child, prole)] += 1
                    elif p["trace_id"] != s["trace_id"]:
                        v = "wrong"
                        wrong_how["%s under its %s, another trace id" % (child, prole)] += 1
                    else:
                        v = "right"
                        if not (p["start_time_unix_nano"] <= s["start_time_unix_nano"] and
                                s["end_time_unix_nano"] <= p["end_time_unix_nano"]):
                            tally["outside"] += 1
                if parent_role is None and v == "unlinked":
                    v = "right"  # a root as it should be
                tally[v] += 1
                verdict_of[s["span_id"]] = v
        for v in VERDICTS + ["outside"]:
            out["edge.%s.%s" % (child, v)] = tally[v]

    whole = 0
    ids = set()
    for r in ROLES:
        ids.update(per_role[r])
    for rid in ids:
        groups = [per_role[r].get(rid, []) for r in ROLES]
        if all(len(g) == 1 for g in groups) and \
                all(verdict_of[g[0]["span_id"]] == "right" for g in groups):
            whole += 1
    out["whole"] = whole

    write_summary(args.summary, out, ROLES, spans, bad, dup_span_ids)
    for child, parent_role in EDGES:
        n = out["count." + child]
        right = out["edge.%s.right" % child]
        print("edge %-12s <- %-12s right %4d  wrong %4d  unlinked %4d  dangling %4d  "
              "linked %.3f  (right but outside the parent's time: %d)"
              % (child, parent_role, right, out["edge.%s.wrong" % child],
                 out["edge.%s.unlinked" % child], out["edge.%s.dangling" % child],
                 right / n if n else 0.0, out["edge.%s.outside" % child]))
    print("roots nginx_server with a parent: %d, dangling: %d"
          % (out["edge.nginx_server.wrong"], out["edge.nginx_server.dangling"]))
    print("whole traces (7 spans, 6 edges right): %d of %d ids" % (whole, len(ids)))
    for how, n in wrong_how.most_common():
        print("wrong: %d %s" % (n, how))
    for line in dangling[:10]:
        print("dangling: " + line)
    for r in ROLES:
        missing = sorted(ids - set(per_role[r]))
        if missing:
            print("missing: %d %s spans, ids %s" % (len(missing), r,
                                                    " ".join(map(str, missing[:20]))))
    for what, n in others.most_common(10):
        print("no role: %d %s" % (n, what))
    return 0


if __name__ == "__main__":
    sys.exit(main())
