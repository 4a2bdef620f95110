#!/usr/bin/env bash
# SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
#
# OTLP export when the collector misbehaves (tests/otlp/receiver.py in its fault modes), one
# fresh obsprobe per case, the Go server as the workload: the collector down at start, 503 with
# Retry-After, 429/502/504, 400, hanging past OTEL_EXPORTER_OTLP_TIMEOUT, resetting and closing
# connections, SIGTERM with spans pending (collector up, hanging, down), bad configuration
# values, and no export without an endpoint. Each span the workload made is either delivered or counted in
# obsprobe_export_dropped_total; obsprobe never crashes and never stops reading events.
# (The collector down for 30 s under load is tests/integration/otlp_outage.sh.)
# shellcheck source=tests/lib.sh
. "$(dirname "$0")/../lib.sh"

require_root || finish
otlp_setup || finish
PORT=$(free_port) || { fail "no free port"; finish; }
start_goserver go "$PORT" || finish
GOPID=$GO_PID
URL=http://127.0.0.1:$PORT
NEXT=1 # the next /users/N: every request of the test has its own path

# drive K: K requests to /users/NEXT.. in one curl (keep-alive); DRIVEN is how many got a 200
# (not run in $(...): NEXT must move on)
drive() {
	local k=$1 i args=()
	for ((i = 0; i < k; i++)); do
		args+=(-o /dev/null "$URL/users/$((NEXT + i))")
	done
	NEXT=$((NEXT + k))
	DRIVEN=$(curl -s -w '%{http_code}\n' "${args[@]}" | grep -c '^200$')
}

# delivered DIR: distinct span ids in the trace requests DIR's receiver answered 200
delivered() {
	otlp_spans "$1" "$TMP/d.json" --status 200 >/dev/null 2>&1
	spans_field "$TMP/d.json" span_id | sort -u | grep -c .
}
# delivered_range DIR FROM TO: of those, the spans of /users/FROM../users/TO
delivered_range() {
	otlp_spans "$1" "$TMP/d.json" --status 200 >/dev/null 2>&1
	spans_field "$TMP/d.json" span_id attr:url.path? | paste - <(spans_field "$TMP/d.json" attr:url.path attr:url.path?) |
		awk -v a="$2" -v b="$3" '{ split($2, p, "/") } p[2] == "users" && p[3] >= a && p[3] <= b { print $1 }' |
		sort -u | grep -c .
}
# dropped: obsprobe_export_dropped_total{signal="traces"} now
dropped() { counter_sum obsprobe_export_dropped_total 'signal="traces"'; }
# accounted DIR N: delivered + dropped == N
accounted() { (($(delivered "$1") + $(dropped) == $2)); }
console_spans() { spans_count "$OBS_OUT" kind=SERVER; }

# start_case NAME MODE [NAME=VALUE...]: a receiver NAME answering as MODE and a fresh obsprobe
# (console json, the environment given) exporting to it; R is the receiver's folder, RPORT its
# port
start_case() {
	local name=$1 mode=$2 a
	shift 2
	RPORT=$(free_port) || { fail "$name: no free port"; return 1; }
	start_receiver "$name" "$RPORT" "$mode" || return 1
	R=$RECV_DIR
	for a in "$@"; do
		local -x "$a"
	done
	start_obsprobe --pid "$GOPID" --console json --otlp-endpoint "http://127.0.0.1:$RPORT"
}

# attempts DIR: one line per trace request DIR's receiver recorded, in order: "SEQ STATUS
# ARRIVAL ANSWERED CLOSED-AFTER NSPANS BATCH", BATCH naming the set of span ids it carried
# (retries of one batch carry the same set), "-" for what is unknown
attempts() {
	otlp_decode "$1" traces 2>/dev/null | "$PY" -c '
import hashlib, json, os, sys
d = sys.argv[1]
spans = {}
for l in sys.stdin:
    o = json.loads(l)
    if o["type"] == "span":
        spans.setdefault(o["seq"], []).append(o["span_id"])
for f in sorted(os.listdir(d)):
    if not (f.endswith(".json") and f[:6].isdigit()):
        continue
    try:
        m = json.load(open(os.path.join(d, f)))
    except ValueError:
        continue
    if not m["path"].endswith("/v1/traces"):
        continue
    ids = sorted(spans.get(m["seq"], []))
    print(m["seq"], m["status"], "%.3f" % m["time"],
          "%.3f" % m["time_answer"] if "time_answer" in m else "-",
          m.get("client_closed_after", "-"), len(ids),
          hashlib.sha1(" ".join(ids).encode()).hexdigest()[:12] if ids else "-")' "$1"
}
trace_requests() { otlp_request_count "$1" /v1/traces; }
at_least_requests() { (($(trace_requests "$1") >= $2)); }
console_at_least() { (($(console_spans) >= $1)); }

