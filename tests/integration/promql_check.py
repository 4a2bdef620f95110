#!/usr/bin/python3.11
# SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
"""What tests/integration/deploy_prometheus.sh checks of deploy/prometheus and deploy/grafana.

    promql_check.py lint RULES RULES_TEST DASHBOARD
        the shape of the files: every alert "<expr> <comparison> <number>" with for:, a
        severity and summary/description; every recording rule given exact values in
        RULES_TEST and every alert tested firing and silent there; the dashboard's schema,
        variables, rows and data sources. One "PASS text" or "FAIL text" line per check, then
        "counts RECORDING ALERTS PANEL_EXPRS".
    promql_check.py exprs RULES DASHBOARD OUT
        every PromQL expression to evaluate, as JSON lines {kind, name, expr} in OUT: each
        recording rule's expr and its recorded series, each alert's left side, each dashboard
        target with the template variables substituted ($service, $route: .+;
        $__rate_interval: 15s; $__interval: 1s; $__range: 5m)
    promql_check.py kubeconfig PROMETHEUS_YML OUT RULES
        PROMETHEUS_YML with each kubernetes_sd_configs replaced by static targets shaped as
        the Kubernetes pod discovery gives them (Debian's Prometheus has no Kubernetes
        discovery): the pods of test_pods() below
    promql_check.py kubetargets JSON
        checks what `promtool check service-discovery` made of those pods
    promql_check.py testconfig PROMETHEUS_YML OUT RULES TARGET
        the configuration the test runs Prometheus with: PROMETHEUS_YML's single-host job, its
        target replaced by TARGET, scrape and evaluation every second, RULES by absolute path
    promql_check.py query URL EXPRS TIMEOUT
        evaluates each expression of EXPRS (from exprs) at URL's /api/v1/query, again every
        second until all return a sample that is a number or TIMEOUT seconds pass; prints one
        line per expression: "ok|empty|nan|error KIND NAME N-SERIES DETAIL"
    promql_check.py values URL EXPR
        the samples of EXPR, one "LABELS VALUE" a line (labels as k=v,k=v sorted)
    promql_check.py rules URL
        /api/v1/rules: "GROUP TYPE NAME HEALTH LAST-ERROR" per rule
    promql_check.py variables URL DASHBOARD
        each label_values() variable of DASHBOARD asked of URL as Grafana asks it
        (/api/v1/label/LABEL/values, with match[] when it names a selector), the variables it
        uses substituted: "NAME VALUE" per value
"""

import json
import math
import re
import sys
import time
import urllib.parse
import urllib.request

import yaml

SUBST = [
    ("${service}", ".+"), ("$service", ".+"), ("${route}", ".+"), ("$route", ".+"),
    ("$__rate_interval", "15s"), ("${__rate_interval}", "15s"), ("$__interval", "1s"),
    ("$__range", "5m"),
]
ALERT_RE = re.compile(r"^(?P<lhs>.*\S)\s+(?P<op>==|!=|>=|<=|>|<)\s+(?P<thr>-?[0-9.]+(?:[eE][-+]?[0-9]+)?)\s*$",
                      re.S)
ROWS = ["HTTP servers", "HTTP clients", "PostgreSQL", "Saturation", "obsprobe health"]


def rules_of(path):
    doc = yaml.safe_load(open(path))
    for g in doc["groups"]:
        for r in g["rules"]:
            yield g["name"], r


def panels_of(dash):
    for p in dash.get("panels", []):
        yield p
        yield from p.get("panels", []) or []


def substitute(expr):
    for a, b in SUBST:
        expr = expr.replace(a, b)
    return expr


def say(ok, text):
    print(("PASS " if ok else "FAIL ") + text)


