#!/usr/bin/env bash
# SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
#
# OTLP/HTTP traces: the Go server under obsprobe --console json --otlp-endpoint, the requests
# recorded by tests/otlp/receiver.py and decoded with the official protos (tests/otlp/decode.js).
# One OTLP span per request and per console span, with the same ids, attributes (values and
# types), times and status; the resource and the scope; the HTTP side (path, Content-Type,
# OTEL_EXPORTER_OTLP_HEADERS, gzip, a signal endpoint used as-is); and the samplers.
# shellcheck source=tests/lib.sh
. "$(dirname "$0")/../lib.sh"

TRACE=4bf92f3577b34da6a3ce929d0e0e4736
PARENT=00f067aa0ba902b7
NUSERS=20
NFAIL=3

require_root || finish
otlp_setup || finish
if ! PORT=$(free_port) || ! RPORT=$(free_port) || ! DEAD=$(free_port); then
	fail "no free port"
	finish
fi
start_goserver go "$PORT" || finish
GOPID=$GO_PID
URL=http://127.0.0.1:$PORT

# urls PATH-FORMAT FROM TO: curl arguments for one request per number (one curl, keep-alive)
urls() {
	local i
	for ((i = $2; i <= $3; i++)); do
		# shellcheck disable=SC2059 # the format is the point
		printf -- '-o\n/dev/null\n'"$URL$1"'\n' "$i"
	done
}
# get PATH-FORMAT FROM TO [CURL-ARGS...]: those requests; prints how many got an answer
get() {
	local fmt=$1 from=$2 to=$3
	shift 3
	mapfile -t args < <(urls "$fmt" "$from" "$to")
	curl -s -w '%{http_code}\n' "$@" "${args[@]}" | grep -c '^[2-5]'
}

# otlp_has DIR N FILTER...: the receiver in DIR got N spans matching every FILTER (decoded
# with the options in DECODE_OPTS)
DECODE_OPTS=()
otlp_has() {
	otlp_spans "$1" "$TMP/o.json" "${DECODE_OPTS[@]}" && (($(spans_count "$TMP/o.json" "${@:3}") >= $2))
}

now_ns() { date +%s%N; }

# same_as_console CONSOLE OTLP T0 T1: compares each OTLP span with the console span of the same
# span_id: ids, name, kind, status, resource, every attribute with its type, times (also within
# T0..T1, Unix ns); prints "exact-times N", one line per mismatch, "mismatches N"
same_as_console() {
	"$PY" -c '
import json, sys
t0, t1 = int(sys.argv[3]), int(sys.argv[4])
con = {}
for l in open(sys.argv[1]):
    s = json.loads(l)
    con[s["span_id"]] = s
bad, exact = [], 0
for l in open(sys.argv[2]):
    o = json.loads(l)
    c = con.get(o["span_id"])
    if c is None:
        bad.append("%s: not on the console" % o["span_id"])
        continue
    for k in ("trace_id", "parent_span_id", "kind", "name", "status"):
        if c.get(k) != o.get(k):
            bad.append("%s %s: console %r, otlp %r" % (o["span_id"], k, c.get(k), o.get(k)))
    for k, v in c["resource"].items():
        if o["resource"].get(k, "<missing>") != v or type(o["resource"].get(k)) != type(v):
            bad.append("%s resource %s: console %r, otlp %r" % (o["span_id"], k, v, o["resource"].get(k, "<missing>")))
    ca, oa = c["attributes"], o["attributes"]
    for k in sorted(set(ca) | set(oa)):
        cv, ov = ca.get(k, "<missing>"), oa.get(k, "<missing>")
        if cv != ov or type(cv) != type(ov):
            bad.append("%s attribute %s: console %r, otlp %r" % (o["span_id"], k, cv, ov))
    st, en = o["start_time_unix_nano"], o["end_time_unix_nano"]
    if not (t0 - 2e9 <= st <= en <= t1 + 2e9):
        bad.append("%s times %d..%d not within the test %d..%d" % (o["span_id"], st, en, t0, t1))
    if abs(st - c["start_time_unix_nano"]) > 1e6 or abs(en - c["end_time_unix_nano"]) > 1e6:
        bad.append("%s times: console %d..%d, otlp %d..%d" % (o["span_id"], c["start_time_unix_nano"],
                   c["end_time_unix_nano"], st, en))
    elif st == c["start_time_unix_nano"] and en == c["end_time_unix_nano"]:
        exact += 1
print("exact-times %d" % exact)
for b in bad[:15]:
    print(b)
print("mismatches %d" % len(bad))' "$@"
}

