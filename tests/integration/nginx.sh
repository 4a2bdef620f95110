#!/usr/bin/env bash
# SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
#
# nginx (master + 2 pre-existing workers) under obsprobe, checked against nginx's own access
# log: per status code, the server histogram counts exactly the requests nginx logged. Also a
# proxied 5xx (one CLIENT span per proxied request), 2 MiB responses and one cut off mid-body,
# promtool, lost events, and a clean detach that leaves no BPF program behind.
#
# SCHEME=https (tests/integration/https_nginx.sh) runs the same checks over TLS: nginx with a
# self-signed certificate, proxying to an https upstream; then the spans come from the OpenSSL
# uprobes and the checks add url.scheme, the url_scheme label and one probe per library file.
# shellcheck source=tests/lib.sh
. "$(dirname "$0")/../lib.sh"

SCHEME=${SCHEME:-http}
NBIG=3
N404=17
NPROXY=5
HIST=http_server_request_duration_seconds
CHIST=http_client_request_duration_seconds

require_root || finish
# SKIP: the readiness probes of start_nginx are in the log already: count only what follows
nginx_up "$SCHEME" || finish

# obsprobe after nginx: the workers are descendants that exist before the attach
start_obsprobe --pid "$NGINX_PID" --console json -v || finish
assert_contains "stderr names the master and its 2 workers" "$OBS_ERR" \
	"obsprobe: watching pid $NGINX_PID (nginx) and 2 descendants"
PROG_IDS=$(obsprobe_prog_ids "$OBS_PID")
assert_ge "BPF programs held by obsprobe" "$(echo "$PROG_IDS" | grep -c .)" 1

# 200s, on keep-alive connections
wrk -t2 -c8 -d3s "$URL/index.html" >"$TMP/wrk.out" 2>&1
WRK_REQS=$(wrk_requests "$TMP/wrk.out")
[[ -n "$WRK_REQS" ]] || { fail "wrk printed no request count"; sed 's/^/    | /' "$TMP/wrk.out"; }
log "wrk: ${WRK_REQS:-?} requests"

# 404s, all on one keep-alive connection
args=()
for ((i = 1; i <= N404; i++)); do
	args+=(-o /dev/null "$URL/missing/$i.html")
done
got=$(curl -sk -w '%{http_code}\n' "${args[@]}" | grep -c '^404$')
assert_eq "curl got $N404 404s" "$N404" "$got"

# proxied 503s: outer server span 503, CLIENT span to P2, inner server span 503
got=0
for ((i = 1; i <= NPROXY; i++)); do
	code=$(curl -sk -o /dev/null -w '%{http_code}' "$URL/proxy/x")
	[[ "$code" == 503 ]] && got=$((got + 1))
done
assert_eq "curl got $NPROXY proxied 503s" "$NPROXY" "$got"

# large responses on one connection (over TLS: many SSL_write and SSL_read calls of 16 KiB
# records each), then one of 32 MiB cut off mid-body: the client gives up after 1 s at 256 KiB/s
args=()
for ((i = 1; i <= NBIG; i++)); do
	args+=(-o /dev/null "$URL/big.bin")
done
assert_eq "curl got $NBIG bodies of 2 MiB" "$(printf '%d\n' $((NBIG * (2 << 20))))" \
	"$(curl -sk -w '%{size_download}\n' "${args[@]}" | awk '{ s += $1 } END { print s }')"
curl -sk --limit-rate 256k --max-time 1 -o /dev/null "$URL/huge.bin"
assert_eq "curl cut off mid-response (exit 28, time-out)" 28 "$?"

logged() { tail -n +"$((SKIP + 1))" "$ACCESS"; }
hist_matches_log() { [[ "$(metric_sum "$HIST")" == "$(logged | wc -l)" ]]; }
if ! wait_until 20 hist_matches_log; then
	fail "server histogram count $(metric_sum "$HIST") never reached the $(logged | wc -l) access-log lines"
