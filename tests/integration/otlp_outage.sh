#!/usr/bin/env bash
# SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
#
# The collector (tests/otlp/receiver.py) down for 30 s in the middle of a run under continuous
# load (wrk on the Go server): obsprobe keeps reading events, its memory stays flat (the export
# queue is bounded), what it cannot send is counted in obsprobe_export_dropped_total and logged
# (not once per span), and once the collector is back, export resumes by itself: every span is
# either delivered or counted as dropped.
# shellcheck source=tests/lib.sh
. "$(dirname "$0")/../lib.sh"

WARM=5    # seconds of load before the outage
OUTAGE=30 # seconds the collector is down
AFTER=12  # seconds of load after it is back: the retry backoff (up to 5 s) and the backlog (2048 queued spans) come first
RSS_MAX_GROWTH_KIB=$((32 * 1024))
H=http_server_request_duration_seconds

require_root || finish
otlp_setup || finish
if ! PORT=$(free_port) || ! RPORT=$(free_port); then
	fail "no free port"
	finish
fi
start_goserver go "$PORT" || finish
start_receiver recv "$RPORT" || finish
R=$RECV_DIR
start_obsprobe --pid "$GO_PID" --console off --otlp-endpoint "http://127.0.0.1:$RPORT" || finish

dropped() { counter_sum obsprobe_export_dropped_total 'signal="traces"'; }

# the load: one wrk per phase (each bounded by its own duration)
wrk -t1 -c2 -d"${WARM}s" "http://127.0.0.1:$PORT/users/1" >"$TMP/wrk1.out" 2>&1
rss0=$(vm_rss_kib "$OBS_PID")
made0=$(metric_sum "$H")
log "before the outage: $made0 spans made, $(otlp_request_count "$R" /v1/traces) trace requests, VmRSS $rss0 KiB"
assert_ge "spans made before the outage" "${made0:-0}" 100
assert_ge "trace requests before the outage" "$(otlp_request_count "$R" /v1/traces 200)" 1

# down: the receiver is killed (its port refuses connections) while wrk runs OUTAGE seconds
start_bg wrk2 wrk -t1 -c2 -d"${OUTAGE}s" "http://127.0.0.1:$PORT/users/2"
WRK=$BG_PID
stop_pid "$RECV_PID" KILL 2>/dev/null # (no "Killed" job notice)
rss_max=$rss0
for ((i = 0; i < OUTAGE + 10; i++)); do
	sleep 1
	r=$(vm_rss_kib "$OBS_PID")
	[[ -n "$r" ]] || break
	((r > rss_max)) && rss_max=$r
	alive "$WRK" || break
done
wait_exit "$WRK" 10 || fail "wrk of the outage did not end"
assert_true "obsprobe runs through the outage" alive "$OBS_PID"
made1=$(metric_sum "$H")
dropped1=$(dropped)
log "during the outage: $((made1 - made0)) spans made, $dropped1 dropped, VmRSS max $rss_max KiB"
assert_ge "obsprobe kept reading events during the outage (spans made)" "$((made1 - made0))" 1000
assert_le "VmRSS growth during the outage (KiB; bound $RSS_MAX_GROWTH_KIB)" "$((rss_max - rss0))" "$RSS_MAX_GROWTH_KIB"
assert_ge "drops counted during the outage" "$dropped1" 1
ndrop_lines=$(grep -ci 'drop' "$OBS_ERR")
log "stderr lines about drops: $ndrop_lines; first: $(grep -i -m1 'drop' "$OBS_ERR")"
assert_ge "drops are logged" "$ndrop_lines" 1
assert_le "drops are logged at most about once a second, not per span" "$ndrop_lines" "$((OUTAGE + 10))"

# back, on the same port and folder, without touching obsprobe; load again
start_receiver recv "$RPORT" || finish
R=$RECV_DIR
t_up=$(date +%s.%N)
wrk -t1 -c2 -d"${AFTER}s" "http://127.0.0.1:$PORT/users/3" >"$TMP/wrk3.out" 2>&1
stable() { local a; a=$(metric_sum "$H"); sleep 0.3; [[ "$a" == "$(metric_sum "$H")" ]]; }
wait_until 10 stable || true
made=$(metric_sum "$H")
resumed() { (($(otlp_requests "$R" /v1/traces | awk -v t="$t_up" '$2 == 200 && $4 > t' | wc -l) >= 1)); }
wait_until 30 resumed || fail "no trace request answered 200 in the 30 s after the collector came back"
# settled: no new trace request for 2 s
quiet() {
	local a
	a=$(otlp_request_count "$R" /v1/traces)
	sleep 2
	[[ "$a" == "$(otlp_request_count "$R" /v1/traces)" ]]
}
wait_until 40 quiet || fail "trace requests still coming 40 s after the load"
otlp_decode "$R" traces --status 200 >"$TMP/delivered.jsonl"
read -r d after_up < <("$PY" -c '
import json, sys
t = float(sys.argv[2]) * 1e9
ids, after = set(), set()
for l in open(sys.argv[1]):
    o = json.loads(l)
    if o["type"] == "span":
        ids.add(o["span_id"])
        if int(o["start_time_unix_nano"]) > t:
            after.add(o["span_id"])
print(len(ids), len(after))' "$TMP/delivered.jsonl" "$t_up")
dr=$(dropped)
log "after: $made spans made, $d delivered ($after_up made after the collector came back), $dr dropped, VmRSS $(vm_rss_kib "$OBS_PID") KiB"
assert_eq "delivered ($d) + dropped ($dr) == spans made ($made)" "$made" "$((d + dr))"
assert_ge "spans made after the collector came back are delivered" "$after_up" 100
assert_le "VmRSS growth over the whole run (KiB)" "$(($(vm_rss_kib "$OBS_PID") - rss0))" "$RSS_MAX_GROWTH_KIB"
stop_obsprobe
finish