# --- 1. everything exported: the flag wins over OTEL_EXPORTER_OTLP_ENDPOINT (a decoy receiver)
start_receiver decoy "$DEAD" || finish
DECOY=$RECV_DIR
start_receiver recv "$RPORT" || finish
R=$RECV_DIR
OTEL_EXPORTER_OTLP_ENDPOINT=http://127.0.0.1:$DEAD \
	OTEL_EXPORTER_OTLP_HEADERS="x-api-key=s3cret-42,x-tenant=obsprobe-test" \
	OTEL_RESOURCE_ATTRIBUTES="deployment.environment=test,team.name=obs" \
	start_obsprobe --pid "$GOPID" --console json --service-name gotest \
	--otlp-endpoint "http://127.0.0.1:$RPORT" || finish
O=$OBS_OUT
T0=$(now_ns)
got=$(get /users/%d 1 "$NUSERS")
got=$((got + $(get /fail%.0s 1 "$NFAIL")))
curl -s -o /dev/null -H "traceparent: 00-$TRACE-$PARENT-01" "$URL/users/100" && got=$((got + 1))
N=$((NUSERS + NFAIL + 1))
assert_eq "curl got its $N answers" "$N" "$got"
T1=$(now_ns)

wait_until 10 spans_at_least "$N" "$O" kind=SERVER ||
	fail "only $(spans_count "$O" kind=SERVER) console spans of $N after 10 s"
wait_until 15 otlp_has "$R" "$N" || fail "only $(spans_count "$TMP/o.json") OTLP spans of $N after 15 s"
sleep 1.5 # a batch or two more: a duplicate or a stray span would arrive now
S=$TMP/otlp1.json
otlp_spans "$R" "$S"
assert_eq "every recorded body decodes" 0 "$(grep -c '"type":"error"' "$S.requests")"
sed -n 's/^{"type":"error".*/    | &/p' "$S.requests" | head -n 5
assert_eq "no field the official protos do not define" "" \
	"$(grep -v '"unknown_fields":0' "$S.requests" | cut -c1-200)"
assert_eq "console spans" "$N" "$(spans_count "$O" kind=SERVER)"
assert_eq "OTLP spans == requests == console spans" "$N" "$(spans_count "$S")"
assert_eq "distinct OTLP span ids" "$N" "$(spans_field "$S" span_id | sort -u | wc -l)"
assert_eq "OTLP spans that are SERVER (kind 2)" "$N" "$(spans_count "$S" kind_code==2)"

# the requests themselves
NREQ=$(otlp_request_count "$R")
assert_ge "trace requests received" "$NREQ" 1
# /v1/logs too: the /fail answers' 500s are error reports (crashes.sh)
assert_eq "every request was POST /v1/traces or /v1/logs" "$NREQ" \
	"$(($(otlp_request_count "$R" /v1/traces) + $(otlp_request_count "$R" /v1/logs)))"
assert_eq "every request answered 200" "$NREQ" "$(otlp_request_count "$R" "" 200)"
assert_eq "nothing went to OTEL_EXPORTER_OTLP_ENDPOINT (the flag overrides it)" 0 \
	"$(otlp_request_count "$DECOY")"
bad_hdr=0
for seq in $(otlp_requests "$R" | awk '{ print $1 }'); do
	[[ "$(otlp_header "$R" "$seq" content-type)" == application/x-protobuf ]] || bad_hdr=$((bad_hdr + 1))
	[[ "$(otlp_header "$R" "$seq" x-api-key)" == s3cret-42 ]] || bad_hdr=$((bad_hdr + 1))
	[[ "$(otlp_header "$R" "$seq" x-tenant)" == obsprobe-test ]] || bad_hdr=$((bad_hdr + 1))
	[[ -z "$(otlp_header "$R" "$seq" content-encoding)" ]] || bad_hdr=$((bad_hdr + 1))
done
assert_eq "headers missing or wrong (Content-Type, x-api-key, x-tenant, no Content-Encoding)" 0 "$bad_hdr"
for seq in $(otlp_requests "$R" | awk '{ print $1 }' | head -n 1); do
	log "first request's headers: $(otlp_header "$R" "$seq" content-type), $(otlp_header "$R" "$seq" user-agent)"