# --- (i) the collector is down when obsprobe starts, and comes up later
RPORT=$(free_port) || { fail "no free port"; finish; }
start_obsprobe --pid "$GOPID" --console json --otlp-endpoint "http://127.0.0.1:$RPORT" || finish
drive 20
assert_eq "(i) down at start: requests answered" 20 "$DRIVEN"
wait_until 10 console_at_least 20 || fail "(i) console spans: $(console_spans) of 20"
sleep 3 # a few failed attempts (connection refused)
assert_true "(i) obsprobe runs with the collector down" alive "$OBS_PID"
start_receiver down "$RPORT" || finish
R=$RECV_DIR
t_up=$SECONDS
first=$NEXT
drive 10
assert_eq "(i) after the collector came up: requests answered" 10 "$DRIVEN"
wait_until 10 console_at_least 30 || fail "(i) console spans: $(console_spans) of 30"
after_up() { (($(delivered_range "$R" "$first" $((first + 9))) >= 10)); }
if wait_until 30 after_up; then
	pass "(i) the 10 spans made after the collector came up were delivered ($((SECONDS - t_up)) s after it came up)"
else
	fail "(i) spans made after the collector came up: $(delivered_range "$R" "$first" $((first + 9))) of 10 delivered in 30 s"
fi
wait_until 20 accounted "$R" 30 || true
d=$(delivered "$R")
dr=$(dropped)
log "(i) delivered $d, dropped $dr, duplicates: $(($(spans_count "$TMP/d.json") - d))"
assert_eq "(i) delivered ($d) + dropped ($dr) == spans made" 30 "$((d + dr))"
stop_obsprobe

# --- (iii) 503 with Retry-After: 2
start_case r503 "503 2" || finish
drive 5
assert_eq "(iii) 503: requests answered" 5 "$DRIVEN"
wait_until 10 console_at_least 5 || fail "(iii) console spans: $(console_spans) of 5"
wait_until 15 at_least_requests "$R" 2 || fail "(iii) fewer than 2 attempts in 15 s: $(trace_requests "$R")"
receiver_mode "$R" ok
wait_until 30 accounted "$R" 5 || true
attempts "$R" >"$TMP/a503.txt"
sed 's/^/    | /' "$TMP/a503.txt"
gaps=$(awk '{ if (($7 in last) && st[$7] == "503") printf "%.3f\n", $3 - ans[$7]; last[$7] = $1; st[$7] = $2; ans[$7] = $4 }' "$TMP/a503.txt" | paste -sd' ')
assert_ne "(iii) a batch was retried after its 503" "" "$gaps"
short=$(tr ' ' '\n' <<<"$gaps" | awk '$1 < 1.9' | grep -c .)
assert_eq "(iii) retries sooner than Retry-After: 2 (gaps: $gaps)" 0 "$short"
assert_eq "(iii) all 5 spans delivered once the collector answers 200" 5 "$(delivered "$R")"
assert_eq "(iii) nothing dropped" 0 "$(dropped)"
assert_true "(iii) obsprobe still runs" alive "$OBS_PID"
stop_obsprobe

# --- (iii-b) 429, 502, 504 without Retry-After: retried, then delivered
start_case r5xx ok || finish
n=0
for code in 429 502 504; do
	receiver_mode "$R" "$code"
	before=$(trace_requests "$R")
	drive 3
	n=$((n + 3))
	wait_until 10 console_at_least "$n" || fail "(iii-b) $code: console spans: $(console_spans) of $n"
	wait_until 15 at_least_requests "$R" $((before + 2)) ||
		fail "(iii-b) $code: fewer than 2 attempts in 15 s ($(($(trace_requests "$R") - before)))"
	receiver_mode "$R" ok
	wait_until 20 accounted "$R" "$n" || true
	assert_eq "(iii-b) $code: the batch was retried, then delivered" "$n" "$(delivered "$R")"
done
attempts "$R" | sed 's/^/    | /'
assert_eq "(iii-b) nothing dropped" 0 "$(dropped)"
stop_obsprobe

# --- (iv) 400: no retry, dropped and counted
start_case r400 400 || finish
drive 5
assert_eq "(iv) 400: requests answered" 5 "$DRIVEN"
wait_until 10 console_at_least 5 || fail "(iv) console spans: $(console_spans) of 5"
wait_until 10 at_least_requests "$R" 1 || fail "(iv) no attempt in 10 s"
sleep 4 # a retry would come by now
attempts "$R" >"$TMP/a400.txt"
sed 's/^/    | /' "$TMP/a400.txt"
assert_eq "(iv) batches sent more than once" "" "$(awk '$7 != "-" { print $7 }' "$TMP/a400.txt" | sort | uniq -d)"
sent400=$(awk '$2 == 400 { n += $6 } END { print n + 0 }' "$TMP/a400.txt")
assert_eq "(iv) spans in the rejected requests" 5 "$sent400"
assert_eq "(iv) obsprobe_export_dropped_total{traces} counts them" 5 "$(dropped)"
receiver_mode "$R" ok
drive 3
assert_eq "(iv) after 400s: requests answered" 3 "$DRIVEN"
wait_until 10 accounted "$R" 8 || true
assert_eq "(iv) the next spans are delivered" 3 "$(delivered "$R")"
stop_obsprobe

