#!/usr/bin/env bash
# SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
#
# OTLP/HTTP metrics: nginx under wrk, 404s and proxied 503s, obsprobe exporting every second
# (OTEL_METRIC_EXPORT_INTERVAL=1000) to tests/otlp/receiver.py. Once the counts settle, the
# decoded http.server.request.duration and http.client.request.duration histograms (official
# protos, tests/otlp/decode.js) equal the Prometheus endpoint's series: count, sum, buckets,
# bounds; unit s, cumulative temporality, int status codes, service.name on the resource, start
# times stable across exports.
# shellcheck source=tests/lib.sh
. "$(dirname "$0")/../lib.sh"

N404=17
NPROXY=5

require_root || finish
otlp_setup || finish
nginx_up || finish
RPORT=$(free_port) || finish
start_receiver recv "$RPORT" || finish
R=$RECV_DIR

T_START=$(date +%s%N)
OTEL_METRIC_EXPORT_INTERVAL=1000 start_obsprobe --pid "$NGINX_PID" --console off \
	--otlp-endpoint "http://127.0.0.1:$RPORT" || finish

wrk -t2 -c8 -d2s "http://127.0.0.1:$P1/index.html" >"$TMP/wrk.out" 2>&1
log "wrk: $(wrk_requests "$TMP/wrk.out") requests"
args=()
for ((i = 1; i <= N404; i++)); do
	args+=(-o /dev/null "http://127.0.0.1:$P1/missing/$i.html")
done
assert_eq "curl got $N404 404s" "$N404" "$(curl -s -w '%{http_code}\n' "${args[@]}" | grep -c '^404$')"
args=()
for ((i = 1; i <= NPROXY; i++)); do
	args+=(-o /dev/null "http://127.0.0.1:$P1/proxy/x")
done
assert_eq "curl got $NPROXY proxied 503s" "$NPROXY" "$(curl -s -w '%{http_code}\n' "${args[@]}" | grep -c '^503$')"

H=http_server_request_duration_seconds
logged() { tail -n +"$((SKIP + 1))" "$ACCESS" | wc -l; }
settled() { [[ "$(metric_sum "$H")" == "$(logged)" ]]; }
wait_until 20 settled || fail "server histogram $(metric_sum "$H") never reached the $(logged) access-log lines"
scrape >"$TMP/prom.txt" || fail "scrape failed"
T_SCRAPE=$(date +%s.%N)

# an export collected after the scrape, and the one after it
exports_after() {
	(($(otlp_requests "$R" /v1/metrics | awk -v t="$T_SCRAPE" '$2 == 200 && $4 > t + 1.2' | wc -l) >= $1))
}
wait_until 10 exports_after 2 || fail "fewer than 2 metric exports in the 10 s after the scrape"
scrape >"$TMP/prom2.txt"
assert_eq "the server histogram did not move since the scrape" \
	"$(metric_sum "$H" "" "$TMP/prom.txt")" "$(metric_sum "$H" "" "$TMP/prom2.txt")"
mapfile -t LAST2 < <(otlp_requests "$R" /v1/metrics | awk -v t="$T_SCRAPE" '$2 == 200 && $4 > t + 1.2 { print $1 }' | head -n 2)
otlp_decode "$R" metrics >"$TMP/metrics.jsonl"
rc=$?
assert_eq "every metrics body decodes (decode.js status)" 0 "$rc"
grep '"type":"error"' "$TMP/metrics.jsonl" | head -n 5 | sed 's/^/    | /'
assert_eq "no field the official protos do not define" "" \
	"$(grep '"type":"request"' "$TMP/metrics.jsonl" | grep -v '"unknown_fields":0' | cut -c1-200)"
NMREQ=$(otlp_request_count "$R" /v1/metrics)
assert_ge "metric exports so far (about one a second)" "$NMREQ" 3
bad_hdr=0
for seq in $(otlp_requests "$R" /v1/metrics | awk '{ print $1 }'); do
	[[ "$(otlp_header "$R" "$seq" content-type)" == application/x-protobuf ]] || bad_hdr=$((bad_hdr + 1))
done
assert_eq "metrics requests without Content-Type: application/x-protobuf" 0 "$bad_hdr"