done
assert_eq "one ResourceSpans per request (one process)" "" \
	"$(grep '"type":"request"' "$S.requests" | grep -v '"resources":1,' | cut -c1-200)"

# ids
assert_eq "trace_id: 16 bytes, not zero" "$N" \
	"$(spans_count "$S" 'trace_id~^[0-9a-f]{32}$' 'trace_id!=00000000000000000000000000000000')"
assert_eq "span_id: 8 bytes, not zero" "$N" \
	"$(spans_count "$S" 'span_id~^[0-9a-f]{16}$' 'span_id!=0000000000000000')"
assert_eq "parent_span_id only on the traceparent request" 1 "$(spans_count "$S" parent_span_id?)"
assert_eq "traceparent: the caller's trace id" "$TRACE" "$(spans_field "$S" trace_id attr:url.path=/users/100)"
assert_eq "traceparent: the caller's span is the parent" "$PARENT" \
	"$(spans_field "$S" parent_span_id attr:url.path=/users/100)"
assert_eq "distinct trace ids" "$N" "$(spans_field "$S" trace_id | sort -u | wc -l)"

# status
assert_eq "/fail spans: status ERROR (2)" "$NFAIL" \
	"$(spans_count "$S" attr:url.path=/fail status_code==2 attr:http.response.status_code==500)"
assert_eq "only the /fail spans are errors" "$NFAIL" "$(spans_count "$S" status=ERROR)"
assert_eq "the others: status UNSET (0)" "$((N - NFAIL))" "$(spans_count "$S" status_code==0)"

# resource and scope
assert_eq "resource service.name (--service-name)" "$N" "$(spans_count "$S" 'res:service.name=="gotest"')"
assert_eq "resource process.pid, an int" "$N" "$(spans_count "$S" "res:process.pid==$GOPID")"
assert_eq "resource process.executable.name" "$N" "$(spans_count "$S" 'res:process.executable.name=="goserver"')"
assert_eq "resource host.name" "$N" "$(spans_count "$S" "res:host.name==\"$(uname -n)\"")"
assert_eq "resource telemetry.sdk.name" "$N" "$(spans_count "$S" 'res:telemetry.sdk.name=="obsprobe"')"
VERSION=$("$OBSPROBE" --version | awk '{ print $NF }')
assert_eq "resource telemetry.sdk.version is obsprobe's ($VERSION)" "$N" \
	"$(spans_count "$S" "res:telemetry.sdk.version==\"$VERSION\"")"
assert_eq "OTEL_RESOURCE_ATTRIBUTES deployment.environment" "$N" \
	"$(spans_count "$S" 'res:deployment.environment=="test"')"
assert_eq "OTEL_RESOURCE_ATTRIBUTES team.name" "$N" "$(spans_count "$S" 'res:team.name=="obs"')"
assert_eq "no attribute key sent twice" "$N" "$(spans_count "$S" 'dup_keys==[]')"
assert_eq "scope name obsprobe" "$N" "$(spans_count "$S" scope=obsprobe)"
log "resource: $(head -n 1 "$S" | "$PY" -c 'import json, sys; print(json.load(sys.stdin)["resource"])')"

# the same span on the console and in OTLP: ids, name, kind, status, resource, every
# attribute with its type, times
cmp=$(same_as_console "$O" "$S" "$T0" "$T1")
log "$(grep '^exact-times' <<<"$cmp") of $N spans have the console's times to the ns"
assert_eq "OTLP spans equal to their console span (ids, name, kind, status, resource, attributes, times)" \
	"mismatches 0" "$(tail -n 1 <<<"$cmp")"
grep -v '^exact-times\|^mismatches' <<<"$cmp" | sed 's/^/    | /'
assert_eq "the console's attributes: url.path of a users span is a string" 1 \
	"$(spans_count "$S" 'attr:url.path=="/users/7"')"
assert_eq "http.response.status_code is an int" "$N" \
	"$(($(spans_count "$S" attr:http.response.status_code==200) + $(spans_count "$S" attr:http.response.status_code==500)))"
assert_eq "server.port is an int" "$N" "$(spans_count "$S" "attr:server.port==$PORT")"

M=$TMP/metrics1.txt
scrape >"$M"
assert_eq "obsprobe_export_dropped_total{signal=traces}" 0 \
	"$(counter_sum obsprobe_export_dropped_total 'signal="traces"' "$M")"
