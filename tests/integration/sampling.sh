#!/usr/bin/env bash
# SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
#
# Trace sampling keeps whole traces: nginx as a reverse proxy in front of the Go server, both
# watched, one client sending its requests one after another, so that each is one trace of 3
# spans (nginx SERVER, its CLIENT, the Go server's SERVER), checked on the console first.
#   1. traceidratio 0.1, one request in 10 a 500 and one in 20 a 404 (whose only ERROR span is
#      nginx's CLIENT, in the middle: the upstream's span ended before it, the root after it):
#      every trace with an ERROR is exported whole, the others exactly when the ratio keeps their
#      trace id (about 10%), every exported trace whole and once, and
#      obsprobe_spans_sampled_out_total{reason="ratio"} is what was not exported.
#   2. traceidratio 0 and --keep-slower-than 30ms, one request in 3 to /slow (50 ms): exactly
#      the traces that lasted longer than 30 ms (by the console's times) are exported, whole.
#   3. parentbased_traceidratio 0 with incoming traceparents: a sampled caller's traces are
#      exported whole, a not-sampled caller's are not (unless a 5xx), roots of our own are not.
# shellcheck source=tests/lib.sh
. "$(dirname "$0")/../lib.sh"

require_root || finish
otlp_setup || finish
if ! P1=$(free_port) || ! GPORT=$(free_port); then
	fail "no free port"
	finish
fi
start_goserver go "$GPORT" || finish
start_nginx "$TMP/nginx" "$P1" "$GPORT" http nginx-proxy.conf.in || finish
BASE=http://127.0.0.1:$P1/proxy

# curl_paths PATH...: one curl, one keep-alive connection, the paths in order; prints each
# answer's status, one a line
curl_paths() {
	local p args=()
	for p in "$@"; do
		args+=(-o /dev/null "$BASE$p")
	done
	curl -s -w '%{http_code}\n' "${args[@]}"
}

# settled RECV_DIR CONSOLE: obsprobe holds no span any more, has kept or sampled out every span
# the console shows, and the receiver got every span it kept. The counters are refreshed once a
# second: until the first refresh after the spans came, "none held" and "kept = received" can both
# be true of a refresh before them (0 and 0), which the sum rules out.
settled() {
	local m=$TMP/settle.txt kept out
	scrape >"$m" || return 1
	[[ "$(counter_sum obsprobe_sampling_held_spans "" "$m")" == 0 ]] || return 1
	kept=$(counter_sum obsprobe_spans_kept_total "" "$m")
	out=$(counter_sum obsprobe_spans_sampled_out_total "" "$m")
	((kept + out == $(spans_count "$2"))) || return 1
	otlp_spans "$1" "$TMP/o.json" || return 1
	(($(spans_count "$TMP/o.json") == kept))
}