# the comparison, by a script: one line "ok: ..." or "bad: ..." per check
"$PY" - "$TMP/prom.txt" "$TMP/metrics.jsonl" "${LAST2[0]:-0}" "${LAST2[1]:-0}" "$T_START" "$P2" \
	"$TMP/prom2.txt" >"$TMP/cmp.out" 2>&1 <<'EOF'
import json, math, re, sys, time

prom_file, dec_file, seq1, seq2, t_start, p2, prom2_file = sys.argv[1:]
seq1, seq2, t_start = int(seq1), int(seq2), int(t_start)
BOUNDS = [0.005, 0.01, 0.025, 0.05, 0.075, 0.1, 0.25, 0.5, 0.75, 1, 2.5, 5, 7.5, 10]
SERIES = re.compile(r'^([a-zA-Z_:][a-zA-Z0-9_:]*)(?:\{(.*)\})? (\S+)')
LABEL = re.compile(r'\s*([a-zA-Z_][a-zA-Z0-9_]*)="((?:[^"\\]|\\.)*)"\s*,?')

def check(ok, what):
    print(("ok: " if ok else "bad: ") + what)

def labels(text):
    out, pos = {}, 0
    while text and pos < len(text):
        m = LABEL.match(text, pos)
        if not m:
            raise ValueError("bad labels: " + text)
        out[m.group(1)] = re.sub(r'\\(.)', lambda x: {"n": "\n"}.get(x.group(1), x.group(1)), m.group(2))
        pos = m.end()
    return out

def prom_hist(name):
    """{series key: {"count", "sum", "buckets": {le: cumulative}}}"""
    out = {}
    for line in open(prom_file):
        m = SERIES.match(line)
        if not m or not m.group(1).startswith(name + "_"):
            continue
        suffix = m.group(1)[len(name) + 1:]
        lab = labels(m.group(2) or "")
        le = lab.pop("le", None)
        key = tuple(sorted((k, v) for k, v in lab.items() if v != ""))
        s = out.setdefault(key, {"buckets": {}})
        v = float(m.group(3))
        if suffix == "bucket":
            s["buckets"][le] = v
        elif suffix in ("sum", "count"):
            s[suffix] = v
    return out

def plain(a):
    for t in ("string", "bool", "int", "double"):
        if t in a:
            return t, a[t]
    return "other", None

points = [json.loads(l) for l in open(dec_file)]
points = [p for p in points if p["type"] == "point"]

def otlp_hist(name, seq):
    out, types = {}, {}
    for p in points:
        if p["seq"] != seq or p["metric"] != name:
            continue
        lab = {}
        for a in p["attributes"]:
            t, v = plain(a)
            types[a["key"]] = types.get(a["key"], set()) | {t}
            lab[a["key"].replace(".", "_")] = str(v)
        res = dict((a["key"], plain(a)[1]) for a in p["resource"])
        if "service.name" in res:
            lab["service_name"] = str(res["service.name"])
        key = tuple(sorted((k, v) for k, v in lab.items() if v != ""))
        if key in out:
            check(False, "%s: series %s twice in request %d" % (name, key, seq))
        out[key] = p
    return out, types

