# SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
"""The spans obsprobe printed with --console json, one JSON object a line (shared by the
integration tests' span checkers)."""
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
