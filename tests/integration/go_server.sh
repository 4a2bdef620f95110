#!/usr/bin/env bash
# SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
#
# A Go net/http server (tests/fixtures/goserver) under obsprobe --console json: one SERVER
# span per request, with the route template, the literal path, chunked responses, 500s as
# errors, and the addresses of both ends.
# shellcheck source=tests/lib.sh
. "$(dirname "$0")/../lib.sh"

require_root || finish
PORT=$(free_port) || { fail "no free port"; finish; }
start_goserver go "$PORT" || finish
GOPID=$GO_PID
start_obsprobe --pid "$GOPID" --console json --service-name gotest || finish
assert_contains "stderr names the Go server" "$OBS_ERR" "obsprobe: watching pid $GOPID ("

URL=http://127.0.0.1:$PORT
for i in $(seq 1 10); do
	curl -s -o /dev/null "$URL/users/$i"
done
for i in 1 2 3; do
	body=$(curl -s --raw -D "$TMP/chunked.h" "$URL/chunked")
	assert_true "/chunked #$i was chunked" grep -qi '^transfer-encoding: chunked' "$TMP/chunked.h"
	[[ "$body" == *"chunk 3 of 3"* ]] || fail "/chunked #$i body: $body"
done
for i in 1 2; do
	curl -s -o /dev/null "$URL/fail"
done
curl -s -o /dev/null "$URL/slow"
NREQ=16

if ! wait_until 10 spans_at_least "$NREQ" "$OBS_OUT" kind=SERVER; then
	fail "only $(spans_count "$OBS_OUT" kind=SERVER) SERVER spans of $NREQ after 10 s"
fi
sleep 0.3 # a few more ticks: a duplicate span would show up now
O=$OBS_OUT
assert_eq "stdout lines are all JSON" 0 "$(spans_invalid "$O")"
assert_eq "SERVER spans, one per request" "$NREQ" "$(spans_count "$O" kind=SERVER)"
assert_eq "no CLIENT spans (the server makes no requests)" 0 "$(spans_count "$O" kind=CLIENT)"

assert_eq "'GET /users/{id}' spans with status 200" 10 \
	"$(spans_count "$O" kind=SERVER 'name=GET /users/{id}' attr:http.response.status_code==200)"
assert_eq "users spans' http.route" 10 "$(spans_count "$O" 'name=GET /users/{id}' 'attr:http.route=/users/{id}')"
assert_eq "users spans' url.path are the literal paths, in order" \
	"$(seq -f '/users/%g' 1 10 | paste -sd' ')" \
	"$(spans_field "$O" attr:url.path 'name=GET /users/{id}' | paste -sd' ')"
assert_eq "users spans are not errors" 10 "$(spans_count "$O" 'name=GET /users/{id}' status=UNSET)"

assert_eq "/chunked spans with status 200" 3 \
	"$(spans_count "$O" kind=SERVER attr:url.path=/chunked attr:http.response.status_code==200 status=UNSET)"
assert_eq "/chunked spans named 'GET /chunked'" 3 "$(spans_count "$O" 'name=GET /chunked')"

assert_eq "/fail spans: status ERROR, code 500" 2 \
	"$(spans_count "$O" kind=SERVER attr:url.path=/fail status=ERROR attr:http.response.status_code==500)"
assert_eq "/fail spans: error.type 500" 2 "$(spans_count "$O" attr:url.path=/fail attr:error.type=500)"
assert_eq "only the /fail spans are errors" 2 "$(spans_count "$O" status=ERROR)"

slow_ms=$(spans_field "$O" duration_ms attr:url.path=/slow)
assert_true "/slow span lasts >= 50 ms (got $slow_ms)" \
	awk -v d="$slow_ms" 'BEGIN { exit !(d + 0 >= 50 && d + 0 < 5000) }'

# attributes every server span has
assert_eq "server.port == $PORT" "$NREQ" "$(spans_count "$O" "attr:server.port==$PORT")"
assert_eq "client.address == 127.0.0.1" "$NREQ" "$(spans_count "$O" attr:client.address=127.0.0.1)"
assert_eq "client.port is an ephemeral port" "$NREQ" \
	"$(spans_count "$O" 'attr:client.port~^[1-9][0-9]{3,4}$' "attr:client.port!=$PORT")"
assert_eq "http.request.method GET" "$NREQ" "$(spans_count "$O" attr:http.request.method=GET)"
assert_eq "network.protocol.version 1.1" "$NREQ" "$(spans_count "$O" attr:network.protocol.version=1.1)"
assert_eq "url.scheme http" "$NREQ" "$(spans_count "$O" attr:url.scheme=http)"
assert_eq "user_agent.original is curl's" "$NREQ" "$(spans_count "$O" 'attr:user_agent.original~^curl/')"
assert_eq "no url.query without a query" 0 "$(spans_count "$O" attr:url.query?)"
assert_eq "trace_id: 32 hex digits, not all zero" "$NREQ" \
	"$(spans_count "$O" 'trace_id~^[0-9a-f]{32}$' 'trace_id!=00000000000000000000000000000000')"
assert_eq "span_id: 16 hex digits" "$NREQ" "$(spans_count "$O" 'span_id~^[0-9a-f]{16}$')"
assert_eq "distinct trace ids (no traceparent sent)" "$NREQ" "$(spans_field "$O" trace_id | sort -u | wc -l)"
assert_eq "no parent_span_id without traceparent" 0 "$(spans_count "$O" parent_span_id?)"
assert_eq "resource process.pid is the server's" "$NREQ" "$(spans_count "$O" "res:process.pid==$GOPID")"
assert_eq "resource service.name from --service-name" "$NREQ" "$(spans_count "$O" res:service.name=gotest)"
assert_eq "resource process.executable.name" "$NREQ" "$(spans_count "$O" res:process.executable.name=goserver)"
assert_eq "resource host.name" "$NREQ" "$(spans_count "$O" "res:host.name=$(uname -n)")"
assert_eq "thread_id set" "$NREQ" "$(spans_count "$O" 'thread_id~^[1-9][0-9]*$')"
bad_times=$("$PY" -c '
import json, sys, time
now, bad = time.time_ns(), 0
for line in open(sys.argv[1]):
    s = json.loads(line)
    st, en, d = s["start_time_unix_nano"], s["end_time_unix_nano"], s["duration_ms"]
    if not (now - 600e9 < st <= en <= now + 1e9) or abs((en - st) / 1e6 - d) > 0.01:
        bad += 1
print(bad)' "$O" 2>&1)
assert_eq "spans with bad start/end/duration" 0 "$bad_times"

# the metrics of the same requests
M=$TMP/metrics.txt
scrape >"$M"
H=http_server_request_duration_seconds
assert_eq "histogram: route /users/{id} 200" 10 \
	"$(metric_sum $H 'http_route="/users/[{]id[}]"&&http_response_status_code="200"' "$M")"
assert_eq "histogram: /fail 500" 2 "$(metric_sum $H 'http_route="/fail"&&http_response_status_code="500"' "$M")"
assert_eq "histogram: service_name label" "$NREQ" "$(metric_sum $H 'service_name="gotest"' "$M")"
assert_eq "histogram: total" "$NREQ" "$(metric_sum $H "" "$M")"

stop_obsprobe
finish