def compare(otel, prom, seq, int_keys):
    P = prom_hist(prom)
    O, types = otlp_hist(otel, seq)
    check(len(P) > 0, "%s: Prometheus has %d series" % (prom, len(P)))
    check(set(P) == set(O), "%s: the same series in OTLP (request %d) and Prometheus: "
          "only Prometheus %s, only OTLP %s" % (otel, seq, sorted(set(P) - set(O))[:3],
                                                sorted(set(O) - set(P))[:3]))
    for k in int_keys:
        check(types.get(k) == {"int"}, "%s: attribute %s is an int (got %s)" % (otel, k, sorted(types.get(k, []))))
    check("service.name" not in types, "%s: service.name is not a point attribute" % otel)
    nbad = 0
    for key in sorted(set(P) & set(O)):
        ps, op = P[key], O[key]
        bad = []
        if op["data"] != "histogram":
            bad.append("data %s" % op["data"])
        if op["unit"] != "s":
            bad.append("unit %r" % op["unit"])
        if op["temporality"] != 2:
            bad.append("temporality %s" % op["temporality"])
        if op["explicit_bounds"] != BOUNDS:
            bad.append("bounds %s" % op["explicit_bounds"])
        if op["count"] != ps["count"]:
            bad.append("count %s != Prometheus %s" % (op["count"], ps["count"]))
        if op["sum"] is None or abs(op["sum"] - ps["sum"]) > 1e-6 * max(abs(ps["sum"]), 1e-9):
            bad.append("sum %r != Prometheus %r" % (op["sum"], ps["sum"]))
        les = sorted((float(le), v) for le, v in ps["buckets"].items())
        prev, want = 0, []
        for _, v in les:
            want.append(v - prev)
            prev = v
        if [float(c) for c in op["bucket_counts"]] != want:
            bad.append("buckets %s != Prometheus (de-cumulated) %s" % (op["bucket_counts"], want))
        if sum(op["bucket_counts"]) != op["count"]:
            bad.append("bucket counts add up to %d, count %s" % (sum(op["bucket_counts"]), op["count"]))
        st, t = int(op["start_time_unix_nano"]), int(op["time_unix_nano"])
        if not (t_start - 2e9 <= st <= t <= time.time_ns() + 1e9):
            bad.append("start %d, time %d, obsprobe started %d" % (st, t, t_start))
        if bad:
            nbad += 1
            if nbad <= 5:
                print("    | %s %s: %s" % (otel, dict(key), "; ".join(bad)))
    check(nbad == 0, "%s: every series equals Prometheus (count, sum, buckets, bounds, unit, "
          "temporality, times): %d of %d differ" % (otel, nbad, len(set(P) & set(O))))
    return O

S1 = compare("http.server.request.duration", "http_server_request_duration_seconds", seq1,
             ["http.response.status_code"])
C1 = compare("http.client.request.duration", "http_client_request_duration_seconds", seq1,
             ["http.response.status_code", "server.port"])
c503 = [p for k, p in C1.items() if ("server_port", p2) in k and ("http_response_status_code", "503") in k]
check(sum(p["count"] for p in c503) == 5, "client histogram: 5 requests to port %s with status 503 (got %s)"
      % (p2, [p["count"] for p in c503]))
srv = [p for p in S1.values()]
check(sum(p["count"] for p in srv if ("http.response.status_code", 404) in
          [(a["key"], a.get("int")) for a in p["attributes"]]) == 17, "server histogram: 17 404s")
routes = set()
for p in srv:
    for a in p["attributes"]:
        if a["key"] == "http.route":
            routes.add(a.get("string"))
print("info: routes %s" % sorted(routes, key=str))

# one ResourceMetrics per service, service.name = nginx
def rkey(p):
    return json.dumps(sorted((a["key"], plain(a)[1]) for a in p["resource"]))
http_res = {rkey(p) for p in points if p["seq"] == seq1 and p["metric"].startswith("http.")}
names = sorted({dict(map(tuple, json.loads(r))).get("service.name") for r in http_res}, key=str)
check(names == ["nginx"], "http metrics' resource service.name is nginx (got %s)" % names)
all_res = {rkey(p) for p in points if p["seq"] == seq1}
rm = [json.loads(l) for l in open(dec_file)]
rm = [r for r in rm if r["type"] == "request" and r["seq"] == seq1]
check(len(rm) == 1 and rm[0]["resources"] == len(all_res),
      "one ResourceMetrics per resource (request %d: %s ResourceMetrics, %d distinct resources)"
      % (seq1, rm[0]["resources"] if rm else "?", len(all_res)))

# start times stable, times moving, between two consecutive exports
S2, _ = otlp_hist("http.server.request.duration", seq2)
moved = same = 0
for key, p in S1.items():
    q = S2.get(key)
    if q is None:
        continue
    same += q["start_time_unix_nano"] == p["start_time_unix_nano"]
    moved += int(q["time_unix_nano"]) > int(p["time_unix_nano"])
check(len(S1) > 0 and same == len(S1), "start_time_unix_nano equal in requests %d and %d: %d of %d series"
      % (seq1, seq2, same, len(S1)))