# analyze CONSOLE OTLP MODE ARG: the console's traces against what was exported, one "key value"
# a line. MODE ratio: a trace must be exported when a span is an ERROR or the ratio ARG keeps its
# id (as otel_ratio_sample compares: the id's last 8 bytes, shifted right once, below
# ARG * 2^63, in doubles); MODE slow: when a span is an ERROR or the trace (first start to last
# end) lasted longer than ARG ms (traces within 2 ms of ARG are counted apart, not judged).
analyze() {
	"$PY" -c '
import json, sys
from collections import defaultdict
con, otlp, mode, arg = sys.argv[1], sys.argv[2], sys.argv[3], float(sys.argv[4])
traces = defaultdict(dict)
for l in open(con):
    s = json.loads(l)
    traces[s["trace_id"]][s["span_id"]] = s
out = defaultdict(list)
for l in open(otlp):
    s = json.loads(l)
    out[s["trace_id"]].append(s["span_id"])

def shape_ok(spans):
    if len(spans) != 3:
        return False
    by = {(s["kind"], s["resource"]["process.executable.name"]): s for s in spans.values()}
    root, client, up = by.get(("SERVER", "nginx")), by.get(("CLIENT", "nginx")), by.get(("SERVER", "goserver"))
    return bool(root and client and up and "parent_span_id" not in root
                and client.get("parent_span_id") == root["span_id"]
                and up.get("parent_span_id") == client["span_id"])

def ratio_keeps(tid):
    x = int.from_bytes(bytes.fromhex(tid)[8:16], "big") >> 1
    return arg >= 1 or (arg > 0 and float(x) < arg * 9223372036854775808.0)

n = defaultdict(int)
for tid, spans in traces.items():
    err = any(s["status"] == "ERROR" for s in spans.values())
    ext = (max(s["end_time_unix_nano"] for s in spans.values()) -
           min(s["start_time_unix_nano"] for s in spans.values())) / 1e6
    exported = tid in out
    n["traces"] += 1
    n["spans"] += len(spans)
    n["shape_ok"] += shape_ok(spans)
    n["error_traces"] += err
    n["exported_traces"] += exported
    n["exported_error_traces"] += exported and err
    n["error_traces_whole"] += err and sorted(out.get(tid, [])) == sorted(spans)
    if mode == "ratio":
        n["ratio_keeps"] += ratio_keeps(tid)
        n["error_rescued"] += err and not ratio_keeps(tid)
        n["kept_without_error"] += exported and not err
        want = err or ratio_keeps(tid)
    else:
        n["slow_traces"] += ext > arg
        n["slow_by_path"] += any(s["attributes"].get("url.path") == "/slow" for s in spans.values())
        n["slow_by_path_exported"] += exported and any(s["attributes"].get("url.path") == "/slow" for s in spans.values())
        if abs(ext - arg) < 2:
            n["borderline"] += 1
            continue
        want = err or ext > arg
    if want != exported:
        n["misjudged"] += 1
        print("misjudged %s: error %s, %.3f ms, exported %s" % (tid, err, ext, exported), file=sys.stderr)
n["exported_spans"] = sum(len(v) for v in out.values())
n["duplicates"] = n["exported_spans"] - len({i for v in out.values() for i in v})
n["partial"] = sum(1 for t, v in out.items() if sorted(v) != sorted(traces.get(t, {})))
n["strays"] = sum(1 for t in out if t not in traces)
for k in ("traces", "spans", "shape_ok", "error_traces", "error_traces_whole", "exported_traces",
          "exported_error_traces", "exported_spans", "duplicates", "partial", "strays", "misjudged",
          "ratio_keeps", "error_rescued", "kept_without_error", "slow_traces", "slow_by_path",
          "slow_by_path_exported", "borderline"):
    print(k, n[k])' "$@"
}

# val KEY: KEY's value in $A (analyze's output)
val() { awk -v k="$1" '$1 == k { print $2 }' <<<"$A"; }

# --- 1. traceidratio 0.1
NREQ=300
RP1=$(free_port) || { fail "no free port"; finish; }
start_receiver recv1 "$RP1" || finish
R1=$RECV_DIR
OTEL_TRACES_SAMPLER=traceidratio OTEL_TRACES_SAMPLER_ARG=0.1 start_obsprobe --pid "$NGINX_PID" \
	--pid "$GO_PID" --console json --otlp-endpoint "http://127.0.0.1:$RP1" || finish
O1=$OBS_OUT
paths=()
for ((i = 1; i <= NREQ; i++)); do
	if ((i % 10 == 0)); then
		paths+=(/status/500)
	elif ((i % 20 == 5)); then
		paths+=(/status/404)
	else
		paths+=("/users/$i")
	fi
done
NERR=$((NREQ / 10 + NREQ / 20))
codes=$(curl_paths "${paths[@]}")
assert_eq "ratio: $NREQ answers" "$NREQ" "$(grep -c '^[245]' <<<"$codes")"
assert_eq "ratio: of them 500s and 404s" "$((NREQ / 10)) $((NREQ / 20))" \
	"$(grep -c '^500$' <<<"$codes") $(grep -c '^404$' <<<"$codes")"
wait_until 20 spans_at_least $((3 * NREQ)) "$O1" ||
	fail "ratio: $(spans_count "$O1") console spans of $((3 * NREQ)) after 20 s"
wait_until 20 settled "$R1" "$O1" || fail "ratio: obsprobe still holds spans, its counters miss some, or the receiver lacks some, after 20 s"
sleep 1.5 # a batch more: a duplicate or a span sent late would arrive now
otlp_spans "$R1" "$TMP/otlp1.json"
M1=$TMP/metrics1.txt
scrape >"$M1"
A=$(analyze "$O1" "$TMP/otlp1.json" ratio 0.1)
log "$(tr '\n' ' ' <<<"$A")"
assert_eq "ratio: the console shows every span" $((3 * NREQ)) "$(val spans)"
assert_eq "ratio: one trace per request" "$NREQ" "$(val traces)"
assert_eq "ratio: each trace is nginx SERVER > nginx CLIENT > goserver SERVER" "$NREQ" "$(val shape_ok)"
assert_eq "ratio: traces with an ERROR (the 500s, the 404s' CLIENT span)" "$NERR" "$(val error_traces)"
assert_eq "ratio: the 404s' only ERROR span is nginx's CLIENT" "$((NREQ / 20)) 0" \
	"$(spans_count "$O1" kind=CLIENT status=ERROR attr:http.response.status_code==404) $(spans_count "$O1" kind=SERVER status=ERROR attr:http.response.status_code==404)"