if grep -q '^obsprobe_export_requests_total' "$M"; then
	assert_eq "obsprobe_export_requests_total{traces,ok} == requests the receiver answered 200" \
		"$(otlp_request_count "$R" /v1/traces 200)" \
		"$(counter_sum obsprobe_export_requests_total 'signal="traces"&&outcome="ok"' "$M")"
else
	log "no obsprobe_export_requests_total on /metrics (optional)"
fi
stop_obsprobe

# --- 2. gzip, a traces endpoint used as-is, the endpoint from the environment, batches of at
# most 3 spans (OTEL_BSP_MAX_EXPORT_BATCH_SIZE)
RPORT2=$(free_port) || { fail "no free port"; finish; }
start_receiver recv2 "$RPORT2" || finish
R2=$RECV_DIR
OTEL_EXPORTER_OTLP_TRACES_ENDPOINT=http://127.0.0.1:$RPORT2/custom/spans \
	OTEL_EXPORTER_OTLP_COMPRESSION=gzip OTEL_SERVICE_NAME=gz-service \
	OTEL_BSP_MAX_EXPORT_BATCH_SIZE=3 OTEL_BSP_SCHEDULE_DELAY=200 \
	start_obsprobe --pid "$GOPID" --console json || finish
got=$(get /users/%d 1 10)
assert_eq "curl got 10 answers" 10 "$got"
DECODE_OPTS=(--path /custom/spans)
wait_until 15 otlp_has "$R2" 10 || fail "gzip: only $(spans_count "$TMP/o.json") OTLP spans of 10"
sleep 1.2
S2=$TMP/otlp2.json
otlp_spans "$R2" "$S2" --path /custom/spans
DECODE_OPTS=()
NREQ2=$(otlp_request_count "$R2")
assert_ge "gzip: requests received" "$NREQ2" 1
assert_eq "gzip: every request went to the traces endpoint as given (/custom/spans)" "$NREQ2" \
	"$(otlp_requests "$R2" | awk '$3 == "/custom/spans"' | wc -l)"
gz=0
for seq in $(otlp_requests "$R2" | awk '{ print $1 }'); do
	[[ "$(otlp_header "$R2" "$seq" content-encoding)" == gzip ]] && gz=$((gz + 1))
done
assert_eq "gzip: Content-Encoding: gzip on every request" "$NREQ2" "$gz"
assert_eq "gzip: bodies gunzip and decode" 0 "$(grep -c '"type":"error"' "$S2.requests")"
assert_eq "gzip: OTLP spans" 10 "$(spans_count "$S2")"
assert_ge "OTEL_BSP_MAX_EXPORT_BATCH_SIZE=3: requests for 10 spans" "$NREQ2" 4
assert_eq "OTEL_BSP_MAX_EXPORT_BATCH_SIZE=3: requests with more than 3 spans" 0 \
	"$(spans_field "$S2" seq | sort | uniq -c | awk '$1 > 3' | wc -l)"
assert_eq "gzip: service.name from OTEL_SERVICE_NAME" 10 "$(spans_count "$S2" 'res:service.name=="gz-service"')"
stop_obsprobe

# --- 3. samplers: always_off keeps only the errors
RPORT3=$(free_port) || { fail "no free port"; finish; }
start_receiver recv3 "$RPORT3" || finish
R3=$RECV_DIR
OTEL_TRACES_SAMPLER=always_off start_obsprobe --pid "$GOPID" --console json \
	--otlp-endpoint "http://127.0.0.1:$RPORT3" || finish
O3=$OBS_OUT
got=$(get /users/%d 1 10)
got=$((got + $(get /fail%.0s 1 "$NFAIL")))
assert_eq "always_off: curl got $((10 + NFAIL)) answers" "$((10 + NFAIL))" "$got"
wait_until 10 spans_at_least "$((10 + NFAIL))" "$O3" kind=SERVER || fail "always_off: console spans missing"
wait_until 10 otlp_has "$R3" "$NFAIL" || fail "always_off: the $NFAIL ERROR spans did not arrive"
sleep 2.5 # two batch intervals: a sampled-out span sent late would show now
otlp_spans "$R3" "$TMP/otlp3.json"
assert_eq "always_off: console still shows every span" "$((10 + NFAIL))" "$(spans_count "$O3" kind=SERVER)"
assert_eq "always_off: exported spans are the ERROR spans only" "$NFAIL" "$(spans_count "$TMP/otlp3.json")"
assert_eq "always_off: ... all of them" "$NFAIL" "$(spans_count "$TMP/otlp3.json" status=ERROR attr:url.path=/fail)"
stop_obsprobe