# --- (v) the collector hangs past OTEL_EXPORTER_OTLP_TIMEOUT=1000
start_case rhang hang OTEL_EXPORTER_OTLP_TIMEOUT=1000 || finish
drive 5
assert_eq "(v) hang: requests answered" 5 "$DRIVEN"
wait_until 10 console_at_least 5 || fail "(v) console spans: $(console_spans) of 5"
wait_until 5 at_least_requests "$R" 1 || fail "(v) no attempt in 5 s"
late=0
for ((i = 1; i <= 8; i++)); do
	drive 1
	wait_until 1.5 console_at_least $((5 + i)) || late=$((late + 1))
	sleep 0.25
done
assert_eq "(v) spans that took over 1.5 s to reach the console while the exporter was stuck" 0 "$late"
assert_true "(v) /metrics answers while the exporter is stuck" scrape
gave_up() { (($(attempts "$R" | awk '$2 == "client_closed"' | wc -l) >= 2)); }
wait_until 5 gave_up || true
attempts "$R" >"$TMP/ahang.txt"
sed 's/^/    | /' "$TMP/ahang.txt"
closed=$(awk '$2 == "client_closed" { print $5 }' "$TMP/ahang.txt" | paste -sd' ')
assert_ne "(v) obsprobe gave up on hanging requests" "" "$closed"
assert_eq "(v) gave up after 0.7 to 2.5 s (timeout 1 s; got: $closed)" 0 \
	"$(tr ' ' '\n' <<<"$closed" | awk '$1 < 0.7 || $1 > 2.5' | grep -c .)"
assert_eq "(v) no request still hanging after 2.5 s" 0 \
	"$(awk -v now="$(date +%s.%N)" '$2 == "null" && now - $3 > 2.5' "$TMP/ahang.txt" | wc -l)"
receiver_mode "$R" ok
wait_until 30 accounted "$R" 13 || true
d=$(delivered "$R")
dr=$(dropped)
assert_eq "(v) delivered ($d) + dropped ($dr) == spans made, once the collector answers" 13 "$((d + dr))"
assert_true "(v) obsprobe still runs" alive "$OBS_PID"
stop_obsprobe

# --- (vi) the collector resets connections, then closes them without an answer
start_case rreset reset || finish
drive 5
assert_eq "(vi) reset: requests answered" 5 "$DRIVEN"
wait_until 10 console_at_least 5 || fail "(vi) console spans: $(console_spans) of 5"
wait_until 15 at_least_requests "$R" 2 || fail "(vi) fewer than 2 attempts in 15 s: $(trace_requests "$R")"
assert_true "(vi) obsprobe runs after connection resets" alive "$OBS_PID"
receiver_mode "$R" close
n=$(trace_requests "$R")
wait_until 15 at_least_requests "$R" $((n + 1)) || fail "(vi) no attempt while the collector closes connections"
assert_true "(vi) obsprobe runs after connections closed without an answer" alive "$OBS_PID"
receiver_mode "$R" ok
first=$NEXT
drive 3
assert_eq "(vi) then: requests answered" 3 "$DRIVEN"
wait_until 10 console_at_least 8 || fail "(vi) console spans: $(console_spans) of 8"
wait_until 30 accounted "$R" 8 || true
attempts "$R" | sed 's/^/    | /'
d=$(delivered "$R")
dr=$(dropped)
assert_eq "(vi) delivered ($d) + dropped ($dr) == spans made" 8 "$((d + dr))"
assert_eq "(vi) the spans made after the collector recovered are delivered" 3 \
	"$(delivered_range "$R" "$first" $((first + 2)))"
stop_obsprobe

# --- (vii) SIGTERM: pending spans are flushed; with the collector hanging, exit in time
start_case rterm ok OTEL_EXPORTER_OTLP_TIMEOUT=5000 || finish
first=$NEXT
drive 50
assert_eq "(vii) requests answered" 50 "$DRIVEN"
wait_until 10 console_at_least 50 || fail "(vii) console spans: $(console_spans) of 50"
before=$(trace_requests "$R")
t0=$(date +%s%N)
kill -TERM "$OBS_PID"
wait_exit "$OBS_PID" 15
ms=$((($(date +%s%N) - t0) / 1000000))
log "(vii) $before trace requests before SIGTERM; exit after $ms ms"
assert_eq "(vii) exit status after SIGTERM" 0 "$WAIT_RC"
assert_le "(vii) exit within the 5 s timeout (ms)" "$ms" 5000
assert_eq "(vii) all 50 spans delivered by the flush" 50 "$(delivered_range "$R" "$first" $((first + 49)))"