check(len(S1) > 0 and moved == len(S1), "time_unix_nano later in request %d than in %d: %d of %d series"
      % (seq2, seq1, moved, len(S1)))
check(all(S2.get(k, {}).get("count") == p["count"] for k, p in S1.items()),
      "cumulative: counts unchanged between the two exports (no traffic)")

# saturation: the run-queue histogram with its log2 microsecond bounds, per watched process
rq = [p for p in points if p["seq"] == seq1 and p["metric"] == "obsprobe.sched.runqueue.latency"]
check(len(rq) > 0 and all(p["data"] == "histogram" and p["unit"] == "s" and
                          len(p["explicit_bounds"]) == 26 and p["explicit_bounds"][0] == 2e-06 and
                          abs(p["explicit_bounds"][-1] - 67.108864) < 1e-9 and
                          p["count"] == sum(int(c) for c in p["bucket_counts"]) for p in rq),
      "obsprobe.sched.runqueue.latency: histograms with bounds 2e-06 .. 67.108864 s (%d series)" % len(rq))

# obsprobe's own counters
own = sorted({p["metric"] for p in points if p["seq"] == seq1 and p["metric"].startswith("obsprobe")})
print("info: obsprobe's own metrics: %s" % own)
sums = [p for p in points if p["seq"] == seq1 and p["metric"].startswith("obsprobe") and p["data"] == "sum"]
check(len(sums) > 0 and all(p["monotonic"] and p["temporality"] == 2 for p in sums),
      "obsprobe's own counters: monotonic cumulative sums (%d points)" % len(sums))
# counters and gauges: every series whose Prometheus value is the same in the scrapes before and
# after the export equals the export's value
def prom_plain(path):
    out = {}
    for line in open(path):
        m = SERIES.match(line)
        if m:
            lab = labels(m.group(2) or "")
            out[(m.group(1), tuple(sorted((k, v) for k, v in lab.items() if v != "")))] = float(m.group(3))
    return out
pa, pb = prom_plain(prom_file), prom_plain(prom2_file)
compared = nbad = missing = 0
for p in points:
    if p["seq"] != seq1 or p["data"] not in ("sum", "gauge"):
        continue
    # as the OpenTelemetry Prometheus exporter names it: unit, then _total for counters
    name = p["metric"].replace(".", "_")
    unit = {"s": "seconds", "By": "bytes"}.get(p["unit"])
    if unit and not name.endswith("_" + unit):
        name += "_" + unit
    name += "_total" if p["data"] == "sum" and p["monotonic"] else ""
    lab = {a["key"].replace(".", "_"): str(plain(a)[1]) for a in p["attributes"]}
    res = dict((a["key"], plain(a)[1]) for a in p["resource"])
    key = tuple(sorted((k, v) for k, v in lab.items() if v != ""))
    key_svc = tuple(sorted(key + (("service_name", str(res.get("service.name"))),)))
    k = (name, key) if (name, key) in pa else (name, key_svc)
    if k not in pa:
        missing += 1
        print("    | %s %s: not on /metrics" % (name, dict(key)))
        continue
    if pa[k] != pb.get(k):
        continue
    v = p.get("as_int", p.get("as_double"))
    compared += 1
    if v is None or float(v) != pa[k]:
        nbad += 1
        print("    | %s %s: OTLP %r, /metrics %r" % (name, dict(key), v, pa[k]))
check(compared > 0 and nbad == 0 and missing == 0,
      "counters and gauges equal /metrics (%d steady series compared, %d differ, %d not on /metrics)"
      % (compared, nbad, missing))
print("info: all metrics: %s" % sorted({(p["metric"], p["data"], p["unit"]) for p in points if p["seq"] == seq1}))
EOF
rc=$?
assert_eq "the comparison script ran" 0 "$rc"
while IFS= read -r line; do
	case $line in
	"ok: "*) pass "${line#ok: }" ;;
	"bad: "*) fail "${line#bad: }" ;;
	*) log "$line" ;;
	esac
done <"$TMP/cmp.out"
assert_eq "obsprobe_export_dropped_total{signal=metrics}" 0 \
	"$(counter_sum obsprobe_export_dropped_total 'signal="metrics"' "$TMP/prom2.txt")"
stop_obsprobe
finish