# --- 4. traceidratio 0.5 keeps about half, and every error
NRATIO=200
RPORT4=$(free_port) || { fail "no free port"; finish; }
start_receiver recv4 "$RPORT4" || finish
R4=$RECV_DIR
OTEL_TRACES_SAMPLER=traceidratio OTEL_TRACES_SAMPLER_ARG=0.5 start_obsprobe --pid "$GOPID" \
	--console json --otlp-endpoint "http://127.0.0.1:$RPORT4" || finish
O4=$OBS_OUT
got=$(get /users/%d 1 "$NRATIO")
got=$((got + $(get /fail%.0s 1 5)))
assert_eq "traceidratio: curl got $((NRATIO + 5)) answers" "$((NRATIO + 5))" "$got"
wait_until 15 spans_at_least "$((NRATIO + 5))" "$O4" kind=SERVER || fail "traceidratio: console spans missing"
wait_until 10 otlp_has "$R4" 5 status=ERROR || true
sleep 2.5
otlp_spans "$R4" "$TMP/otlp4.json"
kept=$(spans_count "$TMP/otlp4.json" 'attr:url.path~^/users/')
log "traceidratio 0.5: $kept of $NRATIO kept"
# binomial(200, 0.5): 35%..65% is over 4 standard deviations either way
assert_true "traceidratio 0.5: between 35% and 65% of $NRATIO kept (got $kept)" \
	test "$kept" -ge $((NRATIO * 35 / 100)) -a "$kept" -le $((NRATIO * 65 / 100))
assert_eq "traceidratio: every ERROR span kept" 5 "$(spans_count "$TMP/otlp4.json" status=ERROR attr:url.path=/fail)"
assert_eq "traceidratio: no span exported twice" "$(spans_count "$TMP/otlp4.json")" \
	"$(spans_field "$TMP/otlp4.json" span_id | sort -u | wc -l)"
stop_obsprobe

# --- 5. parentbased_traceidratio 0: the caller's sampled flag decides; roots are dropped
RPORT5=$(free_port) || { fail "no free port"; finish; }
start_receiver recv5 "$RPORT5" || finish
R5=$RECV_DIR
OTEL_TRACES_SAMPLER=parentbased_traceidratio OTEL_TRACES_SAMPLER_ARG=0 start_obsprobe \
	--pid "$GOPID" --console json --otlp-endpoint "http://127.0.0.1:$RPORT5" || finish
O5=$OBS_OUT
for i in 1 2 3; do
	curl -s -o /dev/null -H "traceparent: 00-${TRACE:0:30}0$i-$PARENT-01" "$URL/users/$((200 + i))"
	curl -s -o /dev/null -H "traceparent: 00-${TRACE:0:30}1$i-$PARENT-00" "$URL/users/$((300 + i))"
	curl -s -o /dev/null "$URL/users/$((400 + i))"
done
curl -s -o /dev/null "$URL/fail"
wait_until 10 spans_at_least 10 "$O5" kind=SERVER || fail "parentbased: console spans missing"
wait_until 10 otlp_has "$R5" 4 || true
sleep 2.5
otlp_spans "$R5" "$TMP/otlp5.json"
assert_eq "parentbased: spans whose parent was sampled (flags 01) are exported" 3 \
	"$(spans_count "$TMP/otlp5.json" 'attr:url.path~^/users/20[1-3]$' "parent_span_id=$PARENT")"
assert_eq "parentbased: spans whose parent was not sampled (flags 00) are not" 0 \
	"$(spans_count "$TMP/otlp5.json" 'attr:url.path~^/users/30[1-3]$')"
assert_eq "parentbased ratio 0: root spans are not" 0 "$(spans_count "$TMP/otlp5.json" 'attr:url.path~^/users/40[1-3]$')"
assert_eq "parentbased ratio 0: the root ERROR span is" 1 "$(spans_count "$TMP/otlp5.json" attr:url.path=/fail status=ERROR)"
stop_obsprobe