fi
scrape >"$TMP/metrics.txt" || fail "scrape of $OBS_METRICS failed"
logged >"$TMP/access.new"

# every status either side has, exactly
statuses=$({
	awk '{ print $3 }' "$TMP/access.new"
	grep -o "^${HIST}_count{[^}]*}" "$TMP/metrics.txt" |
		grep -o 'http_response_status_code="[^"]*"' | cut -d'"' -f2
} | sort -u)
for s in $statuses; do
	assert_eq "requests with status $s: histogram == access log" \
		"$(awk -v s="$s" '$3 == s' "$TMP/access.new" | wc -l)" \
		"$(metric_sum "$HIST" "http_response_status_code=\"$s\"" "$TMP/metrics.txt")"
done
LOG200=$(awk '$3 == 200' "$TMP/access.new" | wc -l)
H200=$(metric_sum "$HIST" 'http_response_status_code="200"' "$TMP/metrics.txt")
assert_eq "access log has $N404 404s" "$N404" "$(awk '$3 == 404' "$TMP/access.new" | wc -l)"
assert_eq "access log has $((2 * NPROXY)) 503s (outer + inner)" "$((2 * NPROXY))" \
	"$(awk '$3 == 503' "$TMP/access.new" | wc -l)"
assert_le "wrk's request count <= 200s counted" "${WRK_REQS:-x}" "$H200"
assert_eq "200s counted == access log 200s" "$LOG200" "$H200"
assert_eq "GET 404s with route label" "$N404" \
	"$(metric_sum "$HIST" 'http_request_method="GET"&&http_response_status_code="404"' "$TMP/metrics.txt")"
assert_eq "client histogram: 503s from 127.0.0.1:$P2" "$NPROXY" \
	"$(metric_sum "$CHIST" "server_port=\"$P2\"&&http_response_status_code=\"503\"" "$TMP/metrics.txt")"
assert_eq "client histogram: no other client requests" "$NPROXY" "$(metric_sum "$CHIST" "" "$TMP/metrics.txt")"
assert_eq "access log: $NBIG requests of big.bin, 1 of huge.bin" "$NBIG 1" \
	"$(grep -c '"/big.bin"' "$TMP/access.new") $(grep -c '"/huge.bin"' "$TMP/access.new")"
assert_eq "server histogram: $NBIG requests of big.bin, and the cut one of huge.bin" "$NBIG 1" \
	"$(metric_sum "$HIST" 'http_route="/big.bin"' "$TMP/metrics.txt") $(metric_sum "$HIST" 'http_route="/huge.bin"' "$TMP/metrics.txt")"
assert_eq "server histogram: every request has url_scheme=\"$SCHEME\"" "$(logged | wc -l)" \
	"$(metric_sum "$HIST" "url_scheme=\"$SCHEME\"" "$TMP/metrics.txt")"

# the console saw the same requests as the histogram
TOTAL=$(wc -l <"$TMP/access.new")
# one pass over the (large) span file for all the counts below
mapfile -t C < <(spans_counts "$OBS_OUT" \
	-- kind=SERVER \
	-- kind=CLIENT "attr:server.port==$P2" "attr:http.response.status_code==503" \
	-- attr:http.response.status_code==503 status=ERROR attr:error.type=503 \
	-- kind=SERVER attr:http.response.status_code==404 status=UNSET '!attr:error.type' \
	-- attr:http.response.status_code==200 status=UNSET '!attr:error.type' \
	-- "attr:url.scheme=$SCHEME" \
	-- kind=CLIENT "attr:url.full=$SCHEME://127.0.0.1:$P2/x")
