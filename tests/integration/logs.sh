#!/usr/bin/env bash
# SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
#
# Logs without SDKs: what watched processes write to stderr, exported as OTLP log records
# (decoded with the official protos, tests/otlp/decode.js), each line tied to the request its
# thread or goroutine served when it wrote it.
# - A Go service logging JSON with logrus (tests/fixtures/golog): per request "handling request"
#   (info, req_id, a password field) from its handler, "from a goroutine" (warning) from a
#   goroutine the handler spawns; "failing" (error) before a 500; two plain lines written in one
#   write (a flushed buffer). A Python thread-per-request server logging with the logging
#   module's default format, followed by http.server's own access line
#   (tests/fixtures/pylog.py). Requests from 4 clients at once.
#   Every record is checked request by request against the id in its own line: level, message,
#   fields (the password [REDACTED]), stream, process, time, and the trace and span ids of that
#   request's SERVER span (from the console); the two lines of one write carry none; no record
#   carries another request's ids. Exact counts; the secret shows nowhere.
# - A flood: a process writing 1 GiB of lines, 1 MiB a write: read within its byte budget,
#   the rest dropped and counted (obsprobe_log_dropped_total{reason="byte_budget"}), records
#   within the lines budget, obsprobe's memory flat, and nothing lost.
# shellcheck source=tests/lib.sh
. "$(dirname "$0")/../lib.sh"

N=24
NF=3
NM=3
require_root || finish
otlp_setup || finish
if ! GPORT=$(free_port) || ! PPORT=$(free_port) || ! RPORT=$(free_port); then
	fail "no free port"
	finish
fi
start_go_service golog "$GPORT" "the Go log service" || finish
start_bg py "$PY" "$ROOT/tests/fixtures/pylog.py" server "$PPORT" "$TMP/py.ready"
PYPID=$BG_PID
await_ready "$TMP/py.ready" "the Python log service" py || finish
start_receiver recv "$RPORT" || finish
start_obsprobe --pid "$GOPID" --pid "$PYPID" --console json \
	--otlp-endpoint "http://127.0.0.1:$RPORT" || finish
T0=$(date +%s%N)

# the requests, 4 at a time: Go /req, /fail, /multi; Python /req
{
	for ((i = 1; i <= N; i++)); do echo "http://127.0.0.1:$GPORT/req/g$i"; done
	for ((i = 1; i <= NF; i++)); do echo "http://127.0.0.1:$GPORT/fail/f$i"; done
	for ((i = 1; i <= NM; i++)); do echo "http://127.0.0.1:$GPORT/multi/m$i"; done
	for ((i = 1; i <= N; i++)); do echo "http://127.0.0.1:$PPORT/req/p$i"; done
} >"$TMP/urls"
xargs -P 4 -n 1 curl -s -o /dev/null -w '%{http_code}\n' <"$TMP/urls" >"$TMP/codes"
assert_eq "answers: 200s, 500s" "$((2 * N + NM)) $NF" \
	"$(grep -cx 200 "$TMP/codes") $(grep -cx 500 "$TMP/codes")"
T1=$(date +%s%N)

WANT=$((2 * N + NF + 2 * NM + 2 * N))
# shellcheck disable=SC2317 # called by wait_until
has_logs() { otlp_logs "$RECV_DIR" "$TMP/logs.json" && (($(wc -l <"$TMP/logs.json") >= $1)); }
wait_until 20 has_logs "$((WANT + NF))" ||
	fail "only $(wc -l <"$TMP/logs.json" 2>/dev/null || echo 0) log records of $WANT after 20 s"
wait_until 10 spans_at_least "$((2 * N + NF + NM))" "$OBS_OUT" kind=SERVER ||
	fail "only $(spans_count "$OBS_OUT" kind=SERVER) SERVER spans of $((2 * N + NF + NM))"