# --- 6. nginx proxying to itself: CLIENT spans, parents that resolve, one ResourceSpans per process
NPROXY=5
if ! P1=$(free_port) || ! P2=$(free_port) || ! RPORT6=$(free_port); then
	fail "no free port"
	finish
fi
start_nginx "$TMP/nginx" "$P1" "$P2" || finish
start_receiver recv6 "$RPORT6" || finish
R6=$RECV_DIR
start_obsprobe --pid "$NGINX_PID" --console json --otlp-endpoint "http://127.0.0.1:$RPORT6" || finish
O6=$OBS_OUT
T6=$(now_ns)
args=()
for ((i = 1; i <= NPROXY; i++)); do
	args+=(-o /dev/null "http://127.0.0.1:$P1/proxy/x")
done
assert_eq "nginx: $NPROXY proxied 503s" "$NPROXY" "$(curl -s -w '%{http_code}\n' "${args[@]}" | grep -c '^503$')"
wait_until 10 spans_at_least $((3 * NPROXY)) "$O6" || fail "nginx: $(spans_count "$O6") console spans of $((3 * NPROXY))"
wait_until 15 otlp_has "$R6" $((3 * NPROXY)) || fail "nginx: $(spans_count "$TMP/o.json") OTLP spans of $((3 * NPROXY))"
sleep 1.2
S6=$TMP/otlp6.json
otlp_spans "$R6" "$S6"
assert_eq "nginx: OTLP spans == console spans" "$(spans_count "$O6")" "$(spans_count "$S6")"
assert_eq "nginx: CLIENT spans (kind 3) to port $P2" "$NPROXY" \
	"$(spans_count "$S6" kind_code==3 "attr:server.port==$P2" 'attr:server.address=="127.0.0.1"' attr:http.response.status_code==503)"
cmp=$(same_as_console "$O6" "$S6" "$T6" "$(now_ns)")
assert_eq "nginx: OTLP spans equal to their console span" "mismatches 0" "$(tail -n 1 <<<"$cmp")"
grep -v '^exact-times\|^mismatches' <<<"$cmp" | sed 's/^/    | /'
assert_eq "nginx: every span of a 503 is an ERROR" $((3 * NPROXY)) "$(spans_count "$S6" status=ERROR)"
linked=$("$PY" -c '
import json, sys
spans = [json.loads(l) for l in open(sys.argv[1])]
by = {(s["trace_id"], s["span_id"]): s for s in spans}
client_ok = server_ok = roots = 0
for s in spans:
    p = by.get((s["trace_id"], s.get("parent_span_id")))
    if "parent_span_id" not in s:
        roots += s["kind"] == "SERVER"
    elif s["kind"] == "CLIENT" and p and p["kind"] == "SERVER" and p["resource"]["process.pid"] == s["resource"]["process.pid"]:
        client_ok += 1
    elif s["kind"] == "SERVER" and p and p["kind"] == "CLIENT":
        server_ok += 1
print(roots, client_ok, server_ok, len({s["trace_id"] for s in spans}))' "$S6")
assert_eq "nginx: roots, CLIENTs under their SERVER (same process), upstream SERVERs under their CLIENT, traces" \
	"$NPROXY $NPROXY $NPROXY $NPROXY" "$linked"
# in each request, one ResourceSpans per process that has spans in it
per_req=$("$PY" -c '
import json, sys
pids = {}
for l in open(sys.argv[1]):
    s = json.loads(l)
    pids.setdefault(s["seq"], set()).add(s["resource"]["process.pid"])
bad = 0
for l in open(sys.argv[1] + ".requests"):
    r = json.loads(l)
    if r["type"] == "request" and r["resources"] != len(pids.get(r["seq"], ())):
        bad += 1
        print("request %d: %d ResourceSpans for %d processes" % (r["seq"], r["resources"], len(pids.get(r["seq"], ()))), file=sys.stderr)
print(bad)' "$S6")
assert_eq "nginx: requests whose ResourceSpans are not one per process" 0 "$per_req"
assert_eq "nginx: resource process.executable.name" "$(spans_count "$S6")" "$(spans_count "$S6" 'res:process.executable.name=="nginx"')"
assert_eq "nginx: resource process.pid is a worker's" "$(spans_count "$S6")" \
	"$(spans_count "$S6" "res:process.pid~^($(pgrep -P "$NGINX_PID" | paste -sd'|'))\$")"
stop_obsprobe
finish