assert_eq "ratio: every trace with an ERROR exported whole" "$NERR" "$(val error_traces_whole)"
assert_eq "ratio: every other trace exported exactly when the ratio keeps its trace id" 0 "$(val misjudged)"
assert_eq "ratio: every exported trace whole" 0 "$(val partial)"
assert_eq "ratio: no span exported twice" 0 "$(val duplicates)"
assert_eq "ratio: no exported span the console did not show" 0 "$(val strays)"
# binomial(255, 0.1): mean 25.5, sd 4.8; 6 sd either way (the low side floored at 1: 0 has a
# probability of 2e-12)
kept=$(val kept_without_error)
log "ratio 0.1: $kept of $((NREQ - NERR)) traces without an error kept"
assert_true "ratio: about 10% of the traces without an error kept (1..54, got $kept)" \
	test "$kept" -ge 1 -a "$kept" -le 54
assert_eq "ratio: obsprobe_spans_sampled_out_total{reason=ratio} == spans not exported" \
	"$(($(val spans) - $(val exported_spans)))" \
	"$(counter_sum obsprobe_spans_sampled_out_total 'reason="ratio"' "$M1")"
assert_eq "ratio: nothing sampled out for a full buffer or a caller's flag" 0 \
	"$(counter_sum obsprobe_spans_sampled_out_total '!reason="ratio"' "$M1")"
assert_eq "ratio: obsprobe_spans_kept_total{reason=error} == spans of the ERROR traces the ratio drops" \
	"$((3 * $(val error_rescued)))" "$(counter_sum obsprobe_spans_kept_total 'reason="error"' "$M1")"
assert_eq "ratio: obsprobe_spans_kept_total{reason=ratio} == spans of the traces the ratio keeps" \
	"$((3 * $(val ratio_keeps)))" "$(counter_sum obsprobe_spans_kept_total 'reason="ratio"' "$M1")"
assert_eq "ratio: obsprobe_spans_kept_total == spans exported" "$(val exported_spans)" \
	"$(counter_sum obsprobe_spans_kept_total "" "$M1")"
assert_eq "ratio: nothing dropped by the exporter" 0 \
	"$(counter_sum obsprobe_export_dropped_total 'signal="traces"' "$M1")"
stop_obsprobe

# --- 2. ratio 0, --keep-slower-than 30ms
NSLOW=60
RP2=$(free_port) || { fail "no free port"; finish; }
start_receiver recv2 "$RP2" || finish
R2=$RECV_DIR
OTEL_TRACES_SAMPLER=traceidratio OTEL_TRACES_SAMPLER_ARG=0 start_obsprobe --pid "$NGINX_PID" \
	--pid "$GO_PID" --console json --otlp-endpoint "http://127.0.0.1:$RP2" \
	--keep-slower-than 30ms || finish
O2=$OBS_OUT
paths=()
for ((i = 1; i <= NSLOW; i++)); do
	if ((i % 3 == 0)); then paths+=(/slow); else paths+=("/users/$i"); fi
done
codes=$(curl_paths "${paths[@]}")
assert_eq "slow: $NSLOW answers, all 200" "$NSLOW" "$(grep -c '^200$' <<<"$codes")"
wait_until 20 spans_at_least $((3 * NSLOW)) "$O2" ||
	fail "slow: $(spans_count "$O2") console spans of $((3 * NSLOW)) after 20 s"
wait_until 20 settled "$R2" "$O2" || fail "slow: obsprobe still holds spans, its counters miss some, or the receiver lacks some, after 20 s"
sleep 1.5
otlp_spans "$R2" "$TMP/otlp2.json"
M2=$TMP/metrics2.txt
scrape >"$M2"
A=$(analyze "$O2" "$TMP/otlp2.json" slow 30)
log "$(tr '\n' ' ' <<<"$A")"
assert_eq "slow: one trace of 3 spans per request" "$NSLOW $NSLOW" "$(val traces) $(val shape_ok)"
assert_eq "slow: every /slow trace (50 ms) exported" "$((NSLOW / 3)) $((NSLOW / 3))" \
	"$(val slow_by_path) $(val slow_by_path_exported)"