sleep 1.5 # a duplicate would show up now
otlp_logs "$RECV_DIR" "$TMP/logs.json"

# every record against the request named in its own line
mapfile -t C < <("$PY" - "$TMP/logs.json" "$OBS_OUT" "$GOPID" "$PYPID" "$T0" "$T1" 2>"$TMP/check.err" <<'PYEOF'
import collections, json, re, sys
logs = [json.loads(l) for l in open(sys.argv[1]) if l.strip()]
spans = [json.loads(l) for l in open(sys.argv[2]) if l.strip()]
gopid, pypid, t0, t1 = int(sys.argv[3]), int(sys.argv[4]), int(sys.argv[5]), int(sys.argv[6])
pid = lambda x: x.get("resource", {}).get("process.pid")
server = {}
for s in spans:
    if s.get("kind") == "SERVER":
        server[(pid(s), s["attributes"].get("url.path", "").rsplit("/", 1)[-1])] = s
bad = collections.Counter()
kinds = collections.Counter()
def check(what, ok, rec):
    if not ok:
        bad[what] += 1
        print("%s: %s" % (what, json.dumps(rec)), file=sys.stderr)
for r in logs:
    a, body, p = r.get("attributes", {}), r.get("body"), pid(r)
    if "exception.type" in a: # an error report (crashes.sh checks them): a /fail's 500
        kinds["error " + str(a["exception.type"])] += 1
        continue
    check("observed time within the test", t0 <= int(r.get("observed_time_unix_nano", 0)) <= t1 + 10**9, r)
    check("stream stderr", a.get("log.iostream") == "stderr", r)
    if p == gopid and body in ("handling request", "from a goroutine", "failing"):
        rid = a.get("req_id")
        want = {"handling request": (9, "info"), "from a goroutine": (13, "warning"),
                "failing": (17, "error")}[body]
        kind = "go " + body
        check(kind + ": severity", (r.get("severity_number"), r.get("severity_text")) == want, r)
        check(kind + ": the line's own time, within 2 s", abs(int(r.get("time_unix_nano", 0)) - int(r.get("observed_time_unix_nano", 0))) < 2 * 10**9, r)
        if body == "handling request":
            check(kind + ": password redacted", a.get("password") == "[REDACTED]", r)
    elif p == gopid and body and body.startswith("multi "):
        rid, kind = body.split()[-1], "go multi"
        check(kind + ": no severity", r.get("severity_number", 0) == 0, r)
        check(kind + ": no trace (two lines in one write)", not r.get("trace_id") and not r.get("span_id"), r)
        kinds[kind] += 1
        continue
    elif p == pypid and body and body.startswith("WARNING:shop:handling req_id="):
        rid, kind = body.rsplit("=", 1)[-1], "py logging"
        check(kind + ": severity", (r.get("severity_number"), r.get("severity_text")) == (13, "WARNING"), r)
    elif p == pypid and body and '"GET /req/' in body:
        rid, kind = re.search(r'"GET /req/(\S+) HTTP', body).group(1), "py access"
    else:
        check("a record of no known line", False, r)
        continue
    kinds[kind] += 1
    s = server.get((p, rid))
    if s is None:
        check(kind + ": a SERVER span for its request", False, r)
    elif r.get("trace_id") or r.get("span_id"):
        check(kind + ": WRONG trace or span (another request's)",
              (r.get("trace_id"), r.get("span_id")) == (s["trace_id"], s["span_id"]), r)
    else:
        check(kind + ": tied to its request", False, r)
print(kinds["go handling request"]); print(kinds["go from a goroutine"]); print(kinds["go failing"])
print(kinds["go multi"]); print(kinds["py logging"]); print(kinds["py access"])
print(sum(bad.values()))
print(kinds["error 500"])
for k, v in sorted(bad.items()):
    print("%s: %d" % (k, v), file=sys.stderr)
PYEOF
)
assert_eq "records: Go 'handling request', one per /req" "$N" "${C[0]:-}"
assert_eq "records: Go 'from a goroutine', one per /req" "$N" "${C[1]:-}"
assert_eq "records: Go 'failing', one per /fail" "$NF" "${C[2]:-}"
assert_eq "records: Go plain lines of one write, two per /multi" "$((2 * NM))" "${C[3]:-}"
assert_eq "records: Python logging lines, one per /req" "$N" "${C[4]:-}"
assert_eq "records: Python access lines, one per /req" "$N" "${C[5]:-}"
assert_eq "error reports: one per /fail's 500" "$NF" "${C[7]:-}"
assert_eq "records in all" "$((WANT + NF))" "$(wc -l <"$TMP/logs.json")"
assert_eq "records that fail a check (below), wrong traces included" 0 "${C[6]:-}"
[[ ${C[6]:-} == 0 ]] || sed 's/^/    | /' "$TMP/check.err" | tail -n 20
assert_lacks "the secret is in no record" "$TMP/logs.json" SECRET_MARKER
assert_lacks "the secret is not on obsprobe's stdout" "$OBS_OUT" SECRET_MARKER
sleep 1.2
M=$TMP/metrics.txt
scrape "$OBS_METRICS" >"$M" || fail "scrape of $OBS_METRICS failed"
assert_eq "obsprobe_log_records_total, linked / unlinked" "$((WANT - 2 * NM)) $((2 * NM))" \
	"$(counter_sum obsprobe_log_records_total 'outcome="linked"' "$M") $(counter_sum obsprobe_log_records_total 'outcome="unlinked"' "$M")"