def lint(rules_path, test_path, dash_path):
    rec, alerts = [], []
    for group, r in rules_of(rules_path):
        (rec if "record" in r else alerts).append(r)
    for a in alerts:
        name = a["alert"]
        m = ALERT_RE.match(" ".join(a["expr"].split()))
        say(m is not None, f"alert {name}: expr is '<expr> <comparison> <number>': {a['expr'].strip()}")
        say(bool(a.get("for")), f"alert {name} has for: ({a.get('for')})")
        sev = a.get("labels", {}).get("severity")
        say(sev in ("info", "warning", "critical"), f"alert {name} has a severity label ({sev})")
        ann = a.get("annotations", {})
        say(bool(ann.get("summary")) and bool(ann.get("description")),
            f"alert {name} has summary and description annotations")
    names = [r["record"] for r in rec]
    say(len(names) == len(set(names)), f"{len(names)} recording rules, no name recorded twice")

    # rules_test.yml: exact values for every recorded series, every alert firing and silent
    tests = yaml.safe_load(open(test_path))["tests"]
    exprs = [t["expr"] for tc in tests for t in tc.get("promql_expr_test", [])
             if t.get("exp_samples")]
    for n in names:
        covered = any(re.match(re.escape(n) + r"(\{|$)", e.strip()) for e in exprs)
        say(covered, f"rules_test.yml gives exact values of {n}")
    for a in alerts:
        n = a["alert"]
        cases = [t for tc in tests for t in tc.get("alert_rule_test", []) if t["alertname"] == n]
        say(any(t.get("exp_alerts") for t in cases) and any(not t.get("exp_alerts") for t in cases),
            f"rules_test.yml tests {n} firing and silent")

    dash = json.load(open(dash_path))
    say(dash.get("schemaVersion", 0) >= 36, f"dashboard schemaVersion {dash.get('schemaVersion')}")
    tv = {v["name"]: v for v in dash.get("templating", {}).get("list", [])}
    say(tv.get("datasource", {}).get("type") == "datasource"
        and tv["datasource"].get("query") == "prometheus", "dashboard variable datasource: Prometheus")
    for v in ("service", "route"):
        q = tv.get(v, {}).get("definition", "")
        say(q.startswith("label_values("), f"dashboard variable {v} from label_values ({q})")
    titles = [p["title"] for p in panels_of(dash) if p.get("type") == "row"]
    for r in ROWS:
        say(any(t.startswith(r) for t in titles), f"dashboard row '{r}'")
    npanel, cells = 0, {}
    for p in panels_of(dash):
        g = p.get("gridPos", {})
        for x in range(g.get("x", 0), g.get("x", 0) + g.get("w", 0)):
            for y in range(g.get("y", 0), g.get("y", 0) + g.get("h", 0)):
                cells.setdefault((x, y), []).append(p["title"])
        if p.get("type") == "row":
            continue
        ds = [p.get("datasource", {})] + [t.get("datasource", {}) for t in p.get("targets", [])]
        ok = all(d.get("uid") == "${datasource}" and d.get("type") == "prometheus" for d in ds)
        say(ok and p.get("targets"), f"panel '{p['title']}': targets on ${{datasource}}")
        npanel += len(p.get("targets", []))
    overlaps = sorted({" / ".join(t) for t in cells.values() if len(t) > 1})
    say(not overlaps and all(x < 24 for x, _ in cells),
        f"dashboard panels within 24 columns, none over another {overlaps}")
    print("counts", len(rec), len(alerts), npanel)


def exprs(rules_path, dash_path, out):
    with open(out, "w") as f:
        def put(kind, name, expr):
            f.write(json.dumps({"kind": kind, "name": name, "expr": " ".join(expr.split())}) + "\n")

        for group, r in rules_of(rules_path):
            if "record" in r:
                put("recording", r["record"], r["expr"])
                put("recorded", r["record"], r["record"])
            else:
                m = ALERT_RE.match(" ".join(r["expr"].split()))
                put("alert", r["alert"], m.group("lhs") if m else r["expr"])
        for p in panels_of(json.load(open(dash_path))):
            for t in p.get("targets", []):
                put("panel", f"{p['title']} [{t['refId']}]", substitute(t["expr"]))


def test_pods():
    """(pod IP, node, pod, app label, phase, declared port or None, kept)"""
    return [
        ("10.0.0.1", "node-a", "obsprobe-a1", "obsprobe", "Running", 9464, True),
        ("fd00::2", "node-b", "obsprobe-b2", "obsprobe", "Running", None, True),
        ("10.0.0.3", "node-c", "web-c3", "web", "Running", 8080, False),
        ("10.0.0.4", "node-d", "obsprobe-d4", "obsprobe", "Pending", 9464, False),
    ]


def kubeconfig(src, out, rules):
    c = yaml.safe_load(open(src))
    n = 0
    for job in c["scrape_configs"]:
        if "kubernetes_sd_configs" not in job:
            continue
        for sd in job.pop("kubernetes_sd_configs"):
            if sd.get("role") != "pod":
                sys.exit(f"kubernetes_sd_configs role {sd.get('role')}: only pod is mimicked")
            # what the API server is asked for, which no static target can show
            sel = [s for s in sd.get("selectors", []) if s.get("role") == "pod"]
            if [s.get("label") for s in sel] != ["app.kubernetes.io/name=obsprobe"]:
                sys.exit(f"kubernetes_sd_configs selectors {sel}: want the pod label "
                         "app.kubernetes.io/name=obsprobe")
        n += 1
        groups = []
        for ip, node, pod, app, phase, port, _ in test_pods():
            host = f"[{ip}]" if ":" in ip else ip
            labels = {
                "__meta_kubernetes_namespace": "monitoring",
                "__meta_kubernetes_pod_name": pod,
                "__meta_kubernetes_pod_ip": ip,
                "__meta_kubernetes_pod_node_name": node,
                "__meta_kubernetes_pod_phase": phase,
                "__meta_kubernetes_pod_label_app_kubernetes_io_name": app,
                "__meta_kubernetes_pod_labelpresent_app_kubernetes_io_name": "true",
            }
            if port:
                labels["__meta_kubernetes_pod_container_port_number"] = str(port)
            # the discovery's __address__: the declared port, else the pod IP alone
            groups.append({"targets": [f"{host}:{port}" if port else host], "labels": labels})
        job["static_configs"] = groups
    c["rule_files"] = [rules]
    yaml.safe_dump(c, open(out, "w"), sort_keys=False)
    print(n)


