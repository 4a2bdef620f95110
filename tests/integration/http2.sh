#!/usr/bin/env bash
# SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
#
# HTTP/2: nginx serving h2 over TLS (ALPN; its plaintext from the OpenSSL probes) and h2c with
# prior knowledge, curl its client (watched too: this shell is, and curl is its child). Each
# stream is one SERVER span of nginx and one CLIENT span of curl with network.protocol.version
# 2, its method, path, status and route, as many as nginx's access log holds: sequential
# requests on one connection, streams multiplexed at once (curl --parallel), a 404 and a 503
# (an error). No HTTP/2 direction is lost on these small answers.
# shellcheck source=tests/lib.sh
. "$(dirname "$0")/../lib.sh"

N=6
P=8
require_root || finish
if ! P1=$(free_port) || ! P2=$(free_port); then
	fail "no free port"
	finish
fi
start_nginx "$TMP/nginx" "$P1" "$P2" https nginx-h2.conf.in || finish
ACCESS=$TMP/nginx/access.log
start_obsprobe --pid "$NGINX_PID" --pid $$ --console json || finish
SKIP=$(wc -l <"$ACCESS")

urls() { # urls BASE COUNT PATH
	local i
	for ((i = 0; i < $2; i++)); do printf '%s/%s ' "$1" "$3"; done
}
# h2 over TLS: N GETs in turn on one connection, a 404, a 503
# shellcheck disable=SC2046
curl -sk --http2 -o /dev/null -o /dev/null -o /dev/null -o /dev/null -o /dev/null -o /dev/null \
	-o /dev/null -o /dev/null -w '%{http_version} %{http_code}\n' \
	$(urls "https://127.0.0.1:$P1" "$N" index.html) "https://127.0.0.1:$P1/missing" \
	"https://127.0.0.1:$P1/unavailable" >"$TMP/tls.codes"
assert_eq "curl over TLS: HTTP/2, $N 200, a 404, a 503" "$N 1 1 $((N + 2))" \
	"$(grep -c '^2 200$' "$TMP/tls.codes") $(grep -c '^2 404$' "$TMP/tls.codes") $(grep -c '^2 503$' "$TMP/tls.codes") $(grep -c '^2 ' "$TMP/tls.codes")"
# h2c: P streams at once on one connection
# shellcheck disable=SC2046
curl -s --http2-prior-knowledge --parallel --parallel-immediate --parallel-max "$P" \
	-w '%{http_version} %{http_code}\n' $(for ((i = 0; i < P; i++)); do printf -- '-o /dev/null http://127.0.0.1:%s/index.html?i=%s ' "$P2" "$i"; done) \
	>"$TMP/h2c.codes"
assert_eq "curl h2c: $P answers over HTTP/2" "$P" "$(grep -c '^2 200$' "$TMP/h2c.codes")"

TOTAL=$((N + 2 + P))
wait_until 10 eval "(( \$(tail -n +$((SKIP + 1)) \"\$ACCESS\" | wc -l) >= TOTAL ))"
assert_eq "nginx logged $TOTAL requests over HTTP/2.0" "$TOTAL" \
	"$(tail -n +"$((SKIP + 1))" "$ACCESS" | awk '$8 == "HTTP/2.0"' | wc -l)"
wait_until 10 spans_at_least "$TOTAL" "$OBS_OUT" kind=SERVER attr:network.protocol.version=2 ||
	fail "$(spans_count "$OBS_OUT" kind=SERVER attr:network.protocol.version=2) HTTP/2 SERVER spans of $TOTAL"
sleep 0.5
assert_eq "SERVER spans over TLS: $N GET /index.html 200 https" "$N" \
	"$(spans_count "$OBS_OUT" kind=SERVER attr:network.protocol.version=2 attr:url.scheme=https \
		attr:http.request.method=GET attr:url.path=/index.html attr:http.response.status_code==200 \
		"attr:server.port==$P1" "res:process.pid!=$NGINX_PID")"
assert_eq "SERVER spans over TLS: the 404 (no error), the 503 (an error)" "1 1" \
	"$(spans_count "$OBS_OUT" kind=SERVER attr:url.path=/missing attr:http.response.status_code==404 '!attr:error.type') $(spans_count "$OBS_OUT" kind=SERVER attr:url.path=/unavailable attr:http.response.status_code==503 attr:error.type=503)"
assert_eq "SERVER spans over h2c: $P GET /index.html 200 http, the query's value redacted" "$P" \
	"$(spans_count "$OBS_OUT" kind=SERVER attr:network.protocol.version=2 attr:url.scheme=http \
		attr:url.path=/index.html attr:url.query=i=REDACTED attr:http.response.status_code==200 \
		"attr:server.port==$P2")"
assert_eq "every HTTP/2 SERVER span, none more" "$TOTAL" \
	"$(spans_count "$OBS_OUT" kind=SERVER attr:network.protocol.version=2)"
assert_eq "CLIENT spans of curl over TLS: url.full, status" "$N 1 1" \
	"$(spans_count "$OBS_OUT" kind=CLIENT attr:network.protocol.version=2 "attr:url.full=https://127.0.0.1:$P1/index.html" attr:http.response.status_code==200) $(spans_count "$OBS_OUT" kind=CLIENT "attr:url.full=https://127.0.0.1:$P1/missing" attr:http.response.status_code==404 attr:error.type=404) $(spans_count "$OBS_OUT" kind=CLIENT "attr:url.full=https://127.0.0.1:$P1/unavailable" attr:error.type=503)"
assert_eq "CLIENT spans of curl over h2c" "$P" \
	"$(spans_count "$OBS_OUT" kind=CLIENT attr:network.protocol.version=2 attr:url.scheme=http "attr:server.port==$P2")"
# both ends watched: each nginx span is the child of curl's span of the same stream
STITCH=$("$PY" - "$OBS_OUT" <<'EOF'
import json, sys
spans = [json.loads(l) for l in open(sys.argv[1]) if l.strip()]
h2 = [s for s in spans if s.get("attributes", {}).get("network.protocol.version") == "2"]
clients = {s["span_id"]: s for s in h2 if s["kind"] == "CLIENT"}
servers = [s for s in h2 if s["kind"] == "SERVER"]
right = sum(1 for s in servers if s.get("parent_span_id") in clients
            and clients[s["parent_span_id"]]["trace_id"] == s["trace_id"]
            and clients[s["parent_span_id"]]["attributes"].get("url.path") == s["attributes"].get("url.path"))
parents = len({s.get("parent_span_id") for s in servers if s.get("parent_span_id")})
print(len(servers), right, parents)
EOF
)
assert_eq "every HTTP/2 SERVER span the child of curl's CLIENT span of its stream, one each" \
	"$TOTAL $TOTAL $TOTAL" "$STITCH"
assert_eq "obsprobe never watches itself, though started by a watched shell" 0 \
	"$(spans_count "$OBS_OUT" res:process.executable.name=obsprobe)"
sleep 1.2 # health counters refresh every second: a fast run gets here before the first
scrape "$OBS_METRICS" >"$TMP/metrics.txt" || fail "scrape of $OBS_METRICS failed"
assert_eq "no HTTP/2 direction lost" 0 \
	"$(awk '$1 == "obsprobe_parse_errors_total{protocol=\"http2\"}" { print $2 + 0 }' "$TMP/metrics.txt")"
stop_obsprobe
finish