assert_eq "slow: exactly the traces longer than 30 ms exported" 0 "$(val misjudged)"
# a fast request may take ~30 ms on a busy machine: such traces are not judged, and few
assert_le "slow: traces within 2 ms of 30 ms, not judged" "$(val borderline)" 3
assert_eq "slow: every exported trace whole" 0 "$(val partial)"
assert_eq "slow: no span exported twice" 0 "$(val duplicates)"
assert_eq "slow: obsprobe_spans_kept_total{reason=slow} == spans exported" "$(val exported_spans)" \
	"$(counter_sum obsprobe_spans_kept_total 'reason="slow"' "$M2")"
assert_eq "slow: obsprobe_spans_sampled_out_total{reason=ratio} == spans not exported" \
	"$(($(val spans) - $(val exported_spans)))" \
	"$(counter_sum obsprobe_spans_sampled_out_total 'reason="ratio"' "$M2")"
stop_obsprobe

# --- 3. parentbased_traceidratio 0: the caller decides (nginx forwards traceparent upstream)
RP3=$(free_port) || { fail "no free port"; finish; }
start_receiver recv3 "$RP3" || finish
R3=$RECV_DIR
OTEL_TRACES_SAMPLER=parentbased_traceidratio OTEL_TRACES_SAMPLER_ARG=0 start_obsprobe \
	--pid "$NGINX_PID" --pid "$GO_PID" --console json --otlp-endpoint "http://127.0.0.1:$RP3" || finish
O3=$OBS_OUT
tp() { printf '00-%032x-00f067aa0ba902b7-%s' "$1" "$2"; }
for i in 1 2 3 4 5; do
	curl -s -o /dev/null -H "traceparent: $(tp $((0x100 + i)) 01)" "$BASE/users/$i"
	curl -s -o /dev/null -H "traceparent: $(tp $((0x200 + i)) 00)" "$BASE/users/$i"
	curl -s -o /dev/null "$BASE/users/$i"
done
for i in 1 2; do
	curl -s -o /dev/null -H "traceparent: $(tp $((0x300 + i)) 00)" "$BASE/status/503"
done
wait_until 20 spans_at_least 51 "$O3" || fail "parentbased: $(spans_count "$O3") console spans of 51 after 20 s"
wait_until 20 settled "$R3" "$O3" || fail "parentbased: obsprobe still holds spans, its counters miss some, or the receiver lacks some, after 20 s"
sleep 1.5
S3=$TMP/otlp3.json
otlp_spans "$R3" "$S3"
M3=$TMP/metrics3.txt
scrape >"$M3"
assert_eq "parentbased: a sampled caller's 5 traces exported, 3 spans each" 15 \
	"$(spans_count "$S3" 'trace_id~^0{29}10[1-5]$')"
assert_eq "parentbased: ... the same spans as on the console" \
	"$(spans_field "$O3" span_id 'trace_id~^0{29}10[1-5]$' | sort | paste -sd' ')" \
	"$(spans_field "$S3" span_id 'trace_id~^0{29}10[1-5]$' | sort | paste -sd' ')"
assert_eq "parentbased: a not-sampled caller's traces not exported" 0 \
	"$(spans_count "$S3" 'trace_id~^0{29}20[1-5]$')"
assert_eq "parentbased: ... unless they failed (503s, 3 spans each)" 6 \
	"$(spans_count "$S3" 'trace_id~^0{29}30[12]$')"
assert_eq "parentbased: our own roots are the ratio's (0): none exported" 21 "$(spans_count "$S3")"
assert_eq "parentbased: obsprobe_spans_sampled_out_total{reason=parent_not_sampled}" 15 \
	"$(counter_sum obsprobe_spans_sampled_out_total 'reason="parent_not_sampled"' "$M3")"
assert_eq "parentbased: obsprobe_spans_sampled_out_total{reason=ratio}" 15 \
	"$(counter_sum obsprobe_spans_sampled_out_total 'reason="ratio"' "$M3")"
assert_eq "parentbased: obsprobe_spans_kept_total{reason=parent_sampled}, {reason=error}" "15 6" \
	"$(counter_sum obsprobe_spans_kept_total 'reason="parent_sampled"' "$M3") $(counter_sum obsprobe_spans_kept_total 'reason="error"' "$M3")"
stop_obsprobe
finish