def kubetargets(path):
    got = json.load(open(path))
    kept = [t["labels"] for t in got if t.get("labels")]
    want = [p for p in test_pods() if p[6]]
    say(len(kept) == len(want), f"Kubernetes job keeps {len(want)} of {len(got)} pods (got {len(kept)})")
    for ip, node, pod, *_ in want:
        host = f"[{ip}]" if ":" in ip else ip
        t = [k for k in kept if k.get("pod") == pod]
        exp = {"__address__": f"{host}:9464", "instance": node, "node": node, "job": "obsprobe",
               "namespace": "monitoring", "__metrics_path__": "/metrics"}
        diff = {k: (v, t[0].get(k) if t else None) for k, v in exp.items() if not t or t[0].get(k) != v}
        say(not diff, f"Kubernetes target of pod {pod}: {exp['__address__']}, instance=node={node}, "
            f"job=obsprobe{' (wrong: ' + json.dumps(diff) + ')' if diff else ''}")


def testconfig(src, out, rules, target):
    c = yaml.safe_load(open(src))
    jobs = [j for j in c["scrape_configs"] if "static_configs" in j and j["job_name"] == "obsprobe"]
    if len(jobs) != 1:
        sys.exit(f"{src}: no single-host job 'obsprobe' with static_configs")
    job = jobs[0]
    if len(job["static_configs"]) != 1 or len(job["static_configs"][0]["targets"]) != 1:
        sys.exit(f"{src}: the job 'obsprobe' should have one target")
    job["static_configs"][0]["targets"] = [target]
    job["scrape_interval"] = "1s"
    job["scrape_timeout"] = "1s"
    c["scrape_configs"] = [job]
    c["global"].update({"scrape_interval": "1s", "scrape_timeout": "1s", "evaluation_interval": "1s"})
    c["rule_files"] = [rules]
    yaml.safe_dump(c, open(out, "w"), sort_keys=False)


def api(url, path, **params):
    q = urllib.parse.urlencode(params)
    with urllib.request.urlopen(f"{url}{path}?{q}", timeout=10) as r:
        return json.load(r)


def evaluate(url, expr):
    try:
        res = api(url, "/api/v1/query", query=expr)
    except urllib.error.HTTPError as e:
        try:
            return "error", 0, json.load(e).get("error", str(e))
        except ValueError:
            return "error", 0, str(e)
    except Exception as e:  # noqa: BLE001 (connection refused, timeout: reported as such)
        return "error", 0, str(e)
    data = res["data"]
    if data["resultType"] == "scalar":
        vals = [data["result"][1]]
    else:
        vals = [s["value"][1] for s in data["result"]]
    nums = [v for v in vals if not math.isnan(float(v))]
    if not vals:
        return "empty", 0, "no series"
    if not nums:
        return "nan", len(vals), "every sample NaN"
    return "ok", len(vals), "e.g. " + nums[0]


def query(url, path, timeout):
    items = [json.loads(l) for l in open(path)]
    deadline = time.time() + float(timeout)
    while True:
        res = [evaluate(url, i["expr"]) for i in items]
        if all(r[0] == "ok" for r in res) or time.time() >= deadline:
            break
        time.sleep(1)
    for i, (st, n, detail) in zip(items, res):
        print(st, i["kind"], json.dumps(i["name"]), n, json.dumps(detail), json.dumps(i["expr"]))


def values(url, expr):
    res = api(url, "/api/v1/query", query=expr)["data"]
    if res["resultType"] == "scalar":
        print("-", res["result"][1])
        return
    for s in res["result"]:
        labels = ",".join(f"{k}={v}" for k, v in sorted(s["metric"].items()))
        print(labels or "-", s["value"][1])


def rules(url):
    for g in api(url, "/api/v1/rules")["data"]["groups"]:
        for r in g["rules"]:
            print(g["name"], r["type"], r["name"], r["health"], json.dumps(r.get("lastError", "")))


def variables(url, dash_path):
    for v in json.load(open(dash_path))["templating"]["list"]:
        q = v.get("definition", "")
        m = re.fullmatch(r"label_values\((?:(?P<sel>.+),\s*)?(?P<label>[a-zA-Z_][a-zA-Z0-9_]*)\)", q)
        if v.get("type") != "query" or not m:
            continue
        params = {"match[]": substitute(m.group("sel"))} if m.group("sel") else {}
        for value in api(url, f"/api/v1/label/{m.group('label')}/values", **params)["data"]:
            print(v["name"], value)


def main():
    cmd, args = sys.argv[1], sys.argv[2:]
    {"lint": lint, "exprs": exprs, "kubeconfig": kubeconfig, "kubetargets": kubetargets,
     "testconfig": testconfig, "query": query, "values": values, "rules": rules,
     "variables": variables}[cmd](*args)


if __name__ == "__main__":
    main()
