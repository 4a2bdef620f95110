#!/usr/bin/env bash
# SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
#
# gRPC over HTTP/2 (h2c): a Python gRPC server and client (Debian's python3-grpcio, its C core
# doing the HTTP/2), both watched. Every call is one SERVER span and one CLIENT span named
# obsprobe.test.Echo/METHOD with rpc.system grpc, rpc.service, rpc.method and
# rpc.grpc.status_code as the client counted them: OK, NOT_FOUND (an error for the client, not
# for the server, as the semantic conventions say) and INTERNAL (an error for both); and as
# many observations in rpc_server_duration_seconds and rpc_client_duration_seconds.
# shellcheck source=tests/lib.sh
. "$(dirname "$0")/../lib.sh"

OK=5
NF=3
INT=2
require_root || finish
"$PY" -c 'import grpc' 2>/dev/null || { fail "python3-grpcio is not installed (scripts/install-deps.sh)"; finish; }
PORT=$(free_port) || finish
FIX=$ROOT/tests/fixtures/grpc/grpc_pair.py
start_bg server "$PY" "$FIX" server "$PORT" "$TMP/server.ready"
SERVER=$BG_PID
await_ready "$TMP/server.ready" "the gRPC server" server || finish
start_obsprobe --pid "$SERVER" --pid $$ --console json || finish

"$PY" "$FIX" client "$PORT" "$OK" "$NF" "$INT" >"$TMP/client.out" 2>"$TMP/client.err" &
CLIENT=$!
wait "$CLIENT"
assert_eq "the client's own counts" "ok=$OK not_found=$NF internal=$INT" "$(cat "$TMP/client.out")"
TOTAL=$((OK + NF + INT))
wait_until 10 spans_at_least "$((2 * TOTAL))" "$OBS_OUT" attr:rpc.system=grpc ||
	fail "$(spans_count "$OBS_OUT" attr:rpc.system=grpc) gRPC spans of $((2 * TOTAL))"
sleep 0.5
m() { printf 'attr:rpc.method=%s name=obsprobe.test.Echo/%s' "$1" "$1"; }
for kind in SERVER CLIENT; do
	pid=$SERVER
	[[ $kind == CLIENT ]] && pid=$CLIENT
	# shellcheck disable=SC2046
	assert_eq "$kind spans of pid $pid: Say OK, Missing NOT_FOUND, Crash INTERNAL" "$OK $NF $INT" \
		"$(spans_count "$OBS_OUT" kind=$kind "res:process.pid==$pid" attr:rpc.system=grpc \
			attr:rpc.service=obsprobe.test.Echo $(m Say) attr:rpc.grpc.status_code==0 \
			attr:network.protocol.version=2 attr:http.request.method=POST status!=ERROR) $(spans_count "$OBS_OUT" kind=$kind "res:process.pid==$pid" $(m Missing) attr:rpc.grpc.status_code==5) $(spans_count "$OBS_OUT" kind=$kind "res:process.pid==$pid" $(m Crash) attr:rpc.grpc.status_code==13 status=ERROR attr:error.type=13)"
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
	assert_eq "$f: Say OK, Missing NOT_FOUND, Crash INTERNAL" "$OK $NF $INT $TOTAL" \
		"$(counter_sum "$f" "$l&&rpc_method=\"Say\"&&rpc_grpc_status_code=\"0\"" "$TMP/metrics.txt") $(counter_sum "$f" "$l&&rpc_method=\"Missing\"&&rpc_grpc_status_code=\"5\"" "$TMP/metrics.txt") $(counter_sum "$f" "$l&&rpc_method=\"Crash\"&&rpc_grpc_status_code=\"13\"" "$TMP/metrics.txt") $(counter_sum "$f" "" "$TMP/metrics.txt")"
done
assert_eq "rpc_client_duration_seconds: server.port is the server's" "$TOTAL" \
	"$(counter_sum rpc_client_duration_seconds_count "server_port=\"$PORT\"" "$TMP/metrics.txt")"
# (the test's shell is watched: its curls of /readyz and /metrics are HTTP client calls)
assert_eq "no HTTP request series for the gRPC calls" "0 0" \
	"$(series_count http_server_request_duration_seconds_count "$TMP/metrics.txt") $(counter_sum http_client_request_duration_seconds_count "server_port=\"$PORT\"" "$TMP/metrics.txt")"
stop_obsprobe
finish