assert_eq "SERVER spans on stdout == access log lines" "$TOTAL" "${C[0]:-}"
assert_eq "CLIENT spans to port $P2 with status 503" "$NPROXY" "${C[1]:-}"
assert_eq "stdout lines are all JSON" 0 "$(spans_invalid "$OBS_OUT")"
# OpenTelemetry HTTP conventions: 5xx are errors on both sides, 4xx only on the client side
assert_eq "503 spans (server and client) are errors with error.type 503" "$((3 * NPROXY))" "${C[2]:-}"
assert_eq "404 SERVER spans are not errors" "$N404" "${C[3]:-}"
assert_eq "200 spans are not errors" "$LOG200" "${C[4]:-}"
assert_eq "every span has url.scheme $SCHEME" "$((TOTAL + NPROXY))" "${C[5]:-}"
assert_eq "CLIENT spans have url.full $SCHEME://127.0.0.1:$P2/x" "$NPROXY" "${C[6]:-}"
# master and workers map the same libssl (nginx links it, https or not): one file, probed once
assert_eq "one 'TLS: probing OpenSSL' line (3 processes share libssl)" 1 \
	"$(grep -c '^obsprobe: TLS: probing OpenSSL in .*/libssl\.so' "$OBS_ERR")"
# each proxied request's CLIENT span is a child of the SERVER span of /proxy/x it serves
linked=$(grep -v '"http.response.status_code":200}' "$OBS_OUT" | "$PY" -c '
import json, sys
spans = [json.loads(l) for l in sys.stdin if l.strip()]
outer = {(s["trace_id"], s["span_id"]): s for s in spans
         if s["kind"] == "SERVER" and s["attributes"].get("url.path") == "/proxy/x"}
ok = 0
for c in spans:
    p = outer.get((c["trace_id"], c.get("parent_span_id")))
    if c["kind"] == "CLIENT" and p and p["thread_id"] == c["thread_id"] \
            and p["start_time_unix_nano"] <= c["start_time_unix_nano"] \
            and c["end_time_unix_nano"] <= p["end_time_unix_nano"]:
        ok += 1
print(ok)')
assert_eq "CLIENT spans nested in their /proxy/x SERVER span (trace, parent, thread, times)" \
	"$NPROXY" "$linked"
# both ends of each upstream connection are nginx's: the upstream SERVER span is the CLIENT
# span's child, so outer server -> client -> inner server is one trace
stitched=$(grep -v '"http.response.status_code":200}' "$OBS_OUT" | "$PY" -c '
import json, sys
port = int(sys.argv[1])
spans = [json.loads(l) for l in sys.stdin if l.strip()]
clients = {(s["trace_id"], s["span_id"]) for s in spans if s["kind"] == "CLIENT"}
print(sum(1 for s in spans if s["kind"] == "SERVER"
          and s["attributes"].get("server.port") == port
          and (s["trace_id"], s.get("parent_span_id")) in clients))' "$P2")
assert_eq "upstream SERVER spans children of nginx's CLIENT spans (one trace per request)" \
	"$NPROXY" "$stitched"

check_promtool_metrics "$TMP/metrics.txt"

# health counters refresh every second: read them once a tick has passed since the traffic
sleep 1.2
scrape >"$TMP/metrics2.txt"
assert_true "obsprobe_events_lost_total is exported" grep -q '^obsprobe_events_lost_total' "$TMP/metrics2.txt"
assert_no_loss "events lost" "$TMP/metrics2.txt"
assert_eq "HTTP parse errors" 0 "$(counter_sum obsprobe_parse_errors_total 'protocol="http"' "$TMP/metrics2.txt")"
assert_ge "obsprobe_events_total counts events" "$(counter_sum obsprobe_events_total "" "$TMP/metrics2.txt")" "$TOTAL"

stop_obsprobe
assert_true "nginx still serves after obsprobe detached" \
	curl -sfk -o /dev/null "$URL/index.html"
# shellcheck disable=SC2086 # word splitting of the ID list is wanted
left=$(leftover_progs $PROG_IDS)
assert_eq "BPF programs left after detach" "" "$left"
finish
