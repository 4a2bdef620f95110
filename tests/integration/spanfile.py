# SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
"""The spans obsprobe printed with --console json, one JSON object a line (shared by the
integration tests' span checkers)."""
import collections
import json


def load_spans(path):
    """(spans, lines that are not JSON, spans by span_id, span ids seen more than once)"""
    spans, bad = [], 0
    with open(path, errors="replace") as fh:
        for line in fh:
            if not line.strip():
                continue
            try:
                spans.append(json.loads(line))
            except ValueError:
                bad += 1
    by_id, dups = {}, 0
    for s in spans:
        if s["span_id"] in by_id:
            dups += 1
        by_id[s["span_id"]] = s
    return spans, bad, by_id, dups


def group_roles(spans, role_of, roles, describe):
    """Each span's (role, request id) from role_of(span) -> (roles: span_id -> (role, id),
    per_role: role -> id -> [spans], others: how many spans of no role ("other"), by
    describe(span))."""
    by_span = {}
    per_role = {r: collections.defaultdict(list) for r in roles}
    others = collections.Counter()
    for s in spans:
        role, rid = role_of(s)
        by_span[s["span_id"]] = (role, rid)
        if role == "other":
            others[describe(s)] += 1
        else:
            per_role[role][rid].append(s)
    return by_span, per_role, others


def write_summary(path, out, roles, spans, bad, dup_span_ids):
    """The summary file the shell test reads ("key value" a line), and the first lines of the
    report: the spans, and how many each role has."""
    with open(path, "w") as fh:
        for k, v in out.items():
            fh.write("%s %s\n" % (k, v))
    print("spans: %d (%d of no role, %d lines not JSON, %d span ids seen twice)"
          % (len(spans), out["other"], bad, dup_span_ids))
    print("per role: " + ", ".join("%s %d" % (r, out["count." + r]) for r in roles))