start_case rtermhang hang OTEL_EXPORTER_OTLP_TIMEOUT=2000 || finish
drive 5
assert_eq "(vii) hang: requests answered" 5 "$DRIVEN"
wait_until 10 console_at_least 5 || fail "(vii) hang: console spans: $(console_spans) of 5"
wait_until 5 at_least_requests "$R" 1 || fail "(vii) hang: no attempt in 5 s"
t0=$(date +%s%N)
kill -TERM "$OBS_PID"
wait_exit "$OBS_PID" 25
ms=$((($(date +%s%N) - t0) / 1000000))
assert_eq "(vii) hang: exit status after SIGTERM" 0 "$WAIT_RC"
assert_le "(vii) hang: exit within timeout 2 s + 3 s (ms)" "$ms" 5000
assert_lacks "(vii) hang: no crash report" "$OBS_ERR" "Sanitizer"

start_case rtermdown ok OTEL_EXPORTER_OTLP_TIMEOUT=2000 || finish
stop_pid "$RECV_PID" KILL 2>/dev/null # the collector goes down
drive 5
assert_eq "(vii) down: requests answered" 5 "$DRIVEN"
wait_until 10 console_at_least 5 || fail "(vii) down: console spans: $(console_spans) of 5"
sleep 1.5 # a failed attempt or two
t0=$(date +%s%N)
kill -TERM "$OBS_PID"
wait_exit "$OBS_PID" 25
ms=$((($(date +%s%N) - t0) / 1000000))
assert_eq "(vii) down: exit status after SIGTERM" 0 "$WAIT_RC"
assert_le "(vii) down: exit within timeout 2 s + 3 s (ms)" "$ms" 5000

# --- (viii) bad configuration values: one line, exit 2
# bad_config LABEL VAR TEXT NAME=VALUE...: obsprobe with that environment exits 2 with one line
# "obsprobe: ..." naming VAR, nothing on stdout
bad_config() {
	local label=$1 var=$2 a
	shift 2
	for a in "$@"; do
		local -x "$a"
	done
	run_obsprobe "$label" 20 --pid "$GOPID" --console off --prometheus off \
		--otlp-endpoint "http://127.0.0.1:$RPORT"
	assert_eq "(viii) $label: exit status" 2 "$RUN_RC"
	assert_eq "(viii) $label: one line on stderr" 1 "$(wc -l <"$RUN_ERR")"
	assert_true "(viii) $label: it starts with 'obsprobe: '" grep -q '^obsprobe: ' "$RUN_ERR"
	assert_contains "(viii) $label: it names $var" "$RUN_ERR" "$var"
	assert_eq "(viii) $label: nothing on stdout" 0 "$(wc -c <"$RUN_OUT")"
	log "(viii) $label: $(head -c 300 "$RUN_ERR")"
}
bad_config sampler-bogus OTEL_TRACES_SAMPLER OTEL_TRACES_SAMPLER=bogus
bad_config timeout-abc OTEL_EXPORTER_OTLP_TIMEOUT OTEL_EXPORTER_OTLP_TIMEOUT=abc
bad_config compression-zstd OTEL_EXPORTER_OTLP_COMPRESSION OTEL_EXPORTER_OTLP_COMPRESSION=zstd
bad_config interval-abc OTEL_METRIC_EXPORT_INTERVAL OTEL_METRIC_EXPORT_INTERVAL=abc
bad_config ratio-abc OTEL_TRACES_SAMPLER_ARG OTEL_TRACES_SAMPLER=traceidratio OTEL_TRACES_SAMPLER_ARG=abc

# --- (ix) no endpoint: no export (not even to the default localhost:4318)
if "$PY" -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 4318))' 2>/dev/null; then
	start_receiver default 4318 || finish
	R=$RECV_DIR
	OTEL_SERVICE_NAME=noexport OTEL_METRIC_EXPORT_INTERVAL=500 start_obsprobe --pid "$GOPID" --console json || finish
	drive 5
	assert_eq "(ix) no endpoint: requests answered" 5 "$DRIVEN"
	wait_until 10 console_at_least 5 || fail "(ix) console spans: $(console_spans) of 5"
	sleep 2.5
	assert_eq "(ix) no endpoint: nothing sent to 127.0.0.1:4318" 0 "$(otlp_request_count "$R")"
	stop_obsprobe
else
	log "(ix) 127.0.0.1:4318 is taken: the no-endpoint check has no receiver to watch"
fi
finish
