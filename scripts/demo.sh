#!/usr/bin/env bash
# `make demo`: nginx on loopback, obsprobe attached to it, a small load; spans are printed as
# they happen, then the RED metrics obsprobe serves. Everything it starts it stops.
set -u
LIB_NO_REPORT=1
TEST_NAME=demo
. "$(dirname "$0")/../tests/lib.sh"

p1=$(free_port) && p2=$(free_port) && prom=$(free_port) || { echo "demo: no free port" >&2; exit 1; }
start_nginx "$TMP/nginx" "$p1" "$p2" || exit 1
echo "demo: nginx master pid $NGINX_PID on http://127.0.0.1:$p1 (2 workers)"
echo "demo: running: build/obsprobe --pid $NGINX_PID --prometheus 127.0.0.1:$prom"
echo
"$OBSPROBE" --pid "$NGINX_PID" --prometheus "127.0.0.1:$prom" >"$TMP/spans.txt" 2>"$TMP/obsprobe.err" &
obs=$!
track_pid "$obs"
tail -n +1 -f "$TMP/spans.txt" &
tailer=$!
track_pid "$tailer"
# /metrics answers before the programs are attached: wait for obsprobe to say it watches
wait_until 20 grep -q '^obsprobe: metrics on' "$TMP/obsprobe.err" ||
	{ cat "$TMP/obsprobe.err" >&2; echo "demo: obsprobe did not start" >&2; exit 1; }
cat "$TMP/obsprobe.err"

for path in / /index.html /users/42 /users/7/orders/1234 /proxy/checkout "/search?q=secret"; do
	curl -s -o /dev/null "http://127.0.0.1:$p1$path"
	sleep 0.2
done
curl -s -o /dev/null -H 'traceparent: 00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01' \
	"http://127.0.0.1:$p1/"
sleep 0.5
echo
kill "$tailer"
echo "demo: and now 2 s of wrk (its spans go to $TMP/spans.txt, counted below):"

wrk -t1 -c4 -d2s "http://127.0.0.1:$p1/index.html" | grep -E 'requests in|Requests/sec'
sleep 1.5
echo
echo "demo: curl -s http://127.0.0.1:$prom/metrics (excerpt):"
curl -s "http://127.0.0.1:$prom/metrics" | grep -E '_count|^obsprobe_' | grep -v '^#'
echo "demo: $(grep -c ' SERVER ' "$TMP/spans.txt") SERVER and $(grep -c ' CLIENT ' "$TMP/spans.txt") CLIENT spans in all"
kill -INT "$obs"
wait "$obs"
echo "demo: obsprobe exited with status $?"