assert_no_loss "events lost" "$M"
assert_eq "log lines dropped by a budget, cut" "0 0" \
	"$(counter_sum obsprobe_log_dropped_total "" "$M") $(counter_sum obsprobe_log_records_truncated_total "" "$M")"
stop_obsprobe "$OBS_PID" "$OBS_ERR"

# the flood: 1 GiB of lines, 1 MiB a write
"$PY" "$ROOT/tests/fixtures/pylog.py" flood $((1 << 30)) "$TMP/flood.go" >/dev/null 2>"$TMP/flood.err" &
FPID=$!
track_pid "$FPID"
sleep 600 &
SPID=$!
track_pid "$SPID"
start_obsprobe --pid "$FPID" --pid "$SPID" --console off --log-bytes-per-second 1M \
	--otlp-endpoint "http://127.0.0.1:$RPORT" || finish
hwm() { awk '/^VmHWM/ { print $2 }' "/proc/$OBS_PID/status"; }
H0=$(hwm)
S0=$(date +%s%N)
touch "$TMP/flood.go"
wait_exit "$FPID" 120
S1=$(date +%s%N)
assert_eq "flood: the writer's exit status" 0 "$WAIT_RC"
sleep 1.5
scrape "$OBS_METRICS" >"$M" || fail "scrape of $OBS_METRICS failed"
SECS=$(((S1 - S0) / 1000000000 + 2))
assert_ge "flood: writes over the byte budget dropped, counted" \
	"$(counter_sum obsprobe_log_dropped_total 'reason="byte_budget"' "$M")" 900
assert_le "flood: records, within 1 MiB a second ($SECS s)" \
	"$(counter_sum obsprobe_log_records_total "" "$M")" "$((SECS * 1000))"
assert_ge "flood: records made of what was read" "$(counter_sum obsprobe_log_records_total "" "$M")" 100
assert_eq "flood: nothing lost (budgets are not loss)" 0 \
	"$(counter_sum obsprobe_events_lost_total "" "$M")"
assert_le "flood: obsprobe's peak memory grew by under 16 MiB (KiB)" "$(($(hwm) - H0))" 16384
assert_true "flood: obsprobe still runs" alive "$OBS_PID"
stop_obsprobe "$OBS_PID" "$OBS_ERR"
finish
