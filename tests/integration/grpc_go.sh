#!/usr/bin/env bash
# SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
#
# gRPC over HTTP/2 (h2c) with grpc-go (Debian's golang-google-grpc-dev, GOPATH mode): a Go gRPC
# server and client (tests/fixtures/grpcgo: a hand-written service, raw-bytes messages, no
# generated code), both watched, the client dialing only once obsprobe is attached. grpc-go
# speaks its own HTTP/2 (Huffman-coded HPACK with its dynamic table, BDP pings, window
# updates), not the C core's of grpc.sh. As there: every call is one SERVER span of the server
# and one CLIENT span of the client named obsprobe.test.Echo/METHOD with rpc.system grpc,
# rpc.service, rpc.method and rpc.grpc.status_code as the client counted them: OK, NOT_FOUND
# (an error for the client, not for the server, as the semantic conventions say) and INTERNAL
# (an error for both); no other span of either; as many observations in
# rpc_server_duration_seconds and rpc_client_duration_seconds (the client's with the server's
# port), none in the HTTP histograms; nothing lost, nothing unparsed.
# shellcheck source=tests/lib.sh
. "$(dirname "$0")/../lib.sh"

OK=5
NF=3
INT=2
TOTAL=$((OK + NF + INT))
require_root || finish
[[ -d /usr/share/gocode/src/google.golang.org/grpc ]] ||
	{ fail "golang-google-grpc-dev is not installed (scripts/install-deps.sh)"; finish; }
BIN=$TMP/grpcgo
build_go grpcgo "$BIN" || finish

start_bg server "$BIN" -mode server -listen 127.0.0.1:0 -ready-file "$TMP/server.ready"
SERVER=$BG_PID
await_ready "$TMP/server.ready" "the grpc-go server" server || finish
PORT=$(sed -n '1s/.*://p' "$TMP/server.ready")
_is_int "$PORT" || { fail "no port in the server's ready file"; finish; }
start_bg client "$BIN" -mode client -addr "127.0.0.1:$PORT" -ok "$OK" -notfound "$NF" \
	-internal "$INT" -wait-file "$TMP/client.go"
CLIENT=$BG_PID
start_obsprobe --pid "$SERVER" --pid "$CLIENT" --console json || finish
touch "$TMP/client.go"
wait_exit "$CLIENT" 60
assert_eq "client exit status" 0 "$WAIT_RC"
((WAIT_RC == 0)) || sed 's/^/    | /' "$TMP/client.err" | head -n 10
assert_eq "the client's own counts" "ok=$OK not_found=$NF internal=$INT" "$(cat "$TMP/client.out")"

wait_until 15 spans_at_least "$((2 * TOTAL))" "$OBS_OUT" attr:rpc.system=grpc ||
	fail "$(spans_count "$OBS_OUT" attr:rpc.system=grpc) gRPC spans of $((2 * TOTAL)) after 15 s"
sleep 0.5 # a few more ticks: a duplicate span would show up now
assert_eq "stdout lines are all JSON" 0 "$(spans_invalid "$OBS_OUT")"
m() { printf 'attr:rpc.method=%s name=obsprobe.test.Echo/%s' "$1" "$1"; }
for kind in SERVER CLIENT; do
	pid=$SERVER
	[[ $kind == CLIENT ]] && pid=$CLIENT
	s=("kind=$kind" "res:process.pid==$pid" attr:rpc.system=grpc attr:rpc.service=obsprobe.test.Echo
		attr:network.protocol.version=2 attr:http.request.method=POST)
	# NOT_FOUND: an error for the client only
	nf=status!=ERROR
	[[ $kind == CLIENT ]] && nf=status=ERROR
	# shellcheck disable=SC2046
	assert_eq "$kind spans of pid $pid: Say OK, Missing NOT_FOUND, Crash INTERNAL" "$OK $NF $INT" \
		"$(spans_count "$OBS_OUT" "${s[@]}" $(m Say) attr:rpc.grpc.status_code==0 status!=ERROR) $(spans_count "$OBS_OUT" "${s[@]}" $(m Missing) attr:rpc.grpc.status_code==5 "$nf") $(spans_count "$OBS_OUT" "${s[@]}" $(m Crash) attr:rpc.grpc.status_code==13 status=ERROR attr:error.type=13)"
done
assert_eq "NOT_FOUND: an error for the client only" "$NF 0" \
	"$(spans_count "$OBS_OUT" kind=CLIENT attr:rpc.grpc.status_code==5 status=ERROR) $(spans_count "$OBS_OUT" kind=SERVER attr:rpc.grpc.status_code==5 status=ERROR)"
assert_eq "no other span of either" "$TOTAL $TOTAL" \
	"$(spans_count "$OBS_OUT" "res:process.pid==$SERVER") $(spans_count "$OBS_OUT" "res:process.pid==$CLIENT")"

# the RPC metrics: one observation per call, by method and status, on each side; none of these
# calls is counted as an HTTP request
scrape "$OBS_METRICS" >"$TMP/metrics.txt" || fail "scrape of $OBS_METRICS failed"
for side in server client; do
	f=rpc_${side}_duration_seconds_count
	l='rpc_system="grpc"&&rpc_service="obsprobe.test.Echo"'
	[[ $side == client ]] && l+="&&server_port=\"$PORT\""
	assert_eq "$f: Say OK, Missing NOT_FOUND, Crash INTERNAL, all" "$OK $NF $INT $TOTAL" \
		"$(counter_sum "$f" "$l&&rpc_method=\"Say\"&&rpc_grpc_status_code=\"0\"" "$TMP/metrics.txt") $(counter_sum "$f" "$l&&rpc_method=\"Missing\"&&rpc_grpc_status_code=\"5\"" "$TMP/metrics.txt") $(counter_sum "$f" "$l&&rpc_method=\"Crash\"&&rpc_grpc_status_code=\"13\"" "$TMP/metrics.txt") $(counter_sum "$f" "" "$TMP/metrics.txt")"
done
# (the test's shell is not watched: no HTTP request at all of a watched process)
assert_eq "no HTTP request series for the gRPC calls" "0 0" \
	"$(series_count http_server_request_duration_seconds_count "$TMP/metrics.txt") $(series_count http_client_request_duration_seconds_count "$TMP/metrics.txt")"
assert_no_loss "events lost" "$TMP/metrics.txt"
assert_eq "parse errors" 0 "$(counter_sum obsprobe_parse_errors_total "" "$TMP/metrics.txt")"
stop_obsprobe "$OBS_PID" "$OBS_ERR"
finish
